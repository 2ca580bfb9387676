#!/bin/sh
# "PCM Slave Active" follows the playback's life: on while aplay plays into
# loop:N, off at once after aplay is killed with SIGKILL (the flag in the
# segment stays set; the ctl must check that the playback end is held).
set -eu
. "$top_builddir/tests/lib/env.sh"
N=6
ctl="loopcap:SUBDEV=$N,CARD=$LOOP_CARD"
active() {
	alsa_client amixer -D "$ctl" cget iface=PCM,name='PCM Slave Active' |
		sed -n 's/^ *: values=//p'
}
# No wrapper function or timeout here: $! must be aplay itself (env execs it).
pre=
[ -z "$SANITIZER_PRELOAD" ] || pre="env LD_PRELOAD=$SANITIZER_PRELOAD ASAN_OPTIONS=detect_leaks=0"
$pre aplay -q -D "loop:SUBDEV=$N,CARD=$LOOP_CARD" -f S16_LE -r 48000 -c 2 -d 10 /dev/zero &
player=$!
for i in $(seq 50); do [ "$(active)" = on ] && break; sleep 0.1; done
[ "$(active)" = on ] || { echo "FAIL: Slave Active is '$(active)' while aplay plays"; exit 1; }
kill -9 $player
wait $player 2>/dev/null || true
[ "$(active)" = off ] || { echo "FAIL: Slave Active is '$(active)' after kill -9"; exit 1; }
echo "ok: Slave Active on while playing, off after kill -9"
