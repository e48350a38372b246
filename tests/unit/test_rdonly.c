/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_rdonly.c: a map reached through a read-only fd only (its
 * pin is 0444 and the caller lacks CAP_DAC_OVERRIDE, as another user of a
 * 0644 pin): OBJ_GET read-write is EACCES, read-only works, every read path
 * answers, every write is EPERM, and reads stay whole while a writer that can
 * write (or was killed mid-write) works on the map. On the engine such a map
 * is mapped PROT_READ, so a read path that wrote would crash the test.
 */
#include <linux/capability.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bt.h"

#define PIN "/sys/fs/bpf/ro"

/* uid 0 without the DAC capabilities obeys file modes like any user */
static void drop_dac(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	cr_assert(eq(int, (int)syscall(SYS_capget, &h, d), 0));
	__u32 drop = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER);
	d[0].effective &= ~drop;
	d[0].permitted &= ~drop;
	d[0].inheritable &= ~drop;
	cr_assert(eq(int, (int)syscall(SYS_capset, &h, d), 0), "capset: %s", strerror(errno));
}

static void chmod_pin(mode_t mode)
{
#ifdef BPFEMU_TEST_KERNEL
	cr_assert(eq(int, chmod(PIN, mode), 0));
#else
	char buf[PATH_MAX];
	const char *p = emu_bpffs_translate(AT_FDCWD, PIN, buf);
	cr_assert(eq(int, chmod(p, mode), 0), "chmod %s: %s", p, strerror(errno));
#endif
}

/* Pins fd read-only for everybody and returns a read-only fd of it, after
 * checking that a read-write one is refused. */
static int rdonly_fd(int fd)
{
	cr_assert(eq(i64, bt_pin(fd, PIN), 0));
	chmod_pin(0444);
	drop_dac();
	cr_assert(eq(i64, bt_get(PIN, 0), -EACCES));
	cr_assert(eq(i64, bt_get(PIN, BPF_F_WRONLY), -EACCES));
	long ro = bt_get(PIN, BPF_F_RDONLY);
	cr_assert(ge(i64, ro, 0), "OBJ_GET read-only: %ld", ro);
	return (int)ro;
}

static long batch_lookup(int fd, void *keys, void *vals, __u32 *count)
{
	union bpf_attr a;
	__u32 out = 0;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (__u32)fd;
	a.batch.out_batch = BT_PTR(&out);
	a.batch.keys = BT_PTR(keys);
	a.batch.values = BT_PTR(vals);
	a.batch.count = *count;
	long r = bt_bpf(BPF_MAP_LOOKUP_BATCH, &a, sizeof(a));
	*count = a.batch.count;
	return r;
}

static void writes_are_eperm(int ro, const void *key, const void *val)
{
	char v[64] = { 0 };
	cr_assert(eq(i64, bt_update(ro, key, val, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_delete(ro, key), -EPERM));
	cr_assert(eq(i64, bt_lookup_and_delete(ro, key, v), -EPERM));
	cr_assert(eq(i64, bt_freeze(ro), -EPERM));
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(ro, &info, &len), 0));
}

BT_TEST(hash_read_only_fd_reads_and_cannot_write)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	for (__u32 k = 0; k < 10; k++) {
		__u64 v = k * 3;
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	}
	int ro = rdonly_fd(fd);
	__u32 k = 4, next, seen = 0, n = 16;
	__u64 v;
	cr_assert(eq(i64, bt_lookup(ro, &k, &v), 0));
	cr_assert(eq(u64, v, 12));
	k = 99;
	cr_assert(eq(i64, bt_lookup(ro, &k, &v), -ENOENT));
	for (long r = bt_next_key(ro, NULL, &next); r == 0; r = bt_next_key(ro, &k, &next)) {
		cr_assert(lt(u32, next, 10));
		cr_assert(eq(u32, seen & (1u << next), 0), "key %u twice", next);
		seen |= 1u << next;
		k = next;
	}
	cr_assert(eq(u32, seen, 0x3ff));
	__u32 keys[16];
	__u64 vals[16];
	cr_assert(eq(i64, batch_lookup(ro, keys, vals, &n), -ENOENT));
	cr_assert(eq(u32, n, 10));
	for (__u32 i = 0; i < n; i++)
		cr_assert(eq(u64, vals[i], keys[i] * 3));
	k = 1;
	writes_are_eperm(ro, &k, &v);
}

BT_TEST(array_read_only_fd_reads_and_cannot_write)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 2, next;
	__u64 v = 77;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	int ro = rdonly_fd(fd);
	v = 0;
	cr_assert(eq(i64, bt_lookup(ro, &k, &v), 0));
	cr_assert(eq(u64, v, 77));
	cr_assert(eq(i64, bt_next_key(ro, &k, &next), 0));
	cr_assert(eq(u32, next, 3));
	writes_are_eperm(ro, &k, &v);
}

struct lpm_key {
	__u32 plen;
	__u8 d[4];
};

BT_TEST(lpm_trie_read_only_fd_reads_and_cannot_write)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_LPM_TRIE;
	a.key_size = sizeof(struct lpm_key);
	a.value_size = 8;
	a.max_entries = 8;
	a.map_flags = BPF_F_NO_PREALLOC;
	long fd = bt_map_create_attr(&a);
	cr_assert(ge(i64, fd, 0));
	struct lpm_key k8 = { 8, { 10 } }, k16 = { 16, { 10, 1 } }, q = { 32, { 10, 1, 2, 3 } }, next;
	__u64 v = 8;
	cr_assert(eq(i64, bt_update((int)fd, &k8, &v, BPF_ANY), 0));
	v = 16;
	cr_assert(eq(i64, bt_update((int)fd, &k16, &v, BPF_ANY), 0));
	int ro = rdonly_fd((int)fd);
	cr_assert(eq(i64, bt_lookup(ro, &q, &v), 0));
	cr_assert(eq(u64, v, 16));
	int n = 0;
	for (long r = bt_next_key(ro, NULL, &next); r == 0; r = bt_next_key(ro, &q, &next), n++)
		q = next;
	cr_assert(eq(int, n, 2));
	writes_are_eperm(ro, &k8, &v);
}

BT_TEST(queue_read_only_fd_peeks_and_cannot_pop)
{
	int fd = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0);
	__u64 v = 5;
	cr_assert(eq(i64, bt_update(fd, NULL, &v, BPF_ANY), 0));
	int ro = rdonly_fd(fd);
	v = 0;
	cr_assert(eq(i64, bt_lookup(ro, NULL, &v), 0));
	cr_assert(eq(u64, v, 5));
	cr_assert(eq(i64, bt_lookup_and_delete(ro, NULL, &v), -EPERM));
	cr_assert(eq(i64, bt_update(ro, NULL, &v, BPF_ANY), -EPERM));
}

/*
 * A writer with a read-write fd replaces, deletes and re-inserts 64-byte
 * values whose bytes are all equal; the read-only reader must only ever see
 * whole values and keys that exist. Then writers are killed at random points
 * and the reader must neither hang nor see a torn value.
 */
#define NKEYS 16u
static void writer(int fd, unsigned int seed)
{
	unsigned char val[64];
	for (unsigned int i = 0;; i++) {
		__u32 k = (seed + i * 7) % NKEYS;
		memset(val, (int)(i & 0xff), sizeof(val));
		if (i % 5 == 4)
			bt_delete(fd, &k);
		else
			bt_update(fd, &k, val, BPF_ANY);
	}
}

static void read_checks(int ro, int rounds)
{
	unsigned char val[64];
	for (int r = 0; r < rounds; r++) {
		__u32 k = (__u32)r % NKEYS, next;
		long e = bt_lookup(ro, &k, val);
		cr_assert(e == 0 || e == -ENOENT, "lookup: %ld", e);
#ifndef BPFEMU_TEST_KERNEL
		/* The engine's promise: a sequence-validated copy is whole. The
		 * kernel does not promise it: a preallocated hash reuses a freed
		 * element at once, and a syscall lookup copying it meanwhile can
		 * return a mix (seen on 6.18), so the kernel twin checks the
		 * errnos only. */
		for (size_t i = 1; e == 0 && i < sizeof(val); i++)
			cr_assert(eq(u8, val[i], val[0]), "torn value at byte %zu", i);
#endif
		e = bt_next_key(ro, &k, &next);
		cr_assert(e == 0 || e == -ENOENT, "next: %ld", e);
		if (e == 0)
			cr_assert(lt(u32, next, NKEYS));
	}
}

BT_TEST(hash_read_only_reader_sees_whole_values_under_a_writer, .timeout = 120)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 64, NKEYS, 0);
	cr_assert(eq(i64, bt_pin(fd, PIN), 0));
	chmod_pin(0444);
	pid_t w = bt_fork();
	if (w == 0)
		writer(fd, 1);
	long ro;
	{
		drop_dac();
		ro = bt_get(PIN, BPF_F_RDONLY);
		cr_assert(ge(i64, ro, 0));
	}
	read_checks((int)ro, 200000);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	for (int i = 0; i < 100; i++) {
		pid_t c = bt_fork();
		if (c == 0)
			writer(fd, (unsigned int)i);
		usleep((useconds_t)(rand() % 2000));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		read_checks((int)ro, 50);
	}
}
