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
#include "os.h"

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
	/* bpf_link_settle(): anon_inode_getfile(..., O_CLOEXEC), a read-only fd */
	int fd = emu_obj_create_mode(EMU_KIND_LINK, 0, 0, O_RDONLY, &link);
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
		emu_os_close(fd);
		emu_obj_put(link);
		err = -ENOSPC;
		goto out;
	}
	__atomic_store_n(&link->hdr->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install_acc(fd, link, O_RDONLY);
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

/* ---- perf events (perf_event_open + PERF_EVENT_IOC_SET_BPF, BPF_PERF_EVENT links) ---- */

/* A stand-in perf event is a memfd with this name prefix and the kind after it. */
#define PERF_STANDIN "bpfemu-perf-"
/* PMU types made up when sysfs has no such PMU (a kernel without kprobes):
 * far above the kernel's dynamically allocated PMU type numbers. */
#define MADE_UP_KPROBE_TYPE 1000001
#define MADE_UP_UPROBE_TYPE 1000002

static const char *const perf_kind_names[] = {
	[EMU_PERF_KPROBE] = "kprobe", [EMU_PERF_UPROBE] = "uprobe", [EMU_PERF_TRACEPOINT] = "tracepoint",
};

const char *emu_perf_kind_name(enum emu_perf_kind kind)
{
	return kind >= EMU_PERF_KPROBE && kind <= EMU_PERF_TRACEPOINT ? perf_kind_names[kind] : "perf";
}

static int read_sysfs_int(const char *path, int *out)
{
	char buf[32];
	if (emu_os_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	*out = atoi(buf);
	return 0;
}

/* The kernel's PMU type for kprobe / uprobe events, or the made-up one. */
static int pmu_type(enum emu_perf_kind kind, bool *made_up)
{
	static int cached[EMU_PERF_TRACEPOINT + 1];
	static bool cached_made_up[EMU_PERF_TRACEPOINT + 1];
	if (kind == EMU_PERF_TRACEPOINT) {
		*made_up = false;
		return PERF_TYPE_TRACEPOINT;
	}
	int t = __atomic_load_n(&cached[kind], __ATOMIC_ACQUIRE);
	if (!t) {
		char path[96];
		snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", perf_kind_names[kind]);
		bool m = read_sysfs_int(path, &t) != 0 || t <= 0;
		if (m)
			t = kind == EMU_PERF_KPROBE ? MADE_UP_KPROBE_TYPE : MADE_UP_UPROBE_TYPE;
		cached_made_up[kind] = m;
		__atomic_store_n(&cached[kind], t, __ATOMIC_RELEASE);
	}
	*made_up = cached_made_up[kind];
	return t;
}

enum emu_perf_kind emu_perf_attr_kind(__u32 type)
{
	bool m;
	if (type == PERF_TYPE_TRACEPOINT)
		return EMU_PERF_TRACEPOINT;
	if ((int)type == pmu_type(EMU_PERF_KPROBE, &m))
		return EMU_PERF_KPROBE;
	if ((int)type == pmu_type(EMU_PERF_UPROBE, &m))
		return EMU_PERF_UPROBE;
	return EMU_PERF_NONE;
}

int emu_perf_standin_open(enum emu_perf_kind kind, bool cloexec)
{
	char name[32];
	snprintf(name, sizeof(name), PERF_STANDIN "%s", perf_kind_names[kind]);
	int fd = emu_os_memfd_create(name, cloexec ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	EMU_LOG(EMU_LOG_SYS, "perf_event_open(%s): BPFEMU_ATTACH=inert: stand-in event fd %d that never fires",
		perf_kind_names[kind], fd);
	return fd;
}

enum emu_perf_kind emu_perf_fd_kind(int fd)
{
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", emu_caller_fd(fd));
	long n = emu_os_readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return EMU_PERF_NONE;
	target[n] = '\0';
	if (!strcmp(target, "anon_inode:[perf_event]"))
		return EMU_PERF_KERNEL;
	if (strncmp(target, "/memfd:" PERF_STANDIN, strlen("/memfd:" PERF_STANDIN)))
		return EMU_PERF_NONE;
	const char *k = target + strlen("/memfd:" PERF_STANDIN);
	for (int i = EMU_PERF_KPROBE; i <= EMU_PERF_TRACEPOINT; i++) {
		size_t len = strlen(perf_kind_names[i]);
		if (!strncmp(k, perf_kind_names[i], len) && (k[len] == ' ' || !k[len]))
			return (enum emu_perf_kind)i;
	}
	return EMU_PERF_NONE;
}

/*
 * perf_event_set_bpf_prog(): the program type must suit the event, kprobe and
 * uprobe events take kprobe programs, tracepoints tracepoint programs. Only
 * stand-ins (inert mode) get this far with one of our programs.
 */
static int perf_prog_check(enum emu_perf_kind kind, __u32 prog_type)
{
	if ((kind == EMU_PERF_KPROBE || kind == EMU_PERF_UPROBE) && prog_type != BPF_PROG_TYPE_KPROBE)
		return -EINVAL;
	if (kind == EMU_PERF_TRACEPOINT && prog_type != BPF_PROG_TYPE_TRACEPOINT)
		return -EINVAL;
	return 0;
}

int emu_perf_set_bpf(int perf_fd, int prog_fd, enum emu_perf_kind kind)
{
	struct emu_obj *prog;
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
	if (!err)
		EMU_LOG(EMU_LOG_SYS, "ioctl(%d, PERF_EVENT_IOC_SET_BPF, %d): BPFEMU_ATTACH=inert: program %u on a "
			"%s stand-in, does nothing", perf_fd, prog_fd, prog->hdr->id, perf_kind_names[kind]);
	emu_obj_put(prog);
	return err;
}

/* Made-up answers for the tracefs and sysfs files libbpf reads before
 * perf_event_open (inert mode, when the real file cannot be read):
 *   /sys/bus/event_source/devices/{kprobe,uprobe}/type   the PMU type
 *   /sys/bus/event_source/devices/{kprobe,uprobe}/format/retprobe   "config:0"
 *   {/sys/kernel/tracing,/sys/kernel/debug/tracing}/events/CAT/NAME/id   a made-up id */
int emu_perf_made_up_file(const char *path, char *buf, size_t len)
{
	static const char dev[] = "/sys/bus/event_source/devices/";
	if (!strncmp(path, dev, strlen(dev))) {
		const char *p = path + strlen(dev);
		for (int k = EMU_PERF_KPROBE; k <= EMU_PERF_UPROBE; k++) {
			size_t n = strlen(perf_kind_names[k]);
			if (strncmp(p, perf_kind_names[k], n) || p[n] != '/')
				continue;
			bool m;
			if (!strcmp(p + n, "/type"))
				return snprintf(buf, len, "%d\n", pmu_type((enum emu_perf_kind)k, &m));
			if (!strcmp(p + n, "/format/retprobe"))
				return snprintf(buf, len, "config:0\n");
		}
		return -ENOENT;
	}
	const char *ev = NULL;
	if (!strncmp(path, "/sys/kernel/tracing/events/", 27))
		ev = path + 27;
	else if (!strncmp(path, "/sys/kernel/debug/tracing/events/", 33))
		ev = path + 33;
	if (!ev)
		return -ENOENT;
	const char *slash = strchr(ev, '/');
	const char *name_end = slash ? strchr(slash + 1, '/') : NULL;
	if (!slash || slash == ev || !name_end || name_end == slash + 1 || strcmp(name_end, "/id"))
		return -ENOENT;
	__u32 h = 2166136261u;                      /* FNV-1a of "CAT/NAME": stable per tracepoint */
	for (const char *c = ev; c < name_end; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return snprintf(buf, len, "%u\n", 100000 + h % 900000);
}
