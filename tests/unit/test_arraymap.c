/* SPDX-License-Identifier: MIT */
/* tests/unit/test_arraymap.c: BPF_MAP_TYPE_ARRAY (emu/arraymap.c), errnos as the kernel gives them. */
#include <sys/wait.h>

#include "bt.h"

struct create_case {
	__u32 key_size, value_size, max_entries, map_flags;
	long expected;          /* 0: an fd, else -errno */
};

static struct create_case array_create_cases[] = {
	{ 4, 8, 16, 0, 0 },
	{ 0, 8, 16, 0, -EINVAL },                       /* key_size must be 4 */
	{ 2, 8, 16, 0, -EINVAL },
	{ 8, 8, 16, 0, -EINVAL },
	{ 4, 0, 16, 0, -EINVAL },                       /* value_size zero */
	{ 4, 8, 0, 0, -EINVAL },                        /* max_entries zero */
	{ 4, 1u << 20, 2, 0, 0 },
	{ 4, 1u << 31, 1, 0, -E2BIG },                  /* value too big */
	{ 4, 8, 16, BPF_F_NO_PREALLOC, -EINVAL },       /* arrays are always preallocated */
	{ 4, 8, 16, BPF_F_NO_COMMON_LRU, -EINVAL },
	{ 4, 8, 16, BPF_F_NUMA_NODE, 0 },
	{ 4, 8, 16, BPF_F_RDONLY, 0 },
	{ 4, 8, 16, BPF_F_WRONLY, 0 },
	{ 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY, -EINVAL },
	{ 4, 8, 16, BPF_F_STACK_BUILD_ID, -EINVAL },
	{ 4, 8, 16, BPF_F_ZERO_SEED, -EINVAL },         /* hash only */
	{ 4, 8, 16, BPF_F_RDONLY_PROG, 0 },
	{ 4, 8, 16, BPF_F_WRONLY_PROG, 0 },
	{ 4, 8, 16, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, -EINVAL },
	{ 4, 8, 16, BPF_F_CLONE, -EINVAL },
	{ 4, 8, 16, BPF_F_MMAPABLE, 0 },
	{ 4, 8, 16, BPF_F_PRESERVE_ELEMS, -EINVAL },    /* perf event arrays only */
	{ 4, 8, 16, BPF_F_INNER_MAP, 0 },
	{ 4, 8, 16, 1u << 13, -EINVAL },
	{ 4, 8, 16, 1u << 20, -EINVAL },
	{ 4, 8, 16, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG | BPF_F_INNER_MAP, 0 },
};

ParameterizedTestParameters(unit, create_array_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, array_create_cases, BT_ARRAY_SIZE(array_create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_array_attr_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	long r = bt_map_create(BPF_MAP_TYPE_ARRAY, c->key_size, c->value_size, c->max_entries, c->map_flags);
	if (c->expected == 0)
		cr_assert(ge(i64, r, 0), "array %u/%u/%u flags %#x: %s", c->key_size, c->value_size,
			  c->max_entries, c->map_flags, strerror((int)-r));
	else
		cr_assert(eq(i64, r, c->expected), "array %u/%u/%u flags %#x", c->key_size, c->value_size,
			  c->max_entries, c->map_flags);
}

BT_TEST(create_bad_map_name_is_einval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 4;
	strcpy(a.map_name, "bad:name");
	cr_assert(eq(i64, bt_map_create_attr(&a), -EINVAL));
	memset(a.map_name, 'x', sizeof(a.map_name));
	cr_assert(eq(i64, bt_map_create_attr(&a), -EINVAL));
	memset(a.map_name, 0, sizeof(a.map_name));
	strcpy(a.map_name, "good.name_1");
	long fd = bt_map_create_attr(&a);
	cr_assert(ge(i64, fd, 0), "%s", strerror((int)-fd));
}

/* ---- update flag grid: every index below max_entries always exists ---- */

struct update_case {
	__u64 flags;
	__u32 index;
	long expected;
};

static struct update_case update_cases[] = {
	{ BPF_ANY, 0, 0 },
	{ BPF_ANY, 3, 0 },
	{ BPF_NOEXIST, 0, -EEXIST },
	{ BPF_NOEXIST, 3, -EEXIST },
	{ BPF_EXIST, 0, 0 },
	{ BPF_EXIST, 3, 0 },
	{ BPF_ANY, 4, -E2BIG },                         /* index >= max_entries */
	{ BPF_NOEXIST, 4, -E2BIG },
	{ BPF_EXIST, 4, -E2BIG },
	{ BPF_ANY, 0xffffffffu, -E2BIG },
	{ BPF_F_LOCK, 0, -EINVAL },                     /* no bpf_spin_lock in the value */
	{ BPF_NOEXIST | BPF_EXIST, 0, -EINVAL },
	{ 8, 0, -EINVAL },
	{ 8, 4, -EINVAL },                              /* flags are checked before the index */
};

ParameterizedTestParameters(unit, update_array_flag_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct update_case, update_cases, BT_ARRAY_SIZE(update_cases));
}

ParameterizedTest(struct update_case *c, unit, update_array_flag_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u64 v = 42, out = 1;
	cr_assert(eq(i64, bt_update(fd, &c->index, &v, c->flags), c->expected), "flags %llu, index %u",
		  (unsigned long long)c->flags, c->index);
	if (c->index < 4) {
		cr_assert(eq(i64, bt_lookup(fd, &c->index, &out), 0));
		cr_assert(eq(u64, out, c->expected == 0 ? 42 : 0));
	} else {
		cr_assert(eq(i64, bt_lookup(fd, &c->index, &out), -ENOENT));
	}
}

BT_TEST(lookup_fresh_array_is_zero)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0);
	char out[16];
	memset(out, 0xaa, sizeof(out));
	__u32 k = 2;
	cr_assert(eq(i64, bt_lookup(fd, &k, out), 0));
	for (size_t i = 0; i < sizeof(out); i++)
		cr_assert(eq(i32, out[i], 0));
}

BT_TEST(lookup_index_out_of_range_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 4;
	__u64 out;
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -ENOENT));
}

BT_TEST(update_odd_value_size_round_trips)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 5, 3, 0);
	char v[5] = { 1, 2, 3, 4, 5 }, out[5] = { 0 };
	for (__u32 k = 0; k < 3; k++) {
		v[0] = (char)k;
		cr_assert(eq(i64, bt_update(fd, &k, v, BPF_ANY), 0));
	}
	for (__u32 k = 0; k < 3; k++) {
		cr_assert(eq(i64, bt_lookup(fd, &k, out), 0));
		cr_assert(eq(i32, out[0], (int)k));
		cr_assert(eq(i32, out[4], 5));
	}
}

BT_TEST(delete_is_einval)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 0, big = 100;
	cr_assert(eq(i64, bt_delete(fd, &k), -EINVAL));
	cr_assert(eq(i64, bt_delete(fd, &big), -EINVAL));
}

BT_TEST(lookup_and_delete_is_enotsupp)
{
	/* ENOTSUPP (524), the kernel-internal errno, reaches user space here */
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 0;
	__u64 out;
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, &out), -524));
}

/* ---- get_next_key ---- */

BT_TEST(get_next_key_null_is_zero)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 next = 99;
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), 0));
	cr_assert(eq(u32, next, 0));
}

BT_TEST(get_next_key_middle_is_next_index)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 1, next = 99;
	cr_assert(eq(i64, bt_next_key(fd, &k, &next), 0));
	cr_assert(eq(u32, next, 2));
}

BT_TEST(get_next_key_last_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 3, next = 99;
	cr_assert(eq(i64, bt_next_key(fd, &k, &next), -ENOENT));
	cr_assert(eq(u32, next, 99));
}

BT_TEST(get_next_key_out_of_range_is_zero)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 4, next = 99;
	cr_assert(eq(i64, bt_next_key(fd, &k, &next), 0));
	cr_assert(eq(u32, next, 0));
	k = 0xffffffffu;
	next = 99;
	cr_assert(eq(i64, bt_next_key(fd, &k, &next), 0));
	cr_assert(eq(u32, next, 0));
}

/* ---- freeze and access modes ---- */

BT_TEST(freeze_then_update_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 1;
	__u64 v = 5, out = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_freeze(fd), 0));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_EXIST), -EPERM));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 5));
}

BT_TEST(update_rdonly_map_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY);
	__u32 k = 1;
	__u64 v = 5, out = 9;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 0));
}

BT_TEST(lookup_wronly_map_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_WRONLY);
	__u32 k = 1, next;
	__u64 v = 5, out;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -EPERM));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), -EPERM));
}

/* ---- BPF_F_MMAPABLE ---- */

BT_TEST(mmap_mmapable_array_shares_memory_with_lookup_and_update)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	__u64 *mem = bt_mmap(fd, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED);
	cr_assert(ne(ptr, mem, MAP_FAILED), "mmap: %s", strerror(errno));

	__u32 k = 3;
	__u64 v = 0x1122334455667788ull, out = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(u64, mem[3], v));

	mem[5] = 0xdeadbeef;
	k = 5;
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 0xdeadbeef));
	munmap(mem, (size_t)pg);
}

BT_TEST(mmap_non_mmapable_array_fails)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0);
	void *mem = bt_mmap(fd, (size_t)pg, PROT_READ, MAP_SHARED);
	cr_assert(eq(ptr, mem, MAP_FAILED));
	cr_assert(eq(int, errno, EINVAL));
}

BT_TEST(mmap_frozen_array_writable_is_eperm)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	cr_assert(eq(i64, bt_freeze(fd), 0));
	void *mem = bt_mmap(fd, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED);
	cr_assert(eq(ptr, mem, MAP_FAILED));
	cr_assert(eq(int, errno, EPERM));
	mem = bt_mmap(fd, (size_t)pg, PROT_READ, MAP_SHARED);
	cr_assert(ne(ptr, mem, MAP_FAILED), "read-only mmap of a frozen map: %s", strerror(errno));
}

BT_TEST(freeze_with_writable_mmap_is_ebusy)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	void *mem = bt_mmap(fd, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED);
	cr_assert(ne(ptr, mem, MAP_FAILED), "mmap: %s", strerror(errno));
	cr_assert(eq(i64, bt_freeze(fd), -EBUSY));
}

BT_TEST(mmap_shared_with_another_process_both_ways)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/mm"), 0));
	__u64 *mem = bt_mmap(fd, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED);
	cr_assert(ne(ptr, mem, MAP_FAILED), "mmap: %s", strerror(errno));
	mem[1] = 1111;
	pid_t pid = fork();
	cr_assert(ge(i32, pid, 0));
	if (pid == 0) {
		/* another process: its own fd and its own mapping */
		munmap(mem, (size_t)pg);
		int f2 = (int)bt_get("/sys/fs/bpf/mm", 0);
		__u64 *m2 = f2 < 0 ? MAP_FAILED : bt_mmap(f2, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED);
		__u32 k = 1;
		__u64 v = 0;
		if (m2 == MAP_FAILED || bt_lookup(f2, &k, &v) || v != 1111 || m2[1] != 1111)
			_exit(1);
		m2[2] = 2222;                    /* seen by the parent's lookup */
		k = 3;
		v = 3333;                        /* seen in the parent's mapping */
		_exit(bt_update(f2, &k, &v, BPF_ANY) ? 2 : 0);
	}
	int st;
	cr_assert(eq(i32, waitpid(pid, &st, 0), pid));
	cr_assert(eq(i32, st, 0), "child status %#x", st);
	__u32 k = 2;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
	cr_assert(eq(u64, v, 2222));
	cr_assert(eq(u64, mem[3], 3333));
}

BT_TEST(mmap_private_mapping_is_einval)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	cr_assert(eq(ptr, bt_mmap(fd, (size_t)pg, PROT_READ, MAP_PRIVATE), MAP_FAILED));
	cr_assert(eq(int, errno, EINVAL));
}

BT_TEST(mmap_past_the_values_is_einval)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	cr_assert(eq(ptr, bt_mmap(fd, (size_t)pg * 2, PROT_READ, MAP_SHARED), MAP_FAILED));
	cr_assert(eq(int, errno, EINVAL));
}

BT_TEST(mmap_hash_map_is_enotsupp)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	cr_assert(eq(ptr, bt_mmap(fd, (size_t)pg, PROT_READ, MAP_SHARED), MAP_FAILED));
	cr_assert(eq(int, errno, 524), "ENOTSUPP");
}

BT_TEST(mmap_writable_through_readonly_fd_is_eacces)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/ro"), 0));
	int ro = (int)bt_get("/sys/fs/bpf/ro", BPF_F_RDONLY);
	cr_assert(ge(i32, ro, 0));
	cr_assert(eq(ptr, bt_mmap(ro, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED), MAP_FAILED));
	cr_assert(eq(int, errno, EACCES));
	/* the mm layer makes a shared mapping of a read-only file private: EINVAL */
	cr_assert(eq(ptr, bt_mmap(ro, (size_t)pg, PROT_READ, MAP_SHARED), MAP_FAILED));
	cr_assert(eq(int, errno, EINVAL));
}

/* ---- bad fds and pointers ---- */

BT_TEST(update_on_pipe_fd_is_einval)
{
	int p[2];
	cr_assert(eq(i32, pipe(p), 0));
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_update(p[0], &k, &v, BPF_ANY), -EINVAL));
	cr_assert(eq(i64, bt_lookup(p[1], &k, &v), -EINVAL));
}

BT_TEST(update_on_closed_fd_is_ebadf)
{
	int fd = bt_closed_fd();
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -EBADF));
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), -EBADF));
}

BT_TEST(null_key_or_value_is_efault)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 1;
	__u64 v = 5;
	cr_assert(eq(i64, bt_update(fd, NULL, &v, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_update(fd, &k, NULL, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_lookup(fd, NULL, &v), -EFAULT));
	cr_assert(eq(i64, bt_lookup(fd, &k, NULL), -EFAULT));
	cr_assert(eq(i64, bt_next_key(fd, &k, NULL), -EFAULT));
}

BT_TEST(unmapped_key_or_value_is_efault)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	void *bad = bt_unmapped_page();
	__u32 k = 1;
	__u64 v = 5;
	cr_assert(eq(i64, bt_update(fd, bad, &v, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_update(fd, &k, bad, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_lookup(fd, &k, bad), -EFAULT));
	cr_assert(eq(i64, bt_next_key(fd, bad, &k), -EFAULT));
}
