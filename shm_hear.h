/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_hear.h - what a cable's capture hears at a tick, read passively.
 *
 * At each tick of the grid every playback of the cable (one, or up to
 * SHM_SLOTS on a shared end) may have a frame: its timeline maps the tick
 * to a ring position, which holds the frame if it was written and not yet
 * overwritten.  The capture end (pcm_loop.c) and the tool's tap and level
 * meter (tool/alsa-loopback.c) both hear a cable through these functions;
 * they only read the segment, so any number of readers can listen without
 * an end of their own and without the writer knowing.
 *
 *	n = shm_writers_load(seg, cable, w);		once per transfer
 *	k = shm_writers_at(w, n, fb, tick, &frames, heard);
 *	k == 0: silence; k == 1: shm_ring_read(&heard[0]->ring, ...) then
 *	silence over the first shm_writer_overwritten() frames; k > 1:
 *	shm_writers_mix().
 */
#ifndef SHM_HEAR_H
#define SHM_HEAR_H

#include <stdint.h>

#include "loop_mix.h"
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"

/* One playback of the cable, as snapshot by shm_writers_load(). */
struct shm_writer {
	struct shm_ring ring;
	struct shm_timeline tl;
	uint64_t written;	/* its write_end at the snapshot */
	uint64_t q;		/* shm_writers_at(): ring position at the tick */
};

/*
 * Snapshot every playback of the cable that can be heard into w[] and
 * return how many: an exclusive end has one, in slot 0, owning the whole
 * ring; a shared end up to SHM_SLOTS, each with its part.  A shared
 * playback that died mid-stream is not heard: its slot's lock went with
 * it, whatever its timeline still says.
 */
unsigned int shm_writers_load(struct shm_seg *seg, unsigned int cable,
			      struct shm_writer w[SHM_SLOTS]);
/*
 * Which of the n writers are heard at tick, and for how many ticks that
 * stays so: *frames is lowered to that run (>= 1 if it was).  Sets each
 * heard writer's q, points heard[] at them and returns how many.
 */
unsigned int shm_writers_at(struct shm_writer *w, unsigned int n, uint32_t frame_bytes,
			    uint64_t tick, uint64_t *frames, struct shm_writer **heard);
/*
 * After copying frames from w->q: how many of the first ones were
 * overwritten while we copied (hear them as silence).
 */
uint64_t shm_writer_overwritten(const struct shm_writer *w, uint32_t frame_bytes,
				uint64_t frames);
/*
 * The sum of n heard writers' frames (at most what acc and buf hold) into
 * buf, interleaved, as loop_mix.h sums: frames overwritten as we copied
 * add nothing.
 */
void shm_writers_mix(struct shm_writer **heard, unsigned int n, uint32_t frame_bytes,
		     unsigned int channels, const struct mix_format *f, union mix_acc *acc,
		     uint8_t *buf, uint32_t frames);

#endif /* SHM_HEAR_H */
