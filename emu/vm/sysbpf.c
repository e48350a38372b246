/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/sysbpf.c: bpf_sys_bpf(cmd, attr, attr_size), the bpf() of syscall
 * programs, through the engine's own command table (emu_sys_bpf).
 *
 * As in the kernel (kern_sys_bpf's helper side), the commands are
 * MAP_CREATE, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MAP_FREEZE,
 * MAP_GET_FD_BY_ID, PROG_LOAD, BTF_LOAD, LINK_CREATE and
 * RAW_TRACEPOINT_OPEN (anything else: -EINVAL), the fds are the calling
 * process's, and every pointer in attr (the attr itself, keys, values,
 * instructions, logs) is the program's memory: the engine's copies go
 * through a caller (emu/caller.c) whose reads and writes are checked
 * against the run's regions, so a syscall program cannot make the engine
 * touch memory it could not touch itself; outside them a copy is -EFAULT.
 * Under the seccomp door the fds stay the served process's (the door's own
 * fd hooks), the memory the program's.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_int.h"
#include "../os_errno.h"

struct sb_caller {
	struct emu_caller c;
	struct emu_caller *outer;      /* the door's caller, NULL: this process */
	struct vm_run *run;
	int given_from, given_to;      /* this process: the fd handed back, and its copy */
};

static int sb_copy(struct sb_caller *s, const void *addr, size_t len, __u32 acc)
{
	if (!len)
		return 0;
	const struct vm_region *r = vm_region_find(s->run, (__u64)(uintptr_t)addr, len);
	return r && (r->perm & acc) == acc ? 0 : -EFAULT;
}

static int sb_read(struct emu_caller *c, void *dst, const void *src, size_t len)
{
	struct sb_caller *s = (struct sb_caller *)c;
	if (sb_copy(s, src, len, VM_RD))
		return -EFAULT;
	memmove(dst, src, len);
	return 0;
}

static int sb_write(struct emu_caller *c, void *dst, const void *src, size_t len)
{
	struct sb_caller *s = (struct sb_caller *)c;
	if (sb_copy(s, dst, len, VM_WR))
		return -EFAULT;
	memmove(dst, src, len);
	return 0;
}

static int sb_fd_get(struct emu_caller *c, int ufd)
{
	struct sb_caller *s = (struct sb_caller *)c;
	return s->outer ? s->outer->fd_get(s->outer, ufd) : ufd;
}

/* the engine closes fd after this: this process keeps a copy, renumbered
 * to fd once the engine closed it (see vm_h_sys_bpf) */
static int sb_fd_give(struct emu_caller *c, int fd)
{
	struct sb_caller *s = (struct sb_caller *)c;
	if (s->outer)
		return s->outer->fd_give(s->outer, fd);
	int n = emu_oe_fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (n < 0)
		return -errno;
	s->given_from = fd;
	s->given_to = n;
	return n;
}

__u64 vm_h_sys_bpf(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	int cmd = (int)r1;
	__u32 size = (__u32)r3;
	if (vm_mem_arg(run, r2, size, VM_RD, "bpf_sys_bpf's attr"))
		return 0;
	switch (cmd) {
	case BPF_MAP_CREATE:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_FREEZE:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_PROG_LOAD:
	case BPF_BTF_LOAD:
	case BPF_LINK_CREATE:
	case BPF_RAW_TRACEPOINT_OPEN:
		break;
	default:
		return (__u64)-EINVAL;
	}
	struct emu_caller *outer = emu_caller_get();
	struct sb_caller s = {
		.c = { .pid = emu_caller_pid(), .tid = emu_caller_tid(), .read = sb_read, .write = sb_write,
		       .fd_get = sb_fd_get, .fd_give = sb_fd_give, .door = outer ? outer->door : NULL },
		.outer = outer, .run = run, .given_from = -1, .given_to = -1,
	};
	emu_caller_set(&s.c);
	long ret = emu_sys_bpf(cmd, (const void *)(uintptr_t)r2, size);
	emu_caller_set(outer);
	if (!outer && s.given_to >= 0 && ret == s.given_to &&
	    emu_oe_dup3(s.given_to, s.given_from, O_CLOEXEC) == s.given_from) {
		/* the number the kernel would have given: the lowest free one */
		emu_fd_closed(s.given_to);
		emu_oe_close(s.given_to);
		ret = s.given_from;
	}
	return (__u64)ret;
}
