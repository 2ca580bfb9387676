// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz-header.c - libFuzzer target: a segment image written by a hostile
 * peer.
 *
 * The input is copied into an exactly SHM_SEGMENT_BYTES heap buffer (so
 * AddressSanitizer sees any access past the segment) and handed to
 * everything that reads the shared segment: the header check, the grid and
 * every playback slot's timeline seqlock readers, the timeline lookups,
 * the ring copies and positions of the whole-cable ring and of every slot
 * ring, the controls, the parameter lock and the ends, with positions,
 * sizes and ticks taken from the image itself.  The lock bytes are real:
 * the buffer stands for a file of which a second open (the "peer") holds
 * the end and slot locks the input chooses, so that liveness (slot alive,
 * end held, Slave Active), shm_end_info() and a full shm_end_attach() /
 * shm_cable_lock() / shm_end_detach() run against them.  Besides memory
 * safety it checks the promises the plugin relies on: a clamped shift, an
 * untouched grid on -EAGAIN, run >= 1 with the same kind of answer for the
 * whole run, spans inside their own ring, liveness that follows the locks
 * and never the image, and attach answers that follow the locks.
 *
 * Input: byte 0 flags (bit 0: also check a truncated copy; bit 1: attach
 * shared; bit 2: attach as capture; bit 3: attach to cable 1), bytes 1-2
 * the offset (little endian, mod SHM_HEADER_BYTES) at which the image is
 * placed in the segment, bytes 3-4 the truncated length, byte 5 the peer's
 * hold on each end (2 bits each, end = cable * 2 + role: 0 none, 1
 * exclusive, 2 shared, 3 slot bytes only), bytes 6-13 the peer's slots of
 * each end (16 bits each, little endian), bytes 14-15 spare, then the
 * image.
 *
 * Built with -DFUZZ_SEED_MAIN instead, it is a plain program that writes
 * seed inputs (valid images from a real segment) into a directory.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "shm_cable.h"
#include "shm_layout.h"
#include "shm_place.h"
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR_PREFIX 16
#define PEER_NONE	0
#define PEER_EXCL	1
#define PEER_SHARED	2
#define PEER_STRAY	3

#ifndef FUZZ_SEED_MAIN

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint8_t *seg;		/* exactly SHM_SEGMENT_BYTES */
static size_t dirty;		/* bytes of seg the last input wrote */
static struct shm_seg me;	/* our open: the image, and a file for the locks */
static struct shm_seg peer;	/* a second open of that file: the hostile peer */
static char dir[] = "/tmp/fuzz-header.XXXXXX";

/* What the peer holds, as the input chose it. */
struct hold {
	unsigned int kind[SHM_CABLES * SHM_ROLES];
	uint16_t slots[SHM_CABLES * SHM_ROLES];
};

static void cleanup(void)
{
	if (me.fd >= 0)
		close(me.fd);
	if (peer.fd >= 0)
		close(peer.fd);
	unlink(me.path);
	rmdir(dir);
}

/* The lock file: never mapped, only locked; the image is the heap buffer. */
static void setup(void)
{
	seg = calloc(1, SHM_SEGMENT_BYTES);
	ASSERT(seg);
	ASSERT(mkdtemp(dir));
	snprintf(me.path, sizeof(me.path), "%s/" SHM_SEG_PREFIX "fuzz.0", dir);
	me.fd = open(me.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT(me.fd >= 0);
	ASSERT(ftruncate(me.fd, SHM_SEGMENT_BYTES) == 0);
	peer.fd = open(me.path, O_RDWR | O_CLOEXEC);
	ASSERT(peer.fd >= 0);
	snprintf(peer.path, sizeof(peer.path), "%s", me.path);
	/* Both opens name the file by its directory, as shm_seg_open leaves them. */
	me.dir.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	peer.dir.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT(me.dir.fd >= 0 && peer.dir.fd >= 0);
	snprintf(me.name, sizeof(me.name), SHM_SEG_PREFIX "fuzz.0");
	snprintf(peer.name, sizeof(peer.name), "%s", me.name);
	me.hdr = peer.hdr = (struct shm_header *)seg;
	me.map_bytes = peer.map_bytes = SHM_SEGMENT_BYTES;
	atexit(cleanup);
}

static void peer_lock(short type, off_t byte)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };

	ASSERT(fcntl(peer.fd, F_OFD_SETLK, &fl) == 0);
}

static void peer_hold(const uint8_t *p, struct hold *h)
{
	struct flock all = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 255 };

	ASSERT(fcntl(peer.fd, F_OFD_SETLK, &all) == 0);
	for (unsigned int e = 0; e < SHM_CABLES * SHM_ROLES; e++) {
		unsigned int cable = e / SHM_ROLES, role = e % SHM_ROLES;

		h->kind[e] = (p[0] >> (2 * e)) & 3;
		h->slots[e] = h->kind[e] == PEER_NONE ? 0 : le16(p + 1 + 2 * e);
		if (h->kind[e] == PEER_EXCL)
			peer_lock(F_WRLCK, SHM_LOCK_END(cable, role));
		else if (h->kind[e] == PEER_SHARED)
			peer_lock(F_RDLCK, SHM_LOCK_END(cable, role));
		for (unsigned int k = 0; k < SHM_SLOTS; k++)
			if (h->slots[e] >> k & 1)
				peer_lock(F_WRLCK, SHM_LOCK_SLOT(cable, role, k));
	}
}

static bool end_held(const struct hold *h, unsigned int cable, unsigned int role)
{
	unsigned int kind = h->kind[cable * SHM_ROLES + role];

	return kind == PEER_EXCL || kind == PEER_SHARED;
}

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
			    h->slot_ring_max == SHM_SLOT_RING_MAX &&
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
	uint64_t extra = atomic_load(&c->play[0].end.frames);
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
	ASSERT(g.shift >= LOOP_SHIFT_MIN && g.shift <= LOOP_SHIFT_MAX);
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

/* One playback slot's timeline, as a capture reads it and as its playback rewrites it. */
static void fuzz_timeline(struct shm_cable *c, struct shm_slot *sl, bool rewrite)
{
	struct shm_timeline tl;
	uint64_t extra = atomic_load(&sl->end.frames);
	int err;

	memset(&tl, 0x6d, sizeof(tl));
	err = shm_timeline_load(sl, &tl);
	ASSERT(err == 0 || err == -EAGAIN);
	if (err)
		ASSERT(tl.count == 0);
	check_pos(&tl, extra);
	check_tick(&tl, extra);
	check_pos(&tl, atomic_load(&c->grid_base_tick));
	check_tick(&tl, atomic_load(&sl->write_end));
	for (unsigned int k = 0; k < SHM_TL_SPANS; k++) {
		check_pos(&tl, tl.span[k].begin_tick);
		check_pos(&tl, tl.span[k].begin_tick - 1);
		check_pos(&tl, tl.span[k].end_tick);
		check_pos(&tl, tl.span[k].end_tick - 1);
		check_tick(&tl, tl.span[k].begin_pos);
		check_tick(&tl, tl.span[k].begin_pos - 1);
		check_tick(&tl, tl.span[k].begin_pos + (tl.span[k].end_tick - tl.span[k].begin_tick));
	}
	if (!rewrite)
		return;
	/* Open and close as the playback end would, on top of the garbage. */
	shm_timeline_close(&tl, extra);
	shm_timeline_open(&tl, extra, atomic_load(&sl->write_end));
	check_pos(&tl, extra);
	shm_timeline_store(sl, &tl);
	ASSERT(shm_timeline_load(sl, &tl) == 0);
}

/* One ring: spans inside it, copies in and out at the image's positions. */
static void fuzz_ring(const struct shm_ring *r, uint32_t raw_channels)
{
	/* Half the time a plausible frame size, else the raw value. */
	uint32_t fb = raw_channels & 0x80000000u ? raw_channels : 1 + raw_channels % 1024;
	uint32_t rf = shm_ring_frames(r, fb);
	uint64_t pos = shm_ring_written(r);
	uint64_t claim = atomic_load(&r->slot->write_claim);
	uint32_t frames = atomic_load(&r->slot->end.period_frames);
	uint32_t want = frames < rf ? frames : rf;
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(r, fb, pos, frames, span);
	uint32_t total = 0;
	uint64_t intact;
	static uint8_t *out;
	uint8_t *buf;

	/* The ring is ours: inside the segment's rings, whatever the image says. */
	ASSERT(r->data >= seg + SHM_HEADER_BYTES);
	ASSERT(r->data + r->bytes <= seg + SHM_SEGMENT_BYTES);
	ASSERT(rf <= r->bytes);
	ASSERT(n <= 2);
	for (unsigned int i = 0; i < n; i++) {
		ASSERT(span[i].ptr >= r->data);
		ASSERT(span[i].ptr + (size_t)span[i].frames * fb <= r->data + r->bytes);
		total += span[i].frames;
	}
	ASSERT(total == want);
	intact = shm_ring_intact_from(r, fb);
	ASSERT(intact == (claim > rf ? claim - rf : 0));
	if (!want)
		return;
	/*
	 * want frames end exactly at the end of a heap block, so a copy past
	 * them is caught (without a large malloc per input).
	 */
	if (!out) {
		out = malloc(SHM_SLOT_RING_MAX);
		ASSERT(out);
	}
	ASSERT((size_t)want * fb <= SHM_SLOT_RING_MAX);
	buf = out + SHM_SLOT_RING_MAX - (size_t)want * fb;
	shm_ring_read(r, fb, pos, buf, frames);
	shm_ring_claim(r, claim);
	shm_ring_write(r, fb, claim, buf, frames);
	shm_ring_publish(r, pos);
	/* Put the ring back to zero: the next input starts clean. */
	n = shm_ring_spans(r, fb, claim, frames, span);
	for (unsigned int i = 0; i < n; i++)
		memset(span[i].ptr, 0, (size_t)span[i].frames * fb);
}

/* Liveness comes from the locks only; what the image says is never believed. */
static void fuzz_liveness(const struct hold *h, unsigned int cable)
{
	struct shm_cable *c = shm_seg_cable(&me, cable);
	struct shm_controls ctl;
	struct shm_params lock;
	bool active = false, locked;

	for (unsigned int role = 0; role < SHM_ROLES; role++) {
		unsigned int e = cable * SHM_ROLES + role;

		ASSERT(shm_seg_end_held(&me, cable, role) == end_held(h, cable, role));
		ASSERT(shm_end_peer_alive(&me, cable, role) == end_held(h, cable, role ^ 1u));
		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			struct shm_place pl = { .cable = cable, .role = role, .slot = k };
			struct shm_end_info info;
			bool held = h->slots[e] >> k & 1;

			memset(&info, 0x55, sizeof(info));
			shm_end_info(&me, &pl, &info);
			ASSERT(info.attached == held);
			ASSERT(info.shared == (h->kind[e] == PEER_SHARED));
			if (role == SHM_ROLE_PLAY) {
				ASSERT(shm_slot_alive(&me, cable, k) == held);
				if (held && atomic_load(&c->play[k].end.active))
					active = true;
			}
		}
	}
	memset(&ctl, 0x55, sizeof(ctl));
	shm_controls_read(&me, cable, &ctl);
	ASSERT(ctl.rate_shift >= LOOP_SHIFT_MIN && ctl.rate_shift <= LOOP_SHIFT_MAX);
	ASSERT(ctl.active == active);
	ASSERT(ctl.slave.access <= 1);
	(void)shm_controls_seq(&me, cable);
	locked = shm_cable_locked(&me, cable, &lock);
	ASSERT(locked == (atomic_load(&c->locked) != 0));
	(void)shm_cable_relocked(&me, cable, atomic_load(&c->lock_gen) ^ 1u, &lock);
	(void)shm_cable_play_shared(&me, cable);
}

/* Attach as the plugin does; the answer must follow the peer's locks. */
static void fuzz_attach(const struct hold *h, uint8_t flags)
{
	struct shm_place pl = { .cable = flags >> 3 & 1, .role = flags >> 2 & 1,
				.slot = 12345, .shared = flags >> 1 & 1 };
	unsigned int e = pl.cable * SHM_ROLES + pl.role, kind = h->kind[e], free_slot;
	struct shm_cable *c = shm_seg_cable(&me, pl.cable);
	struct shm_attach at;
	struct shm_lock_result res;
	struct shm_params want;
	struct shm_ring_ask ask;
	char lock_why[256];
	int err;

	/* The slot we must get: the lowest one the peer does not hold. */
	for (free_slot = 0; free_slot < (pl.shared ? SHM_SLOTS : 1u); free_slot++)
		if (!(h->slots[e] >> free_slot & 1))
			break;
	err = shm_end_attach(&me, &pl, 4242, &at);
	if (kind == PEER_EXCL || (kind == PEER_SHARED && !pl.shared)) {
		ASSERT(err == -EBUSY);
		ASSERT(at.busy == (kind == PEER_EXCL ? SHM_BUSY_EXCLUSIVE : SHM_BUSY_SHARED));
		return;
	}
	if (free_slot == (pl.shared ? SHM_SLOTS : 1u)) {
		ASSERT(err == -EBUSY && at.busy == SHM_BUSY_FULL);
		/* A refused shared opener keeps no hold on the end. */
		ASSERT(shm_seg_end_held(&peer, pl.cable, pl.role) == false);
		return;
	}
	ASSERT(err == 0);
	ASSERT(pl.slot == free_slot);
	ASSERT(shm_seg_end_held(&peer, pl.cable, pl.role));
	if (pl.role == SHM_ROLE_PLAY) {
		ASSERT(shm_slot_alive(&peer, pl.cable, pl.slot));
		ASSERT(at.write_end == atomic_load(&c->play[pl.slot].write_end));
		/* The first playback decides whether the ring is split. */
		if (!end_held(h, pl.cable, pl.role))
			ASSERT(shm_cable_play_shared(&me, pl.cable) == pl.shared);
	}
	if (at.pinned)
		ASSERT(atomic_load(&c->locked) != 0);
	shm_end_set_state(&me, &pl, atomic_load(&c->format), flags >> 4 & 1);
	shm_end_set_sizes(&me, &pl, atomic_load(&c->rate), atomic_load(&c->channels));
	shm_end_add_frames(&me, &pl, atomic_load(&c->grid_base_ns));
	shm_end_add_xrun(&me, &pl);
	/* Parameters the peer's controls suggest: any values at all. */
	want = (struct shm_params){ atomic_load(&c->slave_format), atomic_load(&c->slave_rate),
				    atomic_load(&c->slave_channels),
				    atomic_load(&c->slave_access) & 1, atomic_load(&c->clock) & 1 };
	/* What we ask of the rings: any sizes the image suggests. */
	ask = (struct shm_ring_ask){ atomic_load(&c->ring_bytes) ^ atomic_load(&c->lock_gen),
				     shm_ring_size(atomic_load(&c->slave_channels),
						   atomic_load(&c->slave_rate)) };
	err = shm_cable_lock(&me, &pl, &want, &ask, atomic_load(&c->grid_base_ns), &res,
			     lock_why, sizeof(lock_why));
	ASSERT(err == 0 || err == -EINVAL || err == -EMSGSIZE || err == -ENOSPC);
	ASSERT(res.ring_bytes <= SHM_SLOT_RING_MAX);
	if (err == 0) {
		struct shm_params now;

		ASSERT(shm_cable_locked(&me, pl.cable, &now));
		ASSERT(shm_params_match(&now, &want));
		ASSERT(res.ring_bytes >= ask.fit);
		ASSERT(shm_seg_ring(&me, pl.cable, pl.slot, pl.shared).bytes == res.ring_bytes);
	}
	err = shm_controls_set_shift(&me, pl.cable, atomic_load(&c->slave_rate),
				     atomic_load(&c->grid_base_ns));
	ASSERT(err == 0 || err == 1);
	ASSERT(atomic_load(&c->rate_shift) >= LOOP_SHIFT_MIN &&
	       atomic_load(&c->rate_shift) <= LOOP_SHIFT_MAX);
	ASSERT(shm_controls_set_notify(&me, pl.cable, flags >> 5 & 1) >= 0);
	shm_end_detach(&me, &pl);
	ASSERT(!shm_seg_end_held(&peer, pl.cable, pl.role));
	ASSERT(pl.role != SHM_ROLE_PLAY || !shm_slot_alive(&peer, pl.cable, pl.slot));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hold hold;
	size_t off, len, cut;

	if (size < HDR_PREFIX)
		return 0;
	if (!seg)
		setup();
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
	peer_hold(data + 5, &hold);
	for (unsigned int k = 0; k < SHM_CABLES; k++) {
		struct shm_cable *c = shm_seg_cable(&me, k);
		uint32_t channels = atomic_load(&c->channels);
		struct shm_ring whole = shm_seg_ring(&me, k, 0, false);

		fuzz_grid(c);
		fuzz_liveness(&hold, k);
		/* Every slot's timeline and ring, read as a capture reads them. */
		for (unsigned int s = 0; s < SHM_SLOTS; s++) {
			struct shm_ring part = shm_seg_ring(&me, k, s, true);

			ASSERT(part.slot == &c->play[s]);
			ASSERT(part.data == whole.data + (size_t)s * SHM_SLOT_RING_MAX);
			ASSERT(part.bytes <= SHM_SLOT_RING_MAX);
			fuzz_timeline(c, &c->play[s], s == (data[0] >> 4));
			fuzz_ring(&part, channels);
		}
		/* And the ring as the image says it is split. */
		{
			struct shm_ring r = shm_seg_ring(&me, k, atomic_load(&c->cap[0].pid),
							 shm_cable_play_shared(&me, k));

			fuzz_ring(&r, channels ^ atomic_load(&c->notify));
		}
		fuzz_ring(&whole, channels);
	}
	fuzz_attach(&hold, data[0]);
	/* Timeline stores, attach and lock wrote into the header. */
	if (dirty < SHM_HEADER_BYTES)
		dirty = SHM_HEADER_BYTES;
	return 0;
}

#else /* FUZZ_SEED_MAIN: write seed inputs */

/* Prefix: flags, offset, cut, the peer's holds (byte 5) and slots (bytes 6-13). */
static int write_seed(const char *dir, const char *name, uint8_t flags, uint16_t off,
		      uint16_t cut, uint8_t kinds, uint16_t slots, const void *img, size_t len)
{
	char path[1024];
	uint8_t prefix[HDR_PREFIX] = { flags, (uint8_t)off, (uint8_t)(off >> 8), (uint8_t)cut,
				       (uint8_t)(cut >> 8), kinds };
	FILE *f;
	int ok;

	for (unsigned int e = 0; e < SHM_CABLES * SHM_ROLES; e++) {
		uint16_t m = (uint16_t)(slots << e | slots >> (16 - e));

		prefix[6 + 2 * e] = (uint8_t)m;
		prefix[7 + 2 * e] = (uint8_t)(m >> 8);
	}
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

/* The peer's hold on end e (cable * 2 + role). */
#define HOLD(e, kind) ((uint8_t)((kind) << (2 * (e))))

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/fuzz-seed.XXXXXX", why[768], path[600];
	struct shm_seg_config cfg = { .card = "seed", .subdevice = 5, .mode = 0600, .gid = -1 };
	struct shm_seg s;
	struct shm_timeline tl;
	/* The whole header: the fuzzer's max_len (8192) must hold it. */
	size_t seed_len = sizeof(struct shm_header);
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
	/*
	 * Cables in use: locked 48 kHz stereo S16, a shifted grid; cable 0
	 * with an exclusive playback (slot 0, the whole ring), cable 1 with a
	 * shared one (three playbacks in slots 0, 1 and 5, three captures).
	 */
	for (unsigned int k = 0; k < SHM_CABLES; k++) {
		struct shm_cable *c = shm_seg_cable(&s, k);

		atomic_store(&c->locked, 1);
		atomic_store(&c->format, 2);
		atomic_store(&c->rate, 48000);
		atomic_store(&c->channels, 4);	/* read as the frame size */
		atomic_store(&c->slave_format, 2);
		atomic_store(&c->slave_rate, 48000);
		atomic_store(&c->slave_channels, 2);
		atomic_store(&c->play_shared, k);
		shm_grid_reset(c, 1000000000);
		shm_grid_set_shift(c, 48000, 100500, 3000000000u);
		for (unsigned int slot = 0; slot < (k ? 6u : 1u); slot++) {
			struct shm_ring r = shm_seg_ring(&s, k, slot, k != 0);

			if (k && slot >= 2 && slot != 5)
				continue;
			memset(&tl, 0, sizeof(tl));
			for (unsigned int i = 0; i < 3 + k * 3; i++) {
				shm_timeline_open(&tl, 1000 + 5000 * i, 4000 * i + slot);
				shm_timeline_close(&tl, 1000 + 5000 * i + 4000);
			}
			shm_timeline_open(&tl, 90000, 40000 + slot);
			shm_timeline_store(r.slot, &tl);
			shm_ring_claim(&r, 52000 + k * 300000 + slot);
			shm_ring_publish(&r, 52000 + k * 300000 + slot);
			atomic_store(&r.slot->end.pid, 1234 + slot);
			atomic_store(&r.slot->end.period_frames, 1024);
			atomic_store(&r.slot->end.buffer_frames, 4096);
			atomic_store(&r.slot->end.frames, 52000);
			atomic_store(&r.slot->end.active, 1);
		}
		for (unsigned int slot = 0; slot < (k ? 3u : 1u); slot++) {
			atomic_store(&c->cap[slot].pid, 2345 + slot);
			atomic_store(&c->cap[slot].frames, 91000);
		}
	}
	img = malloc(SHM_HEADER_BYTES);
	if (!img)
		return 1;
	memcpy(img, s.hdr, SHM_HEADER_BYTES);
	shm_seg_close(&s);
	snprintf(path, sizeof(path), "%s/alsa-loopback-seed.5", tmp);
	unlink(path);
	rmdir(tmp);

	/* As the image says: cable 0 exclusive both ends, cable 1 shared both ends. */
	{
		uint8_t live = HOLD(0, 1) | HOLD(1, 1) | HOLD(2, 2) | HOLD(3, 2);

		err |= write_seed(argv[1], "valid", 0, 0, 0, 0, 0, img, seed_len);
		err |= write_seed(argv[1], "valid-live", 0x02, 0, 0, live, 0x0023, img,
				  seed_len);
		err |= write_seed(argv[1], "valid-live-attach-1", 0x0a | 0x10, 0, 0, live, 0x0023,
				  img, seed_len);
		err |= write_seed(argv[1], "valid-full", 0x0a, 0, 0, live, 0xffff, img,
				  seed_len);
		err |= write_seed(argv[1], "valid-stray-locks", 0x26, 0, 0, 0xff, 0x8001, img,
				  seed_len);
	}
	err |= write_seed(argv[1], "valid-truncated", 1, 0, sizeof(struct shm_header) - 1, 0, 0,
			  img, seed_len);
	err |= write_seed(argv[1], "valid-short-image", 0, 0, 0, 0, 0, img,
			  sizeof(struct shm_header) / 2);
	err |= write_seed(argv[1], "valid-at-offset", 1, 64, 200, 0, 0, img, seed_len - 64);
	/* A peer gone wrong: hostile shift, seqlocks stuck odd, a bad frame size. */
	{
		struct shm_header *h = (void *)img;

		atomic_store(&h->cable[0].rate_shift, 0);
		atomic_store(&h->cable[1].rate_shift, UINT32_MAX);
		atomic_store(&h->cable[1].play[5].tl_seq, 7);
		atomic_store(&h->cable[0].play[0].tl_seq, 3);
		atomic_store(&h->cable[0].grid_seq, 9);
		atomic_store(&h->cable[0].channels, 0x80000003u);
		atomic_store(&h->cable[1].play[1].write_end, UINT64_MAX);
		atomic_store(&h->cable[1].play[1].end.period_frames, UINT32_MAX);
		atomic_store(&h->cable[1].play_shared, 0xffffffffu);
		err |= write_seed(argv[1], "hostile", 0x30, 0, 0, HOLD(2, 2), 0x0002, img,
				  seed_len);
		h->version = 1;
		err |= write_seed(argv[1], "version-1", 0, 0, 0, 0, 0, img, seed_len);
		h->version = SHM_RING_VERSION + 1;
		err |= write_seed(argv[1], "wrong-version", 0, 0, 0, 0, 0, img, seed_len);
	}
	free(img);
	return err ? 1 : 0;
}

#endif
