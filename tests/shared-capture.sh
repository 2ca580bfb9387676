#!/bin/sh
# Shared capture ends, and who may open a shared end:
# - arecord and sox recording one sharedloopcap:N at once (and a third,
#   arecord -M) while aplay plays noise into the exclusive loop:N: every
#   recording is a bit-exact copy (audiocheck compare);
# - exclusive and shared openers of one end exclude each other (EBUSY),
#   both ways and in both directions, the message saying which kind holds
#   it ("shared" / "exclusively");
# - 16 shared openers per direction: the 17th fails (EBUSY) with a message
#   naming 16; once one dies, the 17th gets in.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/shared.sh"

F=S16_LE R=48000 C=2

# --- several captures of one shared end ----------------------------------
SUB=40
cli_gen "$CLI_TMP/src.raw" $F $R $C 0.5
# The recorders run until they have heard the whole play and 1 s more,
# however late each one started (a machine under load may take seconds to
# start sox), and are then stopped (SIGINT).
cli_bg arecord -q -D "$(cli_dev sharedloopcap $SUB)" -t raw -f $F -r $R -c $C -d 18 \
	"$CLI_TMP/rec1.raw" 2>"$CLI_TMP/rec1.err"
r1=$CLI_BG
cli_bg arecord -q -M -D "$(cli_dev sharedloopcap $SUB)" -t raw -f $F -r $R -c $C -d 18 \
	"$CLI_TMP/rec3.raw" 2>"$CLI_TMP/rec3.err"
r3=$CLI_BG
have_sox=0
if sox -h 2>/dev/null | grep -q 'DRIVERS:.* alsa'; then
	have_sox=1
	cli_bg sox -q -V1 -t alsa -r $R -c $C -e signed -b 16 "$(cli_dev sharedloopcap $SUB)" \
		-t raw -L "$CLI_TMP/rec2.raw" trim 0 18 2>"$CLI_TMP/rec2.err"
	r2=$CLI_BG
	cli_wait_growth "$CLI_TMP/rec2.raw" "$r2" || {
		cat "$CLI_TMP/rec2.err" >&2
		fail "sox -t alsa sharedloopcap:$SUB did not start recording"
	}
else
	echo "note: sox has no alsa driver (libsox-fmt-alsa): two arecords only"
fi
for n in 1 3; do
	eval "p=\$r$n"
	cli_wait_growth "$CLI_TMP/rec$n.raw" "$p" || {
		cat "$CLI_TMP/rec$n.err" >&2
		fail "recorder $n (arecord -D sharedloopcap:$SUB) did not start recording"
	}
done
cli_client aplay -q -D "$(cli_dev loop $SUB)" -t raw -f $F -r $R -c $C "$CLI_TMP/src.raw" \
	2>"$CLI_TMP/play.err" || {
	cat "$CLI_TMP/play.err" >&2
	fail "aplay -D loop:$SUB failed while sharedloopcap:$SUB has several captures"
}
recs="1 3"
[ $have_sox -eq 0 ] || recs="1 2 3"
for n in $recs; do
	eval "rs$n=\$(stat -c %s \"\$CLI_TMP/rec\$n.raw\")"
done
for n in $recs; do
	eval "p=\$r$n want=\$((rs$n + R * 4))"
	_i=0
	while [ "$(stat -c %s "$CLI_TMP/rec$n.raw")" -lt "$want" ]; do
		kill -0 "$p" 2>/dev/null || {
			cat "$CLI_TMP/rec$n.err" >&2
			fail "recorder $n on sharedloopcap:$SUB ended before it had heard 1 s past the play"
		}
		_i=$((_i + 1))
		[ $_i -le 500 ] || fail "recorder $n on sharedloopcap:$SUB did not record 1 s within 10 s"
		sleep 0.02
	done
	shared_stop "$p"
	if "$AUDIOCHECK" compare "$CLI_TMP/src.raw" "$CLI_TMP/rec$n.raw" 4 0000 >"$CLI_TMP/cmp.out" 2>&1; then
		pass "recorder $n of sharedloopcap:$SUB: $(cat "$CLI_TMP/cmp.out")"
	else
		cat "$CLI_TMP/cmp.out" >&2
		cli_keep "$CLI_TMP/src.raw" "$CLI_TMP/rec$n.raw"
		bad "recorder $n of sharedloopcap:$SUB is not a bit-exact copy of what loop:$SUB played"
	fi
done

# --- exclusive vs shared ---------------------------------------------------
# Holders (shared_hold) open an end and block opening a FIFO.

# try NAME SUBDEV: open NAME:SUBDEV for a moment; status in TRY_RC, stderr
# in $CLI_TMP/try.err.
try() {
	TRY_RC=0
	case $1 in
	*cap) cli_client arecord -q -D "$(cli_dev "$1" "$2")" -t raw -f $F -r $R -c $C -s 480 \
		/dev/null 2>"$CLI_TMP/try.err" || TRY_RC=$? ;;
	*) head -c 1920 /dev/zero >"$CLI_TMP/z.raw"
		cli_client aplay -q -D "$(cli_dev "$1" "$2")" -t raw -f $F -r $R -c $C \
		"$CLI_TMP/z.raw" 2>"$CLI_TMP/try.err" || TRY_RC=$? ;;
	esac
}

# excl HELD OTHER SUBDEV WORD: while HELD holds the end, OTHER fails with a
# busy message containing WORD.
excl() {
	shared_hold "$1" "$3"
	try "$2" "$3"
	if [ "$TRY_RC" -eq 0 ]; then
		bad "$2:$3 opened while $1:$3 holds the same end"
	elif ! grep -q "busy" "$CLI_TMP/try.err" || ! grep -q -- "$4" "$CLI_TMP/try.err"; then
		cat "$CLI_TMP/try.err" >&2
		bad "$2:$3 refused while $1:$3 holds it, but the message lacks 'busy' and '$4'"
	else
		pass "$2:$3 refused while $1:$3 holds it: $(grep -m1 busy "$CLI_TMP/try.err")"
	fi
	shared_release
}
excl sharedloopcap loopcap 41 shared
excl loopcap sharedloopcap 41 exclusively
excl sharedloop loop 42 shared
excl loop sharedloop 42 exclusively

# --- 16 openers per direction -------------------------------------------------
for dir in sharedloopcap sharedloop; do
	sub=43
	[ $dir = sharedloop ] && sub=44
	i=0
	while [ $i -lt 16 ]; do
		shared_hold $dir $sub
		i=$((i + 1))
	done
	try $dir $sub
	if [ "$TRY_RC" -eq 0 ]; then
		bad "a 17th opener of $dir:$sub got in"
	elif ! grep -qw 16 "$CLI_TMP/try.err"; then
		cat "$CLI_TMP/try.err" >&2
		bad "the 17th opener of $dir:$sub was refused, but the message does not name 16"
	else
		pass "17th opener of $dir:$sub refused: $(grep -m1 -i "places\|busy" "$CLI_TMP/try.err")"
	fi
	# One dies (kill -9): its place is free again.
	h1=${SHARED_HOLDERS# }
	h1=${h1%% *}
	shared_kill "$h1"
	SHARED_HOLDERS=$(echo "$SHARED_HOLDERS" | sed "s/ $h1\\b//")
	# The kernel drops the dead one's lock with its last file reference,
	# which a concurrent reader of /proc/PID/stat may hold a moment after
	# it was reaped: a few tries within 1 s.
	n=0
	while :; do
		try $dir $sub
		n=$((n + 1))
		[ "$TRY_RC" -ne 0 ] && [ $n -lt 10 ] || break
		sleep 0.1
	done
	[ $n -eq 1 ] || echo "note: $dir:$sub: the place was free at try $n"
	if [ "$TRY_RC" -ne 0 ]; then
		cat "$CLI_TMP/try.err" >&2
		bad "$dir:$sub: after one of the 16 openers was killed, a new one was refused"
	else
		pass "$dir:$sub: after one of the 16 was killed, a new opener gets its place"
	fi
	shared_release
done

[ "$fails" -eq 0 ] || fail "$fails check(s) failed"
echo "PASS"
