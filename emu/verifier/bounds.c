/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/bounds.c: what the verifier knows of a scalar.
 *
 * A scalar register carries a tnum and four ranges (u64, s64, u32, s32) that
 * each operation updates and reg_bounds_sync() makes agree; comparisons
 * decide branches (is_branch_taken) and narrow both sides of a branch
 * (reg_set_min_max). The rules are Linux 6.18's, including where they give
 * up (a shift by an unknown amount, a division: unknown result).
 */
#include "env.h"

#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define S8_MIN_ (-128)
#define S8_MAX_ 127
#define S16_MIN_ (-32768)
#define S16_MAX_ 32767

void ___mark_reg_known(struct vreg *reg, __u64 imm)
{
	reg->var_off = tnum_const(imm);
	reg->smin_value = (__s64)imm;
	reg->smax_value = (__s64)imm;
	reg->umin_value = imm;
	reg->umax_value = imm;
	reg->s32_min_value = (__s32)imm;
	reg->s32_max_value = (__s32)imm;
	reg->u32_min_value = (__u32)imm;
	reg->u32_max_value = (__u32)imm;
}

/* the known value imm; clears the fixed offset and what the type's union held */
void __mark_reg_known(struct vreg *reg, __u64 imm)
{
	reg->off = 0;
	memset(reg->raw, 0, sizeof(reg->raw));
	reg->id = 0;
	reg->ref_obj_id = 0;
	___mark_reg_known(reg, imm);
}

void __mark_reg32_known(struct vreg *reg, __u64 imm)
{
	reg->var_off = tnum_const_subreg(reg->var_off, (__u32)imm);
	reg->s32_min_value = (__s32)imm;
	reg->s32_max_value = (__s32)imm;
	reg->u32_min_value = (__u32)imm;
	reg->u32_max_value = (__u32)imm;
}

void __mark_reg_known_zero(struct vreg *reg)
{
	__mark_reg_known(reg, 0);
}

void __mark_reg_const_zero(const struct venv *env, struct vreg *reg)
{
	__mark_reg_known(reg, 0);
	reg->type = SCALAR_VALUE;
	reg->precise = !env->bpf_capable;
}

void __mark_reg64_unbounded(struct vreg *reg)
{
	reg->smin_value = S64_MIN;
	reg->smax_value = S64_MAX;
	reg->umin_value = 0;
	reg->umax_value = U64_MAX;
}

void __mark_reg32_unbounded(struct vreg *reg)
{
	reg->s32_min_value = S32_MIN;
	reg->s32_max_value = S32_MAX;
	reg->u32_min_value = 0;
	reg->u32_max_value = U32_MAX;
}

void __mark_reg_unbounded(struct vreg *reg)
{
	__mark_reg64_unbounded(reg);
	__mark_reg32_unbounded(reg);
}

void __mark_reg_unknown_imprecise(struct vreg *reg)
{
	reg->type = SCALAR_VALUE;
	reg->off = 0;
	memset(reg->raw, 0, sizeof(reg->raw));
	reg->id = 0;
	reg->ref_obj_id = 0;
	reg->var_off = tnum_unknown;
	reg->frameno = 0;
	reg->precise = false;
	__mark_reg_unbounded(reg);
}

void __mark_reg_unknown(const struct venv *env, struct vreg *reg)
{
	__mark_reg_unknown_imprecise(reg);
	reg->precise = !env->bpf_capable;
}

void __mark_reg_not_init(const struct venv *env, struct vreg *reg)
{
	__mark_reg_unknown(env, reg);
	reg->type = NOT_INIT;
}

static void __update_reg32_bounds(struct vreg *reg)
{
	struct tnum v = tnum_subreg(reg->var_off);
	reg->s32_min_value = max_t(__s32, reg->s32_min_value, (__s32)(v.value | (v.mask & (__u32)S32_MIN)));
	reg->s32_max_value = min_t(__s32, reg->s32_max_value, (__s32)(v.value | (v.mask & (__u32)S32_MAX)));
	reg->u32_min_value = max_t(__u32, reg->u32_min_value, (__u32)v.value);
	reg->u32_max_value = min_t(__u32, reg->u32_max_value, (__u32)(v.value | v.mask));
}

static void __update_reg64_bounds(struct vreg *reg)
{
	reg->smin_value = max_t(__s64, reg->smin_value, (__s64)(reg->var_off.value | (reg->var_off.mask & (__u64)S64_MIN)));
	reg->smax_value = min_t(__s64, reg->smax_value, (__s64)(reg->var_off.value | (reg->var_off.mask & (__u64)S64_MAX)));
	reg->umin_value = max_t(__u64, reg->umin_value, reg->var_off.value);
	reg->umax_value = min_t(__u64, reg->umax_value, reg->var_off.value | reg->var_off.mask);
}

void __update_reg_bounds(struct vreg *reg)
{
	__update_reg32_bounds(reg);
	__update_reg64_bounds(reg);
}

static void __reg32_deduce_bounds(struct vreg *reg)
{
	/* the low halves of a 64-bit range whose upper 32 bits do not change form a range */
	if ((reg->umin_value >> 32) == (reg->umax_value >> 32)) {
		reg->u32_min_value = max_t(__u32, reg->u32_min_value, (__u32)reg->umin_value);
		reg->u32_max_value = min_t(__u32, reg->u32_max_value, (__u32)reg->umax_value);
		if ((__s32)reg->umin_value <= (__s32)reg->umax_value) {
			reg->s32_min_value = max_t(__s32, reg->s32_min_value, (__s32)reg->umin_value);
			reg->s32_max_value = min_t(__s32, reg->s32_max_value, (__s32)reg->umax_value);
		}
	}
	if ((reg->smin_value >> 32) == (reg->smax_value >> 32)) {
		if ((__u32)reg->smin_value <= (__u32)reg->smax_value) {
			reg->u32_min_value = max_t(__u32, reg->u32_min_value, (__u32)reg->smin_value);
			reg->u32_max_value = min_t(__u32, reg->u32_max_value, (__u32)reg->smax_value);
		}
		if ((__s32)reg->smin_value <= (__s32)reg->smax_value) {
			reg->s32_min_value = max_t(__s32, reg->s32_min_value, (__s32)reg->smin_value);
			reg->s32_max_value = min_t(__s32, reg->s32_max_value, (__s32)reg->smax_value);
		}
	}
	/* upper halves two consecutive numbers, low halves from negative to positive */
	if ((__u32)(reg->umin_value >> 32) + 1 == (__u32)(reg->umax_value >> 32) && (__s32)reg->umin_value < 0 &&
	    (__s32)reg->umax_value >= 0) {
		reg->s32_min_value = max_t(__s32, reg->s32_min_value, (__s32)reg->umin_value);
		reg->s32_max_value = min_t(__s32, reg->s32_max_value, (__s32)reg->umax_value);
	}
	if ((__u32)(reg->smin_value >> 32) + 1 == (__u32)(reg->smax_value >> 32) && (__s32)reg->smin_value < 0 &&
	    (__s32)reg->smax_value >= 0) {
		reg->s32_min_value = max_t(__s32, reg->s32_min_value, (__s32)reg->smin_value);
		reg->s32_max_value = min_t(__s32, reg->s32_max_value, (__s32)reg->smax_value);
	}
	if ((__s32)reg->u32_min_value <= (__s32)reg->u32_max_value) {
		reg->s32_min_value = max_t(__s32, reg->s32_min_value, (__s32)reg->u32_min_value);
		reg->s32_max_value = min_t(__s32, reg->s32_max_value, (__s32)reg->u32_max_value);
	}
	if ((__u32)reg->s32_min_value <= (__u32)reg->s32_max_value) {
		reg->u32_min_value = max_t(__u32, (__u32)reg->s32_min_value, reg->u32_min_value);
		reg->u32_max_value = min_t(__u32, (__u32)reg->s32_max_value, reg->u32_max_value);
	}
}

static void __reg64_deduce_bounds(struct vreg *reg)
{
	/* a range that stays in one half of the u64 space is the same as u64 and s64 */
	if ((__s64)reg->umin_value <= (__s64)reg->umax_value) {
		reg->smin_value = max_t(__s64, reg->smin_value, (__s64)reg->umin_value);
		reg->smax_value = min_t(__s64, reg->smax_value, (__s64)reg->umax_value);
	}
	if ((__u64)reg->smin_value <= (__u64)reg->smax_value) {
		reg->umin_value = max_t(__u64, (__u64)reg->smin_value, reg->umin_value);
		reg->umax_value = min_t(__u64, (__u64)reg->smax_value, reg->umax_value);
	} else {
		/* an s64 range across the sign boundary: the u64 range may meet one end only */
		if (reg->umax_value < (__u64)reg->smin_value) {
			reg->smin_value = (__s64)reg->umin_value;
			reg->umax_value = min_t(__u64, reg->umax_value, (__u64)reg->smax_value);
		} else if ((__u64)reg->smax_value < reg->umin_value) {
			reg->smax_value = (__s64)reg->umax_value;
			reg->umin_value = max_t(__u64, reg->umin_value, (__u64)reg->smin_value);
		}
	}
}

static void __reg_deduce_mixed_bounds(struct vreg *reg)
{
	__u64 new_umin, new_umax;
	__s64 new_smin, new_smax;

	/* the 32-bit range as the low halves of the 64-bit ends */
	new_umin = (reg->umin_value & ~0xffffffffull) | reg->u32_min_value;
	new_umax = (reg->umax_value & ~0xffffffffull) | reg->u32_max_value;
	reg->umin_value = max_t(__u64, reg->umin_value, new_umin);
	reg->umax_value = min_t(__u64, reg->umax_value, new_umax);
	new_smin = (__s64)(((__u64)reg->smin_value & ~0xffffffffull) | reg->u32_min_value);
	new_smax = (__s64)(((__u64)reg->smax_value & ~0xffffffffull) | reg->u32_max_value);
	reg->smin_value = max_t(__s64, reg->smin_value, new_smin);
	reg->smax_value = min_t(__s64, reg->smax_value, new_smax);

	/* after a sign extension: upper bits all ones or all zeros, and a non-negative low half */
	if (reg->s32_min_value >= 0 && reg->smin_value >= S32_MIN && reg->smax_value <= S32_MAX) {
		reg->smin_value = reg->s32_min_value;
		reg->smax_value = reg->s32_max_value;
		reg->umin_value = (__u64)reg->s32_min_value;
		reg->umax_value = (__u64)reg->s32_max_value;
		reg->var_off = tnum_intersect(reg->var_off, tnum_range((__u64)reg->smin_value, (__u64)reg->smax_value));
	}
}

static void __reg_deduce_bounds(struct vreg *reg)
{
	__reg32_deduce_bounds(reg);
	__reg64_deduce_bounds(reg);
	__reg_deduce_mixed_bounds(reg);
}

static void __reg_bound_offset(struct vreg *reg)
{
	struct tnum var64 = tnum_intersect(reg->var_off, tnum_range(reg->umin_value, reg->umax_value));
	struct tnum var32 = tnum_intersect(tnum_subreg(var64), tnum_range(reg->u32_min_value, reg->u32_max_value));
	reg->var_off = tnum_or(tnum_clear_subreg(var64), var32);
}

void reg_bounds_sync(struct vreg *reg)
{
	__update_reg_bounds(reg);
	__reg_deduce_bounds(reg);
	__reg_deduce_bounds(reg);
	__reg_deduce_bounds(reg);
	__reg_bound_offset(reg);
	__update_reg_bounds(reg);
}

int reg_bounds_sanity_check(struct venv *env, struct vreg *reg, const char *ctx)
{
	const char *msg = NULL;
	if (reg->umin_value > reg->umax_value || reg->smin_value > reg->smax_value ||
	    reg->u32_min_value > reg->u32_max_value || reg->s32_min_value > reg->s32_max_value) {
		msg = "range bounds violation";
	} else if (tnum_is_const(reg->var_off)) {
		__u64 u = reg->var_off.value;
		if (reg->umin_value != u || reg->umax_value != u || reg->smin_value != (__s64)u ||
		    reg->smax_value != (__s64)u)
			msg = "const tnum out of sync with range bounds";
	}
	if (!msg && tnum_subreg_is_const(reg->var_off)) {
		__u32 u = (__u32)reg->var_off.value;
		if (reg->u32_min_value != u || reg->u32_max_value != u || reg->s32_min_value != (__s32)u ||
		    reg->s32_max_value != (__s32)u)
			msg = "const subreg tnum out of sync with range bounds";
	}
	if (!msg)
		return 0;
	/* verifier_bug(): the kernel warns, logs and forgets the ranges (reached on dead paths only) */
	verbose(env, "verifier bug: REG INVARIANTS VIOLATION (%s): %s u64=[0x%llx, 0x%llx] s64=[0x%llx, 0x%llx] "
		"u32=[0x%x, 0x%x] s32=[0x%x, 0x%x] var_off=(0x%llx, 0x%llx)\n", ctx, msg,
		(unsigned long long)reg->umin_value, (unsigned long long)reg->umax_value,
		(unsigned long long)reg->smin_value, (unsigned long long)reg->smax_value, reg->u32_min_value,
		reg->u32_max_value, (__u32)reg->s32_min_value, (__u32)reg->s32_max_value,
		(unsigned long long)reg->var_off.value, (unsigned long long)reg->var_off.mask);
	__mark_reg_unbounded(reg);
	return 0;
}

int __mark_reg_s32_range(struct venv *env, struct vreg *reg, __s32 s32_min, __s32 s32_max)
{
	reg->s32_min_value = max_t(__s32, reg->s32_min_value, s32_min);
	reg->s32_max_value = min_t(__s32, reg->s32_max_value, s32_max);
	reg->smin_value = max_t(__s64, reg->smin_value, s32_min);
	reg->smax_value = min_t(__s64, reg->smax_value, s32_max);
	reg_bounds_sync(reg);
	return reg_bounds_sanity_check(env, reg, "s32_range");
}

static bool __reg32_bound_s64(__s32 a) { return a >= 0 && a <= S32_MAX; }

void __reg_assign_32_into_64(struct vreg *reg)
{
	reg->umin_value = reg->u32_min_value;
	reg->umax_value = reg->u32_max_value;
	if (__reg32_bound_s64(reg->s32_min_value) && __reg32_bound_s64(reg->s32_max_value)) {
		reg->smin_value = reg->s32_min_value;
		reg->smax_value = reg->s32_max_value;
	} else {
		reg->smin_value = 0;
		reg->smax_value = U32_MAX;
	}
}

void zext_32_to_64(struct vreg *reg)
{
	reg->var_off = tnum_subreg(reg->var_off);
	__reg_assign_32_into_64(reg);
}

static void set_sext64_default_val(struct vreg *reg, int size)
{
	if (size == 1) {
		reg->smin_value = reg->s32_min_value = S8_MIN_;
		reg->smax_value = reg->s32_max_value = S8_MAX_;
	} else if (size == 2) {
		reg->smin_value = reg->s32_min_value = S16_MIN_;
		reg->smax_value = reg->s32_max_value = S16_MAX_;
	} else {
		reg->smin_value = reg->s32_min_value = S32_MIN;
		reg->smax_value = reg->s32_max_value = S32_MAX;
	}
	reg->umin_value = reg->u32_min_value = 0;
	reg->umax_value = U64_MAX;
	reg->u32_max_value = U32_MAX;
	reg->var_off = tnum_unknown;
}

/* truncation to size bytes (a narrow load, a 32-bit move) */
void coerce_reg_to_size(struct vreg *reg, int size)
{
	__u64 mask;
	reg->var_off = tnum_cast(reg->var_off, (__u8)size);
	mask = size >= 8 ? U64_MAX : (1ull << (size * 8)) - 1;
	if ((reg->umin_value & ~mask) == (reg->umax_value & ~mask)) {
		reg->umin_value &= mask;
		reg->umax_value &= mask;
	} else {
		reg->umin_value = 0;
		reg->umax_value = mask;
	}
	reg->smin_value = (__s64)reg->umin_value;
	reg->smax_value = (__s64)reg->umax_value;
	/* narrower than 32 bits: the 32-bit bounds come back from the 64-bit ones */
	if (size < 4)
		__mark_reg32_unbounded(reg);
	reg_bounds_sync(reg);
}

void coerce_reg_to_size_sx(struct vreg *reg, int size)
{
	__s64 init_s64_max, init_s64_min, s64_max, s64_min, u64_cval;
	__u64 top_smax_value, top_smin_value;
	__u64 num_bits = (__u64)size * 8;

	if (tnum_is_const(reg->var_off)) {
		u64_cval = (__s64)reg->var_off.value;
		if (size == 1)
			reg->var_off = tnum_const((__u64)(__s64)(__s8)u64_cval);
		else if (size == 2)
			reg->var_off = tnum_const((__u64)(__s64)(__s16)u64_cval);
		else
			reg->var_off = tnum_const((__u64)(__s64)(__s32)u64_cval);
		u64_cval = (__s64)reg->var_off.value;
		reg->smax_value = reg->smin_value = u64_cval;
		reg->umax_value = reg->umin_value = (__u64)u64_cval;
		reg->s32_max_value = reg->s32_min_value = (__s32)u64_cval;
		reg->u32_max_value = reg->u32_min_value = (__u32)u64_cval;
		return;
	}

	/* a value already inside the narrower signed range is left as it is
	 * (Linux 6.18.44: (s16) of an s8-loaded register keeps [-128, 127]) */
	if (reg->smin_value >= -(1ll << (num_bits - 1)) && reg->smax_value <= (1ll << (num_bits - 1)) - 1)
		return;

	top_smax_value = ((__u64)reg->smax_value >> num_bits) << num_bits;
	top_smin_value = ((__u64)reg->smin_value >> num_bits) << num_bits;
	if (top_smax_value != top_smin_value)
		goto out;

	/* find the s64_min and s64_min after sign extension */
	if (size == 1) {
		init_s64_max = (__s8)reg->smax_value;
		init_s64_min = (__s8)reg->smin_value;
	} else if (size == 2) {
		init_s64_max = (__s16)reg->smax_value;
		init_s64_min = (__s16)reg->smin_value;
	} else {
		init_s64_max = (__s32)reg->smax_value;
		init_s64_min = (__s32)reg->smin_value;
	}
	s64_max = init_s64_max > init_s64_min ? init_s64_max : init_s64_min;
	s64_min = init_s64_max < init_s64_min ? init_s64_max : init_s64_min;

	/* both of s64_max/s64_min positive or negative */
	if ((s64_max >= 0) == (s64_min >= 0)) {
		reg->s32_min_value = reg->smin_value = s64_min;
		reg->s32_max_value = reg->smax_value = s64_max;
		reg->u32_min_value = reg->umin_value = (__u64)s64_min;
		reg->u32_max_value = reg->umax_value = (__u64)s64_max;
		reg->var_off = tnum_range((__u64)s64_min, (__u64)s64_max);
		return;
	}
out:
	set_sext64_default_val(reg, size);
}

static void set_sext32_default_val(struct vreg *reg, int size)
{
	if (size == 1) {
		reg->s32_min_value = S8_MIN_;
		reg->s32_max_value = S8_MAX_;
	} else {
		reg->s32_min_value = S16_MIN_;
		reg->s32_max_value = S16_MAX_;
	}
	reg->u32_min_value = 0;
	reg->u32_max_value = U32_MAX;
	reg->var_off = tnum_subreg(tnum_unknown);
}

void coerce_subreg_to_size_sx(struct vreg *reg, int size)
{
	__s32 init_s32_max, init_s32_min, s32_max, s32_min, u32_val;
	__u32 top_smax_value, top_smin_value;
	__u32 num_bits = (__u32)size * 8;

	if (tnum_is_const(reg->var_off)) {
		u32_val = (__s32)reg->var_off.value;
		if (size == 1)
			reg->var_off = tnum_const((__u32)(__s32)(__s8)u32_val);
		else
			reg->var_off = tnum_const((__u32)(__s32)(__s16)u32_val);
		u32_val = (__s32)reg->var_off.value;
		reg->s32_min_value = reg->s32_max_value = u32_val;
		reg->u32_min_value = reg->u32_max_value = (__u32)u32_val;
		return;
	}

	top_smax_value = ((__u32)reg->s32_max_value >> num_bits) << num_bits;
	top_smin_value = ((__u32)reg->s32_min_value >> num_bits) << num_bits;
	if (top_smax_value != top_smin_value)
		goto out;

	if (size == 1) {
		init_s32_max = (__s8)reg->s32_max_value;
		init_s32_min = (__s8)reg->s32_min_value;
	} else {
		init_s32_max = (__s16)reg->s32_max_value;
		init_s32_min = (__s16)reg->s32_min_value;
	}
	s32_max = init_s32_max > init_s32_min ? init_s32_max : init_s32_min;
	s32_min = init_s32_max < init_s32_min ? init_s32_max : init_s32_min;

	if ((s32_min >= 0) == (s32_max >= 0)) {
		reg->s32_min_value = s32_min;
		reg->s32_max_value = s32_max;
		reg->u32_min_value = (__u32)s32_min;
		reg->u32_max_value = (__u32)s32_max;
		reg->var_off = tnum_subreg(tnum_range((__u32)s32_min, (__u32)s32_max));
		return;
	}
out:
	set_sext32_default_val(reg, size);
}

bool register_is_null(const struct vreg *reg)
{
	return reg->type == SCALAR_VALUE && tnum_equals_const(reg->var_off, 0);
}

bool is_reg_const(const struct vreg *reg, bool subreg32)
{
	return reg->type == SCALAR_VALUE &&
	       (subreg32 ? tnum_subreg_is_const(reg->var_off) : tnum_is_const(reg->var_off));
}

__u64 reg_const_value(const struct vreg *reg, bool subreg32)
{
	return subreg32 ? tnum_subreg(reg->var_off).value : reg->var_off.value;
}

/* ---- scalar ALU (adjust_scalar_min_max_vals) ---- */

static bool add_ovf_s64(__s64 a, __s64 b, __s64 *r) { return __builtin_add_overflow(a, b, r); }
static bool add_ovf_u64(__u64 a, __u64 b, __u64 *r) { return __builtin_add_overflow(a, b, r); }
static bool sub_ovf_s64(__s64 a, __s64 b, __s64 *r) { return __builtin_sub_overflow(a, b, r); }
static bool sub_ovf_u64(__u64 a, __u64 b, __u64 *r) { return __builtin_sub_overflow(a, b, r); }

static void scalar32_min_max_add(struct vreg *dst, const struct vreg *src)
{
	__s32 smin = dst->s32_min_value, smax = dst->s32_max_value;
	__u32 umin = dst->u32_min_value, umax = dst->u32_max_value;
	if (__builtin_add_overflow(smin, src->s32_min_value, &dst->s32_min_value) ||
	    __builtin_add_overflow(smax, src->s32_max_value, &dst->s32_max_value)) {
		dst->s32_min_value = S32_MIN;
		dst->s32_max_value = S32_MAX;
	}
	/* all sums overflow or none does: the ends move together */
	bool min_ovf = __builtin_add_overflow(umin, src->u32_min_value, &dst->u32_min_value);
	bool max_ovf = __builtin_add_overflow(umax, src->u32_max_value, &dst->u32_max_value);
	if (!min_ovf && max_ovf) {
		dst->u32_min_value = 0;
		dst->u32_max_value = U32_MAX;
	}
}

static void scalar_min_max_add(struct vreg *dst, const struct vreg *src)
{
	__s64 smin = dst->smin_value, smax = dst->smax_value;
	__u64 umin = dst->umin_value, umax = dst->umax_value;
	if (add_ovf_s64(smin, src->smin_value, &dst->smin_value) || add_ovf_s64(smax, src->smax_value, &dst->smax_value)) {
		dst->smin_value = S64_MIN;
		dst->smax_value = S64_MAX;
	}
	bool min_ovf = add_ovf_u64(umin, src->umin_value, &dst->umin_value);
	bool max_ovf = add_ovf_u64(umax, src->umax_value, &dst->umax_value);
	if (!min_ovf && max_ovf) {
		dst->umin_value = 0;
		dst->umax_value = U64_MAX;
	}
}

static void scalar32_min_max_sub(struct vreg *dst, const struct vreg *src)
{
	__s32 smin = dst->s32_min_value, smax = dst->s32_max_value;
	__u32 umin = dst->u32_min_value, umax = dst->u32_max_value;
	if (__builtin_sub_overflow(smin, src->s32_max_value, &dst->s32_min_value) ||
	    __builtin_sub_overflow(smax, src->s32_min_value, &dst->s32_max_value)) {
		dst->s32_min_value = S32_MIN;
		dst->s32_max_value = S32_MAX;
	}
	bool min_unf = __builtin_sub_overflow(umin, src->u32_max_value, &dst->u32_min_value);
	bool max_unf = __builtin_sub_overflow(umax, src->u32_min_value, &dst->u32_max_value);
	if (min_unf && !max_unf) {
		dst->u32_min_value = 0;
		dst->u32_max_value = U32_MAX;
	}
}

static void scalar_min_max_sub(struct vreg *dst, const struct vreg *src)
{
	__s64 smin = dst->smin_value, smax = dst->smax_value;
	__u64 umin = dst->umin_value, umax = dst->umax_value;
	if (sub_ovf_s64(smin, src->smax_value, &dst->smin_value) || sub_ovf_s64(smax, src->smin_value, &dst->smax_value)) {
		dst->smin_value = S64_MIN;
		dst->smax_value = S64_MAX;
	}
	bool min_unf = sub_ovf_u64(umin, src->umax_value, &dst->umin_value);
	bool max_unf = sub_ovf_u64(umax, src->umin_value, &dst->umax_value);
	if (min_unf && !max_unf) {
		dst->umin_value = 0;
		dst->umax_value = U64_MAX;
	}
}

static void scalar32_min_max_mul(struct vreg *dst, const struct vreg *src)
{
	__s32 p[4];
	__u32 umin = dst->u32_min_value, umax = dst->u32_max_value;
	if (__builtin_mul_overflow(umax, src->u32_max_value, &dst->u32_max_value) ||
	    __builtin_mul_overflow(umin, src->u32_min_value, &dst->u32_min_value)) {
		dst->u32_min_value = 0;
		dst->u32_max_value = U32_MAX;
	}
	if (__builtin_mul_overflow(dst->s32_min_value, src->s32_min_value, &p[0]) ||
	    __builtin_mul_overflow(dst->s32_min_value, src->s32_max_value, &p[1]) ||
	    __builtin_mul_overflow(dst->s32_max_value, src->s32_min_value, &p[2]) ||
	    __builtin_mul_overflow(dst->s32_max_value, src->s32_max_value, &p[3])) {
		dst->s32_min_value = S32_MIN;
		dst->s32_max_value = S32_MAX;
	} else {
		__s32 lo = p[0], hi = p[0];
		for (int i = 1; i < 4; i++) {
			lo = p[i] < lo ? p[i] : lo;
			hi = p[i] > hi ? p[i] : hi;
		}
		dst->s32_min_value = lo;
		dst->s32_max_value = hi;
	}
}

static void scalar_min_max_mul(struct vreg *dst, const struct vreg *src)
{
	__s64 p[4];
	__u64 umin = dst->umin_value, umax = dst->umax_value;
	if (__builtin_mul_overflow(umax, src->umax_value, &dst->umax_value) ||
	    __builtin_mul_overflow(umin, src->umin_value, &dst->umin_value)) {
		dst->umin_value = 0;
		dst->umax_value = U64_MAX;
	}
	if (__builtin_mul_overflow(dst->smin_value, src->smin_value, &p[0]) ||
	    __builtin_mul_overflow(dst->smin_value, src->smax_value, &p[1]) ||
	    __builtin_mul_overflow(dst->smax_value, src->smin_value, &p[2]) ||
	    __builtin_mul_overflow(dst->smax_value, src->smax_value, &p[3])) {
		dst->smin_value = S64_MIN;
		dst->smax_value = S64_MAX;
	} else {
		__s64 lo = p[0], hi = p[0];
		for (int i = 1; i < 4; i++) {
			lo = p[i] < lo ? p[i] : lo;
			hi = p[i] > hi ? p[i] : hi;
		}
		dst->smin_value = lo;
		dst->smax_value = hi;
	}
}

static void scalar32_min_max_and(struct vreg *dst, const struct vreg *src)
{
	bool src_known = tnum_subreg_is_const(src->var_off), dst_known = tnum_subreg_is_const(dst->var_off);
	struct tnum v = tnum_subreg(dst->var_off);
	__u32 umax_val = src->u32_max_value;
	if (src_known && dst_known) {
		__mark_reg32_known(dst, v.value);
		return;
	}
	dst->u32_min_value = (__u32)v.value;
	dst->u32_max_value = min_t(__u32, dst->u32_max_value, umax_val);
	if ((__s32)dst->u32_min_value <= (__s32)dst->u32_max_value) {
		dst->s32_min_value = (__s32)dst->u32_min_value;
		dst->s32_max_value = (__s32)dst->u32_max_value;
	} else {
		dst->s32_min_value = S32_MIN;
		dst->s32_max_value = S32_MAX;
	}
}

static void scalar_min_max_and(struct vreg *dst, const struct vreg *src)
{
	bool src_known = tnum_is_const(src->var_off), dst_known = tnum_is_const(dst->var_off);
	__u64 umax_val = src->umax_value;
	if (src_known && dst_known) {
		__mark_reg_known(dst, dst->var_off.value);
		return;
	}
	dst->umin_value = dst->var_off.value;
	dst->umax_value = min_t(__u64, dst->umax_value, umax_val);
	if ((__s64)dst->umin_value <= (__s64)dst->umax_value) {
		dst->smin_value = (__s64)dst->umin_value;
		dst->smax_value = (__s64)dst->umax_value;
	} else {
		dst->smin_value = S64_MIN;
		dst->smax_value = S64_MAX;
	}
	__update_reg_bounds(dst);
}

static void scalar32_min_max_or(struct vreg *dst, const struct vreg *src)
{
	bool src_known = tnum_subreg_is_const(src->var_off), dst_known = tnum_subreg_is_const(dst->var_off);
	struct tnum v = tnum_subreg(dst->var_off);
	__u32 umin_val = src->u32_min_value;
	if (src_known && dst_known) {
		__mark_reg32_known(dst, v.value);
		return;
	}
	dst->u32_min_value = max_t(__u32, dst->u32_min_value, umin_val);
	dst->u32_max_value = (__u32)(v.value | v.mask);
	if ((__s32)dst->u32_min_value <= (__s32)dst->u32_max_value) {
		dst->s32_min_value = (__s32)dst->u32_min_value;
		dst->s32_max_value = (__s32)dst->u32_max_value;
	} else {
		dst->s32_min_value = S32_MIN;
		dst->s32_max_value = S32_MAX;
	}
}

static void scalar_min_max_or(struct vreg *dst, const struct vreg *src)
{
	bool src_known = tnum_is_const(src->var_off), dst_known = tnum_is_const(dst->var_off);
	__u64 umin_val = src->umin_value;
	if (src_known && dst_known) {
		__mark_reg_known(dst, dst->var_off.value);
		return;
	}
	dst->umin_value = max_t(__u64, dst->umin_value, umin_val);
	dst->umax_value = dst->var_off.value | dst->var_off.mask;
	if ((__s64)dst->umin_value <= (__s64)dst->umax_value) {
		dst->smin_value = (__s64)dst->umin_value;
		dst->smax_value = (__s64)dst->umax_value;
	} else {
		dst->smin_value = S64_MIN;
		dst->smax_value = S64_MAX;
	}
	__update_reg_bounds(dst);
}

static void scalar32_min_max_xor(struct vreg *dst, const struct vreg *src)
{
	bool src_known = tnum_subreg_is_const(src->var_off), dst_known = tnum_subreg_is_const(dst->var_off);
	struct tnum v = tnum_subreg(dst->var_off);
	if (src_known && dst_known) {
		__mark_reg32_known(dst, v.value);
		return;
	}
	dst->u32_min_value = (__u32)v.value;
	dst->u32_max_value = (__u32)(v.value | v.mask);
	if ((__s32)dst->u32_min_value <= (__s32)dst->u32_max_value) {
		dst->s32_min_value = (__s32)dst->u32_min_value;
		dst->s32_max_value = (__s32)dst->u32_max_value;
	} else {
		dst->s32_min_value = S32_MIN;
		dst->s32_max_value = S32_MAX;
	}
}

static void scalar_min_max_xor(struct vreg *dst, const struct vreg *src)
{
	bool src_known = tnum_is_const(src->var_off), dst_known = tnum_is_const(dst->var_off);
	if (src_known && dst_known) {
		__mark_reg_known(dst, dst->var_off.value);
		return;
	}
	dst->umin_value = dst->var_off.value;
	dst->umax_value = dst->var_off.value | dst->var_off.mask;
	if ((__s64)dst->umin_value <= (__s64)dst->umax_value) {
		dst->smin_value = (__s64)dst->umin_value;
		dst->smax_value = (__s64)dst->umax_value;
	} else {
		dst->smin_value = S64_MIN;
		dst->smax_value = S64_MAX;
	}
	__update_reg_bounds(dst);
}

static void __scalar32_min_max_lsh(struct vreg *dst, __u64 umin_val, __u64 umax_val)
{
	dst->s32_min_value = S32_MIN;
	dst->s32_max_value = S32_MAX;
	if (umax_val > 31 || dst->u32_max_value > 1ull << (31 - umax_val)) {
		dst->u32_min_value = 0;
		dst->u32_max_value = U32_MAX;
	} else {
		dst->u32_min_value <<= umin_val;
		dst->u32_max_value <<= umax_val;
	}
}

static void scalar32_min_max_lsh(struct vreg *dst, const struct vreg *src)
{
	__u32 umax_val = src->u32_max_value, umin_val = src->u32_min_value;
	struct tnum subreg = tnum_subreg(dst->var_off);
	__scalar32_min_max_lsh(dst, umin_val, umax_val);
	dst->var_off = tnum_subreg(tnum_lshift(subreg, (__u8)umin_val));
	__mark_reg64_unbounded(dst);
	__update_reg32_bounds(dst);
}

static void __scalar64_min_max_lsh(struct vreg *dst, __u64 umin_val, __u64 umax_val)
{
	/* << 32 of a non-negative 32-bit range (the sign extension idiom "<<32 s>>32") stays known */
	if (umin_val == 32 && umax_val == 32 && dst->s32_max_value >= 0)
		dst->smax_value = (__s64)((__u64)(__s64)dst->s32_max_value << 32);
	else
		dst->smax_value = S64_MAX;
	if (umin_val == 32 && umax_val == 32 && dst->s32_min_value >= 0)
		dst->smin_value = (__s64)((__u64)(__s64)dst->s32_min_value << 32);
	else
		dst->smin_value = S64_MIN;
	if (dst->umax_value > 1ull << (63 - umax_val)) {
		dst->umin_value = 0;
		dst->umax_value = U64_MAX;
	} else {
		dst->umin_value <<= umin_val;
		dst->umax_value <<= umax_val;
	}
}

static void scalar_min_max_lsh(struct vreg *dst, const struct vreg *src)
{
	__u64 umax_val = src->umax_value, umin_val = src->umin_value;
	__scalar64_min_max_lsh(dst, umin_val, umax_val);
	__scalar32_min_max_lsh(dst, umin_val, umax_val);
	dst->var_off = tnum_lshift(dst->var_off, (__u8)umin_val);
	__update_reg_bounds(dst);
}

static void scalar32_min_max_rsh(struct vreg *dst, const struct vreg *src)
{
	struct tnum subreg = tnum_subreg(dst->var_off);
	__u32 umax_val = src->u32_max_value, umin_val = src->u32_min_value;
	dst->s32_min_value = S32_MIN;
	dst->s32_max_value = S32_MAX;
	dst->var_off = tnum_rshift(subreg, (__u8)umin_val);
	dst->u32_min_value >>= umax_val;
	dst->u32_max_value >>= umin_val;
	__mark_reg64_unbounded(dst);
	__update_reg32_bounds(dst);
}

static void scalar_min_max_rsh(struct vreg *dst, const struct vreg *src)
{
	__u64 umax_val = src->umax_value, umin_val = src->umin_value;
	dst->smin_value = S64_MIN;
	dst->smax_value = S64_MAX;
	dst->var_off = tnum_rshift(dst->var_off, (__u8)umin_val);
	dst->umin_value >>= umax_val;
	dst->umax_value >>= umin_val;
	__mark_reg32_unbounded(dst);
	__update_reg_bounds(dst);
}

static void scalar32_min_max_arsh(struct vreg *dst, const struct vreg *src)
{
	__u64 umin_val = src->u32_min_value;
	dst->s32_min_value = (__s32)(__u32)(dst->s32_min_value >> umin_val);
	dst->s32_max_value = (__s32)(__u32)(dst->s32_max_value >> umin_val);
	dst->var_off = tnum_arshift(tnum_subreg(dst->var_off), (__u8)umin_val, 32);
	dst->u32_min_value = 0;
	dst->u32_max_value = U32_MAX;
	__mark_reg64_unbounded(dst);
	__update_reg32_bounds(dst);
}

static void scalar_min_max_arsh(struct vreg *dst, const struct vreg *src)
{
	__u64 umin_val = src->umin_value;
	dst->smin_value >>= umin_val;
	dst->smax_value >>= umin_val;
	dst->var_off = tnum_arshift(dst->var_off, (__u8)umin_val, 64);
	dst->umin_value = 0;
	dst->umax_value = U64_MAX;
	__mark_reg32_unbounded(dst);
	__update_reg_bounds(dst);
}

bool is_safe_to_compute_dst_reg_range(const struct bpf_insn *insn, const struct vreg *src_reg)
{
	bool src_is_const = false;
	__u64 bitness = BPF_CLASS(insn->code) == BPF_ALU64 ? 64 : 32;

	if (bitness == 32) {
		if (tnum_subreg_is_const(src_reg->var_off) && src_reg->s32_min_value == src_reg->s32_max_value &&
		    src_reg->u32_min_value == src_reg->u32_max_value)
			src_is_const = true;
	} else {
		if (tnum_is_const(src_reg->var_off) && src_reg->smin_value == src_reg->smax_value &&
		    src_reg->umin_value == src_reg->umax_value)
			src_is_const = true;
	}
	switch (BPF_OP(insn->code)) {
	case BPF_ADD: case BPF_SUB: case BPF_NEG: case BPF_AND: case BPF_XOR: case BPF_OR: case BPF_MUL:
		return true;
	case BPF_LSH: case BPF_RSH: case BPF_ARSH:
		return src_is_const && src_reg->umax_value < bitness;
	default:
		return false;
	}
}

/* The caller checked is_safe_to_compute_dst_reg_range(); dst is a scalar. */
void scalar_alu(struct vreg *dst, const struct vreg *src_in, __u8 opcode, bool alu32)
{
	struct vreg src = *src_in, neg_src;
	switch (opcode) {
	case BPF_ADD:
		scalar32_min_max_add(dst, &src);
		scalar_min_max_add(dst, &src);
		dst->var_off = tnum_add(dst->var_off, src.var_off);
		break;
	case BPF_SUB:
		scalar32_min_max_sub(dst, &src);
		scalar_min_max_sub(dst, &src);
		dst->var_off = tnum_sub(dst->var_off, src.var_off);
		break;
	case BPF_NEG:
		neg_src = *dst;
		__mark_reg_known(dst, 0);
		scalar32_min_max_sub(dst, &neg_src);
		scalar_min_max_sub(dst, &neg_src);
		dst->var_off = tnum_neg(neg_src.var_off);
		break;
	case BPF_MUL:
		dst->var_off = tnum_mul(dst->var_off, src.var_off);
		scalar32_min_max_mul(dst, &src);
		scalar_min_max_mul(dst, &src);
		break;
	case BPF_AND:
		dst->var_off = tnum_and(dst->var_off, src.var_off);
		scalar32_min_max_and(dst, &src);
		scalar_min_max_and(dst, &src);
		break;
	case BPF_OR:
		dst->var_off = tnum_or(dst->var_off, src.var_off);
		scalar32_min_max_or(dst, &src);
		scalar_min_max_or(dst, &src);
		break;
	case BPF_XOR:
		dst->var_off = tnum_xor(dst->var_off, src.var_off);
		scalar32_min_max_xor(dst, &src);
		scalar_min_max_xor(dst, &src);
		break;
	case BPF_LSH:
		if (alu32)
			scalar32_min_max_lsh(dst, &src);
		else
			scalar_min_max_lsh(dst, &src);
		break;
	case BPF_RSH:
		if (alu32)
			scalar32_min_max_rsh(dst, &src);
		else
			scalar_min_max_rsh(dst, &src);
		break;
	case BPF_ARSH:
		if (alu32)
			scalar32_min_max_arsh(dst, &src);
		else
			scalar_min_max_arsh(dst, &src);
		break;
	default:
		break;
	}
	if (alu32)
		zext_32_to_64(dst);
	reg_bounds_sync(dst);
}

/* reg += k without the zero extension and sync (sync_linked_regs: a register linked with a delta) */
void scalar_add_const(struct vreg *reg, const struct vreg *k)
{
	scalar32_min_max_add(reg, k);
	scalar_min_max_add(reg, k);
	reg->var_off = tnum_add(reg->var_off, k->var_off);
}

/* ---- branches ---- */

bool reg_not_null(const struct vreg *reg)
{
	__u32 type = reg->type;
	if (type_may_be_null(type))
		return false;
	type = base_type(type);
	return type == PTR_TO_SOCKET || type == PTR_TO_TCP_SOCK || type == PTR_TO_MAP_VALUE || type == PTR_TO_MAP_KEY ||
	       type == PTR_TO_SOCK_COMMON || (type == PTR_TO_BTF_ID && (reg->type & PTR_TRUSTED)) ||
	       type == PTR_TO_MEM || type == PTR_TO_STACK || type == PTR_TO_CTX || type == PTR_TO_PACKET ||
	       type == PTR_TO_PACKET_META || type == PTR_TO_PACKET_END || type == PTR_TO_FLOW_KEYS ||
	       type == PTR_TO_XDP_SOCK || type == PTR_TO_FUNC || type == CONST_PTR_TO_MAP || type == PTR_TO_BUF;
}

bool reg_is_pkt_pointer(const struct vreg *reg)
{
	return base_type(reg->type) == PTR_TO_PACKET || base_type(reg->type) == PTR_TO_PACKET_META;
}

bool reg_is_pkt_pointer_any(const struct vreg *reg)
{
	return reg_is_pkt_pointer(reg) || reg->type == PTR_TO_PACKET_END;
}

static int is_scalar_branch_taken(struct vreg *reg1, struct vreg *reg2, __u8 opcode, bool is_jmp32)
{
	struct tnum t1 = is_jmp32 ? tnum_subreg(reg1->var_off) : reg1->var_off;
	struct tnum t2 = is_jmp32 ? tnum_subreg(reg2->var_off) : reg2->var_off;
	__u64 umin1 = is_jmp32 ? (__u64)reg1->u32_min_value : reg1->umin_value;
	__u64 umax1 = is_jmp32 ? (__u64)reg1->u32_max_value : reg1->umax_value;
	__s64 smin1 = is_jmp32 ? (__s64)reg1->s32_min_value : reg1->smin_value;
	__s64 smax1 = is_jmp32 ? (__s64)reg1->s32_max_value : reg1->smax_value;
	__u64 umin2 = is_jmp32 ? (__u64)reg2->u32_min_value : reg2->umin_value;
	__u64 umax2 = is_jmp32 ? (__u64)reg2->u32_max_value : reg2->umax_value;
	__s64 smin2 = is_jmp32 ? (__s64)reg2->s32_min_value : reg2->smin_value;
	__s64 smax2 = is_jmp32 ? (__s64)reg2->s32_max_value : reg2->smax_value;

	switch (opcode) {
	case BPF_JEQ:
		if (tnum_is_const(t1) && tnum_is_const(t2))
			return t1.value == t2.value;
		if (!tnum_overlap(t1, t2))
			return 0;
		if (umin1 > umax2 || umax1 < umin2)
			return 0;
		if (smin1 > smax2 || smax1 < smin2)
			return 0;
		if (!is_jmp32) {
			if (reg1->u32_min_value > reg2->u32_max_value || reg1->u32_max_value < reg2->u32_min_value)
				return 0;
			if (reg1->s32_min_value > reg2->s32_max_value || reg1->s32_max_value < reg2->s32_min_value)
				return 0;
		}
		break;
	case BPF_JNE:
		if (tnum_is_const(t1) && tnum_is_const(t2))
			return t1.value != t2.value;
		if (!tnum_overlap(t1, t2))
			return 1;
		if (umin1 > umax2 || umax1 < umin2)
			return 1;
		if (smin1 > smax2 || smax1 < smin2)
			return 1;
		if (!is_jmp32) {
			if (reg1->u32_min_value > reg2->u32_max_value || reg1->u32_max_value < reg2->u32_min_value)
				return 1;
			if (reg1->s32_min_value > reg2->s32_max_value || reg1->s32_max_value < reg2->s32_min_value)
				return 1;
		}
		break;
	case BPF_JSET:
		if (!is_reg_const(reg2, is_jmp32)) {
			struct vreg *r = reg1;
			struct tnum t = t1;
			reg1 = reg2;
			reg2 = r;
			t1 = t2;
			t2 = t;
		}
		if (!is_reg_const(reg2, is_jmp32))
			return -1;
		if ((~t1.mask & t1.value) & t2.value)
			return 1;
		if (!((t1.mask | t1.value) & t2.value))
			return 0;
		break;
	case BPF_JGT:
		if (umin1 > umax2)
			return 1;
		else if (umax1 <= umin2)
			return 0;
		break;
	case BPF_JSGT:
		if (smin1 > smax2)
			return 1;
		else if (smax1 <= smin2)
			return 0;
		break;
	case BPF_JLT:
		if (umax1 < umin2)
			return 1;
		else if (umin1 >= umax2)
			return 0;
		break;
	case BPF_JSLT:
		if (smax1 < smin2)
			return 1;
		else if (smin1 >= smax2)
			return 0;
		break;
	case BPF_JGE:
		if (umin1 >= umax2)
			return 1;
		else if (umax1 < umin2)
			return 0;
		break;
	case BPF_JSGE:
		if (smin1 >= smax2)
			return 1;
		else if (smax1 < smin2)
			return 0;
		break;
	case BPF_JLE:
		if (umax1 <= umin2)
			return 1;
		else if (umin1 > umax2)
			return 0;
		break;
	case BPF_JSLE:
		if (smax1 <= smin2)
			return 1;
		else if (smin1 > smax2)
			return 0;
		break;
	}
	return -1;
}

__u8 flip_opcode(__u32 opcode)
{
	static const __u8 flip[16] = {
		[BPF_JEQ >> 4] = BPF_JEQ, [BPF_JNE >> 4] = BPF_JNE, [BPF_JSET >> 4] = BPF_JSET,
		[BPF_JGE >> 4] = BPF_JLE, [BPF_JGT >> 4] = BPF_JLT, [BPF_JLE >> 4] = BPF_JGE, [BPF_JLT >> 4] = BPF_JGT,
		[BPF_JSGE >> 4] = BPF_JSLE, [BPF_JSGT >> 4] = BPF_JSLT, [BPF_JSLE >> 4] = BPF_JSGE,
		[BPF_JSLT >> 4] = BPF_JSGT,
	};
	return flip[(opcode >> 4) & 15];
}

#define BEYOND_PKT_END (-2)
#define AT_PKT_END (-1)

static int is_pkt_ptr_branch_taken(struct vreg *dst_reg, struct vreg *src_reg, __u8 opcode)
{
	struct vreg *pkt;
	if (src_reg->type == PTR_TO_PACKET_END) {
		pkt = dst_reg;
	} else if (dst_reg->type == PTR_TO_PACKET_END) {
		pkt = src_reg;
		opcode = flip_opcode(opcode);
	} else {
		return -1;
	}
	if (pkt->range >= 0)
		return -1;
	switch (opcode) {
	case BPF_JLE: case BPF_JGT:
		if (pkt->range == BEYOND_PKT_END)
			return opcode == BPF_JGT;
		break;
	case BPF_JLT: case BPF_JGE:
		if (pkt->range == BEYOND_PKT_END || pkt->range == AT_PKT_END)
			return opcode == BPF_JGE;
		break;
	}
	return -1;
}

static bool __is_pointer_value_any(const struct vreg *reg)
{
	return reg->type != SCALAR_VALUE;
}

int is_branch_taken(struct vreg *reg1, struct vreg *reg2, __u8 opcode, bool is_jmp32)
{
	if (reg_is_pkt_pointer_any(reg1) && reg_is_pkt_pointer_any(reg2) && !is_jmp32)
		return is_pkt_ptr_branch_taken(reg1, reg2, opcode);

	if (__is_pointer_value_any(reg1) || __is_pointer_value_any(reg2)) {
		/* the lower half of a valid pointer may be 0: Linux 6.18.44 walks both
		 * branches of a 32-bit comparison of a pointer */
		if (is_jmp32)
			return -1;
		if (!is_reg_const(reg2, is_jmp32)) {
			opcode = flip_opcode(opcode);
			struct vreg *r = reg1;
			reg1 = reg2;
			reg2 = r;
		}
		if (!is_reg_const(reg2, is_jmp32))
			return -1;
		if (!reg_not_null(reg1))
			return -1;
		if (reg_const_value(reg2, is_jmp32) != 0)
			return -1;
		switch (opcode) {
		case BPF_JEQ:
			return 0;
		case BPF_JNE:
			return 1;
		default:
			return -1;
		}
	}
	return is_scalar_branch_taken(reg1, reg2, opcode, is_jmp32);
}

static __u8 rev_opcode(__u8 opcode)
{
	switch (opcode) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JNE: return BPF_JEQ;
	case BPF_JSET: return BPF_JSET | BPF_X;
	case BPF_JSET | BPF_X: return BPF_JSET;
	case BPF_JGE: return BPF_JLT;
	case BPF_JGT: return BPF_JLE;
	case BPF_JLE: return BPF_JGT;
	case BPF_JLT: return BPF_JGE;
	case BPF_JSGE: return BPF_JSLT;
	case BPF_JSGT: return BPF_JSLE;
	case BPF_JSLE: return BPF_JSGT;
	case BPF_JSLT: return BPF_JSGE;
	default: return 0;
	}
}

static void regs_refine_cond_op(struct vreg *reg1, struct vreg *reg2, __u8 opcode, bool is_jmp32)
{
	struct tnum t;
	__u64 val;

	switch (opcode) {
	case BPF_JGE: case BPF_JGT: case BPF_JSGE: case BPF_JSGT: {
		opcode = flip_opcode(opcode);
		struct vreg *r = reg1;
		reg1 = reg2;
		reg2 = r;
		break;
	}
	default:
		break;
	}

	switch (opcode) {
	case BPF_JEQ:
		if (is_jmp32) {
			reg1->u32_min_value = max_t(__u32, reg1->u32_min_value, reg2->u32_min_value);
			reg1->u32_max_value = min_t(__u32, reg1->u32_max_value, reg2->u32_max_value);
			reg1->s32_min_value = max_t(__s32, reg1->s32_min_value, reg2->s32_min_value);
			reg1->s32_max_value = min_t(__s32, reg1->s32_max_value, reg2->s32_max_value);
			reg2->u32_min_value = reg1->u32_min_value;
			reg2->u32_max_value = reg1->u32_max_value;
			reg2->s32_min_value = reg1->s32_min_value;
			reg2->s32_max_value = reg1->s32_max_value;
			t = tnum_intersect(tnum_subreg(reg1->var_off), tnum_subreg(reg2->var_off));
			reg1->var_off = tnum_with_subreg(reg1->var_off, t);
			reg2->var_off = tnum_with_subreg(reg2->var_off, t);
		} else {
			reg1->umin_value = max_t(__u64, reg1->umin_value, reg2->umin_value);
			reg1->umax_value = min_t(__u64, reg1->umax_value, reg2->umax_value);
			reg1->smin_value = max_t(__s64, reg1->smin_value, reg2->smin_value);
			reg1->smax_value = min_t(__s64, reg1->smax_value, reg2->smax_value);
			reg2->umin_value = reg1->umin_value;
			reg2->umax_value = reg1->umax_value;
			reg2->smin_value = reg1->smin_value;
			reg2->smax_value = reg1->smax_value;
			reg1->var_off = tnum_intersect(reg1->var_off, reg2->var_off);
			reg2->var_off = reg1->var_off;
		}
		break;
	case BPF_JNE:
		if (!is_reg_const(reg2, is_jmp32)) {
			struct vreg *r = reg1;
			reg1 = reg2;
			reg2 = r;
		}
		if (!is_reg_const(reg2, is_jmp32))
			break;
		val = reg_const_value(reg2, is_jmp32);
		if (is_jmp32) {
			if (reg1->u32_min_value == (__u32)val)
				reg1->u32_min_value++;
			if (reg1->u32_max_value == (__u32)val)
				reg1->u32_max_value--;
			if (reg1->s32_min_value == (__s32)val)
				reg1->s32_min_value++;
			if (reg1->s32_max_value == (__s32)val)
				reg1->s32_max_value--;
		} else {
			if (reg1->umin_value == (__u64)val)
				reg1->umin_value++;
			if (reg1->umax_value == (__u64)val)
				reg1->umax_value--;
			if (reg1->smin_value == (__s64)val)
				reg1->smin_value++;
			if (reg1->smax_value == (__s64)val)
				reg1->smax_value--;
		}
		break;
	case BPF_JSET:
		if (!is_reg_const(reg2, is_jmp32)) {
			struct vreg *r = reg1;
			reg1 = reg2;
			reg2 = r;
		}
		if (!is_reg_const(reg2, is_jmp32))
			break;
		val = reg_const_value(reg2, is_jmp32);
		if (!val || (val & (val - 1)))
			break;
		if (is_jmp32) {
			t = tnum_or(tnum_subreg(reg1->var_off), tnum_const(val));
			reg1->var_off = tnum_with_subreg(reg1->var_off, t);
		} else {
			reg1->var_off = tnum_or(reg1->var_off, tnum_const(val));
		}
		break;
	case BPF_JSET | BPF_X:
		if (!is_reg_const(reg2, is_jmp32)) {
			struct vreg *r = reg1;
			reg1 = reg2;
			reg2 = r;
		}
		if (!is_reg_const(reg2, is_jmp32))
			break;
		val = reg_const_value(reg2, is_jmp32);
		/* forget the ranges before narrowing the tnum (no invariant violation on a dead branch) */
		__mark_reg_unbounded(reg1);
		if (is_jmp32) {
			t = tnum_and(tnum_subreg(reg1->var_off), tnum_const(~val));
			reg1->var_off = tnum_with_subreg(reg1->var_off, t);
		} else {
			reg1->var_off = tnum_and(reg1->var_off, tnum_const(~val));
		}
		break;
	case BPF_JLE:
		if (is_jmp32) {
			reg1->u32_max_value = min_t(__u32, reg1->u32_max_value, reg2->u32_max_value);
			reg2->u32_min_value = max_t(__u32, reg1->u32_min_value, reg2->u32_min_value);
		} else {
			reg1->umax_value = min_t(__u64, reg1->umax_value, reg2->umax_value);
			reg2->umin_value = max_t(__u64, reg1->umin_value, reg2->umin_value);
		}
		break;
	case BPF_JLT:
		if (is_jmp32) {
			reg1->u32_max_value = min_t(__u32, reg1->u32_max_value, reg2->u32_max_value - 1);
			reg2->u32_min_value = max_t(__u32, reg1->u32_min_value + 1, reg2->u32_min_value);
		} else {
			reg1->umax_value = min_t(__u64, reg1->umax_value, reg2->umax_value - 1);
			reg2->umin_value = max_t(__u64, reg1->umin_value + 1, reg2->umin_value);
		}
		break;
	case BPF_JSLE:
		if (is_jmp32) {
			reg1->s32_max_value = min_t(__s32, reg1->s32_max_value, reg2->s32_max_value);
			reg2->s32_min_value = max_t(__s32, reg1->s32_min_value, reg2->s32_min_value);
		} else {
			reg1->smax_value = min_t(__s64, reg1->smax_value, reg2->smax_value);
			reg2->smin_value = max_t(__s64, reg1->smin_value, reg2->smin_value);
		}
		break;
	case BPF_JSLT:
		if (is_jmp32) {
			reg1->s32_max_value = min_t(__s32, reg1->s32_max_value, reg2->s32_max_value - 1);
			reg2->s32_min_value = max_t(__s32, reg1->s32_min_value + 1, reg2->s32_min_value);
		} else {
			reg1->smax_value = min_t(__s64, reg1->smax_value, reg2->smax_value - 1);
			reg2->smin_value = max_t(__s64, reg1->smin_value + 1, reg2->smin_value);
		}
		break;
	default:
		return;
	}
}

int reg_set_min_max(struct venv *env, struct vreg *true_reg1, struct vreg *true_reg2, struct vreg *false_reg1,
		    struct vreg *false_reg2, __u8 opcode, bool is_jmp32)
{
	if (false_reg1->type != SCALAR_VALUE || false_reg2->type != SCALAR_VALUE)
		return 0;
	regs_refine_cond_op(false_reg1, false_reg2, rev_opcode(opcode), is_jmp32);
	reg_bounds_sync(false_reg1);
	reg_bounds_sync(false_reg2);
	regs_refine_cond_op(true_reg1, true_reg2, opcode, is_jmp32);
	reg_bounds_sync(true_reg1);
	reg_bounds_sync(true_reg2);
	int err = reg_bounds_sanity_check(env, true_reg1, "true_reg1");
	err = err ? err : reg_bounds_sanity_check(env, true_reg2, "true_reg2");
	err = err ? err : reg_bounds_sanity_check(env, false_reg1, "false_reg1");
	return err ? err : reg_bounds_sanity_check(env, false_reg2, "false_reg2");
}
