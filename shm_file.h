/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_file.h - the files behind the cables: their directory, who may use
 * a file someone else may have made, creation and removal.
 *
 * Other users are adversaries.  A name in a directory may have been
 * planted, swapped or truncated by someone else, so:
 *   - a directory is opened once (O_DIRECTORY | O_NOFOLLOW) and every
 *     name is resolved relative to that descriptor (openat, unlinkat):
 *     a name is never followed twice, and never through a symlink;
 *   - an existing file is used only when it is ours (same euid) or when
 *     the sharing keys (perm, group) say it is shared and the file grants
 *     nothing beyond them (shm_file_trusted);
 *   - a new file is made under a temporary name, given its mode, group
 *     and contents by its creator alone, and only then published at its
 *     name (renameat2 RENAME_NOREPLACE): nobody ever sees it half made,
 *     and of two racing creators one wins and the other opens its file;
 *   - a removal re-checks that the name still is the file we looked at
 *     (device and inode) right before unlinkat.
 *
 * The default directory is private to the user: /dev/shm/alsa-loopback-
 * <euid>, mode 0700, as JACK keeps /dev/shm/jack-<uid>.  It does not
 * depend on the environment, so a login session, a cron job, a service
 * and a container entry point of one user all meet there, and two users
 * never meet unless they configure a shared 'dir'.
 *
 * Nothing here knows ALSA.
 */
#ifndef SHM_FILE_H
#define SHM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SHM_DEFAULT_ROOT	"/dev/shm"	/* + "/alsa-loopback-<euid>" */
#define SHM_USER_DIR_PREFIX	"alsa-loopback-"

/*
 * What kind of trouble an open met, so that each program can say what to
 * do about it in its own terms (the plugins name their config keys).
 */
enum shm_fault {
	SHM_FAULT_NONE,
	SHM_FAULT_OTHER,
	SHM_FAULT_NAME,		/* card key or subdevice out of range */
	SHM_FAULT_PERM_SEG,	/* the file exists and does not let us in */
	SHM_FAULT_PERM_DIR,	/* we may not create it in the directory */
	SHM_FAULT_NO_DIR,	/* the configured directory does not exist */
	SHM_FAULT_NOT_OURS,	/* something else sits at the name: kept as is */
	SHM_FAULT_FOREIGN,	/* another user's file or directory: not trusted */
	SHM_FAULT_NO_SPACE,	/* the filesystem cannot hold the segment */
};

/* A directory of segments, held open by descriptor. */
struct shm_dir {
	int fd;			/* O_DIRECTORY | O_NOFOLLOW; -1 when closed */
	char path[256];		/* for messages and tools */
};

/* Who may share a file, from the 'perm' and 'group' keys. */
struct shm_share {
	unsigned int mode;	/* permissions of a new file, e.g. 0600 */
	long gid;		/* group of a new file, -1 to leave it */
};

/* Does this mode share with anyone (group or others)? */
static inline bool shm_share_shared(const struct shm_share *sh)
{
	return (sh->mode & 0077) != 0 || sh->gid >= 0;
}

/*
 * Is a mode usable as 'perm'?  The owner must read and write, and whoever
 * it lets read must also write: the OFD locks that mark the ends need a
 * writable descriptor, so a read-only peer could neither open the cable
 * nor be told apart from a hostile one.  0 or -EINVAL with why[].
 */
int shm_share_check(const struct shm_share *sh, char *why, size_t why_len);

/*
 * Open a directory of segments: dir, or NULL for the user's private
 * default (created 0700 if missing).  The private default must be a real
 * directory owned by us and writable by nobody else; a configured dir is
 * the user's choice, used as it is.  0 or a negative errno with *fault
 * and why[].
 */
int shm_dir_open(struct shm_dir *d, const char *dir, enum shm_fault *fault, char *why,
		 size_t why_len);
void shm_dir_close(struct shm_dir *d);
/* The private default directory's path, for tools and messages. */
int shm_dir_default_path(char *buf, size_t len);

/*
 * May we use a file with this stat?  Ours, or shared as sh says: its group
 * is sh->gid (when set) and its mode grants nothing beyond sh->mode.
 */
bool shm_file_trusted(const struct stat *st, const struct shm_share *sh);

/*
 * Open the existing file name in d (O_RDWR | O_NONBLOCK, never creating,
 * never following a symlink) and check that it is of type (S_IFREG or
 * S_IFIFO) and trusted.  Returns the fd, -ENOENT when there is no such
 * name (nothing written to why[]), or another negative errno with *fault
 * and why[].
 */
int shm_file_open(const struct shm_dir *d, const char *name, mode_t type,
		  const struct shm_share *sh, enum shm_fault *fault, char *why,
		  size_t why_len);

/*
 * Make a new file of type (S_IFREG or S_IFIFO) under a temporary name in
 * d, with sh's mode and group; the caller fills it and then publishes it.
 * tmp[] receives the temporary name.  Returns its fd (O_RDWR | O_NONBLOCK)
 * or a negative errno with *fault and why[]; on failure nothing is left.
 */
int shm_file_create(const struct shm_dir *d, const char *name, mode_t type,
		    const struct shm_share *sh, char *tmp, size_t tmp_len,
		    enum shm_fault *fault, char *why, size_t why_len);
/*
 * Give the new file fd (at tmp) its name.  0, or -EEXIST when somebody
 * else's file got the name first (ours is then removed: open theirs), or
 * another negative errno with why[].  The temporary name is gone either
 * way.
 */
int shm_file_publish(const struct shm_dir *d, const char *tmp, int fd, const char *name,
		     char *why, size_t why_len);
/* Remove a created file that will not be published; closes fd. */
void shm_file_discard(const struct shm_dir *d, const char *tmp, int fd);

/* Does name in d still hold the file open at fd (same device and inode)? */
bool shm_file_linked(const struct shm_dir *d, const char *name, int fd);
/*
 * Unlink name in d if, and only if, it still is the file open at fd: a
 * name swapped for another file is left alone.  0, -ESTALE when the name
 * is no longer that file (or is gone), or a negative errno.
 */
int shm_file_remove(const struct shm_dir *d, const char *name, int fd);
/*
 * Is name a creation's temporary name ("<name>.new-<pid>-<n>") left by a
 * process that died (a crash between create and publish)?  If so, and the
 * file is ours and untouched for LOOP_TEMP_STALE_S, remove it by
 * descriptor.  1 removed (or would be, with dry_run), 0 not such a file,
 * or a negative errno.
 */
int shm_file_remove_stale_temp(const struct shm_dir *d, const char *name, bool dry_run);

#endif /* SHM_FILE_H */
