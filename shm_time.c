// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_time.c - the clock grid and the playback timelines: seqlocked
 * snapshots of the segment's copies, and the timeline arithmetic.
 *
 * Seqlocks.  The one writer makes the sequence odd, stores, makes it even;
 * a reader retries while it sees an odd or changed sequence, at most
 * LOOP_SEQ_RETRIES times: a peer that holds a sequence odd costs us its
 * grid (we keep the last good one) or its timeline (we hear silence),
 * never a hang.
 */
#include "shm_internal.h"

#include <errno.h>
#include <time.h>

uint64_t shm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- seqlocks ------------------------------------------------------------ */

static inline uint32_t seq_begin_write(_Atomic uint32_t *seq)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed) | 1u;

	atomic_store_explicit(seq, s, memory_order_relaxed);
	/* Readers that see our field stores must see the odd sequence first. */
	atomic_thread_fence(memory_order_release);
	return s;
}

static inline void seq_end_write(_Atomic uint32_t *seq, uint32_t s)
{
	atomic_store_explicit(seq, s + 1, memory_order_release);
}

int shm_grid_load(struct shm_cable *c, struct shm_grid *g)
{
	for (int i = 0; i < LOOP_SEQ_RETRIES; i++) {
		uint32_t s1 = atomic_load_explicit(&c->grid_seq, memory_order_acquire);
		uint64_t base_ns = atomic_load_explicit(&c->grid_base_ns, memory_order_relaxed);
		uint64_t base_tick = atomic_load_explicit(&c->grid_base_tick,
							  memory_order_relaxed);
		uint32_t shift = atomic_load_explicit(&c->rate_shift, memory_order_relaxed);

		atomic_thread_fence(memory_order_acquire);
		if ((s1 & 1u) || s1 != atomic_load_explicit(&c->grid_seq, memory_order_relaxed))
			continue;
		g->base_ns = base_ns;
		g->base_tick = base_tick;
		g->shift = shm_shift_clamp(shift);
		return 0;
	}
	return -EAGAIN;
}

static void grid_store(struct shm_cable *c, uint64_t base_ns, uint64_t base_tick,
		       uint32_t shift)
{
	uint32_t s = seq_begin_write(&c->grid_seq);

	atomic_store_explicit(&c->grid_base_ns, base_ns, memory_order_relaxed);
	atomic_store_explicit(&c->grid_base_tick, base_tick, memory_order_relaxed);
	atomic_store_explicit(&c->rate_shift, shift, memory_order_relaxed);
	seq_end_write(&c->grid_seq, s);
}

void shm_grid_set_shift(struct shm_cable *c, uint32_t rate, uint32_t shift, uint64_t now_ns)
{
	struct shm_grid g = { .rate = rate, .shift = LOOP_SHIFT_NOMINAL };

	shift = shm_shift_clamp(shift);
	shm_grid_load(c, &g);
	/* Rebase at now so the tick count is continuous across the change. */
	grid_store(c, now_ns, shm_grid_tick(&g, now_ns), shift);
}

void shm_grid_reset(struct shm_cable *c, uint64_t now_ns)
{
	uint32_t shift = atomic_load_explicit(&c->rate_shift, memory_order_relaxed);

	if (shift < LOOP_SHIFT_MIN || shift > LOOP_SHIFT_MAX)
		shift = LOOP_SHIFT_NOMINAL;
	grid_store(c, now_ns, 0, shift);
}

int shm_timeline_load(struct shm_slot *c, struct shm_timeline *tl)
{
	for (int i = 0; i < LOOP_SEQ_RETRIES; i++) {
		uint32_t s1 = atomic_load_explicit(&c->tl_seq, memory_order_acquire);

		tl->count = atomic_load_explicit(&c->tl_count, memory_order_relaxed);
		for (unsigned int k = 0; k < SHM_TL_SPANS; k++) {
			tl->span[k].begin_tick = atomic_load_explicit(&c->tl[k].begin_tick,
								     memory_order_relaxed);
			tl->span[k].end_tick = atomic_load_explicit(&c->tl[k].end_tick,
								   memory_order_relaxed);
			tl->span[k].begin_pos = atomic_load_explicit(&c->tl[k].begin_pos,
								    memory_order_relaxed);
		}
		atomic_thread_fence(memory_order_acquire);
		if (!(s1 & 1u) && s1 == atomic_load_explicit(&c->tl_seq, memory_order_relaxed))
			return 0;
	}
	tl->count = 0;	/* unreadable: hear silence */
	return -EAGAIN;
}

void shm_timeline_store(struct shm_slot *c, const struct shm_timeline *tl)
{
	uint32_t s = seq_begin_write(&c->tl_seq);

	atomic_store_explicit(&c->tl_count, tl->count, memory_order_relaxed);
	for (unsigned int k = 0; k < SHM_TL_SPANS; k++) {
		atomic_store_explicit(&c->tl[k].begin_tick, tl->span[k].begin_tick,
				      memory_order_relaxed);
		atomic_store_explicit(&c->tl[k].end_tick, tl->span[k].end_tick,
				      memory_order_relaxed);
		atomic_store_explicit(&c->tl[k].begin_pos, tl->span[k].begin_pos,
				      memory_order_relaxed);
	}
	seq_end_write(&c->tl_seq, s);
}

void shm_timeline_open(struct shm_timeline *tl, uint64_t tick, uint64_t pos)
{
	unsigned int k = (unsigned int)(tl->count % SHM_TL_SPANS);

	tl->span[k].begin_tick = tick;
	tl->span[k].end_tick = SHM_TICK_NEVER;
	tl->span[k].begin_pos = pos;
	tl->count++;
}

void shm_timeline_close(struct shm_timeline *tl, uint64_t tick)
{
	unsigned int k;

	if (!tl->count)
		return;
	k = (unsigned int)((tl->count - 1) % SHM_TL_SPANS);
	if (tl->span[k].end_tick != SHM_TICK_NEVER)
		return;
	tl->span[k].end_tick = tick < tl->span[k].begin_tick ? tl->span[k].begin_tick : tick;
}

/* The spans actually present, newest first: at most SHM_TL_SPANS. */
static unsigned int tl_live(const struct shm_timeline *tl)
{
	return tl->count < SHM_TL_SPANS ? (unsigned int)tl->count : SHM_TL_SPANS;
}

#define TL_SPAN(tl, i) ((tl)->span[((tl)->count - 1 - (i)) % SHM_TL_SPANS])

bool shm_timeline_pos(const struct shm_timeline *tl, uint64_t tick, uint64_t *pos, uint64_t *run)
{
	uint64_t next_begin = SHM_TICK_NEVER;

	for (unsigned int i = 0; i < tl_live(tl); i++) {
		uint64_t b = TL_SPAN(tl, i).begin_tick, e = TL_SPAN(tl, i).end_tick;

		if (tick >= b && tick < e) {
			*pos = TL_SPAN(tl, i).begin_pos + (tick - b);
			*run = e - tick;
			return true;
		}
		if (b > tick && b < next_begin)
			next_begin = b;
	}
	/* Silence until the next span; >= 1 even at the end of time. */
	*run = next_begin > tick ? next_begin - tick : 1;
	return false;
}

bool shm_timeline_tick(const struct shm_timeline *tl, uint64_t pos, uint64_t *tick, uint64_t *run)
{
	uint64_t next_begin = UINT64_MAX;

	for (unsigned int i = 0; i < tl_live(tl); i++) {
		uint64_t b = TL_SPAN(tl, i).begin_pos;
		uint64_t len = TL_SPAN(tl, i).end_tick - TL_SPAN(tl, i).begin_tick;
		uint64_t e = len > UINT64_MAX - b ? UINT64_MAX : b + len;

		if (pos >= b && pos < e) {
			*tick = TL_SPAN(tl, i).begin_tick + (pos - b);
			*run = e - pos;
			return true;
		}
		if (b > pos && b < next_begin)
			next_begin = b;
	}
	*run = next_begin > pos ? next_begin - pos : 1;
	return false;
}
