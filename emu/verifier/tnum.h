/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/tnum.h: tristate numbers, the verifier's bit-level value
 * domain (the kernel's kernel/bpf/tnum.c semantics). A tnum is (value, mask):
 * bits set in mask are unknown, the others are those of value (value & mask
 * is always 0). Every operation is a pure function on these pairs.
 */
#ifndef BPFEMU_VERIFIER_TNUM_H
#define BPFEMU_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct tnum {
	__u64 value;
	__u64 mask;
};

#define TNUM(v, m) ((struct tnum){ .value = (v), .mask = (m) })
static const struct tnum tnum_unknown = { 0, ~0ull };

static inline struct tnum tnum_const(__u64 v) { return TNUM(v, 0); }
static inline bool tnum_is_const(struct tnum a) { return !a.mask; }
static inline bool tnum_equals_const(struct tnum a, __u64 b) { return tnum_is_const(a) && a.value == b; }
static inline bool tnum_is_unknown(struct tnum a) { return !~a.mask; }
static inline bool tnum_equals(struct tnum a, struct tnum b) { return a.value == b.value && a.mask == b.mask; }

struct tnum tnum_range(__u64 min, __u64 max);
struct tnum tnum_lshift(struct tnum a, __u8 shift);
struct tnum tnum_rshift(struct tnum a, __u8 shift);
struct tnum tnum_arshift(struct tnum a, __u8 min_shift, __u8 insn_bitness);
struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);
/* some value is allowed by both */
bool tnum_overlap(struct tnum a, struct tnum b);
/* both a and b hold: the bits either knows */
struct tnum tnum_intersect(struct tnum a, struct tnum b);
/* a or b holds */
struct tnum tnum_union(struct tnum a, struct tnum b);
/* the low size bytes */
struct tnum tnum_cast(struct tnum a, __u8 size);
bool tnum_is_aligned(struct tnum a, __u64 size);
/* every value b allows, a allows too */
bool tnum_in(struct tnum a, struct tnum b);
/* "(%#llx; %#llx)" */
int tnum_strn(char *str, size_t size, struct tnum a);

/* the 32-bit halves */
static inline struct tnum tnum_subreg(struct tnum a) { return tnum_cast(a, 4); }
static inline struct tnum tnum_clear_subreg(struct tnum a) { return tnum_lshift(tnum_rshift(a, 32), 32); }
static inline struct tnum tnum_with_subreg(struct tnum reg, struct tnum subreg)
{
	return tnum_or(tnum_clear_subreg(reg), tnum_subreg(subreg));
}
static inline struct tnum tnum_const_subreg(struct tnum a, __u32 v) { return tnum_with_subreg(a, tnum_const(v)); }
static inline bool tnum_subreg_is_const(struct tnum a) { return !(a.mask & 0xffffffffull); }
static inline bool tnum_subreg_equals_const(struct tnum a, __u32 b)
{
	return tnum_subreg_is_const(a) && (__u32)a.value == b;
}

#endif
