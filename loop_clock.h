/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop_clock.h - where one end of a cable is, at a time the caller gives.
 *
 * The position arithmetic of an end, with no ALSA and no clock of its own:
 * every function that depends on time takes "now" (ns or ticks) as a
 * parameter, so the rules below are unit-tested exactly, without sleeping
 * (tests/test-clock.c).  The PCM plugin maps its ioplug states and params
 * onto struct lc_end and calls these.
 *
 * Positions.  hw counts frames since prepare (the kernel's hw_ptr, 64-bit,
 * never wrapped here).  A playback adds base to turn them into ring
 * positions, which keep growing across prepares so that a lagging capture
 * never mistakes a new stream's frames for an old one's.  The end's own
 * timeline says which ticks of the cable's grid its hw ran on.
 */
#ifndef LOOP_CLOCK_H
#define LOOP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "shm_time.h"

/* What the position logic needs to know of an end's state. */
enum lc_state {
	LC_IDLE,	/* open, setup, xrun, disconnected: frozen, poll reports it */
	LC_PREPARED,
	LC_RUNNING,
	LC_PAUSED,
	LC_DRAINING,
};

/* A grid-waiting capture shows hw at a multiple of avail_min this long (lc_advance). */
#define LC_GRID_SLACK_US	64u

/* lc_wake(): no deadline, or "ready now". */
#define LC_WAKE_NEVER	0
#define LC_WAKE_NOW	1	/* 1 ns after boot: an absolute time always past */

struct lc_end {
	/* Set by the owner from hw_params/sw_params and the open mode. */
	bool playback;
	bool blocking;			/* the open mode (snd_pcm_nonblock() may change it) */
	bool rw_access;			/* readi/writei, not mmap_begin/commit */
	uint64_t buffer_frames, avail_min, stop_threshold, boundary;

	/* The cable's clock grid as we last accepted it (lc_tick). */
	struct shm_grid grid;
	uint64_t last_tick;		/* latest tick seen on an accepted grid */
	bool grid_fresh;		/* accept the next grid as it is */

	/* The stream. */
	struct shm_timeline tl;		/* our own (published by a playback) */
	uint64_t base;			/* playback: ring position of hw 0 */
	uint64_t hw;			/* hardware position */
	uint64_t shown;			/* what the client was shown of hw */
	bool hold;			/* capture: the next update shows nothing new */
};

/* hw_params: the grid may restart under the lock; accept the next one afresh. */
void lc_grid_fresh(struct lc_end *e, uint32_t rate, uint64_t now_ns);
/*
 * Now on the cable's grid, from shared (the segment's copy, NULL if it was
 * unreadable).  Refuses a copy that could only come from a hostile peer and
 * goes on counting on the last good one.
 */
uint64_t lc_tick(struct lc_end *e, const struct shm_grid *shared, uint64_t now_ns);

/* Our hardware position at tick: frozen outside timeline spans. */
uint64_t lc_hw_at(const struct lc_end *e, uint64_t tick);
/* The tick at which hw is (or was) reached; false outside an open span. */
bool lc_tick_of(const struct lc_end *e, uint64_t hw, uint64_t *tick);

/* Stream transitions, each at the tick it happens. */
void lc_prepare(struct lc_end *e, uint64_t tick, uint64_t base);
void lc_start(struct lc_end *e, uint64_t tick);		/* also resume */
void lc_stop(struct lc_end *e, uint64_t tick);		/* also pause, close */
/* Stop where hw is and show all of it (a capture whose lock was taken). */
void lc_freeze(struct lc_end *e);

/*
 * Move hw to tick with the client at appl.  The kernel's xrun rule: avail
 * reaching stop_threshold (playback ran dry, capture was not read) is an
 * xrun; a draining playback stops where its data ends.  Either way the
 * timeline is closed at that exact tick, so a capture hears silence from
 * there on and never a frame written too late.  Returns -EPIPE on an xrun,
 * 1 when the timeline was closed otherwise (drained), 0 when it was not.
 * hw never moves backwards, whatever a hostile peer did to the grid.
 */
int lc_advance(struct lc_end *e, enum lc_state st, uint64_t appl, uint64_t tick);

/*
 * snd_pcm_reset(): ioplug zeroes the client's appl and hw with no callback;
 * our position `at` (what the client was shown: appl = hw, as the kernel
 * resets) becomes 0.  A capture has nothing left to read, a playback an
 * empty buffer; the stream goes on where it is.
 */
void lc_reset(struct lc_end *e, uint64_t at);

/* avail as the kernel defines it, from what the client was shown. */
int64_t lc_avail(const struct lc_end *e, uint64_t appl);
/* Is the stream ready for its client (poll reports it)? */
bool lc_ready(const struct lc_end *e, enum lc_state st, uint64_t appl);
/* A capture transfer took the frames up to appl. */
void lc_took(struct lc_end *e, enum lc_state st, uint64_t appl);
/* When the client next needs waking: LC_WAKE_NEVER, LC_WAKE_NOW or ns. */
uint64_t lc_wake(const struct lc_end *e, enum lc_state st, uint64_t appl);

#endif /* LOOP_CLOCK_H */
