// SPDX-License-Identifier: GPL-2.0
/*
 * tests/fire/fire_twin.bpf.c: the kernel twin of bpfemu fire. Programs on
 * what one kill(pid, 0) does in the kernel: the raw sys_enter tracepoint
 * (raw_tp, tp_btf, and the raw_syscalls:sys_enter tracepoint), then
 * syscalls:sys_enter_kill and sys_exit_kill. Each sends what it saw through a
 * perf buffer, for the loader's process only (cfg[0] = its pid); tp_btf
 * also its stack, by bpf_get_stackid and by bpf_get_stack. On the
 * kernel the loader calls kill(); under bpfemu the test fires the same events
 * with the same values; the transcripts must match.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct trec {
	__u32 kind, pid, tid, uid, gid, ppid, task_pid, task_tgid;
	__s64 a0, a1, a2, a3;
	char comm[16], task_comm[16];
	__s64 stackid, stack_bytes;
	__u64 ips[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cfg SEC(".maps");

enum { T_RAW = 1, T_BTF, T_RAWSYS, T_KILL, T_KILL_EXIT };
#define NR_KILL 62

static __always_inline bool mine(void)
{
	__u32 zero = 0, *want = bpf_map_lookup_elem(&cfg, &zero);
	return want && *want && (bpf_get_current_pid_tgid() >> 32) == *want;
}

static __always_inline void send_stack(void *ctx, __u32 kind, __s64 a0, __s64 a1, __s64 a2, __s64 a3, bool stack)
{
	struct trec r;
	__builtin_memset(&r, 0, sizeof(r));
	if (stack) {
		/* the same stack twice: its id in the map, its frames */
		r.stackid = bpf_get_stackid(ctx, &stacks, 0);
		r.stack_bytes = bpf_get_stack(ctx, r.ips, sizeof(r.ips), 0);
	}
	r.kind = kind;
	__u64 pt = bpf_get_current_pid_tgid(), ug = bpf_get_current_uid_gid();
	r.pid = pt >> 32;
	r.tid = (__u32)pt;
	r.uid = (__u32)ug;
	r.gid = ug >> 32;
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	r.ppid = BPF_CORE_READ(t, real_parent, tgid);
	r.task_pid = BPF_CORE_READ(t, pid);
	r.task_tgid = BPF_CORE_READ(t, tgid);
	BPF_CORE_READ_STR_INTO(&r.task_comm, t, comm);
	r.a0 = a0;
	r.a1 = a1;
	r.a2 = a2;
	r.a3 = a3;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &r, sizeof(r));
}

static __always_inline void send(void *ctx, __u32 kind, __s64 a0, __s64 a1, __s64 a2, __s64 a3)
{
	send_stack(ctx, kind, a0, a1, a2, a3, false);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long id)
{
	if (id != NR_KILL || !mine())
		return 0;
	send(ctx, T_RAW, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), id, 0);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id)
{
	if (id != NR_KILL || !mine())
		return 0;
	send_stack(ctx, T_BTF, regs->di, regs->si, id, 0, true);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int rawsys_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->id != NR_KILL || !mine())
		return 0;
	send(ctx, T_RAWSYS, ctx->args[0], ctx->args[1], ctx->id, 0);
	return 0;
}

/* the record of syscalls/sys_enter_kill: __syscall_nr, then pid and sig (8 bytes each) */
struct kill_enter {
	struct trace_entry ent;
	int nr;
	long pid;
	long sig;
};

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_enter(struct kill_enter *ctx)
{
	if (!mine())
		return 0;
	send(ctx, T_KILL, ctx->pid, ctx->sig, ctx->nr, 0);
	return 0;
}

struct kill_exit {
	struct trace_entry ent;
	int nr;
	long ret;
};

SEC("tracepoint/syscalls/sys_exit_kill")
int kill_exit(struct kill_exit *ctx)
{
	if (!mine())
		return 0;
	send(ctx, T_KILL_EXIT, ctx->ret, ctx->nr, 0, 0);
	return 0;
}
