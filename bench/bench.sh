#!/bin/sh
# bench.sh - measure the loopback against its peers and its limits; print
# one table.  Run through make (it builds the helpers first):
#
#   make bench            full run, about 14 minutes
#   make bench-quick      short run for CI, under 90 s
#   make bench-callgrind  instruction counts per second of audio
#
# or directly:
#   bench/bench.sh --builddir DIR [--quick] [--callgrind] [--strict] [--keep DIR]
#
# This script starts the clients, daemons and helpers and writes what they
# measured, one record a line (bench/report.py says the format);
# bench/report.py computes the figures (medians, ranges, ratios, verdicts)
# and prints the table.  --keep DIR keeps those records ("DIR/raw", with the
# syscall traces they name): "python3 bench/report.py DIR/raw" prints the
# table again.
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
# "miss" in the table and exits 0 unless --strict.  Needs python3.
set -eu

quick=0
callgrind=0
strict=0
builddir=
keep=
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--callgrind) callgrind=1 ;;
	--strict) strict=1 ;;
	--builddir) builddir="$2"; shift ;;
	--builddir=*) builddir="${1#--builddir=}" ;;
	--keep) keep="$2"; shift ;;
	*) echo "usage: bench.sh --builddir DIR [--quick] [--callgrind] [--strict] [--keep DIR]" >&2
		exit 2 ;;
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
raw="$tmp/raw"
: >"$raw"
# PIDs of the peers' daemons we started, one a line.
: >"$tmp/daemons"

cleanup() {
	for d in $(cat "$tmp/daemons" 2>/dev/null); do
		kill "$d" 2>/dev/null || true
	done
	loop_cleanup
	# bench/memory.sh's tmpfs, if a failure left it mounted.
	umount -l "$tmp/mem" 2>/dev/null || true
	rm -rf "$tmp"
	# What tests/lib/env.sh registered (its runtime directory): this trap
	# replaced the one that runs it.
	eval "$LOOP_AT_EXIT"
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

# rec TYPE KEY=VALUE...: one record for bench/report.py, the fields
# tab-separated (a tab or newline in a value becomes a space).
rec() {
	_rec=$1
	shift
	for _f in "$@"; do
		_rec="$_rec	$(printf '%s' "$_f" | tr '\t\n' '  ')"
	done
	printf '%s\n' "$_rec" >>"$raw"
}

# row FIGURE MEASURED TARGET RESULT: a row as it is (a failure, a reason).
row() {
	rec row "figure=$1" "measured=$2" "target=$3" "result=$4"
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

if ! command -v python3 >/dev/null; then
	echo "bench.sh: python3 is needed for the figures and the table (bench/report.py)" >&2
	exit 2
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
		valgrind -q --vgdb=no --tool=callgrind --callgrind-out-file="$tmp/cg.$side" "$@" \
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
		for mode in no yes; do
			callgrind_annotate --threshold=100 --auto=no --inclusive=$mode \
				"$tmp/cg.$side" 2>/dev/null >"$tmp/cg.$side.$mode" || true
		done
		python3 "$(dirname "$0")/report.py" --callgrind "$T_CG" "$tmp/cg.$side.no" \
			"$tmp/cg.$side.yes"
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
# cpu_run KIND SECS: spawn's line (cpu_us=...) for one run of loop, null or
# floor; fails if the clients did (the row says so).
cpu_run() {
	case $1 in
	loop) _l=$(pair "cpu-loop-$cfg" "$(dev_loop 1)" "$(dev_cap 1)" "$2" "$opts") || return 1 ;;
	null) _l=$(pair "cpu-null-$cfg" null null "$2" "$opts") || return 1 ;;
	floor) rm -f "$floor_shm"
		_l=$("$B/spawn" -- "$B/wakeup" -p $wp -t "$2" -s "$floor_shm" -d in ::: \
			"$B/wakeup" -p $wp -t "$2" -s "$floor_shm" -d out) || _l="cpu_us=0"
		rm -f "$floor_shm" ;;
	esac
	echo "$_l"
}
for cfg in default 64 256 1024; do
	case $cfg in
	default) opts= ; wp=6000 ;;	# aplay's default: a quarter of 500 ms
	*) opts="--period-size=$cfg --buffer-size=$((cfg * 4))"; wp=$cfg ;;
	esac
	for r in $(seq "$R_CPU"); do
		# One round: loop, null and floor, each T_CPU and T_CPU0 s long.
		for k in loop null floor; do
			# shellcheck disable=SC2034 # read by the eval below
			short="cpu_us=0"
			# shellcheck disable=SC2034
			long=$(cpu_run $k "$T_CPU") || continue 2
			if [ "$T_CPU0" != 0 ]; then
				# shellcheck disable=SC2034
				short=$(cpu_run $k "$T_CPU0") || continue 2
			fi
			eval "${k}_long=\$long ${k}_short=\$short"
		done
		# shellcheck disable=SC2154 # set by the eval above
		rec cpu "cfg=$cfg" "round=$r" "secs=$T_CPU" "secs0=$T_CPU0" \
			"loop=$loop_long" "loop0=$loop_short" "null=$null_long" "null0=$null_short" \
			"floor=$floor_long" "floor0=$floor_short"
	done
	# Every loop run's clients append to one file: all their xruns.
	rec cpu-end "cfg=$cfg" "rounds=$R_CPU" "secs0=$T_CPU0" \
		"xruns=$(xruns "$tmp/cpu-loop-$cfg.err")"
done

# The plugin's timer pattern priced on its own: per period it reads the
# expiry, re-arms an already expired time ("ready now") and then arms the
# next deadline; one deadline per period is the alternative.
tp() {
	"$B/spawn" -- "$B/wakeup" -p 64 -t "$T_TP" -m "$1" ::: "$B/wakeup" -p 64 -t "$T_TP" -m "$1" || true
}
T_TP=$((T_CPU * R_CPU / 4 + 1))
rec timer "secs=$T_TP" "plugin=$(tp plugin)" "oneshot=$(tp oneshot)" "periodic=$(tp periodic)"

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
	rec latency "period=$p" "secs=$secs" "line=$l"
done

# ---- 3. scale ----------------------------------------------------------------------
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
	# The last one out of a cable removes its segment: what is left after
	# the clients closed is what a cable costs when nobody uses it.
	left=$(ls "$LOOP_SHM"/alsa-loopback-"$LOOP_CARD".* 2>/dev/null | grep -v -E '\.[123]$' |
		wc -l)
	rec scale "cables=$n" "secs=$T_SCALE" "loop=$lo" "null=$nu" "xruns=$(xruns "$tmp/scale$n.err")" \
		"segments_left=$left"
	rm -f $LOOP_SHM/alsa-loopback-"$LOOP_CARD".[1-9][0-9]*
done

# ---- 4. the copy -------------------------------------------------------------------
for c in 64 1024; do
	if ! r=$("$B/ringcopy" -f 4 -c $c -t "$T_COPY" 2>"$tmp/copy.err"); then
		row "4. shm_ring copy, $c frames" "$(tail -n 1 "$tmp/copy.err")" "bit-exact" FAIL
		continue
	fi
	rec copy "chunk=$c" "line=$r"
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
			# The first field: ns on the CPU (a thread may be gone).
			_ns=0
			for _s in "/proc/$_d/task"/*/schedstat; do
				read -r _v _ 2>/dev/null <"$_s" || _v=0
				_ns=$((_ns + _v))
			done
			_t=$((_t + _ns / 1000))
		else
			# The fields after "(comm) ": utime and stime are the 12th and 13th.
			# shellcheck disable=SC2046
			set -- $(sed 's/^.*) //' "/proc/$_d/stat" 2>/dev/null) 0 0 0 0 0 0 0 0 0 0 0 0 0
			_t=$((_t + (${12} + ${13}) * 1000000 / hz))
		fi
	done
	echo "$_t"
}

# daemon_rss_kb: resident size of $daemons.
daemon_rss_kb() {
	_k=0
	for _d in $daemons; do
		_v=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$_d/status" 2>/dev/null)
		_k=$((_k + ${_v:-0}))
	done
	echo "$_k"
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

# peer SYS PERIOD PLAYDEV CAPDEV: one side-by-side run in round $peer_round,
# recorded ("peer", or "peer-fail" if the clients failed twice or a daemon
# died); in round 1 also bench/latency on the same devices.
peer() {
	_sys=$1 _p=$2 _pd=$3 _cd=$4
	_name="peer-$_sys-$_p"
	_opts="--period-size=$_p --buffer-size=$((_p * 4))"
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
			rec peer-fail "round=$peer_round" "sys=$_sys" "period=$_p" "secs=$T_PEER" \
				"why=$_why" "retry=$_retry"
			return 0
		fi
		_retry=$_why
	done
	_t1=$(daemon_us)
	_rss=$(daemon_rss_kb)
	_f=$("$AUDIOCHECK" find-offset "$noise" "$tmp/$_name.raw" 2>&1) || true
	rm -f "$tmp/$_name.raw"
	_l='' _lerr=
	if [ "$peer_round" = 1 ] &&
		! _l=$("$B/latency" -P "$_pd" -C "$_cd" -p "$_p" -n 4 -t "$T_PLAT" 2>"$tmp/$_name.lat"); then
		_l=
		_lerr=$(tail -n 1 "$tmp/$_name.lat" | sed 's/^latency: //')
	fi
	rec peer "round=$peer_round" "sys=$_sys" "period=$_p" "secs=$T_PEER" "clients=$_o" \
		"daemons=$daemons" "daemon_us0=$_t0" "daemon_us1=$_t1" "daemon_rss_kb=$_rss" \
		"found=$_f" "xruns=$(xruns "$tmp/$_name.err")" "latency=$_l" "latency_error=$_lerr" \
		"retry=$_retry"
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
				rec peer-na "sys=pw" "period=$p" "secs=$T_PEER" "why=$why: $(daemon_error)"
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
				rec peer-na "sys=pa" "period=$p" "secs=$T_PEER" \
					"why=daemon did not start: $(tail -n 1 "$pd/log")"
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

# After the rounds: each system's row (its median round), then loop / peer
# round by round (bench/report.py).
rec peers "periods=$PEER_PERIODS" "rounds=$R_PEER" "secs=$T_PEER" "pw_why=$pw_why" "pa_why=$pa_why"

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

# sc_run TOOL: one traced run; records each end.
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
		rm -f "$tmp/sc.$_tool.$_end"
		if [ "$_tool" = perf ]; then
			set -- -e duration_time -e raw_syscalls:sys_enter
			for _e in $SC_EVENTS; do
				set -- "$@" -e "syscalls:sys_enter_$_e"
			done
			timeout -s INT "$T_SC" perf stat -x, -o "$tmp/sc.$_tool.$_end" "$@" \
				-e "syscalls:sys_enter_$_own" --filter "fd == $_fd" -p "$_pid" \
				2>"$tmp/sc.$_end.tool" &
		else
			timeout -s INT "$T_SC" strace -f -qq -e signal=none -ttt -o "$tmp/sc.$_tool.$_end" \
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
	# The traces stay beside the records (--keep copies them).
	for _end in play cap floor; do
		rec syscalls "tool=$_tool" "first_tool=$sc_tool" "end=$_end" "period=$sc_p" \
			"trace=sc.$_tool.$_end" "failed=$_fail" "error=$(tail -n 1 "$tmp/sc.$_end.err")" \
			"tool_error=$(tail -n 1 "$tmp/sc.$_end.tool")"
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
		rec lossless "figure=$fig" "bytes=$(stat -c %s "$ll_in")" "pipe=$pipe" "clients=$lo" \
			"found=$("$AUDIOCHECK" find-offset "$ll_in" "$tmp/ll.out" 2>&1 || true)"
	fi
	rm -f "$ll_in" "$tmp/ll.out" "$tmp/ll.fifo"
fi

# ---- 9. shared cables ---------------------------------------------------------------
. "$(dirname "$0")/shared.sh"

# ---- 10. tap and watch --------------------------------------------------------------
. "$(dirname "$0")/tap.sh"

# ---- 11. memory in a container's /dev/shm -------------------------------------------
. "$(dirname "$0")/memory.sh"

# ---- the table ---------------------------------------------------------------------
rec end "machine=machine: $machine; load before $load0, after $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s"
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	for f in "$raw" "$tmp"/sc.perf.* "$tmp"/sc.strace.*; do
		[ ! -f "$f" ] || cp "$f" "$keep"/
	done
fi
# The exit status is report.py's: 1 if a row is FAIL (--strict: or a miss).
set -- "$raw"
[ "$strict" = 0 ] || set -- --strict "$@"
python3 "$(dirname "$0")/report.py" "$@"
