// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-clock.c - the position arithmetic of loop_clock.[ch], with an
 * injected clock: every "now" is a number chosen here, nothing sleeps.
 *
 * Covered: grid acceptance against hostile rebases, rate shifts, xrun
 * ticks of both directions, drain, pause, the readi() capture's grid wait
 * and one-shot hold (also at the wake-up), late wake-ups, deadlines that
 * never fire early, snd_pcm_reset(), and positions far past 2^32.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "loop_clock.h"
#include "check.h"

#define RATE	48000u
#define NS	UINT64_C(1000000000)
#define T0	(UINT64_C(5) * NS)	/* the grid's base: 5 s after boot */

/* ns at which tick t of a nominal 48 kHz grid based at T0 starts. */
static uint64_t ns_of(uint64_t t)
{
	return T0 + (t * NS + RATE - 1) / RATE;
}

static void end_init(struct lc_end *e, bool playback, bool blocking)
{
	memset(e, 0, sizeof(*e));
	e->playback = playback;
	e->blocking = blocking;
	e->buffer_frames = 4800;
	e->avail_min = 480;
	e->stop_threshold = 4800;
	e->boundary = UINT64_C(4800) << 40;
	lc_grid_fresh(e, RATE, T0);
	struct shm_grid g = { .base_ns = T0, .base_tick = 0, .shift = LOOP_SHIFT_NOMINAL };

	CHECK(lc_tick(e, &g, T0) == 0, "fresh grid at its base");
}

static void test_grid_acceptance(void)
{
	struct lc_end e;
	struct shm_grid g = { .base_ns = T0, .base_tick = 0, .shift = LOOP_SHIFT_NOMINAL };
	uint64_t t;

	end_init(&e, true, true);
	CHECK(lc_tick(&e, &g, ns_of(48000)) == 48000, "1 s on the nominal grid");

	/* A rate-shift rebase at 1 s, continuous: accepted. */
	struct shm_grid shifted = { .base_ns = ns_of(48000), .base_tick = 48000,
				    .shift = 90000 };
	t = lc_tick(&e, &shifted, ns_of(48000) + NS);
	CHECK(t == 48000 + UINT64_C(48000) * 100000 / 90000, "shift 90000 runs 1.11x: %" PRIu64, t);

	/* Hostile copies are refused; the last good grid goes on counting. */
	struct shm_grid future = { .base_ns = ns_of(48000) + 100 * NS, .base_tick = 48000,
				   .shift = LOOP_SHIFT_NOMINAL };
	uint64_t now = ns_of(48000) + 2 * NS, want = lc_tick(&e, NULL, now);

	CHECK(lc_tick(&e, &future, now) == want, "future base refused");
	struct shm_grid jump = shifted;

	jump.base_tick += 100000;
	CHECK(lc_tick(&e, &jump, now) == want, "jumping base refused");
	struct shm_grid huge = { .base_ns = 1, .base_tick = UINT64_C(1) << 62, .shift = 100000 };

	CHECK(lc_tick(&e, &huge, now) == want, "base past 2^62 refused");
	struct shm_grid behind = { .base_ns = now, .base_tick = want - RATE, .shift = 100000 };

	CHECK(lc_tick(&e, &behind, now) == want, "grid behind a seen tick refused");
	CHECK(lc_tick(&e, NULL, now) == want, "unreadable grid: last good copy");
	CHECK(lc_tick(&e, &shifted, now) == want, "the good copy still accepted");
}

static void test_playback_xrun_tick(void)
{
	struct lc_end e;
	struct shm_grid g = { .base_ns = T0, .shift = LOOP_SHIFT_NOMINAL };
	uint64_t appl = 4800, tick;

	end_init(&e, true, true);
	lc_prepare(&e, 0, 1000);	/* ring positions continue at 1000 */
	lc_start(&e, 100);
	CHECK(lc_hw_at(&e, 100 + 4799) == 4799, "hw follows ticks");
	CHECK(lc_tick_of(&e, 4800, &tick) && tick == 4900, "tick of hw 4800: %" PRIu64, tick);
	CHECK(lc_advance(&e, LC_RUNNING, appl, 4899) == 0 && e.hw == 4799, "no xrun before");
	/* A late wake-up far past the xrun: hw stops at the buffer's end. */
	CHECK(lc_advance(&e, LC_RUNNING, appl, lc_tick(&e, &g, ns_of(9000))) == -EPIPE,
	      "underrun");
	CHECK(e.hw == 4800, "hw stops at the xrun: %" PRIu64, e.hw);
	CHECK(e.tl.span[0].end_tick == 4900, "timeline closed at the xrun tick: %" PRIu64,
	      e.tl.span[0].end_tick);
	CHECK(e.tl.span[0].begin_pos == 1000, "ring position of hw 0");
}

static void test_capture_xrun_and_never_stop(void)
{
	struct lc_end e;

	end_init(&e, false, false);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 10);
	CHECK(lc_advance(&e, LC_RUNNING, 0, 10 + 4799) == 0, "not full yet");
	CHECK(lc_advance(&e, LC_RUNNING, 0, 10 + 4800) == -EPIPE, "overrun at a full buffer");
	CHECK(e.hw == 4800, "hw at the overrun %" PRIu64, e.hw);

	/* stop_threshold >= boundary: never stops, and positions go on past 2^32. */
	end_init(&e, false, false);
	e.stop_threshold = e.boundary;
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	CHECK(lc_advance(&e, LC_RUNNING, 0, UINT64_C(1) << 40) == 0, "no xrun, ever");
	CHECK(e.hw == UINT64_C(1) << 40 && lc_avail(&e, 0) == (int64_t)1 << 40, "avail 2^40");
}

static void test_drain_and_pause(void)
{
	struct lc_end e;
	uint64_t tick;

	end_init(&e, true, true);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	CHECK(lc_advance(&e, LC_DRAINING, 3000, 5000) == 1, "drained");
	CHECK(e.hw == 3000 && e.tl.span[0].end_tick == 3000, "stops where the data ends");
	CHECK(lc_wake(&e, LC_DRAINING, 3000) == LC_WAKE_NOW, "drained: wake now");

	end_init(&e, true, true);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	lc_advance(&e, LC_RUNNING, 4800, 1000);
	lc_stop(&e, 1000);	/* pause */
	CHECK(lc_hw_at(&e, 90000) == 1000, "paused: frozen");
	CHECK(!lc_tick_of(&e, 1200, &tick), "no tick while paused");
	CHECK(lc_wake(&e, LC_PAUSED, 5800) == LC_WAKE_NEVER, "paused, full: no deadline");
	CHECK(lc_wake(&e, LC_PAUSED, 4800) == LC_WAKE_NOW, "paused with room: ready");
	lc_start(&e, 50000);	/* resume: no catch-up jump */
	CHECK(lc_hw_at(&e, 50010) == 1010, "resumed from the frozen position");
}

static void test_deadlines(void)
{
	struct lc_end e;
	struct shm_grid g = { .base_ns = T0, .shift = LOOP_SHIFT_NOMINAL };
	uint64_t ns;

	/* Playback: ready when avail reaches avail_min: hw = appl - buffer + avail_min. */
	end_init(&e, true, true);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	ns = lc_wake(&e, LC_RUNNING, 4800);
	CHECK(ns == ns_of(480), "playback deadline %" PRIu64 " want %" PRIu64, ns, ns_of(480));
	/* Never early: the tick at the deadline is the target, not one before. */
	CHECK(shm_grid_tick(&e.grid, ns) == 480 && shm_grid_tick(&e.grid, ns - 1) == 479,
	      "deadline exact");
	/* A late wake-up reads as ready at once. */
	lc_advance(&e, LC_RUNNING, 4800, lc_tick(&e, &g, ns_of(700)));
	CHECK(lc_ready(&e, LC_RUNNING, 4800) && lc_wake(&e, LC_RUNNING, 4800) == LC_WAKE_NOW,
	      "late: ready now");
	CHECK(lc_wake(&e, LC_IDLE, 0) == LC_WAKE_NOW, "xrun/setup: poll reports it");

	/* Under a rate shift the deadline moves with the grid. */
	struct shm_grid fast = { .base_ns = ns_of(700), .base_tick = 700, .shift = 80000 };

	lc_tick(&e, &fast, ns_of(700));
	ns = lc_wake(&e, LC_RUNNING, 4800 + 480);
	CHECK(shm_grid_tick(&e.grid, ns) == 960 && shm_grid_tick(&e.grid, ns - 1) == 959,
	      "shifted deadline exact");
}

/*
 * The full-duplex client that reads one period per blocking call: after a
 * read that takes everything shown, nothing new is shown before the next
 * multiple of avail_min, and it is ready there even with less than
 * avail_min new: the backlog never ratchets.
 */
static void test_blocking_capture_grid(void)
{
	struct lc_end e;
	uint64_t appl = 0, late = 37;

	end_init(&e, false, true);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	for (int period = 1; period <= 1000; period++) {
		uint64_t grid = (uint64_t)period * 480;

		/* The read call comes `late` ticks after the grid point before. */
		lc_advance(&e, LC_RUNNING, appl, grid - 480 + late);
		int64_t l = lc_avail(&e, appl);

		appl += (uint64_t)l;		/* alsa-lib takes the L frames there */
		lc_took(&e, LC_RUNNING, appl);
		/* ...looks again at once: the hold shows nothing new, so it polls. */
		lc_advance(&e, LC_RUNNING, appl, grid - 480 + late + 3);
		CHECK(lc_avail(&e, appl) == 0, "period %d: held after the read", period);
		if (appl < grid) {
			CHECK(!lc_ready(&e, LC_RUNNING, appl), "not ready before the grid");
			uint64_t ns = lc_wake(&e, LC_RUNNING, appl);

			CHECK(ns == ns_of(grid), "period %d: wake at the grid point", period);
			lc_advance(&e, LC_RUNNING, appl, grid + 2);	/* woken 2 late */
			CHECK(lc_ready(&e, LC_RUNNING, appl), "ready at the grid point");
			appl = grid;	/* the rest of the read */
		}
		if (lc_avail(&e, appl) > (int64_t)late + 2)
			break;
	}
	CHECK(appl == 1000 * 480, "1000 reads, backlog bounded (appl %" PRIu64 ")", appl);
	CHECK(lc_avail(&e, appl) <= 2, "backlog %" PRId64, lc_avail(&e, appl));

	/* Non-blocking mmap: the kernel's rule, frame-exact. */
	end_init(&e, false, false);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	lc_advance(&e, LC_RUNNING, 0, 100);
	lc_took(&e, LC_RUNNING, 100);
	lc_advance(&e, LC_RUNNING, 100, 150);
	CHECK(lc_avail(&e, 100) == 50, "non-blocking sees every frame");
	CHECK(lc_wake(&e, LC_RUNNING, 100) == ns_of(580), "non-blocking: appl + avail_min");

	/* Non-blocking readi(): on the grid, as blocking. */
	end_init(&e, false, false);
	e.rw_access = true;
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	lc_advance(&e, LC_RUNNING, 0, 100);
	lc_took(&e, LC_RUNNING, 100);
	lc_advance(&e, LC_RUNNING, 100, 150);
	CHECK(lc_avail(&e, 100) == 0, "held after a short non-blocking readi()");
	CHECK(lc_wake(&e, LC_RUNNING, 100) == ns_of(480), "non-blocking readi(): the grid");
	lc_advance(&e, LC_RUNNING, 100, 160);
	CHECK(lc_avail(&e, 100) == 60, "held once only: snd_pcm_avail() exact again");
}

/*
 * Woken a few frames after the grid point, a grid-waiting capture is shown
 * hw at the grid point (LC_GRID_SLACK_US), so the read takes one whole
 * period and the next call waits: one transfer per period.  Any later
 * update is frame-exact; a non-blocking mmap capture always is.
 */
static void test_grid_slack(void)
{
	struct lc_end e;
	uint64_t appl = 0, slack = (uint64_t)RATE * LC_GRID_SLACK_US / 1000000u;

	CHECK(slack == 3, "64 us at 48 kHz: 3 frames (%" PRIu64 ")", slack);
	end_init(&e, false, true);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	for (int period = 1; period <= 100; period++) {
		uint64_t grid = (uint64_t)period * 480;

		CHECK(lc_wake(&e, LC_RUNNING, appl) == ns_of(grid), "period %d: wake at the grid",
		      period);
		lc_advance(&e, LC_RUNNING, appl, grid + slack);	/* woken `slack` late */
		CHECK(lc_avail(&e, appl) == 480, "period %d: shown up to the grid point", period);
		appl = grid;
		lc_took(&e, LC_RUNNING, appl);
		lc_advance(&e, LC_RUNNING, appl, grid + slack);	/* the next read call */
		CHECK(lc_avail(&e, appl) == 0, "period %d: nothing left: the next read waits",
		      period);
	}
	lc_advance(&e, LC_RUNNING, appl, appl + slack + 1);
	CHECK(lc_avail(&e, appl) == (int64_t)slack + 1, "past the slack: frame-exact");
	lc_advance(&e, LC_RUNNING, appl, appl + 200);
	CHECK(lc_avail(&e, appl) == 200, "mid-period: frame-exact");

	end_init(&e, false, false);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	lc_advance(&e, LC_RUNNING, 0, 481);
	CHECK(lc_avail(&e, 0) == 481, "non-blocking mmap: frame-exact at the grid point too");
}

/*
 * A read that took everything shown and then polls: the first update comes
 * at the wake-up (the grid point), and it must show the grid point, not
 * "nothing new" (an empty wake-up, then a second poll, every period).
 */
static void test_hold_at_wakeup(void)
{
	struct lc_end e;
	uint64_t appl = 0;

	end_init(&e, false, false);
	e.rw_access = true;
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	for (int period = 1; period <= 100; period++) {
		uint64_t grid = (uint64_t)period * 480;

		lc_advance(&e, LC_RUNNING, appl, grid - 480 + 30);
		appl += (uint64_t)lc_avail(&e, appl);
		lc_took(&e, LC_RUNNING, appl);	/* took it all, asks nothing more */
		CHECK(lc_wake(&e, LC_RUNNING, appl) == ns_of(grid), "period %d: wake at the grid",
		      period);
		lc_advance(&e, LC_RUNNING, appl, grid + 1);	/* the wake-up's update */
		CHECK(lc_ready(&e, LC_RUNNING, appl), "period %d: the held update at the wake-up "
		      "is ready", period);
		appl = grid;
	}
	/* Looked at again at once, a hold still shows nothing new. */
	lc_took(&e, LC_RUNNING, appl);
	lc_advance(&e, LC_RUNNING, appl, appl + 40);
	CHECK(lc_avail(&e, appl) == 0, "held: nothing new before the grid");
}

/*
 * snd_pcm_reset(): the client's 0 moves to where we are; avail is zeroed
 * (capture) or the whole buffer (playback), the timeline is untouched, and
 * a buffer left empty is no xrun until hw moves on.
 */
static void test_reset(void)
{
	struct lc_end e;

	end_init(&e, true, true);
	lc_prepare(&e, 0, 1000);
	lc_start(&e, 0);
	CHECK(lc_advance(&e, LC_RUNNING, 4800, 3000) == 0, "running");
	lc_reset(&e, 3000);
	CHECK(e.base == 4000 && e.hw == 0 && e.shown == 0, "playback rebased: base %" PRIu64
	      " hw %" PRIu64, e.base, e.hw);
	CHECK(lc_avail(&e, 0) == 4800, "playback avail = buffer after reset");
	CHECK(lc_hw_at(&e, 3000) == 0 && lc_hw_at(&e, 3010) == 10,
	      "the timeline maps on, from the new 0");
	CHECK(lc_advance(&e, LC_RUNNING, 0, 3000) == 0 && lc_avail(&e, 0) == 4800,
	      "empty, hw not moving: no xrun yet");
	CHECK(lc_advance(&e, LC_RUNNING, 0, 3001) == -EPIPE, "empty, hw moves on: xrun");

	end_init(&e, false, true);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 0);
	lc_advance(&e, LC_RUNNING, 1000, 2500);
	lc_reset(&e, 2500);
	CHECK(lc_avail(&e, 0) == 0, "capture avail zeroed");
	lc_advance(&e, LC_RUNNING, 0, 2600);
	CHECK(lc_avail(&e, 0) == 100, "capture runs on: %" PRId64, lc_avail(&e, 0));
	CHECK(lc_tick_of(&e, 100, &(uint64_t){ 0 }), "the capture's timeline maps after reset");
}

static void test_never_backwards(void)
{
	struct lc_end e;

	end_init(&e, false, false);
	lc_prepare(&e, 0, 0);
	lc_start(&e, 1000);
	lc_advance(&e, LC_RUNNING, 0, 1500);
	/* A timeline that now maps our tick earlier (restart) must not move hw back. */
	lc_stop(&e, 1500);
	lc_start(&e, 9000);
	lc_advance(&e, LC_RUNNING, 0, 100);
	CHECK(e.hw == 500 && e.shown == 500, "hw never backwards: %" PRIu64, e.hw);
}

int main(void)
{
	test_grid_acceptance();
	test_playback_xrun_tick();
	test_capture_xrun_and_never_stop();
	test_drain_and_pause();
	test_deadlines();
	test_blocking_capture_grid();
	test_grid_slack();
	test_hold_at_wakeup();
	test_reset();
	test_never_backwards();
	return check_finish();
}
