/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conf.h - the one way C tests point alsa-lib at the built plugins.
 *
 * A configuration is built in memory (no ALSA_CONFIG_PATH, no file): the
 * pcm_type and ctl_type of the plugins in the build tree, then the test's
 * own definitions.  Open PCMs and ctls with snd_pcm_open_lconf() and
 * snd_ctl_open_lconf() on it.
 */
#ifndef TESTS_CONF_H
#define TESTS_CONF_H

#include <alsa/asoundlib.h>

/* The build tree: $top_builddir, or two levels above this program. */
const char *t_builddir(void);
/* The built plugin of kind "pcm" or "ctl". */
const char *t_plugin(const char *kind);
/* Load the plugins' types plus the printf-formatted definitions. */
int t_conf_load(snd_config_t **conf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* TESTS_CONF_H */
