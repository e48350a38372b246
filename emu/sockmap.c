/* SPDX-License-Identifier: MIT */
/*
 * emu/sockmap.c: BPF_MAP_TYPE_SOCKMAP and BPF_MAP_TYPE_SOCKHASH, and what
 * every socket-valued map sees of a socket fd (emu_sock_get).
 *
 * User space writes socket fds (value_size 4, or 8 holding the fd in a u64);
 * a lookup answers the socket's cookie (SO_COOKIE), and only when value_size
 * is 8 (ENOSPC otherwise), as sock_map_lookup_sys does. The sockets the kernel
 * takes (sock_map_sk_is_suitable, sock_map_sk_state_allowed): TCP listening
 * or established, UDP bound, unix stream connected, unix datagram, vsock;
 * others are EOPNOTSUPP, non-sockets ENOTSOCK.
 *
 * A slot holds the cookie only. The kernel's map holds the socket itself and
 * drops it when the socket is closed (sock_map_close); we cannot see the
 * close, so an entry outlives its socket here.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "map.h"
#include "os.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define SOCK_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)
#define KERNEL_STAB_SIZE 376u           /* sizeof(struct bpf_stab): bytes_memlock */
#define KERNEL_SHTAB_SIZE 384u          /* sizeof(struct bpf_shtab) */
#define KERNEL_SHTAB_ELEM_SIZE 48u      /* sizeof(struct bpf_shtab_elem) */
#define MAX_BPF_STACK 512u

enum { SH_COUNT = 16 };   /* type_state: a wrapper's slot [16, 24) (obj.h): elements held */

static int sockopt_int(int fd, int level, int opt)
{
	int v = 0;
	socklen_t l = sizeof(v);
	return getsockopt(fd, level, opt, &v, &l) ? -1 : v;
}

int emu_sock_get(int fd, struct emu_sock *sk)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	struct stat sb;

	memset(sk, 0, sizeof(*sk));
	fd = emu_caller_fd(fd);                       /* the caller's fd number */
	if (fd < 0 || emu_os_fstat(fd, &sb) || !S_ISSOCK(sb.st_mode))
		return -ENOTSOCK;                         /* sockfd_lookup, also for a closed fd */
	sk->family = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	sk->type = sockopt_int(fd, SOL_SOCKET, SO_TYPE);
	sk->protocol = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL);
	sk->listening = sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN) > 0;
	sk->reuseport = sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) > 0;
	l = sizeof(sk->cookie);
	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &sk->cookie, &l);
	if (sk->type == SOCK_STREAM && sk->protocol == IPPROTO_TCP &&
	    (sk->family == AF_INET || sk->family == AF_INET6)) {
		struct tcp_info ti;
		l = sizeof(ti);
		sk->connected = !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) && ti.tcpi_state == 1;
	} else {
		l = sizeof(ss);
		sk->connected = !getpeername(fd, (struct sockaddr *)&ss, &l);
	}
	l = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &l)) {
		if (ss.ss_family == AF_INET)
			sk->bound = ((struct sockaddr_in *)&ss)->sin_port != 0;
		else if (ss.ss_family == AF_INET6)
			sk->bound = ((struct sockaddr_in6 *)&ss)->sin6_port != 0;
		else
			sk->bound = l > sizeof(sa_family_t);
	}
	return 0;
}

/* sock_map_sk_is_suitable + sock_map_sk_state_allowed: 0 or -EOPNOTSUPP */
static int sockmap_takes(const struct emu_sock *sk)
{
	bool inet = sk->family == AF_INET || sk->family == AF_INET6;
	if (inet && sk->type == SOCK_STREAM && sk->protocol == IPPROTO_TCP)
		return sk->listening || sk->connected ? 0 : -EOPNOTSUPP;
	if (inet && sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_UDP)
		return sk->bound ? 0 : -EOPNOTSUPP;
	if (sk->family == AF_UNIX || sk->family == AF_VSOCK) {
		if (sk->type == SOCK_DGRAM)
			return 0;
		if (sk->type == SOCK_STREAM || (sk->family == AF_VSOCK && sk->type == SOCK_SEQPACKET))
			return sk->connected ? 0 : -EOPNOTSUPP;
	}
	return -EOPNOTSUPP;
}

/* sock_map_update_elem_sys up to the map's own checks: the socket's cookie or -errno */
static int sock_from_value(const struct emu_obj *map, const void *value, __u64 *cookie)
{
	struct emu_sock sk;
	__u64 ufd;
	if (emu_map_desc(map)->value_size == 8) {
		memcpy(&ufd, value, 8);
	} else {
		__u32 u;
		memcpy(&u, value, 4);
		ufd = u;
	}
	if (ufd > 0x7fffffffull)
		return -EINVAL;
	int err = emu_sock_get((int)ufd, &sk);
	if (err)
		return err;
	err = sockmap_takes(&sk);
	if (err) {
		EMU_LOG(EMU_LOG_MAP, "sockmap %u: socket fd %d (family %d type %d) is not one a sockmap takes: "
			"EOPNOTSUPP", map->hdr->id, (int)ufd, sk.family, sk.type);
		return err;
	}
	*cookie = sk.cookie;
	return 0;
}

static int sock_check_spec(const struct emu_map_spec *s)
{
	bool hash = s->map_type == BPF_MAP_TYPE_SOCKHASH;
	if (s->max_entries == 0 || (hash ? s->key_size == 0 : s->key_size != 4) ||
	    (s->value_size != 4 && s->value_size != 8) || (s->map_flags & ~(__u32)SOCK_CREATE_FLAG_MASK))
		return -EINVAL;
	if (hash) {
		if (s->key_size > MAX_BPF_STACK)
			return -E2BIG;
		__u64 nb = 1;
		while (nb < s->max_entries)
			nb <<= 1;
		if (nb > 0x80000000ull)
			return -EINVAL;
	}
	return 0;
}

/* ---- SOCKMAP: an array of cookies (its slots, shared with REUSEPORT_SOCKARRAY: emu/map.h) ---- */

__u64 emu_cookie_slots_size(const struct emu_map_spec *s)
{
	return page_align((__u64)s->max_entries * 8);
}

static __u64 sockmap_mem_usage(const struct emu_obj *map)
{
	return KERNEL_STAB_SIZE + 8ull * emu_map_desc(map)->max_entries;
}

int emu_cookie_slot_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	__u32 i;
	(void)flags;
	if (emu_map_desc(map)->value_size != 8)
		return -ENOSPC;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -ENOENT;
	__u64 c = __atomic_load_n(emu_cookie_slot(map, i), __ATOMIC_ACQUIRE);
	if (!c)
		return -ENOENT;
	memcpy(value, &c, 8);
	return 0;
}

static int sockmap_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	__u64 cookie;
	__u32 i;
	int err = sock_from_value(map, value, &cookie);
	if (err)
		return err;
	memcpy(&i, key, 4);
	/* sock_map_update_common */
	if (flags > BPF_EXIST)
		return -EINVAL;
	if (i >= emu_map_desc(map)->max_entries)
		return -E2BIG;
	emu_obj_lock(map);
	__u64 *s = emu_cookie_slot(map, i);
	if (*s && flags == BPF_NOEXIST)
		err = -EEXIST;
	else if (!*s && flags == BPF_EXIST)
		err = -ENOENT;
	else
		__atomic_store_n(s, cookie, __ATOMIC_RELEASE);
	emu_obj_unlock(map);
	return err;
}

static int sockmap_delete(struct emu_obj *map, const void *key)
{
	__u32 i;
	memcpy(&i, key, 4);
	if (i >= emu_map_desc(map)->max_entries)
		return -EINVAL;
	return __atomic_exchange_n(emu_cookie_slot(map, i), 0, __ATOMIC_ACQ_REL) ? 0 : -EINVAL;
}

static int sockmap_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

/* ---- SOCKHASH: hashtab storage, the cookie as value (value_size bytes of it) ---- */

static struct emu_map_spec hash_spec(const struct emu_map_spec *s)
{
	struct emu_map_spec h = *s;
	h.map_type = BPF_MAP_TYPE_HASH;
	h.map_flags = 0;
	return h;
}

static __u64 sockhash_data_size(const struct emu_map_spec *s)
{
	struct emu_map_spec h = hash_spec(s);
	return htab_map_ops.data_size(&h);
}

static int sockhash_init(struct emu_obj *map)
{
	return htab_map_ops.init ? htab_map_ops.init(map) : 0;
}

static __u64 sockhash_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 nb = 1;
	while (nb < d->max_entries)
		nb <<= 1;
	return KERNEL_SHTAB_SIZE + 16 * nb +
	       (KERNEL_SHTAB_ELEM_SIZE + round_up8(d->key_size)) *
		       __atomic_load_n(&d->type_state[SH_COUNT], __ATOMIC_RELAXED);
}

static int sockhash_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	if (emu_map_desc(map)->value_size != 8)
		return -ENOSPC;
	return htab_map_ops.lookup(map, key, value, flags);
}

static int sockhash_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	__u64 cookie;
	int err = sock_from_value(map, value, &cookie);
	if (err)
		return err;
	if (flags > BPF_EXIST)
		return -EINVAL;
	/* sock_hash_update_common: EEXIST, ENOENT, then E2BIG when full (hashtab answers all three) */
	bool existed = !htab_map_ops.lookup(map, key, &(__u64){ 0 }, 0);
	err = htab_map_ops.update(map, key, &cookie, flags);
	if (!err && !existed)
		__atomic_add_fetch(&emu_map_desc(map)->type_state[SH_COUNT], 1, __ATOMIC_RELAXED);
	return err;
}

static int sockhash_delete(struct emu_obj *map, const void *key)
{
	int err = htab_map_ops.delete(map, key);
	if (!err)
		__atomic_sub_fetch(&emu_map_desc(map)->type_state[SH_COUNT], 1, __ATOMIC_RELAXED);
	return err;
}

static int sockhash_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return htab_map_ops.get_next_key(map, key, next);
}

const struct emu_map_ops sock_map_ops = {
	.check_spec = sock_check_spec,
	.data_size = emu_cookie_slots_size,
	.mem_usage = sockmap_mem_usage,
	.lookup = emu_cookie_slot_lookup,
	.update = sockmap_update,
	.delete = sockmap_delete,
	.get_next_key = sockmap_get_next_key,
};

const struct emu_map_ops sock_hash_ops = {
	.check_spec = sock_check_spec,
	.data_size = sockhash_data_size,
	.init = sockhash_init,
	.mem_usage = sockhash_mem_usage,
	.lookup = sockhash_lookup,
	.update = sockhash_update,
	.delete = sockhash_delete,
	.get_next_key = sockhash_get_next_key,
};
