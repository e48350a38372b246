/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/trace_skel.bpf.c: a small libbpf program for the trace
 * and replay tests: BTF-defined maps, global data in .rodata/.data/.bss, an
 * XDP program that counts packets by their first byte, marks them and
 * returns what .rodata says. Test-run by trace_skel.c through its skeleton,
 * loaded by `bpftool prog loadall`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} pkts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} totals SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
__u64 seen;
__u32 marker = 0xabcd;

static __always_inline void count(__u32 key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(&pkts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&pkts, &key, &one, BPF_ANY);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	__u64 *t;

	if (data + 1 > end)
		return XDP_ABORTED;
	count(data[0]);
	data[0] = (unsigned char)marker;
	t = bpf_map_lookup_elem(&totals, &zero);
	if (t)
		*t += end - data;
	seen++;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
