/* SPDX-License-Identifier: MIT */
/*
 * emu/link.c: BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN, BPF_PROG_ATTACH and
 * friends.
 *
 * The engine loads programs but never runs them, so an attachment cannot
 * happen. By default these calls fail with EOPNOTSUPP and a BPFEMU_LOG=sys
 * line naming the call. BPFEMU_ATTACH=inert makes them succeed, for programs
 * that only need to load: the link is an object file like a map (kind
 * EMU_KIND_LINK, fd reading anon_inode:bpf_link) with an id, info and pins,
 * and it does nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "link.h"
#include "perf/perf.h"

static int perf_prog_check(enum emu_perf_kind kind, __u32 prog_type);

static int not_possible(const char *cmd)
{
	EMU_LOG(EMU_LOG_SYS,
		"bpf(%s): attaching a program needs a kernel; bpfemu loads programs but does not run them: "
		"EOPNOTSUPP (BPFEMU_ATTACH=inert makes attach calls succeed without effect)", cmd);
	return -EOPNOTSUPP;
}

/* the link type the kernel creates for an attach type (link_create()) */
static __u32 link_type_of(__u32 prog_type, __u32 attach_type)
{
	switch (attach_type) {
	case BPF_XDP: return BPF_LINK_TYPE_XDP;
	case BPF_PERF_EVENT: return BPF_LINK_TYPE_PERF_EVENT;
	case BPF_TRACE_ITER: return BPF_LINK_TYPE_ITER;
	case BPF_FLOW_DISSECTOR: case BPF_SK_LOOKUP: return BPF_LINK_TYPE_NETNS;
	case BPF_TRACE_KPROBE_MULTI: return BPF_LINK_TYPE_KPROBE_MULTI;
	case BPF_TRACE_FENTRY: case BPF_TRACE_FEXIT: case BPF_MODIFY_RETURN: case BPF_LSM_MAC:
		return BPF_LINK_TYPE_TRACING;
	default: break;
	}
	switch (prog_type) {
	case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_CGROUP_SOCK: case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_SOCK_OPS: case BPF_PROG_TYPE_CGROUP_DEVICE: case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		return BPF_LINK_TYPE_CGROUP;
	case BPF_PROG_TYPE_TRACING: case BPF_PROG_TYPE_LSM: case BPF_PROG_TYPE_EXT:
		return BPF_LINK_TYPE_TRACING;
	default: return BPF_LINK_TYPE_UNSPEC;
	}
}

int emu_link_create(const struct emu_link_spec *s)
{
	struct emu_obj *prog, *link;
	char tp[64] = "";
	int acc, err;

	err = emu_fd_get(s->prog_fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;                         /* bpf_prog_get(): EBADF or EINVAL */
	const struct emu_prog_desc *p = &prog->hdr->prog;
	enum emu_perf_kind perf = EMU_PERF_NONE;
	if (!s->raw_tp && s->attach_type == BPF_PERF_EVENT &&
	    (p->prog_type == BPF_PROG_TYPE_KPROBE || p->prog_type == BPF_PROG_TYPE_TRACEPOINT ||
	     p->prog_type == BPF_PROG_TYPE_PERF_EVENT)) {
		perf = emu_perf_fd_kind((int)s->target);   /* bpf_perf_link_attach(): perf_event_get() */
		if (perf == EMU_PERF_NONE) {
			emu_obj_put(prog);
			return -EBADF;
		}
	}
	if (!emu_config()->attach_inert) {
		emu_obj_put(prog);
		return not_possible(s->cmd);
	}
	if (perf != EMU_PERF_NONE && perf != EMU_PERF_KERNEL) {
		err = perf_prog_check(perf, p->prog_type);
		if (err)
			goto out;
	}
	__u32 type = s->raw_tp ? BPF_LINK_TYPE_RAW_TRACEPOINT : link_type_of(p->prog_type, s->attach_type);
	if (!s->raw_tp && s->attach_type == BPF_XDP) {
		char name[IF_NAMESIZE];
		if (p->prog_type != BPF_PROG_TYPE_XDP) {
			err = -EINVAL;
			goto out;
		}
		if (!if_indextoname(s->target, name)) {
			err = -ENODEV;
			goto out;
		}
	}
	if (s->raw_tp && s->tp_name) {
		long n = emu_strncpy_from_user(tp, s->tp_name, sizeof(tp));
		if (n < 0) {
			err = (int)n;
			goto out;
		}
	}
	int fd = emu_obj_create(EMU_KIND_LINK, 0, &link);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	struct emu_link_desc *l = &link->hdr->link;
	l->link_type = type;
	l->attach_type = s->attach_type;
	l->prog_id = prog->hdr->id;
	l->prog_type = p->prog_type;
	l->target_ifindex = s->attach_type == BPF_XDP ? s->target : 0;
	memcpy(l->tp_name, tp, sizeof(l->tp_name));
	link->hdr->id = emu_id_alloc(EMU_KIND_LINK);
	if (!link->hdr->id) {
		close(fd);
		emu_obj_put(link);
		err = -ENOSPC;
		goto out;
	}
	__atomic_store_n(&link->hdr->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install(fd, link);
	EMU_LOG(EMU_LOG_SYS, "bpf(%s): BPFEMU_ATTACH=inert: link %u for program %u does nothing", s->cmd,
		link->hdr->id, prog->hdr->id);
	err = fd;
out:
	emu_obj_put(prog);
	return err;
}

int emu_prog_attach(const char *cmd, int prog_fd, __u32 attach_type, bool detach)
{
	(void)attach_type;
	if (!emu_config()->attach_inert) {
		if (detach)
			return -ENOENT;                 /* nothing was ever attached */
		return not_possible(cmd);
	}
	if (!detach || prog_fd) {
		struct emu_obj *prog;
		int acc, err = emu_fd_get(prog_fd, EMU_KIND_PROG, &prog, &acc);
		if (err)
			return err;
		emu_obj_put(prog);
	}
	EMU_LOG(EMU_LOG_SYS, "bpf(%s): BPFEMU_ATTACH=inert: accepted, nothing attached", cmd);
	return 0;
}

int emu_link_fill_info(struct emu_obj *link, struct bpf_link_info *info)
{
	const struct emu_link_desc *l = &link->hdr->link;
	memset(info, 0, sizeof(*info));
	info->type = l->link_type;
	info->id = link->hdr->id;
	info->prog_id = l->prog_id;
	if (l->link_type == BPF_LINK_TYPE_XDP)
		info->xdp.ifindex = l->target_ifindex;
	return 0;
}

/* ---- perf events (PERF_EVENT_IOC_SET_BPF, BPF_PERF_EVENT links, BPF_TASK_FD_QUERY) ---- */

/*
 * perf_event_set_bpf_prog(): the program type must suit the event: kprobe and
 * uprobe events take kprobe programs, tracepoints tracepoint programs, a
 * software event (BPF output) a perf_event program.
 */
static int perf_prog_check(enum emu_perf_kind kind, __u32 prog_type)
{
	if ((kind == EMU_PERF_KPROBE || kind == EMU_PERF_UPROBE) && prog_type != BPF_PROG_TYPE_KPROBE)
		return -EINVAL;
	if (kind == EMU_PERF_TRACEPOINT && prog_type != BPF_PROG_TYPE_TRACEPOINT)
		return -EINVAL;
	if (kind == EMU_PERF_BPF_OUTPUT && prog_type != BPF_PROG_TYPE_PERF_EVENT)
		return -EINVAL;
	return 0;
}

int emu_perf_attach(struct emu_obj *ev, struct emu_obj *prog, __u32 link_id, __u64 cookie)
{
	struct emu_perf_state *st = emu_perf_state(ev);
	int err = 0;
	emu_mutex_lock_robust(&st->lock);
	/* event->prog: one program per event; a link's program goes with its last fd */
	if (st->prog_id && (!st->link_id || emu_obj_alive(EMU_KIND_LINK, st->link_id))) {
		err = -EEXIST;
	} else {
		st->prog_id = prog->hdr->id;
		st->prog_type = prog->hdr->prog.prog_type;
		st->link_id = link_id;
		st->bpf_cookie = cookie;
	}
	pthread_mutex_unlock(&st->lock);
	return err;
}

int emu_perf_set_bpf(int perf_fd, int prog_fd)
{
	struct emu_obj *prog, *ev;
	enum emu_perf_kind kind = emu_perf_fd_kind(perf_fd);
	int acc, err = emu_fd_get(prog_fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;                         /* bpf_prog_get(): EBADF or EINVAL */
	if (kind == EMU_PERF_KERNEL || !emu_config()->attach_inert) {
		EMU_LOG(EMU_LOG_SYS,
			"ioctl(%d, PERF_EVENT_IOC_SET_BPF, %d): attaching a program needs a kernel; bpfemu loads "
			"programs but does not run them: EOPNOTSUPP (BPFEMU_ATTACH=inert makes attach calls succeed "
			"without effect)", perf_fd, prog_fd);
		emu_obj_put(prog);
		return -EOPNOTSUPP;
	}
	err = perf_prog_check(kind, prog->hdr->prog.prog_type);
	if (!err && !(err = emu_fd_get(perf_fd, EMU_KIND_PERF_EVENT, &ev, &acc))) {
		err = emu_perf_attach(ev, prog, 0, 0);
		emu_obj_put(ev);
	}
	if (!err)
		EMU_LOG(EMU_LOG_SYS, "ioctl(%d, PERF_EVENT_IOC_SET_BPF, %d): BPFEMU_ATTACH=inert: program %u on a "
			"%s stand-in, does nothing", perf_fd, prog_fd, prog->hdr->id, emu_perf_kind_name(kind));
	emu_obj_put(prog);
	return err;
}

/* bpf_get_perf_event_info() */
int emu_perf_query(struct emu_obj *ev, __u32 *prog_id, __u32 *fd_type, const char **buf, __u64 *probe_offset,
		   __u64 *probe_addr)
{
	struct emu_perf_state *st = emu_perf_state(ev);
	if (!st->prog_id || (st->link_id && !emu_obj_alive(EMU_KIND_LINK, st->link_id)))
		return -ENOENT;
	if (st->prog_type == BPF_PROG_TYPE_PERF_EVENT)
		return -EOPNOTSUPP;
	*prog_id = st->prog_id;
	*buf = st->name_len ? st->name : NULL;
	*probe_offset = *probe_addr = 0;
	switch (st->kind) {
	case EMU_PERF_TRACEPOINT:
		*fd_type = BPF_FD_TYPE_TRACEPOINT;
		return 0;
	case EMU_PERF_KPROBE:
		*fd_type = st->retprobe ? BPF_FD_TYPE_KRETPROBE : BPF_FD_TYPE_KPROBE;
		if (st->name_len)
			*probe_offset = st->probe_offset;
		return 0;                       /* an address-only probe: its address is not shown (kptr) */
	case EMU_PERF_UPROBE:
		*fd_type = st->retprobe ? BPF_FD_TYPE_URETPROBE : BPF_FD_TYPE_UPROBE;
		*probe_offset = st->probe_offset;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
