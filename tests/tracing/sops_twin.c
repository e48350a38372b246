/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/sops_twin.c: BPF_MAP_TYPE_STRUCT_OPS and struct_ops programs,
 * through raw bpf() calls, as a transcript compared with the kernel's.
 *
 * Map creation errors, struct_ops program loads (one per tcp_congestion_ops
 * member it fills, and bpf_dummy_ops), BPF_MAP_UPDATE_ELEM of the value
 * (programs by fd, the data members tcp_congestion_ops checks, the required
 * members, unique names), the value a lookup gives back (state, refcnt,
 * programs by id: printed as P<n>), delete (unregister), BPF_F_LINK maps with
 * BPF_LINK_CREATE, link info, LINK_UPDATE and LINK_DETACH. Ids print as
 * M<n>/P<n>/L<n> in order of appearance. Member offsets come from
 * /sys/kernel/btf/vmlinux (libbpf's BTF parser), not from this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <bpf/btf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#define BPF_F_LINK_ (1u << 13)
#define BPF_STRUCT_OPS_ 44
#define BPF_F_REPLACE_ (1u << 2)

static long sys_bpf(int cmd, void *a, unsigned int size)
{
	return syscall(__NR_bpf, cmd, a, size);
}

static const char *en(int e)
{
	return e == 524 ? "ENOTSUPP" : strerrorname_np(e);
}

static __u32 ids[3][64];
static int nids[3];
enum { MAPS, PROGS, LINKS };

static int idx(int k, __u32 id)
{
	for (int i = 0; i < nids[k]; i++)
		if (ids[k][i] == id)
			return i + 1;
	ids[k][nids[k]] = id;
	return ++nids[k];
}

static struct btf *vm;
static __u32 ca_id, ca_vid, dummy_id, dummy_vid;
static __u32 ca_vsize;

static __u32 find(const char *name)
{
	int id = btf__find_by_name_kind(vm, name, BTF_KIND_STRUCT);
	return id > 0 ? (__u32)id : 0;
}

/* a member of struct tcp_congestion_ops: its index and byte offset */
static int member(__u32 type, const char *name, __u32 *off)
{
	const struct btf_type *t = btf__type_by_id(vm, type);
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(vm, m->name_off), name)) {
			if (off)
				*off = m->offset / 8;
			return i;
		}
	fprintf(stderr, "no member %s\n", name);
	exit(1);
}

/* the data's offset in the value: member "data" of bpf_struct_ops_<name> */
static __u32 data_off(__u32 vtype)
{
	__u32 off;
	member(vtype, "data", &off);
	return off;
}

static void what(const char *op, long r)
{
	if (r < 0)
		printf("%s: %s\n", op, en(errno));
	else
		printf("%s: %ld\n", op, r);
}

/* a BTF object of one int: struct_ops maps need some BTF fd (btf_fd) */
static int btf_fd(void)
{
	static int fd = -1;
	if (fd >= 0)
		return fd;
	struct {
		struct btf_header h;
		__u32 t[4];
		char s[8];
	} b;
	memset(&b, 0, sizeof(b));
	b.h.magic = BTF_MAGIC;
	b.h.version = BTF_VERSION;
	b.h.hdr_len = sizeof(b.h);
	b.h.type_len = sizeof(b.t);
	b.h.str_off = sizeof(b.t);
	b.h.str_len = 5;
	b.t[0] = 1;                                 /* "int" */
	b.t[1] = BTF_KIND_INT << 24;
	b.t[2] = 4;
	b.t[3] = BTF_INT_SIGNED << 24 | 32;
	memcpy(b.s, "\0int", 5);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (uintptr_t)&b;
	a.btf_size = sizeof(b.h) + sizeof(b.t) + 5;
	fd = (int)sys_bpf(BPF_BTF_LOAD, &a, sizeof(a));
	if (fd < 0) {
		fprintf(stderr, "BTF_LOAD: %s\n", en(errno));
		exit(1);
	}
	return fd;
}

static int map_create(const char *what_, __u32 key, __u32 value, __u32 max, __u32 flags, __u32 vtype,
		      __u32 btf_value)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_STRUCT_OPS;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = max;
	a.map_flags = flags;
	a.btf_vmlinux_value_type_id = vtype;
	a.btf_value_type_id = btf_value;
	a.btf_fd = (__u32)(btf_value == 2 ? 0 : btf_fd());
	if (btf_value == 2)
		a.btf_value_type_id = 0;
	snprintf(a.map_name, sizeof(a.map_name), "sops_twin");
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0) {
		printf("create %s: %s\n", what_, en(errno));
		return -1;
	}
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info = (uintptr_t)&info;
	a.info.info_len = sizeof(info);
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)))
		printf("create %s: info %s\n", what_, en(errno));
	char path[64], line[256];
	unsigned long long memlock = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "memlock: %llu", &memlock);
	if (f)
		fclose(f);
	printf("create %s: M%d memlock %llu type %u key %u value %u max %u flags %#x vmlinux_value_type %s btf_vmlinux_id %u\n",
	       what_, idx(MAPS, info.id), memlock, info.type, info.key_size, info.value_size, info.max_entries,
	       info.map_flags, info.btf_vmlinux_value_type_id == vtype ? "ok" : "WRONG",
	       *(__u32 *)((char *)&info + offsetof(struct bpf_map_info, btf_value_type_id) + 4));   /* btf_vmlinux_id (6.18) */
	return fd;
}

static int map_create_quiet(__u32 vsize)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_STRUCT_OPS;
	a.key_size = 4;
	a.value_size = vsize;
	a.max_entries = 1;
	a.btf_vmlinux_value_type_id = ca_vid;
	a.btf_fd = (__u32)btf_fd();
	return (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
}

static __u32 load_flags;           /* prog_flags of the next loads */

static int load(const char *what_, __u32 type_id, __u32 idx_, int ret, const char *license)
{
	struct bpf_insn p[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[4096] = "";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_STRUCT_OPS;
	a.insns = (uintptr_t)p;
	a.insn_cnt = 2;
	a.license = (uintptr_t)license;
	a.expected_attach_type = idx_;
	a.attach_btf_id = type_id;
	a.prog_flags = load_flags;
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0) {
		char *nl = strchr(log, '\n');
		if (nl)
			*nl = '\0';
		printf("load %s: %s (%s)\n", what_, en(errno), log);
		return -1;
	}
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info = (uintptr_t)&info;
	a.info.info_len = sizeof(info);
	sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
	printf("load %s: P%d type %u expected_attach_type %u attach_btf_id %s\n", what_, idx(PROGS, info.id),
	       info.type, idx_, info.attach_btf_id == type_id ? "ok" : "WRONG");
	return fd;
}

static long elem(int cmd, int fd, __u32 key, void *value, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)value;
	a.flags = flags;
	return sys_bpf(cmd, &a, sizeof(a));
}

/* the value as the kernel gives it back, member by member (BTF order) */
static void show(const char *what_, int fd, __u32 vtype, __u32 tid)
{
	unsigned char v[4096];
	memset(v, 0xa5, sizeof(v));
	if (elem(BPF_MAP_LOOKUP_ELEM, fd, 0, v, 0)) {
		printf("lookup %s: %s\n", what_, en(errno));
		return;
	}
	const struct btf_type *vt = btf__type_by_id(vm, vtype);
	__u32 doff = data_off(vtype), nz = 0;
	for (__u32 i = 8; i < doff; i++)
		nz += v[i] != 0;
	printf("lookup %s: refcnt %u state %u hole %u:", what_, *(__u32 *)v, *(__u32 *)(v + 4), nz);
	const struct btf_type *t = btf__type_by_id(vm, tid);
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const unsigned char *p = v + doff + m->offset / 8;
		const char *name = btf__name_by_offset(vm, m->name_off);
		const struct btf_type *mt = btf__type_by_id(vm, btf__resolve_type(vm, m->type));
		__s64 sz = btf__resolve_size(vm, m->type);
		if (btf_is_ptr(mt) && *(__u64 *)p) {
			const struct btf_type *pt = btf__type_by_id(vm, btf__resolve_type(vm, mt->type));
			if (btf_is_func_proto(pt) && *(__u64 *)p < 1u << 31)
				printf(" %s=P%d", name, idx(PROGS, (__u32)*(__u64 *)p));
			else
				printf(" %s=%#llx", name, (unsigned long long)*(__u64 *)p);
		} else if (btf_is_array(mt)) {
			if (p[0])
				printf(" %s=\"%.*s\"", name, (int)sz, (const char *)p);
		} else {
			for (__s64 k = 0; k < sz; k++)
				if (p[k]) {
					printf(" %s=", name);
					for (__s64 j = 0; j < sz; j++)
						printf("%02x", p[j]);
					break;
				}
		}
	}
	__u32 tail = 0;
	for (__u32 i = doff + t->size; i < vt->size; i++)
		tail += v[i] != 0;
	printf(" tail %u past %u\n", tail, v[vt->size] == 0xa5 ? 1 : 0);
}

static struct { __u32 ssthresh, cong_avoid, undo_cwnd, name, flags, key, owner, init; } off;
static int m_ss, m_ca, m_undo, m_init, m_cc;
static __u32 ca_doff;

/* a tcp_congestion_ops value: the three programs, a name */
static void ca_value(unsigned char *v, int ss, int ca, int undo, const char *name)
{
	memset(v, 0, ca_vsize);
	unsigned char *d = v + ca_doff;
	*(__u64 *)(d + off.ssthresh) = (__u64)(__s64)ss;
	*(__u64 *)(d + off.cong_avoid) = (__u64)(__s64)ca;
	*(__u64 *)(d + off.undo_cwnd) = (__u64)(__s64)undo;
	strncpy((char *)d + off.name, name, 16);
}

static void update(const char *what_, int fd, const unsigned char *v, __u64 flags)
{
	unsigned char copy[4096];
	memcpy(copy, v, ca_vsize);
	what(what_, elem(BPF_MAP_UPDATE_ELEM, fd, 0, copy, flags));
}

static void link_info(const char *what_, int lfd)
{
	struct bpf_link_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)lfd;
	a.info.info = (uintptr_t)&info;
	a.info.info_len = sizeof(info);
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a))) {
		printf("link info %s: %s\n", what_, en(errno));
		return;
	}
	__u32 map_id = *(__u32 *)((char *)&info + 16);   /* info.struct_ops.map_id (6.18) */
	printf("link info %s: L%d type %u prog_id %u map %s%d\n", what_, idx(LINKS, info.id), info.type,
	       info.prog_id, map_id ? "M" : "", map_id ? idx(MAPS, map_id) : 0);
}

static int link_create(const char *what_, int map_fd, __u32 attach_type, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)map_fd;       /* map_fd */
	a.link_create.attach_type = attach_type;
	a.link_create.flags = flags;
	int fd = (int)sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	if (fd < 0) {
		printf("link create %s: %s\n", what_, en(errno));
		return -1;
	}
	link_info(what_, fd);
	return fd;
}

static void link_update(const char *what_, int lfd, int new_map, __u32 flags, int old_map)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_update.link_fd = (__u32)lfd;
	a.link_update.new_prog_fd = (__u32)new_map;  /* new_map_fd */
	a.link_update.flags = flags;
	a.link_update.old_prog_fd = (__u32)old_map;  /* old_map_fd */
	what(what_, sys_bpf(BPF_LINK_UPDATE, &a, sizeof(a)));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	vm = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	if (!vm) {
		fprintf(stderr, "no vmlinux BTF\n");
		return 1;
	}
	ca_id = find("tcp_congestion_ops");
	ca_vid = find("bpf_struct_ops_tcp_congestion_ops");
	dummy_id = find("bpf_dummy_ops");
	dummy_vid = find("bpf_struct_ops_bpf_dummy_ops");
	if (!ca_id || !ca_vid || !dummy_id || !dummy_vid) {
		fprintf(stderr, "this kernel's BTF lacks tcp_congestion_ops or bpf_dummy_ops\n");
		return 1;
	}
	ca_vsize = btf__type_by_id(vm, ca_vid)->size;
	ca_doff = data_off(ca_vid);
	m_ss = member(ca_id, "ssthresh", &off.ssthresh);
	m_ca = member(ca_id, "cong_avoid", &off.cong_avoid);
	m_undo = member(ca_id, "undo_cwnd", &off.undo_cwnd);
	m_init = member(ca_id, "init", &off.init);
	m_cc = member(ca_id, "cong_control", NULL);
	member(ca_id, "name", &off.name);
	member(ca_id, "flags", &off.flags);
	member(ca_id, "key", &off.key);
	member(ca_id, "owner", &off.owner);
	if (argc > 1 && !strcmp(argv[1], "link-show")) {
		/* a linked map while bpftool looks: argv[2] is a shell command, $LINK and $MAP its ids */
		int p1 = load("ssthresh", ca_id, (__u32)member(ca_id, "ssthresh", &off.ssthresh), 7, "GPL");
		int p2 = load("cong_avoid", ca_id, (__u32)member(ca_id, "cong_avoid", &off.cong_avoid), 0, "GPL");
		int p3 = load("undo_cwnd", ca_id, (__u32)member(ca_id, "undo_cwnd", &off.undo_cwnd), 10, "GPL");
		member(ca_id, "name", &off.name);
		ca_doff = data_off(ca_vid);
		int fd = map_create("link-show", 4, ca_vsize, 1, BPF_F_LINK_, ca_vid, 0);
		unsigned char v[4096];
		ca_value(v, p1, p2, p3, "bpfemu_sopl");
		update("update", fd, v, 0);
		int l = link_create("link-show", fd, BPF_STRUCT_OPS_, 0);
		char env[64];
		snprintf(env, sizeof(env), "%u", ids[LINKS][0]);
		setenv("LINK", env, 1);
		snprintf(env, sizeof(env), "%u", ids[MAPS][0]);
		setenv("MAP", env, 1);
		if (argc > 2 && l >= 0)
			printf("shell: %d\n", system(argv[2]));
		return 0;
	}
	printf("tcp_congestion_ops: %u members, value %u bytes, data at %u\n",
	       btf_vlen(btf__type_by_id(vm, ca_id)), ca_vsize, ca_doff);

	printf("-- map creation\n");
	map_create("key 8", 8, ca_vsize, 1, 0, ca_vid, 0);
	map_create("max_entries 2", 4, ca_vsize, 2, 0, ca_vid, 0);
	map_create("max_entries 0", 4, ca_vsize, 0, 0, ca_vid, 0);
	map_create("flags BPF_F_NO_PREALLOC", 4, ca_vsize, 1, BPF_F_NO_PREALLOC, ca_vid, 0);
	map_create("no vmlinux value type", 4, ca_vsize, 1, 0, 0, 0);
	map_create("btf_value_type_id too", 4, ca_vsize, 1, 0, ca_vid, 1);
	map_create("no btf_fd", 4, ca_vsize, 1, 0, ca_vid, 2);
	map_create("value type tcp_congestion_ops", 4, ca_vsize, 1, 0, ca_id, 0);
	map_create("value type task_struct", 4, ca_vsize, 1, 0, find("task_struct"), 0);
	map_create("value type bpf_struct_ops_value", 4, ca_vsize, 1, 0, find("bpf_struct_ops_common_value"), 0);
	map_create("value type id past the end", 4, ca_vsize, 1, 0, 0x7fffffff, 0);
	map_create("value size - 8", 4, ca_vsize - 8, 1, 0, ca_vid, 0);
	map_create("value size + 8", 4, ca_vsize + 8, 1, 0, ca_vid, 0);
	map_create("value size 0", 4, 0, 1, 0, ca_vid, 0);
	int ca1 = map_create("tcp_congestion_ops", 4, ca_vsize, 1, 0, ca_vid, 0);
	int ca2 = map_create("tcp_congestion_ops again", 4, ca_vsize, 1, 0, ca_vid, 0);
	int cal = map_create("tcp_congestion_ops BPF_F_LINK", 4, ca_vsize, 1, BPF_F_LINK_, ca_vid, 0);
	int cal2 = map_create("tcp_congestion_ops BPF_F_LINK again", 4, ca_vsize, 1, BPF_F_LINK_, ca_vid, 0);
	int cal3 = map_create("tcp_congestion_ops BPF_F_LINK third", 4, ca_vsize, 1, BPF_F_LINK_, ca_vid, 0);
	__u32 dvsize = btf__type_by_id(vm, dummy_vid)->size;
	int dm = map_create("bpf_dummy_ops", 4, dvsize, 1, 0, dummy_vid, 0);
	if (ca1 < 0 || ca2 < 0 || cal < 0 || cal2 < 0 || cal3 < 0)
		return 1;

	printf("-- programs\n");

	int p_ss = load("ssthresh", ca_id, (__u32)m_ss, 7, "GPL");
	int p_ca = load("cong_avoid", ca_id, (__u32)m_ca, 0, "GPL");
	int p_undo = load("undo_cwnd", ca_id, (__u32)m_undo, 10, "GPL");
	int p_init = load("init", ca_id, (__u32)m_init, 0, "GPL");
	load("ssthresh, not GPL", ca_id, (__u32)m_ss, 7, "MIT");
	load("member past the end", ca_id, 100, 0, "GPL");
	load("get_info", ca_id, (__u32)member(ca_id, "get_info", NULL), 0, "GPL");
	load("release", ca_id, (__u32)member(ca_id, "release", NULL), 0, "GPL");
	load("cong_control", ca_id, (__u32)member(ca_id, "cong_control", NULL), 0, "GPL");
	load("bpf_dummy_ops test_2", dummy_id, (__u32)member(dummy_id, "test_2", NULL), 0, "GPL");
	load_flags = BPF_F_SLEEPABLE;
	load("bpf_dummy_ops test_2 sleepable", dummy_id, (__u32)member(dummy_id, "test_2", NULL), 0, "GPL");
	load("bpf_dummy_ops test_sleepable sleepable", dummy_id, (__u32)member(dummy_id, "test_sleepable", NULL), 0,
	     "GPL");
	load("tcp_congestion_ops ssthresh sleepable", ca_id, (__u32)m_ss, 0, "GPL");
	load_flags = 0;
	load("member name (no function)", ca_id, (__u32)member(ca_id, "name", NULL), 0, "GPL");
	load("struct task_struct", find("task_struct"), 0, 0, "GPL");
	load("struct_ops value type", ca_vid, 0, 0, "GPL");
	int p_d1 = load("bpf_dummy_ops test_1", dummy_id, (__u32)member(dummy_id, "test_1", NULL), 0, "GPL");
	(void)m_cc;
	if (p_ss < 0 || p_ca < 0 || p_undo < 0)
		return 1;

	printf("-- an empty map\n");
	show("empty", ca1, ca_vid, ca_id);
	unsigned char v[4096];
	what("lookup key 1", elem(BPF_MAP_LOOKUP_ELEM, ca1, 1, v, 0));
	what("delete empty", elem(BPF_MAP_DELETE_ELEM, ca1, 0, NULL, 0));
	{
		union bpf_attr a;
		__u32 next = 99, key = 0;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)ca1;
		a.next_key = (uintptr_t)&next;
		what("next key of none", sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)));
		printf("next key: %u\n", next);
		a.key = (uintptr_t)&key;
		what("next key of 0", sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)));
		key = 5;
		what("next key of 5", sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)));
		printf("next key: %u\n", next);
	}

	printf("-- update errors\n");
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	update("flags BPF_ANY|1 (BPF_NOEXIST)", ca1, v, 1);
	{
		unsigned char copy[4096];
		memcpy(copy, v, ca_vsize);
		what("key 1", elem(BPF_MAP_UPDATE_ELEM, ca1, 1, copy, 0));
	}
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	v[0] = 1;
	update("refcnt 1", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	v[4] = 1;
	update("state 1", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	v[ca_doff - 1] = 1;
	update("a byte in the hole before data", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	v[ca_vsize - 1] = 1;
	update("a byte past the last member", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "");
	update("no name", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu-tw1");
	update("name with '-'", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	memset(v + ca_doff + off.name, 'a', 16);
	update("name of 16 characters", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u32 *)(v + ca_doff + off.flags) = 0x100;
	update("flags 0x100", ca1, v, 0);
	for (int bit = 0; bit < 32; bit++) {         /* TCP_CONG_MASK: each flag on a map of its own */
		int fd = map_create_quiet(ca_vsize);
		char w[32];
		ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw0");
		*(__u32 *)(v + ca_doff + off.flags) = 1u << bit;
		snprintf(w, sizeof(w), "flags %#x", 1u << bit);
		unsigned char copy[4096];
		memcpy(copy, v, ca_vsize);
		long r = elem(BPF_MAP_UPDATE_ELEM, fd, 0, copy, 0);
		if (r || bit < 4)
			what(w, r);
		if (!r)
			elem(BPF_MAP_DELETE_ELEM, fd, 0, NULL, 0);
		close(fd);
		if (r)
			break;
	}
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u32 *)(v + ca_doff + off.key) = 1;
	update("key member 1", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u64 *)(v + ca_doff + off.owner) = 1;
	update("owner member 1", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u64 *)(v + ca_doff + off.init) = 1;      /* fd 1: no bpf object */
	update("init fd 1 (no program)", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u64 *)(v + ca_doff + off.init) = 999;
	update("init fd 999 (closed)", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u64 *)(v + ca_doff + off.init) = (__u64)ca2;
	update("init a map fd", ca1, v, 0);
	ca_value(v, p_undo, p_ca, p_ss, "bpfemu_tw1");
	update("ssthresh and undo_cwnd swapped", ca1, v, 0);
	if (p_d1 >= 0) {
		ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
		*(__u64 *)(v + ca_doff + off.init) = (__u64)p_d1;
		update("init a bpf_dummy_ops program", ca1, v, 0);
	}
	ca_value(v, -1, p_ca, p_undo, "bpfemu_tw1");
	*(__u64 *)(v + ca_doff + off.ssthresh) = 0;
	update("no ssthresh", ca1, v, 0);
	ca_value(v, p_ss, 0, p_undo, "bpfemu_tw1");
	update("no cong_avoid", ca1, v, 0);
	ca_value(v, p_ss, p_ca, 0, "bpfemu_tw1");
	update("no undo_cwnd", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "cubic");
	update("name cubic (the kernel's)", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "reno");
	update("name reno (the kernel's)", ca1, v, 0);
	show("after the errors", ca1, ca_vid, ca_id);

	printf("-- register (no BPF_F_LINK)\n");
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	*(__u32 *)(v + ca_doff + off.flags) = 5;
	if (p_init >= 0)
		*(__u64 *)(v + ca_doff + off.init) = (__u64)p_init;
	update("register bpfemu_tw1", ca1, v, 0);
	show("registered", ca1, ca_vid, ca_id);
	update("register again", ca1, v, 0);
	update("another map, the same name", ca2, v, 0);
	show("the other map after EEXIST", ca2, ca_vid, ca_id);
	what("link create on a map without BPF_F_LINK", link_create("no BPF_F_LINK", ca1, BPF_STRUCT_OPS_, 0));
	what("delete key 1", elem(BPF_MAP_DELETE_ELEM, ca1, 1, NULL, 0));
	what("unregister (delete)", elem(BPF_MAP_DELETE_ELEM, ca1, 0, NULL, 0));
	show("unregistered", ca1, ca_vid, ca_id);
	what("delete again", elem(BPF_MAP_DELETE_ELEM, ca1, 0, NULL, 0));
	update("update after delete", ca1, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw1");
	update("the other map, the name free again", ca2, v, 0);
	show("the other map", ca2, ca_vid, ca_id);
	what("unregister the other map", elem(BPF_MAP_DELETE_ELEM, ca2, 0, NULL, 0));

	printf("-- BPF_F_LINK\n");
	link_create("an empty BPF_F_LINK map", cal, BPF_STRUCT_OPS_, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw2");
	update("update BPF_F_LINK map", cal, v, 0);
	show("ready", cal, ca_vid, ca_id);
	what("delete BPF_F_LINK map", elem(BPF_MAP_DELETE_ELEM, cal, 0, NULL, 0));
	update("update again", cal, v, 0);
	link_create("attach type 0", cal, 0, 0);
	int l0 = link_create("flags 1", cal, BPF_STRUCT_OPS_, 1);
	if (l0 >= 0)
		close(l0);
	show("its link closed", cal, ca_vid, ca_id);
	int l1 = link_create("ready map", cal, BPF_STRUCT_OPS_, 0);
	show("linked", cal, ca_vid, ca_id);
	link_create("the same map again", cal, BPF_STRUCT_OPS_, 0);
	update("the second BPF_F_LINK map (same name)", cal2, v, 0);
	ca_value(v, p_ss, p_ca, p_undo, "bpfemu_tw3");
	update("the third BPF_F_LINK map (another name)", cal3, v, 0);
	if (l1 >= 0) {
		link_update("update to a non-link map", l1, ca2, 0, 0);
		link_update("update to an empty map", l1, dm >= 0 ? dm : ca2, 0, 0);
		link_update("update to another name", l1, cal3, 0, 0);
		link_update("update to a program fd", l1, p_ss, 0, 0);
		link_update("update, wrong old map", l1, cal2, BPF_F_REPLACE_, cal3);
		link_update("update, old_map_fd without BPF_F_REPLACE", l1, cal2, 0, cal);
		link_update("update to the same name", l1, cal2, BPF_F_REPLACE_, cal);
		link_info("after update", l1);
		show("the old map", cal, ca_vid, ca_id);
		show("the new map", cal2, ca_vid, ca_id);
		int l2 = link_create("the old map again (name free)", cal, BPF_STRUCT_OPS_, 0);
		if (l2 >= 0)
			close(l2);
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.link_detach.link_fd = (__u32)l1;
		what("link detach", sys_bpf(BPF_LINK_DETACH, &a, sizeof(a)));
		link_info("detached", l1);
		what("link detach again", sys_bpf(BPF_LINK_DETACH, &a, sizeof(a)));
		show("the new map after detach", cal2, ca_vid, ca_id);
		link_update("update a detached link", l1, cal, 0, 0);
		close(l1);
	}
	int l3 = link_create("the third map", cal3, BPF_STRUCT_OPS_, 0);
	if (l3 >= 0) {
		close(l3);
		show("the third map, its link closed", cal3, ca_vid, ca_id);
	}

	printf("-- bpf_dummy_ops\n");
	if (dm >= 0) {
		show("dummy empty", dm, dummy_vid, dummy_id);
		unsigned char dv[4096];
		memset(dv, 0, sizeof(dv));
		__u32 doff;
		member(dummy_id, "test_1", &doff);
		if (p_d1 >= 0)
			*(__u64 *)(dv + data_off(dummy_vid) + doff) = (__u64)p_d1;
		what("dummy update", elem(BPF_MAP_UPDATE_ELEM, dm, 0, dv, 0));
		show("dummy after update", dm, dummy_vid, dummy_id);
		memset(dv, 0, sizeof(dv));
		what("dummy update, no program", elem(BPF_MAP_UPDATE_ELEM, dm, 0, dv, 0));
	}
	return 0;
}
