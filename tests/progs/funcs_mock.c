/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/funcs_mock.c: user functions for tests/progs/funcs.bpf.c, a
 * shared object loaded with BPFEMU_FUNCS: a clock that stands still, a fair
 * dice, and an XDP metadata kfunc with the hash a NIC would have given.
 */
#include <linux/bpf.h>

unsigned long long bpf_ktime_get_ns(void)
{
	return 1000000000ull;
}

unsigned int bpf_get_prandom_u32(void)
{
	return 4;
}

int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, unsigned int *hash, unsigned int *rss_type)
{
	*hash = 0xc0ffee00u | ctx->rx_queue_index;
	*rss_type = 3;
	return 0;
}
