/* SPDX-License-Identifier: MIT */
/*
 * emu/fd_array.c: the arrays whose values user space writes as fds:
 * BPF_MAP_TYPE_PROG_ARRAY (program fds), PERF_EVENT_ARRAY (perf event fds),
 * CGROUP_ARRAY (cgroup directory fds) and ARRAY_OF_MAPS (inner map fds).
 *
 * Storage: one __u32 per slot, 0 = empty. A program or map slot holds the
 * target's id and a reference (emu/map_in_map.c: a hard link that keeps the
 * target's file alive), so lookup answers the id as the kernel's
 * map_fd_sys_lookup_elem does. Perf events and cgroups are kernel objects no
 * file of ours can keep alive: a perf event slot holds the event's id (and a
 * reference: emu/perf), a cgroup slot the cgroup directory's inode number
 * (for bpf_current_task_under_cgroup); user space cannot read either back
 * (ENOTSUPP, like the kernel).
 *
 * Kernel order (bpf_fd_array_map_update_elem): flags != BPF_ANY, index,
 * then the fd (map_fd_get_ptr).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "link.h"
#include "map.h"
#include "os.h"
#include "perf/perf.h"

#define FD_ARRAY_FLAG_MASK                                                                   \
	(BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG |   \
	 BPF_F_WRONLY_PROG | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)
#define KERNEL_BPF_ARRAY_SIZE 312u     /* sizeof(struct bpf_array) */
#define CGROUP2_SUPER_MAGIC 0x63677270

/* type_state slots of the maps that hold programs (PROG_ARRAY, DEVMAP,
 * DEVMAP_HASH, CPUMAP: map_type_contains_progs()), the kernel's bpf_map_owner,
 * set by the first program that uses the map: its type, expected attach type
 * and flags (BPF_F_XDP_HAS_FRAGS, BPF_F_SLEEPABLE). In the wrapper's range
 * [16, 24) (obj.h), after devmap's count. */
enum { OWN_SET = 20, OWN_TYPE, OWN_EAT, OWN_FLAGS };
#define OWNER_FLAGS (BPF_F_XDP_HAS_FRAGS | BPF_F_SLEEPABLE)

static int fd_array_check_spec(const struct emu_map_spec *s)
{
	__u64 n = 1;

	/* fd_array_map_alloc_check, then array_map_alloc_check */
	if (s->value_size != 4 || (s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)))
		return -EINVAL;
	if (s->max_entries == 0 || s->key_size != 4 || (s->map_flags & ~FD_ARRAY_FLAG_MASK))
		return -EINVAL;
	if (s->map_flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP))
		return -EINVAL;
	if (s->map_type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && (s->map_flags & BPF_F_PRESERVE_ELEMS))
		return -EINVAL;
	while (n < s->max_entries)
		n <<= 1;
	if (n > 0x80000000ull)
		return -E2BIG;
	if (s->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
		return emu_inner_meta_check(s->inner_map_fd);
	return 0;
}

static __u64 fd_array_data_size(const struct emu_map_spec *s)
{
	return page_align((__u64)s->max_entries * 4);
}

static int aom_init(struct emu_obj *map, const struct emu_map_spec *spec)
{
	return emu_inner_meta_save(map, spec->inner_map_fd);
}

static __u64 fd_array_mem_usage(const struct emu_obj *map)
{
	return KERNEL_BPF_ARRAY_SIZE + 8ull * emu_map_desc(map)->max_entries;    /* a pointer per slot */
}

static inline __u32 *slot_at(struct emu_obj *map, __u32 index)
{
	return (__u32 *)emu_obj_data(map) + index;
}

static enum emu_kind target_kind(__u32 map_type)
{
	return map_type == BPF_MAP_TYPE_PROG_ARRAY ? EMU_KIND_PROG
	       : map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS ? EMU_KIND_MAP
	       : map_type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ? EMU_KIND_PERF_EVENT : EMU_KIND_NONE;
}

bool emu_map_holds_progs(__u32 map_type)
{
	return map_type == BPF_MAP_TYPE_PROG_ARRAY || map_type == BPF_MAP_TYPE_DEVMAP ||
	       map_type == BPF_MAP_TYPE_DEVMAP_HASH || map_type == BPF_MAP_TYPE_CPUMAP;
}

/* __bpf_prog_map_compatible(): the first program owns the map; a later one
 * must have its type, its frags and sleepable flags and, for a PROG_ARRAY,
 * its expected attach type. 0 or -EINVAL. (Not compared: the cgroup storage
 * cookies, the traced function's prototype.) */
int emu_prog_map_claim(struct emu_obj *map, __u32 prog_type, __u32 expected_attach_type, __u32 prog_flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 *st = emu_map_desc(map)->type_state;
	int err = 0;
	prog_flags &= OWNER_FLAGS;
	emu_obj_lock(map);
	if (!st[OWN_SET]) {
		st[OWN_TYPE] = prog_type;
		st[OWN_EAT] = expected_attach_type;
		st[OWN_FLAGS] = prog_flags;
		st[OWN_SET] = 1;
	} else if (st[OWN_TYPE] != prog_type || st[OWN_FLAGS] != prog_flags ||
		   (d->map_type == BPF_MAP_TYPE_PROG_ARRAY && st[OWN_EAT] != expected_attach_type)) {
		err = -EINVAL;
	}
	emu_obj_unlock(map);
	return err;
}

/* fdinfo's owner lines: 1 and the owner's type once a program claimed the map */
bool emu_prog_map_owner(const struct emu_obj *map, __u32 *prog_type)
{
	const __u64 *st = map->hdr->map.type_state;
	*prog_type = (__u32)st[OWN_TYPE];
	return st[OWN_SET] != 0;
}

/* ---- map_fd_get_ptr per type: 0 and the target (or NULL) or -errno ---- */

static int prog_get(struct emu_obj *map, int ufd, struct emu_obj **tp)
{
	struct emu_obj *prog;
	int acc, err = emu_fd_get(ufd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;
	const struct emu_prog_desc *pd = &prog->hdr->prog;
	__u32 type = pd->prog_type;
	/* bpf_prog_map_compatible(): the first program owns the array for good (an
	 * extension is refused before it) */
	err = type == BPF_PROG_TYPE_EXT ? -EINVAL
					 : emu_prog_map_claim(map, type, pd->expected_attach_type, pd->prog_flags);
	if (err) {
		EMU_LOG(EMU_LOG_SYS, "prog array %u: program type %u does not match the array's: EINVAL",
			map->hdr->id, type);
		emu_obj_put(prog);
		return err;
	}
	/* prog_fd_array_get_ptr(): a program an extension replaces functions of
	 * cannot be a tail call's target */
	if (emu_prog_extended(prog)) {
		EMU_LOG(EMU_LOG_SYS, "prog array %u: program %u is extended: EBUSY", map->hdr->id, prog->hdr->id);
		emu_obj_put(prog);
		return -EBUSY;
	}
	*tp = prog;
	return 0;
}

/* cgroup_get_from_fd(): 0 and the cgroup's inode (its id; the slot keeps it
 * for bpf_current_task_under_cgroup), or -EBADF */
static int cgroup_check(int ufd, __u32 *ino)
{
	struct statfs sfs;
	struct stat sb;
	ufd = emu_caller_fd(ufd);
	if (ufd < 0 || emu_os_fstat(ufd, &sb))
		return -EBADF;
	/* cgroup_get_from_fd(): a cgroup directory, and of the default (v2) hierarchy */
	if (emu_os_fstatfs(ufd, &sfs) || !S_ISDIR(sb.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EBADF;
	*ino = (__u32)sb.st_ino ? (__u32)sb.st_ino : 1;
	return 0;
}

static int fd_array_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	__u32 index, v;
	(void)flags;
	enum emu_kind tk = target_kind(emu_map_desc(map)->map_type);
	if (tk == EMU_KIND_NONE || tk == EMU_KIND_PERF_EVENT)
		return -ENOTSUPP;            /* no map_fd_sys_lookup_elem */
	memcpy(&index, key, 4);
	if (index >= emu_map_desc(map)->max_entries)
		return -ENOENT;
	v = __atomic_load_n(slot_at(map, index), __ATOMIC_ACQUIRE);
	if (!v)
		return -ENOENT;
	memcpy(value, &v, 4);
	return 0;
}

static int fd_array_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	enum emu_kind kind = target_kind(d->map_type);
	struct emu_obj *target = NULL;
	__u32 index, ufd, v = 1, old;
	int err, dfd = -1;

	memcpy(&index, key, 4);
	memcpy(&ufd, value, 4);
	if (flags != BPF_ANY)
		return -EINVAL;
	if (index >= d->max_entries)
		return -E2BIG;
	switch (d->map_type) {
	case BPF_MAP_TYPE_PROG_ARRAY:
		err = prog_get(map, (int)ufd, &target);
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
		err = emu_inner_map_get(map, (int)ufd, &target);
		break;
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		err = emu_perf_array_get((int)ufd, &target);   /* emu/perf/: ours, or the kernel's (NULL) */
		if (!err && !target)
			v = EMU_PERF_SLOT_KERNEL;
		break;
	default:
		err = cgroup_check((int)ufd, &v);
	}
	if (err)
		return err;
	if (target) {
		v = target->hdr->id;
		dfd = emu_refs_lock(map);
		err = dfd < 0 ? dfd : emu_ref_take(dfd, (int)ufd, target);
		if (err)
			goto out;
	}
	old = __atomic_exchange_n(slot_at(map, index), v, __ATOMIC_ACQ_REL);
	if (old && old != EMU_PERF_SLOT_KERNEL && kind != EMU_KIND_NONE) {
		if (dfd < 0)
			dfd = emu_refs_lock(map);
		if (dfd >= 0)
			emu_ref_drop(dfd, kind, old);
	}
out:
	emu_refs_unlock(dfd);
	if (target)
		emu_obj_put(target);
	return err;
}

static int fd_array_delete(struct emu_obj *map, const void *key)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	enum emu_kind kind = target_kind(d->map_type);
	__u32 index;
	int dfd = -1;

	memcpy(&index, key, 4);
	if (index >= d->max_entries)
		return -E2BIG;
	if (kind != EMU_KIND_NONE) {
		dfd = emu_refs_lock(map);
		if (dfd < 0)
			return dfd;
	}
	__u32 old = __atomic_exchange_n(slot_at(map, index), 0, __ATOMIC_ACQ_REL);
	if (old && old != EMU_PERF_SLOT_KERNEL && kind != EMU_KIND_NONE)
		emu_ref_drop(dfd, kind, old);
	emu_refs_unlock(dfd);
	return old ? 0 : -ENOENT;
}

static int fd_array_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

/* bpf_map_lookup_elem() from a program on an ARRAY_OF_MAPS: the slot, which
 * holds the inner map's id (emu/vm turns it into the map's handle) */
static void *aom_prog_lookup(struct emu_obj *map, const void *key, unsigned int cpu)
{
	__u32 index;
	(void)cpu;
	memcpy(&index, key, 4);
	if (index >= emu_map_desc(map)->max_entries || !__atomic_load_n(slot_at(map, index), __ATOMIC_ACQUIRE))
		return NULL;
	return slot_at(map, index);
}

/* the program a PROG_ARRAY slot holds (bpf_tail_call): its id, 0 if none */
__u32 emu_prog_array_slot(struct emu_obj *map, __u32 index)
{
	if (index >= emu_map_desc(map)->max_entries)
		return 0;
	return __atomic_load_n(slot_at(map, index), __ATOMIC_ACQUIRE);
}

#define FD_ARRAY_OPS                                  \
	.check_spec = fd_array_check_spec,            \
	.data_size = fd_array_data_size,              \
	.mem_usage = fd_array_mem_usage,              \
	.lookup = fd_array_lookup,                    \
	.update = fd_array_update,                    \
	.delete = fd_array_delete,                    \
	.get_next_key = fd_array_get_next_key

const struct emu_map_ops prog_array_map_ops = { FD_ARRAY_OPS };
const struct emu_map_ops perf_event_array_map_ops = { FD_ARRAY_OPS };
const struct emu_map_ops cgroup_array_map_ops = { FD_ARRAY_OPS };
const struct emu_map_ops array_of_maps_map_ops = { FD_ARRAY_OPS, .init_spec = aom_init, .prog_lookup = aom_prog_lookup };
