/* SPDX-License-Identifier: MIT */
/*
 * emu/struct_ops.c: BPF_MAP_TYPE_STRUCT_OPS: creation checks only.
 *
 * A struct_ops map's value is a kernel struct (tcp_congestion_ops, ...)
 * named by btf_vmlinux_value_type_id. bpf_struct_ops_map_alloc_check's
 * EINVALs are the kernel's; past them the kernel looks the type up among the
 * struct_ops it registered, and we have none: ENOTSUPP, as the kernel answers
 * a type id that names no struct_ops.
 */
#include "map.h"

#define STRUCT_OPS_FLAG_MASK ((1u << 13) | (1u << 15))   /* BPF_F_LINK | BPF_F_VTYPE_BTF_OBJ_FD */

static int st_check_spec(const struct emu_map_spec *s)
{
	if (s->key_size != 4 || s->max_entries != 1 || (s->map_flags & ~STRUCT_OPS_FLAG_MASK) ||
	    !s->btf_vmlinux_value_type_id)
		return -EINVAL;
	EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: no struct_ops type is emulated (vmlinux value type %u): ENOTSUPP",
		s->btf_vmlinux_value_type_id);
	return -ENOTSUPP;
}

static __u64 st_data_size(const struct emu_map_spec *s)
{
	(void)s;
	return 0;
}

static __u64 st_mem_usage(const struct emu_obj *map)
{
	(void)map;
	return 0;
}

static int st_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int st_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;
}

static int st_delete(struct emu_obj *map, const void *key)
{
	(void)map, (void)key;
	return -EINVAL;
}

static int st_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -ENOENT;
}

const struct emu_map_ops struct_ops_map_ops = {
	.check_spec = st_check_spec,
	.data_size = st_data_size,
	.mem_usage = st_mem_usage,
	.lookup = st_lookup,
	.update = st_update,
	.delete = st_delete,
	.get_next_key = st_get_next_key,
};
