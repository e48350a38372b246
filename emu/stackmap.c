/* SPDX-License-Identifier: MIT */
/*
 * emu/stackmap.c: BPF_MAP_TYPE_STACK_TRACE.
 *
 * Only a BPF program's bpf_get_stackid() fills a stack trace map; user space
 * may look up, delete and walk it, and never update (EINVAL). No program of
 * ours records stacks, so the map is always empty: lookups, deletes in range
 * and walks answer ENOENT as the kernel's do on an empty map, and the file
 * holds no storage. Creation follows stack_map_alloc(); ids past the bucket
 * count (max_entries rounded up to a power of two) are E2BIG for delete.
 */
#include <stdio.h>

#include "map.h"
#include "os.h"

#define STACK_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID)
#define KERNEL_STACK_MAP_SIZE 320u      /* sizeof(struct bpf_stack_map): bytes_memlock */
#define KERNEL_STACK_BUCKET_SIZE 16u    /* sizeof(struct stack_map_bucket) */
#define BUILD_ID_SIZE 32u               /* sizeof(struct bpf_stack_build_id) */

static __u32 perf_max_stack(void)
{
	static __u32 n;
	if (!n) {
		char buf[32];
		unsigned int v = 0;
		if (emu_os_read_file("/proc/sys/kernel/perf_event_max_stack", buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%u", &v) != 1 || !v)
			v = 127;
		n = v;
	}
	return n;
}

static __u64 n_buckets(__u32 max)
{
	__u64 n = 1;
	while (n < max)
		n <<= 1;
	return n;
}

static int stack_check_spec(const struct emu_map_spec *s)
{
	__u32 elem = s->map_flags & BPF_F_STACK_BUILD_ID ? BUILD_ID_SIZE : 8;
	if (s->map_flags & ~(__u32)STACK_CREATE_FLAG_MASK)
		return -EINVAL;
	if (s->max_entries == 0 || s->key_size != 4 || s->value_size < 8 || s->value_size % 8)
		return -EINVAL;
	if (s->value_size % elem || s->value_size / elem > perf_max_stack())
		return -EINVAL;
	if (n_buckets(s->max_entries) > 0x80000000ull)
		return -E2BIG;
	return 0;
}

static __u64 stack_data_size(const struct emu_map_spec *s)
{
	(void)s;
	return 0;
}

static __u64 stack_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return KERNEL_STACK_MAP_SIZE + 8 * n_buckets(d->max_entries) +
	       (__u64)d->max_entries * (KERNEL_STACK_BUCKET_SIZE + d->value_size);
}

static int stack_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -ENOENT;               /* bpf_stackmap_copy: no bucket holds a trace */
}

static int stack_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;               /* stack_map_update_elem */
}

static int stack_delete(struct emu_obj *map, const void *key)
{
	__u32 id;
	__builtin_memcpy(&id, key, 4);
	return id >= n_buckets(emu_map_desc(map)->max_entries) ? -E2BIG : -ENOENT;
}

static int stack_lookup_and_delete(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -ENOENT;
}

static int stack_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -ENOENT;               /* no bucket after any id holds a trace */
}

const struct emu_map_ops stack_trace_map_ops = {
	.check_spec = stack_check_spec,
	.data_size = stack_data_size,
	.mem_usage = stack_mem_usage,
	.lookup = stack_lookup,
	.update = stack_update,
	.delete = stack_delete,
	.lookup_and_delete = stack_lookup_and_delete,
	.get_next_key = stack_get_next_key,
};
