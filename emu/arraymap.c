/* SPDX-License-Identifier: MIT */
/*
 * emu/arraymap.c: BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
 *
 * Storage: max_entries values of round_up(value_size, 8) bytes from the start
 * of the (page-aligned) data area, so a BPF_F_MMAPABLE array's mmap of the map
 * fd maps exactly the values, like the kernel's. As in the kernel, user-space
 * updates copy without a lock (a concurrent reader may see a value mid-copy;
 * BPF_F_LOCK needs a bpf_spin_lock in the value).
 *
 * PERCPU_ARRAY stores, per index, one round_up(value_size, 8) slot per
 * possible CPU, contiguous, which is exactly what user space reads and writes.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "map.h"

#define ARRAY_CREATE_FLAG_MASK                                                               \
	(BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG |   \
	 BPF_F_WRONLY_PROG | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)
#define KERNEL_BPF_ARRAY_SIZE 312u     /* sizeof(struct bpf_array): bytes_memlock */

#define PCPU_MIN_UNIT_SIZE (32u << 10)

static bool is_percpu(__u32 map_type) { return map_type == BPF_MAP_TYPE_PERCPU_ARRAY; }
/* bytes of one index: one rounded value, per CPU for per-CPU arrays */
static __u32 elem_size(const struct emu_map_desc *d)
{
	return (__u32)round_up8(d->value_size) * (is_percpu(d->map_type) ? emu_possible_cpus() : 1);
}
/* what user space passes as one value: value_size, or every CPU's slot */
static __u32 user_bytes(const struct emu_map_desc *d)
{
	return is_percpu(d->map_type) ? elem_size(d) : d->value_size;
}

/* With Spectre v1 mitigations the kernel sizes arrays to a power of two. */
static __u64 kernel_entries(__u32 max_entries)
{
	__u64 p = 1;
	while (p < max_entries)
		p <<= 1;
	return p;
}

static int array_check_spec(const struct emu_map_spec *s)
{
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
	bool percpu = is_percpu(s->map_type);
	bool numa = (s->map_flags & BPF_F_NUMA_NODE) && s->numa_node != 0xffffffffu;

	if (s->max_entries == 0 || s->key_size != 4 || s->value_size == 0 ||
	    (s->map_flags & ~ARRAY_CREATE_FLAG_MASK) || access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) ||
	    (percpu && numa))
		return -EINVAL;
	if (s->map_type != BPF_MAP_TYPE_ARRAY && (s->map_flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)))
		return -EINVAL;
	if (s->map_flags & BPF_F_PRESERVE_ELEMS)     /* perf event arrays only */
		return -EINVAL;
	if (s->value_size > INT_MAX)
		return -E2BIG;
	if (percpu && round_up8(s->value_size) > PCPU_MIN_UNIT_SIZE)
		return -E2BIG;
	if (kernel_entries(s->max_entries) > 0x80000000ull)
		return -E2BIG;
	return 0;
}

static __u64 array_data_size(const struct emu_map_spec *s)
{
	__u64 per = round_up8(s->value_size) * (is_percpu(s->map_type) ? emu_possible_cpus() : 1);
	return page_align((__u64)s->max_entries * per);
}

static __u64 array_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (is_percpu(d->map_type))   /* the value pointers, then every CPU's values */
		return KERNEL_BPF_ARRAY_SIZE + (__u64)d->max_entries * 8 + (__u64)d->max_entries * elem_size(d);
	__u64 bytes = kernel_entries(d->max_entries) * elem_size(d);
	if (d->map_flags & BPF_F_MMAPABLE)
		return page_align(KERNEL_BPF_ARRAY_SIZE) + page_align(bytes);
	return KERNEL_BPF_ARRAY_SIZE + bytes;
}

static inline char *value_at(struct emu_obj *map, __u32 index)
{
	return (char *)emu_obj_data(map) + (size_t)index * elem_size(emu_map_desc(map));
}

/*
 * An update from user space copies the value into the shared mapping with
 * plain stores, so a process killed in the middle of the copy leaves a
 * larger value torn (the kernel always finishes its copy). What is
 * guaranteed: values of 1, 2, 4 or 8 bytes of a (non-per-CPU) array are
 * written and read with one aligned store or load (elements are 8-byte
 * aligned), so they are never torn, by a kill or by a concurrent reader.
 */
static bool copy_whole(void *dst, const void *src, __u32 n)
{
	switch (n) {
	case 1: __atomic_store_n((__u8 *)dst, *(const __u8 *)src, __ATOMIC_RELAXED); return true;
	case 2: { __u16 v; memcpy(&v, src, 2); __atomic_store_n((__u16 *)dst, v, __ATOMIC_RELAXED); return true; }
	case 4: { __u32 v; memcpy(&v, src, 4); __atomic_store_n((__u32 *)dst, v, __ATOMIC_RELAXED); return true; }
	case 8: { __u64 v; memcpy(&v, src, 8); __atomic_store_n((__u64 *)dst, v, __ATOMIC_RELAXED); return true; }
	default: return false;
	}
}

static bool load_whole(void *dst, const void *src, __u32 n)
{
	switch (n) {
	case 1: *(__u8 *)dst = __atomic_load_n((const __u8 *)src, __ATOMIC_RELAXED); return true;
	case 2: { __u16 v = __atomic_load_n((const __u16 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 2); return true; }
	case 4: { __u32 v = __atomic_load_n((const __u32 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 4); return true; }
	case 8: { __u64 v = __atomic_load_n((const __u64 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 8); return true; }
	default: return false;
	}
}

static int array_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	__u32 index;
	memcpy(&index, key, 4);
	if (index >= emu_map_desc(map)->max_entries)
		return -ENOENT;
	/* BPF_F_LOCK: the value's bpf_spin_lock is taken as the object lock
	 * (only user space touches these maps, and every locked copy takes it) */
	if ((flags & BPF_F_LOCK) && map->rdonly) {
		/* a read-only mapping cannot take the lock: copy until no locked
		 * writer overlapped the copy */
		__u32 seq;
		do {
			seq = emu_obj_read_begin(map);
			memcpy(value, value_at(map, index), user_bytes(emu_map_desc(map)));
		} while (emu_obj_read_retry(map, seq));
		return 0;
	}
	if (!(flags & BPF_F_LOCK) && load_whole(value, value_at(map, index), user_bytes(emu_map_desc(map))))
		return 0;
	if (flags & BPF_F_LOCK)
		emu_obj_lock(map);
	memcpy(value, value_at(map, index), user_bytes(emu_map_desc(map)));
	if (flags & BPF_F_LOCK)
		emu_obj_unlock(map);
	return 0;
}

static int array_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u32 index;

	memcpy(&index, key, 4);
	if ((flags & ~(__u64)BPF_F_LOCK) > BPF_EXIST)
		return -EINVAL;
	if (index >= d->max_entries)
		return -E2BIG;
	if (flags & BPF_NOEXIST)
		return -EEXIST;
	if (flags & BPF_F_LOCK)
		emu_obj_lock(map);
	/* the value's special field (bpf_spin_lock) is not the caller's to write */
	if (d->spin_lock_off >= 0) {
		char *dst = value_at(map, index);
		memcpy(dst, value, (size_t)d->spin_lock_off);
		memcpy(dst + d->spin_lock_off + 4, (const char *)value + d->spin_lock_off + 4,
		       d->value_size - (size_t)d->spin_lock_off - 4);
	} else if (!copy_whole(value_at(map, index), value, user_bytes(d))) {
		memcpy(value_at(map, index), value, user_bytes(d));
	}
	if (flags & BPF_F_LOCK)
		emu_obj_unlock(map);
	return 0;
}

static int array_delete(struct emu_obj *map, const void *key)
{
	(void)map;
	(void)key;
	return -EINVAL;
}

static int array_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

static __u32 percpu_array_user_value_size(const struct emu_obj *map)
{
	return user_bytes(emu_map_desc(map));
}

static int array_mmap_check(const struct emu_obj *map, size_t len, off_t off)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!(d->map_flags & BPF_F_MMAPABLE))
		return -EINVAL;
	if ((__u64)off + len > page_align((__u64)d->max_entries * elem_size(d)))
		return -EINVAL;
	return 0;
}

const struct emu_map_ops array_map_ops = {
	.check_spec = array_check_spec,
	.data_size = array_data_size,
	.mem_usage = array_mem_usage,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.get_next_key = array_get_next_key,
	.mmap_check = array_mmap_check,
	.lookup_batch = emu_generic_map_lookup_batch,
	.update_batch = emu_generic_map_update_batch,
};

/* no mmap: the kernel's percpu_array_map_ops has no map_mmap (ENOTSUPP) */
const struct emu_map_ops percpu_array_map_ops = {
	.check_spec = array_check_spec,
	.data_size = array_data_size,
	.mem_usage = array_mem_usage,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.get_next_key = array_get_next_key,
	.user_value_size = percpu_array_user_value_size,
	.lookup_batch = emu_generic_map_lookup_batch,
	.update_batch = emu_generic_map_update_batch,
};
