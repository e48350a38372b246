/* SPDX-License-Identifier: MIT */
/*
 * tests/preload/spy.c: a library preloaded in front of libbpfemu.so that sees
 * every libc call made by name, from the program or from libbpfemu.so (a call
 * by name in a shared library binds to the first definition: this one).
 *
 * The calls through which the program enters the engine (syscall(SYS_bpf),
 * bpfemu_bpf, and the fd and path calls whose wrappers only ask the engine:
 * close, the dup family, fcntl, unlink, readlink, mmap) raise a per-thread
 * depth while they run. Any libc file, descriptor or memory call that
 * arrives here while the depth is raised came from the shim's wrapper or the
 * engine below it, not from the program: it is recorded, and spy_report()
 * prints and counts what was recorded. The engine must make none (it reaches
 * the system through emu/os.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static __thread int depth;
static char seen[64][32];
static int nseen, total;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void *next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		fprintf(stderr, "spy: no next %s\n", name);
		abort();
	}
	return p;
}

static void note(const char *name)
{
	if (depth <= 0)
		return;
	pthread_mutex_lock(&seen_lock);
	total++;
	int i;
	for (i = 0; i < nseen && strcmp(seen[i], name); i++)
		;
	if (i == nseen && nseen < 64)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
	pthread_mutex_unlock(&seen_lock);
}

EXPORT int spy_report(void)
{
	pthread_mutex_lock(&seen_lock);
	int n = total;
	for (int i = 0; i < nseen; i++)
		fprintf(stderr, "spy: %s was called by name from inside the engine\n", seen[i]);
	total = nseen = 0;
	pthread_mutex_unlock(&seen_lock);
	return n;
}

/* Positive control: a call made with the depth raised is seen. */
EXPORT int spy_selftest(void)
{
	depth++;
	close(-1);
	depth--;
	pthread_mutex_lock(&seen_lock);
	int n = total;
	total = nseen = 0;
	pthread_mutex_unlock(&seen_lock);
	return n;
}

#define NEXT(name) ((__typeof__(name) *)next(#name))

/* ---- the entries into the engine (depth raised while they run) ---- */

#define ENTER() do { note(__func__); depth++; } while (0)
#define LEAVE() do { depth--; } while (0)

EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	ENTER();
	long r = NEXT(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	LEAVE();
	return r;
}

EXPORT long bpfemu_bpf(int cmd, void *attr, unsigned int size)
{
	static long (*real)(int, void *, unsigned int);
	if (!real)
		real = (long (*)(int, void *, unsigned int))next("bpfemu_bpf");
	ENTER();
	long r = real(cmd, attr, size);
	LEAVE();
	return r;
}

#define HOOK1(ret, name, params, args)                                                  \
	EXPORT ret name params                                                          \
	{                                                                               \
		ENTER();                                                                \
		ret r = NEXT(name) args;                                                \
		LEAVE();                                                                \
		return r;                                                               \
	}

HOOK1(int, close, (int fd), (fd))
HOOK1(int, dup, (int fd), (fd))
HOOK1(int, dup2, (int a, int b), (a, b))
HOOK1(int, dup3, (int a, int b, int f), (a, b, f))
HOOK1(int, unlink, (const char *p), (p))
HOOK1(int, unlinkat, (int d, const char *p, int f), (d, p, f))
HOOK1(ssize_t, readlink, (const char *p, char *b, size_t n), (p, b, n))
HOOK1(void *, mmap, (void *a, size_t l, int p, int f, int fd, off_t o), (a, l, p, f, fd, o))
HOOK1(void *, mmap64, (void *a, size_t l, int p, int f, int fd, off64_t o), (a, l, p, f, fd, o))

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	ENTER();
	int r = NEXT(fcntl)(fd, cmd, arg);
	LEAVE();
	return r;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	ENTER();
	int r = NEXT(fcntl64)(fd, cmd, arg);
	LEAVE();
	return r;
}

/* ---- what the engine must never call by name ---- */

#define SEE(ret, name, params, args)                                                    \
	EXPORT ret name params                                                          \
	{                                                                               \
		note(#name);                                                            \
		return NEXT(name) args;                                                 \
	}

EXPORT int open(const char *p, int f, ...)
{
	va_list ap;
	va_start(ap, f);
	mode_t m = va_arg(ap, mode_t);
	va_end(ap);
	note("open");
	return NEXT(open)(p, f, m);
}

EXPORT int open64(const char *p, int f, ...)
{
	va_list ap;
	va_start(ap, f);
	mode_t m = va_arg(ap, mode_t);
	va_end(ap);
	note("open64");
	return NEXT(open64)(p, f, m);
}

EXPORT int openat(int d, const char *p, int f, ...)
{
	va_list ap;
	va_start(ap, f);
	mode_t m = va_arg(ap, mode_t);
	va_end(ap);
	note("openat");
	return NEXT(openat)(d, p, f, m);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	note("ioctl");
	return NEXT(ioctl)(fd, req, arg);
}

SEE(FILE *, fopen, (const char *p, const char *m), (p, m))
SEE(FILE *, fopen64, (const char *p, const char *m), (p, m))
SEE(int, fclose, (FILE *f), (f))
SEE(DIR *, opendir, (const char *p), (p))
SEE(DIR *, fdopendir, (int fd), (fd))
SEE(struct dirent *, readdir, (DIR *d), (d))
SEE(struct dirent64 *, readdir64, (DIR *d), (d))
SEE(int, closedir, (DIR *d), (d))
SEE(int, stat, (const char *p, struct stat *s), (p, s))
SEE(int, stat64, (const char *p, struct stat64 *s), (p, s))
SEE(int, lstat, (const char *p, struct stat *s), (p, s))
SEE(int, lstat64, (const char *p, struct stat64 *s), (p, s))
SEE(int, fstat, (int fd, struct stat *s), (fd, s))
SEE(int, fstat64, (int fd, struct stat64 *s), (fd, s))
SEE(int, fstatat, (int d, const char *p, struct stat *s, int f), (d, p, s, f))
SEE(int, fstatat64, (int d, const char *p, struct stat64 *s, int f), (d, p, s, f))
SEE(int, statx, (int d, const char *p, int f, unsigned int m, struct statx *s), (d, p, f, m, s))
SEE(int, statfs, (const char *p, struct statfs *s), (p, s))
SEE(int, fstatfs, (int fd, struct statfs *s), (fd, s))
SEE(int, statvfs, (const char *p, struct statvfs *s), (p, s))
SEE(int, fstatvfs, (int fd, struct statvfs *s), (fd, s))
SEE(ssize_t, readlinkat, (int d, const char *p, char *b, size_t n), (d, p, b, n))
SEE(char *, realpath, (const char *p, char *r), (p, r))
SEE(char *, getcwd, (char *b, size_t n), (b, n))
SEE(int, mkdir, (const char *p, mode_t m), (p, m))
SEE(int, mkdirat, (int d, const char *p, mode_t m), (d, p, m))
SEE(int, rmdir, (const char *p), (p))
SEE(int, rename, (const char *a, const char *b), (a, b))
SEE(int, renameat, (int d, const char *a, int e, const char *b), (d, a, e, b))
SEE(int, link, (const char *a, const char *b), (a, b))
SEE(int, linkat, (int d, const char *a, int e, const char *b, int f), (d, a, e, b, f))
SEE(int, access, (const char *p, int m), (p, m))
SEE(int, faccessat, (int d, const char *p, int m, int f), (d, p, m, f))
SEE(int, chmod, (const char *p, mode_t m), (p, m))
SEE(int, fchmod, (int fd, mode_t m), (fd, m))
SEE(int, fchmodat, (int d, const char *p, mode_t m, int f), (d, p, m, f))
SEE(int, munmap, (void *a, size_t l), (a, l))
SEE(int, madvise, (void *a, size_t l, int adv), (a, l, adv))
SEE(int, ftruncate, (int fd, off_t l), (fd, l))
SEE(int, fallocate, (int fd, int m, off_t o, off_t l), (fd, m, o, l))
SEE(int, posix_fallocate, (int fd, off_t o, off_t l), (fd, o, l))
SEE(ssize_t, pread, (int fd, void *b, size_t n, off_t o), (fd, b, n, o))
SEE(ssize_t, pread64, (int fd, void *b, size_t n, off64_t o), (fd, b, n, o))
SEE(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
SEE(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
SEE(int, sigaction, (int s, const struct sigaction *a, struct sigaction *o), (s, a, o))
SEE(int, mkfifo, (const char *p, mode_t m), (p, m))
SEE(int, flock, (int fd, int op), (fd, op))
SEE(int, memfd_create, (const char *n, unsigned int f), (n, f))
SEE(int, eventfd, (unsigned int v, int f), (v, f))
