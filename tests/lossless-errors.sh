#!/bin/sh
# The lossless clock's refusals: the clock is part of the cable's lock, so an
# opener asking the other clock than the running end gets EINVAL with a
# message (both ways); "shared true" with "clock lossless" and an unknown
# clock are refused with a message; the running end is not disturbed; the
# cable is not locked to a clock once its ends are gone; aplay -L and
# arecord -L list the lossless names.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
. "$top_srcdir/tests/lib/lossless.sh"

L=$LOOP_CARD
head -c $((R * FB / 10)) /dev/zero >"$CLI_TMP/zero.raw"

# expect_fail WHAT CLIENT DEVICE TEXT...: CLIENT (aplay or arecord) on
# DEVICE fails with Invalid argument (EINVAL), saying every TEXT, no hang.
expect_fail() {
	what=$1 cl=$2 dev=$3
	shift 3
	rc=0
	if [ "$cl" = aplay ]; then
		cli_client aplay -q -D "$dev" -t raw -f $F -r $R -c $C "$CLI_TMP/zero.raw" \
			2>"$CLI_TMP/err" || rc=$?
	else
		cli_client arecord -q -D "$dev" -t raw -f $F -r $R -c $C -s $((R / 10)) \
			"$CLI_TMP/rec.raw" 2>"$CLI_TMP/err" || rc=$?
	fi
	[ $rc -ne 0 ] || fail "$what: $cl -D $dev succeeded"
	[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "$what: $cl -D $dev hung"
	cli_expect_text "$CLI_TMP/err" "$what: $cl -D $dev" "Invalid argument" "$@"
	pass "$what: $cl exit $rc: $(grep -v 'open error' "$CLI_TMP/err" | tail -1)"
}

# running_end PID WHAT: the end already running is still running.
running_end() {
	ll_running "$1" || fail "$2: the running end ended after the refused open"
}

# --- A realtime playback runs (loop:N, real time, /dev/zero); then a lossless
# capture of that cable is refused.
cli_bg aplay -q -D "$(cli_dev loop 1)" -t raw -f $F -r $R -c $C /dev/zero \
	2>"$CLI_TMP/play.err"
pp=$CLI_BG
sleep 0.5
ll_running "$pp" || { cat "$CLI_TMP/play.err" >&2; fail "aplay -D loop:1 did not start"; }
expect_fail "realtime playback running, lossless capture" arecord "$(cli_dev losslesscap 1)" \
	"the cable runs the realtime clock" "this end asked lossless" "use the loop... names"
expect_fail "realtime playback running, pluglosslesscap capture" arecord \
	"$(cli_dev pluglosslesscap 1)" "the cable runs the realtime clock"
running_end "$pp" "realtime playback"
# The realtime capture still works beside it.
cli_client arecord -q -D "$(cli_dev loopcap 1)" -t raw -f $F -r $R -c $C -s $((R / 10)) \
	"$CLI_TMP/rec.raw" 2>"$CLI_TMP/err" || { cat "$CLI_TMP/err" >&2; fail "loopcap:1 refused"; }
pass "the realtime capture still opens beside the realtime playback"
ll_kill_tree -TERM "$pp"
ll_wait_exit "$pp" 3 || fail "aplay -D loop:1 did not end on SIGTERM"

# --- The reverse: a lossless playback waits for a reader (it has set its
# parameters); a realtime capture is refused, the lossless one is not.
cli_bg aplay -q -D "$(cli_dev lossless 2)" -t raw -f $F -r $R -c $C /dev/zero \
	2>"$CLI_TMP/play.err"
pp=$CLI_BG
sleep 0.5
ll_running "$pp" || { cat "$CLI_TMP/play.err" >&2; fail "aplay -D lossless:2 did not start"; }
expect_fail "lossless playback waiting, realtime capture" arecord "$(cli_dev loopcap 2)" \
	"the cable runs the lossless clock" "this end asked realtime" "use the lossless... names"
expect_fail "lossless playback waiting, plugloopcap capture" arecord \
	"$(cli_dev plugloopcap 2)" "the cable runs the lossless clock"
running_end "$pp" "lossless playback"
# The lossless reader still gets it (then aplay gets -ENODEV: it plays forever).
cli_client arecord -q -D "$(cli_dev losslesscap 2)" -t raw -f $F -r $R -c $C -s $R \
	"$CLI_TMP/rec.raw" 2>"$CLI_TMP/err" || { cat "$CLI_TMP/err" >&2; fail "losslesscap:2 refused"; }
[ "$(ll_size "$CLI_TMP/rec.raw")" -eq $((R * FB)) ] || fail "losslesscap:2 recorded $(ll_size "$CLI_TMP/rec.raw") bytes"
silent_out=$("$AUDIOCHECK" silent "$CLI_TMP/rec.raw" 0000 2>&1) ||
	fail "lossless:2 played /dev/zero, losslesscap:2 recorded something else: $silent_out"
ll_writer_end "lossless:2 after its reader" "$pp" "$CLI_TMP/play.err"
pass "the lossless capture still gets the waiting lossless playback's data (1 s)"

# --- A lossless capture waits for a writer; a realtime playback is refused.
cli_bg arecord -q -D "$(cli_dev losslesscap 3)" -t raw -f $F -r $R -c $C "$CLI_TMP/rec3.raw" \
	2>"$CLI_TMP/rec.err"
rp=$CLI_BG
sleep 0.5
ll_running "$rp" || { cat "$CLI_TMP/rec.err" >&2; fail "arecord -D losslesscap:3 did not start"; }
expect_fail "lossless capture waiting, realtime playback" aplay "$(cli_dev loop 3)" \
	"the cable runs the lossless clock" "this end asked realtime"
running_end "$rp" "lossless capture"
ll_kill_tree -TERM "$rp"
ll_wait_exit "$rp" 3 || fail "arecord -D losslesscap:3 did not end on SIGTERM"

# --- The clock is not sticky: once both ends closed, a realtime pair uses
# the cable of subdevice 2 (a lossless one before), bit-exact.
cli_roundtrip "realtime round trip on a cable that ran lossless" "$(cli_dev loopcap 2)" \
	"$(cli_dev loop 2)" $F $R $C 0.3

# --- Keys in an asoundrc.
cat >"$CLI_TMP/ll.conf" <<EOF
pcm.e_shared_lossless { type loopback card "$L" subdevice 5 shared true clock lossless }
pcm.e_shared_lossless_cap { type loopback card "$L" device 1 subdevice 5 clock lossless shared true }
pcm.e_clock_foo { type loopback card "$L" subdevice 5 clock foo }
pcm.e_clock_int { type loopback card "$L" subdevice 5 clock 1 }
pcm.ok_clock_realtime { type loopback card "$L" subdevice 6 clock realtime }
pcm.ok_clock_realtime_cap { type loopback card "$L" device 1 subdevice 6 clock realtime }
EOF
ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$CLI_TMP/ll.conf"
export ALSA_CONFIG_PATH
expect_fail "shared true + clock lossless" aplay e_shared_lossless \
	"'shared' and 'clock lossless' exclude each other"
expect_fail "clock lossless + shared true (capture)" arecord e_shared_lossless_cap \
	"'shared' and 'clock lossless' exclude each other"
expect_fail "clock foo" aplay e_clock_foo "'foo' is neither realtime nor lossless"
expect_fail "clock 1 (not a string)" aplay e_clock_int "clock"
[ ! -e $LOOP_SHM/alsa-loopback-"$L".5 ] ||
	fail "a refused configuration created the segment of subdevice 5"
# "clock realtime" is the default: it meets loop:N / loopcap:N.
cli_roundtrip "explicit clock realtime meets loopcap" "$(cli_dev loopcap 6)" \
	ok_clock_realtime $F $R $C 0.3
cli_roundtrip "loop meets explicit clock realtime capture" ok_clock_realtime_cap \
	"$(cli_dev loop 6)" $F $R $C 0.3

# --- The names are listed.
for cl in aplay arecord; do
	cli_client $cl -L >"$CLI_TMP/list" 2>&1 || fail "$cl -L failed"
	for name in lossless losslesscap pluglossless pluglosslesscap; do
		grep -q "^$name\$" "$CLI_TMP/list" || grep -q "^$name:" "$CLI_TMP/list" || {
			cat "$CLI_TMP/list" >&2
			fail "$cl -L does not list $name"
		}
	done
	cli_expect_text "$CLI_TMP/list" "$cl -L" "Lossless loopback device 0" \
		"Lossless loopback device 1"
done
pass "aplay -L and arecord -L list lossless, losslesscap, pluglossless, pluglosslesscap"
echo "PASS"
