#!/bin/sh
# amixer against the ctl plugin: every control of snd-aloop with its name,
# type, range, device/subdevice and numid order; reads do not create
# segments; cset/cget reach the right cable; values follow a running
# playback; "amixer events" sees Slave Active change.
set -eu
. "$top_srcdir/tests/lib/ctl.sh"
PIDS=
K=$LOOP_CARD
OUT=$CTL_TMP/out

have amixer || { echo "SKIP: amixer not installed"; exit 77; }

# Render "amixer contents" as: numid device subdevice name|type-line
contents() {
	amixer -D "$1" contents | awk '
		/^numid=/ {
			n = $0; sub(/^numid=/, "", n); sub(/,.*/, "", n)
			name = $0; sub(/.*name=\x27/, "", name); sub(/\x27.*/, "", name)
			dev = 0; sub_ = 0
			if (match($0, /,device=[0-9]+/)) dev = substr($0, RSTART + 8, RLENGTH - 8)
			if (match($0, /,subdevice=[0-9]+/)) sub_ = substr($0, RSTART + 11, RLENGTH - 11)
			next
		}
		/^  ; type=/ { t = $0; sub(/^  ; /, "", t); print n, dev, sub_, name "|" t }'
}

type_of() {
	case "$1" in
	"PCM Rate Shift 100000") echo "type=INTEGER,access=rw------,values=1,min=80000,max=120000,step=1" ;;
	"PCM Notify") echo "type=BOOLEAN,access=rw------,values=1" ;;
	"PCM Slave Active") echo "type=BOOLEAN,access=r-------,values=1" ;;
	"PCM Slave Format") echo "type=INTEGER,access=r-------,values=1,min=0,max=$FMT_MAX,step=1" ;;
	"PCM Slave Rate") echo "type=INTEGER,access=r-------,values=1,min=0,max=192000,step=1" ;;
	"PCM Slave Channels") echo "type=INTEGER,access=r-------,values=1,min=1,max=1024,step=1" ;;
	"PCM Slave Access Mode") echo "type=ENUMERATED,access=r-------,values=1,items=2" ;;
	esac
}
NAMES="PCM Rate Shift 100000
PCM Notify
PCM Slave Active
PCM Slave Format
PCM Slave Rate
PCM Slave Channels
PCM Slave Access Mode"

# --- the card view: 7 controls x 2 devices x subdevices 0..7 -------------
contents "loopctl:CARD=$K" | sort -n > "$OUT.card"
[ "$(wc -l < "$OUT.card")" -eq 112 ] || fail "loopctl: $(wc -l < "$OUT.card") controls, expected 112"
# SND_PCM_FORMAT_LAST as this alsa-lib defines it: whatever the first reports.
FMT_MAX=$(grep 'PCM Slave Format|' "$OUT.card" | head -1 | sed 's/.*max=\([0-9]*\).*/\1/')
[ "$FMT_MAX" -ge 52 ] || fail "Slave Format max $FMT_MAX, expected SND_PCM_FORMAT_LAST (>= 52)"
: > "$OUT.want"
numid=1
for dev in 0 1; do
	for sub in 0 1 2 3 4 5 6 7; do
		echo "$NAMES" | while IFS= read -r name; do
			echo "$numid $dev $sub $name|$(type_of "$name")"
			numid=$((numid + 1))
		done >> "$OUT.want"
		numid=$((numid + 7))
	done
done
diff "$OUT.want" "$OUT.card" || fail "loopctl contents differ from snd-aloop's controls (diff above)"
amixer -D "loopctl:CARD=$K" contents | grep -q "; Item #1 'Non-interleaved'" ||
	fail "Slave Access Mode items"
# A range: SUBDEVS=10-12 is 42 controls on subdevices 10..12.
contents "loopctl:CARD=$K,SUBDEVS=10-12" > "$OUT.range"
[ "$(wc -l < "$OUT.range")" -eq 42 ] || fail "SUBDEVS=10-12: $(wc -l < "$OUT.range") controls"
[ "$(awk '{print $3}' "$OUT.range" | sort -u | tr '\n' ' ')" = "10 11 12 " ] ||
	fail "SUBDEVS=10-12: wrong subdevices"

# --- the one-cable views: 7 controls at device 0 subdevice 0 ------------
for view in loop loopcap plugloop plugloopcap; do
	contents "$view:SUBDEV=2,CARD=$K" > "$OUT.one"
	[ "$(wc -l < "$OUT.one")" -eq 7 ] || fail "$view:2: $(wc -l < "$OUT.one") controls"
	[ "$(awk '$2 != 0 || $3 != 0' "$OUT.one" | wc -l)" -eq 0 ] ||
		fail "$view:2: controls not at device 0 subdevice 0"
done

# Reading created nothing.
ls $LOOP_SHM/alsa-loopback-"$K".* >/dev/null 2>&1 && fail "reading the controls created segments"

# --- cset reaches the cable recorded on (device, subdevice) --------------
amixer -q -D "loopctl:CARD=$K" cset "iface=PCM,name=PCM Rate Shift 100000,device=1,subdevice=2" 90000 ||
	fail "cset rate shift"
[ "$(cget_value "loopcap:SUBDEV=2,CARD=$K" "PCM Rate Shift 100000")" = 90000 ] ||
	fail "loopcap:2 does not read the 90000 written at device 1 subdevice 2"
[ "$(cget_value "loop:SUBDEV=2,CARD=$K" "PCM Rate Shift 100000")" = 100000 ] ||
	fail "the other cable of subdevice 2 changed"
[ -f "$LOOP_SHM/alsa-loopback-$K.2" ] || fail "a write did not create the segment"
[ "$(stat -c %a "$LOOP_SHM/alsa-loopback-$K.2")" = 600 ] || fail "segment mode not 0600"
amixer -q -D "loop:SUBDEV=2,CARD=$K" cset "iface=PCM,name=PCM Notify" on || fail "cset notify"
[ "$(cget_value "loopctl:CARD=$K" "PCM Notify,device=0,subdevice=2")" = on ] ||
	fail "notify written on loop:2 not seen at device 0 subdevice 2"
[ "$(cget_value "loopctl:CARD=$K" "PCM Notify,device=1,subdevice=2")" = off ] ||
	fail "notify leaked to device 1"
if amixer -q -D "loopcap:SUBDEV=2,CARD=$K" cset "iface=PCM,name=PCM Slave Rate" 44100 2>/dev/null; then
	fail "a read-only control accepted a write"
fi

# --- values follow a running playback ------------------------------------
bg_client aplay -q -D "loop:SUBDEV=4,CARD=$K" -f S24_3LE -r 32000 -c 3 -t raw /dev/zero
APID=$!
PIDS="$PIDS $APID"
wait_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Active" on || fail "Slave Active not on while aplay runs"
[ "$(cget_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Format")" = 32 ] || fail "Slave Format not S24_3LE (32)"
[ "$(cget_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Rate")" = 32000 ] || fail "Slave Rate not 32000"
[ "$(cget_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Channels")" = 3 ] || fail "Slave Channels not 3"
[ "$(cget_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Access Mode")" = 0 ] || fail "Slave Access not Interleaved"
[ "$(cget_value "loop:SUBDEV=4,CARD=$K" "PCM Slave Active")" = off ] || fail "the other cable is active"
# A capture keeps the cable (and what its last playback set) while it is open.
bg_client arecord -q -D "loopcap:SUBDEV=4,CARD=$K" -f S24_3LE -r 32000 -c 3 -t raw "$CTL_TMP/hold.raw"
HOLD=$!
PIDS="$PIDS $HOLD"
# Attached once it records (a slow start, as under the sanitizer, must not
# let aplay leave first: the last one out removes the segment).
for _i in $(seq 100); do [ -s "$CTL_TMP/hold.raw" ] && break; sleep 0.1; done
[ -s "$CTL_TMP/hold.raw" ] || fail "arecord on loopcap:4 did not start"
wait_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Active" on || fail "Slave Active off with a capture"
kill $APID; wait $APID 2>/dev/null || true; PIDS=$HOLD
wait_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Active" off || fail "Slave Active still on after aplay"
[ "$(cget_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Rate")" = 32000 ] || fail "Slave Rate forgot the last playback"
# Nobody left and no control set: the segment is gone, the defaults read again.
kill $PIDS; wait $PIDS 2>/dev/null || true; PIDS=
[ ! -e "$LOOP_SHM/alsa-loopback-$K.4" ] || fail "an idle segment outlived its last opener"
[ "$(cget_value "loopcap:SUBDEV=4,CARD=$K" "PCM Slave Rate")" = 48000 ] || fail "Slave Rate of a removed cable is not the default"

# --- amixer events --------------------------------------------------------
bg_client stdbuf -oL amixer -D "loopcap:SUBDEV=5,CARD=$K" events > "$OUT.ev" 2>&1
PIDS="$!"
sleep 0.5
bg_client aplay -q -D "loop:SUBDEV=5,CARD=$K" -f S16_LE -r 48000 -c 2 -t raw /dev/zero
APID=$!
wait_value "loopcap:SUBDEV=5,CARD=$K" "PCM Slave Active" on || fail "aplay did not start"
sleep 0.3
kill "$APID"; wait "$APID" 2>/dev/null || true
wait_value "loopcap:SUBDEV=5,CARD=$K" "PCM Slave Active" off || fail "aplay did not stop"
sleep 0.3
kill $PIDS; wait $PIDS 2>/dev/null || true; PIDS=
n=$(grep -c "event value: numid=3,iface=PCM,name='PCM Slave Active'" "$OUT.ev" || true)
[ "$n" -ge 2 ] || { cat "$OUT.ev"; fail "amixer events saw $n Slave Active events, expected >= 2 (on, off)"; }
grep -q "event value: .*name='PCM Slave Rate'" "$OUT.ev" && fail "event for an unchanged Slave Rate (48000)"
echo "PASS: ctl contents, cset/cget, slave values, events"
