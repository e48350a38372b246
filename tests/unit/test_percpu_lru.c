/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_percpu_lru.c: PERCPU_HASH, PERCPU_ARRAY, LRU_HASH and
 * LRU_PERCPU_HASH (emu/hashtab.c, emu/arraymap.c), as the kernel answers.
 * LRU eviction depends on the CPU the caller runs on; tests pin themselves
 * to CPU 0 so the kernel's answers are repeatable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include "bt.h"

static unsigned int ncpus(void) { return bt_possible_cpus(); }

static void pin_cpu0(void)
{
	bt_setup();
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(0, &s);
	cr_assert(eq(int, sched_setaffinity(0, sizeof(s), &s), 0));
}

#define LRU_TEST(name) Test(unit, name, .init = pin_cpu0, .fini = bt_teardown)

struct create_case {
	__u32 type, key_size, value_size, max_entries, map_flags;
	long expected;
};

static struct create_case create_cases[] = {
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, 0, 0 },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, 0 },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NUMA_NODE, -EINVAL },  /* numa node 0 on per-CPU */
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 32768, 16, 0, 0 },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 16, 0, -E2BIG },             /* PCPU_MIN_UNIT_SIZE */
	{ BPF_MAP_TYPE_PERCPU_HASH, 0, 8, 16, 0, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, 0, 0 },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 8, 8, 16, 0, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_NO_PREALLOC, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_MMAPABLE, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_INNER_MAP, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_NUMA_NODE, -EINVAL },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32768, 2, 0, 0 },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 2, 0, -E2BIG },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, 0, 0 },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, -524 },     /* ENOTSUPP */
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU, 0 },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NUMA_NODE, 0 },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NUMA_NODE | BPF_F_NO_COMMON_LRU, -EINVAL },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_MMAPABLE, -EINVAL },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 0, 0, -EINVAL },
	{ BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, 0, 0 },
	{ BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, -524 },
	{ BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, BPF_F_NUMA_NODE, -EINVAL },
	{ BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 32769, 16, 0, -E2BIG },
};

ParameterizedTestParameters(unit, create_percpu_lru_attr_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, create_cases, BT_ARRAY_SIZE(create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_percpu_lru_attr_grid_gives_kernel_errno, .init = bt_setup,
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

/* Per-CPU values: round_up(value_size, 8) per possible CPU, padding included. */
static void percpu_roundtrip(__u32 type)
{
	unsigned int n = ncpus();
	int fd = bt_map_new(type, 4, 12, 4, 0);
	size_t sz = 16u * n;
	unsigned char *in = malloc(sz), *out = malloc(sz + 16);
	for (size_t i = 0; i < sz; i++)
		in[i] = (unsigned char)(i * 7 + 1);
	memset(out, 0xa5, sz + 16);
	__u32 k = 1;
	cr_assert(eq(i64, bt_update(fd, &k, in, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, out), 0));
	cr_assert(eq(int, memcmp(in, out, sz), 0), "per-CPU bytes differ");
	cr_assert(eq(u8, out[sz], 0xa5), "wrote past %zu bytes", sz);
	free(in);
	free(out);
}

BT_TEST(lookup_percpu_hash_returns_every_cpu_slot) { percpu_roundtrip(BPF_MAP_TYPE_PERCPU_HASH); }
BT_TEST(lookup_percpu_array_returns_every_cpu_slot) { percpu_roundtrip(BPF_MAP_TYPE_PERCPU_ARRAY); }
LRU_TEST(lookup_lru_percpu_hash_returns_every_cpu_slot) { percpu_roundtrip(BPF_MAP_TYPE_LRU_PERCPU_HASH); }

BT_TEST(percpu_array_unset_index_reads_zeroes_and_errnos_match_array)
{
	unsigned int n = ncpus();
	int fd = bt_map_new(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2, 0);
	__u64 *out = calloc(n, 8), *in = calloc(n, 8);
	__u32 k = 1, big = 2;
	memset(out, 0xa5, 8 * n);
	cr_assert(eq(i64, bt_lookup(fd, &k, out), 0));
	for (unsigned int i = 0; i < n; i++)
		cr_assert(eq(u64, out[i], 0));
	cr_assert(eq(i64, bt_lookup(fd, &big, out), -ENOENT));
	cr_assert(eq(i64, bt_update(fd, &big, in, BPF_ANY), -E2BIG));
	cr_assert(eq(i64, bt_update(fd, &k, in, BPF_NOEXIST), -EEXIST));
	cr_assert(eq(i64, bt_delete(fd, &k), -EINVAL));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &k, out), -524));
	free(out);
	free(in);
}

BT_TEST(percpu_hash_full_map_still_updates_existing_key)
{
	unsigned int n = ncpus();
	int fd = bt_map_new(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 2, 0);
	__u64 *v = calloc(n, 8);
	__u32 k;
	for (k = 0; k < 2; k++)
		cr_assert(eq(i64, bt_update(fd, &k, v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(fd, &k, v, BPF_ANY), -E2BIG));
	k = 1;
	v[0] = 42;
	cr_assert(eq(i64, bt_update(fd, &k, v, BPF_EXIST), 0));
	memset(v, 0, 8 * n);
	cr_assert(eq(i64, bt_lookup(fd, &k, v), 0));
	cr_assert(eq(u64, v[0], 42));
	free(v);
}

static int count_keys(int fd)
{
	__u32 k, n;
	void *p = NULL;
	int c = 0;
	while (bt_next_key(fd, p, &n) == 0 && c < 100000) {
		c++;
		k = n;
		p = &k;
	}
	return c;
}

static void *zero_value(void) { return calloc(ncpus(), 16); }

/* max_entries 100 on a common LRU: batches of clamp(100 / CPUs / 2, 1, 128) */
LRU_TEST(update_full_lru_evicts_a_batch_of_oldest)
{
	unsigned int n = ncpus();
	__u32 target = 100 / n / 2;
	target = target < 1 ? 1 : target > 128 ? 128 : target;
	for (int t = 0; t < 2; t++) {
		int fd = bt_map_new(t ? BPF_MAP_TYPE_LRU_PERCPU_HASH : BPF_MAP_TYPE_LRU_HASH, 4, 8, 100, 0);
		void *v = zero_value();
		for (__u32 k = 0; k < 100; k++)
			cr_assert(eq(i64, bt_update(fd, &k, v, BPF_ANY), 0), "key %u", k);
		cr_assert(eq(int, count_keys(fd), 100));
		__u32 k = 100;
		cr_assert(eq(i64, bt_update(fd, &k, v, BPF_ANY), 0));     /* evicts instead of E2BIG */
		cr_assert(eq(int, count_keys(fd), (int)(100 - target + 1)));
		for (__u32 old = 0; old < target; old++)
			cr_assert(eq(i64, bt_lookup(fd, &old, v), -ENOENT), "key %u should be evicted", old);
		cr_assert(eq(i64, bt_lookup(fd, &target, v), 0));
		free(v);
		bt_close(fd);
	}
}

/* Per-CPU lists: each holds max_entries / CPUs and evicts 4 at a time. */
LRU_TEST(update_full_no_common_lru_uses_this_cpus_share)
{
	unsigned int n = ncpus();
	int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, 4, 8, 16 * n, BPF_F_NO_COMMON_LRU);
	__u64 v = 0;
	for (__u32 k = 0; k < 16; k++)
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(int, count_keys(fd), 16));
	__u32 k = 16;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(int, count_keys(fd), 13));
}

LRU_TEST(create_no_common_lru_rounds_max_entries_to_cpus)
{
	unsigned int n = ncpus();
	int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, 4, 8, n + 1, BPF_F_NO_COMMON_LRU);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.max_entries, 2 * n));
}

static __u32 common_target(__u32 max)
{
	__u32 t = max / ncpus() / 2;
	return t < 1 ? 1 : t > 128 ? 128 : t;
}

/* Updates refresh recency; lookups through bpf() do not (the kernel's
 * lookup_elem_sys_only leaves the reference bit alone). */
LRU_TEST(update_refreshes_recency_lookup_does_not)
{
	int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, 4, 8, 100, 0);
	__u64 v = 0;
	for (__u32 k = 0; k < 100; k++)
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	__u32 looked = 30, updated = 60;
	for (int i = 0; i < 3; i++)
		cr_assert(eq(i64, bt_lookup(fd, &looked, &v), 0));
	cr_assert(eq(i64, bt_update(fd, &updated, &v, BPF_ANY), 0));   /* full: evicts the oldest batch */
	for (__u32 k = 100; k < 180; k++)
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &updated, &v), 0), "recently updated key was evicted");
	cr_assert(eq(i64, bt_lookup(fd, &looked, &v), -ENOENT), "only-looked-up key survived");
	__u32 newest = 179;
	cr_assert(eq(i64, bt_lookup(fd, &newest, &v), 0));
}

/* A delete frees a node, but the kernel refills a CPU's free nodes target_free
 * at a time: one free node on the global list means target_free - 1 evictions. */
LRU_TEST(update_after_delete_refills_a_batch)
{
	__u32 target = common_target(16);
	int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, 0);
	__u64 v = 0;
	for (__u32 k = 0; k < 16; k++)
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	__u32 d = 3;
	cr_assert(eq(i64, bt_delete(fd, &d), 0));
	cr_assert(eq(i64, bt_lookup_and_delete(fd, &d, &v), -ENOENT));
	cr_assert(eq(int, count_keys(fd), 15));
	__u32 k = 16;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(int, count_keys(fd), (int)(15 - (target - 1) + 1)));
	__u32 zero = 0, last = 15;
	if (target > 1)
		cr_assert(eq(i64, bt_lookup(fd, &zero, &v), -ENOENT));
	cr_assert(eq(i64, bt_lookup(fd, &last, &v), 0));
}

/* A 1000-entry common LRU hands out 128 nodes at a time: the refill that
 * finds fewer than 128 on the global list evicts the difference early. */
LRU_TEST(update_lru_evicts_before_full_when_global_list_runs_short)
{
	__u32 target = common_target(1000);
	int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, 4, 8, 1000, 0);
	__u64 v = 0;
	__u32 batches = 1000 / target, k;
	for (k = 0; k < batches * target; k++)
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(int, count_keys(fd), (int)k));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	__u32 short_by = target - (1000 - batches * target);
	cr_assert(eq(int, count_keys(fd), (int)(k + 1 - (short_by % target))));
}

LRU_TEST(update_lru_flag_errors_match_hash)
{
	int fd = bt_map_new(BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, 0);
	__u64 v = 0;
	__u32 k = 1;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_EXIST), -ENOENT));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_NOEXIST), -EEXIST));
	cr_assert(eq(i64, bt_update(fd, &k, &v, 3), -EINVAL));
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_F_LOCK), -EINVAL));
}
