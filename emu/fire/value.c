/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/value.c: name=value, the values a test gives an event's fields.
 *
 * A field has a type from the kernel's BTF (a raw tracepoint's or a
 * function's argument, a member of a kernel object) or from a tracepoint's
 * format (integers, char arrays, pointers, arrays, __data_loc strings):
 *
 *   integers    42, -1, 0x2a, 052, 'c', true/false, an enumerator of the
 *               field's enum or of any kernel enum (TASK_RUNNING is a
 *               macro, not an enumerator: give 0); it must fit the field
 *   char arrays a string, cut to the array's size less its NUL
 *   char *      a string, stored in the event's kernel memory, or in the
 *               task's user memory for user pointers (syscall arguments,
 *               uprobes, a name ending in @user)
 *   char **     a comma-separated list of strings (argv; "\," for a comma),
 *               stored as an array of pointers ending in NULL
 *   other pointers  current (the event's task_struct), @ADDR or a number
 *               (an address), &TYPE:NAME (a named object: the same zeroed
 *               struct TYPE in every event this process fires); members
 *               are given by path instead: prev.comm=foo makes prev point
 *               to a new zeroed task_struct
 *   arrays      a comma-separated list of integers
 *   network order   an IPv4 address for a 4-byte field (127.0.0.1), an IPv6
 *               address for a 16-byte one, be16:N be32:N be64:N (a port:
 *               be16:80)
 *
 * Paths follow the kernel's BTF: members (through anonymous structs and
 * unions), array elements ([N]) and pointers (a NULL pointer on the way gets
 * a new zeroed object of its type, or of the type a cast names:
 * sock.sk<inet_sock>.inet_sport). Everything not given is zero.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fire_int.h"

int fire_fail(struct fire_world *w, int err, const char *fmt, ...)
{
	if (w->err && w->err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->err, w->err_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

int fv_int(const char *s, __u32 eid, __s64 *v)
{
	if (!*s)
		return -EINVAL;
	if (s[0] == '\'' && s[1] && s[2] == '\'' && !s[3]) {
		*v = (unsigned char)s[1];
		return 0;
	}
	if (!strcmp(s, "true")) {
		*v = 1;
		return 0;
	}
	if (!strcmp(s, "false")) {
		*v = 0;
		return 0;
	}
	if (isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))) {
		char *end;
		errno = 0;
		if (s[0] == '-') {
			long long x = strtoll(s, &end, 0);
			if (*end || errno)
				return -EINVAL;
			*v = x;
		} else {
			unsigned long long x = strtoull(s, &end, 0);
			if (*end || errno)
				return -EINVAL;
			*v = (__s64)x;
		}
		return 0;
	}
	if (eid && fb_enum_value(eid, s, v))
		return 0;
	return fb_enum_value(0, s, v) ? 0 : -EINVAL;
}

static bool fits(__s64 v, __u32 size, bool neg_ok)
{
	if (size >= 8)
		return true;
	__u64 max = (1ull << (8 * size)) - 1;
	if (v >= 0)
		return (__u64)v <= max;
	/* a negative value must fit the signed range of the field (or its bits, for unsigned ones: -1 = all ones) */
	(void)neg_ok;
	return v >= -(__s64)(1ull << (8 * size - 1));
}

/* __u8 and its kin: bytes (an address: __u8 saddr[4]), not characters, though char underneath */
static bool byte_typedef(__u32 id)
{
	for (int depth = 0; id && depth < 8; depth++) {
		const struct btf_type *t = fb_type(id);
		if (!t)
			return false;
		__u32 k = BTF_INFO_KIND(t->info);
		if (k != BTF_KIND_TYPEDEF && k != BTF_KIND_CONST && k != BTF_KIND_VOLATILE)
			return false;
		const char *n = k == BTF_KIND_TYPEDEF ? fb_name(id) : NULL;
		if (n && (!strcmp(n, "__u8") || !strcmp(n, "u8") || !strcmp(n, "__s8") || !strcmp(n, "s8") ||
			  !strcmp(n, "uint8_t") || !strcmp(n, "int8_t")))
			return true;
		id = t->type;
	}
	return false;
}

struct ftype fv_btf_type(__u32 id, bool user)
{
	struct ftype t = { .kind = FT_BTF, .btf = id, .user = user };
	__u32 s = fb_strip(id), size, elem, n;
	bool sign;
	__s64 sz = fb_size(s);
	t.size = sz > 0 ? (__u32)sz : 0;
	if (fb_int(s, &size, &sign)) {
		t.kind = FT_INT;
		t.size = size;
		t.sign = sign;
		t.btf = fb_kind(s) == BTF_KIND_INT ? 0 : s;
	} else if (fb_kind(s) == BTF_KIND_PTR) {
		__u32 p = fb_pointee(s);
		t.kind = FT_PTR;
		t.size = 8;
		t.btf = p;
		t.ptr_depth = p && fb_is_char(p) ? 1 : p && fb_kind(fb_strip(p)) == BTF_KIND_PTR && fb_pointee(p) &&
								  fb_is_char(fb_pointee(p))
								  ? 2
								  : 0;
	} else if (fb_array(s, &elem, &n)) {
		if (fb_is_char(elem) && !byte_typedef(elem)) {
			t.kind = FT_CHARS;
		} else if (fb_int(elem, &size, &sign)) {
			t.kind = FT_ARRAY;
			t.elem = size;
			t.sign = sign;
			t.btf = fb_kind(fb_strip(elem)) == BTF_KIND_INT ? 0 : fb_strip(elem);
		}
	}
	return t;
}

__u64 fv_object(struct fire_world *w, __u32 sid)
{
	__s64 size = fb_size(sid);
	if (size <= 0)
		size = 8;
	void *p = fmem_alloc(&w->kmem, (size_t)size, 64);
	return (__u64)(uintptr_t)p;
}

static void put_le(void *dst, __u64 v, __u32 size)
{
	unsigned char *d = dst;
	for (__u32 i = 0; i < size && i < 8; i++)
		d[i] = (unsigned char)(v >> (8 * i));
	for (__u32 i = 8; i < size; i++)
		d[i] = 0;
}

/* a string in the event's kernel or user memory: its address, 0 if full */
static __u64 put_string(struct fire_world *w, const char *s, size_t n, bool user)
{
	char *p = fmem_alloc(user ? &w->umem : &w->kmem, n + 1, 1);
	if (!p)
		return 0;
	memcpy(p, s, n);
	p[n] = '\0';
	return (__u64)(uintptr_t)p;
}

/* the next item of a comma-separated list (\, is a comma): into buf; the rest after it */
static const char *list_item(const char *s, char *buf, size_t len, size_t *n)
{
	size_t o = 0;
	while (*s && *s != ',') {
		if (*s == '\\' && (s[1] == ',' || s[1] == '\\'))
			s++;
		if (o + 1 < len)
			buf[o++] = *s;
		s++;
	}
	buf[o] = '\0';
	*n = o;
	return *s == ',' ? s + 1 : s;
}

static bool is_number(const char *s)
{
	__s64 v;
	return (isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))) && !fv_int(s, 0, &v);
}

/* Named objects (&TYPE:NAME): one zeroed object of struct TYPE per name in
 * the event's kernel memory, the same for every event this process fires
 * into that state root (the sock that one event's start and another's close
 * both point to). Kept while the memory's ring has not come round to it. */
#define NAMED_MAX 256
static struct named {
	char name[128];
	char root[PATH_MAX];
	__u64 addr;
} named[NAMED_MAX];
static unsigned nr_named;
static pthread_mutex_t named_lock = PTHREAD_MUTEX_INITIALIZER;

static int named_object(struct fire_world *w, const char *spec, __u64 *addr, const char *what)
{
	const char *colon = strchr(spec, ':');
	char tn[128];
	if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof(tn) || strlen(spec) >= sizeof(named[0].name))
		return fire_fail(w, -EINVAL, "%s: a named object is &TYPE:NAME (&sock:client)", what);
	snprintf(tn, sizeof(tn), "%.*s", (int)(colon - spec), spec);
	__u32 sid = fb_find(tn, BTF_KIND_STRUCT);
	if (!sid)
		sid = fb_find(tn, BTF_KIND_UNION);
	if (!sid)
		return fire_fail(w, -EINVAL, "%s: no struct %s in the kernel's BTF", what, tn);
	int err = 0;
	pthread_mutex_lock(&named_lock);
	unsigned i;
	for (i = 0; i < nr_named; i++)
		if (!strcmp(named[i].name, spec) && !strcmp(named[i].root, w->kmem.root))
			break;
	if (i < nr_named && fmem_has(&w->kmem, named[i].addr, 1)) {
		*addr = named[i].addr;
	} else if (i == nr_named && nr_named == NAMED_MAX) {
		err = fire_fail(w, -E2BIG, "%s: more than %d named objects", what, NAMED_MAX);
	} else if (!(*addr = fv_object(w, sid))) {
		err = fire_fail(w, -ENOMEM, "%s: an object too large for the events' kernel memory", what);
	} else {
		if (i == nr_named)
			nr_named++;
		snprintf(named[i].name, sizeof(named[i].name), "%s", spec);
		snprintf(named[i].root, sizeof(named[i].root), "%s", w->kmem.root);
		named[i].addr = *addr;
	}
	pthread_mutex_unlock(&named_lock);
	return err;
}

static int put_ptr(struct fire_world *w, void *dst, const struct ftype *ft, const char *value, const char *what)
{
	__s64 v;
	const char *mem = ft->user ? "the task's user memory" : "the event's kernel memory";
	if (value[0] == '&') {
		__u64 a;
		int err = named_object(w, value + 1, &a, what);
		if (!err)
			put_le(dst, a, 8);
		return err;
	}
	if (value[0] == '@') {
		if (fv_int(value + 1, 0, &v))
			return fire_fail(w, -EINVAL, "%s: '%s' is not an address", what, value);
		put_le(dst, (__u64)v, 8);
		return 0;
	}
	if (!strcmp(value, "current")) {
		if (!w->current)
			return fire_fail(w, -EINVAL, "%s: no current task_struct (the kernel's BTF is missing)", what);
		put_le(dst, w->current, 8);
		return 0;
	}
	/* a string for a char pointer, and for any pointer that is not to a structure (void *data) */
	if (ft->ptr_depth == 1 || (ft->ptr_depth == 0 && !(ft->btf && fb_is_composite(ft->btf)) && !is_number(value))) {
		__u64 a = put_string(w, value, strlen(value), ft->user);
		if (!a)
			return fire_fail(w, -E2BIG, "%s: the string does not fit %s", what, mem);
		put_le(dst, a, 8);
		return 0;
	}
	if (ft->ptr_depth == 2) {
		/* argv: the strings, then the pointers and a NULL */
		__u64 ptrs[256];
		size_t n = 0, len;
		char item[4096];
		for (const char *s = value; *s;) {
			if (n == ARRAY_SIZE(ptrs) - 1)
				return fire_fail(w, -E2BIG, "%s: more than %zu strings", what, ARRAY_SIZE(ptrs) - 1);
			s = list_item(s, item, sizeof(item), &len);
			ptrs[n] = put_string(w, item, len, ft->user);
			if (!ptrs[n++])
				return fire_fail(w, -ENOMEM, "%s: too large for %s", what, mem);
		}
		ptrs[n++] = 0;
		__u64 *arr = fmem_alloc(ft->user ? &w->umem : &w->kmem, n * 8, 8);
		if (!arr)
			return fire_fail(w, -ENOMEM, "%s: too large for %s", what, mem);
		memcpy(arr, ptrs, n * 8);
		put_le(dst, (__u64)(uintptr_t)arr, 8);
		return 0;
	}
	if (is_number(value)) {
		fv_int(value, 0, &v);
		put_le(dst, (__u64)v, 8);
		return 0;
	}
	char ts[160] = "pointer";
	if (ft->btf)
		fb_type_str(ft->btf, ts, sizeof(ts));
	return fire_fail(w, -EINVAL,
			 "%s points to %s: give its members (%s.MEMBER=...), current, or an address (@ADDR), not '%s'",
			 what, ts, what, value);
}

/* network-order forms: an IPv4 address for 4 bytes, an IPv6 address for 16, be16:/be32:/be64:N */
static bool put_net(void *dst, __u32 size, const char *value)
{
	unsigned char b[16];
	if (size == 4 && strchr(value, '.') && inet_pton(AF_INET, value, b) == 1) {
		memcpy(dst, b, 4);
		return true;
	}
	if (size == 16 && strchr(value, ':') && inet_pton(AF_INET6, value, b) == 1) {
		memcpy(dst, b, 16);
		return true;
	}
	unsigned bits;
	char *end;
	if (sscanf(value, "be%u:", &bits) == 1 && (bits == 16 || bits == 32 || bits == 64) && bits / 8 == size) {
		errno = 0;
		unsigned long long x = strtoull(strchr(value, ':') + 1, &end, 0);
		if (*end || errno || (bits < 64 && x >> bits))
			return false;
		for (__u32 i = 0; i < size; i++)
			((unsigned char *)dst)[i] = (unsigned char)(x >> (8 * (size - 1 - i)));
		return true;
	}
	return false;
}

int fv_put(struct fire_world *w, void *dst, const struct ftype *ft, const char *value, const char *what)
{
	__s64 v;
	if ((ft->kind == FT_INT || ft->kind == FT_BTF || ft->kind == FT_ARRAY) && put_net(dst, ft->size, value))
		return 0;
	switch (ft->kind) {
	case FT_INT:
		if (fv_int(value, ft->btf, &v))
			return fire_fail(w, -EINVAL, "%s: '%s' is not an integer%s", what, value,
					 ft->btf ? " or an enumerator of its enum" : "");
		if (!fits(v, ft->size, ft->sign))
			return fire_fail(w, -ERANGE, "%s: %s does not fit its %u bytes", what, value, ft->size);
		put_le(dst, (__u64)v, ft->size);
		return 0;
	case FT_CHARS: {
		size_t n = strlen(value);
		if (ft->size && n > ft->size - 1)
			n = ft->size - 1;
		memset(dst, 0, ft->size);
		memcpy(dst, value, n);
		return 0;
	}
	case FT_PTR:
		return put_ptr(w, dst, ft, value, what);
	case FT_ARRAY: {
		char item[128];
		size_t len;
		__u32 i = 0, n = ft->elem ? ft->size / ft->elem : 0;
		memset(dst, 0, ft->size);
		for (const char *s = value; *s; i++) {
			if (i >= n)
				return fire_fail(w, -E2BIG, "%s: more than %u values", what, n);
			s = list_item(s, item, sizeof(item), &len);
			if (fv_int(item, ft->btf, &v) || !fits(v, ft->elem, ft->sign))
				return fire_fail(w, -EINVAL, "%s[%u]: '%s' is not an integer of %u bytes", what, i, item,
						 ft->elem);
			put_le((char *)dst + (size_t)i * ft->elem, (__u64)v, ft->elem);
		}
		return 0;
	}
	case FT_BTF: {
		char ts[160] = "?";
		if (fv_int(value, 0, &v) == 0 && v == 0) {
			memset(dst, 0, ft->size);
			return 0;
		}
		fb_type_str(ft->btf, ts, sizeof(ts));
		return fire_fail(w, -EINVAL, "%s is %s: give its members (%s.MEMBER=...)", what, ts, what);
	}
	default:
		return fire_fail(w, -EINVAL, "%s: this field takes no value here", what);
	}
}

int fv_path(struct fire_world *w, __u64 addr, __u32 sid, const char *path, __u64 *leaf, __u32 *type, struct fb_member *bits,
	    const char *what)
{
	char comp[128];
	const char *p = path;
	__u32 t = sid, cast = 0;
	memset(bits, 0, sizeof(*bits));
	while (*p) {
		size_t n = strcspn(p, ".[<");
		if (n == 0 && *p == '.')
			return fire_fail(w, -EINVAL, "%s: empty member name", what);
		if (n >= sizeof(comp))
			return fire_fail(w, -ENAMETOOLONG, "%s: member name too long", what);
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (bits->bit_size)
			return fire_fail(w, -EINVAL, "%s: a bitfield has no members", what);
		if (n) {
			__u32 s = fb_strip(t);
			if (fb_kind(s) == BTF_KIND_PTR) {
				/* through the pointer: its object (of the type a <cast> gave), made when it is NULL */
				__u32 pt = cast ? cast : fb_pointee(s);
				if (!pt || !fb_is_composite(pt)) {
					char ts[160];
					fb_type_str(t, ts, sizeof(ts));
					return fire_fail(w, -EINVAL, "%s: cannot follow %s to '%s'", what, ts, comp);
				}
				__u64 obj;
				memcpy(&obj, (void *)(uintptr_t)addr, 8);
				if (!obj) {
					obj = fv_object(w, pt);
					if (!obj)
						return fire_fail(w, -ENOMEM, "%s: an object too large for the events' kernel memory", what);
					memcpy((void *)(uintptr_t)addr, &obj, 8);
				} else if (!fmem_has(&w->kmem, obj, 1)) {
					return fire_fail(w, -EINVAL, "%s: '%s' is reached through an address given with @",
							 what, comp);
				}
				addr = obj;
				t = pt;
				s = fb_strip(t);
			}
			if (!fb_is_composite(s)) {
				char ts[160];
				fb_type_str(t, ts, sizeof(ts));
				return fire_fail(w, -EINVAL, "%s: %s has no member '%s'", what, ts, comp);
			}
			struct fb_member m;
			if (fb_member(s, comp, &m)) {
				char ts[160];
				fb_type_str(s, ts, sizeof(ts));
				return fire_fail(w, -ENOENT, "%s: %s has no member '%s' in the kernel's BTF", what, ts, comp);
			}
			if (m.bit_size) {
				addr += m.bit_off / 8;
				bits->bit_off = m.bit_off % 8;
				bits->bit_size = m.bit_size;
			} else {
				if (m.bit_off % 8)
					return fire_fail(w, -EINVAL, "%s: member '%s' is not byte aligned", what, comp);
				addr += m.bit_off / 8;
			}
			t = m.type;
			cast = 0;
		}
		if (*p == '<') {
			/* name<struct type>: what the pointer points to is that type (inet_sock for a sock *) */
			const char *close = strchr(p, '>');
			char tn[128];
			if (!close || close == p + 1 || (size_t)(close - p - 1) >= sizeof(tn))
				return fire_fail(w, -EINVAL, "%s: a cast is NAME<TYPE>", what);
			snprintf(tn, sizeof(tn), "%.*s", (int)(close - p - 1), p + 1);
			if (fb_kind(fb_strip(t)) != BTF_KIND_PTR)
				return fire_fail(w, -EINVAL, "%s: only a pointer is given another type (<%s>)", what, tn);
			cast = fb_find(tn, BTF_KIND_STRUCT);
			if (!cast)
				cast = fb_find(tn, BTF_KIND_UNION);
			if (!cast)
				return fire_fail(w, -ENOENT, "%s: no struct %s in the kernel's BTF", what, tn);
			p = close + 1;
		}
		if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 0);
			__u32 elem, ne;
			if (*end != ']' || end == p + 1)
				return fire_fail(w, -EINVAL, "%s: bad index in '%s'", what, path);
			if (!fb_array(t, &elem, &ne))
				return fire_fail(w, -EINVAL, "%s: '%s' is not an array", what, comp);
			if (i >= ne)
				return fire_fail(w, -ERANGE, "%s: index %lu past the %u elements", what, i, ne);
			__s64 es = fb_size(elem);
			if (es < 0)
				return fire_fail(w, -EINVAL, "%s: elements of unknown size", what);
			addr += (__u64)es * i;
			t = elem;
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	*leaf = addr;
	*type = t;
	return 0;
}

int fv_assign(struct fire_world *w, __u64 addr, __u32 sid, const char *path, const char *value, bool user, const char *what)
{
	__u64 leaf;
	__u32 t;
	struct fb_member bits;
	int err = fv_path(w, addr, sid, path, &leaf, &t, &bits, what);
	if (err)
		return err;
	struct ftype ft = fv_btf_type(t, user);
	if (!bits.bit_size)
		return fv_put(w, (void *)(uintptr_t)leaf, &ft, value, what);
	__s64 v;
	if (fv_int(value, ft.kind == FT_INT ? ft.btf : 0, &v))
		return fire_fail(w, -EINVAL, "%s: '%s' is not an integer", what, value);
	if (bits.bit_size < 64 && v >= 0 && (__u64)v >> bits.bit_size)
		return fire_fail(w, -ERANGE, "%s: %s does not fit its %u bits", what, value, bits.bit_size);
	unsigned char *b = (unsigned char *)(uintptr_t)leaf;
	for (__u32 i = 0; i < bits.bit_size; i++) {
		__u32 bit = bits.bit_off + i;
		if (((__u64)v >> i) & 1)
			b[bit / 8] |= (unsigned char)(1u << (bit % 8));
		else
			b[bit / 8] &= (unsigned char)~(1u << (bit % 8));
	}
	return 0;
}
