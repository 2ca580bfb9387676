// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz-config.c - libFuzzer target: the plugin's open with any
 * configuration text.
 *
 * The input (after one flag byte) is parsed as ALSA configuration into a
 * fresh tree; if it defines a compound pcm.x, the plugin's entry point is
 * called on it directly, as snd_pcm_open() would after finding "type
 * loopback".  Segments must never reach /dev/shm or a path chosen by the
 * input: an absolute 'dir' is rewritten to a private directory and a
 * missing one is added, so only values the plugin has to refuse (relative
 * paths, wrong types) get through unchanged.  Files are removed after each
 * input.
 *
 * Flag byte: bit 0 capture instead of playback; bit 1 refine the hw
 * parameters of an opened PCM; bit 2 also install them (takes the cable's
 * parameter lock); bit 3 also open pcm.y (the other stream) while pcm.x is
 * open, so attach/lock paths between two ends run.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <alsa/asoundlib.h>

int _snd_pcm_loopback_open(snd_pcm_t **pcmp, const char *name, snd_config_t *root,
			   snd_config_t *conf, snd_pcm_stream_t stream, int mode);


static char segdir[] = "/tmp/fuzz-config.XXXXXX";

static void quiet(const char *file, int line, const char *function, int err, const char *fmt,
		  ...)
{
	(void)file, (void)line, (void)function, (void)err, (void)fmt;
}

static void rm_segments(void)
{
	DIR *d = opendir(segdir);
	struct dirent *e;

	ASSERT(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void cleanup_dir(void)
{
	rm_segments();
	rmdir(segdir);
}

/*
 * Point the node's segments at our directory.  Returns true if the plugin
 * must refuse the node because of its 'dir' (a value it cannot accept).
 */
static bool confine(snd_config_t *node)
{
	snd_config_t *dir, *n;
	const char *str;

	if (snd_config_search(node, "dir", &dir) < 0) {
		ASSERT(snd_config_imake_string(&n, "dir", segdir) == 0);
		ASSERT(snd_config_add(node, n) == 0);
		return false;
	}
	if (snd_config_get_string(dir, &str) < 0 || !str || str[0] != '/')
		return true;
	ASSERT(snd_config_set_string(dir, segdir) == 0);
	return false;
}

static void exercise(snd_pcm_t *pcm, uint8_t flags)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_format_t format;
	unsigned int rate, channels;
	int dir = 0;

	if (!(flags & 2))
		return;
	snd_pcm_hw_params_alloca(&hw);
	/* An end that opened can be configured: the space is never empty. */
	ASSERT(snd_pcm_hw_params_any(pcm, hw) >= 0);
	if (!(flags & 4))
		return;
	if (snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) < 0 ||
	    snd_pcm_hw_params_set_format_first(pcm, hw, &format) < 0 ||
	    snd_pcm_hw_params_set_channels_first(pcm, hw, &channels) < 0 ||
	    snd_pcm_hw_params_set_rate_first(pcm, hw, &rate, &dir) < 0)
		return;
	snd_pcm_hw_params(pcm, hw);
}

/*
 * alsa-lib 1.2.8 itself leaks on some malformed text (a byte in the parser's
 * error path).  Parsing happens only here, so run.sh can suppress leaks
 * under this one function without hiding any of the plugin's.
 */
__attribute__((noinline)) static int load_config(snd_config_t *root, const uint8_t *text,
						 size_t len)
{
	snd_input_t *in;
	int err;

	if (snd_input_buffer_open(&in, (const char *)text, (ssize_t)len) < 0)
		return -ENOMEM;
	err = snd_config_load(root, in);
	snd_input_close(in);
	return err;
}

static bool is_compound(snd_config_t *n)
{
	return snd_config_get_type(n) == SND_CONFIG_TYPE_COMPOUND;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	snd_config_t *root = NULL, *x, *y;
	snd_pcm_t *pcm = NULL, *pcm2 = NULL;
	snd_pcm_stream_t stream;
	bool must_fail;
	int err;

	if (!init) {
		ASSERT(mkdtemp(segdir));
		atexit(cleanup_dir);
		snd_lib_error_set_handler(quiet);
		init = true;
	}
	if (size < 1)
		return 0;
	stream = data[0] & 1 ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK;
	err = snd_config_top(&root);
	ASSERT(err == 0);
	err = load_config(root, data + 1, size - 1);
	/* alsa-lib hands the plugin only a compound pcm definition. */
	if (err < 0 || snd_config_search(root, "pcm.x", &x) < 0 || !is_compound(x))
		goto out;
	must_fail = confine(x);
	err = _snd_pcm_loopback_open(&pcm, "x", root, x, stream, SND_PCM_NONBLOCK);
	if (must_fail)
		ASSERT(err < 0);
	if (err < 0) {
		ASSERT(err == -EINVAL || err == -EPROTO || err == -EBUSY || err == -ENOENT ||
		       err == -EACCES || err == -EPERM || err == -ELOOP || err == -ENAMETOOLONG ||
		       err == -ENOMEM || err == -EAGAIN);
		goto out;
	}
	ASSERT(pcm);
	exercise(pcm, data[0]);
	if ((data[0] & 8) && snd_config_search(root, "pcm.y", &y) == 0 && is_compound(y) &&
	    !confine(y)) {
		stream = stream == SND_PCM_STREAM_PLAYBACK ? SND_PCM_STREAM_CAPTURE
							   : SND_PCM_STREAM_PLAYBACK;
		if (_snd_pcm_loopback_open(&pcm2, "y", root, y, stream, SND_PCM_NONBLOCK) == 0) {
			exercise(pcm2, data[0]);
			snd_pcm_close(pcm2);
		}
	}
	snd_pcm_close(pcm);
out:
	snd_config_delete(root);
	rm_segments();
	return 0;
}
