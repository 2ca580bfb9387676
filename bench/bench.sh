#!/bin/sh
# bench.sh - measure the loopback against its peers and its limits; print
# one table.  Run through make (it builds the helpers first):
#
#   make bench            full run, about 14 minutes
#   make bench-quick      short run for CI, under 90 s
#   make bench-callgrind  instruction counts per second of audio
#
# or directly: bench/bench.sh --builddir DIR [--quick] [--callgrind] [--strict]
#
# The peers (PipeWire, PulseAudio) and the syscall counters (perf, strace)
# are used when installed (deps.sh: LOOP_BENCH_DEPS), never installed here;
# BENCH_PIPEWIRE_ALSA=DIR names an unpacked pipewire-alsa (bench/README).
#
# Every figure is a ratio against a baseline measured in the same run, or
# a count, or a time compared with a bound the buffer settings imply: the
# machine may be shared and noisy, absolute times mean little.
#
# Exit status: 1 only if something is broken (a client failed or crashed,
# a stream was not bit-exact, a helper is missing); a missed target is a
# "miss" in the table and exits 0 unless --strict.
set -eu

quick=0
callgrind=0
strict=0
builddir=
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--callgrind) callgrind=1 ;;
	--strict) strict=1 ;;
	--builddir) builddir="$2"; shift ;;
	--builddir=*) builddir="${1#--builddir=}" ;;
	*) echo "usage: bench.sh --builddir DIR [--quick] [--callgrind] [--strict]" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$builddir" ] || [ ! -f "$builddir/tests/lib/env.sh" ]; then
	echo "bench.sh: --builddir must name a configured build directory" >&2
	exit 2
fi
for prog in spawn latency ringcopy wakeup; do
	if [ ! -x "$builddir/bench/$prog" ]; then
		echo "bench.sh: $builddir/bench/$prog is missing: run 'make bench'" >&2
		exit 2
	fi
done
AUDIOCHECK="$builddir/tests/audiocheck"
if [ ! -x "$AUDIOCHECK" ]; then
	echo "bench.sh: $AUDIOCHECK is missing: run 'make bench'" >&2
	exit 2
fi
if [ ! -f "$builddir/.libs/libasound_module_pcm_loopback.so" ]; then
	echo "bench.sh: the plugin is not built in $builddir" >&2
	exit 2
fi

# A card key of our own: never meet a user's cables or a test's.
LOOP_CARD="bench$$"
export LOOP_CARD
. "$builddir/tests/lib/env.sh"
B="$builddir/bench"
tmp=$(mktemp -d /tmp/alsa-loopback-bench.XXXXXX)
rows="$tmp/rows"
: >"$rows"
# PIDs of the peers' daemons we started, one a line.
: >"$tmp/daemons"

cleanup() {
	for d in $(cat "$tmp/daemons" 2>/dev/null); do
		kill "$d" 2>/dev/null || true
	done
	loop_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Durations (seconds of audio).
# T_PEER: the side-by-side runs (PEER_PERIODS, buffer 4 periods; R_PEER
# rounds of the three systems, interleaved), T_PLAT
# their latency runs; T_SC: syscall tracing; T_LL_MB: the lossless file.
if [ "$quick" = 1 ]; then
	T_CPU=3; T_CPU0=0; R_CPU=1; T_LAT64=5; T_LAT=2; T_SCALE=3; SCALES="1 16"; T_COPY=1; T_CG=2
	T_PEER=3; R_PEER=1; T_PLAT=2; PEER_PERIODS="256"; T_SC=2; T_LL_MB=100
else
	T_CPU=5; T_CPU0=1; R_CPU=5; T_LAT64=60; T_LAT=15; T_SCALE=10; SCALES="1 16 64 256"; T_COPY=3; T_CG=10
	T_PEER=15; R_PEER=3; T_PLAT=10; PEER_PERIODS="256 1024"; T_SC=5; T_LL_MB=200
fi
FMT="-f S16_LE -r 48000 -c 2"

# row FIGURE MEASURED TARGET RESULT
row() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$rows"
}

# kv LINE KEY: the value of KEY=... in a key=value line.
kv() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# calc EXPR: floating point arithmetic; c3 EXPR: the same to 3 digits.
calc() {
	awk "BEGIN { x = $1; printf \"%.6g\n\", x }"
}
c3() {
	awk "BEGIN { x = $1; printf \"%.3g\n\", x }"
}

# median: the middle of the numbers on stdin (the rounds are odd in number,
# or a round was lost); spread: their range, "LOW-HIGH".
median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
spread() {
	sort -g | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//; s/ /-/'
}

# verdict VALUE OP LIMIT: pass/miss (n/a if VALUE is not a number).
verdict() {
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		if (v !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) { print "n/a"; exit }
		if (op == "<=") ok = v + 0 <= l + 0
		else if (op == ">=") ok = v + 0 >= l + 0
		else if (op == "abs<=") ok = v + 0 <= l + 0 && v + 0 >= -l
		else ok = 0
		print ok ? "pass" : "miss"
	}'
}

# exactness FIND_OFFSET_LINE (audiocheck find-offset): one phrase.
exactness() {
	if [ "$(kv "$1" exact)" = 1 ]; then
		echo "bit-exact"
	elif [ "$(kv "$1" found)" != 1 ]; then
		echo "not bit-exact: the stream is not in the recording"
	else
		_s="not bit-exact:"
		[ "$(kv "$1" head_lost)" = 0 ] || _s="$_s head lost $(kv "$1" head_lost) frames,"
		[ "$(kv "$1" tail_lost)" = 0 ] || _s="$_s tail lost $(kv "$1" tail_lost) frames,"
		if [ "$(kv "$1" differ)" != 0 ]; then
			_s="$_s $(kv "$1" differ) frames differ ($(kv "$1" silenced) silenced, max $(kv "$1" max_diff) LSB),"
		fi
		[ "$(kv "$1" extra)" = 0 ] || _s="$_s $(kv "$1" extra) extra frames,"
		echo "${_s%,}"
	fi
}

dev_loop() { echo "loop:SUBDEV=$1,CARD=$LOOP_CARD"; }
dev_cap() { echo "loopcap:SUBDEV=$1,CARD=$LOOP_CARD"; }

# xruns FILE: aplay/arecord report every xrun on stderr.
xruns() {
	grep -c -E 'underrun!!!|overrun!!!' "$1" 2>/dev/null || true
}

# pair NAME PLAYDEV CAPDEV SECONDS OPTS: one aplay + one arecord side by
# side under spawn; prints spawn's line, FAILs the row on a failure.
pair() {
	name=$1 pdev=$2 cdev=$3 secs=$4 opts=$5
	# shellcheck disable=SC2086
	if ! "$B/spawn" -e "$tmp/$name.err" -- \
		aplay -q -D "$pdev" $FMT $opts -d "$secs" /dev/zero ::: \
		arecord -q -D "$cdev" $FMT $opts -d "$secs" -t raw /dev/null \
		>"$tmp/$name.out" 2>>"$tmp/$name.err"; then
		row "$name: clients" "$(tail -n 3 "$tmp/$name.err" | tr '\n\t' '  ')" "exit 0" FAIL
		return 1
	fi
	cat "$tmp/$name.out"
}

# ---- machine ----------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
alsa_ver=$(sed -n 's/^#define SND_LIB_VERSION_STR[[:space:]]*"\(.*\)"/\1/p' \
	/usr/include/alsa/version.h 2>/dev/null || true)
machine="$(nproc) CPUs, ${cpu_model:-unknown CPU}, Linux $(uname -r), alsa-lib ${alsa_ver:-?}"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

# The peers' packages (deps.sh: LOOP_BENCH_DEPS): say which are missing.
# The bench installs nothing.
bench_missing=
# shellcheck disable=SC2154 # top_srcdir: from tests/lib/env.sh
if command -v dpkg-query >/dev/null && [ -f "$top_srcdir/deps.sh" ]; then
	for p in $(. "$top_srcdir/deps.sh" && echo "${LOOP_BENCH_DEPS:-}"); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			bench_missing="$bench_missing $p"
	done
fi

# ---- callgrind ----------------------------------------------------------------
if [ "$callgrind" = 1 ]; then
	if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
		echo "bench.sh: --callgrind needs valgrind (Debian package valgrind)" >&2
		exit 77
	fi
	echo "callgrind: aplay -> loop -> arecord, 48 kHz stereo S16, period 256, $T_CG s of audio"
	for side in play cap; do
		if [ $side = play ]; then
			set -- aplay -q -D "$(dev_loop 3)" $FMT --period-size=256 -d "$T_CG" /dev/zero
		else
			set -- arecord -q -D "$(dev_cap 3)" $FMT --period-size=256 -d "$T_CG" -t raw /dev/null
		fi
		valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.$side" "$@" \
			2>"$tmp/cg.$side.err" &
		eval "cg_$side=\$!"
	done
	cg_fail=0
	# shellcheck disable=SC2154
	wait "$cg_play" || cg_fail=1
	# shellcheck disable=SC2154
	wait "$cg_cap" || cg_fail=1
	if [ $cg_fail = 1 ]; then
		cat "$tmp"/cg.*.err >&2
		echo "bench.sh: a client failed under callgrind" >&2
		exit 1
	fi
	for side in play cap; do
		echo
		echo "$side end: instructions per second of audio in the plugin's functions"
		printf '%14s %14s  %s\n' "self Ir/s" "incl Ir/s" "function"
		for mode in no yes; do
			callgrind_annotate --threshold=100 --auto=no --inclusive=$mode \
				"$tmp/cg.$side" 2>/dev/null >"$tmp/cg.$side.$mode" || true
		done
		# Lines are "COUNT (PCT)  FILE:FUNCTION [OBJECT]"; a function may
		# appear once per source file name: sum self, keep the largest
		# inclusive.
		awk -v secs="$T_CG" '
			function fname(s) { sub(/^ *[0-9,]+ +\([^)]*\) +/, "", s); sub(/ \[.*$/, "", s);
					    sub(/^.*:/, "", s); return s }
			!/pcm_loop\.c|shm_ring\.[ch]|libasound_module_pcm_loopback/ { next }
			{ c = $1; gsub(/,/, "", c); f = fname($0) }
			FILENAME ~ /\.no$/ { self[f] += c; next }
			{ if (c > incl[f]) incl[f] = c; seen[f] = 1 }
			END { for (f in seen) printf "%14.0f %14.0f  %s\n", self[f] / secs,
					   (incl[f] > self[f] ? incl[f] : self[f]) / secs, f }
		' "$tmp/cg.$side.no" "$tmp/cg.$side.yes" | sort -k2 -n -r | head -n 25
		total=$(sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' "$tmp/cg.$side.no" | tr -d ,)
		echo "whole process, startup included: $(calc "${total:-0} / $T_CG") Ir/s"
	done
	exit 0
fi

echo "alsa-loopback benchmark ($([ $quick = 1 ] && echo quick || echo full)): $machine; load $load0"
if [ -n "$bench_missing" ]; then
	echo "not installed, their rows say n/a:$bench_missing"
	echo "  (apt-get install --no-install-recommends$bench_missing; deps.sh: LOOP_BENCH_DEPS)"
fi

# ---- 1. CPU per second of audio ------------------------------------------------
# The null PCM of alsa-lib 1.2.8 is not paced: its clients move the same
# bytes with no waiting at all, so it is what the clients cost with a
# device that costs nothing.  The floor: two bare processes that wake once
# per period and copy a period through shared memory (bench/wakeup -s), the
# least any paced two-process cable does.  What the loopback adds over null
# is held against that floor.
#
# Steady state: each run is made twice, T_CPU and T_CPU0 seconds long, and
# the difference is divided by T_CPU - T_CPU0, so that start-up (loading the
# configuration, creating the segment: once per stream, not per period) is
# left out of a per-period figure; it gets its own row.  (--quick: one run
# of T_CPU s, start-up included: a difference of two short runs is noise.)  One wake-up costs
# tens of microseconds here, and what a virtual CPU charges for it drifts
# from minute to minute by more than the margin the target leaves, so the
# three systems are interleaved in R_CPU rounds and the rows give the median
# round (the range of the rounds beside it).
floor_shm="/dev/shm/alsa-loopback-floor.$LOOP_CARD"
# cpu_run KIND SECS: CPU (us) of one run of loop, null or floor; fails if
# the clients did (the row says so).
cpu_run() {
	case $1 in
	loop) _l=$(pair "cpu-loop-$cfg" "$(dev_loop 1)" "$(dev_cap 1)" "$2" "$opts") || return 1 ;;
	null) _l=$(pair "cpu-null-$cfg" null null "$2" "$opts") || return 1 ;;
	floor) rm -f "$floor_shm"
		_l=$("$B/spawn" -- "$B/wakeup" -p $wp -t "$2" -s "$floor_shm" -d in ::: \
			"$B/wakeup" -p $wp -t "$2" -s "$floor_shm" -d out) || _l="cpu_us=0"
		rm -f "$floor_shm" ;;
	esac
	kv "$_l" cpu_us
}
for cfg in default 64 256 1024; do
	case $cfg in
	default) opts= ; wp=6000 ;;	# aplay's default: a quarter of 500 ms
	*) opts="--period-size=$cfg --buffer-size=$((cfg * 4))"; wp=$cfg ;;
	esac
	label="period $cfg"
	[ $cfg != default ] && label="period $cfg x4"
	: >"$tmp/cpu-rounds"
	for r in $(seq "$R_CPU"); do
		# Steady ms/s of loop, null and floor, then the start-up (ms) of loop and null.
		for k in loop null floor; do
			short=0
			long=$(cpu_run $k "$T_CPU") || continue 2
			if [ "$T_CPU0" != 0 ]; then
				short=$(cpu_run $k "$T_CPU0") || continue 2
			fi
			eval "${k}_rate=\$(calc \"($long - $short) / 1000 / ($T_CPU - $T_CPU0)\")"
			eval "${k}_start=\$(calc \"$short / 1000 - \$${k}_rate * $T_CPU0\")"
		done
		# shellcheck disable=SC2154 # set by the eval above
		awk -v l="$loop_rate" -v n="$null_rate" -v f="$floor_rate" -v ls="$loop_start" \
			-v ns="$null_start" 'BEGIN {
				printf "%.3g %.3g %.3g %.3g %.3g %.3g %.3g\n", (l - n) / (f > 0 ? f : 1e-9),
				       l / (n > 0 ? n : 1e-9), l, n, f, ls, ns
			}' >>"$tmp/cpu-rounds"
	done
	[ -s "$tmp/cpu-rounds" ] || continue
	# Every loop run's clients append to one file: all their xruns.
	cpu_xruns=$(xruns "$tmp/cpu-loop-$cfg.err")
	fr=$(cut -d' ' -f1 "$tmp/cpu-rounds" | median)
	# The median round's figures (the first round with that ratio).
	# shellcheck disable=SC2046
	set -- $(awk -v m="$fr" '$1 == m { print; exit }' "$tmp/cpu-rounds")
	range=
	[ "$R_CPU" -gt 1 ] && range="; $R_CPU rounds $(cut -d' ' -f1 "$tmp/cpu-rounds" | spread)x"
	# The old target (<= 1.3x null) is retired: null is not paced, no real
	# time device can come near it at small periods.  A figure only.
	row "1. CPU, $label: loop / null" "${2}x ($3 vs $4 ms/s)" "-" "info"
	fm="${fr}x ($(c3 "$3 - $4") vs $5 ms/s$range)"
	if [ $cfg = default ]; then
		row "1. CPU, $label: (loop - null) / floor" "$fm" "-" "info"
	else
		row "1. CPU, $label: (loop - null) / floor" "$fm" "<= 1.2x" "$(verdict "$fr" "<=" 1.2)"
	fi
	[ "$T_CPU0" = 0 ] ||
		row "1. start-up, $label: loop vs null (both clients, once a stream)" \
			"$(c3 "$6") vs $(c3 "$7") ms" "-" "info"
	row "1. xruns, $label (aplay+arecord)" "$cpu_xruns" "0" "$(verdict "$cpu_xruns" "<=" 0)"
done

# The plugin's timer pattern priced on its own: per period it reads the
# expiry, re-arms an already expired time ("ready now") and then arms the
# next deadline; one deadline per period is the alternative.
tp() {
	"$B/spawn" -- "$B/wakeup" -p 64 -t "$T_TP" -m "$1" ::: "$B/wakeup" -p 64 -t "$T_TP" -m "$1" |
		sed -n 's/.*cpu_us=\([0-9]*\).*/\1/p'
}
T_TP=$((T_CPU * R_CPU / 4 + 1))
tp_plugin=$(tp plugin) tp_oneshot=$(tp oneshot) tp_periodic=$(tp periodic)
row "1. timer pattern, period 64: plugin's / one deadline" \
	"$(calc "$tp_plugin / $tp_oneshot")x ($(calc "$tp_plugin / 1000 / $T_TP") vs $(calc "$tp_oneshot / 1000 / $T_TP") ms/s; periodic timer $(calc "$tp_periodic / 1000 / $T_TP"))" \
	"-" "info"

# ---- 2. latency, jitter, wake-ups; 5. clock ---------------------------------------
for p in 32 64 256 1024; do
	secs=$T_LAT
	[ $p = 64 ] && secs=$T_LAT64
	if ! l=$("$B/latency" -P "$(dev_loop 2)" -C "$(dev_cap 2)" -p $p -n 4 -t "$secs" -R \
		2>"$tmp/lat$p.err"); then
		row "2. latency, period $p x4" "$(tail -n 2 "$tmp/lat$p.err" | tr '\n\t' '  ')" \
			"bit-exact" FAIL
		continue
	fi
	ms() { calc "$(kv "$l" "$1") / 1000"; }
	row "2. latency p50/p99/max, period $p x4, ${secs}s" \
		"$(ms lat_p50_us)/$(ms lat_p99_us)/$(ms lat_max_us) ms (bound p50 $(ms bound_p50_us))" \
		"-" "info"
	ex=$(ms excess_p99_us)
	row "2. latency p99 over bound, period $p" "$ex ms (max $(ms excess_max_us))" \
		"<= 0.25 ms" "$(verdict "$ex" "<=" 0.25)"
	row "2. timer wake-up lateness p50/p99/max, period $p" \
		"$(ms wake_p50_us)/$(ms wake_p99_us)/$(ms wake_max_us) ms" "-" "info"
	x=$(( $(kv "$l" play_xruns) + $(kv "$l" cap_xruns) ))
	row "2. xruns, period $p x4, ${secs}s (SCHED_FIFO: $(kv "$l" rt))" "$x" \
		"$([ $p = 64 ] && echo 0 || echo -)" \
		"$([ $p = 64 ] && verdict "$x" "<=" 0 || echo info)"
	if [ $p = 64 ]; then
		for e in cap play; do
			v=$(kv "$l" ${e}_ppm)
			row "5. clock, $e end vs CLOCK_MONOTONIC, ${secs}s" "$v ppm" "within 20 ppm" \
				"$(verdict "$v" "abs<=" 20)"
		done
	fi
done

# ---- 3. scale ----------------------------------------------------------------------
scale1=
for n in $SCALES; do
	set --
	for i in $(seq 1 "$n"); do
		s=$((i + 9))
		[ $# -gt 0 ] && set -- "$@" :::
		set -- "$@" aplay -q -D "$(dev_loop $s)" $FMT --period-size=1024 -d "$T_SCALE" /dev/zero \
			::: arecord -q -D "$(dev_cap $s)" $FMT --period-size=1024 -d "$T_SCALE" -t raw /dev/null
	done
	if ! lo=$("$B/spawn" -e "$tmp/scale$n.err" -- "$@" 2>>"$tmp/scale$n.err"); then
		row "3. scale $n cables: clients" "$(tail -n 2 "$tmp/scale$n.err" | tr '\n\t' '  ')" \
			"exit 0" FAIL
		continue
	fi
	# The same clients on null.
	nargs=$(printf '%s\n' "$@" | sed "s/^loop\(cap\)\{0,1\}:SUBDEV=.*/null/")
	# shellcheck disable=SC2086
	set -- $nargs
	nu=$("$B/spawn" -- "$@" 2>/dev/null) || true
	per=$(calc "$(kv "$lo" cpu_us) / $n / 1000 / $T_SCALE")
	[ -z "$scale1" ] && scale1=$per
	flat=$(calc "$per / $scale1")
	row "3. scale $n cables: CPU per cable (x of 1 cable)" "$per ms/s (${flat}x)" \
		"<= 1.5x (flat)" "$(verdict "$flat" "<=" 1.5)"
	x=$(xruns "$tmp/scale$n.err")
	row "3. scale $n cables: xruns" "$x" "$([ "$n" -le 64 ] && echo 0 || echo -)" \
		"$([ "$n" -le 64 ] && verdict "$x" "<=" 0 || echo info)"
	# The last one out of a cable removes its segment: what is left after
	# the clients closed is what a cable costs when nobody uses it.
	left=$(ls "$LOOP_SHM"/alsa-loopback-"$LOOP_CARD".* 2>/dev/null | grep -v -E '\.[123]$' |
		wc -l)
	row "3. scale $n cables: memory per cable" \
		"segments left after close: $left; clients RSS $(( $(kv "$lo" maxrss_kb) / n )) KiB (null $(( $(kv "$nu" maxrss_kb) / n )) KiB)" \
		"0 left" "$(verdict "$left" "<=" 0)"
	rm -f $LOOP_SHM/alsa-loopback-"$LOOP_CARD".[1-9][0-9]*
done

# ---- 4. the copy -------------------------------------------------------------------
for c in 64 1024; do
	if ! r=$("$B/ringcopy" -f 4 -c $c -t "$T_COPY" 2>"$tmp/copy.err"); then
		row "4. shm_ring copy, $c frames" "$(tail -n 1 "$tmp/copy.err")" "bit-exact" FAIL
		continue
	fi
	for d in write read; do
		v=$(kv "$r" ${d}_ratio)
		row "4. shm_ring_$d / memcpy, $c x 4 B" \
			"${v}x ($(calc "$(kv "$r" ring_${d}_fps) / 1e6") vs $(calc "$(kv "$r" memcpy_${d}_fps) / 1e6") Mframes/s)" \
			">= 0.8x" "$(verdict "$v" ">=" 0.8)"
	done
done

# ---- 6. peers ------------------------------------------------------------------
# The same clients (aplay + arecord), format, period and buffer through our
# loopback, PipeWire and PulseAudio, one after the other in this run.  CPU
# of every process involved: the clients (wait4) and the peer's daemons
# (/proc/PID/stat over the run).  arecord starts, aplay 0.5 s later plays
# T_PEER s of white noise, arecord records T_PEER + 2 s;
# tests/audiocheck find-offset looks for the noise in the recording.  Latency: bench/latency (both ends in one process, no
# SCHED_FIFO for anyone) on the same devices and sizes.
noise="$tmp/noise.raw"
head -c $((T_PEER * 48000 * 4)) /dev/urandom >"$noise"
hz=$(getconf CLK_TCK)
daemons=

# daemon_us: CPU time of $daemons and all their threads, in us: the
# scheduler's ns (/proc/PID/task/TID/schedstat) where the kernel has it,
# else utime + stime in clock ticks (10 ms steps: coarse for a short run).
daemon_us() {
	_t=0
	for _d in $daemons; do
		if [ -r "/proc/$_d/schedstat" ]; then
			_v=$(cat "/proc/$_d/task"/*/schedstat 2>/dev/null |
				awk '{ s += $1 } END { printf "%.0f", s / 1000 }')
		else
			# The fields after "(comm) ": utime and stime are the 12th and 13th.
			_v=$(sed 's/^.*) //' "/proc/$_d/stat" 2>/dev/null |
				awk -v hz="$hz" '{ printf "%.0f", ($12 + $13) * 1000000 / hz }')
		fi
		_t=$((_t + ${_v:-0}))
	done
	echo "$_t"
}

# daemon_rss_mib: resident size of $daemons.
daemon_rss_mib() {
	_k=0
	for _d in $daemons; do
		_v=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$_d/status" 2>/dev/null)
		_k=$((_k + ${_v:-0}))
	done
	c3 "$_k / 1024"
}

# start_daemon LOG CMD...: run a daemon in the background, remember it.
start_daemon() {
	_log=$1
	shift
	"$@" >"$_log" 2>&1 &
	daemons="$daemons $!"
	echo $! >>"$tmp/daemons"
}

# daemon_error: the last error line of the daemons' logs ($daemon_log).
daemon_error() {
	# shellcheck disable=SC2086
	grep -h -E '^E:|[Ee]rror|[Aa]ssert|[Aa]bort' $daemon_log 2>/dev/null | tail -n 1 | cut -c1-160
}

stop_daemons() {
	for _d in $daemons; do
		kill "$_d" 2>/dev/null || true
	done
	for _d in $daemons; do
		wait "$_d" 2>/dev/null || true
	done
	daemons=
	: >"$tmp/daemons"
}

# peer SYS PERIOD PLAYDEV CAPDEV: one side-by-side run in round $peer_round:
# adds "ROUND SYS PERIOD MS_PER_S" to $tmp/peer-ms; in round 1 the rest of
# the system's row (exactness, latency, daemons) goes to
# $tmp/peer-desc.SYS.PERIOD.  A failure, or a loop stream not bit-exact in
# a later round, makes its own row at once.
peer() {
	_sys=$1 _p=$2 _pd=$3 _cd=$4
	_name="peer-$_sys-$_p"
	_opts="--period-size=$_p --buffer-size=$((_p * 4))"
	_fig="6. $_p/$((_p * 4)), ${T_PEER}s: $(sys_name "$_sys")"
	# A peer's clients get a second try (PipeWire's ALSA plugin now and
	# then hands aplay an EINTR it does not retry); the row says so.
	_tries=$([ "$_sys" = loop ] && echo 1 || echo 2)
	_retry=
	while :; do
		: >"$tmp/$_name.err"
		_t0=$(daemon_us)
		# shellcheck disable=SC2086
		_o=$("$B/spawn" -e "$tmp/$_name.err" -s 0.5 -- \
			arecord -q -D "$_cd" $FMT $_opts -d $((T_PEER + 2)) -t raw "$tmp/$_name.raw" ::: \
			aplay -q -D "$_pd" $FMT $_opts -t raw "$noise" \
			2>>"$tmp/$_name.err") && break
		_why="clients failed: $(tail -n 2 "$tmp/$_name.err" | tr '\n\t' '  ')"
		_dead=0
		for _d in $daemons; do
			kill -0 "$_d" 2>/dev/null || _dead=1
		done
		[ $_dead = 0 ] || _why="a daemon died ($(daemon_error)); $_why"
		_tries=$((_tries - 1))
		if [ $_dead = 1 ] || [ $_tries = 0 ]; then
			row "$_fig" "$_why${_retry:+ (the 2nd try too)}" "exit 0" \
				"$([ "$_sys" = loop ] && echo FAIL || echo n/a)"
			return 0
		fi
		_retry=$_why
	done
	_t1=$(daemon_us)
	_rss=$(daemon_rss_mib)
	_cpu=$(calc "$(kv "$_o" cpu_us) + $_t1 - $_t0")
	_ms=$(c3 "$_cpu / 1000 / $T_PEER")
	echo "$peer_round $_sys $_p $_ms" >>"$tmp/peer-ms"
	_f=$("$AUDIOCHECK" find-offset "$noise" "$tmp/$_name.raw" 2>&1) || true
	rm -f "$tmp/$_name.raw"
	_ex=$(exactness "$_f")
	if [ "$peer_round" != 1 ]; then
		_lat=
	elif _l=$("$B/latency" -P "$_pd" -C "$_cd" -p "$_p" -n 4 -t "$T_PLAT" 2>"$tmp/$_name.lat"); then
		_lat="latency p50/p99 $(c3 "$(kv "$_l" lat_p50_us) / 1000")/$(c3 "$(kv "$_l" lat_p99_us) / 1000") ms"
	else
		_lat="latency n/a ($(tail -n 1 "$tmp/$_name.lat" | sed 's/^latency: //'))"
	fi
	_x=$(xruns "$tmp/$_name.err")
	_m=
	[ -n "$daemons" ] && _m="daemons $(c3 "($_t1 - $_t0) / 1000 / $T_PEER") ms/s, RSS $_rss MiB; "
	_m="$_m$_ex;${_lat:+ $_lat;} xruns $_x${_retry:+; 2nd try, 1st: $_retry}"
	if [ "$_sys" = loop ]; then
		# Lost with an xrun to explain it (a loaded machine): a miss;
		# lost or changed without one: broken.
		if [ "$(kv "$_f" exact)" = 1 ]; then
			_v=pass
		elif [ "$_x" -gt 0 ]; then
			_v=miss
		else
			_v=FAIL
		fi
	else
		_v=info
	fi
	if [ "$peer_round" = 1 ]; then
		printf '%s\t%s\n' "$_m" "$_v" >"$tmp/peer-desc.$_sys.$_p"
	elif [ "$_v" != pass ] && [ "$_v" != info ]; then
		row "$_fig, round $peer_round" "$_ms ms/s; $_m" "bit-exact" "$_v"
	fi
}

sys_name() {
	case $1 in
	loop) echo "loopback" ;;
	pw) echo "PipeWire" ;;
	pa) echo "PulseAudio" ;;
	esac
}

# PipeWire: a private daemon with a null sink (support.null-audio-sink,
# which also drives the graph), WirePlumber to link the streams (it wants a
# session bus: a private dbus-daemon), the ALSA plugin of pipewire-alsa.
# Everything under a private XDG_RUNTIME_DIR: no systemd user session.
pw_why=
pw_plugin=
if ! command -v pipewire >/dev/null; then
	pw_why="pipewire not installed"
elif ! command -v wireplumber >/dev/null; then
	pw_why="wireplumber not installed"
elif ! command -v dbus-daemon >/dev/null; then
	pw_why="dbus-daemon not installed (WirePlumber needs a session bus)"
else
	for f in /usr/lib/*/alsa-lib/libasound_module_pcm_pipewire.so \
		"${BENCH_PIPEWIRE_ALSA:-/nonexistent}/libasound_module_pcm_pipewire.so" \
		"${BENCH_PIPEWIRE_ALSA:-/nonexistent}"/usr/lib/*/alsa-lib/libasound_module_pcm_pipewire.so; do
		if [ -f "$f" ]; then
			pw_plugin=$f
			break
		fi
	done
	# pipewire-alsa conflicts with pulseaudio in Debian 12: bench/README
	# says how to unpack it next to pulseaudio instead.
	[ -n "$pw_plugin" ] || pw_why="no PipeWire ALSA plugin: install pipewire-alsa, or unpack it and set BENCH_PIPEWIRE_ALSA (bench/README)"
fi
if [ -z "$pw_why" ]; then
	pw="$tmp/pw"
	mkdir -p "$pw/run"
	chmod 700 "$pw/run"
	cat >"$pw/pipewire.conf" <<PWCONF
context.properties = {
    core.daemon = true
    core.name = pipewire-0
    link.max-buffers = 16
    mem.allow-mlock = false
    default.clock.rate = 48000
    default.clock.allowed-rates = [ 48000 ]
    default.clock.quantum = 1024
    default.clock.min-quantum = 16
    default.clock.max-quantum = 8192
    default.clock.quantum-limit = 8192
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.* = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-client-device }
    { name = libpipewire-module-access }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
    { name = libpipewire-module-session-manager }
]
context.objects = [
    { factory = adapter
        args = {
            factory.name = support.null-audio-sink
            node.name = bench-sink
            media.class = Audio/Sink
            audio.rate = 48000
            audio.channels = 2
            audio.position = [ FL FR ]
            monitor.channel-volumes = false
            priority.driver = 30000
            priority.session = 30000
        }
    }
]
PWCONF
	{
		case $pw_plugin in
		/usr/lib/*) ;;
		*) echo "pcm_type.pipewire { lib \"$pw_plugin\" }" ;;
		esac
		echo 'pcm.bench_pw_play { type pipewire playback_node "bench-sink" }'
		echo 'pcm.bench_pw_cap { type pipewire capture_node "bench-sink" }'
	} >"$pw/asound.conf"
fi

# round_pw: one round of PipeWire runs, fresh daemons for each size: one
# run cannot spoil the next.
round_pw() {
	(
		export XDG_RUNTIME_DIR="$pw/run" PIPEWIRE_RUNTIME_DIR="$pw/run" HOME="$pw" \
			XDG_CONFIG_HOME="$pw/config" XDG_STATE_HOME="$pw/state" \
			DBUS_SESSION_BUS_ADDRESS="unix:path=$pw/run/bus" \
			ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$pw/asound.conf"
		unset DISPLAY WAYLAND_DISPLAY PIPEWIRE_REMOTE
		daemon_log="$pw/dbus.log $pw/pipewire.log $pw/wireplumber.log"
		for p in $PEER_PERIODS; do
			rm -rf "$pw/run"/* "$pw/state"
			start_daemon "$pw/dbus.log" dbus-daemon --session \
				--address="$DBUS_SESSION_BUS_ADDRESS" --nofork --nopidfile --nosyslog
			start_daemon "$pw/pipewire.log" pipewire -c "$pw/pipewire.conf"
			for _ in $(seq 1 50); do
				[ -S "$pw/run/pipewire-0" ] && [ -S "$pw/run/bus" ] && break
				sleep 0.1
			done
			start_daemon "$pw/wireplumber.log" wireplumber
			# Ready when WirePlumber made the null sink the default.
			why="WirePlumber did not set up the null sink in 10 s"
			for _ in $(seq 1 100); do
				if timeout 2 pw-metadata -n default 0 default.audio.sink 2>/dev/null |
					grep -q bench-sink; then
					why=
					break
				fi
				sleep 0.1
			done
			for d in $daemons; do
				kill -0 "$d" 2>/dev/null || why="a daemon exited"
			done
			if [ -n "$why" ]; then
				row "6. $p/$((p * 4)), ${T_PEER}s: PipeWire" "n/a: $why: $(daemon_error)" \
					"-" "n/a"
			else
				peer pw "$p" bench_pw_play bench_pw_cap
			fi
			stop_daemons
		done
	)
}

# PulseAudio: a private daemon with a null sink; we read its monitor.
pa_why=
if ! command -v pulseaudio >/dev/null; then
	pa_why="pulseaudio not installed"
elif ! ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1; then
	pa_why="ALSA pulse plugin (libasound2-plugins) not installed"
fi
[ -n "$pa_why" ] || { pd="$tmp/pulse"; mkdir -p "$pd"; }

# round_pa: one round of PulseAudio runs, a fresh daemon for each size.
round_pa() {
	(
		# Everything private: socket, cookie, state; no autospawn.
		export HOME="$pd" XDG_RUNTIME_DIR="$pd" PULSE_RUNTIME_PATH="$pd" \
			PULSE_STATE_PATH="$pd" XDG_CONFIG_HOME="$pd" PULSE_SERVER="unix:$pd/native"
		unset DISPLAY DBUS_SESSION_BUS_ADDRESS
		daemon_log="$pd/log"
		for p in $PEER_PERIODS; do
			rm -f "$pd/native"
			start_daemon "$pd/log" pulseaudio --daemonize=no --exit-idle-time=-1 -n --no-cpu-limit \
				--use-pid-file=no --log-target=stderr \
				-L "module-null-sink sink_name=bench rate=48000 channels=2" \
				-L "module-native-protocol-unix socket=$pd/native auth-anonymous=1"
			for _ in $(seq 1 100); do
				[ -S "$pd/native" ] && break
				sleep 0.1
			done
			# shellcheck disable=SC2086
			if [ ! -S "$pd/native" ] || ! kill -0 $daemons 2>/dev/null; then
				row "6. $p/$((p * 4)), ${T_PEER}s: PulseAudio" \
					"n/a: daemon did not start: $(tail -n 1 "$pd/log")" "-" "n/a"
			else
				peer pa "$p" pulse:bench pulse:bench.monitor
			fi
			stop_daemons
		done
	)
}

for peer_round in $(seq "$R_PEER"); do
	for p in $PEER_PERIODS; do
		peer loop "$p" "$(dev_loop 4)" "$(dev_cap 4)"
	done
	[ -n "$pw_why" ] || round_pw
	[ -n "$pa_why" ] || round_pa
done

# peer_ms SYS P: SYS's ms/s at P, one round a line.
peer_ms() {
	awk -v s="$1" -v p="$2" '$2 == s && $3 == p { print $4 }' "$tmp/peer-ms"
}
# The rows: each system's median round, then loop / peer round by round.
for p in $PEER_PERIODS; do
	for sys in loop pw pa; do
		eval "why=\${${sys}_why:-}"
		fig="6. $p/$((p * 4)), ${T_PEER}s: $(sys_name $sys)"
		if [ -n "$why" ]; then
			row "$fig" "n/a: $why" "-" "n/a"
		elif [ -f "$tmp/peer-desc.$sys.$p" ]; then
			m=$(peer_ms $sys "$p" | median)
			[ "$R_PEER" -gt 1 ] && m="$m ms/s ($R_PEER rounds $(peer_ms $sys "$p" | spread))" ||
				m="$m ms/s"
			IFS='	' read -r desc verdict_ <"$tmp/peer-desc.$sys.$p"
			row "$fig" "$m; $desc" "$([ $sys = loop ] && echo bit-exact || echo -)" "$verdict_"
		fi
	done
	for sys in pw pa; do
		case $sys in
		pw) lim=0.3333333 tgt="<= 1/3" ;;
		pa) lim=0.2 tgt="<= 1/5" ;;
		esac
		fig="6. CPU $p/$((p * 4)): loop / $(sys_name $sys)"
		# Round by round: both measured within a few minutes of each other.
		awk -v s="$sys" -v p="$p" '$3 == p && $2 == "loop" { l[$1] = $4 }
			$3 == p && $2 == s { m[$1] = $4 }
			END { for (r in l) if ((r in m) && m[r] > 0) printf "%.3g\n", l[r] / m[r] }' \
			"$tmp/peer-ms" >"$tmp/peer-ratio"
		if [ -s "$tmp/peer-ratio" ]; then
			r=$(median <"$tmp/peer-ratio")
			n=$(wc -l <"$tmp/peer-ratio")
			m="${r}x ($(peer_ms loop "$p" | median) vs $(peer_ms $sys "$p" | median) ms/s, medians"
			[ "$n" -gt 1 ] && m="$m; $n rounds $(spread <"$tmp/peer-ratio")x"
			row "$fig" "$m)" "$tgt" "$(verdict "$r" "<=" $lim)"
		else
			row "$fig" "n/a: $(sys_name $sys) did not run (above)" "$tgt" "n/a"
		fi
	done
done

# ---- 7. syscalls per period ---------------------------------------------------------
# aplay into loop and arecord from loopcap at period 1024, both watched for
# T_SC s once running.  perf stat counts the syscall tracepoints of each
# process without stopping it; strace (ptrace) stops the client at every
# syscall, which slows it: a second opinion, or the only one without perf.
# The clients' own syscalls are their file I/O: aplay reads its input on
# fd 0, arecord writes to fd 1.  Everything else is ours: the plugin's and
# what alsa-lib does for it.  Periods: the traced time at 48000/1024 Hz.
sc_p=1024
SC_EVENTS="poll ppoll timerfd_settime read write clock_nanosleep futex ioctl"

# sc_run TOOL: one traced run; adds a row per end.
sc_run() {
	_tool=$1
	# shellcheck disable=SC2086
	aplay -q -D "$(dev_loop 5)" $FMT --period-size=$sc_p --buffer-size=$((sc_p * 4)) -t raw \
		-d $((T_SC + 3)) - </dev/zero 2>"$tmp/sc.play.err" &
	_play=$!
	# shellcheck disable=SC2086
	arecord -q -D "$(dev_cap 5)" $FMT --period-size=$sc_p --buffer-size=$((sc_p * 4)) -t raw \
		-d $((T_SC + 3)) >/dev/null 2>"$tmp/sc.cap.err" &
	_cap=$!
	# The floor beside them: a bare process on a periodic timerfd.
	"$B/wakeup" -p $sc_p -t $((T_SC + 3)) >/dev/null 2>"$tmp/sc.floor.err" &
	_floor=$!
	sleep 1
	for _end in play cap floor; do
		# _own, _fd: the client's own I/O (the floor has none: fd 99).
		case $_end in
		play) _pid=$_play _own="read" _fd=0 ;;
		cap) _pid=$_cap _own="write" _fd=1 ;;
		floor) _pid=$_floor _own="write" _fd=99 ;;
		esac
		rm -f "$tmp/sc.$_end"
		if [ "$_tool" = perf ]; then
			set -- -e duration_time -e raw_syscalls:sys_enter
			for _e in $SC_EVENTS; do
				set -- "$@" -e "syscalls:sys_enter_$_e"
			done
			timeout -s INT "$T_SC" perf stat -x, -o "$tmp/sc.$_end" "$@" \
				-e "syscalls:sys_enter_$_own" --filter "fd == $_fd" -p "$_pid" \
				2>"$tmp/sc.$_end.tool" &
		else
			timeout -s INT "$T_SC" strace -f -qq -e signal=none -ttt -o "$tmp/sc.$_end" \
				-p "$_pid" 2>"$tmp/sc.$_end.tool" &
		fi
		eval "_t_$_end=\$!"
	done
	# shellcheck disable=SC2154
	wait "$_t_play" || true
	# shellcheck disable=SC2154
	wait "$_t_cap" || true
	# shellcheck disable=SC2154
	wait "$_t_floor" || true
	_fail=0
	wait $_play || _fail=1
	wait $_cap || _fail=1
	wait $_floor || true
	for _end in play cap floor; do
		case $_end in
		play) _who=aplay _own="read(0," _ev="read" ;;
		cap) _who=arecord _own="write(1," _ev="write" ;;
		floor) _who=floor _own="write(99," _ev="write" ;;
		esac
		_fig="7. syscalls per period, $_who end, period $sc_p ($_tool)"
		_tgt="<= 1 ours"
		[ "$_tool" = strace ] && [ "$sc_tool" = perf ] && _tgt="-"
		if [ $_end = floor ]; then
			# What a bare periodic wake-up needs: the least for any
			# end that sleeps in poll() on a timer (bench/wakeup.c).
			_fig="7. syscalls per period, floor: bare poll() on a periodic timerfd ($_tool)"
			_tgt="-"
		fi
		if [ $_fail = 1 ]; then
			row "$_fig" "$_who failed: $(tail -n 1 "$tmp/sc.$_end.err")" "exit 0" FAIL
			continue
		fi
		if [ "$_tool" = perf ]; then
			# CSV: count,unit,event,...; the filtered event comes last.
			_res=$(awk -F, -v ev="syscalls:sys_enter_$_ev" -v rate=48000 -v p=$sc_p '
				/^#/ || NF < 3 { next }
				$3 == "duration_time" { secs = $1 / 1e9; next }
				$3 == "raw_syscalls:sys_enter" { total = $1; next }
				{ name = $3; sub(/^syscalls:sys_enter_/, "", name)
				  if ($3 == ev && (name in n)) { own = $1; n[name] -= $1; next }
				  n[name] = $1; order[++k] = name }
				END {
					periods = secs * rate / p
					if (periods < 1) { print "periods=0"; exit }
					s = ""; named = 0
					for (i = 1; i <= k; i++) {
						named += n[order[i]]
						if (n[order[i]] / periods >= 0.01)
							s = s sprintf("%s%s %.2f", s == "" ? "" : ", ",
								      order[i], n[order[i]] / periods)
					}
					if ((total - own - named) / periods >= 0.01)
						s = s sprintf(", other %.2f", (total - own - named) / periods)
					printf "periods=%d ours=%.2f own=%.2f list=%s\n", periods,
						(total - own) / periods, own / periods, s
				}' "$tmp/sc.$_end" 2>/dev/null)
		else
			# "PID TIME name(args) = ret", one a line; periods from the
			# first to the last line's time.
			_res=$(awk -v own="$_own" -v rate=48000 -v p=$sc_p '
				# restart_syscall: the poll strace interrupted to attach.
				/resumed>/ || /<unfinished/ || /restart_syscall/ || !/\(/ { next }
				{
					t = $2; if (t0 == "") t0 = t; t1 = t
					line = $0; sub(/^[0-9]+ +[0-9.]+ +/, "", line)
					name = line; sub(/\(.*/, "", name)
					if (index(line, own) == 1) { mine++; next }
					n[name]++; total++
				}
				END {
					periods = (t1 - t0) * rate / p
					if (periods < 1) { print "periods=0"; exit }
					s = ""
					for (k in n) if (n[k] / periods >= 0.01)
						s = s sprintf("%s%s %.2f", s == "" ? "" : ", ", k, n[k] / periods)
					printf "periods=%d ours=%.2f own=%.2f list=%s\n", periods,
						total / periods, mine / periods, s
				}' "$tmp/sc.$_end" 2>/dev/null)
		fi
		_periods=$(printf '%s\n' "$_res" | sed -n 's/.*periods=\([0-9]*\).*/\1/p')
		if [ "${_periods:-0}" -lt 10 ]; then
			row "$_fig" "n/a: $_tool could not watch it: $(tail -n 1 "$tmp/sc.$_end.tool")" \
				"$_tgt" "n/a"
			continue
		fi
		_ours=$(printf '%s\n' "$_res" | sed -n 's/.* ours=\([0-9.]*\).*/\1/p')
		_mine=$(printf '%s\n' "$_res" | sed -n 's/.* own=\([0-9.]*\).*/\1/p')
		_list=$(printf '%s\n' "$_res" | sed -n 's/.* list=//p')
		if [ "$_tgt" = "-" ]; then
			_v=info
		else
			_v=$(verdict "$_ours" "<=" 1)
		fi
		if [ $_end = floor ]; then
			row "$_fig" "$_ours ($_list); $_periods periods" "$_tgt" "$_v"
		else
			row "$_fig" "$_ours ours ($_list) + $_mine the client's own; $_periods periods" \
				"$_tgt" "$_v"
		fi
	done
}

sc_tool=
if command -v perf >/dev/null &&
	perf stat -e raw_syscalls:sys_enter -o /dev/null -- true >/dev/null 2>&1; then
	sc_tool=perf
elif command -v strace >/dev/null; then
	sc_tool=strace
fi
if [ -z "$sc_tool" ]; then
	row "7. syscalls per period, period $sc_p" \
		"n/a: neither perf (with syscall tracepoints) nor strace available" "<= 1 ours" "n/a"
else
	sc_run "$sc_tool"
	# The slowed client too: what the plugin does when it is late.
	if [ "$sc_tool" = perf ] && [ "$quick" = 0 ] && command -v strace >/dev/null; then
		sc_run strace
	fi
fi

# ---- 8. lossless throughput -----------------------------------------------------------
# Only if the plugin has a lossless clock: the playback waits
# for the capture instead of the clock, so a cable moves data as fast as
# the two clients go.  Against a kernel pipe (cat > fifo, cat fifo >) moving
# the same file in this run; both outputs are compared with the input.
ll_conf="$tmp/lossless.conf"
cat >"$ll_conf" <<LLCONF
pcm.bench_ll_play { type loopback device 0 subdevice 6 card "$LOOP_CARD" clock lossless }
pcm.bench_ll_cap { type loopback device 1 subdevice 6 card "$LOOP_CARD" clock lossless }
LLCONF
ll_env="ALSA_CONFIG_PATH=$ALSA_CONFIG_PATH:$ll_conf"
ll_opts="--period-size=4096 --buffer-size=16384"
head -c 1024 /dev/zero >"$tmp/tiny.raw"
fig="8. lossless aplay -> arecord, period 4096, $T_LL_MB MB: throughput / pipe"
# shellcheck disable=SC2086
if ! env "$ll_env" timeout 20 "$B/spawn" -e "$tmp/ll.probe" -- \
	aplay -q -D bench_ll_play $FMT $ll_opts -t raw "$tmp/tiny.raw" ::: \
	arecord -q -D bench_ll_cap $FMT $ll_opts -s 256 -t raw /dev/null \
	>/dev/null 2>>"$tmp/ll.probe"; then
	if grep -q "unknown field" "$tmp/ll.probe"; then
		row "$fig" "n/a: plugin has no lossless clock" ">= 0.5x" "n/a"
	else
		row "$fig" "probe failed: $(tail -n 2 "$tmp/ll.probe" | tr '\n\t' '  ')" ">= 0.5x" FAIL
	fi
else
	ll_in="$tmp/ll.in"
	head -c $((T_LL_MB * 1000000 / 4 * 4)) /dev/urandom >"$ll_in"
	ll_frames=$(( $(stat -c %s "$ll_in") / 4 ))
	mkfifo "$tmp/ll.fifo"
	pipe=$("$B/spawn" -- sh -c "cat '$ll_in' >'$tmp/ll.fifo'" ::: \
		sh -c "cat '$tmp/ll.fifo' >'$tmp/ll.out'") || pipe="wall_us=0"
	cmp -s "$ll_in" "$tmp/ll.out" || pipe="wall_us=0"
	rm -f "$tmp/ll.out"
	# shellcheck disable=SC2086
	# The capture first: the playback starts 0.2 s later (taken off the time).
	if ! lo=$(env "$ll_env" timeout $((T_LL_MB + 60)) "$B/spawn" -e "$tmp/ll.err" -s 0.2 -- \
		arecord -q -D bench_ll_cap $FMT $ll_opts -s "$ll_frames" -t raw "$tmp/ll.out" ::: \
		aplay -q -D bench_ll_play $FMT $ll_opts -t raw "$ll_in" \
		2>>"$tmp/ll.err"); then
		row "$fig" "clients failed: $(tail -n 2 "$tmp/ll.err" | tr '\n\t' '  ')" ">= 0.5x" FAIL
	else
		f=$("$AUDIOCHECK" find-offset "$ll_in" "$tmp/ll.out" 2>&1) || true
		ex=$(exactness "$f")
		pw_us=$(kv "$pipe" wall_us)
		lw_us=$(( $(kv "$lo" wall_us) - 200000 ))
		bytes=$(stat -c %s "$ll_in")
		if [ "${pw_us:-0}" = 0 ]; then
			row "$fig" "n/a: the pipe run failed" ">= 0.5x" "n/a"
		elif [ "$(kv "$f" exact)" != 1 ]; then
			row "$fig" "$ex" "bit-exact" FAIL
		else
			r=$(c3 "$pw_us / $lw_us")
			row "$fig" "${r}x ($(c3 "$bytes / $lw_us") vs $(c3 "$bytes / $pw_us") MB/s; bit-exact; CPU $(c3 "$(kv "$lo" cpu_us) / 1000000") vs $(c3 "$(kv "$pipe" cpu_us) / 1000000") s)" \
				">= 0.5x" "$(verdict "$r" ">=" 0.5)"
		fi
	fi
	rm -f "$ll_in" "$tmp/ll.out" "$tmp/ll.fifo"
fi

# ---- 9. shared cables ---------------------------------------------------------------
. "$(dirname "$0")/shared.sh"

# ---- 10. tap and watch --------------------------------------------------------------
. "$(dirname "$0")/tap.sh"

# ---- the table ---------------------------------------------------------------------
echo
awk -F '\t' '
	{ f[NR] = $1; m[NR] = $2; t[NR] = $3; r[NR] = $4
	  if (length($1) > w1) w1 = length($1); if (length($2) > w2) w2 = length($2)
	  if (length($3) > w3) w3 = length($3) }
	END {
		fmt = "%-" w1 "s | %-" w2 "s | %-" w3 "s | %s\n"
		printf fmt, "figure", "measured", "target", "result"
		line = sprintf(fmt, "", "", "", ""); gsub(/[^|]/, "-", line); print line "------"
		for (i = 1; i <= NR; i++) printf fmt, f[i], m[i], t[i], r[i]
	}' "$rows"
echo
fails=$(awk -F '\t' '$4 == "FAIL"' "$rows" | wc -l)
misses=$(awk -F '\t' '$4 == "miss"' "$rows" | wc -l)
echo "machine: $machine; load before $load0, after $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s"
echo "$fails broken, $misses targets missed"
[ "$fails" -eq 0 ] || exit 1
[ "$strict" = 0 ] || [ "$misses" -eq 0 ] || exit 1
exit 0
