/* SPDX-License-Identifier: MIT */
/*
 * tools/seccomp/door.c: the caller context the engine works through while it
 * serves a notified call (emu/caller.c), and bpf() and mmap().
 *
 * Memory: process_vm_readv/writev on the calling thread. Before anything is
 * written into it the notification id is checked again (seccomp_notify_id_valid),
 * so a caller that died meanwhile, whose pid may name another process by
 * now, is never written to.
 * Fds: a pidfd of the calling thread (checked with the id as above, so it
 * names the right task), then pidfd_getfd for each fd number the engine asks
 * about: our copy is the same open file, which is what the engine keys
 * objects on. New fds go back with SECCOMP_IOCTL_NOTIF_ADDFD, which installs
 * the very same file (mmap, dup, fork and fd passing work as with the shim)
 * and, with SECCOMP_ADDFD_FLAG_SEND, answers the call in the same step.
 * Objects stay mapped here between calls (a small set, dropped when idle),
 * so a call costs a few system calls, not a mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "door.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

bool call_valid(struct call *k)
{
	return seccomp_notify_id_valid(k->nfd, k->id) == 0;
}

/* The calling thread's pidfd: the thread's own (Linux 6.9+), else its
 * process's when it is the leader. Opened once per call, checked with the
 * notification id afterwards so it surely names the caller. */
int call_pidfd(struct call *k)
{
	if (k->pidfd >= 0)
		return k->pidfd;
	int fd = (int)syscall(SYS_pidfd_open, k->c.tid, 0);
	if (fd >= 0) {
		k->c.pid = k->c.tid;          /* only a thread group leader opens without PIDFD_THREAD */
		k->have_pid = true;
	} else {
		fd = (int)syscall(SYS_pidfd_open, k->c.tid, PIDFD_THREAD);
	}
	if (fd < 0)
		return -errno;
	if (!call_valid(k)) {
		close(fd);
		return -ESRCH;
	}
	k->pidfd = fd;
	return fd;
}

pid_t call_tgid(struct call *k)
{
	if (k->have_pid)
		return k->c.pid;
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)k->c.tid);
	pid_t tgid = k->c.tid;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			const char *t = strstr(buf, "\nTgid:");
			if (t)
				tgid = (pid_t)strtol(t + 6, NULL, 10);
		}
	}
	k->c.pid = tgid;
	k->have_pid = true;
	return tgid;
}

int call_read(struct call *k, void *dst, __u64 src, size_t len)
{
	if (!len)
		return 0;
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)src, len };
	return process_vm_readv(k->c.tid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

int call_write(struct call *k, __u64 dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if (!call_valid(k))
		return -EFAULT;
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)dst, len };
	return process_vm_writev(k->c.tid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

long call_read_str(struct call *k, char *dst, __u64 src, size_t len)
{
	size_t done = 0;
	if (src < 4096)
		return -EFAULT;
	while (done < len) {
		__u64 a = src + done;
		size_t chunk = 4096 - (size_t)(a % 4096);
		if (chunk > len - done)
			chunk = len - done;
		if (call_read(k, dst + done, a, chunk))
			return -EFAULT;
		char *nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	return -ENAMETOOLONG;
}

/* ---- objects kept mapped between calls ---- */

#define HOLD_MAX 64
static struct emu_obj *held[HOLD_MAX];   /* most recent first */
static unsigned int nheld;

static void hold(int fd)
{
	struct emu_obj *o = emu_obj_hold(fd);
	if (!o)
		return;
	unsigned int i;
	for (i = 0; i < nheld && held[i] != o; i++)
		;
	if (i < nheld) {
		emu_obj_release(o);               /* one reference of ours is enough */
	} else if (nheld == HOLD_MAX) {
		emu_obj_release(held[--nheld]);
		i = nheld;
	} else {
		i = nheld;
	}
	memmove(&held[1], &held[0], i * sizeof(held[0]));
	held[0] = o;
	if (i == nheld)
		nheld++;
}

void door_hold_release_all(void)
{
	while (nheld)
		emu_obj_release(held[--nheld]);
}

/* ---- the engine's hooks ---- */

static int c_read(struct emu_caller *c, void *dst, const void *src, size_t len)
{
	return call_read(c->door, dst, (__u64)(uintptr_t)src, len);
}

static int c_write(struct emu_caller *c, void *dst, const void *src, size_t len)
{
	return call_write(c->door, (__u64)(uintptr_t)dst, src, len);
}

int call_fd(struct call *k, int ufd)
{
	if (ufd < 0)
		return -EBADF;
	for (unsigned int i = 0; i < k->nl; i++)
		if (k->ufds[i] == ufd)
			return k->lfds[i];
	int pfd = call_pidfd(k);
	if (pfd < 0)
		return -EBADF;
	if (k->nl == k->cap) {
		unsigned int cap = k->cap ? k->cap * 2 : 8;
		int *l = realloc(k->lfds, cap * sizeof(int)), *u = l ? realloc(k->ufds, cap * sizeof(int)) : NULL;
		if (l)
			k->lfds = l;
		if (!u)
			return -ENOMEM;
		k->ufds = u;
		k->cap = cap;
	}
	int fd = (int)syscall(SYS_pidfd_getfd, pfd, ufd, 0);
	if (fd < 0)
		return -EBADF;             /* closed, or not ours to see: what the kernel's fdget says */
	k->lfds[k->nl] = fd;
	k->ufds[k->nl++] = ufd;
	hold(fd);
	return fd;
}

static int c_fd_get(struct emu_caller *c, int ufd)
{
	return call_fd(c->door, ufd);
}

/* ADDFD with SEND installs and answers at once (Linux 5.14+); without it,
 * the fd is installed and the answer follows. bpf() answers after the engine
 * has finished the call (its trace line reads the caller's attr after the
 * call, which the caller must not have reused yet): installed first, then
 * answered; once the call is received only SIGKILL can come between the two
 * (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, run.c). */
static int addfd(struct call *k, int fd, bool cloexec, bool send)
{
	struct seccomp_notif_addfd a = {
		.id = k->id,
		.flags = send ? SECCOMP_ADDFD_FLAG_SEND : 0,
		.srcfd = (__u32)fd,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r = ioctl(k->nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	if (r >= 0) {
		k->answered = send;
		return r;
	}
	if (send && errno == EINVAL) {
		a.flags = 0;
		r = ioctl(k->nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
		if (r >= 0)
			return r;
	}
	return -errno;
}

static int c_fd_give(struct emu_caller *c, int fd)
{
	struct call *k = c->door;
	hold(fd);
	return addfd(k, fd, true, false);
}

int call_give_fd(struct call *k, int fd, bool cloexec)
{
	int r = addfd(k, fd, cloexec, true);
	close(fd);
	return r;
}

void call_begin(struct call *k)
{
	k->c.read = c_read;
	k->c.write = c_write;
	k->c.fd_get = c_fd_get;
	k->c.fd_give = c_fd_give;
	k->c.door = k;
	if (!k->have_pid)
		k->c.pid = k->c.tid;      /* until call_tgid() knows better (door_bpf asks at once) */
	emu_caller_set(&k->c);
}

void call_end(struct call *k)
{
	emu_caller_set(NULL);
	for (unsigned int i = 0; i < k->nl; i++) {
		emu_fd_closed(k->lfds[i]);
		close(k->lfds[i]);
	}
	k->nl = 0;
	if (k->pidfd >= 0)
		close(k->pidfd);
	k->pidfd = -1;
}

/* ---- bpf(2) ---- */

int door_bpf(struct call *k)
{
	call_pidfd(k);                /* most calls name fds; a leader's pidfd tells its process at once */
	call_tgid(k);
	call_begin(k);
	long r = emu_sys_bpf((int)k->args[0], (const void *)(uintptr_t)k->args[1], (unsigned int)k->args[2]);
	call_end(k);
	if (k->answered)
		return DOOR_ANSWERED;
	return (int)r;
}

/* ---- mmap(2) of a file: a bpf object's is checked by the engine ----
 * The filter notifies only mappings that are not MAP_ANONYMOUS. Object files
 * keep a map's data at the offsets the kernel's mmap ABI uses (emu/obj.h), so
 * an allowed mapping is the program's own call, continued. */
int door_mmap(struct call *k)
{
	int r = DOOR_CONTINUE;
	call_begin(k);
	int fd = call_fd(k, (int)k->args[4]);
	struct stat sb;
	/* a mapping of the whole file, header page (the last) included, is the
	 * engine's own in a program that links it: not a map's mmap */
	if (fd >= 0 && !fstat(fd, &sb) && !(k->args[5] == 0 && k->args[1] == (__u64)sb.st_size) &&
	    emu_fd_kind(fd) != EMU_KIND_NONE) {
		off_t real = 0;
		int err = emu_mmap_check(fd, (size_t)k->args[1], (int)k->args[2], (int)k->args[3], (off_t)k->args[5], &real);
		if (err < 0)
			r = err;
		else if (err == 0 && real != (off_t)k->args[5])
			r = -EINVAL;          /* an object file of another layout: cannot be mapped from outside */
	}
	call_end(k);
	return r;
}
