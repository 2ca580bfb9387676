#!/bin/sh
# scripts/rtp-bridge.sh on 127.0.0.1: a tone played into loop:A, sent as RTP
# by "rtp-bridge.sh send" (alsasrc on loopcap:A), received by "rtp-bridge.sh
# receive" (alsasink on loop:B), is recorded from loopcap:B with the right
# frequency and length.  Prints the latency (tone onset out minus onset in,
# one process, CLOCK_MONOTONIC), the dropouts inside the tone (lost or late
# packets) and the kernel's UDP receive errors, with the default buffers and
# with small ones.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

command -v gst-launch-1.0 >/dev/null 2>&1 ||
	skip "gst-launch-1.0 is not installed (gstreamer1.0-tools)"
for e in alsasrc alsasink rtpL16pay rtpL16depay rtpjitterbuffer udpsrc udpsink audioconvert; do
	gst-inspect-1.0 "$e" >/dev/null 2>&1 ||
		skip "GStreamer element $e is missing (gstreamer1.0-alsa, -plugins-base, -plugins-good)"
done
BRIDGE="$top_srcdir/scripts/rtp-bridge.sh"

# A port of our own (another run may use another pid's), 127.0.0.1 only.
port=$((20000 + $$ % 20000 * 2))
A=31 B=32

# udp_errors: UDP datagrams the kernel dropped on receive (socket buffer
# full, bad checksum), system-wide: on 127.0.0.1 the only way a packet is lost.
udp_errors() {
	awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		print $col["InErrors"] + $col["RcvbufErrors"]; exit }' /proc/net/snmp 2>/dev/null ||
		echo 0
}

# bridge NAME [VAR=VALUE...]: one send/receive pair, one probe.
bridge() {
	name=$1
	shift
	rm -f $LOOP_SHM/alsa-loopback-"$LOOP_CARD".$A $LOOP_SHM/alsa-loopback-"$LOOP_CARD".$B
	cli_bg env "$@" sh "$BRIDGE" receive 127.0.0.1 $port "SUBDEV=$B,CARD=$LOOP_CARD" \
		2>"$CLI_TMP/recv.err"
	rpid=$CLI_BG
	cli_bg env "$@" sh "$BRIDGE" send 127.0.0.1 $port "SUBDEV=$A,CARD=$LOOP_CARD" \
		2>"$CLI_TMP/send.err"
	spid=$CLI_BG
	# Both ends hold their cables once the stream flows (the sender sends
	# the silence it records): wait for both segments, then a little more.
	i=0
	until [ -e $LOOP_SHM/alsa-loopback-"$LOOP_CARD".$A ] &&
		[ -e $LOOP_SHM/alsa-loopback-"$LOOP_CARD".$B ]; do
		i=$((i + 1))
		if [ $i -gt 500 ] || ! kill -0 $rpid 2>/dev/null || ! kill -0 $spid 2>/dev/null; then
			cat "$CLI_TMP/send.err" "$CLI_TMP/recv.err" >&2
			fail "$name: the bridge did not start"
		fi
		sleep 0.02
	done
	sleep 0.5
	rc=0
	err0=$(udp_errors)
	alsa_client_timeout 20 "$AUDIOCHECK" tone-probe "loop:SUBDEV=$A,CARD=$LOOP_CARD" \
		"loopcap:SUBDEV=$B,CARD=$LOOP_CARD" 1000 1 3 "$CLI_TMP/rtp.raw" \
		>"$CLI_TMP/probe.out" 2>&1 || rc=$?
	for p in $spid $rpid; do
		for c in $(cli_children "$p"); do
			for g in $(cli_children "$c"); do kill "$g" 2>/dev/null || true; done
			kill "$c" 2>/dev/null || true
		done
		cli_wait "$p"
	done
	cat "$CLI_TMP/probe.out"
	if [ $rc -ne 0 ]; then
		cat "$CLI_TMP/send.err" "$CLI_TMP/recv.err" >&2
		cli_keep "$CLI_TMP/rtp.raw"
		fail "$name: the 1000 Hz tone did not arrive intact through RTP"
	fi
	udp_lost=$(($(udp_errors) - err0))
	lat=$(sed -n 's/^latency_ms=//p' "$CLI_TMP/probe.out")
	gaps=$(sed -n 's/.* gaps=\([0-9]*\) .*/\1/p' "$CLI_TMP/probe.out")
	gapms=$(sed -n 's/.* gap_ms=\([0-9.]*\).*/\1/p' "$CLI_TMP/probe.out")
	# rtpL16pay fills a 1400-byte MTU: 347 stereo S16 frames, 7.23 ms.
	lost=$(echo "$gapms" | awk '{ printf "%.0f", $1 / 7.23 }')
	pass "$name: 1000 Hz, 1 s arrived; latency $lat ms; dropouts in the tone $gaps ($gapms ms, ~$lost packets); UDP receive errors (system-wide) $udp_lost"
}

bridge "RTP bridge, default buffers (ALSA 200 ms, jitter buffer 50 ms)"
bridge "RTP bridge, small buffers (ALSA 40 ms, jitter buffer 20 ms)" BUFFER_MS=40 LATENCY_MS=20
echo "PASS"
