/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_types.c: BPF_PROG_TEST_RUN of the program types beyond
 * packets in a buffer, engine and kernel (test_vm_types_kernel): flow
 * dissectors (struct bpf_flow_keys in and out, the kernel's clamping), sk_lookup
 * (the attr and ctx checks, what the program reads, SK_PASS/SK_DROP),
 * netfilter (nf_hook_state checks, the sk_buff the program reads through
 * BTF), struct_ops (bpf_dummy_ops: the state in and out), tracing (fentry,
 * fexit, fmod_ret: the bpf_fentry_test* calls and the programs attached to
 * them) and XDP live frames. Expected answers are Linux 6.18's; where this
 * host refuses a type (fentry here: EPERM) the kernel side skips with the
 * reason and the engine keeps the answers read from net/bpf/test_run.c.
 */
#include "insn.h"

#include <linux/if_ether.h>

#define XDP BPF_PROG_TYPE_XDP
#define FLOW BPF_PROG_TYPE_FLOW_DISSECTOR
#define SKL BPF_PROG_TYPE_SK_LOOKUP
#define NF 32                          /* BPF_PROG_TYPE_NETFILTER */
#define NF_ATTACH 45                   /* BPF_NETFILTER */
#define SK_LOOKUP_ATTACH 36            /* BPF_SK_LOOKUP */

static const struct bpf_insn ret0[] = { MOV64_I(0, 0), EXIT };
static const struct bpf_insn ret1[] = { MOV64_I(0, 1), EXIT };

/* a 64-byte IPv4/UDP packet from 10.0.0.1:12345 to 10.0.0.2:53 */
static unsigned char pkt[64];

static void setup(void)
{
	static const unsigned char hdr[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x32, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x00, 0x35, 0x00, 0x1e, 0x00, 0x00,
	};
	memcpy(pkt, hdr, sizeof(hdr));
	for (size_t i = sizeof(hdr); i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)i;
#ifndef BPFEMU_TEST_KERNEL
	setenv("BPFEMU_ATTACH", "inert", 1);     /* fentry links (the engine fires them on test runs) */
#endif
	bt_setup();
}

#define TYPES_TEST(name, ...) Test(vm_types, name, .init = setup, .fini = bt_teardown, ##__VA_ARGS__)

static int load(__u32 type, __u32 attach, const struct bpf_insn *p, __u32 n)
{
	long fd = bt_prog_load(type, attach, 0, p, n);
	cr_assert(ge(i64, fd, 0), "load type %u: %s\n%s", type, strerror((int)-fd), bt_log);
	return (int)fd;
}

static void attr_data(union bpf_attr *a, int fd, const void *in, __u32 in_size, void *out, __u32 out_size)
{
	memset(a, 0, sizeof(*a));
	a->test.prog_fd = (__u32)fd;
	a->test.data_in = BT_PTR(in);
	a->test.data_size_in = in_size;
	a->test.data_out = BT_PTR(out);
	a->test.data_size_out = out_size;
}

/* r0 = array[0] of map fd (value_size bytes): a program stores into it; the
 * instructions: r1 = map, key 0 on the stack, lookup; R0 the value or exit with 'fail' */
#define VALUE_OF(map, fail)                                                                        \
	LD_MAP(1, map), ST(BPF_W, 10, -4, 0), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),             \
	CALL(BPF_FUNC_map_lookup_elem), JMP_I(BPF_JNE, 0, 0, 2), MOV64_I(0, fail), EXIT

static void map_value(int map, void *v)
{
	__u32 k = 0;
	cr_assert(eq(i64, bt_lookup(map, &k, v), 0));
}

/* ---- flow dissector ---- */

TYPES_TEST(flow_dissector_default_keys)
{
	int fd = load(FLOW, 0, ret0, 2);
	unsigned char out[128];
	union bpf_attr a;
	memset(out, 0xee, sizeof(out));
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 0));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(struct bpf_flow_keys)));
	struct bpf_flow_keys want = { .nhoff = 14, .thoff = 14, .n_proto = 0x0008 };
	cr_assert(eq(int, memcmp(out, &want, sizeof(want)), 0));
	cr_assert(eq(u8, out[sizeof(want)], 0xee));
	/* repeat */
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.repeat = 100;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	/* a short data_out: ENOSPC, the full size back */
	attr_data(&a, fd, pkt, sizeof(pkt), out, 8);
	cr_assert(eq(i64, bt_test_run(&a), -ENOSPC));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(struct bpf_flow_keys)));
}

TYPES_TEST(flow_dissector_attr_checks)
{
	int fd = load(FLOW, 0, ret0, 2);
	static unsigned char big[4097];
	unsigned char out[128];
	union bpf_attr a;
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.flags = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.cpu = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.batch_size = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, pkt, 13, out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, big, 4097, out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	attr_data(&a, fd, big, 4096, out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), 0));
	attr_data(&a, fd, bt_unmapped_page(), 64, out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), -EFAULT));
	/* ctx: flags only; a tail past the struct must be zero */
	struct bpf_flow_keys k = { .nhoff = 1 };
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.ctx_in = BT_PTR(&k);
	a.test.ctx_size_in = sizeof(k);
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	unsigned char tail[sizeof(k) + 8] = { 0 };
	tail[sizeof(k) + 2] = 1;
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.ctx_in = BT_PTR(tail);
	a.test.ctx_size_in = sizeof(tail);
	cr_assert(eq(i64, bt_test_run(&a), -E2BIG));
}

TYPES_TEST(flow_dissector_flags_in_and_out)
{
	int fd = load(FLOW, 0, ret0, 2);
	unsigned char out[128];
	struct bpf_flow_keys k = { .flags = 7 }, ko;
	memset(&ko, 0xee, sizeof(ko));
	union bpf_attr a;
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.ctx_in = BT_PTR(&k);
	a.test.ctx_size_in = sizeof(k);
	a.test.ctx_out = BT_PTR(&ko);
	a.test.ctx_size_out = sizeof(ko);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.ctx_size_out, sizeof(ko)));
	cr_assert(eq(u32, ko.flags, 7));
	cr_assert(eq(u32, ko.nhoff, 0));
	cr_assert(eq(u32, ((struct bpf_flow_keys *)out)->flags, 7));
	cr_assert(eq(u32, ((struct bpf_flow_keys *)out)->nhoff, 14));
}

TYPES_TEST(flow_dissector_program_writes_keys_and_they_are_clamped)
{
	/* nhoff = 3, thoff = 1000, ip_proto = 17; r0 = data_end - data */
	struct bpf_insn p[] = {
		LDX(BPF_DW, 2, 1, offsetof(struct __sk_buff, flow_keys)),
		ST(BPF_H, 2, offsetof(struct bpf_flow_keys, nhoff), 3),
		ST(BPF_H, 2, offsetof(struct bpf_flow_keys, thoff), 1000),
		ST(BPF_B, 2, offsetof(struct bpf_flow_keys, ip_proto), 17),
		LDX(BPF_W, 3, 1, offsetof(struct __sk_buff, data)),
		LDX(BPF_W, 4, 1, offsetof(struct __sk_buff, data_end)),
		ALU64_R(BPF_SUB, 4, 3),
		MOV64_R(0, 4),
		EXIT,
	};
	int fd = load(FLOW, 0, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, sizeof(pkt)));
	const struct bpf_flow_keys *k = (const void *)r.out;
	cr_assert(eq(u32, k->nhoff, 14));
	cr_assert(eq(u32, k->thoff, sizeof(pkt)));
	cr_assert(eq(u32, k->ip_proto, 17));
	/* the packet: read through data (the ethertype, big-endian) */
	struct bpf_insn q[] = {
		LDX(BPF_W, 2, 1, offsetof(struct __sk_buff, data)),
		LDX(BPF_W, 3, 1, offsetof(struct __sk_buff, data_end)),
		MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 14),
		MOV64_I(0, 2),
		JMP_R(BPF_JGT, 4, 3, 1),
		LDX(BPF_H, 0, 2, 12),
		EXIT,
	};
	fd = load(FLOW, 0, q, N_INSNS(q));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, 0x0008));
}

TYPES_TEST(flow_dissector_load_bytes_has_no_skb_in_a_test_run)
{
	/* r0 = bpf_skb_load_bytes(ctx, 0, fp - 8, 4) (the buffer is zeroed) + the buffer */
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -8, 0x11223344),
		MOV64_I(2, 0), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -8), MOV64_I(4, 4),
		CALL(BPF_FUNC_skb_load_bytes),
		LDX(BPF_W, 2, 10, -8),
		ALU64_R(BPF_ADD, 0, 2),
		EXIT,
	};
	int fd = load(FLOW, 0, p, N_INSNS(p));
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(i32, (int)r.retval, -EFAULT));
}

/* ---- sk_lookup ---- */

static long skl_run(int fd, const void *ctx, __u32 size, void *ctx_out, __u32 *retval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(ctx);
	a.test.ctx_size_in = size;
	if (ctx_out) {
		a.test.ctx_out = BT_PTR(ctx_out);
		a.test.ctx_size_out = sizeof(struct bpf_sk_lookup);
	}
	long r = bt_test_run(&a);
	if (retval)
		*retval = a.test.retval;
	return r;
}

TYPES_TEST(sk_lookup_attr_checks)
{
	int fd = load(SKL, SK_LOOKUP_ATTACH, ret1, 2);
	struct bpf_sk_lookup c = { .family = 2, .protocol = 6, .local_port = 80 };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "no ctx");
	a.test.ctx_in = BT_PTR(&c);
	a.test.ctx_size_in = sizeof(c);
	a.test.data_in = BT_PTR(pkt);
	a.test.data_size_in = sizeof(pkt);
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "data_in");
	a.test.data_in = 0;
	a.test.data_size_in = 0;
	a.test.flags = 1;
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "flags");
	a.test.flags = 0;
	a.test.repeat = 3;
	cr_expect(eq(i64, bt_test_run(&a), 0), "repeat");
	struct { struct bpf_sk_lookup c; int err; const char *what; } bad[] = {
		{ { .family = 2, .sk = (void *)1 }, -EINVAL, "sk" },
		{ { .family = 2, .ingress_ifindex = 1 }, -EINVAL, "ingress_ifindex" },
		{ { .family = 2, .local_port = 65536 }, -ERANGE, "local_port" },
		{ { .family = 1 }, -EAFNOSUPPORT, "family" },
		{ { .family = 0x10002 }, 0, "family truncated to 16 bits" },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++)
		cr_expect(eq(i64, skl_run(fd, &bad[i].c, sizeof(bad[i].c), NULL, NULL), bad[i].err), "%s", bad[i].what);
	unsigned char tail[sizeof(c) + 8] = { 0 };
	memcpy(tail, &c, sizeof(c));
	tail[sizeof(c) + 1] = 1;
	cr_expect(eq(i64, skl_run(fd, tail, sizeof(tail), NULL, NULL), -E2BIG), "tail");
}

TYPES_TEST(sk_lookup_program_reads_the_ctx)
{
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 64, 1, 0);
	/* value[i] = the fields, 4 bytes each; returns SK_PASS, or SK_DROP when protocol is 17 */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, 1),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, family)), STX(BPF_W, 0, 2, 0),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, protocol)), STX(BPF_W, 0, 2, 4),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, remote_ip4)), STX(BPF_W, 0, 2, 8),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, remote_port)), STX(BPF_W, 0, 2, 12),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, local_ip4)), STX(BPF_W, 0, 2, 16),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, local_port)), STX(BPF_W, 0, 2, 20),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, ingress_ifindex)), STX(BPF_W, 0, 2, 24),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, remote_ip6)), STX(BPF_W, 0, 2, 28),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, local_ip6[3])), STX(BPF_W, 0, 2, 32),
		LDX(BPF_DW, 2, 6, offsetof(struct bpf_sk_lookup, sk)), STX(BPF_DW, 0, 2, 40),
		LDX(BPF_W, 2, 6, offsetof(struct bpf_sk_lookup, protocol)),
		MOV64_I(0, 1),
		JMP_I(BPF_JNE, 2, 17, 1),
		MOV64_I(0, 0),
		EXIT,
	};
	int fd = load(SKL, SK_LOOKUP_ATTACH, p, N_INSNS(p));
	struct bpf_sk_lookup c = { .family = 2, .protocol = 6, .remote_ip4 = 0x0100000a, .remote_port = 0x3930,
				   .local_ip4 = 0x0200000a, .local_port = 80 }, co;
	c.local_ip6[3] = 0x12345678;          /* not an IPv6 lookup: reads as 0 */
	__u32 retval = 99, v[16];
	memset(&co, 0xee, sizeof(co));
	cr_assert(eq(i64, skl_run(fd, &c, sizeof(c), &co, &retval), 0));
	cr_assert(eq(u32, retval, 1));
	map_value(map, v);
	cr_assert(eq(u32, v[0], 2));
	cr_assert(eq(u32, v[1], 6));
	cr_assert(eq(u32, v[2], 0x0100000a));
	cr_assert(eq(u32, v[3], 0x3930));
	cr_assert(eq(u32, v[4], 0x0200000a));
	cr_assert(eq(u32, v[5], 80));
	cr_assert(eq(u32, v[6], 0));
	cr_assert(eq(u32, v[7], 0));
	cr_assert(eq(u32, v[8], 0));
	cr_assert(eq(u32, v[10], 0));
	cr_assert(eq(u32, v[11], 0));
	/* ctx_out: the ctx as given, the cookie 0 */
	c.cookie = 0;
	cr_assert(eq(int, memcmp(&co, &c, sizeof(c)), 0));
	/* IPv6: the v6 addresses, v4 ones read as 0; UDP: SK_DROP */
	struct bpf_sk_lookup c6 = { .family = 10, .protocol = 17, .remote_ip4 = 7, .local_port = 53 };
	c6.remote_ip6[0] = 0x20010db8;
	c6.local_ip6[3] = 0x01000000;
	cr_assert(eq(i64, skl_run(fd, &c6, sizeof(c6), NULL, &retval), 0));
	cr_assert(eq(u32, retval, 0));
	map_value(map, v);
	cr_assert(eq(u32, v[0], 10));
	cr_assert(eq(u32, v[2], 0));
	cr_assert(eq(u32, v[7], 0x20010db8));
	cr_assert(eq(u32, v[8], 0x01000000));
}

TYPES_TEST(sk_lookup_assign_null)
{
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	/* value = sk_assign(ctx, NULL, 0) << 32 | (u32)sk_assign(ctx, NULL, 4) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, 1),
		MOV64_R(7, 0),
		MOV64_R(1, 6), MOV64_I(2, 0), MOV64_I(3, 0), CALL(BPF_FUNC_sk_assign),
		STX(BPF_W, 7, 0, 4),
		MOV64_R(1, 6), MOV64_I(2, 0), MOV64_I(3, 4), CALL(BPF_FUNC_sk_assign),
		STX(BPF_W, 7, 0, 0),
		MOV64_I(0, 1),
		EXIT,
	};
	int fd = load(SKL, SK_LOOKUP_ATTACH, p, N_INSNS(p));
	struct bpf_sk_lookup c = { .family = 2, .protocol = 6, .local_port = 80 };
	__u32 retval, v[2];
	cr_assert(eq(i64, skl_run(fd, &c, sizeof(c), NULL, &retval), 0));
	cr_assert(eq(u32, retval, 1));
	map_value(map, v);
	cr_assert(eq(i32, (int)v[1], 0));
	cr_assert(eq(i32, (int)v[0], -EINVAL));
}

/* ---- netfilter ---- */

struct nf_state_user {            /* struct nf_hook_state, Linux 6.18 x86-64 */
	__u8 hook, pf;
	__u64 in, out, sk, net, okfn;
};

static void nf_needs(void)
{
#ifdef BPFEMU_TEST_KERNEL
	long fd = bt_prog_load(NF, NF_ATTACH, 0, ret1, 2);
	if (fd < 0)
		bt_skip("the host kernel refuses netfilter programs: %s", strerror((int)-fd));
	close((int)fd);
#endif
	if (bt_kbtf_member_off("nf_hook_state", "okfn") != offsetof(struct nf_state_user, okfn))
		bt_skip("this kernel's struct nf_hook_state is not Linux 6.18's");
}

TYPES_TEST(netfilter_attr_checks)
{
	nf_needs();
	int fd = load(NF, NF_ATTACH, ret1, 2);
	static unsigned char big[4000];
	unsigned char out[64];
	union bpf_attr a;
	memset(out, 0xee, sizeof(out));
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 1));
	cr_assert(eq(u32, a.test.data_size_out, 0));
	cr_assert(eq(u8, out[0], 0xee));
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.flags = 1;
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "flags");
	attr_data(&a, fd, pkt, 19, out, sizeof(out));
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "19 bytes");
	attr_data(&a, fd, pkt, 20, out, sizeof(out));
	cr_expect(eq(i64, bt_test_run(&a), 0), "20 bytes");
	attr_data(&a, fd, big, 3712, out, sizeof(out));
	cr_expect(eq(i64, bt_test_run(&a), 0), "3712 bytes");
	attr_data(&a, fd, big, 3713, out, sizeof(out));
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "3713 bytes");
	struct { struct nf_state_user st; __u32 size; int err; const char *what; } cases[] = {
		{ { .hook = 3, .pf = 2, .in = 1 }, 64, -EINVAL, "in" },
		{ { .hook = 3, .pf = 2, .okfn = 1 }, 64, -EINVAL, "okfn" },
		{ { .hook = 3, .pf = 7 }, 64, -EINVAL, "pf" },
		{ { .hook = 0, .pf = 2 }, 33, -EINVAL, "pre-routing, 33 bytes" },
		{ { .hook = 0, .pf = 2 }, 64, 0, "pre-routing, IPv4" },
		{ { .hook = 0, .pf = 10 }, 64, -EINVAL, "pre-routing, IPv4 packet, IPv6 hook" },
		{ { .hook = 3, .pf = 10 }, 64, 0, "local out, IPv6" },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
		attr_data(&a, fd, pkt, cases[i].size, out, sizeof(out));
		a.test.ctx_in = BT_PTR(&cases[i].st);
		a.test.ctx_size_in = sizeof(cases[i].st);
		cr_expect(eq(i64, bt_test_run(&a), cases[i].err), "%s", cases[i].what);
	}
	/* an ARP frame before the routing decision: EPROTO */
	unsigned char arp[64];
	memcpy(arp, pkt, sizeof(arp));
	arp[12] = 0x08;
	arp[13] = 0x06;
	struct nf_state_user st = { .hook = 0, .pf = 2 };
	attr_data(&a, fd, arp, sizeof(arp), out, sizeof(out));
	a.test.ctx_in = BT_PTR(&st);
	a.test.ctx_size_in = sizeof(st);
	cr_expect(eq(i64, bt_test_run(&a), -EPROTO), "arp");
}

TYPES_TEST(netfilter_program_reads_the_skb_and_the_hook_state)
{
	nf_needs();
	long len_off = bt_kbtf_member_off("sk_buff", "len"), proto_off = bt_kbtf_member_off("sk_buff", "protocol");
	long data_off = bt_kbtf_member_off("sk_buff", "data"), dev_off = bt_kbtf_member_off("sk_buff", "dev");
	long ifx_off = bt_kbtf_member_off("net_device", "ifindex");
	cr_assert(ge(i64, len_off, 0));
	cr_assert(ge(i64, proto_off, 0));
	cr_assert(ge(i64, data_off, 0));
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 32, 1, 0);
	/* value = { state->hook, state->pf, skb->len, skb->protocol, skb->dev ? skb->dev->ifindex : 99 } */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, 1),
		MOV64_R(9, 0),
		LDX(BPF_DW, 7, 6, 0),                             /* state */
		LDX(BPF_DW, 8, 6, 8),                             /* skb */
		LDX(BPF_B, 2, 7, 0), STX(BPF_W, 9, 2, 0),
		LDX(BPF_B, 2, 7, 1), STX(BPF_W, 9, 2, 4),
		LDX(BPF_W, 2, 8, (__s16)len_off), STX(BPF_W, 9, 2, 8),
		LDX(BPF_H, 2, 8, (__s16)proto_off), STX(BPF_W, 9, 2, 12),
		LDX(BPF_DW, 2, 8, (__s16)dev_off),
		MOV64_I(3, 99),
		JMP_I(BPF_JEQ, 2, 0, 1),
		LDX(BPF_W, 3, 2, (__s16)ifx_off),
		STX(BPF_W, 9, 3, 16),
		MOV64_I(0, 1),
		EXIT,
	};
	int fd = load(NF, NF_ATTACH, p, N_INSNS(p));
	union bpf_attr a;
	__u32 v[8];
	attr_data(&a, fd, pkt, sizeof(pkt), NULL, 0);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 1));
	map_value(map, v);
	cr_assert(eq(u32, v[0], 3));                     /* NF_INET_LOCAL_OUT */
	cr_assert(eq(u32, v[1], 2));                     /* NFPROTO_IPV4 */
	cr_assert(eq(u32, v[2], sizeof(pkt)));
	cr_assert(eq(u32, v[3], 0x0008));
	cr_assert(eq(u32, v[4], 99));                    /* no device on the way out */
	struct nf_state_user st = { .hook = 1, .pf = 2 };
	attr_data(&a, fd, pkt, sizeof(pkt), NULL, 0);
	a.test.ctx_in = BT_PTR(&st);
	a.test.ctx_size_in = sizeof(st);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	map_value(map, v);
	cr_assert(eq(u32, v[0], 1));                     /* NF_INET_LOCAL_IN */
	cr_assert(eq(u32, v[2], sizeof(pkt) - 14));      /* eth_type_trans() pulled the MAC header */
	cr_assert(eq(u32, v[3], 0x0008));
	cr_assert(eq(u32, v[4], 1));                     /* loopback */
}

/* ---- struct_ops: bpf_dummy_ops ---- */

static int dummy_load(__u32 member, const struct bpf_insn *p, __u32 n)
{
	__u32 id = bt_kbtf_id("bpf_dummy_ops", BTF_KIND_STRUCT);
	if (!id)
		bt_skip("no bpf_dummy_ops in this kernel's BTF");
	long fd = bt_prog_load_btf(BPF_PROG_TYPE_STRUCT_OPS, member, id, p, n);
#ifdef BPFEMU_TEST_KERNEL
	if (fd == -EPERM || fd == -EOPNOTSUPP)
		bt_skip("the host kernel refuses struct_ops programs: %s", strerror((int)-fd));
#endif
	cr_assert(ge(i64, fd, 0), "load bpf_dummy_ops member %u: %s\n%s", member, strerror((int)-fd), bt_log);
	return (int)fd;
}

TYPES_TEST(struct_ops_dummy_state_in_and_out)
{
	/* test_1(state): r0 = state ? state->val + 1 : 100, state->val *= 2 */
	struct bpf_insn p[] = {
		LDX(BPF_DW, 2, 1, 0),
		MOV64_I(0, 100),
		JMP_I(BPF_JEQ, 2, 0, 5),
		LDX(BPF_W, 3, 2, 0),
		MOV64_R(0, 3), ALU64_I(BPF_ADD, 0, 1),
		ALU64_I(BPF_LSH, 3, 1),
		STX(BPF_W, 2, 3, 0),
		EXIT,
	};
	int fd = dummy_load(0, p, N_INSNS(p));
	int state = 5;
	__u64 args[1] = { BT_PTR(&state) };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(args);
	a.test.ctx_size_in = sizeof(args);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 6));
	cr_assert(eq(i32, state, 10));
	args[0] = 0;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 100));
	/* the argument count is test_1's: 1 */
	a.test.ctx_size_in = 16;
	__u64 two[2] = { 0, 0 };
	a.test.ctx_in = BT_PTR(two);
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.ctx_size_in = 0;
	a.test.ctx_in = 0;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	/* a state pointer that is not mapped */
	args[0] = BT_PTR(bt_unmapped_page());
	a.test.ctx_in = BT_PTR(args);
	a.test.ctx_size_in = sizeof(args);
	cr_assert(eq(i64, bt_test_run(&a), -EFAULT));
}

TYPES_TEST(struct_ops_dummy_test_2_gets_five_arguments)
{
	/* test_2(state, a1, a2, a3, a4): r0 = a1 + a2 + a3 + a4 */
	struct bpf_insn p[] = {
		LDX(BPF_DW, 0, 1, 8), LDX(BPF_DW, 2, 1, 16), ALU64_R(BPF_ADD, 0, 2),
		LDX(BPF_DW, 2, 1, 24), ALU64_R(BPF_ADD, 0, 2), LDX(BPF_DW, 2, 1, 32), ALU64_R(BPF_ADD, 0, 2),
		EXIT,
	};
	int fd = dummy_load(1, p, N_INSNS(p));
	int state = 1;
	__u64 args[5] = { BT_PTR(&state), 1, 20, 300, 4000 };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(args);
	a.test.ctx_size_in = sizeof(args);
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 4321));
	/* test_2's state is not __nullable (test_1's is): NULL is EINVAL */
	args[0] = 0;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	args[0] = BT_PTR(&state);
	a.test.ctx_size_in = 8;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
}

/* ---- tracing: fentry, fexit, fmod_ret ---- */

static long tracing_load(__u32 attach, const char *fn, const struct bpf_insn *p, __u32 n)
{
	__u32 id = bt_kbtf_id(fn, BTF_KIND_FUNC);
	if (!id)
		bt_skip("no %s in this kernel's BTF", fn);
	long fd = bt_prog_load_btf(BPF_PROG_TYPE_TRACING, attach, id, p, n);
#ifdef BPFEMU_TEST_KERNEL
	if (fd == -EPERM || fd == -EOPNOTSUPP || fd == -524)
		bt_skip("the host kernel refuses tracing programs of attach type %u: %s", attach, strerror((int)-fd));
#endif
	cr_assert(ge(i64, fd, 0), "load tracing %u on %s: %s\n%s", attach, fn, strerror((int)-fd), bt_log);
	return fd;
}

static int attach(int prog, __u32 type)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)prog;
	a.link_create.attach_type = type;
	long fd = bt_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "link_create: %s", strerror((int)-fd));
	return (int)fd;
}

static long trace_run(int fd, __u32 *retval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	long r = bt_test_run(&a);
	*retval = a.test.retval;
	return r;
}

TYPES_TEST(tracing_unattached_runs_the_functions)
{
	int fe = (int)tracing_load(BPF_TRACE_FENTRY, "bpf_fentry_test1", ret0, 2);
	__u32 retval = 99;
	cr_assert(eq(i64, trace_run(fe, &retval), 0));
	cr_assert(eq(u32, retval, 0));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fe;
	a.test.flags = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	a.test.flags = 0;
	a.test.cpu = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
	/* bpf_modify_return_test(1, &b) + bpf_modify_return_test2(1, &b, 3, 4, 5, 6, 7) = 4 + 29, both changed b */
	int fm = (int)tracing_load(BPF_MODIFY_RETURN, "bpf_modify_return_test", ret0, 2);
	cr_assert(eq(i64, trace_run(fm, &retval), 0));
	cr_assert(eq(u32, retval, 2u << 16 | 33));
}

TYPES_TEST(tracing_tp_btf_has_no_test_run_functions)
{
	__u32 id = bt_kbtf_id("btf_trace_sys_enter", BTF_KIND_TYPEDEF);
	if (!id)
		bt_skip("no btf_trace_sys_enter in this kernel's BTF");
	long fd = bt_prog_load_btf(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id, ret0, 2);
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	__u32 retval;
	cr_assert(eq(i64, trace_run((int)fd, &retval), -EFAULT));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.flags = 1;
	cr_assert(eq(i64, bt_test_run(&a), -EINVAL));
}

TYPES_TEST(tracing_attached_programs_run_on_the_test_functions)
{
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 32, 1, 0);
	/* fentry/bpf_fentry_test1: v[0] += 1, v[1] = arg 0 */
	struct bpf_insn en[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, 0),
		MOV64_I(2, 1), ATOMIC(BPF_DW, BPF_ADD, 0, 2, 0),
		LDX(BPF_DW, 2, 6, 0), STX(BPF_DW, 0, 2, 8),
		MOV64_I(0, 0),
		EXIT,
	};
	/* fexit/bpf_fentry_test2: v[2] = arg 1 << 32 | the return value */
	struct bpf_insn ex[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, 0),
		LDX(BPF_DW, 2, 6, 8), ALU64_I(BPF_LSH, 2, 32), LDX(BPF_DW, 3, 6, 16), ALU64_R(BPF_OR, 2, 3),
		STX(BPF_DW, 0, 2, 16),
		MOV64_I(0, 0),
		EXIT,
	};
	/* fentry/bpf_fentry_test9(u32 *a): v[3] = a ? 77 : 0. A pointer to an int is a scalar to the
	 * verifier (btf_ctx_access: is_void_or_int_ptr), so *a does not load (tests/unit/test_prog.c,
	 * load_tracing_int_pointer_argument_is_a_scalar); bpf_probe_read_kernel would read it */
	struct bpf_insn e9[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, 0),
		LDX(BPF_DW, 2, 6, 0), MOV64_I(3, 77), JMP_I(BPF_JNE, 2, 0, 1), MOV64_I(3, 0),
		STX(BPF_DW, 0, 3, 24),
		MOV64_I(0, 0),
		EXIT,
	};
	int pe = (int)tracing_load(BPF_TRACE_FENTRY, "bpf_fentry_test1", en, N_INSNS(en));
	int px = (int)tracing_load(BPF_TRACE_FEXIT, "bpf_fentry_test2", ex, N_INSNS(ex));
	int p9 = (int)tracing_load(BPF_TRACE_FENTRY, "bpf_fentry_test9", e9, N_INSNS(e9));
	int le = attach(pe, BPF_TRACE_FENTRY), lx = attach(px, BPF_TRACE_FEXIT), l9 = attach(p9, BPF_TRACE_FENTRY);
	__u32 retval = 99;
	/* the program whose fd is given only picks the functions (here: not attached itself) */
	int other = (int)tracing_load(BPF_TRACE_FEXIT, "bpf_fentry_test3", ret0, 2);
	cr_assert(eq(i64, trace_run(other, &retval), 0));
	cr_assert(eq(u32, retval, 0));
	cr_assert(eq(i64, trace_run(pe, &retval), 0));
	__u64 v[4];
	map_value(map, v);
	cr_assert(eq(u64, v[0], 2));
	cr_assert(eq(u64, v[1], 1));
	cr_assert(eq(u64, v[2], 3ull << 32 | 5));
	cr_assert(eq(u64, v[3], 77));
	/* detached: nothing runs */
	bt_close(le);
	bt_close(lx);
	bt_close(l9);
	cr_assert(eq(i64, trace_run(pe, &retval), 0));
	map_value(map, v);
	cr_assert(eq(u64, v[0], 2));
}

TYPES_TEST(tracing_fmod_ret_changes_what_the_function_returns)
{
	/* fmod_ret/bpf_modify_return_test: return 7 (the function is skipped) */
	struct bpf_insn p[] = { MOV64_I(0, 7), EXIT };
	int fm = (int)tracing_load(BPF_MODIFY_RETURN, "bpf_modify_return_test", p, 2);
	int l = attach(fm, BPF_MODIFY_RETURN);
	__u32 retval;
	cr_assert(eq(i64, trace_run(fm, &retval), 0));
	cr_assert(eq(u32, retval, 1u << 16 | (7 + 29)));
	bt_close(l);
	/* fmod_ret/bpf_fentry_test1 returning 3: the fentry test run sees a wrong result */
	struct bpf_insn q[] = { MOV64_I(0, 3), EXIT };
	int f1 = (int)tracing_load(BPF_MODIFY_RETURN, "bpf_fentry_test1", q, 2);
	l = attach(f1, BPF_MODIFY_RETURN);
	int fe = (int)tracing_load(BPF_TRACE_FENTRY, "bpf_fentry_test1", ret0, 2);
	cr_assert(eq(i64, trace_run(fe, &retval), -EFAULT));
	bt_close(l);
	cr_assert(eq(i64, trace_run(fe, &retval), 0));
}

/* ---- XDP live frames ---- */

TYPES_TEST(xdp_live_frames_run_each_frame_afresh)
{
	bt_need(hp_host_refuses_xdp_live);
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0);
	/* v[0] += 1; v[1] += data[0]; data[0] = 0xab; return XDP_DROP */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		VALUE_OF(map, XDP_ABORTED),
		MOV64_R(7, 0),
		MOV64_I(2, 1), ATOMIC(BPF_DW, BPF_ADD, 7, 2, 0),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 3, 6, offsetof(struct xdp_md, data_end)),
		MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 1),
		MOV64_I(0, XDP_ABORTED),
		JMP_R(BPF_JGT, 4, 3, 4),
		LDX(BPF_B, 4, 2, 0),
		ATOMIC(BPF_DW, BPF_ADD, 7, 4, 8),
		ST(BPF_B, 2, 0, 0xab),
		MOV64_I(0, XDP_DROP),
		EXIT,
	};
	int fd = load(XDP, 0, p, N_INSNS(p));
	unsigned char in[64], out[128];
	memcpy(in, pkt, sizeof(in));
	in[0] = 3;
	union bpf_attr a;
	memset(out, 0xee, sizeof(out));
	attr_data(&a, fd, in, sizeof(in), out, sizeof(out));
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	a.test.repeat = 5;
	a.test.retval = 99;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 0));
	cr_assert(eq(u32, a.test.data_size_out, sizeof(in)));
	cr_assert(eq(int, memcmp(out, in, sizeof(in)), 0));
	__u64 v[2];
	map_value(map, v);
	cr_assert(eq(u64, v[0], 5));
	/* each frame dropped at once comes back from the pool as it was first made (3 each time) */
	cr_assert(eq(u64, v[1], 15));
}

TYPES_TEST(xdp_live_frames_attr_checks)
{
	bt_need(hp_host_refuses_xdp_live);
	int fd = load(XDP, 0, ret1, 2);
	static unsigned char big[4000];
	unsigned char out[128];
	union bpf_attr a;
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	a.test.batch_size = 257;
	cr_expect(eq(i64, bt_test_run(&a), -E2BIG), "batch 257");
	a.test.batch_size = 256;
	cr_expect(eq(i64, bt_test_run(&a), 0), "batch 256");
	attr_data(&a, fd, big, sizeof(big), out, sizeof(out));
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "a jumbo frame");
	/* 4096 - (256 + the page head: 112) - 320 */
	attr_data(&a, fd, big, 3408, NULL, 0);
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	cr_expect(eq(i64, bt_test_run(&a), 0), "3408 bytes");
	attr_data(&a, fd, big, 3409, NULL, 0);
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "3409 bytes");
	struct xdp_md md = { .data_end = sizeof(pkt) };
	attr_data(&a, fd, pkt, sizeof(pkt), out, sizeof(out));
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	a.test.ctx_in = BT_PTR(&md);
	a.test.ctx_size_in = sizeof(md);
	cr_expect(eq(i64, bt_test_run(&a), -EINVAL), "ctx with data_out");
	attr_data(&a, fd, pkt, sizeof(pkt), NULL, 0);
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	a.test.ctx_in = BT_PTR(&md);
	a.test.ctx_size_in = sizeof(md);
	cr_expect(eq(i64, bt_test_run(&a), 0), "ctx without data_out");
}

/* ---- syscall programs: bpf_sys_bpf ---- */

TYPES_TEST(syscall_program_creates_and_updates_a_map_through_sys_bpf)
{
	bt_kernel_needs_syscall_progs();
	/* attr for MAP_CREATE at fp-48 (24 bytes used), update attr at fp-88, key at fp-96, value at fp-104 */
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -48, 0), ST(BPF_DW, 10, -40, 0), ST(BPF_DW, 10, -32, 0),
		ST(BPF_W, 10, -48, BPF_MAP_TYPE_ARRAY), ST(BPF_W, 10, -44, 4), ST(BPF_W, 10, -40, 8),
		ST(BPF_W, 10, -36, 1),
		MOV64_I(1, BPF_MAP_CREATE), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -48), MOV64_I(3, 24),
		CALL(BPF_FUNC_sys_bpf),
		MOV64_R(6, 0),
		JMP_I(BPF_JSLT, 0, 0, 20),
		ST(BPF_W, 10, -96, 0),
		ST(BPF_DW, 10, -104, 0x1234567),
		ST(BPF_DW, 10, -88, 0), ST(BPF_DW, 10, -80, 0), ST(BPF_DW, 10, -72, 0), ST(BPF_DW, 10, -64, 0),
		STX(BPF_W, 10, 6, -88),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -96), STX(BPF_DW, 10, 2, -80),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -104), STX(BPF_DW, 10, 2, -72),
		MOV64_I(1, BPF_MAP_UPDATE_ELEM), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -88), MOV64_I(3, 32),
		CALL(BPF_FUNC_sys_bpf),
		JMP_I(BPF_JEQ, 0, 0, 1),
		MOV64_R(6, 0),
		MOV64_R(0, 6),
		EXIT,
	};
	int fd = bt_prog_new(BT_PROG_TYPE_SYSCALL, p, N_INSNS(p));
	__u32 retval;
	int expect = bt_closed_fd();
	cr_assert(eq(i64, bt_run_ctx(fd, NULL, 0, &retval), 0));
	int map = (int)retval;
	/* the lowest free fd of the calling process, as the kernel gives it */
	cr_assert(eq(i32, map, expect), "sys_bpf(MAP_CREATE) gave %d", map);
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(map, &k, &v), 0));
	cr_assert(eq(u64, v, 0x1234567));
	/* commands outside bpf_sys_bpf's list: -EINVAL */
	struct bpf_insn q[] = {
		ST(BPF_DW, 10, -8, 0),
		MOV64_I(1, BPF_MAP_GET_NEXT_KEY), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 8),
		CALL(BPF_FUNC_sys_bpf),
		EXIT,
	};
	int fq = bt_prog_new(BT_PROG_TYPE_SYSCALL, q, N_INSNS(q));
	cr_assert(eq(i64, bt_run_ctx(fq, NULL, 0, &retval), 0));
	cr_assert(eq(i32, (int)retval, -EINVAL));
}

#ifndef BPFEMU_TEST_KERNEL
/* engine only: the kernel would read a kernel address (an oops), the engine answers EFAULT */
TYPES_TEST(sys_bpf_pointers_outside_the_program_are_efault)
{
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -32, 0), ST(BPF_DW, 10, -24, 0), ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -8, 0),
		ST(BPF_W, 10, -32, map),
		LD64(2, 0x1000), STX(BPF_DW, 10, 2, -24),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), STX(BPF_DW, 10, 2, -16),
		MOV64_I(1, BPF_MAP_UPDATE_ELEM), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -32), MOV64_I(3, 32),
		CALL(BPF_FUNC_sys_bpf),
		EXIT,
	};
	int fd = bt_prog_new(BT_PROG_TYPE_SYSCALL, p, N_INSNS(p));
	__u32 retval;
	cr_assert(eq(i64, bt_run_ctx(fd, NULL, 0, &retval), 0));
	cr_assert(eq(i32, (int)retval, -EFAULT));
}
#endif

/* ---- bpf_fib_lookup: the kernel's checks; forwarding off answers FWD_DISABLED ---- */

static int fib_prog(__u8 family, __u32 ifindex, __u32 dst0, __s32 plen, __u32 flags)
{
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -64, 0), ST(BPF_DW, 10, -56, 0), ST(BPF_DW, 10, -48, 0), ST(BPF_DW, 10, -40, 0),
		ST(BPF_DW, 10, -32, 0), ST(BPF_DW, 10, -24, 0), ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -8, 0),
		ST(BPF_B, 10, -64 + (__s16)offsetof(struct bpf_fib_lookup, family), family),
		ST(BPF_W, 10, -64 + (__s16)offsetof(struct bpf_fib_lookup, ifindex), (__s32)ifindex),
		ST(BPF_W, 10, -64 + (__s16)offsetof(struct bpf_fib_lookup, ipv6_dst), (__s32)dst0),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -64), MOV64_I(3, plen), MOV64_I(4, (__s32)flags),
		CALL(BPF_FUNC_fib_lookup),
		EXIT,
	};
	return load(XDP, 0, p, N_INSNS(p));
}

static int host_forwards(const char *path)
{
	FILE *f = fopen(path, "r");
	int c = f ? fgetc(f) : '0';
	if (f)
		fclose(f);
	return c != '0';
}

TYPES_TEST(fib_lookup_checks_and_forwarding_disabled)
{
	if (host_forwards("/proc/sys/net/ipv4/conf/lo/forwarding") || host_forwards("/proc/sys/net/ipv6/conf/lo/forwarding"))
		bt_skip("this host forwards on lo: the answer is its routing table's (not emulated)");
	struct { __u8 family; __u32 ifindex, dst0; __s32 plen; __u32 flags; int want; const char *what; } c[] = {
		{ 2, 1, 0x0200000a, 64, 0, BPF_FIB_LKUP_RET_FWD_DISABLED, "IPv4 on lo" },
		{ 2, 1, 0x0200000a, 64, BPF_FIB_LOOKUP_OUTPUT, BPF_FIB_LKUP_RET_FWD_DISABLED, "IPv4 output on lo" },
		{ 10, 1, 0x0db80120, 64, 0, BPF_FIB_LKUP_RET_FWD_DISABLED, "IPv6 on lo" },
		{ 10, 1, 0x000080fe, 64, 0, BPF_FIB_LKUP_RET_NOT_FWDED, "IPv6 link-local" },
		{ 2, 0x7ffffff0, 0x0200000a, 64, 0, -ENODEV, "no device" },
		{ 7, 1, 0, 64, 0, -EAFNOSUPPORT, "family" },
		{ 2, 1, 0, 63, 0, -EINVAL, "plen" },
		{ 2, 1, 0, 64, 1u << 7, -EINVAL, "flags" },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(c); i++) {
		int fd = fib_prog(c[i].family, c[i].ifindex, c[i].dst0, c[i].plen, c[i].flags);
		struct bt_run r;
		cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
		cr_expect(eq(i32, (int)r.retval, c[i].want), "%s", c[i].what);
		bt_close(fd);
	}
}

/* ---- statistics: a test run leaves no descriptor behind ---- */

TYPES_TEST(test_runs_with_statistics_leave_the_fd_table_as_the_kernel)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	long s = bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a));
	cr_assert(ge(i64, s, 0), "%s", strerror((int)-s));
	int fd = load(XDP, 0, ret1, 2);
	struct bt_run r;
	/* statistics on (the fd open): run, then the next object takes the lowest free number */
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 3, &r), 0));
	int want = bt_closed_fd();
	int m = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	cr_assert(eq(i32, m, want));
	bt_close(m);
	/* statistics off again (the state root has its statistics file now) */
	bt_close((int)s);
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 3, &r), 0));
	want = bt_closed_fd();
	m = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	cr_assert(eq(i32, m, want));
	cr_assert(eq(i32, (int)s, want), "the statistics fd's number is free again");
}

TYPES_TEST(struct_ops_other_than_bpf_dummy_ops_have_no_test_run)
{
	__u32 id = bt_kbtf_id("tcp_congestion_ops", BTF_KIND_STRUCT);
	if (!id)
		bt_skip("no tcp_congestion_ops in this kernel's BTF");
	/* ssthresh(sk): member 0 */
	long fd = bt_prog_load_btf(BPF_PROG_TYPE_STRUCT_OPS, 0, id, ret1, 2);
#ifdef BPFEMU_TEST_KERNEL
	if (fd == -EPERM || fd == -EOPNOTSUPP)
		bt_skip("the host kernel refuses struct_ops programs: %s", strerror((int)-fd));
#endif
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	__u64 args[1] = { 0 };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(args);
	a.test.ctx_size_in = sizeof(args);
	cr_assert(eq(i64, bt_test_run(&a), -EOPNOTSUPP));
}
