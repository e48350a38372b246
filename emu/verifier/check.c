/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/check.c: the walk (do_check) and the instructions that do
 * not touch memory or call anything: ALU (scalar bounds and pointer
 * arithmetic), conditional jumps (dead branches, narrowed bounds, null
 * checks, packet ranges, linked scalars), ld_imm64, packet loads, exits and
 * return codes. Linux 6.18's rules, order and messages.
 */
#include <errno.h>
#include <stdlib.h>

#include "env.h"
#include "helper_protos.h"

static const char *const alu_string[16] = { "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
					    "neg", "%=", "^=", "=", "s>>=", "endian", "?", "?" };

/* ---- registers ---- */

void mark_reg_unknown(struct venv *env, struct vreg *regs, __u32 regno)
{
	__mark_reg_unknown(env, regs + regno);
}

void mark_reg_not_init(struct venv *env, struct vreg *regs, __u32 regno)
{
	__mark_reg_not_init(env, regs + regno);
}

void mark_reg_known_zero(struct venv *env, struct vreg *regs, __u32 regno)
{
	(void)env;
	__mark_reg_known_zero(regs + regno);
}

void mark_reg_invalid(const struct venv *env, struct vreg *reg)
{
	if (!env->allow_ptr_leaks)
		__mark_reg_not_init(env, reg);
	else
		__mark_reg_unknown(env, reg);
}

bool __is_pointer_value(bool allow_ptr_leaks, const struct vreg *reg)
{
	return !allow_ptr_leaks && reg->type != SCALAR_VALUE;
}

bool is_pointer_value(struct venv *env, int regno)
{
	return __is_pointer_value(env->allow_ptr_leaks, &cur_regs(env)[regno]);
}

int __check_reg_arg(struct venv *env, struct vreg *regs, __u32 regno, int t)
{
	if (regno >= MAX_BPF_REG) {
		verbose(env, "R%d is invalid\n", regno);
		return -EINVAL;
	}
	mark_reg_scratched(env, regno);
	struct vreg *reg = &regs[regno];
	if (t == SRC_OP) {
		if (reg->type == NOT_INIT) {
			verbose(env, "R%d !read_ok\n", regno);
			return -EACCES;
		}
		return 0;
	}
	if (regno == BPF_REG_FP) {
		verbose(env, "frame pointer is read only\n");
		return -EACCES;
	}
	/* subreg_def (the JIT's zero extension) is not tracked: nothing the verifier answers depends on it */
	if (t == DST_OP)
		mark_reg_unknown(env, regs, regno);
	return 0;
}

int check_reg_arg(struct venv *env, __u32 regno, int t)
{
	return __check_reg_arg(env, cur_regs(env), regno, t);
}

void mark_ptr_not_null_reg(struct vreg *reg)
{
	if (base_type(reg->type) == PTR_TO_MAP_VALUE) {
		const struct vmap *map = reg->map_ptr;
		if (map->inner) {
			reg->type = CONST_PTR_TO_MAP;
			reg->map_ptr = map->inner;
		} else if (map->type == BPF_MAP_TYPE_XSKMAP) {
			reg->type = PTR_TO_XDP_SOCK;
		} else if (map->type == BPF_MAP_TYPE_SOCKMAP || map->type == BPF_MAP_TYPE_SOCKHASH) {
			reg->type = PTR_TO_SOCKET;
		} else {
			reg->type = PTR_TO_MAP_VALUE;
		}
		return;
	}
	reg->type &= ~PTR_MAYBE_NULL;
}

void clear_all_pkt_pointers(struct venv *env)
{
	for_each_reg_in_state(env->cur_state, fn, reg, {
		(void)fn;
		if (reg_is_pkt_pointer_any(reg) ||
		    (base_type(reg->type) == PTR_TO_MEM &&
		     (reg->type & (DYNPTR_TYPE_SKB | DYNPTR_TYPE_XDP | DYNPTR_TYPE_SKB_META))))
			mark_reg_invalid(env, reg);
	});
}

/* the facts kept per instruction for the VM (what a load or store reaches, proven in bounds or not) */
void record_mem(struct venv *env, enum emu_mem_region region, bool proven, int fixed_off, bool fixed)
{
	struct vaux *a = &env->aux[env->insn_idx];
	if (env->cur_state && env->cur_state->speculative)
		return;
	if (!a->mem)
		a->mem = (__u8)region;
	else if (a->mem != region)
		a->mem = EMU_MEM_MIXED;
	if (!proven)
		a->mem_unproven = true;
	if (!a->fixed_off_set) {
		a->fixed_off_set = true;
		a->fixed_off = fixed ? fixed_off : INT32_MIN;
	} else if (!fixed || a->fixed_off != fixed_off) {
		a->fixed_off = INT32_MIN;
	}
}

/* ---- pointer arithmetic (adjust_ptr_min_max_vals) ---- */

static bool check_reg_sane_offset(struct venv *env, const struct vreg *reg, __u32 type)
{
	bool known = tnum_is_const(reg->var_off);
	__s64 val = (__s64)reg->var_off.value, smin = reg->smin_value;
	if (known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF)) {
		verbose(env, "math between %s pointer and %lld is not allowed\n", reg_type_str(env, type), (long long)val);
		return false;
	}
	if (reg->off >= BPF_MAX_VAR_OFF || reg->off <= -BPF_MAX_VAR_OFF) {
		verbose(env, "%s pointer offset %d is not allowed\n", reg_type_str(env, type), reg->off);
		return false;
	}
	if (smin == S64_MIN) {
		verbose(env, "math between %s pointer and register with unbounded min value is not allowed\n",
			reg_type_str(env, type));
		return false;
	}
	if (smin >= BPF_MAX_VAR_OFF || smin <= -BPF_MAX_VAR_OFF) {
		verbose(env, "value %lld makes %s pointer be out of bounds\n", (long long)smin, reg_type_str(env, type));
		return false;
	}
	return true;
}

/* the checks an unprivileged program gets on the result of pointer arithmetic (sanitize_check_bounds) */
static int sanitize_check_bounds(struct venv *env, const struct bpf_insn *insn, const struct vreg *dst_reg)
{
	__u32 dst = insn->dst_reg;
	if (env->bypass_spec_v1)
		return 0;
	switch (dst_reg->type) {
	case PTR_TO_STACK: {
		int off = dst_reg->off + (int)dst_reg->var_off.value;
		if (!tnum_is_const(dst_reg->var_off)) {
			char tn[48];
			tnum_strn(tn, sizeof(tn), dst_reg->var_off);
			verbose(env, "R%d variable stack access prohibited for !root, var_off=%s off=%d\n", dst, tn, off);
			return -EACCES;
		}
		if (off >= 0 || off < -MAX_BPF_STACK) {
			verbose(env, "R%d stack pointer arithmetic goes out of range, prohibited for !root; off=%d\n", dst,
				off);
			return -EACCES;
		}
		break;
	}
	case PTR_TO_MAP_VALUE:
		if (check_map_access(env, dst, dst_reg->off, 1, false, ACCESS_HELPER)) {
			verbose(env, "R%d pointer arithmetic of map value goes out of range, prohibited for !root\n", dst);
			return -EACCES;
		}
		break;
	default:
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Pointer and scalar: the pointer's type, offsets and bounds (off_is_dst: the scalar was the destination). */
static int adjust_ptr_min_max_vals(struct venv *env, const struct bpf_insn *insn, const struct vreg *ptr_in,
				   const struct vreg *off_in)
{
	struct vreg *regs = cur_regs(env), *dst_reg = &regs[insn->dst_reg];
	bool off_is_dst = off_in == dst_reg;
	struct vreg ptr = *ptr_in, off = *off_in;      /* either may be the destination */
	const struct vreg *ptr_reg = &ptr, *off_reg = &off;
	bool known = tnum_is_const(off_reg->var_off);
	__s64 smin_val = off_reg->smin_value, smax_val = off_reg->smax_value;
	__s64 smin_ptr = ptr_reg->smin_value, smax_ptr = ptr_reg->smax_value;
	__u64 umin_val = off_reg->umin_value, umax_val = off_reg->umax_value;
	__u64 umin_ptr = ptr_reg->umin_value, umax_ptr = ptr_reg->umax_value;
	__u8 opcode = BPF_OP(insn->code);
	__u32 dst = insn->dst_reg;

	if ((known && (smin_val != smax_val || umin_val != umax_val)) || smin_val > smax_val || umin_val > umax_val) {
		/* invalid bounds from a dead branch: taint the destination */
		__mark_reg_unknown(env, dst_reg);
		return 0;
	}
	if (BPF_CLASS(insn->code) != BPF_ALU64) {
		if (opcode == BPF_SUB && env->allow_ptr_leaks) {
			__mark_reg_unknown(env, dst_reg);
			return 0;
		}
		verbose(env, "R%d 32-bit pointer arithmetic prohibited\n", dst);
		return -EACCES;
	}
	if (ptr_reg->type & PTR_MAYBE_NULL) {
		verbose(env, "R%d pointer arithmetic on %s prohibited, null-check it first\n", dst,
			reg_type_str(env, ptr_reg->type));
		return -EACCES;
	}
	if (base_type(ptr_reg->type) == PTR_TO_MEM && (ptr_reg->type & PTR_UNTRUSTED))
		return 0;
	switch (base_type(ptr_reg->type)) {
	case PTR_TO_CTX: case PTR_TO_MAP_VALUE: case PTR_TO_MAP_KEY: case PTR_TO_STACK: case PTR_TO_PACKET_META:
	case PTR_TO_PACKET: case PTR_TO_TP_BUFFER: case PTR_TO_BTF_ID: case PTR_TO_MEM: case PTR_TO_BUF:
	case PTR_TO_FUNC: case CONST_PTR_TO_DYNPTR:
		break;
	case PTR_TO_FLOW_KEYS:
		if (known)
			break;
		/* fall through */
	case CONST_PTR_TO_MAP:
		if (known && smin_val == 0 && opcode == BPF_ADD)
			break;
		/* fall through */
	default:
		verbose(env, "R%d pointer arithmetic on %s prohibited\n", dst, reg_type_str(env, ptr_reg->type));
		return -EACCES;
	}

	dst_reg->type = ptr_reg->type;
	dst_reg->id = ptr_reg->id;
	if (!check_reg_sane_offset(env, off_reg, ptr_reg->type) || !check_reg_sane_offset(env, ptr_reg, ptr_reg->type))
		return -EINVAL;
	__mark_reg32_unbounded(dst_reg);

	/* sanitize_ptr_alu() for unprivileged programs: only what makes it refuse */
	if ((opcode == BPF_ADD || opcode == BPF_SUB) && !env->bypass_spec_v1 && BPF_SRC(insn->code) == BPF_X &&
	    !env->cur_state->speculative) {
		if (!tnum_is_const(off_reg->var_off) && (off_reg->smin_value < 0) != (off_reg->smax_value < 0)) {
			verbose(env, "R%d has unknown scalar with mixed signed bounds, %s\n", off_is_dst ? dst : insn->src_reg,
				"pointer arithmetic with it prohibited for !root");
			return -EACCES;
		}
		if (ptr_reg->type != PTR_TO_STACK && ptr_reg->type != PTR_TO_MAP_VALUE) {
			verbose(env, "R%d has pointer with unsupported alu operation, %s\n", off_is_dst ? insn->src_reg : dst,
				"pointer arithmetic with it prohibited for !root");
			return -EACCES;
		}
	}

	switch (opcode) {
	case BPF_ADD:
		if (known && (__s64)ptr_reg->off + smin_val == (__s64)(__s32)(ptr_reg->off + smin_val)) {
			dst_reg->smin_value = smin_ptr;
			dst_reg->smax_value = smax_ptr;
			dst_reg->umin_value = umin_ptr;
			dst_reg->umax_value = umax_ptr;
			dst_reg->var_off = ptr_reg->var_off;
			dst_reg->off = (__s32)(ptr_reg->off + smin_val);
			memcpy(dst_reg->raw, ptr_reg->raw, sizeof(dst_reg->raw));
			break;
		}
		if (__builtin_add_overflow(smin_ptr, smin_val, &dst_reg->smin_value) ||
		    __builtin_add_overflow(smax_ptr, smax_val, &dst_reg->smax_value)) {
			dst_reg->smin_value = S64_MIN;
			dst_reg->smax_value = S64_MAX;
		}
		if (__builtin_add_overflow(umin_ptr, umin_val, &dst_reg->umin_value) ||
		    __builtin_add_overflow(umax_ptr, umax_val, &dst_reg->umax_value)) {
			dst_reg->umin_value = 0;
			dst_reg->umax_value = U64_MAX;
		}
		dst_reg->var_off = tnum_add(ptr_reg->var_off, off_reg->var_off);
		dst_reg->off = ptr_reg->off;
		memcpy(dst_reg->raw, ptr_reg->raw, sizeof(dst_reg->raw));
		if (reg_is_pkt_pointer(ptr_reg)) {
			dst_reg->id = ++env->id_gen;
			memset(dst_reg->raw, 0, sizeof(dst_reg->raw));
		}
		break;
	case BPF_SUB:
		if (off_is_dst) {
			verbose(env, "R%d tried to subtract pointer from scalar\n", dst);
			return -EACCES;
		}
		if (ptr_reg->type == PTR_TO_STACK) {
			verbose(env, "R%d subtraction from stack pointer prohibited\n", dst);
			return -EACCES;
		}
		if (known && (__s64)ptr_reg->off - smin_val == (__s64)(__s32)(ptr_reg->off - smin_val)) {
			dst_reg->smin_value = smin_ptr;
			dst_reg->smax_value = smax_ptr;
			dst_reg->umin_value = umin_ptr;
			dst_reg->umax_value = umax_ptr;
			dst_reg->var_off = ptr_reg->var_off;
			dst_reg->id = ptr_reg->id;
			dst_reg->off = (__s32)(ptr_reg->off - smin_val);
			memcpy(dst_reg->raw, ptr_reg->raw, sizeof(dst_reg->raw));
			break;
		}
		if (__builtin_sub_overflow(smin_ptr, smax_val, &dst_reg->smin_value) ||
		    __builtin_sub_overflow(smax_ptr, smin_val, &dst_reg->smax_value)) {
			dst_reg->smin_value = S64_MIN;
			dst_reg->smax_value = S64_MAX;
		}
		if (umin_ptr < umax_val) {
			dst_reg->umin_value = 0;
			dst_reg->umax_value = U64_MAX;
		} else {
			dst_reg->umin_value = umin_ptr - umax_val;
			dst_reg->umax_value = umax_ptr - umin_val;
		}
		dst_reg->var_off = tnum_sub(ptr_reg->var_off, off_reg->var_off);
		dst_reg->off = ptr_reg->off;
		memcpy(dst_reg->raw, ptr_reg->raw, sizeof(dst_reg->raw));
		if (reg_is_pkt_pointer(ptr_reg)) {
			dst_reg->id = ++env->id_gen;
			if (smin_val < 0)
				memset(dst_reg->raw, 0, sizeof(dst_reg->raw));
		}
		break;
	case BPF_AND: case BPF_OR: case BPF_XOR:
		verbose(env, "R%d bitwise operator %s on pointer prohibited\n", dst, alu_string[opcode >> 4]);
		return -EACCES;
	default:
		verbose(env, "R%d pointer arithmetic with %s operator prohibited\n", dst, alu_string[opcode >> 4]);
		return -EACCES;
	}

	if (!check_reg_sane_offset(env, dst_reg, ptr_reg->type))
		return -EINVAL;
	reg_bounds_sync(dst_reg);
	if (sanitize_check_bounds(env, insn, dst_reg) == -EACCES)
		return -EACCES;
	return 0;
}

static int adjust_scalar_min_max_vals(struct venv *env, const struct bpf_insn *insn, struct vreg *dst_reg,
				      struct vreg src_reg)
{
	__u8 opcode = BPF_OP(insn->code);
	if (!is_safe_to_compute_dst_reg_range(insn, &src_reg)) {
		__mark_reg_unknown(env, dst_reg);
		return 0;
	}
	scalar_alu(dst_reg, &src_reg, opcode, BPF_CLASS(insn->code) != BPF_ALU64);
	return 0;
}

static int adjust_reg_min_max_vals(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg *regs = cur_regs(env), *dst_reg = &regs[insn->dst_reg], *src_reg, *ptr_reg = NULL, off_reg;
	bool alu32 = BPF_CLASS(insn->code) != BPF_ALU64;
	__u8 opcode = BPF_OP(insn->code);
	int err;

	if (dst_reg->type == PTR_TO_ARENA)
		return 0;
	if (dst_reg->type != SCALAR_VALUE)
		ptr_reg = dst_reg;
	if (BPF_SRC(insn->code) == BPF_X) {
		src_reg = &regs[insn->src_reg];
		if (src_reg->type != SCALAR_VALUE) {
			if (dst_reg->type != SCALAR_VALUE) {
				if (opcode == BPF_SUB && env->allow_ptr_leaks) {
					mark_reg_unknown(env, regs, insn->dst_reg);
					return 0;
				}
				verbose(env, "R%d pointer %s pointer prohibited\n", insn->dst_reg, alu_string[opcode >> 4]);
				return -EACCES;
			}
			err = mark_chain_precision(env, insn->dst_reg);
			if (err)
				return err;
			return adjust_ptr_min_max_vals(env, insn, src_reg, dst_reg);
		} else if (ptr_reg) {
			err = mark_chain_precision(env, insn->src_reg);
			if (err)
				return err;
			return adjust_ptr_min_max_vals(env, insn, dst_reg, src_reg);
		} else if (dst_reg->precise) {
			err = mark_chain_precision(env, insn->src_reg);
			if (err)
				return err;
		}
	} else {
		memset(&off_reg, 0, sizeof(off_reg));
		off_reg.type = SCALAR_VALUE;
		__mark_reg_known(&off_reg, (__u64)(__s64)insn->imm);
		src_reg = &off_reg;
		if (ptr_reg)
			return adjust_ptr_min_max_vals(env, insn, ptr_reg, src_reg);
	}
	err = adjust_scalar_min_max_vals(env, insn, dst_reg, *src_reg);
	if (err)
		return err;
	/* r1 = r2; r1 += const (or -= const): remember the delta to narrow r1 when r2 is
	 * compared; negative deltas and subtraction as Linux 6.18.44 (a stable update) */
	if (env->bpf_capable && (opcode == BPF_ADD || opcode == BPF_SUB) && !alu32 && dst_reg->id &&
	    is_reg_const(src_reg, false)) {
		__u64 val = reg_const_value(src_reg, false);
		__s32 off = (__s32)val;
		bool clear = (__s64)val != (__s64)off || (dst_reg->id & BPF_ADD_CONST);
		if (!clear && opcode == BPF_SUB) {
			if (off == S32_MIN)
				clear = true;
			off = -off;
		}
		if (clear) {
			dst_reg->off = 0;
			dst_reg->id = 0;
		} else {
			dst_reg->id |= BPF_ADD_CONST;
			dst_reg->off = off;
		}
	} else {
		dst_reg->id = 0;
	}
	return 0;
}

static void assign_scalar_id_before_mov(struct venv *env, struct vreg *src_reg)
{
	if (src_reg->type != SCALAR_VALUE)
		return;
	if (src_reg->id & BPF_ADD_CONST) {
		src_reg->id = 0;
		src_reg->off = 0;
	}
	if (!src_reg->id && !tnum_is_const(src_reg->var_off))
		src_reg->id = ++env->id_gen;
}

static int check_alu_op(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg *regs = cur_regs(env);
	__u8 opcode = BPF_OP(insn->code);
	int err;

	if (opcode == BPF_END || opcode == BPF_NEG) {
		if (opcode == BPF_NEG) {
			if (BPF_SRC(insn->code) != BPF_K || insn->src_reg || insn->off || insn->imm) {
				verbose(env, "BPF_NEG uses reserved fields\n");
				return -EINVAL;
			}
		} else if (insn->src_reg || insn->off || (insn->imm != 16 && insn->imm != 32 && insn->imm != 64) ||
			   (BPF_CLASS(insn->code) == BPF_ALU64 && BPF_SRC(insn->code) != BPF_TO_LE)) {
			verbose(env, "BPF_END uses reserved fields\n");
			return -EINVAL;
		}
		err = check_reg_arg(env, insn->dst_reg, SRC_OP);
		if (err)
			return err;
		if (is_pointer_value(env, insn->dst_reg)) {
			verbose(env, "R%d pointer arithmetic prohibited\n", insn->dst_reg);
			return -EACCES;
		}
		if (opcode == BPF_NEG && regs[insn->dst_reg].type == SCALAR_VALUE) {
			err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK);
			if (!err)
				err = adjust_scalar_min_max_vals(env, insn, &regs[insn->dst_reg], regs[insn->dst_reg]);
		} else {
			err = check_reg_arg(env, insn->dst_reg, DST_OP);
		}
		if (err)
			return err;
	} else if (opcode == BPF_MOV) {
		if (BPF_SRC(insn->code) == BPF_X) {
			if (BPF_CLASS(insn->code) == BPF_ALU) {
				if ((insn->off != 0 && insn->off != 8 && insn->off != 16) || insn->imm) {
					verbose(env, "BPF_MOV uses reserved fields\n");
					return -EINVAL;
				}
			} else if (insn->off == BPF_ADDR_SPACE_CAST) {
				if (insn->imm != 1 && insn->imm != 1 << 16) {
					verbose(env, "addr_space_cast insn can only convert between address space 1 and 0\n");
					return -EINVAL;
				}
				if (!env->arena) {
					verbose(env, "addr_space_cast insn can only be used in a program that has an associated arena\n");
					return -EINVAL;
				}
			} else if ((insn->off != 0 && insn->off != 8 && insn->off != 16 && insn->off != 32) || insn->imm) {
				verbose(env, "BPF_MOV uses reserved fields\n");
				return -EINVAL;
			}
			err = check_reg_arg(env, insn->src_reg, SRC_OP);
			if (err)
				return err;
		} else if (insn->src_reg || insn->off) {
			verbose(env, "BPF_MOV uses reserved fields\n");
			return -EINVAL;
		}
		err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK);
		if (err)
			return err;
		if (BPF_SRC(insn->code) == BPF_X) {
			struct vreg *src_reg = regs + insn->src_reg, *dst_reg = regs + insn->dst_reg;
			if (BPF_CLASS(insn->code) == BPF_ALU64) {
				if (insn->imm) {
					mark_reg_unknown(env, regs, insn->dst_reg);
					if (insn->imm == 1)
						dst_reg->type = PTR_TO_ARENA;
				} else if (insn->off == 0) {
					assign_scalar_id_before_mov(env, src_reg);
					*dst_reg = *src_reg;
				} else if (is_pointer_value(env, insn->src_reg)) {
					verbose(env, "R%d sign-extension part of pointer\n", insn->src_reg);
					return -EACCES;
				} else if (src_reg->type == SCALAR_VALUE) {
					bool no_sext = src_reg->umax_value < (1ull << (insn->off - 1));
					if (no_sext)
						assign_scalar_id_before_mov(env, src_reg);
					*dst_reg = *src_reg;
					if (!no_sext)
						dst_reg->id = 0;
					coerce_reg_to_size_sx(dst_reg, insn->off >> 3);
				} else {
					mark_reg_unknown(env, regs, insn->dst_reg);
				}
			} else {
				if (is_pointer_value(env, insn->src_reg)) {
					verbose(env, "R%d partial copy of pointer\n", insn->src_reg);
					return -EACCES;
				} else if (src_reg->type == SCALAR_VALUE) {
					if (insn->off == 0) {
						bool u32_src = fls64(src_reg->umax_value) <= 32;
						if (u32_src)
							assign_scalar_id_before_mov(env, src_reg);
						*dst_reg = *src_reg;
						if (!u32_src)
							dst_reg->id = 0;
					} else {
						bool no_sext = src_reg->umax_value < (1ull << (insn->off - 1));
						if (no_sext)
							assign_scalar_id_before_mov(env, src_reg);
						*dst_reg = *src_reg;
						if (!no_sext)
							dst_reg->id = 0;
						coerce_subreg_to_size_sx(dst_reg, insn->off >> 3);
					}
				} else {
					mark_reg_unknown(env, regs, insn->dst_reg);
				}
				zext_32_to_64(dst_reg);
				reg_bounds_sync(dst_reg);
			}
		} else {
			mark_reg_unknown(env, regs, insn->dst_reg);
			regs[insn->dst_reg].type = SCALAR_VALUE;
			if (BPF_CLASS(insn->code) == BPF_ALU64)
				__mark_reg_known(regs + insn->dst_reg, (__u64)(__s64)insn->imm);
			else
				__mark_reg_known(regs + insn->dst_reg, (__u32)insn->imm);
		}
	} else if (opcode > BPF_END) {
		verbose(env, "invalid BPF_ALU opcode %x\n", opcode);
		return -EINVAL;
	} else {
		if (BPF_SRC(insn->code) == BPF_X) {
			if (insn->imm != 0 || (insn->off != 0 && insn->off != 1) ||
			    (insn->off == 1 && opcode != BPF_MOD && opcode != BPF_DIV)) {
				verbose(env, "BPF_ALU uses reserved fields\n");
				return -EINVAL;
			}
			err = check_reg_arg(env, insn->src_reg, SRC_OP);
			if (err)
				return err;
		} else if (insn->src_reg != BPF_REG_0 || (insn->off != 0 && insn->off != 1) ||
			   (insn->off == 1 && opcode != BPF_MOD && opcode != BPF_DIV)) {
			verbose(env, "BPF_ALU uses reserved fields\n");
			return -EINVAL;
		}
		err = check_reg_arg(env, insn->dst_reg, SRC_OP);
		if (err)
			return err;
		if ((opcode == BPF_MOD || opcode == BPF_DIV) && BPF_SRC(insn->code) == BPF_K && insn->imm == 0) {
			verbose(env, "div by zero\n");
			return -EINVAL;
		}
		if ((opcode == BPF_LSH || opcode == BPF_RSH || opcode == BPF_ARSH) && BPF_SRC(insn->code) == BPF_K) {
			int size = BPF_CLASS(insn->code) == BPF_ALU64 ? 64 : 32;
			if (insn->imm < 0 || insn->imm >= size) {
				verbose(env, "invalid shift %d\n", insn->imm);
				return -EINVAL;
			}
		}
		err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK);
		if (!err)
			err = adjust_reg_min_max_vals(env, insn);
		if (err)
			return err;
	}
	return reg_bounds_sanity_check(env, &regs[insn->dst_reg], "alu");
}

/* ---- conditional jumps ---- */

static void find_good_pkt_pointers(struct vstate *vstate, struct vreg *dst_reg, __u32 type, bool range_right_open)
{
	if (dst_reg->off < 0 || (dst_reg->off == 0 && range_right_open))
		return;
	if (dst_reg->umax_value > MAX_PACKET_OFF || dst_reg->umax_value + (__u64)dst_reg->off > MAX_PACKET_OFF)
		return;
	int new_range = dst_reg->off + (range_right_open ? 1 : 0);
	__u32 id = dst_reg->id;
	for_each_reg_in_state(vstate, fn, reg, {
		(void)fn;
		if (reg->type == type && reg->id == id && reg->range < new_range)
			reg->range = new_range;
	});
}

static void mark_pkt_end(struct vstate *vstate, int regn, bool range_open)
{
	struct vreg *reg = &vstate->frame[vstate->curframe]->regs[regn];
	if (reg->type != PTR_TO_PACKET)
		return;
	reg->range = range_open ? BEYOND_PKT_END : AT_PKT_END;
}

static bool reg_is_init_pkt_pointer(const struct vreg *reg, __u32 which)
{
	return reg->type == which && reg->id == 0 && reg->off == 0 && tnum_equals_const(reg->var_off, 0);
}

static bool try_match_pkt_pointers(const struct bpf_insn *insn, struct vreg *dst_reg, struct vreg *src_reg,
				   struct vstate *this_branch, struct vstate *other_branch)
{
	if (BPF_SRC(insn->code) != BPF_X || BPF_CLASS(insn->code) == BPF_JMP32)
		return false;
	bool dst_pkt = (dst_reg->type == PTR_TO_PACKET && src_reg->type == PTR_TO_PACKET_END) ||
		       (dst_reg->type == PTR_TO_PACKET_META && reg_is_init_pkt_pointer(src_reg, PTR_TO_PACKET));
	bool src_pkt = (dst_reg->type == PTR_TO_PACKET_END && src_reg->type == PTR_TO_PACKET) ||
		       (reg_is_init_pkt_pointer(dst_reg, PTR_TO_PACKET) && src_reg->type == PTR_TO_PACKET_META);
	switch (BPF_OP(insn->code)) {
	case BPF_JGT:
		if (dst_pkt) {
			find_good_pkt_pointers(this_branch, dst_reg, dst_reg->type, false);
			mark_pkt_end(other_branch, insn->dst_reg, true);
		} else if (src_pkt) {
			find_good_pkt_pointers(other_branch, src_reg, src_reg->type, true);
			mark_pkt_end(this_branch, insn->src_reg, false);
		} else {
			return false;
		}
		break;
	case BPF_JLT:
		if (dst_pkt) {
			find_good_pkt_pointers(other_branch, dst_reg, dst_reg->type, true);
			mark_pkt_end(this_branch, insn->dst_reg, false);
		} else if (src_pkt) {
			find_good_pkt_pointers(this_branch, src_reg, src_reg->type, false);
			mark_pkt_end(other_branch, insn->src_reg, true);
		} else {
			return false;
		}
		break;
	case BPF_JGE:
		if (dst_pkt) {
			find_good_pkt_pointers(this_branch, dst_reg, dst_reg->type, true);
			mark_pkt_end(other_branch, insn->dst_reg, false);
		} else if (src_pkt) {
			find_good_pkt_pointers(other_branch, src_reg, src_reg->type, false);
			mark_pkt_end(this_branch, insn->src_reg, true);
		} else {
			return false;
		}
		break;
	case BPF_JLE:
		if (dst_pkt) {
			find_good_pkt_pointers(other_branch, dst_reg, dst_reg->type, false);
			mark_pkt_end(this_branch, insn->dst_reg, true);
		} else if (src_pkt) {
			find_good_pkt_pointers(this_branch, src_reg, src_reg->type, true);
			mark_pkt_end(other_branch, insn->src_reg, false);
		} else {
			return false;
		}
		break;
	default:
		return false;
	}
	return true;
}

static void mark_ptr_or_null_reg(struct vreg *reg, __u32 id, bool is_null)
{
	if (!type_may_be_null(reg->type) || reg->id != id || !reg->id)
		return;
	if (reg->smin_value || reg->smax_value || !tnum_equals_const(reg->var_off, 0))
		return;
	if (!(reg->type & (MEM_ALLOC | NON_OWN_REF)) && reg->off)
		return;
	if (is_null) {
		reg->type = SCALAR_VALUE;
		reg->id = 0;
		reg->ref_obj_id = 0;
		return;
	}
	mark_ptr_not_null_reg(reg);
	if (!(reg->type == PTR_TO_MAP_VALUE && reg->map_ptr->spin_lock_off >= 0))
		reg->id = 0;
}

static void mark_ptr_or_null_regs(struct vstate *vstate, __u32 regno, bool is_null)
{
	struct vreg *regs = vstate->frame[vstate->curframe]->regs;
	__u32 ref_obj_id = regs[regno].ref_obj_id, id = regs[regno].id;
	if (ref_obj_id && ref_obj_id == id && is_null)
		release_reference_nomark(vstate, id);
	for_each_reg_in_state(vstate, fn, reg, {
		(void)fn;
		mark_ptr_or_null_reg(reg, id, is_null);
	});
}

/* linked scalars: registers (and spilled registers) sharing an id learn together */
struct lregs {
	int cnt;
	struct {
		__u8 frameno, regno;
		bool is_reg;
	} e[6];
};

static void collect_one(struct lregs *s, struct vreg *reg, __u32 id, __u32 frameno, __u32 spi_or_reg, bool is_reg)
{
	if (reg->type != SCALAR_VALUE || (reg->id & ~BPF_ADD_CONST) != id)
		return;
	if (s->cnt < 6) {
		s->e[s->cnt].frameno = (__u8)frameno;
		s->e[s->cnt].regno = (__u8)spi_or_reg;
		s->e[s->cnt].is_reg = is_reg;
		s->cnt++;
	} else {
		reg->id = 0;
	}
}

static void collect_linked_regs(struct vstate *vstate, __u32 id, struct lregs *s)
{
	id &= ~BPF_ADD_CONST;
	for (int i = (int)vstate->curframe; i >= 0; i--) {
		struct vfunc *f = vstate->frame[i];
		for (int j = 0; j < BPF_REG_FP; j++)
			collect_one(s, &f->regs[j], id, (__u32)i, (__u32)j, true);
		for (int j = 0; j < f->allocated_stack / BPF_REG_SIZE; j++)
			if (is_spilled_reg(&f->stack[j]))
				collect_one(s, &f->stack[j].spilled_ptr, id, (__u32)i, (__u32)j, false);
	}
}

static __u64 linked_regs_pack(const struct lregs *s)
{
	__u64 val = 0;
	for (int i = 0; i < s->cnt; i++) {
		__u64 tmp = s->e[i].frameno | (__u64)s->e[i].regno << 3 | (__u64)(s->e[i].is_reg ? 1 : 0) << 9;
		val <<= 10;
		val |= tmp;
	}
	val <<= 4;
	val |= (__u64)s->cnt;
	return val;
}

static void sync_linked_regs(struct vstate *vstate, struct vreg *known_reg, const struct lregs *s)
{
	for (int i = 0; i < s->cnt; i++) {
		struct vfunc *f = vstate->frame[s->e[i].frameno];
		struct vreg *reg = s->e[i].is_reg ? &f->regs[s->e[i].regno] : &f->stack[s->e[i].regno].spilled_ptr;
		if (reg->type != SCALAR_VALUE || reg == known_reg)
			continue;
		if ((reg->id & ~BPF_ADD_CONST) != (known_reg->id & ~BPF_ADD_CONST))
			continue;
		if ((!(reg->id & BPF_ADD_CONST) && !(known_reg->id & BPF_ADD_CONST)) || reg->off == known_reg->off) {
			__s32 sd = reg->subreg_def;
			*reg = *known_reg;
			reg->subreg_def = sd;
		} else {
			__s32 sd = reg->subreg_def, off = reg->off;
			struct vreg fake;
			memset(&fake, 0, sizeof(fake));
			fake.type = SCALAR_VALUE;
			__mark_reg_known(&fake, (__u64)((__s64)reg->off - (__s64)known_reg->off));
			*reg = *known_reg;
			reg->off = off;
			reg->subreg_def = sd;
			scalar_add_const(reg, &fake);
		}
	}
}

static int check_cond_jmp_op(struct venv *env, const struct bpf_insn *insn, int *insn_idx)
{
	struct vstate *this_branch = env->cur_state, *other_branch;
	struct vreg *regs = this_branch->frame[this_branch->curframe]->regs, *dst_reg, *src_reg, *other_regs;
	struct lregs linked = { 0 };
	__u8 opcode = BPF_OP(insn->code);
	__u32 insn_flags = 0;
	int err, pred;

	if (opcode == BPF_JA || opcode > BPF_JCOND) {
		verbose(env, "invalid BPF_JMP/JMP32 opcode %x\n", opcode);
		return -EINVAL;
	}
	if (opcode == BPF_JCOND) {
		int idx = *insn_idx;
		if (insn->code != (BPF_JMP | BPF_JCOND) || insn->src_reg || insn->dst_reg || insn->imm) {
			verbose(env, "invalid may_goto imm %d\n", insn->imm);
			return -EINVAL;
		}
		struct vstate *prev_st = find_prev_entry(env, this_branch->parent, idx);
		struct vstate *queued = push_stack(env, idx + 1, idx, false);
		if (!queued)
			return env->push_err;
		queued->may_goto_depth++;
		if (prev_st)
			widen_imprecise_scalars(env, prev_st, queued);
		*insn_idx += insn->off;
		return 0;
	}

	err = check_reg_arg(env, insn->dst_reg, SRC_OP);
	if (err)
		return err;
	dst_reg = &regs[insn->dst_reg];
	if (BPF_SRC(insn->code) == BPF_X) {
		if (insn->imm) {
			verbose(env, "BPF_JMP/JMP32 uses reserved fields\n");
			return -EINVAL;
		}
		err = check_reg_arg(env, insn->src_reg, SRC_OP);
		if (err)
			return err;
		src_reg = &regs[insn->src_reg];
		if (!(reg_is_pkt_pointer_any(dst_reg) && reg_is_pkt_pointer_any(src_reg)) &&
		    is_pointer_value(env, insn->src_reg)) {
			verbose(env, "R%d pointer comparison prohibited\n", insn->src_reg);
			return -EACCES;
		}
		if (src_reg->type == PTR_TO_STACK)
			insn_flags |= INSN_F_SRC_REG_STACK;
		if (dst_reg->type == PTR_TO_STACK)
			insn_flags |= INSN_F_DST_REG_STACK;
	} else {
		if (insn->src_reg) {
			verbose(env, "BPF_JMP/JMP32 uses reserved fields\n");
			return -EINVAL;
		}
		src_reg = &env->fake_reg[0];
		memset(src_reg, 0, sizeof(*src_reg));
		src_reg->type = SCALAR_VALUE;
		__mark_reg_known(src_reg, (__u64)(__s64)insn->imm);
		if (dst_reg->type == PTR_TO_STACK)
			insn_flags |= INSN_F_DST_REG_STACK;
	}
	if (insn_flags) {
		err = push_jmp_history(env, this_branch, insn_flags, 0);
		if (err)
			return err;
	}

	bool is_jmp32 = BPF_CLASS(insn->code) == BPF_JMP32;
	pred = is_branch_taken(dst_reg, src_reg, opcode, is_jmp32);
	if (pred >= 0) {
		if (!__is_pointer_value(false, dst_reg))
			err = mark_chain_precision(env, insn->dst_reg);
		if (BPF_SRC(insn->code) == BPF_X && !err && !__is_pointer_value(false, src_reg))
			err = mark_chain_precision(env, insn->src_reg);
		if (err)
			return err;
	}
	if (pred == 1) {
		env->aux[*insn_idx].taken_seen |= 2;
		if (env->log.level & BPF_LOG_LEVEL)
			print_insn_state(env, this_branch, this_branch->curframe);
		*insn_idx += insn->off;
		return 0;
	} else if (pred == 0) {
		env->aux[*insn_idx].taken_seen |= 1;
		if (env->log.level & BPF_LOG_LEVEL)
			print_insn_state(env, this_branch, this_branch->curframe);
		return 0;
	}
	env->aux[*insn_idx].taken_seen |= 3;

	if (BPF_SRC(insn->code) == BPF_X && src_reg->type == SCALAR_VALUE && src_reg->id)
		collect_linked_regs(this_branch, src_reg->id, &linked);
	if (dst_reg->type == SCALAR_VALUE && dst_reg->id)
		collect_linked_regs(this_branch, dst_reg->id, &linked);
	if (linked.cnt > 1) {
		err = push_jmp_history(env, this_branch, 0, linked_regs_pack(&linked));
		if (err)
			return err;
	}

	other_branch = push_stack(env, *insn_idx + insn->off + 1, *insn_idx, false);
	if (!other_branch)
		return env->push_err;   /* -E2BIG past BPF_COMPLEXITY_LIMIT_JMP_SEQ, as Linux 6.18.44 */
	other_regs = other_branch->frame[other_branch->curframe]->regs;

	if (BPF_SRC(insn->code) == BPF_X) {
		err = reg_set_min_max(env, &other_regs[insn->dst_reg], &other_regs[insn->src_reg], dst_reg, src_reg,
				      opcode, is_jmp32);
	} else {
		env->fake_reg[1] = env->fake_reg[0];
		err = reg_set_min_max(env, &other_regs[insn->dst_reg], &env->fake_reg[0], dst_reg, &env->fake_reg[1],
				      opcode, is_jmp32);
	}
	if (err)
		return err;

	if (BPF_SRC(insn->code) == BPF_X && src_reg->type == SCALAR_VALUE && src_reg->id &&
	    src_reg->id == other_regs[insn->src_reg].id) {
		sync_linked_regs(this_branch, src_reg, &linked);
		sync_linked_regs(other_branch, &other_regs[insn->src_reg], &linked);
	}
	if (dst_reg->type == SCALAR_VALUE && dst_reg->id && dst_reg->id == other_regs[insn->dst_reg].id) {
		sync_linked_regs(this_branch, dst_reg, &linked);
		sync_linked_regs(other_branch, &other_regs[insn->dst_reg], &linked);
	}

	if (!is_jmp32 && BPF_SRC(insn->code) == BPF_X && __is_pointer_value(false, src_reg) &&
	    __is_pointer_value(false, dst_reg) && type_may_be_null(src_reg->type) != type_may_be_null(dst_reg->type) &&
	    base_type(src_reg->type) != PTR_TO_BTF_ID && base_type(dst_reg->type) != PTR_TO_BTF_ID) {
		struct vreg *eq = opcode == BPF_JEQ ? other_regs : opcode == BPF_JNE ? regs : NULL;
		if (eq) {
			if (type_may_be_null(src_reg->type))
				mark_ptr_not_null_reg(&eq[insn->src_reg]);
			else
				mark_ptr_not_null_reg(&eq[insn->dst_reg]);
		}
	}

	if (!is_jmp32 && BPF_SRC(insn->code) == BPF_K && insn->imm == 0 && (opcode == BPF_JEQ || opcode == BPF_JNE) &&
	    type_may_be_null(dst_reg->type)) {
		mark_ptr_or_null_regs(this_branch, insn->dst_reg, opcode == BPF_JNE);
		mark_ptr_or_null_regs(other_branch, insn->dst_reg, opcode == BPF_JEQ);
	} else if (!try_match_pkt_pointers(insn, dst_reg, &regs[insn->src_reg], this_branch, other_branch) &&
		   is_pointer_value(env, insn->dst_reg)) {
		verbose(env, "R%d pointer comparison prohibited\n", insn->dst_reg);
		return -EACCES;
	}
	if (env->log.level & BPF_LOG_LEVEL)
		print_insn_state(env, this_branch, this_branch->curframe);
	return 0;
}

/* ---- ld_imm64 and packet loads ---- */

static int check_ld_imm(struct venv *env, const struct bpf_insn *insn)
{
	struct vaux *aux = &env->aux[env->insn_idx];
	struct vreg *regs = cur_regs(env), *dst_reg;
	int err;

	if (BPF_SIZE(insn->code) != BPF_DW) {
		verbose(env, "invalid BPF_LD_IMM insn\n");
		return -EINVAL;
	}
	if (insn->off) {
		verbose(env, "BPF_LD_IMM64 uses reserved fields\n");
		return -EINVAL;
	}
	err = check_reg_arg(env, insn->dst_reg, DST_OP);
	if (err)
		return err;
	dst_reg = &regs[insn->dst_reg];
	if (insn->src_reg == 0) {
		__u64 imm = (__u64)(__u32)insn[1].imm << 32 | (__u32)insn->imm;
		dst_reg->type = SCALAR_VALUE;
		__mark_reg_known(dst_reg, imm);
		return 0;
	}
	mark_reg_known_zero(env, regs, insn->dst_reg);
	if (insn->src_reg == BPF_PSEUDO_BTF_ID) {
		dst_reg->type = aux->btf_var.reg_type;
		if (base_type(dst_reg->type) == PTR_TO_MEM) {
			dst_reg->mem_size = aux->btf_var.mem_size;
		} else {
			dst_reg->btf = aux->btf_var.btf;
			dst_reg->btf_id = aux->btf_var.btf_id;
		}
		return 0;
	}
	if (insn->src_reg == BPF_PSEUDO_FUNC) {
		int subprogno = find_subprog(env, env->insn_idx + insn->imm + 1);
		if (!env->nr_finfo) {
			verbose(env, "missing btf func_info\n");
			return -EINVAL;
		}
		if (env->subprog[subprogno].linkage != BTF_FUNC_STATIC) {
			verbose(env, "callback function not static\n");
			return -EINVAL;
		}
		dst_reg->type = PTR_TO_FUNC;
		dst_reg->subprogno = (__u32)subprogno;
		return 0;
	}
	const struct vmap *map = &env->maps[aux->map_index];
	dst_reg->map_ptr = map;
	if (insn->src_reg == BPF_PSEUDO_MAP_VALUE || insn->src_reg == BPF_PSEUDO_MAP_IDX_VALUE) {
		if (map->type == MAP_TYPE_ARENA) {
			__mark_reg_unknown(env, dst_reg);
			return 0;
		}
		dst_reg->type = PTR_TO_MAP_VALUE;
		dst_reg->off = (__s32)aux->map_off;
	} else {
		dst_reg->type = CONST_PTR_TO_MAP;
	}
	return 0;
}

static int check_ld_abs(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg *regs = cur_regs(env);
	__u8 mode = BPF_MODE(insn->code);
	int err;

	if (!ctx_has_ld_abs(env->prog_type)) {
		verbose(env, "BPF_LD_[ABS|IND] instructions not allowed for this program type\n");
		return -EINVAL;
	}
	if (insn->dst_reg != BPF_REG_0 || insn->off != 0 || BPF_SIZE(insn->code) == BPF_DW ||
	    (mode == BPF_ABS && insn->src_reg != BPF_REG_0)) {
		verbose(env, "BPF_LD_[ABS|IND] uses reserved fields\n");
		return -EINVAL;
	}
	err = check_reg_arg(env, BPF_REG_6, SRC_OP);
	if (err)
		return err;
	err = check_resource_leak(env, false, true, "BPF_LD_[ABS|IND]");
	if (err)
		return err;
	if (regs[BPF_REG_6].type != PTR_TO_CTX) {
		verbose(env, "at the time of BPF_LD_ABS|IND R6 != pointer to skb\n");
		return -EINVAL;
	}
	if (mode == BPF_IND) {
		err = check_reg_arg(env, insn->src_reg, SRC_OP);
		if (err)
			return err;
	}
	err = check_ptr_off_reg(env, &regs[BPF_REG_6], BPF_REG_6);
	if (err < 0)
		return err;
	for (int i = 0; i < CALLER_SAVED_REGS; i++) {
		mark_reg_not_init(env, regs, (__u32)i);
		check_reg_arg(env, (__u32)i, DST_OP_NO_MARK);
	}
	mark_reg_unknown(env, regs, BPF_REG_0);
	return 0;
}

/* ---- return values ---- */

static bool retval_range_within(struct retval_range range, const struct vreg *reg, bool return_32bit)
{
	if (return_32bit)
		return range.minval <= reg->s32_min_value && reg->s32_max_value <= range.maxval;
	return range.minval <= reg->smin_value && reg->smax_value <= range.maxval;
}

int check_return_code(struct venv *env, int regno, const char *reg_name)
{
	const char *exit_ctx = "At program exit";
	struct vreg *reg = &cur_regs(env)[regno];
	struct retval_range range = { 0, 1 };
	struct vfunc *frame = env->cur_state->frame[0];
	bool is_subprog = frame->subprogno != 0, return_32bit = false;
	__u32 eat = env->expected_attach_type;
	int err;

	if (!is_subprog || frame->in_exception_callback_fn) {
		/* LSM hooks and struct_ops members returning void: anything goes */
		const struct btf_type *proto = env->attach_func_proto ? kbtf_type(env->kbtf, env->attach_func_proto) : NULL;
		bool void_ret = proto && !proto->type;
		if (env->prog_type == BPF_PROG_TYPE_LSM && eat != BPF_LSM_CGROUP && void_ret)
			return 0;
		if (env->prog_type == BPF_PROG_TYPE_STRUCT_OPS && (void_ret || frame->in_exception_callback_fn ||
								   !proto))
			return 0;
	}
	err = check_reg_arg(env, (__u32)regno, SRC_OP);
	if (err)
		return err;
	if (is_pointer_value(env, regno)) {
		verbose(env, "R%d leaks addr as return value\n", regno);
		return -EACCES;
	}
	if (frame->in_async_callback_fn) {
		exit_ctx = "At async callback return";
		range = frame->callback_ret_range;
		goto enforce;
	}
	if (is_subprog && !frame->in_exception_callback_fn) {
		if (reg->type != SCALAR_VALUE) {
			verbose(env, "At subprogram exit the register R%d is not a scalar value (%s)\n", regno,
				reg_type_str(env, reg->type));
			return -EINVAL;
		}
		return 0;
	}
	switch (env->prog_type) {
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
		if (eat == BPF_CGROUP_UDP4_RECVMSG || eat == BPF_CGROUP_UDP6_RECVMSG || eat == 49 + 4 /* UNIX_RECVMSG */ ||
		    eat == BPF_CGROUP_INET4_GETPEERNAME || eat == BPF_CGROUP_INET6_GETPEERNAME ||
		    eat == 49 + 2 /* UNIX_GETPEERNAME */ || eat == BPF_CGROUP_INET4_GETSOCKNAME ||
		    eat == BPF_CGROUP_INET6_GETSOCKNAME || eat == 49 + 3 /* UNIX_GETSOCKNAME */)
			range = (struct retval_range){ 1, 1 };
		if (eat == BPF_CGROUP_INET4_BIND || eat == BPF_CGROUP_INET6_BIND)
			range = (struct retval_range){ 0, 3 };
		break;
	case BPF_PROG_TYPE_CGROUP_SKB:
		if (eat == BPF_CGROUP_INET_EGRESS)
			range = (struct retval_range){ 0, 3 };
		break;
	case BPF_PROG_TYPE_CGROUP_SOCK: case BPF_PROG_TYPE_SOCK_OPS: case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL: case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		break;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		if (!env->attr->attach_btf_id)
			return 0;
		range = (struct retval_range){ 0, 0 };
		break;
	case BPF_PROG_TYPE_TRACING:
		switch (eat) {
		case BPF_TRACE_FENTRY: case BPF_TRACE_FEXIT:
			range = (struct retval_range){ 0, 0 };
			break;
		case BPF_TRACE_RAW_TP: case BPF_MODIFY_RETURN:
			return 0;
		case BPF_TRACE_ITER:
			break;
		default:
			return -ENOTSUP;
		}
		break;
	case BPF_PROG_TYPE_KPROBE:
		if (eat == TRACE_KPROBE_SESSION || eat == TRACE_UPROBE_SESSION)
			range = (struct retval_range){ 0, 1 };
		else
			return 0;
		break;
	case BPF_PROG_TYPE_SK_LOOKUP:
		range = (struct retval_range){ SK_DROP, SK_PASS };
		break;
	case BPF_PROG_TYPE_LSM: {
		const struct btf_type *proto = env->attach_func_proto ? kbtf_type(env->kbtf, env->attach_func_proto) : NULL;
		if (eat != BPF_LSM_CGROUP) {
			/* bpf_lsm_get_retval_range(): 0 or an errno, 0 or 1 for the hooks returning bool */
			if (!proto || !proto->type)
				return 0;
			const char *n = env->attach_func_name ? env->attach_func_name : "";
			if (!strcmp(n, "bpf_lsm_audit_rule_known") || !strcmp(n, "bpf_lsm_inode_xattr_skipcap"))
				range = (struct retval_range){ 0, 1 };
			else
				range = (struct retval_range){ -MAX_ERRNO, 0 };
			return_32bit = true;
		} else if (proto && !proto->type) {
			range = (struct retval_range){ 1, 1 };
		}
		break;
	}
	case PROG_TYPE_NETFILTER:
		range = (struct retval_range){ 0 /* NF_DROP */, 1 /* NF_ACCEPT */ };
		break;
	default:
		return 0;
	}
enforce:
	if (reg->type != SCALAR_VALUE) {
		verbose(env, "%s the register R%d is not a known value (%s)\n", exit_ctx, regno, reg_type_str(env, reg->type));
		return -EINVAL;
	}
	err = mark_chain_precision(env, regno);
	if (err)
		return err;
	if (!retval_range_within(range, reg, return_32bit)) {
		verbose_invalid_scalar(env, reg, range, exit_ctx, reg_name);
		const struct btf_type *proto = env->attach_func_proto ? kbtf_type(env->kbtf, env->attach_func_proto) : NULL;
		if (!is_subprog && eat == BPF_LSM_CGROUP && env->prog_type == BPF_PROG_TYPE_LSM && proto && !proto->type)
			verbose(env, "Note, BPF_LSM_CGROUP that attach to void LSM hooks can't modify return value!\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- the walk ---- */

enum { PROCESS_BPF_EXIT = 1 };

static int process_bpf_exit_full(struct venv *env, bool *do_print_state, bool exception_exit)
{
	int err = check_resource_leak(env, exception_exit, !env->cur_state->curframe, "BPF_EXIT instruction in main prog");
	if (err)
		return err;
	if (exception_exit)
		return PROCESS_BPF_EXIT;
	if (env->cur_state->curframe) {
		err = live_update(env);
		if (err)
			return err;
		err = prepare_func_exit(env, &env->insn_idx);
		if (err)
			return err;
		*do_print_state = true;
		return 0;
	}
	err = check_return_code(env, BPF_REG_0, "R0");
	return err ? err : PROCESS_BPF_EXIT;
}

static int do_check_insn(struct venv *env, bool *do_print_state)
{
	const struct bpf_insn *insn = &env->insns[env->insn_idx];
	__u8 cls = BPF_CLASS(insn->code);
	int err;

	if (cls == BPF_ALU || cls == BPF_ALU64) {
		err = check_alu_op(env, insn);
		if (err)
			return err;
	} else if (cls == BPF_LDX) {
		err = check_load_mem(env, insn, false, BPF_MODE(insn->code) == BPF_MEMSX, true, "ldx");
		if (err)
			return err;
	} else if (cls == BPF_STX) {
		if (BPF_MODE(insn->code) == BPF_ATOMIC) {
			err = check_atomic(env, insn);
			if (err)
				return err;
			env->insn_idx++;
			return 0;
		}
		if (BPF_MODE(insn->code) != BPF_MEM || insn->imm) {
			verbose(env, "BPF_STX uses reserved fields\n");
			return -EINVAL;
		}
		err = check_store_reg(env, insn, false);
		if (err)
			return err;
	} else if (cls == BPF_ST) {
		if (BPF_MODE(insn->code) != BPF_MEM || insn->src_reg != BPF_REG_0) {
			verbose(env, "BPF_ST uses reserved fields\n");
			return -EINVAL;
		}
		err = check_reg_arg(env, insn->dst_reg, SRC_OP);
		if (err)
			return err;
		__u32 dst_type = cur_regs(env)[insn->dst_reg].type;
		err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, BPF_SIZE(insn->code), BPF_WRITE, -1,
				       false, false);
		if (err)
			return err;
		err = save_aux_ptr_type(env, dst_type, false);
		if (err)
			return err;
	} else if (cls == BPF_JMP || cls == BPF_JMP32) {
		__u8 opcode = BPF_OP(insn->code);
		env->jmps_processed++;
		if (opcode == BPF_CALL) {
			if (BPF_SRC(insn->code) != BPF_K || (insn->src_reg != BPF_PSEUDO_KFUNC_CALL && insn->off) ||
			    (insn->src_reg != BPF_REG_0 && insn->src_reg != BPF_PSEUDO_CALL &&
			     insn->src_reg != BPF_PSEUDO_KFUNC_CALL) ||
			    insn->dst_reg != BPF_REG_0 || cls == BPF_JMP32) {
				verbose(env, "BPF_CALL uses reserved fields\n");
				return -EINVAL;
			}
			if (env->cur_state->active_locks &&
			    ((insn->src_reg == BPF_REG_0 && insn->imm != BPF_FUNC_spin_unlock) ||
			     insn->src_reg == BPF_PSEUDO_KFUNC_CALL)) {
				verbose(env, "function calls are not allowed while holding a lock\n");
				return -EINVAL;
			}
			if (insn->src_reg == BPF_PSEUDO_CALL)
				err = check_func_call(env, insn, &env->insn_idx);
			else if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL)
				err = check_kfunc_call(env, insn, &env->insn_idx);
			else
				err = check_helper_call(env, insn, &env->insn_idx);
			if (err)
				return err;
			mark_reg_scratched(env, BPF_REG_0);
		} else if (opcode == BPF_JA) {
			if (BPF_SRC(insn->code) != BPF_K || insn->src_reg || insn->dst_reg ||
			    (cls == BPF_JMP && insn->imm) || (cls == BPF_JMP32 && insn->off)) {
				verbose(env, "BPF_JA uses reserved fields\n");
				return -EINVAL;
			}
			env->insn_idx += (cls == BPF_JMP ? insn->off : insn->imm) + 1;
			return 0;
		} else if (opcode == BPF_EXIT) {
			if (BPF_SRC(insn->code) != BPF_K || insn->imm || insn->src_reg || insn->dst_reg || cls == BPF_JMP32) {
				verbose(env, "BPF_EXIT uses reserved fields\n");
				return -EINVAL;
			}
			return process_bpf_exit_full(env, do_print_state, false);
		} else {
			err = check_cond_jmp_op(env, insn, &env->insn_idx);
			if (err)
				return err;
		}
	} else if (cls == BPF_LD) {
		__u8 mode = BPF_MODE(insn->code);
		if (mode == BPF_ABS || mode == BPF_IND) {
			err = check_ld_abs(env, insn);
			if (err)
				return err;
		} else if (mode == BPF_IMM) {
			err = check_ld_imm(env, insn);
			if (err)
				return err;
			env->insn_idx++;
			if (!env->cur_state->speculative)
				env->aux[env->insn_idx].seen = true;
		} else {
			verbose(env, "invalid BPF_LD mode\n");
			return -EINVAL;
		}
	} else {
		verbose(env, "unknown insn class %d\n", cls);
		return -EINVAL;
	}
	env->insn_idx++;
	return 0;
}

static int do_check(struct venv *env)
{
	bool pop_log = !(env->log.level & BPF_LOG_LEVEL2), do_print_state = false;
	struct vstate *state = env->cur_state;
	int prev_insn_idx = -1;

	for (;;) {
		int err;
		env->cur_hist_ent = NULL;
		env->prev_insn_idx = prev_insn_idx;
		if (env->insn_idx < 0 || (__u32)env->insn_idx >= env->len) {
			verbose(env, "invalid insn idx %d insn_cnt %u\n", env->insn_idx, env->len);
			return -EFAULT;
		}
		const struct bpf_insn *insn = &env->insns[env->insn_idx];
		if (++env->insn_processed > BPF_COMPLEXITY_LIMIT_INSNS) {
			verbose(env, "BPF program is too large. Processed %u insn\n", env->insn_processed);
			return -E2BIG;
		}
		state->last_insn_idx = env->prev_insn_idx;
		state->insn_idx = (__u32)env->insn_idx;

		if (is_prune_point(env, env->insn_idx)) {
			err = is_state_visited(env, env->insn_idx);
			if (err < 0)
				return err;
			if (err == 1) {
				if (env->log.level & BPF_LOG_LEVEL) {
					if (do_print_state)
						verbose(env, "\nfrom %d to %d%s: safe\n", env->prev_insn_idx, env->insn_idx,
							env->cur_state->speculative ? " (speculative execution)" : "");
					else
						verbose(env, "%d: safe\n", env->insn_idx);
				}
				goto process_bpf_exit;
			}
		}
		if (is_jmp_point(env, env->insn_idx)) {
			err = push_jmp_history(env, state, 0, 0);
			if (err)
				return err;
		}
		if ((env->log.level & BPF_LOG_LEVEL2) && do_print_state) {
			verbose(env, "\nfrom %d to %d%s:", env->prev_insn_idx, env->insn_idx,
				env->cur_state->speculative ? " (speculative execution)" : "");
			print_verifier_state(env, state, state->curframe, true);
			do_print_state = false;
		}
		if (env->log.level & BPF_LOG_LEVEL) {
			if (verifier_state_scratched(env))
				print_insn_state(env, state, state->curframe);
			verbose_linfo(env, (__u32)env->insn_idx, "; ");
			env->prev_log_pos = env->log.end_pos;
			verbose(env, "%d: ", env->insn_idx);
			verbose_insn(env, insn);
			env->prev_insn_print_pos = env->log.end_pos - env->prev_log_pos;
			env->prev_log_pos = env->log.end_pos;
		}
		if (!state->speculative)
			env->aux[env->insn_idx].seen = true;
		prev_insn_idx = env->insn_idx;
		if (state->speculative && env->aux[env->insn_idx].nospec)
			goto process_bpf_exit;

		err = live_reset_write_marks(env, (__u32)env->insn_idx);
		if (err)
			return err;
		err = do_check_insn(env, &do_print_state);
		if (err >= 0 || err == -EPERM || err == -EACCES || err == -EINVAL) {
			int merr = live_commit_write_marks(env);
			if (merr)
				return merr;
		}
		if ((err == -EPERM || err == -EACCES || err == -EINVAL) && state->speculative) {
			env->aux[prev_insn_idx].nospec = true;
			goto process_bpf_exit;
		} else if (err < 0) {
			return err;
		} else if (err == PROCESS_BPF_EXIT) {
			goto process_bpf_exit;
		}
		continue;
process_bpf_exit:
		mark_verifier_state_scratched(env);
		err = update_branch_counts(env, env->cur_state);
		if (err)
			return err;
		err = live_update(env);
		if (err)
			return err;
		err = pop_stack(env, &prev_insn_idx, &env->insn_idx, pop_log);
		if (err < 0) {
			if (err != -ENOENT)
				return err;
			break;
		}
		do_print_state = true;
	}
	return 0;
}

static int do_check_common(struct venv *env, int subprog)
{
	bool pop_log = !(env->log.level & BPF_LOG_LEVEL2);
	struct vsubprog *sub = &env->subprog[subprog];
	struct vstate *state;
	int ret;

	env->prev_linfo = NULL;
	env->pass_cnt++;
	state = calloc(1, sizeof(*state));
	if (!state)
		return -ENOMEM;
	state->branches = 1;
	state->frame[0] = calloc(1, sizeof(struct vfunc));
	if (!state->frame[0]) {
		free(state);
		return -ENOMEM;
	}
	state->in_sleepable = false;
	env->cur_state = state;
	init_func_state(env, state->frame[0], BPF_MAIN_FUNC, 0, subprog);
	state->first_insn_idx = sub->start;
	state->last_insn_idx = -1;

	struct vreg *regs = state->frame[0]->regs;
	if (subprog || env->ext || env->prog_type == BPF_PROG_TYPE_EXT) {
		verbose(env, "Validating %s() func#%d...\n", subprog_name(env, (__u32)subprog), subprog);
		ret = btf_prepare_func_args(env, (__u32)subprog);
		if (ret)
			goto out;
		for (__u32 i = BPF_REG_1; i <= sub->arg_cnt; i++) {
			__u32 at = sub->arg_type[i - 1];
			struct vreg *reg = &regs[i];
			if (at == ARG_PTR_TO_CTX) {
				reg->type = PTR_TO_CTX;
				mark_reg_known_zero(env, regs, i);
			} else if (at == ARG_ANYTHING) {
				reg->type = SCALAR_VALUE;
				mark_reg_unknown(env, regs, i);
			} else if (base_type(at) == ARG_PTR_TO_MEM) {
				reg->type = PTR_TO_MEM | (at & (PTR_MAYBE_NULL | PTR_UNTRUSTED | MEM_RDONLY));
				mark_reg_known_zero(env, regs, i);
				reg->mem_size = sub->arg_mem_size[i - 1];
				if (at & PTR_MAYBE_NULL)
					reg->id = ++env->id_gen;
			} else if (base_type(at) == ARG_PTR_TO_ARENA) {
				reg->type = PTR_TO_ARENA;
				mark_reg_unknown(env, regs, i);
				reg->type = PTR_TO_ARENA;
			} else if (base_type(at) == ARG_PTR_TO_BTF_ID) {
				reg->type = PTR_TO_BTF_ID | (at & (PTR_MAYBE_NULL | PTR_UNTRUSTED | PTR_TRUSTED));
				mark_reg_known_zero(env, regs, i);
				reg->btf = env->kbtf;
				reg->btf_id = sub->arg_btf_id[i - 1];
				reg->id = ++env->id_gen;
			} else {
				mark_reg_unknown(env, regs, i);
			}
		}
	} else {
		regs[BPF_REG_1].type = PTR_TO_CTX;
		mark_reg_known_zero(env, regs, BPF_REG_1);
	}
	ret = do_check(env);
out:
	if (!ret && pop_log)
		vlog_reset(&env->log, 0);
	free_states(env);
	return ret;
}

int do_check_subprogs(struct venv *env)
{
	int new_cnt;
	if (!env->nr_finfo)
		return 0;
	do {
		new_cnt = 0;
		for (__u32 i = 1; i < env->subprog_cnt; i++) {
			if (!subprog_is_global(env, i) || !env->subprog[i].called || env->subprog[i].verified)
				continue;
			env->insn_idx = (int)env->subprog[i].start;
			int ret = do_check_common(env, (int)i);
			if (ret)
				return ret;
			if (env->log.level & BPF_LOG_LEVEL)
				verbose(env, "Func#%u ('%s') is safe for any args that match its prototype\n", i,
					subprog_name(env, i));
			env->subprog[i].verified = true;
			new_cnt++;
		}
	} while (new_cnt);
	return 0;
}

int do_check_main(struct venv *env)
{
	env->insn_idx = 0;
	return do_check_common(env, 0);
}
