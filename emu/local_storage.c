/* SPDX-License-Identifier: MIT */
/*
 * emu/local_storage.c: BPF_MAP_TYPE_SK_STORAGE, INODE_STORAGE, TASK_STORAGE
 * and CGRP_STORAGE.
 *
 * The kernel creates these only with BTF for the key (an int) and the value
 * (bpf_local_storage_map_alloc_check, then map_check_btf; a bpf_spin_lock in
 * the value is allowed). A value hangs off its owner: the socket, inode,
 * task or cgroup that user space names with an fd as the key (a socket fd, any
 * file's fd, a pidfd, a cgroup directory's fd). No file of ours can hang off
 * those, so the map keeps a table of (owner identity, value):
 *
 *     socket, inode, cgroup: the device and inode number of the fd's file (a
 *         bpf object fd, an anonymous inode on the kernel, counts as the one
 *         anonymous inode every such fd shares, as the kernel's does)
 *     task: the pid the pidfd names and the task's start time (a pid that
 *         is used again is another task)
 *
 * so two fds of one socket, file or task see the same value, in every process.
 * Element calls take the object lock; what the kernel answers from user space
 * (bpf_fd_sk_storage_*_elem, bpf_fd_inode_storage_*, bpf_pid_task_storage_*,
 * bpf_cgrp_storage_*): ENOTSOCK / EBADF for an fd of the wrong kind, ENOENT
 * for a task that is gone, the update flags of bpf_local_storage_update, and
 * ENOTSUPP for walks, lookup-and-delete and batches. Limits: a value does not
 * vanish with its owner (nothing tells us a socket closed); a map holds the
 * values of 1024 owners at once: when that is full, the values of sockets no
 * process we can see holds and of tasks that ended are dropped, and if that
 * frees nothing the update is ENOMEM. A writer killed while it copies over a
 * value leaves that value half written.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "map.h"
#include "os.h"

#define LOCAL_STORAGE_CREATE_FLAG_MASK (BPF_F_NO_PREALLOC | BPF_F_CLONE)
#define LOCAL_STORAGE_MAX_VALUE_SIZE 65407u    /* BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on 6.18 */
#define KERNEL_SMAP_SIZE 480u                  /* sizeof(struct bpf_local_storage_map) */
#define KERNEL_SMAP_BUCKET 16u                 /* sizeof(struct bpf_local_storage_map_bucket) */
#define CGRP_STORAGE 32u                       /* BPF_MAP_TYPE_CGRP_STORAGE */
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define SLOTS 1024u                            /* owners with a value at once, per map */

enum { LS_CAP, LS_COUNT, LS_USED };            /* type_state: slots, live values, live + deleted */

/* The index (reserved at create: probing reads it all) then the values
 * (backed by memory as slots are first used). */
struct slot {
	__u64 id[2];
	__u32 state;                           /* SLOT_FREE, SLOT_LIVE, SLOT_GONE (a tombstone) */
	__u32 pad;
};
enum { SLOT_FREE, SLOT_LIVE, SLOT_GONE };

static __u64 index_size(void)
{
	return page_align((__u64)SLOTS * sizeof(struct slot));
}

static int storage_check_spec(const struct emu_map_spec *s)
{
	if ((s->map_flags & ~(__u32)LOCAL_STORAGE_CREATE_FLAG_MASK) || !(s->map_flags & BPF_F_NO_PREALLOC) ||
	    s->max_entries || s->key_size != 4 || !s->value_size || !s->btf_key_type_id || !s->btf_value_type_id)
		return -EINVAL;
	if (s->value_size > LOCAL_STORAGE_MAX_VALUE_SIZE)
		return -E2BIG;
	return 0;
}

static __u64 storage_data_size(const struct emu_map_spec *s)
{
	return index_size() + (__u64)SLOTS * round_up8(s->value_size);
}

static __u64 storage_reserve_size(const struct emu_map_spec *s)
{
	(void)s;
	return index_size();
}

static int storage_init(struct emu_obj *map, const struct emu_map_spec *s)
{
	(void)s;
	emu_map_desc(map)->type_state[LS_CAP] = SLOTS;
	return 0;
}

static __u64 storage_mem_usage(const struct emu_obj *map)
{
	(void)map;
	__u64 buckets = 1;
	while (buckets < emu_possible_cpus())
		buckets *= 2;
	if (buckets < 2)
		buckets = 2;
	return KERNEL_SMAP_SIZE + KERNEL_SMAP_BUCKET * buckets;
}

/* ---- owners ---- */

/* The anonymous inode every bpf object fd is on the kernel (that of an eventfd). */
static int anon_inode_id(__u64 id[2])
{
	static __u64 dev, ino;
	if (!__atomic_load_n(&ino, __ATOMIC_ACQUIRE)) {
		int efd = (int)EMU_OS_SC(SYS_eventfd2, 0, O_CLOEXEC, 0, 0, 0, 0);
		struct stat st;
		if (efd < 0)
			return efd;
		int err = emu_os_fstat(efd, &st);
		emu_os_close(efd);
		if (err)
			return err;
		dev = st.st_dev;
		__atomic_store_n(&ino, (__u64)st.st_ino, __ATOMIC_RELEASE);
	}
	id[0] = dev;
	id[1] = __atomic_load_n(&ino, __ATOMIC_ACQUIRE);
	return 0;
}

/* field 22 of /proc/PID/stat (after the command name): the start time */
static int task_start(long pid, __u64 *start)
{
	char path[48], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (emu_os_read_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	char *p = strrchr(buf, ')');
	if (!p)
		return -ENOENT;
	p += 2;
	for (int i = 0; i < 19 && p; i++) {     /* state is field 3: start time is 19 further */
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -ENOENT;
	*start = strtoull(p, NULL, 10);
	return 0;
}

/* pidfd_get_pid(): EBADF for what is no pidfd; pid_task(): ENOENT once the task is gone */
static int task_id(int fd, __u64 id[2])
{
	char path[48], buf[512];
	if (emu_os_fcntl(fd, F_GETFD, 0) < 0)
		return -EBADF;
	long n = emu_os_fd_path(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EBADF;
	buf[n] = '\0';
	if (strcmp(buf, "anon_inode:[pidfd]"))
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (emu_os_read_file(path, buf, sizeof(buf)) <= 0)
		return -EBADF;
	const char *p = strstr(buf, "\nPid:");
	if (!p)
		return -EBADF;
	long pid = strtol(p + 5, NULL, 10);
	if (pid <= 0)
		return -ENOENT;
	__u64 start;
	int err = task_start(pid, &start);
	if (err)
		return err;
	id[0] = (__u64)pid;
	id[1] = start;
	return 0;
}

static int owner_id(const struct emu_obj *map, int fd, __u64 id[2])
{
	struct stat st;
	struct statfs sfs;
	__u32 type = emu_map_desc(map)->map_type;

	if (type == BPF_MAP_TYPE_TASK_STORAGE)
		return task_id(fd, id);
	if (emu_os_fstat(fd, &st))
		return -EBADF;
	switch (type) {
	case BPF_MAP_TYPE_SK_STORAGE:          /* sockfd_lookup() */
		if (!S_ISSOCK(st.st_mode))
			return -ENOTSOCK;
		break;
	case BPF_MAP_TYPE_INODE_STORAGE:       /* file_inode() of any fd */
		if (emu_fd_kind(fd) != EMU_KIND_NONE)
			return anon_inode_id(id);
		break;
	default:                               /* cgroup_v1v2_get_from_fd() */
		if (!S_ISDIR(st.st_mode) || emu_os_fstatfs(fd, &sfs) ||
		    (sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != CGROUP_SUPER_MAGIC))
			return -EBADF;
		break;
	}
	id[0] = st.st_dev;
	id[1] = st.st_ino;
	return 0;
}

/* ---- the table (under the object lock) ---- */

static struct slot *slot_at(struct emu_obj *map, __u32 i)
{
	return (struct slot *)emu_obj_data(map) + i;
}

static __u64 value_off(const struct emu_obj *map, __u32 i)
{
	return index_size() + (__u64)i * round_up8(emu_map_desc(map)->value_size);
}

static char *value_of(struct emu_obj *map, const struct slot *s)
{
	return (char *)emu_obj_data(map) + value_off(map, (__u32)(s - slot_at(map, 0)));
}

static __u32 hash_id(const __u64 id[2])
{
	__u64 h = (id[0] * 0x9e3779b97f4a7c15ull) ^ (id[1] + 0x632be59bd9b4e019ull);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (__u32)h;
}

/* The live slot of id, or NULL; *room gets the first slot an insert may take
 * (NULL when none: the table is full of live and deleted slots). */
static struct slot *find(struct emu_obj *map, const __u64 id[2], struct slot **room)
{
	__u32 cap = (__u32)emu_map_desc(map)->type_state[LS_CAP];
	__u32 i = hash_id(id) & (cap - 1);
	struct slot *first = NULL;
	for (__u32 n = 0; n < cap; n++, i = (i + 1) & (cap - 1)) {
		struct slot *s = slot_at(map, i);
		__u32 st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st == SLOT_FREE) {
			if (room)
				*room = first ? first : s;
			return NULL;
		}
		if (st == SLOT_GONE) {
			if (!first)
				first = s;
			continue;
		}
		if (s->id[0] == id[0] && s->id[1] == id[1])
			return s;
	}
	if (room)
		*room = first;
	return NULL;
}

/* Is the owner of a slot certainly gone? Sockets: no process we can see holds
 * one; tasks: the pid is free or another task's. Inodes and cgroups persist. */
static bool owner_gone(__u32 type, const struct slot *s)
{
	if (type == BPF_MAP_TYPE_TASK_STORAGE) {
		__u64 start;
		return task_start((long)s->id[0], &start) || start != s->id[1];
	}
	if (type != BPF_MAP_TYPE_SK_STORAGE)
		return false;
	char want[48];
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)s->id[1]);
	struct emu_os_dir *proc = emu_os_opendir("/proc", NULL);
	const struct emu_os_dirent *p;
	bool found = false;
	if (!proc)
		return false;
	while (!found && (p = emu_os_readdir(proc))) {
		char dir[64];
		if (p->name[0] < '0' || p->name[0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "/proc/%.20s/fd", p->name);
		struct emu_os_dir *d = emu_os_opendir(dir, NULL);
		const struct emu_os_dirent *e;
		if (!d)
			continue;        /* another user's process: it may not hold ours */
		while (!found && (e = emu_os_readdir(d))) {
			char path[96], target[64];
			if (e->name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%.20s", dir, e->name);
			long n = emu_os_readlink(path, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				found = !strcmp(target, want);
			}
		}
		emu_os_closedir(d);
	}
	emu_os_closedir(proc);
	return !found;
}

/* The table is full: drop the values of owners that are gone, and rebuild the
 * index without tombstones (values stay where they are: a slot's value is at
 * its index, so a moved entry takes its value along). Returns the number of
 * live values dropped. */
static __u32 collect(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u32 cap = (__u32)d->type_state[LS_CAP], dropped = 0, n = 0;
	__u64 vs = round_up8(d->value_size);
	for (__u32 i = 0; i < cap; i++) {
		struct slot *s = slot_at(map, i);
		if (s->state == SLOT_LIVE && owner_gone(d->map_type, s)) {
			s->state = SLOT_GONE;
			d->type_state[LS_COUNT]--;
			dropped++;
		}
		n += s->state == SLOT_LIVE;
	}
	if (!dropped)
		return 0;
	struct slot *ids = malloc((size_t)n * sizeof(*ids) + 1);
	char *vals = malloc((size_t)n * vs + 1);
	if (!ids || !vals) {
		free(ids);
		free(vals);
		return dropped;     /* the tombstones stay; inserts reuse them */
	}
	n = 0;
	for (__u32 i = 0; i < cap; i++) {
		struct slot *s = slot_at(map, i);
		if (s->state == SLOT_LIVE) {
			ids[n] = *s;
			memcpy(vals + (size_t)n * vs, value_of(map, s), d->value_size);
			n++;
		}
		s->state = SLOT_FREE;
	}
	for (__u32 k = 0; k < n; k++) {
		struct slot *room = NULL;
		find(map, ids[k].id, &room);
		*room = ids[k];
		memcpy(value_of(map, room), vals + (size_t)k * vs, d->value_size);
	}
	free(ids);
	free(vals);
	d->type_state[LS_USED] = d->type_state[LS_COUNT];
	return dropped;
}

/* copy a value in, keeping the slot's bpf_spin_lock word (never user space's) */
static void value_in(const struct emu_map_desc *d, char *dst, const char *src, bool fresh)
{
	__u32 n = d->value_size;
	if (d->spin_lock_off < 0) {
		memcpy(dst, src, n);
		return;
	}
	__u32 off = (__u32)d->spin_lock_off;
	memcpy(dst, src, off);
	memcpy(dst + off + 4, src + off + 4, n - off - 4);
	if (fresh)
		memset(dst + off, 0, 4);
}

static int storage_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	__u64 id[2];
	int fd;
	(void)flags;
	memcpy(&fd, key, sizeof(fd));
	int err = owner_id(map, fd, id);
	if (err)
		return err;
	emu_obj_lock(map);
	struct slot *s = find(map, id, NULL);
	if (s)
		memcpy(value, value_of(map, s), emu_map_desc(map)->value_size);
	emu_obj_unlock(map);
	return s ? 0 : -ENOENT;
}

static int storage_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u64 id[2];
	int fd;
	memcpy(&fd, key, sizeof(fd));
	int err = owner_id(map, fd, id);
	if (err)
		return err;
	/* bpf_local_storage_update() */
	if ((flags & ~(__u64)BPF_F_LOCK) > BPF_EXIST || ((flags & BPF_F_LOCK) && d->spin_lock_off < 0))
		return -EINVAL;
	__u64 mode = flags & ~(__u64)BPF_F_LOCK;
	emu_obj_lock(map);
	struct slot *room = NULL, *s = find(map, id, &room);
	if (s && mode == BPF_NOEXIST) {
		err = -EEXIST;
	} else if (!s && mode == BPF_EXIST) {
		err = -ENOENT;
	} else if (s) {
		value_in(d, value_of(map, s), value, false);
	} else {
		if (!room && collect(map))
			find(map, id, &room);
		if (!room) {
			EMU_LOG(EMU_LOG_MAP, "map %u: every one of its %llu storage slots has a live owner: ENOMEM",
				map->hdr->id, (unsigned long long)d->type_state[LS_CAP]);
			err = -ENOMEM;
		} else {
			__u32 i = (__u32)(room - slot_at(map, 0));
			err = emu_obj_populate(map, value_off(map, i), d->value_size);
			if (!err) {
				bool was_free = room->state == SLOT_FREE;
				room->id[0] = id[0];
				room->id[1] = id[1];
				value_in(d, value_of(map, room), value, true);
				__atomic_store_n(&room->state, SLOT_LIVE, __ATOMIC_RELEASE);
				d->type_state[LS_COUNT]++;
				if (was_free)
					d->type_state[LS_USED]++;
			}
		}
	}
	emu_obj_unlock(map);
	return err;
}

static int storage_delete(struct emu_obj *map, const void *key)
{
	__u64 id[2];
	int fd;
	memcpy(&fd, key, sizeof(fd));
	int err = owner_id(map, fd, id);
	if (err)
		return err;
	emu_obj_lock(map);
	struct slot *s = find(map, id, NULL);
	if (s) {
		__atomic_store_n(&s->state, SLOT_GONE, __ATOMIC_RELEASE);
		emu_map_desc(map)->type_state[LS_COUNT]--;
	}
	emu_obj_unlock(map);
	return s ? 0 : -ENOENT;
}

static int storage_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -ENOTSUPP;
}

#define STORAGE_OPS                                   \
	.check_spec = storage_check_spec,             \
	.data_size = storage_data_size,               \
	.reserve_size = storage_reserve_size,         \
	.init_spec = storage_init,                    \
	.mem_usage = storage_mem_usage,               \
	.lookup = storage_lookup,                     \
	.update = storage_update,                     \
	.delete = storage_delete,                     \
	.get_next_key = storage_get_next_key

const struct emu_map_ops sk_storage_map_ops = { STORAGE_OPS };
const struct emu_map_ops inode_storage_map_ops = { STORAGE_OPS };
const struct emu_map_ops task_storage_map_ops = { STORAGE_OPS };
const struct emu_map_ops cgrp_storage_map_ops = { STORAGE_OPS };
