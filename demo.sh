#!/bin/sh
# Build alsa-loopback and show it working: play a generated signal into
# loop:N, record it from loopcap:N, and check the recording bit for bit.
# Usage: ./demo.sh [N]     (no install needed; uses the build's asoundrc)
set -eu
cd "$(dirname "$0")"
. ./deps.sh
loop_install_deps

N=${1:-4}
[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -s -j"$(nproc)"
. tests/lib/env.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; loop_cleanup' EXIT

# 2 s of a 440 Hz tone starting at its peak (so the first frame is not 0).
sox -q -n -r 48000 -c 2 -b 16 -e signed -t raw "$tmp/played.raw" synth 2 sine 440 0 25 vol 0.5
echo "Recording loopcap:$N (3 s) while playing 2 s of 440 Hz into loop:$N ..."
arecord -q -D "loopcap:SUBDEV=$N,CARD=$LOOP_CARD" -t raw -f S16_LE -c 2 -r 48000 -d 3 \
	"$tmp/recorded.raw" &
rec=$!
sleep 0.2
aplay -q -D "loop:SUBDEV=$N,CARD=$LOOP_CARD" -t raw -f S16_LE -c 2 -r 48000 "$tmp/played.raw"
wait $rec

# The recording must be: silence, exactly the played bytes, silence.
lead=$(od -An -v -tu1 "$tmp/recorded.raw" | tr -s ' ' '\n' |
	awk 'NF { if ($1 != 0) { print n; exit } n++ }')
[ -n "$lead" ] || { echo "FAIL: recorded only silence"; exit 1; }
lead=$((lead - lead % 4))
size=$(wc -c < "$tmp/played.raw")
if tail -c +$((lead + 1)) "$tmp/recorded.raw" | head -c "$size" | cmp -s - "$tmp/played.raw" &&
   [ "$(tail -c +$((lead + size + 1)) "$tmp/recorded.raw" | tr -d '\000' | wc -c)" = 0 ]; then
	echo "OK: loopcap:$N recorded the $size bytes played into loop:$N bit-exact" \
	     "after $((lead / 4)) frames of silence."
else
	echo "FAIL: the recording differs from what was played"
	exit 1
fi
