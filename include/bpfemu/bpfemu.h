/* SPDX-License-Identifier: MIT */
/*
 * bpfemu: the Linux bpf() system call in user space.
 *
 * Embedding API. A program that links libbpfemu (or the static engine) can run
 * the emulated bpf() in-process without LD_PRELOAD:
 *
 *     int fd = bpfemu_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
 *
 * bpfemu_bpf() returns exactly what syscall(__NR_bpf, cmd, attr, size) would:
 * a non-negative result, or -1 with errno set to the kernel's errno.
 *
 * Environment (read once, on first use):
 *   BPFEMU_ROOT   state root (default /dev/shm/bpfemu-$UID), created 0700
 *   BPFEMU_BPFFS  extra bpffs mount points, ':'-separated (/sys/fs/bpf always)
 *   BPFEMU_LOG    comma-separated categories for one-line explanations on
 *                 stderr: sys, map, path, shim, vm, all
 *   BPFEMU_VM_TIMEOUT_MS  the longest a BPF program may loop in one run
 *                 (default 10000); a longer run ends with ETIME
 *   BPFEMU_FUNCS  shared objects (':'-separated) whose functions stand in
 *                 for helpers and kfuncs (bpfemu_funcs_load below)
 */
#ifndef BPFEMU_BPFEMU_H
#define BPFEMU_BPFEMU_H

#ifdef __cplusplus
extern "C" {
#endif

#define BPFEMU_VERSION "0.1.0"

/* Returns what syscall(__NR_bpf, cmd, attr, size) returns: >= 0, or -1 and errno. */
long bpfemu_bpf(int cmd, void *attr, unsigned int size);

/*
 * Tell the engine that fd was closed behind its back (for embedders that do
 * not run under the preload shim, which sees close() itself). Harmless for
 * fds that are not bpf objects.
 */
void bpfemu_forget_fd(int fd);

/*
 * Ring buffers: what a BPF program does to them, done from user space (any
 * process that has the map fd, e.g. from BPF_OBJ_GET of a pin).
 *
 * bpfemu_ringbuf_output: bpf_ringbuf_output() on a BPF_MAP_TYPE_RINGBUF map:
 * appends one record of size bytes for consumers such as libbpf's
 * ring_buffer__poll(). flags: BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP.
 * Returns 0, or -1 and errno (EAGAIN: no room; EINVAL: not a ring buffer).
 *
 * bpfemu_user_ringbuf_drain: bpf_user_ringbuf_drain() on a
 * BPF_MAP_TYPE_USER_RINGBUF map: calls fn(data, size, ctx) for each record
 * libbpf's user_ring_buffer__submit() committed, in order; fn returning
 * non-zero stops. Returns the number of records, or -1 and errno.
 */
int bpfemu_ringbuf_output(int map_fd, const void *data, unsigned long long size, unsigned long long flags);
long bpfemu_user_ringbuf_drain(int map_fd, int (*fn)(const void *data, unsigned int size, void *ctx), void *ctx);

/*
 * BPF_PROG_TEST_RUN does not send packets anywhere. Where the calling
 * thread's last test run redirected its packet (bpf_redirect,
 * bpf_redirect_map): returns 1 and fills what is asked for (the target
 * ifindex: bpf_redirect's, or a devmap slot's device; the map's id and key,
 * 0 for bpf_redirect; the flags), or 0 when that run did not redirect.
 */
int bpfemu_test_run_redirect(unsigned int *ifindex, unsigned int *map_id, unsigned int *key,
			     unsigned long long *flags);

/*
 * User functions for programs (the engine calls them through libffi, the
 * call built from the function's prototype: a helper's from bpfemu's helper
 * table, a kfunc's from the program's BTF or the kernel's; see the README's
 * "User functions"). A function stands in for the helper or kfunc of its
 * name: bpf_ktime_get_ns, bpf_get_prandom_u32, bpf_get_current_pid_tgid, ...
 * or a kfunc the program declares __ksym (bpf_xdp_metadata_rx_hash, ...).
 * Programs decoded afterwards (loaded, or first run in this process) use it.
 *
 * bpfemu_funcs_load: dlopen() a shared object whose exported functions are
 * looked up by name (BPFEMU_FUNCS=a.so:b.so does the same at start).
 * bpfemu_func_set: one function by pointer (NULL removes it); it wins over
 * the shared objects'.
 * Both return 0, or -1 and errno (ENOENT: the object cannot be loaded).
 */
int bpfemu_funcs_load(const char *path);
int bpfemu_func_set(const char *name, void (*fn)(void));

/*
 * Perf buffers: bpf_perf_event_output() from user space, into a
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY whose slots hold PERF_COUNT_SW_BPF_OUTPUT
 * events (as libbpf's perf_buffer__new() stores them; under bpfemu such
 * events are emulated for every user). flags is the helper's: a slot index,
 * or BPF_F_CURRENT_CPU (0xffffffff) for the slot of the CPU the caller runs
 * on. An explicit index writes as a program running on the CPU of the slot's
 * event would: the record lands in that event's buffer (libbpf's perf_buffer
 * puts CPU i's event in slot i). The record is a PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW (and the
 * other fields its sample_type asks for: pid/tid and time are the caller's),
 * preceded by a PERF_RECORD_LOST when records were lost since; consumers are
 * woken as the kernel wakes them (wakeup_events, watermark).
 * Returns 0, or -1 and errno: EINVAL (not a perf event array, flags, not a
 * BPF output event), E2BIG (index past max_entries, or a record over 64 KiB),
 * ENOENT (empty slot), EOPNOTSUPP (event disabled or bound to another CPU),
 * ENOSPC (no ring mapped yet, paused, or full: the loss is reported to the
 * consumer by the next record that fits), EFAULT.
 *
 * bpfemu_perf_output_on_cpu: exactly what bpf_perf_event_output(ctx, map,
 * flags, data, size) returns and writes in a program running on CPU cpu:
 * an event bound to another CPU (or disabled) is EOPNOTSUPP, as on the kernel.
 */
int bpfemu_perf_output(int map_fd, unsigned long long flags, const void *data, unsigned long long size);
int bpfemu_perf_output_on_cpu(int map_fd, unsigned int cpu, unsigned long long flags, const void *data,
			      unsigned long long size);

#ifdef __cplusplus
}
#endif
#endif
