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
# jitter buffer, 50), BUFFER_MS (alsasrc's and alsasink's ALSA buffer, 200,
# in 10 ms periods; most of the latency), GST_LAUNCH (gst-launch-1.0), PRINT=1 only prints the
# pipeline.  Needs gstreamer1.0-tools, -alsa, -plugins-base, -plugins-good.
#
# The receiver plays on its own clock (its loop:B cable's, its machine's):
# rtpjitterbuffer absorbs network jitter and follows the sender's timestamps,
# but nothing resamples, so a sender clock that runs faster or slower shows
# up as a resync (a skip or a short silence) whenever the difference passes
# alsasink's alignment threshold (40 ms).  See docs/clients.md.
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
	set -- udpsrc "address=$host" "port=$port" "caps=$rtp" ! \
		rtpjitterbuffer "latency=$lat" ! rtpL16depay ! audioconvert ! "$raw" ! \
		alsasink "device=loop:$n" $buf
	;;
*) usage ;;
esac
if [ -n "${PRINT:-}" ]; then
	echo "$gst -q $*"
	exit 0
fi
exec $gst -q "$@"
