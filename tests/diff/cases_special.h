/* SPDX-License-Identifier: MIT */
/*
 * tests/diff/cases_special.h: differential cases for the map types whose
 * values are kernel objects (stack traces, net devices, CPUs, sockets) or
 * that need BTF or an attachment: STACK_TRACE, DEVMAP, DEVMAP_HASH, CPUMAP,
 * XSKMAP, SOCKMAP, SOCKHASH, REUSEPORT_SOCKARRAY, the local storages,
 * STRUCT_OPS, ARENA, CGROUP_STORAGE; and the fd arrays, map-in-map and ring
 * buffers. Included by diff.c (uses its helpers); SPECIAL_CASES lists them.
 */
#include <arpa/inet.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif
#define T_CGRP_STORAGE 32u        /* BPF_MAP_TYPE_CGRP_STORAGE, newer than our uapi header */
#define T_ARENA 33u               /* BPF_MAP_TYPE_ARENA */
#define F_SEGV_ON_FAULT (1u << 17)
#define F_LINK (1u << 13)            /* BPF_F_LINK */
#define F_NO_USER_CONV (1u << 18)

static long mk_btf(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags, __u32 btf_fd, __u32 kid, __u32 vid,
		   __u32 vmlinux_vid, __u64 extra)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.btf_fd = btf_fd;
	a.btf_key_type_id = kid;
	a.btf_value_type_id = vid;
	a.btf_vmlinux_value_type_id = vmlinux_vid;
	a.map_extra = extra;
	char what[96];
	snprintf(what, sizeof(what), "btf_fd=%s kid=%u vid=%u vmlinux=%u extra=%#llx",
		 btf_fd == 0 ? "0" : btf_fd < 1000 ? "a" : "bad", kid, vid, vmlinux_vid, (unsigned long long)extra);
	return mk_attr(&a, what);
}

/* The bpf lines of the map's fdinfo (from map_type on), map_id masked:
 * memlock and the other fields must agree. */
static void fdinfo(long fd, const char *what)
{
	char buf[1024] = "", *p;
	if (cur->kernel) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%ld", fd);
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[n] = '\0';
		if (f)
			fclose(f);
		p = strstr(buf, "map_type:");
		if (p)
			memmove(buf, p, strlen(p) + 1);
	} else if (emu_fdinfo_format((int)fd, buf, sizeof(buf)) < 0) {
		buf[0] = '\0';
	}
	p = strstr(buf, "map_id:\t");
	if (p) {
		char *q = p += 8;
		while (*q >= '0' && *q <= '9')
			q++;
		*p++ = 'N';
		memmove(p, q, strlen(q) + 1);
	}
	/* newer kernels add lines (owner_prog_type, ...) after frozen: compare up to it */
	p = strstr(buf, "frozen:\t");
	if (p && (p = strchr(p, '\n')))
		p[1] = '\0';
	struct rec *r;
	D(NULL, 0, "fdinfo %s", what);
	r = &cur->recs[cur->n - 1];
	r->len = (unsigned int)(strlen(buf) > MAX_DATA ? MAX_DATA : strlen(buf));
	memcpy(r->data, buf, r->len);
	if (strlen(buf) > MAX_DATA) {
		D(buf + MAX_DATA, (unsigned int)strlen(buf + MAX_DATA), "fdinfo %s (rest)", what);
	}
}

/* creation grid: one line per attempt, info and fdinfo of what was created */
struct mk_case {
	__u32 ks, vs, max, flags;
};

static void create_grid(__u32 type, const struct mk_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long fd = mk(type, c[i].ks, c[i].vs, c[i].max, c[i].flags);
		if (fd >= 0) {
			info(fd, sizeof(struct bpf_map_info), "created");
			fdinfo(fd, "created");
		}
		close_fd(fd);
	}
}

static long upd_fd(long fd, __u32 key, __u64 val, unsigned int vs, __u64 flags, const char *what)
{
	unsigned char v[16];
	memset(v, 0, sizeof(v));
	memcpy(v, &val, vs < 8 ? vs : 8);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = PTR(&key);
	a.value = PTR(v);
	a.flags = flags;
	return C(BPF_MAP_UPDATE_ELEM, &a, sizeof(a), "update key=%u %s flags=%llu", key, what,
		 (unsigned long long)flags);
}

/* GET_NEXT_KEY whose answer depends on the hash order: the result, not the bytes */
static void nk_ret(long fd, const void *key)
{
	unsigned char next[MAX_DATA];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = PTR(key);
	a.next_key = PTR(next);
	C(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a), "get_next_key from %s (hash order)", key ? "key" : "NULL");
}

static void array_like_ops(long fd, __u32 max, unsigned int vs)
{
	__u32 k;
	for (k = 0; k <= max; k += max) {
		lkp(fd, &k, vs);
		del(fd, &k);
	}
	k = 1000000;
	lkp(fd, &k, vs);
	del(fd, &k);
	nk(fd, NULL, 4);
	k = 0;
	nk(fd, &k, 4);
	k = max - 1;
	nk(fd, &k, 4);
	k = 1000000;
	nk(fd, &k, 4);
	k = 0;
	lad(fd, &k, vs, 0);
	lkp_flags(fd, &k, vs, BPF_F_LOCK);
}

/* ---- STACK_TRACE ---- */

static void case_stack_trace(void)
{
	static const struct mk_case c[] = {
		{ 4, 8, 16, 0 }, { 4, 0, 16, 0 }, { 4, 12, 16, 0 }, { 8, 8, 16, 0 }, { 4, 8, 0, 0 },
		{ 4, 1016, 16, 0 }, { 4, 1024, 16, 0 }, { 4, 32, 16, BPF_F_STACK_BUILD_ID },
		{ 4, 24, 16, BPF_F_STACK_BUILD_ID }, { 4, 8, 16, BPF_F_MMAPABLE }, { 4, 8, 16, BPF_F_RDONLY_PROG },
		{ 4, 8, 16, BPF_F_NO_PREALLOC }, { 4, 8, 16, BPF_F_RDONLY }, { 4, 8, 16, BPF_F_ZERO_SEED },
		{ 4, 8, 1, 0 }, { 4, 8, 5, 0 },
	};
	create_grid(BPF_MAP_TYPE_STACK_TRACE, c, ARRAY_SIZE(c));
	long fd = mk(BPF_MAP_TYPE_STACK_TRACE, 4, 16, 5, 0);
	__u32 k = 0;
	__u64 v[2] = { 1, 2 };
	for (__u64 f = 0; f <= 4; f++)
		upd(fd, &k, v, f);
	array_like_ops(fd, 8, 16);
	k = 7;
	del(fd, &k);
	k = 8;
	del(fd, &k);
	walk(fd, "stack trace");
	frz(fd);
	lkp(fd, &k, 16);
	close_fd(fd);
}

/* ---- DEVMAP, DEVMAP_HASH ---- */

static void case_devmap_create(void)
{
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 4, 0, 4, 0 }, { 4, 12, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 },
		{ 4, 4, 4, BPF_F_NUMA_NODE }, { 4, 4, 4, BPF_F_RDONLY }, { 4, 4, 4, BPF_F_WRONLY },
		{ 4, 4, 4, BPF_F_MMAPABLE }, { 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_NO_PREALLOC },
		{ 4, 4, 4, BPF_F_INNER_MAP }, { 4, 6, 4, 0 }, { 2, 4, 4, 0 },
	};
	create_grid(BPF_MAP_TYPE_DEVMAP, c, ARRAY_SIZE(c));
	create_grid(BPF_MAP_TYPE_DEVMAP_HASH, c, ARRAY_SIZE(c));
}

static void case_devmap_elems(void)
{
	int p[2];
	if (pipe(p))
		return;
	__u32 lo = if_nametoindex("lo");
	for (__u32 vs = 4; vs <= 8; vs += 4) {
		long fd = mk(BPF_MAP_TYPE_DEVMAP, 4, vs, 4, 0);
		upd_fd(fd, 0, lo, vs, BPF_ANY, "lo");
		lkp(fd, &(__u32){ 0 }, vs);
		upd_fd(fd, 0, lo, vs, BPF_NOEXIST, "lo");
		upd_fd(fd, 0, lo, vs, BPF_EXIST, "lo");
		upd_fd(fd, 1, lo, vs, BPF_EXIST, "lo");
		upd_fd(fd, 0, lo, vs, 3, "lo");
		upd_fd(fd, 0, lo, vs, BPF_F_LOCK, "lo");
		upd_fd(fd, 4, lo, vs, BPF_ANY, "lo");
		upd_fd(fd, 4, 99999, vs, BPF_ANY, "missing ifindex");
		upd_fd(fd, 1, 99999, vs, BPF_ANY, "missing ifindex");
		upd_fd(fd, 1, 0, vs, BPF_ANY, "ifindex 0");
		upd_fd(fd, 1, 0, vs, BPF_NOEXIST, "ifindex 0");
		upd_fd(fd, 2, lo | 0xffffffff00000000ull, vs, BPF_ANY, "lo, prog fd -1");
		upd_fd(fd, 2, 0xffffffff00000000ull, vs, BPF_ANY, "ifindex 0, prog fd -1");
		upd_fd(fd, 3, lo | ((__u64)p[0] << 32), vs, BPF_ANY, "lo, prog fd a pipe");
		upd_fd(fd, 3, lo | (99999ull << 32), vs, BPF_ANY, "lo, prog fd closed");
		upd_fd(fd, 3, 2, vs, BPF_ANY, "ifindex 2");
		for (__u32 k = 0; k < 4; k++)
			lkp(fd, &k, vs);
		array_like_ops(fd, 4, vs);
		lkp(fd, &(__u32){ 0 }, vs);
		walk(fd, "devmap");
		close_fd(fd);

		fd = mk(BPF_MAP_TYPE_DEVMAP_HASH, 4, vs, 2, 0);
		upd_fd(fd, 7, lo, vs, BPF_EXIST, "lo");
		upd_fd(fd, 7, lo, vs, BPF_ANY, "lo");
		upd_fd(fd, 7, lo, vs, BPF_NOEXIST, "lo");
		upd_fd(fd, 7, 2, vs, BPF_EXIST, "ifindex 2");
		upd_fd(fd, 7, lo, vs, 3, "lo");
		upd_fd(fd, 8, 0, vs, BPF_ANY, "ifindex 0");
		upd_fd(fd, 8, 99999, vs, BPF_ANY, "missing ifindex");
		upd_fd(fd, 8, 0xffffffff00000000ull, vs, BPF_ANY, "ifindex 0, prog fd -1");
		upd_fd(fd, 8, lo | ((__u64)p[0] << 32), vs, BPF_ANY, "lo, prog fd a pipe");
		upd_fd(fd, 9, lo, vs, BPF_ANY, "lo");
		upd_fd(fd, 10, lo, vs, BPF_ANY, "lo (full)");
		upd_fd(fd, 9, lo, vs, BPF_ANY, "lo (full, existing)");
		for (__u32 k = 6; k < 11; k++)
			lkp(fd, &k, vs);
		walk(fd, "devmap hash");
		nk_ret(fd, &(__u32){ 12345 });
		del(fd, &(__u32){ 7 });
		del(fd, &(__u32){ 7 });
		lad(fd, &(__u32){ 9 }, vs, 0);
		walk(fd, "devmap hash after delete");
		close_fd(fd);
	}
	close(p[0]);
	close(p[1]);
}

/* ---- CPUMAP ---- */

static void case_cpumap(void)
{
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 4, 0, 4, 0 }, { 4, 12, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 },
		{ 4, 4, 8192, 0 }, { 4, 4, 8193, 0 }, { 4, 4, 4, BPF_F_NUMA_NODE }, { 4, 4, 4, BPF_F_RDONLY },
		{ 4, 4, 4, BPF_F_WRONLY }, { 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_NO_PREALLOC },
	};
	create_grid(BPF_MAP_TYPE_CPUMAP, c, ARRAY_SIZE(c));
	int p[2];
	if (pipe(p))
		return;
	for (__u32 vs = 4; vs <= 8; vs += 4) {
		long fd = mk(BPF_MAP_TYPE_CPUMAP, 4, vs, 4, 0);
		upd_fd(fd, 0, 64, vs, BPF_NOEXIST, "qsize 64");
		upd_fd(fd, 0, 64, vs, BPF_EXIST, "qsize 64");
		upd_fd(fd, 0, 64, vs, 3, "qsize 64");
		upd_fd(fd, 4, 64, vs, BPF_ANY, "qsize 64");
		upd_fd(fd, 0, 16385, vs, BPF_ANY, "qsize 16385");
		upd_fd(fd, 3, 64, vs, BPF_ANY, "qsize 64 on an impossible cpu");
		upd_fd(fd, 3, 0, vs, BPF_ANY, "qsize 0 on an impossible cpu");
		upd_fd(fd, 0, 64, vs, BPF_ANY, "qsize 64");
		upd_fd(fd, 1, 16384, vs, BPF_ANY, "qsize 16384");
		lkp(fd, &(__u32){ 0 }, vs);
		lkp(fd, &(__u32){ 1 }, vs);
		upd_fd(fd, 1, 0, vs, BPF_ANY, "qsize 0");
		lkp(fd, &(__u32){ 1 }, vs);
		upd_fd(fd, 1, 64 | 0xffffffff00000000ull, vs, BPF_ANY, "qsize 64, prog fd -1");
		upd_fd(fd, 1, 64 | ((__u64)p[0] << 32), vs, BPF_ANY, "qsize 64, prog fd a pipe");
		upd_fd(fd, 1, 64 | (99999ull << 32), vs, BPF_ANY, "qsize 64, prog fd closed");
		lkp(fd, &(__u32){ 1 }, vs);
		array_like_ops(fd, 4, vs);
		lkp(fd, &(__u32){ 0 }, vs);
		walk(fd, "cpumap");
		close_fd(fd);
	}
	close(p[0]);
	close(p[1]);
}

/* ---- sockets for SOCKMAP, SOCKHASH, REUSEPORT_SOCKARRAY, XSKMAP ---- */

enum sk_kind {
	SK_TCP_LISTEN, SK_TCP_LISTEN6, SK_TCP_ESTAB, SK_TCP_ACCEPTED, SK_TCP_UNBOUND, SK_TCP_BOUND, SK_UDP,
	SK_UDP_BOUND, SK_UDP6_BOUND, SK_UNIX_PAIR, SK_UNIX_STREAM, SK_UNIX_DGRAM, SK_UNIX_SEQPACKET,
	SK_TCP_LISTEN_RP, SK_UDP_BOUND_RP, SK_TCP_UNBOUND_RP, SK_NETLINK, SK_PACKET, SK_XDP, SK_PIPE,
	SK_CLOSED, SK_NR,
};
static const char *const sk_name[SK_NR] = {
	"tcp listening", "tcp6 listening", "tcp established", "tcp accepted", "tcp unbound", "tcp bound",
	"udp unbound", "udp bound", "udp6 bound", "unix stream pair", "unix stream unconnected", "unix dgram",
	"unix seqpacket pair", "tcp listening reuseport", "udp bound reuseport", "tcp unbound reuseport",
	"netlink", "packet", "xdp", "a pipe", "closed",
};

static int listen_lo(int family, int reuseport)
{
	int s = socket(family, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (s < 0)
		return -1;
	if (reuseport)
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if ((family == AF_INET6 ? bind(s, (void *)&a6, sizeof(a6)) : bind(s, (void *)&a4, sizeof(a4))) ||
	    listen(s, 8)) {
		close(s);
		return -1;
	}
	return s;
}

static int udp_bound(int family, int reuseport)
{
	int s = socket(family, SOCK_DGRAM, 0), one = 1;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (reuseport)
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (family == AF_INET6 ? bind(s, (void *)&a6, sizeof(a6)) : bind(s, (void *)&a4, sizeof(a4)))
		return s;
	return s;
}

/* Why a socket the host would not give this user is missing (NULL: made).
 * Steps that need it record "unavailable" (diff.c: not compared). */
static const char *sk_missing[SK_NR];

/* upd_fd with socket i of fds, or an unavailable step if it is missing */
static long upd_sk(long fd, __u32 key, const int *fds, int i, unsigned int vs, __u64 flags)
{
	if (sk_missing[i]) {
		U(sk_missing[i], "update key=%u %s flags=%llu", key, sk_name[i], (unsigned long long)flags);
		return -EBADF;
	}
	return upd_fd(fd, key, (__u32)fds[i], vs, flags, sk_name[i]);
}

/* fills fds[SK_NR] (and extra fds to close in more[]) */
static void make_sockets(int *fds, int *more)
{
	int one = 1, sv[2];
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	for (int i = 0; i < 8; i++)
		more[i] = -1;
	fds[SK_TCP_LISTEN] = listen_lo(AF_INET, 0);
	fds[SK_TCP_LISTEN6] = listen_lo(AF_INET6, 0);
	fds[SK_TCP_ESTAB] = socket(AF_INET, SOCK_STREAM, 0);
	getsockname(fds[SK_TCP_LISTEN], (void *)&a, &al);
	connect(fds[SK_TCP_ESTAB], (void *)&a, sizeof(a));
	fds[SK_TCP_ACCEPTED] = accept(fds[SK_TCP_LISTEN], NULL, NULL);
	fds[SK_TCP_UNBOUND] = socket(AF_INET, SOCK_STREAM, 0);
	fds[SK_TCP_BOUND] = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fds[SK_TCP_BOUND], (void *)&b, sizeof(b));
	fds[SK_UDP] = socket(AF_INET, SOCK_DGRAM, 0);
	fds[SK_UDP_BOUND] = udp_bound(AF_INET, 0);
	fds[SK_UDP6_BOUND] = udp_bound(AF_INET6, 0);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fds[SK_UNIX_PAIR] = sv[0];
	more[0] = sv[1];
	fds[SK_UNIX_STREAM] = socket(AF_UNIX, SOCK_STREAM, 0);
	fds[SK_UNIX_DGRAM] = socket(AF_UNIX, SOCK_DGRAM, 0);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	fds[SK_UNIX_SEQPACKET] = sv[0];
	more[1] = sv[1];
	fds[SK_TCP_LISTEN_RP] = listen_lo(AF_INET, 1);
	fds[SK_UDP_BOUND_RP] = udp_bound(AF_INET, 1);
	fds[SK_TCP_UNBOUND_RP] = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fds[SK_TCP_UNBOUND_RP], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	fds[SK_NETLINK] = socket(AF_NETLINK, SOCK_RAW, 0);
	fds[SK_PACKET] = socket(AF_PACKET, SOCK_DGRAM, 0);
	sk_missing[SK_PACKET] = fds[SK_PACKET] < 0 && (errno == EPERM || errno == EACCES)
		? "no AF_PACKET socket for this user (CAP_NET_RAW)" : NULL;
	fds[SK_XDP] = socket(AF_XDP, SOCK_RAW, 0);
	sk_missing[SK_XDP] = fds[SK_XDP] < 0 && (errno == EPERM || errno == EACCES || errno == EAFNOSUPPORT)
		? "no AF_XDP socket for this user (CAP_NET_RAW) or host" : NULL;
	pipe(sv);
	fds[SK_PIPE] = sv[0];
	more[2] = sv[1];
	fds[SK_CLOSED] = closed_fd();
}

static void close_sockets(int *fds, int *more)
{
	for (int i = 0; i < SK_NR; i++)
		if (i != SK_CLOSED && fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < 8; i++)
		if (more[i] >= 0)
			close(more[i]);
}

static __u64 cookie_of(int fd)
{
	__u64 c = 0;
	socklen_t l = sizeof(c);
	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &l);
	return c;
}

/* lookup that records whether the bytes are the socket's cookie */
static void lkp_cookie(long fd, __u32 key, int sk, unsigned int vs)
{
	unsigned char buf[16];
	memset(buf, FILL, sizeof(buf));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = PTR(&key);
	a.value = PTR(buf);
	long r = C(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a), "lookup key=%u (cookie?)", key);
	__u64 c = cookie_of(sk);
	V(r == 0 && vs == 8 && !memcmp(buf, &c, 8), "lookup key=%u is the socket's cookie", key);
	if (r)
		D(buf, vs, "lookup key=%u bytes after an error", key);
}

static void case_sockmap(void)
{
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 4, 0, 4, 0 }, { 4, 12, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 },
		{ 4, 4, 4, BPF_F_NUMA_NODE }, { 4, 4, 4, BPF_F_RDONLY }, { 4, 4, 4, BPF_F_WRONLY },
		{ 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_NO_PREALLOC }, { 4, 4, 4, BPF_F_MMAPABLE },
	};
	create_grid(BPF_MAP_TYPE_SOCKMAP, c, ARRAY_SIZE(c));
	int fds[SK_NR], more[8];
	make_sockets(fds, more);
	for (__u32 vs = 4; vs <= 8; vs += 4) {
		long fd = mk(BPF_MAP_TYPE_SOCKMAP, 4, vs, SK_NR + 1, 0);
		for (int i = 0; i < SK_NR; i++)
			upd_sk(fd, (__u32)i, fds, i, vs, BPF_ANY);
		for (int i = 0; i < SK_NR; i++)
			lkp_cookie(fd, (__u32)i, fds[i], vs);
		upd_fd(fd, 0, (__u32)fds[SK_TCP_LISTEN], vs, BPF_NOEXIST, "tcp listening (again)");
		upd_fd(fd, 0, (__u32)fds[SK_TCP_LISTEN], vs, BPF_EXIST, "tcp listening (again)");
		upd_fd(fd, SK_NR, (__u32)fds[SK_TCP_LISTEN], vs, BPF_EXIST, "tcp listening");
		upd_fd(fd, SK_NR, (__u32)fds[SK_TCP_LISTEN], vs, 3, "tcp listening");
		upd_fd(fd, SK_NR, (__u32)fds[SK_PIPE], vs, 3, "a pipe");
		upd_fd(fd, SK_NR + 1, (__u32)fds[SK_TCP_LISTEN], vs, BPF_ANY, "tcp listening");
		upd_fd(fd, SK_NR + 1, (__u32)fds[SK_PIPE], vs, BPF_ANY, "a pipe");
		upd_fd(fd, 1, 0x100000000ull | (__u32)fds[SK_TCP_LISTEN], vs, BPF_ANY, "fd above 2^32");
		upd_fd(fd, 1, 0x80000000ull, vs, BPF_ANY, "fd 2^31");
		del(fd, &(__u32){ 0 });      /* key 0's cookie differs between the two runs */
		array_like_ops(fd, SK_NR + 1, vs);
		walk(fd, "sockmap");
		del(fd, &(__u32){ SK_UDP });
		walk(fd, "sockmap after delete");
		close_fd(fd);
	}
	close_sockets(fds, more);
}

static void case_sockhash(void)
{
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 1, 8, 4, 0 }, { 512, 8, 4, 0 }, { 513, 8, 4, 0 }, { 0, 8, 4, 0 },
		{ 4, 0, 4, 0 }, { 4, 12, 4, 0 }, { 4, 4, 0, 0 }, { 4, 4, 4, BPF_F_NUMA_NODE },
		{ 4, 4, 4, BPF_F_RDONLY }, { 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_NO_PREALLOC },
	};
	create_grid(BPF_MAP_TYPE_SOCKHASH, c, ARRAY_SIZE(c));
	int fds[SK_NR], more[8];
	make_sockets(fds, more);
	for (__u32 vs = 4; vs <= 8; vs += 4) {
		long fd = mk(BPF_MAP_TYPE_SOCKHASH, 4, vs, 6, 0);
		for (int i = 0; i < SK_NR; i++)
			upd_sk(fd, 100 + (__u32)i, fds, i, vs, BPF_ANY);
		for (int i = 0; i < SK_NR; i++)
			lkp_cookie(fd, 100 + (__u32)i, fds[i], vs);
		upd_fd(fd, 100, (__u32)fds[SK_TCP_ACCEPTED], vs, BPF_NOEXIST, "tcp accepted");
		upd_fd(fd, 100, (__u32)fds[SK_TCP_ACCEPTED], vs, BPF_EXIST, "tcp accepted");
		lkp_cookie(fd, 100, fds[SK_TCP_ACCEPTED], vs);
		upd_fd(fd, 50, (__u32)fds[SK_TCP_ACCEPTED], vs, BPF_EXIST, "tcp accepted");
		upd_fd(fd, 50, (__u32)fds[SK_TCP_ACCEPTED], vs, 3, "tcp accepted");
		upd_fd(fd, 50, (__u32)fds[SK_UNIX_DGRAM], vs, BPF_ANY, "unix dgram (full)");
		upd_fd(fd, 51, (__u32)fds[SK_UNIX_DGRAM], vs, BPF_NOEXIST, "unix dgram (full)");
		walk(fd, "sockhash");
		lkp(fd, &(__u32){ 50 }, vs);
		del(fd, &(__u32){ 50 });
		del(fd, &(__u32){ 100 });
		lad(fd, &(__u32){ 101 }, vs, 0);
		nk_ret(fd, &(__u32){ 12345 });
		lkp_flags(fd, &(__u32){ 101 }, vs, BPF_F_LOCK);
		walk(fd, "sockhash after delete");
		close_fd(fd);
	}
	close_sockets(fds, more);
}

static void case_reuseport_sockarray(void)
{
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 4, 0, 4, 0 }, { 4, 12, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 },
		{ 4, 4, 4, BPF_F_NUMA_NODE }, { 4, 4, 4, BPF_F_RDONLY }, { 4, 4, 4, BPF_F_RDONLY_PROG },
		{ 4, 4, 4, BPF_F_MMAPABLE }, { 4, 4, 4, BPF_F_NO_PREALLOC }, { 4, 4, 4, BPF_F_INNER_MAP },
		{ 4, 4, 4, BPF_F_PRESERVE_ELEMS },
	};
	create_grid(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, c, ARRAY_SIZE(c));
	int fds[SK_NR], more[8];
	make_sockets(fds, more);
	for (__u32 vs = 4; vs <= 8; vs += 4) {
		/* one socket may sit in one reuseport array only (sk_user_data): re-made per round */
		if (vs == 8) {
			close_sockets(fds, more);
			make_sockets(fds, more);
		}
		long fd = mk(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, 4, vs, SK_NR + 1, 0);
		for (int i = 0; i < SK_NR; i++)
			upd_sk(fd, (__u32)i, fds, i, vs, BPF_ANY);
		for (int i = 0; i < SK_NR; i++)
			lkp_cookie(fd, (__u32)i, fds[i], vs);
		upd_fd(fd, SK_TCP_LISTEN_RP, (__u32)fds[SK_TCP_LISTEN_RP], vs, BPF_ANY, "the same socket again");
		upd_fd(fd, SK_NR, (__u32)fds[SK_TCP_LISTEN_RP], vs, BPF_ANY, "the same socket elsewhere");
		upd_fd(fd, SK_TCP_LISTEN_RP, (__u32)fds[SK_UDP_BOUND], vs, BPF_NOEXIST, "udp bound");
		upd_fd(fd, SK_NR, (__u32)fds[SK_UDP_BOUND], vs, BPF_EXIST, "udp bound");
		upd_fd(fd, SK_NR, (__u32)fds[SK_UDP_BOUND], vs, 3, "udp bound");
		upd_fd(fd, SK_NR + 1, (__u32)fds[SK_UDP_BOUND], vs, BPF_ANY, "udp bound");
		upd_fd(fd, SK_NR, 0x100000000ull | (__u32)fds[SK_UDP_BOUND], vs, BPF_ANY, "fd above 2^32");
		array_like_ops(fd, SK_NR + 1, vs);
		walk(fd, "reuseport array");
		close_fd(fd);
	}
	close_sockets(fds, more);
}

static void case_xskmap(void)
{
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 4, 0, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 },
		{ 4, 4, 4, BPF_F_NUMA_NODE }, { 4, 4, 4, BPF_F_RDONLY }, { 4, 4, 4, BPF_F_RDONLY_PROG },
		{ 4, 4, 4, BPF_F_MMAPABLE }, { 4, 4, 4, BPF_F_NO_PREALLOC },
	};
	create_grid(BPF_MAP_TYPE_XSKMAP, c, ARRAY_SIZE(c));
	int fds[SK_NR], more[8];
	make_sockets(fds, more);
	long fd = mk(BPF_MAP_TYPE_XSKMAP, 4, 4, 4, 0);
	for (int i = 0; i < SK_NR; i++)
		upd_sk(fd, 1, fds, i, 4, BPF_ANY);
	upd_fd(fd, 1, (__u32)fds[SK_XDP], 4, 3, "xdp");
	upd_fd(fd, 4, (__u32)fds[SK_XDP], 4, BPF_ANY, "xdp");
	upd_fd(fd, 4, (__u32)fds[SK_PIPE], 4, BPF_ANY, "a pipe");
	upd_fd(fd, 1, (__u32)fds[SK_PIPE], 4, 3, "a pipe");
	array_like_ops(fd, 4, 4);
	walk(fd, "xskmap");
	close_fd(fd);
	close_sockets(fds, more);
}

/* ---- types that need BTF, an attachment or a JIT feature ---- */

static void case_needs_btf(void)
{
	static const __u32 storages[] = { BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_INODE_STORAGE,
					  BPF_MAP_TYPE_TASK_STORAGE, T_CGRP_STORAGE };
	int bad = closed_fd();
	for (size_t i = 0; i < ARRAY_SIZE(storages); i++) {
		__u32 t = storages[i];
		mk(t, 4, 8, 0, BPF_F_NO_PREALLOC);
		mk(t, 4, 8, 0, 0);
		mk(t, 4, 8, 1, BPF_F_NO_PREALLOC);
		mk(t, 8, 8, 0, BPF_F_NO_PREALLOC);
		mk(t, 4, 0, 0, BPF_F_NO_PREALLOC);
		mk(t, 4, 8, 0, BPF_F_NO_PREALLOC | BPF_F_CLONE);
		mk(t, 4, 8, 0, BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG);
		mk(t, 4, 8, 0, BPF_F_NO_PREALLOC | BPF_F_MMAPABLE);
		mk_btf(t, 4, 8, 0, BPF_F_NO_PREALLOC, 0, 1, 0, 0, 0);
		mk_btf(t, 4, 8, 0, BPF_F_NO_PREALLOC, 0, 0, 1, 0, 0);
		mk_btf(t, 4, 8, 0, BPF_F_NO_PREALLOC, (__u32)bad, 1, 2, 0, 0);
		mk_btf(t, 4, 1 << 16, 0, BPF_F_NO_PREALLOC, (__u32)bad, 1, 2, 0, 0);
		mk_btf(t, 4, 8, 0, BPF_F_NO_PREALLOC, (__u32)bad, 0, 0, 5, 0);
		mk_btf(t, 4, 8, 0, BPF_F_NO_PREALLOC, 0, 0, 0, 0, 1);
	}
	/* STRUCT_OPS */
	mk(BPF_MAP_TYPE_STRUCT_OPS, 4, 8, 1, 0);
	mk_btf(BPF_MAP_TYPE_STRUCT_OPS, 4, 8, 1, 0, 0, 0, 0, 1, 0);
	mk_btf(BPF_MAP_TYPE_STRUCT_OPS, 8, 8, 1, 0, 0, 0, 0, 1, 0);
	mk_btf(BPF_MAP_TYPE_STRUCT_OPS, 4, 8, 2, 0, 0, 0, 0, 1, 0);
	mk_btf(BPF_MAP_TYPE_STRUCT_OPS, 4, 8, 1, BPF_F_RDONLY, 0, 0, 0, 1, 0);
	mk_btf(BPF_MAP_TYPE_STRUCT_OPS, 4, 8, 1, F_LINK, 0, 0, 0, 0, 0);
	mk_btf(BPF_MAP_TYPE_STRUCT_OPS, 4, 8, 1, 0, 0, 1, 2, 1, 0);
	mk_btf(BPF_MAP_TYPE_HASH, 4, 8, 1, 0, 0, 0, 0, 1, 0);
	/* CGROUP_STORAGE, PERCPU_CGROUP_STORAGE: created without BTF, empty until attached */
	static const __u32 cgs[] = { BPF_MAP_TYPE_CGROUP_STORAGE, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE };
	for (size_t i = 0; i < ARRAY_SIZE(cgs); i++) {
		static const struct mk_case c[] = {
			{ 12, 8, 0, 0 }, { 8, 8, 0, 0 }, { 4, 8, 0, 0 }, { 16, 8, 0, 0 }, { 16, 0, 0, 0 },
			{ 16, 8, 1, 0 }, { 16, 8, 0, BPF_F_NO_PREALLOC }, { 16, 8, 0, BPF_F_RDONLY_PROG },
			{ 16, 8, 0, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG }, { 16, 8, 0, BPF_F_NUMA_NODE },
			{ 16, 8, 0, BPF_F_MMAPABLE }, { 16, 8, 0, BPF_F_RDONLY }, { 16, 1 << 20, 1, 0 },
			{ 16, 32768, 0, 0 }, { 16, 32769, 0, 0 }, { 16, 65407, 0, 0 }, { 16, 65408, 0, 0 },
		};
		create_grid(cgs[i], c, ARRAY_SIZE(c));
		long fd = mk(cgs[i], 16, 8, 0, 0);
		unsigned char key[16] = { 1 }, val[MAX_DATA] = { 0 };
		for (__u64 f = 0; f <= 4; f++)
			upd(fd, key, val, f);
		lkp(fd, key, 8);
		del(fd, key);
		nk(fd, NULL, 16);
		nk(fd, key, 16);
		lad(fd, key, 8, 0);
		info(fd, sizeof(struct bpf_map_info), "cgroup storage");
		close_fd(fd);
	}
	close(bad);
}

static void case_arena(void)
{
	static const struct mk_case c[] = {
		{ 0, 0, 1, 0 }, { 0, 0, 1, BPF_F_MMAPABLE }, { 4, 0, 1, BPF_F_MMAPABLE }, { 0, 4, 1, BPF_F_MMAPABLE },
		{ 0, 0, 0, BPF_F_MMAPABLE }, { 0, 0, 1, BPF_F_MMAPABLE | BPF_F_NO_PREALLOC },
		{ 0, 0, 1, BPF_F_MMAPABLE | F_SEGV_ON_FAULT | F_NO_USER_CONV },
		{ 0, 0, 1u << 20, BPF_F_MMAPABLE }, { 0, 0, (1u << 20) + 1, BPF_F_MMAPABLE },
		{ 0, 0, 1, BPF_F_MMAPABLE | BPF_F_RDONLY },
	};
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		close_fd(mk(T_ARENA, c[i].ks, c[i].vs, c[i].max, c[i].flags));
	long fd = mk(T_ARENA, 0, 0, 4, BPF_F_MMAPABLE);
	info(fd, sizeof(struct bpf_map_info), "arena");
	__u64 k = 0, v = 0;
	upd(fd, &k, &v, 0);
	lkp(fd, &k, 0);
	del(fd, &k);
	nk(fd, NULL, 0);
	lad(fd, &k, 0, 0);
	unsigned char *m = mm(fd, 4 * (size_t)page_size, PROT_READ | PROT_WRITE, "arena, 4 pages");
	if (m != MAP_FAILED) {
		D(m + 2 * page_size, 8, "a fresh arena page reads as zeros");
		m[2 * page_size] = 7;
		D(m + 2 * page_size, 8, "and keeps what was written");
		munmap(m, 4 * (size_t)page_size);
	}
	/* (a freeze after a writable mmap is EBUSY for good on the kernel: the arena's vm_ops
	 * never drop the write count; we answer 0 there, so freeze a map never mapped) */
	close_fd(fd);
	fd = mk(T_ARENA, 0, 0, 4, BPF_F_MMAPABLE);
	frz(fd);
	mm(fd, 4 * (size_t)page_size, PROT_READ | PROT_WRITE, "frozen arena, writable");
	close_fd(fd);
	close_fd(mk_btf(T_ARENA, 0, 0, 1, BPF_F_MMAPABLE, 0, 0, 0, 0, 4096));
	close_fd(mk_btf(T_ARENA, 0, 0, 1, BPF_F_MMAPABLE, 0, 0, 0, 0, 4097));
	close_fd(mk_btf(T_ARENA, 0, 0, 2, BPF_F_MMAPABLE, 0, 0, 0, 0, 0xfffff000ull));
}

/* ---- fd arrays, map-in-map, ring buffers: creation, each element op, each error ---- */

static void case_fd_arrays(void)
{
	static const __u32 types[] = { BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
				       BPF_MAP_TYPE_CGROUP_ARRAY };
	static const struct mk_case c[] = {
		{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 }, { 4, 4, 4, BPF_F_MMAPABLE },
		{ 4, 4, 4, BPF_F_PRESERVE_ELEMS }, { 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_RDONLY },
		{ 4, 4, 4, BPF_F_NO_PREALLOC }, { 4, 4, 4, BPF_F_INNER_MAP },
	};
	int p[2];
	if (pipe(p))
		return;
	int cg = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
	long pf = prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", NULL, 0);
	long pf2 = prog(BPF_PROG_TYPE_XDP, ret0, 2, "GPL", NULL, 0);
	long m = mk(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		create_grid(types[t], c, ARRAY_SIZE(c));
		long fd = mk(types[t], 4, 4, 4, 0);
		upd_fd(fd, 0, (__u32)pf, 4, BPF_ANY, "a socket filter program");
		upd_fd(fd, 1, (__u32)pf2, 4, BPF_ANY, "an xdp program");
		upd_fd(fd, 0, (__u32)m, 4, BPF_ANY, "a map");
		upd_fd(fd, 0, (__u32)cg, 4, BPF_ANY, "a cgroup dir");
		upd_fd(fd, 0, (__u32)p[0], 4, BPF_ANY, "a pipe");
		upd_fd(fd, 0, (__u32)closed_fd(), 4, BPF_ANY, "closed");
		upd_fd(fd, 0, (__u32)pf, 4, BPF_NOEXIST, "a socket filter program");
		upd_fd(fd, 0, (__u32)pf, 4, BPF_EXIST, "a socket filter program");
		upd_fd(fd, 4, (__u32)pf, 4, BPF_ANY, "a socket filter program");
		upd_fd(fd, 4, (__u32)p[0], 4, BPF_NOEXIST, "a pipe");
		del(fd, &(__u32){ 0 });      /* a program id differs between the two runs */
		array_like_ops(fd, 4, 4);
		walk(fd, "fd array");
		close_fd(fd);
	}
	close_fd(m);
	close_fd(pf);
	close_fd(pf2);
	close(cg);
	close(p[0]);
	close(p[1]);
}

static void case_maps_of_maps(void)
{
	long inner = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	long other = mk(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	long bigger = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0);
	int p[2];
	if (pipe(p))
		return;
	static const __u32 types[] = { BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS };
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		union bpf_attr a;
		static const struct mk_case c[] = {
			{ 4, 4, 4, 0 }, { 4, 8, 4, 0 }, { 8, 4, 4, 0 }, { 4, 4, 0, 0 }, { 4, 4, 4, BPF_F_MMAPABLE },
			{ 4, 4, 4, BPF_F_NO_PREALLOC }, { 4, 4, 4, BPF_F_RDONLY_PROG }, { 4, 4, 4, BPF_F_INNER_MAP },
		};
		for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
			memset(&a, 0, sizeof(a));
			a.map_type = types[t];
			a.key_size = c[i].ks;
			a.value_size = c[i].vs;
			a.max_entries = c[i].max;
			a.map_flags = c[i].flags;
			a.inner_map_fd = (__u32)inner;
			close_fd(mk_attr(&a, "inner=array"));
		}
		memset(&a, 0, sizeof(a));
		a.map_type = types[t];
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 4;
		a.inner_map_fd = (__u32)p[0];
		close_fd(mk_attr(&a, "inner=pipe"));
		a.inner_map_fd = (__u32)closed_fd();
		close_fd(mk_attr(&a, "inner=closed"));
		a.inner_map_fd = (__u32)inner;
		long fd = mk_attr(&a, "inner=array");
		upd_fd(fd, 0, (__u32)inner, 4, BPF_ANY, "the template");
		upd_fd(fd, 1, (__u32)other, 4, BPF_ANY, "a hash");
		upd_fd(fd, 1, (__u32)bigger, 4, BPF_ANY, "a bigger array");
		upd_fd(fd, 1, (__u32)p[0], 4, BPF_ANY, "a pipe");
		upd_fd(fd, 1, (__u32)fd, 4, BPF_ANY, "itself");
		upd_fd(fd, 0, (__u32)inner, 4, BPF_NOEXIST, "the template");
		upd_fd(fd, 2, (__u32)inner, 4, BPF_EXIST, "the template");
		upd_fd(fd, 4, (__u32)inner, 4, BPF_ANY, "the template");
		upd_fd(fd, 0, (__u32)inner, 4, 3, "the template");
		__u32 k = 0, id = 0;
		union bpf_attr l;
		memset(&l, 0, sizeof(l));
		l.map_fd = (__u32)fd;
		l.key = PTR(&k);
		l.value = PTR(&id);
		C(BPF_MAP_LOOKUP_ELEM, &l, sizeof(l), "lookup key=0 (inner id)");
		V(id == map_id(inner), "lookup gives the inner map's id");
		array_like_ops(fd, 4, 0);
		walk(fd, "map of maps");
		close_fd(fd);
	}
	close_fd(inner);
	close_fd(other);
	close_fd(bigger);
	close(p[0]);
	close(p[1]);
}

static void case_ringbufs(void)
{
	static const __u32 types[] = { BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF };
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		static const struct mk_case c[] = {
			{ 0, 0, 4096, 0 }, { 0, 0, 8192, 0 }, { 0, 0, 12288, 0 }, { 0, 0, 0, 0 }, { 0, 0, 2048, 0 },
			{ 4, 0, 4096, 0 }, { 0, 4, 4096, 0 }, { 0, 0, 4096, BPF_F_NUMA_NODE },
			{ 0, 0, 4096, BPF_F_RDONLY }, { 0, 0, 4096, BPF_F_MMAPABLE }, { 0, 0, 4096, BPF_F_RDONLY_PROG },
			{ 0, 0, 4096, BPF_F_NO_PREALLOC }, { 0, 0, 1u << 30, 0 },
		};
		create_grid(types[t], c, ARRAY_SIZE(c));
		long fd = mk(types[t], 0, 0, 4096, 0);
		__u32 k = 0;
		__u64 v = 0;
		upd(fd, &k, &v, BPF_ANY);
		upd(fd, NULL, &v, BPF_ANY);
		lkp(fd, &k, 0);
		lkp(fd, NULL, 0);
		del(fd, NULL);
		nk(fd, NULL, 0);
		lad(fd, NULL, 0, 0);
		frz(fd);
		close_fd(fd);
	}
}

#define SPECIAL_CASES                                                 \
	{ "stack_trace", case_stack_trace },                          \
	{ "devmap_create", case_devmap_create },                      \
	{ "devmap_elems", case_devmap_elems },                        \
	{ "cpumap", case_cpumap },                                    \
	{ "sockmap", case_sockmap },                                  \
	{ "sockhash", case_sockhash },                                \
	{ "reuseport_sockarray", case_reuseport_sockarray },          \
	{ "xskmap", case_xskmap },                                    \
	{ "needs_btf", case_needs_btf },                              \
	{ "arena", case_arena },                                      \
	{ "fd_arrays", case_fd_arrays },                              \
	{ "maps_of_maps", case_maps_of_maps },                        \
	{ "ringbufs", case_ringbufs },
