// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz-header.c - libFuzzer target: a segment image written by a hostile
 * peer.
 *
 * The input is copied into an exactly SHM_SEGMENT_BYTES heap buffer (so
 * AddressSanitizer sees any access past the segment) and handed to
 * everything that reads the shared segment: the header check, the grid and
 * timeline seqlock readers, the timeline lookups and the ring copies, with
 * positions, sizes and ticks taken from the image itself.  Besides memory
 * safety it checks the promises the plugin relies on: a clamped shift, an
 * untouched grid on -EAGAIN, run >= 1 with the same kind of answer for the
 * whole run, spans inside the ring.
 *
 * Input: byte 0 flags (bit 0: also check a truncated copy), bytes 1-2 the
 * offset (little endian, mod SHM_HEADER_BYTES) at which the rest is placed
 * in the segment, bytes 3-4 the truncated length, then the image.
 *
 * Built with -DFUZZ_SEED_MAIN instead, it is a plain program that writes
 * seed inputs (valid images from a real segment) into a directory.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "shm_ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define HDR_PREFIX 5

#ifndef FUZZ_SEED_MAIN

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}


static uint8_t *seg;		/* exactly SHM_SEGMENT_BYTES */
static size_t dirty;		/* bytes of seg the last input wrote */

static void check_why(const char *why, size_t len)
{
	ASSERT(memchr(why, 0, len) != NULL);
	ASSERT(why[0] != 0);
}

static void fuzz_check(const uint8_t *img, size_t map_bytes)
{
	const struct shm_header *h = (const void *)img;
	char why[256];
	int err;

	memset(why, 0x7f, sizeof(why));
	err = shm_header_check(img, map_bytes, why, sizeof(why));
	if (map_bytes < sizeof(*h)) {
		ASSERT(err == -EPROTO);
	} else {
		/* Accepted exactly when every identifying field is right. */
		bool good = atomic_load(&h->magic) == SHM_RING_MAGIC &&
			    h->version == SHM_RING_VERSION &&
			    h->header_bytes == SHM_HEADER_BYTES &&
			    h->ring_bytes == SHM_RING_BYTES &&
			    h->segment_bytes == SHM_SEGMENT_BYTES &&
			    map_bytes == SHM_SEGMENT_BYTES;

		ASSERT(err == (good ? 0 : -EPROTO));
	}
	if (err)
		check_why(why, sizeof(why));
	/* A tiny message buffer is cut, never overrun. */
	err = shm_header_check(img, map_bytes, why, 3);
	if (err)
		ASSERT(memchr(why, 0, 3) != NULL);
}

static void fuzz_grid(struct shm_cable *c)
{
	struct shm_grid g, keep;
	uint32_t raw_rate = atomic_load(&c->rate);
	uint64_t extra = atomic_load(&c->end[0].frames);
	int err;

	memset(&g, 0x5c, sizeof(g));
	g.rate = raw_rate;
	keep = g;
	err = shm_grid_load(c, &g);
	ASSERT(err == 0 || err == -EAGAIN);
	if (err) {
		ASSERT(!memcmp(&g, &keep, sizeof(g)));
		return;
	}
	ASSERT(g.shift >= SHM_SHIFT_MIN && g.shift <= SHM_SHIFT_MAX);
	ASSERT(g.rate == raw_rate);
	/* Any values: no crash, no division by zero. */
	(void)shm_grid_tick(&g, g.base_ns + extra);
	(void)shm_grid_ns(&g, g.base_tick + extra);
	(void)shm_grid_tick(&g, extra);
	(void)shm_grid_ns(&g, extra);
	/* In the plugin's domain, the inverse is exact. */
	g.rate = 8000 + raw_rate % (768000 - 8000 + 1);
	if (g.base_ns < UINT64_C(1) << 62 && g.base_tick < UINT64_C(1) << 62) {
		uint64_t k = g.base_tick + 1 + extra % (UINT64_C(1) << 40);
		uint64_t ns = shm_grid_ns(&g, k);

		ASSERT(ns > g.base_ns);
		ASSERT(shm_grid_tick(&g, ns) >= k);
		ASSERT(shm_grid_tick(&g, ns - 1) < k);
	}
}

/* The answer must hold, in kind, for the whole run. */
static void check_pos(const struct shm_timeline *tl, uint64_t tick)
{
	uint64_t pos = 0, run = 0, pos2, run2;
	bool heard = shm_timeline_pos(tl, tick, &pos, &run);

	ASSERT(run >= 1);
	if (run - 1 <= UINT64_MAX - tick)
		ASSERT(shm_timeline_pos(tl, tick + run - 1, &pos2, &run2) == heard);
}

static void check_tick(const struct shm_timeline *tl, uint64_t pos)
{
	uint64_t tick = 0, run = 0, tick2, run2;
	bool found = shm_timeline_tick(tl, pos, &tick, &run);

	ASSERT(run >= 1);
	if (run - 1 <= UINT64_MAX - pos)
		ASSERT(shm_timeline_tick(tl, pos + run - 1, &tick2, &run2) == found);
}

static void fuzz_timeline(struct shm_cable *c)
{
	struct shm_timeline tl;
	uint64_t extra = atomic_load(&c->end[1].frames);
	int err;

	memset(&tl, 0x6d, sizeof(tl));
	err = shm_timeline_load(c, &tl);
	ASSERT(err == 0 || err == -EAGAIN);
	if (err)
		ASSERT(tl.count == 0);
	check_pos(&tl, extra);
	check_tick(&tl, extra);
	check_pos(&tl, atomic_load(&c->grid_base_tick));
	check_tick(&tl, atomic_load(&c->write_end));
	for (unsigned int k = 0; k < SHM_TL_SEGS; k++) {
		check_pos(&tl, tl.seg[k].begin_tick);
		check_pos(&tl, tl.seg[k].begin_tick - 1);
		check_pos(&tl, tl.seg[k].end_tick);
		check_pos(&tl, tl.seg[k].end_tick - 1);
		check_tick(&tl, tl.seg[k].begin_pos);
		check_tick(&tl, tl.seg[k].begin_pos - 1);
		check_tick(&tl, tl.seg[k].begin_pos + (tl.seg[k].end_tick - tl.seg[k].begin_tick));
	}
	/* Open and close as the playback end would, on top of the garbage. */
	shm_timeline_close(&tl, extra);
	shm_timeline_open(&tl, extra, atomic_load(&c->write_end));
	check_pos(&tl, extra);
	shm_timeline_store(c, &tl);
}

static void fuzz_ring(struct shm_cable *c, uint8_t *ring)
{
	uint32_t raw = atomic_load(&c->channels);
	/* Half the time a plausible frame size, else the raw value. */
	uint32_t fb = raw & 0x80000000u ? raw : 1 + raw % 1024;
	uint32_t rf = shm_ring_frames(fb);
	uint64_t pos = atomic_load(&c->write_end);
	uint32_t frames = atomic_load(&c->end[0].period_frames);
	uint32_t want = frames < rf ? frames : rf;
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(ring, fb, pos, frames, span);
	uint32_t total = 0;
	static uint8_t *out;
	uint8_t *buf;

	ASSERT(n <= 2);
	for (unsigned int i = 0; i < n; i++) {
		ASSERT(span[i].ptr >= ring);
		ASSERT(span[i].ptr + (size_t)span[i].frames * fb <= ring + SHM_RING_BYTES);
		total += span[i].frames;
	}
	ASSERT(total == want);
	if (!want)
		return;
	/*
	 * want frames end exactly at the end of a heap block, so a copy past
	 * them is caught (without a large malloc per input).
	 */
	if (!out) {
		out = malloc(SHM_RING_BYTES);
		ASSERT(out);
	}
	ASSERT((size_t)want * fb <= SHM_RING_BYTES);
	buf = out + SHM_RING_BYTES - (size_t)want * fb;
	shm_ring_read(ring, fb, pos, buf, frames);
	shm_ring_write(ring, fb, atomic_load(&c->write_claim), buf, frames);
	/* Put the ring back to zero: the next input starts clean. */
	n = shm_ring_spans(ring, fb, atomic_load(&c->write_claim), frames, span);
	for (unsigned int i = 0; i < n; i++)
		memset(span[i].ptr, 0, (size_t)span[i].frames * fb);
	(void)shm_ring_intact_from(c, fb);
	(void)shm_ring_written(c);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off, len, cut;

	if (size < HDR_PREFIX)
		return 0;
	if (!seg) {
		seg = calloc(1, SHM_SEGMENT_BYTES);
		ASSERT(seg);
	}
	/* Every input starts from a zero segment, so runs reproduce. */
	memset(seg, 0, dirty);
	off = le16(data + 1) % SHM_HEADER_BYTES;
	len = size - HDR_PREFIX;
	if (len > SHM_SEGMENT_BYTES - off)
		len = SHM_SEGMENT_BYTES - off;
	memcpy(seg + off, data + HDR_PREFIX, len);
	dirty = off + len;

	fuzz_check(seg, SHM_SEGMENT_BYTES);
	if (data[0] & 1) {
		cut = le16(data + 3) % (sizeof(struct shm_header) + 64);
		uint8_t *copy = malloc(cut ? cut : 1);

		ASSERT(copy);
		memcpy(copy, seg, cut);
		fuzz_check(copy, cut);
		free(copy);
	}
	for (unsigned int k = 0; k < SHM_CABLES; k++) {
		struct shm_cable *c = &((struct shm_header *)seg)->cable[k];
		uint8_t *ring = seg + SHM_HEADER_BYTES + (size_t)k * SHM_RING_BYTES;

		fuzz_grid(c);
		fuzz_timeline(c);
		fuzz_ring(c, ring);
	}
	/* Timeline stores wrote into the header. */
	if (dirty < SHM_HEADER_BYTES)
		dirty = SHM_HEADER_BYTES;
	return 0;
}

#else /* FUZZ_SEED_MAIN: write seed inputs */

static int write_seed(const char *dir, const char *name, uint8_t flags, uint16_t off,
		      uint16_t cut, const void *img, size_t len)
{
	char path[1024];
	uint8_t prefix[HDR_PREFIX] = { flags, (uint8_t)off, (uint8_t)(off >> 8), (uint8_t)cut,
				       (uint8_t)(cut >> 8) };
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	ok = fwrite(prefix, 1, sizeof(prefix), f) == sizeof(prefix) &&
	     fwrite(img, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/fuzz-seed.XXXXXX", why[768], path[600];
	struct shm_seg_config cfg = { .card = "seed", .subdevice = 5, .mode = 0600, .gid = -1 };
	struct shm_seg s;
	struct shm_timeline tl;
	uint8_t *img;
	int err = 0;

	if (argc != 2 || !mkdtemp(tmp)) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	cfg.dir = tmp;
	if (shm_seg_open(&s, &cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	/* A cable in use: locked 48 kHz stereo S16, a shifted grid, a timeline. */
	for (unsigned int k = 0; k < SHM_CABLES; k++) {
		struct shm_cable *c = shm_seg_cable(&s, k);

		atomic_store(&c->locked, 1);
		atomic_store(&c->format, 2);
		atomic_store(&c->rate, 48000);
		atomic_store(&c->channels, 4);	/* read as the frame size */
		shm_grid_reset(c, 1000000000);
		shm_grid_set_shift(c, 48000, 100500, 3000000000u);
		memset(&tl, 0, sizeof(tl));
		for (unsigned int i = 0; i < 3 + k * 3; i++) {
			shm_timeline_open(&tl, 1000 + 5000 * i, 4000 * i);
			shm_timeline_close(&tl, 1000 + 5000 * i + 4000);
		}
		shm_timeline_open(&tl, 90000, 40000);
		shm_timeline_store(c, &tl);
		shm_ring_claim(c, 52000 + k * 300000);
		shm_ring_publish(c, 52000 + k * 300000);
		atomic_store(&c->end[0].pid, 1234);
		atomic_store(&c->end[0].period_frames, 1024);
		atomic_store(&c->end[0].buffer_frames, 4096);
		atomic_store(&c->end[0].frames, 52000);
		atomic_store(&c->end[1].frames, 91000);
	}
	img = malloc(SHM_HEADER_BYTES);
	if (!img)
		return 1;
	memcpy(img, s.hdr, SHM_HEADER_BYTES);
	shm_seg_close(&s);
	snprintf(path, sizeof(path), "%s/alsa-loopback-seed.5", tmp);
	unlink(path);
	rmdir(tmp);

	err |= write_seed(argv[1], "valid", 0, 0, 0, img, SHM_HEADER_BYTES);
	err |= write_seed(argv[1], "valid-truncated", 1, 0, sizeof(struct shm_header) - 1, img,
			  SHM_HEADER_BYTES);
	err |= write_seed(argv[1], "valid-short-image", 0, 0, 0, img, sizeof(struct shm_header) / 2);
	err |= write_seed(argv[1], "valid-at-offset", 1, 64, 200, img, SHM_HEADER_BYTES - 64);
	/* A peer gone wrong: hostile shift, a seqlock stuck odd. */
	{
		struct shm_header *h = (void *)img;

		atomic_store(&h->cable[0].rate_shift, 0);
		atomic_store(&h->cable[1].rate_shift, UINT32_MAX);
		atomic_store(&h->cable[1].tl_seq, 7);
		atomic_store(&h->cable[0].grid_seq, 9);
		atomic_store(&h->cable[0].channels, 0x80000003u);
		err |= write_seed(argv[1], "hostile", 0, 0, 0, img, SHM_HEADER_BYTES);
		h->version = SHM_RING_VERSION + 1;
		err |= write_seed(argv[1], "wrong-version", 0, 0, 0, img, SHM_HEADER_BYTES);
	}
	free(img);
	return err ? 1 : 0;
}

#endif
