/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_flow.h - the lossless clock's shared state: where the capture
 * reads, end of stream, and the doorbells.
 */
#ifndef SHM_FLOW_H
#define SHM_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm_seg.h"

/*
 * A lossless cable has no clock: the playback waits for room, the capture
 * for frames.  Each end sleeps on a doorbell, a FIFO next to the segment
 * ("<segment>.c<cable>.<role>"), that the other end rings after it moved
 * (an eventcount: sleepers say so first, so no wake-up is lost and nobody
 * rings in vain).
 */
uint64_t shm_flow_read_pos(struct shm_seg *seg, unsigned int cable);
/* The capture took everything below pos. */
void shm_flow_set_read_pos(struct shm_seg *seg, unsigned int cable, uint64_t pos);
/* The playback drained and closed (done) or starts a stream (!done). */
void shm_flow_set_done(struct shm_seg *seg, unsigned int cable, bool done);
bool shm_flow_done(struct shm_seg *seg, unsigned int cable);
/* The doorbell of (cable, role) of segment seg_name: "<seg_name>.c<cable>.play|cap". */
void shm_bell_name(char *buf, size_t len, const char *seg_name, unsigned int cable,
		   unsigned int role);
/*
 * Open the doorbell of (cable, role) beside the segment, creating it (as
 * the segment: its perm and group) if needed; a non-blocking, close-on-
 * exec descriptor, or a negative errno with why[].
 */
int shm_bell_open(struct shm_seg *seg, unsigned int cable, unsigned int role, char *why,
		  size_t why_len);
/* Empty our own doorbell. */
void shm_bell_drain(int bell_fd);
/* Before sleeping: say so.  Then check again; cancel if no longer needed. */
void shm_flow_sleep(struct shm_seg *seg, unsigned int cable, unsigned int role, bool sleep);
/* Still said to sleep: the other end has not rung since (it clears the flag). */
bool shm_flow_sleeping(struct shm_seg *seg, unsigned int cable, unsigned int role);
/* After moving: ring the other end's doorbell if it sleeps. */
void shm_flow_wake(struct shm_seg *seg, unsigned int cable, unsigned int role, int bell_fd);

#endif /* SHM_FLOW_H */
