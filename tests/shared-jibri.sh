#!/bin/sh
# examples/jibri.asoundrc end to end: Jitsi Jibri's asoundrc with its
# dmix/dsnoop stanzas on shared ends, its card keys "Loopback" and
# "Loopback_1" replaced by private ones (a temporary copy).
# 1. What is played into "default" (Chromium: plug -> aduplex -> amix) is
#    heard by two recorders of plug:bsnoop at once (ffmpeg and pjsua in
#    Jibri; here arecord and sox, or two arecords): a 1 kHz tone, played at
#    48000 Hz and converted to the cable's 44100 Hz, with its frequency
#    and length (audiocheck tone), no dropout.
# 2. What pjsua plays (plug -> bduplex -> bmix), mono, is heard on the
#    capture of "default" (plug -> aduplex -> asnoop, Chromium's mic).
# 3. Two clients playing into "default" at once (dmix's job): both tones
#    are heard in bsnoop, mixed (louder than either alone).
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/shared.sh"

EX="$top_srcdir/examples/jibri.asoundrc"
[ -f "$EX" ] || fail "$EX is missing"

CARD_B="${LOOP_CARD}_1"
cli_card "$CARD_B"
sed -e "s/card \"Loopback\"/card \"$LOOP_CARD\"/" -e "s/card \"Loopback_1\"/card \"$CARD_B\"/" \
	"$EX" >"$CLI_TMP/jibri.asoundrc"
# Every stanza that names a card now names ours.
if grep -q 'card *"Loopback' "$CLI_TMP/jibri.asoundrc"; then
	fail "the example names a card the test cannot make private"
fi
ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$CLI_TMP/jibri.asoundrc"
export ALSA_CONFIG_PATH

SOX_ALSA=0
sox -h 2>/dev/null | grep -q 'DRIVERS:.* alsa' && SOX_ALSA=1

# tone FILE RATE CHANNELS FREQ SECS: S16_LE raw sine at half scale.
tone() {
	sox -V1 -n -r "$2" -c "$3" -e signed -b 16 -L -t raw "$1" synth "$5" sine "$4" vol 0.5 ||
		fail "sox could not generate a tone"
}

# rec_start N PCM SECS: recorder N (arecord; N=2 sox if it has alsa)
# records PCM at 44100 Hz stereo S16_LE into $CLI_TMP/recN.raw.
rec_start() {
	rm -f "$CLI_TMP/rec$1.raw"
	if [ "$1" = 2 ] && [ $SOX_ALSA -eq 1 ]; then
		cli_bg sox -q -V1 -t alsa -r 44100 -c 2 -e signed -b 16 "$2" \
			-t raw -L "$CLI_TMP/rec$1.raw" trim 0 "$3" 2>"$CLI_TMP/rec$1.err"
	else
		cli_bg arecord -q -D "$2" -t raw -f S16_LE -r 44100 -c 2 \
			-s "$(echo "$3" | awk '{ printf "%d", $1 * 44100 }')" \
			"$CLI_TMP/rec$1.raw" 2>"$CLI_TMP/rec$1.err"
	fi
	eval "rp$1=\$CLI_BG"
	cli_wait_growth "$CLI_TMP/rec$1.raw" "$CLI_BG" || {
		cat "$CLI_TMP/rec$1.err" >&2
		fail "recorder $1 on $2 did not start recording"
	}
}

# rec_check N WHAT FREQ SECS: recorder N ended well and heard the tone.
rec_check() {
	eval "p=\$rp$1"
	cli_wait "$p"
	[ "$CLI_RC" -eq 0 ] || {
		cat "$CLI_TMP/rec$1.err" >&2
		bad "$2: recorder $1 exited with $CLI_RC"
		return 0
	}
	if "$AUDIOCHECK" tone "$CLI_TMP/rec$1.raw" 44100 2 "$3" "$4" >"$CLI_TMP/tone.out" 2>&1 &&
		grep -q ' gaps=0 ' "$CLI_TMP/tone.out"; then
		pass "$2: recorder $1: $(cat "$CLI_TMP/tone.out")"
	else
		cli_keep "$CLI_TMP/rec$1.raw"
		bad "$2: recorder $1 did not hear a clean $3 Hz tone of $4 s: $(cat "$CLI_TMP/tone.out")"
	fi
}

# 1. default -> amix ... bsnoop, two recorders of plug:bsnoop.
tone "$CLI_TMP/t1.raw" 48000 2 1000 1.0
rec_start 1 plug:bsnoop 2.5
rec_start 2 plug:bsnoop 2.5
cli_client aplay -q -D default -t raw -f S16_LE -r 48000 -c 2 "$CLI_TMP/t1.raw" \
	2>"$CLI_TMP/play.err" || { cat "$CLI_TMP/play.err" >&2; fail "aplay -D default failed"; }
rec_check 1 "default -> plug:bsnoop" 1000 1.0
rec_check 2 "default -> plug:bsnoop" 1000 1.0

# 2. pjsua (mono, 16 kHz as a SIP client might) -> bmix ... asnoop -> default's capture.
tone "$CLI_TMP/t2.raw" 16000 1 500 1.0
rec_start 1 default 2.5
cli_client aplay -q -D pjsua -t raw -f S16_LE -r 16000 -c 1 "$CLI_TMP/t2.raw" \
	2>"$CLI_TMP/play.err" || { cat "$CLI_TMP/play.err" >&2; fail "aplay -D pjsua failed"; }
rec_check 1 "pjsua -> capture of default (asnoop)" 500 1.0

# 3. Two clients into default at once: 0.6 s of 1000 Hz, and 0.3 s later
# 0.6 s of 1500 Hz from a second client.  The recording must hold sound
# from the first onset to the last end (0.9 s), and peaks near 1.0 where
# both are mixed (either alone peaks at 0.5; the two frequencies sweep
# through every phase relation within 2 ms).
tone "$CLI_TMP/t3a.raw" 48000 2 1000 0.6
tone "$CLI_TMP/t3b.raw" 48000 2 1500 0.6
rec_start 1 plug:bsnoop 2.5
cli_bg aplay -q -D default -t raw -f S16_LE -r 48000 -c 2 "$CLI_TMP/t3a.raw" 2>"$CLI_TMP/p1.err"
p1=$CLI_BG
sleep 0.3
cli_client aplay -q -D default -t raw -f S16_LE -r 48000 -c 2 "$CLI_TMP/t3b.raw" \
	2>"$CLI_TMP/p2.err" || {
	cat "$CLI_TMP/p2.err" >&2
	bad "a second client could not play into default while another does"
}
cli_wait "$p1"
[ "$CLI_RC" -eq 0 ] || { cat "$CLI_TMP/p1.err" >&2; bad "the first client playing into default exited with $CLI_RC"; }
eval "p=\$rp1"
cli_wait "$p"
"$AUDIOCHECK" tone "$CLI_TMP/rec1.raw" 44100 2 >"$CLI_TMP/tone.out" 2>&1 || true
len=$(sed -n 's/.*length_s=\([0-9.]*\).*/\1/p' "$CLI_TMP/tone.out")
peak=$(sed -n 's/.* peak=\([0-9.]*\).*/\1/p' "$CLI_TMP/tone.out")
if [ -n "$len" ] && [ -n "$peak" ] &&
	awk -v l="$len" -v p="$peak" 'BEGIN { exit !(l >= 0.8 && l <= 1.3 && p >= 0.8) }'; then
	pass "two clients into default, mixed in bsnoop: $(cat "$CLI_TMP/tone.out")"
else
	cli_keep "$CLI_TMP/rec1.raw"
	bad "two clients into default: expected sound for 0.8..1.3 s peaking >= 0.8 (mixed)" \
		"in bsnoop: $(cat "$CLI_TMP/tone.out")"
fi

[ "$fails" -eq 0 ] || fail "$fails check(s) failed"
echo "PASS"
