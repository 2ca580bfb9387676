# Packaging and the programs users run: the snippets' defaults, "make
# installcheck" against the installed plugins, and real clients (Chromium,
# PortAudio, GStreamer, Snapcast, an RTP bridge, PulseAudio, PipeWire, JACK,
# mpv, two containers on one directory), each skipped where the
# program is not installed.
TESTS += tests/cli-defaults.sh
EXTRA_DIST += tests/cli-defaults.sh

# Real clients; each test skips (77) where its program is not installed.
CLIENT_TESTS = tests/client-chromium.sh tests/client-gst.sh tests/client-portaudio.sh \
	tests/client-rtp.sh tests/client-snapcast.sh tests/client-pulse.sh \
	tests/client-pipewire.sh tests/client-jack.sh tests/client-mpv.sh \
	tests/client-containers.sh
TESTS += $(CLIENT_TESTS)
EXTRA_DIST += $(CLIENT_TESTS) scripts/rtp-bridge.sh tests/client-portaudio.py tests/lib/server.sh \
	tests/lib/stall.sh \
	scripts/deb-check.sh docs/clients.md

# make installcheck: the CLI tests and the lossless round trip (the stock
# lossless names come from the installed snippet) against the installed plugins and the
# system's ALSA configuration (tests/lib/env.sh with LOOP_INSTALLED=1).
INSTALLCHECK_TESTS = tests/cli-roundtrip.sh tests/cli-formats.sh tests/cli-lock.sh \
	tests/cli-busy.sh tests/cli-errors.sh tests/cli-realtime.sh tests/lossless-roundtrip.sh
installcheck-local: tests/audiocheck$(EXEEXT)
	@sys="$$($(PKG_CONFIG) --variable=libdir alsa)/alsa-lib"; \
	if test -n "$(DESTDIR)" || test "$(plugindir)" != "$$sys" || \
	   test "$(alsalconfdir)" != /etc/alsa/conf.d; then \
		echo "installcheck: $(DESTDIR)$(plugindir) and $(DESTDIR)$(alsalconfdir) are not where" \
			"alsa-lib looks ($$sys, /etc/alsa/conf.d): CLI tests not run"; \
		exit 0; \
	fi; \
	for f in $(plugindir)/libasound_module_pcm_loopback.so $(alsalconfdir)/50-loopback.conf; do \
		test -e "$$f" || { echo "installcheck: $$f is not installed (make install first)"; exit 1; }; \
	done; \
	$(MAKE) $(AM_MAKEFLAGS) check-TESTS TESTS='$(INSTALLCHECK_TESTS)' \
		TEST_SUITE_LOG=tests/installcheck-suite.log LOOP_INSTALLED=1
CLEANFILES += tests/installcheck-suite.log

# Tone analysis and the play+record latency probe of the client tests:
# tests/audiocheck (shell.mk).

# The wake-up lateness probe as a program (tests/lib/stallwatch.c, on
# tests/lib/probe.c): the client tests' clients run in processes of their
# own, so a test watches the machine beside them and judges a damaged tone
# by what it saw (tests/lib/stall.sh).
check_PROGRAMS += tests/stallwatch
tests_stallwatch_SOURCES = tests/lib/stallwatch.c $(PROBE_SOURCES)
tests_stallwatch_CFLAGS = $(AM_CFLAGS) -pthread
tests_stallwatch_LDFLAGS = -pthread
