#!/bin/sh
# bench.sh - measure the loopback against its peers and its limits; print
# one table.  Run through make (it builds the helpers first):
#
#   make bench            full run, about 6 minutes
#   make bench-quick      short run for CI, under 2 minutes
#   make bench-callgrind  instruction counts per second of audio
#
# or directly: bench/bench.sh --builddir DIR [--quick] [--callgrind] [--strict]
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
if [ -z "$builddir" ] || [ ! -f "$builddir/tests/env.sh" ]; then
	echo "bench.sh: --builddir must name a configured build directory" >&2
	exit 2
fi
for prog in spawn latency ringcopy wakeup; do
	if [ ! -x "$builddir/bench/$prog" ]; then
		echo "bench.sh: $builddir/bench/$prog is missing: run 'make bench'" >&2
		exit 2
	fi
done
if [ ! -f "$builddir/.libs/libasound_module_pcm_loopback.so" ]; then
	echo "bench.sh: the plugin is not built in $builddir" >&2
	exit 2
fi

# A card key of our own: never meet a user's cables or a test's.
LOOP_CARD="bench$$"
export LOOP_CARD
. "$builddir/tests/env.sh"
B="$builddir/bench"
tmp=$(mktemp -d /tmp/alsa-loopback-bench.XXXXXX)
rows="$tmp/rows"
: >"$rows"
pulse_pid=

cleanup() {
	if [ -n "$pulse_pid" ]; then
		kill "$pulse_pid" 2>/dev/null || true
		wait "$pulse_pid" 2>/dev/null || true
	fi
	loop_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Durations (seconds of audio).
if [ "$quick" = 1 ]; then
	T_CPU=5; T_LAT64=10; T_LAT=3; T_SCALE=5; SCALES="1 16"; T_COPY=1; T_CG=2
else
	T_CPU=20; T_LAT64=60; T_LAT=15; T_SCALE=10; SCALES="1 16 64 256"; T_COPY=3; T_CG=10
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

# calc EXPR: floating point arithmetic.
calc() {
	awk "BEGIN { x = $1; printf \"%.6g\n\", x }"
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

# ---- 1. CPU per second of audio ------------------------------------------------
# The null PCM of alsa-lib 1.2.8 is not paced: its clients move the same
# bytes with no waiting at all, so it is the floor: what the clients cost
# with a device that costs nothing.
loop_default_cpu=
for cfg in default p256 p64; do
	case $cfg in
	default) opts= ; wp=6000 ;;	# aplay's default: a quarter of 500 ms
	p256) opts=--period-size=256; wp=256 ;;
	p64) opts=--period-size=64; wp=64 ;;
	esac
	lo=$(pair "cpu-loop-$cfg" "$(dev_loop 1)" "$(dev_cap 1)" "$T_CPU" "$opts") || continue
	nu=$(pair "cpu-null-$cfg" null null "$T_CPU" "$opts") || continue
	fl=$("$B/spawn" -- "$B/wakeup" -p $wp -t "$T_CPU" ::: "$B/wakeup" -p $wp -t "$T_CPU") ||
		fl="cpu_us=0"
	lc=$(kv "$lo" cpu_us)
	nc=$(kv "$nu" cpu_us)
	fc=$(kv "$fl" cpu_us)
	[ $cfg = default ] && loop_default_cpu=$lc
	ratio=$(calc "$lc / ($nc > 0 ? $nc : 1)")
	row "1. CPU, period $cfg: loop / null" \
		"${ratio}x ($(calc "$lc / 1000 / $T_CPU") vs $(calc "$nc / 1000 / $T_CPU") ms/s)" \
		"<= 1.3x" "$(verdict "$ratio" "<=" 1.3)"
	# What the plugin adds over null, against bare timer wake-ups of two
	# processes at the same period: 1x would be "nothing but waking up".
	row "1. CPU, period $cfg: (loop - null) / bare wake-ups" \
		"$(calc "($lc - $nc) / ($fc > 0 ? $fc : 1)")x ($(calc "($lc - $nc) / 1000 / $T_CPU") vs $(calc "$fc / 1000 / $T_CPU") ms/s)" \
		"-" "info"
	x=$(xruns "$tmp/cpu-loop-$cfg.err")
	row "1. xruns, period $cfg (aplay+arecord)" "$x" "0" "$(verdict "$x" "<=" 0)"
done

# The plugin's timer pattern priced on its own: per period it reads the
# expiry, re-arms an already expired time ("ready now") and then arms the
# next deadline; one deadline per period is the alternative.
tp() {
	"$B/spawn" -- "$B/wakeup" -p 64 -t "$T_TP" -m "$1" ::: "$B/wakeup" -p 64 -t "$T_TP" -m "$1" |
		sed -n 's/.*cpu_us=\([0-9]*\).*/\1/p'
}
T_TP=$((T_CPU / 4 + 1))
tp_plugin=$(tp plugin) tp_oneshot=$(tp oneshot) tp_periodic=$(tp periodic)
row "1. timer pattern, period 64: plugin's / one deadline" \
	"$(calc "$tp_plugin / $tp_oneshot")x ($(calc "$tp_plugin / 1000 / $T_TP") vs $(calc "$tp_oneshot / 1000 / $T_TP") ms/s; periodic timer $(calc "$tp_periodic / 1000 / $T_TP"))" \
	"-" "info"

# PulseAudio: a private daemon with a null sink; we read its monitor.
pulse_why=
if ! command -v pulseaudio >/dev/null; then
	pulse_why="pulseaudio not installed"
elif ! ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1; then
	pulse_why="ALSA pulse plugin (libasound2-plugins) not installed"
else
	pd="$tmp/pulse"
	mkdir -p "$pd"
	# Everything private: socket, cookie, state; no autospawn for clients.
	HOME="$pd" XDG_RUNTIME_DIR="$pd" PULSE_RUNTIME_PATH="$pd" PULSE_STATE_PATH="$pd" \
	XDG_CONFIG_HOME="$pd" pulseaudio --daemonize=no --exit-idle-time=-1 -n \
		--use-pid-file=no --log-target=stderr \
		-L "module-null-sink sink_name=bench rate=48000 channels=2" \
		-L "module-native-protocol-unix socket=$pd/native auth-anonymous=1" \
		>"$pd/log" 2>&1 &
	pulse_pid=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -S "$pd/native" ] && break
		sleep 0.5
	done
	if [ ! -S "$pd/native" ] || ! kill -0 "$pulse_pid" 2>/dev/null; then
		pulse_why="daemon did not start: $(tail -n 1 "$pd/log")"
	fi
fi
if [ -z "$pulse_why" ]; then
	# utime + stime of the daemon in clock ticks.
	ticks() { awk '{ print $14 + $15 }' "/proc/$pulse_pid/stat"; }
	hz=$(getconf CLK_TCK)
	t0=$(ticks)
	if pu=$(export HOME="$pd" PULSE_SERVER="unix:$pd/native" PULSE_RUNTIME_PATH="$pd"
		pair cpu-pulse pulse:bench pulse:bench.monitor "$T_CPU" ""); then
		t1=$(ticks)
		pc=$(calc "$(kv "$pu" cpu_us) + ($t1 - $t0) * 1000000 / $hz")
		ratio=$(calc "${loop_default_cpu:-0} / $pc")
		row "1. CPU, period default: loop / PulseAudio" \
			"${ratio}x ($(calc "${loop_default_cpu:-0} / 1000 / $T_CPU") vs $(calc "$pc / 1000 / $T_CPU") ms/s)" \
			"<= 0.05x" "$(verdict "$ratio" "<=" 0.05)"
	fi
	kill "$pulse_pid" 2>/dev/null || true
	wait "$pulse_pid" 2>/dev/null || true
	pulse_pid=
else
	row "1. CPU, period default: loop / PulseAudio" "n/a ($pulse_why)" "<= 0.05x" "n/a"
fi

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
	segs=$(ls /dev/shm/alsa-loopback-"$LOOP_CARD".* 2>/dev/null | grep -v -E '\.[123]$' | wc -l)
	seg_bytes=$(stat -c %s "/dev/shm/alsa-loopback-$LOOP_CARD.10")
	# tmpfs allocates on touch: allocated blocks are the resident pages.
	seg_res=$(du -ck $(ls /dev/shm/alsa-loopback-"$LOOP_CARD".* | grep -v -E '\.[123]$') |
		tail -n 1 | cut -f1)
	row "3. scale $n cables: memory per cable" \
		"segment $((seg_bytes / 1024)) KiB, $((seg_res / segs)) KiB resident; clients RSS $(( $(kv "$lo" maxrss_kb) / n )) KiB (null $(( $(kv "$nu" maxrss_kb) / n )) KiB)" \
		"-" "info"
	rm -f /dev/shm/alsa-loopback-"$LOOP_CARD".[1-9][0-9]*
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
