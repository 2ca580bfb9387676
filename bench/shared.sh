# bench/shared.sh - shared cables, sourced by bench/bench.sh (its rec,
# xruns, $B, $tmp, $FMT, $quick): what summing costs a capture per playback,
# whether 16 playbacks and 16 captures hold real time at 256-frame periods,
# and what a lone shared playback costs against the exclusive one.  CPU is
# user+sys of whole processes (bench/spawn); bench/report.py makes the rows.

sh_dev() { echo "$1:SUBDEV=$2,CARD=$LOOP_CARD"; }
SH_OPTS="--period-size=256 --buffer-size=1024"

# sh_run TAG SUB WRITERS READERS SECS WDEV RDEV: WRITERS aplays into WDEV,
# READERS arecords from RDEV; sets sh_w and sh_r (spawn's lines: cpu_us=...)
# and sh_xruns.
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
	sleep "$(((200 + 50 * nr) / 1000)).$(printf '%03d' $(((200 + 50 * nr) % 1000)))"
	# shellcheck disable=SC2086
	"$B/spawn" -s 0.05 -e "$tmp/sh-$tag.err" -- $wcmd >"$tmp/sh-$tag.w" 2>>"$tmp/sh-$tag.err" || true
	wait "$_rp" || true
	sh_r=$(cat "$tmp/sh-$tag.r")
	sh_w=$(cat "$tmp/sh-$tag.w")
	sh_xruns=$(xruns "$tmp/sh-$tag.err")
}

if [ "$quick" = 1 ]; then T_SH=3; T_SH16=5; else T_SH=10; T_SH16=60; fi
# Writers play noise a little longer than the readers record.
head -c $((48000 * 4 * (T_SH16 + 2))) /dev/urandom >"$tmp/sh-noise.raw"

# Summing: the capture's CPU with 1, 4 and 16 playbacks mixed.
set --
for n in 1 4 16; do
	sh_run "mix$n" $((200 + n)) "$n" 1 "$T_SH" sharedloop loopcap
	set -- "$@" "capture_$n=$sh_r"
done
rec shared-mix "$@"

# 16 playbacks + 16 captures on one cable, in real time.
sh_run "full" 220 16 16 "$T_SH16" sharedloop sharedloopcap
rec shared-full "secs=$T_SH16" "playbacks=$sh_w" "captures=$sh_r" "xruns=$sh_xruns"

# A lone playback: shared against exclusive (the mix path is never taken).
sh_run "excl" 230 1 1 "$T_SH" loop loopcap
set -- "loop_playback=$sh_w" "loop_capture=$sh_r"
sh_run "lone" 231 1 1 "$T_SH" sharedloop loopcap
rec shared-lone "$@" "shared_playback=$sh_w" "shared_capture=$sh_r"
