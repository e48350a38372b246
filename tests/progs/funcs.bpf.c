/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/funcs.bpf.c: a program that needs user functions (BPFEMU_FUNCS,
 * tests/progs/funcs_mock.c): it reads the time and a random number (helpers a
 * test wants deterministic) and calls a kfunc declared __ksym that a test run
 * cannot reach on the kernel (XDP metadata: device-bound programs only).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum xdp_rss_hash_type { XDP_RSS_TYPE_NONE = 0 };
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type) __ksym;

struct {
	__u64 now, rnd;
	__u32 hash, type;
	int ret;
} out;

SEC("xdp")
int xdp_funcs(struct xdp_md *ctx)
{
	enum xdp_rss_hash_type t = XDP_RSS_TYPE_NONE;
	__u32 h = 0;
	out.now = bpf_ktime_get_ns();
	out.rnd = bpf_get_prandom_u32();
	out.ret = bpf_xdp_metadata_rx_hash(ctx, &h, &t);
	out.hash = h;
	out.type = t;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
