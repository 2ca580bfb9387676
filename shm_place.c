// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_place.c - the OFD locks on the segment file: the admin lock, and
 * who holds which end and slot (places).
 *
 * Locks are OFD locks (F_OFD_SETLK) on single bytes of the segment file
 * (SHM_LOCK_*, shm_layout.h): byte 0 serialises attach/lock/detach; bytes
 * 1..4 mark the four ends (write-locked by an exclusive opener, read-locked
 * by each shared one); bytes 16.. mark each opener's slot.  The kernel
 * drops them when the owning open file description goes away, so an opener
 * killed with SIGKILL frees its place at once, and a capture stops hearing
 * a killed shared playback at once (shm_slot_alive).  Each PCM opens the
 * segment for itself: locks of our own description never conflict with
 * each other.
 */
#define _GNU_SOURCE
#include "shm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>

static int ofd_lock(int fd, short type, off_t byte, bool wait_briefly)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };

	/*
	 * Retry a busy admin lock for up to ~2 s instead of F_OFD_SETLKW: a
	 * stopped (SIGSTOP) holder must cost us an error, not a hang.
	 */
	for (int i = 0; ; i++) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return 0;
		if ((errno != EAGAIN && errno != EACCES) || !wait_briefly ||
		    i >= LOOP_ADMIN_RETRIES)
			return errno == EACCES ? -EAGAIN : -errno;
		nanosleep(&(struct timespec){ .tv_nsec = LOOP_ADMIN_RETRY_NS }, NULL);
	}
}

int shm_seg_admin_lock(struct shm_seg *seg)
{
	return ofd_lock(seg->fd, F_WRLCK, SHM_LOCK_ADMIN, true);
}

void shm_seg_admin_unlock(struct shm_seg *seg)
{
	ofd_lock(seg->fd, F_UNLCK, SHM_LOCK_ADMIN, false);
}

/* Which lock another open file description holds on byte: F_UNLCK if none. */
static short ofd_holder(struct shm_seg *seg, off_t byte)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };

	/* Our own OFD never conflicts with itself, so this sees only others. */
	if (fcntl(seg->fd, F_OFD_GETLK, &fl) < 0)
		return F_UNLCK;
	return fl.l_type;
}

bool shm_seg_end_held(struct shm_seg *seg, unsigned int cable, unsigned int role)
{
	return ofd_holder(seg, SHM_LOCK_END(cable % SHM_CABLES, role % SHM_ROLES)) != F_UNLCK;
}

static off_t slot_byte(unsigned int cable, unsigned int role, unsigned int slot)
{
	return SHM_LOCK_SLOT(cable % SHM_CABLES, role % SHM_ROLES, slot % SHM_SLOTS);
}

bool shm_end_peer_alive(struct shm_seg *seg, unsigned int cable, unsigned int role)
{
	return shm_seg_end_held(seg, cable, role ^ 1u);
}

bool shm_slot_alive(struct shm_seg *seg, unsigned int cable, unsigned int slot)
{
	return ofd_holder(seg, slot_byte(cable, SHM_ROLE_PLAY, slot)) != F_UNLCK;
}

bool shm_place_held(struct shm_seg *seg, const struct shm_place *pl)
{
	return ofd_holder(seg, slot_byte(pl->cable, pl->role, pl->slot)) != F_UNLCK;
}

bool shm_place_end_shared(struct shm_seg *seg, unsigned int cable, unsigned int role)
{
	return ofd_holder(seg, SHM_LOCK_END(cable % SHM_CABLES, role % SHM_ROLES)) == F_RDLCK;
}

int shm_place_claim(struct shm_seg *seg, struct shm_place *pl, enum shm_busy *busy)
{
	off_t end = SHM_LOCK_END(pl->cable, pl->role);
	short held = ofd_holder(seg, end);
	int err;

	if (held != F_UNLCK && (!pl->shared || held == F_WRLCK)) {
		*busy = held == F_WRLCK ? SHM_BUSY_EXCLUSIVE : SHM_BUSY_SHARED;
		return -EBUSY;
	}
	err = ofd_lock(seg->fd, pl->shared ? F_RDLCK : F_WRLCK, end, false);
	if (err < 0)
		return err == -EAGAIN ? -EBUSY : err;
	for (pl->slot = 0; pl->slot < (pl->shared ? SHM_SLOTS : 1u); pl->slot++)
		if (ofd_lock(seg->fd, F_WRLCK, slot_byte(pl->cable, pl->role, pl->slot),
			     false) == 0)
			return 0;
	ofd_lock(seg->fd, F_UNLCK, end, false);
	*busy = SHM_BUSY_FULL;
	return -EBUSY;
}

void shm_place_release(struct shm_seg *seg, const struct shm_place *pl)
{
	ofd_lock(seg->fd, F_UNLCK, slot_byte(pl->cable, pl->role, pl->slot), false);
	ofd_lock(seg->fd, F_UNLCK, SHM_LOCK_END(pl->cable, pl->role), false);
}

bool shm_place_alone(struct shm_seg *seg, const struct shm_place *pl)
{
	return !shm_seg_end_held(seg, pl->cable, pl->role) &&
	       !shm_seg_end_held(seg, pl->cable, pl->role ^ 1u);
}
