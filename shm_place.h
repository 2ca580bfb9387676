/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_place.h - who holds what: the admin lock and the places (end and
 * slot) of the openers, as OFD locks on bytes of the segment file
 * (SHM_LOCK_*, shm_layout.h).  The kernel drops a dead opener's locks, so
 * these answers never trust a pid in the segment.
 */
#ifndef SHM_PLACE_H
#define SHM_PLACE_H

#include <stdbool.h>

#include "shm_seg.h"

/*
 * Where one opener sits.  An end is one direction of one cable
 * (snd-aloop's device/subdevice/direction); an exclusive end has one
 * opener, a shared end up to SHM_SLOTS, each in a slot of its own.
 */
struct shm_place {
	unsigned int cable, role;
	unsigned int slot;	/* 0..SHM_SLOTS-1; 0 for an exclusive end */
	bool shared;
};

/* Why a place could not be taken (shm_end_attach's -EBUSY). */
enum shm_busy {
	SHM_BUSY_EXCLUSIVE = 1,	/* an exclusive opener holds the end */
	SHM_BUSY_SHARED,	/* shared openers hold it; we asked for it alone */
	SHM_BUSY_FULL,		/* all SHM_SLOTS places of the shared end are taken */
};

/*
 * Short cross-process lock for attach/lock/detach, control writes and gc;
 * never on the data path.  Returns 0, or -EAGAIN after ~2 s of a busy lock
 * (LOOP_ADMIN_RETRIES), or another negative errno.
 */
int shm_seg_admin_lock(struct shm_seg *seg);
void shm_seg_admin_unlock(struct shm_seg *seg);

/* Is the end held by another open of the segment (any process, either kind)? */
bool shm_seg_end_held(struct shm_seg *seg, unsigned int cable, unsigned int role);
/* Is the other end of the cable attached (by a live process)? */
bool shm_end_peer_alive(struct shm_seg *seg, unsigned int cable, unsigned int role);
/* Is playback slot k of the cable held by a live process (not us)? */
bool shm_slot_alive(struct shm_seg *seg, unsigned int cable, unsigned int slot);

#endif /* SHM_PLACE_H */
