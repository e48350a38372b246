/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/jit/x86_64.c: x86-64 code for a decoded program.
 *
 * One emit_* helper per instruction family over a few byte emitters, one
 * switch over the decoded operations (emu/vm/ops.h), and passes that repeat
 * until every instruction's offset stops changing, so that jumps between BPF
 * instructions settle on their short or long forms by themselves (the shape
 * of the kernel's arch/x86/net/bpf_jit_comp.c; the code is our own).
 *
 * Registers: R0 rax, R1 rdi, R2 rsi, R3 rdx, R4 rcx, R5 r8 (the C calling
 * convention's argument registers, so a helper call shifts them by one to
 * put the run first), R6 rbx, R7 r13, R8 r14, R9 r15 (callee-saved), R10
 * rbp; r12 holds the run (struct vm_run); r9, r10, r11 are scratch.
 *
 * The image: a trampoline from C (vm_jit->enter), the run's fault exit
 * (which unwinds to the trampoline through run->jit_sp), two shared slow
 * paths (the memory check's and the loop tick's), then the program's code,
 * one BPF function after another, each a native function (CALL_FUNC is
 * `call`, EXIT is `ret`), then the cold stubs (check misses, faults).
 * The native stack pointer is 16-byte aligned inside every function body, so
 * C is called without adjustment.
 *
 * Memory: a checked access computes its address into r11, tests the run's
 * region cache (vm_cache_ok() of vm_int.h, inline) and on a miss calls
 * vm_mem_slow() from a cold stub with the BPF registers preserved; false
 * ends the run. Proven accesses are plain instructions on [reg + off].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"

#if defined(__x86_64__)

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
static const __u8 breg[11] = { RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP };
#define RUN R12

enum { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7, CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf };

#define OFF(f) ((__s32)offsetof(struct vm_run, f))

enum { COLD_MEM, COLD_TICK, COLD_FAULT, COLD_MAY_GOTO, COLD_EXT };

struct cold {
	int kind;
	__u32 patch[3];                /* rel32 fields of the jumps that lead here */
	__u32 npatch;
	__u32 back;                    /* where the stub goes back to */
	__u32 insn;                    /* decoded instruction */
	__u32 arg;                     /* MEM: size | access << 16; FAULT: kind */
	int probe_dst;                 /* MEM of a load that may read 0 (BPF_PROBE_MEM): its native register, else -1 */
	__u32 skip;                    /* ... and where the code after the load starts */
};

struct jit {
	unsigned char *buf;
	size_t len, cap;
	int err;
	const struct vm_prog *p;
	__u32 *offs, *prev;            /* this pass's and the previous pass's offsets */
	bool first;                    /* the first pass: every jump long */
	struct cold *cold;
	size_t ncold, capcold;
	__u32 o_fault, o_mem, o_tick;  /* the shared routines */
	bool has_tail;                 /* the program makes tail calls: calls keep run->prog */
};

/* ---- bytes ---- */

/* out of line: inlined into every emitter, gcc 12 at -O2 took the realloc'd
 * buffer for one of size 0 (-Wstringop-overflow) */
static __attribute__((noinline)) int grow(struct jit *j)
{
	size_t cap = j->cap ? j->cap * 2 : 4096;
	unsigned char *n = realloc(j->buf, cap);
	if (!n) {
		j->err = -ENOMEM;
		return -1;
	}
	j->buf = n;
	j->cap = cap;
	return 0;
}

static void b1(struct jit *j, __u8 x)
{
	if (j->err)
		return;                        /* the pass is dropped */
	if (j->len >= j->cap && grow(j))
		return;
	j->buf[j->len++] = x;
}

static void b2(struct jit *j, __u8 x, __u8 y)
{
	b1(j, x);
	b1(j, y);
}

static void b4(struct jit *j, __u32 x)
{
	for (int i = 0; i < 4; i++)
		b1(j, (__u8)(x >> (8 * i)));
}

static void b8(struct jit *j, __u64 x)
{
	b4(j, (__u32)x);
	b4(j, (__u32)(x >> 32));
}

static void put4(struct jit *j, __u32 at, __u32 x)
{
	if (j->err)
		return;
	for (int i = 0; i < 4; i++)
		j->buf[at + i] = (__u8)(x >> (8 * i));
}

static bool is8(__s64 v)
{
	return v >= -128 && v <= 127;
}

/* ---- encodings ---- */

/* REX: w = 64-bit operand; force = a byte register among spl/bpl/sil/dil */
static void rex(struct jit *j, int w, int r, int x, int b, bool force)
{
	__u8 v = (__u8)(0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 | ((b >> 3) & 1));
	if (v != 0x40 || force)
		b1(j, v);
}

static void modrm_rr(struct jit *j, int reg, int rm)
{
	b1(j, (__u8)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

static void modrm_mem(struct jit *j, int reg, int base, __s32 disp)
{
	int mod = (disp == 0 && (base & 7) != RBP) ? 0 : is8(disp) ? 1 : 2;
	b1(j, (__u8)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	if ((base & 7) == RSP)
		b1(j, 0x24);
	if (mod == 1)
		b1(j, (__u8)disp);
	else if (mod == 2)
		b4(j, (__u32)disp);
}

static bool lowbyte_needs_rex(int r)
{
	return r >= 4 && r < 8;
}

/* opc: one byte, or 0x0fXX for two; reg is a register or an opcode extension */
static void op_rr(struct jit *j, __u8 pfx, int w, unsigned opc, int reg, int rm, bool bytes)
{
	if (pfx)
		b1(j, pfx);
	rex(j, w, reg, 0, rm, bytes && (lowbyte_needs_rex(reg) || lowbyte_needs_rex(rm)));
	if (opc > 0xff)
		b1(j, (__u8)(opc >> 8));
	b1(j, (__u8)opc);
	modrm_rr(j, reg, rm);
}

static void op_mem(struct jit *j, __u8 pfx, int w, unsigned opc, int reg, int base, __s32 disp, bool byte_reg)
{
	if (pfx)
		b1(j, pfx);
	rex(j, w, reg, 0, base, byte_reg && lowbyte_needs_rex(reg));
	if (opc > 0xff)
		b1(j, (__u8)(opc >> 8));
	b1(j, (__u8)opc);
	modrm_mem(j, reg, base, disp);
}

/* ALU r/m, r: 0x01 add, 0x09 or, 0x21 and, 0x29 sub, 0x31 xor, 0x39 cmp, 0x85 test, 0x89 mov */
static void alu_rr(struct jit *j, int w, __u8 opc, int dst, int src)
{
	op_rr(j, 0, w, opc, src, dst, false);
}

/* ALU r/m, imm: ext 0 add, 1 or, 4 and, 5 sub, 6 xor, 7 cmp */
static void alu_ri(struct jit *j, int w, int ext, int dst, __s32 imm)
{
	if (is8(imm)) {
		op_rr(j, 0, w, 0x83, ext, dst, false);
		b1(j, (__u8)imm);
	} else {
		op_rr(j, 0, w, 0x81, ext, dst, false);
		b4(j, (__u32)imm);
	}
}

/* the same on [base + disp] */
static void alu_mi(struct jit *j, int w, int ext, int base, __s32 disp, __s32 imm)
{
	if (is8(imm)) {
		op_mem(j, 0, w, 0x83, ext, base, disp, false);
		b1(j, (__u8)imm);
	} else {
		op_mem(j, 0, w, 0x81, ext, base, disp, false);
		b4(j, (__u32)imm);
	}
}

static void mov_rr(struct jit *j, int w, int dst, int src)
{
	if (w && dst == src)
		return;
	alu_rr(j, w, 0x89, dst, src);
}

static void mov_imm(struct jit *j, int dst, __u64 v)
{
	if (v == 0) {
		alu_rr(j, 0, 0x31, dst, dst);
	} else if (v <= 0xffffffffull) {
		rex(j, 0, 0, 0, dst, false);
		b1(j, (__u8)(0xb8 + (dst & 7)));
		b4(j, (__u32)v);
	} else if ((__s64)v == (__s32)v) {
		op_rr(j, 0, 1, 0xc7, 0, dst, false);
		b4(j, (__u32)v);
	} else {
		rex(j, 1, 0, 0, dst, false);
		b1(j, (__u8)(0xb8 + (dst & 7)));
		b8(j, v);
	}
}

/* mov qword [base + disp], simm32 */
static void mov_m64_imm(struct jit *j, int base, __s32 disp, __s32 imm)
{
	op_mem(j, 0, 1, 0xc7, 0, base, disp, false);
	b4(j, (__u32)imm);
}

static void push(struct jit *j, int r)
{
	rex(j, 0, 0, 0, r, false);
	b1(j, (__u8)(0x50 + (r & 7)));
}

static void pop(struct jit *j, int r)
{
	rex(j, 0, 0, 0, r, false);
	b1(j, (__u8)(0x58 + (r & 7)));
}

static void call_abs(struct jit *j, const void *fn)
{
	mov_imm(j, RAX, (__u64)(uintptr_t)fn);
	op_rr(j, 0, 0, 0xff, 2, RAX, false);
}

/* the C argument registers from the BPF ones: run, R1..R5 */
static void shift_args(struct jit *j)
{
	mov_rr(j, 1, R9, R8);
	mov_rr(j, 1, R8, RCX);
	mov_rr(j, 1, RCX, RDX);
	mov_rr(j, 1, RDX, RSI);
	mov_rr(j, 1, RSI, RDI);
	mov_rr(j, 1, RDI, RUN);
}

/* the caller-saved BPF registers (and r11) around a C call from a cold path */
static const int saved[] = { RAX, RDI, RSI, RDX, RCX, R8, R11 };

/* ---- jumps ---- */

/* a jump to an offset already emitted in this pass (backward: exact) */
static void jmp_back(struct jit *j, int cc, __u32 to)
{
	__s64 d = (__s64)to - (__s64)(j->len + 2);
	if (is8(d)) {
		b2(j, cc < 0 ? 0xeb : (__u8)(0x70 | cc), (__u8)d);
		return;
	}
	if (cc < 0) {
		b1(j, 0xe9);
		b4(j, (__u32)(__s32)((__s64)to - (__s64)(j->len + 4)));
	} else {
		b2(j, 0x0f, (__u8)(0x80 | cc));
		b4(j, (__u32)(__s32)((__s64)to - (__s64)(j->len + 4)));
	}
}

/* a short forward jump inside one instruction's code: patched by here() */
static __u32 jmp_fwd8(struct jit *j, int cc)
{
	b2(j, cc < 0 ? 0xeb : (__u8)(0x70 | cc), 0);
	return (__u32)j->len;
}

static void here(struct jit *j, __u32 after)
{
	if (j->err)
		return;
	__s64 d = (__s64)j->len - (__s64)after;
	j->buf[after - 1] = (__u8)d;           /* every use spans less than 128 bytes */
}

/* a long jump to a cold stub: returns the rel32's position */
static __u32 jmp_cold(struct jit *j, int cc)
{
	if (cc < 0)
		b1(j, 0xe9);
	else
		b2(j, 0x0f, (__u8)(0x80 | cc));
	__u32 at = (__u32)j->len;
	b4(j, 0);
	return at;
}

static struct cold *cold_new(struct jit *j, int kind, __u32 insn, __u32 arg)
{
	if (j->ncold == j->capcold) {
		size_t cap = j->capcold ? j->capcold * 2 : 64;
		struct cold *n = realloc(j->cold, cap * sizeof(*n));
		if (!n) {
			j->err = -ENOMEM;
			j->ncold = 0;
		} else {
			j->cold = n;
			j->capcold = cap;
		}
		if (j->err)
			return NULL;
	}
	struct cold *c = &j->cold[j->ncold++];
	*c = (struct cold){ .kind = kind, .insn = insn, .arg = arg, .probe_dst = -1 };
	return c;
}

static void cold_jump(struct jit *j, struct cold *c, int cc)
{
	__u32 at = jmp_cold(j, cc);
	if (c && c->npatch < 3)
		c->patch[c->npatch++] = at;
}

/* a jump between BPF instructions: the last instruction of insn i's code */
static void jmp_insn(struct jit *j, int cc, __u32 i, __u32 t)
{
	if (!j->first) {
		__s64 est = (__s64)j->prev[t] - (__s64)j->prev[i + 1];
		if (is8(est)) {
			/* exact once the passes agree: this instruction ends after these two bytes */
			__s64 d = (__s64)j->prev[t] - (__s64)j->prev[i] - (__s64)(j->len + 2 - j->offs[i]);
			b2(j, cc < 0 ? 0xeb : (__u8)(0x70 | cc), (__u8)d);
			return;
		}
	}
	if (cc < 0)
		b1(j, 0xe9);
	else
		b2(j, 0x0f, (__u8)(0x80 | cc));
	__s64 d = j->first ? 0 : (__s64)j->prev[t] - (__s64)j->prev[i] - (__s64)(j->len + 4 - j->offs[i]);
	b4(j, (__u32)(__s32)d);
}

static __u32 insn_index(const struct jit *j, const struct vm_insn *t)
{
	return (__u32)(t - j->p->insns);
}

/* ---- the shared routines ---- */

static void emit_common(struct jit *j)
{
	/* enter(run, code, r1, r2, r3, r4, r5 (stack), r10 (stack)) */
	push(j, RBP);
	push(j, RBX);
	push(j, R12);
	push(j, R13);
	push(j, R14);
	push(j, R15);
	mov_rr(j, 1, RUN, RDI);
	op_mem(j, 0, 0, 0xff, 6, RUN, OFF(jit_sp), false);           /* push [run->jit_sp] */
	op_mem(j, 0, 1, 0x89, RSP, RUN, OFF(jit_sp), false);         /* run->jit_sp = rsp */
	mov_rr(j, 1, R11, RSI);
	mov_rr(j, 1, RDI, RDX);
	mov_rr(j, 1, RSI, RCX);
	mov_rr(j, 1, RDX, R8);
	mov_rr(j, 1, RCX, R9);
	op_mem(j, 0, 1, 0x8b, R8, RSP, 64, false);
	op_mem(j, 0, 1, 0x8b, RBP, RSP, 72, false);
	alu_rr(j, 0, 0x31, RAX, RAX);
	alu_rr(j, 0, 0x31, RBX, RBX);
	alu_rr(j, 0, 0x31, R13, R13);
	alu_rr(j, 0, 0x31, R14, R14);
	alu_rr(j, 0, 0x31, R15, R15);
	alu_ri(j, 1, 5, RSP, 8);
	op_rr(j, 0, 0, 0xff, 2, R11, false);                         /* call r11 */
	alu_ri(j, 1, 0, RSP, 8);
	__u32 out = (__u32)j->len;
	op_mem(j, 0, 0, 0x8f, 0, RUN, OFF(jit_sp), false);           /* pop [run->jit_sp] */
	pop(j, R15);
	pop(j, R14);
	pop(j, R13);
	pop(j, R12);
	pop(j, RBX);
	pop(j, RBP);
	b1(j, 0xc3);

	/* the fault exit: back to the trampoline's frame */
	j->o_fault = (__u32)j->len;
	op_mem(j, 0, 1, 0x8b, RSP, RUN, OFF(jit_sp), false);
	jmp_back(j, -1, out);

	/* vm_mem_slow(run, pc = r10, a = r11, size = r9 & 0xffff, access = r9 >> 16): r10b = allowed */
	j->o_mem = (__u32)j->len;
	for (size_t i = 0; i < ARRAY_SIZE(saved); i++)
		push(j, saved[i]);
	mov_rr(j, 1, RDI, RUN);
	mov_rr(j, 1, RSI, R10);
	mov_rr(j, 1, RDX, R11);
	mov_rr(j, 0, RCX, R9);
	alu_ri(j, 0, 4, RCX, 0xffff);
	mov_rr(j, 0, R8, R9);
	op_rr(j, 0, 0, 0xc1, 5, R8, false);                          /* shr r8d, 16 */
	b1(j, 16);
	call_abs(j, (const void *)vm_mem_slow);
	op_rr(j, 0, 0, 0x0fb6, R10, RAX, true);                      /* movzx r10d, al */
	for (size_t i = ARRAY_SIZE(saved); i-- > 0;)
		pop(j, saved[i]);
	b1(j, 0xc3);

	/* vm_tick_slow(run): r10b = go on */
	j->o_tick = (__u32)j->len;
	for (size_t i = 0; i < ARRAY_SIZE(saved); i++)
		push(j, saved[i]);
	mov_rr(j, 1, RDI, RUN);
	call_abs(j, (const void *)vm_tick_slow);
	op_rr(j, 0, 0, 0x0fb6, R10, RAX, true);
	for (size_t i = ARRAY_SIZE(saved); i-- > 0;)
		pop(j, saved[i]);
	b1(j, 0xc3);
}

/* ---- memory ---- */

/* r11 = base + off */
static void lea_addr(struct jit *j, int base, __s16 off)
{
	op_mem(j, 0, 1, 0x8d, R11, base, off, false);
}

/* the inline half of the check of [r11, r11 + n) for acc; a miss goes to a cold stub (returned) */
static struct cold *emit_check(struct jit *j, __u32 i, __u32 n, __u32 acc)
{
	struct cold *c = cold_new(j, COLD_MEM, i, n | acc << 16);
	mov_rr(j, 1, R10, R11);
	op_mem(j, 0, 1, 0x2b, R10, RUN, OFF(c_lo), false);           /* sub r10, [c_lo] */
	op_mem(j, 0, 1, 0x3b, R10, RUN, OFF(c_len), false);          /* cmp r10, [c_len] */
	cold_jump(j, c, CC_AE);
	alu_ri(j, 1, 0, R10, (__s32)n);
	op_mem(j, 0, 1, 0x3b, R10, RUN, OFF(c_len), false);
	cold_jump(j, c, CC_A);
	if (acc == VM_RW) {
		op_mem(j, 0, 0, 0x8b, R10, RUN, OFF(c_perm), false);
		op_rr(j, 0, 0, 0xf7, 2, R10, false);                 /* not r10d */
		op_rr(j, 0, 0, 0xf6, 0, R10, true);                  /* test r10b, 3 */
		b1(j, VM_RW);
		cold_jump(j, c, CC_NE);
	} else {
		op_mem(j, 0, 0, 0xf6, 0, RUN, OFF(c_perm), false);   /* test byte [c_perm], acc */
		b1(j, (__u8)acc);
		cold_jump(j, c, CC_E);
	}
	if (c)
		c->back = (__u32)j->len;
	return c;
}

/* loads: size 1, 2, 4, 8; sx: sign-extend to 64 bits */
static void emit_load(struct jit *j, int dst, int base, __s32 disp, __u32 size, bool sx)
{
	switch (size) {
	case 1: op_mem(j, 0, sx, sx ? 0x0fbe : 0x0fb6, dst, base, disp, false); break;
	case 2: op_mem(j, 0, sx, sx ? 0x0fbf : 0x0fb7, dst, base, disp, false); break;
	case 4: op_mem(j, 0, sx, sx ? 0x63 : 0x8b, dst, base, disp, false); break;
	default: op_mem(j, 0, 1, 0x8b, dst, base, disp, false); break;
	}
}

static void emit_store_reg(struct jit *j, int src, int base, __s32 disp, __u32 size)
{
	switch (size) {
	case 1: op_mem(j, 0, 0, 0x88, src, base, disp, true); break;
	case 2: op_mem(j, 0x66, 0, 0x89, src, base, disp, false); break;
	case 4: op_mem(j, 0, 0, 0x89, src, base, disp, false); break;
	default: op_mem(j, 0, 1, 0x89, src, base, disp, false); break;
	}
}

static void emit_store_imm(struct jit *j, __s32 imm, int base, __s32 disp, __u32 size)
{
	switch (size) {
	case 1: op_mem(j, 0, 0, 0xc6, 0, base, disp, false); b1(j, (__u8)imm); break;
	case 2: op_mem(j, 0x66, 0, 0xc7, 0, base, disp, false); b1(j, (__u8)imm); b1(j, (__u8)(imm >> 8)); break;
	case 4: op_mem(j, 0, 0, 0xc7, 0, base, disp, false); b4(j, (__u32)imm); break;
	default: op_mem(j, 0, 1, 0xc7, 0, base, disp, false); b4(j, (__u32)imm); break;
	}
}

/* a fault from the body: vm_jit_fault(run, pc, kind, r11) and the exit */
static void emit_fault_call(struct jit *j, __u32 i, __u64 kind)
{
	mov_rr(j, 1, RDI, RUN);
	mov_imm(j, RSI, (__u64)(uintptr_t)&j->p->insns[i]);
	mov_imm(j, RDX, kind);
	mov_rr(j, 1, RCX, R11);
	call_abs(j, (const void *)vm_jit_fault);
	jmp_back(j, -1, j->o_fault);
}

/* atomics: naturally aligned, then checked unless proven */
static void emit_atomic(struct jit *j, __u32 i, const struct vm_insn *pc, int w, int kind)
{
	int d = breg[pc->dst], s = breg[pc->src];
	__u32 n = w ? 8 : 4;
	lea_addr(j, d, pc->off);
	struct cold *c = cold_new(j, COLD_FAULT, i, VM_JIT_F_ALIGN);
	op_rr(j, 0, 0, 0xf6, 0, R11, true);                           /* test r11b, n - 1 */
	b1(j, (__u8)(n - 1));
	cold_jump(j, c, CC_NE);
	if (!(pc->flags & VM_I_FAST))
		emit_check(j, i, n, VM_RW);
	switch (kind) {
	case 0: case 1: case 2: case 3: {                             /* add, and, or, xor */
		static const __u8 opc[] = { 0x01, 0x21, 0x09, 0x31 };
		op_mem(j, 0xf0, w, opc[kind], s, R11, 0, false);
		break;
	}
	case 4:                                                       /* fetch add */
		op_mem(j, 0xf0, w, 0x0fc1, s, R11, 0, false);
		break;
	case 5: case 6: case 7: {                                     /* fetch and, or, xor */
		static const __u8 opc[] = { 0x21, 0x09, 0x31 };
		int sv = s == RAX ? R10 : s;
		mov_rr(j, 1, R10, RAX);
		op_mem(j, 0, w, 0x8b, RAX, R11, 0, false);
		__u32 loop = (__u32)j->len;
		mov_rr(j, w, R9, RAX);
		alu_rr(j, w, opc[kind - 5], R9, sv);
		op_mem(j, 0xf0, w, 0x0fb1, R9, R11, 0, false);
		jmp_back(j, CC_NE, loop);
		if (s != RAX) {
			mov_rr(j, w, s, RAX);
			mov_rr(j, 1, RAX, R10);
		}
		break;
	}
	case 8:                                                       /* xchg */
		op_mem(j, 0, w, 0x87, s, R11, 0, false);
		break;
	default:                                                      /* cmpxchg */
		op_mem(j, 0xf0, w, 0x0fb1, s, R11, 0, false);
		if (!w)
			mov_rr(j, 0, RAX, RAX);
		break;
	}
}

static __u32 op_size(int op)
{
	switch (op) {
	case VM_OP_LDX_B: case VM_OP_LDX_B_F: case VM_OP_ST_B: case VM_OP_ST_B_F: case VM_OP_STX_B:
	case VM_OP_STX_B_F: case VM_OP_LDXS_B: case VM_OP_LDXS_B_F: case VM_OP_LDACQ_B: case VM_OP_STREL_B:
		return 1;
	case VM_OP_LDX_H: case VM_OP_LDX_H_F: case VM_OP_ST_H: case VM_OP_ST_H_F: case VM_OP_STX_H:
	case VM_OP_STX_H_F: case VM_OP_LDXS_H: case VM_OP_LDXS_H_F: case VM_OP_LDACQ_H: case VM_OP_STREL_H:
		return 2;
	case VM_OP_LDX_W: case VM_OP_LDX_W_F: case VM_OP_ST_W: case VM_OP_ST_W_F: case VM_OP_STX_W:
	case VM_OP_STX_W_F: case VM_OP_LDXS_W: case VM_OP_LDXS_W_F: case VM_OP_LDACQ_W: case VM_OP_STREL_W:
		return 4;
	default:
		return 8;
	}
}

/* ---- ALU ---- */

/* div / mod: kind 0 div, 1 mod; sgn: signed; the divisor in a register or imm */
static void emit_div(struct jit *j, int w, int mod, int sgn, int dst, int src, bool k, __s32 imm)
{
	mov_rr(j, 1, R10, RAX);
	mov_rr(j, 1, R9, RDX);
	if (k) {
		if (w)
			mov_imm(j, R11, (__u64)(__s64)imm);
		else
			mov_imm(j, R11, (__u32)imm);
	} else {
		mov_rr(j, w, R11, src);
	}
	mov_rr(j, w, RAX, dst);
	alu_rr(j, w, 0x85, R11, R11);
	__u32 zero = jmp_fwd8(j, CC_E), m1 = 0;
	if (sgn) {
		alu_ri(j, w, 7, R11, -1);
		m1 = jmp_fwd8(j, CC_E);
		if (w)
			b2(j, 0x48, 0x99);             /* cqo */
		else
			b1(j, 0x99);                   /* cdq */
		op_rr(j, 0, w, 0xf7, 7, R11, false);   /* idiv r11 */
	} else {
		alu_rr(j, 0, 0x31, RDX, RDX);
		op_rr(j, 0, w, 0xf7, 6, R11, false);   /* div r11 */
	}
	mov_rr(j, w, R11, mod ? RDX : RAX);
	__u32 done1 = jmp_fwd8(j, -1);
	here(j, zero);
	if (mod)
		mov_rr(j, w, R11, RAX);                /* x % 0 = x */
	else
		alu_rr(j, 0, 0x31, R11, R11);          /* x / 0 = 0 */
	__u32 done2 = 0;
	if (sgn) {
		done2 = jmp_fwd8(j, -1);
		here(j, m1);
		if (mod) {
			alu_rr(j, 0, 0x31, R11, R11);  /* x % -1 = 0 */
		} else {
			mov_rr(j, w, R11, RAX);        /* x / -1 = -x */
			op_rr(j, 0, w, 0xf7, 3, R11, false);
		}
	}
	here(j, done1);
	if (sgn)
		here(j, done2);
	mov_rr(j, 1, RAX, R10);
	mov_rr(j, 1, RDX, R9);
	mov_rr(j, 1, dst, R11);
}

/* shifts: ext 4 shl, 5 shr, 7 sar */
static void emit_shift_x(struct jit *j, int w, int ext, int dst, int src)
{
	if (src == RCX) {
		op_rr(j, 0, w, 0xd3, ext, dst, false);
	} else {
		mov_rr(j, 1, R11, RCX);
		mov_rr(j, 1, RCX, src);
		if (dst == RCX) {
			op_rr(j, 0, w, 0xd3, ext, R11, false);
			mov_rr(j, w, RCX, R11);
			return;
		}
		op_rr(j, 0, w, 0xd3, ext, dst, false);
		mov_rr(j, 1, RCX, R11);
	}
	/* a 32-bit shift zero-extends its result even when the count is 0 */
}

static void emit_shift_k(struct jit *j, int w, int ext, int dst, __u64 k)
{
	__u32 n = (__u32)(k & (w ? 63 : 31));
	if (!n) {
		if (!w)
			mov_rr(j, 0, dst, dst);
		return;
	}
	if (n == 1) {
		op_rr(j, 0, w, 0xd1, ext, dst, false);
	} else {
		op_rr(j, 0, w, 0xc1, ext, dst, false);
		b1(j, (__u8)n);
	}
}

/* ---- one decoded instruction ---- */

static void emit_insn(struct jit *j, __u32 i)
{
	const struct vm_insn *pc = &j->p->insns[i];
	int op = pc->op;
	int d = pc->dst <= 10 ? breg[pc->dst] : RAX, s = pc->src <= 10 ? breg[pc->src] : RAX;
	__s32 kimm = (__s32)pc->k;

	switch (op) {
#define ALU(N, opc, ext)                                                            \
	case VM_OP_##N##64_X: alu_rr(j, 1, opc, d, s); break;                       \
	case VM_OP_##N##64_K: alu_ri(j, 1, ext, d, kimm); break;                    \
	case VM_OP_##N##32_X: alu_rr(j, 0, opc, d, s); break;                       \
	case VM_OP_##N##32_K: alu_ri(j, 0, ext, d, kimm); break;
	ALU(ADD, 0x01, 0)
	ALU(SUB, 0x29, 5)
	ALU(OR, 0x09, 1)
	ALU(AND, 0x21, 4)
	ALU(XOR, 0x31, 6)
#undef ALU
	case VM_OP_MUL64_X: op_rr(j, 0, 1, 0x0faf, d, s, false); break;
	case VM_OP_MUL32_X: op_rr(j, 0, 0, 0x0faf, d, s, false); break;
	case VM_OP_MUL64_K:
	case VM_OP_MUL32_K:
		if (is8(kimm)) {
			op_rr(j, 0, op == VM_OP_MUL64_K, 0x6b, d, d, false);
			b1(j, (__u8)kimm);
		} else {
			op_rr(j, 0, op == VM_OP_MUL64_K, 0x69, d, d, false);
			b4(j, (__u32)kimm);
		}
		break;
#define DIV(N, mod, sgn)                                                                \
	case VM_OP_##N##64_X: emit_div(j, 1, mod, sgn, d, s, false, 0); break;          \
	case VM_OP_##N##64_K: emit_div(j, 1, mod, sgn, d, s, true, kimm); break;        \
	case VM_OP_##N##32_X: emit_div(j, 0, mod, sgn, d, s, false, 0); break;          \
	case VM_OP_##N##32_K: emit_div(j, 0, mod, sgn, d, s, true, kimm); break;
	DIV(DIV, 0, 0)
	DIV(MOD, 1, 0)
	DIV(SDIV, 0, 1)
	DIV(SMOD, 1, 1)
#undef DIV
#define SH(N, ext)                                                                      \
	case VM_OP_##N##64_X: emit_shift_x(j, 1, ext, d, s); break;                     \
	case VM_OP_##N##64_K: emit_shift_k(j, 1, ext, d, pc->k); break;                 \
	case VM_OP_##N##32_X: emit_shift_x(j, 0, ext, d, s); break;                     \
	case VM_OP_##N##32_K: emit_shift_k(j, 0, ext, d, pc->k); break;
	SH(LSH, 4)
	SH(RSH, 5)
	SH(ARSH, 7)
#undef SH
	case VM_OP_MOV64_K: mov_imm(j, d, pc->k); break;
	case VM_OP_MOV32_K: mov_imm(j, d, (__u32)pc->k); break;
	case VM_OP_MOV64_X: mov_rr(j, 1, d, s); break;
	case VM_OP_MOV32_X: mov_rr(j, 0, d, s); break;
	case VM_OP_NEG64: op_rr(j, 0, 1, 0xf7, 3, d, false); break;
	case VM_OP_NEG32: op_rr(j, 0, 0, 0xf7, 3, d, false); break;
	case VM_OP_MOVSX64_8: op_rr(j, 0, 1, 0x0fbe, d, s, true); break;
	case VM_OP_MOVSX64_16: op_rr(j, 0, 1, 0x0fbf, d, s, false); break;
	case VM_OP_MOVSX64_32: op_rr(j, 0, 1, 0x63, d, s, false); break;
	case VM_OP_MOVSX32_8: op_rr(j, 0, 0, 0x0fbe, d, s, true); break;
	case VM_OP_MOVSX32_16: op_rr(j, 0, 0, 0x0fbf, d, s, false); break;
	case VM_OP_LE16: op_rr(j, 0, 0, 0x0fb7, d, d, false); break;
	case VM_OP_LE32: mov_rr(j, 0, d, d); break;
	case VM_OP_BE16:
	case VM_OP_BSWAP16:
		op_rr(j, 0x66, 0, 0xc1, 1, d, false);          /* ror r16, 8 */
		b1(j, 8);
		op_rr(j, 0, 0, 0x0fb7, d, d, false);
		break;
	case VM_OP_BE32:
	case VM_OP_BSWAP32:
		rex(j, 0, 0, 0, d, false);
		b2(j, 0x0f, (__u8)(0xc8 + (d & 7)));
		break;
	case VM_OP_BE64:
	case VM_OP_BSWAP64:
		rex(j, 1, 0, 0, d, false);
		b2(j, 0x0f, (__u8)(0xc8 + (d & 7)));
		break;
	case VM_OP_NOP:
		break;
	case VM_OP_LDDW:
		mov_imm(j, d, pc->k);
		break;

	/* ---- jumps ---- */
#define JC(N, cc)                                                                                  \
	case VM_OP_##N##64_X: alu_rr(j, 1, 0x39, d, s); jmp_insn(j, cc, i, insn_index(j, pc->target)); break; \
	case VM_OP_##N##64_K: alu_ri(j, 1, 7, d, kimm); jmp_insn(j, cc, i, insn_index(j, pc->target)); break; \
	case VM_OP_##N##32_X: alu_rr(j, 0, 0x39, d, s); jmp_insn(j, cc, i, insn_index(j, pc->target)); break; \
	case VM_OP_##N##32_K: alu_ri(j, 0, 7, d, kimm); jmp_insn(j, cc, i, insn_index(j, pc->target)); break;
	JC(JEQ, CC_E)
	JC(JNE, CC_NE)
	JC(JGT, CC_A)
	JC(JGE, CC_AE)
	JC(JLT, CC_B)
	JC(JLE, CC_BE)
	JC(JSGT, CC_G)
	JC(JSGE, CC_GE)
	JC(JSLT, CC_L)
	JC(JSLE, CC_LE)
#undef JC
	case VM_OP_JSET64_X:
	case VM_OP_JSET32_X:
		alu_rr(j, op == VM_OP_JSET64_X, 0x85, d, s);
		jmp_insn(j, CC_NE, i, insn_index(j, pc->target));
		break;
	case VM_OP_JSET64_K:
	case VM_OP_JSET32_K:
		op_rr(j, 0, op == VM_OP_JSET64_K, 0xf7, 0, d, false);
		b4(j, (__u32)kimm);
		jmp_insn(j, CC_NE, i, insn_index(j, pc->target));
		break;
	case VM_OP_JA:
		jmp_insn(j, -1, i, insn_index(j, pc->target));
		break;
	case VM_OP_MAY_GOTO: {
		/* count down; at 0 (a borrow) the stub puts 0 back and jumps */
		struct cold *c = cold_new(j, COLD_MAY_GOTO, i, 0);
		alu_mi(j, 1, 5, RUN, OFF(may_goto), 1);
		cold_jump(j, c, CC_B);
		if (c)
			c->back = (__u32)j->len;
		break;
	}
	case VM_OP_TICK: {
		struct cold *c = cold_new(j, COLD_TICK, i, 0);
		alu_mi(j, 1, 5, RUN, OFF(ticks), 1);
		cold_jump(j, c, CC_E);
		if (c)
			c->back = (__u32)j->len;
		break;
	}

	/* ---- calls ---- */
	case VM_OP_CALL: {
		op_mem(j, 0, 0, 0xc7, 0, RUN, OFF(fault_insn), false);
		b4(j, pc->idx);
		if (pc->helper == vm_h_map_lookup_elem && (pc->flags & VM_I_MAPARG)) {
			/* the map is known: vm_jit_map_lookup(run, map, R2) */
			struct cold *c = cold_new(j, COLD_FAULT, i, VM_JIT_F_LOCK);
			alu_mi(j, 1, 7, RUN, OFF(lock_map), 0);
			cold_jump(j, c, CC_NE);
			mov_rr(j, 1, RDX, RSI);
			mov_imm(j, RSI, pc->k);
			mov_rr(j, 1, RDI, RUN);
			call_abs(j, (const void *)vm_jit_map_lookup);
			alu_mi(j, 0, 7, RUN, OFF(err), 0);
			jmp_back(j, CC_NE, j->o_fault);
			break;
		}
		if ((__s64)pc->k == (__s32)pc->k) {
			mov_m64_imm(j, RUN, OFF(map_hint), (__s32)pc->k);
		} else {
			mov_imm(j, R10, pc->k);
			op_mem(j, 0, 1, 0x89, R10, RUN, OFF(map_hint), false);
		}
		if (pc->helper != vm_h_spin_unlock) {
			struct cold *c = cold_new(j, COLD_FAULT, i, VM_JIT_F_LOCK);
			alu_mi(j, 1, 7, RUN, OFF(lock_map), 0);
			cold_jump(j, c, CC_NE);
		}
		shift_args(j);
		call_abs(j, (const void *)pc->helper);
		alu_mi(j, 0, 7, RUN, OFF(err), 0);
		jmp_back(j, CC_NE, j->o_fault);
		break;
	}
	case VM_OP_CALL_MISSING:
	case VM_OP_FAULT:
		emit_fault_call(j, i, VM_JIT_F_OP);
		break;
	case VM_OP_CALL_FUNC: {
		/* a program extensions replace functions of (its object's nr_ext): the
		 * call goes through vm_jit_ext_call() in a cold stub */
		mov_imm(j, R11, (__u64)(uintptr_t)&j->p->obj->hdr->prog.nr_ext);
		alu_mi(j, 0, 7, R11, 0, 0);                /* cmp dword [r11], 0 */
		struct cold *x = cold_new(j, COLD_EXT, i, 0);
		cold_jump(j, x, CC_NE);
		struct cold *c = cold_new(j, COLD_FAULT, i, VM_JIT_F_DEPTH);
		alu_mi(j, 0, 7, RUN, OFF(depth), VM_MAX_FRAMES - 1);
		cold_jump(j, c, CC_AE);
		alu_mi(j, 0, 0, RUN, OFF(depth), 1);
		push(j, RBX);
		push(j, R13);
		push(j, R14);
		push(j, R15);
		op_mem(j, 0, 0, 0xff, 6, RUN, OFF(may_goto), false);
		if (j->has_tail) {
			op_mem(j, 0, 0, 0xff, 6, RUN, OFF(prog), false);
			alu_ri(j, 1, 5, RSP, 8);
		}
		mov_m64_imm(j, RUN, OFF(may_goto), VM_MAX_LOOPS);
		alu_ri(j, 1, 5, RBP, VM_STACK_SIZE);
		b1(j, 0xe8);
		__u32 t = insn_index(j, pc->target);
		__s64 disp = j->first ? 0 : (__s64)j->prev[t] - (__s64)j->prev[i] - (__s64)(j->len + 4 - j->offs[i]);
		b4(j, (__u32)(__s32)disp);
		alu_ri(j, 1, 0, RBP, VM_STACK_SIZE);
		if (j->has_tail) {
			alu_ri(j, 1, 0, RSP, 8);
			op_mem(j, 0, 0, 0x8f, 0, RUN, OFF(prog), false);
		}
		op_mem(j, 0, 0, 0x8f, 0, RUN, OFF(may_goto), false);
		pop(j, R15);
		pop(j, R14);
		pop(j, R13);
		pop(j, RBX);
		alu_mi(j, 0, 5, RUN, OFF(depth), 1);
		if (x)
			x->back = (__u32)j->len;
		break;
	}
	case VM_OP_EXIT:
		b1(j, 0xc3);
		break;
	case VM_OP_TAIL_CALL: {
		op_mem(j, 0, 0, 0xc7, 0, RUN, OFF(fault_insn), false);
		b4(j, pc->idx);
		static const int keep[] = { RAX, RDI, RSI, RDX, RCX, R8 };
		for (size_t k = 0; k < ARRAY_SIZE(keep); k++)
			push(j, keep[k]);
		mov_rr(j, 1, RDI, RUN);                  /* vm_tail_target(run, R2, R3) */
		call_abs(j, (const void *)vm_tail_target);
		mov_rr(j, 1, R11, RAX);
		for (size_t k = ARRAY_SIZE(keep); k-- > 0;)
			pop(j, keep[k]);
		alu_mi(j, 0, 7, RUN, OFF(err), 0);
		jmp_back(j, CC_NE, j->o_fault);
		alu_rr(j, 1, 0x85, R11, R11);
		__u32 none = jmp_fwd8(j, CC_E);
		op_mem(j, 0, 1, 0x89, R11, RUN, OFF(prog), false);
		mov_m64_imm(j, RUN, OFF(may_goto), VM_MAX_LOOPS);
		op_mem(j, 0, 1, 0x8b, R10, R11, (__s32)offsetof(struct vm_prog, jit), false);
		alu_rr(j, 1, 0x85, R10, R10);
		__u32 interp = jmp_fwd8(j, CC_E);
		op_mem(j, 0, 0, 0xff, 4, R10, 0, false);   /* jmp [jit->entry0]: the target's main function */
		here(j, interp);
		shift_args(j);
		call_abs(j, (const void *)vm_jit_tail_interp);
		alu_mi(j, 0, 7, RUN, OFF(err), 0);
		jmp_back(j, CC_NE, j->o_fault);
		b1(j, 0xc3);
		here(j, none);
		break;
	}

	/* ---- loads and stores ---- */
	case VM_OP_LDX_B: case VM_OP_LDX_H: case VM_OP_LDX_W: case VM_OP_LDX_DW:
	case VM_OP_LDXS_B: case VM_OP_LDXS_H: case VM_OP_LDXS_W: {
		__u32 n = op_size(op);
		lea_addr(j, s, pc->off);
		struct cold *c = emit_check(j, i, n, VM_RD);
		emit_load(j, d, R11, 0, n, op == VM_OP_LDXS_B || op == VM_OP_LDXS_H || op == VM_OP_LDXS_W);
		/* a load the kernel would make BPF_PROBE_MEM (as vm_mem_slow() decides): in an event
		 * run (run->probe_zero) a refused address reads 0 and the program goes on */
		if (c && (!j->p->aux || (pc->flags & VM_I_PROBE))) {
			c->probe_dst = d;
			c->skip = (__u32)j->len;
		}
		break;
	}
	case VM_OP_LDX_B_F: case VM_OP_LDX_H_F: case VM_OP_LDX_W_F: case VM_OP_LDX_DW_F:
	case VM_OP_LDXS_B_F: case VM_OP_LDXS_H_F: case VM_OP_LDXS_W_F:
		emit_load(j, d, s, pc->off, op_size(op),
			  op == VM_OP_LDXS_B_F || op == VM_OP_LDXS_H_F || op == VM_OP_LDXS_W_F);
		break;
	case VM_OP_ST_B: case VM_OP_ST_H: case VM_OP_ST_W: case VM_OP_ST_DW: {
		__u32 n = op_size(op);
		lea_addr(j, d, pc->off);
		emit_check(j, i, n, VM_WR);
		emit_store_imm(j, kimm, R11, 0, n);
		break;
	}
	case VM_OP_ST_B_F: case VM_OP_ST_H_F: case VM_OP_ST_W_F: case VM_OP_ST_DW_F:
		emit_store_imm(j, kimm, d, pc->off, op_size(op));
		break;
	case VM_OP_STX_B: case VM_OP_STX_H: case VM_OP_STX_W: case VM_OP_STX_DW: {
		__u32 n = op_size(op);
		lea_addr(j, d, pc->off);
		emit_check(j, i, n, VM_WR);
		emit_store_reg(j, s, R11, 0, n);
		break;
	}
	case VM_OP_STX_B_F: case VM_OP_STX_H_F: case VM_OP_STX_W_F: case VM_OP_STX_DW_F:
		emit_store_reg(j, s, d, pc->off, op_size(op));
		break;
	case VM_OP_LDACQ_B: case VM_OP_LDACQ_H: case VM_OP_LDACQ_W: case VM_OP_LDACQ_DW:
	case VM_OP_STREL_B: case VM_OP_STREL_H: case VM_OP_STREL_W: case VM_OP_STREL_DW: {
		bool ld = op == VM_OP_LDACQ_B || op == VM_OP_LDACQ_H || op == VM_OP_LDACQ_W || op == VM_OP_LDACQ_DW;
		__u32 n = op_size(op);
		lea_addr(j, ld ? s : d, pc->off);
		if (n > 1) {
			struct cold *c = cold_new(j, COLD_FAULT, i, VM_JIT_F_ALIGN);
			op_rr(j, 0, 0, 0xf6, 0, R11, true);
			b1(j, (__u8)(n - 1));
			cold_jump(j, c, CC_NE);
		}
		if (!(pc->flags & VM_I_FAST))
			emit_check(j, i, n, ld ? VM_RD : VM_WR);
		if (ld)
			emit_load(j, d, R11, 0, n, false);
		else
			emit_store_reg(j, s, R11, 0, n);     /* x86 stores are release stores */
		break;
	}
#define ATOM(W, w)                                                                     \
	case VM_OP_AADD##W: emit_atomic(j, i, pc, w, 0); break;                        \
	case VM_OP_AAND##W: emit_atomic(j, i, pc, w, 1); break;                        \
	case VM_OP_AOR##W: emit_atomic(j, i, pc, w, 2); break;                         \
	case VM_OP_AXOR##W: emit_atomic(j, i, pc, w, 3); break;                        \
	case VM_OP_AFADD##W: emit_atomic(j, i, pc, w, 4); break;                       \
	case VM_OP_AFAND##W: emit_atomic(j, i, pc, w, 5); break;                       \
	case VM_OP_AFOR##W: emit_atomic(j, i, pc, w, 6); break;                        \
	case VM_OP_AFXOR##W: emit_atomic(j, i, pc, w, 7); break;                       \
	case VM_OP_AXCHG##W: emit_atomic(j, i, pc, w, 8); break;                       \
	case VM_OP_ACMPXCHG##W: emit_atomic(j, i, pc, w, 9); break;
	ATOM(32, 0)
	ATOM(64, 1)
#undef ATOM

	/* LD_ABS / LD_IND: vm_jit_ld_pkt(run, pc, off) -> R0, or return 0 from the function */
	case VM_OP_LD_ABS_B: case VM_OP_LD_ABS_H: case VM_OP_LD_ABS_W:
	case VM_OP_LD_IND_B: case VM_OP_LD_IND_H: case VM_OP_LD_IND_W: {
		bool ind = op == VM_OP_LD_IND_B || op == VM_OP_LD_IND_H || op == VM_OP_LD_IND_W;
		if (ind) {
			mov_rr(j, 1, R11, s);
			alu_ri(j, 1, 0, R11, pc->imm);
		} else {
			mov_imm(j, R11, (__u64)(__s64)pc->imm);
		}
		static const int keep[] = { RDI, RSI, RDX, RCX, R8 };
		for (size_t k = 0; k < ARRAY_SIZE(keep); k++)
			push(j, keep[k]);
		alu_ri(j, 1, 5, RSP, 8);
		mov_rr(j, 1, RDI, RUN);
		mov_imm(j, RSI, (__u64)(uintptr_t)pc);
		mov_rr(j, 1, RDX, R11);
		call_abs(j, (const void *)vm_jit_ld_pkt);
		mov_rr(j, 1, R11, RDX);
		alu_ri(j, 1, 0, RSP, 8);
		for (size_t k = ARRAY_SIZE(keep); k-- > 0;)
			pop(j, keep[k]);
		alu_mi(j, 0, 7, RUN, OFF(err), 0);
		jmp_back(j, CC_NE, j->o_fault);
		alu_rr(j, 1, 0x85, R11, R11);
		__u32 ok = jmp_fwd8(j, CC_E);
		alu_rr(j, 0, 0x31, RAX, RAX);
		b1(j, 0xc3);
		here(j, ok);
		break;
	}
	default:
		j->err = -EINVAL;                     /* an operation this file does not know */
	}
}

static void emit_cold(struct jit *j)
{
	for (size_t k = 0; k < j->ncold; k++) {
		struct cold *c = &j->cold[k];
		__u32 at = (__u32)j->len;
		for (__u32 q = 0; q < c->npatch; q++)
			put4(j, c->patch[q], at - (c->patch[q] + 4));
		switch (c->kind) {
		case COLD_MEM:
			mov_imm(j, R10, (__u64)(uintptr_t)&j->p->insns[c->insn]);
			mov_imm(j, R9, c->arg);
			b1(j, 0xe8);
			b4(j, (__u32)(__s32)((__s64)j->o_mem - (__s64)(j->len + 4)));
			op_rr(j, 0, 0, 0x84, R10, R10, true);          /* test r10b, r10b */
			if (c->probe_dst < 0) {
				jmp_back(j, CC_E, j->o_fault);
				jmp_back(j, -1, c->back);
				break;
			}
			/* refused: with run->err set the run ends, else (a probe load) dst = 0 */
			jmp_back(j, CC_NE, c->back);
			alu_mi(j, 0, 7, RUN, OFF(err), 0);             /* cmp dword [err], 0 */
			jmp_back(j, CC_NE, j->o_fault);
			op_rr(j, 0, 0, 0x31, c->probe_dst, c->probe_dst, false);  /* xor dst32, dst32 */
			jmp_back(j, -1, c->skip);
			break;
		case COLD_TICK:
			b1(j, 0xe8);
			b4(j, (__u32)(__s32)((__s64)j->o_tick - (__s64)(j->len + 4)));
			op_rr(j, 0, 0, 0x84, R10, R10, true);
			jmp_back(j, CC_E, j->o_fault);
			jmp_back(j, -1, c->back);
			break;
		case COLD_EXT: {
			/* vm_jit_ext_call(run, R1..R5), the callee's decoded index in map_hint */
			const struct vm_insn *pc = &j->p->insns[c->insn];
			op_mem(j, 0, 0, 0xc7, 0, RUN, OFF(fault_insn), false);
			b4(j, pc->idx);
			mov_m64_imm(j, RUN, OFF(map_hint), (__s32)insn_index(j, pc->target));
			shift_args(j);
			call_abs(j, (const void *)vm_jit_ext_call);
			alu_mi(j, 0, 7, RUN, OFF(err), 0);
			jmp_back(j, CC_NE, j->o_fault);
			jmp_back(j, -1, c->back);
			break;
		}
		case COLD_MAY_GOTO:
			mov_m64_imm(j, RUN, OFF(may_goto), 0);
			jmp_back(j, -1, j->offs[insn_index(j, j->p->insns[c->insn].target)]);
			break;
		default:
			emit_fault_call(j, c->insn, c->arg);
		}
	}
}

static void emit_pass(struct jit *j)
{
	j->len = 0;
	j->ncold = 0;
	emit_common(j);
	__u32 n = j->p->nr_insns + 1;              /* and the last slot: "fell off the end" */
	for (__u32 i = 0; i < n; i++) {
		j->offs[i] = (__u32)j->len;
		emit_insn(j, i);
	}
	j->offs[n] = (__u32)j->len;
	emit_cold(j);
}

int vm_jit_emit(const struct vm_prog *p, unsigned char **code, size_t *len, __u32 **offs, size_t *enter_off)
{
	struct jit j = { .p = p, .first = true };
	__u32 n = p->nr_insns + 2;
	j.offs = calloc(n, sizeof(*j.offs));
	j.prev = calloc(n, sizeof(*j.prev));
	if (!j.offs || !j.prev) {
		j.err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < p->nr_insns; i++)
		if (p->insns[i].op == VM_OP_TAIL_CALL)
			j.has_tail = true;
	int pass;
	for (pass = 0; pass < 20 && !j.err; pass++) {
		emit_pass(&j);
		if (j.err)
			break;
		if (!j.first && !memcmp(j.offs, j.prev, n * sizeof(*j.offs)))
			break;
		__u32 *t = j.prev;
		j.prev = j.offs;
		j.offs = t;
		j.first = false;
	}
	if (!j.err && pass == 20)
		j.err = -E2BIG;                   /* the offsets did not settle */
out:
	free(j.prev);
	free(j.cold);
	if (j.err) {
		free(j.buf);
		free(j.offs);
		return j.err;
	}
	*code = j.buf;
	*len = j.len;
	*offs = j.offs;
	*enter_off = 0;
	return 0;
}

#else /* not x86-64: the interpreter runs everything */

int vm_jit_emit(const struct vm_prog *p, unsigned char **code, size_t *len, __u32 **offs, size_t *enter_off)
{
	(void)p; (void)code; (void)len; (void)offs; (void)enter_off;
	return -EOPNOTSUPP;
}

#endif
