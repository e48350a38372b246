/* SPDX-License-Identifier: MIT */
/* emu/link.h: attach calls. No program runs here, so nothing can be attached
 * for real: without BPFEMU_ATTACH=inert they fail with EOPNOTSUPP and a log
 * line; with it they succeed with link objects that do nothing. */
#ifndef BPFEMU_LINK_H
#define BPFEMU_LINK_H

#include "obj.h"

/* What sys.c decodes from BPF_LINK_CREATE / BPF_RAW_TRACEPOINT_OPEN. */
struct emu_link_spec {
	const char *cmd;          /* the command, for the log line */
	int prog_fd;
	__u32 attach_type;
	__u32 target;             /* target_fd or target_ifindex, as attach_type says */
	__u32 flags;
	const void *tp_name;      /* user pointer: raw tracepoint name (NULL: none) */
	bool raw_tp;
};

int emu_link_create(const struct emu_link_spec *spec);
/* BPF_PROG_ATTACH / BPF_PROG_DETACH: 0 in inert mode. */
int emu_prog_attach(const char *cmd, int prog_fd, __u32 attach_type, bool detach);
int emu_link_fill_info(struct emu_obj *link, struct bpf_link_info *info);

/* perf events: the shim's perf_event_open / ioctl wrappers and BPF_PERF_EVENT links. */
enum emu_perf_kind { EMU_PERF_NONE, EMU_PERF_KPROBE, EMU_PERF_UPROBE, EMU_PERF_TRACEPOINT, EMU_PERF_KERNEL };
const char *emu_perf_kind_name(enum emu_perf_kind kind);
/* Which probe PMU perf_event_attr.type names (kprobe and uprobe types as sysfs says, or made up when
 * sysfs lacks the PMU), EMU_PERF_NONE for any other type. */
enum emu_perf_kind emu_perf_attr_kind(__u32 type);
/* A stand-in event fd (a memfd that never fires; inert mode). fd or -errno. */
int emu_perf_standin_open(enum emu_perf_kind kind, bool cloexec);
/* A stand-in's kind, EMU_PERF_KERNEL for the kernel's perf event fds, EMU_PERF_NONE otherwise. */
enum emu_perf_kind emu_perf_fd_kind(int fd);
/* PERF_EVENT_IOC_SET_BPF with one of our programs: 0 on a stand-in in inert mode, else -errno. */
int emu_perf_set_bpf(int perf_fd, int prog_fd, enum emu_perf_kind kind);
/* Made-up contents of the sysfs / tracefs files libbpf reads before perf_event_open: length, or
 * -ENOENT for any other path. */
int emu_perf_made_up_file(const char *path, char *buf, size_t len);

#endif
