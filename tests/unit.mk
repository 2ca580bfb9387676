# ALSA-free tests of the shared layer: segment, ring, grid, timeline
# (shm_*.[ch]), the position arithmetic (loop_clock.[ch]) and the sum of
# shared playbacks (loop_mix.[ch]).
check_PROGRAMS += tests/test-shm-ring tests/test-clock tests/test-flow tests/test-mix \
	tests/stress-ring
TESTS += tests/test-shm-ring tests/test-clock tests/test-flow tests/test-mix tests/stress-ring \
	tests/tsan.sh
EXTRA_DIST += tests/tsan.sh

tests_test_shm_ring_SOURCES = tests/test-shm-ring.c tests/check.c tests/check.h
tests_test_shm_ring_LDADD = libloopshm.la

tests_test_clock_SOURCES = tests/test-clock.c tests/check.c tests/check.h
tests_test_clock_LDADD = libloopshm.la

tests_test_flow_SOURCES = tests/test-flow.c tests/check.c tests/check.h
tests_test_flow_LDADD = libloopshm.la

tests_test_mix_SOURCES = tests/test-mix.c tests/check.c tests/check.h
tests_test_mix_LDADD = libloopshm.la

tests_stress_ring_SOURCES = tests/stress-ring.c tests/check.c tests/check.h
tests_stress_ring_CFLAGS = $(AM_CFLAGS) -pthread
tests_stress_ring_LDADD = libloopshm.la
tests_stress_ring_LDFLAGS = -pthread
