/* SPDX-License-Identifier: MIT */
/* tests/unit/test_hashtab.c: BPF_MAP_TYPE_HASH (emu/hashtab.c), errnos as the kernel gives them. */
#include "bt.h"

/* ---- create validation ---- */

struct create_case {
	__u32 key_size, value_size, max_entries, map_flags;
	long expected;          /* 0: an fd, else -errno */
};

static struct create_case hash_create_cases[] = {
	{ 4, 8, 16, 0, 0 },
	{ 0, 8, 16, 0, -EINVAL },                       /* key_size zero */
	{ 4, 0, 16, 0, -EINVAL },                       /* value_size zero */
	{ 4, 8, 0, 0, -EINVAL },                        /* max_entries zero */
	{ 512, 8, 16, 0, 0 },                           /* key up to MAX_BPF_STACK */
	{ 513, 8, 16, 0, 0 },                           /* 6.18: no MAX_BPF_STACK limit for hash keys */
	{ 1u << 20, 8, 16, 0, 0 },
	{ 1u << 25, 8, 16, 0, -E2BIG },                 /* element larger than kmalloc allows */
	{ 4, 1u << 20, 4, 0, 0 },
	{ 4, 1u << 22, 16, 0, -E2BIG },
	{ 4, 1u << 30, 16, 0, -E2BIG },
	{ 4, 8, 1u << 31, 0, -E2BIG },                  /* too many buckets */
	{ 4, 8, 0xffffffffu, BPF_F_NO_PREALLOC, -E2BIG },
	{ 4, 8, 16, BPF_F_NO_PREALLOC, 0 },
	{ 4, 8, 16, BPF_F_NO_COMMON_LRU, -EINVAL },     /* LRU only */
	{ 4, 8, 16, BPF_F_NUMA_NODE, 0 },               /* numa_node 0 */
	{ 4, 8, 16, BPF_F_RDONLY, 0 },
	{ 4, 8, 16, BPF_F_WRONLY, 0 },
	{ 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY, -EINVAL },
	{ 4, 8, 16, BPF_F_STACK_BUILD_ID, -EINVAL },
	{ 4, 8, 16, BPF_F_ZERO_SEED, 0 },
	{ 4, 8, 16, BPF_F_RDONLY_PROG, 0 },
	{ 4, 8, 16, BPF_F_WRONLY_PROG, 0 },
	{ 4, 8, 16, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, -EINVAL },
	{ 4, 8, 16, BPF_F_CLONE, -EINVAL },
	{ 4, 8, 16, BPF_F_MMAPABLE, -EINVAL },          /* arrays only */
	{ 4, 8, 16, BPF_F_PRESERVE_ELEMS, -EINVAL },
	{ 4, 8, 16, BPF_F_INNER_MAP, -EINVAL },
	{ 4, 8, 16, 1u << 20, -EINVAL },                /* unknown bit */
	{ 4, 8, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED | BPF_F_RDONLY_PROG, 0 },
};

ParameterizedTestParameters(unit, create_hash_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, hash_create_cases, BT_ARRAY_SIZE(hash_create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_hash_attr_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	long r = bt_map_create(BPF_MAP_TYPE_HASH, c->key_size, c->value_size, c->max_entries, c->map_flags);
	if (c->expected == 0)
		cr_assert(ge(i64, r, 0), "hash %u/%u/%u flags %#x: %s", c->key_size, c->value_size,
			  c->max_entries, c->map_flags, strerror((int)-r));
	else
		cr_assert(eq(i64, r, c->expected), "hash %u/%u/%u flags %#x", c->key_size, c->value_size,
			  c->max_entries, c->map_flags);
}

BT_TEST(create_numa_node_out_of_range_is_einval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 4;
	a.map_flags = BPF_F_NUMA_NODE;
	a.numa_node = 4096;
	cr_assert(eq(i64, bt_map_create_attr(&a), -EINVAL));
}

BT_TEST(create_numa_no_node_with_flag_succeeds)
{
	/* NUMA_NO_NODE (-1) is always accepted */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 4;
	a.map_flags = BPF_F_NUMA_NODE;
	a.numa_node = 0xffffffffu;
	long fd = bt_map_create_attr(&a);
	cr_assert(ge(i64, fd, 0), "%s", strerror((int)-fd));
}

BT_TEST(create_numa_node_without_flag_is_ignored)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 4;
	a.numa_node = 4096;
	long fd = bt_map_create_attr(&a);
	cr_assert(ge(i64, fd, 0), "%s", strerror((int)-fd));
}

struct name_case {
	char name[BPF_OBJ_NAME_LEN];
	long expected;
};

static struct name_case name_cases[] = {
	{ "", 0 },
	{ "demo", 0 },
	{ "a_b.c9", 0 },
	{ "a-b", -EINVAL },
	{ "a b", -EINVAL },
	{ "a/b", -EINVAL },
	{ "0123456789abcde", 0 },                      /* 15 chars + NUL */
	{ { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f' }, -EINVAL },
	{ { 'a', 0, 'b' }, 0 },                        /* bytes after the NUL are ignored */
};

ParameterizedTestParameters(unit, create_map_name_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct name_case, name_cases, BT_ARRAY_SIZE(name_cases));
}

ParameterizedTest(struct name_case *c, unit, create_map_name_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 4;
	memcpy(a.map_name, c->name, sizeof(a.map_name));
	long r = bt_map_create_attr(&a);
	if (c->expected == 0) {
		cr_assert(ge(i64, r, 0), "name '%.16s': %s", c->name, strerror((int)-r));
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		cr_assert(eq(i64, bt_info((int)r, &info, &len), 0));
		cr_assert(eq(str, info.name, (char *)c->name));
	} else {
		cr_assert(eq(i64, r, c->expected), "name '%.16s'", c->name);
	}
}

/* ---- update flag grid ---- */

struct update_case {
	__u64 flags;
	int present;
	long expected;
};

static struct update_case update_cases[] = {
	{ BPF_ANY, 1, 0 },
	{ BPF_ANY, 0, 0 },
	{ BPF_NOEXIST, 1, -EEXIST },
	{ BPF_NOEXIST, 0, 0 },
	{ BPF_EXIST, 1, 0 },
	{ BPF_EXIST, 0, -ENOENT },
	{ BPF_F_LOCK, 1, -EINVAL },                     /* no bpf_spin_lock in the value */
	{ BPF_F_LOCK, 0, -EINVAL },
	{ BPF_NOEXIST | BPF_EXIST, 1, -EINVAL },
	{ 8, 0, -EINVAL },
};

ParameterizedTestParameters(unit, update_hash_flag_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct update_case, update_cases, BT_ARRAY_SIZE(update_cases));
}

ParameterizedTest(struct update_case *c, unit, update_hash_flag_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 7;
	__u64 v = 1, nv = 2, out = 0;
	if (c->present)
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(fd, &k, &nv, c->flags), c->expected), "flags %llu, key %s",
		  (unsigned long long)c->flags, c->present ? "present" : "absent");
	long lr = bt_lookup(fd, &k, &out);
	if (c->expected == 0) {
		cr_assert(eq(i64, lr, 0));
		cr_assert(eq(u64, out, nv));
	} else if (c->present) {
		cr_assert(eq(i64, lr, 0));
		cr_assert(eq(u64, out, v));
	} else {
		cr_assert(eq(i64, lr, -ENOENT));
	}
}

/* ---- element operations ---- */

BT_TEST(update_then_lookup_returns_value)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 12, 8, 0);
	__u32 k = 3;
	char v[12] = "hello world", out[12] = { 0 };
	cr_assert(eq(i64, bt_update(fd, &k, v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, out), 0));
	cr_assert(eq(i32, memcmp(v, out, sizeof(v)), 0));
}

BT_TEST(lookup_missing_key_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 3;
	__u64 out;
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -ENOENT));
}

BT_TEST(lookup_with_flags_is_einval)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 3;
	__u64 v = 1, out;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &out, BPF_F_LOCK), -EINVAL));
	cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &out, 1), -EINVAL));
}

BT_TEST(delete_present_then_missing_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 3;
	__u64 v = 1, out;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_delete(fd, &k), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -ENOENT));
	cr_assert(eq(i64, bt_delete(fd, &k), -ENOENT));
}

static void fill(int fd, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		__u64 v = i * 10;
		cr_assert(eq(i64, bt_update(fd, &i, &v, BPF_ANY), 0), "key %u", i);
	}
}

BT_TEST(update_full_hash_new_key_is_e2big)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	fill(fd, 4);
	__u32 k = 100;
	__u64 v = 1;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -E2BIG));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_NOEXIST), -E2BIG));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_EXIST), -ENOENT));
}

BT_TEST(update_full_hash_existing_key_succeeds)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	fill(fd, 4);
	__u32 k = 2;
	__u64 v = 99, out = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_EXIST), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 99));
}

BT_TEST(update_full_no_prealloc_hash_new_key_is_e2big)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_PREALLOC);
	fill(fd, 4);
	__u32 k = 100;
	__u64 v = 1;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -E2BIG));
	k = 1;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
}

BT_TEST(update_full_after_delete_succeeds)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	fill(fd, 4);
	__u32 k = 0, nk = 100;
	__u64 v = 1;
	cr_assert(eq(i64, bt_delete(fd, &k), 0));
	cr_assert(eq(i64, bt_update(fd, &nk, &v, BPF_NOEXIST), 0));
}

/* ---- get_next_key ---- */

BT_TEST(get_next_key_null_on_empty_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	__u32 next;
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), -ENOENT));
	__u32 k = 5;
	cr_assert(eq(i64, bt_next_key(fd, &k, &next), -ENOENT));
}

BT_TEST(get_next_key_walks_every_key_once)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 64, 0);
	fill(fd, 50);
	int seen[50] = { 0 };
	__u32 key, next;
	long r = bt_next_key(fd, NULL, &next);
	int n = 0;
	while (r == 0) {
		cr_assert(lt(u32, next, 50));
		seen[next]++;
		n++;
		cr_assert(le(i32, n, 50), "walk does not end");
		key = next;
		r = bt_next_key(fd, &key, &next);
	}
	cr_assert(eq(i64, r, -ENOENT));
	for (int i = 0; i < 50; i++)
		cr_assert(eq(i32, seen[i], 1), "key %d seen %d times", i, seen[i]);
}

BT_TEST(get_next_key_null_and_missing_key_give_first_key)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	fill(fd, 5);
	__u32 first, from_missing, missing = 12345;
	cr_assert(eq(i64, bt_next_key(fd, NULL, &first), 0));
	cr_assert(eq(i64, bt_next_key(fd, &missing, &from_missing), 0));
	cr_assert(eq(u32, from_missing, first));
}

BT_TEST(get_next_key_last_key_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	fill(fd, 1);
	__u32 k = 0, next;
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), 0));
	cr_assert(eq(u32, next, 0));
	cr_assert(eq(i64, bt_next_key(fd, &k, &next), -ENOENT));
}

BT_TEST(get_next_key_null_next_is_efault)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	fill(fd, 2);
	cr_assert(eq(i64, bt_next_key(fd, NULL, NULL), -EFAULT));
}

/* ---- lookup_and_delete ---- */

BT_TEST(lookup_and_delete_returns_value_and_removes)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 1;
	__u64 v = 77, out = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 77));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -ENOENT));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, &out), -ENOENT));
}

BT_TEST(lookup_and_delete_with_bad_flags_is_einval)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 1;
	__u64 v = 77, out = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, &k, &out, 1), -EINVAL));
	cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, &k, &out, BPF_F_LOCK), -EINVAL));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
}

/* ---- freeze and access modes ---- */

BT_TEST(freeze_then_update_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 1;
	__u64 v = 5, out = 0;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_freeze(fd), 0));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_delete(fd, &k), -EPERM));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, &out), -EPERM));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 5));
}

BT_TEST(freeze_twice_is_eperm)
{
	/* 6.18: a frozen map has lost write permission, which is checked
	 * before "already frozen" (EBUSY) */
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	cr_assert(eq(i64, bt_freeze(fd), 0));
	cr_assert(eq(i64, bt_freeze(fd), -EPERM));
}

BT_TEST(update_rdonly_map_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_RDONLY);
	__u32 k = 1, next;
	__u64 v = 5, out;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_delete(fd, &k), -EPERM));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -ENOENT));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), -ENOENT));
}

BT_TEST(lookup_wronly_map_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_WRONLY);
	__u32 k = 1, next;
	__u64 v = 5, out;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), -EPERM));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), -EPERM));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, &out), -EPERM));
	cr_assert(eq(i64, bt_delete(fd, &k), 0));
}

BT_TEST(freeze_rdonly_map_is_eperm)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_RDONLY);
	cr_assert(eq(i64, bt_freeze(fd), -EPERM));
}

/* ---- bad fds and pointers ---- */

BT_TEST(lookup_on_pipe_fd_is_einval)
{
	int p[2];
	cr_assert(eq(i32, pipe(p), 0));
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(p[0], &k, &v), -EINVAL));
	cr_assert(eq(i64, bt_update(p[1], &k, &v, BPF_ANY), -EINVAL));
	cr_assert(eq(i64, bt_delete(p[0], &k), -EINVAL));
	cr_assert(eq(i64, bt_next_key(p[0], NULL, &k), -EINVAL));
	cr_assert(eq(i64, bt_freeze(p[0]), -EINVAL));
}

BT_TEST(lookup_on_closed_fd_is_ebadf)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	bt_close(fd);
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), -EBADF));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), -EBADF));
	cr_assert(eq(i64, bt_delete(fd, &k), -EBADF));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &k), -EBADF));
	cr_assert(eq(i64, bt_freeze(fd), -EBADF));
	cr_assert(eq(i64, bt_lookup(-1, &k, &v), -EBADF));
}

BT_TEST(lookup_on_regular_file_fd_is_einval)
{
	int fd = open("/etc/hostname", O_RDONLY);
	if (fd < 0)
		fd = open("/proc/self/stat", O_RDONLY);
	cr_assert(ge(i32, fd, 0));
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), -EINVAL));
}

BT_TEST(null_key_or_value_is_efault)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 1;
	__u64 v = 5;
	cr_assert(eq(i64, bt_update(fd, NULL, &v, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_update(fd, &k, NULL, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, NULL, &v), -EFAULT));
	cr_assert(eq(i64, bt_lookup(fd, &k, NULL), -EFAULT));
	cr_assert(eq(i64, bt_delete(fd, NULL), -EFAULT));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, NULL, &v), -EFAULT));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, NULL), -EFAULT));
	/* the kernel deletes first, then fails to copy the value out */
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), -ENOENT));
}

BT_TEST(lookup_missing_key_with_null_value_is_enoent)
{
	/* the kernel copies the value out only when the key is found */
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 1;
	cr_assert(eq(i64, bt_lookup(fd, &k, NULL), -ENOENT));
}

BT_TEST(unmapped_key_or_value_is_efault)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	void *bad = bt_unmapped_page();
	__u32 k = 1;
	__u64 v = 5;
	cr_assert(eq(i64, bt_update(fd, bad, &v, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_update(fd, &k, bad, BPF_ANY), -EFAULT));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, bad), -EFAULT));
	cr_assert(eq(i64, bt_next_key(fd, bad, &k), -EFAULT));
	cr_assert(eq(i64, bt_next_key(fd, NULL, bad), -EFAULT));
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
}

/* ---- key sizes: a key of at most 4 bytes is stored where a longer key's
 * element keeps its hash (emu/hashtab.c), so each size is walked whole ---- */

/* key i of ks bytes: every byte a function of i, distinct for i < 200 */
static void small_key(unsigned char *k, __u32 ks, __u32 i)
{
	for (__u32 b = 0; b < ks; b++)
		k[b] = (unsigned char)(b ? i * 7 + b : i);
}

static void key_size_round_trip(__u32 type, __u32 ks)
{
	enum { N = 200 };
	int fd = bt_map_new(type, ks, 12, N, 0);
	unsigned char k[16], next[16], v[12], out[12];
	for (__u32 i = 0; i < N; i++) {
		small_key(k, ks, i);
		memset(v, (int)i, sizeof(v));
		cr_assert(eq(i64, bt_update(fd, k, v, BPF_NOEXIST), 0), "ks %u key %u", ks, i);
	}
	for (__u32 i = 0; i < N; i++) {
		small_key(k, ks, i);
		memset(v, (int)i, sizeof(v));
		cr_assert(eq(i64, bt_lookup(fd, k, out), 0), "ks %u key %u", ks, i);
		cr_assert(eq(i32, memcmp(out, v, sizeof(v)), 0), "ks %u key %u", ks, i);
	}
	/* every key once, its bytes whole */
	int seen[N] = { 0 }, n = 0;
	long r = bt_next_key(fd, NULL, next);
	while (r == 0) {
		__u32 i = next[0];
		cr_assert(lt(u32, i, N), "ks %u", ks);
		small_key(k, ks, i);
		cr_assert(eq(i32, memcmp(next, k, ks), 0), "ks %u key %u", ks, i);
		seen[i]++;
		cr_assert(le(i32, ++n, N), "walk does not end");
		memcpy(k, next, ks);
		r = bt_next_key(fd, k, next);
	}
	cr_assert(eq(i64, r, -ENOENT));
	for (int i = 0; i < N; i++)
		cr_assert(eq(i32, seen[i], 1), "ks %u key %d seen %d times", ks, i, seen[i]);
	/* odd keys out; even keys stay, values intact */
	for (__u32 i = 1; i < N; i += 2) {
		small_key(k, ks, i);
		cr_assert(eq(i64, bt_delete(fd, k), 0), "ks %u key %u", ks, i);
	}
	for (__u32 i = 0; i < N; i++) {
		small_key(k, ks, i);
		memset(v, (int)i, sizeof(v));
		long want = i & 1 ? -ENOENT : 0;
		cr_assert(eq(i64, bt_lookup(fd, k, out), want), "ks %u key %u", ks, i);
		if (!want)
			cr_assert(eq(i32, memcmp(out, v, sizeof(v)), 0), "ks %u key %u", ks, i);
	}
	close(fd);
}

BT_TEST(every_key_size_round_trips)
{
	static const __u32 sizes[] = { 1, 2, 3, 4, 5, 8, 12 };
	for (unsigned int s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		key_size_round_trip(BPF_MAP_TYPE_HASH, sizes[s]);
}

/* LRU eviction unlinks the oldest elements by their keys' hashes (computed
 * again from a key of at most 4 bytes): whatever survives is found by its key */
BT_TEST(lru_eviction_with_small_keys_keeps_chains_whole)
{
	static const __u32 sizes[] = { 2, 4, 8 };
	for (unsigned int s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		__u32 ks = sizes[s];
		int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, ks, 8, 16, 0);
		unsigned char k[8], next[8];
		for (__u32 i = 0; i < 100; i++) {
			__u64 v = i;
			small_key(k, ks, i);
			cr_assert(eq(i64, bt_update(fd, k, &v, BPF_ANY), 0), "ks %u key %u", ks, i);
		}
		int n = 0;
		long r = bt_next_key(fd, NULL, next);
		while (r == 0) {
			__u64 v = ~0ull;
			cr_assert(eq(i64, bt_lookup(fd, next, &v), 0), "ks %u", ks);
			cr_assert(eq(u64, v, next[0]), "ks %u", ks);
			cr_assert(le(i32, ++n, 16), "ks %u: more than max_entries", ks);
			memcpy(k, next, ks);
			r = bt_next_key(fd, k, next);
		}
		cr_assert(eq(i64, r, -ENOENT));
		cr_assert(gt(i32, n, 0), "ks %u", ks);
		/* the newest key was kept */
		__u64 v = 0;
		small_key(k, ks, 99);
		cr_assert(eq(i64, bt_lookup(fd, k, &v), 0), "ks %u", ks);
		cr_assert(eq(u64, v, 99), "ks %u", ks);
		close(fd);
	}
}
