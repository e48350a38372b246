/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/btf.c: the kernel's BTF (vmlinux) as the firer asks it: types by
 * name, sizes, members (through anonymous structs and unions), function
 * prototypes, enumerators. The raw types come from emu/btf_kernel.c (this
 * process's copy of /sys/kernel/btf/vmlinux); the name index is built once
 * per process, on first use.
 */
#include <errno.h>
#include <linux/btf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fire_int.h"

static __u32 *idx;                     /* open addressing: type id, 0 empty */
static __u32 idx_cap;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

static __u32 name_hash(const char *s)
{
	__u32 h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void idx_build(void)
{
	__u32 nr = emu_vmlinux_btf_nr_types();
	if (!nr)
		return;
	__u32 cap = 1;
	while (cap < nr * 2)
		cap <<= 1;
	__u32 *t = calloc(cap, sizeof(*t));
	if (!t)
		return;
	for (__u32 id = 1; id < nr; id++) {
		const struct btf_type *bt = emu_vmlinux_btf_type(id);
		const char *n = bt && bt->name_off ? emu_vmlinux_btf_str(bt->name_off) : NULL;
		if (!n || !*n)
			continue;
		__u32 h = name_hash(n) & (cap - 1);
		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = id;
	}
	idx_cap = cap;
	idx = t;
}

bool fb_have(void)
{
	pthread_once(&idx_once, idx_build);
	return idx != NULL;
}

const struct btf_type *fb_type(__u32 id)
{
	return emu_vmlinux_btf_type(id);
}

const char *fb_name(__u32 id)
{
	const struct btf_type *t = fb_type(id);
	const char *n = t && t->name_off ? emu_vmlinux_btf_str(t->name_off) : NULL;
	return n ? n : "";
}

__u32 fb_kind(__u32 id)
{
	const struct btf_type *t = fb_type(id);
	return t && id ? BTF_INFO_KIND(t->info) : 0;
}

__u32 fb_vlen(__u32 id)
{
	const struct btf_type *t = fb_type(id);
	return t ? BTF_INFO_VLEN(t->info) : 0;
}

__u32 fb_find(const char *name, int kind)
{
	if (!fb_have())
		return 0;
	for (__u32 h = name_hash(name) & (idx_cap - 1); idx[h]; h = (h + 1) & (idx_cap - 1)) {
		__u32 id = idx[h];
		if ((kind < 0 || fb_kind(id) == (__u32)kind) && !strcmp(fb_name(id), name))
			return id;
	}
	return 0;
}

__u32 fb_strip(__u32 id)
{
	for (int i = 0; i < 32 && id; i++) {
		switch (fb_kind(id)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = fb_type(id)->type;
			break;
		default:
			return id;
		}
	}
	return id;
}

__s64 fb_size(__u32 id)
{
	id = fb_strip(id);
	const struct btf_type *t = fb_type(id);
	if (!t || !id)
		return -EINVAL;
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_FLOAT:
		return t->size;
	case BTF_KIND_PTR:
		return 8;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = (const void *)(t + 1);
		__s64 e = fb_size(a->type);
		return e < 0 ? e : e * (__s64)a->nelems;
	}
	default:
		return -EINVAL;
	}
}

bool fb_int(__u32 id, __u32 *size, bool *sign)
{
	id = fb_strip(id);
	const struct btf_type *t = fb_type(id);
	if (!t || !id)
		return false;
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT: {
		__u32 enc = *(const __u32 *)(t + 1);
		*size = t->size;
		*sign = BTF_INT_ENCODING(enc) & BTF_INT_SIGNED;
		return true;
	}
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		*size = t->size;
		*sign = BTF_INFO_KFLAG(t->info);
		return true;
	default:
		return false;
	}
}

bool fb_is_char(__u32 id)
{
	__u32 size;
	bool sign;
	id = fb_strip(id);
	return fb_kind(id) == BTF_KIND_INT && fb_int(id, &size, &sign) && size == 1;
}

bool fb_array(__u32 id, __u32 *elem, __u32 *nelems)
{
	id = fb_strip(id);
	if (fb_kind(id) != BTF_KIND_ARRAY)
		return false;
	const struct btf_array *a = (const void *)(fb_type(id) + 1);
	*elem = a->type;
	*nelems = a->nelems;
	return true;
}

__u32 fb_pointee(__u32 id)
{
	id = fb_strip(id);
	return fb_kind(id) == BTF_KIND_PTR ? fb_type(id)->type : 0;
}

bool fb_is_composite(__u32 id)
{
	__u32 k = fb_kind(fb_strip(id));
	return k == BTF_KIND_STRUCT || k == BTF_KIND_UNION;
}

/* a member by name, through anonymous struct/union members; offsets in bits */
int fb_member(__u32 sid, const char *name, struct fb_member *out)
{
	sid = fb_strip(sid);
	const struct btf_type *t = fb_type(sid);
	if (!fb_is_composite(sid))
		return -EINVAL;
	const struct btf_member *m = (const void *)(t + 1);
	bool kflag = BTF_INFO_KFLAG(t->info);
	for (__u32 i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		__u32 bit_off = kflag ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
		__u32 bits = kflag ? BTF_MEMBER_BITFIELD_SIZE(m[i].offset) : 0;
		const char *n = m[i].name_off ? emu_vmlinux_btf_str(m[i].name_off) : NULL;
		if (n && *n) {
			if (!strcmp(n, name)) {
				out->type = m[i].type;
				out->bit_off = bit_off;
				out->bit_size = bits;
				return 0;
			}
		} else if (fb_is_composite(m[i].type) && !fb_member(m[i].type, name, out)) {
			out->bit_off += bit_off;
			return 0;
		}
	}
	return -ENOENT;
}

/* the proto of a FUNC (or a pointer to a FUNC_PROTO, as btf_trace_* typedefs are) */
__u32 fb_proto(__u32 id)
{
	for (int i = 0; i < 8 && id; i++) {
		switch (fb_kind(id)) {
		case BTF_KIND_FUNC:
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_PTR:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
			id = fb_type(id)->type;
			break;
		case BTF_KIND_FUNC_PROTO:
			return id;
		default:
			return 0;
		}
	}
	return 0;
}

const struct btf_param *fb_params(__u32 proto, __u32 *n)
{
	const struct btf_type *t = fb_type(proto);
	*n = t ? BTF_INFO_VLEN(t->info) : 0;
	return t ? (const struct btf_param *)(t + 1) : NULL;
}

const char *fb_param_name(const struct btf_param *p)
{
	const char *n = p->name_off ? emu_vmlinux_btf_str(p->name_off) : NULL;
	return n ? n : "";
}

/* an enumerator: in enum eid (0: in any enum of the kernel) */
bool fb_enum_value(__u32 eid, const char *name, __s64 *v)
{
	if (!fb_have())
		return false;
	__u32 from = eid ? eid : 1, to = eid ? eid + 1 : emu_vmlinux_btf_nr_types();
	for (__u32 id = from; id < to; id++) {
		const struct btf_type *t = fb_type(id);
		if (!t)
			break;
		__u32 k = BTF_INFO_KIND(t->info), n = BTF_INFO_VLEN(t->info);
		if (k == BTF_KIND_ENUM) {
			const struct btf_enum *e = (const void *)(t + 1);
			for (__u32 i = 0; i < n; i++)
				if (!strcmp(emu_vmlinux_btf_str(e[i].name_off), name)) {
					*v = BTF_INFO_KFLAG(t->info) ? (__s64)e[i].val : (__s64)(__u32)e[i].val;
					return true;
				}
		} else if (k == BTF_KIND_ENUM64) {
			const struct btf_enum64 *e = (const void *)(t + 1);
			for (__u32 i = 0; i < n; i++)
				if (!strcmp(emu_vmlinux_btf_str(e[i].name_off), name)) {
					*v = (__s64)(((__u64)e[i].val_hi32 << 32) | e[i].val_lo32);
					return true;
				}
		}
	}
	return false;
}

/* "struct task_struct *", "unsigned int", "char[16]": for messages */
void fb_type_str(__u32 id, char *buf, size_t len)
{
	__u32 s = fb_strip(id);
	const char *n = fb_name(id);
	switch (fb_kind(s)) {
	case BTF_KIND_PTR: {
		char inner[128];
		__u32 p = fb_pointee(s);
		if (!p)
			snprintf(inner, sizeof(inner), "void");
		else
			fb_type_str(p, inner, sizeof(inner));
		snprintf(buf, len, "%s *", inner);
		return;
	}
	case BTF_KIND_STRUCT:
		snprintf(buf, len, "struct %s", fb_name(s));
		return;
	case BTF_KIND_UNION:
		snprintf(buf, len, "union %s", fb_name(s));
		return;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		snprintf(buf, len, "enum %s", fb_name(s));
		return;
	case BTF_KIND_ARRAY: {
		__u32 e = 0, ne = 0;
		char inner[128];
		fb_array(s, &e, &ne);
		fb_type_str(e, inner, sizeof(inner));
		snprintf(buf, len, "%s[%u]", inner, ne);
		return;
	}
	default:
		snprintf(buf, len, "%s", *n ? n : s ? fb_name(s) : "void");
	}
}
