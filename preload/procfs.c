/* SPDX-License-Identifier: MIT */
/*
 * preload/procfs.c: /proc/mounts, /proc/self/mountinfo and
 * /proc/self/fdinfo/N as a bpffs-mounted, bpf()-capable kernel shows them.
 * Everything here runs with shim_busy raised, so its own libc calls are real.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "emu.h"
#include "procfs.h"
#include "real.h"

enum proc_file { PROC_NONE, PROC_MOUNTS, PROC_MOUNTINFO, PROC_FDINFO, PROC_FD };

static bool comp_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/* Strict decimal, no sign, no leading zero; -1 if not one. */
static long comp_num(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 9 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Which made-up file path names (lexically: "//" and "." ignored); *num gets
 * the fd number for PROC_FDINFO and PROC_FD. */
static enum proc_file classify(const char *path, int *num)
{
	const char *c[5];
	size_t len[5], n = 0;

	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		const char *e = strchrnul(s, '/');
		if (e == s)
			break;
		if (!(e - s == 1 && s[0] == '.')) {
			if (n == 5)
				return PROC_NONE;
			c[n] = s;
			len[n++] = (size_t)(e - s);
		}
		s = e;
	}
	if (n == 3 && comp_is(c[0], len[0], "dev") && comp_is(c[1], len[1], "fd")) {
		/* /dev/fd is a link to /proc/self/fd on every modern system */
		long fd = comp_num(c[2], len[2]);
		if (fd < 0 || fd > INT_MAX)
			return PROC_NONE;
		*num = (int)fd;
		return PROC_FD;
	}
	if (n == 2 && comp_is(c[0], len[0], "etc") && comp_is(c[1], len[1], "mtab")) {
		/* /etc/mtab is a symlink to ../proc/self/mounts on every modern system */
		char target[64];
		ssize_t r = readlink("/etc/mtab", target, sizeof(target) - 1);
		if (r <= 0)
			return PROC_NONE;
		target[r] = '\0';
		size_t tl = (size_t)r;
		return tl >= 7 && !strcmp(target + tl - 7, "/mounts") && strstr(target, "proc/")
			? PROC_MOUNTS : PROC_NONE;
	}
	if (n < 2 || !comp_is(c[0], len[0], "proc"))
		return PROC_NONE;
	if (n == 2)
		return comp_is(c[1], len[1], "mounts") ? PROC_MOUNTS : PROC_NONE;
	if (!comp_is(c[1], len[1], "self") && !comp_is(c[1], len[1], "thread-self")) {
		long pid = comp_num(c[1], len[1]);
		if (pid < 0 || (pid != getpid() && pid != gettid()))
			return PROC_NONE;
	}
	if (n == 3) {
		if (comp_is(c[2], len[2], "mounts"))
			return PROC_MOUNTS;
		if (comp_is(c[2], len[2], "mountinfo"))
			return PROC_MOUNTINFO;
		return PROC_NONE;
	}
	if (n == 4) {
		long fd = comp_num(c[3], len[3]);
		if (fd < 0 || fd > INT_MAX)
			return PROC_NONE;
		*num = (int)fd;
		if (comp_is(c[2], len[2], "fdinfo"))
			return PROC_FDINFO;
		if (comp_is(c[2], len[2], "fd"))
			return PROC_FD;
	}
	return PROC_NONE;
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sbuf_reserve(struct sbuf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int sbuf_read_file(struct sbuf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		if (sbuf_reserve(b, 4096)) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		ssize_t n = read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = errno;
			close(fd);
			errno = err;
			return n < 0 ? -1 : 0;
		}
		b->len += (size_t)n;
	}
}

/* A read-only descriptor (O_CLOEXEC / O_NONBLOCK as asked) of a memfd
 * holding data; -1 with errno. */
static int memfd_with(const char *data, size_t len, int flags)
{
	int mfd = memfd_create("bpfemu-proc", MFD_CLOEXEC);

	if (mfd < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(mfd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(mfd);
			errno = err;
			return -1;
		}
		off += (size_t)n;
	}
	/* reopen read-only, as the program asked for a read-only file */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", mfd);
	int fd = open(self, O_RDONLY | (flags & (O_CLOEXEC | O_NONBLOCK)));
	if (fd >= 0) {
		close(mfd);
		return fd;
	}
	lseek(mfd, 0, SEEK_SET);
	if (!(flags & O_CLOEXEC))
		fcntl(mfd, F_SETFD, 0);
	return mfd;
}

/* The anon inode's mount id and inode number, as every bpf fd shows them:
 * any anon inode fd (an eventfd) carries the same. */
static void anon_inode_ids(int *mnt_id, unsigned long *ino)
{
	static int cached_mnt = -1;
	static unsigned long cached_ino;

	if (__atomic_load_n(&cached_mnt, __ATOMIC_ACQUIRE) < 0) {
		int mnt = 0;
		unsigned long i = 0;
		int efd = eventfd(0, EFD_CLOEXEC);
		if (efd >= 0) {
			char path[64], text[512];
			snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t n = read(fd, text, sizeof(text) - 1);
				if (n > 0) {
					text[n] = '\0';
					const char *m = strstr(text, "mnt_id:");
					const char *in = strstr(text, "\nino:");
					if (m)
						mnt = atoi(m + 7);
					if (in)
						i = strtoul(in + 5, NULL, 10);
				}
				close(fd);
			}
			close(efd);
		}
		cached_ino = i;
		__atomic_store_n(&cached_mnt, mnt, __ATOMIC_RELEASE);
	}
	*mnt_id = cached_mnt;
	*ino = cached_ino;
}

static int fdinfo_text(struct sbuf *b, int fd)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), mnt_id;
	unsigned long ino;

	if (fl < 0 || fdfl < 0)
		return -1;
	anon_inode_ids(&mnt_id, &ino);
	unsigned int flags = (unsigned int)(fl & (O_ACCMODE | O_NONBLOCK | O_APPEND)) |
			     ((fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
	if (sbuf_reserve(b, 8192)) {
		errno = ENOMEM;
		return -1;
	}
	int n = snprintf(b->p, b->cap, "pos:\t0\nflags:\t0%o\nmnt_id:\t%d\nino:\t%lu\n", flags, mnt_id, ino);
	if (n < 0 || (size_t)n >= b->cap) {
		errno = ENOMEM;
		return -1;
	}
	b->len = (size_t)n;
	int m = emu_fdinfo_format(fd, b->p + b->len, b->cap - b->len);
	if (m > 0)
		b->len += (size_t)m < b->cap - b->len ? (size_t)m : b->cap - b->len - 1;
	return 0;
}

static int proc_open(const char *path, int flags)
{
	enum proc_file kind;
	struct sbuf b = { 0 };
	int num = -1, fd = SHIM_UNHANDLED;

	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_PATH | O_DIRECTORY)))
		return SHIM_UNHANDLED;
	kind = classify(path, &num);
	switch (kind) {
	case PROC_MOUNTS:
	case PROC_MOUNTINFO:
		if (sbuf_read_file(&b, kind == PROC_MOUNTS ? path : "/proc/self/mountinfo") < 0) {
			/* let the real open report why */
			fd = SHIM_UNHANDLED;
			break;
		}
		size_t room = emu_config()->nmounts * (PATH_MAX * 4 + 128) + 1;
		if (sbuf_reserve(&b, room)) {
			errno = ENOMEM;
			fd = -1;
			break;
		}
		b.len += emu_bpffs_mount_lines(b.p + b.len, b.cap - b.len, kind == PROC_MOUNTINFO);
		fd = memfd_with(b.p, b.len, flags);
		break;
	case PROC_FDINFO:
		if (emu_fd_kind(num) == EMU_KIND_NONE)
			break;
		fd = fdinfo_text(&b, num) < 0 ? -1 : memfd_with(b.p, b.len, flags);
		break;
	default:
		break;
	}
	free(b.p);
	return fd;
}

int shim_proc_open(const char *path, int flags)
{
	int saved = errno, fd;

	SHIM_ENTER();
	fd = proc_open(path, flags);
	SHIM_LEAVE();
	if (fd != -1)
		errno = saved;
	return fd;
}

int shim_proc_obj_fd(const char *path)
{
	int saved = errno, num = -1, fd = -1;

	if (!path || (strncmp(path, "/proc/", 6) && strncmp(path, "/dev/fd/", 8)))
		return -1;
	SHIM_ENTER();
	if (classify(path, &num) == PROC_FD && emu_fd_kind(num) != EMU_KIND_NONE)
		fd = num;
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

const char *shim_proc_fd_link(const char *path)
{
	const char *name = NULL;
	int saved = errno, num = -1;

	SHIM_ENTER();
	if (classify(path, &num) == PROC_FD)
		name = emu_kind_anon_name(emu_fd_kind(num));
	SHIM_LEAVE();
	errno = saved;
	return name;
}
