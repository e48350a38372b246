/* SPDX-License-Identifier: MIT */
/*
 * emu/link.c: BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN, BPF_PROG_ATTACH /
 * DETACH / QUERY, BPF_LINK_DETACH / UPDATE, BPF_ITER_CREATE,
 * BPF_TASK_FD_QUERY, and link info.
 *
 * No program runs yet, so an attachment makes nothing happen by itself. By
 * default the attach calls fail with EOPNOTSUPP and a BPFEMU_LOG=sys line
 * naming the call. BPFEMU_ATTACH=inert makes them succeed after the kernel's
 * checks in the kernel's order (link_create() and each link type's attach
 * function of Linux 6.18): a link is an object file like a map (kind
 * EMU_KIND_LINK, fd reading anon_inode:bpf_link) with an id, pins, and the
 * kernel's info, and it remembers exactly what it attaches to, in its data
 * area (struct link_data): the tracepoint or function and offset, the uprobe
 * path, the kprobe.multi symbols, the kernel BTF type, the cgroup, the
 * interface, the netfilter hook, the iterator target and its map, the
 * cookie. emu_attach_foreach() lists every live attachment for whoever fires
 * events later (the VM's event firing); BPF_PROG_QUERY and BPF_TASK_FD_QUERY
 * answer from the same records.
 *
 * Attachments without a link (BPF_PROG_ATTACH) are records under
 * <root>/attach/: a hard link to the program (the kernel holds an attached
 * program alive too), named after its target, attach type, flags and order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "os.h"
#include "btf.h"
#include "link.h"
#include "map.h"
#include "perf/perf.h"

#define CGROUP2_SUPER_MAGIC 0x63677270
#define NSFS_MAGIC 0x6e736673
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#define MAX_KPROBE_MULTI_CNT (1u << 20)
#define KSYM_NAME_LEN 512
#define BPF_CGROUP_MAX_PROGS 64
#define ATTACH_MASK_BASE (BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI | BPF_F_REPLACE)
#define F_BEFORE (1u << 3)
#define F_AFTER (1u << 4)
#define F_ID (1u << 5)
#define F_LINK (1u << 13)
#define ATTACH_MASK_MPROG (BPF_F_REPLACE | F_BEFORE | F_AFTER | F_ID | F_LINK)
#ifndef BPF_F_KPROBE_MULTI_RETURN
#define BPF_F_KPROBE_MULTI_RETURN (1u << 0)
#endif

/* Linux 6.18's enum values past the installed 6.1 headers */
enum {
	AT_TCX_INGRESS = 46, AT_TCX_EGRESS = 47, AT_TRACE_UPROBE_MULTI = 48, AT_CGROUP_UNIX_CONNECT = 49,
	AT_CGROUP_UNIX_SENDMSG = 50, AT_CGROUP_UNIX_RECVMSG = 51, AT_CGROUP_UNIX_GETPEERNAME = 52,
	AT_CGROUP_UNIX_GETSOCKNAME = 53, AT_NETKIT_PRIMARY = 54, AT_NETKIT_PEER = 55, AT_TRACE_KPROBE_SESSION = 56,
	AT_TRACE_UPROBE_SESSION = 57,
	AT_STRUCT_OPS = 44, AT_NETFILTER = 45,
};
enum {
	LT_PERF_EVENT = 7, LT_KPROBE_MULTI = 8, LT_STRUCT_OPS = 9, LT_NETFILTER = 10, LT_TCX = 11, LT_UPROBE_MULTI = 12,
	LT_NETKIT = 13, LT_SOCKMAP = 14,
};
enum { PT_NETFILTER = 32 };
enum { PE_UPROBE = 1, PE_URETPROBE, PE_KPROBE, PE_KRETPROBE, PE_TRACEPOINT, PE_EVENT };

/* ---- what a link remembers: its object's data area ---- */

struct link_data {
	__u32 detached;
	__u32 ifindex;
	__u32 btf_obj_id, btf_id, tgt_prog_id;
	__u32 netns_ino, map_id;
	__u32 pf, hooknum;
	__s32 priority;
	__u32 nf_flags;
	__u32 perf_event_id, perf_type, perf_kind, ev_type;
	__u32 flags, count;
	__u32 iter_tid, iter_pid, iter_order;
	__u32 name_len, syms_len;
	__u32 pad;
	__u64 cgroup_id, iter_cgroup_id;
	__u64 offset, addr, cookie, missed, ev_config;
	/* then the name (NUL-terminated), the kprobe.multi symbols (NUL-separated),
	 * u64 addrs[count], u64 cookies[count], at 8-byte aligned offsets: ld_names() */
};

static char *ld_names(const struct link_data *d)
{
	return (char *)(uintptr_t)(d + 1);
}

static struct link_data *ld(const struct emu_obj *link)
{
	return (struct link_data *)emu_obj_data(link);
}

static const char *ld_syms(const struct link_data *d)
{
	return ld_names(d) + d->name_len + 1;
}

static __u64 *ld_addrs(struct link_data *d)
{
	return (__u64 *)(void *)(ld_names(d) + ((d->name_len + 1 + d->syms_len + 7) & ~7u));
}

static __u64 *ld_cookies(struct link_data *d)
{
	return ld_addrs(d) + d->count;
}

/* ---- the generation counter (<root>/attach-gen) ---- */

static __u64 *gen_map(void)
{
	static __u64 *gen;
	static char gen_root[PATH_MAX];
	__u64 *g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);
	if (g && !strcmp(gen_root, emu_config()->root))
		return g;
	char path[PATH_MAX];
	if (emu_root_ready() || snprintf(path, sizeof(path), "%.4000s/attach-gen", emu_config()->root) >= (int)sizeof(path))
		return NULL;
	int fd = emu_os_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return NULL;
	if (emu_os_ftruncate(fd, EMU_PAGE_SIZE) == 0) {
		void *m = emu_os_mmap(NULL, EMU_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, NULL);
		if (m != MAP_FAILED) {
			snprintf(gen_root, sizeof(gen_root), "%s", emu_config()->root);
			__atomic_store_n(&gen, (__u64 *)m, __ATOMIC_RELEASE);
			g = m;
		}
	}
	emu_os_close(fd);
	return g;
}

static void gen_bump(void)
{
	__u64 *g = gen_map();
	if (g)
		__atomic_add_fetch(g, 1, __ATOMIC_RELEASE);
}

__u64 emu_attach_generation(void)
{
	__u64 *g = gen_map();
	return g ? __atomic_load_n(g, __ATOMIC_ACQUIRE) : 0;
}

/* ---- helpers ---- */

static int not_possible(const char *cmd)
{
	EMU_LOG(EMU_LOG_SYS,
		"bpf(%s): attaching a program needs a kernel; bpfemu loads programs but does not run them: "
		"EOPNOTSUPP (BPFEMU_ATTACH=inert makes attach calls succeed without effect)", cmd);
	return -EOPNOTSUPP;
}

/* attach_type_to_prog_type() of Linux 6.18 */
static __u32 attach_prog_type(__u32 at)
{
	switch (at) {
	case BPF_CGROUP_INET_INGRESS: case BPF_CGROUP_INET_EGRESS: return BPF_PROG_TYPE_CGROUP_SKB;
	case BPF_CGROUP_INET_SOCK_CREATE: case BPF_CGROUP_INET_SOCK_RELEASE: case BPF_CGROUP_INET4_POST_BIND:
	case BPF_CGROUP_INET6_POST_BIND:
		return BPF_PROG_TYPE_CGROUP_SOCK;
	case BPF_CGROUP_INET4_BIND: case BPF_CGROUP_INET6_BIND: case BPF_CGROUP_INET4_CONNECT:
	case BPF_CGROUP_INET6_CONNECT: case BPF_CGROUP_INET4_GETPEERNAME: case BPF_CGROUP_INET6_GETPEERNAME:
	case BPF_CGROUP_INET4_GETSOCKNAME: case BPF_CGROUP_INET6_GETSOCKNAME: case BPF_CGROUP_UDP4_SENDMSG:
	case BPF_CGROUP_UDP6_SENDMSG: case BPF_CGROUP_UDP4_RECVMSG: case BPF_CGROUP_UDP6_RECVMSG:
	case AT_CGROUP_UNIX_CONNECT: case AT_CGROUP_UNIX_SENDMSG: case AT_CGROUP_UNIX_RECVMSG:
	case AT_CGROUP_UNIX_GETPEERNAME: case AT_CGROUP_UNIX_GETSOCKNAME:
		return BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	case BPF_CGROUP_SOCK_OPS: return BPF_PROG_TYPE_SOCK_OPS;
	case BPF_CGROUP_DEVICE: return BPF_PROG_TYPE_CGROUP_DEVICE;
	case BPF_SK_MSG_VERDICT: return BPF_PROG_TYPE_SK_MSG;
	case BPF_SK_SKB_STREAM_PARSER: case BPF_SK_SKB_STREAM_VERDICT: case BPF_SK_SKB_VERDICT:
		return BPF_PROG_TYPE_SK_SKB;
	case BPF_LIRC_MODE2: return BPF_PROG_TYPE_LIRC_MODE2;
	case BPF_FLOW_DISSECTOR: return BPF_PROG_TYPE_FLOW_DISSECTOR;
	case BPF_CGROUP_SYSCTL: return BPF_PROG_TYPE_CGROUP_SYSCTL;
	case BPF_CGROUP_GETSOCKOPT: case BPF_CGROUP_SETSOCKOPT: return BPF_PROG_TYPE_CGROUP_SOCKOPT;
	case BPF_TRACE_ITER: case BPF_TRACE_RAW_TP: case BPF_TRACE_FENTRY: case BPF_TRACE_FEXIT:
	case BPF_MODIFY_RETURN:
		return BPF_PROG_TYPE_TRACING;
	case BPF_LSM_MAC: case BPF_LSM_CGROUP: return BPF_PROG_TYPE_LSM;
	case BPF_SK_LOOKUP: return BPF_PROG_TYPE_SK_LOOKUP;
	case BPF_XDP: return BPF_PROG_TYPE_XDP;
	case AT_TCX_INGRESS: case AT_TCX_EGRESS: case AT_NETKIT_PRIMARY: case AT_NETKIT_PEER:
		return BPF_PROG_TYPE_SCHED_CLS;
	default: return BPF_PROG_TYPE_UNSPEC;
	}
}

static bool is_cgroup_type(__u32 pt)
{
	switch (pt) {
	case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_CGROUP_SOCK: case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_SOCK_OPS: case BPF_PROG_TYPE_CGROUP_DEVICE: case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		return true;
	default:
		return false;
	}
}

/* bpf_prog_attach_check_attach_type() */
static int check_attach_type(const struct emu_prog_desc *p, __u32 at)
{
	__u32 eat = p->expected_attach_type;
	switch (p->prog_type) {
	case BPF_PROG_TYPE_CGROUP_SOCK: case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SK_LOOKUP:
		return at == eat ? 0 : -EINVAL;
	case BPF_PROG_TYPE_CGROUP_SKB:
		if (attach_prog_type(at) != BPF_PROG_TYPE_CGROUP_SKB)
			return -EINVAL;
		return eat && eat != at ? -EINVAL : 0;
	case BPF_PROG_TYPE_EXT:
		return 0;
	case PT_NETFILTER:
		return at == AT_NETFILTER ? 0 : -EINVAL;
	case BPF_PROG_TYPE_PERF_EVENT: case BPF_PROG_TYPE_TRACEPOINT:
		return at == BPF_PERF_EVENT ? 0 : -EINVAL;
	case BPF_PROG_TYPE_KPROBE:
		if ((eat == BPF_TRACE_KPROBE_MULTI || eat == AT_TRACE_KPROBE_SESSION || eat == AT_TRACE_UPROBE_MULTI ||
		     eat == AT_TRACE_UPROBE_SESSION) && at != eat)
			return -EINVAL;
		return at == BPF_PERF_EVENT || at == BPF_TRACE_KPROBE_MULTI || at == AT_TRACE_KPROBE_SESSION ||
				       at == AT_TRACE_UPROBE_MULTI || at == AT_TRACE_UPROBE_SESSION
			       ? 0 : -EINVAL;
	case BPF_PROG_TYPE_SCHED_CLS:
		return at == AT_TCX_INGRESS || at == AT_TCX_EGRESS || at == AT_NETKIT_PRIMARY || at == AT_NETKIT_PEER
			       ? 0 : -EINVAL;
	default: {
		__u32 pt = attach_prog_type(at);
		return pt == BPF_PROG_TYPE_UNSPEC || pt != p->prog_type ? -EINVAL : 0;
	}
	}
}

/* cgroup_get_from_fd(): a cgroup v2 directory; its id is the directory's inode */
static int cgroup_of_fd(int fd, __u64 *id)
{
	struct stat sb;
	struct statfs sfs;
	fd = emu_caller_fd(fd);
	if (fd < 0 || emu_os_fstat(fd, &sb))
		return -EBADF;
	if (emu_os_fstatfs(fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(sb.st_mode))
		return -EBADF;
	*id = sb.st_ino;
	return 0;
}

/* get_net_ns_by_fd(): a network namespace file */
static int netns_of_fd(int fd, __u32 *ino)
{
	struct stat sb;
	struct statfs sfs;
	fd = emu_caller_fd(fd);
	if (fd < 0 || emu_os_fstat(fd, &sb))
		return -EBADF;
	if (emu_os_fstatfs(fd, &sfs) || sfs.f_type != NSFS_MAGIC || emu_os_ioctl(fd, NS_GET_NSTYPE, 0) != CLONE_NEWNET)
		return -EINVAL;
	*ino = (__u32)sb.st_ino;
	return 0;
}

static bool ifindex_exists(__u32 ifindex)
{
	char name[IF_NAMESIZE];
	return ifindex && if_indextoname(ifindex, name);
}

/* A raw tracepoint the kernel has: its btf_trace_<name> typedef in the kernel's BTF
 * (every tracepoint has one); without kernel BTF it cannot be told, and is taken. */
static bool raw_tp_exists(const char *name)
{
	char tn[160];
	snprintf(tn, sizeof(tn), "btf_trace_%.140s", name);
	if (emu_kernel_btf_find("btf_trace_sched_switch", 8 /* TYPEDEF */, NULL) == 0)
		return true;
	return emu_kernel_btf_find(tn, 8 /* TYPEDEF */, NULL) != 0;
}

/* ---- creating the link object ---- */

struct new_link {
	__u32 link_type, attach_type;
	struct link_data d;
	const char *name;              /* copied into names */
	const char *syms;              /* kprobe.multi: syms_len bytes */
	const __u64 *addrs, *cookies;  /* count each (NULL: zeros) */
	struct emu_obj *so_map;        /* struct_ops: the map the link registers (no program) */
	int so_map_fd;
};

static int link_make(struct emu_obj *prog, struct new_link *n, const char *cmd)
{
	struct emu_obj *link;
	size_t name_len = n->name ? strlen(n->name) : 0;
	n->d.name_len = (__u32)name_len;
	size_t head = sizeof(struct link_data) + ((name_len + 1 + n->d.syms_len + 7) & ~(size_t)7);
	size_t size = head + 16ull * n->d.count;
	/* bpf_link_settle(): anon_inode_getfile(..., O_CLOEXEC), a read-only fd */
	int fd = emu_obj_create_mode(EMU_KIND_LINK, size, size, O_RDONLY, &link);
	if (fd < 0)
		return fd;
	struct emu_link_desc *l = &link->hdr->link;
	l->link_type = n->link_type;
	l->attach_type = n->attach_type;
	if (prog)
		emu_refs_proc_share(prog);     /* the link reaches it: its maps by links */
	l->prog_id = prog ? prog->hdr->id : 0;
	l->prog_type = prog ? prog->hdr->prog.prog_type : 0;
	l->target_ifindex = n->d.ifindex;
	snprintf(l->tp_name, sizeof(l->tp_name), "%s", n->name ? n->name : "");
	struct link_data *d = ld(link);
	*d = n->d;
	if (name_len)
		memcpy(ld_names(d), n->name, name_len);
	ld_names(d)[name_len] = '\0';
	if (n->d.syms_len)
		memcpy(ld_names(d) + name_len + 1, n->syms, n->d.syms_len);
	if (n->d.count) {
		if (n->addrs)
			memcpy(ld_addrs(d), n->addrs, 8ull * n->d.count);
		if (n->cookies)
			memcpy(ld_cookies(d), n->cookies, 8ull * n->d.count);
	}
	link->hdr->id = emu_id_alloc(EMU_KIND_LINK);
	if (!link->hdr->id) {
		emu_os_close(fd);
		emu_obj_put(link);
		return -ENOSPC;
	}
	__atomic_store_n(&link->hdr->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	if (n->so_map) {
		/* bpf_struct_ops_link_create(): the id is taken (bpf_link_prime), then reg() */
		int err = emu_struct_ops_link_reg(link, n->so_map, n->so_map_fd);
		if (err) {
			emu_os_close(fd);
			emu_obj_put(link);
			return err;
		}
	}
	emu_fd_install_acc(fd, link, O_RDONLY);
	gen_bump();
	if (n->so_map)
		EMU_LOG(EMU_LOG_MAP, "bpf(%s): link %u registers struct_ops map %u", cmd, link->hdr->id,
			n->so_map->hdr->id);
	else if (!prog || prog->hdr->prog.prog_type != BPF_PROG_TYPE_EXT)
		EMU_LOG(EMU_LOG_SYS, "bpf(%s): BPFEMU_ATTACH=inert: link %u (type %u) for program %u%s%s does nothing",
			cmd, link->hdr->id, n->link_type, prog->hdr->id, n->name ? " at " : "", n->name ? n->name : "");
	return fd;
}

/* ---- the attach functions, each with its kernel twin's checks ---- */

/* bpf_raw_tp_link_attach() */
static int raw_tp_attach(struct emu_obj *prog, const void *user_name, __u64 cookie, const char *cmd)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	char buf[128];
	const char *tp;
	struct new_link n = { .link_type = BPF_LINK_TYPE_RAW_TRACEPOINT, .attach_type = BPF_TRACE_RAW_TP };
	switch (p->prog_type) {
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_EXT:
	case BPF_PROG_TYPE_LSM:
		if (user_name)
			return -EINVAL;
		if (p->prog_type != BPF_PROG_TYPE_TRACING || p->expected_attach_type != BPF_TRACE_RAW_TP)
			return 1;                    /* bpf_tracing_prog_attach() */
		tp = emu_kernel_btf_name(p->attach_btf_obj_id, p->attach_btf_id);
		if (!tp || strncmp(tp, "btf_trace_", 10))
			return -EINVAL;
		tp += 10;
		break;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: {
		long r = emu_strncpy_from_user(buf, user_name, sizeof(buf) - 1);
		if (r == -EFAULT)
			return -EFAULT;
		buf[sizeof(buf) - 1] = '\0';
		tp = buf;
		break;
	}
	default:
		return -EINVAL;
	}
	if (!raw_tp_exists(tp))
		return -ENOENT;                      /* bpf_get_raw_tracepoint() */
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	n.name = tp;
	n.d.cookie = cookie;
	return link_make(prog, &n, cmd);
}

/* tgt_prog->aux->is_extended: a live link of an extension replaces one of its functions */
bool emu_prog_extended(const struct emu_obj *prog)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	__u32 n = __atomic_load_n(&p->nr_ext, __ATOMIC_ACQUIRE);
	for (__u32 k = 0; k < n && k < ARRAY_SIZE(p->ext); k++) {
		__u32 link = __atomic_load_n(&p->ext[k].link_id, __ATOMIC_ACQUIRE);
		if (link && emu_obj_alive(EMU_KIND_LINK, link))
			return true;
	}
	return false;
}

/* tgt_prog->aux->prog_array_member_cnt != 0: the program is in a slot of some prog array */
static int in_prog_array_one(__u32 id, const char *path, void *ctx)
{
	(void)path;
	__u32 want = *(const __u32 *)ctx;
	int fd = emu_obj_fd_by_id(EMU_KIND_MAP, id, O_RDONLY);
	if (fd < 0)
		return 0;
	struct emu_obj *map;
	int acc, found = 0;
	if (!emu_fd_get_local(fd, EMU_KIND_MAP, &map, &acc)) {
		const struct emu_map_desc *d = &map->hdr->map;
		for (__u32 i = 0; d->map_type == BPF_MAP_TYPE_PROG_ARRAY && i < d->max_entries && !found; i++)
			found = emu_prog_array_slot(map, i) == want;
		emu_obj_put(map);
	}
	emu_fd_closed(fd);
	emu_os_close(fd);
	return found;                                /* non-zero ends the scan */
}

static bool in_prog_array(__u32 prog_id)
{
	return emu_obj_foreach(EMU_KIND_MAP, in_prog_array_one, &prog_id) > 0;
}

/*
 * bpf_tracing_prog_attach() for an extension: the target given now
 * (target_fd + target_btf_id: checked again as at load) or the one it was
 * loaded with (once: the first attach clears it, as the kernel's dst_prog),
 * then bpf_trampoline_link_prog(): one extension per function (EBUSY). The
 * target program runs in the VM, which calls the extension instead of the
 * function while the link lives (emu/vm: vm_ext_target()), so the attach
 * works without BPFEMU_ATTACH=inert. The link holds the target program.
 */
static int ext_attach(struct emu_obj *prog, int tgt_fd, struct new_link *n, __u64 cookie, const char *cmd)
{
	struct emu_prog_desc *p = &prog->hdr->prog;
	__u32 dst = __atomic_load_n(&p->ext_dst_prog_id, __ATOMIC_ACQUIRE);
	__u32 insn_off = p->ext_dst_insn_off;
	bool own_fd = false;
	if (!n->d.tgt_prog_id) {
		if (!dst)
			return -EINVAL;                  /* attached before, and no target given */
		n->d.tgt_prog_id = dst;
		n->d.btf_id = p->ext_dst_btf_id;
	} else if (!dst || dst != n->d.tgt_prog_id || p->ext_dst_btf_id != n->d.btf_id) {
		/* a new target: bpf_check_attach_target() without a log */
		char msg[256];
		const struct bpf_func_info *fi =
			(const void *)((char *)emu_obj_data(prog) + (size_t)p->insn_cnt * sizeof(struct bpf_insn));
		struct emu_attach_check c = { .prog_type = BPF_PROG_TYPE_EXT, .btf_id = n->d.btf_id,
					      .dst_prog_fd = tgt_fd, .prog_btf_obj_id = p->btf_id,
					      .has_finfo = p->nr_func_info > 0,
					      .func0_type_id = p->nr_func_info ? fi[0].type_id : 0,
					      .changes_pkt_data = p->sub_pkt_mask & 1,
					      .might_sleep = p->sub_sleep_mask & 1 };
		int err = emu_attach_btf_check(&c, msg, sizeof(msg));
		if (err)
			return err;
		insn_off = c.dst_insn_off;
	}
	struct emu_obj *tgt;
	int acc, err;
	if (tgt_fd <= 0) {
		tgt_fd = emu_obj_fd_by_id(EMU_KIND_PROG, n->d.tgt_prog_id, O_RDONLY);
		if (tgt_fd < 0)
			return -EINVAL;
		own_fd = true;
		err = emu_fd_get_local(tgt_fd, EMU_KIND_PROG, &tgt, &acc);
	} else {
		err = emu_fd_get(tgt_fd, EMU_KIND_PROG, &tgt, &acc);
	}
	if (err)
		goto out_fd;
	/* bpf_trampoline_link_prog(): the function's trampoline has an extension already */
	struct emu_prog_desc *tp = &tgt->hdr->prog;
	emu_obj_lock(tgt);
	__u32 free_slot = ARRAY_SIZE(tp->ext);
	for (__u32 k = 0; k < ARRAY_SIZE(tp->ext) && !err; k++) {
		bool live = tp->ext[k].link_id && emu_obj_alive(EMU_KIND_LINK, tp->ext[k].link_id);
		if (live && tp->ext[k].insn_off == insn_off)
			err = -EBUSY;
		else if (!live && free_slot == ARRAY_SIZE(tp->ext))
			free_slot = k;
	}
	if (!err && free_slot == ARRAY_SIZE(tp->ext))
		err = -E2BIG;                        /* more replaced functions than the slots here */
	/* bpf_freplace_check_tgt_prog(): a tail call's target cannot be extended */
	if (!err && in_prog_array(tgt->hdr->id))
		err = -EBUSY;
	int fd = err;
	if (!err) {
		n->d.cookie = cookie;
		n->name = NULL;
		fd = link_make(prog, n, cmd);
	}
	if (fd >= 0) {
		struct emu_obj *link;
		int lacc;
		__u32 link_id = 0;
		if (!emu_fd_get_local(fd, EMU_KIND_LINK, &link, &lacc)) {
			link_id = link->hdr->id;
			/* the link holds the target program (bpf_tracing_link's tgt_prog) */
			int dfd = emu_refs_lock(link);
			if (dfd >= 0) {
				if (emu_ref_take(dfd, tgt_fd, tgt))
					EMU_LOG(EMU_LOG_SYS, "bpf(%s): link %u cannot hold program %u", cmd, link_id,
						tgt->hdr->id);
				emu_refs_unlock(dfd);
			}
			emu_obj_put(link);
		}
		tp->ext[free_slot].insn_off = insn_off;
		tp->ext[free_slot].prog_id = prog->hdr->id;
		__atomic_store_n(&tp->ext[free_slot].link_id, link_id, __ATOMIC_RELEASE);
		if (free_slot >= tp->nr_ext)
			__atomic_store_n(&tp->nr_ext, free_slot + 1, __ATOMIC_RELEASE);
		if (__atomic_exchange_n(&p->ext_dst_prog_id, 0, __ATOMIC_ACQ_REL) == dst && dst) {
			/* the load's target is no longer held by the extension (the link holds its own) */
			int dfd = emu_refs_lock(prog);
			if (dfd >= 0) {
				emu_ref_drop(dfd, EMU_KIND_PROG, dst);
				emu_refs_unlock(dfd);
			}
		}
		gen_bump();
		EMU_LOG(EMU_LOG_SYS, "bpf(%s): link %u: extension %u replaces the function at insn %u of program %u",
			cmd, link_id, prog->hdr->id, insn_off, tgt->hdr->id);
	}
	emu_obj_unlock(tgt);
	emu_obj_put(tgt);
	err = fd;
out_fd:
	if (own_fd) {
		emu_fd_closed(tgt_fd);
		emu_os_close(tgt_fd);
	}
	return err;
}

/* bpf_tracing_prog_attach(): fentry/fexit/fmod_ret, lsm, ext */
static int tracing_attach(struct emu_obj *prog, __u32 tgt_prog_fd, __u32 btf_id, __u64 cookie, __u32 at,
			  const char *cmd)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	__u32 eat = p->expected_attach_type;
	switch (p->prog_type) {
	case BPF_PROG_TYPE_TRACING:
		if (eat != BPF_TRACE_FENTRY && eat != BPF_TRACE_FEXIT && eat != BPF_MODIFY_RETURN)
			return -EINVAL;
		break;
	case BPF_PROG_TYPE_EXT:
		if (eat)
			return -EINVAL;
		break;
	case BPF_PROG_TYPE_LSM:
		if (eat != BPF_LSM_MAC)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!!tgt_prog_fd != !!btf_id)
		return -EINVAL;
	/* the link's attach type (bpf_link_init()): LINK_CREATE's, or the program's */
	struct new_link n = { .link_type = BPF_LINK_TYPE_TRACING, .attach_type = at };
	n.d.btf_obj_id = p->attach_btf_obj_id;
	n.d.btf_id = p->attach_btf_id;
	if (tgt_prog_fd) {
		struct emu_obj *tgt;
		int acc;
		if (p->prog_type != BPF_PROG_TYPE_EXT)
			return -EINVAL;
		int err = emu_fd_get((int)tgt_prog_fd, EMU_KIND_PROG, &tgt, &acc);
		if (err)
			return err;
		n.d.tgt_prog_id = tgt->hdr->id;
		n.d.btf_id = btf_id;
		emu_obj_put(tgt);
	}
	if (p->prog_type == BPF_PROG_TYPE_EXT)
		return ext_attach(prog, (int)tgt_prog_fd, &n, cookie, cmd);
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	n.d.cookie = cookie;
	n.name = emu_kernel_btf_name(n.d.btf_obj_id, n.d.btf_id);
	return link_make(prog, &n, cmd);
}

/* bpf_perf_link_attach() */
static int perf_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	if (a->flags)
		return -EINVAL;
	enum emu_perf_kind kind = emu_perf_fd_kind((int)a->target_fd);
	if (kind == EMU_PERF_NONE)
		return -EBADF;                       /* perf_event_get() */
	if (kind == EMU_PERF_KERNEL || !emu_config()->attach_inert)
		return not_possible(cmd);
	struct emu_obj *ev;
	int acc, err = emu_fd_get((int)a->target_fd, EMU_KIND_PERF_EVENT, &ev, &acc);
	if (err)
		return -EBADF;
	struct emu_perf_state *st = emu_perf_state(ev);
	__u32 pt = prog->hdr->prog.prog_type;
	/* perf_event_set_bpf_prog(): the program must suit the event */
	if ((kind == EMU_PERF_BPF_OUTPUT && pt != BPF_PROG_TYPE_PERF_EVENT) ||
	    ((kind == EMU_PERF_KPROBE || kind == EMU_PERF_UPROBE) && pt != BPF_PROG_TYPE_KPROBE) ||
	    (kind == EMU_PERF_TRACEPOINT && pt != BPF_PROG_TYPE_TRACEPOINT)) {
		emu_obj_put(ev);
		return -EINVAL;
	}
	struct new_link n = { .link_type = BPF_LINK_TYPE_PERF_EVENT, .attach_type = BPF_PERF_EVENT };
	char tp[600];
	n.d.perf_event_id = ev->hdr->id;
	n.d.perf_kind = kind;
	n.d.cookie = a->perf_event.bpf_cookie;
	n.d.offset = st->probe_offset;
	n.d.ev_type = st->type;
	n.d.ev_config = st->config;
	switch (kind) {
	case EMU_PERF_KPROBE:
		n.d.perf_type = st->retprobe ? PE_KRETPROBE : PE_KPROBE;
		n.name = st->name_len ? st->name : NULL;
		n.d.addr = st->probe_addr;
		break;
	case EMU_PERF_UPROBE:
		n.d.perf_type = st->retprobe ? PE_URETPROBE : PE_UPROBE;
		n.name = st->name;
		n.d.addr = st->probe_addr;           /* the file's inode */
		break;
	case EMU_PERF_TRACEPOINT:
		n.d.perf_type = PE_TRACEPOINT;
		snprintf(tp, sizeof(tp), "%.255s/%.300s", st->category, st->name);
		n.name = st->name_len ? tp : NULL;
		break;
	default:
		n.d.perf_type = PE_EVENT;
		break;
	}
	int fd = link_make(prog, &n, cmd);
	if (fd >= 0) {
		struct emu_obj *link;
		if (!emu_fd_get_local(fd, EMU_KIND_LINK, &link, &acc)) {
			err = emu_perf_attach(ev, prog, link->hdr->id, a->perf_event.bpf_cookie);
			emu_obj_put(link);
			if (err) {
				emu_fd_closed(fd);
				emu_os_close(fd);
				fd = err;
			}
		}
	}
	emu_obj_put(ev);
	return fd;
}

static int syms_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* bpf_kprobe_multi_link_attach() */
static int kprobe_multi_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	if (a->flags)
		return -EINVAL;
	if (p->expected_attach_type != BPF_TRACE_KPROBE_MULTI && p->expected_attach_type != AT_TRACE_KPROBE_SESSION)
		return -EINVAL;
	__u32 flags = a->kprobe_multi.flags, cnt = a->kprobe_multi.cnt;
	const void *uaddrs = (const void *)(uintptr_t)a->kprobe_multi.addrs;
	const void *usyms = (const void *)(uintptr_t)a->kprobe_multi.syms;
	const void *ucookies = (const void *)(uintptr_t)a->kprobe_multi.cookies;
	if (flags & ~BPF_F_KPROBE_MULTI_RETURN)
		return -EINVAL;
	if (!!uaddrs == !!usyms || !cnt)
		return -EINVAL;
	if (cnt > MAX_KPROBE_MULTI_CNT)
		return -E2BIG;
	__u64 *addrs = calloc(cnt, 8), *cookies = ucookies ? calloc(cnt, 8) : NULL;
	char **names = usyms ? calloc(cnt, sizeof(*names)) : NULL;
	char *syms = NULL;
	size_t syms_len = 0;
	int err = !addrs || (ucookies && !cookies) || (usyms && !names) ? -ENOMEM : 0;
	if (!err && ucookies && emu_copy_from_user(cookies, ucookies, 8ull * cnt))
		err = -EFAULT;
	if (!err && uaddrs && emu_copy_from_user(addrs, uaddrs, 8ull * cnt))
		err = -EFAULT;
	for (__u32 i = 0; !err && usyms && i < cnt; i++) {
		__u64 up;
		char name[KSYM_NAME_LEN];
		if (emu_copy_from_user(&up, (const char *)usyms + 8ull * i, 8)) {
			err = -EFAULT;
			break;
		}
		long r = emu_strncpy_from_user(name, (const void *)(uintptr_t)up, sizeof(name));
		if (r < 0) {
			err = r == -ENAMETOOLONG ? -E2BIG : (int)r;
			break;
		}
		names[i] = strdup(name);
		if (!names[i])
			err = -ENOMEM;
	}
	if (!err && usyms) {
		/* ftrace_lookup_symbols(): every symbol must be there */
		qsort(names, cnt, sizeof(*names), syms_cmp);
		for (__u32 i = 0; i < cnt && !err; i++) {
			if (emu_kallsyms_has(names[i]) == 0) {
				EMU_LOG(EMU_LOG_SYS, "bpf(%s): kprobe.multi: no function '%s' in /proc/kallsyms: ENOENT", cmd,
					names[i]);
				err = -ENOENT;
			}
			syms_len += strlen(names[i]) + 1;
		}
		if (!err && !(syms = malloc(syms_len)))
			err = -ENOMEM;
		for (__u32 i = 0, off = 0; !err && i < cnt; i++) {
			size_t l = strlen(names[i]) + 1;
			memcpy(syms + off, names[i], l);
			off += (__u32)l;
		}
	}
	if (!err && !emu_config()->attach_inert)
		err = not_possible(cmd);
	int fd = err;
	if (!err) {
		struct new_link n = { .link_type = LT_KPROBE_MULTI, .attach_type = p->expected_attach_type };
		n.d.flags = flags;
		n.d.count = cnt;
		n.d.syms_len = (__u32)syms_len;
		n.syms = syms;
		n.addrs = uaddrs ? addrs : NULL;   /* by name: the addresses are the kernel's secret here */
		n.cookies = cookies;
		fd = link_make(prog, &n, cmd);
	}
	for (__u32 i = 0; names && i < cnt; i++)
		free(names[i]);
	free(names);
	free(syms);
	free(addrs);
	free(cookies);
	return fd;
}

/* cgroup_bpf_link_attach() */
static int cgroup_link_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	__u64 cg;
	if (a->flags)
		return -EINVAL;
	int err = cgroup_of_fd((int)a->target_fd, &cg);
	if (err)
		return err;
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	struct new_link n = { .link_type = BPF_LINK_TYPE_CGROUP, .attach_type = a->attach_type };
	n.d.cgroup_id = cg;
	return link_make(prog, &n, cmd);
}

/* Is a link of this type and target already there (XDP: one per interface and mode)? */
static bool link_exists(__u32 type, __u32 ifindex);

/* bpf_xdp_link_attach() */
static int xdp_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	if (!ifindex_exists(a->target_fd))
		return -EINVAL;                      /* dev_get_by_index() */
	/* dev_xdp_attach(): flags are the XDP modes, one at most */
	__u32 modes = a->flags & 0xe;            /* SKB, DRV, HW */
	if (a->flags & ~0xeu || (modes & (modes - 1)))
		return -EINVAL;
	if (link_exists(BPF_LINK_TYPE_XDP, a->target_fd))
		return -EBUSY;
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	struct new_link n = { .link_type = BPF_LINK_TYPE_XDP, .attach_type = BPF_XDP };
	n.d.ifindex = a->target_fd;
	n.d.flags = a->flags;
	return link_make(prog, &n, cmd);
}

/* tcx_link_attach() / netkit */
static int tcx_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	if (a->attach_type == AT_NETKIT_PRIMARY || a->attach_type == AT_NETKIT_PEER) {
		EMU_LOG(EMU_LOG_SYS, "bpf(%s): netkit devices are not emulated: EINVAL", cmd);
		return -EINVAL;
	}
	if (!ifindex_exists(a->target_fd))
		return -ENODEV;
	if (a->flags & ~(BPF_F_REPLACE | F_BEFORE | F_AFTER | F_ID | F_LINK))
		return -EINVAL;
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	struct new_link n = { .link_type = LT_TCX, .attach_type = a->attach_type };
	n.d.ifindex = a->target_fd;
	return link_make(prog, &n, cmd);
}

/* bpf_nf_link_attach(), bpf_nf_check_pf_and_hooks() */
static int netfilter_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	if (a->flags)
		return -EINVAL;
	if (a->netfilter.pf != 2 && a->netfilter.pf != 10)
		return -EAFNOSUPPORT;                /* NFPROTO_IPV4, NFPROTO_IPV6 */
	if (a->netfilter.hooknum >= 5)
		return -EPROTO;                      /* NF_INET_NUMHOOKS */
	if (a->netfilter.flags & ~1u)
		return -EOPNOTSUPP;                  /* BPF_F_NETFILTER_IP_DEFRAG */
	if (a->netfilter.priority == INT_MIN || a->netfilter.priority == INT_MAX ||
	    ((a->netfilter.flags & 1) && a->netfilter.priority <= -400))
		return -ERANGE;
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	struct new_link n = { .link_type = LT_NETFILTER, .attach_type = AT_NETFILTER };
	n.d.pf = a->netfilter.pf;
	n.d.hooknum = a->netfilter.hooknum;
	n.d.priority = a->netfilter.priority;
	n.d.nf_flags = a->netfilter.flags;
	return link_make(prog, &n, cmd);
}

/* netns_bpf_link_create() */
static int netns_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	__u32 ino;
	if (a->flags)
		return -EINVAL;
	if (a->attach_type != BPF_FLOW_DISSECTOR && a->attach_type != BPF_SK_LOOKUP)
		return -EINVAL;
	int err = netns_of_fd((int)a->target_fd, &ino);
	if (err)
		return err;
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	struct new_link n = { .link_type = BPF_LINK_TYPE_NETNS, .attach_type = a->attach_type };
	n.d.netns_ino = ino;
	return link_make(prog, &n, cmd);
}

/* sock_map_link_create() */
static int sockmap_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	struct emu_obj *map;
	int acc;
	if (a->flags)
		return -EINVAL;
	int err = emu_fd_get((int)a->target_fd, EMU_KIND_MAP, &map, &acc);
	if (err)
		return err;
	__u32 mt = emu_map_desc(map)->map_type, id = map->hdr->id;
	emu_obj_put(map);
	if (mt != BPF_MAP_TYPE_SOCKMAP && mt != BPF_MAP_TYPE_SOCKHASH)
		return -EINVAL;
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	struct new_link n = { .link_type = LT_SOCKMAP, .attach_type = a->attach_type };
	n.d.map_id = id;
	return link_make(prog, &n, cmd);
}

/* bpf_iter_link_attach(): the target is the program's attach_btf_id function, bpf_iter_<target> */
static int iter_attach(struct emu_obj *prog, const struct emu_link_create_attr *a, const char *cmd)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	struct {
		__u32 map_fd;
		__u32 a1, a2, a3;              /* cgroup {fd, pad, id u64} / task {tid, pid, pid_fd} */
		__u64 cg_id;
	} li;
	if (a->target_fd || a->flags)
		return -EINVAL;
	const void *u = (const void *)(uintptr_t)a->iter.iter_info;
	__u32 len = a->iter.iter_info_len;
	if (!u ^ !len)
		return -EINVAL;
	memset(&li, 0, sizeof(li));
	if (u) {
		/* bpf_check_uarg_tail_zero(): union bpf_iter_link_info is 16 bytes */
		unsigned char tail[256];
		for (__u32 off = 16; off < len; off += sizeof(tail)) {
			__u32 k = len - off < sizeof(tail) ? len - off : (__u32)sizeof(tail);
			if (len > EMU_PAGE_SIZE)
				return -E2BIG;
			if (emu_copy_from_user(tail, (const char *)u + off, k))
				return -EFAULT;
			for (__u32 i = 0; i < k; i++)
				if (tail[i])
					return -E2BIG;
		}
		if (emu_copy_from_user(&li, u, len < 16 ? len : 16))
			return -EFAULT;
	}
	const char *fn = emu_kernel_btf_name(p->attach_btf_obj_id, p->attach_btf_id);
	if (!fn || strncmp(fn, "bpf_iter_", 9))
		return -ENOENT;
	const char *target = fn + 9;
	struct new_link n = { .link_type = BPF_LINK_TYPE_ITER, .attach_type = BPF_TRACE_ITER };
	/* the targets' attach_target(): map iterators need a map */
	if (!strcmp(target, "bpf_map_elem") || !strcmp(target, "bpf_sk_storage_map") || !strcmp(target, "sockmap")) {
		struct emu_obj *map;
		int acc;
		if (!li.map_fd)
			return -EBADF;
		int err = emu_fd_get((int)li.map_fd, EMU_KIND_MAP, &map, &acc);
		if (err)
			return err;
		n.d.map_id = map->hdr->id;
		emu_obj_put(map);
	} else if (!strcmp(target, "task") || !strcmp(target, "task_file") || !strcmp(target, "task_vma")) {
		int set = !!li.map_fd + !!li.a1 + !!li.a2;    /* tid, pid, pid_fd */
		if (set > 1)
			return -EINVAL;
		n.d.iter_tid = li.map_fd;
		n.d.iter_pid = li.a1;
	} else if (!strcmp(target, "cgroup")) {
		n.d.iter_order = li.a1;
		n.d.iter_cgroup_id = li.cg_id;
	}
	if (!emu_config()->attach_inert)
		return not_possible(cmd);
	n.name = target;
	return link_make(prog, &n, cmd);
}

int emu_link_create(const struct emu_link_create_attr *a)
{
	const char *cmd = "BPF_LINK_CREATE";
	struct emu_obj *prog;
	int acc, err;

	if (a->attach_type == AT_STRUCT_OPS) {
		/* bpf_struct_ops_link_create(): a BPF_F_LINK map in state READY (no inert mode
		 * needed: a registration is the emulated kernel's state, nothing on the host runs it) */
		struct emu_obj *map;
		err = emu_fd_get((int)a->prog_fd, EMU_KIND_MAP, &map, &acc);
		if (err)
			return err;
		if (!emu_struct_ops_ready(map)) {
			emu_obj_put(map);
			return -EINVAL;
		}
		struct new_link n = { .link_type = LT_STRUCT_OPS, .attach_type = AT_STRUCT_OPS, .so_map = map,
				      .so_map_fd = (int)a->prog_fd };
		n.d.map_id = map->hdr->id;
		err = link_make(NULL, &n, cmd);
		emu_obj_put(map);
		return err;
	}
	err = emu_fd_get((int)a->prog_fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;                          /* bpf_prog_get(): EBADF or EINVAL */
	const struct emu_prog_desc *p = &prog->hdr->prog;
	err = check_attach_type(p, a->attach_type);
	if (err)
		goto out;
	switch (p->prog_type) {
	case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_CGROUP_SOCK: case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_SOCK_OPS: case BPF_PROG_TYPE_CGROUP_DEVICE: case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		err = cgroup_link_attach(prog, a, cmd);
		break;
	case BPF_PROG_TYPE_EXT:
		err = tracing_attach(prog, a->target_fd, a->tracing.target_btf_id, a->tracing.cookie, a->attach_type, cmd);
		break;
	case BPF_PROG_TYPE_LSM:
	case BPF_PROG_TYPE_TRACING:
		if (a->attach_type != p->expected_attach_type) {
			err = -EINVAL;
			break;
		}
		if (p->expected_attach_type == BPF_TRACE_RAW_TP)
			err = raw_tp_attach(prog, NULL, a->tracing.cookie, cmd);
		else if (p->expected_attach_type == BPF_TRACE_ITER)
			err = iter_attach(prog, a, cmd);
		else if (p->expected_attach_type == BPF_LSM_CGROUP)
			err = cgroup_link_attach(prog, a, cmd);
		else
			err = tracing_attach(prog, a->target_fd, a->tracing.target_btf_id, a->tracing.cookie, a->attach_type, cmd);
		break;
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_SK_LOOKUP:
		err = netns_attach(prog, a, cmd);
		break;
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_SK_SKB:
		err = sockmap_attach(prog, a, cmd);
		break;
	case BPF_PROG_TYPE_XDP:
		err = xdp_attach(prog, a, cmd);
		break;
	case BPF_PROG_TYPE_SCHED_CLS:
		err = tcx_attach(prog, a, cmd);
		break;
	case PT_NETFILTER:
		err = netfilter_attach(prog, a, cmd);
		break;
	case BPF_PROG_TYPE_PERF_EVENT:
	case BPF_PROG_TYPE_TRACEPOINT:
		err = perf_attach(prog, a, cmd);
		break;
	case BPF_PROG_TYPE_KPROBE:
		if (a->attach_type == BPF_PERF_EVENT) {
			err = perf_attach(prog, a, cmd);
		} else if (a->attach_type == BPF_TRACE_KPROBE_MULTI || a->attach_type == AT_TRACE_KPROBE_SESSION) {
			err = kprobe_multi_attach(prog, a, cmd);
		} else {
			EMU_LOG(EMU_LOG_SYS, "bpf(%s): uprobe.multi links are not emulated: EOPNOTSUPP", cmd);
			err = -EOPNOTSUPP;
		}
		break;
	default:
		err = -EINVAL;
	}
out:
	emu_obj_put(prog);
	return err;
}

int emu_raw_tracepoint_open(int prog_fd, const void *name, __u64 cookie)
{
	const char *cmd = "BPF_RAW_TRACEPOINT_OPEN";
	struct emu_obj *prog;
	int acc, err = emu_fd_get(prog_fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;
	err = raw_tp_attach(prog, name, cookie, cmd);
	if (err == 1)                            /* fentry, fexit, fmod_ret, lsm, ext: a tracing link */
		err = tracing_attach(prog, 0, 0, cookie, prog->hdr->prog.expected_attach_type, cmd);
	emu_obj_put(prog);
	return err;
}

/* ---- the live links (for queries and the registry) ---- */

/* The live objects of a kind, found in one scan, by id. */
struct live {
	__u32 id;
	char *path;
};
struct live_set {
	struct live *v;
	size_t n, cap;
};

static int live_add(__u32 id, const char *path, void *ctx)
{
	struct live_set *ls = ctx;
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 32;
		struct live *v = realloc(ls->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n].id = id;
	ls->v[ls->n].path = strdup(path);
	if (!ls->v[ls->n].path)
		return -ENOMEM;
	ls->n++;
	return 0;
}

static int live_cmp(const void *a, const void *b)
{
	const struct live *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Calls fn for each live object of kind, in id order (as the kernel's idr walks them). */
static int foreach_live(enum emu_kind kind, int (*fn)(struct emu_obj *obj, void *ctx), void *ctx)
{
	struct live_set ls = { 0 };
	int r = emu_obj_foreach(kind, live_add, &ls);
	if (r > 0)
		r = 0;
	if (ls.n)
		qsort(ls.v, ls.n, sizeof(*ls.v), live_cmp);
	for (size_t i = 0; i < ls.n; i++) {
		if (!r) {
			int fd = emu_obj_fd_by_id(kind, ls.v[i].id, O_RDONLY);
			struct emu_obj *obj;
			int acc;
			if (fd >= 0) {
				if (!emu_fd_get_local(fd, kind, &obj, &acc)) {
					if (obj->hdr->id == ls.v[i].id)
						r = fn(obj, ctx);
					emu_obj_put(obj);
				}
				emu_fd_closed(fd);
				emu_os_close(fd);
			}
		}
		free(ls.v[i].path);
	}
	free(ls.v);
	return r < 0 ? 0 : r;
}

static int foreach_link(int (*fn)(struct emu_obj *link, void *ctx), void *ctx)
{
	return foreach_live(EMU_KIND_LINK, fn, ctx);
}

struct exists_ctx {
	__u32 type, ifindex;
};

static int exists_fn(struct emu_obj *link, void *ctx)
{
	const struct exists_ctx *c = ctx;
	return link->hdr->link.link_type == c->type && !ld(link)->detached && ld(link)->ifindex == c->ifindex;
}

static bool link_exists(__u32 type, __u32 ifindex)
{
	struct exists_ctx c = { type, ifindex };
	return foreach_link(exists_fn, &c) != 0;
}

/* ---- link info ---- */

/* bpf_copy_to_user(): the string with its NUL, or what fits and a NUL, ENOSPC */
static int copy_str(void *ubuf, const char *s, __u32 ulen, size_t len)
{
	if (ulen >= len + 1)
		return emu_copy_to_user(ubuf, s, len + 1) ? -EFAULT : 0;
	char zero = '\0';
	if (emu_copy_to_user(ubuf, s, ulen - 1) || emu_copy_to_user((char *)ubuf + ulen - 1, &zero, 1))
		return -EFAULT;
	return -ENOSPC;
}

/* bpf_perf_link_fill_common(): name buffer at info+off_ptr, its length at info+off_len */
static int fill_name(unsigned char *info, size_t off_ptr, size_t off_len, const char *name)
{
	__u64 up;
	__u32 ulen;
	memcpy(&up, info + off_ptr, 8);
	memcpy(&ulen, info + off_len, 4);
	if (!ulen ^ !up)
		return -EINVAL;
	size_t len = name ? strlen(name) : 0;
	__u32 out = name ? (__u32)len + 1 : 1;
	memcpy(info + off_len, &out, 4);
	if (!up)
		return 0;
	if (name)
		return copy_str((void *)(uintptr_t)up, name, ulen, len);
	char zero = '\0';
	return emu_copy_to_user((void *)(uintptr_t)up, &zero, 1) ? -EFAULT : 0;
}

#define PUT32(off, v) do { __u32 v_ = (__u32)(v); memcpy(info + (off), &v_, 4); } while (0)
#define PUT64(off, v) do { __u64 v_ = (__u64)(v); memcpy(info + (off), &v_, 8); } while (0)
#define U 16                                 /* the union's offset in struct bpf_link_info */

static __u64 kallsyms_addr(const char *name, __u64 off)
{
	char line[512], nm[400];
	unsigned long long a;
	__u64 r = 0;
	if (!name)
		return 0;
	struct emu_os_lines *f = emu_os_lines_open("/proc/kallsyms", NULL);
	if (!f)
		return 0;
	while (emu_os_lines_get(line, sizeof(line), f))
		if (sscanf(line, "%llx %*c %399s", &a, nm) == 2 && !strcmp(nm, name)) {
			r = a ? a + off : 0;     /* zeros: this user may not see addresses */
			break;
		}
	emu_os_lines_close(f);
	return r;
}

int emu_link_fill_info(struct emu_obj *link, void *uinfo_copy)
{
	unsigned char *info = uinfo_copy;
	const struct emu_link_desc *l = &link->hdr->link;
	struct link_data *d = ld(link);
	PUT32(0, l->link_type);
	PUT32(4, link->hdr->id);
	PUT32(8, l->prog_id);
	switch (l->link_type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT: {
		int err = fill_name(info, U, U + 8, ld_names(d));
		PUT64(U + 16, d->cookie);
		return err;
	}
	case BPF_LINK_TYPE_TRACING:
		PUT32(U, l->attach_type);
		PUT32(U + 4, d->tgt_prog_id ? d->tgt_prog_id : d->btf_obj_id);
		PUT32(U + 8, d->btf_id);
		PUT64(U + 16, d->cookie);
		return 0;
	case BPF_LINK_TYPE_CGROUP:
		PUT64(U, d->detached ? 0 : d->cgroup_id);
		PUT32(U + 8, l->attach_type);
		return 0;
	case BPF_LINK_TYPE_ITER: {
		int err = fill_name(info, U, U + 8, ld_names(d));
		if (err)
			return err;
		if (d->map_id)
			PUT32(U + 12, d->map_id);
		if (!strcmp(ld_names(d), "cgroup")) {
			PUT64(U + 16, d->iter_cgroup_id);
			PUT32(U + 24, d->iter_order);
		} else if (!strncmp(ld_names(d), "task", 4)) {
			PUT32(U + 16, d->iter_tid);
			PUT32(U + 20, d->iter_pid);
		}
		return 0;
	}
	case BPF_LINK_TYPE_NETNS:
		PUT32(U, d->detached ? 0 : d->netns_ino);
		PUT32(U + 4, l->attach_type);
		return 0;
	case BPF_LINK_TYPE_XDP:
		PUT32(U, d->detached ? 0 : d->ifindex);
		return 0;
	case LT_NETFILTER:
		PUT32(U, d->pf);
		PUT32(U + 4, d->hooknum);
		PUT32(U + 8, d->priority);
		PUT32(U + 12, d->nf_flags);
		return 0;
	case LT_TCX:
	case LT_NETKIT:
		PUT32(U, d->detached ? 0 : d->ifindex);
		PUT32(U + 4, l->attach_type);
		return 0;
	case LT_SOCKMAP:
		PUT32(U, d->detached ? 0 : d->map_id);
		PUT32(U + 4, l->attach_type);
		return 0;
	case LT_STRUCT_OPS:
		PUT32(U, __atomic_load_n(&d->detached, __ATOMIC_ACQUIRE) ? 0 : __atomic_load_n(&d->map_id, __ATOMIC_ACQUIRE));
		return 0;
	case LT_KPROBE_MULTI: {
		__u64 uaddrs, ucookies;
		__u32 ucount;
		memcpy(&uaddrs, info + U, 8);
		memcpy(&ucount, info + U + 8, 4);
		memcpy(&ucookies, info + U + 24, 8);
		if (!uaddrs ^ !ucount)
			return -EINVAL;
		if (ucookies && !ucount)
			return -EINVAL;
		PUT32(U + 8, d->count);
		PUT32(U + 12, d->flags);
		PUT64(U + 16, d->missed);
		if (!uaddrs)
			return 0;
		int err = 0;
		if (ucount < d->count)
			err = -ENOSPC;
		else
			ucount = d->count;
		if (ucookies && emu_copy_to_user((void *)(uintptr_t)ucookies, ld_cookies(d), 8ull * ucount))
			return -EFAULT;
		/* the addresses: the ones given, or (by name) what this user may see of kallsyms */
		const char *s = ld_syms(d);
		for (__u32 i = 0; i < ucount; i++) {
			__u64 a = d->syms_len ? kallsyms_addr(s, 0) : ld_addrs(d)[i];
			if (d->syms_len)
				s += strlen(s) + 1;
			if (emu_copy_to_user((char *)(uintptr_t)uaddrs + 8ull * i, &a, 8))
				return -EFAULT;
		}
		return err;
	}
	case BPF_LINK_TYPE_PERF_EVENT: {
		int err;
		switch (d->perf_type) {
		case PE_KPROBE:
		case PE_KRETPROBE:
			err = fill_name(info, U + 8, U + 16, d->name_len ? ld_names(d) : NULL);
			if (err)
				return err;
			PUT32(U, d->perf_type);
			PUT32(U + 20, d->offset);
			PUT64(U + 24, d->name_len ? kallsyms_addr(ld_names(d), d->offset) : 0);
			PUT64(U + 32, d->missed);
			PUT64(U + 40, d->cookie);
			return 0;
		case PE_UPROBE:
		case PE_URETPROBE:
			err = fill_name(info, U + 8, U + 16, ld_names(d));
			if (err)
				return err;
			PUT32(U, d->perf_type);
			PUT32(U + 20, d->offset);
			PUT64(U + 24, d->cookie);
			return 0;
		case PE_TRACEPOINT: {
			const char *slash = d->name_len ? strchr(ld_names(d), '/') : NULL;
			err = fill_name(info, U + 8, U + 16, slash ? slash + 1 : d->name_len ? ld_names(d) : NULL);
			if (err)
				return err;
			PUT32(U, d->perf_type);
			PUT64(U + 24, d->cookie);
			return 0;
		}
		default:
			PUT32(U, PE_EVENT);
			PUT64(U + 8, d->ev_config);
			PUT32(U + 16, d->ev_type);
			PUT64(U + 24, d->cookie);
			return 0;
		}
	}
	default:
		return 0;
	}
}

/* ---- detach, update, iterators ---- */

bool emu_link_type_detachable(__u32 link_type)
{
	switch (link_type) {
	case BPF_LINK_TYPE_CGROUP: case BPF_LINK_TYPE_NETNS: case BPF_LINK_TYPE_XDP: case LT_TCX: case LT_NETKIT:
	case LT_SOCKMAP: case LT_NETFILTER: case LT_STRUCT_OPS:
		return true;
	default:
		return false;                        /* no detach op */
	}
}

int emu_link_detach(int link_fd)
{
	struct emu_obj *link;
	int acc, err = emu_fd_get(link_fd, EMU_KIND_LINK, &link, &acc);
	if (err)
		return err;
	if (link->hdr->link.link_type == LT_STRUCT_OPS) {
		/* bpf_struct_ops_map_link_detach(): unregisters, drops the map; 0 also when done */
		emu_obj_lock(link);
		if (!ld(link)->detached) {
			emu_struct_ops_link_unreg(link, ld(link)->map_id);
			__atomic_store_n(&ld(link)->detached, 1, __ATOMIC_RELEASE);
			gen_bump();
		}
		emu_obj_unlock(link);
	} else if (emu_link_type_detachable(link->hdr->link.link_type)) {
		__atomic_store_n(&ld(link)->detached, 1, __ATOMIC_RELEASE);
		gen_bump();
	} else {
		err = -EOPNOTSUPP;
	}
	emu_obj_put(link);
	return err;
}

/* link_update_map() and bpf_struct_ops_map_link_update(): fds of maps */
static int struct_ops_update(struct emu_obj *link, int new_fd, __u32 flags, int old_fd)
{
	struct emu_obj *nm, *om = NULL;
	int acc, err = emu_fd_get(new_fd, EMU_KIND_MAP, &nm, &acc);
	if (err)
		return err;
	if (flags & BPF_F_REPLACE) {
		err = emu_fd_get(old_fd, EMU_KIND_MAP, &om, &acc);
		if (err)
			goto out;
	} else if (old_fd) {
		err = -EINVAL;
		goto out;
	}
	if (!emu_struct_ops_ready(nm)) {
		err = -EINVAL;
		goto out;
	}
	emu_obj_lock(link);
	struct link_data *d = ld(link);
	if (d->detached)
		err = -ENOLINK;
	else if (om && om->hdr->id != d->map_id)
		err = -EPERM;
	else
		err = emu_struct_ops_link_update(link, d->map_id, nm, new_fd);
	if (!err) {
		__atomic_store_n(&d->map_id, nm->hdr->id, __ATOMIC_RELEASE);
		gen_bump();
	}
	emu_obj_unlock(link);
out:
	if (om)
		emu_obj_put(om);
	emu_obj_put(nm);
	return err;
}

int emu_link_update(int link_fd, int new_prog_fd, __u32 flags, int old_prog_fd)
{
	struct emu_obj *link, *np, *op = NULL;
	int acc, err;
	if (flags & ~BPF_F_REPLACE)
		return -EINVAL;
	err = emu_fd_get(link_fd, EMU_KIND_LINK, &link, &acc);
	if (err)
		return err;
	if (link->hdr->link.link_type == LT_STRUCT_OPS) {
		err = struct_ops_update(link, new_prog_fd, flags, old_prog_fd);
		emu_obj_put(link);
		return err;
	}
	err = emu_fd_get(new_prog_fd, EMU_KIND_PROG, &np, &acc);
	if (err)
		goto out_link;
	if (flags & BPF_F_REPLACE) {
		err = emu_fd_get(old_prog_fd, EMU_KIND_PROG, &op, &acc);
		if (err)
			goto out_np;
	} else if (old_prog_fd) {
		err = -EINVAL;
		goto out_np;
	}
	struct emu_link_desc *l = &link->hdr->link;
	switch (l->link_type) {
	case BPF_LINK_TYPE_CGROUP: case BPF_LINK_TYPE_NETNS: case BPF_LINK_TYPE_XDP: case LT_TCX: case LT_NETKIT:
	case LT_SOCKMAP:
		if (op && op->hdr->id != l->prog_id)
			err = -EPERM;
		else if (np->hdr->prog.prog_type != l->prog_type ||
			 (np->hdr->prog.expected_attach_type != l->attach_type && l->link_type != BPF_LINK_TYPE_XDP &&
			  np->hdr->prog.expected_attach_type))
			err = -EINVAL;
		else if (__atomic_load_n(&ld(link)->detached, __ATOMIC_ACQUIRE))
			err = -ENOLINK;
		else {
			l->prog_id = np->hdr->id;
			gen_bump();
		}
		break;
	default:
		err = -EINVAL;
	}
	if (op)
		emu_obj_put(op);
out_np:
	emu_obj_put(np);
out_link:
	emu_obj_put(link);
	return err;
}

int emu_iter_create(int link_fd, __u32 flags)
{
	struct emu_obj *link;
	if (flags)
		return -EINVAL;
	int acc, err = emu_fd_get(link_fd, EMU_KIND_LINK, &link, &acc);
	if (err)
		return err;
	bool iter = link->hdr->link.link_type == BPF_LINK_TYPE_ITER;
	emu_obj_put(link);
	if (!iter)
		return -EINVAL;
	/* reading an iterator runs its program: no program runs here, so it reads as empty */
	int fd = memfd_create("bpf_iter", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	EMU_LOG(EMU_LOG_SYS, "bpf(BPF_ITER_CREATE): the iterator's program does not run here: it reads as empty");
	return fd;
}

/* ---- BPF_PROG_ATTACH / DETACH / QUERY ---- */

static int attach_dir(char *buf, size_t len)
{
	int err = emu_root_ready();
	if (err)
		return err;
	if (snprintf(buf, len, "%.4000s/attach", emu_config()->root) >= (int)len)
		return -ENAMETOOLONG;
	err = emu_os_mkdir(buf, 0700);
	return err == -EEXIST ? 0 : err;
}

/* A legacy attachment's record name: <kind>-<target>-<attach type>-<flags>-<seq>-<prog id> */
struct record {
	char kind[8];
	unsigned long long target;
	unsigned int type, flags, seq, prog;
	char name[128];
};

static int records(struct record *out, int max, const char *kind, __u64 target, __u32 type)
{
	char dir[PATH_MAX];
	if (attach_dir(dir, sizeof(dir)))
		return 0;
	struct emu_os_dir *d = emu_os_opendir(dir, NULL);
	const struct emu_os_dirent *e;
	int n = 0;
	while (d && (e = emu_os_readdir(d))) {
		struct record r;
		if (sscanf(e->name, "%7[a-z]-%llu-%u-%u-%u-%u", r.kind, &r.target, &r.type, &r.flags, &r.seq, &r.prog) != 6)
			continue;
		if (strcmp(r.kind, kind) || r.target != target || r.type != type)
			continue;
		snprintf(r.name, sizeof(r.name), "%.120s", e->name);
		if (n < max)
			out[n++] = r;
	}
	if (d)
		emu_os_closedir(d);
	/* attach order */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j].seq < out[j - 1].seq; j--) {
			struct record t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static int record_add(const char *kind, __u64 target, __u32 type, __u32 flags, int prog_fd, __u32 prog_id)
{
	char dir[PATH_MAX], name[128], proc[64];
	int err = attach_dir(dir, sizeof(dir));
	if (err)
		return err;
	snprintf(name, sizeof(name), "%s-%llu-%u-%u-%u-%u", kind, (unsigned long long)target, type, flags,
		 (unsigned int)(emu_attach_generation() & 0x7fffffff), prog_id);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", emu_caller_fd(prog_fd));
	struct emu_obj *prog;
	int acc;
	if (!emu_fd_get(prog_fd, EMU_KIND_NONE, &prog, &acc)) {
		emu_obj_mark_linked(prog);    /* a name besides its spare name */
		emu_obj_put(prog);
	}
	int dfd = emu_os_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0)
		return dfd;
	err = emu_os_linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW);
	emu_os_close(dfd);
	gen_bump();
	return err;
}

static void record_del(const struct record *r)
{
	char path[PATH_MAX];
	if (attach_dir(path, sizeof(path)))
		return;
	strncat(path, "/", sizeof(path) - strlen(path) - 1);
	strncat(path, r->name, sizeof(path) - strlen(path) - 1);
	emu_os_unlinkat(AT_FDCWD, path, 0);
	gen_bump();
}

/* the links on a target, in creation (id) order */
struct on_target {
	__u32 link_type, attach_type;
	__u64 target;
	__u32 prog_ids[BPF_CGROUP_MAX_PROGS * 2], link_ids[BPF_CGROUP_MAX_PROGS * 2];
	int n;
};

static __u64 link_target(const struct emu_obj *link)
{
	const struct link_data *d = ld(link);
	switch (link->hdr->link.link_type) {
	case BPF_LINK_TYPE_CGROUP: return d->cgroup_id;
	case BPF_LINK_TYPE_NETNS: return d->netns_ino;
	case BPF_LINK_TYPE_XDP: case LT_TCX: case LT_NETKIT: return d->ifindex;
	case LT_SOCKMAP: return d->map_id;
	default: return 0;
	}
}

static int on_target_fn(struct emu_obj *link, void *ctx)
{
	struct on_target *t = ctx;
	if (link->hdr->link.link_type == t->link_type && link->hdr->link.attach_type == t->attach_type &&
	    !ld(link)->detached && link_target(link) == t->target && t->n < (int)ARRAY_SIZE(t->prog_ids)) {
		t->prog_ids[t->n] = link->hdr->link.prog_id;
		t->link_ids[t->n++] = link->hdr->id;
	}
	return 0;
}

static const char *record_kind(__u32 pt)
{
	return is_cgroup_type(pt) || pt == BPF_PROG_TYPE_LSM ? "cg"
	       : pt == BPF_PROG_TYPE_SCHED_CLS ? "tcx"
	       : pt == BPF_PROG_TYPE_FLOW_DISSECTOR || pt == BPF_PROG_TYPE_SK_LOOKUP ? "ns"
	       : "sm";
}

int emu_prog_attach(const struct emu_attach_attr *a, bool detach)
{
	const char *cmd = detach ? "BPF_PROG_DETACH" : "BPF_PROG_ATTACH";
	__u32 pt = attach_prog_type(a->attach_type);
	if (pt == BPF_PROG_TYPE_UNSPEC)
		return -EINVAL;
	bool cg = is_cgroup_type(pt) || pt == BPF_PROG_TYPE_LSM;
	if (pt == BPF_PROG_TYPE_SCHED_CLS) {
		if (a->attach_flags & ~ATTACH_MASK_MPROG)
			return -EINVAL;
	} else if (cg) {
		if (a->attach_flags & ~ATTACH_MASK_BASE)
			return -EINVAL;
	} else if (a->attach_flags || a->relative_fd || a->expected_revision) {
		return -EINVAL;
	}
	struct emu_obj *prog = NULL;
	int acc, err;
	if (!detach || a->attach_bpf_fd || pt == BPF_PROG_TYPE_SCHED_CLS) {
		err = emu_fd_get((int)a->attach_bpf_fd, EMU_KIND_PROG, &prog, &acc);
		if (err)
			return err;
		if (prog->hdr->prog.prog_type != pt || check_attach_type(&prog->hdr->prog, a->attach_type)) {
			emu_obj_put(prog);
			return -EINVAL;              /* bpf_prog_get_type() */
		}
	}
	/* the target */
	__u64 target = 0;
	__u32 ino;
	if (cg)
		err = cgroup_of_fd((int)a->target_fd, &target);
	else if (pt == BPF_PROG_TYPE_SCHED_CLS)
		err = ifindex_exists(a->target_fd) ? (target = a->target_fd, 0) : -ENODEV;
	else if (pt == BPF_PROG_TYPE_FLOW_DISSECTOR)
		err = a->target_fd ? netns_of_fd((int)a->target_fd, &ino) : (ino = 0, 0), target = ino;
	else if (pt == BPF_PROG_TYPE_SK_SKB || pt == BPF_PROG_TYPE_SK_MSG) {
		struct emu_obj *map;
		err = emu_fd_get((int)a->target_fd, EMU_KIND_MAP, &map, &acc);
		if (!err) {
			__u32 mt = emu_map_desc(map)->map_type;
			target = map->hdr->id;
			emu_obj_put(map);
			if (mt != BPF_MAP_TYPE_SOCKMAP && mt != BPF_MAP_TYPE_SOCKHASH)
				err = -EINVAL;
		}
	} else {
		EMU_LOG(EMU_LOG_SYS, "bpf(%s): attach type %u is not emulated: EINVAL", cmd, a->attach_type);
		err = -EINVAL;
	}
	if (!err && !emu_config()->attach_inert)
		err = detach ? -ENOENT : not_possible(cmd);
	if (err)
		goto out;
	const char *kind = record_kind(pt);
	struct record r[BPF_CGROUP_MAX_PROGS + 1];
	int n = records(r, (int)ARRAY_SIZE(r), kind, target, a->attach_type);
	__u32 prog_id = prog ? prog->hdr->id : 0;
	if (detach) {
		/* __cgroup_bpf_detach(): the program named, or the only one */
		int k = -1;
		for (int i = 0; i < n; i++)
			if (!prog_id || r[i].prog == prog_id)
				k = i;
		if (k < 0 || (!prog_id && n > 1))
			err = -ENOENT;
		else
			record_del(&r[k]);
		goto out;
	}
	__u32 flags = a->attach_flags;
	if (cg) {
		/* __cgroup_bpf_attach() */
		if (((flags & BPF_F_ALLOW_OVERRIDE) && (flags & BPF_F_ALLOW_MULTI)) ||
		    ((flags & BPF_F_REPLACE) && !(flags & BPF_F_ALLOW_MULTI))) {
			err = -EINVAL;
			goto out;
		}
		__u32 saved = flags & (BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI);
		if (n && (r[0].flags & (BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI)) != saved) {
			err = -EPERM;
			goto out;
		}
		if (n >= BPF_CGROUP_MAX_PROGS) {
			err = -E2BIG;
			goto out;
		}
		if (saved & BPF_F_ALLOW_MULTI) {
			for (int i = 0; i < n; i++)
				if (r[i].prog == prog_id) {
					err = -EEXIST;
					goto out;
				}
		} else if (n) {
			record_del(&r[0]);           /* a single program is replaced */
		}
	} else {
		for (int i = 0; i < n; i++)
			if (r[i].prog == prog_id) {
				err = -EEXIST;
				goto out;
			}
		if (pt != BPF_PROG_TYPE_SCHED_CLS)
			for (int i = 0; i < n; i++)
				record_del(&r[i]);   /* netns and sockmap slots hold one program */
	}
	err = record_add(kind, target, a->attach_type, flags & (BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI),
			 (int)a->attach_bpf_fd, prog_id);
	if (!err)
		EMU_LOG(EMU_LOG_SYS, "bpf(%s): BPFEMU_ATTACH=inert: program %u recorded, nothing attached", cmd, prog_id);
out:
	if (prog)
		emu_obj_put(prog);
	return err;
}

int emu_prog_query(const struct emu_query_attr *a, void *uq)
{
	__u32 pt = attach_prog_type(a->attach_type);
	__u64 target = 0;
	__u32 ino, link_type;
	int acc, err;
	if (a->query_flags & ~BPF_F_QUERY_EFFECTIVE)
		return -EINVAL;
	bool cg = is_cgroup_type(pt) || a->attach_type == BPF_LSM_CGROUP;
	if (cg) {
		link_type = BPF_LINK_TYPE_CGROUP;
		err = cgroup_of_fd((int)a->target_fd, &target);
	} else if (a->attach_type == BPF_FLOW_DISSECTOR || a->attach_type == BPF_SK_LOOKUP) {
		link_type = BPF_LINK_TYPE_NETNS;
		err = netns_of_fd((int)a->target_fd, &ino);
		target = ino;
	} else if (a->attach_type == AT_TCX_INGRESS || a->attach_type == AT_TCX_EGRESS) {
		link_type = LT_TCX;
		err = ifindex_exists(a->target_fd) ? 0 : -ENODEV;
		target = a->target_fd;
	} else if (pt == BPF_PROG_TYPE_SK_SKB || pt == BPF_PROG_TYPE_SK_MSG) {
		struct emu_obj *map;
		link_type = LT_SOCKMAP;
		err = emu_fd_get((int)a->target_fd, EMU_KIND_MAP, &map, &acc);
		if (!err) {
			target = map->hdr->id;
			emu_obj_put(map);
		}
	} else {
		return -EINVAL;
	}
	if (err)
		return err;
	bool effective = a->query_flags & BPF_F_QUERY_EFFECTIVE;
	if (cg && effective && a->prog_attach_flags)
		return -EINVAL;
	/* the links on the target, then the legacy attachments */
	static struct on_target t;
	memset(&t, 0, sizeof(t));
	t.link_type = link_type;
	t.attach_type = a->attach_type;
	t.target = target;
	foreach_link(on_target_fn, &t);
	__u32 flags = t.n ? BPF_F_ALLOW_MULTI : 0;
	struct record r[BPF_CGROUP_MAX_PROGS + 1];
	int n = records(r, (int)ARRAY_SIZE(r), record_kind(pt), target, a->attach_type);
	__u32 ids[ARRAY_SIZE(t.prog_ids) + ARRAY_SIZE(r)], lids[ARRAY_SIZE(ids)], aflags[ARRAY_SIZE(ids)];
	__u32 cnt = 0;
	for (int i = 0; i < n; i++) {
		ids[cnt] = r[i].prog;
		lids[cnt] = 0;
		aflags[cnt++] = r[i].flags;
		flags = r[i].flags;
	}
	for (int i = 0; i < t.n; i++) {
		ids[cnt] = t.prog_ids[i];
		lids[cnt] = t.link_ids[i];
		aflags[cnt++] = BPF_F_ALLOW_MULTI;
	}
	if (!cg)
		flags = 0;
	if (effective)
		flags = 0;
	__u64 revision = emu_attach_generation() + 1;
	if (emu_copy_to_user((char *)uq + offsetof(struct emu_query_attr, attach_flags), &flags, 4) ||
	    emu_copy_to_user((char *)uq + offsetof(struct emu_query_attr, prog_cnt), &cnt, 4) ||
	    emu_copy_to_user((char *)uq + offsetof(struct emu_query_attr, revision), &revision, 8))
		return -EFAULT;
	if (!a->prog_cnt || !a->prog_ids || !cnt)
		return 0;
	err = 0;
	__u32 k = cnt;
	if (a->prog_cnt < cnt) {
		k = a->prog_cnt;
		err = -ENOSPC;
	}
	if (emu_copy_to_user((void *)(uintptr_t)a->prog_ids, ids, 4ull * k))
		return -EFAULT;
	if (a->prog_attach_flags && emu_copy_to_user((void *)(uintptr_t)a->prog_attach_flags, aflags, 4ull * k))
		return -EFAULT;
	if (a->link_ids && emu_copy_to_user((void *)(uintptr_t)a->link_ids, lids, 4ull * k))
		return -EFAULT;
	return err;
}

/* ---- BPF_TASK_FD_QUERY ---- */

int emu_task_fd_query(int pid, int fd, __u32 flags, void *uq)
{
	char path[64];
	struct {
		__u32 pid, fd, flags, buf_len;
		__u64 buf;
		__u32 prog_id, fd_type;
		__u64 probe_offset, probe_addr;
	} q;
	if (flags)
		return -EINVAL;
	if (emu_copy_from_user(&q, uq, sizeof(q)))
		return -EFAULT;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (pid <= 0 || emu_os_faccessat(AT_FDCWD, path, F_OK))
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	/* only our object files are opened (a FIFO or a tty must not be): regular files of the state root */
	struct stat sb;
	dev_t rdev;
	if (emu_os_stat(path, &sb))
		return -EBADF;                       /* fget_task(): no such file (or not ours to see) */
	if (!S_ISREG(sb.st_mode) || emu_root_dev(&rdev) || sb.st_dev != rdev)
		return -ENOTSUPP;
	int ofd = emu_os_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	if (ofd < 0)
		return -EBADF;
	struct emu_obj *obj = NULL;
	int acc, err = emu_fd_get_local(ofd, EMU_KIND_ANY, &obj, &acc);
	const char *buf = NULL;
	__u32 prog_id = 0, fd_type = 0;
	__u64 off = 0, addr = 0;
	if (err) {
		obj = NULL;
		err = -ENOTSUPP;                     /* not ours: the kernel's own files answer that too */
	} else if (obj->hdr->kind == EMU_KIND_LINK && obj->hdr->link.link_type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
		prog_id = obj->hdr->link.prog_id;
		fd_type = BPF_FD_TYPE_RAW_TRACEPOINT;
		buf = ld_names(ld(obj));
	} else if (obj->hdr->kind == EMU_KIND_PERF_EVENT) {
		err = emu_perf_query(obj, &prog_id, &fd_type, &buf, &off, &addr);
	} else {
		err = -ENOTSUPP;
	}
	if (!err) {
		/* bpf_task_fd_query_copy() */
		__u32 len = buf ? (__u32)strlen(buf) : 0, input_len = q.buf_len;
		char *ubuf = (char *)(uintptr_t)q.buf;
		char zero = '\0';
		if (emu_copy_to_user((char *)uq + offsetof(__typeof__(q), buf_len), &len, 4))
			err = -EFAULT;
		else if (input_len && ubuf) {
			if (!len)
				err = emu_copy_to_user(ubuf, &zero, 1) ? -EFAULT : 0;
			else if (input_len >= len + 1)
				err = emu_copy_to_user(ubuf, buf, len + 1) ? -EFAULT : 0;
			else
				err = emu_copy_to_user(ubuf, buf, input_len - 1) ||
						      emu_copy_to_user(ubuf + input_len - 1, &zero, 1)
					      ? -EFAULT
					      : -ENOSPC;
		}
		if (err != -EFAULT &&
		    (emu_copy_to_user((char *)uq + offsetof(__typeof__(q), prog_id), &prog_id, 4) ||
		     emu_copy_to_user((char *)uq + offsetof(__typeof__(q), fd_type), &fd_type, 4) ||
		     emu_copy_to_user((char *)uq + offsetof(__typeof__(q), probe_offset), &off, 8) ||
		     emu_copy_to_user((char *)uq + offsetof(__typeof__(q), probe_addr), &addr, 8)))
			err = -EFAULT;
	}
	if (obj)
		emu_obj_put(obj);
	emu_fd_closed(ofd);
	emu_os_close(ofd);
	return err;
}

/* ---- the registry of attach points ---- */

struct each_ctx {
	int (*fn)(const struct emu_attach_point *pt, void *ctx);
	void *ctx;
};

static int each_link(struct emu_obj *link, void *ctx)
{
	struct each_ctx *c = ctx;
	const struct emu_link_desc *l = &link->hdr->link;
	struct link_data *d = ld(link);
	struct emu_attach_point pt = { .prog_id = l->prog_id, .link_id = link->hdr->id, .attach_type = l->attach_type,
				       .cookie = d->cookie, .target = link_target(link), .name = ld_names(d) };
	if (d->detached)
		return 0;
	switch (l->link_type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT: pt.kind = EMU_AT_RAW_TP; break;
	case BPF_LINK_TYPE_TRACING:
		pt.kind = l->attach_type == BPF_TRACE_FEXIT ? EMU_AT_FEXIT
			  : l->attach_type == BPF_MODIFY_RETURN ? EMU_AT_FMOD_RET
			  : l->attach_type == BPF_LSM_MAC ? EMU_AT_LSM : EMU_AT_FENTRY;
		pt.target = d->btf_id;
		break;
	case BPF_LINK_TYPE_CGROUP: pt.kind = EMU_AT_CGROUP; break;
	case BPF_LINK_TYPE_ITER: pt.kind = EMU_AT_ITER; pt.target = d->map_id; break;
	case BPF_LINK_TYPE_NETNS: pt.kind = EMU_AT_NETNS; break;
	case BPF_LINK_TYPE_XDP: pt.kind = EMU_AT_XDP; break;
	case LT_TCX: pt.kind = EMU_AT_TCX; break;
	case LT_SOCKMAP: pt.kind = EMU_AT_SOCKMAP; break;
	case LT_NETFILTER:
		pt.kind = EMU_AT_NETFILTER;
		pt.pf = d->pf;
		pt.hooknum = d->hooknum;
		pt.priority = d->priority;
		break;
	case LT_KPROBE_MULTI: {
		/* one point per function */
		const char *s = ld_syms(d);
		pt.kind = (d->flags & BPF_F_KPROBE_MULTI_RETURN) ? EMU_AT_KRETPROBE : EMU_AT_KPROBE;
		pt.retprobe = d->flags & BPF_F_KPROBE_MULTI_RETURN;
		for (__u32 i = 0; i < d->count; i++) {
			pt.name = d->syms_len ? s : NULL;
			pt.target = d->syms_len ? 0 : ld_addrs(d)[i];
			pt.cookie = ld_cookies(d)[i];
			int r = c->fn(&pt, c->ctx);
			if (r)
				return r;
			if (d->syms_len)
				s += strlen(s) + 1;
		}
		return 0;
	}
	case BPF_LINK_TYPE_PERF_EVENT:
		pt.offset = d->offset;
		switch (d->perf_type) {
		case PE_KPROBE: pt.kind = EMU_AT_KPROBE; break;
		case PE_KRETPROBE: pt.kind = EMU_AT_KRETPROBE; pt.retprobe = true; break;
		case PE_UPROBE: pt.kind = EMU_AT_UPROBE; pt.target = d->addr; break;
		case PE_URETPROBE: pt.kind = EMU_AT_URETPROBE; pt.retprobe = true; pt.target = d->addr; break;
		case PE_TRACEPOINT: pt.kind = EMU_AT_TRACEPOINT; break;
		default: pt.kind = EMU_AT_PERF_EVENT; pt.target = d->perf_event_id; break;
		}
		break;
	default:
		return 0;
	}
	return c->fn(&pt, c->ctx);
}

static int each_set_bpf(struct emu_obj *ev, void *ctx)
{
	struct each_ctx *c = ctx;
	struct emu_perf_state *st = emu_perf_state(ev);
	char tp[600];
	if (!st->prog_id || st->link_id)
		return 0;
	struct emu_attach_point pt = { .prog_id = st->prog_id, .offset = st->probe_offset, .cookie = st->bpf_cookie,
				       .retprobe = st->retprobe, .name = st->name };
	switch (st->kind) {
	case EMU_PERF_KPROBE: pt.kind = st->retprobe ? EMU_AT_KRETPROBE : EMU_AT_KPROBE; break;
	case EMU_PERF_UPROBE:
		pt.kind = st->retprobe ? EMU_AT_URETPROBE : EMU_AT_UPROBE;
		pt.target = st->probe_addr;
		break;
	case EMU_PERF_TRACEPOINT:
		pt.kind = EMU_AT_TRACEPOINT;
		snprintf(tp, sizeof(tp), "%.255s/%.300s", st->category, st->name);
		pt.name = tp;
		break;
	default: pt.kind = EMU_AT_PERF_EVENT; pt.target = ev->hdr->id; break;
	}
	return c->fn(&pt, c->ctx);
}

int emu_attach_foreach(int (*fn)(const struct emu_attach_point *pt, void *ctx), void *ctx)
{
	struct each_ctx c = { fn, ctx };
	int r = foreach_link(each_link, &c);
	/* perf events that hold a program through PERF_EVENT_IOC_SET_BPF */
	if (!r)
		r = foreach_live(EMU_KIND_PERF_EVENT, each_set_bpf, &c);
	/* legacy attachments */
	char dir[PATH_MAX];
	struct emu_os_dir *d = !r && !attach_dir(dir, sizeof(dir)) ? emu_os_opendir(dir, NULL) : NULL;
	const struct emu_os_dirent *e;
	while (d && !r && (e = emu_os_readdir(d))) {
		struct record rec;
		if (sscanf(e->name, "%7[a-z]-%llu-%u-%u-%u-%u", rec.kind, &rec.target, &rec.type, &rec.flags, &rec.seq,
			   &rec.prog) != 6)
			continue;
		struct emu_attach_point pt = { .prog_id = rec.prog, .attach_type = rec.type, .target = rec.target };
		pt.kind = !strcmp(rec.kind, "cg") ? EMU_AT_CGROUP : !strcmp(rec.kind, "tcx") ? EMU_AT_TCX
			  : !strcmp(rec.kind, "ns") ? EMU_AT_NETNS : EMU_AT_SOCKMAP;
		r = fn(&pt, ctx);
	}
	if (d)
		emu_os_closedir(d);
	if (!r)
		r = emu_struct_ops_foreach(fn, ctx);
	return r;
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
