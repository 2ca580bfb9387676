#!/bin/sh
# Each end runs in real time on its own: a playback nobody records is
# consumed at its rate, a capture nobody feeds records silence at its rate.
# Cables are isolated: other card keys, other subdevices and the other
# cable of the same subdevice never hear each other, even all at once.
# Durations are checked with wide margins only (shared, noisy CI machines).
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

F=S16_LE R=48000 C=2
A=$LOOP_CARD B=${LOOP_CARD}b
cli_card "$B"

# in_range MS LOW HIGH
in_range() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# 1. aplay of 2 s with nobody recording takes about 2 s.
cli_gen "$CLI_TMP/two.raw" $F $R $C 2
t0=$(cli_ms)
cli_client aplay -q -D "$(cli_dev loop 1)" -t raw -f $F -r $R -c $C "$CLI_TMP/two.raw" \
	2>"$CLI_TMP/err" || { cat "$CLI_TMP/err" >&2; fail "aplay with nobody recording failed"; }
t1=$(cli_ms)
in_range $((t1 - t0)) 1500 4000 ||
	fail "aplay of 2 s with nobody recording took $((t1 - t0)) ms (want 1500..4000)"
pass "aplay of 2 s, nobody recording: $((t1 - t0)) ms"

# 2. arecord -d 2 with nobody playing takes about 2 s and records silence:
# on the cable just played (the finished stream must not be heard again)
# and on a cable never used.
t0=$(cli_ms)
cli_bg arecord -q -D "$(cli_dev loopcap 2)" -t raw -f $F -r $R -c $C -d 2 "$CLI_TMP/new.raw" \
	2>"$CLI_TMP/new.err"
npid=$CLI_BG
cli_client arecord -q -D "$(cli_dev loopcap 1)" -t raw -f $F -r $R -c $C -d 2 \
	"$CLI_TMP/old.raw" 2>"$CLI_TMP/err" ||
	{ cat "$CLI_TMP/err" >&2; fail "arecord with nobody playing failed"; }
t1=$(cli_ms)
cli_wait "$npid"
t2=$(cli_ms)
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/new.err" >&2; fail "arecord on a new cable failed"; }
in_range $((t1 - t0)) 1500 4000 ||
	fail "arecord -d 2 with nobody playing took $((t1 - t0)) ms (want 1500..4000)"
in_range $((t2 - t0)) 1500 4000 || fail "arecord -d 2 on a new cable took $((t2 - t0)) ms"
for f in new old; do
	bytes=$(wc -c <"$CLI_TMP/$f.raw")
	[ "$bytes" -eq $((R * 4 * 2)) ] || fail "arecord -d 2 ($f cable) wrote $bytes bytes"
done
"$AUDIOCHECK" silent "$CLI_TMP/new.raw" 0000 >/dev/null ||
	fail "a capture on a never-used cable with nobody playing is not silence"
"$AUDIOCHECK" silent "$CLI_TMP/old.raw" 0000 || {
	cli_keep "$CLI_TMP/old.raw"
	fail "capture after a finished stream is not silence: it replays the old stream"
}
pass "arecord -d 2, nobody playing: $((t1 - t0)) ms, silence (used and new cable)"

# 3. Isolation, everything at once: three players with different signals
# (card A subdevice 3, card B subdevice 3, card A subdevice 4); five
# recorders.  Each capture hears exactly its own player or silence.
cli_gen "$CLI_TMP/a3.raw" $F $R $C 1
cli_gen "$CLI_TMP/b3.raw" $F $R $C 1
cli_gen "$CLI_TMP/a4.raw" $F $R $C 1
cmp -s "$CLI_TMP/a3.raw" "$CLI_TMP/b3.raw" && fail "sox made the same noise twice"
recs=
for r in "loopcap 3 $A a3" "loopcap 3 $B b3" "loopcap 4 $A a4" "loop 3 $A rev" \
	"loopcap 4 $B b4"; do
	# shellcheck disable=SC2086 # split "name subdev card tag"
	set -- $r
	rm -f "$CLI_TMP/rec-$4.raw"
	cli_bg arecord -q -D "$(cli_dev "$1" "$2" "$3")" -t raw -f $F -r $R -c $C \
		-s $((R * 3)) "$CLI_TMP/rec-$4.raw" 2>"$CLI_TMP/rec-$4.err"
	recs="$recs $4:$CLI_BG"
done
for r in $recs; do
	cli_wait_growth "$CLI_TMP/rec-${r%%:*}.raw" "${r#*:}" || {
		cat "$CLI_TMP/rec-${r%%:*}.err" >&2
		fail "recorder ${r%%:*} did not start"
	}
done
plays=
for p in "3 $A a3" "3 $B b3" "4 $A a4"; do
	# shellcheck disable=SC2086
	set -- $p
	cli_bg aplay -q -D "$(cli_dev loop "$1" "$2")" -t raw -f $F -r $R -c $C \
		"$CLI_TMP/$3.raw" 2>"$CLI_TMP/play-$3.err"
	plays="$plays $3:$CLI_BG"
done
for p in $plays; do
	cli_wait "${p#*:}"
	[ "$CLI_RC" -eq 0 ] || {
		cat "$CLI_TMP/play-${p%%:*}.err" >&2
		fail "player ${p%%:*} exited with $CLI_RC"
	}
done
for r in $recs; do
	cli_wait "${r#*:}"
	[ "$CLI_RC" -eq 0 ] || {
		cat "$CLI_TMP/rec-${r%%:*}.err" >&2
		fail "recorder ${r%%:*} exited with $CLI_RC"
	}
done
for s in a3 b3 a4; do
	"$AUDIOCHECK" compare "$CLI_TMP/$s.raw" "$CLI_TMP/rec-$s.raw" 4 0000 >"$CLI_TMP/cmp.out" 2>&1 || {
		cat "$CLI_TMP/cmp.out" >&2
		cli_keep "$CLI_TMP/$s.raw" "$CLI_TMP/rec-$s.raw"
		fail "capture $s did not record exactly its own player's signal"
	}
done
pass "card $A sub 3, card $B sub 3, card $A sub 4 at once: each capture bit-exact"
"$AUDIOCHECK" silent "$CLI_TMP/rec-rev.raw" 0000 >/dev/null ||
	fail "loop:3 (the other cable) heard what was played into loop:3"
"$AUDIOCHECK" silent "$CLI_TMP/rec-b4.raw" 0000 >/dev/null ||
	fail "card $B subdevice 4 (nobody playing) heard another cable"
pass "the reverse cable and an idle subdevice of card $B recorded silence"
echo "PASS"
