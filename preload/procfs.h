/* SPDX-License-Identifier: MIT */
/* preload/procfs.h: the /proc views the shim makes up. */
#ifndef BPFEMU_PRELOAD_PROCFS_H
#define BPFEMU_PRELOAD_PROCFS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define SHIM_UNHANDLED (-2)       /* "not mine": the caller does the real call */

/*
 * open() of /proc/mounts, /proc/self/mounts, /etc/mtab (a link to it),
 * /proc/self/mountinfo (or /proc/<our pid>/...), or /proc/self/fdinfo/N of a
 * bpf object fd, read-only: returns a descriptor of a memfd holding the
 * real content plus the bpf lines, -1 with errno, or SHIM_UNHANDLED.
 */
int shim_proc_open(const char *path, int flags);

/* readlink() of /proc/self/fd/N (or /proc/<our pid>/fd/N,
 * /proc/thread-self/fd/N) for a bpf object fd: "anon_inode:bpf-map" and so
 * on; NULL for anything else. */
const char *shim_proc_fd_link(const char *path);

/* The bpf object fd N that path names through /proc/self/fd/N (or
 * /proc/<our pid>/fd/N, /proc/thread-self/fd/N, /dev/fd/N), or -1. */
int shim_proc_obj_fd(const char *path);
/* Is fd a bpf object fd? */
bool shim_fd_is_obj(int fd);
/* What stat, statx and statfs show for a bpf object fd on the kernel: its
 * anonymous inode (that of any eventfd). Any pointer may be NULL; 0, or -1
 * if it cannot be had. */
struct statx;
int shim_anon_stat(struct stat *st, struct statx *stx, struct statfs *sfs);

#endif
