#!/bin/sh
# Who can touch a cable, with two real unprivileged users A and B on one
# host (a private mount namespace with its own /dev/shm), under
# fs.protected_regular 0 and 2 (Debian's default; restored afterwards):
#   - by default each user's cables live in a private 0700 directory: B's
#     loopcap:N is B's own cable (silence), never A's, and B cannot reach,
#     inject into, truncate or remove A's segment;
#   - B plants A's private directory, or a segment name in a shared
#     directory: A's open is refused with a message naming B's uid and the
#     'dir' key, and B's file is left as it was;
#   - sharing is explicit: a 'dir' both reach, perm 0660 and a group both
#     are in: A plays, B records bit-exact (realtime and lossless cables);
#   - a 'perm' that grants read without write is refused at open.
# Needs root (useradd, mount namespaces); skips otherwise.
set -eu
. "$top_builddir/tests/lib/env.sh"
[ "$(id -u)" = 0 ] || skip "needs root to create two users and a mount namespace"
for t in useradd userdel groupadd groupdel setpriv unshare mount sysctl aplay arecord cmp; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not available"
done
[ -r /proc/sys/fs/protected_regular ] || skip "no fs.protected_regular on this kernel"

if [ -z "${REL_OWNERS_NS:-}" ]; then
	# Our own /dev/shm: nothing we make can meet the host's, and it goes
	# away with the namespace.
	REL_OWNERS_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
mount -t tmpfs -o size=64m,mode=1777 tmpfs /dev/shm

ua="roa$$" ub="rob$$" grp="rog$$"
work=$(mktemp -d /tmp/alsa-loopback-owners.XXXXXX)
pr_saved=$(cat /proc/sys/fs/protected_regular)
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	echo "$pr_saved" >/proc/sys/fs/protected_regular
	userdel "$ua" 2>/dev/null || true
	userdel "$ub" 2>/dev/null || true
	groupdel "$grp" 2>/dev/null || true
	rm -rf "$work"
	umount /dev/shm 2>/dev/null || true
}
loop_at_exit cleanup
groupadd "$grp"
useradd -M -d "$work" -s /bin/sh -G "$grp" "$ua"
useradd -M -d "$work" -s /bin/sh -G "$grp" "$ub"
uida=$(id -u "$ua") uidb=$(id -u "$ub")

# What the users run, where they can reach it (the build tree may lie under
# a directory only root can enter).
chmod 0755 "$work"
mkdir "$work/lib" "$work/share" "$work/sticky" "$work/real"
cp "$top_builddir/.libs/libasound_module_pcm_loopback.so" \
	"$top_builddir/.libs/libasound_module_ctl_loopback.so" "$top_builddir/alsa-loopback" \
	"$work/lib/"
cp "$top_builddir/tests/audiocheck" "$work/lib/"
cp "$top_srcdir/50-loopback.conf" "$top_srcdir/51-loopback-ctl.conf" "$work/lib/"
cat >"$work/lib/asoundrc" <<EOR
pcm_type.loopback { lib "$work/lib/libasound_module_pcm_loopback.so" }
ctl_type.loopback { lib "$work/lib/libasound_module_ctl_loopback.so" }
<$work/lib/50-loopback.conf>
pcm.sp { type loopback card "$LOOP_CARD" subdevice 2 device 0 dir "$work/share" perm 0660 group "$grp" }
pcm.sc { type loopback card "$LOOP_CARD" subdevice 2 device 1 dir "$work/share" perm 0660 group "$grp" }
pcm.lp { type loopback card "$LOOP_CARD" subdevice 3 device 0 dir "$work/share" perm 0660 group "$grp" clock lossless }
pcm.lc { type loopback card "$LOOP_CARD" subdevice 3 device 1 dir "$work/share" perm 0660 group "$grp" clock lossless }
pcm.pp { type loopback card "$LOOP_CARD" subdevice 4 device 0 dir "$work/sticky" }
pcm.pc { type loopback card "$LOOP_CARD" subdevice 4 device 1 dir "$work/sticky" }
pcm.ro { type loopback card "$LOOP_CARD" subdevice 5 device 0 dir "$work/share" perm 0640 }
pcm.rp { type loopback card "$LOOP_CARD" subdevice 7 device 0 dir "$work/real" }
EOR
chmod -R a+rX "$work/lib"
chown "root:$grp" "$work/share"
chmod 2770 "$work/share"
chmod 1777 "$work/sticky"
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$work/lib/asoundrc"
AUDIOCHECK="$work/lib/audiocheck"
san=
[ -z "$SANITIZER_PRELOAD" ] ||
	san="LD_PRELOAD=$SANITIZER_PRELOAD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}"
AS_A="setpriv --reuid=$ua --regid=$ua --init-groups env -u XDG_RUNTIME_DIR HOME=$work $san"
AS_B="setpriv --reuid=$ub --regid=$ub --init-groups env -u XDG_RUNTIME_DIR HOME=$work $san"
FMT="-f S16_LE -r 48000 -c 2 -t raw"
head -c 96000 /dev/urandom >"$work/played.raw"	# 0.5 s
chmod 0644 "$work/played.raw"
silence() { head -c "$1" /dev/zero; }

# roundtrip NAME PLAY CAP [lossless]: A plays played.raw, B records; bit-exact.
roundtrip() {
	out="$work/$1.rec"
	: >"$out"
	chmod 0666 "$out"
	if [ "${4:-}" = lossless ]; then
		$AS_B timeout 20 arecord -q -D "$3" $FMT -s 24000 "$out" 2>"$work/b.err" &
	else
		$AS_B timeout 20 arecord -q -D "$3" $FMT -d 2 "$out" 2>"$work/b.err" &
	fi
	rec=$!
	pids="$pids $rec"
	sleep 0.5
	st=0
	$AS_A timeout 20 aplay -q -D "$2" $FMT "$work/played.raw" 2>"$work/a.err" || st=$?
	wait "$rec" || st=$((st + 100))
	if [ "$st" != 0 ]; then
		bad "$1: aplay/arecord failed ($st)"
		cat "$work/a.err" "$work/b.err"
	elif [ "${4:-}" = lossless ]; then
		cmp -s "$work/played.raw" "$out" && pass "$1: A -> B lossless, bit-exact" ||
			bad "$1: lossless capture differs ($(wc -c <"$out") bytes)"
	elif "$AUDIOCHECK" compare "$work/played.raw" "$out" 4 0000 2>"$work/cmp.err"; then
		pass "$1: A -> B bit-exact"
	else
		bad "$1: not bit-exact: $(cat "$work/cmp.err")"
	fi
}

for pr in 0 2; do
	echo "$pr" >/proc/sys/fs/protected_regular
	echo "== fs.protected_regular = $pr"
	rm -rf /dev/shm/* "$work/share"/* "$work/sticky"/* 2>/dev/null || true

	# 1. Default cables never meet: B records its own silence while A plays.
	$AS_A timeout 20 aplay -q -D "loop:SUBDEV=1,CARD=$LOOP_CARD" $FMT "$work/played.raw" \
		2>"$work/a.err" &
	a=$!
	pids="$pids $a"
	: >"$work/b.rec"; chmod 0666 "$work/b.rec"
	st=0
	$AS_B timeout 20 arecord -q -D "loopcap:SUBDEV=1,CARD=$LOOP_CARD" $FMT -d 1 \
		"$work/b.rec" 2>"$work/b.err" || st=$?
	wait "$a" || bad "default: A's aplay failed: $(cat "$work/a.err")"
	if [ "$st" != 0 ]; then
		bad "default: B's arecord of its own cable failed: $(cat "$work/b.err")"
	elif "$AUDIOCHECK" silent "$work/b.rec" 0000; then
		pass "default: B recorded its own cable (silence), not A's"
	else
		bad "default: B heard something on its own cable while A played"
	fi
	for u in "$uida" "$uidb"; do
		d="/dev/shm/alsa-loopback-$u"
		[ ! -e "$d" ] || [ "$(stat -c '%a %u' "$d")" = "700 $u" ] ||
			bad "default: $d is $(stat -c '%a %u' "$d"), want 700 $u"
	done
	# B cannot reach into A's directory, nor truncate or remove what is there.
	$AS_A timeout 20 aplay -q -D "loop:SUBDEV=6,CARD=$LOOP_CARD" $FMT "$work/played.raw" \
		2>"$work/a.err" &
	a=$!
	pids="$pids $a"
	sleep 0.2
	segA="/dev/shm/alsa-loopback-$uida/alsa-loopback-$LOOP_CARD.6"
	$AS_B sh -c "truncate -s 0 '$segA' || rm -f '$segA' || ls /dev/shm/alsa-loopback-$uida" \
		>/dev/null 2>&1 && bad "default: B could touch A's directory"
	st=0
	wait "$a" || st=$?
	[ "$st" = 0 ] && pass "default: B could not touch A's running cable" ||
		bad "default: A's aplay failed ($st): $(cat "$work/a.err")"
	[ ! -e "$segA" ] || bad "default: A's idle segment outlived A's aplay"

	# 2. B plants A's private directory: A is refused, told whose it is.
	rm -rf "/dev/shm/alsa-loopback-$uida"
	$AS_B mkdir -m 0777 "/dev/shm/alsa-loopback-$uida"
	st=0
	$AS_A timeout 20 aplay -q -D "loop:SUBDEV=1,CARD=$LOOP_CARD" $FMT "$work/played.raw" \
		2>"$work/a.err" || st=$?
	if [ "$st" = 0 ]; then
		bad "planted dir: A played into B's directory"
	elif grep -q "uid $uidb" "$work/a.err" && grep -q "'dir'" "$work/a.err"; then
		pass "planted dir: refused: $(grep -m1 "uid $uidb" "$work/a.err" | cut -c1-200)"
	else
		bad "planted dir: the refusal does not name uid $uidb and 'dir': $(cat "$work/a.err")"
	fi
	[ -z "$(ls -A "/dev/shm/alsa-loopback-$uida")" ] || bad "planted dir: A wrote into it"
	rm -rf "/dev/shm/alsa-loopback-$uida"

	# 3. B plants a segment name in a sticky shared directory (perm 0666):
	#    A refuses it, names B, and leaves it as it was.
	$AS_B sh -c "umask 0; head -c 100 /dev/zero >'$work/sticky/alsa-loopback-$LOOP_CARD.4'"
	before=$(stat -c '%s %a %u' "$work/sticky/alsa-loopback-$LOOP_CARD.4")
	st=0
	$AS_A timeout 20 aplay -q -D pp $FMT "$work/played.raw" 2>"$work/a.err" || st=$?
	if [ "$st" = 0 ]; then
		bad "planted name: A played into B's file"
	elif grep -q "uid $uidb" "$work/a.err"; then
		pass "planted name: refused: $(grep -m1 "uid $uidb" "$work/a.err" | cut -c1-200)"
	else
		bad "planted name: the refusal does not name uid $uidb: $(cat "$work/a.err")"
	fi
	[ "$(stat -c '%s %a %u' "$work/sticky/alsa-loopback-$LOOP_CARD.4")" = "$before" ] ||
		bad "planted name: B's file was changed"
	rm -f "$work/sticky/alsa-loopback-$LOOP_CARD.4"

	# 4. Explicit sharing: a 'dir' both reach, perm 0660, a common group.
	roundtrip "shared realtime" sp sc
	roundtrip "shared lossless" lp lc lossless
	[ -z "$(ls -A "$work/share")" ] || bad "shared: left behind: $(ls -A "$work/share")"

	# 5. A read-only share is refused before anything is made.
	st=0
	$AS_A timeout 20 aplay -q -D ro $FMT "$work/played.raw" 2>"$work/a.err" || st=$?
	if [ "$st" != 0 ] && grep -q "'perm'" "$work/a.err" && grep -q "read without write" "$work/a.err"
	then
		pass "perm 0640: refused"
	else
		bad "perm 0640: not refused as read-only ($st): $(cat "$work/a.err")"
	fi
done

# 6. gc through a symlink: a crashed player's segment behind a link to its
#    directory is not removed (the directory is opened without following);
#    gc of the directory itself removes it.
(
	if [ -n "$SANITIZER_PRELOAD" ]; then
		export LD_PRELOAD="$SANITIZER_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
	fi
	exec aplay -q -D rp $FMT -d 10 /dev/zero
) 2>"$work/a.err" &
a=$!
pids="$pids $a"
seg="$work/real/alsa-loopback-$LOOP_CARD.7"
_wi=0
while [ ! -e "$seg" ] && [ $_wi -lt 500 ]; do _wi=$((_wi + 1)); sleep 0.01; done
kill -9 "$a" 2>/dev/null || true
wait "$a" 2>/dev/null || true
[ -e "$seg" ] || bad "gc: the killed player left no segment to collect"
ln -s "$work/real" "$work/link"
"$work/lib/alsa-loopback" --dir "$work/link" gc >"$work/gc.out" 2>&1 || true
[ -e "$seg" ] && pass "gc through a symlink removed nothing: $(head -n 1 "$work/gc.out" | cut -c1-120)" ||
	bad "gc through a symlink removed $seg"
"$work/lib/alsa-loopback" --dir "$work/real" gc >"$work/gc.out" 2>&1 || true
[ ! -e "$seg" ] || bad "gc of the directory kept the dead segment: $(cat "$work/gc.out")"

if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
