#!/bin/sh
# System calls per period: a blocking aplay/arecord on our PCMs must make a
# small constant number of syscalls per period, whether or not the other end
# of the cable is there: capture with and without a writer, playback with
# and without a reader, and both with mmap access (-M: snd_pcm_mmap_readi/
# writei, where a capture's commit reaches no callback of the plugin), period
# 1024 at 48 kHz (21.3 ms), under "strace -f -c".  Skips if strace is
# missing or too old for -U.
#
# Startup (dynamic loading, alsa.conf, the plugin's open) costs a few hundred
# syscalls whatever the length of the run, so each case runs twice: a base
# run of one period (-s $PERIOD) and a LONG run (seconds); the per-period
# figure is the difference of the two counts over the difference in
# periods: the startup cancels out.  The base run is also checked on its
# own (timerfd_settime and poll: at most twice the per-period bound plus
# BASE_SLACK): a busy loop there would cancel out of the difference.
#
# The bounds, per period:
#   all syscalls  <= 8: a blocking client needs one poll (the wait), one
#     timerfd_settime (the next absolute deadline), at most one read of the
#     timerfd (consuming an expiry when poll finds the stream not ready yet)
#     and its own file I/O (arecord: one write; aplay: one read); that is 4,
#     and the rest is room for alsa-lib (e.g. a second wait when a period
#     is split at the end of the buffer).
#   timerfd_settime <= 2: the deadline of the next period is known when the
#     period is transferred: one arm per period, one spare.
#   poll/ppoll <= 2.
# The playback side meets them (517d86b: 3.0 syscalls, 1.00 timerfd_settime
# per period, with or without a reader).  A capture that re-arms its timer
# tick by tick (deadlines one frame, 20.8 us, apart) makes 2.6-13 settimes
# per period (517d86b), and up to 18000 per second were seen.
set -eu
. "$top_builddir/tests/lib/env.sh"

command -v strace >/dev/null 2>&1 || { echo "SKIP: strace is not installed"; exit 77; }
for t in aplay arecord timeout; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
if ! strace -f -c -U name,calls -o /dev/null true >/dev/null 2>&1; then
	echo "SKIP: this strace has no -U (summary columns)"
	exit 77
fi
if [ -n "$SANITIZER_PRELOAD" ]; then
	# The sanitizer runtime's own syscalls would be counted.
	echo "SKIP: sanitized build"
	exit 77
fi

LONG=${STRACE_LONG:-3}
PERIOD=1024
RATE=48000
MAX_ALL=8
MAX_SETTIME=2
MAX_POLL=2
# The one-period run itself: two periods' worth (start-up waits, the period)
# plus this for prepare/start/drain/close.
BASE_SLACK=10
FMT="-t raw -f S16_LE -c 2 -r $RATE --period-size=$PERIOD --buffer-size=$((PERIOD * 4))"

work=$(mktemp -d)
peer=
loop_at_exit 'rm -rf "$work"'

dev() {
	echo "$1:SUBDEV=$2,CARD=$LOOP_CARD"
}

# count FILE NAME...: calls of these syscalls (or "total") in a -U name,calls summary.
count() {
	_f=$1
	shift
	awk -v names=" $* " 'index(names, " " $1 " ") { n += $2 } END { print n + 0 }' "$_f"
}

# traced NAME RUN CMD...: run CMD under strace -f -c; the summary is in
# $work/NAME.RUN (RUN: base or long).
traced() {
	_n=$1 _s=$2
	shift 2
	_rc=0
	timeout -k 2 $((LONG + 20)) strace -f -c -U name,calls -o "$work/$_n.$_s" \
		"$@" </dev/null 2>"$work/$_n.$_s.err" || _rc=$?
	if [ "$_rc" != 0 ]; then
		cat "$work/$_n.$_s.err"
		bad "$_n ($_s s): exited with $_rc"
		return 1
	fi
}

# start_peer CMD...: a peer running for the whole case, not traced.
start_peer() {
	timeout -k 2 30 "$@" </dev/null >/dev/null 2>"$work/peer.err" &
	peer=$!
	sleep 0.3
	kill -0 "$peer" 2>/dev/null || { cat "$work/peer.err"; bad "the peer $* died"; }
}

stop_peer() {
	kill "$peer" 2>/dev/null || true
	wait "$peer" 2>/dev/null || true
	peer=
}

# polls_per_period NAME: poll/ppoll calls per period of a case, startup cancelled.
polls_per_period() {
	_a=$(count "$work/$1.base" poll ppoll)
	_b=$(count "$work/$1.long" poll ppoll)
	echo "$_a $_b $LONG" | awk -v r=$RATE -v p=$PERIOD \
		'{ printf "%.2f", ($2 - $1) / ($3 * r / p - 1) }'
}

# check NAME: per-period figures from the base and long runs.
check() {
	_n=$1
	_f0=$fails
	_per=$(echo "$LONG" | awk -v r=$RATE -v p=$PERIOD '{ print $1 * r / p - 1 }')
	_res=
	for _what in all settime poll; do
		case $_what in
		all) _names=total _max=$MAX_ALL ;;
		settime) _names=timerfd_settime _max=$MAX_SETTIME ;;
		poll) _names="poll ppoll" _max=$MAX_POLL ;;
		esac
		# shellcheck disable=SC2086
		_a=$(count "$work/$_n.base" $_names)
		# shellcheck disable=SC2086
		_b=$(count "$work/$_n.long" $_names)
		_pp=$(echo "$_a $_b $_per" | awk '{ printf "%.2f", ($2 - $1) / $3 }')
		_res="$_res $_what $_pp ($_a -> $_b)"
		if [ "$_what" != all ] && [ "$_a" -gt $((2 * _max + BASE_SLACK)) ]; then
			bad "$_n: $_a $_what syscalls in a one-period run (bound" \
				"$((2 * _max + BASE_SLACK)); $_b in $LONG s)"
		elif [ "$_a" -gt "$_b" ]; then
			bad "$_n: $_a $_what syscalls in a one-period run, $_b in $LONG s"
		elif awk -v x="$_pp" -v m="$_max" 'BEGIN { exit !(x > m) }'; then
			bad "$_n: $_pp $_what syscalls per period (bound $_max; $_a in one" \
				"period, $_b in $LONG s)"
		fi
	done
	echo "$_n: per period:$_res"
	if [ "$fails" != "$_f0" ]; then
		echo "  the $LONG s run's summary:"
		sort -k2 -n -r "$work/$_n.long" | head -8 | sed 's/^/    /'
	fi
}

# capture_alone: arecord, nothing plays into the cable (silence).
traced capture-alone base arecord -q -D "$(dev loopcap 1)" $FMT -s $PERIOD /dev/null || true
traced capture-alone long arecord -q -D "$(dev loopcap 1)" $FMT -d "$LONG" /dev/null ||
	true
check capture-alone

# capture with a writer: aplay plays into loop:2 the whole time.
start_peer aplay -q -D "$(dev loop 2)" $FMT -d 25 /dev/zero
traced capture-writer base arecord -q -D "$(dev loopcap 2)" $FMT -s $PERIOD /dev/null || true
traced capture-writer long arecord -q -D "$(dev loopcap 2)" $FMT -d "$LONG" /dev/null ||
	true
stop_peer
check capture-writer

# playback_alone: aplay, nobody records the cable.
traced playback-alone base aplay -q -D "$(dev loop 3)" $FMT -s $PERIOD /dev/zero || true
traced playback-alone long aplay -q -D "$(dev loop 3)" $FMT -d "$LONG" /dev/zero ||
	true
check playback-alone

# The same with mmap access: as many polls per period as plain arecord/aplay
# (an mmap capture used to poll twice: once at once on an expired timer).
traced capture-mmap base arecord -M -q -D "$(dev loopcap 5)" $FMT -s $PERIOD /dev/null ||
	true
traced capture-mmap long arecord -M -q -D "$(dev loopcap 5)" $FMT -d "$LONG" /dev/null ||
	true
check capture-mmap

traced playback-mmap base aplay -M -q -D "$(dev loop 6)" $FMT -s $PERIOD /dev/zero || true
traced playback-mmap long aplay -M -q -D "$(dev loop 6)" $FMT -d "$LONG" /dev/zero ||
	true
check playback-mmap

# Polls per period of an mmap case against its plain one: within 0.2.
same_polls() {
	_p=$(polls_per_period "$1")
	_m=$(polls_per_period "$2")
	echo "$2: $_m polls per period, $1: $_p"
	if awk -v p="$_p" -v m="$_m" 'BEGIN { exit !(m > p + 0.2) }'; then
		bad "$2: $_m polls per period, $1 (no -M) makes $_p"
	fi
}
same_polls capture-alone capture-mmap
same_polls playback-alone playback-mmap

# playback with a reader: arecord records loopcap:4 the whole time.
start_peer arecord -q -D "$(dev loopcap 4)" $FMT -d 25 /dev/null
traced playback-reader base aplay -q -D "$(dev loop 4)" $FMT -s $PERIOD /dev/zero || true
traced playback-reader long aplay -q -D "$(dev loop 4)" $FMT -d "$LONG" /dev/zero ||
	true
stop_peer
check playback-reader

if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
