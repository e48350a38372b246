/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_skb.c: the skb helpers of tc programs, engine and
 * kernel (test_vm_skb_kernel): bpf_skb_pull_data, change_head, change_tail,
 * change_proto, change_type, adjust_room, l3/l4_csum_replace, csum_update,
 * csum_level, set_hash / get_hash_recalc, vlan_push / vlan_pop. Each program
 * calls helpers, keeps their results in __sk_buff.cb (which ctx_out gives
 * back) and the test compares retval, data_out and ctx_out with Linux 6.18's.
 */
#include "insn.h"

#define TC BPF_PROG_TYPE_SCHED_CLS
#define SKB_TEST(name, ...) Test(vm_skb, name, .init = setup, .fini = bt_teardown, ##__VA_ARGS__)
#define CB(i) ((__s16)(offsetof(struct __sk_buff, cb) + 4 * (i)))
#define ENOTSUPP 524

/* a 64-byte IPv4/UDP packet from 10.0.0.1:12345 to 10.0.0.2:53, IP and UDP checksums right */
static unsigned char pkt[64];

static __u16 ip_csum(const unsigned char *h, size_t n)
{
	__u32 s = 0;
	for (size_t i = 0; i < n; i += 2)
		s += (__u32)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

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
	__u16 c = ip_csum(pkt + 14, 20);
	pkt[24] = (unsigned char)(c >> 8);
	pkt[25] = (unsigned char)c;
	/* the UDP checksum over the pseudo header and the datagram (50 - 20 = 30 bytes) */
	unsigned char ph[12 + 30];
	memcpy(ph, pkt + 26, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = 0;
	ph[11] = 30;
	memcpy(ph + 12, pkt + 34, 30);
	c = ip_csum(ph, sizeof(ph));
	pkt[40] = (unsigned char)(c >> 8);
	pkt[41] = (unsigned char)c;
	bt_setup();
}

struct res {
	long err;
	__u32 retval, size;
	unsigned char out[20000];
	struct __sk_buff ctx;
};

static void tc_run(const struct bpf_insn *p, __u32 n, const void *data, __u32 size, __u32 flags, struct res *r)
{
	long fd = bt_prog_load(TC, 0, 0, p, n);
	cr_assert(ge(i64, fd, 0), "load: %s\n%s", strerror((int)-fd), bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	memset(r, 0, sizeof(*r));
	struct __sk_buff in;
	memset(&in, 0, sizeof(in));
	a.test.prog_fd = (__u32)fd;
	a.test.data_in = BT_PTR(data);
	a.test.data_size_in = size;
	a.test.data_out = BT_PTR(r->out);
	a.test.data_size_out = sizeof(r->out);
	a.test.ctx_in = BT_PTR(&in);
	a.test.ctx_size_in = sizeof(in);
	a.test.ctx_out = BT_PTR(&r->ctx);
	a.test.ctx_size_out = sizeof(r->ctx);
	a.test.flags = flags;
	r->err = bt_test_run(&a);
	r->retval = a.test.retval;
	r->size = a.test.data_size_out;
	bt_close((int)fd);
}

#define RUN(r, ...)                                                                                        \
	do {                                                                                               \
		const struct bpf_insn p_[] = { __VA_ARGS__ };                                              \
		tc_run(p_, N_INSNS(p_), pkt, sizeof(pkt), 0, r);                                           \
		cr_assert(eq(i64, (r)->err, 0), "test run: %s", strerror((int)-(r)->err));                 \
	} while (0)

/* r1 = ctx (R6), call f, cb[i] = r0 */
#define CALL1(f, i, a2) MOV64_R(1, 6), MOV64_I(2, a2), CALL(f), STX(BPF_W, 6, 0, CB(i))
#define CALL2(f, i, a2, a3) MOV64_R(1, 6), MOV64_I(2, a2), MOV64_I(3, a3), CALL(f), STX(BPF_W, 6, 0, CB(i))
#define CALL3(f, i, a2, a3, a4)                                                                            \
	MOV64_R(1, 6), MOV64_I(2, a2), MOV64_I(3, a3), MOV64_I(4, a4), CALL(f), STX(BPF_W, 6, 0, CB(i))
#define CALL4(f, i, a2, a3, a4, a5)                                                                        \
	MOV64_R(1, 6), MOV64_I(2, a2), MOV64_I(3, a3), MOV64_I(4, a4), MOV64_I(5, a5), CALL(f),            \
	STX(BPF_W, 6, 0, CB(i))
/* cb[i] = data_end - data */
#define LEN_TO(i)                                                                                          \
	LDX(BPF_W, 2, 6, offsetof(struct __sk_buff, data)), LDX(BPF_W, 3, 6, offsetof(struct __sk_buff, data_end)), \
	ALU64_R(BPF_SUB, 3, 2), STX(BPF_W, 6, 3, CB(i))
#define FIELD_TO(f, i) LDX(BPF_W, 2, 6, offsetof(struct __sk_buff, f)), STX(BPF_W, 6, 2, CB(i))

SKB_TEST(pull_data_and_change_tail)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    CALL1(BPF_FUNC_skb_pull_data, 0, 0),
	    CALL1(BPF_FUNC_skb_pull_data, 1, 64),
	    CALL1(BPF_FUNC_skb_pull_data, 2, 65),
	    CALL2(BPF_FUNC_skb_change_tail, 3, 74, 0),
	    LEN_TO(4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -ENOMEM));
	cr_assert(eq(i32, (int)r.ctx.cb[3], 0));
	cr_assert(eq(u32, r.ctx.cb[4], 74));
	cr_assert(eq(u32, r.size, 74));
	cr_assert(eq(int, memcmp(r.out, pkt, sizeof(pkt)), 0));
	for (int i = 64; i < 74; i++)
		cr_assert(eq(u8, r.out[i], 0));
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_change_tail, 0, 20, 0),
	    CALL2(BPF_FUNC_skb_change_tail, 1, 13, 0),
	    CALL2(BPF_FUNC_skb_change_tail, 2, 30, 1),
	    CALL2(BPF_FUNC_skb_change_tail, 3, 16065, 0),
	    LEN_TO(4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], -EINVAL));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -EINVAL));
	cr_assert(eq(i32, (int)r.ctx.cb[3], -EINVAL));
	cr_assert(eq(u32, r.ctx.cb[4], 20));
	cr_assert(eq(u32, r.size, 20));
	cr_assert(eq(int, memcmp(r.out, pkt, 20), 0));
	/* up to BPF_SKB_MAX_LEN: past the test skb's tailroom */
	RUN(&r, MOV64_R(6, 1), CALL2(BPF_FUNC_skb_change_tail, 0, 16064, 0), LEN_TO(1), MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 16064));
	cr_assert(eq(u32, r.size, 16064));
	cr_assert(eq(int, memcmp(r.out, pkt, sizeof(pkt)), 0));
}

SKB_TEST(change_head)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_change_head, 0, 8, 0),
	    CALL2(BPF_FUNC_skb_change_head, 1, 8, 1),
	    CALL2(BPF_FUNC_skb_change_head, 2, 16064, 0),
	    LEN_TO(3),
	    CALL2(BPF_FUNC_skb_change_head, 4, 200, 0),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], -EINVAL));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -EINVAL));
	cr_assert(eq(u32, r.ctx.cb[3], 72));
	cr_assert(eq(i32, (int)r.ctx.cb[4], 0));
	cr_assert(eq(u32, r.size, 64 + 208));
	for (int i = 0; i < 208; i++)
		cr_assert(eq(u8, r.out[i], 0));
	cr_assert(eq(int, memcmp(r.out + 208, pkt, sizeof(pkt)), 0));
}

SKB_TEST(change_proto_and_type)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_change_proto, 0, 0xdd86, 0),
	    FIELD_TO(protocol, 1),
	    LEN_TO(2),
	    CALL2(BPF_FUNC_skb_change_proto, 3, 0xdd86, 0),
	    CALL2(BPF_FUNC_skb_change_proto, 4, 0x0008, 1),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 0xdd86));
	cr_assert(eq(u32, r.ctx.cb[2], 84));
	cr_assert(eq(i32, (int)r.ctx.cb[3], -ENOTSUPP));
	cr_assert(eq(i32, (int)r.ctx.cb[4], -EINVAL));
	cr_assert(eq(u32, r.size, 84));
	/* 20 zero bytes after the MAC header; the ethertype is the program's business */
	cr_assert(eq(int, memcmp(r.out, pkt, 14), 0));
	for (int i = 14; i < 34; i++)
		cr_assert(eq(u8, r.out[i], 0));
	cr_assert(eq(int, memcmp(r.out + 34, pkt + 14, 50), 0));
	/* and back */
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_change_proto, 0, 0xdd86, 0),
	    CALL2(BPF_FUNC_skb_change_proto, 1, 0x0008, 0),
	    FIELD_TO(protocol, 2),
	    CALL1(BPF_FUNC_skb_change_type, 3, 3),
	    FIELD_TO(pkt_type, 4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], 0));
	cr_assert(eq(u32, r.ctx.cb[2], 0x0008));
	cr_assert(eq(i32, (int)r.ctx.cb[3], 0));
	cr_assert(eq(u32, r.ctx.cb[4], 3));
	cr_assert(eq(u32, r.size, 64));
	cr_assert(eq(int, memcmp(r.out, pkt, 64), 0));
	RUN(&r, MOV64_R(6, 1), CALL1(BPF_FUNC_skb_change_type, 0, 4), FIELD_TO(pkt_type, 1), MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], -EINVAL));
	cr_assert(eq(u32, r.ctx.cb[1], 3));                 /* PACKET_OTHERHOST: not our MAC */
}

SKB_TEST(adjust_room)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    CALL3(BPF_FUNC_skb_adjust_room, 0, 8, BPF_ADJ_ROOM_NET, 0),
	    LEN_TO(1),
	    CALL3(BPF_FUNC_skb_adjust_room, 2, 8, 7, 0),
	    CALL3(BPF_FUNC_skb_adjust_room, 3, 0x1000, BPF_ADJ_ROOM_NET, 0),
	    CALL3(BPF_FUNC_skb_adjust_room, 4, 8, BPF_ADJ_ROOM_NET, 1 << 20),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 72));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -ENOTSUPP));
	cr_assert(eq(i32, (int)r.ctx.cb[3], -EFAULT));
	cr_assert(eq(i32, (int)r.ctx.cb[4], -EINVAL));
	cr_assert(eq(int, memcmp(r.out, pkt, 34), 0));
	for (int i = 34; i < 42; i++)
		cr_assert(eq(u8, r.out[i], 0));
	cr_assert(eq(int, memcmp(r.out + 42, pkt + 34, 30), 0));
	RUN(&r, MOV64_R(6, 1),
	    CALL3(BPF_FUNC_skb_adjust_room, 0, -8, BPF_ADJ_ROOM_MAC, 0),
	    CALL3(BPF_FUNC_skb_adjust_room, 1, -50, BPF_ADJ_ROOM_MAC, 0),
	    CALL3(BPF_FUNC_skb_adjust_room, 2, 8, BPF_ADJ_ROOM_MAC, 1 << 7),
	    LEN_TO(3),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], -ENOTSUPP));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -EINVAL));
	cr_assert(eq(u32, r.ctx.cb[3], 56));
	cr_assert(eq(int, memcmp(r.out, pkt, 14), 0));
	cr_assert(eq(int, memcmp(r.out + 14, pkt + 22, 42), 0));
	/* encapsulation: IPv4 in IPv6 makes the skb IPv6, and once only */
	RUN(&r, MOV64_R(6, 1),
	    CALL3(BPF_FUNC_skb_adjust_room, 0, 40, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV6),
	    FIELD_TO(protocol, 1),
	    CALL3(BPF_FUNC_skb_adjust_room, 2, 40, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV6),
	    CALL3(BPF_FUNC_skb_adjust_room, 3, 40, BPF_ADJ_ROOM_MAC,
		  BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6),
	    LEN_TO(4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 0xdd86));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -EALREADY));
	cr_assert(eq(i32, (int)r.ctx.cb[3], -EINVAL));
	cr_assert(eq(u32, r.ctx.cb[4], 104));
}

SKB_TEST(l3_and_l4_csum_replace)
{
	struct res r;
	/* TTL 64 -> 63 in the IP header: the 16-bit word 0x4011 becomes 0x3f11, then 0x3f11 back through a
	 * 4-byte replace of the addresses' first word; the UDP checksum over a new source port */
	RUN(&r, MOV64_R(6, 1),
	    ST(BPF_H, 10, -8, 0),
	    LDX(BPF_W, 2, 6, offsetof(struct __sk_buff, data)), LDX(BPF_W, 3, 6, offsetof(struct __sk_buff, data_end)),
	    MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 64), JMP_R(BPF_JGT, 4, 3, 36),
	    ST(BPF_B, 2, 22, 0x3f),
	    CALL4(BPF_FUNC_l3_csum_replace, 0, 24, 0x1140, 0x113f, 2),
	    CALL4(BPF_FUNC_l3_csum_replace, 1, 25, 0, 0, 2),
	    CALL4(BPF_FUNC_l3_csum_replace, 2, 24, 1, 2, 8),
	    CALL4(BPF_FUNC_l3_csum_replace, 3, 24, 0, 0, 1 << 4),
	    CALL4(BPF_FUNC_l4_csum_replace, 4, 40, 0x3930, 0x3a30, BPF_F_PSEUDO_HDR | 2),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], -EFAULT));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -EINVAL));
	cr_assert(eq(i32, (int)r.ctx.cb[3], -EINVAL));
	cr_assert(eq(i32, (int)r.ctx.cb[4], 0));
	cr_assert(eq(u8, r.out[22], 0x3f));
	/* the IP checksum of the changed header is right again */
	unsigned char h[20];
	memcpy(h, r.out + 14, 20);
	cr_assert(eq(u16, ip_csum(h, 20), 0));
	/* the UDP checksum changed by the port difference: 0x0100 less (the port was not written) */
	__u32 old = (__u32)(pkt[40] << 8 | pkt[41]), now = (__u32)(r.out[40] << 8 | r.out[41]);
	cr_assert(ne(u32, old, now));
	/* Linux 6.18's bytes */
	cr_assert(eq(u32, (__u32)(r.out[24] << 8 | r.out[25]), 0x67b8));
	cr_assert(eq(u32, now, 0x7cf7));
}

SKB_TEST(csum_update_and_level)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    CALL1(BPF_FUNC_csum_update, 0, 0x1234),
	    CALL1(BPF_FUNC_csum_level, 1, BPF_CSUM_LEVEL_QUERY),
	    CALL1(BPF_FUNC_csum_level, 2, BPF_CSUM_LEVEL_INC),
	    CALL1(BPF_FUNC_csum_level, 3, BPF_CSUM_LEVEL_QUERY),
	    CALL1(BPF_FUNC_csum_level, 4, 9),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], -ENOTSUPP));
	cr_assert(eq(i32, (int)r.ctx.cb[1], -EACCES));
	cr_assert(eq(i32, (int)r.ctx.cb[2], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[3], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[4], -EINVAL));
	RUN(&r, MOV64_R(6, 1),
	    CALL1(BPF_FUNC_csum_level, 0, BPF_CSUM_LEVEL_INC),
	    CALL1(BPF_FUNC_csum_level, 0, BPF_CSUM_LEVEL_INC),
	    CALL1(BPF_FUNC_csum_level, 0, BPF_CSUM_LEVEL_INC),
	    CALL1(BPF_FUNC_csum_level, 0, BPF_CSUM_LEVEL_INC),
	    CALL1(BPF_FUNC_csum_level, 0, BPF_CSUM_LEVEL_INC),
	    CALL1(BPF_FUNC_csum_level, 1, BPF_CSUM_LEVEL_QUERY),
	    CALL1(BPF_FUNC_csum_level, 2, BPF_CSUM_LEVEL_DEC),
	    CALL1(BPF_FUNC_csum_level, 2, BPF_CSUM_LEVEL_QUERY),
	    CALL1(BPF_FUNC_csum_level, 3, BPF_CSUM_LEVEL_RESET),
	    CALL1(BPF_FUNC_csum_level, 3, BPF_CSUM_LEVEL_QUERY),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[1], 3));
	cr_assert(eq(i32, (int)r.ctx.cb[2], 2));
	cr_assert(eq(i32, (int)r.ctx.cb[3], -EACCES));
	/* CHECKSUM_COMPLETE: csum_update adds to skb->csum and returns it; adding 0 keeps the run valid */
	const struct bpf_insn p[] = {
		MOV64_R(6, 1),
		CALL1(BPF_FUNC_csum_update, 0, 0),
		CALL1(BPF_FUNC_csum_level, 1, BPF_CSUM_LEVEL_INC),
		CALL1(BPF_FUNC_csum_level, 2, BPF_CSUM_LEVEL_QUERY),
		MOV64_I(0, 0), EXIT,
	};
	tc_run(p, N_INSNS(p), pkt, sizeof(pkt), BPF_F_TEST_SKB_CHECKSUM_COMPLETE, &r);
	cr_assert(eq(i64, r.err, 0));
	/* the sum of the packet from the network header, x86-64's csum_partial() */
	cr_assert(ne(u32, r.ctx.cb[0], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[1], 0));
	cr_assert(eq(i32, (int)r.ctx.cb[2], -EACCES));
	unsigned int sum0 = r.ctx.cb[0];
	/* adding to it makes the end-of-run check fail: EBADMSG */
	const struct bpf_insn q[] = { MOV64_R(6, 1), CALL1(BPF_FUNC_csum_update, 0, 0x100), MOV64_I(0, 0), EXIT };
	tc_run(q, N_INSNS(q), pkt, sizeof(pkt), BPF_F_TEST_SKB_CHECKSUM_COMPLETE, &r);
	cr_assert(eq(i64, r.err, -EBADMSG));
	cr_log_info("csum %#x", sum0);
}

SKB_TEST(csum_update_returns_the_kernels_sum)
{
	/* the exact value: x86-64's csum_partial() of the 50 bytes from the IP header */
	struct res r;
	const struct bpf_insn p[] = { MOV64_R(6, 1), CALL1(BPF_FUNC_csum_update, 0, 0), MOV64_I(0, 0), EXIT };
	tc_run(p, N_INSNS(p), pkt, sizeof(pkt), BPF_F_TEST_SKB_CHECKSUM_COMPLETE, &r);
	cr_assert(eq(i64, r.err, 0));
	cr_assert(eq(u32, r.ctx.cb[0], 0x24e7a904), "csum %#x", r.ctx.cb[0]);
}

SKB_TEST(hash_helpers)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    FIELD_TO(hash, 0),
	    CALL1(BPF_FUNC_set_hash, 1, 0x1234),
	    FIELD_TO(hash, 2),
	    CALL1(BPF_FUNC_get_hash_recalc, 3, 0),
	    CALL1(BPF_FUNC_set_hash_invalid, 4, 0),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(u32, r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 0));
	cr_assert(eq(u32, r.ctx.cb[2], 0x1234));
	cr_assert(eq(u32, r.ctx.cb[3], 0x1234));
	cr_assert(eq(u32, r.ctx.cb[4], 0));
	RUN(&r, MOV64_R(6, 1),
	    CALL1(BPF_FUNC_get_hash_recalc, 0, 0),
	    FIELD_TO(hash, 1),
	    CALL1(BPF_FUNC_set_hash_invalid, 2, 0),
	    FIELD_TO(hash, 3),
	    MOV64_I(0, 0), EXIT);
	/* the flow hash: not 0, what __sk_buff.hash reads then */
	cr_assert(ne(u32, r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], r.ctx.cb[0]));
	cr_assert(eq(u32, r.ctx.cb[3], 0));
}

SKB_TEST(vlan_push_and_pop)
{
	struct res r;
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_vlan_push, 0, 0x0081, 5),
	    FIELD_TO(vlan_present, 1), FIELD_TO(vlan_tci, 2), FIELD_TO(vlan_proto, 3), LEN_TO(4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 1));
	cr_assert(eq(u32, r.ctx.cb[2], 5));
	cr_assert(eq(u32, r.ctx.cb[3], 0x0081));
	cr_assert(eq(u32, r.ctx.cb[4], 64));
	cr_assert(eq(u32, r.size, 64));
	cr_assert(eq(int, memcmp(r.out, pkt, 64), 0));
	/* a second push moves the first tag into the packet */
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_vlan_push, 0, 0x0081, 5),
	    CALL2(BPF_FUNC_skb_vlan_push, 0, 0xa888, 7),
	    FIELD_TO(vlan_tci, 1), FIELD_TO(vlan_proto, 2), FIELD_TO(protocol, 3), LEN_TO(4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 7));
	cr_assert(eq(u32, r.ctx.cb[2], 0xa888));
	cr_assert(eq(u32, r.ctx.cb[3], 0x0081));
	cr_assert(eq(u32, r.ctx.cb[4], 68));
	cr_assert(eq(u32, r.size, 68));
	cr_assert(eq(int, memcmp(r.out, pkt, 12), 0));
	cr_assert(eq(int, memcmp(r.out + 12, "\x81\x00\x00\x05", 4), 0));
	cr_assert(eq(int, memcmp(r.out + 16, pkt + 12, 52), 0));
	/* pop: the offloaded tag goes, the one in the packet becomes the offloaded one */
	RUN(&r, MOV64_R(6, 1),
	    CALL2(BPF_FUNC_skb_vlan_push, 0, 0x0081, 5),
	    CALL2(BPF_FUNC_skb_vlan_push, 0, 0xa888, 7),
	    CALL1(BPF_FUNC_skb_vlan_pop, 0, 0),
	    FIELD_TO(vlan_tci, 1), FIELD_TO(vlan_proto, 2), FIELD_TO(protocol, 3), LEN_TO(4),
	    MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 5));
	cr_assert(eq(u32, r.ctx.cb[2], 0x0081));
	cr_assert(eq(u32, r.ctx.cb[3], 0x0008));
	cr_assert(eq(u32, r.ctx.cb[4], 64));
	cr_assert(eq(int, memcmp(r.out, pkt, 64), 0));
	/* pop without any tag: nothing happens */
	RUN(&r, MOV64_R(6, 1), CALL1(BPF_FUNC_skb_vlan_pop, 0, 0), FIELD_TO(vlan_present, 1), MOV64_I(0, 0), EXIT);
	cr_assert(eq(i32, (int)r.ctx.cb[0], 0));
	cr_assert(eq(u32, r.ctx.cb[1], 0));
}
