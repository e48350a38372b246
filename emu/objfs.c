/* SPDX-License-Identifier: MIT */
/*
 * emu/objfs.c: pins, BPF_OBJ_GET, and object ids.
 *
 * A pin is a hard link of the object file into the fake bpffs (the path
 * translation is emu/path.c's). Ids come from counters in the state root's
 * "ids" file. A live object is one that some fd or pin still holds, which is
 * exactly what keeps its (unlinked) file alive: finding one by id scans the
 * pins and /proc/<pid>/fd of the processes we may look at (ours, or all for
 * root). Rare, and never on the element-operation path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "map.h"
#include "os.h"

struct id_counters {
	__u32 next[8];     /* by enum emu_kind */
};

static struct id_counters *ids;
static pthread_mutex_t ids_lock = PTHREAD_MUTEX_INITIALIZER;

static struct id_counters *ids_map(void)
{
	struct id_counters *p = __atomic_load_n(&ids, __ATOMIC_ACQUIRE);
	if (p)
		return p;
	pthread_mutex_lock(&ids_lock);
	if (!ids && !emu_root_ready()) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%.4000s/ids", emu_config()->root);
		int fd = emu_os_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			struct stat sb;
			/* in a shared root every user takes ids from the same counters */
			if (emu_root_shared() && !emu_os_fstat(fd, &sb) && sb.st_uid == getuid() &&
			    (sb.st_mode & 0777) != 0666)
				emu_os_fchmod(fd, 0666);
			if (!emu_os_fstat(fd, &sb) &&
			    (sb.st_size >= (off_t)EMU_PAGE_SIZE || !emu_os_fallocate(fd, 0, 0, EMU_PAGE_SIZE))) {
				void *m = emu_os_mmap(NULL, EMU_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, NULL);
				if (m != MAP_FAILED)
					__atomic_store_n(&ids, m, __ATOMIC_RELEASE);
			}
			emu_os_close(fd);
		}
	}
	pthread_mutex_unlock(&ids_lock);
	return ids;
}

__u32 emu_id_alloc(enum emu_kind kind)
{
	struct id_counters *c = ids_map();
	if (!c)
		return 0;
	__u32 id = __atomic_add_fetch(&c->next[kind], 1, __ATOMIC_RELAXED);
	return id <= INT_MAX ? id : 0;
}

/* ---- pin / get ---- */

/*
 * The program's view of pathname as an absolute path: as given if absolute,
 * else after the directory dirfd (or the cwd) stands for, bpffs directories
 * shown at their mount point. The kernel's errors for the base: EBADF for a
 * dirfd that is not open, ENOTDIR for one that is no directory.
 */
static int abs_view(int dirfd, const char *pathname, char out[PATH_MAX])
{
	char real[PATH_MAX], view[PATH_MAX];
	if (pathname[0] == '/') {
		if (strlen(pathname) >= PATH_MAX)
			return -ENAMETOOLONG;
		strcpy(out, pathname);
		return 0;
	}
	if (dirfd != AT_FDCWD) {
		/* the caller's fd (emu/caller.c): open, and a directory */
		struct stat sb;
		int lfd = emu_caller_fd(dirfd);
		int err = lfd < 0 ? -EBADF : emu_os_fstat(lfd, &sb);
		if (err)
			return err;
		if (!S_ISDIR(sb.st_mode))
			return -ENOTDIR;
	}
	long n = emu_caller_dir(dirfd, real, sizeof(real));
	if (n <= 0 || real[0] != '/')
		return n < 0 ? (int)n : -ENOENT;
	const char *v = emu_bpffs_untranslate(real, view);
	if (!v)
		return -ENAMETOOLONG;
	if (snprintf(out, PATH_MAX, "%s/%s", strcmp(v, "/") ? v : "", pathname) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static bool canon_inside(const char *canon)
{
	const char *base = emu_bpffs_real();
	size_t n = strlen(base);
	return !strncmp(canon, base, n) && (canon[n] == '\0' || canon[n] == '/');
}

static bool resolves_inside(const char *real_path)
{
	char canon[PATH_MAX];
	return !emu_os_realpath(real_path, canon) && canon_inside(canon);
}

/* A path below the bpffs root with no ".." component. */
static bool lexically_inside(const char *real_path)
{
	const char *base = emu_bpffs_real();
	size_t n = strlen(base);
	if (strncmp(real_path, base, n) || real_path[n] != '/')
		return false;
	for (const char *c = real_path + n; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchrnul(c, '/');
		if (e - c == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c = e;
	}
	return true;
}

const char *emu_bpffs_from_root(const char *real_path, int *dirfd)
{
	*dirfd = AT_FDCWD;
	if (!lexically_inside(real_path))
		return real_path;
	const char *rel = real_path + strlen(emu_bpffs_real());
	while (*rel == '/')
		rel++;
	int d = *rel ? emu_bpffs_dirfd() : -1;
	if (d < 0)
		return real_path;
	*dirfd = d;
	return rel;
}

/* The same for the file an fd is open on. */
static bool fd_inside(int fd)
{
	char canon[PATH_MAX];
	long n = emu_os_fd_path(fd, canon, sizeof(canon) - 1);
	if (n <= 0)
		return false;
	canon[n] = '\0';
	return canon_inside(canon);
}

/*
 * bpf_lookup(): a name with a dot is reserved in bpffs, the lookup of one that
 * does not exist is EPERM (only the files bpffs itself creates, like
 * maps.debug, have one). The
 * kernel meets it walking: a component before it that is missing or no
 * directory answers first. real is a translated (normalized) bpffs path;
 * 0 if no component has a dot, else the walk's errno.
 */
static int bpffs_dotted(const char *real)
{
	size_t n = strlen(emu_config()->bpffs_dir);
	if (strncmp(real, emu_config()->bpffs_dir, n))
		return 0;
	for (const char *c = real + n; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchrnul(c, '/');
		if (memchr(c, '.', (size_t)(e - c))) {
			char parent[PATH_MAX];
			struct stat sb;
			snprintf(parent, sizeof(parent), "%.*s", (int)(c - real), real);
			int err = emu_os_stat(parent, &sb);
			if (err)
				return err;
			if (!S_ISDIR(sb.st_mode))
				return -ENOTDIR;
			/* bpffs' own dotted entries (maps.debug) are found */
			snprintf(parent, sizeof(parent), "%.*s", (int)(e - real), real);
			if (emu_os_lstat(parent, &sb))
				return -EPERM;
		}
		c = e;
	}
	return 0;
}

int emu_obj_pin_at(int fd, int dirfd, const char *pathname)
{
	char abs[PATH_MAX], buf[PATH_MAX], proc[64];
	struct emu_obj *obj;
	struct stat sb;
	int acc, err;

	err = emu_fd_get(fd, EMU_KIND_NONE, &obj, &acc);
	if (err)
		return err;
	err = abs_view(dirfd, pathname, abs);
	if (err)
		goto out;
	const char *path = emu_bpffs_translate(AT_FDCWD, abs, buf);
	if (!path) {
		err = -errno;
		goto out;
	}
	if (path == abs) {
		/* Outside every bpffs: user_path_create() errors first, then EPERM. */
		err = emu_os_lstat(path, &sb);
		if (!err) {
			err = -EEXIST;
		} else if (err == -ENOENT) {
			char parent[PATH_MAX];
			snprintf(parent, sizeof(parent), "%s", path);
			char *slash = strrchr(parent, '/');
			if (slash == parent)
				parent[1] = '\0';
			else if (slash)
				*slash = '\0';
			err = emu_os_stat(parent, &sb);
			if (!err)
				err = !S_ISDIR(sb.st_mode) ? -ENOTDIR : path[strlen(path) - 1] == '/' ? -ENOENT : -EPERM;
		}
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_PIN %s: not on a bpf filesystem (%s)", pathname, strerror(-err));
		goto out;
	}
	if (emu_bpffs_debug_entry(AT_FDCWD, path)) {     /* the name exists */
		err = -EEXIST;
		goto out;
	}
	err = bpffs_dotted(path);
	if (err) {
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_PIN %s: names with a dot are reserved in bpffs: %s", pathname,
			strerror(-err));
		goto out;
	}
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	/* user_path_create(): an existing name is EEXIST before anything else;
	 * a parent below the bpffs root may be a symlink planted to lead out
	 * (the root itself is ours) */
	if (strcmp(parent, emu_config()->bpffs_dir) && emu_os_lstat(path, &sb) == -ENOENT &&
	    !emu_os_lstat(parent, &sb) && !resolves_inside(parent)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_PIN %s: the parent resolves outside the bpf filesystem: EPERM", pathname);
		err = -EPERM;
		goto out;
	}
	emu_obj_share(obj);      /* a pin reaches it from anywhere: its BTF hold becomes a link */
	emu_obj_mark_linked(obj);
	err = -ENOENT;
	if (obj->hdr->spare_seq) {
		/* by its spare name: a shorter walk */
		int dfd;
		const char *rel = emu_bpffs_from_root(path, &dfd);
		err = emu_obj_link_spare(obj, dfd, rel);
	}
	if (err == -ENOENT) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", emu_caller_fd(fd));
		err = emu_os_linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
	}
	EMU_LOG(EMU_LOG_PATH, "pin fd %d (id %u) at %s -> %s: %s", fd, obj->hdr->id, pathname, path,
		err ? strerror(-err) : "ok");
out:
	emu_obj_put(obj);
	return err;
}

int emu_obj_get_at(int dirfd, const char *pathname, int accmode)
{
	char abs[PATH_MAX], buf[PATH_MAX];
	struct stat sb;

	int err = abs_view(dirfd, pathname, abs);
	if (err)
		return err;
	const char *path = emu_bpffs_translate(AT_FDCWD, abs, buf);
	if (!path)
		return -errno;
	if (path != abs && emu_bpffs_debug_entry(AT_FDCWD, path)) {
		/* bpf_preload's entries are root's 0400 files: the permission
		 * check refuses everyone else; root gets no object from them */
		return geteuid() == 0 ? -ENOENT : -EACCES;
	}
	if (path != abs && (err = bpffs_dotted(path)))
		return err;
	if (path == abs) {
		/* outside every bpffs: the walk's errors, else no bpf object */
		err = emu_os_stat(path, &sb);
		if (err)
			return err;
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_GET %s: not on a bpf filesystem: EACCES", pathname);
		return -EACCES;
	}
	/* the walk's errors and the permission check come with the open itself;
	 * a directory, or a file reached through a symlink out of bpffs, is no
	 * bpf object (EACCES). A walk without symlinks and ".." from the bpffs
	 * root stays inside: no need to ask where the file is. */
	bool inside = false;
	int fd = -ENOSYS;
	if (lexically_inside(path)) {
		int dfd;
		const char *rel = emu_bpffs_from_root(path, &dfd);
		fd = emu_os_open_nosymlinks(dfd, rel, accmode | O_CLOEXEC);
		inside = fd >= 0;
		if (fd == -ELOOP)
			fd = -ENOSYS;     /* a symlink on the way: the plain open below follows it */
	}
	if (fd == -ENOSYS)
		fd = emu_os_open(path, accmode | O_CLOEXEC, 0);
	if (fd == -EISDIR)
		return -EACCES;
	if (fd < 0)
		return fd;
	if (emu_os_fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (!inside && !fd_inside(fd))) {
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_GET %s: not a bpf object: EACCES", pathname);
		emu_os_close(fd);
		return -EACCES;
	}
	struct emu_obj *obj;
	/* a pin holds it: byte 0 is likely taken, the shared flag changes nothing */
	err = emu_fd_adopt(fd, &sb, accmode | EMU_HOLD_SECOND, &obj);
	if (err) {
		emu_fd_closed(fd);
		emu_os_close(fd);
		return err == -EINVAL ? -EACCES : err;
	}
	bool bad = obj->hdr->kind != EMU_KIND_MAP && accmode != O_RDWR;
	bool link = obj->hdr->kind == EMU_KIND_LINK;
	if (bad) {
		emu_obj_put(obj);
		emu_fd_closed(fd);
		emu_os_close(fd);
		return -EINVAL;
	}
	if (link) {
		/* checked for reading and writing like any get without flags, a
		 * link's fd is read-only (bpf_link_new_fd) */
		err = emu_fd_reopen_in_place(fd, O_RDONLY);
		if (err) {
			emu_obj_put(obj);
			emu_fd_closed(fd);
			emu_os_close(fd);
			return err;
		}
		emu_fd_closed(fd);       /* the cached access mode was read-write */
		emu_fd_hold(fd, O_RDONLY, obj);
	}
	emu_obj_put(obj);
	return fd;
}

/* ---- ids: scan the pins and the fds of the processes we can see ---- */

struct scan {
	enum emu_kind kind;
	__u32 start;          /* next_id: smallest id > start */
	__u32 want;           /* fd_by_id: this id */
	__u32 best;
	char best_path[PATH_MAX];
	dev_t dev;
	bool all_users;       /* root: other users' default roots too, as the kernel shows root every id */
	/* emu_obj_foreach: every object of the kind, each id once (the first path found) */
	int (*each)(__u32 id, const char *path, void *ctx);
	void *each_ctx;
	__u32 *seen;
	size_t nseen, capseen;
	int each_ret;
	/* emu_obj_alive_ids: every live id of the kind, duplicates included */
	bool collect;
	__u32 *ids;
	size_t nids, capids;
	bool oom;
	/* the /proc scan only when a held file was not found by name (read_locks) */
	bool filter;          /* locked is whole: the state root's OFD-locked inodes */
	bool only_locked;     /* scan_dir: entries of locked inodes only (spare, limbo) */
	bool bpffs_top;       /* scan_dir: the top of our bpffs (its two debug files) */
	ino_t *locked, *found;
	size_t nlocked, nfound, capfound;
	struct timespec snap;  /* when /proc/locks was read (CLOCK_REALTIME) */
	ino_t *markers;       /* unnamed files of the root that are locked (markers_read) */
	size_t nmarkers;
	bool markers_all;
};

static int cmp_ino(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;
	return x < y ? -1 : x > y;
}

static bool ino_in(const ino_t *set, size_t n, ino_t ino)
{
	return n && bsearch(&ino, set, n, sizeof(*set), cmp_ino);
}

static void found_add(struct scan *s, ino_t ino)
{
	if (s->nfound == s->capfound) {
		size_t cap = s->capfound ? s->capfound * 2 : 64;
		ino_t *n = realloc(s->found, cap * sizeof(*n));
		if (!n) {
			s->filter = false;        /* cannot tell: the /proc scan */
			return;
		}
		s->found = n;
		s->capfound = cap;
	}
	s->found[s->nfound++] = ino;
}

/* A live object of kind with id, by path (its file's inode ino). */
static void seen_alive(struct scan *s, const char *path, __u32 kind, __u32 id, ino_t ino)
{
	if (s->filter)
		found_add(s, ino);
	if (kind != (__u32)s->kind)
		return;
	if (s->collect) {
		if (s->nids == s->capids) {
			size_t cap = s->capids ? s->capids * 2 : 256;
			__u32 *n = realloc(s->ids, cap * sizeof(*n));
			if (!n) {
				s->oom = true;
				return;
			}
			s->ids = n;
			s->capids = cap;
		}
		s->ids[s->nids++] = id;
		return;
	}
	if (s->each) {
		size_t i = 0;
		while (i < s->nseen && s->seen[i] != id)
			i++;
		if (i == s->nseen && !s->each_ret) {
			if (s->nseen == s->capseen) {
				size_t cap = s->capseen ? s->capseen * 2 : 64;
				__u32 *n = realloc(s->seen, cap * sizeof(*n));
				if (n) {
					s->seen = n;
					s->capseen = cap;
				}
			}
			if (s->nseen < s->capseen)
				s->seen[s->nseen++] = id;
			s->each_ret = s->each(id, path, s->each_ctx);
		}
		return;
	}
	bool take = s->want ? id == s->want && !s->best : id > s->start && (!s->best || id < s->best);
	if (take) {
		s->best = id;
		snprintf(s->best_path, sizeof(s->best_path), "%s", path);
	}
}

static void consider(struct scan *s, const char *path)
{
	struct emu_obj_hdr h;
	struct stat sb;
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);

	if (fd < 0)
		return;
	/* a file nothing holds (a spare, emu/fdtable.c) is no live object; the
	 * held ones of every kind are counted as found by name (s->filter) */
	bool obj = !emu_os_fstat(fd, &sb) && S_ISREG(sb.st_mode) && sb.st_dev == s->dev &&
		   sb.st_size >= (off_t)EMU_PAGE_SIZE &&
		   emu_os_pread(fd, &h, sizeof(h), emu_obj_hdr_off(sb.st_size)) == (long)sizeof(h) &&
		   __atomic_load_n(&h.magic, __ATOMIC_ACQUIRE) == EMU_OBJ_MAGIC;
	/* a file /proc/locks showed locked is held (by an fd, as the test
	 * below would find: a lock released since is a close that raced the
	 * scan, as on the kernel) */
	bool held = obj && (h.kind == (__u32)s->kind || s->filter) &&
		    ((s->only_locked && ino_in(s->locked, s->nlocked, sb.st_ino)) || emu_file_held(fd, &sb, &h));
	emu_os_close(fd);
	if (held)
		seen_alive(s, path, h.kind, h.id, sb.st_ino);
}

/* bpffs's own entries in its root (EMU_BPFFS_DEBUG_ENTRIES): one stat,
 * where consider() would open them to find no object (a pin by such a
 * name, after they were removed, is considered as any other) */
static bool is_debug_file(const char *path)
{
	static const char *const names[] = EMU_BPFFS_DEBUG_ENTRIES;
	const char *base = strrchr(path, '/');
	struct stat sb;
	bool match = false;
	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		match |= !strcmp(base, names[i]);
	return match && !emu_os_stat(path, &sb) && sb.st_size < (off_t)EMU_PAGE_SIZE;
}

static void scan_dir(struct scan *s, const char *dir, int depth)
{
	struct emu_os_dir *d = emu_os_opendir(dir, NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return;
	while ((e = emu_os_readdir(d))) {
		char path[PATH_MAX];
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->name) >= (int)sizeof(path))
			continue;
		if (e->type == DT_DIR && depth < 32)
			scan_dir(s, path, depth + 1);
		else if (s->bpffs_top && !depth && is_debug_file(path))
			continue;
		else if ((e->type == DT_REG || e->type == DT_UNKNOWN) &&
			 !(s->only_locked && !ino_in(s->locked, s->nlocked, e->ino)))
			consider(s, path);
		if (s->want && s->best)
			break;
	}
	emu_os_closedir(d);
}

/* May we read the fd directories of processes whose effective uid is not
 * ours (CAP_SYS_PTRACE in the effective set)? */
static bool may_read_others_fds(void)
{
	struct { __u32 version; int pid; } hdr = { 0x20080522, 0 };     /* _LINUX_CAPABILITY_VERSION_3 */
	struct { __u32 effective, permitted, inheritable; } data[2];
	memset(data, 0, sizeof(data));
	if (EMU_OS_SC(SYS_capget, &hdr, data, 0, 0, 0, 0))
		return true;          /* cannot tell: try them all */
	return data[0].effective & (1u << 19);                           /* CAP_SYS_PTRACE */
}

static void scan_procs(struct scan *s, const char *root_real, size_t root_len)
{
	struct emu_os_dir *proc = emu_os_opendir("/proc", NULL);
	const struct emu_os_dirent *p;
	if (!proc)
		return;
	/* Without root or CAP_SYS_PTRACE only our own (dumpable) processes'
	 * fd directories open (ptrace_may_access): /proc/PID belongs to the
	 * process's effective uid (root when not dumpable), and a stat of it
	 * costs less than an open that fails, on a machine with thousands of
	 * processes of other users. */
	uid_t me = geteuid();
	bool own_only = me != 0 && !may_read_others_fds();
	while ((p = emu_os_readdir(proc)) && !(s->want && s->best)) {
		char fddir[64];
		if (p->name[0] < '0' || p->name[0] > '9')
			continue;
		struct stat psb;
		if (own_only && (emu_os_fstatat(emu_os_dirfd(proc), p->name, &psb, 0) || psb.st_uid != me))
			continue;
		snprintf(fddir, sizeof(fddir), "/proc/%.20s/fd", p->name);
		struct emu_os_dir *d = emu_os_opendir(fddir, NULL);
		const struct emu_os_dirent *e;
		if (!d)
			continue;
		while ((e = emu_os_readdir(d))) {
			char path[96], target[PATH_MAX];
			if (e->name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%.20s", fddir, e->name);
			long n = emu_os_readlink(path, target, sizeof(target) - 1);
			if (n <= (long)root_len)
				continue;
			target[n] = '\0';
			/* ours: an object file of our state root; root also takes
			 * every other user's (object files are "<root>/objs/#ino") */
			bool mine = !strncmp(target, root_real, root_len) && target[root_len] == '/';
			if (!mine && !(s->all_users && !strncmp(target, "/dev/shm/bpfemu-", 16) &&
				       strstr(target, "/objs/#")))
				continue;
			consider(s, path);
			if (s->want && s->best)
				break;
		}
		emu_os_closedir(d);
	}
	emu_os_closedir(proc);
}

/* Root: the pins of the other users' default state roots (/dev/shm/bpfemu-UID/bpffs). */
static void scan_other_pins(struct scan *s, const char *own_bpffs)
{
	struct emu_os_dir *d = emu_os_opendir("/dev/shm", NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return;
	while ((e = emu_os_readdir(d)) && !(s->want && s->best)) {
		char path[PATH_MAX];
		if (strncmp(e->name, "bpfemu-", 7))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%.200s/bpffs", e->name);
		if (strcmp(path, own_bpffs))
			scan_dir(s, path, 0);
	}
	emu_os_closedir(d);
}


/* The inodes of the state root's files that an OFD lock holds, from
 * /proc/locks: every fd a program holds of an object holds its file so
 * (emu_fd_hold), in whatever process. 0, or -errno when that cannot tell
 * (no /proc/locks, an fd some process could not mark held: the "unheld"
 * file of the state root, emu_ids_unheld). */
static int read_locks(struct scan *s)
{
	char unheld[PATH_MAX];
	struct stat sb;
	snprintf(unheld, sizeof(unheld), "%.4000s/unheld", emu_config()->root);
	if (!emu_os_stat(unheld, &sb))
		return -ENOLCK;
	int err = 0;
	clock_gettime(CLOCK_REALTIME, &s->snap);
	char *text = emu_os_slurp("/proc/locks", NULL, &err);
	if (!text)
		return err ? err : -ENOENT;
	size_t cap = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned int maj, min;
		unsigned long long ino;
		char *dev = strstr(line, " -1 ");       /* OFD locks have no pid */
		if (!strstr(line, "OFDLCK") || strstr(line, "->") || !dev ||
		    sscanf(dev + 4, "%x:%x:%llu", &maj, &min, &ino) != 3 || makedev(maj, min) != s->dev)
			continue;
		if (s->nlocked == cap) {
			cap = cap ? cap * 2 : 64;
			ino_t *n = realloc(s->locked, cap * sizeof(*n));
			if (!n) {
				free(text);
				return -ENOMEM;
			}
			s->locked = n;
		}
		s->locked[s->nlocked++] = (ino_t)ino;
	}
	free(text);
	if (s->nlocked)
		qsort(s->locked, s->nlocked, sizeof(*s->locked), cmp_ino);
	return 0;
}

/* The locked files of this process's own live objects, from its table
 * (their headers are mapped here): no directory read, no open. */
static void scan_own(struct scan *s, const char *spare)
{
	struct emu_own_obj *own;
	size_t n = emu_objs_own_named(&own);
	for (size_t i = 0; i < n && !(s->want && s->best); i++) {
		char path[PATH_MAX];
		if (own[i].dev != s->dev || !ino_in(s->locked, s->nlocked, own[i].ino) ||
		    snprintf(path, sizeof(path), "%s/%s", spare, own[i].name) >= (int)sizeof(path))
			continue;
		seen_alive(s, path, own[i].kind, own[i].id, own[i].ino);
	}
	free(own);
}

/* Was every locked file found by name (an object of some kind, held)? */
static bool all_locked_found(struct scan *s)
{
	if (!s->filter)
		return false;
	if (s->nfound)
		qsort(s->found, s->nfound, sizeof(*s->found), cmp_ino);
	for (size_t i = 0; i < s->nlocked; i++)
		if (!ino_in(s->found, s->nfound, s->locked[i]))
			return false;
	return true;
}

void emu_ids_unheld(void)
{
	static bool noted;
	if (__atomic_exchange_n(&noted, true, __ATOMIC_RELAXED))
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%.4000s/unheld", emu_config()->root);
	int fd = emu_os_open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		emu_os_close(fd);
}

/*
 * Unnamed object files. Every fd of an object holds its file with an OFD
 * lock, so /proc/locks lists the held files of every state root on the file
 * system, by inode. A scan finds ours by their names (pins, spare names,
 * limbo, reference links); a locked file it did not find is another root's,
 * unless it is one of ours that has no name: an O_TMPFILE object (over
 * 1 MiB, or made without the shim). Each of those leaves a marker,
 * <root>/unnamed/<ino> (a symlink: one call), and a scan that misses a
 * locked file with a marker reads /proc. Markers of files no lock holds
 * any more go with the scans (markers_read); "all" (a marker that could not
 * be made) sends every such miss to /proc.
 */
#define MARKERS_ALL "all"

void emu_ids_unnamed(ino_t ino)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%.4000s/unnamed", emu_config()->root);
	snprintf(path, sizeof(path), "%s/%llu", dir, (unsigned long long)ino);
	int err = emu_os_symlinkat("-", AT_FDCWD, path);
	if (err == -ENOENT) {
		emu_os_mkdir(dir, emu_root_shared() ? 01777 : 0700);
		err = emu_os_symlinkat("-", AT_FDCWD, path);
	}
	if (err && err != -EEXIST) {
		snprintf(path, sizeof(path), "%.4000s/unnamed/" MARKERS_ALL, emu_config()->root);
		err = emu_os_symlinkat("-", AT_FDCWD, path);
		if (err && err != -EEXIST)
			emu_ids_unheld();    /* nothing can say so: no shortcut for id scans at all */
	}
}

/* Reads the markers into s (markers, markers_all), and removes those of
 * files that no lock held at the scan's /proc/locks read (s->snap) and that
 * were made before it (a marker comes before its file's first lock): such a
 * file is gone, or only a name holds it, by which a scan finds it. */
static void markers_read(struct scan *s)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.4000s/unnamed", emu_config()->root);
	int err = 0;
	struct emu_os_dir *d = emu_os_opendir(dir, &err);
	const struct emu_os_dirent *e;
	if (!d) {
		s->markers_all = err != -ENOENT;     /* cannot tell: ours, to be safe */
		return;
	}
	size_t cap = 0;
	while ((e = emu_os_readdir(d))) {
		char *end;
		unsigned long long ino = strtoull(e->name, &end, 10);
		if (!strcmp(e->name, MARKERS_ALL))
			s->markers_all = true;
		if (e->name[0] < '0' || e->name[0] > '9' || *end)
			continue;
		struct stat sb;
		if (!ino_in(s->locked, s->nlocked, (ino_t)ino)) {
			/* a second of slack for the clocks' granularity */
			if (!emu_os_fstatat(emu_os_dirfd(d), e->name, &sb, AT_SYMLINK_NOFOLLOW) &&
			    sb.st_ctim.tv_sec + 1 < s->snap.tv_sec)
				emu_os_unlinkat(emu_os_dirfd(d), e->name, 0);
			continue;        /* no lock: no miss to explain */
		}
		if (s->nmarkers == cap) {
			cap = cap ? cap * 2 : 16;
			ino_t *n = realloc(s->markers, cap * sizeof(*n));
			if (!n) {
				s->markers_all = true;
				break;
			}
			s->markers = n;
		}
		s->markers[s->nmarkers++] = (ino_t)ino;
	}
	emu_os_closedir(d);
	if (s->nmarkers)
		qsort(s->markers, s->nmarkers, sizeof(*s->markers), cmp_ino);
}

/* May one of the locked files no name led to be ours? */
static bool unfound_may_be_ours(const struct scan *s)
{
	if (s->markers_all)
		return true;
	for (size_t i = 0; i < s->nlocked; i++)
		if (!ino_in(s->found, s->nfound, s->locked[i]) && ino_in(s->markers, s->nmarkers, s->locked[i]))
			return true;
	return false;
}

static void scan_free(struct scan *s)
{
	free(s->locked);
	free(s->found);
	free(s->markers);
}

static int scan_ids(struct scan *s)
{
	const struct emu_config *c = emu_config();
	int err = emu_root_ready();

	if (err)
		return err;
	err = emu_root_dev(&s->dev);
	if (err)
		return err;
	/* Root in the default state root also sees the other users' default
	 * roots. A root given by BPFEMU_ROOT is a private world: its ids are
	 * its own, and other roots' ids could collide with them. */
	if (geteuid() == 0) {
		char def[64];
		snprintf(def, sizeof(def), "/dev/shm/bpfemu-%u", (unsigned int)getuid());
		s->all_users = !strcmp(c->root, def);
	}
	/* Objects an fd holds are found in the fd directories of /proc, one
	 * stat (and, for our own processes, a directory read) a process. But
	 * every object file has a name in the state root (a spare name, limbo)
	 * unless the root says otherwise (emu_ids_unnamed): when every file an
	 * OFD lock holds was found by name, or the rest can only be other
	 * roots' files on the same file system, /proc is not read. Root's view of other users'
	 * roots has no such list. Nor has a door's (tools/seccomp): its
	 * supervisor keeps the mappings it made of its callers' objects, from
	 * their own open files, so their locks outlive the callers' fds. */
	s->filter = !s->all_users && !emu_caller_cur && !read_locks(s);
	if (s->filter)
		markers_read(s);
	s->bpffs_top = true;
	scan_dir(s, c->bpffs_dir, 0);
	s->bpffs_top = false;
	if (s->all_users && !(s->want && s->best))
		scan_other_pins(s, c->bpffs_dir);
	char dir[PATH_MAX];       /* one buffer for the directories below (fewer stack pages) */
	snprintf(dir, sizeof(dir), "%.4000s/spare", c->root);
	if (s->kind == EMU_KIND_BTF && !(s->want && s->best))
		scan_dir(s, dir, 0);    /* BTF that only maps or programs of its process hold (emu/fdtable.c) */
	else if (s->filter && !(s->want && s->best)) {
		/* our own process's objects are known without reading the
		 * directory: the rest of the locked files by their names */
		scan_own(s, dir);
		s->only_locked = true;
		if (!(s->want && s->best) && !all_locked_found(s))
			scan_dir(s, dir, 0);
	}
	if (s->filter && !(s->want && s->best) && !all_locked_found(s)) {
		snprintf(dir, sizeof(dir), "%.4000s/limbo", c->root);
		s->only_locked = true;
		scan_dir(s, dir, 0);
	}
	s->only_locked = false;
	if (!(s->want && s->best)) {      /* objects only a map slot holds (emu/map_in_map.c) */
		snprintf(dir, sizeof(dir), "%.4000s/refs", c->root);
		scan_dir(s, dir, 0);
	}
	if (!(s->want && s->best) && (!s->filter || (!all_locked_found(s) && unfound_may_be_ours(s)))) {
		if (emu_os_realpath(c->root, dir))
			snprintf(dir, sizeof(dir), "%s", c->root);
		scan_procs(s, dir, strlen(dir));
	}
	return 0;
}

int emu_obj_foreach(enum emu_kind kind, int (*fn)(__u32 id, const char *path, void *ctx), void *ctx)
{
	struct scan s = { .kind = kind, .each = fn, .each_ctx = ctx };
	emu_refs_gc();
	int err = scan_ids(&s);
	free(s.seen);
	scan_free(&s);
	return err ? err : s.each_ret;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	return x < y ? -1 : x > y;
}

int emu_obj_alive_ids(enum emu_kind kind, __u32 **ids, size_t *n)
{
	struct scan s = { .kind = kind, .collect = true };
	int err = scan_ids(&s);
	scan_free(&s);
	if (!err && s.oom)
		err = -ENOMEM;
	if (err) {
		free(s.ids);
		return err;
	}
	if (s.nids)
		qsort(s.ids, s.nids, sizeof(*s.ids), cmp_u32);
	*ids = s.ids;
	*n = s.nids;
	return 0;
}

bool emu_obj_alive(enum emu_kind kind, __u32 id)
{
	struct scan s = { .kind = kind, .want = id };
	int err = scan_ids(&s);
	scan_free(&s);
	return !err && s.best == id;
}

int emu_obj_next_id(enum emu_kind kind, __u32 start, __u32 *next)
{
	struct scan s = { .kind = kind, .start = start };
	emu_refs_gc();
	int err = scan_ids(&s);
	scan_free(&s);
	if (err)
		return err;
	if (!s.best)
		return -ENOENT;
	*next = s.best;
	return 0;
}

int emu_obj_fd_by_id(enum emu_kind kind, __u32 id, int accmode)
{
	struct scan s = { .kind = kind, .want = id };
	emu_refs_gc();
	int err = scan_ids(&s);
	scan_free(&s);
	if (err)
		return err;
	if (!s.best)
		return -ENOENT;
	int fd = emu_os_open(s.best_path, accmode | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	struct emu_obj *obj;
	int acc;
	err = emu_fd_get_local(fd, kind, &obj, &acc);
	if (err) {
		emu_fd_closed(fd);
		emu_os_close(fd);
		return -ENOENT;
	}
	bool same = obj->hdr->id == id;
	emu_obj_put(obj);
	if (!same) {
		emu_fd_closed(fd);
		emu_os_close(fd);
		return -ENOENT;
	}
	return fd;
}

/* Does any process we can see have a writable shared mapping of the object's
 * data (a user mmap of a map fd)? The kernel counts those as write-active
 * (freeze answers EBUSY). The engine's own mappings cover the header page,
 * the file's last; user mappings end before it. Only MAP_FREEZE asks. */
bool emu_obj_writably_mapped(const struct emu_obj *obj)
{
	struct emu_os_dir *proc = emu_os_opendir("/proc", NULL);
	const struct emu_os_dirent *p;
	bool found = false;

	if (!proc)
		return false;
	while (!found && (p = emu_os_readdir(proc))) {
		char path[64];
		if (p->name[0] < '0' || p->name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/maps", p->name);
		char *text = emu_os_slurp(path, NULL, NULL);
		if (!text)
			continue;
		for (char *save, *line = strtok_r(text, "\n", &save); !found && line; line = strtok_r(NULL, "\n", &save)) {
			char perms[8];
			unsigned long long start, end, off, ino;
			unsigned int maj, min;
			if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &off, &maj, &min, &ino) != 7)
				continue;
			if (ino == (unsigned long long)obj->ino && maj == major(obj->dev) && min == minor(obj->dev) &&
			    perms[1] == 'w' && perms[3] == 's' && off + (end - start) <= obj->hdr->data_size)
				found = true;
		}
		free(text);
	}
	emu_os_closedir(proc);
	return found;
}

/* Before the shim unlinks a bpffs name: an object file's last link is kept in
 * limbo too (emu_limbo_keep; a spare name, emu/fdtable.c, is a link that its
 * process hands to limbo in the same way when it goes), because Linux never links a file again once it
 * lost its last link, and the kernel lets a pinned fd be pinned again after
 * its pin was removed. The limbo link goes with the next id scan once no fd
 * reaches the object (emu_refs_gc). */
void emu_unpin_prepare(int dirfd, const char *path)
{
	struct emu_obj_hdr h;
	struct stat sb;
	if (emu_os_fstatat(dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
	    sb.st_size < (off_t)EMU_PAGE_SIZE)
		return;
	int fd = emu_os_openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
	if (fd < 0)
		return;
	long n = emu_os_pread(fd, &h, offsetof(struct emu_obj_hdr, owner_uid), emu_obj_hdr_off(sb.st_size));
	emu_os_close(fd);
	if (n != (long)offsetof(struct emu_obj_hdr, owner_uid) || h.magic != EMU_OBJ_MAGIC)
		return;
	int err = emu_limbo_keep(dirfd, path, (enum emu_kind)h.kind, h.id);
	EMU_LOG(EMU_LOG_PATH, "unpin %s: object %u keeps a link in limbo: %s", path, h.id,
		err ? strerror(-err) : "ok");
}
