/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/format.c: what a tracepoint's record looks like (the context of
 * a BPF_PROG_TYPE_TRACEPOINT program), from the first of:
 *
 *   tracefs     events/CAT/NAME/format under /sys/kernel/tracing or
 *               /sys/kernel/debug/tracing, when this process can read it
 *   the kernel's BTF   struct trace_event_raw_NAME, or of the tracepoint's
 *               template class (DEFINE_EVENT): the template is the one whose
 *               __bpf_trace_TEMPLATE function takes the arguments of
 *               btf_trace_NAME, nearest by name
 *   syscalls.c  syscalls/sys_enter_NAME and sys_exit_NAME (records built
 *               from syscall metadata have no BTF type of their own)
 *
 * The common fields (common_type, common_flags, common_preempt_count,
 * common_pid) come first in each. The raw tracepoint's arguments (raw_tp and
 * tp_btf programs) are btf_trace_NAME's, named by __bpf_trace_TEMPLATE's
 * parameters.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fire_int.h"
#include "../os_errno.h"
#include "../perf/perf.h"

static int add_field_t(struct tp_format *f, const char *name, const char *type, __u32 off, struct ftype t);
static int add_field(struct tp_format *f, const char *name, __u32 off, struct ftype t)
{
	return add_field_t(f, name, NULL, off, t);
}

/* the declaration's type for a field of a made-up format file */
static void type_text(const struct ftype *t, char *buf, size_t len)
{
	static const char *const ints[2][9] = {
		{ "", "unsigned char", "unsigned short", "", "unsigned int", "", "", "", "unsigned long" },
		{ "", "char", "short", "", "int", "", "", "", "long" },
	};
	switch (t->kind) {
	case FT_INT:
		snprintf(buf, len, "%s", t->size <= 8 && *ints[t->sign][t->size] ? ints[t->sign][t->size] : "u64");
		break;
	case FT_CHARS:
		snprintf(buf, len, "char");
		break;
	case FT_PTR:
		snprintf(buf, len, "%s", t->ptr_depth == 1 ? "const char *" : t->ptr_depth == 2 ? "const char *const *" : "void *");
		break;
	case FT_ARRAY:
		snprintf(buf, len, "%s", t->elem <= 8 && *ints[t->sign][t->elem] ? ints[t->sign][t->elem] : "u64");
		break;
	case FT_DATALOC:
		snprintf(buf, len, "%s", t->rel ? "__rel_loc char[]" : "__data_loc char[]");
		break;
	default:
		snprintf(buf, len, "u8");
	}
}

static int add_field_t(struct tp_format *f, const char *name, const char *type, __u32 off, struct ftype t)
{
	struct tp_field *n = realloc(f->f, (f->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	f->f = n;
	memset(&n[f->nr], 0, sizeof(n[f->nr]));
	snprintf(n[f->nr].name, sizeof(n[f->nr].name), "%s", name);
	if (type)
		snprintf(n[f->nr].type, sizeof(n[f->nr].type), "%s", type);
	else
		type_text(&t, n[f->nr].type, sizeof(n[f->nr].type));
	n[f->nr].off = off;
	n[f->nr].t = t;
	f->nr++;
	if (off + t.size > f->size)
		f->size = off + t.size;
	return 0;
}

static int add_common(struct tp_format *f)
{
	int err = add_field_t(f, "common_type", "unsigned short", 0, (struct ftype){ .kind = FT_INT, .size = 2 });
	if (!err)
		err = add_field_t(f, "common_flags", "unsigned char", 2, (struct ftype){ .kind = FT_INT, .size = 1 });
	if (!err)
		err = add_field_t(f, "common_preempt_count", "unsigned char", 3, (struct ftype){ .kind = FT_INT, .size = 1 });
	if (!err)
		err = add_field_t(f, "common_pid", "int", 4, (struct ftype){ .kind = FT_INT, .size = 4, .sign = true });
	return err;
}

static bool type_unsigned(const char *type)
{
	return strstr(type, "unsigned") || type[0] == 'u' || !strncmp(type, "__u", 3) || !strncmp(type, "size_t", 6) ||
	       !strncmp(type, "bool", 4) || !strncmp(type, "gfp_t", 5) || !strncmp(type, "dev_t", 5);
}

static bool type_char(const char *type)
{
	const char *t = type;
	while (!strncmp(t, "const ", 6) || !strncmp(t, "unsigned ", 9) || !strncmp(t, "signed ", 7))
		t += *t == 'c' ? 6 : *t == 'u' ? 9 : 7;
	return !strncmp(t, "char", 4) && !isalnum((unsigned char)t[4]) && t[4] != '_';
}

/*
 * One declaration as a format file shows it ("char prev_comm[16]",
 * "const char * filename", "__data_loc char[] name", "unsigned long args[6]")
 * with its size and signedness: the field's name and type.
 */
static int parse_decl(const char *decl, __u32 size, int sign, bool user, char *name, size_t nlen, struct ftype *t,
		      char *type_out, size_t tlen, char suffix_out[16])
{
	char d[256];
	snprintf(d, sizeof(d), "%s", decl);
	size_t n = strlen(d);
	while (n && isspace((unsigned char)d[n - 1]))
		d[--n] = '\0';
	memset(t, 0, sizeof(*t));
	t->size = size;
	__u32 count = 0;
	char suffix[16] = "";
	if (n && d[n - 1] == ']') {
		char *lb = strrchr(d, '[');
		if (!lb)
			return -EINVAL;
		count = (__u32)strtoul(lb + 1, NULL, 0);
		snprintf(suffix, sizeof(suffix), "%.15s", lb);
		*lb = '\0';
		n = strlen(d);
	}
	/* the name: the last identifier */
	size_t e = n;
	while (e && (isalnum((unsigned char)d[e - 1]) || d[e - 1] == '_'))
		e--;
	if (e == n)
		return -EINVAL;
	snprintf(name, nlen, "%s", d + e);
	d[e] = '\0';
	const char *type = d;
	while (isspace((unsigned char)*type))
		type++;
	snprintf(type_out, tlen, "%s", type);
	for (size_t k = strlen(type_out); k && isspace((unsigned char)type_out[k - 1]); k--)
		type_out[k - 1] = '\0';
	snprintf(suffix_out, 16, "%s", suffix);
	if (!strncmp(type, "__data_loc", 10) || !strncmp(type, "__rel_loc", 9)) {
		t->kind = FT_DATALOC;
		t->rel = type[2] == 'r';
		t->size = 4;
		return 0;
	}
	unsigned stars = 0;
	for (const char *c = type; *c; c++)
		stars += *c == '*';
	bool chr = type_char(type);
	if (stars) {
		t->kind = FT_PTR;
		t->size = 8;
		t->user = user;
		t->ptr_depth = chr && stars <= 2 ? stars : 0;
	} else if (count || strstr(type, "[]")) {
		if (chr) {
			t->kind = FT_CHARS;
		} else {
			t->kind = FT_ARRAY;
			t->elem = count ? size / count : size;
			t->sign = sign >= 0 ? sign : !type_unsigned(type);
			if (!t->elem || (t->elem & (t->elem - 1)) || t->elem > 8)
				t->kind = FT_CHARS;       /* arrays of structs: given as bytes of a string */
		}
	} else {
		t->kind = FT_INT;
		t->sign = sign >= 0 ? sign : !type_unsigned(type);
		if (size > 8)
			t->kind = FT_CHARS;
	}
	return 0;
}

/* ---- tracefs ---- */

static char *read_small(const char *path)
{
	int fd = emu_oe_open3(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	emu_oe_close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int from_tracefs(const char *cat, const char *name, struct tp_format *f)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[600], *text = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(roots) && !text; i++) {
		snprintf(path, sizeof(path), "%s/events/%.60s/%.120s/format", roots[i], cat, name);
		text = read_small(path);
	}
	if (!text)
		return -ENOENT;
	bool user = !strcmp(cat, "syscalls");
	int err = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		unsigned id, off, size;
		int sign;
		if (sscanf(line, "ID: %u", &id) == 1) {
			f->id = id;
			continue;
		}
		char *fl = strstr(line, "field:");
		if (!fl)
			continue;
		char *semi = strchr(fl, ';');
		if (!semi || sscanf(semi, "; offset:%u; size:%u; signed:%d;", &off, &size, &sign) != 3)
			continue;
		*semi = '\0';
		char fname[64], ftype_s[96], suffix[16];
		struct ftype t;
		if (parse_decl(fl + 6, size, sign, user, fname, sizeof(fname), &t, ftype_s, sizeof(ftype_s), suffix))
			continue;
		err = add_field_t(f, fname, ftype_s, off, t);
		if (!err)
			snprintf(f->f[f->nr - 1].suffix, sizeof(f->f[0].suffix), "%s", suffix);
	}
	free(text);
	f->source = "tracefs";
	return err;
}

/* ---- the raw tracepoint's arguments, and its template ---- */

static __u32 *tp_funcs;                /* the __bpf_trace_* functions of the kernel's BTF */
static __u32 nr_tp_funcs;
static pthread_once_t tp_funcs_once = PTHREAD_ONCE_INIT;

static void tp_funcs_scan(void)
{
	__u32 nr = emu_vmlinux_btf_nr_types(), cap = 0;
	for (__u32 id = 1; id < nr; id++) {
		if (fb_kind(id) != BTF_KIND_FUNC || strncmp(fb_name(id), "__bpf_trace_", 12))
			continue;
		if (nr_tp_funcs == cap) {
			__u32 *n = realloc(tp_funcs, (cap ? cap * 2 : 1024) * sizeof(*n));
			if (!n)
				return;
			tp_funcs = n;
			cap = cap ? cap * 2 : 1024;
		}
		tp_funcs[nr_tp_funcs++] = id;
	}
}

static bool same_params(__u32 a, __u32 b)
{
	__u32 na, nb;
	const struct btf_param *pa = fb_params(a, &na), *pb = fb_params(b, &nb);
	if (!pa || !pb || na != nb)
		return false;
	for (__u32 i = 0; i < na; i++)
		if (fb_strip(pa[i].type) != fb_strip(pb[i].type))
			return false;
	return true;
}

__u32 tp_raw_proto(const char *name, char *tmpl, size_t len)
{
	char buf[300];
	if (!fb_have())
		return 0;
	snprintf(buf, sizeof(buf), "btf_trace_%.200s", name);
	__u32 td = fb_find(buf, BTF_KIND_TYPEDEF);
	__u32 proto = td ? fb_proto(td) : 0;
	if (!proto)
		return 0;
	snprintf(buf, sizeof(buf), "__bpf_trace_%.200s", name);
	__u32 fn = fb_find(buf, BTF_KIND_FUNC);
	if (fn) {
		snprintf(tmpl, len, "%s", name);
		return fb_proto(fn);
	}
	/* DEFINE_EVENT(template, name): the template's function, the one with these
	 * argument types whose name shares the longest prefix with ours */
	pthread_once(&tp_funcs_once, tp_funcs_scan);
	__u32 best = 0;
	size_t best_len = 0;
	for (__u32 i = 0; i < nr_tp_funcs; i++) {
		const char *fname = fb_name(tp_funcs[i]) + 12;
		size_t k = 0;
		while (fname[k] && fname[k] == name[k])
			k++;
		if (k > best_len && same_params(fb_proto(tp_funcs[i]), proto)) {
			best = tp_funcs[i];
			best_len = k;
		}
	}
	if (!best) {
		tmpl[0] = '\0';
		return proto;                  /* unnamed arguments: arg0, arg1, ... */
	}
	snprintf(tmpl, len, "%s", fb_name(best) + 12);
	return fb_proto(best);
}

/* ---- the kernel's BTF: struct trace_event_raw_NAME or _TEMPLATE ---- */

static int from_btf(const char *cat, const char *name, struct tp_format *f)
{
	char tmpl[200], buf[300];
	if (!fb_have())
		return -ENOENT;
	snprintf(buf, sizeof(buf), "trace_event_raw_%.200s", name);
	__u32 sid = fb_find(buf, BTF_KIND_STRUCT);
	if (!sid && tp_raw_proto(name, tmpl, sizeof(tmpl)) && tmpl[0]) {
		snprintf(buf, sizeof(buf), "trace_event_raw_%.200s", tmpl);
		sid = fb_find(buf, BTF_KIND_STRUCT);
	}
	if (!sid)
		return -ENOENT;
	const struct btf_type *t = fb_type(sid);
	const struct btf_member *m = (const void *)(t + 1);
	int err = 0;
	for (__u32 i = 0; i < BTF_INFO_VLEN(t->info) && !err; i++) {
		const char *mn = emu_vmlinux_btf_str(m[i].name_off);
		__u32 off = (BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset) / 8;
		if (!mn || !strcmp(mn, "__data"))
			continue;
		if (!strcmp(mn, "ent")) {
			err = add_common(f);
			continue;
		}
		if (!strncmp(mn, "__data_loc_", 11) || !strncmp(mn, "__rel_loc_", 10)) {
			bool rel = mn[2] == 'r';
			err = add_field(f, mn + (rel ? 10 : 11), off, (struct ftype){ .kind = FT_DATALOC, .size = 4, .rel = rel });
			continue;
		}
		char ts[96];
		struct ftype ft = fv_btf_type(m[i].type, !strcmp(cat, "syscalls"));
		__u32 elem, ne;
		fb_type_str(m[i].type, ts, sizeof(ts));
		if (fb_array(m[i].type, &elem, &ne)) {
			char *br = strrchr(ts, '[');      /* "char[16]": the element's type, the count goes with the name */
			if (br)
				*br = '\0';
		}
		err = add_field_t(f, mn, ts, off, ft);
		if (!err && fb_array(m[i].type, &elem, &ne))
			snprintf(f->f[f->nr - 1].suffix, sizeof(f->f[0].suffix), "[%u]", ne);
	}
	f->source = "the kernel's BTF";
	return err;
}

/* ---- syscalls/sys_{enter,exit}_NAME from syscalls.c ---- */

static int from_table(const char *cat, const char *name, struct tp_format *f)
{
	if (strcmp(cat, "syscalls"))
		return -ENOENT;
	bool enter = !strncmp(name, "sys_enter_", 10), exit_ = !strncmp(name, "sys_exit_", 9);
	if (!enter && !exit_)
		return -ENOENT;
	const char *sc = name + (enter ? 10 : 9);
	const struct fire_syscall *s = NULL;
	for (unsigned i = 0; i < fire_nr_syscalls && !s; i++)
		if (!strcmp(fire_syscalls[i].name, sc))
			s = &fire_syscalls[i];
	if (!s)
		return -ENOENT;
	int err = add_common(f);
	if (!err)
		err = add_field_t(f, "__syscall_nr", "int", 8, (struct ftype){ .kind = FT_INT, .size = 4, .sign = true });
	if (exit_) {
		if (!err)
			err = add_field_t(f, "ret", "long", 16, (struct ftype){ .kind = FT_INT, .size = 8, .sign = true });
	} else {
		__u32 off = 16;
		for (const char *a = s->args; *a && !err; off += 8) {
			size_t n = strcspn(a, ";");
			char decl[200], fname[64], ftype_s[96], suffix[16];
			struct ftype t;
			snprintf(decl, sizeof(decl), "%.*s", (int)n, a);
			if (!parse_decl(decl, 8, -1, true, fname, sizeof(fname), &t, ftype_s, sizeof(ftype_s), suffix))
				err = add_field_t(f, fname, ftype_s, off, t);
			a += n + (a[n] == ';');
		}
	}
	f->syscall_nr = s->nr;
	f->source = "bpfemu's syscall table (tools/gen/syscall-table)";
	return err;
}

static __u32 made_up_id(const char *cat, const char *name)
{
	char path[600], buf[32];
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%.60s/%.120s/id", cat, name);
	char *real = read_small(path);
	if (real) {
		__u32 id = (__u32)strtoul(real, NULL, 10);
		free(real);
		if (id)
			return id;
	}
	return emu_perf_made_up_file(path, buf, sizeof(buf)) > 0 ? (__u32)strtoul(buf, NULL, 10) : 0;
}

int tp_format_get(const char *cat, const char *name, struct tp_format *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->cat, sizeof(f->cat), "%s", cat);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->syscall_nr = -1;
	int err = from_tracefs(cat, name, f);
	if (err == -ENOENT)
		err = from_table(cat, name, f);
	if (err == -ENOENT)
		err = from_btf(cat, name, f);
	if (err) {
		tp_format_free(f);
		snprintf(f->cat, sizeof(f->cat), "%s", cat);
		snprintf(f->name, sizeof(f->name), "%s", name);
		f->syscall_nr = -1;
		return err;
	}
	if (f->syscall_nr < 0 && !strcmp(cat, "syscalls")) {
		const char *sc = !strncmp(name, "sys_enter_", 10) ? name + 10 : !strncmp(name, "sys_exit_", 9) ? name + 9 : "";
		for (unsigned i = 0; i < fire_nr_syscalls; i++)
			if (!strcmp(fire_syscalls[i].name, sc))
				f->syscall_nr = fire_syscalls[i].nr;
	}
	if (!f->id)
		f->id = made_up_id(cat, name);
	return 0;
}

void tp_format_free(struct tp_format *f)
{
	free(f->f);
	f->f = NULL;
	f->nr = 0;
}

const struct tp_field *tp_field(const struct tp_format *f, const char *name)
{
	for (__u32 i = 0; i < f->nr; i++)
		if (!strcmp(f->f[i].name, name))
			return &f->f[i];
	return NULL;
}

/* ---- a format file as tracefs shows it, for the shim's made-up tracefs ---- */

int emu_fire_format_text(const char *cat, const char *name, char *buf, size_t len)
{
	struct tp_format f;
	int err = tp_format_get(cat, name, &f);
	if (err)
		return err;
	size_t o = 0;
#define PUT(...) do { int w_ = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__); if (w_ > 0) o += (size_t)w_; } while (0)
	PUT("name: %s\nID: %u\nformat:\n", name, f.id);
	for (__u32 i = 0; i < f.nr; i++) {
		const struct tp_field *x = &f.f[i];
		if (i == 4)
			PUT("\n");                 /* the kernel's blank line after the common fields */
		bool sign = x->t.kind == FT_INT || x->t.kind == FT_ARRAY ? x->t.sign : false;
		PUT("\tfield:%s %s%s;\toffset:%u;\tsize:%u;\tsigned:%d;\n", x->type, x->name, x->suffix, x->off, x->t.size,
		    sign);
	}
	PUT("\nprint fmt: \"%s\"\n", "(made up by bpfemu from the kernel's BTF: no print format)");
#undef PUT
	tp_format_free(&f);
	if (o >= len)
		return -ENOSPC;
	return (int)o;
}
