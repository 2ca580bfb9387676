#!/bin/sh
# Mistakes a user can make, seen through aplay: bad device arguments, bad
# keys in an asoundrc, foreign or damaged segment files.  Each must fail
# (non-zero exit, no hang) with a message that names the problem, and a
# damaged segment must be left exactly as it was.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

head -c 1600 /dev/zero >"$CLI_TMP/zero.raw"	# 0.1 s of S16_LE 8000 Hz mono

# expect_fail DEVICE TEXT...: aplay -D DEVICE (format $AFMT) fails, saying every TEXT.
AFMT=S16_LE
expect_fail() {
	dev=$1
	shift
	rc=0
	cli_client aplay -q -D "$dev" -t raw -f "$AFMT" -r 8000 -c 1 "$CLI_TMP/zero.raw" \
		2>"$CLI_TMP/err" || rc=$?
	[ $rc -ne 0 ] || fail "aplay -D $dev succeeded"
	[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "aplay -D $dev hung"
	cli_expect_text "$CLI_TMP/err" "aplay -D $dev" "$@"
	pass "aplay -D $dev: exit $rc: $(grep -v 'audio open error' "$CLI_TMP/err" | tail -1)"
}

C=$LOOP_CARD
# Device arguments.
expect_fail "loop:-1,$C" "'subdevice'" "-1" "out of range"
expect_fail "loop:abc,$C" "SUBDEV" "integer"
expect_fail "loop:4096,$C" "'subdevice'" "4096" "out of range"
expect_fail "loopcap:SUBDEV=4096,CARD=$C" "'subdevice'" "4096"
expect_fail "loop:SUBDEV=1,CARD=bad/name" "'card'" "bad/name"
expect_fail "loop:SUBDEV=1,CARD=abcdefghijklmnopqrstuvwxyz0123456" "'card'" \
	"abcdefghijklmnopqrstuvwxyz0123456"

# Keys of "type loopback" in an asoundrc.
cat >"$CLI_TMP/bad.conf" <<EOF
pcm.e_key { type loopback card "$C" subdevice 1 foo 1 }
pcm.e_format { type loopback card "$C" subdevice 1 format "NOPE" }
pcm.e_rate { type loopback card "$C" subdevice 1 rate 1 }
pcm.e_rate_hi { type loopback card "$C" subdevice 1 rate 768001 }
pcm.e_channels { type loopback card "$C" subdevice 1 channels 0 }
pcm.e_channels_hi { type loopback card "$C" subdevice 1 channels 33 }
pcm.e_device { type loopback card "$C" subdevice 1 device 7 }
pcm.e_subdev { type loopback card "$C" subdevice "x1" }
pcm.e_perm { type loopback card "$C" subdevice 1 perm 0400 }
pcm.e_perm_hi { type loopback card "$C" subdevice 1 perm 01777 }
pcm.e_dir { type loopback card "$C" subdevice 1 dir "relative/dir" }
pcm.e_nodir { type loopback card "$C" subdevice 1 dir "$CLI_TMP/no-such-dir" }
pcm.e_group { type loopback card "$C" subdevice 1 group "no-such-group-xyz" }
pcm.e_perm_ro { type loopback card "$C" subdevice 1 perm 0644 }
pcm.ok_perm { type loopback card "$C" subdevice 6 perm 0660 }
pcm.ok_default { type loopback card "$C" subdevice 7 }
pcm.fixed { type loopback card "$C" subdevice 8 format "S16_LE" rate 8000 channels 1 }
EOF
ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$CLI_TMP/bad.conf"
export ALSA_CONFIG_PATH
expect_fail e_key "unknown field 'foo'"
expect_fail e_format "'format'" "NOPE"
expect_fail e_rate "'rate'" "out of range"
expect_fail e_rate_hi "'rate'" "768001"
expect_fail e_channels "'channels'" "out of range"
expect_fail e_channels_hi "'channels'" "33"
expect_fail e_device "'device'" "7"
expect_fail e_subdev "'subdevice'" "x1"
expect_fail e_perm "'perm'" "0400"
expect_fail e_perm_hi "'perm'"
expect_fail e_perm_ro "'perm'" "0644" "read without write"
expect_fail e_dir "'dir'" "relative/dir"
expect_fail e_nodir "$CLI_TMP/no-such-dir"
expect_fail e_group "'group'" "no-such-group-xyz"
# Nothing above created a segment.
[ ! -e $LOOP_SHM/alsa-loopback-"$C".1 ] || fail "a refused configuration created a segment"

# mode_while_playing PCM SUB UMASK: the mode of the segment while aplay holds
# it (the last one out removes an idle segment); a copy of it in $CLI_TMP/good.
mode_while_playing() {
	(
		umask "$3"
		if [ -n "$SANITIZER_PRELOAD" ]; then
			export LD_PRELOAD="$SANITIZER_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
		fi
		exec aplay -q -D "$1" -t raw -f S16_LE -r 8000 -c 1 -d 3 /dev/zero
	) 2>"$CLI_TMP/mode.err" &
	_p=$!
	_seg=$LOOP_SHM/alsa-loopback-"$C".$2 _i=0
	while [ ! -s "$_seg" ] && [ $_i -lt 500 ]; do _i=$((_i + 1)); sleep 0.01; done
	mode=$(stat -c %a "$_seg" 2>/dev/null || echo none)
	cp "$_seg" "$CLI_TMP/good" 2>/dev/null || true
	kill "$_p" 2>/dev/null || true
	wait "$_p" 2>/dev/null || true
}
# perm: 0660 includes the owner's 0600, so it is valid and used as given
# (umask or not); the default is 0600.
mode_while_playing ok_perm 6 077
[ "$mode" = 660 ] || fail "perm 0660 made a segment of mode $mode: $(cat "$CLI_TMP/mode.err")"
mode_while_playing ok_default 7 0
[ "$mode" = 600 ] || fail "the default segment mode is $mode, not 600 (umask 0)"
[ ! -e $LOOP_SHM/alsa-loopback-"$C".7 ] || fail "an idle segment outlived its last opener"
pass "perm 0660 -> mode 660 under umask 077; default -> 600 under umask 0"

# A cable fixed in the config refuses other client parameters.
AFMT=U8
expect_fail fixed "format non available" "S16_LE"
AFMT=S16_LE
cli_client aplay -q -D fixed -t raw -f S16_LE -r 8000 -c 1 "$CLI_TMP/zero.raw" ||
	fail "the fixed cable refused its own parameters"
pass "format/rate/channels fixed in the config are enforced"

# Damaged segments: a valid one (copied while in use) to measure and to copy from.
good=$CLI_TMP/good
size=$(wc -c <"$good")
[ "$size" -gt 4096 ] || fail "implausible segment size $size"

check_damaged() {	# NAME SUBDEV TEXT...: aplay on the damaged segment N
	name=$1 sub=$2
	shift 2
	seg=$LOOP_SHM/alsa-loopback-"$C".$sub
	cp "$seg" "$CLI_TMP/before"
	mode_before=$(stat -c %a "$seg")
	expect_fail "loop:$sub,$C" "$seg" "$@"
	cmp -s "$seg" "$CLI_TMP/before" || fail "$name: aplay modified $seg"
	[ "$(stat -c %a "$seg")" = "$mode_before" ] || fail "$name: aplay changed the mode of $seg"
	# The capture side refuses it too.
	rc=0
	cli_client arecord -q -D "loopcap:$sub,$C" -t raw -f S16_LE -d 1 /dev/null \
		2>"$CLI_TMP/err" || rc=$?
	[ $rc -ne 0 ] || fail "$name: arecord accepted $seg"
	cli_expect_text "$CLI_TMP/err" "arecord on $name" "$seg"
	cmp -s "$seg" "$CLI_TMP/before" || fail "$name: arecord modified $seg"
	pass "$name: refused by aplay and arecord, $seg unchanged"
}

# Right size, zeros and garbage: wrong magic.
seg=$LOOP_SHM/alsa-loopback-"$C".20
head -c "$size" /dev/zero >"$seg"
printf 'not a loopback segment, just garbage' | dd of="$seg" conv=notrunc 2>/dev/null
printf 'more garbage' | dd of="$seg" bs=1 seek=5000 conv=notrunc 2>/dev/null
chmod 600 "$seg"
check_damaged "wrong magic" 20 "not an alsa-loopback segment"

# Wrong size: half a segment, and one byte too many.
seg=$LOOP_SHM/alsa-loopback-"$C".21
head -c $((size / 2)) "$good" >"$seg"
check_damaged "half size" 21 "wrong size"
seg=$LOOP_SHM/alsa-loopback-"$C".22
{ cat "$good"; printf x; } >"$seg"
check_damaged "one byte too long" 22 "wrong size"

# A real segment with another layout version (bytes 8..11, after the magic).
seg=$LOOP_SHM/alsa-loopback-"$C".23
cp "$good" "$seg"
printf '\377\377\377\177' | dd of="$seg" bs=1 seek=8 conv=notrunc 2>/dev/null
check_damaged "other version" 23 "version"
echo "PASS"
