/* SPDX-License-Identifier: MIT */
/*
 * emu/os.h: the engine's own door to the system.
 *
 * The engine's file, descriptor and memory work goes straight to the kernel
 * through these calls, never through libc's exported functions: linked into
 * libbpfemu.so, a call to close() or open() would reach the shim's wrappers
 * (meant for the program's calls), and the program's fd bookkeeping would see
 * the engine's internal descriptors. Each call is one system call (or a few,
 * for the helpers at the end) and returns >= 0 or -errno; none touches errno.
 *
 * x86-64 and aarch64 issue the instruction themselves; other architectures go
 * through libc's syscall(), which a shim linked in front may see.
 */
#ifndef BPFEMU_OS_H
#define BPFEMU_OS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#if defined(__x86_64__)
static inline long emu_os_sc6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long emu_os_sc6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
long emu_os_sc6(long nr, long a, long b, long c, long d, long e, long f);
#endif

#define EMU_OS_SC(nr, a, b, c, d, e, f) \
	emu_os_sc6((long)(nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* ---- descriptors ---- */
static inline int emu_os_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)EMU_OS_SC(SYS_openat, dirfd, path, flags | O_LARGEFILE, mode, 0, 0);
}
/* openat2(2) refusing every symlink on the way (RESOLVE_NO_SYMLINKS):
 * -ELOOP at one; -ENOSYS before Linux 5.6 */
static inline int emu_os_open_nosymlinks(int dirfd, const char *path, int flags)
{
	struct {
		uint64_t flags, mode, resolve;
	} how = { (uint64_t)(unsigned int)(flags | O_LARGEFILE), 0, 0x04 /* RESOLVE_NO_SYMLINKS */ };
#ifdef SYS_openat2
	return (int)EMU_OS_SC(SYS_openat2, dirfd, path, &how, sizeof(how), 0, 0);
#else
	(void)how;
	(void)dirfd;
	(void)path;
	return -ENOSYS;
#endif
}
static inline int emu_os_open(const char *path, int flags, mode_t mode)
{
	return emu_os_openat(AT_FDCWD, path, flags, mode);
}
static inline int emu_os_close(int fd)
{
	return (int)EMU_OS_SC(SYS_close, fd, 0, 0, 0, 0, 0);
}
static inline int emu_os_fcntl(int fd, int cmd, long arg)
{
	return (int)EMU_OS_SC(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
}
static inline int emu_os_dup3(int oldfd, int newfd, int flags)
{
	return (int)EMU_OS_SC(SYS_dup3, oldfd, newfd, flags, 0, 0, 0);
}
static inline int emu_os_dup_cloexec(int fd)
{
	return emu_os_fcntl(fd, F_DUPFD_CLOEXEC, 0);
}
static inline long emu_os_read(int fd, void *buf, size_t len)
{
	return EMU_OS_SC(SYS_read, fd, buf, len, 0, 0, 0);
}
static inline long emu_os_write(int fd, const void *buf, size_t len)
{
	return EMU_OS_SC(SYS_write, fd, buf, len, 0, 0, 0);
}
static inline long emu_os_pread(int fd, void *buf, size_t len, off_t off)
{
	return EMU_OS_SC(SYS_pread64, fd, buf, len, off, 0, 0);
}
static inline int emu_os_ftruncate(int fd, off_t len)
{
	return (int)EMU_OS_SC(SYS_ftruncate, fd, len, 0, 0, 0, 0);
}
static inline int emu_os_fallocate(int fd, int mode, off_t off, off_t len)
{
	return (int)EMU_OS_SC(SYS_fallocate, fd, mode, off, len, 0, 0);
}
static inline int emu_os_flock(int fd, int op)
{
	return (int)EMU_OS_SC(SYS_flock, fd, op, 0, 0, 0, 0);
}
static inline int emu_os_fchmod(int fd, mode_t mode)
{
	return (int)EMU_OS_SC(SYS_fchmod, fd, mode, 0, 0, 0, 0);
}
static inline int emu_os_ioctl(int fd, unsigned long req, long arg)
{
	return (int)EMU_OS_SC(SYS_ioctl, fd, req, arg, 0, 0, 0);
}
static inline int emu_os_memfd_create(const char *name, unsigned int flags)
{
	return (int)EMU_OS_SC(SYS_memfd_create, name, flags, 0, 0, 0, 0);
}

/* ---- metadata ---- */
static inline int emu_os_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)EMU_OS_SC(SYS_newfstatat, dirfd, path, st, flags, 0, 0);
}
static inline int emu_os_fstat(int fd, struct stat *st)
{
	return emu_os_fstatat(fd, "", st, AT_EMPTY_PATH);
}
static inline int emu_os_stat(const char *path, struct stat *st)
{
	return emu_os_fstatat(AT_FDCWD, path, st, 0);
}
static inline int emu_os_lstat(const char *path, struct stat *st)
{
	return emu_os_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
static inline int emu_os_fstatfs(int fd, struct statfs *st)
{
	return (int)EMU_OS_SC(SYS_fstatfs, fd, st, 0, 0, 0, 0);
}
static inline int emu_os_statfs(const char *path, struct statfs *st)
{
	return (int)EMU_OS_SC(SYS_statfs, path, st, 0, 0, 0, 0);
}
static inline int emu_os_faccessat(int dirfd, const char *path, int mode)
{
	return (int)EMU_OS_SC(SYS_faccessat, dirfd, path, mode, 0, 0, 0);
}
/* readlinkat: the length (no NUL added) or -errno */
static inline long emu_os_readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	return EMU_OS_SC(SYS_readlinkat, dirfd, path, buf, len, 0, 0);
}
static inline long emu_os_readlink(const char *path, char *buf, size_t len)
{
	return emu_os_readlinkat(AT_FDCWD, path, buf, len);
}

/* ---- names ---- */
static inline int emu_os_mkdirat(int dirfd, const char *path, mode_t mode)
{
	return (int)EMU_OS_SC(SYS_mkdirat, dirfd, path, mode, 0, 0, 0);
}
static inline int emu_os_mkdir(const char *path, mode_t mode)
{
	return emu_os_mkdirat(AT_FDCWD, path, mode);
}
static inline int emu_os_mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	return (int)EMU_OS_SC(SYS_mknodat, dirfd, path, mode, dev, 0, 0);
}
static inline int emu_os_symlinkat(const char *target, int dirfd, const char *path)
{
	return (int)EMU_OS_SC(SYS_symlinkat, target, dirfd, path, 0, 0, 0);
}
static inline int emu_os_unlinkat(int dirfd, const char *path, int flags)
{
	return (int)EMU_OS_SC(SYS_unlinkat, dirfd, path, flags, 0, 0, 0);
}
static inline int emu_os_linkat(int olddir, const char *oldp, int newdir, const char *newp, int flags)
{
	return (int)EMU_OS_SC(SYS_linkat, olddir, oldp, newdir, newp, flags, 0);
}
static inline int emu_os_renameat(int olddir, const char *oldp, int newdir, const char *newp)
{
	return (int)EMU_OS_SC(SYS_renameat2, olddir, oldp, newdir, newp, 0, 0);
}
static inline int emu_os_fchmodat(int dirfd, const char *path, mode_t mode)
{
	return (int)EMU_OS_SC(SYS_fchmodat, dirfd, path, mode, 0, 0, 0);
}
/* getcwd: 0 or -errno (ENOENT for a removed cwd, ERANGE if it does not fit);
 * a path that does not start with '/' (unreachable) is -ENOENT */
int emu_os_getcwd(char *buf, size_t len);

/* ---- memory ---- */
/* mmap: the address, or MAP_FAILED with *err = -errno (err may be NULL) */
void *emu_os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, int *err);
int emu_os_munmap(void *addr, size_t len);
static inline int emu_os_madvise(void *addr, size_t len, int advice)
{
	return (int)EMU_OS_SC(SYS_madvise, addr, len, advice, 0, 0, 0);
}
static inline long emu_os_process_vm(bool write, const struct iovec *local, const struct iovec *remote)
{
	return EMU_OS_SC(write ? SYS_process_vm_writev : SYS_process_vm_readv, EMU_OS_SC(SYS_getpid, 0, 0, 0, 0, 0, 0),
			 local, 1, remote, 1, 0);
}
static inline int emu_os_membarrier(int cmd, unsigned int flags)
{
	return (int)EMU_OS_SC(SYS_membarrier, cmd, flags, 0, 0, 0, 0);
}
static inline int emu_os_gettid(void)
{
	return (int)EMU_OS_SC(SYS_gettid, 0, 0, 0, 0, 0, 0);
}

/* ---- signals (the fault handler of emu/uaccess.c) ---- */
struct sigaction;
/* rt_sigaction with the restorer glibc would supply: 0 or -errno */
int emu_os_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* ---- helpers built on the calls above ---- */
/* Reads up to len - 1 bytes of a (small, /proc or /sys) file and adds a NUL:
 * the length, or -errno. */
long emu_os_read_file(const char *path, char *buf, size_t len);
/* The whole of a file of any size (a /proc file reads as it goes), NUL-terminated,
 * malloc'ed: free() it. NULL with *err = -errno. */
char *emu_os_slurp(const char *path, size_t *len, int *err);
/* len (at most 64) random bytes for an object's seed (a hash's, a bloom
 * filter's): 0, or -errno when the kernel has none to give. Taken from a
 * per-thread batch that one getrandom() fills, as the kernel's
 * get_random_u32() hands out a per-CPU batch of its generator's output. */
int emu_os_random(void *buf, size_t len);
/* Reading a text file line by line (no FILE, no libc descriptor). */
struct emu_os_lines;
/* NULL with *err = -errno (err may be NULL) */
struct emu_os_lines *emu_os_lines_open(const char *path, int *err);
/* As fgets(3): the next line (with its newline, cut to len - 1 bytes: the
 * rest comes with the next call) in buf, NULL at the end or on an error. */
char *emu_os_lines_get(char *buf, size_t len, struct emu_os_lines *f);
void emu_os_lines_close(struct emu_os_lines *f);
/* The canonical form of an existing path (symlinks, "." and ".." resolved),
 * as realpath(3): 0 or -errno. Through /proc/self/fd of an O_PATH fd. */
int emu_os_realpath(const char *path, char out[4096]);
/* The path an fd was opened as (readlink of /proc/self/fd/N): length or -errno. */
long emu_os_fd_path(int fd, char *buf, size_t len);

/* Directory iteration with getdents64 (no DIR, no libc descriptor). */
struct emu_os_dir;
struct emu_os_dirent {
	ino_t ino;
	unsigned char type;            /* DT_* */
	const char *name;
};
/* Opens path (or, with fdopen, takes over fd): NULL with *err set on failure. */
struct emu_os_dir *emu_os_opendir(const char *path, int *err);
struct emu_os_dir *emu_os_opendirat(int dirfd, const char *path, int *err);
/* The next entry ("." and ".." included), NULL at the end or on an error. */
const struct emu_os_dirent *emu_os_readdir(struct emu_os_dir *d);
int emu_os_dirfd(const struct emu_os_dir *d);
void emu_os_closedir(struct emu_os_dir *d);

#endif
