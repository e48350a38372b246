/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/xlcmp.c: xlcmp KERNEL EMU [-v] compares the xlated programs
 * two libloadwatch runs wrote (LOADWATCH_XLATED, "== tool" lines between the
 * tools), program by program in load order, and prints the counts:
 *
 *  - len:    xlated_prog_len the same;
 *  - exact:  the same instructions, once what differs by design is set
 *            aside: ld_imm64 of a map or BTF object (ids and addresses of
 *            each run), helper and kfunc calls (the kernel's imm is the
 *            function's address);
 *  - shape:  the same line_info records (file, line, column), in the same
 *            order: the same source lines survived the dead code passes,
 *            whatever the kernel's other rewrites inserted;
 *  - the other programs are classified by the emulator's instruction at the
 *    first difference (the kernel rewrote it: a context access, an inlined
 *    helper, ...), with the length the kernel added.
 *
 * Exit status: 0 when every program's shape matches, 1 otherwise, 2 on bad
 * input.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prog {
	char tool[64], name[64];
	unsigned loaded, n, nli;
	struct bpf_insn *insns;
	struct bpf_line_info *li;
};

static int unhex(const char *s, void *out, size_t n)
{
	unsigned char *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		o[i] = (unsigned char)v;
	}
	return 0;
}

static struct prog *read_file(const char *path, size_t *np)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(2);
	}
	struct prog *v = NULL;
	size_t n = 0, cap = 0;
	char tool[64] = "";
	char *line = NULL;
	size_t lcap = 0;
	while (getline(&line, &lcap, f) > 0) {
		if (!strncmp(line, "== ", 3)) {
			snprintf(tool, sizeof(tool), "%s", line + 3);
			tool[strcspn(tool, "\n")] = '\0';
			continue;
		}
		if (line[0] != 'X')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				exit(2);
		}
		struct prog *p = &v[n];
		memset(p, 0, sizeof(*p));
		snprintf(p->tool, sizeof(p->tool), "%s", tool);
		char *q = strchr(line, '"'), *e = q ? strchr(q + 1, '"') : NULL;
		if (!e)
			continue;
		snprintf(p->name, sizeof(p->name), "%.*s", (int)(e - q - 1), q + 1);
		char *hex = NULL;
		if (sscanf(e + 1, "%u %u", &p->loaded, &p->n) != 2)
			continue;
		hex = strchr(e + 2, ' ');
		hex = hex ? strchr(hex + 1, ' ') : NULL;
		if (!hex)
			continue;
		hex++;
		p->insns = calloc(p->n + 1, sizeof(*p->insns));
		char *l = p->insns && !unhex(hex, p->insns, (size_t)p->n * 8) ? strstr(hex, " L ") : NULL;
		if (l && sscanf(l + 3, "%u", &p->nli) == 1)
			p->li = calloc(p->nli + 1, sizeof(*p->li));
		char *lh = l ? strchr(l + 3, ' ') : NULL;
		if (!p->li || (p->nli && (!lh || unhex(lh + 1, p->li, (size_t)p->nli * sizeof(*p->li))))) {
			free(p->insns);       /* a line that does not parse: its slot is used again */
			free(p->li);
			continue;
		}
		n++;
	}
	free(line);
	fclose(f);
	*np = n;
	return v;
}

static bool is_pcall(const struct bpf_insn *i)
{
	return i->code == (BPF_JMP | BPF_CALL) && i->src_reg == BPF_PSEUDO_CALL;
}

/* the same instruction, but for what differs by design; *skip: the second half of an ld_imm64 follows */
static bool same_insn(const struct bpf_insn *k, const struct bpf_insn *e, bool *skip)
{
	*skip = false;
	if (k->code != e->code || k->dst_reg != e->dst_reg || k->src_reg != e->src_reg)
		return false;
	if (k->code == (BPF_LD | BPF_IMM | BPF_DW)) {
		*skip = true;
		return k->src_reg ? true : k->imm == e->imm && k[1].imm == e[1].imm;
	}
	if (k->code == (BPF_JMP | BPF_CALL)) {
		if (is_pcall(k))
			return k->off == e->off && k->imm == e->imm;
		return true;    /* a helper's or kfunc's address */
	}
	return k->off == e->off && k->imm == e->imm;
}

static const char *kind(const struct bpf_insn *i, char *buf, size_t len)
{
	__u8 cls = BPF_CLASS(i->code);
	if (i->code == (BPF_JMP | BPF_CALL) && i->src_reg == 0)
		snprintf(buf, len, "call helper %d%s", i->imm,
			 i->imm == BPF_FUNC_map_lookup_elem ? " (map_lookup_elem)" :
			 i->imm == BPF_FUNC_get_smp_processor_id ? " (get_smp_processor_id)" : "");
	else if (i->code == (BPF_JMP | BPF_CALL) && i->src_reg == BPF_PSEUDO_KFUNC_CALL)
		snprintf(buf, len, "call kfunc");
	else if (is_pcall(i))
		snprintf(buf, len, "pseudo call");
	else if (i->code == (BPF_LD | BPF_IMM | BPF_DW))
		snprintf(buf, len, "ld_imm64 src %u", i->src_reg);
	else if (cls == BPF_LDX)
		snprintf(buf, len, "ldx mode %#x size %#x", BPF_MODE(i->code), BPF_SIZE(i->code));
	else if (cls == BPF_STX || cls == BPF_ST)
		snprintf(buf, len, "%s mode %#x", cls == BPF_ST ? "st" : "stx", BPF_MODE(i->code));
	else if (cls == BPF_JMP || cls == BPF_JMP32)
		snprintf(buf, len, "jmp op %#x", BPF_OP(i->code));
	else {
		static const char *const ops[16] = { "add", "sub", "mul", "div", "or", "and", "lsh", "rsh",
						     "neg", "mod", "xor", "mov", "arsh", "end", "?", "?" };
		snprintf(buf, len, "%s %s by %s", cls == BPF_ALU64 ? "alu64" : "alu32", ops[BPF_OP(i->code) >> 4],
			 BPF_SRC(i->code) == BPF_X ? "register" : "constant");
	}
	return buf;
}

/* an instruction is the second half of an ld_imm64 */
static bool *halves(const struct bpf_insn *in, unsigned n)
{
	bool *h = calloc(n + 1, sizeof(*h));
	if (!h)
		exit(2);
	for (unsigned i = 0; i + 1 < n; i++)
		if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW))
			h[++i] = true;
	return h;
}

static bool is_jump(const struct bpf_insn *i)
{
	__u8 cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_EXIT && op != BPF_CALL;
}

static int jump_off(const struct bpf_insn *i)
{
	if (is_pcall(i))
		return i->off;  /* the distance, as a JITed kernel dumps it (imm: the callee's index) */
	return i->code == (BPF_JMP32 | BPF_JA) ? i->imm : i->off;
}

struct side {
	const struct bpf_insn *in;
	unsigned n;
	const bool *half;
};

/* the same instruction, jump distances aside (checked after the alignment) */
static bool same_at(const struct side *k, unsigned j, const struct side *e, unsigned i)
{
	if (k->half[j] || e->half[i])
		return k->half[j] && e->half[i] && (k->in[j - 1].src_reg || k->in[j].imm == e->in[i].imm);
	const struct bpf_insn *a = &k->in[j], *b = &e->in[i];
	if (is_jump(a) && !is_pcall(a))
		return a->code == b->code && a->dst_reg == b->dst_reg && a->src_reg == b->src_reg &&
		       (a->code == (BPF_JMP32 | BPF_JA) || a->imm == b->imm);
	bool skip;
	return same_insn(a, b, &skip);
}

#define WINDOW 4

/* kernel from j and bpfemu from i agree for WINDOW instructions (or both end) */
static bool agree(const struct side *k, unsigned j, const struct side *e, unsigned i)
{
	for (unsigned w = 0; w < WINDOW; w++) {
		if (i + w == e->n)
			return j + w == k->n;
		if (j + w >= k->n || !same_at(k, j + w, e, i + w))
			return false;
	}
	return true;
}

struct bucket {
	char kind[64];
	unsigned progs, events;
	long added;
	unsigned last;          /* the program counted last */
};

static struct bucket buckets[128];
static unsigned nbuckets;

static const char *cur_prog;
static bool cur_verbose;

static void count(const char *kd, unsigned prog, long added)
{
	if (cur_verbose)
		printf("rewrite: %s: %s, %+ld\n", cur_prog, kd, added);
	unsigned m = 0;
	while (m < nbuckets && strcmp(buckets[m].kind, kd))
		m++;
	if (m == nbuckets) {
		if (nbuckets == 128)
			return;
		snprintf(buckets[m].kind, sizeof(buckets[m].kind), "%s", kd);
		buckets[m].last = ~0u;
		nbuckets++;
	}
	struct bucket *b = &buckets[m];
	b->events++;
	b->added += added;
	if (b->last != prog) {
		b->progs++;
		b->last = prog;
	}
}

/*
 * Align bpfemu's program with the kernel's: the same instructions in the
 * same order, but for places where the kernel inserted instructions before
 * one of bpfemu's or replaced one with others (its rewrites: context
 * accesses, inlined helpers, division guards...), each counted by the kind
 * of bpfemu's instruction there. Then every jump of bpfemu that the kernel
 * kept must go where the kernel's goes (to the start of what replaced or
 * preceded its target). 1: aligned, jumps as the kernel's; 0: aligned, a
 * jump differs; -1: no alignment.
 */
static int align(const struct prog *pk, const struct prog *pe, unsigned idx, bool verbose)
{
	bool *hk = halves(pk->insns, pk->n), *he = halves(pe->insns, pe->n);
	struct side k = { pk->insns, pk->n, hk }, e = { pe->insns, pe->n, he };
	unsigned *map = calloc(pe->n + 1, sizeof(*map));
	bool *kept = calloc(pe->n + 1, sizeof(*kept));
	unsigned i = 0, j = 0;
	int ret = 1;
	char kb[48], lb[64];
	if (!map || !kept)
		exit(2);
	while (i < e.n) {
		/* after a call, the kernel's inlined lookup may end with a null
		 * check of its own (htab_map_gen_lookup: `if r0 == 0 goto +1;
		 * r0 += off`, maps of maps one more load): when bpfemu's jump there
		 * has another distance, the kernel's instructions are inserted */
		bool inl = j + 2 < k.n && k.in[j].code == (BPF_JMP | BPF_JEQ | BPF_K) && !k.in[j].dst_reg &&
			   !k.in[j].imm && k.in[j + 1].code == (BPF_ALU64 | BPF_ADD | BPF_K) && !k.in[j + 1].dst_reg;
		if (j >= 1 && j < k.n && k.in[j - 1].code == (BPF_JMP | BPF_CALL) && is_jump(&e.in[i]) &&
		    same_at(&k, j, &e, i) && (inl || jump_off(&k.in[j]) != jump_off(&e.in[i]))) {
			unsigned d;
			for (d = 1; d <= 8 && !agree(&k, j + d, &e, i); d++)
				;
			if (d <= 8) {
				snprintf(lb, sizeof(lb), "after %s", i ? kind(&e.in[i - 1], kb, sizeof(kb)) : "start");
				count(lb, idx, d);
				map[i] = j;
				j += d;
				continue;
			}
		}
		if (j < k.n && same_at(&k, j, &e, i)) {
			map[i] = j;
			kept[i] = true;
			i++, j++;
			continue;
		}
		unsigned d;
		for (d = 1; d <= 64; d++) {
			if (agree(&k, j + d, &e, i)) {
				/* inserted before bpfemu's instruction i */
				if (i && e.in[i - 1].code == (BPF_JMP | BPF_CALL) && !e.in[i - 1].src_reg)
					snprintf(lb, sizeof(lb), "after %s", kind(&e.in[i - 1], kb, sizeof(kb)));
				else
					snprintf(lb, sizeof(lb), "before %s", kind(&e.in[i], kb, sizeof(kb)));
				count(lb, idx, d);
				map[i] = j;
				j += d;
				break;
			}
			if (i + 1 <= e.n && agree(&k, j + d, &e, i + 1)) {
				/* bpfemu's instruction i became d of the kernel's */
				snprintf(lb, sizeof(lb), "%s", kind(&e.in[i], kb, sizeof(kb)));
				count(lb, idx, (long)d - 1);
				map[i] = j;
				i++;
				j += d;
				break;
			}
		}
		if (d > 64) {
			if (verbose)
				printf("no alignment: %s/%s at bpfemu's %u, the kernel's %u\n", pk->tool, pk->name, i, j);
			ret = -1;
			goto out;
		}
	}
	if (j != k.n) {
		if (verbose)
			printf("no alignment: %s/%s: the kernel's %u instructions after bpfemu's last\n", pk->tool, pk->name,
			       k.n - j);
		ret = -1;
		goto out;
	}
	map[e.n] = k.n;
	for (i = 0; i < e.n; i++) {
		if (!kept[i] || e.half[i] || !is_jump(&e.in[i]))
			continue;
		long t = (long)i + 1 + jump_off(&e.in[i]);
		long kt = (long)map[i] + 1 + jump_off(&k.in[map[i]]);
		if (t < 0 || t > (long)e.n || kt != (long)map[t]) {
			if (verbose)
				printf("jump differs: %s/%s: bpfemu's %u to %ld (the kernel's %u), the kernel's to %ld\n",
				       pk->tool, pk->name, i, t, t >= 0 && t <= (long)e.n ? map[t] : 0, kt);
			ret = 0;
		}
	}
out:
	free(hk);
	free(he);
	free(map);
	free(kept);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s KERNEL EMU [-v]\n", argv[0]);
		return 2;
	}
	bool verbose = argc > 3 && !strcmp(argv[3], "-v");
	size_t nk, ne;
	struct prog *k = read_file(argv[1], &nk), *e = read_file(argv[2], &ne);
	if (nk != ne) {
		fprintf(stderr, "xlcmp: %zu programs loaded on the kernel, %zu under bpfemu\n", nk, ne);
		return 2;
	}
	unsigned len = 0, exact = 0, lines = 0, nolines = 0, aligned = 0, jumps = 0, short_k = 0, short_e = 0;
	for (size_t i = 0; i < nk; i++) {
		const struct prog *pk = &k[i], *pe = &e[i];
		if (strcmp(pk->name, pe->name) || strcmp(pk->tool, pe->tool)) {
			fprintf(stderr, "xlcmp: program %zu is %s/%s on the kernel, %s/%s under bpfemu\n", i, pk->tool,
				pk->name, pe->tool, pe->name);
			return 2;
		}
		short_e += pe->n < pe->loaded;
		short_k += pk->n < pk->loaded;
		len += pk->n == pe->n;
		/* line_info records by (file, line, column) */
		bool sh = pk->nli == pe->nli;
		for (unsigned j = 0; sh && j < pk->nli; j++)
			sh = pk->li[j].file_name_off == pe->li[j].file_name_off &&
			     pk->li[j].line_off == pe->li[j].line_off && pk->li[j].line_col == pe->li[j].line_col;
		lines += sh;
		nolines += sh && !pk->nli;
		if (!sh)
			printf("line_info differs: %s/%s: kernel %u insns %u lines, bpfemu %u insns %u lines (loaded %u)\n",
			       pk->tool, pk->name, pk->n, pk->nli, pe->n, pe->nli, pe->loaded);
		unsigned j = 0;
		bool skip;
		while (j < pk->n && j < pe->n && same_insn(&pk->insns[j], &pe->insns[j], &skip))
			j += skip ? 2 : 1;
		exact += j >= pk->n && j >= pe->n && pk->n == pe->n;
		char pn[160];
		snprintf(pn, sizeof(pn), "%s/%s", pk->tool, pk->name);
		cur_prog = pn;
		cur_verbose = verbose;
		int a = align(pk, pe, (unsigned)i, verbose);
		aligned += a >= 0;
		jumps += a > 0;
		if (a < 0 && !verbose)
			printf("no alignment: %s/%s\n", pk->tool, pk->name);
	}
	printf("%zu programs loaded; shorter than loaded: %u on the kernel, %u under bpfemu\n", nk, short_k, short_e);
	printf("xlated_prog_len the same: %u of %zu\n", len, nk);
	printf("the same instructions (map, helper and call addresses set aside): %u of %zu\n", exact, nk);
	printf("the same line_info records survive (file, line, column, in order): %u of %zu (%u without line_info)\n",
	       lines, nk, nolines);
	printf("the same instructions survive in the same order, the kernel's other rewrites localized: %u of %zu\n",
	       aligned, nk);
	printf("  and every jump bpfemu keeps goes where the kernel's goes: %u of %zu\n", jumps, nk);
	printf("the kernel's other rewrites, by bpfemu's instruction there (programs, places, instructions added):\n");
	for (unsigned m = 0; m < nbuckets; m++)
		printf("  %-40s %4u %5u %+6ld\n", buckets[m].kind, buckets[m].progs, buckets[m].events, buckets[m].added);
	for (size_t i = 0; i < nk; i++) {
		free(k[i].insns);
		free(k[i].li);
		free(e[i].insns);
		free(e[i].li);
	}
	free(k);
	free(e);
	return lines == nk && jumps == nk ? 0 : 1;
}
