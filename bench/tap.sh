# bench/tap.sh - what "alsa-loopback tap" and "watch" cost the streams,
# sourced by bench/bench.sh after shared.sh (its rec, $B, $builddir, $tmp,
# $quick, sh_run): aplay -> arecord at 256-frame periods with and without a
# tap and a watch on the cable, rounds interleaved; and what the tap and the
# watch cost themselves.  CPU is user+sys of whole processes (bench/spawn);
# bench/report.py makes the rows.  Neither holds an end or a lock nor
# writes the segment, so the goal is nothing measurable.

TAP_TOOL="$builddir/alsa-loopback"
if [ "$quick" = 1 ]; then T_TAP=3; R_TAP=1; else T_TAP=10; R_TAP=3; fi

# tap_round ROUND SUB WITH: one aplay -> arecord run on SUB (sh_run), with
# a tap and a watch (every 0.5 s) on the cable if WITH is 1; records it.
tap_round() {
	_ts='' _ws='' _tag="$([ "$3" = 1 ] && echo on || echo off)$1"
	if [ "$3" = 1 ]; then
		# The tap waits for the cable's lock (arecord takes it first).
		"$B/spawn" -e "$tmp/tap-$_tag.err" -- "$TAP_TOOL" --card "$LOOP_CARD" tap \
			--duration "$T_TAP" "$2" /dev/null >"$tmp/tap-$_tag.t" 2>>"$tmp/tap-$_tag.err" &
		_tp=$!
		"$B/spawn" -e "$tmp/tap-$_tag.err" -- "$TAP_TOOL" --card "$LOOP_CARD" watch \
			--interval 0.5 --count $((T_TAP * 2)) >"$tmp/tap-$_tag.w" 2>>"$tmp/tap-$_tag.err" &
		_wp=$!
	fi
	sh_run "$_tag" "$2" 1 1 "$T_TAP" loop loopcap
	if [ "$3" = 1 ]; then
		wait "$_tp" || true
		wait "$_wp" || true
		_ts=$(cat "$tmp/tap-$_tag.t")
		# spawn's line is the last one: the watch's tables go before it.
		_ws=$(tail -n 1 "$tmp/tap-$_tag.w")
	fi
	rec tap "round=$1" "with=$3" "secs=$T_TAP" "playback=$sh_w" "capture=$sh_r" \
		"xruns=$sh_xruns" "tap=$_ts" "watch=$_ws"
}

# Round k: without, then with (bench/report.py pairs them by round).
for k in $(seq "$R_TAP"); do
	tap_round "$k" $((240 + k)) 0
	tap_round "$k" $((250 + k)) 1
done
rec tap-end "rounds=$R_TAP"
