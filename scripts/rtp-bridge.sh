#!/bin/sh
# Carry a loopback cable across machines as RTP (L16, uncompressed) with
# GStreamer.  Only assembles and runs gst-launch-1.0 pipelines:
#
#   rtp-bridge.sh send    HOST PORT N   # record loopcap:N, send RTP to HOST:PORT
#   rtp-bridge.sh receive HOST PORT N   # listen on HOST:PORT, play into loop:N
#
# So what is played into loop:A on one machine is recorded from loopcap:B on
# the other (send ... A there, receive ... B here).  N is a subdevice, or any
# argument list of the PCMs, e.g. "SUBDEV=4,CARD=k".  HOST is the receiver's
# address on both sides (the receiver binds to it: 0.0.0.0 for any).
#
# Environment: RATE (48000), CHANNELS (2), LATENCY_MS (the receiver's
# jitter buffer, 50), BUFFER_MS (the sender's ALSA buffer, in 10 ms
# periods, and what the receiver keeps queued: 200), FOLLOW (1),
# ALSA_LOOPBACK (the alsa-loopback tool), GST_LAUNCH (gst-launch-1.0),
# PRINT=1 only prints the pipeline.  Needs gstreamer1.0-tools, -alsa,
# -plugins-base, -plugins-good; the receiver also alsa-utils (aplay, amixer).
#
# Following the sender's clock (FOLLOW=1): each machine's cable runs on its
# own clock, and the sender's may be tens of ppm off the receiver's.  The
# receiver hands the stream, paced by rtpjitterbuffer's skew-corrected
# timestamps (at the sender's rate, network jitter removed), to aplay,
# which queues it into loop:N (a buffer of twice BUFFER_MS, started at
# BUFFER_MS).  What piles up or drains there is the clock difference: a PI
# servo reads the queue (alsa-loopback list --json, 10 times a second) and
# trims the receiving cable's own clock with its "PCM Rate Shift 100000"
# control (as alsaloop does on snd-aloop) so the queue stays at BUFFER_MS.
# Cable N then runs at the sender's rate: the samples pass unchanged (no
# resampling), nothing skips and the latency stays put.  The shift is set
# back to 100000 at exit.
#
# FOLLOW=0: the receiver plays through alsasink on its own clock; nothing
# resamples, so a sender clock that runs faster or slower shows up as a
# resync (a skip or a short silence) whenever the difference passes
# alsasink's alignment threshold (40 ms): every 80 s at 500 ppm.  See
# docs/clients.md.
set -eu

usage() {
	echo "usage: $0 send|receive HOST PORT N" >&2
	exit 2
}
[ $# -eq 4 ] || usage
mode=$1 host=$2 port=$3 n=$4
case $port in '' | *[!0-9]*) usage ;; esac
rate=${RATE:-48000}
ch=${CHANNELS:-2}
lat=${LATENCY_MS:-50}
buf="buffer-time=$((${BUFFER_MS:-200} * 1000)) latency-time=10000"
gst=${GST_LAUNCH:-gst-launch-1.0}
# The cable keeps S16_LE (what most ALSA clients use); RTP's L16 is big-endian.
raw="audio/x-raw,format=S16LE,rate=$rate,channels=$ch,layout=interleaved"
rtp="application/x-rtp,media=audio,clock-rate=$rate,encoding-name=L16,channels=$ch,payload=96"

case $mode in
send)
	set -- alsasrc "device=loopcap:$n" $buf ! "$raw" ! audioconvert ! rtpL16pay pt=96 ! \
		udpsink "host=$host" "port=$port" sync=false async=false
	;;
receive)
	if [ "${FOLLOW:-1}" = 0 ]; then
		set -- udpsrc "address=$host" "port=$port" "caps=$rtp" ! \
			rtpjitterbuffer "latency=$lat" ! rtpL16depay ! audioconvert ! "$raw" ! \
			alsasink "device=loop:$n" $buf
	else
		set -- udpsrc "address=$host" "port=$port" "caps=$rtp" ! \
			rtpjitterbuffer "latency=$lat" ! rtpL16depay ! audioconvert ! "$raw" ! \
			fdsink fd=1 sync=true
		follow=1
	fi
	;;
*) usage ;;
esac

# aplay's buffer is twice BUFFER_MS, kept half full: BUFFER_MS of latency
# (as alsasink's), and as much room for the servo to work in.
bufus=$((${BUFFER_MS:-200} * 1000))
aplay="aplay -q -D loop:$n -t raw -f S16_LE -r $rate -c $ch -B $((bufus * 2)) -F 5000 -R $bufus"
if [ -n "${PRINT:-}" ]; then
	if [ -n "${follow:-}" ]; then
		echo "$gst -q $* | $aplay"
	else
		echo "$gst -q $*"
	fi
	exit 0
fi
[ -n "${follow:-}" ] || exec $gst -q "$@"

# The cable behind loop:N: its subdevice and card key (positional or keyed
# arguments, as 50-loopback.conf declares them).
sub=0 card=0
case $n in
*=*)
	for kv in $(echo "$n" | tr ',' ' '); do
		case $kv in
		SUBDEV=*) sub=${kv#SUBDEV=} ;;
		CARD=*) card=${kv#CARD=} ;;
		esac
	done
	;;
*,*) sub=${n%%,*} card=${n#*,} ;;
*) sub=$n ;;
esac
tool=${ALSA_LOOPBACK:-alsa-loopback}
ctl="loopcap:$n"
name="PCM Rate Shift 100000"
command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool not found (FOLLOW=0 does without)" >&2; exit 1; }
amixer -q -D "$ctl" cset "iface=PCM,name=$name" 100000 ||
	{ echo "$0: cannot set $name on $ctl" >&2; exit 1; }

# fill: the frames queued in cable (sub, playback) now, or nothing.
fill() {
	"$tool" --card "$card" list --json 2>/dev/null | awk -v sub_="$sub" '
		index($0, "\"subdevice\": " sub_ ",") { seg = 1; next }
		seg && /"cable": 0,/ {
			if (match($0, /"fill_frames": [0-9]+/))
				print substr($0, RSTART + 15, RLENGTH - 15)
			exit
		}'
}

# servo: about every second, the mean of 10 fills against the target
# (BUFFER_MS), in microseconds e; the clock correction in ppm is
# 0.14 ppm/us * e + 0.01 ppm/(us s) * integral of e: a loop of 0.1 rad/s,
# damped (0.7), so a 500 ppm offset costs a few ms of latency while it is
# found, within a minute.  Clock drift is slow: e is clamped to 10 ms and
# the integral to 2000 ppm, so a stall or an underrun (a dip or a jump of
# the queue, not a clock) cannot wind the loop up; the shift is
# 100000 / (1 + ppm), clamped to +-1 %.
servo() {
	target=$((rate * bufus / 1000000))
	integ=0 last=100000
	# Until aplay ends (or this script, even by SIGKILL).
	while kill -0 $apid 2>/dev/null && kill -0 $$ 2>/dev/null; do
		sum=0 k=0 i=0
		while [ $i -lt 10 ]; do
			f=$(fill)
			if [ -n "$f" ]; then
				sum=$((sum + f))
				k=$((k + 1))
			fi
			i=$((i + 1))
			sleep 0.1
		done
		[ $k -gt 0 ] || continue
		e=$(((sum / k - target) * 1000000 / rate))
		[ $e -le 10000 ] || e=10000
		[ $e -ge -10000 ] || e=-10000
		# In milli-ppm; the shift's unit is 10 ppm.
		integ=$((integ + 10 * e))
		[ $integ -le 2000000 ] || integ=2000000
		[ $integ -ge -2000000 ] || integ=-2000000
		mppm=$((140 * e + integ))
		v=$((100000 - mppm / 10000))
		[ $v -ge 99000 ] || v=99000
		[ $v -le 101000 ] || v=101000
		if [ $v -ne $last ]; then
			amixer -q -D "$ctl" cset "iface=PCM,name=$name" $v || true
			last=$v
		fi
		[ -z "${SERVO_LOG:-}" ] || echo "fill_us=$((sum / k * 1000000 / rate)) err_us=$e shift=$v" >&2
	done
}

# The pipeline and aplay through a fifo (so both pids are known), the
# servo beside them; whichever ends (or a signal), all stop and the cable's
# clock is reset.  The fifo's name is gone before either starts: the
# shell opens it read-write (which never blocks), then each end on its
# own, and removes it; gst gets only the write end, aplay only the read
# end, so either one's exit still ends the other.  Nothing is left in
# TMPDIR whatever signal stops us.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rtp-bridge.XXXXXX")
mkfifo "$tmp/pcm"
exec 3<>"$tmp/pcm" 4<"$tmp/pcm" 5>"$tmp/pcm" 3>&-
rm -rf "$tmp"
$gst -q "$@" >&5 4<&- 5>&- &
gpid=$!
$aplay <&4 4<&- 5>&- &
apid=$!
exec 4<&- 5>&-
servo &
spid=$!
cleanup() {
	# A signal now (the caller stopping us while aplay's end already
	# brought us here) must not cut the cleanup short: ignored, not reset.
	trap - EXIT
	trap '' INT TERM
	kill $spid $gpid $apid 2>/dev/null || true
	wait $spid $gpid $apid 2>/dev/null || true
	amixer -q -D "$ctl" cset "iface=PCM,name=$name" 100000 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' INT TERM
rc=0
wait $apid || rc=$?
exit $rc
