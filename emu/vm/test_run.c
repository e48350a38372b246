/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/test_run.c: BPF_PROG_TEST_RUN, the statistics, and what the load
 * step keeps for the VM.
 *
 * Each program type builds the context its kernel test_run builds (Linux
 * 6.18, net/bpf/test_run.c), with the same attr checks in the same order and
 * the same errnos, runs the program `repeat` times, measures the mean
 * duration, and copies data_out / ctx_out back as bpf_test_finish() and
 * bpf_ctx_finish() do (ENOSPC with the full size written back when the
 * caller's buffer is short):
 *
 *   XDP: a 4096-byte frame, 256 bytes of headroom (less the meta data
 *   xdp_md.data asks for), 320 bytes of tailroom; data_out starts at
 *   data_meta; xdp_md in and out; data beyond the frame is kept as fragments
 *   and returned after it.
 *   skb types (socket filter, tc, cgroup skb, lwt): the skb the kernel
 *   builds (64 bytes of headroom, eth_type_trans() on loopback or on
 *   __sk_buff.ifindex's device: pkt_type, protocol, the MAC header pulled;
 *   tc and lwt see data_end, tc starts at the MAC header); __sk_buff in and
 *   out with the kernel's allowed fields; non-tc types get 14 zero bytes in
 *   front of data_out, as the kernel pushes them back.
 *   raw_tracepoint: the arguments as ctx, BPF_F_TEST_RUN_ON_CPU.
 *   syscall: the ctx bytes, written back into ctx_in.
 *
 * Packet buffers are mapped below 4 GiB: __sk_buff and xdp_md carry the data
 * pointers in 32-bit fields, and a program loads them as such.
 *
 * A run that ends early (a memory violation, a helper that is not emulated,
 * the time limit, ...) makes the call fail with that run's errno; nothing of
 * the run is copied out.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"
#include "../os.h"
#include "vm_int.h"
#include "../os_errno.h"

#define ETH_HLEN 14

#define SKB_TAILROOM 320u              /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), 6.18 x86-64 */
#define NET_SKB_PAD 64u
#define PAGE 4096u
#define MAX_SKB_FRAGS 17u
#define GSO_LEGACY_MAX_SIZE 65536u
#define GSO_MAX_SEGS 65535u
#define XDP_PAGE_HEAD 112u             /* sizeof(struct xdp_page_head), 6.18 x86-64: live frames only */
#define MAX_BPF_FUNC_ARGS 12u
#define BPF_PROG_TYPE_NETFILTER_ 32            /* not in the installed (6.1) headers */

/* ---- per thread: the stack, a low packet buffer, the run ---- */



static EMU_TLS struct vm_thread *thr;
static pthread_key_t thr_key;
static pthread_once_t thr_once = PTHREAD_ONCE_INIT;

static void thr_free(void *p)
{
	struct vm_thread *t = p;
	if (!t)
		return;
	free(t->stack);
	if (t->pkt)
		emu_os_munmap(t->pkt, VM_PKT_BUF);
	vm_regions_free(&t->run.dyn);
	free(t->run.inner);
	free(t);
	thr = NULL;
}

static void thr_init(void)
{
	pthread_key_create(&thr_key, thr_free);
}

/* a mapping below 4 GiB */
static void *low_map(size_t len)
{
#ifdef MAP_32BIT
	void *p = emu_os_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0, NULL);
	if (p != MAP_FAILED)
		return p;
#endif
	for (uintptr_t hint = 0x10000000; hint < 0xf0000000; hint += 0x10000000) {
		void *q = emu_os_mmap((void *)hint, len, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, NULL);
		if (q == MAP_FAILED)
			continue;
		if ((uintptr_t)q + len <= 0xffffffffull)
			return q;
		emu_os_munmap(q, len);
	}
	return NULL;
}

struct vm_thread *vm_thread_get(void)
{
	struct vm_thread *t = thr;
	if (likely(t))
		return t;
	pthread_once(&thr_once, thr_init);
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->stack = aligned_alloc(64, VM_MAX_FRAMES * VM_STACK_SIZE);
	t->pkt = low_map(VM_PKT_BUF);
	if (!t->stack || !t->pkt) {
		thr_free(t);
		return NULL;
	}
	pthread_setspecific(thr_key, t);
	thr = t;
	return t;
}

/* ---- the skb ctx: the bytes each program type may write ---- */

#define SKB_OFF(f) offsetof(struct __sk_buff, f)
#define SKB_SZ(f) sizeof(((struct __sk_buff *)0)->f)
static void mark_w(unsigned char *m, size_t off, size_t len)
{
	memset(m + off, 1, len);
}

unsigned char vm_skb_wmask_tc[VM_SKB_SIZE];
unsigned char vm_skb_wmask_filter[VM_SKB_SIZE];
unsigned char vm_skb_wmask_cg[VM_SKB_SIZE];

__attribute__((constructor)) static void wmasks_init(void)
{
	/* tc_cls_act_is_valid_access(), sk_filter_is_valid_access(), cg_skb_is_valid_access() */
	mark_w(vm_skb_wmask_tc, SKB_OFF(mark), SKB_SZ(mark));
	mark_w(vm_skb_wmask_tc, SKB_OFF(tc_index), SKB_SZ(tc_index));
	mark_w(vm_skb_wmask_tc, SKB_OFF(priority), SKB_SZ(priority));
	mark_w(vm_skb_wmask_tc, SKB_OFF(tc_classid), SKB_SZ(tc_classid));
	mark_w(vm_skb_wmask_tc, SKB_OFF(cb), SKB_SZ(cb));
	mark_w(vm_skb_wmask_tc, SKB_OFF(tstamp), SKB_SZ(tstamp));
	mark_w(vm_skb_wmask_tc, SKB_OFF(queue_mapping), SKB_SZ(queue_mapping));
	mark_w(vm_skb_wmask_filter, SKB_OFF(cb), SKB_SZ(cb));
	mark_w(vm_skb_wmask_cg, SKB_OFF(mark), SKB_SZ(mark));
	mark_w(vm_skb_wmask_cg, SKB_OFF(priority), SKB_SZ(priority));
	mark_w(vm_skb_wmask_cg, SKB_OFF(cb), SKB_SZ(cb));
	mark_w(vm_skb_wmask_cg, SKB_OFF(tstamp), SKB_SZ(tstamp));
}

/* ---- packets ---- */

void vm_pkt_changed(struct vm_run *run)
{
	if (run->ctx_kind == VM_CTX_XDP) {
		struct vm_pkt *x = &run->pkt;
		struct xdp_md *md = run->ctx;
		md->data = (__u32)(uintptr_t)x->data;
		md->data_end = (__u32)(uintptr_t)x->end;
		md->data_meta = (__u32)(uintptr_t)x->meta;
		vm_fixed_set(run, VM_R_PKT, (__u64)(uintptr_t)x->data, (__u64)(x->end - x->data), VM_RW);
		vm_fixed_set(run, VM_R_PKT_META, (__u64)(uintptr_t)x->meta, (__u64)(x->data - x->meta), VM_RW);
	} else if (run->ctx_kind == VM_CTX_SKB) {
		struct vm_skb *skb = run->skb;
		skb->ctx.len = skb->len;
		skb->ctx.data = (__u32)(uintptr_t)skb->data;
		skb->ctx.data_meta = (__u32)(uintptr_t)skb->data;
		if (skb->direct)
			skb->ctx.data_end = (__u32)(uintptr_t)(skb->data + skb->len);
		vm_fixed_set(run, VM_R_PKT, (__u64)(uintptr_t)skb->data, skb->len,
			     skb->pkt_write ? VM_RW : VM_RD);
	}
}

int vm_ld_pkt(struct vm_run *run, __s64 off, __u32 size, __u32 *val)
{
	struct vm_skb *skb = run->skb;
	if (run->ctx_kind != VM_CTX_SKB || !skb) {
		vm_fault(run, -EINVAL, "LD_ABS/LD_IND outside an skb program");
		return -EINVAL;
	}
	const unsigned char *p;
	__s32 k = (__s32)off;
	if (k >= 0) {
		if ((__u64)k + size > skb->len)
			return -EFAULT;
		p = skb->data + k;
	} else {
		if (k >= SKF_NET_OFF)
			p = skb->head + skb->net_off + (k - SKF_NET_OFF);
		else if (k >= SKF_LL_OFF)
			p = skb->head + skb->mac_off + (k - SKF_LL_OFF);
		else
			return -EFAULT;
		if (p < skb->head || p + size > skb->data + skb->len)
			return -EFAULT;
	}
	__u32 v = 0;
	for (__u32 i = 0; i < size; i++)
		v = v << 8 | p[i];
	*val = v;
	return 0;
}

/* ---- the common parts of net/bpf/test_run.c ---- */

/* bpf_check_uarg_tail_zero() */
int vm_tail_zero(const void *uaddr, size_t expected, size_t actual)
{
	unsigned char buf[256];
	if (actual > PAGE)
		return -E2BIG;
	for (size_t off = expected; off < actual; off += sizeof(buf)) {
		size_t n = actual - off < sizeof(buf) ? actual - off : sizeof(buf);
		if (emu_copy_from_user(buf, UPTR_ADD(uaddr, off), n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (buf[i])
				return -E2BIG;
	}
	return 0;
}

/* bpf_ctx_init(): NULL (no ctx in or out), or max_size bytes (the caller's, zero-extended) */
void *vm_ctx_init(const struct emu_test_run_spec *s, __u32 max_size, int *err)
{
	*err = 0;
	if (!s->ctx_in && !s->ctx_out)
		return NULL;
	void *d = calloc(1, max_size);
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	if (s->ctx_in) {
		*err = vm_tail_zero(s->ctx_in, max_size, s->ctx_size_in);
		if (!*err)
			*err = emu_copy_from_user(d, s->ctx_in, s->ctx_size_in < max_size ? s->ctx_size_in : max_size);
		if (*err) {
			free(d);
			return NULL;
		}
	}
	return d;
}

/* bpf_test_finish(): data_out (clamped to data_size_out: ENOSPC), data_size_out, retval, duration */
int vm_test_finish(const struct emu_test_run_spec *s, const void *data, __u32 size, const void *frags,
		       __u32 frags_size, __u32 retval, __u32 duration)
{
	__u32 copy = size;
	int err = 0;
	if (s->data_size_out && copy > s->data_size_out) {
		copy = s->data_size_out;
		err = -ENOSPC;
	}
	if (s->data_out) {
		__u32 lin = size - frags_size;
		if (copy < lin) {
			if (emu_copy_to_user(s->data_out, data, copy))
				return -EFAULT;
		} else {
			if (emu_copy_to_user(s->data_out, data, lin) ||
			    emu_copy_to_user(UPTR_ADD(s->data_out, lin), frags, copy - lin))
				return -EFAULT;
		}
	}
	if (emu_copy_to_user(s->u_data_size_out, &size, 4) || emu_copy_to_user(s->u_retval, &retval, 4) ||
	    emu_copy_to_user(s->u_duration, &duration, 4))
		return -EFAULT;
	return err;
}

/* bpf_ctx_finish() */
int vm_ctx_finish(const struct emu_test_run_spec *s, const void *ctx, __u32 size)
{
	if (!ctx || !s->ctx_out)
		return 0;
	__u32 copy = size;
	int err = 0;
	if (copy > s->ctx_size_out) {
		copy = s->ctx_size_out;
		err = -ENOSPC;
	}
	if (emu_copy_to_user(s->ctx_out, ctx, copy) || emu_copy_to_user(s->u_ctx_size_out, &size, 4))
		return -EFAULT;
	return err;
}

/* ---- running ---- */

__u64 vm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/*
 * The time test runs spend running, as the kernel's bpf_test_timer counts
 * it: the kernel runs them with preemption off and leaves out the time it
 * lets others run between runs (cond_resched); a loop in user space is
 * preempted anywhere, and on a busy machine the clock would count other
 * tasks' time slices. Runs long enough for that to matter (past 100 us)
 * take the thread's CPU time when it is the smaller.
 */
struct run_timer {
	__u64 mono, cpu;
};

static __u64 thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void timer_start(struct run_timer *t)
{
	t->cpu = thread_cpu_ns();
	t->mono = vm_now_ns();
}

static __u64 timer_spent(const struct run_timer *t)
{
	__u64 m = vm_now_ns() - t->mono;
	if (m < 100000 || !t->cpu)
		return m;
	__u64 c = thread_cpu_ns() - t->cpu;
	return c && c < m ? c : m;
}

static __u64 timeout_ns(void)
{
	static __u64 t;
	__u64 v = __atomic_load_n(&t, __ATOMIC_RELAXED);
	if (v)
		return v;
	const char *e = getenv("BPFEMU_VM_TIMEOUT_MS");
	char *end;
	unsigned long long ms = e && *e ? strtoull(e, &end, 10) : 0;
	if (!e || !*e || *end || !ms)
		ms = 10000;
	v = ms * 1000000ull;
	__atomic_store_n(&t, v, __ATOMIC_RELAXED);
	return v;
}

void vm_run_setup(struct vm_thread *t, const struct vm_prog *p, int ctx_kind, void *ctx, __u32 ctx_size,
		      __u32 ctx_perm)
{
	struct vm_run *run = &t->run;
	run->ext_of = NULL;                   /* extensions attached meanwhile: looked up again */
	run->stack = t->stack;
	run->stack_top = (__u64)(uintptr_t)(t->stack + VM_MAX_FRAMES * VM_STACK_SIZE);
	run->ctx_kind = ctx_kind;
	run->ctx = ctx;
	run->ctx_size = ctx_size;
	run->ctx_all_w = ctx_kind == VM_CTX_SYSCALL;
	run->ctx_wmask = NULL;
	if (ctx_kind == VM_CTX_SKB) {
		switch (p->type) {
		case BPF_PROG_TYPE_SCHED_CLS:
		case BPF_PROG_TYPE_SCHED_ACT:
			run->ctx_wmask = vm_skb_wmask_tc;
			break;
		case BPF_PROG_TYPE_CGROUP_SKB:
			run->ctx_wmask = vm_skb_wmask_cg;
			break;
		default:
			run->ctx_wmask = vm_skb_wmask_filter;
		}
	}
	run->nr_fixed = 0;
	vm_fixed_set(run, VM_R_STACK, (__u64)(uintptr_t)t->stack, VM_MAX_FRAMES * VM_STACK_SIZE, VM_RW);
	if (ctx && ctx_size)
		vm_fixed_set(run, VM_R_CTX, (__u64)(uintptr_t)ctx, ctx_size, ctx_perm);
	run->skb = ctx_kind == VM_CTX_SKB ? &t->skb : NULL;
	if (ctx_kind == VM_CTX_XDP || ctx_kind == VM_CTX_SKB)
		vm_pkt_changed(run);
	run->redirect = (struct vm_redirect){ 0 };
}

static __u64 run_entry(struct vm_run *run, const struct vm_prog *p, const struct vm_insn *entry, __u64 r1, __u64 r2,
			   __u64 r3, __u32 cpu);

/* One run of p on the prepared context: R0, or run->err. */
__u64 vm_run_once(struct vm_run *run, const struct vm_prog *p, __u32 cpu)
{
	return run_entry(run, p, p->funcs[0].entry, (__u64)(uintptr_t)run->ctx, 0, 0, cpu);
}

/* A function of p on its own (a timer's callback): (map, key, value), the
 * key a copy, the value the element's, as regions of the run. */
__u64 vm_run_fn(struct vm_thread *t, const struct vm_prog *p, const struct vm_insn *entry, __u64 r1, const void *key,
		__u32 key_size, void *value, struct vm_map *m)
{
	unsigned char kbuf[64];
	memcpy(kbuf, key, key_size < sizeof(kbuf) ? key_size : sizeof(kbuf));
	vm_run_setup(t, p, VM_CTX_NONE, NULL, 0, VM_RD);
	struct vm_run *run = &t->run;
	vm_fixed_add(run, VM_R_KEY, (__u64)(uintptr_t)kbuf, key_size, VM_RD);
	if (!vm_fixed_add(run, VM_R_MAPVAL, (__u64)(uintptr_t)value, m->value_size,
			  (m->readable ? VM_RD : 0) | (m->writable ? VM_WR : 0)))
		run->fixed[run->nr_fixed - 1].map = m;
	return run_entry(run, p, entry, r1, (__u64)(uintptr_t)kbuf, (__u64)(uintptr_t)value, vm_current_cpu());
}

static __u64 run_entry(struct vm_run *run, const struct vm_prog *p, const struct vm_insn *entry, __u64 r1, __u64 r2,
			   __u64 r3, __u32 cpu)
{
	run->err = 0;
	run->prog = p;
	run->depth = 0;
	run->tail_calls = 0;
	run->ticks = VM_TICKS;
	run->deadline_ns = 0;
	run->may_goto = VM_MAX_LOOPS;
	run->cpu = cpu;
	if (run->dyn.n)
		vm_regions_reset(run);
	if (run->nr_inner)
		vm_run_release_maps(run);
	/* the cache starts on the stack */
	run->c_lo = run->fixed[0].lo;
	run->c_len = run->fixed[0].len;
	run->c_perm = VM_RW;
	__u64 r0 = vm_exec(run, entry, r1, r2, r3, 0, 0);
	if (unlikely(run->lock_map))
		vm_release_lock(run);
	if (run->dyn.n)
		vm_release_records(run);
	if (run->nr_inner)
		vm_run_release_maps(run);   /* after the records and the lock: they may be in inner maps */
	return r0;
}

/* The time limit: counted from the first clock check of a run (the first
 * VM_TICKS loop iterations are free); see vm_tick_slow(). */
bool vm_tick_deadline(struct vm_run *run)
{
	if (!run->deadline_ns)
		run->deadline_ns = vm_now_ns() + timeout_ns();
	return vm_now_ns() <= run->deadline_ns;
}

void vm_stats_add(struct emu_obj *obj, __u64 runs, __u64 ns)
{
	struct emu_prog_desc *pd = &obj->hdr->prog;
	if (obj->rdonly)
		return;
	__atomic_add_fetch(&pd->run_cnt, runs, __ATOMIC_RELAXED);
	__atomic_add_fetch(&pd->run_time_ns, ns, __ATOMIC_RELAXED);
}

/* bpf_test_run(): repeat runs (0 is 1), the mean duration; 0 or the run's errno */
int vm_test_repeat(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p, __u32 repeat, __u32 fixed_cpu,
		    bool on_cpu, __u32 *retval, __u32 *duration)
{
	struct vm_run *run = &t->run;
	bool stats = emu_vm_stats_enabled();
	if (!repeat)
		repeat = 1;
	/* the kernel keeps a test run on one CPU (migrate_disable) */
	__u32 cpu = on_cpu ? fixed_cpu : vm_current_cpu();
	__u64 r0 = 0;
	__u32 i;
	struct run_timer tm;
	timer_start(&tm);
	for (i = 0; i < repeat; i++) {
		r0 = vm_run_once(run, p, cpu);
		if (run->err)
			break;
	}
	__u64 spent = timer_spent(&tm);
	if (stats)
		vm_stats_add(obj, i + (run->err ? 1 : 0), spent);
	t->last_redirect = run->redirect;
	if (run->err)
		return run->err;
	*retval = (__u32)r0;
	spent /= repeat;
	*duration = spent > 0xffffffffu ? 0xffffffffu : (__u32)spent;
	return 0;
}

/* ---- XDP: bpf_prog_test_run_xdp() ---- */

/* the number of receive queues of a device, from sysfs (0: unknown) */
static unsigned int rx_queues(const char *ifname)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	unsigned int n = 0;
	for (unsigned int q = 0; q < 4096; q++) {
		char p2[192];
		snprintf(p2, sizeof(p2), "%s/rx-%u", path, q);
		if (emu_os_faccessat(AT_FDCWD, p2, F_OK))
			break;
		n++;
	}
	return n;
}

/*
 * BPF_F_TEST_XDP_LIVE_FRAMES (bpf_test_run_xdp_live()): each of `repeat` runs
 * gets a fresh copy of the frame, as the kernel's page pool hands out pages
 * reset to the original; what the program did to one frame is gone for the
 * next, and the frame the call copies out is the original. The kernel then
 * sends what the program decided (XDP_TX and redirects out through the
 * device, XDP_PASS up its network stack); here nothing leaves the process:
 * the verdicts are counted in a BPFEMU_LOG=vm line, the last redirect is
 * recorded (bpfemu_test_run_redirect()), and the call answers as the
 * kernel's does (retval 0, the duration).
 */
#define XDP_LIVE_BATCH 64u            /* NAPI_POLL_WEIGHT: the batch when batch_size is 0 */
static int xdp_live(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p, __u32 repeat, __u32 batch,
		    __u32 *duration)
{
	struct vm_run *run = &t->run;
	struct vm_pkt *x = &run->pkt;
	unsigned char *meta = x->meta, *data = x->data, *end = x->end;
	size_t len = (size_t)(end - meta);
	unsigned char *orig = malloc(len ? len : 1);
	if (!orig)
		return -ENOMEM;
	memcpy(orig, meta, len);
	if (!repeat)
		repeat = 1;
	bool stats = emu_vm_stats_enabled();
	__u32 cpu = vm_current_cpu(), i;
	__u64 counts[5] = { 0 };
	struct run_timer tm;
	timer_start(&tm);
	for (i = 0; i < repeat; i++) {
		if (x->meta != meta || x->data != data || x->end != end || memcmp(meta, orig, len)) {
			/* a page of the pool comes back as it was first made */
			memset(x->hard_start, 0, (size_t)(x->hard_end - x->hard_start));
			memcpy(meta, orig, len);
			x->meta = meta;
			x->data = data;
			x->end = end;
			vm_pkt_changed(run);
		}
		__u32 act = (__u32)vm_run_once(run, p, cpu);
		if (run->err)
			break;
		counts[act < 5 ? act : XDP_ABORTED]++;
	}
	__u64 spent = timer_spent(&tm);
	if (stats)
		vm_stats_add(obj, i + (run->err ? 1 : 0), spent);
	t->last_redirect = run->redirect;
	/* the original frame for data_out */
	memset(x->hard_start, 0, (size_t)(x->hard_end - x->hard_start));
	memcpy(meta, orig, len);
	x->meta = meta;
	x->data = data;
	x->end = end;
	free(orig);
	if (run->err)
		return run->err;
	EMU_LOG(EMU_LOG_VM,
		"prog '%s' (id %u): %u live frames in batches of %u: %llu aborted, %llu dropped, %llu passed, %llu "
		"transmitted, %llu redirected; nothing is sent anywhere",
		p->name, p->id, repeat, batch, (unsigned long long)counts[XDP_ABORTED], (unsigned long long)counts[XDP_DROP],
		(unsigned long long)counts[XDP_PASS], (unsigned long long)counts[XDP_TX],
		(unsigned long long)counts[XDP_REDIRECT]);
	spent /= repeat;
	*duration = spent > 0xffffffffu ? 0xffffffffu : (__u32)spent;
	return 0;
}

static int run_xdp(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p, const struct emu_test_run_spec *s)
{
	bool live = s->flags & BPF_F_TEST_XDP_LIVE_FRAMES;
	__u32 headroom = XDP_PACKET_HEADROOM, tailroom = SKB_TAILROOM, size = s->data_size_in;
	int err;

	if (p->attach_type == BPF_XDP_DEVMAP || p->attach_type == BPF_XDP_CPUMAP)
		return -EINVAL;
	if (s->flags & ~BPF_F_TEST_XDP_LIVE_FRAMES)
		return -EINVAL;
	if (live) {
		if (s->batch_size > 256)
			return -E2BIG;
		headroom += XDP_PAGE_HEAD;
	} else if (s->batch_size) {
		return -EINVAL;
	}
	struct xdp_md *uctx = vm_ctx_init(s, sizeof(struct xdp_md), &err);
	if (err)
		return err;
	err = -EINVAL;
	if (uctx) {
		/* data_end may be less than data_size_in: the linear part, the rest goes to fragments */
		if (uctx->data_meta || uctx->data_end > size || uctx->data > uctx->data_end || (uctx->data & 3) ||
		    uctx->data > 255 || (live && (s->data_out || s->ctx_out)))
			goto out_ctx;
		headroom -= uctx->data;
	}
	if (s->data_size_in < ETH_HLEN)
		goto out_ctx;
	__u32 max_data_sz = PAGE - headroom - tailroom;
	/* live frames: no jumbo frames (no fragments) */
	if (live && size > max_data_sz)
		goto out_ctx;
	__u32 data_sz = uctx && uctx->data_end < max_data_sz ? uctx->data_end : max_data_sz;
	if (size > data_sz)
		size = data_sz;
	/* a live frame sits in a page after the test's struct xdp_page_head:
	 * the buffer here starts at its data_hard_start */
	__u32 frame = live ? PAGE - XDP_PAGE_HEAD : PAGE;
	if (live)
		headroom -= XDP_PAGE_HEAD;
	unsigned char *buf = t->pkt;
	memset(buf, 0, PAGE);
	if (emu_copy_from_user(buf + headroom, s->data_in, size)) {
		err = -EFAULT;
		goto out_ctx;
	}
	struct vm_pkt *x = &t->run.pkt;
	x->buf = buf;
	x->buf_len = PAGE;
	x->hard_start = buf;
	x->data = x->meta = buf + headroom;
	x->end = x->data + size;
	x->hard_end = buf + frame - SKB_TAILROOM;
	x->has_frags = s->data_size_in > size;
	__u32 ingress = 1, rxq = 0;     /* loopback's first queue */
	if (uctx) {
		if (uctx->egress_ifindex) {
			err = -EINVAL;
			goto out_ctx;
		}
		if (!uctx->ingress_ifindex && uctx->rx_queue_index) {
			err = -EINVAL;
			goto out_ctx;
		}
		if (uctx->ingress_ifindex) {
			char name[IF_NAMESIZE];
			if (!if_indextoname(uctx->ingress_ifindex, name)) {
				err = -ENODEV;
				goto out_ctx;
			}
			if (uctx->rx_queue_index >= rx_queues(name)) {
				err = -EINVAL;
				goto out_ctx;
			}
			ingress = uctx->ingress_ifindex;
			rxq = uctx->rx_queue_index;
		}
		x->data = x->meta + uctx->data;
	}
	/* fragments: what does not fit the frame, kept as it came */
	unsigned char *frags = NULL;
	__u32 frags_size = 0;
	if (s->data_size_in > size) {
		frags_size = s->data_size_in - size;
		if ((frags_size + PAGE - 1) / PAGE > MAX_SKB_FRAGS) {
			err = -ENOMEM;
			goto out_ctx;
		}
		frags = malloc(frags_size);
		if (!frags) {
			err = -ENOMEM;
			goto out_ctx;
		}
		if (emu_copy_from_user(frags, UPTR_ADD(s->data_in, size), frags_size)) {
			err = -EFAULT;
			goto out_frags;
		}
	}
	memset(&t->xdp, 0, sizeof(t->xdp));
	t->xdp.ingress_ifindex = ingress;
	t->xdp.rx_queue_index = rxq;
	vm_run_setup(t, p, VM_CTX_XDP, &t->xdp, sizeof(t->xdp), VM_RD);
	__u32 retval = 0, duration = 0;
	if (live)
		err = xdp_live(t, obj, p, s->repeat, s->batch_size ? s->batch_size : XDP_LIVE_BATCH, &duration);
	else
		err = vm_test_repeat(t, obj, p, s->repeat, 0, false, &retval, &duration);
	if (uctx) {
		uctx->data = (__u32)(x->data - x->meta);
		uctx->data_end = (__u32)(x->end - x->meta);
	}
	if (err)
		goto out_frags;
	size = (__u32)(x->end - x->meta) + frags_size;
	err = vm_test_finish(s, x->meta, size, frags, frags_size, retval, duration);
	if (!err)
		err = vm_ctx_finish(s, uctx, sizeof(struct xdp_md));
out_frags:
	free(frags);
out_ctx:
	free(uctx);
	return err;
}

/* ---- skb programs: bpf_prog_test_run_skb() ---- */

bool vm_range_zero(const void *p, size_t from, size_t to)
{
	const unsigned char *c = p;
	for (size_t i = from; i < to; i++)
		if (c[i])
			return false;
	return true;
}

/* convert___skb_to_skb(): which fields user space may set */
static int skb_ctx_check(const struct __sk_buff *u)
{
	if (!vm_range_zero(u, 0, SKB_OFF(mark)) || !vm_range_zero(u, SKB_OFF(mark) + 4, SKB_OFF(priority)) ||
	    !vm_range_zero(u, SKB_OFF(ifindex) + 4, SKB_OFF(cb)) ||
	    !vm_range_zero(u, SKB_OFF(cb) + SKB_SZ(cb), SKB_OFF(tstamp)) ||
	    !vm_range_zero(u, SKB_OFF(gso_segs) + 4, SKB_OFF(gso_size)) ||
	    !vm_range_zero(u, SKB_OFF(gso_size) + 4, SKB_OFF(hwtstamp)) ||
	    !vm_range_zero(u, SKB_OFF(hwtstamp) + 8, sizeof(struct __sk_buff)))
		return -EINVAL;
	return 0;
}

/* a sysfs MAC address of a device (zeros if unreadable) */
static void read_mac(const char *name, const char *file, unsigned char mac[6])
{
	char path[128], line[64];
	memset(mac, 0, 6);
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file);
	unsigned int b[6];
	if (emu_os_read_file(path, line, sizeof(line)) > 0 &&
	    sscanf(line, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6)
		for (int i = 0; i < 6; i++)
			mac[i] = (unsigned char)b[i];
}

/* a device's address and broadcast address (loopback's are both zeros); false: no such device */
static bool dev_addr(unsigned int ifindex, unsigned char mac[6], unsigned char bcast[6])
{
	char name[IF_NAMESIZE];
	if (!if_indextoname(ifindex, name))
		return false;
	read_mac(name, "address", mac);
	read_mac(name, "broadcast", bcast);
	return true;
}


static int run_skb(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p, const struct emu_test_run_spec *s)
{
	bool l2 = false, direct = false;
	__u32 size = s->data_size_in;
	int err;

	if ((s->flags & ~BPF_F_TEST_SKB_CHECKSUM_COMPLETE) || s->cpu || s->batch_size)
		return -EINVAL;
	/* bpf_test_init() */
	if (size < ETH_HLEN || size > PAGE - NET_SKB_PAD - SKB_TAILROOM)
		return -EINVAL;
	unsigned char *buf = t->pkt;
	memset(buf, 0, PAGE);
	if (emu_copy_from_user(buf + NET_SKB_PAD, s->data_in, size))
		return -EFAULT;
	struct __sk_buff *uctx = vm_ctx_init(s, sizeof(struct __sk_buff), &err);
	if (err)
		return err;
	switch (p->type) {
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		l2 = true;
		direct = true;
		break;
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
		direct = true;
		break;
	default:
		break;
	}
	struct vm_skb *skb = &t->skb;
	memset(skb, 0, sizeof(*skb));
	skb->head = buf;
	skb->data = buf + NET_SKB_PAD;
	skb->len = size;
	skb->end = buf + PAGE - SKB_TAILROOM;
	unsigned int ifindex = 1;
	if (uctx && uctx->ifindex > 1)
		ifindex = uctx->ifindex;
	unsigned char mac[6], bcast[6];
	if (!dev_addr(ifindex, mac, bcast)) {
		err = -ENODEV;
		goto out;
	}
	/* eth_type_trans() */
	const unsigned char *eth = skb->data;
	__u32 pkt_type = 0;                           /* PACKET_HOST */
	if (memcmp(eth, mac, 6)) {
		if (eth[0] & 1)
			pkt_type = !memcmp(eth, bcast, 6) ? 1 : 2;    /* BROADCAST, MULTICAST */
		else
			pkt_type = 3;                 /* OTHERHOST */
	}
	__u16 proto_be;
	memcpy(&proto_be, eth + 12, 2);
	if (__builtin_bswap16(proto_be) < 0x0600)
		proto_be = (size >= ETH_HLEN + 2 && eth[14] == 0xff && eth[15] == 0xff) ? __builtin_bswap16(0x0001)
											 : __builtin_bswap16(0x0004);
	skb->mac_off = NET_SKB_PAD;
	skb->data += ETH_HLEN;
	skb->len -= ETH_HLEN;
	skb->net_off = NET_SKB_PAD + ETH_HLEN;
	struct __sk_buff *c = &skb->ctx;
	c->pkt_type = pkt_type;
	c->protocol = proto_be;
	c->ifindex = ifindex;
	/* the socket test_run makes: its family and addresses */
	__u16 proto = __builtin_bswap16(proto_be);
	const unsigned char *nh = skb->data;
	if (proto == 0x0800) {
		c->family = 2;                        /* AF_INET */
		if (skb->len >= 20) {
			memcpy(&c->local_ip4, nh + 12, 4);     /* sk_rcv_saddr = saddr */
			memcpy(&c->remote_ip4, nh + 16, 4);    /* sk_daddr = daddr */
		}
	} else if (proto == 0x86dd) {
		c->family = 10;                       /* AF_INET6 */
		if (skb->len >= 40) {
			memcpy(c->local_ip6, nh + 8, 16);
			memcpy(c->remote_ip6, nh + 24, 16);
		}
	}
	if (l2) {
		skb->data -= ETH_HLEN;
		skb->len += ETH_HLEN;
	}
	skb->l2 = l2;
	skb->direct = direct;
	skb->pkt_write = direct;
	if (uctx) {
		err = skb_ctx_check(uctx);
		if (err)
			goto out;
		c->mark = uctx->mark;
		c->priority = uctx->priority;
		c->ingress_ifindex = uctx->ingress_ifindex;
		c->tstamp = uctx->tstamp;
		memcpy(c->cb, uctx->cb, sizeof(c->cb));
		if (!uctx->wire_len) {
			c->wire_len = skb->len;
		} else {
			if (uctx->wire_len < skb->len || uctx->wire_len > GSO_LEGACY_MAX_SIZE) {
				err = -EINVAL;
				goto out;
			}
			c->wire_len = uctx->wire_len;
		}
		if (uctx->gso_segs > GSO_MAX_SEGS) {
			err = -EINVAL;
			goto out;
		}
		c->gso_segs = uctx->gso_segs;
		c->gso_size = uctx->gso_size;
		c->hwtstamp = uctx->hwtstamp;
	} else {
		c->wire_len = skb->len;
	}
	if (s->flags & BPF_F_TEST_SKB_CHECKSUM_COMPLETE) {
		unsigned char *n = skb->head + skb->net_off;
		skb->csum_complete = true;
		skb->ip_summed = VM_CHECKSUM_COMPLETE;
		skb->csum = vm_csum_partial(n, (__u32)(skb->data + skb->len - n), 0);
	}
	vm_run_setup(t, p, VM_CTX_SKB, c, sizeof(*c), VM_RD);
	__u32 retval = 0, duration = 0;
	err = vm_test_repeat(t, obj, p, s->repeat, 0, false, &retval, &duration);
	if (err)
		goto out;
	if (!l2) {
		/* the MAC header comes back as zeros (in room made for it if the program took it) */
		if (vm_skb_room(&t->run, skb, ETH_HLEN, 0)) {
			err = -ENOMEM;
			goto out;
		}
		skb->data -= ETH_HLEN;
		memset(skb->data, 0, ETH_HLEN);
		skb->len += ETH_HLEN;
	}
	if (skb->csum_complete) {
		unsigned char *n = skb->head + skb->net_off;
		__u32 sum = vm_csum_partial(n, (__u32)(skb->data + skb->len - n), 0);
		if (vm_csum_fold(skb->csum) != vm_csum_fold(sum)) {
			err = -EBADMSG;
			goto out;
		}
	}
	if (uctx) {
		/* convert_skb_to___skb() */
		uctx->mark = c->mark;
		uctx->priority = c->priority;
		uctx->ingress_ifindex = c->ingress_ifindex;
		uctx->ifindex = ifindex;
		uctx->tstamp = c->tstamp;
		memcpy(uctx->cb, c->cb, sizeof(uctx->cb));
		uctx->wire_len = c->wire_len;
		uctx->gso_segs = c->gso_segs;
		uctx->hwtstamp = c->hwtstamp;
	}
	err = vm_test_finish(s, skb->data, skb->len, NULL, 0, retval, duration);
	if (!err)
		err = vm_ctx_finish(s, uctx, sizeof(struct __sk_buff));
out:
	free(uctx);
	return err;
}

/* ---- raw tracepoints and syscall programs ---- */

static int run_raw_tp(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		      const struct emu_test_run_spec *s)
{
	if (s->data_in || s->data_out || s->ctx_out || s->duration_in || s->repeat || s->batch_size)
		return -EINVAL;
	if (s->ctx_size_in < p->max_ctx_offset || s->ctx_size_in > MAX_BPF_FUNC_ARGS * 8)
		return -EINVAL;
	bool on_cpu = s->flags & BPF_F_TEST_RUN_ON_CPU;
	if (!on_cpu && s->cpu)
		return -EINVAL;
	__u64 args[MAX_BPF_FUNC_ARGS] = { 0 };
	if (s->ctx_size_in && emu_copy_from_user(args, s->ctx_in, s->ctx_size_in))
		return -EFAULT;
	if (on_cpu && s->cpu != vm_current_cpu() && s->cpu >= emu_possible_cpus())
		return -ENXIO;
	vm_run_setup(t, p, VM_CTX_RAW, s->ctx_size_in ? args : NULL, s->ctx_size_in, VM_RD);
	__u32 retval = 0, duration = 0;
	/* on another CPU: the run sees that CPU (smp_processor_id, per-CPU slots) */
	int err = vm_test_repeat(t, obj, p, 1, s->cpu, on_cpu, &retval, &duration);
	if (!err && emu_copy_to_user(s->u_retval, &retval, 4))
		err = -EFAULT;
	return err;
}

static int run_syscall(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		       const struct emu_test_run_spec *s)
{
	if (s->data_in || s->data_out || s->ctx_out || s->duration_in || s->repeat || s->flags || s->batch_size)
		return -EINVAL;
	if (s->ctx_size_in < p->max_ctx_offset || s->ctx_size_in > 0xffff)
		return -EINVAL;
	void *ctx = NULL;
	if (s->ctx_size_in) {
		ctx = malloc(s->ctx_size_in);
		if (!ctx)
			return -ENOMEM;
		if (emu_copy_from_user(ctx, s->ctx_in, s->ctx_size_in)) {
			free(ctx);
			return -EFAULT;
		}
	}
	vm_run_setup(t, p, VM_CTX_SYSCALL, ctx, s->ctx_size_in, VM_RW);
	__u32 retval = 0, duration = 0;
	int err = vm_test_repeat(t, obj, p, 1, 0, false, &retval, &duration);
	if (!err && emu_copy_to_user(s->u_retval, &retval, 4))
		err = -EFAULT;
	if (!err && s->ctx_size_in && emu_copy_to_user((void *)s->ctx_in, ctx, s->ctx_size_in))
		err = -EFAULT;
	free(ctx);
	return err;
}

/* ---- BPF_PROG_TEST_RUN ---- */

int emu_vm_test_run(const struct emu_test_run_spec *s)
{
	if ((s->ctx_size_in && !s->ctx_in) || (!s->ctx_size_in && s->ctx_in))
		return -EINVAL;
	if ((s->ctx_size_out && !s->ctx_out) || (!s->ctx_size_out && s->ctx_out))
		return -EINVAL;
	struct emu_obj *obj;
	int acc, err = emu_fd_get((int)s->prog_fd, EMU_KIND_PROG, &obj, &acc);
	if (err)
		return err;
	__u32 type = obj->hdr->prog.prog_type;
	const char *todo = NULL;
	switch (type) {
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
	case BPF_PROG_TYPE_SYSCALL:
		break;
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_SK_LOOKUP:
	case BPF_PROG_TYPE_STRUCT_OPS:
	case BPF_PROG_TYPE_NETFILTER_:
		break;
	default:
		todo = "has no test_run on the kernel either";
	}
	if (todo) {
		EMU_LOG(EMU_LOG_SYS | EMU_LOG_VM, "BPF_PROG_TEST_RUN: program type %u %s: ENOTSUPP", type, todo);
		emu_obj_put(obj);
		return -ENOTSUPP;
	}
	struct vm_thread *t = vm_thread_get();
	const struct vm_prog *p = t ? vm_prog_get(obj, &err) : NULL;
	if (!t)
		err = -ENOMEM;
	if (!p)
		goto out;
	if (p->not_runnable) {
		t->run.prog = p;
		t->run.fault_insn = p->not_runnable_insn;
		t->run.err = 0;
		vm_fault(&t->run, -EACCES, "%s", p->not_runnable);
		err = -EACCES;
		goto out;
	}
	switch (type) {
	case BPF_PROG_TYPE_XDP:
		err = run_xdp(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		err = run_raw_tp(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_SYSCALL:
		err = run_syscall(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
		err = vm_run_flow_dissector(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_TRACING:
		err = vm_run_tracing(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_SK_LOOKUP:
		err = vm_run_sk_lookup(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_STRUCT_OPS:
		err = vm_run_struct_ops(t, obj, p, s);
		break;
	case BPF_PROG_TYPE_NETFILTER_:
		err = vm_run_netfilter(t, obj, p, s);
		break;
	default:
		err = run_skb(t, obj, p, s);
	}
out:
	emu_obj_put(obj);
	return err;
}

/* ---- the last run's redirect, for the embedding API ---- */

int bpfemu_test_run_redirect(unsigned int *ifindex, unsigned int *map_id, unsigned int *key,
			     unsigned long long *flags) __attribute__((visibility("default")));
int bpfemu_test_run_redirect(unsigned int *ifindex, unsigned int *map_id, unsigned int *key,
			     unsigned long long *flags)
{
	struct vm_thread *t = thr;
	if (!t || !t->last_redirect.set)
		return 0;
	if (ifindex)
		*ifindex = t->last_redirect.ifindex;
	if (map_id)
		*map_id = t->last_redirect.map_id;
	if (key)
		*key = t->last_redirect.key;
	if (flags)
		*flags = t->last_redirect.flags;
	return 1;
}

/* ---- statistics: BPF_ENABLE_STATS ---- */

/* The statistics are on while anyone holds a shared flock on <root>/bpf-stats
 * (an fd from BPF_ENABLE_STATS, its dups, a fork's copy: the kernel's
 * refcount of enable_stats fds, across processes; gone with the last close
 * or exit). */
static int stats_path_in(char *buf, size_t len, bool make_root)
{
	int err = make_root ? emu_root_ready() : 0;
	if (err)
		return err;
	if (snprintf(buf, len, "%.4000s/bpf-stats", emu_config()->root) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* the state root is made at first use: a reader (the sysctl's value, is
 * this fd the statistics file?) only looks, and finds nothing without it */
static int stats_path(char *buf, size_t len)
{
	return stats_path_in(buf, len, true);
}

static int stats_path_look(char *buf, size_t len)
{
	return stats_path_in(buf, len, false);
}

int emu_vm_enable_stats(void)
{
	char path[PATH_MAX];
	int err = stats_path(path, sizeof(path));
	if (err)
		return err;
	int fd = emu_os_open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fd;
	while ((err = emu_os_flock(fd, LOCK_SH))) {
		if (err != -EINTR) {
			emu_os_close(fd);
			return err;
		}
	}
	return fd;
}

/*
 * kernel.bpf_stats_enabled: the sysctl's own value (what reading it shows; 1
 * turns the statistics on as an ENABLE_STATS fd does). Writes land in
 * <root>/bpf-stats-sysctl; the value is what it holds when that parses as
 * the kernel's proc_dointvec_minmax() with 0..1 would take it, else the last
 * one that did (<root>/bpf-stats-sysctl.ok): the kernel refuses such a
 * write with EINVAL and keeps its value, here the write itself cannot fail.
 */
static int sysctl_value(void)
{
	char path[PATH_MAX], ok[PATH_MAX + 4], buf[32];
	if (stats_path_look(path, sizeof(path)) || strlen(path) + 8 >= sizeof(path))
		return 0;
	strcat(path, "-sysctl");
	snprintf(ok, sizeof(ok), "%s.ok", path);
	int v = -1, fd = emu_oe_open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = emu_oe_read(fd, buf, sizeof(buf) - 1);
		emu_oe_close(fd);
		if (n > 0) {
			buf[n] = '\0';
			char *p = buf, *end;
			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			long x = strtol(p, &end, 10);
			while (end > p && (*end == ' ' || *end == '\t' || *end == '\n'))
				end++;
			if (end > p && !*end && (x == 0 || x == 1))
				v = (int)x;
		}
	}
	if (v >= 0) {
		/* remember it for a later write the kernel would refuse */
		int o = emu_oe_open(ok, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, emu_root_shared() ? 0666 : 0600);
		if (o >= 0) {
			ssize_t w = emu_oe_write(o, v ? "1" : "0", 1);
			(void)w;
			emu_oe_close(o);
		}
		return v;
	}
	fd = emu_oe_open(ok, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char c = '0';
	ssize_t n = emu_oe_read(fd, &c, 1);
	emu_oe_close(fd);
	return n == 1 && c == '1';
}

int emu_vm_stats_sysctl_open(int flags)
{
	char path[PATH_MAX];
	/* reading the value makes no state root (without one it is 0) */
	int err = (flags & O_ACCMODE) != O_RDONLY ? stats_path(path, sizeof(path)) : stats_path_look(path, sizeof(path));
	if (err)
		return err;
	if (strlen(path) + 8 >= sizeof(path))
		return -ENAMETOOLONG;
	strcat(path, "-sysctl");
	if ((flags & O_ACCMODE) != O_RDONLY) {
		int fd = emu_oe_open(path, O_WRONLY | O_CREAT | O_TRUNC | (flags & (O_CLOEXEC | O_NONBLOCK)),
			      emu_root_shared() ? 0666 : 0600);
		return fd < 0 ? -errno : fd;
	}
	char line[4] = { sysctl_value() ? '1' : '0', '\n', 0, 0 };
	int mfd = emu_oe_memfd_create("bpfemu-sysctl", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (emu_oe_write(mfd, line, 2) != 2 || emu_oe_lseek(mfd, 0, SEEK_SET)) {
		emu_oe_close(mfd);
		return -EIO;
	}
	if (!(flags & O_CLOEXEC))
		emu_oe_fcntl(mfd, F_SETFD, 0);
	return mfd;
}

bool emu_vm_is_stats_fd(int fd)
{
	char path[PATH_MAX];
	struct stat a, b;
	if (emu_oe_fstat(fd, &a) || !S_ISREG(a.st_mode) || stats_path_look(path, sizeof(path)) || emu_oe_stat(path, &b))
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool emu_vm_stats_enabled(void)
{
	/* no fd kept open on the state root: one failed open when statistics
	 * were never enabled here, three calls when they were */
	char path[PATH_MAX];
	if (stats_path(path, sizeof(path)))
		return false;
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd >= 0) {
		bool on = emu_os_flock(fd, LOCK_EX | LOCK_NB) == -EWOULDBLOCK;
		emu_os_close(fd);     /* releases our exclusive lock if we got it */
		if (on)
			return true;
	}
	return sysctl_value() == 1;
}

/* ---- what the load step keeps ---- */

int emu_vm_prog_loaded(struct emu_obj *prog, const struct bpf_insn *insns, __u32 cnt)
{
	struct bpf_insn *stored = emu_obj_data(prog);
	__u32 done[64], nd = 0;
	struct vm_map *held[64];     /* this process's handles until decoded */
	__u32 nh = 0;
	int dfd = -1, err = 0;
	for (__u32 i = 0; i + 1 < cnt; i++) {
		const struct bpf_insn *in = &insns[i];
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
			struct emu_obj *map;
			int acc;
			err = emu_fd_get(in->imm, EMU_KIND_MAP, &map, &acc);
			if (err)
				break;
			__u32 id = map->hdr->id, k = 0;
			while (k < nd && done[k] != id)
				k++;
			if (k == nd) {
				/* this process's handle now (decoding needs no reference link here) */
				if (map->ops && nh < ARRAY_SIZE(held)) {
					held[nh] = vm_map_of(map);
					nh += held[nh] != NULL;
				}
				/* the process's hold while only this process reaches the
				 * program (emu_refs_proc_hold), else a link of its own */
				int rerr = emu_refs_proc_hold(prog, in->imm, map);
				if (rerr && dfd < 0)
					dfd = emu_refs_lock(prog);
				if (rerr)
					rerr = dfd < 0 ? dfd : emu_ref_take(dfd, in->imm, map);
				if (rerr)       /* e.g. a map whose last link went outside the shim */
					EMU_LOG(EMU_LOG_SYS | EMU_LOG_VM,
						"prog '%s' (id %u): no reference to map %u (%s): only this process can run it",
						prog->hdr->name, prog->hdr->id, id, strerror(-rerr));
				if (nd < ARRAY_SIZE(done))
					done[nd++] = id;
			}
			emu_obj_put(map);
		}
		i++;
	}
	if (dfd >= 0)
		emu_refs_unlock(dfd);
	/* the kernel's xlated dump names the map by id (the stored program is
	 * the xlated one: the verifier may have cut instructions) */
	for (__u32 i = 0; !err && i + 1 < prog->hdr->prog.insn_cnt; i++) {
		struct bpf_insn *in = &stored[i];
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
			struct emu_obj *map;
			int acc;
			err = emu_fd_get(in->imm, EMU_KIND_MAP, &map, &acc);
			if (err)
				break;
			in->imm = (__s32)map->hdr->id;
			emu_obj_put(map);
		}
		i++;
	}
	/* decode now: the loader's process runs it without a second look
	 * (compiled at its first run) */
	int derr;
	if (!err && !vm_prog_decode(prog, &derr))
		EMU_LOG(EMU_LOG_VM, "prog '%s' (id %u): not decoded at load: %s", prog->hdr->name, prog->hdr->id,
			strerror(-derr));
	for (__u32 i = 0; i < nh; i++)
		vm_map_put(held[i]);
	return err;
}

void emu_vm_obj_release(struct emu_obj *obj)
{
	vm_prog_free(obj->vm);
	obj->vm = NULL;
}
