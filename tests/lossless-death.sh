#!/bin/sh
# The lossless clock when an end dies or stops: a writer whose reader was
# killed (-9) gets -ENODEV within 1 s; a reader whose writer was killed (-9)
# gets everything the writer wrote (a prefix of the input), then -ENODEV; a
# stopped (SIGSTOP) reader is alive, so the writer waits for it, in its
# writes and in its drain, and after SIGCONT both finish, bit-exact; a
# reader killed while the writer drains ends the drain with -ENODEV.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/lossless.sh"

SRC="$CLI_TMP/src.raw" REC="$CLI_TMP/rec.raw"
ll_gen "$SRC" 20
SRC_BYTES=$(ll_size "$SRC")

# --- 1. The reader is killed (-9) mid-stream: the writer ends with an error.
# /dev/zero: an endless input.  A file: aplay reads a pipe fed with 5 s,
# then (after a pause in which the reader is stopped) the whole 20 s file.
for input in /dev/zero file; do
	rm -f "$REC" "$CLI_TMP/fifo1"
	n="reader killed -9, aplay of $input"
	ll_direct arecord -q -D "$(cli_dev losslesscap 1)" -t raw -f $F -r $R -c $C \
		--period-size=1000 "$REC"
	rp=$LL_PID
	if [ $input = file ]; then
		mkfifo "$CLI_TMP/fifo1"
		(ll_exec aplay -q -D "$(cli_dev lossless 1)" -t raw -f $F -r $R -c $C \
			--period-size=1000 - <"$CLI_TMP/fifo1" 2>"$CLI_TMP/play.err") &
		pp=$!
		CLI_PIDS="$CLI_PIDS $pp"
		(head -c $((5 * R * FB)) "$SRC"; sleep 1; tail -c +$((5 * R * FB + 1)) "$SRC") \
			>"$CLI_TMP/fifo1" &
		CLI_PIDS="$CLI_PIDS $!"
		want=$((5 * R * FB))
	else
		(ll_exec aplay -q -D "$(cli_dev lossless 1)" -t raw -f $F -r $R -c $C \
			--period-size=1000 /dev/zero 2>"$CLI_TMP/play.err") </dev/null &
		pp=$!
		CLI_PIDS="$CLI_PIDS $pp"
		want=65536
	fi
	# Mid-stream: the reader has taken some; stop it (a stopped reader
	# stops the writer: the ring fills) and let the writer block.
	ll_wait_bytes "$REC" $want "$rp" || fail "$n: arecord did not record $want bytes"
	kill -STOP "$rp"
	[ $input = file ] && sleep 1.5 || sleep 0.3
	ll_running "$pp" || {
		cat "$CLI_TMP/play.err" >&2
		fail "$n: aplay ended while its reader was alive (stopped)"
	}
	t0=$(cli_ms)
	kill -9 "$rp"
	ll_wait_exit "$rp" 2 || true
	ll_wait_exit "$pp" 1 || fail "$n: aplay still ran 1 s after its reader was killed"
	ms=$(($(cli_ms) - t0))
	[ "$CLI_RC" -eq 1 ] || { cat "$CLI_TMP/play.err" >&2; fail "$n: aplay exited with $CLI_RC, expected 1"; }
	cli_expect_text "$CLI_TMP/play.err" "$n: aplay" "No such device"
	if [ $input = file ]; then
		[ "$(ll_size "$REC")" -lt "$SRC_BYTES" ] || fail "$n: the reader got it all before the kill"
		ll_prefix "$n" "$SRC" "$REC"
	fi
	pass "$n: aplay exited 1 (No such device) $ms ms after the kill"
done

# --- 2. The writer is killed (-9): the reader gets what it wrote, then ends.
# aplay reads a pipe: it writes the first 5 s of the input, then waits on
# its stdin (the pipe stays open) until killed.
rm -f "$REC" "$CLI_TMP/fifo"
n="writer killed -9"
PART=$((5 * R * FB))
head -c $PART "$SRC" >"$CLI_TMP/part.raw"
mkfifo "$CLI_TMP/fifo"
cli_bg arecord -q -D "$(cli_dev losslesscap 2)" -t raw -f $F -r $R -c $C \
	--period-size=1000 "$REC" 2>"$CLI_TMP/rec.err"
rp=$CLI_BG
(ll_exec aplay -q -D "$(cli_dev lossless 2)" -t raw -f $F -r $R -c $C \
	--period-size=1000 - <"$CLI_TMP/fifo" 2>"$CLI_TMP/play.err") &
pp=$!
CLI_PIDS="$CLI_PIDS $pp"
# The feeder: the first 5 s, then holds the pipe open (killed at the end).
(cat "$CLI_TMP/part.raw"; sleep 30) >"$CLI_TMP/fifo" &
fp=$!
CLI_PIDS="$CLI_PIDS $fp"
# 5 s is a whole number of aplay's periods: all of it reaches the reader.
ll_wait_bytes "$REC" $PART "$rp" 10 || {
	cat "$CLI_TMP/rec.err" "$CLI_TMP/play.err" >&2
	fail "$n: the reader got $(ll_size "$REC") of the $PART bytes written"
}
sleep 0.2
ll_running "$rp" || fail "$n: arecord ended while its writer was alive"
[ "$(ll_size "$REC")" -eq $PART ] || fail "$n: recorded $(ll_size "$REC") bytes, written $PART"
t0=$(cli_ms)
kill -9 "$pp"
ll_wait_exit "$pp" 2 || true
ll_wait_exit "$rp" 2 || fail "$n: arecord still ran 2 s after its writer was killed"
ms=$(($(cli_ms) - t0))
[ "$CLI_RC" -eq 1 ] || { cat "$CLI_TMP/rec.err" >&2; fail "$n: arecord exited with $CLI_RC, expected 1"; }
cli_expect_text "$CLI_TMP/rec.err" "$n: arecord" "No such device"
ll_prefix "$n" "$SRC" "$REC"
[ "$(ll_size "$REC")" -eq $PART ] || fail "$n: recorded $(ll_size "$REC") bytes, written $PART"
ll_kill_tree -TERM "$fp"
pass "$n: arecord got all $((PART / FB)) frames written, then exited 1 (No such device) $ms ms after the kill"

# --- 3. A stopped reader: the writer waits (it is alive), then both finish.
# 3 s (576000 bytes) is more than a buffer holds: aplay waits in its writes;
# 0.1 s (19200 bytes) fits: aplay waits in its drain.
for secs in 3 0.1; do
	rm -f "$REC"
	n="reader stopped (SIGSTOP), aplay of $secs s"
	head -c "$(echo "$secs" | awk -v b=$((R * FB)) '{ printf "%d", $1 * b }')" "$SRC" \
		>"$CLI_TMP/short.raw"
	ll_direct arecord -q -D "$(cli_dev losslesscap 3)" -t raw -f $F -r $R -c $C \
		--period-size=1200 "$REC"
	rp=$LL_PID
	sleep 0.2
	kill -STOP "$rp"
	cli_bg aplay -v -D "$(cli_dev lossless 3)" -t raw -f $F -r $R -c $C \
		--period-size=1200 "$CLI_TMP/short.raw" >"$CLI_TMP/play.err" 2>&1
	pp=$CLI_BG
	sleep 1.5
	ll_running "$pp" || {
		cat "$CLI_TMP/play.err" >&2
		fail "$n: aplay finished while its reader was stopped (data not taken)"
	}
	kill -CONT "$rp"
	t0=$(cli_ms)
	ll_wait_exit "$pp" 3 || fail "$n: aplay still ran 3 s after SIGCONT of its reader"
	[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/play.err" >&2; fail "$n: aplay exited with $CLI_RC"; }
	ll_wait_exit "$rp" 3 || fail "$n: arecord still ran 3 s after its writer finished"
	ms=$(($(cli_ms) - t0))
	[ "$CLI_RC" -eq 1 ] || fail "$n: arecord exited with $CLI_RC, expected 1 (-ENODEV)"
	ll_exact "$n" "$CLI_TMP/short.raw" "$REC" $((1200 * FB))
	pass "$n: aplay waited; after SIGCONT both ended in $ms ms, bit-exact + $LL_TAIL bytes of padding"
done

# --- 4. A stopped reader killed while the writer drains: the drain ends.
rm -f "$REC"
n="reader stopped, then killed -9 during aplay's drain"
head -c $((R * FB / 10)) "$SRC" >"$CLI_TMP/short.raw"
ll_direct arecord -q -D "$(cli_dev losslesscap 4)" -t raw -f $F -r $R -c $C "$REC"
rp=$LL_PID
sleep 0.2
kill -STOP "$rp"
cli_bg aplay -q -D "$(cli_dev lossless 4)" -t raw -f $F -r $R -c $C "$CLI_TMP/short.raw" \
	2>"$CLI_TMP/play.err"
pp=$CLI_BG
sleep 1
ll_running "$pp" || fail "$n: aplay's drain did not wait for its stopped reader"
t0=$(cli_ms)
kill -9 "$rp"
ll_wait_exit "$rp" 2 || true
ll_wait_exit "$pp" 1 || fail "$n: aplay's drain still ran 1 s after its reader was killed"
ms=$(($(cli_ms) - t0))
# aplay ignores snd_pcm_drain's result: its exit status says nothing here.
pass "$n: aplay's drain ended $ms ms after the kill (aplay exit $CLI_RC)"
echo "PASS"
