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

void shm_bell_name(char *buf, size_t len, const char *seg_name, unsigned int cable,
		   unsigned int role)
{
	snprintf(buf, len, "%s.c%u.%s", seg_name, cable % SHM_CABLES,
		 role % SHM_ROLES == SHM_ROLE_PLAY ? "play" : "cap");
}

int shm_bell_open(struct shm_seg *seg, unsigned int cable, unsigned int role, char *why,
		  size_t why_len)
{
	char name[sizeof(seg->name) + 16], tmp[sizeof(name) + 32];
	enum shm_fault fault;
	int fd = -EEXIST, err;

	shm_bell_name(name, sizeof(name), seg->name, cable, role);
	/* As the segment: open it, or make it and publish it (shm_retry_again()). */
	for (unsigned int tries = 0; fd == -EEXIST && shm_retry_again(tries); tries++) {
		fd = shm_file_open(&seg->dir, name, S_IFIFO, &seg->share, &fault, why, why_len);
		if (fd != -ENOENT)
			break;
		/* Opened read-write: never ENXIO for want of a reader, nor EOF. */
		fd = shm_file_create(&seg->dir, name, S_IFIFO, &seg->share, tmp, sizeof(tmp),
				     &fault, why, why_len);
		if (fd < 0)
			break;
		err = shm_file_publish(&seg->dir, tmp, fd, name, why, why_len);
		if (err < 0) {
			close(fd);
			fd = err;
		}
	}
	if (fd == -EEXIST)
		snprintf(why, why_len, "the doorbell %s/%s keeps being replaced", seg->dir.path,
			 name);
	return fd;
}

/*
 * Under the admin lock: the doorbells beside the segment, if they are the
 * kind of file we make and trusted (none is fine).
 */
void shm_flow_remove_bells(struct shm_seg *seg)
{
	char name[sizeof(seg->name) + 16], why[256];
	enum shm_fault fault;

	for (unsigned int c = 0; c < SHM_CABLES; c++)
		for (unsigned int r = 0; r < SHM_ROLES; r++) {
			int fd;

			shm_bell_name(name, sizeof(name), seg->name, c, r);
			fd = shm_file_open(&seg->dir, name, S_IFIFO, &seg->share, &fault, why,
					   sizeof(why));
			if (fd < 0)
				continue;
			(void)shm_file_remove(&seg->dir, name, fd);
			close(fd);
		}
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
