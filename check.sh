#!/bin/sh
# Build alsa-loopback and run the whole test suite:
#   - gcc and clang builds with -Wall -Wextra -Werror
#   - make check (unit, alsa-lib C tests, real aplay/arecord tests, reliability,
#     Chromium/PortAudio/GStreamer/Snapcast clients and the RTP bridge)
#   - valgrind memcheck of the ring and of the plugin's open/configure/close
#   - make check again with the plugin built under ASan + UBSan
#   - the ring's two-thread stress under ThreadSanitizer
#   - bounded libFuzzer runs and the short benchmark run
#   - after each make check and at the end: nothing the suite started still
#     runs, no test's segment is left in /dev/shm, nothing in the suite's
#     own TMPDIR
# Usage: ./check.sh        (installs missing Debian packages itself)
#        ./check.sh --leftovers   (only that last check, for .ci/run's end)
set -eu
cd "$(dirname "$0")"
top=$(pwd)

# Everything the suite starts inherits LOOP_SUITE in its environment (a
# caller's, e.g. .ci/run's, is kept; set after the packages are installed,
# so that a daemon a package starts is not counted): a process that still
# carries it after a make check was left behind, whatever became of its
# parent.  Segments: those of the tests' card keys (t<pid>, c<pid>-...,
# vg<pid>) that were not in the user's segment directory before
# (LOOP_SUITE_SHM: a caller's list of before) and whose test is gone.
suite_shm="/dev/shm/alsa-loopback-$(id -u)"
suite_begin() {
	LOOP_SUITE=${LOOP_SUITE:-$$.$(date +%s)}
	export LOOP_SUITE
	if [ -z "${LOOP_SUITE_SHM:-}" ]; then
		LOOP_SUITE_SHM=$(mktemp)
		LOOP_SUITE_SHM_OURS=$LOOP_SUITE_SHM
		ls "$suite_shm" >"$LOOP_SUITE_SHM" 2>/dev/null || true
	fi
	# What the suite's processes put in TMPDIR lands in a directory of
	# its own: anything still there at a check was left behind.  Sticky
	# and world-writable as /tmp is, for the tests' throw-away users.
	suite_tmp=$(mktemp -d "${TMPDIR:-/tmp}/alsa-loopback-suite.XXXXXX")
	chmod 1777 "$suite_tmp"
	trap 'rm -f "${LOOP_SUITE_SHM_OURS:-}"; rm -rf "$suite_tmp"' EXIT
	TMPDIR=$suite_tmp
	export TMPDIR
}
# ppid PID: its parent's pid (empty if gone).
ppid() {
	sed -n 's/^.*) . \([0-9]*\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true
}
# suite_leftovers WHEN: list, kill or remove, and fail on, what the suite
# left running or in the segment directory.  Not flagged: this shell, its callers and
# its own helpers (they carry the tag too), and anything without the tag
# (the user's own aplay is not ours).
suite_leftovers() {
	_tag=$LOOP_SUITE
	_up=" "
	_a=$$
	while [ -n "$_a" ] && [ "$_a" -gt 1 ]; do
		_up="$_up$_a "
		_a=$(ppid "$_a")
	done
	_left=
	for _p in $(grep -lzxF "LOOP_SUITE=$_tag" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'); do
		case $_up in *" $_p "*) continue ;; esac
		# Our helpers: their parent chain meets this shell.
		_a=$_p
		while [ -n "$_a" ] && [ "$_a" -gt 1 ] && [ "$_a" != $$ ]; do
			_a=$(ppid "$_a")
		done
		[ "$_a" != $$ ] || continue
		_st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$_p/stat" 2>/dev/null || true)
		[ -n "$_st" ] && [ "$_st" != Z ] || continue
		_left="$_left $_p"
	done
	_bad=0
	if [ -n "$_left" ]; then
		echo "FAIL ($1): still running, started by the suite (now killed):"
		for _p in $_left; do
			echo "  $_p $(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | cut -c1-160)"
		done
		# shellcheck disable=SC2086
		kill -KILL $_left 2>/dev/null || true
		_bad=1
	fi
	for _f in "$suite_shm"/alsa-loopback-*; do
		[ -e "$_f" ] || continue
		_n=${_f#"$suite_shm"/}
		# The tests' card keys: t<pid> (shell tests), c<pid>-<random>
		# (C tests), vg<pid> (rel-valgrind); anything else is not ours.
		_k=$(echo "$_n" | sed -n 's/^alsa-loopback-\(t\|c\|vg\)\([0-9][0-9]*\)[-.a-z].*/\2/p')
		[ -n "$_k" ] || continue
		! grep -qxF "$_n" "$LOOP_SUITE_SHM" || continue
		# A live process without our tag is another run's test, still going.
		if [ -d "/proc/$_k" ] &&
			! grep -qzxF "LOOP_SUITE=$_tag" "/proc/$_k/environ" 2>/dev/null; then
			continue
		fi
		[ $_bad = 2 ] || { echo "FAIL ($1): segments left in $suite_shm (now removed):"; _bad=2; }
		echo "  $_f"
		rm -f "$_f"
	done
	_tmpleft=$(ls -A "${suite_tmp:-/nonexistent}" 2>/dev/null || true)
	if [ -n "$_tmpleft" ]; then
		echo "FAIL ($1): left in the suite's TMPDIR $suite_tmp (now removed):"
		echo "$_tmpleft" | sed 's/^/  /'
		find "$suite_tmp" -mindepth 1 -delete 2>/dev/null || true
		_bad=3
	fi
	[ $_bad = 0 ]
}
if [ "${1:-}" = --leftovers ]; then
	[ -n "${LOOP_SUITE:-}" ] && [ -n "${LOOP_SUITE_SHM:-}" ] || {
		echo "check.sh --leftovers: LOOP_SUITE and LOOP_SUITE_SHM must be set (as .ci/run does)" >&2
		exit 2
	}
	suite_leftovers "end of the run"
	exit
fi

. ./deps.sh
LOOP_EXTRA_DEPS="${LOOP_EXTRA_DEPS:-} $LOOP_CLIENT_DEPS"
loop_install_deps
suite_begin

step() { printf '\n== %s\n' "$*"; }
run_check() {	# run_check BUILDDIR CONFIGURE-ARGS...
	dir=$1; shift
	rm -rf "$dir"; mkdir -p "$dir"
	_rc=0
	(cd "$dir" && "$top/configure" -q --enable-werror --prefix=/usr --sysconfdir=/etc \
		--libdir="$(pkg-config --variable=libdir alsa)" \
		--with-plugindir="$(pkg-config --variable=libdir alsa)/alsa-lib" "$@" && make -s -j2 &&
	 make -s -j2 check) || {
		for log in "$dir"/test-suite.log; do [ -f "$log" ] && cat "$log"; done
		_rc=1
	}
	suite_leftovers "make check in $dir" || _rc=1
	return $_rc
}

autoreconf -fi >/dev/null 2>&1

step "gcc build + make check"
run_check "$top/build-check" CC=gcc

step "valgrind memcheck: ring unit test; plugin open/configure/close in racing processes"
(cd "$top/build-check" && for t in tests/test-shm-ring tests/test-race; do
	top_builddir=$PWD valgrind -q --vgdb=no --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite --trace-children=yes \
		"./$t" >/dev/null || exit 1
 done)
# (tests/rel-valgrind.sh, in make check, streams, pauses and drains under memcheck.)

step "clang build"
rm -rf "$top/build-clang"; mkdir -p "$top/build-clang"
(cd "$top/build-clang" && "$top/configure" -q --enable-werror CC=clang && make -s -j2)

step "ASan + UBSan build + make check"
run_check "$top/build-asan" CC=gcc \
	CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"

step "libFuzzer: segment images and plugin config, 60 s per target"
(cd "$top/build-check" && make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}")

step "benchmarks, short form (figures only; fails only if something broke)"
(cd "$top/build-check" && make -s bench-quick)

suite_leftovers "end of check.sh"

echo
echo "check.sh: all passed"
