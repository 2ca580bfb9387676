#!/bin/sh
# PipeWire on the cables: a session of our own (dbus-daemon, pipewire and
# wireplumber under a private XDG_RUNTIME_DIR and XDG_CONFIG_HOME) whose
# configuration adds two adapter nodes, api.alsa.pcm.sink on loop:A and
# api.alsa.pcm.source on loopcap:B.  WirePlumber links the streams: a 440 Hz
# tone played by pw-play into the sink arrives at arecord on loopcap:A, and
# one played by aplay into loop:B arrives at pw-record from the source, with
# the right frequency and length, no dropout, no click.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/server.sh"

for p in pipewire wireplumber pw-play pw-record pw-cli; do
	command -v $p >/dev/null 2>&1 ||
		skip "$p is not installed (Debian packages pipewire, pipewire-bin, wireplumber)"
done
command -v dbus-daemon >/dev/null 2>&1 || skip "dbus-daemon is not installed (dbus-daemon)"

A=63 B=64
RUN="$CLI_TMP/run"
mkdir -m 700 "$RUN" "$CLI_TMP/home"
mkdir -p "$CLI_TMP/config/pipewire/pipewire.conf.d"
export HOME="$CLI_TMP/home" XDG_RUNTIME_DIR="$RUN" XDG_CONFIG_HOME="$CLI_TMP/config" \
	DBUS_SESSION_BUS_ADDRESS="unix:path=$RUN/bus"
unset PIPEWIRE_REMOTE PIPEWIRE_RUNTIME_DIR PULSE_SERVER DISPLAY WAYLAND_DISPLAY
# The nodes of docs/clients.md: the format is fixed, so PipeWire neither
# probes nor converts on the cable.
# A 4096-frame quantum (85 ms, default 1024): a client that is scheduled
# late on a loaded machine loses a whole quantum in PipeWire's graph, before
# or after the cable; the test is about the nodes, not about the scheduler.
cat >"$CLI_TMP/config/pipewire/pipewire.conf.d/10-loop.conf" <<EOF
context.properties = {
  default.clock.quantum = 4096 default.clock.min-quantum = 4096 default.clock.max-quantum = 4096
}
context.objects = [
  { factory = adapter
    args = { factory.name = api.alsa.pcm.sink node.name = "loopsink"
      media.class = "Audio/Sink" api.alsa.path = "loop:SUBDEV=$A,CARD=$LOOP_CARD"
      audio.format = "S16LE" audio.rate = 48000 audio.channels = 2 audio.position = "FL,FR" } }
  { factory = adapter
    args = { factory.name = api.alsa.pcm.source node.name = "loopsrc"
      media.class = "Audio/Source" api.alsa.path = "loopcap:SUBDEV=$B,CARD=$LOOP_CARD"
      audio.format = "S16LE" audio.rate = 48000 audio.channels = 2 audio.position = "FL,FR" } }
]
EOF

srv_bg "$CLI_TMP/dbus.log" dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" \
	--nofork --nopidfile
dpid=$SRV_BG
srv_wait "dbus-daemon did not start" 20 $dpid "$CLI_TMP/dbus.log" test -S "$RUN/bus"
srv_bg "$CLI_TMP/pipewire.log" pipewire
ppid=$SRV_BG
srv_wait "pipewire did not create its nodes on loop:$A and loopcap:$B" 30 $ppid \
	"$CLI_TMP/pipewire.log" sh -c 'pw-cli ls Node | grep -q "node.name = \"loopsrc\""'
srv_bg "$CLI_TMP/wireplumber.log" wireplumber
wpid=$SRV_BG
srv_wait "wireplumber did not connect" 30 $wpid "$CLI_TMP/wireplumber.log" \
	sh -c 'pw-cli ls Client | grep -q "application.name = \"WirePlumber\""'
# PipeWire opens a node's device when the node runs (a probe at creation
# opens and closes it, and the last one out removes an idle segment): the
# sink node exists; the tones below prove it opened loop:$A.
srv_wait "pipewire did not create the sink node on loop:$A" 30 $ppid "$CLI_TMP/pipewire.log" \
	sh -c 'pw-cli ls Node | grep -q "node.name = \"loopsink\""'

tone_wav "$CLI_TMP/tone.wav" 440 1

# pw-play -> loopsink (loop:A) -> arecord loopcap:A
rm -f "$CLI_TMP/rec.raw"
cli_bg arecord -q -D "$(cli_dev loopcap $A)" -t raw -f S16_LE -r 48000 -c 2 -s $((48000 * 4)) \
	"$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
rec_wait "$CLI_TMP/rec.raw" $rpid "$CLI_TMP/rec.err" "arecord on loopcap:$A"
cli_client pw-play --target loopsink "$CLI_TMP/tone.wav" >"$CLI_TMP/pw.out" 2>&1 || {
	cat "$CLI_TMP/pw.out" >&2
	tail -n 20 "$CLI_TMP/pipewire.log" "$CLI_TMP/wireplumber.log" >&2
	fail "pw-play --target loopsink failed"
}
cli_wait $rpid
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/rec.err" >&2; fail "arecord exited with $CLI_RC"; }
tone_check "pw-play -> api.alsa.pcm.sink (loop:$A) -> arecord loopcap:$A" \
	"$CLI_TMP/rec.raw" 440 1 || srv_fail "pw-play -> arecord: the tone is not intact" \
	"$CLI_TMP/pipewire.log" "$CLI_TMP/wireplumber.log"

# aplay loop:B -> loopsrc (loopcap:B) -> pw-record
cli_bg pw-record --target loopsrc --rate 48000 --channels 2 --format s16 "$CLI_TMP/rec.wav" \
	2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
# Running once data follows the WAV header: 0.1 s (19200 bytes) of it.
i=0
until [ "$(stat -c %s "$CLI_TMP/rec.wav" 2>/dev/null || echo 0)" -gt 19244 ]; do
	i=$((i + 1))
	if [ $i -gt 250 ] || ! kill -0 $rpid 2>/dev/null; then
		cat "$CLI_TMP/rec.err" >&2
		tail -n 20 "$CLI_TMP/pipewire.log" "$CLI_TMP/wireplumber.log" >&2
		fail "pw-record --target loopsrc did not start recording"
	fi
	sleep 0.02
done
cli_client aplay -q -D "$(cli_dev loop $B)" "$CLI_TMP/tone.wav" 2>"$CLI_TMP/play.err" ||
	{ cat "$CLI_TMP/play.err" >&2; fail "aplay into loop:$B failed"; }
sleep 1
# SIGINT: pw-record finishes its WAV file.
for c in $(cli_children $rpid); do kill -INT "$c" 2>/dev/null || true; done
cli_wait $rpid
sox -V1 "$CLI_TMP/rec.wav" -t raw -e signed -b 16 -L "$CLI_TMP/rec.raw" ||
	fail "pw-record did not write a readable WAV file"
tone_check "aplay loop:$B -> api.alsa.pcm.source (loopcap:$B) -> pw-record" \
	"$CLI_TMP/rec.raw" 440 1 || srv_fail "aplay -> pw-record: the tone is not intact" \
	"$CLI_TMP/pipewire.log" "$CLI_TMP/wireplumber.log"
echo "PASS"
