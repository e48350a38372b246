/* SPDX-License-Identifier: MIT */
/*
 * emu/trace.c: BPFEMU_TRACE=FILE writes one line per bpf() call in the syntax
 * strace 6.1 prints for the same call (`strace -e trace=bpf`), so a trace from
 * the emulator and a log from the kernel compare line by line.
 *
 * Decoding follows what strace 6.1 prints, worked out by running it on the
 * kernel: which fields each command shows, and how many of them depending on
 * the size argument; flags and types by name; strings quoted and escaped the
 * strace way; pointers as hex, NULL for zero; fds as numbers; "old => new" for
 * the output fields strace shows on exit; `= RET` or `= -1 ENAME (Message)`
 * starting at column 40. Key and value bytes, which strace cannot show, go in
 * a trailing comment (` /\* key="\x01..." value="\x02..." *\/`) that
 * `bpfemu replay` reads back.
 *
 * This file reads union bpf_attr for printing only (sys.c stays the only
 * reader that acts on it). Every line is formatted in memory and written with
 * one write(2) to a file opened O_APPEND, so threads and processes sharing the
 * trace neither interleave nor lose lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "map.h"
#include "trace.h"
#include "os.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define ATTR_OFF(f) offsetof(union bpf_attr, f)
#define MAX_STRLEN 32u                  /* strace -s default */
#define MAX_BLOB (16u << 20)            /* larger buffers are left out of the comment */

/* ---- the output line ---- */

struct line {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->oom)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 512;
		while (cap < l->len + n + 1)
			cap *= 2;
		char *p = realloc(l->p, cap);
		if (!p) {
			l->oom = true;
			return;
		}
		l->p = p;
		l->cap = cap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

static void __attribute__((format(printf, 2, 3))) putf(struct line *l, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(l, buf, MIN((size_t)n, sizeof(buf) - 1));
}

/* ---- names (strace 6.1's spelling; values it has no name for print as hex) ---- */

static const char *const cmd_names[] = {
	"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
	"BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET", "BPF_PROG_ATTACH",
	"BPF_PROG_DETACH", "BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID", "BPF_MAP_GET_NEXT_ID",
	"BPF_PROG_GET_FD_BY_ID", "BPF_MAP_GET_FD_BY_ID", "BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY",
	"BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD", "BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY",
	"BPF_MAP_LOOKUP_AND_DELETE_ELEM", "BPF_MAP_FREEZE", "BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH",
	"BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH", "BPF_LINK_CREATE",
	"BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID", "BPF_ENABLE_STATS",
	"BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP",
};

static const char *const map_type_names[] = {
	"UNSPEC", "HASH", "ARRAY", "PROG_ARRAY", "PERF_EVENT_ARRAY", "PERCPU_HASH", "PERCPU_ARRAY",
	"STACK_TRACE", "CGROUP_ARRAY", "LRU_HASH", "LRU_PERCPU_HASH", "LPM_TRIE", "ARRAY_OF_MAPS",
	"HASH_OF_MAPS", "DEVMAP", "SOCKMAP", "CPUMAP", "XSKMAP", "SOCKHASH", "CGROUP_STORAGE",
	"REUSEPORT_SOCKARRAY", "PERCPU_CGROUP_STORAGE", "QUEUE", "STACK", "SK_STORAGE", "DEVMAP_HASH",
	"STRUCT_OPS", "RINGBUF", "INODE_STORAGE", "TASK_STORAGE", "BLOOM_FILTER", "USER_RINGBUF",
};

static const char *const prog_type_names[] = {
	"UNSPEC", "SOCKET_FILTER", "KPROBE", "SCHED_CLS", "SCHED_ACT", "TRACEPOINT", "XDP", "PERF_EVENT",
	"CGROUP_SKB", "CGROUP_SOCK", "LWT_IN", "LWT_OUT", "LWT_XMIT", "SOCK_OPS", "SK_SKB",
	"CGROUP_DEVICE", "SK_MSG", "RAW_TRACEPOINT", "CGROUP_SOCK_ADDR", "LWT_SEG6LOCAL", "LIRC_MODE2",
	"SK_REUSEPORT", "FLOW_DISSECTOR", "CGROUP_SYSCTL", "RAW_TRACEPOINT_WRITABLE", "CGROUP_SOCKOPT",
	"TRACING", "STRUCT_OPS", "EXT", "LSM", "SK_LOOKUP", "SYSCALL",
};

static const char *const attach_type_names[] = {
	"CGROUP_INET_INGRESS", "CGROUP_INET_EGRESS", "CGROUP_INET_SOCK_CREATE", "CGROUP_SOCK_OPS",
	"SK_SKB_STREAM_PARSER", "SK_SKB_STREAM_VERDICT", "CGROUP_DEVICE", "SK_MSG_VERDICT",
	"CGROUP_INET4_BIND", "CGROUP_INET6_BIND", "CGROUP_INET4_CONNECT", "CGROUP_INET6_CONNECT",
	"CGROUP_INET4_POST_BIND", "CGROUP_INET6_POST_BIND", "CGROUP_UDP4_SENDMSG", "CGROUP_UDP6_SENDMSG",
	"LIRC_MODE2", "FLOW_DISSECTOR", "CGROUP_SYSCTL", "CGROUP_UDP4_RECVMSG", "CGROUP_UDP6_RECVMSG",
	"CGROUP_GETSOCKOPT", "CGROUP_SETSOCKOPT", "TRACE_RAW_TP", "TRACE_FENTRY", "TRACE_FEXIT",
	"MODIFY_RETURN", "LSM_MAC", "TRACE_ITER", "CGROUP_INET4_GETPEERNAME", "CGROUP_INET6_GETPEERNAME",
	"CGROUP_INET4_GETSOCKNAME", "CGROUP_INET6_GETSOCKNAME", "XDP_DEVMAP", "CGROUP_INET_SOCK_RELEASE",
	"XDP_CPUMAP", "SK_LOOKUP", "XDP", "SK_SKB_VERDICT", "SK_REUSEPORT_SELECT",
	"SK_REUSEPORT_SELECT_OR_MIGRATE", "PERF_EVENT", "TRACE_KPROBE_MULTI", "LSM_CGROUP",
};

struct flag { unsigned long long bit; const char *name; };

static const struct flag map_flags[] = {
	{ 1u << 0, "BPF_F_NO_PREALLOC" }, { 1u << 1, "BPF_F_NO_COMMON_LRU" }, { 1u << 2, "BPF_F_NUMA_NODE" },
	{ 1u << 3, "BPF_F_RDONLY" }, { 1u << 4, "BPF_F_WRONLY" }, { 1u << 5, "BPF_F_STACK_BUILD_ID" },
	{ 1u << 6, "BPF_F_ZERO_SEED" }, { 1u << 7, "BPF_F_RDONLY_PROG" }, { 1u << 8, "BPF_F_WRONLY_PROG" },
	{ 1u << 9, "BPF_F_CLONE" }, { 1u << 10, "BPF_F_MMAPABLE" }, { 1u << 11, "BPF_F_PRESERVE_ELEMS" },
	{ 1u << 12, "BPF_F_INNER_MAP" },
};
static const struct flag prog_flags[] = {
	{ 1u << 0, "BPF_F_STRICT_ALIGNMENT" }, { 1u << 1, "BPF_F_ANY_ALIGNMENT" },
	{ 1u << 2, "BPF_F_TEST_RND_HI32" }, { 1u << 3, "BPF_F_TEST_STATE_FREQ" }, { 1u << 4, "BPF_F_SLEEPABLE" },
};
static const struct flag attach_flags[] = {
	{ 1u << 0, "BPF_F_ALLOW_OVERRIDE" }, { 1u << 1, "BPF_F_ALLOW_MULTI" }, { 1u << 2, "BPF_F_REPLACE" },
};
static const struct flag query_flags[] = { { 1u << 0, "BPF_F_QUERY_EFFECTIVE" } };
static const struct flag test_run_flags[] = {
	{ 1u << 0, "BPF_F_TEST_RUN_ON_CPU" }, { 1u << 1, "BPF_F_TEST_XDP_LIVE_FRAMES" },
};
static const struct flag kprobe_multi_flags[] = { { 1u << 0, "BPF_F_KPROBE_MULTI_RETURN" } };
static const char *const fd_type_names[] = {
	"RAW_TRACEPOINT", "TRACEPOINT", "KPROBE", "KRETPROBE", "UPROBE", "URETPROBE",
};
static const struct flag file_flags[] = { { 1u << 3, "BPF_F_RDONLY" }, { 1u << 4, "BPF_F_WRONLY" } };
static const struct flag lookup_flags[] = { { 1u << 2, "BPF_F_LOCK" } };

/* strace's xlat of a value: NAME, or 0xN followed by a comment with the unknown placeholder */
static void put_xval(struct line *l, unsigned long long v, const char *const *names, size_t n,
		     const char *prefix, const char *unknown)
{
	if (v < n && names[v])
		putf(l, "%s%s", prefix, names[v]);
	else
		putf(l, "%#llx /* %s */", v, unknown);
}

/* strace's printflags: known bits joined by |, the rest as hex; 0 as "0" (or zero_name) */
static void put_flags(struct line *l, unsigned long long v, const struct flag *f, size_t n,
		      const char *zero_name, const char *unknown)
{
	unsigned long long rest = v;
	bool any = false;

	if (!v) {
		puts_(l, zero_name ? zero_name : "0");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (v & f[i].bit) {
			putf(l, "%s%s", any ? "|" : "", f[i].name);
			rest &= ~f[i].bit;
			any = true;
		}
	}
	if (!any)
		putf(l, "%#llx /* %s */", v, unknown);
	else if (rest)
		putf(l, "|%#llx", rest);
}

static void put_addr(struct line *l, unsigned long long a)
{
	if (a)
		putf(l, "%#llx", a);
	else
		puts_(l, "NULL");
}

/* strace's string_quote: printable ASCII as is, \" \\ \t \n \v \f \r, the
 * rest in octal (three digits when an octal digit follows); hex forces \xHH. */
static void put_quoted(struct line *l, const unsigned char *s, size_t n, bool hex)
{
	put(l, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		char b[8];
		if (hex) {
			snprintf(b, sizeof(b), "\\x%02x", c);
		} else if (c == '"' || c == '\\') {
			b[0] = '\\', b[1] = (char)c, b[2] = 0;
		} else if (c >= ' ' && c <= 0x7e) {
			b[0] = (char)c, b[1] = 0;
		} else if (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
			b[0] = '\\', b[1] = "tnvfr"[c == '\t' ? 0 : c == '\n' ? 1 : c == '\v' ? 2 : c == '\f' ? 3 : 4];
			b[2] = 0;
		} else if (i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7') {
			snprintf(b, sizeof(b), "\\%03o", c);
		} else {
			snprintf(b, sizeof(b), "\\%o", c);
		}
		puts_(l, b);
	}
	put(l, "\"", 1);
}

/* A fixed-size char array field (PRINT_FIELD_CSTRING_SZ): up to the NUL, or all n bytes and "..." */
static void put_cstring_sz(struct line *l, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	if (len == n && n)
		len = n - 1;   /* strace keeps room for the terminator it did not find */
	put_quoted(l, (const unsigned char *)s, len, false);
	if (!memchr(s, '\0', n))
		puts_(l, "...");
}

/* A user string (printstr/printpath): NULL, the address as hex if unreadable,
 * else quoted. limit is strace's -s (0 for paths: no cut); len >= 0 bounds
 * the buffer (log_buf/log_size). Unterminated strings end in "...". */
static void put_ustr(struct line *l, unsigned long long addr, size_t limit, long long len)
{
	size_t size, shown;

	if (!addr) {
		puts_(l, "NULL");
		return;
	}
	/* one byte more than shown: a NUL right after the cut means nothing was cut */
	size = limit ? limit + 1 : 4096;
	if (len >= 0 && (unsigned long long)len < size)
		size = (size_t)len;
	if (!size) {
		puts_(l, "\"\"");
		return;
	}
	char *buf = malloc(size);
	if (!buf) {
		l->oom = true;
		return;
	}
	long n = emu_strncpy_from_user(buf, (const void *)(unsigned long)addr, size);
	if (n == -EFAULT) {
		putf(l, "%#llx", addr);
		free(buf);
		return;
	}
	shown = limit && size > limit ? limit : size;
	put_quoted(l, (const unsigned char *)buf, n >= 0 ? (size_t)n : shown, false);
	if (n < 0)
		puts_(l, "...");
	free(buf);
}

/* ---- per-command decoders (strace 6.1's field order and size breaks) ---- */

struct dec {
	struct line *l;
	const struct emu_trace_call *t;
	const union bpf_attr *a;        /* as on entry */
	const union bpf_attr *after;    /* as on exit (output fields) */
	unsigned int len;               /* min(size, what we hold) */
	unsigned int attr_size;         /* strace's struct size: non-zero bytes past it print ", ..." */
	long ret;
	size_t max_strlen;              /* strace's -s */
	bool after_failed;              /* decoding output fields of a call that failed */
	char post[48];                  /* printed after the attr's closing brace */
};

static size_t trace_strlen = MAX_STRLEN;

#define SEP(d) puts_((d)->l, ", ")

/* strace's print_array (abbreviated: at most -s elements, then "...") */
typedef void (*elem_fn)(struct dec *d, const void *elem);

static void put_array(struct dec *d, unsigned long long addr, unsigned long long nmemb, size_t esize, elem_fn fn)
{
	struct line *l = d->l;
	unsigned char elem[16];

	if (!addr) {
		puts_(l, "NULL");
		return;
	}
	if (!nmemb) {
		puts_(l, "[]");
		return;
	}
	unsigned long long size = nmemb * esize, end = addr + size;
	if (end <= addr || size / esize != nmemb) {
		putf(l, "%#llx", addr);
		return;
	}
	unsigned long long abbrev_end = d->max_strlen < nmemb ? addr + esize * d->max_strlen : end;
	unsigned long long cur;
	for (cur = addr; cur < end; cur += esize) {
		if (cur != addr)
			puts_(l, ", ");
		/* strace's tfetch_mem: on exit from a failed call, nothing is read */
		if ((d->after_failed) || emu_copy_from_user(elem, (const void *)(unsigned long)cur, esize)) {
			if (cur == addr)
				putf(l, "%#llx", cur);
			else
				putf(l, "... /* %#llx */", cur);
			break;
		}
		if (cur == addr)
			puts_(l, "[");
		if (cur >= abbrev_end) {
			puts_(l, "...");
			cur = end;
			break;
		}
		fn(d, elem);
	}
	if (cur != addr)
		puts_(l, "]");
}

static void elem_u32(struct dec *d, const void *e)
{
	__u32 v;
	memcpy(&v, e, 4);
	putf(d->l, "%u", v);
}

static void elem_x64(struct dec *d, const void *e)
{
	__u64 v;
	memcpy(&v, e, 8);
	if (v)
		putf(d->l, "%#llx", (unsigned long long)v);
	else
		puts_(d->l, "0");
}

static void elem_str(struct dec *d, const void *e)
{
	__u64 v;
	memcpy(&v, e, 8);
	put_ustr(d->l, v, d->max_strlen, -1);
}

static void elem_iter_map(struct dec *d, const void *e)
{
	__u32 v;
	memcpy(&v, e, 4);
	putf(d->l, "{map={map_fd=%d}}", (int)v);
}

/* PRINT_FIELD_X: hex with 0x, or 0 */
static void put_hex(struct line *l, unsigned long long v)
{
	if (v)
		putf(l, "%#llx", v);
	else
		puts_(l, "0");
}

static void dec_map_create(struct dec *d)
{
	const union bpf_attr *a = d->a;
	struct line *l = d->l;

	puts_(l, "map_type=");
	put_xval(l, a->map_type, map_type_names, ARRAY_SIZE(map_type_names), "BPF_MAP_TYPE_", "BPF_MAP_TYPE_???");
	putf(l, ", key_size=%u, value_size=%u, max_entries=%u", a->key_size, a->value_size, a->max_entries);
	if (d->len <= ATTR_OFF(map_flags))
		return;
	puts_(l, ", map_flags=");
	put_flags(l, a->map_flags, map_flags, ARRAY_SIZE(map_flags), NULL, "BPF_F_???");
	if (d->len <= ATTR_OFF(inner_map_fd))
		return;
	putf(l, ", inner_map_fd=%d", (int)a->inner_map_fd);
	if (d->len <= ATTR_OFF(numa_node))
		return;
	if (a->map_flags & BPF_F_NUMA_NODE) {
		if (a->numa_node == (__u32)-1)
			putf(l, ", numa_node=%u /* NUMA_NO_NODE */", a->numa_node);
		else
			putf(l, ", numa_node=%u", a->numa_node);
	}
	if (d->len <= ATTR_OFF(map_name))
		return;
	puts_(l, ", map_name=");
	put_cstring_sz(l, a->map_name, MIN(sizeof(a->map_name), d->len - ATTR_OFF(map_name)));
	if (d->len <= ATTR_OFF(map_ifindex))
		return;
	char ifname[IF_NAMESIZE];
	if (a->map_ifindex && if_indextoname(a->map_ifindex, ifname))
		putf(l, ", map_ifindex=if_nametoindex(\"%s\")", ifname);
	else
		putf(l, ", map_ifindex=%u", a->map_ifindex);
	if (d->len <= ATTR_OFF(btf_fd))
		return;
	putf(l, ", btf_fd=%d, btf_key_type_id=%u, btf_value_type_id=%u", (int)a->btf_fd, a->btf_key_type_id,
	     a->btf_value_type_id);
	if (d->len <= ATTR_OFF(btf_vmlinux_value_type_id))
		return;
	putf(l, ", btf_vmlinux_value_type_id=%u", a->btf_vmlinux_value_type_id);
	if (d->len <= ATTR_OFF(map_extra))
		return;
	putf(l, ", map_extra=%llu", (unsigned long long)a->map_extra);
}

static void dec_elem(struct dec *d)         /* LOOKUP_ELEM, LOOKUP_AND_DELETE_ELEM */
{
	const union bpf_attr *a = d->a;
	putf(d->l, "map_fd=%d, key=", (int)a->map_fd);
	put_addr(d->l, a->key);
	puts_(d->l, ", value=");
	put_addr(d->l, a->value);
	if (d->len <= ATTR_OFF(flags))
		return;
	puts_(d->l, ", flags=");
	put_flags(d->l, a->flags, lookup_flags, ARRAY_SIZE(lookup_flags), "BPF_ANY", "BPF_???");
}

static void dec_update(struct dec *d)
{
	static const char *const names[] = { "BPF_ANY", "BPF_NOEXIST", "BPF_EXIST", NULL, "BPF_F_LOCK" };
	const union bpf_attr *a = d->a;
	putf(d->l, "map_fd=%d, key=", (int)a->map_fd);
	put_addr(d->l, a->key);
	puts_(d->l, ", value=");
	put_addr(d->l, a->value);
	puts_(d->l, ", flags=");
	put_xval(d->l, a->flags, names, ARRAY_SIZE(names), "", "BPF_???");
}

static void dec_delete(struct dec *d)
{
	putf(d->l, "map_fd=%d, key=", (int)d->a->map_fd);
	put_addr(d->l, d->a->key);
}

static void dec_next_key(struct dec *d)
{
	dec_delete(d);
	puts_(d->l, ", next_key=");
	put_addr(d->l, d->a->next_key);
}

static void dec_freeze(struct dec *d) { putf(d->l, "map_fd=%d", (int)d->a->map_fd); }

static void dec_prog_load(struct dec *d)
{
	const union bpf_attr *a = d->a;
	struct line *l = d->l;

	puts_(l, "prog_type=");
	put_xval(l, a->prog_type, prog_type_names, ARRAY_SIZE(prog_type_names), "BPF_PROG_TYPE_",
		 "BPF_PROG_TYPE_???");
	putf(l, ", insn_cnt=%u, insns=", a->insn_cnt);
	put_addr(l, a->insns);
	puts_(l, ", license=");
	put_ustr(l, a->license, d->max_strlen, -1);
	if (d->len <= ATTR_OFF(log_level))
		return;
	putf(l, ", log_level=%u, log_size=%u, log_buf=", a->log_level, a->log_size);
	if (d->t->log_in)
		puts_(l, d->t->log_in);
	else
		put_ustr(l, a->log_buf, d->max_strlen, a->log_size);
	if (d->len <= ATTR_OFF(kern_version))
		return;
	putf(l, ", kern_version=KERNEL_VERSION(%u, %u, %u)", a->kern_version >> 16, (a->kern_version >> 8) & 0xff,
	     a->kern_version & 0xff);
	if (d->len <= ATTR_OFF(prog_flags))
		return;
	puts_(l, ", prog_flags=");
	put_flags(l, a->prog_flags, prog_flags, ARRAY_SIZE(prog_flags), NULL, "BPF_F_???");
	if (d->len <= ATTR_OFF(prog_name))
		return;
	puts_(l, ", prog_name=");
	put_cstring_sz(l, a->prog_name, MIN(sizeof(a->prog_name), d->len - ATTR_OFF(prog_name)));
	if (d->len <= ATTR_OFF(prog_ifindex))
		return;
	char ifname[IF_NAMESIZE];
	if (a->prog_ifindex && if_indextoname(a->prog_ifindex, ifname))
		putf(l, ", prog_ifindex=if_nametoindex(\"%s\")", ifname);
	else
		putf(l, ", prog_ifindex=%u", a->prog_ifindex);
	if (d->len <= ATTR_OFF(expected_attach_type))
		return;
	puts_(l, ", expected_attach_type=");
	put_xval(l, a->expected_attach_type, attach_type_names, ARRAY_SIZE(attach_type_names), "BPF_", "BPF_???");
	if (d->len <= ATTR_OFF(prog_btf_fd))
		return;
	putf(l, ", prog_btf_fd=%d, func_info_rec_size=%u, func_info=", (int)a->prog_btf_fd, a->func_info_rec_size);
	put_addr(l, a->func_info);
	putf(l, ", func_info_cnt=%u, line_info_rec_size=%u, line_info=", a->func_info_cnt, a->line_info_rec_size);
	put_addr(l, a->line_info);
	putf(l, ", line_info_cnt=%u", a->line_info_cnt);
	if (d->len <= ATTR_OFF(attach_btf_id))
		return;
	putf(l, ", attach_btf_id=%u", a->attach_btf_id);
	if (d->len <= ATTR_OFF(attach_prog_fd))
		return;
	putf(l, ", attach_prog_fd=%d", (int)a->attach_prog_fd);
	if (d->len <= ATTR_OFF(fd_array))
		return;
	puts_(l, ", fd_array=");
	put_addr(l, a->fd_array);
}

static void dec_obj(struct dec *d)          /* OBJ_PIN, OBJ_GET */
{
	puts_(d->l, "pathname=");
	put_ustr(d->l, d->a->pathname, 0, -1);
	putf(d->l, ", bpf_fd=%d", (int)d->a->bpf_fd);
	if (d->len <= ATTR_OFF(file_flags))
		return;
	puts_(d->l, ", file_flags=");
	put_flags(d->l, d->a->file_flags, file_flags, ARRAY_SIZE(file_flags), NULL, "BPF_F_???");
}

static void dec_prog_attach(struct dec *d)
{
	const union bpf_attr *a = d->a;
	putf(d->l, "target_fd=%d, attach_bpf_fd=%d, attach_type=", (int)a->target_fd, (int)a->attach_bpf_fd);
	put_xval(d->l, a->attach_type, attach_type_names, ARRAY_SIZE(attach_type_names), "BPF_", "BPF_???");
	puts_(d->l, ", attach_flags=");
	put_flags(d->l, a->attach_flags, attach_flags, ARRAY_SIZE(attach_flags), NULL, "BPF_F_???");
	if (d->len <= ATTR_OFF(replace_bpf_fd))
		return;
	putf(d->l, ", replace_bpf_fd=%d", (int)a->replace_bpf_fd);
}

static void dec_prog_detach(struct dec *d)
{
	putf(d->l, "target_fd=%d, attach_type=", (int)d->a->target_fd);
	put_xval(d->l, d->a->attach_type, attach_type_names, ARRAY_SIZE(attach_type_names), "BPF_", "BPF_???");
}

static void dec_test_run(struct dec *d)
{
	const union bpf_attr *a = d->a;
	struct line *l = d->l;
	putf(l, "test={prog_fd=%d, retval=%u, data_size_in=%u, data_size_out=%u, data_in=", (int)a->test.prog_fd,
	     a->test.retval, a->test.data_size_in, a->test.data_size_out);
	put_addr(l, a->test.data_in);
	puts_(l, ", data_out=");
	put_addr(l, a->test.data_out);
	putf(l, ", repeat=%u, duration=%u", a->test.repeat, a->test.duration);
	if (d->len > ATTR_OFF(test.ctx_size_in)) {
		putf(l, ", ctx_size_in=%u, ctx_size_out=%u, ctx_in=", a->test.ctx_size_in, a->test.ctx_size_out);
		put_addr(l, a->test.ctx_in);
		puts_(l, ", ctx_out=");
		put_addr(l, a->test.ctx_out);
	}
	if (d->len > ATTR_OFF(test.flags)) {
		puts_(l, ", flags=");
		put_flags(l, a->test.flags, test_run_flags, ARRAY_SIZE(test_run_flags), NULL, "BPF_F_???");
		putf(l, ", cpu=%u", a->test.cpu);
	}
	if (d->len > ATTR_OFF(test.batch_size))
		putf(l, ", batch_size=%u", a->test.batch_size);
	puts_(l, "}");
}

static void dec_next_id(struct dec *d)
{
	putf(d->l, "start_id=%u, next_id=%u", d->a->start_id, d->a->next_id);
	if (d->after && d->after->next_id != d->a->next_id)
		putf(d->l, " => %u", d->after->next_id);
	if (d->len <= ATTR_OFF(open_flags))
		return;
	puts_(d->l, ", open_flags=");
	put_flags(d->l, d->after ? d->after->open_flags : d->a->open_flags, file_flags, ARRAY_SIZE(file_flags), NULL,
		  "BPF_F_???");
}

static void dec_fd_by_id(struct dec *d, const char *what)   /* PROG_, MAP_GET_FD_BY_ID */
{
	putf(d->l, "%s=%u, next_id=%u", what, d->a->start_id, d->a->next_id);
	if (d->len <= ATTR_OFF(open_flags))
		return;
	puts_(d->l, ", open_flags=");
	put_flags(d->l, d->a->open_flags, file_flags, ARRAY_SIZE(file_flags), NULL, "BPF_F_???");
}
static void dec_prog_fd_by_id(struct dec *d) { dec_fd_by_id(d, "prog_id"); }
static void dec_map_fd_by_id(struct dec *d) { dec_fd_by_id(d, "map_id"); }
static void dec_btf_fd_by_id(struct dec *d) { putf(d->l, "btf_id=%u", d->a->btf_id); }
static void dec_link_fd_by_id(struct dec *d) { putf(d->l, "link_id=%u", d->a->link_id); }

static void dec_info(struct dec *d)
{
	putf(d->l, "info={bpf_fd=%d, info_len=%u", (int)d->a->info.bpf_fd, d->a->info.info_len);
	if (d->after && d->after->info.info_len != d->a->info.info_len)
		putf(d->l, " => %u", d->after->info.info_len);
	puts_(d->l, ", info=");
	put_addr(d->l, d->after ? d->after->info.info : d->a->info.info);
	puts_(d->l, "}");
}

static void dec_prog_query(struct dec *d)
{
	const union bpf_attr *a = d->a, *x = d->after ? d->after : d->a;
	putf(d->l, "query={target_fd=%d, attach_type=", (int)a->query.target_fd);
	put_xval(d->l, a->query.attach_type, attach_type_names, ARRAY_SIZE(attach_type_names), "BPF_", "BPF_???");
	puts_(d->l, ", query_flags=");
	put_flags(d->l, a->query.query_flags, query_flags, ARRAY_SIZE(query_flags), NULL, "BPF_F_QUERY_???");
	puts_(d->l, ", attach_flags=");
	put_flags(d->l, a->query.attach_flags, attach_flags, ARRAY_SIZE(attach_flags), NULL, "BPF_F_???");
	puts_(d->l, ", prog_ids=");
	/* on exit: the array as it is now, prog_cnt as given "=> " as returned */
	d->after_failed = d->ret < 0;
	put_array(d, x->query.prog_ids, x->query.prog_cnt, 4, elem_u32);
	d->after_failed = false;
	puts_(d->l, ", prog_cnt=");
	if (a->query.prog_cnt != x->query.prog_cnt)
		putf(d->l, "%u => ", a->query.prog_cnt);
	putf(d->l, "%u}", x->query.prog_cnt);
}

static void dec_raw_tp(struct dec *d)
{
	puts_(d->l, "raw_tracepoint={name=");
	put_ustr(d->l, d->a->raw_tracepoint.name, d->max_strlen, 128);
	putf(d->l, ", prog_fd=%d}", (int)d->a->raw_tracepoint.prog_fd);
}

/* printstrn: the first -s bytes, "..." when there are more (no NUL rule) */
static void put_ustrn(struct line *l, unsigned long long addr, size_t limit, unsigned long long len)
{
	if (!addr) {
		puts_(l, "NULL");
		return;
	}
	size_t size = len < limit + 1 ? (size_t)len : limit + 1;
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf || emu_copy_from_user(buf, (const void *)(unsigned long)addr, size)) {
		putf(l, "%#llx", addr);
		free(buf);
		return;
	}
	put_quoted(l, buf, size > limit ? limit : size, false);
	if (len > limit)
		puts_(l, "...");
	free(buf);
}

static void dec_btf_load(struct dec *d)
{
	const union bpf_attr *a = d->a;
	puts_(d->l, "btf=");
	put_ustrn(d->l, a->btf, d->max_strlen, a->btf_size);
	puts_(d->l, ", btf_log_buf=");
	put_addr(d->l, a->btf_log_buf);
	putf(d->l, ", btf_size=%u, btf_log_size=%u, btf_log_level=%u", a->btf_size, a->btf_log_size,
	     a->btf_log_level);
}

static void dec_task_fd_query(struct dec *d)
{
	const union bpf_attr *a = d->a, *x = d->after ? d->after : d->a;
	putf(d->l, "task_fd_query={pid=%d, fd=%d, flags=%u, buf_len=%u", (int)a->task_fd_query.pid,
	     (int)a->task_fd_query.fd, a->task_fd_query.flags, a->task_fd_query.buf_len);
	if (x->task_fd_query.buf_len != a->task_fd_query.buf_len)
		putf(d->l, " => %u", x->task_fd_query.buf_len);
	puts_(d->l, ", buf=");
	put_ustr(d->l, x->task_fd_query.buf, d->max_strlen, MIN(a->task_fd_query.buf_len, x->task_fd_query.buf_len));
	putf(d->l, ", prog_id=%u, fd_type=", x->task_fd_query.prog_id);
	put_xval(d->l, x->task_fd_query.fd_type, fd_type_names, ARRAY_SIZE(fd_type_names), "BPF_FD_TYPE_",
		 "BPF_FD_TYPE_???");
	puts_(d->l, ", probe_offset=");
	put_hex(d->l, x->task_fd_query.probe_offset);
	puts_(d->l, ", probe_addr=");
	put_hex(d->l, x->task_fd_query.probe_addr);
	puts_(d->l, "}");
}

/* the batch commands: the attr on entry, then " => {batch={count=N}}" if the count changed */
static void dec_batch(struct dec *d)
{
	const union bpf_attr *a = d->a;
	int cmd = d->t->cmd;
	puts_(d->l, "batch={");
	if (cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH) {
		puts_(d->l, "in_batch=");
		put_addr(d->l, a->batch.in_batch);
		puts_(d->l, ", out_batch=");
		put_addr(d->l, a->batch.out_batch);
		puts_(d->l, ", ");
	}
	puts_(d->l, "keys=");
	put_addr(d->l, a->batch.keys);
	if (cmd != BPF_MAP_DELETE_BATCH) {
		puts_(d->l, ", values=");
		put_addr(d->l, a->batch.values);
	}
	putf(d->l, ", count=%u, map_fd=%d, elem_flags=", a->batch.count, (int)a->batch.map_fd);
	put_flags(d->l, a->batch.elem_flags, lookup_flags, ARRAY_SIZE(lookup_flags), "BPF_ANY", "BPF_???");
	puts_(d->l, ", flags=");
	put_hex(d->l, a->batch.flags);
	puts_(d->l, "}");
	if (d->after && d->after->batch.count != a->batch.count)
		snprintf(d->post, sizeof(d->post), " => {batch={count=%u}}", d->after->batch.count);
}

static void dec_link_create(struct dec *d)
{
	const union bpf_attr *a = d->a;
	struct line *l = d->l;
	putf(l, "link_create={prog_fd=%d, target_fd=%d, attach_type=", (int)a->link_create.prog_fd,
	     (int)a->link_create.target_fd);
	put_xval(l, a->link_create.attach_type, attach_type_names, ARRAY_SIZE(attach_type_names), "BPF_", "BPF_???");
	puts_(l, ", flags=");
	put_hex(l, a->link_create.flags);
	if (d->len <= ATTR_OFF(link_create.target_btf_id)) {
		puts_(l, "}");
		return;
	}
	switch (a->link_create.attach_type) {
	case 0:
		if (a->link_create.target_btf_id)
			putf(l, ", target_btf_id=%u", a->link_create.target_btf_id);
		d->attr_size = offsetofend(union bpf_attr, link_create.target_btf_id);
		break;
	case BPF_TRACE_ITER:
		puts_(l, ", iter_info=");
		put_array(d, a->link_create.iter_info, a->link_create.iter_info_len, 4, elem_iter_map);
		putf(l, ", iter_info_len=%u", a->link_create.iter_info_len);
		d->attr_size = offsetofend(union bpf_attr, link_create.iter_info_len);
		break;
	case BPF_PERF_EVENT:
		puts_(l, ", perf_event={bpf_cookie=");
		put_hex(l, a->link_create.perf_event.bpf_cookie);
		puts_(l, "}");
		d->attr_size = offsetofend(union bpf_attr, link_create.perf_event.bpf_cookie);
		break;
	case BPF_TRACE_KPROBE_MULTI:
		puts_(l, ", kprobe_multi={flags=");
		put_flags(l, a->link_create.kprobe_multi.flags, kprobe_multi_flags, ARRAY_SIZE(kprobe_multi_flags), NULL,
			  "BPF_F_???");
		putf(l, ", cnt=%u, syms=", a->link_create.kprobe_multi.cnt);
		put_array(d, a->link_create.kprobe_multi.syms, a->link_create.kprobe_multi.cnt, 8, elem_str);
		puts_(l, ", addrs=");
		put_array(d, a->link_create.kprobe_multi.addrs, a->link_create.kprobe_multi.cnt, 8, elem_x64);
		puts_(l, ", cookies=");
		put_array(d, a->link_create.kprobe_multi.cookies, a->link_create.kprobe_multi.cnt, 8, elem_x64);
		puts_(l, "}");
		d->attr_size = offsetofend(union bpf_attr, link_create.kprobe_multi.cookies);
		break;
	default:
		d->attr_size = offsetofend(union bpf_attr, link_create.flags);
	}
	puts_(l, "}");
}

static void dec_link_update(struct dec *d)
{
	const union bpf_attr *a = d->a;
	putf(d->l, "link_update={link_fd=%d, new_prog_fd=%d, flags=", (int)a->link_update.link_fd,
	     (int)a->link_update.new_prog_fd);
	put_flags(d->l, a->link_update.flags, attach_flags, ARRAY_SIZE(attach_flags), NULL, "BPF_F_???");
	if (a->link_update.flags & BPF_F_REPLACE)
		putf(d->l, ", old_prog_fd=%d", (int)a->link_update.old_prog_fd);
	puts_(d->l, "}");
}

struct decoder {
	void (*fn)(struct dec *d);
	unsigned int attr_size;         /* strace 6.1's struct size: non-zero bytes past it print ", ..." */
};

#define D(cmd, f, last) [cmd] = { f, offsetofend(union bpf_attr, last) }
static const struct decoder decoders[] = {
	D(BPF_MAP_CREATE, dec_map_create, map_extra),
	D(BPF_MAP_LOOKUP_ELEM, dec_elem, flags),
	D(BPF_MAP_UPDATE_ELEM, dec_update, flags),
	D(BPF_MAP_DELETE_ELEM, dec_delete, key),
	D(BPF_MAP_GET_NEXT_KEY, dec_next_key, next_key),
	D(BPF_PROG_LOAD, dec_prog_load, fd_array),
	D(BPF_OBJ_PIN, dec_obj, file_flags),
	D(BPF_OBJ_GET, dec_obj, file_flags),
	D(BPF_PROG_ATTACH, dec_prog_attach, replace_bpf_fd),
	D(BPF_PROG_DETACH, dec_prog_detach, attach_type),
	D(BPF_PROG_TEST_RUN, dec_test_run, test.batch_size),
	D(BPF_PROG_GET_NEXT_ID, dec_next_id, open_flags),
	D(BPF_MAP_GET_NEXT_ID, dec_next_id, open_flags),
	D(BPF_PROG_GET_FD_BY_ID, dec_prog_fd_by_id, open_flags),
	D(BPF_MAP_GET_FD_BY_ID, dec_map_fd_by_id, open_flags),
	D(BPF_OBJ_GET_INFO_BY_FD, dec_info, info.info),
	D(BPF_PROG_QUERY, dec_prog_query, query.prog_cnt),
	D(BPF_RAW_TRACEPOINT_OPEN, dec_raw_tp, raw_tracepoint.prog_fd),
	D(BPF_BTF_LOAD, dec_btf_load, btf_log_level),
	D(BPF_BTF_GET_FD_BY_ID, dec_btf_fd_by_id, btf_id),
	D(BPF_TASK_FD_QUERY, dec_task_fd_query, task_fd_query.probe_addr),
	D(BPF_MAP_LOOKUP_AND_DELETE_ELEM, dec_elem, flags),
	D(BPF_MAP_FREEZE, dec_freeze, map_fd),
	D(BPF_BTF_GET_NEXT_ID, dec_next_id, open_flags),
	D(BPF_MAP_LOOKUP_BATCH, dec_batch, batch.flags),
	D(BPF_MAP_LOOKUP_AND_DELETE_BATCH, dec_batch, batch.flags),
	D(BPF_MAP_UPDATE_BATCH, dec_batch, batch.flags),
	D(BPF_MAP_DELETE_BATCH, dec_batch, batch.flags),
	D(BPF_LINK_CREATE, dec_link_create, link_create.kprobe_multi.cookies),
	D(BPF_LINK_UPDATE, dec_link_update, link_update.old_prog_fd),
	D(BPF_LINK_GET_FD_BY_ID, dec_link_fd_by_id, link_id),
	D(BPF_LINK_GET_NEXT_ID, dec_next_id, open_flags),
};
#undef D

/* Any non-zero byte of the attr past attr_size (up to size)? */
static bool extra_data(const struct emu_trace_call *t, unsigned int attr_size)
{
	unsigned char buf[256];
	for (unsigned int off = attr_size; off < t->size;) {
		unsigned int n = MIN((unsigned int)sizeof(buf), t->size - off);
		if (off + n <= EMU_TRACE_ATTR)
			memcpy(buf, t->before + off, n);
		else if (emu_copy_from_user(buf, (const char *)t->uattr + off, n))
			return false;
		for (unsigned int i = 0; i < n; i++)
			if (buf[i])
				return true;
		off += n;
	}
	return false;
}

/* ---- what strace cannot show, for replay: a trailing comment ----
 *
 * " /\* name="\xHH..." name=N ... *\/": key and value bytes of element calls,
 * a program's instructions, func_info, line_info and fd_array entries, the
 * BTF blob, a test run's input and output (retval, data and context), the
 * info struct before and after OBJ_GET_INFO_BY_FD, the batch buffers, and the
 * whole attr when strace prints it as a pointer or cuts it with "...". */

struct comment {
	struct line *l;
	bool open;
};

static void c_sep(struct comment *c)
{
	puts_(c->l, c->open ? " " : " /* ");
	c->open = true;
}

static void c_bytes(struct comment *c, const char *name, const void *p, size_t n)
{
	c_sep(c);
	putf(c->l, "%s=", name);
	put_quoted(c->l, p, n, true);
}

static void c_data(struct comment *c, const char *name, unsigned long long addr, size_t n)
{
	if (!addr || !n || n > MAX_BLOB)
		return;
	unsigned char *buf = malloc(n);
	if (!buf)
		return;
	if (!emu_copy_from_user(buf, (const void *)(unsigned long)addr, n))
		c_bytes(c, name, buf, n);
	free(buf);
}

static void c_num(struct comment *c, const char *name, unsigned long long v)
{
	c_sep(c);
	putf(c->l, "%s=%llu", name, v);
}

/* a user string strace cut at -s: the whole of it */
static void c_str(struct comment *c, const char *name, unsigned long long addr, size_t limit, size_t max)
{
	char buf[4096];
	if (!addr)
		return;
	long n = emu_strncpy_from_user(buf, (const void *)(unsigned long)addr, MIN(max, sizeof(buf)));
	if (n < 0 || (size_t)n <= limit)
		return;
	c_bytes(c, name, buf, (size_t)n);
}

/* How many fd_array entries a program's instructions index: map and map
 * value ld_imm64 by index, and kfunc calls naming a module BTF by offset. */
static __u32 fd_array_len(const struct bpf_insn *in, __u32 cnt)
{
	__u32 n = 0;
	for (__u32 i = 0; i < cnt; i++) {
		if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			if ((in[i].src_reg == BPF_PSEUDO_MAP_IDX || in[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE) &&
			    in[i].imm >= 0 && (__u32)in[i].imm < 65536 && (__u32)in[i].imm + 1 > n)
				n = (__u32)in[i].imm + 1;
			i++;
		} else if (in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == 2 /* BPF_PSEUDO_KFUNC_CALL */ &&
			   in[i].off > 0 && (__u32)in[i].off + 1 > n) {
			n = (__u32)in[i].off + 1;
		}
	}
	return n;
}

static void comment_prog_load(struct comment *c, const union bpf_attr *a, unsigned int len)
{
	size_t n = (size_t)a->insn_cnt * 8;
	if (a->insn_cnt && n <= MAX_BLOB) {
		struct bpf_insn *in = malloc(n);
		if (in && !emu_copy_from_user(in, (const void *)(unsigned long)a->insns, n)) {
			c_bytes(c, "insns", in, n);
			__u32 fds = len > ATTR_OFF(fd_array) && a->fd_array ? fd_array_len(in, a->insn_cnt) : 0;
			c_data(c, "fd_array", a->fd_array, (size_t)fds * 4);
		}
		free(in);
	}
	if (len > ATTR_OFF(prog_btf_fd)) {
		c_data(c, "func_info", a->func_info, (size_t)a->func_info_cnt * a->func_info_rec_size);
		c_data(c, "line_info", a->line_info, (size_t)a->line_info_cnt * a->line_info_rec_size);
	}
	c_str(c, "license", a->license, trace_strlen, 4096);
}

static void comment_test_run(struct comment *c, const union bpf_attr *a, const void *uattr, unsigned int len,
			     long ret)
{
	union bpf_attr x;
	c_data(c, "data_in", a->test.data_in, a->test.data_size_in);
	if (len > ATTR_OFF(test.ctx_size_in))
		c_data(c, "ctx_in", a->test.ctx_in, a->test.ctx_size_in);
	if (ret < 0 || emu_copy_from_user(&x, uattr, MIN(len, (unsigned int)sizeof(x))))
		return;
	c_num(c, "retval", x.test.retval);
	c_num(c, "data_size_out", x.test.data_size_out);
	c_data(c, "data_out", a->test.data_out, MIN(x.test.data_size_out, a->test.data_size_out));
	if (len > ATTR_OFF(test.ctx_size_out)) {
		c_num(c, "ctx_size_out", x.test.ctx_size_out);
		c_data(c, "ctx_out", a->test.ctx_out, MIN(x.test.ctx_size_out, a->test.ctx_size_out));
	}
}

/* key and value sizes of the map behind fd (0 if it is none) */
static void map_sizes(int fd, __u32 *ks, __u32 *vs)
{
	struct emu_obj *map;
	int acc;
	*ks = *vs = 0;
	if (emu_fd_get(fd, EMU_KIND_MAP, &map, &acc))
		return;
	if (map->ops) {
		*ks = emu_map_desc(map)->key_size;
		*vs = emu_map_value_size(map);
	}
	emu_obj_put(map);
}

static void comment_batch(struct comment *c, int cmd, const union bpf_attr *a, const void *uattr, unsigned int len,
			  long ret)
{
	__u32 ks, vs;
	union bpf_attr x;
	map_sizes((int)a->batch.map_fd, &ks, &vs);
	if (!ks && !vs)
		return;
	size_t tok = ks < 4 ? 4 : ks;
	if (cmd == BPF_MAP_UPDATE_BATCH || cmd == BPF_MAP_DELETE_BATCH) {
		c_data(c, "keys", a->batch.keys, (size_t)a->batch.count * ks);
		if (cmd == BPF_MAP_UPDATE_BATCH)
			c_data(c, "values", a->batch.values, (size_t)a->batch.count * vs);
		return;
	}
	c_data(c, "in_batch", a->batch.in_batch, tok);
	if ((ret < 0 && ret != -ENOENT) || emu_copy_from_user(&x, uattr, MIN(len, (unsigned int)sizeof(x))))
		return;
	__u32 cnt = MIN(x.batch.count, a->batch.count);
	c_data(c, "keys", a->batch.keys, (size_t)cnt * ks);
	c_data(c, "values", a->batch.values, (size_t)cnt * vs);
	if (cnt || ret == 0)
		c_data(c, "out_batch", a->batch.out_batch, tok);
}

static void put_comment(struct line *l, const struct emu_trace_call *t, const union bpf_attr *a, long ret,
			bool raw_attr)
{
	struct comment c = { l, false };
	__u32 ks = 0, vs = 0;
	unsigned int len = MIN(t->size, (unsigned int)sizeof(*a));

	if (raw_attr && t->readable)
		c_bytes(&c, "attr", t->before, MIN(t->size, EMU_TRACE_ATTR));
	switch (t->cmd) {
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		map_sizes((int)a->map_fd, &ks, &vs);
		c_data(&c, "key", a->key, ks);
		switch (t->cmd) {
		case BPF_MAP_UPDATE_ELEM:
			c_data(&c, "value", a->value, vs);
			break;
		case BPF_MAP_LOOKUP_ELEM:
		case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
			if (ret == 0)
				c_data(&c, "value", a->value, vs);
			break;
		case BPF_MAP_GET_NEXT_KEY:
			if (ret == 0)
				c_data(&c, "next_key", a->next_key, ks);
			break;
		}
		break;
	case BPF_PROG_LOAD:
		comment_prog_load(&c, a, len);
		break;
	case BPF_BTF_LOAD:
		if (a->btf_size > trace_strlen)
			c_data(&c, "btf", a->btf, a->btf_size);
		break;
	case BPF_PROG_TEST_RUN:
		comment_test_run(&c, a, t->uattr, len, ret);
		break;
	case BPF_RAW_TRACEPOINT_OPEN:
		c_str(&c, "name", a->raw_tracepoint.name, trace_strlen, 128);
		break;
	case BPF_OBJ_GET_INFO_BY_FD: {
		/* the struct as given (the pointers and sizes inside it matter), and as returned */
		__u32 nz = t->info_in_len, out_len = 0;
		while (nz && !t->info_in[nz - 1])
			nz--;
		if (nz)
			c_bytes(&c, "info_in", t->info_in, nz);
		if (ret == 0 && !emu_copy_from_user(&out_len, (const char *)t->uattr + ATTR_OFF(info.info_len), 4)) {
			c_data(&c, "info", a->info.info, MIN(out_len, 4096u));
			/* a program's map ids: replay ties the log's ids to its own with them */
			struct bpf_prog_info pi;
			__u32 n = MIN(out_len, (__u32)sizeof(pi));
			memset(&pi, 0, sizeof(pi));
			if (emu_fd_kind((int)a->info.bpf_fd) == EMU_KIND_PROG &&
			    n >= offsetofend(struct bpf_prog_info, map_ids) &&
			    !emu_copy_from_user(&pi, (const void *)(unsigned long)a->info.info, n) && pi.map_ids &&
			    t->info_in_len >= offsetofend(struct bpf_prog_info, nr_map_ids)) {
				__u32 asked;
				memcpy(&asked, t->info_in + offsetof(struct bpf_prog_info, nr_map_ids), 4);
				c_data(&c, "map_ids", pi.map_ids, (size_t)MIN(asked, pi.nr_map_ids) * 4);
			}
		}
		break;
	}
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		comment_batch(&c, t->cmd, a, t->uattr, len, ret);
		break;
	}
	if (c.open)
		puts_(l, " */");
}

/* ---- the trace file ---- */

/* The trace fd sits high (F_DUPFD from TRACE_FD_MIN) so the traced program's
 * fds are numbered as without tracing; a program may still close or reuse it
 * (close_range, dup2), so each line first checks it is still our file. */
#define TRACE_FD_MIN 600
static int trace_fd = -1;
static dev_t trace_dev;
static ino_t trace_ino;
static pid_t leader;
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

static int trace_open(void)
{
	const struct emu_config *c = emu_config();
	struct stat st;
	int fd = emu_os_open(c->trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return fd;
	int high = emu_os_fcntl(fd, F_DUPFD_CLOEXEC, TRACE_FD_MIN);
	if (high >= 0) {
		emu_os_close(fd);
		fd = high;
	}
	int err = emu_os_fstat(fd, &st);
	if (err) {
		emu_os_close(fd);
		return err;
	}
	trace_dev = st.st_dev;
	trace_ino = st.st_ino;
	return fd;
}

static void trace_init(void)
{
	const struct emu_config *c = emu_config();
	if (!c->trace[0])
		return;
	int fd = trace_open();
	if (fd < 0) {
		char msg[PATH_MAX + 64];
		int n = snprintf(msg, sizeof(msg), "bpfemu: BPFEMU_TRACE=%s: %s\n", c->trace, strerror(-fd));
		if (n > 0)
			(void)emu_os_write(STDERR_FILENO, msg, MIN((size_t)n, sizeof(msg) - 1));
		return;
	}
	leader = c->trace_pid > 0 ? c->trace_pid : emu_caller_pid();
	const char *s = getenv("BPFEMU_TRACE_STRSIZE");     /* strace -s */
	if (s && *s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (!*end && v <= (1ul << 24))
			trace_strlen = v;
	}
	__atomic_store_n(&trace_fd, fd, __ATOMIC_RELEASE);
}

/* Our trace fd, reopened if the program closed or replaced it; -1 if lost. */
static int trace_fd_checked(void)
{
	struct stat st;
	int fd = __atomic_load_n(&trace_fd, __ATOMIC_ACQUIRE);
	if (fd >= 0 && !emu_os_fstat(fd, &st) && st.st_dev == trace_dev && st.st_ino == trace_ino)
		return fd;
	pthread_mutex_lock(&trace_lock);
	fd = trace_fd;
	if (fd < 0 || emu_os_fstat(fd, &st) || st.st_dev != trace_dev || st.st_ino != trace_ino) {
		fd = trace_open();       /* the old number is not ours any more: leave it alone */
		__atomic_store_n(&trace_fd, fd < 0 ? -1 : fd, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&trace_lock);
	return fd;
}

/* ---- strace -f's "[pid N] " rule ----
 *
 * strace -f writing to stderr (no -o) puts "[pid N] " (N the thread id) in
 * front of every line while it traces more than one task, the first thread
 * included, and of none while it traces one. We count the tasks of the traced
 * tree we can see: the threads of this process, the leader (BPFEMU_TRACE_PID,
 * set by `bpfemu record` and `run --trace`; else this process) if we are not
 * it and it has not exited, and live children of this process. */

/* field of /proc/PID/stat after the command name (0 = state); -1 if unreadable */
static long proc_stat_field(pid_t pid, int field, char *state)
{
	char path[40], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (emu_os_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	if (state)
		*state = *p;
	for (int i = 0; i < field; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return strtol(p, NULL, 10);
}

static bool pid_live(pid_t pid)
{
	char st = 0;
	return proc_stat_field(pid, 0, &st) >= 0 && st != 'Z' && st != 'X';
}

/* A live (not yet exited) child of this process: the first waitable child
 * tells nothing when it is a zombie, so then /proc says. */
static bool live_child(void)
{
	pid_t self = emu_caller_pid();
	if (self == getpid()) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0)
			return false;           /* ECHILD: no children at all */
		if (si.si_pid == 0)
			return true;            /* children, none exited */
	}
	struct emu_os_dir *d = emu_os_opendir("/proc", NULL);
	bool found = false;
	if (!d)
		return false;
	for (const struct emu_os_dirent *e; !found && (e = emu_os_readdir(d));) {
		char st = 0;
		if (e->name[0] < '1' || e->name[0] > '9')
			continue;
		pid_t pid = (pid_t)strtol(e->name, NULL, 10);
		found = proc_stat_field(pid, 1, &st) == self && st != 'Z' && st != 'X';   /* field 1: ppid */
	}
	emu_os_closedir(d);
	return found;
}

static bool several_tasks(void)
{
	/* field 17 after the name: num_threads */
	pid_t self = emu_caller_pid();
	if (proc_stat_field(self, 17, NULL) > 1)
		return true;
	if (self != leader && (kill(leader, 0) == 0 || errno == EPERM) && pid_live(leader))
		return true;
	return live_child();
}

bool emu_trace_enter(struct emu_trace_call *t, int cmd, const void *uattr, unsigned int size)
{
	static bool ready;     /* trace_init has run: no pthread_once call per bpf() */
	if (__builtin_expect(!__atomic_load_n(&ready, __ATOMIC_ACQUIRE), 0)) {
		pthread_once(&trace_once, trace_init);
		__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	}
	if (__atomic_load_n(&trace_fd, __ATOMIC_RELAXED) < 0)
		return false;
	t->cmd = cmd;
	t->uattr = uattr;
	t->size = size;
	t->info_in = NULL;
	t->info_in_len = 0;
	t->log_in = NULL;
	memset(t->before, 0, sizeof(t->before));
	t->readable = size && !emu_copy_from_user(t->before, uattr, MIN(size, EMU_TRACE_ATTR));
	if (t->readable && cmd == BPF_PROG_LOAD && size > ATTR_OFF(log_buf)) {
		/* strace prints log_buf as it is on entry: the call writes it */
		const union bpf_attr *a = (const union bpf_attr *)(const void *)t->before;
		struct line l = { 0 };
		put_ustr(&l, a->log_buf, trace_strlen, a->log_size);
		t->log_in = l.oom ? NULL : l.p;
		if (l.oom)
			free(l.p);
	}
	if (t->readable && cmd == BPF_OBJ_GET_INFO_BY_FD && size >= offsetofend(union bpf_attr, info.info)) {
		/* the info struct as given: the call overwrites it */
		const union bpf_attr *a = (const union bpf_attr *)(const void *)t->before;
		__u32 n = MIN(a->info.info_len, 4096u);
		t->info_in = n ? malloc(n) : NULL;
		if (t->info_in && !emu_copy_from_user(t->info_in, (const void *)(unsigned long)a->info.info, n))
			t->info_in_len = n;
	}
	return true;
}

static const char *errno_name(int e, char *buf, size_t len)
{
	switch (e) {
	case 512: return "ERESTARTSYS";
	case 513: return "ERESTARTNOINTR";
	case 514: return "ERESTARTNOHAND";
	case 515: return "ENOIOCTLCMD";
	case 516: return "ERESTART_RESTARTBLOCK";
	case 524: return "ENOTSUPP";
	}
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, len, "%d", e);
	return buf;
}

void emu_trace_exit(struct emu_trace_call *t, long ret)
{
	struct line l = { 0 };
	int saved = errno;
	pid_t tid = emu_caller_tid();
	const struct decoder *dec = t->cmd >= 0 && (size_t)t->cmd < ARRAY_SIZE(decoders) && decoders[t->cmd].fn ?
		&decoders[t->cmd] : NULL;
	bool decoded = dec && t->readable && t->size <= 4096;   /* strace reads at most a page */
	bool raw_attr = !decoded;
	union bpf_attr before;

	memset(&before, 0, sizeof(before));
	memcpy(&before, t->before, MIN(t->size, (unsigned int)sizeof(before)));
	if (several_tasks())
		putf(&l, "[pid %5u] ", (unsigned int)tid);
	puts_(&l, "bpf(");
	if (t->cmd >= 0 && (size_t)t->cmd < ARRAY_SIZE(cmd_names))
		puts_(&l, cmd_names[t->cmd]);
	else
		putf(&l, "%#x /* BPF_??? */", (unsigned int)t->cmd);
	puts_(&l, ", ");
	if (!decoded) {
		put_addr(&l, (unsigned long)t->uattr);
	} else {
		union bpf_attr after;
		unsigned int len = MIN(t->size, (unsigned int)sizeof(before));
		bool have_after;
		memset(&after, 0, sizeof(after));
		have_after = !emu_copy_from_user(&after, t->uattr, len);
		struct dec d = { &l, t, &before, have_after ? &after : NULL, len, dec->attr_size, ret, trace_strlen, false, "" };
		puts_(&l, "{");
		dec->fn(&d);
		if (extra_data(t, d.attr_size)) {
			puts_(&l, ", ...");
			raw_attr = true;
		}
		puts_(&l, "}");
		puts_(&l, d.post);
	}
	putf(&l, ", %u)", t->size);
	/* strace starts the return value at column 40 */
	if (l.len < 40) {
		static const char spaces[] = "                                        ";
		put(&l, spaces, 40 - l.len);
	} else {
		put(&l, " ", 1);
	}
	if (ret >= 0) {
		putf(&l, "= %ld", ret);
	} else {
		char num[16];
		int e = (int)-ret;
		putf(&l, "= -1 %s (%s)", errno_name(e, num, sizeof(num)), strerror(e));
	}
	if (t->readable)
		put_comment(&l, t, &before, ret, raw_attr);
	put(&l, "\n", 1);
	int fd = l.oom ? -1 : trace_fd_checked();
	if (fd >= 0)
		(void)emu_os_write(fd, l.p, l.len);   /* a full disk loses trace lines, never the call */
	free(l.p);
	free(t->info_in);
	t->info_in = NULL;
	free(t->log_in);
	t->log_in = NULL;
	errno = saved;
}

/* ---- names back to values (bpfemu replay) ---- */

static bool name_in(const char *name, const char *prefix, const char *const *names, size_t n,
		    unsigned long long *v)
{
	size_t pl = strlen(prefix);
	if (strncmp(name, prefix, pl))
		return false;
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(name + pl, names[i])) {
			*v = i;
			return true;
		}
	return false;
}

static bool flag_in(const char *name, const struct flag *f, size_t n, unsigned long long *v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, f[i].name)) {
			*v = f[i].bit;
			return true;
		}
	return false;
}

bool emu_trace_name_value(const char *name, unsigned long long *v)
{
	static const char *const upd[] = { "BPF_ANY", "BPF_NOEXIST", "BPF_EXIST" };
	return name_in(name, "", upd, ARRAY_SIZE(upd), v) ||
	       name_in(name, "BPF_MAP_TYPE_", map_type_names, ARRAY_SIZE(map_type_names), v) ||
	       name_in(name, "BPF_PROG_TYPE_", prog_type_names, ARRAY_SIZE(prog_type_names), v) ||
	       name_in(name, "BPF_", attach_type_names, ARRAY_SIZE(attach_type_names), v) ||
	       flag_in(name, map_flags, ARRAY_SIZE(map_flags), v) ||
	       flag_in(name, prog_flags, ARRAY_SIZE(prog_flags), v) ||
	       flag_in(name, lookup_flags, ARRAY_SIZE(lookup_flags), v) ||
	       flag_in(name, attach_flags, ARRAY_SIZE(attach_flags), v) ||
	       flag_in(name, query_flags, ARRAY_SIZE(query_flags), v) ||
	       flag_in(name, test_run_flags, ARRAY_SIZE(test_run_flags), v) ||
	       flag_in(name, kprobe_multi_flags, ARRAY_SIZE(kprobe_multi_flags), v) ||
	       name_in(name, "BPF_FD_TYPE_", fd_type_names, ARRAY_SIZE(fd_type_names), v);
}

int emu_trace_cmd_value(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (!strcmp(name, cmd_names[i]))
			return (int)i;
	return -1;
}

const char *emu_trace_cmd_name(int cmd)
{
	return cmd >= 0 && (size_t)cmd < ARRAY_SIZE(cmd_names) ? cmd_names[cmd] : "BPF_???";
}
