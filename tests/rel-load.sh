#!/bin/sh
# Load, shortened: scripts/reliability.sh --load 8 5 (8 cables, 16 aplay/
# arecord processes, 48 kHz stereo S16 for 5 s): every cable bit-exact and no
# xrun.  The full run is scripts/reliability.sh --load 64 30.
set -eu
. "$top_builddir/tests/lib/env.sh"
sh "$top_srcdir/scripts/reliability.sh" --build "$top_builddir" \
	--load "${REL_LOAD_CABLES:-8}" "${REL_LOAD_SECONDS:-5}"
