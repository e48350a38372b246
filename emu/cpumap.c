/* SPDX-License-Identifier: MIT */
/*
 * emu/cpumap.c: BPF_MAP_TYPE_CPUMAP.
 *
 * Index = CPU, value = struct bpf_cpumap_val cut to value_size: qsize (4
 * bytes), then an XDP program fd on update and its id on lookup (8 bytes).
 * qsize 0 frees the slot; a CPU that is not possible is ENODEV. The kernel
 * starts a kthread and a ptr_ring of qsize entries per slot; we only record
 * the value. max_entries is bounded by NR_CPUS (the kernel's kernel_max + 1).
 */
#include <stdio.h>
#include <string.h>

#include "map.h"
#include "os.h"

#define KERNEL_CPU_MAP_SIZE 304u        /* sizeof(struct bpf_cpu_map): bytes_memlock */
#define CPUMAP_MAX_QSIZE 16384u

struct cpu_val {
	__u32 qsize, prog;
};

static __u32 nr_cpus(void)
{
	static __u32 n;
	if (!n) {
		char buf[32];
		unsigned int v = 0;
		if (emu_os_read_file("/sys/devices/system/cpu/kernel_max", buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%u", &v) != 1)
			v = 8191;
		n = v + 1;
	}
	return n;
}

static int cpu_check_spec(const struct emu_map_spec *s)
{
	/* cpu_map_alloc */
	if (s->max_entries == 0 || s->key_size != 4 || (s->value_size != 4 && s->value_size != 8) ||
	    (s->map_flags & ~(__u32)BPF_F_NUMA_NODE))
		return -EINVAL;
	if (s->max_entries > nr_cpus())
		return -E2BIG;
	return 0;
}

static __u64 cpu_data_size(const struct emu_map_spec *s)
{
	return page_align((__u64)s->max_entries * sizeof(struct cpu_val));
}

static __u64 cpu_mem_usage(const struct emu_obj *map)
{
	return KERNEL_CPU_MAP_SIZE + 8ull * emu_map_desc(map)->max_entries;
}

static inline struct cpu_val *slot_at(struct emu_obj *map, __u32 i)
{
	return (struct cpu_val *)emu_obj_data(map) + i;
}

static int cpu_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	__u32 i;
	(void)flags;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -ENOENT;
	emu_obj_lock(map);
	struct cpu_val v = *slot_at(map, i);
	emu_obj_unlock(map);
	if (!v.qsize)
		return -ENOENT;
	memcpy(value, &v, emu_map_desc(map)->value_size);
	return 0;
}

static int cpu_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	__u32 vs = emu_map_desc(map)->value_size, i;
	struct cpu_val v = { 0, 0 };
	__s32 fd = -1;
	memcpy(&i, key, 4);
	memcpy(&v.qsize, value, 4);
	if (vs == 8)
		memcpy(&fd, (const char *)value + 4, 4);
	/* cpu_map_update_elem */
	if (flags > BPF_EXIST)
		return -EINVAL;
	if (i >= emu_map_desc(map)->max_entries)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;
	if (v.qsize > CPUMAP_MAX_QSIZE)
		return -EOVERFLOW;
	if (i >= emu_possible_cpus())
		return -ENODEV;
	if (v.qsize && fd > 0) {
		int id = emu_xdp_prog_id(fd, BPF_XDP_CPUMAP);
		if (id < 0)
			return -ENOMEM;        /* __cpu_map_entry_alloc fails as a whole */
		v.prog = (__u32)id;
	}
	emu_obj_lock(map);
	*slot_at(map, i) = v;
	emu_obj_unlock(map);
	return 0;
}

static int cpu_delete(struct emu_obj *map, const void *key)
{
	__u32 i;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -EINVAL;
	emu_obj_lock(map);
	memset(slot_at(map, i), 0, sizeof(struct cpu_val));
	emu_obj_unlock(map);
	return 0;
}

static int cpu_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

const struct emu_map_ops cpu_map_ops = {
	.check_spec = cpu_check_spec,
	.data_size = cpu_data_size,
	.mem_usage = cpu_mem_usage,
	.lookup = cpu_lookup,
	.update = cpu_update,
	.delete = cpu_delete,
	.get_next_key = cpu_get_next_key,
};
