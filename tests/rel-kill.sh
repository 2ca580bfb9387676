#!/bin/sh
# Peer death.  Targeted cases first: kill -9 of the player mid-write, while
# paused, while draining and mid hw_params, and of the recorder mid-read:
# the survivor keeps running in real time (a capture keeps delivering frames,
# silence after the kill, at about the nominal rate; a playback keeps being
# consumed), the killed end reopens at once (no EBUSY), the cable's format
# lock holds while the survivor is attached and is free once both are gone.
# Then the shortened random stress: scripts/reliability.sh --kills 50.
set -eu
. "$top_builddir/tests/lib/env.sh"
RS="$top_builddir/tests/streamer"
work=$(mktemp -d)
loop_at_exit 'rm -rf "$work"'
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$2" | tail -n 1; }
# within X LO HI: LO <= X <= HI (decimals)
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# --- player killed in a phase; the recorder survives in real time ----------------
for phase in write pause drain hwp; do
	sub=1
	P="loop:SUBDEV=$sub,CARD=$LOOP_CARD" C="loopcap:SUBDEV=$sub,CARD=$LOOP_CARD"
	"$RS" rec -D "$C" -d 2 -T 30 >"$work/rec" 2>"$work/rec.err" &
	rec=$!
	wait_for "$work/rec" started || bad "recorder did not start"
	"$RS" play -D "$P" -M "$phase" -T 30 >"$work/play" 2>&1 &
	play=$!
	case $phase in pause) m=paused ;; drain) m=draining ;; hwp) m=hwp ;; *) m=started ;; esac
	wait_for "$work/play" $m || bad "player never reached '$m'"
	sleep 0.3
	kill -9 "$play"
	wait "$play" 2>/dev/null || true
	# The killed end reopens at once while the recorder holds the cable;
	# with other parameters it is refused (the survivor's lock holds).
	"$RS" open -D "$P" >"$work/open" 2>&1 || { bad "$phase: reopen after kill failed"; cat "$work/open"; }
	if "$RS" open -D "$P" -r 44100 >"$work/open2" 2>&1; then
		bad "$phase: 44100 Hz accepted while the recorder holds the 48000 Hz lock"
	fi
	st=0
	wait "$rec" || st=$?
	if [ "$st" != 0 ]; then
		bad "$phase: surviving recorder exited $st"
		cat "$work/rec" "$work/rec.err"
		continue
	fi
	frames=$(field frames "$work/rec") elapsed=$(field elapsed "$work/rec")
	silent=$(field silent "$work/rec")
	rate=$(awk -v f="$frames" -v e="$elapsed" 'BEGIN { printf "%d", f / e }')
	# Generous: this machine is shared; the point is "keeps flowing".
	within "$rate" 33600 62400 || bad "$phase: survivor captured at $rate frames/s"
	[ "$silent" -gt 0 ] || bad "$phase: survivor heard no silence after the kill"
	echo "player killed ($phase): recorder went on, $frames frames in $elapsed s ($rate/s)," \
		"$silent silent"
done

# --- recorder killed (mid-read, paused, mid hw_params); the player is consumed --
for phase in read pause hwp; do
	sub=2
	P="loop:SUBDEV=$sub,CARD=$LOOP_CARD" C="loopcap:SUBDEV=$sub,CARD=$LOOP_CARD"
	"$RS" rec -D "$C" -M "$phase" -T 30 >"$work/rec" 2>&1 &
	rec=$!
	wait_for "$work/rec" "started|hwp" || bad "recorder did not start"
	"$RS" play -D "$P" -n 72000 -T 30 >"$work/play" 2>"$work/play.err" &
	play=$!
	[ "$phase" = pause ] && { wait_for "$work/rec" paused || bad "recorder never paused"; }
	sleep 0.4
	kill -9 "$rec"
	wait "$rec" 2>/dev/null || true
	"$RS" open -C -D "$C" >"$work/open" 2>&1 || { bad "$phase: capture reopen failed"; cat "$work/open"; }
	st=0
	wait "$play" || st=$?
	elapsed=$(field elapsed "$work/play")
	if [ "$st" != 0 ]; then
		bad "$phase: surviving player exited $st"
		cat "$work/play" "$work/play.err"
	elif ! within "$elapsed" 1.0 5; then
		bad "$phase: 1.5 s of playback took $elapsed s after its recorder died"
	fi
	echo "recorder killed ($phase): player consumed 1.5 s in $elapsed s"
done

# --- both ends gone: new parameters, bit-exact ------------------------------------
for sub in 1 2; do
	P="loop:SUBDEV=$sub,CARD=$LOOP_CARD" C="loopcap:SUBDEV=$sub,CARD=$LOOP_CARD"
	"$RS" rec -D "$C" -r 22050 -c 1 -e 11025 -d 10 -T 30 >"$work/rec" 2>&1 &
	rec=$!
	wait_for "$work/rec" started || true
	st=0
	"$RS" play -D "$P" -r 22050 -c 1 -n 11025 -T 30 >"$work/play" 2>&1 || st=$?
	st2=0
	wait "$rec" || st2=$?
	if [ "$st" != 0 ] || [ "$st2" != 0 ]; then
		bad "subdevice $sub: new parameters (22050 Hz mono) after the kills: $st $st2"
		cat "$work/rec" "$work/play"
	fi
	# Everybody gone: a lone capture hears silence, never the old streams.
	if ! "$RS" rec -D "$C" -Z -d 1 -T 30 >"$work/lone" 2>&1; then
		bad "subdevice $sub: a lone capture heard old audio: $(tail -n 1 "$work/lone")"
	fi
done
loop_cleanup

# --- the random stress, shortened -------------------------------------------------
if ! sh "$top_srcdir/scripts/reliability.sh" --build "$top_builddir" \
	--kills "${REL_KILLS:-50}" --workers 4; then
	bad "scripts/reliability.sh --kills ${REL_KILLS:-50} failed"
fi
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails checks failed"
	exit 1
fi
echo "PASS"
