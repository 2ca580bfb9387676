#!/bin/sh
# Two containers on one cable, as this machine can make them: each end runs
# in its own unprivileged user + mount + pid namespace (unshare --user
# --map-root-user --mount --pid --fork), with a tmpfs of its own on
# /dev/shm, as Docker or Podman give each container.  As root the two run
# as two throw-away unprivileged uids (no account: setpriv) sharing one
# group, like two containers started with different --user uid:gid; as
# another user both run as that user.
#  - With the 'dir' key on a directory both see (a shared volume) and
#    "perm 0660", a round trip is bit-exact both ways, though the ends
#    know nothing of each other's pids (liveness is by file locks).
#  - With the default /dev/shm (private to each) the ends never meet: the
#    capture hears silence, and nothing reaches the host's /dev/shm.
# Skips where unprivileged user namespaces are disabled.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

for t in unshare setpriv; do
	command -v $t >/dev/null 2>&1 || skip "$t is not installed (util-linux)"
done

if [ "$(id -u)" = 0 ]; then
	# Numeric ids without an account, unlikely to own anything here.
	ua=$((61000 + $$ % 1000 * 2)) ub=$((61001 + $$ % 1000 * 2)) g=$((63000 + $$ % 1000))
else
	ua=$(id -u) ub=$(id -u) g=$(id -g)
fi
# The probe: can an unprivileged user make the namespaces and mount there?
if [ "$(id -u)" = 0 ]; then
	probe="setpriv --reuid=$ua --regid=$g --clear-groups"
else
	probe=
fi
if ! $probe unshare --user --map-root-user --mount --pid --fork \
	sh -c 'mount -t tmpfs tmpfs /dev/shm' >"$CLI_TMP/probe.err" 2>&1; then
	why=$(cat "$CLI_TMP/probe.err")
	for f in /proc/sys/kernel/unprivileged_userns_clone /proc/sys/user/max_user_namespaces \
		/proc/sys/kernel/apparmor_restrict_unprivileged_userns; do
		[ -r "$f" ] && why="$why; $(basename "$f")=$(cat "$f")"
	done
	skip "unprivileged user namespaces are not available here ($why)"
fi

# What both ends read (configuration, the signal) must be readable by the
# unprivileged uids; the shared directory is the "volume" (group g, 2770).
W=$(mktemp -d "${TMPDIR:-/tmp}/alsa-loopback-ct.XXXXXX")
cleanup_w() { rm -rf "$W"; }
loop_at_exit cleanup_w
chmod 755 "$W"
mkdir "$W/vol" "$W/a" "$W/b"
if [ "$(id -u)" = 0 ]; then
	chown "$ua:$g" "$W/a"
	chown "$ub:$g" "$W/b"
	chown "0:$g" "$W/vol"
fi
chmod 2770 "$W/vol"
chmod 755 "$W/a" "$W/b"
# The asoundrc of docs/clients.md's Containers section (plus our card key):
# vloop:N and vloopcap:N, the ends of cable N in the shared directory.
cat >"$W/rc" <<EOF
pcm.vloop {
	@args [ N ]
	@args.N { type integer }
	type loopback card "$LOOP_CARD" device 0 subdevice \$N dir "$W/vol" perm 0660
}
pcm.vloopcap {
	@args [ N ]
	@args.N { type integer }
	type loopback card "$LOOP_CARD" device 1 subdevice \$N dir "$W/vol" perm 0660
}
EOF
chmod 644 "$W/rc"
# The build tree may lie where the uids cannot enter (a clone in root's 0700
# home): they load a copy of the plugin and its names from $W.
if [ -z "${LOOP_INSTALLED:-}" ]; then
	install -m 0644 "$top_builddir/.libs/libasound_module_pcm_loopback.so" \
		"$top_srcdir/50-loopback.conf" "$W/"
	printf 'pcm_type.loopback {\n\tlib "%s"\n}\n<%s>\n' \
		"$W/libasound_module_pcm_loopback.so" "$W/50-loopback.conf" >"$W/asoundrc"
	chmod 644 "$W/asoundrc"
	ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$W/asoundrc"
fi
export ALSA_CONFIG_PATH="$ALSA_CONFIG_PATH:$W/rc"
cli_gen "$W/noise.raw" S16_LE 48000 2 1
chmod 644 "$W/noise.raw"
# sh $W/as.sh UID CMD...: CMD as UID (group g, no other group) in new user, mount
# and pid namespaces (a script: timeout runs it).  --kill-child: when
# timeout stops unshare, the namespace's init dies, and all in it with it.
cat >"$W/as.sh" <<EOF
u=\$1
shift
unset XDG_RUNTIME_DIR
if [ "\$(id -u)" = 0 ]; then
	set -- setpriv --reuid="\$u" --regid=$g --clear-groups \\
		unshare --user --map-root-user --mount --pid --fork --kill-child "\$@"
else
	set -- unshare --user --map-root-user --mount --pid --fork --kill-child "\$@"
fi
exec "\$@"
EOF
frames=$((48000 * 2))

# Run inside: a tmpfs of the namespace's own on /dev/shm, then the client.
INNS='mount -t tmpfs -o mode=1777,size=16m tmpfs /dev/shm && exec "$@"'

# trip NAME FROM TO PLAYPCM CAPPCM: FROM plays the noise into PLAYPCM while
# TO records CAPPCM (started first); the capture is left in $W/TO/rec.raw.
trip() {
	_name=$1 _from=$2 _to=$3 _play=$4 _cap=$5
	eval "_fu=\$u$_from _tu=\$u$_to"
	rm -f "$W/$_to/rec.raw"
	cli_bg sh "$W/as.sh" "$_tu" sh -c "$INNS" sh arecord -q -D "$_cap" -t raw -f S16_LE \
		-r 48000 -c 2 -s $frames "$W/$_to/rec.raw" 2>"$CLI_TMP/rec.err"
	_rpid=$CLI_BG
	cli_wait_growth "$W/$_to/rec.raw" $_rpid ||
		{ cat "$CLI_TMP/rec.err" >&2; fail "$_name: arecord -D $_cap (in $_to) did not start"; }
	cli_client sh "$W/as.sh" "$_fu" sh -c "$INNS" sh aplay -q -D "$_play" -t raw -f S16_LE \
		-r 48000 -c 2 "$W/noise.raw" 2>"$CLI_TMP/play.err" ||
		{ cat "$CLI_TMP/play.err" >&2; fail "$_name: aplay -D $_play (in $_from) failed"; }
	cli_wait $_rpid
	[ "$CLI_RC" -eq 0 ] ||
		{ cat "$CLI_TMP/rec.err" >&2; fail "$_name: arecord -D $_cap (in $_to) exited with $CLI_RC"; }
}

# 1. The shared directory: bit-exact both ways.
trip "a -> b" a b vloop:1 vloopcap:1
"$AUDIOCHECK" compare "$W/noise.raw" "$W/b/rec.raw" 4 0000 >"$CLI_TMP/cmp" 2>&1 ||
	{ cat "$CLI_TMP/cmp" >&2; fail "a -> b through the shared dir is not bit-exact"; }
pass "a (uid $ua) plays vloop:1, b (uid $ub) records vloopcap:1 (dir $W/vol): $(cat "$CLI_TMP/cmp")"
trip "b -> a" b a vloop:2 vloopcap:2
"$AUDIOCHECK" compare "$W/noise.raw" "$W/a/rec.raw" 4 0000 >"$CLI_TMP/cmp" 2>&1 ||
	{ cat "$CLI_TMP/cmp" >&2; fail "b -> a through the shared dir is not bit-exact"; }
pass "b (uid $ub) plays vloop:2, a (uid $ua) records vloopcap:2: $(cat "$CLI_TMP/cmp")"
# The last one out of each cable removed its segment from the volume.
for n in 1 2; do
	f="$W/vol/alsa-loopback-$LOOP_CARD.$n"
	[ ! -e "$f" ] || fail "an idle segment $f was left in the shared directory"
done
pass "the shared directory is empty again"
host="$LOOP_SHM/alsa-loopback-$LOOP_CARD"
if [ -e "$host.1" ] || [ -e "$host.2" ]; then
	fail "a segment of the shared directory's cables appeared in the host's /dev/shm"
fi

# 2. No shared directory: each end has its own /dev/shm, they never meet.
trip "a -> b, private /dev/shm" a b "$(cli_dev loop 3)" "$(cli_dev loopcap 3)"
amp=$(cli_max_amplitude "$W/b/rec.raw" -r 48000 -c 2 -e signed -b 16 -L)
if [ ! -s "$W/b/rec.raw" ] || [ "$amp" != "0.000000" ]; then
	fail "b heard a through its private /dev/shm (maximum amplitude $amp)"
fi
pass "loop:3 in a, loopcap:3 in b, each with its own /dev/shm: b hears silence" \
	"($(wc -c <"$W/b/rec.raw") bytes, peak $amp)"
[ ! -e "$LOOP_SHM/alsa-loopback-$LOOP_CARD.3" ] ||
	fail "a namespace's segment appeared in the host's /dev/shm"
echo "PASS"
