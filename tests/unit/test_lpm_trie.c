/* SPDX-License-Identifier: MIT */
/* tests/unit/test_lpm_trie.c: LPM_TRIE (emu/lpm_trie.c), as the kernel answers. */
#include "bt.h"

struct lk {
	__u32 plen;
	__u8 d[4];
};

struct create_case {
	__u32 key_size, value_size, max_entries, map_flags;
	long expected;
};

static struct create_case create_cases[] = {
	{ 8, 4, 16, BPF_F_NO_PREALLOC, 0 },
	{ 8, 4, 16, 0, -EINVAL },                             /* BPF_F_NO_PREALLOC is required */
	{ 4, 4, 16, BPF_F_NO_PREALLOC, -EINVAL },             /* no data byte */
	{ 5, 4, 16, BPF_F_NO_PREALLOC, 0 },
	{ 260, 4, 16, BPF_F_NO_PREALLOC, 0 },                 /* 256 data bytes */
	{ 261, 4, 16, BPF_F_NO_PREALLOC, -EINVAL },
	{ 8, 0, 16, BPF_F_NO_PREALLOC, -EINVAL },
	{ 8, 4, 0, BPF_F_NO_PREALLOC, -EINVAL },
	{ 8, (1u << 22) - 256 - 24, 16, BPF_F_NO_PREALLOC, 0 },
	{ 8, (1u << 22) - 256 - 23, 16, BPF_F_NO_PREALLOC, -EINVAL },
	{ 8, 4, 16, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE, 0 },
	{ 8, 4, 16, BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG, 0 },
	{ 8, 4, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, -EINVAL },
	{ 8, 4, 16, BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU, -EINVAL },
};

ParameterizedTestParameters(unit, create_lpm_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, create_cases, BT_ARRAY_SIZE(create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_lpm_attr_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	long r = bt_map_create(BPF_MAP_TYPE_LPM_TRIE, c->key_size, c->value_size, c->max_entries, c->map_flags);
	if (c->expected == 0)
		cr_assert(ge(i64, r, 0), "lpm %u/%u/%u flags %#x: %s", c->key_size, c->value_size, c->max_entries,
			  c->map_flags, strerror((int)-r));
	else
		cr_assert(eq(i64, r, c->expected), "lpm %u/%u/%u flags %#x", c->key_size, c->value_size,
			  c->max_entries, c->map_flags);
}

static struct lk K(__u32 plen, __u8 a, __u8 b, __u8 c, __u8 d)
{
	struct lk k = { plen, { a, b, c, d } };
	return k;
}

static int trie(__u32 max)
{
	return bt_map_new(BPF_MAP_TYPE_LPM_TRIE, 8, 4, max, BPF_F_NO_PREALLOC);
}

static void put(int fd, struct lk k, __u32 v)
{
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0), "update /%u", k.plen);
}

static long get(int fd, struct lk k, __u32 *out)
{
	return bt_lookup(fd, &k, out);
}

BT_TEST(lookup_returns_longest_matching_prefix)
{
	int fd = trie(16);
	__u32 out = 0;
	put(fd, K(8, 10, 0, 0, 0), 8);
	put(fd, K(16, 10, 1, 0, 0), 16);
	put(fd, K(24, 10, 1, 2, 0), 24);
	put(fd, K(0, 0, 0, 0, 0), 99);                        /* default route */
	cr_assert(eq(i64, get(fd, K(32, 10, 1, 2, 3), &out), 0));
	cr_assert(eq(u32, out, 24));
	cr_assert(eq(i64, get(fd, K(32, 10, 1, 3, 3), &out), 0));
	cr_assert(eq(u32, out, 16));
	cr_assert(eq(i64, get(fd, K(32, 10, 2, 0, 0), &out), 0));
	cr_assert(eq(u32, out, 8));
	cr_assert(eq(i64, get(fd, K(32, 11, 0, 0, 0), &out), 0));
	cr_assert(eq(u32, out, 99));
	cr_assert(eq(i64, get(fd, K(12, 10, 1, 2, 3), &out), 0));   /* only /8 fits in 12 bits */
	cr_assert(eq(u32, out, 8));
}

BT_TEST(lookup_without_match_or_with_long_prefix_is_enoent)
{
	int fd = trie(16);
	__u32 out = 0;
	put(fd, K(16, 192, 168, 0, 0), 1);
	cr_assert(eq(i64, get(fd, K(32, 10, 0, 0, 1), &out), -ENOENT));
	cr_assert(eq(i64, get(fd, K(33, 192, 168, 0, 0), &out), -ENOENT));
}

BT_TEST(get_next_key_walks_in_kernel_post_order)
{
	int fd = trie(16);
	put(fd, K(16, 192, 168, 0, 0), 1);
	put(fd, K(24, 192, 168, 0, 0), 2);
	put(fd, K(24, 192, 168, 128, 0), 3);
	put(fd, K(24, 192, 168, 1, 0), 4);
	struct lk want[] = { K(24, 192, 168, 0, 0), K(24, 192, 168, 1, 0), K(24, 192, 168, 128, 0),
			     K(16, 192, 168, 0, 0) };
	struct lk cur, next;
	void *key = NULL;
	for (size_t i = 0; i < BT_ARRAY_SIZE(want); i++) {
		memset(&next, 0xa5, sizeof(next));
		cr_assert(eq(i64, bt_next_key(fd, key, &next), 0));
		cr_assert(eq(u32, next.plen, want[i].plen), "step %zu", i);
		cr_assert(eq(u32, *(__u32 *)next.d, *(__u32 *)want[i].d), "step %zu", i);
		cur = next;
		key = &cur;
	}
	cr_assert(eq(i64, bt_next_key(fd, key, &next), -ENOENT));
	/* an absent key, an intermediate node's prefix, or an invalid prefixlen start over */
	struct lk absent = K(8, 1, 0, 0, 0), im = K(23, 192, 168, 0, 0), bad = K(33, 0, 0, 0, 0);
	cr_assert(eq(i64, bt_next_key(fd, &absent, &next), 0));
	cr_assert(eq(u32, next.plen, 24));
	cr_assert(eq(u32, next.d[2], 0));
	cr_assert(eq(i64, bt_next_key(fd, &im, &next), 0));
	cr_assert(eq(u32, next.d[2], 0));
	cr_assert(eq(i64, bt_next_key(fd, &bad, &next), 0));
	cr_assert(eq(u32, next.d[2], 0));
}

BT_TEST(get_next_key_on_empty_trie_is_enoent)
{
	int fd = trie(4);
	struct lk next;
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), -ENOENT));
}

BT_TEST(update_flags_full_trie_and_prefix_checks)
{
	int fd = trie(3);
	__u32 v = 5;
	put(fd, K(16, 192, 168, 0, 0), 1);
	put(fd, K(24, 192, 168, 0, 0), 2);
	put(fd, K(24, 192, 168, 128, 0), 3);
	struct lk k1 = K(16, 192, 168, 0, 0), k4 = K(24, 192, 168, 1, 0), k33 = K(33, 0, 0, 0, 0);
	cr_assert(eq(i64, bt_update(fd, &k4, &v, BPF_ANY), -ENOSPC));
	cr_assert(eq(i64, bt_update(fd, &k1, &v, BPF_ANY), 0));      /* replacing needs no room */
	cr_assert(eq(i64, bt_update(fd, &k1, &v, BPF_NOEXIST), -EEXIST));
	cr_assert(eq(i64, bt_update(fd, &k4, &v, BPF_EXIST), -ENOENT));
	cr_assert(eq(i64, bt_update(fd, &k33, &v, BPF_ANY), -EINVAL));
	cr_assert(eq(i64, bt_update(fd, &k1, &v, 3), -EINVAL));
	__u32 out = 0;
	cr_assert(eq(i64, get(fd, k1, &out), 0));
	cr_assert(eq(u32, out, 5));
}

BT_TEST(delete_is_exact_and_keeps_the_rest)
{
	int fd = trie(8);
	put(fd, K(16, 192, 168, 0, 0), 1);
	put(fd, K(24, 192, 168, 0, 0), 2);
	put(fd, K(24, 192, 168, 1, 0), 3);
	struct lk im = K(23, 192, 168, 0, 0), k33 = K(33, 0, 0, 0, 0), k16 = K(16, 192, 168, 0, 0),
		  k24 = K(24, 192, 168, 0, 0);
	cr_assert(eq(i64, bt_delete(fd, &im), -ENOENT));             /* intermediate node */
	cr_assert(eq(i64, bt_delete(fd, &k33), -EINVAL));
	cr_assert(eq(i64, bt_delete(fd, &k16), 0));
	cr_assert(eq(i64, bt_delete(fd, &k16), -ENOENT));
	__u32 out = 0;
	cr_assert(eq(i64, get(fd, K(32, 192, 168, 1, 9), &out), 0));
	cr_assert(eq(u32, out, 3));
	cr_assert(eq(i64, get(fd, K(32, 192, 168, 2, 9), &out), -ENOENT));
	cr_assert(eq(i64, bt_delete(fd, &k24), 0));
	cr_assert(eq(i64, get(fd, K(32, 192, 168, 0, 9), &out), -ENOENT));
	cr_assert(eq(i64, get(fd, K(32, 192, 168, 1, 9), &out), 0));
	/* the freed room is usable again */
	put(fd, K(8, 10, 0, 0, 0), 4);
	put(fd, K(8, 11, 0, 0, 0), 5);
}

BT_TEST(lookup_and_delete_is_enotsupp)
{
	int fd = trie(4);
	put(fd, K(8, 10, 0, 0, 0), 1);
	struct lk k = K(8, 10, 0, 0, 0);
	__u32 out;
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, &out), -524));
}
