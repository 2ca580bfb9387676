# snd-aloop's mixer controls (ctl type "loopback") and the alsa-loopback tool.

# The control plugin.
plugin_LTLIBRARIES += libasound_module_ctl_loopback.la
libasound_module_ctl_loopback_la_SOURCES = ctl_loop.c loop_conf.c loop_conf.h shm_ring.c shm_ring.h
libasound_module_ctl_loopback_la_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
libasound_module_ctl_loopback_la_LIBADD = $(ALSA_LIBS)
# alsa-lib looks up the versioned "_dlsym_control_001" symbol: unanchored.
libasound_module_ctl_loopback_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '_snd_ctl_loopback_open'

# Plugins are dlopen()ed by name: no .la.  plugindir is a data directory to
# automake, so the plugins are installed by install-data: remove it after.
install-data-local: install-pluginLTLIBRARIES
	rm -f $(DESTDIR)$(plugindir)/libasound_module_ctl_loopback.la

# Without its .la, libtool's uninstall would leave the .so behind.
uninstall-local:
	rm -f $(DESTDIR)$(plugindir)/libasound_module_ctl_loopback.so

# The tool.  Its --help is its man page, rendered at build time.
bin_PROGRAMS = alsa-loopback
alsa_loopback_SOURCES = tool/alsa-loopback.c shm_ring.c shm_ring.h
alsa_loopback_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/tool
alsa_loopback_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
alsa_loopback_LDADD = $(ALSA_LIBS)
man_MANS = tool/alsa-loopback.1

tool/alsa-loopback-help.h: $(top_srcdir)/tool/alsa-loopback.1 $(top_srcdir)/tool/man2help.awk
	$(AM_V_GEN)$(MKDIR_P) tool && \
	$(AWK) -f $(top_srcdir)/tool/man2help.awk $(top_srcdir)/tool/alsa-loopback.1 > $@.tmp && \
	mv $@.tmp $@
tool/alsa_loopback-alsa-loopback.$(OBJEXT): tool/alsa-loopback-help.h
CLEANFILES += tool/alsa-loopback-help.h

EXTRA_DIST += tests/ctl-kill.sh 51-loopback-ctl.conf tool/man2help.awk tests/ctl-env.sh \
	tests/ctl-contents.sh tests/ctl-alsaloop.sh tests/ctl-tool.sh

# Tests.
check_PROGRAMS += tests/test-ctl
tests_test_ctl_SOURCES = tests/test-ctl.c shm_ring.c shm_ring.h
tests_test_ctl_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
tests_test_ctl_LDADD = $(ALSA_LIBS)

TESTS += tests/ctl-kill.sh tests/test-ctl tests/ctl-contents.sh tests/ctl-tool.sh tests/ctl-alsaloop.sh
