/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/suite.bpf.c: the object of the suite-shaped life-cycle row
 * (bench_suite.c): 8 BTF-defined maps and 3 programs, what a test suite
 * opens, loads and destroys over and over.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
	__u32 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct pair);
	__uint(max_entries, 1024);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 128);
} pcpu_hash SEC(".maps");

struct prefix {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct prefix);
	__type(value, __u32);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} prefixes SEC(".maps");

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&stats, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("xdp")
int pass_all(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;
	struct pair p = { .a = k, .b = 1 };
	bpf_map_update_elem(&counts, &k, &p, BPF_ANY);
	return XDP_PASS;
}

SEC("tc")
int classify(struct __sk_buff *skb)
{
	__u32 k = skb->mark & 3;
	__u64 *v = bpf_map_lookup_elem(&pcpu, &k);
	if (v)
		*v += skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
