// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * loop_flow.c - the lossless clock's rules for one end (see loop_flow.h).
 */
#include "loop_flow.h"

#include "loop_limits.h"

void lf_init(struct lf_end *f, unsigned int cpus)
{
	*f = (struct lf_end){ .spin_cpus = cpus > 1, .spin_hot = cpus > 1 };
}

void lf_update(struct lc_end *e, uint64_t appl, uint64_t peer)
{
	uint64_t hw = peer > e->base ? peer - e->base : 0;

	if (e->playback && hw > appl)
		hw = appl;
	else if (!e->playback && hw > appl + e->buffer_frames)
		hw = appl + e->buffer_frames;	/* the rest waits in the ring */
	if (hw > e->hw)		/* never backwards, whatever the segment says */
		e->hw = hw;
	e->shown = e->hw;
}

uint64_t lf_taken(const struct lc_end *e, uint64_t read_pos)
{
	return read_pos > e->base ? read_pos - e->base : 0;
}

bool lf_overrewound(const struct lc_end *e, uint64_t appl, uint64_t read_pos)
{
	return e->playback && appl < lf_taken(e, read_pos);
}

bool lf_prepare(struct lc_end *e, uint64_t read_pos, uint64_t written)
{
	if (e->playback)
		return true;
	e->base = read_pos;
	/* A stream that ended and was read to its end is over: wait for the next. */
	return read_pos == written;
}

void lf_reset(struct lc_end *e, uint64_t read_pos)
{
	uint64_t at = e->shown;

	if (e->playback) {
		at = lf_taken(e, read_pos);
		if (at < e->hw)
			at = e->hw;
	}
	lc_reset(e, at);
}

bool lf_peer_ended(const struct lc_end *e, bool done)
{
	return !e->playback && done;
}

bool lf_ready(const struct lc_end *e, enum lc_state st, uint64_t appl, bool done)
{
	int64_t avail = lc_avail(e, appl);

	switch (st) {
	case LC_PREPARED:
	case LC_RUNNING:
	case LC_PAUSED:
		return avail >= (int64_t)e->avail_min ||
		       (avail > 0 && lf_peer_ended(e, done));
	case LC_DRAINING:
		/* A draining playback waits until the capture took it all. */
		return !e->playback || e->hw >= appl;
	default:	/* setup, xrun, disconnected: poll reports it */
		return true;
	}
}

bool lf_peer_died(struct lf_end *f, const struct lc_end *e, bool alive)
{
	/* It moved our stream, so it was there, even if we never saw it alive. */
	if (e->hw > 0)
		f->saw_peer = true;
	if (alive) {
		f->saw_peer = true;
		return false;
	}
	return f->saw_peer;
}

void lf_start(struct lf_end *f, bool alive)
{
	if (alive)
		f->saw_peer = true;
}

bool lf_says_done(const struct lc_end *e, enum lc_state st, bool done)
{
	return e->playback && st == LC_DRAINING && !done;
}

bool lf_read_to_end(const struct lc_end *e, enum lc_state st, uint64_t appl, bool done)
{
	return st == LC_RUNNING && e->hw == appl && lf_peer_ended(e, done);
}

bool lf_over(const struct lc_end *e, uint64_t appl)
{
	return e->playback || lc_avail(e, appl) <= 0;
}

/*
 * Hot, the end stays readable (and the plugin's poll_revents spins) for
 * LOOP_FLOW_SPIN_NS, then goes cold.  Cold, it listens for the other end
 * and keeps its timer on the watchdog.  Then its fd is readable exactly
 * when there is something to do, also for a client that polls and never
 * asks poll_revents (it would otherwise find a stale doorbell, or an
 * expired timer, readable on every poll, and spin).
 */
enum lf_cool lf_cool(struct lf_end *f, bool ready, uint64_t now)
{
	if (ready) {
		f->unready_ns = 0;
		return LF_COOL_READY;
	}
	if (f->spin_hot) {
		if (!f->unready_ns)
			f->unready_ns = now;
		if (now - f->unready_ns <= LOOP_FLOW_SPIN_NS)
			return LF_COOL_HOT;
		f->spin_hot = false;
	}
	f->unready_ns = 0;
	return LF_COOL_LISTEN;
}

void lf_listen(struct lf_end *f, uint64_t now)
{
	if (!f->slept_ns)
		f->slept_ns = now;
}

void lf_woke(struct lf_end *f, uint64_t now)
{
	f->unready_ns = 0;
	if (f->slept_ns)
		f->spin_hot = f->spin_cpus && now - f->slept_ns < LOOP_FLOW_HOT_NS;
	f->slept_ns = 0;
}

bool lf_spin_on(struct lf_end *f, uint64_t start, uint64_t now)
{
	if (now < start + LOOP_FLOW_SPIN_NS)
		return true;
	f->spin_hot = false;
	return false;
}

/*
 * A stream that keeps moving pushes the watchdog ahead (a settime per half
 * watchdog), so it fires only in a real wait, never as an empty wake-up
 * per period.
 */
uint64_t lf_wake(const struct lf_end *f, bool ready, uint64_t armed, uint64_t now)
{
	if (ready || f->spin_hot)
		return LC_WAKE_NOW;
	if (armed <= now + LOOP_FLOW_WATCHDOG_NS / 2)
		return now + LOOP_FLOW_WATCHDOG_NS;
	return armed;
}
