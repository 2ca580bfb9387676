# Sourced by every shell test and script: finds the built plugin without
# "make install" and keeps test cables private.
top_builddir='/work/main'
top_srcdir='/work/main'
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$top_builddir/asoundrc"
# A card key of our own: tests never meet a user's cables or each other's.
export LOOP_CARD="${LOOP_CARD:-t$$}"
# Sanitized builds: aplay/arecord are not instrumented, preload the runtime.
SANITIZER_PRELOAD=''
# Run a real ALSA client against our plugin (sanitizer runtime preloaded).
alsa_client() {
	if [ -n "$SANITIZER_PRELOAD" ]; then
		LD_PRELOAD="$SANITIZER_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" "$@"
	else
		"$@"
	fi
}
# Remove this run's segments.
loop_cleanup() {
	rm -f /dev/shm/alsa-loopback-"$LOOP_CARD".* 2>/dev/null || true
}
