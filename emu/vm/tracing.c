/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/tracing.c: event runs (emu_vm_run_event, for emu/fire) and the
 * tracing helpers (their lines in helper_table.h):
 * probe reads, the current task, perf event output, stacks, the attach
 * point's function ip, cookie and arguments, signals, cgroups.
 *
 * They answer from the event a run was fired with (struct emu_vm_event,
 * emu/fire): its task, CPU and time, its synthetic kernel objects (the
 * "kernel memory" a program reads with bpf_probe_read_kernel or direct BTF
 * loads) and its task's user memory (bpf_probe_read_user). Outside an event
 * (BPF_PROG_TEST_RUN) the calling process is the task and the run's own
 * regions are all the kernel memory there is.
 *
 * Address spaces, as on x86-64: an address in the event's user memory, or in
 * the first 64 KiB (NULL and the pages around it), is a user address; the
 * run's regions (stack, context, map values, the event's kernel objects) are
 * kernel memory; anything else is an unmapped kernel address. So
 * bpf_probe_read_kernel of a user address is -ERANGE
 * (copy_from_kernel_nofault_allowed()), of an unmapped one -EFAULT, and
 * bpf_probe_read_user of anything outside the user memory -EFAULT; a failed
 * read clears the destination, as the kernel's does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_int.h"
#include "../perf/perf.h"
#include "../os_errno.h"

#define USER_LOW 0x10000ull            /* below: the NULL area, user addresses */
#define MAX_STACK_SKIP 0xffull         /* BPF_F_SKIP_FIELD_MASK */

#define UNUSED5(a, b, c, d, e) ((void)(a), (void)(b), (void)(c), (void)(d), (void)(e))

/* ---- event runs (emu/fire): one run on the firer's context ---- */

int emu_vm_run_event(struct emu_obj *obj, const struct emu_vm_event *ev, __u64 *retval)
{
	struct vm_thread *t = vm_thread_get();
	int err;
	if (!t)
		return -ENOMEM;
	const struct vm_prog *p = vm_prog_get(obj, &err);
	if (!p)
		return err;
	struct vm_run *run = &t->run;
	if (p->not_runnable) {
		run->prog = p;
		run->fault_insn = p->not_runnable_insn;
		run->err = 0;
		vm_fault(run, -EACCES, "%s", p->not_runnable);
		return -EACCES;
	}
	/* accesses proven at load run unchecked up to max_ctx_offset: the context
	 * must cover them. The decoder counts every load of the program, also
	 * those on paths the kernel's verifier drops as dead (biosnoop's
	 * ctx[1] of block_rq_issue for kernels before 5.11, behind a kconfig
	 * constant): such a context is run from a copy padded with zeros */
	void *ctx = ev->ctx;
	__u32 ctx_size = ev->ctx_size;
	static __thread __u64 padded[64];
	if (ctx_size < p->max_ctx_offset) {
		if (p->max_ctx_offset > sizeof(padded))
			return -EINVAL;
		memset(padded, 0, p->max_ctx_offset);
		memcpy(padded, ev->ctx, ctx_size);
		ctx = padded;
		ctx_size = p->max_ctx_offset;
	}
	vm_run_setup(t, p, VM_CTX_EVENT, ctx, ctx_size, VM_RD);
	if (ev->kmem_len)
		vm_fixed_set(run, VM_R_KMEM, ev->kmem_lo, ev->kmem_len, VM_RD);
	run->ev = ev;
	run->probe_zero = true;
	bool stats = emu_vm_stats_enabled();
	__u64 start = stats ? vm_now_ns() : 0;
	__u64 r0 = vm_run_once(run, p, ev->cpu);
	if (stats)
		vm_stats_add(obj, 1, vm_now_ns() - start);
	run->ev = NULL;
	run->probe_zero = false;
	if (run->err)
		return run->err;
	*retval = r0;
	return 0;
}

/* ---- the address spaces ---- */

static bool in_umem(const struct vm_run *run, __u64 a, __u64 n)
{
	const struct emu_vm_event *ev = run->ev;
	if (!ev || !ev->umem_len)
		return false;
	__u64 o = a - ev->umem_lo;
	return o < ev->umem_len && n <= ev->umem_len - o;
}

/* How many bytes from a are readable as kernel memory (0: none); the region
 * holding a must allow reads. */
static __u64 kernel_span(struct vm_run *run, __u64 a)
{
	const struct vm_region *r = vm_region_find(run, a, 1);
	if (!r || !(r->perm & VM_RD))
		return 0;
	return r->lo + r->len - a;
}

static __u64 user_span(const struct vm_run *run, __u64 a)
{
	if (!in_umem(run, a, 1))
		return 0;
	return run->ev->umem_lo + run->ev->umem_len - a;
}

static bool user_address(const struct vm_run *run, __u64 a)
{
	return a < USER_LOW || in_umem(run, a, 1);
}

/* the destination a probe read writes: a writable region of the run (the verifier's ARG_PTR_TO_UNINIT_MEM) */
static int dst_arg(struct vm_run *run, __u64 dst, __u64 size, const char *helper)
{
	return vm_mem_arg(run, dst, size, VM_WR, helper);
}

/* copy_from_kernel_nofault() / copy_from_user_nofault() into dst, cleared on failure */
static __u64 probe_read(struct vm_run *run, __u64 dst, __u64 size, __u64 src, bool user, const char *helper)
{
	if (dst_arg(run, dst, size, helper))
		return 0;
	if (!size)
		return 0;
	void *d = (void *)(uintptr_t)dst;
	long err = 0;
	if (user) {
		if (user_span(run, src) < size)
			err = -EFAULT;
	} else if (user_address(run, src)) {
		err = -ERANGE;
	} else if (kernel_span(run, src) < size) {
		err = -EFAULT;
	}
	if (err) {
		memset(d, 0, size);
		return (__u64)err;
	}
	memmove(d, (const void *)(uintptr_t)src, size);
	return 0;
}

/* strncpy_from_{kernel,user}_nofault(): the bytes copied with the NUL (at
 * most size, the last one made NUL), -EFAULT/-ERANGE with dst cleared */
static __u64 probe_read_str(struct vm_run *run, __u64 dst, __u64 size, __u64 src, bool user, const char *helper)
{
	if (dst_arg(run, dst, size, helper))
		return 0;
	if (!size)
		return 0;
	char *d = (char *)(uintptr_t)dst;
	long err = 0;
	__u64 span;
	if (user)
		span = user_span(run, src);
	else if (user_address(run, src))
		span = 0, err = -ERANGE;
	else
		span = kernel_span(run, src);
	if (!err) {
		const char *s = (const char *)(uintptr_t)src;
		__u64 n = 0;
		/* a byte at a time, as the kernel's loop: the string may overlap dst */
		while (n < size && n < span) {
			char c = s[n];
			d[n++] = c;
			if (!c)
				return n;
		}
		if (n == size) {
			d[size - 1] = '\0';
			return size;
		}
		err = -EFAULT;                 /* the memory ended before the NUL */
	}
	memset(d, 0, size);
	return (__u64)err;
}

__u64 vm_h_probe_read_kernel(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return probe_read(run, r1, (__u32)r2, r3, false, "bpf_probe_read_kernel's buffer");
}

__u64 vm_h_probe_read_user(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return probe_read(run, r1, (__u32)r2, r3, true, "bpf_probe_read_user's buffer");
}

__u64 vm_h_probe_read_kernel_str(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return probe_read_str(run, r1, (__u32)r2, r3, false, "bpf_probe_read_kernel_str's buffer");
}

__u64 vm_h_probe_read_user_str(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return probe_read_str(run, r1, (__u32)r2, r3, true, "bpf_probe_read_user_str's buffer");
}

/* bpf_probe_read / _str (the compat helpers): a user address is read as user memory, any other as kernel memory */
__u64 vm_h_probe_read(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return probe_read(run, r1, (__u32)r2, r3, user_address(run, r3), "bpf_probe_read's buffer");
}

__u64 vm_h_probe_read_str(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	return probe_read_str(run, r1, (__u32)r2, r3, user_address(run, r3), "bpf_probe_read_str's buffer");
}

/* ---- the current task ---- */

/* its task_struct in the event's kernel memory; outside an event there is none (0) */
__u64 vm_h_get_current_task(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	UNUSED5(r1, r2, r3, r4, r5);
	return run->ev ? run->ev->task.task : 0;
}

__u64 vm_h_get_current_task_btf(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	UNUSED5(r1, r2, r3, r4, r5);
	return run->ev ? run->ev->task.task : 0;
}

/* ---- perf event output ---- */

/*
 * bpf_perf_event_output(ctx, map, flags, data, size): tracing programs write
 * data; skb and XDP programs (bpf_skb_event_output, bpf_xdp_event_output)
 * may append flags >> 32 bytes of their packet. The record's task and time
 * are the event's.
 */
__u64 vm_h_perf_event_output(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1;
	struct vm_map *m = vm_map_arg(run, r2, "bpf_perf_event_output");
	if (!m || vm_mem_arg(run, r4, r5, VM_RD, "bpf_perf_event_output's data"))
		return 0;
	if (m->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		vm_fault(run, -EINVAL, "bpf_perf_event_output: map %u is not a perf event array", m->id);
		return 0;
	}
	struct emu_perf_frag frags[2] = { { (const void *)(uintptr_t)r4, r5 }, { NULL, 0 } };
	unsigned int nfrags = 1;
	__u64 ctx_len = r3 >> 32;
	if (run->ctx_kind == VM_CTX_SKB || run->ctx_kind == VM_CTX_XDP) {
		if (r3 & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK))
			return (__u64)-EINVAL;
		const unsigned char *pkt;
		__u64 len;
		if (run->ctx_kind == VM_CTX_SKB) {
			const struct vm_skb *skb = run->skb;
			pkt = skb->data;
			len = skb->len;
		} else {
			pkt = run->pkt.data;
			len = (__u64)(run->pkt.end - run->pkt.data);
		}
		if (ctx_len > len)
			return (__u64)-EFAULT;
		if (ctx_len) {
			frags[1] = (struct emu_perf_frag){ pkt, ctx_len };
			nfrags = 2;
		}
		r3 &= BPF_F_INDEX_MASK;
	} else if (r3 & ~(__u64)BPF_F_INDEX_MASK) {
		return (__u64)-EINVAL;
	}
	struct emu_perf_ctx pc = { .misc = PERF_RECORD_MISC_KERNEL };
	if (run->ev) {
		pc.pid = run->ev->task.pid;
		pc.tid = run->ev->task.tid;
		pc.time = run->ev->time_ns;
	} else {
		pc.pid = (__u32)emu_caller_pid();
		pc.tid = (__u32)emu_caller_tid();
	}
	int err = emu_perf_event_output(m->obj, r3, run->cpu, frags, nfrags, &pc);
	return (__u64)(__s64)err;
}

/* ---- stacks ---- */

/* the event's stack (kernel or user) after skip frames: NULL when there is none */
static const __u64 *stack_of(const struct vm_run *run, __u64 flags, __u32 *nr)
{
	const struct emu_vm_event *ev = run->ev;
	bool user = flags & BPF_F_USER_STACK;
	*nr = 0;
	if (!ev)
		return NULL;
	const __u64 *ips = user ? ev->ustack : ev->kstack;
	__u32 n = user ? ev->nr_ustack : ev->nr_kstack;
	__u32 skip = (__u32)(flags & MAX_STACK_SKIP);
	if (!ips || n <= skip)
		return NULL;
	*nr = n - skip;
	return ips + skip;
}

/* bpf_get_stackid(ctx, map, flags): the stack's id in a stack trace map
 * (emu/stackmap.c); no stack to take (or all of it skipped) is -EFAULT, as
 * the kernel answers for a task without one */
__u64 vm_h_get_stackid(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1; (void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r2, "bpf_get_stackid");
	if (!m)
		return 0;
	if (r3 & ~(__u64)(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID))
		return (__u64)-EINVAL;
	__u32 nr;
	const __u64 *ips = stack_of(run, r3, &nr);
	if (!ips)
		return (__u64)-EFAULT;
	if (m->type != BPF_MAP_TYPE_STACK_TRACE) {
		vm_fault(run, -EINVAL, "bpf_get_stackid: map %u is not a stack trace map", m->id);
		return 0;
	}
	return (__u64)(__s64)emu_stackmap_store(m->obj, ips, nr, r3);
}

/* bpf_get_stack(ctx, buf, size, flags): the ips (8 bytes each, at most
 * size / 8) and the rest of buf cleared; the bytes written, or -EFAULT with
 * buf cleared when there is no stack */
__u64 vm_h_get_stack(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1; (void)r5;
	__u32 size = (__u32)r3;
	if (vm_mem_arg(run, r2, size, VM_WR, "bpf_get_stack's buffer"))
		return 0;
	char *buf = (char *)(uintptr_t)r2;
	long err = -EINVAL;
	__u32 nr = 0;
	const __u64 *ips = NULL;
	if (r4 & ~(__u64)(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID))
		goto clear;
	if ((r4 & BPF_F_USER_BUILD_ID) && !(r4 & BPF_F_USER_STACK))
		goto clear;
	__u32 elem = r4 & BPF_F_USER_BUILD_ID ? sizeof(struct bpf_stack_build_id) : 8;
	if (size % elem)
		goto clear;
	err = -EFAULT;
	ips = stack_of(run, r4, &nr);
	if (!ips)
		goto clear;
	if (nr > size / elem)
		nr = size / elem;
	if (elem == 8) {
		memcpy(buf, ips, 8ull * nr);
	} else {
		/* no build ids: each frame as BPF_STACK_BUILD_ID_IP */
		for (__u32 i = 0; i < nr; i++) {
			struct bpf_stack_build_id b;
			memset(&b, 0, sizeof(b));
			b.status = BPF_STACK_BUILD_ID_IP;
			b.ip = ips[i];
			memcpy(buf + (size_t)i * elem, &b, sizeof(b));
		}
	}
	if ((__u64)nr * elem < size)
		memset(buf + (size_t)nr * elem, 0, size - (size_t)nr * elem);
	return (__u64)nr * elem;
clear:
	if (size)
		memset(buf, 0, size);
	return (__u64)err;
}

/* ---- the attach point ---- */

__u64 vm_h_get_func_ip(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	UNUSED5(r1, r2, r3, r4, r5);
	return run->ev ? run->ev->func_ip : 0;
}

__u64 vm_h_get_attach_cookie(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	UNUSED5(r1, r2, r3, r4, r5);
	return run->ev ? run->ev->cookie : 0;
}

/* the u64 argument slots of a fentry/fexit/lsm context (the verifier inlines these on the kernel) */
static const __u64 *func_args(const struct vm_run *run, __u32 *nr)
{
	*nr = run->ev ? run->ev->nr_args : 0;
	return run->ev ? (const __u64 *)run->ev->ctx : NULL;
}

__u64 vm_h_get_func_arg(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1; (void)r4; (void)r5;
	if (vm_mem_arg(run, r3, 8, VM_WR, "bpf_get_func_arg's value"))
		return 0;
	__u32 nr;
	const __u64 *a = func_args(run, &nr);
	if (!a || r2 >= nr)
		return (__u64)-EINVAL;
	memcpy((void *)(uintptr_t)r3, &a[r2], 8);
	return 0;
}

__u64 vm_h_get_func_ret(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r1; (void)r3; (void)r4; (void)r5;
	if (vm_mem_arg(run, r2, 8, VM_WR, "bpf_get_func_ret's value"))
		return 0;
	__u32 nr;
	const __u64 *a = func_args(run, &nr);
	if (!a || !run->ev->has_ret)
		return (__u64)-EOPNOTSUPP;
	memcpy((void *)(uintptr_t)r2, &a[nr], 8);
	return 0;
}

__u64 vm_h_get_func_arg_cnt(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	UNUSED5(r1, r2, r3, r4, r5);
	__u32 nr;
	func_args(run, &nr);
	return nr;
}

/* ---- signals to the current task ---- */

static __u64 send_signal(struct vm_run *run, __u64 sig, bool thread)
{
	__u32 pid = run->ev ? run->ev->task.pid : (__u32)emu_caller_pid();
	__u32 tid = run->ev ? run->ev->task.tid : (__u32)emu_caller_tid();
	if (pid == 1)
		return (__u64)-EPERM;              /* is_global_init(current) */
	if (sig > 64)
		return (__u64)-EINVAL;             /* valid_signal() */
	long r = emu_oe_ret(thread ? EMU_OS_SC(SYS_tgkill, (int)pid, (int)tid, (int)sig, 0, 0, 0)
				  : EMU_OS_SC(SYS_kill, (pid_t)pid, (int)sig, 0, 0, 0, 0));
	if (r && errno == ESRCH && run->ev) {
		/* a task made up for the event: the kernel's current always exists */
		EMU_LOG(EMU_LOG_VM, "bpf_send_signal%s(%llu): the event's task %u is not a process here: not sent",
			thread ? "_thread" : "", (unsigned long long)sig, thread ? tid : pid);
		return 0;
	}
	return r ? (__u64)(__s64)-errno : 0;
}

__u64 vm_h_send_signal(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	return send_signal(run, (__u32)r1, false);
}

__u64 vm_h_send_signal_thread(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	return send_signal(run, (__u32)r1, true);
}

/* ---- cgroups (v2, mounted at /sys/fs/cgroup) ---- */

#define CGROUP_ROOT "/sys/fs/cgroup"

/* the cgroup v2 path of the current task, from the event or /proc */
static void task_cgroup(const struct vm_run *run, char *path, size_t len)
{
	path[0] = '\0';
	if (run->ev) {
		snprintf(path, len, "%s", run->ev->task.cgroup);
		return;
	}
	char proc[64], line[512];
	snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int)emu_caller_pid());
	struct emu_os_lines *f = emu_os_lines_open(proc, NULL);
	while (f && emu_os_lines_get(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, len, "%s", line + 3);
			break;
		}
	}
	if (f)
		emu_os_lines_close(f);
}

/* a cgroup's id: its directory's inode in the cgroup v2 hierarchy (0: unknown) */
static __u64 cgroup_ino(const char *path)
{
	char full[PATH_MAX];
	struct stat sb;
	if (snprintf(full, sizeof(full), CGROUP_ROOT "%s", path) >= (int)sizeof(full) || emu_oe_stat(full, &sb))
		return 0;
	return (__u64)sb.st_ino;
}

__u64 vm_h_get_current_cgroup_id(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	UNUSED5(r1, r2, r3, r4, r5);
	if (run->ev && run->ev->task.cgroup_id)
		return run->ev->task.cgroup_id;
	char path[PATH_MAX];
	task_cgroup(run, path, sizeof(path));
	return path[0] ? cgroup_ino(path) : 0;
}

/* bpf_get_current_ancestor_cgroup_id(level): the ancestor at that depth (the root is level 0), 0 past the task's */
__u64 vm_h_get_current_ancestor_cgroup_id(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	char path[PATH_MAX];
	task_cgroup(run, path, sizeof(path));
	if (!path[0])
		return 0;
	/* keep the first level components: "/a/b/c" at level 2 is "/a/b" */
	size_t i = 0;
	for (__u64 l = 0; l < (__u32)r1; l++) {
		if (path[i] != '/' || !path[i + 1])
			return 0;
		i += 1 + strcspn(path + i + 1, "/");
	}
	path[i] = '\0';
	return cgroup_ino(i ? path : "/");
}

/* bpf_current_task_under_cgroup(map, index): the cgroup array's slot holds
 * its cgroup's inode (emu/fd_array.c); 1 when the task's cgroup is it or
 * below it */
__u64 vm_h_current_task_under_cgroup(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_current_task_under_cgroup");
	if (!m)
		return 0;
	if (m->type != BPF_MAP_TYPE_CGROUP_ARRAY) {
		vm_fault(run, -EINVAL, "bpf_current_task_under_cgroup: map %u is not a cgroup array", m->id);
		return 0;
	}
	__u32 idx = (__u32)r2;
	if (idx >= m->max_entries)
		return (__u64)-E2BIG;
	__u32 want = __atomic_load_n((const __u32 *)emu_obj_data(m->obj) + idx, __ATOMIC_ACQUIRE);
	if (!want)
		return (__u64)-EAGAIN;
	char path[PATH_MAX];
	task_cgroup(run, path, sizeof(path));
	if (!path[0])
		return 0;
	/* the task's cgroup and each ancestor up to the root */
	for (;;) {
		if ((__u32)cgroup_ino(path[0] ? path : "/") == want)
			return 1;
		char *slash = strrchr(path, '/');
		if (!slash || !path[0] || !strcmp(path, "/"))
			return 0;
		*slash = '\0';
	}
}
