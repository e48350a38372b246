/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/log.c: the verifier log, as Linux 6.18 writes it.
 *
 * The log is a window of len_total bytes over everything written: with
 * BPF_LOG_FIXED the first bytes are kept, otherwise the last ones (a ring,
 * rotated into place at the end); a reset moves the end back (a level-1 log
 * forgets a path that passed). Register states print as the kernel prints
 * them: "R1=ctx() R2=fp-8 R3=scalar(smin=0,smax=umax=0xffffffff,...)".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../obj.h"
#include "env.h"

#define BPF_LOG_ALIGNMENT 40
#define BPF_LOG_MIN_ALIGNMENT 8

bool vlog_needed(const struct vlog *log)
{
	return log->level && log->buf;
}

static void vlog_write(struct vlog *log, const char *s, __u32 n)
{
	/* n does not count the terminating zero; the kernel's counts it */
	__u64 nz = (__u64)n + 1;
	__u64 len = log->end_pos + nz;
	if (len > log->len_max)
		log->len_max = len > UINT32_MAX ? UINT32_MAX : len;
	if (log->level & BPF_LOG_FIXED) {
		if (log->end_pos < log->len_total) {
			__u64 new_n = log->len_total - log->end_pos < nz ? log->len_total - log->end_pos : nz;
			memcpy(log->buf + log->end_pos, s, new_n - 1);
			log->buf[log->end_pos + new_n - 1] = '\0';
			if (log->end_pos + new_n > log->hi)
				log->hi = log->end_pos + new_n;
		}
		log->end_pos += n;
		return;
	}
	__u64 new_end = log->end_pos + nz;
	if (new_end - log->start_pos >= log->len_total)
		log->start_pos = new_end - log->len_total;
	/* bytes [new_end - nz, new_end) of the stream: s then '\0', the ring keeps the last len_total */
	for (__u64 p = new_end - nz < log->start_pos ? log->start_pos : new_end - nz; p < new_end; p++) {
		__u64 k = p - (new_end - nz);
		log->buf[p % log->len_total] = k < n ? s[k] : '\0';
	}
	log->end_pos = new_end - 1;
	__u64 hi = new_end < log->len_total ? new_end : log->len_total;
	if (hi > log->hi)
		log->hi = hi;
}

static void vverbose(struct venv *env, const char *fmt, va_list ap)
{
	char tmp[1024];
	if (!vlog_needed(&env->log))
		return;
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	vlog_write(&env->log, tmp, (__u32)n);
}

void verbose(struct venv *env, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vverbose(env, fmt, ap);
	va_end(ap);
}

void vlog_reset(struct vlog *log, __u64 new_pos)
{
	if (!vlog_needed(log) || new_pos > log->end_pos)
		return;
	log->end_pos = new_pos;
	if (log->end_pos < log->start_pos)
		log->start_pos = log->end_pos;
	__u64 pos = log->level & BPF_LOG_FIXED ? log->end_pos + 1 : new_pos % log->len_total;
	if (pos < log->len_total) {
		log->buf[pos] = '\0';
		if (pos + 1 > log->hi)
			log->hi = pos + 1;
	}
}

/* ---- line info ---- */

void verbose_linfo(struct venv *env, __u32 insn_off, const char *prefix_fmt, ...)
{
	if (!vlog_needed(&env->log) || !env->nr_linfo || insn_off >= env->len)
		return;
	/* the rightmost record at or before insn_off */
	int l = 0, r = (int)env->nr_linfo - 1;
	while (l < r) {
		int m = l + (r - l + 1) / 2;
		if (env->linfo[m].insn_off <= insn_off)
			l = m;
		else
			r = m - 1;
	}
	const struct bpf_line_info *li = &env->linfo[l], *prev = env->prev_linfo;
	if (li == prev)
		return;
	/* the same file and line again (another column): printed once */
	if (prev && li->file_name_off == prev->file_name_off &&
	    BPF_LINE_INFO_LINE_NUM(li->line_col) == BPF_LINE_INFO_LINE_NUM(prev->line_col))
		return;
	if (prefix_fmt) {
		va_list ap;
		va_start(ap, prefix_fmt);
		vverbose(env, prefix_fmt, ap);
		va_end(ap);
	}
	const char *s = vbtf_str(env, li->line_off);
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\v' || *s == '\f' || *s == '\r')
		s++;
	verbose(env, "%s", s);
	const char *fname = vbtf_str(env, li->file_name_off), *slash = strrchr(fname, '/');
	verbose(env, " @ %s:%u\n", slash ? slash + 1 : fname, BPF_LINE_INFO_LINE_NUM(li->line_col));
	env->prev_linfo = li;
}

/* ---- register state printing ---- */

const char *reg_type_str(struct venv *env, __u32 type)
{
	static const char *const str[] = {
		[NOT_INIT] = "?", [SCALAR_VALUE] = "scalar", [PTR_TO_CTX] = "ctx", [CONST_PTR_TO_MAP] = "map_ptr",
		[PTR_TO_MAP_VALUE] = "map_value", [PTR_TO_STACK] = "fp", [PTR_TO_PACKET] = "pkt",
		[PTR_TO_PACKET_META] = "pkt_meta", [PTR_TO_PACKET_END] = "pkt_end", [PTR_TO_FLOW_KEYS] = "flow_keys",
		[PTR_TO_SOCKET] = "sock", [PTR_TO_SOCK_COMMON] = "sock_common", [PTR_TO_TCP_SOCK] = "tcp_sock",
		[PTR_TO_TP_BUFFER] = "tp_buffer", [PTR_TO_XDP_SOCK] = "xdp_sock", [PTR_TO_BTF_ID] = "ptr_",
		[PTR_TO_MEM] = "mem", [PTR_TO_ARENA] = "arena", [PTR_TO_BUF] = "buf", [PTR_TO_FUNC] = "func",
		[PTR_TO_MAP_KEY] = "map_key", [CONST_PTR_TO_DYNPTR] = "dynptr_ptr",
	};
	const char *postfix = "";
	if (type & PTR_MAYBE_NULL)
		postfix = base_type(type) == PTR_TO_BTF_ID ? "or_null_" : "_or_null";
	__u32 b = base_type(type);
	snprintf(env->tmp_str_buf, sizeof(env->tmp_str_buf), "%s%s%s%s%s%s%s%s%s", type & MEM_RDONLY ? "rdonly_" : "",
		 type & MEM_RINGBUF ? "ringbuf_" : "", type & MEM_USER ? "user_" : "", type & MEM_PERCPU ? "percpu_" : "",
		 type & MEM_RCU ? "rcu_" : "", type & PTR_UNTRUSTED ? "untrusted_" : "",
		 type & PTR_TRUSTED ? "trusted_" : "", b < ARRAY_SIZE(str) && str[b] ? str[b] : "?", postfix);
	return env->tmp_str_buf;
}

#define VA(...) do { verbose(env, "%s", sep); verbose(env, __VA_ARGS__); sep = ","; } while (0)

static void verbose_unum(struct venv *env, __u64 num)
{
	if (num <= 0xffff)
		verbose(env, "%llu", (unsigned long long)num);
	else
		verbose(env, "%#llx", (unsigned long long)num);
}

static void verbose_snum(struct venv *env, __s64 num)
{
	if (num >= -32768 && num <= 32767)
		verbose(env, "%lld", (long long)num);
	else
		verbose(env, "%#llx", (unsigned long long)num);
}

static bool snum_dec(__s64 v) { return v >= -32768 && v <= 32767; }

static void print_scalar_ranges(struct venv *env, const struct vreg *reg, const char **sep)
{
	struct {
		const char *name;
		__u64 val;
		bool omit;
	} m[] = {
		{ "smin", (__u64)reg->smin_value, reg->smin_value == S64_MIN },
		{ "smax", (__u64)reg->smax_value, reg->smax_value == S64_MAX },
		{ "umin", reg->umin_value, reg->umin_value == 0 },
		{ "umax", reg->umax_value, reg->umax_value == U64_MAX },
		{ "smin32", snum_dec(reg->s32_min_value) ? (__u64)(__s64)reg->s32_min_value : (__u32)reg->s32_min_value,
		  reg->s32_min_value == S32_MIN },
		{ "smax32", snum_dec(reg->s32_max_value) ? (__u64)(__s64)reg->s32_max_value : (__u32)reg->s32_max_value,
		  reg->s32_max_value == S32_MAX },
		{ "umin32", reg->u32_min_value, reg->u32_min_value == 0 },
		{ "umax32", reg->u32_max_value, reg->u32_max_value == U32_MAX },
	};
	size_t n = ARRAY_SIZE(m);
	for (size_t a = 0; a < n; a++) {
		if (m[a].omit)
			continue;
		bool neg1 = m[a].name[0] == 's' && (__s64)m[a].val < 0;
		verbose(env, "%s%s=", *sep, m[a].name);
		*sep = ",";
		for (size_t b = a + 2; b < n; b += 2) {
			if (m[b].omit || m[b].val != m[a].val)
				continue;
			bool neg2 = m[b].name[0] == 's' && (__s64)m[b].val < 0;
			if (neg2 != neg1)
				continue;
			m[b].omit = true;
			verbose(env, "%s=", m[b].name);
		}
		if (m[a].name[0] == 's')
			verbose_snum(env, (__s64)m[a].val);
		else
			verbose_unum(env, m[a].val);
	}
}


static void print_reg_state(struct venv *env, const struct vfunc *state, const struct vreg *reg)
{
	__u32 t = reg->type;
	const char *sep = "";
	if (t == SCALAR_VALUE && reg->precise)
		verbose(env, "P");
	if (t == SCALAR_VALUE && tnum_is_const(reg->var_off)) {
		verbose_snum(env, (__s64)reg->var_off.value);
		return;
	}
	verbose(env, "%s", reg_type_str(env, t));
	if (t == PTR_TO_ARENA)
		return;
	if (t == PTR_TO_STACK) {
		if (state->frameno != reg->frameno)
			verbose(env, "[%d]", reg->frameno);
		if (tnum_is_const(reg->var_off)) {
			verbose_snum(env, (__s64)(reg->var_off.value + (__u64)(__s64)reg->off));
			return;
		}
	}
	if (base_type(t) == PTR_TO_BTF_ID)
		verbose(env, "%s", reg->btf ? kbtf_type_name(reg->btf, reg->btf_id) : "");
	verbose(env, "(");
	if (reg->id)
		VA("id=%d", reg->id & ~BPF_ADD_CONST);
	if (reg->id & BPF_ADD_CONST)
		verbose(env, "%+d", reg->off);
	if (reg->ref_obj_id)
		VA("ref_obj_id=%d", reg->ref_obj_id);
	if (type_flag(t) & NON_OWN_REF)
		VA("%s", "non_own_ref");
	if (base_type(t) == CONST_PTR_TO_MAP || base_type(t) == PTR_TO_MAP_KEY || base_type(t) == PTR_TO_MAP_VALUE) {
		if (reg->map_ptr->name[0])
			VA("map=%.16s", reg->map_ptr->name);
		VA("ks=%d,vs=%d", reg->map_ptr->key_size, reg->map_ptr->value_size);
	}
	if (t != SCALAR_VALUE && reg->off) {
		VA("off=");
		verbose_snum(env, reg->off);
	}
	if (base_type(t) == PTR_TO_PACKET || base_type(t) == PTR_TO_PACKET_META) {
		VA("r=");
		verbose_unum(env, (__u64)(__s64)reg->range);
	}
	if (base_type(t) == PTR_TO_MEM) {
		VA("sz=");
		verbose_unum(env, reg->mem_size);
	}
	if (t == CONST_PTR_TO_DYNPTR)
		VA("type=%s", "local");
	if (tnum_is_const(reg->var_off)) {
		if (reg->var_off.value) {
			VA("imm=");
			verbose_snum(env, (__s64)reg->var_off.value);
		}
	} else {
		print_scalar_ranges(env, reg, &sep);
		if (!tnum_is_unknown(reg->var_off)) {
			char tn[48];
			tnum_strn(tn, sizeof(tn), reg->var_off);
			VA("var_off=%s", tn);
		}
	}
	verbose(env, ")");
}

const char *dynptr_type_str(__u32 type)
{
	switch (type) {
	case 1: return "local";
	case 2: return "ringbuf";
	case 3: return "skb";
	case 4: return "xdp";
	case 5: return "skb_meta";
	case 0: return "<invalid>";
	default: return "<unknown>";
	}
}

static const char slot_type_char[] = { [STACK_INVALID] = '?', [STACK_SPILL] = 'r', [STACK_MISC] = 'm',
				       [STACK_ZERO] = '0', [STACK_DYNPTR] = 'd', [STACK_ITER] = 'i',
				       [STACK_IRQ_FLAG] = 'f' };

/* the kernel keeps one mark per register number and per stack slot, whatever the frame */
static bool reg_scratched(const struct venv *env, __u32 regno)
{
	return env->scratched_regs >> regno & 1;
}

static bool stack_slot_scratched(const struct venv *env, __u32 spi)
{
	return spi < 64 && (env->scratched_stack >> spi & 1);
}

void mark_reg_scratched(struct venv *env, __u32 regno)
{
	env->scratched_regs |= 1u << (regno & 31);
}

void mark_stack_slot_scratched(struct venv *env, __u32 spi)
{
	env->scratched_stack |= 1ull << (spi & 63);
}

void mark_verifier_state_scratched(struct venv *env)
{
	env->scratched_regs = ~0u;
	env->scratched_stack = ~0ull;
}

void mark_verifier_state_clean(struct venv *env)
{
	env->scratched_regs = 0;
	env->scratched_stack = 0;
}

bool verifier_state_scratched(const struct venv *env)
{
	return env->scratched_regs || env->scratched_stack;
}

void print_verifier_state(struct venv *env, const struct vstate *vs, __u32 frameno, bool print_all)
{
	const struct vfunc *state = vs->frame[frameno];
	if (state->frameno)
		verbose(env, " frame%d:", state->frameno);
	for (int i = 0; i < MAX_BPF_REG; i++) {
		const struct vreg *reg = &state->regs[i];
		if (reg->type == NOT_INIT)
			continue;
		if (!print_all && !reg_scratched(env, (__u32)i))
			continue;
		verbose(env, " R%d=", i);
		print_reg_state(env, state, reg);
	}
	for (int i = 0; i < state->allocated_stack / BPF_REG_SIZE; i++) {
		char types[BPF_REG_SIZE + 1];
		bool valid = false;
		if (!print_all && !stack_slot_scratched(env, (__u32)i))
			continue;
		for (int j = 0; j < BPF_REG_SIZE; j++) {
			__u8 st = state->stack[i].slot_type[j];
			if (st != STACK_INVALID)
				valid = true;
			types[j] = st < sizeof(slot_type_char) ? slot_type_char[st] : '?';
		}
		types[BPF_REG_SIZE] = 0;
		if (!valid)
			continue;
		const struct vreg *reg = &state->stack[i].spilled_ptr;
		switch (state->stack[i].slot_type[BPF_REG_SIZE - 1]) {
		case STACK_SPILL: {
			int j;
			for (j = 0; j < BPF_REG_SIZE; j++)
				if (state->stack[i].slot_type[j] == STACK_SPILL)
					break;
			types[j] = '\0';
			verbose(env, " fp%d=%s", (-i - 1) * BPF_REG_SIZE, types);
			print_reg_state(env, state, reg);
			break;
		}
		case STACK_ITER:
			/* only the first slot has the reference */
			if (!reg->ref_obj_id)
				continue;
			verbose(env, " fp%d=iter_%s(ref_id=%d,state=%s,depth=%u)", (-i - 1) * BPF_REG_SIZE,
				iter_type_str(reg->iter.btf, reg->iter.btf_id), reg->ref_obj_id,
				iter_state_str(reg->iter.state), (unsigned)reg->iter.depth);
			break;
		case STACK_DYNPTR: {
			const char *sep = "";
			i++;
			reg = &state->stack[i].spilled_ptr;
			verbose(env, " fp%d=dynptr_%s(", (-i - 1) * BPF_REG_SIZE, dynptr_type_str(reg->dynptr.type));
			if (reg->id)
				VA("id=%d", reg->id);
			if (reg->ref_obj_id)
				VA("ref_id=%d", reg->ref_obj_id);
			if (reg->dynptr_id)
				VA("dynptr_id=%d", reg->dynptr_id);
			verbose(env, ")");
			break;
		}
		default:
			verbose(env, " fp%d=%s", (-i - 1) * BPF_REG_SIZE, types);
			break;
		}
	}
	if (vs->acquired_refs && vs->refs[0].id) {
		verbose(env, " refs=%d", vs->refs[0].id);
		for (__u32 i = 1; i < vs->acquired_refs; i++)
			if (vs->refs[i].id)
				verbose(env, ",%d", vs->refs[i].id);
	}
	if (state->in_callback_fn)
		verbose(env, " cb");
	if (state->in_async_callback_fn)
		verbose(env, " async_cb");
	verbose(env, "\n");
	if (!print_all)
		mark_verifier_state_clean(env);
}

static __u32 vlog_alignment(__u32 pos)
{
	__u32 m = pos + BPF_LOG_MIN_ALIGNMENT / 2 > BPF_LOG_ALIGNMENT ? pos + BPF_LOG_MIN_ALIGNMENT / 2
								      : BPF_LOG_ALIGNMENT;
	return ((m + BPF_LOG_MIN_ALIGNMENT - 1) / BPF_LOG_MIN_ALIGNMENT) * BPF_LOG_MIN_ALIGNMENT - pos - 1;
}

void print_insn_state(struct venv *env, const struct vstate *vs, __u32 frameno)
{
	if (env->prev_log_pos && env->prev_log_pos == env->log.end_pos) {
		vlog_reset(&env->log, env->prev_log_pos - 1);
		verbose(env, "%*c;", (int)vlog_alignment((__u32)env->prev_insn_print_pos), ' ');
	} else {
		verbose(env, "%d:", env->insn_idx);
	}
	print_verifier_state(env, vs, frameno, false);
}

void verbose_insn(struct venv *env, const struct bpf_insn *insn)
{
	print_bpf_insn(env, insn, env->allow_ptr_leaks);
}

/* "-8,-16" for a mask of stack slots, "r1,r2" for registers */
void fmt_stack_mask(char *buf, size_t n, __u64 mask)
{
	size_t len = 0;
	bool first = true;
	buf[0] = '\0';
	for (int i = 0; i < 64 && len < n; i++)
		if (mask >> i & 1) {
			int w = snprintf(buf + len, n - len, "%s%d", first ? "" : ",", -(i + 1) * 8);
			if (w < 0)
				break;
			len += (size_t)w;
			first = false;
		}
}

void fmt_reg_mask(char *buf, size_t n, __u32 mask)
{
	size_t len = 0;
	bool first = true;
	buf[0] = '\0';
	for (int i = 0; i < 10 && len < n; i++)
		if (mask >> i & 1) {
			int w = snprintf(buf + len, n - len, "%sr%d", first ? "" : ",", i);
			if (w < 0)
				break;
			len += (size_t)w;
			first = false;
		}
}

/* the log's final shape (bpf_vlog_finalize): a ring rotated to start at the
 * oldest kept byte; *true_size is the size a buffer would need for all of it */
int vlog_finalize(struct vlog *log, __u32 *true_size)
{
	*true_size = 0;
	if (!log->level)
		return 0;
	if (log->buf && log->start_pos && !(log->level & BPF_LOG_FIXED)) {
		__u32 shift = (__u32)(log->start_pos % log->len_total);
		char *tmp = malloc(log->len_total);
		if (tmp) {
			memcpy(tmp, log->buf + shift, log->len_total - shift);
			memcpy(tmp + (log->len_total - shift), log->buf, shift);
			memcpy(log->buf, tmp, log->len_total);
			free(tmp);
		}
	}
	*true_size = (__u32)log->len_max;
	if (log->buf && log->len_max > log->len_total)
		return -ENOSPC;
	return 0;
}

/* "At program exit the register R0 has smin=... should have been in [0, 1]" */
void verbose_invalid_scalar(struct venv *env, const struct vreg *reg, struct retval_range range, const char *ctx,
			    const char *reg_name)
{
	bool unknown = true;
	verbose(env, "%s the register %s has", ctx, reg_name);
	if (reg->smin_value > S64_MIN) {
		verbose(env, " smin=%lld", (long long)reg->smin_value);
		unknown = false;
	}
	if (reg->smax_value < S64_MAX) {
		verbose(env, " smax=%lld", (long long)reg->smax_value);
		unknown = false;
	}
	if (unknown)
		verbose(env, " unknown scalar value");
	verbose(env, " should have been in [%d, %d]\n", range.minval, range.maxval);
}
