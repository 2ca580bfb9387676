/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_ring.h - the shared segment behind one loopback subdevice.
 *
 * One segment per (card key, subdevice) holds two independent one-way
 * cables, exactly as snd-aloop pairs its devices: cable 0 carries device 0
 * playback to device 1 capture, cable 1 device 1 playback to device 0
 * capture.  Each cable has a header (parameter lock, clock grid, playback
 * timeline, positions, controls) and a byte ring of SHM_RING_BYTES.
 *
 * Nothing here knows ALSA: formats and states are opaque numbers.
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
#ifndef SHM_RING_H
#define SHM_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shm_layout.h"

/*
 * One playback's ring: its bytes and the slot that holds its positions.
 * bytes is ours (SHM_RING_BYTES, or SHM_SLOT_RING_BYTES on a shared end),
 * never a value read from the segment.
 */
struct shm_ring {
	uint8_t *data;
	uint32_t bytes;
	struct shm_slot *slot;
};

/* ---- ring ---------------------------------------------------------------- */

/* A contiguous piece of the ring. */
struct shm_span {
	uint8_t *ptr;
	uint32_t frames;
};

static inline uint32_t shm_ring_frames(const struct shm_ring *r, uint32_t frame_bytes)
{
	return frame_bytes ? r->bytes / frame_bytes : 0;
}

/*
 * Split frames at ring position pos into at most two spans.  The ring holds
 * whole frames only (ring_frames * frame_bytes <= bytes), so a frame never
 * straddles the wrap.  frames is clamped to ring_frames.
 */
static inline unsigned int shm_ring_spans(const struct shm_ring *r, uint32_t frame_bytes,
					  uint64_t pos, uint32_t frames, struct shm_span span[2])
{
	uint32_t ring_frames = shm_ring_frames(r, frame_bytes);
	uint32_t off, first;

	if (!ring_frames || !frames)
		return 0;
	if (frames > ring_frames)
		frames = ring_frames;
	off = (uint32_t)(pos % ring_frames);
	first = ring_frames - off < frames ? ring_frames - off : frames;
	span[0].ptr = r->data + (size_t)off * frame_bytes;
	span[0].frames = first;
	if (first == frames)
		return 1;
	span[1].ptr = r->data;
	span[1].frames = frames - first;
	return 2;
}

/* Interleaved copies in and out of the ring: two memcpy at most. */
static inline void shm_ring_write(const struct shm_ring *r, uint32_t frame_bytes, uint64_t pos,
				  const void *src, uint32_t frames)
{
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(r, frame_bytes, pos, frames, span);
	const uint8_t *p = src;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(span[i].ptr, p, (size_t)span[i].frames * frame_bytes);
		p += (size_t)span[i].frames * frame_bytes;
	}
}

static inline void shm_ring_read(const struct shm_ring *r, uint32_t frame_bytes, uint64_t pos,
				 void *dst, uint32_t frames)
{
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(r, frame_bytes, pos, frames, span);
	uint8_t *p = dst;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(p, span[i].ptr, (size_t)span[i].frames * frame_bytes);
		p += (size_t)span[i].frames * frame_bytes;
	}
}

/* Writer side of the claim protocol (see struct shm_slot). */
static inline void shm_ring_claim(const struct shm_ring *r, uint64_t claim_end)
{
	atomic_store_explicit(&r->slot->write_claim, claim_end, memory_order_relaxed);
	/* Order the claim before the ring stores that follow it. */
	atomic_thread_fence(memory_order_seq_cst);
}

static inline void shm_ring_publish(const struct shm_ring *r, uint64_t write_end)
{
	/* Release: a reader that sees write_end sees the frames below it. */
	atomic_store_explicit(&r->slot->write_end, write_end, memory_order_release);
}

static inline uint64_t shm_ring_written(const struct shm_ring *r)
{
	return atomic_load_explicit(&r->slot->write_end, memory_order_acquire);
}

/* After copying out: the lowest position whose copy is known intact. */
static inline uint64_t shm_ring_intact_from(const struct shm_ring *r, uint32_t frame_bytes)
{
	uint64_t claim, ring_frames = shm_ring_frames(r, frame_bytes);

	/* Order our ring loads before the claim load. */
	atomic_thread_fence(memory_order_acquire);
	claim = atomic_load_explicit(&r->slot->write_claim, memory_order_relaxed);
	return claim > ring_frames ? claim - ring_frames : 0;
}

#include "shm_seg.h"
#include "shm_place.h"
#include "shm_time.h"
#include "shm_flow.h"


/* ---- parameter lock, ends and controls ----------------------------------- */

/*
 * The only code that reads or writes those fields.  An end is one
 * direction of one cable (snd-aloop's device/subdevice/direction); an
 * exclusive end has one opener, a shared end up to SHM_SLOTS, each in a
 * slot of its own.  "Admin" marks the functions that take the segment's
 * admin lock themselves; the others are single atomic accesses or lock
 * probes, safe anywhere.
 */

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
/* Is the cable's playback end shared (its ring split among the slots)? */
bool shm_cable_play_shared(struct shm_seg *seg, unsigned int cable);

/* The outcome of shm_cable_lock(). */
struct shm_lock_result {
	uint32_t gen;		/* the lock generation we configured against */
	bool regridded;		/* the clock grid and timeline restarted */
	struct shm_params held;	/* -EINVAL: what the cable is locked to */
};

/*
 * Admin.  The parameter-lock rule, snd-aloop's loopback_check_format() in
 * one place.  The cable takes want from the first opener to configure,
 * from one that finds nobody else attached, and from a notify-mode
 * playback that is the only playback; everyone else must match it.  A lock
 * taken afresh, or whose rate changes, restarts the grid at now_ns (ticks
 * on an old grid would map onto new audio).  Returns 0, -EINVAL
 * (res->held: what the cable is locked to) or the admin lock's error.  A
 * playback also publishes want as the Slave controls.
 */
int shm_cable_lock(struct shm_seg *seg, const struct shm_place *pl,
		   const struct shm_params *want, uint64_t now_ns, struct shm_lock_result *res);
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

#endif /* SHM_RING_H */
