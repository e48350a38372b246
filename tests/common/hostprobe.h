/* SPDX-License-Identifier: MIT */
/*
 * tests/common/hostprobe.h: may this host's kernel show a feature at all?
 *
 * The engine answers as Linux 6.18 does. A kernel twin (a test that runs the
 * same calls on the live kernel to confirm the engine's answers) can only
 * confirm what the host lets it see: another kernel build, its config,
 * lockdown, a container's capabilities or no root at all may refuse a whole
 * feature. Before a twin relies on a map or program type, it asks here; if
 * the host refuses the feature (a minimal, valid use of it fails with a
 * refusal errno), the twin skips the kernel side with a one-line reason and
 * the engine's side keeps being checked against the test's own expectations.
 *
 * Every probe below is one that Linux 6.18 accepts (the engine's reference),
 * so a failing probe is the host's doing. Only refusals count (EPERM, EACCES,
 * EOPNOTSUPP, ENOTSUPP, and EINVAL, a kernel's word for a type it does not
 * know): a probe failing with another errno is not a refusal, the twin runs
 * and the host's different answer fails it.
 *
 * Header-only, used by the Criterion kernel builds (tests/unit/bt.h), the
 * differential runner (tests/diff/diff.c) and, through itest_helper's `need`
 * subcommand, the shell tests. Probes go to the real bpf() system call.
 */
#ifndef BPFEMU_TESTS_HOSTPROBE_H
#define BPFEMU_TESTS_HOSTPROBE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define HP_ENOTSUPP 524           /* the kernel's internal ENOTSUPP, seen by user space */
#define HP_NR_MAP_TYPES 34        /* Linux 6.18: ..., USER_RINGBUF 31, CGRP_STORAGE 32, ARENA 33 */
#define HP_NR_PROG_TYPES 33       /* Linux 6.18: ..., SYSCALL 31, NETFILTER 32 */

static const char *const hp_map_names[HP_NR_MAP_TYPES] = {
	"UNSPEC", "HASH", "ARRAY", "PROG_ARRAY", "PERF_EVENT_ARRAY", "PERCPU_HASH", "PERCPU_ARRAY",
	"STACK_TRACE", "CGROUP_ARRAY", "LRU_HASH", "LRU_PERCPU_HASH", "LPM_TRIE", "ARRAY_OF_MAPS",
	"HASH_OF_MAPS", "DEVMAP", "SOCKMAP", "CPUMAP", "XSKMAP", "SOCKHASH", "CGROUP_STORAGE",
	"REUSEPORT_SOCKARRAY", "PERCPU_CGROUP_STORAGE", "QUEUE", "STACK", "SK_STORAGE", "DEVMAP_HASH",
	"STRUCT_OPS", "RINGBUF", "INODE_STORAGE", "TASK_STORAGE", "BLOOM_FILTER", "USER_RINGBUF",
	"CGRP_STORAGE", "ARENA",
};

static const char *const hp_prog_names[HP_NR_PROG_TYPES] = {
	"UNSPEC", "SOCKET_FILTER", "KPROBE", "SCHED_CLS", "SCHED_ACT", "TRACEPOINT", "XDP", "PERF_EVENT",
	"CGROUP_SKB", "CGROUP_SOCK", "LWT_IN", "LWT_OUT", "LWT_XMIT", "SOCK_OPS", "SK_SKB",
	"CGROUP_DEVICE", "SK_MSG", "RAW_TRACEPOINT", "CGROUP_SOCK_ADDR", "LWT_SEG6LOCAL", "LIRC_MODE2",
	"SK_REUSEPORT", "FLOW_DISSECTOR", "CGROUP_SYSCTL", "RAW_TRACEPOINT_WRITABLE", "CGROUP_SOCKOPT",
	"TRACING", "STRUCT_OPS", "EXT", "LSM", "SK_LOOKUP", "SYSCALL", "NETFILTER",
};

static inline int hp_refusal(int err)
{
	return err == EPERM || err == EACCES || err == EOPNOTSUPP || err == HP_ENOTSUPP || err == EINVAL;
}

static inline const char *hp_errname(int err)
{
	static char buf[24];
	if (err == HP_ENOTSUPP)
		return "ENOTSUPP";
	const char *n = strerrorname_np(err);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static inline long hp_sys(int cmd, union bpf_attr *a)
{
	long r = syscall(__NR_bpf, cmd, a, sizeof(*a));
	return r < 0 ? -errno : r;
}

/* A minimal map of the type, as Linux 6.18 creates it: the fd or -errno;
 * -ENOSYS for a type this file does not probe (it needs BTF or a kernel
 * object to exist: the storages, STRUCT_OPS), which then counts as present. */
static inline long hp_map_create(__u32 type)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	switch (type) {
	case BPF_MAP_TYPE_STACK_TRACE:
		a.value_size = 8;
		break;
	case BPF_MAP_TYPE_LPM_TRIE:
		a.key_size = 8;
		a.map_flags = BPF_F_NO_PREALLOC;
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS: {
		long inner = hp_map_create(BPF_MAP_TYPE_ARRAY);
		if (inner < 0)
			return inner;
		a.inner_map_fd = (__u32)inner;
		long fd = hp_sys(BPF_MAP_CREATE, &a);
		close((int)inner);
		return fd;
	}
	case BPF_MAP_TYPE_CGROUP_STORAGE:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		a.key_size = 8;
		a.max_entries = 0;
		break;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
	case BPF_MAP_TYPE_BLOOM_FILTER:
		a.key_size = 0;
		break;
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF:
		a.key_size = 0;
		a.value_size = 0;
		a.max_entries = 4096;
		break;
	case 33: /* ARENA: one page, mmapable */
		a.key_size = 0;
		a.value_size = 0;
		a.map_flags = 1u << 10; /* BPF_F_MMAPABLE */
		break;
	case BPF_MAP_TYPE_SK_STORAGE:
	case BPF_MAP_TYPE_INODE_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE:
	case 32: /* CGRP_STORAGE */
	case BPF_MAP_TYPE_STRUCT_OPS:
	case BPF_MAP_TYPE_UNSPEC:
		return -ENOSYS;
	default:
		if (type >= HP_NR_MAP_TYPES)
			return -ENOSYS;
		break;
	}
	return hp_sys(BPF_MAP_CREATE, &a);
}

/* A minimal program of the type (r0 = 0; exit), with the attach type or flag
 * the type needs: the fd or -errno; -ENOSYS where a probe needs BTF (tracing,
 * struct_ops, ext, lsm) or the type is absent from the reference kernel
 * (LIRC_MODE2: CONFIG_BPF_LIRC_MODE2 is off there). */
static inline long hp_prog_load(__u32 type)
{
	static const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (__u64)(uintptr_t)ret0;
	a.insn_cnt = 2;
	a.license = (__u64)(uintptr_t)"GPL";
	switch (type) {
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
		a.expected_attach_type = BPF_CGROUP_INET4_CONNECT;
		break;
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		a.expected_attach_type = BPF_CGROUP_GETSOCKOPT;
		break;
	case BPF_PROG_TYPE_SK_LOOKUP:
		a.expected_attach_type = BPF_SK_LOOKUP;
		break;
	case 31: /* SYSCALL: sleepable only */
		a.prog_flags = 1u << 4; /* BPF_F_SLEEPABLE */
		break;
	case 32: /* NETFILTER */
		a.expected_attach_type = 45; /* BPF_NETFILTER */
		break;
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_STRUCT_OPS:
	case BPF_PROG_TYPE_EXT:
	case BPF_PROG_TYPE_LSM:
	case BPF_PROG_TYPE_LIRC_MODE2:
	case BPF_PROG_TYPE_UNSPEC:
		return -ENOSYS;
	default:
		if (type >= HP_NR_PROG_TYPES)
			return -ENOSYS;
		break;
	}
	return hp_sys(BPF_PROG_LOAD, &a);
}

/* Per process: 0 not asked yet, else 1 + errno of the probe (1 = present). */
static int hp_map_state[HP_NR_MAP_TYPES];
static int hp_prog_state[HP_NR_PROG_TYPES];

static inline int hp_probe(int *state, long (*make)(__u32), __u32 type)
{
	if (!*state) {
		long fd = make(type);
		if (fd >= 0)
			close((int)fd);
		*state = 1 + (fd >= 0 || fd == -ENOSYS ? 0 : (int)-fd);
	}
	return *state - 1;
}

/* 1 and a reason in why if the host refuses maps of this type, else 0. */
static inline int hp_host_refuses_map(__u32 type, char *why, size_t len)
{
	if (type >= HP_NR_MAP_TYPES)
		return 0;
	int err = hp_probe(&hp_map_state[type], hp_map_create, type);
	if (!hp_refusal(err))
		return 0;
	snprintf(why, len, "host kernel refuses %s map creation (%s)", hp_map_names[type], hp_errname(err));
	return 1;
}

/* 1 and a reason in why if the host refuses programs of this type, else 0. */
static inline int hp_host_refuses_prog(__u32 type, char *why, size_t len)
{
	if (type >= HP_NR_PROG_TYPES)
		return 0;
	int err = hp_probe(&hp_prog_state[type], hp_prog_load, type);
	if (!hp_refusal(err))
		return 0;
	snprintf(why, len, "host kernel refuses %s program loads (%s)", hp_prog_names[type], hp_errname(err));
	return 1;
}

/*
 * XDP features a host may refuse where Linux 6.18 has them: the
 * bpf_xdp_adjust_meta helper (a kernel built without it answers EINVAL,
 * "program of this type cannot use helper") and test runs with
 * BPF_F_TEST_XDP_LIVE_FRAMES (EPERM on some hosts). Each probe: the fd or
 * 0 on success, else -errno.
 */
static inline long hp_xdp_load(const struct bpf_insn *p, __u32 cnt)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (__u64)(uintptr_t)p;
	a.insn_cnt = cnt;
	a.license = (__u64)(uintptr_t)"GPL";
	return hp_sys(BPF_PROG_LOAD, &a);
}

static inline long hp_xdp_meta_load(__u32 unused)
{
	static const struct bpf_insn p[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = -8 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_meta },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	(void)unused;
	return hp_xdp_load(p, 4);
}

static inline long hp_xdp_live_run(__u32 unused)
{
	static const struct bpf_insn p[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },    /* XDP_DROP */
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned char pkt[64] = { 0 };
	union bpf_attr a;
	(void)unused;
	long fd = hp_xdp_load(p, 2);
	if (fd < 0)
		return fd;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.data_in = (__u64)(uintptr_t)pkt;
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = 1;
	a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	long r = hp_sys(BPF_PROG_TEST_RUN, &a);
	close((int)fd);
	return r;
}

static int hp_xdp_meta_state, hp_xdp_live_state;

/* 1 and "host kernel refuses WHAT (ERRNO)" in why if the probe's answer is
 * a refusal, else 0. */
static inline int hp_host_refuses_feature(int *state, long (*probe)(__u32), const char *what, char *why, size_t len)
{
	int err = hp_probe(state, probe, 0);
	if (!hp_refusal(err))
		return 0;
	snprintf(why, len, "host kernel refuses %s (%s)", what, hp_errname(err));
	return 1;
}

static inline int hp_host_refuses_xdp_meta(char *why, size_t len)
{
	return hp_host_refuses_feature(&hp_xdp_meta_state, hp_xdp_meta_load, "bpf_xdp_adjust_meta in XDP programs",
				       why, len);
}

static inline int hp_host_refuses_xdp_live(char *why, size_t len)
{
	return hp_host_refuses_feature(&hp_xdp_live_state, hp_xdp_live_run,
				       "XDP test runs with BPF_F_TEST_XDP_LIVE_FRAMES", why, len);
}

/* Reads len bytes of the caller's memory without faulting (a test may pass
 * NULL or a PROT_NONE page as attr on purpose): 0 or -1. */
static inline int hp_peek(const void *p, void *out, size_t len)
{
	struct iovec local = { out, len }, remote = { (void *)p, len };
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* Does this bpf() call use a feature the host refuses? 1 and a reason in why
 * (the map type of a MAP_CREATE, the program type of a PROG_LOAD), else 0. */
static inline int hp_host_refuses_call(int cmd, const void *attr, unsigned int size, char *why, size_t len)
{
	__u32 type;
	if (cmd == BPF_MAP_CREATE && size >= offsetof(union bpf_attr, map_type) + 4 &&
	    hp_peek((const char *)attr + offsetof(union bpf_attr, map_type), &type, 4) == 0)
		return hp_host_refuses_map(type, why, len);
	if (cmd == BPF_PROG_LOAD && size >= offsetof(union bpf_attr, prog_type) + 4 &&
	    hp_peek((const char *)attr + offsetof(union bpf_attr, prog_type), &type, 4) == 0)
		return hp_host_refuses_prog(type, why, len);
	return 0;
}

/* Appends "WHO: skipped: WHY" to $BPFEMU_SKIP_LOG (tools/check counts them
 * for its summary); one write, so parallel tests do not interleave. */
static inline void hp_skip_log(const char *who, const char *fmt, ...)
{
	const char *log = getenv("BPFEMU_SKIP_LOG");
	if (!log || !*log)
		return;
	char line[512];
	int n = snprintf(line, sizeof(line), "%s: skipped: ", who);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0) {
		ssize_t w = write(fd, line, (size_t)n);
		(void)w;
		close(fd);
	}
}

#endif
