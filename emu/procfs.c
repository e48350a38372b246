/* SPDX-License-Identifier: MIT */
/*
 * emu/procfs.c: /proc/mounts, /proc/self/mountinfo and
 * /proc/self/fdinfo/N as a bpffs-mounted, bpf()-capable kernel shows them,
 * and readlink of /proc/self/fd/N for a bpf object fd. Both doors use these:
 * the shim for its own process, the seccomp supervisor for the caller it
 * serves (emu/caller.c: "self" and the fd numbers are the caller's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "os.h"
#include "vm/vm.h"

enum proc_file { PROC_NONE, PROC_MOUNTS, PROC_MOUNTINFO, PROC_FDINFO, PROC_FD, PROC_CPU_POSSIBLE, PROC_BPF_STATS_SYSCTL };

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
	if (n == 2 && comp_is(c[0], len[0], "etc") && comp_is(c[1], len[1], "mtab")) {
		/* /etc/mtab is a symlink to ../proc/self/mounts on every modern system */
		char target[64];
		long r = emu_os_readlink("/etc/mtab", target, sizeof(target) - 1);
		if (r <= 0)
			return PROC_NONE;
		target[r] = '\0';
		size_t tl = (size_t)r;
		return tl >= 7 && !strcmp(target + tl - 7, "/mounts") && strstr(target, "proc/")
			? PROC_MOUNTS : PROC_NONE;
	}
	if (n == 5 && comp_is(c[0], len[0], "sys") && comp_is(c[1], len[1], "devices") &&
	    comp_is(c[2], len[2], "system") && comp_is(c[3], len[3], "cpu") && comp_is(c[4], len[4], "possible"))
		return emu_possible_cpus() != emu_host_possible_cpus() ? PROC_CPU_POSSIBLE : PROC_NONE;
	if (n == 3 && comp_is(c[0], len[0], "dev") && comp_is(c[1], len[1], "fd")) {
		/* /dev/fd is a link to /proc/self/fd on every modern system */
		long fd = comp_num(c[2], len[2]);
		if (fd < 0 || fd > INT_MAX)
			return PROC_NONE;
		*num = (int)fd;
		return PROC_FD;
	}
	if (n < 2 || !comp_is(c[0], len[0], "proc"))
		return PROC_NONE;
	if (n == 4 && comp_is(c[1], len[1], "sys") && comp_is(c[2], len[2], "kernel") &&
	    comp_is(c[3], len[3], "bpf_stats_enabled"))
		return PROC_BPF_STATS_SYSCTL;
	if (n == 2)
		return comp_is(c[1], len[1], "mounts") ? PROC_MOUNTS : PROC_NONE;
	if (!comp_is(c[1], len[1], "self") && !comp_is(c[1], len[1], "thread-self")) {
		long pid = comp_num(c[1], len[1]);
		if (pid < 0 || (pid != emu_caller_pid() && pid != emu_caller_tid()))
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

/* 0 or -errno */
static int sbuf_read_file(struct sbuf *b, const char *path)
{
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0)
		return fd;
	for (;;) {
		if (sbuf_reserve(b, 4096)) {
			emu_os_close(fd);
			return -ENOMEM;
		}
		long n = emu_os_read(fd, b->p + b->len, b->cap - b->len);
		if (n == -EINTR)
			continue;
		if (n <= 0) {
			emu_os_close(fd);
			return n < 0 ? (int)n : 0;
		}
		b->len += (size_t)n;
	}
}

/* A read-only descriptor (O_CLOEXEC / O_NONBLOCK as asked) of a memfd
 * holding data; -errno. */
static int memfd_with(const char *data, size_t len, int flags)
{
	int mfd = emu_os_memfd_create("bpfemu-proc", MFD_CLOEXEC);

	if (mfd < 0)
		return mfd;
	for (size_t off = 0; off < len;) {
		long n = emu_os_write(mfd, data + off, len - off);
		if (n == -EINTR)
			continue;
		if (n <= 0) {
			emu_os_close(mfd);
			return n < 0 ? (int)n : -EIO;
		}
		off += (size_t)n;
	}
	/* reopen read-only, as the program asked for a read-only file */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", mfd);
	int fd = emu_os_open(self, O_RDONLY | (flags & (O_CLOEXEC | O_NONBLOCK)), 0);
	if (fd >= 0) {
		emu_os_close(mfd);
		return fd;
	}
	EMU_OS_SC(SYS_lseek, mfd, 0, SEEK_SET, 0, 0, 0);
	if (!(flags & O_CLOEXEC))
		emu_os_fcntl(mfd, F_SETFD, 0);
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
		int efd = (int)EMU_OS_SC(SYS_eventfd2, 0, EFD_CLOEXEC, 0, 0, 0, 0);
		if (efd >= 0) {
			char path[64], text[512];
			snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
			if (emu_os_read_file(path, text, sizeof(text)) > 0) {
				const char *m = strstr(text, "mnt_id:");
				const char *in = strstr(text, "\nino:");
				if (m)
					mnt = atoi(m + 7);
				if (in)
					i = strtoul(in + 5, NULL, 10);
			}
			emu_os_close(efd);
		}
		cached_ino = i;
		__atomic_store_n(&cached_mnt, mnt, __ATOMIC_RELEASE);
	}
	*mnt_id = cached_mnt;
	*ino = cached_ino;
}

/* The caller's close-on-exec flag of its fd ufd (fd: our copy of it). */
static int fd_cloexec(int fd, int ufd)
{
	if (!emu_caller_get()) {
		int fdfl = emu_os_fcntl(fd, F_GETFD, 0);
		return fdfl < 0 ? -1 : (fdfl & FD_CLOEXEC) != 0;
	}
	/* another process's flag: its own fdinfo's flags line has O_CLOEXEC */
	char path[64], text[512];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)emu_caller_tid(), ufd);
	if (emu_os_read_file(path, text, sizeof(text)) <= 0)
		return -1;
	const char *l = strstr(text, "flags:");
	return l && (strtoul(l + 6, NULL, 8) & O_CLOEXEC) != 0;
}

/* 0 or -errno */
static int fdinfo_text(struct sbuf *b, int fd, int ufd)
{
	int fl = emu_os_fcntl(fd, F_GETFL, 0), cloexec = fd_cloexec(fd, ufd), mnt_id;
	unsigned long ino;

	if (fl < 0)
		return fl;
	if (cloexec < 0)
		return -EBADF;
	anon_inode_ids(&mnt_id, &ino);
	unsigned int flags = (unsigned int)(fl & (O_ACCMODE | O_NONBLOCK | O_APPEND)) | (cloexec ? O_CLOEXEC : 0);
	if (sbuf_reserve(b, 8192))
		return -ENOMEM;
	int n = snprintf(b->p, b->cap, "pos:\t0\nflags:\t0%o\nmnt_id:\t%d\nino:\t%lu\n", flags, mnt_id, ino);
	if (n < 0 || (size_t)n >= b->cap)
		return -ENOMEM;
	b->len = (size_t)n;
	int m = emu_fdinfo_format(fd, b->p + b->len, b->cap - b->len);
	if (m > 0)
		b->len += (size_t)m < b->cap - b->len ? (size_t)m : b->cap - b->len - 1;
	return 0;
}

int emu_proc_open(const char *path, int flags)
{
	enum proc_file kind;
	struct sbuf b = { 0 };
	char real[64];
	int num = -1, fd = EMU_PROC_UNHANDLED, saved = errno;

	if (!strncmp(path, "/sys/", 5)) {
		fd = emu_tracefs_open(path, flags);
		if (fd != EMU_PROC_UNHANDLED)
			return fd;
	}
	kind = classify(path, &num);
	if (kind == PROC_BPF_STATS_SYSCTL && !(flags & (O_PATH | O_DIRECTORY))) {
		/* kernel.bpf_stats_enabled, read and written (emu/vm) */
		fd = emu_vm_stats_sysctl_open(flags);
		errno = saved;
		return fd;
	}
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_PATH | O_DIRECTORY)))
		return EMU_PROC_UNHANDLED;
	switch (kind) {
	case PROC_MOUNTS:
	case PROC_MOUNTINFO:
		/* the caller's view: ours when we serve ourselves */
		if (emu_caller_get())
			snprintf(real, sizeof(real), "/proc/%d/%s", (int)emu_caller_tid(),
				 kind == PROC_MOUNTS ? "mounts" : "mountinfo");
		else
			snprintf(real, sizeof(real), "%s", kind == PROC_MOUNTS ? "/proc/self/mounts" : "/proc/self/mountinfo");
		if (sbuf_read_file(&b, real) < 0) {
			/* let the real open report why */
			fd = EMU_PROC_UNHANDLED;
			break;
		}
		size_t room = emu_config()->nmounts * (PATH_MAX * 4 + 128) + 1;
		if (sbuf_reserve(&b, room)) {
			fd = -ENOMEM;
			break;
		}
		b.len += emu_bpffs_mount_lines(b.p + b.len, b.cap - b.len, kind == PROC_MOUNTINFO);
		fd = memfd_with(b.p, b.len, flags);
		break;
	case PROC_CPU_POSSIBLE: {
		/* BPFEMU_CPUS, or a state root made with it: the program sizes
		 * per-CPU values as the engine lays them out */
		char line[32];
		unsigned int n = emu_possible_cpus();
		int len = n > 1 ? snprintf(line, sizeof(line), "0-%u\n", n - 1) : snprintf(line, sizeof(line), "0\n");
		fd = memfd_with(line, (size_t)len, flags);
		break;
	}
	case PROC_FDINFO: {
		int lfd = emu_caller_fd(num);
		if (lfd < 0 || (emu_fd_kind(lfd) == EMU_KIND_NONE && !emu_vm_is_stats_fd(lfd)))
			break;
		fd = fdinfo_text(&b, lfd, num);
		if (fd == 0)
			fd = memfd_with(b.p, b.len, flags);
		break;
	}
	default:
		break;
	}
	free(b.p);
	errno = saved;
	return fd;
}

int emu_proc_obj_fd(const char *path)
{
	int saved = errno, num = -1, r = -1;

	if (classify(path, &num) == PROC_FD) {
		int lfd = emu_caller_fd(num);
		if (lfd >= 0 && emu_fd_kind(lfd) != EMU_KIND_NONE)
			r = num;
	}
	errno = saved;
	return r;
}

const char *emu_proc_fd_link(const char *path)
{
	int saved = errno, num = -1;
	const char *name = NULL;

	if (classify(path, &num) == PROC_FD) {
		int lfd = emu_caller_fd(num);
		if (lfd >= 0)
			name = emu_kind_anon_name(emu_fd_kind(lfd));
		if (lfd >= 0 && !name && emu_vm_is_stats_fd(lfd))
			name = "anon_inode:bpf-stats";
	}
	errno = saved;
	return name;
}
