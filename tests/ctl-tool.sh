#!/bin/sh
# alsa-loopback (the tool): list (table and JSON) against a running cable,
# watch with fill levels, gc removes only dead segments, --help is the man
# page.
set -eu
. "$top_srcdir/tests/lib/ctl.sh"
PIDS=
K=$LOOP_CARD
TOOL="$top_builddir/alsa-loopback"
OUT=$CTL_TMP/out

# --- --help is the man page -----------------------------------------------
"$TOOL" --help > "$OUT.help" || fail "--help exit status"
sed -n 's/^\.SH //p' "$top_srcdir/tool/alsa-loopback.1" | tr -d '"' | while IFS= read -r h; do
	grep -qx "$h" "$OUT.help" || fail "--help lacks the man page section $h"
done
for opt in --dir --card --json --interval --count --dry-run list watch gc; do
	grep -q -- "$opt" "$OUT.help" || fail "--help does not document $opt"
done
set +e
"$TOOL" frobnicate 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown command: exit $rc, expected 2"

# --- a running cable: aplay -> loop:1 -> arecord on loopcap:1 ---------------
bg_client aplay -q -D "loop:SUBDEV=1,CARD=$K" -f S16_LE -r 48000 -c 2 \
	--buffer-size=9600 --period-size=2400 -t raw /dev/zero 2>/dev/null
APID=$!
bg_client arecord -q -D "loopcap:SUBDEV=1,CARD=$K" -f S16_LE -r 48000 -c 2 \
	--buffer-size=4800 --period-size=1200 -t raw /dev/null 2>/dev/null
RPID=$!
PIDS="$APID $RPID"
# The rows of subdevice 1, cable loop>loopcap: "playback" and "capture".
row() { awk -v end="$1" '$1 == "'"$K"'" && $2 == 1 && $3 == "loop>loopcap" && $10 == end' "$OUT.list"; }
for _i in $(seq 50); do
	"$TOOL" --card "$K" list > "$OUT.list"
	[ "$(row playback | awk '{print $12}')" = RUNNING ] &&
		[ "$(row capture | awk '{print $12}')" = RUNNING ] && break
	sleep 0.1
done
sleep 0.5
"$TOOL" --card "$K" list > "$OUT.list" || fail "list exit status"
cat "$OUT.list"
head -1 "$OUT.list" | grep -q '^CARD *SUB *CABLE *FORMAT *RATE *CH *ACCESS *SHIFT *NOTIFY *END *PID *STATE *PERIOD *BUFFER *FRAMES *XRUNS *FILL$' ||
	fail "table header"
# Columns: CARD SUB CABLE FORMAT RATE CH ACCESS SHIFT NOTIFY END PID STATE PERIOD BUFFER FRAMES XRUNS FILL
set -- $(row playback)
[ "$4 $5 $6 $7 $8 $9" = "S16_LE 48000 2 inter 100000 0" ] || fail "playback row parameters: $*"
[ "${11} ${12} ${13} ${14}" = "$APID RUNNING 2400 9600" ] || fail "playback row end: $* (aplay is $APID)"
[ "${15}" -gt 0 ] && [ "${16}" -eq 0 ] || fail "playback frames/xruns: $*"
[ "${17}" -ge 0 ] && [ "${17}" -le 9600 ] || fail "playback fill ${17} not within the buffer"
set -- $(row capture)
[ "${11} ${12} ${13} ${14}" = "$RPID RUNNING 1200 4800" ] || fail "capture row end: $* (arecord is $RPID)"
[ "${15}" -gt 0 ] && [ "${17}" = - ] || fail "capture frames/fill: $*"
# The other cable of subdevice 1 is free and unattached.
[ "$(awk '$2 == 1 && $3 == "loopcap>loop" && ($4 != "-" || $11 != "-")' "$OUT.list" | wc -l)" -eq 0 ] ||
	fail "the idle cable is shown in use"

# Frames keep moving; a rate shift and notify written by the ctl show up.
f1=$(row playback | awk '{print $15}')
amixer -q -D "loopcap:SUBDEV=1,CARD=$K" cset "iface=PCM,name=PCM Rate Shift 100000" 95000
amixer -q -D "loopcap:SUBDEV=1,CARD=$K" cset "iface=PCM,name=PCM Notify" on
sleep 0.3
"$TOOL" --card "$K" list > "$OUT.list"
set -- $(row playback)
[ "${15}" -gt "$f1" ] || fail "playback frames did not grow ($f1 -> ${15})"
[ "$8 $9" = "95000 1" ] || fail "SHIFT/NOTIFY not 95000 1: $*"

# JSON: the same facts.
"$TOOL" --card "$K" list --json > "$OUT.json" || fail "list --json exit status"
[ "$(tr -cd '{' < "$OUT.json" | wc -c)" -eq "$(tr -cd '}' < "$OUT.json" | wc -c)" ] &&
	[ "$(tr -cd '[' < "$OUT.json" | wc -c)" -eq "$(tr -cd ']' < "$OUT.json" | wc -c)" ] ||
	fail "unbalanced JSON"
grep -q "\"path\": \"$LOOP_SHM/alsa-loopback-$K.1\", \"card\": \"$K\", \"subdevice\": 1, \"cables\": \[" "$OUT.json" ||
	fail "JSON segment header"
C0=$(grep '"cable": 0, "playback": "loop", "capture": "loopcap"' "$OUT.json" | head -1)
for want in '"locked": true' '"format": "S16_LE"' '"rate": 48000' '"channels": 2' \
	'"access": "interleaved"' '"rate_shift": 95000' '"notify": true' '"slave_active": true' \
	"\"playback\": {\"attached\": true, \"pid\": $APID, \"state\": \"RUNNING\", \"period_frames\": 2400, \"buffer_frames\": 9600" \
	"\"capture\": {\"attached\": true, \"pid\": $RPID, \"state\": \"RUNNING\", \"period_frames\": 1200, \"buffer_frames\": 4800" \
	'"fill_frames": [0-9]' '"xruns": 0}'; do
	echo "$C0" | grep -q "$want" || fail "JSON cable 0 lacks $want: $C0"
done
grep '"cable": 1, ' "$OUT.json" | grep -q '"locked": false, "format": null' || fail "JSON idle cable"

# watch: three tables, the playback fill with its percentage.
"$TOOL" --card "$K" watch --interval 0.2 --count 3 > "$OUT.watch" || fail "watch exit status"
[ "$(grep -c '^alsa-loopback watch:' "$OUT.watch")" -eq 3 ] || fail "watch did not print 3 tables"
[ "$(awk '$2 == 1 && $3 == "loop>loopcap" && $10 == "playback" && $17 ~ /^[0-9]+\([0-9]+%\)$/' "$OUT.watch" | wc -l)" -eq 3 ] ||
	fail "watch: no fill level with percentage"

# An overrun: stop arecord for longer than its 100 ms buffer.
kill -STOP "$RPID"
sleep 0.5
kill -CONT "$RPID"
sleep 0.5
"$TOOL" --card "$K" list > "$OUT.list"
set -- $(row capture)
[ "${16}" -ge 1 ] || fail "capture xruns ${16} after a 0.5 s stop"

# --- gc --------------------------------------------------------------------
# A crash leaves subdevice 1 behind (a clean close would have removed it),
# its controls back at their defaults.
amixer -q -D "loopcap:SUBDEV=1,CARD=$K" cset "iface=PCM,name=PCM Rate Shift 100000" 100000
amixer -q -D "loopcap:SUBDEV=1,CARD=$K" cset "iface=PCM,name=PCM Notify" off
kill -9 $PIDS; wait $PIDS 2>/dev/null || true; PIDS=
[ -f "$LOOP_SHM/alsa-loopback-$K.1" ] || fail "killed ends left no segment"
# list shows cables in use; what a crash left only with --all.
"$TOOL" --card "$K" list > "$OUT.list"
[ "$(awk '$2 == 1' "$OUT.list" | wc -l)" -eq 0 ] || fail "list shows the dead subdevice 1"
"$TOOL" --card "$K" list --all > "$OUT.list"
[ "$(awk '$2 == 1' "$OUT.list" | wc -l)" -eq 4 ] || fail "list --all does not show the dead subdevice 1"
# Subdevice 2 stays in use, subdevice 3 is a foreign file, 4 is empty (never
# one of ours: a segment is published whole).
bg_client arecord -q -D "loopcap:SUBDEV=2,CARD=$K" -f S16_LE -r 48000 -c 2 -t raw /dev/null 2>/dev/null
PIDS=$!
head -c 4096 /dev/zero > "$LOOP_SHM/alsa-loopback-$K.3"
: > "$LOOP_SHM/alsa-loopback-$K.4"
for _i in $(seq 50); do
	[ -f "$LOOP_SHM/alsa-loopback-$K.2" ] && "$TOOL" --card "$K" list 2>/dev/null |
		awk '$2 == 2 && $10 == "capture" && $12 == "RUNNING"' | grep -q . && break
	sleep 0.1
done
"$TOOL" --card "$K" gc --dry-run > "$OUT.gc" 2>/dev/null
[ "$(cat "$OUT.gc")" = "would remove $LOOP_SHM/alsa-loopback-$K.1" ] || fail "gc --dry-run said: $(cat "$OUT.gc")"
[ -f "$LOOP_SHM/alsa-loopback-$K.1" ] || fail "gc --dry-run removed a segment"
"$TOOL" --card "$K" gc > "$OUT.gc" 2>/dev/null || fail "gc exit status"
[ "$(cat "$OUT.gc")" = "removed $LOOP_SHM/alsa-loopback-$K.1" ] || fail "gc said: $(cat "$OUT.gc")"
[ ! -e "$LOOP_SHM/alsa-loopback-$K.1" ] || fail "gc did not remove the dead segment"
[ -f "$LOOP_SHM/alsa-loopback-$K.2" ] || fail "gc removed a segment in use"
[ -f "$LOOP_SHM/alsa-loopback-$K.3" ] || fail "gc removed a foreign file"
[ -f "$LOOP_SHM/alsa-loopback-$K.4" ] || fail "gc removed an empty file"
# The kernel drops a killed end's lock at once: then it is dead.
kill -9 $PIDS; wait $PIDS 2>/dev/null || true; PIDS=
"$TOOL" --card "$K" gc > "$OUT.gc" 2>"$OUT.gc.err"
[ "$(cat "$OUT.gc")" = "removed $LOOP_SHM/alsa-loopback-$K.2" ] ||
	fail "gc after kill -9 said: $(cat "$OUT.gc")"
[ -f "$LOOP_SHM/alsa-loopback-$K.3" ] || fail "gc removed a foreign file"
[ -f "$LOOP_SHM/alsa-loopback-$K.4" ] || fail "gc removed an empty file"
grep -q "kept $LOOP_SHM/alsa-loopback-$K.4" "$OUT.gc.err" ||
	fail "gc did not say why it kept the empty file: $(cat "$OUT.gc.err")"
# A creation killed between create and publish leaves its temporary name:
# gc removes it once its creator is dead and it sat untouched 10 s, never
# a live creator's.
dead=$(sh -c 'echo $$')
: > "$LOOP_SHM/alsa-loopback-$K.5.new-$dead-1"
: > "$LOOP_SHM/alsa-loopback-$K.6.new-$$-1"
: > "$LOOP_SHM/alsa-loopback-$K.7.new-$dead-2"
touch -d '1 minute ago' "$LOOP_SHM/alsa-loopback-$K.5.new-$dead-1" \
	"$LOOP_SHM/alsa-loopback-$K.6.new-$$-1"
"$TOOL" --card "$K" gc > "$OUT.gc" 2>"$OUT.gc.err"
[ "$(cat "$OUT.gc")" = "removed $LOOP_SHM/alsa-loopback-$K.5.new-$dead-1" ] ||
	fail "gc of a dead creation's temporary file said: $(cat "$OUT.gc") $(cat "$OUT.gc.err")"
[ -f "$LOOP_SHM/alsa-loopback-$K.6.new-$$-1" ] || fail "gc removed a live creator's temporary file"
[ -f "$LOOP_SHM/alsa-loopback-$K.7.new-$dead-2" ] || fail "gc removed a fresh temporary file"
rm -f "$LOOP_SHM/alsa-loopback-$K.6.new-$$-1" "$LOOP_SHM/alsa-loopback-$K.7.new-$dead-2"
echo "PASS: alsa-loopback list/json/watch/gc/--help"
