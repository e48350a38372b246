/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/helpers.c: the helper table (helper_table.h, one line per helper),
 * and the helpers that are neither map (maps.c) nor packet (net.c) helpers:
 * time, randomness, the CPU, the calling task, bpf_loop and the ring
 * buffer (formatting and strings: fmt.c).
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

#define VM_HELPER(id, fn, sig, lim) __u64 fn(struct vm_run *, __u64, __u64, __u64, __u64, __u64);
#define VM_HELPER_USER(id, sig, lim)
#include "helper_table.h"
#undef VM_HELPER
#undef VM_HELPER_USER

static const struct vm_helper table[EMU_BPF_FUNC_MAX_ID] = {
#define VM_HELPER(id, fn, sig, lim) [id] = { fn, sig, lim },
#define VM_HELPER_USER(id, sig, lim) [id] = { NULL, sig, lim },
#include "helper_table.h"
#undef VM_HELPER
#undef VM_HELPER_USER
};

const struct vm_helper *vm_helper(__s32 id)
{
	return id > 0 && id < EMU_BPF_FUNC_MAX_ID && table[id].fn ? &table[id] : NULL;
}

const char *vm_helper_sig(__s32 id)
{
	return id > 0 && id < EMU_BPF_FUNC_MAX_ID ? table[id].sig : NULL;
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
void vm_caller_comm(char comm[17])
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
	vm_caller_comm(comm);
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
