/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_time.h - the clock grid and the playback timelines: when each end
 * is, and where the playback's stream was at which tick.
 *
 * Trust.  The segment is shared with a process we do not control.  Every
 * value read from it is treated as a hint: ring offsets are always reduced
 * modulo the *local* ring size, seqlock readers give up after a bounded
 * number of retries, and the grid's rate shift is clamped before it is used
 * as a divisor.  A peer that scribbles on the segment can corrupt the audio
 * we hear, never our memory.
 *
 * Clock.  Both ends of a cable count time on one grid of "ticks": tick(t) =
 * base_tick + (t - base_ns) * rate * 100000 / (shift * 1e9) on
 * CLOCK_MONOTONIC.  A frame is played (or captured) during its tick, so
 * the two ends agree to the frame on what was heard when, with no message
 * passed between them.  The rate shift (snd-aloop's "PCM Rate Shift
 * 100000") rebases the grid at "now", so positions never jump.
 *
 * Timeline.  The playback end publishes where its stream position was at
 * which tick as up to SHM_TL_SPANS spans [begin_tick, end_tick) with the
 * ring position at begin_tick.  A pause, a stop or an xrun closes a
 * span; start and resume open one.  The capture maps each of its ticks
 * through the timeline to a ring position, or hears silence.
 */
#ifndef SHM_TIME_H
#define SHM_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "shm_layout.h"

/* ---- clock grid ---------------------------------------------------------- */

struct shm_grid {
	uint64_t base_ns;
	uint64_t base_tick;
	uint32_t rate;		/* local: the locked rate */
	uint32_t shift;		/* 80000..120000 */
};

uint64_t shm_now_ns(void);
static inline uint64_t shm_grid_tick(const struct shm_grid *g, uint64_t ns)
{
	unsigned __int128 num;

	if (ns <= g->base_ns || !g->rate)
		return g->base_tick;
	/* 128 bits: ns since base (up to ~2^63) times rate*1e5 (up to ~2^37). */
	num = (unsigned __int128)(ns - g->base_ns) * g->rate * LOOP_SHIFT_NOMINAL;
	return g->base_tick + (uint64_t)(num / ((unsigned __int128)g->shift * 1000000000u));
}

/* The first ns at which shm_grid_tick() reaches tick. */
static inline uint64_t shm_grid_ns(const struct shm_grid *g, uint64_t tick)
{
	unsigned __int128 num, den;

	if (tick <= g->base_tick || !g->rate)
		return g->base_ns;
	num = (unsigned __int128)(tick - g->base_tick) * g->shift * 1000000000u;
	den = (unsigned __int128)g->rate * LOOP_SHIFT_NOMINAL;
	num = (num + den - 1) / den;	/* ceil: never wake a tick early */
	if (num > UINT64_MAX - g->base_ns)
		return UINT64_MAX;
	return g->base_ns + (uint64_t)num;
}

/* Read the cable's grid; keeps *g and returns -EAGAIN if it is unreadable. */
int shm_grid_load(struct shm_cable *c, struct shm_grid *g);
/*
 * Under the admin lock (shm_controls_set_shift, shm_cable_lock use them;
 * tests and fuzzers call them directly).  Rebase the grid at now_ns, then
 * switch to shift; restart the grid at now_ns.
 */
void shm_grid_set_shift(struct shm_cable *c, uint32_t rate, uint32_t shift, uint64_t now_ns);
void shm_grid_reset(struct shm_cable *c, uint64_t now_ns);

/* ---- timeline ------------------------------------------------------------ */

/* One span of a private timeline: ticks [begin_tick, end_tick) from begin_pos. */
struct shm_tl_span {
	uint64_t begin_tick, end_tick, begin_pos;
};

/* A private snapshot of a timeline. */
struct shm_timeline {
	uint64_t count;		/* spans ever opened; the last SHM_TL_SPANS are kept */
	struct shm_tl_span span[SHM_TL_SPANS];
};

int shm_timeline_load(struct shm_slot *slot, struct shm_timeline *tl);
void shm_timeline_store(struct shm_slot *slot, const struct shm_timeline *tl);
void shm_timeline_open(struct shm_timeline *tl, uint64_t tick, uint64_t pos);
void shm_timeline_close(struct shm_timeline *tl, uint64_t tick);

/*
 * Where is tick?  Returns true and the position if some span covers it;
 * either way *run is how many ticks from tick the answer stays the same
 * kind (>= 1, so callers always make progress).
 */
bool shm_timeline_pos(const struct shm_timeline *tl, uint64_t tick, uint64_t *pos,
		      uint64_t *run);
/* The inverse, for positions: the tick at which pos was (or will be) reached. */
bool shm_timeline_tick(const struct shm_timeline *tl, uint64_t pos, uint64_t *tick,
		       uint64_t *run);

#endif /* SHM_TIME_H */
