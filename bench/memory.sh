# bench/memory.sh - what cables cost in a container's /dev/shm, sourced by
# bench/bench.sh after tap.sh (its rec, $tmp, $FMT, $LOOP_CARD,
# $ALSA_CONFIG_PATH); bench/report.py makes the rows.  Docker's default
# /dev/shm is a 64 MiB tmpfs shared with everything else in the container,
# so the cables get one of their own, given to the plugin by the "dir" key:
#   sequence: 40 cables used one after another (50 ms of aplay into each,
#     each closed before the next): do all open, and how much of the tmpfs
#     is still used after the last one closed?
#   at once: 16 cables, an aplay and an arecord on each (S16_LE stereo
#     48 kHz, aplay's and arecord's default buffers) all running: how much
#     of the tmpfs do they use?  Beside it what snd-aloop would use for the
#     same streams: it allocates each stream's buffer (the buffer_size
#     that aplay -v and arecord -v print) at hw_params and frees it at
#     close, so the sum of those.
# PipeWire's figure for the same streams is left out: pipewire-alsa asks
# for buffer_size / period buffers of one period each, but the size is
# negotiated with the daemon's adapter, so what it allocates is not known
# without measuring it.
# Mounting needs root; otherwise the rows say so.  The mount goes at exit
# (bench.sh's cleanup) if not before.

MEM_DIR="$tmp/mem"
MEM_SEQ=40 MEM_PAR=16
mem_why=
if [ "$(id -u)" != 0 ]; then
	mem_why="needs root (mounts a 64 MiB tmpfs)"
elif ! mkdir -p "$MEM_DIR" ||
	! mount -t tmpfs -o size=64m,mode=1777 tmpfs "$MEM_DIR" 2>"$tmp/mem.err"; then
	mem_why="cannot mount a tmpfs: $(tail -n 1 "$tmp/mem.err")"
fi

# mem_used: KiB of the tmpfs in use.
mem_used() {
	df -k --output=used "$MEM_DIR" | tail -n 1 | tr -d ' '
}

if [ -n "$mem_why" ]; then
	rec memory-skipped "why=$mem_why" "sequence=$MEM_SEQ" "at_once=$MEM_PAR"
else
	cat >"$tmp/mem.conf" <<MEMCONF
pcm.bench_mem {
	@args [ SUB DEV ]
	@args.SUB { type integer }
	@args.DEV { type integer }
	type loopback
	dir "$MEM_DIR"
	card "$LOOP_CARD"
	subdevice \$SUB
	device \$DEV
}
MEMCONF
	mem_env="ALSA_CONFIG_PATH=$ALSA_CONFIG_PATH:$tmp/mem.conf"

	# One after another; the first failure ends the sequence.
	mem_opened=0 mem_status=0
	for i in $(seq 0 $((MEM_SEQ - 1))); do
		# shellcheck disable=SC2086
		env "$mem_env" timeout 20 aplay -q -D "bench_mem:SUB=$((300 + i)),DEV=0" $FMT \
			-s 2400 -t raw /dev/zero </dev/null 2>"$tmp/mem-seq.err" ||
			{ mem_status=$?; break; }
		mem_opened=$((mem_opened + 1))
	done
	rec memory-sequence "cables=$MEM_SEQ" "opened=$mem_opened" "status=$mem_status" \
		"error=$(grep -v '^$' "$tmp/mem-seq.err" | tail -n 1)" "used_kb=$(mem_used)"

	# At once: the recorders first, then the players; the tmpfs is
	# read while all of them run.
	: >"$tmp/mem-pids"
	for i in $(seq 0 $((MEM_PAR - 1))); do
		# shellcheck disable=SC2086
		env "$mem_env" timeout 20 arecord -v -D "bench_mem:SUB=$((400 + i)),DEV=1" $FMT \
			-d 4 -t raw /dev/null </dev/null >"$tmp/mem-r$i.out" 2>&1 &
		echo "$! r$i" >>"$tmp/mem-pids"
	done
	for i in $(seq 0 $((MEM_PAR - 1))); do
		# shellcheck disable=SC2086
		env "$mem_env" timeout 20 aplay -v -D "bench_mem:SUB=$((400 + i)),DEV=0" $FMT \
			-d 3 -t raw /dev/zero </dev/null >"$tmp/mem-p$i.out" 2>&1 &
		echo "$! p$i" >>"$tmp/mem-pids"
	done
	# The most used over a second, from a second after the last start.
	sleep 1
	mem_max=0
	for _k in 1 2 3 4 5; do
		_u=$(mem_used)
		[ "$_u" -le "$mem_max" ] || mem_max=$_u
		sleep 0.2
	done
	# Each client: its exit status and the buffer it was given.
	set --
	mem_error=
	while read -r _pid _name; do
		_st=0
		wait "$_pid" || _st=$?
		_buf=$(sed -n 's/^[[:space:]]*buffer_size[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p' \
			"$tmp/mem-$_name.out" | head -n 1)
		set -- "$@" "$_name=status ${_st} buffer ${_buf:-0}"
		[ "$_st" = 0 ] || [ -n "$mem_error" ] ||
			mem_error="$(grep -v '^$' "$tmp/mem-$_name.out" | tail -n 1)"
	done <"$tmp/mem-pids"
	rec memory-at-once "cables=$MEM_PAR" "used_kb=$mem_max" "frame_bytes=4" \
		"error=$mem_error" "$@"
	umount "$MEM_DIR" || umount -l "$MEM_DIR" || true
	rmdir "$MEM_DIR" 2>/dev/null || true
fi
