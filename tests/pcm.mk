# C tests that drive both ends of the loopback through alsa-lib
# (snd_pcm_open_lconf with an in-memory config loading the built plugin).
PCM_TEST_COMMON = tests/harness.c tests/harness.h tests/check.h tests/conf.c tests/conf.h

check_PROGRAMS += tests/test-pcm-data tests/test-pcm-state
TESTS += tests/test-pcm-data tests/test-pcm-state

tests_test_pcm_data_SOURCES = tests/test-pcm-data.c $(PCM_TEST_COMMON)
tests_test_pcm_data_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_test_pcm_data_LDADD = $(ALSA_LIBS)

tests_test_pcm_state_SOURCES = tests/test-pcm-state.c $(PCM_TEST_COMMON)
tests_test_pcm_state_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_test_pcm_state_LDADD = $(ALSA_LIBS)

# The minimal full-duplex client (read a period, write a period): no xrun
# the machine does not explain, the capture never falls behind.
# DUPLEX_PERIODS=2000 for the long form.  tests/lib/probe.[ch]: the
# wake-up lateness probe a real-time case judges the machine by.
PROBE_SOURCES = tests/lib/probe.c tests/lib/probe.h
check_PROGRAMS += tests/test-duplex
TESTS += tests/test-duplex
tests_test_duplex_SOURCES = tests/test-duplex.c $(PCM_TEST_COMMON) $(PROBE_SOURCES)
tests_test_duplex_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS) -pthread
tests_test_duplex_LDFLAGS = -pthread
tests_test_duplex_LDADD = $(ALSA_LIBS)

# Poll returns, empty returns, transfers and CPU per period for every
# direction x access x clock x client loop (POLL_SECONDS, POLL_JOBS).
check_PROGRAMS += tests/test-poll
TESTS += tests/test-poll
tests_test_poll_SOURCES = tests/test-poll.c $(PCM_TEST_COMMON)
tests_test_poll_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_test_poll_LDADD = $(ALSA_LIBS)
