/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_seg.h - the segment file: its name, opening (creating, validating,
 * reserving its pages, mapping) and closing, and the mapped parts.
 *
 * One file per (card key, subdevice): dir (NULL: SHM_DEFAULT_DIR)
 * "/alsa-loopback-<card>.<N>"; its bytes are shm_layout.h.
 */
#ifndef SHM_SEG_H
#define SHM_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm_layout.h"
#include "shm_ring.h"

/* How to find and create a segment. */
struct shm_seg_config {
	const char *dir;	/* NULL: POSIX shm_open() (/dev/shm) */
	const char *card;	/* [A-Za-z0-9_-]{1,31} */
	unsigned int subdevice;	/* 0..LOOP_SUBDEVICE_MAX */
	unsigned int mode;	/* permissions of a new segment, e.g. 0600 */
	long gid;		/* group of a new segment, -1 to leave it */
};

/*
 * What kind of trouble an open met, so that each program can say what to
 * do about it in its own terms (the plugins name their config keys).
 */
enum shm_fault {
	SHM_FAULT_NONE,
	SHM_FAULT_OTHER,
	SHM_FAULT_NAME,		/* card key or subdevice out of range */
	SHM_FAULT_PERM_SEG,	/* the segment exists and is not ours to open */
	SHM_FAULT_PERM_DIR,	/* we may not create it in the directory */
	SHM_FAULT_NO_DIR,	/* the configured directory does not exist */
	SHM_FAULT_NOT_OURS,	/* something else sits at the name: kept as is */
	SHM_FAULT_NO_SPACE,	/* the filesystem cannot hold the segment */
};

/* An open, validated, mapped segment. */
struct shm_seg {
	int fd;
	struct shm_header *hdr;
	size_t map_bytes;
	enum shm_fault fault;	/* why the last open failed */
	char path[512];		/* for messages */
};

/* The segment's file: dir (NULL: SHM_DEFAULT_DIR) "/alsa-loopback-<card>.<N>". */
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
/* Open an existing segment read-write without creating it (tools). */
int shm_seg_attach_path(struct shm_seg *seg, const char *path, char *why, size_t why_len);
/* Validate a header image of map_bytes; 0 or -EPROTO with why[]. */
int shm_header_check(const void *map, size_t map_bytes, char *why, size_t why_len);
void shm_seg_close(struct shm_seg *seg);

/*
 * Is our open still the file at the segment's name?  "alsa-loopback gc"
 * unlinks segments with no end held; check after claiming an end.
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

/* The ring of a cable's playback slot: the whole ring, or the slot's part of a shared end. */
static inline struct shm_ring shm_seg_ring(struct shm_seg *seg, unsigned int cable,
					   unsigned int slot, bool shared)
{
	uint8_t *base = (uint8_t *)seg->hdr + SHM_HEADER_BYTES +
			(size_t)(cable % SHM_CABLES) * SHM_RING_BYTES;

	slot %= SHM_SLOTS;
	if (!shared)
		return (struct shm_ring){ base, SHM_RING_BYTES, shm_seg_slot(seg, cable, 0) };
	return (struct shm_ring){ base + (size_t)slot * SHM_SLOT_RING_BYTES, SHM_SLOT_RING_BYTES,
				  shm_seg_slot(seg, cable, slot) };
}

#endif /* SHM_SEG_H */
