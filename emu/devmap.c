/* SPDX-License-Identifier: MIT */
/*
 * emu/devmap.c: BPF_MAP_TYPE_DEVMAP and BPF_MAP_TYPE_DEVMAP_HASH.
 *
 * Values are struct bpf_devmap_val cut to value_size: 4 bytes (ifindex) or 8
 * (ifindex, then an XDP program fd on update and its id on lookup). An
 * ifindex must name one of the host's interfaces (if_indextoname), as
 * dev_get_by_index() in the caller's network namespace; a program must be
 * XDP with expected_attach_type BPF_XDP_DEVMAP. Slots hold { ifindex, prog
 * id }: the program is not kept alive by the slot (no program of ours runs
 * XDP), so its id may outlive it.
 *
 * DEVMAP is an array: delete in range always succeeds, an update with
 * ifindex 0 (and no program) clears the slot, BPF_NOEXIST is always EEXIST.
 * DEVMAP_HASH is a hash (emu/hashtab.c storage) where BPF_EXIST on a missing
 * key inserts, as dev_map_hash_update_elem does.
 */
#include <net/if.h>
#include <string.h>

#include "map.h"

#define DEV_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)
#define KERNEL_DTAB_SIZE 344u           /* sizeof(struct bpf_dtab): bytes_memlock */
#define KERNEL_DTAB_NETDEV_SIZE 64u     /* sizeof(struct bpf_dtab_netdev) */

enum { DM_ITEMS = 16 };   /* type_state: a wrapper's slot [16, 24) (obj.h): elements held */

struct dm_val {
	__u32 ifindex, prog;
};

static __u64 pow2(__u32 max)
{
	__u64 n = 1;
	while (n < max)
		n <<= 1;
	return n;
}

static int dev_check_spec(const struct emu_map_spec *s)
{
	/* dev_map_alloc_check / dev_map_init_map */
	if (s->max_entries == 0 || s->key_size != 4 || (s->value_size != 4 && s->value_size != 8) ||
	    (s->map_flags & ~(__u32)DEV_CREATE_FLAG_MASK))
		return -EINVAL;
	if (s->map_type == BPF_MAP_TYPE_DEVMAP_HASH && pow2(s->max_entries) > 0x80000000ull)
		return -EINVAL;
	return 0;
}

static struct emu_map_spec hash_spec(const struct emu_map_spec *s)
{
	struct emu_map_spec h = *s;
	h.map_type = BPF_MAP_TYPE_HASH;
	h.map_flags = 0;
	h.value_size = 8;
	return h;
}

static __u64 dev_data_size(const struct emu_map_spec *s)
{
	if (s->map_type == BPF_MAP_TYPE_DEVMAP_HASH) {
		struct emu_map_spec h = hash_spec(s);
		return htab_map_ops.data_size(&h);
	}
	return page_align((__u64)s->max_entries * sizeof(struct dm_val));
}

static int dev_init(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	/* the verifier must keep programs from writing: dev_map_init_map sets BPF_F_RDONLY_PROG */
	d->map_flags |= BPF_F_RDONLY_PROG;
	if (d->map_type != BPF_MAP_TYPE_DEVMAP_HASH)
		return 0;
	/* hashtab storage with 8-byte values, the key as given */
	__u32 vs = d->value_size, flags = d->map_flags;
	d->value_size = 8;
	d->map_flags = 0;
	int err = htab_map_ops.init ? htab_map_ops.init(map) : 0;
	d->value_size = vs;
	d->map_flags = flags;
	return err;
}

static __u64 dev_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 slots = d->map_type == BPF_MAP_TYPE_DEVMAP_HASH ? pow2(d->max_entries) : d->max_entries;
	return KERNEL_DTAB_SIZE + 8 * slots +
	       KERNEL_DTAB_NETDEV_SIZE * __atomic_load_n(&d->type_state[DM_ITEMS], __ATOMIC_RELAXED);
}

int emu_xdp_prog_id(int fd, __u32 expected_attach_type)
{
	struct emu_obj *prog;
	int acc, err = emu_fd_get(fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;
	const struct emu_prog_desc *p = &prog->hdr->prog;
	int id = p->prog_type == BPF_PROG_TYPE_XDP && p->expected_attach_type == expected_attach_type
			 ? (int)prog->hdr->id : -EINVAL;
	emu_obj_put(prog);
	return id;
}

/* __dev_map_alloc_node: the value user space wrote -> what the slot holds */
static int dev_value(const struct emu_obj *map, const void *value, struct dm_val *out)
{
	__u32 vs = emu_map_desc(map)->value_size;
	char ifname[IF_NAMESIZE];
	__s32 fd = -1;
	memcpy(&out->ifindex, value, 4);
	if (vs == 8)
		memcpy(&fd, (const char *)value + 4, 4);
	out->prog = 0;
	if (!out->ifindex)
		return fd > 0 ? -EINVAL : 1;          /* 1: clears the slot */
	if (!if_indextoname(out->ifindex, ifname)) {
		EMU_LOG(EMU_LOG_MAP, "devmap %u: no interface with ifindex %u: EINVAL", map->hdr->id, out->ifindex);
		return -EINVAL;
	}
	if (fd > 0) {
		int id = emu_xdp_prog_id(fd, BPF_XDP_DEVMAP);
		if (id < 0)
			return -EINVAL;
		out->prog = (__u32)id;
	}
	return 0;
}

static inline struct dm_val *slot_at(struct emu_obj *map, __u32 i)
{
	return (struct dm_val *)emu_obj_data(map) + i;
}

static void items_add(struct emu_obj *map, int n)
{
	__atomic_add_fetch(&emu_map_desc(map)->type_state[DM_ITEMS], (__u64)(__s64)n, __ATOMIC_RELAXED);
}

static int dev_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	__u32 i;
	(void)flags;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -ENOENT;
	emu_obj_lock(map);
	struct dm_val v = *slot_at(map, i);
	emu_obj_unlock(map);
	if (!v.ifindex)
		return -ENOENT;
	memcpy(value, &v, emu_map_desc(map)->value_size);
	return 0;
}

static int dev_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	struct dm_val v;
	__u32 i;
	memcpy(&i, key, 4);
	if (flags > BPF_EXIST)
		return -EINVAL;
	if (i >= emu_map_desc(map)->max_entries)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;                       /* every slot always exists */
	int r = dev_value(map, value, &v);
	if (r < 0)
		return r;
	emu_obj_lock(map);
	struct dm_val *s = slot_at(map, i);
	items_add(map, (v.ifindex != 0) - (s->ifindex != 0));
	*s = v;
	emu_obj_unlock(map);
	return 0;
}

static int dev_delete(struct emu_obj *map, const void *key)
{
	__u32 i;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -EINVAL;
	emu_obj_lock(map);
	struct dm_val *s = slot_at(map, i);
	if (s->ifindex)
		items_add(map, -1);
	memset(s, 0, sizeof(*s));
	emu_obj_unlock(map);
	return 0;
}

static int dev_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

/* ---- DEVMAP_HASH ---- */

static int dev_hash_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	struct dm_val v;
	int err = htab_map_ops.lookup(map, key, &v, flags);
	if (!err)
		memcpy(value, &v, emu_map_desc(map)->value_size);
	return err;
}

static int dev_hash_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	struct dm_val v, old;
	if (flags > BPF_EXIST)
		return -EINVAL;
	bool exists = !htab_map_ops.lookup(map, key, &old, 0);
	if (exists && (flags & BPF_NOEXIST))
		return -EEXIST;
	int r = dev_value(map, value, &v);
	if (r)
		return r < 0 ? r : -EINVAL;               /* ifindex 0: no device */
	/* BPF_ANY: a key gone or added since the check is replaced or inserted, as under the
	 * kernel's index lock one of the two updates wins; a full map answers E2BIG */
	int err = htab_map_ops.update(map, key, &v, exists ? BPF_ANY : BPF_NOEXIST);
	if (err == -EEXIST)
		err = htab_map_ops.update(map, key, &v, BPF_ANY);
	else if (!err)
		items_add(map, 1);
	return err;
}

static int dev_hash_delete(struct emu_obj *map, const void *key)
{
	int err = htab_map_ops.delete(map, key);
	if (!err)
		items_add(map, -1);
	return err;
}

static int dev_hash_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return htab_map_ops.get_next_key(map, key, next);
}

const struct emu_map_ops dev_map_ops = {
	.check_spec = dev_check_spec,
	.data_size = dev_data_size,
	.init = dev_init,
	.mem_usage = dev_mem_usage,
	.lookup = dev_lookup,
	.update = dev_update,
	.delete = dev_delete,
	.get_next_key = dev_get_next_key,
};

const struct emu_map_ops dev_map_hash_ops = {
	.check_spec = dev_check_spec,
	.data_size = dev_data_size,
	.init = dev_init,
	.mem_usage = dev_mem_usage,
	.lookup = dev_hash_lookup,
	.update = dev_hash_update,
	.delete = dev_hash_delete,
	.get_next_key = dev_hash_get_next_key,
};
