/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_run.c: BPF_PROG_TEST_RUN per program type, engine and
 * kernel (test_vm_run_kernel): the attr checks and their errnos in the
 * kernel's order, data_out and its size (ENOSPC with the full size written
 * back), ctx_in / ctx_out, and what the program sees of its context. The
 * expected answers were taken from Linux 6.18 (net/bpf/test_run.c).
 */
#include "insn.h"

#include <linux/if_ether.h>
#include <net/if.h>

#define XDP 6
#define TC BPF_PROG_TYPE_SCHED_CLS
#define SKF BPF_PROG_TYPE_SOCKET_FILTER
#define CGSKB BPF_PROG_TYPE_CGROUP_SKB
#define RAWTP BPF_PROG_TYPE_RAW_TRACEPOINT

static const struct bpf_insn ret2[] = { MOV64_I(0, 2), EXIT };

/* a 64-byte IPv4/UDP packet to 10.0.0.2 from 10.0.0.1, broadcast MAC */
static unsigned char pkt[64];

static void pkt_init(void)
{
	static const unsigned char hdr[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,   /* eth */
		0x45, 0x00, 0x00, 0x32, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,               /* ip */
		10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x00, 0x35, 0x00, 0x1e, 0x00, 0x00,                                        /* udp */
	};
	memcpy(pkt, hdr, sizeof(hdr));
	for (size_t i = sizeof(hdr); i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)i;
}

static void setup(void)
{
	bt_setup();
	pkt_init();
}

#define RUN_TEST(name, ...) Test(vm_run, name, .init = setup, .fini = bt_teardown, ##__VA_ARGS__)

static int load(__u32 type, const struct bpf_insn *p, __u32 n)
{
	long fd = bt_prog_load(type, 0, 0, p, n);
	cr_assert(ge(i64, fd, 0), "load type %u: %s\n%s", type, strerror((int)-fd), bt_log);
	return (int)fd;
}

static void attr_data(union bpf_attr *a, int fd, void *out, __u32 out_size)
{
	memset(a, 0, sizeof(*a));
	a->test.prog_fd = (__u32)fd;
	a->test.data_in = BT_PTR(pkt);
	a->test.data_size_in = sizeof(pkt);
	a->test.data_out = BT_PTR(out);
	a->test.data_size_out = out_size;
}

/* ---- the checks of the command itself ---- */

RUN_TEST(ctx_size_without_pointer_is_einval)
{
	int fd = load(XDP, ret2, 2);
	union bpf_attr a;
	unsigned char out[128];
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_size_in = 24;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_out = BT_PTR(out);
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
}

RUN_TEST(bad_fds_are_ebadf_and_einval)
{
	union bpf_attr a;
	unsigned char out[128];
	attr_data(&a, bt_closed_fd(), out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), -EBADF));
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	attr_data(&a, map, out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
}

RUN_TEST(type_without_test_run_is_enotsupp)
{
	struct bpf_insn p[] = { MOV64_I(0, 0), EXIT };
	long fd = bt_prog_load(BPF_PROG_TYPE_KPROBE, 0, 0, p, 2);
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	union bpf_attr a;
	unsigned char out[128];
	attr_data(&a, (int)fd, out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), -524));
}

/* ---- XDP ---- */

RUN_TEST(xdp_pass_copies_the_packet_out)
{
	int fd = load(XDP, ret2, 2);
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 2));
	cr_assert(eq(u32, r.size_out, sizeof(pkt)));
	cr_assert(eq(int, memcmp(r.out, pkt, sizeof(pkt)), 0));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1000, &r), 0));
	cr_assert(eq(u32, r.retval, 2));
}

RUN_TEST(xdp_short_data_out_is_enospc_with_the_full_size)
{
	int fd = load(XDP, ret2, 2);
	union bpf_attr a;
	unsigned char out[128];
	memset(out, 0xee, sizeof(out));
	attr_data(&a, fd, out, 10);
	cr_assert(eq(i64, bt_test_run(&a), -ENOSPC));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(pkt)));
	cr_assert(eq(u32, a.test.retval, 2));
	cr_assert(eq(int, memcmp(out, pkt, 10), 0));
	cr_assert(eq(u8, out[10], 0xee));
	/* data_size_out 0: the whole packet, as before the size hint existed */
	attr_data(&a, fd, out, 0);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(pkt)));
	/* no data_out: sizes and retval only */
	attr_data(&a, fd, NULL, 0);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(pkt)));
}

RUN_TEST(xdp_attr_checks_in_the_kernels_order)
{
	int fd = load(XDP, ret2, 2);
	union bpf_attr a;
	unsigned char out[128];
	struct xdp_md md;

	attr_data(&a, fd, out, sizeof(out));
	a.test.flags = 1;                             /* BPF_F_TEST_RUN_ON_CPU: not XDP's */
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, out, sizeof(out));
	a.test.batch_size = 4;                        /* only with live frames */
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));

	/* ctx: a tail past xdp_md must be zero (E2BIG), then the field rules */
	unsigned char big[32] = { 0 };
	big[30] = 1;
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_in = BT_PTR(big);
	a.test.ctx_size_in = sizeof(big);
	cr_assert(eq(i64, bt_test_run(&a), -E2BIG));
	struct { const char *what; struct xdp_md md; int err; } bad[] = {
		{ "data_meta", { .data_meta = 4, .data_end = sizeof(pkt) }, -EINVAL },
		{ "data_end past data_size_in", { .data_end = sizeof(pkt) + 1 }, -EINVAL },
		{ "data past data_end", { .data = 80, .data_end = sizeof(pkt) }, -EINVAL },
		{ "unaligned meta", { .data = 3, .data_end = sizeof(pkt) }, -EINVAL },
		{ "egress_ifindex", { .data_end = sizeof(pkt), .egress_ifindex = 1 }, -EINVAL },
		{ "queue without device", { .data_end = sizeof(pkt), .rx_queue_index = 1 }, -EINVAL },
		{ "no such device", { .data_end = sizeof(pkt), .ingress_ifindex = 0x7ffffff0 }, -ENODEV },
		{ "no such queue", { .data_end = sizeof(pkt), .ingress_ifindex = 1, .rx_queue_index = 4000 }, -EINVAL },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
		md = bad[i].md;
		attr_data(&a, fd, out, sizeof(out));
		a.test.ctx_in = BT_PTR(&md);
		a.test.ctx_size_in = sizeof(md);
		cr_expect(eq(i64, bt_test_run(&a), bad[i].err), "%s", bad[i].what);
	}
	/* a bad data pointer */
	attr_data(&a, fd, out, sizeof(out));
	a.test.data_in = BT_PTR(bt_unmapped_page());
	cr_assert(eq(i64, bt_test_run(&a), -EFAULT));
	/* live frames take at most 256 a batch (last: a host may refuse live
	 * frames, and its kernel side then skips here) */
	bt_need(hp_host_refuses_xdp_live);
	attr_data(&a, fd, out, sizeof(out));
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	a.test.batch_size = 257;
	cr_assert(eq(i64, bt_test_run(&a), -E2BIG));
}

RUN_TEST(xdp_md_in_and_out)
{
	/* r0 = (data - data_meta) << 16 | ingress_ifindex << 8 | rx_queue_index */
	struct bpf_insn p[] = {
		LDX(BPF_W, 2, 1, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 3, 1, offsetof(struct xdp_md, data_meta)),
		ALU64_R(BPF_SUB, 2, 3),
		ALU64_I(BPF_LSH, 2, 16),
		LDX(BPF_W, 3, 1, offsetof(struct xdp_md, ingress_ifindex)),
		ALU64_I(BPF_LSH, 3, 8),
		ALU64_R(BPF_OR, 2, 3),
		LDX(BPF_W, 3, 1, offsetof(struct xdp_md, rx_queue_index)),
		ALU64_R(BPF_OR, 2, 3),
		MOV64_R(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	union bpf_attr a;
	unsigned char out[128];
	struct xdp_md in = { .data = 8, .data_end = sizeof(pkt), .ingress_ifindex = 1 }, outmd;
	memset(&outmd, 0xaa, sizeof(outmd));
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_in = BT_PTR(&in);
	a.test.ctx_size_in = sizeof(in);
	a.test.ctx_out = BT_PTR(&outmd);
	a.test.ctx_size_out = sizeof(outmd);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 8u << 16 | 1u << 8));
	/* the first 8 bytes of data_in are the meta data; data_out starts there */
	cr_assert(eq(u32, a.test.data_size_out, sizeof(pkt)));
	cr_assert(eq(int, memcmp(out, pkt, sizeof(pkt)), 0));
	cr_assert(eq(u32, a.test.ctx_size_out, sizeof(struct xdp_md)));
	cr_assert(eq(u32, outmd.data, 8));
	cr_assert(eq(u32, outmd.data_end, sizeof(pkt)));
	cr_assert(eq(u32, outmd.data_meta, 0));
	cr_assert(eq(u32, outmd.ingress_ifindex, 1));
	/* a short ctx_out: ENOSPC, the full size written back */
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_in = BT_PTR(&in);
	a.test.ctx_size_in = sizeof(in);
	a.test.ctx_out = BT_PTR(&outmd);
	a.test.ctx_size_out = 8;
	cr_assert(eq(i64, bt_test_run(&a), -ENOSPC));
	cr_assert(eq(u32, a.test.ctx_size_out, sizeof(struct xdp_md)));
	/* without a ctx the program sees loopback's first queue */
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 1u << 8));
}

RUN_TEST(xdp_adjust_head_tail_and_meta_move_the_packet)
{
	bt_need(hp_host_refuses_xdp_meta);
	/*
	 * adjust_head(+14), adjust_tail(+4), adjust_meta(-8); meta[0..8) = pattern;
	 * r0 = 2 | the helpers' results in bits
	 */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		MOV64_I(2, 14), CALL(BPF_FUNC_xdp_adjust_head), MOV64_R(7, 0),
		MOV64_R(1, 6), MOV64_I(2, 4), CALL(BPF_FUNC_xdp_adjust_tail), ALU64_I(BPF_LSH, 0, 8), ALU64_R(BPF_OR, 7, 0),
		MOV64_R(1, 6), MOV64_I(2, -8), CALL(BPF_FUNC_xdp_adjust_meta), ALU64_I(BPF_LSH, 0, 16), ALU64_R(BPF_OR, 7, 0),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data_meta)),
		LDX(BPF_W, 3, 6, offsetof(struct xdp_md, data)),
		MOV64_R(4, 2),
		ALU64_I(BPF_ADD, 4, 8),
		JMP_R(BPF_JGT, 4, 3, 3),
		LD64(5, 0x8877665544332211ull),
		STX(BPF_DW, 2, 5, 0),
		JMP_I(BPF_JNE, 7, 0, 1),
		MOV64_I(0, 2),
		EXIT,
	};
	/* r0 on failure: whatever r0 held (a helper's result): make the failure path explicit */
	p[N_INSNS(p) - 2] = MOV64_I(0, 2);
	int fd = load(XDP, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 2));
	cr_assert(eq(u32, r.size_out, 8 + sizeof(pkt) - 14 + 4));
	cr_assert(eq(int, memcmp(r.out, "\x11\x22\x33\x44\x55\x66\x77\x88", 8), 0));
	cr_assert(eq(int, memcmp(r.out + 8, pkt + 14, sizeof(pkt) - 14), 0));
	cr_assert(eq(int, memcmp(r.out + 8 + sizeof(pkt) - 14, "\0\0\0\0", 4), 0));
}

RUN_TEST(xdp_adjust_limits_are_the_kernels)
{
	bt_need(hp_host_refuses_xdp_meta);
	/* ctx[...]: r0 = adjust_head(r1, R) for R from the packet's first byte (signed) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 3, 6, offsetof(struct xdp_md, data_end)),
		MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 8),
		MOV64_I(0, 99),
		JMP_R(BPF_JGT, 4, 3, 7),
		LDX(BPF_W, 7, 2, 0),             /* which helper */
		LDXS(BPF_W, 8, 2, 4),            /* its delta */
		MOV64_R(1, 6), MOV64_R(2, 8),
		JMP_I(BPF_JEQ, 7, 1, 3),
		JMP_I(BPF_JEQ, 7, 2, 4),
		CALL(BPF_FUNC_xdp_adjust_head), EXIT,
		CALL(BPF_FUNC_xdp_adjust_tail), EXIT,
		CALL(BPF_FUNC_xdp_adjust_meta),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	struct { __u32 which; __s32 delta; int want; } cases[] = {
		{ 0, -216, 0 }, { 0, -217, -EINVAL }, { 0, 64 - 14, 0 }, { 0, 64 - 13, -EINVAL },
		{ 1, 3520 - 64, 0 }, { 1, 3520 - 64 + 1, -EINVAL }, { 1, -(64 - 14), 0 }, { 1, -(64 - 13), -EINVAL },
		{ 2, -4, 0 }, { 2, -252, -EINVAL }, { 2, -256, -EINVAL }, { 2, -216, 0 }, { 2, -6, -EACCES }, { 2, 4, -EINVAL },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
		unsigned char d[64];
		memcpy(d, pkt, sizeof(d));
		memcpy(d, &cases[i].which, 4);
		memcpy(d + 4, &cases[i].delta, 4);
		struct bt_run r;
		cr_assert(eq(i64, bt_run_data(fd, d, sizeof(d), 1, &r), 0));
		cr_expect(eq(i32, (int)r.retval, cases[i].want), "helper %u delta %d", cases[i].which, cases[i].delta);
	}
}

RUN_TEST(xdp_data_end_below_data_size_in_makes_fragments)
{
	/* r0 = data_end - data: the linear part the program sees */
	struct bpf_insn p[] = {
		LDX(BPF_W, 0, 1, offsetof(struct xdp_md, data_end)),
		LDX(BPF_W, 2, 1, offsetof(struct xdp_md, data)),
		ALU64_R(BPF_SUB, 0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	union bpf_attr a;
	unsigned char out[128];
	struct xdp_md in = { .data_end = 20 }, outmd;
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_in = BT_PTR(&in);
	a.test.ctx_size_in = sizeof(in);
	a.test.ctx_out = BT_PTR(&outmd);
	a.test.ctx_size_out = sizeof(outmd);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 20));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(pkt)));
	cr_assert(eq(int, memcmp(out, pkt, sizeof(pkt)), 0));
	cr_assert(eq(u32, outmd.data_end, 20));
	/* less than an Ethernet header in all is EINVAL; a linear part of 0 is not */
	in.data_end = 0;
	attr_data(&a, fd, out, sizeof(out));
	a.test.ctx_in = BT_PTR(&in);
	a.test.ctx_size_in = sizeof(in);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 0));
	attr_data(&a, fd, out, sizeof(out));
	a.test.data_size_in = 13;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
}

RUN_TEST(xdp_jumbo_data_is_kept_as_fragments)
{
	int fd = load(XDP, ret2, 2);
	static unsigned char big[5000], out[6000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.data_in = BT_PTR(big);
	a.test.data_size_in = sizeof(big);
	a.test.data_out = BT_PTR(out);
	a.test.data_size_out = sizeof(out);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(big)));
	cr_assert(eq(int, memcmp(out, big, sizeof(big)), 0));
}

RUN_TEST(xdp_redirect_returns_xdp_redirect)
{
	struct bpf_insn p[] = { MOV64_I(1, 1), MOV64_I(2, 0), CALL(BPF_FUNC_redirect), EXIT };
	int fd = load(XDP, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, XDP_REDIRECT));
	p[1] = MOV64_I(2, 1);
	fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, XDP_ABORTED));
}

/* ---- skb programs ---- */

RUN_TEST(tc_sees_the_mac_header_and_gives_the_packet_back)
{
	/* r0 = len << 16 | protocol (as loaded) ; data_end - data must be len */
	struct bpf_insn p[] = {
		LDX(BPF_W, 2, 1, offsetof(struct __sk_buff, len)),
		LDX(BPF_W, 3, 1, offsetof(struct __sk_buff, data)),
		LDX(BPF_W, 4, 1, offsetof(struct __sk_buff, data_end)),
		ALU64_R(BPF_SUB, 4, 3),
		MOV64_I(0, 0),
		JMP_R(BPF_JNE, 4, 2, 4),
		ALU64_I(BPF_LSH, 2, 16),
		LDX(BPF_W, 0, 1, offsetof(struct __sk_buff, protocol)),
		ALU64_R(BPF_OR, 0, 2),
		EXIT,
		EXIT,
	};
	p[N_INSNS(p) - 1] = EXIT;
	struct bpf_insn q[N_INSNS(p) - 1];
	memcpy(q, p, sizeof(q));
	q[5] = JMP_R(BPF_JNE, 4, 2, 3);
	int fd = load(TC, q, N_INSNS(q));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 64u << 16 | 0x0008));
	cr_assert(eq(u32, r.size_out, sizeof(pkt)));
	cr_assert(eq(int, memcmp(r.out, pkt, sizeof(pkt)), 0));
}

RUN_TEST(socket_filter_starts_at_the_network_header_and_loses_the_mac)
{
	/* r0 = len << 8 | pkt_type; LD_ABS B 9 is the IP protocol (17) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_W, 7, 6, offsetof(struct __sk_buff, len)),
		ALU64_I(BPF_LSH, 7, 8),
		LDX(BPF_W, 2, 6, offsetof(struct __sk_buff, pkt_type)),
		ALU64_R(BPF_OR, 7, 2),
		ALU64_I(BPF_LSH, 7, 8),
		BI(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 9),
		ALU64_R(BPF_OR, 0, 7),
		EXIT,
	};
	int fd = load(SKF, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	/* loopback's broadcast address is zeros: ff:ff:ff:ff:ff:ff is PACKET_MULTICAST there */
	cr_assert(eq(u32, r.retval, 50u << 16 | 2u << 8 | 17));
	cr_assert(eq(u32, r.size_out, sizeof(pkt)));
	cr_assert(eq(int, memcmp(r.out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0", ETH_HLEN), 0));
	cr_assert(eq(int, memcmp(r.out + ETH_HLEN, pkt + ETH_HLEN, sizeof(pkt) - ETH_HLEN), 0));
}

RUN_TEST(ld_abs_outside_the_packet_returns_zero)
{
	/* r0 = 7; LD_ABS W at 1000: the program returns 0 there */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		BI(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 1000),
		MOV64_I(0, 7),
		EXIT,
	};
	int fd = load(SKF, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0));
	/* LD_IND and the negative offsets: the network header (SKF_NET_OFF) */
	struct bpf_insn q[] = {
		MOV64_R(6, 1),
		MOV64_I(7, 4),
		BI(BPF_LD | BPF_IND | BPF_W, 0, 7, 0, 12),             /* daddr (16) */
		MOV64_R(8, 0),
		BI(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, -0x100000 + 2),  /* tot_len */
		ALU64_R(BPF_ADD, 0, 8),
		EXIT,
	};
	fd = load(SKF, q, N_INSNS(q));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0x0a000002u + 0x32));
}

RUN_TEST(skb_ctx_in_and_out)
{
	/* mark += 1; cb[0] = len; priority stays; r0 = ingress_ifindex << 8 | ifindex */
	struct bpf_insn p[] = {
		LDX(BPF_W, 2, 1, offsetof(struct __sk_buff, mark)),
		ALU64_I(BPF_ADD, 2, 1),
		STX(BPF_W, 1, 2, offsetof(struct __sk_buff, mark)),
		LDX(BPF_W, 2, 1, offsetof(struct __sk_buff, len)),
		STX(BPF_W, 1, 2, offsetof(struct __sk_buff, cb)),
		LDX(BPF_W, 0, 1, offsetof(struct __sk_buff, ingress_ifindex)),
		ALU64_I(BPF_LSH, 0, 8),
		LDX(BPF_W, 2, 1, offsetof(struct __sk_buff, ifindex)),
		ALU64_R(BPF_OR, 0, 2),
		EXIT,
	};
	int fd = load(TC, p, N_INSNS(p));
	struct __sk_buff in, out;
	memset(&in, 0, sizeof(in));
	memset(&out, 0xaa, sizeof(out));
	in.mark = 41;
	in.priority = 7;
	in.ingress_ifindex = 5;
	in.cb[4] = 99;
	in.tstamp = 1234;
	union bpf_attr a;
	unsigned char data[128];
	attr_data(&a, fd, data, sizeof(data));
	a.test.ctx_in = BT_PTR(&in);
	a.test.ctx_size_in = sizeof(in);
	a.test.ctx_out = BT_PTR(&out);
	a.test.ctx_size_out = sizeof(out);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 5u << 8 | 1));
	cr_assert(eq(u32, a.test.ctx_size_out, sizeof(struct __sk_buff)));
	cr_assert(eq(u32, out.mark, 42));
	cr_assert(eq(u32, out.priority, 7));
	cr_assert(eq(u32, out.cb[0], 64));
	cr_assert(eq(u32, out.cb[4], 99));
	cr_assert(eq(u32, out.ifindex, 1));
	cr_assert(eq(u32, out.ingress_ifindex, 5));
	cr_assert(eq(u64, out.tstamp, 1234));
	cr_assert(eq(u32, out.wire_len, 64));
	cr_assert(eq(u32, out.len, 0));            /* not a field test_run writes back */
}

RUN_TEST(skb_attr_checks_in_the_kernels_order)
{
	int fd = load(TC, ret2, 2);
	union bpf_attr a;
	unsigned char out[128];
	attr_data(&a, fd, out, sizeof(out));
	a.test.flags = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, out, sizeof(out));
	a.test.cpu = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, out, sizeof(out));
	a.test.data_size_in = 13;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	static unsigned char big[4096];
	attr_data(&a, fd, out, sizeof(out));
	a.test.data_in = BT_PTR(big);
	a.test.data_size_in = 4096 - 64 - 320;
	cr_assert(eq(i64, bt_test_run(&a), -ENOSPC));   /* runs: data_out is short */
	a.test.data_size_in = 4096 - 64 - 320 + 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	struct { const char *what; size_t off; __u32 val; int err; } bad[] = {
		{ "len", offsetof(struct __sk_buff, len), 1, -EINVAL },
		{ "tc_index", offsetof(struct __sk_buff, tc_index), 1, -EINVAL },
		{ "no such device", offsetof(struct __sk_buff, ifindex), 0x7ffffff0, -ENODEV },
		{ "wire_len below len", offsetof(struct __sk_buff, wire_len), 10, -EINVAL },
		{ "wire_len too big", offsetof(struct __sk_buff, wire_len), 65537, -EINVAL },
		{ "gso_segs", offsetof(struct __sk_buff, gso_segs), 65536, -EINVAL },
		{ "data", offsetof(struct __sk_buff, data), 1, -EINVAL },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
		struct __sk_buff ctx;
		memset(&ctx, 0, sizeof(ctx));
		memcpy((char *)&ctx + bad[i].off, &bad[i].val, 4);
		attr_data(&a, fd, out, sizeof(out));
		a.test.ctx_in = BT_PTR(&ctx);
		a.test.ctx_size_in = sizeof(ctx);
		cr_expect(eq(i64, bt_test_run(&a), bad[i].err), "%s", bad[i].what);
	}
}

RUN_TEST(skb_load_and_store_bytes)
{
	/* load 4 bytes at 26 (saddr) to fp-4, store them at 30 (daddr); r0 = load at 62 (2 past the end) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		MOV64_I(2, 26), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -4), MOV64_I(4, 4),
		CALL(BPF_FUNC_skb_load_bytes),
		MOV64_R(1, 6), MOV64_I(2, 30), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -4), MOV64_I(4, 4), MOV64_I(5, 0),
		CALL(BPF_FUNC_skb_store_bytes),
		MOV64_R(7, 0),
		MOV64_R(1, 6), MOV64_I(2, 62), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -4), MOV64_I(4, 4),
		CALL(BPF_FUNC_skb_load_bytes),
		ALU64_I(BPF_LSH, 0, 8),
		ALU64_R(BPF_OR, 0, 7),
		EXIT,
	};
	int fd = load(TC, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, (__u32)(-EFAULT) << 8));
	cr_assert(eq(int, memcmp(r.out + 30, "\x0a\x00\x00\x01", 4), 0));
}

RUN_TEST(csum_diff_is_the_kernels)
{
	/* fp-8 = ctx bytes: csum_diff(fp-8, 4, fp-4, 4, seed) with values from the packet */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		MOV64_I(2, 26), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -8), MOV64_I(4, 8),
		CALL(BPF_FUNC_skb_load_bytes),
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, -8), MOV64_I(2, 4),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -4), MOV64_I(4, 4), MOV64_I(5, 0x1234),
		CALL(BPF_FUNC_csum_diff),
		EXIT,
	};
	int fd = load(TC, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0x1334));
	/* to only, from only, neither */
	p[8] = MOV64_I(2, 0);
	fd = load(TC, p, N_INSNS(p));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0x143e));
	p[8] = MOV64_I(2, 8);
	p[11] = MOV64_I(4, 0);
	fd = load(TC, p, N_INSNS(p));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0x0f20));
	p[8] = MOV64_I(2, 3);
	fd = load(TC, p, N_INSNS(p));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0x122a));     /* 6.18 checks no size: 3 bytes are summed */
}

RUN_TEST(tc_redirect_returns_tc_act_redirect)
{
	struct bpf_insn p[] = { MOV64_I(1, 1), MOV64_I(2, 0), CALL(BPF_FUNC_redirect), EXIT };
	int fd = load(TC, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 7));
	p[1] = MOV64_I(2, 2);
	fd = load(TC, p, N_INSNS(p));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 2));
}

RUN_TEST(cgroup_skb_runs_at_the_network_header)
{
	/* r0 = (len == 50 && family == AF_INET): a cgroup skb program returns 0 or 1 */
	struct bpf_insn p[] = {
		LDX(BPF_W, 2, 1, offsetof(struct __sk_buff, len)),
		LDX(BPF_W, 3, 1, offsetof(struct __sk_buff, family)),
		MOV64_I(0, 0),
		JMP_I(BPF_JNE, 2, 50, 2),
		JMP_I(BPF_JNE, 3, 2, 1),
		MOV64_I(0, 1),
		EXIT,
	};
	int fd = load(CGSKB, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 1));
	cr_assert(eq(int, memcmp(r.out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0", ETH_HLEN), 0));
}

/* ---- raw tracepoints and syscall programs ---- */

RUN_TEST(raw_tp_gets_its_args_and_checks_the_attr)
{
	/* r0 = args[0] + args[1] */
	struct bpf_insn p[] = {
		LDX(BPF_DW, 0, 1, 0),
		LDX(BPF_DW, 2, 1, 8),
		ALU64_R(BPF_ADD, 0, 2),
		EXIT,
	};
	int fd = load(RAWTP, p, N_INSNS(p));
	__u64 args[12] = { 40, 2 };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(args);
	a.test.ctx_size_in = 16;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 42));
	/* fewer bytes than the program reads, more than 12 args */
	a.test.ctx_size_in = 8;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.ctx_size_in = 13 * 8;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.ctx_size_in = 16;
	a.test.repeat = 2;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.repeat = 0;
	a.test.cpu = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.flags = BPF_F_TEST_RUN_ON_CPU;
	a.test.cpu = 100000;
	cr_assert(eq(i64, bt_test_run(&a), -ENXIO));
	unsigned char d[16];
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(args);
	a.test.ctx_size_in = 16;
	a.test.data_in = BT_PTR(d);
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
}

RUN_TEST(raw_tp_on_cpu_sees_that_cpu)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("one CPU");
	struct bpf_insn p[] = { CALL(BPF_FUNC_get_smp_processor_id), EXIT };
	int fd = load(RAWTP, p, N_INSNS(p));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.flags = BPF_F_TEST_RUN_ON_CPU;
	a.test.cpu = 1;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 1));
}

RUN_TEST(syscall_ctx_is_written_back_and_attr_checked)
{
	bt_kernel_needs_syscall_progs();
	/* ctx[1] = ctx[0] * 3; r0 = 5 */
	struct bpf_insn p[] = {
		LDX(BPF_DW, 2, 1, 0),
		ALU64_I(BPF_MUL, 2, 3),
		STX(BPF_DW, 1, 2, 8),
		MOV64_I(0, 5),
		EXIT,
	};
	long fd = bt_prog_load(BT_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE, p, N_INSNS(p));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	__u64 ctx[2] = { 14, 0 };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(ctx);
	a.test.ctx_size_in = sizeof(ctx);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 5));
	cr_assert(eq(u64, ctx[1], 42));
	a.test.ctx_size_in = 8;                         /* the program reads up to 16 */
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.ctx_size_in = sizeof(ctx);
	a.test.repeat = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.repeat = 0;
	a.test.flags = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.flags = 0;
	a.test.ctx_in = BT_PTR(bt_unmapped_page());
	cr_assert(eq(i64, bt_test_run(&a), -EFAULT));
}

/* ---- run-time statistics ---- */

static long fdinfo_line(int fd, const char *key, char *val, size_t len)
{
	char buf[2048];
#ifdef BPFEMU_TEST_KERNEL
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
#else
	int n = emu_fdinfo_format(fd, buf, sizeof(buf));
	if (n < 0)
		return n;
	buf[n] = '\0';
#endif
	const char *p = strstr(buf, key);
	if (!p)
		return -ENOENT;
	p += strlen(key);
	size_t k = strcspn(p, "\n");
	snprintf(val, len, "%.*s", (int)k, p);
	return 0;
}

RUN_TEST(enable_stats_counts_runs_in_info_and_fdinfo)
{
	int fd = load(XDP, ret2, 2);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	long sfd = bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a));
	cr_assert(ge(i64, sfd, 0), "%s", strerror((int)-sfd));
	a.enable_stats.type = 1;
	cr_assert(eq(i64, bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a)), -EINVAL));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 5, &r), 0));
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u64, info.run_cnt, 5));
	cr_assert(gt(u64, info.run_time_ns, 0));
	char v[64];
	cr_assert(eq(i64, fdinfo_line(fd, "run_cnt:\t", v, sizeof(v)), 0));
	cr_assert(eq(str, v, "5"));
	cr_assert(eq(i64, fdinfo_line(fd, "recursion_misses:\t", v, sizeof(v)), 0));
	cr_assert(eq(str, v, "0"));
	cr_assert(eq(i64, fdinfo_line(fd, "verified_insns:\t", v, sizeof(v)), 0));
	cr_assert(eq(str, v, "2"));
	bt_close((int)sfd);
}
