// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * conf.c - in-memory configurations that load the built plugins (conf.h).
 */
#define _GNU_SOURCE
#include "conf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *t_builddir(void)
{
	static char dir[PATH_MAX];
	const char *top = getenv("top_builddir");
	char *slash;
	ssize_t n;

	if (top && *top)
		return top;
	if (dir[0])
		return dir;
	/* Run by hand: the program lives in <builddir>/tests. */
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	dir[n > 0 ? n : 0] = 0;
	for (int i = 0; i < 2 && (slash = strrchr(dir, '/')); i++)
		*slash = 0;
	return dir;
}

const char *t_plugin(const char *kind)
{
	static char path[2][PATH_MAX + 64];
	int k = !strcmp(kind, "ctl");

	snprintf(path[k], sizeof(path[k]), "%s/.libs/libasound_module_%s_loopback.so",
		 t_builddir(), kind);
	return path[k];
}

int t_conf_load(snd_config_t **conf, const char *fmt, ...)
{
	char *body = NULL, *text = NULL;
	snd_input_t *in;
	va_list ap;
	int err;

	*conf = NULL;
	va_start(ap, fmt);
	err = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (err < 0)
		return -ENOMEM;
	err = asprintf(&text, "pcm_type.loopback { lib \"%s\" }\nctl_type.loopback { lib \"%s\" }\n%s",
		       t_plugin("pcm"), t_plugin("ctl"), body);
	free(body);
	if (err < 0)
		return -ENOMEM;
	err = snd_config_top(conf);
	if (err >= 0)
		err = snd_input_buffer_open(&in, text, (ssize_t)strlen(text));
	if (err >= 0) {
		err = snd_config_load(*conf, in);
		snd_input_close(in);
	}
	free(text);
	if (err < 0 && *conf) {
		snd_config_delete(*conf);
		*conf = NULL;
	}
	return err;
}
