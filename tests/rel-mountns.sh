#!/bin/sh
# Containers: the two ends run in separate mount namespaces (unshare
# --mount), each with a private tmpfs over /dev/shm, sharing only one
# directory.  With the 'dir' key pointing there the cable works bit-exact;
# with the default (/dev/shm, private to each namespace) the ends do not
# meet and the capture hears only silence.  Skips if unshare is not allowed.
set -eu
. "$top_builddir/tests/lib/env.sh"
RS="$top_builddir/tests/streamer"
if ! unshare --mount sh -c 'mount -t tmpfs tmpfs /dev/shm' >/dev/null 2>&1; then
	echo "SKIP: unshare --mount with a tmpfs mount is not permitted here"
	exit 77
fi
work=$(mktemp -d)
loop_at_exit 'rm -rf "$work"'
mkdir "$work/vol"
cat >"$work/rc" <<EOR
pcm.vp { type loopback card "$LOOP_CARD" subdevice 1 device 0 dir "$work/vol" }
pcm.vc { type loopback card "$LOOP_CARD" subdevice 1 device 1 dir "$work/vol" }
EOR
export ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$work/rc"
F=24000
# in_ns CMD...: run CMD in a new mount namespace with a private /dev/shm.
# (The command string is built from our own fixed arguments only.)
in_ns() {
	unshare --mount --propagation private sh -c \
		'mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec "$@"' sh "$@"
}

# pair NAME PLAYPCM CAPPCM RECFLAGS: recorder in one namespace, player in another.
pair() {
	in_ns "$RS" rec -D "$3" $4 -d 2 -T 30 >"$work/rec" 2>&1 &
	rec=$!
	_wi=0
	while ! grep -qx started "$work/rec" 2>/dev/null && [ $_wi -lt 1000 ]; do
		_wi=$((_wi + 1)); sleep 0.01
	done
	sta=0
	in_ns "$RS" play -D "$2" -n $F -T 30 >"$work/play" 2>&1 || sta=$?
	str=0
	wait "$rec" || str=$?
	if [ "$sta" != 0 ] || [ "$str" != 0 ]; then
		bad "$1: player $sta, recorder $str"
		cat "$work/play" "$work/rec"
	else
		echo "$1: $(grep '^summary' "$work/rec" | cut -c1-70)"
	fi
}

pair "shared dir, separate /dev/shm: bit-exact" vp vc "-e $F"
# The two namespaces met in the shared directory (their /dev/shm are
# separate), and the last one out removed the idle segment there.
[ ! -e "$work/vol/alsa-loopback-$LOOP_CARD.1" ] || bad "an idle segment was left in the shared directory"
pair "default /dev/shm, separate namespaces: silence" "loop:SUBDEV=2,CARD=$LOOP_CARD" \
	"loopcap:SUBDEV=2,CARD=$LOOP_CARD" "-Z"
# The namespaces' private /dev/shm segments never reached the host's.
if [ -e "$LOOP_SHM/alsa-loopback-$LOOP_CARD.2" ]; then
	bad "a namespace's segment appeared in the host's /dev/shm"
fi
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
