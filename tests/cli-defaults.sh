#!/bin/sh
# defaults.loopback.card/subdevice set anywhere win over the snippets' own
# defaults, whatever the order the files are read in.  alsa-lib reads
# /etc/alsa/conf.d (where the installed snippets are linked) after every
# file of ALSA_CONFIG_PATH: a snippet that assigned its defaults
# unconditionally would undo them on any machine where the package is
# installed.  Here the user's file is read before the snippets, as it is
# then; both snippets must keep its values (PCMs and controls).
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"
command -v amixer >/dev/null 2>&1 || skip "amixer is not installed"

F=S16_LE R=48000 C=2
cat >"$CLI_TMP/user.conf" <<EOF2
defaults.loopback.card "$LOOP_CARD"
defaults.loopback.subdevice 7
EOF2
sys=/usr/share/alsa/alsa.conf
# A card-0 segment this test would create by mistake is removed at exit.
[ -e "$LOOP_SHM/alsa-loopback-0.0" ] || CLI_STRAY=$LOOP_SHM/alsa-loopback-0.0
loop_at_exit 'rm -f ${CLI_STRAY:-}'

for order in "user file first" "user file last"; do
	case $order in
	*first) ALSA_CONFIG_PATH="$sys:$CLI_TMP/user.conf:$top_builddir/asoundrc" ;;
	*) ALSA_CONFIG_PATH="$sys:$top_builddir/asoundrc:$CLI_TMP/user.conf" ;;
	esac
	export ALSA_CONFIG_PATH
	# Each default name against the end named in full: bit-exact only if
	# it is card $LOOP_CARD subdevice 7.
	cli_roundtrip "$order: 'loop' -> loopcap:7" "$(cli_dev loopcap 7)" loop $F $R $C 0.2
	cli_roundtrip "$order: loop:7 -> 'loopcap'" loopcap "$(cli_dev loop 7)" $F $R $C 0.2
	pass "$order: 'loop' and 'loopcap' use the user's card and subdevice"
done

# The control snippet alone (no 50-loopback.conf) with the user's file first:
# writing a control of ctl 'loop' creates the segment of the user's cable.
cat >"$CLI_TMP/ctl-only.conf" <<EOF2
ctl_type.loopback {
	lib "$top_builddir/.libs/libasound_module_ctl_loopback.so"
}
<$top_srcdir/51-loopback-ctl.conf>
EOF2
rm -f $LOOP_SHM/alsa-loopback-"$LOOP_CARD".7
ALSA_CONFIG_PATH="$sys:$CLI_TMP/user.conf:$CLI_TMP/ctl-only.conf" cli_client \
	amixer -q -D loop cset iface=PCM,name='PCM Notify' on >"$CLI_TMP/amixer.out" 2>&1 || {
	cat "$CLI_TMP/amixer.out" >&2
	fail "amixer -D loop cset 'PCM Notify' failed with only 51-loopback-ctl.conf"
}
[ -f $LOOP_SHM/alsa-loopback-"$LOOP_CARD".7 ] ||
	fail "ctl 'loop' did not use card $LOOP_CARD subdevice 7"
pass "51-loopback-ctl.conf alone: ctl 'loop' uses the user's card and subdevice"
# And alone with nobody's defaults it still has its own.
ALSA_CONFIG_PATH="$sys:$CLI_TMP/ctl-only.conf" cli_client amixer -D loopctl controls \
	>"$CLI_TMP/amixer.out" 2>&1 || {
	cat "$CLI_TMP/amixer.out" >&2
	fail "amixer -D loopctl failed with only 51-loopback-ctl.conf"
}
pass "51-loopback-ctl.conf alone: loopctl opens with its own defaults"
echo "PASS"
