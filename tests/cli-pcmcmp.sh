#!/bin/sh
# The comparator the other cli tests rely on must see every kind of damage:
# a flipped byte, a dropout, a shift, a missing start or end, noise after
# the data, a wrong silence value.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

T=$CLI_TMP
cli_gen "$T/p.raw" S16_LE 8000 2 0.1		# 800 frames of 4 bytes
head -c 400 /dev/zero >"$T/z100"		# 100 frames of silence
head -c 4 /dev/zero >"$T/z1"
cat "$T/z100" "$T/p.raw" "$T/z100" >"$T/good"

# expect RC NAME FILE [FRAME_BYTES SILENCE]
expect() {
	rc=0
	"$AUDIOCHECK" compare "$T/p.raw" "$3" "${4:-4}" "${5:-0000}" >"$T/out" 2>&1 || rc=$?
	[ $rc -eq "$1" ] || { cat "$T/out" >&2; fail "audiocheck compare on $2: exit $rc, want $1"; }
	pass "$2: exit $rc: $(head -1 "$T/out")"
}
expect 0 "silence + data + silence" "$T/good"
cat "$T/z1" "$T/p.raw" "$T/z1" >"$T/edge"
expect 0 "one frame of silence each side" "$T/edge"
expect 0 "per-sample silence pattern, 2-byte frames" "$T/good" 2 0000

cp "$T/good" "$T/flip"
printf '\001' | dd of="$T/flip" bs=1 seek=2001 conv=notrunc 2>/dev/null
cmp -s "$T/flip" "$T/good" && printf '\002' | dd of="$T/flip" bs=1 seek=2001 conv=notrunc 2>/dev/null
expect 1 "a changed byte" "$T/flip"

{ head -c 2000 "$T/good"; head -c 40 /dev/zero; tail -c +2001 "$T/good"; } >"$T/gap"
expect 1 "a 10-frame dropout" "$T/gap"
{ head -c 2000 "$T/good"; tail -c +2041 "$T/good"; } >"$T/lost"
expect 1 "10 frames lost" "$T/lost"
{ head -c 40 "$T/p.raw" | tail -c 20; cat "$T/p.raw" "$T/z100"; } >"$T/junk"
expect 1 "other sound before the data" "$T/junk"
tail -c +401 "$T/good" >"$T/nolead"
expect 1 "no silence before the data" "$T/nolead"
head -c $((400 + 3200)) "$T/good" >"$T/notail"
expect 1 "no silence after the data" "$T/notail"
head -c 3000 "$T/good" >"$T/short"
expect 1 "the capture ends inside the data" "$T/short"
{ cat "$T/good"; head -c 8 "$T/p.raw" | tail -c 4; cat "$T/z1"; } >"$T/after"
expect 1 "sound after the data" "$T/after"
cat "$T/z100" "$T/z100" >"$T/silent"
expect 1 "only silence" "$T/silent"
expect 1 "the wrong silence value (U8's 80)" "$T/good" 4 80
head -c 2 "$T/good" >"$T/odd"
expect 1 "half a frame" "$T/odd"
expect 2 "a frame size the pattern does not divide" "$T/good" 3 0000

# --silent
"$AUDIOCHECK" silent "$T/silent" 0000 >/dev/null || fail "--silent rejects silence"
rc=0
"$AUDIOCHECK" silent "$T/good" 0000 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "--silent on sound: exit $rc, want 1"
rc=0
"$AUDIOCHECK" silent /dev/null 0000 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "--silent on an empty file: exit $rc, want 1"
head -c 64 /dev/zero | tr '\0' '\200' >"$T/u8"
"$AUDIOCHECK" silent "$T/u8" 80 >/dev/null || fail "--silent rejects U8 silence"
pass "--silent"

# --silence / --frame-bytes follow alsa-lib.
[ "$("$AUDIOCHECK" silence U8)" = 80 ] || fail "--silence U8"
[ "$("$AUDIOCHECK" silence U16_LE)" = 0080 ] || fail "--silence U16_LE"
[ "$("$AUDIOCHECK" silence U16_BE)" = 8000 ] || fail "--silence U16_BE"
[ "$("$AUDIOCHECK" silence S24_3BE)" = 000000 ] || fail "--silence S24_3BE"
[ "$("$AUDIOCHECK" frame-bytes S24_3LE 8)" = 24 ] || fail "--frame-bytes S24_3LE 8"
[ "$("$AUDIOCHECK" frame-bytes FLOAT64_BE 32)" = 256 ] || fail "--frame-bytes FLOAT64_BE 32"
"$AUDIOCHECK" silence NOPE >/dev/null 2>&1 && fail "--silence NOPE succeeded"
pass "--silence, --frame-bytes"
echo "PASS"
