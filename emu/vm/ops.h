/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/ops.h: the decoded operations, one X(name) per operation.
 *
 * The decoder (decode.c) turns each BPF instruction into one of these, with
 * every choice that does not depend on run-time values already made: the
 * operand kind (K: the immediate, sign-extended once into insn->k; X: a
 * register), the width, the access size, whether a memory access was proven
 * safe at load (the _F forms: "fast", no run-time check), the helper's
 * address, the jump's decoded target. The interpreter (interp.c) has one
 * labelled block per operation; a later JIT emits one code sequence per
 * operation from the same decoded array.
 */

/* ALU: for W in 64/32, K and X forms */
#define VM_ALU_OPS(X, W)                                                                          \
	X(ADD##W##_K) X(ADD##W##_X) X(SUB##W##_K) X(SUB##W##_X) X(MUL##W##_K) X(MUL##W##_X)       \
	X(DIV##W##_K) X(DIV##W##_X) X(SDIV##W##_K) X(SDIV##W##_X) X(MOD##W##_K) X(MOD##W##_X)     \
	X(SMOD##W##_K) X(SMOD##W##_X) X(OR##W##_K) X(OR##W##_X) X(AND##W##_K) X(AND##W##_X)       \
	X(XOR##W##_K) X(XOR##W##_X) X(LSH##W##_K) X(LSH##W##_X) X(RSH##W##_K) X(RSH##W##_X)       \
	X(ARSH##W##_K) X(ARSH##W##_X) X(MOV##W##_K) X(MOV##W##_X) X(NEG##W)

/* conditional jumps: for W in 64/32 */
#define VM_JMP_OPS(X, W)                                                                          \
	X(JEQ##W##_K) X(JEQ##W##_X) X(JNE##W##_K) X(JNE##W##_X) X(JGT##W##_K) X(JGT##W##_X)       \
	X(JGE##W##_K) X(JGE##W##_X) X(JLT##W##_K) X(JLT##W##_X) X(JLE##W##_K) X(JLE##W##_X)       \
	X(JSGT##W##_K) X(JSGT##W##_X) X(JSGE##W##_K) X(JSGE##W##_X) X(JSLT##W##_K) X(JSLT##W##_X) \
	X(JSLE##W##_K) X(JSLE##W##_X) X(JSET##W##_K) X(JSET##W##_X)

/* loads and stores: checked and proven (_F) forms */
#define VM_MEM_OPS(X, S)                                                                          \
	X(LDX_##S) X(LDX_##S##_F) X(ST_##S) X(ST_##S##_F) X(STX_##S) X(STX_##S##_F)                \
	X(LDACQ_##S) X(STREL_##S)

#define VM_ATOMIC_OPS(X, W)                                                                       \
	X(AADD##W) X(AAND##W) X(AOR##W) X(AXOR##W) X(AFADD##W) X(AFAND##W) X(AFOR##W) X(AFXOR##W)  \
	X(AXCHG##W) X(ACMPXCHG##W)

#define VM_OPS(X)                                                                                 \
	VM_ALU_OPS(X, 64) VM_ALU_OPS(X, 32)                                                       \
	X(MOVSX64_8) X(MOVSX64_16) X(MOVSX64_32) X(MOVSX32_8) X(MOVSX32_16)                       \
	X(LE16) X(LE32) X(BE16) X(BE32) X(BE64) X(BSWAP16) X(BSWAP32) X(BSWAP64) X(NOP)           \
	X(LDDW)                                                                                   \
	VM_JMP_OPS(X, 64) VM_JMP_OPS(X, 32)                                                       \
	X(JA) X(MAY_GOTO) X(TICK)                                                                 \
	X(CALL) X(CALL_MISSING) X(CALL_FUNC) X(TAIL_CALL) X(EXIT)                                 \
	VM_MEM_OPS(X, B) VM_MEM_OPS(X, H) VM_MEM_OPS(X, W) VM_MEM_OPS(X, DW)                      \
	X(LDXS_B) X(LDXS_B_F) X(LDXS_H) X(LDXS_H_F) X(LDXS_W) X(LDXS_W_F)                         \
	VM_ATOMIC_OPS(X, 32) VM_ATOMIC_OPS(X, 64)                                                 \
	X(LD_ABS_B) X(LD_ABS_H) X(LD_ABS_W) X(LD_IND_B) X(LD_IND_H) X(LD_IND_W)                   \
	X(FAULT)
