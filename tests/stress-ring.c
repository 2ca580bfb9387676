// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stress-ring.c - concurrent writer and readers on one cable of a real
 * segment: the ring's claim/publish protocol, the grid seqlock and the
 * timeline seqlock.  Built normally as a check program and under
 * ThreadSanitizer by tests/tsan.sh.
 *
 * Ring: a writer and a reader thread move a frame-counter pattern through
 * the ring in random chunk sizes, many times around.  The test adds the
 * flow control the plugin gets from the clock: the reader publishes how far
 * it has read and the writer never claims more than ring_frames past it, so
 * every frame must arrive intact and shm_ring_intact_from() must agree.
 *
 * Shared cable: several writers, each in its own slot of a shared playback
 * end (its own slot's ring, STRESS_SLOT_RING bytes here, its own
 * positions), each with a pattern of its own, and several readers that each
 * read every writer's ring.  "Paced" readers are waited for by every writer
 * (as above), so they must get every frame of every writer, intact.  In
 * the plain build a "lossy" reader also runs that nobody waits for: it
 * sleeps now and then, gets overrun, skips what fell out of the ring and
 * verifies every frame that shm_ring_intact_from() calls intact.  (Under
 * ThreadSanitizer it does not run: copying frames that a writer may be
 * overwriting is the race the claim protocol detects after the fact, and
 * TSan would rightly report it.)
 *
 * Seqlocks: one writer publishes a sequence of values whose fields can be
 * derived from one another; readers check that every snapshot they load is
 * one whole write (never fields of two) and that snapshots never go back.
 * The grid has one writer; the timeline runs in two playback slots at
 * once, each with its own writer, readers and values.
 *
 * Usage: stress-ring [SCALE]  (default 1; tsan.sh passes a smaller one)
 */
#define _GNU_SOURCE
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"
#include "check.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

/* Any thread may fail; every loop stops once one did. */
#define FAIL(...)	check_fail(__FILE__, __LINE__, __VA_ARGS__)
#define failed_yet()	(check_failures() != 0)

/* Each shared writer's ring: small, so the writers lap it often. */
#define STRESS_SLOT_RING	131072u

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* 1..max, biased towards small chunks half of the time. */
static uint32_t rnd_chunk(uint64_t *s, uint32_t max)
{
	uint64_t r = rnd(s);

	if (r & 1)
		max = max < 64 ? max : 64;
	return 1 + (uint32_t)((r >> 1) % max);
}

static uint8_t pattern(uint64_t idx, uint32_t j)
{
	uint64_t x = (idx + 1) * UINT64_C(0x9e3779b97f4a7c15) + j * UINT64_C(0x100000001b3);

	return (uint8_t)(x >> 56 ^ x >> 29 ^ x);
}

/* ---- ring ----------------------------------------------------------------- */

struct ring_test {
	struct shm_ring ring;
	uint32_t frame_bytes;
	uint64_t total;			/* frames to move */
	uint64_t seed;
	_Atomic uint64_t read_pos;	/* the test's flow control */
	uint64_t waits_full, waits_empty, wraps;
};

static void *ring_writer(void *arg)
{
	struct ring_test *t = arg;
	uint32_t fb = t->frame_bytes, rf = shm_ring_frames(&t->ring, fb);
	uint8_t *buf = malloc((size_t)rf * fb);
	uint64_t s = t->seed, w = 0;

	if (!buf) {
		FAIL("writer: out of memory");
		return NULL;
	}
	while (w < t->total && !failed_yet()) {
		uint32_t n = rnd_chunk(&s, rf);

		if (n > t->total - w)
			n = (uint32_t)(t->total - w);
		for (uint32_t f = 0; f < n; f++)
			for (uint32_t j = 0; j < fb; j++)
				buf[(size_t)f * fb + j] = pattern(w + f, j);
		/* Never more than the ring ahead of what the reader finished. */
		while (w + n > atomic_load_explicit(&t->read_pos, memory_order_acquire) + rf) {
			if (failed_yet())
				goto out;
			t->waits_full++;
			sched_yield();
		}
		shm_ring_claim(&t->ring, w + n);
		shm_ring_write(&t->ring, fb, w, buf, n);
		shm_ring_publish(&t->ring, w + n);
		w += n;
	}
out:
	free(buf);
	return NULL;
}

static void *ring_reader(void *arg)
{
	struct ring_test *t = arg;
	uint32_t fb = t->frame_bytes, rf = shm_ring_frames(&t->ring, fb);
	uint8_t *buf = malloc((size_t)rf * fb);
	uint64_t s = t->seed ^ UINT64_C(0x5555555555555555), r = 0, last_written = 0;

	if (!buf) {
		FAIL("reader: out of memory");
		return NULL;
	}
	while (r < t->total && !failed_yet()) {
		uint64_t written = shm_ring_written(&t->ring), intact;
		uint32_t n;

		if (written < last_written) {
			FAIL("fb %u: write_end went back from %" PRIu64 " to %" PRIu64, fb,
			     last_written, written);
			break;
		}
		last_written = written;
		if (written > r + rf) {
			FAIL("fb %u: writer %" PRIu64 " is more than the ring past reader %" PRIu64,
			     fb, written, r);
			break;
		}
		if (written == r) {
			t->waits_empty++;
			sched_yield();
			continue;
		}
		n = rnd_chunk(&s, (uint32_t)(written - r));
		if ((r % rf) + n > rf)
			t->wraps++;
		shm_ring_read(&t->ring, fb, r, buf, n);
		intact = shm_ring_intact_from(&t->ring, fb);
		if (r < intact) {
			FAIL("fb %u: read at %" PRIu64 " but intact only from %" PRIu64, fb, r, intact);
			break;
		}
		for (uint32_t f = 0; f < n; f++) {
			for (uint32_t j = 0; j < fb; j++) {
				if (buf[(size_t)f * fb + j] != pattern(r + f, j)) {
					FAIL("fb %u: frame %" PRIu64 " byte %u is 0x%02x, want 0x%02x", fb,
					     r + f, j, buf[(size_t)f * fb + j], pattern(r + f, j));
					goto out;
				}
			}
		}
		r += n;
		atomic_store_explicit(&t->read_pos, r, memory_order_release);
	}
out:
	if (r != t->total && !failed_yet())
		FAIL("fb %u: reader stopped at %" PRIu64 " of %" PRIu64, fb, r, t->total);
	free(buf);
	return NULL;
}

static uint64_t run_ring(struct shm_seg *seg, uint32_t fb, uint64_t total, uint64_t seed)
{
	/* An exclusive playback: slot 0 owns the cable's whole ring. */
	struct ring_test t = {
		.ring = shm_seg_ring(seg, 0, 0, false), .frame_bytes = fb,
		.total = total, .seed = seed,
	};
	pthread_t wt, rt;

	/* A fresh stream on a cable that earlier runs left written. */
	atomic_store(&t.ring.slot->write_claim, 0);
	atomic_store(&t.ring.slot->write_end, 0);
	if (pthread_create(&wt, NULL, ring_writer, &t) || pthread_create(&rt, NULL, ring_reader, &t)) {
		FAIL("pthread_create");
		return 0;
	}
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	if (shm_ring_written(&t.ring) != total && !failed_yet())
		FAIL("fb %u: published %" PRIu64 " of %" PRIu64, fb, shm_ring_written(&t.ring),
		     total);
	printf("ring fb %3u: %" PRIu64 " frames (%.1f ring laps, %" PRIu64
	       " wrapped reads), %" PRIu64 " full / %" PRIu64 " empty waits\n", fb,
	       atomic_load(&t.read_pos),
	       (double)atomic_load(&t.read_pos) / shm_ring_frames(&t.ring, fb),
	       t.wraps, t.waits_full, t.waits_empty);
	return atomic_load(&t.read_pos);
}

/* ---- shared cable: several writers, several readers ------------------------ */

#define SH_WRITERS	4			/* slots 0..3 of cable 0 */
#define SH_PACED	2			/* readers the writers wait for */
#define SH_LOSSY	(UNDER_TSAN ? 0 : 1)	/* readers nobody waits for */
#define SH_READERS	(SH_PACED + 1)

/* Writer k's frames: a pattern of its own, so a frame in the wrong ring shows. */
static uint8_t wpattern(unsigned int k, uint64_t idx, uint32_t j)
{
	return pattern(idx + ((uint64_t)(k + 1) << 52), j);
}

struct shared_test {
	struct shm_ring ring[SH_WRITERS];
	uint32_t frame_bytes;
	uint64_t total;			/* frames per writer */
	uint64_t seed;
	/* The test's flow control: how far each paced reader got in each ring. */
	_Atomic uint64_t read_pos[SH_PACED][SH_WRITERS];
	_Atomic unsigned int writers_done;
	uint64_t waits_full[SH_WRITERS];
	/* Lossy reader: frames verified, spoiled (copied, then found overwritten), skipped. */
	_Atomic uint64_t verified, spoiled, skipped, overruns;
};

struct shared_arg {
	struct shared_test *t;
	unsigned int id;
};

static void *shared_writer(void *arg)
{
	struct shared_arg *a = arg;
	struct shared_test *t = a->t;
	const struct shm_ring *ring = &t->ring[a->id];
	uint32_t fb = t->frame_bytes, rf = shm_ring_frames(ring, fb);
	uint8_t *buf = malloc((size_t)rf * fb);
	uint64_t s = t->seed + a->id * UINT64_C(0x1234567), w = 0;

	if (!buf) {
		FAIL("writer %u: out of memory", a->id);
		goto out;
	}
	while (w < t->total && !failed_yet()) {
		uint32_t n = rnd_chunk(&s, rf);
		uint64_t slowest;

		if (n > t->total - w)
			n = (uint32_t)(t->total - w);
		for (uint32_t f = 0; f < n; f++)
			for (uint32_t j = 0; j < fb; j++)
				buf[(size_t)f * fb + j] = wpattern(a->id, w + f, j);
		/* Never more than the ring ahead of the slowest paced reader. */
		for (;;) {
			slowest = UINT64_MAX;
			for (unsigned int r = 0; r < SH_PACED; r++) {
				uint64_t p = atomic_load_explicit(&t->read_pos[r][a->id],
								  memory_order_acquire);

				slowest = p < slowest ? p : slowest;
			}
			if (w + n <= slowest + rf || failed_yet())
				break;
			t->waits_full[a->id]++;
			sched_yield();
		}
		shm_ring_claim(ring, w + n);
		shm_ring_write(ring, fb, w, buf, n);
		shm_ring_publish(ring, w + n);
		w += n;
	}
	free(buf);
out:
	atomic_fetch_add(&t->writers_done, 1);
	return NULL;
}

/* The first frame of buf (n frames from writer k's position pos) that is wrong, or n. */
static uint32_t wverify(const uint8_t *buf, uint32_t fb, unsigned int k, uint64_t pos,
			uint32_t n)
{
	for (uint32_t f = 0; f < n; f++)
		for (uint32_t j = 0; j < fb; j++)
			if (buf[(size_t)f * fb + j] != wpattern(k, pos + f, j))
				return f;
	return n;
}

/* Reads every writer's ring in turn; the writers wait for it. */
static void *paced_reader(void *arg)
{
	struct shared_arg *a = arg;
	struct shared_test *t = a->t;
	uint32_t fb = t->frame_bytes, rf = shm_ring_frames(&t->ring[0], fb);
	uint8_t *buf = malloc((size_t)rf * fb);
	uint64_t s = t->seed ^ (UINT64_C(0x5555555555555555) + a->id), pos[SH_WRITERS] = { 0 };
	unsigned int finished = 0;

	if (!buf) {
		FAIL("reader %u: out of memory", a->id);
		return NULL;
	}
	while (finished < SH_WRITERS && !failed_yet()) {
		bool moved = false;

		finished = 0;
		for (unsigned int k = 0; k < SH_WRITERS && !failed_yet(); k++) {
			const struct shm_ring *ring = &t->ring[k];
			uint64_t written = shm_ring_written(ring), intact, r = pos[k];
			uint32_t n, bad;

			if (r == t->total) {
				finished++;
				continue;
			}
			if (written > r + rf || written > t->total) {
				FAIL("fb %u ring %u: writer at %" PRIu64 ", paced reader %u at %" PRIu64,
				     fb, k, written, a->id, r);
				break;
			}
			if (written == r)
				continue;
			n = rnd_chunk(&s, (uint32_t)(written - r));
			shm_ring_read(ring, fb, r, buf, n);
			intact = shm_ring_intact_from(ring, fb);
			if (r < intact) {
				FAIL("fb %u ring %u: paced read at %" PRIu64 " but intact only from %"
				     PRIu64, fb, k, r, intact);
				break;
			}
			bad = wverify(buf, fb, k, r, n);
			if (bad != n) {
				FAIL("fb %u ring %u: paced reader %u: frame %" PRIu64 " is wrong", fb, k,
				     a->id, r + bad);
				break;
			}
			pos[k] = r + n;
			atomic_store_explicit(&t->read_pos[a->id][k], pos[k], memory_order_release);
			moved = true;
		}
		if (!moved)
			sched_yield();
	}
	if (finished != SH_WRITERS && !failed_yet())
		FAIL("fb %u: paced reader %u stopped early", fb, a->id);
	free(buf);
	return NULL;
}

/*
 * Reads every writer's ring as a late capture would: what is still in the
 * ring, checked after the copy.  Frames it copied below
 * shm_ring_intact_from() are dropped; every other frame must be right.
 */
static void *lossy_reader(void *arg)
{
	struct shared_arg *a = arg;
	struct shared_test *t = a->t;
	uint32_t fb = t->frame_bytes, rf = shm_ring_frames(&t->ring[0], fb);
	uint8_t *buf = malloc((size_t)rf * fb);
	uint64_t s = t->seed ^ UINT64_C(0x3333333333333333), pos[SH_WRITERS] = { 0 };
	uint64_t last[SH_WRITERS] = { 0 }, verified = 0, spoiled = 0, skipped = 0, overruns = 0;
	bool done = false;

	if (!buf) {
		FAIL("lossy reader: out of memory");
		return NULL;
	}
	while (!done && !failed_yet()) {
		/* Writers done before this pass: it drains them to the end. */
		bool last_pass = atomic_load(&t->writers_done) == SH_WRITERS;

		for (unsigned int k = 0; k < SH_WRITERS && !failed_yet(); k++) {
			const struct shm_ring *ring = &t->ring[k];
			uint64_t written = shm_ring_written(ring), intact, r;
			uint32_t n, bad;

			if (written < last[k] || written > t->total) {
				FAIL("fb %u ring %u: write_end %" PRIu64 " after %" PRIu64, fb, k,
				     written, last[k]);
				break;
			}
			last[k] = written;
			if (written - pos[k] > rf) {
				/* Fell out of the ring: start from the oldest frame still in it. */
				skipped += written - rf - pos[k];
				pos[k] = written - rf;
				/*
				 * Sometimes lose the processor right here, as a capture
				 * can: the oldest frames are the next to be overwritten.
				 */
				if (rnd(&s) % 4 == 0)
					nanosleep(&(struct timespec){ .tv_nsec = (long)(rnd(&s) % 50000) },
						  NULL);
			}
			while (pos[k] < written) {
				r = pos[k];
				n = rnd_chunk(&s, (uint32_t)(written - r));
				shm_ring_read(ring, fb, r, buf, n);
				intact = shm_ring_intact_from(ring, fb);
				if (intact > r) {
					uint64_t lost = intact - r < n ? intact - r : n;

					spoiled += lost;
					overruns++;
					bad = wverify(buf + lost * fb, fb, k, r + lost, n - (uint32_t)lost);
					if (bad != n - lost) {
						FAIL("fb %u ring %u: lossy: frame %" PRIu64
						     " called intact (from %" PRIu64 ") is wrong", fb, k,
						     r + lost + bad, intact);
						break;
					}
					verified += n - lost;
				} else {
					bad = wverify(buf, fb, k, r, n);
					if (bad != n) {
						FAIL("fb %u ring %u: lossy: frame %" PRIu64 " is wrong", fb,
						     k, r + bad);
						break;
					}
					verified += n;
				}
				pos[k] = r + n;
				if (!last_pass)
					break;
			}
		}
		done = last_pass;
		/* Fall behind now and then, so that the writers overrun us. */
		if (rnd(&s) % 8 == 0)
			nanosleep(&(struct timespec){ .tv_nsec = (long)(rnd(&s) % 400000) }, NULL);
	}
	for (unsigned int k = 0; k < SH_WRITERS && !failed_yet(); k++)
		if (pos[k] != t->total)
			FAIL("fb %u ring %u: lossy reader ended at %" PRIu64 " of %" PRIu64, fb, k,
			     pos[k], t->total);
	atomic_store(&t->verified, verified);
	atomic_store(&t->spoiled, spoiled);
	atomic_store(&t->skipped, skipped);
	atomic_store(&t->overruns, overruns);
	free(buf);
	return NULL;
}

static void run_shared(struct shm_seg *seg, uint32_t fb, uint64_t total, uint64_t seed)
{
	struct shared_test *t = calloc(1, sizeof(*t));
	struct shared_arg wa[SH_WRITERS], ra[SH_READERS];
	pthread_t wt[SH_WRITERS], rt[SH_READERS];
	unsigned int nr = SH_PACED + SH_LOSSY;
	uint64_t waits = 0;

	if (!t) {
		FAIL("out of memory");
		return;
	}
	t->frame_bytes = fb;
	t->total = total;
	t->seed = seed;
	for (unsigned int k = 0; k < SH_WRITERS; k++) {
		t->ring[k] = shm_seg_ring(seg, 0, k, true);
		/* Each slot has its own ring at its own place, and its own positions. */
		if (t->ring[k].bytes != STRESS_SLOT_RING ||
		    t->ring[k].data != shm_seg_ring(seg, 0, 0, false).data +
				       (size_t)k * SHM_SLOT_RING_MAX ||
		    t->ring[k].slot != shm_seg_slot(seg, 0, k))
			FAIL("slot %u: ring geometry", k);
		atomic_store(&t->ring[k].slot->write_claim, 0);
		atomic_store(&t->ring[k].slot->write_end, 0);
	}
	for (unsigned int k = 0; k < SH_WRITERS; k++) {
		wa[k] = (struct shared_arg){ t, k };
		if (pthread_create(&wt[k], NULL, shared_writer, &wa[k])) {
			FAIL("pthread_create");
			return;
		}
	}
	for (unsigned int r = 0; r < nr; r++) {
		ra[r] = (struct shared_arg){ t, r };
		if (pthread_create(&rt[r], NULL, r < SH_PACED ? paced_reader : lossy_reader,
				   &ra[r])) {
			FAIL("pthread_create");
			return;
		}
	}
	for (unsigned int k = 0; k < SH_WRITERS; k++)
		pthread_join(wt[k], NULL);
	for (unsigned int r = 0; r < nr; r++)
		pthread_join(rt[r], NULL);
	for (unsigned int k = 0; k < SH_WRITERS; k++) {
		if (shm_ring_written(&t->ring[k]) != total && !failed_yet())
			FAIL("fb %u slot %u: published %" PRIu64 " of %" PRIu64, fb, k,
			     shm_ring_written(&t->ring[k]), total);
		waits += t->waits_full[k];
	}
	printf("shared fb %3u: %u writers x %" PRIu64 " frames (%.1f laps of a %u-byte slot ring), "
	       "%u paced readers got all, %" PRIu64 " full waits\n", fb, SH_WRITERS, total,
	       (double)total / shm_ring_frames(&t->ring[0], fb), STRESS_SLOT_RING, SH_PACED,
	       waits);
	if (SH_LOSSY) {
		printf("  lossy reader: %" PRIu64 " frames verified, %" PRIu64 " spoiled in %" PRIu64
		       " overruns, %" PRIu64 " skipped\n", atomic_load(&t->verified),
		       atomic_load(&t->spoiled), atomic_load(&t->overruns), atomic_load(&t->skipped));
		if (!atomic_load(&t->verified) && !failed_yet())
			FAIL("fb %u: the lossy reader verified nothing", fb);
		if (atomic_load(&t->verified) + atomic_load(&t->spoiled) + atomic_load(&t->skipped) !=
		    SH_WRITERS * total && !failed_yet())
			FAIL("fb %u: lossy reader accounted for %" PRIu64 " frames of %" PRIu64, fb,
			     atomic_load(&t->verified) + atomic_load(&t->spoiled) +
			     atomic_load(&t->skipped), SH_WRITERS * total);
	}
	free(t);
}

/* ---- grid seqlock --------------------------------------------------------- */

#define GRID_RATE	44100u
#define GRID_STEP	UINT64_C(7777777)	/* ns between rebases */
#define SEQ_READERS	2

struct grid_expect {
	uint64_t base_tick;
	uint32_t shift;
};

struct seq_test {
	struct shm_cable *c;		/* grid */
	struct shm_slot *slot;		/* timeline */
	unsigned int salt;		/* which timeline: its values differ */
	uint64_t n;			/* most writes */
	uint64_t min_loads;		/* per reader, before the writer may stop */
	_Atomic uint64_t written;	/* writes done */
	_Atomic unsigned int ready;	/* readers started */
	_Atomic unsigned int satisfied;	/* readers with min_loads */
	uint64_t base_ns;
	struct grid_expect *grid;	/* grid[k]: the state after write k */
	atomic_bool done;
	_Atomic uint64_t loads, eagain;
};

static uint32_t shift_of(uint64_t k)
{
	return k ? LOOP_SHIFT_MIN + (uint32_t)(k * 7919 % (LOOP_SHIFT_MAX - LOOP_SHIFT_MIN + 1))
		 : LOOP_SHIFT_NOMINAL;
}

static void writer_start(struct seq_test *t)
{
	/* Readers first, so they see the writes happen. */
	while (atomic_load(&t->ready) < SEQ_READERS)
		sched_yield();
}

/* Enough writes, and every reader has loaded enough snapshots meanwhile. */
static bool writer_may_stop(struct seq_test *t, uint64_t k)
{
	return k >= t->n || (k >= t->n / 16 && atomic_load(&t->satisfied) == SEQ_READERS);
}

static void *grid_writer(void *arg)
{
	struct seq_test *t = arg;

	writer_start(t);
	for (uint64_t k = 1; !failed_yet(); k++) {
		shm_grid_set_shift(t->c, GRID_RATE, shift_of(k), t->base_ns + k * GRID_STEP);
		atomic_store(&t->written, k);
		if (writer_may_stop(t, k))
			break;
	}
	atomic_store(&t->done, true);
	return NULL;
}

static int grid_check(struct seq_test *t, const struct shm_grid *g, uint64_t *last)
{
	uint64_t k = (g->base_ns - t->base_ns) / GRID_STEP;

	if (g->base_ns < t->base_ns || g->base_ns != t->base_ns + k * GRID_STEP || k > t->n) {
		FAIL("grid: base_ns %" PRIu64 " was never written", g->base_ns);
		return -1;
	}
	if (g->base_tick != t->grid[k].base_tick || g->shift != t->grid[k].shift) {
		FAIL("grid: torn snapshot: write %" PRIu64 " base_tick %" PRIu64 " shift %u, want %"
		     PRIu64 " %u", k, g->base_tick, g->shift, t->grid[k].base_tick, t->grid[k].shift);
		return -1;
	}
	if (g->rate != GRID_RATE) {
		FAIL("grid: load changed the local rate to %u", g->rate);
		return -1;
	}
	if (k < *last) {
		FAIL("grid: went back from write %" PRIu64 " to %" PRIu64, *last, k);
		return -1;
	}
	*last = k;
	return 0;
}

static void *grid_reader(void *arg)
{
	struct seq_test *t = arg;
	uint64_t last = 0, loads = 0, eagain = 0;
	bool was_done;

	atomic_fetch_add(&t->ready, 1);
	do {
		struct shm_grid g = { .rate = GRID_RATE }, keep;

		was_done = atomic_load(&t->done);
		keep = g;
		if (shm_grid_load(t->c, &g) < 0) {
			if (memcmp(&g, &keep, sizeof(g)))
				FAIL("grid: failed load changed the caller's grid");
			eagain++;
			continue;
		}
		if (++loads == t->min_loads)
			atomic_fetch_add(&t->satisfied, 1);
		if (grid_check(t, &g, &last) < 0)
			break;
	} while (!was_done && !failed_yet());
	/* After the writer: the last write, whole. */
	if (!failed_yet() && last != atomic_load(&t->written))
		FAIL("grid: last snapshot is write %" PRIu64 " of %" PRIu64, last,
		     atomic_load(&t->written));
	atomic_fetch_add(&t->loads, loads);
	atomic_fetch_add(&t->eagain, eagain);
	return NULL;
}

/* ---- timeline seqlock ----------------------------------------------------- */

/* Every field of write i is a different function of i (and of the slot's salt). */
static void tl_make(struct shm_timeline *tl, uint64_t i, unsigned int salt)
{
	tl->count = i;
	for (unsigned int k = 0; k < SHM_TL_SPANS; k++) {
		tl->span[k].begin_tick = i * 1000 + k + ((uint64_t)salt << 56);
		tl->span[k].end_tick = (i * 1000 + k) ^ UINT64_C(0xf0f0f0f0f0f0f0f0) ^ salt;
		tl->span[k].begin_pos = i * UINT64_C(0x9e3779b97f4a7c15) + k + salt * 77u;
	}
}

static void *tl_writer(void *arg)
{
	struct seq_test *t = arg;
	struct shm_timeline tl;

	writer_start(t);
	for (uint64_t i = 1; !failed_yet(); i++) {
		tl_make(&tl, i, t->salt);
		shm_timeline_store(t->slot, &tl);
		atomic_store(&t->written, i);
		if (writer_may_stop(t, i))
			break;
	}
	atomic_store(&t->done, true);
	return NULL;
}

static void *tl_reader(void *arg)
{
	struct seq_test *t = arg;
	uint64_t last = 0, loads = 0, eagain = 0;
	bool was_done;

	atomic_fetch_add(&t->ready, 1);
	do {
		struct shm_timeline tl, want;

		was_done = atomic_load(&t->done);
		if (shm_timeline_load(t->slot, &tl) < 0) {
			if (tl.count)
				FAIL("timeline: failed load left count %" PRIu64, tl.count);
			eagain++;
			continue;
		}
		if (++loads == t->min_loads)
			atomic_fetch_add(&t->satisfied, 1);
		tl_make(&want, tl.count, t->salt);
		if (tl.count > t->n || memcmp(&tl, &want, sizeof(tl))) {
			FAIL("timeline %u: torn or foreign snapshot (count %" PRIu64 ")", t->salt,
			     tl.count);
			break;
		}
		if (tl.count < last) {
			FAIL("timeline: went back from %" PRIu64 " to %" PRIu64, last, tl.count);
			break;
		}
		last = tl.count;
	} while (!was_done && !failed_yet());
	if (!failed_yet() && last != atomic_load(&t->written))
		FAIL("timeline: last snapshot is write %" PRIu64 " of %" PRIu64, last,
		     atomic_load(&t->written));
	atomic_fetch_add(&t->loads, loads);
	atomic_fetch_add(&t->eagain, eagain);
	return NULL;
}

#define TL_SLOTS 2	/* timelines written at once, in slots 0 and TL_SLOT_STEP */
#define TL_SLOT_STEP 9

static void run_seqlocks(struct shm_seg *seg, uint64_t n, uint64_t min_loads)
{
	struct seq_test g = { .c = shm_seg_cable(seg, 1), .n = n, .min_loads = min_loads,
			      .base_ns = UINT64_C(1) << 40 };
	struct seq_test tl[TL_SLOTS];
	struct shm_cable *sim = calloc(1, sizeof(*sim));
	struct shm_timeline zero;
	pthread_t th[(1 + TL_SLOTS) * (1 + SEQ_READERS)];
	unsigned int nth = 0;

	g.grid = calloc(n + 1, sizeof(*g.grid));
	if (!sim || !g.grid) {
		FAIL("out of memory");
		return;
	}
	/* What each write must leave: the same calls on a private cable. */
	shm_grid_reset(sim, g.base_ns);
	g.grid[0] = (struct grid_expect){ 0, LOOP_SHIFT_NOMINAL };
	for (uint64_t k = 1; k <= n; k++) {
		struct shm_grid s = { .rate = GRID_RATE };

		shm_grid_set_shift(sim, GRID_RATE, shift_of(k), g.base_ns + k * GRID_STEP);
		shm_grid_load(sim, &s);
		g.grid[k] = (struct grid_expect){ s.base_tick, s.shift };
	}
	atomic_store(&g.c->rate_shift, 0);	/* reset falls back to nominal */
	shm_grid_reset(g.c, g.base_ns);
	for (unsigned int i = 0; i < TL_SLOTS; i++) {
		tl[i] = (struct seq_test){ .slot = shm_seg_slot(seg, 0, i * TL_SLOT_STEP),
					   .salt = i * TL_SLOT_STEP, .n = n, .min_loads = min_loads };
		tl_make(&zero, 0, tl[i].salt);
		shm_timeline_store(tl[i].slot, &zero);
	}

	pthread_create(&th[nth++], NULL, grid_writer, &g);
	for (unsigned int i = 0; i < TL_SLOTS; i++)
		pthread_create(&th[nth++], NULL, tl_writer, &tl[i]);
	for (int i = 0; i < SEQ_READERS; i++) {
		pthread_create(&th[nth++], NULL, grid_reader, &g);
		for (unsigned int j = 0; j < TL_SLOTS; j++)
			pthread_create(&th[nth++], NULL, tl_reader, &tl[j]);
	}
	for (unsigned int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	printf("grid: %" PRIu64 " writes, %" PRIu64 " consistent loads, %" PRIu64 " gave up\n",
	       atomic_load(&g.written), atomic_load(&g.loads), atomic_load(&g.eagain));
	for (unsigned int i = 0; i < TL_SLOTS; i++)
		printf("timeline (slot %u): %" PRIu64 " writes, %" PRIu64 " consistent loads, %"
		       PRIu64 " gave up\n", tl[i].salt, atomic_load(&tl[i].written),
		       atomic_load(&tl[i].loads), atomic_load(&tl[i].eagain));
	free(g.grid);
	free(sim);
}

/*
 * Give cable 0's rings a size and their pages, as a parameter lock and its
 * playbacks would (the stress runs use the ring layer without the lock).
 */
static void size_rings(struct shm_seg *seg, uint32_t bytes)
{
	char why[256];

	atomic_store(&shm_seg_cable(seg, 0)->ring_bytes, bytes);
	for (unsigned int k = 0; k < SHM_SLOTS; k++)
		if (shm_seg_reserve_ring(seg, 0, k, bytes, why, sizeof(why)) < 0)
			FAIL("%s", why);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/stress-ring.XXXXXX", why[768];
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	const char *env = getenv("STRESS_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 24;
	uint32_t fbs[] = { 1, 6, 9, 256 };
	uint32_t shared_fbs[] = { 4, 6, 24 };	/* 6: the slot ring ends in a partial frame */
	struct shm_seg_config cfg = { .card = "stress", .mode = 0600, .gid = -1 };
	struct shm_seg seg;
	uint64_t moved = 0;
	int err;

	if (scale <= 0)
		scale = 1.0;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	cfg.dir = dir;
	err = shm_seg_open(&seg, &cfg, why, sizeof(why));
	if (err < 0) {
		fprintf(stderr, "FAIL: %s\n", why);
		rmdir(dir);
		return 1;
	}
	printf("seed %" PRIu64 " (STRESS_SEED to replay), scale %g\n", seed ? seed : 1, scale);
	for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]) && !failed_yet(); i++) {
		/* About 24 MiB through the ring per size, at least 64 laps. */
		uint64_t total = (uint64_t)(scale * (24u << 20) / fbs[i]);
		uint64_t laps = (uint64_t)(scale * 64 * (SHM_SLOT_RING_MAX / fbs[i]));

		if (total < laps)
			total = laps;
		size_rings(&seg, SHM_SLOT_RING_MAX);
		moved += run_ring(&seg, fbs[i], total, (seed ? seed : 1) + i);
	}
	for (size_t i = 0; i < sizeof(shared_fbs) / sizeof(shared_fbs[0]) && !failed_yet(); i++) {
		/* About 12 MiB per writer and size, at least 32 laps of a slot ring. */
		uint64_t total = (uint64_t)(scale * (12u << 20) / shared_fbs[i]);
		uint64_t laps = (uint64_t)(scale * 32 * (STRESS_SLOT_RING / shared_fbs[i]));

		if (total < laps)
			total = laps;
		size_rings(&seg, STRESS_SLOT_RING);
		run_shared(&seg, shared_fbs[i], total, (seed ? seed : 1) + 100 + i);
		moved += SH_WRITERS * total;
	}
	if (!failed_yet())
		run_seqlocks(&seg, (uint64_t)(scale * (1 << 20)), (uint64_t)(scale * 20000));
	shm_seg_close(&seg);
	snprintf(why, sizeof(why), "%s/alsa-loopback-stress.0", dir);
	unlink(why);
	rmdir(dir);
	printf("%" PRIu64 " frames moved%s\n", moved,
	       failed_yet() ? "" : ", every frame intact, every snapshot whole");
	CHECK(!failed_yet(), "stress");
	return check_finish();
}
