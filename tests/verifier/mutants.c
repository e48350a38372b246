/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/mutants.c: the verifier against the kernel's, on programs
 * made wrong on purpose.
 *
 * A few dozen valid programs (seeds: packet parsers, map lookups, ring
 * buffers, helpers with buffers, loops, calls, spills, context reads of
 * several program types) are mutated the ways programs go wrong: a null
 * check dropped, an access widened by a byte, a stack slot left unwritten
 * before it is read, a pointer stored into a map, a loop bound that never
 * holds, a helper buffer size off by one, and generic changes (operands,
 * offsets, opcodes, sizes, jump targets, deleted, swapped or inserted
 * instructions). The mutants are the same on every run (a fixed generator).
 * Mutants 10400 and up come from kfunc seeds (iterators, dynptrs, the RCU
 * bracket: kseeds below), their calls resolved in the host kernel's BTF;
 * mutants 12000 and up from seeds on a map value with a bpf_spin_lock and a
 * bpf_timer (rseeds: the value's BTF record).
 * Each is loaded (log level 0: the verdict and errno, and the
 * verified_insns of an accepted one; then, when refused, log level 1 for its
 * error line, the line before the statistics line).
 *
 *   vmutants record FILE [N]   load on this bpf() and write the answers (the
 *                              kernel build, as root: the corpus under tests/)
 *   vmutants check FILE [N]    load on this bpf() and compare with FILE; print
 *                              the agreement and the disagreements by kind;
 *                              exit 1 below 99 % verdict+errno or 90 % error
 *                              lines (or when the generator no longer makes
 *                              the mutants FILE was recorded from)
 *   vmutants show FILE ID      print mutant ID's instructions and both answers
 *   vmutants seeds FILE        load the unmutated seeds (all must load)
 *   vmutants corpus DIR        write the seeds as tests/fuzz/fuzz_verifier inputs
 *   vmutants logs LEVEL        the seeds' whole logs at LEVEL (1 or 2)
 *   vmutants mlogs LEVEL N M   the whole logs of mutants N to M-1
 *
 * Built twice: vmutants (the engine, bpfemu_bpf()) and vmutants_kernel (the
 * real bpf()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif

#ifdef VMUTANTS_KERNEL
static long sys_bpf(int cmd, union bpf_attr *a)
{
	long r = syscall(__NR_bpf, cmd, a, sizeof(*a));
	return r < 0 ? -errno : r;
}
static void sys_close(int fd) { close(fd); }
#else
#include <bpfemu/bpfemu.h>
static long sys_bpf(int cmd, union bpf_attr *a)
{
	long r = bpfemu_bpf(cmd, a, sizeof(*a));
	return r < 0 ? -errno : r;
}
static void sys_close(int fd)
{
	close(fd);
	bpfemu_forget_fd(fd);
}
#endif

#define MAXI 96

/* ---- instructions ---- */
#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOVI(d, i) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOVR(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV32I(d, i) I(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALUI(op, d, i) I(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALUR(op, d, s) I(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define ALU32I(op, d, i) I(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define LDX(sz, d, s, o) I(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define LDSX(sz, d, s, o) I(BPF_LDX | BPF_MEMSX | (sz), d, s, o, 0)
#define STX(sz, d, s, o) I(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST(sz, d, o, i) I(BPF_ST | BPF_MEM | (sz), d, 0, o, i)
#define XADD(sz, d, s, o, op) I(BPF_STX | BPF_ATOMIC | (sz), d, s, o, op)
#define JI(op, d, i, o) I(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JR(op, d, s, o) I(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define J32I(op, d, i, o) I(BPF_JMP32 | (op) | BPF_K, d, 0, o, i)
#define JA(o) I(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define CALL(id) I(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define PCALL(o) I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, o)
#define EXIT I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDMAP(d, slot) I(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_MAP_FD, 0, slot), I(0, 0, 0, 0, 0)
#define LD64(d, lo, hi) I(BPF_LD | BPF_IMM | BPF_DW, d, 0, 0, lo), I(0, 0, 0, 0, hi)
#define LDABS(sz, i) I(BPF_LD | BPF_ABS | (sz), 0, 0, 0, i)

enum { F_map_lookup = 1, F_map_update = 2, F_probe_read = 4, F_ktime = 5, F_prandom = 7, F_tail_call = 12,
       F_pid_tgid = 14, F_comm = 16, F_perf_output = 25, F_probe_read_kernel = 113, F_rb_output = 130,
       F_rb_reserve = 131, F_rb_submit = 132 };

/* ---- maps, created the same on every run (slots in ld_imm64 become their fds) ---- */
static const struct {
	__u32 type, key, value, max;
} map_specs[] = {
	{ BPF_MAP_TYPE_HASH, 4, 8, 16 },
	{ BPF_MAP_TYPE_ARRAY, 4, 16, 8 },
	{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 8 },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4 },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4 },
};
#define NMAPS (sizeof(map_specs) / sizeof(map_specs[0]))
static int map_fds[NMAPS];

/* ---- seeds: valid programs ---- */
struct seed {
	const char *name;
	__u32 type, attach;
	struct bpf_insn insns[MAXI];
	int len;
};

#define KP BPF_PROG_TYPE_KPROBE
#define SF BPF_PROG_TYPE_SOCKET_FILTER
#define XDP BPF_PROG_TYPE_XDP

static const struct seed seeds[] = {
	{ "xdp_eth", XDP, 0, {
		LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 4), MOVR(4, 2), ALUI(BPF_ADD, 4, 14),
		JR(BPF_JGT, 4, 3, 5), LDX(BPF_H, 5, 2, 12), MOVI(0, 2), JI(BPF_JNE, 5, 8, 1), MOVI(0, 1), EXIT,
		MOVI(0, 2), EXIT }, 12 },
	{ "xdp_var_off", XDP, 0, {
		LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 4), MOVR(4, 2), ALUI(BPF_ADD, 4, 1), JR(BPF_JGT, 4, 3, 7),
		LDX(BPF_B, 5, 2, 0), ALUI(BPF_AND, 5, 15), ALUR(BPF_ADD, 2, 5), MOVR(4, 2), ALUI(BPF_ADD, 4, 4),
		JR(BPF_JGT, 4, 3, 1), LDX(BPF_W, 0, 2, 0), MOVI(0, 2), EXIT }, 14 },
	{ "tc_write", BPF_PROG_TYPE_SCHED_CLS, 0, {
		LDX(BPF_W, 2, 1, 76), LDX(BPF_W, 3, 1, 80), MOVR(4, 2), ALUI(BPF_ADD, 4, 14), JR(BPF_JGT, 4, 3, 3),
		ST(BPF_B, 2, 0, 0xff), ST(BPF_W, 1, 8, 1), LDX(BPF_H, 0, 2, 12), MOVI(0, 0), EXIT }, 10 },
	{ "hash_count", KP, 0, {
		CALL(F_pid_tgid), STX(BPF_W, 10, 0, -4), LDMAP(1, 0), MOVR(2, 10), ALUI(BPF_ADD, 2, -4),
		CALL(F_map_lookup), JI(BPF_JEQ, 0, 0, 3), MOVI(1, 1), XADD(BPF_DW, 0, 1, 0, BPF_ADD), JA(9),
		ST(BPF_DW, 10, -16, 1), LDMAP(1, 0), MOVR(2, 10), ALUI(BPF_ADD, 2, -4), MOVR(3, 10), ALUI(BPF_ADD, 3, -16),
		MOVI(4, 0), CALL(F_map_update), MOVI(0, 0), EXIT }, 22 },
	{ "array_index", KP, 0, {
		CALL(F_prandom), MOVR(6, 0), ST(BPF_W, 10, -4, 0), LDMAP(1, 1), MOVR(2, 10), ALUI(BPF_ADD, 2, -4),
		CALL(F_map_lookup), JI(BPF_JEQ, 0, 0, 4), ALUI(BPF_AND, 6, 1), ALUI(BPF_LSH, 6, 3), ALUR(BPF_ADD, 0, 6),
		LDX(BPF_DW, 1, 0, 0), MOVI(0, 0), EXIT }, 15 },
	{ "ringbuf", KP, 0, {
		LDMAP(1, 2), MOVI(2, 16), MOVI(3, 0), CALL(F_rb_reserve), JI(BPF_JEQ, 0, 0, 7), MOVR(6, 0),
		CALL(F_pid_tgid), STX(BPF_DW, 6, 0, 0), ST(BPF_DW, 6, 8, 0), MOVR(1, 6), MOVI(2, 0), CALL(F_rb_submit),
		MOVI(0, 0), EXIT }, 15 },
	{ "probe_read", KP, 0, {
		MOVR(6, 1), LDX(BPF_DW, 3, 6, 112), MOVR(1, 10), ALUI(BPF_ADD, 1, -16), MOVI(2, 16),
		CALL(F_probe_read_kernel), MOVR(1, 10), ALUI(BPF_ADD, 1, -32), MOVI(2, 16), CALL(F_comm),
		LDX(BPF_DW, 0, 10, -16), LDX(BPF_B, 1, 10, -32), MOVI(0, 0), EXIT }, 14 },
	{ "tracepoint", BPF_PROG_TYPE_TRACEPOINT, 0, {
		LDX(BPF_DW, 2, 1, 8), LDX(BPF_W, 3, 1, 16), MOVR(0, 2), ALUR(BPF_ADD, 0, 3), MOVI(0, 0), EXIT }, 6 },
	{ "perf_output", KP, 0, {
		MOVR(6, 1), CALL(F_ktime), STX(BPF_DW, 10, 0, -8), MOVR(1, 6), LDMAP(2, 3), LD64(3, -1, 0), MOVR(4, 10),
		ALUI(BPF_ADD, 4, -8), MOVI(5, 8), CALL(F_perf_output), MOVI(0, 0), EXIT }, 14 },
	{ "loop", SF, 0, {
		MOVI(0, 0), MOVI(1, 0), ALUR(BPF_ADD, 0, 1), ALUI(BPF_ADD, 1, 1), JI(BPF_JLT, 1, 16, -3), MOVI(0, 0),
		EXIT }, 7 },
	{ "subprog", SF, 0, {
		ST(BPF_DW, 10, -8, 5), MOVR(1, 10), ALUI(BPF_ADD, 1, -8), PCALL(2), ALUI(BPF_AND, 0, 255), EXIT,
		LDX(BPF_DW, 0, 1, 0), EXIT }, 8 },
	{ "spill_fill", KP, 0, {
		MOVR(6, 1), STX(BPF_DW, 10, 6, -8), CALL(F_pid_tgid), STX(BPF_DW, 10, 0, -16), LDX(BPF_DW, 1, 10, -8),
		LDX(BPF_DW, 2, 1, 112), LDX(BPF_DW, 3, 10, -16), MOVI(0, 0), EXIT }, 9 },
	{ "stack_var", KP, 0, {
		ST(BPF_DW, 10, -8, 0), ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -24, 0), ST(BPF_DW, 10, -32, 0),
		CALL(F_prandom), ALUI(BPF_AND, 0, 31), MOVR(1, 10), ALUI(BPF_ADD, 1, -32), ALUR(BPF_ADD, 1, 0),
		LDX(BPF_B, 2, 1, 0), MOVI(0, 0), EXIT }, 12 },
	{ "tail_call", SF, 0, {
		LDMAP(2, 4), MOVI(3, 0), CALL(F_tail_call), MOVI(0, 0), EXIT }, 6 },
	{ "ld_abs", SF, 0, {
		MOVR(6, 1), LDABS(BPF_B, 23), JI(BPF_JNE, 0, 6, 2), MOVI(0, -1), EXIT, MOVI(0, 0), EXIT }, 7 },
	{ "alu32_bounds", KP, 0, {
		CALL(F_prandom), J32I(BPF_JGT, 0, 7, 8), STX(BPF_W, 10, 0, -4), LDMAP(1, 1), MOVR(2, 10),
		ALUI(BPF_ADD, 2, -4), CALL(F_map_lookup), JI(BPF_JEQ, 0, 0, 1), LDX(BPF_DW, 1, 0, 8), MOVI(0, 0),
		EXIT }, 12 },
	{ "ldsx_movsx", SF, 0, {
		ST(BPF_DW, 10, -8, -1), LDSX(BPF_B, 1, 10, -8), I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 16, 0), MOVR(0, 2),
		ALUI(BPF_AND, 0, 1), EXIT }, 6 },
	{ "pkt_reversed", XDP, 0, {
		LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 4), MOVR(4, 2), ALUI(BPF_ADD, 4, 8), JR(BPF_JGE, 3, 4, 2),
		MOVI(0, 1), EXIT, LDX(BPF_DW, 0, 2, 0), MOVI(0, 2), EXIT }, 10 },
	{ "map_value_var", KP, 0, {
		ST(BPF_W, 10, -4, 0), LDMAP(1, 1), MOVR(2, 10), ALUI(BPF_ADD, 2, -4), CALL(F_map_lookup),
		JI(BPF_JEQ, 0, 0, 6), MOVR(6, 0), CALL(F_prandom), ALUI(BPF_AND, 0, 15), JI(BPF_JGT, 0, 8, 2),
		ALUR(BPF_ADD, 6, 0), LDX(BPF_DW, 1, 6, 0), MOVI(0, 0), EXIT }, 15 },
	{ "raw_tp", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, {
		LDX(BPF_DW, 2, 1, 0), LDX(BPF_DW, 3, 1, 8), MOVI(0, 0), EXIT }, 4 },
	{ "perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, {
		LDX(BPF_DW, 2, 1, 168), LDX(BPF_W, 3, 1, 168), LDX(BPF_DW, 4, 1, 128), MOVI(0, 0), EXIT }, 5 },
	{ "cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, {
		LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 8), MOVI(0, 1), JI(BPF_JGT, 2, 1000, 1), MOVI(0, 0), EXIT }, 6 },
	{ "atomics", KP, 0, {
		ST(BPF_W, 10, -4, 1), LDMAP(1, 1), MOVR(2, 10), ALUI(BPF_ADD, 2, -4), CALL(F_map_lookup),
		JI(BPF_JEQ, 0, 0, 4), MOVI(1, 1), XADD(BPF_DW, 0, 1, 0, BPF_ADD), MOVI(2, 5),
		XADD(BPF_DW, 0, 2, 8, BPF_ADD | BPF_FETCH), MOVI(0, 0), EXIT }, 13 },
	{ "helper_map_buf", KP, 0, {
		ST(BPF_W, 10, -4, 2), LDMAP(1, 1), MOVR(2, 10), ALUI(BPF_ADD, 2, -4), CALL(F_map_lookup),
		JI(BPF_JEQ, 0, 0, 4), MOVR(1, 0), MOVI(2, 16), MOVI(3, 0), CALL(F_probe_read_kernel), MOVI(0, 0),
		EXIT }, 13 },
	{ "ringbuf_output", KP, 0, {
		ST(BPF_DW, 10, -8, 1), LDMAP(1, 2), MOVR(2, 10), ALUI(BPF_ADD, 2, -8), MOVI(3, 8), MOVI(4, 0),
		CALL(F_rb_output), MOVI(0, 0), EXIT }, 10 },
	{ "percpu_lookup", KP, 0, {
		ST(BPF_W, 10, -4, 3), LDMAP(1, 5), MOVR(2, 10), ALUI(BPF_ADD, 2, -4), CALL(F_map_lookup),
		JI(BPF_JEQ, 0, 0, 2), LDX(BPF_DW, 1, 0, 0), STX(BPF_DW, 0, 1, 0), MOVI(0, 0), EXIT }, 11 },
};
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

/*
 * kfunc seeds (mutants KF_BASE and up): calls of the kernel's own kfuncs
 * that bpfemu runs (open-coded iterators, dynptrs over the packet, the RCU
 * bracket). A call names its kfunc by KF_IMM + index into kfunc_names;
 * load() puts the host kernel BTF's id of that name there (a mutated imm
 * that names none is loaded as it is). The ids are the host's, as libbpf's
 * would be; the records hold no id.
 */
static const char *const kfunc_names[] = { "bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy",
					   "bpf_dynptr_from_xdp", "bpf_dynptr_slice", "bpf_rcu_read_lock",
					   "bpf_rcu_read_unlock", "bpf_dynptr_size" };
#define NKFUNCS (sizeof(kfunc_names) / sizeof(kfunc_names[0]))
enum { K_new, K_next, K_destroy, K_from_xdp, K_slice, K_rcu_lock, K_rcu_unlock, K_dsize };
#define KF_IMM 1000000
#define KFUNC(k) I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, KF_IMM + (k))
#define KF_BASE 10400
static __s32 kfunc_ids[NKFUNCS];
static bool kfuncs_resolved;

static const struct seed kseeds[] = {
	{ "iter_sum", XDP, 0, {
		MOVR(7, 10), ALUI(BPF_ADD, 7, -8), MOVI(6, 0), MOVR(1, 7), MOVI(2, 0), MOVI(3, 10), KFUNC(K_new),
		MOVR(1, 7), KFUNC(K_next), JI(BPF_JEQ, 0, 0, 8), MOVI(1, 0),
		LDX(BPF_W, 6, 0, 0), ALUR(BPF_ADD, 6, 1), MOVR(1, 10), ALUI(BPF_ADD, 1, -8), KFUNC(K_next), MOVR(1, 6),
		JI(BPF_JNE, 0, 0, -7),
		MOVR(1, 10), ALUI(BPF_ADD, 1, -8), KFUNC(K_destroy), MOVR(0, 6), EXIT }, 23 },
	{ "iter_array", XDP, 0, {
		MOVR(1, 10), ALUI(BPF_ADD, 1, -8), MOVI(2, 0), MOVI(3, 4), KFUNC(K_new),
		ST(BPF_DW, 10, -40, 0), ST(BPF_DW, 10, -32, 0), ST(BPF_DW, 10, -24, 0), ST(BPF_DW, 10, -16, 0),
		MOVR(1, 10), ALUI(BPF_ADD, 1, -8), KFUNC(K_next), JI(BPF_JEQ, 0, 0, 8),
		LDX(BPF_W, 2, 0, 0), JI(BPF_JGT, 2, 3, -6), ALUI(BPF_LSH, 2, 3), MOVR(3, 10), ALUI(BPF_ADD, 3, -40),
		ALUR(BPF_ADD, 3, 2), ST(BPF_DW, 3, 0, 7), JA(-12),
		MOVR(1, 10), ALUI(BPF_ADD, 1, -8), KFUNC(K_destroy), LDX(BPF_DW, 0, 10, -40), EXIT }, 26 },
	{ "dynptr_slice", XDP, 0, {
		MOVR(6, 1), MOVR(3, 10), ALUI(BPF_ADD, 3, -16), MOVR(1, 6), MOVI(2, 0), KFUNC(K_from_xdp),
		MOVR(1, 10), ALUI(BPF_ADD, 1, -16), MOVI(2, 0), MOVI(3, 0), MOVI(4, 14), KFUNC(K_slice),
		JI(BPF_JEQ, 0, 0, 2), LDX(BPF_B, 0, 0, 12), EXIT,
		MOVR(1, 10), ALUI(BPF_ADD, 1, -16), KFUNC(K_dsize), EXIT }, 19 },
	{ "rcu_lookup", XDP, 0, {
		KFUNC(K_rcu_lock), ST(BPF_W, 10, -4, 0), LDMAP(1, 0), MOVR(2, 10), ALUI(BPF_ADD, 2, -4),
		CALL(F_map_lookup), MOVI(6, 0), JI(BPF_JEQ, 0, 0, 1), LDX(BPF_DW, 6, 0, 0), KFUNC(K_rcu_unlock),
		MOVR(0, 6), ALUI(BPF_AND, 0, 1), EXIT }, 14 },
};
#define NKSEEDS (sizeof(kseeds) / sizeof(kseeds[0]))

/*
 * record seeds (mutants RS_BASE and up): an array map whose value has BTF
 * with a bpf_spin_lock at 4 and a bpf_timer at 24 (struct { int pad; struct
 * bpf_spin_lock lock; int cnt; u64 x; struct bpf_timer t; }), slot RMAP in
 * ld_imm64; the lock's pairing, the direct access and the timer rules are
 * what their mutants break.
 */
#define RS_BASE 12000
#define RMAP 100
static int rmap_fd = -1;
#define RLOOKUP ST(BPF_W, 10, -4, 0), LDMAP(1, RMAP), MOVR(2, 10), ALUI(BPF_ADD, 2, -4), CALL(F_map_lookup), \
	JI(BPF_JNE, 0, 0, 2), MOVI(0, 0), EXIT, MOVR(6, 0)
static const struct seed rseeds[] = {
	{ "lock_inc", XDP, 0, {
		RLOOKUP, MOVR(1, 6), ALUI(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_lock), LDX(BPF_W, 1, 6, 8),
		ALUI(BPF_ADD, 1, 1), STX(BPF_W, 6, 1, 8), MOVR(1, 6), ALUI(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_unlock),
		LDX(BPF_DW, 0, 6, 16), EXIT }, 21 },
	{ "timer_arm", XDP, 0, {
		RLOOKUP, MOVR(1, 6), ALUI(BPF_ADD, 1, 24), LDMAP(2, RMAP), MOVI(3, 1), CALL(BPF_FUNC_timer_init),
		MOVR(1, 6), ALUI(BPF_ADD, 1, 24), MOVI(2, 1000), MOVI(3, 0), CALL(BPF_FUNC_timer_start),
		MOVR(1, 6), ALUI(BPF_ADD, 1, 24), CALL(BPF_FUNC_timer_cancel), MOVI(0, 0), EXIT }, 26 },
	{ "lock_copy", XDP, 0, {
		RLOOKUP, MOVR(1, 6), ALUI(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_lock), LDX(BPF_DW, 7, 6, 16),
		LDX(BPF_W, 8, 6, 0), STX(BPF_W, 6, 8, 8), MOVR(1, 6), ALUI(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_unlock),
		MOVR(0, 7), EXIT }, 21 },
};
#define NRSEEDS (sizeof(rseeds) / sizeof(rseeds[0]))

/* BPF_BTF_LOAD of the record map's value type, then the map (-1: the host refuses either) */
static int make_record_map(void)
{
	static const char strs[] = "\0int\0bpf_spin_lock\0val\0u64\0bpf_timer\0a\0b\0v\0pad\0lock\0cnt\0x\0t";
	enum { S_int = 1, S_lock = 5, S_val = 19, S_u64 = 23, S_timer = 27, S_a = 37, S_b = 39, S_v = 41, S_pad = 43,
	       S_lockm = 47, S_cnt = 52, S_x = 56, S_t = 58 };
#define TY(name, kind, vlen, sz) (name), ((__u32)(kind) << 24) | (vlen), (sz)
	static const __u32 types[] = {
		TY(S_int, BTF_KIND_INT, 0, 4), (1u << 24) | 32,                        /* [1] int */
		TY(S_lock, BTF_KIND_STRUCT, 1, 4), S_val, 1, 0,                        /* [2] bpf_spin_lock */
		TY(S_u64, BTF_KIND_INT, 0, 8), 64,                                     /* [3] u64 */
		TY(S_timer, BTF_KIND_STRUCT, 2, 16), S_a, 3, 0, S_b, 3, 64,            /* [4] bpf_timer */
		TY(S_v, BTF_KIND_STRUCT, 5, 40), S_pad, 1, 0, S_lockm, 2, 32, S_cnt, 1, 64, S_x, 3, 128,
		S_t, 4, 192,                                                           /* [5] the value */
	};
#undef TY
	static unsigned char blob[24 + sizeof(types) + sizeof(strs)];
	struct { __u16 magic; __u8 version, flags; __u32 hdr_len, type_off, type_len, str_off, str_len; } h = {
		0xeB9F, 1, 0, 24, 0, sizeof(types), sizeof(types), sizeof(strs) };
	memcpy(blob, &h, 24);
	memcpy(blob + 24, types, sizeof(types));
	memcpy(blob + 24 + sizeof(types), strs, sizeof(strs));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (__u64)(unsigned long)blob;
	a.btf_size = sizeof(blob);
	long btf = sys_bpf(BPF_BTF_LOAD, &a);
	if (btf < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 40;
	a.max_entries = 2;
	a.btf_fd = (__u32)btf;
	a.btf_key_type_id = 1;
	a.btf_value_type_id = 5;
	long fd = sys_bpf(BPF_MAP_CREATE, &a);
	sys_close((int)btf);
	return fd < 0 ? -1 : (int)fd;
}

/* the host kernel BTF's FUNC ids of kfunc_names (none found: kfuncs_resolved stays false) */
static void resolve_kfuncs(void)
{
	FILE *f = fopen("/sys/kernel/btf/vmlinux", "rb");
	if (!f)
		return;
	static unsigned char buf[16 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct { __u16 magic; __u8 version, flags; __u32 hdr_len, type_off, type_len, str_off, str_len; } h;
	if (n < sizeof(h))
		return;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != 0xeB9F || (size_t)h.hdr_len + h.str_off + h.str_len > n ||
	    (size_t)h.hdr_len + h.type_off + h.type_len > n)
		return;
	const unsigned char *t = buf + h.hdr_len + h.type_off, *end = t + h.type_len;
	const char *strs = (const char *)buf + h.hdr_len + h.str_off;
	int found = 0;
	for (__u32 id = 1; t + 12 <= end; id++) {
		__u32 name_off, info;
		memcpy(&name_off, t, 4);
		memcpy(&info, t + 4, 4);
		__u32 kind = (info >> 24) & 0x1f, vlen = info & 0xffff;
		if (kind == 12 && name_off < h.str_len)          /* FUNC */
			for (size_t k = 0; k < NKFUNCS; k++)
				if (!strcmp(strs + name_off, kfunc_names[k]) && !kfunc_ids[k]) {
					kfunc_ids[k] = (__s32)id;
					found++;
				}
		size_t extra = 0;
		switch (kind) {
		case 1: case 14: case 17: extra = 4; break;      /* INT, VAR, DECL_TAG */
		case 3: extra = 12; break;                       /* ARRAY */
		case 4: case 5: case 15: case 19: extra = 12u * vlen; break;  /* STRUCT, UNION, DATASEC, ENUM64 */
		case 6: case 13: extra = 8u * vlen; break;       /* ENUM, FUNC_PROTO */
		default: break;
		}
		t += 12 + extra;
	}
	kfuncs_resolved = found == (int)NKFUNCS;
}

/* ---- the mutants ---- */
static __u64 rng_state;
static __u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static int rndn(int n) { return (int)(rnd() % (__u64)n); }

struct prog {
	struct bpf_insn insns[MAXI + 8];
	int len;
	char kind[32];
};

static bool is_ld64(const struct bpf_insn *i) { return i->code == (BPF_LD | BPF_IMM | BPF_DW); }
static bool is_jmp(const struct bpf_insn *i)
{
	__u8 cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}
static bool is_cond(const struct bpf_insn *i) { return is_jmp(i) && BPF_OP(i->code) != BPF_JA; }

/* index of the instruction a random pick lands on, never the second half of an ld_imm64 */
static int pick(const struct prog *p, bool (*ok)(const struct prog *, int))
{
	int cand[MAXI + 8], n = 0;
	for (int i = 0; i < p->len; i++) {
		if (i && is_ld64(&p->insns[i - 1]))
			continue;
		if (!ok || ok(p, i))
			cand[n++] = i;
	}
	return n ? cand[rndn(n)] : -1;
}

/* insert (or, with ins NULL, delete) at pos, keeping jumps and calls pointing at their targets */
static void fixup(struct prog *p, int pos, int delta)
{
	for (int i = 0; i < p->len; i++) {
		struct bpf_insn *in = &p->insns[i];
		int tgt;
		if (is_jmp(in)) {
			int o = in->code == (BPF_JMP32 | BPF_JA) ? in->imm : in->off;
			tgt = i + o + 1;
			int ni = i >= pos ? i + delta : i, nt = tgt >= pos ? tgt + delta : tgt;
			if (in->code == (BPF_JMP32 | BPF_JA))
				in->imm = nt - ni - 1;
			else
				in->off = (__s16)(nt - ni - 1);
		} else if ((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL)) {
			tgt = i + in->imm + 1;
			int ni = i >= pos ? i + delta : i, nt = tgt >= pos ? tgt + delta : tgt;
			in->imm = nt - ni - 1;
		}
	}
}

static void insert(struct prog *p, int pos, struct bpf_insn in)
{
	if (p->len >= MAXI + 7)
		return;
	fixup(p, pos, 1);
	memmove(&p->insns[pos + 1], &p->insns[pos], (size_t)(p->len - pos) * sizeof(in));
	p->insns[pos] = in;
	p->len++;
}

static void delete(struct prog *p, int pos)
{
	if (p->len <= 1)
		return;
	fixup(p, pos + 1, -1);
	memmove(&p->insns[pos], &p->insns[pos + 1], (size_t)(p->len - pos - 1) * sizeof(p->insns[0]));
	p->len--;
}

static bool after_call_null_check(const struct prog *p, int i)
{
	const struct bpf_insn *in = &p->insns[i];
	return i > 0 && is_cond(in) && BPF_SRC(in->code) == BPF_K && in->imm == 0 && in->dst_reg == 0 &&
	       p->insns[i - 1].code == (BPF_JMP | BPF_CALL);
}
static bool is_mem(const struct prog *p, int i)
{
	__u8 cls = BPF_CLASS(p->insns[i].code);
	return cls == BPF_LDX || cls == BPF_STX || cls == BPF_ST;
}
static bool is_stack_store(const struct prog *p, int i)
{
	__u8 cls = BPF_CLASS(p->insns[i].code);
	return (cls == BPF_ST || (cls == BPF_STX && BPF_MODE(p->insns[i].code) == BPF_MEM)) && p->insns[i].dst_reg == 10;
}
static bool is_back_jump(const struct prog *p, int i) { return is_cond(&p->insns[i]) && p->insns[i].off < 0; }
static bool sets_size_arg(const struct prog *p, int i)
{
	const struct bpf_insn *in = &p->insns[i];
	if (in->code != (BPF_ALU64 | BPF_MOV | BPF_K) || (in->dst_reg != 2 && in->dst_reg != 3 && in->dst_reg != 5) ||
	    in->imm <= 0)
		return false;
	for (int j = i + 1; j < p->len && j < i + 6; j++)
		if (p->insns[j].code == (BPF_JMP | BPF_CALL))
			return true;
	return false;
}
static bool any(const struct prog *p, int i)
{
	(void)p;
	(void)i;
	return true;
}
static bool has_imm(const struct prog *p, int i)
{
	__u8 cls = BPF_CLASS(p->insns[i].code);
	return (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_JMP || cls == BPF_JMP32 || cls == BPF_ST) &&
	       BPF_SRC(p->insns[i].code) == BPF_K;
}

static bool is_jmp_pick(const struct prog *p, int i);

/* one generic change; returns its name */
static const char *generic(struct prog *p)
{
	int i;
	switch (rndn(11)) {
	case 0:
		if ((i = pick(p, has_imm)) < 0)
			break;
		p->insns[i].imm += rndn(2) ? rndn(9) - 4 : (rndn(2) ? 1 << rndn(31) : -(rndn(64)));
		return "imm";
	case 1:
		if ((i = pick(p, is_mem)) < 0)
			break;
		p->insns[i].off += (__s16)(rndn(17) - 8);
		return "mem_off";
	case 2:
		if ((i = pick(p, any)) < 0)
			break;
		if (rndn(2))
			p->insns[i].dst_reg = (__u8)rndn(11);
		else
			p->insns[i].src_reg = (__u8)rndn(11);
		return "reg";
	case 3: {
		if ((i = pick(p, any)) < 0)
			break;
		__u8 c = p->insns[i].code;
		p->insns[i].code = (__u8)((c & 0x0f) | (rndn(16) << 4));
		return "opcode";
	}
	case 4:
		if ((i = pick(p, is_mem)) < 0)
			break;
		p->insns[i].code = (__u8)((p->insns[i].code & ~0x18) | (rndn(4) << 3));
		return "size";
	case 5:
		if ((i = pick(p, any)) < 0)
			break;
		p->insns[i] = (struct bpf_insn)JA(0);
		return "nop";
	case 6:
		if ((i = pick(p, any)) < 0 || is_ld64(&p->insns[i]))
			break;
		delete(p, i);
		return "delete";
	case 7:
		if ((i = pick(p, any)) < 0 || i + 1 >= p->len || is_ld64(&p->insns[i]) || is_ld64(&p->insns[i + 1]) ||
		    is_jmp(&p->insns[i]) || is_jmp(&p->insns[i + 1]))
			break;
		{
			struct bpf_insn t = p->insns[i];
			p->insns[i] = p->insns[i + 1];
			p->insns[i + 1] = t;
		}
		return "swap";
	case 8:
		if ((i = pick(p, is_jmp_pick)) < 0)
			break;
		p->insns[i].off += (__s16)(rndn(2) ? 1 : -1) * (__s16)(1 + rndn(2));
		return "jmp_target";
	case 9: {
		if ((i = pick(p, any)) < 0)
			break;
		__u8 cls = BPF_CLASS(p->insns[i].code);
		if (cls == BPF_ALU || cls == BPF_ALU64) {
			p->insns[i].code ^= BPF_ALU ^ BPF_ALU64;
			return "alu_width";
		}
		if (cls == BPF_JMP || cls == BPF_JMP32) {
			if (BPF_OP(p->insns[i].code) == BPF_CALL || BPF_OP(p->insns[i].code) == BPF_EXIT)
				break;
			p->insns[i].code ^= BPF_JMP ^ BPF_JMP32;
			return "jmp_width";
		}
		break;
	}
	case 10:
		i = pick(p, any);
		if (i < 0)
			break;
		insert(p, i, (struct bpf_insn)MOVI(rndn(10), rndn(64) - 8));
		return "insert_mov";
	}
	return NULL;
}

static bool is_jmp_pick(const struct prog *p, int i) { return is_jmp(&p->insns[i]); }

/* the targeted mutations: what real programs get wrong */
static const char *targeted(struct prog *p, int which)
{
	int i;
	switch (which) {
	case 0:         /* a null check dropped: the map value / ring buffer record used as if found */
		if ((i = pick(p, after_call_null_check)) < 0)
			return NULL;
		p->insns[i] = (struct bpf_insn)JA(0);
		return "drop_null_check";
	case 1:         /* an access one byte wider (or one byte further) than what was checked */
		if ((i = pick(p, is_mem)) < 0)
			return NULL;
		if (rndn(2) && BPF_SIZE(p->insns[i].code) != BPF_DW) {
			__u8 sz = BPF_SIZE(p->insns[i].code);
			sz = sz == BPF_B ? BPF_H : sz == BPF_H ? BPF_W : BPF_DW;
			p->insns[i].code = (__u8)((p->insns[i].code & ~0x18) | sz);
		} else {
			p->insns[i].off += 1;
		}
		return "widen_access";
	case 2:         /* a stack slot read before anything was written to it */
		if ((i = pick(p, is_stack_store)) < 0)
			return NULL;
		p->insns[i] = (struct bpf_insn)JA(0);
		return "uninit_stack_read";
	case 3:         /* a pointer stored where a scalar belongs: into a map value, the context, the packet */
		if ((i = pick(p, is_mem)) < 0 || BPF_CLASS(p->insns[i].code) == BPF_LDX)
			return NULL;
		p->insns[i].code = (__u8)(BPF_STX | BPF_MEM | BPF_DW);
		p->insns[i].src_reg = (__u8)(rndn(2) ? 10 : 1);
		p->insns[i].off &= ~7;
		return "store_pointer";
	case 4:         /* a loop whose bound never holds */
		if ((i = pick(p, is_back_jump)) < 0) {
			/* none: make one, a jump back to the start */
			insert(p, p->len - 1, (struct bpf_insn)JA(-(p->len)));
			return "unbounded_loop";
		}
		if (rndn(2))
			p->insns[i].imm = 0x7fffffff;
		else
			p->insns[i - 1].imm = 0;
		return "unbounded_loop";
	case 5:         /* a helper's buffer size off */
		if ((i = pick(p, sets_size_arg)) < 0)
			return NULL;
		p->insns[i].imm += rndn(2) ? 1 : (rndn(2) ? 8 : -p->insns[i].imm - 1);
		return "helper_buf_size";
	}
	return NULL;
}

/* mutant number id: a seed and one or two changes, always the same */
static void make(int id, struct prog *p, const struct seed **sd)
{
	*sd = id >= RS_BASE ? &rseeds[(id - RS_BASE) % NRSEEDS]
	      : id >= KF_BASE ? &kseeds[(id - KF_BASE) % NKSEEDS] : &seeds[id % NSEEDS];
	memcpy(p->insns, (*sd)->insns, sizeof((*sd)->insns));
	p->len = (*sd)->len;
	rng_state = 0x9e3779b97f4a7c15ull ^ ((__u64)id * 0x100000001b3ull);
	rnd();
	const char *k = NULL;
	if (rndn(2))
		k = targeted(p, rndn(6));
	for (int tries = 0; !k && tries < 20; tries++)
		k = generic(p);
	snprintf(p->kind, sizeof(p->kind), "%s", k ? k : "none");
	if (rndn(8) == 0) {
		const char *k2 = generic(p);
		if (k2)
			snprintf(p->kind, sizeof(p->kind), "double");
	}
}

static __u64 fnv(const void *b, size_t n)
{
	__u64 h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)b)[i]) * 0x100000001b3ull;
	return h;
}

/* ---- loading ---- */
struct answer {
	int err;                /* 0: accepted, else the errno */
	long verified;          /* accepted: verified_insns */
	char line[160];         /* refused: the log line before the statistics line */
};

static void last_line(const char *log, char *out, size_t n)
{
	/* the statistics line ends the log; the line before it is the error */
	const char *stats = strstr(log, "processed ");
	const char *p, *end = NULL, *start;
	for (p = log; (p = strstr(p, "\nprocessed ")); p++)
		stats = p + 1;
	if (!stats) {
		out[0] = '\0';
		return;
	}
	end = stats > log ? stats - 1 : stats;   /* the '\n' before it */
	start = end;
	while (start > log && start[-1] != '\n')
		start--;
	size_t len = (size_t)(end - start);
	if (len >= n)
		len = n - 1;
	memcpy(out, start, len);
	out[len] = '\0';
	for (char *c = out; *c; c++)
		if (*c == '"' || *c == '\t')
			*c = '\'';
}

static char logbuf[1 << 18];
static __u32 log_level;

static void load(const struct prog *p, const struct seed *sd, struct answer *a)
{
	struct bpf_insn insns[MAXI + 8];
	memcpy(insns, p->insns, sizeof(insns));
	for (int i = 0; i + 1 < p->len; i++)
		if (is_ld64(&insns[i]) && (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE)) {
			insns[i].imm = insns[i].imm >= 0 && insns[i].imm < (int)NMAPS ? map_fds[insns[i].imm]
				       : insns[i].imm == RMAP && rmap_fd >= 0 ? rmap_fd : 9999;
			i++;
		}
	for (int i = 0; i < p->len; i++)
		if (insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == BPF_PSEUDO_KFUNC_CALL &&
		    insns[i].imm >= KF_IMM && insns[i].imm < KF_IMM + (int)NKFUNCS)
			insns[i].imm = kfunc_ids[insns[i].imm - KF_IMM];
	union bpf_attr at;
	memset(&at, 0, sizeof(at));
	at.prog_type = sd->type;
	at.expected_attach_type = sd->attach;
	at.insns = (__u64)(unsigned long)insns;
	at.insn_cnt = (__u32)p->len;
	at.license = (__u64)(unsigned long)"GPL";
	memset(a, 0, sizeof(*a));
	if (log_level) {
		at.log_level = log_level;
		at.log_buf = (__u64)(unsigned long)logbuf;
		at.log_size = sizeof(logbuf);
	}
	long fd = sys_bpf(BPF_PROG_LOAD, &at);
	if (fd >= 0) {
		struct bpf_prog_info info;
		union bpf_attr ia;
		memset(&info, 0, sizeof(info));
		memset(&ia, 0, sizeof(ia));
		ia.info.bpf_fd = (__u32)fd;
		ia.info.info_len = sizeof(info);
		ia.info.info = (__u64)(unsigned long)&info;
		a->verified = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &ia) ? -1 : (long)info.verified_insns;
		sys_close((int)fd);
		return;
	}
	a->err = (int)-fd;
	if (log_level) {                /* the log is there already (show, logs, mlogs) */
		last_line(logbuf, a->line, sizeof(a->line));
		return;
	}
	at.log_level = 1;
	at.log_buf = (__u64)(unsigned long)logbuf;
	at.log_size = sizeof(logbuf);
	logbuf[0] = '\0';
	fd = sys_bpf(BPF_PROG_LOAD, &at);
	if (fd >= 0)
		sys_close((int)fd);
	last_line(logbuf, a->line, sizeof(a->line));
}

static void make_maps(void)
{
	for (size_t k = 0; k < NMAPS; k++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = map_specs[k].type;
		a.key_size = map_specs[k].key;
		a.value_size = map_specs[k].value;
		a.max_entries = map_specs[k].max;
		long fd = sys_bpf(BPF_MAP_CREATE, &a);
		if (fd < 0) {
			fprintf(stderr, "vmutants: map %zu (type %u): %s\n", k, map_specs[k].type, strerror((int)-fd));
			exit(77);
		}
		map_fds[k] = (int)fd;
	}
	rmap_fd = make_record_map();
}

static const char *ename(int e)
{
	static char buf[16];
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTSUP: return "EOPNOTSUPP";
	case EPROTO: return "EPROTO";
	case 524: return "ENOTSUPP";
	default: snprintf(buf, sizeof(buf), "E%d", e); return buf;
	}
}

/* corpus line: ID KIND SEED HASH ERRNO VERIFIED "LINE" */
struct rec {
	int id;
	char kind[32], seed[32];
	unsigned long long hash;
	char err[16];
	long verified;
	char line[160];
};

static int parse(const char *s, struct rec *r)
{
	int n = 0;
	if (sscanf(s, "%d %31s %31s %llx %15s %ld \"%n", &r->id, r->kind, r->seed, &r->hash, r->err, &r->verified, &n) < 6 ||
	    !n)
		return -1;
	const char *q = s + n, *e = strrchr(q, '"');
	size_t len = e ? (size_t)(e - q) : strlen(q);
	if (len >= sizeof(r->line))
		len = sizeof(r->line) - 1;
	memcpy(r->line, q, len);
	r->line[len] = '\0';
	return 0;
}

static void print_prog(const struct prog *p)
{
	for (int i = 0; i < p->len; i++)
		printf("  %3d: code %02x dst r%d src r%d off %d imm %d\n", i, p->insns[i].code, p->insns[i].dst_reg,
		       p->insns[i].src_reg, p->insns[i].off, p->insns[i].imm);
}

#define MAXKINDS 48
struct kstat {
	char kind[32];
	int n, verdict, line, line_n, verified, verified_n;
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s record|check FILE [N] | show FILE ID\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1], *file = argv[2];
	int n = argc > 3 ? atoi(argv[3]) : RS_BASE + 600;
	resolve_kfuncs();

	if (!strcmp(mode, "show")) {
		int id = atoi(argv[3]);
		struct prog p;
		const struct seed *sd;
		make(id, &p, &sd);
		printf("mutant %d: seed %s (type %u), %s, %d insns\n", id, sd->name, sd->type, p.kind, p.len);
		print_prog(&p);
		make_maps();
		struct answer a;
		load(&p, sd, &a);
		printf("here: %s %ld \"%s\"\n", ename(a.err), a.verified, a.line);
		if (getenv("VMUTANTS_LOG")) {           /* the whole log at this level */
			log_level = (__u32)atoi(getenv("VMUTANTS_LOG"));
			load(&p, sd, &a);
			printf("%s", logbuf);
		}
		FILE *f = fopen(file, "r");
		char buf[512];
		while (f && fgets(buf, sizeof(buf), f)) {
			struct rec r;
			if (!parse(buf, &r) && r.id == id)
				printf("recorded: %s %ld \"%s\"\n", r.err, r.verified, r.line);
		}
		if (f)
			fclose(f);
		return 0;
	}
	if (!strcmp(mode, "corpus")) {           /* the seeds as fuzz_verifier inputs, into directory FILE */
		for (size_t k = 0; k < NSEEDS; k++) {
			char path[512];
			snprintf(path, sizeof(path), "%s/seed-%s", file, seeds[k].name);
			FILE *f = fopen(path, "wb");
			if (!f) {
				perror(path);
				return 1;
			}
			unsigned char head[3] = { (unsigned char)seeds[k].type, (unsigned char)seeds[k].attach, 1 | 8 };
			fwrite(head, 1, 3, f);
			fwrite(seeds[k].insns, sizeof(struct bpf_insn), (size_t)seeds[k].len, f);
			fclose(f);
		}
		return 0;
	}
	make_maps();
	if (!strcmp(mode, "mlogs")) {            /* mutants [N, M)'s whole logs at level FILE */
		log_level = (__u32)atoi(file);
		int to = argc > 4 ? atoi(argv[4]) : n + 1;
		for (int id = n; id < to; id++) {
			struct prog p;
			const struct seed *sd;
			struct answer a;
			make(id, &p, &sd);
			logbuf[0] = '\0';
			load(&p, sd, &a);
			printf("=== %d %s %s\n%s", id, sd->name, ename(a.err), logbuf);
		}
		return 0;
	}
	if (!strcmp(mode, "logs")) {             /* the seeds' whole logs at level FILE (1 or 2) */
		log_level = (__u32)atoi(file);
		for (size_t k = 0; k < NSEEDS + NKSEEDS + NRSEEDS; k++) {
			const struct seed *sd = k < NSEEDS ? &seeds[k]
					      : k < NSEEDS + NKSEEDS ? &kseeds[k - NSEEDS] : &rseeds[k - NSEEDS - NKSEEDS];
			struct prog p;
			struct answer a;
			memcpy(p.insns, sd->insns, sizeof(sd->insns));
			p.len = sd->len;
			logbuf[0] = '\0';
			load(&p, sd, &a);
			printf("=== %s %s\n%s", sd->name, ename(a.err), logbuf);
		}
		return 0;
	}
	if (!strcmp(mode, "seeds")) {            /* the seeds themselves: all must load */
		int bad = 0;
		for (size_t k = 0; k < NSEEDS + NKSEEDS + NRSEEDS; k++) {
			const struct seed *sd = k < NSEEDS ? &seeds[k]
					      : k < NSEEDS + NKSEEDS ? &kseeds[k - NSEEDS] : &rseeds[k - NSEEDS - NKSEEDS];
			struct prog p;
			struct answer a;
			memcpy(p.insns, sd->insns, sizeof(sd->insns));
			p.len = sd->len;
			load(&p, sd, &a);
			printf("%-16s %s %ld \"%s\"\n", sd->name, ename(a.err), a.verified, a.line);
			bad += a.err != 0;
		}
		return bad ? 1 : 0;
	}
	if (!strcmp(mode, "record")) {
		FILE *f = fopen(file, "w");
		if (!f) {
			perror(file);
			return 1;
		}
		struct utsname u;
		uname(&u);
		fprintf(f, "# vmutants: the answers to the verifier mutants (id kind seed hash errno verified_insns "
			   "\"error line\"), recorded on %s %s\n", u.sysname, u.release);
		for (int id = 0; id < n; id++) {
			struct prog p;
			const struct seed *sd;
			struct answer a;
			make(id, &p, &sd);
			load(&p, sd, &a);
			fprintf(f, "%d %s %s %llx %s %ld \"%s\"\n", id, p.kind, sd->name,
				(unsigned long long)fnv(p.insns, (size_t)p.len * sizeof(p.insns[0])), ename(a.err), a.verified,
				a.line);
		}
		fclose(f);
		return 0;
	}
	if (strcmp(mode, "check"))
		return 2;
	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		return 1;
	}
	struct kstat ks[MAXKINDS];
	int nk = 0, total = 0, verdict = 0, line = 0, line_n = 0, verified = 0, verified_n = 0, shown = 0;
	char buf[512];
	while (fgets(buf, sizeof(buf), f)) {
		struct rec r;
		if (buf[0] == '#' || parse(buf, &r))
			continue;
		if (r.id >= n)
			break;
		if (r.id >= RS_BASE && rmap_fd < 0) {
			if (r.id == RS_BASE)
				printf("vmutants: the record mutants (%d and up) skipped: their map could not be made\n", RS_BASE);
			continue;
		}
		if (r.id >= KF_BASE && r.id < RS_BASE && !kfuncs_resolved) {
			if (r.id == KF_BASE)
				printf("vmutants: the kfunc mutants (%d and up) skipped: this host's kernel BTF lacks their "
				       "kfuncs\n", KF_BASE);
			continue;
		}
		struct prog p;
		const struct seed *sd;
		struct answer a;
		make(r.id, &p, &sd);
		if (fnv(p.insns, (size_t)p.len * sizeof(p.insns[0])) != r.hash || strcmp(p.kind, r.kind)) {
			fprintf(stderr, "vmutants: mutant %d is not the one %s was recorded with: re-record it\n", r.id, file);
			return 1;
		}
		load(&p, sd, &a);
		int k;
		for (k = 0; k < nk && strcmp(ks[k].kind, r.kind); k++)
			;
		if (k == nk && nk < MAXKINDS) {
			memset(&ks[nk], 0, sizeof(ks[nk]));
			snprintf(ks[nk].kind, sizeof(ks[nk].kind), "%s", r.kind);
			nk++;
		}
		struct kstat *s = &ks[k < MAXKINDS ? k : MAXKINDS - 1];
		total++;
		s->n++;
		bool v = !strcmp(ename(a.err), r.err);
		verdict += v;
		s->verdict += v;
		if (strcmp(r.err, "OK")) {
			bool l = v && !strcmp(a.line, r.line);
			line_n++;
			s->line_n++;
			line += l;
			s->line += l;
			if (!l && shown < 400) {
				printf("DIFF %d %s/%s: kernel %s \"%s\" | here %s \"%s\"\n", r.id, r.seed, r.kind, r.err, r.line,
				       ename(a.err), a.line);
				shown++;
			}
		} else if (!v) {
			printf("DIFF %d %s/%s: kernel OK | here %s \"%s\"\n", r.id, r.seed, r.kind, ename(a.err), a.line);
		} else {
			bool vv = a.verified == r.verified;
			verified_n++;
			s->verified_n++;
			verified += vv;
			s->verified += vv;
			if (!vv && shown < 400) {
				printf("DIFF %d %s/%s: kernel OK verified_insns %ld | here %ld\n", r.id, r.seed, r.kind, r.verified,
				       a.verified);
				shown++;
			}
		}
	}
	fclose(f);
	printf("\n%-18s %6s %8s %8s %9s\n", "kind", "count", "verdict", "err line", "verified");
	for (int k = 0; k < nk; k++)
		printf("%-18s %6d %7.2f%% %7.2f%% %8.2f%%\n", ks[k].kind, ks[k].n, 100.0 * ks[k].verdict / ks[k].n,
		       ks[k].line_n ? 100.0 * ks[k].line / ks[k].line_n : 100.0,
		       ks[k].verified_n ? 100.0 * ks[k].verified / ks[k].verified_n : 100.0);
	double pv = total ? 100.0 * verdict / total : 0, pl = line_n ? 100.0 * line / line_n : 100,
	       pvi = verified_n ? 100.0 * verified / verified_n : 100;
	printf("%-18s %6d %7.2f%% %7.2f%% %8.2f%%\n", "all", total, pv, pl, pvi);
	printf("\n%d mutants: accept/reject and errno as the kernel's for %d (%.2f%%); of the %d the kernel refused, "
	       "the same error line for %d (%.2f%%); of the %d both accepted, the same verified_insns for %d (%.2f%%)\n",
	       total, verdict, pv, line_n, line, pl, verified_n, verified, pvi);
	if (total < n && total < 10000)
		printf("vmutants: only %d mutants in %s\n", total, file);
	return pv >= 99.0 && pl >= 90.0 ? 0 : 1;
}
