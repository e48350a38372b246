/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/interp.c: the interpreter over the decoded program.
 *
 * Threaded code: each decoded instruction carries the address of its block
 * (GNU C labels as values), so going on is one indirect jump, no switch and
 * no table lookup per instruction (the kernel's ___bpf_prog_run looks the
 * label up by opcode; ours is resolved once at load). Blocks are two or three
 * lines, one macro per family, 32- and 64-bit side by side.
 *
 * Semantics are Linux 6.18's after its verifier's fixups: x / 0 = 0 and
 * x % 0 = x (32-bit forms zero-extend), signed division by -1 negates and
 * its remainder is 0, shift counts are masked to the width, ALU32 results are
 * zero-extended, LD_ABS/LD_IND that fall outside the packet return 0 from the
 * current function, a tail call that fails goes on with the next instruction.
 *
 * Memory: a checked access tests the run's one-entry region cache inline and
 * calls vm_mem_slow() on a miss (mem.c); a refused access ends the run.
 * Accesses the decoder proved safe (_F) are plain loads and stores. Loads and
 * stores go through may_alias, byte-aligned types (BPF allows unaligned packet
 * access); atomics must be naturally aligned (a misaligned one ends the run,
 * as the kernel's verifier would refuse it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vm_int.h"
#include "jit/jit.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter's byte swaps assume a little-endian host"
#endif

typedef __u8 __attribute__((may_alias)) u8a;
typedef __u16 __attribute__((aligned(1), may_alias)) u16a;
typedef __u32 __attribute__((aligned(1), may_alias)) u32a;
typedef __u64 __attribute__((aligned(1), may_alias)) u64a;
typedef __s8 __attribute__((may_alias)) s8a;
typedef __s16 __attribute__((aligned(1), may_alias)) s16a;
typedef __s32 __attribute__((aligned(1), may_alias)) s32a;

static const void *const *labels;

static __u64 interp(struct vm_run *run, const struct vm_insn *pc, __u64 *R, __u32 base, const void *const **export)
{
	static const void *const table[VM_NR_OPS] = {
#define X(n) [VM_OP_##n] = &&L_##n,
		VM_OPS(X)
#undef X
	};
	if (export) {
		*export = table;
		return 0;
	}

#define NEXT do { pc++; goto *pc->label; } while (0)
#define JUMP(t) do { pc = (t); goto *pc->label; } while (0)
#define DST R[pc->dst]
#define SRC R[pc->src]
#define K (pc->k)

	goto *pc->label;

	/* ---- ALU ---- */
#define ALU2(N, op)                                                        \
	L_##N##64_K: DST = DST op K; NEXT;                                 \
	L_##N##64_X: DST = DST op SRC; NEXT;                               \
	L_##N##32_K: DST = (__u32)((__u32)DST op (__u32)K); NEXT;          \
	L_##N##32_X: DST = (__u32)((__u32)DST op (__u32)SRC); NEXT;
	ALU2(ADD, +)
	ALU2(SUB, -)
	ALU2(MUL, *)
	ALU2(OR, |)
	ALU2(AND, &)
	ALU2(XOR, ^)
#undef ALU2
#define SHIFT(N, op)                                                       \
	L_##N##64_K: DST = DST op (K & 63); NEXT;                          \
	L_##N##64_X: DST = DST op (SRC & 63); NEXT;                        \
	L_##N##32_K: DST = (__u32)((__u32)DST op (K & 31)); NEXT;          \
	L_##N##32_X: DST = (__u32)((__u32)DST op (SRC & 31)); NEXT;
	SHIFT(LSH, <<)
	SHIFT(RSH, >>)
#undef SHIFT
	L_ARSH64_K: DST = (__u64)((__s64)DST >> (K & 63)); NEXT;
	L_ARSH64_X: DST = (__u64)((__s64)DST >> (SRC & 63)); NEXT;
	L_ARSH32_K: DST = (__u32)((__s32)DST >> (K & 31)); NEXT;
	L_ARSH32_X: DST = (__u32)((__s32)DST >> (SRC & 31)); NEXT;

	/* x / 0 = 0, x % 0 = x; a constant divisor is never 0 here (decode.c) */
#define DIVS(S)                                                                                    \
	L_DIV64_##S: { __u64 d = (S##V); DST = d ? DST / d : 0; NEXT; }                             \
	L_MOD64_##S: { __u64 d = (S##V); DST = d ? DST % d : DST; NEXT; }                           \
	L_DIV32_##S: { __u32 d = (__u32)(S##V); DST = d ? (__u32)DST / d : 0; NEXT; }               \
	L_MOD32_##S: { __u32 d = (__u32)(S##V); DST = d ? (__u32)DST % d : (__u32)DST; NEXT; }     \
	L_SDIV64_##S: { __s64 d = (__s64)(S##V);                                                    \
		DST = d == 0 ? 0 : d == -1 ? -DST : (__u64)((__s64)DST / d); NEXT; }                \
	L_SMOD64_##S: { __s64 d = (__s64)(S##V);                                                    \
		DST = d == 0 ? DST : d == -1 ? 0 : (__u64)((__s64)DST % d); NEXT; }                 \
	L_SDIV32_##S: { __s32 d = (__s32)(S##V), v = (__s32)DST;                                    \
		DST = d == 0 ? 0 : d == -1 ? (__u32)-(__u32)v : (__u32)(v / d); NEXT; }             \
	L_SMOD32_##S: { __s32 d = (__s32)(S##V), v = (__s32)DST;                                    \
		DST = d == 0 ? (__u32)v : d == -1 ? 0 : (__u32)(v % d); NEXT; }
#define KV K
#define XV SRC
	DIVS(K)
	DIVS(X)
#undef KV
#undef XV
#undef DIVS

	L_MOV64_K: DST = K; NEXT;
	L_MOV64_X: DST = SRC; NEXT;
	L_MOV32_K: DST = (__u32)K; NEXT;
	L_MOV32_X: DST = (__u32)SRC; NEXT;
	L_NEG64: DST = -DST; NEXT;
	L_NEG32: DST = (__u32)-(__u32)DST; NEXT;
	L_MOVSX64_8: DST = (__u64)(__s64)(__s8)SRC; NEXT;
	L_MOVSX64_16: DST = (__u64)(__s64)(__s16)SRC; NEXT;
	L_MOVSX64_32: DST = (__u64)(__s64)(__s32)SRC; NEXT;
	L_MOVSX32_8: DST = (__u32)(__s32)(__s8)SRC; NEXT;
	L_MOVSX32_16: DST = (__u32)(__s32)(__s16)SRC; NEXT;
	L_LE16: DST = (__u16)DST; NEXT;
	L_LE32: DST = (__u32)DST; NEXT;
	L_BE16: L_BSWAP16: DST = __builtin_bswap16((__u16)DST); NEXT;
	L_BE32: L_BSWAP32: DST = __builtin_bswap32((__u32)DST); NEXT;
	L_BE64: L_BSWAP64: DST = __builtin_bswap64(DST); NEXT;
	L_NOP: NEXT;
	L_LDDW: DST = K; NEXT;

	/* ---- jumps ---- */
#define JC(N, cmp, T64, T32)                                                       \
	L_##N##64_K: if ((T64)DST cmp (T64)K) JUMP(pc->target); NEXT;              \
	L_##N##64_X: if ((T64)DST cmp (T64)SRC) JUMP(pc->target); NEXT;            \
	L_##N##32_K: if ((T32)DST cmp (T32)K) JUMP(pc->target); NEXT;              \
	L_##N##32_X: if ((T32)DST cmp (T32)SRC) JUMP(pc->target); NEXT;
	JC(JEQ, ==, __u64, __u32)
	JC(JNE, !=, __u64, __u32)
	JC(JGT, >, __u64, __u32)
	JC(JGE, >=, __u64, __u32)
	JC(JLT, <, __u64, __u32)
	JC(JLE, <=, __u64, __u32)
	JC(JSGT, >, __s64, __s32)
	JC(JSGE, >=, __s64, __s32)
	JC(JSLT, <, __s64, __s32)
	JC(JSLE, <=, __s64, __s32)
#undef JC
	L_JSET64_K: if (DST & K) JUMP(pc->target); NEXT;
	L_JSET64_X: if (DST & SRC) JUMP(pc->target); NEXT;
	L_JSET32_K: if ((__u32)DST & (__u32)K) JUMP(pc->target); NEXT;
	L_JSET32_X: if ((__u32)DST & (__u32)SRC) JUMP(pc->target); NEXT;
	L_JA: JUMP(pc->target);
	L_MAY_GOTO:
		if (!run->may_goto)
			JUMP(pc->target);
		run->may_goto--;
		NEXT;
	L_TICK:
		if (unlikely(--run->ticks == 0) && !vm_tick_slow(run))
			goto out;
		NEXT;

	/* ---- calls ---- */
	L_CALL:
		run->fault_insn = pc->idx;
		run->map_hint = pc->k;
		if (unlikely(run->lock_map) && pc->helper != vm_h_spin_unlock) {
			vm_fault(run, -EINVAL, "helper calls are not allowed while holding a bpf_spin_lock");
			goto out;
		}
		R[0] = pc->helper(run, R[1], R[2], R[3], R[4], R[5]);
		if (unlikely(run->err))
			goto out;
		NEXT;
	L_CALL_MISSING:
		run->fault_insn = pc->idx;
		vm_fault(run, -EOPNOTSUPP, "calls helper %s#%d, which bpfemu does not emulate", vm_helper_name(pc->imm),
			 pc->imm);
		goto out;
	L_FAULT:
		run->fault_insn = pc->idx;
		vm_fault(run, pc->imm ? pc->imm : -EOPNOTSUPP, "%s", pc->why);
		goto out;
	L_CALL_FUNC: {
		if (unlikely(run->depth + 1 >= VM_MAX_FRAMES)) {
			run->fault_insn = pc->idx;
			vm_fault(run, -E2BIG, "the call stack of %u frames is too deep", run->depth + 2);
			goto out;
		}
		const struct vm_insn *to = pc->target;
		const struct vm_prog *xp = NULL;
		if (unlikely(vm_prog_extended(run->prog))) {
			/* a function an extension replaces: the extension runs instead */
			run->fault_insn = pc->idx;
			xp = vm_ext_target(run, run->prog, vm_func_start(run->prog, to));
			if (unlikely(run->err))
				goto out;
		}
		struct vm_frame *f = &run->frames[run->depth++];
		f->ret = pc + 1;
		f->prog = run->prog;
		f->r6 = R[6];
		f->r7 = R[7];
		f->r8 = R[8];
		f->r9 = R[9];
		f->may_goto = run->may_goto;
		run->may_goto = VM_MAX_LOOPS;
		R[10] -= VM_STACK_SIZE;
		if (xp) {
			run->prog = xp;
			to = xp->funcs[0].entry;
		}
		JUMP(to);
	}
	L_EXIT: {
		if (run->depth == base)
			goto out;
		struct vm_frame *f = &run->frames[--run->depth];
		R[6] = f->r6;
		R[7] = f->r7;
		R[8] = f->r8;
		R[9] = f->r9;
		R[10] += VM_STACK_SIZE;
		run->prog = f->prog;
		run->may_goto = f->may_goto;
		JUMP(f->ret);
	}
	L_TAIL_CALL: {
		run->fault_insn = pc->idx;
		const struct vm_prog *np = vm_tail_target(run, R[2], R[3]);
		if (unlikely(run->err))
			goto out;
		if (!np)
			NEXT;
		run->prog = np;
		run->may_goto = VM_MAX_LOOPS;
		JUMP(np->funcs[0].entry);
	}

	/* ---- loads and stores ---- */
#define CHECK(a, n, acc)                                                                   \
	do {                                                                               \
		if (unlikely(!vm_cache_ok(run, a, n, acc)) && !vm_mem_slow(run, pc, a, n, acc)) \
			goto out;                                                          \
	} while (0)
	/* a refused load with run->probe_zero reads 0 (vm_mem_slow left err unset) */
#define LCHECK(a, n)                                                                       \
	do {                                                                               \
		if (unlikely(!vm_cache_ok(run, a, n, VM_RD)) && !vm_mem_slow(run, pc, a, n, VM_RD)) { \
			if (run->err)                                                      \
				goto out;                                                  \
			DST = 0;                                                           \
			NEXT;                                                              \
		}                                                                          \
	} while (0)
#define LDX(S, T, CAST)                                                                    \
	L_LDX_##S: { __u64 a = SRC + (__s64)pc->off; LCHECK(a, sizeof(T));                 \
		DST = (CAST)*(const T *)(uintptr_t)a; NEXT; }                              \
	L_LDX_##S##_F: DST = (CAST)*(const T *)(uintptr_t)(SRC + (__s64)pc->off); NEXT;
	LDX(B, u8a, __u64)
	LDX(H, u16a, __u64)
	LDX(W, u32a, __u64)
	LDX(DW, u64a, __u64)
#undef LDX
#define LDXS(S, T)                                                                         \
	L_LDXS_##S: { __u64 a = SRC + (__s64)pc->off; LCHECK(a, sizeof(T));               \
		DST = (__u64)(__s64)*(const T *)(uintptr_t)a; NEXT; }                      \
	L_LDXS_##S##_F: DST = (__u64)(__s64)*(const T *)(uintptr_t)(SRC + (__s64)pc->off); NEXT;
	LDXS(B, s8a)
	LDXS(H, s16a)
	LDXS(W, s32a)
#undef LDXS
#define STORE(S, T, V)                                                                     \
	L_ST_##S: { __u64 a = DST + (__s64)pc->off; CHECK(a, sizeof(T), VM_WR);            \
		*(T *)(uintptr_t)a = (T)K; NEXT; }                                         \
	L_ST_##S##_F: *(T *)(uintptr_t)(DST + (__s64)pc->off) = (T)K; NEXT;                \
	L_STX_##S: { __u64 a = DST + (__s64)pc->off; CHECK(a, sizeof(T), VM_WR);           \
		*(T *)(uintptr_t)a = (T)SRC; NEXT; }                                       \
	L_STX_##S##_F: *(T *)(uintptr_t)(DST + (__s64)pc->off) = (T)SRC; NEXT;
	STORE(B, u8a, __u8)
	STORE(H, u16a, __u16)
	STORE(W, u32a, __u32)
	STORE(DW, u64a, __u64)
#undef STORE

	/* atomics: naturally aligned; load-acquire reads src + off into dst */
#define ACHECK(a, n, acc)                                                                  \
	do {                                                                               \
		if (unlikely((a) & ((n) - 1))) {                                           \
			run->fault_insn = pc->idx;                                         \
			vm_fault(run, -EFAULT, "misaligned atomic access of %u bytes at %#llx", \
				 (unsigned)(n), (unsigned long long)(a));                  \
			goto out;                                                          \
		}                                                                          \
		if (!(pc->flags & VM_I_FAST))                                              \
			CHECK(a, n, acc);                                                  \
	} while (0)
#define ATOM(W, T, M)                                                                                  \
	L_AADD##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                     \
		__atomic_fetch_add((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }               \
	L_AAND##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                     \
		__atomic_fetch_and((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }               \
	L_AOR##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                      \
		__atomic_fetch_or((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }                \
	L_AXOR##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                     \
		__atomic_fetch_xor((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }               \
	L_AFADD##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                    \
		SRC = (M)__atomic_fetch_add((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }      \
	L_AFAND##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                    \
		SRC = (M)__atomic_fetch_and((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }      \
	L_AFOR##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                     \
		SRC = (M)__atomic_fetch_or((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }       \
	L_AFXOR##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                    \
		SRC = (M)__atomic_fetch_xor((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }      \
	L_AXCHG##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                    \
		SRC = (M)__atomic_exchange_n((T *)(uintptr_t)a, (T)SRC, __ATOMIC_SEQ_CST); NEXT; }     \
	L_ACMPXCHG##W: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RW);                 \
		T old = (T)R[0];                                                                       \
		__atomic_compare_exchange_n((T *)(uintptr_t)a, &old, (T)SRC, false, __ATOMIC_SEQ_CST,  \
					    __ATOMIC_SEQ_CST);                                         \
		R[0] = (M)old; NEXT; }
	ATOM(32, __u32, __u32)
	ATOM(64, __u64, __u64)
#undef ATOM
#define ACQREL(S, T)                                                                                   \
	L_LDACQ_##S: { __u64 a = SRC + (__s64)pc->off; ACHECK(a, sizeof(T), VM_RD);                    \
		DST = __atomic_load_n((T *)(uintptr_t)a, __ATOMIC_ACQUIRE); NEXT; }                    \
	L_STREL_##S: { __u64 a = DST + (__s64)pc->off; ACHECK(a, sizeof(T), VM_WR);                    \
		__atomic_store_n((T *)(uintptr_t)a, (T)SRC, __ATOMIC_RELEASE); NEXT; }
	ACQREL(B, __u8)
	ACQREL(H, __u16)
	ACQREL(W, __u32)
	ACQREL(DW, __u64)
#undef ACQREL

	/* LD_ABS / LD_IND: R0 = the packet's big-endian value; outside it the function returns 0 */
#define LDPKT(N, S, OFF)                                                                   \
	L_##N: { __u32 v;                                                                  \
		run->fault_insn = pc->idx;                                                 \
		if (vm_ld_pkt(run, (__s32)(OFF), S, &v)) {                                \
			if (run->err)                                                      \
				goto out;                                                  \
			R[0] = 0;                                                          \
			goto L_EXIT;                                                       \
		}                                                                          \
		R[0] = v; NEXT; }
	LDPKT(LD_ABS_B, 1, pc->imm)
	LDPKT(LD_ABS_H, 2, pc->imm)
	LDPKT(LD_ABS_W, 4, pc->imm)
	LDPKT(LD_IND_B, 1, SRC + (__u64)(__s64)pc->imm)
	LDPKT(LD_IND_H, 2, SRC + (__u64)(__s64)pc->imm)
	LDPKT(LD_IND_W, 4, SRC + (__u64)(__s64)pc->imm)
#undef LDPKT

out:
	return R[0];
#undef NEXT
#undef JUMP
#undef DST
#undef SRC
#undef K
#undef CHECK
#undef LCHECK
#undef ACHECK
}

void vm_link(struct vm_insn *insns, __u32 n)
{
	if (!labels)
		interp(NULL, NULL, NULL, 0, (const void *const **)&labels);
	for (__u32 i = 0; i < n; i++)
		insns[i].label = labels[insns[i].op];
}

__u64 vm_exec(struct vm_run *run, const struct vm_insn *entry, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	bool extended = vm_prog_extended(run->prog);
	if (unlikely(extended) && run->depth == 0 && entry == run->prog->funcs[0].entry) {
		/* the main function replaced (an extension of func#0) */
		const struct vm_prog *xp = vm_ext_target(run, run->prog, 0);
		if (run->err)
			return 0;
		if (xp) {
			run->prog = xp;
			entry = xp->funcs[0].entry;
		}
	}
	if (run->prog->jit)
		return vm_jit_exec(run, entry, r1, r2, r3, r4, r5);
	__u64 R[11] = { 0, r1, r2, r3, r4, r5, 0, 0, 0, 0, run->stack_top - (__u64)run->depth * VM_STACK_SIZE };
	return interp(run, entry, R, run->depth, NULL);
}

__u64 vm_callback(struct vm_run *run, const struct vm_insn *fn, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	if (run->depth + 1 >= VM_MAX_FRAMES) {
		vm_fault(run, -E2BIG, "the call stack of %u frames is too deep (a callback)", run->depth + 2);
		return 0;
	}
	const struct vm_prog *prog = run->prog;
	__u64 may_goto = run->may_goto;
	run->depth++;
	run->may_goto = VM_MAX_LOOPS;
	__u64 r0 = vm_exec(run, fn, r1, r2, r3, r4, r5);
	run->depth--;
	run->prog = prog;
	run->may_goto = may_goto;
	return r0;
}

/* The JIT's call of a function of a program extensions replace functions of
 * (jit/x86_64.c: its cold stub): map_hint is the callee's decoded index. The
 * extension that replaces it runs (JIT code or interpreted) as the callee, or
 * the function itself in the interpreter. */
__u64 vm_jit_ext_call(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	const struct vm_prog *cur = run->prog;
	const struct vm_insn *entry = &cur->insns[run->map_hint];
	const struct vm_prog *xp = vm_ext_target(run, cur, vm_func_start(cur, entry));
	if (run->err)
		return 0;
	if (xp) {
		run->prog = xp;
		entry = xp->funcs[0].entry;
	}
	__u64 r0 = vm_callback(run, entry, r1, r2, r3, r4, r5);
	run->prog = cur;
	return r0;
}

bool vm_tick_slow(struct vm_run *run)
{
	run->ticks = VM_TICKS;
	if (!vm_tick_deadline(run)) {
		vm_fault(run, -ETIME, "the run took longer than its time limit (BPFEMU_VM_TIMEOUT_MS): a loop that does not end?");
		return false;
	}
	return true;
}
