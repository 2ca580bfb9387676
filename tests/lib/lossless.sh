# Functions of the lossless-*.sh tests (the lossless clock: lossless:N,
# losslesscap:N); source after tests/lib/env.sh and tests/lib/cli.sh:
#
#   . "$top_builddir/tests/lib/env.sh"
#   . "$top_srcdir/tests/lib/cli.sh"
#   . "$top_srcdir/tests/lib/lossless.sh"
#
# A lossless recording has no leading silence: it is the played data, then
# at most one period of zeros (aplay pads its last period).  tests/audiocheck
# compare wants silence on both sides, so these checks use cmp(1) and od(1).

F=S16_LE R=48000 C=2 FB=4

command -v cmp >/dev/null 2>&1 || skip "cmp (diffutils) is not installed"
command -v od >/dev/null 2>&1 || skip "od (coreutils) is not installed"

# ll_size FILE: its size in bytes (0 if missing).
ll_size() {
	if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo 0; fi
}

# ll_exec CMD...: exec a client in this (sub)shell with the sanitizer runtime,
# so that "(ll_exec arecord ...) &" gives the client's own pid in $!.
ll_exec() {
	if [ -n "$SANITIZER_PRELOAD" ]; then
		LD_PRELOAD="$SANITIZER_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
			exec "$@"
	else
		exec "$@"
	fi
}

# ll_direct CMD...: start a client in the background with no timeout(1)
# between us and it (to signal it); its pid is in LL_PID.  Clean-up at exit
# kills it; tests bound its life with ll_wait_exit.
ll_direct() {
	(ll_exec "$@") </dev/null &
	LL_PID=$!
	CLI_PIDS="$CLI_PIDS $LL_PID"
}

# ll_running PID: the process exists and is not a zombie.
ll_running() {
	[ -r "/proc/$1/stat" ] || return 1
	_st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# ll_kill_tree SIG PID: signal PID and its descendants (a cli_bg job is a
# subshell, its timeout(1), the client), children first, without reaping.
ll_kill_tree() {
	for _k in $(cli_children "$2"); do
		ll_kill_tree "$1" "$_k"
	done
	kill "$1" "$2" 2>/dev/null || true
	kill -CONT "$2" 2>/dev/null || true
}

# ll_wait_exit PID SECS: wait (polling) until PID has exited, at most SECS
# (fractions allowed); then reap it: its status is in CLI_RC.  Returns 1 (and
# kills it with -9, status 137 in CLI_RC) if it was still running.
ll_wait_exit() {
	_lim=$(echo "$2" | awk '{ printf "%d", $1 * 100 }')
	_i=0
	while ll_running "$1"; do
		_i=$((_i + 1))
		if [ $_i -gt "$_lim" ]; then
			ll_kill_tree -9 "$1"
			cli_wait "$1"
			return 1
		fi
		sleep 0.01
	done
	cli_wait "$1"
	return 0
}

# ll_wait_bytes FILE BYTES PID [SECS]: wait until FILE holds at least BYTES
# while PID runs (default 5 s).
ll_wait_bytes() {
	_lim=$(((${4:-5}) * 100))
	_i=0
	while [ "$(ll_size "$1")" -lt "$2" ]; do
		ll_running "$3" || return 1
		_i=$((_i + 1))
		[ $_i -le $_lim ] || return 1
		sleep 0.01
	done
}

# ll_gen FILE SECONDS: SECONDS of 48 kHz stereo S16_LE white noise (sox's
# pseudo-random generator: never periodic, alignment is unambiguous).
ll_gen() {
	cli_gen "$1" $F $R $C "$2"
}

# ll_zero_tail FILE FROM: bytes FROM.. (0-based) of FILE are all zero.
ll_zero_tail() {
	_nz=$(tail -c +"$(($2 + 1))" "$1" | od -An -v -tx1 | tr -s ' \n' '\n\n' |
		grep -v -e '^$' -e '^00$' | head -n 1)
	[ -z "$_nz" ]
}

# ll_exact NAME SRC REC MAXTAIL: REC is SRC from its first frame (no leading
# silence), bit-exact, followed by 0..MAXTAIL bytes of zeros.
ll_exact() {
	_s=$(ll_size "$2") _r=$(ll_size "$3")
	[ "$_r" -ge "$_s" ] || {
		cli_keep "$2" "$3"
		fail "$1: recorded $_r bytes, played $_s (frames lost)"
	}
	cmp -n "$_s" "$2" "$3" >"$CLI_TMP/cmp.out" 2>&1 || {
		cli_keep "$2" "$3"
		cat "$CLI_TMP/cmp.out" >&2
		fail "$1: the recording does not start with the played data, bit-exact" \
			"(first difference above; leading silence or lost/invented frames)"
	}
	[ $((_r - _s)) -le "$4" ] ||
		fail "$1: $((_r - _s)) bytes after the data, more than $4 (one period of padding)"
	ll_zero_tail "$3" "$_s" || {
		cli_keep "$2" "$3"
		fail "$1: the $((_r - _s)) bytes after the data are not silence"
	}
	LL_TAIL=$((_r - _s))
}

# ll_prefix NAME SRC REC: REC (non-empty, whole frames) is a prefix of SRC.
ll_prefix() {
	_r=$(ll_size "$3")
	[ "$_r" -gt 0 ] || fail "$1: nothing recorded"
	[ $((_r % FB)) -eq 0 ] || fail "$1: $_r bytes is not a whole number of frames"
	[ "$_r" -le "$(ll_size "$2")" ] || fail "$1: recorded $_r bytes, more than was played"
	cmp -n "$_r" "$2" "$3" >"$CLI_TMP/cmp.out" 2>&1 || {
		cli_keep "$2" "$3"
		cat "$CLI_TMP/cmp.out" >&2
		fail "$1: the recording is not a prefix of the played data"
	}
}

# ll_factor SECONDS_OF_AUDIO MS: the speed factor, one decimal.
ll_factor() {
	echo "$1 $2" | awk '{ ms = $2 < 1 ? 1 : $2; printf "%.1f", $1 * 1000 / ms }'
}

# ll_writer_end NAME PID ERRFILE: a playback whose reader closed ends with
# -ENODEV (exit 1, "No such device"), within 2 s (the end-of-stream races of
# tests/lossless-race.sh, where it once waited for ever, are fixed).  Sets
# LL_WRITER_MS.
ll_writer_end() {
	_t=$(cli_ms)
	ll_wait_exit "$2" 2 || {
		cat "$3" >&2
		fail "$1: the writer still waited 2 s after its reader closed (killed)"
	}
	LL_WRITER_MS=$(($(cli_ms) - _t))
	[ "$CLI_RC" -eq 1 ] || { cat "$3" >&2; fail "$1: aplay exited with $CLI_RC, expected 1 (-ENODEV)"; }
	cli_expect_text "$3" "$1: aplay" "No such device"
}
