/* SPDX-License-Identifier: MIT */
/*
 * emu/btf.c: BTF objects.
 *
 * BPF_BTF_LOAD validates a BTF blob the way the kernel's BTF verifier does
 * (header, string section, every type's encoding, then size resolution with
 * loop detection), in the same order, with the same errno and the same log
 * lines, then keeps the raw bytes in an object file (EMU_KIND_BTF) whose fd,
 * like the kernel's, is read-only. The map side re-parses the stored bytes to
 * check key/value types against the map's sizes (map_check_btf) and find a
 * bpf_spin_lock in the value; the parsed types of the last blobs verified are
 * kept, keyed by their bytes, so that it (and a load of the same bytes
 * without a log) does not verify them again.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/btf.h>

#include "btf.h"
#include "map.h"
#include "os.h"

#define BTF_MAX_SIZE (16u * 1024 * 1024)
#define BTF_INFO_MASK 0x9f1fffffu
#define BTF_INT_MASK 0x0fffffffu
#define NR_KINDS (BTF_KIND_ENUM64 + 1)
#define MAX_RESOLVE_DEPTH 32
#define KSYM_NAME_LEN 512
#define LOG_TMP_SIZE 1024               /* BPF_VERIFIER_TMP_LOG_SIZE: one message at most */
#define BPF_LOG_FIXED 8
#define BPF_LOG_MASK 15u
#define ENOTSUPP_ 524

#define BITS_PER_BYTE_MASKED(b) ((b) & 7)
#define BITS_ROUNDDOWN_BYTES(b) ((b) >> 3)
#define BITS_ROUNDUP_BYTES(b) (((b) + 7) >> 3)
#define BTF_TYPE_ID_VALID(id) ((id) <= BTF_MAX_TYPE)

/* ---- the log (kernel/bpf/log.c), kept whole and cut at the end ---- */

struct blog {
	__u32 level;
	char *ubuf;
	__u32 len_total;
	char *buf;
	size_t len, cap;
	bool any;
	bool oom;
};

static void blog_v(struct blog *l, const char *fmt, va_list ap)
{
	char tmp[LOG_TMP_SIZE];
	if (!l->level)
		return;
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	l->any = true;
	if (l->len + (size_t)n + 1 > l->cap) {
		size_t c = l->cap ? l->cap * 2 : 4096;
		while (c < l->len + (size_t)n + 1)
			c *= 2;
		char *b = realloc(l->buf, c);
		if (!b) {
			l->oom = true;
			return;
		}
		l->buf = b;
		l->cap = c;
	}
	memcpy(l->buf + l->len, tmp, (size_t)n);
	l->len += (size_t)n;
	l->buf[l->len] = '\0';
}

static void __attribute__((format(printf, 2, 3))) blog(struct blog *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	blog_v(l, fmt, ap);
	va_end(ap);
}

/* bpf_vlog_init(): the log attributes must be sane */
static int blog_init(struct blog *l, __u32 level, void *ubuf, __u32 size)
{
	memset(l, 0, sizeof(*l));
	l->level = level;
	l->ubuf = ubuf;
	l->len_total = size;
	if (!!ubuf != !!size)
		return -EINVAL;
	if (ubuf && level == 0)
		return -EINVAL;
	if (level & ~BPF_LOG_MASK)
		return -EINVAL;
	if (size > (UINT32_MAX >> 2))
		return -EINVAL;
	return 0;
}

/* bpf_vlog_finalize() + btf's finalize_log(): copy what fits to the user
 * buffer (the head in BPF_LOG_FIXED mode, the tail otherwise), report the
 * true size, ENOSPC when truncated, EFAULT for a bad buffer. */
static int blog_finalize(struct blog *l, __u32 *utrue_size)
{
	__u32 len_max = l->any ? (__u32)l->len + 1 : 0;
	int err = 0;

	if (l->level && l->ubuf && l->any) {
		const char *src = l->buf ? l->buf : "";
		size_t total = l->len, n = total;
		if (n > l->len_total - 1)
			n = l->len_total - 1;
		if (!(l->level & BPF_LOG_FIXED))
			src += total - n;
		char zero = '\0';
		if (emu_copy_to_user(l->ubuf, src, n) || emu_copy_to_user(l->ubuf + n, &zero, 1))
			err = -EFAULT;
		else if (len_max > l->len_total)
			err = -ENOSPC;
	}
	if (!l->level)
		len_max = 0;
	if (utrue_size && emu_copy_to_user(utrue_size, &len_max, sizeof(len_max)))
		err = -EFAULT;
	return err;
}

/* ---- the BTF being verified ---- */

enum { NOT_VISITED, VISITED, RESOLVED };
enum { RESOLVE_TBD, RESOLVE_PTR, RESOLVE_STRUCT_OR_ARRAY };

struct vertex {
	const struct btf_type *t;
	__u32 type_id;
	__u16 next_member;
};

struct env {
	unsigned char *alloc;
	unsigned char *data;           /* the blob, placed so that the type section is 4-aligned */
	__u32 data_size;
	struct btf_header hdr;
	const unsigned char *nohdr;
	const char *strings;
	const struct btf_type **types;
	__u32 nr_types, types_cap;
	__u32 *resolved_sizes, *resolved_ids;
	unsigned char *visit;
	struct blog log;
	int phase;                     /* 0: CHECK_META, 1: CHECK_TYPE */
	__u32 log_type_id;
	int resolve_mode;
	struct vertex stack[MAX_RESOLVE_DEPTH];
	int top;
	bool metas_ok;                 /* parse_struct_metas() passed (a kept env: verified_put) */
};

struct kind_ops {
	int (*check_meta)(struct env *e, const struct btf_type *t, __u32 meta_left);
	int (*resolve)(struct env *e, const struct vertex *v);
	int (*check_member)(struct env *e, const struct btf_type *st, const struct btf_member *m,
			    const struct btf_type *mt);
	int (*check_kflag_member)(struct env *e, const struct btf_type *st, const struct btf_member *m,
				  const struct btf_type *mt);
	void (*log_details)(struct env *e, const struct btf_type *t);
};

static const struct btf_type btf_void;
static const struct kind_ops *const kind_ops[NR_KINDS];
static const char *const kind_str[NR_KINDS] = {
	"UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE",
	"CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG",
	"ENUM64",
};

static inline __u32 kind_of(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static inline __u16 vlen_of(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }
static inline bool kflag_of(const struct btf_type *t) { return BTF_INFO_KFLAG(t->info); }
static inline const struct kind_ops *ops_of(const struct btf_type *t) { return kind_ops[kind_of(t)]; }
static inline __u32 int_data(const struct btf_type *t) { return *(const __u32 *)(t + 1); }
static inline const struct btf_array *array_of(const struct btf_type *t) { return (const void *)(t + 1); }
static inline const struct btf_member *members_of(const struct btf_type *t) { return (const void *)(t + 1); }

static bool is_void(const struct btf_type *t) { return t == &btf_void; }
static bool is_fwd(const struct btf_type *t) { return kind_of(t) == BTF_KIND_FWD; }
static bool is_ptr(const struct btf_type *t) { return kind_of(t) == BTF_KIND_PTR; }
static bool is_int(const struct btf_type *t) { return kind_of(t) == BTF_KIND_INT; }
static bool is_array(const struct btf_type *t) { return kind_of(t) == BTF_KIND_ARRAY; }
static bool is_func(const struct btf_type *t) { return kind_of(t) == BTF_KIND_FUNC; }
static bool is_func_proto(const struct btf_type *t) { return kind_of(t) == BTF_KIND_FUNC_PROTO; }
static bool is_var(const struct btf_type *t) { return kind_of(t) == BTF_KIND_VAR; }
static bool is_datasec(const struct btf_type *t) { return kind_of(t) == BTF_KIND_DATASEC; }
static bool is_decl_tag(const struct btf_type *t) { return kind_of(t) == BTF_KIND_DECL_TAG; }
static bool is_type_tag(const struct btf_type *t) { return kind_of(t) == BTF_KIND_TYPE_TAG; }
static bool is_typedef(const struct btf_type *t) { return kind_of(t) == BTF_KIND_TYPEDEF; }
static bool is_struct(const struct btf_type *t)
{
	return kind_of(t) == BTF_KIND_STRUCT || kind_of(t) == BTF_KIND_UNION;
}
static bool is_modifier(const struct btf_type *t)
{
	switch (kind_of(t)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return true;
	}
	return false;
}
static bool nosize(const struct btf_type *t)
{
	return is_void(t) || is_fwd(t) || is_func(t) || is_func_proto(t);
}
static bool nosize_or_null(const struct btf_type *t) { return !t || nosize(t); }
static bool has_size(const struct btf_type *t)
{
	switch (kind_of(t)) {
	case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_ENUM:
	case BTF_KIND_DATASEC: case BTF_KIND_FLOAT: case BTF_KIND_ENUM64:
		return !is_void(t);
	}
	return false;
}
static bool needs_resolve(const struct btf_type *t)
{
	return is_modifier(t) || is_ptr(t) || is_struct(t) || is_array(t) || is_var(t) || is_func(t) ||
	       is_decl_tag(t) || is_datasec(t);
}
static bool resolve_source_only(const struct btf_type *t)
{
	return is_var(t) || is_decl_tag(t) || is_datasec(t);
}
static bool decl_tag_target(const struct btf_type *t)
{
	return is_func(t) || is_struct(t) || is_var(t) || is_typedef(t);
}
static bool int_is_regular(const struct btf_type *t)
{
	__u32 d = int_data(t);
	__u32 bits = BTF_INT_BITS(d), bytes = BITS_ROUNDUP_BYTES(bits);
	return !(BITS_PER_BYTE_MASKED(bits) || BTF_INT_OFFSET(d) ||
		 (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8 && bytes != 16));
}

static const struct btf_type *type_by_id(const struct env *e, __u32 id)
{
	return id < e->nr_types ? e->types[id] : NULL;
}

static bool name_offset_valid(const struct env *e, __u32 off) { return off < e->hdr.str_len; }
static const char *str_by_offset(const struct env *e, __u32 off)
{
	return off < e->hdr.str_len ? e->strings + off : NULL;
}
static const char *name_of(const struct env *e, __u32 off)    /* __btf_name_by_offset */
{
	if (!off)
		return "(anon)";
	const char *s = str_by_offset(e, off);
	return s ? s : "(invalid-name-offset)";
}
static bool name_valid_identifier(const struct env *e, __u32 off)
{
	const char *s = str_by_offset(e, off), *limit;
	/* Linux 6.18 (__btf_name_char_ok): '.' is allowed anywhere, first
	 * character included; clang names function-scope statics "func.var" */
	if (!s || (!isalpha((unsigned char)*s) && *s != '_' && *s != '.'))
		return false;
	limit = s + KSYM_NAME_LEN;
	for (s++; *s && s < limit; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return false;
	return !*s;
}
static bool name_valid_section(const struct env *e, __u32 off)
{
	const char *s = str_by_offset(e, off), *limit;
	if (!s || !*s)
		return false;
	limit = s + KSYM_NAME_LEN;
	for (; *s && s < limit; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return !*s;
}

/* ---- log helpers in the kernel's formats ---- */

static void __attribute__((format(printf, 4, 5)))
log_type(struct env *e, const struct btf_type *t, bool details, const char *fmt, ...)
{
	if (!e->log.level)
		return;
	blog(&e->log, "[%u] %s %s%s", e->log_type_id, kind_str[kind_of(t)], name_of(e, t->name_off),
	     details ? " " : "");
	if (details)
		ops_of(t)->log_details(e, t);
	if (fmt && *fmt) {
		va_list ap;
		blog(&e->log, " ");
		va_start(ap, fmt);
		blog_v(&e->log, fmt, ap);
		va_end(ap);
	}
	blog(&e->log, "\n");
}
#define LOG_TYPE(e, t, ...) log_type((e), (t), true, __VA_ARGS__)
#define LOG_BASIC(e, t, ...) log_type((e), (t), false, __VA_ARGS__)

static void __attribute__((format(printf, 4, 5)))
log_member(struct env *e, const struct btf_type *st, const struct btf_member *m, const char *fmt, ...)
{
	if (!e->log.level)
		return;
	if (e->phase != 0)
		LOG_TYPE(e, st, NULL);
	if (kflag_of(st))
		blog(&e->log, "\t%s type_id=%u bitfield_size=%u bits_offset=%u", name_of(e, m->name_off), m->type,
		     BTF_MEMBER_BITFIELD_SIZE(m->offset), BTF_MEMBER_BIT_OFFSET(m->offset));
	else
		blog(&e->log, "\t%s type_id=%u bits_offset=%u", name_of(e, m->name_off), m->type, m->offset);
	if (fmt && *fmt) {
		va_list ap;
		blog(&e->log, " ");
		va_start(ap, fmt);
		blog_v(&e->log, fmt, ap);
		va_end(ap);
	}
	blog(&e->log, "\n");
}

static void __attribute__((format(printf, 4, 5)))
log_vsi(struct env *e, const struct btf_type *ds, const struct btf_var_secinfo *v, const char *fmt, ...)
{
	if (!e->log.level)
		return;
	if (e->phase != 0)
		LOG_TYPE(e, ds, NULL);
	blog(&e->log, "\t type_id=%u offset=%u size=%u", v->type, v->offset, v->size);
	if (fmt && *fmt) {
		va_list ap;
		blog(&e->log, " ");
		va_start(ap, fmt);
		blog_v(&e->log, fmt, ap);
		va_end(ap);
	}
	blog(&e->log, "\n");
}

/* ---- resolution state ---- */

static bool is_resolve_sink(const struct env *e, const struct btf_type *next)
{
	switch (e->resolve_mode) {
	case RESOLVE_TBD:
		return !needs_resolve(next);
	case RESOLVE_PTR:
		return !is_modifier(next) && !is_ptr(next);
	default:
		return !is_modifier(next) && !is_array(next) && !is_struct(next);
	}
}
static bool is_resolved(const struct env *e, __u32 id) { return e->visit[id] == RESOLVED; }

static int stack_push(struct env *e, const struct btf_type *t, __u32 id)
{
	if (e->top == MAX_RESOLVE_DEPTH)
		return -E2BIG;
	if (e->visit[id] != NOT_VISITED)
		return -EEXIST;
	e->visit[id] = VISITED;
	struct vertex *v = &e->stack[e->top++];
	v->t = t;
	v->type_id = id;
	v->next_member = 0;
	if (e->resolve_mode == RESOLVE_TBD) {
		if (is_ptr(t))
			e->resolve_mode = RESOLVE_PTR;
		else if (is_struct(t) || is_array(t))
			e->resolve_mode = RESOLVE_STRUCT_OR_ARRAY;
	}
	return 0;
}
static void stack_set_next_member(struct env *e, __u16 n) { e->stack[e->top - 1].next_member = n; }
static void stack_pop_resolved(struct env *e, __u32 rid, __u32 rsize)
{
	__u32 id = e->stack[--e->top].type_id;
	e->resolved_sizes[id] = rsize;
	e->resolved_ids[id] = rid;
	e->visit[id] = RESOLVED;
}

/* btf_type_id_size() */
static const struct btf_type *type_id_size(const struct env *e, __u32 *id, __u32 *ret_size)
{
	__u32 sid = *id, size = 0;
	const struct btf_type *st = type_by_id(e, sid);
	if (nosize_or_null(st))
		return NULL;
	if (has_size(st)) {
		size = st->size;
	} else if (is_array(st)) {
		size = e->resolved_sizes[sid];
	} else if (is_ptr(st)) {
		size = 8;
	} else {
		if (!is_modifier(st) && !is_var(st))
			return NULL;
		sid = e->resolved_ids[sid];
		st = type_by_id(e, sid);
		if (nosize_or_null(st))
			return NULL;
		else if (has_size(st))
			size = st->size;
		else if (is_array(st))
			size = e->resolved_sizes[sid];
		else if (is_ptr(st))
			size = 8;
		else
			return NULL;
	}
	*id = sid;
	if (ret_size)
		*ret_size = size;
	return st;
}

static const struct btf_type *type_id_resolve(const struct env *e, __u32 *id)
{
	*id = e->resolved_ids[*id];
	return type_by_id(e, *id);
}

/* ---- per-kind checks ---- */

static int df_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			   const struct btf_type *mt)
{
	(void)m; (void)mt;
	LOG_BASIC(e, st, "Unsupported check_member");
	return -EINVAL;
}
static int df_check_kflag_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
				 const struct btf_type *mt)
{
	(void)m; (void)mt;
	LOG_BASIC(e, st, "Unsupported check_kflag_member");
	return -EINVAL;
}
static int generic_check_kflag_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
				      const struct btf_type *mt)
{
	if (BTF_MEMBER_BITFIELD_SIZE(m->offset)) {
		log_member(e, st, m, "Invalid member bitfield_size");
		return -EINVAL;
	}
	return ops_of(mt)->check_member(e, st, m, mt);
}
static int df_resolve(struct env *e, const struct vertex *v)
{
	LOG_BASIC(e, v->t, "Unsupported resolve");
	return -EINVAL;
}

/* INT */
static int int_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			    const struct btf_type *mt)
{
	__u32 d = int_data(mt), off = m->offset, size = st->size;
	if (UINT32_MAX - off < BTF_INT_OFFSET(d)) {
		log_member(e, st, m, "bits_offset exceeds U32_MAX");
		return -EINVAL;
	}
	off += BTF_INT_OFFSET(d);
	__u32 bytes = BITS_ROUNDDOWN_BYTES(off);
	__u32 nr_copy = BTF_INT_BITS(d) + BITS_PER_BYTE_MASKED(off);
	if (nr_copy > 128) {
		log_member(e, st, m, "nr_copy_bits exceeds 128");
		return -EINVAL;
	}
	if (size < bytes || size - bytes < BITS_ROUNDUP_BYTES(nr_copy)) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static int int_check_kflag_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
				  const struct btf_type *mt)
{
	__u32 d = int_data(mt), size = st->size;
	if (!int_is_regular(mt)) {
		log_member(e, st, m, "Invalid member base type");
		return -EINVAL;
	}
	__u32 nr_bits = BTF_MEMBER_BITFIELD_SIZE(m->offset), off = BTF_MEMBER_BIT_OFFSET(m->offset);
	if (!nr_bits) {
		if (BITS_PER_BYTE_MASKED(off)) {
			log_member(e, st, m, "Invalid member offset");
			return -EINVAL;
		}
		nr_bits = BTF_INT_BITS(d);
	} else if (nr_bits > BTF_INT_BITS(d)) {
		log_member(e, st, m, "Invalid member bitfield_size");
		return -EINVAL;
	}
	__u32 bytes = BITS_ROUNDDOWN_BYTES(off), nr_copy = nr_bits + BITS_PER_BYTE_MASKED(off);
	if (nr_copy > 128) {
		log_member(e, st, m, "nr_copy_bits exceeds 128");
		return -EINVAL;
	}
	if (size < bytes || size - bytes < BITS_ROUNDUP_BYTES(nr_copy)) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static int int_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	if (left < 4) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, 4u);
		return -EINVAL;
	}
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	__u32 d = int_data(t);
	if (d & ~BTF_INT_MASK) {
		LOG_BASIC(e, t, "Invalid int_data:%x", d);
		return -EINVAL;
	}
	__u32 nr_bits = BTF_INT_BITS(d) + BTF_INT_OFFSET(d);
	if (nr_bits > 128) {
		LOG_TYPE(e, t, "nr_bits exceeds %zu", (size_t)128);
		return -EINVAL;
	}
	if (BITS_ROUNDUP_BYTES(nr_bits) > t->size) {
		LOG_TYPE(e, t, "nr_bits exceeds type_size");
		return -EINVAL;
	}
	__u32 enc = BTF_INT_ENCODING(d);
	if (enc && enc != BTF_INT_SIGNED && enc != BTF_INT_CHAR && enc != BTF_INT_BOOL) {
		LOG_TYPE(e, t, "Unsupported encoding");
		return -ENOTSUPP_;
	}
	LOG_TYPE(e, t, NULL);
	return 4;
}
static void int_log(struct env *e, const struct btf_type *t)
{
	__u32 d = int_data(t), enc = BTF_INT_ENCODING(d);
	const char *s = enc == 0 ? "(none)" : enc == BTF_INT_SIGNED ? "SIGNED" : enc == BTF_INT_CHAR ? "CHAR"
		      : enc == BTF_INT_BOOL ? "BOOL" : "UNKN";
	blog(&e->log, "size=%u bits_offset=%u nr_bits=%u encoding=%s", t->size, BTF_INT_OFFSET(d),
	     BTF_INT_BITS(d), s);
}

/* modifiers, PTR */
static int modifier_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
				 const struct btf_type *mt)
{
	__u32 rid = m->type;
	(void)mt;
	const struct btf_type *rt = type_id_size(e, &rid, NULL);
	if (!rt) {
		log_member(e, st, m, "Invalid member");
		return -EINVAL;
	}
	struct btf_member rm = *m;
	rm.type = rid;
	return ops_of(rt)->check_member(e, st, &rm, rt);
}
static int modifier_check_kflag_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
				       const struct btf_type *mt)
{
	__u32 rid = m->type;
	(void)mt;
	const struct btf_type *rt = type_id_size(e, &rid, NULL);
	if (!rt) {
		log_member(e, st, m, "Invalid member");
		return -EINVAL;
	}
	struct btf_member rm = *m;
	rm.type = rid;
	return ops_of(rt)->check_kflag_member(e, st, &rm, rt);
}
static int ptr_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			    const struct btf_type *mt)
{
	__u32 off = m->offset, bytes = BITS_ROUNDDOWN_BYTES(off);
	(void)mt;
	if (BITS_PER_BYTE_MASKED(off)) {
		log_member(e, st, m, "Member is not byte aligned");
		return -EINVAL;
	}
	if (st->size - bytes < 8) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static int ref_type_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	(void)left;
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	if (kflag_of(t) && !is_type_tag(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	if (!BTF_TYPE_ID_VALID(t->type)) {
		LOG_TYPE(e, t, "Invalid type_id");
		return -EINVAL;
	}
	if (is_typedef(t)) {
		if (!t->name_off || !name_valid_identifier(e, t->name_off)) {
			LOG_TYPE(e, t, "Invalid name");
			return -EINVAL;
		}
	} else if (is_type_tag(t)) {
		const char *v = str_by_offset(e, t->name_off);
		if (!v || !v[0]) {
			LOG_TYPE(e, t, "Invalid name");
			return -EINVAL;
		}
	} else if (t->name_off) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return 0;
}

/* the shared tail of modifier/ptr/var resolution */
static int follow_next(struct env *e, const struct vertex *v, bool ptr_or_var, bool var, __u32 *next_id,
		       const struct btf_type **next, bool *pushed)
{
	*pushed = false;
	*next_id = v->t->type;
	*next = type_by_id(e, *next_id);
	if (!*next || resolve_source_only(*next)) {
		LOG_TYPE(e, v->t, "Invalid type_id");
		return -EINVAL;
	}
	if (!is_resolve_sink(e, *next) && !is_resolved(e, *next_id)) {
		*pushed = true;
		return stack_push(e, *next, *next_id);
	}
	if (ptr_or_var && is_modifier(*next)) {
		__u32 rid = *next_id;
		const struct btf_type *rt = type_id_resolve(e, &rid);
		if (is_ptr(rt) && !is_resolve_sink(e, rt) && !is_resolved(e, rid)) {
			*pushed = true;
			return stack_push(e, rt, rid);
		}
	}
	(void)var;
	return 0;
}

static int modifier_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_type *next;
	__u32 nid;
	bool pushed;
	int err = follow_next(e, v, false, false, &nid, &next, &pushed);
	if (err || pushed)
		return err;
	if (!type_id_size(e, &nid, NULL)) {
		if (is_resolved(e, nid))
			next = type_id_resolve(e, &nid);
		if (!is_void(next) && !is_fwd(next) && !is_func_proto(next)) {
			LOG_TYPE(e, v->t, "Invalid type_id");
			return -EINVAL;
		}
	}
	stack_pop_resolved(e, nid, 0);
	return 0;
}
static int ptr_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_type *next;
	__u32 nid;
	bool pushed;
	int err = follow_next(e, v, true, false, &nid, &next, &pushed);
	if (err || pushed)
		return err;
	if (!type_id_size(e, &nid, NULL)) {
		if (is_resolved(e, nid))
			next = type_id_resolve(e, &nid);
		if (!is_void(next) && !is_fwd(next) && !is_func_proto(next)) {
			LOG_TYPE(e, v->t, "Invalid type_id");
			return -EINVAL;
		}
	}
	stack_pop_resolved(e, nid, 0);
	return 0;
}
static int var_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_type *next;
	__u32 nid;
	bool pushed;
	int err = follow_next(e, v, true, true, &nid, &next, &pushed);
	if (err || pushed)
		return err;
	if (!type_id_size(e, &nid, NULL)) {
		LOG_TYPE(e, v->t, "Invalid type_id");
		return -EINVAL;
	}
	stack_pop_resolved(e, nid, 0);
	return 0;
}
static void ref_type_log(struct env *e, const struct btf_type *t) { blog(&e->log, "type_id=%u", t->type); }

/* FWD */
static int fwd_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	(void)left;
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	if (t->type) {
		LOG_TYPE(e, t, "type != 0");
		return -EINVAL;
	}
	if (!t->name_off || !name_valid_identifier(e, t->name_off)) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return 0;
}
static void fwd_log(struct env *e, const struct btf_type *t)
{
	blog(&e->log, "%s", kflag_of(t) ? "union" : "struct");
}

/* ARRAY */
static int array_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			      const struct btf_type *mt)
{
	__u32 off = m->offset, aid = m->type, asize = 0;
	(void)mt;
	if (BITS_PER_BYTE_MASKED(off)) {
		log_member(e, st, m, "Member is not byte aligned");
		return -EINVAL;
	}
	type_id_size(e, &aid, &asize);
	if (st->size - BITS_ROUNDDOWN_BYTES(off) < asize) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static int array_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	const struct btf_array *a = array_of(t);
	if (left < sizeof(*a)) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, (__u32)sizeof(*a));
		return -EINVAL;
	}
	if (t->name_off) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	if (t->size) {
		LOG_TYPE(e, t, "size != 0");
		return -EINVAL;
	}
	if (!a->type || !BTF_TYPE_ID_VALID(a->type)) {
		LOG_TYPE(e, t, "Invalid elem");
		return -EINVAL;
	}
	if (!a->index_type || !BTF_TYPE_ID_VALID(a->index_type)) {
		LOG_TYPE(e, t, "Invalid index");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return sizeof(*a);
}
static int array_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_array *a = array_of(v->t);
	__u32 iid = a->index_type, eid = a->type, esize = 0;
	const struct btf_type *it = type_by_id(e, iid), *et;

	if (nosize_or_null(it) || resolve_source_only(it)) {
		LOG_TYPE(e, v->t, "Invalid index");
		return -EINVAL;
	}
	if (!is_resolve_sink(e, it) && !is_resolved(e, iid))
		return stack_push(e, it, iid);
	it = type_id_size(e, &iid, NULL);
	if (!it || !is_int(it) || !int_is_regular(it)) {
		LOG_TYPE(e, v->t, "Invalid index");
		return -EINVAL;
	}
	et = type_by_id(e, eid);
	if (nosize_or_null(et) || resolve_source_only(et)) {
		LOG_TYPE(e, v->t, "Invalid elem");
		return -EINVAL;
	}
	if (!is_resolve_sink(e, et) && !is_resolved(e, eid))
		return stack_push(e, et, eid);
	et = type_id_size(e, &eid, &esize);
	if (!et) {
		LOG_TYPE(e, v->t, "Invalid elem");
		return -EINVAL;
	}
	if (is_int(et) && !int_is_regular(et)) {
		LOG_TYPE(e, v->t, "Invalid array of int");
		return -EINVAL;
	}
	if (a->nelems && esize > UINT32_MAX / a->nelems) {
		LOG_TYPE(e, v->t, "Array size overflows U32_MAX");
		return -EINVAL;
	}
	stack_pop_resolved(e, eid, esize * a->nelems);
	return 0;
}
static void array_log(struct env *e, const struct btf_type *t)
{
	const struct btf_array *a = array_of(t);
	blog(&e->log, "type_id=%u index_type_id=%u nr_elems=%u", a->type, a->index_type, a->nelems);
}

/* STRUCT, UNION */
static __u32 member_bit_offset(const struct btf_type *st, const struct btf_member *m)
{
	return kflag_of(st) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
}
static int struct_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			       const struct btf_type *mt)
{
	__u32 off = m->offset;
	if (BITS_PER_BYTE_MASKED(off)) {
		log_member(e, st, m, "Member is not byte aligned");
		return -EINVAL;
	}
	if (st->size - BITS_ROUNDDOWN_BYTES(off) < mt->size) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static int struct_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	bool is_union = kind_of(t) == BTF_KIND_UNION;
	__u32 needed = vlen_of(t) * (__u32)sizeof(struct btf_member), last = 0;
	const struct btf_member *m = members_of(t);

	if (left < needed) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, needed);
		return -EINVAL;
	}
	if (t->name_off && !name_valid_identifier(e, t->name_off)) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	for (__u16 i = 0; i < vlen_of(t); i++, m++) {
		if (!name_offset_valid(e, m->name_off)) {
			log_member(e, t, m, "Invalid member name_offset:%u", m->name_off);
			return -EINVAL;
		}
		if (m->name_off && !name_valid_identifier(e, m->name_off)) {
			log_member(e, t, m, "Invalid name");
			return -EINVAL;
		}
		if (!m->type || !BTF_TYPE_ID_VALID(m->type)) {
			log_member(e, t, m, "Invalid type_id");
			return -EINVAL;
		}
		__u32 off = member_bit_offset(t, m);
		if (is_union && off) {
			log_member(e, t, m, "Invalid member bits_offset");
			return -EINVAL;
		}
		if (last > off) {
			log_member(e, t, m, "Invalid member bits_offset");
			return -EINVAL;
		}
		if (BITS_ROUNDUP_BYTES(off) > t->size) {
			log_member(e, t, m, "Member bits_offset exceeds its struct size");
			return -EINVAL;
		}
		log_member(e, t, m, NULL);
		last = off;
	}
	return (int)needed;
}
static int struct_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_member *m;
	int err;

	if (v->next_member) {
		m = members_of(v->t) + v->next_member - 1;
		__u32 lid = m->type;
		if (!is_resolved(e, lid))
			return -EINVAL;
		const struct btf_type *lt = type_by_id(e, lid);
		err = kflag_of(v->t) ? ops_of(lt)->check_kflag_member(e, v->t, m, lt)
				     : ops_of(lt)->check_member(e, v->t, m, lt);
		if (err)
			return err;
	}
	for (__u16 i = v->next_member; i < vlen_of(v->t); i++) {
		m = members_of(v->t) + i;
		__u32 mid = m->type;
		const struct btf_type *mt = type_by_id(e, mid);
		if (nosize_or_null(mt) || resolve_source_only(mt)) {
			log_member(e, v->t, m, "Invalid member");
			return -EINVAL;
		}
		if (!is_resolve_sink(e, mt) && !is_resolved(e, mid)) {
			stack_set_next_member(e, i + 1);
			return stack_push(e, mt, mid);
		}
		err = kflag_of(v->t) ? ops_of(mt)->check_kflag_member(e, v->t, m, mt)
				     : ops_of(mt)->check_member(e, v->t, m, mt);
		if (err)
			return err;
	}
	stack_pop_resolved(e, 0, 0);
	return 0;
}
static void size_vlen_log(struct env *e, const struct btf_type *t)
{
	blog(&e->log, "size=%u vlen=%u", t->size, vlen_of(t));
}

/* ENUM, ENUM64 */
static int enum_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			     const struct btf_type *mt)
{
	return struct_check_member(e, st, m, mt);
}
static int enum_check_kflag_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
				   const struct btf_type *mt)
{
	__u32 off = BTF_MEMBER_BIT_OFFSET(m->offset), nr_bits = BTF_MEMBER_BITFIELD_SIZE(m->offset);
	(void)mt;
	if (!nr_bits) {
		if (BITS_PER_BYTE_MASKED(off)) {
			log_member(e, st, m, "Member is not byte aligned");
			return -EINVAL;
		}
		nr_bits = 32;
	} else if (nr_bits > 32) {
		log_member(e, st, m, "Invalid member bitfield_size");
		return -EINVAL;
	}
	if (st->size < BITS_ROUNDUP_BYTES(off + nr_bits)) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static int enum_check_meta_common(struct env *e, const struct btf_type *t, __u32 left, bool is64)
{
	__u32 esz = is64 ? sizeof(struct btf_enum64) : sizeof(struct btf_enum);
	__u32 needed = vlen_of(t) * esz;
	const unsigned char *p = (const unsigned char *)(t + 1);

	if (left < needed) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, needed);
		return -EINVAL;
	}
	if (t->size > 8 || !t->size || (t->size & (t->size - 1))) {
		LOG_TYPE(e, t, "Unexpected size");
		return -EINVAL;
	}
	if (t->name_off && !name_valid_identifier(e, t->name_off)) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	for (__u16 i = 0; i < vlen_of(t); i++, p += esz) {
		__u32 name_off;
		memcpy(&name_off, p, 4);
		if (!name_offset_valid(e, name_off)) {
			blog(&e->log, "\tInvalid name_offset:%u", name_off);
			return -EINVAL;
		}
		if (!name_off || !name_valid_identifier(e, name_off)) {
			LOG_TYPE(e, t, "Invalid name");
			return -EINVAL;
		}
		if (is64) {
			const struct btf_enum64 *v = (const void *)p;
			__u64 val = ((__u64)v->val_hi32 << 32) | v->val_lo32;
			if (kflag_of(t))
				blog(&e->log, "\t%s val=%lld\n", name_of(e, name_off), (long long)val);
			else
				blog(&e->log, "\t%s val=%llu\n", name_of(e, name_off), (unsigned long long)val);
		} else {
			const struct btf_enum *v = (const void *)p;
			if (kflag_of(t))
				blog(&e->log, "\t%s val=%d\n", name_of(e, name_off), v->val);
			else
				blog(&e->log, "\t%s val=%u\n", name_of(e, name_off), (__u32)v->val);
		}
	}
	return (int)needed;
}
static int enum_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	return enum_check_meta_common(e, t, left, false);
}
static int enum64_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	return enum_check_meta_common(e, t, left, true);
}

/* FUNC_PROTO, FUNC */
static int func_proto_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	__u32 needed = vlen_of(t) * (__u32)sizeof(struct btf_param);
	if (left < needed) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, needed);
		return -EINVAL;
	}
	if (t->name_off) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return (int)needed;
}
static void func_proto_log(struct env *e, const struct btf_type *t)
{
	const struct btf_param *args = (const void *)(t + 1);
	__u16 n = vlen_of(t);
	blog(&e->log, "return=%u args=(", t->type);
	if (!n) {
		blog(&e->log, "void");
	} else if (n == 1 && !args[0].type) {
		blog(&e->log, "vararg");
	} else {
		blog(&e->log, "%u %s", args[0].type, name_of(e, args[0].name_off));
		for (__u16 i = 1; i + 1 < n; i++)
			blog(&e->log, ", %u %s", args[i].type, name_of(e, args[i].name_off));
		if (n > 1) {
			const struct btf_param *last = &args[n - 1];
			if (last->type)
				blog(&e->log, ", %u %s", last->type, name_of(e, last->name_off));
			else
				blog(&e->log, ", vararg");
		}
	}
	blog(&e->log, ")");
}
static int func_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	(void)left;
	if (!t->name_off || !name_valid_identifier(e, t->name_off)) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	if (vlen_of(t) > BTF_FUNC_GLOBAL) {
		LOG_TYPE(e, t, "Invalid func linkage");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return 0;
}
static int func_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_type *proto = type_by_id(e, v->t->type);
	if (!proto || !is_func_proto(proto)) {
		LOG_TYPE(e, v->t, "Invalid type_id");
		return -EINVAL;
	}
	const struct btf_param *args = (const void *)(proto + 1);
	for (__u16 i = 0; i < vlen_of(proto); i++)
		if (!args[i].name_off && args[i].type) {
			LOG_TYPE(e, v->t, "Invalid arg#%u", i + 1u);
			return -EINVAL;
		}
	stack_pop_resolved(e, v->t->type, 0);
	return 0;
}

/* VAR, DATASEC */
static int var_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	if (left < sizeof(struct btf_var)) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, (__u32)sizeof(struct btf_var));
		return -EINVAL;
	}
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	if (!t->name_off || !name_valid_identifier(e, t->name_off)) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	if (!t->type || !BTF_TYPE_ID_VALID(t->type)) {
		LOG_TYPE(e, t, "Invalid type_id");
		return -EINVAL;
	}
	const struct btf_var *var = (const void *)(t + 1);
	if (var->linkage != BTF_VAR_STATIC && var->linkage != BTF_VAR_GLOBAL_ALLOCATED) {
		LOG_TYPE(e, t, "Linkage not supported");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return sizeof(struct btf_var);
}
static void var_log(struct env *e, const struct btf_type *t)
{
	const struct btf_var *var = (const void *)(t + 1);
	blog(&e->log, "type_id=%u linkage=%u", t->type, var->linkage);
}
static int datasec_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	__u32 needed = vlen_of(t) * (__u32)sizeof(struct btf_var_secinfo);
	__u64 last_end = 0, sum = 0;
	const struct btf_var_secinfo *v = (const void *)(t + 1);

	if (left < needed) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, needed);
		return -EINVAL;
	}
	if (!t->size) {
		LOG_TYPE(e, t, "size == 0");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	if (!t->name_off || !name_valid_section(e, t->name_off)) {
		LOG_TYPE(e, t, "Invalid name");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	for (__u16 i = 0; i < vlen_of(t); i++, v++) {
		if (!v->type || !BTF_TYPE_ID_VALID(v->type)) {
			log_vsi(e, t, v, "Invalid type_id");
			return -EINVAL;
		}
		if (v->offset < last_end || v->offset >= t->size) {
			log_vsi(e, t, v, "Invalid offset");
			return -EINVAL;
		}
		if (!v->size || v->size > t->size) {
			log_vsi(e, t, v, "Invalid size");
			return -EINVAL;
		}
		last_end = (__u64)v->offset + v->size;
		if (last_end > t->size) {
			log_vsi(e, t, v, "Invalid offset+size");
			return -EINVAL;
		}
		log_vsi(e, t, v, NULL);
		sum += v->size;
	}
	if (t->size < sum) {
		LOG_TYPE(e, t, "Invalid btf_info size");
		return -EINVAL;
	}
	return (int)needed;
}
static int datasec_resolve(struct env *e, const struct vertex *v)
{
	const struct btf_var_secinfo *vsi = (const void *)(v->t + 1);
	for (__u16 i = v->next_member; i < vlen_of(v->t); i++) {
		const struct btf_var_secinfo *s = vsi + i;
		__u32 vid = s->type, tid, tsize = 0;
		const struct btf_type *vt = type_by_id(e, vid);
		if (!vt || !is_var(vt)) {
			log_vsi(e, v->t, s, "Not a VAR kind member");
			return -EINVAL;
		}
		if (!is_resolve_sink(e, vt) && !is_resolved(e, vid)) {
			stack_set_next_member(e, i + 1);
			return stack_push(e, vt, vid);
		}
		tid = vt->type;
		if (!type_id_size(e, &tid, &tsize)) {
			log_vsi(e, v->t, s, "Invalid type");
			return -EINVAL;
		}
		if (s->size < tsize) {
			log_vsi(e, v->t, s, "Invalid size");
			return -EINVAL;
		}
	}
	stack_pop_resolved(e, 0, 0);
	return 0;
}

/* FLOAT */
static int float_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	(void)left;
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	if (kflag_of(t)) {
		LOG_TYPE(e, t, "Invalid btf_info kind_flag");
		return -EINVAL;
	}
	if (t->size != 2 && t->size != 4 && t->size != 8 && t->size != 12 && t->size != 16) {
		LOG_TYPE(e, t, "Invalid type_size");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return 0;
}
static int float_check_member(struct env *e, const struct btf_type *st, const struct btf_member *m,
			      const struct btf_type *mt)
{
	__u64 align = mt->size < 8 ? mt->size : 8;
	if (m->offset % (align * 8)) {
		log_member(e, st, m, "Member is not properly aligned");
		return -EINVAL;
	}
	if ((__u64)m->offset / 8 + mt->size > st->size) {
		log_member(e, st, m, "Member exceeds struct_size");
		return -EINVAL;
	}
	return 0;
}
static void float_log(struct env *e, const struct btf_type *t) { blog(&e->log, "size=%u", t->size); }

/* DECL_TAG */
static int decl_tag_check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	if (left < sizeof(struct btf_decl_tag)) {
		LOG_BASIC(e, t, "meta_left:%u meta_needed:%u", left, (__u32)sizeof(struct btf_decl_tag));
		return -EINVAL;
	}
	const char *v = str_by_offset(e, t->name_off);
	if (!v || !v[0]) {
		LOG_TYPE(e, t, "Invalid value");
		return -EINVAL;
	}
	if (vlen_of(t)) {
		LOG_TYPE(e, t, "vlen != 0");
		return -EINVAL;
	}
	const struct btf_decl_tag *tag = (const void *)(t + 1);
	if (tag->component_idx < -1) {
		LOG_TYPE(e, t, "Invalid component_idx");
		return -EINVAL;
	}
	LOG_TYPE(e, t, NULL);
	return sizeof(*tag);
}
static int decl_tag_resolve(struct env *e, const struct vertex *v)
{
	__u32 nid = v->t->type;
	const struct btf_type *next = type_by_id(e, nid);
	if (!next || !decl_tag_target(next)) {
		LOG_TYPE(e, v->t, "Invalid type_id");
		return -EINVAL;
	}
	if (!is_resolve_sink(e, next) && !is_resolved(e, nid))
		return stack_push(e, next, nid);
	__s32 idx = ((const struct btf_decl_tag *)(v->t + 1))->component_idx;
	if (idx != -1) {
		__u32 vl;
		if (is_var(next) || is_typedef(next)) {
			LOG_TYPE(e, v->t, "Invalid component_idx");
			return -EINVAL;
		}
		if (is_struct(next)) {
			vl = vlen_of(next);
		} else {
			const struct btf_type *proto = type_by_id(e, next->type);
			vl = proto ? vlen_of(proto) : 0;
		}
		if ((__u32)idx >= vl) {
			LOG_TYPE(e, v->t, "Invalid component_idx");
			return -EINVAL;
		}
	}
	stack_pop_resolved(e, nid, 0);
	return 0;
}
static void decl_tag_log(struct env *e, const struct btf_type *t)
{
	blog(&e->log, "type=%u component_idx=%d", t->type,
	     ((const struct btf_decl_tag *)(t + 1))->component_idx);
}

static const struct kind_ops int_ops = { int_check_meta, df_resolve, int_check_member, int_check_kflag_member, int_log };
static const struct kind_ops modifier_ops = { ref_type_check_meta, modifier_resolve, modifier_check_member,
					      modifier_check_kflag_member, ref_type_log };
static const struct kind_ops ptr_ops = { ref_type_check_meta, ptr_resolve, ptr_check_member,
					 generic_check_kflag_member, ref_type_log };
static const struct kind_ops fwd_ops = { fwd_check_meta, df_resolve, df_check_member, df_check_kflag_member, fwd_log };
static const struct kind_ops array_ops = { array_check_meta, array_resolve, array_check_member,
					   generic_check_kflag_member, array_log };
static const struct kind_ops struct_ops = { struct_check_meta, struct_resolve, struct_check_member,
					    generic_check_kflag_member, size_vlen_log };
static const struct kind_ops enum_ops = { enum_check_meta, df_resolve, enum_check_member, enum_check_kflag_member,
					  size_vlen_log };
static const struct kind_ops enum64_ops = { enum64_check_meta, df_resolve, enum_check_member,
					    enum_check_kflag_member, size_vlen_log };
static const struct kind_ops func_proto_ops = { func_proto_check_meta, df_resolve, df_check_member,
						df_check_kflag_member, func_proto_log };
static const struct kind_ops func_ops = { func_check_meta, func_resolve, df_check_member, df_check_kflag_member,
					  ref_type_log };
static const struct kind_ops var_ops = { var_check_meta, var_resolve, df_check_member, df_check_kflag_member, var_log };
static const struct kind_ops datasec_ops = { datasec_check_meta, datasec_resolve, df_check_member,
					     df_check_kflag_member, size_vlen_log };
static const struct kind_ops float_ops = { float_check_meta, df_resolve, float_check_member,
					   generic_check_kflag_member, float_log };
static const struct kind_ops decl_tag_ops = { decl_tag_check_meta, decl_tag_resolve, df_check_member,
					      df_check_kflag_member, decl_tag_log };

static const struct kind_ops *const kind_ops[NR_KINDS] = {
	[BTF_KIND_INT] = &int_ops,         [BTF_KIND_PTR] = &ptr_ops,
	[BTF_KIND_ARRAY] = &array_ops,     [BTF_KIND_STRUCT] = &struct_ops,
	[BTF_KIND_UNION] = &struct_ops,    [BTF_KIND_ENUM] = &enum_ops,
	[BTF_KIND_FWD] = &fwd_ops,         [BTF_KIND_TYPEDEF] = &modifier_ops,
	[BTF_KIND_VOLATILE] = &modifier_ops, [BTF_KIND_CONST] = &modifier_ops,
	[BTF_KIND_RESTRICT] = &modifier_ops, [BTF_KIND_FUNC] = &func_ops,
	[BTF_KIND_FUNC_PROTO] = &func_proto_ops, [BTF_KIND_VAR] = &var_ops,
	[BTF_KIND_DATASEC] = &datasec_ops, [BTF_KIND_FLOAT] = &float_ops,
	[BTF_KIND_DECL_TAG] = &decl_tag_ops, [BTF_KIND_TYPE_TAG] = &modifier_ops,
	[BTF_KIND_ENUM64] = &enum64_ops,
};

/* ---- the passes ---- */

static int parse_hdr(struct env *e)
{
	__u32 size = e->data_size, hdr_len;
	if (size < offsetofend(struct btf_header, hdr_len)) {
		blog(&e->log, "hdr_len not found");
		return -EINVAL;
	}
	memcpy(&hdr_len, e->data + offsetof(struct btf_header, hdr_len), 4);
	if (size < hdr_len) {
		blog(&e->log, "btf_header not found");
		return -EINVAL;
	}
	for (__u32 i = sizeof(e->hdr); i < hdr_len; i++)
		if (e->data[i]) {
			blog(&e->log, "Unsupported btf_header");
			return -E2BIG;
		}
	memset(&e->hdr, 0, sizeof(e->hdr));
	memcpy(&e->hdr, e->data, hdr_len < sizeof(e->hdr) ? hdr_len : sizeof(e->hdr));
	const struct btf_header *h = &e->hdr;
	if (e->log.level) {
		blog(&e->log, "magic: 0x%x\n", h->magic);
		blog(&e->log, "version: %u\n", h->version);
		blog(&e->log, "flags: 0x%x\n", h->flags);
		blog(&e->log, "hdr_len: %u\n", h->hdr_len);
		blog(&e->log, "type_off: %u\n", h->type_off);
		blog(&e->log, "type_len: %u\n", h->type_len);
		blog(&e->log, "str_off: %u\n", h->str_off);
		blog(&e->log, "str_len: %u\n", h->str_len);
		blog(&e->log, "btf_total_size: %u\n", size);
	}
	if (h->magic != BTF_MAGIC) {
		blog(&e->log, "Invalid magic");
		return -EINVAL;
	}
	if (h->version != BTF_VERSION) {
		blog(&e->log, "Unsupported version");
		return -ENOTSUPP_;
	}
	if (h->flags) {
		blog(&e->log, "Unsupported flags");
		return -ENOTSUPP_;
	}
	if (size == h->hdr_len) {
		blog(&e->log, "No data");
		return -EINVAL;
	}
	/* btf_check_sec_info(): sections sorted by offset, no gap, no overlap */
	struct { __u32 off, len; } secs[2] = { { h->type_off, h->type_len }, { h->str_off, h->str_len } };
	if (secs[1].off < secs[0].off || (secs[1].off == secs[0].off && secs[1].len < secs[0].len)) {
		__typeof__(secs[0]) tmp = secs[0];
		secs[0] = secs[1];
		secs[1] = tmp;
	}
	__u32 total = 0, expected = size - h->hdr_len;
	for (int i = 0; i < 2; i++) {
		if (expected < secs[i].off) {
			blog(&e->log, "Invalid section offset");
			return -EINVAL;
		}
		if (total < secs[i].off) {
			blog(&e->log, "Unsupported section found");
			return -EINVAL;
		}
		if (total > secs[i].off) {
			blog(&e->log, "Section overlap found");
			return -EINVAL;
		}
		if (expected - total < secs[i].len) {
			blog(&e->log, "Total section length too long");
			return -EINVAL;
		}
		total += secs[i].len;
	}
	if (expected != total) {
		blog(&e->log, "Unsupported section found");
		return -EINVAL;
	}
	return 0;
}

static int parse_str_sec(struct env *e)
{
	const struct btf_header *h = &e->hdr;
	const char *start = (const char *)e->nohdr + h->str_off, *end = start + h->str_len;
	if (end != (const char *)e->data + e->data_size) {
		blog(&e->log, "String section is not at the end");
		return -EINVAL;
	}
	e->strings = start;
	if (!h->str_len || h->str_len - 1 > BTF_MAX_NAME_OFFSET || end[-1] || start[0]) {
		blog(&e->log, "Invalid string section");
		return -EINVAL;
	}
	return 0;
}

static int add_type(struct env *e, const struct btf_type *t)
{
	if (e->nr_types == e->types_cap) {
		if (e->types_cap == BTF_MAX_TYPE) {
			blog(&e->log, "Exceeded max num of types");
			return -E2BIG;
		}
		__u32 by = e->types_cap >> 2 > 16 ? e->types_cap >> 2 : 16;
		__u32 n = e->types_cap + by > BTF_MAX_TYPE ? BTF_MAX_TYPE : e->types_cap + by;
		const struct btf_type **nt = realloc(e->types, n * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		e->types = nt;
		e->types_cap = n;
		if (!e->nr_types)
			e->types[e->nr_types++] = &btf_void;
	}
	e->types[e->nr_types++] = t;
	return 0;
}

static int check_meta(struct env *e, const struct btf_type *t, __u32 left)
{
	__u32 saved = left;
	if (left < sizeof(*t)) {
		blog(&e->log, "[%u] meta_left:%u meta_needed:%zu", e->log_type_id, left, sizeof(*t));
		return -EINVAL;
	}
	left -= sizeof(*t);
	if (t->info & ~BTF_INFO_MASK) {
		blog(&e->log, "[%u] Invalid btf_info:%x", e->log_type_id, t->info);
		return -EINVAL;
	}
	if (kind_of(t) > BTF_KIND_ENUM64 || kind_of(t) == BTF_KIND_UNKN) {
		blog(&e->log, "[%u] Invalid kind:%u", e->log_type_id, kind_of(t));
		return -EINVAL;
	}
	if (!name_offset_valid(e, t->name_off)) {
		blog(&e->log, "[%u] Invalid name_offset:%u", e->log_type_id, t->name_off);
		return -EINVAL;
	}
	int var = ops_of(t)->check_meta(e, t, left);
	if (var < 0)
		return var;
	left -= (__u32)var;
	return (int)(saved - left);
}

static bool resolve_valid(struct env *e, const struct btf_type *t, __u32 id)
{
	if (!is_resolved(e, id))
		return false;
	if (is_struct(t) || is_datasec(t))
		return !e->resolved_ids[id] && !e->resolved_sizes[id];
	if (is_decl_tag(t) || is_func(t))
		return e->resolved_ids[id] && !e->resolved_sizes[id];
	if (is_modifier(t) || is_ptr(t) || is_var(t)) {
		t = type_id_resolve(e, &id);
		return t && !is_modifier(t) && !is_var(t) && !is_datasec(t);
	}
	if (is_array(t)) {
		const struct btf_array *a = array_of(t);
		__u32 eid = a->type, esize = 0;
		const struct btf_type *et = type_id_size(e, &eid, &esize);
		return et && !is_modifier(et) && a->nelems * esize == e->resolved_sizes[id];
	}
	return false;
}

static int resolve(struct env *e, const struct btf_type *t, __u32 id)
{
	__u32 saved = e->log_type_id;
	const struct vertex *v;
	int err = 0;

	e->resolve_mode = RESOLVE_TBD;
	stack_push(e, t, id);
	while (!err && e->top) {
		v = &e->stack[e->top - 1];
		e->log_type_id = v->type_id;
		err = ops_of(v->t)->resolve(e, v);
	}
	e->log_type_id = id;
	if (err == -E2BIG)
		LOG_TYPE(e, t, "Exceeded max resolving depth:%u", MAX_RESOLVE_DEPTH);
	else if (err == -EEXIST)
		LOG_TYPE(e, t, "Loop detected");
	if (!err && !resolve_valid(e, t, id)) {
		LOG_TYPE(e, t, "Invalid resolve state");
		err = -EINVAL;
	}
	e->log_type_id = saved;
	return err;
}

static int func_proto_check(struct env *e, const struct btf_type *t)
{
	const struct btf_param *args = (const void *)(t + 1);
	__u16 n = vlen_of(t);
	int err;

	if (t->type) {
		__u32 rid = t->type;
		const struct btf_type *rt = type_by_id(e, rid);
		if (!rt) {
			LOG_TYPE(e, t, "Invalid return type");
			return -EINVAL;
		}
		if (needs_resolve(rt) && !is_resolved(e, rid)) {
			err = resolve(e, rt, rid);
			if (err)
				return err;
		}
		if (!type_id_size(e, &rid, NULL)) {
			LOG_TYPE(e, t, "Invalid return type");
			return -EINVAL;
		}
	}
	if (!n)
		return 0;
	if (!args[n - 1].type) {
		if (args[n - 1].name_off) {
			LOG_TYPE(e, t, "Invalid arg#%u", (unsigned)n);
			return -EINVAL;
		}
		n--;
	}
	for (__u16 i = 0; i < n; i++) {
		__u32 aid = args[i].type;
		const struct btf_type *at = type_by_id(e, aid);
		if (!at) {
			LOG_TYPE(e, t, "Invalid arg#%u", i + 1u);
			return -EINVAL;
		}
		if (args[i].name_off &&
		    (!name_offset_valid(e, args[i].name_off) || !name_valid_identifier(e, args[i].name_off))) {
			LOG_TYPE(e, t, "Invalid arg#%u", i + 1u);
			return -EINVAL;
		}
		if (needs_resolve(at) && !is_resolved(e, aid)) {
			err = resolve(e, at, aid);
			if (err)
				return err;
		}
		if (!type_id_size(e, &aid, NULL)) {
			LOG_TYPE(e, t, "Invalid arg#%u", i + 1u);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_type_sec(struct env *e)
{
	const struct btf_header *h = &e->hdr;
	if (h->type_off & 3) {
		blog(&e->log, "Unaligned type_off");
		return -EINVAL;
	}
	if (!h->type_len) {
		blog(&e->log, "No type found");
		return -EINVAL;
	}
	const unsigned char *cur = e->nohdr + h->type_off, *end = cur + h->type_len;
	e->log_type_id = 1;
	while (cur < end) {
		int n = check_meta(e, (const struct btf_type *)cur, (__u32)(end - cur));
		if (n < 0)
			return n;
		int err = add_type(e, (const struct btf_type *)cur);
		if (err)
			return err;
		cur += n;
		e->log_type_id++;
	}
	/* check all types */
	e->resolved_sizes = calloc(e->nr_types, sizeof(__u32));
	e->resolved_ids = calloc(e->nr_types, sizeof(__u32));
	e->visit = calloc(e->nr_types, 1);
	if (!e->resolved_sizes || !e->resolved_ids || !e->visit)
		return -ENOMEM;
	e->phase = 1;
	for (__u32 id = 1; id < e->nr_types; id++) {
		const struct btf_type *t = e->types[id];
		int err;
		e->log_type_id = id;
		if (needs_resolve(t) && !is_resolved(e, id)) {
			err = resolve(e, t, id);
			if (err)
				return err;
		}
		if (is_func_proto(t)) {
			err = func_proto_check(e, t);
			if (err)
				return err;
		}
	}
	return 0;
}

/* btf_check_type_tags(): type tags come first in a modifier chain */
static int check_type_tags(struct env *e)
{
	__u32 good = 0;
	for (__u32 i = 1; i < e->nr_types; i++) {
		const struct btf_type *t = e->types[i];
		if (!is_modifier(t))
			continue;
		int limit = 32;
		__u32 cur = i;
		bool in_tags = is_type_tag(t);
		while (is_modifier(t)) {
			if (!limit--) {
				blog(&e->log, "Max chain length or cycle detected");
				return -ELOOP;
			}
			if (is_type_tag(t)) {
				if (!in_tags) {
					blog(&e->log, "Type tags don't precede modifiers");
					return -EINVAL;
				}
			} else {
				in_tags = false;
			}
			if (cur <= good)
				break;
			cur = t->type;
			t = type_by_id(e, cur);
			if (!t)
				return -EINVAL;
		}
		good = i;
	}
	return 0;
}

static void env_free(struct env *e)
{
	free(e->alloc);
	free(e->types);
	free(e->resolved_sizes);
	free(e->resolved_ids);
	free(e->visit);
	free(e->log.buf);
}

/* Copy the blob so that the type section lands 4-aligned. */
static int env_place(struct env *e, const void *src, __u32 size, bool user)
{
	__u32 hdr_len = 0, type_off = 0;
	e->alloc = malloc((size_t)size + 8);
	if (!e->alloc)
		return -ENOMEM;
	e->data = e->alloc;
	if (user) {
		if (emu_copy_from_user(e->data, src, size))
			return -EFAULT;
	} else {
		memcpy(e->data, src, size);
	}
	if (size >= offsetofend(struct btf_header, hdr_len))
		memcpy(&hdr_len, e->data + offsetof(struct btf_header, hdr_len), 4);
	if (size >= offsetofend(struct btf_header, type_off))
		memcpy(&type_off, e->data + offsetof(struct btf_header, type_off), 4);
	__u32 shift = (4 - ((hdr_len + type_off) & 3)) & 3;
	if (shift) {
		memmove(e->alloc + shift, e->alloc, size);
		e->data = e->alloc + shift;
	}
	e->data_size = size;
	return 0;
}

/* ---- verified BTF, kept for the next look ----
 *
 * The verdict on a BTF blob is a function of its bytes (and of the kernel's
 * BTF, fixed for the life of the process). Loaders load one object's BTF over
 * and over (libbpf: every bpf_object__load), and every map made with it asks
 * map_check_btf() about its key and value, which needs the parsed and
 * resolved types. The envs of the last few blobs verified here without a log
 * are kept, keyed by the bytes themselves (compared whole, never by id or
 * name), so that a map's check and a repeated load without a log skip the
 * verification. Slots are taken and given back with atomic exchanges (no
 * lock to inherit across fork); a thread that finds a slot empty simply
 * verifies. */
#define VERIFIED_SLOTS 4
#define VERIFIED_MAX (1u << 20)        /* bigger blobs are verified each time */
static struct env *verified[VERIFIED_SLOTS];
static unsigned int verified_next;

/* gives v (heap, verified without a log) to the cache */
static void verified_put(struct env *v)
{
	for (int i = 0; i < VERIFIED_SLOTS; i++) {
		struct env *none = NULL;
		if (__atomic_compare_exchange_n(&verified[i], &none, v, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return;
	}
	unsigned int i = __atomic_fetch_add(&verified_next, 1, __ATOMIC_RELAXED) % VERIFIED_SLOTS;
	struct env *old = __atomic_exchange_n(&verified[i], v, __ATOMIC_ACQ_REL);
	if (old) {
		env_free(old);
		free(old);
	}
}

/* the kept env of exactly these bytes, taken out of the cache, or NULL */
static struct env *verified_take(const void *data, __u32 size)
{
	if (size > VERIFIED_MAX)
		return NULL;
	for (int i = 0; i < VERIFIED_SLOTS; i++) {
		if (!__atomic_load_n(&verified[i], __ATOMIC_RELAXED))
			continue;
		struct env *v = __atomic_exchange_n(&verified[i], NULL, __ATOMIC_ACQ_REL);
		if (!v)
			continue;
		if (v->data_size == size && !memcmp(v->data, data, size))
			return v;
		struct env *none = NULL;
		if (!__atomic_compare_exchange_n(&verified[i], &none, v, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			env_free(v);
			free(v);
		}
	}
	return NULL;
}

/* e (verified, no log) goes to the cache, or is freed; e is emptied */
static void verified_keep(struct env *e)
{
	struct env *v = e->data_size <= VERIFIED_MAX && e->types ? malloc(sizeof(*v)) : NULL;
	if (!v) {
		env_free(e);
		memset(e, 0, sizeof(*e));
		return;
	}
	free(e->log.buf);
	*v = *e;
	memset(&v->log, 0, sizeof(v->log));
	memset(e, 0, sizeof(*e));
	verified_put(v);
}

/* The whole verifier. 0 or -errno; e keeps the parsed types. */
static int verify(struct env *e)
{
	int err = parse_hdr(e);
	if (err)
		return err;
	e->nohdr = e->data + e->hdr.hdr_len;
	err = parse_str_sec(e);
	if (err)
		return err;
	err = parse_type_sec(e);
	if (err)
		return err;
	return check_type_tags(e);
}

static int parse_struct_metas(const struct env *e);

int emu_btf_load(const struct emu_btf_load_spec *s)
{
	struct env e;
	int err, ret;

	if (s->btf_size > BTF_MAX_SIZE)
		return -E2BIG;
	memset(&e, 0, sizeof(e));
	err = blog_init(&e.log, s->log_level, s->log_buf, s->log_size);
	if (err)
		return err;
	err = env_place(&e, s->btf, s->btf_size, true);
	/* the same bytes verified here before, without a log: the same answer */
	struct env *v = !err && !s->log_level ? verified_take(e.data, e.data_size) : NULL;
	if (!err && !v)
		err = verify(&e);
	if (!err && !(v ? v->metas_ok : false))
		err = parse_struct_metas(v ? v : &e);
	if (e.log.oom && !err)
		err = -ENOMEM;
	if (v) {
		v->metas_ok = v->metas_ok || !err;
		verified_put(v);
	}
	e.metas_ok = !v && !err && !s->log_level;     /* kept at the end (verified_keep) */
	ret = blog_finalize(&e.log, s->log_true_size);
	if (ret)
		err = ret;
	if (err) {
		EMU_LOG(EMU_LOG_SYS, "BPF_BTF_LOAD: %s", e.log.buf ? e.log.buf : "rejected");
		goto out;
	}

	struct emu_obj *obj;
	/* anon_inode_getfd("btf", ..., O_RDONLY | O_CLOEXEC) */
	int fd = emu_obj_create_mode(EMU_KIND_BTF, s->btf_size, s->btf_size, O_RDONLY, &obj);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	memcpy(emu_obj_data(obj), e.data, s->btf_size);
	obj->hdr->btf.data_size = s->btf_size;
	emu_kernel_btf_reserve();           /* the kernel's BTF takes the first ids */
	obj->hdr->id = emu_id_alloc(EMU_KIND_BTF);
	if (!obj->hdr->id) {
		err = -ENOSPC;
		goto fail_obj;
	}
	__atomic_store_n(&obj->hdr->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install_acc(fd, obj, O_RDONLY);
	err = fd;
	goto out;
fail_obj:
	emu_os_close(fd);
	emu_obj_put(obj);
out:
	if (e.metas_ok)
		verified_keep(&e);
	else
		env_free(&e);
	return err;
}

struct emu_btf_info {
	__u64 btf;
	__u32 btf_size;
	__u32 id;
	__u64 name;
	__u32 name_len;
	__u32 kernel_btf;
};

int emu_btf_get_info(struct emu_obj *obj, void *uinfo, __u32 info_len, __u32 *out_len)
{
	struct emu_btf_info info;
	__u32 copy = info_len < sizeof(info) ? info_len : (__u32)sizeof(info);
	char name[sizeof(obj->hdr->btf.name) + 1];
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(obj->hdr->btf.name), obj->hdr->btf.name);
	int ret = 0;

	memset(&info, 0, sizeof(info));
	if (emu_copy_from_user(&info, uinfo, copy))
		return -EFAULT;
	info.id = obj->hdr->id;
	__u32 size = obj->hdr->btf.data_size;
	__u32 bcopy = size < info.btf_size ? size : info.btf_size;
	if (emu_copy_to_user((void *)(unsigned long)info.btf, emu_obj_data(obj), bcopy))
		return -EFAULT;
	info.btf_size = size;
	info.kernel_btf = obj->hdr->btf.kernel_btf;
	char *uname = (char *)(unsigned long)info.name;
	__u32 uname_len = info.name_len;
	if (!uname ^ !uname_len)
		return -EINVAL;
	__u32 name_len = (__u32)strlen(name);
	info.name_len = name_len;
	if (uname) {
		if (uname_len >= name_len + 1) {
			if (emu_copy_to_user(uname, name, name_len + 1))
				return -EFAULT;
		} else {
			char zero = '\0';
			if (emu_copy_to_user(uname, name, uname_len - 1) ||
			    emu_copy_to_user(uname + uname_len - 1, &zero, 1))
				return -EFAULT;
			ret = -ENOSPC;
		}
	}
	if (emu_copy_to_user(uinfo, &info, copy))
		return -EFAULT;
	*out_len = copy;
	return ret;
}

/* ---- the map side ---- */

#define MAP_TYPE_CGRP_STORAGE 32u      /* BPF_MAP_TYPE_CGRP_STORAGE: newer than the installed header */

/* btf_parse_fields(): the value's special fields, nested structs and arrays of
 * them included, in Linux 6.18's order and errnos. */
#define FIELD_IGNORE 0
#define FIELD_FOUND 1

struct finfo {
	__u32 type, off, type_id;
};

struct fwalk {
	const struct env *e;
	__u32 mask;
	struct finfo info[EMU_MAP_FIELDS_MAX];
};

static const struct {
	const char *name;
	__u32 type, size, align;
	bool once;                /* a second one is -E2BIG */
} named_fields[] = {
	{ "bpf_spin_lock", EMU_FIELD_SPIN_LOCK, 4, 4, true },
	{ "bpf_res_spin_lock", EMU_FIELD_RES_SPIN_LOCK, 8, 8, true },
	{ "bpf_timer", EMU_FIELD_TIMER, 16, 8, true },
	{ "bpf_wq", EMU_FIELD_WORKQUEUE, 16, 8, true },
	{ "bpf_list_head", EMU_FIELD_LIST_HEAD, 16, 8, false },
	{ "bpf_list_node", EMU_FIELD_LIST_NODE, 24, 8, false },
	{ "bpf_rb_root", EMU_FIELD_RB_ROOT, 16, 8, false },
	{ "bpf_rb_node", EMU_FIELD_RB_NODE, 32, 8, false },
	{ "bpf_refcount", EMU_FIELD_REFCOUNT, 4, 4, true },
};

static __u32 field_size(__u32 type)
{
	for (size_t i = 0; i < sizeof(named_fields) / sizeof(*named_fields); i++)
		if (named_fields[i].type == type)
			return named_fields[i].size;
	return 8;                 /* the kptrs, uptr */
}

static bool field_once(__u32 type)
{
	for (size_t i = 0; i < sizeof(named_fields) / sizeof(*named_fields); i++)
		if (named_fields[i].type == type)
			return named_fields[i].once;
	return false;
}

/* btf_get_field_type(): 0, a field type, or -E2BIG for a second one of a kind that may be there once */
static int get_field_type(struct fwalk *w, const struct btf_type *t, __u32 *seen, __u32 *align, __u32 *sz)
{
	const char *name = name_of(w->e, t->name_off);
	for (size_t i = 0; i < sizeof(named_fields) / sizeof(*named_fields); i++) {
		if (!(w->mask & named_fields[i].type) || strcmp(name, named_fields[i].name))
			continue;
		if (named_fields[i].once) {
			if (*seen & named_fields[i].type)
				return -E2BIG;
			*seen |= named_fields[i].type;
		}
		*align = named_fields[i].align;
		*sz = named_fields[i].size;
		return (int)named_fields[i].type;
	}
	/* a kptr only when no name matched */
	if ((w->mask & (EMU_FIELD_KPTR | EMU_FIELD_UPTR)) && kind_of(t) != BTF_KIND_STRUCT) {
		*align = 8;
		*sz = 8;
		return EMU_FIELD_KPTR_REF;
	}
	return 0;
}

/* btf_find_kptr() */
static int find_kptr(struct fwalk *w, const struct btf_type *t, __u32 off, struct finfo *info)
{
	const struct env *e = w->e;
	if (kind_of(t) == BTF_KIND_VOLATILE)
		t = type_by_id(e, t->type);
	if (!t || !is_ptr(t))
		return FIELD_IGNORE;
	t = type_by_id(e, t->type);
	if (!t || !is_type_tag(t) || kflag_of(t))
		return FIELD_IGNORE;
	const struct btf_type *next = type_by_id(e, t->type);
	if (next && is_type_tag(next))
		return -EINVAL;
	const char *tag = name_of(e, t->name_off);
	__u32 type;
	if (!strcmp(tag, "kptr_untrusted"))
		type = EMU_FIELD_KPTR_UNREF;
	else if (!strcmp(tag, "kptr"))
		type = EMU_FIELD_KPTR_REF;
	else if (!strcmp(tag, "percpu_kptr"))
		type = EMU_FIELD_KPTR_PERCPU;
	else if (!strcmp(tag, "uptr"))
		type = EMU_FIELD_UPTR;
	else
		return -EINVAL;
	if (!(type & w->mask))
		return FIELD_IGNORE;
	__u32 id = t->type;
	t = type_by_id(e, id);
	while (t && is_modifier(t)) {
		id = t->type;
		t = type_by_id(e, id);
	}
	if (!t || kind_of(t) != BTF_KIND_STRUCT)
		return -EINVAL;
	info->type = type;
	info->off = off;
	info->type_id = id;
	return FIELD_FOUND;
}

static int find_struct_fields(struct fwalk *w, const struct btf_type *t, __u32 base, __u32 idx, __u32 level);

/* btf_repeat_fields(): copies of the first n infos, nelems - 1 times, each sz further */
static int repeat_fields(struct fwalk *w, __u32 idx, __u32 n, __u32 times, __u32 sz)
{
	for (__u32 i = 0; i < n; i++)
		if (field_once(w->info[idx + i].type))
			return -EINVAL;
	for (__u32 k = 1; k <= times; k++)
		for (__u32 i = 0; i < n; i++) {
			w->info[idx + k * n + i] = w->info[idx + i];
			w->info[idx + k * n + i].off += k * sz;
		}
	return 0;
}

/* btf_find_field_one(): how many infos it added at idx, or -errno */
static int find_field_one(struct fwalk *w, const struct btf_type *t, __u32 off, __u32 expected, __u32 *seen,
			  __u32 idx, __u32 level)
{
	const struct env *e = w->e;
	__u64 nelems = 1;
	int i;
	for (i = 0; i < MAX_RESOLVE_DEPTH && t && is_array(t); i++) {
		nelems *= array_of(t)->nelems;
		t = type_by_id(e, array_of(t)->type);
	}
	if (i == MAX_RESOLVE_DEPTH)
		return -E2BIG;
	if (!nelems || !t)
		return 0;
	__u32 align = 1, sz = 0, cap = EMU_MAP_FIELDS_MAX - idx;
	int ft = get_field_type(w, t, seen, &align, &sz);
	if (!ft && kind_of(t) == BTF_KIND_STRUCT) {
		/* btf_find_nested_struct() */
		if (expected && expected != t->size * nelems)
			return 0;
		if (level >= MAX_RESOLVE_DEPTH)
			return -E2BIG;
		int n = find_struct_fields(w, t, off, idx, level + 1);
		if (n <= 0)
			return n;
		if ((__u64)n * nelems > cap)
			return -E2BIG;
		if (nelems > 1) {
			int err = repeat_fields(w, idx, (__u32)n, (__u32)nelems - 1, t->size);
			if (err)
				return err;
		}
		return n * (int)nelems;
	}
	if (ft <= 0)
		return ft;
	if (expected && expected != sz * nelems)
		return 0;
	if (off % align)
		return 0;
	struct finfo tmp, *info = cap ? &w->info[idx] : &tmp;
	if (ft & (EMU_FIELD_KPTR | EMU_FIELD_UPTR)) {
		int ret = find_kptr(w, t, off, info);
		if (ret <= 0)
			return ret;
	} else {
		info->type = (__u32)ft;
		info->off = off;
		info->type_id = 0;
	}
	if (nelems > cap)
		return -E2BIG;
	if (nelems > 1) {
		int err = repeat_fields(w, idx, 1, (__u32)nelems - 1, sz);
		if (err)
			return err;
	}
	return (int)nelems;
}

/* btf_find_struct_field() */
static int find_struct_fields(struct fwalk *w, const struct btf_type *t, __u32 base, __u32 idx, __u32 level)
{
	__u32 seen = 0, start = idx;
	const struct btf_member *m = members_of(t);
	for (__u16 i = 0; i < vlen_of(t); i++, m++) {
		const struct btf_type *mt = type_by_id(w->e, m->type);
		__u32 off = member_bit_offset(t, m);
		if (off % 8)
			return -EINVAL;
		int n = find_field_one(w, mt, base + off / 8, 0, &seen, idx, level);
		if (n < 0)
			return n;
		idx += (__u32)n;
	}
	return (int)(idx - start);
}

/* btf_find_datasec_var() */
static int find_datasec_fields(struct fwalk *w, const struct btf_type *t)
{
	__u32 seen = 0, idx = 0;
	const struct btf_var_secinfo *vsi = (const void *)(t + 1);
	for (__u16 i = 0; i < vlen_of(t); i++, vsi++) {
		const struct btf_type *var = type_by_id(w->e, vsi->type);
		const struct btf_type *vt = var ? type_by_id(w->e, var->type) : NULL;
		int n = find_field_one(w, vt, vsi->offset, vsi->size, &seen, idx, 0);
		if (n < 0)
			return n;
		idx += (__u32)n;
	}
	return (int)idx;
}

/* the kernel types a referenced kptr may point to: those with a destructor
 * kfunc registered (register_btf_id_dtor_kfuncs() in 6.18's kernel/bpf) */
static bool kernel_kptr_has_dtor(const char *name)
{
	static const char *const with_dtor[] = { "task_struct", "cgroup", "bpf_cpumask", "bpf_crypto_ctx" };
	for (size_t i = 0; i < sizeof(with_dtor) / sizeof(*with_dtor); i++)
		if (!strcmp(name, with_dtor[i]))
			return true;
	return false;
}

/* btf_parse_fields(): 0 with rec->nr_fields (0: no record), or -errno */
static int parse_fields(const struct env *e, const struct btf_type *t, __u32 mask, __u32 value_size,
			struct emu_map_btf *rec)
{
	struct fwalk w = { .e = e, .mask = mask };
	int cnt;
	rec->nr_fields = 0;
	rec->special = 0;
	rec->spin_lock_off = -1;
	if (kind_of(t) == BTF_KIND_STRUCT)
		cnt = find_struct_fields(&w, t, 0, 0, 0);
	else if (is_datasec(t))
		cnt = find_datasec_fields(&w, t);
	else
		return -EINVAL;
	if (cnt <= 0)
		return cnt;
	__u32 next_off = 0;
	bool lock = false, res_lock = false;
	for (int i = 0; i < cnt; i++) {
		const struct finfo *in = &w.info[i];
		__u32 sz = field_size(in->type);
		if (in->off + sz > value_size)
			return -EFAULT;
		if (in->off < next_off)
			return -EEXIST;
		next_off = in->off + sz;
		struct emu_map_field *f = &rec->fields[i];
		memset(f, 0, sizeof(*f));
		f->off = in->off;
		f->type = in->type;
		f->size = sz;
		if (in->type & (EMU_FIELD_KPTR | EMU_FIELD_UPTR)) {
			/* btf_parse_kptr(): the struct of that name in the kernel's BTF, else the program's own */
			const struct btf_type *kt = type_by_id(e, in->type_id);
			const char *name = kt ? name_of(e, kt->name_off) : "";
			__u32 obj = 0, kid = *name ? emu_kernel_btf_find(name, BTF_KIND_STRUCT, &obj) : 0;
			if (kid) {
				if (in->type == EMU_FIELD_KPTR_REF && !kernel_kptr_has_dtor(name))
					return -ENOENT;
				f->kptr_btf_id = kid;
				f->kptr_kernel = obj ? obj : 1;
			} else {
				f->kptr_btf_id = in->type_id;
			}
		}
		if (in->type == EMU_FIELD_SPIN_LOCK) {
			lock = true;
			rec->spin_lock_off = (__s32)in->off;
		}
		if (in->type == EMU_FIELD_RES_SPIN_LOCK)
			res_lock = true;
		rec->special |= in->type;
		rec->nr_fields++;
	}
	if (lock && res_lock)
		return -EINVAL;
	if ((rec->special & (EMU_FIELD_LIST_HEAD | EMU_FIELD_RB_ROOT)) && !lock && !res_lock)
		return -EINVAL;
	if (!(rec->special & EMU_FIELD_REFCOUNT) && (rec->special & EMU_FIELD_LIST_NODE) &&
	    (rec->special & EMU_FIELD_RB_NODE))
		return -EINVAL;
	/* sorted by offset (a nested struct's fields may come after a later member's) */
	for (__u32 i = 1; i < rec->nr_fields; i++)
		for (__u32 j = i; j > 0 && rec->fields[j - 1].off > rec->fields[j].off; j--) {
			struct emu_map_field x = rec->fields[j];
			rec->fields[j] = rec->fields[j - 1];
			rec->fields[j - 1] = x;
		}
	return 0;
}

/* what map_check_btf() asks for (bpf_list_head and bpf_rb_root: see README, not parsed) */
#define RECORD_MASK (EMU_FIELD_SPIN_LOCK | EMU_FIELD_RES_SPIN_LOCK | EMU_FIELD_TIMER | EMU_FIELD_KPTR | \
		     EMU_FIELD_REFCOUNT | EMU_FIELD_WORKQUEUE | EMU_FIELD_UPTR)

#define STRUCT_META_MASK (EMU_FIELD_SPIN_LOCK | EMU_FIELD_RES_SPIN_LOCK | EMU_FIELD_LIST_HEAD | \
			  EMU_FIELD_LIST_NODE | EMU_FIELD_RB_ROOT | EMU_FIELD_RB_NODE | EMU_FIELD_REFCOUNT | \
			  EMU_FIELD_KPTR)

/* btf_parse_struct_metas(): at BPF_BTF_LOAD, each struct with a member of a
 * special struct type (or a kptr) has its fields parsed; an error fails the load,
 * as does such a struct with no field found (-EFAULT). */
static int parse_struct_metas(const struct env *e)
{
	static const char *const aof_names[] = { "bpf_spin_lock", "bpf_res_spin_lock", "bpf_list_head",
						 "bpf_list_node", "bpf_rb_root", "bpf_rb_node", "bpf_refcount" };
	__u32 aof[sizeof(aof_names) / sizeof(*aof_names)];
	size_t naof = 0;
	bool any_tag = false;
	for (size_t k = 0; k < sizeof(aof_names) / sizeof(*aof_names); k++)
		for (__u32 id = 1; id < e->nr_types; id++) {
			const struct btf_type *t = type_by_id(e, id);
			if (t && kind_of(t) == BTF_KIND_STRUCT && !strcmp(name_of(e, t->name_off), aof_names[k])) {
				aof[naof++] = id;
				break;
			}
		}
	for (__u32 id = 1; id < e->nr_types && !any_tag; id++) {
		const struct btf_type *t = type_by_id(e, id);
		any_tag = t && is_type_tag(t);
	}
	if (!naof && !any_tag)
		return 0;
	for (__u32 id = 1; id < e->nr_types; id++) {
		const struct btf_type *t = type_by_id(e, id);
		if (!t || kind_of(t) != BTF_KIND_STRUCT)
			continue;
		const struct btf_member *m = members_of(t);
		bool parse = false;
		for (__u16 i = 0; i < vlen_of(t) && !parse; i++, m++) {
			for (size_t k = 0; k < naof && !parse; k++)
				parse = m->type == aof[k];
			const struct btf_type *mt = type_by_id(e, m->type);
			if (!parse && mt && is_ptr(mt)) {
				const struct btf_type *tt = type_by_id(e, mt->type);
				if (tt && is_type_tag(tt) && !kflag_of(tt)) {
					const char *tag = name_of(e, tt->name_off);
					parse = !strcmp(tag, "kptr") || !strcmp(tag, "percpu_kptr");
				}
			}
		}
		if (!parse)
			continue;
		struct emu_map_btf rec;
		int err = parse_fields(e, t, STRUCT_META_MASK, t->size, &rec);
		if (err)
			return err;
		if (!rec.nr_fields)
			return -EFAULT;
	}
	return 0;
}

int emu_btf_map_check(const struct emu_map_spec *spec, struct emu_map_btf *out)
{
	struct emu_obj *obj;
	struct env e;
	int acc, err;

	out->btf_id = 0;
	out->spin_lock_off = -1;
	out->special = 0;
	out->nr_fields = 0;
	err = emu_fd_get((int)spec->btf_fd, EMU_KIND_BTF, &obj, &acc);
	if (err)
		return err;
	out->btf_id = obj->hdr->id;
	if (!spec->btf_value_type_id) {
		emu_obj_put(obj);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	struct env *v = verified_take(emu_obj_data(obj), obj->hdr->btf.data_size);
	if (v) {
		e = *v;        /* lent: given back at the end (verified_put) */
		free(v);
		err = 0;
	} else {
		err = env_place(&e, emu_obj_data(obj), obj->hdr->btf.data_size, false);
		if (!err)
			err = verify(&e);
	}
	emu_obj_put(obj);
	if (err) {
		env_free(&e);
		return -EINVAL;
	}

	const struct btf_type *kt, *vt;
	__u32 kid = spec->btf_key_type_id, vid = spec->btf_value_type_id, ksize = 0, vsize = 0;
	err = -EINVAL;
	if (kid) {
		kt = type_id_size(&e, &kid, &ksize);
		if (!kt || ksize != spec->key_size)
			goto out;
	} else {
		kt = &btf_void;
		if (spec->map_type != BPF_MAP_TYPE_ARRAY)   /* of ours, only arrays have map_check_btf */
			goto out;
	}
	vt = type_id_size(&e, &vid, &vsize);
	if (!vt || vsize != spec->value_size)
		goto out;
	/* map_check_btf(): a record that fails to parse is no record */
	if (parse_fields(&e, vt, RECORD_MASK, spec->value_size, out)) {
		out->nr_fields = 0;
		out->special = 0;
		out->spin_lock_off = -1;
	}
	if (out->special && (spec->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))) {
		err = -EACCES;
		goto out;
	}
	/* which map types take which special field */
	__u32 mt = spec->map_type;
	bool storage = mt == BPF_MAP_TYPE_SK_STORAGE || mt == BPF_MAP_TYPE_INODE_STORAGE ||
		       mt == BPF_MAP_TYPE_TASK_STORAGE || mt == MAP_TYPE_CGRP_STORAGE;
	bool lock_ok = mt == BPF_MAP_TYPE_HASH || mt == BPF_MAP_TYPE_ARRAY || mt == BPF_MAP_TYPE_CGROUP_STORAGE || storage;
	bool timer_ok = mt == BPF_MAP_TYPE_HASH || mt == BPF_MAP_TYPE_LRU_HASH || mt == BPF_MAP_TYPE_ARRAY;
	bool kptr_ok = mt == BPF_MAP_TYPE_HASH || mt == BPF_MAP_TYPE_PERCPU_HASH || mt == BPF_MAP_TYPE_LRU_HASH ||
		       mt == BPF_MAP_TYPE_LRU_PERCPU_HASH || mt == BPF_MAP_TYPE_ARRAY ||
		       mt == BPF_MAP_TYPE_PERCPU_ARRAY || storage;
	for (__u32 bit = 0; bit < 32; bit++) {
		bool ok;
		switch (out->special & (1u << bit)) {
		case 0:
			continue;
		case EMU_FIELD_SPIN_LOCK: case EMU_FIELD_RES_SPIN_LOCK:
			ok = lock_ok;
			break;
		case EMU_FIELD_TIMER: case EMU_FIELD_WORKQUEUE: case EMU_FIELD_LIST_HEAD: case EMU_FIELD_RB_ROOT:
			ok = timer_ok;
			break;
		case EMU_FIELD_KPTR_UNREF: case EMU_FIELD_KPTR_REF: case EMU_FIELD_KPTR_PERCPU: case EMU_FIELD_REFCOUNT:
			ok = kptr_ok;
			break;
		case EMU_FIELD_UPTR:
			ok = mt == BPF_MAP_TYPE_TASK_STORAGE;
			break;
		default:
			ok = false;
			break;
		}
		if (!ok) {
			err = -EOPNOTSUPP;
			goto out;
		}
	}
	err = -EINVAL;
	if (spec->map_type == BPF_MAP_TYPE_ARRAY) {       /* array_map_check_btf() */
		if (is_void(kt)) {
			if (spec->max_entries != 1 || !is_datasec(vt))
				goto out;
		} else if (!is_int(kt) || BTF_INT_BITS(int_data(kt)) != 32 || BTF_INT_OFFSET(int_data(kt))) {
			goto out;
		}
	}
	if (storage && (!is_int(kt) || kt->size != 4 || BTF_INT_BITS(int_data(kt)) != 32 ||
			BTF_INT_OFFSET(int_data(kt))))   /* bpf_local_storage_map_check_btf(): btf_type_is_i32 */
		goto out;
	err = 0;
out:
	verified_keep(&e);
	return err;
}
