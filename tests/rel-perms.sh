#!/bin/sh
# Permissions: two unprivileged users A and B.  A segment is created 0600 by
# default, so B cannot open A's cable: arecord fails with "permission denied"
# and a message that names the 'perm' and 'group' keys.  With perm 0660 and
# group <shared group> (both users members) A plays and B records bit-exact,
# in /dev/shm and in a shared 'dir'.  Needs root (useradd); skips otherwise.
set -eu
. "$top_builddir/tests/env.sh"
RS="$top_builddir/tests/rel-stream"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root to create two users"
	exit 77
fi
for t in useradd userdel groupadd groupdel setpriv; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP: $t is not available"
		exit 77
	fi
done
ua="rla$$" ub="rlb$$" grp="rlg$$"
work=$(mktemp -d)
cleanup() {
	userdel "$ua" 2>/dev/null || true
	userdel "$ub" 2>/dev/null || true
	groupdel "$grp" 2>/dev/null || true
	rm -rf "$work"
	loop_cleanup
}
trap cleanup EXIT
groupadd "$grp"
useradd -M -d "$work" -s /bin/sh -G "$grp" "$ua"
useradd -M -d "$work" -s /bin/sh -G "$grp" "$ub"
chmod 0755 "$work"
mkdir "$work/share"
chown "root:$grp" "$work/share"
chmod 2770 "$work/share"
cat >"$work/rc" <<EOR
pcm.sp { type loopback card "$LOOP_CARD" subdevice 2 device 0 perm 0660 group "$grp" }
pcm.sc { type loopback card "$LOOP_CARD" subdevice 2 device 1 perm 0660 group "$grp" }
pcm.dp { type loopback card "$LOOP_CARD" subdevice 3 device 0 dir "$work/share" }
pcm.dc { type loopback card "$LOOP_CARD" subdevice 3 device 1 dir "$work/share" }
pcm.gp { type loopback card "$LOOP_CARD" subdevice 4 device 0 dir "$work/share" perm 0660 group "$grp" }
pcm.gc { type loopback card "$LOOP_CARD" subdevice 4 device 1 dir "$work/share" perm 0660 group "$grp" }
EOR
chmod 0644 "$work/rc"
export ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$work/rc"
# $AS_A / $AS_B CMD...: run CMD as user A / B with their groups (a plain
# command, not a function, so $! of a background job is the client itself).
# Sanitized builds: aplay/arecord need the runtime preloaded (as alsa_client).
san=
[ -z "$SANITIZER_PRELOAD" ] ||
	san="LD_PRELOAD=$SANITIZER_PRELOAD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}"
AS_A="setpriv --reuid=$ua --regid=$ua --init-groups env HOME=$work $san"
AS_B="setpriv --reuid=$ub --regid=$ub --init-groups env HOME=$work $san"
F=24000

# refused NAME PLAYPCM CAPPCM SEGPATH: A holds the playback, B is refused.
refused() {
	$AS_A "$RS" play -D "$2" -T 30 >"$work/a" 2>&1 &
	a=$!
	wait_for "$work/a" started || bad "$1: A could not play"
	st=0
	$AS_B timeout 20 arecord -D "$3" -f S16_LE -r 48000 -c 2 -d 1 /dev/null \
		>"$work/b" 2>&1 || st=$?
	kill -TERM "$a" 2>/dev/null || true
	wait "$a" || true
	mode=$(stat -c '%a %U' "$4")
	[ "$mode" = "600 $ua" ] || bad "$1: segment is '$mode', expected '600 $ua'"
	if [ "$st" = 0 ]; then
		bad "$1: B recorded from A's private cable"
	elif ! grep -qi "permission denied" "$work/b" || ! grep -q "'perm'" "$work/b" ||
	     ! grep -q "'group'" "$work/b"; then
		bad "$1: B's refusal does not say permission denied and what to change:"
		cat "$work/b"
	else
		echo "$1: B refused: $(grep -i 'permission denied' "$work/b" | head -n 1)"
	fi
	# The errno is EACCES.
	$AS_B "$RS" open -C -D "$3" >"$work/o" 2>&1 || true
	grep -q "error 13 " "$work/o" || { bad "$1: open did not return EACCES"; cat "$work/o"; }
}

# shared NAME PLAYPCM CAPPCM SEGPATH: A creates the segment and plays, B
# records bit-exact with arecord.
shared() {
	$AS_A "$RS" play -D "$2" -n $F -g -T 30 >"$work/a" 2>&1 &
	a=$!
	wait_for "$work/a" opened || bad "$1: A could not open"
	mode=$(stat -c '%a %U %G' "$4")
	[ "$mode" = "660 $ua $grp" ] || bad "$1: segment is '$mode', expected '660 $ua $grp'"
	(st=0; $AS_B timeout 20 arecord -D "$3" -f S16_LE -r 48000 -c 2 -d 2 -t raw \
		2>"$work/b.err" | "$RS" verify -e $F >"$work/b" || st=$?; echo "$st" >"$work/b.rc") &
	rec=$!
	_wi=0
	while ! grep -q Recording "$work/b.err" 2>/dev/null && [ $_wi -lt 1000 ]; do
		_wi=$((_wi + 1)); sleep 0.01
	done
	sleep 0.3
	kill -USR1 "$a"
	sta=0
	wait "$a" || sta=$?
	wait "$rec" || true
	if [ "$sta" != 0 ] || [ "$(cat "$work/b.rc")" != 0 ]; then
		bad "$1: A ($sta) -> B ($(cat "$work/b.rc")) not bit-exact"
		cat "$work/a" "$work/b" "$work/b.err"
	else
		echo "$1: A played, B recorded bit-exact: $(cut -c1-60 "$work/b")"
	fi
}

refused "default /dev/shm" "loop:SUBDEV=1,CARD=$LOOP_CARD" "loopcap:SUBDEV=1,CARD=$LOOP_CARD" \
	"/dev/shm/alsa-loopback-$LOOP_CARD.1"
shared "perm+group /dev/shm" sp sc "/dev/shm/alsa-loopback-$LOOP_CARD.2"
refused "default in dir" dp dc "$work/share/alsa-loopback-$LOOP_CARD.3"
shared "perm+group in dir" gp gc "$work/share/alsa-loopback-$LOOP_CARD.4"
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
