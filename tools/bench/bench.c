/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench.c: map workloads through one of two backends.
 *
 *   bench syscall   every operation is syscall(__NR_bpf, ...): the real kernel
 *                   when run plainly as root, the emulator when run under
 *                   `bpfemu run` (the shim answers the same syscall)
 *   bench floor     the same operations on a plain in-process table (open
 *                   addressing hash / array, same copies in and out): the
 *                   floor no emulator can beat
 *   bench abi       the floor's table behind the bpf() calling convention:
 *                   the same attr built and passed to a variadic syscall()
 *                   look-alike that copies it in, checks its tail, copies the
 *                   key in and the value out (plain memcpy: no fault safety,
 *                   no fd table, no sharing). What the syscall shape alone
 *                   costs any emulator of it: the part of emu/floor that no
 *                   implementation behind LD_PRELOAD can remove
 *
 * Prints one line per row: "row <name> <ns_per_op>" (median of the repeats),
 * plus "mem <name> <value>" lines. tools/bench/run-bench runs all backends
 * in one go and prints the ratios. Options: --quick (fewer repeats, 100K
 * instead of 1M entries: for a smoke run, not for the README's table),
 * --life (the life-cycle rows only), --only SUBSTR (only the element and
 * mix rows whose name contains SUBSTR, no life-cycle or memory rows: for
 * profiling one workload), --cpu (CPU time of the process instead
 * of elapsed time: steadier on a busy machine, but it leaves out what the
 * kernel defers to its own threads, such as freeing maps; the mix rows, which
 * measure parallel throughput, keep elapsed time).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXV 64

struct table;         /* a map in some backend */

struct backend {
	const char *name;
	struct table *(*create)(int type, unsigned int ksz, unsigned int vsz, unsigned int max);
	void (*destroy)(struct table *t);
	int (*update)(struct table *t, const void *key, const void *val, __u64 flags);
	int (*lookup)(struct table *t, const void *key, void *val);
	int (*delete)(struct table *t, const void *key);
	int (*next_key)(struct table *t, const void *key, void *next);
	/* lookup_batch: returns elements fetched, -1 when not supported */
	long (*lookup_batch)(struct table *t, unsigned int total);
	/* the same map reopened in a forked child (pinned for the syscall backend) */
	struct table *(*share)(struct table *t);
};

/* ---- syscall backend ---- */

struct table {
	int fd;
	int type;
	unsigned int ksz, vsz, max;
	/* floor */
	unsigned char *mem;
	__u32 *slots;          /* hash: index + 1 per open-addressing slot */
	unsigned int nslots, used;
	pthread_mutex_t *lock;
	char pin[128];
};

/* syscall(), or the abi backend's look-alike: called through a pointer, so
 * neither is inlined into the workloads */
static long (*volatile bpf_entry)(long nr, ...) = syscall;

static long sys_bpf(int cmd, union bpf_attr *a, unsigned int size)
{
	return bpf_entry(__NR_bpf, cmd, a, size);
}

static struct table *sc_create(int type, unsigned int ksz, unsigned int vsz, unsigned int max)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = (__u32)type;
	a.key_size = ksz;
	a.value_size = vsz;
	a.max_entries = max;
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0) {
		fprintf(stderr, "bench: BPF_MAP_CREATE: %s\n", strerror(errno));
		exit(1);
	}
	struct table *t = calloc(1, sizeof(*t));
	t->fd = fd;
	t->type = type;
	t->ksz = ksz;
	t->vsz = vsz;
	t->max = max;
	return t;
}

static void sc_destroy(struct table *t)
{
	if (t->pin[0])
		unlink(t->pin);
	close(t->fd);
	free(t);
}

static int sc_update(struct table *t, const void *key, const void *val, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)t->fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	a.flags = flags;
	return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

static int sc_lookup(struct table *t, const void *key, void *val)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)t->fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
}

static int sc_delete(struct table *t, const void *key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)t->fd;
	a.key = (__u64)(unsigned long)key;
	return (int)sys_bpf(BPF_MAP_DELETE_ELEM, &a, sizeof(a));
}

static int sc_next_key(struct table *t, const void *key, void *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)t->fd;
	a.key = (__u64)(unsigned long)key;
	a.next_key = (__u64)(unsigned long)next;
	return (int)sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a));
}

static long sc_lookup_batch(struct table *t, unsigned int total)
{
	enum { CHUNK = 1024 };
	static unsigned char keys[CHUNK * MAXV], vals[CHUNK * MAXV];
	__u64 in = 0, out = 0;
	long got = 0;
	bool first = true;

	for (;;) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.batch.map_fd = (__u32)t->fd;
		a.batch.in_batch = first ? 0 : (__u64)(unsigned long)&in;
		a.batch.out_batch = (__u64)(unsigned long)&out;
		a.batch.keys = (__u64)(unsigned long)keys;
		a.batch.values = (__u64)(unsigned long)vals;
		a.batch.count = CHUNK;
		long r = sys_bpf(BPF_MAP_LOOKUP_BATCH, &a, sizeof(a));
		if (r < 0 && errno != ENOENT)
			return got ? got : -1;
		got += a.batch.count;
		if (r < 0 || got >= total)
			return got;
		in = out;
		first = false;
	}
}

static struct table *sc_share(struct table *t)
{
	/* the child reopens the map through its pin, like a separate program */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)t->pin;
	int fd = (int)sys_bpf(BPF_OBJ_GET, &a, sizeof(a));
	if (fd < 0) {
		fprintf(stderr, "bench: BPF_OBJ_GET %s: %s\n", t->pin, strerror(errno));
		exit(1);
	}
	struct table *c = malloc(sizeof(*c));
	*c = *t;
	c->fd = fd;
	c->pin[0] = '\0';
	return c;
}

static int sc_pin(struct table *t, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	snprintf(t->pin, sizeof(t->pin), "%s", path);
	unlink(path);
	a.pathname = (__u64)(unsigned long)t->pin;
	a.bpf_fd = (__u32)t->fd;
	return (int)sys_bpf(BPF_OBJ_PIN, &a, sizeof(a));
}

static const struct backend sc_backend = {
	"syscall", sc_create, sc_destroy, sc_update, sc_lookup, sc_delete, sc_next_key, sc_lookup_batch, sc_share,
};

/* ---- floor backend: what an in-process table costs ---- */

static __u32 fl_hash(const void *key, unsigned int len)
{
	const unsigned char *p = key;
	__u64 h = 0x9e3779b97f4a7c15ull ^ len;
	for (unsigned int i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	return (__u32)h;
}

static size_t fl_elem(const struct table *t) { return ((t->ksz + 7) & ~7u) + ((t->vsz + 7) & ~7u); }

static struct table *fl_create(int type, unsigned int ksz, unsigned int vsz, unsigned int max)
{
	struct table *t = calloc(1, sizeof(*t));
	t->type = type;
	t->ksz = ksz;
	t->vsz = vsz;
	t->max = max;
	size_t bytes = (size_t)max * fl_elem(t);
	if (type == BPF_MAP_TYPE_HASH) {
		t->nslots = 1;
		while (t->nslots < max * 2u)
			t->nslots <<= 1;
		bytes += (size_t)t->nslots * 4;
	}
	/* shared, so the two-process row has the same floor */
	t->mem = mmap(NULL, bytes + 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->mem == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	t->lock = (pthread_mutex_t *)t->mem;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(t->lock, &ma);
	if (type == BPF_MAP_TYPE_HASH)
		t->slots = (__u32 *)(t->mem + 4096 + (size_t)max * fl_elem(t));
	return t;
}

static void fl_destroy(struct table *t)
{
	free(t);    /* the mapping is left to process exit: rows are few */
}

static unsigned char *fl_at(struct table *t, __u32 idx) { return t->mem + 4096 + (size_t)idx * fl_elem(t); }

/* slot of key, or of the empty slot where it would go */
static __u32 *fl_find(struct table *t, const void *key, bool *found)
{
	__u32 mask = t->nslots - 1, s = fl_hash(key, t->ksz) & mask;
	for (;; s = (s + 1) & mask) {
		__u32 v = t->slots[s];
		if (!v) {
			*found = false;
			return &t->slots[s];
		}
		if (v != UINT32_MAX && !memcmp(fl_at(t, v - 1), key, t->ksz)) {
			*found = true;
			return &t->slots[s];
		}
	}
}

static int fl_update(struct table *t, const void *key, const void *val, __u64 flags)
{
	(void)flags;
	if (t->type == BPF_MAP_TYPE_ARRAY) {
		__u32 i;
		memcpy(&i, key, 4);
		if (i >= t->max)
			return -1;
		memcpy(fl_at(t, i), val, t->vsz);
		return 0;
	}
	bool found;
	pthread_mutex_lock(t->lock);
	__u32 *s = fl_find(t, key, &found);
	if (!found) {
		if (t->used >= t->max) {
			pthread_mutex_unlock(t->lock);
			errno = E2BIG;
			return -1;
		}
		*s = ++t->used;
		memcpy(fl_at(t, *s - 1), key, t->ksz);
	}
	memcpy(fl_at(t, *s - 1) + ((t->ksz + 7) & ~7u), val, t->vsz);
	pthread_mutex_unlock(t->lock);
	return 0;
}

static int fl_lookup(struct table *t, const void *key, void *val)
{
	if (t->type == BPF_MAP_TYPE_ARRAY) {
		__u32 i;
		memcpy(&i, key, 4);
		if (i >= t->max) {
			errno = ENOENT;
			return -1;
		}
		memcpy(val, fl_at(t, i), t->vsz);
		return 0;
	}
	bool found;
	pthread_mutex_lock(t->lock);
	__u32 *s = fl_find(t, key, &found);
	if (found)
		memcpy(val, fl_at(t, *s - 1) + ((t->ksz + 7) & ~7u), t->vsz);
	pthread_mutex_unlock(t->lock);
	if (!found)
		errno = ENOENT;
	return found ? 0 : -1;
}

static int fl_delete(struct table *t, const void *key)
{
	bool found;
	pthread_mutex_lock(t->lock);
	__u32 *s = fl_find(t, key, &found);
	if (found)
		*s = UINT32_MAX;   /* tombstone; the element slot is not reused: fine for a floor */
	pthread_mutex_unlock(t->lock);
	return found ? 0 : -1;
}

static int fl_next_key(struct table *t, const void *key, void *next)
{
	/* walk slots in order; the key's position found by lookup */
	__u32 start = 0;
	if (t->type == BPF_MAP_TYPE_ARRAY) {
		__u32 i = UINT32_MAX;
		if (key)
			memcpy(&i, key, 4);
		__u32 n = i >= t->max ? 0 : i + 1;
		if (n >= t->max)
			return -1;
		memcpy(next, &n, 4);
		return 0;
	}
	if (key) {
		bool found;
		__u32 *s = fl_find(t, key, &found);
		start = found ? (__u32)(s - t->slots) + 1 : 0;
	}
	for (__u32 s = start; s < t->nslots; s++)
		if (t->slots[s] && t->slots[s] != UINT32_MAX) {
			memcpy(next, fl_at(t, t->slots[s] - 1), t->ksz);
			return 0;
		}
	return -1;
}

static long fl_lookup_batch(struct table *t, unsigned int total)
{
	static unsigned char key[MAXV], val[MAXV];
	long got = 0;
	if (t->type == BPF_MAP_TYPE_ARRAY) {
		for (__u32 i = 0; i < t->max && got < total; i++, got++)
			memcpy(val, fl_at(t, i), t->vsz);
		return got;
	}
	for (__u32 s = 0; s < t->nslots && got < total; s++)
		if (t->slots[s] && t->slots[s] != UINT32_MAX) {
			memcpy(key, fl_at(t, t->slots[s] - 1), t->ksz);
			memcpy(val, fl_at(t, t->slots[s] - 1) + ((t->ksz + 7) & ~7u), t->vsz);
			got++;
		}
	return got;
}

static struct table *fl_share(struct table *t) { return t; }

static const struct backend fl_backend = {
	"floor", fl_create, fl_destroy, fl_update, fl_lookup, fl_delete, fl_next_key, fl_lookup_batch, fl_share,
};

/* ---- abi backend: the floor's table behind the bpf() calling convention ---- */

#define ABI_FD0 1000           /* fake fds: never real ones, never closed */
static struct table *abi_tables[64];
static int abi_ntables;

/* the last attr byte each command reads (the kernel's CHECK_ATTR) */
static size_t abi_attr_end(int cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE: return offsetof(union bpf_attr, max_entries) + 4;
	case BPF_MAP_DELETE_ELEM: return offsetof(union bpf_attr, key) + 8;
	case BPF_MAP_GET_NEXT_KEY: return offsetof(union bpf_attr, next_key) + 8;
	case BPF_MAP_LOOKUP_BATCH: return offsetof(union bpf_attr, batch.flags) + 8;
	default: return offsetof(union bpf_attr, flags) + 8;
	}
}

static long abi_fail(int e)
{
	errno = e;
	return -1;
}

__attribute__((noinline)) static long abi_syscall(long nr, ...)
{
	va_list ap;
	long arg[6];
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		arg[i] = va_arg(ap, long);
	va_end(ap);
	if (nr != __NR_bpf)
		return abi_fail(ENOSYS);

	int cmd = (int)arg[0];
	const unsigned char *uattr = (const unsigned char *)arg[1];
	size_t size = (size_t)arg[2];
	union bpf_attr at;
	unsigned char key[MAXV], val[MAXV];
	static const unsigned char zero[4096];
	if (size > sizeof(at)) {
		if (size > sizeof(zero))
			return abi_fail(E2BIG);
		if (memcmp(uattr + sizeof(at), zero, size - sizeof(at)))
			return abi_fail(E2BIG);
		size = sizeof(at);
	}
	memset(&at, 0, sizeof(at));
	memcpy(&at, uattr, size);
	size_t end = abi_attr_end(cmd);
	if (size > end && memcmp((const unsigned char *)&at + end, zero, size - end))
		return abi_fail(EINVAL);
	if (cmd == BPF_MAP_CREATE) {
		int i = 0;
		while (i < abi_ntables && abi_tables[i])
			i++;
		if (i == 64)
			return abi_fail(EMFILE);
		abi_tables[i] = fl_create((int)at.map_type, at.key_size, at.value_size, at.max_entries);
		if (i == abi_ntables)
			abi_ntables++;
		return ABI_FD0 + i;
	}
	__u32 fd = cmd == BPF_MAP_LOOKUP_BATCH ? at.batch.map_fd : at.map_fd;
	if (fd < ABI_FD0 || fd >= ABI_FD0 + (__u32)abi_ntables || !abi_tables[fd - ABI_FD0])
		return abi_fail(EBADF);
	struct table *t = abi_tables[fd - ABI_FD0];
	if (cmd != BPF_MAP_LOOKUP_BATCH && (at.key || cmd != BPF_MAP_GET_NEXT_KEY))
		memcpy(key, (const void *)(unsigned long)at.key, t->ksz);
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM:
		if (fl_lookup(t, key, val))
			return -1;
		memcpy((void *)(unsigned long)at.value, val, t->vsz);
		return 0;
	case BPF_MAP_UPDATE_ELEM:
		memcpy(val, (const void *)(unsigned long)at.value, t->vsz);
		return fl_update(t, key, val, at.flags);
	case BPF_MAP_DELETE_ELEM:
		return fl_delete(t, key) ? abi_fail(ENOENT) : 0;
	case BPF_MAP_GET_NEXT_KEY:
		if (fl_next_key(t, at.key ? key : NULL, val))
			return abi_fail(ENOENT);
		memcpy((void *)(unsigned long)at.next_key, val, t->ksz);
		return 0;
	case BPF_MAP_LOOKUP_BATCH: {
		/* in/out_batch: the next slot (hash) or index (array) to read */
		__u64 pos = 0;
		__u32 n = 0, count = at.batch.count;
		unsigned char *keys = (unsigned char *)(unsigned long)at.batch.keys;
		unsigned char *vals = (unsigned char *)(unsigned long)at.batch.values;
		size_t vo = (t->ksz + 7) & ~7u;
		if (at.batch.in_batch)
			memcpy(&pos, (const void *)(unsigned long)at.batch.in_batch, sizeof(pos));
		__u64 end = t->type == BPF_MAP_TYPE_ARRAY ? t->max : t->nslots;
		for (; pos < end && n < count; pos++) {
			if (t->type == BPF_MAP_TYPE_ARRAY) {
				__u32 i = (__u32)pos;
				memcpy(keys + (size_t)n * t->ksz, &i, 4);
				memcpy(vals + (size_t)n * t->vsz, fl_at(t, i), t->vsz);
			} else {
				__u32 v = t->slots[pos];
				if (!v || v == UINT32_MAX)
					continue;
				memcpy(keys + (size_t)n * t->ksz, fl_at(t, v - 1), t->ksz);
				memcpy(vals + (size_t)n * t->vsz, fl_at(t, v - 1) + vo, t->vsz);
			}
			n++;
		}
		memcpy((void *)(unsigned long)at.batch.out_batch, &pos, sizeof(pos));
		memcpy((unsigned char *)arg[1] + offsetof(union bpf_attr, batch.count), &n, sizeof(n));
		return pos >= end ? abi_fail(ENOENT) : 0;
	}
	default:
		return abi_fail(EINVAL);
	}
}

static struct table *abi_create(int type, unsigned int ksz, unsigned int vsz, unsigned int max)
{
	bpf_entry = abi_syscall;
	return sc_create(type, ksz, vsz, max);
}

static void abi_destroy(struct table *t)
{
	abi_tables[t->fd - ABI_FD0] = NULL;   /* the floor's mapping stays, as in fl_destroy */
	free(t);
}

/* a forked child inherits the tables (shared mappings) and the fake fds */
static struct table *abi_share(struct table *t) { return t; }

static const struct backend abi_backend = {
	"abi", abi_create, abi_destroy, sc_update, sc_lookup, sc_delete, sc_next_key, sc_lookup_batch, abi_share,
};

/* ---- workloads ---- */

static const struct backend *be;
static int repeats = 5;

static clockid_t bench_clock = CLOCK_MONOTONIC;   /* --cpu: the process's CPU time */

static __u64 now_ns(void)
{
	struct timespec ts;
	clock_gettime(bench_clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* elapsed time, whatever --cpu says (throughput of threads and processes) */
static __u64 wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *name, double *samples, int n)
{
	qsort(samples, (size_t)n, sizeof(double), cmp_double);
	printf("row %s %.1f\n", name, samples[n / 2]);
	fflush(stdout);
}

/* key i as ksz bytes (the index in the first 4, the rest a pattern) */
static void make_key(unsigned char *k, unsigned int ksz, __u32 i)
{
	memset(k, 0x5a, ksz);
	memcpy(k, &i, ksz < 4 ? ksz : 4);
}

static __u32 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (__u32)(*s >> 11);
}

static void fill(struct table *t, unsigned int n)
{
	unsigned char k[MAXV], v[MAXV];
	memset(v, 7, sizeof(v));
	for (__u32 i = 0; i < n; i++) {
		make_key(k, t->ksz, i);
		if (be->update(t, k, v, BPF_ANY)) {
			fprintf(stderr, "bench: fill %u: %s\n", i, strerror(errno));
			exit(1);
		}
	}
}

enum op { OP_UPDATE_NEW, OP_UPDATE_EXISTING, OP_LOOKUP_HIT, OP_LOOKUP_MISS, OP_DELETE, OP_ITERATE, OP_BATCH };
static const char *const op_names[] = { "update_new", "update_existing", "lookup_hit", "lookup_miss", "delete",
					"iterate", "lookup_batch" };

static double run_op(int type, unsigned int ksz, unsigned int vsz, unsigned int n, enum op op, unsigned int nops)
{
	unsigned char k[MAXV], v[MAXV], nk[MAXV];
	struct table *t = be->create(type, ksz, vsz, n);
	__u64 seed = 0x1234567ull + op, t0, t1;
	long done = nops;
	memset(v, 3, sizeof(v));

	if (op != OP_UPDATE_NEW || type == BPF_MAP_TYPE_ARRAY)
		fill(t, n);
	t0 = now_ns();
	switch (op) {
	case OP_UPDATE_NEW:
		done = n;
		for (__u32 i = 0; i < n; i++) {
			make_key(k, ksz, i);
			be->update(t, k, v, BPF_ANY);
		}
		break;
	case OP_UPDATE_EXISTING:
		for (unsigned int i = 0; i < nops; i++) {
			make_key(k, ksz, rnd(&seed) % n);
			be->update(t, k, v, BPF_ANY);
		}
		break;
	case OP_LOOKUP_HIT:
		for (unsigned int i = 0; i < nops; i++) {
			make_key(k, ksz, rnd(&seed) % n);
			be->lookup(t, k, v);
		}
		break;
	case OP_LOOKUP_MISS:
		for (unsigned int i = 0; i < nops; i++) {
			make_key(k, ksz, n + rnd(&seed) % n);
			be->lookup(t, k, v);
		}
		break;
	case OP_DELETE:
		done = n;
		for (__u32 i = 0; i < n; i++) {
			make_key(k, ksz, i);
			be->delete(t, k);
		}
		break;
	case OP_ITERATE: {
		long cnt = 0;
		const void *prev = NULL;
		while (!be->next_key(t, prev, nk)) {
			memcpy(k, nk, ksz);
			prev = k;
			cnt++;
		}
		done = cnt ? cnt : 1;
		break;
	}
	case OP_BATCH:
		done = be->lookup_batch(t, n);
		break;
	}
	t1 = now_ns();
	be->destroy(t);
	if (done <= 0)
		return -1;
	return (double)(t1 - t0) / (double)done;
}

struct mix_arg {
	struct table *t;
	unsigned int n, nops;
	__u64 seed;
};

static void *mix_thread(void *p)
{
	struct mix_arg *a = p;
	unsigned char k[MAXV], v[MAXV];
	memset(v, 9, sizeof(v));
	for (unsigned int i = 0; i < a->nops; i++) {
		__u32 r = rnd(&a->seed);
		make_key(k, a->t->ksz, r % a->n);
		if (r & 0x80000)
			be->lookup(a->t, k, v);
		else
			be->update(a->t, k, v, BPF_ANY);
	}
	return NULL;
}

/* aggregate ns/op of `threads` threads doing 50/50 lookup/update */
static double run_mix_threads(unsigned int n, int threads, unsigned int nops)
{
	struct table *t = be->create(BPF_MAP_TYPE_HASH, 4, 8, n);
	pthread_t tid[8];
	struct mix_arg args[8];
	fill(t, n);
	__u64 t0 = wall_ns();
	for (int i = 0; i < threads; i++) {
		args[i] = (struct mix_arg){ t, n, nops, 0x9999ull + (__u64)i * 77 };
		pthread_create(&tid[i], NULL, mix_thread, &args[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	__u64 t1 = wall_ns();
	be->destroy(t);
	return (double)(t1 - t0) / ((double)nops * threads);
}

static double run_mix_procs(unsigned int n, int procs, unsigned int nops, const char *pin)
{
	struct table *t = be->create(BPF_MAP_TYPE_HASH, 4, 8, n);
	fill(t, n);
	if (be == &sc_backend && sc_pin(t, pin)) {
		fprintf(stderr, "bench: pin %s: %s\n", pin, strerror(errno));
		exit(1);
	}
	int go[2];
	if (pipe(go))
		exit(1);
	pid_t pids[8];
	for (int i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			struct mix_arg a = { be->share(t), n, nops, 0x4242ull + (__u64)i * 31 };
			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			mix_thread(&a);
			_exit(0);
		}
	}
	close(go[0]);
	usleep(100000);     /* let the children open the pin */
	__u64 t0 = wall_ns();
	close(go[1]);
	for (int i = 0; i < procs; i++)
		waitpid(pids[i], NULL, 0);
	__u64 t1 = wall_ns();
	be->destroy(t);
	return (double)(t1 - t0) / ((double)nops * procs);
}

/* The file behind fd as the system sees it: a raw fstat, which the shim's
 * syscall() passes on (its fstat() shows a bpf fd as the kernel does, an
 * anonymous inode with no blocks). */
static int raw_fstat(int fd, struct stat *sb)
{
	return (int)syscall(SYS_newfstatat, fd, "", sb, AT_EMPTY_PATH);
}

/* bytes of state-root storage per entry of a full map (emulator only: the
 * run-bench script measures the state root; here: the map's file blocks) */
static void mem_rows(unsigned int n)
{
	if (be != &sc_backend)
		return;
	struct table *t = be->create(BPF_MAP_TYPE_HASH, 4, 8, n);
	struct stat sb;
	if (!raw_fstat(t->fd, &sb) && sb.st_blocks)
		printf("mem hash_4_8_%u_empty_bytes %lld\n", n, (long long)sb.st_blocks * 512);
	fill(t, n);
	if (!raw_fstat(t->fd, &sb) && sb.st_blocks)
		printf("mem hash_4_8_%u_full_bytes_per_entry %.1f\n", n, (double)sb.st_blocks * 512 / n);
	/* the kernel's own figure, for comparison: bytes_memlock from the info */
	struct bpf_map_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)t->fd;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	if (!sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a))) {
		char fdinfo[64], line[256];
		snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", t->fd);
		FILE *f = fopen(fdinfo, "r");
		while (f && fgets(line, sizeof(line), f)) {
			unsigned long long ml;
			if (sscanf(line, "memlock: %llu", &ml) == 1)
				printf("mem hash_4_8_%u_memlock_per_entry %.1f\n", n, (double)ml / n);
		}
		if (f)
			fclose(f);
	}
	fflush(stdout);
	be->destroy(t);
}

/* ---- life-cycle rows (syscall backend only): what making and dropping
 * objects costs, per iteration, kernel against emulator ---- */

#define BENCH_MAP_TYPE_CGRP_STORAGE 32
#define BENCH_MAP_TYPE_ARENA 33
#define BENCH_F_NO_PREALLOC (1U << 0)
#define BENCH_F_MMAPABLE (1U << 10)

static long life_sys(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/* The BTF libbpf's and bpftool's probes load for the local storages:
 * int [1]; struct bpf_spin_lock { int val; } [2]; struct val { int cnt;
 * struct bpf_spin_lock l; } [3]. */
static int life_btf_load(void)
{
	static const char strs[] = "\0bpf_spin_lock\0val\0cnt\0l";
	static const __u32 types[] = {
		0, 1u << 24, 4, (1u << 24) | 32,                  /* [1] int, signed, 32 bits */
		1, (4u << 24) | 1, 4, 15, 1, 0,                   /* [2] struct bpf_spin_lock */
		15, (4u << 24) | 2, 8, 19, 1, 0, 23, 2, 32,       /* [3] struct val */
	};
	struct {
		__u16 magic;
		__u8 version, flags;
		__u32 hdr_len, type_off, type_len, str_off, str_len;
		char data[sizeof(types) + sizeof(strs)];
	} blob;
	memset(&blob, 0, sizeof(blob));
	blob.magic = 0xeB9F;
	blob.version = 1;
	blob.hdr_len = 24;
	blob.type_len = sizeof(types);
	blob.str_off = sizeof(types);
	blob.str_len = sizeof(strs);
	memcpy(blob.data, types, sizeof(types));
	memcpy(blob.data + sizeof(types), strs, sizeof(strs));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (__u64)(unsigned long)&blob;
	a.btf_size = 24 + sizeof(types) + sizeof(strs);
	return (int)life_sys(BPF_BTF_LOAD, &a);
}

struct life_map {
	const char *name;
	__u32 type, ksz, vsz, max, flags;
	bool storage_btf;       /* key int, value struct val: the local storages */
	bool inner;             /* a map-in-map: inner_map_fd */
};

static const struct life_map life_maps[] = {
	{ "hash", BPF_MAP_TYPE_HASH, 4, 8, 1024, 0, false, false },
	{ "array", BPF_MAP_TYPE_ARRAY, 4, 8, 1024, 0, false, false },
	{ "prog_array", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1024, 0, false, false },
	{ "perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, false, false },
	{ "percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 1024, 0, false, false },
	{ "percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024, 0, false, false },
	{ "stack_trace", BPF_MAP_TYPE_STACK_TRACE, 4, 64, 1024, 0, false, false },
	{ "cgroup_array", BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 1024, 0, false, false },
	{ "lru_hash", BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024, 0, false, false },
	{ "lru_percpu_hash", BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 1024, 0, false, false },
	{ "lpm_trie", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 1024, BENCH_F_NO_PREALLOC, false, false },
	{ "array_of_maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1024, 0, false, true },
	{ "hash_of_maps", BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 1024, 0, false, true },
	{ "devmap", BPF_MAP_TYPE_DEVMAP, 4, 4, 1024, 0, false, false },
	{ "sockmap", BPF_MAP_TYPE_SOCKMAP, 4, 4, 1024, 0, false, false },
	{ "cpumap", BPF_MAP_TYPE_CPUMAP, 4, 4, 2, 0, false, false },
	{ "xskmap", BPF_MAP_TYPE_XSKMAP, 4, 4, 1024, 0, false, false },
	{ "sockhash", BPF_MAP_TYPE_SOCKHASH, 4, 4, 1024, 0, false, false },
	{ "cgroup_storage", BPF_MAP_TYPE_CGROUP_STORAGE, 16, 8, 0, 0, false, false },
	{ "reuseport_sockarray", BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, 4, 4, 1024, 0, false, false },
	{ "percpu_cgroup_storage", BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, 16, 8, 0, 0, false, false },
	{ "queue", BPF_MAP_TYPE_QUEUE, 0, 8, 1024, 0, false, false },
	{ "stack", BPF_MAP_TYPE_STACK, 0, 8, 1024, 0, false, false },
	{ "sk_storage", BPF_MAP_TYPE_SK_STORAGE, 4, 8, 0, BENCH_F_NO_PREALLOC, true, false },
	{ "devmap_hash", BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 1024, 0, false, false },
	{ "ringbuf", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, false, false },
	{ "inode_storage", BPF_MAP_TYPE_INODE_STORAGE, 4, 8, 0, BENCH_F_NO_PREALLOC, true, false },
	{ "task_storage", BPF_MAP_TYPE_TASK_STORAGE, 4, 8, 0, BENCH_F_NO_PREALLOC, true, false },
	{ "bloom_filter", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 1024, 0, false, false },
	{ "user_ringbuf", BPF_MAP_TYPE_USER_RINGBUF, 0, 0, 4096, 0, false, false },
	{ "cgrp_storage", BENCH_MAP_TYPE_CGRP_STORAGE, 4, 8, 0, BENCH_F_NO_PREALLOC, true, false },
	{ "arena", BENCH_MAP_TYPE_ARENA, 0, 0, 1, BENCH_F_MMAPABLE, false, false },
};

static void life_map_attr(union bpf_attr *a, const struct life_map *m, int btf_fd, int inner_fd)
{
	memset(a, 0, sizeof(*a));
	a->map_type = m->type;
	a->key_size = m->ksz;
	a->value_size = m->vsz;
	a->max_entries = m->max;
	a->map_flags = m->flags;
	if (m->storage_btf) {
		a->btf_fd = (__u32)btf_fd;
		a->btf_key_type_id = 1;
		a->btf_value_type_id = 3;
	}
	if (m->inner)
		a->inner_map_fd = (__u32)inner_fd;
}

/* median ns per iteration of body over `iters` iterations, `repeats` times;
 * -1 if the first iteration fails (the host refuses: the row is n/a) */
#define LIFE_ROW(name, iters, setup_ok, body)                                           \
	do {                                                                            \
		double s_[16];                                                          \
		int n_ = 0;                                                             \
		bool ok_ = (setup_ok);                                                  \
		for (int r_ = 0; ok_ && r_ < repeats; r_++) {                           \
			__u64 t0_ = now_ns();                                           \
			for (unsigned int i_ = 0; ok_ && i_ < (iters); i_++) {          \
				body                                                    \
			}                                                               \
			__u64 t1_ = now_ns();                                           \
			if (ok_)                                                        \
				s_[n_++] = (double)(t1_ - t0_) / (iters);               \
		}                                                                       \
		if (n_)                                                                 \
			report(name, s_, n_);                                           \
		else                                                                    \
			printf("row %s n/a\n", name);                                   \
		fflush(stdout);                                                         \
	} while (0)

static void life_rows(bool quick)
{
	unsigned int iters = quick ? 200 : 2000;
	union bpf_attr a;
	char name[96];
	int btf_fd = life_btf_load();
	int inner_fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	inner_fd = (int)life_sys(BPF_MAP_CREATE, &a);

	/* every map type, small: create + close */
	for (size_t i = 0; i < sizeof(life_maps) / sizeof(life_maps[0]); i++) {
		const struct life_map *m = &life_maps[i];
		snprintf(name, sizeof(name), "life_create_close_%s", m->name);
		life_map_attr(&a, m, btf_fd, inner_fd);
		LIFE_ROW(name, iters, true, {
			int fd = (int)life_sys(BPF_MAP_CREATE, &a);
			if (fd < 0)
				ok_ = false;
			else
				close(fd);
		});
	}

	/* a big hash: create + close */
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1000000;
	LIFE_ROW("life_create_close_hash_1m", quick ? 3u : 10u, true, {
		int fd = (int)life_sys(BPF_MAP_CREATE, &a);
		if (fd < 0)
			ok_ = false;
		else
			close(fd);
	});

	/* pin, get, close, unpin */
	{
		const char *pin = "/sys/fs/bpf/bench-life-pin";
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_HASH;
		a.key_size = 4;
		a.value_size = 8;
		a.max_entries = 1024;
		int fd = (int)life_sys(BPF_MAP_CREATE, &a);
		unlink(pin);
		LIFE_ROW("life_pin_get_unpin", iters, fd >= 0, {
			union bpf_attr p;
			memset(&p, 0, sizeof(p));
			p.pathname = (__u64)(unsigned long)pin;
			p.bpf_fd = (__u32)fd;
			int g = -1;
			if (life_sys(BPF_OBJ_PIN, &p) == 0) {
				p.bpf_fd = 0;
				g = (int)life_sys(BPF_OBJ_GET, &p);
			}
			if (g < 0)
				ok_ = false;
			else
				close(g);
			unlink(pin);
		});
		if (fd >= 0)
			close(fd);
	}

	/* a 2-instruction socket filter: load + close */
	{
		static const struct bpf_insn insns[] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		a.insns = (__u64)(unsigned long)insns;
		a.insn_cnt = 2;
		a.license = (__u64)(unsigned long)"GPL";
		LIFE_ROW("life_prog_load_close", iters, true, {
			int fd = (int)life_sys(BPF_PROG_LOAD, &a);
			if (fd < 0)
				ok_ = false;
			else
				close(fd);
		});
	}

	/* a process loads 200 programs holding one map and exits without
	 * closing them, then one id scan (in the engine the scan collects the
	 * dead programs' holds: one scan per dropped holder made it quadratic
	 * in the holders a state root had gathered); per round of 200 */
	{
		int m = (int)life_sys(BPF_MAP_CREATE, &(union bpf_attr){ .map_type = BPF_MAP_TYPE_ARRAY,
			.key_size = 4, .value_size = 8, .max_entries = 4 });
		struct bpf_insn insns[] = {
			{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = m },
			{ 0 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		a.insns = (__u64)(unsigned long)insns;
		a.insn_cnt = 4;
		a.license = (__u64)(unsigned long)"GPL";
		LIFE_ROW("life_exit_with_200_progs_then_id_scan", quick ? 5u : 20u, m >= 0, {
			pid_t pid = fork();
			if (pid == 0) {
				for (int k = 0; k < 200; k++)
					if (life_sys(BPF_PROG_LOAD, &a) < 0)
						_exit(1);
				_exit(0);
			}
			int st = 1;
			if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
				ok_ = false;
			union bpf_attr n;
			memset(&n, 0, sizeof(n));
			life_sys(BPF_MAP_GET_NEXT_ID, &n);
		});
		if (m >= 0)
			close(m);
	}

	/* BTF load + close */
	LIFE_ROW("life_btf_load_close", iters, true, {
		int fd = life_btf_load();
		if (fd < 0)
			ok_ = false;
		else
			close(fd);
	});

	/* an inner map into a map-in-map slot, and out again */
	{
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY_OF_MAPS;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 4;
		a.inner_map_fd = (__u32)inner_fd;
		int outer = (int)life_sys(BPF_MAP_CREATE, &a);
		__u32 key = 0, val = (__u32)inner_fd;
		LIFE_ROW("life_inner_map_insert_delete", iters, outer >= 0 && inner_fd >= 0, {
			union bpf_attr e;
			memset(&e, 0, sizeof(e));
			e.map_fd = (__u32)outer;
			e.key = (__u64)(unsigned long)&key;
			e.value = (__u64)(unsigned long)&val;
			if (life_sys(BPF_MAP_UPDATE_ELEM, &e))
				ok_ = false;
			e.value = 0;
			if (life_sys(BPF_MAP_DELETE_ELEM, &e))
				ok_ = false;
		});
		if (outer >= 0)
			close(outer);
	}
	if (inner_fd >= 0)
		close(inner_fd);
	if (btf_fd >= 0)
		close(btf_fd);
}

int main(int argc, char **argv)
{
	bool quick = false, life_only = false;
	const char *only = NULL;     /* --only SUBSTR: the element and mix rows whose name has it, nothing else */
	const char *pin = "/sys/fs/bpf/bpfemu-bench";
	if (argc < 2) {
		fprintf(stderr, "usage: bench syscall|floor|abi [--quick] [--pin PATH]\n");
		return 2;
	}
	be = !strcmp(argv[1], "floor") ? &fl_backend : !strcmp(argv[1], "syscall") ? &sc_backend
	   : !strcmp(argv[1], "abi") ? &abi_backend : NULL;
	if (!be) {
		fprintf(stderr, "bench: unknown backend %s\n", argv[1]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--life"))
			life_only = true;
		else if (!strcmp(argv[i], "--cpu"))
			bench_clock = CLOCK_PROCESS_CPUTIME_ID;
		else if (!strcmp(argv[i], "--pin") && i + 1 < argc)
			pin = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
	}
	unsigned int big = quick ? 100000 : 1000000;
	if (quick)
		repeats = 3;
	if (be == &sc_backend && !only)
		life_rows(quick);
	if (life_only)
		return 0;

	static const struct { int type; unsigned int ksz, vsz; const char *name; } cfgs[] = {
		{ BPF_MAP_TYPE_HASH, 4, 8, "hash_4_8" },
		{ BPF_MAP_TYPE_HASH, 16, 64, "hash_16_64" },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, "array_4_8" },
		{ BPF_MAP_TYPE_ARRAY, 4, 64, "array_4_64" },
	};
	unsigned int sizes[] = { 1000, big };
	for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++)
		for (int s = 0; s < 2; s++)
			for (int op = OP_UPDATE_NEW; op <= OP_BATCH; op++) {
				bool hash = cfgs[c].type == BPF_MAP_TYPE_HASH;
				if (!hash && (op == OP_UPDATE_NEW || op == OP_DELETE))
					continue;
				unsigned int n = sizes[s];
				char name[96];
				snprintf(name, sizeof(name), "%s_%s_%s", cfgs[c].name, n == 1000 ? "1k" : quick ? "100k" : "1m",
					 op_names[op]);
				if (only && !strstr(name, only))
					continue;
				unsigned int nops = n < 200000 ? 200000 : 300000;
				double samples[16];
				int got = 0;
				int reps = n > 100000 ? (repeats < 3 ? repeats : 3) : repeats;
				for (int r = 0; r < reps; r++) {
					double x = run_op(cfgs[c].type, cfgs[c].ksz, cfgs[c].vsz, n, (enum op)op, nops);
					if (x >= 0)
						samples[got++] = x;
				}
				if (got)
					report(name, samples, got);
				else
					printf("row %s n/a\n", name);
			}
	for (int th = 1; th <= 2; th++) {
		double samples[8];
		int reps = repeats < 3 ? repeats : 3;
		char name[64];
		snprintf(name, sizeof(name), "hash_4_8_%s_mix_%dthread", quick ? "100k" : "1m", th);
		if (only && !strstr(name, only))
			continue;
		for (int r = 0; r < reps; r++)
			samples[r] = run_mix_threads(big, th, 300000);
		report(name, samples, reps);
	}
	char name[64];
	snprintf(name, sizeof(name), "hash_4_8_%s_mix_2proc", quick ? "100k" : "1m");
	if (!only || strstr(name, only)) {
		double samples[8];
		int reps = repeats < 3 ? repeats : 3;
		for (int r = 0; r < reps; r++)
			samples[r] = run_mix_procs(big, 2, 300000, pin);
		report(name, samples, reps);
	}
	if (!only)
		mem_rows(big);
	return 0;
}
