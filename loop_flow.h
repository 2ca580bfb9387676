/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop_flow.h - the lossless clock's rules for one end, at a time and with
 * peer positions the caller gives.
 *
 * A lossless cable has one playback and one capture and no clock: hw is
 * the other end's progress.  The playback's is what the capture took (the
 * cable's read_pos), the capture's what the playback wrote; nothing is
 * ever dropped or invented, so there is no xrun.  Both run as fast as the
 * slower one.  The stream ends when the playback drained and closed
 * ("done"), or died: the capture reads what is left, then is over (the
 * plugin reports DISCONNECTED, which arecord, sox, ffmpeg and alsasrc
 * treat as the end of their input).  A playback whose capture went away
 * is over too, as a writer to a pipe with no reader; one that never had a
 * capture waits for one.
 *
 * As loop_clock.h, no ALSA, no system call, no shared memory: "now", the
 * peer's positions and whether it is alive are parameters, so the rules
 * are unit-tested exactly, without sleeping (tests/test-flow.c).  The
 * plugin reads the segment and its doorbells and calls these; only these
 * and the lc_* calls move an end's positions (struct lc_end).
 */
#ifndef LOOP_FLOW_H
#define LOOP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "loop_clock.h"

/* How one lossless end waits: spin or sleep, and whether its peer came. */
struct lf_end {
	bool saw_peer;			/* the other end was attached once */
	bool spin_cpus;			/* two CPUs or more: spinning can pay */
	bool spin_hot;			/* the other end answered quickly: spin first */
	uint64_t slept_ns;		/* when we began to wait for the other end, 0: awake */
	uint64_t unready_ns;		/* hot, not ready since (lf_cool), 0: ready */
};

/* At open: spinning pays only with a CPU for each end. */
void lf_init(struct lf_end *f, unsigned int cpus);

/* ---- positions ---- */

/*
 * Move hw to the other end's progress: peer is the cable's read_pos for a
 * playback (what the capture took), the ring's written for a capture.  A
 * playback's hw is at most appl, a capture's at most a buffer ahead of
 * appl (the rest waits in the ring).  Never backwards, whatever the
 * segment says.  The client sees all of it.
 */
void lf_update(struct lc_end *e, uint64_t appl, uint64_t peer);
/* A playback: frames the capture took since our prepare (read_pos - base). */
uint64_t lf_taken(const struct lc_end *e, uint64_t read_pos);
/*
 * A playback rewound past what the capture already took (snd_pcm_rewind()
 * never clamps to snd_pcm_rewindable() on an ioplug): those frames cannot
 * be taken back, and writing over them would lose what the capture is
 * still to read.  The plugin refuses with an xrun.
 */
bool lf_overrewound(const struct lc_end *e, uint64_t appl, uint64_t read_pos);
/*
 * After lc_prepare(): a capture starts at the oldest frame nobody took
 * (read_pos), so nothing is lost.  Returns whether the done flag is to be
 * cleared: always for a playback (a new stream), for a capture only when
 * the stream that ended was read to its end (written == read_pos).
 */
bool lf_prepare(struct lc_end *e, uint64_t read_pos, uint64_t written);
/*
 * snd_pcm_reset() (loop_clock.h, lc_reset): a playback's queue is what the
 * capture has not taken, which the next write replaces, as a rewind would;
 * a capture gives the rest of its backlog up (the plugin then publishes
 * read_pos at base + appl), so the playback gets its room.
 */
void lf_reset(struct lc_end *e, uint64_t read_pos);

/* ---- readiness and the end of the stream ---- */

/*
 * The kernel's readiness, plus: a capture whose playback is done reads the
 * tail even if it is shorter than avail_min (else each would wait for the
 * other).  done: the playback said it is done.
 */
bool lf_ready(const struct lc_end *e, enum lc_state st, uint64_t appl, bool done);
/* The playback said it is done: for a capture, the other end has gone. */
bool lf_peer_ended(const struct lc_end *e, bool done);
/*
 * A waiting end asked the lock whether the other end lives (alive): has
 * it died?  Only if it was ever there: it was seen alive, or it moved our
 * stream (hw > 0), even if we never saw it alive.
 */
bool lf_peer_died(struct lf_end *f, const struct lc_end *e, bool alive);
/* The stream starts: a peer alive now ends it by its death from now on. */
void lf_start(struct lf_end *f, bool alive);
/*
 * A playback starts draining: it writes nothing more, so the stream ends
 * here and it says so (done), once.
 */
bool lf_says_done(const struct lc_end *e, enum lc_state st, bool done);
/* A running capture read everything and the playback is done: the end. */
bool lf_read_to_end(const struct lc_end *e, enum lc_state st, uint64_t appl, bool done);
/* The other end is gone: over now (a playback), or once all is read (a capture)? */
bool lf_over(const struct lc_end *e, uint64_t appl);

/* ---- waiting: spin, cool, listen ---- */

/* What a position update that may have found the stream not ready leads to. */
enum lf_cool {
	LF_COOL_READY,		/* ready: nothing to do */
	LF_COOL_HOT,		/* not ready, but within a hot spell: stay readable */
	LF_COOL_LISTEN,		/* not ready: listen for the other end, arm the watchdog */
};
enum lf_cool lf_cool(struct lf_end *f, bool ready, uint64_t now);
/* We begin to wait for the other end (unless we already do): lf_woke() times it. */
void lf_listen(struct lf_end *f, uint64_t now);
/* Ready again after a wait: was the other end quick?  Then spin next time. */
void lf_woke(struct lf_end *f, uint64_t now);
/*
 * A spin that began at start goes on at now?  One that ran its
 * LOOP_FLOW_SPIN_NS in vain ends the hot spell.
 */
bool lf_spin_on(struct lf_end *f, uint64_t start, uint64_t now);
/*
 * The timer deadline (LC_WAKE_NOW or ns; armed if it stays): now when
 * ready or hot, else the watchdog (LOOP_FLOW_WATCHDOG_NS), pushed ahead
 * only once it is off, past or due within half a watchdog.
 */
uint64_t lf_wake(const struct lf_end *f, bool ready, uint64_t armed, uint64_t now);

#endif /* LOOP_FLOW_H */
