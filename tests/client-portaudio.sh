#!/bin/sh
# PortAudio (python3-pyaudio): the device list shows loop and loopcap (and a
# converting PCM named in the user's configuration); a PortAudio stream
# playing into loop is recorded bit-exact by another recording from loopcap;
# a 44.1 kHz PortAudio stream through the named converting PCM arrives as a
# 48 kHz tone of the right frequency.  PortAudio lists only names from the
# configuration (no arguments), so the test points loop/loopcap at its own
# card and subdevice with defaults.loopback.*, as a user would.
#
# A recording with a dropout, a click, a difference or an overflow the
# recorder reported is the plugin's unless the machine stalled near it
# (tests/lib/stall.sh: the rule, the probe, a second run, SKIP when the
# machine stalls both times).  The limit, STALL_MS: PortAudio's blocking
# streams here take buffers of 2048 frames in periods of 1024 (21 ms),
# moved 1024 frames a call by a Python loop, SCHED_OTHER (the probe too):
# the margin of a reader woken each period is one period, and a stall of
# half of it, 10 ms, may tip a loop that spends part of each period on
# its own work.  Near: PortAudio's buffer (43 ms, or 70 ms through
# loop61conv) and a chunk before the damage, CHAIN_S.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/stall.sh"
# PortAudio's JACK host API looks for a server: libjack's files in /dev/shm.
cli_jack_shm_at_exit
STALL_MS=10 CHAIN_S=0.1

PY=/usr/bin/python3	# Debian's, where python3-pyaudio installs
[ -x $PY ] && $PY -c 'import pyaudio' 2>/dev/null ||
	skip "PyAudio is not installed (python3-pyaudio)"
PA="$top_srcdir/tests/client-portaudio.py"
pa() {
	alsa_client_timeout 20 $PY "$PA" "$@"
}

cat >"$CLI_TMP/user.conf" <<EOF2
defaults.loopback.card "$LOOP_CARD"
defaults.loopback.subdevice 51
pcm.loop61conv {
	type plug
	slave { pcm "loop:61" format S16_LE rate 48000 channels 2 }
	hint.description "loop:61 with conversion to S16_LE 48 kHz stereo"
}
EOF2
ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$CLI_TMP/user.conf"
export ALSA_CONFIG_PATH

pa list >"$CLI_TMP/list" 2>"$CLI_TMP/list.err" || {
	cat "$CLI_TMP/list.err" >&2
	fail "PortAudio could not list its devices"
}
for d in loop loopcap loop61conv; do
	grep -q "^ALSA	$d	in=[1-9][0-9]* out=[1-9]" "$CLI_TMP/list" || {
		cat "$CLI_TMP/list" >&2
		fail "PortAudio's ALSA device list has no '$d' with inputs and outputs"
	}
done
pass "PortAudio lists: $(awk -F'\t' '$1 == "ALSA" { printf "%s ", $2 }' "$CLI_TMP/list")"

# loop -> loopcap, both ends PortAudio, bit-exact.  A stall_case: 1 when
# the recording is not bit-exact or the recorder overflowed.
F=S16_LE R=48000 C=2
cli_gen "$CLI_TMP/noise.raw" $F $R $C 0.5
pa_roundtrip() {
	rm -f "$CLI_TMP/rec.raw"
	cli_bg env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
		$PY "$PA" record loopcap $R $((R * 2)) "$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
	rpid=$CLI_BG
	cli_wait_growth "$CLI_TMP/rec.raw" "$rpid" || {
		cat "$CLI_TMP/rec.err" >&2
		fail "PortAudio did not start recording from loopcap"
	}
	rec0=$(stall_rec_start "$CLI_TMP/rec.raw" 4 $R)
	# The recorder holds its end: its cable's segment exists (an idle one would not).
	[ -e $LOOP_SHM/alsa-loopback-"$LOOP_CARD".51 ] || fail "loopcap did not use subdevice 51"
	pa play loop $R "$CLI_TMP/noise.raw" 2>"$CLI_TMP/play.err" || {
		cat "$CLI_TMP/play.err" >&2
		fail "PortAudio could not play into loop"
	}
	cli_wait "$rpid"
	case $CLI_RC in
	0|3) ;;	# 3: it overflowed, said where and stopped
	*) cat "$CLI_TMP/rec.err" >&2; fail "PortAudio recording exited with $CLI_RC" ;;
	esac
	if "$AUDIOCHECK" compare "$CLI_TMP/noise.raw" "$CLI_TMP/rec.raw" 4 0000 >"$CLI_TMP/cmp" 2>&1 &&
		[ "$CLI_RC" -eq 0 ]; then
		pass "PortAudio 'loop' -> PortAudio 'loopcap' (subdevice 51): $(cat "$CLI_TMP/cmp")"
		return 0
	fi
	cat "$CLI_TMP/cmp"
	grep -v '^ALSA lib\|^Expression\|^Cannot\|^jack\|^Jack' "$CLI_TMP/rec.err" || true
	# Nothing at all arrived: no stall explains that.
	! grep -q 'is all silence' "$CLI_TMP/cmp" ||
		fail "PortAudio loop -> PortAudio loopcap: nothing arrived"
	cli_keep "$CLI_TMP/noise.raw" "$CLI_TMP/rec.raw"
	STALL_WHAT="PortAudio loop -> PortAudio loopcap is not bit-exact"
	[ "$CLI_RC" -ne 3 ] || STALL_WHAT="$STALL_WHAT: the recorder overflowed"
	# Where: the overflow, and the first difference (what follows it is shifted).
	STALL_AT=$({ sed -n 's/^overflow at frame \([0-9]*\)$/\1/p' "$CLI_TMP/rec.err"
		     sed -n 's/.*captured byte \([0-9]*\).*/\1/p' "$CLI_TMP/cmp" |
			     awk '{ print int($1 / 4) }'; } |
		awk -v s="$rec0" -v r=$R '{ printf "%.6f ", s + $1 / r }')
	# shellcheck disable=SC2086
	STALL_DAMAGE=$(set -- $STALL_AT; echo $#)
	[ "$STALL_DAMAGE" -gt 0 ] || STALL_DAMAGE=1
	return 1
}
stall_case "PortAudio loop -> loopcap" $STALL_MS $CHAIN_S pa_roundtrip

# 44.1 kHz through the converting PCM: arecord hears a 1000 Hz tone at 48
# kHz, with no dropout and no click.  A stall_case: 1 when it has them.
sox -V1 -n -r 44100 -c 2 -e signed -b 16 -L -t raw "$CLI_TMP/tone.raw" synth 1 sine 1000 vol 0.5 ||
	fail "sox could not make a tone"
pa_tone() {
	rm -f "$CLI_TMP/rec.raw"
	cli_bg arecord -q -D "$(cli_dev loopcap 61)" -t raw -f $F -r $R -c $C -s $((R * 3)) \
		"$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
	rpid=$CLI_BG
	cli_wait_growth "$CLI_TMP/rec.raw" "$rpid" || fail "arecord did not start"
	rec0=$(stall_rec_start "$CLI_TMP/rec.raw" 4 $R)
	pa play loop61conv 44100 "$CLI_TMP/tone.raw" 2>"$CLI_TMP/play.err" || {
		cat "$CLI_TMP/play.err" >&2
		fail "PortAudio could not play 44100 Hz into loop61conv"
	}
	cli_wait "$rpid"
	"$AUDIOCHECK" tone "$CLI_TMP/rec.raw" $R $C 1000 1 >"$CLI_TMP/tone" 2>&1 || {
		cat "$CLI_TMP/tone" >&2
		fail "PortAudio 44100 Hz -> loop61conv -> loopcap:61 48000 Hz: wrong tone"
	}
	stall_tone "the tone through loop61conv" "$CLI_TMP/tone" "$rec0" || {
		cat "$CLI_TMP/tone"
		cli_keep "$CLI_TMP/rec.raw"
		return 1
	}
	pass "PortAudio 44100 Hz -> 'loop61conv' -> arecord 48000 Hz: $(cat "$CLI_TMP/tone")"
}
stall_case "PortAudio 44100 Hz -> loop61conv" $STALL_MS $CHAIN_S pa_tone
stall_end
