/* SPDX-License-Identifier: MIT */
/*
 * emu/map_in_map.c: references between objects, the inner-map template, and
 * BPF_MAP_TYPE_HASH_OF_MAPS (ARRAY_OF_MAPS is an fd array: emu/fd_array.c).
 *
 * References. In the kernel a map slot holding an inner map (or a program,
 * for PROG_ARRAY) holds a reference that keeps the target alive. Our objects
 * are files, and what keeps a file alive is a link or an open fd; a shared
 * file must hold no pointers. So a slot's reference is a hard link of the
 * target's file in a hidden directory of the state root:
 *
 *     <root>/refs/<holder map id>/<kind>-<target id>-<n>
 *
 * one link per slot that holds the target (n only makes names unique: links
 * to one target are interchangeable, so dropping "a" reference unlinks any
 * one of them). A slot gets its link before the slot is written and loses it
 * after the slot is cleared, so a holder killed in between leaks one link (the
 * target lives too long), never frees a target that a slot still names.
 *
 * The holder's own death: the kernel drops the references when the outer map
 * is freed. Nothing runs when our holder's last fd closes in a process that
 * then exits, so the directory of a dead holder is collected before every id
 * scan (MAP_GET_NEXT_ID, GET_FD_BY_ID: emu_refs_gc), the only calls that can
 * observe an object no fd or pin reaches. The directory keeps a symlink
 * "self" to the holder's own file by its spare name (emu/fdtable.c), so the
 * gc asks that file directly, as a spare's reuse does: held by a link other
 * than its own name (a pin), or by an fd anywhere (every fd handed out holds
 * an OFD lock on it, which dup, fork, SCM_RIGHTS, an fd in flight and a
 * mapping keep), it is alive; a file that went to another object (another id
 * in its header) was dead. Where the file cannot tell (a holder without a
 * spare name, or whose spare name went while a pin holds it), a scan
 * decides: a holder is alive if a pin or an fd of a process we can see
 * reaches it. Holders are never targets (an inner map cannot hold maps, a
 * program array cannot be an inner map), so one pass decides.
 *
 * Ids scan these directories too (emu/objfs.c), so an inner map reached only
 * through an outer map is found by MAP_GET_FD_BY_ID, as in the kernel.
 *
 * Limbo. Linux refuses to link a file again once it was linked and lost its
 * last link (linkat of /proc/self/fd/N answers ENOENT unless the file is a
 * fresh O_TMPFILE). A map inserted, deleted and inserted again must work, so
 * the reference that would be a target's last link is not unlinked but moved
 * to <root>/limbo/<kind>-<id>, which id scans do not look at; emu_refs_gc
 * removes a limbo entry once no pin, slot or visible fd reaches the object.
 * A pin unlinked by hand is the same case: the shim's unlink keeps a link of
 * an object's last name in limbo first (emu_unpin_prepare, emu/objfs.c), so
 * pinning the same fd again works as on the kernel.
 * All reference changes run under one flock on <root>/refs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map.h"
#include "os.h"
#include "perf/perf.h"

static const char *const kind_tag[] = {
	[EMU_KIND_MAP] = "map", [EMU_KIND_PROG] = "prog", [EMU_KIND_BTF] = "btf", [EMU_KIND_LINK] = "link",
	[EMU_KIND_PERF_EVENT] = "perf",
};

/* <root>/refs, which holder_dir_lock makes when it is missing */
static int refs_root(char *buf, size_t len)
{
	int err = emu_root_ready();
	if (err)
		return err;
	if (snprintf(buf, len, "%.4000s/refs", emu_config()->root) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static EMU_TLS int refs_lock_fd = -1;

/* In a holder's directory: a symlink to the holder's own file by its spare
 * name (../../spare/<name>, emu/fdtable.c), made with the directory. */
#define SELF_LINK "self"

static int proc_dir_name(char *buf, size_t len, __u32 pid, __u64 stamp);

/* A holder's directory under <root>/refs: "<id>" for a map (a map slot, a
 * map's BTF), "prog-<id>" for a program (its BTF), "link-<id>" for a link
 * (a struct_ops link's map: emu/struct_ops.c). "struct_ops" (registered
 * struct_ops maps) is a holder that never dies. */
static void refs_remove_dir(const char *path);

static const char *holder_prefix(enum emu_kind kind)
{
	return kind == EMU_KIND_PROG ? "prog-" : kind == EMU_KIND_LINK ? "link-" : "";
}

/* Takes the flock on <root>/refs (every change of references runs under it)
 * and opens the holder's directory, creating it if asked. Returns its fd. */
static int holder_dir_lock_name(const char *name, bool create, bool *made);

static int holder_dir_lock(enum emu_kind kind, __u32 holder_id, bool create, bool *made)
{
	char name[64];
	snprintf(name, sizeof(name), "%s%u", holder_prefix(kind), holder_id);
	return holder_dir_lock_name(name, create, made);
}

int emu_refs_lock_name(const char *name)
{
	return holder_dir_lock_name(name, true, NULL);
}

static int holder_dir_lock_name(const char *name, bool create, bool *made)
{
	char path[PATH_MAX];
	int err = refs_root(path, sizeof(path));
	if (err)
		return err;
	int lfd = emu_os_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (lfd == -ENOENT && create) {
		err = emu_os_mkdir(path, 0700);
		lfd = err && err != -EEXIST ? err : emu_os_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	}
	if (lfd < 0)
		return lfd;
	while (emu_os_flock(lfd, LOCK_EX) == -EINTR)
		;
	size_t n = strlen(path);
	snprintf(path + n, sizeof(path) - n, "/%s", name);
	if (create && (err = emu_os_mkdir(path, 0700)) && err != -EEXIST) {
		emu_os_close(lfd);
		return err;
	}
	if (made)
		*made = create && !err;
	int dfd = emu_os_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0) {
		emu_os_close(lfd);
		return dfd;
	}
	refs_lock_fd = lfd;
	return dfd;
}

/* <root>/limbo/<kind>-<id>, creating <root>/limbo: 0 or -errno */
static int limbo_path(const char *kind, __u32 id, char *buf, size_t len)
{
	if (snprintf(buf, len, "%.4000s/limbo", emu_config()->root) >= (int)len)
		return -ENAMETOOLONG;
	int err = emu_os_mkdir(buf, 0700);
	if (err && err != -EEXIST)
		return err;
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "/%.8s-%u", kind, id);
	return 0;
}

/* Removes one reference link; the target's last link goes to limbo instead. */
static void ref_unlink(int dfd, const char *name)
{
	char limbo[PATH_MAX], kind[8];
	unsigned int id;
	struct stat sb;
	if (!strcmp(name, SELF_LINK) || emu_os_fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) || sb.st_nlink > 1 ||
	    sscanf(name, "%7[a-z]-%u", kind, &id) != 2 || limbo_path(kind, id, limbo, sizeof(limbo)) ||
	    emu_os_renameat(dfd, name, AT_FDCWD, limbo))
		emu_os_unlinkat(dfd, name, 0);     /* name is <kind>-<id>-<n>: limbo keeps <kind>-<id> */
}

int emu_limbo_keep(int dirfd, const char *path, enum emu_kind kind, __u32 id)
{
	char limbo[PATH_MAX];
	int err = kind < ARRAY_SIZE(kind_tag) && kind_tag[kind] ? limbo_path(kind_tag[kind], id, limbo, sizeof(limbo))
								   : -EINVAL;
	if (err)
		return err;
	err = emu_os_linkat(dirfd, path, AT_FDCWD, limbo, 0);
	return err == -EEXIST ? 0 : err;
}

int emu_refs_lock(const struct emu_obj *holder)
{
	if (!holder->rdonly)
		__atomic_or_fetch(&holder->hdr->flags, EMU_OBJ_F_HOLDS_REFS, __ATOMIC_RELAXED);
	bool made = false;
	int dfd = holder_dir_lock((enum emu_kind)holder->hdr->kind, holder->hdr->id, true, &made);
	char name[64];
	memcpy(name, "../../spare/", 12);
	if (dfd >= 0 && made && !emu_obj_spare_name(holder->hdr, name + 12, sizeof(name) - 12))
		emu_os_symlinkat(name, dfd, SELF_LINK);     /* for emu_refs_gc: the holder's own file */
	return dfd;
}

void emu_refs_drop(const struct emu_obj *holder)
{
	enum emu_kind kind = (enum emu_kind)holder->hdr->kind;
	__u32 id = holder->hdr->id;
	char path[PATH_MAX];
	if (refs_root(path, sizeof(path)))
		return;
	size_t n = strlen(path);
	snprintf(path + n, sizeof(path) - n, "/%s%u", holder_prefix(kind), id);
	int dfd = holder_dir_lock(kind, id, false, NULL);
	if (dfd < 0) {
		refs_lock_fd = -1;       /* holder_dir_lock let go of it */
		return;
	}
	refs_remove_dir(path);
	EMU_LOG(EMU_LOG_MAP, "%s %u is gone: its references to other objects are dropped",
		kind == EMU_KIND_PROG ? "program" : "map", id);
	emu_refs_unlock(dfd);
}

void emu_refs_unlock(int dfd)
{
	if (dfd < 0)
		return;
	emu_os_close(dfd);
	if (refs_lock_fd >= 0)
		emu_os_close(refs_lock_fd);      /* releases the flock */
	refs_lock_fd = -1;
}

int emu_ref_take(int dfd, int target_fd, const struct emu_obj *target)
{
	char proc[64], name[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", emu_caller_fd(target_fd));
	emu_obj_mark_linked(target);
	for (unsigned int n = 0; n < 1u << 20; n++) {
		snprintf(name, sizeof(name), "%s-%u-%u", kind_tag[target->hdr->kind], target->hdr->id, n);
		int err = emu_os_linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW);
		if (!err)
			return 0;
		if (err != -EEXIST) {
			/* ENOENT: the file was linked once and lost every link outside our limbo (a pin
			 * unlinked by hand); Linux does not let it be linked again */
			EMU_LOG(EMU_LOG_SYS, "reference to %s %u: linkat: %s", kind_tag[target->hdr->kind],
				target->hdr->id, strerror(-err));
			return err == -ENOSPC || err == -EMLINK ? -ENOMEM : err;
		}
	}
	return -ENOMEM;
}

int emu_ref_get(const struct emu_obj *holder, enum emu_kind kind, __u32 id, struct emu_obj **objp)
{
	char path[PATH_MAX], prefix[48];
	int err = refs_root(path, sizeof(path));
	if (err)
		return err;
	size_t len = strlen(path);
	snprintf(path + len, sizeof(path) - len, "/%s%u", holder_prefix((enum emu_kind)holder->hdr->kind),
		 holder->hdr->id);
	int n = snprintf(prefix, sizeof(prefix), "%s-%u-", kind_tag[kind], id);
	int fd = -1;
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		if (pass) {
			/* a program whose maps its process holds (emu_refs_proc_hold) */
			const struct emu_obj_hdr *h = holder->hdr;
			if (h->kind != EMU_KIND_PROG || !(__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & EMU_OBJ_F_MAPS_LOCAL))
				break;
			char dir[64];
			proc_dir_name(dir, sizeof(dir), h->spare_pid, h->spare_stamp);
			snprintf(path + len, sizeof(path) - len, "/%s", dir);
		}
		struct emu_os_dir *d = emu_os_opendir(path, NULL);
		if (!d)
			continue;
		const struct emu_os_dirent *e;
		while ((e = emu_os_readdir(d)))
			if (!strncmp(e->name, prefix, (size_t)n)) {
				fd = emu_os_openat(emu_os_dirfd(d), e->name, O_RDWR | O_CLOEXEC, 0);
				if (fd == -EACCES)
					fd = emu_os_openat(emu_os_dirfd(d), e->name, O_RDONLY | O_CLOEXEC, 0);
				if (fd >= 0)
					break;
			}
		emu_os_closedir(d);
	}
	if (fd < 0)
		return -ENOENT;
	struct emu_obj *obj;
	int acc;
	err = emu_fd_get_local(fd, kind, &obj, &acc);     /* our own fd, whoever the caller is */
	emu_fd_closed(fd);
	emu_os_close(fd);
	if (err)
		return err;
	if (obj->hdr->id != id) {
		emu_obj_put(obj);
		return -ENOENT;
	}
	*objp = obj;
	return 0;
}

void emu_ref_drop(int dfd, enum emu_kind kind, __u32 target_id)
{
	char prefix[48];
	int n = snprintf(prefix, sizeof(prefix), "%s-%u-", kind_tag[kind], target_id);
	struct emu_os_dir *d = emu_os_opendirat(dfd, ".", NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return;
	while ((e = emu_os_readdir(d)))
		if (!strncmp(e->name, prefix, (size_t)n)) {
			ref_unlink(dfd, e->name);
			break;
		}
	emu_os_closedir(d);
}

/* Removes every reference of a holder (all of its slots are gone). */
static void refs_remove_dir(const char *path)
{
	struct emu_os_dir *d = emu_os_opendir(path, NULL);
	const struct emu_os_dirent *e;
	if (d) {
		while ((e = emu_os_readdir(d)))
			if (e->name[0] != '.')
				ref_unlink(emu_os_dirfd(d), e->name);
		emu_os_closedir(d);
	}
	emu_os_unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

/* ---- a program's holds on its maps inside its process ----
 *
 * A loaded program holds its maps (the kernel's used_maps). As a reference
 * link of its own (<root>/refs/prog-<id>/map-<id>-0) that is a directory, a
 * symlink and a link at every load, and the same again to remove at the
 * next id scan once the program is gone: a loader that exits with 200
 * programs left 2,600 system calls to the next scan. A program this process
 * named (a spare, emu/fdtable.c) can only be reached from this process
 * until it is pinned, sent, inherited, taken by another fd table, put in a
 * slot or attached, so its holds start as the process's:
 *
 *     <root>/refs/proc-<pid>.<stamp>/map-<id>-0
 *
 * one link per map that a live program of this process holds (a count
 * here), made at the first such load and removed when the last of those
 * programs is released here, or by the next id scan once the process is
 * gone (emu_refs_gc). The program's header says so (EMU_OBJ_F_MAPS_LOCAL);
 * every way out of the process (emu_obj_share: a pin, sendmsg, a fork, an
 * fd adopted by another fd table; emu_obj_mark_linked: a slot, an
 * attachment) first links the maps from that directory into the program's
 * own (emu_refs_proc_share), whatever process does it.
 */
static pthread_mutex_t proc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proc_count { __u32 id, n; } *proc_counts;    /* proc_lock */
static size_t nproc_counts, capproc_counts;
static char proc_dir_cur[64];                               /* proc_lock: ours, once made */

static int proc_dir_name(char *buf, size_t len, __u32 pid, __u64 stamp)
{
	return snprintf(buf, len, "proc-%u.%llx", pid, (unsigned long long)stamp) >= (int)len ? -ENAMETOOLONG : 0;
}

/* Takes the refs flock unless this thread holds it: the fd of <root>/refs
 * (*taken: release it with refs_flock_end), or -errno. */
static int refs_flock_begin(bool *taken)
{
	*taken = false;
	if (refs_lock_fd >= 0)
		return refs_lock_fd;
	char path[PATH_MAX];
	int err = refs_root(path, sizeof(path));
	if (err)
		return err;
	int lfd = emu_os_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (lfd == -ENOENT) {
		err = emu_os_mkdir(path, 0700);
		lfd = err && err != -EEXIST ? err : emu_os_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	}
	if (lfd < 0)
		return lfd;
	while (emu_os_flock(lfd, LOCK_EX) == -EINTR)
		;
	*taken = true;
	return lfd;
}

static void refs_flock_end(int lfd, bool taken)
{
	if (taken && lfd >= 0)
		emu_os_close(lfd);
}

/* The count of map id (proc_lock held): its index, or nproc_counts. An
 * entry exists exactly while our directory has the map's link: both change
 * under the refs flock, taken before proc_lock. */
static size_t proc_find(__u32 id)
{
	size_t i = 0;
	while (i < nproc_counts && proc_counts[i].id != id)
		i++;
	return i;
}

int emu_refs_proc_hold(struct emu_obj *prog, int map_fd, const struct emu_obj *map)
{
	struct emu_obj_hdr *h = prog->hdr;
	if (!prog->spare || prog->rdonly || !h->spare_seq || h->spare_pid != (__u32)getpid() ||
	    emu_caller_cur != NULL || h->kind != EMU_KIND_PROG)
		return -EOPNOTSUPP;
	__u32 id = map->hdr->id;
	for (__u32 k = 0; k < prog->nlocal_maps; k++)
		if (prog->local_maps[k] == id)
			return 0;
	__u32 *ids = realloc(prog->local_maps, (prog->nlocal_maps + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	prog->local_maps = ids;
	int lfd = -1, err = 0;
	bool taken = false;
	pthread_mutex_lock(&proc_lock);
	size_t i = proc_find(id);
	if (i == nproc_counts) {
		/* the first program here that holds this map: the process's link */
		pthread_mutex_unlock(&proc_lock);
		lfd = refs_flock_begin(&taken);
		if (lfd < 0)
			return lfd;
		pthread_mutex_lock(&proc_lock);
		i = proc_find(id);
	}
	if (i == nproc_counts && nproc_counts == capproc_counts) {
		size_t cap = capproc_counts ? capproc_counts * 2 : 16;
		struct proc_count *n = realloc(proc_counts, cap * sizeof(*n));
		if (n) {
			proc_counts = n;
			capproc_counts = cap;
		} else {
			err = -ENOMEM;
		}
	}
	if (!err && i == nproc_counts) {
		char dir[64], name[128], proc[64];
		err = proc_dir_name(dir, sizeof(dir), h->spare_pid, h->spare_stamp);
		if (!err && (err = emu_os_mkdirat(lfd, dir, 0700)) == -EEXIST)
			err = 0;
		if (!err) {
			emu_obj_mark_linked(map);
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", map_fd);
			snprintf(name, sizeof(name), "%s/map-%u-0", dir, id);
			err = emu_os_linkat(AT_FDCWD, proc, lfd, name, AT_SYMLINK_FOLLOW);
			if (err == -EEXIST)
				err = 0;
		}
		if (!err) {
			proc_counts[nproc_counts++] = (struct proc_count){ id, 0 };
			memcpy(proc_dir_cur, dir, sizeof(dir));
		}
	}
	if (!err) {
		proc_counts[i].n++;
		prog->local_maps[prog->nlocal_maps++] = id;
		__atomic_or_fetch(&h->flags, EMU_OBJ_F_MAPS_LOCAL, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&proc_lock);
	refs_flock_end(lfd, taken);
	return err;
}

void emu_refs_proc_release(struct emu_obj *prog)
{
	if (!prog->local_maps)
		return;
	bool last = false;
	pthread_mutex_lock(&proc_lock);
	for (__u32 k = 0; k < prog->nlocal_maps; k++) {
		size_t i = proc_find(prog->local_maps[k]);
		if (i < nproc_counts && !--proc_counts[i].n)
			last = true;     /* the last program here that held it: its link goes below */
	}
	pthread_mutex_unlock(&proc_lock);
	free(prog->local_maps);
	prog->local_maps = NULL;
	prog->nlocal_maps = 0;
	if (!last)
		return;
	bool taken;
	int lfd = refs_flock_begin(&taken);
	if (lfd < 0)
		return;          /* the links stay until the process is gone */
	pthread_mutex_lock(&proc_lock);
	int dfd = emu_os_openat(lfd, proc_dir_cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	for (size_t i = 0; dfd >= 0 && i < nproc_counts;) {
		if (proc_counts[i].n) {      /* held again meanwhile */
			i++;
			continue;
		}
		char name[48];
		snprintf(name, sizeof(name), "map-%u-0", proc_counts[i].id);
		ref_unlink(dfd, name);
		proc_counts[i] = proc_counts[--nproc_counts];
	}
	if (dfd >= 0)
		emu_os_close(dfd);
	pthread_mutex_unlock(&proc_lock);
	refs_flock_end(lfd, taken);
}

void emu_refs_proc_share(const struct emu_obj *prog)
{
	struct emu_obj_hdr *h = prog->hdr;
	if (prog->rdonly || h->kind != EMU_KIND_PROG ||
	    !(__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & EMU_OBJ_F_MAPS_LOCAL))
		return;
	char dir[64], holder[64], from[128], name[48];
	bool taken;
	int lfd = refs_flock_begin(&taken);
	if (lfd < 0)
		return;
	int err = proc_dir_name(dir, sizeof(dir), h->spare_pid, h->spare_stamp);
	snprintf(holder, sizeof(holder), "%s%u", holder_prefix(EMU_KIND_PROG), h->id);
	if (!err && (err = emu_os_mkdirat(lfd, holder, 0700)) == -EEXIST)
		err = 0;
	int dfd = err ? err : emu_os_openat(lfd, holder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd >= 0) {
		char self[64];
		memcpy(self, "../../spare/", 12);
		if (!emu_obj_spare_name(h, self + 12, sizeof(self) - 12))
			emu_os_symlinkat(self, dfd, SELF_LINK);     /* -EEXIST: made before */
		__atomic_or_fetch(&h->flags, EMU_OBJ_F_HOLDS_REFS, __ATOMIC_RELAXED);
		for (__u32 k = 0; k < h->prog.nr_map_ids && k < ARRAY_SIZE(h->prog.map_ids); k++) {
			__u32 id = h->prog.map_ids[k];
			snprintf(from, sizeof(from), "%s/map-%u-0", dir, id);
			snprintf(name, sizeof(name), "map-%u-0", id);
			int e = emu_os_linkat(lfd, from, dfd, name, 0);
			if (e && e != -EEXIST && e != -ENOENT)   /* ENOENT: a map bound later, not held */
				err = e;
		}
		emu_os_close(dfd);
	} else {
		err = dfd;
	}
	if (!err)
		__atomic_and_fetch(&h->flags, ~EMU_OBJ_F_MAPS_LOCAL, __ATOMIC_RELEASE);
	EMU_LOG(EMU_LOG_MAP, "program %u now holds its maps by reference links: %s", h->id,
		err ? strerror(-err) : "ok");
	refs_flock_end(lfd, taken);
}

void emu_refs_proc_forget(void)
{
	/* the child's programs were shared (links) before the fork; its counts start empty */
	free(proc_counts);
	proc_counts = NULL;
	nproc_counts = capproc_counts = 0;
	proc_dir_cur[0] = '\0';
	pthread_mutex_init(&proc_lock, NULL);
}

/* Limbo entries of objects nothing reaches any more. */
static void limbo_gc(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%.4000s/limbo", emu_config()->root);
	struct emu_os_dir *d = emu_os_opendir(path, NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return;
	while ((e = emu_os_readdir(d))) {
		unsigned int id;
		char kind[8];
		enum emu_kind k = EMU_KIND_NONE;
		if (sscanf(e->name, "%7[a-z]-%u", kind, &id) != 2)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(kind_tag); i++)
			if (kind_tag[i] && !strcmp(kind_tag[i], kind))
				k = (enum emu_kind)i;
		if (k == EMU_KIND_NONE)
			continue;
		/* asked of the file; a scan only when it cannot tell */
		int held = emu_spare_obj_held(-1, NULL, emu_os_dirfd(d), e->name, k, id);
		if (held < 0)
			held = emu_obj_alive(k, id);
		if (!held)
			emu_os_unlinkat(emu_os_dirfd(d), e->name, 0);
	}
	emu_os_closedir(d);
}

/* Drops the directory of holder (kind, id), found dead, under its lock and
 * after a last check: in the sorted ids alive (batch), else by
 * emu_obj_alive (one scan). */
static int cmp_id(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	return x < y ? -1 : x > y;
}

static void gc_holder(const char *root, const char *name, enum emu_kind kind, __u32 id, bool batch,
		      const __u32 *alive, size_t nalive)
{
	int dfd = holder_dir_lock(kind, id, false, NULL);
	if (dfd < 0) {
		if (refs_lock_fd >= 0)
			emu_os_close(refs_lock_fd);
		refs_lock_fd = -1;
		return;
	}
	/* checked again under the lock: a holder's directory is made only once it has an id and an fd */
	bool live = batch ? nalive && bsearch(&id, alive, nalive, sizeof(*alive), cmp_id) : emu_obj_alive(kind, id);
	if (!live) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%.3800s/%.200s", root, name) < (int)sizeof(path))
			refs_remove_dir(path);
		EMU_LOG(EMU_LOG_MAP, "%s %u is gone: its references to other objects are dropped",
			kind == EMU_KIND_PROG ? "program" : kind == EMU_KIND_LINK ? "link" : "map", id);
	}
	emu_refs_unlock(dfd);
}

/* Holders whose own file cannot tell (holder_held): up to this many of a
 * kind are checked one scan each; more are checked against the
 * kind's live ids, gathered in one scan before and one after reading the
 * directory (a program that loads thousands of programs and never scans ids
 * leaves thousands of holders: one scan per holder, each reading all of
 * them, took minutes). */
#define GC_ONE_BY_ONE 8

struct gc_holder { enum emu_kind kind; __u32 id; __u64 stamp; /* EMU_KIND_NONE: a process's (proc-<id>.<stamp>) */ };

/* The holder's own file, reached through its SELF_LINK (or its limbo
 * link): 1 held, 0 dead, -1 cannot tell (a holder without a spare name, or
 * whose spare name went while a pin holds it). */
static int holder_held(int rfd, int limbo_dfd, const char *dir, enum emu_kind kind, __u32 id)
{
	char link[96], limbo[32];
	if (snprintf(link, sizeof(link), "%s/" SELF_LINK, dir) >= (int)sizeof(link))
		return -1;
	snprintf(limbo, sizeof(limbo), "%s-%u", kind_tag[kind], id);
	return emu_spare_obj_held(rfd, link, limbo_dfd, limbo, kind, id);
}

/* Is process pid, alive, another than the one that took stamp (its spare
 * stamp, CLOCK_BOOTTIME)? It is if it started after that stamp (its start
 * in /proc/PID/stat, in USER_HZ ticks of boot time, rounded down: a start
 * in the stamp's own tick counts as the same process, which only keeps
 * the holds longer). */
static bool pid_reused(unsigned int pid, unsigned long long stamp)
{
	char path[48];
	if (pid == (unsigned int)getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	char *text = emu_os_slurp(path, NULL, NULL);
	if (!text)
		return false;
	const char *p = strrchr(text, ')');
	unsigned long long start = 0;
	/* after "pid (comm)": state is field 3, starttime field 22 */
	bool ok = p && sscanf(p + 1, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			      &start) == 1;
	free(text);
	return ok && start * (1000000000ull / 100) > stamp;     /* USER_HZ is 100 */
}

/* Our own hold directory from before an exec (same pid, another image: an
 * image names one directory, proc_dir_cur, and an exec leaves no thread of
 * the old one). The programs the old image left open across the exec (no
 * close-on-exec) still hold their maps: each takes links of its own from
 * the old directory (emu_obj_share), then the
 * directory can go, as the kernel drops the maps of the programs the exec
 * closed. */
static bool proc_dir_before_exec(const char *name)
{
	pthread_mutex_lock(&proc_lock);
	bool old = strcmp(name, proc_dir_cur) != 0;
	pthread_mutex_unlock(&proc_lock);
	if (!old)
		return false;
	struct emu_os_dir *d = emu_os_opendir("/proc/self/fd", NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return false;            /* cannot tell: it stays until the process is gone */
	while ((e = emu_os_readdir(d))) {
		char *end;
		long fd = strtol(e->name, &end, 10);
		if (e->name[0] < '0' || e->name[0] > '9' || *end || fd == emu_os_dirfd(d))
			continue;
		struct emu_obj *o = emu_obj_hold((int)fd);    /* adopts it: a program of the old image shares */
		if (o) {
			emu_obj_share(o);
			emu_obj_release(o);
		}
	}
	emu_os_closedir(d);
	return true;
}

void emu_refs_gc(void)
{
	char root[PATH_MAX], path[PATH_MAX];
	if (refs_root(root, sizeof(root)))
		return;
	/* its flock guards limbo too: the directory read's own fd takes it */
	int err = 0;
	struct emu_os_dir *d = emu_os_opendir(root, &err);
	if (!d && err == -ENOENT) {
		emu_os_mkdir(root, 0700);
		d = emu_os_opendir(root, NULL);
	}
	if (!d)
		return;
	int rfd = emu_os_dirfd(d);
	const struct emu_os_dirent *e;
	int limbo_dfd = -2;       /* opened for the first holder that asks */
	/* holders found dead (dead), and those whose file could not tell (unsure) */
	struct gc_holder *dead = NULL, *hs = NULL;
	size_t nd = 0, capd = 0, nh = 0, caph = 0, per_kind[EMU_KIND_LINK + 1] = { 0 };
	while ((e = emu_os_readdir(d))) {
		char *end;
		unsigned int ppid;
		unsigned long long pstamp;
		if (sscanf(e->name, "proc-%u.%llx", &ppid, &pstamp) == 2) {
			/* a process's holds (emu_refs_proc_hold): they go with it,
			 * and with its image (an exec) when the process is ours */
			if (ppid == (unsigned int)getpid() ? !proc_dir_before_exec(e->name)
							   : EMU_OS_SC(SYS_kill, ppid, 0, 0, 0, 0, 0) != -ESRCH &&
								     !pid_reused(ppid, pstamp))
				continue;
			if (nd == capd) {
				size_t c = capd ? capd * 2 : 64;
				struct gc_holder *n = realloc(dead, c * sizeof(*n));
				if (!n)
					break;
				dead = n;
				capd = c;
			}
			dead[nd++] = (struct gc_holder){ EMU_KIND_NONE, ppid, pstamp };
			continue;
		}
		enum emu_kind kind = !strncmp(e->name, "prog-", 5)   ? EMU_KIND_PROG
				     : !strncmp(e->name, "link-", 5) ? EMU_KIND_LINK
								     : EMU_KIND_MAP;
		const char *num = e->name + strlen(holder_prefix(kind));
		unsigned long id = strtoul(num, &end, 10);
		if (num[0] < '0' || num[0] > '9' || *end || !id || id > UINT32_MAX)
			continue;
		if (limbo_dfd == -2) {
			snprintf(path, sizeof(path), "%.4000s/limbo", emu_config()->root);
			limbo_dfd = emu_os_open(path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		}
		int held = holder_held(rfd, limbo_dfd, e->name, kind, (__u32)id);
		if (held > 0)
			continue;
		struct gc_holder **list = held ? &hs : &dead;
		size_t *len = held ? &nh : &nd, *cap = held ? &caph : &capd;
		if (*len == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			struct gc_holder *n = realloc(*list, c * sizeof(*n));
			if (!n)
				break;            /* the rest waits for the next scan */
			*list = n;
			*cap = c;
		}
		(*list)[(*len)++] = (struct gc_holder){ kind, (__u32)id, 0 };
		if (held)
			per_kind[kind]++;
	}
	if (limbo_dfd >= 0)
		emu_os_close(limbo_dfd);
	/* The dead go under one lock. A holder found dead stays dead: nothing
	 * reaches its file any more (no fd, no name but ours), so no slot of it
	 * is written again; its file's next object has another id. */
	if (nd) {
		while (emu_os_flock(rfd, LOCK_EX) == -EINTR)
			;
		for (size_t i = 0; i < nd; i++) {
			enum emu_kind kind = dead[i].kind;
			if (kind == EMU_KIND_NONE) {
				char dir[64];
				if (!proc_dir_name(dir, sizeof(dir), dead[i].id, dead[i].stamp) &&
				    snprintf(path, sizeof(path), "%.3800s/%s", root, dir) < (int)sizeof(path))
					refs_remove_dir(path);
				EMU_LOG(EMU_LOG_MAP, "process %u is gone: the holds of its programs on maps are dropped",
					dead[i].id);
				continue;
			}
			if (snprintf(path, sizeof(path), "%.3800s/%s%u", root, holder_prefix(kind), dead[i].id) >=
			    (int)sizeof(path))
				continue;
			refs_remove_dir(path);
			EMU_LOG(EMU_LOG_MAP, "%s %u is gone: its references to other objects are dropped",
				kind == EMU_KIND_PROG ? "program" : kind == EMU_KIND_LINK ? "link" : "map", dead[i].id);
		}
		emu_os_flock(rfd, LOCK_UN);
	}
	free(dead);
	static const enum emu_kind kinds[] = { EMU_KIND_MAP, EMU_KIND_PROG, EMU_KIND_LINK };
	__u32 *cand = nh ? malloc(nh * sizeof(*cand)) : NULL;
	for (size_t k = 0; cand && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		enum emu_kind kind = kinds[k];
		__u32 *alive = NULL;
		size_t nalive = 0, ncand = 0;
		if (!per_kind[kind])
			continue;
		/* many holders: the kind's live ids in one scan names the
		 * candidates, and a second one confirms them */
		bool batch = per_kind[kind] > GC_ONE_BY_ONE && !emu_obj_alive_ids(kind, &alive, &nalive);
		for (size_t i = 0; i < nh; i++) {
			if (hs[i].kind != kind)
				continue;
			bool live = batch ? nalive && bsearch(&hs[i].id, alive, nalive, sizeof(*alive), cmp_id)
					  : emu_obj_alive(kind, hs[i].id);
			if (!live)
				cand[ncand++] = hs[i].id;
		}
		if (batch) {
			free(alive);
			alive = NULL;
			nalive = 0;
			if (ncand && emu_obj_alive_ids(kind, &alive, &nalive))
				ncand = 0;      /* cannot confirm: they wait for the next scan */
			/* a directory read above belongs to an object that had
			 * an fd before the first scan; dead in both, it stays dead
			 * (the two scans guard against one that raced a pin) */
		}
		for (size_t i = 0; i < ncand; i++) {
			char name[32];
			snprintf(name, sizeof(name), "%s%u", holder_prefix(kind), cand[i]);
			gc_holder(root, name, kind, cand[i], batch, alive, nalive);
		}
		free(alive);
	}
	free(cand);
	free(hs);
	while (emu_os_flock(rfd, LOCK_EX) == -EINTR)
		;
	limbo_gc();
	emu_os_closedir(d);
	emu_ringbuf_notify_gc();
	emu_perf_notify_gc();
}

/* ---- the inner-map template (bpf_map_meta_alloc / bpf_map_meta_equal) ---- */

/* Slots of type_state the template occupies (after what hashtab.c uses). */
enum { META_TYPE = 16, META_KEY, META_VALUE, META_FLAGS, META_MAX, META_SET };   /* the wrapper's slots */

static bool has_meta_equal(__u32 type)
{
	switch (type) {
	case BPF_MAP_TYPE_PROG_ARRAY:            /* the kernel's types without map_meta_equal */
	case BPF_MAP_TYPE_STRUCT_OPS:
		return false;
	default:
		return true;
	}
}

static bool is_map_in_map(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

int emu_inner_meta_check(__u32 inner_map_fd)
{
	struct emu_obj *inner;
	int acc, err = emu_fd_get((int)inner_map_fd, EMU_KIND_MAP, &inner, &acc);
	if (err)
		return err;                                       /* EBADF, or EINVAL: not a map */
	__u32 t = emu_map_desc(inner)->map_type;
	err = !inner->ops || is_map_in_map(t) ? -EINVAL : !has_meta_equal(t) ? -ENOTSUPP : 0;
	emu_obj_put(inner);
	return err;
}

int emu_inner_meta_save(struct emu_obj *map, __u32 inner_map_fd)
{
	struct emu_obj *inner;
	int acc, err = emu_fd_get((int)inner_map_fd, EMU_KIND_MAP, &inner, &acc);
	if (err)
		return err;
	const struct emu_map_desc *i = emu_map_desc(inner);
	__u64 *st = emu_map_desc(map)->type_state;
	st[META_TYPE] = i->map_type;
	st[META_KEY] = i->key_size;
	st[META_VALUE] = i->value_size;
	st[META_FLAGS] = i->map_flags;
	st[META_MAX] = i->max_entries;
	st[META_SET] = 1;
	emu_obj_put(inner);
	return 0;
}

/* The template's type, sizes and flags (the verifier's view of an inner map: map_ptr->inner_map_meta). */
int emu_inner_meta_get(const struct emu_obj *map, struct emu_map_desc *out)
{
	const __u64 *st = emu_map_desc(map)->type_state;
	if (!st[META_SET])
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->map_type = (__u32)st[META_TYPE];
	out->key_size = (__u32)st[META_KEY];
	out->value_size = (__u32)st[META_VALUE];
	out->map_flags = (__u32)st[META_FLAGS];
	out->max_entries = (__u32)st[META_MAX];
	out->spin_lock_off = -1;
	return 0;
}

int emu_inner_map_get(const struct emu_obj *map, int ufd, struct emu_obj **innerp)
{
	struct emu_obj *inner;
	int acc, err = emu_fd_get(ufd, EMU_KIND_MAP, &inner, &acc);
	if (err)
		return err;
	const struct emu_map_desc *i = emu_map_desc(inner);
	const __u64 *st = emu_map_desc(map)->type_state;
	/* bpf_map_meta_equal compares no max_entries; array_map_meta_equal does, unless the
	 * template has BPF_F_INNER_MAP */
	bool array = i->map_type == BPF_MAP_TYPE_ARRAY || i->map_type == BPF_MAP_TYPE_PERCPU_ARRAY;
	if (st[META_TYPE] != i->map_type || st[META_KEY] != i->key_size || st[META_VALUE] != i->value_size ||
	    st[META_FLAGS] != i->map_flags ||
	    (array && !(st[META_FLAGS] & BPF_F_INNER_MAP) && st[META_MAX] != i->max_entries)) {
		EMU_LOG(EMU_LOG_SYS, "map %u: inner map %u does not match the template (type %u key %u value %u "
			"flags %#x): EINVAL", map->hdr->id, inner->hdr->id, i->map_type, i->key_size,
			i->value_size, i->map_flags);
		emu_obj_put(inner);
		return -EINVAL;
	}
	*innerp = inner;
	return 0;
}

/* ---- BPF_MAP_TYPE_HASH_OF_MAPS: a hash of inner map ids ---- */

enum { HOM_COUNT = META_SET + 1 };    /* type_state slot: elements, for bytes_memlock */

static int hom_check_spec(const struct emu_map_spec *s)
{
	if (s->value_size != 4)
		return -EINVAL;
	struct emu_map_spec h = *s;
	h.map_type = BPF_MAP_TYPE_HASH;
	int err = htab_map_ops.check_spec(&h);
	if (err)
		return err;
	return emu_inner_meta_check(s->inner_map_fd);
}

static __u64 hom_data_size(const struct emu_map_spec *s)
{
	return htab_map_ops.data_size(s);
}

static __u64 hom_reserve_size(const struct emu_map_spec *s)
{
	return htab_map_ops.reserve_size(s);
}

static __u64 hom_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 cpus = emu_possible_cpus(), nb = 1;
	while (nb < d->max_entries)
		nb <<= 1;
	/* bpf_htab + buckets + lock counters; elements hold a pointer; no extra elements for fd hashes */
	__u64 kelem = 48 + round_up8(d->key_size) + 8;
	__u64 usage = 832 + 16 * nb + 4 * cpus * 8;
	if (!(d->map_flags & BPF_F_NO_PREALLOC))
		usage += kelem * d->max_entries + 8 * cpus;
	else
		usage += (kelem + 8) * __atomic_load_n(&d->type_state[HOM_COUNT], __ATOMIC_RELAXED);
	return usage;
}

static int hom_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	struct emu_obj *inner;
	__u32 ufd, id, old;
	memcpy(&ufd, value, 4);
	/* the fd first (map_fd_get_ptr), then the hash's own flag checks */
	int err = emu_inner_map_get(map, (int)ufd, &inner);
	if (err)
		return err;
	id = inner->hdr->id;
	int dfd = emu_refs_lock(map);
	if (dfd < 0) {
		err = dfd;
		goto put;
	}
	bool existed = !htab_map_ops.lookup(map, key, &old, 0);
	err = emu_ref_take(dfd, (int)ufd, inner);
	if (err)
		goto unlock;
	err = htab_map_ops.update(map, key, &id, flags);
	if (err) {
		emu_ref_drop(dfd, EMU_KIND_MAP, id);
		goto unlock;
	}
	if (existed)
		emu_ref_drop(dfd, EMU_KIND_MAP, old);
	else
		__atomic_add_fetch(&emu_map_desc(map)->type_state[HOM_COUNT], 1, __ATOMIC_RELAXED);
unlock:
	emu_refs_unlock(dfd);
put:
	emu_obj_put(inner);
	return err;
}

static int hom_delete(struct emu_obj *map, const void *key)
{
	__u32 old;
	int dfd = emu_refs_lock(map);
	if (dfd < 0)
		return dfd;
	int err = htab_map_ops.lookup(map, key, &old, 0);
	if (!err)
		err = htab_map_ops.delete(map, key);
	if (!err) {
		emu_ref_drop(dfd, EMU_KIND_MAP, old);
		__atomic_sub_fetch(&emu_map_desc(map)->type_state[HOM_COUNT], 1, __ATOMIC_RELAXED);
	}
	emu_refs_unlock(dfd);
	return err;
}

static int hom_init(struct emu_obj *map, const struct emu_map_spec *spec)
{
	int err = htab_map_ops.init ? htab_map_ops.init(map) : 0;
	return err ? err : emu_inner_meta_save(map, spec->inner_map_fd);
}

static int hom_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	return htab_map_ops.lookup(map, key, value, flags);     /* the slot holds the inner map's id */
}

static int hom_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return htab_map_ops.get_next_key(map, key, next);
}

/* bpf_map_lookup_elem() from a program: the slot holding the inner map's id */
static void *hom_prog_lookup(struct emu_obj *map, const void *key, unsigned int cpu)
{
	return htab_map_ops.prog_lookup(map, key, cpu);
}

const struct emu_map_ops htab_of_maps_map_ops = {
	.prog_lookup = hom_prog_lookup,
	.check_spec = hom_check_spec,
	.data_size = hom_data_size,
	.reserve_size = hom_reserve_size,
	.init_spec = hom_init,
	.mem_usage = hom_mem_usage,
	.lookup = hom_lookup,
	.update = hom_update,
	.delete = hom_delete,
	.get_next_key = hom_get_next_key,
};
