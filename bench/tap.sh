# bench/tap.sh - what "alsa-loopback tap" and "watch" cost the streams,
# sourced by bench/bench.sh after shared.sh (its row, verdict, c3, kv,
# median, $B, $builddir, $tmp, $quick, sh_run): aplay -> arecord at
# 256-frame periods with and without a tap and a watch on the cable,
# rounds interleaved; and what the tap and the watch cost themselves.  CPU
# is user+sys of whole processes (bench/spawn).  Neither holds an end or a
# lock nor writes the segment, so the goal is nothing measurable.

TAP_TOOL="$builddir/alsa-loopback"
if [ "$quick" = 1 ]; then T_TAP=3; R_TAP=1; else T_TAP=10; R_TAP=3; fi

# tap_round TAG SUB WITH: one aplay -> arecord run on SUB (sh_run), with a
# tap and a watch (every 0.5 s) on the cable if WITH is 1; sets tap_streams,
# tap_self, watch_self (us).
tap_round() {
	tap_self=0 watch_self=0
	if [ "$3" = 1 ]; then
		# The tap waits for the cable's lock (arecord takes it first).
		"$B/spawn" -e "$tmp/tap-$1.err" -- "$TAP_TOOL" --card "$LOOP_CARD" tap \
			--duration "$T_TAP" "$2" /dev/null >"$tmp/tap-$1.t" 2>>"$tmp/tap-$1.err" &
		_tp=$!
		"$B/spawn" -e "$tmp/tap-$1.err" -- "$TAP_TOOL" --card "$LOOP_CARD" watch \
			--interval 0.5 --count $((T_TAP * 2)) >"$tmp/tap-$1.w" 2>>"$tmp/tap-$1.err" &
		_wp=$!
	fi
	sh_run "$1" "$2" 1 1 "$T_TAP" loop loopcap
	tap_streams=$((sh_wcpu + sh_rcpu))
	if [ "$3" = 1 ]; then
		wait "$_tp" || true
		wait "$_wp" || true
		tap_self=$(kv "$(cat "$tmp/tap-$1.t")" cpu_us)
		# spawn's line is the last one: the watch's tables go before it.
		watch_self=$(kv "$(tail -n 1 "$tmp/tap-$1.w")" cpu_us)
	fi
}

: >"$tmp/tap-ratio"
: >"$tmp/tap-self"
: >"$tmp/watch-self"
tap_x=0
for k in $(seq "$R_TAP"); do
	tap_round "off$k" $((240 + k)) 0
	tap_off=$tap_streams
	tap_x=$((tap_x + sh_xruns))
	tap_round "on$k" $((250 + k)) 1
	tap_x=$((tap_x + sh_xruns))
	c3 "$tap_streams / $tap_off" >>"$tmp/tap-ratio"
	c3 "$tap_self / $T_TAP / 1000" >>"$tmp/tap-self"
	c3 "$watch_self / $T_TAP / 1000" >>"$tmp/watch-self"
done
tap_r=$(median <"$tmp/tap-ratio")
row "tap: aplay+arecord CPU with a tap and a watch on the cable vs without (256-frame periods)" \
	"${tap_r}x, $tap_x xruns" "<= 1.1x (noise)" "$(verdict "$tap_r" "<=" 1.1)"
row "tap: its own CPU, 48 kHz stereo S16 (watch every 0.5 s beside it)" \
	"$(median <"$tmp/tap-self") ms/s (watch $(median <"$tmp/watch-self") ms/s)" "info" info
