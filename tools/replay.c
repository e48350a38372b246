/* SPDX-License-Identifier: MIT */
/*
 * tools/replay.c: `bpfemu replay LOG [--keep-going] [--root DIR]`.
 *
 * Reads a log written by `strace [-f] -e trace=bpf [-o LOG]` or by
 * BPFEMU_TRACE, re-issues every bpf() call against the engine in this process
 * and checks each result against the recorded one: return value (fds only as
 * "an fd") and errno, and, where the log carries them (the trace's trailing
 * comment), the key and value bytes the call returned. Recorded fds and ids
 * map to the ones the engine hands out, per pid. Memory strace did not show is
 * filled deterministically: bytes an earlier call returned at the same
 * recorded address (bpftool's dump loop passes next_key back as key), else
 * zeros; programs without recorded instructions become "r0 = 0; ...; exit".
 *
 * Lines that are not bpf() calls, signals (--- SIG ---), exits (+++ ... +++),
 * "strace: Process N attached", pid prefixes ("N " and "[pid N] "), -t
 * timestamps and <unfinished ...> / <... bpf resumed> pairs are handled as
 * strace writes them. Exit: 0 all matched, 1 divergence, 2 usage, 3 a
 * malformed log (with the line number).
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "trace.h"
#include "tools.h"

#define EXIT_DIVERGED 1
#define EXIT_USAGE 2
#define EXIT_MALFORMED 3
#ifndef offsetofend
#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#endif
#define MAX_BUF 65536u
#define MAX_FIELDS 48
#define MAX_PIDS 64
#define MAX_FDS 1024

/* ---- state: fds, ids, memory ---- */

struct fdmap { int pid, rec, real; };
struct idmap { int kind; unsigned int rec, real; };
struct mem { int pid; unsigned long long addr; size_t len; unsigned char *bytes; };

static struct fdmap fds[MAX_FDS];
static size_t nfds;
static struct idmap ids[MAX_FDS];
static size_t nids;
static struct mem *mems;
static size_t nmems;
static void *bad_page;          /* PROT_NONE: pointers strace could not read */

static void fd_set_map(int pid, int rec, int real)
{
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].pid == pid && fds[i].rec == rec) {
			fds[i].real = real;
			return;
		}
	if (nfds < MAX_FDS)
		fds[nfds++] = (struct fdmap){ pid, rec, real };
}

static int fd_map(int pid, int rec)
{
	if (rec < 0)
		return rec;
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].pid == pid && fds[i].rec == rec)
			return fds[i].real;
	for (size_t i = nfds; i-- > 0;)       /* a forked child inherits its parent's fds */
		if (fds[i].rec == rec)
			return fds[i].real;
	return rec <= 2 ? rec : 0x3fffff00 + (rec & 0xff);    /* not open here either: EBADF */
}

/* Object ids are per kind (the kernel has one idr per kind). */
static unsigned int id_map(int kind, unsigned int rec)
{
	for (size_t i = 0; i < nids; i++)
		if (ids[i].kind == kind && ids[i].rec == rec)
			return ids[i].real;
	return rec;
}

static bool id_known(int kind, unsigned int rec)
{
	for (size_t i = 0; i < nids; i++)
		if (ids[i].kind == kind && ids[i].rec == rec)
			return true;
	return false;
}

static void id_set_map(int kind, unsigned int rec, unsigned int real)
{
	for (size_t i = 0; i < nids; i++)
		if (ids[i].kind == kind && ids[i].rec == rec) {
			ids[i].real = real;
			return;
		}
	if (nids < MAX_FDS)
		ids[nids++] = (struct idmap){ kind, rec, real };
}

/* Every object this replay created or was told about, in creation order (its
 * id here), and the log's id for it once known. An id the log names but never
 * showed (strace does not print the info struct) is bound to one of these. */
struct obj { int kind; unsigned int real, rec; unsigned long queried; };
static struct obj objs[MAX_FDS];
static size_t nobjs;

static struct obj *obj_of(int kind, unsigned int real)
{
	for (size_t i = 0; i < nobjs; i++)
		if (objs[i].kind == kind && objs[i].real == real)
			return &objs[i];
	if (nobjs >= MAX_FDS || !real)
		return NULL;
	objs[nobjs] = (struct obj){ kind, real, 0, 0 };
	return &objs[nobjs++];
}

static void obj_bind(int kind, unsigned int rec, unsigned int real)
{
	struct obj *o = obj_of(kind, real);
	if (o)
		o->rec = rec;
	id_set_map(kind, rec, real);
}

static void mem_store(int pid, unsigned long long addr, const void *p, size_t len)
{
	struct mem *m = NULL;
	for (size_t i = 0; i < nmems; i++)
		if (mems[i].pid == pid && mems[i].addr == addr)
			m = &mems[i];
	if (!m) {
		struct mem *n = realloc(mems, (nmems + 1) * sizeof(*mems));
		if (!n)
			return;
		mems = n;
		m = &mems[nmems++];
		*m = (struct mem){ pid, addr, 0, NULL };
	}
	unsigned char *b = realloc(m->bytes, len ? len : 1);
	if (!b)
		return;
	memcpy(b, p, len);
	m->bytes = b;
	m->len = len;
}

static bool mem_load(int pid, unsigned long long addr, void *p, size_t len)
{
	for (size_t i = 0; i < nmems; i++)
		if (mems[i].pid == pid && mems[i].addr == addr && mems[i].len == len) {
			memcpy(p, mems[i].bytes, len);
			return true;
		}
	return false;
}

/* ---- reporting ---- */

static const char *log_name;
static bool keep_going;
static int divergences;

static void __attribute__((format(printf, 2, 3))) diverge(unsigned long ln, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%lu: divergence: ", log_name, ln);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	divergences++;
}

static int __attribute__((format(printf, 2, 3))) malformed(unsigned long ln, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bpfemu: %s:%lu: malformed log: ", log_name, ln);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* ---- lexing strace's syntax ---- */

/* Index just past the value starting at s[i] (up to a top-level ',' or the
 * closing '}' / ')'), honouring quotes, braces and parentheses; -1 if unbalanced. */
static long value_end(const char *s, long i)
{
	int depth = 0;
	for (; s[i]; i++) {
		char c = s[i];
		if (c == '"') {
			for (i++; s[i] && s[i] != '"'; i++)
				if (s[i] == '\\' && s[i + 1])
					i++;
			if (!s[i])
				return -1;
		} else if (c == '/' && s[i + 1] == '*') {
			const char *e = strstr(s + i + 2, "*/");
			if (!e)
				return -1;
			i = e - s + 1;
		} else if (c == '{' || c == '(' || c == '[') {
			depth++;
		} else if (c == '}' || c == ')' || c == ']') {
			if (!depth)
				return i;
			depth--;
		} else if (c == ',' && !depth) {
			return i;
		}
	}
	return depth ? -1 : i;
}

/* Decodes a quoted C string (strace escapes) at s into out; bytes written or -1. */
static long unquote(const char *s, unsigned char *out, size_t cap, const char **end)
{
	size_t n = 0;
	if (*s != '"')
		return -1;
	for (s++; *s && *s != '"'; s++) {
		unsigned int c = (unsigned char)*s;
		if (c == '\\') {
			s++;
			switch (*s) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'v': c = '\v'; break;
			case 'f': c = '\f'; break;
			case 'r': c = '\r'; break;
			case 'x': {
				char h[3] = { s[1], s[2], 0 };
				if (!isxdigit((unsigned char)h[0]) || !isxdigit((unsigned char)h[1]))
					return -1;
				c = (unsigned int)strtoul(h, NULL, 16);
				s += 2;
				break;
			}
			default:
				if (*s >= '0' && *s <= '7') {
					c = 0;
					for (int k = 0; k < 3 && *s >= '0' && *s <= '7'; k++, s++)
						c = c * 8 + (unsigned int)(*s - '0');
					s--;
				} else if (*s) {
					c = (unsigned char)*s;
				} else {
					return -1;
				}
			}
		}
		if (n < cap)
			out[n] = (unsigned char)c;
		n++;
	}
	if (*s != '"')
		return -1;
	if (end)
		*end = s + 1;
	return (long)n;
}

struct field {
	char name[32];
	char *val;            /* the text (an unknown flag keeps its trailing comment) */
	char *out;            /* the text after " => ", if any */
};

/* Splits "a=1, b={c=2}, d=..." (inside the braces) into fields; count or -1. */
static int split_fields(char *s, struct field *f, int max, const char *prefix)
{
	int n = 0;
	long i = 0;
	while (s[i]) {
		while (s[i] == ' ' || s[i] == ',')
			i++;
		if (!s[i])
			break;
		if (!strncmp(s + i, "...", 3)) {
			i += 3;
			continue;
		}
		long eq = i;
		while (s[eq] && s[eq] != '=' && s[eq] != ',')
			eq++;
		if (s[eq] != '=')
			return -1;
		long e = value_end(s, eq + 1);
		if (e < 0)
			return -1;
		char save = s[e];
		s[e] = '\0';
		char *v = s + eq + 1;
		if (*v == '{') {                          /* nested: info={...} */
			size_t vl = strlen(v);
			if (vl < 2 || v[vl - 1] != '}')
				return -1;
			v[vl - 1] = '\0';
			char sub[32];
			snprintf(sub, sizeof(sub), "%.*s.", (int)(eq - i), s + i);
			int m = split_fields(v + 1, f + n, max - n, sub);
			if (m < 0)
				return -1;
			n += m;
		} else {
			if (n >= max)
				return -1;
			snprintf(f[n].name, sizeof(f[n].name), "%s%.*s", prefix, (int)(eq - i), s + i);
			f[n].val = v;
			f[n].out = NULL;
			char *arrow = strstr(v, " => ");
			if (arrow && *v != '"') {
				*arrow = '\0';
				f[n].out = arrow + 4;
			}
			n++;
		}
		if (!save)
			break;
		i = e + 1;
	}
	return n;
}

/* A number, a name, NAME|NAME|0xN, 0xN plus a comment, KERNEL_VERSION(a, b, c), if_nametoindex("x"). */
static int parse_number(const char *v, unsigned long long *out)
{
	char buf[256];
	unsigned long long acc = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	char *c = strstr(buf, " /*");
	if (c)
		*c = '\0';
	unsigned int a, b, d;
	if (sscanf(buf, "KERNEL_VERSION(%u, %u, %u)", &a, &b, &d) == 3) {
		*out = (a << 16) | (b << 8) | d;
		return 0;
	}
	if (!strncmp(buf, "if_nametoindex(\"", 16)) {
		char *q = strchr(buf + 16, '"');
		if (!q)
			return -1;
		*q = '\0';
		*out = if_nametoindex(buf + 16);
		return 0;
	}
	for (char *save, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		unsigned long long x;
		char *e;
		if (isdigit((unsigned char)*t) || *t == '-') {
			errno = 0;
			x = *t == '-' ? (unsigned long long)strtoll(t, &e, 0) : strtoull(t, &e, 0);
			if (*e || errno)
				return -1;
		} else if (!emu_trace_name_value(t, &x)) {
			return -1;
		}
		acc |= x;
	}
	*out = acc;
	return 0;
}

/* ---- one call ---- */

enum kind { K_U32, K_U64, K_FD, K_ID, K_KEY, K_VALUE, K_NEXT_KEY, K_INFO, K_INSNS, K_STR, K_LOGBUF, K_PTR, K_NAME };
struct fdesc { const char *name; unsigned int off; enum kind kind; };

#define F(n, member, k) { n, offsetof(union bpf_attr, member), k }
static const struct fdesc f_map_create[] = {
	F("map_type", map_type, K_U32), F("key_size", key_size, K_U32), F("value_size", value_size, K_U32),
	F("max_entries", max_entries, K_U32), F("map_flags", map_flags, K_U32),
	F("inner_map_fd", inner_map_fd, K_FD), F("numa_node", numa_node, K_U32), F("map_name", map_name, K_NAME),
	F("map_ifindex", map_ifindex, K_U32), F("btf_fd", btf_fd, K_FD), F("btf_key_type_id", btf_key_type_id, K_U32),
	F("btf_value_type_id", btf_value_type_id, K_U32),
	F("btf_vmlinux_value_type_id", btf_vmlinux_value_type_id, K_U32), F("map_extra", map_extra, K_U64), { 0 } };
static const struct fdesc f_elem[] = {
	F("map_fd", map_fd, K_FD), F("key", key, K_KEY), F("value", value, K_VALUE),
	F("next_key", next_key, K_NEXT_KEY), F("flags", flags, K_U64), { 0 } };
static const struct fdesc f_prog_load[] = {
	F("prog_type", prog_type, K_U32), F("insn_cnt", insn_cnt, K_U32), F("insns", insns, K_INSNS),
	F("license", license, K_STR), F("log_level", log_level, K_U32), F("log_size", log_size, K_U32),
	F("log_buf", log_buf, K_LOGBUF), F("kern_version", kern_version, K_U32), F("prog_flags", prog_flags, K_U32),
	F("prog_name", prog_name, K_NAME), F("prog_ifindex", prog_ifindex, K_U32),
	F("expected_attach_type", expected_attach_type, K_U32), F("prog_btf_fd", prog_btf_fd, K_FD),
	F("func_info_rec_size", func_info_rec_size, K_U32), F("func_info", func_info, K_PTR),
	F("func_info_cnt", func_info_cnt, K_U32), F("line_info_rec_size", line_info_rec_size, K_U32),
	F("line_info", line_info, K_PTR), F("line_info_cnt", line_info_cnt, K_U32),
	F("attach_btf_id", attach_btf_id, K_U32), F("attach_prog_fd", attach_prog_fd, K_FD),
	F("fd_array", fd_array, K_PTR), { 0 } };
static const struct fdesc f_obj[] = {
	F("pathname", pathname, K_STR), F("bpf_fd", bpf_fd, K_FD), F("file_flags", file_flags, K_U32), { 0 } };
static const struct fdesc f_id[] = {
	F("start_id", start_id, K_ID), F("prog_id", prog_id, K_ID), F("map_id", map_id, K_ID),
	F("btf_id", btf_id, K_ID), F("link_id", link_id, K_ID), F("next_id", next_id, K_U32),
	F("open_flags", open_flags, K_U32), { 0 } };
static const struct fdesc f_info[] = {
	F("info.bpf_fd", info.bpf_fd, K_FD), F("info.info_len", info.info_len, K_U32),
	F("info.info", info.info, K_INFO), { 0 } };
#undef F

static const struct fdesc *fields_of(int cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE: return f_map_create;
	case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY: case BPF_MAP_LOOKUP_AND_DELETE_ELEM: case BPF_MAP_FREEZE:
		return f_elem;
	case BPF_PROG_LOAD: return f_prog_load;
	case BPF_OBJ_PIN: case BPF_OBJ_GET: return f_obj;
	case BPF_PROG_GET_NEXT_ID: case BPF_MAP_GET_NEXT_ID: case BPF_BTF_GET_NEXT_ID: case BPF_LINK_GET_NEXT_ID:
	case BPF_PROG_GET_FD_BY_ID: case BPF_MAP_GET_FD_BY_ID: case BPF_BTF_GET_FD_BY_ID: case BPF_LINK_GET_FD_BY_ID:
		return f_id;
	case BPF_OBJ_GET_INFO_BY_FD: return f_info;
	}
	return NULL;
}

static bool returns_fd(int cmd)
{
	return cmd == BPF_MAP_CREATE || cmd == BPF_PROG_LOAD || cmd == BPF_OBJ_GET || cmd == BPF_PROG_GET_FD_BY_ID ||
	       cmd == BPF_MAP_GET_FD_BY_ID || cmd == BPF_BTF_GET_FD_BY_ID || cmd == BPF_LINK_GET_FD_BY_ID ||
	       cmd == BPF_BTF_LOAD || cmd == BPF_LINK_CREATE || cmd == BPF_RAW_TRACEPOINT_OPEN ||
	       cmd == BPF_ITER_CREATE || cmd == BPF_ENABLE_STATS;
}

/* The recorded bytes of name= in the trailing comment; length or -1 */
static long comment_data(const char *comment, const char *name, unsigned char *out, size_t cap)
{
	char pat[40];
	if (!comment)
		return -1;
	snprintf(pat, sizeof(pat), " %s=\"", name);
	const char *p = strstr(comment, pat);
	if (!p)
		return -1;
	return unquote(p + strlen(pat) - 1, out, cap, NULL);
}

/* What replay needs to know of the map behind a real fd (all 0 if not a map) */
struct mapview { __u32 type, ks, vs, max, id; };

static void map_view(int fd, struct mapview *mv)
{
	struct bpf_map_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	memset(mv, 0, sizeof(*mv));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	if (emu_fd_kind(fd) != EMU_KIND_MAP || emu_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a.info)))
		return;
	mv->type = info.type;
	mv->ks = info.key_size;
	mv->vs = info.value_size;
	mv->max = info.max_entries;
	mv->id = info.id;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	    info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH) {
		long cpus = sysconf(_SC_NPROCESSORS_CONF);
		mv->vs = ((mv->vs + 7) & ~7u) * (__u32)(cpus > 0 ? cpus : 1);
	}
}

/* The id of the object behind real fd and its kind (0 if none) */
static unsigned int obj_id(int fd, int *kind)
{
	unsigned char info[64];
	union bpf_attr a;
	*kind = emu_fd_kind(fd);
	if (*kind == EMU_KIND_NONE)
		return 0;
	memset(info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)info;
	if (emu_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a.info)))
		return 0;
	__u32 id;
	memcpy(&id, info + (*kind == EMU_KIND_BTF ? 12 : 4), 4);   /* bpf_btf_info.id; map/prog/link: .id */
	return id;
}

static int cmd_kind(int cmd)
{
	switch (cmd) {
	case BPF_MAP_GET_NEXT_ID: case BPF_MAP_GET_FD_BY_ID: return EMU_KIND_MAP;
	case BPF_PROG_GET_NEXT_ID: case BPF_PROG_GET_FD_BY_ID: return EMU_KIND_PROG;
	case BPF_BTF_GET_NEXT_ID: case BPF_BTF_GET_FD_BY_ID: return EMU_KIND_BTF;
	case BPF_LINK_GET_NEXT_ID: case BPF_LINK_GET_FD_BY_ID: return EMU_KIND_LINK;
	}
	return EMU_KIND_NONE;
}

static bool id_alive(int kind, unsigned int id)
{
	static const int by_id[] = { [EMU_KIND_MAP] = BPF_MAP_GET_FD_BY_ID, [EMU_KIND_PROG] = BPF_PROG_GET_FD_BY_ID,
				     [EMU_KIND_BTF] = BPF_BTF_GET_FD_BY_ID, [EMU_KIND_LINK] = BPF_LINK_GET_FD_BY_ID };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	long fd = emu_sys_bpf(by_id[kind], &a, offsetofend(union bpf_attr, open_flags));
	if (fd < 0)
		return false;
	close((int)fd);
	emu_fd_closed((int)fd);
	return true;
}

static unsigned long queries, ids_guessed;

/* The id to send for the log's id rec of kind, which the log never tied to
 * an object (strace does not print the info struct). Ids grow in creation
 * order within a kind, so rec belongs to an object created after the one
 * bound to the next lower recorded id and before the one bound to the next
 * higher: among those not bound yet (and alive), the one whose info was asked
 * for last, else the first created. A recorded failure keeps an id that
 * names nothing here. */
static unsigned int id_guess(int kind, unsigned int rec, bool recorded_ok)
{
	if (id_known(kind, rec) || kind == EMU_KIND_NONE)
		return id_map(kind, rec);
	if (!recorded_ok) {
		unsigned int id = rec;
		while (id && id_alive(kind, id))
			id = id < 0x7fff0000u ? 0x7fffff00u : id + 1;
		return id;
	}
	size_t lo = 0, hi = nobjs;
	unsigned int lo_rec = 0, hi_rec = ~0u;
	for (size_t i = 0; i < nobjs; i++) {
		const struct obj *o = &objs[i];
		if (o->kind != kind || !o->rec)
			continue;
		if (o->rec < rec && o->rec >= lo_rec)
			lo_rec = o->rec, lo = i + 1;
		if (o->rec > rec && o->rec < hi_rec)
			hi_rec = o->rec, hi = i;
	}
	struct obj *best = NULL;
	for (size_t i = lo; i < hi && i < nobjs; i++) {
		struct obj *o = &objs[i];
		if (o->kind != kind || o->rec || !id_alive(kind, o->real))
			continue;
		if (!best || o->queried > best->queried)
			best = o;
	}
	if (!best)
		return rec;
	obj_bind(kind, rec, best->real);
	ids_guessed++;
	return best->real;
}

static void put_hex(FILE *f, const unsigned char *b, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\\x%02x", b[i]);
	fputc('"', f);
}

/* The last GET_NEXT_KEY's next_key: as logged and as this replay got it */
static struct { int pid; __u32 map_id; size_t n; unsigned char rec[256], real[256]; bool rec_known; } walk;

struct call;
static long comment_data(const char *comment, const char *name, unsigned char *out, size_t cap);
struct call {
	unsigned long ln;
	int pid;
	int cmd;
	char *arg;                 /* "{...}" or an address */
	unsigned int size;
	bool unchecked;            /* "= ?" */
	long ret;                  /* -1 with err, or the value */
	int err;
	const char *comment;
};

/* The key a GET_NEXT_KEY walk continues from: what this replay returned at
 * that recorded address, or, when the log's key is the walk's last logged
 * next_key (or the log has no bytes), the walk's last next_key here. */
static void walk_key(const struct call *c, unsigned long long addr, unsigned char *key, size_t n)
{
	if (mem_load(c->pid, addr, key, n))
		return;
	long got = comment_data(c->comment, "key", key, n);
	if (walk.pid == c->pid && walk.n == n && n <= sizeof(walk.real) &&
	    (got < 0 || (walk.rec_known && !memcmp(key, walk.rec, n)))) {
		memcpy(key, walk.real, n);
		return;
	}
	if (got < 0)
		memset(key, 0, n);
}

/* ---- keys strace did not show ---- */

/* What the recorded outcome says about the key the call was given */
enum need {
	NEED_ANY,       /* the outcome does not depend on it */
	NEED_PRESENT,   /* a key in the map (array: an index below max_entries) */
	NEED_ABSENT,    /* a key not in the map (array: max_entries) */
	NEED_GROW,      /* hash update BPF_ANY that succeeded: a new key while the map has room */
	NEED_NEXT,      /* get_next_key succeeded: a key with a successor (or absent: the first) */
	NEED_LAST,      /* get_next_key ENOENT: the last key of the walk */
};

static bool hashlike(__u32 t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool arraylike(__u32 t)
{
	return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static enum need need_of(const struct call *c, const union bpf_attr *a, const struct mapview *mv)
{
	bool ok = !c->unchecked && c->ret == 0;
	int e = c->unchecked || c->ret >= 0 ? 0 : c->err;
	switch (c->cmd) {
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case BPF_MAP_DELETE_ELEM:
		return ok ? NEED_PRESENT : e == ENOENT ? NEED_ABSENT : NEED_ANY;
	case BPF_MAP_UPDATE_ELEM: {
		__u64 f = a->flags & ~(__u64)BPF_F_LOCK;
		if (ok)
			return f == BPF_NOEXIST ? NEED_ABSENT : f == BPF_EXIST ? NEED_PRESENT :
			       hashlike(mv->type) ? NEED_GROW : NEED_PRESENT;
		return e == EEXIST ? NEED_PRESENT : e == ENOENT || e == E2BIG ? NEED_ABSENT : NEED_ANY;
	}
	case BPF_MAP_GET_NEXT_KEY:
		return ok ? NEED_NEXT : e == ENOENT ? NEED_LAST : NEED_ANY;
	}
	return NEED_ANY;
}

/* Probes run on a second fd of the map (by id, read-write), so they work
 * whatever the call's fd allows; lookups and get_next_key change nothing
 * (a lookup through bpf() does not refresh an LRU entry). */
struct probe { int fd; const struct mapview *mv; unsigned char *val; };

static bool probe_present(struct probe *p, const void *key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)p->fd;
	a.key = (unsigned long)key;
	a.value = (unsigned long)p->val;
	return emu_sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, offsetofend(union bpf_attr, flags)) == 0;
}

static long probe_next(struct probe *p, const void *key, void *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)p->fd;
	a.key = (unsigned long)key;
	a.next_key = (unsigned long)next;
	return emu_sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, offsetofend(union bpf_attr, next_key));
}

static bool has_room(struct probe *p, unsigned char *k, unsigned char *n)
{
	__u32 count = 0;
	size_t ks = p->mv->ks;
	for (long r = probe_next(p, NULL, k); r == 0 && count < p->mv->max; r = probe_next(p, k, n), memcpy(k, n, ks))
		count++;
	return count < p->mv->max;
}

static bool satisfies(struct probe *p, enum need need, const unsigned char *key)
{
	size_t ks = p->mv->ks;
	unsigned char *k = calloc(2, ks), *n = k ? k + ks : NULL;
	bool r = true;
	if (!k)
		return false;
	switch (need) {
	case NEED_ANY: break;
	case NEED_PRESENT: r = probe_present(p, key); break;
	case NEED_ABSENT: r = !probe_present(p, key); break;
	case NEED_GROW: r = has_room(p, k, n) != probe_present(p, key); break;
	case NEED_NEXT: r = probe_next(p, key, n) == 0; break;
	case NEED_LAST: r = probe_next(p, key, n) == -ENOENT; break;
	}
	free(k);
	return r;
}

/* The deterministic key for need (the map as it is now); false if none exists */
static bool generate(struct probe *p, enum need need, unsigned char *key)
{
	size_t ks = p->mv->ks;
	memset(key, 0, ks);
	switch (need) {
	case NEED_ANY:
		return true;
	case NEED_PRESENT:
		return probe_next(p, NULL, key) == 0;     /* the first in iteration order */
	case NEED_ABSENT:
		if (arraylike(p->mv->type)) {             /* index max_entries: E2BIG/ENOENT */
			memcpy(key, &p->mv->max, ks < 4 ? ks : 4);
			return true;
		}
		/* the smallest little-endian number not in the map */
		for (unsigned long long v = 0; v <= (unsigned long long)p->mv->max + 1; v++) {
			for (size_t i = 0; i < ks && i < 8; i++)
				key[i] = (unsigned char)(v >> (8 * i));
			if (!probe_present(p, key))
				return true;
		}
		return false;
	case NEED_GROW: {
		unsigned char *k = calloc(2, ks);
		bool room = k && has_room(p, k, k + ks);
		free(k);
		return generate(p, room ? NEED_ABSENT : NEED_PRESENT, key);
	}
	case NEED_NEXT:
	{
		/* a key not in the map continues with the first one */
		unsigned char *n = malloc(ks ? ks : 1);
		bool ok = n && generate(p, NEED_ABSENT, key) && probe_next(p, key, n) == 0;
		free(n);
		return ok || generate(p, NEED_PRESENT, key);
	}
	case NEED_LAST: {
		unsigned char *n = malloc(ks ? ks : 1);
		if (!n)
			return false;
		if (probe_next(p, NULL, key) != 0) {      /* empty: any key has no successor */
			free(n);
			return generate(p, NEED_ABSENT, key);
		}
		while (probe_next(p, key, n) == 0)
			memcpy(key, n, ks);
		free(n);
		return true;
	}
	}
	return false;
}

static unsigned long inferred;

/* Fills key (the map's key_size bytes) for a call whose key bytes the log
 * does not carry. Candidates, first that reaches the recorded outcome wins:
 * for get_next_key the walk's last next_key in this replay (a program walking
 * a map hands it back as key), then the bytes last seen at the same recorded
 * address of this pid (chosen or returned there before), then the
 * deterministic key of generate(). None reaches it: the generated one, and
 * the call is checked as usual (a divergence). */
static void infer_key(const struct call *c, const union bpf_attr *a, const struct mapview *mv,
		      unsigned long long addr, unsigned char *key)
{
	size_t ks = mv->ks;
	enum need need = mv->id && (hashlike(mv->type) || arraylike(mv->type)) ? need_of(c, a, mv) : NEED_ANY;
	bool remembered = mem_load(c->pid, addr, key, ks);

	if (need != NEED_ANY) {
		union bpf_attr g;
		memset(&g, 0, sizeof(g));
		g.map_id = mv->id;
		long pfd = emu_sys_bpf(BPF_MAP_GET_FD_BY_ID, &g, offsetofend(union bpf_attr, open_flags));
		unsigned char *val = calloc(1, mv->vs ? mv->vs : 1), *cand = malloc(ks ? ks : 1);
		if (pfd >= 0 && val && cand) {
			struct probe p = { (int)pfd, mv, val };
			bool done = false;
			if (c->cmd == BPF_MAP_GET_NEXT_KEY && walk.pid == c->pid && walk.map_id == mv->id &&
			    walk.n == ks && ks <= sizeof(walk.real) && satisfies(&p, need, walk.real)) {
				memcpy(key, walk.real, ks);
				done = true;
			}
			if (!done && remembered && satisfies(&p, need, key))
				done = true;
			if (!done && generate(&p, need, cand))
				memcpy(key, cand, ks), done = true;
			if (!done && !remembered)
				memset(key, 0, ks);
			inferred++;
		}
		free(val);
		free(cand);
		if (pfd >= 0) {
			close((int)pfd);
			emu_fd_closed((int)pfd);
		}
	} else if (!remembered) {
		memset(key, 0, ks);
	}
	mem_store(c->pid, addr, key, ks);
}

/* Buffers handed to the engine for one call, freed after it. */
struct bufs { void *p[16]; int n; };
static void *buf_new(struct bufs *b, size_t n)
{
	if (b->n >= 16)
		return NULL;
	void *p = calloc(1, n ? n : 1);
	b->p[b->n++] = p;
	return p;
}

/* Builds the attr for c; 0 or -1 (malformed). */
static int replay_call(struct call *c)
{
	union bpf_attr a;
	struct field f[MAX_FIELDS];
	struct bufs bufs = { .n = 0 };
	unsigned long long rec_key = 0, rec_value = 0, rec_next = 0;
	unsigned char *out_value = NULL, *out_next = NULL, *out_info = NULL;
	struct mapview mv = { 0 };
	__u32 ks = 0, vs = 0, map_type = 0;
	unsigned char *infer_buf = NULL;
	unsigned long long infer_addr = 0;
	const struct fdesc *fd_tab = fields_of(c->cmd);
	void *attr = &a;
	bool tail = false;             /* "..., ...}": strace saw non-zero bytes past what it decodes */
	int nf = 0, rc = 0;
	char *id_out_field = NULL, *info_len_out = NULL;

	memset(&a, 0, sizeof(a));
	if (c->arg[0] == '{') {
		size_t l = strlen(c->arg);
		if (l < 2 || c->arg[l - 1] != '}')
			return malformed(c->ln, "unbalanced attr braces");
		c->arg[l - 1] = '\0';
		tail = l >= 6 && !strcmp(c->arg + l - 6, ", ...");
		nf = split_fields(c->arg + 1, f, MAX_FIELDS, "");
		if (nf < 0)
			return malformed(c->ln, "cannot parse the attr fields");
		if (!fd_tab) {
			/* strace decodes it, we do not: zeros, return code only */
			nf = 0;
			attr = buf_new(&bufs, c->size > 4096 ? 4096 : c->size);
		}
	} else {
		unsigned long long p;
		if (!strcmp(c->arg, "NULL"))
			attr = NULL;
		else if (parse_number(c->arg, &p))
			return malformed(c->ln, "attr is neither {...} nor an address: '%s'", c->arg);
		else if (p < 4096)
			attr = (void *)(unsigned long)p;
		else if (fd_tab && c->size)
			attr = bad_page;           /* strace could not read it */
		else
			attr = buf_new(&bufs, c->size > 4096 ? 4096 : c->size);   /* not decoded: zeros */
	}

	/* the map's sizes first: key/value buffers depend on them */
	for (int i = 0; i < nf; i++)
		if (!strcmp(f[i].name, "map_fd")) {
			unsigned long long v;
			if (parse_number(f[i].val, &v))
				return malformed(c->ln, "map_fd=%s", f[i].val);
			map_view(fd_map(c->pid, (int)v), &mv);
			ks = mv.ks, vs = mv.vs, map_type = mv.type;
		}

	for (int i = 0; i < nf; i++) {
		const struct fdesc *d = NULL;
		for (const struct fdesc *t = fd_tab; t->name; t++)
			if (!strcmp(t->name, f[i].name))
				d = t;
		if (!d)
			return malformed(c->ln, "unknown field '%s' for this command", f[i].name);
		char *v = f[i].val;
		unsigned char *dst = (unsigned char *)&a + d->off;
		unsigned long long num = 0;
		bool is_null = !strcmp(v, "NULL");
		bool is_str = v[0] == '"';
		if (!is_null && !is_str && d->kind != K_NAME && parse_number(v, &num))
			return malformed(c->ln, "bad value '%s' for %s", v, f[i].name);
		void *ptr = NULL;
		size_t n;
		switch (d->kind) {
		case K_U32:
			*(__u32 *)dst = (__u32)num;
			if (!strcmp(f[i].name, "next_id") && f[i].out)
				id_out_field = f[i].out;
			if (!strcmp(f[i].name, "info.info_len") && f[i].out)
				info_len_out = f[i].out;
			break;
		case K_U64:
			*(__u64 *)dst = num;
			break;
		case K_FD:
			*(__u32 *)dst = (__u32)fd_map(c->pid, (int)num);
			break;
		case K_ID:
			*(__u32 *)dst = strcmp(d->name, "start_id") ? id_guess(cmd_kind(c->cmd), (unsigned int)num, c->ret >= 0) :
				id_map(cmd_kind(c->cmd), (unsigned int)num);
			break;
		case K_NAME:
			if (!is_str || unquote(v, dst, 16, NULL) < 0)
				return malformed(c->ln, "bad name %s", v);
			break;
		case K_KEY:
		case K_VALUE:
		case K_NEXT_KEY:
		case K_INFO:
		case K_INSNS:
		case K_PTR:
		case K_LOGBUF:
			if (is_null)
				break;
			if (num < 4096 || is_str) {       /* what strace showed as an address it could not read */
				ptr = num < 4096 ? (void *)(unsigned long)num : bad_page;
			} else if (d->kind == K_KEY || (d->kind == K_VALUE && c->cmd == BPF_MAP_UPDATE_ELEM)) {
				n = d->kind == K_KEY ? ks : vs;
				ptr = buf_new(&bufs, n > MAX_BUF ? MAX_BUF : n);
				/* a key walk goes on from what this replay returned (hash order is
				 * seeded at random, as in the kernel); other inputs use the log's bytes */
				if (ptr && d->kind == K_KEY && comment_data(c->comment, "key", ptr, n) < 0)
					infer_buf = ptr, infer_addr = num;     /* after all fields: flags */
				else if (ptr && c->cmd == BPF_MAP_GET_NEXT_KEY)
					walk_key(c, num, ptr, n);
				else if (ptr && comment_data(c->comment, d->kind == K_KEY ? "key" : "value", ptr, n) < 0)
					mem_load(c->pid, num, ptr, n);
			} else if (d->kind == K_VALUE) {
				ptr = out_value = buf_new(&bufs, vs);
				rec_value = num;
			} else if (d->kind == K_NEXT_KEY) {
				ptr = out_next = buf_new(&bufs, ks);
				rec_next = num;
			} else if (d->kind == K_INFO) {
				ptr = out_info = buf_new(&bufs, 4096);
			} else if (d->kind == K_INSNS) {
				__u32 cnt = a.insn_cnt;
				for (int j = 0; j < nf; j++)
					if (!strcmp(f[j].name, "insn_cnt"))
						parse_number(f[j].val, (unsigned long long *)&num), cnt = (__u32)num;
				n = (size_t)(cnt ? cnt : 1) * 8;
				ptr = buf_new(&bufs, n > MAX_BUF ? MAX_BUF : n);
				if (ptr && comment_data(c->comment, "insns", ptr, n) < 0 && cnt && n <= MAX_BUF) {
					struct bpf_insn *ins = ptr;    /* r0 = 0 ... exit */
					for (__u32 k = 0; k < cnt; k++)
						ins[k] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K };
					ins[cnt - 1] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
				}
			} else {
				ptr = buf_new(&bufs, 4096);
			}
			if (d->kind == K_KEY)
				rec_key = num;
			break;
		case K_STR:
			if (is_null)
				break;
			if (!is_str) {
				ptr = num < 4096 ? (void *)(unsigned long)num : bad_page;
				break;
			}
			ptr = buf_new(&bufs, 4097);
			if (ptr && unquote(v, ptr, 4096, NULL) < 0)
				return malformed(c->ln, "bad string %s", v);
			break;
		}
		if (d->kind >= K_KEY && d->kind <= K_PTR) {
			if (!is_null && !ptr)
				return malformed(c->ln, "out of memory");
			*(__u64 *)dst = (unsigned long)ptr;
		}
	}
	(void)rec_key;
	if (infer_buf && ks <= MAX_BUF)
		infer_key(c, &a, &mv, infer_addr, infer_buf);

	/* the decoded attr, then (size above the union) zeros; strace's "..." is
	 * taken as a non-zero last byte */
	if (attr == &a && (c->size > sizeof(a) || tail)) {
		size_t n = c->size > sizeof(a) ? (c->size > 4096 ? 4096 : c->size) : sizeof(a);
		unsigned char *big = buf_new(&bufs, n);
		if (!big)
			return malformed(c->ln, "out of memory");
		memcpy(big, &a, sizeof(a));
		if (tail && c->size && c->size <= n)
			big[c->size - 1] |= 1;
		attr = big;
	}
	long ret = emu_sys_bpf(c->cmd, attr, c->size);
	int err = ret < 0 ? (int)-ret : 0;

	if (!c->unchecked) {
		bool ok;
		if (c->ret < 0)
			ok = ret < 0 && err == c->err;
		else if (returns_fd(c->cmd))
			ok = ret >= 0;
		else
			ok = ret == c->ret;
		if (!ok) {
			char exp[64], act[64];
			if (c->ret < 0)
				snprintf(exp, sizeof(exp), "-1 %s", strerrorname_np(c->err) ? strerrorname_np(c->err) : "E?");
			else
				snprintf(exp, sizeof(exp), returns_fd(c->cmd) ? "an fd (%ld)" : "%ld", c->ret);
			if (ret < 0)
				snprintf(act, sizeof(act), "-1 %s (%s)", strerrorname_np(err) ? strerrorname_np(err) : "E?",
					 strerror(err));
			else
				snprintf(act, sizeof(act), "%ld", ret);
			diverge(c->ln, "bpf(%s): expected %s, got %s", c->cmd >= 0 ? emu_trace_cmd_name(c->cmd) : "?",
				exp, act);
			rc = 1;
		}
	}
	if (ret >= 0 && c->ret >= 0 && returns_fd(c->cmd)) {
		int kind;
		unsigned int id = obj_id((int)ret, &kind);
		fd_set_map(c->pid, (int)c->ret, (int)ret);
		if (id)
			obj_of(kind, id);        /* known here, in the order this replay met it */
	}
	if (ret >= 0 && id_out_field) {
		unsigned long long rec;
		if (!parse_number(id_out_field, &rec))
			obj_bind(cmd_kind(c->cmd), (unsigned int)rec, a.next_id);
	}
	if (ret >= 0 && info_len_out && !rc) {
		unsigned long long rec;
		if (!parse_number(info_len_out, &rec) && rec != a.info.info_len) {
			diverge(c->ln, "bpf(BPF_OBJ_GET_INFO_BY_FD): info_len expected %llu, got %u", rec, a.info.info_len);
			rc = 1;
		}
	}
	/* ids: the object's id in the log's info bytes (our trace records them) is ours now */
	if (ret == 0 && out_info && c->ret == 0) {
		unsigned char rec[64];
		long n = comment_data(c->comment, "info", rec, sizeof(rec));
		enum emu_kind kind = emu_fd_kind((int)a.info.bpf_fd);
		size_t off = kind == EMU_KIND_BTF ? 12 : 4;     /* bpf_btf_info.id; map/prog/link: .id */
		__u32 rid, aid;
		if (kind != EMU_KIND_NONE && a.info.info_len >= off + 4) {
			memcpy(&aid, out_info + off, 4);
			struct obj *o = obj_of(kind, aid);
			if (n >= (long)(off + 4)) {
				memcpy(&rid, rec + off, 4);
				if (rid)
					obj_bind(kind, rid, aid);
			} else if (o) {
				o->queried = ++queries;     /* its id is now known to the program, not to us */
			}
		}
	}
	/* returned bytes: remembered by recorded address, checked against the log
	 * (a hash map's key order is its own: next_key is checked for arrays only) */
	if (ret == 0 && !rc) {
		struct { const char *name; unsigned char *buf; size_t n; unsigned long long rec; } outs[] = {
			{ "value", out_value, vs, rec_value }, { "next_key", out_next, ks, rec_next } };
		for (size_t k = 0; k < 2; k++) {
			if (!outs[k].buf)
				continue;
			mem_store(c->pid, outs[k].rec, outs[k].buf, outs[k].n);
			if (k == 1 && outs[k].n <= sizeof(walk.real)) {
				walk.pid = c->pid;
				walk.map_id = mv.id;
				walk.n = outs[k].n;
				memcpy(walk.real, outs[k].buf, outs[k].n);
				walk.rec_known = comment_data(c->comment, "next_key", walk.rec, outs[k].n) == (long)outs[k].n;
			}
			unsigned char *exp = malloc(outs[k].n ? outs[k].n : 1);
			long n = exp ? comment_data(c->comment, outs[k].name, exp, outs[k].n) : -1;
			bool ordered = map_type == BPF_MAP_TYPE_ARRAY || map_type == BPF_MAP_TYPE_PERCPU_ARRAY;
			if (k == 1 && !ordered)
				n = -1;
			if (n >= 0 && ((size_t)n != outs[k].n || memcmp(exp, outs[k].buf, outs[k].n))) {
				diverge(c->ln, "bpf(%s): %s differs", emu_trace_cmd_name(c->cmd), outs[k].name);
				fprintf(stderr, "  expected ");
				put_hex(stderr, exp, (size_t)n < outs[k].n ? (size_t)n : outs[k].n);
				fprintf(stderr, "\n  got      ");
				put_hex(stderr, outs[k].buf, outs[k].n);
				fputc('\n', stderr);
				rc = 1;
			}
			free(exp);
		}
	}
	for (int i = 0; i < bufs.n; i++)
		free(bufs.p[i]);
	return rc;
}

/* ---- lines ---- */

struct pending { int pid; char *text; };
static struct pending pend[MAX_PIDS];

static char *pending_take(int pid)
{
	for (int i = 0; i < MAX_PIDS; i++)
		if (pend[i].text && pend[i].pid == pid) {
			char *t = pend[i].text;
			pend[i].text = NULL;
			return t;
		}
	return NULL;
}

static int pending_put(int pid, const char *text, size_t n)
{
	for (int i = 0; i < MAX_PIDS; i++)
		if (!pend[i].text) {
			pend[i].pid = pid;
			pend[i].text = strndup(text, n);
			return pend[i].text ? 0 : -1;
		}
	return -1;
}

/* Parses "bpf(CMD, ARG, SIZE) = RET[ ERRNO (msg)]" plus an optional data comment, and replays it. */
static int handle_call(unsigned long ln, int pid, char *s)
{
	struct call c = { .ln = ln, .pid = pid };
	char *p = s + 4;
	long e = value_end(p, 0);
	if (e < 0 || p[e] != ',')
		return malformed(ln, "truncated bpf() call: no arguments");
	p[e] = '\0';
	if (!strncmp(p, "0x", 2)) {
		c.cmd = (int)strtol(p, NULL, 16);
	} else {
		c.cmd = emu_trace_cmd_value(p);
		if (c.cmd < 0)
			return malformed(ln, "unknown bpf command '%s'", p);
	}
	p += e + 2;
	e = value_end(p, 0);
	if (e < 0 || p[e] != ',')
		return malformed(ln, "truncated bpf() call: attr argument incomplete");
	p[e] = '\0';
	c.arg = p;
	p += e + 1;
	char *close = strchr(p, ')');
	if (!close)
		return malformed(ln, "truncated bpf() call: no ')'");
	*close = '\0';
	char *end;
	c.size = (unsigned int)strtoul(p, &end, 0);
	if (end == p || *end)
		return malformed(ln, "bad size argument '%s'", p);
	p = close + 1;
	while (*p == ' ')
		p++;
	if (*p != '=')
		return malformed(ln, "truncated bpf() call: no return value");
	p++;
	while (*p == ' ')
		p++;
	if (*p == '?') {
		c.unchecked = true;
	} else {
		errno = 0;
		c.ret = strtol(p, &end, 10);
		if (end == p || errno)
			return malformed(ln, "bad return value '%s'", p);
		if (c.ret < 0) {
			char name[32];
			if (sscanf(end, " %31[A-Z0-9_]", name) != 1)
				return malformed(ln, "return -1 without an errno name");
			c.err = 0;
			for (int k = 1; k < 600 && !c.err; k++) {
				const char *n = strerrorname_np(k);
				if (n && !strcmp(n, name))
					c.err = k;
			}
			if (!c.err && !strcmp(name, "ENOTSUPP"))
				c.err = 524;
			if (!c.err)
				return malformed(ln, "unknown errno name '%s'", name);
		}
	}
	c.comment = strstr(p, "/*");
	return replay_call(&c) < 0 ? -1 : 0;
}

/* unlink/unlinkat/rmdir/mkdir of a path on the fake bpffs: done, result checked */
static int replay_path_call(unsigned long ln, char *s)
{
	unsigned char path[4097];
	char buf[PATH_MAX];
	const char *q = strchr(s, '"'), *end;
	long n = unquote(q, path, sizeof(path) - 1, &end);
	if (n < 0 || (size_t)n >= sizeof(path) - 1)
		return malformed(ln, "bad path in '%.40s'", s);
	path[n] = '\0';
	const char *real = emu_bpffs_translate(AT_FDCWD, (const char *)path, buf);
	if (!real || real == (const char *)path)
		return 0;                   /* not on bpffs: not ours to repeat */
	const char *eq = strstr(end, " = ");
	if (!eq)
		return malformed(ln, "truncated call: no return value");
	long rec = strtol(eq + 3, NULL, 10);
	int r = !strncmp(s, "mkdir", 5) ? mkdir(real, 0755) : !strncmp(s, "rmdir", 5) ? rmdir(real) :
		strstr(end, "AT_REMOVEDIR") ? rmdir(real) : unlink(real);
	if ((r < 0) != (rec < 0)) {
		diverge(ln, "%.*s: expected %ld, got %d", (int)(q - s - 1), s, rec, r < 0 ? -errno : r);
		return 0;
	}
	return 0;
}

/* One log line: 0 fine (or divergence counted), -1 malformed */
static int handle_line(unsigned long ln, char *s)
{
	int pid = 0;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (!n)
		return 0;
	if (!strncmp(s, "[pid ", 5)) {
		char *e;
		pid = (int)strtol(s + 5, &e, 10);
		if (*e != ']' || e[1] != ' ')
			return malformed(ln, "bad [pid N] prefix");
		s = e + 2;
	} else if (isdigit((unsigned char)*s)) {
		char *e;
		long v = strtol(s, &e, 10);
		if (*e == ' ') {                      /* -o with -f: "PID " */
			pid = (int)v;
			s = e;
			while (*s == ' ')
				s++;
		} else if (*e != ':' && *e != '.') {
			return malformed(ln, "not a strace line");
		}
	}
	/* -t/-tt/-ttt timestamps */
	if (isdigit((unsigned char)*s)) {
		char *e = s;
		while (isdigit((unsigned char)*e) || *e == ':' || *e == '.')
			e++;
		if (*e == ' ')
			s = e + 1;
	}
	if (!strncmp(s, "+++ ", 4) || !strncmp(s, "--- ", 4) || !strncmp(s, "strace: ", 8))
		return 0;
	char *t = strstr(s, " <unfinished ...>");
	if (t && !strncmp(s, "bpf(", 4)) {
		if (pending_put(pid, s, (size_t)(t - s)))
			return malformed(ln, "too many unfinished calls");
		return 0;
	}
	if (!strncmp(s, "<... ", 5)) {
		char *r = strstr(s, " resumed>");
		if (!r)
			return malformed(ln, "bad resumed line");
		if (strncmp(s + 5, "bpf ", 4))
			return 0;
		char *head = pending_take(pid);
		if (!head)
			return malformed(ln, "<... bpf resumed> without an unfinished call of pid %d", pid);
		char *whole;
		if (asprintf(&whole, "%s%s", head, r + 9) < 0) {
			free(head);
			return malformed(ln, "out of memory");
		}
		free(head);
		int rc = handle_call(ln, pid, whole);
		free(whole);
		return rc;
	}
	if (!strncmp(s, "bpf(", 4))
		return handle_call(ln, pid, s);
	/* unpin and bpffs directories, when the log has them (strace -e trace=bpf,unlink,...) */
	if (!strncmp(s, "unlink(\"", 8) || !strncmp(s, "unlinkat(AT_FDCWD, \"", 20) ||
	    !strncmp(s, "rmdir(\"", 7) || !strncmp(s, "mkdir(\"", 7))
		return replay_path_call(ln, s);
	/* another system call: NAME(... */
	char *q = s;
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	if (q > s && *q == '(')
		return 0;
	return malformed(ln, "not a strace line: '%.40s'", s);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb, (void)type, (void)ftw;
	remove(path);
	return 0;
}

void replay_help(FILE *f)
{
	fprintf(f, "\n"
		"  --keep-going  report every divergence, not only the first\n"
		"  --root DIR    replay in this state root (default: a fresh one, removed after)\n"
		"\n"
		"  LOG is a BPFEMU_TRACE/record log or strace's (-f, -o, -t, <unfinished ...>,\n"
		"  signals and other syscalls are read as strace writes them). Every call is\n"
		"  re-issued on the engine; recorded fds and ids map to this replay's; return\n"
		"  values and errnos are checked, and returned bytes where the log has them.\n"
		"\n"
		"  What strace does not show is inferred, deterministically:\n"
		"  - a key of a hash or array map element call (lookup, update, delete,\n"
		"    lookup_and_delete, get_next_key) is chosen to reach the recorded outcome,\n"
		"    from the replayed map as it is: success of lookup/delete/lookup_and_delete/\n"
		"    BPF_EXIST update and EEXIST: a present key; ENOENT and E2BIG: an absent one\n"
		"    (arrays: index max_entries); BPF_NOEXIST success: an absent key; BPF_ANY\n"
		"    success on a hash: a new key while the map has room, else a present one;\n"
		"    get_next_key success: a key with a successor, ENOENT: the last key.\n"
		"    Candidates in order: for get_next_key the last next_key this replay got\n"
		"    (a walk goes on), then the bytes last used or returned at the same\n"
		"    recorded address, then the first present key in iteration order / the\n"
		"    smallest absent little-endian number / the end of the walk.\n"
		"    Other outcomes (EINVAL, EPERM, ...) take the bytes at that address or zeros.\n"
		"  - values: the bytes at that address, else zeros.\n"
		"  - an id the log never tied to an object (OBJ_GET_INFO_BY_FD's info is not\n"
		"    printed): the object created, in this replay's creation order, between\n"
		"    those bound to the next lower and higher recorded ids, preferring the one\n"
		"    whose info was asked for last; a recorded failure keeps an unused id.\n"
		"  - strace's \"...\" (non-zero attr bytes past what it decodes): the last byte.\n"
		"  An inferred call is still checked: an outcome no key reaches (E2BIG on a\n"
		"  hash that is not full) is a divergence.\n"
		"\n"
		"  Exit status: 0 all results match, 1 divergence, 2 usage, 3 malformed log.\n");
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keep-going", no_argument, NULL, 'k' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char tmp[] = "/tmp/bpfemu-replay.XXXXXX";
	const char *root = NULL;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:kh", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			keep_going = true;
			break;
		case 'r':
			root = optarg;
			break;
		case 'h':
			printf("usage: bpfemu replay [--keep-going] [--root DIR] LOG\n");
			replay_help(stdout);
			return 0;
		default:
			fprintf(stderr, "bpfemu: replay: bad option '%s'\nusage: bpfemu replay [--keep-going] [--root DIR] LOG\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "bpfemu: replay: expected one LOG\nusage: bpfemu replay [--keep-going] [--root DIR] LOG\n");
		return EXIT_USAGE;
	}
	log_name = argv[optind];
	FILE *f = !strcmp(log_name, "-") ? stdin : fopen(log_name, "r");
	if (!f) {
		fprintf(stderr, "bpfemu: %s: %s\n", log_name, strerror(errno));
		return EXIT_USAGE;
	}
	/* a fresh state root unless one was given: the log's pins must not collide */
	if (!root) {
		if (!mkdtemp(tmp)) {
			fprintf(stderr, "bpfemu: replay: mkdtemp: %s\n", strerror(errno));
			return 1;
		}
	}
	setenv("BPFEMU_ROOT", root ? root : tmp, 1);
	unsetenv("BPFEMU_TRACE");
	bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	char *line = NULL;
	size_t cap = 0;
	unsigned long ln = 0, calls = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		ln++;
		int before = divergences;
		if (handle_line(ln, line)) {
			rc = EXIT_MALFORMED;
			break;
		}
		calls += !strncmp(line, "bpf(", 4) || strstr(line, "bpf(") || strstr(line, "bpf resumed");
		if (divergences > before && !keep_going)
			break;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (!root)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc)
		return rc;
	if (divergences) {
		fprintf(stderr, "bpfemu: replay: %d divergence%s\n", divergences, divergences == 1 ? "" : "s");
		return EXIT_DIVERGED;
	}
	printf("bpfemu: replay: %s: %lu lines, all bpf() results match", log_name, ln);
	if (inferred || ids_guessed)
		printf(" (%lu key%s and %lu id%s inferred)", inferred, inferred == 1 ? "" : "s", ids_guessed,
		       ids_guessed == 1 ? "" : "s");
	putchar('\n');
	(void)calls;
	return 0;
}
