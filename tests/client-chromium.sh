#!/bin/sh
# Chromium (headless) plays a WAV tone from a page (autoplay) into loop:N,
# once named with --alsa-output-device and once as the ALSA default device
# (pcm.!default in the user's configuration); arecord on loopcap:N hears
# 1000 Hz for 1 s, with no dropout and no click.
#
# A dropout or a click is the plugin's unless the machine stalled near it
# (tests/lib/stall.sh: the rule, the probe, a second run, SKIP when the
# machine stalls both times).  The limit, STALL_MS: Chromium renders the
# page's audio on a SCHED_RR thread, but its audio service writes to ALSA
# from a SCHED_OTHER one, which kept about 1200 frames (25 ms) of the
# default variant's buffer of 2048 (3500 of 4096 with
# --alsa-output-device), and waits at most 20 ms for the renderer's next
# 512 frames before it plays silence in their place (AudioSyncReader's
# maximum_wait_time on Linux): a stall of 20 ms is about the least that
# can do either; the probe runs SCHED_OTHER, as that writer.  Near: the
# ALSA buffer (85 ms) and the service's buffers before the damage, CHAIN_S.
# Seen on the 2-vCPU VM: beside stress-ng --cpu 4 (probe stalls up to
# 300 ms) 1 recording of 13 had dropouts (two, a 46 ms stall near them);
# beside test-duplex 1 of 7 (218 ms, a 102 ms stall near it).  Each ran
# once more and was clean.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/stall.sh"
STALL_MS=20 CHAIN_S=0.2

CHROMIUM=
for c in chromium chromium-browser; do
	command -v $c >/dev/null 2>&1 && { CHROMIUM=$c; break; }
done
[ -n "$CHROMIUM" ] || skip "Chromium is not installed (Debian package chromium)"
[ -z "$SANITIZER_PRELOAD" ] ||
	skip "Chromium does not start with the sanitizer runtime preloaded ($SANITIZER_PRELOAD): even --dump-dom about:blank hangs; the plain build runs this test"

F=S16_LE R=48000 C=2
sox -V1 -n -r $R -c $C -e signed -b 16 "$CLI_TMP/tone.wav" synth 1 sine 1000 vol 0.5 pad 0 0.2 ||
	fail "sox could not write the tone"
cat >"$CLI_TMP/page.html" <<'EOF2'
<!doctype html><title>tone</title>
<audio src="tone.wav" autoplay></audio>
EOF2
# Root needs --no-sandbox (Chromium refuses to run its sandbox as root).
sandbox=
[ "$(id -u)" != 0 ] || sandbox=--no-sandbox

# Chromium's helper processes (zygote, renderer, crashpad) outlive the
# browser for a moment: wait for every process that names our private home
# (profile, crash database), then kill the rest.
# (The pattern is read from a file: grep's own command line must not match.)
chromium_pids() {
	echo "$CLI_TMP/chromium-home" >"$CLI_TMP/pattern"
	grep -l -F -f "$CLI_TMP/pattern" /proc/[0-9]*/cmdline 2>/dev/null |
		sed 's|^/proc/\([0-9]*\)/cmdline$|\1|' || true
}
chromium_reap() {
	_n=0
	while [ -n "$(chromium_pids)" ] && [ $_n -lt 50 ]; do
		_n=$((_n + 1))
		sleep 0.1
	done
	for _p in $(chromium_pids); do kill -9 "$_p" 2>/dev/null || true; done
}
loop_at_exit chromium_reap

# chromium_tone NAME SUBDEV [CHROMIUM-ARGS...]: record loopcap:SUBDEV while
# Chromium plays the page; stop both once the whole tone is in.  A
# stall_case: 1 when the tone is damaged.
chromium_tone() {
	name=$1 sub=$2
	shift 2
	rm -rf "$CLI_TMP/rec.raw" "$CLI_TMP/chromium-home"
	cli_bg arecord -q -D "$(cli_dev loopcap "$sub")" -t raw -f $F -r $R -c $C -d 28 \
		"$CLI_TMP/rec.raw" 2>"$CLI_TMP/rec.err"
	rpid=$CLI_BG
	cli_wait_growth "$CLI_TMP/rec.raw" "$rpid" || fail "$name: arecord did not start"
	rec0=$(stall_rec_start "$CLI_TMP/rec.raw" 4 $R)
	cli_bg env HOME="$CLI_TMP/chromium-home" TMPDIR="$CLI_TMP" $CHROMIUM --headless=new $sandbox --disable-gpu --no-first-run \
		--user-data-dir="$CLI_TMP/chromium-home/profile" --autoplay-policy=no-user-gesture-required \
		"$@" "file://$CLI_TMP/page.html" >"$CLI_TMP/chromium.log" 2>&1
	cpid=$CLI_BG
	# The tone is in when it analyzes right; then 0.3 s more of silence.
	i=0 ok=
	while [ $i -lt 100 ] && kill -0 "$rpid" 2>/dev/null; do
		if "$AUDIOCHECK" tone "$CLI_TMP/rec.raw" $R $C 1000 1 >/dev/null 2>&1; then
			ok=1
			sleep 0.3
			break
		fi
		i=$((i + 1))
		sleep 0.25
	done
	for p in $cpid $rpid; do
		for c in $(cli_children "$p"); do kill "$c" 2>/dev/null || true; done
		cli_wait "$p"
	done
	chromium_reap
	"$AUDIOCHECK" tone "$CLI_TMP/rec.raw" $R $C 1000 1 >"$CLI_TMP/tone" 2>&1 || ok=
	[ -n "$ok" ] || {
		tail -20 "$CLI_TMP/chromium.log" >&2
		cat "$CLI_TMP/tone" >&2
		cli_keep "$CLI_TMP/rec.raw"
		fail "$name: loopcap:$sub did not hear 1 s of 1000 Hz from Chromium"
	}
	stall_tone "the tone from Chromium" "$CLI_TMP/tone" "$rec0" || {
		cat "$CLI_TMP/tone"
		cli_keep "$CLI_TMP/rec.raw"
		return 1
	}
	pass "$name: $(cat "$CLI_TMP/tone")"
}

stall_case "chromium --alsa-output-device" $STALL_MS $CHAIN_S \
	chromium_tone "chromium --alsa-output-device=$(cli_dev loop 71)" 71 \
	--alsa-output-device="$(cli_dev loop 71)"

cat >"$CLI_TMP/default.conf" <<EOF2
pcm.!default "$(cli_dev loop 72)"
EOF2
ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$CLI_TMP/default.conf"
export ALSA_CONFIG_PATH
stall_case "chromium, ALSA default" $STALL_MS $CHAIN_S \
	chromium_tone "chromium, ALSA default = $(cli_dev loop 72)" 72
stall_end
