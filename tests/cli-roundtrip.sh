#!/bin/sh
# Round trips with real clients: what aplay plays into one end of a cable,
# arecord (started first) records from the other end, bit-exact.  Both
# cables of a subdevice, mmap and non-blocking clients, tiny and huge
# periods, every device-name form, and sox as a client.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

F=S16_LE R=48000 C=2

# Cable 0 -> 1: play into loop:N, record loopcap:N.
cli_roundtrip "loop->loopcap" "$(cli_dev loopcap 3)" "$(cli_dev loop 3)" $F $R $C 0.3
# Cable 1 -> 0: play into loopcap:N, record loop:N (on the highest N).
cli_roundtrip "loopcap->loop (reverse cable), subdevice 4095" "$(cli_dev loop 4095)" \
	"$(cli_dev loopcap 4095)" $F $R $C 0.3
# Access modes and blocking modes of the clients.
cli_roundtrip "aplay -M (mmap)" "$(cli_dev loopcap 5)" "$(cli_dev loop 5)" $F $R $C 0.3 "" "-M"
cli_roundtrip "aplay -N (non-blocking)" "$(cli_dev loopcap 5)" "$(cli_dev loop 5)" \
	$F $R $C 0.3 "" "-N"
cli_roundtrip "arecord -M (mmap)" "$(cli_dev loopcap 5)" "$(cli_dev loop 5)" $F $R $C 0.3 "-M"
cli_roundtrip "arecord -M -N, aplay -M -N" "$(cli_dev loopcap 5)" "$(cli_dev loop 5)" \
	$F $R $C 0.3 "-M -N" "-M -N"
# Tiny periods (64 frames = 1.3 ms; the buffer stays aplay's default).
cli_roundtrip "period 64 frames" "$(cli_dev loopcap 6)" "$(cli_dev loop 6)" $F $R $C 0.3 \
	"--period-size=64" "--period-size=64"
# Huge periods: 16384 frames (341 ms), two per buffer.
cli_roundtrip "period 16384 frames" "$(cli_dev loopcap 6)" "$(cli_dev loop 6)" $F $R $C 0.3 \
	"--period-size=16384 --buffer-size=32768" "--period-size=16384 --buffer-size=32768" 1

# Name forms that rely on the default card: point it at our private one.
cat >"$CLI_TMP/defaults.conf" <<EOF
defaults.loopback.card "$LOOP_CARD"
EOF
ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$CLI_TMP/defaults.conf"
export ALSA_CONFIG_PATH
# "loop" without arguments is subdevice 0: bit-exact against the named end.
cli_roundtrip "'loop' = subdevice 0" "$(cli_dev loopcap 0)" loop $F $R $C 0.3
cli_roundtrip "'loopcap' = subdevice 0" loopcap "$(cli_dev loop 0)" $F $R $C 0.3
cli_roundtrip "loop:SUBDEV=9 / loopcap:9" loopcap:9 loop:SUBDEV=9 $F $R $C 0.3
cli_roundtrip "loop:9,CARD=... (positional)" "loopcap:CARD=$LOOP_CARD,SUBDEV=9" \
	"loop:9,$LOOP_CARD" $F $R $C 0.3
cli_roundtrip "plugloop/plugloopcap, same parameters" "plugloopcap:10,$LOOP_CARD" \
	"plugloop:SUBDEV=10" $F $R $C 0.3

# sox as a client (its alsa driver), both directions.
if sox -h 2>/dev/null | grep -q 'DRIVERS:.* alsa'; then
	cli_gen "$CLI_TMP/sox.raw" $F $R $C 0.3
	rm -f "$CLI_TMP/soxrec.raw"
	cli_bg arecord -q -D "$(cli_dev loopcap 11)" -t raw -f $F -r $R -c $C -s $((R * 3 / 2)) \
		"$CLI_TMP/soxrec.raw" 2>"$CLI_TMP/rec.err"
	pid=$CLI_BG
	cli_wait_growth "$CLI_TMP/soxrec.raw" "$pid" || fail "arecord did not start"
	cli_client sox -q -V1 -t raw -r $R -c $C -e signed -b 16 -L "$CLI_TMP/sox.raw" \
		-t alsa "$(cli_dev loop 11)" || fail "sox could not play into loop"
	cli_wait "$pid"
	[ "$CLI_RC" -eq 0 ] || fail "arecord exited with $CLI_RC"
	"$AUDIOCHECK" compare "$CLI_TMP/sox.raw" "$CLI_TMP/soxrec.raw" 4 0000 ||
		fail "sox -> loop -> arecord is not bit-exact"
	pass "sox plays into loop:N, bit-exact"

	rm -f "$CLI_TMP/soxrec.raw"
	cli_bg sox -q -V1 -t alsa -r $R -c $C -e signed -b 16 "$(cli_dev loopcap 12)" \
		-t raw -L "$CLI_TMP/soxrec.raw" trim 0 1.5
	pid=$CLI_BG
	# sox writes through stdio: wait for its first buffer, then some more.
	cli_wait_growth "$CLI_TMP/soxrec.raw" "$pid" || fail "sox did not start recording"
	cli_client aplay -q -D "$(cli_dev loop 12)" -t raw -f $F -r $R -c $C "$CLI_TMP/sox.raw" ||
		fail "aplay into loop failed"
	cli_wait "$pid"
	[ "$CLI_RC" -eq 0 ] || fail "sox recording from loopcap exited with $CLI_RC"
	"$AUDIOCHECK" compare "$CLI_TMP/sox.raw" "$CLI_TMP/soxrec.raw" 4 0000 ||
		fail "aplay -> loop -> sox is not bit-exact"
	pass "sox records from loopcap:N, bit-exact"
else
	echo "note: sox has no alsa driver (libsox-fmt-alsa): sox client checks not run"
fi
echo "PASS"
