// SPDX-License-Identifier: GPL-2.0
/*
 * tests/verifier/features_bad.bpf.c: a program the verifier refuses, for the
 * kernel's whole level-1 log (features.sh): a global function whose BTF
 * prototype says it gets one u64 reads four.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__attribute__((noinline)) int global_sum(__u64 *vals, int n)
{
	int s = 0;

	if (!vals)
		return 0;
	for (int i = 0; i < 4 && i < n; i++)
		s += vals[i];
	return s;
}

SEC("kprobe/do_unlinkat")
int too_far(void *ctx)
{
	__u64 buf[4] = { 1, 2, 3, 4 };

	return global_sum(buf, bpf_get_prandom_u32() & 3);
}
