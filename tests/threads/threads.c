/* SPDX-License-Identifier: MIT */
/*
 * tests/threads/threads.c: the engine from many threads at once, as a plain
 * program (no Criterion, whose forking runner cannot start under TSan), so it
 * runs in the TSan build too (tools/check: ctest -L threads).
 *
 * Per family (one line in families[]): one pinned map; 4 threads each own a
 * key range and run random updates, deletes and lookups against a model,
 * while 2 more threads churn the fd table (OBJ_GET of the pin, lookups
 * through that fd, close) and create, pin, unpin and close maps of their own.
 * At the end every key matches its owner's model and iteration yields each
 * present key once. Exit 0 on success, 1 with a message otherwise. With
 * --hooks the engine runs as under the shim (a trusted fd cache, object files
 * reused once dropped).
 */
#include <errno.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfemu/bpfemu.h"
#include "emu.h"

struct family {
	const char *name;
	__u32 type, max_entries, flags;
	bool has_delete;
};

static const struct family families[] = {
	{ "hash", BPF_MAP_TYPE_HASH, 1024, 0, true },
	{ "hash_no_prealloc", BPF_MAP_TYPE_HASH, 1024, BPF_F_NO_PREALLOC, true },
	/* exactly as many entries as keys: an insert must never see E2BIG while
	 * other threads' deletes put elements back without the object lock */
	{ "hash_exact_fit", BPF_MAP_TYPE_HASH, 800, 0, true },
	{ "array", BPF_MAP_TYPE_ARRAY, 1024, 0, false },
};

#define NWORKERS 4
#define NCHURN 2
#define RANGE 200      /* NWORKERS * RANGE keys: hash_exact_fit's max_entries */
#define OPS 3000

static atomic_int failures;
static const struct family *fam;
static char pin[128];

#define FAIL(...) do { fprintf(stderr, "threads: %s: ", fam->name); fprintf(stderr, __VA_ARGS__); \
		       fputc('\n', stderr); atomic_fetch_add(&failures, 1); } while (0)

static long bpf(int cmd, union bpf_attr *a)
{
	long r = bpfemu_bpf(cmd, a, sizeof(*a));
	return r < 0 ? -errno : r;
}

static long elem(int cmd, int fd, const void *k, const void *v, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)k;
	a.value = (__u64)(unsigned long)v;
	a.flags = flags;
	return bpf(cmd, &a);
}

static long path_cmd(int cmd, int fd, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (__u32)fd;
	a.pathname = (__u64)(unsigned long)path;
	return bpf(cmd, &a);
}

static long create(__u32 type, __u32 max, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = 4;
	a.value_size = 16;
	a.max_entries = max;
	a.map_flags = flags;
	return bpf(BPF_MAP_CREATE, &a);
}

static void closefd(int fd)
{
	close(fd);
	bpfemu_forget_fd(fd);
}

struct val { __u64 a, b; };
static struct val mkval(__u32 key, __u64 ver) { __u64 a = (__u64)key << 20 | ver; return (struct val){ a, ~a }; }

static __u32 version[NWORKERS * RANGE];
static int map_fd;

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	int w = (int)(long)arg;
	__u64 seed = 0x9e3779b97f4a7c15ull * (__u64)(w + 1);
	__u32 *ver = &version[w * RANGE];
	for (int i = 0; i < OPS; i++) {
		__u32 idx = (__u32)(rnd(&seed) % RANGE), key = (__u32)w * RANGE + idx;
		unsigned int op = (unsigned int)(rnd(&seed) % 10);
		struct val v;
		long r;
		if (op < 5) {
			v = mkval(key, ver[idx] + 1);
			r = elem(BPF_MAP_UPDATE_ELEM, map_fd, &key, &v, BPF_ANY);
			if (r)
				FAIL("update %u: %ld", key, r);
			else
				ver[idx]++;
		} else if (op < 7 && fam->has_delete) {
			r = elem(BPF_MAP_DELETE_ELEM, map_fd, &key, NULL, 0);
			if (r != (ver[idx] ? 0 : -ENOENT))
				FAIL("delete %u: %ld", key, r);
			ver[idx] = 0;
		} else {
			r = elem(BPF_MAP_LOOKUP_ELEM, map_fd, &key, &v, 0);
			if (ver[idx] && (r || v.a != mkval(key, ver[idx]).a || v.b != ~v.a))
				FAIL("lookup %u: %ld", key, r);
		}
	}
	return NULL;
}

/* fd table and object churn next to the workers */
static void *churner(void *arg)
{
	int c = (int)(long)arg;
	char mine[160];
	snprintf(mine, sizeof(mine), "%s.%d", pin, c);
	for (int i = 0; i < OPS / 20; i++) {
		long fd = path_cmd(BPF_OBJ_GET, 0, pin);
		if (fd < 0) {
			FAIL("obj_get: %ld", fd);
			continue;
		}
		__u32 key = (__u32)i % (NWORKERS * RANGE);
		struct val v;
		long r = elem(BPF_MAP_LOOKUP_ELEM, (int)fd, &key, &v, 0);
		if (r && r != -ENOENT)
			FAIL("lookup through obj_get fd: %ld", r);
		closefd((int)fd);
		long m = create(fam->type, 8, fam->flags);
		if (m < 0) {
			FAIL("create: %ld", m);
			continue;
		}
		if (path_cmd(BPF_OBJ_PIN, (int)m, mine) == 0) {
			long g = path_cmd(BPF_OBJ_GET, 0, mine);
			if (g >= 0)
				closefd((int)g);
			char real[4200];
			snprintf(real, sizeof(real), "%s/bpffs/stress.%d", getenv("BPFEMU_ROOT"), c);
			unlink(real);
		}
		closefd((int)m);
	}
	return NULL;
}

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *ftw)
{
	(void)sb; (void)f; (void)ftw;
	remove(p);
	return 0;
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/bpfemu-threads-XXXXXX";
	if (!mkdtemp(root))
		return 1;
	/* --hooks: as under the shim, which tells the engine of every close
	 * (closefd does): the fd cache is trusted and dropped object files are
	 * kept and reused (emu/fdtable.c), from every thread at once */
	if (argc > 1 && !strcmp(argv[1], "--hooks"))
		emu_fd_hooks_active();
	setenv("BPFEMU_ROOT", root, 1);
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		fam = &families[f];
		memset(version, 0, sizeof(version));
		snprintf(pin, sizeof(pin), "/sys/fs/bpf/stress");
		long fd = create(fam->type, fam->max_entries, fam->flags);
		if (fd < 0 || path_cmd(BPF_OBJ_PIN, (int)fd, pin)) {
			FAIL("create/pin: %ld", fd);
			break;
		}
		map_fd = (int)fd;
		pthread_t th[NWORKERS + NCHURN];
		for (long t = 0; t < NWORKERS + NCHURN; t++)
			pthread_create(&th[t], NULL, t < NWORKERS ? worker : churner, (void *)(t < NWORKERS ? t : t - NWORKERS));
		for (int t = 0; t < NWORKERS + NCHURN; t++)
			pthread_join(th[t], NULL);
		unsigned int present = 0, seen_n = 0;
		for (__u32 k = 0; k < NWORKERS * RANGE; k++) {
			struct val v;
			long r = elem(BPF_MAP_LOOKUP_ELEM, map_fd, &k, &v, 0);
			if (version[k]) {
				present++;
				if (r || v.a != mkval(k, version[k]).a)
					FAIL("key %u: lost update (%ld)", k, r);
			} else if (fam->has_delete && r != -ENOENT) {
				FAIL("key %u: should be absent (%ld)", k, r);
			}
		}
		static unsigned char seen[1024];
		memset(seen, 0, sizeof(seen));
		__u32 cur = 0, next = 0;
		for (long r = elem(BPF_MAP_GET_NEXT_KEY, map_fd, NULL, &next, 0); r == 0;
		     r = elem(BPF_MAP_GET_NEXT_KEY, map_fd, &cur, &next, 0)) {
			if (next >= 1024 || seen[next]++ || ++seen_n > fam->max_entries) {
				FAIL("iteration: key %u twice or out of range", next);
				break;
			}
			cur = next;
		}
		if (fam->has_delete ? seen_n != present : seen_n != fam->max_entries)
			FAIL("iterated %u keys, expected %u", seen_n, fam->has_delete ? present : fam->max_entries);
		closefd(map_fd);
		char real[4200];
		snprintf(real, sizeof(real), "%s/bpffs/stress", root);
		unlink(real);
		if (!atomic_load(&failures))
			printf("threads: %s: %d threads x %d ops + %d churners: model matches\n", fam->name, NWORKERS,
			       OPS, NCHURN);
	}
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return atomic_load(&failures) ? 1 : 0;
}
