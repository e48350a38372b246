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
#include <linux/perf_event.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "link.h"
#include "perf/perf.h"
#include "replay.h"
#include "trace.h"
#include "tools.h"

#define EXIT_DIVERGED 1
#define EXIT_USAGE 2
#define EXIT_MALFORMED 3
#ifndef offsetofend
#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#endif
#define MAX_BUF 65536u
#define MAX_BLOB (16u << 20)    /* the largest buffer a replayed call gets */
#define MAX_FIELDS 64
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

static void real_close(int fd)
{
	if (fd > 2 && !close(fd))
		emu_fd_closed(fd);
}

/* The real fd of an entry that goes away is closed when no other entry (a
 * forked child's inherited copy) uses it: the recorded program closed it,
 * or the kernel could not have given its number again. */
static void fd_release(size_t i)
{
	int real = fds[i].real;
	memmove(&fds[i], &fds[i + 1], (--nfds - i) * sizeof(fds[0]));   /* keep the order of creation */
	for (size_t k = 0; k < nfds; k++)
		if (fds[k].real == real)
			return;
	real_close(real);
}

static void fd_set_map(int pid, int rec, int real)
{
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].pid == pid && fds[i].rec == rec) {
			if (fds[i].real == real)
				return;
			fd_release(i);
			break;
		}
	if (nfds < MAX_FDS)
		fds[nfds++] = (struct fdmap){ pid, rec, real };
	else
		real_close(real);
}

/* close(rec) in pid (strace -e trace=close logs it) */
static void fd_forget(int pid, int rec)
{
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].pid == pid && fds[i].rec == rec) {
			fd_release(i);
			return;
		}
}

/* pid exited: its fds are closed */
static void fd_forget_pid(int pid)
{
	for (size_t i = nfds; i-- > 0;)
		if (fds[i].pid == pid)
			fd_release(i);
}

/* Is rec open in pid (or inherited from another task)? */
static bool fd_known(int rec)
{
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].rec == rec)
			return true;
	return false;
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

/* The most recent fd of pid whose object is of kind (for calls strace prints as a pointer); -1 if none */
static int fd_latest(int pid, enum emu_kind kind, int *rec)
{
	for (size_t i = nfds; i-- > 0;)
		if ((fds[i].pid == pid || !pid) && emu_fd_kind(fds[i].real) == kind) {
			if (rec)
				*rec = fds[i].rec;
			return fds[i].real;
		}
	return -1;
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
	char name[64];
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
			char sub[64];
			snprintf(sub, sizeof(sub), "%s%.*s.", prefix, (int)(eq - i), s + i);
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


/* ---- the log: calls and the other lines that matter ---- */

struct call {
	unsigned long ln;
	int pid;
	int cmd;
	char *text;                /* owned: "bpf(...) = ..." (arg and comment point into it) */
	char *arg;                 /* "{...}" or an address */
	char *arg_out;             /* what strace printed after the attr on exit (" => {batch={count=N}}") */
	unsigned int size;
	bool unchecked;            /* "= ?" */
	long ret;                  /* -1 with err, or the value */
	int err;
	const char *comment;       /* our trace's data comment, or NULL */
	/* found by the first pass */
	struct btf_needs needs;    /* BTF_LOAD: the types and functions later calls use */
	bool has_retval;           /* PROG_LOAD: what its first recorded test run returned */
	__u32 retval;
};

enum ev_type { EV_BPF, EV_PATH, EV_CLOSE, EV_EXIT };
struct event {
	enum ev_type type;
	unsigned long ln;
	int pid;
	struct call *c;            /* EV_BPF */
	char *text;                /* EV_PATH: the line (owned) */
	int fd;                    /* EV_CLOSE */
};

static struct event *events;
static size_t nevents, cap_events;

/* ---- the trace's data comment ---- */

/* Where name="..." (or name=N) starts in the comment: just past "name=" */
static const char *comment_find(const char *comment, const char *name)
{
	char pat[40];
	if (!comment)
		return NULL;
	snprintf(pat, sizeof(pat), " %s=", name);
	const char *p = strstr(comment, pat);
	return p ? p + strlen(pat) : NULL;
}

/* The recorded bytes of name= in the trailing comment; length or -1 */
static long comment_data(const char *comment, const char *name, unsigned char *out, size_t cap)
{
	const char *p = comment_find(comment, name);
	if (!p || *p != '"')
		return -1;
	return unquote(p, out, cap, NULL);
}

/* The same, malloc'd (any length); NULL if absent */
static unsigned char *comment_blob(const char *comment, const char *name, size_t *len)
{
	long n = comment_data(comment, name, NULL, 0);
	if (n < 0)
		return NULL;
	unsigned char *b = malloc(n ? (size_t)n : 1);
	if (b && comment_data(comment, name, b, (size_t)n) != n) {
		free(b);
		return NULL;
	}
	*len = (size_t)n;
	return b;
}

static bool comment_num(const char *comment, const char *name, unsigned long long *v)
{
	const char *p = comment_find(comment, name);
	if (!p || !isdigit((unsigned char)*p))
		return false;
	*v = strtoull(p, NULL, 10);
	return true;
}

/* ---- the fields of each command, as strace names them ---- */

enum kind {
	K_U32, K_U64, K_FD, K_ID, K_NAME,
	K_PTR,          /* a pointer: the command's builder makes its buffer */
	K_STR,          /* a string strace prints (or an address it could not read) */
	K_ARR,          /* an array strace prints as [...] */
	K_TARGET,       /* an fd or ifindex as the attach type says */
	K_PID,          /* a pid: ours */
	K_OUT,          /* an output strace shows: not sent */
};
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
	F("map_fd", map_fd, K_FD), F("key", key, K_PTR), F("value", value, K_PTR),
	F("next_key", next_key, K_PTR), F("flags", flags, K_U64), { 0 } };
static const struct fdesc f_prog_load[] = {
	F("prog_type", prog_type, K_U32), F("insn_cnt", insn_cnt, K_U32), F("insns", insns, K_PTR),
	F("license", license, K_STR), F("log_level", log_level, K_U32), F("log_size", log_size, K_U32),
	F("log_buf", log_buf, K_PTR), F("kern_version", kern_version, K_U32), F("prog_flags", prog_flags, K_U32),
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
	F("info.info", info.info, K_PTR), { 0 } };
static const struct fdesc f_prog_attach[] = {
	F("target_fd", target_fd, K_TARGET), F("attach_bpf_fd", attach_bpf_fd, K_FD),
	F("attach_type", attach_type, K_U32), F("attach_flags", attach_flags, K_U32),
	F("replace_bpf_fd", replace_bpf_fd, K_FD), { 0 } };
static const struct fdesc f_test[] = {
	F("test.prog_fd", test.prog_fd, K_FD), F("test.retval", test.retval, K_U32),
	F("test.data_size_in", test.data_size_in, K_U32), F("test.data_size_out", test.data_size_out, K_U32),
	F("test.data_in", test.data_in, K_PTR), F("test.data_out", test.data_out, K_PTR),
	F("test.repeat", test.repeat, K_U32), F("test.duration", test.duration, K_U32),
	F("test.ctx_size_in", test.ctx_size_in, K_U32), F("test.ctx_size_out", test.ctx_size_out, K_U32),
	F("test.ctx_in", test.ctx_in, K_PTR), F("test.ctx_out", test.ctx_out, K_PTR),
	F("test.flags", test.flags, K_U32), F("test.cpu", test.cpu, K_U32),
	F("test.batch_size", test.batch_size, K_U32), { 0 } };
static const struct fdesc f_query[] = {
	F("query.target_fd", query.target_fd, K_TARGET), F("query.attach_type", query.attach_type, K_U32),
	F("query.query_flags", query.query_flags, K_U32), F("query.attach_flags", query.attach_flags, K_U32),
	F("query.prog_ids", query.prog_ids, K_ARR), F("query.prog_cnt", query.prog_cnt, K_U32), { 0 } };
static const struct fdesc f_raw_tp[] = {
	F("raw_tracepoint.name", raw_tracepoint.name, K_STR),
	F("raw_tracepoint.prog_fd", raw_tracepoint.prog_fd, K_FD), { 0 } };
static const struct fdesc f_btf_load[] = {
	F("btf", btf, K_PTR), F("btf_log_buf", btf_log_buf, K_PTR), F("btf_size", btf_size, K_U32),
	F("btf_log_size", btf_log_size, K_U32), F("btf_log_level", btf_log_level, K_U32), { 0 } };
static const struct fdesc f_task_fd[] = {
	F("task_fd_query.pid", task_fd_query.pid, K_PID), F("task_fd_query.fd", task_fd_query.fd, K_FD),
	F("task_fd_query.flags", task_fd_query.flags, K_U32), F("task_fd_query.buf_len", task_fd_query.buf_len, K_U32),
	F("task_fd_query.buf", task_fd_query.buf, K_PTR), F("task_fd_query.prog_id", task_fd_query.prog_id, K_OUT),
	F("task_fd_query.fd_type", task_fd_query.fd_type, K_OUT),
	F("task_fd_query.probe_offset", task_fd_query.probe_offset, K_OUT),
	F("task_fd_query.probe_addr", task_fd_query.probe_addr, K_OUT), { 0 } };
static const struct fdesc f_batch[] = {
	F("batch.in_batch", batch.in_batch, K_PTR), F("batch.out_batch", batch.out_batch, K_PTR),
	F("batch.keys", batch.keys, K_PTR), F("batch.values", batch.values, K_PTR),
	F("batch.count", batch.count, K_U32), F("batch.map_fd", batch.map_fd, K_FD),
	F("batch.elem_flags", batch.elem_flags, K_U64), F("batch.flags", batch.flags, K_U64), { 0 } };
static const struct fdesc f_link_create[] = {
	F("link_create.prog_fd", link_create.prog_fd, K_FD), F("link_create.target_fd", link_create.target_fd, K_TARGET),
	F("link_create.attach_type", link_create.attach_type, K_U32), F("link_create.flags", link_create.flags, K_U32),
	F("link_create.target_btf_id", link_create.target_btf_id, K_U32),
	F("link_create.iter_info", link_create.iter_info, K_ARR),
	F("link_create.iter_info_len", link_create.iter_info_len, K_U32),
	F("link_create.perf_event.bpf_cookie", link_create.perf_event.bpf_cookie, K_U64),
	F("link_create.kprobe_multi.flags", link_create.kprobe_multi.flags, K_U32),
	F("link_create.kprobe_multi.cnt", link_create.kprobe_multi.cnt, K_U32),
	F("link_create.kprobe_multi.syms", link_create.kprobe_multi.syms, K_ARR),
	F("link_create.kprobe_multi.addrs", link_create.kprobe_multi.addrs, K_ARR),
	F("link_create.kprobe_multi.cookies", link_create.kprobe_multi.cookies, K_ARR), { 0 } };
static const struct fdesc f_link_update[] = {
	F("link_update.link_fd", link_update.link_fd, K_FD), F("link_update.new_prog_fd", link_update.new_prog_fd, K_FD),
	F("link_update.flags", link_update.flags, K_U32), F("link_update.old_prog_fd", link_update.old_prog_fd, K_FD),
	{ 0 } };
/* what strace prints as a pointer: our trace's attr="..." bytes, these fields mapped */
static const struct fdesc f_iter_create[] = { F("", iter_create.link_fd, K_FD), { 0 } };
static const struct fdesc f_link_detach[] = { F("", link_detach.link_fd, K_FD), { 0 } };
static const struct fdesc f_bind_map[] = {
	F("", prog_bind_map.prog_fd, K_FD), F("", prog_bind_map.map_fd, K_FD), { 0 } };
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
	case BPF_PROG_ATTACH: case BPF_PROG_DETACH: return f_prog_attach;
	case BPF_PROG_TEST_RUN: return f_test;
	case BPF_PROG_QUERY: return f_query;
	case BPF_RAW_TRACEPOINT_OPEN: return f_raw_tp;
	case BPF_BTF_LOAD: return f_btf_load;
	case BPF_TASK_FD_QUERY: return f_task_fd;
	case BPF_MAP_LOOKUP_BATCH: case BPF_MAP_LOOKUP_AND_DELETE_BATCH: case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		return f_batch;
	case BPF_LINK_CREATE: return f_link_create;
	case BPF_LINK_UPDATE: return f_link_update;
	}
	return NULL;
}

/* the fds inside an attr strace prints as a pointer */
static const struct fdesc *raw_fds_of(int cmd)
{
	switch (cmd) {
	case BPF_ITER_CREATE: return f_iter_create;
	case BPF_LINK_DETACH: return f_link_detach;
	case BPF_PROG_BIND_MAP: return f_bind_map;
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

static bool is_attach(int cmd)
{
	return cmd == BPF_LINK_CREATE || cmd == BPF_RAW_TRACEPOINT_OPEN || cmd == BPF_PROG_ATTACH;
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

/* Every id the log asks for by id and got (the first pass), sorted, per kind */
struct used_id { int kind; unsigned int rec; };
static struct used_id *used_ids;
static size_t nused_ids;

static void use_id(int kind, unsigned int rec)
{
	size_t i = 0;
	while (i < nused_ids && (used_ids[i].kind < kind || (used_ids[i].kind == kind && used_ids[i].rec < rec)))
		i++;
	if (i < nused_ids && used_ids[i].kind == kind && used_ids[i].rec == rec)
		return;
	struct used_id *n = realloc(used_ids, (nused_ids + 1) * sizeof(*n));
	if (!n)
		return;
	used_ids = n;
	memmove(&n[i + 1], &n[i], (nused_ids - i) * sizeof(*n));
	n[i] = (struct used_id){ kind, rec };
	nused_ids++;
}

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
	/* the log's later ids in that window and our live objects in it, as many
	 * of each: both are in creation order, so they pair in order */
	struct obj *cand[256];
	unsigned int recs[256];
	size_t nc = 0, nr = 0;
	for (size_t i = lo; i < hi && i < nobjs && nc < 256; i++)
		if (objs[i].kind == kind && !objs[i].rec && id_alive(kind, objs[i].real))
			cand[nc++] = &objs[i];
	for (size_t i = 0; i < nused_ids && nr < 256; i++)
		if (used_ids[i].kind == kind && used_ids[i].rec > lo_rec && used_ids[i].rec < hi_rec &&
		    !id_known(kind, used_ids[i].rec))
			recs[nr++] = used_ids[i].rec;
	if (nc && nc == nr) {
		unsigned int real = 0;
		for (size_t i = 0; i < nr; i++) {
			obj_bind(kind, recs[i], cand[i]->real);
			if (recs[i] == rec)
				real = cand[i]->real;
		}
		if (real) {
			ids_guessed += nr;
			return real;
		}
	}
	struct obj *best = NULL;
	for (size_t i = 0; i < nc; i++)
		if (!best || cand[i]->queried > best->queried)
			best = cand[i];
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

static unsigned long inferred, entries_added;

/* Maps whose values are other objects: lookups through bpf() tell nothing of a
 * perf event array's slots, so which slots this replay filled is kept here */
static bool fdarray(__u32 t)
{
	return t == BPF_MAP_TYPE_PERF_EVENT_ARRAY || t == BPF_MAP_TYPE_PROG_ARRAY || t == BPF_MAP_TYPE_CGROUP_ARRAY ||
	       t == BPF_MAP_TYPE_ARRAY_OF_MAPS;
}

struct slots { __u32 map_id, max; unsigned char *set; };
static struct slots *slot_maps;
static size_t nslot_maps;

static struct slots *slots_of(const struct mapview *mv)
{
	for (size_t i = 0; i < nslot_maps; i++)
		if (slot_maps[i].map_id == mv->id)
			return &slot_maps[i];
	struct slots *n = realloc(slot_maps, (nslot_maps + 1) * sizeof(*n));
	unsigned char *set = calloc(mv->max ? mv->max : 1, 1);
	if (!n || !set) {
		free(set);
		if (n)
			slot_maps = n;
		return NULL;
	}
	slot_maps = n;
	n[nslot_maps] = (struct slots){ mv->id, mv->max, set };
	return &n[nslot_maps++];
}

/* The index for an fd-array element call: update success the lowest empty
 * slot (libbpf fills them in order), delete and lookup success the lowest
 * filled one, ENOENT an empty one, E2BIG max_entries. */
static bool infer_slot(const struct call *c, const struct mapview *mv, unsigned char *key)
{
	struct slots *sl = slots_of(mv);
	bool ok = !c->unchecked && c->ret == 0;
	int e = c->unchecked || c->ret >= 0 ? 0 : c->err;
	__u32 idx = mv->max;
	if (!sl || (c->cmd != BPF_MAP_UPDATE_ELEM && c->cmd != BPF_MAP_DELETE_ELEM && c->cmd != BPF_MAP_LOOKUP_ELEM))
		return false;
	if (e == E2BIG) {
		idx = mv->max;
	} else if ((ok && c->cmd == BPF_MAP_UPDATE_ELEM) || e == ENOENT) {
		for (idx = 0; idx < sl->max && sl->set[idx]; idx++)
			;
	} else if (ok) {
		for (idx = 0; idx < sl->max && !sl->set[idx]; idx++)
			;
	} else {
		return false;
	}
	if (idx < sl->max && ok)
		sl->set[idx] = c->cmd == BPF_MAP_UPDATE_ELEM ? 1 : c->cmd == BPF_MAP_DELETE_ELEM ? 0 : sl->set[idx];
	memcpy(key, &idx, 4);
	inferred++;
	return true;
}

/* Adds the smallest absent key with a zero value (through the probe's fd) */
static bool add_entry(struct probe *p, unsigned char *key)
{
	union bpf_attr a;
	if (!generate(p, NEED_ABSENT, key))
		return false;
	memset(p->val, 0, p->mv->vs);
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)p->fd;
	a.key = (unsigned long)key;
	a.value = (unsigned long)p->val;
	a.flags = BPF_NOEXIST;
	if (emu_sys_bpf(BPF_MAP_UPDATE_ELEM, &a, offsetofend(union bpf_attr, flags)))
		return false;
	entries_added++;
	return true;
}

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

	if (fdarray(mv->type) && ks == 4 && mv->id && infer_slot(c, mv, key)) {
		mem_store(c->pid, addr, key, ks);
		return;
	}

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
			/* a success that needs an entry the map lacks: a program that ran on
			 * the kernel wrote it (the replay cannot fire its events) */
			if (!done && (need == NEED_PRESENT || need == NEED_NEXT) && hashlike(mv->type) &&
			    add_entry(&p, cand) && generate(&p, need, cand))
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

/* ---- one call ---- */

/* Buffers handed to the engine for one call, freed after it. */
struct bufs { void **p; int n, cap; };
static void *buf_new(struct bufs *b, size_t n)
{
	if (b->n == b->cap) {
		int cap = b->cap ? 2 * b->cap : 16;
		void **p = realloc(b->p, (size_t)cap * sizeof(*p));
		if (!p)
			return NULL;
		b->p = p;
		b->cap = cap;
	}
	void *p = calloc(1, n ? n : 1);
	if (p)
		b->p[b->n++] = p;
	return p;
}

static void *buf_dup(struct bufs *b, const void *src, size_t n)
{
	void *p = buf_new(b, n);
	if (p && n)
		memcpy(p, src, n);
	return p;
}

static unsigned long btfs_made, progs_made, attrs_inferred, batch_keys_inferred, values_inferred, dirs_made;

/* A pointer, string or array field as the log shows it */
struct pval {
	const struct fdesc *d;
	char *val;
	unsigned long long num;     /* the address strace printed */
	bool null, str, arr;
};

struct cx {
	struct call *c;
	unsigned char *raw;         /* the attr sent: max(size, sizeof(union bpf_attr)) bytes */
	union bpf_attr *a;
	struct field f[MAX_FIELDS];
	int nf;
	struct pval p[MAX_FIELDS];
	int np;
	struct bufs bufs;
	bool tail;                  /* strace's ", ...": non-zero bytes past what it decodes */
	bool have_raw;              /* our trace's attr="..." bytes are in raw */
	char *id_out, *info_len_out, *prog_cnt_out;
	long count_out;             /* " => {batch={count=N}}", -1 if absent */
	struct mapview mv;
	/* element calls */
	unsigned char *out_value, *out_next, *infer_buf;
	unsigned long long rec_value, rec_next, infer_addr;
	/* info, test runs, batches: what the engine writes */
	unsigned char *out_info, *data_out, *ctx_out, *keys_out, *values_out, *out_batch;
	size_t out_info_len;
	unsigned long long rec_out_batch;
	struct prog_made made;
	int close_after[4];         /* fds opened for this call only */
	int nclose;
};

static struct pval *pv(struct cx *x, const char *name)
{
	for (int i = 0; i < x->np; i++)
		if (!strcmp(x->p[i].d->name, name))
			return &x->p[i];
	return NULL;
}

/* A buffer the engine reads: n bytes, from the comment's cname bytes, else
 * the bytes last seen at that recorded address in this pid, else what strace
 * printed (a string), else zeros. NULL stays NULL; an address below 4096
 * (strace printed what the program passed) stays, for EFAULT. */
static void *in_ptr(struct cx *x, const char *field, const char *cname, size_t n)
{
	struct pval *v = pv(x, field);
	if (!v || v->null)
		return NULL;
	if (!v->str && !v->arr && v->num < 4096)
		return (void *)(unsigned long)v->num;
	unsigned char *b = buf_new(&x->bufs, n);
	if (!b)
		return NULL;
	if (cname && comment_data(x->c->comment, cname, b, n) >= 0)
		return b;
	if (v->str) {
		unquote(v->val, b, n, NULL);
		return b;
	}
	mem_load(x->c->pid, v->num, b, n);
	return b;
}

/* A buffer the engine writes: n zero bytes (NULL and small addresses as given) */
static void *out_ptr(struct cx *x, const char *field, size_t n, unsigned long long *rec)
{
	struct pval *v = pv(x, field);
	if (!v || v->null)
		return NULL;
	if (rec)
		*rec = v->num;
	if (!v->str && !v->arr && v->num < 4096)
		return (void *)(unsigned long)v->num;
	return buf_new(&x->bufs, n);
}

static void set_ptr(struct cx *x, const char *field, const void *p)
{
	struct pval *v = pv(x, field);
	if (v)
		memcpy(x->raw + v->d->off, &(__u64){ (unsigned long)p }, 8);
}

/* ---- element calls (keys and values) ---- */

/* The value of an update strace did not show, on a map whose values are fds
 * of other objects, when the recorded update succeeded: a perf event opened
 * now (as libbpf's perf buffer does; closed after the call), the task's
 * latest program or map, the cgroup root. */
static void infer_fd_value(struct cx *x, unsigned char *val, size_t n)
{
	struct call *c = x->c;
	int fd = -1;
	if (c->unchecked || c->ret < 0 || n < 4)
		return;
	switch (x->mv.type) {
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY: {
		struct perf_event_attr pa;
		memset(&pa, 0, sizeof(pa));
		pa.size = sizeof(pa);
		pa.type = PERF_TYPE_SOFTWARE;
		pa.config = PERF_COUNT_SW_BPF_OUTPUT;
		pa.sample_type = PERF_SAMPLE_RAW;
		pa.sample_period = 1;
		pa.wakeup_events = 1;
		fd = (int)syscall(SYS_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0)
			fd = (int)syscall(SYS_perf_event_open, &pa, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd >= 0 && x->nclose < 4)
			x->close_after[x->nclose++] = fd;
		break;
	}
	case BPF_MAP_TYPE_PROG_ARRAY:
		fd = fd_latest(c->pid, EMU_KIND_PROG, NULL);
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS:
		fd = fd_latest(c->pid, EMU_KIND_MAP, NULL);
		break;
	case BPF_MAP_TYPE_CGROUP_ARRAY:
		fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && x->nclose < 4)
			x->close_after[x->nclose++] = fd;
		break;
	default:
		return;
	}
	if (fd < 0)
		return;
	memcpy(val, &(__u32){ (__u32)fd }, 4);
	values_inferred++;
}

static int build_elem(struct cx *x)
{
	struct call *c = x->c;
	__u32 ks = x->mv.ks, vs = x->mv.vs;
	const char *names[] = { "key", "value", "next_key" };
	for (int k = 0; k < 3; k++) {
		struct pval *v = pv(x, names[k]);
		if (!v || v->null)
			continue;
		void *ptr;
		if (v->num < 4096 || v->str) {        /* what strace showed as an address it could not read */
			ptr = v->num < 4096 && !v->str ? (void *)(unsigned long)v->num : bad_page;
		} else if (k == 0 || (k == 1 && c->cmd == BPF_MAP_UPDATE_ELEM)) {
			size_t n = k == 0 ? ks : vs;
			ptr = buf_new(&x->bufs, n > MAX_BUF ? MAX_BUF : n);
			/* a key walk goes on from what this replay returned (hash order is
			 * seeded at random, as in the kernel); other inputs use the log's bytes */
			if (ptr && k == 0 && comment_data(c->comment, "key", ptr, n) < 0)
				x->infer_buf = ptr, x->infer_addr = v->num;     /* after all fields: flags */
			else if (ptr && c->cmd == BPF_MAP_GET_NEXT_KEY)
				walk_key(c, v->num, ptr, n);
			else if (ptr && comment_data(c->comment, names[k], ptr, n) < 0 &&
				 !mem_load(c->pid, v->num, ptr, n) && k == 1)
				infer_fd_value(x, ptr, n);
		} else if (k == 1) {
			ptr = x->out_value = buf_new(&x->bufs, vs);
			x->rec_value = v->num;
		} else {
			ptr = x->out_next = buf_new(&x->bufs, ks);
			x->rec_next = v->num;
		}
		if (!ptr)
			return malformed(c->ln, "out of memory");
		memcpy(x->raw + v->d->off, &(__u64){ (unsigned long)ptr }, 8);
	}
	if (x->infer_buf && ks <= MAX_BUF)
		infer_key(c, x->a, &x->mv, x->infer_addr, x->infer_buf);
	return 0;
}

static void check_bytes(struct call *c, const char *what, const unsigned char *exp, size_t en,
			const unsigned char *got, size_t gn)
{
	if (en == gn && !memcmp(exp, got, gn))
		return;
	diverge(c->ln, "bpf(%s): %s differs", emu_trace_cmd_name(c->cmd), what);
	fprintf(stderr, "  expected ");
	put_hex(stderr, exp, en);
	fprintf(stderr, "\n  got      ");
	put_hex(stderr, got, gn);
	fputc('\n', stderr);
}

/* returned bytes: remembered by recorded address, checked against the log
 * (a hash map's key order is its own: next_key is checked for arrays only) */
static void post_elem(struct cx *x)
{
	struct call *c = x->c;
	struct { const char *name; unsigned char *buf; size_t n; unsigned long long rec; } outs[] = {
		{ "value", x->out_value, x->mv.vs, x->rec_value }, { "next_key", x->out_next, x->mv.ks, x->rec_next } };
	for (size_t k = 0; k < 2; k++) {
		if (!outs[k].buf)
			continue;
		mem_store(c->pid, outs[k].rec, outs[k].buf, outs[k].n);
		if (k == 1 && outs[k].n <= sizeof(walk.real)) {
			walk.pid = c->pid;
			walk.map_id = x->mv.id;
			walk.n = outs[k].n;
			memcpy(walk.real, outs[k].buf, outs[k].n);
			walk.rec_known = comment_data(c->comment, "next_key", walk.rec, outs[k].n) == (long)outs[k].n;
		}
		if (k == 1 && !arraylike(x->mv.type))
			continue;
		size_t n;
		unsigned char *exp = comment_blob(c->comment, outs[k].name, &n);
		if (exp)
			check_bytes(c, outs[k].name, exp, n, outs[k].buf, outs[k].n);
		free(exp);
	}
}

/* ---- fds the log names that are no bpf objects: stand-ins ---- */

static bool ifindex_target(__u32 attach_type)
{
	return attach_type == BPF_XDP || attach_type == 46 /* BPF_TCX_INGRESS */ ||
	       attach_type == 47 /* BPF_TCX_EGRESS */ || attach_type == 50 /* BPF_NETKIT_PRIMARY */ ||
	       attach_type == 51 /* BPF_NETKIT_PEER */;
}

static __u32 prog_type_of(int fd)
{
	struct bpf_prog_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	if (emu_fd_kind(fd) != EMU_KIND_PROG || emu_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a.info)))
		return 0;
	return info.type;
}

/* The fd to send for a target fd the log names (a cgroup, a perf event, a
 * netns...): ours if the log made it, else a stand-in opened now and kept
 * under the recorded number: a probe PMU event for perf links, the root
 * directory for the rest (inert attach calls only look at its kind). */
static __u32 target_fd(struct cx *x, int rec, __u32 attach_type, int prog_fd)
{
	struct call *c = x->c;
	/* sockmap and sockhash attach types take a map; the rest no bpf object: a
	 * number the log used for one before was closed since (strace does not show it) */
	bool map_target = attach_type == BPF_SK_SKB_STREAM_PARSER || attach_type == BPF_SK_SKB_STREAM_VERDICT ||
			  attach_type == BPF_SK_MSG_VERDICT || attach_type == BPF_SK_SKB_VERDICT;
	if (rec < 0 || (c->ret < 0 && c->err == EBADF) ||
	    (fd_known(rec) && (map_target || emu_fd_kind(fd_map(c->pid, rec)) == EMU_KIND_NONE)))
		return (__u32)fd_map(c->pid, rec);
	int fd = -1;
	if (attach_type == BPF_PERF_EVENT) {
		/* a stand-in probe event (inert mode) of the kind the program attaches to:
		 * a tracepoint, else a kprobe by address */
		__u32 t = prog_type_of(prog_fd);
		struct perf_event_attr pa;
		memset(&pa, 0, sizeof(pa));
		pa.size = sizeof(pa);
		pa.type = t == BPF_PROG_TYPE_TRACEPOINT ? PERF_TYPE_TRACEPOINT
							: (__u32)emu_perf_pmu_type(EMU_PERF_KPROBE);
		bool mine = false;
		fd = (int)pa.type < 0 ? -1 : emu_perf_event_open(&pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC, &mine);
		if (!mine)
			fd = -1;
	} else {
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return (__u32)fd_map(c->pid, rec);
	fd_set_map(c->pid, rec, fd);
	return (__u32)fd;
}

/* ---- programs ---- */

/* The raw BTF behind a real fd (malloc'd), via its info */
static unsigned char *btf_bytes(int fd, __u32 *len)
{
	struct bpf_btf_info info;
	union bpf_attr a;
	if (emu_fd_kind(fd) != EMU_KIND_BTF)
		return NULL;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	if (emu_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a.info)) || !info.btf_size)
		return NULL;
	unsigned char *b = malloc(info.btf_size);
	__u32 size = info.btf_size;
	memset(&info, 0, sizeof(info));
	info.btf = (unsigned long)b;
	info.btf_size = size;
	if (!b || emu_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a.info))) {
		free(b);
		return NULL;
	}
	*len = size;
	return b;
}

/* map fds inside instructions: ld_imm64 of a map or map value by fd, and of a
 * kernel BTF object by fd */
static void remap_insns(int pid, struct bpf_insn *in, __u32 cnt)
{
	for (__u32 i = 0; i + 1 < cnt; i++) {
		if (in[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in[i].src_reg == BPF_PSEUDO_MAP_FD || in[i].src_reg == BPF_PSEUDO_MAP_VALUE)
			in[i].imm = fd_map(pid, in[i].imm);
		else if (in[i].src_reg == BPF_PSEUDO_BTF_ID && in[i + 1].imm)
			in[i + 1].imm = fd_map(pid, in[i + 1].imm);
		i++;
	}
}

static int build_prog_load(struct cx *x)
{
	struct call *c = x->c;
	union bpf_attr *a = x->a;
	size_t n;

	/* license: the whole string when the trace has it (strace cuts it at -s) */
	unsigned char *lic = comment_blob(c->comment, "license", &n);
	if (lic) {
		char *s = buf_new(&x->bufs, n + 1);
		if (s)
			memcpy(s, lic, n);
		set_ptr(x, "license", s);
		free(lic);
	}
	set_ptr(x, "log_buf", out_ptr(x, "log_buf", a->log_size > (16u << 20) ? (16u << 20) : a->log_size, NULL));

	struct pval *ins = pv(x, "insns");
	if (!ins || ins->null || (ins->num < 4096 && !ins->str))
		return 0;                                    /* NULL or a bad address: as recorded */
	unsigned char *rec = comment_blob(c->comment, "insns", &n);
	if (rec) {
		/* as many bytes as insn_cnt says, whatever the comment holds */
		size_t want = (size_t)a->insn_cnt * 8 > MAX_BLOB ? MAX_BLOB : (size_t)a->insn_cnt * 8;
		struct bpf_insn *in = buf_new(&x->bufs, want > n ? want : n);
		if (in)
			memcpy(in, rec, n);
		free(rec);
		if (!in)
			return malformed(c->ln, "out of memory");
		remap_insns(c->pid, in, (__u32)(n / 8));
		set_ptr(x, "insns", in);
		size_t fn;
		unsigned char *fda = comment_blob(c->comment, "fd_array", &fn);
		if (fda) {
			__s32 *fds_ = buf_dup(&x->bufs, fda, fn);
			for (size_t i = 0; fds_ && i < fn / 4; i++)
				fds_[i] = fds_[i] > 0 ? fd_map(c->pid, fds_[i]) : fds_[i];
			set_ptr(x, "fd_array", fds_);
			free(fda);
		} else {
			set_ptr(x, "fd_array", in_ptr(x, "fd_array", NULL, 256));
		}
		set_ptr(x, "func_info", in_ptr(x, "func_info", "func_info", (size_t)a->func_info_cnt * a->func_info_rec_size));
		set_ptr(x, "line_info", in_ptr(x, "line_info", "line_info", (size_t)a->line_info_cnt * a->line_info_rec_size));
		return 0;
	}

	/* strace: no instructions. A program of the recorded shape. */
	char name[sizeof(a->prog_name) + 1];
	memcpy(name, a->prog_name, sizeof(a->prog_name));
	name[sizeof(a->prog_name)] = '\0';
	struct prog_shape s = {
		.prog_type = a->prog_type, .expected_attach_type = a->expected_attach_type, .insn_cnt = a->insn_cnt,
		.func_info_cnt = pv(x, "func_info") && !pv(x, "func_info")->null ? a->func_info_cnt : 0,
		.func_info_rec_size = a->func_info_rec_size,
		.line_info_cnt = pv(x, "line_info") && !pv(x, "line_info")->null ? a->line_info_cnt : 0,
		.line_info_rec_size = a->line_info_rec_size,
		.name = name,
		.fail = c->unchecked || c->ret >= 0 ? 0 : c->err,
		.retval = c->has_retval ? c->retval : 0,
	};
	__u32 blen = 0;
	unsigned char *blob = s.func_info_cnt ? btf_bytes((int)a->prog_btf_fd, &blen) : NULL;
	s.btf = blob;
	s.btf_len = blen;
	int err = synth_prog(&s, &x->made);
	free(blob);
	if (err)
		return malformed(c->ln, "out of memory");
	progs_made++;
	a->insn_cnt = x->made.insn_cnt;
	set_ptr(x, "insns", x->made.bad_insns ? bad_page : (void *)x->made.insns);
	if (s.func_info_cnt)
		set_ptr(x, "func_info", x->made.func_info);
	if (s.line_info_cnt)
		set_ptr(x, "line_info", x->made.line_info);
	if (pv(x, "fd_array") && !pv(x, "fd_array")->null)
		set_ptr(x, "fd_array", buf_new(&x->bufs, 256));
	return 0;
}

/* ---- BTF ---- */

static int build_btf_load(struct cx *x)
{
	struct call *c = x->c;
	union bpf_attr *a = x->a;
	struct pval *v = pv(x, "btf");
	size_t n;

	set_ptr(x, "btf_log_buf",
		out_ptr(x, "btf_log_buf", a->btf_log_size > (16u << 20) ? (16u << 20) : a->btf_log_size, NULL));
	if (!v || v->null || (!v->str && v->num < 4096))
		return 0;
	/* the whole blob: strace -s big enough, or our trace's comment */
	unsigned char *b = comment_blob(c->comment, "btf", &n);
	if (!b && v->str) {
		size_t vl = strlen(v->val);
		bool cut = vl >= 4 && !strcmp(v->val + vl - 3, "...");
		long m = unquote(v->val, NULL, 0, NULL);
		if (!cut && m >= 0 && (__u32)m == a->btf_size && (b = malloc(m ? (size_t)m : 1)))
			unquote(v->val, b, (size_t)m, NULL), n = (size_t)m;
	}
	if (b) {
		size_t want = a->btf_size > MAX_BLOB ? MAX_BLOB : a->btf_size;
		unsigned char *p = buf_new(&x->bufs, want > n ? want : n);
		if (p)
			memcpy(p, b, n);
		set_ptr(x, "btf", p);
		free(b);
		return 0;
	}
	if (!v->str) {                 /* strace could not read it */
		set_ptr(x, "btf", bad_page);
		return 0;
	}
	/* cut at -s: a BTF holding what later calls use */
	int fail = c->unchecked || c->ret >= 0 ? 0 : c->err;
	if (fail == EFAULT) {
		set_ptr(x, "btf", bad_page);
		return 0;
	}
	if (fail == E2BIG && a->btf_size > (16u << 20)) {
		set_ptr(x, "btf", buf_new(&x->bufs, 64));   /* too big: refused before a byte is read */
		return 0;
	}
	c->needs.rec_size = a->btf_size;
	__u32 len;
	unsigned char *blob = synth_btf(&c->needs, &len);
	if (!blob)
		return malformed(c->ln, "out of memory");
	if (fail == EINVAL)
		blob[0] ^= 0xff;           /* a bad magic */
	set_ptr(x, "btf", buf_dup(&x->bufs, blob, len));
	a->btf_size = len;
	free(blob);
	btfs_made++;
	return 0;
}

/* ---- test runs ---- */

static int build_test_run(struct cx *x)
{
	union bpf_attr *a = x->a;
#define CAP(v) ((v) > MAX_BLOB ? MAX_BLOB : (v))
	set_ptr(x, "test.data_in", in_ptr(x, "test.data_in", "data_in", CAP(a->test.data_size_in)));
	set_ptr(x, "test.ctx_in", in_ptr(x, "test.ctx_in", "ctx_in", CAP(a->test.ctx_size_in)));
	set_ptr(x, "test.data_out", x->data_out = out_ptr(x, "test.data_out", CAP(a->test.data_size_out), NULL));
	set_ptr(x, "test.ctx_out", x->ctx_out = out_ptr(x, "test.ctx_out", CAP(a->test.ctx_size_out), NULL));
#undef CAP
	return 0;
}

/* the retval, output sizes and bytes the trace recorded for a test run */
static void post_test_run(struct cx *x, const union bpf_attr *sent)
{
	struct call *c = x->c;
	const union bpf_attr *a = x->a;
	unsigned long long v;
	if (comment_num(c->comment, "retval", &v) && v != a->test.retval)
		diverge(c->ln, "bpf(BPF_PROG_TEST_RUN): retval expected %llu, got %u", v, a->test.retval);
	if (comment_num(c->comment, "data_size_out", &v) && v != a->test.data_size_out)
		diverge(c->ln, "bpf(BPF_PROG_TEST_RUN): data_size_out expected %llu, got %u", v, a->test.data_size_out);
	if (comment_num(c->comment, "ctx_size_out", &v) && v != a->test.ctx_size_out)
		diverge(c->ln, "bpf(BPF_PROG_TEST_RUN): ctx_size_out expected %llu, got %u", v, a->test.ctx_size_out);
	struct { const char *name; unsigned char *buf; __u32 n; } outs[] = {
		{ "data_out", x->data_out, a->test.data_size_out < sent->test.data_size_out ? a->test.data_size_out :
								 sent->test.data_size_out },
		{ "ctx_out", x->ctx_out, a->test.ctx_size_out < sent->test.ctx_size_out ? a->test.ctx_size_out :
							       sent->test.ctx_size_out },
	};
	for (size_t k = 0; k < 2; k++) {
		size_t n;
		unsigned char *exp = outs[k].buf && (unsigned long)outs[k].buf >= 4096 ?
			comment_blob(c->comment, outs[k].name, &n) : NULL;
		if (exp)
			check_bytes(c, outs[k].name, exp, n, outs[k].buf, outs[k].n);
		free(exp);
	}
}

/* ---- info ---- */

/* pointer fields of an info struct the kernel writes through, and the size
 * of what it writes: *(len) * (mul_off ? *(mul_off) : mul) */
struct iptr { unsigned int ptr, len, mul_off, mul; };
#define P(s, p, l, mo, m) { offsetof(struct s, p), offsetof(struct s, l), mo, m }
static const struct iptr prog_ptrs[] = {
	P(bpf_prog_info, jited_prog_insns, jited_prog_len, 0, 1),
	P(bpf_prog_info, xlated_prog_insns, xlated_prog_len, 0, 1),
	P(bpf_prog_info, map_ids, nr_map_ids, 0, 4),
	P(bpf_prog_info, jited_ksyms, nr_jited_ksyms, 0, 8),
	P(bpf_prog_info, jited_func_lens, nr_jited_func_lens, 0, 4),
	P(bpf_prog_info, func_info, nr_func_info, offsetof(struct bpf_prog_info, func_info_rec_size), 0),
	P(bpf_prog_info, line_info, nr_line_info, offsetof(struct bpf_prog_info, line_info_rec_size), 0),
	P(bpf_prog_info, jited_line_info, nr_jited_line_info,
	  offsetof(struct bpf_prog_info, jited_line_info_rec_size), 0),
	P(bpf_prog_info, prog_tags, nr_prog_tags, 0, 8),
	{ 0, 0, 0, 0 } };
static const struct iptr btf_ptrs[] = {
	P(bpf_btf_info, btf, btf_size, 0, 1), P(bpf_btf_info, name, name_len, 0, 1), { 0, 0, 0, 0 } };
#undef P
/* the sizes and counts the kernel reads from the struct it is given */
static const unsigned int prog_in_u32[] = {
	offsetof(struct bpf_prog_info, jited_prog_len), offsetof(struct bpf_prog_info, xlated_prog_len),
	offsetof(struct bpf_prog_info, nr_map_ids), offsetof(struct bpf_prog_info, nr_jited_ksyms),
	offsetof(struct bpf_prog_info, nr_jited_func_lens), offsetof(struct bpf_prog_info, func_info_rec_size),
	offsetof(struct bpf_prog_info, nr_func_info), offsetof(struct bpf_prog_info, nr_line_info),
	offsetof(struct bpf_prog_info, nr_jited_line_info), offsetof(struct bpf_prog_info, line_info_rec_size),
	offsetof(struct bpf_prog_info, jited_line_info_rec_size), offsetof(struct bpf_prog_info, nr_prog_tags), 0 };
static const unsigned int btf_in_u32[] = {
	offsetof(struct bpf_btf_info, btf_size), offsetof(struct bpf_btf_info, name_len), 0 };

/* little-endian fields of a struct the trace cut after its last non-zero byte */
static __u64 field_at(const unsigned char *b, size_t len, unsigned int off, size_t size)
{
	__u64 v = 0;
	if (off < len)
		memcpy(&v, b + off, len - off < size ? len - off : size);
	return v;
}

static __u32 u32_at(const unsigned char *b, size_t len, unsigned int off)
{
	return (__u32)field_at(b, len, off, 4);
}

static int build_info(struct cx *x)
{
	struct call *c = x->c;
	union bpf_attr *a = x->a;
	__u32 len = a->info.info_len > 65536 ? 65536 : a->info.info_len;
	struct pval *v = pv(x, "info.info");
	if (!v || v->null || (!v->str && v->num < 4096))
		return 0;
	x->out_info = buf_new(&x->bufs, len > 4096 ? len : 4096);
	x->out_info_len = len;
	if (!x->out_info)
		return malformed(c->ln, "out of memory");
	set_ptr(x, "info.info", x->out_info);
	/* the struct as the program gave it: its sizes and counts, our buffers for its pointers */
	size_t in_len;
	unsigned char *in = comment_blob(c->comment, "info_in", &in_len);
	if (!in)
		return 0;
	enum emu_kind kind = emu_fd_kind((int)a->info.bpf_fd);
	const struct iptr *ptrs = kind == EMU_KIND_PROG ? prog_ptrs : kind == EMU_KIND_BTF ? btf_ptrs : NULL;
	const unsigned int *u32s = kind == EMU_KIND_PROG ? prog_in_u32 : kind == EMU_KIND_BTF ? btf_in_u32 : NULL;
	for (const unsigned int *o = u32s; o && *o; o++)
		if (*o + 4 <= len)
			memcpy(x->out_info + *o, &(__u32){ u32_at(in, in_len, *o) }, 4);
	for (const struct iptr *p = ptrs; p && p->len; p++) {
		__u64 rec = field_at(in, in_len, p->ptr, 8);
		if (!rec || p->ptr + 8 > len)
			continue;
		__u64 n = (__u64)u32_at(in, in_len, p->len) * (p->mul_off ? u32_at(in, in_len, p->mul_off) : p->mul);
		void *b = rec < 4096 ? (void *)(unsigned long)rec : buf_new(&x->bufs, n > (16u << 20) ? 16u << 20 : n);
		memcpy(x->out_info + p->ptr, &(__u64){ (unsigned long)b }, 8);
	}
	free(in);
	return 0;
}

/* The ids an info struct names (a map's BTF, a program's BTF and maps, a
 * link's program), as the log recorded them and as the engine answered:
 * the log's ids are ours from now on. */
static void bind_info_ids(struct cx *x)
{
	struct call *c = x->c;
	size_t n;
	unsigned char *rec = comment_blob(c->comment, "info", &n);
	enum emu_kind kind = emu_fd_kind((int)x->a->info.bpf_fd);
	size_t have = x->a->info.info_len < x->out_info_len ? x->a->info.info_len : x->out_info_len;
	struct { enum emu_kind of; unsigned int off; int kind; } ids_[] = {
		{ EMU_KIND_MAP, offsetof(struct bpf_map_info, btf_id), EMU_KIND_BTF },
		{ EMU_KIND_PROG, offsetof(struct bpf_prog_info, btf_id), EMU_KIND_BTF },
		{ EMU_KIND_LINK, offsetof(struct bpf_link_info, prog_id), EMU_KIND_PROG },
	};
	for (size_t i = 0; rec && i < sizeof(ids_) / sizeof(ids_[0]); i++) {
		if (ids_[i].of != kind || ids_[i].off + 4 > n || ids_[i].off + 4 > have)
			continue;
		__u32 r = u32_at(rec, n, ids_[i].off), ours = u32_at(x->out_info, have, ids_[i].off);
		if (r && ours && !id_known(ids_[i].kind, r))
			obj_bind(ids_[i].kind, r, ours);
	}
	free(rec);
	/* a program's map ids, in the order both gave them */
	if (kind != EMU_KIND_PROG || have < offsetofend(struct bpf_prog_info, map_ids))
		return;
	struct bpf_prog_info pi;
	memset(&pi, 0, sizeof(pi));
	memcpy(&pi, x->out_info, have < sizeof(pi) ? have : sizeof(pi));
	unsigned char *rids = comment_blob(c->comment, "map_ids", &n);
	if (rids && pi.map_ids >= 4096) {
		for (size_t i = 0; i < n / 4 && i < pi.nr_map_ids; i++) {
			__u32 r = u32_at(rids, n, (unsigned int)(i * 4)), ours;
			memcpy(&ours, (const char *)(unsigned long)pi.map_ids + i * 4, 4);
			if (r && ours && !id_known(EMU_KIND_MAP, r))
				obj_bind(EMU_KIND_MAP, r, ours);
		}
	}
	free(rids);
}

/* fields of an info struct that do not depend on ids, times or addresses */
struct ifield { unsigned int off, len; const char *name; };
#define I(s, f) { offsetof(struct s, f), sizeof(((struct s *)0)->f), #f }
static const struct ifield map_fields[] = {
	I(bpf_map_info, type), I(bpf_map_info, key_size), I(bpf_map_info, value_size), I(bpf_map_info, max_entries),
	I(bpf_map_info, map_flags), I(bpf_map_info, name), I(bpf_map_info, btf_key_type_id),
	I(bpf_map_info, btf_value_type_id), { 0, 0, NULL } };
static const struct ifield prog_fields[] = {
	I(bpf_prog_info, type), I(bpf_prog_info, tag), I(bpf_prog_info, name), I(bpf_prog_info, nr_map_ids),
	I(bpf_prog_info, func_info_rec_size), I(bpf_prog_info, nr_func_info), I(bpf_prog_info, nr_line_info),
	I(bpf_prog_info, line_info_rec_size), { 0, 0, NULL } };
static const struct ifield btf_fields[] = { I(bpf_btf_info, btf_size), I(bpf_btf_info, kernel_btf), { 0, 0, NULL } };
static const struct ifield link_fields[] = { I(bpf_link_info, type), { 0, 0, NULL } };
#undef I

static void post_info(struct cx *x)
{
	struct call *c = x->c;
	size_t n;
	unsigned char *rec = comment_blob(c->comment, "info", &n);
	enum emu_kind kind = emu_fd_kind((int)x->a->info.bpf_fd);
	const struct ifield *f = kind == EMU_KIND_MAP ? map_fields : kind == EMU_KIND_PROG ? prog_fields :
				 kind == EMU_KIND_BTF ? btf_fields : kind == EMU_KIND_LINK ? link_fields : NULL;
	size_t have = x->a->info.info_len < x->out_info_len ? x->a->info.info_len : x->out_info_len;
	for (; rec && f && f->name; f++) {
		if (f->off + f->len > n || f->off + f->len > have)
			continue;
		if (memcmp(rec + f->off, x->out_info + f->off, f->len)) {
			char what[48];
			snprintf(what, sizeof(what), "info %s", f->name);
			check_bytes(c, what, rec + f->off, f->len, x->out_info + f->off, f->len);
		}
	}
	free(rec);
}

/* ---- batches ---- */

/* keys for a batch update or delete the log does not show: an update adds
 * the smallest absent keys (arrays: indices from 0), a delete removes the
 * first present ones in iteration order */
static void infer_batch_keys(struct cx *x, unsigned char *keys, __u32 count)
{
	struct mapview *mv = &x->mv;
	size_t ks = mv->ks;
	union bpf_attr g;
	memset(&g, 0, sizeof(g));
	g.map_id = mv->id;
	long pfd = mv->id ? emu_sys_bpf(BPF_MAP_GET_FD_BY_ID, &g, offsetofend(union bpf_attr, open_flags)) : -1;
	unsigned char *val = calloc(1, mv->vs ? mv->vs : 1), *k = calloc(2, ks ? ks : 1);
	if (pfd >= 0 && val && k) {
		struct probe p = { (int)pfd, mv, val };
		if (x->c->cmd == BPF_MAP_DELETE_BATCH) {
			long r = probe_next(&p, NULL, k);
			for (__u32 i = 0; i < count && r == 0; i++) {
				memcpy(keys + (size_t)i * ks, k, ks);
				r = probe_next(&p, k, k + ks);
				memcpy(k, k + ks, ks);
			}
		} else {
			unsigned long long v = 0;
			for (__u32 i = 0; i < count; i++) {
				for (;; v++) {
					for (size_t b = 0; b < ks; b++)
						k[b] = b < 8 ? (unsigned char)(v >> (8 * b)) : 0;
					if (arraylike(mv->type) || !probe_present(&p, k))
						break;
				}
				memcpy(keys + (size_t)i * ks, k, ks);
				v++;
			}
		}
		batch_keys_inferred += count;
	}
	free(val);
	free(k);
	if (pfd >= 0)
		real_close((int)pfd);
}

/* a lookup batch that returned more entries than the replayed map holds: a
 * program that ran on the kernel wrote them */
static void fill_for_batch(struct cx *x, __u32 want)
{
	struct mapview *mv = &x->mv;
	union bpf_attr g;
	memset(&g, 0, sizeof(g));
	g.map_id = mv->id;
	long pfd = emu_sys_bpf(BPF_MAP_GET_FD_BY_ID, &g, offsetofend(union bpf_attr, open_flags));
	unsigned char *val = calloc(1, mv->vs ? mv->vs : 1), *k = calloc(2, mv->ks ? mv->ks : 1);
	if (pfd >= 0 && val && k) {
		struct probe p = { (int)pfd, mv, val };
		__u32 have = 0;
		for (long r = probe_next(&p, NULL, k); r == 0 && have < want; r = probe_next(&p, k, k + mv->ks),
		     memcpy(k, k + mv->ks, mv->ks))
			have++;
		while (have < want && add_entry(&p, k))
			have++;
	}
	free(val);
	free(k);
	if (pfd >= 0)
		real_close((int)pfd);
}

static int build_batch(struct cx *x)
{
	struct call *c = x->c;
	union bpf_attr *a = x->a;
	size_t ks = x->mv.ks, vs = x->mv.vs, tok = ks < 4 ? 4 : ks, cnt = a->batch.count;
	if (cnt > (1u << 20))
		a->batch.count = (__u32)(cnt = 1u << 20);    /* our buffers are this big */
	if (c->cmd == BPF_MAP_UPDATE_BATCH || c->cmd == BPF_MAP_DELETE_BATCH) {
		struct pval *v = pv(x, "batch.keys");
		bool have = comment_find(c->comment, "keys") != NULL;
		unsigned char *keys = in_ptr(x, "batch.keys", "keys", cnt * ks);
		if (keys && !have && v && !v->str && v->num >= 4096 && ks)
			infer_batch_keys(x, keys, (__u32)cnt);
		set_ptr(x, "batch.keys", keys);
		if (c->cmd == BPF_MAP_UPDATE_BATCH)
			set_ptr(x, "batch.values", in_ptr(x, "batch.values", "values", cnt * vs));
		return 0;
	}
	if (x->count_out > 0 && !comment_find(c->comment, "keys") && hashlike(x->mv.type) && x->mv.id &&
	    (c->ret == 0 || (c->ret < 0 && c->err == ENOENT)))
		fill_for_batch(x, (__u32)x->count_out);
	unsigned char *in = in_ptr(x, "batch.in_batch", "in_batch", tok);
	set_ptr(x, "batch.in_batch", in);
	set_ptr(x, "batch.out_batch", x->out_batch = out_ptr(x, "batch.out_batch", tok, &x->rec_out_batch));
	set_ptr(x, "batch.keys", x->keys_out = out_ptr(x, "batch.keys", cnt * ks, NULL));
	set_ptr(x, "batch.values", x->values_out = out_ptr(x, "batch.values", cnt * vs, NULL));
	return 0;
}

static void post_batch(struct cx *x, long ret)
{
	struct call *c = x->c;
	union bpf_attr *a = x->a;
	if (x->count_out >= 0 && (ret == 0 || ret == -ENOENT) && (unsigned long)x->count_out != a->batch.count)
		diverge(c->ln, "bpf(%s): count expected %ld, got %u", emu_trace_cmd_name(c->cmd), x->count_out,
			a->batch.count);
	if (x->out_batch && (unsigned long)x->out_batch >= 4096)
		mem_store(c->pid, x->rec_out_batch, x->out_batch, x->mv.ks < 4 ? 4 : x->mv.ks);
	if (!arraylike(x->mv.type) || !x->keys_out || (unsigned long)x->keys_out < 4096)
		return;
	struct { const char *name; unsigned char *buf; size_t n; } outs[] = {
		{ "keys", x->keys_out, (size_t)a->batch.count * x->mv.ks },
		{ "values", x->values_out, (size_t)a->batch.count * x->mv.vs } };
	for (size_t k = 0; k < 2; k++) {
		size_t n;
		unsigned char *exp = outs[k].buf ? comment_blob(c->comment, outs[k].name, &n) : NULL;
		if (exp)
			check_bytes(c, outs[k].name, exp, n, outs[k].buf, outs[k].n);
		free(exp);
	}
}

/* ---- attach calls ---- */

/* "[{map={map_fd=4}}, ...]", "[\"a\", \"b\"]", "[0x1, 0x20]": the elements */
static int array_items(char *v, char **items, int max)
{
	size_t l = strlen(v);
	int n = 0;
	if (l < 2 || v[0] != '[' || v[l - 1] != ']')
		return -1;
	v[l - 1] = '\0';
	for (long i = 1; v[i] && n < max;) {
		while (v[i] == ' ' || v[i] == ',')
			i++;
		if (!v[i] || !strncmp(v + i, "...", 3))
			break;
		long e = value_end(v, i);
		if (e < 0)
			return -1;
		char save = v[e];
		v[e] = '\0';
		items[n++] = v + i;
		if (!save)
			break;
		i = e + 1;
	}
	return n;
}

static int build_link_create(struct cx *x)
{
	struct call *c = x->c;
	union bpf_attr *a = x->a;
	__u32 type = a->link_create.attach_type;
	struct pval *t = pv(x, "link_create.target_fd");
	if (t && !ifindex_target(type))
		a->link_create.target_fd = target_fd(x, (int)t->num, type, (int)a->link_create.prog_fd);
	else if (t)
		a->link_create.target_fd = (__u32)t->num;
	char *items[64];
	struct pval *v = pv(x, "link_create.iter_info");
	if (v && !v->null) {
		size_t n = (size_t)(a->link_create.iter_info_len > 65536 ? 65536 : a->link_create.iter_info_len) * 4 + 16;
		__u32 *info = buf_new(&x->bufs, n);
		int m = v->arr ? array_items(v->val, items, 64) : 0;
		for (int i = 0; info && i < m && (size_t)(i + 1) * 4 <= n; i++) {
			unsigned long long fd;
			if (sscanf(items[i], "{map={map_fd=%llu}}", &fd) == 1)
				info[i] = i ? (__u32)fd : (__u32)fd_map(c->pid, (int)fd);
		}
		set_ptr(x, "link_create.iter_info", v->arr || v->num >= 4096 ? (void *)info : (void *)(unsigned long)v->num);
	}
	__u32 cnt = a->link_create.kprobe_multi.cnt > 4096 ? 4096 : a->link_create.kprobe_multi.cnt;
	const char *arrs[] = { "link_create.kprobe_multi.syms", "link_create.kprobe_multi.addrs",
			       "link_create.kprobe_multi.cookies" };
	for (int k = 0; k < 3; k++) {
		v = pv(x, arrs[k]);
		if (!v || v->null)
			continue;
		__u64 *arr = buf_new(&x->bufs, (size_t)cnt * 8 + 8);
		int m = v->arr ? array_items(v->val, items, 64) : 0;
		for (int i = 0; arr && i < m && (__u32)i < cnt; i++) {
			if (k == 0) {
				char *s = buf_new(&x->bufs, strlen(items[i]) + 1);
				if (s && unquote(items[i], (unsigned char *)s, strlen(items[i]), NULL) >= 0)
					arr[i] = (unsigned long)s;
			} else {
				arr[i] = strtoull(items[i], NULL, 0);
			}
		}
		set_ptr(x, arrs[k], v->arr || v->num >= 4096 ? (void *)arr : (void *)(unsigned long)v->num);
	}
	return 0;
}

static int build_prog_attach(struct cx *x)
{
	struct pval *t = pv(x, "target_fd");
	if (t)
		x->a->target_fd = target_fd(x, (int)t->num, x->a->attach_type, (int)x->a->attach_bpf_fd);
	return 0;
}

static int build_query(struct cx *x)
{
	union bpf_attr *a = x->a;
	struct pval *t = pv(x, "query.target_fd");
	if (t)
		a->query.target_fd = target_fd(x, (int)t->num, a->query.attach_type, -1);
	__u32 cnt = a->query.prog_cnt > 65536 ? 65536 : a->query.prog_cnt;
	set_ptr(x, "query.prog_ids", out_ptr(x, "query.prog_ids", (size_t)cnt * 4 + 4, NULL));
	return 0;
}

static int build_raw_tp(struct cx *x)
{
	size_t n;
	unsigned char *name = comment_blob(x->c->comment, "name", &n);
	if (name) {
		char *s = buf_new(&x->bufs, n + 1);
		if (s)
			memcpy(s, name, n);
		set_ptr(x, "raw_tracepoint.name", s);
		free(name);
	}
	return 0;
}

/* A pin the log says succeeded, in a bpffs directory the replay lacks: the
 * program made it with mkdir(2), which strace -e trace=bpf (and our trace)
 * does not show. */
static int build_obj_pin(struct cx *x)
{
	struct call *c = x->c;
	char path[PATH_MAX], buf[PATH_MAX];
	if (c->cmd != BPF_OBJ_PIN || c->unchecked || c->ret < 0 || !x->a->pathname ||
	    x->a->pathname == (unsigned long)bad_page)
		return 0;
	snprintf(path, sizeof(path), "%s", (const char *)(unsigned long)x->a->pathname);
	char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	*slash = '\0';
	const char *real = emu_bpffs_translate(AT_FDCWD, path, buf);
	struct stat sb;
	if (!real || real == path || !stat(real, &sb))
		return 0;
	/* mkdir -p below the bpffs root */
	const char *root = emu_bpffs_translate(AT_FDCWD, "/sys/fs/bpf", path);
	size_t rl = root ? strlen(root) : 0;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", real);
	if (!root || strncmp(dir, root, rl))
		return 0;
	for (char *p = dir + rl + 1; p && *p; p = strchr(p + 1, '/')) {
		char save = *p;
		if (save == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = save;
		}
	}
	if (!mkdir(dir, 0700))
		dirs_made++;
	return 0;
}

static int build_task_fd_query(struct cx *x)
{
	x->a->task_fd_query.pid = (__u32)getpid();
	__u32 n = x->a->task_fd_query.buf_len > 65536 ? 65536 : x->a->task_fd_query.buf_len;
	set_ptr(x, "task_fd_query.buf", out_ptr(x, "task_fd_query.buf", n, NULL));
	return 0;
}

/* Commands strace prints as a pointer: our trace's attr bytes with their
 * fds mapped; without them, the attr the recorded outcome needs: the pid's
 * latest link (ITER_CREATE; LINK_DETACH: the latest whose type has a detach
 * op when the outcome was 0, none when EOPNOTSUPP), latest program and map
 * (PROG_BIND_MAP), zeros otherwise (ENABLE_STATS: BPF_STATS_RUN_TIME). */
/* PROG_BIND_MAP without its attr: the task's latest program and latest map
 * not bound to each other yet (libbpf binds a probe's map to the probe, then
 * an object's .rodata to each of its programs) */
static struct { __u32 prog, map; } *bound;
static size_t nbound;

static void infer_bind(struct cx *x)
{
	int pid = x->c->pid;
	for (size_t i = nfds; i-- > 0;) {
		if ((fds[i].pid != pid && pid) || emu_fd_kind(fds[i].real) != EMU_KIND_PROG)
			continue;
		int kp;
		__u32 pid_ = obj_id(fds[i].real, &kp);
		for (size_t k = nfds; k-- > 0;) {
			if ((fds[k].pid != pid && pid) || emu_fd_kind(fds[k].real) != EMU_KIND_MAP)
				continue;
			int km;
			__u32 mid = obj_id(fds[k].real, &km);
			bool done = false;
			for (size_t b = 0; b < nbound && !done; b++)
				done = bound[b].prog == pid_ && bound[b].map == mid;
			if (done)
				continue;
			void *n = realloc(bound, (nbound + 1) * sizeof(*bound));
			if (n) {
				bound = n;
				bound[nbound].prog = pid_;
				bound[nbound++].map = mid;
			}
			x->a->prog_bind_map.prog_fd = (__u32)fds[i].real;
			x->a->prog_bind_map.map_fd = (__u32)fds[k].real;
			return;
		}
	}
}

static void build_raw(struct cx *x)
{
	struct call *c = x->c;
	const struct fdesc *fdt = raw_fds_of(c->cmd);
	if (x->have_raw) {
		for (const struct fdesc *d = fdt; d && d->name; d++) {
			__s32 fd;
			memcpy(&fd, x->raw + d->off, 4);
			fd = fd_map(c->pid, fd);
			memcpy(x->raw + d->off, &fd, 4);
		}
		return;
	}
	if (!fdt)
		return;
	bool badf = !c->unchecked && c->ret < 0 && c->err == EBADF;
	if (c->cmd == BPF_PROG_BIND_MAP && !badf) {
		infer_bind(x);
		attrs_inferred++;
		return;
	}
	for (const struct fdesc *d = fdt; d && d->name; d++) {
		enum emu_kind kind = c->cmd == BPF_PROG_BIND_MAP ? (d == fdt ? EMU_KIND_PROG : EMU_KIND_MAP) :
				     EMU_KIND_LINK;
		__s32 fd = badf ? 0x3fffff00 : fd_latest(c->pid, kind, NULL);
		if (c->cmd == BPF_LINK_DETACH && !badf && !c->unchecked) {
			/* the latest link whose type gives the recorded outcome: 0 has a
			 * detach op, EOPNOTSUPP has none */
			int want = c->ret == 0 ? 1 : c->ret < 0 && c->err == EOPNOTSUPP ? 0 : -1;
			for (size_t i = nfds; want >= 0 && i-- > 0;) {
				if ((fds[i].pid != c->pid && c->pid) || emu_fd_kind(fds[i].real) != EMU_KIND_LINK)
					continue;
				struct bpf_link_info li;
				memset(&li, 0, sizeof(li));
				union bpf_attr ia;
				memset(&ia, 0, sizeof(ia));
				ia.info.bpf_fd = (__u32)fds[i].real;
				ia.info.info_len = sizeof(li);
				ia.info.info = (__u64)(uintptr_t)&li;
				if (emu_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &ia, sizeof(ia)) == 0 &&
				    (int)emu_link_type_detachable(li.type) == want) {
					fd = fds[i].real;
					break;
				}
			}
		}
		memcpy(x->raw + d->off, &fd, 4);
	}
	attrs_inferred++;
}

/* ---- the call ---- */

static void check_ret(struct call *c, long ret)
{
	int err = ret < 0 ? (int)-ret : 0;
	bool ok;
	if (c->unchecked)
		return;
	if (c->ret < 0)
		ok = ret < 0 && err == c->err;
	else if (returns_fd(c->cmd))
		ok = ret >= 0;
	else
		ok = ret == c->ret;
	if (ok)
		return;
	char exp[64], act[64];
	if (c->ret < 0)
		snprintf(exp, sizeof(exp), "-1 %s", strerrorname_np(c->err) ? strerrorname_np(c->err) :
			 c->err == 524 ? "ENOTSUPP" : "E?");
	else
		snprintf(exp, sizeof(exp), returns_fd(c->cmd) ? "an fd (%ld)" : "%ld", c->ret);
	if (ret < 0)
		snprintf(act, sizeof(act), "-1 %s (%s)", strerrorname_np(err) ? strerrorname_np(err) :
			 err == 524 ? "ENOTSUPP" : "E?", strerror(err));
	else
		snprintf(act, sizeof(act), "%ld", ret);
	diverge(c->ln, "bpf(%s): expected %s, got %s", c->cmd >= 0 ? emu_trace_cmd_name(c->cmd) : "?", exp, act);
}

/* Parses the attr the log shows into x->raw: scalars and fds now, pointers recorded for the builders */
static int parse_attr(struct cx *x)
{
	struct call *c = x->c;
	const struct fdesc *fd_tab = fields_of(c->cmd);

	/* our trace's bytes of an attr strace cannot show whole */
	size_t rn;
	unsigned char *raw = comment_blob(c->comment, "attr", &rn);
	if (raw) {
		memcpy(x->raw, raw, rn < x->c->size ? rn : x->c->size);
		x->have_raw = true;
		free(raw);
	}
	if (c->arg[0] != '{')
		return 0;
	size_t l = strlen(c->arg);
	if (l < 2 || c->arg[l - 1] != '}')
		return malformed(c->ln, "unbalanced attr braces");
	c->arg[l - 1] = '\0';
	x->tail = l >= 6 && !strcmp(c->arg + l - 6, ", ...");
	x->nf = split_fields(c->arg + 1, x->f, MAX_FIELDS, "");
	if (x->nf < 0)
		return malformed(c->ln, "cannot parse the attr fields");
	if (!fd_tab) {
		x->nf = 0;        /* strace decodes it, we do not: zeros, return code only */
		return 0;
	}
	for (int i = 0; i < x->nf; i++)
		if (!strcmp(x->f[i].name, "map_fd") || !strcmp(x->f[i].name, "batch.map_fd")) {
			unsigned long long v;
			if (parse_number(x->f[i].val, &v))
				return malformed(c->ln, "map_fd=%s", x->f[i].val);
			map_view(fd_map(c->pid, (int)v), &x->mv);
		}
	for (int i = 0; i < x->nf; i++) {
		const struct fdesc *d = NULL;
		for (const struct fdesc *t = fd_tab; t->name; t++)
			if (!strcmp(t->name, x->f[i].name))
				d = t;
		if (!d)
			return malformed(c->ln, "unknown field '%s' for this command", x->f[i].name);
		char *v = x->f[i].val;
		unsigned char *dst = x->raw + d->off;
		unsigned long long num = 0;
		bool is_null = !strcmp(v, "NULL"), is_str = v[0] == '"', is_arr = v[0] == '[';
		if (!is_null && !is_str && !is_arr && d->kind != K_NAME && parse_number(v, &num))
			return malformed(c->ln, "bad value '%s' for %s", v, x->f[i].name);
		switch (d->kind) {
		case K_U32:
			*(__u32 *)dst = (__u32)num;
			if (!strcmp(d->name, "next_id") && x->f[i].out)
				x->id_out = x->f[i].out;
			if (!strcmp(d->name, "info.info_len") && x->f[i].out)
				x->info_len_out = x->f[i].out;
			if (!strcmp(d->name, "query.prog_cnt") && x->f[i].out)
				x->prog_cnt_out = x->f[i].out;
			break;
		case K_U64:
			*(__u64 *)dst = num;
			break;
		case K_FD:
			*(__u32 *)dst = (__u32)fd_map(c->pid, (int)num);
			break;
		case K_ID:
			*(__u32 *)dst = strcmp(d->name, "start_id") ?
				id_guess(cmd_kind(c->cmd), (unsigned int)num, c->ret >= 0) :
				id_map(cmd_kind(c->cmd), (unsigned int)num);
			break;
		case K_NAME:
			memset(dst, 0, 16);
			if (!is_str || unquote(v, dst, 16, NULL) < 0)
				return malformed(c->ln, "bad name %s", v);
			break;
		case K_TARGET:
		case K_PID:
			*(__u32 *)dst = (__u32)num;
			if (x->np < MAX_FIELDS)
				x->p[x->np++] = (struct pval){ d, v, num, is_null, is_str, is_arr };
			break;
		case K_PTR:
		case K_ARR:
			if (x->np < MAX_FIELDS)
				x->p[x->np++] = (struct pval){ d, v, num, is_null, is_str, is_arr };
			break;
		case K_STR: {
			void *ptr = NULL;
			if (is_null)
				break;
			if (!is_str) {
				ptr = num < 4096 ? (void *)(unsigned long)num : bad_page;
			} else {
				long n = unquote(v, NULL, 0, NULL);
				ptr = n < 0 ? NULL : buf_new(&x->bufs, (size_t)n + 1);
				if (!ptr)
					return malformed(c->ln, "bad string %s", v);
				unquote(v, ptr, (size_t)n, NULL);
			}
			*(__u64 *)dst = (unsigned long)ptr;
			if (x->np < MAX_FIELDS)
				x->p[x->np++] = (struct pval){ d, v, num, is_null, is_str, is_arr };
			break;
		}
		case K_OUT:
			break;
		}
	}
	/* pointers the builders do not handle: NULL, a bad address, or zeros */
	for (int i = 0; i < x->np; i++) {
		struct pval *p = &x->p[i];
		if (p->d->kind != K_PTR && p->d->kind != K_ARR)
			continue;
		void *ptr = p->null ? NULL : !p->str && !p->arr && p->num < 4096 ? (void *)(unsigned long)p->num :
			    buf_new(&x->bufs, 4096);
		*(__u64 *)(x->raw + p->d->off) = (unsigned long)ptr;
	}
	return 0;
}

static int replay_call(struct call *c)
{
	struct cx x;
	int rc = 0;
	size_t alloc = c->size > sizeof(union bpf_attr) ? c->size : sizeof(union bpf_attr);
	void *attr;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.count_out = -1;
	if (alloc > (1u << 20))
		alloc = 1u << 20;
	x.raw = buf_new(&x.bufs, alloc + 8);
	if (!x.raw)
		return malformed(c->ln, "out of memory");
	x.a = (union bpf_attr *)(void *)x.raw;
	attr = x.raw;
	if (c->arg_out) {
		unsigned long v;
		if (sscanf(c->arg_out, " => {batch={count=%lu}}", &v) == 1)
			x.count_out = (long)v;
	}
	if (parse_attr(&x)) {
		rc = -1;
		goto out;
	}
	if (c->arg[0] != '{') {
		unsigned long long p;
		if (!strcmp(c->arg, "NULL"))
			attr = NULL;
		else if (parse_number(c->arg, &p))
			rc = malformed(c->ln, "attr is neither {...} nor an address: '%s'", c->arg);
		else if (p < 4096)
			attr = (void *)(unsigned long)p;
		else if (fields_of(c->cmd) && c->size && c->size <= 4096 && !x.have_raw)
			attr = bad_page;           /* strace could not read it */
		else
			build_raw(&x);             /* not decoded by strace: our bytes, or inferred */
		if (rc)
			goto out;
	} else {
		switch (c->cmd) {
		case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_DELETE_ELEM:
		case BPF_MAP_GET_NEXT_KEY: case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
			rc = build_elem(&x);
			break;
		case BPF_PROG_LOAD: rc = build_prog_load(&x); break;
		case BPF_BTF_LOAD: rc = build_btf_load(&x); break;
		case BPF_PROG_TEST_RUN: rc = build_test_run(&x); break;
		case BPF_OBJ_GET_INFO_BY_FD: rc = build_info(&x); break;
		case BPF_MAP_LOOKUP_BATCH: case BPF_MAP_LOOKUP_AND_DELETE_BATCH: case BPF_MAP_UPDATE_BATCH:
		case BPF_MAP_DELETE_BATCH:
			rc = build_batch(&x);
			break;
		case BPF_LINK_CREATE: rc = build_link_create(&x); break;
		case BPF_PROG_ATTACH: case BPF_PROG_DETACH: rc = build_prog_attach(&x); break;
		case BPF_PROG_QUERY: rc = build_query(&x); break;
		case BPF_RAW_TRACEPOINT_OPEN: rc = build_raw_tp(&x); break;
		case BPF_TASK_FD_QUERY: rc = build_task_fd_query(&x); break;
		case BPF_OBJ_PIN: rc = build_obj_pin(&x); break;
		}
		if (rc)
			goto out;
		/* strace's "..." without our bytes: a non-zero last byte */
		if (x.tail && !x.have_raw && c->size && c->size <= alloc)
			x.raw[c->size - 1] |= 1;
	}

	union bpf_attr sent;
	memcpy(&sent, x.raw, sizeof(sent));
	long ret = emu_sys_bpf(c->cmd, attr, c->size);
	int before = divergences;
	check_ret(c, ret);

	if (ret >= 0 && returns_fd(c->cmd)) {
		int kind;
		unsigned int id = obj_id((int)ret, &kind);
		if (id)
			obj_of(kind, id);        /* known here, in the order this replay met it */
		if (!c->unchecked && c->ret >= 0)
			fd_set_map(c->pid, (int)c->ret, (int)ret);
		else
			real_close((int)ret);    /* the recorded call failed, or "= ?": no number to keep it under */
	}
	if (attr != x.raw || divergences > before)
		goto out;
	if (ret >= 0 && x.id_out) {
		unsigned long long rec;
		if (!parse_number(x.id_out, &rec))
			obj_bind(cmd_kind(c->cmd), (unsigned int)rec, x.a->next_id);
	}
	if (ret >= 0 && x.info_len_out) {
		unsigned long long rec;
		if (!parse_number(x.info_len_out, &rec) && rec != x.a->info.info_len)
			diverge(c->ln, "bpf(BPF_OBJ_GET_INFO_BY_FD): info_len expected %llu, got %u", rec,
				x.a->info.info_len);
	}
	if (ret >= 0 && x.prog_cnt_out) {
		unsigned long long rec;
		if (!parse_number(x.prog_cnt_out, &rec) && rec != x.a->query.prog_cnt)
			diverge(c->ln, "bpf(BPF_PROG_QUERY): prog_cnt expected %llu, got %u", rec, x.a->query.prog_cnt);
	}
	switch (c->cmd) {
	case BPF_OBJ_GET_INFO_BY_FD:
		if (ret == 0 && x.out_info && c->ret == 0) {
			/* ids: the object's id in the log's info bytes (our trace records them) is ours now */
			unsigned char rec[64];
			long n = comment_data(c->comment, "info", rec, sizeof(rec));
			enum emu_kind kind = emu_fd_kind((int)x.a->info.bpf_fd);
			size_t off = kind == EMU_KIND_BTF ? 12 : 4;     /* bpf_btf_info.id; map/prog/link: .id */
			__u32 rid, aid;
			if (kind != EMU_KIND_NONE && x.a->info.info_len >= off + 4) {
				memcpy(&aid, x.out_info + off, 4);
				struct obj *o = obj_of(kind, aid);
				if (n >= (long)(off + 4)) {
					memcpy(&rid, rec + off, 4);
					if (rid)
						obj_bind(kind, rid, aid);
				} else if (o) {
					o->queried = ++queries;     /* its id is now known to the program, not to us */
				}
			}
			post_info(&x);
			bind_info_ids(&x);
		}
		break;
	case BPF_PROG_TEST_RUN:
		if (ret == 0)
			post_test_run(&x, &sent);
		break;
	case BPF_MAP_LOOKUP_BATCH: case BPF_MAP_LOOKUP_AND_DELETE_BATCH: case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		post_batch(&x, ret);
		break;
	case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY: case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		if (ret == 0)
			post_elem(&x);
		break;
	}
out:
	for (int i = 0; i < x.nclose; i++)
		close(x.close_after[i]);
	prog_made_free(&x.made);
	for (int i = 0; i < x.bufs.n; i++)
		free(x.bufs.p[i]);
	free(x.bufs.p);
	return rc;
}

/* ---- reading the log ---- */

static int add_event(struct event e)
{
	if (nevents == cap_events) {
		size_t cap = cap_events ? 2 * cap_events : 256;
		struct event *n = realloc(events, cap * sizeof(*n));
		if (!n)
			return -1;
		events = n;
		cap_events = cap;
	}
	events[nevents++] = e;
	return 0;
}

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

/* Index just past the {...} starting at s[0], or -1 */
static long brace_end(const char *s)
{
	int depth = 0;
	for (long i = 0; s[i]; i++) {
		if (s[i] == '"') {
			for (i++; s[i] && s[i] != '"'; i++)
				if (s[i] == '\\' && s[i + 1])
					i++;
			if (!s[i])
				return -1;
		} else if (s[i] == '{' || s[i] == '[' || s[i] == '(') {
			depth++;
		} else if (s[i] == '}' || s[i] == ']' || s[i] == ')') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return -1;
}

/* Parses "bpf(CMD, ARG, SIZE) = RET[ ERRNO (msg)]" plus an optional data comment. */
static int parse_call(unsigned long ln, int pid, const char *line)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c || !(c->text = strdup(line))) {
		free(c);
		return malformed(ln, "out of memory");
	}
	c->ln = ln;
	c->pid = pid;
	if (add_event((struct event){ .type = EV_BPF, .ln = ln, .pid = pid, .c = c })) {
		free(c->text);
		free(c);
		return malformed(ln, "out of memory");
	}
	char *p = c->text + 4;
	long e = value_end(p, 0);
	if (e < 0 || p[e] != ',')
		return malformed(ln, "truncated bpf() call: no arguments");
	p[e] = '\0';
	if (!strncmp(p, "0x", 2)) {
		c->cmd = (int)strtol(p, NULL, 16);
	} else {
		c->cmd = emu_trace_cmd_value(p);
		if (c->cmd < 0)
			return malformed(ln, "unknown bpf command '%s'", p);
	}
	p += e + 1;
	while (*p == ' ')
		p++;
	e = value_end(p, 0);
	if (e < 0 || p[e] != ',')
		return malformed(ln, "truncated bpf() call: attr argument incomplete");
	p[e] = '\0';
	c->arg = p;
	if (p[0] == '{') {              /* "{batch={...}} => {batch={count=N}}": what strace saw on exit */
		long b = brace_end(p);
		if (b > 0 && p[b]) {
			c->arg_out = p + b + 1;        /* "=> {...}" */
			p[b] = '\0';
		}
	}
	p += e + 1;
	char *close = strchr(p, ')');
	if (!close)
		return malformed(ln, "truncated bpf() call: no ')'");
	*close = '\0';
	char *end;
	c->size = (unsigned int)strtoul(p, &end, 0);
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
		c->unchecked = true;
	} else {
		errno = 0;
		c->ret = strtol(p, &end, 10);
		if (end == p || errno)
			return malformed(ln, "bad return value '%s'", p);
		if (c->ret < 0) {
			char name[32];
			if (sscanf(end, " %31[A-Z0-9_]", name) != 1)
				return malformed(ln, "return -1 without an errno name");
			c->err = 0;
			for (int k = 1; k < 600 && !c->err; k++) {
				const char *n = strerrorname_np(k);
				if (n && !strcmp(n, name))
					c->err = k;
			}
			if (!c->err && !strcmp(name, "ENOTSUPP"))
				c->err = 524;
			if (!c->err)
				return malformed(ln, "unknown errno name '%s'", name);
		}
	}
	c->comment = strstr(p, "/*");
	return 0;
}

/* One log line into the event list: 0, or -1 malformed */
static int read_line(unsigned long ln, char *s)
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
	if (!strncmp(s, "+++ exited with ", 16) || !strncmp(s, "+++ killed by ", 14))
		return add_event((struct event){ .type = EV_EXIT, .ln = ln, .pid = pid }) ?
			malformed(ln, "out of memory") : 0;
	/* strace -qq leaves out the exit lines: the parent's SIGCHLD names the child */
	const char *chld = strstr(s, "si_code=CLD_");
	if (!strncmp(s, "--- SIGCHLD ", 12) && chld && strncmp(chld + 12, "STOPPED", 7) &&
	    strncmp(chld + 12, "CONTINUED", 9) && strncmp(chld + 12, "TRAPPED", 7)) {
		const char *sp = strstr(s, "si_pid=");
		if (sp && add_event((struct event){ .type = EV_EXIT, .ln = ln, .pid = atoi(sp + 7) }))
			return malformed(ln, "out of memory");
		return 0;
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
		int rc = parse_call(ln, pid, whole);
		free(whole);
		return rc;
	}
	if (!strncmp(s, "bpf(", 4))
		return parse_call(ln, pid, s);
	/* unpin and bpffs directories, when the log has them (strace -e trace=bpf,unlink,...) */
	if (!strncmp(s, "unlink(\"", 8) || !strncmp(s, "unlinkat(AT_FDCWD, \"", 20) ||
	    !strncmp(s, "rmdir(\"", 7) || !strncmp(s, "mkdir(\"", 7)) {
		char *text = strdup(s);
		if (!text || add_event((struct event){ .type = EV_PATH, .ln = ln, .pid = pid, .text = text }))
			return malformed(ln, "out of memory");
		return 0;
	}
	/* close(N) = 0 (strace -e trace=bpf,close): the fd is gone */
	int fd;
	char rest[16];
	if (sscanf(s, "close(%d) = %15s", &fd, rest) == 2 && !strcmp(rest, "0"))
		return add_event((struct event){ .type = EV_CLOSE, .ln = ln, .pid = pid, .fd = fd }) ?
			malformed(ln, "out of memory") : 0;
	/* another system call: NAME(... */
	char *q = s;
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	if (q > s && *q == '(')
		return 0;
	return malformed(ln, "not a strace line: '%.40s'", s);
}

/* ---- the first pass: what later calls use ---- */

/* A field of a call's attr as the log shows it (copied out) */
static bool call_field(const struct call *c, const char *name, unsigned long long *num, char *str, size_t slen)
{
	struct field f[MAX_FIELDS];
	if (!c->arg || c->arg[0] != '{')
		return false;
	char *copy = strdup(c->arg);
	bool found = false;
	if (!copy)
		return false;
	size_t l = strlen(copy);
	if (l >= 2 && copy[l - 1] == '}') {
		copy[l - 1] = '\0';
		int nf = split_fields(copy + 1, f, MAX_FIELDS, "");
		for (int i = 0; i < nf && !found; i++) {
			if (strcmp(f[i].name, name))
				continue;
			if (str) {
				str[0] = '\0';
				if (f[i].val[0] == '"') {
					long n = unquote(f[i].val, (unsigned char *)str, slen - 1, NULL);
					str[n < 0 ? 0 : (size_t)n < slen - 1 ? (size_t)n : slen - 1] = '\0';
				}
				found = true;
			} else {
				found = !parse_number(f[i].val, num);
			}
		}
	}
	free(copy);
	return found;
}

struct owner { int pid, rec; struct call *c; };
static struct owner *owners;
static size_t nowners, cap_owners;

static struct call *owner_of(int pid, int rec)
{
	for (size_t i = nowners; i-- > 0;)
		if (owners[i].pid == pid && owners[i].rec == rec)
			return owners[i].c;
	for (size_t i = nowners; i-- > 0;)      /* inherited */
		if (owners[i].rec == rec)
			return owners[i].c;
	return NULL;
}

static void owner_drop(int pid, int rec)
{
	for (size_t i = nowners; i-- > 0;)
		if (owners[i].pid == pid && (rec < 0 || owners[i].rec == rec))
			owners[i] = owners[--nowners];
}

static void owner_set(int pid, int rec, struct call *c)
{
	owner_drop(pid, rec);
	if (nowners == cap_owners) {
		size_t cap = cap_owners ? 2 * cap_owners : 64;
		struct owner *n = realloc(owners, cap * sizeof(*n));
		if (!n)
			return;
		owners = n;
		cap_owners = cap;
	}
	owners[nowners++] = (struct owner){ pid, rec, c };
}

static void need_use(struct call *btf, struct btf_use u)
{
	struct btf_use *n = realloc(btf->needs.uses, (btf->needs.nuses + 1) * sizeof(*n));
	if (!n)
		return;
	btf->needs.uses = n;
	n[btf->needs.nuses++] = u;
}

static bool attach_seen_ok;

static void prepass(void)
{
	for (size_t i = 0; i < nevents; i++) {
		struct event *e = &events[i];
		if (e->type == EV_CLOSE) {
			owner_drop(e->pid, e->fd);
			continue;
		}
		if (e->type == EV_EXIT) {
			owner_drop(e->pid, -1);
			continue;
		}
		if (e->type != EV_BPF)
			continue;
		struct call *c = e->c;
		bool ok = !c->unchecked && c->ret >= 0;
		unsigned long long v = 0;
		if (ok && is_attach(c->cmd))
			attach_seen_ok = true;
		if (c->cmd == BPF_MAP_CREATE && call_field(c, "btf_fd", &v, NULL, 0) && v) {
			struct call *b = owner_of(c->pid, (int)v);
			unsigned long long kid = 0, vid = 0, ks = 0, vs = 0, type = 0, max = 0, vmlinux = 0;
			call_field(c, "btf_key_type_id", &kid, NULL, 0);
			call_field(c, "btf_value_type_id", &vid, NULL, 0);
			call_field(c, "key_size", &ks, NULL, 0);
			call_field(c, "value_size", &vs, NULL, 0);
			call_field(c, "map_type", &type, NULL, 0);
			call_field(c, "max_entries", &max, NULL, 0);
			call_field(c, "btf_vmlinux_value_type_id", &vmlinux, NULL, 0);
			if (b && b->cmd == BPF_BTF_LOAD && !vmlinux) {
				bool array = type == BPF_MAP_TYPE_ARRAY;
				if (kid)
					need_use(b, (struct btf_use){ (__u32)kid, (__u32)ks, false, array });
				if (vid)
					need_use(b, (struct btf_use){ (__u32)vid, (__u32)vs, array && !kid && max == 1,
								  false });
			}
		}
		if (c->cmd == BPF_PROG_LOAD && call_field(c, "prog_btf_fd", &v, NULL, 0) && v) {
			struct call *b = owner_of(c->pid, (int)v);
			unsigned long long fi = 0;
			char name[32];
			call_field(c, "func_info_cnt", &fi, NULL, 0);
			if (b && b->cmd == BPF_BTF_LOAD && fi && call_field(c, "prog_name", NULL, name, sizeof(name))) {
				char **n = realloc(b->needs.funcs, (b->needs.nfuncs + 1) * sizeof(*n));
				if (n) {
					b->needs.funcs = n;
					n[b->needs.nfuncs] = strdup(name);
					if (n[b->needs.nfuncs])
						b->needs.nfuncs++;
				}
			}
		}
		if (c->cmd == BPF_PROG_TEST_RUN && call_field(c, "test.prog_fd", &v, NULL, 0)) {
			struct call *p = owner_of(c->pid, (int)v);
			unsigned long long r;
			if (p && p->cmd == BPF_PROG_LOAD && !p->has_retval && comment_num(c->comment, "retval", &r)) {
				p->has_retval = true;
				p->retval = (__u32)r;
			}
		}
		if (ok && (c->cmd == BPF_MAP_GET_FD_BY_ID || c->cmd == BPF_PROG_GET_FD_BY_ID ||
			   c->cmd == BPF_BTF_GET_FD_BY_ID || c->cmd == BPF_LINK_GET_FD_BY_ID)) {
			const char *f = c->cmd == BPF_MAP_GET_FD_BY_ID ? "map_id" : c->cmd == BPF_PROG_GET_FD_BY_ID ?
					"prog_id" : c->cmd == BPF_BTF_GET_FD_BY_ID ? "btf_id" : "link_id";
			if (call_field(c, f, &v, NULL, 0) && v)
				use_id(cmd_kind(c->cmd), (unsigned int)v);
		}
		if (ok && returns_fd(c->cmd))
			owner_set(c->pid, (int)c->ret, c);
	}
	free(owners);
	owners = NULL;
	nowners = cap_owners = 0;
}

static void free_events(void)
{
	for (size_t i = 0; i < nevents; i++) {
		struct call *c = events[i].c;
		free(events[i].text);
		if (!c)
			continue;
		for (size_t k = 0; k < c->needs.nfuncs; k++)
			free(c->needs.funcs[k]);
		free(c->needs.funcs);
		free(c->needs.uses);
		free(c->text);
		free(c);
	}
	free(events);
	events = NULL;
	nevents = cap_events = 0;
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
	if ((r < 0) != (rec < 0))
		diverge(ln, "%.*s: expected %ld, got %d", (int)(q - s - 1), s, rec, r < 0 ? -errno : r);
	return 0;
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
		"  LOG is a BPFEMU_TRACE/record log or strace's (-f, -o, -t, -s, <unfinished ...>,\n"
		"  signals, exits and other syscalls are read as strace writes them). Every call\n"
		"  is re-issued on the engine; recorded fds and ids map to this replay's; return\n"
		"  values and errnos are checked, and what the log carries of the results:\n"
		"  returned keys and values, info structs, test run retval and output data,\n"
		"  batch counts. A log whose attach calls succeeded is replayed with\n"
		"  BPFEMU_ATTACH=inert; a target fd the log never made (a cgroup, a perf\n"
		"  event) gets a stand-in. An fd number the log gives again, close() and a\n"
		"  task's exit (when the log has them) close the replay's fd.\n"
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
		"  - values: the bytes at that address, else zeros; batch updates add the\n"
		"    smallest absent keys, batch deletes remove the first present ones.\n"
		"  - arrays of other objects (perf event, program, cgroup arrays, arrays of\n"
		"    maps): an update takes the lowest slot this replay left empty, a delete\n"
		"    or lookup the lowest it filled; the value of a successful update is a\n"
		"    perf event opened then (needs perf_event_open: root on Debian), the\n"
		"    task's latest program or map, the cgroup root.\n"
		"  - entries the kernel's programs wrote: a recorded success that needs an\n"
		"    entry the replayed hash lacks gets one (smallest absent key, zeros), and\n"
		"    a lookup batch that returned N entries has the map filled to N.\n"
		"  - a bpffs directory a recorded pin needs (mkdir is not in the log).\n"
		"  - a BTF cut at -s: one holding every type id later calls use (map key and\n"
		"    value types of the recorded sizes, a DATASEC for global data, PTR\n"
		"    fillers) and a static FUNC per program loaded with func_info on it,\n"
		"    padded to the recorded size; a bad magic when the load failed (EINVAL).\n"
		"  - a program (instructions are never shown): the recorded type, name,\n"
		"    license, attach type, BTF and instruction count, one subprogram per\n"
		"    func_info record, line_info at their starts; it returns the retval of\n"
		"    its first test run the log records. A failed load gets a failing one:\n"
		"    EACCES (an uninitialized register), EINVAL (an unknown opcode), EFAULT.\n"
		"  - an id the log never tied to an object (OBJ_GET_INFO_BY_FD's info is not\n"
		"    printed): the object created, in this replay's creation order, between\n"
		"    those bound to the next lower and higher recorded ids, preferring the one\n"
		"    whose info was asked for last; a recorded failure keeps an unused id.\n"
		"  - the attr of a call strace prints as a pointer: PROG_BIND_MAP the task's\n"
		"    latest program and map, ITER_CREATE its latest link, LINK_DETACH its\n"
		"    latest link of a type that gives the recorded outcome (0: detachable).\n"
		"  - strace's \"...\" (non-zero attr bytes past what it decodes): the last byte.\n"
		"  An inferred call is still checked: an outcome it cannot reach (E2BIG on a\n"
		"  hash that is not full) is a divergence. The summary counts what was inferred.\n"
		"\n"
		"  Exit status: 0 all results match, 1 divergence, 2 usage, 3 malformed log.\n");
}

static void summary_item(bool *first, unsigned long n, const char *one, const char *many)
{
	if (!n)
		return;
	printf("%s%lu %s", *first ? " (" : ", ", n, n == 1 ? one : many);
	*first = false;
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

	/* the whole log first: a malformed line stops before anything runs, and
	 * what later lines use (BTF types, test run results) is known early */
	char *line = NULL;
	size_t cap = 0;
	unsigned long ln = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		ln++;
		if (read_line(ln, line)) {
			rc = EXIT_MALFORMED;
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	for (int i = 0; i < MAX_PIDS; i++) {
		free(pend[i].text);
		pend[i].text = NULL;
	}
	if (rc) {
		free_events();
		return rc;
	}
	prepass();

	/* a fresh state root unless one was given: the log's pins must not collide */
	if (!root && !mkdtemp(tmp)) {
		fprintf(stderr, "bpfemu: replay: mkdtemp: %s\n", strerror(errno));
		free_events();
		return 1;
	}
	setenv("BPFEMU_ROOT", root ? root : tmp, 1);
	unsetenv("BPFEMU_TRACE");
	/* attach calls that succeeded were made on a kernel, or with BPFEMU_ATTACH=inert */
	if (attach_seen_ok)
		setenv("BPFEMU_ATTACH", "inert", 1);
	else
		unsetenv("BPFEMU_ATTACH");
	bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (size_t i = 0; i < nevents && !rc; i++) {
		struct event *e = &events[i];
		int before = divergences;
		switch (e->type) {
		case EV_BPF:
			if (replay_call(e->c))
				rc = EXIT_MALFORMED;
			break;
		case EV_PATH:
			if (replay_path_call(e->ln, e->text))
				rc = EXIT_MALFORMED;
			break;
		case EV_CLOSE:
			fd_forget(e->pid, e->fd);
			break;
		case EV_EXIT:
			fd_forget_pid(e->pid);
			break;
		}
		if (divergences > before && !keep_going)
			break;
	}
	free_events();
	if (!root)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc)
		return rc;
	if (divergences) {
		fprintf(stderr, "bpfemu: replay: %d divergence%s\n", divergences, divergences == 1 ? "" : "s");
		return EXIT_DIVERGED;
	}
	printf("bpfemu: replay: %s: %lu lines, all bpf() results match", log_name, ln);
	bool first = true;
	summary_item(&first, inferred, "key", "keys");
	summary_item(&first, batch_keys_inferred, "batch key", "batch keys");
	summary_item(&first, entries_added, "map entry", "map entries");
	summary_item(&first, values_inferred, "fd value", "fd values");
	summary_item(&first, dirs_made, "bpffs directory", "bpffs directories");
	summary_item(&first, ids_guessed, "id", "ids");
	summary_item(&first, btfs_made, "BTF", "BTFs");
	summary_item(&first, progs_made, "program", "programs");
	summary_item(&first, attrs_inferred, "attr", "attrs");
	if (!first)
		printf(" inferred)");
	putchar('\n');
	return 0;
}
