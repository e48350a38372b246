/* SPDX-License-Identifier: MIT */
/* preload/perf.h: perf_event_open, PERF_EVENT_IOC_* and the probe files (perf.c). */
#ifndef BPFEMU_PRELOAD_PERF_H
#define BPFEMU_PRELOAD_PERF_H

/* syscall(SYS_perf_event_open, ...) with its six arguments: fd, or -1 and errno. */
long shim_perf_event_open(const long a[6]);
/* open of a /sys path: an fd, -1 and errno, or SHIM_UNHANDLED (procfs.h) for paths that are not probe files. */
int shim_perf_open(const char *path, int flags);
/* access(path, mode) of a probe file made up in inert mode: 0, or SHIM_UNHANDLED. */
int shim_perf_access(const char *path, int mode);

#endif
