/* SPDX-License-Identifier: MIT */
/*
 * preload/fd.c: keeps the engine's fd cache right (close, the dup family,
 * fcntl(F_DUPFD*), and the stdio/dirent closers that free a descriptor),
 * mmap() of bpf object fds, and sendmsg()/sendmmsg() passing them away.
 */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#undef _TIME_BITS

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu.h"
#include "real.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void shim_poll_fd_closed(int fd);     /* preload/poll.c */

static void note_closed(int fd)
{
	int saved = errno;

	SHIM_ENTER();
	emu_fd_closed(fd);
	shim_poll_fd_closed(fd);
	SHIM_LEAVE();
	errno = saved;
}

static void note_duped(int oldfd, int newfd)
{
	int saved = errno;

	SHIM_ENTER();
	emu_fd_duped(oldfd, newfd);
	SHIM_LEAVE();
	errno = saved;
}

SHIM_EXPORT int close(int fd)
{
	int r = REAL(close)(fd);

	/* Linux frees the descriptor even when close() fails, except EBADF */
	if (!shim_busy && (r == 0 || errno != EBADF))
		note_closed(fd);
	return r;
}

SHIM_EXPORT int dup(int oldfd)
{
	int r = REAL(dup)(oldfd);

	if (r >= 0 && !shim_busy)
		note_duped(oldfd, r);
	return r;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	int r = REAL(dup2)(oldfd, newfd);

	if (r >= 0 && oldfd != newfd && !shim_busy)
		note_duped(oldfd, r);
	return r;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int r = REAL(dup3)(oldfd, newfd, flags);

	if (r >= 0 && !shim_busy)
		note_duped(oldfd, r);
	return r;
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int r = REAL(close_range)(first, last, flags);

	if (r == 0 && !shim_busy && !((unsigned int)flags & CLOSE_RANGE_CLOEXEC)) {
		int saved = errno;
		SHIM_ENTER();
		emu_fd_range_closed(first, last);
		SHIM_LEAVE();
		errno = saved;
	}
	return r;
}

SHIM_EXPORT void closefrom(int lowfd)
{
	REAL(closefrom)(lowfd);
	if (!shim_busy && lowfd >= 0) {
		int saved = errno;
		SHIM_ENTER();
		emu_fd_range_closed((unsigned int)lowfd, ~0u);
		SHIM_LEAVE();
		errno = saved;
	}
}

/* fcntl's third argument is an int, a long or a pointer depending on cmd;
 * like glibc, read it as a pointer-sized word, which covers all of them. */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int r = real(fd, cmd, arg);

	if (r < 0 || shim_busy)
		return r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		note_duped(fd, r);
		break;
	case F_GETFL: {
		/* a bpf object fd shows only its access mode, like an anon inode
		 * (no O_LARGEFILE or tmpfile bits of the file behind it) */
		int saved = errno;
		SHIM_ENTER();
		if (emu_fd_kind(fd) != EMU_KIND_NONE)
			r &= O_ACCMODE | O_NONBLOCK | O_APPEND;
		SHIM_LEAVE();
		errno = saved;
		break;
	}
	}
	return r;
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(&REAL(fcntl), fd, cmd, arg);
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(&REAL(fcntl64), fd, cmd, arg);
}

SHIM_EXPORT int fclose(FILE *f)
{
	int fd = f && !shim_busy ? fileno(f) : -1;
	int r = REAL(fclose)(f);

	if (fd >= 0)
		note_closed(fd);
	return r;
}

SHIM_EXPORT int closedir(DIR *d)
{
	int fd = !shim_busy ? dirfd(d) : -1;
	int r = REAL(closedir)(d);

	if (fd >= 0)
		note_closed(fd);
	return r;
}

/* 1: not a bpf object, map as asked; 0: map *off instead; <0: -errno. */
static int mmap_check(int fd, size_t len, int prot, int flags, off_t *off)
{
	int saved = errno, r;
	off_t real_off = *off;

	SHIM_ENTER();
	r = emu_mmap_check(fd, len, prot, flags, *off, &real_off);
	SHIM_LEAVE();
	errno = saved;
	if (r == 0)
		*off = real_off;
	return r;
}

#define WRAP_MMAP(name, offtype)                                                        \
	SHIM_EXPORT void *name(void *addr, size_t len, int prot, int flags, int fd,     \
			       offtype off)                                             \
	{                                                                               \
		if (!shim_busy && fd >= 0 && !(flags & MAP_ANONYMOUS)) {                \
			off_t o_ = (off_t)off;                                          \
			int r_ = mmap_check(fd, len, prot, flags, &o_);                 \
			if (r_ < 0) {                                                   \
				errno = -r_;                                            \
				return MAP_FAILED;                                      \
			}                                                               \
			off = (offtype)o_;                                              \
		}                                                                       \
		return REAL(name)(addr, len, prot, flags, fd, off);                     \
	}

WRAP_MMAP(mmap, off_t)
WRAP_MMAP(mmap64, off64_t)

/* An object fd sent over a socket (SCM_RIGHTS) may outlive this process's
 * view of it: the engine makes the object's holds links first. */
static void note_sent(const struct msghdr *m)
{
	if (!m || !m->msg_control)
		return;
	int saved = errno;
	SHIM_ENTER();
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			emu_fd_shared(fd);
		}
	}
	SHIM_LEAVE();
	errno = saved;
}

SHIM_EXPORT ssize_t sendmsg(int sock, const struct msghdr *m, int flags)
{
	if (!shim_busy)
		note_sent(m);
	return REAL(sendmsg)(sock, m, flags);
}

SHIM_EXPORT int sendmmsg(int sock, struct mmsghdr *v, unsigned int n, int flags)
{
	if (!shim_busy && v)
		for (unsigned int i = 0; i < n; i++)
			note_sent(&v[i].msg_hdr);
	return REAL(sendmmsg)(sock, v, n, flags);
}
