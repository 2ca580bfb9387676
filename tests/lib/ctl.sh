# Sourced by the ctl-*.sh tests: env.sh (whose asoundrc loads both built
# plugins and both snippets) plus the helpers below.
. "$top_builddir/tests/lib/env.sh"
CTL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctl-test.XXXXXX")
loop_at_exit 'rm -rf "$CTL_TMP"'
# Start an ALSA client in the background so that $! is its own pid (the
# tool reports pids); the sanitizer runtime is preloaded as alsa_client does.
bg_client() {
	if [ -n "$SANITIZER_PRELOAD" ]; then
		LD_PRELOAD="$SANITIZER_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" "$@" &
	else
		"$@" &
	fi
}
# cget_value CTL 'NAME': the value amixer reads (first of ": values=").
cget_value() {
	amixer -D "$1" cget "iface=PCM,name=$2" | sed -n 's/^  : values=//p' | cut -d, -f1
}
# wait_value CTL 'NAME' VALUE: up to 5 s for the control to read VALUE.
wait_value() {
	for _i in $(seq 50); do
		[ "$(cget_value "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# amixer and alsaloop load our plugins too: same preload in sanitized builds.
amixer() { alsa_client command amixer "$@"; }
alsaloop() { alsa_client command alsaloop "$@"; }
# Is the program installed (not our wrapper function)?
have() { env sh -c 'command -v "$1"' sh "$1" >/dev/null; }
