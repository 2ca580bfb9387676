#!/bin/sh
# kill -9 of one shared writer: three aplays play constant frames (distinct
# values on distinct channels) into sharedloop:N, 13 more openers hold the
# other places (16 in all: a 17th is refused), arecord records loopcap:N
# with 5 ms periods.  Writer B is killed mid-stream, and a new writer D
# opens at once (it only fits in B's place).  Checked on the recording:
# - every frame is an exact mix of some writers;
# - A and C are heard without a gap from their start to the end;
# - B is heard up to the kill (at least until what arecord had read
#   before it) and gone within 50 ms (+ one capture period) after it;
# - D is heard after B is gone, without a gap, to the end.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/shared.sh"

F=S16_LE R=48000 C=2 SUB=50 FB=4
PERIOD=240	# capture period, frames (5 ms)
# A left, B right, C both, D both (small): every subset mixes differently.
WA=1000,0 WB=0,2000 WC=4000,4000 WD=8,-16

i=0
for w in $WA $WB $WC $WD; do
	i=$((i + 1))
	# shellcheck disable=SC2046
	"$AUDIOCHECK" gen "$CLI_TMP/w$i.raw" $F $C $((R * 12)) $(echo "$w" | tr , ' ')
done
# The writers play 12 s, and are killed at the end: long enough for the 13
# holders to start on a loaded machine (seconds).
cli_bg arecord -q -D "$(cli_dev loopcap $SUB)" -t raw -f $F -r $R -c $C -d 18 \
	--period-size=$PERIOD --buffer-size=$((PERIOD * 20)) "$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
rpid=$CLI_BG
cli_wait_growth "$CLI_TMP/rec.raw" "$rpid" || {
	cat "$CLI_TMP/rec.err" >&2
	fail "arecord -D loopcap:$SUB did not start"
}
for i in 1 2 3; do
	cli_bg aplay -q -D "$(cli_dev sharedloop $SUB)" -t raw -f $F -r $R -c $C \
		"$CLI_TMP/w$i.raw" 2>"$CLI_TMP/w$i.err"
	eval "wp$i=\$CLI_BG"
	sleep 0.05
done
i=0
while [ $i -lt 13 ]; do
	shared_hold sharedloop $SUB
	i=$((i + 1))
done
sleep 0.4
for i in 1 2 3; do
	eval "p=\$wp$i"
	kill -0 "$p" 2>/dev/null || { cat "$CLI_TMP/w$i.err" >&2; fail "writer $i stopped early"; }
done
# All 16 places are taken: a 17th opener is refused.
head -c 1920 /dev/zero >"$CLI_TMP/z.raw"
if cli_client aplay -q -D "$(cli_dev sharedloop $SUB)" -t raw -f $F -r $R -c $C \
	"$CLI_TMP/z.raw" 2>"$CLI_TMP/z.err"; then
	fail "a 17th opener got into sharedloop:$SUB (the test needs all places taken)"
fi

# The kill; what arecord had read just before and just after it.
victim=$(shared_leaf "$wp2")
s1=$(stat -c %s "$CLI_TMP/rec.raw")
kill -KILL "$victim"
s2=$(stat -c %s "$CLI_TMP/rec.raw")
cli_wait "$wp2"
# D opens at once.  (The kernel drops the dead one's lock with its last
# file reference, which a concurrent reader of /proc/PID/stat may hold a
# moment after it was reaped: a few tries, noted.)
n=0
while :; do
	n=$((n + 1))
	cli_bg aplay -q -D "$(cli_dev sharedloop $SUB)" -t raw -f $F -r $R -c $C \
		"$CLI_TMP/w4.raw" 2>"$CLI_TMP/w4.err"
	wp4=$CLI_BG
	sleep 0.05
	# Running, or failed for another reason, or out of tries: go on.
	kill -0 "$wp4" 2>/dev/null && break
	grep -q busy "$CLI_TMP/w4.err" && [ $n -lt 10 ] || break
	cli_wait "$wp4"
done
[ $n -eq 1 ] || echo "note: the new writer got the place at try $n"
sleep 0.8
for i in 1 3 4; do
	eval "p=\$wp$i"
	kill -0 "$p" 2>/dev/null || {
		cat "$CLI_TMP/w$i.err" >&2
		why="it died"
		[ $i != 4 ] || why="the new writer could not take the place of the killed one"
		fail "writer $i is not playing any more: $why"
	}
done
shared_stop "$rpid"
for i in 1 3 4; do
	eval "p=\$wp$i"
	shared_kill "$p"
done
shared_release

"$AUDIOCHECK" runs "$CLI_TMP/rec.raw" $F $C >"$CLI_TMP/rec.rle" || fail "audiocheck runs"
if ! shared_analyze "$CLI_TMP/rec.rle" $F $C $R $WA $WB $WC $WD >"$CLI_TMP/ana.out"; then
	cat "$CLI_TMP/ana.out" "$CLI_TMP/rec.rle" | head -40 >&2
	cli_keep "$CLI_TMP/rec.raw"
	fail "the recording holds frames that are no mix of the writers"
fi
end=$(($(stat -c %s "$CLI_TMP/rec.raw") / FB - 1))
kill_lo=$((s1 / FB - 1))			# read before the kill: B was alive
kill_hi=$((s2 / FB + PERIOD + R / 20))	# the kill, + one period + 50 ms
f() { shared_field "$CLI_TMP/ana.out" "$1" "$2"; }
for i in 1 3; do
	name=$([ $i = 1 ] && echo A || echo C)
	if [ "$(f $i segments)" -ne 1 ] || [ "$(f $i last)" -ne $end ]; then
		bad "writer $name: heard in $(f $i segments) stretches, frames $(f $i first)..$(f $i last)," \
			"not without a gap to the end ($end)"
	else
		pass "writer $name heard without a gap, frames $(f $i first)..$end, across the kill"
	fi
done
bl=$(f 2 last)
if [ "$(f 2 segments)" -ne 1 ]; then
	bad "writer B heard in $(f 2 segments) stretches"
elif [ "$bl" -lt $kill_lo ]; then
	bad "writer B gone at frame $bl, before the kill (arecord had read $kill_lo frames then)"
elif [ "$bl" -gt $kill_hi ]; then
	bad "writer B still heard at frame $bl, more than 50 ms after the kill" \
		"(arecord had read $((s2 / FB)) frames just after it)"
else
	pass "writer B heard until frame $bl; killed between frames $kill_lo and $((s2 / FB))"
fi
df=$(f 4 first)
if [ "$(f 4 segments)" -ne 1 ] || [ "$(f 4 last)" -ne $end ]; then
	bad "new writer D: heard in $(f 4 segments) stretches, frames $df..$(f 4 last), not to the end"
elif [ "$df" -le "$bl" ]; then
	bad "new writer D heard from frame $df, while the killed B was still heard ($bl)"
else
	pass "new writer D took B's place: heard from frame $df ($(((df - s2 / FB) * 1000 / R)) ms" \
		"after the kill) to the end"
fi
[ "$fails" -eq 0 ] || { cat "$CLI_TMP/ana.out" "$CLI_TMP/rec.rle" | head -40 >&2; fail "$fails check(s) failed"; }
echo "PASS"
