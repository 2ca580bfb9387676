#!/bin/sh
# JACK2 on the cables: jackd (a server name of our own) with its ALSA
# backend playing into loop:A and capturing from loopcap:B, 2 channels in
# and out, 256-frame periods, its capture ports connected to its playback
# ports.  A 440 Hz tone played by aplay into plugloop:B goes through JACK
# and arrives at arecord on plugloopcap:A with the right frequency and
# length, no dropout, no click.  JACK locks both cables to its own format
# (FLOAT_LE), hence the plug names for aplay and arecord.  The xruns jackd
# reported are printed; an attempt spoilt by one (a 10.7 ms buffer on a
# loaded machine) is retried, twice at most.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/server.sh"
[ -z "$SANITIZER_PRELOAD" ] ||
	skip "jackd 1.9.21 does not start with the sanitizer runtime preloaded ($SANITIZER_PRELOAD): no output within 30 s in CI; the plain build runs this test"

for p in jackd jack_connect jack_lsp; do
	command -v $p >/dev/null 2>&1 || skip "$p is not installed (Debian package jackd2)"
done

A=65 B=66
export JACK_DEFAULT_SERVER="alsa-loopback-test-$$" JACK_NO_START_SERVER=1 \
	JACK_NO_AUDIO_RESERVATION=1 HOME="$CLI_TMP"
unset DBUS_SESSION_BUS_ADDRESS
# jackd's files in /dev/shm: those with our server name, and the shared
# registry and metadata directory if no JACK had made them before us.
cli_jack_shm_at_exit
# shellcheck disable=SC2016	# evaluated at exit
srv_at_exit 'rm -f /dev/shm/jack_"$JACK_DEFAULT_SERVER"_* \
	/dev/shm/jack_sem.*_"$JACK_DEFAULT_SERVER"_*'

# -v: jackd logs its xruns ("xrun of at least ...") only when verbose.
srv_bg "$CLI_TMP/jackd.log" jackd -v -d alsa -P "loop:$A,$LOOP_CARD" -C "loopcap:$B,$LOOP_CARD" \
	-r 48000 -p 256 -n 2 -i 2 -o 2
jpid=$SRV_BG
srv_wait "jackd did not start on loop:$A and loopcap:$B" 30 $jpid "$CLI_TMP/jackd.log" \
	sh -c 'jack_lsp | grep -q system:playback_2'
for c in 1 2; do
	cli_client jack_connect system:capture_$c system:playback_$c >"$CLI_TMP/conn.out" 2>&1 ||
		srv_fail "jack_connect system:capture_$c system:playback_$c" \
			"$CLI_TMP/conn.out" "$CLI_TMP/jackd.log"
done
grep -E "final selected sample format|periods for" "$CLI_TMP/jackd.log" |
	sed 's/^/jackd: /' | sort -u || true

tone_wav "$CLI_TMP/tone.wav" 440 1
xruns() { grep -c "xrun of" "$CLI_TMP/jackd.log" || true; }
try=1
while :; do
	x0=$(xruns)
	rm -f "$CLI_TMP/rec.raw"
	cli_bg arecord -q -D "$(cli_dev plugloopcap $A)" -t raw -f S16_LE -r 48000 -c 2 \
		-s $((48000 * 4)) "$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
	rpid=$CLI_BG
	rec_wait "$CLI_TMP/rec.raw" $rpid "$CLI_TMP/rec.err" "arecord on plugloopcap:$A"
	cli_client aplay -q -D "$(cli_dev plugloop $B)" "$CLI_TMP/tone.wav" 2>"$CLI_TMP/play.err" ||
		{ cat "$CLI_TMP/play.err" >&2; fail "aplay into plugloop:$B failed"; }
	cli_wait $rpid
	[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/rec.err" >&2; fail "arecord exited with $CLI_RC"; }
	n=$(($(xruns) - x0))
	echo "attempt $try: jackd reported $n xrun(s)"
	if tone_check "aplay plugloop:$B -> jackd (loopcap:$B -> loop:$A) -> arecord plugloopcap:$A" \
		"$CLI_TMP/rec.raw" 440 1; then
		break
	fi
	if [ "$n" -eq 0 ] || [ $try -ge 3 ]; then
		grep -v "^Jack: Jack" "$CLI_TMP/jackd.log" | tail -n 20 >&2
		fail "aplay -> jackd -> arecord: the tone is not intact ($n xruns in that attempt)"
	fi
	try=$((try + 1))
done
echo "jackd: $(xruns) xrun(s) in all"
echo "PASS"
