/* SPDX-License-Identifier: MIT */
/* tests/tracing/ext.bpf.c: program extensions (SEC("freplace/...")) for
 * ext_tgt.bpf.c's functions (ext.sh). ext_twin loads one at a time. */
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)BPF_FUNC_xdp_adjust_head;

/* XDP_DROP where check() says XDP_PASS, and a counter in .bss */
int calls;

SEC("freplace/check") int new_check(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&calls, 1);
	return ctx->data_end - ctx->data > 10 ? XDP_DROP : XDP_ABORTED;
}

/* the same prototype again: a second extension of check() */
SEC("freplace/check") int other_check(struct xdp_md *ctx)
{
	return ctx->data ? XDP_TX : XDP_ABORTED;
}

/* one argument too many */
SEC("freplace/check") int bad_args(struct xdp_md *ctx, int x)
{
	return x + (ctx != 0);
}

/* a scalar where check() takes the context */
SEC("freplace/check") int bad_arg0(long x)
{
	return x;
}

/* for the static function and for two() */
SEC("freplace/quiet") int new_quiet(struct xdp_md *ctx)
{
	return ctx != 0;
}

SEC("freplace/two") int new_two(struct xdp_md *ctx, int x)
{
	return ctx ? x + 3 : 0;
}

char _license[] SEC("license") = "GPL";

/* the target's main function itself */
SEC("freplace/xdp_main") int new_main(struct xdp_md *ctx)
{
	return ctx->data ? XDP_TX : XDP_ABORTED;
}

/* packet data changed where check() does not change it; grow() does */
SEC("freplace/check") int check_grows(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 0) ? XDP_ABORTED : XDP_PASS;
}

SEC("freplace/grow") int new_grow(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 0) + 2;
}

/* ext_fire.bpf.c's pick(): an extension of a raw tracepoint program returns
 * 0, as the program itself must */
SEC("freplace/pick") int new_pick(struct bpf_raw_tracepoint_args *ctx)
{
	__sync_fetch_and_add(&calls, ctx->args[1] == 12345 ? 100 : 1);
	return 0;
}

SEC("freplace/pick") int new_pick_7(struct bpf_raw_tracepoint_args *ctx)
{
	return ctx->args[1] == 12345 ? 8 : 7;
}
