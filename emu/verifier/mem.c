/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/mem.c: loads, stores and atomics, and memory handed to
 * helpers (check_mem_access and what it calls). Each pointer type has its
 * region: the frame's stack (8-byte slots: spilled registers, misc, zero,
 * invalid; 512 bytes), the context (ctx.c answers per program type), map
 * values and keys (value_size / key_size, read-only maps read as constants),
 * packet data (the range proven by comparisons with data_end), helper
 * memory of a known size, kernel objects through BTF. Every access the walk
 * accepts is recorded in the instruction's facts (region, proven in bounds,
 * fixed offset) for the VM. Linux 6.18's rules, order and messages.
 */
#include <errno.h>
#include <unistd.h>
#include <stdlib.h>

#include "env.h"
#include "../os_errno.h"

bool is_spilled_reg(const struct vslot *s)
{
	return s->slot_type[BPF_REG_SIZE - 1] == STACK_SPILL;
}

bool is_spilled_scalar_reg(const struct vslot *s)
{
	return s->slot_type[BPF_REG_SIZE - 1] == STACK_SPILL && s->spilled_ptr.type == SCALAR_VALUE;
}

bool is_spilled_scalar_reg64(const struct vslot *s)
{
	return s->slot_type[0] == STACK_SPILL && s->spilled_ptr.type == SCALAR_VALUE;
}

static bool is_stack_slot_special(const struct vslot *s)
{
	__u8 t = s->slot_type[BPF_REG_SIZE - 1];
	return t == STACK_SPILL || t == STACK_DYNPTR || t == STACK_ITER || t == STACK_IRQ_FLAG;
}

static void mark_stack_slot_misc(__u8 *stype)
{
	if (*stype == STACK_ZERO || *stype == STACK_INVALID)
		return;
	*stype = STACK_MISC;
}

static void scrub_spilled_slot(__u8 *stype)
{
	if (*stype != STACK_INVALID)
		*stype = STACK_MISC;
}

static bool is_spillable_regtype(__u32 type)
{
	switch (base_type(type)) {
	case PTR_TO_MAP_VALUE: case PTR_TO_STACK: case PTR_TO_CTX: case PTR_TO_PACKET: case PTR_TO_PACKET_META:
	case PTR_TO_PACKET_END: case PTR_TO_FLOW_KEYS: case CONST_PTR_TO_MAP: case PTR_TO_SOCKET:
	case PTR_TO_SOCK_COMMON: case PTR_TO_TCP_SOCK: case PTR_TO_XDP_SOCK: case PTR_TO_BTF_ID: case PTR_TO_BUF:
	case PTR_TO_MEM: case PTR_TO_FUNC: case PTR_TO_MAP_KEY: case PTR_TO_ARENA:
		return true;
	default:
		return false;
	}
}

static int insn_stack_access_flags(__u32 frameno, int spi)
{
	return (int)(INSN_F_STACK_ACCESS | (__u32)spi << INSN_F_SPI_SHIFT | frameno);
}

/* ---- alignment ---- */

static int check_generic_alignment(struct venv *env, const struct vreg *reg, const char *desc, int off, int size,
				   bool strict, int ip_align)
{
	if (!strict || size == 1)
		return 0;
	struct tnum reg_off = tnum_add(reg->var_off, tnum_const((__u64)(__s64)(ip_align + reg->off + off)));
	if (!tnum_is_aligned(reg_off, (__u64)size)) {
		char tn[48];
		tnum_strn(tn, sizeof(tn), reg->var_off);
		if (ip_align)
			verbose(env, "misaligned packet access off %d+%s+%d+%d size %d\n", ip_align, tn, reg->off, off, size);
		else
			verbose(env, "misaligned %saccess off %s+%d+%d size %d\n", desc, tn, reg->off, off, size);
		return -EACCES;
	}
	return 0;
}

int check_ptr_alignment(struct venv *env, const struct vreg *reg, int off, int size, bool strict_alignment_once)
{
	bool strict = env->strict_alignment || strict_alignment_once;
	const char *desc = "";
	switch (reg->type) {
	case PTR_TO_PACKET: case PTR_TO_PACKET_META:
		return check_generic_alignment(env, reg, "", off, size, strict, 2);
	case PTR_TO_FLOW_KEYS: desc = "flow keys "; break;
	case PTR_TO_MAP_KEY: desc = "key "; break;
	case PTR_TO_MAP_VALUE: desc = "value "; break;
	case PTR_TO_CTX: desc = "context "; break;
	case PTR_TO_STACK: desc = "stack "; strict = true; break;
	case PTR_TO_SOCKET: desc = "sock "; break;
	case PTR_TO_SOCK_COMMON: desc = "sock_common "; break;
	case PTR_TO_TCP_SOCK: desc = "tcp_sock "; break;
	case PTR_TO_XDP_SOCK: desc = "xdp_sock "; break;
	case PTR_TO_ARENA: return 0;
	default: break;
	}
	return check_generic_alignment(env, reg, desc, off, size, strict, 0);
}

/* ---- the stack ---- */

static int check_stack_slot_within_bounds(struct venv *env, __s64 off, const struct vfunc *state, int t)
{
	__s64 min_valid = t == BPF_WRITE || env->allow_uninit_stack ? -MAX_BPF_STACK : -state->allocated_stack;
	return off < min_valid || off > -1 ? -EACCES : 0;
}

static int check_stack_access_within_bounds(struct venv *env, int regno, int off, int access_size, int type)
{
	struct vreg *reg = &cur_regs(env)[regno];
	struct vfunc *state = func_of(env, reg);
	const char *extra = type == BPF_READ ? " read from" : " write to";
	__s64 min_off, max_off;
	int err;

	if (tnum_is_const(reg->var_off)) {
		min_off = (__s64)reg->var_off.value + off;
		max_off = min_off + access_size;
	} else {
		if (reg->smax_value >= BPF_MAX_VAR_OFF || reg->smin_value <= -BPF_MAX_VAR_OFF) {
			verbose(env, "invalid unbounded variable-offset%s stack R%d\n", extra, regno);
			return -EACCES;
		}
		min_off = reg->smin_value + off;
		max_off = reg->smax_value + off + access_size;
	}
	err = check_stack_slot_within_bounds(env, min_off, state, type);
	if (!err && max_off > 0)
		err = -EINVAL;
	if (!err && access_size < 0)
		err = -EFAULT;
	if (err) {
		if (tnum_is_const(reg->var_off)) {
			verbose(env, "invalid%s stack R%d off=%d size=%d\n", extra, regno, off, access_size);
		} else {
			char tn[48];
			tnum_strn(tn, sizeof(tn), reg->var_off);
			verbose(env, "invalid variable-offset%s stack R%d var_off=%s off=%d size=%d\n", extra, regno, tn, off,
				access_size);
		}
		return err;
	}
	return grow_stack_state(env, state, (int)-min_off);
}

static void save_register_state(struct vfunc *state, int spi, const struct vreg *reg, int size)
{
	int i;
	state->stack[spi].spilled_ptr = *reg;
	for (i = BPF_REG_SIZE; i > BPF_REG_SIZE - size; i--)
		state->stack[spi].slot_type[i - 1] = STACK_SPILL;
	for (; i; i--)
		mark_stack_slot_misc(&state->stack[spi].slot_type[i - 1]);
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

/* destroy_if_dynptr_stack_slot(): a write into a bpf_dynptr's stack slots ends it
 * (both slots, and the slices taken from it); a referenced one (a ring buffer
 * record's) may not be overwritten */
int destroy_if_dynptr_stack_slot(struct venv *env, struct vfunc *state, int spi)
{
	if (spi < 0 || spi >= state->allocated_stack / BPF_REG_SIZE || state->stack[spi].slot_type[0] != STACK_DYNPTR)
		return 0;
	if (!state->stack[spi].spilled_ptr.dynptr.first_slot)
		spi++;
	if (state->stack[spi].spilled_ptr.dynptr.type == BPF_DYNPTR_TYPE_RINGBUF) {
		verbose(env, "cannot overwrite referenced dynptr\n");
		return -EINVAL;
	}
	mark_stack_slot_scratched(env, (__u32)spi);
	mark_stack_slot_scratched(env, (__u32)spi - 1);
	for (int i = 0; i < BPF_REG_SIZE; i++) {
		state->stack[spi].slot_type[i] = STACK_INVALID;
		state->stack[spi - 1].slot_type[i] = STACK_INVALID;
	}
	__u32 dynptr_id = state->stack[spi].spilled_ptr.id;
	for_each_reg_in_state(env->cur_state, fn, dreg, {
		(void)fn;
		if ((dreg->type == (PTR_TO_MEM | PTR_MAYBE_NULL) || dreg->type == PTR_TO_MEM) &&
		    dreg->dynptr_id == dynptr_id)
			mark_reg_invalid(env, dreg);
	});
	__mark_reg_not_init(env, &state->stack[spi].spilled_ptr);
	__mark_reg_not_init(env, &state->stack[spi - 1].spilled_ptr);
	live_mark_stack_write(env, state->frameno, BIT(spi - 1) | BIT(spi));
	return 0;
}

static int check_stack_write_fixed_off(struct venv *env, struct vfunc *state, int off, int size, int value_regno,
				       int insn_idx)
{
	struct vfunc *cur = cur_func(env);
	int slot = -off - 1, spi = slot / BPF_REG_SIZE, err;
	const struct bpf_insn *insn = &env->insns[insn_idx];
	struct vreg *reg = value_regno >= 0 ? &cur->regs[value_regno] : NULL;
	int insn_flags = insn_stack_access_flags(state->frameno, spi);

	if (!env->allow_ptr_leaks && is_spilled_reg(&state->stack[spi]) && !is_spilled_scalar_reg(&state->stack[spi]) &&
	    size != BPF_REG_SIZE) {
		verbose(env, "attempt to corrupt spilled pointer on stack\n");
		return -EACCES;
	}
	err = destroy_if_dynptr_stack_slot(env, state, spi);
	if (err)
		return err;
	if (!(off % BPF_REG_SIZE) && size == BPF_REG_SIZE)
		live_mark_stack_write(env, state->frameno, BIT(spi));
	mark_stack_slot_scratched(env, (__u32)spi);
	if (reg && !(off % BPF_REG_SIZE) && reg->type == SCALAR_VALUE && env->bpf_capable) {
		bool fits = fls64(reg->umax_value) <= 8 * size;
		if (fits)
			assign_scalar_id_before_mov(env, reg);
		save_register_state(state, spi, reg, size);
		if (!fits)
			state->stack[spi].spilled_ptr.id = 0;
	} else if (!reg && !(off % BPF_REG_SIZE) && BPF_CLASS(insn->code) == BPF_ST && env->bpf_capable) {
		struct vreg *tmp = &env->fake_reg[0];
		memset(tmp, 0, sizeof(*tmp));
		__mark_reg_known(tmp, (__u64)(__s64)insn->imm);
		tmp->type = SCALAR_VALUE;
		save_register_state(state, spi, tmp, size);
	} else if (reg && is_spillable_regtype(reg->type)) {
		if (size != BPF_REG_SIZE) {
			verbose_linfo(env, (__u32)insn_idx, "; ");
			verbose(env, "invalid size of register spill\n");
			return -EACCES;
		}
		if (state != cur && reg->type == PTR_TO_STACK) {
			verbose(env, "cannot spill pointers to stack into stack frame of the caller\n");
			return -EINVAL;
		}
		save_register_state(state, spi, reg, size);
	} else {
		__u8 type = STACK_MISC;
		state->stack[spi].spilled_ptr.type = NOT_INIT;
		if (is_stack_slot_special(&state->stack[spi]))
			for (int i = 0; i < BPF_REG_SIZE; i++)
				scrub_spilled_slot(&state->stack[spi].slot_type[i]);
		if ((reg && register_is_null(reg)) || (!reg && BPF_CLASS(insn->code) == BPF_ST && insn->imm == 0)) {
			err = mark_chain_precision(env, value_regno);
			if (err)
				return err;
			type = STACK_ZERO;
		}
		for (int i = 0; i < size; i++)
			state->stack[spi].slot_type[(slot - i) % BPF_REG_SIZE] = type;
		insn_flags = 0;
	}
	if (insn_flags)
		return push_jmp_history(env, env->cur_state, (__u32)insn_flags, 0);
	return 0;
}

static int check_stack_write_var_off(struct venv *env, struct vfunc *state, int ptr_regno, int off, int size,
				     int value_regno, int insn_idx)
{
	struct vfunc *cur = cur_func(env);
	struct vreg *ptr_reg = &cur->regs[ptr_regno], *value_reg = value_regno >= 0 ? &cur->regs[value_regno] : NULL;
	const struct bpf_insn *insn = &env->insns[insn_idx];
	int min_off = (int)(ptr_reg->smin_value + off), max_off = (int)(ptr_reg->smax_value + off + size);
	bool writing_zero = (value_reg && register_is_null(value_reg)) ||
			    (!value_reg && BPF_CLASS(insn->code) == BPF_ST && insn->imm == 0);
	bool zero_used = false;

	for (int i = min_off; i < max_off; i++) {
		int err = destroy_if_dynptr_stack_slot(env, state, __get_spi(i));
		if (err)
			return err;
	}
	for (int i = min_off; i < max_off; i++) {
		int slot = -i - 1, spi = slot / BPF_REG_SIZE;
		__u8 *stype = &state->stack[spi].slot_type[slot % BPF_REG_SIZE];
		mark_stack_slot_scratched(env, (__u32)spi);
		if (!env->allow_ptr_leaks && *stype != STACK_MISC && *stype != STACK_ZERO) {
			verbose(env, "spilled ptr in range of var-offset stack write; insn %d, ptr off: %d", insn_idx, i);
			return -EINVAL;
		}
		if (writing_zero && *stype == STACK_SPILL && is_spilled_scalar_reg(&state->stack[spi])) {
			struct vreg *sr = &state->stack[spi].spilled_ptr;
			if (tnum_is_const(sr->var_off) && sr->var_off.value == 0) {
				zero_used = true;
				continue;
			}
		}
		state->stack[spi].spilled_ptr.type = NOT_INIT;
		__u8 nt = STACK_MISC;
		if (writing_zero && *stype == STACK_ZERO) {
			nt = STACK_ZERO;
			zero_used = true;
		}
		if (*stype == STACK_INVALID && !env->allow_uninit_stack) {
			verbose(env, "uninit stack in range of var-offset write prohibited for !root; insn %d, off: %d",
				insn_idx, i);
			return -EINVAL;
		}
		*stype = nt;
	}
	if (zero_used)
		return mark_chain_precision(env, value_regno);
	return 0;
}

static void mark_reg_stack_read(struct venv *env, struct vfunc *ptr_state, int min_off, int max_off, int dst_regno)
{
	struct vfunc *state = cur_func(env);
	int zeros = 0;
	for (int i = min_off; i < max_off; i++) {
		int slot = -i - 1, spi = slot / BPF_REG_SIZE;
		mark_stack_slot_scratched(env, (__u32)spi);
		if (ptr_state->stack[spi].slot_type[slot % BPF_REG_SIZE] != STACK_ZERO)
			break;
		zeros++;
	}
	if (zeros == max_off - min_off)
		__mark_reg_const_zero(env, &state->regs[dst_regno]);
	else
		mark_reg_unknown(env, state->regs, (__u32)dst_regno);
}

static bool stack_narrow_access_ok(int off, int fill_size, int spill_size)
{
	/* little endian: the low bytes sit at the lowest address of the slot */
	(void)fill_size;
	(void)spill_size;
	return off % BPF_REG_SIZE == 0;
}

static int check_stack_read_fixed_off(struct venv *env, struct vfunc *reg_state, int off, int size, int dst_regno)
{
	struct vfunc *state = cur_func(env);
	int slot = -off - 1, spi = slot / BPF_REG_SIZE;
	__u8 *stype = reg_state->stack[spi].slot_type;
	struct vreg *reg = &reg_state->stack[spi].spilled_ptr;
	int insn_flags = insn_stack_access_flags(reg_state->frameno, spi), err;

	mark_stack_slot_scratched(env, (__u32)spi);
	err = live_mark_stack_read(env, reg_state->frameno, (__u32)env->insn_idx, BIT(spi));
	if (err)
		return err;
	if (is_spilled_reg(&reg_state->stack[spi])) {
		int spill_size = 1;
		for (int i = BPF_REG_SIZE - 1; i > 0 && stype[i - 1] == STACK_SPILL; i--)
			spill_size++;
		if (size != BPF_REG_SIZE || spill_size != BPF_REG_SIZE) {
			if (reg->type != SCALAR_VALUE) {
				verbose_linfo(env, (__u32)env->insn_idx, "; ");
				verbose(env, "invalid size of register fill\n");
				return -EACCES;
			}
			if (dst_regno < 0)
				return 0;
			if (size <= spill_size && stack_narrow_access_ok(off, size, spill_size)) {
				__s32 sd = state->regs[dst_regno].subreg_def;
				state->regs[dst_regno] = *reg;
				state->regs[dst_regno].subreg_def = sd;
				if (fls64(reg->umax_value) > size * 8)
					state->regs[dst_regno].id = 0;
			} else {
				int spill_cnt = 0, zero_cnt = 0;
				for (int i = 0; i < size; i++) {
					__u8 type = stype[(slot - i) % BPF_REG_SIZE];
					if (type == STACK_SPILL) {
						spill_cnt++;
						continue;
					}
					if (type == STACK_MISC)
						continue;
					if (type == STACK_ZERO) {
						zero_cnt++;
						continue;
					}
					if (type == STACK_INVALID && env->allow_uninit_stack)
						continue;
					verbose(env, "invalid read from stack off %d+%d size %d\n", off, i, size);
					return -EACCES;
				}
				if (spill_cnt == size && tnum_is_const(reg->var_off) && reg->var_off.value == 0) {
					__mark_reg_const_zero(env, &state->regs[dst_regno]);
				} else if (zero_cnt == size) {
					__mark_reg_const_zero(env, &state->regs[dst_regno]);
					insn_flags = 0;
				} else {
					mark_reg_unknown(env, state->regs, (__u32)dst_regno);
					insn_flags = 0;
				}
			}
		} else if (dst_regno >= 0) {
			state->regs[dst_regno] = *reg;
		} else if (__is_pointer_value(env->allow_ptr_leaks, reg)) {
			verbose(env, "leaking pointer from stack off %d\n", off);
			return -EACCES;
		}
	} else {
		for (int i = 0; i < size; i++) {
			__u8 type = stype[(slot - i) % BPF_REG_SIZE];
			if (type == STACK_MISC || type == STACK_ZERO)
				continue;
			if (type == STACK_INVALID && env->allow_uninit_stack)
				continue;
			verbose(env, "invalid read from stack off %d+%d size %d\n", off, i, size);
			return -EACCES;
		}
		if (dst_regno >= 0)
			mark_reg_stack_read(env, reg_state, off, off + size, dst_regno);
		insn_flags = 0;
	}
	if (insn_flags)
		return push_jmp_history(env, env->cur_state, (__u32)insn_flags, 0);
	return 0;
}

static int check_stack_range_initialized(struct venv *env, int regno, int off, int access_size, bool zero_size_allowed,
					 int type, struct call_meta *meta);

static int check_stack_read(struct venv *env, int ptr_regno, int off, int size, int dst_regno)
{
	struct vreg *reg = &cur_regs(env)[ptr_regno];
	struct vfunc *state = func_of(env, reg);
	bool var_off = !tnum_is_const(reg->var_off);
	if (dst_regno < 0 && var_off) {
		char tn[48];
		tnum_strn(tn, sizeof(tn), reg->var_off);
		verbose(env, "variable offset stack pointer cannot be passed into helper function; var_off=%s off=%d size=%d\n",
			tn, off, size);
		return -EACCES;
	}
	if (!var_off)
		return check_stack_read_fixed_off(env, state, off + (int)reg->var_off.value, size, dst_regno);
	int err = check_stack_range_initialized(env, ptr_regno, off, size, false, BPF_READ, NULL);
	if (err)
		return err;
	mark_reg_stack_read(env, state, (int)(reg->smin_value + off), (int)(reg->smax_value + off) + size, dst_regno);
	return 0;
}

static int check_stack_write(struct venv *env, int ptr_regno, int off, int size, int value_regno, int insn_idx)
{
	struct vreg *reg = &cur_regs(env)[ptr_regno];
	struct vfunc *state = func_of(env, reg);
	if (tnum_is_const(reg->var_off))
		return check_stack_write_fixed_off(env, state, off + (int)reg->var_off.value, size, value_regno, insn_idx);
	return check_stack_write_var_off(env, state, ptr_regno, off, size, value_regno, insn_idx);
}

static int check_stack_range_initialized(struct venv *env, int regno, int off, int access_size, bool zero_size_allowed,
					 int type, struct call_meta *meta)
{
	struct vreg *reg = &cur_regs(env)[regno];
	struct vfunc *state = func_of(env, reg);
	bool clobber = type == BPF_WRITE;
	int err, min_off, max_off;

	if (access_size == 0 && !zero_size_allowed) {
		verbose(env, "invalid zero-sized read\n");
		return -EACCES;
	}
	err = check_stack_access_within_bounds(env, regno, off, access_size, type);
	if (err)
		return err;
	if (tnum_is_const(reg->var_off)) {
		min_off = max_off = (int)reg->var_off.value + off;
	} else {
		if (!env->bypass_spec_v1) {
			char tn[48];
			tnum_strn(tn, sizeof(tn), reg->var_off);
			verbose(env, "R%d variable offset stack access prohibited for !root, var_off=%s\n", regno, tn);
			return -EACCES;
		}
		if (meta && meta->raw_mode)
			meta = NULL;
		min_off = (int)reg->smin_value + off;
		max_off = (int)reg->smax_value + off;
	}
	if (meta && meta->raw_mode) {
		for (int i = min_off; i < max_off + access_size; i++) {
			int stack_off = -i - 1, spi = __get_spi(i);
			if (state->allocated_stack <= stack_off)
				continue;
			if (state->stack[spi].slot_type[stack_off % BPF_REG_SIZE] == STACK_DYNPTR) {
				verbose(env, "potential write to dynptr at off=%d disallowed\n", i);
				return -EACCES;
			}
		}
		meta->access_size = access_size;
		meta->regno = regno;
		return 0;
	}
	for (int i = min_off; i < max_off + access_size; i++) {
		int slot = -i - 1, spi = slot / BPF_REG_SIZE;
		if (state->allocated_stack <= slot) {
			verbose(env, "allocated_stack too small\n");
			return -EFAULT;
		}
		__u8 *stype = &state->stack[spi].slot_type[slot % BPF_REG_SIZE];
		if (*stype == STACK_MISC)
			goto mark;
		if (*stype == STACK_ZERO || (*stype == STACK_INVALID && env->allow_uninit_stack)) {
			if (clobber)
				*stype = STACK_MISC;
			goto mark;
		}
		if (is_spilled_reg(&state->stack[spi]) &&
		    (state->stack[spi].spilled_ptr.type == SCALAR_VALUE || env->allow_ptr_leaks)) {
			if (clobber) {
				__mark_reg_unknown(env, &state->stack[spi].spilled_ptr);
				for (int j = 0; j < BPF_REG_SIZE; j++)
					scrub_spilled_slot(&state->stack[spi].slot_type[j]);
			}
			goto mark;
		}
		if (tnum_is_const(reg->var_off)) {
			verbose(env, "invalid read from stack R%d off %d+%d size %d\n", regno, min_off, i - min_off,
				access_size);
		} else {
			char tn[48];
			tnum_strn(tn, sizeof(tn), reg->var_off);
			verbose(env, "invalid read from stack R%d var_off %s+%d size %d\n", regno, tn, i - min_off,
				access_size);
		}
		return -EACCES;
mark:
		err = live_mark_stack_read(env, reg->frameno, (__u32)env->insn_idx, BIT(spi));
		if (err)
			return err;
	}
	return 0;
}

/* ---- regions of a known size ---- */

static int check_map_access_type(struct venv *env, __u32 regno, int off, int size, int type)
{
	const struct vmap *map = cur_regs(env)[regno].map_ptr;
	if (type == BPF_WRITE && (map->map_flags & BPF_F_RDONLY_PROG)) {
		verbose(env, "write into map forbidden, value_size=%d off=%d size=%d\n", map->value_size, off, size);
		return -EACCES;
	}
	if (type == BPF_READ && (map->map_flags & BPF_F_WRONLY_PROG)) {
		verbose(env, "read from map forbidden, value_size=%d off=%d size=%d\n", map->value_size, off, size);
		return -EACCES;
	}
	return 0;
}

static int __check_mem_access(struct venv *env, int regno, int off, int size, __u32 mem_size, bool zero_size_allowed)
{
	bool size_ok = size > 0 || (size == 0 && zero_size_allowed);
	if (off >= 0 && size_ok && (__u64)off + (__u64)(__s64)size <= mem_size)
		return 0;
	struct vreg *reg = &cur_regs(env)[regno];
	switch (reg->type) {
	case PTR_TO_MAP_KEY:
		verbose(env, "invalid access to map key, key_size=%d off=%d size=%d\n", mem_size, off, size);
		break;
	case PTR_TO_MAP_VALUE:
		verbose(env, "invalid access to map value, value_size=%d off=%d size=%d\n", mem_size, off, size);
		break;
	case PTR_TO_PACKET: case PTR_TO_PACKET_META: case PTR_TO_PACKET_END:
		verbose(env, "invalid access to packet, off=%d size=%d, R%d(id=%d,off=%d,r=%d)\n", off, size, regno, reg->id,
			off, mem_size);
		break;
	default:
		verbose(env, "invalid access to memory, mem_size=%u off=%d size=%d\n", mem_size, off, size);
	}
	return -EACCES;
}

static int check_mem_region_access(struct venv *env, __u32 regno, int off, int size, __u32 mem_size,
				   bool zero_size_allowed)
{
	struct vreg *reg = &cur_regs(env)[regno];
	int err;
	if (reg->smin_value < 0 &&
	    (reg->smin_value == S64_MIN || (off + reg->smin_value != (__s64)(__s32)(off + reg->smin_value)) ||
	     reg->smin_value + off < 0)) {
		verbose(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.\n", regno);
		return -EACCES;
	}
	err = __check_mem_access(env, (int)regno, (int)(reg->smin_value + off), size, mem_size, zero_size_allowed);
	if (err) {
		verbose(env, "R%d min value is outside of the allowed memory range\n", regno);
		return err;
	}
	if (reg->umax_value >= BPF_MAX_VAR_OFF) {
		verbose(env, "R%d unbounded memory access, make sure to bounds check any such access\n", regno);
		return -EACCES;
	}
	err = __check_mem_access(env, (int)regno, (int)(reg->umax_value + (__u64)off), size, mem_size,
				 zero_size_allowed);
	if (err) {
		verbose(env, "R%d max value is outside of the allowed memory range\n", regno);
		return err;
	}
	return 0;
}

/* btf_field_type_name() */
const char *field_type_name(__u32 type)
{
	switch (type) {
	case EMU_FIELD_SPIN_LOCK: return "bpf_spin_lock";
	case EMU_FIELD_RES_SPIN_LOCK: return "bpf_res_spin_lock";
	case EMU_FIELD_TIMER: return "bpf_timer";
	case EMU_FIELD_WORKQUEUE: return "bpf_wq";
	case EMU_FIELD_KPTR_UNREF: case EMU_FIELD_KPTR_REF: return "kptr";
	case EMU_FIELD_KPTR_PERCPU: return "percpu_kptr";
	case EMU_FIELD_UPTR: return "uptr";
	case EMU_FIELD_LIST_HEAD: return "bpf_list_head";
	case EMU_FIELD_LIST_NODE: return "bpf_list_node";
	case EMU_FIELD_RB_ROOT: return "bpf_rb_root";
	case EMU_FIELD_RB_NODE: return "bpf_rb_node";
	case EMU_FIELD_REFCOUNT: return "bpf_refcount";
	default: return "unknown";
	}
}

/* btf_record_find(): the field of one of the types at exactly off */
const struct emu_map_field *map_field_at(const struct vmap *map, __u64 off, __u32 types)
{
	for (__u32 i = 0; i < map->nr_fields; i++)
		if (map->fields[i].off == off && (map->fields[i].type & types))
			return &map->fields[i];
	return NULL;
}

int check_map_access(struct venv *env, __u32 regno, int off, int size, bool zero_size_allowed, int src)
{
	struct vreg *reg = &cur_regs(env)[regno];
	const struct vmap *map = reg->map_ptr;
	int err = check_mem_region_access(env, regno, off, size, map->value_size, zero_size_allowed);
	if (err)
		return err;
	/* the record's fields: touching any part of one is refused, but for a kptr's own 8-byte load/store */
	for (__u32 i = 0; i < map->nr_fields; i++) {
		const struct emu_map_field *f = &map->fields[i];
		__s64 p = f->off;
		if (!(reg->smin_value + off < p + f->size && p < (__s64)(reg->umax_value + (__u64)off + (__u64)size)))
			continue;
		switch (f->type) {
		case EMU_FIELD_KPTR_UNREF: case EMU_FIELD_KPTR_REF: case EMU_FIELD_KPTR_PERCPU: case EMU_FIELD_UPTR:
			if (src != ACCESS_DIRECT) {
				verbose(env, "%s cannot be accessed indirectly by helper\n", field_type_name(f->type));
				return -EACCES;
			}
			if (!tnum_is_const(reg->var_off)) {
				verbose(env, "%s access cannot have variable offset\n", field_type_name(f->type));
				return -EACCES;
			}
			if ((__u64)p != (__u64)(__s64)off + reg->var_off.value) {
				verbose(env, "%s access misaligned expected=%u off=%llu\n", field_type_name(f->type), f->off,
					(unsigned long long)((__u64)(__s64)off + reg->var_off.value));
				return -EACCES;
			}
			if (size != 8) {
				verbose(env, "%s access size must be BPF_DW\n", field_type_name(f->type));
				return -EACCES;
			}
			break;
		default:
			verbose(env, "%s cannot be accessed directly by load/store\n", field_type_name(f->type));
			return -EACCES;
		}
	}
	return 0;
}

/* rcu_protected_object(): the kernel types whose kptrs are RCU protected (6.18's
 * rcu_protected_types), and every program-local type */
static bool kptr_rcu_safe(const struct emu_map_field *f)
{
	if (f->type == EMU_FIELD_KPTR_PERCPU)
		return true;
	if (f->type != EMU_FIELD_KPTR_REF)
		return false;
	if (!f->kptr_kernel)
		return true;
	const struct kbtf *kb = kbtf_vmlinux();
	const char *name = kb ? kbtf_type_name(kb, f->kptr_btf_id) : NULL;
	return name && (!strcmp(name, "task_struct") || !strcmp(name, "cgroup") || !strcmp(name, "bpf_cpumask") ||
			!strcmp(name, "bpf_crypto_ctx"));
}

/* map_kptr_match_type(): a pointer stored into (or exchanged with) a kptr field */
int map_kptr_match_type(struct venv *env, const struct emu_map_field *f, const struct vreg *reg, __u32 regno)
{
	const struct kbtf *kb = kbtf_vmlinux();
	const char *targ = f->kptr_kernel && kb ? kbtf_type_name(kb, f->kptr_btf_id) : "";
	const char *reg_name = "";
	__u32 perm = PTR_MAYBE_NULL | PTR_TRUSTED | MEM_RCU;
	if (f->type == EMU_FIELD_KPTR_UNREF)
		perm |= PTR_UNTRUSTED;
	if (base_type(reg->type) != PTR_TO_BTF_ID || (type_flag(reg->type) & ~perm) || !f->kptr_kernel ||
	    reg->btf != kb)
		goto bad;
	reg_name = kbtf_type_name(kb, reg->btf_id);
	if (__check_ptr_off_reg(env, reg, (int)regno, true))
		return -EACCES;
	if (!kbtf_struct_ids_match(kb, reg->btf_id, reg->off, f->kptr_btf_id, f->type != EMU_FIELD_KPTR_UNREF))
		goto bad;
	return 0;
bad:
	verbose(env, "invalid kptr access, R%u type=%s%s ", regno, reg_type_str(env, reg->type), reg_name ? reg_name : "");
	verbose(env, "expected=%s%s", reg_type_str(env, PTR_TO_BTF_ID), targ ? targ : "");
	if (f->type == EMU_FIELD_KPTR_UNREF)
		verbose(env, " or %s%s\n", reg_type_str(env, PTR_TO_BTF_ID | PTR_UNTRUSTED), targ ? targ : "");
	else
		verbose(env, "\n");
	return -EINVAL;
}

/* check_map_kptr_access(): an 8-byte load or store of a kptr field */
static int check_map_kptr_access(struct venv *env, __u32 regno, int value_regno, int insn_idx,
				 const struct emu_map_field *f)
{
	const struct bpf_insn *insn = &env->insns[insn_idx];
	__u8 cls = BPF_CLASS(insn->code);
	(void)regno;
	if (BPF_MODE(insn->code) != BPF_MEM) {
		verbose(env, "kptr in map can only be accessed using BPF_MEM instruction mode\n");
		return -EACCES;
	}
	if (cls != BPF_LDX && (f->type == EMU_FIELD_KPTR_REF || f->type == EMU_FIELD_KPTR_PERCPU)) {
		verbose(env, "store to referenced kptr disallowed\n");
		return -EACCES;
	}
	if (cls != BPF_LDX && f->type == EMU_FIELD_UPTR) {
		verbose(env, "store to uptr disallowed\n");
		return -EACCES;
	}
	if (cls == BPF_LDX) {
		struct vreg *regs = cur_regs(env);
		if (value_regno < 0)
			return 0;
		if (f->type == EMU_FIELD_UPTR || !f->kptr_kernel) {
			/* uptrs and program-local kptrs (bpf_obj_new's): not modelled, see README */
			mark_reg_unknown(env, regs, (__u32)value_regno);
			return 0;
		}
		struct vstate *st = env->cur_state;
		bool rcu_cs = st->active_rcu_lock || st->active_locks || !(env->sleepable || st->in_sleepable);
		__u32 flag = PTR_MAYBE_NULL;
		if (kptr_rcu_safe(f) && rcu_cs) {
			flag |= MEM_RCU;
			if (f->type == EMU_FIELD_KPTR_PERCPU)
				flag |= MEM_PERCPU;
		} else {
			flag |= PTR_UNTRUSTED;
		}
		mark_reg_known_zero(env, regs, (__u32)value_regno);
		regs[value_regno].type = PTR_TO_BTF_ID | flag;
		regs[value_regno].btf = kbtf_vmlinux();
		regs[value_regno].btf_id = f->kptr_btf_id;
		regs[value_regno].id = ++env->id_gen;
	} else if (cls == BPF_STX) {
		const struct vreg *val = &cur_regs(env)[value_regno];
		if (!register_is_null(val) && map_kptr_match_type(env, f, val, (__u32)value_regno))
			return -EACCES;
	} else if (cls == BPF_ST) {
		if (insn->imm) {
			verbose(env, "BPF_ST imm must be 0 when storing to kptr at off=%u\n", f->off);
			return -EACCES;
		}
	} else {
		verbose(env, "kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST\n");
		return -EACCES;
	}
	return 0;
}

bool may_access_direct_pkt_data(struct venv *env, const struct call_meta *meta, int t)
{
	switch (env->prog_type) {
	case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT: case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case BPF_PROG_TYPE_SK_REUSEPORT: case BPF_PROG_TYPE_FLOW_DISSECTOR: case BPF_PROG_TYPE_CGROUP_SKB:
		if (t == BPF_WRITE)
			return false;
		/* fall through */
	case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT: case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_LWT_XMIT: case BPF_PROG_TYPE_SK_SKB: case BPF_PROG_TYPE_SK_MSG:
		if (meta)
			return meta->pkt_access;
		env->seen_direct_write = true;
		return true;
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		if (t == BPF_WRITE)
			env->seen_direct_write = true;
		return true;
	default:
		return false;
	}
}

static int check_packet_access(struct venv *env, __u32 regno, int off, int size, bool zero_size_allowed)
{
	struct vreg *reg = &cur_regs(env)[regno];
	if (reg->smin_value < 0) {
		verbose(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.\n", regno);
		return -EACCES;
	}
	int err = reg->range < 0 ? -EINVAL : __check_mem_access(env, (int)regno, off, size, (__u32)reg->range,
								 zero_size_allowed);
	if (err)
		verbose(env, "R%d offset is outside of the packet\n", regno);
	return err;
}

static int check_ctx_access(struct venv *env, int insn_idx, int off, int size, int t, struct ctx_access_info *info)
{
	if (ctx_is_valid_access(env, off, size, t, info)) {
		if (base_type(info->reg_type) != PTR_TO_BTF_ID)
			env->aux[insn_idx].ctx_field_size = info->ctx_field_size;
		return 0;
	}
	verbose(env, "invalid bpf_context access off=%d size=%d\n", off, size);
	return -EACCES;
}

static int check_sock_access(struct venv *env, int insn_idx, __u32 regno, int off, int size, int t)
{
	struct vreg *reg = &cur_regs(env)[regno];
	struct ctx_access_info info = { 0 };
	if (reg->smin_value < 0) {
		verbose(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.\n", regno);
		return -EACCES;
	}
	if (sock_is_valid_access(reg->type, off, size, t, &info)) {
		env->aux[insn_idx].ctx_field_size = info.ctx_field_size;
		return 0;
	}
	verbose(env, "R%d invalid %s access off=%d size=%d\n", regno, reg_type_str(env, reg->type), off, size);
	return -EACCES;
}

static int check_buffer_access(struct venv *env, const struct vreg *reg, int regno, int off, int size,
			       const char *buf_info)
{
	if (off < 0) {
		verbose(env, "R%d invalid %s buffer access: off=%d, size=%d\n", regno, buf_info, off, size);
		return -EACCES;
	}
	if (!tnum_is_const(reg->var_off) || reg->var_off.value) {
		char tn[48];
		tnum_strn(tn, sizeof(tn), reg->var_off);
		verbose(env, "R%d invalid variable buffer offset: off=%d, var_off=%s\n", regno, off, tn);
		return -EACCES;
	}
	return 0;
}

int __check_ptr_off_reg(struct venv *env, const struct vreg *reg, int regno, bool fixed_off_ok)
{
	if (reg->off < 0) {
		verbose(env, "negative offset %s ptr R%d off=%d disallowed\n", reg_type_str(env, reg->type), regno, reg->off);
		return -EACCES;
	}
	if (!fixed_off_ok && reg->off) {
		verbose(env, "dereference of modified %s ptr R%d off=%d disallowed\n", reg_type_str(env, reg->type), regno,
			reg->off);
		return -EACCES;
	}
	if (!tnum_is_const(reg->var_off) || reg->var_off.value) {
		char tn[48];
		tnum_strn(tn, sizeof(tn), reg->var_off);
		verbose(env, "variable %s access var_off=%s disallowed\n", reg_type_str(env, reg->type), tn);
		return -EACCES;
	}
	return 0;
}

int check_ptr_off_reg(struct venv *env, const struct vreg *reg, int regno)
{
	return __check_ptr_off_reg(env, reg, regno, false);
}

/* The program types whose verifier_ops have btf_struct_access, the judge of
 * stores through a PTR_TO_BTF_ID: tc and XDP (nf_conntrack's, when that module
 * is there, allows only nf_conn's mark: no pointer to one comes here, as
 * bpfemu has no conntrack kfuncs), and the struct_ops bpf_dummy_ops (its
 * argument struct bpf_dummy_ops_state). */
static bool is_dummy_ops(const struct venv *env)
{
	return env->prog_type == BPF_PROG_TYPE_STRUCT_OPS && env->kbtf &&
	       !strcmp(kbtf_type_name(env->kbtf, env->attr->attach_btf_id), "bpf_dummy_ops");
}

static bool has_btf_struct_access(const struct venv *env)
{
	return env->prog_type == BPF_PROG_TYPE_SCHED_CLS || env->prog_type == BPF_PROG_TYPE_SCHED_ACT ||
	       env->prog_type == BPF_PROG_TYPE_XDP || is_dummy_ops(env);
}

static int btf_struct_access_write(struct venv *env, const struct vreg *reg, int off, int size)
{
	if (is_dummy_ops(env)) {        /* bpf_dummy_ops_btf_struct_access() */
		__s32 id = kbtf_find_by_name_kind(env->kbtf, "bpf_dummy_ops_state", BTF_KIND_STRUCT);
		if (id < 0)
			return -EINVAL;
		if (reg->btf != env->kbtf || reg->btf_id != (__u32)id) {
			verbose(env, "only access to bpf_dummy_ops_state is supported\n");
			return -EACCES;
		}
		const struct btf_type *st = kbtf_type(env->kbtf, (__u32)id);
		if ((__u32)(off + size) > st->size) {
			verbose(env, "write access at off %d with size %d\n", off, size);
			return -EACCES;
		}
		return NOT_INIT;
	}
	/* tc_cls_act_btf_struct_access(), xdp_btf_struct_access(): nf_conntrack's
	 * check when the module is loaded, else EACCES without a word */
	if (emu_oe_access("/sys/module/nf_conntrack", F_OK) == 0)
		verbose(env, "only read is supported\n");
	return -EACCES;
}

/* PTR_TO_BTF_ID: the kernel object's BTF decides what a load gives (check_ptr_to_btf_access) */
static int check_ptr_to_btf_access(struct venv *env, struct vreg *regs, int regno, int off, int size, int atype,
				   int value_regno)
{
	struct vreg *reg = regs + regno;
	const char *tname = reg->btf ? kbtf_type_name(reg->btf, reg->btf_id) : "";
	const char *field_name = NULL;
	__u32 flag = 0, btf_id = 0;
	int ret;

	if (!env->allow_ptr_leaks) {
		verbose(env, "'struct %s' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN\n", tname);
		return -EPERM;
	}
	if (!env->gpl) {
		verbose(env, "Cannot access kernel 'struct %s' from non-GPL compatible program\n", tname);
		return -EINVAL;
	}
	if (off < 0) {
		verbose(env, "R%d is ptr_%s invalid negative access: off=%d\n", regno, tname, off);
		return -EACCES;
	}
	if (!tnum_is_const(reg->var_off) || reg->var_off.value) {
		char tn[48];
		tnum_strn(tn, sizeof(tn), reg->var_off);
		verbose(env, "R%d is ptr_%s invalid variable offset: off=%d, var_off=%s\n", regno, tname, off, tn);
		return -EACCES;
	}
	if (reg->type & MEM_USER) {
		verbose(env, "R%d is ptr_%s access user memory: off=%d\n", regno, tname, off);
		return -EACCES;
	}
	if (reg->type & MEM_PERCPU) {
		verbose(env, "R%d is ptr_%s access percpu memory: off=%d\n", regno, tname, off);
		return -EACCES;
	}
	if (atype == BPF_WRITE && !(reg->type & MEM_ALLOC) && has_btf_struct_access(env))
		ret = btf_struct_access_write(env, reg, off, size);
	else if (atype != BPF_READ) {
		verbose(env, "only read is supported\n");
		return -EACCES;
	} else
		ret = kbtf_struct_access(env, reg, off, size, atype, &btf_id, &flag, &field_name);
	if (ret < 0)
		return ret;
	if (ret == PTR_TO_BTF_ID) {
		if (reg->type & PTR_UNTRUSTED)
			flag = PTR_UNTRUSTED;
		else if ((reg->ref_obj_id || (reg->type & (PTR_TRUSTED | MEM_ALLOC))) || (reg->type & MEM_RCU))
			flag &= ~(PTR_TRUSTED | MEM_ALLOC | MEM_RCU);
		else
			flag &= ~(PTR_TRUSTED | MEM_ALLOC | MEM_RCU);
	}
	if (atype == BPF_READ && value_regno >= 0) {
		if (ret == SCALAR_VALUE) {
			mark_reg_unknown(env, regs, (__u32)value_regno);
		} else {
			mark_reg_known_zero(env, regs, (__u32)value_regno);
			regs[value_regno].type = PTR_TO_BTF_ID | flag;
			regs[value_regno].btf = reg->btf;
			regs[value_regno].btf_id = btf_id;
			if (type_may_be_null(flag))
				regs[value_regno].id = ++env->id_gen;
		}
	}
	return 0;
}

int save_aux_ptr_type(struct venv *env, __u32 type, bool allow_trust_mismatch)
{
	__u32 *prev = &env->aux[env->insn_idx].ptr_type;
	if (*prev == NOT_INIT) {
		*prev = type;
		return 0;
	}
	bool ok_a = true, ok_b = true;
	switch (base_type(type)) {
	case PTR_TO_CTX: case PTR_TO_SOCKET: case PTR_TO_SOCK_COMMON: case PTR_TO_TCP_SOCK: case PTR_TO_XDP_SOCK:
	case PTR_TO_BTF_ID: case PTR_TO_ARENA:
		ok_a = false;
	}
	switch (base_type(*prev)) {
	case PTR_TO_CTX: case PTR_TO_SOCKET: case PTR_TO_SOCK_COMMON: case PTR_TO_TCP_SOCK: case PTR_TO_XDP_SOCK:
	case PTR_TO_BTF_ID: case PTR_TO_ARENA:
		ok_b = false;
	}
	if (type == *prev || (ok_a && ok_b))
		return 0;
	bool mb_a = base_type(type) == PTR_TO_MEM || base_type(type) == PTR_TO_BTF_ID;
	bool mb_b = base_type(*prev) == PTR_TO_MEM || base_type(*prev) == PTR_TO_BTF_ID;
	if (allow_trust_mismatch && mb_a && mb_b) {
		__u32 merged = base_type(type) == PTR_TO_MEM || base_type(*prev) == PTR_TO_MEM ? PTR_TO_MEM : PTR_TO_BTF_ID;
		if ((type | *prev) & PTR_UNTRUSTED)
			merged |= PTR_UNTRUSTED;
		if ((type | *prev) & MEM_RDONLY)
			merged |= MEM_RDONLY;
		*prev = merged;
		return 0;
	}
	verbose(env, "same insn cannot be used with different pointers\n");
	return -EINVAL;
}

/* the region a register points into, for the per-instruction facts */
static enum emu_mem_region region_of(__u32 type)
{
	switch (base_type(type)) {
	case PTR_TO_STACK: return EMU_MEM_STACK;
	case PTR_TO_CTX: return EMU_MEM_CTX;
	case PTR_TO_MAP_VALUE: return EMU_MEM_MAP_VALUE;
	case PTR_TO_MAP_KEY: return EMU_MEM_MAP_KEY;
	case PTR_TO_PACKET: return EMU_MEM_PACKET;
	case PTR_TO_PACKET_META: return EMU_MEM_PACKET_META;
	case PTR_TO_MEM: return EMU_MEM_MEM;
	case PTR_TO_BTF_ID: return EMU_MEM_BTF;
	case PTR_TO_FLOW_KEYS: return EMU_MEM_FLOW_KEYS;
	case PTR_TO_SOCKET: case PTR_TO_SOCK_COMMON: case PTR_TO_TCP_SOCK: case PTR_TO_XDP_SOCK: return EMU_MEM_SOCKET;
	case PTR_TO_TP_BUFFER: return EMU_MEM_TP_BUFFER;
	case PTR_TO_BUF: return EMU_MEM_BUF;
	case PTR_TO_ARENA: return EMU_MEM_ARENA;
	default: return EMU_MEM_NONE;
	}
}

int check_mem_access(struct venv *env, int insn_idx, __u32 regno, int off, int bpf_size, int t, int value_regno,
		     bool strict_alignment_once, bool is_ldsx)
{
	struct vreg *regs = cur_regs(env), *reg = regs + regno;
	int size = bpf_size_to_bytes(bpf_size), err = 0;
	__u32 reg_type = reg->type;
	int fixed = (int)(reg->var_off.value + (__u64)(__s64)reg->off) + off;
	bool is_const = tnum_is_const(reg->var_off);

	if (size < 0)
		return size;
	err = check_ptr_alignment(env, reg, off, size, strict_alignment_once);
	if (err)
		return err;
	off += reg->off;

	if (reg->type == PTR_TO_MAP_KEY) {
		if (t == BPF_WRITE) {
			verbose(env, "write to change key R%d not allowed\n", regno);
			return -EACCES;
		}
		err = check_mem_region_access(env, regno, off, size, reg->map_ptr->key_size, false);
		if (err)
			return err;
		if (value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (reg->type == PTR_TO_MAP_VALUE) {
		if (t == BPF_WRITE && value_regno >= 0 && is_pointer_value(env, value_regno)) {
			verbose(env, "R%d leaks addr into map\n", value_regno);
			return -EACCES;
		}
		err = check_map_access_type(env, regno, off, size, t);
		if (err)
			return err;
		err = check_map_access(env, regno, off, size, false, ACCESS_DIRECT);
		if (err)
			return err;
		const struct emu_map_field *kptr = NULL;
		if (tnum_is_const(reg->var_off))
			kptr = map_field_at(reg->map_ptr, (__u64)(__s64)off + reg->var_off.value,
					    EMU_FIELD_KPTR | EMU_FIELD_UPTR);
		if (kptr) {
			err = check_map_kptr_access(env, regno, value_regno, insn_idx, kptr);
			if (err)
				return err;
		} else if (t == BPF_READ && value_regno >= 0) {
			const struct vmap *map = reg->map_ptr;
			if (tnum_is_const(reg->var_off) && map_is_rdonly(map) && map_direct_value_ok(map)) {
				__u64 val = 0;
				err = map_direct_read(map, off + (int)reg->var_off.value, size, &val, is_ldsx);
				if (err)
					return err;
				regs[value_regno].type = SCALAR_VALUE;
				__mark_reg_known(&regs[value_regno], val);
			} else {
				mark_reg_unknown(env, regs, (__u32)value_regno);
			}
		}
	} else if (base_type(reg->type) == PTR_TO_MEM) {
		bool rdonly = reg->type & MEM_RDONLY, rdonly_untrusted = rdonly && (reg->type & PTR_UNTRUSTED);
		if (type_may_be_null(reg->type)) {
			verbose(env, "R%d invalid mem access '%s'\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		if (t == BPF_WRITE && rdonly) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		if (t == BPF_WRITE && value_regno >= 0 && is_pointer_value(env, value_regno)) {
			verbose(env, "R%d leaks addr into mem\n", value_regno);
			return -EACCES;
		}
		if (!rdonly_untrusted)
			err = check_mem_region_access(env, regno, off, size, reg->mem_size, false);
		if (!err && value_regno >= 0 && (t == BPF_READ || rdonly))
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (reg->type == PTR_TO_CTX) {
		struct ctx_access_info info = { .reg_type = SCALAR_VALUE, .is_ldsx = is_ldsx };
		if (t == BPF_WRITE && value_regno >= 0 && is_pointer_value(env, value_regno)) {
			verbose(env, "R%d leaks addr into ctx\n", value_regno);
			return -EACCES;
		}
		err = check_ptr_off_reg(env, reg, (int)regno);
		if (err < 0)
			return err;
		err = check_ctx_access(env, insn_idx, off, size, t, &info);
		if (err)
			verbose_linfo(env, (__u32)insn_idx, "; ");
		if (!err && t == BPF_READ && value_regno >= 0) {
			if (info.reg_type == SCALAR_VALUE) {
				mark_reg_unknown(env, regs, (__u32)value_regno);
			} else {
				mark_reg_known_zero(env, regs, (__u32)value_regno);
				if (type_may_be_null(info.reg_type))
					regs[value_regno].id = ++env->id_gen;
				if (base_type(info.reg_type) == PTR_TO_BTF_ID) {
					regs[value_regno].btf = info.btf;
					regs[value_regno].btf_id = info.btf_id;
				}
			}
			regs[value_regno].type = info.reg_type;
		}
	} else if (reg->type == PTR_TO_STACK) {
		err = check_stack_access_within_bounds(env, (int)regno, off, size, t);
		if (err)
			return err;
		if (t == BPF_READ)
			err = check_stack_read(env, (int)regno, off, size, value_regno);
		else
			err = check_stack_write(env, (int)regno, off, size, value_regno, insn_idx);
	} else if (reg_is_pkt_pointer(reg)) {
		if (t == BPF_WRITE && !may_access_direct_pkt_data(env, NULL, t)) {
			verbose(env, "cannot write into packet\n");
			return -EACCES;
		}
		if (t == BPF_WRITE && value_regno >= 0 && is_pointer_value(env, value_regno)) {
			verbose(env, "R%d leaks addr into packet\n", value_regno);
			return -EACCES;
		}
		err = check_packet_access(env, regno, off, size, false);
		if (!err && t == BPF_READ && value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (reg->type == PTR_TO_FLOW_KEYS) {
		if (t == BPF_WRITE && value_regno >= 0 && is_pointer_value(env, value_regno)) {
			verbose(env, "R%d leaks addr into flow keys\n", value_regno);
			return -EACCES;
		}
		if (size < 0 || off < 0 || (__u64)off + (__u64)size > 56 /* sizeof(struct bpf_flow_keys) */) {
			verbose(env, "invalid access to flow keys off=%d size=%d\n", off, size);
			return -EACCES;
		}
		if (t == BPF_READ && value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (reg->type == PTR_TO_SOCKET || reg->type == PTR_TO_SOCK_COMMON || reg->type == PTR_TO_TCP_SOCK ||
		   reg->type == PTR_TO_XDP_SOCK) {
		if (t == BPF_WRITE) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		err = check_sock_access(env, insn_idx, regno, off, size, t);
		if (!err && value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (reg->type == PTR_TO_TP_BUFFER) {
		err = check_buffer_access(env, reg, (int)regno, off, size, "tracepoint");
		if (!err && t == BPF_READ && value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (base_type(reg->type) == PTR_TO_BTF_ID && !type_may_be_null(reg->type)) {
		err = check_ptr_to_btf_access(env, regs, (int)regno, off, size, t, value_regno);
	} else if (reg->type == CONST_PTR_TO_MAP) {
		/* map_ptr access: only reads of struct bpf_map fields, through vmlinux BTF */
		if (!env->kbtf) {
			verbose(env, "map_ptr access not supported without CONFIG_DEBUG_INFO_BTF\n");
			return -ENOTSUP;
		}
		if (off < 0) {
			verbose(env, "R%d is %s invalid negative access: off=%d\n", regno, "bpf_map", off);
			return -EACCES;
		}
		if (t != BPF_READ) {
			verbose(env, "only read from %s is supported\n", "bpf_map");
			return -EACCES;
		}
		if (value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (base_type(reg->type) == PTR_TO_BUF) {
		bool rdonly = reg->type & MEM_RDONLY;
		if (rdonly && t == BPF_WRITE) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		err = check_buffer_access(env, reg, (int)regno, off, size, rdonly ? "rdonly" : "rdwr");
		if (!err && value_regno >= 0 && (rdonly || t == BPF_READ))
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else if (reg->type == PTR_TO_ARENA) {
		if (t == BPF_READ && value_regno >= 0)
			mark_reg_unknown(env, regs, (__u32)value_regno);
	} else {
		verbose(env, "R%d invalid mem access '%s'\n", regno, reg_type_str(env, reg->type));
		return -EACCES;
	}

	if (!err && size < BPF_REG_SIZE && value_regno >= 0 && t == BPF_READ && regs[value_regno].type == SCALAR_VALUE) {
		if (!is_ldsx)
			coerce_reg_to_size(&regs[value_regno], size);
		else
			coerce_reg_to_size_sx(&regs[value_regno], size);
	}
	if (!err && env->insn_idx == insn_idx) {
		/* helpers and kfuncs probing memory are not the instruction's own access */
		__u8 cls = BPF_CLASS(env->insns[insn_idx].code);
		if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX)
			record_mem(env, region_of(reg_type), base_type(reg_type) != PTR_TO_BTF_ID &&
				   base_type(reg_type) != PTR_TO_ARENA && !(reg_type & PTR_UNTRUSTED), fixed, is_const);
	}
	return err;
}

int check_load_mem(struct venv *env, const struct bpf_insn *insn, bool strict_alignment_once, bool is_ldsx,
		   bool allow_trust_mismatch, const char *ctx)
{
	struct vreg *regs = cur_regs(env);
	int err = check_reg_arg(env, insn->src_reg, SRC_OP);
	if (err)
		return err;
	err = check_reg_arg(env, insn->dst_reg, DST_OP_NO_MARK);
	if (err)
		return err;
	__u32 src_type = regs[insn->src_reg].type;
	err = check_mem_access(env, env->insn_idx, insn->src_reg, insn->off, BPF_SIZE(insn->code), BPF_READ,
			       insn->dst_reg, strict_alignment_once, is_ldsx);
	err = err ? err : save_aux_ptr_type(env, src_type, allow_trust_mismatch);
	return err ? err : reg_bounds_sanity_check(env, &regs[insn->dst_reg], ctx);
}

int check_store_reg(struct venv *env, const struct bpf_insn *insn, bool strict_alignment_once)
{
	struct vreg *regs = cur_regs(env);
	int err = check_reg_arg(env, insn->src_reg, SRC_OP);
	if (err)
		return err;
	err = check_reg_arg(env, insn->dst_reg, SRC_OP);
	if (err)
		return err;
	__u32 dst_type = regs[insn->dst_reg].type;
	err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, BPF_SIZE(insn->code), BPF_WRITE,
			       insn->src_reg, strict_alignment_once, false);
	return err ? err : save_aux_ptr_type(env, dst_type, false);
}

static bool atomic_ptr_type_ok(struct venv *env, int regno)
{
	__u32 t = cur_regs(env)[regno].type;
	return t != PTR_TO_CTX && base_type(t) != PTR_TO_PACKET && base_type(t) != PTR_TO_PACKET_META &&
	       t != PTR_TO_FLOW_KEYS && t != PTR_TO_SOCKET && t != PTR_TO_SOCK_COMMON && t != PTR_TO_TCP_SOCK &&
	       t != PTR_TO_XDP_SOCK;
}

static int check_atomic_rmw(struct venv *env, const struct bpf_insn *insn)
{
	int load_reg, err;
	if (BPF_SIZE(insn->code) != BPF_W && BPF_SIZE(insn->code) != BPF_DW) {
		verbose(env, "invalid atomic operand size\n");
		return -EINVAL;
	}
	err = check_reg_arg(env, insn->src_reg, SRC_OP);
	if (err)
		return err;
	err = check_reg_arg(env, insn->dst_reg, SRC_OP);
	if (err)
		return err;
	if (insn->imm == BPF_CMPXCHG) {
		err = check_reg_arg(env, BPF_REG_0, SRC_OP);
		if (err)
			return err;
		if (is_pointer_value(env, BPF_REG_0)) {
			verbose(env, "R%d leaks addr into mem\n", BPF_REG_0);
			return -EACCES;
		}
	}
	if (is_pointer_value(env, insn->src_reg)) {
		verbose(env, "R%d leaks addr into mem\n", insn->src_reg);
		return -EACCES;
	}
	if (!atomic_ptr_type_ok(env, insn->dst_reg)) {
		verbose(env, "BPF_ATOMIC stores into R%d %s is not allowed\n", insn->dst_reg,
			reg_type_str(env, cur_regs(env)[insn->dst_reg].type));
		return -EACCES;
	}
	if (insn->imm & BPF_FETCH) {
		load_reg = insn->imm == BPF_CMPXCHG ? BPF_REG_0 : insn->src_reg;
		err = check_reg_arg(env, (__u32)load_reg, DST_OP);
		if (err)
			return err;
	} else {
		load_reg = -1;
	}
	err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, BPF_SIZE(insn->code), BPF_READ, -1, true,
			       false);
	if (!err && load_reg >= 0)
		err = check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, BPF_SIZE(insn->code), BPF_READ,
				       load_reg, true, false);
	if (err)
		return err;
	if (cur_regs(env)[insn->dst_reg].type == PTR_TO_ARENA) {
		err = save_aux_ptr_type(env, PTR_TO_ARENA, false);
		if (err)
			return err;
	}
	return check_mem_access(env, env->insn_idx, insn->dst_reg, insn->off, BPF_SIZE(insn->code), BPF_WRITE, -1, true,
				false);
}

int check_atomic(struct venv *env, const struct bpf_insn *insn)
{
	int err;
	switch (insn->imm) {
	case BPF_ADD: case BPF_ADD | BPF_FETCH: case BPF_AND: case BPF_AND | BPF_FETCH: case BPF_OR:
	case BPF_OR | BPF_FETCH: case BPF_XOR: case BPF_XOR | BPF_FETCH: case BPF_XCHG: case BPF_CMPXCHG:
		return check_atomic_rmw(env, insn);
	case BPF_LOAD_ACQ:
		err = check_load_mem(env, insn, true, false, false, "atomic_load");
		if (err)
			return err;
		if (!atomic_ptr_type_ok(env, insn->src_reg)) {
			verbose(env, "BPF_ATOMIC loads from R%d %s is not allowed\n", insn->src_reg,
				reg_type_str(env, cur_regs(env)[insn->src_reg].type));
			return -EACCES;
		}
		return 0;
	case BPF_STORE_REL:
		err = check_store_reg(env, insn, true);
		if (err)
			return err;
		if (!atomic_ptr_type_ok(env, insn->dst_reg)) {
			verbose(env, "BPF_ATOMIC stores into R%d %s is not allowed\n", insn->dst_reg,
				reg_type_str(env, cur_regs(env)[insn->dst_reg].type));
			return -EACCES;
		}
		return 0;
	default:
		verbose(env, "BPF_ATOMIC uses invalid atomic opcode %02x\n", (unsigned)insn->imm);
		return -EINVAL;
	}
}

/* ---- memory a helper reads or writes ---- */

int check_helper_mem_access(struct venv *env, int regno, int access_size, int access_type, bool zero_size_allowed,
			    struct call_meta *meta)
{
	struct vreg *regs = cur_regs(env), *reg = &regs[regno];
	switch (base_type(reg->type)) {
	case PTR_TO_PACKET: case PTR_TO_PACKET_META:
		return check_packet_access(env, (__u32)regno, reg->off, access_size, zero_size_allowed);
	case PTR_TO_MAP_KEY:
		if (access_type == BPF_WRITE) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		return check_mem_region_access(env, (__u32)regno, reg->off, access_size, reg->map_ptr->key_size, false);
	case PTR_TO_MAP_VALUE:
		if (check_map_access_type(env, (__u32)regno, reg->off, access_size, access_type))
			return -EACCES;
		return check_map_access(env, (__u32)regno, reg->off, access_size, zero_size_allowed, ACCESS_HELPER);
	case PTR_TO_MEM:
		if ((reg->type & MEM_RDONLY) && access_type == BPF_WRITE) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		return check_mem_region_access(env, (__u32)regno, reg->off, access_size, reg->mem_size, zero_size_allowed);
	case PTR_TO_BUF:
		if ((reg->type & MEM_RDONLY) && access_type == BPF_WRITE) {
			verbose(env, "R%d cannot write into %s\n", regno, reg_type_str(env, reg->type));
			return -EACCES;
		}
		return check_buffer_access(env, reg, regno, reg->off, access_size,
					   reg->type & MEM_RDONLY ? "rdonly" : "rdwr");
	case PTR_TO_STACK:
		return check_stack_range_initialized(env, regno, reg->off, access_size, zero_size_allowed, access_type, meta);
	case PTR_TO_BTF_ID:
		return check_ptr_to_btf_access(env, regs, regno, reg->off, access_size, BPF_READ, -1);
	case PTR_TO_CTX:
		if (!ctx_convertible(env)) {
			if (access_size == 0)
				return zero_size_allowed ? 0 : -EACCES;
			return check_mem_access(env, env->insn_idx, (__u32)regno, access_size - 1, BPF_B, access_type, -1,
						false, false);
		}
		/* fall through */
	default:
		if (zero_size_allowed && access_size == 0 && register_is_null(reg))
			return 0;
		verbose(env, "R%d type=%s ", regno, reg_type_str(env, reg->type));
		verbose(env, "expected=%s\n", reg_type_str(env, PTR_TO_STACK));
		return -EACCES;
	}
}

int check_mem_size_reg(struct venv *env, struct vreg *reg, __u32 regno, int access_type, bool zero_size_allowed,
		       struct call_meta *meta)
{
	meta->msize_max_value = reg->umax_value;
	if (!tnum_is_const(reg->var_off))
		meta = NULL;
	if (reg->smin_value < 0) {
		verbose(env, "R%d min value is negative, either use unsigned or 'var &= const'\n", regno);
		return -EACCES;
	}
	if (reg->umin_value == 0 && !zero_size_allowed) {
		verbose(env, "R%d invalid zero-sized read: u64=[%lld,%lld]\n", regno, (long long)reg->umin_value,
			(long long)reg->umax_value);
		return -EACCES;
	}
	if (reg->umax_value >= BPF_MAX_VAR_SIZ) {
		verbose(env, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'\n", regno);
		return -EACCES;
	}
	int err = check_helper_mem_access(env, (int)regno - 1, (int)reg->umax_value, access_type, zero_size_allowed, meta);
	if (!err)
		err = mark_chain_precision(env, (int)regno);
	return err;
}

int check_mem_reg(struct venv *env, struct vreg *reg, __u32 regno, __u32 mem_size)
{
	bool may_be_null = type_may_be_null(reg->type);
	struct vreg saved;
	if (register_is_null(reg))
		return 0;
	if (may_be_null) {
		saved = *reg;
		mark_ptr_not_null_reg(reg);
	}
	int err = check_helper_mem_access(env, (int)regno, (int)mem_size, BPF_READ, true, NULL);
	err = err ? err : check_helper_mem_access(env, (int)regno, (int)mem_size, BPF_WRITE, true, NULL);
	if (may_be_null)
		*reg = saved;
	return err;
}
