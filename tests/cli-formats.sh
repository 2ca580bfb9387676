#!/bin/sh
# Every sample format through the raw device, bit-exact, over 1, 2, 8 and 32
# channels and 8000, 44100, 96000 and 768000 Hz (each format gets one pair;
# together they cover every channel count and every rate, keeping the data
# rate low enough for 100+ ms buffers).  A capture with nobody playing
# records the format's silence exactly as alsa-lib defines it.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

# The silence values the contract names, cross-checked against alsa-lib.
[ "$("$AUDIOCHECK" silence U8)" = 80 ] || fail "alsa-lib's U8 silence is not 0x80"
# mu-law 0x7f and 0xff both decode to 0; alsa-lib 1.2.8 fills 0x7f.
case $("$AUDIOCHECK" silence MU_LAW) in
7f|ff) ;;
*) fail "alsa-lib's MU_LAW silence is $("$AUDIOCHECK" silence MU_LAW), not 0x7f/0xff" ;;
esac
case $("$AUDIOCHECK" silence A_LAW) in
55|d5) ;;
*) fail "alsa-lib's A_LAW silence is $("$AUDIOCHECK" silence A_LAW), not 0x55/0xd5" ;;
esac
[ "$("$AUDIOCHECK" silence S16_LE)" = 0000 ] || fail "alsa-lib's S16_LE silence is not 0"

n=0
while read -r fmt ch rate; do
	n=$((n + 1))
	dev_n=$((20 + n))
	# A new cable, nobody playing: the capture is the format's silence.
	sil=$("$AUDIOCHECK" silence "$fmt")
	rm -f "$CLI_TMP/sil.raw"
	cli_client arecord -q -D "$(cli_dev loopcap $dev_n)" -t raw -f "$fmt" -r "$rate" \
		-c "$ch" -s $((rate / 10)) "$CLI_TMP/sil.raw" 2>"$CLI_TMP/sil.err" || {
		cat "$CLI_TMP/sil.err" >&2
		fail "$fmt: arecord with nobody playing failed"
	}
	fb=$("$AUDIOCHECK" frame-bytes "$fmt" "$ch")
	bytes=$(wc -c <"$CLI_TMP/sil.raw")
	[ "$bytes" -eq $((rate / 10 * fb)) ] ||
		fail "$fmt: recorded $bytes bytes, asked for $((rate / 10)) frames of $fb"
	"$AUDIOCHECK" silent "$CLI_TMP/sil.raw" "$sil" >/dev/null ||
		fail "$fmt: a capture with nobody playing is not $fmt silence ($sil)"
	pass "$fmt: nobody playing -> $bytes bytes of silence ($sil)"

	cli_roundtrip "$fmt" "$(cli_dev loopcap $dev_n)" "$(cli_dev loop $dev_n)" \
		"$fmt" "$rate" "$ch" 0.2 "" "" 0.2
done <<EOF
S8 32 96000
U8 1 768000
S16_LE 2 44100
S16_BE 8 8000
S24_LE 1 96000
S24_BE 2 8000
S24_3LE 8 44100
S24_3BE 32 8000
S32_LE 1 768000
S32_BE 2 96000
FLOAT_LE 8 96000
FLOAT_BE 32 8000
FLOAT64_LE 1 44100
FLOAT64_BE 2 96000
MU_LAW 2 768000
A_LAW 32 44100
EOF
[ $n -eq 16 ] || fail "ran $n formats, expected 16"
echo "PASS"
