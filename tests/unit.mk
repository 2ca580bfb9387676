# ALSA-free tests of the shared segment and ring (shm_ring.[ch]).
check_PROGRAMS += tests/stress-ring
TESTS += tests/stress-ring tests/tsan.sh
EXTRA_DIST += tests/tsan.sh

tests_stress_ring_SOURCES = tests/stress-ring.c shm_ring.c shm_ring.h
tests_stress_ring_CFLAGS = $(AM_CFLAGS) -pthread
tests_stress_ring_LDFLAGS = -pthread
