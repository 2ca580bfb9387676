// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_flow.c - the lossless clock's shared state and doorbells.
 *
 * Positions and flags here are single atomic accesses by their one writer;
 * the doorbells are FIFOs beside the segment, an eventcount: an end says it
 * sleeps before it re-checks and sleeps, the other end rings only a
 * sleeper, so no wake-up is lost and nobody rings in vain.
 */
#include "shm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t shm_flow_read_pos(struct shm_seg *seg, unsigned int cable)
{
	return atomic_load_explicit(&shm_seg_cable(seg, cable)->read_pos, memory_order_acquire);
}

void shm_flow_set_read_pos(struct shm_seg *seg, unsigned int cable, uint64_t pos)
{
	/* Release: the playback that sees pos may overwrite what lies below. */
	atomic_store_explicit(&shm_seg_cable(seg, cable)->read_pos, pos, memory_order_release);
}

void shm_flow_set_done(struct shm_seg *seg, unsigned int cable, bool done)
{
	atomic_store_explicit(&shm_seg_cable(seg, cable)->write_done, done, memory_order_release);
}

bool shm_flow_done(struct shm_seg *seg, unsigned int cable)
{
	return atomic_load_explicit(&shm_seg_cable(seg, cable)->write_done,
				    memory_order_acquire) != 0;
}

void shm_flow_restart(struct shm_cable *c)
{
	/* A lossless capture starts at what comes next. */
	atomic_store(&c->read_pos, atomic_load(&c->play[0].write_end));
	atomic_store(&c->write_done, 0);
}

void shm_bell_path(char *buf, size_t len, const char *seg_path, unsigned int cable,
		   unsigned int role)
{
	snprintf(buf, len, "%s.c%u.%s", seg_path, cable % SHM_CABLES,
		 role % SHM_ROLES == SHM_ROLE_PLAY ? "play" : "cap");
}

int shm_bell_open(struct shm_seg *seg, unsigned int cable, unsigned int role,
		  unsigned int mode, char *why, size_t why_len)
{
	char path[sizeof(seg->path) + 16];
	struct stat st;
	int fd;

	shm_bell_path(path, sizeof(path), seg->path, cable, role);
	if (mkfifo(path, mode & 07777) < 0 && errno != EEXIST) {
		int err = errno;

		snprintf(why, why_len, "cannot create the doorbell %s: %s", path, strerror(err));
		return -err;
	}
	/* Read-write: never ENXIO for want of a reader, never EOF for want of a writer. */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int err = errno;

		snprintf(why, why_len, "cannot open the doorbell %s: %s", path, strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "%s is not a FIFO; remove it", path);
		return -EPROTO;
	}
	/* Created under the umask: make it as shareable as the segment. */
	(void)fchmod(fd, mode & 07777);
	return fd;
}

void shm_bell_drain(int bell_fd)
{
	char buf[64];

	while (read(bell_fd, buf, sizeof(buf)) > 0)
		;
}

void shm_flow_sleep(struct shm_seg *seg, unsigned int cable, unsigned int role, bool sleep)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);

	atomic_store_explicit(&c->waiting[role % SHM_ROLES], sleep, memory_order_relaxed);
	/* Order "I sleep" before the re-check of the other end's position. */
	atomic_thread_fence(memory_order_seq_cst);
}

bool shm_flow_sleeping(struct shm_seg *seg, unsigned int cable, unsigned int role)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);

	return atomic_load_explicit(&c->waiting[role % SHM_ROLES], memory_order_relaxed) != 0;
}

void shm_flow_wake(struct shm_seg *seg, unsigned int cable, unsigned int role, int bell_fd)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);
	static const char ding = 1;

	/* Order our position update before the look at "it sleeps". */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_exchange_explicit(&c->waiting[role % SHM_ROLES], 0, memory_order_relaxed) &&
	    write(bell_fd, &ding, 1) < 0) {
		/* Full (EAGAIN): it is rung already. */
	}
}
