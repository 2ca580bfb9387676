#!/bin/sh
# A cable costs nothing when nobody uses it: the last opener to leave an
# idle segment (no end held, every control at its default) removes it.
# The race that removal opens: an opener that found the file just before
# the last one out unlinked it must not stay on the unlinked file while its
# peer makes a new one.  Here churners open and close the other cable of
# one subdevice as fast as they can (the segment is made and removed over
# and over) while player/recorder pairs start and stream on it: every pair
# must be bit-exact (a player left on an unlinked file would play to
# nobody), and nothing may be left in the directory afterwards.
set -eu
. "$top_builddir/tests/lib/env.sh"
RS="$top_builddir/tests/streamer"
[ -x "$RS" ] || fail "$RS is not built (make check builds it)"
N=5 F=9600 ROUNDS=${LIFETIME_ROUNDS:-40}
work=$(mktemp -d)
churners=
stop_churn() {
	for c in $churners; do
		kill "$c" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	churners=
}
loop_at_exit 'stop_churn; rm -rf "$work"'
seg="$LOOP_SHM/alsa-loopback-$LOOP_CARD.$N"

# The other cable of subdevice N (device 1 playback, device 0 capture):
# the same segment, never the pair's ends.  EBUSY among churners is fine.
churn() {
	i=0
	while [ ! -e "$work/stop" ]; do
		alsa_client "$RS" open -D "loopcap:SUBDEV=$N,CARD=$LOOP_CARD" >/dev/null 2>&1 || true
		alsa_client "$RS" open -C -D "loop:SUBDEV=$N,CARD=$LOOP_CARD" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	echo "$i" >"$work/churn.$1"
}
for k in 1 2 3; do
	churn "$k" &
	churners="$churners $!"
done

# rec_bg ARGS...: the streamer in the background, as $! itself (a signal
# reaches it, not a shell).
rec_bg() {
	(
		if [ -n "$SANITIZER_PRELOAD" ]; then
			export LD_PRELOAD="$SANITIZER_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
		fi
		exec "$RS" "$@"
	) &
}
# field NAME FILE: NAME=value from the summary line in FILE.
field() {
	sed -n "s/^summary .* $1=\([0-9]*\).*/\1/p" "$2" | head -n 1
}

ok=0 stalled=0
# The recorder records until it heard the whole pattern (-d 0), however late
# a loaded machine starts the player, or until 5 s after the player ended,
# when it is asked for its summary.  A pair on two files hears nothing of
# the pattern with no xrun on either side: that fails.  A pattern cut by an
# xrun (a machine that stalled a client) proves nothing either way: the
# round is run again, at most ROUNDS/4 times in all.
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	rec_bg rec -D "loopcap:SUBDEV=$N,CARD=$LOOP_CARD" -e $F -d 0 -T 60 >"$work/rec" 2>&1
	rec=$!
	_wi=0
	while ! grep -qx started "$work/rec" 2>/dev/null && [ $_wi -lt 1000 ]; do
		_wi=$((_wi + 1)); sleep 0.01
	done
	sta=0 str=0
	alsa_client "$RS" play -D "loop:SUBDEV=$N,CARD=$LOOP_CARD" -n $F -T 30 >"$work/play" 2>&1 ||
		sta=$?
	_wi=0
	while kill -0 "$rec" 2>/dev/null && [ $_wi -lt 500 ]; do
		_wi=$((_wi + 1)); sleep 0.01
	done
	kill -TERM "$rec" 2>/dev/null || true
	wait "$rec" || str=$?
	if [ "$sta" = 0 ] && [ "$str" = 0 ] && [ "$(field complete "$work/rec")" = 1 ]; then
		ok=$((ok + 1))
	elif [ "$sta" = 0 ] &&
	     [ "$(field xruns "$work/rec")$(field xruns "$work/play")" != 00 ] &&
	     [ "$(field bad "$work/rec")" = 0 ] && [ $stalled -lt $((ROUNDS / 4)) ]; then
		stalled=$((stalled + 1))
		echo "note: round $r: an xrun cut the pattern (the machine stalled): again"
		r=$((r - 1))
	else
		bad "round $r: player $sta, recorder $str"
		cat "$work/play" "$work/rec"
	fi
done
: >"$work/stop"
for c in $churners; do
	wait "$c" || true	# each ends its cycle: nothing half made
done
churners=
cycles=0
for k in 1 2 3; do
	[ -f "$work/churn.$k" ] && cycles=$((cycles + $(cat "$work/churn.$k")))
done
[ "$cycles" -ge 10 ] || bad "the churners ran only $cycles cycles: no race was tried"
echo "$ok of $ROUNDS pairs bit-exact while 3 churners made and removed the segment ($cycles cycles; $stalled rounds again after an xrun)"
[ ! -e "$seg" ] || bad "an idle segment was left behind: $(ls -l "$seg")"
left=$(ls "$LOOP_SHM" 2>/dev/null | grep -c "^alsa-loopback-$LOOP_CARD\." || true)
[ "$left" = 0 ] || bad "$left files of card $LOOP_CARD left in $LOOP_SHM"
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
