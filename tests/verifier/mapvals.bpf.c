// SPDX-License-Identifier: GPL-2.0
/* tests/verifier/mapvals.bpf.c: programs on map values holding a
 * bpf_spin_lock or a bpf_timer (mapvals.sh): lock/unlock pairs, direct loads
 * and stores of the special fields, calls under a lock, a missing or foreign
 * unlock, the timer helpers' map and offset rules, helper access over a lock,
 * the program types that may not use them. The kptr programs are in
 * mapvals_maps.c (clang 14 emits no BTF type tags). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct lval { int pad; struct bpf_spin_lock lock; int cnt; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, int); __type(value, struct lval); } larr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 2); __type(key, int); __type(value, struct lval); } lhash SEC(".maps");

struct tval { long x; struct bpf_timer t; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, int); __type(value, struct tval); } tarr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, int); __type(value, struct tval); } tarr2 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, int); __type(value, struct lval); } larr2 SEC(".maps");


struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, int); __type(value, struct tval); } thash SEC(".maps");

SEC("xdp")
int lock_pair(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	bpf_spin_lock(&v->lock);
	v->cnt += 3;
	bpf_spin_unlock(&v->lock);
	return v->cnt;
}

SEC("xdp")
int bad_lock_load(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	return *(volatile int *)&v->lock;
}

SEC("xdp")
int bad_lock_store(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	*(volatile long *)&v->pad = 0;
	return 0;
}

SEC("xdp")
int bad_lock_call(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&lhash, &k);
	if (!v) return 1;
	bpf_spin_lock(&v->lock);
	v->cnt = bpf_get_prandom_u32();
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("xdp")
int bad_lock_missing(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	bpf_spin_lock(&v->lock);
	v->cnt++;
	return 0;
}

SEC("xdp")
int bad_unlock_only(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("xdp")
int bad_lock_twice(struct xdp_md *ctx)
{
	int k = 0, j = 1;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	struct lval *w = bpf_map_lookup_elem(&larr, &j);
	if (!v || !w) return 1;
	bpf_spin_lock(&v->lock);
	bpf_spin_lock(&w->lock);
	bpf_spin_unlock(&w->lock);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("xdp")
int bad_lock_other(struct xdp_md *ctx)
{
	int k = 0, j = 1;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	struct lval *w = bpf_map_lookup_elem(&larr, &j);
	if (!v || !w) return 1;
	bpf_spin_lock(&v->lock);
	bpf_spin_unlock(&w->lock);
	return 0;
}

SEC("xdp")
int bad_lock_off(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	bpf_spin_lock((struct bpf_spin_lock *)&v->cnt);
	bpf_spin_unlock((struct bpf_spin_lock *)&v->cnt);
	return 0;
}

SEC("xdp")
int bad_lock_nobtf(struct xdp_md *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&tarr, &k);
	if (!v) return 1;
	bpf_spin_lock((struct bpf_spin_lock *)&v->x);
	bpf_spin_unlock((struct bpf_spin_lock *)&v->x);
	return 0;
}

static int tcb(void *map, int *key, struct tval *val)
{
	val->x++;
	return 0;
}

SEC("xdp")
int timer_ok(struct xdp_md *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&tarr, &k);
	if (!v) return 1;
	int r = bpf_timer_init(&v->t, &tarr, 1);
	bpf_timer_set_callback(&v->t, tcb);
	bpf_timer_start(&v->t, 1000000000, 0);
	bpf_timer_cancel(&v->t);
	return r + 7;
}

SEC("xdp")
int bad_timer_load(struct xdp_md *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&tarr, &k);
	if (!v) return 1;
	return *(volatile long *)&v->t;
}

SEC("xdp")
int bad_timer_store(struct xdp_md *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&tarr, &k);
	if (!v) return 1;
	*((volatile int *)&v->t + 2) = 0;
	return 0;
}

SEC("xdp")
int bad_timer_map(struct xdp_md *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&tarr, &k);
	if (!v) return 1;
	bpf_timer_init(&v->t, &tarr2, 1);
	return 0;
}

SEC("xdp")
int bad_timer_off(struct xdp_md *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&tarr, &k);
	if (!v) return 1;
	bpf_timer_init((struct bpf_timer *)v, &tarr, 1);
	return 0;
}

SEC("xdp")
int bad_timer_nolock(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	if (!v) return 1;
	bpf_timer_init((struct bpf_timer *)v, &larr, 1);
	return 0;
}

SEC("xdp")
int bad_timer_in_lock(struct xdp_md *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr, &k);
	struct tval *t = bpf_map_lookup_elem(&tarr, &k);
	if (!v || !t) return 1;
	bpf_spin_lock(&v->lock);
	bpf_timer_start(&t->t, 0, 0);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
int bad_lock_helper(struct __sk_buff *skb)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr2, &k);
	if (!v) return 1;
	bpf_probe_read_kernel(v, sizeof(*v), 0);
	return 0;
}

SEC("socket")
int bad_lock_socket(struct __sk_buff *skb)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&larr2, &k);
	if (!v) return 1;
	bpf_spin_lock(&v->lock);
	v->cnt++;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("kprobe/do_nanosleep")
int timer_kprobe(void *ctx)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&thash, &k);
	if (!v) return 1;
	bpf_timer_init(&v->t, &thash, 1);
	return 0;
}

static int tcb2(void *map, int *key, struct tval *val)
{
	return 0;
}

SEC("tc")
int timer_hash(struct __sk_buff *skb)
{
	int k = 0;
	struct tval init = {};
	bpf_map_update_elem(&thash, &k, &init, 0);
	struct tval *v = bpf_map_lookup_elem(&thash, &k);
	if (!v) return 1;
	long r1 = bpf_timer_init(&v->t, &thash, 1);
	long r2 = bpf_timer_init(&v->t, &thash, 1);
	long r3 = bpf_timer_set_callback(&v->t, tcb2);
	long r4 = bpf_timer_start(&v->t, 1000000000, 0);
	long r5 = bpf_timer_cancel(&v->t);
	return (int)(r1 * 10000 + -r2 * 100 + r3 * 10 + r4 + r5 * 1000);
}

SEC("tc")
int bad_timer_var(struct __sk_buff *skb)
{
	int k = 0;
	struct tval *v = bpf_map_lookup_elem(&thash, &k);
	if (!v) return 1;
	unsigned i = skb->len & 8;
	bpf_timer_init((struct bpf_timer *)((char *)v + i), &thash, 1);
	return 0;
}

/* a lock in global data: the .data.locked map's value is a section (DATASEC) */
struct bpf_spin_lock glock SEC(".data.locked");
int gcount SEC(".data.locked");

SEC("tc")
int global_lock(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	gcount += 2;
	bpf_spin_unlock(&glock);
	return gcount;
}

SEC("tc")
int bad_global_lock_load(struct __sk_buff *skb)
{
	return *(volatile int *)&glock;
}
