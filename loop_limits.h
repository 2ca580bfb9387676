/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop_limits.h - every limit and default of alsa-loopback, in one place.
 *
 * Plain numbers, no ALSA: the shared-memory layer, both plugins, the tool
 * and the tests agree on them through this header.
 */
#ifndef LOOP_LIMITS_H
#define LOOP_LIMITS_H

#define LOOP_SUBDEVICE_MAX	4095u	/* subdevices 0..4095 per card key */
#define LOOP_CARD_MAX		32u	/* card key bytes, with the NUL */
#define LOOP_CARD_DEFAULT	"0"

/* Openers of one shared end (key 'shared'), per direction. */
#define LOOP_SHARED_MAX		16u

#define LOOP_CHANNELS_MAX	32u
#define LOOP_RATE_MIN		8000u
#define LOOP_RATE_MAX		768000u

/* snd-aloop's "PCM Rate Shift 100000" range; clamped, never refused. */
#define LOOP_SHIFT_MIN		80000u
#define LOOP_SHIFT_NOMINAL	100000u
#define LOOP_SHIFT_MAX		120000u

/*
 * Rounds of "open, or create and publish" a segment or doorbell that keeps
 * being replaced or removed under us (shm_retry_again): the first
 * LOOP_OPEN_TRIES at once (a lost race costs one round), then one every
 * LOOP_OPEN_RETRY_NS.  A peer that opens and closes the cable in a loop
 * (each close removes the segment) can win many rounds in a row on a slow
 * machine; only one that keeps at it for LOOP_OPEN_PATIENCE rounds (about
 * a second) is reported, as a peer at war with us.
 */
#define LOOP_OPEN_TRIES		4u
#define LOOP_OPEN_PATIENCE	1000u
#define LOOP_OPEN_RETRY_NS	1000000L	/* 1 ms */

/*
 * A creation's temporary file is published within microseconds; one whose
 * creator is dead and that nobody touched for this long is a crash's, and
 * gc removes it.
 */
#define LOOP_TEMP_STALE_S	10

/* Mode of a new segment: private unless the 'perm' key says otherwise. */
#define LOOP_PERM_DEFAULT	0600u

/* What snd-aloop's Slave controls read before any playback ran. */
#define LOOP_SLAVE_RATE_DEFAULT		48000u
#define LOOP_SLAVE_CHANNELS_DEFAULT	2u
/* (the format, S16_LE, is ALSA's: the ctl plugin holds it) */

/*
 * Buffer and period sizes a PCM offers.  A buffer is at most half its
 * cable's ring (the playback's queue ahead of the clock in one half, a
 * capture's backlog behind it in the other: shm_ring_size()), so at most
 * 512 KiB; a period is at most half a buffer.
 */
#define LOOP_BUFFER_BYTES_MIN	64u
#define LOOP_PERIOD_BYTES_MIN	16u
#define LOOP_PERIODS_MAX	1024u
#define LOOP_RING_PER_BUFFER	2u	/* buffer <= ring / 2 */
#define LOOP_BUFFER_PER_PERIOD	2u	/* period <= buffer / 2 */

/*
 * The admin lock is retried, never waited on (F_OFD_SETLKW): a stopped
 * (SIGSTOP) holder costs an error after ~2 s, not a hang.
 */
#define LOOP_ADMIN_RETRIES	2000
#define LOOP_ADMIN_RETRY_NS	1000000L	/* 1 ms between tries */

/* Seqlock reads that see a write in progress before giving up. */
#define LOOP_SEQ_RETRIES	64

/* How often a waiting lossless end looks whether the other end died. */
#define LOOP_FLOW_WATCHDOG_NS	(UINT64_C(100) * 1000000u)
/*
 * A lossless end that waits spins this long before it sleeps, while the
 * other end keeps answering within LOOP_FLOW_HOT_NS: a sleep and a
 * doorbell cost tens of microseconds (an idle virtual CPU more), a
 * period's copy a few, so two ends that run flat out would spend most of
 * their time waking each other.  A paced or stalled peer makes the wait
 * long: no more spins.
 */
#define LOOP_FLOW_SPIN_NS	(UINT64_C(50) * 1000u)
#define LOOP_FLOW_HOT_NS	(UINT64_C(200) * 1000u)


#endif /* LOOP_LIMITS_H */
