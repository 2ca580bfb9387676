# Functions of the shared-*.sh tests, sourced after tests/lib/env.sh and
# tests/lib/cli.sh.  Writers play constant (DC) signals, one vector of
# per-channel values each, chosen so that every subset of writers sums to a
# different frame: a recording then says, frame by frame, which writers
# were heard, whatever their start times.

# shared_stop PID: stop a background client (SIGINT to what timeout runs:
# arecord then exits cleanly), reap it; its status is ignored.
shared_stop() {
	for _c in $(cli_children "$1"); do
		kill -INT "$_c" 2>/dev/null || true
	done
	cli_wait "$1"
}

# shared_analyze RLE FORMAT CHANNELS RATE W1 W2 ...: decode a recording's
# runs (audiocheck runs) into writer subsets.  Each Wi is a writer's values
# joined by commas ("1000,-3000"), as audiocheck gen takes them.  Prints, per
# writer, "writer I frames F segments S first A last B" (frames heard, in
# how many separate stretches, first and last frame heard), then
# "all FRAMES" (frames where every writer was heard) and "runs N".  Exit
# 1 with a message if a run is no subset's mix, or if two subsets mix to
# the same frame (a test design error).
shared_analyze() {
	_rle=$1 _fmt=$2 _ch=$3
	shift 4
	awk -v fmt="$_fmt" -v ch="$_ch" -v ws="$*" '
	function clamp(v) { return v < lo ? lo : v > hi ? hi : v }
	function key(m,   c, s, k, i, v) {
		k = ""
		for (c = 1; c <= ch; c++) {
			s = 0
			for (i = 1; i <= n; i++)
				if (int(m / 2 ^ (i - 1)) % 2)
					s += w[i, c] - mid
			v = isfloat ? sprintf("%.9g", s) : sprintf("%.0f", clamp(s) + mid)
			k = k " " v
		}
		return k
	}
	BEGIN {
		isfloat = fmt == "FLOAT_LE"; mid = 0
		if (fmt == "S8") { lo = -128; hi = 127 }
		else if (fmt == "U8") { lo = -128; hi = 127; mid = 128 }
		else if (fmt == "S16_LE") { lo = -32768; hi = 32767 }
		else if (fmt == "S32_LE") { lo = -2147483648; hi = 2147483647 }
		else if (!isfloat) { print "shared_analyze: format " fmt; exit 2 }
		n = split(ws, wl, " ")
		for (i = 1; i <= n; i++) {
			if (split(wl[i], v, ",") != ch) { print "writer " i ": need " ch " values"; exit 2 }
			for (c = 1; c <= ch; c++) w[i, c] = v[c]
		}
		for (m = 0; m < 2 ^ n; m++) {
			k = key(m)
			if (k in mask) { print "design error: subsets " mask[k] " and " m " both mix to" k; exit 2 }
			mask[k] = m
		}
	}
	{
		start = $1; cnt = $2; k = ""
		for (c = 1; c <= ch; c++) k = k " " sprintf(isfloat ? "%.9g" : "%.0f", $(2 + c))
		if (!(k in mask)) {
			printf "frames %d..%d hold%s, which is no mix of the writers\n", start, start + cnt - 1, k
			bad = 1; next
		}
		m = mask[k]; runs++
		for (i = 1; i <= n; i++) {
			on = int(m / 2 ^ (i - 1)) % 2
			if (on) {
				fr[i] += cnt
				if (!was[i]) seg[i]++
				if (!(i in first)) first[i] = start
				last[i] = start + cnt - 1
			}
			was[i] = on
		}
		if (m == 2 ^ n - 1) all += cnt
	}
	END {
		if (bad) exit 1
		for (i = 1; i <= n; i++)
			printf "writer %d frames %d segments %d first %d last %d\n", i, fr[i] + 0, seg[i] + 0, \
				(i in first) ? first[i] : -1, (i in last) ? last[i] : -1
		printf "all %d\nruns %d\n", all + 0, runs + 0
	}' "$_rle"
}

# shared_field ANALYSIS WRITER FIELD: one number of shared_analyze's output
# (WRITER "all" or "runs" for those lines).
shared_field() {
	case $2 in
	all|runs) awk -v k="$2" '$1 == k { print $2 }' "$1" ;;
	*) awk -v i="$2" -v f="$3" '$1 == "writer" && $2 == i {
		for (j = 3; j < NF; j += 2) if ($j == f) print $(j + 1) }' "$1" ;;
	esac
}

# shared_leaf PID: the client a background job runs (cli_bg's pid is a
# subshell, whose child is timeout, whose child is the client): follow the
# first child down while there is one.
shared_leaf() {
	_l=$1
	while :; do
		_k=$(cli_children "$_l" | head -1)
		[ -n "$_k" ] || break
		_l=$_k
	done
	echo "$_l"
}

# shared_kill PID: kill -9 the client of a background job (a holder blocked
# in open() of a FIFO ignores TERM until timeout's -k) and reap the job.
shared_kill() {
	kill -KILL "$(shared_leaf "$1")" 2>/dev/null || true
	cli_wait "$1"
}

# A holder: a client that opened a PCM and then blocks opening a FIFO
# (arecord and aplay both open the PCM before their file), costing nothing.
# shared_hold NAME SUBDEV: open NAME:SUBDEV (a capture if NAME ends in
# "cap"; S16_LE 48000 Hz 2 ch) in the background, wait until it holds the
# segment; its job is added to SHARED_HOLDERS.
SHARED_HOLDERS=
shared_hold() {
	[ -p "$CLI_TMP/capfifo" ] || mkfifo "$CLI_TMP/capfifo" "$CLI_TMP/playfifo"
	case $1 in
	*cap) cli_bg arecord -q -D "$(cli_dev "$1" "$2")" -t raw -f S16_LE -r 48000 -c 2 \
		"$CLI_TMP/capfifo" 2>>"$CLI_TMP/hold.err" ;;
	*) cli_bg aplay -q -D "$(cli_dev "$1" "$2")" -t raw -f S16_LE -r 48000 -c 2 \
		"$CLI_TMP/playfifo" 2>>"$CLI_TMP/hold.err" ;;
	esac
	SHARED_HOLDERS="$SHARED_HOLDERS $CLI_BG"
	_i=0
	while :; do
		ls -l "/proc/$(shared_leaf "$CLI_BG")/fd" 2>/dev/null |
			grep -q "alsa-loopback-$LOOP_CARD\\.$2\$" && return 0
		kill -0 "$CLI_BG" 2>/dev/null || {
			cat "$CLI_TMP/hold.err" >&2
			fail "$1:$2 could not be held"
		}
		_i=$((_i + 1))
		[ $_i -le 250 ] || fail "$1:$2: the holder did not attach within 5 s"
		sleep 0.02
	done
}

# shared_release: kill every holder.
shared_release() {
	for _h in $SHARED_HOLDERS; do
		shared_kill "$_h"
	done
	SHARED_HOLDERS=
}
