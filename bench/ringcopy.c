// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ringcopy.c - frames/s through shm_ring_write/shm_ring_read against plain
 * memcpy of the same bytes, in the same run.
 *
 *   ringcopy [-f FRAME_BYTES] [-c CHUNK_FRAMES] [-t SECONDS]
 *
 * Both sides copy CHUNK frames at a time between a small hot source buffer
 * and a buffer of RING_BYTES (SHM_SLOT_RING_MAX), walking through it from a position that
 * is not chunk-aligned so the ring copies wrap (two spans) once per lap.
 * The baseline copies to the same offsets of an unwrapped buffer of the
 * same size (plus one chunk of slack), so both touch the same memory.
 *
 * The two are measured alternately in short rounds and the best round of
 * each counts: on a shared machine interruptions only ever make a round
 * slower, so the minimum is the figure least disturbed by them.
 *
 * Before timing, a full lap is written through the ring and read back
 * through it; every byte must come back (exit 1 otherwise).  Prints:
 *
 *   chunk=64 frame_bytes=4 ring_write_fps=... ring_read_fps=...
 *   memcpy_write_fps=... memcpy_read_fps=... write_ratio=... read_ratio=...
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shm_ring.h"

#define RING_BYTES	SHM_SLOT_RING_MAX

/* Keep the compiler from dropping or merging copies it thinks are dead. */
#define CLOBBER() __asm__ __volatile__("" ::: "memory")

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { RING_W, RING_R, MEM_W, MEM_R, KINDS };
static const char *const kind_name[KINDS] = {
	"ring_write", "ring_read", "memcpy_write", "memcpy_read"
};

/* One round: iters chunks; returns seconds. */
static double round_run(int kind, const struct shm_ring *ring, uint8_t *flat,
			uint8_t *chunk_buf, uint32_t frame_bytes, uint32_t chunk, unsigned long iters,
			uint64_t *pos)
{
	uint32_t ring_frames = shm_ring_frames(ring, frame_bytes);
	uint64_t p = *pos;
	double t0 = now_s();

	for (unsigned long i = 0; i < iters; i++) {
		size_t off = (size_t)(p % ring_frames) * frame_bytes;

		switch (kind) {
		case RING_W:
			shm_ring_write(ring, frame_bytes, p, chunk_buf, chunk);
			break;
		case RING_R:
			shm_ring_read(ring, frame_bytes, p, chunk_buf, chunk);
			break;
		case MEM_W:
			memcpy(flat + off, chunk_buf, (size_t)chunk * frame_bytes);
			break;
		default:
			memcpy(chunk_buf, flat + off, (size_t)chunk * frame_bytes);
			break;
		}
		CLOBBER();
		p += chunk;
	}
	*pos = p;
	return now_s() - t0;
}

/* Write a whole lap (and a bit) through the ring, read it back, compare. */
static int verify(const struct shm_ring *ring, uint32_t frame_bytes, uint32_t chunk)
{
	uint32_t ring_frames = shm_ring_frames(ring, frame_bytes);
	size_t cb = (size_t)chunk * frame_bytes;
	uint8_t *in = malloc(cb), *out = malloc(cb);
	uint64_t start = 7, end = start + ring_frames - chunk;
	int bad = 0;

	if (!in || !out)
		return -1;
	for (uint64_t p = start; p + chunk <= end; p += chunk) {
		for (size_t b = 0; b < cb; b++)
			in[b] = (uint8_t)((p * frame_bytes + b) * 2654435761u >> 13);
		shm_ring_write(ring, frame_bytes, p, in, chunk);
	}
	for (uint64_t p = start; p + chunk <= end && !bad; p += chunk) {
		for (size_t b = 0; b < cb; b++)
			in[b] = (uint8_t)((p * frame_bytes + b) * 2654435761u >> 13);
		shm_ring_read(ring, frame_bytes, p, out, chunk);
		if (memcmp(in, out, cb)) {
			fprintf(stderr, "ringcopy: frames at ring position %llu came back wrong\n",
				(unsigned long long)p);
			bad = 1;
		}
	}
	free(in);
	free(out);
	return bad;
}

int main(int argc, char **argv)
{
	uint32_t frame_bytes = 4, chunk = 64;
	double seconds = 2.0, best[KINDS], fps[KINDS];
	unsigned long iters;
	uint8_t *ring_bytes, *flat, *chunk_buf;
	/* The largest ring a lock gives (SHM_SLOT_RING_MAX): the worst case for the cache. */
	static struct shm_slot slot;
	struct shm_ring ring = { NULL, RING_BYTES, &slot };
	uint64_t pos[KINDS];
	int opt;

	while ((opt = getopt(argc, argv, "f:c:t:")) != -1) {
		switch (opt) {
		case 'f':
			frame_bytes = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			chunk = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: ringcopy [-f FRAME_BYTES] [-c CHUNK] [-t SECONDS]\n");
			return 2;
		}
	}
	if (!frame_bytes || frame_bytes > 256 || !chunk ||
	    chunk > shm_ring_frames(&ring, frame_bytes) / 2 || seconds <= 0) {
		fprintf(stderr, "ringcopy: bad arguments\n");
		return 2;
	}
	/* Page-aligned like the mapped segment's ring. */
	if (posix_memalign((void **)&ring_bytes, 4096, RING_BYTES) ||
	    posix_memalign((void **)&flat, 4096, RING_BYTES + (size_t)chunk * frame_bytes) ||
	    posix_memalign((void **)&chunk_buf, 64, (size_t)chunk * frame_bytes))
		return 2;
	ring.data = ring_bytes;
	memset(ring_bytes, 0, RING_BYTES);
	memset(flat, 0, RING_BYTES + (size_t)chunk * frame_bytes);
	memset(chunk_buf, 0x5a, (size_t)chunk * frame_bytes);
	if (verify(&ring, frame_bytes, chunk))
		return 1;

	/* Rounds of about 10 ms of copying, whatever the chunk size. */
	iters = (unsigned long)(2.5e8 / ((double)chunk * frame_bytes)) / 100 + 1;
	for (int k = 0; k < KINDS; k++) {
		best[k] = 1e30;
		pos[k] = 7;	/* not chunk-aligned: the ring wraps mid-chunk */
	}
	for (double t_end = now_s() + seconds; now_s() < t_end;) {
		for (int k = 0; k < KINDS; k++) {
			double s = round_run(k, &ring, flat, chunk_buf, frame_bytes, chunk, iters,
					     &pos[k]);

			if (s < best[k])
				best[k] = s;
		}
	}
	printf("chunk=%u frame_bytes=%u", chunk, frame_bytes);
	for (int k = 0; k < KINDS; k++) {
		fps[k] = (double)iters * chunk / best[k];
		printf(" %s_fps=%.0f", kind_name[k], fps[k]);
	}
	printf(" write_ratio=%.3f read_ratio=%.3f\n", fps[RING_W] / fps[MEM_W],
	       fps[RING_R] / fps[MEM_R]);
	free(ring_bytes);
	free(flat);
	free(chunk_buf);
	return 0;
}
