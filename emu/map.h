/* SPDX-License-Identifier: MIT */
/* emu/map.h: the generic map object and the per-family ops table. */
#ifndef BPFEMU_MAP_H
#define BPFEMU_MAP_H

#include "obj.h"

/* What sys.c decodes from BPF_MAP_CREATE's attr; families never see union bpf_attr. */
struct emu_map_spec {
	__u32 map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 inner_map_fd;
	__u32 numa_node;
	__u32 ifindex;
	__u32 btf_fd;
	__u32 btf_key_type_id;
	__u32 btf_value_type_id;
	__u32 btf_vmlinux_value_type_id;
	__u64 map_extra;
	char name[EMU_OBJ_NAME_LEN];
};

struct emu_map_ops {
	/* creation: a pure check of the spec, the storage size, then init of the storage */
	int (*check_spec)(const struct emu_map_spec *spec);                 /* optional */
	__u64 (*data_size)(const struct emu_map_spec *spec);
	int (*init)(struct emu_obj *map);                                   /* optional */
	__u64 (*mem_usage)(const struct emu_obj *map);                      /* bytes_memlock */

	/* element operations, callable from user space; the caller copied key and value in */
	int (*lookup)(struct emu_obj *map, const void *key, void *value, __u64 flags);   /* copies out */
	int (*update)(struct emu_obj *map, const void *key, const void *value, __u64 flags);
	int (*delete)(struct emu_obj *map, const void *key);
	int (*lookup_and_delete)(struct emu_obj *map, const void *key, void *value, __u64 flags); /* optional: -ENOTSUPP */
	int (*get_next_key)(struct emu_obj *map, const void *key, void *next);    /* key NULL = first */

	/* bytes user space passes as a value (bpf_map_value_size): optional,
	 * value_size when NULL; per-CPU maps: round_up(value_size, 8) * possible CPUs */
	__u32 (*user_value_size)(const struct emu_obj *map);

	/* mmap of the map fd: 0 if allowed (the file offset of the data is data_off + off) */
	int (*mmap_check)(const struct emu_obj *map, size_t len, off_t off);    /* optional: -ENOTSUPP */
};

#ifndef ENOTSUPP
#define ENOTSUPP 524   /* the kernel's internal "operation not supported", seen by user space */
#endif

const struct emu_map_ops *emu_map_ops_of(__u32 map_type);
static inline struct emu_map_desc *emu_map_desc(const struct emu_obj *map) { return &map->hdr->map; }
/* bpf_map_value_size(): what the syscall copies in and out as one value */
static inline __u32 emu_map_value_size(const struct emu_obj *map)
{
	return map->ops->user_value_size ? map->ops->user_value_size(map) : map->hdr->map.value_size;
}

/* the families (one file each, emu/map_types.h lists them) */
extern const struct emu_map_ops htab_map_ops;
extern const struct emu_map_ops array_map_ops;
extern const struct emu_map_ops percpu_array_map_ops;
extern const struct emu_map_ops htab_percpu_map_ops;
extern const struct emu_map_ops htab_lru_map_ops;
extern const struct emu_map_ops htab_lru_percpu_map_ops;
extern const struct emu_map_ops trie_map_ops;
extern const struct emu_map_ops queue_map_ops;
extern const struct emu_map_ops stack_map_ops;
extern const struct emu_map_ops bloom_filter_map_ops;

/* emu/map.c: the command handlers' map side, attr already decoded */
int emu_map_create(const struct emu_map_spec *spec);
int emu_map_fdinfo(struct emu_obj *map, char *buf, size_t len);
int emu_map_fill_info(struct emu_obj *map, struct bpf_map_info *info);

#endif
