# The ctl plugin and the tool, driven by real clients (amixer, alsaloop).
check_PROGRAMS += tests/test-ctl
tests_test_ctl_SOURCES = tests/test-ctl.c tests/check.c tests/check.h tests/conf.c tests/conf.h
tests_test_ctl_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_test_ctl_LDADD = libloopshm.la $(ALSA_LIBS)

CTL_TESTS = tests/ctl-kill.sh tests/ctl-contents.sh tests/ctl-tool.sh tests/ctl-alsaloop.sh \
	tests/ctl-tap.sh
TESTS += tests/test-ctl $(CTL_TESTS)
EXTRA_DIST += $(CTL_TESTS) tests/lib/ctl.sh
