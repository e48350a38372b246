/* SPDX-License-Identifier: MIT */
/*
 * emu/os_errno.h: emu/os.h's calls in libc's convention (-1 with errno set),
 * for engine code written that way (the trace buffer, the VM's file reads).
 * The same system calls, never libc's exported functions: none of them
 * reaches the shim's wrappers.
 */
#ifndef BPFEMU_OS_ERRNO_H
#define BPFEMU_OS_ERRNO_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os.h"

static inline long emu_oe_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static inline int emu_oe_open3(const char *path, int flags, mode_t mode)
{
	return (int)emu_oe_ret(emu_os_open(path, flags, mode));
}
/* open(path, flags[, mode]) */
#define EMU_OE_OPEN_(path, flags, mode, ...) emu_oe_open3(path, flags, (mode_t)(mode))
#define emu_oe_open(...) EMU_OE_OPEN_(__VA_ARGS__, 0, 0)
static inline int emu_oe_close(int fd)
{
	return (int)emu_oe_ret(emu_os_close(fd));
}
static inline ssize_t emu_oe_read(int fd, void *buf, size_t len)
{
	return emu_oe_ret(emu_os_read(fd, buf, len));
}
static inline ssize_t emu_oe_write(int fd, const void *buf, size_t len)
{
	return emu_oe_ret(emu_os_write(fd, buf, len));
}
static inline ssize_t emu_oe_pread(int fd, void *buf, size_t len, off_t off)
{
	return emu_oe_ret(emu_os_pread(fd, buf, len, off));
}
static inline ssize_t emu_oe_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return emu_oe_ret(EMU_OS_SC(SYS_pwrite64, fd, buf, len, off, 0, 0));
}
static inline off_t emu_oe_lseek(int fd, off_t off, int whence)
{
	return (off_t)emu_oe_ret(EMU_OS_SC(SYS_lseek, fd, off, whence, 0, 0, 0));
}
static inline int emu_oe_fcntl(int fd, int cmd, long arg)
{
	return (int)emu_oe_ret(emu_os_fcntl(fd, cmd, arg));
}
static inline int emu_oe_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd)                    /* dup3 refuses equal fds; dup2 checks oldfd */
		return (int)emu_oe_ret(emu_os_fcntl(oldfd, F_GETFD, 0) < 0 ? -EBADF : newfd);
	return (int)emu_oe_ret(emu_os_dup3(oldfd, newfd, 0));
}
static inline int emu_oe_dup3(int oldfd, int newfd, int flags)
{
	return (int)emu_oe_ret(emu_os_dup3(oldfd, newfd, flags));
}
static inline int emu_oe_flock(int fd, int op)
{
	return (int)emu_oe_ret(emu_os_flock(fd, op));
}
static inline int emu_oe_ftruncate(int fd, off_t len)
{
	return (int)emu_oe_ret(emu_os_ftruncate(fd, len));
}
static inline int emu_oe_fstat(int fd, struct stat *st)
{
	return (int)emu_oe_ret(emu_os_fstat(fd, st));
}
static inline int emu_oe_stat(const char *path, struct stat *st)
{
	return (int)emu_oe_ret(emu_os_stat(path, st));
}
static inline int emu_oe_access(const char *path, int mode)
{
	return (int)emu_oe_ret(emu_os_faccessat(AT_FDCWD, path, mode));
}
static inline int emu_oe_mkdir(const char *path, mode_t mode)
{
	return (int)emu_oe_ret(emu_os_mkdir(path, mode));
}
static inline int emu_oe_unlink(const char *path)
{
	return (int)emu_oe_ret(emu_os_unlinkat(AT_FDCWD, path, 0));
}
static inline int emu_oe_rename(const char *from, const char *to)
{
	return (int)emu_oe_ret(emu_os_renameat(AT_FDCWD, from, AT_FDCWD, to));
}
static inline int emu_oe_memfd_create(const char *name, unsigned int flags)
{
	return (int)emu_oe_ret(emu_os_memfd_create(name, flags));
}
static inline int emu_oe_pipe2(int fds[2], int flags)
{
	return (int)emu_oe_ret(EMU_OS_SC(SYS_pipe2, fds, flags, 0, 0, 0, 0));
}
/* poll with a timeout in ms, through ppoll */
static inline int emu_oe_poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	return (int)emu_oe_ret(EMU_OS_SC(SYS_ppoll, fds, n, ms < 0 ? NULL : &ts, NULL, 8, 0));
}
static inline int emu_oe_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return (int)emu_oe_ret(emu_os_sigaction(sig, act, old));
}
/* a bare clone(SIGCHLD): fork without atfork handlers; 0 in the child */
static inline pid_t emu_oe_fork_raw(void)
{
	return (pid_t)emu_oe_ret(EMU_OS_SC(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0));
}
static inline int emu_oe_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
#ifdef SYS_close_range
	return (int)emu_oe_ret(EMU_OS_SC(SYS_close_range, first, last, flags, 0, 0, 0));
#else
	(void)first;
	(void)last;
	(void)flags;
	return (int)emu_oe_ret(-ENOSYS);
#endif
}
static inline void *emu_oe_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int err = 0;
	void *p = emu_os_mmap(addr, len, prot, flags, fd, off, &err);
	if (p == MAP_FAILED)
		errno = -err;
	return p;
}
static inline int emu_oe_munmap(void *addr, size_t len)
{
	return (int)emu_oe_ret(emu_os_munmap(addr, len));
}

#endif
