/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_layout.h - the shared segment's bytes: the cross-process ABI.
 *
 * Two processes built from different versions meet here and nowhere
 * else, so this file holds the layout only: names, sizes, the lock byte
 * map and the structs, each field saying who writes it and under which
 * lock.  No function: the code that reads and writes these fields is the
 * shared layer (shm_*.c), the only code that touches _Atomic.
 *
 * One segment per (card key, subdevice) holds two independent one-way
 * cables, exactly as snd-aloop pairs its devices: cable 0 carries device 0
 * playback to device 1 capture, cable 1 device 1 playback to device 0
 * capture.  Each cable has a header (parameter lock, clock grid, one
 * timeline and ring positions per playback slot, controls, lossless flow)
 * and, after the SHM_HEADER_BYTES header, room for a ring per playback
 * slot.  The file is sparse: its size is fixed (SHM_SEGMENT_BYTES of
 * address space), but only the header's pages and the parts of the rings
 * that a configured playback writes are reserved, so a cable costs what it
 * carries (see SHM_SLOT_RING_MAX).
 *
 * Nothing here knows ALSA: formats and states are opaque numbers.
 *
 * "Admin lock" below is the OFD lock on byte SHM_LOCK_ADMIN
 * (shm_seg_admin_lock); "lock-free" fields are single atomic accesses by
 * their one writer.  Every value is a hint to its readers (see shm_time.h,
 * "Trust"): a peer that scribbles on the segment can corrupt the audio we
 * hear, never our memory.
 */
#ifndef SHM_LAYOUT_H
#define SHM_LAYOUT_H

#include <stdatomic.h>
#include <stdint.h>

#include "loop_limits.h"

/* "ALOOPSHM" read as a little-endian u64; checked before anything else. */
#define SHM_RING_MAGIC		UINT64_C(0x4d4853504f4f4c41)
/* Bump on any change of the layout below. */
#define SHM_RING_VERSION	3u	/* 3: rings sized at the parameter lock */

#define SHM_CABLES		2u	/* per subdevice: 0->1 and 1->0 */
#define SHM_ROLES		2u	/* per cable: playback and capture end */
#define SHM_ROLE_PLAY		0u
#define SHM_ROLE_CAP		1u
#define SHM_SLOTS		LOOP_SHARED_MAX	/* openers of a shared end, per role */
#define SHM_TL_SPANS		4u	/* timeline spans kept per playback slot */
#define SHM_TICK_NEVER		UINT64_MAX	/* end_tick of an open span */

#define SHM_HEADER_BYTES	16384u
/*
 * Each playback slot of a cable has its ring at a fixed offset, room for
 * SHM_SLOT_RING_MAX bytes; the ring's size is the cable's ring_bytes, set
 * by the end that takes the parameter lock (twice the larger buffer, at
 * least a second of audio: shm_ring_size()).  An exclusive playback is
 * slot 0.  Fixed offsets: where a ring lies never depends on a value read
 * from the segment, only how much of it is used.
 */
#define SHM_SLOT_RING_MAX	(1u << 20)
#define SHM_CABLE_RING_MAX	(SHM_SLOTS * SHM_SLOT_RING_MAX)
#define SHM_RING_ALIGN		4096u	/* ring sizes are whole pages */
#define SHM_SEGMENT_BYTES	(SHM_HEADER_BYTES + SHM_CABLES * SHM_CABLE_RING_MAX)

/* Where the segment lives: every version must find the others' files. */
#define SHM_SEG_PREFIX		"alsa-loopback-"	/* + "<card>.<subdevice>" */

/* Values of struct shm_cable's clock (part of the parameter lock). */
#define SHM_CLOCK_REALTIME	0u	/* both ends run on the tick grid */
#define SHM_CLOCK_LOSSLESS	1u	/* flow control: the ends wait for each other */

/*
 * Bytes of the segment file used as OFD locks (never as data).  Byte 0 is
 * the admin lock, taken for attach, the parameter lock, detach, control
 * writes and gc.  An end's byte is write-locked by an exclusive opener and
 * read-locked by every shared one, so the two kinds exclude each other and
 * F_OFD_GETLK tells which kind holds it; each opener also write-locks its
 * slot's byte for as long as it is open.
 */
#define SHM_LOCK_ADMIN		0
#define SHM_LOCK_END(cable, role)	(1 + (cable) * SHM_ROLES + (role))
#define SHM_LOCK_SLOT(cable, role, slot) \
	(16 + ((cable) * SHM_ROLES + (role)) * SHM_SLOTS + (slot))

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
	       "cross-process atomics need lock-free (address-free) u64");

/*
 * One published span of a playback's stream: ticks [begin_tick, end_tick)
 * played ring positions from begin_pos on.  Written by the slot's playback
 * inside its tl_seq write section (shm_timeline_store).
 */
struct shm_tl_span_shared {
	_Atomic uint64_t begin_tick;
	_Atomic uint64_t end_tick;	/* SHM_TICK_NEVER while open */
	_Atomic uint64_t begin_pos;	/* ring position at begin_tick */
};

/*
 * What one attached opener says about itself; for tools and Slave Active,
 * never for control.  Written by that opener only.
 */
struct shm_end {
	_Atomic uint32_t pid;		/* admin lock: set at attach, 0 at detach */
	_Atomic uint32_t state;		/* lock-free; opaque (snd_pcm_state_t) */
	_Atomic uint32_t period_frames;	/* lock-free, at hw_params */
	_Atomic uint32_t buffer_frames;	/* lock-free, at hw_params */
	_Atomic uint64_t frames;	/* lock-free: frames moved since attach */
	_Atomic uint32_t xruns;		/* lock-free */
	_Atomic uint32_t active;	/* lock-free: a playback runs, not paused (Slave Active) */
};

/*
 * One playback of a cable: its timeline and ring positions, written by that
 * playback only.  An exclusive playback is slot 0; each playback of a
 * shared end has the ring of its slot.
 */
struct shm_slot {
	/*
	 * Timeline, a seqlock (odd while being written): written lock-free by
	 * the slot's playback; emptied under the admin lock by a playback
	 * that attaches (its slot; every slot if it is the first playback)
	 * and by the parameter lock when it restarts the grid.
	 */
	_Atomic uint32_t tl_seq;
	uint32_t pad;			/* nobody */
	_Atomic uint64_t tl_count;	/* spans ever opened */
	struct shm_tl_span_shared tl[SHM_TL_SPANS];

	/*
	 * Ring positions in frames, lock-free, by the slot's playback.  The
	 * writer stores write_claim (the end of what it is about to write)
	 * before touching the ring and write_end after: a reader that copied
	 * position q and then sees q >= write_claim - ring_frames knows its
	 * copy was not being overwritten.
	 */
	_Atomic uint64_t write_claim;
	_Atomic uint64_t write_end;

	struct shm_end end;		/* the slot's playback */
};

struct shm_cable {
	/*
	 * Parameter lock: written only under the admin lock, by the end that
	 * takes the lock (shm_cable_lock); locked is cleared by the last
	 * opener out and by an opener that finds nobody attached.
	 */
	_Atomic uint32_t locked;
	_Atomic uint32_t format;	/* opaque (snd_pcm_format_t) */
	_Atomic uint32_t rate;
	_Atomic uint32_t channels;
	_Atomic uint32_t access;	/* 0 interleaved, 1 non-interleaved */

	/*
	 * Clock grid, a seqlock (odd while being written): only under the
	 * admin lock, by the end that takes the parameter lock (restart) or
	 * by the ctl plugin's Rate Shift (rebase); the creator sets it first.
	 */
	_Atomic uint32_t grid_seq;
	_Atomic uint32_t rate_shift;	/* LOOP_SHIFT_MIN..MAX, clamped by readers */
	uint32_t pad0;			/* nobody */
	_Atomic uint64_t grid_base_ns;
	_Atomic uint64_t grid_base_tick;

	/* Admin lock, by the first playback to attach: one ring per slot, not slot 0's only. */
	_Atomic uint32_t play_shared;
	_Atomic uint32_t clock;		/* SHM_CLOCK_*: with the parameter lock above */
	/*
	 * Bytes of each slot's ring, a multiple of SHM_RING_ALIGN (0: none):
	 * under the admin lock, by the end that takes the parameter lock; 0
	 * when the last opener leaves and the rings' pages are given back.
	 * Readers clamp it to SHM_SLOT_RING_MAX.
	 */
	_Atomic uint32_t ring_bytes;
	uint32_t pad1;			/* nobody */

	/*
	 * Lossless clock, lock-free: the capture publishes where it reads
	 * (the playback may write up to read_pos + its buffer), the playback
	 * that drained and closed says so (end of stream), and an end about
	 * to sleep on its doorbell sets its waiting[role], which the other
	 * end clears as it rings.  The parameter lock resets read_pos and
	 * write_done when it restarts the grid.
	 */
	_Atomic uint64_t read_pos;	/* the capture */
	_Atomic uint32_t write_done;	/* the playback */
	_Atomic uint32_t waiting[SHM_ROLES];

	/*
	 * snd-aloop's controls (see the ctl plugin), under the admin lock:
	 * notify by the ctl plugin; slave_* by each playback as it takes or
	 * matches the parameter lock (0 until a playback sets them).
	 */
	_Atomic uint32_t notify;
	_Atomic uint32_t slave_format;
	_Atomic uint32_t slave_rate;
	_Atomic uint32_t slave_channels;
	_Atomic uint32_t slave_access;
	/* Bumped on every control change: by whoever changes it (a playback's active lock-free). */
	_Atomic uint32_t ctl_seq;
	_Atomic uint32_t lock_gen;	/* admin lock: bumped when the lock's values change */

	struct shm_slot play[SHM_SLOTS];	/* slot k: its playback */
	struct shm_end cap[SHM_SLOTS];		/* slot k: its capture */
};

/*
 * Written once by the creator, under the admin lock, before anyone can
 * read it: the magic last, with release; then only the cables change.
 */
struct shm_header {
	_Atomic uint64_t magic;		/* stored last, with release */
	uint32_t version;
	uint32_t header_bytes;
	uint64_t segment_bytes;
	uint32_t slot_ring_max;		/* SHM_SLOT_RING_MAX */
	uint32_t subdevice;
	char card[LOOP_CARD_MAX];
	struct shm_cable cable[SHM_CABLES];
};

_Static_assert(sizeof(struct shm_header) <= SHM_HEADER_BYTES, "header too big");

#endif /* SHM_LAYOUT_H */
