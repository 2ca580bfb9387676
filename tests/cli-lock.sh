#!/bin/sh
# The parameter lock with real clients: the first end to configure fixes the
# cable's format/rate/channels; the raw device then refuses other values,
# plug converts; once both ends have closed the cable is free again.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

N=2
PLAY=$(cli_dev loop $N) CAP=$(cli_dev loopcap $N)
sine="$CLI_TMP/sine.raw"
sox -V1 -n -r 48000 -c 2 -e signed -b 16 -L -t raw "$sine" synth 3 sine 440 vol 0.5 ||
	fail "sox could not make the test signal"

# 1. aplay S16_LE 48000 Hz stereo holds the cable.
cli_bg aplay -v -D "$PLAY" -t raw -f S16_LE -r 48000 -c 2 "$sine" 2>"$CLI_TMP/play.err"
ppid_=$CLI_BG
cli_wait_text "$CLI_TMP/play.err" buffer_size "$ppid_" || {
	cat "$CLI_TMP/play.err" >&2
	fail "aplay -D $PLAY did not configure"
}

# The raw capture end is pinned: another format or channel count fails.
rc=0
cli_client arecord -D "$CAP" -t raw -f S32_LE -r 48000 -c 2 -d 1 "$CLI_TMP/x.raw" \
	2>"$CLI_TMP/rec.err" || rc=$?
[ $rc -ne 0 ] || fail "arecord -D $CAP -f S32_LE succeeded on a cable locked to S16_LE"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "arecord -f S32_LE hung instead of failing"
cli_expect_text "$CLI_TMP/rec.err" "arecord -f S32_LE" "format non available" "S16_LE"
pass "raw loopcap refuses S32_LE on an S16_LE cable (exit $rc)"

rc=0
cli_client arecord -D "$CAP" -t raw -f S16_LE -r 48000 -c 1 -d 1 "$CLI_TMP/x.raw" \
	2>"$CLI_TMP/rec.err" || rc=$?
[ $rc -ne 0 ] || fail "arecord -D $CAP -c 1 succeeded on a stereo-locked cable"
cli_expect_text "$CLI_TMP/rec.err" "arecord -c 1" "Channels count non available"
pass "raw loopcap refuses mono on a stereo cable (exit $rc)"

# plugloopcap converts: S32_LE 44100 Hz mono of the 0.5 sine, not silence.
rm -f "$CLI_TMP/conv.raw"
cli_client arecord -q -D "plugloopcap:SUBDEV=$N,CARD=$LOOP_CARD" -t raw -f S32_LE -r 44100 \
	-c 1 -d 1 "$CLI_TMP/conv.raw" 2>"$CLI_TMP/rec.err" || {
	cat "$CLI_TMP/rec.err" >&2
	fail "arecord -D plugloopcap -f S32_LE -r 44100 -c 1 failed"
}
bytes=$(wc -c <"$CLI_TMP/conv.raw")
[ "$bytes" -eq $((44100 * 4)) ] || fail "plugloopcap recorded $bytes bytes, want $((44100 * 4))"
rc=0
"$AUDIOCHECK" silent "$CLI_TMP/conv.raw" 00000000 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "plugloopcap recorded only silence (audiocheck silent: $rc)"
amp=$(cli_max_amplitude "$CLI_TMP/conv.raw" -e signed -b 32 -L -c 1 -r 44100)
awk -v a="$amp" 'BEGIN { exit !(a >= 0.4 && a <= 0.6) }' ||
	fail "plugloopcap: peak amplitude '$amp', the sine played has 0.5"
pass "plugloopcap S32_LE 44100 Hz mono records the converted sine (peak $amp)"

cli_wait "$ppid_"
[ "$CLI_RC" -eq 0 ] || fail "aplay exited with $CLI_RC (other ends must not disturb it)"

# 2. Both ends closed: the cable takes new parameters, bit-exact.
cli_roundtrip "relocked to S32_LE 44100 Hz mono" "$CAP" "$PLAY" S32_LE 44100 1 0.3

# 3. arecord's defaults (U8, 8000 Hz, mono) opened first lock the cable.
rm -f "$CLI_TMP/u8.raw"
cli_bg arecord -D "$CAP" -t raw -d 2 "$CLI_TMP/u8.raw" 2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
cli_wait_growth "$CLI_TMP/u8.raw" "$rpid" || {
	cat "$CLI_TMP/rec.err" >&2
	fail "arecord with default parameters did not start"
}
cli_expect_text "$CLI_TMP/rec.err" "arecord's defaults" "Unsigned 8 bit, Rate 8000 Hz, Mono"
sox -V1 -n -r 8000 -c 1 -e signed -b 16 -L -t raw "$CLI_TMP/s16.raw" synth 0.5 sine 440 vol 0.5
rc=0
cli_client aplay -D "$PLAY" -t raw -f S16_LE -r 8000 -c 1 "$CLI_TMP/s16.raw" \
	2>"$CLI_TMP/play.err" || rc=$?
[ $rc -ne 0 ] || fail "raw aplay of S16_LE succeeded on a cable locked to U8"
cli_expect_text "$CLI_TMP/play.err" "aplay -f S16_LE" "format non available" "U8"
pass "raw aplay S16_LE refused on a U8 cable (exit $rc)"
# plugloop converts into the U8 capture.
cli_client aplay -q -D "plugloop:SUBDEV=$N,CARD=$LOOP_CARD" -t raw -f S16_LE -r 8000 -c 1 \
	"$CLI_TMP/s16.raw" 2>"$CLI_TMP/play.err" || {
	cat "$CLI_TMP/play.err" >&2
	fail "aplay -D plugloop S16_LE into a U8 cable failed"
}
cli_wait "$rpid"
[ "$CLI_RC" -eq 0 ] || fail "arecord with default parameters exited with $CLI_RC"
rc=0
"$AUDIOCHECK" silent "$CLI_TMP/u8.raw" 80 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "the U8 capture did not hear plugloop's S16_LE sine"
amp=$(cli_max_amplitude "$CLI_TMP/u8.raw" -e unsigned -b 8 -c 1 -r 8000)
awk -v a="$amp" 'BEGIN { exit !(a >= 0.4 && a <= 0.6) }' ||
	fail "U8 capture: peak amplitude '$amp', the sine played has 0.5"
pass "plugloop S16_LE -> U8 cable -> arecord defaults (peak $amp)"
echo "PASS"
