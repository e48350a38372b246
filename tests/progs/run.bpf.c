/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/run.bpf.c: programs that are test-run (BPF_PROG_TEST_RUN) by
 * tests/progs/run_loader.c, on the kernel and under bpfemu, with every
 * result compared: retval, data_out, ctx_out, the maps afterwards, the ring
 * buffer records a second process polls.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} by_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} bytes SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} inner0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner0 },
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 2);
} chain SEC(".maps");

__u64 seen = 0;                    /* .bss */
__u32 last_len = 0;                /* .bss */
__u64 base = 100;                  /* .data */
const volatile __u32 limit = 1000; /* .rodata */

struct rec {
	__u32 saddr;
	__u32 len;
	__u64 seen;
};

/* The acceptance program: hash, array, per-CPU, map-in-map, .bss, ring buffer. */
SEC("xdp")
int xdp_acc(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	__u32 src = ip->saddr, k = 0, len = (__u32)(end - data);
	__u64 one = 1, *c = bpf_map_lookup_elem(&by_src, &src);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&by_src, &src, &one, BPF_NOEXIST);
	__u64 *s = bpf_map_lookup_elem(&stats, &k);
	if (s)
		__sync_fetch_and_add(s, 1);
	__u64 *b = bpf_map_lookup_elem(&bytes, &k);
	if (b)
		*b += len;
	void *in = bpf_map_lookup_elem(&outer, &k);
	if (in) {
		__u32 j = ip->protocol & 1;
		__u64 *iv = bpf_map_lookup_elem(in, &j);
		if (iv)
			__sync_fetch_and_add(iv, 1);
	}
	seen++;
	last_len = len;
	struct rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (r) {
		r->saddr = src;
		r->len = len;
		r->seen = seen;
		bpf_ringbuf_submit(r, 0);
	}
	return len > limit ? XDP_DROP : XDP_PASS;
}

/* Swap the MACs, decrement the TTL with the checksum fixed by csum_diff, move the
 * head past the Ethernet header and grow the tail: XDP_TX. */
SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	unsigned char tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	__u32 old = *(__u32 *)&ip->ttl;
	ip->ttl--;
	__u32 new = *(__u32 *)&ip->ttl;
	__s64 diff = bpf_csum_diff(&old, 4, &new, 4, ~(__u32)ip->check & 0xffff);
	ip->check = ~(__u16)diff;
	if (bpf_xdp_adjust_tail(ctx, 6))
		return XDP_ABORTED;
	if (bpf_xdp_adjust_head(ctx, 2))
		return XDP_ABORTED;
	return XDP_TX;
}

/* tc: the mark and cb from __sk_buff, bytes loaded and stored */
SEC("tc")
int tc_act(struct __sk_buff *skb)
{
	__u32 addr;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + 12, &addr, 4))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, ETH_HLEN + 16, &addr, 4, 0))
		return TC_ACT_SHOT;
	skb->mark = skb->mark * 2 + 1;
	skb->cb[1] = skb->len;
	skb->cb[2] = skb->protocol;
	skb->priority = skb->ifindex;
	if (skb->len > 60)
		return TC_ACT_REDIRECT;
	return TC_ACT_OK;
}

/* socket filter: LD_ABS loads relative to the network header */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int sock_len(struct __sk_buff *skb)
{
	if (load_byte(skb, offsetof(struct iphdr, protocol)) != IPPROTO_UDP)
		return 0;
	__u32 dport = load_half(skb, sizeof(struct iphdr) + offsetof(struct udphdr, dest));
	return dport == 53 ? skb->len : load_word(skb, 1000);
}

/* cgroup skb: 1 lets the packet through */
SEC("cgroup_skb/ingress")
int cg_len(struct __sk_buff *skb)
{
	return skb->len > 40;
}

struct sum_ctx {
	__u16 words[32];
	__u32 sum;
};

static int add_word(__u32 i, struct sum_ctx *c)
{
	c->sum += c->words[i & 31];
	return 0;
}

static __u64 add_value(void *map, __u32 *key, __u64 *val, struct sum_ctx *c)
{
	c->sum += *key * 1000 + (__u32)*val;
	return *key == 1;
}

/* bpf_loop over the packet's first 32 16-bit words, for_each over stats, then a tail call */
SEC("xdp")
int xdp_loops(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct sum_ctx c = {};
	if (data + 64 > end)
		return XDP_ABORTED;
	__builtin_memcpy(c.words, data, 64);
	long n = bpf_loop(32, add_word, &c, 0);
	long m = bpf_for_each_map_elem(&stats, add_value, &c, 0);
	base = c.sum + n * 100000 + m * 10000000;
	bpf_tail_call(ctx, &chain, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int xdp_tail(struct xdp_md *ctx)
{
	base += 1;
	return XDP_PASS;
}

/* raw tracepoint: the arguments */
SEC("raw_tp/sys_enter")
int raw_args(__u64 *args)
{
	return (int)(args[0] * 10 + args[1]);
}

char LICENSE[] SEC("license") = "GPL";
