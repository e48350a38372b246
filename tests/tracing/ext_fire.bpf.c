/* SPDX-License-Identifier: MIT */
/* tests/tracing/ext_fire.bpf.c: a raw tracepoint program whose global
 * function pick() an extension replaces while `bpfemu fire` runs it (ext.sh). */
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))
#define __noinline __attribute__((noinline))

struct {
	int hits, last;
} out;

__noinline int pick(struct bpf_raw_tracepoint_args *ctx)
{
	return ctx->args[1] == 12345 ? 2 : 1;
}

SEC("raw_tp/sys_enter") int fire_main(struct bpf_raw_tracepoint_args *ctx)
{
	out.last = pick(ctx);
	out.hits++;
	return 0;
}

char _license[] SEC("license") = "GPL";
