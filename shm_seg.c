// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_seg.c - the segment file: its name, creation, validation, page
 * reservation and mapping.
 *
 * Creation.  open(O_CREAT) then take the admin lock, then look at the size:
 * 0 means "new or its creator died before initialising it", so we size and
 * initialise it and store the magic last; anything else must be exactly one
 * of our segments.  A segment we do not recognise is never overwritten:
 * "loses nothing".
 *
 * Pages.  Every page of the segment is reserved (fallocate) before it is
 * mapped, by its creator and again by every later opener: a tmpfs that
 * fills up (Docker's 64 MiB /dev/shm next to a browser) must fail the open
 * with ENOSPC, never raise SIGBUS in the middle of the host's audio.
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

int shm_seg_path(char *buf, size_t len, const char *dir, const char *card,
		 unsigned int subdevice)
{
	int n = snprintf(buf, len, "%s/" SHM_SEG_PREFIX "%s.%u", dir ? dir : SHM_DEFAULT_DIR,
			 card, subdevice);

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
	if (h->header_bytes != SHM_HEADER_BYTES || h->ring_bytes != SHM_RING_BYTES ||
	    h->segment_bytes != SHM_SEGMENT_BYTES || map_bytes != SHM_SEGMENT_BYTES) {
		snprintf(why, why_len,
			 "has the wrong size (header %u, ring %u, segment %llu, file %zu; "
			 "expected %u, %u, %u)", h->header_bytes, h->ring_bytes,
			 (unsigned long long)h->segment_bytes, map_bytes, SHM_HEADER_BYTES,
			 SHM_RING_BYTES, SHM_SEGMENT_BYTES);
		return -EPROTO;
	}
	return 0;
}

bool shm_seg_linked(struct shm_seg *seg)
{
	struct stat ours, named;

	return fstat(seg->fd, &ours) == 0 && lstat(seg->path, &named) == 0 &&
	       ours.st_dev == named.st_dev && ours.st_ino == named.st_ino;
}

static void header_init(struct shm_header *h, const struct shm_seg_config *cfg)
{
	uint64_t now = shm_now_ns();

	h->version = SHM_RING_VERSION;
	h->header_bytes = SHM_HEADER_BYTES;
	h->segment_bytes = SHM_SEGMENT_BYTES;
	h->ring_bytes = SHM_RING_BYTES;
	h->subdevice = cfg->subdevice;
	snprintf(h->card, sizeof(h->card), "%s", cfg->card);
	for (unsigned int c = 0; c < SHM_CABLES; c++)
		shm_grid_reset(&h->cable[c], now);
	/* Release: whoever sees the magic sees an initialised header. */
	atomic_store_explicit(&h->magic, SHM_RING_MAGIC, memory_order_release);
}

static int open_file(const struct shm_seg_config *cfg, const char *path, bool create)
{
	/* O_NONBLOCK: a FIFO planted at the name must not block the open. */
	int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (create ? O_CREAT : 0);

	if (!cfg->dir)
		return shm_open(path + strlen(SHM_DEFAULT_DIR), flags, cfg->mode);
	/* O_NOFOLLOW: a symlink planted in a shared directory is refused. */
	return open(path, flags, cfg->mode);
}

static int explain_open_error(struct shm_seg *seg, int err, const struct shm_seg_config *cfg,
			      char *why, size_t why_len)
{
	const char *path = seg->path;
	struct stat st;

	seg->fault = SHM_FAULT_OTHER;
	if (err == EACCES || err == EPERM) {
		if (stat(path, &st) == 0) {
			seg->fault = SHM_FAULT_PERM_SEG;
			snprintf(why, why_len, "permission denied on %s (owner uid %u, group %u, "
				 "mode %04o)", path, (unsigned)st.st_uid, (unsigned)st.st_gid,
				 (unsigned)(st.st_mode & 07777));
		} else {
			seg->fault = SHM_FAULT_PERM_DIR;
			snprintf(why, why_len, "permission denied creating %s", path);
		}
		return -EACCES;
	}
	if (err == ELOOP) {
		seg->fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s is a symbolic link; refused", path);
		return -ELOOP;
	}
	if (err == EISDIR || (err == EINVAL && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		/* glibc's shm_open() reports EISDIR as EINVAL. */
		seg->fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s is a directory, not a segment", path);
		return -EISDIR;
	}
	if (err == ENOENT && cfg->dir) {
		seg->fault = SHM_FAULT_NO_DIR;
		snprintf(why, why_len, "directory %s does not exist", cfg->dir);
		return -ENOENT;
	}
	snprintf(why, why_len, "cannot open %s: %s", path, strerror(err));
	return -err;
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
 * Reserve every page of the segment so that touching the mapping can never
 * raise SIGBUS.  fallocate(mode 0) only allocates holes: it never changes a
 * byte a peer wrote, so it is safe on a live segment too.  glibc's
 * posix_fallocate() is not: where the filesystem lacks fallocate it
 * "allocates" by writing zero bytes, which would race with a live writer.
 * Without fallocate a new segment is zero-filled by hand (we hold the admin
 * lock, nobody else can see it yet); an existing one is left as it is.
 */
static int reserve_pages(struct shm_seg *seg, bool fresh, char *why, size_t why_len)
{
	static const uint8_t zeros[4096];
	struct statvfs vfs;
	char dir[sizeof(seg->path)];
	char *slash;
	int err;

	/* KEEP_SIZE on an existing file: a foreign file is never grown. */
	if (fallocate(seg->fd, fresh ? 0 : FALLOC_FL_KEEP_SIZE, 0, SHM_SEGMENT_BYTES) == 0)
		return 0;
	err = errno;
	if ((err == EOPNOTSUPP || err == ENOSYS) && fresh) {
		for (off_t off = 0; off < (off_t)SHM_SEGMENT_BYTES; off += sizeof(zeros)) {
			if (pwrite(seg->fd, zeros, sizeof(zeros), off) != (ssize_t)sizeof(zeros)) {
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
		snprintf(why, why_len, "no space left in %s for %s: a segment needs %u KiB, "
			 "%llu KiB are free", dir, seg->path, SHM_SEGMENT_BYTES / 1024, free_kib);
		return -ENOSPC;
	}
	snprintf(why, why_len, "%s: cannot reserve the segment's pages: %s", seg->path,
		 strerror(err));
	return -err;
}

int shm_seg_open(struct shm_seg *seg, const struct shm_seg_config *cfg, char *why,
		 size_t why_len)
{
	struct stat st;
	int err;

	memset(seg, 0, sizeof(*seg));
	seg->fd = -1;
	seg->fault = SHM_FAULT_NAME;
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
	err = shm_seg_path(seg->path, sizeof(seg->path), cfg->dir, cfg->card, cfg->subdevice);
	if (err < 0) {
		snprintf(why, why_len, "segment path too long");
		return err;
	}
	seg->fault = SHM_FAULT_OTHER;
	seg->fd = open_file(cfg, seg->path, true);
	if (seg->fd < 0)
		return explain_open_error(seg, errno, cfg, why, why_len);

	err = shm_seg_admin_lock(seg);
	if (err < 0) {
		snprintf(why, why_len, "%s: cannot take the admin lock: %s", seg->path,
			 strerror(-err));
		goto fail;
	}
	if (fstat(seg->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* Checked before anything touches it: a FIFO or device stays as it is. */
		err = -EPROTO;
		seg->fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s is not a regular file", seg->path);
		goto fail_locked;
	}
	if (st.st_size == 0) {
		/*
		 * New (or its creator died before sizing it): we hold the admin
		 * lock, so nobody else is initialising it.  Apply the sharing
		 * keys explicitly: the umask has filtered open()'s mode.
		 */
		if (fchmod(seg->fd, cfg->mode & 07777) < 0 ||
		    (cfg->gid >= 0 && fchown(seg->fd, (uid_t)-1, (gid_t)cfg->gid) < 0)) {
			err = -errno;
			snprintf(why, why_len, "%s: cannot set mode %04o / group %ld: %s",
				 seg->path, cfg->mode, cfg->gid, strerror(errno));
			goto fail_locked;
		}
		if (ftruncate(seg->fd, SHM_SEGMENT_BYTES) < 0) {
			err = -errno;
			snprintf(why, why_len, "%s: cannot size segment: %s", seg->path,
				 strerror(errno));
			goto fail_locked;
		}
		err = reserve_pages(seg, true, why, why_len);
		if (err < 0) {
			/* Give the room back; size 0 reads as "new" to the next opener. */
			if (ftruncate(seg->fd, 0) == 0 && shm_seg_linked(seg))
				unlink(seg->path);
			goto fail_locked;
		}
		err = map_seg(seg, why, why_len);
		if (!err)
			header_init(seg->hdr, cfg);
	} else {
		/*
		 * Created by an older build, or its creator died mid-way: its
		 * pages may be holes.  Only a file of our size is touched.
		 */
		err = (uint64_t)st.st_size == SHM_SEGMENT_BYTES ?
		      reserve_pages(seg, false, why, why_len) : 0;
		if (!err)
			err = map_seg(seg, why, why_len);
		if (!err)
			err = check_seg(seg, why, why_len);
	}
	if (err < 0)
		goto fail_locked;
	shm_seg_admin_unlock(seg);
	seg->fault = SHM_FAULT_NONE;
	return 0;

fail_locked:
	shm_seg_admin_unlock(seg);
fail:
	shm_seg_close(seg);
	return err;
}

int shm_seg_attach_path(struct shm_seg *seg, const char *path, char *why, size_t why_len)
{
	memset(seg, 0, sizeof(*seg));
	snprintf(seg->path, sizeof(seg->path), "%s", path);
	seg->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (seg->fd < 0) {
		int err = errno;

		snprintf(why, why_len, "cannot open %s: %s", path, strerror(err));
		return -err;
	}
	struct stat st;
	int err = fstat(seg->fd, &st) == 0 && (uint64_t)st.st_size == SHM_SEGMENT_BYTES ?
		  reserve_pages(seg, false, why, why_len) : 0;

	if (!err)
		err = map_seg(seg, why, why_len);
	if (!err)
		err = check_seg(seg, why, why_len);
	if (err < 0)
		shm_seg_close(seg);
	return err;
}

void shm_seg_close(struct shm_seg *seg)
{
	if (seg->hdr)
		munmap(seg->hdr, seg->map_bytes);
	if (seg->fd >= 0)
		close(seg->fd);	/* drops every OFD lock we held */
	seg->hdr = NULL;
	seg->fd = -1;
}
