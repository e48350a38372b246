/* SPDX-License-Identifier: MIT */
/*
 * tools/seccomp/door.h: the seccomp door's parts.
 *
 * run.c starts the program under a seccomp filter whose notifications come
 * to us (SCMP_ACT_NOTIFY on bpf() and the file calls that can name bpffs or
 * the /proc views), and serves them: door.c is the per-call caller context
 * the engine works through (the program's memory, fd table and cwd) and
 * bpf() and mmap(); files.c the calls that take paths; ring.c the epoll
 * calls that wait on ring buffer maps. Every other notified call continues
 * in the kernel unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 */
#ifndef BPFEMU_SECCOMP_DOOR_H
#define BPFEMU_SECCOMP_DOOR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/seccomp.h>

#include "emu.h"

/* A handler's answer: >= 0 the call's result, -errno its error, or one of these. */
#define DOOR_CONTINUE (-100000)     /* let the kernel run the call as the program made it */
#define DOOR_ANSWERED (-100001)     /* already answered (SECCOMP_ADDFD_FLAG_SEND) */

/* One notified call being served. */
struct call {
	struct emu_caller c;            /* the engine's view of the caller (c.door = this) */
	int nfd;                        /* the notification fd */
	__u64 id;                       /* the notification's id */
	int nr;                         /* system call number */
	__u64 args[6];
	int pidfd;                      /* of the calling thread (or its process), -1 until needed */
	bool have_pid;                  /* c.pid (the thread group) is known */
	bool answered;                  /* answered by an ADDFD with SEND */
	int *lfds, *ufds;               /* our copies of the caller's fds, this call */
	unsigned int nl, cap;
};

/* door.c */
bool call_valid(struct call *k);                       /* the notification still waits for us */
int call_pidfd(struct call *k);                         /* pidfd of the caller, or -errno */
pid_t call_tgid(struct call *k);                        /* the caller's process (thread group) */
void call_begin(struct call *k);                        /* the engine serves this caller now */
void call_end(struct call *k);                          /* closes our fd copies, engine back to us */
int call_read(struct call *k, void *dst, __u64 src, size_t len);          /* 0 or -EFAULT */
int call_write(struct call *k, __u64 dst, const void *src, size_t len);   /* 0 or -EFAULT */
long call_read_str(struct call *k, char *dst, __u64 src, size_t len);     /* length, -EFAULT, -ENAMETOOLONG */
int call_fd(struct call *k, int ufd);                   /* our copy of the caller's fd, or -EBADF */
int call_give_fd(struct call *k, int fd, bool cloexec); /* installs fd in the caller (answering), closes ours */
void door_hold_release_all(void);                       /* idle: drop the objects kept mapped */
int door_bpf(struct call *k);
int door_mmap(struct call *k);

/* files.c: the system calls that take paths, and fstatfs */
int door_files(struct call *k);
bool door_files_handles(int nr);
extern const char *const door_file_calls[];             /* names, for the filter */

/* ring.c: epoll on ring buffer maps */
int door_epoll_ctl(struct call *k);
int door_epoll_wait(struct call *k);
void door_ring_forget(pid_t tgid);

#endif
