#!/bin/sh
# Snapcast: snapserver reads an alsa:// source on loopcap:A, snapclient plays
# into loop:B (both on 127.0.0.1, no avahi, no systemd); a 1000 Hz tone played
# into loop:A is heard on loopcap:B with the right frequency and length, with
# no dropout and no click, about snapserver's buffer (1000 ms) later.
#
# A dropout or a click is the plugin's unless the machine stalled near it
# (tests/lib/stall.sh: the rule, the probe, a second run, SKIP when the
# machine stalls both times).  The limit, STALL_MS: snapserver and
# snapclient run SCHED_OTHER (the probe too).  The least any end of the
# chain holds is snapclient's playback, 3840 frames (80 ms) in periods of
# 960 (snapserver's capture holds 2.7 s, audiocheck's ends 100 ms): a
# client woken each period keeps at least 60 ms in it, and a stall of one
# period, 20 ms, is the least that may empty it once the client's own
# work and the probe's 1 ms are counted.  Near: snapserver's buffer (1 s)
# and the ALSA buffers before the damage, CHAIN_S (a stall of audiocheck's
# player is heard a buffer later).
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/stall.sh"
STALL_MS=20 CHAIN_S=1.3

for p in snapserver snapclient; do
	command -v $p >/dev/null 2>&1 || skip "$p is not installed (Debian package $p)"
done
[ -z "$SANITIZER_PRELOAD" ] ||
	skip "snapserver 0.26 hangs at start-up with the sanitizer runtime preloaded ($SANITIZER_PRELOAD), even with a pipe source; the plain build runs this test"

A=81 B=82
port=$((21000 + $$ % 20000 * 2))
: >"$CLI_TMP/snapserver.conf"	# nothing from /etc/snapserver.conf
mkdir -p "$CLI_TMP/snapdata"
# The positional form of the device arguments: no '=' inside the URI's query.
cli_bg snapserver -c "$CLI_TMP/snapserver.conf" --server.datadir="$CLI_TMP/snapdata" \
	--http.enabled=false --tcp.enabled=false \
	--stream.bind_to_address=127.0.0.1 --stream.port=$port \
	--stream.source="alsa:///?name=loop&device=loopcap:$A,$LOOP_CARD&sampleformat=48000:16:2&codec=pcm" \
	--logging.sink=stderr >"$CLI_TMP/server.log" 2>&1
spid=$CLI_BG
i=0
until grep -q "Creating stream acceptor" "$CLI_TMP/server.log" &&
	[ -e $LOOP_SHM/alsa-loopback-"$LOOP_CARD".$A ]; do
	i=$((i + 1))
	if [ $i -gt 500 ] || ! kill -0 $spid 2>/dev/null; then
		cat "$CLI_TMP/server.log" >&2
		fail "snapserver did not start on loopcap:$A,$LOOP_CARD"
	fi
	sleep 0.02
done
cli_bg snapclient -h 127.0.0.1 -p $port --hostID "alsa-loopback-test-$$" \
	-s "loop:$B,$LOOP_CARD" --logsink stderr >"$CLI_TMP/client.log" 2>&1
cpid=$CLI_BG
i=0
until grep -q "Hello from" "$CLI_TMP/server.log" &&
	[ -e $LOOP_SHM/alsa-loopback-"$LOOP_CARD".$B ]; do
	i=$((i + 1))
	if [ $i -gt 500 ] || ! kill -0 $cpid 2>/dev/null; then
		cat "$CLI_TMP/server.log" "$CLI_TMP/client.log" >&2
		fail "snapclient did not connect and open loop:$B,$LOOP_CARD"
	fi
	sleep 0.02
done
sleep 0.3
# A stall_case: 1 when the tone has dropouts or clicks.
snap_tone() {
	rc=0
	alsa_client_timeout 20 "$AUDIOCHECK" tone-probe "loop:$A,$LOOP_CARD" "loopcap:$B,$LOOP_CARD" 1000 1 4 \
		"$CLI_TMP/snap.raw" >"$CLI_TMP/probe.out" 2>&1 || rc=$?
	cat "$CLI_TMP/probe.out"
	if [ $rc -ne 0 ]; then
		tail -n 20 "$CLI_TMP/server.log" "$CLI_TMP/client.log" >&2
		cli_keep "$CLI_TMP/snap.raw"
		fail "the 1000 Hz tone did not arrive through snapserver and snapclient"
	fi
	stall_tone "the tone through snapserver and snapclient" "$CLI_TMP/probe.out" \
		"$(sed -n 's/^capture_start=//p' "$CLI_TMP/probe.out")" || {
		cli_keep "$CLI_TMP/snap.raw"
		return 1
	}
	lat=$(sed -n 's/^latency_ms=//p' "$CLI_TMP/probe.out")
	pass "loop:$A -> snapserver (alsa://loopcap:$A) -> snapclient (loop:$B) -> loopcap:$B: 1000 Hz, 1 s, latency $lat ms"
}
stall_case "Snapcast" $STALL_MS $CHAIN_S snap_tone
stall_end
