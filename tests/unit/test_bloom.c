/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bloom.c: BLOOM_FILTER (emu/bloom.c), as the kernel answers. */
#include "bt.h"

static long bloom_create(__u32 ks, __u32 vs, __u32 max, __u32 flags, __u64 extra)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_BLOOM_FILTER;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	return bt_map_create_attr(&a);
}

struct create_case {
	__u32 key_size, value_size, max_entries, map_flags;
	__u64 map_extra;
	long expected;
};

static struct create_case create_cases[] = {
	{ 0, 4, 100, 0, 0, 0 },
	{ 0, 4, 100, 0, 1, 0 },
	{ 0, 4, 100, 0, 15, 0 },
	{ 0, 4, 100, 0, 16, -EINVAL },             /* only the low 4 bits count hashes */
	{ 0, 4, 100, 0, 0x100, -EINVAL },
	{ 4, 4, 100, 0, 0, -EINVAL },              /* keys are absent */
	{ 0, 0, 100, 0, 0, -EINVAL },
	{ 0, 4, 0, 0, 0, -EINVAL },
	{ 0, 4, 100, BPF_F_NO_PREALLOC, 0, -EINVAL },
	{ 0, 4, 100, BPF_F_ZERO_SEED, 0, 0 },
	{ 0, 4, 100, BPF_F_NUMA_NODE, 0, 0 },
	{ 0, (1u << 22) + 1, 100, 0, 0, -E2BIG },  /* the size check comes first */
	{ 4, (1u << 22) + 1, 100, 0, 0, -E2BIG },
	{ 0, 8, 0xffffffffu, 0, 0, 0 },            /* the bit array is capped at 2^32 bits */
};

ParameterizedTestParameters(unit, create_bloom_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, create_cases, BT_ARRAY_SIZE(create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_bloom_attr_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	long r = bloom_create(c->key_size, c->value_size, c->max_entries, c->map_flags, c->map_extra);
	if (c->expected == 0)
		cr_assert(ge(i64, r, 0), "%u/%u/%u flags %#x extra %llu: %s", c->key_size, c->value_size,
			  c->max_entries, c->map_flags, (unsigned long long)c->map_extra, strerror((int)-r));
	else
		cr_assert(eq(i64, r, c->expected), "%u/%u/%u flags %#x extra %llu", c->key_size, c->value_size,
			  c->max_entries, c->map_flags, (unsigned long long)c->map_extra);
}

BT_TEST(peek_empty_filter_is_enoent)
{
	int fd = (int)bloom_create(0, 4, 100, 0, 3);
	cr_assert(ge(i32, fd, 0));
	__u32 v = 7;
	cr_assert(eq(i64, bt_lookup(fd, NULL, &v), -ENOENT));
}

BT_TEST(peek_pushed_values_has_no_false_negatives)
{
	int fd = (int)bloom_create(0, 8, 1000, 0, 0);
	cr_assert(ge(i32, fd, 0));
	for (__u64 v = 0; v < 1000; v++)
		cr_assert(eq(i64, bt_update(fd, NULL, &v, BPF_ANY), 0));
	for (__u64 v = 0; v < 1000; v++) {
		__u64 in = v;
		cr_assert(eq(i64, bt_lookup(fd, NULL, &in), 0), "value %llu pushed but not found",
			  (unsigned long long)v);
		cr_assert(eq(u64, in, v));     /* the value is input only */
	}
}

/* 1000 values, 5 hashes: 8192 bits (1000 * 5 * 7 / 5, rounded up to a power
 * of two), so the textbook rate is (1 - e^(-5000/8192))^5 ~ 1.2%; 20000
 * probes of absent values should see well under 3%. */
BT_TEST(peek_absent_values_false_positive_rate_within_bound)
{
	int fd = (int)bloom_create(0, 8, 1000, 0, 5);
	cr_assert(ge(i32, fd, 0));
	for (__u64 v = 0; v < 1000; v++)
		cr_assert(eq(i64, bt_update(fd, NULL, &v, BPF_ANY), 0));
	unsigned int fp = 0;
	for (__u64 v = 1000000; v < 1020000; v++) {
		__u64 in = v;
		long r = bt_lookup(fd, NULL, &in);
		cr_assert(r == 0 || r == -ENOENT);
		fp += r == 0;
	}
	cr_assert(lt(u32, fp, 600), "%u false positives in 20000", fp);
}

struct op_case {
	int op;                 /* 0 push flags, 1 with a key, 2 delete, 3 next key, 4 lookup_and_delete, 5 peek NULL value */
	__u64 flags;
	long expected;
};

static struct op_case op_cases[] = {
	{ 0, BPF_ANY, 0 }, { 0, BPF_NOEXIST, -EINVAL }, { 0, BPF_EXIST, -EINVAL }, { 0, BPF_F_LOCK, -EINVAL },
	{ 1, 0, -EINVAL }, { 2, 0, -EOPNOTSUPP }, { 3, 0, -EOPNOTSUPP }, { 4, 0, -524 /* ENOTSUPP */ },
	{ 5, 0, -EFAULT },
};

ParameterizedTestParameters(unit, bloom_ops_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct op_case, op_cases, BT_ARRAY_SIZE(op_cases));
}

ParameterizedTest(struct op_case *c, unit, bloom_ops_grid_gives_kernel_errno, .init = bt_setup, .fini = bt_teardown)
{
	int fd = (int)bloom_create(0, 4, 100, 0, 0);
	cr_assert(ge(i32, fd, 0));
	__u32 v = 1, key = 0, out;
	long r = 0;
	switch (c->op) {
	case 0: r = bt_update(fd, NULL, &v, c->flags); break;
	case 1: r = bt_lookup(fd, &key, &v); break;
	case 2: r = bt_delete(fd, NULL); break;
	case 3: r = bt_next_key(fd, NULL, &out); break;
	case 4: r = bt_lookup_and_delete(fd, NULL, &out); break;
	case 5: r = bt_lookup(fd, NULL, NULL); break;
	}
	cr_assert(eq(i64, r, c->expected), "op %d flags %llu", c->op, (unsigned long long)c->flags);
}

BT_TEST(info_reports_map_extra)
{
	int fd = (int)bloom_create(0, 4, 100, 0, 7);
	cr_assert(ge(i32, fd, 0));
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.type, BPF_MAP_TYPE_BLOOM_FILTER));
	cr_assert(eq(u64, info.map_extra, 7));
}
