# bench/shared.sh - shared cables, sourced by bench/bench.sh (its row,
# verdict, c3, xruns, $B, $tmp, $FMT, $quick): what summing costs a capture
# per playback, whether 16 playbacks and 16 captures hold real time at
# 256-frame periods, and what a lone shared playback costs against the
# exclusive one.  CPU is user+sys of whole processes (bench/spawn).

sh_dev() { echo "$1:SUBDEV=$2,CARD=$LOOP_CARD"; }
SH_OPTS="--period-size=256 --buffer-size=1024"

# sh_run TAG SUB WRITERS READERS SECS WDEV RDEV: WRITERS aplays into WDEV,
# READERS arecords from RDEV; sets sh_wcpu sh_rcpu (us) and sh_xruns.
sh_run() {
	tag=$1 sub=$2 nw=$3 nr=$4 secs=$5 wdev=$6 rdev=$7
	rcmd= wcmd=
	for _i in $(seq "$nr"); do
		rcmd="$rcmd${rcmd:+ ::: }arecord -q -D $(sh_dev "$rdev" "$sub") $FMT $SH_OPTS -d $secs -t raw /dev/null"
	done
	for _i in $(seq "$nw"); do
		wcmd="$wcmd${wcmd:+ ::: }aplay -q -D $(sh_dev "$wdev" "$sub") $FMT $SH_OPTS -d $((secs + 2)) -t raw $tmp/sh-noise.raw"
	done
	: >"$tmp/sh-$tag.err"
	# Staggered starts (50 ms apart): a client being set up must not starve
	# the ones already running (that would measure start-up, not mixing).
	# shellcheck disable=SC2086
	"$B/spawn" -s 0.05 -e "$tmp/sh-$tag.err" -- $rcmd >"$tmp/sh-$tag.r" 2>>"$tmp/sh-$tag.err" &
	_rp=$!
	sleep $(c3 "0.2 + 0.05 * $nr")
	# shellcheck disable=SC2086
	"$B/spawn" -s 0.05 -e "$tmp/sh-$tag.err" -- $wcmd >"$tmp/sh-$tag.w" 2>>"$tmp/sh-$tag.err" || true
	wait "$_rp" || true
	sh_rcpu=$(kv "$(cat "$tmp/sh-$tag.r")" cpu_us)
	sh_wcpu=$(kv "$(cat "$tmp/sh-$tag.w")" cpu_us)
	sh_xruns=$(xruns "$tmp/sh-$tag.err")
}

if [ "$quick" = 1 ]; then T_SH=3; T_SH16=5; else T_SH=10; T_SH16=60; fi
# Writers play noise a little longer than the readers record.
head -c $((48000 * 4 * (T_SH16 + 2))) /dev/urandom >"$tmp/sh-noise.raw"

# Summing: the capture's CPU with 1, 4 and 16 playbacks mixed.
sh_cpu1= sh_ratio=
for n in 1 4 16; do
	sh_run "mix$n" $((200 + n)) "$n" 1 "$T_SH" sharedloop loopcap
	[ -n "$sh_cpu1" ] || sh_cpu1=$sh_rcpu
	sh_ratio="$sh_ratio${sh_ratio:+ / }$(c3 "$sh_rcpu / $sh_cpu1")"
	sh_last=$(c3 "$sh_rcpu / $sh_cpu1")
done
row "shared: capture CPU with 1/4/16 playbacks mixed, vs 1 (256-frame periods)" \
	"$sh_ratio" "16 playbacks <= 16x" "$(verdict "$sh_last" "<=" 16)"

# 16 playbacks + 16 captures on one cable, in real time.
sh_run "full" 220 16 16 "$T_SH16" sharedloop sharedloopcap
row "shared: 16 playbacks + 16 captures, 256-frame periods, ${T_SH16} s" \
	"$sh_xruns xruns, $(c3 "($sh_wcpu + $sh_rcpu) / 1000000") s CPU" "0 xruns" \
	"$(verdict "$sh_xruns" "<=" 0)"

# A lone playback: shared against exclusive (the mix path is never taken).
sh_run "excl" 230 1 1 "$T_SH" loop loopcap
sh_excl=$((sh_wcpu + sh_rcpu))
sh_run "lone" 231 1 1 "$T_SH" sharedloop loopcap
sh_lone=$((sh_wcpu + sh_rcpu))
row "shared: one playback, CPU of sharedloop vs loop (both clients)" \
	"$(c3 "$sh_lone / $sh_excl")x" "<= 1.2x (noise)" "$(verdict "$(c3 "$sh_lone / $sh_excl")" "<=" 1.2)"
