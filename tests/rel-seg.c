// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * rel-seg.c - hostile segments for the reliability tests.
 *
 *   rel-seg make PATH KIND          write a segment file of one kind:
 *       valid, truncated (header only), short (100 bytes), badmagic,
 *       badversion, bigsizes (header claims more than the file holds),
 *       oversize (valid header, file too long)
 *   rel-seg scribble PATH SECONDS SEED
 *       map a live segment and write garbage into every field of both
 *       cables' struct shm_cable (lock, grid, timeline, positions,
 *       controls, seq counters, ends) for SECONDS, in bursts with quiet
 *       gaps so the victims also see consistent garbage that stays put.
 *   rel-seg poke PATH CABLE FIELD VALUE
 *       set one named field of one cable (a single, reproducible fault).
 *
 * Deliberately no validation of our own: the point is to be a peer that
 * does everything wrong.
 */
#define _GNU_SOURCE
#include "shm_ring.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t rnd_state = 88172645463325252u;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void header_fill(struct shm_header *h)
{
	h->version = SHM_RING_VERSION;
	h->header_bytes = SHM_HEADER_BYTES;
	h->segment_bytes = SHM_SEGMENT_BYTES;
	h->ring_bytes = SHM_RING_BYTES;
	snprintf(h->card, sizeof(h->card), "hostile");
	for (unsigned int c = 0; c < SHM_CABLES; c++)
		atomic_store(&h->cable[c].rate_shift, SHM_SHIFT_NOMINAL);
	atomic_store(&h->magic, SHM_RING_MAGIC);
}

static int make(const char *path, const char *kind)
{
	static union {
		struct shm_header h;
		uint8_t bytes[SHM_HEADER_BYTES];
	} img;
	uint64_t size = SHM_SEGMENT_BYTES;
	int fd;

	header_fill(&img.h);
	if (!strcmp(kind, "valid")) {
	} else if (!strcmp(kind, "truncated")) {
		size = SHM_HEADER_BYTES;
	} else if (!strcmp(kind, "short")) {
		size = 100;
	} else if (!strcmp(kind, "badmagic")) {
		atomic_store(&img.h.magic, UINT64_C(0x0123456789abcdef));
	} else if (!strcmp(kind, "badversion")) {
		img.h.version = SHM_RING_VERSION + 7;
	} else if (!strcmp(kind, "bigsizes")) {
		img.h.segment_bytes = UINT64_C(1) << 40;
		img.h.ring_bytes = 0x80000000u;
		img.h.header_bytes = 0x10000000u;
	} else if (!strcmp(kind, "oversize")) {
		size = SHM_SEGMENT_BYTES + 4096;
	} else {
		fprintf(stderr, "rel-seg: unknown kind %s\n", kind);
		return 2;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    pwrite(fd, &img, size < sizeof(img) ? size : sizeof(img), 0) < 0) {
		perror(path);
		return 2;
	}
	close(fd);
	return 0;
}

/* A value a careless or malicious peer might store. */
static uint64_t garbage(void)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return UINT64_MAX;
	case 2: return rnd() & 0xffffffffu;
	case 3: return 1u + (rnd() & 0xff);		/* small, often odd */
	case 4: return UINT64_C(1) << (rnd() % 64);
	case 5: return UINT64_MAX - (rnd() & 0xffff);
	default: return rnd();
	}
}

static int scribble(const char *path, double seconds, unsigned int seed)
{
	struct shm_header *h;
	uint8_t *cab;
	double end;
	uint64_t stores = 0;
	int fd = -1;

	rnd_state ^= (uint64_t)seed * 0x9e3779b97f4a7c15u;
	/* The victims create the segment; wait for it (bounded). */
	for (int i = 0; i < 500 && fd < 0; i++) {
		struct stat st;

		fd = open(path, O_RDWR | O_NOFOLLOW);
		if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_size != SHM_SEGMENT_BYTES)) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			usleep(10000);
	}
	if (fd < 0) {
		fprintf(stderr, "rel-seg: %s did not appear\n", path);
		return 2;
	}
	h = mmap(NULL, SHM_SEGMENT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	cab = (uint8_t *)h->cable;
	end = now_s() + seconds;
	while (now_s() < end) {
		/* A burst of stores at aligned offsets across both cables... */
		unsigned int burst = 1 + (unsigned int)(rnd() % 2000);

		for (unsigned int i = 0; i < burst; i++) {
			size_t off = (size_t)(rnd() % (sizeof(h->cable) / 4)) * 4;

			if (rnd() & 1 && off + 8 <= sizeof(h->cable) && !(off & 7))
				__atomic_store_n((uint64_t *)(cab + off), garbage(), __ATOMIC_RELAXED);
			else
				__atomic_store_n((uint32_t *)(cab + off), (uint32_t)garbage(),
						 __ATOMIC_RELAXED);
			stores++;
		}
		/* ...then a quiet gap in which the garbage stays consistent. */
		usleep((useconds_t)(rnd() % 20000));
	}
	printf("scribble: %llu stores into %zu bytes of cable headers\n",
	       (unsigned long long)stores, sizeof(h->cable));
	munmap(h, SHM_SEGMENT_BYTES);
	close(fd);
	return 0;
}

/* Set one named field of one cable: a reproducible single fault. */
static int poke(const char *path, unsigned int cable, const char *field, const char *value)
{
	static const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
#define F(f) { #f, offsetof(struct shm_cable, f), sizeof(((struct shm_cable *)0)->f) }
		F(locked), F(format), F(rate), F(channels), F(access), F(grid_seq),
		F(rate_shift), F(grid_base_ns), F(grid_base_tick), F(tl_seq), F(tl_count),
		F(write_claim), F(write_end), F(notify), F(lock_gen),
#undef F
	};
	uint64_t v = strtoull(value, NULL, 0);
	struct shm_header *h;
	int fd = open(path, O_RDWR | O_NOFOLLOW);

	if (fd < 0 || (h = mmap(NULL, SHM_SEGMENT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
				  fd, 0)) == MAP_FAILED) {
		perror(path);
		return 2;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint8_t *p = (uint8_t *)&h->cable[cable % SHM_CABLES] + fields[i].off;

		if (strcmp(fields[i].name, field))
			continue;
		if (fields[i].size == 8)
			__atomic_store_n((uint64_t *)p, v, __ATOMIC_SEQ_CST);
		else
			__atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_SEQ_CST);
		return 0;
	}
	fprintf(stderr, "rel-seg: unknown field %s\n", field);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "make"))
		return make(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "poke"))
		return poke(argv[2], (unsigned int)atoi(argv[3]), argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "scribble"))
		return scribble(argv[2], atof(argv[3]), (unsigned int)atoi(argv[4]));
	fprintf(stderr, "usage: rel-seg make PATH KIND | rel-seg scribble PATH SECONDS SEED | "
		"rel-seg poke PATH CABLE FIELD VALUE\n");
	return 2;
}
