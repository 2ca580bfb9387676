// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * segtool.c - hostile segments for the reliability tests.
 *
 *   segtool make PATH KIND          write a segment file of one kind:
 *       valid, truncated (4096 bytes: less than the header),
 *       short (100 bytes), badmagic, badversion, v1 (a version-1 header in
 *       a file of this layout's size), bigsizes (header claims more than
 *       the file holds), oversize (valid header, file too long)
 *   segtool scribble PATH SECONDS SEED
 *       map a live segment and write garbage into every field of both
 *       cables' struct shm_cable (lock, grid, play_shared, controls, seq
 *       counters, and every playback slot's timeline, positions and end,
 *       every capture slot's end) for SECONDS, in bursts with quiet gaps so
 *       the victims also see consistent garbage that stays put.
 *   segtool poke PATH CABLE FIELD VALUE
 *       set one named field of one cable (a single, reproducible fault):
 *       a cable field (locked, rate, play_shared, ...), a playback slot's
 *       "playK.FIELD" (tl_seq, tl_count, write_claim, write_end, pid,
 *       active, ...) or a capture slot's "capK.FIELD" (pid, state, ...).
 *
 * Deliberately no validation of our own: the point is to be a peer that
 * does everything wrong.
 */
#define _GNU_SOURCE
#include "shm_layout.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	h->slot_ring_max = SHM_SLOT_RING_MAX;
	snprintf(h->card, sizeof(h->card), "hostile");
	for (unsigned int c = 0; c < SHM_CABLES; c++)
		atomic_store(&h->cable[c].rate_shift, LOOP_SHIFT_NOMINAL);
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
		/*
		 * Shorter than the header.  4096 (the layout-1 header size) also
		 * keeps the size rel-hostile.sh looks for in the message.
		 */
		size = 4096;
	} else if (!strcmp(kind, "v1")) {
		img.h.version = 1;
	} else if (!strcmp(kind, "short")) {
		size = 100;
	} else if (!strcmp(kind, "badmagic")) {
		atomic_store(&img.h.magic, UINT64_C(0x0123456789abcdef));
	} else if (!strcmp(kind, "badversion")) {
		img.h.version = SHM_RING_VERSION + 7;
	} else if (!strcmp(kind, "bigsizes")) {
		img.h.segment_bytes = UINT64_C(1) << 40;
		img.h.slot_ring_max = 0x80000000u;
		img.h.header_bytes = 0x10000000u;
	} else if (!strcmp(kind, "oversize")) {
		size = SHM_SEGMENT_BYTES + 4096;
	} else {
		fprintf(stderr, "segtool: unknown kind %s\n", kind);
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
		fprintf(stderr, "segtool: %s did not appear\n", path);
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

struct field {
	const char *name;
	size_t off, size;
};

static const struct field cable_fields[] = {
#define F(f) { #f, offsetof(struct shm_cable, f), sizeof(((struct shm_cable *)0)->f) }
	F(locked), F(format), F(rate), F(channels), F(access), F(grid_seq),
	F(rate_shift), F(grid_base_ns), F(grid_base_tick), F(play_shared), F(notify),
	F(slave_format), F(slave_rate), F(slave_channels), F(slave_access), F(ctl_seq),
	F(lock_gen),
#undef F
};

static const struct field slot_fields[] = {
#define F(f) { #f, offsetof(struct shm_slot, f), sizeof(((struct shm_slot *)0)->f) }
	F(tl_seq), F(tl_count), F(write_claim), F(write_end),
	F(tl[0].begin_tick), F(tl[0].end_tick), F(tl[0].begin_pos),
	F(tl[1].begin_tick), F(tl[1].end_tick), F(tl[1].begin_pos),
	F(tl[2].begin_tick), F(tl[2].end_tick), F(tl[2].begin_pos),
	F(tl[3].begin_tick), F(tl[3].end_tick), F(tl[3].begin_pos),
#undef F
#define F(f) { #f, offsetof(struct shm_slot, end.f), sizeof(((struct shm_slot *)0)->end.f) }
	F(pid), F(state), F(period_frames), F(buffer_frames), F(frames), F(xruns), F(active),
#undef F
};

static const struct field end_fields[] = {
#define F(f) { #f, offsetof(struct shm_end, f), sizeof(((struct shm_end *)0)->f) }
	F(pid), F(state), F(period_frames), F(buffer_frames), F(frames), F(xruns), F(active),
#undef F
};

static const struct field *find_field(const struct field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* Set one named field of one cable: a reproducible single fault. */
static int poke(const char *path, unsigned int cable, const char *field, const char *value)
{
	uint64_t v = strtoull(value, NULL, 0);
	const struct field *f = NULL;
	struct shm_cable *c;
	struct shm_header *h;
	uint8_t *base = NULL;
	unsigned int k;
	int used = 0;
	int fd = open(path, O_RDWR | O_NOFOLLOW);

	if (fd < 0 || (h = mmap(NULL, SHM_SEGMENT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
				  fd, 0)) == MAP_FAILED) {
		perror(path);
		return 2;
	}
	c = &h->cable[cable % SHM_CABLES];
	if (sscanf(field, "play%u.%n", &k, &used) == 1 && used && k < SHM_SLOTS) {
		f = find_field(slot_fields, sizeof(slot_fields) / sizeof(slot_fields[0]),
			       field + used);
		base = (uint8_t *)&c->play[k];
	} else if (sscanf(field, "cap%u.%n", &k, &used) == 1 && used && k < SHM_SLOTS) {
		f = find_field(end_fields, sizeof(end_fields) / sizeof(end_fields[0]), field + used);
		base = (uint8_t *)&c->cap[k];
	} else {
		f = find_field(cable_fields, sizeof(cable_fields) / sizeof(cable_fields[0]), field);
		base = (uint8_t *)c;
	}
	if (!f) {
		fprintf(stderr, "segtool: unknown field %s\n", field);
		return 2;
	}
	if (f->size == 8)
		__atomic_store_n((uint64_t *)(base + f->off), v, __ATOMIC_SEQ_CST);
	else
		__atomic_store_n((uint32_t *)(base + f->off), (uint32_t)v, __ATOMIC_SEQ_CST);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "make"))
		return make(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "poke"))
		return poke(argv[2], (unsigned int)atoi(argv[3]), argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "scribble"))
		return scribble(argv[2], atof(argv[3]), (unsigned int)atoi(argv[4]));
	fprintf(stderr, "usage: segtool make PATH KIND | segtool scribble PATH SECONDS SEED | "
		"segtool poke PATH CABLE FIELD VALUE\n");
	return 2;
}
