/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_seg.h - the segment file: its name, opening (creating, validating,
 * reserving its pages, mapping) and closing, and the mapped parts.
 *
 * One file per (card key, subdevice): dir (NULL: the user's private
 * directory, shm_file.h) "/alsa-loopback-<card>.<N>"; its bytes are
 * shm_layout.h.
 */
#ifndef SHM_SEG_H
#define SHM_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm_file.h"
#include "shm_layout.h"
#include "shm_ring.h"

/* How to find and create a segment. */
struct shm_seg_config {
	const char *dir;	/* NULL: the user's private directory (shm_file.h) */
	const char *card;	/* [A-Za-z0-9_-]{1,31} */
	unsigned int subdevice;	/* 0..LOOP_SUBDEVICE_MAX */
	unsigned int mode;	/* permissions of a new segment, e.g. 0600 */
	long gid;		/* group of a new segment, -1 to leave it */
};

/* An open, validated, mapped segment. */
struct shm_seg {
	int fd;
	struct shm_header *hdr;
	size_t map_bytes;
	enum shm_fault fault;	/* why the last open failed */
	struct shm_dir dir;	/* where it lives; every name is looked up there */
	struct shm_share share;	/* who else may have made its files ('perm', 'group') */
	char name[64];		/* SHM_SEG_PREFIX "<card>.<N>" in dir */
	char path[512];		/* dir/name, for messages */
};

/* The segment's file name in its directory: "alsa-loopback-<card>.<N>". */
int shm_seg_name(char *buf, size_t len, const char *card, unsigned int subdevice);
/* Its path: dir (NULL: the user's private directory) "/" name. */
int shm_seg_path(char *buf, size_t len, const char *dir, const char *card,
		 unsigned int subdevice);
bool shm_card_valid(const char *card);

/*
 * Open (creating if needed) and validate a segment.  On error returns a
 * negative errno, sets seg->fault and writes into why[] a sentence that
 * says what was wrong (the caller adds what to do about it).
 */
int shm_seg_open(struct shm_seg *seg, const struct shm_seg_config *cfg,
		 char *why, size_t why_len);
/*
 * Open an existing segment without creating it (the ctl plugin, tools):
 * -ENOENT, with nothing in why[], when there is none.
 */
int shm_seg_attach(struct shm_seg *seg, const struct shm_seg_config *cfg, char *why,
		   size_t why_len);
/* Validate a header image of map_bytes; 0 or -EPROTO with why[]. */
int shm_header_check(const void *map, size_t map_bytes, char *why, size_t why_len);
void shm_seg_close(struct shm_seg *seg);

/*
 * Round `round` (from 0) of a loop that lost a race for a segment or a
 * doorbell (replaced or removed under us): true to go round again, at once
 * for the first LOOP_OPEN_TRIES rounds, then after LOOP_OPEN_RETRY_NS;
 * false once LOOP_OPEN_PATIENCE rounds are spent.
 */
bool shm_retry_again(unsigned int round);

/*
 * Is our open still the file at the segment's name?  The last opener to
 * leave and "alsa-loopback gc" unlink segments with no end held; check
 * after claiming an end.
 */
bool shm_seg_linked(struct shm_seg *seg);

static inline struct shm_cable *shm_seg_cable(struct shm_seg *seg, unsigned int cable)
{
	return &seg->hdr->cable[cable % SHM_CABLES];
}

static inline struct shm_slot *shm_seg_slot(struct shm_seg *seg, unsigned int cable,
					    unsigned int slot)
{
	return &shm_seg_cable(seg, cable)->play[slot % SHM_SLOTS];
}

/*
 * The ring of a cable's playback slot (slot 0 unless the end is shared),
 * at the size the cable's lock gave it, clamped: 0 bytes, no ring, until a
 * parameter lock sized it.
 */
struct shm_ring shm_seg_ring(struct shm_seg *seg, unsigned int cable, unsigned int slot,
			     bool shared);
/*
 * Under the admin lock.  Reserve the pages of a slot's ring (bytes from its
 * start) before its playback writes there, so a full filesystem fails the
 * hw_params with -ENOSPC (why[] says how much is free), never raises
 * SIGBUS in a mapping.  A filesystem without fallocate reserves nothing.
 */
int shm_seg_reserve_ring(struct shm_seg *seg, unsigned int cable, unsigned int slot,
			 uint32_t bytes, char *why, size_t why_len);
/*
 * Under the admin lock, with nobody attached to the cable: give its rings'
 * pages back (the file keeps its size; holes read as zeros).
 */
void shm_seg_release_rings(struct shm_seg *seg, unsigned int cable);

#endif /* SHM_SEG_H */
