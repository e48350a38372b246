/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_stress.c: one pinned map per family, many processes and
 * threads, and processes SIGKILLed in the middle of updates.
 *
 * Table-driven: a new family is one line in families[]. Values are 16 bytes,
 * { key * 2^20 + version, ~that }, so a torn value is seen at once.
 *
 * - concurrency: 4 workers (processes, then threads) each own a key range and
 *   run random updates, deletes, lookups and partial iterations on it while
 *   keeping a model; families with delete also share a counter guarded by a
 *   BPF_NOEXIST "lock" element (no lost increments). At the end: every key
 *   matches its owner's model, iteration yields each present key once, the
 *   count is right.
 * - crashes: a child loops on updates and deletes and is SIGKILLed at a random
 *   microsecond; after each kill another process checks that the map is not
 *   locked, iteration terminates without duplicates, every value is whole,
 *   and (hash) all max_entries slots can still be filled, no more.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "bt.h"
#include "obj.h"

struct family {
	char name[24];           /* an array: Criterion copies parameters into a re-exec'd worker */
	__u32 type, key_size, max_entries, flags;
	bool has_delete;         /* keys come and go (hash); else all keys always exist (array) */
};

static const struct family families[] = {
	{ "hash", BPF_MAP_TYPE_HASH, 4, 1024, 0, true },
	{ "hash_no_prealloc", BPF_MAP_TYPE_HASH, 4, 1024, BPF_F_NO_PREALLOC, true },
	{ "array", BPF_MAP_TYPE_ARRAY, 4, 1024, 0, false },
};

#define NWORKERS 4
#define RANGE 200                /* keys per worker */
#define OPS 4000
#define COUNTER_KEY 1000         /* hash: the shared counter, 1001 its lock */
#define LOCK_KEY 1001
#define PIN "/sys/fs/bpf/stress"

struct val { __u64 a, b; };
static struct val mkval(__u32 key, __u64 ver) { __u64 a = (__u64)key << 20 | (ver & 0xfffff); return (struct val){ a, ~a }; }
static bool whole(const struct val *v, __u32 key) { return v->b == ~v->a && (v->a >> 20) == key; }

/* what the workers report through shared memory */
struct report {
	__u32 version[NWORKERS * RANGE];     /* 0 = absent, else version + 1 */
	__u32 increments[NWORKERS];
	__u32 errors[NWORKERS];
	char msg[NWORKERS][160];
};

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fail(struct report *r, int w, const char *fmt, __u32 key, long ret)
{
	if (!r->errors[w]++)
		snprintf(r->msg[w], sizeof(r->msg[w]), fmt, key, ret);
}

/* BPF_NOEXIST as a lock: spin until our element goes in. */
static void counter_increment(int fd)
{
	__u32 lk = LOCK_KEY, ck = COUNTER_KEY;
	struct val one = mkval(LOCK_KEY, 1), c;
	while (bt_update(fd, &lk, &one, BPF_NOEXIST) != 0)
		sched_yield();
	if (bt_lookup(fd, &ck, &c) != 0)
		c = mkval(COUNTER_KEY, 0);
	c = mkval(COUNTER_KEY, (c.a & 0xfffff) + 1);
	bt_update(fd, &ck, &c, BPF_ANY);
	bt_delete(fd, &lk);
}

static void worker(const struct family *f, int fd, int w, struct report *r)
{
	__u64 seed = 0x9e3779b97f4a7c15ull * (__u64)(w + 1) ^ (__u64)getpid();
	__u32 *ver = &r->version[w * RANGE];
	__u32 base = (__u32)w * RANGE;

	for (int i = 0; i < OPS; i++) {
		__u32 idx = (__u32)(rnd(&seed) % RANGE), key = base + idx;
		unsigned int op = (unsigned int)(rnd(&seed) % 10);
		struct val v;
		long ret;
		if (op < 5) {                                  /* update */
			__u32 nv = ver[idx] + 1;
			v = mkval(key, nv);
			__u64 flags = f->has_delete ? (ver[idx] ? BPF_EXIST : BPF_NOEXIST) : BPF_ANY;
			ret = bt_update(fd, &key, &v, flags);
			if (ret)
				fail(r, w, "update %u: %ld", key, ret);
			else
				ver[idx] = nv;
		} else if (op < 7 && f->has_delete) {          /* delete */
			ret = bt_delete(fd, &key);
			if (ret != (ver[idx] ? 0 : -ENOENT))
				fail(r, w, "delete %u: %ld", key, ret);
			ver[idx] = 0;
		} else if (op < 9) {                           /* lookup */
			ret = bt_lookup(fd, &key, &v);
			bool present = ver[idx] || !f->has_delete;
			if (ret != (present ? 0 : -ENOENT))
				fail(r, w, "lookup %u: %ld", key, ret);
			else if (!ret && ver[idx] && (v.a != mkval(key, ver[idx]).a || !whole(&v, key)))
				fail(r, w, "lookup %u: wrong value (%ld)", key, ret);
			else if (!ret && !ver[idx] && v.a != 0)
				fail(r, w, "lookup %u: never written but %ld", key, (long)v.a);
		} else if (f->has_delete && i % 50 == 9) {      /* the shared counter */
			counter_increment(fd);
			r->increments[w]++;
		} else {                                       /* a few steps of iteration */
			__u32 cur = key, next;
			for (int s = 0; s < 8; s++) {
				ret = bt_next_key(fd, &cur, &next);
				if (ret == -ENOENT)
					break;
				if (ret) {
					fail(r, w, "next_key after %u: %ld", cur, ret);
					break;
				}
				cur = next;
			}
		}
	}
}

static struct report *shared_report(void)
{
	struct report *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, r, MAP_FAILED));
	return r;
}

/* Everything the workers did, checked through the syscall API. */
static void verify(const struct family *f, int fd, struct report *r)
{
	for (int w = 0; w < NWORKERS; w++)
		cr_assert(eq(u32, r->errors[w], 0), "%s worker %d: %u errors, first: %s", f->name, w, r->errors[w], r->msg[w]);
	unsigned int expect = 0;
	for (__u32 k = 0; k < NWORKERS * RANGE; k++) {
		struct val v;
		long ret = bt_lookup(fd, &k, &v);
		if (r->version[k]) {
			expect++;
			cr_assert(eq(i64, ret, 0), "%s key %u", f->name, k);
			cr_assert(eq(u64, v.a, mkval(k, r->version[k]).a), "%s key %u: lost update", f->name, k);
		} else if (f->has_delete) {
			cr_assert(eq(i64, ret, -ENOENT), "%s key %u: should be absent", f->name, k);
		}
	}
	/* iteration: each key once, the right count */
	static unsigned char seen[1 << 16];
	memset(seen, 0, sizeof(seen));
	unsigned int n = 0, total = 0;
	__u32 cur, next;
	for (long ret = bt_next_key(fd, NULL, &next); ret == 0; ret = bt_next_key(fd, &cur, &next)) {
		cr_assert(lt(u32, next, sizeof(seen)));
		cr_assert(eq(u8, seen[next], 0), "%s: key %u iterated twice", f->name, next);
		seen[next] = 1;
		if (next < NWORKERS * RANGE)
			n++;
		total++;
		cur = next;
		cr_assert(le(u32, total, f->max_entries));
	}
	if (f->has_delete) {
		cr_assert(eq(u32, n, expect), "%s: %u keys iterated, %u expected", f->name, n, expect);
		unsigned int incs = 0;
		for (int w = 0; w < NWORKERS; w++)
			incs += r->increments[w];
		__u32 ck = COUNTER_KEY, lk = LOCK_KEY;
		struct val c = { 0, 0 };
		if (incs)
			cr_assert(eq(i64, bt_lookup(fd, &ck, &c), 0));
		cr_assert(eq(u64, c.a & 0xfffff, incs), "%s: lost counter increments", f->name);
		cr_assert(eq(i64, bt_lookup(fd, &lk, &c), -ENOENT));
		cr_assert(eq(u32, total, n + (incs ? 1 : 0)));
	} else {
		cr_assert(eq(u32, total, f->max_entries));
	}
}

static int pinned_map(const struct family *f)
{
	int fd = bt_map_new(f->type, f->key_size, sizeof(struct val), f->max_entries, f->flags);
	cr_assert(eq(i64, bt_pin(fd, PIN), 0));
	return fd;
}

ParameterizedTestParameters(stress, processes_random_ops_match_model)
{
	return cr_make_param_array(struct family, families, BT_ARRAY_SIZE(families));
}

ParameterizedTest(const struct family *f, stress, processes_random_ops_match_model, .init = bt_setup,
		  .fini = bt_teardown, .timeout = 120)
{
	int fd = pinned_map(f);
	struct report *r = shared_report();
	pid_t pids[NWORKERS];
	for (int w = 0; w < NWORKERS; w++) {
		pids[w] = bt_fork();
		cr_assert(ge(i32, pids[w], 0));
		if (pids[w] == 0) {
			long mfd = bt_get(PIN, 0);       /* another process: its own fd from the pin */
			if (mfd < 0)
				_exit(2);
			worker(f, (int)mfd, w, r);
			_exit(0);
		}
	}
	for (int w = 0; w < NWORKERS; w++) {
		int st;
		cr_assert(eq(i32, waitpid(pids[w], &st, 0), pids[w]));
		bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		cr_assert(ok, "worker %d status %#x", w, st);
	}
	verify(f, fd, r);
}

struct targ { const struct family *f; int fd, w; struct report *r; };
static void *thread_main(void *p)
{
	struct targ *t = p;
	worker(t->f, t->fd, t->w, t->r);
	return NULL;
}

ParameterizedTestParameters(stress, threads_random_ops_match_model)
{
	return cr_make_param_array(struct family, families, BT_ARRAY_SIZE(families));
}

ParameterizedTest(const struct family *f, stress, threads_random_ops_match_model, .init = bt_setup,
		  .fini = bt_teardown, .timeout = 120)
{
	int fd = pinned_map(f);
	struct report *r = shared_report();
	pthread_t th[NWORKERS];
	struct targ args[NWORKERS];
	for (int w = 0; w < NWORKERS; w++) {
		args[w] = (struct targ){ f, w % 2 ? fd : (int)bt_get(PIN, 0), w, r };   /* shared and own fds */
		cr_assert(ge(i32, args[w].fd, 0));
		cr_assert(eq(int, pthread_create(&th[w], NULL, thread_main, &args[w]), 0));
	}
	for (int w = 0; w < NWORKERS; w++)
		cr_assert(eq(int, pthread_join(th[w], NULL), 0));
	verify(f, fd, r);
}

/* ---- SIGKILL at random points ---- */

#define KILLS 300
#define CRASH_MAX 64

/* Loops forever on updates and deletes over twice max_entries keys. */
static void crash_child(const struct family *f, volatile __u64 *ops)
{
	long fd = bt_get(PIN, 0);
	if (fd < 0)
		_exit(2);
	__u64 seed = (__u64)getpid() * 0x2545f4914f6cdd1dull;
	for (__u64 i = 0;; i++) {
		__u32 key = (__u32)(rnd(&seed) % (f->has_delete ? 2 * CRASH_MAX : CRASH_MAX));
		struct val v = mkval(key, i);
		if (f->has_delete && rnd(&seed) % 3 == 0)
			bt_delete((int)fd, &key);
		else
			bt_update((int)fd, &key, &v, BPF_ANY);
		*ops = i + 1;
	}
}

static void check_after_kill(const struct family *f, int fd, bool capacity)
{
	static unsigned char seen[2 * CRASH_MAX];
	memset(seen, 0, sizeof(seen));
	__u32 cur, next, n = 0;
	struct val v;
	for (long ret = bt_next_key(fd, NULL, &next); ret == 0; ret = bt_next_key(fd, &cur, &next)) {
		cr_assert(lt(u32, next, 2 * CRASH_MAX), "%s: key %u was never written", f->name, next);
		cr_assert(eq(u8, seen[next], 0), "%s: key %u iterated twice", f->name, next);
		seen[next] = 1;
		cr_assert(eq(i64, bt_lookup(fd, &next, &v), 0));
		cr_assert(v.a == 0 || whole(&v, next), "%s: key %u has a torn value %#llx/%#llx", f->name, next,
			  (unsigned long long)v.a, (unsigned long long)v.b);
		cr_assert(le(u32, ++n, CRASH_MAX), "%s: iteration does not end", f->name);
		cur = next;
	}
	if (!capacity || !f->has_delete)
		return;
	/* empty it, then all max_entries slots must take a key, and not one more */
	for (__u32 k = 0; k < 2 * CRASH_MAX; k++)
		bt_delete(fd, &k);
	cr_assert(eq(i64, bt_next_key(fd, NULL, &next), -ENOENT));
	for (__u32 k = 0; k < CRASH_MAX; k++) {
		v = mkval(k, 1);
		cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_NOEXIST), 0), "%s: slot %u lost", f->name, k);
	}
	__u32 k = CRASH_MAX;
	v = mkval(k, 1);
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_NOEXIST), -E2BIG));
}

ParameterizedTestParameters(stress, sigkill_mid_update_map_stays_usable)
{
	return cr_make_param_array(struct family, families, BT_ARRAY_SIZE(families));
}

ParameterizedTest(const struct family *f, stress, sigkill_mid_update_map_stays_usable, .init = bt_setup,
		  .fini = bt_teardown, .timeout = 240)
{
	int fd = bt_map_new(f->type, f->key_size, sizeof(struct val), CRASH_MAX, f->flags);
	cr_assert(eq(i64, bt_pin(fd, PIN), 0));
	volatile __u64 *ops = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, (void *)ops, MAP_FAILED));
	__u64 seed = (__u64)time(NULL) | 1;
	unsigned int landed = 0;

	for (int i = 0; i < KILLS; i++) {
		*ops = 0;
		pid_t pid = bt_fork();
		cr_assert(ge(i32, pid, 0));
		if (pid == 0)
			crash_child(f, ops);
		while (*ops == 0)            /* let it reach the loop, then kill at a random point */
			sched_yield();
		usleep((useconds_t)(rnd(&seed) % 2000));
		kill(pid, SIGKILL);
		int st;
		cr_assert(eq(i32, waitpid(pid, &st, 0), pid));
		bool killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		cr_assert(killed, "child status %#x", st);
		landed += *ops > 0;
		check_after_kill(f, fd, i % 10 == 9);
	}
	cr_assert(eq(u32, landed, KILLS));
	/* how many kills hit a holder of the map's lock (repaired by the next locker) */
	struct emu_obj *obj;
	int acc;
	cr_assert(eq(int, emu_fd_get(fd, EMU_KIND_MAP, &obj, &acc), 0));
	unsigned int repaired = __atomic_load_n(&obj->hdr->lock_gen, __ATOMIC_ACQUIRE);
	emu_obj_put(obj);
	fprintf(stderr, "stress: %s: %u kills while the child looped on map calls, %u of them holding the map lock\n", f->name,
		    landed, repaired);
}
