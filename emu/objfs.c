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
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			struct stat sb;
			/* in a shared root every user takes ids from the same counters */
			if (emu_root_shared() && !fstat(fd, &sb) && sb.st_uid == getuid() && (sb.st_mode & 0777) != 0666)
				fchmod(fd, 0666);
			if (!fstat(fd, &sb) && (sb.st_size >= (off_t)EMU_PAGE_SIZE || !posix_fallocate(fd, 0, EMU_PAGE_SIZE))) {
				void *m = mmap(NULL, EMU_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
				if (m != MAP_FAILED)
					__atomic_store_n(&ids, m, __ATOMIC_RELEASE);
			}
			close(fd);
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

/* bpf_lookup(): a name with a dot is reserved in bpffs, its lookup is EPERM
 * (only the files bpffs itself creates, like maps.debug, have one). */
static bool bpffs_dotted(const char *real)
{
	size_t n = strlen(emu_config()->bpffs_dir);
	/* the path is normalized: no "." or ".." components are left */
	return !strncmp(real, emu_config()->bpffs_dir, n) && strchr(real + n, '.');
}

/* Does real_path, symlinks resolved, lie in the fake bpffs? A symlink planted
 * inside it must not let a pin or a get reach a file outside (the kernel
 * refuses a pin whose parent is not on a bpffs, and a get of a file that is
 * not a bpf object). */
static bool resolves_inside(const char *real_path)
{
	char canon[PATH_MAX], base[PATH_MAX];
	if (!realpath(real_path, canon) || !realpath(emu_config()->bpffs_dir, base))
		return false;
	size_t n = strlen(base);
	return !strncmp(canon, base, n) && (canon[n] == '\0' || canon[n] == '/');
}

int emu_obj_pin(int fd, const char *pathname)
{
	char buf[PATH_MAX], proc[64];
	struct emu_obj *obj;
	struct stat sb;
	int acc, err;

	err = emu_fd_get(fd, EMU_KIND_NONE, &obj, &acc);
	if (err)
		return err;
	const char *path = emu_bpffs_translate(AT_FDCWD, pathname, buf);
	if (!path) {
		err = -errno;
		goto out;
	}
	if (path == pathname) {
		/* Outside every bpffs: user_path_create() errors first, then EPERM. */
		if (!lstat(path, &sb)) {
			err = -EEXIST;
		} else if (errno != ENOENT) {
			err = -errno;
		} else {
			char parent[PATH_MAX];
			snprintf(parent, sizeof(parent), "%s", path);
			char *slash = strrchr(parent, '/');
			if (slash == parent)
				parent[1] = '\0';
			else if (slash)
				*slash = '\0';
			else
				snprintf(parent, sizeof(parent), ".");
			err = stat(parent, &sb) ? -errno : !S_ISDIR(sb.st_mode) ? -ENOTDIR : -EPERM;
		}
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_PIN %s: not on a bpf filesystem (%s)", pathname, strerror(-err));
		goto out;
	}
	if (emu_bpffs_debug_entry(AT_FDCWD, path)) {     /* the name exists */
		err = -EEXIST;
		goto out;
	}
	if (bpffs_dotted(path)) {
		err = -EPERM;
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_PIN %s: names with a dot are reserved in bpffs: EPERM", pathname);
		goto out;
	}
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	/* user_path_create(): an existing name is EEXIST before anything else */
	if (lstat(path, &sb) && errno == ENOENT && !lstat(parent, &sb) && !resolves_inside(parent)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_PIN %s: the parent resolves outside the bpf filesystem: EPERM", pathname);
		err = -EPERM;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", emu_caller_fd(fd));
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW))
		err = -errno;
	EMU_LOG(EMU_LOG_PATH, "pin fd %d (id %u) at %s -> %s: %s", fd, obj->hdr->id, pathname, path,
		err ? strerror(-err) : "ok");
out:
	emu_obj_put(obj);
	return err;
}

int emu_obj_get(const char *pathname, int accmode)
{
	char buf[PATH_MAX];
	struct stat sb;

	const char *path = emu_bpffs_translate(AT_FDCWD, pathname, buf);
	if (!path)
		return -errno;
	if (path != pathname && emu_bpffs_debug_entry(AT_FDCWD, path))
		return -ENOENT;      /* bpf_preload's entries are no objects: ENOENT, as their open */
	if (path != pathname && bpffs_dotted(path))
		return -EPERM;
	if (stat(path, &sb))
		return -errno;
	if (path == pathname || !S_ISREG(sb.st_mode) || !resolves_inside(path)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_GET %s: not a bpf object: EACCES", pathname);
		return -EACCES;
	}
	int fd = open(path, accmode | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct emu_obj *obj;
	int acc;
	int err = emu_fd_get_local(fd, EMU_KIND_NONE, &obj, &acc);
	if (err) {
		emu_fd_closed(fd);
		close(fd);
		return err == -EINVAL ? -EACCES : err;
	}
	bool bad = obj->hdr->kind != EMU_KIND_MAP && accmode != O_RDWR;
	emu_obj_put(obj);
	if (bad) {
		emu_fd_closed(fd);
		close(fd);
		return -EINVAL;
	}
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
};

static void consider(struct scan *s, const char *path)
{
	struct emu_obj_hdr h;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return;
	if (!fstat(fd, &sb) && S_ISREG(sb.st_mode) && sb.st_dev == s->dev && sb.st_size >= (off_t)EMU_PAGE_SIZE &&
	    pread(fd, &h, sizeof(h), emu_obj_hdr_off(sb.st_size)) == (ssize_t)sizeof(h) &&
	    __atomic_load_n(&h.magic, __ATOMIC_ACQUIRE) == EMU_OBJ_MAGIC && h.kind == (__u32)s->kind) {
		bool take = s->want ? h.id == s->want && !s->best
				    : h.id > s->start && (!s->best || h.id < s->best);
		if (take) {
			s->best = h.id;
			snprintf(s->best_path, sizeof(s->best_path), "%s", path);
		}
	}
	close(fd);
}

static void scan_dir(struct scan *s, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (e->d_type == DT_DIR && depth < 32)
			scan_dir(s, path, depth + 1);
		else if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN)
			consider(s, path);
		if (s->want && s->best)
			break;
	}
	closedir(d);
}

static void scan_procs(struct scan *s, const char *root_real, size_t root_len)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	if (!proc)
		return;
	while ((p = readdir(proc)) && !(s->want && s->best)) {
		char fddir[64];
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(fddir, sizeof(fddir), "/proc/%.20s/fd", p->d_name);
		DIR *d = opendir(fddir);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d))) {
			char path[96], target[PATH_MAX];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%.20s", fddir, e->d_name);
			ssize_t n = readlink(path, target, sizeof(target) - 1);
			if (n <= (ssize_t)root_len)
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
		closedir(d);
	}
	closedir(proc);
}

/* Root: the pins of the other users' default state roots (/dev/shm/bpfemu-UID/bpffs). */
static void scan_other_pins(struct scan *s, const char *own_bpffs)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) && !(s->want && s->best)) {
		char path[PATH_MAX];
		if (strncmp(e->d_name, "bpfemu-", 7))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%.200s/bpffs", e->d_name);
		if (strcmp(path, own_bpffs))
			scan_dir(s, path, 0);
	}
	closedir(d);
}


static int scan_ids(struct scan *s)
{
	const struct emu_config *c = emu_config();
	char root_real[PATH_MAX];
	struct stat sb;
	int err = emu_root_ready();

	if (err)
		return err;
	if (stat(c->objs_dir, &sb))
		return -errno;
	s->dev = sb.st_dev;
	if (!realpath(c->root, root_real))
		snprintf(root_real, sizeof(root_real), "%s", c->root);
	/* Root in the default state root also sees the other users' default
	 * roots. A root given by BPFEMU_ROOT is a private world: its ids are
	 * its own, and other roots' ids could collide with them. */
	char def[64];
	snprintf(def, sizeof(def), "/dev/shm/bpfemu-%u", (unsigned int)getuid());
	s->all_users = geteuid() == 0 && !strcmp(c->root, def);
	scan_dir(s, c->bpffs_dir, 0);
	if (s->all_users && !(s->want && s->best))
		scan_other_pins(s, c->bpffs_dir);
	if (!(s->want && s->best)) {      /* objects only a map slot holds (emu/map_in_map.c) */
		char refs[PATH_MAX];
		snprintf(refs, sizeof(refs), "%.4000s/refs", c->root);
		scan_dir(s, refs, 0);
	}
	if (!(s->want && s->best))
		scan_procs(s, root_real, strlen(root_real));
	return 0;
}

bool emu_obj_alive(enum emu_kind kind, __u32 id)
{
	struct scan s = { .kind = kind, .want = id };
	return !scan_ids(&s) && s.best == id;
}

int emu_obj_next_id(enum emu_kind kind, __u32 start, __u32 *next)
{
	struct scan s = { .kind = kind, .start = start };
	emu_refs_gc();
	int err = scan_ids(&s);
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
	if (err)
		return err;
	if (!s.best)
		return -ENOENT;
	int fd = open(s.best_path, accmode | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	struct emu_obj *obj;
	int acc;
	err = emu_fd_get_local(fd, kind, &obj, &acc);
	if (err) {
		emu_fd_closed(fd);
		close(fd);
		return -ENOENT;
	}
	bool same = obj->hdr->id == id;
	emu_obj_put(obj);
	if (!same) {
		emu_fd_closed(fd);
		close(fd);
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
	DIR *proc = opendir("/proc");
	struct dirent *p;
	bool found = false;

	if (!proc)
		return false;
	while (!found && (p = readdir(proc))) {
		char path[64], line[PATH_MAX + 128];
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/maps", p->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			char perms[8];
			unsigned long long start, end, off, ino;
			unsigned int maj, min;
			if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &off, &maj, &min, &ino) != 7)
				continue;
			if (ino == (unsigned long long)obj->ino && maj == major(obj->dev) && min == minor(obj->dev) &&
			    perms[1] == 'w' && perms[3] == 's' && off + (end - start) <= obj->hdr->data_size)
				found = true;
		}
		fclose(f);
	}
	closedir(proc);
	return found;
}

/* Before the shim unlinks a bpffs name: an object file's last link is kept in
 * limbo too (emu_limbo_keep), because Linux never links a file again once it
 * lost its last link, and the kernel lets a pinned fd be pinned again after
 * its pin was removed. The limbo link goes with the next id scan once no fd
 * reaches the object (emu_refs_gc). */
void emu_unpin_prepare(int dirfd, const char *path)
{
	struct emu_obj_hdr h;
	struct stat sb;
	if (fstatat(dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
	    sb.st_size < (off_t)EMU_PAGE_SIZE)
		return;
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	ssize_t n = pread(fd, &h, offsetof(struct emu_obj_hdr, owner_uid), emu_obj_hdr_off(sb.st_size));
	close(fd);
	if (n != (ssize_t)offsetof(struct emu_obj_hdr, owner_uid) || h.magic != EMU_OBJ_MAGIC)
		return;
	int err = emu_limbo_keep(dirfd, path, (enum emu_kind)h.kind, h.id);
	EMU_LOG(EMU_LOG_PATH, "unpin %s: object %u keeps a link in limbo: %s", path, h.id,
		err ? strerror(-err) : "ok");
}
