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

#endif
