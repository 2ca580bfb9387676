#!/bin/sh
# One client per end: a second aplay (or arecord) on an end in use fails at
# once with a message that names the end; the first one is not disturbed;
# the end is free again as soon as its user exits.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

N=4 F=S16_LE R=48000 C=2
PLAY=$(cli_dev loop $N) CAP=$(cli_dev loopcap $N)
cli_gen "$CLI_TMP/a.raw" $F $R $C 2
cli_gen "$CLI_TMP/b.raw" $F $R $C 0.3
# Pure silence: a later player whose sound must not spoil the comparison.
head -c $((R * 4 * 3 / 10)) /dev/zero >"$CLI_TMP/zero.raw"

cli_bg arecord -q -D "$CAP" -t raw -f $F -r $R -c $C -s $((R * 4)) "$CLI_TMP/rec.raw" \
	2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
cli_wait_growth "$CLI_TMP/rec.raw" "$rpid" || fail "arecord -D $CAP did not start"
cli_bg aplay -v -D "$PLAY" -t raw -f $F -r $R -c $C "$CLI_TMP/a.raw" 2>"$CLI_TMP/a.err"
apid=$CLI_BG
cli_wait_text "$CLI_TMP/a.err" buffer_size "$apid" || {
	cat "$CLI_TMP/a.err" >&2
	fail "the first aplay did not start"
}

# A second playback on loop:N.
t0=$(cli_ms)
rc=0
cli_client aplay -D "$PLAY" -t raw -f $F -r $R -c $C "$CLI_TMP/b.raw" 2>"$CLI_TMP/b.err" || rc=$?
t1=$(cli_ms)
kill -0 "$apid" 2>/dev/null ||
	fail "the second aplay returned only after the first had finished ($((t1 - t0)) ms)"
[ $rc -ne 0 ] || fail "a second aplay on $PLAY succeeded while the first plays"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the second aplay hung (timeout)"
[ $((t1 - t0)) -lt 1500 ] || fail "the second aplay took $((t1 - t0)) ms to fail"
cli_expect_text "$CLI_TMP/b.err" "the second aplay" busy "card $LOOP_CARD" "subdevice $N" \
	"device 0" playback pid
pass "second aplay on loop:$N: exit $rc after $((t1 - t0)) ms: $(grep busy "$CLI_TMP/b.err" | head -1)"

# A second capture on loopcap:N.
rc=0
cli_client arecord -D "$CAP" -t raw -f $F -r $R -c $C -d 1 "$CLI_TMP/x.raw" \
	2>"$CLI_TMP/x.err" || rc=$?
kill -0 "$apid" 2>/dev/null || fail "the second arecord returned only after the aplay ended"
[ $rc -ne 0 ] || fail "a second arecord on $CAP succeeded while the first records"
cli_expect_text "$CLI_TMP/x.err" "the second arecord" busy "subdevice $N" "device 1" capture
pass "second arecord on loopcap:$N: exit $rc"

# The other cable of the same subdevice is a different pair of ends: free.
cli_client aplay -q -D "$CAP" -t raw -f $F -r $R -c $C "$CLI_TMP/zero.raw" 2>"$CLI_TMP/y.err" ||
	{ cat "$CLI_TMP/y.err" >&2; fail "aplay into loopcap:$N (the other cable) failed"; }
pass "the other cable's playback end (loopcap:$N) is free meanwhile"

cli_wait "$apid"
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/a.err" >&2; fail "the first aplay exited with $CLI_RC"; }
# Free at once: no retry, no delay.
cli_client aplay -q -D "$PLAY" -t raw -f $F -r $R -c $C "$CLI_TMP/zero.raw" 2>"$CLI_TMP/z.err" ||
	{ cat "$CLI_TMP/z.err" >&2; fail "aplay right after the first one exited failed"; }
pass "loop:$N is free as soon as the first aplay exits"

cli_wait "$rpid"
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/rec.err" >&2; fail "arecord exited with $CLI_RC"; }
"$AUDIOCHECK" compare "$CLI_TMP/a.raw" "$CLI_TMP/rec.raw" 4 0000 >"$CLI_TMP/cmp.out" 2>&1 || {
	cat "$CLI_TMP/cmp.out" >&2
	cli_keep "$CLI_TMP/a.raw" "$CLI_TMP/rec.raw"
	fail "the first aplay's recording is not bit-exact"
}
pass "the first aplay's recording: $(cat "$CLI_TMP/cmp.out")"
echo "PASS"
