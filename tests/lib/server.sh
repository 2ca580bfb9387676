# Functions of the sound-server tests (client-pulse.sh, client-pipewire.sh,
# client-jack.sh, client-mpv.sh), on top of tests/lib/env.sh and
# tests/lib/cli.sh:
#
#   . "$top_builddir/tests/lib/env.sh"
#   . "$top_srcdir/tests/lib/cli.sh"
#   . "$top_srcdir/tests/lib/server.sh"
#
# A daemon runs under timeout like every client, but for SRV_TIMEOUT
# seconds; at exit (tests/lib/env.sh) each one is stopped with the rest of
# the test's processes and waited for before the srv_at_exit commands,
# the segments and the scratch directory go, so that nothing it holds is
# removed under it or left behind.

SRV_TIMEOUT=${SRV_TIMEOUT:-120}	# seconds, per daemon: longer than the test
SRV_PIDS=
SRV_CLEAN=	# commands run after the daemons stopped (srv_at_exit)

srv_cleanup() {
	# Each pid is a subshell running timeout: timeout passes TERM on to its
	# daemon and KILLs it 3 s later if need be.
	for p in $SRV_PIDS; do
		for c in $(cli_children "$p"); do
			kill "$c" 2>/dev/null || true
		done
	done
	for p in $SRV_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	eval "$SRV_CLEAN"
}
loop_at_exit srv_cleanup

# srv_at_exit COMMAND: run COMMAND (a string) at exit, once the daemons are gone.
srv_at_exit() {
	SRV_CLEAN="$SRV_CLEAN
$1"
}

# srv_bg LOG CMD...: start a daemon in the background, its output in LOG;
# its pid (timeout's) is in SRV_BG.
srv_bg() {
	_log=$1
	shift
	alsa_client timeout -k 3 "$SRV_TIMEOUT" "$@" </dev/null >"$_log" 2>&1 &
	SRV_BG=$!
	SRV_PIDS="$SRV_PIDS $SRV_BG"
}

# srv_wait WHAT SECS PID LOG CMD...: poll CMD (every 0.1 s, output
# discarded) until it succeeds; fail with LOG if the daemon PID died or
# SECS passed.
srv_wait() {
	_what=$1 _secs=$2 _pid=$3 _log=$4
	shift 4
	_i=0
	until "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ $_i -gt $((_secs * 10)) ] || ! kill -0 "$_pid" 2>/dev/null; then
			tail -30 "$_log" >&2
			fail "$_what"
		fi
		sleep 0.1
	done
}

# tone_wav FILE FREQ SECS: a WAV file (48 kHz, stereo, S16_LE) of 0.3 s of
# silence, SECS of a FREQ Hz sine at half scale, and 0.3 s of silence.
tone_wav() {
	sox -V1 -n -r 48000 -c 2 -e signed -b 16 -L "$1" synth "$3" sine "$2" vol 0.5 \
		pad 0.3 0.3 || fail "sox could not write $1"
}

# tone_check NAME FILE FREQ SECS: FILE (raw, 48 kHz, stereo, S16_LE) holds
# one FREQ Hz tone of SECS (frequency within 1 %, length within 10 %), with
# no dropout and no click inside it.
tone_check() {
	_rc=0
	"$AUDIOCHECK" tone "$2" 48000 2 "$3" "$4" >"$CLI_TMP/tone.out" 2>&1 || _rc=$?
	if [ $_rc -ne 0 ] || ! grep -q ' gaps=0 .* clicks=0$' "$CLI_TMP/tone.out"; then
		cat "$CLI_TMP/tone.out" >&2
		cli_keep "$2"
		return 1
	fi
	pass "$1: $(cat "$CLI_TMP/tone.out")"
}

# srv_fail MESSAGE [LOG...]: fail, showing the end of each LOG first.
srv_fail() {
	_msg=$1
	shift
	for _l in "$@"; do
		tail -n 20 "$_l" >&2
	done
	fail "$_msg"
}

# rec_wait FILE PID ERRFILE WHAT: wait until the recorder PID has written
# its first period to FILE; fail with its ERRFILE if it does not.
rec_wait() {
	cli_wait_growth "$1" "$2" || srv_fail "$4 did not start recording" "$3"
}
