// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-shm-ring.c - the shared segment and its ring, grid and timeline,
 * without ALSA.
 *
 * Everything here is checked against values computed independently in the
 * test (frame patterns, exact tick arithmetic, file contents and modes), so
 * a regression in the shm_* files shows up as a named failure.  Random cases
 * use a seeded generator; the seed is printed so a failure can be replayed
 * with SHM_TEST_SEED=<seed>.
 */
#define _GNU_SOURCE
#include "shm_cable.h"
#include "shm_flow.h"
#include "shm_hear.h"
#include "shm_layout.h"
#include "shm_place.h"
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* xorshift64*: reproducible from the printed seed. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* Uniform-ish in [lo, hi]. */
static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	if (hi - lo == UINT64_MAX)
		return rnd();
	return lo + rnd() % (hi - lo + 1);
}

/* The byte a frame-counter pattern puts at byte j of frame idx. */
static uint8_t pattern(uint64_t idx, uint32_t j)
{
	uint64_t x = (idx + 1) * UINT64_C(0x9e3779b97f4a7c15) + j * UINT64_C(0x100000001b3);

	return (uint8_t)(x >> 56 ^ x >> 29 ^ x);
}

static void fill(uint8_t *buf, uint32_t frame_bytes, uint64_t first, uint32_t frames)
{
	for (uint32_t f = 0; f < frames; f++)
		for (uint32_t j = 0; j < frame_bytes; j++)
			buf[(size_t)f * frame_bytes + j] = pattern(first + f, j);
}

/* Index of the first frame that differs from the pattern, or frames. */
static uint32_t verify(const uint8_t *buf, uint32_t frame_bytes, uint64_t first, uint32_t frames)
{
	for (uint32_t f = 0; f < frames; f++)
		for (uint32_t j = 0; j < frame_bytes; j++)
			if (buf[(size_t)f * frame_bytes + j] != pattern(first + f, j))
				return f;
	return frames;
}

/* ---- ring copies ---------------------------------------------------------- */

/*
 * The ring under test sits inside a larger backing buffer (the whole cable
 * ring, as a slot ring does in the segment): every byte of the backing
 * outside r->data .. r->data + r->bytes must stay untouched.
 */
static void test_spans(const struct shm_ring *r, uint32_t fb)
{
	uint32_t rf = shm_ring_frames(r, fb);
	uint8_t *ring = r->data;
	struct shm_span span[2];
	uint64_t bases[] = { 0, 1, rf - 1, rf, (uint64_t)rf * 7 + rf / 2,
			     UINT64_C(1) << 40, UINT64_MAX - rf };

	CHECK(rf == r->bytes / fb, "ring %u fb %u rf %u", r->bytes, fb, rf);
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		for (int t = 0; t < 50; t++) {
			uint64_t pos = bases[b] + rnd_range(0, 3);
			uint32_t frames = (uint32_t)rnd_range(1, rf);
			uint32_t off = (uint32_t)(pos % rf);
			unsigned int n = shm_ring_spans(r, fb, pos, frames, span);
			uint32_t total = 0;

			CHECK(n == (off + (uint64_t)frames > rf ? 2u : 1u),
			      "ring %u fb %u pos %" PRIu64 " frames %u: %u spans", r->bytes, fb, pos,
			      frames, n);
			if (n < 1 || n > 2)
				continue;
			CHECK(span[0].ptr == ring + (size_t)off * fb, "ring %u fb %u first span offset",
			      r->bytes, fb);
			for (unsigned int i = 0; i < n; i++) {
				total += span[i].frames;
				CHECK(span[i].frames >= 1, "ring %u fb %u empty span %u", r->bytes, fb, i);
				CHECK(span[i].ptr >= ring && span[i].ptr + (size_t)span[i].frames * fb <=
				      ring + (size_t)rf * fb, "ring %u fb %u span %u out of the ring",
				      r->bytes, fb, i);
			}
			if (n == 2)
				CHECK(span[1].ptr == ring && span[0].frames == rf - off,
				      "ring %u fb %u wrap split at %u", r->bytes, fb, span[0].frames);
			CHECK(total == frames, "ring %u fb %u total %u != %u", r->bytes, fb, total,
			      frames);
		}
	}
	/* Degenerate inputs: nothing to copy, no span. */
	CHECK(shm_ring_spans(r, fb, 5, 0, span) == 0, "zero frames");
	CHECK(shm_ring_spans(r, 0, 5, 10, span) == 0, "zero frame bytes");
	CHECK(shm_ring_spans(r, r->bytes + 1, 5, 10, span) == 0, "frame > ring %u", r->bytes);
	CHECK(shm_ring_frames(r, r->bytes + 1) == 0 && shm_ring_frames(r, 0) == 0,
	      "frames of an impossible frame size");
	/* Clamping: asking for more than the ring gives exactly the ring. */
	for (uint64_t pos = 0; pos < 3; pos++) {
		unsigned int n = shm_ring_spans(r, fb, pos * (rf / 3 + 1), rf + 1000, span);
		uint32_t total = 0;

		for (unsigned int i = 0; i < n && i < 2; i++)
			total += span[i].frames;
		CHECK(total == rf, "ring %u fb %u clamp gave %u of %u", r->bytes, fb, total, rf);
		n = shm_ring_spans(r, fb, pos, UINT32_MAX, span);
		total = 0;
		for (unsigned int i = 0; i < n && i < 2; i++)
			total += span[i].frames;
		CHECK(total == rf, "ring %u fb %u clamp of UINT32_MAX gave %u", r->bytes, fb, total);
	}
}

/* Every backing byte outside the ring's whole frames still holds 0xa5. */
static void check_outside(const struct shm_ring *r, uint32_t fb, const uint8_t *backing,
			  size_t backing_bytes, const char *when)
{
	size_t lo = (size_t)(r->data - backing);
	size_t hi = lo + (size_t)shm_ring_frames(r, fb) * fb;

	for (size_t i = 0; i < backing_bytes; i++) {
		if ((i < lo || i >= hi) && backing[i] != 0xa5) {
			CHECK(0, "ring %u fb %u: byte %zd from the ring's start touched %s", r->bytes, fb,
			      (ssize_t)i - (ssize_t)lo, when);
			return;
		}
	}
	check_pass();
}

static void test_round_trip(const struct shm_ring *r, uint32_t fb, uint8_t *backing,
			    size_t backing_bytes)
{
	uint32_t rf = shm_ring_frames(r, fb);
	uint8_t *ring = r->data;
	uint8_t *src = malloc((size_t)(rf + 64) * fb);
	uint8_t *dst = malloc((size_t)(rf + 64) * fb);

	if (!src || !dst) {
		CHECK(0, "out of memory");
		goto out;
	}
	/* Bytes past the last whole frame, and around the ring, are never touched. */
	memset(backing, 0xa5, backing_bytes);
	for (int t = 0; t < 40; t++) {
		/* Half the cases straddle the wrap on purpose. */
		uint32_t frames = (uint32_t)rnd_range(1, t % 4 == 0 ? rf : (rf < 600 ? rf : 600));
		uint64_t lap = rnd_range(0, UINT64_C(1) << 30) * rf;
		uint64_t pos = t % 2 ? lap + rf - rnd_range(1, frames) : lap + rnd_range(0, rf - 1);
		uint32_t bad;

		fill(src, fb, pos, frames);
		shm_ring_write(r, fb, pos, src, frames);
		/* Frame p lives at slot p % rf: check the placement directly. */
		for (uint32_t f = 0; f < frames; f += 1 + frames / 16) {
			uint64_t p = pos + f;

			CHECK(verify(ring + (size_t)(p % rf) * fb, fb, p, 1) == 1,
			      "ring %u fb %u frame %" PRIu64 " not at slot %" PRIu64, r->bytes, fb, p,
			      p % rf);
		}
		memset(dst, 0x5a, (size_t)frames * fb + fb);
		shm_ring_read(r, fb, pos, dst, frames);
		bad = verify(dst, fb, pos, frames);
		CHECK(bad == frames, "ring %u fb %u pos %" PRIu64 " frames %u: frame %u differs",
		      r->bytes, fb, pos, frames, bad);
		CHECK(dst[(size_t)frames * fb] == 0x5a, "ring %u fb %u read past its frames", r->bytes,
		      fb);
	}
	check_outside(r, fb, backing, backing_bytes, "by writes");

	/* Clamp on write: only rf frames land, the rest of src is ignored. */
	fill(src, fb, 1000, rf + 64);
	shm_ring_write(r, fb, 1000, src, rf + 64);
	memset(dst, 0x5a, (size_t)(rf + 64) * fb);
	shm_ring_read(r, fb, 1000, dst, rf + 64);
	CHECK(verify(dst, fb, 1000, rf) == rf, "ring %u fb %u clamped round trip", r->bytes, fb);
	/* Clamp on read: nothing written past rf frames of dst. */
	for (size_t i = (size_t)rf * fb; i < (size_t)(rf + 64) * fb; i++) {
		if (dst[i] != 0x5a) {
			CHECK(dst[i] == 0x5a, "ring %u fb %u clamped read wrote byte %zu", r->bytes, fb,
			      i);
			break;
		}
	}
	check_outside(r, fb, backing, backing_bytes, "by a clamped write");
out:
	free(src);
	free(dst);
}

static void test_claim_protocol(void)
{
	struct shm_slot *sl = calloc(SHM_SLOTS, sizeof(*sl));
	static uint8_t dummy[1];
	uint32_t fbs[] = { 1, 3, 9, 256 };

	if (!sl) {
		CHECK(0, "out of memory");
		return;
	}
	for (int shared = 0; shared < 2; shared++) {
		/* The positions are the slot's; the ring size is always ours. */
		struct shm_ring r = { dummy, shared ? 192512u : SHM_SLOT_RING_MAX,
				      &sl[shared ? 5 : 0] };
		struct shm_slot *c = r.slot;

		CHECK(shm_ring_written(&r) == 0, "fresh slot written %" PRIu64, shm_ring_written(&r));
		for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
			uint32_t fb = fbs[i], rf = shm_ring_frames(&r, fb);
			uint64_t claims[] = { 0, 1, rf - 1, rf, (uint64_t)rf + 1,
					      (uint64_t)rf * 5 + 17, UINT64_MAX };

			CHECK(rf == r.bytes / fb, "ring %u fb %u frames %u", r.bytes, fb, rf);
			shm_ring_claim(&r, 0);
			CHECK(shm_ring_intact_from(&r, fb) == 0, "ring %u fb %u no claim", r.bytes, fb);
			for (size_t k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
				uint64_t want = claims[k] > rf ? claims[k] - rf : 0;

				shm_ring_claim(&r, claims[k]);
				CHECK(atomic_load(&c->write_claim) == claims[k], "claim stored");
				CHECK(shm_ring_intact_from(&r, fb) == want,
				      "ring %u fb %u claim %" PRIu64 ": intact from %" PRIu64
				      ", want %" PRIu64, r.bytes, fb, claims[k],
				      shm_ring_intact_from(&r, fb), want);
				/* The claim never moves write_end: readers see only published data. */
				CHECK(shm_ring_written(&r) == atomic_load(&c->write_end),
				      "claim touched end");
			}
			shm_ring_publish(&r, (uint64_t)rf * 3 + i);
			CHECK(shm_ring_written(&r) == (uint64_t)rf * 3 + i, "publish");
		}
		/*
		 * The protocol as a reader uses it: copy [q, q+n) with write_end >=
		 * q+n; a writer that then claimed up to q + rf has not reached slot
		 * q, one that claimed q + rf + 1 has.
		 */
		{
			uint32_t fb = 9, rf = shm_ring_frames(&r, fb);
			uint64_t q = 123456;

			shm_ring_claim(&r, q + 100);
			shm_ring_publish(&r, q + 100);
			CHECK(q + 10 <= shm_ring_written(&r), "readable");
			shm_ring_claim(&r, q + rf);
			CHECK(q >= shm_ring_intact_from(&r, fb), "ring %u: claim q+rf must leave q intact",
			      r.bytes);
			shm_ring_claim(&r, q + rf + 1);
			CHECK(q < shm_ring_intact_from(&r, fb), "ring %u: claim q+rf+1 must spoil q",
			      r.bytes);
			CHECK(q + 1 >= shm_ring_intact_from(&r, fb), "ring %u: but not q+1", r.bytes);
		}
	}
	/* Slots are independent: claims and publishes of one never show in another. */
	for (unsigned int k = 0; k < SHM_SLOTS; k++) {
		struct shm_ring r = { dummy, 131072u, &sl[k] };

		shm_ring_claim(&r, 1000000 + k);
		shm_ring_publish(&r, 2000000 + k);
	}
	for (unsigned int k = 0; k < SHM_SLOTS; k++) {
		struct shm_ring r = { dummy, 131072u, &sl[k] };
		uint32_t rf = shm_ring_frames(&r, 4);

		CHECK(shm_ring_written(&r) == 2000000 + k, "slot %u written %" PRIu64, k,
		      shm_ring_written(&r));
		CHECK(shm_ring_intact_from(&r, 4) == 1000000 + k - rf, "slot %u intact %" PRIu64, k,
		      shm_ring_intact_from(&r, 4));
	}
	free(sl);
}

/* ---- clock grid ----------------------------------------------------------- */

static void test_grid_math(void)
{
	for (int t = 0; t < 20000; t++) {
		struct shm_grid g = {
			.base_ns = rnd_range(0, UINT64_C(1) << 62),
			.base_tick = rnd_range(0, UINT64_C(1) << 50),
			.rate = (uint32_t)rnd_range(8000, 768000),
			.shift = (uint32_t)rnd_range(LOOP_SHIFT_MIN, LOOP_SHIFT_MAX),
		};
		/* Near the base and far from it (up to days of ticks). */
		uint64_t d = t % 3 == 0 ? rnd_range(1, 1000) : rnd_range(1, UINT64_C(1) << 40);
		uint64_t k = g.base_tick + d;
		uint64_t ns = shm_grid_ns(&g, k);

		CHECK(ns > g.base_ns, "tick %" PRIu64 " after base maps to base ns", k);
		CHECK(shm_grid_tick(&g, ns) >= k, "rate %u shift %u: tick(ns(%" PRIu64 ")) = %" PRIu64,
		      g.rate, g.shift, k, shm_grid_tick(&g, ns));
		CHECK(shm_grid_tick(&g, ns - 1) < k,
		      "rate %u shift %u: tick(ns(%" PRIu64 ")-1) = %" PRIu64 " (early)", g.rate,
		      g.shift, k, shm_grid_tick(&g, ns - 1));
		/* At or before the base: the base. */
		CHECK(shm_grid_ns(&g, g.base_tick) == g.base_ns, "ns(base_tick)");
		CHECK(shm_grid_ns(&g, g.base_tick - (g.base_tick ? 1 : 0)) == g.base_ns,
		      "ns(before base)");
		CHECK(shm_grid_tick(&g, g.base_ns) == g.base_tick, "tick(base_ns)");
		CHECK(shm_grid_tick(&g, g.base_ns / 2) == g.base_tick, "tick(before base)");
		/* One second holds rate * 1e5 / shift ticks, rounded down. */
		CHECK(shm_grid_tick(&g, g.base_ns + 1000000000u) - g.base_tick ==
		      (uint64_t)g.rate * LOOP_SHIFT_NOMINAL / g.shift, "one second at rate %u shift %u",
		      g.rate, g.shift);
		/* Monotonic in ns. */
		{
			uint64_t a = g.base_ns + rnd_range(0, UINT64_C(1) << 40);
			uint64_t b = a + rnd_range(0, 1000000);

			CHECK(shm_grid_tick(&g, a) <= shm_grid_tick(&g, b), "tick not monotonic");
		}
	}
	/* The nominal shift runs at exactly the rate. */
	{
		struct shm_grid g = { .base_ns = 5, .base_tick = 7, .rate = 48000,
				      .shift = LOOP_SHIFT_NOMINAL };

		CHECK(shm_grid_tick(&g, 5 + 10 * UINT64_C(1000000000)) == 7 + 480000, "10 s at 48k");
		CHECK(shm_grid_ns(&g, 7 + 48000) == 5 + UINT64_C(1000000000), "48000 ticks = 1 s");
		CHECK(shm_grid_ns(&g, 8) == 5 + 20834, "first tick rounds up (%" PRIu64 ")",
		      shm_grid_ns(&g, 8));
		g.rate = 0;	/* no rate: no time passes, nothing divides by 0 */
		CHECK(shm_grid_tick(&g, 1000) == 7 && shm_grid_ns(&g, 100) == 5, "rate 0");
	}
	/* Far ticks saturate instead of wrapping. */
	{
		struct shm_grid g = { .base_ns = UINT64_MAX - 10, .base_tick = 0, .rate = 8000,
				      .shift = LOOP_SHIFT_MAX };

		CHECK(shm_grid_ns(&g, UINT64_C(1) << 60) == UINT64_MAX, "ns saturates");
	}
}

static void test_grid_shift(void)
{
	struct shm_cable *c = calloc(1, sizeof(*c));

	if (!c) {
		CHECK(0, "out of memory");
		return;
	}
	for (int t = 0; t < 2000; t++) {
		uint32_t rate = (uint32_t)rnd_range(8000, 768000);
		uint64_t start = rnd_range(1, UINT64_C(1) << 60);
		struct shm_grid g = { .rate = rate }, g2 = { .rate = rate };
		uint64_t now = start;

		/* A fresh cable has shift 0: reset must fall back to nominal. */
		if (t == 0)
			CHECK(atomic_load(&c->rate_shift) == 0, "fresh cable");
		shm_grid_reset(c, start);
		CHECK(shm_grid_load(c, &g) == 0, "load after reset");
		CHECK(g.base_ns == start && g.base_tick == 0, "reset base");
		CHECK(g.rate == rate, "load must keep the local rate");
		if (t == 0)
			CHECK(g.shift == LOOP_SHIFT_NOMINAL, "reset shift %u", g.shift);
		for (int s = 0; s < 8; s++) {
			uint32_t want = (uint32_t)rnd_range(LOOP_SHIFT_MIN, LOOP_SHIFT_MAX);
			uint32_t shift = want;
			uint64_t before;

			/* Out-of-range requests are clamped. */
			switch (s) {
			case 1: shift = 0; want = LOOP_SHIFT_MIN; break;
			case 2: shift = LOOP_SHIFT_MIN - 1; want = LOOP_SHIFT_MIN; break;
			case 3: shift = LOOP_SHIFT_MAX + 1; want = LOOP_SHIFT_MAX; break;
			case 4: shift = UINT32_MAX; want = LOOP_SHIFT_MAX; break;
			}
			now += rnd_range(0, UINT64_C(100000000000));
			shm_grid_load(c, &g);
			before = shm_grid_tick(&g, now);
			shm_grid_set_shift(c, rate, shift, now);
			CHECK(shm_grid_load(c, &g2) == 0, "load after set_shift");
			CHECK(g2.shift == want, "shift %u stored as %u, want %u", shift, g2.shift, want);
			CHECK(atomic_load(&c->rate_shift) == want, "raw shift %u",
			      atomic_load(&c->rate_shift));
			CHECK(g2.base_ns == now, "rebased at now");
			/* Continuous: the tick at the change is the old grid's tick. */
			CHECK(shm_grid_tick(&g2, now) == before,
			      "jump at change: %" PRIu64 " -> %" PRIu64, before, shm_grid_tick(&g2, now));
			CHECK(shm_grid_tick(&g2, now + 1) >= before, "went backwards");
			/* After the change the grid runs at the new speed. */
			CHECK(shm_grid_tick(&g2, now + 1000000000u) - before ==
			      (uint64_t)rate * LOOP_SHIFT_NOMINAL / want, "new speed");
			CHECK(atomic_load(&c->grid_seq) % 2 == 0, "seq left odd");
		}
	}
	free(c);
}

static void test_grid_hostile(void)
{
	struct shm_cable *c = calloc(1, sizeof(*c));
	uint32_t bad[] = { 0, 1, LOOP_SHIFT_MIN - 1, LOOP_SHIFT_MAX + 1, UINT32_MAX };
	uint32_t want[] = { LOOP_SHIFT_MIN, LOOP_SHIFT_MIN, LOOP_SHIFT_MIN, LOOP_SHIFT_MAX,
			    LOOP_SHIFT_MAX };
	struct shm_grid g, keep;

	if (!c) {
		CHECK(0, "out of memory");
		return;
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&g, 0, sizeof(g));
		g.rate = 768000;
		atomic_store(&c->grid_seq, 2 * (uint32_t)i);
		atomic_store(&c->grid_base_ns, 1000 + i);
		atomic_store(&c->grid_base_tick, 77 + i);
		atomic_store(&c->rate_shift, bad[i]);
		CHECK(shm_grid_load(c, &g) == 0, "even seq must load");
		CHECK(g.shift == want[i], "hostile shift %u loaded as %u", bad[i], g.shift);
		CHECK(g.base_ns == 1000 + i && g.base_tick == 77 + i && g.rate == 768000,
		      "loaded fields");
		/* Usable as a divisor: one second of ticks is finite and right. */
		CHECK(shm_grid_tick(&g, g.base_ns + 1000000000u) - g.base_tick ==
		      (uint64_t)768000 * LOOP_SHIFT_NOMINAL / want[i], "tick with clamped shift");
		/* A writer rebasing from a hostile shift still stores a sane one. */
		shm_grid_set_shift(c, 48000, LOOP_SHIFT_NOMINAL, g.base_ns + 5);
		CHECK(atomic_load(&c->rate_shift) == LOOP_SHIFT_NOMINAL, "set_shift after hostile");
		atomic_store(&c->rate_shift, bad[i]);
		shm_grid_reset(c, 99);
		CHECK(atomic_load(&c->rate_shift) == LOOP_SHIFT_NOMINAL,
		      "reset keeps hostile shift %u", atomic_load(&c->rate_shift));
	}
	/* A writer that died mid-write: odd seq forever.  Give up, keep *g. */
	atomic_store(&c->grid_seq, 7);
	atomic_store(&c->grid_base_ns, 123);
	atomic_store(&c->grid_base_tick, 456);
	atomic_store(&c->rate_shift, LOOP_SHIFT_NOMINAL);
	memset(&keep, 0x3c, sizeof(keep));
	g = keep;
	CHECK(shm_grid_load(c, &g) == -EAGAIN, "stuck odd seq must give -EAGAIN");
	CHECK(!memcmp(&g, &keep, sizeof(g)), "stuck seq changed the caller's grid");
	/*
	 * And the timeline readers, likewise: unreadable means count 0
	 * (silence).  Each playback slot has its own seqlock: one stuck slot
	 * silences that playback only.
	 */
	{
		struct shm_timeline tl;

		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			atomic_store(&c->play[k].tl_seq, 2 * k);
			atomic_store(&c->play[k].tl_count, 10 + k);
		}
		atomic_store(&c->play[5].tl_seq, 1);
		atomic_store(&c->play[5].tl_count, 3);
		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			memset(&tl, 0x3c, sizeof(tl));
			if (k == 5) {
				CHECK(shm_timeline_load(&c->play[k], &tl) == -EAGAIN, "stuck timeline seq");
				CHECK(tl.count == 0, "unreadable timeline count %" PRIu64, tl.count);
			} else {
				CHECK(shm_timeline_load(&c->play[k], &tl) == 0 && tl.count == 10 + k,
				      "slot %u next to a stuck slot: count %" PRIu64, k, tl.count);
			}
		}
		atomic_store(&c->play[5].tl_seq, 2);
		CHECK(shm_timeline_load(&c->play[5], &tl) == 0 && tl.count == 3,
		      "even timeline seq loads");
	}
	free(c);
}

/* ---- timeline ------------------------------------------------------------- */

/*
 * What a capture hears of a writer whose ring holds no frame (none sized
 * yet, or a size a peer scribbled to 0): silence, and the run still moves
 * on (a capture once spun here forever on a hostile segment).
 */
static void test_hear_no_ring(void)
{
	static uint8_t data[4096];
	struct shm_slot slot;
	struct shm_writer w[2], *heard[2];

	memset(&slot, 0, sizeof(slot));
	memset(w, 0, sizeof(w));
	for (unsigned int i = 0; i < 2; i++) {
		w[i].ring = (struct shm_ring){ data, i ? sizeof(data) : 0, &slot };
		shm_timeline_open(&w[i].tl, 1000, 0);
		w[i].written = 500;
	}
	for (unsigned int i = 0; i < 2; i++) {
		uint64_t frames = 256;
		unsigned int k = shm_writers_at(&w[i], 1, 4, 1100, &frames, heard);

		CHECK(k == i && frames >= 1 && frames <= 256,
		      "ring of %u bytes: %u heard, run %" PRIu64, w[i].ring.bytes, k, frames);
	}
}

static void test_timeline_basics(void)
{
	struct shm_timeline tl;
	struct shm_cable *c = calloc(1, sizeof(*c));
	uint64_t pos = 0, run = 0, tick = 0;

	if (!c) {
		CHECK(0, "out of memory");
		return;
	}
	memset(&tl, 0, sizeof(tl));
	CHECK(!shm_timeline_pos(&tl, 50, &pos, &run), "empty timeline covers nothing");
	CHECK(run == SHM_TICK_NEVER - 50, "empty run %" PRIu64, run);
	CHECK(!shm_timeline_tick(&tl, 50, &tick, &run), "empty timeline has no positions");
	shm_timeline_close(&tl, 10);	/* nothing open: no-op */
	CHECK(tl.count == 0, "close of empty opened something");

	shm_timeline_open(&tl, 100, 5000);
	CHECK(tl.count == 1 && tl.span[0].begin_tick == 100 && tl.span[0].begin_pos == 5000 &&
	      tl.span[0].end_tick == SHM_TICK_NEVER, "open");
	CHECK(!shm_timeline_pos(&tl, 99, &pos, &run) && run == 1, "before the span: run %" PRIu64,
	      run);
	CHECK(shm_timeline_pos(&tl, 100, &pos, &run) && pos == 5000 &&
	      run == SHM_TICK_NEVER - 100, "first tick of open span");
	CHECK(shm_timeline_pos(&tl, 150, &pos, &run) && pos == 5050, "inside: pos %" PRIu64, pos);

	shm_timeline_close(&tl, 200);
	CHECK(tl.span[0].end_tick == 200, "close");
	CHECK(shm_timeline_pos(&tl, 199, &pos, &run) && pos == 5099 && run == 1, "last tick");
	CHECK(!shm_timeline_pos(&tl, 200, &pos, &run) && run == SHM_TICK_NEVER - 200,
	      "end is exclusive");
	shm_timeline_close(&tl, 300);	/* already closed: unchanged */
	CHECK(tl.span[0].end_tick == 200, "second close moved the end");

	shm_timeline_open(&tl, 300, 5100);
	CHECK(!shm_timeline_pos(&tl, 250, &pos, &run) && run == 50, "gap run %" PRIu64, run);
	CHECK(shm_timeline_pos(&tl, 300, &pos, &run) && pos == 5100, "second span");
	CHECK(shm_timeline_pos(&tl, 120, &pos, &run) && pos == 5020 && run == 80,
	      "older segment still answers");
	/* Positions back to ticks. */
	CHECK(shm_timeline_tick(&tl, 5050, &tick, &run) && tick == 150 && run == 50,
	      "pos 5050 -> tick %" PRIu64 " run %" PRIu64, tick, run);
	CHECK(shm_timeline_tick(&tl, 5100, &tick, &run) && tick == 300, "pos 5100 -> %" PRIu64,
	      tick);
	CHECK(!shm_timeline_tick(&tl, 4000, &tick, &run) && run == 1000, "pos before: run %" PRIu64,
	      run);
	/* A close before the begin makes an empty span, not a negative one. */
	shm_timeline_close(&tl, 250);
	CHECK(tl.span[1].end_tick == 300, "close before begin: end %" PRIu64, tl.span[1].end_tick);
	CHECK(!shm_timeline_pos(&tl, 300, &pos, &run), "empty span covers nothing");

	/* More than SHM_TL_SPANS: the oldest are forgotten, slots reused in order. */
	memset(&tl, 0, sizeof(tl));
	for (uint64_t i = 0; i < SHM_TL_SPANS + 3; i++) {
		shm_timeline_open(&tl, 1000 * i, 100 * i);
		shm_timeline_close(&tl, 1000 * i + 100);
	}
	CHECK(tl.count == SHM_TL_SPANS + 3, "count %" PRIu64, tl.count);
	for (uint64_t i = 0; i < SHM_TL_SPANS + 3; i++) {
		bool live = i >= 3;
		bool got = shm_timeline_pos(&tl, 1000 * i + 7, &pos, &run);

		CHECK(got == live, "segment %" PRIu64 " live %d got %d", i, live, got);
		if (got)
			CHECK(pos == 100 * i + 7 && run == 93, "segment %" PRIu64 " pos %" PRIu64, i,
			      pos);
		else if (i < 3)
			CHECK(run == 3000 - (1000 * i + 7), "forgotten gap run %" PRIu64, run);
		got = shm_timeline_tick(&tl, 100 * i + 7, &tick, &run);
		CHECK(got == live && (!got || tick == 1000 * i + 7), "span %" PRIu64 " inverse",
		      i);
	}
	CHECK(tl.span[(SHM_TL_SPANS + 2) % SHM_TL_SPANS].begin_tick == 1000 * (SHM_TL_SPANS + 2),
	      "slot reuse");
	/* Store/load round trip through a slot is exact. */
	{
		struct shm_timeline back;

		shm_timeline_store(&c->play[0], &tl);
		CHECK(atomic_load(&c->play[0].tl_seq) % 2 == 0, "timeline seq left odd");
		memset(&back, 0xee, sizeof(back));
		CHECK(shm_timeline_load(&c->play[0], &back) == 0, "load");
		CHECK(!memcmp(&back, &tl, sizeof(tl)), "timeline round trip");
	}
	/*
	 * Every playback slot has a timeline of its own: a different one in
	 * each, stored in a scrambled order, each loads back exactly, and the
	 * seqlocks end even.
	 */
	{
		struct shm_timeline mine[SHM_SLOTS], back;

		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			memset(&mine[k], 0, sizeof(mine[k]));
			for (unsigned int i = 0; i <= k % 6; i++) {
				shm_timeline_open(&mine[k], 1000 * k + 100 * i, 7 * k + 50 * i);
				if (i < k % 6)
					shm_timeline_close(&mine[k], 1000 * k + 100 * i + 40);
			}
		}
		for (unsigned int i = 0; i < SHM_SLOTS; i++) {
			unsigned int k = (i * 7 + 3) % SHM_SLOTS;

			shm_timeline_store(&c->play[k], &mine[k]);
		}
		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			memset(&back, 0xee, sizeof(back));
			CHECK(shm_timeline_load(&c->play[k], &back) == 0 &&
			      !memcmp(&back, &mine[k], sizeof(back)), "slot %u timeline", k);
			CHECK(atomic_load(&c->play[k].tl_seq) == 2 * (k ? 1u : 2u),
			      "slot %u seq %u", k, atomic_load(&c->play[k].tl_seq));
		}
	}
	free(c);
}

/* Valid timelines: contiguous positions, increasing ticks, gaps between. */
static void test_timeline_valid_random(void)
{
	for (int t = 0; t < 3000; t++) {
		struct shm_timeline tl;
		uint64_t tick = rnd_range(0, UINT64_C(1) << 50), pos = rnd_range(0, UINT64_C(1) << 50);
		uint64_t b[8], e[8], p[8];
		unsigned int nseg = (unsigned int)rnd_range(1, 8);
		bool open_last = rnd() & 1;

		memset(&tl, 0, sizeof(tl));
		for (unsigned int i = 0; i < nseg; i++) {
			uint64_t len = rnd_range(0, 5000);

			tick += rnd_range(0, 3000);
			b[i] = tick;
			p[i] = pos;
			shm_timeline_open(&tl, tick, pos);
			if (i == nseg - 1 && open_last) {
				e[i] = SHM_TICK_NEVER;
				break;
			}
			shm_timeline_close(&tl, tick + len);
			e[i] = tick + len;
			tick += len;
			pos += len;
		}
		for (int q = 0; q < 40; q++) {
			unsigned int lo = nseg > SHM_TL_SPANS ? nseg - SHM_TL_SPANS : 0;
			uint64_t x = rnd_range(b[0] ? b[0] - 1 : 0, tick + 4000);
			uint64_t got_pos = 0, run = 0, want_run = SHM_TICK_NEVER - x;
			bool want = false, got;
			uint64_t want_pos = 0;

			/* Model: the live spans, the one covering x, the next begin. */
			for (unsigned int i = lo; i < nseg; i++) {
				if (x >= b[i] && x < e[i]) {
					want = true;
					want_pos = p[i] + (x - b[i]);
					want_run = e[i] - x;
				} else if (!want && b[i] > x && b[i] - x < want_run) {
					want_run = b[i] - x;
				}
			}
			got = shm_timeline_pos(&tl, x, &got_pos, &run);
			CHECK(got == want && (!want || got_pos == want_pos) && run == want_run,
			      "tick %" PRIu64 ": got %d pos %" PRIu64 " run %" PRIu64 ", want %d %"
			      PRIu64 " %" PRIu64, x, got, got_pos, run, want, want_pos, want_run);
			/* The answer holds, linearly, for the whole run. */
			if (got && run != SHM_TICK_NEVER - x) {
				uint64_t p2 = 0, r2 = 0;

				CHECK(shm_timeline_pos(&tl, x + run - 1, &p2, &r2) &&
				      p2 == got_pos + run - 1 && r2 == 1, "run end");
			}
			/* Inverse: a heard position maps back to its tick. */
			if (got) {
				uint64_t t2 = 0, r2 = 0;

				CHECK(shm_timeline_tick(&tl, got_pos, &t2, &r2) && t2 == x,
				      "pos %" PRIu64 " -> tick %" PRIu64 ", want %" PRIu64, got_pos, t2, x);
			}
		}
	}
}

/* Whatever a peer scribbled: every answer is finite progress, no crash. */
static void test_timeline_garbage(void)
{
	static const uint64_t edge[] = { 0, 1, 2, UINT64_MAX / 2, UINT64_MAX - 2,
					 UINT64_MAX - 1, UINT64_MAX };
	struct shm_slot *c = calloc(1, sizeof(*c));
	unsigned int bad_pos = 0, bad_tick = 0;

	if (!c) {
		CHECK(0, "out of memory");
		return;
	}
	for (int t = 0; t < 20000; t++) {
		struct shm_timeline tl;
		uint64_t *w = (uint64_t *)&tl;

		/* Raw words through a shared slot, as a peer would leave them. */
		for (size_t i = 0; i < sizeof(tl) / sizeof(uint64_t); i++)
			w[i] = rnd() & 1 ? rnd() : edge[rnd() % 7] + rnd_range(0, 3);
		if (t % 2)
			tl.count = rnd_range(0, 9);
		shm_timeline_store(c, &tl);
		CHECK(shm_timeline_load(c, &tl) == 0, "load garbage");
		for (int q = 0; q < 16; q++) {
			uint64_t x, pos, run;

			switch (q % 4) {
			case 0: x = rnd(); break;
			case 1: x = edge[rnd() % 7]; break;
			case 2: x = tl.span[rnd() % SHM_TL_SPANS].begin_tick + rnd_range(0, 2) - 1; break;
			default: x = tl.span[rnd() % SHM_TL_SPANS].end_tick + rnd_range(0, 2) - 1; break;
			}
			shm_timeline_pos(&tl, x, &pos, &run);
			if (run < 1 && bad_pos++ < 3)
				CHECK(run >= 1, "pos: tick %" PRIu64 " count %" PRIu64 " gave run 0", x,
				      tl.count);
			if (q % 4 >= 2)
				x = tl.span[rnd() % SHM_TL_SPANS].begin_pos + rnd_range(0, 2) - 1;
			shm_timeline_tick(&tl, x, &pos, &run);
			if (run < 1 && bad_tick++ < 3)
				CHECK(run >= 1, "tick: pos %" PRIu64 " count %" PRIu64 " gave run 0", x,
				      tl.count);
		}
	}
	if (bad_pos || bad_tick)
		fprintf(stderr, "garbage timelines: %u pos and %u tick answers with run 0\n",
			bad_pos, bad_tick);
	free(c);
}

/* ---- header --------------------------------------------------------------- */

static void make_header(void *img)
{
	struct shm_header *h = img;

	memset(img, 0, SHM_HEADER_BYTES);
	h->version = SHM_RING_VERSION;
	h->header_bytes = SHM_HEADER_BYTES;
	h->segment_bytes = SHM_SEGMENT_BYTES;
	h->slot_ring_max = SHM_SLOT_RING_MAX;
	atomic_store(&h->magic, SHM_RING_MAGIC);
}

static void test_header_check(void)
{
	uint8_t *img = calloc(1, SHM_SEGMENT_BYTES);
	struct shm_header *h = (struct shm_header *)img;
	char why[256], tiny[8];

	if (!img) {
		CHECK(0, "out of memory");
		return;
	}
	make_header(img);
	why[0] = 0;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == 0, "good: %s", why);
	CHECK(memcmp(img, "ALOOPSHM", 8) == 0, "magic bytes on disk");

	atomic_store(&h->magic, SHM_RING_MAGIC ^ 1);
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO &&
	      strstr(why, "magic"), "bad magic: %s", why);
	make_header(img);
	h->version = SHM_RING_VERSION + 1;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO &&
	      strstr(why, "version"), "bad version: %s", why);
	/*
	 * Layout 1 (one timeline per cable, no slots) and 2 (fixed 2 MiB
	 * rings) are not read as ours.
	 */
	CHECK(SHM_RING_VERSION == 3, "layout version %u", SHM_RING_VERSION);
	make_header(img);
	h->version = 2;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO &&
	      strstr(why, "layout version 2"), "version 2: %s", why);
	make_header(img);
	h->version = 1;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO &&
	      strstr(why, "layout version 1"), "version 1: %s", why);
	make_header(img);
	h->header_bytes = SHM_HEADER_BYTES * 2;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO &&
	      strstr(why, "size"), "bad header size: %s", why);
	make_header(img);
	h->slot_ring_max = SHM_SLOT_RING_MAX / 2;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO,
	      "bad ring room: %s", why);
	make_header(img);
	h->segment_bytes = SHM_SEGMENT_BYTES + (UINT64_C(1) << 32);
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO,
	      "bad segment size: %s", why);
	make_header(img);
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES - 1, why, sizeof(why)) == -EPROTO,
	      "short map: %s", why);
	CHECK(shm_header_check(img, sizeof(struct shm_header), why, sizeof(why)) == -EPROTO,
	      "header-only map: %s", why);
	/* Truncated images: never read past map_bytes (exact-size copies). */
	for (size_t n = 0; n < sizeof(struct shm_header); n += n < 16 ? 1 : 97) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, img, n);
		CHECK(shm_header_check(cut, n, why, sizeof(why)) == -EPROTO &&
		      strstr(why, "truncated"), "truncated %zu: %s", n, why);
		free(cut);
	}
	/* A short why[] is cut, still terminated. */
	memset(tiny, 'x', sizeof(tiny));
	CHECK(shm_header_check(img, 10, tiny, sizeof(tiny)) == -EPROTO &&
	      memchr(tiny, 0, sizeof(tiny)), "tiny why not terminated");
	free(img);
}

/* ---- segment files -------------------------------------------------------- */

static char tmpdir[] = "/tmp/test-shm-ring.XXXXXX";

static void seg_path(char *buf, size_t len, const char *card, unsigned int sub)
{
	snprintf(buf, len, "%s/alsa-loopback-%s.%u", tmpdir, card, sub);
}

static unsigned int dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	unsigned int n = 0;

	if (!d)
		return 9999;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void rm_all(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	*len = 0;
	while (*len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + *len, (size_t)st.st_size - *len);

		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return buf;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void test_seg_create(void)
{
	struct shm_seg_config cfg = { .dir = tmpdir, .card = "unit", .subdevice = 7,
				      .mode = 0600, .gid = -1 };
	struct shm_seg a, b;
	char why[768], path[600];
	struct stat st, st2;
	mode_t old = umask(0777);
	unsigned int before;
	int err;

	/* Even with a umask that masks everything, the mode is what was asked. */
	err = shm_seg_open(&a, &cfg, why, sizeof(why));
	umask(old);
	CHECK(err == 0, "create: %d %s", err, why);
	if (err)
		return;
	seg_path(path, sizeof(path), "unit", 7);
	CHECK(!strcmp(a.path, path), "path %s, want %s", a.path, path);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode), "segment file missing");
	CHECK((st.st_mode & 07777) == 0600, "mode %04o under umask 0777, want 0600",
	      (unsigned)(st.st_mode & 07777));
	CHECK(st.st_size == SHM_SEGMENT_BYTES, "size %lld", (long long)st.st_size);
	CHECK(shm_header_check(a.hdr, a.map_bytes, why, sizeof(why)) == 0, "new header: %s", why);
	CHECK(a.hdr->subdevice == 7 && !strcmp(a.hdr->card, "unit"), "identity %u %s",
	      a.hdr->subdevice, a.hdr->card);
	for (unsigned int k = 0; k < SHM_CABLES; k++) {
		struct shm_grid g = { .rate = 48000 };

		CHECK(shm_grid_load(shm_seg_cable(&a, k), &g) == 0 && g.shift == LOOP_SHIFT_NOMINAL,
		      "cable %u initial shift %u", k, g.shift);
	}
	/* Sparse: only the header's pages are reserved until a ring is sized. */
	CHECK(stat(path, &st) == 0 && st.st_blocks * 512 <= SHM_HEADER_BYTES,
	      "a new segment holds %lld bytes, want at most the header's %u",
	      (long long)st.st_blocks * 512, SHM_HEADER_BYTES);
	/*
	 * Ring geometry.  Each slot's ring has SHM_SLOT_RING_MAX of room at a
	 * fixed place; not shared: slot 0's, whatever slot is asked for.  Its
	 * size is the cable's ring_bytes (0 until a lock sized it), clamped:
	 * a scribbled size never reaches past the slot's room.
	 */
	CHECK(SHM_SLOTS == 16 && SHM_SLOT_RING_MAX == 1048576 &&
	      SHM_SEGMENT_BYTES == SHM_HEADER_BYTES + 2 * 16 * 1048576,
	      "slot ring room %u x %u", SHM_SLOT_RING_MAX, SHM_SLOTS);
	for (unsigned int cab = 0; cab < SHM_CABLES; cab++) {
		uint8_t *base = (uint8_t *)a.hdr + SHM_HEADER_BYTES +
				(size_t)cab * SHM_CABLE_RING_MAX;
		const uint32_t sizes[] = { 0, 192512, SHM_SLOT_RING_MAX, UINT32_MAX };

		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			uint32_t want = sizes[z] > SHM_SLOT_RING_MAX ? SHM_SLOT_RING_MAX : sizes[z];

			atomic_store(&a.hdr->cable[cab].ring_bytes, sizes[z]);
			for (unsigned int k = 0; k < SHM_SLOTS + 3; k++) {
				struct shm_ring whole = shm_seg_ring(&a, cab, k, false);
				struct shm_ring part = shm_seg_ring(&a, cab, k, true);
				unsigned int m = k % SHM_SLOTS;

				CHECK(whole.data == base && whole.bytes == want &&
				      whole.slot == &a.hdr->cable[cab].play[0],
				      "cable %u exclusive ring for slot %u, size %u", cab, k,
				      sizes[z]);
				CHECK(part.data == base + (size_t)m * SHM_SLOT_RING_MAX &&
				      part.bytes == want && part.slot == &a.hdr->cable[cab].play[m] &&
				      part.slot == shm_seg_slot(&a, cab, k),
				      "cable %u shared ring of slot %u, size %u", cab, k, sizes[z]);
				CHECK(part.data + part.bytes <= (uint8_t *)a.hdr + a.map_bytes,
				      "slot ring %u past the mapping", k);
			}
		}
		atomic_store(&a.hdr->cable[cab].ring_bytes, 0);
	}
	/* Reserving a slot's ring allocates its pages; releasing gives them back. */
	{
		struct stat before, after;

		CHECK(fstat(a.fd, &before) == 0 &&
		      shm_seg_reserve_ring(&a, 1, 3, 192512, why, sizeof(why)) == 0 &&
		      fstat(a.fd, &after) == 0 &&
		      (after.st_blocks - before.st_blocks) * 512 == 192512 &&
		      after.st_size == before.st_size,
		      "reserve 192512 bytes: %lld more bytes, size %lld (%s)",
		      (long long)(after.st_blocks - before.st_blocks) * 512,
		      (long long)after.st_size, why);
		shm_seg_release_rings(&a, 0);	/* another cable's: ours stay */
		CHECK(fstat(a.fd, &st) == 0 && st.st_blocks == after.st_blocks,
		      "releasing cable 0 freed cable 1's ring");
		shm_seg_release_rings(&a, 1);
		CHECK(fstat(a.fd, &st) == 0 && st.st_blocks == before.st_blocks,
		      "release left %lld bytes", (long long)(st.st_blocks - before.st_blocks) * 512);
	}
	CHECK(shm_seg_ring(&a, 1 + SHM_CABLES, 2, true).data ==
	      shm_seg_ring(&a, 1, 2, true).data, "cable index reduced modulo SHM_CABLES");

	/* A second open validates and maps the same segment. */
	err = shm_seg_open(&b, &cfg, why, sizeof(why));
	CHECK(err == 0, "second open: %d %s", err, why);
	if (!err) {
		CHECK(fstat(a.fd, &st) == 0 && fstat(b.fd, &st2) == 0 && st.st_ino == st2.st_ino,
		      "not the same file");
		CHECK(a.hdr != b.hdr, "expected a separate mapping");
		struct shm_ring wa, wb;

		atomic_store(&a.hdr->cable[1].ring_bytes, 65536);
		for (unsigned int k = 0; k < SHM_SLOTS; k++)
			CHECK(shm_seg_reserve_ring(&a, 1, k, 65536, why, sizeof(why)) == 0,
			      "reserve slot %u: %s", k, why);
		wa = shm_seg_ring(&a, 1, 0, false);
		wb = shm_seg_ring(&b, 1, 0, false);
		wa.data[65536 - 1] = 0x42;
		atomic_store(&shm_seg_slot(&a, 0, 0)->write_end, 4242);
		CHECK(wb.bytes == 65536 && wb.data[65536 - 1] == 0x42, "ring not shared");
		CHECK(shm_ring_written(&(struct shm_ring){ wb.data, wb.bytes,
							   shm_seg_slot(&b, 0, 0) }) == 4242,
		      "header not shared");
		/* A slot ring written through one open is that part of the cable's ring in the other. */
		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			struct shm_ring pa = shm_seg_ring(&a, 1, k, true);
			uint8_t frame[6];

			fill(frame, sizeof(frame), 1000 * k + 5, 1);
			shm_ring_write(&pa, sizeof(frame), 5 + (uint64_t)k * 100000, frame, 1);
			shm_ring_publish(&pa, 6 + (uint64_t)k * 100000);
		}
		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			struct shm_ring pb = shm_seg_ring(&b, 1, k, true);
			uint32_t rf = shm_ring_frames(&pb, 6);
			size_t at = (size_t)k * SHM_SLOT_RING_MAX +
				    (size_t)((5 + (uint64_t)k * 100000) % rf) * 6;

			CHECK(verify(wb.data + at, 6, 1000 * k + 5, 1) == 1, "slot %u frame placement", k);
			CHECK(shm_ring_written(&pb) == 6 + (uint64_t)k * 100000, "slot %u written", k);
		}
		shm_seg_close(&b);
	}
	shm_seg_close(&a);
	CHECK(a.fd == -1 && a.hdr == NULL, "close resets the handle");
	/* The plugin never unlinks: the file outlives every open. */
	CHECK(stat(path, &st) == 0, "segment removed on close");

	/* mode 0660 under umask 0077; and the default 0600 under umask 0. */
	cfg.subdevice = 8;
	cfg.mode = 0660;
	old = umask(0077);
	err = shm_seg_open(&a, &cfg, why, sizeof(why));
	umask(old);
	seg_path(path, sizeof(path), "unit", 8);
	CHECK(err == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0660,
	      "mode 0660: err %d mode %04o %s", err, (unsigned)(st.st_mode & 07777), why);
	if (!err)
		shm_seg_close(&a);
	cfg.subdevice = 9;
	cfg.mode = 0600;
	old = umask(0);
	err = shm_seg_open(&a, &cfg, why, sizeof(why));
	umask(old);
	seg_path(path, sizeof(path), "unit", 9);
	CHECK(err == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	      "mode 0600 under umask 0: err %d mode %04o", err, (unsigned)(st.st_mode & 07777));
	if (!err)
		shm_seg_close(&a);

	/*
	 * A segment is published whole (made under a temporary name), so an
	 * empty file at its name was never one of ours: refused, kept empty,
	 * and no temporary file is left beside it.
	 */
	seg_path(path, sizeof(path), "unit", 10);
	CHECK(write_file(path, "", 0) == 0, "write empty file");
	cfg.subdevice = 10;
	before = dir_entries();
	err = shm_seg_open(&a, &cfg, why, sizeof(why));
	CHECK(err == -EPROTO && stat(path, &st) == 0 && st.st_size == 0 &&
	      a.fault == SHM_FAULT_NOT_OURS, "empty file: %d %s", err, why);
	CHECK(dir_entries() == before, "an open of an empty file left a file behind");
	if (!err)
		shm_seg_close(&a);
	/* Gid applied to a new segment (root may give any group). */
	if (geteuid() == 0) {
		cfg.subdevice = 11;
		cfg.gid = 4321;
		err = shm_seg_open(&a, &cfg, why, sizeof(why));
		seg_path(path, sizeof(path), "unit", 11);
		CHECK(err == 0 && stat(path, &st) == 0 && st.st_gid == 4321, "gid %u: %d %s",
		      (unsigned)st.st_gid, err, why);
		if (!err)
			shm_seg_close(&a);
		cfg.gid = -1;
	}
}

/* A file that is not ours: refused, named, and left exactly as it was. */
static void refuse_unchanged(const char *what, unsigned int sub, const void *data, size_t len)
{
	struct shm_seg_config cfg = { .dir = tmpdir, .card = "bad", .subdevice = sub,
				      .mode = 0600, .gid = -1 };
	struct shm_seg s;
	char why[768], path[600];
	size_t back_len = 0;
	uint8_t *back;
	struct stat st;
	int err;

	seg_path(path, sizeof(path), "bad", sub);
	if (write_file(path, data, len) < 0) {
		CHECK(0, "%s: cannot write %s", what, path);
		return;
	}
	chmod(path, 0640);
	why[0] = 0;
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == -EPROTO, "%s: open gave %d (%s), want -EPROTO", what, err, why);
	if (!err)
		shm_seg_close(&s);
	CHECK(strstr(why, path) != NULL, "%s: message does not name %s: %s", what, path, why);
	back = read_file(path, &back_len);
	CHECK(back && back_len == len && !memcmp(back, data, len), "%s: file was modified", what);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640, "%s: mode changed", what);
	free(back);
	/* The tools' attach refuses it the same way. */
	err = shm_seg_attach(&s, &cfg, why, sizeof(why));
	CHECK(err == -EPROTO, "%s: attach gave %d", what, err);
	if (!err)
		shm_seg_close(&s);
}

static void test_seg_refuse(void)
{
	uint8_t *img = malloc(SHM_SEGMENT_BYTES + 4096);
	struct shm_seg_config cfg = { .dir = tmpdir, .card = "ok", .subdevice = 1, .mode = 0600,
				      .gid = -1 };
	const char *bad_cards[] = { "", "a/b", "..", "a b", "caf\xc3\xa9", "x.y",
				    "0123456789012345678901234567890123" };
	struct shm_seg s;
	char why[768], path[600], target[600];
	unsigned int before;
	struct stat st;
	int err;

	if (!img) {
		CHECK(0, "out of memory");
		return;
	}
	for (size_t i = 0; i < SHM_SEGMENT_BYTES + 4096; i++)
		img[i] = (uint8_t)rnd();
	refuse_unchanged("short file", 1, img, 100);
	refuse_unchanged("long file", 2, img, SHM_SEGMENT_BYTES + 4096);
	refuse_unchanged("garbage of the right size", 3, img, SHM_SEGMENT_BYTES);
	make_header(img);
	((struct shm_header *)img)->version = SHM_RING_VERSION + 1;
	refuse_unchanged("wrong version", 4, img, SHM_SEGMENT_BYTES);
	/* A version-1 header: refused by name, untouched. */
	make_header(img);
	((struct shm_header *)img)->version = 1;
	refuse_unchanged("version 1", 7, img, SHM_SEGMENT_BYTES);
	{
		struct shm_seg_config c7 = { .dir = tmpdir, .card = "bad", .subdevice = 7,
					     .mode = 0600, .gid = -1 };

		CHECK(shm_seg_open(&s, &c7, why, sizeof(why)) == -EPROTO &&
		      strstr(why, "layout version 1"), "version 1 message: %s", why);
		CHECK(s.fault == SHM_FAULT_NOT_OURS, "version 1 fault %d", s.fault);
	}
	/* A real layout-1 file: 4 KiB header + two rings.  Refused by its size. */
	make_header(img);
	((struct shm_header *)img)->version = 1;
	((struct shm_header *)img)->header_bytes = 4096;
	((struct shm_header *)img)->segment_bytes = 4096 + 2 * (2u << 20);
	refuse_unchanged("layout-1 file", 8, img, 4096 + 2 * (2u << 20));
	/* A real layout-2 file: 16 KiB header + two fixed 2 MiB rings. */
	make_header(img);
	((struct shm_header *)img)->version = 2;
	((struct shm_header *)img)->segment_bytes = SHM_HEADER_BYTES + 2 * (2u << 20);
	refuse_unchanged("layout-2 file", 9, img, SHM_HEADER_BYTES + 2 * (2u << 20));
	make_header(img);
	((struct shm_header *)img)->slot_ring_max = 4096;
	refuse_unchanged("wrong ring room in header", 5, img, SHM_SEGMENT_BYTES);
	make_header(img);
	memset(img, 0, 8);	/* magic not yet stored: not trusted */
	refuse_unchanged("no magic", 6, img, SHM_SEGMENT_BYTES);
	free(img);

	/* A symlink planted in the directory is not followed. */
	seg_path(path, sizeof(path), "sym", 0);
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	CHECK(symlink(target, path) == 0, "symlink: %s", strerror(errno));
	cfg.card = "sym";
	cfg.subdevice = 0;
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err < 0, "symlink followed");
	if (!err)
		shm_seg_close(&s);
	CHECK(access(target, F_OK) < 0, "symlink target was created");
	CHECK(strstr(why, path) != NULL, "symlink message: %s", why);
	/* Dangling or not: a symlink to a real segment is refused too. */
	cfg.card = "real";
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == 0, "real segment: %s", why);
	if (!err) {
		char real[600];

		shm_seg_close(&s);
		seg_path(real, sizeof(real), "real", 0);
		seg_path(path, sizeof(path), "sym2", 0);
		CHECK(symlink(real, path) == 0, "symlink 2");
		cfg.card = "sym2";
		err = shm_seg_open(&s, &cfg, why, sizeof(why));
		CHECK(err < 0, "symlink to a segment followed");
		if (!err)
			shm_seg_close(&s);
	}

	/* Not a regular file: refused without blocking or changing it. */
	seg_path(path, sizeof(path), "fifo", 0);
	CHECK(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
	cfg.card = "fifo";
	alarm(20);	/* a FIFO open that blocks must fail the test, not hang it */
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	alarm(0);
	CHECK(err < 0 && strstr(why, path), "FIFO: %d %s", err, why);
	if (!err)
		shm_seg_close(&s);
	CHECK(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode), "FIFO replaced");
	seg_path(path, sizeof(path), "dir", 0);
	CHECK(mkdir(path, 0700) == 0, "mkdir: %s", strerror(errno));
	cfg.card = "dir";
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err < 0 && strstr(why, path), "directory: %d %s", err, why);
	if (!err)
		shm_seg_close(&s);
	CHECK(lstat(path, &st) == 0 && S_ISDIR(st.st_mode), "directory replaced");
	rmdir(path);

	/* Bad identities: -EINVAL and nothing created. */
	before = dir_entries();
	cfg.card = "ok";
	cfg.subdevice = LOOP_SUBDEVICE_MAX + 1;
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == -EINVAL && strstr(why, "subdevice"), "subdevice %u: %d %s", cfg.subdevice, err,
	      why);
	cfg.subdevice = UINT32_MAX;
	CHECK(shm_seg_open(&s, &cfg, why, sizeof(why)) == -EINVAL, "subdevice UINT_MAX");
	cfg.subdevice = 0;
	for (size_t i = 0; i < sizeof(bad_cards) / sizeof(bad_cards[0]); i++) {
		cfg.card = bad_cards[i];
		err = shm_seg_open(&s, &cfg, why, sizeof(why));
		CHECK(err == -EINVAL && strstr(why, "card"), "card '%s': %d %s", bad_cards[i], err,
		      why);
		CHECK(!shm_card_valid(bad_cards[i]), "card '%s' valid", bad_cards[i]);
	}
	cfg.card = NULL;
	CHECK(shm_seg_open(&s, &cfg, why, sizeof(why)) == -EINVAL, "NULL card");
	CHECK(dir_entries() == before, "a refused open created a file");
	/* The longest and the odd-but-legal names are fine. */
	cfg.card = "A_b-9012345678901234567890123456";
	CHECK(strlen(cfg.card) == LOOP_CARD_MAX, "test name length");
	CHECK(!shm_card_valid(cfg.card), "32 characters accepted");
	cfg.card = "A_b-901234567890123456789012345";
	cfg.subdevice = LOOP_SUBDEVICE_MAX;
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == 0, "31-character card, subdevice max: %s", why);
	if (!err)
		shm_seg_close(&s);
	/* A missing directory is named. */
	cfg.dir = "/nonexistent-dir-for-test-shm-ring";
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == -ENOENT && strstr(why, cfg.dir), "missing dir: %d %s", err, why);
}

/* ---- ends: places, exclusion, liveness, the parameter lock ---------------- */

static const struct shm_seg_config lock_cfg = { .dir = tmpdir, .card = "lock", .subdevice = 3,
						 .mode = 0600, .gid = -1 };
/* What an end asks of the rings in the lock tests: a 500 ms S16 stereo 48 kHz buffer. */
static const struct shm_ring_ask ask = { 2 * 96000, 192512 };
static char lock_why[256];

/* n opens of one segment: n open file descriptions, n independent lock owners. */
static int open_n(struct shm_seg *s, unsigned int n, const struct shm_seg_config *cfg)
{
	char why[768];

	for (unsigned int i = 0; i < n; i++) {
		if (shm_seg_open(&s[i], cfg, why, sizeof(why)) < 0) {
			CHECK(0, "open %u: %s", i, why);
			while (i--)
				shm_seg_close(&s[i]);
			return -1;
		}
	}
	return 0;
}

static void close_n(struct shm_seg *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		shm_seg_close(&s[i]);
}

static int attach(struct shm_seg *s, struct shm_place *pl, unsigned int cable, unsigned int role,
		  bool shared, uint32_t pid, struct shm_attach *at)
{
	*pl = (struct shm_place){ .cable = cable, .role = role, .slot = 99, .shared = shared };
	return shm_end_attach(s, pl, pid, at);
}

static void test_admin_lock(void)
{
	struct shm_seg s[2];
	struct shm_place pl;
	struct shm_attach at;
	uint64_t t0;
	int err;

	if (open_n(s, 2, &lock_cfg) < 0)
		return;
	/* Ends do not block the admin lock. */
	CHECK(attach(&s[0], &pl, 0, SHM_ROLE_PLAY, false, 100, &at) == 0, "attach");
	CHECK(shm_seg_admin_lock(&s[1]) == 0, "admin lock while an end is held");
	/* The admin lock held elsewhere: attach gives up after ~2 s, never hangs. */
	t0 = shm_now_ns();
	err = attach(&s[0], &pl, 1, SHM_ROLE_CAP, false, 100, &at);
	CHECK(err == -EAGAIN, "attach under another's admin lock: %d", err);
	CHECK(shm_now_ns() - t0 < UINT64_C(10000000000), "attach waited %" PRIu64 " ns",
	      shm_now_ns() - t0);
	CHECK(!shm_seg_end_held(&s[1], 1, SHM_ROLE_CAP), "failed attach left a place");
	shm_seg_admin_unlock(&s[1]);
	CHECK(shm_seg_admin_lock(&s[0]) == 0, "admin lock after unlock");
	shm_seg_admin_unlock(&s[0]);
	pl = (struct shm_place){ .cable = 0, .role = SHM_ROLE_PLAY };
	shm_end_detach(&s[0], &pl);
	CHECK(!shm_seg_end_held(&s[1], 0, SHM_ROLE_PLAY), "detach");
	close_n(s, 2);
}

/* Exclusive against exclusive and shared, both ways, on every end. */
static void test_attach_exclusion(void)
{
	struct shm_seg s[4];
	struct shm_place pa, pb, pc;
	struct shm_attach at;
	struct shm_end_info info;
	int err;

	if (open_n(s, 4, &lock_cfg) < 0)
		return;
	for (unsigned int cab = 0; cab < SHM_CABLES; cab++) {
		for (unsigned int role = 0; role < SHM_ROLES; role++) {
			/* Exclusive holder: another exclusive or shared opener is refused. */
			err = attach(&s[0], &pa, cab, role, false, 1111, &at);
			CHECK(err == 0 && pa.slot == 0, "c%u r%u exclusive: %d slot %u", cab, role, err,
			      pa.slot);
			CHECK(shm_seg_end_held(&s[1], cab, role), "c%u r%u not seen held", cab, role);
			CHECK(!shm_seg_end_held(&s[0], cab, role), "own place seen as foreign");
			CHECK(shm_end_peer_alive(&s[1], cab, role ^ 1u), "c%u r%u peer not alive", cab,
			      role);
			CHECK(!shm_end_peer_alive(&s[1], cab, role), "peer of the other end alive");
			err = attach(&s[1], &pb, cab, role, false, 2222, &at);
			CHECK(err == -EBUSY && at.busy == SHM_BUSY_EXCLUSIVE && at.holder_pid == 1111,
			      "c%u r%u exclusive vs exclusive: %d busy %d holder %u", cab, role, err,
			      at.busy, at.holder_pid);
			err = attach(&s[1], &pb, cab, role, true, 2222, &at);
			CHECK(err == -EBUSY && at.busy == SHM_BUSY_EXCLUSIVE && at.holder_pid == 1111,
			      "c%u r%u shared vs exclusive: %d busy %d holder %u", cab, role, err,
			      at.busy, at.holder_pid);
			shm_end_info(&s[1], &pa, &info);
			CHECK(info.attached && !info.shared && info.pid == 1111,
			      "c%u r%u info: attached %d shared %d pid %u", cab, role, info.attached,
			      info.shared, info.pid);
			/* The other ends are independent. */
			for (unsigned int o = 0; o < SHM_CABLES * SHM_ROLES; o++)
				if (o != cab * SHM_ROLES + role)
					CHECK(!shm_seg_end_held(&s[1], o / SHM_ROLES, o % SHM_ROLES),
					      "c%u r%u: end %u held too", cab, role, o);
			shm_end_detach(&s[0], &pa);
			CHECK(!shm_seg_end_held(&s[1], cab, role), "c%u r%u detach", cab, role);
			shm_end_info(&s[1], &pa, &info);
			CHECK(!info.attached && info.pid == 0, "detached info");

			/* Shared holders: an exclusive opener is refused, other shared ones not. */
			CHECK(attach(&s[0], &pa, cab, role, true, 3333, &at) == 0 && pa.slot == 0,
			      "c%u r%u shared 1: slot %u", cab, role, pa.slot);
			CHECK(attach(&s[1], &pb, cab, role, true, 4444, &at) == 0 && pb.slot == 1,
			      "c%u r%u shared 2: slot %u", cab, role, pb.slot);
			err = attach(&s[2], &pc, cab, role, false, 5555, &at);
			CHECK(err == -EBUSY && at.busy == SHM_BUSY_SHARED &&
			      (at.holder_pid == 3333 || at.holder_pid == 4444),
			      "c%u r%u exclusive vs shared: %d busy %d holder %u", cab, role, err,
			      at.busy, at.holder_pid);
			shm_end_info(&s[2], &pb, &info);
			CHECK(info.attached && info.shared && info.pid == 4444,
			      "shared info: attached %d shared %d pid %u", info.attached, info.shared,
			      info.pid);
			shm_end_detach(&s[0], &pa);
			err = attach(&s[2], &pc, cab, role, false, 5555, &at);
			CHECK(err == -EBUSY && at.busy == SHM_BUSY_SHARED && at.holder_pid == 4444,
			      "c%u r%u exclusive vs the last shared: %d busy %d holder %u", cab, role,
			      err, at.busy, at.holder_pid);
			shm_end_detach(&s[1], &pb);
			/* All gone: the exclusive opener gets it at once. */
			err = attach(&s[2], &pc, cab, role, false, 5555, &at);
			CHECK(err == 0 && pc.slot == 0, "c%u r%u exclusive after shared: %d", cab, role,
			      err);
			shm_end_detach(&s[2], &pc);
		}
	}
	/* A file that "gc" unlinked: -ESTALE, and no place left behind. */
	{
		struct shm_seg_config cfg = lock_cfg;
		struct shm_seg g[2];

		cfg.subdevice = 30;
		if (open_n(g, 2, &cfg) == 0) {
			unlink(g[0].path);
			err = attach(&g[0], &pa, 0, SHM_ROLE_PLAY, true, 1, &at);
			CHECK(err == -ESTALE, "attach to an unlinked segment: %d", err);
			CHECK(!shm_seg_end_held(&g[1], 0, SHM_ROLE_PLAY) && !shm_slot_alive(&g[1], 0, 0),
			      "-ESTALE left its place held");
			close_n(g, 2);
		}
	}
	close_n(s, 4);
}

/* SHM_SLOTS shared places, then FULL; a freed place is taken again at once. */
static void test_attach_full(void)
{
	struct shm_seg s[SHM_SLOTS + 2];
	struct shm_place pl[SHM_SLOTS + 2];
	struct shm_attach at;
	bool seen[SHM_SLOTS];
	int err;

	if (open_n(s, SHM_SLOTS + 2, &lock_cfg) < 0)
		return;
	for (unsigned int role = 0; role < SHM_ROLES; role++) {
		memset(seen, 0, sizeof(seen));
		for (unsigned int i = 0; i < SHM_SLOTS; i++) {
			err = attach(&s[i], &pl[i], 1, role, true, 500 + i, &at);
			CHECK(err == 0 && pl[i].slot < SHM_SLOTS && !seen[pl[i].slot % SHM_SLOTS],
			      "r%u shared %u: %d slot %u", role, i, err, pl[i].slot);
			if (!err && pl[i].slot < SHM_SLOTS)
				seen[pl[i].slot] = true;
		}
		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			struct shm_end_info info;
			struct shm_place q = { .cable = 1, .role = role, .slot = k, .shared = true };

			shm_end_info(&s[SHM_SLOTS + 1], &q, &info);
			CHECK(info.attached && info.shared && info.pid == 500 + k,
			      "r%u slot %u info: %d %d pid %u", role, k, info.attached, info.shared,
			      info.pid);
			if (role == SHM_ROLE_PLAY)
				CHECK(shm_slot_alive(&s[SHM_SLOTS + 1], 1, k), "slot %u not alive", k);
		}
		/*
		 * Refused: the last open, which then never attaches before the
		 * end below, so a hold it kept on the end would show there.
		 */
		err = attach(&s[SHM_SLOTS + 1], &pl[SHM_SLOTS + 1], 1, role, true, 999, &at);
		CHECK(err == -EBUSY && at.busy == SHM_BUSY_FULL && at.holder_pid >= 500 &&
		      at.holder_pid < 500 + SHM_SLOTS, "r%u 17th shared: %d busy %d holder %u", role,
		      err, at.busy, at.holder_pid);
		err = attach(&s[SHM_SLOTS + 1], &pl[SHM_SLOTS + 1], 1, role, false, 999, &at);
		CHECK(err == -EBUSY && at.busy == SHM_BUSY_SHARED, "r%u exclusive on full: %d busy %d",
		      role, err, at.busy);
		/* A released place is free at once, and is the one taken. */
		shm_end_detach(&s[7], &pl[7]);
		if (role == SHM_ROLE_PLAY) {
			CHECK(!shm_slot_alive(&s[SHM_SLOTS + 1], 1, pl[7].slot), "released slot alive");
			CHECK(shm_slot_alive(&s[SHM_SLOTS + 1], 1, pl[8].slot), "neighbour slot died");
		}
		err = attach(&s[SHM_SLOTS], &pl[SHM_SLOTS], 1, role, true, 999, &at);
		CHECK(err == 0 && pl[SHM_SLOTS].slot == pl[7].slot,
		      "r%u reuse of slot %u: %d slot %u", role, pl[7].slot, err, pl[SHM_SLOTS].slot);
		if (role == SHM_ROLE_PLAY)
			CHECK(shm_slot_alive(&s[SHM_SLOTS + 1], 1, pl[7].slot), "reused slot not alive");
		pl[7] = pl[SHM_SLOTS];
		/*
		 * Everybody leaves: nobody holds the end any more, not even the
		 * refused opener, and an exclusive opener gets it.
		 */
		for (unsigned int i = 0; i < SHM_SLOTS; i++)
			shm_end_detach(i == 7 ? &s[SHM_SLOTS] : &s[i], &pl[i]);
		for (unsigned int k = 0; k < SHM_SLOTS && role == SHM_ROLE_PLAY; k++)
			CHECK(!shm_slot_alive(&s[0], 1, k), "slot %u alive after all left", k);
		CHECK(!shm_seg_end_held(&s[0], 1, role), "r%u: the refused opener holds the end",
		      role);
		err = attach(&s[0], &pl[0], 1, role, false, 1, &at);
		CHECK(err == 0, "r%u exclusive after the full end emptied: %d busy %d", role, err,
		      at.busy);
		shm_end_detach(&s[0], &pl[0]);
	}
	close_n(s, SHM_SLOTS + 2);
}

/*
 * A child that attaches in its own open, reports its slot, then dies
 * holding it (how 0: _exit without detach or close; 1: SIGKILL).
 */
static void test_attach_dead(void)
{
	struct shm_seg s[SHM_SLOTS];
	struct shm_place pl[SHM_SLOTS], me;
	struct shm_attach at;
	struct shm_controls ctl;
	int to_child[2], to_parent[2], status, err;
	unsigned char slot;
	pid_t pid;
	char ch;

	if (open_n(s, SHM_SLOTS, &lock_cfg) < 0)
		return;
	for (int how = 0; how < 4; how++) {
		bool shared = how >= 2;
		/* Shared: the child is the 16th opener of a full end. */
		unsigned int mine = shared ? SHM_SLOTS - 1 : 0;

		for (unsigned int i = 0; i < mine; i++)
			CHECK(attach(&s[i], &pl[i], 0, SHM_ROLE_PLAY, true, 700 + i, &at) == 0,
			      "fill %u", i);
		if (pipe(to_child) < 0 || pipe(to_parent) < 0) {
			CHECK(0, "pipe");
			break;
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct shm_seg c;
			struct shm_place p;
			struct shm_attach a;
			char w[768];

			close(to_child[1]);
			close(to_parent[0]);
			/* Its own open: the inherited fds are the parent's OFDs. */
			if (shm_seg_open(&c, &lock_cfg, w, sizeof(w)) < 0 ||
			    attach(&c, &p, 0, SHM_ROLE_PLAY, shared, (uint32_t)getpid(), &a) < 0)
				_exit(3);
			shm_end_set_state(&c, &p, 3, true);	/* running */
			slot = (unsigned char)p.slot;
			if (write(to_parent[1], &slot, 1) != 1)
				_exit(4);
			if (read(to_child[0], &ch, 1) != 1)
				_exit(5);
			_exit(0);	/* no detach, no close */
		}
		close(to_child[0]);
		close(to_parent[1]);
		CHECK(pid > 0, "fork");
		if (pid < 0)
			break;
		CHECK(read(to_parent[0], &slot, 1) == 1, "child did not attach");
		CHECK(!shared || slot == SHM_SLOTS - 1, "child's slot %u", slot);
		CHECK(shm_slot_alive(&s[SHM_SLOTS - 1], 0, slot), "child's slot not alive");
		CHECK(shm_seg_end_held(&s[SHM_SLOTS - 1], 0, SHM_ROLE_PLAY), "child's end not held");
		shm_controls_read(&s[SHM_SLOTS - 1], 0, &ctl);
		CHECK(ctl.active, "child's playback not active");
		{
			struct shm_end_info info;
			struct shm_place q = { .cable = 0, .role = SHM_ROLE_PLAY, .slot = slot };

			shm_end_info(&s[SHM_SLOTS - 1], &q, &info);
			CHECK(info.attached && info.pid == (uint32_t)pid && info.state == 3,
			      "child's info: %d pid %u state %u", info.attached, info.pid, info.state);
		}
		err = attach(&s[SHM_SLOTS - 1], &me, 0, SHM_ROLE_PLAY, shared, 1, &at);
		CHECK(err == -EBUSY && at.busy == (shared ? SHM_BUSY_FULL : SHM_BUSY_EXCLUSIVE) &&
		      (shared || at.holder_pid == (uint32_t)pid),
		      "child's end taken: %d busy %d holder %u", err, at.busy, at.holder_pid);
		if (how % 2 == 0)
			CHECK(write(to_child[1], "x", 1) == 1, "release child");
		else
			kill(pid, SIGKILL);
		CHECK(waitpid(pid, &status, 0) == pid, "wait");
		if (how % 2 == 0)
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
		else
			CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child not killed");
		close(to_child[1]);
		close(to_parent[0]);
		CHECK(!shm_slot_alive(&s[SHM_SLOTS - 1], 0, slot), "dead child's slot alive (%s)",
		      how % 2 ? "SIGKILL" : "_exit");
		/* Its Slave Active flag stays set in the segment; nobody believes it. */
		shm_controls_read(&s[SHM_SLOTS - 1], 0, &ctl);
		CHECK(!ctl.active, "dead child's playback still active");
		CHECK(shared || !shm_seg_end_held(&s[SHM_SLOTS - 1], 0, SHM_ROLE_PLAY),
		      "dead child's end still held");
		err = attach(&s[SHM_SLOTS - 1], &me, 0, SHM_ROLE_PLAY, shared, 1, &at);
		CHECK(err == 0 && me.slot == slot, "dead child's place not free: %d slot %u", err,
		      me.slot);
		if (!err)
			shm_end_detach(&s[SHM_SLOTS - 1], &me);
		for (unsigned int i = 0; i < mine; i++)
			shm_end_detach(&s[i], &pl[i]);
	}
	close_n(s, SHM_SLOTS);
}

/* Who fixes the cable's parameters, with several playbacks and captures. */
static void test_param_lock(void)
{
	struct shm_seg_config cfg = lock_cfg;
	struct shm_seg s[4];
	struct shm_place p1, p2, cap, cap2;
	struct shm_attach at;
	struct shm_lock_result res;
	struct shm_params lk, now;
	struct shm_controls ctl;
	const struct shm_params A = { 2, 48000, 2, 0, 0 }, B = { 2, 44100, 2, 0, 0 },
				C = { 10, 48000, 6, 1, 0 };
	uint32_t gen;
	int err;

	cfg.subdevice = 31;
	if (open_n(s, 4, &cfg) < 0)
		return;
	/* The first playback (shared) fixes the lock; nobody attached is needed. */
	CHECK(attach(&s[0], &p1, 1, SHM_ROLE_PLAY, true, 1, &at) == 0 && !at.pinned, "p1");
	CHECK(!shm_cable_locked(&s[0], 1, &lk), "fresh cable locked");
	err = shm_cable_lock(&s[0], &p1, &A, &ask, 1000, &res, lock_why, sizeof(lock_why));
	CHECK(err == 0 && res.regridded, "p1 locks A: %d regridded %d", err, res.regridded);
	CHECK(shm_cable_locked(&s[3], 1, &lk) && shm_params_match(&lk, &A) && lk.access == 0,
	      "lock is A: %u %u %u", lk.format, lk.rate, lk.channels);
	shm_controls_read(&s[3], 1, &ctl);
	CHECK(shm_params_match(&ctl.slave, &A), "slave controls %u %u %u", ctl.slave.format,
	      ctl.slave.rate, ctl.slave.channels);
	gen = res.gen;
	/* A second shared playback is pinned and must match. */
	CHECK(attach(&s[1], &p2, 1, SHM_ROLE_PLAY, true, 2, &at) == 0 && at.pinned &&
	      shm_params_match(&at.lock, &A), "p2 pinned to A: %d", at.pinned);
	err = shm_cable_lock(&s[1], &p2, &B, &ask, 2000, &res, lock_why, sizeof(lock_why));
	CHECK(err == -EINVAL && shm_params_match(&res.held, &A), "p2 wants B: %d held rate %u", err,
	      res.held.rate);
	err = shm_cable_lock(&s[1], &p2, &A, &ask, 2000, &res, lock_why, sizeof(lock_why));
	CHECK(err == 0 && !res.regridded && res.gen == gen, "p2 matches A: %d regridded %d gen %u/%u",
	      err, res.regridded, res.gen, gen);
	/* A capture likewise. */
	CHECK(attach(&s[2], &cap, 1, SHM_ROLE_CAP, true, 3, &at) == 0 && at.pinned &&
	      shm_params_match(&at.lock, &A), "capture pinned");
	err = shm_cable_lock(&s[2], &cap, &C, &ask, 3000, &res, lock_why, sizeof(lock_why));
	CHECK(err == -EINVAL && shm_params_match(&res.held, &A), "capture wants C: %d", err);
	CHECK(shm_cable_lock(&s[2], &cap, &A, &ask, 3000, &res, lock_why, sizeof(lock_why)) == 0 && !res.regridded, "capture A");
	gen = res.gen;
	/* Notify mode frees the only playback, not one of two. */
	CHECK(shm_controls_set_notify(&s[3], 1, true) == 1, "notify on");
	err = shm_cable_lock(&s[0], &p1, &B, &ask, 4000, &res, lock_why, sizeof(lock_why));
	CHECK(err == -EINVAL, "notify with two playbacks: %d", err);
	shm_end_detach(&s[1], &p2);
	CHECK(attach(&s[1], &p2, 1, SHM_ROLE_PLAY, true, 2, &at) == 0 && at.pinned,
	      "a second playback in notify mode is pinned");
	shm_end_detach(&s[1], &p2);
	err = shm_cable_lock(&s[0], &p1, &B, &ask, 5000, &res, lock_why, sizeof(lock_why));
	CHECK(err == 0 && res.regridded && res.gen != gen, "notify relock by the only playback: %d",
	      err);
	CHECK(shm_cable_relocked(&s[2], 1, gen, &A), "capture does not see the relock");
	CHECK(shm_cable_locked(&s[2], 1, &now) && shm_params_match(&now, &B), "lock now B");
	CHECK(shm_controls_set_notify(&s[3], 1, false) == 1, "notify off");
	/* A second capture must match the new lock. */
	CHECK(attach(&s[3], &cap2, 1, SHM_ROLE_CAP, true, 4, &at) == 0 && at.pinned &&
	      shm_params_match(&at.lock, &B), "second capture pinned to B");
	CHECK(shm_cable_lock(&s[3], &cap2, &A, &ask, 6000, &res, lock_why, sizeof(lock_why)) == -EINVAL, "second capture wants A");
	shm_end_detach(&s[3], &cap2);
	/* Alone, an opener re-takes the lock whatever it was. */
	shm_end_detach(&s[2], &cap);
	err = shm_cable_lock(&s[0], &p1, &C, &ask, 7000, &res, lock_why, sizeof(lock_why));
	CHECK(err == 0 && res.regridded, "alone re-takes: %d", err);
	CHECK(shm_cable_locked(&s[3], 1, &now) && shm_params_match(&now, &C) && now.access == 1,
	      "lock now C");
	/* The last one out frees it. */
	shm_end_detach(&s[0], &p1);
	CHECK(!shm_cable_locked(&s[3], 1, &now), "lock kept after the last detach");
	/* A lock left by a dead opener is freed by the next attach that finds nobody. */
	CHECK(attach(&s[0], &p1, 1, SHM_ROLE_CAP, false, 1, &at) == 0, "capture alone");
	CHECK(shm_cable_lock(&s[0], &p1, &A, &ask, 8000, &res, lock_why, sizeof(lock_why)) == 0, "capture locks A");
	shm_seg_close(&s[0]);	/* dies: no detach */
	CHECK(shm_cable_locked(&s[3], 1, &now), "lock of the dead");
	CHECK(attach(&s[1], &p2, 1, SHM_ROLE_PLAY, true, 2, &at) == 0 && !at.pinned,
	      "attach after a dead opener is pinned");
	CHECK(!shm_cable_locked(&s[3], 1, &now), "dead opener's lock not freed");
	shm_end_detach(&s[1], &p2);
	close_n(&s[1], 3);
}

/*
 * Bytes the file holds, where the filesystem counts them exactly (tmpfs,
 * ext2/3/4); -1 elsewhere.
 */
static long long held_bytes(int fd)
{
	struct statfs sf;
	struct stat st;

	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0 ||
	    (sf.f_type != TMPFS_MAGIC && sf.f_type != EXT4_SUPER_MAGIC))
		return -1;
	return (long long)st.st_blocks * 512;
}

/*
 * The rings cost what the streams carry: the end that takes the lock sizes
 * them, a later end must fit (or is refused and changes nothing), a
 * playback reserves its slot's ring, the last one out gives it back.
 */
static void test_ring_sizing(void)
{
	struct shm_seg_config cfg = lock_cfg;
	const struct shm_params A = { 2, 48000, 2, 0, 0 };
	const struct shm_ring_ask big = { 2 * 200000, 401408 };
	struct shm_seg s[3];
	struct shm_place play, cap, p2;
	struct shm_attach at;
	struct shm_lock_result res;
	long long base, now;
	uint32_t gen;

	cfg.subdevice = 33;
	if (open_n(s, 3, &cfg) < 0)
		return;
	base = held_bytes(s[0].fd);
	CHECK(attach(&s[0], &cap, 1, SHM_ROLE_CAP, false, 1, &at) == 0 && !at.pinned &&
	      at.ring_bytes == 0, "capture alone: pinned %d ring %u", at.pinned, at.ring_bytes);
	CHECK(shm_seg_ring(&s[0], 1, 0, false).bytes == 0, "ring before any lock");
	/* A capture takes the lock: it sizes the rings, reserves nothing (it never writes). */
	CHECK(shm_cable_lock(&s[0], &cap, &A, &ask, 1000, &res, lock_why, sizeof(lock_why)) == 0 &&
	      res.ring_bytes == ask.size, "capture sizes the ring: %u", res.ring_bytes);
	gen = res.gen;
	CHECK(shm_seg_ring(&s[2], 1, 0, false).bytes == ask.size, "ring as another open sees it");
	now = held_bytes(s[0].fd);
	CHECK(base < 0 || now == base, "a capture reserved %lld bytes", now - base);
	/* A playback that fits joins, learns the size at attach and reserves its slot. */
	CHECK(attach(&s[1], &play, 1, SHM_ROLE_PLAY, false, 2, &at) == 0 && at.pinned &&
	      at.ring_bytes == ask.size, "playback pinned, ring %u", at.ring_bytes);
	CHECK(shm_cable_lock(&s[1], &play, &A, &big, 2000, &res, lock_why, sizeof(lock_why)) ==
	      -EMSGSIZE && res.ring_bytes == ask.size, "a buffer that does not fit: ring %u",
	      res.ring_bytes);
	CHECK(held_bytes(s[0].fd) == now && shm_seg_ring(&s[0], 1, 0, false).bytes == ask.size,
	      "a refused end changed the ring");
	CHECK(shm_cable_lock(&s[1], &play, &A, &ask, 2000, &res, lock_why, sizeof(lock_why)) == 0 &&
	      res.ring_bytes == ask.size && res.gen == gen, "playback fits");
	now = held_bytes(s[0].fd);
	CHECK(base < 0 || now - base == ask.size, "the playback reserved %lld bytes, want %u",
	      now - base, ask.size);
	/* Not the last one out: the ring stays. */
	shm_end_detach(&s[0], &cap);
	CHECK(shm_seg_ring(&s[2], 1, 0, false).bytes == ask.size && held_bytes(s[0].fd) == now,
	      "ring gone with an end still attached");
	/*
	 * The last one out frees the lock.  A segment whose controls were set
	 * stays (shm_seg_remove_idle), but gives its rings' pages back.
	 */
	shm_end_detach(&s[1], &play);
	CHECK(!shm_cable_locked(&s[2], 1, &(struct shm_params){ 0 }), "lock kept");
	CHECK(shm_controls_set_notify(&s[2], 0, true) == 1, "notify on");
	CHECK(!shm_seg_remove_idle(&s[1]), "a segment with a control set was removed");
	CHECK(shm_seg_ring(&s[2], 1, 0, false).bytes == 0, "ring size kept after the last one out");
	CHECK(held_bytes(s[0].fd) == base, "%lld bytes kept after the last one out",
	      held_bytes(s[0].fd) - base);
	/* Alone, a playback takes the lock afresh with its own size. */
	CHECK(attach(&s[1], &play, 1, SHM_ROLE_PLAY, true, 2, &at) == 0 && !at.pinned, "p alone");
	CHECK(shm_cable_lock(&s[1], &play, &A, &big, 3000, &res, lock_why, sizeof(lock_why)) == 0 &&
	      res.ring_bytes == big.size, "alone re-sizes: %u", res.ring_bytes);
	/* A second shared playback reserves its own slot's ring. */
	CHECK(attach(&s[2], &p2, 1, SHM_ROLE_PLAY, true, 3, &at) == 0 && at.pinned &&
	      at.ring_bytes == big.size, "p2 pinned");
	CHECK(shm_cable_lock(&s[2], &p2, &A, &ask, 4000, &res, lock_why, sizeof(lock_why)) == 0,
	      "p2 fits");
	CHECK(base < 0 || held_bytes(s[0].fd) - base == 2 * (long long)big.size,
	      "two shared playbacks hold %lld bytes, want %u", held_bytes(s[0].fd) - base,
	      2 * big.size);
	/* A dead last opener's rings are given back by the next one that finds nobody. */
	shm_end_detach(&s[2], &p2);
	shm_seg_close(&s[1]);	/* dies: no detach */
	CHECK(attach(&s[2], &p2, 1, SHM_ROLE_CAP, false, 3, &at) == 0 && !at.pinned &&
	      at.ring_bytes == 0, "after a dead opener");
	CHECK(held_bytes(s[0].fd) == base, "a dead opener's ring kept: %lld bytes",
	      held_bytes(s[0].fd) - base);
	shm_end_detach(&s[2], &p2);
	CHECK(shm_controls_set_notify(&s[2], 0, false) == 1, "notify off");
	shm_seg_close(&s[0]);
	shm_seg_close(&s[2]);
}

/* play_shared is the first playback's choice; timelines are withdrawn for it. */
static void test_play_shared(void)
{
	struct shm_seg_config cfg = lock_cfg;
	struct shm_seg s[3];
	struct shm_place p[3];
	struct shm_attach at;
	struct shm_timeline tl, back;

	cfg.subdevice = 32;
	if (open_n(s, 3, &cfg) < 0)
		return;
	memset(&tl, 0, sizeof(tl));
	shm_timeline_open(&tl, 10, 20);
	CHECK(!shm_cable_play_shared(&s[2], 0), "fresh cable shared");
	/* A shared capture does not decide it. */
	CHECK(attach(&s[0], &p[0], 0, SHM_ROLE_CAP, true, 1, &at) == 0, "shared capture");
	CHECK(!shm_cable_play_shared(&s[2], 0), "a capture made the playback shared");
	shm_end_detach(&s[0], &p[0]);

	/* Stale timelines in every slot; the first playback withdraws them all. */
	for (unsigned int k = 0; k < SHM_SLOTS; k++)
		shm_timeline_store(shm_seg_slot(&s[2], 0, k), &tl);
	atomic_store(&shm_seg_slot(&s[2], 0, 0)->write_end, 777);
	CHECK(attach(&s[0], &p[0], 0, SHM_ROLE_PLAY, true, 1, &at) == 0 && p[0].slot == 0,
	      "first shared playback");
	CHECK(at.write_end == 777, "write_end of slot 0: %" PRIu64, at.write_end);
	CHECK(shm_cable_play_shared(&s[2], 0), "play_shared not set by the first playback");
	for (unsigned int k = 0; k < SHM_SLOTS; k++)
		CHECK(shm_timeline_load(shm_seg_slot(&s[2], 0, k), &back) == 0 && back.count == 0,
		      "slot %u timeline kept by the first playback", k);
	/* The second withdraws only its own slot's. */
	shm_timeline_store(shm_seg_slot(&s[2], 0, 0), &tl);
	shm_timeline_store(shm_seg_slot(&s[2], 0, 1), &tl);
	shm_timeline_store(shm_seg_slot(&s[2], 0, 2), &tl);
	atomic_store(&shm_seg_slot(&s[2], 0, 1)->write_end, 4321);
	CHECK(attach(&s[1], &p[1], 0, SHM_ROLE_PLAY, true, 2, &at) == 0 && p[1].slot == 1,
	      "second shared playback: slot %u", p[1].slot);
	CHECK(at.write_end == 4321, "write_end of slot 1: %" PRIu64, at.write_end);
	CHECK(shm_timeline_load(shm_seg_slot(&s[2], 0, 0), &back) == 0 && back.count == 1,
	      "the running playback's timeline withdrawn");
	CHECK(shm_timeline_load(shm_seg_slot(&s[2], 0, 1), &back) == 0 && back.count == 0,
	      "the new playback's stale timeline kept");
	CHECK(shm_timeline_load(shm_seg_slot(&s[2], 0, 2), &back) == 0 && back.count == 1,
	      "another slot's timeline withdrawn");
	CHECK(shm_cable_play_shared(&s[2], 0), "play_shared");
	shm_end_detach(&s[0], &p[0]);
	shm_end_detach(&s[1], &p[1]);
	/* Next time an exclusive playback comes first: not shared any more. */
	CHECK(attach(&s[0], &p[0], 0, SHM_ROLE_PLAY, false, 1, &at) == 0, "exclusive playback");
	CHECK(!shm_cable_play_shared(&s[2], 0), "play_shared kept by an exclusive playback");
	CHECK(!shm_cable_play_shared(&s[2], 1), "other cable shared");
	shm_end_detach(&s[0], &p[0]);
	close_n(s, 3);
}

/* What an opener publishes about itself. */
static void test_end_info(void)
{
	struct shm_seg_config cfg = lock_cfg;
	struct shm_seg s[2];
	struct shm_place p, q;
	struct shm_attach at;
	struct shm_end_info info;
	struct shm_controls ctl;
	uint32_t seq;

	cfg.subdevice = 33;
	if (open_n(s, 2, &cfg) < 0)
		return;
	CHECK(attach(&s[0], &q, 1, SHM_ROLE_PLAY, true, 8, &at) == 0, "first");
	CHECK(attach(&s[1], &p, 1, SHM_ROLE_PLAY, true, 9, &at) == 0 && p.slot == 1, "second");
	seq = shm_controls_seq(&s[0], 1);
	shm_end_set_state(&s[1], &p, 3, true);
	CHECK(shm_controls_seq(&s[0], 1) != seq, "Slave Active change not signalled");
	seq = shm_controls_seq(&s[0], 1);
	shm_end_set_state(&s[1], &p, 4, true);
	CHECK(shm_controls_seq(&s[0], 1) == seq, "state change alone signalled");
	shm_end_set_sizes(&s[1], &p, 256, 1024);
	shm_end_add_frames(&s[1], &p, 1000);
	shm_end_add_frames(&s[1], &p, 24);
	shm_end_add_xrun(&s[1], &p);
	shm_end_add_xrun(&s[1], &p);
	shm_end_info(&s[0], &p, &info);
	CHECK(info.attached && info.shared && info.pid == 9 && info.state == 4 &&
	      info.period_frames == 256 && info.buffer_frames == 1024 && info.frames == 1024 &&
	      info.xruns == 2, "info %d %d pid %u state %u %u/%u frames %" PRIu64 " xruns %u",
	      info.attached, info.shared, info.pid, info.state, info.period_frames,
	      info.buffer_frames, info.frames, info.xruns);
	/* The other slot's end is untouched. */
	shm_end_info(&s[1], &q, &info);
	CHECK(info.pid == 8 && info.frames == 0 && info.xruns == 0 && info.state == 0,
	      "slot 0 info changed");
	CHECK(atomic_load(&shm_seg_slot(&s[0], 1, 1)->end.active) == 1 &&
	      atomic_load(&shm_seg_slot(&s[0], 1, 0)->end.active) == 0, "active flags");
	shm_controls_read(&s[0], 1, &ctl);
	CHECK(ctl.active, "slot 1 runs: Slave Active");
	shm_end_set_state(&s[1], &p, 5, false);
	shm_controls_read(&s[0], 1, &ctl);
	CHECK(!ctl.active, "paused: Slave Active");
	/* A capture's state lands in its cap[] slot and never sets Slave Active. */
	shm_end_detach(&s[0], &q);
	CHECK(attach(&s[0], &q, 1, SHM_ROLE_CAP, true, 10, &at) == 0, "capture");
	shm_end_set_state(&s[0], &q, 3, true);
	CHECK(atomic_load(&shm_seg_cable(&s[0], 1)->cap[q.slot].state) == 3 &&
	      atomic_load(&shm_seg_cable(&s[0], 1)->cap[q.slot].active) == 0,
	      "capture state/active");
	shm_controls_read(&s[1], 1, &ctl);
	CHECK(!ctl.active, "a capture made Slave Active");
	/* Detach clears the pid and the flag. */
	shm_end_detach(&s[1], &p);
	shm_end_info(&s[0], &p, &info);
	CHECK(!info.attached && info.pid == 0 && info.state == 0, "detached info");
	shm_end_detach(&s[0], &q);
	close_n(s, 2);
}

/* The lock bytes: distinct, inside the file, none of them the admin byte twice. */
static void test_lock_bytes(void)
{
	bool used[256] = { false };
	unsigned int n = 0;

	used[SHM_LOCK_ADMIN] = true;
	for (unsigned int c = 0; c < SHM_CABLES; c++) {
		for (unsigned int r = 0; r < SHM_ROLES; r++) {
			unsigned int e = SHM_LOCK_END(c, r);

			CHECK(e < 256 && !used[e], "end byte %u reused", e);
			used[e % 256] = true;
			for (unsigned int k = 0; k < SHM_SLOTS; k++) {
				unsigned int b = SHM_LOCK_SLOT(c, r, k);

				CHECK(b < 256 && !used[b], "slot byte %u (c%u r%u k%u) reused", b, c, r, k);
				used[b % 256] = true;
				n++;
			}
		}
	}
	CHECK(n == SHM_CABLES * SHM_ROLES * SHM_SLOTS, "slot bytes %u", n);
}

int main(void)
{
	const char *env = getenv("SHM_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	/* The largest ring, with a guard page each side. */
	size_t backing_bytes = SHM_SLOT_RING_MAX + 2 * 4096;
	uint8_t *backing = aligned_alloc(4096, backing_bytes);
	struct shm_slot *slot = calloc(1, sizeof(*slot));
	uint32_t fbs[] = { 1, 3, 9, 256 };

	rng_state = seed ? seed : 1;
	printf("seed %" PRIu64 " (SHM_TEST_SEED to replay)\n", seed);
	if (!backing || !slot || !mkdtemp(tmpdir)) {
		fprintf(stderr, "setup failed: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
		/*
		 * The sizes a lock gives rings: the largest, a default aplay's
		 * (500 ms S16 stereo 48 kHz, twice), the smallest (one page).
		 */
		const uint32_t sizes[] = { SHM_SLOT_RING_MAX,
					   shm_ring_size(96000, 192000),
					   shm_ring_size(64, 8000) };

		CHECK(sizes[1] == 192512 && sizes[2] == 8192 &&
		      shm_ring_size(SHM_SLOT_RING_MAX, 1) == SHM_SLOT_RING_MAX &&
		      shm_ring_size(UINT32_MAX, UINT32_MAX) == SHM_SLOT_RING_MAX &&
		      shm_ring_size(0, 0) == 0 && shm_ring_size(1, 0) == 4096,
		      "ring sizes %u %u", sizes[1], sizes[2]);
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			struct shm_ring r = { backing + 4096, sizes[z], slot };

			test_spans(&r, fbs[i]);
			test_round_trip(&r, fbs[i], backing, backing_bytes);
		}
	}
	test_claim_protocol();
	test_grid_math();
	test_grid_shift();
	test_grid_hostile();
	test_hear_no_ring();
	test_timeline_basics();
	test_timeline_valid_random();
	test_timeline_garbage();
	test_header_check();
	test_seg_create();
	test_seg_refuse();
	test_lock_bytes();
	test_admin_lock();
	test_attach_exclusion();
	test_attach_full();
	test_attach_dead();
	test_param_lock();
	test_play_shared();
	test_ring_sizing();
	test_end_info();

	rm_all();
	rmdir(tmpdir);
	free(backing);
	free(slot);
	return check_finish();
}
