#!/bin/sh
# mpv with its ALSA output on a cable: a 440 Hz tone in a WAV file played by
# "mpv --ao=alsa --audio-device=alsa/plugloop:N" arrives at arecord on
# loopcap:N with the right frequency and length, no dropout, no click.
# mpv's ALSA buffer is 100 ms by default: on a loaded machine mpv runs late
# now and then and underruns (a gap in the tone, "underrun" in its log), on
# any device; this test gives it 500 ms, as docs/clients.md advises.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/server.sh"

command -v mpv >/dev/null 2>&1 || skip "mpv is not installed (Debian package mpv)"

N=67
# libpulse (linked into mpv) makes its runtime directory under
# XDG_RUNTIME_DIR, or else a /tmp/pulse-* one that nobody removes.
export HOME="$CLI_TMP" XDG_CONFIG_HOME="$CLI_TMP/config" XDG_RUNTIME_DIR="$CLI_TMP/run"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
tone_wav "$CLI_TMP/tone.wav" 440 1
rm -f "$CLI_TMP/rec.raw"
cli_bg arecord -q -D "$(cli_dev loopcap $N)" -t raw -f S16_LE -r 48000 -c 2 -s $((48000 * 4)) \
	"$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
rec_wait "$CLI_TMP/rec.raw" $rpid "$CLI_TMP/rec.err" "arecord on loopcap:$N"
# The positional form: mpv's option value keeps its '=' but a card key
# reads more simply so.  --no-config: nothing of the user's mpv.conf.
cli_client mpv --no-config --no-video --no-terminal --msg-level=all=warn \
	--log-file="$CLI_TMP/mpv.log" --ao=alsa --alsa-buffer-time=500000 \
	--audio-device="alsa/plugloop:$N,$LOOP_CARD" "$CLI_TMP/tone.wav" >"$CLI_TMP/mpv.out" 2>&1 || {
	cat "$CLI_TMP/mpv.out" >&2
	fail "mpv --audio-device=alsa/plugloop:$N,$LOOP_CARD failed"
}
cli_wait $rpid
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/rec.err" >&2; fail "arecord exited with $CLI_RC"; }
grep -i "underrun detected" "$CLI_TMP/mpv.log" | sed 's/^/mpv: /' || true
tone_check "mpv --audio-device=alsa/plugloop:$N -> arecord loopcap:$N" "$CLI_TMP/rec.raw" 440 1 || {
	grep -E "ao/alsa|\[ao\]" "$CLI_TMP/mpv.log" | tail -n 20 >&2
	fail "mpv -> arecord: the tone is not intact"
}
echo "PASS"
