/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/skb.c: the helpers that reshape a test run's skb or touch its
 * metadata, with net/core/filter.c's (Linux 6.18) checks, errnos and
 * effects: bpf_skb_pull_data, bpf_skb_change_head, bpf_skb_change_tail,
 * bpf_skb_change_proto, bpf_skb_change_type, bpf_skb_adjust_room,
 * bpf_l3_csum_replace, bpf_l4_csum_replace, bpf_csum_update,
 * bpf_csum_level, bpf_get_hash_recalc, bpf_set_hash, bpf_set_hash_invalid,
 * bpf_skb_vlan_push, bpf_skb_vlan_pop.
 *
 * The skb (test_run.c) is linear, in one buffer below 4 GiB with room to
 * grow (VM_PKT_BUF): when a helper needs more head or tail room than the
 * kernel's test skb has, the data moves within the buffer, as
 * pskb_expand_head() moves it to a new one. The kernel's ip_summed
 * (CHECKSUM_NONE, or CHECKSUM_COMPLETE with BPF_F_TEST_SKB_CHECKSUM_COMPLETE,
 * or CHECKSUM_UNNECESSARY after bpf_csum_level) and skb->csum follow the
 * kernel's rules. A VLAN tag pushed first is the skb's offloaded tag
 * (__sk_buff.vlan_present/vlan_tci/vlan_proto), as skb_vlan_push() makes it;
 * a second push moves the first into the packet.
 *
 * Not the kernel's: bpf_get_hash_recalc's value (the kernel hashes the flow
 * with a key chosen at boot; here a fixed function of the same fields), and
 * GSO (a test run's skb is never GSO).
 */
#include <errno.h>
#include <string.h>

#include "vm_int.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define BPF_SKB_MAX_LEN 16064u        /* SKB_MAX_ALLOC: 4 pages less skb_shared_info */
#define CSUM_MANGLED_0 0xffff
#define SKB_MAX_CSUM_LEVEL 3
#define ENOTSUPP 524
#define ADJ_ROOM_DECAP_L3_IPV4 (1ull << 7)
#define ADJ_ROOM_DECAP_L3_IPV6 (1ull << 8)
#define ADJ_ROOM_DECAP_L3_MASK (ADJ_ROOM_DECAP_L3_IPV4 | ADJ_ROOM_DECAP_L3_IPV6)
#define ADJ_ROOM_ENCAP_L3_MASK (BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6)
#define ADJ_ROOM_MASK                                                                                     \
	(BPF_F_ADJ_ROOM_FIXED_GSO | ADJ_ROOM_ENCAP_L3_MASK | BPF_F_ADJ_ROOM_ENCAP_L4_GRE |                 \
	 BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2_ETH |                                          \
	 ((__u64)BPF_ADJ_ROOM_ENCAP_L2_MASK << BPF_ADJ_ROOM_ENCAP_L2_SHIFT) | ADJ_ROOM_DECAP_L3_MASK)

static __u16 be16(__u16 v) { return __builtin_bswap16(v); }

/* ---- checksum arithmetic (include/net/checksum.h) ---- */

static __u32 csum_add(__u32 a, __u32 b)
{
	__u32 s = a + b;
	return s + (s < b);
}
static __u32 csum_sub(__u32 a, __u32 b) { return csum_add(a, ~b); }
static __u16 csum16_add(__u16 csum, __u16 addend)
{
	__u16 res = (__u16)(csum + addend);
	return (__u16)(res + (res < addend));
}
static __u16 csum16_sub(__u16 csum, __u16 addend) { return csum16_add(csum, (__u16)~addend); }

static void csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	__u32 tmp = csum_sub(~(__u32)*sum, from);
	*sum = vm_csum_fold(csum_add(tmp, to));
}
static void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	*sum = (__u16)~csum16_add(csum16_sub((__u16)~*sum, from), to);
}
static void csum_replace_by_diff(__u16 *sum, __u32 diff)
{
	*sum = vm_csum_fold(csum_add(diff, ~(__u32)*sum));
}

/* ---- the skb ---- */

static struct vm_skb *skb_of(struct vm_run *run, __u64 r1, const char *helper)
{
	if (run->ctx_kind != VM_CTX_SKB || r1 != (__u64)(uintptr_t)run->ctx) {
		vm_fault(run, -EFAULT, "%s: R1 %#llx is not the program's skb", helper, (unsigned long long)r1);
		return NULL;
	}
	return run->skb;
}

static __u32 headroom(const struct vm_skb *s) { return (__u32)(s->data - s->head); }
static __u32 tailroom(const struct vm_skb *s) { return (__u32)(s->end - (s->data + s->len)); }
static __u32 mac_len(const struct vm_skb *s) { return s->net_off - s->mac_off; }
static __u32 network_offset(const struct vm_skb *s) { return s->net_off - headroom(s); }

/*
 * pskb_expand_head(): at least need_head bytes of headroom and need_tail of
 * tailroom; the data moves within the buffer (the mac and network header
 * offsets with it), what is new is zero. 0 or -ENOMEM.
 */
int vm_skb_room(struct vm_run *run, struct vm_skb *s, __u32 need_head, __u32 need_tail)
{
	__u32 hr = headroom(s), tr = tailroom(s);
	if (hr >= need_head && tr >= need_tail)
		return 0;
	__u32 nhr = hr < need_head ? ((need_head + 63) & ~63u) : hr;
	__u32 ntr = tr < need_tail ? need_tail : tr;
	if ((size_t)nhr + s->len + ntr > VM_PKT_BUF)
		return -ENOMEM;
	unsigned char *ndata = s->head + nhr;
	memmove(ndata, s->data, s->len);
	__s64 delta = (__s64)nhr - (__s64)hr;
	if (delta > 0)
		memset(s->data, 0, (size_t)(ndata - s->data) < s->len ? (size_t)(ndata - s->data) : s->len);
	s->mac_off = (__u32)((__s64)s->mac_off + delta);
	s->net_off = (__u32)((__s64)s->net_off + delta);
	s->data = ndata;
	s->end = ndata + s->len + ntr;
	memset(ndata + s->len, 0, ntr);
	memset(s->head, 0, nhr);
	(void)run;
	return 0;
}

/* after a change of data or len: the ctx's view and the regions */
static void changed(struct vm_run *run)
{
	vm_pkt_changed(run);
}

/* skb_ensure_writable(): len bytes must be in the (linear) data */
static int writable(const struct vm_skb *s, __u32 len)
{
	return len > s->len ? -ENOMEM : 0;
}

/* bpf_skb_pull_data(skb, len) */
__u64 vm_h_skb_pull_data(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_pull_data");
	if (!s)
		return 0;
	__u32 len = (__u32)r2;
	int err = writable(s, len ? len : s->len);
	changed(run);
	return (__u64)(__s64)err;
}

/* the hash: __sk_buff.hash, skb->sw_hash and l4_hash */
static void clear_hash(struct vm_skb *s)
{
	s->ctx.hash = 0;
	s->sw_hash = false;
}

/* ---- head and tail ---- */

/* bpf_skb_change_head(skb, head_room, flags) */
__u64 vm_h_skb_change_head(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_change_head");
	if (!s)
		return 0;
	__u32 room = (__u32)r2, new_len = s->len + room;
	if (r3 || new_len > BPF_SKB_MAX_LEN || new_len < s->len)
		return (__u64)-EINVAL;
	if (vm_skb_room(run, s, room, 0))
		return (__u64)-ENOMEM;
	s->data -= room;
	s->len += room;
	memset(s->data, 0, room);
	/* skb_reset_mac_header(), skb_reset_mac_len() */
	s->mac_off = headroom(s);
	changed(run);
	return 0;
}

/* bpf_skb_change_tail(skb, len, flags) */
__u64 vm_h_skb_change_tail(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_change_tail");
	if (!s)
		return 0;
	__u32 new_len = (__u32)r2;
	/* __bpf_skb_min_len(): the network header's offset (no transport header is set) */
	__s64 noff = (__s64)s->net_off - (__s64)headroom(s);
	__u32 min_len = noff > 0 ? (__u32)noff : 0;
	int err = 0;
	if (r3 || new_len > BPF_SKB_MAX_LEN || new_len < min_len) {
		err = -EINVAL;
	} else if (new_len > s->len) {
		/* bpf_skb_grow_rcsum() */
		if (s->ip_summed == VM_CHECKSUM_COMPLETE)
			s->ip_summed = VM_CHECKSUM_NONE;
		err = vm_skb_room(run, s, 0, new_len - s->len);
		if (!err) {
			memset(s->data + s->len, 0, new_len - s->len);
			s->len = new_len;
		}
	} else if (new_len < s->len) {
		/* bpf_skb_trim_rcsum() */
		if (s->ip_summed == VM_CHECKSUM_COMPLETE)
			s->ip_summed = VM_CHECKSUM_NONE;
		s->len = new_len;
	}
	changed(run);
	return (__u64)(__s64)err;
}

/* ---- pushing and popping headers after the MAC header ---- */

/* bpf_skb_generic_push() + the header offsets: len zero bytes at off (from data) */
static int net_hdr_push(struct vm_run *run, struct vm_skb *s, __u32 off, __u32 len)
{
	if (vm_skb_room(run, s, len, 0))
		return -ENOMEM;
	s->data -= len;
	s->len += len;
	memmove(s->data, s->data + len, off);
	memset(s->data + off, 0, len);
	s->mac_off -= len;
	s->net_off -= len;
	return 0;
}

/* bpf_skb_generic_pop() + the header offsets: len bytes at off go */
static int net_hdr_pop(struct vm_skb *s, __u32 off, __u32 len)
{
	if ((__u64)off + len > s->len)
		return -ENOMEM;
	unsigned char *old = s->data;
	if (s->ip_summed == VM_CHECKSUM_COMPLETE)
		s->csum = ~vm_csum_partial(old + off, len, ~s->csum);
	s->data += len;
	s->len -= len;
	memmove(s->data, old, off);
	s->mac_off += len;
	s->net_off += len;
	return 0;
}

/* bpf_skb_change_proto(skb, proto, flags): IPv4 <-> IPv6, 20 bytes after the MAC header */
__u64 vm_h_skb_change_proto(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_change_proto");
	if (!s)
		return 0;
	if (r3)
		return (__u64)-EINVAL;
	__u16 from = (__u16)s->ctx.protocol, to = (__u16)r2;
	int err;
	if (from == be16(ETH_P_IP) && to == be16(ETH_P_IPV6)) {
		err = net_hdr_push(run, s, mac_len(s), 20);
	} else if (from == be16(ETH_P_IPV6) && to == be16(ETH_P_IP)) {
		err = net_hdr_pop(s, mac_len(s), 20);
	} else {
		err = -ENOTSUPP;
	}
	if (!err) {
		s->ctx.protocol = to;
		clear_hash(s);
	}
	changed(run);
	return (__u64)(__s64)err;
}

/* bpf_skb_change_type(skb, type): PACKET_HOST .. PACKET_OTHERHOST */
__u64 vm_h_skb_change_type(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_change_type");
	if (!s)
		return 0;
	if (s->ctx.pkt_type > 3 || (__u32)r2 > 3)
		return (__u64)-EINVAL;
	s->ctx.pkt_type = (__u32)r2;
	return 0;
}

/* bpf_skb_net_base_len() */
static __u32 net_base_len(const struct vm_skb *s)
{
	__u16 p = (__u16)s->ctx.protocol;
	return p == be16(ETH_P_IP) ? 20 : p == be16(ETH_P_IPV6) ? 40 : 0;
}

/* bpf_skb_adjust_room(skb, len_diff, mode, flags) */
__u64 vm_h_skb_adjust_room(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_adjust_room");
	if (!s)
		return 0;
	__s32 diff = (__s32)r2;
	__u32 mode = (__u32)r3, abs_diff = diff < 0 ? (__u32)-(__s64)diff : (__u32)diff;
	__u64 flags = r4;
	__u32 len_min = net_base_len(s), off;
	bool shrink = diff < 0;
	__u16 proto = (__u16)s->ctx.protocol;
	int err;
	if (flags & ~(ADJ_ROOM_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET))
		return (__u64)-EINVAL;
	if (abs_diff > 0xfff)
		return (__u64)-EFAULT;
	if (proto != be16(ETH_P_IP) && proto != be16(ETH_P_IPV6))
		return (__u64)-ENOTSUPP;
	off = mac_len(s);
	switch (mode) {
	case BPF_ADJ_ROOM_NET:
		off += net_base_len(s);
		break;
	case BPF_ADJ_ROOM_MAC:
		break;
	default:
		return (__u64)-ENOTSUPP;
	}
	if (flags & ADJ_ROOM_DECAP_L3_MASK) {
		if (!shrink)
			return (__u64)-EINVAL;
		switch (flags & ADJ_ROOM_DECAP_L3_MASK) {
		case ADJ_ROOM_DECAP_L3_IPV4:
			len_min = 20;
			break;
		case ADJ_ROOM_DECAP_L3_IPV6:
			len_min = 40;
			break;
		default:
			return (__u64)-EINVAL;
		}
	}
	__u32 len_cur = s->len - network_offset(s);
	if ((shrink && (abs_diff >= len_cur || len_cur - abs_diff < len_min)) ||
	    (!shrink && s->len + abs_diff > BPF_SKB_MAX_LEN))
		return (__u64)-ENOTSUPP;
	if (shrink) {
		/* bpf_skb_net_shrink() */
		err = net_hdr_pop(s, off, abs_diff);
		if (!err && (flags & ADJ_ROOM_DECAP_L3_MASK))
			s->ctx.protocol = be16(flags & ADJ_ROOM_DECAP_L3_IPV4 ? ETH_P_IP : ETH_P_IPV6);
		if (!err && (flags & ADJ_ROOM_DECAP_L3_MASK))
			s->encapsulation = false;
	} else {
		/* bpf_skb_net_grow() */
		__u8 inner_mac_len = (__u8)(flags >> BPF_ADJ_ROOM_ENCAP_L2_SHIFT);
		bool encap = flags & ADJ_ROOM_ENCAP_L3_MASK;
		__u32 ml = 0;
		err = 0;
		if (encap) {
			if ((flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4) && (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
				err = -EINVAL;
			else if ((flags & BPF_F_ADJ_ROOM_ENCAP_L4_GRE) && (flags & BPF_F_ADJ_ROOM_ENCAP_L4_UDP))
				err = -EINVAL;
			else if ((flags & BPF_F_ADJ_ROOM_ENCAP_L2_ETH) && inner_mac_len < ETH_HLEN)
				err = -EINVAL;
			else if (s->encapsulation)
				err = -EALREADY;
			else if (inner_mac_len > abs_diff)
				err = -EINVAL;
			ml = mac_len(s);
		}
		if (!err)
			err = net_hdr_push(run, s, off, abs_diff);
		if (!err && encap) {
			s->encapsulation = true;
			s->net_off = headroom(s) + ml;        /* skb_set_network_header(skb, mac_len) */
			if (proto == be16(ETH_P_IP) && (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
				s->ctx.protocol = be16(ETH_P_IPV6);
			else if (proto == be16(ETH_P_IPV6) && (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
				s->ctx.protocol = be16(ETH_P_IP);
		}
	}
	if (!err && !(flags & BPF_F_ADJ_ROOM_NO_CSUM_RESET) && s->ip_summed == VM_CHECKSUM_UNNECESSARY) {
		/* __skb_reset_checksum_unnecessary() */
		s->ip_summed = VM_CHECKSUM_NONE;
		s->csum_level = 0;
	}
	changed(run);
	return (__u64)(__s64)err;
}

/* ---- checksums ---- */

/* bpf_l3_csum_replace(skb, offset, from, to, flags) */
__u64 vm_h_l3_csum_replace(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	struct vm_skb *s = skb_of(run, r1, "bpf_l3_csum_replace");
	if (!s)
		return 0;
	__u32 off = (__u32)r2;
	if (r5 & ~(__u64)BPF_F_HDR_FIELD_MASK)
		return (__u64)-EINVAL;
	if (off > 0xffff || (off & 1) || writable(s, off + 2))
		return (__u64)-EFAULT;
	__u16 sum;
	memcpy(&sum, s->data + off, 2);
	switch (r5 & BPF_F_HDR_FIELD_MASK) {
	case 0:
		if (r3)
			return (__u64)-EINVAL;
		csum_replace_by_diff(&sum, (__u32)r4);
		break;
	case 2:
		csum_replace2(&sum, (__u16)r3, (__u16)r4);
		break;
	case 4:
		csum_replace4(&sum, (__u32)r3, (__u32)r4);
		break;
	default:
		return (__u64)-EINVAL;
	}
	memcpy(s->data + off, &sum, 2);
	return 0;
}

/* bpf_l4_csum_replace(skb, offset, from, to, flags) */
__u64 vm_h_l4_csum_replace(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	struct vm_skb *s = skb_of(run, r1, "bpf_l4_csum_replace");
	if (!s)
		return 0;
	__u32 off = (__u32)r2;
	bool pseudo = r5 & BPF_F_PSEUDO_HDR, mmzero = r5 & BPF_F_MARK_MANGLED_0, mforce = r5 & BPF_F_MARK_ENFORCE,
	     ipv6 = r5 & BPF_F_IPV6;
	if (r5 & ~(__u64)(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_IPV6 |
			  BPF_F_HDR_FIELD_MASK))
		return (__u64)-EINVAL;
	if (off > 0xffff || (off & 1) || writable(s, off + 2))
		return (__u64)-EFAULT;
	__u16 sum;
	memcpy(&sum, s->data + off, 2);
	if (mmzero && !mforce && !sum)
		return 0;
	bool complete = s->ip_summed == VM_CHECKSUM_COMPLETE;
	switch (r5 & BPF_F_HDR_FIELD_MASK) {
	case 0:
		if (r3)
			return (__u64)-EINVAL;
		/* inet_proto_csum_replace_by_diff() */
		csum_replace_by_diff(&sum, (__u32)r4);
		if (complete && pseudo && !ipv6)
			s->csum = ~csum_sub((__u32)r4, s->csum);
		break;
	case 2:
	case 4: {
		/* inet_proto_csum_replace2/4(): the 16-bit forms widened */
		__u32 from = (r5 & BPF_F_HDR_FIELD_MASK) == 2 ? (__u16)r3 : (__u32)r3;
		__u32 to = (r5 & BPF_F_HDR_FIELD_MASK) == 2 ? (__u16)r4 : (__u32)r4;
		csum_replace4(&sum, from, to);
		if (complete && pseudo)
			s->csum = ~csum_add(csum_sub(~s->csum, from), to);
		break;
	}
	default:
		return (__u64)-EINVAL;
	}
	if (mmzero && !sum)
		sum = CSUM_MANGLED_0;
	memcpy(s->data + off, &sum, 2);
	return 0;
}

/* bpf_csum_update(skb, csum): the new skb->csum, or -ENOTSUPP without CHECKSUM_COMPLETE */
__u64 vm_h_csum_update(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_csum_update");
	if (!s)
		return 0;
	if (s->ip_summed != VM_CHECKSUM_COMPLETE)
		return (__u64)-ENOTSUPP;
	s->csum = csum_add(s->csum, (__u32)r2);
	return s->csum;
}

/* bpf_csum_level(skb, level) */
__u64 vm_h_csum_level(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_csum_level");
	if (!s)
		return 0;
	switch (r2) {
	case BPF_CSUM_LEVEL_INC:
		if (s->ip_summed == VM_CHECKSUM_UNNECESSARY) {
			if (s->csum_level < SKB_MAX_CSUM_LEVEL)
				s->csum_level++;
		} else if (s->ip_summed == VM_CHECKSUM_NONE) {
			s->ip_summed = VM_CHECKSUM_UNNECESSARY;
			s->csum_level = 0;
		}
		return 0;
	case BPF_CSUM_LEVEL_DEC:
		if (s->ip_summed == VM_CHECKSUM_UNNECESSARY) {
			if (s->csum_level == 0)
				s->ip_summed = VM_CHECKSUM_NONE;
			else
				s->csum_level--;
		}
		return 0;
	case BPF_CSUM_LEVEL_RESET:
		if (s->ip_summed == VM_CHECKSUM_UNNECESSARY) {
			s->ip_summed = VM_CHECKSUM_NONE;
			s->csum_level = 0;
		}
		return 0;
	case BPF_CSUM_LEVEL_QUERY:
		return s->ip_summed == VM_CHECKSUM_UNNECESSARY ? s->csum_level : (__u64)-EACCES;
	default:
		return (__u64)-EINVAL;
	}
}

/* ---- the hash ---- */

/* a flow hash of the addresses, the protocol and the ports (not the kernel's
 * value: its key is random per boot), never 0 as the kernel's is not */
static __u32 flow_hash(const struct vm_skb *s)
{
	const unsigned char *nh = s->head + s->net_off, *end = s->data + s->len;
	__u32 h = 2166136261u;
	unsigned char tuple[37];
	size_t n = 0;
	__u16 proto = (__u16)s->ctx.protocol;
	memcpy(tuple, &proto, 2);
	n = 2;
	if (proto == be16(ETH_P_IP) && nh + 20 <= end) {
		memcpy(tuple + n, nh + 12, 8);
		tuple[n + 8] = nh[9];
		n += 9;
		__u32 ihl = (__u32)(nh[0] & 15) * 4;
		if ((nh[9] == 6 || nh[9] == 17) && nh + ihl + 4 <= end) {
			memcpy(tuple + n, nh + ihl, 4);
			n += 4;
		}
	} else if (proto == be16(ETH_P_IPV6) && nh + 40 <= end) {
		memcpy(tuple + n, nh + 8, 32);
		tuple[n + 32] = nh[6];
		n += 33;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ tuple[i]) * 16777619u;
	return h ? h : 1;
}

/* bpf_get_hash_recalc(skb): skb_get_hash() */
__u64 vm_h_get_hash_recalc(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_get_hash_recalc");
	if (!s)
		return 0;
	if (!s->sw_hash && !s->ctx.hash)
		s->ctx.hash = flow_hash(s);
	return s->ctx.hash;
}

/* bpf_set_hash(skb, hash): a software L4 hash */
__u64 vm_h_set_hash(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_set_hash");
	if (!s)
		return 0;
	s->ctx.hash = (__u32)r2;
	s->sw_hash = true;
	return 0;
}

/* bpf_set_hash_invalid(skb) */
__u64 vm_h_set_hash_invalid(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_set_hash_invalid");
	if (!s)
		return 0;
	clear_hash(s);
	return 0;
}

/* ---- VLAN ---- */

/* __vlan_insert_tag(): the offloaded tag goes into the packet after the MAC addresses */
static int vlan_insert(struct vm_run *run, struct vm_skb *s, __u16 proto_be, __u16 tci)
{
	if (s->mac_off != headroom(s))             /* the MAC header must be at data (tc) */
		return -EINVAL;
	if (vm_skb_room(run, s, VLAN_HLEN, 0))
		return -ENOMEM;
	s->data -= VLAN_HLEN;
	s->len += VLAN_HLEN;
	memmove(s->data, s->data + VLAN_HLEN, 12);
	__u16 t = be16(tci);
	memcpy(s->data + 12, &proto_be, 2);
	memcpy(s->data + 14, &t, 2);
	s->mac_off -= VLAN_HLEN;
	/* skb_vlan_push(): the network header moves back over the tag */
	s->net_off -= VLAN_HLEN;
	if (s->ip_summed == VM_CHECKSUM_COMPLETE)
		s->csum = csum_add(s->csum, vm_csum_partial(s->data + 12, VLAN_HLEN, 0));
	return 0;
}

/* bpf_skb_vlan_push(skb, vlan_proto, vlan_tci) */
__u64 vm_h_skb_vlan_push(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_vlan_push");
	if (!s)
		return 0;
	__u16 proto = (__u16)r2, tci = (__u16)r3;
	if (proto != be16(ETH_P_8021Q) && proto != be16(ETH_P_8021AD))
		proto = be16(ETH_P_8021Q);
	int err = 0;
	if (s->ctx.vlan_present) {
		/* skb_vlan_push(): the tag there goes into the packet first */
		err = vlan_insert(run, s, (__u16)s->ctx.vlan_proto, (__u16)s->ctx.vlan_tci);
		if (!err)
			s->ctx.protocol = s->ctx.vlan_proto;
	}
	if (!err) {
		s->ctx.vlan_present = 1;
		s->ctx.vlan_proto = proto;
		s->ctx.vlan_tci = tci;
	}
	changed(run);
	return (__u64)(__s64)err;
}

static bool eth_type_vlan(__u16 p) { return p == be16(ETH_P_8021Q) || p == be16(ETH_P_8021AD); }

/* __skb_vlan_pop(): the tag in the packet after the MAC addresses comes out */
static int vlan_pop_inband(struct vm_skb *s, __u16 *tci)
{
	if (s->mac_off != headroom(s))
		return -EINVAL;
	if (writable(s, ETH_HLEN + VLAN_HLEN))
		return -ENOMEM;
	if (s->ip_summed == VM_CHECKSUM_COMPLETE)
		s->csum = ~vm_csum_partial(s->data + 12, VLAN_HLEN, ~s->csum);
	__u16 t, enc;
	memcpy(&t, s->data + 14, 2);
	memcpy(&enc, s->data + 16, 2);
	*tci = be16(t);
	memmove(s->data + VLAN_HLEN, s->data, 12);
	s->data += VLAN_HLEN;
	s->len -= VLAN_HLEN;
	/* vlan_set_encap_proto() */
	s->ctx.protocol = be16(enc) >= 0x0600 ? enc : be16(0x0004);
	s->mac_off += VLAN_HLEN;
	if (s->net_off < s->mac_off + ETH_HLEN)
		s->net_off = s->mac_off + ETH_HLEN;
	return 0;
}

/* bpf_skb_vlan_pop(skb) */
__u64 vm_h_skb_vlan_pop(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct vm_skb *s = skb_of(run, r1, "bpf_skb_vlan_pop");
	if (!s)
		return 0;
	__u16 tci;
	int err = 0;
	if (s->ctx.vlan_present) {
		s->ctx.vlan_present = 0;
		s->ctx.vlan_tci = 0;
		s->ctx.vlan_proto = 0;
	} else if (!eth_type_vlan((__u16)s->ctx.protocol)) {
		goto out;
	} else if ((err = vlan_pop_inband(s, &tci))) {
		goto out;
	}
	/* the next tag in the packet becomes the offloaded one */
	if (eth_type_vlan((__u16)s->ctx.protocol)) {
		__u16 proto = (__u16)s->ctx.protocol;
		err = vlan_pop_inband(s, &tci);
		if (!err) {
			s->ctx.vlan_present = 1;
			s->ctx.vlan_proto = proto;
			s->ctx.vlan_tci = tci;
		}
	}
out:
	changed(run);
	return (__u64)(__s64)err;
}
