#!/bin/sh
# Hostile segments.  Part 1: files planted where a segment belongs
# (truncated, wrong magic, wrong version, header claiming more than the
# file holds, oversized, symlink, dangling symlink, directory, FIFO), both in
# a 'dir' directory and in /dev/shm: every open fails with an SNDERR that
# names the file and says what is wrong, nothing crashes, and the file is
# left exactly as it was.  Part 2: a scribbler writes garbage into every
# field of both cables' headers while aplay/arecord (and streamer) stream:
# no client dies of a signal or hangs.
set -eu
. "$top_builddir/tests/lib/env.sh"
B="$top_builddir/tests"
work=$(mktemp -d)
loop_at_exit 'rm -rf "$work"'
card="h$$"
cat >"$work/rc" <<EOR
pcm.hp { type loopback card "$card" subdevice 0 device 0 dir "$work/d" }
pcm.hc { type loopback card "$card" subdevice 0 device 1 dir "$work/d" }
EOR
export ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$work/rc"
mkdir "$work/d"
seg="$work/d/alsa-loopback-$card.0"
tried=0

# snapshot FILE: type, mode, owner, size and content hash, without following links.
snapshot() {
	if [ -L "$1" ]; then
		echo "link $(readlink "$1")"
	elif [ -f "$1" ]; then
		echo "$(stat -c '%F %a %u %g %s' "$1") $(cksum <"$1")"
	else
		stat -c '%F %a %u %g' "$1"
	fi
}

# expect_refused PATH PCM WORDS...: opening PCM (streamer and aplay) fails
# cleanly, the message names PATH and contains WORDS, PATH is unchanged.
expect_refused() {
	path=$1 pcm=$2
	shift 2
	before=$(snapshot "$path")
	tried=$((tried + 1))
	rc=0
	timeout 10 "$B/streamer" open -D "$pcm" >"$work/out" 2>&1 || rc=$?
	if [ "$rc" != 2 ]; then
		bad "$pcm over $(snapshot "$path"): streamer open exited $rc, expected 2 (refused)"
		cat "$work/out"
	fi
	rc=0
	alsa_client_timeout 10 aplay -q -D "$pcm" -f S16_LE -r 48000 -c 2 -d 1 /dev/zero \
		>"$work/aplay" 2>&1 || rc=$?
	if [ "$rc" = 0 ] || [ "$rc" -ge 124 ]; then
		bad "$pcm: aplay exited $rc (0 = accepted a bad segment, >=124 = hang/signal)"
	fi
	for w in "$path" "$@"; do
		if ! grep -qF -- "$w" "$work/out" || ! grep -qF -- "$w" "$work/aplay"; then
			bad "$pcm: message lacks '$w':"
			cat "$work/out" "$work/aplay"
		fi
	done
	after=$(snapshot "$path")
	if [ "$before" != "$after" ]; then
		bad "$path changed: '$before' -> '$after'"
	fi
}

for where in dir shm; do
	if [ $where = dir ]; then
		p="$seg" pcm=hp
	else
		p="$LOOP_SHM/alsa-loopback-$LOOP_CARD.0" pcm="loop:SUBDEV=0,CARD=$LOOP_CARD"
	fi
	"$B/segtool" make "$p" truncated
	expect_refused "$p" "$pcm" "wrong size" "4096 bytes"
	"$B/segtool" make "$p" short
	expect_refused "$p" "$pcm" "wrong size" "100 bytes"
	"$B/segtool" make "$p" badmagic
	expect_refused "$p" "$pcm" "bad magic" "remove it"
	"$B/segtool" make "$p" badversion
	expect_refused "$p" "$pcm" "version"
	"$B/segtool" make "$p" bigsizes
	expect_refused "$p" "$pcm" "wrong size" "1099511627776"
	"$B/segtool" make "$p" oversize
	expect_refused "$p" "$pcm" "wrong size"
	rm -f "$p"
	# A symlink to a perfectly good segment: refused, never followed.
	"$B/segtool" make "$work/target" valid
	t_before=$(snapshot "$work/target")
	ln -s "$work/target" "$p"
	expect_refused "$p" "$pcm" "symbolic link"
	[ "$(snapshot "$work/target")" = "$t_before" ] || bad "symlink target changed"
	rm -f "$p"
	# A dangling symlink must not create its target.
	ln -s "$work/nowhere" "$p"
	expect_refused "$p" "$pcm" "symbolic link"
	[ ! -e "$work/nowhere" ] || bad "dangling symlink's target was created"
	rm -f "$p"
	mkdir "$p"
	expect_refused "$p" "$pcm" "directory"
	rmdir "$p"
	mkfifo -m 0644 "$p"
	expect_refused "$p" "$pcm" "not a regular file"
	rm -f "$p"
done
# A 'dir' that does not exist: the message names the key.
cat >>"$work/rc" <<EOR
pcm.hx { type loopback card "$card" subdevice 0 device 0 dir "$work/missing" }
EOR
tried=$((tried + 1))
if "$B/streamer" open -D hx >"$work/out" 2>&1 || ! grep -q "'dir'" "$work/out"; then
	bad "missing dir: expected a refusal naming the 'dir' key"
	cat "$work/out"
fi
[ ! -e "$work/missing" ] || bad "missing dir was created"
echo "bad segments tried: $tried"

# ---- Part 2: the scribbler ----------------------------------------------------
# exit statuses: 124+ is a hang (timeout) or a death by signal.
check_status() {
	if [ "$2" -ge 124 ]; then
		bad "$1 exited $2 under the scribbler (hang or signal)"
		cat "$3"
	fi
}
rounds=${REL_SCRIBBLE_ROUNDS:-3}
for seed in $(seq 1 "$rounds"); do
	sub=$((10 + seed))
	dev="SUBDEV=$sub,CARD=$LOOP_CARD"
	# Real clients on cable 0 (loop -> loopcap), streamer on cable 1.
	(rc=0; "$B/streamer" gen -n 144000 | alsa_client_timeout 15 aplay -D "loop:$dev" \
		-f S16_LE -r 48000 -c 2 -B 200000 - || rc=$?; echo "rc=$rc") >"$work/a$seed" 2>&1 &
	(rc=0; alsa_client_timeout 15 arecord -D "loopcap:$dev" -f S16_LE -r 48000 -c 2 -d 4 \
		-B 200000 /dev/null || rc=$?; echo "rc=$rc") >"$work/r$seed" 2>&1 &
	# Random mode plays until SIGTERM: a clean exit then is a pass; only a
	# client that ignores it (a hang) is killed and counted.
	(rc=0; timeout --preserve-status -k 5 8 "$B/streamer" play -D "loopcap:$dev" \
		-n 144000 -M random -R "$seed" || rc=$?; echo "rc=$rc") >"$work/p$seed" 2>&1 &
	(rc=0; timeout 20 "$B/streamer" rec -D "loop:$dev" -d 4 -M random -R "$seed" \
		|| rc=$?; echo "rc=$rc") >"$work/c$seed" 2>&1 &
	"$B/segtool" scribble "$LOOP_SHM/alsa-loopback-$LOOP_CARD.$sub" 3 "$seed"
	wait
	for f in a r p c; do
		rc=$(sed -n 's/^rc=//p' "$work/$f$seed")
		check_status "$f (round $seed)" "${rc:-999}" "$work/$f$seed"
	done
	tried=$((tried + 1))
done
echo "scribbler rounds survived: $rounds (aplay, arecord, streamer play/rec each)"
echo "bad inputs tried: $tried"
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
