/* SPDX-License-Identifier: MIT */
/*
 * emu/reuseport_array.c: BPF_MAP_TYPE_REUSEPORT_SOCKARRAY.
 *
 * An array of SO_REUSEPORT sockets: TCP listening or UDP bound, IPv4 or
 * IPv6, with SO_REUSEPORT set (reuseport_array_update_check: other
 * protocols and families ENOTSUPP, unhashed or non-reuseport sockets EINVAL,
 * a socket already in the array EBUSY). Lookup answers the cookie when
 * value_size is 8 (ENOSPC otherwise). Slots hold the cookie; the kernel
 * drops an entry when its socket is closed, which we cannot see.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "map.h"

#define REUSEPORT_FLAG_MASK                                                                          \
	(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
#define KERNEL_REUSEPORT_ARRAY_SIZE 296u     /* sizeof(struct reuseport_array): bytes_memlock */

static int rp_check_spec(const struct emu_map_spec *s)
{
	/* reuseport_array_alloc_check, then array_map_alloc_check */
	if (s->value_size != 4 && s->value_size != 8)
		return -EINVAL;
	if (s->max_entries == 0 || s->key_size != 4 || (s->map_flags & ~(__u32)REUSEPORT_FLAG_MASK) ||
	    (s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return -EINVAL;
	return 0;
}

static __u64 rp_mem_usage(const struct emu_obj *map)
{
	return KERNEL_REUSEPORT_ARRAY_SIZE + 8ull * emu_map_desc(map)->max_entries;
}

static int rp_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	struct emu_sock sk;
	__u32 i;
	int fd;

	memcpy(&i, key, 4);
	if (flags > BPF_EXIST)
		return -EINVAL;
	if (i >= d->max_entries)
		return -E2BIG;
	if (d->value_size == 8) {
		__u64 fd64;
		memcpy(&fd64, value, 8);
		if (fd64 > 0x7fffffffull)
			return -EINVAL;
		fd = (int)fd64;
	} else {
		memcpy(&fd, value, 4);
	}
	int err = emu_sock_get(fd, &sk);
	if (err)
		return err;
	emu_obj_lock(map);
	__u64 *s = emu_cookie_slot(map, i);
	/* reuseport_array_update_check */
	if (*s && flags == BPF_NOEXIST)
		err = -EEXIST;
	else if (!*s && flags == BPF_EXIST)
		err = -ENOENT;
	else if ((sk.protocol != IPPROTO_UDP && sk.protocol != IPPROTO_TCP) ||
		 (sk.family != AF_INET && sk.family != AF_INET6) ||
		 (sk.type != SOCK_STREAM && sk.type != SOCK_DGRAM))
		err = -ENOTSUPP;
	else if (!(sk.type == SOCK_STREAM ? sk.listening : sk.bound) || !sk.reuseport)
		err = -EINVAL;
	else
		for (__u32 j = 0; j < d->max_entries && !err; j++)
			if (*emu_cookie_slot(map, j) == sk.cookie)
				err = -EBUSY;           /* sk_user_data: the socket is in the array */
	if (!err)
		__atomic_store_n(s, sk.cookie, __ATOMIC_RELEASE);
	emu_obj_unlock(map);
	return err;
}

static int rp_delete(struct emu_obj *map, const void *key)
{
	__u32 i;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -E2BIG;
	return __atomic_exchange_n(emu_cookie_slot(map, i), 0, __ATOMIC_ACQ_REL) ? 0 : -ENOENT;
}

static int rp_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

const struct emu_map_ops reuseport_array_ops = {
	.check_spec = rp_check_spec,
	.data_size = emu_cookie_slots_size,
	.mem_usage = rp_mem_usage,
	.lookup = emu_cookie_slot_lookup,
	.update = rp_update,
	.delete = rp_delete,
	.get_next_key = rp_get_next_key,
};
