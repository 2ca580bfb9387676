# Shell tests: the user contract checked with real clients (aplay, arecord,
# sox).  tests/pcmcmp compares raw audio bit for bit (no python in CI).
check_PROGRAMS += tests/pcmcmp
tests_pcmcmp_SOURCES = tests/pcmcmp.c
tests_pcmcmp_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_pcmcmp_LDADD = $(ALSA_LIBS)

CLI_TESTS = \
	tests/cli-pcmcmp.sh \
	tests/cli-install.sh \
	tests/cli-roundtrip.sh \
	tests/cli-formats.sh \
	tests/cli-lock.sh \
	tests/cli-busy.sh \
	tests/cli-errors.sh \
	tests/cli-realtime.sh
TESTS += $(CLI_TESTS)
EXTRA_DIST += $(CLI_TESTS) tests/lib/cli.sh

# cli-install.sh needs the install directories fully expanded, as "make
# install" will use them (whatever configure was told).
cli-print-dirs:
	@echo "plugindir=$(plugindir)"
	@echo "alsaconfdir=$(alsaconfdir)"
	@echo "alsalinkdir=$(alsalinkdir)"
	@echo "datadir=$(datadir)"
.PHONY: cli-print-dirs

# Shared ends (sharedloop:N, sharedloopcap:N): mixing, several captures,
# exclusion, kill -9 of a writer, and Jibri's asoundrc on shared ends.
# tests/mixcheck writes constant signals and dumps recordings as runs.
check_PROGRAMS += tests/mixcheck
tests_mixcheck_SOURCES = tests/mixcheck.c
tests_mixcheck_CFLAGS = $(AM_CFLAGS)

SHARED_TESTS = \
	tests/shared-mix.sh \
	tests/shared-capture.sh \
	tests/shared-kill.sh \
	tests/shared-jibri.sh
TESTS += $(SHARED_TESTS)
EXTRA_DIST += $(SHARED_TESTS) tests/lib/shared.sh examples/jibri.asoundrc
