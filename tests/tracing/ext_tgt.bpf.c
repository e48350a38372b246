/* SPDX-License-Identifier: MIT */
/* tests/tracing/ext_tgt.bpf.c: the program extensions replace functions of
 * (ext.sh): an XDP program calling a global function check(), a global
 * function of two arguments, one that changes packet data and a static one. */
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))
#define __noinline __attribute__((noinline))

static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)BPF_FUNC_xdp_adjust_head;

__noinline int check(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data > 10 ? XDP_PASS : XDP_ABORTED;
}

__noinline int two(struct xdp_md *ctx, int x)
{
	return ctx ? x + 1 : 0;
}

__noinline int grow(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 0);
}

static __noinline int quiet(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex == 12345;
}

SEC("xdp") int xdp_main(struct xdp_md *ctx)
{
	int r = check(ctx);
	return r + two(ctx, 0) - 1 + quiet(ctx) + grow(ctx);
}

char _license[] SEC("license") = "GPL";
