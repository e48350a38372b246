/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_map_in_map.c: ARRAY_OF_MAPS and HASH_OF_MAPS (emu/fd_array.c, emu/map_in_map.c):
 * the inner-map template, compatibility of inserted maps, ids read back, and inner maps living
 * exactly as long as something holds them.
 */
#include <time.h>

#include "bt.h"

#define ENOTSUPP 524

static long mim_create(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags, int inner)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.inner_map_fd = (__u32)inner;
	return bt_map_create_attr(&a);
}

static int mim_new(__u32 type, __u32 ks, __u32 max, __u32 flags, int inner)
{
	long fd = mim_create(type, ks, 4, max, flags, inner);
	cr_assert(ge(i64, fd, 0), "map-in-map create: %s", strerror((int)-fd));
	return (int)fd;
}

static long fd_by_id(__u32 id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	return bt_bpf(BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
}

/* The kernel frees a map after an RCU grace period: wait up to 2 s for the id to go. */
static long fd_by_id_after_free(__u32 id)
{
	long r = 0;
	for (int i = 0; i < 200; i++) {
		r = fd_by_id(id);
		if (r < 0)
			return r;
		close((int)r);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return r;
}

struct create_case {
	__u32 type, key_size, value_size, max_entries, map_flags;
	int inner;              /* 0: an ARRAY 4/4/1, 1: -1, 2: /dev/null, 3: a PROG_ARRAY, 4: an ARRAY_OF_MAPS, 5: a HASH */
	long expected;
};

static struct create_case mim_create_cases[] = {
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 0, 0 },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 1, -EBADF },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 2, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 3, -ENOTSUPP },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 4, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 5, 0 },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 8, 4, 1, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 8, 1, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 0, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 8, 1, 0, 1, -EINVAL },     /* attr checks before the inner fd */
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, BPF_F_INNER_MAP, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, BPF_F_MMAPABLE, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, BPF_F_RDONLY_PROG, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, BPF_F_NUMA_NODE, 0, 0 },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, 0, 0, 0 },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 8, 4, 1, 0, 0, 0 },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 8, 1, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 0, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 0, 4, 1, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, BPF_F_NO_PREALLOC, 0, 0 },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, BPF_F_ZERO_SEED, 0, 0 },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, BPF_F_RDONLY_PROG, 0, 0 },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, BPF_F_INNER_MAP, 0, -EINVAL },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, 0, 1, -EBADF },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, 0, 3, -ENOTSUPP },
	{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1, 0, 4, -EINVAL },
};

ParameterizedTestParameters(unit, create_map_in_map_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, mim_create_cases, BT_ARRAY_SIZE(mim_create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_map_in_map_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	int arr = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int inner[] = {
		arr, -1, open("/dev/null", O_RDONLY), bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0),
		mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 1, 0, arr), bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 1, 0),
	};
	long r = mim_create(c->type, c->key_size, c->value_size, c->max_entries, c->map_flags, inner[c->inner]);
	if (c->expected == 0)
		cr_assert(ge(i64, r, 0), "type %u %u/%u/%u flags %#x inner %d: %s", c->type, c->key_size,
			  c->value_size, c->max_entries, c->map_flags, c->inner, strerror((int)-r));
	else
		cr_assert(eq(i64, r, c->expected), "type %u %u/%u/%u flags %#x inner %d", c->type, c->key_size,
			  c->value_size, c->max_entries, c->map_flags, c->inner);
}

/* ---- what may be inserted: the template's type, key and value size and flags; not max_entries ---- */

struct compat_case {
	__u32 type, key_size, value_size, max_entries, map_flags;   /* the inserted map; template ARRAY 4/4/1 */
	long expected;
};

static struct compat_case compat_cases[] = {
	{ BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0 },
	{ BPF_MAP_TYPE_ARRAY, 4, 4, 100, 0, -EINVAL },     /* arrays compare max_entries */
	{ BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_INNER_MAP, -EINVAL },
	{ BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY, 0 },  /* fd flags are not map flags */
	{ BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_WRONLY, 0 },
	{ BPF_MAP_TYPE_HASH, 4, 4, 1, 0, -EINVAL },
};

ParameterizedTestParameters(unit, update_array_of_maps_inner_compat_gives_kernel_errno)
{
	return cr_make_param_array(struct compat_case, compat_cases, BT_ARRAY_SIZE(compat_cases));
}

ParameterizedTest(struct compat_case *c, unit, update_array_of_maps_inner_compat_gives_kernel_errno,
		  .init = bt_setup, .fini = bt_teardown)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int in = bt_map_new(c->type, c->key_size, c->value_size, c->max_entries, c->map_flags);
	__u32 k = 0, v = (__u32)in;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), c->expected));
}

BT_TEST(update_hash_inner_max_entries_is_not_compared)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int big = bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 7, 0);
	int noprealloc = bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 1, BPF_F_NO_PREALLOC);
	__u32 k = 0, v = (__u32)big;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	v = (__u32)noprealloc;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -EINVAL));
}

BT_TEST(update_inner_map_template_flag_admits_other_sizes)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_INNER_MAP);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int big = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 5, BPF_F_INNER_MAP);
	int plain = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	__u32 k = 0, v = (__u32)big;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	v = (__u32)plain;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -EINVAL));
}

BT_TEST(array_of_maps_update_lookup_gives_inner_id)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int in = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int devnull = open("/dev/null", O_RDONLY);
	int prog_arr = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0);
	__u32 k = 0, v, out = 0;

	v = (__u32)-1;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -EBADF));
	v = (__u32)devnull;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -EINVAL));
	v = (__u32)prog_arr;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -EINVAL));
	v = (__u32)outer;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -EINVAL));
	cr_assert(eq(i64, bt_lookup(outer, &k, &out), -ENOENT));
	v = (__u32)in;
	cr_assert(eq(i64, bt_update(outer, &k, &v, BPF_NOEXIST), -EINVAL));
	cr_assert(eq(i64, bt_update(outer, &k, &v, BPF_EXIST), -EINVAL));
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_lookup(outer, &k, &out), 0));
	cr_assert(eq(u32, out, bt_map_id(in)));
	k = 2;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), -E2BIG));
	cr_assert(eq(i64, bt_lookup(outer, &k, &out), -ENOENT));
	cr_assert(eq(i64, bt_delete(outer, &k), -E2BIG));
	k = 0;
	cr_assert(eq(i64, bt_lookup_and_delete(outer, &k, &out), -ENOTSUPP));
	cr_assert(eq(i64, bt_delete(outer, &k), 0));
	cr_assert(eq(i64, bt_delete(outer, &k), -ENOENT));
}

BT_TEST(hash_of_maps_update_lookup_flags_follow_hash_rules)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_HASH_OF_MAPS, 4, 2, 0, tmpl);
	int in = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	__u32 k = 0, k5 = 5, k1 = 1, v = (__u32)in, out = 0, next = 0;

	cr_assert(eq(i64, bt_next_key(outer, NULL, &next), -ENOENT));
	cr_assert(eq(i64, bt_update(outer, &k, &v, BPF_EXIST), -ENOENT));
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_update(outer, &k5, &v, 0), 0));
	cr_assert(eq(i64, bt_update(outer, &k, &v, BPF_NOEXIST), -EEXIST));
	cr_assert(eq(i64, bt_update(outer, &k, &v, BPF_EXIST), 0));
	cr_assert(eq(i64, bt_update(outer, &k, &v, 4), -EINVAL));
	cr_assert(eq(i64, bt_update(outer, &k1, &v, BPF_NOEXIST), -E2BIG));   /* full */
	v = (__u32)-1;
	cr_assert(eq(i64, bt_update(outer, &k, &v, BPF_NOEXIST), -EBADF));    /* the fd before the flags */
	cr_assert(eq(i64, bt_lookup(outer, &k5, &out), 0));
	cr_assert(eq(u32, out, bt_map_id(in)));
	cr_assert(eq(i64, bt_lookup_and_delete(outer, &k5, &out), -ENOTSUPP));
	cr_assert(eq(i64, bt_delete(outer, &k5), 0));
	cr_assert(eq(i64, bt_delete(outer, &k5), -ENOENT));
	cr_assert(eq(i64, bt_lookup(outer, &k5, &out), -ENOENT));
}

/* ---- lifetime: the slot keeps the inner map, the outer map's end releases it ---- */

BT_TEST(inner_map_lives_while_a_slot_holds_it)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int in = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	__u32 k = 0, v = (__u32)in, val = 42, id = bt_map_id(in);

	cr_assert(eq(i64, bt_update(in, &k, &val, 0), 0));
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	bt_close(in);
	long fd = fd_by_id(id);
	cr_assert(ge(i64, fd, 0), "inner map by id: %s", strerror((int)-fd));
	val = 0;
	cr_assert(eq(i64, bt_lookup((int)fd, &k, &val), 0));
	cr_assert(eq(u32, val, 42));
	bt_close((int)fd);
	cr_assert(eq(i64, bt_delete(outer, &k), 0));
	cr_assert(eq(i64, fd_by_id_after_free(id), -ENOENT));
}

BT_TEST(inner_map_replaced_in_its_slot_is_released)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_HASH_OF_MAPS, 8, 4, 0, tmpl);
	int a = bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 1, 0), b = bt_map_new(BPF_MAP_TYPE_HASH, 4, 4, 1, 0);
	__u64 k = 7;
	__u32 ida = bt_map_id(a), idb = bt_map_id(b), v = (__u32)a;

	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	k = 8;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));   /* a in two slots */
	bt_close(a);
	v = (__u32)b;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));   /* one slot of a left */
	long fd = fd_by_id(ida);
	cr_assert(ge(i64, fd, 0));
	bt_close((int)fd);
	k = 7;
	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));   /* none left */
	cr_assert(eq(i64, fd_by_id_after_free(ida), -ENOENT));
	bt_close(b);
	fd = fd_by_id(idb);
	cr_assert(ge(i64, fd, 0));
	bt_close((int)fd);
}

BT_TEST(inner_map_released_when_outer_map_is_gone)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int in = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	__u32 k = 1, v = (__u32)in, id = bt_map_id(in), oid = bt_map_id(outer);

	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	bt_close(in);
	bt_close(tmpl);
	bt_close(outer);
	cr_assert(eq(i64, fd_by_id_after_free(oid), -ENOENT));
	cr_assert(eq(i64, fd_by_id_after_free(id), -ENOENT));
}

BT_TEST(inner_map_kept_by_pinned_outer_map)
{
	int tmpl = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int outer = mim_new(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 2, 0, tmpl);
	int in = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	__u32 k = 1, v = (__u32)in, id = bt_map_id(in);

	cr_assert(eq(i64, bt_update(outer, &k, &v, 0), 0));
	cr_assert(eq(i64, bt_pin(outer, "/sys/fs/bpf/mim_outer"), 0));
	bt_close(in);
	bt_close(outer);
	long fd = fd_by_id(id);
	cr_assert(ge(i64, fd, 0), "inner of a pinned outer map: %s", strerror((int)-fd));
	bt_close((int)fd);
	fd = bt_get("/sys/fs/bpf/mim_outer", 0);
	cr_assert(ge(i64, fd, 0));
	v = 0;
	cr_assert(eq(i64, bt_lookup((int)fd, &k, &v), 0));
	cr_assert(eq(u32, v, id));
	bt_close((int)fd);
}
