#!/bin/sh
# alsa-loopback tap and watch's levels, against real aplay/arecord.  The
# tap's samples are bit-exact against what the capture end recorded in the
# same run (and both against what was played), in S16 and in formats the
# WAV file must convert (checked back through sox); a tap of a shared
# playback end hears the same mix as the capture; taps stopped (SIGSTOP)
# or killed with -9 mid-stream neither block nor disturb the round trip
# and leave nothing behind; the WAV sizes are patched in a file and maximal
# in a pipe; watch shows a sine's peak and RMS, silence and clipping.
set -eu
. "$top_srcdir/tests/lib/ctl.sh"
. "$top_srcdir/tests/lib/cli.sh"
TAPS=
K=$LOOP_CARD
TOOL="$top_builddir/alsa-loopback"
T=$CTL_TMP
R=48000 C=2

# tap_bg OUT SUB [OPTS...]: start a tap of loop:SUB into OUT (stderr in
# OUT.err) and wait until it follows the cable; its pid in TAP.
tap_bg() {
	_out=$1 _sub=$2
	shift 2
	"$TOOL" --card "$K" tap "$@" "$_sub" "$_out" 2>"$_out.err" &
	TAP=$!
	TAPS="$TAPS $TAP"
	wait_for "$_out.err" "alsa-loopback: tap: loop:$_sub \(card $K\): .*" 5 || {
		cat "$_out.err" >&2
		fail "the tap of loop:$_sub did not start"
	}
}
# tap_end PID: wait for a tap to exit; its status in TAP_RC.
tap_end() {
	TAP_RC=0
	wait "$1" || TAP_RC=$?
}
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
size() { wc -c < "$1" | tr -d ' '; }
# first_sound FILE FRAME_BYTES: byte offset of the first frame that is not all zero.
first_sound() {
	_b=$(cmp "$1" /dev/zero 2>/dev/null | sed -n 's/.* byte \([0-9]*\).*/\1/p')
	[ -n "$_b" ] || { echo -1; return; }
	echo $(( (_b - 1) / $2 * $2 ))
}
# same_sound A B FRAME_BYTES: from their first sound on, A and B are equal
# over the shorter one's length (both end in silence).
same_sound() {
	_a=$(first_sound "$1" "$3") _b=$(first_sound "$2" "$3")
	[ "$_a" -ge 0 ] && [ "$_b" -ge 0 ] || return 1
	_la=$(( $(size "$1") - _a )) _lb=$(( $(size "$2") - _b ))
	_n=$(( _la < _lb ? _la : _lb ))
	[ "$_n" -gt 0 ] && cmp -s -n "$_n" -i "$_a:$_b" "$1" "$2"
}

# --- usage ---------------------------------------------------------------
"$TOOL" --help > "$T/help"
for w in tap --device --duration PEAK RMS LEVEL "WAV FILES"; do
	grep -q -- "$w" "$T/help" || fail "--help does not document $w"
done
for args in "tap 1" "tap --device 2 1 x.wav" "tap --duration 0 1 x.wav" "tap -1 x.wav" \
	"tap 4096 x.wav"; do
	rc=0
	# shellcheck disable=SC2086
	"$TOOL" --card "$K" $args 2>/dev/null || rc=$?
	[ "$rc" -eq 2 ] || fail "alsa-loopback $args: exit $rc, expected 2"
done
[ ! -e x.wav ] || fail "a refused tap created its file"

# --- S16: the tap against arecord, a second tap to a pipe -----------------
cli_gen "$T/noise.raw" S16_LE $R $C 1.5
cli_bg arecord -q -D "$(cli_dev loopcap 1)" -t raw -f S16_LE -r $R -c $C -d 4 "$T/rec.raw"
RPID=$CLI_BG
cli_wait_growth "$T/rec.raw" "$RPID" || fail "arecord did not start"
tap_bg "$T/tap.wav" 1
TP=$TAP
# To a pipe, for one second: the header must say the largest size.
"$TOOL" --card "$K" tap --duration 1 1 - 2>"$T/pipe.err" | cat > "$T/pipe.wav" &
PP=$!
wait_for "$T/pipe.err" "alsa-loopback: tap: loop:1 .*" 5 || fail "the tap to a pipe did not start"
cli_client aplay -q -D "$(cli_dev loop 1)" -t raw -f S16_LE -r $R -c $C "$T/noise.raw" ||
	fail "aplay into loop:1"
sleep 0.2
kill -INT "$TP"
tap_end "$TP"
[ "$TAP_RC" -eq 0 ] || { cat "$T/tap.wav.err" >&2; fail "tap exit status $TAP_RC after SIGINT"; }
cli_wait "$RPID"
[ "$CLI_RC" -eq 0 ] || fail "arecord exit status $CLI_RC"
wait "$PP"
# A valid WAV with its real sizes: PCM, 2 ch, 48000 Hz, 16 bits.
S=$(size "$T/tap.wav")
[ "$(head -c 4 "$T/tap.wav")" = RIFF ] && [ "$(u32 "$T/tap.wav" 4)" -eq $((S - 8)) ] &&
	[ "$(u32 "$T/tap.wav" 40)" -eq $((S - 44)) ] || fail "tap.wav: RIFF sizes not patched"
[ "$(u16 "$T/tap.wav" 20) $(u16 "$T/tap.wav" 22) $(u32 "$T/tap.wav" 24) $(u16 "$T/tap.wav" 34)" = \
	"1 2 48000 16" ] || fail "tap.wav: not PCM 2 ch 48000 Hz 16 bits"
tail -c +45 "$T/tap.wav" > "$T/tap.raw"
"$AUDIOCHECK" compare "$T/noise.raw" "$T/rec.raw" 4 0000 > "$T/cmp" 2>&1 || {
	cat "$T/cmp" >&2; fail "aplay -> arecord is not bit-exact with a tap on the cable"; }
"$AUDIOCHECK" compare "$T/noise.raw" "$T/tap.raw" 4 0000 > "$T/cmp" 2>&1 || {
	cat "$T/cmp" >&2; fail "the tap is not bit-exact"; }
pass "tap: $(cat "$T/cmp")"
same_sound "$T/tap.raw" "$T/rec.raw" 4 || fail "the tap and arecord heard different samples"
pass "the tap and arecord heard the same samples"
# The pipe: exactly one second, the largest sizes in the header.
[ "$(size "$T/pipe.wav")" -eq $((44 + R * 4)) ] ||
	fail "tap --duration 1 to a pipe wrote $(size "$T/pipe.wav") bytes, not $((44 + R * 4))"
[ "$(u32 "$T/pipe.wav" 40)" -ge 2000000000 ] && [ "$(u32 "$T/pipe.wav" 4)" -eq $(($(u32 "$T/pipe.wav" 40) + 36)) ] ||
	fail "tap to a pipe: header sizes $(u32 "$T/pipe.wav" 4) $(u32 "$T/pipe.wav" 40)"
pass "tap --duration 1 to a pipe: 1 s, maximal header"

# --- a tap never blocks or disturbs the writer ----------------------------
# One tap stopped (SIGSTOP) through the whole stream, one killed -9 in the
# middle: the round trip stays bit-exact, the stopped one, resumed when the
# stream has ended, catches up from the ring and ends by itself once the
# ends close, and nothing is left.  A ring holds twice the larger buffer (a
# second at least): the recorder's 2.5 s buffer makes it hold 2.5 s clear
# of the writer, the whole 1.2 s stream.
cli_gen "$T/noise2.raw" S16_LE $R $C 1.2
cli_bg arecord -q -D "$(cli_dev loopcap 2)" -t raw -f S16_LE -r $R -c $C -B 2500000 -d 3 \
	"$T/rec2.raw"
RPID=$CLI_BG
cli_wait_growth "$T/rec2.raw" "$RPID" || fail "arecord did not start"
tap_bg "$T/stopped.wav" 2
SP=$TAP
kill -STOP "$SP"
tap_bg "$T/killed.wav" 2
KP=$TAP
cli_bg aplay -q -D "$(cli_dev loop 2)" -t raw -f S16_LE -r $R -c $C "$T/noise2.raw"
APID=$CLI_BG
sleep 0.6
kill -9 "$KP" 2>/dev/null || fail "the tap to be killed had already ended: $(cat "$T/killed.wav.err" 2>/dev/null)"
tap_end "$KP"
cli_wait "$APID"
[ "$CLI_RC" -eq 0 ] || fail "aplay exit status $CLI_RC with taps on the cable"
kill -CONT "$SP"
cli_wait "$RPID"
[ "$CLI_RC" -eq 0 ] || fail "arecord exit status $CLI_RC"
"$AUDIOCHECK" compare "$T/noise2.raw" "$T/rec2.raw" 4 0000 > "$T/cmp" 2>&1 || {
	cat "$T/cmp" >&2; fail "a stopped and a killed tap disturbed aplay -> arecord"; }
pass "round trip with a stopped and a killed tap: $(cat "$T/cmp")"
[ "$(size "$T/killed.wav")" -gt 44 ] && [ "$(u32 "$T/killed.wav" 40)" -ge 2000000000 ] ||
	fail "the killed tap's file has no header with the largest size"
# The ends are gone: the cable is free, its segment removed.  The resumed
# tap heard the stream from the ring, bit-exact and in place (a machine that
# ran it late enough may have lost its head: silence), and ends by itself.
[ ! -e "$LOOP_SHM/alsa-loopback-$K.2" ] || fail "the segment of subdevice 2 was left behind"
for _i in $(seq 50); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SP" 2>/dev/null && fail "the resumed tap did not end when the cable was released"
tap_end "$SP"
[ "$TAP_RC" -eq 0 ] || { cat "$T/stopped.wav.err" >&2; fail "resumed tap: exit $TAP_RC"; }
tail -c +45 "$T/stopped.wav" > "$T/stopped.raw"
"$AUDIOCHECK" find-offset "$T/noise2.raw" "$T/stopped.raw" 4 > "$T/cmp" 2>&1 || {
	cat "$T/cmp" "$T/stopped.wav.err" >&2; fail "the resumed tap heard nothing of the stream"; }
kv() { sed -n "s/.* $1=\([-0-9]*\).*/\1/p" "$T/cmp"; }
heard=$(($(kv played) - $(kv head_lost) - $(kv tail_lost) - $(kv silenced)))
[ "$(kv differ)" = "$(kv silenced)" ] && [ "$(kv extra)" = 0 ] && [ "$(kv tail_lost)" = 0 ] &&
	[ "$heard" -ge $((R / 4)) ] || {
	cat "$T/cmp" "$T/stopped.wav.err" >&2
	fail "the resumed tap: not the stream's tail, bit-exact, in place (heard $heard frames)"; }
pass "a tap stopped through the stream catches up from the ring: the last $heard frames" \
	"bit-exact in place, the $(kv silenced) before overwritten"

# --- a shared playback end: the tap hears the mix -------------------------
cli_gen "$T/w1.raw" S16_LE $R $C 1
sox -V1 -n -r $R -c $C -e signed -b 16 -t raw "$T/w2.raw" synth 1 whitenoise vol 0.25
cli_bg arecord -q -D "$(cli_dev loopcap 3)" -t raw -f S16_LE -r $R -c $C -d 4 "$T/rec3.raw"
RPID=$CLI_BG
cli_wait_growth "$T/rec3.raw" "$RPID" || fail "arecord did not start"
tap_bg "$T/mix.wav" 3
MP=$TAP
cli_bg aplay -q -D "$(cli_dev sharedloop 3)" -t raw -f S16_LE -r $R -c $C "$T/w1.raw"
A1=$CLI_BG
sleep 0.3
cli_bg aplay -q -D "$(cli_dev sharedloop 3)" -t raw -f S16_LE -r $R -c $C "$T/w2.raw"
A2=$CLI_BG
cli_wait "$A1"; [ "$CLI_RC" -eq 0 ] || fail "writer 1 exit $CLI_RC"
cli_wait "$A2"; [ "$CLI_RC" -eq 0 ] || fail "writer 2 exit $CLI_RC"
sleep 0.2
kill -INT "$MP"
tap_end "$MP"
[ "$TAP_RC" -eq 0 ] || fail "shared tap exit $TAP_RC"
cli_wait "$RPID"
tail -c +45 "$T/mix.wav" > "$T/mix.raw"
same_sound "$T/mix.raw" "$T/rec3.raw" 4 || fail "the tap of a shared end did not hear what the capture heard"
# ... and that is a mix, not one writer.
"$AUDIOCHECK" compare "$T/w1.raw" "$T/mix.raw" 4 0000 >/dev/null 2>&1 && fail "the tap heard writer 1 alone"
"$AUDIOCHECK" compare "$T/w2.raw" "$T/mix.raw" 4 0000 >/dev/null 2>&1 && fail "the tap heard writer 2 alone"
pass "a tap of sharedloop:3 with two writers hears the capture's mix"

# --- formats: converted for WAV, and back through sox bit-exact -----------
# (S24_LE is not among them: sox has no raw 24-in-32 layout to convert back to.)
sox_opts() {
	case $1 in
	U16_LE) echo "-e unsigned -b 16 -L" ;;
	U16_BE) echo "-e unsigned -b 16 -B" ;;
	U24_3LE) echo "-e unsigned -b 24 -L" ;;
	U32_BE) echo "-e unsigned -b 32 -B" ;;
	*) cli_sox_opts "$1" ;;
	esac
}
for F in S8 S16_BE U16_LE U16_BE S24_3BE U24_3LE S32_BE U32_BE FLOAT_BE FLOAT64_LE MU_LAW; do
	# shellcheck disable=SC2046
	sox -V1 -n -r $R -c $C $(sox_opts $F) -t raw "$T/f.raw" synth 0.5 whitenoise vol 0.5 ||
		fail "$F: sox cannot generate it"
	FB=$("$AUDIOCHECK" frame-bytes $F $C)
	SIL=$("$AUDIOCHECK" silence $F)
	rm -f "$T/frec.raw"
	cli_bg arecord -q -D "$(cli_dev loopcap 5)" -t raw -f $F -r $R -c $C -d 5 "$T/frec.raw"
	RPID=$CLI_BG
	cli_wait_growth "$T/frec.raw" "$RPID" || fail "$F: arecord did not start"
	tap_bg "$T/f.wav" 5
	FP=$TAP
	cli_client aplay -q -D "$(cli_dev loop 5)" -t raw -f $F -r $R -c $C "$T/f.raw" ||
		fail "$F: aplay"
	sleep 0.2
	# As SIGINT: a valid file.  (A tap that already ended because the
	# cable was released is judged by its exit status all the same.)
	kill -TERM "$FP" 2>/dev/null || true
	tap_end "$FP"
	[ "$TAP_RC" -eq 0 ] || fail "$F: tap exit $TAP_RC after SIGTERM"
	cli_wait "$RPID"
	if [ $F = MU_LAW ]; then
		# Kept as it is under WAV's mu-law tag (sox would turn -0 into +0).
		sox -V1 "$T/f.wav" -n || fail "$F: sox cannot read the tap's WAV"
		tail -c +59 "$T/f.wav" > "$T/fback.raw"
	else
		# shellcheck disable=SC2046
		sox -V1 "$T/f.wav" -t raw $(sox_opts $F) "$T/fback.raw" ||
			fail "$F: sox cannot read the tap's WAV"
	fi
	"$AUDIOCHECK" compare "$T/f.raw" "$T/fback.raw" "$FB" "$SIL" > "$T/cmp" 2>&1 || {
		cat "$T/cmp" >&2; fail "$F: the tap's WAV does not convert back bit-exact"; }
	pass "$F: WAV $(u16 "$T/f.wav" 20)/$(u16 "$T/f.wav" 34) bits, back through sox: $(cat "$T/cmp")"
done

# --- watch: a sine's level, silence, clipping ------------------------------
sox -V1 -n -r $R -c $C -e signed -b 16 -t raw "$T/sine.raw" synth 3 sine 440 vol 0.5
sox -V1 -n -r $R -c $C -e signed -b 16 -t raw "$T/square.raw" synth 1.5 square 440 vol 1
cli_bg arecord -q -D "$(cli_dev loopcap 4)" -t raw -f S16_LE -r $R -c $C -d 8 /dev/null
RPID=$CLI_BG
cli_bg aplay -q -D "$(cli_dev loop 4)" -t raw -f S16_LE -r $R -c $C "$T/sine.raw"
APID=$CLI_BG
sleep 1.5
"$TOOL" --card "$K" watch --interval 0.5 --count 1 > "$T/watch" || fail "watch exit status"
"$TOOL" --card "$K" watch --interval 0.5 --count 1 --json > "$T/watch.json" || fail "watch --json"
cli_wait "$APID"
# Columns: ... FILL PEAK RMS LEVEL after the 17 of list.
lvl() { awk '$2 == 4 && $3 == "loop>loopcap" && $10 == "playback" { print $18, $19, $20 }' "$T/watch"; }
set -- $(lvl)
cat "$T/watch"
awk -v p="$1" -v r="$2" 'BEGIN { exit !(p >= -6.5 && p <= -5.5 && r >= -9.5 && r <= -8.5) }' &&
	[ "$3" = ok ] || fail "watch: a sine of amplitude 0.5 shows '$*', not about -6.0 -9.0 ok"
grep -q '"level": {"frames": [0-9]*, "peak_dbfs": -6\.[0-4][0-9], "rms_dbfs": -9\.[0-4][0-9], "silence": false, "clip": false}' "$T/watch.json" ||
	fail "watch --json: no level of about -6 dBFS: $(cat "$T/watch.json")"
pass "watch: sine at amplitude 0.5: peak $1 dBFS, RMS $2 dBFS"
sleep 0.7
"$TOOL" --card "$K" watch --interval 0.5 --count 1 > "$T/watch"
set -- $(lvl)
[ "$1 $2 $3" = "-inf -inf silence" ] || fail "watch: after the sine, '$*' instead of silence"
"$TOOL" --card "$K" watch --interval 0.5 --count 1 --json > "$T/watch.json"
grep -q '"peak_dbfs": null, "rms_dbfs": null, "silence": true, "clip": false' "$T/watch.json" ||
	fail "watch --json: no silence: $(cat "$T/watch.json")"
pass "watch: silence"
cli_bg aplay -q -D "$(cli_dev loop 4)" -t raw -f S16_LE -r $R -c $C "$T/square.raw"
APID=$CLI_BG
sleep 1
"$TOOL" --card "$K" watch --interval 0.5 --count 1 > "$T/watch"
set -- $(lvl)
[ "$3" = clip ] || fail "watch: a full-scale square shows '$*', not clip"
pass "watch: clipping ($1 dBFS)"
cli_wait "$APID"
kill "$RPID" 2>/dev/null || true
cli_wait "$RPID"
echo "PASS: alsa-loopback tap and watch levels"
