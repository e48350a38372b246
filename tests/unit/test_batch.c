/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_batch.c: BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH
 * (emu/sys.c, emu/map.c's generic batch, emu/hashtab.c's bucket batch),
 * tokens, counts and errnos as the kernel gives them.
 */
#include "bt.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

struct batch_res {
	long ret;
	__u32 count;           /* what the call wrote back */
};

/* One batch call; out_batch/in_batch are the caller's token buffers (or NULL). */
static struct batch_res bt_batch(int cmd, int fd, void *in, void *out, void *keys, void *values, __u32 count,
				 __u64 elem_flags, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (__u32)fd;
	a.batch.in_batch = BT_PTR(in);
	a.batch.out_batch = BT_PTR(out);
	a.batch.keys = BT_PTR(keys);
	a.batch.values = BT_PTR(values);
	a.batch.count = count;
	a.batch.elem_flags = elem_flags;
	a.batch.flags = flags;
	struct batch_res r = { bt_bpf(cmd, &a, sizeof(a)), a.batch.count };
	return r;
}

static int hash_with(__u32 max, __u32 n)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, max, 0);
	for (__u32 i = 0; i < n; i++) {
		__u64 v = (__u64)i * 10;
		cr_assert(eq(i64, bt_update(fd, &i, &v, BPF_ANY), 0));
	}
	return fd;
}

/* ---- command-level checks ---- */

BT_TEST(batch_attr_field_after_flags_is_einval)
{
	int fd = hash_with(4, 0);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (__u32)fd;
	a.batch.count = 1;
	((char *)&a)[BT_ATTR_END(batch.flags)] = 1;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_LOOKUP_BATCH, &a, sizeof(a)), -EINVAL));
}

BT_TEST(batch_closed_fd_is_ebadf)
{
	__u32 k[1], out;
	__u64 v[1];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, bt_closed_fd(), NULL, &out, k, v, 1, 0, 0);
	cr_assert(eq(i64, r.ret, -EBADF));
}

BT_TEST(batch_non_map_fd_is_einval)
{
	__u32 k[1], out;
	__u64 v[1];
	int fd = open("/dev/null", O_RDONLY);
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, k, v, 1, 0, 0);
	cr_assert(eq(i64, r.ret, -EINVAL));
}

struct perm_case {
	int cmd;
	__u32 file_flags;      /* of the OBJ_GET that opens the map */
	int frozen;
	long expected;
};

static struct perm_case perm_cases[] = {
	{ BPF_MAP_LOOKUP_BATCH, BPF_F_WRONLY, 0, -EPERM },
	{ BPF_MAP_LOOKUP_BATCH, BPF_F_RDONLY, 0, -ENOENT },
	{ BPF_MAP_LOOKUP_BATCH, 0, 1, -ENOENT },
	{ BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_F_RDONLY, 0, -EPERM },
	{ BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_F_WRONLY, 0, -EPERM },
	{ BPF_MAP_LOOKUP_AND_DELETE_BATCH, 0, 1, -EPERM },
	{ BPF_MAP_UPDATE_BATCH, BPF_F_RDONLY, 0, -EPERM },
	{ BPF_MAP_UPDATE_BATCH, BPF_F_WRONLY, 0, 0 },
	{ BPF_MAP_UPDATE_BATCH, 0, 1, -EPERM },
	{ BPF_MAP_DELETE_BATCH, BPF_F_RDONLY, 0, -EPERM },
	{ BPF_MAP_DELETE_BATCH, BPF_F_WRONLY, 0, 0 },
	{ BPF_MAP_DELETE_BATCH, 0, 1, -EPERM },
};

ParameterizedTestParameters(unit, batch_fd_mode_and_frozen_give_kernel_errno)
{
	return cr_make_param_array(struct perm_case, perm_cases, BT_ARRAY_SIZE(perm_cases));
}

ParameterizedTest(struct perm_case *c, unit, batch_fd_mode_and_frozen_give_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	int fd = hash_with(8, 0);
	__u32 keys[8] = { 1, 2 }, out = 0;
	__u64 vals[8] = { 7, 8 };
	cr_assert(eq(i64, bt_update(fd, &keys[0], &vals[0], BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(fd, &keys[1], &vals[1], BPF_ANY), 0));
	if (c->frozen)
		cr_assert(eq(i64, bt_freeze(fd), 0));
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/m"), 0));
	int f2 = (int)bt_get("/sys/fs/bpf/m", c->file_flags);
	cr_assert(ge(i32, f2, 0));
	/* lookups ask for more than there is (ENOENT at the end); updates and deletes pass two */
	__u32 count = c->cmd == BPF_MAP_UPDATE_BATCH || c->cmd == BPF_MAP_DELETE_BATCH ? 2 : 8;
	struct batch_res r = bt_batch(c->cmd, f2, NULL, &out, keys, vals, count, 0, 0);
	cr_assert(eq(i64, r.ret, c->expected), "cmd %d flags %#x frozen %d", c->cmd, c->file_flags, c->frozen);
}

struct notsupp_case {
	int cmd;
	long expected;
};

/* ARRAY: generic lookup and update only, as the kernel's array_map_ops */
static struct notsupp_case array_cmd_cases[] = {
	{ BPF_MAP_LOOKUP_BATCH, 0 },                    /* count reached with the last index: 0 */
	{ BPF_MAP_UPDATE_BATCH, 0 },
	{ BPF_MAP_LOOKUP_AND_DELETE_BATCH, -ENOTSUPP },
	{ BPF_MAP_DELETE_BATCH, -ENOTSUPP },
};

ParameterizedTestParameters(unit, batch_array_commands_give_kernel_answer)
{
	return cr_make_param_array(struct notsupp_case, array_cmd_cases, BT_ARRAY_SIZE(array_cmd_cases));
}

ParameterizedTest(struct notsupp_case *c, unit, batch_array_commands_give_kernel_answer, .init = bt_setup,
		  .fini = bt_teardown)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 keys[4] = { 0, 1, 2, 3 }, out;
	__u64 vals[4] = { 0 };
	struct batch_res r = bt_batch(c->cmd, fd, NULL, &out, keys, vals, 4, 0, 0);
	cr_assert(eq(i64, r.ret, c->expected), "cmd %d", c->cmd);
}

/* ---- flags ---- */

struct flag_case {
	int cmd;
	__u32 map_type;
	__u64 elem_flags, flags;
	long expected;
};

static struct flag_case flag_cases[] = {
	{ BPF_MAP_LOOKUP_BATCH, BPF_MAP_TYPE_HASH, BPF_F_LOCK, 0, -EINVAL },      /* no spin lock */
	{ BPF_MAP_LOOKUP_BATCH, BPF_MAP_TYPE_HASH, 1, 0, -EINVAL },
	{ BPF_MAP_LOOKUP_BATCH, BPF_MAP_TYPE_HASH, 0, 1, -EINVAL },               /* htab checks flags */
	{ BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_TYPE_HASH, 0, 1, -EINVAL },
	{ BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_TYPE_HASH, BPF_EXIST, 0, -EINVAL },
	{ BPF_MAP_UPDATE_BATCH, BPF_MAP_TYPE_HASH, BPF_NOEXIST, 0, -EINVAL },     /* elem_flags: F_LOCK only */
	{ BPF_MAP_UPDATE_BATCH, BPF_MAP_TYPE_HASH, BPF_F_LOCK, 0, -EINVAL },
	{ BPF_MAP_UPDATE_BATCH, BPF_MAP_TYPE_HASH, 0, 1, 0 },                     /* generic: flags unchecked */
	{ BPF_MAP_DELETE_BATCH, BPF_MAP_TYPE_HASH, BPF_EXIST, 0, -EINVAL },
	{ BPF_MAP_DELETE_BATCH, BPF_MAP_TYPE_HASH, 0, 0xff, 0 },
	{ BPF_MAP_LOOKUP_BATCH, BPF_MAP_TYPE_ARRAY, BPF_F_LOCK, 0, -EINVAL },
	{ BPF_MAP_LOOKUP_BATCH, BPF_MAP_TYPE_ARRAY, 0, 1, 0 },                    /* generic: flags unchecked */
	{ BPF_MAP_UPDATE_BATCH, BPF_MAP_TYPE_ARRAY, BPF_EXIST, 0, -EINVAL },
	{ BPF_MAP_UPDATE_BATCH, BPF_MAP_TYPE_ARRAY, 0, 1, 0 },
};

ParameterizedTestParameters(unit, batch_flags_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct flag_case, flag_cases, BT_ARRAY_SIZE(flag_cases));
}

ParameterizedTest(struct flag_case *c, unit, batch_flags_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	int fd = bt_map_new(c->map_type, 4, 8, 4, 0);
	__u32 keys[2] = { 0, 1 }, out;
	__u64 vals[2] = { 5, 6 };
	cr_assert(eq(i64, bt_update(fd, &keys[0], &vals[0], BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(fd, &keys[1], &vals[1], BPF_ANY), 0));
	struct batch_res r = bt_batch(c->cmd, fd, NULL, &out, keys, vals, 2, c->elem_flags, c->flags);
	cr_assert(eq(i64, r.ret, c->expected), "cmd %d type %u elem_flags %#llx flags %#llx", c->cmd, c->map_type,
		  (unsigned long long)c->elem_flags, (unsigned long long)c->flags);
}

/* ---- count zero: nothing is read, nothing written ---- */

BT_TEST(batch_count_zero_returns_zero_and_touches_nothing)
{
	int cmds[] = { BPF_MAP_LOOKUP_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_UPDATE_BATCH,
		       BPF_MAP_DELETE_BATCH };
	int fd = hash_with(4, 2);
	void *bad = bt_unmapped_page();
	for (size_t i = 0; i < BT_ARRAY_SIZE(cmds); i++) {
		struct batch_res r = bt_batch(cmds[i], fd, bad, bad, bad, bad, 0, 0, 0);
		cr_assert(eq(i64, r.ret, 0), "cmd %d", cmds[i]);
		cr_assert(eq(u32, r.count, 0));
	}
}

/* ---- hash lookup: bucket tokens ---- */

BT_TEST(lookup_batch_hash_all_at_once_is_enoent_with_full_count)
{
	int fd = hash_with(64, 40);
	__u32 keys[64], out = 12345;
	__u64 vals[64];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, keys, vals, 64, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 40));
	cr_assert(eq(u32, out, 64), "out_batch is the bucket count at the end");
	unsigned char seen[40] = { 0 };
	for (int i = 0; i < 40; i++) {
		cr_assert(lt(u32, keys[i], 40));
		cr_assert(eq(u64, vals[i], (__u64)keys[i] * 10));
		cr_assert(eq(u8, seen[keys[i]], 0), "key %u twice", keys[i]);
		seen[keys[i]] = 1;
	}
}

BT_TEST(lookup_batch_hash_empty_is_enoent_with_count_zero)
{
	int fd = hash_with(16, 0);
	__u32 keys[4], out = 77;
	__u64 vals[4];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, keys, vals, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 0));
	cr_assert(eq(u32, out, 16));
}

BT_TEST(lookup_batch_hash_in_batch_past_last_bucket_is_enoent)
{
	int fd = hash_with(16, 3);
	__u32 keys[4], in = 16, out = 77;
	__u64 vals[4];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in, &out, keys, vals, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 0));
	cr_assert(eq(u32, out, 77), "out_batch untouched");
}

/* Walking with a small count visits every element once; a bucket larger than
 * what is left of count ends the call early, ENOSPC when nothing fit yet. */
BT_TEST(lookup_batch_hash_small_steps_visit_every_element_once)
{
	const __u32 n = 1024;
	int fd = hash_with(n, n);
	__u32 *keys = calloc(n, 4), *seen = calloc(n, 4);
	__u64 *vals = calloc(n, 8);
	__u32 in = 0, out = 0, total = 0, calls = 0, enospc = 0;
	bool first = true;
	for (;;) {
		struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, first ? NULL : &in, &out, keys, vals, 3, 0, 0);
		cr_assert(calls++ < 4 * n);
		if (r.ret == -ENOSPC) {
			/* a bucket of more than 3: nothing copied, token is that bucket */
			cr_assert(eq(u32, r.count, 0));
			enospc++;
			__u32 big[16];
			__u64 bigv[16];
			__u32 in2 = out, out2;
			struct batch_res r2 = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in2, &out2, big, bigv, 16, 0, 0);
			cr_assert(ge(u32, r2.count, 4), "the bucket that did not fit has more than 3");
			for (__u32 i = 0; i < r2.count; i++)
				seen[big[i]]++;
			total += r2.count;
			in = out2;
			first = false;
			if (r2.ret == -ENOENT)
				break;
			cr_assert(eq(i64, r2.ret, 0));
			continue;
		}
		cr_assert(le(u32, r.count, 3));
		for (__u32 i = 0; i < r.count; i++) {
			cr_assert(lt(u32, keys[i], n));
			cr_assert(eq(u64, vals[i], (__u64)keys[i] * 10));
			seen[keys[i]]++;
		}
		total += r.count;
		if (r.ret == -ENOENT)
			break;
		cr_assert(eq(i64, r.ret, 0), "%s", strerror((int)-r.ret));
		cr_assert(gt(u32, r.count, 0));
		in = out;
		first = false;
	}
	cr_assert(eq(u32, total, n));
	for (__u32 i = 0; i < n; i++)
		cr_assert(eq(u32, seen[i], 1), "key %u seen %u times", i, seen[i]);
	/* 1024 keys in 1024 buckets: some bucket holds four or more */
	cr_assert(gt(u32, enospc, 0));
	free(keys);
	free(vals);
	free(seen);
}

BT_TEST(lookup_batch_hash_count_one_token_is_next_bucket)
{
	int fd = hash_with(4, 1);
	__u32 key, out = 99;
	__u64 val;
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, &key, &val, 1, 0, 0);
	cr_assert(eq(u32, r.count, 1));
	cr_assert(eq(u32, key, 0));
	cr_assert(eq(u64, val, 0));
	/* the one element's bucket is b; the token is b + 1, ENOENT if it was the last bucket */
	if (r.ret == 0) {
		cr_assert(lt(u32, out, 4));
		__u32 in = out;
		r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in, &out, &key, &val, 1, 0, 0);
		cr_assert(eq(i64, r.ret, -ENOENT));
		cr_assert(eq(u32, r.count, 0));
	} else {
		cr_assert(eq(i64, r.ret, -ENOENT));
	}
	cr_assert(eq(u32, out, 4));
}

BT_TEST(lookup_batch_hash_bad_count_pointer_is_efault)
{
	int fd = hash_with(4, 1);
	void *bad = bt_unmapped_page();
	__u32 key, out;
	__u64 val;
	/* keys unmapped: EFAULT, count stays as written before (0) */
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, bad, &val, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	cr_assert(eq(u32, r.count, 0));
	r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, &key, bad, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, bad, &out, &key, &val, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, bad, &key, &val, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
}

BT_TEST(lookup_batch_hash_empty_map_with_bad_buffers_is_enoent)
{
	/* nothing to copy: keys and values are never touched */
	int fd = hash_with(4, 0);
	void *bad = bt_unmapped_page();
	__u32 out;
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, bad, bad, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, out, 4));
}

BT_TEST(lookup_and_delete_batch_hash_empties_the_map)
{
	int fd = hash_with(32, 20);
	__u32 keys[32], out, k;
	__u64 vals[32];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_AND_DELETE_BATCH, fd, NULL, &out, keys, vals, 32, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 20));
	for (int i = 0; i < 20; i++)
		cr_assert(eq(u64, vals[i], (__u64)keys[i] * 10));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &k), -ENOENT));
}

BT_TEST(lookup_and_delete_batch_hash_bad_values_deletes_and_is_efault)
{
	/* the kernel deletes the bucket before copying it out */
	int fd = hash_with(4, 1);
	__u32 key, out, k;
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_AND_DELETE_BATCH, fd, NULL, &out, &key, bt_unmapped_page(),
				      4, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	cr_assert(eq(u32, r.count, 0));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &k), -ENOENT));
}

/* ---- array lookup: index tokens (generic) ---- */

BT_TEST(lookup_batch_array_tokens_are_last_index)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 5, 0);
	for (__u32 i = 0; i < 5; i++) {
		__u64 v = 100 + i;
		cr_assert(eq(i64, bt_update(fd, &i, &v, BPF_ANY), 0));
	}
	__u32 keys[5], in, out = 77;
	__u64 vals[5];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, keys, vals, 2, 0, 0);
	cr_assert(eq(i64, r.ret, 0));
	cr_assert(eq(u32, r.count, 2));
	cr_assert(eq(u32, out, 1));
	cr_assert(eq(u32, keys[1], 1));
	cr_assert(eq(u64, vals[1], 101));
	in = out;
	r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in, &out, keys, vals, 2, 0, 0);
	cr_assert(eq(i64, r.ret, 0));
	cr_assert(eq(u32, out, 3));
	cr_assert(eq(u32, keys[0], 2));
	in = out;
	r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in, &out, keys, vals, 2, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 1));
	cr_assert(eq(u32, out, 4));
	cr_assert(eq(u32, keys[0], 4));
	cr_assert(eq(u64, vals[0], 104));
	/* from the last index: nothing, out_batch untouched */
	in = 4;
	out = 77;
	r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in, &out, keys, vals, 2, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 0));
	cr_assert(eq(u32, out, 77));
}

BT_TEST(lookup_batch_array_in_batch_out_of_range_restarts)
{
	/* get_next_key of an index past the end is the first index */
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 3, 0);
	__u32 keys[3], in = 1000, out;
	__u64 vals[3];
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, &in, &out, keys, vals, 3, 0, 0);
	cr_assert(eq(i64, r.ret, 0));
	cr_assert(eq(u32, r.count, 3));
	cr_assert(eq(u32, keys[0], 0));
	cr_assert(eq(u32, out, 2));
}

BT_TEST(lookup_batch_array_bad_values_is_efault_count_zero)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 3, 0);
	__u32 keys[3], out = 5;
	struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, NULL, &out, keys, bt_unmapped_page(), 3, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	cr_assert(eq(u32, r.count, 0));
	cr_assert(eq(u32, out, 5));
}

BT_TEST(lookup_batch_array_value_sizes_match_element_lookups)
{
	/* value sizes read one load each (4, 8), back to back (64), and with
	 * padding between them (12: element by element); chunks of 3 from
	 * 1000 entries, then one call past the end */
	static const __u32 sizes[] = { 4, 8, 12, 64 };
	for (size_t s = 0; s < BT_ARRAY_SIZE(sizes); s++) {
		__u32 vs = sizes[s], max = 1000;
		int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, vs, max, 0);
		unsigned char v[64], got[3 * 64], want[64];
		for (__u32 i = 0; i < max; i += 7) {
			memset(v, (int)(i & 0xff), sizeof(v));
			memcpy(v, &i, 4);
			cr_assert(eq(i64, bt_update(fd, &i, v, BPF_ANY), 0));
		}
		__u32 keys[3], in = 0, out = 0, seen = 0;
		for (bool first = true;; first = false) {
			struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, first ? NULL : &in, &out, keys, got, 3, 0, 0);
			cr_assert(r.ret == 0 || r.ret == -ENOENT, "size %u: %ld", vs, r.ret);
			for (__u32 j = 0; j < r.count; j++) {
				cr_assert(eq(u32, keys[j], seen + j), "size %u", vs);
				cr_assert(eq(i64, bt_lookup(fd, &keys[j], want), 0));
				cr_assert(eq(int, memcmp(got + (size_t)j * vs, want, vs), 0), "size %u key %u", vs, keys[j]);
			}
			seen += r.count;
			if (r.ret == -ENOENT) {
				cr_assert(eq(u32, r.count, 1), "size %u: 1000 = 333 * 3 + 1", vs);
				cr_assert(eq(u32, out, max - 1));
				break;
			}
			cr_assert(eq(u32, out, seen - 1));
			in = out;
		}
		cr_assert(eq(u32, seen, max));
		close(fd);
	}
}

BT_TEST(lookup_batch_percpu_array_matches_element_lookups)
{
	/* every CPU's slot (value sizes 4 and 12, each slot rounded up to 8),
	 * chunks of 4 from 10 entries: 4, 4, then 2 and ENOENT */
	static const __u32 sizes[] = { 4, 12 };
	unsigned int ncpu = bt_possible_cpus();
	for (size_t s = 0; s < BT_ARRAY_SIZE(sizes); s++) {
		__u32 vs = sizes[s], slot = (vs + 7) / 8 * 8, max = 10;
		size_t one = (size_t)slot * ncpu;
		int fd = bt_map_new(BPF_MAP_TYPE_PERCPU_ARRAY, 4, vs, max, 0);
		unsigned char *v = calloc(1, one), *got = calloc(4, one), *want = calloc(1, one);
		cr_assert(v && got && want);
		for (__u32 i = 0; i < max; i++) {
			for (unsigned int c = 0; c < ncpu; c++)
				memset(v + (size_t)c * slot, (int)(i * 16 + c + 1), vs);
			cr_assert(eq(i64, bt_update(fd, &i, v, BPF_ANY), 0));
		}
		__u32 keys[4], in = 0, out = 0, seen = 0;
		static const __u32 counts[] = { 4, 4, 2 };
		for (size_t call = 0; call < BT_ARRAY_SIZE(counts); call++) {
			struct batch_res r = bt_batch(BPF_MAP_LOOKUP_BATCH, fd, call ? &in : NULL, &out, keys, got, 4, 0, 0);
			cr_assert(eq(i64, r.ret, call == 2 ? -ENOENT : 0), "size %u call %zu", vs, call);
			cr_assert(eq(u32, r.count, counts[call]), "size %u call %zu", vs, call);
			for (__u32 j = 0; j < r.count; j++) {
				cr_assert(eq(u32, keys[j], seen + j));
				cr_assert(eq(i64, bt_lookup(fd, &keys[j], want), 0));
				cr_assert(eq(int, memcmp(got + j * one, want, one), 0), "size %u key %u", vs, keys[j]);
			}
			seen += r.count;
			cr_assert(eq(u32, out, seen - 1));
			in = out;
		}
		free(v);
		free(got);
		free(want);
		close(fd);
	}
}

/* ---- update ---- */

BT_TEST(update_batch_hash_inserts_all_and_counts)
{
	int fd = hash_with(16, 0);
	__u32 keys[10];
	__u64 vals[10], v;
	for (__u32 i = 0; i < 10; i++) {
		keys[i] = i * 3;
		vals[i] = i + 1000;
	}
	struct batch_res r = bt_batch(BPF_MAP_UPDATE_BATCH, fd, NULL, NULL, keys, vals, 10, 0, 0);
	cr_assert(eq(i64, r.ret, 0));
	cr_assert(eq(u32, r.count, 10));
	for (__u32 i = 0; i < 10; i++) {
		cr_assert(eq(i64, bt_lookup(fd, &keys[i], &v), 0));
		cr_assert(eq(u64, v, i + 1000));
	}
}

BT_TEST(update_batch_hash_full_map_is_e2big_with_partial_count)
{
	int fd = hash_with(4, 0);
	__u32 keys[6] = { 1, 2, 3, 4, 5, 6 }, k = 5;
	__u64 vals[6] = { 0 }, v;
	struct batch_res r = bt_batch(BPF_MAP_UPDATE_BATCH, fd, NULL, NULL, keys, vals, 6, 0, 0);
	cr_assert(eq(i64, r.ret, -E2BIG));
	cr_assert(eq(u32, r.count, 4));
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), -ENOENT));
}

BT_TEST(update_batch_array_index_out_of_range_is_e2big_with_partial_count)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 keys[3] = { 0, 3, 4 }, k = 3;
	__u64 vals[3] = { 10, 13, 14 }, v;
	struct batch_res r = bt_batch(BPF_MAP_UPDATE_BATCH, fd, NULL, NULL, keys, vals, 3, 0, 0);
	cr_assert(eq(i64, r.ret, -E2BIG));
	cr_assert(eq(u32, r.count, 2));
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
	cr_assert(eq(u64, v, 13));
}

BT_TEST(update_batch_values_fault_midway_is_efault_with_partial_count)
{
	/* three values, the third on an unmapped page (map first: its mapping must not fill the hole) */
	int fd = hash_with(8, 0);
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, p, MAP_FAILED));
	mprotect(p + pg, (size_t)pg, PROT_NONE);     /* not unmapped: nothing can be mapped there */
	__u64 *vals = (__u64 *)(p + pg - 16);
	vals[0] = 1;
	vals[1] = 2;
	__u32 keys[3] = { 7, 8, 9 }, k = 8;
	__u64 v;
	struct batch_res r = bt_batch(BPF_MAP_UPDATE_BATCH, fd, NULL, NULL, keys, vals, 3, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	cr_assert(eq(u32, r.count, 2));
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
	cr_assert(eq(u64, v, 2));
}

BT_TEST(update_batch_null_keys_is_efault_count_zero)
{
	int fd = hash_with(8, 0);
	__u64 vals[2] = { 0 };
	struct batch_res r = bt_batch(BPF_MAP_UPDATE_BATCH, fd, NULL, NULL, NULL, vals, 2, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	cr_assert(eq(u32, r.count, 0));
}

/* ---- delete ---- */

BT_TEST(delete_batch_hash_missing_key_is_enoent_with_partial_count)
{
	int fd = hash_with(8, 4);
	__u32 keys[4] = { 0, 1, 9, 2 }, k = 2, n;
	__u64 v;
	struct batch_res r = bt_batch(BPF_MAP_DELETE_BATCH, fd, NULL, NULL, keys, NULL, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -ENOENT));
	cr_assert(eq(u32, r.count, 2));
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
	k = 0;
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), -ENOENT));
	/* the rest */
	__u32 rest[2] = { 2, 3 };
	r = bt_batch(BPF_MAP_DELETE_BATCH, fd, NULL, NULL, rest, NULL, 2, 0, 0);
	cr_assert(eq(i64, r.ret, 0));
	cr_assert(eq(u32, r.count, 2));
	cr_assert(eq(i64, bt_next_key(fd, NULL, &n), -ENOENT));
}

BT_TEST(delete_batch_hash_bad_keys_is_efault_count_zero)
{
	int fd = hash_with(8, 4);
	struct batch_res r = bt_batch(BPF_MAP_DELETE_BATCH, fd, NULL, NULL, bt_unmapped_page(), NULL, 4, 0, 0);
	cr_assert(eq(i64, r.ret, -EFAULT));
	cr_assert(eq(u32, r.count, 0));
}

/* ---- the count field itself unwritable: EFAULT before anything happens ---- */

BT_TEST(batch_readonly_attr_is_efault)
{
	int fd = hash_with(8, 2);
	long pg = sysconf(_SC_PAGESIZE);
	__u32 keys[2] = { 0, 1 }, out;
	__u64 vals[2];
	union bpf_attr *a = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, a, MAP_FAILED));
	memset(a, 0, sizeof(*a));
	a->batch.map_fd = (__u32)fd;
	a->batch.out_batch = BT_PTR(&out);
	a->batch.keys = BT_PTR(keys);
	a->batch.values = BT_PTR(vals);
	a->batch.count = 2;
	cr_assert(eq(i32, mprotect(a, (size_t)pg, PROT_READ), 0));
	cr_assert(eq(i64, bt_bpf(BPF_MAP_DELETE_BATCH, a, sizeof(*a)), -EFAULT));
	cr_assert(eq(i64, bt_bpf(BPF_MAP_LOOKUP_BATCH, a, sizeof(*a)), -EFAULT));
	__u64 v;
	cr_assert(eq(i64, bt_lookup(fd, &keys[0], &v), 0), "nothing deleted");
}
