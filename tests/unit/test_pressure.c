/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_pressure.c: a full state root or an exhausted address space
 * gives ENOMEM from the call that hit it, and every existing map stays whole
 * and usable: no SIGBUS when a map's pages are touched later.
 *
 * The full-disk cases mount a tiny tmpfs as BPFEMU_ROOT in a private mount
 * namespace (root only; skipped otherwise). Engine only: the kernel's map
 * memory is not on a filesystem we could fill.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include "bt.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

static char mnt[64];

/* BPFEMU_ROOT on a fresh tmpfs of `size` in a private mount namespace. */
static void tiny_root(const char *size)
{
	char opts[64], root[96];
	if (geteuid() != 0)
		cr_skip_test("needs root to mount a tmpfs in a private mount namespace");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		cr_skip_test("no private mount namespace: %s", strerror(errno));
	snprintf(mnt, sizeof(mnt), "/tmp/bpfemu-pressure-XXXXXX");
	cr_assert(ne(ptr, mkdtemp(mnt), NULL));
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	cr_assert(eq(int, mount("tmpfs", mnt, "tmpfs", 0, opts), 0), "mount tmpfs: %s", strerror(errno));
	snprintf(root, sizeof(root), "%s/root", mnt);
	setenv("BPFEMU_ROOT", root, 1);
}

static void tiny_fini(void)
{
	if (mnt[0]) {
		umount2(mnt, MNT_DETACH);
		rmdir(mnt);
	}
}

/* Writes every index of an array map and reads it back. */
static void fill_array(int fd, __u32 max, __u64 tag)
{
	for (__u32 k = 0; k < max; k++) {
		__u64 v = tag << 32 | k;
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0), "update %u", k);
	}
	for (__u32 k = 0; k < max; k++) {
		__u64 v = 0;
		cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
		cr_assert(eq(u64, v, tag << 32 | k));
	}
}

/* Arrays of 8 KiB until the tmpfs is full: the create that does not fit is
 * ENOMEM, and every array created before can be filled (sparse files on a
 * full tmpfs used to SIGBUS here). */
Test(pressure, full_tmpfs_create_enomem_existing_maps_fillable, .init = NULL, .fini = tiny_fini, .timeout = 30)
{
	tiny_root("128k");
	int fds[64], n = 0;
	long r = 0;
	while (n < 64) {
		r = bt_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1024, 0);
		if (r < 0)
			break;
		fds[n++] = (int)r;
	}
	cr_assert(eq(i64, r, -ENOMEM), "the create that did not fit: %s", strerror((int)-r));
	cr_assert(gt(i32, n, 0));
	for (int i = 0; i < n; i++)
		fill_array(fds[i], 1024, (__u64)i + 1);
	/* freeing one makes room for one again */
	bt_close(fds[--n]);
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1024, 0);
	fill_array(fd, 1024, 99);
}

/* Two hashes that each fit but not both. Hash elements are backed by memory
 * as the map fills (an empty map costs its buckets only: issue 8), so both
 * creates succeed and the update that finds no memory answers ENOMEM, never
 * SIGBUS; the maps stay whole, and once the other map is gone the first takes
 * all max_entries keys, then E2BIG, and iterates over exactly those keys.
 * (The kernel preallocates and would refuse the second create instead.) */
static void check_hash(int fd, __u32 max, __u32 expect)
{
	unsigned char v[64];
	__u32 cur, next, count = 0;
	for (long r = bt_next_key(fd, NULL, &next); r == 0; r = bt_next_key(fd, &cur, &next)) {
		cr_assert(lt(u32, next, max));
		cr_assert(eq(i64, bt_lookup(fd, &next, v), 0));
		for (size_t i = 0; i < sizeof(v); i++)
			cr_assert(eq(u8, v[i], (unsigned char)(next & 0xff)));
		cur = next;
		cr_assert(le(u32, ++count, max));
	}
	cr_assert(eq(u32, count, expect));
}

Test(pressure, full_tmpfs_hash_fill_enomem_then_fills, .init = NULL, .fini = tiny_fini, .timeout = 30)
{
	tiny_root("512k");
	const __u32 max = 4096;
	int a = bt_map_new(BPF_MAP_TYPE_HASH, 4, 64, max, 0);
	int b = bt_map_new(BPF_MAP_TYPE_HASH, 4, 64, max, 0);
	unsigned char v[64];
	__u32 filled[2] = { 0, 0 };
	long r = 0;
	/* fill both in turn until the tmpfs runs out */
	for (__u32 k = 0; k < max && r == 0; k++)
		for (int m = 0; m < 2 && r == 0; m++) {
			memset(v, (int)(k & 0xff), sizeof(v));
			r = bt_update(m ? b : a, &k, v, BPF_NOEXIST);
			if (r == 0)
				filled[m]++;
		}
	cr_assert(eq(i64, r, -ENOMEM), "the update that found no memory: %s", strerror((int)-r));
	check_hash(a, max, filled[0]);
	check_hash(b, max, filled[1]);
	bt_close(b);
	for (__u32 k = filled[0]; k < max; k++) {
		memset(v, (int)(k & 0xff), sizeof(v));
		cr_assert(eq(i64, bt_update(a, &k, v, BPF_NOEXIST), 0), "key %u", k);
	}
	__u32 k = max;
	cr_assert(eq(i64, bt_update(a, &k, v, BPF_NOEXIST), -E2BIG));
	check_hash(a, max, max);
}

/* RLIMIT_AS: a map too large for what is left of the address space is ENOMEM
 * from its create; the maps that exist keep working, small creates succeed. */
BT_TEST(rlimit_as_large_create_enomem_small_ok, .timeout = 30)
{
#ifdef UNDER_SANITIZER
	cr_skip_test("sanitizers reserve terabytes of address space: RLIMIT_AS cannot be tested");
#endif
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 64, 0);
	fill_array(fd, 64, 1);
	unsigned long vm = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	cr_assert(ne(ptr, f, NULL));
	cr_assert(eq(int, fscanf(f, "%lu", &vm), 1));
	fclose(f);
	struct rlimit rl = { .rlim_cur = vm * 4096 + (64ul << 20), .rlim_max = RLIM_INFINITY };
	cr_assert(eq(int, setrlimit(RLIMIT_AS, &rl), 0));
	cr_assert(eq(i64, bt_map_create(BPF_MAP_TYPE_ARRAY, 4, 4096, 65536, 0), -ENOMEM));   /* 256 MiB */
	fill_array(fd, 64, 2);
	int small = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 64, 0);
	__u32 k = 1;
	__u64 v = 7;
	cr_assert(eq(i64, bt_update(small, &k, &v, BPF_ANY), 0));
}
