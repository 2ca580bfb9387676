#!/bin/sh
# Shared playback ends mix: two and four aplays into one sharedloop:N, one
# arecord on the other side (loopcap:N or sharedloopcap:N).  Each writer
# plays a constant frame; the values are chosen so that every subset of
# writers mixes to a different frame, so the recording says frame by frame
# who was heard, whatever the start times.  Checked: every recorded frame
# is silence or the exact (saturated) sum of some writers; each writer is
# heard for exactly as many frames as it played, in one stretch; all of
# them together exactly where their stretches overlap.  S16_LE, S32_LE, U8
# (around 0x80) and FLOAT_LE (plain sum, no clipping), saturation at both
# limits; captures with long periods, up to the largest buffer allowed.
# A single writer on a shared end is bit-exact (audiocheck compare).
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/shared.sh"

R=48000 C=2
STAGGER=0.1	# seconds between the writers' starts

# mix_case NAME SUBDEV CAPNAME FORMAT SECS W1 W2 ...: record CAPNAME:SUBDEV
# (arecord's default buffer and period, or $REC_OPTS)
# while each writer Wi ("v0,v1") plays SECS of its constant frame into
# sharedloop:SUBDEV, started STAGGER apart; check the recording.
mix_case() {
	_name=$1 _sub=$2 _cap=$3 _fmt=$4 _secs=$5
	shift 5
	_n=$#
	_frames=$(echo "$R $_secs" | awk '{ printf "%d", $1 * $2 }')
	rm -f "$CLI_TMP"/w*.raw "$CLI_TMP"/w*.err "$CLI_TMP/rec.raw"
	_i=0
	for _w in "$@"; do
		_i=$((_i + 1))
		# shellcheck disable=SC2046
		"$AUDIOCHECK" gen "$CLI_TMP/w$_i.raw" "$_fmt" $C "$_frames" $(echo "$_w" | tr , ' ') ||
			fail "$_name: audiocheck gen $_w"
	done
	# shellcheck disable=SC2086
	cli_bg arecord -q -D "$(cli_dev "$_cap" "$_sub")" -t raw -f "$_fmt" -r $R -c $C \
		-d 15 ${REC_OPTS:-} "$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
	_rpid=$CLI_BG
	cli_wait_growth "$CLI_TMP/rec.raw" "$_rpid" || {
		cat "$CLI_TMP/rec.err" >&2
		fail "$_name: arecord -D $_cap:$_sub did not start recording"
	}
	_pids=
	_i=0
	for _w in "$@"; do
		_i=$((_i + 1))
		[ $_i -eq 1 ] || sleep $STAGGER
		cli_bg aplay -q -D "$(cli_dev sharedloop "$_sub")" -t raw -f "$_fmt" -r $R -c $C \
			"$CLI_TMP/w$_i.raw" 2>"$CLI_TMP/w$_i.err"
		_pids="$_pids $CLI_BG"
	done
	_i=0 _wfail=0
	for _p in $_pids; do
		_i=$((_i + 1))
		cli_wait "$_p"
		if [ "$CLI_RC" -ne 0 ]; then
			grep -v "^[A-Z_]*: " "$CLI_TMP/w$_i.err" >&2
			bad "$_name: writer $_i (aplay -D sharedloop:$_sub -f $_fmt) exited with $CLI_RC"
			_wfail=1
		fi
	done
	# Everything played has been heard by now; a little silence after it.
	sleep 0.3
	shared_stop "$_rpid"
	[ $_wfail -eq 0 ] || return 0
	grep -v "Aborted by signal" "$CLI_TMP/rec.err" >&2 || true
	"$AUDIOCHECK" runs "$CLI_TMP/rec.raw" "$_fmt" $C >"$CLI_TMP/rec.rle" ||
		fail "$_name: audiocheck runs"
	if ! shared_analyze "$CLI_TMP/rec.rle" "$_fmt" $C $R "$@" >"$CLI_TMP/ana.out"; then
		cat "$CLI_TMP/ana.out" >&2
		head -20 "$CLI_TMP/rec.rle" >&2
		cli_keep "$CLI_TMP/rec.raw"
		bad "$_name: the recording holds frames that are no mix of the writers"
		return 0
	fi
	_ok=1
	_first=$(head -1 "$CLI_TMP/rec.rle") _last=$(tail -1 "$CLI_TMP/rec.rle")
	_sil=$(awk -v c=$C -v f="$_fmt" 'BEGIN { s = ""; for (i = 0; i < c; i++)
		s = s " " (f == "U8" ? 128 : 0); print s }')
	case " ${_first#* * }" in "$_sil") ;; *)
		bad "$_name: the recording does not start with silence: $_first"; _ok=0 ;; esac
	case " ${_last#* * }" in "$_sil") ;; *)
		bad "$_name: the recording does not end with silence: $_last"; _ok=0 ;; esac
	_i=0
	for _w in "$@"; do
		_i=$((_i + 1))
		_f=$(shared_field "$CLI_TMP/ana.out" $_i frames)
		_s=$(shared_field "$CLI_TMP/ana.out" $_i segments)
		if [ "$_f" -ne "$_frames" ]; then
			bad "$_name: writer $_i ($_w) heard in $_f frames (capture frames" \
				"$(shared_field "$CLI_TMP/ana.out" $_i first)..$(shared_field \
				"$CLI_TMP/ana.out" $_i last)), played $_frames"
			_ok=0
		fi
		if [ "$_s" -ne 1 ]; then
			if grep -qi underrun "$CLI_TMP/w$_i.err"; then
				echo "note: $_name: writer $_i underran (machine load): heard in $_s stretches"
			else
				bad "$_name: writer $_i ($_w) heard in $_s separate stretches, played in one"
				_ok=0
			fi
		fi
	done
	# All together exactly where the writers' stretches overlap (each was
	# heard in one stretch: checked above).  How long that is depends on
	# how fast the machine started them, not on the plugin: a short overlap
	# is a note.
	_all=$(shared_field "$CLI_TMP/ana.out" all)
	_lo=0 _hi=-1 _one=1 _i=0
	for _w in "$@"; do
		_i=$((_i + 1))
		_fi=$(shared_field "$CLI_TMP/ana.out" $_i first) _la=$(shared_field "$CLI_TMP/ana.out" $_i last)
		[ "$(shared_field "$CLI_TMP/ana.out" $_i segments)" -eq 1 ] || _one=0
		if [ $_i -eq 1 ] || [ "$_fi" -gt $_lo ]; then _lo=$_fi; fi
		if [ $_i -eq 1 ] || [ "$_la" -lt $_hi ]; then _hi=$_la; fi
	done
	_need=$((_hi >= _lo ? _hi - _lo + 1 : 0))
	if [ $_one -eq 1 ] && [ "$_all" -ne "$_need" ]; then
		bad "$_name: all $_n writers mixed in $_all frames, but their stretches overlap in $_need" \
			"(frames $_lo..$_hi)"
		_ok=0
	elif [ "$_need" -lt $((_frames / 2)) ]; then
		echo "note: $_name: the $_n writers overlapped only $_need frames (started late: machine load)"
	fi
	if [ $_ok -eq 1 ]; then
		pass "$_name: $_n writers, each heard for exactly its $_frames frames, all mixed" \
			"in $_all frames ($(shared_field "$CLI_TMP/ana.out" runs) runs)"
	else
		cat "$CLI_TMP/ana.out" "$CLI_TMP/rec.rle" | head -40 >&2
		cli_keep "$CLI_TMP/rec.raw"
	fi
}

# S16_LE: two writers adding on both channels; read by loopcap and by
# sharedloopcap.
mix_case "S16 two writers -> loopcap" 20 loopcap S16_LE 0.8 1000,-3000 -250,5000
mix_case "S16 two writers -> sharedloopcap" 21 sharedloopcap S16_LE 0.8 1000,-3000 -250,5000
# A capture with a long period (250 ms: 48000 bytes unread at a time)
# still hears every frame of each writer.
REC_OPTS="--period-size=12000 --buffer-size=48000"
mix_case "S16 two writers, capture period 250 ms" 30 loopcap S16_LE 1.0 1000,-3000 -250,5000
# The largest shared capture the plugin allows (96 KiB buffer, what a
# shared playback's part of the ring leaves; 48 KiB periods of S32_LE
# stereo: 128 ms unread at a time) still hears every frame.
REC_OPTS="--period-size=6144 --buffer-size=12288"
mix_case "S32 two writers, shared capture buffer 96 KiB" 32 sharedloopcap S32_LE 1.0 \
	123456789,-1073741824 987654321,-1073741825
REC_OPTS=
# Writer 1 only on the left channel, writer 2 only on the right.
mix_case "S16 one channel each" 22 loopcap S16_LE 0.8 7000,0 0,-7000
# Four writers: every subset sums differently (powers of two on the left).
mix_case "S16 four writers" 23 loopcap S16_LE 1.0 100,1 200,-2 400,4 800,-8
# Saturation: 0.75 full scale twice clips at 32767 and at -32768.
mix_case "S16 saturation" 24 loopcap S16_LE 0.8 24576,-24576 24577,-24577
# S32_LE: an exact sum above 16 bits, and saturation at -2^31.
mix_case "S32 sum and saturation" 25 loopcap S32_LE 0.8 123456789,-1073741824 \
	987654321,-1073741825
# U8 around 0x80: +20 and +30 give +50; +100 and +101 clip at 255;
# -100 and -20 (28 and 108) give -120 (8).
mix_case "U8 around the midpoint" 26 loopcap U8 0.8 148,228 158,229
mix_case "U8 below the midpoint" 26 loopcap U8 0.8 28,128 108,0
# FLOAT_LE: plain sum, beyond 1.0 unclipped.
mix_case "FLOAT sum, no clipping" 27 loopcap FLOAT_LE 0.8 0.25,0.75 0.5,0.875

# One writer alone on a shared end: its bytes exactly (white noise).  In
# subshells: cli_roundtrip ends the shell on a mismatch.
( cli_roundtrip "single writer sharedloop -> loopcap" "$(cli_dev loopcap 28)" \
	"$(cli_dev sharedloop 28)" S16_LE $R $C 0.3 ) ||
	bad "single writer: sharedloop -> loopcap is not bit-exact"
( cli_roundtrip "single writer sharedloop -> sharedloopcap, S32" \
	"$(cli_dev sharedloopcap 29)" "$(cli_dev sharedloop 29)" S32_LE $R $C 0.3 ) ||
	bad "single writer: sharedloop -> sharedloopcap (S32_LE) is not bit-exact"
( cli_roundtrip "single writer sharedloop -> loopcap, FLOAT" "$(cli_dev loopcap 31)" \
	"$(cli_dev sharedloop 31)" FLOAT_LE $R $C 0.3 ) ||
	bad "single writer: sharedloop -> loopcap (FLOAT_LE) is not bit-exact"

# Companded formats cannot be summed: a shared playback does not offer them
# (aplay names the formats it does), so plugsharedloop:N converts them (no
# capture attached: nothing pins the format).
head -c 4000 /dev/urandom >"$CLI_TMP/law.raw"
for law in MU_LAW A_LAW; do
	if cli_client aplay -q -D "$(cli_dev sharedloop 33)" -t raw -f $law -r 8000 -c 1 \
		"$CLI_TMP/law.raw" 2>"$CLI_TMP/law.err"; then
		bad "sharedloop accepted $law, which it cannot mix"
	elif grep -q "Sample format non available" "$CLI_TMP/law.err" &&
	     grep -q -- "- S16_LE" "$CLI_TMP/law.err" && ! grep -q -- "- $law" "$CLI_TMP/law.err"; then
		pass "sharedloop does not offer $law: $(grep -m1 "format" "$CLI_TMP/law.err")"
	else
		cat "$CLI_TMP/law.err" >&2
		bad "sharedloop refused $law without saying why"
	fi
	if cli_client aplay -q -D "$(cli_dev plugsharedloop 33)" -t raw -f $law -r 8000 -c 1 \
		"$CLI_TMP/law.raw" 2>"$CLI_TMP/law.err"; then
		pass "plugsharedloop converts $law"
	else
		grep -v "^[A-Z_]*: " "$CLI_TMP/law.err" >&2
		bad "plugsharedloop could not play $law (plug passed it through: the shared end" \
			"offers it among its formats, then refuses it at hw_params)"
	fi
done

[ "$fails" -eq 0 ] || fail "$fails check(s) failed"
echo "PASS"
