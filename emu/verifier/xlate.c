/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/xlate.c: the passes of Linux 6.18's bpf_check() that change
 * the instruction stream once a privileged load verified (the engine
 * answers as root, bpf_token_capable(CAP_SYS_ADMIN), so it always takes
 * that branch rather than sanitize_dead_code()'s):
 *
 *  1. a conditional jump one of whose successors no walked path reached
 *     becomes `ja` (to its target, or `ja 0` when only the fall-through was
 *     walked): opt_hard_wire_dead_code_branches();
 *  2. every run of instructions no path reached is cut out:
 *     opt_remove_dead_code();
 *  3. `ja 0` and `may_goto 0` are cut out, one at a time, looking again at
 *     the same place (and one before after a may_goto): opt_remove_nops().
 *
 * Each cut is the kernel's verifier_remove_insns(): the instructions move
 * up, jumps, pseudo calls and ld_imm64 of a function that cross the cut are
 * shortened (bpf_adj_branches()), a subprogram wholly inside it disappears
 * with its func_info record (adjust_subprog_starts_after_remove()), the
 * line_info records of cut instructions go, the last one moving to the first
 * instruction after the cut when that one has none of its own
 * (bpf_adj_linfo_after_remove()), and the per-instruction facts move with
 * their instructions. At the end func_info takes the subprograms' new starts
 * (adjust_btf_func()).
 */
#include <string.h>

#include "env.h"

static bool is_cond_jump(__u8 code)
{
	__u8 op = BPF_OP(code);
	if (BPF_CLASS(code) == BPF_JMP32)
		return op != BPF_JA;
	if (BPF_CLASS(code) != BPF_JMP)
		return false;
	return op != BPF_JA && op != BPF_EXIT && op != BPF_CALL;
}

/* a jump's distance at (new) index cur across the cut [off, off + cnt) */
static __s32 shorten(__s32 d, __u32 cur, __u32 off, __u32 cnt)
{
	__s64 to = (__s64)cur + d + 1;
	if (cur < off && to >= (__s64)off + cnt)
		return d - (__s32)cnt;
	if (cur >= off && to < (__s64)off)
		return d + (__s32)cnt;
	return d;
}

static void cut_branches(struct xlate *x, __u32 off, __u32 cnt)
{
	for (__u32 i = 0; i < x->len; i++) {
		struct bpf_insn *in = &x->insns[i];
		__u8 cls = BPF_CLASS(in->code);
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC) {
			in->imm = shorten(in->imm, i, off, cnt);
			continue;
		}
		if ((cls != BPF_JMP && cls != BPF_JMP32) || BPF_OP(in->code) == BPF_EXIT)
			continue;
		if (BPF_OP(in->code) == BPF_CALL) {
			if (in->src_reg == BPF_PSEUDO_CALL)
				in->imm = shorten(in->imm, i, off, cnt);
		} else if (in->code == (BPF_JMP32 | BPF_JA)) {
			in->imm = shorten(in->imm, i, off, cnt);
		} else {
			in->off = (__s16)shorten(in->off, i, off, cnt);
		}
	}
}

static void cut_subprogs(struct xlate *x, __u32 off, __u32 cnt)
{
	__u32 i = 0, j;
	while (i < x->nr_subprogs && x->start[i] < off)
		i++;
	for (j = i; j < x->nr_subprogs && x->start[j] < off + cnt; j++)
		;
	if (x->start[j] != off + cnt)
		j--;            /* only the front of the subprogram before j goes */
	if ((int)j > (int)i) {
		/* subprograms i..j-1 lie wholly in the cut (the end marker moves too) */
		memmove(x->start + i, x->start + j, (x->nr_subprogs + 1 - j) * sizeof(*x->start));
		x->nr_subprogs -= j - i;
		if (x->finfo && x->nr_finfo >= j) {
			memmove(x->finfo + i, x->finfo + j, (x->nr_finfo - j) * sizeof(*x->finfo));
			x->nr_finfo -= j - i;
		}
	} else if (x->start[i] == off) {
		i++;            /* the subprogram keeps its start, its front is cut */
	}
	for (; i <= x->nr_subprogs; i++)
		x->start[i] -= cnt;
}

static void cut_linfo(struct xlate *x, __u32 off, __u32 cnt)
{
	struct bpf_line_info *l = x->linfo;
	__u32 n = x->nr_linfo, i, first, gone = 0;
	if (!n)
		return;
	for (i = 0; i < n && l[i].insn_off < off; i++)
		;
	first = i;
	for (; i < n && l[i].insn_off < off + cnt; i++)
		gone++;
	/* the first instruction after the cut has no record of its own: it
	 * inherits the last cut one (unless nothing follows the cut) */
	if (x->len != off && gone && (i == n || l[i].insn_off != off + cnt)) {
		gone--;
		l[--i].insn_off = off + cnt;
	}
	if (gone) {
		memmove(l + first, l + i, (n - i) * sizeof(*l));
		x->nr_linfo = n -= gone;
	}
	for (i = first; i < n; i++)
		l[i].insn_off -= cnt;
}

static void cut(struct xlate *x, __u32 off, __u32 cnt)
{
	__u32 old = x->len;
	memmove(x->insns + off, x->insns + off + cnt, (old - off - cnt) * sizeof(*x->insns));
	x->len = old - cnt;
	cut_branches(x, off, cnt);
	cut_subprogs(x, off, cnt);
	cut_linfo(x, off, cnt);
	memmove(x->aux + off, x->aux + off + cnt, (old - off - cnt) * sizeof(*x->aux));
}

void xlate_dead_code(struct xlate *x)
{
	/* opt_hard_wire_dead_code_branches() */
	for (__u32 i = 0; i + 1 < x->len; i++) {
		struct bpf_insn *in = &x->insns[i];
		if (!is_cond_jump(in->code))
			continue;
		__s64 to = (__s64)i + 1 + in->off;
		__s16 off;
		if (!x->aux[i + 1].seen)
			off = in->off;
		else if (to >= 0 && to < x->len && !x->aux[to].seen)
			off = 0;
		else
			continue;
		*in = (struct bpf_insn){ .code = BPF_JMP | BPF_JA, .off = off };
	}
	/* opt_remove_dead_code() */
	for (__u32 i = 0; i < x->len; i++) {
		__u32 j = 0;
		while (i + j < x->len && !x->aux[i + j].seen)
			j++;
		if (j)
			cut(x, i, j);
	}
	/* opt_remove_nops() */
	static const struct bpf_insn nop = { .code = BPF_JMP | BPF_JA };
	static const struct bpf_insn may_goto_0 = { .code = BPF_JMP | BPF_JCOND };
	for (int i = 0; i < (int)x->len; i++) {
		bool mg = !memcmp(&x->insns[i], &may_goto_0, sizeof(may_goto_0));
		if (!mg && memcmp(&x->insns[i], &nop, sizeof(nop)))
			continue;
		cut(x, (__u32)i, 1);
		i -= mg && i > 0 ? 2 : 1;       /* may_goto +1; may_goto +0 */
	}
	/* adjust_btf_func() */
	if (x->finfo)
		for (__u32 k = 0; k < x->nr_subprogs && k < x->nr_finfo; k++)
			x->finfo[k].insn_off = x->start[k];
}
