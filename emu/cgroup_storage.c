/* SPDX-License-Identifier: MIT */
/*
 * emu/cgroup_storage.c: BPF_MAP_TYPE_CGROUP_STORAGE and
 * PERCPU_CGROUP_STORAGE (the deprecated per-attachment storage).
 *
 * These are created without BTF; an element exists for each cgroup a program
 * using the map is attached to. No program of ours attaches, so the map is
 * always empty: lookups and updates ENOENT (after the kernel's flag checks),
 * deletes EINVAL (cgroup_storage_delete_elem), walks ENOENT.
 */
#include "map.h"

#define STORAGE_FLAG_MASK                                                                            \
	(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
#define LOCAL_STORAGE_MAX_VALUE_SIZE 65407u    /* BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on 6.18 */
#define PCPU_MIN_UNIT_SIZE 32768u
#define KERNEL_CGROUP_STORAGE_MAP_SIZE 328u    /* sizeof(struct bpf_cgroup_storage_map) */
#define CGROUP_STORAGE_KEY_SIZE 16u            /* sizeof(struct bpf_cgroup_storage_key) */

static int cgs_check_spec(const struct emu_map_spec *s)
{
	__u32 max_value = s->map_type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE ? PCPU_MIN_UNIT_SIZE
									   : LOCAL_STORAGE_MAX_VALUE_SIZE;
	/* cgroup_storage_map_alloc */
	if (s->key_size != CGROUP_STORAGE_KEY_SIZE && s->key_size != 8)
		return -EINVAL;
	if (s->value_size == 0)
		return -EINVAL;
	if (s->value_size > max_value)
		return -E2BIG;
	if ((s->map_flags & ~(__u32)STORAGE_FLAG_MASK) ||
	    (s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return -EINVAL;
	if (s->max_entries)
		return -EINVAL;
	return 0;
}

static __u64 cgs_data_size(const struct emu_map_spec *s)
{
	(void)s;
	return 0;
}

static __u64 cgs_mem_usage(const struct emu_obj *map)
{
	(void)map;
	return KERNEL_CGROUP_STORAGE_MAP_SIZE;
}

static __u32 cgs_percpu_value_size(const struct emu_obj *map)
{
	return (__u32)(round_up8(emu_map_desc(map)->value_size) * emu_possible_cpus());
}

static int cgs_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -ENOENT;
}

static int cgs_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)key, (void)value;
	if (emu_map_desc(map)->map_type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE) {
		if (flags != BPF_ANY && flags != BPF_EXIST)
			return -EINVAL;
	} else if (flags & ~(__u64)(BPF_F_LOCK | BPF_EXIST)) {
		return -EINVAL;
	}
	return -ENOENT;                  /* cgroup_storage_lookup: no cgroup is attached */
}

static int cgs_delete(struct emu_obj *map, const void *key)
{
	(void)map, (void)key;
	return -EINVAL;
}

static int cgs_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -ENOENT;
}

#define CGS_OPS                                       \
	.check_spec = cgs_check_spec,                 \
	.data_size = cgs_data_size,                   \
	.mem_usage = cgs_mem_usage,                   \
	.lookup = cgs_lookup,                         \
	.update = cgs_update,                         \
	.delete = cgs_delete,                         \
	.get_next_key = cgs_get_next_key

const struct emu_map_ops cgroup_storage_map_ops = { CGS_OPS };
const struct emu_map_ops percpu_cgroup_storage_map_ops = { CGS_OPS, .user_value_size = cgs_percpu_value_size };
