// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_file.c - the files behind the cables (see shm_file.h for the rules).
 */
#define _GNU_SOURCE
#include "shm_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop_limits.h"
#include "shm_layout.h"

static const char *type_name(mode_t type)
{
	switch (type & S_IFMT) {
	case S_IFREG:	return "a regular file";
	case S_IFIFO:	return "a FIFO";
	case S_IFDIR:	return "a directory";
	case S_IFLNK:	return "a symbolic link";
	case S_IFSOCK:	return "a socket";
	default:	return "a device";
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int shm_share_check(const struct shm_share *sh, char *why, size_t why_len)
{
	unsigned int m = sh->mode;

	if (m & ~0666u) {
		snprintf(why, why_len, "%04o may hold read and write bits only (0600, 0660, 0666)",
			 m);
		return -EINVAL;
	}
	if ((m & 0600u) != 0600u) {
		snprintf(why, why_len, "%04o must give the owner read and write (0600)", m);
		return -EINVAL;
	}
	/* Group, then others: read and write together, or nothing. */
	for (unsigned int shift = 3, i = 0; i < 2; i++, shift = 0) {
		unsigned int rw = (m >> shift) & 06u;

		if (rw == 04u || rw == 02u) {
			snprintf(why, why_len, "%04o lets %s %s without %s: a peer must read and "
				 "write the cable (0660 or 0666), or be left out", m,
				 shift ? "the group" : "others", rw == 04u ? "read" : "write",
				 rw == 04u ? "write" : "read");
			return -EINVAL;
		}
	}
	return 0;
}

bool shm_file_trusted(const struct stat *st, const struct shm_share *sh)
{
	if (st->st_uid == geteuid())
		return true;
	if (!shm_share_shared(sh))
		return false;
	if (sh->gid >= 0 && st->st_gid != (gid_t)sh->gid)
		return false;
	return (st->st_mode & 07777u & ~sh->mode) == 0;
}

/* ---- directories --------------------------------------------------------- */

int shm_dir_default_path(char *buf, size_t len)
{
	int n = snprintf(buf, len, SHM_DEFAULT_ROOT "/" SHM_USER_DIR_PREFIX "%u",
			 (unsigned int)geteuid());

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Why dirfd/name could not be opened as a directory: a planted name? */
static int explain_dir(struct shm_dir *d, int parent, const char *name, int err,
		       enum shm_fault *fault, char *why, size_t why_len)
{
	struct stat st;

	if (err == ENOENT) {
		*fault = SHM_FAULT_NO_DIR;
		snprintf(why, why_len, "directory %s does not exist", d->path);
		return -ENOENT;
	}
	if ((err == ELOOP || err == ENOTDIR) &&
	    fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		*fault = st.st_uid == geteuid() ? SHM_FAULT_NOT_OURS : SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s is %s (owner uid %u), not a directory; refused",
			 d->path, type_name(st.st_mode), (unsigned int)st.st_uid);
		return -ENOTDIR;
	}
	*fault = err == EACCES || err == EPERM ? SHM_FAULT_PERM_DIR : SHM_FAULT_OTHER;
	snprintf(why, why_len, "cannot open directory %s: %s", d->path, strerror(err));
	return -err;
}

/* The private default: made 0700 by us, or refused as planted. */
static int open_private_dir(struct shm_dir *d, enum shm_fault *fault, char *why,
			    size_t why_len)
{
	const char *name = d->path + strlen(SHM_DEFAULT_ROOT "/");
	struct stat st;
	int root, err;

	root = open(SHM_DEFAULT_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		err = errno;
		*fault = SHM_FAULT_NO_DIR;
		snprintf(why, why_len, "cannot open %s: %s", SHM_DEFAULT_ROOT, strerror(err));
		return -err;
	}
	if (mkdirat(root, name, 0700) < 0 && errno != EEXIST) {
		err = errno;
		close(root);
		*fault = err == EACCES || err == EPERM || err == EROFS ? SHM_FAULT_PERM_DIR
								      : SHM_FAULT_OTHER;
		snprintf(why, why_len, "cannot create %s: %s", d->path, strerror(err));
		return -err;
	}
	d->fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0) {
		err = explain_dir(d, root, name, errno, fault, why, why_len);
		close(root);
		return err;
	}
	close(root);
	if (fstat(d->fd, &st) < 0) {
		err = errno;
		*fault = SHM_FAULT_OTHER;
		snprintf(why, why_len, "cannot stat %s: %s", d->path, strerror(err));
		return -err;
	}
	/*
	 * Someone else's directory at our name could see, swap or remove
	 * every cable in it: never used, whatever its mode.
	 */
	if (st.st_uid != geteuid() || (st.st_mode & 0022u)) {
		*fault = SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s belongs to uid %u with mode %04o, not to us "
			 "(uid %u, private): planted by someone else?", d->path,
			 (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777u),
			 (unsigned int)geteuid());
		return -EPERM;
	}
	return 0;
}

int shm_dir_open(struct shm_dir *d, const char *dir, enum shm_fault *fault, char *why,
		 size_t why_len)
{
	int err;

	d->fd = -1;
	*fault = SHM_FAULT_OTHER;
	if (!dir) {
		if (shm_dir_default_path(d->path, sizeof(d->path)) < 0) {
			snprintf(why, why_len, "directory name too long");
			return -ENAMETOOLONG;
		}
		err = open_private_dir(d, fault, why, why_len);
	} else {
		if ((size_t)snprintf(d->path, sizeof(d->path), "%s", dir) >= sizeof(d->path)) {
			snprintf(why, why_len, "directory name too long");
			return -ENAMETOOLONG;
		}
		/* O_NOFOLLOW: a symlink swapped in for the directory is refused. */
		d->fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = d->fd < 0 ? explain_dir(d, AT_FDCWD, dir, errno, fault, why, why_len) : 0;
	}
	if (err < 0)
		shm_dir_close(d);
	return err;
}

void shm_dir_close(struct shm_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* ---- files --------------------------------------------------------------- */

/* The open of an existing name failed with err: say who has it and why. */
static int explain_open(const struct shm_dir *d, const char *name, int err,
			const struct shm_share *sh, enum shm_fault *fault, char *why,
			size_t why_len)
{
	struct stat st;
	bool known = fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;

	*fault = SHM_FAULT_OTHER;
	if (err == ELOOP && known) {
		*fault = st.st_uid == geteuid() ? SHM_FAULT_NOT_OURS : SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s/%s is a symbolic link (owner uid %u); refused",
			 d->path, name, (unsigned int)st.st_uid);
		return -ELOOP;
	}
	if ((err == EACCES || err == EPERM) && known) {
		*fault = shm_file_trusted(&st, sh) ? SHM_FAULT_PERM_SEG : SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s/%s belongs to uid %u (group %u, mode %04o) and does "
			 "not let us (uid %u) in", d->path, name, (unsigned int)st.st_uid,
			 (unsigned int)st.st_gid, (unsigned int)(st.st_mode & 07777u),
			 (unsigned int)geteuid());
		return -EACCES;
	}
	if (err == EISDIR || (known && S_ISDIR(st.st_mode))) {
		*fault = SHM_FAULT_NOT_OURS;
		snprintf(why, why_len, "%s/%s is a directory, not one of our files", d->path,
			 name);
		return -EISDIR;
	}
	snprintf(why, why_len, "cannot open %s/%s: %s", d->path, name, strerror(err));
	return -err;
}

int shm_file_open(const struct shm_dir *d, const char *name, mode_t type,
		  const struct shm_share *sh, enum shm_fault *fault, char *why,
		  size_t why_len)
{
	struct stat st;
	int fd, err;

	/*
	 * No O_CREAT: fs.protected_regular refuses O_CREAT on another user's
	 * file in a sticky directory even where its mode would let us in.
	 * O_NONBLOCK: a FIFO planted at a segment's name must not block us.
	 */
	fd = openat(d->fd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			return -ENOENT;
		return explain_open(d, name, err, sh, fault, why, why_len);
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		*fault = SHM_FAULT_OTHER;
		snprintf(why, why_len, "cannot stat %s/%s: %s", d->path, name, strerror(err));
		return -err;
	}
	if ((st.st_mode & S_IFMT) != type) {
		close(fd);
		*fault = st.st_uid == geteuid() ? SHM_FAULT_NOT_OURS : SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s/%s is %s of uid %u, not %s", d->path, name,
			 type_name(st.st_mode), (unsigned int)st.st_uid, type_name(type));
		return -EPROTO;
	}
	if (!shm_file_trusted(&st, sh)) {
		close(fd);
		*fault = SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s/%s belongs to uid %u (group %u, mode %04o), not to us "
			 "(uid %u), and our 'perm'/'group' keys do not share it: its owner could "
			 "hear, inject into or remove this cable", d->path, name,
			 (unsigned int)st.st_uid, (unsigned int)st.st_gid,
			 (unsigned int)(st.st_mode & 07777u), (unsigned int)geteuid());
		return -EPERM;
	}
	return fd;
}

/* A creation failed: say so in the terms of the keys. */
static int explain_create(const struct shm_dir *d, const char *name, int err,
			  enum shm_fault *fault, char *why, size_t why_len)
{
	*fault = err == EACCES || err == EPERM || err == EROFS ? SHM_FAULT_PERM_DIR :
		 err == ENOSPC || err == EDQUOT ? SHM_FAULT_NO_SPACE : SHM_FAULT_OTHER;
	snprintf(why, why_len, "cannot create %s/%s: %s", d->path, name, strerror(err));
	return -err;
}

int shm_file_create(const struct shm_dir *d, const char *name, mode_t type,
		    const struct shm_share *sh, char *tmp, size_t tmp_len,
		    enum shm_fault *fault, char *why, size_t why_len)
{
	static unsigned int serial;
	struct stat st, named;
	int fd = -1, err;

	/* Unique among our threads and processes; never a valid segment name. */
	if ((size_t)snprintf(tmp, tmp_len, "%s.new-%d-%u", name, (int)getpid(),
			     __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED)) >= tmp_len) {
		*fault = SHM_FAULT_OTHER;
		snprintf(why, why_len, "file name too long");
		return -ENAMETOOLONG;
	}
	if (type == S_IFIFO) {
		if (mkfifoat(d->fd, tmp, 0600) < 0)
			return explain_create(d, name, errno, fault, why, why_len);
		fd = openat(d->fd, tmp, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	} else {
		fd = openat(d->fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		err = explain_create(d, name, errno, fault, why, why_len);
		if (type == S_IFIFO)
			(void)unlinkat(d->fd, tmp, 0);
		return err;
	}
	/* A FIFO is made, then opened: make sure nobody swapped it in between. */
	if (fstat(fd, &st) < 0 || fstatat(d->fd, tmp, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !same_file(&st, &named) || (st.st_mode & S_IFMT) != type ||
	    st.st_uid != geteuid()) {
		close(fd);
		*fault = SHM_FAULT_FOREIGN;
		snprintf(why, why_len, "%s/%s was replaced while we created it", d->path, tmp);
		return -EPROTO;
	}
	/* Explicitly: the umask has filtered the creation's mode. */
	if (fchmod(fd, sh->mode & 07777u) < 0 ||
	    (sh->gid >= 0 && fchown(fd, (uid_t)-1, (gid_t)sh->gid) < 0)) {
		err = errno;
		shm_file_discard(d, tmp, fd);
		*fault = SHM_FAULT_PERM_DIR;
		snprintf(why, why_len, "cannot give %s/%s mode %04o / group %ld: %s", d->path,
			 name, sh->mode, sh->gid, strerror(err));
		return -err;
	}
	return fd;
}

int shm_file_publish(const struct shm_dir *d, const char *tmp, int fd, const char *name,
		     char *why, size_t why_len)
{
	int err;

	if (!shm_file_linked(d, tmp, fd)) {
		snprintf(why, why_len, "%s/%s was removed or replaced while we created it",
			 d->path, tmp);
		return -ESTALE;
	}
	/* No replace: of two racing creators, the first to publish wins. */
	if (renameat2(d->fd, tmp, d->fd, name, RENAME_NOREPLACE) == 0)
		return 0;
	err = errno;
	if (err == EINVAL || err == ENOSYS) {
		/* A filesystem without RENAME_NOREPLACE: link(2) never replaces either. */
		err = linkat(d->fd, tmp, d->fd, name, 0) == 0 ? 0 : errno;
		(void)unlinkat(d->fd, tmp, 0);
		if (!err)
			return 0;
	} else {
		(void)unlinkat(d->fd, tmp, 0);
	}
	if (err == EEXIST)
		return -EEXIST;
	snprintf(why, why_len, "cannot name %s/%s: %s", d->path, name, strerror(err));
	return -err;
}

void shm_file_discard(const struct shm_dir *d, const char *tmp, int fd)
{
	(void)shm_file_remove(d, tmp, fd);
	close(fd);
}

bool shm_file_linked(const struct shm_dir *d, const char *name, int fd)
{
	struct stat ours, named;

	return fstat(fd, &ours) == 0 && ours.st_nlink > 0 &&
	       fstatat(d->fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       same_file(&ours, &named);
}

int shm_file_remove(const struct shm_dir *d, const char *name, int fd)
{
	if (!shm_file_linked(d, name, fd))
		return -ESTALE;
	return unlinkat(d->fd, name, 0) == 0 ? 0 : -errno;
}

int shm_file_remove_stale_temp(const struct shm_dir *d, const char *name, bool dry_run)
{
	const char *tag = strstr(name, ".new-");
	struct timespec now;
	struct stat st;
	char *end;
	long pid;
	int fd, err;

	if (!tag || strncmp(name, SHM_SEG_PREFIX, strlen(SHM_SEG_PREFIX)))
		return 0;
	errno = 0;
	pid = strtol(tag + 5, &end, 10);
	if (errno || pid <= 0 || *end != '-' || !end[1])
		return 0;
	/* Alive (or not ours to ask): its creation may still be going on. */
	if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return 0;
	fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	clock_gettime(CLOCK_REALTIME, &now);
	/* Ours, and older than any creation takes: another pid namespace's is alive. */
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) ||
	    now.tv_sec - st.st_mtime < LOOP_TEMP_STALE_S) {
		close(fd);
		return 0;
	}
	err = dry_run ? 0 : shm_file_remove(d, name, fd);
	close(fd);
	return err == 0 ? 1 : err == -ESTALE ? 0 : err;
}
