/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/dynptr.c: the dynptr kfuncs over a run's packet, with the
 * semantics of Linux 6.18's kernel/bpf/helpers.c and net/core/filter.c:
 * bpf_dynptr_from_skb / bpf_dynptr_from_xdp, bpf_dynptr_slice /
 * slice_rdwr, adjust, is_null, is_rdonly, size, clone.
 *
 * A dynptr is 16 bytes of the program's stack, laid out as the kernel's
 * struct bpf_dynptr_kern: a data pointer (here the run's context, as the
 * kernel keeps the skb or xdp_buff: the packet's data is found at each
 * slice, where it is now), a size word (the low 24 bits; the type in bits
 * 28-30, read-only in bit 31) and an offset. The packet is the run's
 * linear buffer (run->pkt): an XDP run's fragments are not reached (their
 * bytes make a slice past the linear part NULL, where the kernel would
 * copy them into the buffer). A program type that may not write packets
 * gets a read-only skb dynptr, as the kernel's bpf_dynptr_from_skb_rdonly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm_int.h"

struct dynptr_kern {
	__u64 data;
	__u32 size;
	__u32 offset;
};

#define DYNPTR_SIZE_MASK 0xffffffu
#define DYNPTR_TYPE_SHIFT 28
#define DYNPTR_TYPE_MASK 0x7u
#define DYNPTR_RDONLY_BIT (1u << 31)
#define DYNPTR_MAX_SIZE DYNPTR_SIZE_MASK
enum { DT_INVALID, DT_LOCAL, DT_RINGBUF, DT_SKB, DT_XDP };

static struct dynptr_kern *dynptr_arg(struct vm_run *run, __u64 p, const char *fn, __u32 acc)
{
	char what[64];
	snprintf(what, sizeof(what), "%s's dynptr", fn);
	return vm_mem_arg(run, p, sizeof(struct dynptr_kern), acc, what) ? NULL : (struct dynptr_kern *)(uintptr_t)p;
}

static __u32 dsize(const struct dynptr_kern *d) { return d->size & DYNPTR_SIZE_MASK; }
static __u32 dtype(const struct dynptr_kern *d) { return (d->size >> DYNPTR_TYPE_SHIFT) & DYNPTR_TYPE_MASK; }
static bool drdonly(const struct dynptr_kern *d) { return d->size & DYNPTR_RDONLY_BIT; }

static void dynptr_init(struct dynptr_kern *d, __u64 data, __u32 type, __u32 offset, __u32 size)
{
	d->data = data;
	d->offset = offset;
	d->size = (size & DYNPTR_SIZE_MASK) | type << DYNPTR_TYPE_SHIFT;
}

static void dynptr_set_null(struct dynptr_kern *d) { memset(d, 0, sizeof(*d)); }

/* the packet's linear data now: an skb's (run->skb), an XDP buffer's (run->pkt) */
static unsigned char *pkt_data(const struct vm_run *run, __u32 type, __u32 *len)
{
	if (type == DT_SKB && run->ctx_kind == VM_CTX_SKB && run->skb) {
		const struct vm_skb *skb = run->skb;
		*len = skb->len;
		return skb->data;
	}
	if (type == DT_XDP && run->ctx_kind == VM_CTX_XDP && run->pkt.data && run->pkt.end >= run->pkt.data) {
		*len = (__u32)(run->pkt.end - run->pkt.data);
		return run->pkt.data;
	}
	*len = 0;
	return NULL;
}

static __u64 from_pkt(struct vm_run *run, __u64 ctx, __u64 flags, __u64 p, __u32 type, const char *fn)
{
	struct dynptr_kern *d = dynptr_arg(run, p, fn, VM_WR);
	__u32 len;
	if (!d)
		return 0;
	if (ctx != (__u64)(uintptr_t)run->ctx || !pkt_data(run, type, &len)) {
		vm_fault(run, -EFAULT, "%s: R1 %#llx is not the program's %s", fn, (unsigned long long)ctx,
			 type == DT_SKB ? "skb" : "xdp_md");
		return 0;
	}
	if (flags) {
		dynptr_set_null(d);
		return (__u64)(__s64)-EINVAL;
	}
	dynptr_init(d, ctx, type, 0, len);
	if (type == DT_SKB && !((const struct vm_skb *)run->skb)->pkt_write)
		d->size |= DYNPTR_RDONLY_BIT;
	return 0;
}

/* bpf_dynptr_from_skb(skb, flags, ptr__uninit) */
__u64 vm_k_dynptr_from_skb(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return from_pkt(run, r1, r2, r3, DT_SKB, "bpf_dynptr_from_skb");
}

/* bpf_dynptr_from_xdp(xdp, flags, ptr__uninit) */
__u64 vm_k_dynptr_from_xdp(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return from_pkt(run, r1, r2, r3, DT_XDP, "bpf_dynptr_from_xdp");
}

static int check_off_len(const struct dynptr_kern *d, __u64 offset, __u64 len)
{
	__u32 size = dsize(d);
	if (len > size || offset > size - len)
		return -E2BIG;
	return 0;
}

static __u64 slice(struct vm_run *run, __u64 p, __u64 offset, __u64 buf, __u64 len, bool rdwr, const char *fn)
{
	struct dynptr_kern *d = dynptr_arg(run, p, fn, VM_RD);
	if (!d || !d->data || (rdwr && drdonly(d)))
		return 0;
	offset = (__u32)offset;
	if (check_off_len(d, offset, len))
		return 0;
	__u64 at = (__u64)d->offset + offset;
	__u32 plen;
	unsigned char *data = pkt_data(run, dtype(d), &plen);
	/* the linear packet: a pointer into it (skb_header_pointer, bpf_xdp_pointer) */
	(void)buf;
	if (!data || at + len > plen)
		return 0;
	return (__u64)(uintptr_t)(data + at);
}

/* bpf_dynptr_slice(p, offset, buffer__opt, buffer__szk) */
__u64 vm_k_dynptr_slice(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	return slice(run, r1, r2, r3, r4, false, "bpf_dynptr_slice");
}

/* bpf_dynptr_slice_rdwr(p, offset, buffer__opt, buffer__szk) */
__u64 vm_k_dynptr_slice_rdwr(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	return slice(run, r1, r2, r3, r4, true, "bpf_dynptr_slice_rdwr");
}

/* bpf_dynptr_adjust(p, start, end) */
__u64 vm_k_dynptr_adjust(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct dynptr_kern *d = dynptr_arg(run, r1, "bpf_dynptr_adjust", VM_RW);
	__u32 start = (__u32)r2, end = (__u32)r3;
	if (!d)
		return 0;
	if (!d->data || start > end)
		return (__u64)(__s64)-EINVAL;
	__u32 size = dsize(d);
	if (start > size || end > size)
		return (__u64)(__s64)-ERANGE;
	d->offset += start;
	d->size = (d->size & ~DYNPTR_SIZE_MASK) | ((end - start) & DYNPTR_SIZE_MASK);
	return 0;
}

/* bpf_dynptr_is_null(p) */
__u64 vm_k_dynptr_is_null(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct dynptr_kern *d = dynptr_arg(run, r1, "bpf_dynptr_is_null", VM_RD);
	return d && !d->data;
}

/* bpf_dynptr_is_rdonly(p) */
__u64 vm_k_dynptr_is_rdonly(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct dynptr_kern *d = dynptr_arg(run, r1, "bpf_dynptr_is_rdonly", VM_RD);
	return d && d->data && drdonly(d);
}

/* bpf_dynptr_size(p): a u32 */
__u64 vm_k_dynptr_size(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct dynptr_kern *d = dynptr_arg(run, r1, "bpf_dynptr_size", VM_RD);
	if (!d)
		return 0;
	if (!d->data)
		return (__u32)-EINVAL;
	return dsize(d);
}

/* bpf_dynptr_clone(p, clone__uninit) */
__u64 vm_k_dynptr_clone(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct dynptr_kern *d = dynptr_arg(run, r1, "bpf_dynptr_clone", VM_RD);
	struct dynptr_kern *c = d ? dynptr_arg(run, r2, "bpf_dynptr_clone", VM_WR) : NULL;
	if (!c)
		return 0;
	if (!d->data) {
		dynptr_set_null(c);
		return (__u64)(__s64)-EINVAL;
	}
	*c = *d;
	return 0;
}
