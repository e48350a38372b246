/* SPDX-License-Identifier: MIT */
/*
 * emu/caller.c: whose call the engine serves.
 *
 * By default the caller is the calling process itself: its memory is ours,
 * its fd numbers are ours. A door that serves another process (the seccomp
 * supervisor, tools/seccomp/) sets a struct emu_caller for the thread while
 * the engine runs on that process's behalf; then every copy from and to
 * "user" memory, every fd number an attr (or a map value) names, every fd
 * handed back, and the base directory of a relative path are the caller's.
 * The engine keeps reading attrs itself: the door only says how to reach the
 * other process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "obj.h"
#include "os.h"

EMU_TLS struct emu_caller *emu_caller_cur;

void emu_caller_set(struct emu_caller *c)
{
	emu_caller_cur = c;
}

struct emu_caller *emu_caller_get(void)
{
	return emu_caller_cur;
}

pid_t emu_caller_pid(void)
{
	return emu_caller_cur ? emu_caller_cur->pid : getpid();
}

pid_t emu_caller_tid(void)
{
	return emu_caller_cur ? emu_caller_cur->tid : (pid_t)emu_os_gettid();
}

int emu_caller_fd(int ufd)
{
	struct emu_caller *c = emu_caller_cur;
	if (ufd < 0)
		return -EBADF;
	if (!c)
		return ufd;
	return c->fd_get(c, ufd);
}

int emu_caller_give_fd(int fd)
{
	struct emu_caller *c = emu_caller_cur;
	if (!c)
		return fd;
	int ufd = c->fd_give(c, fd);
	emu_fd_closed(fd);
	emu_os_close(fd);
	return ufd;
}

ssize_t emu_caller_dir(int dirfd, char *buf, size_t len)
{
	struct emu_caller *c = emu_caller_cur;
	char link[64];
	ssize_t n;

	if (!len)
		return -EINVAL;
	if (!c && dirfd == AT_FDCWD) {
		int err = emu_os_getcwd(buf, len);
		return err ? err : (ssize_t)strlen(buf);
	}
	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)c->tid);
	else if (c)
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)c->tid, dirfd);
	if (!c && dirfd != AT_FDCWD)
		n = emu_os_fd_path(dirfd, buf, len - 1);
	else
		n = emu_os_readlink(link, buf, len - 1);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}
