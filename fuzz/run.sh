#!/bin/sh
# fuzz/run.sh [SECONDS_PER_TARGET]: build the libFuzzer targets into a
# temporary directory and run each for SECONDS_PER_TARGET (default 60).
# Prints the executions and crashes of each; exits 1 on any crash (the
# reproducers are kept in $FUZZ_ARTIFACTS, default ./fuzz-artifacts).
set -eu

secs="${1:-60}"
top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
CLANG="${CLANG:-clang}"
artifacts="${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}"

case "$secs" in
''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP: $CLANG not found (libFuzzer needs clang)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# A clang without the libFuzzer runtime is a missing facility.
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
	>"$tmp/probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" \
	2>"$tmp/probe.log"; then
	echo "SKIP: $CLANG cannot build a libFuzzer target:"
	cat "$tmp/probe.log"
	exit 77
fi

alsa_cflags=$(pkg-config --cflags alsa 2>/dev/null || true)
alsa_libs=$(pkg-config --libs alsa 2>/dev/null || echo -lasound)
# pcm_loop.c includes config.h: a tiny one, the source dir stays unconfigured.
printf '#define PACKAGE "alsa-loopback"\n#define VERSION "fuzz"\n' >"$tmp/config.h"
cflags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1
	-std=gnu11 -Wall -Wextra -Werror -I$tmp -I$top_srcdir"

echo "building fuzz targets in $tmp"
# shellcheck disable=SC2086
"$CLANG" $cflags -o "$tmp/fuzz-header" "$top_srcdir/fuzz/fuzz-header.c" "$top_srcdir"/shm_*.c \
	"$top_srcdir/loop_mix.c"
# -DPIC as libtool gives the plugin: SND_PCM_PLUGIN_SYMBOL then needs no
# static-build symbol table from alsa-lib.
# shellcheck disable=SC2086
"$CLANG" $cflags $alsa_cflags -DPIC -o "$tmp/fuzz-config" "$top_srcdir/fuzz/fuzz-config.c" \
	"$top_srcdir/pcm_loop.c" "$top_srcdir/pcm_flow.c" "$top_srcdir/loop_conf.c" \
	"$top_srcdir/loop_clock.c" "$top_srcdir/loop_flow.c" "$top_srcdir/loop_mix.c" \
	"$top_srcdir"/shm_*.c $alsa_libs
# Valid header images of the current layout, from a real segment.
"$CLANG" -O1 -std=gnu11 -DFUZZ_SEED_MAIN -I"$top_srcdir" -o "$tmp/gen-header" \
	"$top_srcdir/fuzz/fuzz-header.c" "$top_srcdir"/shm_*.c "$top_srcdir/loop_mix.c"

mkdir -p "$tmp/corpus/header" "$tmp/corpus/config" "$artifacts"
"$tmp/gen-header" "$tmp/corpus/header"
for t in header config; do
	if [ -d "$top_srcdir/fuzz/corpus/$t" ]; then
		cp "$top_srcdir/fuzz/corpus/$t"/* "$tmp/corpus/$t/" 2>/dev/null || true
	fi
done

# alsa-lib's own parser leak (see load_config in fuzz-config.c).
printf 'leak:load_config\n' >"$tmp/lsan.supp"

failed=0
for t in header config; do
	# config: full malloc stacks through the uninstrumented libasound, so
	# the suppression can see load_config (slow, so not for header).
	case $t in
	header) max_len=8192 asan=detect_leaks=1 ;;
	config) max_len=4096 asan=detect_leaks=1:fast_unwind_on_malloc=0 ;;
	esac
	status=0
	ASAN_OPTIONS="${ASAN_OPTIONS:-$asan}" \
	LSAN_OPTIONS="suppressions=$tmp/lsan.supp ${LSAN_OPTIONS:-}" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
		"$tmp/fuzz-$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
		"$tmp/corpus/$t" >"$tmp/$t.log" 2>&1 || status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$t.log" | tail -n 1)
	crashes=$(find "$artifacts" -name "$t-*" -newer "$tmp/probe.c" | wc -l)
	if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1	# died without leaving an artifact
	fi
	echo "fuzz-$t: ${execs:-?} executions in ${secs}s, $crashes crashes (exit status $status)"
	if [ "$crashes" -ne 0 ]; then
		failed=1
		grep -E -A12 '^==[0-9]+==ERROR|runtime error|assertion failed|^SUMMARY' \
			"$tmp/$t.log" | head -n 60 || tail -n 40 "$tmp/$t.log"
		find "$artifacts" -name "$t-*" -newer "$tmp/probe.c" -exec echo "reproducer: {}" \;
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "FAIL: fuzzing found crashes (reproduce: fuzz-TARGET ARTIFACT)"
	exit 1
fi
echo "PASS: no crashes"
