// SPDX-License-Identifier: GPL-2.0
/*
 * tests/fire/fire_progs.bpf.c: one program per way an event reaches a
 * program (tracepoint, raw_tp, tp_btf, kprobe, kretprobe, fentry, fexit,
 * uprobe, lsm), each sending one record through a perf buffer with what it
 * saw: its context's fields, the tracing helpers' answers (the current task,
 * its task_struct, probe reads, the function's ip, the link's cookie, the
 * stack). fire_loader.c attaches them and prints the records; fire.sh fires
 * the events with bpfemu fire and compares.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct rec {
	__u32 kind;
	__u32 pid, tid, uid, gid, ppid, cpu, task_pid;
	__u64 time, cookie, ip;
	__s64 a0, a1, a2, a3, ret;
	__s64 stack_ret;
	__u64 stack0;
	char comm[16], task_comm[16];
	char s1[64], s2[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* a per-CPU scratch record (too big for the stack with the rest) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec);
} scratch SEC(".maps");

/* sys_exit_openat's return values also go through a ring buffer */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

/* stacks from bpf_get_stackid */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 4 * sizeof(__u64));
} stacks SEC(".maps");

/* how many times each program ran */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

enum { K_TP = 1, K_RAW, K_BTF, K_KPROBE, K_KRET, K_FENTRY, K_FEXIT, K_UPROBE, K_URET, K_LSM, K_OPENAT, K_EXIT };

static __always_inline struct rec *start(__u32 kind)
{
	__u32 zero = 0;
	struct rec *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = kind;
	__u64 pt = bpf_get_current_pid_tgid(), ug = bpf_get_current_uid_gid();
	r->pid = pt >> 32;
	r->tid = (__u32)pt;
	r->uid = (__u32)ug;
	r->gid = ug >> 32;
	r->cpu = bpf_get_smp_processor_id();
	r->time = bpf_ktime_get_ns();
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	r->ppid = BPF_CORE_READ(t, real_parent, tgid);
	r->task_pid = BPF_CORE_READ(t, pid);
	BPF_CORE_READ_STR_INTO(&r->task_comm, t, comm);
	__u64 *c = bpf_map_lookup_elem(&counts, &kind);
	if (c)
		__sync_fetch_and_add(c, 1);
	else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &kind, &one, BPF_ANY);
	}
	return r;
}

static __always_inline void send(void *ctx, struct rec *r)
{
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, r, sizeof(*r));
}

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	struct rec *r = start(K_TP);
	if (!r)
		return 0;
	r->a0 = ctx->prev_pid;
	r->a1 = ctx->next_pid;
	r->a2 = ctx->prev_state;
	r->a3 = ctx->next_prio;
	bpf_probe_read_kernel_str(r->s1, sizeof(r->s1), ctx->prev_comm);
	bpf_probe_read_kernel_str(r->s2, sizeof(r->s2), ctx->next_comm);
	send(ctx, r);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct rec *r = start(K_RAW);
	if (!r)
		return 0;
	r->a0 = BPF_CORE_READ(prev, pid);
	r->a1 = BPF_CORE_READ(next, pid);
	r->a2 = BPF_CORE_READ(prev, __state);
	r->a3 = preempt;
	BPF_CORE_READ_STR_INTO(&r->s1, prev, comm);
	BPF_CORE_READ_STR_INTO(&r->s2, next, real_parent, comm);
	r->cookie = bpf_get_attach_cookie(ctx);
	r->ret = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);   /* no user stack given: -EFAULT */
	send(ctx, r);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct rec *r = start(K_BTF);
	if (!r)
		return 0;
	/* direct loads through BTF pointers (the kernel's BPF_PROBE_MEM) */
	r->a0 = prev->pid;
	r->a1 = next->pid;
	r->a2 = prev->__state;
	r->a3 = next->real_parent->tgid;      /* a NULL pointer on the way reads 0 */
	bpf_probe_read_kernel_str(r->s1, sizeof(r->s1), prev->comm);
	__u64 ips[4];
	r->stack_ret = bpf_get_stack(ctx, ips, sizeof(ips), 0);
	r->stack0 = ips[0];
	r->ret = bpf_get_stackid(ctx, &stacks, 0);
	send(ctx, r);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(struct trace_event_raw_sys_enter *ctx)
{
	struct rec *r = start(K_OPENAT);
	if (!r)
		return 0;
	r->a0 = (int)ctx->args[0];
	r->a1 = ctx->args[2];
	r->a2 = ctx->id;
	r->ret = bpf_probe_read_user_str(r->s1, sizeof(r->s1), (const char *)ctx->args[1]);
	/* the same pointer read as kernel memory: a user address, -ERANGE */
	r->a3 = bpf_probe_read_kernel(r->s2, 8, (const void *)ctx->args[1]);
	send(ctx, r);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tp_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	struct rec *r = start(K_EXIT);
	if (!r)
		return 0;
	r->ret = ctx->ret;
	r->a0 = ctx->id;
	send(ctx, r);
	long ret = ctx->ret;
	bpf_ringbuf_output(&rb, &ret, sizeof(ret), 0);
	return 0;
}

SEC("kprobe/do_nanosleep")
int BPF_KPROBE(kp_nanosleep, struct hrtimer_sleeper *t, int mode)
{
	struct rec *r = start(K_KPROBE);
	if (!r)
		return 0;
	r->a0 = (long)t == 0;
	r->a1 = mode;
	r->ip = bpf_get_func_ip(ctx);
	/* the pre-handler's ip: one byte past the probed address (x86-64's int3) */
	r->a2 = (long)(PT_REGS_IP(ctx) - r->ip);
	r->cookie = bpf_get_attach_cookie(ctx);
	send(ctx, r);
	return 0;
}

SEC("kretprobe/do_nanosleep")
int BPF_KRETPROBE(kret_nanosleep, long ret)
{
	struct rec *r = start(K_KRET);
	if (!r)
		return 0;
	r->ret = ret;
	r->cookie = bpf_get_attach_cookie(ctx);
	send(ctx, r);
	return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(fe_unlinkat, int dfd, struct filename *name)
{
	struct rec *r = start(K_FENTRY);
	if (!r)
		return 0;
	r->a0 = dfd;
	r->a1 = bpf_get_func_arg_cnt(ctx);
	bpf_probe_read_kernel_str(r->s1, sizeof(r->s1), BPF_CORE_READ(name, name));
	r->a2 = BPF_CORE_READ(name, refcnt.counter);
	r->ip = bpf_get_func_ip(ctx);
	r->cookie = bpf_get_attach_cookie(ctx);
	send(ctx, r);
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(fx_unlinkat, int dfd, struct filename *name, long ret)
{
	struct rec *r = start(K_FEXIT);
	if (!r)
		return 0;
	__u64 v = 0;
	r->a0 = dfd;
	r->ret = ret;
	r->a1 = bpf_get_func_ret(ctx, &v);
	r->a2 = v;
	r->a3 = bpf_get_func_arg(ctx, 5, &v);   /* past the arguments: -EINVAL */
	send(ctx, r);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(up_target, int a, const char *s)
{
	struct rec *r = start(K_UPROBE);
	if (!r)
		return 0;
	r->a0 = a;
	r->ret = bpf_probe_read_user_str(r->s1, sizeof(r->s1), s);
	r->cookie = bpf_get_attach_cookie(ctx);
	send(ctx, r);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uret_target, int ret)
{
	struct rec *r = start(K_URET);
	if (!r)
		return 0;
	r->ret = ret;
	send(ctx, r);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(lsm_open, struct file *file, int ret)
{
	struct rec *r = start(K_LSM);
	if (!r)
		return 0;
	r->a0 = BPF_CORE_READ(file, f_flags);
	r->ret = ret;
	send(ctx, r);
	return 0;
}
