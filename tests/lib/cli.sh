# Functions of the cli-*.sh tests (on top of tests/lib/env.sh); source after it:
#
#   . "$top_builddir/tests/lib/env.sh"
#   . "$top_srcdir/tests/lib/cli.sh"
#
# Every client runs through alsa_client and timeout, so a hang fails the test
# instead of CI.  At exit (tests/lib/env.sh's trap), background clients still
# running are stopped, our segments removed (loop_cleanup, and the extra card
# keys of cli_card) and the scratch directory deleted.

AUDIOCHECK="$top_builddir/tests/audiocheck"
CLI_TIMEOUT=${CLI_TIMEOUT:-20}	# seconds, per client
CLI_PIDS=
CLI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/alsa-loopback-cli.XXXXXX")
loop_at_exit 'rm -rf "$CLI_TMP"'

# The children of a process, from /proc (no procps).  cat, not awk on the
# files: mawk stops at the first file it cannot open (a process that ended
# meanwhile) and would miss the rest.  comm, field 2, may hold spaces: the
# parent pid is the second field after its ")".
cli_children() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		awk -v p="$1" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[2] == p) print $1 }'
}

for t in aplay arecord sox timeout; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
[ -x "$AUDIOCHECK" ] || fail "$AUDIOCHECK is not built (make check builds it)"

# An extra card key whose segments are removed at exit.
cli_card() {
	loop_card_key "$1"
}

# cli_dev NAME SUBDEV [CARD]: a device string on our private card.
cli_dev() {
	echo "$1:SUBDEV=$2,CARD=${3:-$LOOP_CARD}"
}

# Milliseconds of CLOCK_REALTIME (GNU date).
cli_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Run a client in the foreground, bounded in time.
cli_client() {
	alsa_client timeout -k 2 "$CLI_TIMEOUT" "$@" </dev/null
}

# cli_bg CMD...: run a client in the background; its pid is in CLI_BG.
cli_bg() {
	cli_client "$@" &
	CLI_BG=$!
	CLI_PIDS="$CLI_PIDS $CLI_BG"
}

# cli_wait PID: the exit status of a background client, never aborting set -e.
cli_wait() {
	CLI_RC=0
	wait "$1" || CLI_RC=$?
	# Reaped: its pid is no longer ours to signal.
	_left=
	for _p in $CLI_PIDS; do
		[ "$_p" = "$1" ] || _left="$_left $_p"
	done
	CLI_PIDS=$_left
}

# cli_sox_opts FORMAT: sox's output options for an ALSA format name.
cli_sox_opts() {
	case $1 in
	S8) echo "-e signed -b 8" ;;
	U8) echo "-e unsigned -b 8" ;;
	S16_LE) echo "-e signed -b 16 -L" ;;
	S16_BE) echo "-e signed -b 16 -B" ;;
	# 24 bits in 32: samples scaled into 24 bits, sign-extended.
	S24_LE) echo "-e signed -b 32 -L" ;;
	S24_BE) echo "-e signed -b 32 -B" ;;
	S24_3LE) echo "-e signed -b 24 -L" ;;
	S24_3BE) echo "-e signed -b 24 -B" ;;
	S32_LE) echo "-e signed -b 32 -L" ;;
	S32_BE) echo "-e signed -b 32 -B" ;;
	FLOAT_LE) echo "-e floating-point -b 32 -L" ;;
	FLOAT_BE) echo "-e floating-point -b 32 -B" ;;
	FLOAT64_LE) echo "-e floating-point -b 64 -L" ;;
	FLOAT64_BE) echo "-e floating-point -b 64 -B" ;;
	MU_LAW) echo "-e mu-law -b 8" ;;
	A_LAW) echo "-e a-law -b 8" ;;
	*) return 1 ;;
	esac
}

# cli_gen FILE FORMAT RATE CHANNELS SECONDS [SIGNAL]: a raw test signal,
# white noise by default (never periodic, so alignment is unambiguous).
cli_gen() {
	_opts=$(cli_sox_opts "$2") || fail "cli_gen: no sox options for $2"
	_vol=0.5
	case $2 in S24_LE|S24_BE) _vol=0.001953125 ;; esac	# 0.5 / 256
	# shellcheck disable=SC2086
	sox -V1 -n -r "$3" -c "$4" $_opts -t raw "$1" synth "$5" ${6:-whitenoise} vol "$_vol" ||
		fail "sox could not generate $2 $3 Hz $4 ch"
	[ -s "$1" ] || fail "sox wrote an empty $1"
}

# cli_keep FILE...: on failure, keep evidence in $CLI_KEEP (a directory) if set.
cli_keep() {
	[ -n "${CLI_KEEP:-}" ] || return 0
	mkdir -p "$CLI_KEEP" && cp "$@" "$CLI_KEEP"/ && echo "kept $* in $CLI_KEEP" >&2
}

# cli_wait_growth FILE PID: wait until a recorder has written its first
# period (its stream runs), at most 5 s.
cli_wait_growth() {
	_i=0
	while [ ! -s "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		_i=$((_i + 1))
		[ $_i -le 250 ] || return 1
		sleep 0.02
	done
}

# cli_roundtrip NAME CAPDEV PLAYDEV FORMAT RATE CHANNELS SECONDS
#                [ARECORD_OPTS [APLAY_OPTS [EXTRA_CAPTURE_SECONDS]]]
# Generate SECONDS of noise, record CAPDEV (started first, running before
# the playback opens) while aplay plays it into PLAYDEV, both raw with the
# same parameters; the capture must be silence + the data bit-exact +
# silence.
cli_roundtrip() {
	_name=$1 _cap=$2 _play=$3 _fmt=$4 _rate=$5 _ch=$6 _secs=$7
	_ropts=${8:-} _popts=${9:-} _extra=${10:-0.3}
	_src="$CLI_TMP/play.raw" _rec="$CLI_TMP/rec.raw"
	rm -f "$_src" "$_rec"
	cli_gen "$_src" "$_fmt" "$_rate" "$_ch" "$_secs"
	_fb=$("$AUDIOCHECK" frame-bytes "$_fmt" "$_ch") || fail "$_name: audiocheck frame-bytes"
	_sil=$("$AUDIOCHECK" silence "$_fmt") || fail "$_name: audiocheck silence"
	# Record the signal, a first period, aplay's start-up, and a margin.
	_frames=$(echo "$_rate $_secs $_extra" | awk '{ printf "%d", $1 * ($2 + $3 + 0.5) }')
	# shellcheck disable=SC2086
	cli_bg arecord -q -D "$_cap" -t raw -f "$_fmt" -r "$_rate" -c "$_ch" -s "$_frames" \
		$_ropts "$_rec" 2>"$CLI_TMP/rec.err"
	_rpid=$CLI_BG
	if ! cli_wait_growth "$_rec" "$_rpid"; then
		cat "$CLI_TMP/rec.err" >&2
		fail "$_name: arecord -D $_cap did not start recording"
	fi
	_prc=0
	# shellcheck disable=SC2086
	cli_client aplay -q -D "$_play" -t raw -f "$_fmt" -r "$_rate" -c "$_ch" $_popts \
		"$_src" 2>"$CLI_TMP/play.err" || _prc=$?
	if [ $_prc -ne 0 ]; then
		cat "$CLI_TMP/play.err" >&2
		fail "$_name: aplay -D $_play exited with $_prc"
	fi
	cli_wait "$_rpid"
	if [ "$CLI_RC" -ne 0 ]; then
		cat "$CLI_TMP/rec.err" >&2
		fail "$_name: arecord -D $_cap exited with $CLI_RC"
	fi
	"$AUDIOCHECK" compare "$_src" "$_rec" "$_fb" "$_sil" >"$CLI_TMP/cmp.out" 2>&1 || {
		cli_keep "$_src" "$_rec"
		cat "$CLI_TMP/cmp.out" >&2
		cat "$CLI_TMP/rec.err" "$CLI_TMP/play.err" >&2
		fail "$_name: $_fmt $_rate Hz $_ch ch, $_play -> $_cap is not bit-exact"
	}
	pass "$_name: $(cat "$CLI_TMP/cmp.out")"
}

# cli_expect_text FILE WHAT TEXT...: every TEXT occurs in FILE.
cli_expect_text() {
	_f=$1 _what=$2
	shift 2
	for _t in "$@"; do
		grep -q -- "$_t" "$_f" || {
			echo "--- $_what said:" >&2
			cat "$_f" >&2
			fail "$_what: the message does not contain '$_t'"
		}
	done
}

# cli_wait_text FILE TEXT PID: wait until FILE (a client's stderr) contains
# TEXT, e.g. "buffer_size" of aplay -v's setup dump, written after hw_params.
cli_wait_text() {
	_i=0
	until grep -q -- "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		_i=$((_i + 1))
		[ $_i -le 250 ] || return 1
		sleep 0.02
	done
}

# cli_max_amplitude FILE SOX_INPUT_OPTS...: sox's maximum amplitude (0..1).
cli_max_amplitude() {
	_f=$1
	shift
	sox -V1 -t raw "$@" "$_f" -n stat 2>&1 | awk '/^Maximum amplitude:/ { print $3 }'
}

# cli_jack_shm_at_exit: libjack (jackd, and any client that tries to reach
# a server: PortAudio's JACK host API) makes /dev/shm/jack-shm-registry and
# /dev/shm/jack_db-UID and never removes them.  At exit, remove those that
# did not exist before this call.
cli_jack_shm_at_exit() {
	CLI_JACK_BEFORE=$(ls -d /dev/shm/jack-shm-registry /dev/shm/jack_db-* 2>/dev/null || true)
	# shellcheck disable=SC2016	# evaluated at exit
	loop_at_exit 'for _f in /dev/shm/jack-shm-registry /dev/shm/jack_db-*; do
		[ -e "$_f" ] || continue
		case " $CLI_JACK_BEFORE " in *" $_f "*) ;; *) rm -rf "$_f" ;; esac
	done'
}
