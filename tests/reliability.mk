# Reliability and security tests: peer death, hostile segments,
# permissions, mount namespaces, load, valgrind.  The long runs live in
# scripts/reliability.sh; the tests below run it in a shortened form.
REL_LDADD = $(ALSA_LIBS)
REL_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)

# Their helpers (tests/lib/): streamer plays and records a self-identifying
# pattern, segtool makes and scribbles on hostile segments, memcycle walks
# every open/stream/close path for valgrind (rel-valgrind.sh).
check_PROGRAMS += tests/streamer tests/segtool tests/memcycle
tests_streamer_SOURCES = tests/lib/streamer.c
tests_streamer_CFLAGS = $(REL_CFLAGS)
tests_streamer_LDADD = $(REL_LDADD)
tests_segtool_SOURCES = tests/lib/segtool.c shm_layout.h
tests_segtool_CFLAGS = $(AM_CFLAGS)
tests_memcycle_SOURCES = tests/lib/memcycle.c tests/conf.c tests/conf.h
tests_memcycle_CFLAGS = $(REL_CFLAGS)
tests_memcycle_LDADD = $(REL_LDADD)

TESTS += tests/rel-kill.sh tests/rel-hostile.sh tests/rel-perms.sh tests/rel-owners.sh tests/rel-lifetime.sh \
	tests/rel-mountns.sh tests/rel-load.sh tests/rel-valgrind.sh
EXTRA_DIST += tests/rel-kill.sh tests/rel-hostile.sh tests/rel-perms.sh tests/rel-owners.sh tests/rel-lifetime.sh \
	tests/rel-mountns.sh tests/rel-load.sh tests/rel-valgrind.sh \
	tests/rel-valgrind.supp scripts/reliability.sh

# Two ends racing through hw_params: never a mixed lock.
check_PROGRAMS += tests/test-race
TESTS += tests/test-race
tests_test_race_SOURCES = tests/test-race.c $(PCM_TEST_COMMON)
tests_test_race_CFLAGS = $(REL_CFLAGS)
tests_test_race_LDADD = $(REL_LDADD)

# Syscalls per period of blocking aplay/arecord under strace -c.
TESTS += tests/rel-strace.sh
EXTRA_DIST += tests/rel-strace.sh

# A full segment directory (tmpfs 'dir' in a mount namespace): a clean
# error or a working cable, never SIGBUS.
TESTS += tests/rel-shmfull.sh
EXTRA_DIST += tests/rel-shmfull.sh
