/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_cable.h - a cable's ends, its parameter lock and snd-aloop's
 * controls.
 *
 * The only code that reads or writes those fields.  "Admin" marks the
 * functions that take the segment's admin lock themselves; the others are
 * single atomic accesses or lock probes, safe anywhere.
 */
#ifndef SHM_CABLE_H
#define SHM_CABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "shm_place.h"

/* A cable's parameters.  format is opaque here (snd_pcm_format_t). */
struct shm_params {
	uint32_t format, rate, channels;
	uint32_t access;	/* 0 interleaved, 1 non-interleaved */
	uint32_t clock;		/* SHM_CLOCK_*: part of the lock */
};

static inline bool shm_params_match(const struct shm_params *a, const struct shm_params *b)
{
	return a->format == b->format && a->rate == b->rate && a->channels == b->channels &&
	       a->clock == b->clock;
}

/* What shm_end_attach() found. */
struct shm_attach {
	enum shm_busy busy;	/* -EBUSY: why */
	uint32_t holder_pid;	/* -EBUSY: one holder (0: unknown) */
	bool pinned;		/* the cable is locked to lock, for us too */
	struct shm_params lock;
	uint32_t ring_bytes;	/* pinned: each slot's ring, as the lock sized it */
	uint64_t write_end;	/* playback: ring positions continue after this */
};

/*
 * Admin.  Take a place at the end (pl->slot is set) for the life of the
 * open and say what we must accept: a capture is pinned to a locked cable,
 * a playback too unless the cable is in notify mode and it is the only
 * playback.  Frees a lock that nobody holds any more, and withdraws the
 * timeline left in our slot (the first playback: in every slot; captures
 * skip the slots of dead shared playbacks, shm_slot_alive).  Returns 0, -EBUSY (busy, holder_pid),
 * -ESTALE ("alsa-loopback gc" unlinked the file: reopen and retry) or the
 * admin lock's error.
 */
int shm_end_attach(struct shm_seg *seg, struct shm_place *pl, uint32_t pid,
		   struct shm_attach *at);
/* Admin (best effort).  Leave; free the cable's lock if we were its last opener. */
void shm_end_detach(struct shm_seg *seg, const struct shm_place *pl);
/*
 * Admin.  After our last detach: if no end is held (by anyone: call it
 * with none of ours) and every control is at its default, remove the
 * segment and its doorbells, as snd-aloop frees a stream's buffer at
 * close; else give back the rings of every cable nobody holds (the
 * segment stays at its header's size).  An opener that raced with the removal finds its file unlinked
 * after taking the admin lock and opens a new one.  Whether it was removed.
 */
bool shm_seg_remove_idle(struct shm_seg *seg);
/*
 * Under the admin lock: remove the segment and its doorbells if its name
 * still is our file (gc).  0, -ESTALE (the name is another file or gone)
 * or a negative errno.
 */
int shm_seg_remove(struct shm_seg *seg);
/* Is the cable's playback end shared (its ring split among the slots)? */
bool shm_cable_play_shared(struct shm_seg *seg, unsigned int cable);

/* What an end needs of the cable's rings (bytes, see shm_ring_size()). */
struct shm_ring_ask {
	uint32_t fit;		/* at least this (twice our buffer), or we cannot run */
	uint32_t size;		/* the size we give them if we take the lock */
};

/* The outcome of shm_cable_lock(). */
struct shm_lock_result {
	uint32_t gen;		/* the lock generation we configured against */
	bool regridded;		/* the clock grid and timeline restarted */
	struct shm_params held;	/* -EINVAL: what the cable is locked to */
	uint32_t ring_bytes;	/* 0 and -EMSGSIZE: each slot's ring */
};

/*
 * Admin.  The parameter-lock rule, snd-aloop's loopback_check_format() in
 * one place.  The cable takes want from the first opener to configure,
 * from one that finds nobody else attached, and from a notify-mode
 * playback that is the only playback; everyone else must match it.  A lock
 * taken afresh, or whose rate changes, restarts the grid at now_ns (ticks
 * on an old grid would map onto new audio).  The end that takes the lock
 * sizes the rings (ring->size); one that matches it must fit in them
 * (ring->fit).  A playback reserves its slot's ring before it may write.
 * Returns 0, -EINVAL (res->held: what the cable is locked to), -EMSGSIZE
 * (res->ring_bytes is less than ring->fit), -ENOSPC and other reservation
 * errors (why[]) or the admin lock's error; on error nothing changed.  A
 * playback also publishes want as the Slave controls.
 */
int shm_cable_lock(struct shm_seg *seg, const struct shm_place *pl,
		   const struct shm_params *want, const struct shm_ring_ask *ring,
		   uint64_t now_ns, struct shm_lock_result *res, char *why, size_t why_len);
/* The cable's lock, if it has one. */
bool shm_cable_locked(struct shm_seg *seg, unsigned int cable, struct shm_params *lock);
/*
 * Capture, in notify mode: has a playback relocked the cable to other
 * parameters since we configured (gen)?  Cheap enough for the data path.
 */
bool shm_cable_relocked(struct shm_seg *seg, unsigned int cable, uint32_t gen,
			const struct shm_params *mine);

/* Publish an opener's state (opaque) and, for a playback, Slave Active. */
void shm_end_set_state(struct shm_seg *seg, const struct shm_place *pl, uint32_t state,
		       bool active);
void shm_end_set_sizes(struct shm_seg *seg, const struct shm_place *pl,
		       uint32_t period_frames, uint32_t buffer_frames);
void shm_end_add_frames(struct shm_seg *seg, const struct shm_place *pl, uint64_t frames);
void shm_end_add_xrun(struct shm_seg *seg, const struct shm_place *pl);

/* What an opener says about itself: for tools, never for control. */
struct shm_end_info {
	bool attached;		/* its place is held by a live open (OFD lock) */
	bool shared;		/* the end is held by shared openers */
	uint32_t pid, state, period_frames, buffer_frames, xruns;
	uint64_t frames;
};
void shm_end_info(struct shm_seg *seg, const struct shm_place *pl, struct shm_end_info *info);

/* snd-aloop's controls of one cable, clamped: never trusted. */
struct shm_controls {
	uint32_t rate_shift;	/* LOOP_SHIFT_MIN..LOOP_SHIFT_MAX */
	bool notify;
	bool active;		/* a live playback runs, not paused */
	struct shm_params slave;	/* the last playback's; 0s: none yet */
	uint32_t seq;		/* changes with every control change */
};
void shm_controls_read(struct shm_seg *seg, unsigned int cable, struct shm_controls *ctl);
/* Admin.  Returns 1 if the value changed, 0 if not, or the lock's error. */
int shm_controls_set_notify(struct shm_seg *seg, unsigned int cable, bool notify);
/* Admin.  Rebases the grid at now_ns: positions never jump.  As above. */
int shm_controls_set_shift(struct shm_seg *seg, unsigned int cable, uint32_t shift,
			   uint64_t now_ns);
/* The controls' change counter alone (event polling). */
uint32_t shm_controls_seq(struct shm_seg *seg, unsigned int cable);

#endif /* SHM_CABLE_H */
