/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_jit.c (engine only): the JIT against the interpreter.
 *
 * A randomized differential test: random programs (a fixed seed per
 * test, so a failure repeats) are loaded and run twice, once decoded for the
 * interpreter (BPFEMU_JIT=0's path) and once compiled by the JIT, on the
 * same input; the two runs must agree on everything a caller can see: the
 * errno of BPF_PROG_TEST_RUN, retval, every register at the end (the
 * programs store them into their output), the context or packet written
 * back, the map values, and the BPFEMU_LOG=vm line of a run that ends early
 * (instruction index and message; addresses normalized).
 *
 * The programs pass the load step's front checks (the verifier's walk is
 * turned off for them: the wild ones, and some others, it would refuse as
 * the kernel does). They are syscall programs (a writable 128-byte context) and XDP
 * programs (a packet of 64-127 bytes, proven or checked ranges), made of
 * ALU64/ALU32 operations of every kind (division by 0 and by -1, shifts of
 * every count, byte swaps, sign extension) on registers whose values come
 * from memory and from edge constants, loads and stores of every size on the
 * stack, the context, a map value and the packet (at constant offsets the
 * load step proves, and through computed pointers it cannot, some of them
 * wild), atomics of every kind (some misaligned), forward jumps of every
 * condition (JMP and JMP32, K and X), bounded loops, map lookups (array and
 * hash, present and absent keys) and bpf-to-bpf calls. BPFEMU_JIT_DIFF_N=N runs N programs per
 * test instead of the default (BPFEMU_JIT_DIFF_SEED picks another seed).
 *
 * Directed tests follow for what random programs do not reach: tail calls
 * between compiled programs and into an interpreted one, callbacks, the time
 * limit in a compiled loop, and proof that the JIT did run.
 */
#include "insn.h"

#include "emu.h"
#include "verifier/verifier.h"
#include "vm/jit/jit.h"
#include "vm/vm_int.h"

#define XDP 6
#define CTX_BYTES 128u
#define VAL_BYTES 64u
#define NVALS 4u
#define MAXI 4096u

/* ---- a deterministic generator ---- */

struct gen {
	struct bpf_insn p[MAXI];
	__u32 n;
	__u64 s;
	bool xdp;
	int map_fd;                    /* an array of NVALS values */
	int hash_fd;                   /* a hash holding keys 0 .. NVALS - 1 */
	__u32 pkt_len;                 /* XDP: the packet's length */
	__u32 proven;                  /* XDP: bytes the prologue proved */
	__u32 starts[4], nf;           /* functions */
	bool called[4];
	__u32 excl;                    /* registers the current block must not write (bit mask) */
	bool in_sub;                   /* writing a subprogram: R6-R9 are not set */
};

static __u64 rnd(struct gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

static __u32 below(struct gen *g, __u32 n)
{
	return n ? (__u32)(rnd(g) % n) : 0;
}

static bool chance(struct gen *g, __u32 pct)
{
	return below(g, 100) < pct;
}

static void emit(struct gen *g, struct bpf_insn in)
{
	cr_assert(lt(u32, g->n, MAXI - 2));
	g->p[g->n++] = in;
}

#define CTX 6
#define TMP 8
#define PTR 9                 /* syscall: a map value; XDP: the packet's data */

static const __u8 data_regs[] = { 0, 1, 2, 3, 4, 5, 7 };

static __u8 dreg(struct gen *g)
{
	return data_regs[below(g, g->in_sub ? 6 : 7)];
}

/* a data register this block may write */
static __u8 wreg(struct gen *g)
{
	for (;;) {
		__u8 r = dreg(g);
		if (!(g->excl & (1u << r)))
			return r;
	}
}

static __s32 edge_imm(struct gen *g)
{
	static const __s32 e[] = { 0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 255, 256, 0x7fff, -0x8000,
				   0xffff, 0x7fffffff, (__s32)0x80000000, (__s32)0xfffffffe, 3, -2, 12345, -77 };
	if (chance(g, 60))
		return e[below(g, BT_ARRAY_SIZE(e))];
	return (__s32)rnd(g);
}

static __u64 edge_u64(struct gen *g)
{
	static const __u64 e[] = { 0, 1, ~0ull, 0x8000000000000000ull, 0x7fffffffffffffffull, 0x80000000ull,
				   0xffffffffull, 0x100000000ull, 63, 64, 32, 0xff, 0x8000, 0xffffffff80000000ull };
	if (chance(g, 50))
		return e[below(g, BT_ARRAY_SIZE(e))];
	__u64 v = rnd(g);                 /* one draw per statement: the same program from any compiler */
	return v >> below(g, 64);
}

static void alu(struct gen *g)
{
	static const __u8 ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH,
				    BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END };
	__u8 op = ops[below(g, BT_ARRAY_SIZE(ops))], d = wreg(g), s = dreg(g);
	bool w64 = chance(g, 55), k = chance(g, 45);
	__u8 cls = w64 ? BPF_ALU64 : BPF_ALU;
	__s16 off = 0;
	__s32 imm = edge_imm(g);
	switch (op) {
	case BPF_DIV:
	case BPF_MOD:
		off = chance(g, 40);
		if (k && imm == 0)
			imm = chance(g, 50) ? -1 : 3;
		break;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH:
		if (k)
			imm = (__s32)below(g, w64 ? 64 : 32);
		break;
	case BPF_NEG:
		emit(g, BI(cls | BPF_NEG | BPF_K, d, 0, 0, 0));
		return;
	case BPF_END: {
		static const __s32 widths[] = { 16, 32, 64 };
		imm = widths[below(g, 3)];
		if (w64)                                  /* bswap */
			emit(g, BI(BPF_ALU64 | BPF_END | BPF_K, d, 0, 0, imm));
		else
			emit(g, BI(BPF_ALU | BPF_END | (chance(g, 50) ? BPF_X : BPF_K), d, 0, 0, imm));
		return;
	}
	case BPF_MOV:
		if (!k && chance(g, 30)) {                /* movsx */
			static const __s16 sx64[] = { 8, 16, 32 };
			off = w64 ? sx64[below(g, 3)] : sx64[below(g, 2)];
		}
		break;
	default:
		break;
	}
	if (k)
		emit(g, BI(cls | op | BPF_K, d, 0, off, imm));
	else
		emit(g, BI(cls | op | BPF_X, d, s, off, 0));
}

static void ldimm64(struct gen *g)
{
	__u64 v = edge_u64(g);
	__u8 d = wreg(g);
	emit(g, BI(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (__s32)(__u32)v));
	emit(g, BI(0, 0, 0, 0, (__s32)(__u32)(v >> 32)));
}

static const __u8 sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };
static __u32 bytes_of(__u8 sz)
{
	return sz == BPF_B ? 1 : sz == BPF_H ? 2 : sz == BPF_W ? 4 : 8;
}

/*
 * A base register and a constant offset for size bytes: inside the region
 * mostly; a few cross its end, where what the load step proves ends too (a
 * proof that reaches too far would let them through: the run with every
 * access checked tells).
 */
static void place(struct gen *g, __u32 size, __u8 *base, __s16 *off)
{
	__u32 r = below(g, g->in_sub ? 1 : 3);
	bool over = chance(g, 1);
	if (r == 0) {                                     /* the stack: [-64, 0) ([-32, 0) in a subprogram) */
		__u32 span = g->in_sub ? 32 : 64;
		*base = BPF_REG_10;
		*off = (__s16)(-(__s32)span + (__s32)below(g, span - size + 1));
		if (over && !g->in_sub)
			*off = (__s16)(-(__s32)below(g, size));  /* across R10: past the stack */
	} else if (r == 1) {
		*base = CTX;
		if (g->xdp)      /* xdp_md: read only, 24 bytes; from 12 (below: addresses, which vary) */
			*off = (__s16)(over ? 24 - size + 1 + below(g, size) : 12 + below(g, (12 - size) / size + 1) * size);
		else
			*off = (__s16)below(g, CTX_BYTES - size + 1);
	} else {
		*base = PTR;
		__u32 lim = g->xdp ? (g->proven && chance(g, 80) ? g->proven : g->pkt_len) : VAL_BYTES;
		*off = (__s16)below(g, lim >= size ? lim - size + 1 : 1);
		if (over)
			*off = (__s16)(lim - size + 1 + below(g, size + 8));
	}
}

static void mem(struct gen *g)
{
	__u8 sz = sizes[below(g, 4)], base;
	__s16 off;
	__u32 size = bytes_of(sz);
	place(g, size, &base, &off);
	bool ro = g->xdp && base == CTX;
	__u32 kind = ro ? 0 : below(g, 3);
	if (kind == 0) {
		bool sx = sz != BPF_DW && chance(g, 25);
		emit(g, BI(BPF_LDX | (sx ? 0x80 : BPF_MEM) | sz, wreg(g), base, off, 0));
	} else if (kind == 1) {
		emit(g, BI(BPF_STX | BPF_MEM | sz, base, dreg(g), off, 0));
	} else {
		emit(g, BI(BPF_ST | BPF_MEM | sz, base, 0, off, edge_imm(g)));
	}
}

/* an access through a computed pointer: the load step cannot prove it; some are wild */
static void mem_computed(struct gen *g)
{
	if (g->in_sub)
		return;
	__u8 sz = sizes[below(g, 4)], s = dreg(g);
	__u32 size = bytes_of(sz);
	__u8 base = chance(g, 50) ? PTR : (chance(g, 50) ? CTX : BPF_REG_10);
	bool wild = chance(g, 3), edge = chance(g, 25);
	/* aligned offsets inside the region; with edge, any offset: some accesses cross its end */
	__s32 mask = base == PTR ? (g->xdp ? 63 : VAL_BYTES - 8) : base == CTX ? (g->xdp ? 8 : CTX_BYTES - 8) : 56;
	if (edge)
		mask = base == PTR ? (g->xdp ? 127 : VAL_BYTES - 1) : base == CTX ? (g->xdp ? 15 : CTX_BYTES - 1) : 63;
	if (wild)
		mask = 0xfff;
	emit(g, MOV64_R(TMP, s));
	emit(g, ALU64_I(BPF_AND, TMP, mask));
	if (g->xdp && base == CTX && !wild)
		emit(g, ALU64_I(BPF_ADD, TMP, 12));      /* xdp_md's fields past the addresses */
	if (wild)            /* 1 GiB away: no region of the run is there, whatever the layout */
		emit(g, ALU64_I(BPF_ADD, TMP, 0x40000000));
	if (base == BPF_REG_10)
		emit(g, ALU64_I(BPF_SUB, TMP, 64));
	emit(g, ALU64_R(BPF_ADD, TMP, base));
	if (edge && base != BPF_REG_10 && !(g->xdp && base == CTX) && chance(g, 30))
		emit(g, ALU64_I(BPF_SUB, TMP, (__s32)(1 + below(g, 7))));   /* some cross the region's start */
	bool ro = g->xdp && base == CTX && !chance(g, 5);     /* some writes to the read-only xdp_md */
	if (ro || chance(g, 50))
		emit(g, BI(BPF_LDX | BPF_MEM | sz, wreg(g), TMP, 0, 0));
	else
		emit(g, BI(BPF_STX | BPF_MEM | sz, TMP, dreg(g), 0, 0));
	/* a write where the read went: the region the check remembers may not allow it */
	if (chance(g, 15))
		emit(g, BI(BPF_ST | BPF_MEM | sz, TMP, 0, 0, edge_imm(g)));
	(void)size;
}

static void atomic(struct gen *g)
{
	static const __s32 ops[] = { BPF_ADD, BPF_AND, BPF_OR, BPF_XOR, BPF_ADD | BPF_FETCH, BPF_AND | BPF_FETCH,
				     BPF_OR | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG };
	__s32 op = ops[below(g, BT_ARRAY_SIZE(ops))];
	bool w64 = chance(g, 50);
	__u32 size = w64 ? 8 : 4;
	__u8 s = dreg(g);
	if ((op & BPF_FETCH) && (g->excl & (1u << s)))
		return;                                       /* fetches write src */
	if (op == BPF_CMPXCHG && (g->excl & 1u))
		return;                                       /* writes R0 */
	__u8 base;
	__s16 off;
	if (!g->in_sub && chance(g, 10)) {                    /* through a computed, maybe misaligned pointer */
		emit(g, MOV64_R(TMP, dreg(g)));
		emit(g, ALU64_I(BPF_AND, TMP, chance(g, 50) ? 0x38 : 0x3f));
		emit(g, ALU64_R(BPF_ADD, TMP, g->xdp ? BPF_REG_10 : PTR));
		if (g->xdp)
			emit(g, ALU64_I(BPF_SUB, TMP, 64));
		base = TMP;
		off = 0;
	} else {
		place(g, size, &base, &off);
		if (g->xdp && base == CTX)
			base = BPF_REG_10, off = -8;
		off = (__s16)(off & ~(__s16)(size - 1));
		if (base == BPF_REG_10 && off == 0)
			off = -(__s16)size;
		if (base == PTR && g->xdp)
			off = (__s16)(off & ~7);
	}
	emit(g, ATOMIC(w64 ? BPF_DW : BPF_W, op, base, s, off));
}

/* the block's items, with forward jumps inside it */
static void block(struct gen *g, __u32 items);

static void jump_fwd(struct gen *g, __u32 *fix, __u32 *nfix)
{
	static const __u8 ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT,
				    BPF_JLE, BPF_JSLT, BPF_JSLE };
	__u8 op = ops[below(g, BT_ARRAY_SIZE(ops))];
	bool j32 = chance(g, 35), k = chance(g, 50);
	__u8 cls = j32 ? BPF_JMP32 : BPF_JMP;
	if (chance(g, 10))
		emit(g, BI(BPF_JMP | BPF_JA, 0, 0, 0, 0));
	else if (k)
		emit(g, BI(cls | op | BPF_K, dreg(g), 0, 0, edge_imm(g)));
	else {
		__u8 d = dreg(g), s = dreg(g);
		emit(g, BI(cls | op | BPF_X, d, s, 0, 0));
	}
	fix[(*nfix)++] = g->n - 1;
}

static void block(struct gen *g, __u32 items)
{
	__u32 bounds[64], nb = 0, fix[64], nfix = 0, dist[64];
	if (items > 60)
		items = 60;
	for (__u32 it = 0; it < items; it++) {
		bounds[nb++] = g->n;
		__u32 r = below(g, 100);
		if (r < 45)
			alu(g);
		else if (r < 50)
			ldimm64(g);
		else if (r < 68)
			mem(g);
		else if (r < 74)
			mem_computed(g);
		else if (r < 82)
			atomic(g);
		else {
			jump_fwd(g, fix, &nfix);
			/* ja skips nothing: what it skipped would be unreachable (the kernel refuses that) */
			dist[nfix - 1] = g->p[g->n - 1].code == (BPF_JMP | BPF_JA) ? 1 : 1 + below(g, 6);
		}
	}
	bounds[nb++] = g->n;
	/* each jump lands on a later item boundary of this block (or its end) */
	for (__u32 f = 0; f < nfix; f++) {
		__u32 at = fix[f], b = 0;
		while (b < nb && bounds[b] <= at)
			b++;
		__u32 t = b + dist[f] - 1 < nb ? bounds[b + dist[f] - 1] : g->n;
		g->p[at].off = (__s16)(t - at - 1);
	}
}

/* a loop of 1-8 rounds over a block, counted in a register the block does not write */
static void loop(struct gen *g)
{
	__u8 c = (__u8)(1 + below(g, 5));           /* R1-R5 (no calls inside) */
	if (g->in_sub || (g->excl & (1u << c)))
		return;
	emit(g, MOV64_I(c, (__s32)(1 + below(g, 8))));
	__u32 top = g->n;
	__u32 old = g->excl;
	g->excl |= 1u << c;
	block(g, 3 + below(g, 12));
	g->excl = old;
	emit(g, ALU64_I(BPF_ADD, c, -1));
	emit(g, BI((chance(g, 50) ? BPF_JMP32 : BPF_JMP) | BPF_JSGT | BPF_K, c, 0, (__s16)(top - g->n - 1), 0));
}

/* R1-R5 after a call: set again */
static void reset_args(struct gen *g)
{
	for (__u8 r = 1; r <= 5; r++) {
		if (!g->xdp && chance(g, 60))
			emit(g, LDX(BPF_DW, r, CTX, (__s16)(8 * below(g, 8))));
		else
			emit(g, MOV64_I(r, edge_imm(g)));
	}
}

static void lookup(struct gen *g)
{
	__u8 k = dreg(g), d = data_regs[6];        /* R7: the loaded value */
	emit(g, MOV64_R(TMP, k));
	emit(g, ALU64_I(BPF_AND, TMP, 7));         /* keys 0-7 of 4: some miss */
	emit(g, STX(BPF_W, BPF_REG_10, TMP, -72));
	emit(g, BI(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, chance(g, 50) ? g->map_fd : g->hash_fd));
	emit(g, BI(0, 0, 0, 0, 0));
	emit(g, MOV64_R(2, BPF_REG_10));
	emit(g, ALU64_I(BPF_ADD, 2, -72));
	emit(g, CALL(BPF_FUNC_map_lookup_elem));
	bool add = chance(g, 50);
	__s16 off = (__s16)(8 * below(g, VAL_BYTES / 8));
	emit(g, JMP_I(BPF_JEQ, 0, 0, add ? 4 : 3));
	emit(g, LDX(BPF_DW, d, 0, off));
	if (add)
		emit(g, ATOMIC(BPF_DW, BPF_ADD, 0, d, off));
	emit(g, MOV64_R(0, d));
	emit(g, JA(1));
	emit(g, MOV64_I(0, -7));                   /* out of range: NULL */
	reset_args(g);
}

static void subcall(struct gen *g)
{
	if (g->nf < 2)
		return;
	__u32 f = 1 + below(g, g->nf - 1);
	emit(g, CALL_REL(0));
	g->p[g->n - 1].imm = (__s32)f;                                    /* patched to relative later */
	g->called[f] = true;
	g->p[g->n - 1].off = 0x7fff;                                      /* marker: absolute */
	reset_args(g);
}

static void body(struct gen *g, __u32 segs)
{
	for (__u32 i = 0; i < segs; i++) {
		__u32 r = below(g, 100);
		if (r < 55)
			block(g, 1 + below(g, 20));
		else if (r < 75)
			loop(g);
		else if (r < 88 && !g->in_sub)
			lookup(g);
		else if (!g->in_sub)
			subcall(g);
	}
}

/* the whole program: prologue, body, the registers stored, exit; then subprograms */
static void program(struct gen *g, __u64 seed, bool xdp)
{
	memset(g->p, 0, sizeof(g->p));
	g->n = 0;
	g->s = seed * 0x9e3779b97f4a7c15ull + 1;
	for (int i = 0; i < 8; i++)
		rnd(g);
	g->xdp = xdp;
	g->excl = 0;
	g->in_sub = false;
	g->pkt_len = 64 + below(g, 64);
	g->nf = chance(g, 40) ? 2 + below(g, 2) : 1;
	emit(g, MOV64_R(CTX, 1));
	for (__s16 o = -64; o < 0; o += 8)
		emit(g, ST(BPF_DW, BPF_REG_10, o, 0));
	if (xdp) {
		/* the guard: past the packet (every run leaves), the packet exactly, or less */
		__u32 want = chance(g, 5) ? g->pkt_len + 8 : chance(g, 25) ? g->pkt_len : 8 * (1 + below(g, 8));
		g->proven = want <= g->pkt_len ? want : 0;
		emit(g, LDX(BPF_W, PTR, CTX, 0));
		emit(g, LDX(BPF_W, TMP, CTX, 4));
		emit(g, MOV64_R(1, PTR));
		emit(g, ALU64_I(BPF_ADD, 1, (__s32)want));
		emit(g, JMP_R(BPF_JLE, 1, TMP, 2));
		emit(g, MOV64_I(0, 1));
		emit(g, EXIT);
		if (want > g->pkt_len)
			g->proven = 0;
	} else {
		/* PTR = the value of key 0 */
		emit(g, ST(BPF_W, BPF_REG_10, -72, 0));
		emit(g, BI(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, g->map_fd));
	emit(g, BI(0, 0, 0, 0, 0));
		emit(g, MOV64_R(2, BPF_REG_10));
		emit(g, ALU64_I(BPF_ADD, 2, -72));
		emit(g, CALL(BPF_FUNC_map_lookup_elem));
		emit(g, JMP_I(BPF_JNE, 0, 0, 2));
		emit(g, MOV64_I(0, 2));
		emit(g, EXIT);
		emit(g, MOV64_R(PTR, 0));
	}
	emit(g, MOV64_I(TMP, 0));
	for (__u32 i = 0; i < BT_ARRAY_SIZE(data_regs); i++) {
		__u8 r = data_regs[i];
		if (!xdp && chance(g, 70))
			emit(g, LDX(BPF_DW, r, CTX, (__s16)(8 * below(g, 8))));
		else if (chance(g, 50))
			emit(g, MOV64_I(r, edge_imm(g)));
		else {
			__u64 v = edge_u64(g);
			emit(g, BI(BPF_LD | BPF_DW | BPF_IMM, r, 0, 0, (__s32)(__u32)v));
			emit(g, BI(0, 0, 0, 0, (__s32)(__u32)(v >> 32)));
		}
	}
	memset(g->called, 0, sizeof(g->called));
	body(g, 1 + below(g, 8));
	for (__u32 f = 1; f < g->nf; f++)               /* every function is called once at least */
		if (!g->called[f]) {
			emit(g, CALL_REL(0));
			g->p[g->n - 1].imm = (__s32)f;
			g->p[g->n - 1].off = 0x7fff;
			reset_args(g);
		}
	/* every register into the output: the context's upper half, or the packet */
	for (__u32 i = 0; i < BT_ARRAY_SIZE(data_regs); i++) {
		if (xdp)
			emit(g, STX(BPF_DW, PTR, data_regs[i], (__s16)(8 * i)));
		else
			emit(g, STX(BPF_DW, CTX, data_regs[i], (__s16)(64 + 8 * i)));
	}
	emit(g, EXIT);
	/* subprograms: R1-R5 in, R0 out, a frame of their own */
	g->starts[0] = 0;
	for (__u32 f = 1; f < g->nf; f++) {
		g->starts[f] = g->n;
		g->in_sub = true;
		emit(g, MOV64_R(0, 1));
		for (__s16 o = -32; o < 0; o += 8)
			emit(g, ST(BPF_DW, BPF_REG_10, o, 0));
		body(g, 1 + below(g, 3));
		emit(g, EXIT);
	}
	g->in_sub = false;
	/* calls: absolute starts to relative */
	for (__u32 i = 0; i < g->n; i++)
		if (g->p[i].code == (BPF_JMP | BPF_CALL) && g->p[i].src_reg == BPF_PSEUDO_CALL && g->p[i].off == 0x7fff) {
			g->p[i].imm = (__s32)g->starts[g->p[i].imm] - (__s32)i - 1;
			g->p[i].off = 0;
		}
}

/* ---- running and comparing ---- */

struct outcome {
	long err;
	__u32 retval;
	unsigned char ctx[CTX_BYTES];
	unsigned char pkt[256];
	__u32 pkt_out;
	unsigned char vals[NVALS][VAL_BYTES];
	unsigned char hvals[NVALS][VAL_BYTES];
	char log[512];
	bool jitted;
};

static char logpath[96];
static long log_at;

static void setup(void)
{
	bt_setup();
	setenv("BPFEMU_LOG", "vm", 1);
	setenv("BPFEMU_VM_TIMEOUT_MS", "2000", 1);
	snprintf(logpath, sizeof(logpath), "%s/stderr", bt_root);
	cr_assert(ne(ptr, freopen(logpath, "w", stderr), NULL));
	setvbuf(stderr, NULL, _IONBF, 0);
	log_at = 0;
}

/* the log lines since the last call, each as "insn N: <message words> ... <errno>": the
 * addresses, sizes and distances (which depend on where buffers landed) left out */
static void new_log(char *out, size_t len)
{
	FILE *f = fopen(logpath, "r");
	char buf[4096];
	size_t n = 0;
	if (f) {
		fseek(f, log_at, SEEK_SET);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		log_at = ftell(f);
		fclose(f);
	}
	buf[n] = '\0';
	size_t o = 0;
	out[0] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		const char *in = strstr(line, "insn "), *end = strstr(line, "the run ends with");
		if (!in) {
			o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s|", line);
			continue;
		}
		const char *msg = strchr(in, ':');
		size_t words = 0;
		if (msg)
			while (msg[words] && !(msg[words] >= '0' && msg[words] <= '9'))
				words++;
		o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%.*s%.*s ... %s|", (int)(msg ? msg - in : 0), in,
				      (int)words, msg ? msg : "", end ? end : "");
		if (o >= len)
			break;
	}
}

/* is the program behind fd compiled (the JIT's code), as this process decoded it? */
static bool jitted(int fd)
{
	struct emu_obj *obj;
	int acc;
	if (emu_fd_get(fd, EMU_KIND_PROG, &obj, &acc))
		return false;
	/* compiled at the first run (vm_prog_get), in the mode of its load */
	int err = 0;
	const struct vm_prog *p = vm_prog_get(obj, &err);
	bool j = p && p->jit;
	emu_obj_put(obj);
	return j;
}

static void fill(struct gen *g, __u64 seed, unsigned char *ctx, unsigned char *pkt)
{
	struct gen r = { .s = seed * 0x2545f4914f6cdd1dull + 7 };
	for (int i = 0; i < 4; i++)
		rnd(&r);
	for (__u32 i = 0; i < CTX_BYTES / 8; i++) {
		__u64 v = edge_u64(&r);
		memcpy(ctx + 8 * i, &v, 8);
	}
	for (__u32 i = 0; i < g->pkt_len; i++)
		pkt[i] = (unsigned char)rnd(&r);
	for (__u32 k = 0; k < NVALS; k++) {
		unsigned char v[VAL_BYTES];
		for (__u32 i = 0; i < VAL_BYTES; i++)
			v[i] = (unsigned char)rnd(&r);
		cr_assert(eq(i64, bt_update(g->map_fd, &k, v, BPF_ANY), 0));
		v[0] ^= 0x5a;
		cr_assert(eq(i64, bt_update(g->hash_fd, &k, v, BPF_ANY), 0));
	}
}

/* jit: compiled or interpreted; proofs: what the load step proved runs unchecked */
static void run_one(struct gen *g, __u64 seed, bool jit, bool proofs, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	vm_jit_override(jit);
	vm_decode_proofs(proofs);
	long fd = g->nf > 1 ? bt_prog_load_funcs(g->xdp ? XDP : BT_PROG_TYPE_SYSCALL, g->xdp ? 0 : BPF_F_SLEEPABLE,
						 g->p, g->n, g->starts, g->nf)
			    : bt_prog_load(g->xdp ? XDP : BT_PROG_TYPE_SYSCALL, 0, g->xdp ? 0 : BPF_F_SLEEPABLE, g->p, g->n);
	cr_assert(ge(i64, fd, 0), "seed %llu: load: %s\n%s", (unsigned long long)seed, strerror((int)-fd), bt_log);
	o->jitted = jitted((int)fd);
	unsigned char pkt[256];
	fill(g, seed, o->ctx, pkt);
	new_log(o->log, sizeof(o->log));                /* nothing before the run counts */
	if (g->xdp) {
		struct bt_run r;
		o->err = bt_run_data((int)fd, pkt, g->pkt_len, 1, &r);
		o->retval = r.retval;
		o->pkt_out = r.size_out;
		memcpy(o->pkt, r.out, r.size_out < sizeof(o->pkt) ? r.size_out : sizeof(o->pkt));
	} else {
		o->err = bt_run_ctx((int)fd, o->ctx, CTX_BYTES, &o->retval);
	}
	new_log(o->log, sizeof(o->log));
	for (__u32 k = 0; k < NVALS; k++)
		cr_assert(eq(i64, bt_lookup(g->map_fd, &k, o->vals[k]), 0));
	for (__u32 k = 0; k < NVALS; k++)
		cr_assert(eq(i64, bt_lookup(g->hash_fd, &k, o->hvals[k]), 0));
	bt_close((int)fd);
	vm_jit_override(-1);
	vm_decode_proofs(true);
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->err == b->err && a->retval == b->retval && !memcmp(a->ctx, b->ctx, sizeof(a->ctx)) &&
	       a->pkt_out == b->pkt_out && !memcmp(a->pkt, b->pkt, sizeof(a->pkt)) &&
	       !memcmp(a->vals, b->vals, sizeof(a->vals)) && !memcmp(a->hvals, b->hvals, sizeof(a->hvals)) &&
	       !strcmp(a->log, b->log);
}

static void dump(const struct gen *g)
{
	for (__u32 i = 0; i < g->n; i++)
		fprintf(stdout, "  %3u: code %02x dst %u src %u off %d imm %d\n", i, g->p[i].code, g->p[i].dst_reg,
			g->p[i].src_reg, g->p[i].off, g->p[i].imm);
}

static __u64 env_u64(const char *name, __u64 dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void differential(bool xdp, __u64 first_seed, __u64 n_default)
{
	static struct gen g;
	__u64 n = env_u64("BPFEMU_JIT_DIFF_N", n_default), base = env_u64("BPFEMU_JIT_DIFF_SEED", first_seed);
	g.map_fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, VAL_BYTES, NVALS, 0);
	g.hash_fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, VAL_BYTES, 2 * NVALS, 0);
	__u64 faults = 0, insns = 0, errs[256] = { 0 };
	__u64 verbose = env_u64("BPFEMU_JIT_DIFF_VERBOSE", 0);
	for (__u64 i = 0; i < n; i++) {
		__u64 seed = base + i;
		program(&g, seed, xdp);
		static struct outcome a, b, c;
		run_one(&g, seed, false, true, &a);
		run_one(&g, seed, true, true, &b);
		cr_assert(eq(int, a.jitted, 0), "seed %llu: the interpreter's run was compiled", (unsigned long long)seed);
		cr_assert(eq(int, b.jitted, 1), "seed %llu: the JIT did not compile the program (%s)", (unsigned long long)seed, b.log);
		/* and every access checked: what the load step proved must not matter */
		run_one(&g, seed, false, false, &c);
		bool agree = same(&a, &b);
		if (!same(&a, &c)) {
			printf("seed %llu: with every access checked the run differs (a proof is wrong): err %ld log '%s'\n",
			       (unsigned long long)seed, c.err, c.log);
			agree = false;
		}
		if (!agree) {
			printf("seed %llu (%s, %u insns) differs:\n interp: err %ld retval %u log '%s'\n jit:    err %ld retval %u log '%s'\n",
			       (unsigned long long)seed, xdp ? "xdp" : "syscall", g.n, a.err, a.retval, a.log, b.err,
			       b.retval, b.log);
			for (__u32 w = 0; w < CTX_BYTES / 8; w++) {
				__u64 x, y;
				memcpy(&x, a.ctx + 8 * w, 8);
				memcpy(&y, b.ctx + 8 * w, 8);
				if (x != y)
					printf(" ctx word %u: interp %#llx jit %#llx\n", w, (unsigned long long)x,
					       (unsigned long long)y);
			}
			for (__u32 w = 0; w < sizeof(a.pkt) / 8; w++) {
				__u64 x, y;
				memcpy(&x, a.pkt + 8 * w, 8);
				memcpy(&y, b.pkt + 8 * w, 8);
				if (x != y)
					printf(" packet word %u: interp %#llx jit %#llx\n", w, (unsigned long long)x,
					       (unsigned long long)y);
			}
			dump(&g);
			fflush(stdout);
		}
		cr_assert(eq(int, agree, 1), "seed %llu: the interpreter and the JIT differ (see stdout)", (unsigned long long)seed);
		if (verbose) {
			printf("seed %llu: err %ld retval %u log '%s'", (unsigned long long)seed, a.err, a.retval, a.log);
			for (__u32 w = 8; w < 15 && !xdp; w++) {
				__u64 x;
				memcpy(&x, a.ctx + 8 * w, 8);
				printf(" %#llx", (unsigned long long)x);
			}
			printf("\n");
			if (verbose > 1)
				dump(&g);
		}
		faults += a.err != 0;
		if (a.err)
			errs[-a.err < 256 ? -a.err : 255]++;
		insns += g.n;
	}
	printf("%s: %llu programs (%llu instructions), %llu ended early:", xdp ? "xdp" : "syscall",
	       (unsigned long long)n, (unsigned long long)insns, (unsigned long long)faults);
	for (int e = 0; e < 256; e++)
		if (errs[e])
			printf(" %s %llu", strerror(e), (unsigned long long)errs[e]);
	printf("\n");
	/* the programs must also reach the run-time checks' failures, not only the happy path */
	if (n >= 200)
		cr_assert(gt(u64, faults, 0), "no program of %llu ended early", (unsigned long long)n);
	bt_close(g.map_fd);
	bt_close(g.hash_fd);
}

/* random programs load through the front checks only: the verifier's walk
 * would refuse the wild ones (and others), as the kernel's does */
static void setup_random(void)
{
	setup();
	emu_verifier_set_walk(false);
}

Test(vm_jit, random_syscall_programs_agree, .init = setup_random, .fini = bt_teardown, .timeout = 600)
{
	differential(false, 1, 1500);
}

Test(vm_jit, random_xdp_programs_agree, .init = setup_random, .fini = bt_teardown, .timeout = 600)
{
	differential(true, 1000001, 1500);
}

/* ---- directed tests ---- */

#define JIT_TEST(name, ...) Test(vm_jit, name, .init = setup, .fini = bt_teardown, ##__VA_ARGS__)

#define RAW_TP 17               /* BPF_PROG_TYPE_RAW_TRACEPOINT: tail calls allowed, args as ctx */

static int load_mode(bool jit, __u32 type, const struct bpf_insn *p, __u32 n)
{
	vm_jit_override(jit);
	int fd = bt_prog_new(type, p, n);
	vm_jit_override(-1);
	cr_assert(eq(int, jitted(fd), jit), "the program's code: %s", jit ? "missing" : "there");
	return fd;
}

/* a run with ctx = { w0 } (a syscall program's ctx, a raw tracepoint's argument) */
static __u32 run_word(int fd, __u64 w0)
{
	__u64 ctx[1] = { w0 };
	__u32 retval = 0;
	cr_assert(eq(i64, bt_run_ctx(fd, ctx, sizeof(ctx), &retval), 0));
	return retval;
}

JIT_TEST(environment_zero_turns_the_jit_off)
{
	setenv("BPFEMU_JIT", "0", 1);
	struct bpf_insn p[] = { MOV64_I(0, 3), EXIT };
	int fd = bt_prog_new(BT_PROG_TYPE_SYSCALL, p, N_INSNS(p));
	cr_assert(eq(int, jitted(fd), 0));
	cr_assert(eq(u32, run_word(fd, 0), 3));
}

JIT_TEST(code_pages_are_never_writable_and_executable)
{
	struct bpf_insn p[] = { MOV64_I(0, 3), EXIT };
	int fd = load_mode(true, BT_PROG_TYPE_SYSCALL, p, N_INSNS(p));
	struct emu_obj *obj;
	int acc;
	cr_assert(eq(int, emu_fd_get(fd, EMU_KIND_PROG, &obj, &acc), 0));
	const struct vm_prog *vp = obj->vm;
	uintptr_t img = (uintptr_t)vp->jit->image;
	emu_obj_put(obj);
	FILE *f = fopen("/proc/self/maps", "r");
	cr_assert(ne(ptr, f, NULL));
	char line[512], perms[8] = "";
	unsigned long lo, hi;
	int wx = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x')
			wx++;
		if (img >= lo && img < hi)
			cr_assert(eq(str, perms, "r-xp"), "the code's mapping is %s", perms);
	}
	fclose(f);
	cr_assert(eq(int, wx, 0), "%d writable and executable mappings", wx);
	cr_assert(eq(u32, run_word(fd, 0), 3));
}

/* A (compiled) tail-calls slot arg0 of a program array: B compiled, C interpreted, 2 empty */
JIT_TEST(tail_calls_reach_compiled_and_interpreted_programs)
{
	int pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
	struct bpf_insn b[] = { MOV64_I(0, 11), EXIT };
	struct bpf_insn c[] = { MOV64_I(0, 22), EXIT };
	int fb = load_mode(true, RAW_TP, b, N_INSNS(b)), fc = load_mode(false, RAW_TP, c, N_INSNS(c));
	__u32 k0 = 0, k1 = 1;
	cr_assert(eq(i64, bt_update(pa, &k0, &fb, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(pa, &k1, &fc, BPF_ANY), 0));
	struct bpf_insn a[] = {
		MOV64_R(6, 1), MOV64_I(7, 5), LD_MAP(2, pa), LDX(BPF_DW, 3, 6, 0), MOV64_R(1, 6),
		CALL(BPF_FUNC_tail_call), MOV64_I(0, 70), ALU64_R(BPF_ADD, 0, 7), EXIT,
	};
	for (int jit = 0; jit <= 1; jit++) {
		int fa = load_mode(jit, RAW_TP, a, N_INSNS(a));
		cr_assert(eq(u32, run_word(fa, 0), 11));
		cr_assert(eq(u32, run_word(fa, 1), 22));
		cr_assert(eq(u32, run_word(fa, 2), 75));       /* a failed tail call goes on, R7 kept */
		bt_close(fa);
	}
}

/* a program that tail-calls itself: the first run and 33 tail calls, counted in an array */
JIT_TEST(tail_call_limit_is_33_compiled_and_interpreted)
{
	int pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0);
	int cnt = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	struct bpf_insn d[] = {
		MOV64_R(6, 1), ST(BPF_W, 10, -4, 0), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4), LD_MAP(1, cnt),
		CALL(BPF_FUNC_map_lookup_elem), JMP_I(BPF_JEQ, 0, 0, 7), MOV64_I(1, 1),
		ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0), LD_MAP(2, pa), MOV64_I(3, 0), MOV64_R(1, 6),
		CALL(BPF_FUNC_tail_call), MOV64_I(0, 0), EXIT,
	};
	for (int jit = 0; jit <= 1; jit++) {
		int fd = load_mode(jit, RAW_TP, d, N_INSNS(d));
		__u32 k = 0;
		__u64 zero = 0, n = 0;
		cr_assert(eq(i64, bt_update(cnt, &k, &zero, BPF_ANY), 0));
		cr_assert(eq(i64, bt_update(pa, &k, &fd, BPF_ANY), 0));
		cr_assert(eq(u32, run_word(fd, 0), 0));
		cr_assert(eq(i64, bt_lookup(cnt, &k, &n), 0));
		cr_assert(eq(u64, n, 34));
		cr_assert(eq(i64, bt_delete(pa, &k), 0));
		bt_close(fd);
	}
}

/* a tail call in a subprogram replaces it: its caller gets the target's R0 */
JIT_TEST(tail_call_from_a_subprogram_returns_to_its_caller)
{
	int pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0);
	struct bpf_insn b[] = { MOV64_I(0, 11), EXIT };
	int fb = load_mode(true, RAW_TP, b, N_INSNS(b));
	__u32 k = 0;
	cr_assert(eq(i64, bt_update(pa, &k, &fb, BPF_ANY), 0));
	struct bpf_insn a[] = {
		MOV64_I(6, 100), CALL_REL(2), ALU64_R(BPF_ADD, 0, 6), EXIT,
		/* sub: */ LD_MAP(2, pa), MOV64_I(3, 0), CALL(BPF_FUNC_tail_call), MOV64_I(0, 5), EXIT,
	};
	__u32 starts[] = { 0, 4 };
	for (int jit = 0; jit <= 1; jit++) {
		vm_jit_override(jit);
		long fa = bt_prog_load_funcs(RAW_TP, 0, a, N_INSNS(a), starts, 2);
		vm_jit_override(-1);
		cr_assert(ge(i64, fa, 0), "load: %s\n%s", strerror((int)-fa), bt_log);
		cr_assert(eq(int, jitted((int)fa), jit));
		cr_assert(eq(u32, run_word((int)fa, 0), 111));
		bt_close((int)fa);
	}
}

/* bpf_map_lookup_elem on hashes from compiled code (the JIT's direct call and
 * the hash table's short path): every present key finds its value, absent
 * ones NULL, for 4-, 8- and 12-byte keys, plain and per-CPU */
JIT_TEST(hash_lookups_find_what_user_space_stored)
{
	static const __u32 types[] = { BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH };
	static const __u32 ksizes[] = { 4, 8, 12 };
	for (size_t t = 0; t < BT_ARRAY_SIZE(types); t++)
		for (size_t z = 0; z < BT_ARRAY_SIZE(ksizes); z++) {
			__u32 ks = ksizes[z];
			int m = bt_map_new(types[t], ks, 8, 700, 0);
			unsigned ncpu = types[t] == BPF_MAP_TYPE_PERCPU_HASH ? (unsigned)sysconf(_SC_NPROCESSORS_CONF) : 1;
			__u64 *vals = calloc(ncpu, 8);
			for (__u32 k = 0; k < 600; k++) {
				unsigned char key[12] = { 0 };
				__u32 kk = k * 7;
				memcpy(key, &kk, 4);
				key[ks - 1] ^= 0x5a;
				for (unsigned c = 0; c < ncpu; c++)
					vals[c] = (__u64)kk * 3 + 1;
				cr_assert(eq(i64, bt_update(m, key, vals, BPF_NOEXIST), 0));
			}
			free(vals);
			/* key: arg0's low 4 bytes, its last byte ^ 0x5a ^ (arg0 >> 32): a key stored
			 * with only its last byte different must miss; R0 = the value's low 32 bits or -1 */
			struct bpf_insn p[] = {
				ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -8, 0), LDX(BPF_W, 2, 1, 0), STX(BPF_W, 10, 2, -16),
				LDX(BPF_W, 4, 1, 4), LDX(BPF_B, 3, 10, (__s16)(-16 + ks - 1)), ALU64_I(BPF_XOR, 3, 0x5a),
				ALU64_R(BPF_XOR, 3, 4), STX(BPF_B, 10, 3, (__s16)(-16 + ks - 1)), LD_MAP(1, m), MOV64_R(2, 10),
				ALU64_I(BPF_ADD, 2, -16), CALL(BPF_FUNC_map_lookup_elem), JMP_I(BPF_JNE, 0, 0, 2),
				MOV32_I(0, -1), EXIT, LDX(BPF_DW, 0, 0, 0), EXIT,
			};
			int fd = load_mode(true, RAW_TP, p, N_INSNS(p));
			for (__u32 q = 0; q < 4300; q += 1) {
				__u32 want = q % 7 == 0 && q / 7 < 600 ? q * 3 + 1 : 0xffffffffu;
				cr_assert(eq(u32, run_word(fd, q), want), "type %u key size %u key %u", types[t], ks, q);
				cr_assert(eq(u32, run_word(fd, q | 1ull << 32), 0xffffffffu), "type %u key size %u key %u, last byte off",
					  types[t], ks, q);
			}
			bt_close(fd);
			bt_close(m);
		}
}
