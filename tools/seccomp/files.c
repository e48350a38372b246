/* SPDX-License-Identifier: MIT */
/*
 * tools/seccomp/files.c: the system calls that take a path, for a program
 * the seccomp door serves. What the shim does in its libc wrappers
 * (preload/fs.c), at the system-call level:
 *
 * - a path the engine translates (emu_bpffs_translate: under a fake bpffs
 *   mount point, or leaving one through "..") is served here: the call is
 *   made by us on the translated path, in its *at form, with the program's
 *   other arguments, and its results are copied back; what bpffs answers on
 *   its own (emu/vfs.c: open of a pin is EIO, maps.debug and progs.debug are
 *   root's, EXDEV across its boundary, statfs's magic, sizes of 0) is the
 *   engine's, as for the shim;
 * - a relative path under a directory that lies in the fake bpffs (a dir fd
 *   this door opened there) keeps its meaning in the program; only stat
 *   (sizes), unlink and rename (an object's last name is kept linkable,
 *   emu_unpin_prepare) look at it first;
 * - /proc/self/{mounts,mountinfo,fdinfo/N} and readlink of /proc/self/fd/N
 *   are the engine's views (emu/procfs.c) of the program;
 * - everything else continues in the kernel as the program made it.
 *
 * Not followed: chdir into the fake bpffs (no one can change another
 * process's cwd; the call continues on the real path), and the program's
 * own fstat of an object fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "door.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define ANON_INODE_FS_MAGIC 0x09041934
#ifndef ST_VALID
#define ST_VALID 0x0020
#endif

enum kind {
	K_OPEN, K_STAT, K_STATX, K_STATFS, K_FSTATFS, K_ACCESS, K_MKDIR, K_UNLINK, K_RENAME, K_LINK,
	K_SYMLINK, K_READLINK, K_CHMOD, K_CHOWN, K_UTIMENS, K_UTIMES, K_TRUNCATE, K_XATTR, K_MOUNT,
	K_UMOUNT, K_CHDIR, K_GETCWD,
};

/* One line per system call: its kind and where its arguments are. d/p: the
 * dirfd (-1: AT_FDCWD) and path argument; d2/p2 the second path's; a: the
 * kind's own argument positions (see each kind). */
struct fcall {
	const char *name;
	enum kind kind;
	signed char d, p, d2, p2;
	signed char a[4];
	int fixed;          /* flags the plain form implies (creat, lstat, rmdir...) */
};

#define NA (-1)
static const struct fcall fcalls[] = {
	/* open: a = { flags, mode, how (openat2) } */
	{ "open", K_OPEN, NA, 0, NA, NA, { 1, 2, NA }, 0 },
	{ "openat", K_OPEN, 0, 1, NA, NA, { 2, 3, NA }, 0 },
	{ "openat2", K_OPEN, 0, 1, NA, NA, { NA, NA, 2 }, 0 },
	{ "creat", K_OPEN, NA, 0, NA, NA, { NA, 1, NA }, O_CREAT | O_WRONLY | O_TRUNC },
	/* stat: a = { buf, flags } */
	{ "stat", K_STAT, NA, 0, NA, NA, { 1, NA }, 0 },
	{ "lstat", K_STAT, NA, 0, NA, NA, { 1, NA }, AT_SYMLINK_NOFOLLOW },
	{ "newfstatat", K_STAT, 0, 1, NA, NA, { 2, 3 }, 0 },
	/* statx: a = { flags, mask, buf } */
	{ "statx", K_STATX, 0, 1, NA, NA, { 2, 3, 4 }, 0 },
	{ "statfs", K_STATFS, NA, 0, NA, NA, { 1 }, 0 },
	{ "fstatfs", K_FSTATFS, NA, NA, NA, NA, { 0, 1 }, 0 },
	/* access: a = { mode, flags } */
	{ "access", K_ACCESS, NA, 0, NA, NA, { 1, NA }, 0 },
	{ "faccessat", K_ACCESS, 0, 1, NA, NA, { 2, NA }, 0 },
	{ "faccessat2", K_ACCESS, 0, 1, NA, NA, { 2, 3 }, 0 },
	/* mkdir: a = { mode } */
	{ "mkdir", K_MKDIR, NA, 0, NA, NA, { 1 }, 0 },
	{ "mkdirat", K_MKDIR, 0, 1, NA, NA, { 2 }, 0 },
	/* unlink: a = { flags } */
	{ "unlink", K_UNLINK, NA, 0, NA, NA, { NA }, 0 },
	{ "unlinkat", K_UNLINK, 0, 1, NA, NA, { 2 }, 0 },
	{ "rmdir", K_UNLINK, NA, 0, NA, NA, { NA }, AT_REMOVEDIR },
	/* rename: a = { flags } */
	{ "rename", K_RENAME, NA, 0, NA, 1, { NA }, 0 },
	{ "renameat", K_RENAME, 0, 1, 2, 3, { NA }, 0 },
	{ "renameat2", K_RENAME, 0, 1, 2, 3, { 4 }, 0 },
	/* link: a = { flags } */
	{ "link", K_LINK, NA, 0, NA, 1, { NA }, 0 },
	{ "linkat", K_LINK, 0, 1, 2, 3, { 4 }, 0 },
	/* symlink: a = { target }; the link's path is p */
	{ "symlink", K_SYMLINK, NA, 1, NA, NA, { 0 }, 0 },
	{ "symlinkat", K_SYMLINK, 1, 2, NA, NA, { 0 }, 0 },
	/* readlink: a = { buf, size } */
	{ "readlink", K_READLINK, NA, 0, NA, NA, { 1, 2 }, 0 },
	{ "readlinkat", K_READLINK, 0, 1, NA, NA, { 2, 3 }, 0 },
	/* chmod: a = { mode, flags } */
	{ "chmod", K_CHMOD, NA, 0, NA, NA, { 1, NA }, 0 },
	{ "fchmodat", K_CHMOD, 0, 1, NA, NA, { 2, NA }, 0 },
	/* chown: a = { uid, gid, flags } */
	{ "chown", K_CHOWN, NA, 0, NA, NA, { 1, 2, NA }, 0 },
	{ "lchown", K_CHOWN, NA, 0, NA, NA, { 1, 2, NA }, AT_SYMLINK_NOFOLLOW },
	{ "fchownat", K_CHOWN, 0, 1, NA, NA, { 2, 3, 4 }, 0 },
	/* utimensat: a = { times, flags } */
	{ "utimensat", K_UTIMENS, 0, 1, NA, NA, { 2, 3 }, 0 },
	/* utimes: a = { timevals } */
	{ "utimes", K_UTIMES, NA, 0, NA, NA, { 1 }, 0 },
	{ "futimesat", K_UTIMES, 0, 1, NA, NA, { 2 }, 0 },
	/* truncate: a = { length } */
	{ "truncate", K_TRUNCATE, NA, 0, NA, NA, { 1 }, 0 },
	/* xattrs: the path only (the rest passes through our copy, see xattr()) */
	{ "getxattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "lgetxattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "setxattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "lsetxattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "listxattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "llistxattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "removexattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	{ "lremovexattr", K_XATTR, NA, 0, NA, NA, { NA }, 0 },
	/* mount: a = { fstype, flags }; the target is p */
	{ "mount", K_MOUNT, NA, 1, NA, NA, { 2, 3 }, 0 },
	{ "umount2", K_UMOUNT, NA, 0, NA, NA, { NA }, 0 },
	{ "chdir", K_CHDIR, NA, 0, NA, NA, { NA }, 0 },
	/* getcwd: a = { buf, size } */
	{ "getcwd", K_GETCWD, NA, NA, NA, NA, { 0, 1 }, 0 },
};

const char *const door_file_calls[] = {
	"open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
	"access", "faccessat", "faccessat2", "mkdir", "mkdirat", "unlink", "unlinkat", "rmdir", "rename",
	"renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod",
	"fchmodat", "chown", "lchown", "fchownat", "utimensat", "utimes", "futimesat", "truncate", "getxattr",
	"lgetxattr", "setxattr", "lsetxattr", "listxattr", "llistxattr", "removexattr", "lremovexattr", "mount",
	"umount2", "chdir", "getcwd", NULL,
};

/* system call number -> fcalls index, filled once */
static int nr_of(const char *name);
static signed char by_nr[512];
static bool by_nr_ready;

static void index_calls(void)
{
	memset(by_nr, -1, sizeof(by_nr));
	for (size_t i = 0; i < sizeof(fcalls) / sizeof(fcalls[0]); i++) {
		int nr = nr_of(fcalls[i].name);
		if (nr >= 0 && nr < (int)sizeof(by_nr))
			by_nr[nr] = (signed char)i;
	}
	by_nr_ready = true;
}

static int nr_of(const char *name)
{
	static const struct { const char *n; int nr; } nrs[] = {
#define S(x) { #x, SYS_##x }
#ifdef SYS_open
		S(open), S(creat), S(stat), S(lstat), S(access), S(mkdir), S(unlink), S(rmdir), S(rename), S(link),
		S(symlink), S(readlink), S(chmod), S(chown), S(lchown), S(utimes), S(futimesat),
#endif
		S(openat), S(openat2), S(newfstatat), S(statx), S(statfs), S(fstatfs), S(faccessat), S(faccessat2),
		S(mkdirat), S(unlinkat), S(renameat), S(renameat2), S(linkat), S(symlinkat), S(readlinkat),
		S(fchmodat), S(fchownat), S(utimensat), S(truncate), S(getxattr), S(lgetxattr), S(setxattr),
		S(lsetxattr), S(listxattr), S(llistxattr), S(removexattr), S(lremovexattr), S(mount), S(umount2),
		S(chdir), S(getcwd),
#undef S
	};
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		if (!strcmp(nrs[i].n, name))
			return nrs[i].nr;
	return -1;
}

static const struct fcall *fcall_of(int nr)
{
	if (!by_nr_ready)
		index_calls();
	return nr >= 0 && nr < (int)sizeof(by_nr) && by_nr[nr] >= 0 ? &fcalls[(int)by_nr[nr]] : NULL;
}

bool door_files_handles(int nr)
{
	return fcall_of(nr) != NULL;
}

/* ---- one path argument ---- */

struct path {
	int dirfd;              /* the program's dirfd argument (AT_FDCWD if none) */
	char p[PATH_MAX];       /* as the program gave it */
	char tbuf[PATH_MAX];
	const char *t;          /* translated (== p when unchanged) */
	bool changed;           /* the engine translated it: serve it here */
	bool bpffs;             /* ... into the fake bpffs */
	int rel;                /* unchanged and relative: 1 if its base lies in the fake bpffs, 0 not, -1 unknown */
	int ldir;               /* our directory for the *at call: AT_FDCWD or a copy of the base */
};

static long arg(const struct call *k, int i)
{
	return i < 0 ? 0 : (long)k->args[i];
}

/* 0, or -errno to answer (a bad path the kernel's walk stops at); 1 when the
 * string cannot be read (the kernel's own EFAULT/ENAMETOOLONG: continue). */
static int path_get(struct call *k, struct path *pa, int d, int p)
{
	pa->dirfd = d < 0 ? AT_FDCWD : (int)k->args[d];
	pa->rel = -1;
	pa->ldir = AT_FDCWD;
	if (call_read_str(k, pa->p, k->args[p], sizeof(pa->p)) < 0)
		return 1;
	errno = 0;
	pa->t = emu_bpffs_translate(pa->dirfd, pa->p, pa->tbuf);
	if (!pa->t)
		return -(errno ? errno : ENAMETOOLONG);
	pa->changed = pa->t != pa->p;
	pa->bpffs = pa->changed && emu_bpffs_contains(pa->t);
	return 0;
}

/* Does an unchanged relative path lie under the fake bpffs (its base does)? */
static bool path_rel_bpffs(struct path *pa)
{
	if (pa->rel < 0) {
		char base[PATH_MAX];
		pa->rel = !pa->changed && pa->p[0] && pa->p[0] != '/' &&
			  emu_caller_dir(pa->dirfd, base, sizeof(base)) > 0 && emu_bpffs_contains(base);
	}
	return pa->rel;
}

/* Our directory and path for the *at form of the call: the translated
 * (absolute) path, or the program's relative one under a copy of its base. */
static int path_local(struct call *k, struct path *pa)
{
	if (pa->changed || pa->p[0] == '/' || !pa->p[0]) {
		pa->ldir = AT_FDCWD;
		return 0;
	}
	if (pa->dirfd == AT_FDCWD) {
		char cwd[64];
		snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", (int)k->c.tid);
		pa->ldir = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
		return pa->ldir < 0 ? -errno : 0;
	}
	pa->ldir = call_fd(k, pa->dirfd);      /* closed with the call */
	return pa->ldir < 0 ? pa->ldir : 0;
}

static void path_done(struct call *k, struct path *pa)
{
	if (pa->ldir >= 0 && pa->dirfd == AT_FDCWD && !pa->changed)
		close(pa->ldir);
	(void)k;
}

/* maps.debug / progs.debug under a non-root caller: the errno, else 0 */
static int debug_deny(struct path *pa, int err)
{
	if (!err || geteuid() == 0)
		return 0;
	return emu_bpffs_debug_entry(pa->changed ? AT_FDCWD : pa->dirfd, pa->t) ? -err : 0;
}

/* ---- results back to the program ---- */

static void patch_stat(struct stat *st, bool in_bpffs, struct path *pa)
{
	if (in_bpffs && (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
		st->st_size = 0;
		st->st_blocks = 0;
	}
	/* a pin is one name of its own (the engine's file may have others) */
	if (in_bpffs && S_ISREG(st->st_mode))
		st->st_nlink = 1;
	if (S_ISREG(st->st_mode) && pa->t[0] &&
	    emu_bpffs_debug_entry(pa->changed ? AT_FDCWD : pa->dirfd, pa->t))
		st->st_uid = st->st_gid = 0;
}

static void patch_statfs(struct statfs *s, unsigned long magic)
{
	s->f_type = (long)magic;
	s->f_bsize = 4096;
	s->f_frsize = 4096;
	s->f_blocks = s->f_bfree = s->f_bavail = 0;
	s->f_files = s->f_ffree = 0;
	s->f_namelen = 255;
	s->f_flags = ST_VALID | ST_RELATIME;
}

static int out(struct call *k, int argi, const void *v, size_t len, int ret)
{
	return call_write(k, k->args[argi], v, len) ? -EFAULT : ret;
}

/* The caller's umask, for what we create on its behalf. */
static mode_t caller_umask(struct call *k)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)k->c.tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	mode_t m = 022;
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			const char *u = strstr(buf, "Umask:");
			if (u)
				m = (mode_t)strtoul(u + 6, NULL, 8);
		}
	}
	return m;
}

/* ---- the kinds ---- */

static int do_open(struct call *k, const struct fcall *f, struct path *pa)
{
	int flags = f->a[0] >= 0 ? (int)arg(k, f->a[0]) : f->fixed;
	mode_t mode = (mode_t)arg(k, f->a[1]);
	struct open_how how = { 0 };
	if (f->a[2] >= 0) {          /* openat2 */
		size_t sz = (size_t)k->args[3];
		if (sz < sizeof(how) || call_read(k, &how, k->args[2], sizeof(how)))
			return DOOR_CONTINUE;
		flags = (int)how.flags;
		mode = (mode_t)how.mode;
	}
	if (!pa->changed) {
		if (pa->p[0] == '/' && (!strncmp(pa->p, "/proc/", 6) || !strncmp(pa->p, "/etc/", 5) ||
					!strncmp(pa->p, "/sys/devices/system/cpu/", 24) ||
					!strncmp(pa->p, "/sys/kernel/", 12))) {
			call_tgid(k);         /* "self" is the caller's process */
			int fd = emu_proc_open(pa->p, flags);
			if (fd == EMU_PROC_UNHANDLED)
				return DOOR_CONTINUE;
			return fd < 0 ? fd : call_give_fd(k, fd, flags & O_CLOEXEC);
		}
		/* maps.debug relative to a bpffs directory: root's file */
		if (pa->p[0] && pa->p[0] != '/' && !(flags & O_PATH) &&
		    emu_bpffs_debug_entry(pa->dirfd, pa->p))
			return -emu_bpffs_debug_open_errno(flags);
		return DOOR_CONTINUE;
	}
	if (pa->bpffs) {
		int err = emu_bpffs_open_check(pa->t, flags);
		if (err)
			return err;
	}
	mode_t old = umask(caller_umask(k));
	int fd = f->a[2] >= 0 ? (int)syscall(SYS_openat2, AT_FDCWD, pa->t, &how, sizeof(how))
			      : openat(AT_FDCWD, pa->t, flags | O_CLOEXEC, mode);
	int err = errno;
	umask(old);
	if (fd < 0)
		return -err;
	return call_give_fd(k, fd, flags & O_CLOEXEC);
}

static int do_stat(struct call *k, const struct fcall *f, struct path *pa)
{
	int flags = (f->a[1] >= 0 ? (int)arg(k, f->a[1]) : 0) | f->fixed;
	if (!pa->changed) {
		if (!path_rel_bpffs(pa) || (flags & AT_EMPTY_PATH))
			return DOOR_CONTINUE;
		int err = path_local(k, pa);
		if (err)
			return err;
	}
	struct stat st;
	if (syscall(SYS_newfstatat, pa->ldir, pa->t, &st, flags))
		return -errno;
	patch_stat(&st, pa->bpffs || pa->rel > 0, pa);
	return out(k, f->a[0], &st, sizeof(st), 0);
}

static int do_statx(struct call *k, const struct fcall *f, struct path *pa)
{
	int flags = (int)arg(k, f->a[0]);
	if (!pa->changed) {
		if (!path_rel_bpffs(pa) || (flags & AT_EMPTY_PATH))
			return DOOR_CONTINUE;
		int err = path_local(k, pa);
		if (err)
			return err;
	}
	struct statx stx;
	if (syscall(SYS_statx, pa->ldir, pa->t, flags, (unsigned int)arg(k, f->a[1]), &stx))
		return -errno;
	if ((pa->bpffs || pa->rel > 0) && (S_ISREG(stx.stx_mode) || S_ISDIR(stx.stx_mode))) {
		stx.stx_size = 0;
		stx.stx_blocks = 0;
	}
	if ((pa->bpffs || pa->rel > 0) && S_ISREG(stx.stx_mode))
		stx.stx_nlink = 1;
	if (S_ISREG(stx.stx_mode) && pa->t[0] && emu_bpffs_debug_entry(pa->changed ? AT_FDCWD : pa->dirfd, pa->t))
		stx.stx_uid = stx.stx_gid = 0;
	return out(k, f->a[2], &stx, sizeof(stx), 0);
}

static int do_statfs(struct call *k, const struct fcall *f, struct path *pa)
{
	struct statfs s;
	if (!pa->changed && emu_tracefs_dir(pa->p)) {
		/* the engine's tracefs views (emu/tracefs.c) */
		if (statfs(pa->p, &s))
			memset(&s, 0, sizeof(s));
		patch_statfs(&s, EMU_TRACEFS_MAGIC);
		return out(k, f->a[0], &s, sizeof(s), 0);
	}
	if (!pa->changed)
		return DOOR_CONTINUE;
	if (statfs(pa->t, &s))
		return -errno;
	if (pa->bpffs)
		patch_statfs(&s, BPF_FS_MAGIC);
	return out(k, f->a[0], &s, sizeof(s), 0);
}

static int do_fstatfs(struct call *k, const struct fcall *f)
{
	int ufd = (int)arg(k, f->a[0]), fd = call_fd(k, ufd);
	unsigned long magic = 0;
	struct statfs s;
	if (fd < 0)
		return DOOR_CONTINUE;
	if (emu_fd_kind(fd) != EMU_KIND_NONE)
		magic = ANON_INODE_FS_MAGIC;
	else if (emu_bpffs_fd_contains(ufd))
		magic = BPF_FS_MAGIC;
	if (!magic)
		return DOOR_CONTINUE;
	if (fstatfs(fd, &s))
		return -errno;
	patch_statfs(&s, magic);
	return out(k, f->a[1], &s, sizeof(s), 0);
}

static int do_readlink(struct call *k, const struct fcall *f, struct path *pa)
{
	size_t size = (size_t)arg(k, f->a[1]);
	char target[PATH_MAX], view[PATH_MAX], self[PATH_MAX + 64];
	const char *p = pa->t;
	if (!pa->changed && !strncmp(pa->p, "/proc/", 6)) {
		call_tgid(k);
		const char *anon = emu_proc_fd_link(pa->p);
		if (anon) {
			size_t n = strlen(anon);
			if (!size)
				return -EINVAL;
			n = n < size ? n : size;
			return out(k, f->a[0], anon, n, (int)n);
		}
		/* the caller's own /proc entries, read here: /proc/self is ours */
		if (!strncmp(pa->p, "/proc/self/", 11) || !strncmp(pa->p, "/proc/thread-self/", 18)) {
			bool thread = pa->p[6] == 't';
			snprintf(self, sizeof(self), "/proc/%d/%.4000s", (int)(thread ? k->c.tid : call_tgid(k)),
				 pa->p + (thread ? 18 : 11));
			p = self;
		}
	} else if (!pa->changed) {
		return DOOR_CONTINUE;
	}
	if (p == pa->p)
		return DOOR_CONTINUE;
	ssize_t n = readlinkat(AT_FDCWD, p, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	if (!size)
		return -EINVAL;
	target[n] = '\0';
	const char *v = emu_bpffs_untranslate(target, view);
	if (!v)
		v = target;
	size_t len = strlen(v);
	len = len < size ? len : size;
	return out(k, f->a[0], v, len, (int)len);
}

static int do_getcwd(struct call *k, const struct fcall *f)
{
	char real[PATH_MAX], view[PATH_MAX];
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)k->c.tid);
	ssize_t n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0)
		return DOOR_CONTINUE;
	real[n] = '\0';
	const char *v = emu_bpffs_untranslate(real, view);
	if (!v || v == real)
		return DOOR_CONTINUE;
	size_t len = strlen(v) + 1, size = (size_t)arg(k, f->a[1]);
	if (size < len)
		return -ERANGE;
	return out(k, f->a[0], v, len, (int)len);
}

static int do_two(struct call *k, const struct fcall *f, struct path *a, struct path *b)
{
	long flags = f->a[0] >= 0 ? arg(k, f->a[0]) : 0;
	/* moving or linking across the bpffs boundary crosses a mount */
	bool ina = a->bpffs || path_rel_bpffs(a), inb = b->bpffs || path_rel_bpffs(b);
	if (ina != inb)
		return -EXDEV;
	if (!a->changed && !b->changed && !ina)
		return DOOR_CONTINUE;
	if (emu_bpffs_debug_entry(a->changed ? AT_FDCWD : a->dirfd, a->t))
		return -EPERM;        /* bpf_preload's entries stay put */
	int err = path_local(k, a);
	if (!err)
		err = path_local(k, b);
	if (err)
		return err;
	if (f->kind == K_RENAME) {
		emu_unpin_prepare(b->ldir, b->t);      /* a rename onto a pin: its object keeps a name */
		return syscall(SYS_renameat2, a->ldir, a->t, b->ldir, b->t, flags) ? -errno : 0;
	}
	return linkat(a->ldir, a->t, b->ldir, b->t, (int)flags) ? -errno : 0;
}

static int do_one(struct call *k, const struct fcall *f, struct path *pa)
{
	long r;
	int err;

	switch (f->kind) {
	case K_UNLINK: {
		int flags = (f->a[0] >= 0 ? (int)arg(k, f->a[0]) : 0) | f->fixed;
		bool in = pa->bpffs || path_rel_bpffs(pa);
		if (!(flags & AT_REMOVEDIR) && emu_bpffs_debug_entry(pa->changed ? AT_FDCWD : pa->dirfd, pa->t))
			return -EPERM;
		if (!in && !pa->changed)
			return DOOR_CONTINUE;
		if ((err = path_local(k, pa)))
			return err;
		if (!(flags & AT_REMOVEDIR) && in)
			emu_unpin_prepare(pa->ldir, pa->t);
		return unlinkat(pa->ldir, pa->t, flags) ? -errno : 0;
	}
	case K_ACCESS: {
		int mode = (int)arg(k, f->a[0]);
		if ((err = debug_deny(pa, mode & (R_OK | W_OK | X_OK) ? EACCES : 0)))
			return err;
		if (!pa->changed)
			return DOOR_CONTINUE;
		r = syscall(SYS_faccessat2, AT_FDCWD, pa->t, mode, (int)arg(k, f->a[1]));
		return r ? -errno : 0;
	}
	case K_CHMOD:
		if ((err = debug_deny(pa, EPERM)))
			return err;
		if (!pa->changed)
			return DOOR_CONTINUE;
		return fchmodat(AT_FDCWD, pa->t, (mode_t)arg(k, f->a[0]), 0) ? -errno : 0;
	case K_CHOWN:
		if ((err = debug_deny(pa, EPERM)))
			return err;
		if (!pa->changed)
			return DOOR_CONTINUE;
		return fchownat(AT_FDCWD, pa->t, (uid_t)arg(k, f->a[0]), (gid_t)arg(k, f->a[1]),
				(f->a[2] >= 0 ? (int)arg(k, f->a[2]) : 0) | f->fixed) ? -errno : 0;
	case K_UTIMENS: {
		struct timespec ts[2], *tp = NULL;
		if (k->args[f->a[0]]) {
			if (call_read(k, ts, k->args[f->a[0]], sizeof(ts)))
				return -EFAULT;
			tp = ts;
		}
		if ((err = debug_deny(pa, tp ? EPERM : EACCES)))
			return err;
		if (!pa->changed)
			return DOOR_CONTINUE;
		return utimensat(AT_FDCWD, pa->t, tp, (int)arg(k, f->a[1])) ? -errno : 0;
	}
	case K_UTIMES: {
		struct timeval tv[2];
		struct timespec ts[2], *tp = NULL;
		if (k->args[f->a[0]]) {
			if (call_read(k, tv, k->args[f->a[0]], sizeof(tv)))
				return -EFAULT;
			for (int i = 0; i < 2; i++) {
				ts[i].tv_sec = tv[i].tv_sec;
				ts[i].tv_nsec = tv[i].tv_usec * 1000;
			}
			tp = ts;
		}
		if ((err = debug_deny(pa, tp ? EPERM : EACCES)))
			return err;
		if (!pa->changed)
			return DOOR_CONTINUE;
		return utimensat(AT_FDCWD, pa->t, tp, 0) ? -errno : 0;
	}
	case K_MKDIR: {
		if (!pa->changed)
			return DOOR_CONTINUE;
		mode_t old = umask(caller_umask(k));
		r = mkdirat(AT_FDCWD, pa->t, (mode_t)arg(k, f->a[0]));
		err = errno;
		umask(old);
		return r ? -err : 0;
	}
	case K_SYMLINK: {
		char target[PATH_MAX];
		if (!pa->changed)
			return DOOR_CONTINUE;
		if (call_read_str(k, target, k->args[f->a[0]], sizeof(target)) < 0)
			return -EFAULT;
		return symlinkat(target, AT_FDCWD, pa->t) ? -errno : 0;
	}
	case K_TRUNCATE: {
		struct stat st;
		if (!pa->changed)
			return DOOR_CONTINUE;
		/* a pin has no data to cut: never the object's storage */
		if (pa->bpffs && (long)arg(k, f->a[0]) >= 0 && !stat(pa->t, &st) && S_ISREG(st.st_mode))
			return 0;
		return truncate(pa->t, (off_t)arg(k, f->a[0])) ? -errno : 0;
	}
	case K_XATTR: {
		/* the same call on the translated path, its buffers through ours */
		if (!pa->changed)
			return DOOR_CONTINUE;
		char name[256];
		if (k->nr != SYS_listxattr && k->nr != SYS_llistxattr &&
		    call_read_str(k, name, k->args[1], sizeof(name)) < 0)
			return -EFAULT;
		size_t size = (size_t)(k->nr == SYS_listxattr || k->nr == SYS_llistxattr ? k->args[2] : k->args[3]);
		if (size > 65536)
			size = 65536;
		char *buf = calloc(1, size ? size : 1);
		if (!buf)
			return -ENOMEM;
		if ((k->nr == SYS_setxattr || k->nr == SYS_lsetxattr) && call_read(k, buf, k->args[2], size)) {
			free(buf);
			return -EFAULT;
		}
		long a[5] = { (long)pa->t, (long)name, (long)buf, (long)size, (long)k->args[4] };
		if (k->nr == SYS_listxattr || k->nr == SYS_llistxattr) {
			a[1] = (long)buf;
			a[2] = (long)size;
		}
		r = syscall(k->nr, a[0], a[1], a[2], a[3], a[4]);
		err = r < 0 ? -errno : (int)r;
		if (r > 0 && (k->nr == SYS_getxattr || k->nr == SYS_lgetxattr))
			err = out(k, 2, buf, (size_t)r, err);
		else if (r > 0 && (k->nr == SYS_listxattr || k->nr == SYS_llistxattr))
			err = out(k, 1, buf, (size_t)r, err);
		free(buf);
		return err;
	}
	case K_MOUNT: {
		char fstype[64] = "";
		unsigned long flags = (unsigned long)arg(k, f->a[1]);
		struct stat sb;
		if (!pa->bpffs)
			return DOOR_CONTINUE;
		if (k->args[f->a[0]] && call_read_str(k, fstype, k->args[f->a[0]], sizeof(fstype)) < 0)
			fstype[0] = '\0';
		/* mounting bpf there, or the bind / propagation / remount dance
		 * tools do first, is a no-op; the target must still resolve */
		if (strcmp(fstype, "bpf") && !(flags & (MS_BIND | MS_REMOUNT | MS_MOVE | MS_SHARED | MS_PRIVATE |
							 MS_SLAVE | MS_UNBINDABLE)))
			return DOOR_CONTINUE;
		if (stat(pa->t, &sb))
			return -errno;
		return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	}
	case K_UMOUNT:
		return pa->bpffs ? 0 : DOOR_CONTINUE;
	case K_CHDIR:
		if (pa->bpffs)
			EMU_LOG(EMU_LOG_SHIM, "chdir %s: the seccomp door cannot move the program into the fake bpffs; "
				"the real directory is entered", pa->p);
		return DOOR_CONTINUE;
	default:
		return DOOR_CONTINUE;
	}
}

int door_files(struct call *k)
{
	const struct fcall *f = fcall_of(k->nr);
	struct path a, b;
	int r;

	if (!f)
		return DOOR_CONTINUE;
	call_begin(k);
	a.ldir = b.ldir = AT_FDCWD;
	a.changed = b.changed = false;
	a.dirfd = b.dirfd = AT_FDCWD;
	if (f->kind == K_FSTATFS) {
		r = do_fstatfs(k, f);
		goto done;
	}
	if (f->kind == K_GETCWD) {
		r = do_getcwd(k, f);
		goto done;
	}
	r = path_get(k, &a, f->d, f->p);
	if (r) {
		r = r > 0 ? DOOR_CONTINUE : r;
		goto done;
	}
	if (f->p2 >= 0) {
		r = path_get(k, &b, f->d2, f->p2);
		if (r) {
			r = r > 0 ? DOOR_CONTINUE : r;
			goto done;
		}
		r = do_two(k, f, &a, &b);
		goto done;
	}
	switch (f->kind) {
	case K_OPEN: r = do_open(k, f, &a); break;
	case K_STAT: r = do_stat(k, f, &a); break;
	case K_STATX: r = do_statx(k, f, &a); break;
	case K_STATFS: r = do_statfs(k, f, &a); break;
	case K_READLINK: r = do_readlink(k, f, &a); break;
	default: r = do_one(k, f, &a); break;
	}
done:
	path_done(k, &a);
	if (f->p2 >= 0)
		path_done(k, &b);
	call_end(k);
	if (k->answered)
		return DOOR_ANSWERED;
	return r;
}
