/* SPDX-License-Identifier: MIT */
/* tools/btfread.c: see btfread.h. Written from the BTF format description
 * (Documentation/bpf/btf.rst, include/uapi/linux/btf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btfread.h"
#include "../emu/btf_layout.h"

#define BTF_MAGIC 0xeB9F
#define MAX_RESOLVE_DEPTH 32

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Bytes that follow struct btf_type for this kind, or -1 for an unknown kind. */
static long extra_size(const struct btf_type *t)
{
	return emu_btf_type_extra(t);
}

int btfr_parse(struct btfr *b, const void *data, size_t size, char *err, size_t errlen)
{
	struct btf_header h;
	const char *types, *p, *end;
	__u32 cap = 64;

	memset(b, 0, sizeof(*b));
	if (size < sizeof(h))
		return fail(err, errlen, "truncated header (%zu bytes)", size);
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC)
		return fail(err, errlen, "bad magic %#x (want %#x, host byte order)", h.magic, BTF_MAGIC);
	if (h.version != 1)
		return fail(err, errlen, "unsupported version %u", h.version);
	if (h.hdr_len < sizeof(h) || h.hdr_len > size)
		return fail(err, errlen, "header length %u out of range", h.hdr_len);
	if ((__u64)h.type_off + h.type_len > size - h.hdr_len ||
	    (__u64)h.str_off + h.str_len > size - h.hdr_len)
		return fail(err, errlen, "type or string section past the end (%zu bytes)", size);
	if (h.type_off % 4)
		return fail(err, errlen, "type section misaligned (offset %u)", h.type_off);
	if (!h.str_len || ((const char *)data)[h.hdr_len + h.str_off + h.str_len - 1] != '\0')
		return fail(err, errlen, "string section empty or not NUL-terminated");

	b->buf = malloc(size);
	b->types = calloc(cap, sizeof(*b->types));
	if (!b->buf || !b->types) {
		btfr_free(b);
		return fail(err, errlen, "out of memory");
	}
	memcpy(b->buf, data, size);
	b->size = size;
	b->strs = (const char *)b->buf + h.hdr_len + h.str_off;
	b->str_len = h.str_len;
	b->ntypes = 1;
	types = (const char *)b->buf + h.hdr_len + h.type_off;
	end = types + h.type_len;
	for (p = types; p < end;) {
		const struct btf_type *t = (const void *)p;
		long extra;

		if ((size_t)(end - p) < sizeof(*t)) {
			btfr_free(b);
			return fail(err, errlen, "truncated type %u at offset %td", b->ntypes, p - types);
		}
		extra = extra_size(t);
		if (extra < 0) {
			btfr_free(b);
			return fail(err, errlen, "type %u has unknown kind %u", b->ntypes, btfr_kind(t));
		}
		if ((size_t)(end - p) - sizeof(*t) < (size_t)extra) {
			btfr_free(b);
			return fail(err, errlen, "truncated type %u at offset %td", b->ntypes, p - types);
		}
		if (t->name_off >= b->str_len) {
			btfr_free(b);
			return fail(err, errlen, "type %u: name offset %u out of range", b->ntypes, t->name_off);
		}
		if (b->ntypes == cap) {
			const struct btf_type **n = realloc(b->types, 2 * cap * sizeof(*n));

			if (!n) {
				btfr_free(b);
				return fail(err, errlen, "out of memory");
			}
			b->types = n;
			cap *= 2;
		}
		b->types[b->ntypes++] = t;
		p += sizeof(*t) + extra;
	}
	return 0;
}

void btfr_free(struct btfr *b)
{
	free(b->buf);
	free(b->types);
	memset(b, 0, sizeof(*b));
}

const struct btf_type *btfr_type(const struct btfr *b, __u32 id)
{
	return id && id < b->ntypes ? b->types[id] : NULL;
}

const char *btfr_name(const struct btfr *b, __u32 off)
{
	return off < b->str_len ? b->strs + off : "";
}

const struct btf_type *btfr_skip_mods(const struct btfr *b, __u32 *id)
{
	for (int depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
		const struct btf_type *t = btfr_type(b, *id);

		if (!t)
			return NULL;
		switch (btfr_kind(t)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
			*id = t->type;
			break;
		default:
			return t;
		}
	}
	return NULL;
}

long btfr_size(const struct btfr *b, __u32 id)
{
	__u64 n = 1;

	for (int depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
		const struct btf_type *t = btfr_skip_mods(b, &id);
		const struct btf_array *a;

		if (!t)
			return -EINVAL;
		switch (btfr_kind(t)) {
		case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64: case BTF_KIND_FLOAT: case BTF_KIND_DATASEC:
			n *= t->size;
			return n > 0xffffffffULL ? -EINVAL : (long)n;
		case BTF_KIND_PTR:
			return (long)(n * 8);
		case BTF_KIND_ARRAY:
			a = (const void *)(t + 1);
			n *= a->nelems;
			if (n > 0xffffffffULL)
				return -EINVAL;
			id = a->type;
			break;
		case BTF_KIND_VAR:
			id = t->type;
			break;
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}
