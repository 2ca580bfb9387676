// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_hear.c - what a cable's capture hears (see shm_hear.h).
 */
#include "shm_hear.h"

#include "shm_cable.h"
#include "shm_place.h"

unsigned int shm_writers_load(struct shm_seg *seg, unsigned int cable,
			      struct shm_writer w[SHM_SLOTS])
{
	bool shared = shm_cable_play_shared(seg, cable);
	unsigned int n = 0;

	for (unsigned int k = 0; k < (shared ? SHM_SLOTS : 1u); k++) {
		struct shm_writer *wr = &w[n];

		wr->ring = shm_seg_ring(seg, cable, k, shared);
		/* Unreadable or never used: nothing to hear. */
		if (shm_timeline_load(wr->ring.slot, &wr->tl) < 0 || !wr->tl.count)
			continue;
		/*
		 * Gone with its stream still open: killed, not closed.  (One that
		 * closed its timeline is heard to its end: we may lag behind.)
		 */
		if (shared &&
		    wr->tl.span[(wr->tl.count - 1) % SHM_TL_SPANS].end_tick == SHM_TICK_NEVER &&
		    !shm_slot_alive(seg, cable, k))
			continue;
		wr->written = shm_ring_written(&wr->ring);
		n++;
	}
	return n;
}

unsigned int shm_writers_at(struct shm_writer *w, unsigned int n, uint32_t frame_bytes,
			    uint64_t tick, uint64_t *frames, struct shm_writer **heard)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct shm_writer *wr = &w[i];
		uint64_t run, ring_frames = shm_ring_frames(&wr->ring, frame_bytes);
		bool on = shm_timeline_pos(&wr->tl, tick, &wr->q, &run);

		/*
		 * Never written (underrun), or no ring to hold it (none sized
		 * yet, or a size scribbled to nothing): silence.  Either way run
		 * stays >= 1 and the caller moves on.
		 */
		if (on && (wr->q >= wr->written || !ring_frames))
			on = false;
		if (on) {
			/* Written so far, and no more than the ring holds. */
			if (run > wr->written - wr->q)
				run = wr->written - wr->q;
			if (run > ring_frames)
				run = ring_frames;
			heard[k++] = wr;
		}
		if (run < *frames)
			*frames = run;
	}
	return k;
}

uint64_t shm_writer_overwritten(const struct shm_writer *w, uint32_t frame_bytes,
				uint64_t frames)
{
	uint64_t intact = shm_ring_intact_from(&w->ring, frame_bytes);

	if (w->q >= intact)
		return 0;
	return intact - w->q < frames ? intact - w->q : frames;
}

void shm_writers_mix(struct shm_writer **heard, unsigned int n, uint32_t frame_bytes,
		     unsigned int channels, const struct mix_format *f, union mix_acc *acc,
		     uint8_t *buf, uint32_t frames)
{
	size_t samples = (size_t)frames * channels;

	mix_clear(acc, samples, f);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t lost;

		shm_ring_read(&heard[i]->ring, frame_bytes, heard[i]->q, buf, frames);
		lost = shm_writer_overwritten(heard[i], frame_bytes, frames);	/* adds nothing */
		mix_add(acc + lost * channels, buf + lost * frame_bytes, samples - lost * channels,
			f);
	}
	mix_store(buf, acc, samples, f);
}
