/* SPDX-License-Identifier: MIT */
/*
 * emu/xskmap.c: BPF_MAP_TYPE_XSKMAP, an array of AF_XDP sockets.
 *
 * Updates take AF_XDP socket fds (other sockets EOPNOTSUPP, other fds
 * ENOTSOCK); lookups from user space are EOPNOTSUPP (xsk_map_lookup_elem_sys),
 * deletes in range always succeed. A slot records the socket's cookie.
 */
#include <string.h>
#include <sys/socket.h>

#include "map.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#define XSK_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)
#define KERNEL_XSK_MAP_SIZE 304u        /* sizeof(struct xsk_map): bytes_memlock */
#define KERNEL_XSK_MAP_NODE_SIZE 32u    /* sizeof(struct xsk_map_node) per held socket */

enum { XSK_ITEMS = 0 };

static int xsk_check_spec(const struct emu_map_spec *s)
{
	if (s->max_entries == 0 || s->key_size != 4 || s->value_size != 4 ||
	    (s->map_flags & ~(__u32)XSK_CREATE_FLAG_MASK))
		return -EINVAL;
	return 0;
}

static __u64 xsk_data_size(const struct emu_map_spec *s)
{
	return page_align((__u64)s->max_entries * 8);
}

static __u64 xsk_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return KERNEL_XSK_MAP_SIZE + 8ull * d->max_entries +
	       KERNEL_XSK_MAP_NODE_SIZE * __atomic_load_n(&d->type_state[XSK_ITEMS], __ATOMIC_RELAXED);
}

static inline __u64 *slot_at(struct emu_obj *map, __u32 i)
{
	return (__u64 *)emu_obj_data(map) + i;
}

static int xsk_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static int xsk_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	struct emu_sock sk;
	__u32 i;
	int fd;
	memcpy(&i, key, 4);
	memcpy(&fd, value, 4);
	if (flags > BPF_EXIST)
		return -EINVAL;
	if (i >= emu_map_desc(map)->max_entries)
		return -E2BIG;
	int err = emu_sock_get(fd, &sk);
	if (err)
		return err;
	if (sk.family != AF_XDP)
		return -EOPNOTSUPP;
	emu_obj_lock(map);
	__u64 *s = slot_at(map, i);
	if (*s && flags == BPF_NOEXIST)
		err = -EEXIST;
	else if (!*s && flags == BPF_EXIST)
		err = -ENOENT;
	else {
		if (!*s)
			__atomic_add_fetch(&emu_map_desc(map)->type_state[XSK_ITEMS], 1, __ATOMIC_RELAXED);
		*s = sk.cookie ? sk.cookie : 1;
	}
	emu_obj_unlock(map);
	return err;
}

static int xsk_delete(struct emu_obj *map, const void *key)
{
	__u32 i;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -EINVAL;
	if (__atomic_exchange_n(slot_at(map, i), 0, __ATOMIC_ACQ_REL))
		__atomic_sub_fetch(&emu_map_desc(map)->type_state[XSK_ITEMS], 1, __ATOMIC_RELAXED);
	return 0;
}

static int xsk_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

const struct emu_map_ops xsk_map_ops = {
	.check_spec = xsk_check_spec,
	.data_size = xsk_data_size,
	.mem_usage = xsk_mem_usage,
	.lookup = xsk_lookup,
	.update = xsk_update,
	.delete = xsk_delete,
	.get_next_key = xsk_get_next_key,
};
