/* SPDX-License-Identifier: MIT */
/*
 * preload/fs_list.h: one line per wrapped variant; the templates live in
 * fs.c, which includes this file once. Every name here also goes in
 * bpfemu.map.
 */

/* open */
WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPEN2(__open_2)
WRAP_OPEN2(__open64_2)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)
WRAP_OPENAT2(__openat_2)
WRAP_OPENAT2(__openat64_2)
WRAP_CREAT(creat)
WRAP_CREAT(creat64)
WRAP_FOPEN(fopen)
WRAP_FOPEN(fopen64)
WRAP_FREOPEN(freopen)
WRAP_FREOPEN(freopen64)
WRAP_PATH(DIR *, opendir, NULL, (const char *path), (path), AT_FDCWD, path)

/* stat */
WRAP_STAT(stat, stat, true)
WRAP_STAT(lstat, stat, false)
WRAP_STAT(stat64, stat64, true)
WRAP_STAT(lstat64, stat64, false)
WRAP_FSTAT(fstat, stat)
WRAP_FSTAT(fstat64, stat64)
WRAP_VERFSTAT(__fxstat, fstat, stat)
WRAP_VERFSTAT(__fxstat64, fstat64, stat64)
WRAP_FSTATAT(fstatat, stat)
WRAP_FSTATAT(fstatat64, stat64)
WRAP_VERSTAT(__xstat, stat, stat)
WRAP_VERSTAT(__lxstat, lstat, stat)
WRAP_VERSTAT(__xstat64, stat64, stat64)
WRAP_VERSTAT(__lxstat64, lstat64, stat64)
WRAP_FXSTATAT(__fxstatat, fstatat, stat)
WRAP_FXSTATAT(__fxstatat64, fstatat64, stat64)

/* statfs */
WRAP_STATFS(statfs, statfs)
WRAP_STATFS(statfs64, statfs64)
WRAP_FSTATFS(fstatfs, statfs)
WRAP_FSTATFS(fstatfs64, statfs64)
WRAP_STATVFS(statvfs, statvfs)
WRAP_STATVFS(statvfs64, statvfs64)
WRAP_FSTATVFS(fstatvfs, statvfs)
WRAP_FSTATVFS(fstatvfs64, statvfs64)

/* directories and names */
WRAP_PATH(int, mkdir, -1, (const char *path, mode_t mode), (path, mode), AT_FDCWD, path)
WRAP_PATH(int, mkdirat, -1, (int dirfd, const char *path, mode_t mode), (dirfd, path, mode), dirfd, path)
WRAP_PATH(int, rmdir, -1, (const char *path), (path), AT_FDCWD, path)
/* unlink, unlinkat: by hand in fs.c (an unpinned object stays linkable) */
WRAP_PATH(int, chdir, -1, (const char *path), (path), AT_FDCWD, path)
WRAP_PATH2(rename, (const char *oldp, const char *newp), (oldp, newp), AT_FDCWD, oldp, AT_FDCWD, newp)
WRAP_PATH2(renameat, (int olddir, const char *oldp, int newdir, const char *newp),
	   (olddir, oldp, newdir, newp), olddir, oldp, newdir, newp)
WRAP_PATH2(renameat2, (int olddir, const char *oldp, int newdir, const char *newp, unsigned int flags),
	   (olddir, oldp, newdir, newp, flags), olddir, oldp, newdir, newp)
WRAP_PATH2(link, (const char *oldp, const char *newp), (oldp, newp), AT_FDCWD, oldp, AT_FDCWD, newp)
WRAP_PATH2(linkat, (int olddir, const char *oldp, int newdir, const char *newp, int flags),
	   (olddir, oldp, newdir, newp, flags), olddir, oldp, newdir, newp)
/* a symlink's target is stored as given; only where it is created moves */
WRAP_PATH(int, symlink, -1, (const char *target, const char *linkp), (target, linkp), AT_FDCWD, linkp)
WRAP_PATH(int, symlinkat, -1, (const char *target, int dirfd, const char *linkp), (target, dirfd, linkp),
	  dirfd, linkp)

/* permissions and times (maps.debug and progs.debug: see debug_denied) */
#define R_W_X(mode) ((mode) & (R_OK | W_OK | X_OK) ? EACCES : 0)
#define TIMES_ERR(times) ((times) ? EPERM : EACCES)
WRAP_PATH_DEBUG(int, access, -1, (const char *path, int mode), (path, mode), AT_FDCWD, path, R_W_X(mode))
WRAP_PATH_DEBUG(int, faccessat, -1, (int dirfd, const char *path, int mode, int flags), (dirfd, path, mode, flags),
		dirfd, path, R_W_X(mode))
WRAP_PATH_DEBUG(int, euidaccess, -1, (const char *path, int mode), (path, mode), AT_FDCWD, path, R_W_X(mode))
WRAP_PATH_DEBUG(int, eaccess, -1, (const char *path, int mode), (path, mode), AT_FDCWD, path, R_W_X(mode))
WRAP_PATH_DEBUG(int, chmod, -1, (const char *path, mode_t mode), (path, mode), AT_FDCWD, path, EPERM)
WRAP_PATH_DEBUG(int, fchmodat, -1, (int dirfd, const char *path, mode_t mode, int flags),
		(dirfd, path, mode, flags), dirfd, path, EPERM)
WRAP_PATH_DEBUG(int, chown, -1, (const char *path, uid_t uid, gid_t gid), (path, uid, gid), AT_FDCWD, path, EPERM)
WRAP_PATH_DEBUG(int, lchown, -1, (const char *path, uid_t uid, gid_t gid), (path, uid, gid), AT_FDCWD, path, EPERM)
WRAP_PATH_DEBUG(int, fchownat, -1, (int dirfd, const char *path, uid_t uid, gid_t gid, int flags),
		(dirfd, path, uid, gid, flags), dirfd, path, EPERM)
WRAP_PATH_DEBUG(int, utimensat, -1, (int dirfd, const char *path, const struct timespec times[2], int flags),
		(dirfd, path, times, flags), dirfd, path, TIMES_ERR(times))
WRAP_PATH_DEBUG(int, utime, -1, (const char *path, const struct utimbuf *times), (path, times), AT_FDCWD, path,
		TIMES_ERR(times))
WRAP_PATH_DEBUG(int, utimes, -1, (const char *path, const struct timeval times[2]), (path, times), AT_FDCWD,
		path, TIMES_ERR(times))
WRAP_PATH_DEBUG(int, lutimes, -1, (const char *path, const struct timeval times[2]), (path, times), AT_FDCWD,
		path, TIMES_ERR(times))
#undef R_W_X
#undef TIMES_ERR
WRAP_TRUNCATE(truncate, off_t)
WRAP_TRUNCATE(truncate64, off64_t)

/* extended attributes (ls asks for ACLs through lgetxattr) */
WRAP_PATH(ssize_t, getxattr, -1, (const char *path, const char *name, void *value, size_t size),
	  (path, name, value, size), AT_FDCWD, path)
WRAP_PATH(ssize_t, lgetxattr, -1, (const char *path, const char *name, void *value, size_t size),
	  (path, name, value, size), AT_FDCWD, path)
WRAP_PATH(int, setxattr, -1, (const char *path, const char *name, const void *value, size_t size, int flags),
	  (path, name, value, size, flags), AT_FDCWD, path)
WRAP_PATH(int, lsetxattr, -1, (const char *path, const char *name, const void *value, size_t size, int flags),
	  (path, name, value, size, flags), AT_FDCWD, path)
WRAP_PATH(ssize_t, listxattr, -1, (const char *path, char *list, size_t size), (path, list, size), AT_FDCWD, path)
WRAP_PATH(ssize_t, llistxattr, -1, (const char *path, char *list, size_t size), (path, list, size), AT_FDCWD, path)
WRAP_PATH(int, removexattr, -1, (const char *path, const char *name), (path, name), AT_FDCWD, path)
WRAP_PATH(int, lremovexattr, -1, (const char *path, const char *name), (path, name), AT_FDCWD, path)
