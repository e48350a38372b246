/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/link_twin.c: attach calls and link objects, field by field.
 *
 *   link_twin shared    what this host's kernel can do too (as root, in a
 *                       private network namespace with tracefs mounted): a
 *                       tracepoint and a uprobe through perf_event_open +
 *                       BPF_LINK_CREATE(BPF_PERF_EVENT), PERF_EVENT_IOC_SET_BPF,
 *                       raw_tp (BPF_RAW_TRACEPOINT_OPEN), tp_btf, a task
 *                       iterator and BPF_ITER_CREATE, a cgroup link and
 *                       BPF_PROG_QUERY, XDP and tcx on lo, netfilter,
 *                       sk_lookup on this network namespace, their errors, link info (every field, ids as L1, P1,
 *                       names), LINK_DETACH, LINK_UPDATE and BPF_TASK_FD_QUERY
 *   link_twin tracing   kprobe (a PMU this kernel lacks), fentry/fexit/lsm
 *                       (refused under lockdown here), kprobe.multi (this
 *                       kernel is built without fprobe): expected answers only
 *
 * Emulated runs need BPFEMU_ATTACH=inert (the script sets it).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BPF_TRACE_ITER_ 28
#define BPF_PROG_TYPE_NETFILTER_ 32
#define BPF_NETFILTER_ 45
#define BPF_TCX_INGRESS_ 46

static long sys_bpf(int cmd, void *a, unsigned int size)
{
	return syscall(__NR_bpf, cmd, a, size);
}

static const char *en(int e)
{
	return e == 524 ? "ENOTSUPP" : strerrorname_np(e);
}

/* ---- ids printed as L<n> / P<n> in order of appearance ---- */
static __u32 link_ids[64], prog_ids[64];
static int nlinks, nprogs;

static int idx(__u32 *tab, int *n, __u32 id)
{
	for (int i = 0; i < *n; i++)
		if (tab[i] == id)
			return i + 1;
	tab[*n] = id;
	return ++*n;
}

/* ---- vmlinux BTF ids by name ---- */
static __u32 btf_find(const char *name, __u32 kind)
{
	static char *vm;
	static const char *types, *strs;
	static __u32 len;
	if (!vm) {
		int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
		if (fd < 0)
			return 0;
		vm = malloc(16 << 20);
		ssize_t n, t = 0;
		while ((n = read(fd, vm + t, (16 << 20) - t)) > 0)
			t += n;
		close(fd);
		const struct btf_header *h = (const void *)vm;
		types = vm + h->hdr_len + h->type_off;
		strs = vm + h->hdr_len + h->str_off;
		len = h->type_len;
	}
	__u32 id = 1;
	for (__u32 pos = 0; pos < len; id++) {
		const struct btf_type *t = (const void *)(types + pos);
		__u32 k = BTF_INFO_KIND(t->info), v = BTF_INFO_VLEN(t->info);
		if (k == kind && !strcmp(strs + t->name_off, name))
			return id;
		pos += sizeof(*t);
		pos += k == BTF_KIND_INT || k == BTF_KIND_VAR || k == BTF_KIND_DECL_TAG ? 4
		       : k == BTF_KIND_ARRAY ? 12
		       : k == BTF_KIND_STRUCT || k == BTF_KIND_UNION || k == BTF_KIND_DATASEC || k == BTF_KIND_ENUM64 ? v * 12
		       : k == BTF_KIND_ENUM || k == BTF_KIND_FUNC_PROTO ? v * 8 : 0;
	}
	return 0;
}

/* ---- programs ---- */
static int load(const char *what, __u32 type, __u32 eat, __u32 btf_id, int ret)
{
	struct bpf_insn p[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)p;
	a.insn_cnt = 2;
	a.license = (uintptr_t) "GPL";
	a.expected_attach_type = eat;
	a.attach_btf_id = btf_id;
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0) {
		printf("load %s: %s\n", what, en(errno));
		return -1;
	}
	struct bpf_prog_info info = { 0 };
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info = (uintptr_t)&info;
	a.info.info_len = sizeof(info);
	sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
	printf("load %s: P%d\n", what, idx(prog_ids, &nprogs, info.id));
	return fd;
}

/* ---- links ---- */
struct lc {                                      /* Linux 6.18's link_create */
	__u32 prog_fd, target_fd, attach_type, flags;
	union {
		__u32 target_btf_id;
		struct { __u64 iter_info; __u32 iter_info_len; } iter;
		struct { __u64 bpf_cookie; } perf_event;
		struct { __u32 flags, cnt; __u64 syms, addrs, cookies; } kprobe_multi;
		struct { __u32 target_btf_id; __u64 cookie; } tracing;
		struct { __u32 pf, hooknum; __s32 priority; __u32 flags; } netfilter;
		struct { __u32 relative_fd; __u64 expected_revision; } tcx;
		__u64 pad[6];
	};
};

static int link_create(const char *what, struct lc *c)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	memcpy(&a, c, sizeof(*c));
	int fd = (int)sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	printf("  link %-40s %s\n", what, fd >= 0 ? "ok" : en(errno));
	return fd;
}

static void show_name(const char *field, __u64 p, __u32 len)
{
	printf(" %s='%s'(%u)", field, p ? (const char *)(uintptr_t)p : "", len);
}

static void info(int fd)
{
	if (fd < 0)
		return;
	__u64 buf[8];
	char n1[256] = "";
	unsigned char *i = (unsigned char *)buf;
	__u32 type, id, prog;
	union bpf_attr a;
	memset(buf, 0, sizeof(buf));
	/* names: ask with a buffer where the type has one */
	for (int pass = 0; pass < 2; pass++) {
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (__u32)fd;
		a.info.info = (uintptr_t)buf;
		a.info.info_len = sizeof(buf);
		long r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
		if (r) {
			printf("    info: %s\n", en(errno));
			return;
		}
		memcpy(&type, i, 4);
		if (pass)
			break;
		__u64 p = (uintptr_t)n1;
		__u32 l = sizeof(n1);
		memset(buf, 0, sizeof(buf));
		if (type == 1 || type == 4) {          /* raw_tp, iter: name at +16, len at +24 */
			memcpy(i + 16, &p, 8);
			memcpy(i + 24, &l, 4);
		} else if (type == 7) {                /* perf_event: name at +24, len at +32 */
			memcpy(i + 24, &p, 8);
			memcpy(i + 32, &l, 4);
		}
	}
	memcpy(&id, i + 4, 4);
	memcpy(&prog, i + 8, 4);
	printf("    info: info_len %u type %u L%d prog P%d", a.info.info_len, type, idx(link_ids, &nlinks, id),
	       idx(prog_ids, &nprogs, prog));
	__u32 w[12];
	__u64 q[6];
	memcpy(w, i + 16, 48);
	memcpy(q, i + 16, 48);
	switch (type) {
	case 1: show_name("tp", q[0], w[2]); printf(" cookie=%llu", (unsigned long long)q[2]); break;
	case 2: printf(" attach_type=%u target_obj_id=%u target_btf_id=%s cookie=%llu", w[0], w[1],
		       w[2] ? "set" : "0", (unsigned long long)q[2]); break;
	case 3: printf(" cgroup_id=%s attach_type=%u", q[0] ? "set" : "0", w[2]); break;
	case 4: show_name("target", q[0], w[2]); printf(" map_id=%u", w[3]); break;
	case 5: printf(" netns_ino=%s attach_type=%u", w[0] ? "set" : "0", w[1]); break;
	case 6: printf(" ifindex=%u", w[0]); break;
	case 7:
		printf(" perf_type=%u", w[0]);
		if (w[0] == 5) {
			show_name("tp", q[1], w[4]);
			printf(" cookie=%llu", (unsigned long long)q[3]);
		} else if (w[0] == 1 || w[0] == 2) {
			show_name("file", q[1], w[4]);
			printf(" offset=%u cookie=%llu", w[5], (unsigned long long)q[3]);
		} else if (w[0] == 3 || w[0] == 4) {
			show_name("func", q[1], w[4]);
			printf(" offset=%u addr=%s missed=%llu cookie=%llu", w[5], q[3] ? "set" : "0",
			       (unsigned long long)q[4], (unsigned long long)q[5]);
		}
		break;
	case 8: printf(" count=%u flags=%u missed=%llu", w[2], w[3], (unsigned long long)q[2]); break;
	case 10: printf(" pf=%u hooknum=%u priority=%d flags=%u", w[0], w[1], (int)w[2], w[3]); break;
	case 11: printf(" ifindex=%u attach_type=%u", w[0], w[1]); break;
	}
	printf("\n");
}

static int perf_open(const char *what, __u32 type, __u64 config, __u64 c1, __u64 c2)
{
	struct perf_event_attr a = { .type = type, .size = sizeof(a), .config = config, .config1 = c1, .config2 = c2,
				     .sample_period = 1, .wakeup_events = 1 };
	int fd = (int)syscall(__NR_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		printf("  perf_event_open %s: %s\n", what, en(errno));
	return fd;
}

static void fd_query(const char *what, int fd)
{
	char buf[256] = "";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.task_fd_query.pid = (__u32)getpid();
	a.task_fd_query.fd = (__u32)fd;
	a.task_fd_query.buf = (uintptr_t)buf;
	a.task_fd_query.buf_len = sizeof(buf);
	long r = sys_bpf(BPF_TASK_FD_QUERY, &a, sizeof(a));
	if (r) {
		printf("  task_fd_query %s: %s\n", what, en(errno));
		return;
	}
	printf("  task_fd_query %s: prog P%d fd_type %u buf '%s' buf_len %u offset %llu addr %s\n", what,
	       idx(prog_ids, &nprogs, a.task_fd_query.prog_id), a.task_fd_query.fd_type, buf, a.task_fd_query.buf_len,
	       (unsigned long long)a.task_fd_query.probe_offset, a.task_fd_query.probe_addr ? "set" : "0");
	/* a 4-byte buffer: ENOSPC, the name cut */
	a.task_fd_query.buf_len = 4;
	r = sys_bpf(BPF_TASK_FD_QUERY, &a, sizeof(a));
	printf("  task_fd_query %s, 4-byte buffer: %s '%s' buf_len %u\n", what, r ? en(errno) : "0", buf,
	       a.task_fd_query.buf_len);
}

static __u32 tp_id(const char *cat, const char *name)
{
	char path[256], buf[32] = "";
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/id", cat, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/%s/id", cat, name);
		fd = open(path, O_RDONLY);
	}
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? (__u32)atoi(buf) : 0;
}

static int pmu_type(const char *pmu)
{
	char path[128], buf[32] = "";
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

static void shared(void)
{
	int tp = load("tracepoint", BPF_PROG_TYPE_TRACEPOINT, 0, 0, 0);
	int kp = load("kprobe", BPF_PROG_TYPE_KPROBE, 0, 0, 0);
	int rtp = load("raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, 0);
	int btf = load("tp_btf sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
		       btf_find("btf_trace_sched_switch", BTF_KIND_TYPEDEF), 0);
	int it = load("iter task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER_, btf_find("bpf_iter_task", BTF_KIND_FUNC), 0);
	int cg = load("cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0, 1);
	int cg2 = load("cgroup_sock 2", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0, 1);
	int xdp = load("xdp", BPF_PROG_TYPE_XDP, 0, 0, 2);
	int xdp2 = load("xdp 2", BPF_PROG_TYPE_XDP, 0, 0, 2);
	int tc = load("tcx", BPF_PROG_TYPE_SCHED_CLS, 0, 0, -1);
	int nf = load("netfilter", BPF_PROG_TYPE_NETFILTER_, BPF_NETFILTER_, 0, 1);
	int skl = load("sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, 0, 1);
	struct lc c;
	int l;

	printf("== a tracepoint through perf_event_open\n");
	__u32 id = tp_id("syscalls", "sys_enter_nanosleep");
	int pe = id ? perf_open("tracepoint", PERF_TYPE_TRACEPOINT, id, 0, 0) : -1;
	if (!id)
		printf("  no tracefs id for syscalls/sys_enter_nanosleep\n");
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)tp;
	c.target_fd = (__u32)pe;
	c.attach_type = BPF_PERF_EVENT;
	c.perf_event.bpf_cookie = 42;
	l = link_create("tracepoint, cookie 42", &c);
	info(l);
	fd_query("the perf event", pe);
	fd_query("the link", l);
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)tp;
	c.target_fd = (__u32)pe;
	c.attach_type = BPF_PERF_EVENT;
	link_create("the same event again", &c);
	c.flags = 1;
	link_create("flags 1", &c);
	c.flags = 0;
	c.prog_fd = (__u32)kp;
	link_create("a kprobe program on a tracepoint", &c);
	c.prog_fd = (__u32)tp;
	c.target_fd = 0;
	link_create("stdin as the event", &c);
	c.attach_type = BPF_TRACE_FENTRY;
	c.target_fd = (__u32)pe;
	link_create("attach type fentry", &c);
	union bpf_attr da;
	memset(&da, 0, sizeof(da));
	da.link_detach.link_fd = (__u32)l;
	printf("  LINK_DETACH: %s\n", sys_bpf(BPF_LINK_DETACH, &da, sizeof(da)) ? en(errno) : "0");
	close(l);
	close(pe);
	pe = id ? perf_open("tracepoint", PERF_TYPE_TRACEPOINT, id, 0, 0) : -1;
	printf("  SET_BPF: %s\n", ioctl(pe, PERF_EVENT_IOC_SET_BPF, tp) ? en(errno) : "0");
	printf("  SET_BPF again: %s\n", ioctl(pe, PERF_EVENT_IOC_SET_BPF, tp) ? en(errno) : "0");
	fd_query("the perf event after SET_BPF", pe);
	close(pe);

	printf("== a uprobe through perf_event_open\n");
	int ut = pmu_type("uprobe");
	if (ut < 0) {
		printf("  no uprobe PMU\n");
	} else {
		pe = perf_open("uprobe", (__u32)ut, 0, (uintptr_t) "/bin/true", 0x1000);
		memset(&c, 0, sizeof(c));
		c.prog_fd = (__u32)kp;
		c.target_fd = (__u32)pe;
		c.attach_type = BPF_PERF_EVENT;
		l = link_create("uprobe /bin/true+0x1000", &c);
		info(l);
		fd_query("the uprobe event", pe);
		close(l);
		close(pe);
		pe = perf_open("uretprobe", (__u32)ut, 1, (uintptr_t) "/bin/true", 0x1000);
		c.target_fd = (__u32)pe;
		l = link_create("uretprobe /bin/true+0x1000", &c);
		info(l);
		close(l);
		close(pe);
		perf_open("a uprobe on a missing file", (__u32)ut, 0, (uintptr_t) "/nonexistent/x", 0);
	}

	printf("== raw tracepoints\n");
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (uintptr_t) "sched_switch";
	a.raw_tracepoint.prog_fd = (__u32)rtp;
	l = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	printf("  RAW_TRACEPOINT_OPEN sched_switch: %s\n", l >= 0 ? "ok" : en(errno));
	info(l);
	fd_query("the raw_tp link", l);
	memset(&da, 0, sizeof(da));
	da.link_detach.link_fd = (__u32)l;
	printf("  LINK_DETACH: %s\n", sys_bpf(BPF_LINK_DETACH, &da, sizeof(da)) ? en(errno) : "0");
	close(l);
	a.raw_tracepoint.name = (uintptr_t) "no_such_tracepoint";
	l = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	printf("  RAW_TRACEPOINT_OPEN no_such_tracepoint: %s\n", l >= 0 ? "ok" : en(errno));
	a.raw_tracepoint.name = (uintptr_t) "sched_switch";
	a.raw_tracepoint.prog_fd = (__u32)tp;
	l = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	printf("  RAW_TRACEPOINT_OPEN with a tracepoint program: %s\n", l >= 0 ? "ok" : en(errno));
	a.raw_tracepoint.prog_fd = (__u32)btf;
	l = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	printf("  RAW_TRACEPOINT_OPEN tp_btf with a name: %s\n", l >= 0 ? "ok" : en(errno));
	a.raw_tracepoint.name = 0;
	l = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	printf("  RAW_TRACEPOINT_OPEN tp_btf: %s\n", l >= 0 ? "ok" : en(errno));
	info(l);
	close(l);
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)btf;
	c.attach_type = BPF_TRACE_RAW_TP;
	c.tracing.cookie = 7;
	l = link_create("tp_btf, cookie 7", &c);
	info(l);
	close(l);

	printf("== an iterator\n");
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)it;
	c.attach_type = BPF_TRACE_ITER_;
	l = link_create("iter task", &c);
	info(l);
	memset(&a, 0, sizeof(a));
	a.iter_create.link_fd = (__u32)l;
	int ifd = (int)sys_bpf(BPF_ITER_CREATE, &a, sizeof(a));
	printf("  ITER_CREATE: %s\n", ifd >= 0 ? "ok" : en(errno));
	if (ifd >= 0)
		close(ifd);
	close(l);
	c.target_fd = 1;
	link_create("iter with a target_fd", &c);

	printf("== a cgroup\n");
	int cgfd = open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY);
	if (cgfd < 0)
		cgfd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)cg;
	c.target_fd = (__u32)cgfd;
	c.attach_type = BPF_CGROUP_INET_SOCK_CREATE;
	l = link_create("cgroup sock_create", &c);
	info(l);
	c.prog_fd = (__u32)cg2;
	int l2 = link_create("a second program", &c);
	struct {
		__u32 target_fd, attach_type, query_flags, attach_flags;
		__u64 prog_ids;
		__u32 prog_cnt, pad;
		__u64 prog_attach_flags, link_ids, link_attach_flags, revision;
	} q = { 0 };
	__u32 ids[8] = { 0 }, lids[8] = { 0 };
	q.target_fd = (__u32)cgfd;
	q.attach_type = BPF_CGROUP_INET_SOCK_CREATE;
	q.prog_ids = (uintptr_t)ids;
	q.prog_cnt = 8;
	q.link_ids = (uintptr_t)lids;
	memset(&a, 0, sizeof(a));
	memcpy(&a.query, &q, sizeof(q));
	long r = sys_bpf(BPF_PROG_QUERY, &a, sizeof(a));
	memcpy(&q, &a.query, sizeof(q));
	printf("  PROG_QUERY: %s attach_flags %u prog_cnt %u, the two programs %s\n", r ? en(errno) : "0",
	       q.attach_flags, q.prog_cnt,
	       q.prog_cnt >= 2 && ids[q.prog_cnt - 2] == prog_ids[idx(prog_ids, &nprogs, ids[q.prog_cnt - 2]) - 1] ? "listed" : "?");
	q.prog_cnt = 1;
	memcpy(&a.query, &q, sizeof(q));
	r = sys_bpf(BPF_PROG_QUERY, &a, sizeof(a));
	printf("  PROG_QUERY with room for 1: %s\n", r ? en(errno) : "0");
	c.prog_fd = (__u32)cg;
	c.flags = 1;
	link_create("flags 1", &c);
	c.flags = 0;
	c.target_fd = 0;
	link_create("stdin as the cgroup", &c);
	c.target_fd = (__u32)cgfd;
	c.prog_fd = (__u32)xdp;
	link_create("an xdp program", &c);
	memset(&a, 0, sizeof(a));
	a.link_update.link_fd = (__u32)l;
	a.link_update.new_prog_fd = (__u32)cg2;
	printf("  LINK_UPDATE to the second program: %s\n", sys_bpf(BPF_LINK_UPDATE, &a, sizeof(a)) ? en(errno) : "0");
	info(l);
	a.link_update.new_prog_fd = (__u32)xdp;
	printf("  LINK_UPDATE to an xdp program: %s\n", sys_bpf(BPF_LINK_UPDATE, &a, sizeof(a)) ? en(errno) : "0");
	a.link_update.new_prog_fd = (__u32)cg;
	a.link_update.flags = BPF_F_REPLACE;
	a.link_update.old_prog_fd = (__u32)cg;
	printf("  LINK_UPDATE replacing the wrong old program: %s\n",
	       sys_bpf(BPF_LINK_UPDATE, &a, sizeof(a)) ? en(errno) : "0");
	memset(&da, 0, sizeof(da));
	da.link_detach.link_fd = (__u32)l;
	printf("  LINK_DETACH: %s\n", sys_bpf(BPF_LINK_DETACH, &da, sizeof(da)) ? en(errno) : "0");
	info(l);
	close(l);
	close(l2);
	close(cgfd);

	printf("== XDP and tcx on lo\n");
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)xdp;
	c.target_fd = 1;
	c.attach_type = BPF_XDP;
	l = link_create("xdp on lo", &c);
	info(l);
	c.prog_fd = (__u32)xdp2;
	link_create("a second xdp link on lo", &c);
	c.target_fd = 9999;
	link_create("xdp on ifindex 9999", &c);
	memset(&da, 0, sizeof(da));
	da.link_detach.link_fd = (__u32)l;
	printf("  LINK_DETACH: %s\n", sys_bpf(BPF_LINK_DETACH, &da, sizeof(da)) ? en(errno) : "0");
	info(l);
	close(l);
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)tc;
	c.target_fd = 1;
	c.attach_type = BPF_TCX_INGRESS_;
	l = link_create("tcx ingress on lo", &c);
	info(l);
	close(l);
	c.attach_type = BPF_XDP;
	link_create("a tc program as xdp", &c);

	printf("== netfilter\n");
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)nf;
	c.attach_type = BPF_NETFILTER_;
	c.netfilter.pf = 2;
	c.netfilter.hooknum = 1;
	c.netfilter.priority = -128;
	l = link_create("ipv4 local_in, priority -128", &c);
	info(l);
	close(l);
	c.netfilter.pf = 7;
	link_create("pf 7", &c);
	c.netfilter.pf = 10;
	c.netfilter.hooknum = 9;
	link_create("hook 9", &c);
	c.netfilter.hooknum = 1;
	c.netfilter.flags = 4;
	link_create("flags 4", &c);
	c.netfilter.flags = 1;
	c.netfilter.priority = -500;
	link_create("defrag at -500", &c);

	printf("== sk_lookup on this network namespace\n");
	int ns = open("/proc/self/ns/net", O_RDONLY);
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)skl;
	c.target_fd = (__u32)ns;
	c.attach_type = BPF_SK_LOOKUP;
	l = link_create("sk_lookup", &c);
	info(l);
	close(l);
	c.target_fd = (__u32)cg;
	link_create("a program as the namespace", &c);
	close(ns);

}

static void tracing(void)
{
	int kp = load("kprobe", BPF_PROG_TYPE_KPROBE, 0, 0, 0);
	int fe = load("fentry do_nanosleep", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
		      btf_find("do_nanosleep", BTF_KIND_FUNC), 0);
	int fx = load("fexit do_nanosleep", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, btf_find("do_nanosleep", BTF_KIND_FUNC),
		      0);
	int lsm = load("lsm file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, btf_find("bpf_lsm_file_open", BTF_KIND_FUNC), 0);
	struct lc c;
	int l;
	printf("== a kprobe through the kprobe PMU\n");
	int kt = pmu_type("kprobe");
	int pe = perf_open("kprobe do_nanosleep+4", (__u32)kt, 0, (uintptr_t) "do_nanosleep", 4);
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)kp;
	c.target_fd = (__u32)pe;
	c.attach_type = BPF_PERF_EVENT;
	l = link_create("kprobe", &c);
	info(l);
	fd_query("the kprobe event", pe);
	close(l);
	close(pe);
	pe = perf_open("kretprobe do_nanosleep", (__u32)kt, 1, (uintptr_t) "do_nanosleep", 0);
	c.target_fd = (__u32)pe;
	l = link_create("kretprobe", &c);
	info(l);
	close(l);
	close(pe);
	perf_open("kprobe on a missing function", (__u32)kt, 0, (uintptr_t) "no_such_function_here", 0);
	printf("== fentry, fexit, lsm\n");
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)fe;
	c.attach_type = BPF_TRACE_FENTRY;
	c.tracing.cookie = 3;
	l = link_create("fentry, cookie 3", &c);
	info(l);
	close(l);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.prog_fd = (__u32)fx;
	l = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	printf("  RAW_TRACEPOINT_OPEN fexit: %s\n", l >= 0 ? "ok" : en(errno));
	info(l);
	close(l);
	c.prog_fd = (__u32)lsm;
	c.attach_type = BPF_LSM_MAC;
	l = link_create("lsm", &c);
	info(l);
	close(l);
	c.attach_type = BPF_TRACE_FENTRY;
	link_create("lsm with attach type fentry", &c);

	int km = load("kprobe.multi", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0, 0);
	printf("== kprobe.multi\n");
	const char *syms[2] = { "do_nanosleep", "hrtimer_nanosleep" };
	__u64 cookies[2] = { 1, 2 };
	memset(&c, 0, sizeof(c));
	c.prog_fd = (__u32)km;
	c.attach_type = BPF_TRACE_KPROBE_MULTI;
	c.kprobe_multi.cnt = 2;
	c.kprobe_multi.syms = (uintptr_t)syms;
	c.kprobe_multi.cookies = (uintptr_t)cookies;
	l = link_create("do_nanosleep, hrtimer_nanosleep", &c);
	info(l);
	close(l);
	c.kprobe_multi.flags = 2;
	link_create("flags 2", &c);
	c.kprobe_multi.flags = 1;
	c.kprobe_multi.cnt = 0;
	link_create("cnt 0", &c);
	c.kprobe_multi.cnt = 1;
	const char *bad[1] = { "no_such_function_here" };
	c.kprobe_multi.syms = (uintptr_t)bad;
	link_create("a missing function", &c);
	c.kprobe_multi.addrs = (uintptr_t)cookies;
	link_create("both syms and addrs", &c);
	c.prog_fd = (__u32)kp;
	c.kprobe_multi.addrs = 0;
	c.kprobe_multi.syms = (uintptr_t)syms;
	link_create("a kprobe program not loaded for it", &c);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || (strcmp(argv[1], "shared") && strcmp(argv[1], "tracing"))) {
		fprintf(stderr, "usage: link_twin shared|tracing\n");
		return 2;
	}
	if (!strcmp(argv[1], "shared"))
		shared();
	else
		tracing();
	return 0;
}
