#!/bin/sh
# Build tests/stress-ring.c with ThreadSanitizer (outside automake, into a
# temporary directory) and run it: any TSan report, a data mismatch or a
# torn seqlock snapshot fails the test.
set -eu

top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
CLANG="${CLANG:-clang}"
scale="${TSAN_SCALE:-0.5}"

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP: $CLANG not found (needed for -fsanitize=thread)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tsan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# A missing TSan runtime is a missing facility, not a failure of ours.
printf 'int main(void) { return 0; }\n' > "$tmp/probe.c"
if ! "$CLANG" -fsanitize=thread -o "$tmp/probe" "$tmp/probe.c" 2>"$tmp/probe.log" ||
   ! "$tmp/probe" >>"$tmp/probe.log" 2>&1; then
	echo "SKIP: $CLANG cannot build or run a ThreadSanitizer program:"
	cat "$tmp/probe.log"
	exit 77
fi

if ! "$CLANG" -fsanitize=thread -g -O1 -std=gnu11 -Wall -Wextra -Werror -pthread \
	-I"$top_srcdir" -o "$tmp/stress-ring" \
	"$top_srcdir/tests/stress-ring.c" "$top_srcdir/tests/check.c" "$top_srcdir"/shm_*.c \
	"$top_srcdir/loop_mix.c"; then
	echo "FAIL: cannot build stress-ring with -fsanitize=thread"
	exit 1
fi

status=0
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
	"$tmp/stress-ring" "$scale" >"$tmp/out" 2>&1 || status=$?
cat "$tmp/out"
if grep -q 'ThreadSanitizer' "$tmp/out"; then
	echo "FAIL: ThreadSanitizer reported a problem (exit status $status)"
	exit 1
fi
if [ "$status" -ne 0 ]; then
	echo "FAIL: stress-ring under ThreadSanitizer exited with status $status"
	exit 1
fi
if ! grep -q '^[1-9][0-9]* passed, 0 failed$' "$tmp/out"; then
	echo "FAIL: stress-ring did not report success"
	exit 1
fi
echo "PASS: stress-ring clean under ThreadSanitizer"
