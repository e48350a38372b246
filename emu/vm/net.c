/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/net.c: the packet helpers of XDP and skb programs: bytes in and
 * out of the skb, the checksum difference, the XDP buffer's head, tail and
 * meta data, and redirects (recorded: nothing is sent anywhere).
 *
 * The bounds are the kernel's test_run buffers (test_run.c builds them):
 * XDP: data_hard_start, 40 bytes of struct xdp_frame, the meta data, the
 * data, up to data_hard_start + 4096 - 320 (the skb_shared_info tailroom);
 * skb: the linear data, skb->len bytes from skb->data.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm_int.h"
#include "../os_errno.h"

#define ETH_HLEN 14
#define XDP_FRAME_SIZE 40u             /* sizeof(struct xdp_frame), Linux 6.18 x86-64 */
#define XDP_META_MAX 255u              /* skb_shared_info.meta_len is a u8 */
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

/* ---- x86-64's checksum arithmetic (csum_partial and friends) ---- */

static __u64 add64c(__u64 a, __u64 b)
{
	__u64 s = a + b;
	return s + (s < a);
}

static __u32 add32c(__u32 a, __u32 b)
{
	__u32 s = a + b;
	return s + (s < a);
}

/* csum_partial(): 64-bit little-endian words with end-around carry, the tail
 * zero-padded, folded to 32 bits */
__u32 vm_csum_partial(const void *buf, __u32 len, __u32 seed)
{
	const unsigned char *p = buf;
	__u64 acc = seed;
	while (len >= 8) {
		__u64 w;
		memcpy(&w, p, 8);
		acc = add64c(acc, w);
		p += 8;
		len -= 8;
	}
	if (len) {
		__u64 w = 0;
		memcpy(&w, p, len);
		acc = add64c(acc, w);
	}
	return add32c((__u32)(acc >> 32), (__u32)acc);
}

static __u32 csum_sub(__u32 a, __u32 b) { return add32c(a, ~b); }

static __u16 csum_from32to16(__u32 sum)
{
	sum += (sum >> 16) | (sum << 16);
	return (__u16)(sum >> 16);
}

__u16 vm_csum_fold(__u32 sum)
{
	sum += (sum >> 16) | (sum << 16);
	return (__u16)~(sum >> 16);
}

static __u32 csum_block(__u32 csum, __u32 part, __u32 offset, bool sub)
{
	if (sub)
		part = ~part;
	if (offset & 1)
		part = part >> 8 | part << 24;
	return add32c(csum, part);
}

/* bpf_csum_diff(from, from_size, to, to_size, seed) */
__u64 vm_h_csum_diff(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	/* Linux 6.18 checks no sizes here (its verifier bounds them): any length */
	if (vm_mem_arg(run, r1, r2, VM_RD, "bpf_csum_diff's from") ||
	    vm_mem_arg(run, r3, r4, VM_RD, "bpf_csum_diff's to"))
		return 0;
	const void *from = (const void *)(uintptr_t)r1, *to = (const void *)(uintptr_t)r3;
	__u32 seed = (__u32)r5;
	r2 = (__u32)r2;
	r4 = (__u32)r4;
	if (r2 && r4)
		return csum_from32to16(csum_sub(vm_csum_partial(to, (__u32)r4, seed), vm_csum_partial(from, (__u32)r2, 0)));
	if (r4)
		return csum_from32to16(vm_csum_partial(to, (__u32)r4, seed));
	if (r2)
		return csum_from32to16(~vm_csum_partial(from, (__u32)r2, ~seed));
	return seed;
}

/* ---- skb ---- */

static struct vm_skb *skb_arg(struct vm_run *run, __u64 r1, const char *helper)
{
	if (run->ctx_kind != VM_CTX_SKB || r1 != (__u64)(uintptr_t)run->ctx) {
		vm_fault(run, -EFAULT, "%s: R1 %#llx is not the program's skb", helper, (unsigned long long)r1);
		return NULL;
	}
	return run->skb;
}

/* bpf_skb_load_bytes(skb, offset, to, len) */
__u64 vm_h_skb_load_bytes(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	if (run->ctx_kind == VM_CTX_FLOW && r1 == (__u64)(uintptr_t)run->ctx) {
		/* bpf_flow_dissector_load_bytes(): a test run's flow dissector has no
		 * skb behind it, so the kernel's answer is always this */
		if (vm_mem_arg(run, r3, (__u32)r4, VM_WR, "bpf_skb_load_bytes' buffer"))
			return 0;
		memset((void *)(uintptr_t)r3, 0, (__u32)r4);
		return (__u64)-EFAULT;
	}
	struct vm_skb *skb = skb_arg(run, r1, "bpf_skb_load_bytes");
	if (!skb || vm_mem_arg(run, r3, (__u32)r4, VM_WR, "bpf_skb_load_bytes' buffer"))
		return 0;
	__u32 off = (__u32)r2, len = (__u32)r4;
	void *to = (void *)(uintptr_t)r3;
	if (off > 0x7fffffff || (__u64)off + len > skb->len) {
		memset(to, 0, len);
		return (__u64)-EFAULT;
	}
	memmove(to, skb->data + off, len);
	return 0;
}

/* bpf_skb_store_bytes(skb, offset, from, len, flags) */
__u64 vm_h_skb_store_bytes(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	struct vm_skb *skb = skb_arg(run, r1, "bpf_skb_store_bytes");
	if (!skb || vm_mem_arg(run, r3, (__u32)r4, VM_RD, "bpf_skb_store_bytes' data"))
		return 0;
	__u32 off = (__u32)r2, len = (__u32)r4;
	if (r5 & ~(__u64)(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH))
		return (__u64)-EINVAL;
	if (off > 0x7fffffff || (__u64)off + len > skb->len)
		return (__u64)-EFAULT;
	unsigned char *p = skb->data + off;
	__u32 at = (__u32)(p - (skb->head + skb->net_off));     /* offset from where csum starts */
	bool rc = (r5 & BPF_F_RECOMPUTE_CSUM) && skb->ip_summed == VM_CHECKSUM_COMPLETE && p >= skb->head + skb->net_off;
	if (rc)
		skb->csum = csum_block(skb->csum, vm_csum_partial(p, len, 0), at, true);
	memmove(p, (const void *)(uintptr_t)r3, len);
	if (rc)
		skb->csum = csum_block(skb->csum, vm_csum_partial(p, len, 0), at, false);
	if (r5 & BPF_F_INVALIDATE_HASH) {
		skb->ctx.hash = 0;
		skb->sw_hash = false;
	}
	return 0;
}

/* ---- XDP ---- */

static struct vm_pkt *xdp_arg(struct vm_run *run, __u64 r1, const char *helper)
{
	if (run->ctx_kind != VM_CTX_XDP || r1 != (__u64)(uintptr_t)run->ctx) {
		vm_fault(run, -EFAULT, "%s: R1 %#llx is not the program's xdp_md", helper, (unsigned long long)r1);
		return NULL;
	}
	return &run->pkt;
}

/* bpf_xdp_adjust_head(xdp, delta) */
__u64 vm_h_xdp_adjust_head(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_pkt *x = xdp_arg(run, r1, "bpf_xdp_adjust_head");
	if (!x)
		return 0;
	__s32 off = (__s32)r2;
	size_t metalen = (size_t)(x->data - x->meta);
	unsigned char *data_start = x->hard_start + XDP_FRAME_SIZE + metalen;
	unsigned char *data = x->data + off;
	if (data < data_start || data > x->end - ETH_HLEN)
		return (__u64)-EINVAL;
	if (metalen)
		memmove(x->meta + off, x->meta, metalen);
	x->meta += off;
	x->data = data;
	vm_pkt_changed(run);
	return 0;
}

/* bpf_xdp_adjust_tail(xdp, delta) */
__u64 vm_h_xdp_adjust_tail(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_pkt *x = xdp_arg(run, r1, "bpf_xdp_adjust_tail");
	if (!x)
		return 0;
	__s32 off = (__s32)r2;
	if (x->has_frags) {
		vm_fault(run, -EOPNOTSUPP, "bpf_xdp_adjust_tail on a packet with fragments is not emulated");
		return 0;
	}
	unsigned char *end = x->end + off;
	if (end > x->hard_end || end < x->data + ETH_HLEN)
		return (__u64)-EINVAL;
	if (off > 0)
		memset(x->end, 0, (size_t)off);
	x->end = end;
	vm_pkt_changed(run);
	return 0;
}

/* bpf_xdp_adjust_meta(xdp, delta) */
__u64 vm_h_xdp_adjust_meta(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_pkt *x = xdp_arg(run, r1, "bpf_xdp_adjust_meta");
	if (!x)
		return 0;
	__s32 off = (__s32)r2;
	unsigned char *meta = x->meta + off;
	if (meta < x->hard_start + XDP_FRAME_SIZE || meta > x->data)
		return (__u64)-EINVAL;
	size_t metalen = (size_t)(x->data - meta);
	if ((metalen & 3) || metalen > XDP_META_MAX)
		return (__u64)-EACCES;
	x->meta = meta;
	vm_pkt_changed(run);
	return 0;
}

/* ---- redirects: recorded for the caller (bpfemu_test_run_redirect) ---- */

__u64 vm_h_redirect(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	if (run->ctx_kind == VM_CTX_XDP) {
		if (r2)
			return XDP_ABORTED;
		run->redirect = (struct vm_redirect){ .set = true, .ifindex = (__u32)r1 };
		return XDP_REDIRECT;
	}
	if (r2 & ~(__u64)BPF_F_INGRESS)
		return TC_ACT_SHOT;
	run->redirect = (struct vm_redirect){ .set = true, .ifindex = (__u32)r1, .flags = r2 };
	return TC_ACT_REDIRECT;
}

__u64 vm_h_redirect_map(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_redirect_map");
	if (!m)
		return 0;
	const __u64 action_mask = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
	__u64 flag_mask = 0;
	switch (m->type) {
	case BPF_MAP_TYPE_DEVMAP:
	case BPF_MAP_TYPE_DEVMAP_HASH:
		flag_mask = BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;
		break;
	case BPF_MAP_TYPE_CPUMAP:
	case BPF_MAP_TYPE_XSKMAP:
		break;
	default:
		vm_fault(run, -EINVAL, "bpf_redirect_map: map %u of type %u is not a devmap, cpumap or xskmap", m->id,
			 m->type);
		return 0;
	}
	if (r3 & ~(action_mask | flag_mask))
		return XDP_ABORTED;
	__u32 key = (__u32)r2;
	unsigned char val[64];
	/* the user-space lookup answers ENOENT for an empty slot; anything else is an entry */
	bool found = m->ops->lookup(m->obj, &key, val, 0) != -ENOENT;
	if (!found && !(r3 & BPF_F_BROADCAST)) {
		run->redirect = (struct vm_redirect){ 0 };
		return r3 & action_mask;
	}
	__u32 ifindex = 0;
	if (found && (m->type == BPF_MAP_TYPE_DEVMAP || m->type == BPF_MAP_TYPE_DEVMAP_HASH))
		memcpy(&ifindex, val, 4);
	run->redirect = (struct vm_redirect){ .set = true, .ifindex = ifindex, .map_id = m->id, .key = key,
					      .flags = r3 & BPF_F_BROADCAST ? r3 : 0 };
	return XDP_REDIRECT;
}

/* ---- sockets ---- */

/* bpf_sk_assign(ctx, sk, flags): sk_lookup's bpf_sk_lookup_assign(). No
 * socket can reach a program here (socket lookups and sockmap values are not
 * emulated), so only NULL (no selection) is a socket it can pass. */
__u64 vm_h_sk_assign(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	if (run->ctx_kind != VM_CTX_SK_LOOKUP || r1 != (__u64)(uintptr_t)run->ctx) {
		vm_fault(run, -EOPNOTSUPP, "bpf_sk_assign outside sk_lookup programs: sockets are not emulated");
		return 0;
	}
	if (r3 & ~(__u64)(BPF_SK_LOOKUP_F_REPLACE | BPF_SK_LOOKUP_F_NO_REUSEPORT))
		return (__u64)-EINVAL;
	if (run->sk_selected && !(r3 & BPF_SK_LOOKUP_F_REPLACE))
		return (__u64)-EEXIST;
	if (r2) {
		vm_fault(run, -EOPNOTSUPP, "bpf_sk_assign: %#llx is not a socket the run knows (sockets are not emulated)",
			 (unsigned long long)r2);
		return 0;
	}
	run->sk_selected = false;
	return 0;
}

/* ---- routes: bpf_fib_lookup ---- */

#define FIB_LOOKUP_FLAGS 0x3fu         /* DIRECT OUTPUT SKIP_NEIGH TBID SRC MARK (6.18) */

/* /proc/sys/net/ipv{4,6}/conf/<dev>/forwarding: 1, 0, or -1 (no such file) */
static int forwarding(int v6, const char *dev)
{
	char path[128], c = 0;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv%d/conf/%s/forwarding", v6 ? 6 : 4, dev);
	int fd = emu_oe_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = emu_oe_read(fd, &c, 1);
	emu_oe_close(fd);
	return n == 1 ? c != '0' : -1;
}

/*
 * bpf_fib_lookup(ctx, params, plen, flags), XDP and tc: the kernel's checks
 * in its order (plen, flags, family, IPv6 link-local addresses, the device,
 * forwarding on it). A host that forwards on that device would then consult
 * its routing table and neighbours: bpfemu does not, the run ends with
 * EOPNOTSUPP and a log line. Where forwarding is off (the usual test host,
 * and always loopback unless configured) the answer is the kernel's:
 * BPF_FIB_LKUP_RET_FWD_DISABLED.
 */
__u64 vm_h_fib_lookup(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	if ((run->ctx_kind != VM_CTX_XDP && run->ctx_kind != VM_CTX_SKB) || r1 != (__u64)(uintptr_t)run->ctx) {
		vm_fault(run, -EFAULT, "bpf_fib_lookup: R1 %#llx is not the program's context", (unsigned long long)r1);
		return 0;
	}
	__s32 plen = (__s32)r3;
	if (plen < (__s32)sizeof(struct bpf_fib_lookup))
		return (__u64)-EINVAL;
	if (vm_mem_arg(run, r2, (__u32)plen, VM_RW, "bpf_fib_lookup's params"))
		return 0;
	if ((__u32)r4 & ~FIB_LOOKUP_FLAGS)
		return (__u64)-EINVAL;
	const struct bpf_fib_lookup *p = (const void *)(uintptr_t)r2;
	int v6;
	switch (p->family) {
	case 2:
		v6 = 0;
		break;
	case 10: {
		/* link-local or multicast-scoped addresses are never forwarded (rt6_need_strict) */
		const unsigned char *d = (const unsigned char *)p->ipv6_dst, *s = (const unsigned char *)p->ipv6_src;
		bool strict_d = d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80) ||
				(!memcmp(d, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) && d[15] == 1);
		bool strict_s = s[0] == 0xff || (s[0] == 0xfe && (s[1] & 0xc0) == 0x80) ||
				(!memcmp(s, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) && s[15] == 1);
		if (strict_d || strict_s)
			return BPF_FIB_LKUP_RET_NOT_FWDED;
		v6 = 1;
		break;
	}
	default:
		return (__u64)-EAFNOSUPPORT;
	}
	char dev[IF_NAMESIZE];
	if (!if_indextoname(p->ifindex, dev))
		return (__u64)-ENODEV;
	int fwd = forwarding(v6, dev);
	if (fwd <= 0)
		return BPF_FIB_LKUP_RET_FWD_DISABLED;
	vm_fault(run, -EOPNOTSUPP, "bpf_fib_lookup: %s forwards IPv%d: routing table lookups are not emulated", dev,
		 v6 ? 6 : 4);
	return 0;
}
