// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-shm-ring.c - the shared segment and its ring, grid and timeline,
 * without ALSA.
 *
 * Everything here is checked against values computed independently in the
 * test (frame patterns, exact tick arithmetic, file contents and modes), so
 * a regression in shm_ring.[ch] shows up as a named failure.  Random cases
 * use a seeded generator; the seed is printed so a failure can be replayed
 * with SHM_TEST_SEED=<seed>.
 */
#define _GNU_SOURCE
#include "shm_ring.h"
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
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

static void test_spans(uint8_t *ring, uint32_t fb)
{
	uint32_t rf = shm_ring_frames(fb);
	struct shm_span span[2];
	uint64_t bases[] = { 0, 1, rf - 1, rf, (uint64_t)rf * 7 + rf / 2,
			     UINT64_C(1) << 40, UINT64_MAX - rf };

	CHECK(rf == SHM_RING_BYTES / fb, "fb %u rf %u", fb, rf);
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		for (int t = 0; t < 50; t++) {
			uint64_t pos = bases[b] + rnd_range(0, 3);
			uint32_t frames = (uint32_t)rnd_range(1, rf);
			uint32_t off = (uint32_t)(pos % rf);
			unsigned int n = shm_ring_spans(ring, fb, pos, frames, span);
			uint32_t total = 0;

			CHECK(n == (off + (uint64_t)frames > rf ? 2u : 1u),
			      "fb %u pos %" PRIu64 " frames %u: %u spans", fb, pos, frames, n);
			if (n < 1 || n > 2)
				continue;
			CHECK(span[0].ptr == ring + (size_t)off * fb, "fb %u first span offset", fb);
			for (unsigned int i = 0; i < n; i++) {
				total += span[i].frames;
				CHECK(span[i].frames >= 1, "fb %u empty span %u", fb, i);
				CHECK(span[i].ptr >= ring && span[i].ptr + (size_t)span[i].frames * fb <=
				      ring + (size_t)rf * fb, "fb %u span %u out of the ring", fb, i);
			}
			if (n == 2)
				CHECK(span[1].ptr == ring && span[0].frames == rf - off,
				      "fb %u wrap split at %u", fb, span[0].frames);
			CHECK(total == frames, "fb %u total %u != %u", fb, total, frames);
		}
	}
	/* Degenerate inputs: nothing to copy, no span. */
	CHECK(shm_ring_spans(ring, fb, 5, 0, span) == 0, "zero frames");
	CHECK(shm_ring_spans(ring, 0, 5, 10, span) == 0, "zero frame bytes");
	CHECK(shm_ring_spans(ring, SHM_RING_BYTES + 1, 5, 10, span) == 0, "frame > ring");
	/* Clamping: asking for more than the ring gives exactly the ring. */
	for (uint64_t pos = 0; pos < 3; pos++) {
		unsigned int n = shm_ring_spans(ring, fb, pos * (rf / 3 + 1), rf + 1000, span);
		uint32_t total = 0;

		for (unsigned int i = 0; i < n && i < 2; i++)
			total += span[i].frames;
		CHECK(total == rf, "fb %u clamp gave %u of %u", fb, total, rf);
		n = shm_ring_spans(ring, fb, pos, UINT32_MAX, span);
		total = 0;
		for (unsigned int i = 0; i < n && i < 2; i++)
			total += span[i].frames;
		CHECK(total == rf, "fb %u clamp of UINT32_MAX gave %u", fb, total);
	}
}

static void test_round_trip(uint8_t *ring, uint32_t fb)
{
	uint32_t rf = shm_ring_frames(fb);
	size_t tail = SHM_RING_BYTES - (size_t)rf * fb;
	uint8_t *src = malloc((size_t)(rf + 64) * fb);
	uint8_t *dst = malloc((size_t)(rf + 64) * fb);

	if (!src || !dst) {
		CHECK(0, "out of memory");
		goto out;
	}
	/* Bytes past the last whole frame must never be touched. */
	memset(ring, 0xa5, SHM_RING_BYTES);
	for (int t = 0; t < 40; t++) {
		/* Half the cases straddle the wrap on purpose. */
		uint32_t frames = (uint32_t)rnd_range(1, t % 4 == 0 ? rf : (rf < 600 ? rf : 600));
		uint64_t lap = rnd_range(0, UINT64_C(1) << 30) * rf;
		uint64_t pos = t % 2 ? lap + rf - rnd_range(1, frames) : lap + rnd_range(0, rf - 1);
		uint32_t bad;

		fill(src, fb, pos, frames);
		shm_ring_write(ring, fb, pos, src, frames);
		/* Frame p lives at slot p % rf: check the placement directly. */
		for (uint32_t f = 0; f < frames; f += 1 + frames / 16) {
			uint64_t p = pos + f;

			CHECK(verify(ring + (size_t)(p % rf) * fb, fb, p, 1) == 1,
			      "fb %u frame %" PRIu64 " not at slot %" PRIu64, fb, p, p % rf);
		}
		memset(dst, 0x5a, (size_t)frames * fb + fb);
		shm_ring_read(ring, fb, pos, dst, frames);
		bad = verify(dst, fb, pos, frames);
		CHECK(bad == frames, "fb %u pos %" PRIu64 " frames %u: frame %u differs", fb, pos,
		      frames, bad);
		CHECK(dst[(size_t)frames * fb] == 0x5a, "fb %u read past its frames", fb);
	}
	for (size_t i = 0; i < tail; i++)
		CHECK(ring[(size_t)rf * fb + i] == 0xa5, "fb %u tail byte %zu touched", fb, i);

	/* Clamp on write: only rf frames land, the rest of src is ignored. */
	fill(src, fb, 1000, rf + 64);
	shm_ring_write(ring, fb, 1000, src, rf + 64);
	memset(dst, 0x5a, (size_t)(rf + 64) * fb);
	shm_ring_read(ring, fb, 1000, dst, rf + 64);
	CHECK(verify(dst, fb, 1000, rf) == rf, "fb %u clamped round trip", fb);
	/* Clamp on read: nothing written past rf frames of dst. */
	for (size_t i = (size_t)rf * fb; i < (size_t)(rf + 64) * fb; i++) {
		if (dst[i] != 0x5a) {
			CHECK(dst[i] == 0x5a, "fb %u clamped read wrote byte %zu", fb, i);
			break;
		}
	}
	for (size_t i = 0; i < tail; i++)
		CHECK(ring[(size_t)rf * fb + i] == 0xa5, "fb %u tail byte %zu touched by clamp", fb,
		      i);
out:
	free(src);
	free(dst);
}

static void test_claim_protocol(void)
{
	struct shm_cable *c = calloc(1, sizeof(*c));
	uint32_t fbs[] = { 1, 3, 9, 256 };

	if (!c) {
		CHECK(0, "out of memory");
		return;
	}
	CHECK(shm_ring_written(c) == 0, "fresh cable written %" PRIu64, shm_ring_written(c));
	for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
		uint32_t fb = fbs[i], rf = shm_ring_frames(fb);
		uint64_t claims[] = { 0, 1, rf - 1, rf, (uint64_t)rf + 1, (uint64_t)rf * 5 + 17,
				      UINT64_MAX };

		shm_ring_claim(c, 0);
		CHECK(shm_ring_intact_from(c, fb) == 0, "fb %u no claim", fb);
		for (size_t k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
			uint64_t want = claims[k] > rf ? claims[k] - rf : 0;

			shm_ring_claim(c, claims[k]);
			CHECK(atomic_load(&c->write_claim) == claims[k], "claim stored");
			CHECK(shm_ring_intact_from(c, fb) == want,
			      "fb %u claim %" PRIu64 ": intact from %" PRIu64 ", want %" PRIu64, fb,
			      claims[k], shm_ring_intact_from(c, fb), want);
			/* The claim never moves write_end: readers see only published data. */
			CHECK(shm_ring_written(c) == atomic_load(&c->write_end), "claim touched end");
		}
		shm_ring_publish(c, (uint64_t)rf * 3 + i);
		CHECK(shm_ring_written(c) == (uint64_t)rf * 3 + i, "publish");
	}
	/*
	 * The protocol as a reader uses it: copy [q, q+n) with write_end >= q+n;
	 * a writer that then claimed up to q + rf has not reached slot q, one that
	 * claimed q + rf + 1 has.
	 */
	{
		uint32_t fb = 9, rf = shm_ring_frames(fb);
		uint64_t q = 123456;

		shm_ring_claim(c, q + 100);
		shm_ring_publish(c, q + 100);
		CHECK(q + 10 <= shm_ring_written(c), "readable");
		shm_ring_claim(c, q + rf);
		CHECK(q >= shm_ring_intact_from(c, fb), "claim q+rf must leave q intact");
		shm_ring_claim(c, q + rf + 1);
		CHECK(q < shm_ring_intact_from(c, fb), "claim q+rf+1 must spoil q");
		CHECK(q + 1 >= shm_ring_intact_from(c, fb), "but not q+1");
	}
	free(c);
}

/* ---- clock grid ----------------------------------------------------------- */

static void test_grid_math(void)
{
	for (int t = 0; t < 20000; t++) {
		struct shm_grid g = {
			.base_ns = rnd_range(0, UINT64_C(1) << 62),
			.base_tick = rnd_range(0, UINT64_C(1) << 50),
			.rate = (uint32_t)rnd_range(8000, 768000),
			.shift = (uint32_t)rnd_range(SHM_SHIFT_MIN, SHM_SHIFT_MAX),
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
		      (uint64_t)g.rate * SHM_SHIFT_NOMINAL / g.shift, "one second at rate %u shift %u",
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
				      .shift = SHM_SHIFT_NOMINAL };

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
				      .shift = SHM_SHIFT_MAX };

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
			CHECK(g.shift == SHM_SHIFT_NOMINAL, "reset shift %u", g.shift);
		for (int s = 0; s < 8; s++) {
			uint32_t want = (uint32_t)rnd_range(SHM_SHIFT_MIN, SHM_SHIFT_MAX);
			uint32_t shift = want;
			uint64_t before;

			/* Out-of-range requests are clamped. */
			switch (s) {
			case 1: shift = 0; want = SHM_SHIFT_MIN; break;
			case 2: shift = SHM_SHIFT_MIN - 1; want = SHM_SHIFT_MIN; break;
			case 3: shift = SHM_SHIFT_MAX + 1; want = SHM_SHIFT_MAX; break;
			case 4: shift = UINT32_MAX; want = SHM_SHIFT_MAX; break;
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
			      (uint64_t)rate * SHM_SHIFT_NOMINAL / want, "new speed");
			CHECK(atomic_load(&c->grid_seq) % 2 == 0, "seq left odd");
		}
	}
	free(c);
}

static void test_grid_hostile(void)
{
	struct shm_cable *c = calloc(1, sizeof(*c));
	uint32_t bad[] = { 0, 1, SHM_SHIFT_MIN - 1, SHM_SHIFT_MAX + 1, UINT32_MAX };
	uint32_t want[] = { SHM_SHIFT_MIN, SHM_SHIFT_MIN, SHM_SHIFT_MIN, SHM_SHIFT_MAX,
			    SHM_SHIFT_MAX };
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
		      (uint64_t)768000 * SHM_SHIFT_NOMINAL / want[i], "tick with clamped shift");
		/* A writer rebasing from a hostile shift still stores a sane one. */
		shm_grid_set_shift(c, 48000, SHM_SHIFT_NOMINAL, g.base_ns + 5);
		CHECK(atomic_load(&c->rate_shift) == SHM_SHIFT_NOMINAL, "set_shift after hostile");
		atomic_store(&c->rate_shift, bad[i]);
		shm_grid_reset(c, 99);
		CHECK(atomic_load(&c->rate_shift) == SHM_SHIFT_NOMINAL,
		      "reset keeps hostile shift %u", atomic_load(&c->rate_shift));
	}
	/* A writer that died mid-write: odd seq forever.  Give up, keep *g. */
	atomic_store(&c->grid_seq, 7);
	atomic_store(&c->grid_base_ns, 123);
	atomic_store(&c->grid_base_tick, 456);
	atomic_store(&c->rate_shift, SHM_SHIFT_NOMINAL);
	memset(&keep, 0x3c, sizeof(keep));
	g = keep;
	CHECK(shm_grid_load(c, &g) == -EAGAIN, "stuck odd seq must give -EAGAIN");
	CHECK(!memcmp(&g, &keep, sizeof(g)), "stuck seq changed the caller's grid");
	/* And the timeline reader, likewise: unreadable means count 0 (silence). */
	{
		struct shm_timeline tl;

		memset(&tl, 0x3c, sizeof(tl));
		atomic_store(&c->tl_seq, 1);
		atomic_store(&c->tl_count, 3);
		CHECK(shm_timeline_load(c, &tl) == -EAGAIN, "stuck timeline seq");
		CHECK(tl.count == 0, "unreadable timeline count %" PRIu64, tl.count);
		atomic_store(&c->tl_seq, 2);
		CHECK(shm_timeline_load(c, &tl) == 0 && tl.count == 3, "even timeline seq loads");
	}
	free(c);
}

/* ---- timeline ------------------------------------------------------------- */

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
	CHECK(tl.count == 1 && tl.seg[0].begin_tick == 100 && tl.seg[0].begin_pos == 5000 &&
	      tl.seg[0].end_tick == SHM_TICK_NEVER, "open");
	CHECK(!shm_timeline_pos(&tl, 99, &pos, &run) && run == 1, "before the segment: run %" PRIu64,
	      run);
	CHECK(shm_timeline_pos(&tl, 100, &pos, &run) && pos == 5000 &&
	      run == SHM_TICK_NEVER - 100, "first tick of open segment");
	CHECK(shm_timeline_pos(&tl, 150, &pos, &run) && pos == 5050, "inside: pos %" PRIu64, pos);

	shm_timeline_close(&tl, 200);
	CHECK(tl.seg[0].end_tick == 200, "close");
	CHECK(shm_timeline_pos(&tl, 199, &pos, &run) && pos == 5099 && run == 1, "last tick");
	CHECK(!shm_timeline_pos(&tl, 200, &pos, &run) && run == SHM_TICK_NEVER - 200,
	      "end is exclusive");
	shm_timeline_close(&tl, 300);	/* already closed: unchanged */
	CHECK(tl.seg[0].end_tick == 200, "second close moved the end");

	shm_timeline_open(&tl, 300, 5100);
	CHECK(!shm_timeline_pos(&tl, 250, &pos, &run) && run == 50, "gap run %" PRIu64, run);
	CHECK(shm_timeline_pos(&tl, 300, &pos, &run) && pos == 5100, "second segment");
	CHECK(shm_timeline_pos(&tl, 120, &pos, &run) && pos == 5020 && run == 80,
	      "older segment still answers");
	/* Positions back to ticks. */
	CHECK(shm_timeline_tick(&tl, 5050, &tick, &run) && tick == 150 && run == 50,
	      "pos 5050 -> tick %" PRIu64 " run %" PRIu64, tick, run);
	CHECK(shm_timeline_tick(&tl, 5100, &tick, &run) && tick == 300, "pos 5100 -> %" PRIu64,
	      tick);
	CHECK(!shm_timeline_tick(&tl, 4000, &tick, &run) && run == 1000, "pos before: run %" PRIu64,
	      run);
	/* A close before the begin makes an empty segment, not a negative one. */
	shm_timeline_close(&tl, 250);
	CHECK(tl.seg[1].end_tick == 300, "close before begin: end %" PRIu64, tl.seg[1].end_tick);
	CHECK(!shm_timeline_pos(&tl, 300, &pos, &run), "empty segment covers nothing");

	/* More than SHM_TL_SEGS: the oldest are forgotten, slots reused in order. */
	memset(&tl, 0, sizeof(tl));
	for (uint64_t i = 0; i < SHM_TL_SEGS + 3; i++) {
		shm_timeline_open(&tl, 1000 * i, 100 * i);
		shm_timeline_close(&tl, 1000 * i + 100);
	}
	CHECK(tl.count == SHM_TL_SEGS + 3, "count %" PRIu64, tl.count);
	for (uint64_t i = 0; i < SHM_TL_SEGS + 3; i++) {
		bool live = i >= 3;
		bool got = shm_timeline_pos(&tl, 1000 * i + 7, &pos, &run);

		CHECK(got == live, "segment %" PRIu64 " live %d got %d", i, live, got);
		if (got)
			CHECK(pos == 100 * i + 7 && run == 93, "segment %" PRIu64 " pos %" PRIu64, i,
			      pos);
		else if (i < 3)
			CHECK(run == 3000 - (1000 * i + 7), "forgotten gap run %" PRIu64, run);
		got = shm_timeline_tick(&tl, 100 * i + 7, &tick, &run);
		CHECK(got == live && (!got || tick == 1000 * i + 7), "segment %" PRIu64 " inverse",
		      i);
	}
	CHECK(tl.seg[(SHM_TL_SEGS + 2) % SHM_TL_SEGS].begin_tick == 1000 * (SHM_TL_SEGS + 2),
	      "slot reuse");
	/* Store/load round trip through a cable is exact. */
	{
		struct shm_timeline back;

		shm_timeline_store(c, &tl);
		CHECK(atomic_load(&c->tl_seq) % 2 == 0, "timeline seq left odd");
		memset(&back, 0xee, sizeof(back));
		CHECK(shm_timeline_load(c, &back) == 0, "load");
		CHECK(!memcmp(&back, &tl, sizeof(tl)), "timeline round trip");
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
			unsigned int lo = nseg > SHM_TL_SEGS ? nseg - SHM_TL_SEGS : 0;
			uint64_t x = rnd_range(b[0] ? b[0] - 1 : 0, tick + 4000);
			uint64_t got_pos = 0, run = 0, want_run = SHM_TICK_NEVER - x;
			bool want = false, got;
			uint64_t want_pos = 0;

			/* Model: the live segments, the one covering x, the next begin. */
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
	struct shm_cable *c = calloc(1, sizeof(*c));
	unsigned int bad_pos = 0, bad_tick = 0;

	if (!c) {
		CHECK(0, "out of memory");
		return;
	}
	for (int t = 0; t < 20000; t++) {
		struct shm_timeline tl;
		uint64_t *w = (uint64_t *)&tl;

		/* Raw words through the shared cable, as a peer would leave them. */
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
			case 2: x = tl.seg[rnd() % SHM_TL_SEGS].begin_tick + rnd_range(0, 2) - 1; break;
			default: x = tl.seg[rnd() % SHM_TL_SEGS].end_tick + rnd_range(0, 2) - 1; break;
			}
			shm_timeline_pos(&tl, x, &pos, &run);
			if (run < 1 && bad_pos++ < 3)
				CHECK(run >= 1, "pos: tick %" PRIu64 " count %" PRIu64 " gave run 0", x,
				      tl.count);
			if (q % 4 >= 2)
				x = tl.seg[rnd() % SHM_TL_SEGS].begin_pos + rnd_range(0, 2) - 1;
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
	h->ring_bytes = SHM_RING_BYTES;
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
	make_header(img);
	h->header_bytes = SHM_HEADER_BYTES * 2;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO &&
	      strstr(why, "size"), "bad header size: %s", why);
	make_header(img);
	h->ring_bytes = SHM_RING_BYTES / 2;
	CHECK(shm_header_check(img, SHM_SEGMENT_BYTES, why, sizeof(why)) == -EPROTO,
	      "bad ring size: %s", why);
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

		CHECK(shm_grid_load(shm_seg_cable(&a, k), &g) == 0 && g.shift == SHM_SHIFT_NOMINAL,
		      "cable %u initial shift %u", k, g.shift);
	}
	CHECK(shm_seg_ring(&a, 1) == (uint8_t *)a.hdr + SHM_HEADER_BYTES + SHM_RING_BYTES,
	      "ring 1 address");

	/* A second open validates and maps the same segment. */
	err = shm_seg_open(&b, &cfg, why, sizeof(why));
	CHECK(err == 0, "second open: %d %s", err, why);
	if (!err) {
		CHECK(fstat(a.fd, &st) == 0 && fstat(b.fd, &st2) == 0 && st.st_ino == st2.st_ino,
		      "not the same file");
		CHECK(a.hdr != b.hdr, "expected a separate mapping");
		shm_seg_ring(&a, 1)[SHM_RING_BYTES - 1] = 0x42;
		atomic_store(&shm_seg_cable(&a, 0)->write_end, 4242);
		CHECK(shm_seg_ring(&b, 1)[SHM_RING_BYTES - 1] == 0x42, "ring not shared");
		CHECK(shm_ring_written(shm_seg_cable(&b, 0)) == 4242, "header not shared");
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

	/* An empty file is a creator that died before sizing: initialised. */
	seg_path(path, sizeof(path), "unit", 10);
	CHECK(write_file(path, "", 0) == 0, "write empty file");
	cfg.subdevice = 10;
	err = shm_seg_open(&a, &cfg, why, sizeof(why));
	CHECK(err == 0 && stat(path, &st) == 0 && st.st_size == SHM_SEGMENT_BYTES,
	      "empty file not initialised: %d %s", err, why);
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
	/* The tools' attach path refuses it the same way. */
	err = shm_seg_attach_path(&s, path, why, sizeof(why));
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
	make_header(img);
	((struct shm_header *)img)->ring_bytes = 4096;
	refuse_unchanged("wrong ring size in header", 5, img, SHM_SEGMENT_BYTES);
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
	cfg.subdevice = SHM_SUBDEVICE_MAX + 1;
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
	CHECK(strlen(cfg.card) == SHM_CARD_MAX, "test name length");
	CHECK(!shm_card_valid(cfg.card), "32 characters accepted");
	cfg.card = "A_b-901234567890123456789012345";
	cfg.subdevice = SHM_SUBDEVICE_MAX;
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == 0, "31-character card, subdevice max: %s", why);
	if (!err)
		shm_seg_close(&s);
	/* A missing directory is named. */
	cfg.dir = "/nonexistent-dir-for-test-shm-ring";
	err = shm_seg_open(&s, &cfg, why, sizeof(why));
	CHECK(err == -ENOENT && strstr(why, cfg.dir), "missing dir: %d %s", err, why);
}

static void test_locks(void)
{
	struct shm_seg_config cfg = { .dir = tmpdir, .card = "lock", .subdevice = 3,
				      .mode = 0600, .gid = -1 };
	struct shm_seg a, b;
	char why[768];
	int to_child[2], to_parent[2];
	pid_t pid;
	int status;
	char ch;

	if (shm_seg_open(&a, &cfg, why, sizeof(why)) < 0 ||
	    shm_seg_open(&b, &cfg, why, sizeof(why)) < 0) {
		CHECK(0, "open for locks: %s", why);
		return;
	}
	CHECK(shm_seg_end_claim(&a, 0, SHM_ROLE_PLAY) == 0, "claim on a");
	CHECK(shm_seg_end_claim(&a, 0, SHM_ROLE_PLAY) == 0, "re-claim by the same open");
	CHECK(shm_seg_end_claim(&b, 0, SHM_ROLE_PLAY) == -EBUSY, "second claim not -EBUSY");
	CHECK(shm_seg_end_held(&b, 0, SHM_ROLE_PLAY), "b does not see a's claim");
	CHECK(!shm_seg_end_held(&a, 0, SHM_ROLE_PLAY), "a sees its own claim as foreign");
	/* The four ends are independent. */
	CHECK(!shm_seg_end_held(&b, 0, SHM_ROLE_CAP) && !shm_seg_end_held(&b, 1, SHM_ROLE_PLAY) &&
	      !shm_seg_end_held(&b, 1, SHM_ROLE_CAP), "other ends held");
	CHECK(shm_seg_end_claim(&b, 0, SHM_ROLE_CAP) == 0, "b claims the capture end");
	CHECK(shm_seg_end_held(&a, 0, SHM_ROLE_CAP), "a does not see b's capture");
	CHECK(shm_seg_end_claim(&a, 0, SHM_ROLE_CAP) == -EBUSY, "a takes b's capture");
	/* Ends do not block the admin lock, nor the admin lock the ends. */
	CHECK(shm_seg_admin_lock(&a) == 0, "admin lock");
	CHECK(shm_seg_end_claim(&b, 1, SHM_ROLE_CAP) == 0, "end claim under admin lock");
	shm_seg_end_release(&b, 1, SHM_ROLE_CAP);
	shm_seg_admin_unlock(&a);
	CHECK(shm_seg_admin_lock(&b) == 0, "admin lock after unlock");
	shm_seg_admin_unlock(&b);

	shm_seg_end_release(&a, 0, SHM_ROLE_PLAY);
	CHECK(!shm_seg_end_held(&b, 0, SHM_ROLE_PLAY), "released end still held");
	CHECK(shm_seg_end_claim(&b, 0, SHM_ROLE_PLAY) == 0, "claim after release");
	shm_seg_end_release(&b, 0, SHM_ROLE_PLAY);
	shm_seg_end_release(&b, 0, SHM_ROLE_CAP);
	/* Close drops every lock of that open. */
	CHECK(shm_seg_end_claim(&b, 1, SHM_ROLE_PLAY) == 0, "claim before close");
	shm_seg_close(&b);
	CHECK(!shm_seg_end_held(&a, 1, SHM_ROLE_PLAY), "close kept the lock");

	/* A process that dies holding an end: the kernel frees it. */
	for (int how = 0; how < 2; how++) {
		if (pipe(to_child) < 0 || pipe(to_parent) < 0) {
			CHECK(0, "pipe");
			break;
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct shm_seg c;
			char w[768];

			close(to_child[1]);
			close(to_parent[0]);
			/* Its own open: the inherited a.fd is the parent's OFD. */
			if (shm_seg_open(&c, &cfg, w, sizeof(w)) < 0 ||
			    shm_seg_end_claim(&c, 1, SHM_ROLE_CAP) < 0)
				_exit(3);
			if (write(to_parent[1], "c", 1) != 1)
				_exit(4);
			if (read(to_child[0], &ch, 1) != 1)
				_exit(5);
			_exit(0);	/* no release, no close */
		}
		close(to_child[0]);
		close(to_parent[1]);
		CHECK(pid > 0, "fork");
		if (pid < 0)
			break;
		CHECK(read(to_parent[0], &ch, 1) == 1, "child did not claim");
		CHECK(shm_seg_end_held(&a, 1, SHM_ROLE_CAP), "child's claim not seen");
		CHECK(shm_seg_end_claim(&a, 1, SHM_ROLE_CAP) == -EBUSY, "child's end taken");
		if (how == 0) {
			CHECK(write(to_child[1], "x", 1) == 1, "release child");
		} else {
			kill(pid, SIGKILL);
		}
		CHECK(waitpid(pid, &status, 0) == pid, "wait");
		if (how == 0)
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
		else
			CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child not killed");
		close(to_child[1]);
		close(to_parent[0]);
		CHECK(!shm_seg_end_held(&a, 1, SHM_ROLE_CAP), "dead child's end still held (%s)",
		      how ? "SIGKILL" : "_exit");
		CHECK(shm_seg_end_claim(&a, 1, SHM_ROLE_CAP) == 0, "dead child's end not free");
		shm_seg_end_release(&a, 1, SHM_ROLE_CAP);
	}
	shm_seg_close(&a);
}

int main(void)
{
	const char *env = getenv("SHM_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	uint8_t *ring = aligned_alloc(64, SHM_RING_BYTES);
	uint32_t fbs[] = { 1, 3, 9, 256 };

	rng_state = seed ? seed : 1;
	printf("seed %" PRIu64 " (SHM_TEST_SEED to replay)\n", seed);
	if (!ring || !mkdtemp(tmpdir)) {
		fprintf(stderr, "setup failed: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
		test_spans(ring, fbs[i]);
		test_round_trip(ring, fbs[i]);
	}
	test_claim_protocol();
	test_grid_math();
	test_grid_shift();
	test_grid_hostile();
	test_timeline_basics();
	test_timeline_valid_random();
	test_timeline_garbage();
	test_header_check();
	test_seg_create();
	test_seg_refuse();
	test_locks();

	rm_all();
	rmdir(tmpdir);
	free(ring);
	return check_finish();
}
