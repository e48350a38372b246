/* SPDX-License-Identifier: MIT */
/*
 * emu/vfs.c: what bpffs answers to file calls on its names, for both doors
 * (the shim's libc wrappers and the seccomp supervisor's system calls).
 * Paths here are already translated (emu/path.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "os.h"

int emu_bpffs_debug_open_errno(int flags)
{
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return EEXIST;
	return geteuid() != 0 ? EACCES : ENOENT;
}

/*
 * bpffs has no regular files but pins, and no create or tmpfile operation:
 * the kernel answers EIO for open() of a pin (the object's file operations
 * refuse), EACCES for O_CREAT of a new name and EOPNOTSUPP for O_TMPFILE.
 * Checked before the real open, so O_TRUNC never reaches an object's file.
 */
int emu_bpffs_open_check(const char *t, int flags)
{
	int saved = errno, err = 0;
	struct stat st;

	if ((flags & __O_TMPFILE) == __O_TMPFILE)
		return -EOPNOTSUPP;
	if (flags & O_PATH)
		return 0;
	if (emu_bpffs_debug_entry(AT_FDCWD, t))
		return -emu_bpffs_debug_open_errno(flags);
	int r = (flags & O_NOFOLLOW) ? emu_os_lstat(t, &st) : emu_os_stat(t, &st);
	if (r == 0 && S_ISREG(st.st_mode)) {
		err = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) ? -EEXIST : -EIO;
	} else if (r == -ENOENT && (flags & O_CREAT)) {
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%s", t);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		if (emu_os_faccessat(AT_FDCWD, parent, F_OK) == 0)
			err = -EACCES;
	}
	errno = saved;
	return err;
}
