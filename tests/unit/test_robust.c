/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_robust.c: a map's lock survives a holder killed by SIGKILL.
 *
 * A child takes the map's shared lock (the engine's own emu_obj_lock, as an
 * update does) and is killed while holding it, once in the middle of a hash
 * update's bookkeeping (an element taken off the free list and never linked).
 * Another process must then be able to use the map: no deadlock, the element
 * is not leaked (the map still accepts max_entries keys), data intact.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfemu/bpfemu.h"
#include "obj.h"
#include "map.h"

static char root[] = "/tmp/bpfemu-robust-XXXXXX";

static void setup(void)
{
	cr_assert(mkdtemp(root) != NULL);
	setenv("BPFEMU_ROOT", root, 1);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd)) {
		/* best effort */
	}
}

static int create_hash(__u32 max_entries)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = max_entries;
	return (int)bpfemu_bpf(BPF_MAP_CREATE, &a, sizeof(a));
}

static long update(int fd, __u32 k, __u64 v, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)&k;
	a.value = (unsigned long)&v;
	a.flags = flags;
	return bpfemu_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

static long lookup(int fd, __u32 k, __u64 *v)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)&k;
	a.value = (unsigned long)v;
	return bpfemu_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
}

/* Run fn in a child that is SIGKILLed while it holds the lock. */
static void die_holding_lock(int fd, void (*fn)(struct emu_obj *))
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct emu_obj *map;
		int acc;
		if (emu_fd_get(fd, EMU_KIND_MAP, &map, &acc))
			_exit(3);
		emu_obj_lock(map);
		if (fn)
			fn(map);
		raise(SIGKILL);
		_exit(4);
	}
	int st;
	cr_assert(eq(int, waitpid(pid, &st, 0), pid));
	bool killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	cr_assert(killed, "child was not killed (status %#x)", st);
}

/* What a killed update may leave: an element popped off the free list, never linked. */
static void leak_one_element(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	d->type_state[3]++;     /* HT_BUMP: the element is taken, nothing points at it */
}

Test(robust, lock_of_killed_holder_is_recovered, .init = setup, .fini = teardown, .timeout = 20)
{
	int fd = create_hash(4);
	cr_assert(fd >= 0);
	cr_assert(eq(long, update(fd, 1, 11, BPF_ANY), 0));

	die_holding_lock(fd, NULL);

	__u64 v = 0;
	cr_assert(eq(long, lookup(fd, 1, &v), 0), "lookup after a dead holder: %s", strerror(errno));
	cr_assert(eq(u64, v, 11));
	cr_assert(eq(long, update(fd, 2, 22, BPF_ANY), 0));
}

Test(robust, killed_update_leaks_no_capacity, .init = setup, .fini = teardown, .timeout = 20)
{
	int fd = create_hash(4);
	cr_assert(fd >= 0);
	cr_assert(eq(long, update(fd, 1, 11, BPF_ANY), 0));

	for (int i = 0; i < 3; i++)
		die_holding_lock(fd, leak_one_element);

	/* all four keys still fit, the fifth is refused as on the kernel */
	for (__u32 k = 2; k <= 4; k++)
		cr_assert(eq(long, update(fd, k, k * 11, BPF_NOEXIST), 0), "key %u: %s", k, strerror(errno));
	cr_assert(eq(long, update(fd, 5, 55, BPF_NOEXIST), -1));
	cr_assert(eq(int, errno, E2BIG));
	/* existing keys can still be replaced when full */
	cr_assert(eq(long, update(fd, 3, 333, BPF_EXIST), 0));
	__u64 v = 0;
	cr_assert(eq(long, lookup(fd, 3, &v), 0));
	cr_assert(eq(u64, v, 333));
	cr_assert(eq(long, lookup(fd, 1, &v), 0));
	cr_assert(eq(u64, v, 11));
}

/*
 * HASH locks by stripes (emu/hashtab.c). A writer killed inside its stripe
 * may leave the stripe's sequence odd, an element leaked, and the stripe's
 * spare pointing at an element it had just linked (killed between the link
 * and taking the replaced element as the spare). Readers read through it;
 * the next writer repairs before it uses the spare.
 */
struct stripe_mirror {                 /* emu/hashtab.c's struct htab_stripe */
	pthread_mutex_t lock;
	__u64 seq;
	__u32 spare;
	__u32 pad;
} __attribute__((aligned(64)));

/* a 4-entry hash: 4 buckets, one stripe, right after the buckets (64-aligned) */
static struct stripe_mirror *stripe0(struct emu_obj *map)
{
	return (struct stripe_mirror *)((char *)emu_obj_data(map) + 64);
}

static void die_inside_stripe(struct emu_obj *map)
{
	struct stripe_mirror *s = stripe0(map);
	emu_mutex_lock_robust(&s->lock);
	s->seq++;                              /* a writer is inside */
	s->spare = 2;                          /* key 2's element, linked */
	emu_map_desc(map)->type_state[3]++;    /* HT_BUMP: an element taken, never linked */
}

Test(robust, killed_stripe_holder_is_repaired, .init = setup, .fini = teardown, .timeout = 20)
{
	int fd = create_hash(4);
	cr_assert(fd >= 0);
	struct emu_obj *map;
	int acc;
	cr_assert(eq(int, emu_fd_get(fd, EMU_KIND_MAP, &map, &acc), 0));
	cr_assert(eq(u64, emu_map_desc(map)->type_state[12], 1), "one stripe (HT_NSTRIPES)");
	cr_assert(eq(long, update(fd, 1, 11, BPF_NOEXIST), 0));     /* element 1 */
	cr_assert(eq(long, update(fd, 2, 22, BPF_NOEXIST), 0));     /* element 2 */
	cr_assert(eq(long, update(fd, 1, 12, BPF_EXIST), 0));       /* element 3; 1 is the spare */
	cr_assert(eq(u32, stripe0(map)->spare, 1));

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		die_inside_stripe(map);
		raise(SIGKILL);
		_exit(4);
	}
	int st;
	cr_assert(eq(int, waitpid(pid, &st, 0), pid));
	bool killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	cr_assert(killed);
	unsigned int gen = map->hdr->lock_gen;

	__u64 v = 0;
	cr_assert(eq(long, lookup(fd, 2, &v), 0), "read through a dead writer: %s", strerror(errno));
	cr_assert(eq(u64, v, 22));
	cr_assert(eq(long, update(fd, 1, 13, BPF_EXIST), 0));       /* must not take element 2 */
	cr_assert(eq(long, lookup(fd, 2, &v), 0));
	cr_assert(eq(u64, v, 22));
	cr_assert(eq(long, lookup(fd, 1, &v), 0));
	cr_assert(eq(u64, v, 13));
	cr_assert(eq(u64, stripe0(map)->seq & 1, 0), "the repair left the sequence even");
	cr_assert(gt(u32, map->hdr->lock_gen, gen), "the repair is counted");
	/* nothing leaked: two more keys fit, a fifth does not */
	cr_assert(eq(long, update(fd, 3, 33, BPF_NOEXIST), 0));
	cr_assert(eq(long, update(fd, 4, 44, BPF_NOEXIST), 0));
	cr_assert(eq(long, update(fd, 5, 55, BPF_NOEXIST), -1));
	cr_assert(eq(int, errno, E2BIG));
	for (__u32 k = 1; k <= 4; k++) {
		cr_assert(eq(long, lookup(fd, k, &v), 0));
		cr_assert(eq(u64, v, k == 1 ? 13 : k * 11));
	}
	emu_obj_put(map);
}

/*
 * ARRAY values written from user space and a writer killed mid-copy: as on
 * the kernel, which finishes every update it starts, no value is ever left
 * torn. Values of up to 8 bytes are one aligned store; larger ones go through
 * the map's redo journal, which the next user of the map replays.
 */
static int create_array(__u32 map_type, __u32 value_size)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = map_type;
	a.key_size = 4;
	a.value_size = value_size;
	a.max_entries = 1;
	int fd = (int)bpfemu_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	cr_assert(fd >= 0);
	return fd;
}

static long array_elem(int cmd, int fd, void *val)
{
	union bpf_attr a;
	__u32 k = 0;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)&k;
	a.value = (__u64)(unsigned long)val;
	return bpfemu_bpf(cmd, &a, sizeof(a));
}

static bool whole(const unsigned char *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/* Kill a writer of value (updating `small` then `big` with one byte
 * pattern per round) 200 times; count the big values found torn. */
static int kill_writers(int small, int big, unsigned char *v, size_t small_len, size_t big_len)
{
	int torn_big = 0;
	for (int round = 0; round < 200; round++) {
		pid_t c = fork();
		cr_assert(c >= 0);
		if (c == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a failed test as a spinning orphan */
			for (unsigned int g = 1;; g++) {
				memset(v, (int)(g & 0xff), big_len);
				array_elem(BPF_MAP_UPDATE_ELEM, small, v);
				array_elem(BPF_MAP_UPDATE_ELEM, big, v);
			}
		}
		usleep((useconds_t)(rand() % 3000));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		unsigned char s[64];
		cr_assert(eq(i64, array_elem(BPF_MAP_LOOKUP_ELEM, small, s), 0));
		cr_assert(whole(s, small_len), "round %d: %zu-byte value torn", round, small_len);
		cr_assert(eq(i64, array_elem(BPF_MAP_LOOKUP_ELEM, big, v), 0));
		torn_big += !whole(v, big_len);
	}
	return torn_big;
}

Test(robust, killed_array_writer_never_tears_a_value, .init = setup, .fini = teardown, .timeout = 120)
{
	enum { BIG = 65536 };
	static unsigned char v[BIG];
	int small = create_array(BPF_MAP_TYPE_ARRAY, 8), big = create_array(BPF_MAP_TYPE_ARRAY, BIG);
	int torn = kill_writers(small, big, v, 8, BIG);
	fprintf(stderr, "robust: 64 KiB ARRAY values torn by a kill: %d of 200 (8-byte values: 0)\n", torn);
	cr_assert(eq(int, torn, 0), "%d of 200 64 KiB values torn by a killed writer", torn);
}

/* Values of 9 to 64 bytes: one masked store each where the CPU has one
 * (AVX-512BW), the journal elsewhere; neither may leave one torn. The child
 * calls the map's update op in a tight loop (no bpf() call around it), so a
 * kill lands inside the write most of the time: a plain copy there would
 * leave a torn value in most rounds. */
static int kill_op_writers(int fd, size_t len)
{
	static unsigned char pat[2][64];
	int torn = 0;
	memset(pat[0], 0x11, sizeof(pat[0]));
	memset(pat[1], 0x22, sizeof(pat[1]));
	for (int round = 0; round < 200; round++) {
		pid_t c = fork();
		cr_assert(c >= 0);
		if (c == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			struct emu_obj *map;
			int acc;
			__u32 k = 0;
			if (emu_fd_get(fd, EMU_KIND_MAP, &map, &acc))
				_exit(1);
			for (unsigned int g = 0;; g++)
				map->ops->update(map, &k, pat[g & 1], BPF_ANY);
		}
		usleep((useconds_t)(rand() % 3000));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		unsigned char v[64];
		cr_assert(eq(i64, array_elem(BPF_MAP_LOOKUP_ELEM, fd, v), 0));
		torn += !whole(v, len);
	}
	return torn;
}

Test(robust, killed_array_writer_never_tears_a_mid_sized_value, .init = setup, .fini = teardown, .timeout = 120)
{
	static const __u32 sizes[] = { 64, 24 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = create_array(BPF_MAP_TYPE_ARRAY, sizes[i]);
		int torn = kill_op_writers(fd, sizes[i]);
		fprintf(stderr, "robust: %u-byte ARRAY values torn by a kill: %d of 200\n", sizes[i], torn);
		cr_assert(eq(int, torn, 0), "%d of 200 %u-byte values torn by a killed writer", torn, sizes[i]);
		close(fd);
	}
}

Test(robust, killed_percpu_array_writer_never_tears_a_value, .init = setup, .fini = teardown, .timeout = 120)
{
	/* one user value of a per-CPU array: every possible CPU's slot */
	size_t per = 4096, n = per * emu_possible_cpus();
	unsigned char *v = malloc(n);
	cr_assert(v != NULL);
	int small = create_array(BPF_MAP_TYPE_ARRAY, 5), big = create_array(BPF_MAP_TYPE_PERCPU_ARRAY, (__u32)per);
	int torn = kill_writers(small, big, v, 5, n);
	fprintf(stderr, "robust: PERCPU_ARRAY values (%zu bytes) torn by a kill: %d of 200\n", n, torn);
	cr_assert(eq(int, torn, 0), "%d of 200 per-CPU values torn by a killed writer", torn);
	free(v);
}
