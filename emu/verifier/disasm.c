/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/disasm.c: one instruction as the verifier log prints it
 * ("(bf) r1 = r10", "(85) call bpf_map_lookup_elem#1", "(15) if r2 == 0x3 goto
 * pc+1"), Linux 6.18's kernel/bpf/disasm.c format.
 */
#include <stdio.h>

#include "env.h"
#include "../helpers.h"

static const char *const alu_str[16] = { "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
					 "neg", "%=", "^=", "=", "s>>=", "endian", "?", "?" };
static const char *const ldst_str[4] = { "u32", "u16", "u8", "u64" };
static const char *const ldsx_str[4] = { "s32", "s16", "s8", "s64" };
static const char *const jmp_str[16] = { "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=",
					 "call", "exit", "<", "<=", "s<", "s<=", "?", "?" };

static const char *func_name(struct venv *env, const struct bpf_insn *insn, char *buf, size_t n)
{
	if (!insn->src_reg && insn->imm >= 0 && insn->imm < EMU_BPF_FUNC_MAX_ID && emu_helper_names[insn->imm])
		return emu_helper_names[insn->imm];
	/* disasm_kfunc_name(): a kfunc's name from the kernel's BTF */
	if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL && env->kbtf && insn->imm > 0 && !insn->off) {
		const struct btf_type *t = kbtf_type(env->kbtf, (__u32)insn->imm);
		if (t)
			return kbtf_name(env->kbtf, t->name_off);
	}
	if (insn->src_reg == BPF_PSEUDO_CALL)
		snprintf(buf, n, "%+d", insn->imm);
	else if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL)
		snprintf(buf, n, "kernel-function");
	return buf;
}

const char *func_id_name(int id)
{
	if (id >= 0 && id < EMU_BPF_FUNC_MAX_ID && emu_helper_names[id])
		return emu_helper_names[id];
	return "unknown";
}

static char reg_char(__u8 cls) { return cls == BPF_ALU || cls == BPF_JMP32 ? 'w' : 'r'; }

void print_bpf_insn(struct venv *env, const struct bpf_insn *insn, bool allow_ptr_leaks)
{
	__u8 cls = BPF_CLASS(insn->code), op = BPF_OP(insn->code), mode = BPF_MODE(insn->code);
	__u8 sz = BPF_SIZE(insn->code) >> 3;
	char tmp[64] = "unknown";

	if (cls == BPF_ALU || cls == BPF_ALU64) {
		char c = reg_char(cls);
		if (op == BPF_END) {
			if (cls == BPF_ALU64)
				verbose(env, "(%02x) r%d = bswap%d r%d\n", insn->code, insn->dst_reg, insn->imm,
					insn->dst_reg);
			else
				verbose(env, "(%02x) r%d = %s%d r%d\n", insn->code, insn->dst_reg,
					BPF_SRC(insn->code) == BPF_TO_BE ? "be" : "le", insn->imm, insn->dst_reg);
		} else if (op == BPF_NEG) {
			verbose(env, "(%02x) %c%d = -%c%d\n", insn->code, c, insn->dst_reg, c, insn->dst_reg);
		} else if (insn->code == (BPF_ALU64 | BPF_MOV | BPF_X) && insn->off == BPF_ADDR_SPACE_CAST) {
			verbose(env, "(%02x) r%d = addr_space_cast(r%d, %d, %d)\n", insn->code, insn->dst_reg,
				insn->src_reg, (int)(((__u32)insn->imm) >> 16), (int)(__u16)insn->imm);
		} else if (BPF_SRC(insn->code) == BPF_X) {
			bool sign = (op == BPF_DIV || op == BPF_MOD) && insn->off == 1;
			bool movsx = op == BPF_MOV && (insn->off == 8 || insn->off == 16 || insn->off == 32);
			verbose(env, "(%02x) %c%d %s %s%c%d\n", insn->code, c, insn->dst_reg,
				sign ? (op == BPF_DIV ? "s/=" : "s%=") : alu_str[op >> 4],
				movsx ? (insn->off == 8 ? "(s8)" : insn->off == 16 ? "(s16)" : "(s32)") : "", c,
				insn->src_reg);
		} else {
			bool sign = (op == BPF_DIV || op == BPF_MOD) && insn->off == 1;
			verbose(env, "(%02x) %c%d %s %d\n", insn->code, c, insn->dst_reg,
				sign ? (op == BPF_DIV ? "s/=" : "s%=") : alu_str[op >> 4], insn->imm);
		}
	} else if (cls == BPF_STX) {
		if (mode == BPF_MEM) {
			verbose(env, "(%02x) *(%s *)(r%d %+d) = r%d\n", insn->code, ldst_str[sz], insn->dst_reg,
				insn->off, insn->src_reg);
		} else if (mode == BPF_ATOMIC && (insn->imm == BPF_ADD || insn->imm == BPF_AND || insn->imm == BPF_OR ||
						  insn->imm == BPF_XOR)) {
			verbose(env, "(%02x) lock *(%s *)(r%d %+d) %s r%d\n", insn->code, ldst_str[sz], insn->dst_reg,
				insn->off, alu_str[BPF_OP(insn->imm) >> 4], insn->src_reg);
		} else if (mode == BPF_ATOMIC && (insn->imm == (BPF_ADD | BPF_FETCH) || insn->imm == (BPF_AND | BPF_FETCH) ||
						  insn->imm == (BPF_OR | BPF_FETCH) || insn->imm == (BPF_XOR | BPF_FETCH))) {
			static const char *const fetch_op[16] = { [BPF_ADD >> 4] = "add", [BPF_AND >> 4] = "and",
								  [BPF_OR >> 4] = "or", [BPF_XOR >> 4] = "xor" };
			verbose(env, "(%02x) r%d = atomic%s_fetch_%s((%s *)(r%d %+d), r%d)\n", insn->code, insn->src_reg,
				BPF_SIZE(insn->code) == BPF_DW ? "64" : "", fetch_op[BPF_OP(insn->imm) >> 4],
				ldst_str[sz], insn->dst_reg, insn->off, insn->src_reg);
		} else if (mode == BPF_ATOMIC && insn->imm == BPF_CMPXCHG) {
			verbose(env, "(%02x) r0 = atomic%s_cmpxchg((%s *)(r%d %+d), r0, r%d)\n", insn->code,
				BPF_SIZE(insn->code) == BPF_DW ? "64" : "", ldst_str[sz], insn->dst_reg, insn->off,
				insn->src_reg);
		} else if (mode == BPF_ATOMIC && insn->imm == BPF_XCHG) {
			verbose(env, "(%02x) r%d = atomic%s_xchg((%s *)(r%d %+d), r%d)\n", insn->code, insn->src_reg,
				BPF_SIZE(insn->code) == BPF_DW ? "64" : "", ldst_str[sz], insn->dst_reg, insn->off,
				insn->src_reg);
		} else if (mode == BPF_ATOMIC && insn->imm == BPF_LOAD_ACQ) {
			verbose(env, "(%02x) r%d = load_acquire((%s *)(r%d %+d))\n", insn->code, insn->dst_reg,
				ldst_str[sz], insn->src_reg, insn->off);
		} else if (mode == BPF_ATOMIC && insn->imm == BPF_STORE_REL) {
			verbose(env, "(%02x) store_release((%s *)(r%d %+d), r%d)\n", insn->code, ldst_str[sz],
				insn->dst_reg, insn->off, insn->src_reg);
		} else {
			verbose(env, "BUG_%02x\n", insn->code);
		}
	} else if (cls == BPF_ST) {
		if (mode == BPF_MEM)
			verbose(env, "(%02x) *(%s *)(r%d %+d) = %d\n", insn->code, ldst_str[sz], insn->dst_reg, insn->off,
				insn->imm);
		else
			verbose(env, "BUG_st_%02x\n", insn->code);
	} else if (cls == BPF_LDX) {
		if (mode != BPF_MEM && mode != BPF_MEMSX) {
			verbose(env, "BUG_ldx_%02x\n", insn->code);
			return;
		}
		verbose(env, "(%02x) r%d = *(%s *)(r%d %+d)\n", insn->code, insn->dst_reg,
			mode == BPF_MEM ? ldst_str[sz] : ldsx_str[sz], insn->src_reg, insn->off);
	} else if (cls == BPF_LD) {
		if (mode == BPF_ABS) {
			verbose(env, "(%02x) r0 = *(%s *)skb[%d]\n", insn->code, ldst_str[sz], insn->imm);
		} else if (mode == BPF_IND) {
			verbose(env, "(%02x) r0 = *(%s *)skb[r%d + %d]\n", insn->code, ldst_str[sz], insn->src_reg,
				insn->imm);
		} else if (mode == BPF_IMM && BPF_SIZE(insn->code) == BPF_DW) {
			__u64 imm = ((__u64)(__u32)insn[1].imm << 32) | (__u32)insn->imm;
			bool is_ptr = insn->src_reg == BPF_PSEUDO_MAP_FD || insn->src_reg == BPF_PSEUDO_MAP_VALUE;
			if (is_ptr) {
				/* the kernel prints the map's address (the resolved immediate): a made-up one here */
				__u32 k = env->aux[insn - env->insns].map_index;
				imm = 0;
				if (allow_ptr_leaks && k < env->nr_maps)
					imm = 0xffff888100000000ull + (__u64)env->maps[k].id * 0x1000 +
					      (insn->src_reg == BPF_PSEUDO_MAP_VALUE ? 0x110 + (__u32)insn[1].imm : 0);
			}
			verbose(env, "(%02x) r%d = 0x%llx\n", insn->code, insn->dst_reg, (unsigned long long)imm);
		} else {
			verbose(env, "BUG_ld_%02x\n", insn->code);
		}
	} else if (cls == BPF_JMP32 || cls == BPF_JMP) {
		char c = reg_char(cls);
		if (op == BPF_CALL) {
			if (insn->src_reg == BPF_PSEUDO_CALL)
				verbose(env, "(%02x) call pc%s\n", insn->code, func_name(env, insn, tmp, sizeof(tmp)));
			else
				verbose(env, "(%02x) call %s#%d\n", insn->code, func_name(env, insn, tmp, sizeof(tmp)),
					insn->imm);
		} else if (insn->code == (BPF_JMP | BPF_JA)) {
			verbose(env, "(%02x) goto pc%+d\n", insn->code, insn->off);
		} else if (insn->code == (BPF_JMP32 | BPF_JA)) {
			verbose(env, "(%02x) gotol pc%+d\n", insn->code, insn->imm);
		} else if (insn->code == (BPF_JMP | BPF_JCOND) && insn->src_reg == 0) {
			verbose(env, "(%02x) may_goto pc%+d\n", insn->code, insn->off);
		} else if (insn->code == (BPF_JMP | BPF_EXIT)) {
			verbose(env, "(%02x) exit\n", insn->code);
		} else if (BPF_SRC(insn->code) == BPF_X) {
			verbose(env, "(%02x) if %c%d %s %c%d goto pc%+d\n", insn->code, c, insn->dst_reg, jmp_str[op >> 4], c,
				insn->src_reg, insn->off);
		} else {
			verbose(env, "(%02x) if %c%d %s 0x%x goto pc%+d\n", insn->code, c, insn->dst_reg, jmp_str[op >> 4],
				insn->imm, insn->off);
		}
	} else {
		verbose(env, "(%02x) %s\n", insn->code, "unknown");
	}
}
