/* SPDX-License-Identifier: MIT */
/*
 * emu/local_storage.c: BPF_MAP_TYPE_SK_STORAGE, INODE_STORAGE, TASK_STORAGE
 * and CGRP_STORAGE: creation checks only.
 *
 * The kernel creates these only with BTF for the key (int) and the value
 * (bpf_local_storage_map_alloc_check); their elements hang off sockets,
 * inodes, tasks and cgroups, which no file of ours can. We answer every
 * creation the kernel refuses as it does (EINVAL, E2BIG, then the BTF's own
 * errors: emu/btf.c) and refuse the rest as a kernel without the type does
 * (EINVAL, with a BPFEMU_LOG=sys line).
 */
#include "map.h"

#define LOCAL_STORAGE_CREATE_FLAG_MASK (BPF_F_NO_PREALLOC | BPF_F_CLONE)
#define LOCAL_STORAGE_MAX_VALUE_SIZE 65407u    /* BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on 6.18 */

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
	(void)s;
	return 0;
}

static int storage_init(struct emu_obj *map, const struct emu_map_spec *s)
{
	(void)map;
	EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: local storage maps (type %u) are not emulated: EINVAL", s->map_type);
	return -EINVAL;
}

static __u64 storage_mem_usage(const struct emu_obj *map)
{
	(void)map;
	return 0;
}

static int storage_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int storage_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int storage_delete(struct emu_obj *map, const void *key)
{
	(void)map, (void)key;
	return -EINVAL;
}

static int storage_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -ENOTSUPP;
}

#define STORAGE_OPS                                   \
	.check_spec = storage_check_spec,             \
	.data_size = storage_data_size,               \
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
