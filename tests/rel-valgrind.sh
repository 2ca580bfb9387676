#!/bin/sh
# Leaks and memory errors: tests/memcycle opens both ends of a cable, streams,
# pauses, drains and closes them (and walks the EBUSY and lock-conflict
# error paths) for several cycles under valgrind memcheck; any error or
# leak fails the test.
set -eu
. "$top_builddir/tests/lib/env.sh"
if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is not installed"
	exit 77
fi
if [ -n "$SANITIZER_PRELOAD" ]; then
	echo "SKIP: sanitized build; valgrind cannot run ASan binaries"
	exit 77
fi
log=$(mktemp)
loop_at_exit 'rm -f "$log"'
rc=0
timeout 120 valgrind -q --vgdb=no --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	--suppressions="$top_srcdir/tests/rel-valgrind.supp" \
	"$top_builddir/tests/memcycle" 4 >"$log" 2>&1 || rc=$?
cat "$log"
if [ "$rc" = 99 ]; then
	echo "FAIL: valgrind reported memory errors or leaks (see above)"
	exit 1
elif [ "$rc" != 0 ]; then
	echo "FAIL: memcycle exited $rc under valgrind"
	exit 1
fi
cycles=$(grep -c '^cycle .* heard' "$log" || true)
if [ "$cycles" != 4 ]; then
	echo "FAIL: expected 4 completed cycles, saw $cycles"
	exit 1
fi
echo "PASS: 4 open/stream/pause/drain/close cycles clean under valgrind"
