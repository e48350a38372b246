/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/decode.c: from the program object's instructions to the decoded
 * program (struct vm_prog), once per process.
 *
 * Steps: the functions (instruction 0, bpf-to-bpf call targets, callback
 * addresses); the loop heads (targets of backward jumps: a TICK is placed
 * before each, so every loop iteration counts against the run's time budget);
 * the load-time analysis; then one decoded instruction per BPF instruction
 * (ld_imm64 is one), plus the TICKs.
 *
 * The analysis (our own, path-insensitive, over basic blocks until nothing
 * changes) tracks what each register R0-R9 holds where every path agrees:
 * the frame pointer plus a constant, the context plus a constant, a map
 * handle, an array map's value plus a constant (direct value access: global
 * data), what bpf_map_lookup_elem() returned for a known map (a value of
 * that map, or NULL; after a comparison with 0, on the edge where it is not
 * NULL, a value plus a constant: the kernel's PTR_TO_MAP_VALUE), a
 * constant, and for XDP and tc programs the packet's data plus a
 * constant and its data_end (as loaded from the context). Each state also
 * knows how many bytes from data every path proved to be before data_end:
 * a jump comparing data + N with data_end proves N bytes on the edge where
 * data + N <= data_end (the kernel's find_good_pkt_pointers(), for constant
 * offsets only). A load or store through such a register whose whole
 * access lies in the current stack frame, in the context's fixed part (XDP,
 * skb), in the context bytes every run must provide (raw_tp, syscall:
 * max_ctx_offset), in the named array value, in a looked-up value (every
 * value a run obtained stays its region until the run ends), or in the
 * proven packet bytes,
 * with the access the region allows, needs no run-time check (the _F
 * operations). Anything else is checked at run time. Calls clobber R0-R5; a
 * bpf-to-bpf call keeps R6-R9. Every call (helpers may move the packet:
 * adjust_head, pull_data...) forgets what was known of the packet. Spills to
 * the stack are not followed (a filled register is unknown), so the analysis
 * never assumes what it has not seen.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vm_int.h"
#include "jit/jit.h"
#include "../helpers.h"
#include "../prog.h"

#define BPF_JCOND 0xe0
#define BPF_MEMSX 0x80
#define BPF_LOAD_ACQ 0x100
#define BPF_STORE_REL 0x110
#define PSEUDO_KFUNC_CALL 2
#define FUNC_TAIL_CALL 12

/* ---- abstract values ---- */
enum { A_UNK, A_FP, A_CTX, A_MAP, A_MAPVAL, A_CONST, A_PKT, A_PKT_END, A_VAL_OR_NULL, A_VAL };
struct aval {
	__u8 kind;
	__u8 pad;
	__u16 m;                       /* map index (A_MAP, A_MAPVAL, A_VAL_OR_NULL, A_VAL) */
	__s32 v;                       /* offset or constant */
};
struct astate {
	struct aval r[10];
	__u32 pkt;                     /* bytes from data proven before data_end */
	bool seen;
};

static const struct aval unk = { A_UNK, 0, 0, 0 };

static bool aval_eq(struct aval a, struct aval b)
{
	return a.kind == b.kind && (a.kind == A_UNK || (a.m == b.m && a.v == b.v));
}

/* Joins b into a; true if a changed. */
static bool join(struct astate *a, const struct astate *b)
{
	if (!a->seen) {
		*a = *b;
		a->seen = true;
		return true;
	}
	bool changed = false;
	for (int i = 0; i < 10; i++)
		if (!aval_eq(a->r[i], b->r[i]) && a->r[i].kind != A_UNK) {
			a->r[i] = unk;
			changed = true;
		}
	if (b->pkt < a->pkt) {
		a->pkt = b->pkt;
		changed = true;
	}
	return changed;
}

static struct aval reg_val(const struct astate *s, __u8 r)
{
	if (r == BPF_REG_10)
		return (struct aval){ A_FP, 0, 0, 0 };
	return r < 10 ? s->r[r] : unk;
}

static void set_reg(struct astate *s, __u8 r, struct aval v)
{
	if (r < 10)
		s->r[r] = v;
}

static struct aval add_off(struct aval a, __s64 d)
{
	if (a.kind == A_UNK || a.kind == A_MAP || a.kind == A_PKT_END || a.kind == A_VAL_OR_NULL)
		return unk;
	__s64 v = (__s64)a.v + d;
	if (v < -(1 << 24) || v > (1 << 24))
		return unk;
	a.v = (__s32)v;
	return a;
}

static bool is_ldimm64(const struct bpf_insn *in) { return in->code == (BPF_LD | BPF_IMM | BPF_DW); }

struct dctx {
	const struct bpf_insn *in;
	__u32 n;
	struct vm_prog *p;
	__u32 *map_idx;                /* ld_imm64 insn index -> map index + 1 */
	__u32 ctx_size;                /* the fixed ctx size (0: dynamic: raw_tp, syscall) */
	const unsigned char *ctx_wmask;
	bool ctx_all_w;
	__u32 max_ctx;
	__s32 pkt_data, pkt_end;       /* the ctx offsets of data and data_end (-1: no direct packet access) */
	bool lookup_native;            /* bpf_map_lookup_elem is bpfemu's (no user function stands in) */
};

/* A call: helpers may move the packet; nothing known of it holds any more. */
static void forget_pkt(struct astate *s)
{
	for (int r = 0; r < 10; r++)
		if (s->r[r].kind == A_PKT || s->r[r].kind == A_PKT_END)
			s->r[r] = unk;
	s->pkt = 0;
}

/* The abstract effect of instruction i on s. */
static void transfer(const struct dctx *d, __u32 i, struct astate *s)
{
	const struct bpf_insn *in = &d->in[i];
	__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

	switch (cls) {
	case BPF_ALU64:
		if (op == BPF_MOV && BPF_SRC(in->code) == BPF_K) {
			set_reg(s, in->dst_reg, (struct aval){ A_CONST, 0, 0, in->imm });
		} else if (op == BPF_MOV && BPF_SRC(in->code) == BPF_X && in->off == 0) {
			set_reg(s, in->dst_reg, reg_val(s, in->src_reg));
		} else if ((op == BPF_ADD || op == BPF_SUB) && BPF_SRC(in->code) == BPF_K) {
			set_reg(s, in->dst_reg, add_off(reg_val(s, in->dst_reg), op == BPF_ADD ? in->imm : -(__s64)in->imm));
		} else if ((op == BPF_ADD || op == BPF_SUB) && BPF_SRC(in->code) == BPF_X) {
			struct aval a = reg_val(s, in->dst_reg), b = reg_val(s, in->src_reg);
			struct aval r = unk;
			if (b.kind == A_CONST)
				r = add_off(a, op == BPF_ADD ? b.v : -(__s64)b.v);
			else if (op == BPF_ADD && a.kind == A_CONST)
				r = add_off(b, a.v);
			set_reg(s, in->dst_reg, r);
		} else {
			set_reg(s, in->dst_reg, unk);
		}
		break;
	case BPF_ALU:
		set_reg(s, in->dst_reg, unk);
		break;
	case BPF_LDX: {
		struct aval v = unk, b = reg_val(s, in->src_reg);
		if (d->pkt_data >= 0 && b.kind == A_CTX && in->code == (BPF_LDX | BPF_MEM | BPF_W)) {
			__s64 o = (__s64)b.v + in->off;
			if (o == d->pkt_data)
				v = (struct aval){ A_PKT, 0, 0, 0 };
			else if (o == d->pkt_end)
				v = (struct aval){ A_PKT_END, 0, 0, 0 };
		}
		set_reg(s, in->dst_reg, v);
		break;
	}
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			if (in->imm == BPF_CMPXCHG)
				set_reg(s, BPF_REG_0, unk);
			else if (in->imm == BPF_LOAD_ACQ)
				set_reg(s, in->dst_reg, unk);
			else if (in->imm & BPF_FETCH)
				set_reg(s, in->src_reg, unk);
		}
		break;
	case BPF_LD:
		if (is_ldimm64(in)) {
			struct aval v = unk;
			__u32 mi = d->map_idx[i];
			if (in->src_reg == BPF_PSEUDO_MAP_FD && mi)
				v = (struct aval){ A_MAP, 0, (__u16)(mi - 1), 0 };
			else if (in->src_reg == BPF_PSEUDO_MAP_VALUE && mi)
				v = (struct aval){ A_MAPVAL, 0, (__u16)(mi - 1), d->in[i + 1].imm };
			else if (in->src_reg == 0 && (__s64)(((__u64)(__u32)d->in[i + 1].imm << 32) | (__u32)in->imm) ==
							     (__s64)in->imm)
				v = (struct aval){ A_CONST, 0, 0, in->imm };
			set_reg(s, in->dst_reg, v);
		} else {                         /* LD_ABS / LD_IND: a call */
			for (int r = 0; r <= 5; r++)
				s->r[r] = unk;
			forget_pkt(s);
		}
		break;
	case BPF_JMP:
		if (op == BPF_CALL) {
			struct aval r1 = reg_val(s, BPF_REG_1);
			for (int r = 0; r <= 5; r++)
				s->r[r] = unk;
			forget_pkt(s);
			/* a value of a known map, or NULL (not map-in-map: its values are maps) */
			if (in->src_reg == 0 && in->imm == BPF_FUNC_map_lookup_elem && r1.kind == A_MAP && d->lookup_native) {
				__u32 t = d->p->maps[r1.m]->type;
				if (t != BPF_MAP_TYPE_ARRAY_OF_MAPS && t != BPF_MAP_TYPE_HASH_OF_MAPS)
					s->r[0] = (struct aval){ A_VAL_OR_NULL, 0, r1.m, 0 };
			}
		}
		break;
	default:
		break;
	}
}

/*
 * What a conditional jump at i proves on one of its edges (taken or not):
 * data + N compared with data_end (64-bit, unsigned, register operands).
 * The edge where data + N <= data_end holds proves N bytes.
 */
static void refine(const struct dctx *d, __u32 i, struct astate *s, bool taken)
{
	const struct bpf_insn *in = &d->in[i];
	if (BPF_CLASS(in->code) != BPF_JMP)
		return;
	if (BPF_SRC(in->code) == BPF_K) {
		/* a looked-up value compared with NULL: a value on the edge where it is not NULL */
		struct aval v = reg_val(s, in->dst_reg);
		__u8 jop = BPF_OP(in->code);
		if (v.kind == A_VAL_OR_NULL && in->imm == 0 && (jop == BPF_JEQ || jop == BPF_JNE))
			set_reg(s, in->dst_reg, taken == (jop == BPF_JNE) ? (struct aval){ A_VAL, 0, v.m, 0 }
									  : (struct aval){ A_CONST, 0, 0, 0 });
		return;
	}
	struct aval a = reg_val(s, in->dst_reg), b = reg_val(s, in->src_reg);
	__u8 op = BPF_OP(in->code);
	__s32 n;
	bool in_range_taken;             /* is "data + N <= data_end" the taken edge? */
	if (a.kind == A_PKT && b.kind == A_PKT_END) {
		n = a.v;
		if (op == BPF_JGT || op == BPF_JGE)          /* data + N > end: not taken */
			in_range_taken = false;
		else if (op == BPF_JLT || op == BPF_JLE)     /* data + N < end: taken */
			in_range_taken = true;
		else
			return;
	} else if (a.kind == A_PKT_END && b.kind == A_PKT) {
		n = b.v;
		if (op == BPF_JGT || op == BPF_JGE)          /* end > data + N: taken */
			in_range_taken = true;
		else if (op == BPF_JLT || op == BPF_JLE)     /* end < data + N: not taken */
			in_range_taken = false;
		else
			return;
	} else {
		return;
	}
	if (taken == in_range_taken && n > 0 && (__u32)n > s->pkt)
		s->pkt = (__u32)n;
}

static bool proofs_off;

void vm_decode_proofs(bool on)
{
	__atomic_store_n(&proofs_off, !on, __ATOMIC_RELAXED);
}

/* Is an access of size bytes at base + off, through a register holding b, safe by construction? */
static bool proven(struct dctx *d, const struct astate *s, struct aval b, __s16 off, __u32 size, bool write,
		   bool read)
{
	__s64 a = (__s64)b.v + off;
	if (__atomic_load_n(&proofs_off, __ATOMIC_RELAXED))
		return false;
	switch (b.kind) {
	case A_PKT:                       /* the packet region is readable and writable (XDP, tc) */
		return a >= 0 && a + size <= s->pkt;
	case A_FP:
		return a >= -(__s64)VM_STACK_SIZE && a + size <= 0;
	case A_CTX:
		if (a < 0 || a + size > 0xffff)
			return false;
		if (d->ctx_size && a + size > d->ctx_size)
			return false;
		if (write && !d->ctx_all_w) {
			if (!d->ctx_wmask)
				return false;
			for (__s64 k = a; k < a + (__s64)size; k++)
				if (!d->ctx_wmask[k])
					return false;
		}
		if ((__u32)(a + size) > d->max_ctx)
			d->max_ctx = (__u32)(a + size);
		return true;
	case A_VAL: {                    /* the region a lookup added: value_size bytes */
		const struct vm_map *m = d->p->maps[b.m];
		if ((write && !m->writable) || (read && !m->readable))
			return false;
		return a >= 0 && a + size <= m->value_size;
	}
	case A_MAPVAL: {
		const struct vm_map *m = d->p->maps[b.m];
		if (write && !m->writable)
			return false;
		if (read && !m->readable)
			return false;
		return m->values && a >= 0 && a + size <= m->value_size;
	}
	default:
		return false;
	}
}

static __u32 size_of(__u8 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

/* ---- the ctx each program type gets (the writable bytes of a fixed one) ---- */

static void ctx_shape(struct dctx *d, __u32 type)
{
	d->pkt_data = d->pkt_end = -1;
	switch (type) {
	case BPF_PROG_TYPE_XDP:
		d->ctx_size = sizeof(struct xdp_md);
		d->pkt_data = offsetof(struct xdp_md, data);
		d->pkt_end = offsetof(struct xdp_md, data_end);
		break;
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		d->ctx_size = sizeof(struct __sk_buff);
		d->ctx_wmask = vm_skb_wmask_tc;
		d->pkt_data = offsetof(struct __sk_buff, data);
		d->pkt_end = offsetof(struct __sk_buff, data_end);
		break;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		d->ctx_size = sizeof(struct __sk_buff);
		d->ctx_wmask = vm_skb_wmask_filter;
		break;
	case BPF_PROG_TYPE_CGROUP_SKB:
		d->ctx_size = sizeof(struct __sk_buff);
		d->ctx_wmask = vm_skb_wmask_cg;
		break;
	case BPF_PROG_TYPE_SYSCALL:
		d->ctx_all_w = true;
		break;
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
		d->ctx_size = sizeof(struct __sk_buff);
		break;
	case BPF_PROG_TYPE_SK_LOOKUP:
		d->ctx_size = sizeof(struct bpf_sk_lookup);
		break;
	case 32:                         /* BPF_PROG_TYPE_NETFILTER: struct bpf_nf_ctx */
		d->ctx_size = 16;
		break;
	case BPF_PROG_TYPE_TRACING:      /* the arguments and the return value (test_types.c's buffer) */
	case BPF_PROG_TYPE_STRUCT_OPS:
		d->ctx_size = 8 * 13;
		break;
	default:                         /* raw_tp and the rest: read-only, size given at run time */
		break;
	}
}

/* ---- emission ---- */

static int alu_op(__u8 code, int w64, int k, __s16 off)
{
	/* table over BPF_OP >> 4, for (w64, k) */
#define A4(n) { VM_OP_##n##32_X, VM_OP_##n##32_K, VM_OP_##n##64_X, VM_OP_##n##64_K }
	static const int ops[16][4] = {
		[BPF_ADD >> 4] = A4(ADD), [BPF_SUB >> 4] = A4(SUB), [BPF_MUL >> 4] = A4(MUL),
		[BPF_DIV >> 4] = A4(DIV), [BPF_OR >> 4] = A4(OR), [BPF_AND >> 4] = A4(AND),
		[BPF_LSH >> 4] = A4(LSH), [BPF_RSH >> 4] = A4(RSH), [BPF_MOD >> 4] = A4(MOD),
		[BPF_XOR >> 4] = A4(XOR), [BPF_MOV >> 4] = A4(MOV), [BPF_ARSH >> 4] = A4(ARSH),
	};
#undef A4
	int col = w64 * 2 + k;
	__u8 op = BPF_OP(code);
	if (op == BPF_DIV && off == 1)
		return (int[]){ VM_OP_SDIV32_X, VM_OP_SDIV32_K, VM_OP_SDIV64_X, VM_OP_SDIV64_K }[col];
	if (op == BPF_MOD && off == 1)
		return (int[]){ VM_OP_SMOD32_X, VM_OP_SMOD32_K, VM_OP_SMOD64_X, VM_OP_SMOD64_K }[col];
	return ops[op >> 4][col];
}

static int jmp_op(__u8 code, int w64, int k)
{
#define J4(n) { VM_OP_##n##32_X, VM_OP_##n##32_K, VM_OP_##n##64_X, VM_OP_##n##64_K }
	static const int ops[16][4] = {
		[BPF_JEQ >> 4] = J4(JEQ), [BPF_JGT >> 4] = J4(JGT), [BPF_JGE >> 4] = J4(JGE),
		[BPF_JSET >> 4] = J4(JSET), [BPF_JNE >> 4] = J4(JNE), [BPF_JSGT >> 4] = J4(JSGT),
		[BPF_JSGE >> 4] = J4(JSGE), [BPF_JLT >> 4] = J4(JLT), [BPF_JLE >> 4] = J4(JLE),
		[BPF_JSLT >> 4] = J4(JSLT), [BPF_JSLE >> 4] = J4(JSLE),
	};
#undef J4
	return ops[BPF_OP(code) >> 4][w64 * 2 + k];
}

static int mem_op(__u8 cls, __u8 mode, __u8 size, bool fast)
{
	static const int ldx[4][2] = {
		[BPF_B >> 3] = { VM_OP_LDX_B, VM_OP_LDX_B_F }, [BPF_H >> 3] = { VM_OP_LDX_H, VM_OP_LDX_H_F },
		[BPF_W >> 3] = { VM_OP_LDX_W, VM_OP_LDX_W_F }, [BPF_DW >> 3] = { VM_OP_LDX_DW, VM_OP_LDX_DW_F },
	};
	static const int ldxs[4][2] = {
		[BPF_B >> 3] = { VM_OP_LDXS_B, VM_OP_LDXS_B_F }, [BPF_H >> 3] = { VM_OP_LDXS_H, VM_OP_LDXS_H_F },
		[BPF_W >> 3] = { VM_OP_LDXS_W, VM_OP_LDXS_W_F }, [BPF_DW >> 3] = { VM_OP_FAULT, VM_OP_FAULT },
	};
	static const int st[4][2] = {
		[BPF_B >> 3] = { VM_OP_ST_B, VM_OP_ST_B_F }, [BPF_H >> 3] = { VM_OP_ST_H, VM_OP_ST_H_F },
		[BPF_W >> 3] = { VM_OP_ST_W, VM_OP_ST_W_F }, [BPF_DW >> 3] = { VM_OP_ST_DW, VM_OP_ST_DW_F },
	};
	static const int stx[4][2] = {
		[BPF_B >> 3] = { VM_OP_STX_B, VM_OP_STX_B_F }, [BPF_H >> 3] = { VM_OP_STX_H, VM_OP_STX_H_F },
		[BPF_W >> 3] = { VM_OP_STX_W, VM_OP_STX_W_F }, [BPF_DW >> 3] = { VM_OP_STX_DW, VM_OP_STX_DW_F },
	};
	int s = size >> 3;
	if (cls == BPF_LDX)
		return (mode == BPF_MEMSX ? ldxs : ldx)[s][fast];
	return (cls == BPF_ST ? st : stx)[s][fast];
}

static int atomic_op(__s32 imm, bool w64, __u8 size)
{
	static const int acq[4] = { [BPF_B >> 3] = VM_OP_LDACQ_B, [BPF_H >> 3] = VM_OP_LDACQ_H,
				    [BPF_W >> 3] = VM_OP_LDACQ_W, [BPF_DW >> 3] = VM_OP_LDACQ_DW };
	static const int rel[4] = { [BPF_B >> 3] = VM_OP_STREL_B, [BPF_H >> 3] = VM_OP_STREL_H,
				    [BPF_W >> 3] = VM_OP_STREL_W, [BPF_DW >> 3] = VM_OP_STREL_DW };
	switch (imm) {
	case BPF_LOAD_ACQ: return acq[size >> 3];
	case BPF_STORE_REL: return rel[size >> 3];
	case BPF_ADD: return w64 ? VM_OP_AADD64 : VM_OP_AADD32;
	case BPF_AND: return w64 ? VM_OP_AAND64 : VM_OP_AAND32;
	case BPF_OR: return w64 ? VM_OP_AOR64 : VM_OP_AOR32;
	case BPF_XOR: return w64 ? VM_OP_AXOR64 : VM_OP_AXOR32;
	case BPF_ADD | BPF_FETCH: return w64 ? VM_OP_AFADD64 : VM_OP_AFADD32;
	case BPF_AND | BPF_FETCH: return w64 ? VM_OP_AFAND64 : VM_OP_AFAND32;
	case BPF_OR | BPF_FETCH: return w64 ? VM_OP_AFOR64 : VM_OP_AFOR32;
	case BPF_XOR | BPF_FETCH: return w64 ? VM_OP_AFXOR64 : VM_OP_AFXOR32;
	case BPF_XCHG: return w64 ? VM_OP_AXCHG64 : VM_OP_AXCHG32;
	case BPF_CMPXCHG: return w64 ? VM_OP_ACMPXCHG64 : VM_OP_ACMPXCHG32;
	default: return VM_OP_FAULT;
	}
}

/* An instruction the VM cannot run: reaching it ends the run with err. */
static void set_fault_err(struct vm_insn *o, int err, const char *why)
{
	o->op = VM_OP_FAULT;
	o->imm = err;
	o->why = why;
}
/* what bpfemu does not emulate */
#define set_fault(o, why) set_fault_err(o, -EOPNOTSUPP, why)
/* what the kernel's verifier refuses */
#define set_bad(o, why) set_fault_err(o, -EINVAL, why)

/* Does instruction i write R10? (the kernel refuses it: "frame pointer is read only") */
static bool writes_r10(const struct bpf_insn *in)
{
	__u8 cls = BPF_CLASS(in->code);
	if (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX || (cls == BPF_LD && in->code == (BPF_LD | BPF_IMM | BPF_DW)))
		return in->dst_reg == BPF_REG_10;
	if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC) {
		if (in->imm == BPF_LOAD_ACQ)
			return in->dst_reg == BPF_REG_10;
		if (in->imm == BPF_XCHG || (in->imm & BPF_FETCH && in->imm != BPF_CMPXCHG))
			return in->src_reg == BPF_REG_10;
	}
	return false;
}

/* the value an ld_imm64 names directly: a region of every run of the program */
static void add_direct(struct vm_prog *p, struct vm_map *m)
{
	for (__u32 i = 0; i < p->nr_direct; i++)
		if (p->direct[i].map == m)
			return;
	struct vm_region *r = realloc(p->direct, (p->nr_direct + 1) * sizeof(*r));
	if (!r)
		return;               /* accesses through it will be refused: safe */
	p->direct = r;
	r[p->nr_direct++] = (struct vm_region){ .lo = (__u64)(uintptr_t)m->values, .len = m->value_size,
						.perm = (m->readable ? VM_RD : 0) | (m->writable ? VM_WR : 0),
						.kind = VM_R_MAPVAL, .map = m };
}

static int decode(struct vm_prog *p, const struct bpf_insn *in, __u32 n)
{
	struct dctx d = { .in = in, .n = n, .p = p };
	int err = -ENOMEM;
	__u32 *func_of = NULL, *dec = NULL, *block = NULL, *map_idx = NULL;
	bool *leader = NULL, *loop_head = NULL, *is_func = NULL;
	struct astate *bst = NULL;
	__u32 *work = NULL;

	map_idx = calloc(n, sizeof(*map_idx));
	leader = calloc(n + 1, sizeof(*leader));
	loop_head = calloc(n + 1, sizeof(*loop_head));
	is_func = calloc(n + 1, sizeof(*is_func));
	func_of = calloc(n, sizeof(*func_of));
	dec = calloc(n + 1, sizeof(*dec));
	block = calloc(n, sizeof(*block));
	p->maps = calloc(64, sizeof(*p->maps));
	if (!map_idx || !leader || !loop_head || !is_func || !func_of || !dec || !block || !p->maps)
		goto out;
	d.map_idx = map_idx;
	ctx_shape(&d, p->type);
	/* a user function's return value is not a map value the run registered */
	d.lookup_native = !vm_ffi_helper_replaced(BPF_FUNC_map_lookup_elem);

	/* functions, maps */
	is_func[0] = true;
	for (__u32 i = 0; i < n; i++) {
		const struct bpf_insn *x = &in[i];
		if (writes_r10(x) && !p->not_runnable) {
			p->not_runnable = "the program writes R10 (the kernel's verifier refuses it: frame pointer is read only)";
			p->not_runnable_insn = i;
		}
		if (x->code == (BPF_JMP | BPF_CALL) && x->src_reg == BPF_PSEUDO_CALL) {
			__s64 t = (__s64)i + x->imm + 1;
			if (t >= 0 && t < n)
				is_func[t] = true;
		}
		if (is_ldimm64(x) && i + 1 < n) {
			if (x->src_reg == BPF_PSEUDO_FUNC) {
				__s64 t = (__s64)i + x->imm + 1;
				if (t >= 0 && t < n)
					is_func[t] = true;
			}
			if (x->src_reg == BPF_PSEUDO_MAP_FD || x->src_reg == BPF_PSEUDO_MAP_VALUE) {
				int merr = 0;
				struct vm_map *m = vm_map_by_ref(p->obj, (__u32)x->imm, &merr);
				if (m) {
					__u32 k = 0;
					while (k < p->nr_maps && p->maps[k] != m)
						k++;
					if (k == p->nr_maps && p->nr_maps < 64)
						p->maps[p->nr_maps++] = m;    /* keeps the reference */
					else
						vm_map_put(m);                /* held already, or no room */
					if (k < p->nr_maps)
						map_idx[i] = k + 1;
				}
			}
			i++;
		}
	}
	__u32 nf = 0;
	for (__u32 i = 0; i < n; i++)
		nf += is_func[i];
	p->funcs = calloc(nf, sizeof(*p->funcs));
	if (!p->funcs)
		goto out;
	for (__u32 i = 0, f = 0; i < n; i++) {
		if (is_func[i])
			p->funcs[f++].start = i;
		func_of[i] = f - 1;
	}
	p->nr_funcs = nf;

	/* leaders (basic blocks) and loop heads */
	for (__u32 i = 0; i < n; i++) {
		const struct bpf_insn *x = &in[i];
		if (is_func[i])
			leader[i] = true;
		__u8 cls = BPF_CLASS(x->code);
		if (is_ldimm64(x)) {
			i++;
			continue;
		}
		if (cls != BPF_JMP && cls != BPF_JMP32)
			continue;
		__u8 op = BPF_OP(x->code);
		if (op == BPF_CALL) {
			if (x->src_reg == 0 && x->imm == FUNC_TAIL_CALL)
				leader[i + 1] = true;
			continue;
		}
		if (op == BPF_EXIT) {
			leader[i + 1] = true;
			continue;
		}
		__s64 t = (__s64)i + 1 + ((cls == BPF_JMP32 && op == BPF_JA) ? x->imm : x->off);
		if (t >= 0 && t < n) {
			leader[t] = true;
			if (t <= i)
				loop_head[t] = true;
		}
		leader[i + 1] = true;
	}

	/* blocks */
	__u32 nb = 0;
	for (__u32 i = 0; i < n; i++) {
		if (leader[i])
			nb++;
		block[i] = nb - 1;
	}
	bst = calloc(nb, sizeof(*bst));
	work = calloc(nb + 1, sizeof(*work));
	bool *queued = calloc(nb, sizeof(bool));
	__u32 *bstart = calloc(nb, sizeof(__u32));
	if (!bst || !work || !queued || !bstart) {
		free(queued);
		free(bstart);
		goto out;
	}
	for (__u32 i = 0; i < n; i++)
		if (leader[i])
			bstart[block[i]] = i;

	/* the analysis: function entries start unknown, the main one with R1 = ctx */
	__u32 wn = 0;
	for (__u32 f = 0; f < nf; f++) {
		struct astate s = { .seen = true };
		for (int r = 0; r < 10; r++)
			s.r[r] = unk;
		if (f == 0)
			s.r[1] = (struct aval){ A_CTX, 0, 0, 0 };
		__u32 b = block[p->funcs[f].start];
		join(&bst[b], &s);
		if (!queued[b]) {
			queued[b] = true;
			work[wn++] = b;
		}
	}
	while (wn) {
		__u32 b = work[--wn];
		queued[b] = false;
		struct astate s = bst[b];
		__u32 i = bstart[b];
		for (;;) {
			const struct bpf_insn *x = &in[i];
			__u8 cls = BPF_CLASS(x->code), op = BPF_OP(x->code);
			transfer(&d, i, &s);
			__u32 next = i + (is_ldimm64(x) ? 2 : 1);
			bool jmp = cls == BPF_JMP || cls == BPF_JMP32;
			__s64 succ[2];
			int ns = 0;
			if (jmp && op == BPF_EXIT) {
				ns = 0;
			} else if (jmp && op == BPF_JA) {
				succ[ns++] = (__s64)i + 1 + (cls == BPF_JMP32 ? x->imm : x->off);
			} else if (jmp && op != BPF_CALL) {
				succ[ns++] = (__s64)i + 1 + x->off;
				succ[ns++] = next;
			} else if (next < n && !leader[next]) {
				i = next;
				continue;
			} else {
				succ[ns++] = next;
			}
			for (int k = 0; k < ns; k++) {
				if (succ[k] < 0 || succ[k] >= n || func_of[succ[k]] != func_of[bstart[b]])
					continue;
				__u32 sb = block[succ[k]];
				struct astate e = s;
				if (ns == 2)                  /* a conditional jump: k 0 is taken */
					refine(&d, i, &e, k == 0);
				if (join(&bst[sb], &e) && !queued[sb]) {
					queued[sb] = true;
					work[wn++] = sb;
				}
			}
			break;
		}
	}
	free(queued);

	/* decoded positions: a TICK before each loop head */
	__u32 nd = 0;
	for (__u32 i = 0; i < n; i++) {
		if (loop_head[i])
			nd++;
		dec[i] = nd;
		nd++;
		if (is_ldimm64(&in[i]) && i + 1 < n) {
			dec[i + 1] = dec[i];
			i++;
		}
	}
	dec[n] = nd;
	p->insns = calloc(nd + 1, sizeof(*p->insns));
	if (!p->insns) {
		free(bstart);
		goto out;
	}
	p->nr_insns = nd;
	for (__u32 f = 0; f < nf; f++) {
		p->funcs[f].entry = &p->insns[dec[p->funcs[f].start]];
	}

	/* a jump to a loop head lands on its TICK */
#define JT(t) (&p->insns[dec[t] - (loop_head[t] ? 1 : 0)])
	struct astate s = { 0 };
	for (__u32 i = 0; i < n; i++) {
		const struct bpf_insn *x = &in[i];
		if (leader[i]) {
			s = bst[block[i]];
			if (!s.seen)
				for (int r = 0; r < 10; r++)
					s.r[r] = unk;
		}
		struct vm_insn *o = &p->insns[dec[i]];
		if (loop_head[i]) {
			o[-1].op = VM_OP_TICK;
			o[-1].idx = i;
		}
		__u8 cls = BPF_CLASS(x->code), op = BPF_OP(x->code);
		o->idx = i;
		o->dst = x->dst_reg;
		o->src = x->src_reg;
		o->off = x->off;
		o->imm = x->imm;
		o->k = (__u64)(__s64)x->imm;
		if (is_func[i])
			o->flags |= VM_I_ENTRY;
		if (o->dst > 10 || o->src > 10) {
			set_bad(o, "register number out of range");
			transfer(&d, i, &s);
			continue;
		}
		switch (cls) {
		case BPF_ALU:
		case BPF_ALU64: {
			int w64 = cls == BPF_ALU64, k = BPF_SRC(x->code) == BPF_K;
			if (op == BPF_NEG) {
				o->op = w64 ? VM_OP_NEG64 : VM_OP_NEG32;
			} else if (op == BPF_END) {
				static const int le[3] = { VM_OP_LE16, VM_OP_LE32, VM_OP_NOP };
				static const int be[3] = { VM_OP_BE16, VM_OP_BE32, VM_OP_BE64 };
				static const int sw[3] = { VM_OP_BSWAP16, VM_OP_BSWAP32, VM_OP_BSWAP64 };
				int wi = x->imm == 16 ? 0 : x->imm == 32 ? 1 : x->imm == 64 ? 2 : -1;
				if (wi < 0)
					set_bad(o, "byte swap of an unknown width");
				else
					o->op = w64 ? sw[wi] : k ? le[wi] : be[wi];
			} else if (op == BPF_MOV && !k && x->off && !(w64 && x->off == 1)) {
				int sx = x->off == 8 ? 0 : x->off == 16 ? 1 : x->off == 32 ? 2 : -1;
				if (sx < 0 || (!w64 && sx == 2))
					set_bad(o, "sign extension of an unknown width");
				else
					o->op = w64 ? (int[]){ VM_OP_MOVSX64_8, VM_OP_MOVSX64_16, VM_OP_MOVSX64_32 }[sx]
						    : (int[]){ VM_OP_MOVSX32_8, VM_OP_MOVSX32_16 }[sx];
			} else if (op == BPF_MOV && w64 && !k && x->off == 1) {
				set_fault(o, "arena address space casts are not emulated");
			} else if (op > BPF_ARSH) {
				set_bad(o, "unknown ALU operation");
			} else {
				o->op = (__u16)alu_op(x->code, w64, k, x->off);
				if (!w64)
					o->k = (__u32)x->imm;
				/* what the kernel's fixups make of constant divisors */
				if (k && (op == BPF_DIV || op == BPF_MOD) && (x->imm == 0 || (x->off == 1 && x->imm == -1))) {
					if (op == BPF_DIV && x->imm == 0) {
						o->op = w64 ? VM_OP_MOV64_K : VM_OP_MOV32_K;
						o->k = 0;
					} else if (op == BPF_MOD && x->imm == 0) {
						o->op = w64 ? VM_OP_NOP : VM_OP_MOV32_X;
						o->src = o->dst;
					} else if (op == BPF_DIV) {            /* sdiv by -1: negation */
						o->op = w64 ? VM_OP_NEG64 : VM_OP_NEG32;
					} else {                               /* smod by -1: 0 */
						o->op = w64 ? VM_OP_MOV64_K : VM_OP_MOV32_K;
						o->k = 0;
					}
				}
			}
			break;
		}
		case BPF_JMP:
		case BPF_JMP32: {
			if (op == BPF_EXIT) {
				o->op = VM_OP_EXIT;
			} else if (op == BPF_CALL) {
				if (x->src_reg == BPF_PSEUDO_CALL) {
					__s64 t = (__s64)i + x->imm + 1;
					if (t < 0 || t >= n) {
						set_bad(o, "call to invalid destination");
					} else {
						o->op = VM_OP_CALL_FUNC;
						o->target = &p->insns[dec[t]];
					}
				} else if (x->src_reg == PSEUDO_KFUNC_CALL) {
					vm_helper_fn fn;
					__u64 kk;
					const char *why = "kfuncs of kernel modules are not emulated";
					int e = x->off ? -EOPNOTSUPP : vm_ffi_kfunc(p, (__u32)x->imm, &fn, &kk, &why);
					if (e) {
						set_fault_err(o, e, why);
					} else {
						o->op = VM_OP_CALL;
						o->helper = fn;
						o->k = kk;
					}
				} else if (x->imm == FUNC_TAIL_CALL) {
					o->op = VM_OP_TAIL_CALL;
				} else {
					const struct vm_helper *h = vm_helper(x->imm);
					vm_helper_fn ufn;
					__u64 uk;
					int u = vm_ffi_helper(p, x->imm, vm_helper_sig(x->imm), &ufn, &uk);
					if (u < 0) {
						set_fault_err(o, u, "a user function whose prototype cannot be built");
					} else if (u == 0) {
						/* a user function stands in (BPFEMU_FUNCS): k is its binding */
						o->op = VM_OP_CALL;
						o->helper = ufn;
						o->k = uk;
					} else if (h && h->fn) {
						o->op = VM_OP_CALL;
						o->helper = h->fn;
						o->k = 0;
						if (reg_val(&s, BPF_REG_1).kind == A_MAP)
							o->flags |= VM_I_MAPARG;   /* the map goes into k below */
					} else {
						o->op = VM_OP_CALL_MISSING;
					}
				}
			} else if (op == BPF_JA) {
				__s64 t = (__s64)i + 1 + (cls == BPF_JMP32 ? x->imm : x->off);
				o->op = VM_OP_JA;
				o->target = t >= 0 && t < n ? JT(t) : NULL;
				if (!o->target)
					set_bad(o, "jump out of range");
			} else if (op == BPF_JCOND) {
				__s64 t = (__s64)i + 1 + x->off;
				o->op = VM_OP_MAY_GOTO;
				o->target = t >= 0 && t < n ? JT(t) : NULL;
				if (!o->target)
					set_bad(o, "jump out of range");
			} else {
				int w64 = cls == BPF_JMP, k = BPF_SRC(x->code) == BPF_K;
				__s64 t = (__s64)i + 1 + x->off;
				if (op > BPF_JSLE) {
					set_bad(o, "unknown jump");
				} else if (t < 0 || t >= n) {
					set_bad(o, "jump out of range");
				} else {
					o->op = (__u16)jmp_op(x->code, w64, k);
					o->target = JT(t);
					if (!w64)
						o->k = (__u32)x->imm;
				}
			}
			break;
		}
		case BPF_LD:
			if (is_ldimm64(x)) {
				__u64 v = ((__u64)(__u32)in[i + 1].imm << 32) | (__u32)x->imm;
				o->op = VM_OP_LDDW;
				o->k = v;
				switch (x->src_reg) {
				case 0:
					break;
				case BPF_PSEUDO_MAP_FD:
				case BPF_PSEUDO_MAP_VALUE: {
					struct vm_map *m = map_idx[i] ? p->maps[map_idx[i] - 1] : NULL;
					if (!m) {
						set_fault_err(o, -EBADF, "the map this ld_imm64 names is gone");
					} else if (x->src_reg == BPF_PSEUDO_MAP_FD) {
						o->k = (__u64)(uintptr_t)m;
						o->map = m;
					} else if (m->type != BPF_MAP_TYPE_ARRAY || m->max_entries != 1 || !m->values ||
						   (__u32)in[i + 1].imm >= m->value_size) {
						set_bad(o, "direct value access to this map is not allowed");
					} else {
						o->k = (__u64)(uintptr_t)(m->values + (__u32)in[i + 1].imm);
						o->map = m;
						add_direct(p, m);
					}
					break;
				}
				case BPF_PSEUDO_FUNC: {
					__s64 t = (__s64)i + x->imm + 1;
					if (t < 0 || t >= n) {
						set_bad(o, "function address out of range");
					} else {
						o->target = &p->insns[dec[t]];
						o->k = (__u64)(uintptr_t)o->target;
					}
					break;
				}
				case BPF_PSEUDO_BTF_ID:
					set_fault(o, "kernel symbols (ksym) are not emulated");
					break;
				default:
					set_fault(o, "maps named through fd_array are not emulated");
				}
			} else {
				int ind = BPF_MODE(x->code) == BPF_IND, sz = BPF_SIZE(x->code);
				if (BPF_MODE(x->code) != BPF_ABS && !ind)
					set_bad(o, "unknown load mode");
				else if (sz == BPF_B)
					o->op = ind ? VM_OP_LD_IND_B : VM_OP_LD_ABS_B;
				else if (sz == BPF_H)
					o->op = ind ? VM_OP_LD_IND_H : VM_OP_LD_ABS_H;
				else if (sz == BPF_W)
					o->op = ind ? VM_OP_LD_IND_W : VM_OP_LD_ABS_W;
				else
					set_bad(o, "unknown load size");
			}
			break;
		case BPF_LDX:
		case BPF_ST:
		case BPF_STX: {
			__u8 mode = BPF_MODE(x->code);
			__u32 size = size_of(x->code);
			if (cls == BPF_STX && mode == BPF_ATOMIC) {
				bool w64 = BPF_SIZE(x->code) == BPF_DW;
				o->op = (__u16)atomic_op(x->imm, w64, BPF_SIZE(x->code));
				if (o->op == VM_OP_FAULT) {
					set_bad(o, "unknown atomic operation");
				} else if (x->imm != BPF_LOAD_ACQ && x->imm != BPF_STORE_REL && size < 4) {
					set_bad(o, "atomic operation of an invalid size");
				} else {
					bool rd = x->imm != BPF_STORE_REL, wr = x->imm != BPF_LOAD_ACQ;
					__u8 base = x->imm == BPF_LOAD_ACQ ? x->src_reg : x->dst_reg;
					if (proven(&d, &s, reg_val(&s, base), x->off, size, wr, rd))
						o->flags |= VM_I_FAST;
				}
			} else if ((cls == BPF_LDX && mode != BPF_MEM && mode != BPF_MEMSX) ||
				   (cls != BPF_LDX && mode != BPF_MEM)) {
				set_bad(o, "unknown memory access mode");
			} else {
				__u8 base = cls == BPF_LDX ? x->src_reg : x->dst_reg;
				bool fast = proven(&d, &s, reg_val(&s, base), x->off, size, cls != BPF_LDX, cls == BPF_LDX);
				o->op = (__u16)mem_op(cls, mode, BPF_SIZE(x->code), fast);
				if (o->op == VM_OP_FAULT)
					set_bad(o, "sign-extending load of 8 bytes");
			}
			break;
		}
		default:
			set_bad(o, "unknown instruction class");
		}
		/* a proven map argument: keep the map beside the helper */
		if (o->op == VM_OP_CALL && (o->flags & VM_I_MAPARG)) {
			struct aval r1 = reg_val(&s, BPF_REG_1);
			o->k = (__u64)(uintptr_t)p->maps[r1.m];
		}
		transfer(&d, i, &s);
		if (is_ldimm64(x))
			i++;
	}
#undef JT
	/* the last decoded slot: running off the end ends the run */
	set_bad(&p->insns[nd], "fell off the end of the program");
	p->insns[nd].idx = n;
	p->max_ctx_offset = d.max_ctx;
	free(bstart);
	vm_link(p->insns, nd + 1);
	err = 0;
out:
	free(map_idx);
	free(leader);
	free(loop_head);
	free(is_func);
	free(func_of);
	free(dec);
	free(block);
	free(bst);
	free(work);
	return err;
}

bool vm_func_entry(const struct vm_prog *p, __u64 addr, const struct vm_insn **entry)
{
	const struct vm_insn *e = (const struct vm_insn *)(uintptr_t)addr;
	if (addr < (uintptr_t)p->insns || addr >= (uintptr_t)(p->insns + p->nr_insns) ||
	    (addr - (uintptr_t)p->insns) % sizeof(*e) || !(e->flags & VM_I_ENTRY))
		return false;
	*entry = e;
	return true;
}

void vm_prog_free(struct vm_prog *p)
{
	if (!p)
		return;
	vm_jit_free(p->jit);
	vm_ffi_free(p->binds);
	vm_btf_free(p->btf);
	free(p->insns);
	free(p->funcs);
	for (__u32 i = 0; i < p->nr_maps; i++)
		vm_map_put(p->maps[i]);
	free(p->maps);
	free(p->direct);
	free(p);
}

static pthread_mutex_t decode_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct vm_prog *prog_get(struct emu_obj *obj, int *err, bool compile)
{
	struct vm_prog *p = __atomic_load_n((struct vm_prog **)&obj->vm, __ATOMIC_ACQUIRE);
	if (likely(p) && (!compile || __atomic_load_n(&p->jit_tried, __ATOMIC_ACQUIRE)))
		return p;
	pthread_mutex_lock(&decode_lock);
	p = obj->vm;
	if (p)
		goto compile;
	const struct emu_prog_desc *pd = &obj->hdr->prog;
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		goto out;
	}
	p->obj = obj;
	p->id = obj->hdr->id;
	p->type = pd->prog_type;
	p->attach_type = pd->expected_attach_type;
	p->prog_flags = pd->prog_flags;
	memcpy(p->name, obj->hdr->name, sizeof(p->name));
	p->name[15] = '\0';
	p->jit_wanted = vm_jit_enabled();
	*err = decode(p, emu_obj_data(obj), pd->insn_cnt);
	if (*err) {
		vm_prog_free(p);
		p = NULL;
		goto out;
	}
	__atomic_store_n((struct vm_prog **)&obj->vm, p, __ATOMIC_RELEASE);
compile:
	/* p->jit is written before jit_tried is published: a runner that sees
	 * jit_tried sees the code (or NULL: the interpreter) */
	if (compile && !p->jit_tried) {
		vm_jit_compile(p);
		__atomic_store_n(&p->jit_tried, true, __ATOMIC_RELEASE);
	}
out:
	pthread_mutex_unlock(&decode_lock);
	return p;
}

const struct vm_prog *vm_prog_get(struct emu_obj *obj, int *err)
{
	return prog_get(obj, err, true);
}

const struct vm_prog *vm_prog_decode(struct emu_obj *obj, int *err)
{
	return prog_get(obj, err, false);
}
