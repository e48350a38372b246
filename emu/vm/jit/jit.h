/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/jit/jit.h: the x86-64 JIT, as the VM sees it.
 *
 * The JIT compiles a decoded program (struct vm_prog, decode.c) once, when
 * the process decodes it, into machine code on pages that are writable while
 * the code is written and executable afterwards, never both. The code keeps
 * the interpreter's semantics and its run-time checks: the accesses the
 * decoder proved safe (the _F operations, VM_I_FAST atomics) are plain
 * loads and stores; every other access tests the run's one-entry region
 * cache inline and calls vm_mem_slow() on a miss, exactly as the
 * interpreter does; loops count ticks against the time limit; helpers,
 * bpf-to-bpf calls, tail calls and LD_ABS/LD_IND behave as in interp.c.
 *
 * The interpreter stays the fallback: BPFEMU_JIT=0, a host that is not
 * x86-64, a program the JIT refuses (too large), or executable memory the
 * host denies. vm_exec() (interp.c) runs the JIT's code when the running
 * program has some.
 */
#ifndef BPFEMU_VM_JIT_H
#define BPFEMU_VM_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm_int.h"

/* A compiled program. entry0 first: tail calls load it from generated code. */
struct vm_jit {
	void *entry0;                  /* the main function's code */
	unsigned char *image;          /* the mapping (read + execute) */
	size_t size;                   /* its length */
	__u32 *offs;                   /* per decoded instruction: its code's offset in image */
	__u32 nr;
	/* the trampoline at the start of image: C to generated code */
	__u64 (*enter)(struct vm_run *run, const void *code, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5,
		       __u64 r10);
};

/* Is the JIT on (BPFEMU_JIT, read once; default on where it is built)? */
bool vm_jit_enabled(void);
/* Tests: force the JIT on (1) or off (0) for programs decoded from now on; -1: the environment's. */
void vm_jit_override(int on);

/* Compiles p into p->jit; leaves p->jit NULL (the interpreter runs p) when
 * the JIT was off at p's decoding (p->jit_wanted) or cannot take p. */
void vm_jit_compile(struct vm_prog *p);
void vm_jit_free(struct vm_jit *j);

/* vm_exec() for a program with code: runs entry (a function of run->prog). */
__u64 vm_jit_exec(struct vm_run *run, const struct vm_insn *entry, __u64 r1, __u64 r2, __u64 r3, __u64 r4,
		  __u64 r5);

/* ---- x86_64.c: the code generator ---- */
/* The image of p (malloc'd, position independent), its length and the
 * offsets of each decoded instruction (nr_insns + 1); -errno. */
int vm_jit_emit(const struct vm_prog *p, unsigned char **code, size_t *len, __u32 **offs, size_t *enter_off);

/* ---- jit.c: what generated code calls ---- */
__u64 vm_jit_map_lookup(struct vm_run *run, struct vm_map *m, __u64 key);
__u64 vm_h_map_lookup_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_jit_tail_interp(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
struct vm_jit_pair {
	__u64 val, status;
};
struct vm_jit_pair vm_jit_ld_pkt(struct vm_run *run, const struct vm_insn *pc, __u64 off);
enum { VM_JIT_F_OP, VM_JIT_F_DEPTH, VM_JIT_F_ALIGN, VM_JIT_F_LOCK };
void vm_jit_fault(struct vm_run *run, const struct vm_insn *pc, __u64 kind, __u64 addr);

#endif
