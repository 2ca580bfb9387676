/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop_conf.h - configuration keys shared by the PCM and the ctl plugin.
 *
 * Both plugins find the same segments, so they parse the keys that name
 * and protect a segment (card, dir, perm, group) with one piece of code,
 * and report bad values the same way: SNDERR naming the key, -EINVAL.
 */
#ifndef LOOP_CONF_H
#define LOOP_CONF_H

#include <alsa/asoundlib.h>

#include "shm_seg.h"

/* Where a segment lives and how a new one is protected. */
struct loop_seg_keys {
	struct shm_seg_config cfg;	/* points into card[] and dir[] */
	char card[LOOP_CARD_MAX];
	char dir[256];
};

/* Defaults: card "0", POSIX shm, mode 0600, group unchanged. */
void loop_seg_keys_init(struct loop_seg_keys *keys);
/* 1 if id is one of the segment keys (parsed into keys), 0 if not, <0 on error. */
int loop_conf_seg_key(snd_config_t *n, const char *who, const char *id,
		      struct loop_seg_keys *keys);
/* An integer given as an integer or a decimal (or 0-octal) string, in range. */
int loop_conf_long(snd_config_t *n, const char *who, const char *key, long min, long max,
		   long *out);

/* What a plugin user can do about a segment fault, in terms of our keys. */
const char *loop_seg_advice(enum shm_fault fault);

#endif /* LOOP_CONF_H */
