/* SPDX-License-Identifier: MIT */
/*
 * emu/os.c: the engine's own door to the system (see os.h): the calls that
 * are more than one instruction, and directory iteration.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
long emu_os_sc6(long nr, long a, long b, long c, long d, long e, long f)
{
	int saved = errno;
	long r = syscall(nr, a, b, c, d, e, f);
	if (r == -1) {
		r = -errno;
	}
	errno = saved;
	return r;
}
#endif

/* ---- random bytes for seeds ----
 *
 * A map's seed must be unpredictable and its own, what get_random_u32()
 * gives the kernel's maps; it need not cost a getrandom() per map (a third
 * of a small map's create). The bytes come from the kernel's generator all
 * the same, 256 at a time into a per-thread batch, each handed out once. A
 * forked child drops what its parent's batch had left: both would otherwise
 * hand out the same seeds.
 */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	unsigned char buf[256];
	unsigned int pos;        /* bytes used: sizeof(buf) when empty */
	unsigned int gen;        /* fork generation the batch belongs to */
} rnd = { .pos = 256 };
static unsigned int rnd_fork_gen;
static pthread_once_t rnd_once = PTHREAD_ONCE_INIT;

static void rnd_atfork_child(void)
{
	__atomic_add_fetch(&rnd_fork_gen, 1, __ATOMIC_RELAXED);
}

static void rnd_init(void)
{
	pthread_atfork(NULL, NULL, rnd_atfork_child);
}

int emu_os_random(void *buf, size_t len)
{
	if (len > 64)
		return -EINVAL;
	pthread_once(&rnd_once, rnd_init);
	unsigned int gen = __atomic_load_n(&rnd_fork_gen, __ATOMIC_RELAXED);
	if (rnd.gen != gen || rnd.pos + len > sizeof(rnd.buf)) {
		long n = EMU_OS_SC(SYS_getrandom, rnd.buf, sizeof(rnd.buf), 0, 0, 0, 0);
		if (n != (long)sizeof(rnd.buf)) {
			rnd.pos = sizeof(rnd.buf);
			return n < 0 ? (int)n : -EAGAIN;
		}
		rnd.pos = 0;
		rnd.gen = gen;
	}
	memcpy(buf, rnd.buf + rnd.pos, len);
	memset(rnd.buf + rnd.pos, 0, len);      /* handed out once */
	rnd.pos += (unsigned int)len;
	return 0;
}

/*
 * Sanitizer builds map and unmap through the runtime's interceptors: TSan
 * keeps a history of every address, and a mapping it never saw placed where
 * an unmapped one was would carry the old one's accesses. Those builds only
 * run tests; everywhere else the calls go to the kernel directly.
 */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define EMU_OS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define EMU_OS_SANITIZED 1
#endif
#endif

#ifdef EMU_OS_SANITIZED
#include <dlfcn.h>
/* The runtime's interceptor by its own name: RTLD_NEXT from a program that
 * links the engine (the CLI, a test) finds a preloaded shim's wrapper first,
 * and the shim's engine would then adopt the program engine's descriptors.
 * Older runtimes name it __interceptor_X, newer ones ___interceptor_X. */
static void *next_sym(const char *name)
{
	static const char *const prefixes[] = { "__interceptor_", "___interceptor_" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		char sym[64];
		if (snprintf(sym, sizeof(sym), "%s%s", prefixes[i], name) >= (int)sizeof(sym))
			continue;
		void *f = dlsym(RTLD_DEFAULT, sym);
		if (f)
			return f;
	}
	return dlsym(RTLD_NEXT, name);
}
#endif

void *emu_os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, int *err)
{
#ifdef EMU_OS_SANITIZED
	static void *(*real)(void *, size_t, int, int, int, off_t);
	void *(*r)(void *, size_t, int, int, int, off_t) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	if (!r) {
		r = (void *(*)(void *, size_t, int, int, int, off_t))next_sym("mmap");
		__atomic_store_n(&real, r, __ATOMIC_RELEASE);
	}
	int saved = errno;
	void *p = r(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED && err)
		*err = -errno;
	errno = saved;
	return p;
#else
	long r = EMU_OS_SC(SYS_mmap, addr, len, prot, flags, fd, off);
	if (r < 0 && r > -4096) {
		if (err)
			*err = (int)r;
		return MAP_FAILED;
	}
	return (void *)r;
#endif
}

int emu_os_munmap(void *addr, size_t len)
{
#ifdef EMU_OS_SANITIZED
	static int (*real)(void *, size_t);
	int (*f)(void *, size_t) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	if (!f) {
		f = (int (*)(void *, size_t))next_sym("munmap");
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	int saved = errno;
	int r = f(addr, len) ? -errno : 0;
	errno = saved;
	return r;
#else
	return (int)EMU_OS_SC(SYS_munmap, addr, len, 0, 0, 0, 0);
#endif
}

int emu_os_getcwd(char *buf, size_t len)
{
	long r = EMU_OS_SC(SYS_getcwd, buf, len, 0, 0, 0, 0);
	if (r < 0)
		return (int)r;
	if (r == 0 || buf[0] != '/')
		return -ENOENT;
	return 0;
}

/* ---- rt_sigaction: the kernel's struct, and a restorer like glibc's ---- */

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;          /* _NSIG / 8 = 8 bytes on x86-64 and aarch64 */
};
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

#if defined(__x86_64__)
/* rt_sigreturn, as glibc's __restore_rt (the kernel requires a restorer here) */
__asm__(".text\n"
	".p2align 4\n"
	".type emu_os_restore_rt, @function\n"
	"emu_os_restore_rt:\n"
	"	mov $15, %rax\n"
	"	syscall\n"
	".size emu_os_restore_rt, .-emu_os_restore_rt\n");
void emu_os_restore_rt(void) __attribute__((visibility("hidden")));
#endif

int emu_os_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct k_sigaction kact, kold;
	memset(&kold, 0, sizeof(kold));
	if (act) {
		memset(&kact, 0, sizeof(kact));
		kact.handler = (act->sa_flags & SA_SIGINFO) ? (void *)act->sa_sigaction : (void *)act->sa_handler;
		kact.flags = (unsigned long)act->sa_flags;
		memcpy(&kact.mask, &act->sa_mask, sizeof(kact.mask));
#if defined(__x86_64__)
		kact.flags |= SA_RESTORER;
		kact.restorer = (void *)emu_os_restore_rt;
#endif
	}
	int r = (int)EMU_OS_SC(SYS_rt_sigaction, sig, act ? &kact : NULL, old ? &kold : NULL, sizeof(kact.mask), 0, 0);
	if (r == 0 && old) {
		memset(old, 0, sizeof(*old));
		if (kold.flags & SA_SIGINFO)
			old->sa_sigaction = (void (*)(int, siginfo_t *, void *))kold.handler;
		else
			old->sa_handler = (void (*)(int))kold.handler;
		old->sa_flags = (int)kold.flags;
		memcpy(&old->sa_mask, &kold.mask, sizeof(kold.mask));
#if defined(__x86_64__)
		old->sa_restorer = (void (*)(void))kold.restorer;
#endif
	}
	return r;
}

/* ---- helpers ---- */

long emu_os_read_file(const char *path, char *buf, size_t len)
{
	if (!len)
		return -EINVAL;
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	size_t n = 0;
	while (n + 1 < len) {
		long r = emu_os_read(fd, buf + n, len - 1 - n);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			emu_os_close(fd);
			return r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	emu_os_close(fd);
	buf[n] = '\0';
	return (long)n;
}

struct emu_os_lines {
	int fd;
	size_t pos, len;
	bool eof;
	char buf[16384];
};

struct emu_os_lines *emu_os_lines_open(const char *path, int *err)
{
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	struct emu_os_lines *f = fd >= 0 ? malloc(sizeof(*f)) : NULL;
	if (!f) {
		if (fd >= 0)
			emu_os_close(fd);
		if (err)
			*err = fd < 0 ? fd : -ENOMEM;
		return NULL;
	}
	f->fd = fd;
	f->pos = f->len = 0;
	f->eof = false;
	return f;
}

char *emu_os_lines_get(char *buf, size_t len, struct emu_os_lines *f)
{
	size_t n = 0;
	if (!len)
		return NULL;
	while (n + 1 < len) {
		if (f->pos == f->len) {
			if (f->eof)
				break;
			long r = emu_os_read(f->fd, f->buf, sizeof(f->buf));
			if (r == -EINTR)
				continue;
			if (r <= 0) {
				f->eof = true;
				break;
			}
			f->pos = 0;
			f->len = (size_t)r;
		}
		char c = f->buf[f->pos++];
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return n ? buf : NULL;
}

void emu_os_lines_close(struct emu_os_lines *f)
{
	if (!f)
		return;
	emu_os_close(f->fd);
	free(f);
}

char *emu_os_slurp(const char *path, size_t *len, int *err)
{
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		if (err)
			*err = fd;
		return NULL;
	}
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			emu_os_close(fd);
			if (err)
				*err = -ENOMEM;
			return NULL;
		}
		if (cap - n < 4097) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				continue;
			}
			buf = nb;
			cap *= 2;
		}
		long r = emu_os_read(fd, buf + n, cap - n - 1);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			emu_os_close(fd);
			free(buf);
			if (err)
				*err = (int)r;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	emu_os_close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/*
 * Through /proc/<pid>/task/<tid>/fd/N rather than /proc/self/fd/N: a door
 * (the seccomp supervisor) shows a program the kernel's view of its
 * /proc/self/fd links (a bpf object fd reads as "anon_inode:bpf-map", a
 * bpffs directory as /sys/fs/bpf), and the engine may run inside a program a
 * door serves. Only when procfs counts pids as we do (/proc/self names our
 * pid: checked again whenever the pid changes, after a fork or in a new pid
 * namespace); /proc/self/fd/N otherwise.
 */
long emu_os_fd_path(int fd, char *buf, size_t len)
{
	static int checked_pid, numeric;
	char link[64];
	int pid = (int)EMU_OS_SC(SYS_getpid, 0, 0, 0, 0, 0, 0);

	if (__atomic_load_n(&checked_pid, __ATOMIC_ACQUIRE) != pid) {
		char self[16];
		long n = emu_os_readlink("/proc/self", self, sizeof(self) - 1);
		int same = 0;
		if (n > 0) {
			self[n] = '\0';
			same = atoi(self) == pid;
		}
		__atomic_store_n(&numeric, same, __ATOMIC_RELAXED);
		__atomic_store_n(&checked_pid, pid, __ATOMIC_RELEASE);
	}
	if (__atomic_load_n(&numeric, __ATOMIC_RELAXED))
		snprintf(link, sizeof(link), "/proc/%d/task/%d/fd/%d", pid, emu_os_gettid(), fd);
	else
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	return emu_os_readlink(link, buf, len);
}

int emu_os_realpath(const char *path, char out[4096])
{
	int fd = emu_os_open(path, O_PATH | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	long n = emu_os_fd_path(fd, out, 4095);
	emu_os_close(fd);
	if (n < 0)
		return (int)n;
	if (n >= 4095)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return out[0] == '/' ? 0 : -ENOENT;
}

/* ---- directories ---- */

struct linux_dirent64 {
	ino_t d_ino;
	off_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct emu_os_dir {
	int fd;
	size_t pos, len;
	struct emu_os_dirent ent;
	char buf[16384] __attribute__((aligned(8)));
};

static struct emu_os_dir *dir_spare;

struct emu_os_dir *emu_os_opendirat(int dirfd, const char *path, int *err)
{
	int fd = emu_os_openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		if (err)
			*err = fd;
		return NULL;
	}
	/* the last one closed, if no one took it: an id scan reads a few
	 * directories one after the other (no malloc and free of 16 KiB each,
	 * and after a fork no heap pages written anew) */
	struct emu_os_dir *d = __atomic_exchange_n(&dir_spare, NULL, __ATOMIC_ACQUIRE);
	if (!d)
		d = malloc(sizeof(*d));
	if (!d) {
		emu_os_close(fd);
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	d->fd = fd;
	d->pos = d->len = 0;
	return d;
}

struct emu_os_dir *emu_os_opendir(const char *path, int *err)
{
	return emu_os_opendirat(AT_FDCWD, path, err);
}

const struct emu_os_dirent *emu_os_readdir(struct emu_os_dir *d)
{
	if (d->pos >= d->len) {
		long n = EMU_OS_SC(SYS_getdents64, d->fd, d->buf, sizeof(d->buf), 0, 0, 0);
		if (n <= 0)
			return NULL;
		d->len = (size_t)n;
		d->pos = 0;
	}
	const struct linux_dirent64 *e = (const struct linux_dirent64 *)(d->buf + d->pos);
	d->pos += e->d_reclen;
	d->ent.ino = e->d_ino;
	d->ent.type = e->d_type;
	d->ent.name = e->d_name;
	return &d->ent;
}

int emu_os_dirfd(const struct emu_os_dir *d)
{
	return d->fd;
}

void emu_os_closedir(struct emu_os_dir *d)
{
	if (!d)
		return;
	emu_os_close(d->fd);
	struct emu_os_dir *none = NULL;
	if (!__atomic_compare_exchange_n(&dir_spare, &none, d, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		free(d);
}
