/* SPDX-License-Identifier: MIT */
/* emu/verifier/tnum.c: tristate number arithmetic (see tnum.h). */
#include <stdio.h>

#include "tnum.h"

static int fls64(__u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* the smallest tnum holding every value of [min, max]: the bits above the
 * highest one where min and max differ are known */
struct tnum tnum_range(__u64 min, __u64 max)
{
	int bits = fls64(min ^ max);
	if (bits > 63)
		return tnum_unknown;
	__u64 delta = (1ull << bits) - 1;
	return TNUM(min & ~delta, delta);
}

struct tnum tnum_lshift(struct tnum a, __u8 shift) { return TNUM(a.value << shift, a.mask << shift); }
struct tnum tnum_rshift(struct tnum a, __u8 shift) { return TNUM(a.value >> shift, a.mask >> shift); }

/* the smallest shift moves an unknown sign bit the least: it bounds the rest */
struct tnum tnum_arshift(struct tnum a, __u8 min_shift, __u8 insn_bitness)
{
	if (insn_bitness == 32)
		return TNUM((__u32)((__s32)a.value >> min_shift), (__u32)((__s32)a.mask >> min_shift));
	return TNUM((__u64)((__s64)a.value >> min_shift), (__u64)((__s64)a.mask >> min_shift));
}

/* the carries the unknown bits can change are unknown too */
struct tnum tnum_add(struct tnum a, struct tnum b)
{
	__u64 sm = a.mask + b.mask, sv = a.value + b.value, sigma = sm + sv;
	__u64 chi = sigma ^ sv, mu = chi | a.mask | b.mask;
	return TNUM(sv & ~mu, mu);
}

struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	__u64 dv = a.value - b.value, alpha = dv + a.mask, beta = dv - b.mask;
	__u64 chi = alpha ^ beta, mu = chi | a.mask | b.mask;
	return TNUM(dv & ~mu, mu);
}

struct tnum tnum_neg(struct tnum a) { return tnum_sub(tnum_const(0), a); }

struct tnum tnum_and(struct tnum a, struct tnum b)
{
	__u64 alpha = a.value | a.mask, beta = b.value | b.mask, v = a.value & b.value;
	return TNUM(v, alpha & beta & ~v);
}

struct tnum tnum_or(struct tnum a, struct tnum b)
{
	__u64 v = a.value | b.value, mu = a.mask | b.mask;
	return TNUM(v, mu & ~v);
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	__u64 v = a.value ^ b.value, mu = a.mask | b.mask;
	return TNUM(v & ~mu, mu);
}

/* long multiplication over the bits of a: a known 1 adds b to the
 * accumulator, an unknown bit joins "added" and "not added" (tnum_union) */
struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	struct tnum acc = tnum_const(0);
	while (a.value || a.mask) {
		if (a.value & 1)
			acc = tnum_add(acc, b);
		else if (a.mask & 1)
			acc = tnum_union(acc, tnum_add(acc, b));
		a = tnum_rshift(a, 1);
		b = tnum_lshift(b, 1);
	}
	return acc;
}

/* some value both allow: they agree on the bits both know */
bool tnum_overlap(struct tnum a, struct tnum b)
{
	__u64 mu = ~a.mask & ~b.mask;
	return (a.value & mu) == (b.value & mu);
}

struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	__u64 v = a.value | b.value, mu = a.mask & b.mask;
	return TNUM(v & ~mu, mu);
}

struct tnum tnum_union(struct tnum a, struct tnum b)
{
	__u64 v = a.value & b.value, mu = a.mask | b.mask | (a.value ^ b.value);
	return TNUM(v & ~mu, mu);
}

struct tnum tnum_cast(struct tnum a, __u8 size)
{
	__u64 keep = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
	return TNUM(a.value & keep, a.mask & keep);
}

bool tnum_is_aligned(struct tnum a, __u64 size)
{
	return !size || !((a.value | a.mask) & (size - 1));
}

bool tnum_in(struct tnum a, struct tnum b)
{
	if (b.mask & ~a.mask)
		return false;
	b.value &= ~a.mask;
	return a.value == b.value;
}

/* the kernel's printf writes %#llx of 0 as "0x0": spelled out here */
int tnum_strn(char *str, size_t size, struct tnum a)
{
	if (a.mask == 0) {
		if (a.value <= 0xffff)
			return snprintf(str, size, "%llu", (unsigned long long)a.value);
		return snprintf(str, size, "0x%llx", (unsigned long long)a.value);
	}
	return snprintf(str, size, "(0x%llx; 0x%llx)", (unsigned long long)a.value, (unsigned long long)a.mask);
}
