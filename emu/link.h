/* SPDX-License-Identifier: MIT */
/*
 * emu/link.h: attach calls. Nothing on the host runs an attached program:
 * without BPFEMU_ATTACH=inert the attach calls fail with EOPNOTSUPP and a log
 * line; with it they succeed as the kernel's would, with link objects that
 * remember exactly what they attach to (the kernel's link info, BPF_PROG_QUERY,
 * BPF_TASK_FD_QUERY, and emu_attach_foreach() for emu/fire, which runs them on
 * the events it is asked to fire).
 */
#ifndef BPFEMU_LINK_H
#define BPFEMU_LINK_H

#include "obj.h"

/* BPF_LINK_CREATE's attr as Linux 6.18 has it (the installed headers stop at kprobe_multi). */
struct emu_link_create_attr {
	__u32 prog_fd;                 /* or map_fd (struct_ops) */
	__u32 target_fd;               /* or target_ifindex */
	__u32 attach_type;
	__u32 flags;
	union {
		__u32 target_btf_id;
		struct {
			__u64 iter_info;
			__u32 iter_info_len;
		} iter;
		struct {
			__u64 bpf_cookie;
		} perf_event;
		struct {
			__u32 flags, cnt;
			__u64 syms, addrs, cookies;
		} kprobe_multi;
		struct {
			__u32 target_btf_id;
			__u64 cookie;
		} tracing;
		struct {
			__u32 pf, hooknum;
			__s32 priority;
			__u32 flags;
		} netfilter;
		struct {
			__u32 relative_fd;
			__u64 expected_revision;
		} tcx;
		struct {
			__u64 path, offsets, ref_ctr_offsets, cookies;
			__u32 cnt, flags, pid, path_fd;
		} uprobe_multi;
	};
};
_Static_assert(sizeof(struct emu_link_create_attr) == 64, "Linux 6.18's link_create");

/* BPF_PROG_ATTACH / DETACH / QUERY's fields as Linux 6.18 has them. */
struct emu_attach_attr {
	__u32 target_fd;               /* or target_ifindex */
	__u32 attach_bpf_fd;
	__u32 attach_type;
	__u32 attach_flags;
	__u32 replace_bpf_fd;
	__u32 relative_fd;             /* or relative_id */
	__u64 expected_revision;
};
struct emu_query_attr {
	__u32 target_fd;               /* or target_ifindex */
	__u32 attach_type;
	__u32 query_flags;
	__u32 attach_flags;
	__u64 prog_ids;
	__u32 prog_cnt;
	__u32 pad;
	__u64 prog_attach_flags, link_ids, link_attach_flags;
	__u64 revision;
};
_Static_assert(sizeof(struct emu_query_attr) == 64, "Linux 6.18's query");

/* BPF_LINK_CREATE (uattr: the caller's attr, for nothing but EFAULT order). */
int emu_link_create(const struct emu_link_create_attr *a);
/* BPF_RAW_TRACEPOINT_OPEN: name (user pointer, NULL for tp_btf/fentry/...), cookie. */
int emu_raw_tracepoint_open(int prog_fd, const void *name, __u64 cookie);
int emu_prog_attach(const struct emu_attach_attr *a, bool detach);
int emu_prog_query(const struct emu_query_attr *a, void *uquery);
int emu_link_detach(int link_fd);
/* A program one of whose functions an attached extension replaces (is_extended). */
bool emu_prog_extended(const struct emu_obj *prog);
/* Has this link type a detach op (BPF_LINK_DETACH answers 0, not EOPNOTSUPP)? */
bool emu_link_type_detachable(__u32 link_type);
int emu_link_update(int link_fd, int new_prog_fd, __u32 flags, int old_prog_fd);
int emu_iter_create(int link_fd, __u32 flags);
/* BPF_TASK_FD_QUERY: pid, fd, flags, the user's buf and buf_len; writes the outputs into uq
 * (the caller's attr at task_fd_query). */
int emu_task_fd_query(int pid, int fd, __u32 flags, void *uq);
/* BPF_OBJ_GET_INFO_BY_FD for a link: info is the caller's struct copied in (info_len bytes,
 * the rest zero), filled as the kernel fills it. */
int emu_link_fill_info(struct emu_obj *link, void *info);
#define EMU_LINK_INFO_SIZE 64u         /* sizeof(struct bpf_link_info) in Linux 6.18 */

/* ---- what is attached where: the engine's registry of attach points ---- */
enum emu_attach_kind {
	EMU_AT_NONE, EMU_AT_TRACEPOINT, EMU_AT_RAW_TP, EMU_AT_KPROBE, EMU_AT_KRETPROBE, EMU_AT_UPROBE,
	EMU_AT_URETPROBE, EMU_AT_FENTRY, EMU_AT_FEXIT, EMU_AT_FMOD_RET, EMU_AT_LSM, EMU_AT_ITER, EMU_AT_CGROUP,
	EMU_AT_XDP, EMU_AT_TCX, EMU_AT_NETFILTER, EMU_AT_NETNS, EMU_AT_SOCKMAP, EMU_AT_PERF_EVENT,
	EMU_AT_STRUCT_OPS,             /* a member of a registered struct_ops map: name "TYPE/NAME.MEMBER" */
};
/* One attached program, as an event source would look it up. */
struct emu_attach_point {
	enum emu_attach_kind kind;
	__u32 prog_id, link_id;        /* link_id 0: attached without a link (SET_BPF, PROG_ATTACH) */
	__u32 attach_type;
	const char *name;              /* tracepoint "CATEGORY/NAME", raw tracepoint, function, uprobe path,
	                                * struct_ops "TYPE/NAME.MEMBER" (NAME: tcp_congestion_ops' name, else
	                                * the map's) */
	__u64 offset;                  /* probe offset */
	__u64 cookie;
	__u64 target;                  /* cgroup id, ifindex, netns inode, map id, btf id; uprobes: the file's inode */
	__u32 pf, hooknum;             /* netfilter */
	__s32 priority;
	bool retprobe;
};
/* Calls fn for every live attachment (links, perf events that hold a program, legacy
 * PROG_ATTACH attachments) until fn returns non-zero; returns that or 0. Slow: it scans
 * for live objects (as the id commands do); firers cache and re-scan when
 * emu_attach_generation() changed. */
int emu_attach_foreach(int (*fn)(const struct emu_attach_point *pt, void *ctx), void *ctx);
/* emu/struct_ops.c: the function members of registered struct_ops maps (INUSE, or READY
 * with a live link), as attach points (target: the map id; link_id: the link or 0). */
int emu_struct_ops_foreach(int (*fn)(const struct emu_attach_point *pt, void *ctx), void *ctx);
/* Bumped by every attach and detach of this state root. */
__u64 emu_attach_generation(void);

#endif
