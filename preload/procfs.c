/* SPDX-License-Identifier: MIT */
/*
 * preload/procfs.c: the /proc views for the program the shim is loaded in,
 * and what stat shows of a bpf object fd. The views themselves are the
 * engine's (emu/procfs.c, shared with the seccomp door).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "emu.h"
#include "procfs.h"
#include "real.h"

int shim_proc_open(const char *path, int flags)
{
	int fd;

	SHIM_ENTER();
	fd = emu_proc_open(path, flags);
	SHIM_LEAVE();
	if (fd == EMU_PROC_UNHANDLED)
		return SHIM_UNHANDLED;
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

const char *shim_proc_fd_link(const char *path)
{
	const char *name;

	SHIM_ENTER();
	name = emu_proc_fd_link(path);
	SHIM_LEAVE();
	return name;
}

int shim_proc_obj_fd(const char *path)
{
	int saved = errno, fd;

	if (!path || (strncmp(path, "/proc/", 6) && strncmp(path, "/dev/fd/", 8)))
		return -1;
	SHIM_ENTER();
	fd = emu_proc_obj_fd(path);
	SHIM_LEAVE();
	errno = saved;
	return fd;
}

bool shim_fd_is_obj(int fd)
{
	int saved = errno;
	SHIM_ENTER();
	bool r = emu_fd_kind(fd) != EMU_KIND_NONE;
	SHIM_LEAVE();
	errno = saved;
	return r;
}

/* The anonymous inode, as any eventfd shows it: taken once (it never
 * changes: one inode of the anon_inodefs, made at boot). */
static struct {
	pthread_once_t once;
	bool ok;
	struct stat st;
	struct statx stx;
	struct statfs sfs;
} anon = { PTHREAD_ONCE_INIT, false, { 0 }, { 0 }, { 0 } };

static void anon_take(void)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return;
	anon.ok = !fstat(efd, &anon.st) && !fstatfs(efd, &anon.sfs) &&
		  !statx(efd, "", AT_EMPTY_PATH, STATX_ALL, &anon.stx);
	close(efd);
}

int shim_anon_stat(struct stat *st, struct statx *stx, struct statfs *sfs)
{
	int saved = errno;
	SHIM_ENTER();
	pthread_once(&anon.once, anon_take);
	SHIM_LEAVE();
	errno = saved;
	if (!anon.ok)
		return -1;
	if (st)
		*st = anon.st;
	if (stx)
		*stx = anon.stx;
	if (sfs)
		*sfs = anon.sfs;
	return 0;
}
