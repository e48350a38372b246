/* SPDX-License-Identifier: MIT */
/*
 * tools/replay_synth.c: BTF and programs `bpfemu replay` makes up when the
 * log does not carry them (strace never shows instructions, and shows BTF
 * only up to -s bytes). Deterministic: the same log gives the same bytes.
 *
 * The BTF holds every type id a later call names at its place (map key and
 * value types with the map's sizes, a DATASEC for global data maps) and
 * static FUNCs for func_info; the program has the recorded instruction
 * count, one subprogram per func_info record (called from the main one, so
 * every instruction is reachable), line_info records at the subprogram
 * starts and the next instructions, and returns the recorded test run's
 * value. A load the log says failed gets a program failing the same way:
 * EACCES reads an uninitialized register, EINVAL has an unknown opcode (f7),
 * EFAULT an unreadable instruction pointer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <linux/btf.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "../emu/btf_layout.h"

/* ---- BTF ---- */

struct buf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u32(struct buf *b, __u32 v) { buf_put(b, &v, 4); }

/* offset of s in the string section, added if new */
static __u32 str_off(struct buf *strs, const char *s)
{
	size_t n = strlen(s);
	for (size_t off = 1; !strs->oom && off < strs->len; off += strlen((char *)strs->p + off) + 1)
		if (!strcmp((char *)strs->p + off, s))
			return (__u32)off;
	__u32 off = (__u32)strs->len;
	buf_put(strs, s, n + 1);
	return off;
}

/* a C identifier from a program name ([A-Za-z0-9_.]): '.' and the rest become '_' */
static void ident(const char *name, char *out, size_t len)
{
	size_t o = 0;
	if (!name || !*name)
		name = "main";
	if (isdigit((unsigned char)name[0]) && o + 1 < len)
		out[o++] = '_';
	for (; *name && o + 1 < len; name++)
		out[o++] = isalnum((unsigned char)*name) || *name == '_' ? *name : '_';
	out[o] = '\0';
}

static void btf_type(struct buf *t, __u32 name_off, __u32 kind, __u32 vlen, __u32 size_or_type)
{
	put_u32(t, name_off);
	put_u32(t, (kind << 24) | vlen);
	put_u32(t, size_or_type);
}

unsigned char *synth_btf(const struct btf_needs *n, __u32 *len)
{
	struct buf t = { 0 }, s = { 0 };
	__u32 max = 0;

	buf_put(&s, "", 1);
	for (size_t i = 0; i < n->nuses; i++)
		if (n->uses[i].id > max && n->uses[i].id < (1u << 20))
			max = n->uses[i].id;
	for (__u32 id = 1; id <= max; id++) {
		const struct btf_use *u = NULL;
		for (size_t i = 0; i < n->nuses && !u; i++)
			if (n->uses[i].id == id)
				u = &n->uses[i];
		if (!u || !u->size) {
			btf_type(&t, 0, BTF_KIND_PTR, 0, 0);          /* a filler: void * */
		} else if (u->datasec) {
			btf_type(&t, str_off(&s, ".data"), BTF_KIND_DATASEC, 0, u->size);
		} else if (u->int32_key || u->size == 1 || u->size == 2 || u->size == 4 || u->size == 8 ||
			   u->size == 16) {
			char name[8];
			snprintf(name, sizeof(name), "u%u", u->size * 8);
			btf_type(&t, str_off(&s, name), BTF_KIND_INT, 0, u->size);
			put_u32(&t, u->size * 8);                     /* unsigned, offset 0 */
		} else {
			btf_type(&t, 0, BTF_KIND_STRUCT, 0, u->size);  /* no members, the size alone */
		}
	}
	/* int; int (void); static FUNC "sub" and one per program */
	btf_type(&t, str_off(&s, "int"), BTF_KIND_INT, 0, 4);
	put_u32(&t, BTF_INT_SIGNED << 24 | 32);
	btf_type(&t, 0, BTF_KIND_FUNC_PROTO, 0, max + 1);
	btf_type(&t, str_off(&s, "sub"), BTF_KIND_FUNC, 0, max + 2);
	for (size_t i = 0; i < n->nfuncs; i++) {
		char name[64];
		ident(n->funcs[i], name, sizeof(name));
		bool dup = !strcmp(name, "sub");
		for (size_t k = 0; k < i && !dup; k++) {
			char other[64];
			ident(n->funcs[k], other, sizeof(other));
			dup = !strcmp(name, other);
		}
		if (!dup)
			btf_type(&t, str_off(&s, name), BTF_KIND_FUNC, 0, max + 2);
	}
	/* as many bytes as recorded, when the types fit: the strings take the rest */
	size_t total = sizeof(struct btf_header) + t.len + s.len;
	if (n->rec_size > total) {
		size_t pad = n->rec_size - total;
		unsigned char *z = calloc(1, pad);
		if (z)
			buf_put(&s, z, pad);
		free(z);
	}
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = (__u32)t.len, .str_off = (__u32)t.len, .str_len = (__u32)s.len,
	};
	struct buf out = { 0 };
	buf_put(&out, &h, sizeof(h));
	buf_put(&out, t.p, t.len);
	buf_put(&out, s.p, s.len);
	free(t.p);
	free(s.p);
	if (t.oom || s.oom || out.oom) {
		free(out.p);
		return NULL;
	}
	*len = (__u32)out.len;
	return out.p;
}

/* ---- the FUNCs of a BTF blob ---- */

struct func { __u32 id; const char *name; bool global; };

/* size of the type record at p (its kind's trailing data), 0 if unknown */
/* the record's whole size, or 0 for an unknown kind */
static size_t type_size(const struct btf_type *t)
{
	long n = emu_btf_type_extra(t);
	return n < 0 ? 0 : sizeof(*t) + (size_t)n;
}

static size_t funcs_of(const unsigned char *b, __u32 len, struct func *out, size_t max)
{
	struct btf_header h;
	size_t n = 0;
	if (!b || len < sizeof(h))
		return 0;
	memcpy(&h, b, sizeof(h));
	if (h.magic != BTF_MAGIC || h.hdr_len > len || (__u64)h.hdr_len + h.type_off + h.type_len > len ||
	    (__u64)h.hdr_len + h.str_off + h.str_len > len)
		return 0;
	const unsigned char *types = b + h.hdr_len + h.type_off, *strs = b + h.hdr_len + h.str_off;
	__u32 id = 1;
	for (size_t off = 0; off + sizeof(struct btf_type) <= h.type_len && n < max; id++) {
		struct btf_type t;
		memcpy(&t, types + off, sizeof(t));
		size_t sz = type_size(&t);
		if (!sz)
			break;
		if (BTF_INFO_KIND(t.info) == BTF_KIND_FUNC && t.name_off < h.str_len &&
		    memchr(strs + t.name_off, '\0', h.str_len - t.name_off))
			out[n++] = (struct func){ id, (const char *)strs + t.name_off, BTF_INFO_VLEN(t.info) != 0 };
		off += sz;
	}
	return n;
}

/* ---- programs ---- */

#define MOV_K(dst, k) ((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (dst), .imm = (k) })
#define EXIT ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

int synth_prog(const struct prog_shape *s, struct prog_made *m)
{
	__u32 nsub = s->func_info_cnt ? s->func_info_cnt : 1;
	__u32 cnt = s->insn_cnt, need = 3 * (nsub - 1) + 2;

	memset(m, 0, sizeof(*m));
	if (nsub > 256)
		nsub = 256;
	if (cnt > (1u << 20)) {
		/* more than the kernel takes: E2BIG before a byte is read */
		m->insns = calloc(2, sizeof(*m->insns));
		m->insn_cnt = cnt;
		return m->insns ? 0 : -ENOMEM;
	}
	if (cnt && cnt < need)
		cnt = need;
	m->insn_cnt = cnt;
	m->bad_insns = s->fail == EFAULT;
	m->insns = calloc(cnt ? cnt : 1, sizeof(*m->insns));
	if (!m->insns)
		return -ENOMEM;
	if (!cnt)
		return 0;

	/* main: a call of each subprogram, r0 = retval ..., exit; then each subprogram: r0 = 0, exit */
	__u32 main_len = cnt - 2 * (nsub - 1), starts[256];
	starts[0] = 0;
	for (__u32 k = 1; k < nsub; k++)
		starts[k] = main_len + 2 * (k - 1);
	for (__u32 i = 0; i < main_len - 1; i++)
		m->insns[i] = MOV_K(0, (int)s->retval);
	for (__u32 k = 1; k < nsub; k++) {
		__u32 at = k - 1;
		m->insns[at] = (struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_CALL,
						  .imm = (int)(starts[k] - (at + 1)) };
		m->insns[starts[k]] = MOV_K(0, 0);
		m->insns[starts[k] + 1] = EXIT;
	}
	m->insns[main_len - 1] = EXIT;
	if (s->fail == EACCES)          /* r0 = r2: R2 !read_ok */
		m->insns[nsub - 1] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .src_reg = 2 };
	else if (s->fail == EINVAL)     /* no such ALU operation: unknown opcode f7 */
		m->insns[nsub - 1] = (struct bpf_insn){ .code = BPF_ALU64 | 0xf0 | BPF_K };

	if (s->func_info_cnt && s->func_info_rec_size >= sizeof(struct bpf_func_info)) {
		struct func f[512];
		size_t nf = funcs_of(s->btf, s->btf_len, f, 512);
		size_t main_f = nf, used = 0;
		size_t nlen = s->name ? strlen(s->name) : 0;
		char want[64];
		ident(s->name, want, sizeof(want));
		for (size_t i = 0; i < nf && main_f == nf; i++)
			if (!strcmp(f[i].name, want) || (s->name && nlen >= 15 && !strncmp(f[i].name, s->name, nlen)))
				main_f = i;
		if (main_f == nf && nf)
			main_f = 0;
		m->func_info = calloc(s->func_info_cnt, s->func_info_rec_size);
		if (!m->func_info)
			return -ENOMEM;
		for (__u32 k = 0; k < s->func_info_cnt && k < nsub; k++) {
			struct bpf_func_info *r = (void *)((char *)m->func_info + (size_t)k * s->func_info_rec_size);
			r->insn_off = starts[k];
			if (!nf)
				continue;
			if (!k) {
				r->type_id = f[main_f].id;
				continue;
			}
			/* subprograms: ours ("sub"), else static FUNCs, else any other */
			size_t pick = nf;
			for (size_t i = 0; i < nf && pick == nf; i++)
				if (!strcmp(f[i].name, "sub"))
					pick = i;
			for (size_t tries = 0; pick == nf && tries < 2 * nf; tries++) {
				size_t i = used++ % nf;
				if (i != main_f && (!f[i].global || tries >= nf))
					pick = i;
			}
			r->type_id = f[pick == nf ? main_f : pick].id;
		}
	}
	if (s->line_info_cnt && s->line_info_rec_size >= sizeof(struct bpf_line_info)) {
		m->line_info = calloc(s->line_info_cnt, s->line_info_rec_size);
		if (!m->line_info)
			return -ENOMEM;
		/* the subprogram starts, then the lowest other offsets, in order */
		bool *at = calloc(cnt, 1);
		if (!at)
			return -ENOMEM;
		__u32 have = 0;
		for (__u32 k = 0; k < nsub && have < s->line_info_cnt; k++, have++)
			at[starts[k]] = true;
		for (__u32 i = 0; i < cnt && have < s->line_info_cnt; i++)
			if (!at[i])
				at[i] = true, have++;
		__u32 r = 0;
		for (__u32 i = 0; i < cnt && r < s->line_info_cnt; i++)
			if (at[i]) {
				struct bpf_line_info *l = (void *)((char *)m->line_info + (size_t)r++ * s->line_info_rec_size);
				l->insn_off = i;
			}
		free(at);
	}
	return 0;
}

void prog_made_free(struct prog_made *m)
{
	free(m->insns);
	free(m->func_info);
	free(m->line_info);
	memset(m, 0, sizeof(*m));
}
