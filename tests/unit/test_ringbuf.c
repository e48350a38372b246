/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ringbuf.c: RINGBUF and USER_RINGBUF (emu/ringbuf.c): creation rules, ENOTSUPP for
 * element operations, the mmap layout and per-page permissions; engine-only: records produced with
 * bpfemu_ringbuf_output read the way libbpf's ring_buffer__poll reads them, and records written the
 * way libbpf's user_ring_buffer writes them drained with bpfemu_user_ringbuf_drain.
 */
#include "bt.h"

#define ENOTSUPP 524
#define PG 4096u

struct create_case {
	__u32 key_size, value_size, max_entries, map_flags;
	long expected;
};

static struct create_case rb_create_cases[] = {
	{ 0, 0, PG, 0, 0 },
	{ 0, 0, 2 * PG, 0, 0 },
	{ 0, 0, 16 * PG, 0, 0 },
	{ 0, 0, 3 * PG, 0, -EINVAL },          /* not a power of two */
	{ 0, 0, PG / 2, 0, -EINVAL },          /* not page aligned */
	{ 0, 0, 0, 0, -EINVAL },
	{ 4, 0, PG, 0, -EINVAL },
	{ 0, 4, PG, 0, -EINVAL },
	{ 0, 0, PG, BPF_F_NUMA_NODE, 0 },
	{ 0, 0, PG, BPF_F_NO_PREALLOC, -EINVAL },
	{ 0, 0, PG, BPF_F_RDONLY, -EINVAL },
	{ 0, 0, PG, BPF_F_MMAPABLE, -EINVAL },
	{ 0, 0, PG, BPF_F_RDONLY_PROG, -EINVAL },
};

ParameterizedTestParameters(unit, create_ringbuf_grid_gives_kernel_errno)
{
	return cr_make_param_array(struct create_case, rb_create_cases, BT_ARRAY_SIZE(rb_create_cases));
}

ParameterizedTest(struct create_case *c, unit, create_ringbuf_grid_gives_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	__u32 types[] = { BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF };
	for (size_t i = 0; i < BT_ARRAY_SIZE(types); i++) {
		long r = bt_map_create(types[i], c->key_size, c->value_size, c->max_entries, c->map_flags);
		if (c->expected == 0)
			cr_assert(ge(i64, r, 0), "type %u %u/%u/%u flags %#x: %s", types[i], c->key_size,
				  c->value_size, c->max_entries, c->map_flags, strerror((int)-r));
		else
			cr_assert(eq(i64, r, c->expected), "type %u %u/%u/%u flags %#x", types[i], c->key_size,
				  c->value_size, c->max_entries, c->map_flags);
		if (r >= 0)
			bt_close((int)r);
	}
}

BT_TEST(ringbuf_element_ops_are_enotsupp)
{
	__u32 types[] = { BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF };
	for (size_t i = 0; i < BT_ARRAY_SIZE(types); i++) {
		int m = bt_map_new(types[i], 0, 0, PG, 0);
		__u32 key = 0;
		char val[8];
		cr_assert(eq(i64, bt_lookup(m, NULL, val), -ENOTSUPP));
		cr_assert(eq(i64, bt_lookup(m, &key, val), -EINVAL));      /* key_size 0: a key pointer is EINVAL */
		cr_assert(eq(i64, bt_update(m, NULL, val, 0), -ENOTSUPP));
		cr_assert(eq(i64, bt_delete(m, NULL), -ENOTSUPP));
		cr_assert(eq(i64, bt_next_key(m, NULL, val), -ENOTSUPP));
		cr_assert(eq(i64, bt_lookup_and_delete(m, NULL, val), -ENOTSUPP));
		bt_close(m);
	}
}

static long mmap_errno(int fd, size_t len, int prot, off_t off)
{
#ifdef BPFEMU_TEST_KERNEL
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
#else
	off_t real = 0;
	int r = emu_mmap_check(fd, len, prot, MAP_SHARED, off, &real);
	if (r < 0)
		return r;
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, real);
#endif
	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

struct mmap_case {
	__u32 type;
	size_t len;
	int prot;
	off_t off;
	long expected;
};

#define RW (PROT_READ | PROT_WRITE)
static struct mmap_case rb_mmap_cases[] = {
	{ BPF_MAP_TYPE_RINGBUF, PG, RW, 0, 0 },                       /* consumer page */
	{ BPF_MAP_TYPE_RINGBUF, 2 * PG, RW, 0, -EPERM },
	{ BPF_MAP_TYPE_RINGBUF, PG, RW, PG, -EPERM },                 /* producer page */
	{ BPF_MAP_TYPE_RINGBUF, PG + 2 * 2 * PG, PROT_READ, PG, 0 },  /* producer + data twice */
	{ BPF_MAP_TYPE_RINGBUF, 2 * PG + 2 * 2 * PG, PROT_READ, 0, 0 },
	{ BPF_MAP_TYPE_RINGBUF, 3 * PG + 2 * 2 * PG, PROT_READ, 0, -EINVAL },
	{ BPF_MAP_TYPE_RINGBUF, PG, PROT_READ, 6 * PG, -EINVAL },
	{ BPF_MAP_TYPE_USER_RINGBUF, PG, RW, 0, -EPERM },
	{ BPF_MAP_TYPE_USER_RINGBUF, PG, PROT_READ, 0, 0 },
	{ BPF_MAP_TYPE_USER_RINGBUF, PG + 2 * 2 * PG, RW, PG, 0 },
	{ BPF_MAP_TYPE_USER_RINGBUF, 2 * PG + 2 * 2 * PG, RW, 0, -EPERM },
	{ BPF_MAP_TYPE_USER_RINGBUF, 2 * PG + 2 * 2 * PG, RW, PG, -EINVAL },
};

ParameterizedTestParameters(unit, mmap_ringbuf_pages_give_kernel_errno)
{
	return cr_make_param_array(struct mmap_case, rb_mmap_cases, BT_ARRAY_SIZE(rb_mmap_cases));
}

ParameterizedTest(struct mmap_case *c, unit, mmap_ringbuf_pages_give_kernel_errno, .init = bt_setup,
		  .fini = bt_teardown)
{
	int m = bt_map_new(c->type, 0, 0, 2 * PG, 0);
	cr_assert(eq(i64, mmap_errno(m, c->len, c->prot, c->off), c->expected), "type %u len %zu prot %d off %lld",
		  c->type, c->len, c->prot, (long long)c->off);
}

#ifndef BPFEMU_TEST_KERNEL
/* ---- engine only: the records ---- */

struct ring {
	__u64 *cons;
	const volatile __u64 *prod;
	const char *data;
	__u64 mask;
};

static struct ring ring_map(int fd, __u32 size)
{
	struct ring r = { .mask = size - 1 };
	r.cons = bt_mmap(fd, PG, RW, MAP_SHARED);
	cr_assert(ne(ptr, (void *)r.cons, MAP_FAILED));
	off_t real = 0;
	cr_assert(eq(int, emu_mmap_check(fd, PG + 2 * size, PROT_READ, MAP_SHARED, PG, &real), 0));
	const char *p = mmap(NULL, PG + 2 * size, PROT_READ, MAP_SHARED, fd, real);
	cr_assert(ne(ptr, (void *)p, MAP_FAILED));
	r.prod = (const volatile __u64 *)p;
	r.data = p + PG;
	return r;
}

/* libbpf's ringbuf_process_ring(), reduced: returns the next record's length and copies it out. */
static long ring_next(struct ring *r, char *out)
{
	while (*r->cons < *r->prod) {
		const __u32 *hdr = (const __u32 *)(r->data + (*r->cons & r->mask));
		__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & (1u << 31))
			return -EBUSY;
		__u32 size = len & ~(3u << 30);
		*r->cons += (size + 8 + 7) & ~7u;
		if (len & (1u << 30))
			continue;
		memcpy(out, hdr + 2, size);
		return size;
	}
	return -ENOENT;
}

BT_TEST(ringbuf_output_records_read_like_libbpf_including_wrap)
{
	int m = bt_map_new(BPF_MAP_TYPE_RINGBUF, 0, 0, PG, 0);
	struct ring r = ring_map(m, PG);
	char rec[1000], out[1000];

	/* 1000-byte records (1008 with the header): the 5th wraps past the end of the data */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++) {
			memset(rec, 'a' + round * 4 + i, sizeof(rec));
			cr_assert(eq(int, bpfemu_ringbuf_output(m, rec, sizeof(rec), 0), 0), "%s", strerror(errno));
		}
		memset(rec, 'z', sizeof(rec));
		cr_assert(eq(int, bpfemu_ringbuf_output(m, rec, sizeof(rec), 0), -1));   /* 4 * 1008 + 1008 > 4096 */
		cr_assert(eq(int, errno, EAGAIN));
		for (int i = 0; i < 4; i++) {
			cr_assert(eq(i64, ring_next(&r, out), (long)sizeof(rec)));
			cr_assert(eq(int, out[0], 'a' + round * 4 + i));
			cr_assert(eq(int, out[sizeof(out) - 1], 'a' + round * 4 + i));
		}
		cr_assert(eq(i64, ring_next(&r, out), -ENOENT));
	}
}

BT_TEST(ringbuf_output_bad_args_give_errno)
{
	int rb = bt_map_new(BPF_MAP_TYPE_RINGBUF, 0, 0, PG, 0);
	int arr = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	char rec[8] = { 0 };
	cr_assert(eq(int, bpfemu_ringbuf_output(arr, rec, 8, 0), -1));
	cr_assert(eq(int, errno, EINVAL));
	cr_assert(eq(int, bpfemu_ringbuf_output(rb, rec, 8, 4), -1));
	cr_assert(eq(int, errno, EINVAL));
	cr_assert(eq(int, bpfemu_ringbuf_output(rb, rec, PG, 0), -1));
	cr_assert(eq(int, errno, EAGAIN));
	cr_assert(eq(int, bpfemu_ringbuf_output(rb, bt_unmapped_page(), 8, 0), -1));
	cr_assert(eq(int, errno, EFAULT));
	cr_assert(eq(int, bpfemu_ringbuf_output(bt_closed_fd(), rec, 8, 0), -1));
	cr_assert(eq(int, errno, EBADF));
}

static int collect(const void *data, unsigned int size, void *ctx)
{
	char *acc = ctx;
	strncat(acc, data, size);
	return 0;
}

BT_TEST(user_ringbuf_records_written_like_libbpf_are_drained)
{
	int m = bt_map_new(BPF_MAP_TYPE_USER_RINGBUF, 0, 0, PG, 0);
	const volatile __u64 *cons = bt_mmap(m, PG, PROT_READ, MAP_SHARED);
	cr_assert(ne(ptr, (void *)cons, MAP_FAILED));
	off_t real = 0;
	cr_assert(eq(int, emu_mmap_check(m, PG + 2 * PG, RW, MAP_SHARED, PG, &real), 0));
	char *p = mmap(NULL, PG + 2 * PG, RW, MAP_SHARED, m, real);
	cr_assert(ne(ptr, p, MAP_FAILED));
	__u64 *prod = (__u64 *)p;
	char *data = p + PG;
	const char *words[] = { "one ", "two ", "skip ", "three" };
	char acc[64] = "";

	for (int i = 0; i < 4; i++) {
		/* user_ring_buffer__reserve: header busy, producer_pos forward; __submit/__discard clear busy */
		__u32 len = (__u32)strlen(words[i]);
		__u32 *hdr = (__u32 *)(data + (*prod & (PG - 1)));
		hdr[0] = len | (1u << 31);
		__atomic_store_n(prod, *prod + ((len + 8 + 7) & ~7u), __ATOMIC_RELEASE);
		memcpy(hdr + 2, words[i], len);
		__atomic_store_n(&hdr[0], len | (i == 2 ? 1u << 30 : 0), __ATOMIC_RELEASE);
	}
	cr_assert(eq(i64, bpfemu_user_ringbuf_drain(m, collect, acc), 3));
	cr_assert(eq(str, acc, "one two three"));
	cr_assert(eq(u64, *cons, *prod));
	cr_assert(eq(i64, bpfemu_user_ringbuf_drain(m, collect, acc), 0));
}
#endif
