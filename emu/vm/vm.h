/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/vm.h: the BPF virtual machine as the rest of the engine sees it.
 *
 * The command table (emu/sys.c) calls emu_vm_test_run() for
 * BPF_PROG_TEST_RUN and emu_vm_enable_stats() for BPF_ENABLE_STATS; the
 * program loader (emu/prog.c) calls emu_vm_prog_loaded() at the end of a
 * successful load; the fd table (emu/fdtable.c) calls emu_vm_obj_release()
 * when a process lets go of a program object. The VM knows nothing of the
 * shim: it runs in whatever process calls bpf().
 */
#ifndef BPFEMU_VM_H
#define BPFEMU_VM_H

#include <linux/bpf.h>
#include <stdbool.h>

#include "obj.h"

/* What sys.c decodes from BPF_PROG_TEST_RUN's attr (attr->test). Pointers are
 * the caller's; u_* are the addresses of the attr fields written back. */
struct emu_test_run_spec {
	__u32 prog_fd;
	__u32 retval_in;               /* attr->test.retval: must be 0 for some types */
	__u32 data_size_in, data_size_out;
	const void *data_in;
	void *data_out;
	__u32 repeat;
	__u32 duration_in;             /* attr->test.duration (raw_tp and syscall want 0) */
	__u32 ctx_size_in, ctx_size_out;
	const void *ctx_in;
	void *ctx_out;
	__u32 flags;
	__u32 cpu;
	__u32 batch_size;
	void *u_retval, *u_data_size_out, *u_duration, *u_ctx_size_out;
};

/* BPF_PROG_TEST_RUN: 0 or -errno, the kernel's checks in its order. */
int emu_vm_test_run(const struct emu_test_run_spec *spec);

/*
 * After a successful BPF_PROG_LOAD, before the fd is handed out: the program
 * takes references on the maps its ld_imm64 instructions name (hard links
 * under <root>/refs/prog-<id>/, so any process reaches them), the stored
 * instructions name maps by id instead of by the loader's fd (as the kernel's
 * xlated dump does), and the program is decoded for this process. insns
 * are the loaded ones (maps only cut dead code names are held too, as the
 * kernel's used_maps holds them); the stored ones may be fewer. 0 or -errno
 * (a map fd gone meanwhile; ENOMEM).
 */
int emu_vm_prog_loaded(struct emu_obj *prog, const struct bpf_insn *insns, __u32 cnt);

/* The process's last handle of obj goes away: drop its decoded program. */
void emu_vm_obj_release(struct emu_obj *obj);

/* BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): an fd that keeps run-time statistics
 * on, for every process of the state root, while it (or a dup, or a fork's
 * copy) is open. fd or -errno. */
int emu_vm_enable_stats(void);
/* prog.c's load check of a kfunc call: is kernel BTF id btf_id a function
 * bpfemu or a user function (BPFEMU_FUNCS) provides? */
bool emu_vm_kfunc_available(__u32 btf_id);
/* a user function (BPFEMU_FUNCS) stands in for kfunc btf_id */
bool emu_vm_kfunc_is_user(__u32 btf_id);

/* Are run-time statistics on (an enable_stats fd open anywhere, or the sysctl)? */
bool emu_vm_stats_enabled(void);
/* open() of /proc/sys/kernel/bpf_stats_enabled: read, the sysctl's value;
 * write, what sets it. fd or -errno. */
int emu_vm_stats_sysctl_open(int flags);
/* Is fd (of this process) an ENABLE_STATS fd (readlink: anon_inode:bpf-stats)? */
bool emu_vm_is_stats_fd(int fd);

/*
 * Event runs (emu/fire: programs attached to a fired tracepoint, probe or
 * function). The firer builds the context the program type sees and the
 * event's synthetic world; the tracing helpers (emu/vm/tracing.c) answer
 * from it instead of from the calling process.
 */
struct emu_vm_task {
	__u32 pid, tid;                /* the kernel's tgid and pid */
	__u32 uid, gid;
	char comm[16];
	__u64 task;                    /* its task_struct in the event's kernel memory (0: none) */
	__u64 cgroup_id;               /* its cgroup v2 id (0: unknown) */
	char cgroup[256];              /* its cgroup v2 path ("" unknown) */
};
struct emu_vm_event {
	void *ctx;                     /* what R1 points to, read-only for the program */
	__u32 ctx_size;                /* at least the program's largest proven context offset */
	__u32 cpu;                     /* smp_processor_id, per-CPU slots, BPF_F_CURRENT_CPU */
	__u64 time_ns;                 /* ktime_get_ns() (CLOCK_MONOTONIC) of the event */
	struct emu_vm_task task;       /* current */
	__u64 kmem_lo, kmem_len;       /* synthetic kernel objects: loads, probe_read_kernel */
	__u64 umem_lo, umem_len;       /* the task's user memory: probe_read_user */
	__u64 func_ip;                 /* bpf_get_func_ip (0: none) */
	__u64 cookie;                  /* bpf_get_attach_cookie */
	__u32 nr_args;                 /* fentry/fexit/lsm: the u64 arguments at ctx (get_func_arg) */
	bool has_ret;                  /* fexit/fmod_ret: the return value at ctx[nr_args] */
	const __u64 *kstack, *ustack;  /* the stacks bpf_get_stack(id) report (NULL/0: none: EFAULT) */
	__u32 nr_kstack, nr_ustack;
};
/* Runs prog once on ev: 0 and *retval, or the run's -errno (a memory
 * violation, a helper not emulated...: logged as for BPF_PROG_TEST_RUN).
 * Statistics count it as the kernel's bpf_prog_run() does. */
int emu_vm_run_event(struct emu_obj *prog, const struct emu_vm_event *ev, __u64 *retval);

#endif
