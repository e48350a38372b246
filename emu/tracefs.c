/* SPDX-License-Identifier: MIT */
/*
 * emu/tracefs.c: the trace buffer of a state root, and the tracefs files
 * that show it, for both doors (emu/procfs.c sends them here).
 *
 * bpf_trace_printk and friends (emu/vm) append events to
 * <root>/tracefs/buffer, one record each (a 4-byte length, then the line as
 * trace_pipe shows it), under an exclusive flock; <root>/tracefs/state keeps
 * what readers consumed (the offset of the first unread record, the events
 * consumed and those lost to overwriting). The buffer is a ring as the
 * kernel's is: past 4 MiB the oldest half is dropped.
 *
 * The views, at /sys/kernel/tracing and /sys/kernel/debug/tracing:
 *   trace_pipe  consuming, blocking reads: the descriptor is a pipe fed by a
 *               small process of our own (forked once per open, detached)
 *               that moves unread events into it and ends when the reader
 *               closes its end or the state root goes; O_NONBLOCK gives EAGAIN
 *               when nothing is there, as the kernel's does.
 *   trace       the unread events after the nop tracer's header, not consumed;
 *               opening it for writing with O_TRUNC empties the buffer.
 *   tracing_on  "1".
 * statfs() of the two directories answers TRACEFS_MAGIC (emu_tracefs_dir), so
 * tools that look for tracefs there (bpftool prog tracelog) find it without a
 * mount, as any user.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu.h"
#include "os_errno.h"

#define BUF_CAP (4u << 20)             /* past this, the oldest half goes */
#define REC_MAX 4096u

struct tstate {
	__u64 consumed_off;            /* the first unread record */
	__u64 consumed;                /* events read through trace_pipe */
	__u64 lost;                    /* events overwritten before anyone read them */
	__u64 written;                 /* events written since the buffer was last emptied */
};

static int paths(char *dir, char *buf, char *state, size_t len)
{
	int err = emu_root_ready();
	if (err)
		return err;
	const char *root = emu_config()->root;
	if ((size_t)snprintf(dir, len, "%s/tracefs", root) >= len ||
	    (size_t)snprintf(buf, len, "%s/tracefs/buffer", root) >= len ||
	    (size_t)snprintf(state, len, "%s/tracefs/state", root) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static mode_t file_mode(void)
{
	return emu_root_shared() ? 0666 : 0600;
}

/* the buffer, open and locked (LOCK_EX or LOCK_SH), and the state's fd; -errno */
static int open_locked(int lock, bool create, int *sfd)
{
	char dir[PATH_MAX], buf[PATH_MAX], state[PATH_MAX];
	int err = paths(dir, buf, state, sizeof(dir));
	if (err)
		return err;
	if (create && emu_oe_mkdir(dir, emu_root_shared() ? 01777 : 0700) && errno != EEXIST)
		return -errno;
	int fd = emu_oe_open(buf, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), file_mode());
	if (fd < 0)
		return -errno;
	while (emu_oe_flock(fd, lock)) {
		if (errno != EINTR) {
			err = -errno;
			emu_oe_close(fd);
			return err;
		}
	}
	*sfd = emu_oe_open(state, O_RDWR | O_CLOEXEC | O_CREAT, file_mode());
	if (*sfd < 0) {
		err = -errno;
		emu_oe_close(fd);
		return err;
	}
	return fd;
}

static void state_get(int sfd, struct tstate *st)
{
	memset(st, 0, sizeof(*st));
	if (emu_oe_pread(sfd, st, sizeof(*st), 0) != (ssize_t)sizeof(*st))
		memset(st, 0, sizeof(*st));
}

static void state_put(int sfd, const struct tstate *st)
{
	ssize_t w = emu_oe_pwrite(sfd, st, sizeof(*st), 0);
	(void)w;
}

/* the ring: past BUF_CAP, keep the newer half (whole records) */
static void compact(int fd, int sfd, off_t size)
{
	char dir[PATH_MAX], buf[PATH_MAX], state[PATH_MAX], tmp[PATH_MAX + 16];
	if (paths(dir, buf, state, sizeof(dir)))
		return;
	struct tstate st;
	state_get(sfd, &st);
	/* the first record boundary at or past half the size */
	off_t cut = 0;
	__u64 dropped = 0;
	while (cut < size / 2) {
		__u32 len;
		if (emu_oe_pread(fd, &len, 4, cut) != 4 || len > REC_MAX)
			return;
		if ((__u64)cut >= st.consumed_off)
			dropped++;
		cut += 4 + (off_t)len;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d", buf, (int)getpid());
	int nfd = emu_oe_open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, file_mode());
	if (nfd < 0)
		return;
	char chunk[65536];
	for (off_t o = cut; o < size;) {
		ssize_t r = emu_oe_pread(fd, chunk, sizeof(chunk), o);
		if (r <= 0 || emu_oe_write(nfd, chunk, (size_t)r) != r) {
			emu_oe_close(nfd);
			emu_oe_unlink(tmp);
			return;
		}
		o += r;
	}
	if (emu_oe_flock(nfd, LOCK_EX) || emu_oe_rename(tmp, buf)) {
		emu_oe_close(nfd);
		emu_oe_unlink(tmp);
		return;
	}
	emu_oe_close(nfd);
	st.consumed_off = st.consumed_off > (__u64)cut ? st.consumed_off - (__u64)cut : 0;
	st.lost += dropped;
	state_put(sfd, &st);
}

void emu_trace_event(const char *line, size_t len)
{
	if (len > REC_MAX)
		len = REC_MAX;
	int sfd, fd = open_locked(LOCK_EX, true, &sfd);
	if (fd < 0)
		return;
	char rec[4 + REC_MAX];
	__u32 l = (__u32)len;
	memcpy(rec, &l, 4);
	memcpy(rec + 4, line, len);
	off_t end = emu_oe_lseek(fd, 0, SEEK_END);
	if (end >= 0 && emu_oe_pwrite(fd, rec, 4 + len, end) == (ssize_t)(4 + len)) {
		struct tstate st;
		state_get(sfd, &st);
		st.written++;
		state_put(sfd, &st);
		if (end + 4 + (off_t)len > (off_t)BUF_CAP)
			compact(fd, sfd, end + 4 + (off_t)len);
	}
	emu_oe_close(sfd);
	emu_oe_close(fd);
}

/* ---- trace: a snapshot of the unread events, after the header ---- */

static int snapshot(int flags)
{
	int sfd, fd = open_locked(LOCK_SH, true, &sfd);
	if (fd < 0)
		return fd;
	struct tstate st;
	state_get(sfd, &st);
	emu_oe_close(sfd);
	struct stat sb;
	char *body = NULL;
	size_t blen = 0, n = 0;
	if (!emu_oe_fstat(fd, &sb) && (__u64)sb.st_size > st.consumed_off) {
		size_t raw = (size_t)((__u64)sb.st_size - st.consumed_off);
		char *r = malloc(raw);
		body = malloc(raw);
		if (r && body && emu_oe_pread(fd, r, raw, (off_t)st.consumed_off) == (ssize_t)raw) {
			for (size_t o = 0; o + 4 <= raw;) {
				__u32 len;
				memcpy(&len, r + o, 4);
				if (len > REC_MAX || o + 4 + len > raw)
					break;
				memcpy(body + blen, r + o + 4, len);
				blen += len;
				o += 4 + len;
				n++;
			}
		}
		free(r);
	}
	emu_oe_close(fd);
	char head[1024];
	/* the kernel's entries-written: what is in the buffer and what was overwritten unread */
	__u64 written = n + st.lost;
	int hl = snprintf(head, sizeof(head),
			  "# tracer: nop\n"
			  "#\n"
			  "# entries-in-buffer/entries-written: %zu/%llu   #P:%u\n"
			  "#\n"
			  "#                                _-----=> irqs-off/BH-disabled\n"
			  "#                               / _----=> need-resched\n"
			  "#                              | / _---=> hardirq/softirq\n"
			  "#                              || / _--=> preempt-depth\n"
			  "#                              ||| / _-=> migrate-disable\n"
			  "#                              |||| /     delay\n"
			  "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
			  "#              | |         |   |||||     |         |\n",
			  n, (unsigned long long)written, emu_possible_cpus());
	int mfd = emu_oe_memfd_create("bpfemu-trace", MFD_CLOEXEC);
	int err = mfd < 0 ? -errno : 0;
	if (!err && (emu_oe_write(mfd, head, (size_t)hl) != hl || (blen && emu_oe_write(mfd, body, blen) != (ssize_t)blen)))
		err = -EIO;
	free(body);
	if (err) {
		if (mfd >= 0)
			emu_oe_close(mfd);
		return err;
	}
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", mfd);
	int rfd = emu_oe_open(self, O_RDONLY | (flags & (O_CLOEXEC | O_NONBLOCK)));
	if (rfd >= 0) {
		emu_oe_close(mfd);
		return rfd;
	}
	emu_oe_lseek(mfd, 0, SEEK_SET);
	if (!(flags & O_CLOEXEC))
		emu_oe_fcntl(mfd, F_SETFD, 0);
	return mfd;
}

/* writes to trace go nowhere (the kernel's trace write is a stub) */
static int devnull(int flags)
{
	int fd = emu_oe_open("/dev/null", (flags & O_ACCMODE) | O_CLOEXEC);
	if (fd >= 0 && !(flags & O_CLOEXEC))
		emu_oe_fcntl(fd, F_SETFD, 0);
	return fd < 0 ? -errno : fd;
}

/* O_TRUNC on trace: the buffer empties (what the write carries does not matter) */
static int clear(int flags)
{
	int sfd, fd = open_locked(LOCK_EX, true, &sfd);
	if (fd < 0)
		return fd;
	struct tstate st = { 0 };
	if (emu_oe_ftruncate(fd, 0))
		fd = -errno;
	else
		state_put(sfd, &st);
	emu_oe_close(sfd);
	if (fd < 0)
		return fd;
	emu_oe_close(fd);
	return devnull(flags);
}

/* ---- trace_pipe: a pipe and a pump ---- */

/* Moves unread events into the pipe while it has room; returns false when the
 * reader is gone or the buffer cannot be read any more. Async-signal-safe
 * calls only (it runs in a child of a possibly threaded process). */
static bool pump_once(int wfd, const char *buf, const char *state)
{
	int fd = emu_oe_open(buf, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;        /* not written yet: wait */
	int sfd = -1;
	bool alive = true;
	while (emu_oe_flock(fd, LOCK_EX) && errno == EINTR)
		;
	sfd = emu_oe_open(state, O_RDWR | O_CLOEXEC);
	if (sfd < 0) {
		emu_oe_close(fd);
		return true;
	}
	struct tstate st;
	state_get(sfd, &st);
	static char chunk[65536];
	ssize_t r = emu_oe_pread(fd, chunk, sizeof(chunk), (off_t)st.consumed_off);
	size_t o = 0;
	__u64 events = 0;
	while (r > 0 && o + 4 <= (size_t)r) {
		__u32 len;
		memcpy(&len, chunk + o, 4);
		if (len > REC_MAX || o + 4 + len > (size_t)r)
			break;
		ssize_t w = emu_oe_write(wfd, chunk + o + 4, len);
		if (w < 0 && errno == EPIPE) {
			alive = false;
			break;
		}
		if (w != (ssize_t)len)        /* full (O_NONBLOCK): the rest waits */
			break;
		o += 4 + len;
		events++;
	}
	if (o) {
		st.consumed_off += o;
		st.consumed += events;
		state_put(sfd, &st);
	}
	emu_oe_close(sfd);
	emu_oe_close(fd);
	return alive;
}

static void pump(int wfd, const char *buf, const char *state, const char *root)
{
	for (;;) {
		if (!pump_once(wfd, buf, state))
			return;
		struct stat sb;
		if (emu_oe_stat(root, &sb))
			return;                     /* the state root is gone */
		/* the reader closing its end shows as POLLERR on ours */
		struct pollfd p = { .fd = wfd, .events = 0 };
		int n = emu_oe_poll(&p, 1, 50);
		if (n > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return;
	}
}

static int pipe_open(int flags)
{
	char dir[PATH_MAX], buf[PATH_MAX], state[PATH_MAX], root[PATH_MAX];
	int err = paths(dir, buf, state, sizeof(dir));
	if (err)
		return err;
	snprintf(root, sizeof(root), "%s", emu_config()->root);
	if (emu_oe_mkdir(dir, emu_root_shared() ? 01777 : 0700) && errno != EEXIST)
		return -errno;
	int p[2];
	if (emu_oe_pipe2(p, O_CLOEXEC))
		return -errno;
	/* the raw system call: no atfork handlers run (the calling process may be
	 * threaded, its handlers may take locks); the child makes no libc call
	 * that is not async-signal-safe */
	pid_t pid = emu_oe_fork_raw();
	if (pid < 0) {
		err = -errno;
		emu_oe_close(p[0]);
		emu_oe_close(p[1]);
		return err;
	}
	if (pid == 0) {
		/* detach: the pump is nobody's child, and holds nothing but its end */
		if (emu_oe_fork_raw() != 0)
			_exit(0);
		setsid();
		struct sigaction sa = { .sa_handler = SIG_IGN };
		emu_oe_sigaction(SIGPIPE, &sa, NULL);
		emu_oe_fcntl(p[1], F_SETFL, O_NONBLOCK);
		int keep = p[1];
		if (keep != 3) {
			if (emu_oe_dup2(keep, 3) < 0)
				_exit(1);
			keep = 3;
		}
		if (emu_oe_close_range(4u, ~0u, 0u))
			for (int i = 4; i < 65536; i++)
				emu_oe_close(i);
		for (int i = 0; i < 3; i++)
			emu_oe_close(i);
		pump(keep, buf, state, root);
		_exit(0);
	}
	emu_oe_close(p[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (!(flags & O_CLOEXEC))
		emu_oe_fcntl(p[0], F_SETFD, 0);
	if (flags & O_NONBLOCK)
		emu_oe_fcntl(p[0], F_SETFL, O_NONBLOCK);
	return p[0];
}

/* ---- the paths ---- */

/* "/sys/kernel/tracing" or "/sys/kernel/debug/tracing" (lexically: "//"
 * and "." ignored) followed by rest: the rest's start, else NULL */
static const char *under_tracefs(const char *path)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char norm[PATH_MAX];
	size_t n = 0;
	const char *s = path;
	if (!path || path[0] != '/')
		return NULL;
	/* normalize the first components only as far as a root needs */
	while (*s && n + 2 < sizeof(norm)) {
		while (*s == '/')
			s++;
		if (s[0] == '.' && (s[1] == '/' || !s[1])) {
			s++;
			continue;
		}
		if (!*s)
			break;
		norm[n++] = '/';
		while (*s && *s != '/' && n + 1 < sizeof(norm))
			norm[n++] = *s++;
		norm[n] = '\0';
		for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
			if (!strcmp(norm, roots[i])) {
				while (*s == '/')
					s++;
				return s;
			}
		if (n > strlen(roots[1]))
			return NULL;
	}
	return NULL;
}

bool emu_tracefs_dir(const char *path)
{
	const char *rest = under_tracefs(path);
	return rest && !*rest;
}

int emu_tracefs_open(const char *path, int flags)
{
	const char *rest = under_tracefs(path);
	int acc = flags & O_ACCMODE, saved = errno, fd = EMU_PROC_UNHANDLED;
	if (!rest || (flags & (O_PATH | O_DIRECTORY)))
		return EMU_PROC_UNHANDLED;
	if (!strcmp(rest, "trace_pipe")) {
		fd = acc == O_RDONLY ? pipe_open(flags) : -EACCES;
	} else if (!strcmp(rest, "trace")) {
		if (acc != O_RDONLY && (flags & O_TRUNC))
			fd = clear(flags);
		else if (acc == O_RDONLY)
			fd = snapshot(flags);
		else
			fd = devnull(flags);
	} else if (!strcmp(rest, "tracing_on") && acc == O_RDONLY) {
		int mfd = emu_oe_memfd_create("bpfemu-trace", MFD_CLOEXEC);
		fd = mfd < 0 ? -errno : mfd;
		if (mfd >= 0 && (emu_oe_write(mfd, "1\n", 2) != 2 || emu_oe_lseek(mfd, 0, SEEK_SET))) {
			emu_oe_close(mfd);
			fd = -EIO;
		}
	}
	errno = saved;
	return fd;
}
