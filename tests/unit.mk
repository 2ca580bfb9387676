# ALSA-free tests of the shared segment and ring (shm_ring.[ch]).
check_PROGRAMS += tests/test-shm-ring tests/stress-ring
TESTS += tests/test-shm-ring tests/stress-ring tests/tsan.sh
EXTRA_DIST += tests/tsan.sh

tests_test_shm_ring_SOURCES = tests/test-shm-ring.c shm_ring.c shm_ring.h
tests_test_shm_ring_CFLAGS = $(AM_CFLAGS)

tests_stress_ring_SOURCES = tests/stress-ring.c shm_ring.c shm_ring.h
tests_stress_ring_CFLAGS = $(AM_CFLAGS) -pthread
tests_stress_ring_LDFLAGS = -pthread
