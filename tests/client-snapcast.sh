#!/bin/sh
# Snapcast: snapserver reads an alsa:// source on loopcap:A, snapclient plays
# into loop:B (both on 127.0.0.1, no avahi, no systemd); a 1000 Hz tone played
# into loop:A is heard on loopcap:B with the right frequency and length, about
# snapserver's buffer (1000 ms) later.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

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
rc=0
alsa_client_timeout 20 "$AUDIOCHECK" tone-probe "loop:$A,$LOOP_CARD" "loopcap:$B,$LOOP_CARD" 1000 1 4 \
	"$CLI_TMP/snap.raw" >"$CLI_TMP/probe.out" 2>&1 || rc=$?
cat "$CLI_TMP/probe.out"
if [ $rc -ne 0 ]; then
	tail -n 20 "$CLI_TMP/server.log" "$CLI_TMP/client.log" >&2
	cli_keep "$CLI_TMP/snap.raw"
	fail "the 1000 Hz tone did not arrive intact through snapserver and snapclient"
fi
lat=$(sed -n 's/^latency_ms=//p' "$CLI_TMP/probe.out")
pass "loop:$A -> snapserver (alsa://loopcap:$A) -> snapclient (loop:$B) -> loopcap:$B: 1000 Hz, 1 s, latency $lat ms"
echo "PASS"
