/* SPDX-License-Identifier: MIT */
/* tests/tracing/ext_tgt.bpf.c: the program extensions replace functions of
 * (ext.sh): an XDP program calling a global function check(), a global
 * function of two arguments and a static one. */
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))
#define __noinline __attribute__((noinline))

__noinline int check(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data > 10 ? XDP_PASS : XDP_ABORTED;
}

__noinline int two(struct xdp_md *ctx, int x)
{
	return ctx ? x + 1 : 0;
}

static __noinline int quiet(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex == 12345;
}

SEC("xdp") int xdp_main(struct xdp_md *ctx)
{
	int r = check(ctx);
	return r + two(ctx, 0) - 1 + quiet(ctx);
}

char _license[] SEC("license") = "GPL";
