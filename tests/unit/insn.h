/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/insn.h: a few macros to write BPF instructions in tests, and the
 * loads and test runs the VM tests share (engine and kernel builds alike).
 */
#ifndef BPFEMU_TESTS_INSN_H
#define BPFEMU_TESTS_INSN_H

#include "bt.h"

#include <linux/btf.h>

#define BI(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_I(d, i) BI(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_R(d, s) BI(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV32_I(d, i) BI(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV32_R(d, s) BI(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define ALU64_I(op, d, i) BI(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU64_R(op, d, s) BI(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define ALU32_I(op, d, i) BI(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define ALU32_R(op, d, s) BI(BPF_ALU | (op) | BPF_X, d, s, 0, 0)
#define LD64(d, v) BI(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (__s32)(__u32)(__u64)(v)), \
		   BI(0, 0, 0, 0, (__s32)(__u32)((__u64)(v) >> 32))
#define LD_MAP(d, fd) BI(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), BI(0, 0, 0, 0, 0)
#define LD_MAPVAL(d, fd, off) BI(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_VALUE, 0, fd), BI(0, 0, 0, 0, off)
#define LD_FUNC(d, rel) BI(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_FUNC, 0, rel), BI(0, 0, 0, 0, 0)
#define LDX(sz, d, s, o) BI(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define LDXS(sz, d, s, o) BI(BPF_LDX | 0x80 | (sz), d, s, o, 0)
#define STX(sz, d, s, o) BI(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST(sz, d, o, i) BI(BPF_ST | BPF_MEM | (sz), d, 0, o, i)
#define ATOMIC(sz, op, d, s, o) BI(BPF_STX | BPF_ATOMIC | (sz), d, s, o, op)
#define JMP_I(op, d, i, o) BI(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JMP_R(op, d, s, o) BI(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define JA(o) BI(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define CALL(f) BI(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define CALL_REL(rel) BI(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, rel)
#define EXIT BI(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define N_INSNS(a) ((__u32)(sizeof(a) / sizeof((a)[0])))

#ifndef BPF_F_SLEEPABLE
#define BPF_F_SLEEPABLE (1U << 4)
#endif
#define BT_PROG_TYPE_SYSCALL 31

static char bt_log[65536];

/* A load with a level-1 log in bt_log, attached to BTF type btf_id (0:
 * none): the fd or -errno. */
static inline long bt_prog_load_full(__u32 type, __u32 attach, __u32 btf_id, __u32 flags, const struct bpf_insn *insns,
				     __u32 n)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach;
	a.attach_btf_id = btf_id;
	a.prog_flags = flags;
	a.insns = BT_PTR(insns);
	a.insn_cnt = n;
	a.license = BT_PTR("GPL");
	a.log_level = 1;
	a.log_buf = BT_PTR(bt_log);
	a.log_size = sizeof(bt_log);
	bt_log[0] = '\0';
	return bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

/* The same without an attach BTF type. */
static inline long bt_prog_load(__u32 type, __u32 attach, __u32 flags, const struct bpf_insn *insns, __u32 n)
{
	return bt_prog_load_full(type, attach, 0, flags, insns, n);
}

/* BTF for programs with several functions: [1] int, [2] int (void), [3]
 * static FUNC "f" of [2]; every function's func_info names [3] (the kernel
 * wants func_info, and static callbacks, once a program has callbacks). */
static inline int bt_func_btf(void)
{
	static int fd = -1;
	if (fd >= 0)
		return fd;
	static const char strs[] = "\0int\0f";
	const __u32 types[] = {
		1, (__u32)BTF_KIND_INT << 24, 4, (__u32)BTF_INT_SIGNED << 24 | 32,
		0, (__u32)BTF_KIND_FUNC_PROTO << 24, 1,
		5, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 2,
	};
	fd = bt_btf_load(types, sizeof(types), strs, sizeof(strs));
	return fd;
}

/* A load whose functions start at starts[0..nf) (starts[0] == 0), with func_info. */
static inline long bt_prog_load_funcs(__u32 type, __u32 flags, const struct bpf_insn *insns, __u32 n,
				      const __u32 *starts, __u32 nf)
{
	struct bpf_func_info fi[16];
	for (__u32 i = 0; i < nf && i < 16; i++)
		fi[i] = (struct bpf_func_info){ .insn_off = starts[i], .type_id = 3 };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.prog_flags = flags;
	a.insns = BT_PTR(insns);
	a.insn_cnt = n;
	a.license = BT_PTR("GPL");
	a.log_level = 1;
	a.log_buf = BT_PTR(bt_log);
	a.log_size = sizeof(bt_log);
	a.prog_btf_fd = (__u32)bt_func_btf();
	a.func_info = BT_PTR(fi);
	a.func_info_cnt = nf;
	a.func_info_rec_size = sizeof(fi[0]);
	bt_log[0] = '\0';
	return bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

/* A load that must work. */
static inline int bt_prog_new(__u32 type, const struct bpf_insn *insns, __u32 n)
{
	long fd = bt_prog_load(type, 0, type == BT_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0, insns, n);
	cr_assert(ge(i64, fd, 0), "load (type %u, %u insns): %s\n%s", type, n, strerror((int)-fd), bt_log);
	return (int)fd;
}

/* BPF_PROG_TEST_RUN with the attr as given; the attr holds the results. */
static inline long bt_test_run(union bpf_attr *a)
{
	return bt_bpf(BPF_PROG_TEST_RUN, a, sizeof(*a));
}

/* A syscall program's run on ctx[words]: 0 and *retval, or -errno. ctx is
 * written back (the kernel copies it into ctx_in). */
static inline long bt_run_ctx(int fd, void *ctx, __u32 size, __u32 *retval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.ctx_in = BT_PTR(ctx);
	a.test.ctx_size_in = size;
	long r = bt_test_run(&a);
	if (retval)
		*retval = a.test.retval;
	return r;
}

/* An XDP (or skb) run on data: 0 and retval, data_out, its size and the duration. */
struct bt_run {
	__u32 retval, size_out, duration, ctx_size_out;
	unsigned char out[4096];
};
static inline long bt_run_data(int fd, const void *data, __u32 size, __u32 repeat, struct bt_run *r)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	memset(r, 0, sizeof(*r));
	a.test.prog_fd = (__u32)fd;
	a.test.data_in = BT_PTR(data);
	a.test.data_size_in = size;
	a.test.data_out = BT_PTR(r->out);
	a.test.data_size_out = sizeof(r->out);
	a.test.repeat = repeat;
	long ret = bt_test_run(&a);
	r->retval = a.test.retval;
	r->size_out = a.test.data_size_out;
	r->duration = a.test.duration;
	return ret;
}

/* The running kernel may refuse a program type or an instruction (lockdown,
 * an older kernel): the kernel build asks it with a minimal program first
 * and skips, with the reason, only if the host refuses that. The engine
 * build never skips. */
static inline void bt_kernel_probe(__u32 type, __u32 flags, const struct bpf_insn *insns, __u32 n, const char *what)
{
#ifdef BPFEMU_TEST_KERNEL
	long fd = bt_prog_load(type, 0, flags, insns, n);
	if (fd < 0)
		cr_skip_test("the host kernel refuses %s: %s", what, strerror((int)-fd));
	close((int)fd);
#else
	(void)type; (void)flags; (void)insns; (void)n; (void)what;
#endif
}

/* syscall programs (BPF_PROG_TYPE_SYSCALL, sleepable): r0 = 0; exit */
static inline void bt_kernel_needs_syscall_progs(void)
{
	static const struct bpf_insn p[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };
	bt_kernel_probe(BT_PROG_TYPE_SYSCALL, BPF_F_SLEEPABLE, p, 2, "syscall programs");
}

/* A load with attach_btf_id (tracing, struct_ops): the fd or -errno, the log in bt_log. */
static inline long bt_prog_load_btf(__u32 type, __u32 attach, __u32 btf_id, const struct bpf_insn *insns, __u32 n)
{
	return bt_prog_load_full(type, attach, btf_id, 0, insns, n);
}

/* The byte offset of member name in the running kernel's struct sname (through
 * anonymous structs and unions), -1 if there is none. */
static inline long bt_kbtf_member_off_(const char *data, __u32 sid, const char *name, int depth)
{
	const struct btf_header *h = (const void *)data;
	const char *types = data + h->hdr_len + h->type_off, *strs = data + h->hdr_len + h->str_off;
	__u32 off = 0, id = 1;
	const struct btf_type *t = NULL;
	while (off < h->type_len) {
		t = (const void *)(types + off);
		if (id == sid)
			break;
		__u32 k = BTF_INFO_KIND(t->info), vlen = BTF_INFO_VLEN(t->info);
		off += sizeof(*t);
		switch (k) {
		case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: off += 4; break;
		case BTF_KIND_ARRAY: off += 12; break;
		case BTF_KIND_STRUCT: case BTF_KIND_UNION: off += vlen * 12; break;
		case BTF_KIND_ENUM: off += vlen * 8; break;
		case 19: off += vlen * 12; break;
		case BTF_KIND_FUNC_PROTO: off += vlen * 8; break;
		case BTF_KIND_DATASEC: off += vlen * 12; break;
		default: break;
		}
		id++;
		t = NULL;
	}
	if (!t || depth > 8 || (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT && BTF_INFO_KIND(t->info) != BTF_KIND_UNION))
		return -1;
	const struct btf_member *m = (const void *)(t + 1);
	for (__u32 i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		__u32 bit = BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
		if (!m[i].name_off) {
			long o = bt_kbtf_member_off_(data, m[i].type, name, depth + 1);
			if (o >= 0)
				return bit / 8 + o;
		} else if (!strcmp(strs + m[i].name_off, name)) {
			return bit / 8;
		}
	}
	return -1;
}

static inline long bt_kbtf_member_off(const char *sname, const char *name)
{
	__u32 sid = bt_kbtf_id(sname, BTF_KIND_STRUCT);
	FILE *f = fopen("/sys/kernel/btf/vmlinux", "rb");
	if (!sid || !f) {
		if (f)
			fclose(f);
		return -1;
	}
	static char *data;
	if (!data) {
		size_t cap = 1 << 20, size = 0, n;
		data = malloc(cap);
		while (data && (n = fread(data + size, 1, cap - size, f)) > 0)
			if ((size += n) == cap)
				data = realloc(data, cap *= 2);
	}
	fclose(f);
	return data ? bt_kbtf_member_off_(data, sid, name, 0) : -1;
}

#endif