#!/bin/sh
# Build alsa-loopback and run the whole test suite:
#   - gcc and clang builds with -Wall -Wextra -Werror
#   - make check (unit, alsa-lib C tests, real aplay/arecord tests, reliability,
#     Chromium/PortAudio/GStreamer/Snapcast clients and the RTP bridge)
#   - valgrind memcheck of the ring and of the plugin's open/configure/close
#   - make check again with the plugin built under ASan + UBSan
#   - the ring's two-thread stress under ThreadSanitizer
#   - bounded libFuzzer runs and the short benchmark run
# Usage: ./check.sh        (installs missing Debian packages itself)
set -eu
cd "$(dirname "$0")"
top=$(pwd)
. ./deps.sh
LOOP_EXTRA_DEPS="${LOOP_EXTRA_DEPS:-} $LOOP_CLIENT_DEPS"
loop_install_deps

step() { printf '\n== %s\n' "$*"; }
run_check() {	# run_check BUILDDIR CONFIGURE-ARGS...
	dir=$1; shift
	rm -rf "$dir"; mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q --enable-werror "$@" && make -s -j2 &&
	 make -s -j2 check) || {
		for log in "$dir"/test-suite.log; do [ -f "$log" ] && cat "$log"; done
		return 1
	}
}

autoreconf -fi >/dev/null 2>&1

step "gcc build + make check"
run_check "$top/build-check" CC=gcc

step "valgrind memcheck: ring unit test; plugin open/configure/close in racing processes"
(cd "$top/build-check" && for t in tests/test-shm-ring tests/test-race; do
	top_builddir=$PWD valgrind -q --error-exitcode=9 --leak-check=full \
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

echo
echo "check.sh: all passed"
