// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * loop_clock.c - the position arithmetic of one end (see loop_clock.h).
 */
#include "loop_clock.h"

#include <errno.h>
#include <string.h>

void lc_grid_fresh(struct lc_end *e, uint32_t rate, uint64_t now_ns)
{
	e->grid = (struct shm_grid){ .rate = rate, .shift = LOOP_SHIFT_NOMINAL, .base_ns = now_ns };
	e->last_tick = 0;
	e->grid_fresh = true;
}

/*
 * While we are configured, the only legitimate change of the shared grid is
 * a rate-shift rebase, which keeps the tick count continuous at its base.
 * A copy that jumps there, whose base lies in the future (time would stand
 * still: a hang) or that puts us behind a tick we already saw is refused.
 * The slack (20 ms of ticks) absorbs rounding at the rebase.
 */
uint64_t lc_tick(struct lc_end *e, const struct shm_grid *shared, uint64_t now_ns)
{
	uint64_t slack = e->grid.rate / 50 + 1;

	if (shared) {
		struct shm_grid g = *shared;

		g.rate = e->grid.rate;	/* ours: the locked rate */
		uint64_t tick = shm_grid_tick(&g, now_ns);
		/* Unchanged (the usual case): no need to divide to know. */
		bool same = g.base_ns == e->grid.base_ns && g.base_tick == e->grid.base_tick &&
			    g.shift == e->grid.shift;
		uint64_t ours = same ? g.base_tick : shm_grid_tick(&e->grid, g.base_ns);
		bool continuous = e->grid_fresh ||
				  (g.base_tick + slack >= ours && g.base_tick <= ours + slack);

		/* 2^62 ticks are 190000 years at 768 kHz: beyond, sums could wrap. */
		if (g.base_ns <= now_ns && g.base_tick < (UINT64_C(1) << 62) && continuous &&
		    tick + slack >= e->last_tick) {
			e->grid_fresh = false;
			e->grid = g;
			if (tick > e->last_tick)
				e->last_tick = tick;
			return tick;
		}
	}
	return shm_grid_tick(&e->grid, now_ns);
}

/* The latest span of our own timeline, or NULL. */
static const struct shm_tl_span *own_seg(const struct lc_end *e)
{
	if (!e->tl.count)
		return NULL;
	return &e->tl.span[(e->tl.count - 1) % SHM_TL_SPANS];
}

uint64_t lc_hw_at(const struct lc_end *e, uint64_t tick)
{
	const struct shm_tl_span *s = own_seg(e);
	uint64_t end;

	if (!s)
		return e->hw;
	end = tick < s->end_tick ? tick : s->end_tick;
	if (end < s->begin_tick)
		end = s->begin_tick;
	return s->begin_pos + (end - s->begin_tick) - e->base;
}

bool lc_tick_of(const struct lc_end *e, uint64_t hw, uint64_t *tick)
{
	const struct shm_tl_span *s = own_seg(e);

	if (!s || s->end_tick != SHM_TICK_NEVER || hw + e->base < s->begin_pos)
		return false;
	*tick = s->begin_tick + (hw + e->base - s->begin_pos);
	return true;
}

void lc_prepare(struct lc_end *e, uint64_t tick, uint64_t base)
{
	shm_timeline_close(&e->tl, tick);
	if (e->playback)
		e->base = base;		/* the old spans stay: a capture may lag */
	else
		memset(&e->tl, 0, sizeof(e->tl));
	e->hw = e->shown = 0;
	e->hold = false;
}

void lc_start(struct lc_end *e, uint64_t tick)
{
	/* From the frozen position: no catch-up jump after a pause. */
	shm_timeline_open(&e->tl, tick, e->base + e->hw);
}

void lc_stop(struct lc_end *e, uint64_t tick)
{
	/* After a drain or an xrun the span is already closed where it ended. */
	shm_timeline_close(&e->tl, tick);
}

void lc_freeze(struct lc_end *e)
{
	uint64_t tick;

	if (lc_tick_of(e, e->hw, &tick))
		shm_timeline_close(&e->tl, tick);
	e->hold = false;
	if (e->hw > e->shown)
		e->shown = e->hw;
}

/*
 * A capture read through readi() or a blocking call waits on the avail_min
 * grid, the way the kernel's read loop and period-interrupt hardware make
 * it wait.  alsa-lib 1.2.8's snd_pcm_read_areas() takes the L frames that
 * are there, then polls for avail_min *new* frames, where the kernel waits
 * for min(left, avail_min): a blocking readi() of one period per call
 * would return L frames late every time, and the backlog ratchets until
 * the playback it feeds underruns.  A non-blocking readi() loop that waits
 * with snd_pcm_wait() after a short read does the same.  So, for those:
 *  - it is ready as soon as hw reaches the next multiple of avail_min,
 *    even if less than avail_min is there (what the kernel gives the rest
 *    of a read), so each read returns on the grid and lateness never adds
 *    up;
 *  - once a transfer took everything shown, the next position update
 *    shows no more than the last multiple of avail_min reached (the
 *    "hold"): nothing new right after the read, so the read loop polls
 *    instead of chasing a few frames per pass (a slowed process, strace
 *    or valgrind, would otherwise never poll, and re-arm its timer on
 *    every pass), and the grid point when that update is the wake-up's;
 *  - for LC_GRID_SLACK_US after each multiple of avail_min, an update
 *    shows hw at that multiple, as period-interrupt hardware would: the
 *    wake-up comes a frame or two late, and a read woken there would take
 *    its period and then, on the next call, those few frames on their own
 *    (one more pass through alsa-lib's read loop and our callbacks, about
 *    a sixth of the capture's CPU per period).
 * Every other update is frame-exact: snd_pcm_avail() tells the truth but
 * for those few frames.  Non-blocking mmap clients (PulseAudio, PipeWire)
 * pace themselves on the exact position and get the kernel's rules;
 * playback needs none of this (snd_pcm_write_areas() waits for avail_min
 * before a short write).
 */
static bool waits_on_grid(const struct lc_end *e, enum lc_state st)
{
	return !e->playback && (e->blocking || e->rw_access) && st == LC_RUNNING &&
	       e->avail_min;
}

/* The first multiple of avail_min after pos. */
static uint64_t next_grid(const struct lc_end *e, uint64_t pos)
{
	return (pos / e->avail_min + 1) * e->avail_min;
}

/* Update what the client is shown of hw: never backwards, never ahead. */
static void show_hw(struct lc_end *e, enum lc_state st)
{
	uint64_t show = e->hw;

	if (e->hold) {
		/*
		 * Took everything shown: show no more than the last multiple of
		 * avail_min reached.  Looked at again at once, that is nothing
		 * new; looked at first when the wake-up came (a read that asked
		 * no more after its transfer, then polled), it is the grid point
		 * the client was woken for: ready, not an empty wake-up.
		 */
		e->hold = false;
		show = e->hw / e->avail_min * e->avail_min;
	} else if (waits_on_grid(e, st)) {
		uint64_t grid = e->hw / e->avail_min * e->avail_min;

		if (e->hw - grid <= (uint64_t)e->grid.rate * LC_GRID_SLACK_US / 1000000u)
			show = grid;
	}
	if (show > e->shown)
		e->shown = show;
}

int lc_advance(struct lc_end *e, enum lc_state st, uint64_t appl, uint64_t tick)
{
	uint64_t hw = lc_hw_at(e, tick), end_tick;
	int64_t limit = INT64_MAX;
	int ret = 0;

	if (hw < e->hw)
		hw = e->hw;
	if (e->playback && st == LC_DRAINING)
		limit = (int64_t)appl;
	else if (e->stop_threshold < e->boundary)
		limit = e->playback ? (int64_t)appl + (int64_t)e->stop_threshold -
				      (int64_t)e->buffer_frames
				    : (int64_t)appl + (int64_t)e->stop_threshold;
	/*
	 * A buffer left exactly at the limit with hw not moving is no xrun
	 * yet: the kernel checks when hw moves on.  snd_pcm_reset() of a
	 * running playback leaves it so (appl = hw, avail = buffer).
	 */
	if (limit == (int64_t)e->hw && hw == e->hw && st != LC_DRAINING) {
		show_hw(e, st);
		return 0;
	}
	if (limit < (int64_t)e->hw)
		limit = (int64_t)e->hw;
	if ((int64_t)hw >= limit) {
		hw = (uint64_t)limit;
		if (lc_tick_of(e, hw, &end_tick)) {
			shm_timeline_close(&e->tl, end_tick);
			ret = 1;
		}
		if (st != LC_DRAINING)
			ret = -EPIPE;
	}
	e->hw = hw;
	show_hw(e, st);
	return ret;
}

void lc_reset(struct lc_end *e, uint64_t at)
{
	/* Ring positions and timeline stay; only where the client counts from moves. */
	e->base += at;
	e->hw = e->hw > at ? e->hw - at : 0;
	e->shown = e->shown > at ? e->shown - at : 0;
	e->hold = false;
}

int64_t lc_avail(const struct lc_end *e, uint64_t appl)
{
	if (e->playback)
		return (int64_t)(e->shown + e->buffer_frames) - (int64_t)appl;
	return (int64_t)e->shown - (int64_t)appl;
}

/* How much avail makes the stream ready for a client at appl. */
static uint64_t ready_frames(const struct lc_end *e, enum lc_state st, uint64_t appl)
{
	uint64_t to_grid;

	if (!waits_on_grid(e, st))
		return e->avail_min;
	to_grid = next_grid(e, appl) - appl;
	return to_grid < e->avail_min ? to_grid : e->avail_min;
}

bool lc_ready(const struct lc_end *e, enum lc_state st, uint64_t appl)
{
	return lc_avail(e, appl) >= (int64_t)ready_frames(e, st, appl);
}

void lc_took(struct lc_end *e, enum lc_state st, uint64_t appl)
{
	/* Took everything shown: the next update holds (show_hw). */
	e->hold = waits_on_grid(e, st) && appl >= e->shown;
}

/*
 * Now if the stream is ready (or in a state poll must report), else the
 * tick at which avail reaches what makes it ready (draining: the buffer
 * empties), else never.
 */
uint64_t lc_wake(const struct lc_end *e, enum lc_state st, uint64_t appl)
{
	uint64_t target, tick, ns;

	switch (st) {
	case LC_PREPARED:
	case LC_RUNNING:
	case LC_PAUSED:
		if (lc_ready(e, st, appl))
			return LC_WAKE_NOW;
		if (st != LC_RUNNING)
			return LC_WAKE_NEVER;
		target = e->playback ? appl + e->avail_min - e->buffer_frames
				     : appl + ready_frames(e, st, appl);
		break;
	case LC_DRAINING:
		if (!e->playback || e->hw >= appl)
			return LC_WAKE_NOW;
		target = appl;
		break;
	default:
		return LC_WAKE_NOW;
	}
	if (!lc_tick_of(e, target, &tick))
		return LC_WAKE_NOW;
	ns = shm_grid_ns(&e->grid, tick);
	/* A base of 0 ns (a hostile grid) must not read as "never": a hang. */
	return ns > LC_WAKE_NOW ? ns : LC_WAKE_NOW;
}
