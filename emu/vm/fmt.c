/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/fmt.c: the printf-like helpers and the string helpers:
 * bpf_trace_printk, bpf_trace_vprintk, bpf_snprintf, bpf_strtol,
 * bpf_strtoul, bpf_strncmp.
 *
 * Formats follow bpf_bprintf_prepare() of Linux 6.18: the same checks (an
 * ASCII printable format, "%[0 +-][width]" then d i u x X with l or ll, c,
 * s, p, pK px ps pS pB pks pus, pI4 pi4 pI6 pi6; -EINVAL for anything else
 * or too few arguments), the same 512-byte budget for the arguments' binary
 * form (-ENOSPC past it; strings are cut to what is left), then the output
 * of the kernel's bstr_printf(): the full length is returned, the text cut
 * to the buffer. Strings (%s, %pks, %pus) and IP addresses are read from the
 * run's regions only; where the kernel's fault-tolerant copy would fail they
 * read as empty (an address: zeros). Pointers print as the kernel prints
 * them with hashing off: %p, %pK and %px as 16 hex digits (the kernel hashes
 * %p and %pK: those differ), %ps %pS %pB as 0x and the address (no symbol
 * matches a user address).
 *
 * trace_printk's events go to the state root's trace buffer (emu/tracefs.c)
 * in trace_pipe's line format: "<comm>-<pid> [<cpu>] <flags> <s>.<us>:
 * bpf_trace_printk: <text>" and the event's newline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vm_int.h"

#define MAX_BPRINTF_BUF 1024u
#define MAX_BPRINTF_BIN_ARGS 512u
#define MAX_BPRINTF_VARARGS 12u

/* the kernel's ctype: printable is 0x20..0x7e, space is \t..\r, ' ' and 0xa0 */
static bool k_isprint(unsigned char c) { return c >= 0x20 && c <= 0x7e; }
static bool k_isspace(unsigned char c) { return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0; }
static bool k_ispunct(unsigned char c)
{
	return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e) ||
	       (c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7;
}

/* a string argument read from the run's regions, at most size - 1 bytes; its length + 1 */
static size_t copy_str(struct vm_run *run, __u64 p, char *out, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		const struct vm_region *r = vm_region_find(run, p + n, 1);
		if (!r || !(r->perm & VM_RD))
			break;
		char c = *(const char *)(uintptr_t)(p + n);
		if (!c)
			break;
		out[n++] = c;
	}
	out[n] = '\0';
	return n + 1;
}

struct out {
	char *buf;
	size_t size, len;              /* len: what would have been written */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(o->buf && o->len < o->size ? o->buf + o->len : NULL, o->buf && o->len < o->size ? o->size - o->len : 0,
			  fmt, ap);
	va_end(ap);
	if (w > 0)
		o->len += (size_t)w;
}

/*
 * bpf_bprintf_prepare() + bstr_printf(): fmt up to fmt_size bytes (its NUL
 * must be there), nargs arguments; writes at most size bytes of out (with the
 * NUL when size > 0); the length of the whole text, or -EINVAL / -ENOSPC.
 */
int vm_bprintf(struct vm_run *run, const char *fmt, size_t fmt_size, const __u64 *args, __u32 nargs, char *buf,
	       size_t size)
{
	const char *end = memchr(fmt, 0, fmt_size);
	if (!end)
		return -EINVAL;
	struct out o = { buf, size, 0 };
	size_t budget = nargs ? MAX_BPRINTF_BIN_ARGS : 0, used = 0;
	__u32 spec = 0;
	for (const char *f = fmt; f < end; f++) {
		unsigned char c = (unsigned char)*f;
		if ((!k_isprint(c) && !k_isspace(c)) || c > 0x7f)
			return -EINVAL;
		if (c != '%') {
			put(&o, "%c", c);
			continue;
		}
		if (f[1] == '%') {
			put(&o, "%%");
			f++;
			continue;
		}
		if (spec >= nargs)
			return -EINVAL;
		const char *start = f++;
		while (*f == '0' || *f == '+' || *f == '-' || *f == ' ')
			f++;
		if (*f >= '1' && *f <= '9')
			while (*f >= '0' && *f <= '9')
				f++;
		char sb[40];
		size_t flen = (size_t)(f - start);
		if (flen > sizeof(sb) - 8)
			return -EINVAL;
		memcpy(sb, start, flen);
		__u64 a = args[spec];
		size_t argsz = 4;
		if (*f == 'p') {
			unsigned char nx = (unsigned char)f[1];
			argsz = 8;
			if (nx == 0 || k_isspace(nx) || k_ispunct(nx)) {
				memcpy(sb + flen, "llx", 4);
				put(&o, "%016llx", (unsigned long long)a);
				goto counted;
			}
			if ((nx == 'k' || nx == 'u') && f[2] == 's') {
				f += 2;
				goto str;
			}
			if (nx == 'K' || nx == 'x' || nx == 's' || nx == 'S') {
				f++;
				if (nx == 'K' || nx == 'x')
					put(&o, "%016llx", (unsigned long long)a);
				else
					put(&o, "0x%llx", (unsigned long long)a);
				goto counted;
			}
			if (nx == 'B') {
				char tmp[32];
				int w = snprintf(tmp, sizeof(tmp), "0x%llx", (unsigned long long)a);
				if (used + (size_t)w + 1 > budget)
					used = budget;
				else
					used += (size_t)w + 1;
				put(&o, "%s", tmp);
				f++;
				spec++;
				continue;
			}
			if ((nx != 'i' && nx != 'I') || (f[2] != '4' && f[2] != '6'))
				return -EINVAL;
			size_t iplen = f[2] == '4' ? 4 : 16;
			f += 2;
			if (budget - used < iplen)
				return -ENOSPC;
			unsigned char ip[16] = { 0 };
			const struct vm_region *r = vm_region_find(run, a, iplen);
			if (r && (r->perm & VM_RD))
				memcpy(ip, (const void *)(uintptr_t)a, iplen);
			char tmp[48];
			size_t tl = 0;
			if (iplen == 4)
				tl = (size_t)snprintf(tmp, sizeof(tmp), nx == 'I' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u", ip[0],
						      ip[1], ip[2], ip[3]);
			else
				for (int k = 0; k < 16; k += 2)
					tl += (size_t)snprintf(tmp + tl, sizeof(tmp) - tl,
							       nx == 'I' && k < 14 ? "%02x%02x:" : "%02x%02x", ip[k], ip[k + 1]);
			/* the kernel pre-formats it into the budget (cut there) */
			size_t room = budget - used;
			if (tl + 1 > room)
				tl = room - 1;
			tmp[tl] = '\0';
			used += tl + 1;
			put(&o, "%s", tmp);
			spec++;
			continue;
		}
		if (*f == 's') {
str:
			if (f[1] != 0 && !k_isspace((unsigned char)f[1]) && !k_ispunct((unsigned char)f[1]))
				return -EINVAL;
			if (budget == used)
				return -ENOSPC;
			char s[MAX_BPRINTF_BIN_ARGS];
			used += copy_str(run, a, s, budget - used);
			memcpy(sb + flen, "s", 2);
			put(&o, sb, s);
			spec++;
			continue;
		}
		if (*f == 'c') {
			if (budget == used)
				return -ENOSPC;
			used++;
			memcpy(sb + flen, "c", 2);
			put(&o, sb, (int)(unsigned char)a);
			spec++;
			continue;
		}
		int l = 0;
		if (*f == 'l') {
			l++;
			f++;
		}
		if (*f == 'l') {
			l++;
			f++;
		}
		if (*f != 'i' && *f != 'd' && *f != 'u' && *f != 'x' && *f != 'X')
			return -EINVAL;
		argsz = l ? 8 : 4;
		memcpy(sb + flen, "ll", 2);
		sb[flen + 2] = *f;
		sb[flen + 3] = '\0';
		bool sgn = *f == 'i' || *f == 'd';
		__u64 v = l ? a : sgn ? (__u64)(__s64)(__s32)a : (__u32)a;
		put(&o, sb, (unsigned long long)v);
counted:
		/* the binary form: 4-aligned, 4 or 8 bytes */
		used = (used + 3) & ~(size_t)3;
		if (budget - used < argsz || used > budget)
			return -ENOSPC;
		used += argsz;
		spec++;
	}
	if (buf && size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

/* ---- events ---- */

/* The irq/preempt flags column the kernel shows for an event of a test run
 * of this kind of program: the helper itself holds preemption off while it
 * formats (one in the preempt-depth digit), the test run adds what it
 * holds: XDP, skb and netfilter runs bottom halves off ('b') and migration
 * off; raw tracepoints preemption (get_cpu()); flow dissector and sk_lookup
 * preemption and migration; syscall programs, trampolines (fentry, fexit,
 * fmod_ret, struct_ops) migration. */
static const char *event_flags(const struct vm_run *run)
{
	switch (run->ctx_kind) {
	case VM_CTX_XDP:
	case VM_CTX_SKB:
	case VM_CTX_NF:
		return "b..11";
	case VM_CTX_RAW:
		return "...2.";
	case VM_CTX_FLOW:
	case VM_CTX_SK_LOOKUP:
		return "...21";
	default:
		return "...11";
	}
}

static void trace_event(struct vm_run *run, const char *msg)
{
	char comm[17], line[MAX_BPRINTF_BUF + 128];
	vm_caller_comm(comm);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int n = snprintf(line, sizeof(line), "%16s-%-7d [%03u] %s %5llu.%06llu: bpf_trace_printk: %s\n", comm,
			 (int)emu_caller_tid(), run->cpu, event_flags(run), (unsigned long long)ts.tv_sec,
			 (unsigned long long)ts.tv_nsec / 1000, msg);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	emu_trace_event(line, (size_t)n);
}

/* bpf_trace_printk(fmt, fmt_size, a1, a2, a3) */
__u64 vm_h_trace_printk(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	if (vm_mem_arg(run, r1, r2, VM_RD, "bpf_trace_printk's format"))
		return 0;
	if (!r2)
		return (__u64)-EINVAL;
	__u64 args[3] = { r3, r4, r5 };
	char msg[MAX_BPRINTF_BUF];
	int n = vm_bprintf(run, (const char *)(uintptr_t)r1, (__u32)r2, args, 3, msg, sizeof(msg));
	if (n < 0)
		return (__u64)(__s64)n;
	trace_event(run, msg);
	return (__u64)n;
}

/* the u64 array of a vprintk-like helper: -EINVAL for a bad length */
static int data_args(struct vm_run *run, __u64 data, __u32 len, __u64 *args, const char *what)
{
	if (len % 8 || len > MAX_BPRINTF_VARARGS * 8 || (len && !data))
		return -EINVAL;
	if (vm_mem_arg(run, data, len, VM_RD, what))
		return -EFAULT;
	if (len)
		memcpy(args, (const void *)(uintptr_t)data, len);
	return 0;
}

/* bpf_trace_vprintk(fmt, fmt_size, data, data_len) */
__u64 vm_h_trace_vprintk(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	__u64 args[MAX_BPRINTF_VARARGS];
	if (vm_mem_arg(run, r1, r2, VM_RD, "bpf_trace_vprintk's format"))
		return 0;
	int err = data_args(run, r3, (__u32)r4, args, "bpf_trace_vprintk's data");
	if (run->err)
		return 0;
	if (err)
		return (__u64)(__s64)err;
	if (!r2)
		return (__u64)-EINVAL;
	char msg[MAX_BPRINTF_BUF];
	int n = vm_bprintf(run, (const char *)(uintptr_t)r1, (__u32)r2, args, (__u32)r4 / 8, msg, sizeof(msg));
	if (n < 0)
		return (__u64)(__s64)n;
	trace_event(run, msg);
	return (__u64)n;
}

/* the length of a constant string (ARG_PTR_TO_CONST_STR) within the run's
 * readable regions, its NUL included; 0: no NUL there (fault recorded) */
static size_t const_str(struct vm_run *run, __u64 p, const char *what)
{
	const struct vm_region *r = vm_region_find(run, p, 1);
	if (!r || !(r->perm & VM_RD)) {
		vm_mem_arg(run, p, 1, VM_RD, what);
		return 0;
	}
	const char *s = (const char *)(uintptr_t)p;
	size_t max = (size_t)(r->lo + r->len - p);
	const char *nul = memchr(s, 0, max);
	if (!nul) {
		vm_fault(run, -EFAULT, "%s at %#llx is not NUL-terminated within %s", what, (unsigned long long)p,
			 vm_region_kind_name(r->kind));
		return 0;
	}
	return (size_t)(nul - s) + 1;
}

/* bpf_snprintf(str, str_size, fmt, data, data_len): the length with the NUL */
__u64 vm_h_snprintf(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	__u64 args[MAX_BPRINTF_VARARGS];
	__u32 size = (__u32)r2;
	if ((r1 || size) && vm_mem_arg(run, r1, size, VM_WR, "bpf_snprintf's buffer"))
		return 0;
	size_t flen = const_str(run, r3, "bpf_snprintf's format");
	if (!flen)
		return 0;
	int err = data_args(run, r4, (__u32)r5, args, "bpf_snprintf's data");
	if (run->err)
		return 0;
	if (err)
		return (__u64)(__s64)err;
	int n = vm_bprintf(run, (const char *)(uintptr_t)r3, flen, args, (__u32)r5 / 8, r1 ? (char *)(uintptr_t)r1 : NULL,
			   r1 ? size : 0);
	if (n < 0)
		return (__u64)(__s64)n;
	return (__u64)n + 1;
}

/* ---- strings ---- */

/* _parse_integer_fixup_radix() + _parse_integer() + __bpf_strtoull(): the
 * characters consumed or -errno */
static int strtoull_k(const char *buf, size_t len, __u64 flags, __u64 *res, bool *neg)
{
	unsigned int base = flags & 0x1f;
	if (!len)
		return -EINVAL;
	if ((base != 0 && base != 8 && base != 10 && base != 16) || (flags & ~(__u64)0x1f))
		return -EINVAL;
	size_t i = 0;
	while (i < len && k_isspace((unsigned char)buf[i]))
		i++;
	*neg = i < len && buf[i] == '-';
	if (*neg)
		i++;
	size_t consumed = i, cur = len - i;
	if (!cur)
		return -EINVAL;
	char str[64];
	if (cur > sizeof(str) - 1)
		cur = sizeof(str) - 1;
	memcpy(str, buf + i, cur);
	str[cur] = '\0';
	const char *s = str;
	if (base == 0) {
		if (s[0] == '0') {
			if ((s[1] | 0x20) == 'x' &&
			    ((s[2] >= '0' && s[2] <= '9') || ((s[2] | 0x20) >= 'a' && (s[2] | 0x20) <= 'f')))
				base = 16;
			else
				base = 8;
		} else {
			base = 10;
		}
	}
	if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	__u64 v = 0;
	bool overflow = false;
	size_t n = 0;
	for (;; n++) {
		unsigned int d, c = (unsigned char)s[n];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v & (~0ull << 60)) {
			if (v > (~0ull - d) / base)
				overflow = true;
		}
		v = v * base + d;
	}
	if (overflow)
		return -ERANGE;
	if (!n)
		return -EINVAL;
	*res = v;
	return (int)(consumed + (size_t)(s - str) + n);
}

/* bpf_strtol(buf, buf_len, flags, res) */
__u64 vm_h_strtol(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	if (vm_mem_arg(run, r1, r2, VM_RD, "bpf_strtol's buffer") || vm_mem_arg(run, r4, 8, VM_WR, "bpf_strtol's result"))
		return 0;
	__s64 *res = (__s64 *)(uintptr_t)r4;
	*res = 0;
	__u64 v;
	bool neg;
	int err = strtoull_k((const char *)(uintptr_t)r1, r2, r3, &v, &neg);
	if (err < 0)
		return (__u64)(__s64)err;
	if (neg) {
		if ((__s64)-v > 0)
			return (__u64)-ERANGE;
		*res = (__s64)-v;
	} else {
		if ((__s64)v < 0)
			return (__u64)-ERANGE;
		*res = (__s64)v;
	}
	return (__u64)err;
}

/* bpf_strtoul(buf, buf_len, flags, res) */
__u64 vm_h_strtoul(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	if (vm_mem_arg(run, r1, r2, VM_RD, "bpf_strtoul's buffer") || vm_mem_arg(run, r4, 8, VM_WR, "bpf_strtoul's result"))
		return 0;
	__u64 *res = (__u64 *)(uintptr_t)r4;
	*res = 0;
	__u64 v;
	bool neg;
	int err = strtoull_k((const char *)(uintptr_t)r1, r2, r3, &v, &neg);
	if (err < 0)
		return (__u64)(__s64)err;
	if (neg)
		return (__u64)-EINVAL;
	*res = v;
	return (__u64)err;
}

/* bpf_strncmp(s1, s1_sz, s2): the kernel's strncmp, -1, 0 or 1 */
__u64 vm_h_strncmp(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	if (vm_mem_arg(run, r1, (__u32)r2, VM_RD, "bpf_strncmp's s1"))
		return 0;
	size_t l2 = const_str(run, r3, "bpf_strncmp's s2");
	if (!l2)
		return 0;
	const unsigned char *a = (const unsigned char *)(uintptr_t)r1, *b = (const unsigned char *)(uintptr_t)r3;
	for (__u32 i = 0; i < (__u32)r2; i++) {
		/* s2 ends at its NUL, within its region (l2); s1 is s1_sz bytes */
		unsigned char c1 = a[i], c2 = i < l2 ? b[i] : 0;
		if (c1 != c2)
			return c1 < c2 ? (__u64)-1 : 1;
		if (!c1)
			break;
	}
	return 0;
}
