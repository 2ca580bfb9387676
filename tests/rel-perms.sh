#!/bin/sh
# Permissions in a shared 'dir': two unprivileged users A and B.  A segment
# is created 0600 by default, so B cannot open A's cable: arecord fails with
# "permission denied" and a message that names the 'perm' and 'group' keys.
# With perm 0660 and group <shared group> (both users members) A plays and B
# records bit-exact.  (Without 'dir' each user has a private directory and
# the two never meet: tests/rel-owners.sh.)  Needs root (useradd); skips
# otherwise.
# The users run copies of streamer, the plugin and its configuration in a
# directory of their own under /tmp: the build tree may lie where they cannot
# enter (a clone in a 0700 home or mktemp -d folder).
set -eu
. "$top_builddir/tests/lib/env.sh"
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
work=$(mktemp -d /tmp/alsa-loopback-perms.XXXXXX)
cleanup() {
	userdel "$ua" 2>/dev/null || true
	userdel "$ub" 2>/dev/null || true
	groupdel "$grp" 2>/dev/null || true
	rm -rf "$work"
}
loop_at_exit cleanup
groupadd "$grp"
useradd -M -d "$work" -s /bin/sh -G "$grp" "$ua"
useradd -M -d "$work" -s /bin/sh -G "$grp" "$ub"
chmod 0755 "$work"
mkdir "$work/share"
chown "root:$grp" "$work/share"
chmod 2770 "$work/share"
# What the users run, where they can reach it.
install -m 0755 "$top_builddir/tests/streamer" "$work/streamer"
RS="$work/streamer"
if [ -z "${LOOP_INSTALLED:-}" ]; then
	install -m 0644 "$top_builddir/.libs/libasound_module_pcm_loopback.so" "$top_srcdir/50-loopback.conf" \
		"$work/"
	cat >"$work/asoundrc" <<EOR
pcm_type.loopback {
	lib "$work/libasound_module_pcm_loopback.so"
}
<$work/50-loopback.conf>
EOR
	chmod 0644 "$work/asoundrc"
	export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$work/asoundrc"
fi
cat >"$work/rc" <<EOR
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
AS_A="setpriv --reuid=$ua --regid=$ua --init-groups env -u XDG_RUNTIME_DIR HOME=$work $san"
AS_B="setpriv --reuid=$ub --regid=$ub --init-groups env -u XDG_RUNTIME_DIR HOME=$work $san"
# Can the users run streamer and read the ALSA configuration (every file
# of ALSA_CONFIG_PATH)?  If not, nothing below could say anything about
# permissions of segments: skip, saying why.
for u in "$AS_A" "$AS_B"; do
	st=0
	$u "$RS" open -D null >"$work/pre" 2>&1 || st=$?
	grep -q "open: ok" "$work/pre" ||
		skip "a throw-away user cannot run $RS or read the ALSA configuration" \
			"($ALSA_CONFIG_PATH) (exit $st): $(tr '\n' ' ' <"$work/pre")"
done
F=24000

# stop_a: end A's player (SIGTERM: a clean "summary") and reap it.
stop_a() {
	kill -TERM "$a" 2>/dev/null || true
	wait "$a" || true
}

# refused NAME PLAYPCM CAPPCM SEGPATH: A holds the playback, B is refused.
refused() {
	$AS_A "$RS" play -D "$2" -T 30 >"$work/a" 2>&1 &
	a=$!
	if ! wait_for "$work/a" started; then
		stop_a
		bad "$1: user A's streamer play -D $2 did not start (so B was not tried); A said:"
		cat "$work/a"
		return
	fi
	st=0
	$AS_B timeout 20 arecord -D "$3" -f S16_LE -r 48000 -c 2 -d 1 /dev/null \
		>"$work/b" 2>&1 || st=$?
	# While A holds it (the last one out removes an idle segment): its
	# mode, and the errno B's open gets (EACCES).
	mode=$(stat -c '%a %U' "$4" 2>&1) || true
	ost=0
	$AS_B "$RS" open -C -D "$3" >"$work/o" 2>&1 || ost=$?
	stop_a
	[ "$mode" = "600 $ua" ] || bad "$1: segment is '$mode', expected '600 $ua'"
	if [ "$st" = 0 ]; then
		bad "$1: user B's arecord -D $3 ran and exited 0 while A played into the segment ($mode)"
	elif [ "$st" -ge 124 ]; then
		bad "$1: user B's arecord did not run to an answer (exit $st: timeout or not executable):"
		cat "$work/b"
	elif ! grep -qi "permission denied" "$work/b" || ! grep -q "'perm'" "$work/b" ||
	     ! grep -q "'group'" "$work/b"; then
		bad "$1: B's refusal (exit $st) does not say permission denied and what to change:"
		cat "$work/b"
	else
		echo "$1: B refused: $(grep -i 'permission denied' "$work/b" | head -n 1)"
	fi
	if ! grep -q "^open: " "$work/o"; then
		bad "$1: user B's streamer open -C -D $3 gave no open result (exit $ost):"
		cat "$work/o"
	elif ! grep -q "error 13 " "$work/o"; then
		bad "$1: user B's open of $3 did not fail with EACCES (13):"
		cat "$work/o"
	fi
}

# shared NAME PLAYPCM CAPPCM SEGPATH: A creates the segment and plays, B
# records bit-exact with arecord.
shared() {
	$AS_A "$RS" play -D "$2" -n $F -g -T 30 >"$work/a" 2>&1 &
	a=$!
	if ! wait_for "$work/a" opened; then
		stop_a
		bad "$1: user A's streamer play -D $2 did not open (so B was not tried); A said:"
		cat "$work/a"
		return
	fi
	mode=$(stat -c '%a %U %G' "$4")
	[ "$mode" = "660 $ua $grp" ] || bad "$1: segment is '$mode', expected '660 $ua $grp'"
	rm -f "$work/b.arc" "$work/b.rc"
	( ( st=0; $AS_B timeout 20 arecord -D "$3" -f S16_LE -r 48000 -c 2 -d 2 -t raw \
		2>"$work/b.err" || st=$?; echo "$st" >"$work/b.arc" ) |
		{ st=0; "$RS" verify -e $F >"$work/b" || st=$?; echo "$st" >"$work/b.rc"; } ) &
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
	arc=$(cat "$work/b.arc" 2>/dev/null || echo none) vrc=$(cat "$work/b.rc" 2>/dev/null || echo none)
	if [ "$sta" = 0 ] && [ "$arc" = 0 ] && [ "$vrc" = 0 ]; then
		echo "$1: A played, B recorded bit-exact: $(cut -c1-60 "$work/b")"
	elif [ "$arc" != 0 ]; then
		bad "$1: user B's arecord -D $3 exited $arc (A's player: $sta):"
		cat "$work/b.err" "$work/a"
	elif [ "$sta" != 0 ]; then
		bad "$1: user A's streamer play -D $2 exited $sta (B's arecord: 0):"
		cat "$work/a"
	else
		bad "$1: A played and B's arecord ran, but the recording is not the pattern, bit-exact:"
		cat "$work/a" "$work/b"
	fi
}

refused "default in dir" dp dc "$work/share/alsa-loopback-$LOOP_CARD.3"
shared "perm+group in dir" gp gc "$work/share/alsa-loopback-$LOOP_CARD.4"
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
