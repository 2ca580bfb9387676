#!/bin/sh
# PulseAudio on the cables: a daemon of our own (private runtime directory,
# no dbus, no autospawn) with module-alsa-sink on loop:A and
# module-alsa-source on loopcap:B.  A 440 Hz tone played by paplay into the
# sink arrives at arecord on loopcap:A, and one played by aplay into loop:B
# arrives at parecord from the source: right frequency and length, no
# dropout, no click.  PulseAudio picks its scheduling itself (it turns timer
# scheduling off in a VM); the log line saying which is printed.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/server.sh"
[ -z "$SANITIZER_PRELOAD" ] ||
	skip "pulseaudio 16.1 does not start with the sanitizer runtime preloaded ($SANITIZER_PRELOAD): no output within 30 s in CI; the plain build runs this test"

command -v pulseaudio >/dev/null 2>&1 ||
	skip "pulseaudio is not installed (Debian package pulseaudio)"
for p in pactl paplay parecord; do
	command -v $p >/dev/null 2>&1 || skip "$p is not installed (pulseaudio-utils)"
done

A=61 B=62
# Everything of the daemon's under our scratch directory: the user's own
# PulseAudio (if any) is neither reached nor disturbed.
RUN="$CLI_TMP/pulse"
mkdir -m 700 "$RUN" "$CLI_TMP/home" "$CLI_TMP/config"
export HOME="$CLI_TMP/home" XDG_CONFIG_HOME="$CLI_TMP/config" XDG_RUNTIME_DIR="$RUN" \
	PULSE_RUNTIME_PATH="$RUN" PULSE_STATE_PATH="$RUN/state" PULSE_SERVER="unix:$RUN/native"
unset DBUS_SESSION_BUS_ADDRESS
FMT="rate=48000 channels=2 format=s16le"
# The positional device form: a module argument's value holds no '='.
cat >"$CLI_TMP/loop.pa" <<EOF
load-module module-native-protocol-unix socket=$RUN/native auth-anonymous=1
load-module module-alsa-sink device=loop:$A,$LOOP_CARD sink_name=loopsink $FMT
load-module module-alsa-source device=loopcap:$B,$LOOP_CARD source_name=loopsrc $FMT
EOF
# -n: no default.pa; no autospawn from the clients (client.conf).
printf 'autospawn = no\n' >"$CLI_TMP/client.conf"
export PULSE_CLIENTCONFIG="$CLI_TMP/client.conf"
srv_bg "$CLI_TMP/pulse.log" pulseaudio -n --daemonize=no --exit-idle-time=-1 --use-pid-file=no \
	--disallow-exit --log-target=stderr --log-level=info -F "$CLI_TMP/loop.pa"
ppid=$SRV_BG
srv_wait "pulseaudio did not load its sink and source on loop:$A and loopcap:$B" 30 \
	$ppid "$CLI_TMP/pulse.log" sh -c 'pactl list short sources | grep -q loopsrc'
grep -E "timer-based scheduling|Successfully enabled timer" "$CLI_TMP/pulse.log" |
	sed 's/^/pulseaudio: /' | sort -u || true

tone_wav "$CLI_TMP/tone.wav" 440 1

# paplay -> module-alsa-sink (loop:A) -> arecord loopcap:A
rm -f "$CLI_TMP/rec.raw"
cli_bg arecord -q -D "$(cli_dev loopcap $A)" -t raw -f S16_LE -r 48000 -c 2 -s $((48000 * 4)) \
	"$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
rec_wait "$CLI_TMP/rec.raw" $rpid "$CLI_TMP/rec.err" "arecord on loopcap:$A"
cli_client paplay -d loopsink "$CLI_TMP/tone.wav" >"$CLI_TMP/pa.out" 2>&1 || {
	cat "$CLI_TMP/pa.out" >&2
	tail -n 20 "$CLI_TMP/pulse.log" >&2
	fail "paplay -d loopsink failed"
}
cli_wait $rpid
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/rec.err" >&2; fail "arecord exited with $CLI_RC"; }
tone_check "paplay -> module-alsa-sink device=loop:$A -> arecord loopcap:$A" \
	"$CLI_TMP/rec.raw" 440 1 ||
	srv_fail "paplay -> arecord: the tone is not intact" "$CLI_TMP/pulse.log"

# aplay loop:B -> module-alsa-source (loopcap:B) -> parecord
rm -f "$CLI_TMP/rec.raw"
cli_bg parecord -d loopsrc --raw --rate=48000 --channels=2 --format=s16le "$CLI_TMP/rec.raw" \
	2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
rec_wait "$CLI_TMP/rec.raw" $rpid "$CLI_TMP/rec.err" "parecord -d loopsrc"
cli_client aplay -q -D "$(cli_dev loop $B)" "$CLI_TMP/tone.wav" 2>"$CLI_TMP/play.err" ||
	{ cat "$CLI_TMP/play.err" >&2; fail "aplay into loop:$B failed"; }
# What the source still buffers (its fragments) reaches parecord well within 1 s.
sleep 1
for c in $(cli_children $rpid); do kill -INT "$c" 2>/dev/null || true; done
cli_wait $rpid
tone_check "aplay loop:$B -> module-alsa-source device=loopcap:$B -> parecord" \
	"$CLI_TMP/rec.raw" 440 1 ||
	srv_fail "aplay -> parecord: the tone is not intact" "$CLI_TMP/pulse.log"
grep -i "underrun\|overrun" "$CLI_TMP/pulse.log" | sed 's/^/pulseaudio: /' | head -5 || true
echo "PASS"
