/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_insn.c: every instruction the VM runs, on the engine and
 * (test_vm_insn_kernel) on the kernel, with the same expected answers.
 *
 * Each case is a hand-built syscall program (BPF_PROG_TYPE_SYSCALL, run by
 * BPF_PROG_TEST_RUN with a ctx of u64 words the program reads its operands
 * from and writes its results to): the operands come from memory, so no
 * verifier folds them. The expected values in the tables were taken from
 * Linux 6.18 on x86-64 (BT_VM_PRINT=1 ./test_vm_insn_kernel prints the
 * kernel's answers as table rows) and checked by hand for the edges: the
 * kernel's x / 0 = 0 and x % 0 = x, signed division by -1, shift counts
 * masked to the width, 32-bit results zero-extended.
 */
#include "insn.h"

static bool print_mode(void)
{
	const char *e = getenv("BT_VM_PRINT");
	return e && *e == '1';
}

/* run prog (functions at starts[0..nf), none: one function) on ctx; the load must work */
static __u32 run_prog_f(const struct bpf_insn *p, __u32 n, __u64 *ctx, __u32 words, const __u32 *starts, __u32 nf)
{
	bt_kernel_needs_syscall_progs();
	long fd = nf ? bt_prog_load_funcs(BT_PROG_TYPE_SYSCALL, BPF_F_SLEEPABLE, p, n, starts, nf)
		     : bt_prog_load(BT_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE, p, n);
	cr_assert(ge(i64, fd, 0), "load: %s\n%s", strerror((int)-fd), bt_log);
	__u32 retval = 0;
	long r = bt_run_ctx((int)fd, ctx, words * 8, &retval);
	cr_assert(eq(i64, r, 0), "test run: %s", strerror((int)-r));
	bt_close((int)fd);
	return retval;
}

static __u32 run_prog(const struct bpf_insn *p, __u32 n, __u64 *ctx, __u32 words)
{
	return run_prog_f(p, n, ctx, words, NULL, 0);
}

/* ---- ALU ---- */

struct alu_case {
	const char *name;
	__u8 code;
	__s16 off;
	__s32 imm;
	__u64 a, b, want;
};

#define A64X(op) (BPF_ALU64 | (op) | BPF_X)
#define A64K(op) (BPF_ALU64 | (op) | BPF_K)
#define A32X(op) (BPF_ALU | (op) | BPF_X)
#define A32K(op) (BPF_ALU | (op) | BPF_K)

static const struct alu_case alu_cases[] = {
	/* add, sub, mul: wrap-around; 32-bit forms zero-extend */
	{ "add64", A64X(BPF_ADD), 0, 0, 0xffffffffffffffffull, 2, 0x1ull },
	{ "add64_k", A64K(BPF_ADD), 0, -3, 1, 0, 0xfffffffffffffffeull },
	{ "add32", A32X(BPF_ADD), 0, 0, 0x1ffffffffull, 1, 0x0ull },
	{ "add32_k", A32K(BPF_ADD), 0, -3, 0x100000001ull, 0, 0xfffffffeull },
	{ "sub64", A64X(BPF_SUB), 0, 0, 1, 2, 0xffffffffffffffffull },
	{ "sub32", A32X(BPF_SUB), 0, 0, 1, 2, 0xffffffffull },
	{ "sub32_k", A32K(BPF_SUB), 0, 5, 0xffffffff00000003ull, 0, 0xfffffffeull },
	{ "mul64", A64X(BPF_MUL), 0, 0, 0x123456789ull, 0x987654321ull, 0xd77d742cce1833a9ull },
	{ "mul64_k", A64K(BPF_MUL), 0, -2, 3, 0, 0xfffffffffffffffaull },
	{ "mul32", A32X(BPF_MUL), 0, 0, 0x123456789ull, 0x987654321ull, 0xce1833a9ull },
	{ "mul32_k", A32K(BPF_MUL), 0, -2, 3, 0, 0xfffffffaull },
	/* unsigned division and modulo, by zero included */
	{ "div64", A64X(BPF_DIV), 0, 0, 0xfffffffffffffff9ull, 3, 0x5555555555555553ull },
	{ "div64_by_0", A64X(BPF_DIV), 0, 0, 77, 0, 0x0ull },
	{ "div64_k", A64K(BPF_DIV), 0, -1, 0xfffffffffffffffeull, 0, 0x0ull },
	{ "div32", A32X(BPF_DIV), 0, 0, 0x10000000fffffff9ull, 3, 0x55555553ull },
	{ "div32_by_0", A32X(BPF_DIV), 0, 0, 77, 0x100000000ull, 0x0ull },
	{ "div32_k", A32K(BPF_DIV), 0, 7, 0xffffffff00000070ull, 0, 0x10ull },
	{ "mod64", A64X(BPF_MOD), 0, 0, 0xfffffffffffffff9ull, 10, 0x9ull },
	{ "mod64_by_0", A64X(BPF_MOD), 0, 0, 0xfedcba9876543210ull, 0, 0xfedcba9876543210ull },
	{ "mod64_k", A64K(BPF_MOD), 0, 10, 1234, 0, 0x4ull },
	{ "mod32", A32X(BPF_MOD), 0, 0, 0x1000000ffull, 10, 0x5ull },
	{ "mod32_by_0", A32X(BPF_MOD), 0, 0, 0xfedcba9876543210ull, 0x100000000ull, 0x76543210ull },
	{ "mod32_k", A32K(BPF_MOD), 0, 10, 0xffffffff00000405ull, 0, 0x9ull },
	/* signed division and modulo (off 1): by -1, by 0, negative operands */
	{ "sdiv64", A64X(BPF_DIV), 1, 0, 0xfffffffffffffff9ull, 2, 0xfffffffffffffffdull },
	{ "sdiv64_neg_divisor", A64X(BPF_DIV), 1, 0, 7, 0xfffffffffffffffeull, 0xfffffffffffffffdull },
	{ "sdiv64_min_by_m1", A64X(BPF_DIV), 1, 0, 0x8000000000000000ull, 0xffffffffffffffffull, 0x8000000000000000ull },
	{ "sdiv64_by_0", A64X(BPF_DIV), 1, 0, 0xfffffffffffffff9ull, 0, 0x0ull },
	{ "sdiv64_k", A64K(BPF_DIV), 1, -2, 9, 0, 0xfffffffffffffffcull },
	{ "sdiv64_k_m1", A64K(BPF_DIV), 1, -1, 0x8000000000000000ull, 0, 0x8000000000000000ull },
	{ "smod64", A64X(BPF_MOD), 1, 0, 0xfffffffffffffff9ull, 2, 0xffffffffffffffffull },
	{ "smod64_neg_divisor", A64X(BPF_MOD), 1, 0, 7, 0xfffffffffffffffeull, 0x1ull },
	{ "smod64_min_by_m1", A64X(BPF_MOD), 1, 0, 0x8000000000000000ull, 0xffffffffffffffffull, 0x0ull },
	{ "smod64_by_0", A64X(BPF_MOD), 1, 0, 0xfffffffffffffff9ull, 0, 0xfffffffffffffff9ull },
	{ "smod64_k_m1", A64K(BPF_MOD), 1, -1, 0x8000000000000000ull, 0, 0x0ull },
	{ "sdiv32", A32X(BPF_DIV), 1, 0, 0xfffffff9ull, 2, 0xfffffffdull },
	{ "sdiv32_min_by_m1", A32X(BPF_DIV), 1, 0, 0x80000000ull, 0xffffffffull, 0x80000000ull },
	{ "sdiv32_by_0", A32X(BPF_DIV), 1, 0, 0xfffffff9ull, 0x100000000ull, 0x0ull },
	{ "sdiv32_k", A32K(BPF_DIV), 1, -2, 0x123456789ull, 0, 0xee5d4c3cull },
	{ "smod32", A32X(BPF_MOD), 1, 0, 0xfffffff9ull, 2, 0xffffffffull },
	{ "smod32_min_by_m1", A32X(BPF_MOD), 1, 0, 0x80000000ull, 0xffffffffull, 0x0ull },
	{ "smod32_by_0", A32X(BPF_MOD), 1, 0, 0xaaaaaaaafffffff9ull, 0, 0xfffffff9ull },
	{ "smod32_k", A32K(BPF_MOD), 1, 3, 0xfffffff9ull, 0, 0xffffffffull },
	/* bitwise */
	{ "or64", A64X(BPF_OR), 0, 0, 0xf0f0000000000000ull, 0x0f0f, 0xf0f0000000000f0full },
	{ "or32_k", A32K(BPF_OR), 0, -256, 0xffffffff00000012ull, 0, 0xffffff12ull },
	{ "and64_k", A64K(BPF_AND), 0, -256, 0x123456789abcdefull, 0, 0x123456789abcd00ull },
	{ "and32", A32X(BPF_AND), 0, 0, 0xffffffffffffffffull, 0xff00ff00ff00ff00ull, 0xff00ff00ull },
	{ "xor64", A64X(BPF_XOR), 0, 0, 0xffffffffffffffffull, 0x0123456789abcdefull, 0xfedcba9876543210ull },
	{ "xor32_k", A32K(BPF_XOR), 0, -1, 0x1234567800000000ull, 0, 0xffffffffull },
	/* shifts: X counts masked to the width, K counts below it */
	{ "lsh64", A64X(BPF_LSH), 0, 0, 1, 65, 0x2ull },
	{ "lsh64_k", A64K(BPF_LSH), 0, 63, 3, 0, 0x8000000000000000ull },
	{ "lsh32", A32X(BPF_LSH), 0, 0, 0x1ffffffffull, 33, 0xfffffffeull },
	{ "lsh32_k", A32K(BPF_LSH), 0, 31, 3, 0, 0x80000000ull },
	{ "rsh64", A64X(BPF_RSH), 0, 0, 0x8000000000000000ull, 127, 0x1ull },
	{ "rsh64_k", A64K(BPF_RSH), 0, 4, 0xf000000000000000ull, 0, 0xf00000000000000ull },
	{ "rsh32", A32X(BPF_RSH), 0, 0, 0xffffffff80000000ull, 63, 0x1ull },
	{ "rsh32_k", A32K(BPF_RSH), 0, 4, 0xffffffff80000000ull, 0, 0x8000000ull },
	{ "arsh64", A64X(BPF_ARSH), 0, 0, 0x8000000000000000ull, 66, 0xe000000000000000ull },
	{ "arsh64_k", A64K(BPF_ARSH), 0, 63, 0x8000000000000000ull, 0, 0xffffffffffffffffull },
	{ "arsh32", A32X(BPF_ARSH), 0, 0, 0x80000000ull, 33, 0xc0000000ull },
	{ "arsh32_k", A32K(BPF_ARSH), 0, 31, 0x12345678f0000000ull, 0, 0xffffffffull },
	/* moves, negation, sign extension */
	{ "mov64_k", A64K(BPF_MOV), 0, -2, 0, 0, 0xfffffffffffffffeull },
	{ "mov32_k", A32K(BPF_MOV), 0, -2, 0xffff, 0, 0xfffffffeull },
	{ "mov32", A32X(BPF_MOV), 0, 0, 0, 0xfedcba9876543210ull, 0x76543210ull },
	{ "neg64", BPF_ALU64 | BPF_NEG, 0, 0, 5, 0, 0xfffffffffffffffbull },
	{ "neg32", BPF_ALU | BPF_NEG, 0, 0, 0x100000005ull, 0, 0xfffffffbull },
	{ "movsx64_8", A64X(BPF_MOV), 8, 0, 0, 0x1280, 0xffffffffffffff80ull },
	{ "movsx64_16", A64X(BPF_MOV), 16, 0, 0, 0x128000, 0xffffffffffff8000ull },
	{ "movsx64_32", A64X(BPF_MOV), 32, 0, 0, 0x1280000000ull, 0xffffffff80000000ull },
	{ "movsx64_8_positive", A64X(BPF_MOV), 8, 0, 0, 0xff7f, 0x7full },
	{ "movsx32_8", A32X(BPF_MOV), 8, 0, 0, 0x1280, 0xffffff80ull },
	{ "movsx32_16", A32X(BPF_MOV), 16, 0, 0, 0x128000, 0xffff8000ull },
	/* byte order: le/be truncate or swap and zero-extend; bswap (ALU64) swaps */
	{ "le16", BPF_ALU | BPF_END | BPF_TO_LE, 0, 16, 0x0123456789abcdefull, 0, 0xcdefull },
	{ "le32", BPF_ALU | BPF_END | BPF_TO_LE, 0, 32, 0x0123456789abcdefull, 0, 0x89abcdefull },
	{ "le64", BPF_ALU | BPF_END | BPF_TO_LE, 0, 64, 0x0123456789abcdefull, 0, 0x123456789abcdefull },
	{ "be16", BPF_ALU | BPF_END | BPF_TO_BE, 0, 16, 0x0123456789abcdefull, 0, 0xefcdull },
	{ "be32", BPF_ALU | BPF_END | BPF_TO_BE, 0, 32, 0x0123456789abcdefull, 0, 0xefcdab89ull },
	{ "be64", BPF_ALU | BPF_END | BPF_TO_BE, 0, 64, 0x0123456789abcdefull, 0, 0xefcdab8967452301ull },
	{ "bswap16", BPF_ALU64 | BPF_END, 0, 16, 0x0123456789abcdefull, 0, 0xefcdull },
	{ "bswap32", BPF_ALU64 | BPF_END, 0, 32, 0x0123456789abcdefull, 0, 0xefcdab89ull },
	{ "bswap64", BPF_ALU64 | BPF_END, 0, 64, 0x0123456789abcdefull, 0, 0xefcdab8967452301ull },
};

static __u64 run_alu(const struct alu_case *c)
{
	bool x = BPF_CLASS(c->code) != BPF_LD && BPF_SRC(c->code) == BPF_X && BPF_OP(c->code) != BPF_END &&
		 BPF_OP(c->code) != BPF_NEG;
	/* mov and sign extension read the operand into a fresh register */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_DW, 2, 6, 0),
		LDX(BPF_DW, 3, 6, 8),
		BI(c->code, 2, x ? 3 : 0, c->off, c->imm),
		STX(BPF_DW, 6, 2, 16),
		MOV64_I(0, 0),
		EXIT,
	};
	__u64 ctx[3] = { c->a, c->b, 0xdeadbeef };
	run_prog(p, N_INSNS(p), ctx, 3);
	return ctx[2];
}

BT_TEST(alu_every_operation_matches_the_kernel)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(alu_cases); i++) {
		const struct alu_case *c = &alu_cases[i];
		__u64 got = run_alu(c);
		if (print_mode()) {
			printf("\t{ \"%s\", ..., 0x%llxull },\n", c->name, (unsigned long long)got);
			continue;
		}
		cr_expect(eq(u64, got, c->want), "%s: %#llx op %#llx (imm %d, off %d) = %#llx, want %#llx", c->name,
			  (unsigned long long)c->a, (unsigned long long)c->b, c->imm, c->off, (unsigned long long)got,
			  (unsigned long long)c->want);
	}
}

/* ---- conditional jumps: taken or not ---- */

struct jmp_case {
	const char *name;
	__u8 code;
	__s32 imm;
	__u64 a, b;
	__u32 taken;
};

#define J64X(op) (BPF_JMP | (op) | BPF_X)
#define J64K(op) (BPF_JMP | (op) | BPF_K)
#define J32X(op) (BPF_JMP32 | (op) | BPF_X)
#define J32K(op) (BPF_JMP32 | (op) | BPF_K)

static const struct jmp_case jmp_cases[] = {
	{ "jeq64", J64X(BPF_JEQ), 0, 0x100000001ull, 1, 0 },
	{ "jeq32", J32X(BPF_JEQ), 0, 0x100000001ull, 1, 1 },
	{ "jeq64_k_sign_extended", J64K(BPF_JEQ), -1, 0xffffffffffffffffull, 0, 1 },
	{ "jeq32_k", J32K(BPF_JEQ), -1, 0xffffffffull, 0, 1 },
	{ "jne64", J64X(BPF_JNE), 0, 5, 5, 0 },
	{ "jne32_k", J32K(BPF_JNE), 5, 0x700000005ull, 0, 0 },
	{ "jgt64", J64X(BPF_JGT), 0, 0xffffffffffffffffull, 1, 1 },
	{ "jgt32", J32X(BPF_JGT), 0, 0x100000000ull, 1, 0 },
	{ "jgt64_k", J64K(BPF_JGT), -1, 0xfffffffffffffffeull, 0, 0 },
	{ "jge64", J64X(BPF_JGE), 0, 7, 7, 1 },
	{ "jge32_k", J32K(BPF_JGE), 8, 0x100000007ull, 0, 0 },
	{ "jlt64", J64X(BPF_JLT), 0, 1, 0xffffffffffffffffull, 1 },
	{ "jlt32", J32X(BPF_JLT), 0, 0x100000000ull, 0x200000001ull, 1 },
	{ "jle64_k", J64K(BPF_JLE), 3, 3, 0, 1 },
	{ "jle32", J32X(BPF_JLE), 0, 0xffffffffull, 0x1ull, 0 },
	{ "jsgt64", J64X(BPF_JSGT), 0, 0xffffffffffffffffull, 1, 0 },
	{ "jsgt32", J32X(BPF_JSGT), 0, 0x7fffffffull, 0x80000000ull, 1 },
	{ "jsgt64_k", J64K(BPF_JSGT), -2, 0xffffffffffffffffull, 0, 1 },
	{ "jsge64", J64X(BPF_JSGE), 0, 0x8000000000000000ull, 0x8000000000000000ull, 1 },
	{ "jsge32_k", J32K(BPF_JSGE), -1, 0x80000000ull, 0, 0 },
	{ "jslt64", J64X(BPF_JSLT), 0, 0x8000000000000000ull, 0, 1 },
	{ "jslt32", J32X(BPF_JSLT), 0, 0x1ffffffffull, 0, 1 },
	{ "jsle64_k", J64K(BPF_JSLE), -5, 0xfffffffffffffffbull, 0, 1 },
	{ "jsle32", J32X(BPF_JSLE), 0, 0x100000001ull, 0x0ull, 0 },
	{ "jset64", J64X(BPF_JSET), 0, 0x100000000ull, 0x300000000ull, 1 },
	{ "jset32", J32X(BPF_JSET), 0, 0x100000000ull, 0x300000000ull, 0 },
	{ "jset64_k", J64K(BPF_JSET), 4, 6, 0, 1 },
	{ "jset32_k", J32K(BPF_JSET), 8, 0x700000007ull, 0, 0 },
};

BT_TEST(jmp_every_condition_matches_the_kernel)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(jmp_cases); i++) {
		const struct jmp_case *c = &jmp_cases[i];
		struct bpf_insn p[] = {
			MOV64_R(6, 1),
			LDX(BPF_DW, 2, 6, 0),
			LDX(BPF_DW, 3, 6, 8),
			MOV64_I(0, 1),
			BI(c->code, 2, BPF_SRC(c->code) == BPF_X ? 3 : 0, 1, c->imm),
			MOV64_I(0, 0),
			EXIT,
		};
		__u64 ctx[2] = { c->a, c->b };
		__u32 got = run_prog(p, N_INSNS(p), ctx, 2);
		if (print_mode()) {
			printf("\t{ \"%s\", ..., %u },\n", c->name, got);
			continue;
		}
		cr_expect(eq(u32, got, c->taken), "%s: %#llx vs %#llx (imm %d): taken %u, want %u", c->name,
			  (unsigned long long)c->a, (unsigned long long)c->b, c->imm, got, c->taken);
	}
}

BT_TEST(gotol_jumps_by_imm)
{
	struct bpf_insn p[] = {
		MOV64_I(0, 1),
		LDX(BPF_DW, 2, 1, 0),
		JMP_I(BPF_JNE, 2, 0, 1),
		BI(BPF_JMP32 | BPF_JA, 0, 0, 0, 1),     /* gotol +1 */
		MOV64_I(0, 2),
		ALU64_I(BPF_ADD, 0, 40),
		EXIT,
	};
	__u64 ctx[1] = { 0 };
	cr_assert(eq(u32, run_prog(p, N_INSNS(p), ctx, 1), 41));
}

BT_TEST(may_goto_falls_through_while_the_count_lasts)
{
	/* for (r1 = 0; r1 < 10; r1++) { may_goto out; r0++ } */
	struct bpf_insn p[] = {
		MOV64_I(0, 0),
		MOV64_I(1, 0),
		BI(BPF_JMP | 0xe0 | BPF_K, 0, 0, 3, 0),  /* may_goto +3: out */
		ALU64_I(BPF_ADD, 0, 1),
		ALU64_I(BPF_ADD, 1, 1),
		JMP_I(BPF_JLT, 1, 10, -4),
		EXIT,
	};
	__u64 ctx[1] = { 0 };
	cr_assert(eq(u32, run_prog(p, N_INSNS(p), ctx, 1), 10));
}

BT_TEST(ld_imm64_loads_64_bits)
{
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LD64(2, 0x0123456789abcdefull),
		STX(BPF_DW, 6, 2, 0),
		LD64(3, 0xffffffff00000000ull),
		STX(BPF_DW, 6, 3, 8),
		MOV64_I(0, 0),
		EXIT,
	};
	__u64 ctx[2] = { 0, 0 };
	run_prog(p, N_INSNS(p), ctx, 2);
	cr_assert(eq(u64, ctx[0], 0x0123456789abcdefull));
	cr_assert(eq(u64, ctx[1], 0xffffffff00000000ull));
}

/* ---- loads and stores ---- */

BT_TEST(loads_and_stores_every_size_and_sign_extension)
{
	/* the pattern at fp-8, then each load into ctx[i]; stores of each size at fp-16 */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_DW, 2, 6, 0),
		STX(BPF_DW, 10, 2, -8),
		LDX(BPF_B, 3, 10, -8), STX(BPF_DW, 6, 3, 8),
		LDX(BPF_H, 3, 10, -6), STX(BPF_DW, 6, 3, 16),
		LDX(BPF_W, 3, 10, -4), STX(BPF_DW, 6, 3, 24),
		LDX(BPF_DW, 3, 10, -8), STX(BPF_DW, 6, 3, 32),
		LDXS(BPF_B, 3, 10, -8), STX(BPF_DW, 6, 3, 40),
		LDXS(BPF_H, 3, 10, -2), STX(BPF_DW, 6, 3, 48),
		LDXS(BPF_W, 3, 10, -4), STX(BPF_DW, 6, 3, 56),
		ST(BPF_DW, 10, -16, -1),
		ST(BPF_W, 10, -16, 0x11223344),
		ST(BPF_H, 10, -12, 0x5566),
		ST(BPF_B, 10, -9, 0x77),
		STX(BPF_B, 10, 2, -10),
		LDX(BPF_DW, 3, 10, -16), STX(BPF_DW, 6, 3, 64),
		MOV64_I(0, 0),
		EXIT,
	};
	__u64 ctx[9] = { 0x8182838485868788ull };
	run_prog(p, N_INSNS(p), ctx, 9);
	cr_expect(eq(u64, ctx[1], 0x88));
	cr_expect(eq(u64, ctx[2], 0x8586));
	cr_expect(eq(u64, ctx[3], 0x81828384));
	cr_expect(eq(u64, ctx[4], 0x8182838485868788ull));
	cr_expect(eq(u64, ctx[5], 0xffffffffffffff88ull));
	cr_expect(eq(u64, ctx[6], 0xffffffffffff8182ull));
	cr_expect(eq(u64, ctx[7], 0xffffffff81828384ull));
	cr_expect(eq(u64, ctx[8], 0x7788556611223344ull));
}

/* ---- atomics: the memory and the fetched value ---- */

struct atomic_case {
	const char *name;
	__u8 size;
	__s32 op;
	__u64 mem, operand, r0, want_mem, want_fetch;
};

#define FETCH BPF_FETCH
static const struct atomic_case atomic_cases[] = {
	{ "add64", BPF_DW, BPF_ADD, 0xffffffffffffffffull, 2, 0, 0x1ull, 2 },
	{ "add32", BPF_W, BPF_ADD, 0x11111111ffffffffull, 2, 0, 0x1111111100000001ull, 2 },
	{ "and64", BPF_DW, BPF_AND, 0xf0f0f0f0f0f0f0f0ull, 0xff00ff00ff00ff00ull, 0, 0xf000f000f000f000ull,
	  0xff00ff00ff00ff00ull },
	{ "or32", BPF_W, BPF_OR, 0x1234567800000001ull, 0x100000002ull, 0, 0x1234567800000003ull, 0x100000002ull },
	{ "xor64", BPF_DW, BPF_XOR, 0xffull, 0x0full, 0, 0xf0ull, 0x0full },
	{ "fetch_add64", BPF_DW, BPF_ADD | FETCH, 40, 2, 0, 42, 40 },
	{ "fetch_add32", BPF_W, BPF_ADD | FETCH, 0xaaaaaaaa80000000ull, 0xffffffff80000000ull, 0, 0xaaaaaaaa00000000ull,
	  0x80000000ull },
	{ "fetch_and64", BPF_DW, BPF_AND | FETCH, 0xf0ull, 0x3cull, 0, 0x30ull, 0xf0ull },
	{ "fetch_and32", BPF_W, BPF_AND | FETCH, 0x5555555500000ff0ull, 0xffffffff0000003cull, 0, 0x5555555500000030ull,
	  0xff0ull },
	{ "fetch_or64", BPF_DW, BPF_OR | FETCH, 0x8000000000000000ull, 1, 0, 0x8000000000000001ull, 0x8000000000000000ull },
	{ "fetch_or32", BPF_W, BPF_OR | FETCH, 0xf000000080000000ull, 1, 0, 0xf000000080000001ull, 0x80000000ull },
	{ "fetch_xor64", BPF_DW, BPF_XOR | FETCH, 0xffffull, 0xff00ull, 0, 0xffull, 0xffffull },
	{ "fetch_xor32", BPF_W, BPF_XOR | FETCH, 0x1234567800000003ull, 0xf00000001ull, 0, 0x1234567800000002ull, 3 },
	{ "xchg64", BPF_DW, BPF_XCHG, 0x1111ull, 0x2222ull, 0, 0x2222ull, 0x1111ull },
	{ "xchg32", BPF_W, BPF_XCHG, 0x99999999f1111111ull, 0x700002222ull, 0, 0x9999999900002222ull, 0xf1111111ull },
	{ "cmpxchg64_equal", BPF_DW, BPF_CMPXCHG, 5, 9, 5, 9, 5 },
	{ "cmpxchg64_different", BPF_DW, BPF_CMPXCHG, 5, 9, 6, 5, 5 },
	{ "cmpxchg32_equal", BPF_W, BPF_CMPXCHG, 0x77777777fffffff5ull, 9, 0x12fffffff5ull, 0x7777777700000009ull,
	  0xfffffff5ull },
	{ "cmpxchg32_different", BPF_W, BPF_CMPXCHG, 0x77777777fffffff5ull, 9, 0xfffffff4ull, 0x77777777fffffff5ull,
	  0xfffffff5ull },
};

BT_TEST(atomics_give_the_kernels_memory_and_fetched_values)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(atomic_cases); i++) {
		const struct atomic_case *c = &atomic_cases[i];
		/* fp-8 = mem; r2 = operand; r0 = r0 in; op; ctx[3] = fp-8; ctx[4] = fetched (r2, or r0 for cmpxchg) */
		struct bpf_insn p[] = {
			MOV64_R(6, 1),
			LDX(BPF_DW, 3, 6, 0),
			STX(BPF_DW, 10, 3, -8),
			LDX(BPF_DW, 2, 6, 8),
			LDX(BPF_DW, 0, 6, 16),
			ATOMIC(c->size, 10, 2, -8, c->op),
			LDX(BPF_DW, 3, 10, -8),
			STX(BPF_DW, 6, 3, 24),
			STX(BPF_DW, 6, c->op == BPF_CMPXCHG ? 0 : 2, 32),
			MOV64_I(0, 0),
			EXIT,
		};
		p[5] = BI(BPF_STX | BPF_ATOMIC | c->size, 10, 2, -8, c->op);
		__u64 ctx[5] = { c->mem, c->operand, c->r0, 0, 0 };
		run_prog(p, N_INSNS(p), ctx, 5);
		bool fetches = (c->op & FETCH) || c->op == BPF_CMPXCHG;
		if (print_mode()) {
			printf("\t{ \"%s\", ..., 0x%llxull, 0x%llxull },\n", c->name, (unsigned long long)ctx[3],
			       (unsigned long long)ctx[4]);
			continue;
		}
		cr_expect(eq(u64, ctx[3], c->want_mem), "%s: memory %#llx, want %#llx", c->name,
			  (unsigned long long)ctx[3], (unsigned long long)c->want_mem);
		if (fetches)
			cr_expect(eq(u64, ctx[4], c->want_fetch), "%s: fetched %#llx, want %#llx", c->name,
				  (unsigned long long)ctx[4], (unsigned long long)c->want_fetch);
	}
}

BT_TEST(load_acquire_and_store_release)
{
	/* store_release(fp-8, ctx[0]) as a word, as a byte; load_acquire of each size */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_DW, 2, 6, 0),
		ATOMIC(BPF_DW, 0x110, 10, 2, -8),
		ATOMIC(BPF_B, 0x110, 10, 2, -16),
		ATOMIC(BPF_DW, 0x100, 3, 10, -8), STX(BPF_DW, 6, 3, 8),
		ATOMIC(BPF_W, 0x100, 3, 10, -8), STX(BPF_DW, 6, 3, 16),
		ATOMIC(BPF_H, 0x100, 3, 10, -8), STX(BPF_DW, 6, 3, 24),
		ATOMIC(BPF_B, 0x100, 3, 10, -16), STX(BPF_DW, 6, 3, 32),
		MOV64_I(0, 0),
		EXIT,
	};
	bt_kernel_needs_syscall_progs();
	bt_kernel_probe(BT_PROG_TYPE_SYSCALL, BPF_F_SLEEPABLE, (struct bpf_insn[]){ ATOMIC(BPF_DW, 0x100, 0, 10, -8), EXIT },
			2, "load-acquire (Linux 6.15)");
	long fd = bt_prog_load(BT_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE, p, N_INSNS(p));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	__u64 ctx[5] = { 0xfedcba9876543210ull };
	cr_assert(eq(i64, bt_run_ctx((int)fd, ctx, sizeof(ctx), NULL), 0));
	cr_expect(eq(u64, ctx[1], 0xfedcba9876543210ull));
	cr_expect(eq(u64, ctx[2], 0x76543210ull));
	cr_expect(eq(u64, ctx[3], 0x3210ull));
	cr_expect(eq(u64, ctx[4], 0x10ull));
}

/* ---- bpf-to-bpf calls: frames of their own, R6-R9 kept ---- */

BT_TEST(calls_keep_r6_to_r9_and_give_each_frame_its_stack)
{
	/*
	 * main: r9 = ctx; r6 = 6, r7 = 7, r8 = 8; fp-8 = 100; r1 = 5; call f;
	 *       ctx[0] = r0; ctx[1] = r6 + r7 + r8; ctx[2] = fp-8
	 * f(r1): fp-8 = 1000 (its own frame); r6 = r1 * 3; r0 = r6 + fp-8; exit
	 */
	struct bpf_insn p[] = {
		MOV64_R(9, 1),                   /* 0 */
		MOV64_I(6, 6),
		MOV64_I(7, 7),
		MOV64_I(8, 8),
		ST(BPF_DW, 10, -8, 100),
		MOV64_I(1, 5),                   /* 5 */
		CALL_REL(9),                     /* 6 -> 16 */
		STX(BPF_DW, 9, 0, 0),
		MOV64_R(1, 6),
		ALU64_R(BPF_ADD, 1, 7),
		ALU64_R(BPF_ADD, 1, 8),          /* 10 */
		STX(BPF_DW, 9, 1, 8),
		LDX(BPF_DW, 1, 10, -8),
		STX(BPF_DW, 9, 1, 16),
		MOV64_I(0, 0),
		EXIT,                            /* 15 */
		ST(BPF_DW, 10, -8, 1000),        /* 16: f */
		MOV64_R(6, 1),
		ALU64_I(BPF_MUL, 6, 3),
		LDX(BPF_DW, 0, 10, -8),
		ALU64_R(BPF_ADD, 0, 6),
		EXIT,
	};
	static const __u32 starts[] = { 0, 16 };
	__u64 ctx[3] = { 0 };
	run_prog_f(p, N_INSNS(p), ctx, 3, starts, 2);
	cr_expect(eq(u64, ctx[0], 1015));
	cr_expect(eq(u64, ctx[1], 6 + 7 + 8));
	cr_expect(eq(u64, ctx[2], 100));
}

BT_TEST(calls_eight_frames_deep)
{
	/* f0 (main) calls f1 ... f7, each adds its number to r0 on the way back: 28 */
	struct bpf_insn p[8 * 4];
	__u32 starts[8];
	for (int f = 0; f < 8; f++) {
		starts[f] = (__u32)f * 4;
		if (f < 7) {
			p[f * 4] = CALL_REL(3);                 /* the next function, 4 insns on */
			p[f * 4 + 1] = ALU64_I(BPF_ADD, 0, f);
		} else {
			p[f * 4] = MOV64_I(0, 0);
			p[f * 4 + 1] = ALU64_I(BPF_ADD, 0, 7);
		}
		p[f * 4 + 2] = EXIT;
		p[f * 4 + 3] = EXIT;                            /* replaced below */
	}
	/* no dead code: 3 insns per function */
	struct bpf_insn q[8 * 3];
	for (int f = 0; f < 8; f++) {
		memcpy(&q[f * 3], &p[f * 4], 3 * sizeof(q[0]));
		if (f < 7)
			q[f * 3] = CALL_REL(2);
		starts[f] = (__u32)f * 3;
	}
	__u64 ctx[1] = { 0 };
	cr_assert(eq(u32, run_prog_f(q, N_INSNS(q), ctx, 1, starts, 8), 28));
}

/* ---- callbacks: bpf_loop ---- */

BT_TEST(bpf_loop_calls_back_and_stops_when_told)
{
	/*
	 * main: fp-8 = 0; r1 = 100; r2 = &cb; r3 = fp-8; r4 = 0; call bpf_loop;
	 *       ctx[0] = r0 (iterations); ctx[1] = fp-8
	 * cb(i, ctx): *ctx += i; return i == 9 (stop after the 10th)
	 */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		ST(BPF_DW, 10, -8, 0),
		MOV64_I(1, 100),
		LD_FUNC(2, 9),                   /* 3,4 -> 13 */
		MOV64_R(3, 10),
		ALU64_I(BPF_ADD, 3, -8),
		MOV64_I(4, 0),
		CALL(BPF_FUNC_loop),
		STX(BPF_DW, 6, 0, 0),            /* 9 */
		LDX(BPF_DW, 1, 10, -8),
		STX(BPF_DW, 6, 1, 8),
		MOV64_I(0, 0),
		EXIT,                            /* 13? no: 13 is cb */
	};
	/* layout: the callback starts right after main's exit */
	struct bpf_insn cb[] = {
		LDX(BPF_DW, 3, 2, 0),            /* 14 */
		ALU64_R(BPF_ADD, 3, 1),
		STX(BPF_DW, 2, 3, 0),
		MOV64_I(0, 0),
		JMP_I(BPF_JNE, 1, 9, 1),
		MOV64_I(0, 1),
		EXIT,
	};
	struct bpf_insn all[N_INSNS(p) + N_INSNS(cb)];
	memcpy(all, p, sizeof(p));
	memcpy(all + N_INSNS(p), cb, sizeof(cb));
	all[3] = BI(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_FUNC, 0, (__s32)N_INSNS(p) - 4);
	const __u32 starts[] = { 0, N_INSNS(p) };
	__u64 ctx[2] = { 0 };
	run_prog_f(all, N_INSNS(all), ctx, 2, starts, 2);
	cr_expect(eq(u64, ctx[0], 10));
	cr_expect(eq(u64, ctx[1], 45));
}

BT_TEST(bpf_loop_refuses_flags_and_too_many_loops)
{
	struct bpf_insn cb[] = { MOV64_I(0, 0), EXIT };
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_DW, 1, 6, 0),
		LD_FUNC(2, 0),
		MOV64_I(3, 0),
		LDX(BPF_DW, 4, 6, 8),
		CALL(BPF_FUNC_loop),
		STX(BPF_DW, 6, 0, 16),
		MOV64_I(0, 0),
		EXIT,
	};
	struct bpf_insn all[N_INSNS(p) + N_INSNS(cb)];
	memcpy(all, p, sizeof(p));
	memcpy(all + N_INSNS(p), cb, sizeof(cb));
	all[2] = BI(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_FUNC, 0, (__s32)N_INSNS(p) - 3);
	const __u32 starts[] = { 0, N_INSNS(p) };
	__u64 ctx[3] = { 5, 1, 0 };
	run_prog_f(all, N_INSNS(all), ctx, 3, starts, 2);
	cr_expect(eq(i64, (__s64)ctx[2], -EINVAL));
	__u64 ctx2[3] = { (1u << 23) + 1, 0, 0 };
	run_prog_f(all, N_INSNS(all), ctx2, 3, starts, 2);
	cr_expect(eq(i64, (__s64)ctx2[2], -E2BIG));
	__u64 ctx3[3] = { 7, 0, 0 };
	run_prog_f(all, N_INSNS(all), ctx3, 3, starts, 2);
	cr_expect(eq(i64, (__s64)ctx3[2], 7));
}
