#!/bin/sh
# A full segment directory: the 'dir' key on a small tmpfs (as a container's
# /dev/shm or a size-limited emptyDir).  A segment file is sparse: its
# header (16 KiB) is reserved at creation, a ring (sized from the buffers:
# 188 KiB for a default aplay at 48 kHz S16 stereo) by the playback at
# hw_params.  tmpfs allocates pages lazily, so a page nobody reserved can
# meet ENOSPC at its first touch: SIGBUS in the middle of snd_pcm_writei.
# Whatever the space, a client must get a clean error or work, never die of
# a signal:
#   (a) a tmpfs too small for a ring: aplay fails cleanly (exit status
#       1..127) and its message names the directory;
#   (b) a tmpfs with room for one cable: aplay -> arecord run, then a filler
#       takes every free page, and the 10 s stream goes on: both exit 0;
#   (c) a file written to the tmpfs before is untouched (same checksum);
#   (d) a segment file planted sparse (a real header, the rest holes) on a
#       full tmpfs: a later opener gets a clean error or works, no signal;
#   (e) Docker's 64 MiB /dev/shm: 40 cables used one after another all
#       open, and at most 2 MiB is used after the last one closes (a
#       cable costs nothing once nobody uses it);
#   (f) 16 cables playing and recording at once (aplay and arecord default
#       buffers, S16 stereo 48 kHz) in 64 MiB: all bit-exact, at most
#       4 MiB used while they run (each a 188 KiB ring + a 16 KiB header;
#       snd-aloop: the two buffers, 188 KiB);
#   (g) a cable whose control was set keeps its segment (as snd-aloop keeps
#       its controls) at the header's size once its ends close.
# Runs in a private mount namespace (unshare -m); skips if not permitted.
set -eu
. "$top_builddir/tests/lib/env.sh"

if [ "${SHMFULL_INNER:-}" != 1 ]; then
	for t in aplay arecord amixer timeout unshare mount dd cksum; do
		command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
	done
	if ! unshare --mount --propagation private sh -c \
		'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d";
		 rmdir "$d"' >/dev/null 2>&1; then
		echo "SKIP: unshare --mount with a tmpfs mount is not permitted here"
		exit 77
	fi
	# Everything below runs inside the namespace: its mounts die with it.
	exec unshare --mount --propagation private env SHMFULL_INNER=1 sh "$0" "$@"
fi
# Only in the namespace: the outer shell is replaced by exec, its exit trap
# never runs, so it must make no scratch directory.
. "$top_srcdir/tests/lib/cli.sh"

SEG_BYTES=$((32 * 1024 * 1024 + 16384))	# the file's size; sparse
work=$(mktemp -d)
loop_at_exit 'for m in "$work"/m*; do umount "$m" 2>/dev/null || true; done; rm -rf "$work"'
FMT="-t raw -f S16_LE -c 2 -r 48000"

# mount_tmpfs NAME SIZE: a fresh tmpfs at $work/NAME.
mount_tmpfs() {
	mkdir -p "$work/$1"
	mount -t tmpfs -o "size=$2,mode=1777" tmpfs "$work/$1" ||
		{ echo "FAIL: cannot mount a tmpfs of $2 at $work/$1"; exit 1; }
}

# pcms NAME DIR SUB: pcm.NAME_p (device 0) and pcm.NAME_c (device 1).
pcms() {
	cat >>"$work/rc" <<EOR
pcm.$1_p { type loopback dir "$2" card "$LOOP_CARD" subdevice $3 device 0 }
pcm.$1_c { type loopback dir "$2" card "$LOOP_CARD" subdevice $3 device 1 }
EOR
}

# fill DIR: a filler file takes every free page of the tmpfs.
fill() {
	dd if=/dev/zero of="$1/filler" bs=4096 2>/dev/null || true
	_free=$(df -k --output=avail "$1" | tail -1 | tr -d ' ')
	[ "$_free" = 0 ] || bad "the filler left $_free KiB free in $1"
}

# died STATUS: was it a signal (or timeout's 124/137)?
died() {
	[ "$1" -ge 124 ]
}

: >"$work/rc"
mount_tmpfs ma 64k
mount_tmpfs mb 1m
mount_tmpfs md 1m
mkdir "$work/real"
pcms a "$work/ma" 1
pcms b "$work/mb" 2
pcms d "$work/md" 3
pcms r "$work/real" 3
export ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$work/rc"

# ---- (a) too small for a segment ------------------------------------------
rc=0
alsa_client_timeout 20 aplay -q -D a_p $FMT -d 3 /dev/zero </dev/null 2>"$work/a.err" || rc=$?
if died "$rc"; then
	bad "(a) tmpfs of 64 KiB: aplay died with status $rc (signal $((rc - 128)))"
elif [ "$rc" = 0 ]; then
	bad "(a) tmpfs of 64 KiB: aplay succeeded; its 188 KiB ring cannot fit"
elif ! grep -qF "$work/ma" "$work/a.err"; then
	bad "(a) aplay failed ($rc) but its message does not name $work/ma"
else
	echo "(a) too small: aplay exit $rc, $(grep -F "$work/ma" "$work/a.err" | head -1)"
fi
grep -q "No space left" "$work/a.err" ||
	echo "  note: (a) the message does not say 'No space left'"
[ "$rc" = 0 ] || sed 's/^/  aplay: /' "$work/a.err" | head -5

# ---- (b) room for one cable; (c) nothing else harmed ----------------------
head -c 65536 /dev/urandom >"$work/mb/precious"
sum0=$(cksum <"$work/mb/precious")
# The recorder creates the segment, the player reserves the ring at its
# hw_params; once it plays, every free page goes.
rrc=0 prc=0
alsa_client_timeout 30 arecord -q -D b_c $FMT -d 11 /dev/null </dev/null \
	2>"$work/b_rec.err" &
rpid=$!
_wi=0
while [ ! -s "$work/mb/alsa-loopback-$LOOP_CARD.2" ] && [ $_wi -lt 1000 ]; do
	_wi=$((_wi + 1)); sleep 0.01
done
[ -s "$work/mb/alsa-loopback-$LOOP_CARD.2" ] || bad "(b) the recorder made no segment: $(cat "$work/b_rec.err")"
alsa_client_timeout 30 aplay -v -D b_p $FMT -d 10 /dev/zero </dev/null >"$work/b_play.out" \
	2>"$work/b_play.err" &
ppid=$!
_wi=0
while ! grep -q buffer_size "$work/b_play.out" 2>/dev/null && [ $_wi -lt 1000 ]; do
	_wi=$((_wi + 1)); sleep 0.01
done
fill "$work/mb"
wait "$ppid" || prc=$?
wait "$rpid" || rrc=$?
if [ "$prc" != 0 ] || [ "$rrc" != 0 ]; then
	bad "(b) full tmpfs holding the cable: 10 s aplay exit $prc, arecord exit $rrc" \
		"$(died "$prc" && echo "(aplay: signal $((prc - 128)))")" \
		"$(died "$rrc" && echo "(arecord: signal $((rrc - 128)))")"
	sed 's/^/  aplay: /' "$work/b_play.err" | head -5
	sed 's/^/  arecord: /' "$work/b_rec.err" | head -5
else
	echo "(b) full tmpfs: 10 s aplay -> arecord, both exit 0"
fi
if [ "$(cksum <"$work/mb/precious")" != "$sum0" ]; then
	bad "(c) a file in the tmpfs changed"
else
	echo "(c) the file written before is intact"
fi

# ---- (d) a sparse segment planted on a full tmpfs ---------------------------
# A real header (the same card key and subdevice) from an ordinary
# directory, copied while a player holds it.
rc=0
seg="alsa-loopback-$LOOP_CARD.3"
alsa_client_timeout 20 aplay -q -D r_p $FMT -d 5 /dev/zero </dev/null 2>"$work/r.err" &
rp=$!
_wi=0
while [ ! -s "$work/real/$seg" ] && [ $_wi -lt 1000 ]; do _wi=$((_wi + 1)); sleep 0.01; done
head -c 4096 "$work/real/$seg" >"$work/hdr" 2>/dev/null || rc=1
kill "$rp" 2>/dev/null || true
wait "$rp" 2>/dev/null || true
if [ "$rc" != 0 ] || [ "$(wc -c <"$work/hdr")" != 4096 ]; then
	cat "$work/r.err"
	bad "(d) creating a real segment: no header copied"
else
	cp "$work/hdr" "$work/md/$seg"
	truncate -s "$SEG_BYTES" "$work/md/$seg"
	chmod 600 "$work/md/$seg"
	fill "$work/md"
	rrc=0 prc=0
	alsa_client_timeout 20 arecord -q -D d_c $FMT -d 4 /dev/null </dev/null \
		2>"$work/d_rec.err" &
	rpid=$!
	sleep 0.3
	alsa_client_timeout 20 aplay -q -D d_p $FMT -d 3 /dev/zero </dev/null \
		2>"$work/d_play.err" || prc=$?
	wait "$rpid" || rrc=$?
	if died "$prc" || died "$rrc"; then
		bad "(d) sparse segment on a full tmpfs: aplay exit $prc, arecord exit $rrc" \
			"(a signal or a hang)"
		sed 's/^/  aplay: /' "$work/d_play.err" | head -5
		sed 's/^/  arecord: /' "$work/d_rec.err" | head -5
	else
		for x in "aplay $prc d_play" "arecord $rrc d_rec"; do
			set -- $x
			if [ "$2" != 0 ] && ! grep -qF "$work/md" "$work/$3.err"; then
				bad "(d) $1 failed ($2) without naming $work/md"
				sed "s/^/  $1: /" "$work/$3.err" | head -5
			fi
		done
		echo "(d) sparse segment on a full tmpfs: aplay exit $prc, arecord exit $rrc" \
			"(clean error or works)"
	fi
fi

# ---- (e) 40 cables one after another in 64 MiB -----------------------------
mount_tmpfs me 64m
opened=0
for i in $(seq 0 39); do
	pcms "e$i" "$work/me" $((100 + i))
done
for i in $(seq 0 39); do
	rc=0
	alsa_client_timeout 20 aplay -q -D "e${i}_p" $FMT -s 2400 /dev/zero </dev/null \
		2>"$work/e.err" || rc=$?
	if [ "$rc" = 0 ]; then
		opened=$((opened + 1))
	else
		bad "(e) cable $((i + 1)) of 40 in 64 MiB: aplay exit $rc: $(grep -v '^$' "$work/e.err" | tail -1)"
		break
	fi
done
used=$(du -sk "$work/me" | cut -f1)
if [ "$opened" = 40 ] && [ "$used" -le 2048 ]; then
	echo "(e) 40 cables one after another in 64 MiB: all opened, $used KiB used after"
else
	bad "(e) $opened of 40 cables opened in 64 MiB, $used KiB used after (at most 2048)"
fi

# ---- (f) 16 cables playing and recording at once in 64 MiB ----------------
# Default buffers: no --buffer-time.  The recorders start first (each
# running before the next), then the players; the tmpfs is measured while
# all 32 run.
mount_tmpfs mf 64m
for i in $(seq 0 15); do
	pcms "f$i" "$work/mf" $((200 + i))
	cli_gen "$work/f$i.raw" S16_LE 48000 2 2
done
for i in $(seq 0 15); do
	cli_bg arecord -q -D "f${i}_c" $FMT -s $((48000 * 8)) "$work/f$i.rec" 2>"$work/f$i.rerr"
	eval "rp$i=\$CLI_BG"
	cli_wait_growth "$work/f$i.rec" "$CLI_BG" || bad "(f) arecord $i did not start: $(cat "$work/f$i.rerr")"
done
for i in $(seq 0 15); do
	cli_bg aplay -q -D "f${i}_p" $FMT "$work/f$i.raw" 2>"$work/f$i.perr"
	eval "pp$i=\$CLI_BG"
done
peak=0
for _n in $(seq 10); do
	u=$(du -sk "$work/mf" | cut -f1)
	[ "$u" -le "$peak" ] || peak=$u
	sleep 0.1
done
exact=0
for i in $(seq 0 15); do
	eval "cli_wait \$pp$i"
	[ "$CLI_RC" = 0 ] || bad "(f) aplay $i: exit $CLI_RC: $(tail -1 "$work/f$i.perr")"
	eval "cli_wait \$rp$i"
	[ "$CLI_RC" = 0 ] || bad "(f) arecord $i: exit $CLI_RC: $(tail -1 "$work/f$i.rerr")"
	if "$AUDIOCHECK" compare "$work/f$i.raw" "$work/f$i.rec" 4 0000 >"$work/f.cmp" 2>&1; then
		exact=$((exact + 1))
	else
		bad "(f) cable $i is not bit-exact: $(tail -1 "$work/f.cmp")"
	fi
done
if [ "$exact" = 16 ] && [ "$peak" -le 4096 ] && [ "$peak" -gt 0 ]; then
	echo "(f) 16 cables playing and recording in 64 MiB: all bit-exact, $peak KiB used"
else
	bad "(f) 16 cables in 64 MiB: $exact bit-exact, $peak KiB used (at most 4096)"
fi

# ---- (g) a control set: the segment stays, at its header's size -------------
mount_tmpfs mg 64m
pcms g "$work/mg" 7
cat >>"$work/rc" <<EOR
ctl.g { type loopback dir "$work/mg" card "$LOOP_CARD" }
EOR
alsa_client amixer -q -D g cset "iface=PCM,name=PCM Rate Shift 100000,device=0,subdevice=7" 100500 ||
	bad "(g) amixer could not set the Rate Shift"
alsa_client_timeout 20 aplay -q -D g_p $FMT -d 1 /dev/zero </dev/null 2>"$work/g.err" ||
	bad "(g) aplay: $(tail -1 "$work/g.err")"
seg="$work/mg/alsa-loopback-$LOOP_CARD.7"
kib=$(du -k "$seg" 2>/dev/null | cut -f1)
if [ -n "$kib" ] && [ "$kib" -le 16 ]; then
	echo "(g) a Rate Shift set: the segment stays after aplay, $kib KiB"
else
	bad "(g) a Rate Shift set: the segment holds ${kib:-no} KiB after aplay (want it kept, at most 16)"
fi

if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
