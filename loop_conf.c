// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * loop_conf.c - the configuration keys both plugins share (see loop_conf.h).
 */
#define _GNU_SOURCE
#include "loop_conf.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void loop_seg_keys_init(struct loop_seg_keys *keys)
{
	memset(keys, 0, sizeof(*keys));
	snprintf(keys->card, sizeof(keys->card), "%s", LOOP_CARD_DEFAULT);
	keys->cfg.card = keys->card;
	keys->cfg.mode = LOOP_PERM_DEFAULT;
	keys->cfg.gid = -1;
}

int loop_conf_long(snd_config_t *n, const char *who, const char *key, long min, long max,
		   long *out)
{
	const char *str;
	long v;

	if (snd_config_get_integer(n, &v) < 0) {
		char *end;

		if (snd_config_get_string(n, &str) < 0) {
			SNDERR("%s: key '%s' must be an integer", who, key);
			return -EINVAL;
		}
		errno = 0;
		v = strtol(str, &end, 0);
		if (errno || !*str || *end) {
			SNDERR("%s: key '%s': '%s' is not an integer", who, key, str);
			return -EINVAL;
		}
	}
	if (v < min || v > max) {
		SNDERR("%s: key '%s': %ld is out of range %ld..%ld", who, key, v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int conf_card(snd_config_t *n, const char *who, struct loop_seg_keys *keys)
{
	char *ascii;
	bool ok;

	/* A card key may look like a number ("0"): take any scalar. */
	if (snd_config_get_ascii(n, &ascii) < 0) {
		SNDERR("%s: key 'card' must be a string", who);
		return -EINVAL;
	}
	ok = shm_card_valid(ascii);
	if (ok)
		snprintf(keys->card, sizeof(keys->card), "%s", ascii);
	else
		SNDERR("%s: key 'card': '%s' must be 1-%u characters of A-Z a-z 0-9 _ -", who,
		       ascii, LOOP_CARD_MAX - 1);
	free(ascii);
	return ok ? 0 : -EINVAL;
}

static int conf_group(snd_config_t *n, const char *who, long *gid)
{
	const char *name;
	struct group *gr;
	char *end;

	if (snd_config_get_integer(n, gid) == 0) {
		if (*gid < 0 || *gid > 0x7fffffff) {
			SNDERR("%s: key 'group': %ld is not a group id", who, *gid);
			return -EINVAL;
		}
		return 0;
	}
	if (snd_config_get_string(n, &name) < 0) {
		SNDERR("%s: key 'group' must be a group name or id", who);
		return -EINVAL;
	}
	gr = getgrnam(name);
	if (gr) {
		*gid = (long)gr->gr_gid;
		return 0;
	}
	*gid = strtol(name, &end, 10);
	if (!*name || *end || *gid < 0) {
		SNDERR("%s: key 'group': no group named '%s'", who, name);
		return -EINVAL;
	}
	return 0;
}

int loop_conf_seg_key(snd_config_t *n, const char *who, const char *id,
		      struct loop_seg_keys *keys)
{
	const char *str;
	long v;

	if (!strcmp(id, "card")) {
		if (conf_card(n, who, keys) < 0)
			return -EINVAL;
	} else if (!strcmp(id, "dir")) {
		if (snd_config_get_string(n, &str) < 0) {
			SNDERR("%s: key 'dir' must be a string", who);
			return -EINVAL;
		}
		if (str[0] != '/' || strlen(str) >= sizeof(keys->dir)) {
			SNDERR("%s: key 'dir': '%s' must be an absolute path (shorter than %zu)",
			       who, str, sizeof(keys->dir));
			return -EINVAL;
		}
		snprintf(keys->dir, sizeof(keys->dir), "%s", str);
		keys->cfg.dir = keys->dir;
	} else if (!strcmp(id, "perm")) {
		struct shm_share sh = { .mode = 0, .gid = -1 };
		char why[256];

		if (loop_conf_long(n, who, id, 0, 0777, &v) < 0)
			return -EINVAL;
		sh.mode = (unsigned int)v;
		if (shm_share_check(&sh, why, sizeof(why)) < 0) {
			SNDERR("%s: key 'perm': %s", who, why);
			return -EINVAL;
		}
		keys->cfg.mode = (unsigned int)v;
	} else if (!strcmp(id, "group")) {
		if (conf_group(n, who, &keys->cfg.gid) < 0)
			return -EINVAL;
	} else {
		return 0;
	}
	return 1;
}

const char *loop_seg_advice(enum shm_fault fault)
{
	switch (fault) {
	case SHM_FAULT_PERM_SEG:
		return ": its owner must share it: the same 'perm' and 'group' keys on every end";
	case SHM_FAULT_PERM_DIR:
		return ": check the directory's permissions or set the 'dir' key";
	case SHM_FAULT_NO_DIR:
		return " (key 'dir')";
	case SHM_FAULT_NOT_OURS:
		return "; remove it or choose another 'card' key";
	case SHM_FAULT_FOREIGN:
		return "; choose another 'card' key or 'dir', or ask its owner to share the cable "
		       "(keys 'perm' and 'group' on every end, in a 'dir' both can reach)";
	case SHM_FAULT_NO_SPACE:
		return "; give the filesystem more room (docker run --shm-size=...) or put the "
		       "segments elsewhere with the 'dir' key";
	default:
		return "";
	}
}
