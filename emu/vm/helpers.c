/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/helpers.c: the helper table (helper_table.h, one line per helper),
 * and the helpers that are neither map (maps.c) nor packet (net.c) helpers:
 * time, randomness, the CPU, the calling task, bpf_loop, bpf_trace_printk
 * and the ring buffer.
 *
 * Every pointer a helper takes from the program is checked against the run's
 * regions first (vm_mem_arg): a helper never reads or writes memory the
 * program could not.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vm_int.h"
#include "../os.h"
#include "../helpers.h"

#define VM_HELPER(id, fn, lim) __u64 fn(struct vm_run *, __u64, __u64, __u64, __u64, __u64);
#include "helper_table.h"
#undef VM_HELPER

static const struct vm_helper table[EMU_BPF_FUNC_MAX_ID] = {
#define VM_HELPER(id, fn, lim) [id] = { fn, lim },
#include "helper_table.h"
#undef VM_HELPER
};

const struct vm_helper *vm_helper(__s32 id)
{
	return id > 0 && id < EMU_BPF_FUNC_MAX_ID && table[id].fn ? &table[id] : NULL;
}

const char *vm_helper_name(__s32 id)
{
	return id >= 0 && id < EMU_BPF_FUNC_MAX_ID && emu_helper_names[id] ? emu_helper_names[id] : "unknown";
}

/* bpf_tail_call is an instruction of its own (TAIL_CALL): the decoder never calls this */
__u64 vm_h_tail_call(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	vm_fault(run, -EINVAL, "bpf_tail_call reached as a plain helper");
	return 0;
}

/* ---- time ---- */

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

#define CLOCK_HELPER(name, clock)                                                                  \
	__u64 vm_h_##name(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)      \
	{                                                                                          \
		(void)run; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5;                       \
		return clock_ns(clock);                                                            \
	}
CLOCK_HELPER(ktime_get_ns, CLOCK_MONOTONIC)
CLOCK_HELPER(ktime_get_boot_ns, CLOCK_BOOTTIME)
CLOCK_HELPER(ktime_get_coarse_ns, CLOCK_MONOTONIC_COARSE)
CLOCK_HELPER(ktime_get_tai_ns, CLOCK_TAI)

/* ---- randomness: one generator per thread (the kernel's is per CPU) ---- */

static EMU_TLS __u64 rnd_state[2];

static __u64 rnd_next(void)
{
	if (!rnd_state[0] && !rnd_state[1]) {
		if (getrandom(rnd_state, sizeof(rnd_state), 0) != (ssize_t)sizeof(rnd_state) ||
		    (!rnd_state[0] && !rnd_state[1])) {
			rnd_state[0] = clock_ns(CLOCK_MONOTONIC) | 1;
			rnd_state[1] = (__u64)getpid() * 0x9e3779b97f4a7c15ull;
		}
	}
	/* xorshift128+ */
	__u64 s1 = rnd_state[0];
	const __u64 s0 = rnd_state[1];
	rnd_state[0] = s0;
	s1 ^= s1 << 23;
	rnd_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return rnd_state[1] + s0;
}

__u64 vm_h_get_prandom_u32(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)run; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	return (__u32)(rnd_next() >> 16);
}

/* ---- the CPU and the task ---- */

__u32 vm_current_cpu(void)
{
	int c = sched_getcpu();
	unsigned int n = emu_possible_cpus();
	return c < 0 ? 0 : (__u32)c % (n ? n : 1);
}

__u64 vm_h_get_smp_processor_id(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	return run->cpu;
}

__u64 vm_h_get_numa_node_id(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)run; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	unsigned int cpu = 0, node = 0;
	if (EMU_OS_SC(SYS_getcpu, &cpu, &node, 0, 0, 0, 0))
		node = 0;
	return node;
}

/* The calling task is the caller's (emu/caller.c): this thread under the
 * shim, the program's thread when a door serves another process. */
static bool caller_is_self(void)
{
	return emu_caller_pid() == getpid();
}

/* the caller's name (its thread's comm) */
static void caller_comm(char comm[17])
{
	memset(comm, 0, 17);
	if (caller_is_self()) {
		prctl(PR_GET_NAME, comm);
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)emu_caller_pid(), (int)emu_caller_tid());
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	long n = emu_os_read(fd, comm, 16);
	emu_os_close(fd);
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

__u64 vm_h_get_current_pid_tgid(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)run; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	return (__u64)(__u32)emu_caller_pid() << 32 | (__u32)emu_caller_tid();
}

/* the real uid and gid (a door's caller: from its /proc status) */
__u64 vm_h_get_current_uid_gid(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)run; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	__u32 uid = (__u32)getuid(), gid = (__u32)getgid();
	if (!caller_is_self()) {
		char path[64], line[256];
		snprintf(path, sizeof(path), "/proc/%d/status", (int)emu_caller_pid());
		struct emu_os_lines *f = emu_os_lines_open(path, NULL);
		while (f && emu_os_lines_get(line, sizeof(line), f)) {
			unsigned int v;
			if (sscanf(line, "Uid: %u", &v) == 1)
				uid = v;
			else if (sscanf(line, "Gid: %u", &v) == 1)
				gid = v;
		}
		emu_os_lines_close(f);
	}
	return (__u64)gid << 32 | uid;
}

/* bpf_get_current_comm(buf, size): the name, NUL-terminated and padded with zeros */
__u64 vm_h_get_current_comm(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	char comm[17];
	if (vm_mem_arg(run, r1, r2, VM_WR, "bpf_get_current_comm's buffer"))
		return 0;
	if (!r2)
		return (__u64)-EINVAL;
	caller_comm(comm);
	char *buf = (char *)(uintptr_t)r1;
	size_t n = strnlen(comm, 16);
	if (n >= r2)
		n = r2 - 1;
	memcpy(buf, comm, n);
	memset(buf + n, 0, r2 - n);
	return 0;
}

/* ---- bpf_loop(nr_loops, callback, ctx, flags) ---- */

__u64 vm_h_loop(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	const struct vm_insn *fn;
	if (!vm_func_entry(run->prog, r2, &fn)) {
		vm_fault(run, -EFAULT, "bpf_loop: R2 %#llx is not a function of the program", (unsigned long long)r2);
		return 0;
	}
	if (r4)
		return (__u64)-EINVAL;
	if ((__u32)r1 > VM_MAX_LOOPS)
		return (__u64)-E2BIG;
	__u32 n = (__u32)r1, i;
	for (i = 0; i < n; i++) {
		__u64 ret = vm_callback(run, fn, i, r3, 0, 0, 0);
		if (run->err)
			return 0;
		if (ret)
			return i + 1;
		if (--run->ticks == 0 && !vm_tick_slow(run))
			return 0;
	}
	return i;
}

/* ---- bpf_trace_printk(fmt, fmt_size, a1, a2, a3) ---- */

/* a string argument (%s): read from the run's regions only; outside them it
 * reads as empty, as the kernel's fault-tolerant copy gives */
static void copy_str(struct vm_run *run, __u64 p, char *out, size_t size)
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
}

/* bpf_bprintf_prepare()'s rules, then the formatting; -EINVAL for a format
 * the kernel refuses. Returns the length written to out (without NUL). */
static int bprintf(struct vm_run *run, const char *fmt, __u32 fmt_size, const __u64 *args, __u32 nargs, char *out,
		   size_t size)
{
	const char *end = memchr(fmt, 0, fmt_size);
	if (!end)
		return -EINVAL;
	size_t o = 0;
	__u32 spec = 0;
#define PUT(...)                                                                      \
	do {                                                                          \
		int w_ = snprintf(out + o, o < size ? size - o : 0, __VA_ARGS__);     \
		if (w_ > 0)                                                           \
			o += (size_t)w_;                                              \
	} while (0)
	for (const char *f = fmt; f < end; f++) {
		unsigned char c = (unsigned char)*f;
		if (isascii(c) && !isprint(c) && !isspace(c))
			return -EINVAL;
		if (c != '%') {
			PUT("%c", c);
			continue;
		}
		if (f[1] == '%') {
			PUT("%%");
			f++;
			continue;
		}
		if (spec >= nargs)
			return -EINVAL;
		const char *start = f;
		f++;
		if (!isascii((unsigned char)*f))
			return -EINVAL;
		while (*f == '0' || *f == '+' || *f == '-' || *f == ' ')
			f++;
		if (*f >= '1' && *f <= '9')
			while (*f >= '0' && *f <= '9')
				f++;
		char spec_buf[32];
		size_t flen = (size_t)(f - start);
		if (flen > sizeof(spec_buf) - 8)
			return -EINVAL;
		memcpy(spec_buf, start, flen);
		__u64 a = args[spec];
		if (*f == 'p') {
			char nx = f[1];
			if (nx == 0 || isspace((unsigned char)nx) || ispunct((unsigned char)nx) || nx == 'K' || nx == 'x' ||
			    nx == 's' || nx == 'S') {
				if (nx == 'K' || nx == 'x' || nx == 's' || nx == 'S')
					f++;
				PUT("0x%016llx", (unsigned long long)a);
			} else if ((nx == 'i' || nx == 'I') && (f[2] == '4' || f[2] == '6')) {
				unsigned char ip[16];
				int len = f[2] == '4' ? 4 : 16;
				bool ok = !vm_region_find(run, a, (__u64)len) ? false : true;
				if (ok)
					memcpy(ip, (const void *)(uintptr_t)a, (size_t)len);
				else
					memset(ip, 0, sizeof(ip));
				if (len == 4 && nx == 'I')
					PUT("%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
				else if (len == 4)
					PUT("%03u.%03u.%03u.%03u", ip[0], ip[1], ip[2], ip[3]);
				else
					for (int k = 0; k < 16; k += 2)
						PUT(nx == 'I' && k < 14 ? "%02x%02x:" : "%02x%02x", ip[k], ip[k + 1]);
				f += 2;
			} else {
				return -EINVAL;
			}
			spec++;
			continue;
		}
		if (*f == 's') {
			char s[512];
			copy_str(run, a, s, sizeof(s));
			memcpy(spec_buf + flen, "s", 2);
			PUT(spec_buf, s);
			spec++;
			continue;
		}
		if (*f == 'c') {
			memcpy(spec_buf + flen, "c", 2);
			PUT(spec_buf, (int)(char)a);
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
		memcpy(spec_buf + flen, "ll", 2);
		spec_buf[flen + 2] = *f;
		spec_buf[flen + 3] = '\0';
		bool sgn = *f == 'i' || *f == 'd';
		__u64 v = l ? a : sgn ? (__u64)(__s64)(__s32)a : (__u32)a;
		PUT(spec_buf, (unsigned long long)v);
		spec++;
	}
#undef PUT
	if (o >= size)
		o = size - 1;
	return (int)o;
}

/* one event as trace_pipe shows it: "<comm>-<pid> [<cpu>] <flags> <s>.<us>: bpf_trace_printk: <msg>\n",
 * appended to $BPFEMU_ROOT/trace with one write (no fd is kept open on the state root) */
static void trace_line(struct vm_run *run, const char *msg)
{
	char path[PATH_MAX];
	if (emu_root_ready())
		return;
	snprintf(path, sizeof(path), "%.4000s/trace", emu_config()->root);
	int fd = emu_os_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	char comm[17], line[1024];
	caller_comm(comm);
	__u64 t = clock_ns(CLOCK_MONOTONIC);
	/* the irq/preempt flags the kernel shows for a test run of this kind of
	 * program (XDP and skb: bottom halves off, preempt and migrate counts 1;
	 * raw_tp: preempt count 2, as Linux 6.18 shows them; syscall: a guess) */
	const char *flags = run->ctx_kind == VM_CTX_XDP || run->ctx_kind == VM_CTX_SKB ? "b..11"
			    : run->ctx_kind == VM_CTX_RAW ? "...2."
							  : "....1";
	/* the event's own newline follows the message, a newline it ends with or not */
	int n = snprintf(line, sizeof(line), "%16s-%-7d [%03u] %s %5llu.%06llu: bpf_trace_printk: %s\n", comm,
			 (int)emu_caller_tid(), run->cpu, flags, (unsigned long long)(t / 1000000000ull),
			 (unsigned long long)(t % 1000000000ull / 1000), msg);
	if (n > 0) {
		if ((size_t)n >= sizeof(line)) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		long w = emu_os_write(fd, line, (size_t)n);
		(void)w;
	}
	emu_os_close(fd);
}

__u64 vm_h_trace_printk(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	if (vm_mem_arg(run, r1, r2, VM_RD, "bpf_trace_printk's format"))
		return 0;
	if (!r2)
		return (__u64)-EINVAL;
	__u64 args[3] = { r3, r4, r5 };
	char msg[1024];               /* MAX_BPRINTF_BUF */
	int n = bprintf(run, (const char *)(uintptr_t)r1, (__u32)r2, args, 3, msg, sizeof(msg));
	if (n < 0)
		return (__u64)(__s64)n;
	trace_line(run, msg);
	return (__u64)n;
}

/* ---- ring buffers ---- */

static struct vm_map *ringbuf_arg(struct vm_run *run, __u64 r1, const char *helper)
{
	struct vm_map *m = vm_map_arg(run, r1, helper);
	if (m && m->type != BPF_MAP_TYPE_RINGBUF) {
		vm_fault(run, -EINVAL, "%s: map %u is not a ring buffer", helper, m->id);
		return NULL;
	}
	if (m && m->obj->rdonly) {
		vm_fault(run, -EACCES, "%s: ring buffer %u is mapped read-only in this process", helper, m->id);
		return NULL;
	}
	return m;
}

__u64 vm_h_ringbuf_output(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	struct vm_map *m = ringbuf_arg(run, r1, "bpf_ringbuf_output");
	if (!m || vm_mem_arg(run, r2, r3, VM_RD, "bpf_ringbuf_output's data"))
		return 0;
	if (r4 & ~(__u64)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP))
		return (__u64)-EINVAL;
	void *rec = emu_ringbuf_reserve(m->obj, r3);
	if (!rec)
		return (__u64)-EAGAIN;
	memcpy(rec, (const void *)(uintptr_t)r2, r3);
	emu_ringbuf_commit(m->obj, rec, false, r4);
	return 0;
}

__u64 vm_h_ringbuf_reserve(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_map *m = ringbuf_arg(run, r1, "bpf_ringbuf_reserve");
	if (!m || r3)
		return 0;
	void *rec = emu_ringbuf_reserve(m->obj, r2);
	if (!rec)
		return 0;
	if (vm_region_add(run, (__u64)(uintptr_t)rec, r2 ? r2 : 1, VM_RW, VM_R_RINGBUF, m)) {
		emu_ringbuf_commit(m->obj, rec, true, BPF_RB_NO_WAKEUP);
		vm_fault(run, -ENOMEM, "no memory to track a ring buffer record");
		return 0;
	}
	return (__u64)(uintptr_t)rec;
}

static __u64 commit(struct vm_run *run, __u64 sample, __u64 flags, bool discard, const char *helper)
{
	const struct vm_region *r = vm_region_find(run, sample, 1);
	if (!r || r->kind != VM_R_RINGBUF || r->lo != sample) {
		vm_fault(run, -EINVAL, "%s: %#llx is not a ring buffer record the program reserved", helper,
			 (unsigned long long)sample);
		return 0;
	}
	struct vm_map *m = r->map;
	vm_region_del(run, sample);
	emu_ringbuf_commit(m->obj, (void *)(uintptr_t)sample, discard, flags);
	return 0;
}

__u64 vm_h_ringbuf_submit(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	return commit(run, r1, r2, false, "bpf_ringbuf_submit");
}

__u64 vm_h_ringbuf_discard(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	return commit(run, r1, r2, true, "bpf_ringbuf_discard");
}

__u64 vm_h_ringbuf_query(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_map *m = ringbuf_arg(run, r1, "bpf_ringbuf_query");
	return m ? emu_ringbuf_query(m->obj, r2) : 0;
}

/* the end of a run: records reserved and never submitted are discarded (the
 * kernel's verifier refuses such programs; the consumer must not stall) */
void vm_release_records(struct vm_run *run)
{
	bool left = false;
	for (__u32 i = 0; i < run->dyn.n; i++) {
		struct vm_region *r = &run->dyn.r[i];
		if (r->kind != VM_R_RINGBUF)
			continue;
		emu_ringbuf_commit(r->map->obj, (void *)(uintptr_t)r->lo, true, 0);
		r->kind = VM_R_SCRATCH;
		left = true;
	}
	if (left)
		vm_fault(run, -EINVAL, "the program ended with a ring buffer record neither submitted nor discarded");
}
