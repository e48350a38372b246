/* SPDX-License-Identifier: MIT */
/*
 * preload/fs.c: libc calls that take a path. One template per family; the
 * variants are listed once in fs_list.h.
 *
 * Each wrapper forwards straight to the real function while shim_busy (the
 * engine's own calls), else translates its path(s) into a stack buffer with
 * emu_bpffs_translate() and calls the real function on the result. The
 * wrappers that hand a path back (getcwd, realpath, readlink) untranslate it.
 */

/* Header traps (STYLE 3.2): fortify turns open() and friends into inline
 * wrappers, and _FILE_OFFSET_BITS=64 or _TIME_BITS=64 redirect stat to
 * stat64 through __REDIRECT, so defining "stat" would define "stat64". */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#undef _TIME_BITS

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "emu.h"
#include "perf.h"
#include "procfs.h"
#include "real.h"

/* No longer declared since glibc 2.33, still called by older binaries. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *buf);
int __lxstat(int ver, const char *path, struct stat *buf);
int __xstat64(int ver, const char *path, struct stat64 *buf);
int __fxstat(int ver, int fd, struct stat *buf);
int __fxstat64(int ver, int fd, struct stat64 *buf);
int __lxstat64(int ver, const char *path, struct stat64 *buf);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *buf, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *buf, int flags);

#define BPF_FS_MAGIC 0xcafe4a11
#define ANON_INODE_FS_MAGIC 0x09041934
#define UNHANDLED SHIM_UNHANDLED

/*
 * Translates path for a wrapper. Returns NULL with errno set if it cannot be
 * walked (ENAMETOOLONG, or ENOENT/ENOTDIR for a bad component before a ".."
 * inside bpffs); otherwise errno is left as it was. *bpffs (if
 * given) says whether the result lies in the fake bpffs.
 */
/* A relative path the translator left alone may still name something in the
 * fake bpffs, through a base directory inside it. */
static bool rel_bpffs(int dirfd, const char *path, const char *t, dev_t dev)
{
	if (t != path)
		return false;
	int saved = errno;
	SHIM_ENTER();
	bool r = emu_bpffs_rel_contains(dirfd, path, dev);
	SHIM_LEAVE();
	errno = saved;
	return r;
}

static const char *tr(int dirfd, const char *path, char *buf, bool *bpffs)
{
	int saved = errno;
	const char *t;

	if (bpffs)
		*bpffs = false;
	if (!path)
		return path;
	SHIM_ENTER();
	errno = ENAMETOOLONG;
	t = emu_bpffs_translate(dirfd, path, buf);
	int err = errno;
	if (t && bpffs && t != path)
		*bpffs = emu_bpffs_contains(t);
	SHIM_LEAVE();
	errno = t ? saved : err;
	return t;
}

/* Is t (translated, relative to dirfd) maps.debug or progs.debug in the
 * fake bpffs root? Those are real empty 0400 files there, which the kernel
 * shows as root's, cannot open (ENOENT), unlink, rename or link (EPERM). */
static bool debug_entry(int dirfd, const char *t)
{
	if (!t)
		return false;
	int saved = errno;
	SHIM_ENTER();
	bool r = emu_bpffs_debug_entry(dirfd, t);
	SHIM_LEAVE();
	errno = saved;
	return r;
}

/*
 * bpf_preload's entries are root's 0400 files on the kernel: for anyone but
 * root, open is EACCES (before the kernel's ENOENT for root, which no
 * iterator answers here), chmod and chown EPERM, access for anything but
 * existence EACCES, setting times EPERM (explicit) or EACCES (now).
 */
static bool debug_denied(int dirfd, const char *t)
{
	return geteuid() != 0 && debug_entry(dirfd, t);
}

static int debug_open_errno(int flags)
{
	return emu_bpffs_debug_open_errno(flags);
}

/* ---- open ---- */

/* bpffs's answers to open() (emu/vfs.c): -1 with errno, or UNHANDLED. */
static int bpffs_open_check(const char *t, int flags)
{
	int saved = errno;
	SHIM_ENTER();
	int err = emu_bpffs_open_check(t, flags);
	SHIM_LEAVE();
	if (err) {
		errno = -err;
		return -1;
	}
	errno = saved;
	return UNHANDLED;
}

/*
 * Shared front of every open-like wrapper. Returns a file descriptor for a
 * /proc view the shim makes up, -1 with errno set, or UNHANDLED with *path
 * updated to the translated path for the real call.
 */
static int open_prepare(int dirfd, const char **path, int flags, char *buf)
{
	const char *p = *path;
	bool bpffs;

	if (!p)
		return UNHANDLED;
	if (p[0] == '/' && (!strncmp(p, "/proc/", 6) || !strncmp(p, "/etc/", 5))) {
		int fd = shim_proc_open(p, flags);
		if (fd != UNHANDLED)
			return fd;
	}
	if (!strncmp(p, "/sys/", 5)) {
		int fd = shim_proc_open(p, flags);
		if (fd != UNHANDLED)
			return fd;
		fd = shim_perf_open(p, flags);
		if (fd != UNHANDLED)
			return fd;
	}
	const char *t = tr(dirfd, p, buf, &bpffs);
	if (!t)
		return -1;
	*path = t;
	if (!bpffs && t[0] != '/' && (flags & O_PATH) == 0 && debug_entry(dirfd, t)) {
		errno = debug_open_errno(flags);
		return -1;
	}
	return bpffs ? bpffs_open_check(t, flags) : UNHANDLED;
}

static int fopen_flags(const char *mode)
{
	int flags = 0;

	switch (mode ? mode[0] : 'r') {
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	}
	for (const char *m = mode ? mode + 1 : ""; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'x')
			flags |= O_EXCL;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

#define OPEN_NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE)

#define WRAP_OPEN(name)                                                                 \
	SHIM_EXPORT int name(const char *path, int flags, ...)                          \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		mode_t mode = 0;                                                        \
		if (OPEN_NEEDS_MODE(flags)) {                                           \
			va_list ap;                                                     \
			va_start(ap, flags);                                            \
			mode = va_arg(ap, mode_t);                                      \
			va_end(ap);                                                     \
		}                                                                       \
		if (!shim_busy) {                                                       \
			int r_ = open_prepare(AT_FDCWD, &path, flags, buf_);            \
			if (r_ != UNHANDLED)                                            \
				return r_;                                              \
		}                                                                       \
		return REAL(name)(path, flags, mode);                                   \
	}

#define WRAP_OPEN2(name)                                                                \
	SHIM_EXPORT int name(const char *path, int flags)                               \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		if (!shim_busy) {                                                       \
			int r_ = open_prepare(AT_FDCWD, &path, flags, buf_);            \
			if (r_ != UNHANDLED)                                            \
				return r_;                                              \
		}                                                                       \
		return REAL(name)(path, flags);                                         \
	}

#define WRAP_OPENAT(name)                                                               \
	SHIM_EXPORT int name(int dirfd, const char *path, int flags, ...)               \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		mode_t mode = 0;                                                        \
		if (OPEN_NEEDS_MODE(flags)) {                                           \
			va_list ap;                                                     \
			va_start(ap, flags);                                            \
			mode = va_arg(ap, mode_t);                                      \
			va_end(ap);                                                     \
		}                                                                       \
		if (!shim_busy) {                                                       \
			int r_ = open_prepare(dirfd, &path, flags, buf_);               \
			if (r_ != UNHANDLED)                                            \
				return r_;                                              \
		}                                                                       \
		return REAL(name)(dirfd, path, flags, mode);                            \
	}

#define WRAP_OPENAT2(name)                                                              \
	SHIM_EXPORT int name(int dirfd, const char *path, int flags)                    \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		if (!shim_busy) {                                                       \
			int r_ = open_prepare(dirfd, &path, flags, buf_);               \
			if (r_ != UNHANDLED)                                            \
				return r_;                                              \
		}                                                                       \
		return REAL(name)(dirfd, path, flags);                                  \
	}

#define WRAP_CREAT(name)                                                                \
	SHIM_EXPORT int name(const char *path, mode_t mode)                             \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		if (!shim_busy) {                                                       \
			int r_ = open_prepare(AT_FDCWD, &path,                          \
					      O_WRONLY | O_CREAT | O_TRUNC, buf_);      \
			if (r_ != UNHANDLED)                                            \
				return r_;                                              \
		}                                                                       \
		return REAL(name)(path, mode);                                          \
	}

static FILE *fdopen_or_close(int fd, const char *mode)
{
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, mode);
	if (!f) {
		int err = errno;
		REAL(close)(fd);
		errno = err;
	}
	return f;
}

#define WRAP_FOPEN(name)                                                                \
	SHIM_EXPORT FILE *name(const char *path, const char *mode)                      \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		if (!shim_busy) {                                                       \
			int r_ = open_prepare(AT_FDCWD, &path, fopen_flags(mode), buf_);\
			if (r_ != UNHANDLED)                                            \
				return fdopen_or_close(r_, mode);                       \
		}                                                                       \
		return REAL(name)(path, mode);                                          \
	}

/* freopen(NULL, mode, f) changes the mode of the same file: no path. The
 * made-up /proc views are not offered here. */
#define WRAP_FREOPEN(name)                                                              \
	SHIM_EXPORT FILE *name(const char *path, const char *mode, FILE *stream)        \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		if (!shim_busy && path) {                                               \
			path = tr(AT_FDCWD, path, buf_, &bpffs_);                       \
			if (!path || (bpffs_ && bpffs_open_check(path, fopen_flags(mode)) \
					       != UNHANDLED)) {                         \
				int e_ = errno;                                         \
				fclose(stream);                                         \
				errno = e_;                                             \
				return NULL;                                            \
			}                                                               \
		}                                                                       \
		return REAL(name)(path, mode, stream);                                  \
	}

/* ---- stat ---- */

/* A pin reads as an empty regular file and a directory as an empty one, as
 * on bpffs (the object's storage behind a pin is the engine's business); a
 * pin is one name of its own (here pins of one object are links of one
 * file). */
#define PATCH_PIN_STAT(st)                                                              \
	do {                                                                            \
		if (S_ISREG((st)->st_mode) || S_ISDIR((st)->st_mode)) {                 \
			(st)->st_size = 0;                                              \
			(st)->st_blocks = 0;                                            \
		}                                                                       \
		if (S_ISREG((st)->st_mode))                                             \
			(st)->st_nlink = 1;                                             \
	} while (0)
/* maps.debug and progs.debug are root's on the kernel, whoever mounted it */
#define PATCH_DEBUG_OWNER(st, dirfd, t)                                                 \
	do {                                                                            \
		if (S_ISREG((st)->st_mode) && debug_entry(dirfd, t))                    \
			(st)->st_uid = (st)->st_gid = 0;                                \
	} while (0)

/* A bpf object fd is an anonymous inode on the kernel (mode 0600, no file
 * type, root's, size 0, shared by every such fd): fstat of it, and stat of
 * /proc/self/fd/N through the link, show that inode. struct stat64 is struct
 * stat on the 64-bit targets. */
_Static_assert(sizeof(struct stat64) == sizeof(struct stat), "stat64 is stat");
#define PATCH_OBJ_STAT(st)                                                              \
	do {                                                                            \
		struct stat a_;                                                         \
		if (!shim_anon_stat(&a_, NULL, NULL))                                   \
			memcpy((st), &a_, sizeof(a_));                                  \
	} while (0)
/* Is the object fd that the stat call named (fd-based: AT_EMPTY_PATH with
 * "", or a /proc/self/fd/N path followed) a bpf object? */
static bool names_obj(int dirfd, const char *path, int flags)
{
	if (path && !path[0] && (flags & AT_EMPTY_PATH))
		return shim_fd_is_obj(dirfd);
	if (!path || (flags & AT_SYMLINK_NOFOLLOW) || path[0] != '/')
		return false;
	return shim_proc_obj_fd(path) >= 0;
}

#define WRAP_STAT(name, type, follow)                                                   \
	SHIM_EXPORT int name(const char *path, struct type *st)                         \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		if (shim_busy)                                                          \
			return REAL(name)(path, st);                                    \
		const char *t_ = tr(AT_FDCWD, path, buf_, &bpffs_);                     \
		if (!t_)                                                                \
			return -1;                                                      \
		int r_ = REAL(name)(t_, st);                                            \
		if (r_ == 0 && (bpffs_ || rel_bpffs(AT_FDCWD, path, t_, (st)->st_dev)))  \
			PATCH_PIN_STAT(st);                                             \
		if (r_ == 0)                                                            \
			PATCH_DEBUG_OWNER(st, AT_FDCWD, t_);                            \
		if (r_ == 0 && (follow) && names_obj(AT_FDCWD, path, 0))                \
			PATCH_OBJ_STAT(st);                                             \
		return r_;                                                              \
	}

#define WRAP_FSTATAT(name, type)                                                        \
	SHIM_EXPORT int name(int dirfd, const char *path, struct type *st, int flags)   \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		if (shim_busy)                                                          \
			return REAL(name)(dirfd, path, st, flags);                      \
		const char *t_ = tr(dirfd, path, buf_, &bpffs_);                        \
		if (!t_)                                                                \
			return -1;                                                      \
		int r_ = REAL(name)(dirfd, t_, st, flags);                              \
		if (r_ == 0 && (bpffs_ || rel_bpffs(dirfd, path, t_, (st)->st_dev)))    \
			PATCH_PIN_STAT(st);                                             \
		if (r_ == 0 && t_[0])                                                   \
			PATCH_DEBUG_OWNER(st, dirfd, t_);                               \
		if (r_ == 0 && names_obj(dirfd, path, flags))                           \
			PATCH_OBJ_STAT(st);                                             \
		return r_;                                                              \
	}

#define WRAP_FSTAT(name, type)                                                          \
	SHIM_EXPORT int name(int fd, struct type *st)                                   \
	{                                                                               \
		int r_ = REAL(name)(fd, st);                                            \
		if (r_ == 0 && !shim_busy && shim_fd_is_obj(fd))                        \
			PATCH_OBJ_STAT(st);                                             \
		return r_;                                                              \
	}

/*
 * The versioned entry points of glibc < 2.33. On x86_64 and aarch64 every
 * version number they accept fills the same struct stat that stat() does, so
 * they go through the plain wrappers (glibc >= 2.33 only exports them as
 * compat symbols, which dlsym(RTLD_NEXT) does not return).
 */
#define WRAP_VERSTAT(name, plain, type)                                                 \
	SHIM_EXPORT int name(int ver, const char *path, struct type *st)                \
	{                                                                               \
		(void)ver;                                                              \
		return plain(path, st);                                                 \
	}

#define WRAP_VERFSTAT(name, plain, type)                                                \
	SHIM_EXPORT int name(int ver, int fd, struct type *st)                          \
	{                                                                               \
		(void)ver;                                                              \
		return plain(fd, st);                                                   \
	}

#define WRAP_FXSTATAT(name, plain, type)                                                \
	SHIM_EXPORT int name(int ver, int dirfd, const char *path, struct type *st,     \
			     int flags)                                                 \
	{                                                                               \
		(void)ver;                                                              \
		return plain(dirfd, path, st, flags);                                   \
	}

/* ---- statfs: the kernel's simple_statfs() for bpffs and anon inodes ---- */

#define PATCH_STATFS(s, magic)                                                          \
	do {                                                                            \
		(s)->f_type = (magic);                                                  \
		(s)->f_bsize = 4096;                                                    \
		(s)->f_frsize = 4096;                                                   \
		(s)->f_blocks = (s)->f_bfree = (s)->f_bavail = 0;                       \
		(s)->f_files = (s)->f_ffree = 0;                                        \
		(s)->f_namelen = 255;                                                   \
		(s)->f_flags = ST_VALID | ST_RELATIME;                                  \
	} while (0)

#define PATCH_STATVFS(s)                                                                \
	do {                                                                            \
		(s)->f_bsize = 4096;                                                    \
		(s)->f_frsize = 4096;                                                   \
		(s)->f_blocks = (s)->f_bfree = (s)->f_bavail = 0;                       \
		(s)->f_files = (s)->f_ffree = (s)->f_favail = 0;                        \
		(s)->f_namemax = 255;                                                   \
		(s)->f_flag = ST_RELATIME;                                              \
	} while (0)

#ifndef ST_VALID
#define ST_VALID 0x0020
#endif

static bool tracefs_dir(const char *path)
{
	int saved = errno;
	SHIM_ENTER();
	bool r = emu_tracefs_dir(path);
	SHIM_LEAVE();
	errno = saved;
	return r;
}

/* 0: not ours; BPF_FS_MAGIC or ANON_INODE_FS_MAGIC: patch. */
static unsigned long fd_fs_magic(int fd)
{
	unsigned long magic = 0;
	int saved = errno;

	SHIM_ENTER();
	if (emu_fd_kind(fd) != EMU_KIND_NONE)
		magic = ANON_INODE_FS_MAGIC;
	else if (emu_bpffs_fd_contains(fd))
		magic = BPF_FS_MAGIC;
	SHIM_LEAVE();
	errno = saved;
	return magic;
}

#define WRAP_STATFS(name, type)                                                         \
	SHIM_EXPORT int name(const char *path, struct type *s)                          \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		if (shim_busy)                                                          \
			return REAL(name)(path, s);                                     \
		const char *t_ = tr(AT_FDCWD, path, buf_, &bpffs_);                     \
		if (!t_)                                                                \
			return -1;                                                      \
		int r_ = REAL(name)(t_, s);                                             \
		if (r_ == 0 && bpffs_)                                                  \
			PATCH_STATFS(s, BPF_FS_MAGIC);                                  \
		else if (r_ == 0 && shim_proc_obj_fd(path) >= 0)                        \
			PATCH_STATFS(s, ANON_INODE_FS_MAGIC);                           \
		if (!bpffs_ && tracefs_dir(path)) {                                     \
			/* the engine's tracefs views (emu/tracefs.c) */                \
			if (r_)                                                         \
				memset(s, 0, sizeof(*s));                               \
			PATCH_STATFS(s, EMU_TRACEFS_MAGIC);                             \
			r_ = 0;                                                         \
		}                                                                       \
		return r_;                                                              \
	}

#define WRAP_FSTATFS(name, type)                                                        \
	SHIM_EXPORT int name(int fd, struct type *s)                                    \
	{                                                                               \
		int r_ = REAL(name)(fd, s);                                             \
		unsigned long magic_;                                                   \
		if (r_ == 0 && !shim_busy && (magic_ = fd_fs_magic(fd)))                \
			PATCH_STATFS(s, magic_);                                        \
		return r_;                                                              \
	}

#define WRAP_STATVFS(name, type)                                                        \
	SHIM_EXPORT int name(const char *path, struct type *s)                          \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		if (shim_busy)                                                          \
			return REAL(name)(path, s);                                     \
		const char *t_ = tr(AT_FDCWD, path, buf_, &bpffs_);                     \
		if (!t_)                                                                \
			return -1;                                                      \
		int r_ = REAL(name)(t_, s);                                             \
		if (r_ == 0 && (bpffs_ || shim_proc_obj_fd(path) >= 0))                 \
			PATCH_STATVFS(s);                                               \
		return r_;                                                              \
	}

#define WRAP_FSTATVFS(name, type)                                                       \
	SHIM_EXPORT int name(int fd, struct type *s)                                    \
	{                                                                               \
		int r_ = REAL(name)(fd, s);                                             \
		if (r_ == 0 && !shim_busy && fd_fs_magic(fd))                           \
			PATCH_STATVFS(s);                                               \
		return r_;                                                              \
	}

/* ---- everything else that takes one or two paths ---- */

/* One path p (relative to dirfd): the nested block's p shadows the
 * parameter, so args names the translated path. */
#define WRAP_PATH(ret, name, fail, params, args, dirfd, p)                              \
	SHIM_EXPORT ret name params                                                     \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		if (shim_busy)                                                          \
			return REAL(name) args;                                         \
		const char *t_ = tr(dirfd, p, buf_, NULL);                              \
		if (!t_)                                                                \
			return fail;                                                    \
		{                                                                       \
			const char *p = t_;                                             \
			return REAL(name) args;                                         \
		}                                                                       \
	}

/* The same, refusing a caller other than root on maps.debug/progs.debug with
 * the errno deny (an expression of the parameters, 0 to let it through). */
#define WRAP_PATH_DEBUG(ret, name, fail, params, args, dirfd, p, deny)                  \
	SHIM_EXPORT ret name params                                                     \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		if (shim_busy)                                                          \
			return REAL(name) args;                                         \
		const char *t_ = tr(dirfd, p, buf_, NULL);                              \
		if (!t_)                                                                \
			return fail;                                                    \
		int deny_ = (deny);                                                     \
		if (deny_ && debug_denied(dirfd, t_)) {                                 \
			errno = deny_;                                                  \
			return fail;                                                    \
		}                                                                       \
		{                                                                       \
			const char *p = t_;                                             \
			return REAL(name) args;                                         \
		}                                                                       \
	}

/* tr() leaves a relative path without ".." alone, so it says "not in bpffs"
 * for "name" relative to a bpffs directory: ask where the base is. */
static bool refine_in_bpffs(int dirfd, const char *t, bool in)
{
	char cwd[PATH_MAX];
	bool r = in;
	int saved = errno;

	if (in || !t || t[0] == '/')
		return in;
	SHIM_ENTER();
	if (dirfd != AT_FDCWD)
		r = emu_bpffs_fd_contains(dirfd);
	else if (getcwd(cwd, sizeof(cwd)))
		r = emu_bpffs_contains(cwd);
	SHIM_LEAVE();
	errno = saved;
	return r;
}

/* unlink of a pin: the engine first keeps a limbo link of an object's last
 * name, so the same fd can be pinned again (emu_unpin_prepare). */
static int unlink_common(int dirfd, const char *path, int flags)
{
	char buf[PATH_MAX];
	bool in = false;
	const char *t = tr(dirfd, path, buf, &in);
	if (!t)
		return -1;
	if (!(flags & AT_REMOVEDIR) && debug_entry(dirfd, t)) {
		errno = EPERM;
		return -1;
	}
	if (!(flags & AT_REMOVEDIR) && refine_in_bpffs(dirfd, t, in || t != path)) {
		int saved = errno;
		SHIM_ENTER();
		if (t[0] == '/')
			t = emu_bpffs_from_root(t, &dirfd);   /* a shorter walk to the same name */
		emu_unpin_prepare(dirfd, t);
		SHIM_LEAVE();
		errno = saved;
	}
	return REAL(unlinkat)(dirfd, t, flags);
}

SHIM_EXPORT int unlink(const char *path)
{
	if (shim_busy)
		return REAL(unlink)(path);
	return unlink_common(AT_FDCWD, path, 0);
}

SHIM_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	if (shim_busy)
		return REAL(unlinkat)(dirfd, path, flags);
	return unlink_common(dirfd, path, flags);
}

/* Two paths: moving or linking a name into or out of bpffs crosses a mount,
 * which the kernel refuses with EXDEV. */
#define WRAP_PATH2(name, params, args, d1, p1, d2, p2)                                  \
	SHIM_EXPORT int name params                                                     \
	{                                                                               \
		char buf1_[PATH_MAX], buf2_[PATH_MAX];                                  \
		bool in1_, in2_;                                                        \
		if (shim_busy)                                                          \
			return REAL(name) args;                                         \
		const char *t1_ = tr(d1, p1, buf1_, &in1_);                             \
		const char *t2_ = t1_ ? tr(d2, p2, buf2_, &in2_) : NULL;                \
		if (!t2_)                                                               \
			return -1;                                                      \
		if (in1_ != in2_ && refine_in_bpffs(d1, t1_, in1_) !=                   \
				    refine_in_bpffs(d2, t2_, in2_)) {                   \
			errno = EXDEV;                                                  \
			return -1;                                                      \
		}                                                                       \
		if (debug_entry(d1, t1_)) {  /* bpf_preload's entries stay put */      \
			errno = EPERM;                                                  \
			return -1;                                                      \
		}                                                                       \
		if (in2_) {      /* a rename onto a pin: its object keeps a name */     \
			int s_ = errno;                                                 \
			SHIM_ENTER();                                                   \
			emu_unpin_prepare(d2, t2_);                                     \
			SHIM_LEAVE();                                                   \
			errno = s_;                                                     \
		}                                                                       \
		{                                                                       \
			const char *p1 = t1_, *p2 = t2_;                                \
			return REAL(name) args;                                         \
		}                                                                       \
	}

/* truncate() of a pin changes nothing the kernel keeps (bpffs inodes have
 * no data) and must never reach the object's storage. */
#define WRAP_TRUNCATE(name, offtype)                                                    \
	SHIM_EXPORT int name(const char *path, offtype len)                             \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		struct stat st_;                                                        \
		if (shim_busy)                                                          \
			return REAL(name)(path, len);                                   \
		const char *t_ = tr(AT_FDCWD, path, buf_, &bpffs_);                     \
		if (!t_)                                                                \
			return -1;                                                      \
		if (bpffs_ && len >= 0 && REAL(stat)(t_, &st_) == 0 && S_ISREG(st_.st_mode)) \
			return 0;                                                       \
		return REAL(name)(t_, len);                                             \
	}

#include "fs_list.h"

/* ---- by hand ---- */

SHIM_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	char buf[PATH_MAX];
	bool bpffs;

	if (shim_busy)
		return REAL(statx)(dirfd, path, flags, mask, stx);
	const char *t = tr(dirfd, path, buf, &bpffs);
	if (!t)
		return -1;
	int r = REAL(statx)(dirfd, t, flags, mask, stx);
	if (r == 0 && !bpffs)
		bpffs = rel_bpffs(dirfd, path, t, makedev(stx->stx_dev_major, stx->stx_dev_minor));
	if (r == 0 && bpffs && (S_ISREG(stx->stx_mode) || S_ISDIR(stx->stx_mode))) {
		stx->stx_size = 0;
		stx->stx_blocks = 0;
	}
	if (r == 0 && bpffs && S_ISREG(stx->stx_mode))
		stx->stx_nlink = 1;
	if (r == 0 && t[0] && S_ISREG(stx->stx_mode) && debug_entry(dirfd, t))
		stx->stx_uid = stx->stx_gid = 0;
	if (r == 0 && names_obj(dirfd, path, flags)) {
		struct statx a;
		if (!shim_anon_stat(NULL, &a, NULL)) {
			/* what was asked for, as the kernel fills it for that inode */
			__u32 m = stx->stx_mask;
			*stx = a;
			stx->stx_mask = m;
		}
	}
	return r;
}

/* Copies the program's view of real (untranslated if in bpffs) into out. */
static const char *untr(const char *real, char *out)
{
	int saved = errno;
	const char *v;

	SHIM_ENTER();
	v = emu_bpffs_untranslate(real, out);
	SHIM_LEAVE();
	errno = saved;
	return v ? v : real;
}

SHIM_EXPORT char *getcwd(char *buf, size_t size)
{
	char real[PATH_MAX], view[PATH_MAX];

	if (shim_busy)
		return REAL(getcwd)(buf, size);
	if (!REAL(getcwd)(real, sizeof(real)))
		return REAL(getcwd)(buf, size);      /* longer than PATH_MAX, or gone */
	const char *v = untr(real, view);
	size_t n = strlen(v) + 1;
	if (!buf) {
		size_t cap = size ? size : n;
		if (cap < n) {
			errno = ERANGE;
			return NULL;
		}
		if (!(buf = malloc(cap)))
			return NULL;
	} else if (size == 0) {
		errno = EINVAL;
		return NULL;
	} else if (size < n) {
		errno = ERANGE;
		return NULL;
	}
	memcpy(buf, v, n);
	return buf;
}

/* Replaces a malloc'ed path by its untranslated copy. */
static char *untr_malloced(char *p)
{
	char view[PATH_MAX];

	if (!p)
		return p;
	const char *v = untr(p, view);
	if (v == p)
		return p;
	char *copy = strdup(v);
	if (!copy) {
		free(p);
		return NULL;
	}
	free(p);
	return copy;
}

SHIM_EXPORT char *get_current_dir_name(void)
{
	if (shim_busy)
		return REAL(get_current_dir_name)();
	return untr_malloced(REAL(get_current_dir_name)());
}

SHIM_EXPORT char *realpath(const char *path, char *resolved)
{
	char buf[PATH_MAX], view[PATH_MAX];

	if (shim_busy)
		return REAL(realpath)(path, resolved);
	const char *t = tr(AT_FDCWD, path, buf, NULL);
	if (!t)
		return NULL;
	char *r = REAL(realpath)(t, resolved);
	if (!r)
		return r;
	if (!resolved)
		return untr_malloced(r);
	const char *v = untr(r, view);
	if (v != r)
		memcpy(resolved, v, strlen(v) + 1);    /* a view is never longer than PATH_MAX */
	return resolved;
}

SHIM_EXPORT char *canonicalize_file_name(const char *path)
{
	if (shim_busy)
		return REAL(canonicalize_file_name)(path);
	return realpath(path, NULL);
}

/* readlink's contract: no NUL, at most bufsiz bytes, the count returned. */
static ssize_t copy_link(const char *s, char *buf, size_t bufsiz)
{
	size_t n = strlen(s);

	if (n > bufsiz)
		n = bufsiz;
	memcpy(buf, s, n);
	return (ssize_t)n;
}

static ssize_t readlink_common(int dirfd, const char *path, char *buf, size_t bufsiz)
{
	char tbuf[PATH_MAX], target[PATH_MAX], view[PATH_MAX];
	const char *anon = NULL;

	if (path && path[0] == '/' && !strncmp(path, "/proc/", 6))
		anon = shim_proc_fd_link(path);
	if (anon) {
		if (bufsiz == 0) {
			errno = EINVAL;
			return -1;
		}
		return copy_link(anon, buf, bufsiz);
	}
	const char *t = tr(dirfd, path, tbuf, NULL);
	if (!t)
		return -1;
	ssize_t n = REAL(readlinkat)(dirfd, t, target, sizeof(target) - 1);
	if (n < 0 || bufsiz == 0)
		return n < 0 ? n : REAL(readlinkat)(dirfd, t, buf, bufsiz);
	target[n] = '\0';
	return copy_link(untr(target, view), buf, bufsiz);
}

SHIM_EXPORT ssize_t readlink(const char *path, char *buf, size_t bufsiz)
{
	if (shim_busy)
		return REAL(readlink)(path, buf, bufsiz);
	return readlink_common(AT_FDCWD, path, buf, bufsiz);
}

SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t bufsiz)
{
	if (shim_busy)
		return REAL(readlinkat)(dirfd, path, buf, bufsiz);
	return readlink_common(dirfd, path, buf, bufsiz);
}

/* ---- mount: bpffs is always mounted on the fake mount points ---- */

SHIM_EXPORT int mount(const char *source, const char *target, const char *fstype,
		      unsigned long flags, const void *data)
{
	char buf[PATH_MAX];
	bool bpffs;

	if (shim_busy)
		return REAL(mount)(source, target, fstype, flags, data);
	const char *t = tr(AT_FDCWD, target, buf, &bpffs);
	if (!t)
		return -1;
	/* mounting bpf there, or the bind / propagation / remount dance tools do
	 * first (iproute2: MS_PRIVATE, then MS_BIND onto itself), is a no-op */
	if (bpffs && ((fstype && !strcmp(fstype, "bpf")) ||
		      (flags & (MS_BIND | MS_REMOUNT | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE |
				MS_UNBINDABLE)))) {
		/* the kernel still resolves the target: a missing directory is ENOENT */
		struct stat sb;
		if (REAL(stat)(t, &sb))
			return -1;
		if (!S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
		return 0;
	}
	return REAL(mount)(source, t, fstype, flags, data);
}

SHIM_EXPORT int umount2(const char *target, int flags)
{
	char buf[PATH_MAX];
	bool bpffs;

	if (shim_busy)
		return REAL(umount2)(target, flags);
	const char *t = tr(AT_FDCWD, target, buf, &bpffs);
	if (!t)
		return -1;
	if (bpffs)
		return 0;
	return REAL(umount2)(t, flags);
}

SHIM_EXPORT int umount(const char *target)
{
	if (shim_busy)
		return REAL(umount)(target);
	return umount2(target, 0);
}

/* setmntent() of the mount table: the real lines plus the fake bpf ones. */
SHIM_EXPORT FILE *setmntent(const char *file, const char *mode)
{
	if (shim_busy || !file || !mode || strpbrk(mode, "wa+"))
		return REAL(setmntent)(file, mode);
	int fd = shim_proc_open(file, O_RDONLY | O_CLOEXEC);
	if (fd == UNHANDLED)
		return REAL(setmntent)(file, mode);
	FILE *f = fdopen_or_close(fd, "r");
	if (f)
		__fsetlocking(f, FSETLOCKING_BYCALLER);
	return f;
}

/* ---- nftw/ftw: glibc walks with its internal opendir and stat, so the
 * wrapper translates the start and hands the callback mount-point paths
 * (bpftool finds pins this way). The callback has no user pointer: the
 * program's callback rides in a per-thread slot, saved across nesting. ---- */

#define WRAP_NFTW(name, stattype, fn_t)                                      \
	static __thread fn_t name##_user;                                               \
	static int name##_tramp(const char *fpath, const struct stattype *sb, int type, \
				struct FTW *ftw)                                        \
	{                                                                               \
		char view_[PATH_MAX];                                                   \
		struct stattype st_;                                                    \
		const char *v_ = untr(fpath, view_);                                    \
		struct FTW f_ = *ftw;                                                   \
		if (v_ != fpath) {                                                      \
			const char *slash_ = strrchr(v_, '/');                          \
			if (slash_ && slash_[1])                                        \
				f_.base = (int)(slash_ + 1 - v_);                       \
			if (sb) {                                                       \
				st_ = *sb;                                              \
				PATCH_PIN_STAT(&st_);                                   \
				sb = &st_;                                              \
			}                                                               \
		}                                                                       \
		return name##_user(v_, sb, type, &f_);                                  \
	}                                                                               \
	SHIM_EXPORT int name(const char *dir, fn_t fn, int nfd, int flags)              \
	{                                                                               \
		char buf_[PATH_MAX];                                                    \
		bool bpffs_;                                                            \
		if (shim_busy)                                                          \
			return REAL(name)(dir, fn, nfd, flags);                         \
		const char *t_ = tr(AT_FDCWD, dir, buf_, &bpffs_);                      \
		if (!t_)                                                                \
			return -1;                                                      \
		if (!bpffs_)                                                            \
			return REAL(name)(t_, fn, nfd, flags);                          \
		fn_t saved_ = name##_user;                                              \
		name##_user = fn;                                                       \
		int r_ = REAL(name)(t_, name##_tramp, nfd, flags);                      \
		name##_user = saved_;                                                   \
		return r_;                                                              \
	}

typedef int (*shim_nftw_fn)(const char *, const struct stat *, int, struct FTW *);
typedef int (*shim_nftw64_fn)(const char *, const struct stat64 *, int, struct FTW *);
WRAP_NFTW(nftw, stat, shim_nftw_fn)
WRAP_NFTW(nftw64, stat64, shim_nftw64_fn)
