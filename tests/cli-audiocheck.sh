#!/bin/sh
# tests/audiocheck, which the other tests and the bench rely on, must see
# every kind of damage.  compare: a flipped byte, a dropout, a shift, a
# missing start or end, noise after the data, a wrong silence value.  tone:
# a click (a few frames lost), a dropout, a wrong frequency or length,
# silence.  find-offset: where the data landed, a changed byte, a lost head.
# gen/runs: the values written are the values read back, run by run.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

T=$CLI_TMP
# 800 frames of 4 bytes, no two alike and none silent: the counts below
# are exact (random noise would let a shifted frame match now and then).
perl -e 'print pack("s<*", map { ($_ * 37 + 1, -$_ * 41 - 2) } 0 .. 799)' >"$T/p.raw"
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

# silent
"$AUDIOCHECK" silent "$T/silent" 0000 >/dev/null || fail "silent rejects silence"
rc=0
"$AUDIOCHECK" silent "$T/good" 0000 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "silent on sound: exit $rc, want 1"
rc=0
"$AUDIOCHECK" silent /dev/null 0000 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "silent on an empty file: exit $rc, want 1"
head -c 64 /dev/zero | tr '\0' '\200' >"$T/u8"
"$AUDIOCHECK" silent "$T/u8" 80 >/dev/null || fail "silent rejects U8 silence"
pass "silent"

# silence / frame-bytes follow alsa-lib.
[ "$("$AUDIOCHECK" silence U8)" = 80 ] || fail "silence U8"
[ "$("$AUDIOCHECK" silence U16_LE)" = 0080 ] || fail "silence U16_LE"
[ "$("$AUDIOCHECK" silence U16_BE)" = 8000 ] || fail "silence U16_BE"
[ "$("$AUDIOCHECK" silence S24_3BE)" = 000000 ] || fail "silence S24_3BE"
[ "$("$AUDIOCHECK" frame-bytes S24_3LE 8)" = 24 ] || fail "frame-bytes S24_3LE 8"
[ "$("$AUDIOCHECK" frame-bytes FLOAT64_BE 32)" = 256 ] || fail "frame-bytes FLOAT64_BE 32"
"$AUDIOCHECK" silence NOPE >/dev/null 2>&1 && fail "silence NOPE succeeded"
pass "silence, frame-bytes"

# tone: a clean 1 s 1000 Hz tone passes; a click or a dropout is counted,
# a wrong frequency or length or silence fails.
sox -V1 -n -r 48000 -c 2 -e signed -b 16 -t raw "$T/tone" synth 1 sine 1000 vol 0.5 \
	pad 0.2 0.2 || fail "sox could not make a tone"
# tone_expect RC PATTERN NAME FILE [FREQ SECS]: exit RC, output matching PATTERN.
tone_expect() {
	rc=0
	"$AUDIOCHECK" tone "$4" 48000 2 ${5:+"$5"} ${6:+"$6"} >"$T/out" 2>&1 || rc=$?
	if [ $rc -ne "$1" ] || ! grep -q "$2" "$T/out"; then
		cat "$T/out" >&2
		fail "tone on $3: exit $rc, want $1 and '$2'"
	fi
	pass "tone, $3: exit $rc: $(head -1 "$T/out")"
}
tone_expect 0 ' freq_hz=1000.00 .* gaps=0 gap_ms=0.0 clicks=0$' "a clean tone" "$T/tone" 1000 1
# 5 frames cut out half-way: a jump in the waveform.
{ head -c $((33600 * 4)) "$T/tone"; tail -c +$((33605 * 4 + 1)) "$T/tone"; } >"$T/click"
tone_expect 0 ' gaps=0 .* clicks=1$' "5 frames lost (a click)" "$T/click" 1000 1
grep -qx 'damage=1 at_s=0.7000' "$T/out" || { cat "$T/out" >&2; fail "tone: where the click is"; }
# 100 frames (2.1 ms) of silence half-way.
{ head -c $((33600 * 4)) "$T/tone"; head -c 400 /dev/zero
  tail -c +$((33700 * 4 + 1)) "$T/tone"; } >"$T/drop"
tone_expect 0 ' gaps=1 gap_ms=2.1 clicks=2$' "a 100-frame dropout" "$T/drop" 1000 1
grep -qx 'damage=1 at_s=0.7000' "$T/out" || { cat "$T/out" >&2; fail "tone: where the dropout is"; }
# 25 ms of silence inserted half-way (a client's underrun): the frequency
# is the sound's, the dropout one of its own (as a machine's stall makes
# them, the tests judge it, not audiocheck).
{ head -c $((33600 * 4)) "$T/tone"; head -c 4800 /dev/zero
  tail -c +$((33600 * 4 + 1)) "$T/tone"; } >"$T/drop25"
tone_expect 0 ' freq_hz=1000.0[0-9] .* gaps=1 gap_ms=25.0 ' "a 25 ms dropout" "$T/drop25" 1000 1
tone_expect 1 'frequency 1000.00 Hz, want 1100.00 Hz' "the wrong frequency" "$T/tone" 1100 1
tone_expect 1 'tone lasts 1.0000 s, want 1.5000 s' "the wrong length" "$T/tone" 1000 1.5
tone_expect 1 'onset_s=none' "silence" "$T/silent"

# find-offset: the data found where it is, bit-exact or not.
# fo_expect RC PATTERN NAME FILE: exit RC, output matching PATTERN.
fo_expect() {
	rc=0
	"$AUDIOCHECK" find-offset "$T/p.raw" "$4" >"$T/out" 2>&1 || rc=$?
	if [ $rc -ne "$1" ] || ! grep -q "$2" "$T/out"; then
		cat "$T/out" >&2
		fail "find-offset on $3: exit $rc, want $1 and '$2'"
	fi
	pass "find-offset, $3: exit $rc: $(head -1 "$T/out")"
}
fo_expect 0 '^found=1 played=800 captured=1000 offset=100 head_lost=0 tail_lost=0 differ=0 ' \
	"silence + data + silence" "$T/good"
grep -q ' exact=1$' "$T/out" || fail "find-offset on silence + data + silence: not exact"
fo_expect 0 ' differ=1 silenced=0 .* extra=0 exact=0$' "a changed byte" "$T/flip"
{ tail -c +401 "$T/p.raw"; cat "$T/z100"; } >"$T/nohead"
fo_expect 0 ' offset=-100 head_lost=100 tail_lost=0 differ=0 .* exact=0$' "100 frames lost" \
	"$T/nohead"
fo_expect 0 ' differ=400 silenced=10 .* extra=10 exact=0$' "10 frames of silence inserted" \
	"$T/gap"
fo_expect 1 '^found=0 ' "only silence" "$T/silent"

# gen / runs: constant signals read back as the runs they were written as.
"$AUDIOCHECK" gen "$T/g1" S16_LE 2 10 1000 -3000 || fail "gen S16_LE"
"$AUDIOCHECK" gen "$T/g2" S16_LE 2 5 0 32767 || fail "gen S16_LE"
cat "$T/g1" "$T/g2" "$T/g1" >"$T/g"
runs=$("$AUDIOCHECK" runs "$T/g" S16_LE 2 | tr '\n' ';')
[ "$runs" = "0 10 1000 -3000;10 5 0 32767;15 10 1000 -3000;" ] || fail "runs S16_LE: $runs"
"$AUDIOCHECK" gen "$T/g" FLOAT_LE 1 3 -0.375 || fail "gen FLOAT_LE"
[ "$(od -An -tx1 "$T/g" | tr -d ' \n')" = 0000c0be0000c0be0000c0be ] || fail "gen FLOAT_LE bytes"
[ "$("$AUDIOCHECK" runs "$T/g" FLOAT_LE 1)" = "0 3 -0.375" ] || fail "runs FLOAT_LE"
"$AUDIOCHECK" gen "$T/g" U8 1 4 128 && [ "$("$AUDIOCHECK" runs "$T/g" U8 1)" = "0 4 128" ] ||
	fail "gen/runs U8"
"$AUDIOCHECK" gen "$T/g" S32_LE 2 1 -2147483648 2147483647 &&
	[ "$("$AUDIOCHECK" runs "$T/g" S32_LE 2)" = "0 1 -2147483648 2147483647" ] ||
	fail "gen/runs S32_LE"
rc=0
"$AUDIOCHECK" gen "$T/g" S8 1 4 128 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "gen S8 128 (out of range): exit $rc, want 2"
rc=0
"$AUDIOCHECK" runs "$T/odd" S16_LE 2 >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "runs on half a frame: exit $rc, want 2"
pass "gen, runs"
echo "PASS"
