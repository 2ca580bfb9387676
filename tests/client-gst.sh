#!/bin/sh
# GStreamer's alsasink and alsasrc with device=: a file played by alsasink
# into loop:N arrives bit-exact at arecord on loopcap:N, and what aplay
# plays into loop:M arrives bit-exact in a file written from alsasrc on
# loopcap:M.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

command -v gst-launch-1.0 >/dev/null 2>&1 ||
	skip "gst-launch-1.0 is not installed (gstreamer1.0-tools)"
for e in alsasrc alsasink wavparse filesrc filesink; do
	gst-inspect-1.0 "$e" >/dev/null 2>&1 ||
		skip "GStreamer element $e is missing (gstreamer1.0-alsa, -plugins-base)"
done

F=S16_LE R=48000 C=2
caps="audio/x-raw,format=S16LE,rate=$R,channels=$C,layout=interleaved"
cli_gen "$CLI_TMP/noise.raw" $F $R $C 0.5
# A WAV file, as users play (rawaudioparse's segment rounding makes
# audiobasesink clip the first frame of a raw file: GStreamer's, not ours).
sox -V1 -t raw -r $R -c $C -e signed -b 16 -L "$CLI_TMP/noise.raw" "$CLI_TMP/noise.wav" ||
	fail "sox could not write a WAV file"

# alsasink: gst-launch plays the WAV file into loop:41, arecord records loopcap:41.
dev=$(cli_dev loop 41)
rm -f "$CLI_TMP/rec.raw"
cli_bg arecord -q -D "$(cli_dev loopcap 41)" -t raw -f $F -r $R -c $C -s $((R * 2)) \
	"$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
cli_wait_growth "$CLI_TMP/rec.raw" "$rpid" || fail "arecord did not start"
cli_client gst-launch-1.0 -q filesrc location="$CLI_TMP/noise.wav" ! wavparse ! \
	alsasink "device=$dev" >"$CLI_TMP/gst.out" 2>&1 || {
	cat "$CLI_TMP/gst.out" >&2
	fail "gst-launch ... ! alsasink device=$dev failed"
}
cli_wait "$rpid"
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/rec.err" >&2; fail "arecord exited with $CLI_RC"; }
"$AUDIOCHECK" compare "$CLI_TMP/noise.raw" "$CLI_TMP/rec.raw" 4 0000 >"$CLI_TMP/cmp" 2>&1 || {
	cat "$CLI_TMP/cmp" >&2
	cli_keep "$CLI_TMP/noise.raw" "$CLI_TMP/rec.raw"
	fail "alsasink device=$dev -> arecord is not bit-exact"
}
pass "alsasink device=$dev: $(cat "$CLI_TMP/cmp")"

# alsasrc: gst-launch records loopcap:42 (2 s in 10 ms buffers), aplay plays.
dev=$(cli_dev loopcap 42)
rm -f "$CLI_TMP/rec.raw"
cli_bg gst-launch-1.0 -q alsasrc "device=$dev" num-buffers=200 ! "$caps" ! \
	filesink location="$CLI_TMP/rec.raw" >"$CLI_TMP/gst.out" 2>&1
gpid=$CLI_BG
cli_wait_growth "$CLI_TMP/rec.raw" "$gpid" || {
	cat "$CLI_TMP/gst.out" >&2
	fail "gst-launch alsasrc device=$dev did not start recording"
}
cli_client aplay -q -D "$(cli_dev loop 42)" -t raw -f $F -r $R -c $C "$CLI_TMP/noise.raw" ||
	fail "aplay into loop:42 failed"
cli_wait "$gpid"
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/gst.out" >&2; fail "gst-launch alsasrc exited with $CLI_RC"; }
"$AUDIOCHECK" compare "$CLI_TMP/noise.raw" "$CLI_TMP/rec.raw" 4 0000 >"$CLI_TMP/cmp" 2>&1 || {
	cat "$CLI_TMP/cmp" >&2
	cli_keep "$CLI_TMP/noise.raw" "$CLI_TMP/rec.raw"
	fail "aplay -> alsasrc device=$dev is not bit-exact"
}
pass "alsasrc device=$dev: $(cat "$CLI_TMP/cmp")"
echo "PASS"
