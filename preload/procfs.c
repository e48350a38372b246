/* SPDX-License-Identifier: MIT */
/*
 * preload/procfs.c: the /proc views for the program the shim is loaded in.
 * The views themselves are the engine's (emu/procfs.c, shared with the
 * seccomp door); here they run with shim_busy raised, so the engine's own
 * libc calls are real.
 */
#include <errno.h>

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
