/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_xlated.c: the verifier's dead code passes (Linux 6.18's
 * opt_hard_wire_dead_code_branches, opt_remove_dead_code, opt_remove_nops;
 * emu/verifier/xlate.c) as bpf_prog_info shows them: xlated_prog_len, the
 * xlated instructions, func_info and line_info of hand-written programs whose
 * expected stream is written here, and the programs still running to the
 * same result (the VM runs the rewritten stream). The kernel build checks
 * the very same expectations on the host's bpf().
 *
 * A pseudo call shows as a JITed kernel leaves it for dumps (jit_subprogs()):
 * its distance in off, the callee's subprogram index in imm (XCALL).
 */
#include "bt.h"
#include "insn.h"

#include <linux/btf.h>

#define XCALL(rel, sub) BI(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, rel, sub)

struct xl {
	struct bpf_insn insns[64];
	__u32 n;
	struct bpf_func_info fi[8];
	__u32 nfi;
	struct bpf_line_info li[16];
	__u32 nli;
};

static void get_xlated(int fd, struct xl *x)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	memset(x, 0, sizeof(*x));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(le(u32, info.xlated_prog_len, sizeof(x->insns)));
	cr_assert(le(u32, info.nr_func_info, 8));
	cr_assert(le(u32, info.nr_line_info, 16));
	x->n = info.xlated_prog_len / 8;
	x->nfi = info.nr_func_info;
	x->nli = info.nr_line_info;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = x->n * 8;
	info.xlated_prog_insns = BT_PTR(x->insns);
	info.nr_func_info = x->nfi;
	info.func_info_rec_size = sizeof(struct bpf_func_info);
	info.func_info = BT_PTR(x->fi);
	info.nr_line_info = x->nli;
	info.line_info_rec_size = sizeof(struct bpf_line_info);
	info.line_info = BT_PTR(x->li);
	len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
}

/* the expected stream, instruction by instruction */
static void expect_insns(const struct xl *x, const struct bpf_insn *want, __u32 n)
{
	cr_assert(eq(u32, x->n, n), "xlated_prog_len %u insns, want %u", x->n, n);
	for (__u32 i = 0; i < n; i++) {
		struct bpf_insn g = x->insns[i], w = want[i];
		cr_assert(eq(u8, g.code, w.code), "insn %u: code %#x, want %#x", i, g.code, w.code);
		cr_assert(eq(u8, g.dst_reg, w.dst_reg), "insn %u", i);
		cr_assert(eq(u8, g.src_reg, w.src_reg), "insn %u", i);
		cr_assert(eq(i16, g.off, w.off), "insn %u", i);
		cr_assert(eq(i32, g.imm, w.imm), "insn %u", i);
	}
}

static long load(__u32 type, const struct bpf_insn *p, __u32 n, int btf, const struct bpf_func_info *fi, __u32 nfi,
		 const struct bpf_line_info *li, __u32 nli)
{
	static char log[65536];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = BT_PTR(p);
	a.insn_cnt = n;
	a.license = BT_PTR("GPL");
	a.log_buf = BT_PTR(log);
	a.log_size = sizeof(log);
	a.log_level = 1;
	if (btf >= 0) {
		a.prog_btf_fd = (__u32)btf;
		a.func_info = BT_PTR(fi);
		a.func_info_cnt = nfi;
		a.func_info_rec_size = nfi ? sizeof(*fi) : 0;
		a.line_info = BT_PTR(li);
		a.line_info_cnt = nli;
		a.line_info_rec_size = nli ? sizeof(*li) : 0;
	}
	log[0] = '\0';
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "load: %s\n%s", strerror((int)-fd), log);
	return fd;
}

static __u32 run_xdp(int fd)
{
	static unsigned char pkt[64];
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	return r.retval;
}

/* strings: 0 ""  1 "int"  5 "a.c"  9 "one"  13 "two"  17 "three"  23 "m"  25 "f"  27 "g" */
#define STRS "\0int\0a.c\0one\0two\0three\0m\0f\0g"
#define S_FILE 5
#define S_ONE 9
#define S_TWO 13
#define S_THREE 17

/* [1] int, [2] int (void), [3] m, [4] f, [5] g: static functions returning int */
static int load_btf(void)
{
	static const char strs[] = STRS;
	const __u32 types[] = {
		1, (__u32)BTF_KIND_INT << 24, 4, (__u32)BTF_INT_SIGNED << 24 | 32,
		0, (__u32)BTF_KIND_FUNC_PROTO << 24, 1,
		23, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 2,
		25, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 2,
		27, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 2,
	};
	return bt_btf_load(types, sizeof(types), strs, sizeof(strs));
}

#define LI(off, name, line) { .insn_off = (off), .file_name_off = S_FILE, .line_off = (name), .line_col = (line) << 10 | 1 }

BT_TEST(xlated_dead_branch_from_a_constant)
{
	/* r1 is 1: the branch to 4 is never taken, its target and what follows are dead */
	const struct bpf_insn p[] = { MOV64_I(1, 1), JMP_I(BPF_JEQ, 1, 0, 2), MOV64_I(0, 1), EXIT, MOV64_I(0, 2), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	/* the jump became `ja 0`, then a nop, then nothing */
	const struct bpf_insn want[] = { MOV64_I(1, 1), MOV64_I(0, 1), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, run_xdp((int)fd), 1));
	bt_close((int)fd);
}

BT_TEST(xlated_branch_always_taken_becomes_ja_and_goes)
{
	/* r1 is 0: the jump is always taken; the code it skips is dead */
	const struct bpf_insn p[] = { MOV64_I(1, 0), MOV64_I(0, 3), JMP_I(BPF_JEQ, 1, 0, 2), MOV64_I(0, 7),
				      ALU64_I(BPF_ADD, 0, 1), ALU64_I(BPF_ADD, 0, 10), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(1, 0), MOV64_I(0, 3), ALU64_I(BPF_ADD, 0, 10), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, run_xdp((int)fd), 13));
	bt_close((int)fd);
}

BT_TEST(xlated_both_ways_walked_stays)
{
	/* the packet's length decides: nothing is dead, nothing changes */
	const struct bpf_insn p[] = { LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 4), ALU64_R(BPF_SUB, 3, 2),
				      MOV64_I(0, 1), JMP_I(BPF_JGT, 3, 32, 1), MOV64_I(0, 2), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	cr_assert(eq(u32, x.n, N_INSNS(p)));
	cr_assert(eq(u8, x.insns[4].code, BPF_JMP | BPF_JGT | BPF_K));
	cr_assert(eq(i16, x.insns[4].off, 1));
	cr_assert(eq(u32, run_xdp((int)fd), 1), "64 bytes > 32");
	bt_close((int)fd);
}

BT_TEST(xlated_nops_and_a_ja_chain)
{
	/* a never taken jump (ja 0), ja +1 over dead code (ja 0 once it is cut), ja 0s: all go */
	const struct bpf_insn p[] = { MOV64_I(0, 4), MOV64_I(1, 0), JMP_I(BPF_JNE, 1, 0, 1), JA(1), MOV64_I(0, 9),
				      JA(0), JA(0), ALU64_I(BPF_ADD, 0, 1), JA(0), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(0, 4), MOV64_I(1, 0), ALU64_I(BPF_ADD, 0, 1), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, run_xdp((int)fd), 5));
	bt_close((int)fd);
}

BT_TEST(xlated_backward_jump_across_a_cut)
{
	/* a loop whose body holds dead code: the backward jump is shortened */
	const struct bpf_insn p[] = {
		MOV64_I(0, 0), MOV64_I(1, 0), MOV64_I(2, 0),
		/* 3: */ ALU64_I(BPF_ADD, 0, 1), JMP_I(BPF_JEQ, 2, 0, 1), MOV64_I(0, 100),
		ALU64_I(BPF_ADD, 1, 1), JMP_I(BPF_JLT, 1, 3, -5), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(0, 0), MOV64_I(1, 0), MOV64_I(2, 0), ALU64_I(BPF_ADD, 0, 1),
					 ALU64_I(BPF_ADD, 1, 1), JMP_I(BPF_JLT, 1, 3, -3), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, run_xdp((int)fd), 3));
	bt_close((int)fd);
}

BT_TEST(xlated_dead_subprogram_and_its_func_info_go)
{
	/* main calls f; the call of g is dead, and so is all of g */
	int btf = load_btf();
	const struct bpf_insn p[] = {
		MOV64_I(1, 0), JMP_I(BPF_JEQ, 1, 0, 1), CALL_REL(4), CALL_REL(1), EXIT,
		/* 5: f */ MOV64_I(0, 1), EXIT,
		/* 7: g */ MOV64_I(0, 2), EXIT };
	const struct bpf_func_info fi[] = { { 0, 3 }, { 5, 4 }, { 7, 5 } };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), btf, fi, 3, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(1, 0), XCALL(1, 1), EXIT, MOV64_I(0, 1), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, x.nfi, 2), "g's record went with g");
	cr_assert(eq(u32, x.fi[0].insn_off, 0));
	cr_assert(eq(u32, x.fi[0].type_id, 3));
	cr_assert(eq(u32, x.fi[1].insn_off, 3), "f starts at 3 now");
	cr_assert(eq(u32, x.fi[1].type_id, 4));
	cr_assert(eq(u32, run_xdp((int)fd), 1));
	bt_close((int)fd);
	bt_close(btf);
}

BT_TEST(xlated_dead_code_inside_a_subprogram)
{
	int btf = load_btf();
	const struct bpf_insn p[] = {
		CALL_REL(1), EXIT,
		/* 2: f */ MOV64_I(2, 5), MOV64_I(0, 6), JMP_I(BPF_JGT, 2, 9, 1), EXIT, MOV64_I(0, 7), EXIT };
	const struct bpf_func_info fi[] = { { 0, 3 }, { 2, 4 } };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), btf, fi, 2, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	/* the never taken jump is a nop, the code after f's first exit dead */
	const struct bpf_insn want[] = { XCALL(1, 1), EXIT, MOV64_I(2, 5), MOV64_I(0, 6), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, x.nfi, 2));
	cr_assert(eq(u32, x.fi[1].insn_off, 2));
	cr_assert(eq(u32, run_xdp((int)fd), 6));
	bt_close((int)fd);
	bt_close(btf);
}

BT_TEST(xlated_line_info_of_removed_lines)
{
	/*
	 * 0 "one"  r1 = 0
	 * 1 "two"  if r1 == 0 goto 4    (always: becomes ja +2, then ja 0, then goes)
	 * 2 "three" r0 = 5              (dead: its record moves to 4, which has none)
	 * 3        exit                 (dead)
	 * 4        r0 = 1
	 * 5        exit
	 */
	int btf = load_btf();
	const struct bpf_insn p[] = { MOV64_I(1, 0), JMP_I(BPF_JEQ, 1, 0, 2), MOV64_I(0, 5), EXIT, MOV64_I(0, 1), EXIT };
	const struct bpf_func_info fi[] = { { 0, 3 } };
	const struct bpf_line_info li[] = { LI(0, S_ONE, 1), LI(1, S_TWO, 2), LI(2, S_THREE, 3) };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), btf, fi, 1, li, 3);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(1, 0), MOV64_I(0, 1), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, x.nli, 2), "line two went with its jump");
	cr_assert(eq(u32, x.li[0].insn_off, 0));
	cr_assert(eq(u32, x.li[0].line_off, S_ONE));
	cr_assert(eq(u32, x.li[1].insn_off, 1), "line three now names r0 = 1");
	cr_assert(eq(u32, x.li[1].line_off, S_THREE));
	cr_assert(eq(u32, x.li[1].line_col, 3u << 10 | 1));
	cr_assert(eq(u32, run_xdp((int)fd), 1));
	bt_close((int)fd);
	bt_close(btf);
}

BT_TEST(xlated_line_info_of_a_dead_tail)
{
	/* the dead code is the program's tail: its records go, nothing inherits them */
	int btf = load_btf();
	const struct bpf_insn p[] = { MOV64_I(1, 0), JMP_I(BPF_JNE, 1, 0, 2), MOV64_I(0, 1), EXIT, MOV64_I(0, 2), EXIT };
	const struct bpf_func_info fi[] = { { 0, 3 } };
	const struct bpf_line_info li[] = { LI(0, S_ONE, 1), LI(2, S_TWO, 2), LI(4, S_THREE, 3) };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), btf, fi, 1, li, 3);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(1, 0), MOV64_I(0, 1), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, x.nli, 2));
	cr_assert(eq(u32, x.li[0].insn_off, 0));
	cr_assert(eq(u32, x.li[1].insn_off, 1));
	cr_assert(eq(u32, x.li[1].line_off, S_TWO));
	cr_assert(eq(u32, run_xdp((int)fd), 1));
	bt_close((int)fd);
	bt_close(btf);
}

BT_TEST(xlated_may_goto_0_goes)
{
	/* may_goto +0 goes either way to the next instruction: opt_remove_nops cuts it like ja 0 */
	const struct bpf_insn p[] = { MOV64_I(0, 2), BI(BPF_JMP | 0xe0, 0, 0, 0, 0), ALU64_I(BPF_ADD, 0, 1), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(0, 2), ALU64_I(BPF_ADD, 0, 1), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	cr_assert(eq(u32, run_xdp((int)fd), 3));
	bt_close((int)fd);
}

BT_TEST(xlated_map_of_cut_code_stays_used)
{
	/* the ld_imm64 of a map is dead, both halves go; the map stays the program's (used_maps) */
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	const struct bpf_insn p[] = { MOV64_I(0, 0), MOV64_I(1, 0), JMP_I(BPF_JEQ, 1, 0, 2), LD_MAP(2, map), EXIT };
	long fd = load(BPF_PROG_TYPE_XDP, p, N_INSNS(p), -1, NULL, 0, NULL, 0);
	struct xl x;
	get_xlated((int)fd, &x);
	const struct bpf_insn want[] = { MOV64_I(0, 0), MOV64_I(1, 0), EXIT };
	expect_insns(&x, want, N_INSNS(want));
	struct bpf_prog_info info;
	__u32 len = sizeof(info), id = 0;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 1;
	info.map_ids = BT_PTR(&id);
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
	cr_assert(eq(u32, info.nr_map_ids, 1));
	cr_assert(eq(u32, id, bt_map_id(map)));
	bt_close(map);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	long mfd = bt_bpf(BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
	cr_assert(ge(i64, mfd, 0), "the program holds the map: %s", strerror((int)-mfd));
	bt_close((int)mfd);
	cr_assert(eq(u32, run_xdp((int)fd), 0));
	bt_close((int)fd);
}
