#!/bin/sh
# The lossless clock (lossless:N -> losslesscap:N) with real clients: 60 s
# of 48 kHz stereo noise goes through in well under real time, bit-exact,
# the recording starting with the first frame played (no leading silence)
# and ending with at most aplay's padded last period of zeros.  Both start
# orders, non-blocking and mmap clients, one CPU, sox on either end, ffmpeg (if
# installed), GStreamer's alsasink with sync=false (if installed), and
# readers that stop after 2 s (arecord -d 2, sox trim 0 2) get exactly 2 s.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/lossless.sh"

SECS=60
MAX_MS=15000	# 60 s of audio must take less than this (wall clock)
SRC="$CLI_TMP/src.raw" REC="$CLI_TMP/rec.raw"
ll_gen "$SRC" $SECS
SRC_BYTES=$(ll_size "$SRC")
[ "$SRC_BYTES" -eq $((R * SECS * FB)) ] || fail "sox generated $SRC_BYTES bytes"

# rt_check NAME MS: the wall-clock bound and the speed factor.
rt_check() {
	[ "$2" -lt $MAX_MS ] ||
		fail "$1: $SECS s of audio took $2 ms (limit $MAX_MS ms): not faster than real time"
	echo "  $1: $SECS s of audio in $2 ms, speed factor x$(ll_factor $SECS "$2")"
}

# two_seconds NAME WRITER_PID: a reader that stopped after 2 s recorded
# exactly the first 2 s played, and the writer (WRITER_PID, its stderr in
# play.err) was told and ended.
two_seconds() {
	ll_writer_end "$1" "$2" "$CLI_TMP/play.err"
	echo "  $1: the writer ended $LL_WRITER_MS ms after the reader closed"
	[ "$(ll_size "$REC")" -eq $((2 * R * FB)) ] ||
		fail "$1: recorded $(ll_size "$REC") bytes, not $((2 * R * FB)) (2 s)"
	ll_prefix "$1" "$SRC" "$REC"
	pass "$1: exactly 2 s, the first 2 s played"
}

# period_bytes FILE: the period of aplay -v's setup dump, in bytes.
period_bytes() {
	_p=$(awk '$1 == "period_size" { print $3; exit }' "$1")
	[ -n "$_p" ] || fail "no period_size in aplay -v's output: $(cat "$1")"
	echo $((_p * FB))
}

# reader_end NAME RC ERRFILE: arecord ends at the end of the stream with
# -ENODEV: "read error: No such device", exit status 1.
reader_end() {
	[ "$2" -eq 1 ] || {
		cat "$3" >&2
		fail "$1: arecord exited with $2 at the end of the stream (expected 1, -ENODEV)"
	}
	cli_expect_text "$3" "$1: arecord" "No such device"
}

# rt NAME SUBDEV ORDER ARECORD_OPTS APLAY_OPTS: one 60 s round trip
# (RT_PLAY, RT_CAP: other names than lossless, losslesscap).
# ORDER "reader": arecord first, aplay 0.3 s later; "writer": aplay first,
# arecord 1 s later (aplay must be waiting for it then).
rt() {
	_n=$1 _sd=$2 _order=$3 _ro=$4 _po=$5
	rm -f "$REC"
	_cap=$(cli_dev "${RT_CAP:-losslesscap}" "$_sd") _play=$(cli_dev "${RT_PLAY:-lossless}" "$_sd")
	if [ "$_order" = reader ]; then
		# shellcheck disable=SC2086
		cli_bg arecord -q -D "$_cap" -t raw -f $F -r $R -c $C $_ro "$REC" \
			2>"$CLI_TMP/rec.err"
		_rp=$CLI_BG
		sleep 0.3
		ll_running "$_rp" || { cat "$CLI_TMP/rec.err" >&2; fail "$_n: arecord did not wait for a writer"; }
		[ "$(ll_size "$REC")" -eq 0 ] || fail "$_n: arecord recorded before any writer (invented frames)"
		_t0=$(cli_ms)
		_prc=0
		# shellcheck disable=SC2086
		cli_client aplay -v -D "$_play" -t raw -f $F -r $R -c $C $_po "$SRC" \
			>"$CLI_TMP/play.err" 2>&1 || _prc=$?
		cli_wait "$_rp"
		_ms=$(($(cli_ms) - _t0))
	else
		_t0=$(cli_ms)
		# shellcheck disable=SC2086
		cli_bg aplay -v -D "$_play" -t raw -f $F -r $R -c $C $_po "$SRC" \
			>"$CLI_TMP/play.err" 2>&1
		_pp=$CLI_BG
		sleep 1
		ll_running "$_pp" || { cat "$CLI_TMP/play.err" >&2; fail "$_n: aplay did not wait for a reader"; }
		_t1=$(cli_ms)
		_rrc=0
		# shellcheck disable=SC2086
		cli_client arecord -q -D "$_cap" -t raw -f $F -r $R -c $C $_ro "$REC" \
			2>"$CLI_TMP/rec.err" || _rrc=$?
		cli_wait "$_pp"
		_prc=$CLI_RC
		_ms=$(($(cli_ms) - _t0))
		echo "  $_n: from the reader's start: $(($(cli_ms) - _t1)) ms," \
			"speed factor x$(ll_factor $SECS $(($(cli_ms) - _t1)))"
		CLI_RC=$_rrc
	fi
	[ "$_prc" -eq 0 ] || { cat "$CLI_TMP/play.err" >&2; fail "$_n: aplay exited with $_prc"; }
	reader_end "$_n" "$CLI_RC" "$CLI_TMP/rec.err"
	ll_exact "$_n" "$SRC" "$REC" "$(period_bytes "$CLI_TMP/play.err")"
	rt_check "$_n" "$_ms"
	pass "$_n: bit-exact from the first frame, then $LL_TAIL bytes of padding"
}

rt "reader first" 1 reader "" ""
rt "writer first, reader 1 s later" 2 writer "" ""
rt "non-blocking (arecord -N, aplay -N)" 3 reader "-N" "-N"
rt "mmap (arecord -M, aplay -M)" 4 reader "-M" "-M"
rt "mmap non-blocking, writer first" 5 writer "-M -N" "-M -N"

# The plug names, same parameters (nothing to convert: still bit-exact).
RT_PLAY=pluglossless RT_CAP=pluglosslesscap
rt "pluglossless -> pluglosslesscap" 6 reader "" ""
# The reverse cable: play into losslesscap:N, record lossless:N.
RT_PLAY=losslesscap RT_CAP=lossless
rt "losslesscap -> lossless (reverse cable)" 13 reader "" ""
RT_PLAY='' RT_CAP=''
# Small periods: many wake-ups (60 s = 11250 periods of 256 frames).
rt "periods of 256 frames" 7 reader "--period-size=256" "--period-size=256"
# One CPU (a container's quota, taskset): the ends never spin, each sleeps
# on its doorbell every period; with more, they spin while the other end
# answers quickly (all the rounds above, on a machine with 2 CPUs or more).
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
	cpus=$(taskset -p $$ | sed 's/.*: //')
	taskset -p 1 $$ >/dev/null
	rt "one CPU: no spinning" 14 reader "" ""
	taskset -p "$cpus" $$ >/dev/null
fi

# sox on both ends (its alsa driver): the player ends, the recorder gets
# -ENODEV, takes it as the end of its input and exits 0.
if sox -h 2>/dev/null | grep -q 'DRIVERS:.* alsa'; then
	# sox's reader drops the block it was filling when a read fails (its
	# alsa read_() returns 0 for the whole call on -ENODEV), so at the end
	# of a stream it loses up to one buffer (default 8192 samples = 4096
	# frames).  --buffer 9600 (4800 frames) divides 60 s: nothing is lost.
	# sox's player writes no padding: the recording is exactly the input.
	CLI_TIMEOUT=5	# 60 s take 0.2 s: a hang must not take the test's time
	for buf in 9600 8192; do
		rm -f "$REC"
		n="sox -t alsa -> sox --buffer $buf -t alsa"
		cli_bg sox -q -V1 --buffer $buf -t alsa -r $R -c $C -e signed -b 16 \
			"$(cli_dev losslesscap 8)" -t raw -L "$REC" 2>"$CLI_TMP/rec.err"
		rp=$CLI_BG
		sleep 0.3
		t0=$(cli_ms)
		prc=0
		cli_client sox -q -V1 -t raw -r $R -c $C -e signed -b 16 -L "$SRC" \
			-t alsa "$(cli_dev lossless 8)" 2>"$CLI_TMP/play.err" || prc=$?
		cli_wait "$rp"
		if [ $prc -eq 124 ] || [ $prc -eq 137 ]; then
			# The end-of-stream deadlock D of tests/lossless-race.sh.
			echo "note: $n: player and recorder deadlocked at the end of the stream" \
				"(tests/lossless-race.sh D): killed by timeout, not checked"
			continue
		fi
		[ $prc -eq 0 ] || { cat "$CLI_TMP/play.err" >&2; fail "$n: the sox player exited with $prc"; }
		ms=$(($(cli_ms) - t0))
		[ "$CLI_RC" -eq 0 ] || fail "$n: the sox recorder exited with $CLI_RC at the end of the stream"
		cli_expect_text "$CLI_TMP/rec.err" "$n: the sox recorder" "No such device"
		if [ $buf = 9600 ]; then
			ll_exact "$n" "$SRC" "$REC" 0
			rt_check "$n" "$ms"
			pass "$n: exactly the input, bit-exact from the first frame"
		else
			# Known sox limitation: a prefix, short by less than one sox buffer.
			ll_prefix "$n" "$SRC" "$REC"
			short=$((SRC_BYTES - $(ll_size "$REC")))
			[ $short -lt $((buf * 2)) ] ||
				fail "$n: $short bytes missing, more than sox's last buffer"
			rt_check "$n" "$ms"
			pass "$n: a bit-exact prefix, $((short / FB)) frames short (sox drops its last partial buffer)"
		fi
	done

	# A sox reader that stops after 2 s: exactly 2 s, and the writer is told.
	rm -f "$REC"
	n="sox ... trim 0 2"
	cli_bg aplay -q -D "$(cli_dev lossless 9)" -t raw -f $F -r $R -c $C "$SRC" \
		2>"$CLI_TMP/play.err"
	pp=$CLI_BG
	cli_client sox -q -V1 -t alsa -r $R -c $C -e signed -b 16 "$(cli_dev losslesscap 9)" \
		-t raw -L "$REC" trim 0 2 || fail "$n: sox exited with $?"
	two_seconds "$n" "$pp"
	CLI_TIMEOUT=20
else
	echo "note: sox has no alsa driver (libsox-fmt-alsa): sox checks not run"
fi

# arecord -d 2: exactly 2 s worth of frames, the first 2 s played.
rm -f "$REC"
n="arecord -d 2"
cli_bg aplay -q -D "$(cli_dev lossless 10)" -t raw -f $F -r $R -c $C "$SRC" \
	2>"$CLI_TMP/play.err"
pp=$CLI_BG
cli_client arecord -q -d 2 -D "$(cli_dev losslesscap 10)" -t raw -f $F -r $R -c $C "$REC" ||
	fail "$n: arecord exited with $?"
two_seconds "$n" "$pp"

# ffmpeg's alsa output (not in CI's package list: skipped without it).
if command -v ffmpeg >/dev/null 2>&1 &&
	ffmpeg -hide_banner -devices 2>/dev/null | grep -qE '^ *D?E +alsa'; then
	rm -f "$REC"
	n="ffmpeg -f alsa -> arecord"
	cli_bg arecord -q -D "$(cli_dev losslesscap 11)" -t raw -f $F -r $R -c $C "$REC" \
		2>"$CLI_TMP/rec.err"
	rp=$CLI_BG
	sleep 0.3
	t0=$(cli_ms)
	cli_client ffmpeg -hide_banner -loglevel error -nostdin -f s16le -ar $R -ac $C \
		-i "$SRC" -f alsa "$(cli_dev lossless 11)" ||
		fail "$n: ffmpeg exited with $?"
	cli_wait "$rp"
	ms=$(($(cli_ms) - t0))
	reader_end "$n" "$CLI_RC" "$CLI_TMP/rec.err"
	ll_exact "$n" "$SRC" "$REC" $((R * FB))
	rt_check "$n" "$ms"
	pass "$n: bit-exact from the first frame, then $LL_TAIL bytes of padding"
else
	echo "note: ffmpeg (with its alsa output) is not installed: ffmpeg check not run"
fi

# GStreamer's alsasink with sync=false (not paced by the pipeline clock):
# informational only, never a failure.  Observed: 5x real time at best, and
# the recording is not exact (the last ~0.25 s missing, sometimes a
# discontinuity mid-stream): GStreamer's audio ring buffer, not the cable
# (aplay, sox, mmap and non-blocking clients are exact).  alsasrc is not
# tried: it paces itself as a live source.
if command -v gst-launch-1.0 >/dev/null 2>&1 &&
	gst-inspect-1.0 alsasink >/dev/null 2>&1 &&
	gst-inspect-1.0 rawaudioparse >/dev/null 2>&1; then
	rm -f "$REC"
	n="gst alsasink sync=false -> arecord, 10 s"
	GSRC="$CLI_TMP/gsrc.raw" GSECS=10
	head -c $((GSECS * R * FB)) "$SRC" >"$GSRC"
	cli_bg arecord -q -D "$(cli_dev losslesscap 12)" -t raw -f $F -r $R -c $C "$REC" \
		2>"$CLI_TMP/rec.err"
	rp=$CLI_BG
	sleep 0.3
	t0=$(cli_ms)
	grc=0
	cli_client gst-launch-1.0 -q filesrc location="$GSRC" ! \
		rawaudioparse format=pcm pcm-format=s16le sample-rate=$R num-channels=$C ! \
		alsasink device="$(cli_dev lossless 12)" sync=false \
		>"$CLI_TMP/gst.out" 2>&1 || grc=$?
	ms=$(($(cli_ms) - t0))
	ll_wait_exit "$rp" 2 || fail "$n: arecord did not end 2 s after gst-launch-1.0 exited"
	got=$(ll_size "$REC") want=$(ll_size "$GSRC")
	what="differs at $(cmp "$GSRC" "$REC" 2>&1 | sed -n 's/.*differ: byte \([0-9]*\).*/byte \1/p')"
	if [ "$got" -lt "$want" ] && cmp -s -n "$got" "$GSRC" "$REC"; then what="a prefix"; fi
	if [ "$got" -ge "$want" ] && cmp -s -n "$want" "$GSRC" "$REC"; then what="bit-exact"; fi
	echo "note: $n: gst exit $grc, arecord exit $CLI_RC, $ms ms" \
		"(x$(ll_factor $GSECS "$ms")), $((got / FB)) of $((want / FB)) frames, $what"
else
	echo "note: gst-launch-1.0 with alsasink and rawaudioparse is not installed: not run"
fi
echo "PASS"
