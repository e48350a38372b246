/* SPDX-License-Identifier: MIT */
/*
 * emu/arena.c: BPF_MAP_TYPE_ARENA.
 *
 * An arena is max_entries pages of memory shared between BPF programs and
 * user space, which maps it through the map fd (BPF_F_MMAPABLE is
 * required). It needs no BTF to be created. Our storage is the file itself,
 * max_entries pages, sparse until touched (the kernel allocates pages on
 * fault too). map_extra, when set, is the user address the arena must be
 * mapped at: page aligned, within one 4 GiB window. Element operations from
 * the syscall are the kernel's EINVAL, GET_NEXT_KEY EOPNOTSUPP.
 *
 * Not emulated: the fixed user address (our mmap takes the address the
 * program asks for) and BPF_F_SEGV_ON_FAULT (pages past what user space
 * touched read as zero instead of faulting).
 */
#include <sys/mman.h>

#include "map.h"

#define ARENA_FLAGS (BPF_F_MMAPABLE | (1u << 17) | (1u << 18))   /* | BPF_F_SEGV_ON_FAULT | BPF_F_NO_USER_CONV */
#define SZ_4G (1ull << 32)

static int arena_check_spec(const struct emu_map_spec *s)
{
	/* arena_map_alloc */
	if (s->key_size || s->value_size || s->max_entries == 0 || !(s->map_flags & BPF_F_MMAPABLE) ||
	    (s->map_flags & ~(__u32)ARENA_FLAGS))
		return -EINVAL;
	if (s->map_extra & (EMU_PAGE_SIZE - 1))
		return -EINVAL;
	__u64 range = (__u64)s->max_entries * EMU_PAGE_SIZE;
	if (range > SZ_4G)
		return -E2BIG;
	if ((s->map_extra >> 32) != ((s->map_extra + range - 1) >> 32))
		return -ERANGE;
	return 0;
}

static __u64 arena_data_size(const struct emu_map_spec *s)
{
	return (__u64)s->max_entries * EMU_PAGE_SIZE;
}

static __u64 arena_mem_usage(const struct emu_obj *map)
{
	(void)map;
	return 0;                     /* the kernel counts no memlock for an arena */
}

static int arena_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int arena_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int arena_delete(struct emu_obj *map, const void *key)
{
	(void)map, (void)key;
	return -EINVAL;
}

static int arena_lookup_and_delete(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int arena_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -EOPNOTSUPP;
}

static int arena_mmap_check(const struct emu_obj *map, size_t len, off_t off)
{
	if (off != 0 || page_align(len) > (__u64)emu_map_desc(map)->max_entries * EMU_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

const struct emu_map_ops arena_map_ops = {
	.check_spec = arena_check_spec,
	.data_size = arena_data_size,
	.mem_usage = arena_mem_usage,
	.lookup = arena_lookup,
	.update = arena_update,
	.delete = arena_delete,
	.lookup_and_delete = arena_lookup_and_delete,
	.get_next_key = arena_get_next_key,
	.mmap_check = arena_mmap_check,
};
