/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_internal.h - what the shared layer's files (shm_*.c) share with
 * each other and nobody else.  Never included outside the layer.
 */
#ifndef SHM_INTERNAL_H
#define SHM_INTERNAL_H

#include <stdatomic.h>

#include "shm_cable.h"
#include "shm_flow.h"
#include "shm_layout.h"
#include "shm_place.h"
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"

/* The rate shift becomes a divisor: never trust it (shm_time.c, shm_cable.c). */
static inline uint32_t shm_shift_clamp(uint32_t shift)
{
	return shift < LOOP_SHIFT_MIN ? LOOP_SHIFT_MIN : shift > LOOP_SHIFT_MAX ? LOOP_SHIFT_MAX :
	       shift;
}

/* ---- shm_place.c, for shm_cable.c ----------------------------------------- */

/*
 * Under the admin lock.  Take the end's byte (write-locked alone,
 * read-locked shared), then a free slot of our own (always 0 alone):
 * pl->slot.  Returns 0, -EBUSY (*busy says why, or stays 0 if the end's
 * byte was taken under us) or the lock's error.
 */
int shm_place_claim(struct shm_seg *seg, struct shm_place *pl, enum shm_busy *busy);
void shm_place_release(struct shm_seg *seg, const struct shm_place *pl);
/* Is the place's slot held by another open (a live opener)? */
bool shm_place_held(struct shm_seg *seg, const struct shm_place *pl);
/* Is the end held by shared openers (read-locked)? */
bool shm_place_end_shared(struct shm_seg *seg, unsigned int cable, unsigned int role);
/* Under the admin lock: is anybody but us attached to the cable? */
bool shm_place_alone(struct shm_seg *seg, const struct shm_place *pl);

/* ---- shm_flow.c, for shm_cable.c ------------------------------------------ */

/* Under the admin lock, as the grid restarts: read from what comes next, no end of stream. */
void shm_flow_restart(struct shm_cable *c);
/* Under the admin lock, with the segment: remove its doorbells (none is fine). */
void shm_flow_remove_bells(struct shm_seg *seg);

#endif /* SHM_INTERNAL_H */
