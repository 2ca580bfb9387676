// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_seg.c - the segment file: its name, creation, validation, page
 * reservation and mapping.
 *
 * Creation.  Open what is at the name (never O_CREAT: shm_file.h says
 * why); where there is nothing, make the segment whole under a temporary
 * name (size, pages, header, magic last) and rename it into place without
 * replacing anything.  So a segment at its name is always initialised, and
 * anything else there (another user's file, an empty file, another
 * version) is refused and never overwritten: "loses nothing".
 *
 * Lifetime.  The last opener to leave removes an idle segment
 * (shm_cable.c); an opener that took its file just before checks, under
 * the admin lock, that the name still is that file, and opens again.
 *
 * Pages.  The file is sparse.  The header's pages are reserved
 * (fallocate) before it is mapped, by its creator and again by every later
 * opener; a ring's pages by the playback that will write them, at its
 * hw_params, under the admin lock, and given back when the cable's last
 * opener leaves.  A tmpfs that fills up (Docker's 64 MiB /dev/shm next to
 * a browser) must fail the open or the hw_params with ENOSPC, never raise
 * SIGBUS in the middle of the host's audio.  Nothing reads a ring's pages
 * before its writer reserved them: a capture reads only what a playback
 * published.
 */
#define _GNU_SOURCE
#include "shm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

bool shm_card_valid(const char *card)
{
	size_t n = 0;

	if (!card || !*card)
		return false;
	for (; card[n]; n++) {
		char ch = card[n];

		if (n + 1 >= LOOP_CARD_MAX)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

int shm_seg_name(char *buf, size_t len, const char *card, unsigned int subdevice)
{
	int n = snprintf(buf, len, SHM_SEG_PREFIX "%s.%u", card, subdevice);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int shm_seg_path(char *buf, size_t len, const char *dir, const char *card,
		 unsigned int subdevice)
{
	char own[256];
	int n;

	if (!dir) {
		if (shm_dir_default_path(own, sizeof(own)) < 0)
			return -ENAMETOOLONG;
		dir = own;
	}
	n = snprintf(buf, len, "%s/" SHM_SEG_PREFIX "%s.%u", dir, card, subdevice);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int shm_header_check(const void *map, size_t map_bytes, char *why, size_t why_len)
{
	const struct shm_header *h = map;
	uint64_t magic;

	if (map_bytes < sizeof(*h)) {
		snprintf(why, why_len, "is truncated (%zu bytes, expected %u)", map_bytes,
			 SHM_SEGMENT_BYTES);
		return -EPROTO;
	}
	magic = atomic_load_explicit(&h->magic, memory_order_acquire);
	if (magic != SHM_RING_MAGIC) {
		snprintf(why, why_len, "is not an alsa-loopback segment (bad magic 0x%016llx)",
			 (unsigned long long)magic);
		return -EPROTO;
	}
	if (h->version != SHM_RING_VERSION) {
		snprintf(why, why_len, "has layout version %u, this plugin speaks %u",
			 h->version, SHM_RING_VERSION);
		return -EPROTO;
	}
	if (h->header_bytes != SHM_HEADER_BYTES || h->slot_ring_max != SHM_SLOT_RING_MAX ||
	    h->segment_bytes != SHM_SEGMENT_BYTES || map_bytes != SHM_SEGMENT_BYTES) {
		snprintf(why, why_len,
			 "has the wrong size (header %u, ring room %u, segment %llu, file %zu; "
			 "expected %u, %u, %u)", h->header_bytes, h->slot_ring_max,
			 (unsigned long long)h->segment_bytes, map_bytes, SHM_HEADER_BYTES,
			 SHM_SLOT_RING_MAX, SHM_SEGMENT_BYTES);
		return -EPROTO;
	}
	return 0;
}

bool shm_retry_again(unsigned int round)
{
	struct timespec ts = { 0, LOOP_OPEN_RETRY_NS };

	if (round >= LOOP_OPEN_PATIENCE)
		return false;
	if (round >= LOOP_OPEN_TRIES)
		nanosleep(&ts, NULL);
	return true;
}

bool shm_seg_linked(struct shm_seg *seg)
{
	return shm_file_linked(&seg->dir, seg->name, seg->fd);
}

static void header_init(struct shm_header *h, const struct shm_seg_config *cfg)
{
	uint64_t now = shm_now_ns();

	h->version = SHM_RING_VERSION;
	h->header_bytes = SHM_HEADER_BYTES;
	h->segment_bytes = SHM_SEGMENT_BYTES;
	h->slot_ring_max = SHM_SLOT_RING_MAX;
	h->subdevice = cfg->subdevice;
	snprintf(h->card, sizeof(h->card), "%s", cfg->card);
	for (unsigned int c = 0; c < SHM_CABLES; c++)
		shm_grid_reset(&h->cable[c], now);
	/* Release: whoever sees the magic sees an initialised header. */
	atomic_store_explicit(&h->magic, SHM_RING_MAGIC, memory_order_release);
}

static void seg_unmap(struct shm_seg *seg)
{
	if (seg->hdr)
		munmap(seg->hdr, seg->map_bytes);
	seg->hdr = NULL;
}

static int map_seg(struct shm_seg *seg, char *why, size_t why_len)
{
	struct stat st;
	void *map;

	if (fstat(seg->fd, &st) < 0) {
		int err = errno;

		snprintf(why, why_len, "cannot stat %s: %s", seg->path, strerror(err));
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		seg->fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s is not a regular file", seg->path);
		return -EPROTO;
	}
	/* Map exactly what is there, however big the header claims to be. */
	if ((uint64_t)st.st_size != SHM_SEGMENT_BYTES) {
		seg->fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s has the wrong size (%lld bytes, expected %u): "
			 "not one of ours or from another version",
			 seg->path, (long long)st.st_size, SHM_SEGMENT_BYTES);
		return -EPROTO;
	}
	map = mmap(NULL, SHM_SEGMENT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, seg->fd, 0);
	if (map == MAP_FAILED) {
		int err = errno;

		snprintf(why, why_len, "cannot map %s: %s", seg->path, strerror(err));
		return -err;
	}
	seg->hdr = map;
	seg->map_bytes = SHM_SEGMENT_BYTES;
	return 0;
}

static int check_seg(struct shm_seg *seg, char *why, size_t why_len)
{
	char inner[256];
	int err = shm_header_check(seg->hdr, seg->map_bytes, inner, sizeof(inner));

	if (err < 0) {
		seg->fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s %s", seg->path, inner);
	}
	return err;
}

/*
 * Reserve the pages of [off, off + len) so that touching them can never
 * raise SIGBUS.  fallocate(mode 0) only allocates holes: it never changes a
 * byte a peer wrote, so it is safe on a live segment too.  glibc's
 * posix_fallocate() is not: where the filesystem lacks fallocate it
 * "allocates" by writing zero bytes, which would race with a live writer.
 * Without fallocate a new segment's header is zero-filled by hand (nobody
 * else can see it yet); anything else is left as it is.  what names the
 * pages in the message.
 */
static int reserve(struct shm_seg *seg, off_t off, off_t len, bool fresh, const char *what,
		   char *why, size_t why_len)
{
	static const uint8_t zeros[4096];
	struct statvfs vfs;
	char dir[sizeof(seg->path)];
	char *slash;
	int err;

	/* KEEP_SIZE on an existing file: a foreign file is never grown. */
	if (fallocate(seg->fd, fresh ? 0 : FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	err = errno;
	if ((err == EOPNOTSUPP || err == ENOSYS) && fresh) {
		for (off_t at = off; at < off + len; at += (off_t)sizeof(zeros)) {
			if (pwrite(seg->fd, zeros, sizeof(zeros), at) != (ssize_t)sizeof(zeros)) {
				err = errno ? errno : ENOSPC;
				goto fail;
			}
		}
		return 0;
	}
	if (err == EOPNOTSUPP || err == ENOSYS)
		return 0;
fail:
	snprintf(dir, sizeof(dir), "%s", seg->path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (err == ENOSPC || err == EDQUOT) {
		unsigned long long free_kib = 0;

		if (statvfs(dir, &vfs) == 0)
			free_kib = (unsigned long long)vfs.f_bavail * vfs.f_frsize / 1024;
		seg->fault = SHM_FAULT_NO_SPACE;
		snprintf(why, why_len, "no space left in %s for %s: %s needs %llu KiB, "
			 "%llu KiB are free", dir, seg->path, what,
			 (unsigned long long)len / 1024, free_kib);
		return -ENOSPC;
	}
	snprintf(why, why_len, "%s: cannot reserve the pages of %s: %s", seg->path, what,
		 strerror(err));
	return -err;
}

static size_t ring_offset(unsigned int cable, unsigned int slot)
{
	return SHM_HEADER_BYTES + (size_t)(cable % SHM_CABLES) * SHM_CABLE_RING_MAX +
	       (size_t)(slot % SHM_SLOTS) * SHM_SLOT_RING_MAX;
}

struct shm_ring shm_seg_ring(struct shm_seg *seg, unsigned int cable, unsigned int slot,
			     bool shared)
{
	uint32_t bytes = atomic_load_explicit(&shm_seg_cable(seg, cable)->ring_bytes,
					      memory_order_relaxed);

	if (!shared)
		slot = 0;
	return (struct shm_ring){ (uint8_t *)seg->hdr + ring_offset(cable, slot),
				  bytes > SHM_SLOT_RING_MAX ? SHM_SLOT_RING_MAX : bytes,
				  shm_seg_slot(seg, cable, slot) };
}

int shm_seg_reserve_ring(struct shm_seg *seg, unsigned int cable, unsigned int slot,
			 uint32_t bytes, char *why, size_t why_len)
{
	if (bytes > SHM_SLOT_RING_MAX)
		bytes = SHM_SLOT_RING_MAX;
	return reserve(seg, (off_t)ring_offset(cable, slot), bytes, false, "the cable's ring",
		       why, why_len);
}

void shm_seg_release_rings(struct shm_seg *seg, unsigned int cable)
{
	/* Best effort: a filesystem that cannot punch keeps the pages. */
	(void)fallocate(seg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			(off_t)ring_offset(cable, 0), SHM_CABLE_RING_MAX);
}

/* Name, directory and path of the segment cfg names; nothing opened yet but dir. */
static int seg_place(struct shm_seg *seg, const struct shm_seg_config *cfg, char *why,
		     size_t why_len)
{
	memset(seg, 0, sizeof(*seg));
	seg->fd = -1;
	seg->dir.fd = -1;
	seg->fault = SHM_FAULT_NAME;
	seg->share = (struct shm_share){ .mode = cfg->mode, .gid = cfg->gid };
	if (!shm_card_valid(cfg->card)) {
		snprintf(why, why_len, "card key '%s' must be 1-%u characters of "
			 "A-Z a-z 0-9 _ -", cfg->card ? cfg->card : "", LOOP_CARD_MAX - 1);
		return -EINVAL;
	}
	if (cfg->subdevice > LOOP_SUBDEVICE_MAX) {
		snprintf(why, why_len, "subdevice %u is out of range 0..%u",
			 cfg->subdevice, LOOP_SUBDEVICE_MAX);
		return -EINVAL;
	}
	if (shm_seg_name(seg->name, sizeof(seg->name), cfg->card, cfg->subdevice) < 0) {
		snprintf(why, why_len, "segment name too long");
		return -ENAMETOOLONG;
	}
	if (shm_share_check(&seg->share, why, why_len) < 0)
		return -EINVAL;
	seg->fault = SHM_FAULT_OTHER;
	return shm_dir_open(&seg->dir, cfg->dir, &seg->fault, why, why_len);
}

/*
 * A new segment, made whole under a temporary name and then published:
 * nobody ever maps a segment that is not initialised.  -EEXIST: somebody
 * else published one first; open theirs.
 */
static int seg_create(struct shm_seg *seg, const struct shm_seg_config *cfg, char *why,
		      size_t why_len)
{
	char tmp[sizeof(seg->name) + 32];
	int err;

	seg->fd = shm_file_create(&seg->dir, seg->name, S_IFREG, &seg->share, tmp,
				  sizeof(tmp), &seg->fault, why, why_len);
	if (seg->fd < 0)
		return seg->fd;
	if (ftruncate(seg->fd, SHM_SEGMENT_BYTES) < 0) {
		err = -errno;
		snprintf(why, why_len, "%s: cannot size segment: %s", seg->path, strerror(-err));
		goto fail;
	}
	err = reserve(seg, 0, SHM_HEADER_BYTES, true, "a segment's header", why, why_len);
	if (!err)
		err = map_seg(seg, why, why_len);
	if (err < 0)
		goto fail;
	header_init(seg->hdr, cfg);
	err = shm_file_publish(&seg->dir, tmp, seg->fd, seg->name, why, why_len);
	if (err < 0) {
		seg_unmap(seg);
		close(seg->fd);
		seg->fd = -1;
	}
	return err;

fail:
	shm_file_discard(&seg->dir, tmp, seg->fd);
	seg->fd = -1;
	return err;
}

/* An existing segment: exactly one of ours, under the admin lock. */
static int seg_use(struct shm_seg *seg, char *why, size_t why_len)
{
	struct stat st;
	int err;

	err = shm_seg_admin_lock(seg);
	if (err < 0) {
		snprintf(why, why_len, "%s: cannot take the admin lock: %s", seg->path,
			 strerror(-err));
		return err;
	}
	if (!shm_seg_linked(seg)) {
		err = -ESTALE;	/* its last opener removed it: open again */
	} else if (fstat(seg->fd, &st) < 0) {
		err = -errno;
		snprintf(why, why_len, "cannot stat %s: %s", seg->path, strerror(-err));
	} else {
		/* Its header may be holes (a crashed creator): reserve it. */
		err = (uint64_t)st.st_size == SHM_SEGMENT_BYTES ?
		      reserve(seg, 0, SHM_HEADER_BYTES, false, "a segment's header", why,
			      why_len) : 0;
		if (!err)
			err = map_seg(seg, why, why_len);
		if (!err)
			err = check_seg(seg, why, why_len);
	}
	shm_seg_admin_unlock(seg);
	return err;
}

static int seg_open(struct shm_seg *seg, const struct shm_seg_config *cfg, bool create,
		    char *why, size_t why_len)
{
	int err;

	why[0] = '\0';
	err = seg_place(seg, cfg, why, why_len);
	if (!err && (size_t)snprintf(seg->path, sizeof(seg->path), "%s/%s", seg->dir.path,
				     seg->name) >= sizeof(seg->path))
		err = -ENAMETOOLONG;
	/*
	 * Open what is there, or make it.  A lost creation race (-EEXIST) or
	 * a segment its last opener removed under us (-ESTALE) sends us round
	 * again, as long as shm_retry_again() lets us.
	 */
	for (unsigned int tries = 0; !err; tries++) {
		if (!shm_retry_again(tries)) {
			err = -EAGAIN;
			snprintf(why, why_len, "%s keeps being replaced or removed under us",
				 seg->path);
			break;
		}
		seg->fd = shm_file_open(&seg->dir, seg->name, S_IFREG, &seg->share,
					&seg->fault, why, why_len);
		if (seg->fd == -ENOENT && create) {
			seg->fd = -1;
			err = seg_create(seg, cfg, why, why_len);
			if (err == -EEXIST)
				err = 0;
			else if (!err)
				break;
			continue;
		}
		if (seg->fd < 0) {
			err = seg->fd;
			seg->fd = -1;
			break;
		}
		err = seg_use(seg, why, why_len);
		if (err != -ESTALE)
			break;
		seg_unmap(seg);
		close(seg->fd);
		seg->fd = -1;
		err = 0;
	}
	if (err < 0) {
		shm_seg_close(seg);
		return err;
	}
	seg->fault = SHM_FAULT_NONE;
	return 0;
}

int shm_seg_open(struct shm_seg *seg, const struct shm_seg_config *cfg, char *why,
		 size_t why_len)
{
	return seg_open(seg, cfg, true, why, why_len);
}

int shm_seg_attach(struct shm_seg *seg, const struct shm_seg_config *cfg, char *why,
		   size_t why_len)
{
	return seg_open(seg, cfg, false, why, why_len);
}

void shm_seg_close(struct shm_seg *seg)
{
	seg_unmap(seg);
	if (seg->fd >= 0)
		close(seg->fd);	/* drops every OFD lock we held */
	seg->fd = -1;
	shm_dir_close(&seg->dir);
}
