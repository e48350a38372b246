/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/probes.c: what each program type's verifier_ops give it,
 * against the kernel's: the context (is_valid_access) and the helpers
 * (get_func_proto: which helpers exist, and their prototypes, which differ
 * between program types for some helpers).
 *
 * For every program type that test-runs or attaches (and the attach types
 * and targets the load needs), small programs (probes), the same on every
 * run:
 *   - the context: a load and a store (of a register) of 1, 2, 4 and 8 bytes
 *     at every offset below 232 that is a multiple of the size (groups l1 ..
 *     l8, s1 .. s8);
 *   - every helper id: a call whose arguments are the ones its prototype
 *     wants as far as a small program has them (the context, 8, a zeroed
 *     stack buffer of 64 bytes, a map, a map value, NULL), then the same
 *     call with each argument replaced by NULL, a scalar, the context, the
 *     stack buffer, a map value (group hN).
 * A probe's answer is its verdict and errno, and when refused the line the
 * log (level 1) has before the statistics line. The corpus keeps, per type
 * and group, one character per probe for the verdict and a hash of all the
 * answers; the prototypes that guide the arguments are bpfemu's
 * (emu/verifier/helper_protos.h), so a change there changes the probes
 * (the corpus's program hash tells: record it again on the kernel).
 *
 *   vprobes record FILE          load on this bpf() and write the answers (the
 *                                kernel build, as root: the corpus under tests/)
 *   vprobes check FILE           load on this bpf() and compare with FILE; exit 1
 *                                on any difference (a type the recording host
 *                                refused is skipped, with its reason)
 *   vprobes show TYPE GROUP      print the group's probes and this bpf()'s answers
 *   vprobes diff [TYPE [GROUP]]  (the engine build, as root) load every probe on
 *                                the engine and on the kernel, print each
 *                                difference with both error lines
 *
 * Built twice: vprobes (the engine, bpfemu_bpf()) and vprobes_kernel (the
 * real bpf()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include "verifier/env.h"
#include "verifier/helper_protos.h"

static long kernel_bpf(int cmd, union bpf_attr *a)
{
	long r = syscall(__NR_bpf, cmd, a, sizeof(*a));
	return r < 0 ? -errno : r;
}

#ifdef VPROBES_KERNEL
static long sys_bpf(int cmd, union bpf_attr *a) { return kernel_bpf(cmd, a); }
static void sys_close(int fd) { close(fd); }
#else
#include <bpfemu/bpfemu.h>
static long sys_bpf(int cmd, union bpf_attr *a)
{
	long r = bpfemu_bpf(cmd, a, sizeof(*a));
	return r < 0 ? -errno : r;
}
static void sys_close(int fd)
{
	close(fd);
	bpfemu_forget_fd(fd);
}
#endif

/* ---- the program types ---- */
struct ptype {
	const char *name;
	__u32 type, attach, flags;
	const char *btf;        /* attach_btf_id: this name in the kernel's BTF */
	__u32 btf_kind;
	bool variant;           /* another attach type of a type above: each helper's first probe only */
	int ret;                /* what the probes return (recvmsg, getpeername, getsockname: 1) */
};

static const struct ptype ptypes[] = {
	{ "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, NULL, 0, false, 0 },
	{ "kprobe", BPF_PROG_TYPE_KPROBE, 0, 0, NULL, 0, false, 0 },
	{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS, 0, 0, NULL, 0, false, 0 },
	{ "sched_act", BPF_PROG_TYPE_SCHED_ACT, 0, 0, NULL, 0, false, 0 },
	{ "tracepoint", BPF_PROG_TYPE_TRACEPOINT, 0, 0, NULL, 0, false, 0 },
	{ "xdp", BPF_PROG_TYPE_XDP, 0, 0, NULL, 0, false, 0 },
	{ "perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, 0, NULL, 0, false, 0 },
	{ "cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 0, NULL, 0, false, 0 },
	{ "cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0, NULL, 0, false, 0 },
	{ "lwt_in", BPF_PROG_TYPE_LWT_IN, 0, 0, NULL, 0, false, 0 },
	{ "lwt_out", BPF_PROG_TYPE_LWT_OUT, 0, 0, NULL, 0, false, 0 },
	{ "lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, 0, NULL, 0, false, 0 },
	{ "sock_ops", BPF_PROG_TYPE_SOCK_OPS, 0, 0, NULL, 0, false, 0 },
	{ "sk_skb", BPF_PROG_TYPE_SK_SKB, 0, 0, NULL, 0, false, 0 },
	{ "cgroup_device", BPF_PROG_TYPE_CGROUP_DEVICE, 0, 0, NULL, 0, false, 0 },
	{ "sk_msg", BPF_PROG_TYPE_SK_MSG, 0, 0, NULL, 0, false, 0 },
	{ "raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, NULL, 0, false, 0 },
	{ "cgroup_sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 0, NULL, 0, false, 0 },
	{ "lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, 0, NULL, 0, false, 0 },
	{ "sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, 0, 0, NULL, 0, false, 0 },
	{ "flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, 0, 0, NULL, 0, false, 0 },
	{ "cgroup_sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, 0, 0, NULL, 0, false, 0 },
	{ "raw_tracepoint_writable", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0, NULL, 0, false, 0 },
	{ "cgroup_getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT, 0, NULL, 0, false, 0 },
	{ "cgroup_setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, 0, NULL, 0, false, 0 },
	{ "tp_btf_sys_enter", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0, "btf_trace_sys_enter", BTF_KIND_TYPEDEF, false, 0 },
	{ "tp_btf_kfree_skb", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF, false, 0 },
	{ "iter_task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, 0, "bpf_iter_task", BTF_KIND_FUNC, false, 0 },
	{ "fentry", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, 0, "bpf_fentry_test1", BTF_KIND_FUNC, false, 0 },
	{ "lsm", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 0, "bpf_lsm_file_open", BTF_KIND_FUNC, false, 0 },
	{ "dummy_ops_test_1", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, "bpf_dummy_ops", BTF_KIND_STRUCT, false, 0 },
	{ "dummy_ops_test_2", BPF_PROG_TYPE_STRUCT_OPS, 1, 0, "bpf_dummy_ops", BTF_KIND_STRUCT, false, 0 },
	{ "sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, 0, NULL, 0, false, 0 },
	{ "syscall", 31 /* BPF_PROG_TYPE_SYSCALL */, 0, 1u << 4 /* BPF_F_SLEEPABLE */, NULL, 0, false, 0 },
	{ "netfilter", 32 /* BPF_PROG_TYPE_NETFILTER */, 45 /* BPF_NETFILTER */, 0, NULL, 0, false, 0 },
	/* the attach types that change the context or the helpers */
#define V(name, type, attach) { name, type, attach, 0, NULL, 0, true, 0 }
#define V1(name, type, attach) { name, type, attach, 0, NULL, 0, true, 1 }
	V("xdp_devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP),
	V("xdp_cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP),
	V("xdp_link", BPF_PROG_TYPE_XDP, BPF_XDP),
	V("tcx_ingress", BPF_PROG_TYPE_SCHED_CLS, 46),
	V("tcx_egress", BPF_PROG_TYPE_SCHED_CLS, 47),
	V("netkit_primary", BPF_PROG_TYPE_SCHED_CLS, 54),
	V("netkit_peer", BPF_PROG_TYPE_SCHED_CLS, 55),
	V("kprobe_multi", BPF_PROG_TYPE_KPROBE, 42),
	V("uprobe_multi", BPF_PROG_TYPE_KPROBE, 48),
	V("kprobe_session", BPF_PROG_TYPE_KPROBE, 56),
	V("uprobe_session", BPF_PROG_TYPE_KPROBE, 57),
	V("cgroup_skb_egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS),
	V("cgroup_post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND),
	V("cgroup_post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND),
	V("cgroup_sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE),
	V("cgroup_bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND),
	V("cgroup_bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND),
	V("cgroup_connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT),
	V("cgroup_sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG),
	V("cgroup_sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG),
	V1("cgroup_recvmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG),
	V1("cgroup_recvmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG),
	V1("cgroup_getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME),
	V1("cgroup_getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME),
	V1("cgroup_getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME),
	V1("cgroup_getsockname6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME),
	V("cgroup_unix_connect", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 49),
	V("cgroup_unix_sendmsg", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 50),
	V1("cgroup_unix_recvmsg", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 51),
	V1("cgroup_unix_getpeername", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 52),
	V1("cgroup_unix_getsockname", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 53),
	V("sk_reuseport_select", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT),
	V("sk_reuseport_migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE),
	V("sk_skb_stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER),
	V("sk_skb_stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT),
	V("sk_skb_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_VERDICT),
	V("sk_msg_verdict", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT),
	{ "xdp_frags", BPF_PROG_TYPE_XDP, BPF_XDP, 1u << 5 /* BPF_F_XDP_HAS_FRAGS */, NULL, 0, true, 0 },
	{ "uprobe_multi_sleepable", BPF_PROG_TYPE_KPROBE, 48, 1u << 4 /* BPF_F_SLEEPABLE */, NULL, 0, true, 0 },
#undef V
#undef V1
};
#define NTYPES (sizeof(ptypes) / sizeof(ptypes[0]))

/* the kernel's BTF, where the engine reads it too (BPFEMU_KERNEL_BTF/vmlinux,
 * else /sys/kernel/btf/vmlinux); NULL if absent */
static char *kbtf_data;
static size_t kbtf_size;

static bool kbtf_load(void)
{
	static bool tried;
	if (tried)
		return kbtf_data != NULL;
	tried = true;
	const char *dir = getenv("BPFEMU_KERNEL_BTF");
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmlinux", dir && *dir ? dir : "/sys/kernel/btf");
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t cap = 1 << 20, n;
	char *data = malloc(cap);
	while (data && (n = fread(data + kbtf_size, 1, cap - kbtf_size, f)) > 0)
		if ((kbtf_size += n) == cap) {
			char *nd = realloc(data, cap *= 2);
			if (!nd)
				free(data);
			data = nd;
		}
	fclose(f);
	if (!data || kbtf_size < sizeof(struct btf_header)) {
		free(data);
		kbtf_size = 0;
		return false;
	}
	kbtf_data = data;
	return true;
}

static __u64 fnv(__u64 h, const void *b, size_t n);
#define FNV0 0xcbf29ce484222325ull

/* which kernel BTF the tracing, LSM and struct_ops probes saw: 0 if none */
static __u64 kbtf_fingerprint(void)
{
	return kbtf_load() ? fnv(FNV0, kbtf_data, kbtf_size) | 1 : 0;
}

/* the kernel's BTF: the id of a name of a kind, 0 if none */
static __u32 kbtf_id(const char *name, __u32 kind)
{
	if (!kbtf_load())
		return 0;
	const char *data = kbtf_data;
	const struct btf_header *h = (const void *)data;
	if ((size_t)h->hdr_len + h->type_off + h->type_len > kbtf_size ||
	    (size_t)h->hdr_len + h->str_off + h->str_len > kbtf_size)
		return 0;
	const char *types = data + h->hdr_len + h->type_off, *strs = data + h->hdr_len + h->str_off;
	__u32 off = 0, id = 1;
	while (off < h->type_len) {
		const struct btf_type *t = (const void *)(types + off);
		__u32 k = BTF_INFO_KIND(t->info), vlen = BTF_INFO_VLEN(t->info);
		if (k == kind && !strcmp(strs + t->name_off, name))
			return id;
		off += sizeof(*t);
		switch (k) {
		case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: off += 4; break;
		case BTF_KIND_ARRAY: off += 12; break;
		case BTF_KIND_STRUCT: case BTF_KIND_UNION: off += vlen * 12; break;
		case BTF_KIND_ENUM: off += vlen * 8; break;
		case 19: off += vlen * 12; break;               /* ENUM64 */
		case BTF_KIND_FUNC_PROTO: off += vlen * 8; break;
		case BTF_KIND_DATASEC: off += vlen * 12; break;
		default: break;
		}
		id++;
	}
	return 0;
}

/* ---- maps (slots in ld_imm64 become their fds) ---- */
enum { M_ARRAY, M_HASH, M_RINGBUF, M_PERF, M_PROG, M_SOCKMAP, M_SOCKHASH, M_STACK_TRACE, M_QUEUE, M_DEVMAP, M_XSKMAP,
       M_CPUMAP, M_REUSEPORT, M_CGROUP_ARRAY, NMAPS };
static const struct {
	__u32 type, key, value, max;
} map_specs[NMAPS] = {
	[M_ARRAY] = { BPF_MAP_TYPE_ARRAY, 4, 64, 1 },
	[M_HASH] = { BPF_MAP_TYPE_HASH, 4, 64, 16 },
	[M_RINGBUF] = { BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 },
	[M_PERF] = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 8 },
	[M_PROG] = { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4 },
	[M_SOCKMAP] = { BPF_MAP_TYPE_SOCKMAP, 4, 4, 4 },
	[M_SOCKHASH] = { BPF_MAP_TYPE_SOCKHASH, 4, 4, 4 },
	[M_STACK_TRACE] = { BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 16, 16 },
	[M_QUEUE] = { BPF_MAP_TYPE_QUEUE, 0, 64, 16 },
	[M_DEVMAP] = { BPF_MAP_TYPE_DEVMAP, 4, 4, 4 },
	[M_XSKMAP] = { BPF_MAP_TYPE_XSKMAP, 4, 4, 4 },
	[M_CPUMAP] = { BPF_MAP_TYPE_CPUMAP, 4, 4, 4 },
	[M_REUSEPORT] = { BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, 4, 4, 4 },
	[M_CGROUP_ARRAY] = { BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 4 },
};
static int map_fds[NMAPS];
static int kmap_fds[NMAPS];     /* the kernel's, where vprobes compares with it (diff) */

static void make_maps(long (*bpf)(int, union bpf_attr *), int *fds)
{
	for (int k = 0; k < NMAPS; k++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = map_specs[k].type;
		a.key_size = map_specs[k].key;
		a.value_size = map_specs[k].value;
		a.max_entries = map_specs[k].max;
		long fd = bpf(BPF_MAP_CREATE, &a);
		if (fd < 0) {
			fprintf(stderr, "vprobes: map %d (type %u): %s\n", k, map_specs[k].type, strerror((int)-fd));
			exit(77);
		}
		fds[k] = (int)fd;
	}
}

/* new, empty maps that hold programs (prog array, devmap, cpumap) for each
 * type: the first program that loads with one owns it (its type, flags,
 * attach type), and later types could not use it */
static void fresh_prog_maps(long (*bpf)(int, union bpf_attr *), int *fds)
{
	static const int which[] = { M_PROG, M_DEVMAP, M_CPUMAP };
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		int k = which[i];
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = map_specs[k].type;
		a.key_size = map_specs[k].key;
		a.value_size = map_specs[k].value;
		a.max_entries = map_specs[k].max;
		long fd = bpf(BPF_MAP_CREATE, &a);
		if (fd < 0) {
			fprintf(stderr, "vprobes: map %d (type %u): %s\n", k, map_specs[k].type, strerror((int)-fd));
			exit(1);
		}
		if (bpf == kernel_bpf)
			close(fds[k]);
		else
			sys_close(fds[k]);
		fds[k] = (int)fd;
	}
}

/* the map a helper's map argument gets */
static int map_for(int id)
{
	switch (id) {
	case BPF_FUNC_ringbuf_output: case BPF_FUNC_ringbuf_reserve: case BPF_FUNC_ringbuf_query:
	case BPF_FUNC_ringbuf_reserve_dynptr: case BPF_FUNC_user_ringbuf_drain:
		return M_RINGBUF;
	case BPF_FUNC_perf_event_output: case BPF_FUNC_perf_event_read: case BPF_FUNC_perf_event_read_value:
	case BPF_FUNC_skb_output: case BPF_FUNC_xdp_output:
		return M_PERF;
	case BPF_FUNC_tail_call:
		return M_PROG;
	case BPF_FUNC_sk_redirect_map: case BPF_FUNC_sock_map_update: case BPF_FUNC_msg_redirect_map:
		return M_SOCKMAP;
	case BPF_FUNC_sk_redirect_hash: case BPF_FUNC_sock_hash_update: case BPF_FUNC_msg_redirect_hash:
		return M_SOCKHASH;
	case BPF_FUNC_get_stackid:
		return M_STACK_TRACE;
	case BPF_FUNC_map_push_elem: case BPF_FUNC_map_pop_elem: case BPF_FUNC_map_peek_elem:
		return M_QUEUE;
	case BPF_FUNC_redirect_map:
		return M_DEVMAP;
	case BPF_FUNC_sk_select_reuseport:
		return M_REUSEPORT;
	case BPF_FUNC_skb_under_cgroup: case BPF_FUNC_current_task_under_cgroup:
		return M_CGROUP_ARRAY;
	default:
		return M_ARRAY;
	}
}

/* ---- probes ---- */
static int probe_ret;           /* the value the probes (but the return values of group x) return */
#define MAXI 64
#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOVI(d, i) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOVR(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADDI(d, i) I(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define EXIT I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog {
	struct bpf_insn insns[MAXI];
	int len;
};

static void emit(struct prog *p, struct bpf_insn in)
{
	if (p->len < MAXI)
		p->insns[p->len++] = in;
}

static void emit_map(struct prog *p, int reg, int slot)
{
	emit(p, I(BPF_LD | BPF_IMM | BPF_DW, reg, BPF_PSEUDO_MAP_FD, 0, slot));
	emit(p, I(0, 0, 0, 0, 0));
}

static const int sizes[4] = { BPF_B, BPF_H, BPF_W, BPF_DW };
#define CTX_END 232

/* context group g (0..3 loads of 1, 2, 4, 8 bytes, 4..7 stores): probe k, or false past the last */
static bool ctx_probe(int g, int k, struct prog *p)
{
	int bytes = 1 << (g & 3), off = k * bytes;
	if (off >= CTX_END)
		return false;
	p->len = 0;
	if (g < 4) {
		emit(p, I(BPF_LDX | BPF_MEM | sizes[g & 3], 0, 1, (__s16)off, 0));
	} else {
		emit(p, MOVI(2, 1));
		emit(p, I(BPF_STX | BPF_MEM | sizes[g & 3], 1, 2, (__s16)off, 0));
	}
	emit(p, MOVI(0, probe_ret));
	emit(p, EXIT);
	return true;
}

/* what an argument register holds */
enum { K_NONE, K_CTX, K_NULL, K_SCALAR, K_STACK, K_MAP, K_MAPVAL, K_PKT, NKINDS };
static const int alt_kinds[] = { K_NULL, K_SCALAR, K_CTX, K_STACK, K_MAPVAL };

static int base_kind(__u32 arg_type)
{
	switch (base_type(arg_type)) {
	case ARG_DONTCARE: return K_NONE;
	case ARG_CONST_MAP_PTR: return K_MAP;
	case ARG_PTR_TO_CTX: return K_CTX;
	case ARG_ANYTHING: case ARG_CONST_SIZE: case ARG_CONST_SIZE_OR_ZERO: case ARG_CONST_ALLOC_SIZE_OR_ZERO:
		return K_SCALAR;
	case ARG_PTR_TO_MAP_KEY: case ARG_PTR_TO_MAP_VALUE: case ARG_PTR_TO_MEM: case ARG_PTR_TO_STACK:
	case ARG_PTR_TO_DYNPTR:
		return K_STACK;
	case ARG_PTR_TO_SPIN_LOCK: case ARG_PTR_TO_TIMER: case ARG_PTR_TO_CONST_STR: case ARG_KPTR_XCHG_DEST:
		return K_MAPVAL;
	default:                /* sockets and kernel objects, callbacks: nothing a small program has */
		return K_NULL;
	}
}

static void set_arg(struct prog *p, int reg, int kind, int map)
{
	switch (kind) {
	case K_CTX: emit(p, MOVR(reg, 6)); break;
	case K_NULL: emit(p, MOVI(reg, 0)); break;
	case K_SCALAR: emit(p, MOVI(reg, 8)); break;
	case K_STACK: emit(p, MOVR(reg, 10)); emit(p, ADDI(reg, -64)); break;
	case K_MAP: emit_map(p, reg, map); break;
	case K_MAPVAL: emit(p, MOVR(reg, 7)); break;
	case K_PKT: emit(p, MOVR(reg, 8)); break;
	default: break;
	}
}

/* where the type's context has data and data_end (group p), -1 if nowhere */
static int pkt_data_off = -1, pkt_end_off = -1;

/* the arguments of helper id's probe k: k 0 the prototype's, then one argument changed at a time */
static bool helper_kinds(int id, int k, int kinds[5])
{
	const struct helper_proto *fn = &helper_protos[id];
	int nargs = 0;
	for (int a = 0; a < 5; a++) {
		kinds[a] = fn->known ? base_kind(fn->arg_type[a]) : K_SCALAR;
		if (kinds[a] != K_NONE)
			nargs = a + 1;
	}
	if (k == 0)
		return true;
	int n = 0;
	for (int a = 0; a < nargs; a++)
		for (size_t j = 0; j < sizeof(alt_kinds) / sizeof(alt_kinds[0]); j++) {
			if (alt_kinds[j] == kinds[a])
				continue;
			if (++n == k) {
				kinds[a] = alt_kinds[j];
				return true;
			}
		}
	return false;
}

static bool helper_probe(int id, int k, struct prog *p)
{
	int kinds[5];
	if (!helper_kinds(id, k, kinds))
		return false;
	p->len = 0;
	emit(p, MOVR(6, 1));
	for (int s = 1; s <= 9; s++)                    /* fp-72 .. fp-1: zeroes */
		emit(p, I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, (__s16)(-8 * s), 0));
	emit_map(p, 1, M_ARRAY);
	emit(p, MOVR(2, 10));
	emit(p, ADDI(2, -72));
	emit(p, I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
	emit(p, I(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 2, 0));
	emit(p, MOVI(0, probe_ret));
	emit(p, EXIT);
	emit(p, MOVR(7, 0));
	if (pkt_data_off >= 0) {                        /* r8: 64 bytes of packet, checked against data_end */
		emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 8, 6, (__s16)pkt_data_off, 0));
		emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 9, 6, (__s16)pkt_end_off, 0));
		emit(p, MOVR(2, 8));
		emit(p, ADDI(2, 64));
		emit(p, I(BPF_JMP | BPF_JLE | BPF_X, 2, 9, 2, 0));
		emit(p, MOVI(0, probe_ret));
		emit(p, EXIT);
		for (int a = 0; a < 5; a++)
			if (kinds[a] == K_STACK || kinds[a] == K_MAPVAL)
				kinds[a] = K_PKT;
	}
	for (int a = 0; a < 5; a++)
		set_arg(p, 1 + a, kinds[a], map_for(id));
	emit(p, I(BPF_JMP | BPF_CALL, 0, 0, 0, id));
	emit(p, MOVI(0, probe_ret));
	emit(p, EXIT);
	return true;
}

/* the other ways a program meets its context and its end (group x): stores
 * of an immediate, an atomic add, a moved context pointer, a negative offset,
 * the context or nothing as the return value, and return values (the range
 * each type and attach type allows) */
static const __s64 ret_values[] = { 0, 1, 2, 3, 4, 5, 7, 8, -1, -2, 0x7fffffff, 0x100000000ll };
#define NRET (int)(sizeof(ret_values) / sizeof(ret_values[0]))

static bool misc_probe(int k, struct prog *p)
{
	p->len = 0;
	switch (k) {
	case 0: emit(p, I(BPF_ST | BPF_MEM | BPF_W, 1, 0, 0, 1)); break;
	case 1: emit(p, I(BPF_ST | BPF_MEM | BPF_DW, 1, 0, 0, 1)); break;
	case 2:
		emit(p, MOVI(2, 1));
		emit(p, I(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_ADD));
		break;
	case 3:
		emit(p, ADDI(1, 8));
		emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 0));
		break;
	case 4: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, -4, 0)); break;
	case 5: emit(p, I(BPF_LDX | BPF_MEM | BPF_DW, 0, 1, -8, 0)); break;
	case 6: emit(p, I(BPF_LDX | BPF_MEM | BPF_B, 0, 1, -1, 0)); break;
	case 7: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 2048, 0)); break;
	case 8: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 8188, 0)); break;
	case 9: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 8192, 0)); break;
	case 10: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0x7ffc, 0)); break;
	case 11:
		emit(p, MOVR(0, 1));
		emit(p, EXIT);
		return true;
	case 12:
		emit(p, EXIT);
		return true;
	/* misaligned loads and stores */
	case 13: emit(p, I(BPF_LDX | BPF_MEM | BPF_H, 0, 1, 1, 0)); break;
	case 14: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 2, 0)); break;
	case 15: emit(p, I(BPF_LDX | BPF_MEM | BPF_DW, 0, 1, 4, 0)); break;
	case 16: emit(p, I(BPF_LDX | BPF_MEM | BPF_DW, 0, 1, 12, 0)); break;
	case 17: emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 77, 0)); break;
	case 18:
		emit(p, MOVI(2, 1));
		emit(p, I(BPF_STX | BPF_MEM | BPF_W, 1, 2, 2, 0));
		break;
	/* a sign-extending load (cpu v4) */
	case 19: emit(p, I(BPF_LDX | BPF_MEMSX | BPF_W, 0, 1, 0, 0)); break;
	case 20: emit(p, I(BPF_LDX | BPF_MEMSX | BPF_B, 0, 1, 0, 0)); break;
	default:
		if (k - 21 >= NRET)
			return false;
		__s64 v = ret_values[k - 21];
		if (v == (__s32)v) {
			emit(p, MOVI(0, (__s32)v));
		} else {
			emit(p, I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, (__s32)v));
			emit(p, I(0, 0, 0, 0, (__s32)(v >> 32)));
		}
		emit(p, EXIT);
		return true;
	}
	emit(p, MOVI(0, probe_ret));
	emit(p, EXIT);
	return true;
}

/* groups: 0..7 the context, 8 + id the helpers, then x, r and p */
#define NHELPERS 212
#define G_MISC (8 + NHELPERS)
#define G_RET (G_MISC + 1)
#define G_PKT (G_RET + 1)
#define NGROUPS (G_PKT + 1)

/* group r: what a helper returns, probe k for helper id k + 1: its first
 * probe, then a byte read through R0 (a scalar, a pointer or NULL, memory of
 * some size, an acquired reference that is not released) */
static bool ret_probe(int k, struct prog *p)
{
	if (k + 1 >= NHELPERS || !helper_probe(k + 1, 0, p))
		return false;
	p->len -= 2;                                    /* r0 = ret; exit */
	emit(p, I(BPF_LDX | BPF_MEM | BPF_B, 1, 0, 0, 0));
	emit(p, MOVI(0, probe_ret));
	emit(p, EXIT);
	return true;
}

/* group p, for the types with packet data in their context: probe k for
 * helper id k + 1, its first probe with a packet pointer (64 bytes checked
 * against data_end) in place of each stack or map value argument */
static bool pkt_probe(int k, struct prog *p)
{
	if (pkt_data_off < 0 || k + 1 >= NHELPERS)
		return false;
	return helper_probe(k + 1, 0, p);
}

static void group_name(int g, char *out, size_t n)
{
	if (g < 8)
		snprintf(out, n, "%c%d", g < 4 ? 'l' : 's', 1 << (g & 3));
	else if (g == G_MISC)
		snprintf(out, n, "x");
	else if (g == G_RET)
		snprintf(out, n, "r");
	else if (g == G_PKT)
		snprintf(out, n, "p");
	else
		snprintf(out, n, "h%d", g - 8);
}

static int group_of(const char *name)
{
	for (int g = 0; g < NGROUPS; g++) {
		char b[16];
		group_name(g, b, sizeof(b));
		if (!strcmp(b, name))
			return g;
	}
	return -1;
}

static bool probe(int g, int k, struct prog *p)
{
	if (g < 8)
		return ctx_probe(g, k, p);
	if (g == G_MISC)
		return misc_probe(k, p);
	if (g == G_RET)
		return ret_probe(k, p);
	if (g == G_PKT)
		return pkt_probe(k, p);
	if (g == 8)
		return false;                           /* helper 0 */
	return helper_probe(g - 8, k, p);
}

/* the packet's place in type ti's context */
static void pkt_layout(int ti, int *data, int *end)
{
	*data = *end = -1;
	switch (ptypes[ti].type) {
	case BPF_PROG_TYPE_XDP:
		*data = offsetof(struct xdp_md, data);
		*end = offsetof(struct xdp_md, data_end);
		break;
	case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT: case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_SK_SKB: case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT: case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL: case BPF_PROG_TYPE_FLOW_DISSECTOR:
		*data = offsetof(struct __sk_buff, data);
		*end = offsetof(struct __sk_buff, data_end);
		break;
	case BPF_PROG_TYPE_SK_MSG:
		*data = offsetof(struct sk_msg_md, data);
		*end = offsetof(struct sk_msg_md, data_end);
		break;
	default:
		break;
	}
}

/* type ti's probe k of group g */
static bool tprobe(int ti, int g, int k, struct prog *p)
{
	if (ptypes[ti].variant && g > 8 && g < G_MISC && k > 0)
		return false;
	probe_ret = ptypes[ti].ret;
	if (g == G_PKT)
		pkt_layout(ti, &pkt_data_off, &pkt_end_off);
	bool r = probe(g, k, p);
	probe_ret = 0;
	pkt_data_off = pkt_end_off = -1;
	return r;
}

/* ---- loading ---- */
struct answer {
	int err;
	char line[200];
};

static char logbuf[1 << 16];

static void last_line(const char *log, char *out, size_t n)
{
	const char *stats = NULL, *p = log;
	while ((p = strstr(p, "processed ")))
		if (p == log || p[-1] == '\n')
			stats = p++;
		else
			p++;
	out[0] = '\0';
	if (!stats || stats == log)
		return;
	const char *end = stats - 1, *start = end;
	while (start > log && start[-1] != '\n')
		start--;
	snprintf(out, n, "%.*s", (int)(end - start), start);
}

static __u32 btf_ids[NTYPES];

static void load(long (*bpf)(int, union bpf_attr *), const int *fds, const struct ptype *t, __u32 btf_id,
		 const struct prog *p, struct answer *a)
{
	struct bpf_insn insns[MAXI];
	memcpy(insns, p->insns, sizeof(insns));
	for (int i = 0; i + 1 < p->len; i++)
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) && insns[i].src_reg == BPF_PSEUDO_MAP_FD) {
			insns[i].imm = fds[insns[i].imm];
			i++;
		}
	union bpf_attr at;
	memset(&at, 0, sizeof(at));
	at.prog_type = t->type;
	at.expected_attach_type = t->attach;
	at.prog_flags = t->flags;
	at.attach_btf_id = btf_id;
	at.insns = (__u64)(unsigned long)insns;
	at.insn_cnt = (__u32)p->len;
	at.license = (__u64)(unsigned long)"GPL";
	at.log_level = 1;
	at.log_buf = (__u64)(unsigned long)logbuf;
	at.log_size = sizeof(logbuf);
	logbuf[0] = '\0';
	long fd = bpf(BPF_PROG_LOAD, &at);
	memset(a, 0, sizeof(*a));
	if (fd >= 0) {
		if (bpf == kernel_bpf)
			close((int)fd);
		else
			sys_close((int)fd);
		return;
	}
	a->err = (int)-fd;
	last_line(logbuf, a->line, sizeof(a->line));
}

static char verdict(int err)
{
	switch (err) {
	case 0: return 'A';
	case EACCES: return 'E';
	case EINVAL: return 'I';
	case EPERM: return 'P';
	case EFAULT: return 'F';
	case E2BIG: return 'B';
	case ENOTSUP: return 'O';
	case 524: return 'N';
	default: return 'X';
	}
}

static __u64 fnv(__u64 h, const void *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)b)[i]) * 0x100000001b3ull;
	return h;
}

static __u64 programs_hash(void)
{
	__u64 h = FNV0;
	for (int g = 0; g < NGROUPS; g++) {
		struct prog p;
		if (g == G_PKT) {
			pkt_data_off = offsetof(struct __sk_buff, data);
			pkt_end_off = offsetof(struct __sk_buff, data_end);
		}
		for (int k = 0; probe(g, k, &p); k++)
			h = fnv(h, p.insns, (size_t)p.len * sizeof(p.insns[0]));
		pkt_data_off = pkt_end_off = -1;
	}
	return h;
}

/* a group's answers: the verdicts and a hash of the errnos and lines */
static int run_group(long (*bpf)(int, union bpf_attr *), const int *fds, int ti, int g, char *verdicts, size_t n,
		     __u32 *hash)
{
	__u64 h = FNV0;
	int k;
	struct prog p;
	for (k = 0; tprobe(ti, g, k, &p) && (size_t)k + 1 < n; k++) {
		struct answer a;
		load(bpf, fds, &ptypes[ti], btf_ids[ti], &p, &a);
		verdicts[k] = verdict(a.err);
		h = fnv(h, &a.err, sizeof(a.err));
		h = fnv(h, a.line, strlen(a.line) + 1);
	}
	verdicts[k] = '\0';
	*hash = (__u32)(h ^ (h >> 32));
	return k;
}

/* the host takes the type when "r0 = 0; exit" loads */
static int type_ok(long (*bpf)(int, union bpf_attr *), int ti)
{
	const struct ptype *t = &ptypes[ti];
	fresh_prog_maps(bpf, bpf == sys_bpf ? map_fds : kmap_fds);
	if (t->btf && !(btf_ids[ti] = kbtf_id(t->btf, t->btf_kind)))
		return -ENOENT;
	struct prog p = { .insns = { MOVI(0, t->ret), EXIT }, .len = 2 };
	struct answer a;
	load(bpf, map_fds, t, btf_ids[ti], &p, &a);
	return -a.err;
}

static void print_probe(const struct prog *p)
{
	for (int i = 0; i < p->len; i++)
		printf("    %2d: code %02x dst r%d src r%d off %d imm %d\n", i, p->insns[i].code, p->insns[i].dst_reg,
		       p->insns[i].src_reg, p->insns[i].off, p->insns[i].imm);
}

static int type_of(const char *name)
{
	for (size_t t = 0; t < NTYPES; t++)
		if (!strcmp(ptypes[t].name, name))
			return (int)t;
	return -1;
}

#ifndef VPROBES_KERNEL
/* every probe on the engine and on the kernel: the differences */
static int diff(int only_type, int only_group)
{
	make_maps(kernel_bpf, kmap_fds);
	int ndiff = 0, total = 0;
	for (int ti = 0; ti < (int)NTYPES; ti++) {
		if (only_type >= 0 && ti != only_type)
			continue;
		int kerr = type_ok(kernel_bpf, ti);
		fresh_prog_maps(sys_bpf, map_fds);
		if (kerr) {
			printf("%s: the host refuses it (%s)\n", ptypes[ti].name, strerror(-kerr));
			continue;
		}
		for (int g = 0; g < NGROUPS; g++) {
			if (only_group >= 0 && g != only_group)
				continue;
			struct prog p;
			for (int k = 0; tprobe(ti, g, k, &p); k++) {
				struct answer e, kr;
				load(sys_bpf, map_fds, &ptypes[ti], btf_ids[ti], &p, &e);
				load(kernel_bpf, kmap_fds, &ptypes[ti], btf_ids[ti], &p, &kr);
				total++;
				if (e.err == kr.err && !strcmp(e.line, kr.line))
					continue;
				char gn[16];
				group_name(g, gn, sizeof(gn));
				printf("DIFF %s %s #%d: kernel %c \"%s\" | here %c \"%s\"\n", ptypes[ti].name, gn, k,
				       verdict(kr.err), kr.line, verdict(e.err), e.line);
				ndiff++;
			}
		}
	}
	printf("%d probes, %d differences\n", total, ndiff);
	return ndiff ? 1 : 0;
}
#endif

/* ---- check: this bpf()'s answers against the corpus ----
 *
 * The engine (vprobes) must give the recorded answers everywhere, except for
 * the differences KNOWN lists (type group verdicts hash: the engine's answers
 * to a group where they are not the kernel's); a difference not listed, or a
 * listed one that went away, fails. Types whose probes need the kernel's BTF
 * (tracing, LSM, struct_ops) are skipped, with the reason, on a host whose
 * BTF is not the recording kernel's.
 *
 * The kernel (vprobes_kernel) must give the recorded answers when it is the
 * recording kernel; on another release the differences are printed and the
 * test skips. Types this host refuses are skipped, with the reason; not root
 * skips all.
 */
struct known {
	char type[64], group[16], verdicts[512];
	unsigned int hash;
	bool seen;
};

static int read_known(const char *path, struct known **out)
{
	*out = NULL;
	if (!path)
		return 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char buf[1024];
	int n = 0;
	while (fgets(buf, sizeof(buf), f)) {
		struct known k;
		memset(&k, 0, sizeof(k));
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		if (sscanf(buf, "%63s %15s %511s %x", k.type, k.group, k.verdicts, &k.hash) != 4) {
			fprintf(stderr, "vprobes: %s: a line that is not TYPE GROUP VERDICTS HASH: %s", path, buf);
			fclose(f);
			free(*out);
			return -1;
		}
		struct known *nk = realloc(*out, (size_t)(n + 1) * sizeof(k));
		if (!nk) {
			fclose(f);
			free(*out);
			return -1;
		}
		*out = nk;
		(*out)[n++] = k;
	}
	fclose(f);
	return n;
}

static int check(const char *file, const char *known_path)
{
#ifdef VPROBES_KERNEL
	if (geteuid() != 0) {
		printf("vprobes_kernel: skipped: not root (the kernel twin loads every program type)\n");
		return 77;
	}
#endif
	struct known *known;
	int nknown = read_known(known_path, &known);
	if (nknown < 0)
		return 1;
	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		return 1;
	}
	struct utsname u;
	uname(&u);
	static char verdicts[512];
	char buf[1024], rec_kernel[128] = "";
	int groups = 0, same = 0, probes = 0, probes_same = 0, ndiff = 0, nknown_diff = 0, ran_types = 0;
	unsigned long long ph = 0, rec_btf = 0;
	enum { T_UNSEEN, T_RUN, T_SKIP } state[NTYPES] = { 0 };
	int failed = 0;
	while (fgets(buf, sizeof(buf), f)) {
		char tn[64], gn[64], v[600];
		unsigned int h;
		if (buf[0] == '#')
			continue;
		if (sscanf(buf, "programs %llx", &ph) == 1) {
			if (ph != programs_hash()) {
				fprintf(stderr, "vprobes: the probes are not the ones %s was recorded with (the probes or "
						"emu/verifier/helper_protos.h changed): record it again on the kernel, as root "
						"(vprobes_kernel record %s)\n", file, file);
				return 1;
			}
			continue;
		}
		if (sscanf(buf, "kernel %127s", rec_kernel) == 1 || sscanf(buf, "btf %llx", &rec_btf) == 1)
			continue;
		if (sscanf(buf, "%63s %63s %599s %x", tn, gn, v, &h) != 4) {
			if (sscanf(buf, "%63s refused", tn) == 1)
				printf("%s: skipped, the recording host refused it:%s", tn, strstr(buf, "refused") + 7);
			continue;
		}
		int ti = type_of(tn), g = group_of(gn);
		if (ti < 0 || g < 0) {
			fprintf(stderr, "vprobes: unknown type or group in %s", buf);
			return 1;
		}
		if (state[ti] == T_UNSEEN) {
			state[ti] = T_RUN;
#ifdef VPROBES_KERNEL
			int err = type_ok(sys_bpf, ti);
			if (err) {
				printf("%s: skipped, this host refuses it (%s)\n", tn, strerror(-err));
				state[ti] = T_SKIP;
			}
#else
			if (ptypes[ti].btf && kbtf_fingerprint() != rec_btf) {
				printf("%s: skipped, its probes need the recording kernel's BTF and this host's %s\n", tn,
				       kbtf_fingerprint() ? "is another (BPFEMU_KERNEL_BTF or /sys/kernel/btf/vmlinux)"
							  : "is absent");
				state[ti] = T_SKIP;
			} else {
				int err = type_ok(sys_bpf, ti);
				if (err) {
					printf("DIFF %s: the kernel loads \"r0 = 0; exit\", here: %s\n", tn, strerror(-err));
					failed = 1;
					state[ti] = T_SKIP;
				}
			}
#endif
			if (state[ti] == T_RUN)
				ran_types++;
		}
		if (state[ti] == T_SKIP)
			continue;
		__u32 mine;
		int n = run_group(sys_bpf, map_fds, ti, g, verdicts, sizeof(verdicts), &mine);
		groups++;
		probes += n;
		int s = 0;
		for (int k = 0; k < n && v[k]; k++)
			s += verdicts[k] == v[k];
		probes_same += s;
		struct known *kn = NULL;
		for (int i = 0; i < nknown; i++)
			if (!strcmp(known[i].type, tn) && !strcmp(known[i].group, gn))
				kn = &known[i];
		if (kn)
			kn->seen = true;
		if (mine == h && !strcmp(verdicts, v)) {
			same++;
			if (kn) {
				printf("FIXED %s %s: the same answers as the kernel now; remove it from %s\n", tn, gn,
				       known_path);
				failed = 1;
			}
			continue;
		}
		if (kn && kn->hash == mine && !strcmp(kn->verdicts, verdicts)) {
			printf("KNOWN %s %s: kernel %s %08x | here %s %08x\n", tn, gn, v, h, verdicts, mine);
			nknown_diff++;
			continue;
		}
		printf("DIFF %s %s: kernel %s %08x | here %s %08x (vprobes diff %s %s, as root, shows each probe)\n", tn,
		       gn, v, h, verdicts, mine, tn, gn);
		ndiff++;
	}
	fclose(f);
	free(known);
	if (!ph) {
		fprintf(stderr, "vprobes: %s has no programs line\n", file);
		return 1;
	}
	printf("%d types, %d groups, %d probes: the same verdicts for %d probes (%.2f%%), the same answers (errno and "
	       "error line) for %d of %d groups (%.2f%%), %d known differences, %d new\n", ran_types, groups, probes,
	       probes_same, probes ? 100.0 * probes_same / probes : 100.0, same, groups,
	       groups ? 100.0 * same / groups : 100.0, nknown_diff, ndiff);
	if (!groups) {
		printf("vprobes: skipped: no type could be checked on this host\n");
		return 77;
	}
#ifdef VPROBES_KERNEL
	if (ndiff && strcmp(rec_kernel, u.release)) {
		printf("vprobes_kernel: skipped: %s was recorded on %s and this kernel is %s (%d groups answer "
		       "otherwise); record it again to compare\n", file, rec_kernel, u.release, ndiff);
		return 77;
	}
#endif
	return ndiff || failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s record|check FILE | show TYPE GROUP | diff [TYPE [GROUP]]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
#ifdef VPROBES_KERNEL
	if (geteuid() != 0) {
		printf("vprobes_kernel: skipped: not root (the kernel twin loads every program type)\n");
		return 77;
	}
#endif
	make_maps(sys_bpf, map_fds);
	if (!strcmp(mode, "show") && argc > 3) {
		int ti = type_of(argv[2]), g = group_of(argv[3]);
		if (ti < 0 || g < 0) {
			fprintf(stderr, "vprobes: no type %s or group %s\n", argv[2], argv[3]);
			return 2;
		}
		int ok = type_ok(sys_bpf, ti);
		if (ok) {
			printf("%s: refused (%s)\n", ptypes[ti].name, strerror(-ok));
			return 0;
		}
		struct prog p;
		for (int k = 0; tprobe(ti, g, k, &p); k++) {
			struct answer a;
			load(sys_bpf, map_fds, &ptypes[ti], btf_ids[ti], &p, &a);
			printf("#%d: %c \"%s\"\n", k, verdict(a.err), a.line);
			print_probe(&p);
		}
		return 0;
	}
#ifndef VPROBES_KERNEL
	if (!strcmp(mode, "diff")) {
		int ti = argc > 2 ? type_of(argv[2]) : -1, g = argc > 3 ? group_of(argv[3]) : -1;
		return diff(ti, g);
	}
#endif
	if (argc < 3)
		return 2;
	const char *file = argv[2];
	if (!strcmp(mode, "record")) {
#ifndef VPROBES_KERNEL
		fprintf(stderr, "vprobes: the corpus holds the kernel's answers: record it with vprobes_kernel\n");
		return 2;
#else
		static char verdicts[512];
		FILE *f = fopen(file, "w");
		if (!f) {
			perror(file);
			return 1;
		}
		struct utsname u;
		uname(&u);
		fprintf(f, "# vprobes: each program type's context and helpers (type group verdicts hash), recorded on "
			   "%s %s\n", u.sysname, u.release);
		fprintf(f, "programs %016llx\n", (unsigned long long)programs_hash());
		fprintf(f, "kernel %s\n", u.release);
		fprintf(f, "btf %016llx\n", (unsigned long long)kbtf_fingerprint());
		for (int ti = 0; ti < (int)NTYPES; ti++) {
			int err = type_ok(sys_bpf, ti);
			if (err) {
				fprintf(f, "%s refused %s\n", ptypes[ti].name, strerror(-err));
				continue;
			}
			for (int g = 0; g < NGROUPS; g++) {
				__u32 h;
				char gn[16];
				if (!run_group(sys_bpf, map_fds, ti, g, verdicts, sizeof(verdicts), &h))
					continue;
				group_name(g, gn, sizeof(gn));
				fprintf(f, "%s %s %s %08x\n", ptypes[ti].name, gn, verdicts, h);
			}
		}
		fclose(f);
		return 0;
#endif
	}
	if (strcmp(mode, "check"))
		return 2;
	return check(file, argc > 3 ? argv[3] : NULL);
}
