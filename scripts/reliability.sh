#!/bin/sh
# Reliability runs for alsa-loopback; prints a summary table.
#
#   scripts/reliability.sh [--build DIR] [--kills N] [--workers W]
#                          [--load CABLES SECONDS] [--hostile]
#
#   --build DIR     build directory to test (default: $top_builddir, else
#                   the current directory); an ASan build (configured with
#                   CFLAGS=-fsanitize=address,...) works: aplay/arecord get
#                   the runtime preloaded, the helpers are instrumented.
#   --kills N       N cycles of open / stream / random kill -9 / reopen over W
#                   subdevices (default 4) while long-lived survivors run on
#                   two more; afterwards every new pair must be bit-exact, no
#                   process may have hung, the survivors' fds and mappings
#                   must not have grown and only one segment per subdevice
#                   may exist.
#   --load C S      C cables (2C aplay/arecord processes) streaming 48 kHz
#                   stereo S16 for S seconds: xruns, bit-exactness, CPU.
#   --hostile       run tests/rel-hostile.sh (bad segments, scribbler).
#
# Exit 0 when everything held, 1 otherwise.  The full runs (500 kills,
# 64 cables x 30 s) are long; tests/rel-kill.sh and tests/rel-load.sh run
# short forms in "make check".
set -eu

build=${top_builddir:-$PWD}
kills=0 workers=4 load_cables=0 load_secs=0 hostile=0
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(cd "$2" && pwd); shift 2 ;;
	--kills) kills=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--load) load_cables=$2 load_secs=$3; shift 3 ;;
	--hostile) hostile=1; shift ;;
	*) echo "usage: $0 [--build DIR] [--kills N] [--workers W] [--load CABLES SECONDS]" \
		"[--hostile]" >&2; exit 2 ;;
	esac
done
if [ ! -f "$build/tests/lib/env.sh" ] || [ ! -x "$build/tests/streamer" ]; then
	echo "$0: $build is not a build directory with tests built" \
		"(make tests/streamer tests/segtool)" >&2
	exit 2
fi
top_builddir=$build
top_srcdir=${top_srcdir:-$(sed -n "s/^top_srcdir='\(.*\)'$/\1/p" "$build/tests/lib/env.sh")}
export top_builddir top_srcdir
. "$build/tests/lib/env.sh"
RS="$build/tests/streamer"
work=$(mktemp -d)
pids_file="$work/pids"
: >"$pids_file"
cleanup() {
	# Only what we started, by pid.
	for p in $(cat "$pids_file" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$work"
	loop_cleanup
	# What tests/lib/env.sh registered (its runtime directory): this trap
	# replaced the one that runs it.
	eval "$LOOP_AT_EXIT"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# rand N: a random number 0..N-1.
rand() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % $1 )); }


# reap PID: wait for it; its exit status in $st (no subshell: wait needs us).
reap() {
	st=0
	wait "$1" 2>/dev/null || st=$?
}

# A process is hung if our watchdog (SIGALRM, 142) or a timeout (124) ended it.
is_hang() { [ "$1" = 142 ] || [ "$1" = 124 ]; }

nfd() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
nmaps() { wc -l <"/proc/$1/maps" 2>/dev/null || echo 0; }

# ---- kill stress ---------------------------------------------------------------

F=9600	# frames in each verified pair (0.2 s)

# One worker: cycles on its own subdevice.  Writes counters to $work/w$1.res.
kill_worker() {
	w=$1 n=$2
	sub=$((100 + w))
	P="loop:SUBDEV=$sub,CARD=$LOOP_CARD" C="loopcap:SUBDEV=$sub,CARD=$LOOP_CARD"
	d="$work/w$w"
	mkdir -p "$d"
	kills=0 pairs=0 newparams=0 hangs=0 bad=0 reopen_fail=0
	for i in $(seq 1 "$n"); do
		rm -f "$d"/*
		# Who dies, and doing what.
		if [ "$(rand 2)" = 0 ]; then
			victim=play
			set -- write random pause drain hwp
		else
			victim=rec
			set -- read random pause hwp
		fi
		shift "$(rand $#)"
		phase=$1
		seed=$((w * 100000 + i))
		"$RS" rec -D "$C" -M "$( [ $victim = rec ] && echo "$phase" || echo read)" \
			-R "$seed" -T 60 >"$d/rec" 2>"$d/rec.err" &
		rec=$!
		echo "$rec" >>"$pids_file"
		wait_for "$d/rec" "started|hwp" 10 || true
		"$RS" play -D "$P" -M "$( [ $victim = play ] && echo "$phase" || echo random)" \
			-R "$seed" -T 60 >"$d/play" 2>"$d/play.err" &
		play=$!
		echo "$play" >>"$pids_file"
		if [ $victim = play ]; then vpid=$play spid=$rec vf="$d/play" sf="$d/rec"
		else vpid=$rec spid=$play vf="$d/rec" sf="$d/play"; fi
		# Kill at a random moment once the victim is in its phase.
		case $phase in
		pause) mark=paused ;; drain) mark=draining ;; hwp) mark=hwp ;; *) mark=started ;;
		esac
		wait_for "$vf" "$mark" 10 || true
		sleep "0.$(printf %03d "$(rand 400)")"
		kill -9 "$vpid" 2>/dev/null || true
		reap "$vpid"; s=$st
		if [ "$s" = 137 ]; then
			kills=$((kills + 1))
		elif [ "$s" != 0 ] && ! is_hang "$s"; then
			bad=$((bad + 1))
			fail "w$w cycle $i: victim $victim/$phase died by itself ($s) before the kill"
			cat "$vf" "$vf.err" >&2
		elif is_hang "$s"; then
			hangs=$((hangs + 1)); fail "w$w cycle $i: victim $victim/$phase hung"
		fi
		if ! kill -0 "$spid" 2>/dev/null; then
			fail "w$w cycle $i: survivor died after $victim/$phase was killed"
			cat "$sf" "$sf.err" >&2
		fi
		# The killed end's place is free at once: reopen it while the
		# survivor still holds the other end (same parameters).
		if [ $victim = play ]; then dev=$P flag=; else dev=$C flag=-C; fi
		if ! timeout 20 "$RS" open -D "$dev" $flag >"$d/new" 2>"$d/new.err"; then
			reopen_fail=$((reopen_fail + 1))
			fail "w$w cycle $i: reopening the killed $victim end failed"
			cat "$d/new.err" >&2
		fi
		# The survivor must still be running and stop cleanly with good data.
		kill -TERM "$spid" 2>/dev/null || true
		reap "$spid"; s=$st
		if is_hang "$s"; then
			hangs=$((hangs + 1)); fail "w$w cycle $i: survivor hung"
		elif [ "$s" != 0 ]; then
			bad=$((bad + 1))
			fail "w$w cycle $i: survivor ($victim/$phase killed) exited $s"
			cat "$sf" "$sf.err" >&2
		fi
		# A new pair on the reclaimed ends, bit-exact.
		"$RS" rec -D "$C" -e $F -d 20 -T 60 >"$d/new" 2>"$d/new.err" &
		new=$!
		echo "$new" >>"$pids_file"
		wait_for "$d/new" started 10 || true
		s2=0
		"$RS" play -D "$P" -n $F -T 60 >"$d/fresh" 2>"$d/fresh.err" || s2=$?
		reap "$new"; s1=$st
		if is_hang "$s1" || is_hang "$s2"; then
			hangs=$((hangs + 1)); fail "w$w cycle $i: new pair hung ($s1 $s2)"
		elif [ "$s1" != 0 ] || [ "$s2" != 0 ]; then
			bad=$((bad + 1))
			fail "w$w cycle $i: new pair after $victim/$phase kill not bit-exact ($s1 $s2)"
			cat "$d/new" "$d/new.err" "$d/fresh" "$d/fresh.err" >&2
		else
			pairs=$((pairs + 1))
		fi
		# Both ends gone: the cable takes new parameters (no stale lock).
		if [ $((i % 5)) = 0 ]; then
			"$RS" rec -D "$C" -r 44100 -c 1 -e 4410 -d 20 -T 60 >"$d/np" 2>&1 &
			np=$!
			wait_for "$d/np" started 10 || true
			s2=0
			"$RS" play -D "$P" -r 44100 -c 1 -n 4410 -T 60 >"$d/npp" 2>&1 || s2=$?
			reap "$np"; s1=$st
			if [ "$s1" = 0 ] && [ "$s2" = 0 ]; then
				newparams=$((newparams + 1))
			else
				bad=$((bad + 1))
				fail "w$w cycle $i: new parameters (44100 Hz mono) after the kill: $s1 $s2"
				cat "$d/np" "$d/npp" >&2
			fi
		fi
	done
	echo "$kills $pairs $newparams $hangs $bad $reopen_fail" >"$work/w$w.res"
}

# Long-lived survivors on subdevice 199 (a recorder whose players are killed
# over and over, a player whose recorders are killed) and a reopener on 198.
harass() {
	P="loop:SUBDEV=199,CARD=$LOOP_CARD"
	Cap="loop:SUBDEV=199,CARD=$LOOP_CARD"
	n=0
	while [ ! -e "$work/stop" ]; do
		"$RS" play -D "$P" -M random -T 60 >/dev/null 2>&1 &
		a=$!
		"$RS" rec -D "$Cap" -M random -T 60 >/dev/null 2>&1 &
		b=$!
		echo "$a $b" >>"$pids_file"
		sleep "0.$(printf %03d "$(rand 500)")"
		kill -9 "$a" "$b" 2>/dev/null || true
		wait "$a" 2>/dev/null || true
		wait "$b" 2>/dev/null || true
		n=$((n + 2))
	done
	echo "$n" >"$work/harass.res"
}

run_kills() {
	per=$(( (kills + workers - 1) / workers ))
	echo "kill stress: $((per * workers)) cycles on $workers subdevices, card $LOOP_CARD"
	t0=$(date +%s)
	# Long-lived survivors.
	"$RS" rec -D "loopcap:SUBDEV=199,CARD=$LOOP_CARD" -T 3600 >"$work/LR" 2>&1 &
	LR=$!
	"$RS" play -D "loopcap:SUBDEV=199,CARD=$LOOP_CARD" -T 3600 >"$work/LP" 2>&1 &
	LP=$!
	"$RS" play -D "loop:SUBDEV=198,CARD=$LOOP_CARD" -T 3600 >"$work/RP" 2>&1 &
	RP=$!
	"$RS" rec -D "loopcap:SUBDEV=198,CARD=$LOOP_CARD" -M cycle -N 1000000 -T 3600 \
		>"$work/RR" 2>&1 &
	RR=$!
	echo "$LR $LP $RP $RR" >>"$pids_file"
	wait_for "$work/LR" started 10 && wait_for "$work/LP" started 10 || true
	sleep 1
	fd0_r=$(nfd $LR) map0_r=$(nmaps $LR) fd0_p=$(nfd $LP) map0_p=$(nmaps $LP)
	harass &
	H=$!
	wpids=
	for w in $(seq 1 "$workers"); do
		kill_worker "$w" "$per" &
		wpids="$wpids $!"
	done
	for p in $wpids; do wait "$p" || true; done
	: >"$work/stop"
	wait "$H" || true
	fd1_r=$(nfd $LR) map1_r=$(nmaps $LR) fd1_p=$(nfd $LP) map1_p=$(nmaps $LP)
	for p in $LR $LP $RP $RR; do kill -TERM "$p" 2>/dev/null || true; done
	reap $LR; sLR=$st; reap $LP; sLP=$st; reap $RP; sRP=$st; reap $RR; sRR=$st
	[ "$sLR" = 0 ] || { fail "long-lived recorder exited $sLR"; cat "$work/LR" >&2; }
	[ "$sLP" = 0 ] || { fail "long-lived player exited $sLP"; cat "$work/LP" >&2; }
	[ "$sRP" = 0 ] || { fail "reopener's player exited $sRP"; cat "$work/RP" >&2; }
	[ "$sRR" = 0 ] || { fail "reopener exited $sRR (fds/maps grew or bad data)"; cat "$work/RR" >&2; }
	if [ "$fd0_r/$map0_r/$fd0_p/$map0_p" != "$fd1_r/$map1_r/$fd1_p/$map1_p" ]; then
		fail "survivors' fds/maps changed: rec $fd0_r->$fd1_r fds $map0_r->$map1_r maps," \
			"play $fd0_p->$fd1_p fds $map0_p->$map1_p maps"
	fi
	# Failures inside the workers (subshells) are counted here.
	K=0 PAIRS=0 NP=0 HANGS=0 BAD=0 RF=0
	for w in $(seq 1 "$workers"); do
		if [ ! -f "$work/w$w.res" ]; then
			fail "worker $w did not finish"
			continue
		fi
		read -r k p np h b rf <"$work/w$w.res"
		K=$((K + k)) PAIRS=$((PAIRS + p)) NP=$((NP + np)) HANGS=$((HANGS + h))
		BAD=$((BAD + b)) RF=$((RF + rf))
	done
	failures=$((failures + HANGS + BAD + RF))
	HK=$(cat "$work/harass.res" 2>/dev/null || echo 0)
	# At most one segment per subdevice used (the last one out of a cable
	# removes it; a killed last one leaves it to gc), each exactly one
	# segment long (SHM_SEGMENT_BYTES, shm_layout.h: sparse).  A creator
	# killed between making its file and publishing it leaves the
	# temporary name (NAME.new-PID-N) of a dead PID, for gc: never a
	# segment name that is not a whole segment.
	segs=$(ls "$LOOP_SHM"/ | grep -c "^alsa-loopback-$LOOP_CARD\.[0-9]*$" || true)
	want=$((workers + 2))
	[ "$segs" -le "$want" ] || fail "$segs segments in $LOOP_SHM for card $LOOP_CARD, at most $want"
	temps=0
	for f in $LOOP_SHM/alsa-loopback-"$LOOP_CARD".*; do
		[ -e "$f" ] || continue
		case $f in
		*.new-*-*)
			_pid=${f##*.new-}
			_pid=${_pid%%-*}
			! kill -0 "$_pid" 2>/dev/null || fail "$f: its creator $_pid still runs"
			temps=$((temps + 1))
			continue ;;
		esac
		[ "$(stat -c %s "$f")" = 33570816 ] || fail "$f has size $(stat -c %s "$f")"
	done
	leftover=0
	for p in $(cat "$pids_file"); do
		if kill -0 "$p" 2>/dev/null; then leftover=$((leftover + 1)); fi
	done
	[ "$leftover" = 0 ] || fail "$leftover helper processes still running"
	lr_summary=$(grep '^summary' "$work/LR" || true)
	rr_summary=$(grep '^summary' "$work/RR" || true)
	printf '%-44s %s\n' "kill -9 in cycles (victims killed)" "$K of $((per * workers))"
	printf '%-44s %s\n' "kill -9 of long-lived survivors' peers" "$HK"
	printf '%-44s %s\n' "killed end reopened at once (failures)" "$RF"
	printf '%-44s %s\n' "new pairs bit-exact after a kill" "$PAIRS of $((per * workers))"
	printf '%-44s %s\n' "new parameters after both ends gone" "$NP"
	printf '%-44s %s\n' "hung processes" "$HANGS"
	printf '%-44s %s\n' "bad survivors / pairs" "$BAD"
	printf '%-44s %s\n' "survivor rec fds/maps before -> after" "$fd0_r/$map0_r -> $fd1_r/$map1_r"
	printf '%-44s %s\n' "survivor play fds/maps before -> after" "$fd0_p/$map0_p -> $fd1_p/$map1_p"
	printf '%-44s %s\n' "reopener" "$(echo "$rr_summary" | grep -o 'cycles=.*maps=[0-9>-]*')"
	printf '%-44s %s\n' "long-lived recorder" "$(echo "$lr_summary" | cut -c14-)"
	printf '%-44s %s\n' "segments left (at most $want)" "$segs"
	printf '%-44s %s\n' "temporary files of killed creators (for gc)" "$temps"
	printf '%-44s %s s\n' "wall time" "$(( $(date +%s) - t0 ))"
	SUMMARY_KILLS=$((K + HK))
	loop_cleanup
}

# ---- load -----------------------------------------------------------------------

run_load() {
	C=$load_cables S=$load_secs
	frames=$((S * 48000))
	echo "load: $C cables x $S s, 48 kHz stereo S16, card $LOOP_CARD"
	# CPU of the clients only: utime+stime (clock ticks) read from
	# /proc/PID/stat just before each exits is not possible for aplay, so
	# measure the whole process tree with the shell's "times" before and
	# after and subtract the helpers' own reported CPU.
	for i in $(seq 1 "$C"); do
		(
			s=0
			alsa_client_timeout $((S + 60)) arecord -D "loopcap:SUBDEV=$i,CARD=$LOOP_CARD" -f S16_LE \
				-r 48000 -c 2 -B 500000 -d $((S + 4)) -t raw 2>"$work/ar$i.err" |
				"$RS" verify -s $((i % 128)) -e "$frames" >"$work/v$i" || s=$?
			echo "$s" >"$work/v$i.rc"
		) &
	done
	# Every recorder running before any player starts.
	i=0
	while [ "$(grep -l Recording "$work"/ar*.err 2>/dev/null | wc -l)" -lt "$C" ]; do
		i=$((i + 1))
		[ "$i" -lt 3000 ] || { fail "recorders did not start"; break; }
		sleep 0.01
	done
	sleep 0.5
	times >"$work/times0"
	ppids=
	t0=$(date +%s.%N)
	for i in $(seq 1 "$C"); do
		(
			s=0
			"$RS" gen -s $((i % 128)) -n "$frames" |
				alsa_client_timeout $((S + 60)) aplay -D "loop:SUBDEV=$i,CARD=$LOOP_CARD" -f S16_LE \
				-r 48000 -c 2 -B 500000 -t raw 2>"$work/ap$i.err" || s=$?
			echo "$s" >"$work/ap$i.rc"
		) &
		ppids="$ppids $!"
	done
	for p in $ppids; do wait "$p" || true; done
	t1=$(date +%s.%N)
	wait
	times >"$work/times1"
	exact=0 xruns=0 helper_cpu=0
	for i in $(seq 1 "$C"); do
		if [ "$(cat "$work/v$i.rc")" = 0 ] && [ "$(cat "$work/ap$i.rc")" = 0 ]; then
			exact=$((exact + 1))
		else
			fail "cable $i: aplay $(cat "$work/ap$i.rc"), verify $(cat "$work/v$i.rc"):" \
				"$(cat "$work/v$i")"
		fi
		x=$(cat "$work/ap$i.err" "$work/ar$i.err" | grep -c 'underrun\|overrun' || true)
		xruns=$((xruns + x))
	done
	# times: children's user and system CPU (aplay, arecord, helpers).
	# times: the second line is the children's user and system CPU.
	cpu=$(tail -q -n 1 "$work/times0" "$work/times1" | awk '{ gsub(/[ms]/, " ");
		c = $1 * 60 + $2 + $3 * 60 + $4; if (NR == 1) c0 = c; else printf "%.1f", c - c0 }')
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	printf '%-44s %s\n' "cables (processes)" "$C ($((2 * C)) aplay/arecord)"
	printf '%-44s %s\n' "seconds per cable" "$S"
	printf '%-44s %s\n' "bit-exact cables" "$exact of $C"
	printf '%-44s %s\n' "xruns (underrun/overrun messages)" "$xruns"
	printf '%-44s %s\n' "wall time of the players" "$wall s"
	printf '%-44s %s\n' "total CPU of the run (user+sys, all children)" "$cpu s"
	[ "$xruns" = 0 ] || fail "$xruns xruns under load"
	SUMMARY_LOAD="$exact/$C cables bit-exact, $xruns xruns"
	loop_cleanup
}


SUMMARY_KILLS=- SUMMARY_LOAD=- SUMMARY_HOSTILE=-
[ "$kills" -gt 0 ] && run_kills
[ "$load_cables" -gt 0 ] && run_load
if [ "$hostile" = 1 ]; then
	if sh "$top_srcdir/tests/rel-hostile.sh" >"$work/hostile" 2>&1; then
		SUMMARY_HOSTILE="$(sed -n 's/^bad inputs tried: //p' "$work/hostile") bad inputs, all refused/survived"
	else
		fail "rel-hostile.sh failed"
		cat "$work/hostile" >&2
		SUMMARY_HOSTILE="FAILED"
	fi
fi
echo
echo "== reliability summary ($build) =="
printf '%-20s %s\n' "kills survived" "$SUMMARY_KILLS"
printf '%-20s %s\n' "bad inputs" "$SUMMARY_HOSTILE"
printf '%-20s %s\n' "load held" "$SUMMARY_LOAD"
printf '%-20s %s\n' "failures" "$failures"
[ "$failures" = 0 ]
