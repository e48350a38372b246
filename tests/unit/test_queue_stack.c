/* SPDX-License-Identifier: MIT */
/* tests/unit/test_queue_stack.c: QUEUE and STACK (emu/queue_stack.c), as the kernel answers. */
#include "bt.h"

struct create_case {
	__u32 type, key_size, value_size, max_entries, map_flags;
	long expected;
};

static struct create_case create_cases[] = {
	{ BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0, 0 },
	{ BPF_MAP_TYPE_QUEUE, 4, 4, 3, 0, -EINVAL },                 /* keys are absent */
	{ BPF_MAP_TYPE_QUEUE, 0, 0, 3, 0, -EINVAL },
	{ BPF_MAP_TYPE_QUEUE, 0, 4, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_QUEUE, 0, 4, 3, BPF_F_NO_PREALLOC, -EINVAL },
	{ BPF_MAP_TYPE_QUEUE, 0, 4, 3, BPF_F_NUMA_NODE, 0 },
	{ BPF_MAP_TYPE_QUEUE, 0, 4, 3, BPF_F_RDONLY_PROG, 0 },
	{ BPF_MAP_TYPE_QUEUE, 0, 4, 3, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, -EINVAL },
	{ BPF_MAP_TYPE_QUEUE, 0, (1u << 22) + 1, 3, 0, -E2BIG },
	{ BPF_MAP_TYPE_QUEUE, 0, 1u << 22, 1, 0, 0 },
	{ BPF_MAP_TYPE_STACK, 0, 4, 3, 0, 0 },
	{ BPF_MAP_TYPE_STACK, 4, 4, 3, 0, -EINVAL },
	{ BPF_MAP_TYPE_STACK, 0, 4, 3, BPF_F_ZERO_SEED, -EINVAL },
	{ BPF_MAP_TYPE_STACK, 0, (1u << 22) + 1, 3, 0, -E2BIG },
};

ParameterizedTestParameters(unit, create_queue_stack_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, create_cases, BT_ARRAY_SIZE(create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_queue_stack_attr_grid_gives_kernel_errno, .init = bt_setup,
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

static long push(int fd, __u32 v, __u64 flags) { return bt_update(fd, NULL, &v, flags); }

BT_TEST(pop_queue_returns_oldest_first)
{
	int fd = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 4, 8, 0);
	for (__u32 i = 1; i <= 3; i++)
		cr_assert(eq(i64, push(fd, i, BPF_ANY), 0));
	for (__u32 i = 1; i <= 3; i++) {
		__u32 out = 0;
		cr_assert(eq(i64, bt_lookup_and_delete(fd, NULL, &out), 0));
		cr_assert(eq(u32, out, i));
	}
}

BT_TEST(pop_stack_returns_newest_first)
{
	int fd = bt_map_new(BPF_MAP_TYPE_STACK, 0, 4, 8, 0);
	for (__u32 i = 1; i <= 3; i++)
		cr_assert(eq(i64, push(fd, i, BPF_ANY), 0));
	for (__u32 i = 3; i >= 1; i--) {
		__u32 out = 0;
		cr_assert(eq(i64, bt_lookup_and_delete(fd, NULL, &out), 0));
		cr_assert(eq(u32, out, i));
	}
}

BT_TEST(peek_queue_and_stack_do_not_remove)
{
	int q = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 4, 4, 0), s = bt_map_new(BPF_MAP_TYPE_STACK, 0, 4, 4, 0);
	__u32 out = 0;
	push(q, 10, 0), push(q, 20, 0), push(s, 10, 0), push(s, 20, 0);
	for (int i = 0; i < 2; i++) {
		cr_assert(eq(i64, bt_lookup(q, NULL, &out), 0));
		cr_assert(eq(u32, out, 10));
		cr_assert(eq(i64, bt_lookup(s, NULL, &out), 0));
		cr_assert(eq(u32, out, 20));
	}
}

BT_TEST(empty_peek_and_pop_are_enoent_and_leave_value)
{
	int fd = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 4, 2, 0);
	__u32 out = 0xa5a5a5a5u;
	cr_assert(eq(i64, bt_lookup(fd, NULL, &out), -ENOENT));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, NULL, &out), -ENOENT));
	cr_assert(eq(u32, out, 0xa5a5a5a5u));
}

BT_TEST(push_full_is_e2big_and_exist_overwrites_oldest)
{
	int q = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0), s = bt_map_new(BPF_MAP_TYPE_STACK, 0, 4, 3, 0);
	for (__u32 i = 1; i <= 3; i++) {
		cr_assert(eq(i64, push(q, i, 0), 0));
		cr_assert(eq(i64, push(s, i, 0), 0));
	}
	cr_assert(eq(i64, push(q, 4, 0), -E2BIG));
	cr_assert(eq(i64, push(q, 5, BPF_EXIST), 0));
	cr_assert(eq(i64, push(s, 5, BPF_EXIST), 0));
	__u32 qwant[] = { 2, 3, 5 }, swant[] = { 5, 3, 2 }, out;
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(i64, bt_lookup_and_delete(q, NULL, &out), 0));
		cr_assert(eq(u32, out, qwant[i]));
		cr_assert(eq(i64, bt_lookup_and_delete(s, NULL, &out), 0));
		cr_assert(eq(u32, out, swant[i]));
	}
	cr_assert(eq(i64, bt_lookup_and_delete(q, NULL, &out), -ENOENT));
}

BT_TEST(queue_wraps_around_its_ring)
{
	int fd = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0);
	__u32 next = 1, want = 1, out;
	for (int round = 0; round < 10; round++) {
		cr_assert(eq(i64, push(fd, next++, 0), 0));
		cr_assert(eq(i64, push(fd, next++, 0), 0));
		for (int i = 0; i < 2; i++) {
			cr_assert(eq(i64, bt_lookup_and_delete(fd, NULL, &out), 0));
			cr_assert(eq(u32, out, want++));
		}
	}
}

struct op_case {
	int op;                 /* 0 push, 1 peek with key, 2 delete, 3 next key, 4 pop with flags */
	__u64 flags;
	long expected;
};

static struct op_case op_cases[] = {
	{ 0, BPF_NOEXIST, -EINVAL }, { 0, BPF_F_LOCK, -EINVAL }, { 0, 3, -EINVAL }, { 0, 8, -EINVAL },
	{ 1, 0, -EINVAL }, { 2, 0, -EINVAL }, { 3, 0, -EINVAL }, { 4, BPF_F_LOCK, -EINVAL }, { 4, 1, -EINVAL },
};

ParameterizedTestParameters(unit, queue_ops_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct op_case, op_cases, BT_ARRAY_SIZE(op_cases));
}

ParameterizedTest(struct op_case *c, unit, queue_ops_grid_gives_kernel_errno, .init = bt_setup, .fini = bt_teardown)
{
	int fd = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0);
	__u32 v = 1, key = 0, out;
	cr_assert(eq(i64, push(fd, 7, 0), 0));
	long r = 0;
	switch (c->op) {
	case 0: r = bt_update(fd, NULL, &v, c->flags); break;
	case 1: r = bt_lookup(fd, &key, &out); break;
	case 2: r = bt_delete(fd, NULL); break;
	case 3: r = bt_next_key(fd, NULL, &out); break;
	case 4: r = bt_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, NULL, &out, c->flags); break;
	}
	cr_assert(eq(i64, r, c->expected), "op %d flags %llu", c->op, (unsigned long long)c->flags);
	cr_assert(eq(i64, bt_lookup(fd, NULL, &out), 0));     /* the element is still there */
	cr_assert(eq(u32, out, 7));
}

BT_TEST(info_reports_key_size_zero)
{
	int fd = bt_map_new(BPF_MAP_TYPE_STACK, 0, 12, 5, 0);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.type, BPF_MAP_TYPE_STACK));
	cr_assert(eq(u32, info.key_size, 0));
	cr_assert(eq(u32, info.value_size, 12));
	cr_assert(eq(u32, info.max_entries, 5));
}
