#!/bin/sh
# alsaloop (alsa-utils) in slave/captshift mode on our controls: bridging
# cable A (aplay -> loop:A, alsaloop records loopcap:A) to cable B
# (alsaloop plays loop:B).  Cable B's clock is made 0.1% fast with its own
# rate shift, so alsaloop's playback drains faster than its capture fills;
# after its first evaluation (15 s of audio) alsaloop must lower the pitch
# it writes to cable A's "PCM Rate Shift 100000", which we read back while
# it runs.  alsaloop finds the controls through -Y loopcap:A (alsa-utils
# 1.2.8: -Y/--cctl is the capture ctl, -X/--pctl the playback ctl), at the
# device/subdevice snd_pcm_info() reports for loopcap:A.
set -eu
. "$top_srcdir/tests/lib/ctl.sh"
PIDS=
K=$LOOP_CARD
A=1
B=2
OUT=$CTL_TMP/out
have alsaloop || { echo "SKIP: alsaloop (alsa-utils) not installed"; exit 77; }
SHIFT="PCM Rate Shift 100000"

amixer -q -D "loopcap:SUBDEV=$B,CARD=$K" cset "iface=PCM,name=$SHIFT" 99900 || fail "cset cable B"
bg_client aplay -q -D "loop:SUBDEV=$A,CARD=$K" -f S16_LE -r 48000 -c 2 -t raw /dev/zero 2>/dev/null
PIDS=$!
wait_value "loopcap:SUBDEV=$A,CARD=$K" "PCM Slave Active" on || fail "aplay into loop:$A did not start"

bg_client stdbuf -oL alsaloop -C "loopcap:SUBDEV=$A,CARD=$K" -P "loop:SUBDEV=$B,CARD=$K" \
	-Y "loopcap:SUBDEV=$A,CARD=$K" -S captshift -t 200000 -v > "$OUT.log" 2>&1
LPID=$!
PIDS="$PIDS $LPID"
: > "$OUT.shift"
# alsaloop first re-evaluates its pitch after 15 s of audio.  (Its -s
# duration is not used: stopped by SIGTERM, alsaloop closes cleanly.)
end=$(($(date +%s) + 20))
while [ "$(date +%s)" -lt "$end" ] && kill -0 "$LPID" 2>/dev/null; do
	cget_value "loopcap:SUBDEV=$A,CARD=$K" "$SHIFT" >> "$OUT.shift" || true
	sleep 0.5
done
kill -TERM "$LPID" 2>/dev/null || true
for _i in $(seq 50); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LPID" 2>/dev/null && { kill -9 "$LPID"; fail "alsaloop ignored SIGTERM"; }
set +e
wait "$LPID"; rc=$?
set -e
cat "$OUT.log" | grep -v "^  " | head -30
echo "rate shift read while alsaloop ran: $(sort -n "$OUT.shift" | uniq -c | tr -s ' \n' ' ')"
[ "$rc" -eq 0 ] || fail "alsaloop exit status $rc"
grep -q "Opened PCM element PCM Rate Shift 100000 of loopcap:SUBDEV=$A,CARD=$K, device 0, subdevice 0" "$OUT.log" ||
	fail "alsaloop did not find our rate shift control"
grep -q "sync type: CAPTRATESHIFT" "$OUT.log" || fail "alsaloop not in captshift mode"
[ "$(grep -c '^New pitch' "$OUT.log")" -ge 2 ] || fail "alsaloop never re-evaluated the pitch"
# Slave mode turned notify on, as on snd-aloop.
[ "$(cget_value "loopcap:SUBDEV=$A,CARD=$K" "PCM Notify")" = on ] || fail "alsaloop did not enable notify"
# The shift moved below 100000 (cable B is fast), and back to 100000 on exit.
low=$(sort -n "$OUT.shift" | head -1)
[ -n "$low" ] && [ "$low" -lt 100000 ] && [ "$low" -ge 80000 ] ||
	fail "the rate shift never went below 100000 (lowest read: '$low')"
[ "$(cget_value "loopcap:SUBDEV=$A,CARD=$K" "$SHIFT")" = 100000 ] ||
	fail "rate shift not reset to 100000 after alsaloop exited"
echo "PASS: alsaloop captshift moved cable $A's rate shift to $low"
