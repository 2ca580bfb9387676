# Shell tests: the user contract checked with real clients (aplay, arecord,
# sox).  tests/audiocheck (tests/lib/audiocheck.c) is the one audio check
# tool of the tests and the bench: bit-exact comparison, constant signals
# and their runs, tones, finding an offset.
check_PROGRAMS += tests/audiocheck
tests_audiocheck_SOURCES = tests/lib/audiocheck.c
tests_audiocheck_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_audiocheck_LDADD = $(ALSA_LIBS) -lm

CLI_TESTS = \
	tests/cli-audiocheck.sh \
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
	@echo "prefix=$(prefix)"
	@echo "plugindir=$(plugindir)"
	@echo "alsagconfdir=$(alsagconfdir)"
	@echo "alsalconfdir=$(alsalconfdir)"
	@echo "libdir=$(libdir)"
	@echo "datadir=$(datadir)"
	@echo "sysconfdir=$(sysconfdir)"
.PHONY: cli-print-dirs

# Shared ends (sharedloop:N, sharedloopcap:N): mixing, several captures,
# exclusion, kill -9 of a writer, and Jibri's asoundrc on shared ends.
# tests/audiocheck writes constant signals and dumps recordings as runs.

SHARED_TESTS = \
	tests/shared-mix.sh \
	tests/shared-capture.sh \
	tests/shared-kill.sh \
	tests/shared-jibri.sh
TESTS += $(SHARED_TESTS)
EXTRA_DIST += $(SHARED_TESTS) tests/lib/shared.sh examples/jibri.asoundrc
