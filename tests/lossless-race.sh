#!/bin/sh
# The lossless clock's end of stream when an end never *saw* its peer alive
# while it waited: each case must end within 1 s of the peer leaving (of
# SIGCONT), with -ENODEV ("No such device", exit 1) where an end is left
# alone.  These once hung for ever: an end decided "my peer is gone" only if
# it had found the peer alive in flow_wait() while not ready, so a peer
# that came, was served and left while this end was busy or descheduled was
# never seen.  Now an end whose stream the peer moved, or that found the
# peer alive when it started, counts it as seen (loop_flow.c
# lf_peer_died(), lf_start()), and a draining playback marks the stream
# done (shm_flow_set_done()) so the capture ends after the last frame.
#
#  A. A playback waits with a full ring (no reader yet); a reader reads one
#     period and closes while the playback is not scheduled (SIGSTOP here,
#     a busy or slow writer in life); the playback then writes one period,
#     waits again and finds no reader: it must get -ENODEV, not block.
#  B. A capture waits (no writer yet) and is not scheduled (SIGSTOP) while
#     a writer fills the ring and is killed -9; the capture then reads the
#     ring, waits and finds no writer: it must end with -ENODEV after the
#     last frame (what it read is a prefix of what was played).
#  C. The same as A without signals: a playback waiting before its reader
#     comes, a reader of 1 s (arecord -s 48000): the playback must end, in
#     each of 5 runs (it once hung in about 1 run in 5 on a 2-core machine).
#  D. The end of a stream with the ring holding fewer frames than the
#     capture's avail_min: sox -> sox (player period 2048, 49152 frames
#     written with its padding, recorder period 2400, 48000 read, 1152 left),
#     which once deadlocked about 1 run in 4 (the capture waiting for
#     avail_min frames, the draining playback for the capture): 4 runs, each
#     must end by itself (no timeout kill).
#
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/lossless.sh"

SRC="$CLI_TMP/src.raw" REC="$CLI_TMP/rec.raw"
ll_gen "$SRC" 1

# --- A.
n="A: playback stopped while its reader reads one period and closes"
ll_direct aplay -q -D "$(cli_dev lossless 1)" -t raw -f $F -r $R -c $C --period-size=1000 \
	/dev/zero
pp=$LL_PID
sleep 0.3
ll_running "$pp" || fail "$n: aplay did not wait for a reader"
kill -STOP "$pp"
cli_client arecord -q -D "$(cli_dev losslesscap 1)" -t raw -f $F -r $R -c $C \
	--period-size=1000 -s 1000 "$REC" || fail "$n: arecord -s 1000 exited with $?"
[ "$(ll_size "$REC")" -eq 4000 ] || fail "$n: arecord -s 1000 recorded $(ll_size "$REC") bytes"
kill -CONT "$pp"
t0=$(cli_ms)
if ll_wait_exit "$pp" 1; then
	[ "$CLI_RC" -eq 1 ] || bad "$n: aplay exited with $CLI_RC, expected 1 (-ENODEV)"
	pass "$n: aplay ended $(($(cli_ms) - t0)) ms after SIGCONT (exit $CLI_RC)"
else
	bad "$n: aplay still waited 1 s after SIGCONT, its reader long gone (it read 1000 frames and closed)"
fi

# --- B.
rm -f "$REC"
n="B: capture stopped while its writer fills the ring and is killed -9"
ll_direct arecord -q -D "$(cli_dev losslesscap 2)" -t raw -f $F -r $R -c $C \
	--period-size=1000 "$REC"
rp=$LL_PID
sleep 0.3
ll_running "$rp" || fail "$n: arecord did not wait for a writer"
kill -STOP "$rp"
ll_direct aplay -q -D "$(cli_dev lossless 2)" -t raw -f $F -r $R -c $C --period-size=1000 \
	"$SRC"
pp=$LL_PID
sleep 0.5
ll_running "$pp" || fail "$n: aplay did not wait for its (stopped) reader"
kill -9 "$pp"
ll_wait_exit "$pp" 2 || true
kill -CONT "$rp"
t0=$(cli_ms)
if ll_wait_exit "$rp" 1; then
	[ "$CLI_RC" -eq 1 ] || bad "$n: arecord exited with $CLI_RC, expected 1 (-ENODEV)"
	ll_prefix "$n" "$SRC" "$REC"
	pass "$n: arecord ended $(($(cli_ms) - t0)) ms after SIGCONT with $(ll_size "$REC") bytes"
else
	bad "$n: arecord still waited 1 s after SIGCONT ($(ll_size "$REC") bytes read), its writer killed"
fi

# --- C.
n="C: playback waiting before its reader, reader of 1 s"
hung=0
for i in 1 2 3 4 5; do
	cli_bg aplay -q -D "$(cli_dev lossless $((10 + i)))" -t raw -f $F -r $R -c $C /dev/zero \
		2>"$CLI_TMP/play.err"
	pp=$CLI_BG
	sleep 0.3
	cli_client arecord -q -D "$(cli_dev losslesscap $((10 + i)))" -t raw -f $F -r $R -c $C \
		-s $R "$CLI_TMP/rec.raw" || fail "$n: arecord exited with $?"
	ll_wait_exit "$pp" 1 || hung=$((hung + 1))
done
[ $hung -eq 0 ] || bad "$n: the playback never ended in $hung of 5 runs"
[ $hung -ne 0 ] || pass "$n: the playback ended each time (5 runs)"

# --- D.
n="D: sox -> sox, 1 s: the end of the stream"
if sox -h 2>/dev/null | grep -q 'DRIVERS:.* alsa'; then
	stuck=0
	for i in 1 2 3 4; do
		rm -f "$REC"
		alsa_client timeout -k 1 3 sox -q -V1 --buffer 9600 -t alsa -r $R -c $C -e signed \
			-b 16 "$(cli_dev losslesscap $((20 + i)))" -t raw -L "$REC" </dev/null 2>/dev/null &
		rp=$!
		CLI_PIDS="$CLI_PIDS $rp"
		sleep 0.2
		prc=0
		alsa_client timeout -k 1 2 sox -q -V1 -t raw -r $R -c $C -e signed -b 16 -L "$SRC" \
			-t alsa "$(cli_dev lossless $((20 + i)))" </dev/null 2>/dev/null || prc=$?
		cli_wait "$rp"
		if [ $prc -ne 0 ] || [ "$CLI_RC" -ne 0 ]; then
			stuck=$((stuck + 1))
			echo "  run $i: player exit $prc, recorder exit $CLI_RC, $(ll_size "$REC") bytes"
		fi
	done
	[ $stuck -eq 0 ] || bad "$n: player and recorder deadlocked (killed by timeout) in $stuck of 4 runs"
	[ $stuck -ne 0 ] || pass "$n: no deadlock in 4 runs"
fi

[ $fails -eq 0 ] || fail "$fails lossless end-of-stream race(s)"
echo "PASS"
