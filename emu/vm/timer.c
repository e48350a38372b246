/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/timer.c: bpf_timer_init, bpf_timer_set_callback, bpf_timer_start,
 * bpf_timer_cancel, with Linux 6.18's answers.
 *
 * A struct bpf_timer lives in a map value (array, hash, LRU hash). Its 16
 * bytes say it is initialized (the kernel keeps a pointer there; here a
 * magic word, the process and a timer number), so a second bpf_timer_init
 * answers -EBUSY from any process. The timer itself belongs to the process
 * that ran the program that initialized it: a thread of that process (made
 * on first use) waits for the armed timers and runs each callback when it is
 * due, as the kernel's softirq would, with (map, key, value): the program
 * function given to bpf_timer_set_callback, in a run of its own (its stack,
 * the element's key and value as regions). Callbacks may re-arm their timer.
 * A timer fires only while its element still holds it (an element deleted or
 * overwritten from user space lost it, as the kernel cancels it then) and
 * while the process lives: a test run's timer outlives the call, not the
 * process that made it; from another process it can be neither started nor
 * cancelled (EOPNOTSUPP, with a log line).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vm_int.h"

#define TIMER_MAGIC 0x52454d4954554d45ull      /* "EMUTIMER" */
#define F_TIMER_ABS (1ull << 0)
#define F_TIMER_CPU_PIN (1ull << 1)

struct vtimer {
	__u32 id;
	struct vm_map *map;            /* held */
	unsigned char *value;          /* the element's value (in the map's shared memory) */
	__u64 *word;                   /* the struct bpf_timer in it */
	unsigned char key[64];
	__u32 key_size;
	clockid_t clock;
	struct emu_obj *prog_obj;      /* the callback's program, held */
	const struct vm_insn *cb;
	bool armed, running;
	__u64 due;                     /* CLOCK_MONOTONIC ns */
	struct vtimer *next;
};

static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tcond = PTHREAD_COND_INITIALIZER;
static struct vtimer *timers;
static __u32 next_id = 1;
static bool thread_started;
static pthread_t tthread;
static EMU_TLS struct vtimer *in_callback;     /* the timer whose callback this thread runs */

static __u64 mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* the timer of these 16 bytes in this process; NULL (and *foreign for
 * another process's) when it is not one of ours; tlock held */
static struct vtimer *find(__u64 *w, bool *foreign)
{
	*foreign = false;
	if (__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) != TIMER_MAGIC)
		return NULL;
	__u64 tag = __atomic_load_n(&w[1], __ATOMIC_ACQUIRE);
	if ((pid_t)(tag >> 32) != getpid()) {
		*foreign = true;
		return NULL;
	}
	for (struct vtimer *t = timers; t; t = t->next)
		if (t->id == (__u32)tag && t->word == w)
			return t;
	*foreign = true;                 /* a copy: a fork's child, an element copied */
	return NULL;
}

/* the 16 bytes of a struct bpf_timer the program passed: in a map value it obtained */
static __u64 *timer_arg(struct vm_run *run, __u64 r1, const char *helper, const struct vm_region **reg)
{
	const struct vm_region *r = vm_region_find(run, r1, 16);
	if (!r || r->kind != VM_R_MAPVAL || !r->map || (r1 & 7) || !(r->perm & VM_WR)) {
		vm_fault(run, -EFAULT, "%s: %#llx is not a struct bpf_timer in a map value", helper, (unsigned long long)r1);
		return NULL;
	}
	*reg = r;
	return (__u64 *)(uintptr_t)r1;
}

/* the key of the element whose value starts at value */
static int key_of(struct vm_map *m, const unsigned char *value, unsigned char *key)
{
	if (m->type == BPF_MAP_TYPE_ARRAY) {
		if (!m->values || value < (const unsigned char *)m->values || !m->elem)
			return -EINVAL;
		__u32 idx = (__u32)((value - (const unsigned char *)m->values) / m->elem);
		memcpy(key, &idx, 4);
		return 0;
	}
	if (!m->ops->get_next_key || !m->ops->prog_lookup || m->key_size > 64)
		return -EOPNOTSUPP;
	unsigned char cur[64], nxt[64];
	bool first = true;
	for (__u32 n = 0; n < m->max_entries + 1; n++) {
		if (m->ops->get_next_key(m->obj, first ? NULL : cur, nxt))
			break;
		first = false;
		memcpy(cur, nxt, m->key_size);
		if (m->ops->prog_lookup(m->obj, cur, 0) == value) {
			memcpy(key, cur, m->key_size);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- the thread that fires them ---- */

static void fire(struct vtimer *t)
{
	struct vm_thread *th = vm_thread_get();
	int err;
	const struct vm_prog *p = th ? vm_prog_get(t->prog_obj, &err) : NULL;
	if (!p)
		return;
	in_callback = t;
	vm_run_fn(th, p, t->cb, (__u64)(uintptr_t)t->map, t->key, t->key_size, t->value, t->map);
	in_callback = NULL;
	if (th->run.err)
		EMU_LOG(EMU_LOG_VM, "prog '%s' (id %u): a timer callback ended early: %s", p->name, p->id,
			strerror(-th->run.err));
}

static void *timer_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&tlock);
	for (;;) {
		struct vtimer *due = NULL;
		__u64 now = mono_ns(), soonest = ~0ull;
		for (struct vtimer *t = timers; t; t = t->next) {
			if (!t->armed)
				continue;
			if (t->due <= now) {
				due = t;
				break;
			}
			if (t->due < soonest)
				soonest = t->due;
		}
		if (!due) {
			if (soonest == ~0ull) {
				pthread_cond_wait(&tcond, &tlock);
			} else {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				__u64 until = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec + (soonest - now);
				ts.tv_sec = (time_t)(until / 1000000000ull);
				ts.tv_nsec = (long)(until % 1000000000ull);
				pthread_cond_timedwait(&tcond, &tlock, &ts);
			}
			continue;
		}
		due->armed = false;
		bool mine = __atomic_load_n(&due->word[0], __ATOMIC_ACQUIRE) == TIMER_MAGIC &&
			    (__u32)__atomic_load_n(&due->word[1], __ATOMIC_ACQUIRE) == due->id;
		if (!mine || !due->cb)
			continue;
		due->running = true;
		pthread_mutex_unlock(&tlock);
		fire(due);
		pthread_mutex_lock(&tlock);
		due->running = false;
	}
	return NULL;
}

static int thread_ensure(void)
{
	if (thread_started)
		return 0;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&tcond);
	pthread_cond_init(&tcond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int err = pthread_create(&tthread, &a, timer_thread, NULL);
	pthread_attr_destroy(&a);
	if (err)
		return -err;
	thread_started = true;
	return 0;
}

/* ---- the helpers ---- */

/* bpf_timer_init(timer, map, flags) */
__u64 vm_h_timer_init(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	const struct vm_region *reg;
	__u64 *w = timer_arg(run, r1, "bpf_timer_init", &reg);
	if (!w)
		return 0;
	struct vm_map *m = vm_map_arg(run, r2, "bpf_timer_init");
	if (!m)
		return 0;
	if (m != reg->map) {
		vm_fault(run, -EINVAL, "bpf_timer_init: map %u is not the map the timer is in", m->id);
		return 0;
	}
	clockid_t clock = (clockid_t)r3;
	if (r3 >> 32 || (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME))
		return (__u64)-EINVAL;
	if (m->type != BPF_MAP_TYPE_ARRAY && m->type != BPF_MAP_TYPE_HASH && m->type != BPF_MAP_TYPE_LRU_HASH) {
		vm_fault(run, -EOPNOTSUPP, "bpf_timer_init: timers in maps of type %u are not emulated", m->type);
		return 0;
	}
	struct vtimer *t = calloc(1, sizeof(*t));
	if (!t) {
		vm_fault(run, -ENOMEM, "no memory for a timer");
		return 0;
	}
	t->value = (unsigned char *)(uintptr_t)reg->lo;
	t->word = w;
	t->clock = clock;
	t->key_size = m->key_size;
	if (key_of(m, t->value, t->key)) {
		free(t);
		vm_fault(run, -EOPNOTSUPP, "bpf_timer_init: the element of the timer in map %u cannot be found", m->id);
		return 0;
	}
	pthread_mutex_lock(&tlock);
	__u64 expect = 0;
	/* one initialization wins, across processes */
	if (!__atomic_compare_exchange_n(&w[0], &expect, TIMER_MAGIC, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&tlock);
		free(t);
		return (__u64)-EBUSY;
	}
	t->id = next_id++;
	t->map = vm_map_hold(m);
	__atomic_store_n(&w[1], (__u64)(__u32)getpid() << 32 | t->id, __ATOMIC_RELEASE);
	t->next = timers;
	timers = t;
	pthread_mutex_unlock(&tlock);
	return 0;
}

/* the timer behind the 16 bytes, or a fault / -EINVAL; tlock held on success */
static struct vtimer *timer_get(struct vm_run *run, __u64 r1, const char *helper, int *ret)
{
	const struct vm_region *reg;
	__u64 *w = timer_arg(run, r1, helper, &reg);
	*ret = 0;
	if (!w)
		return NULL;
	pthread_mutex_lock(&tlock);
	bool foreign;
	struct vtimer *t = find(w, &foreign);
	if (t)
		return t;
	pthread_mutex_unlock(&tlock);
	if (foreign)
		vm_fault(run, -EOPNOTSUPP, "%s: the timer belongs to another process (timers are not shared)", helper);
	else
		*ret = -EINVAL;               /* not initialized */
	return NULL;
}

/* bpf_timer_set_callback(timer, callback) */
__u64 vm_h_timer_set_callback(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	const struct vm_insn *fn;
	if (!vm_func_entry(run->prog, r2, &fn)) {
		vm_fault(run, -EFAULT, "bpf_timer_set_callback: R2 %#llx is not a function of the program",
			 (unsigned long long)r2);
		return 0;
	}
	int ret;
	struct vtimer *t = timer_get(run, r1, "bpf_timer_set_callback", &ret);
	if (!t)
		return (__u64)(__s64)ret;
	struct emu_obj *old = t->prog_obj;
	t->prog_obj = run->prog->obj;
	__atomic_add_fetch(&t->prog_obj->refs, 1, __ATOMIC_RELAXED);
	t->cb = fn;
	pthread_mutex_unlock(&tlock);
	if (old)
		emu_obj_put(old);
	return 0;
}

/* bpf_timer_start(timer, nsecs, flags) */
__u64 vm_h_timer_start(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	if (r3 & ~(F_TIMER_ABS | F_TIMER_CPU_PIN))
		return (__u64)-EINVAL;
	int ret;
	struct vtimer *t = timer_get(run, r1, "bpf_timer_start", &ret);
	if (!t)
		return (__u64)(__s64)ret;
	if (!t->cb) {
		pthread_mutex_unlock(&tlock);
		return (__u64)-EINVAL;
	}
	__u64 now = mono_ns(), delay = r2;
	if (r3 & F_TIMER_ABS) {
		__u64 c = clock_ns(t->clock);
		delay = r2 > c ? r2 - c : 0;
	}
	t->due = now + delay;
	t->armed = true;
	int err = thread_ensure();
	pthread_cond_broadcast(&tcond);
	pthread_mutex_unlock(&tlock);
	if (err)
		vm_fault(run, err, "bpf_timer_start: cannot start the timers' thread");
	return 0;
}

/* bpf_timer_cancel(timer): 1 if it was armed, 0 if not */
__u64 vm_h_timer_cancel(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	int ret;
	struct vtimer *t = timer_get(run, r1, "bpf_timer_cancel", &ret);
	if (!t)
		return (__u64)(__s64)ret;
	if (in_callback == t) {
		pthread_mutex_unlock(&tlock);
		return (__u64)-EDEADLK;
	}
	ret = t->armed;
	t->armed = false;
	pthread_mutex_unlock(&tlock);
	return (__u64)ret;
}
