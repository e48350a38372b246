// SPDX-License-Identifier: MIT
/*
 * tools/bench/vm.bpf.c: the programs of issue 14's speed targets, built with
 * clang -O2 -target bpf and run by tools/bench/vm.c with BPF_PROG_TEST_RUN
 * (repeat 1,000,000, a 64-byte IPv4 packet) on the kernel and on bpfemu:
 *   xdp_pass   (a) return XDP_PASS
 *   xdp_count  (b) parse Ethernet and IPv4, count per source address in a
 *                  hash map with an atomic add
 *   xdp_sum    (c) a 32-step loop summing the 16-bit words of the first 64
 *                  bytes (clang unrolls it into about 80 instructions)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp") int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp") int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	__u32 src = ip->saddr;
	__u64 *v = bpf_map_lookup_elem(&counts, &src);
	if (v) {
		__sync_fetch_and_add(v, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &src, &one, BPF_NOEXIST);
	}
	return XDP_PASS;
}

SEC("xdp") int xdp_sum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 64 > end)
		return XDP_DROP;
	__u16 *w = data;
	__u32 sum = 0;
	for (int i = 0; i < 32; i++)
		sum += w[i];
	return sum ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
