// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-flow.c - the lossless clock's rules of loop_flow.[ch], with an
 * injected clock and injected peers: every "now", every position of the
 * other end and whether it lives is a number chosen here, nothing sleeps.
 *
 * Covered: positions following the other end (clamped, never backwards,
 * far past 2^32), over-rewind, prepare and reset, readiness and the tail
 * of a done stream, the end of the stream, a peer's death (seen, or known
 * only by what it moved), the spin/cool/listen decisions at their exact
 * boundaries, the watchdog, and a whole stream of two ends in lockstep.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "loop_flow.h"
#include "loop_limits.h"
#include "check.h"

#define BUF	4800u
#define MIN	480u
#define T0	(UINT64_C(5) * 1000000000u)	/* "now" at the start: 5 s after boot */
#define FAR	(UINT64_C(3) << 33)		/* a ring position past 2^32 frames */

static void end_init(struct lc_end *e, bool playback, uint64_t base)
{
	memset(e, 0, sizeof(*e));
	e->playback = playback;
	e->blocking = true;
	e->buffer_frames = BUF;
	e->avail_min = MIN;
	e->stop_threshold = BUF;
	e->boundary = (uint64_t)BUF << 40;
	lc_prepare(e, 0, base);
}

static void test_update_playback(void)
{
	struct lc_end e;

	end_init(&e, true, FAR);
	lf_update(&e, 1000, FAR - 5);
	CHECK(e.hw == 0 && e.shown == 0, "read_pos behind our base: nothing taken: %" PRIu64,
	      e.hw);
	lf_update(&e, 1000, FAR + 600);
	CHECK(e.hw == 600 && e.shown == 600, "hw is what the capture took: %" PRIu64, e.hw);
	lf_update(&e, 1000, FAR + 5000);
	CHECK(e.hw == 1000, "never past appl, whatever read_pos says: %" PRIu64, e.hw);
	lf_update(&e, 2000, FAR + 700);
	CHECK(e.hw == 1000 && e.shown == 1000, "never backwards: %" PRIu64, e.hw);
	CHECK(lc_avail(&e, 2000) == (int64_t)BUF - 1000, "room: %" PRId64, lc_avail(&e, 2000));
}

static void test_update_capture(void)
{
	struct lc_end e;

	end_init(&e, false, 0);
	CHECK(lf_prepare(&e, FAR, FAR + 100) == false, "unread frames: done stays");
	CHECK(e.base == FAR && e.hw == 0, "a capture starts at read_pos");
	lf_update(&e, 0, FAR + 100);
	CHECK(e.hw == 100 && e.shown == 100, "hw is what the playback wrote: %" PRIu64, e.hw);
	lf_update(&e, 0, FAR + BUF + 1);
	CHECK(e.hw == BUF, "at most a buffer ahead of appl: %" PRIu64, e.hw);
	lf_update(&e, 300, FAR + BUF + 1);
	CHECK(e.hw == BUF + 1, "the rest comes as the client reads: %" PRIu64, e.hw);
	lf_update(&e, 300, 7);
	CHECK(e.hw == BUF + 1 && e.shown == BUF + 1, "a hostile written: never backwards");
	CHECK(lc_avail(&e, 300) == (int64_t)BUF + 1 - 300, "avail: %" PRId64, lc_avail(&e, 300));
}

static void test_overrewind(void)
{
	struct lc_end e, c;

	end_init(&e, true, FAR);
	CHECK(lf_taken(&e, FAR - 1) == 0, "nothing taken below base");
	CHECK(lf_taken(&e, FAR + 960) == 960, "taken since prepare");
	CHECK(!lf_overrewound(&e, 960, FAR + 960), "rewound to what was taken: allowed");
	CHECK(lf_overrewound(&e, 959, FAR + 960), "one frame past what was taken: refused");
	CHECK(!lf_overrewound(&e, 0, FAR - 1), "nothing taken: any rewind allowed");
	end_init(&c, false, 0);
	lf_prepare(&c, FAR, FAR);
	CHECK(!lf_overrewound(&c, 0, FAR + 960), "a capture never over-rewinds");
}

static void test_prepare(void)
{
	struct lc_end e;

	end_init(&e, true, 1234);
	CHECK(lf_prepare(&e, 99999, 5) == true, "a playback starts a stream: done cleared");
	CHECK(e.base == 1234, "a playback's base is its own (lc_prepare)");

	end_init(&e, false, 0);
	CHECK(lf_prepare(&e, 500, 500) == true, "all read: the ended stream is over");
	CHECK(e.base == 500, "capture base: %" PRIu64, e.base);
	CHECK(lf_prepare(&e, 400, 500) == false, "100 frames left: the tail is still read");
	CHECK(e.base == 400, "nothing lost: the oldest frame nobody took");
}

static void test_reset(void)
{
	struct lc_end e;

	/* A playback wrote 2000, the capture took 800 (hw saw 600 so far). */
	end_init(&e, true, FAR);
	lf_update(&e, 2000, FAR + 600);
	lf_reset(&e, FAR + 800);
	CHECK(e.base == FAR + 800 && e.hw == 0 && e.shown == 0,
	      "playback: from what was taken: base %" PRIu64 " hw %" PRIu64, e.base, e.hw);
	CHECK(lc_avail(&e, 0) == BUF, "an empty buffer: %" PRId64, lc_avail(&e, 0));

	/* read_pos that lags hw (a hostile or stale segment): from hw. */
	end_init(&e, true, 0);
	lf_update(&e, 2000, 900);
	lf_reset(&e, 100);
	CHECK(e.base == 900 && e.hw == 0, "never behind hw: base %" PRIu64, e.base);

	/* A capture gives its backlog up: from what it was shown. */
	end_init(&e, false, 0);
	lf_prepare(&e, FAR, FAR + 3000);
	lf_update(&e, 1000, FAR + 3000);
	lf_reset(&e, 0);
	CHECK(e.base == FAR + 3000 && e.hw == 0, "capture: base %" PRIu64, e.base);
	CHECK(lc_avail(&e, 0) == 0, "nothing left to read");
}

static void test_ready(void)
{
	struct lc_end p, c;

	end_init(&p, true, 0);
	/* Playback: room of at least avail_min. */
	CHECK(lf_ready(&p, LC_PREPARED, 0, false), "empty prepared playback: room");
	CHECK(lf_ready(&p, LC_RUNNING, BUF - MIN, false), "exactly avail_min of room");
	CHECK(!lf_ready(&p, LC_RUNNING, BUF - MIN + 1, false), "one frame short");
	CHECK(!lf_ready(&p, LC_PAUSED, BUF, true), "done does not help a playback");
	CHECK(!lf_ready(&p, LC_DRAINING, 10, false), "draining: waits for the capture");
	lf_update(&p, 10, 10);
	CHECK(lf_ready(&p, LC_DRAINING, 10, false), "drained: all taken");
	CHECK(lf_ready(&p, LC_IDLE, BUF, false), "setup, xrun, disconnected: ready");

	end_init(&c, false, 0);
	lf_prepare(&c, 0, 0);
	lf_update(&c, 0, MIN - 1);
	CHECK(!lf_ready(&c, LC_RUNNING, 0, false), "capture short of avail_min waits");
	CHECK(lf_ready(&c, LC_RUNNING, 0, true), "the tail of a done stream: ready");
	CHECK(lf_ready(&c, LC_PREPARED, 0, true), "also before start");
	CHECK(!lf_ready(&c, LC_RUNNING, MIN - 1, true), "done, all read: not ready (the end)");
	lf_update(&c, 0, MIN);
	CHECK(lf_ready(&c, LC_RUNNING, 0, false), "capture at avail_min");
	CHECK(lf_ready(&c, LC_DRAINING, MIN, false), "a draining capture is always ready");
}

static void test_end_of_stream(void)
{
	struct lc_end p, c;

	end_init(&p, true, 0);
	CHECK(lf_says_done(&p, LC_DRAINING, false), "a draining playback says done");
	CHECK(!lf_says_done(&p, LC_DRAINING, true), "once");
	CHECK(!lf_says_done(&p, LC_RUNNING, false), "not while running");
	CHECK(!lf_peer_ended(&p, true), "done is the playback's own word");

	end_init(&c, false, 0);
	lf_prepare(&c, 0, 0);
	CHECK(!lf_says_done(&c, LC_DRAINING, false), "a capture never says done");
	lf_update(&c, 100, 300);
	CHECK(!lf_read_to_end(&c, LC_RUNNING, 100, true), "200 frames left: not the end");
	CHECK(!lf_read_to_end(&c, LC_RUNNING, 300, false), "all read, not done: waits");
	CHECK(lf_read_to_end(&c, LC_RUNNING, 300, true), "all read and done: the end");
	CHECK(!lf_read_to_end(&c, LC_PREPARED, 300, true), "only a running capture ends");
	CHECK(!lf_read_to_end(&p, LC_RUNNING, 0, true), "a playback never reads to an end");

	/* The other end gone: a playback is over at once, a capture after its tail. */
	CHECK(lf_over(&p, 0), "playback without reader: over");
	CHECK(!lf_over(&c, 100), "capture with 200 frames left: reads on");
	CHECK(lf_over(&c, 300), "capture with nothing left: over");
}

static void test_peer_death(void)
{
	struct lf_end f;
	struct lc_end e;

	/* Never there: a playback waits for a capture, however long. */
	end_init(&e, true, 0);
	lf_init(&f, 2);
	CHECK(!lf_peer_died(&f, &e, false), "never seen: not dead, still to come");
	CHECK(!lf_peer_died(&f, &e, false), "still not");
	CHECK(!lf_peer_died(&f, &e, true), "alive");
	CHECK(lf_peer_died(&f, &e, false), "seen alive, now gone: died");

	/* Seen at start only (it died while we were busy). */
	lf_init(&f, 2);
	lf_start(&f, false);
	CHECK(!lf_peer_died(&f, &e, false), "absent at start: still to come");
	lf_start(&f, true);
	CHECK(lf_peer_died(&f, &e, false), "alive at start, gone now: died");

	/* Never seen alive, but it moved our stream: it was there. */
	lf_init(&f, 2);
	lf_update(&e, 10, 1);
	CHECK(lf_peer_died(&f, &e, false), "it took a frame: it was there");
	CHECK(f.saw_peer, "and that is remembered");
}

static void test_cool(void)
{
	struct lf_end f;

	lf_init(&f, 2);
	CHECK(f.spin_hot && f.spin_cpus, "two CPUs: start hot");
	CHECK(lf_cool(&f, true, T0) == LF_COOL_READY && !f.unready_ns, "ready");
	CHECK(lf_cool(&f, false, T0) == LF_COOL_HOT && f.unready_ns == T0, "hot: not ready since");
	CHECK(lf_cool(&f, false, T0 + LOOP_FLOW_SPIN_NS) == LF_COOL_HOT,
	      "hot for exactly LOOP_FLOW_SPIN_NS");
	CHECK(lf_cool(&f, true, T0 + 10) == LF_COOL_READY && !f.unready_ns,
	      "ready again: the spell restarts");
	CHECK(lf_cool(&f, false, T0 + 20) == LF_COOL_HOT && f.unready_ns == T0 + 20,
	      "a new spell from now");
	CHECK(lf_cool(&f, false, T0 + 21 + LOOP_FLOW_SPIN_NS) == LF_COOL_LISTEN,
	      "1 ns past the spell: listen");
	CHECK(!f.spin_hot && !f.unready_ns, "and cold");
	CHECK(lf_cool(&f, false, T0 + 30) == LF_COOL_LISTEN, "cold: listen at once");

	lf_init(&f, 1);
	CHECK(!f.spin_hot && !f.spin_cpus, "one CPU: never spin");
	CHECK(lf_cool(&f, false, T0) == LF_COOL_LISTEN, "one CPU: listen at once");
}

static void test_listen_and_woke(void)
{
	struct lf_end f;

	lf_init(&f, 2);
	f.spin_hot = false;
	lf_listen(&f, T0);
	lf_listen(&f, T0 + 1000);
	CHECK(f.slept_ns == T0, "the wait is timed from its first listen");
	lf_woke(&f, T0 + LOOP_FLOW_HOT_NS - 1);
	CHECK(f.spin_hot && !f.slept_ns, "answered within LOOP_FLOW_HOT_NS: hot");
	lf_listen(&f, T0);
	lf_woke(&f, T0 + LOOP_FLOW_HOT_NS);
	CHECK(!f.spin_hot, "exactly LOOP_FLOW_HOT_NS: a slow peer, cold");
	lf_woke(&f, T0 + 5);
	CHECK(!f.spin_hot, "no wait, no verdict: stays cold");
	f.spin_hot = true;
	f.unready_ns = T0;
	lf_woke(&f, T0 + 5);
	CHECK(f.spin_hot && !f.unready_ns, "no wait: stays hot, the spell ends");

	lf_init(&f, 1);
	lf_listen(&f, T0);
	lf_woke(&f, T0 + 1);
	CHECK(!f.spin_hot, "one CPU: never hot, however quick");
}

static void test_spin(void)
{
	struct lf_end f;

	lf_init(&f, 2);
	CHECK(lf_spin_on(&f, T0, T0), "spins at its start");
	CHECK(lf_spin_on(&f, T0, T0 + LOOP_FLOW_SPIN_NS - 1), "spins to its last ns");
	CHECK(f.spin_hot, "still hot");
	CHECK(!lf_spin_on(&f, T0, T0 + LOOP_FLOW_SPIN_NS), "a spin in vain ends");
	CHECK(!f.spin_hot, "and ends the hot spell");
}

static void test_wake(void)
{
	struct lf_end f;
	const uint64_t wd = LOOP_FLOW_WATCHDOG_NS;

	lf_init(&f, 2);
	CHECK(lf_wake(&f, false, LC_WAKE_NEVER, T0) == LC_WAKE_NOW, "hot: poll returns at once");
	f.spin_hot = false;
	CHECK(lf_wake(&f, true, T0 + wd, T0) == LC_WAKE_NOW, "ready: now");
	CHECK(lf_wake(&f, false, LC_WAKE_NEVER, T0) == T0 + wd, "off: the watchdog");
	CHECK(lf_wake(&f, false, LC_WAKE_NOW, T0) == T0 + wd, "was now: the watchdog");
	CHECK(lf_wake(&f, false, T0 - 1, T0) == T0 + wd, "fired: the next watchdog");
	CHECK(lf_wake(&f, false, T0 + wd / 2, T0) == T0 + wd, "due within half: pushed ahead");
	CHECK(lf_wake(&f, false, T0 + wd / 2 + 1, T0) == T0 + wd / 2 + 1,
	      "further: left alone (no settime per period)");
	CHECK(lf_wake(&f, false, T0 + wd, T0 + 1) == T0 + wd, "a moving stream keeps it");
}

/*
 * Two ends in lockstep, as the plugin drives them: the playback writes a
 * buffer, the capture reads periods; the playback drains a tail shorter
 * than a period and says done; the capture reads the tail and ends.
 */
static void test_whole_stream(void)
{
	struct lc_end p, c;
	uint64_t written = FAR, read_pos = FAR, papp = 0, capp = 0;
	bool done = false;

	end_init(&p, true, FAR);
	end_init(&c, false, 0);
	CHECK(lf_prepare(&p, read_pos, written), "playback clears done");
	CHECK(lf_prepare(&c, read_pos, written), "capture: nothing left of before");
	for (int round = 0; round < 3; round++) {
		while (lf_ready(&p, LC_RUNNING, papp, done) && papp - (p.hw) < BUF) {
			papp += MIN;		/* a period written */
			written = FAR + papp;
			lf_update(&p, papp, read_pos);
		}
		CHECK(papp - p.hw == BUF, "round %d: the buffer filled", round);
		lf_update(&c, capp, written);
		while (lf_ready(&c, LC_RUNNING, capp, done)) {
			capp += MIN;		/* a period read */
			read_pos = c.base + capp;
			lf_update(&c, capp, written);
		}
		CHECK(capp == papp, "round %d: every frame read: %" PRIu64 "/%" PRIu64, round,
		      capp, papp);
		lf_update(&p, papp, read_pos);
		CHECK(p.hw == papp, "round %d: the playback sees them taken", round);
	}
	/* A tail of 100 frames, then drain. */
	papp += 100;
	written += 100;
	lf_update(&p, papp, read_pos);
	CHECK(lf_says_done(&p, LC_DRAINING, done), "draining: say done");
	done = true;
	CHECK(!lf_ready(&p, LC_DRAINING, papp, done), "the playback waits for its tail");
	lf_update(&c, capp, written);
	CHECK(lf_ready(&c, LC_RUNNING, capp, done), "the capture takes a short tail");
	capp += 100;
	read_pos = c.base + capp;
	lf_update(&c, capp, written);
	CHECK(lf_read_to_end(&c, LC_RUNNING, capp, done), "then the stream is over");
	lf_update(&p, papp, read_pos);
	CHECK(lf_ready(&p, LC_DRAINING, papp, done), "and the playback drained");
	CHECK(read_pos - FAR == 3 * BUF + 100, "nothing lost: %" PRIu64, read_pos - FAR);
	CHECK(lf_prepare(&c, read_pos, written), "a new prepare: the old stream is over");
}

int main(void)
{
	test_update_playback();
	test_update_capture();
	test_overrewind();
	test_prepare();
	test_reset();
	test_ready();
	test_end_of_stream();
	test_peer_death();
	test_cool();
	test_listen_and_woke();
	test_spin();
	test_wake();
	test_whole_stream();
	return check_finish();
}
