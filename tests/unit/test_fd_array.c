/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_fd_array.c: PROG_ARRAY, PERF_EVENT_ARRAY, CGROUP_ARRAY (emu/fd_array.c):
 * creation rules, fd values of the right and the wrong kind, and what user space may read back.
 */
#include <linux/perf_event.h>

#include <sys/vfs.h>

#include "bt.h"

#define ENOTSUPP 524

static struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int prog_new(__u32 type)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = BT_PTR(ret0);
	a.insn_cnt = 2;
	a.license = BT_PTR("GPL");
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
	return (int)fd;
}

struct create_case {
	__u32 type, key_size, value_size, max_entries, map_flags;
	long expected;          /* 0: an fd, else -errno */
};

static struct create_case fd_array_create_cases[] = {
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0, 0 },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 1, 0, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 8, 4, 1, 0, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4096, 0, 0 },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_NUMA_NODE, 0 },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_RDONLY, 0 },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_WRONLY, 0 },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_WRONLY_PROG, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_NO_PREALLOC, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_INNER_MAP, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_MMAPABLE, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, BPF_F_PRESERVE_ELEMS, -EINVAL },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, 0, 0 },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 1, 0, -EINVAL },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, BPF_F_PRESERVE_ELEMS, 0 },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, BPF_F_MMAPABLE, -EINVAL },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, BPF_F_ZERO_SEED, -EINVAL },
	{ BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 1, 0, 0 },
	{ BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_CGROUP_ARRAY, 1, 4, 1, 0, -EINVAL },
	{ BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 1, BPF_F_PRESERVE_ELEMS, -EINVAL },
	{ BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG, -EINVAL },
};

ParameterizedTestParameters(unit, create_fd_array_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, fd_array_create_cases, BT_ARRAY_SIZE(fd_array_create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_fd_array_attr_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	long r = bt_map_create(c->type, c->key_size, c->value_size, c->max_entries, c->map_flags);
	if (c->expected == 0)
		cr_assert(ge(i64, r, 0), "type %u %u/%u/%u flags %#x: %s", c->type, c->key_size, c->value_size,
			  c->max_entries, c->map_flags, strerror((int)-r));
	else
		cr_assert(eq(i64, r, c->expected), "type %u %u/%u/%u flags %#x", c->type, c->key_size,
			  c->value_size, c->max_entries, c->map_flags);
}

/* ---- PROG_ARRAY ---- */

BT_TEST(prog_array_update_prog_fd_then_lookup_gives_prog_id)
{
	int m = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	int p = prog_new(BPF_PROG_TYPE_SOCKET_FILTER);
	__u32 k = 1, v = (__u32)p, out = 0;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	cr_assert(eq(i64, bt_update(m, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_lookup(m, &k, &out), 0));
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(p, &info, &len), 0));
	cr_assert(eq(u32, out, info.id));
	k = 0;
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOENT));
}

BT_TEST(prog_array_update_wrong_fds_give_kernel_errno)
{
	int m = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	int arr = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int devnull = open("/dev/null", O_RDONLY);
	__u32 k = 0, v;

	v = (__u32)-1;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EBADF));
	v = (__u32)bt_closed_fd();
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EBADF));
	v = (__u32)devnull;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EINVAL));
	v = (__u32)arr;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EINVAL));
	v = (__u32)m;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EINVAL));
}

BT_TEST(prog_array_first_prog_type_owns_the_array)
{
	int m = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	int sf = prog_new(BPF_PROG_TYPE_SOCKET_FILTER);
	int xdp = prog_new(BPF_PROG_TYPE_XDP);
	__u32 k = 0, v = (__u32)sf;

	cr_assert(eq(i64, bt_update(m, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_delete(m, &k), 0));
	v = (__u32)xdp;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EINVAL));    /* still owned after the delete */
}

struct flag_case {
	__u32 type;
	__u64 flags;
	__u32 index;
	long expected;
};

static struct flag_case fd_array_flag_cases[] = {
	{ BPF_MAP_TYPE_PROG_ARRAY, BPF_ANY, 0, 0 },
	{ BPF_MAP_TYPE_PROG_ARRAY, BPF_NOEXIST, 0, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, BPF_EXIST, 0, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 0, -EINVAL },
	{ BPF_MAP_TYPE_PROG_ARRAY, BPF_ANY, 2, -E2BIG },
	{ BPF_MAP_TYPE_PROG_ARRAY, BPF_NOEXIST, 2, -EINVAL },     /* flags before the index */
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_ANY, 2, -E2BIG },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_EXIST, 0, -EINVAL },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_ANY, 0, -EBADF },   /* a program fd is no perf event */
	{ BPF_MAP_TYPE_CGROUP_ARRAY, BPF_ANY, 0, -EBADF },       /* nor a cgroup */
	{ BPF_MAP_TYPE_CGROUP_ARRAY, BPF_ANY, 5, -E2BIG },
};

ParameterizedTestParameters(unit, update_fd_array_flags_index_fd_order_gives_kernel_errno)
{
	return cr_make_param_array(struct flag_case, fd_array_flag_cases, BT_ARRAY_SIZE(fd_array_flag_cases));
}

ParameterizedTest(struct flag_case *c, unit, update_fd_array_flags_index_fd_order_gives_kernel_errno,
		  .init = bt_setup, .fini = bt_teardown)
{
	int m = bt_map_new(c->type, 4, 4, 2, 0);
	int p = prog_new(BPF_PROG_TYPE_SOCKET_FILTER);
	__u32 v = (__u32)p;
	cr_assert(eq(i64, bt_update(m, &c->index, &v, c->flags), c->expected), "type %u flags %llu index %u",
		  c->type, (unsigned long long)c->flags, c->index);
}

BT_TEST(fd_array_delete_and_next_key_follow_array_rules)
{
	int m = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	int p = prog_new(BPF_PROG_TYPE_SOCKET_FILTER);
	__u32 k = 0, v = (__u32)p, next = 99, out;

	cr_assert(eq(i64, bt_delete(m, &k), -ENOENT));
	k = 2;
	cr_assert(eq(i64, bt_delete(m, &k), -E2BIG));
	cr_assert(eq(i64, bt_next_key(m, NULL, &next), 0));
	cr_assert(eq(u32, next, 0));
	k = 0;
	cr_assert(eq(i64, bt_next_key(m, &k, &next), 0));
	cr_assert(eq(u32, next, 1));
	k = 1;
	cr_assert(eq(i64, bt_next_key(m, &k, &next), -ENOENT));
	k = 0;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_lookup_and_delete(m, &k, &out), -ENOTSUPP));
	cr_assert(eq(i64, bt_delete(m, &k), 0));
	cr_assert(eq(i64, bt_delete(m, &k), -ENOENT));
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOENT));
}

BT_TEST(fd_array_frozen_update_is_eperm)
{
	int m = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	int p = prog_new(BPF_PROG_TYPE_SOCKET_FILTER);
	__u32 k = 0, v = (__u32)p;
	cr_assert(eq(i64, bt_freeze(m), 0));
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EPERM));
}

/* ---- PERF_EVENT_ARRAY, CGROUP_ARRAY: user space cannot read them back ---- */

BT_TEST(perf_event_array_lookup_is_enotsupp_delete_empty_is_enoent)
{
	int m = bt_map_new(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0);
	__u32 k = 0, out, next;
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOTSUPP));
	k = 7;
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOTSUPP));
	k = 0;
	cr_assert(eq(i64, bt_delete(m, &k), -ENOENT));
	cr_assert(eq(i64, bt_next_key(m, NULL, &next), 0));
	cr_assert(eq(i64, bt_lookup_and_delete(m, &k, &out), -ENOTSUPP));
}

BT_TEST(perf_event_array_update_perf_fd_then_delete)
{
	struct perf_event_attr pa;
	memset(&pa, 0, sizeof(pa));
	pa.size = sizeof(pa);
	pa.type = PERF_TYPE_SOFTWARE;
	pa.config = PERF_COUNT_SW_CPU_CLOCK;
	pa.sample_period = 1000000;
	int pfd = (int)syscall(__NR_perf_event_open, &pa, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		cr_skip_test("perf_event_open: %s", strerror(errno));
	int m = bt_map_new(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0);
	int devnull = open("/dev/null", O_RDONLY);
	__u32 k = 0, v = (__u32)devnull, out;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EBADF));
	v = (__u32)pfd;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOTSUPP));
	cr_assert(eq(i64, bt_delete(m, &k), 0));
	cr_assert(eq(i64, bt_delete(m, &k), -ENOENT));
}

/* cgroup_get_from_fd() takes cgroup v2 directories only: a v1 cgroup directory is EBADF too. */
BT_TEST(cgroup_array_update_non_cgroup2_dir_is_ebadf)
{
	int m = bt_map_new(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 2, 0);
	const char *dirs[] = { "/tmp", "/sys/fs/cgroup/memory", "/sys/fs/cgroup" };
	__u32 k = 1, v, out;
	for (size_t i = 0; i < BT_ARRAY_SIZE(dirs); i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY);
		struct statfs sfs;
		if (fd < 0 || fstatfs(fd, &sfs) || sfs.f_type == 0x63677270)
			continue;
		v = (__u32)fd;
		cr_assert(eq(i64, bt_update(m, &k, &v, 0), -EBADF), "%s", dirs[i]);
		close(fd);
	}
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOTSUPP));
	cr_assert(eq(i64, bt_delete(m, &k), -ENOENT));
}

BT_TEST(cgroup_array_update_cgroup2_dir_fd_then_delete)
{
	const char *dirs[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	int cg = -1;
	for (size_t i = 0; i < BT_ARRAY_SIZE(dirs) && cg < 0; i++) {
		struct statfs sfs;
		cg = open(dirs[i], O_RDONLY | O_DIRECTORY);
		if (cg >= 0 && (fstatfs(cg, &sfs) || sfs.f_type != 0x63677270)) {
			close(cg);
			cg = -1;
		}
	}
	if (cg < 0)
		cr_skip_test("no cgroup2 directory here");
	int m = bt_map_new(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 2, 0);
	__u32 k = 1, v = (__u32)cg, out;
	cr_assert(eq(i64, bt_update(m, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_lookup(m, &k, &out), -ENOTSUPP));
	cr_assert(eq(i64, bt_delete(m, &k), 0));
	cr_assert(eq(i64, bt_delete(m, &k), -ENOENT));
}
