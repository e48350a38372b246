/* SPDX-License-Identifier: MIT */
/*
 * emu/hashtab.c: BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH.
 *
 * Storage (all offsets, no pointers): buckets[n_buckets] of element index + 1
 * (0 = empty), LRU lists or lock stripes, then max_entries + 1 elements
 * (+ one per stripe). The spare element lets an update
 * of an existing key build the new element and swap it into the chain with one
 * store even when the map is full (the kernel keeps per-CPU spares for the
 * same reason), so a reader never sees a half-written value and a writer
 * killed mid-update leaves the chains intact. Elements are handed out from a
 * bump index first and a free list after, so an empty map of a million
 * entries touches no element pages until it is filled.
 *
 * HASH and PERCPU_HASH (and the families wrapping the hash: hash of maps,
 * devmap hash, sockhash) lock by stripes: bucket b belongs to stripe
 * b & (nstripes - 1), each stripe a robust mutex and a sequence count of its
 * own, in the data area after the buckets. A writer locks its key's stripe,
 * makes that stripe's sequence odd, and changes that chain only; the
 * allocation state (free list, bump index, count, populated bytes) is under
 * the object's lock, taken briefly inside the stripe's (lock order: stripe,
 * then object; only the repair holds more than one stripe, all of them, in
 * index order); but a delete pushes its element on the free list and lowers
 * the count with atomics, under its stripe alone (the one who pops the free
 * list holds the object lock). Each stripe keeps one spare element: an update
 * replacing a key builds the new element in the spare and the replaced one
 * becomes the spare, so the common update takes no shared lock at all (the
 * kernel's per-CPU extra elements); an insert that finds no spare takes one
 * for the stripe's next insert along with its own element, so every other
 * insert takes no shared lock either, and when both are elements never used
 * (the free list empty, their memory populated) it takes them by
 * compare-and-swap on the bump index without the object lock, so no insert
 * into a fresh map takes it. Hence max_entries + 1 + nstripes elements.
 *
 * LRU flavours run every operation under the object's lock (each update
 * touches the global recency lists), with one map-wide sequence.
 *
 * A holder that died can only have leaked an element (taken from the free list
 * or a spare, not yet linked, or unlinked and not yet freed). LRU: the next
 * locker rebuilds the free list and the count from the chains. Striped: who
 * finds a lock's holder dead sets a shared needs-repair flag; an operation that
 * sees it after taking its stripe (or that finds the object lock's holder
 * dead) lets go of everything, changing nothing, and repairs: all stripes in
 * order, then the object lock, then the free list and count are rebuilt from
 * the chains, the spares dropped, every sequence made even.
 *
 * Per-CPU variants store, per element, one round_up(value_size, 8) slot per
 * possible CPU; user space reads and writes them all at once, as the kernel's
 * syscall path does (there is no "current CPU" for user space).
 *
 * LRU variants keep, besides the chains, the kernel's LRU lists (one, or one
 * per possible CPU with BPF_F_NO_COMMON_LRU, as the kernel's percpu_lru),
 * each an inactive and an active sublist of element indices, oldest first,
 * plus the kernel's reference bit. New elements join the inactive sublist,
 * replacing updates the active one; before taking nodes the kernel rotates
 * (when inactive is the smaller sublist, unreferenced active elements move to
 * inactive) and shrinks the inactive sublist from its oldest end, moving
 * referenced elements to active instead of evicting them. A list that is full
 * evicts a batch of elements before taking a new one: the
 * kernel moves up to target_free nodes to the CPU's local free list at once,
 * where target_free is clamp(max_entries / possible CPUs / 2, 1, 128) for the
 * common LRU and 4 for per-CPU lists. The common LRU also hands its free
 * nodes out target_free at a time, and a refill that finds fewer free nodes
 * on the global list evicts the difference, so a map can evict before it is
 * full (a 1000-entry map on 2 CPUs first evicts at 896 entries, as the
 * kernel does for a process that stays on one CPU). Lookups through bpf() do
 * not count as a use (the kernel's lookup_elem_sys_only leaves the reference
 * bit alone). The kernel's rotating inactive cursor is approximated by a scan
 * from the oldest end. With per-CPU lists the caller's CPU (sched_getcpu())
 * picks the list, each holding max_entries / possible CPUs elements.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "os.h"

struct htab_elem {
	__u32 next;                    /* index + 1 of the next element in the chain */
	__u32 hash;                    /* keys of at most 4 bytes: the key itself (see key_inline) */
	/* key (rounded to 8; a key of at most 4 bytes is in the word above
	 * instead), value (rounded to 8; per-CPU: one such slot per CPU), then,
	 * LRU types only, a struct htab_lru: the other types' elements carry no
	 * recency fields (a 4/8 element is 16 bytes, not 48: fewer cache misses
	 * on a big map, and none straddles two cache lines) */
};

struct htab_lru {
	__u32 lru_prev, lru_next;      /* index + 1 in the recency list (older, newer) */
	__u32 lru_list;                /* which list */
	__u32 lru_gen;                 /* the list's refill generation when it was taken */
	__u32 lru_sub;                 /* LRU_INACTIVE or LRU_ACTIVE */
	__u32 lru_ref;                 /* the kernel's reference bit */
};

/* one recency list of an LRU map, in the data area after the buckets */
enum { LRU_INACTIVE, LRU_ACTIVE };
struct lru_list {
	__u32 oldest[2], newest[2];    /* index + 1, per sublist */
	__u32 n[2];                    /* elements per sublist */
	__u32 count, cap;
	/* common LRU: free nodes on the (one) local list and on the global list;
	 * nodes taken since the last refill (gen) are still "pending" and go back
	 * to the local list when freed, older ones to the global list */
	__u32 local_free, global_free, gen;
};

/* one lock stripe of a non-LRU hash, in the data area after the buckets */
struct htab_stripe {
	pthread_mutex_t lock;          /* robust, process-shared */
	__u64 seq;                     /* even: stable; odd: a writer is inside */
	__u32 spare;                   /* index + 1 of a free element for the next replacing update */
	__u32 pad;
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct htab_stripe) == 64, "one stripe per cache line");
#define HTAB_MAX_STRIPES 64u

/* map->hdr->map.type_state slots */
enum { HT_NBUCKETS, HT_COUNT, HT_FREE, HT_BUMP, HT_SEED, HT_ELEM_SIZE, HT_VBYTES, HT_NCPUS, HT_NLISTS, HT_TARGET,
       HT_SEQ, /* even: stable; odd: a writer is inside (lock-free lookups retry) */
       HT_POPULATED, /* data bytes backed by memory (elements are populated as used) */
       HT_NSTRIPES,  /* lock stripes; 0: LRU, the object lock and HT_SEQ */
       HT_REPAIR     /* striped: a holder died, the next stripe locker repairs */ };

#define HTAB_CREATE_FLAG_MASK                                                                   \
	(BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | \
	 BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_ZERO_SEED)
#define KMALLOC_MAX_SIZE (1u << 22)
#define KERNEL_HTAB_ELEM_SIZE 48u      /* sizeof(struct htab_elem) in the kernel: bytes_memlock */
#define KERNEL_BPF_HTAB_SIZE 832u      /* sizeof(struct bpf_htab) */
#define PCPU_MIN_UNIT_SIZE (32u << 10)
#define LOCAL_FREE_TARGET 128u         /* bpf_lru_list.h: common LRU batch cap */
#define PERCPU_FREE_TARGET 4u          /* bpf_lru_list.h: per-CPU LRU batch */

struct htab {
	__u64 *st;
	__u32 *buckets;
	struct lru_list *lists;        /* LRU types, else NULL */
	struct htab_stripe *stripes;   /* the others, else NULL */
	char *elems;
	__u32 n_buckets, elem_size, key_size, vbytes, max_entries;
	__u32 nstripes, smask;         /* stripe of bucket b: b & smask */
	__u32 nelems;                  /* elements in the file */
	bool percpu, lru;
	struct emu_obj *obj;
};

static bool type_is_percpu(__u32 t) { return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH; }
static bool type_is_lru(__u32 t) { return t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH; }

static __u32 roundup_pow2(__u64 v)
{
	__u64 p = 1;
	while (p < v)
		p <<= 1;
	return p > 0xffffffffull ? 0 : (__u32)p;
}

static __u64 stripes_off(__u64 n_buckets, __u32 nlists)
{
	return (round_up8(n_buckets * 4) + sizeof(struct lru_list) * nlists + 63) & ~(__u64)63;
}

static struct htab htab_of(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	struct htab h = {
		.st = d->type_state,
		.buckets = emu_obj_data(map),
		.n_buckets = (__u32)d->type_state[HT_NBUCKETS],
		.elem_size = (__u32)d->type_state[HT_ELEM_SIZE],
		.key_size = d->key_size,
		.vbytes = (__u32)d->type_state[HT_VBYTES],
		.max_entries = d->max_entries,
		.percpu = type_is_percpu(d->map_type),
		.lru = type_is_lru(d->map_type),
		.obj = map,
	};
	char *p = (char *)h.buckets + round_up8((__u64)h.n_buckets * 4);
	if (h.lru)
		h.lists = (struct lru_list *)p;
	h.nstripes = (__u32)d->type_state[HT_NSTRIPES];
	h.smask = h.nstripes ? h.nstripes - 1 : 0;
	h.nelems = h.max_entries + 1 + h.nstripes;
	if (h.nstripes) {
		h.stripes = (struct htab_stripe *)((char *)h.buckets + stripes_off(h.n_buckets, 0));
		h.elems = (char *)(h.stripes + h.nstripes);
	} else {
		h.elems = p + round_up8(sizeof(struct lru_list) * d->type_state[HT_NLISTS]);
	}
	return h;
}

static inline struct htab_elem *elem_at(const struct htab *h, __u32 idx1)
{
	return (struct htab_elem *)(h->elems + (size_t)(idx1 - 1) * h->elem_size);
}
/* A key of at most 4 bytes takes the place of the element's hash: one load
 * compares it as fast as the hash, and the element shrinks by 8 bytes (a
 * 4/8 element is 16; the hash is computed again where it is needed, from the
 * key: unlinking an evicted element, bpf_spin_lock's stripe). */
static inline bool key_inline(__u32 key_size) { return key_size <= 4; }
static inline __u32 value_off(__u32 key_size)
{
	return (__u32)sizeof(struct htab_elem) + (key_inline(key_size) ? 0 : round_up8(key_size));
}
static inline void *elem_key(const struct htab *h, struct htab_elem *e)
{
	return key_inline(h->key_size) ? (void *)&e->hash : (void *)(e + 1);
}
/* an LRU element's recency fields, after its value */
static inline struct htab_lru *lru_at(const struct htab *h, __u32 idx1)
{
	return (struct htab_lru *)((char *)elem_at(h, idx1) + h->elem_size - sizeof(struct htab_lru));
}
static inline void *elem_value(const struct htab *h, struct htab_elem *e)
{
	return (char *)e + value_off(h->key_size);
}

/* A seeded 64-bit mix over the key bytes (our own; the kernel uses jhash). */
static __u32 hash_key(const void *key, __u32 len, __u64 seed)
{
	const unsigned char *p = key;
	__u64 h = seed ^ (0x9e3779b97f4a7c15ull * (len + 1));
	while (len >= 8) {
		__u64 w;
		memcpy(&w, p, 8);
		h = (h ^ (w * 0xbf58476d1ce4e5b9ull)) * 0x94d049bb133111ebull;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	__u64 w = emu_load_tail(p, len);
	h = (h ^ (w * 0xbf58476d1ce4e5b9ull) ^ len) * 0x94d049bb133111ebull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return (__u32)h;
}

/* htab_map_alloc_check(), then the checks of htab_map_alloc() */
static int htab_check_spec(const struct emu_map_spec *s)
{
	bool percpu = type_is_percpu(s->map_type), lru = type_is_lru(s->map_type);
	bool percpu_lru = s->map_flags & BPF_F_NO_COMMON_LRU;
	bool prealloc = !(s->map_flags & BPF_F_NO_PREALLOC);
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
	bool numa = (s->map_flags & BPF_F_NUMA_NODE) && s->numa_node != 0xffffffffu;

	if ((s->map_flags & ~HTAB_CREATE_FLAG_MASK) || access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return -EINVAL;
	if (!lru && percpu_lru)
		return -EINVAL;
	if (lru && !prealloc)
		return -ENOTSUPP;
	if (numa && (percpu || percpu_lru))
		return -EINVAL;
	if (s->max_entries == 0 || s->key_size == 0 || s->value_size == 0)
		return -EINVAL;
	if ((__u64)s->key_size + s->value_size >= KMALLOC_MAX_SIZE - KERNEL_HTAB_ELEM_SIZE)
		return -E2BIG;
	if (percpu && round_up8(s->value_size) > PCPU_MIN_UNIT_SIZE)
		return -E2BIG;
	return 0;
}

/* the max_entries the kernel keeps: per-CPU LRU lists get equal shares */
static __u32 kernel_max_entries(const struct emu_map_spec *s)
{
	__u64 cpus = emu_possible_cpus(), max = s->max_entries;
	if (!(s->map_flags & BPF_F_NO_COMMON_LRU))
		return s->max_entries;
	__u64 up = (max + cpus - 1) / cpus * cpus;
	return up <= 0xffffffffull ? (__u32)up : (__u32)(max / cpus * cpus);
}

static __u64 vbytes_of(const struct emu_map_spec *s)
{
	return type_is_percpu(s->map_type) ? round_up8(s->value_size) * emu_possible_cpus() : s->value_size;
}

static __u64 elem_size_of(const struct emu_map_spec *s)
{
	return value_off(s->key_size) + round_up8(vbytes_of(s)) +
	       (type_is_lru(s->map_type) ? sizeof(struct htab_lru) : 0);
}

static __u32 nlists_of(const struct emu_map_spec *s)
{
	if (!type_is_lru(s->map_type))
		return 0;
	return s->map_flags & BPF_F_NO_COMMON_LRU ? emu_possible_cpus() : 1;
}

/* a stripe per 16 buckets, at most HTAB_MAX_STRIPES; LRU flavours have none */
static __u32 nstripes_of(const struct emu_map_spec *s)
{
	if (type_is_lru(s->map_type))
		return 0;
	__u32 nb = roundup_pow2(kernel_max_entries(s));
	return nb >= 16 * HTAB_MAX_STRIPES ? HTAB_MAX_STRIPES : nb >= 16 ? nb / 16 : 1;
}

/* where the elements start in the data area */
static __u64 elems_off(const struct emu_map_spec *s)
{
	__u64 nb = roundup_pow2(kernel_max_entries(s));
	__u32 n = nstripes_of(s);
	if (n)
		return stripes_off(nb, 0) + sizeof(struct htab_stripe) * n;
	/* 8-aligned: a value handed to a program is as aligned as the kernel's
	 * (a list is 44 bytes; one list left every value at 4 mod 8) */
	return round_up8(nb * 4) + round_up8(sizeof(struct lru_list) * nlists_of(s));
}

/* the E2BIG checks of htab_map_alloc(), on the kernel's max_entries */
static int htab_check_alloc(const struct emu_map_spec *s)
{
	__u32 max = kernel_max_entries(s);
	if (max > 0x80000000u)
		return -E2BIG;
	__u32 nb = roundup_pow2(max);
	if (nb == 0 || nb > 0xffffffffu / 16)
		return -E2BIG;
	return 0;
}

static int htab_check(const struct emu_map_spec *s)
{
	int err = htab_check_spec(s);
	return err ? err : htab_check_alloc(s);
}

static __u64 htab_data_size(const struct emu_map_spec *s)
{
	__u64 max = kernel_max_entries(s);
	return elems_off(s) + (max + 1 + nstripes_of(s)) * elem_size_of(s);
}

/* Buckets, LRU lists or stripes at create; elements as the bump index
 * reaches them (an empty map of a million entries costs its buckets only). */
static __u64 htab_reserve_size(const struct emu_map_spec *s)
{
	return elems_off(s);
}

#define HTAB_POPULATE_CHUNK (256u << 10)

static int htab_init(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u64 seed = 0;
	struct emu_map_spec s = { .map_type = d->map_type, .key_size = d->key_size, .value_size = d->value_size,
				  .max_entries = d->max_entries, .map_flags = d->map_flags };
	__u32 cpus = emu_possible_cpus();

	if (!(d->map_flags & BPF_F_ZERO_SEED) && emu_os_random(&seed, sizeof(seed)))
		seed = (__u64)emu_ktime_boot_ns() * 0x9e3779b97f4a7c15ull;
	d->max_entries = kernel_max_entries(&s);
	d->type_state[HT_NBUCKETS] = roundup_pow2(d->max_entries);
	d->type_state[HT_COUNT] = 0;
	d->type_state[HT_FREE] = 0;
	d->type_state[HT_BUMP] = 0;
	d->type_state[HT_SEED] = seed;
	d->type_state[HT_ELEM_SIZE] = elem_size_of(&s);
	d->type_state[HT_VBYTES] = vbytes_of(&s);
	d->type_state[HT_NCPUS] = cpus;
	d->type_state[HT_NLISTS] = nlists_of(&s);
	d->type_state[HT_NSTRIPES] = nstripes_of(&s);
	d->type_state[HT_REPAIR] = 0;
	if (type_is_lru(d->map_type)) {
		__u32 n = (__u32)d->type_state[HT_NLISTS];
		__u32 cap = d->max_entries / n, target;
		if (n > 1) {
			target = PERCPU_FREE_TARGET;
		} else {
			target = d->max_entries / cpus / 2;
			target = target < 1 ? 1 : target > LOCAL_FREE_TARGET ? LOCAL_FREE_TARGET : target;
		}
		d->type_state[HT_TARGET] = target;
		struct htab h = htab_of(map);
		for (__u32 i = 0; i < n; i++)
			h.lists[i].cap = cap;
		if (n == 1)
			h.lists[0].global_free = d->max_entries;
	}
	struct htab h = htab_of(map);
	for (__u32 i = 0; i < h.nstripes; i++)
		emu_mutex_init_robust(&h.stripes[i].lock);
	d->type_state[HT_POPULATED] = (__u64)(h.elems - (char *)h.buckets);   /* reserve_size */
	return 0;     /* buckets are zero: the file is new */
}

/* htab_map_mem_usage() */
static __u64 htab_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	bool percpu = type_is_percpu(d->map_type), lru = type_is_lru(d->map_type);
	__u64 cpus = emu_possible_cpus(), vs = round_up8(d->value_size);
	__u64 kelem = KERNEL_HTAB_ELEM_SIZE + round_up8(d->key_size) + (percpu ? 8 : vs);
	__u64 usage = KERNEL_BPF_HTAB_SIZE + 16 * d->type_state[HT_NBUCKETS] + 4 * cpus * 8;

	if (!(d->map_flags & BPF_F_NO_PREALLOC)) {
		__u64 n = d->max_entries + (!percpu && !lru ? cpus : 0);
		usage += kelem * n;
		if (percpu)
			usage += vs * cpus * n;
		else if (!lru)
			usage += 8 * cpus;
	} else {
		__u64 n = __atomic_load_n(&d->type_state[HT_COUNT], __ATOMIC_RELAXED);
		usage += (kelem + 8) * n;
		if (percpu)
			usage += (8 + 8) * n + vs * cpus * n;
	}
	return usage;
}

static __u32 htab_user_value_size(const struct emu_obj *map)
{
	return (__u32)emu_map_desc(map)->type_state[HT_VBYTES];
}

static void lru_unlink(struct htab *h, __u32 i)
{
	struct htab_lru *e = lru_at(h, i);
	struct lru_list *L = &h->lists[e->lru_list];
	__u32 sub = e->lru_sub;
	if (e->lru_prev)
		lru_at(h, e->lru_prev)->lru_next = e->lru_next;
	else
		L->oldest[sub] = e->lru_next;
	if (e->lru_next)
		lru_at(h, e->lru_next)->lru_prev = e->lru_prev;
	else
		L->newest[sub] = e->lru_prev;
	L->n[sub]--;
	L->count--;
}

/* Element i becomes the newest of a sublist of list. */
static void lru_push(struct htab *h, __u32 i, __u32 list, __u32 sub, __u32 ref)
{
	struct htab_lru *e = lru_at(h, i);
	struct lru_list *L = &h->lists[list];
	e->lru_list = list;
	e->lru_sub = sub;
	e->lru_ref = ref;
	e->lru_next = 0;
	e->lru_prev = L->newest[sub];
	if (L->newest[sub])
		lru_at(h, L->newest[sub])->lru_next = i;
	else
		L->oldest[sub] = i;
	L->newest[sub] = i;
	L->n[sub]++;
	L->count++;
}

/* __bpf_lru_node_move(): to the newest end of a sublist, reference cleared */
static void lru_move(struct htab *h, __u32 i, __u32 sub)
{
	__u32 list = lru_at(h, i)->lru_list;
	lru_unlink(h, i);
	lru_push(h, i, list, sub, 0);
}

/* After a holder died: rebuild the free list and the count from the chains
 * (striped: with every stripe held). False without memory: try again. */
static bool htab_repair(struct htab *h)
{
	__u32 bump = (__u32)h->st[HT_BUMP];
	unsigned char *seen = calloc(bump + 1, 1);
	__u64 count = 0;

	if (!seen)
		return false;
	for (__u32 b = 0; b < h->n_buckets; b++)
		for (__u32 i = h->buckets[b]; i && i <= bump && !seen[i]; i = elem_at(h, i)->next) {
			seen[i] = 1;
			count++;
		}
	__u32 free_head = 0;
	for (__u32 i = bump; i >= 1; i--)
		if (!seen[i]) {
			elem_at(h, i)->next = free_head;
			free_head = i;
		}
	__atomic_store_n(&h->st[HT_FREE], free_head, __ATOMIC_RELAXED);
	__atomic_store_n(&h->st[HT_COUNT], count, __ATOMIC_RELAXED);
	for (__u32 i = 0; i < h->nstripes; i++)
		h->stripes[i].spare = 0;     /* on the free list now */
	if (h->lru) {
		/* recency is lost: the surviving elements are listed in chain order */
		__u32 n = (__u32)h->st[HT_NLISTS];
		for (__u32 l = 0; l < n; l++) {
			struct lru_list *L = &h->lists[l];
			L->oldest[0] = L->oldest[1] = L->newest[0] = L->newest[1] = 0;
			L->n[0] = L->n[1] = L->count = 0;
		}
		for (__u32 i = 1; i <= bump; i++) {
			if (!seen[i])
				continue;
			struct htab_lru *e = lru_at(h, i);
			lru_push(h, i, e->lru_list < n ? e->lru_list : 0, LRU_INACTIVE, 0);
		}
		if (n == 1) {
			h->lists[0].local_free = 0;
			h->lists[0].global_free = h->lists[0].cap - h->lists[0].count;
		}
	}
	free(seen);
	return true;
}

static struct htab lock_htab(struct emu_obj *map)
{
	bool dead = emu_obj_lock(map);
	struct htab h = htab_of(map);
	if (dead) {
		htab_repair(&h);
		if (h.st[HT_SEQ] & 1)     /* the dead holder was a writer */
			__atomic_store_n(&h.st[HT_SEQ], h.st[HT_SEQ] + 1, __ATOMIC_RELEASE);
	}
	return h;
}

/* Writers make the sequence odd while they change chains or values, so a
 * lock-free lookup that overlapped them retries. */
static struct htab wlock_htab(struct emu_obj *map)
{
	struct htab h = lock_htab(map);
	__atomic_store_n(&h.st[HT_SEQ], h.st[HT_SEQ] + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return h;
}

static void wunlock_htab(struct emu_obj *map)
{
	__u64 *seq = &emu_map_desc(map)->type_state[HT_SEQ];
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
	emu_obj_unlock(map);
}

/* ---- stripes ---- */

static void set_repair(struct htab *h)
{
	__atomic_store_n(&h->st[HT_REPAIR], 1, __ATOMIC_RELEASE);
}

static bool needs_repair(const struct htab *h)
{
	return __atomic_load_n(&h->st[HT_REPAIR], __ATOMIC_ACQUIRE) != 0;
}

/* Everything: every stripe in index order, then the object lock (LRU: the
 * object lock); repairs what a dead holder left, if anyone found one. */
static void lock_all(struct emu_obj *map, struct htab *h)
{
	if (!h->nstripes) {
		*h = lock_htab(map);
		return;
	}
	bool stripe_dead = false;
	for (__u32 i = 0; i < h->nstripes; i++)
		stripe_dead |= emu_mutex_lock_robust(&h->stripes[i].lock);
	if (emu_obj_lock(map) || stripe_dead)
		set_repair(h);
	if (!needs_repair(h) || !htab_repair(h))
		return;
	for (__u32 i = 0; i < h->nstripes; i++) {
		__u64 seq = h->stripes[i].seq;
		if (seq & 1)     /* its writer died inside: readers that read through it read again */
			__atomic_store_n(&h->stripes[i].seq, seq + 1, __ATOMIC_RELEASE);
	}
	if (stripe_dead)
		__atomic_add_fetch(&map->hdr->lock_gen, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->st[HT_REPAIR], 0, __ATOMIC_RELEASE);
}

static void unlock_all(struct emu_obj *map, struct htab *h)
{
	emu_obj_unlock(map);
	for (__u32 i = h->nstripes; i-- > 0;)
		pthread_mutex_unlock(&h->stripes[i].lock);
}

/* A writer's (or a locked reader's) hold on one chain: its stripe, or the
 * object lock of an LRU map. */
struct wctx {
	struct htab h;
	struct htab_stripe *s;         /* NULL: LRU, the object lock */
	bool odd;                      /* the sequence was made odd (a writer) */
};

/* w->h is htab_of(map), built in place (a copy of it, just written, is read
 * back in pieces the stores cannot be forwarded to: a stall per call) */
static void lock_stripe_h(struct emu_obj *map, struct wctx *w, __u32 si, bool odd)
{
	w->odd = odd;
	w->s = NULL;
	if (!w->h.nstripes) {
		w->h = odd ? wlock_htab(map) : lock_htab(map);
		return;
	}
	struct htab_stripe *s = &w->h.stripes[si & w->h.smask];
	for (;;) {
		if (emu_mutex_lock_robust(&s->lock))
			set_repair(&w->h);
		if (!needs_repair(&w->h))
			break;
		pthread_mutex_unlock(&s->lock);
		lock_all(map, &w->h);
		unlock_all(map, &w->h);
		if (needs_repair(&w->h))
			sched_yield();      /* no memory for the repair: let others free some */
	}
	w->s = s;
	if (odd) {
		__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
	}
}

static void lock_stripe(struct emu_obj *map, struct wctx *w, __u32 si, bool odd)
{
	w->h = htab_of(map);
	lock_stripe_h(map, w, si, odd);
}

/* Locks the stripe of key's bucket; returns the key's hash. */
static __u32 lock_key(struct emu_obj *map, struct wctx *w, const void *key, bool odd)
{
	w->h = htab_of(map);
	__u32 hash = hash_key(key, w->h.key_size, w->h.st[HT_SEED]);
	lock_stripe_h(map, w, hash, odd);
	return hash;
}

static void unlock_stripe(struct emu_obj *map, struct wctx *w)
{
	if (!w->s) {
		w->odd ? wunlock_htab(map) : emu_obj_unlock(map);
		return;
	}
	if (w->odd)
		__atomic_store_n(&w->s->seq, w->s->seq + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->s->lock);
}

/* The allocation state (free list, bump, count, populated bytes) is the
 * object lock's, taken inside a stripe's (LRU: already held). False if its
 * holder died: the caller has changed nothing yet, lets go of its stripe and
 * starts over (the stripe's lock then runs the repair). */
static bool lock_alloc(struct emu_obj *map, struct wctx *w)
{
	if (!w->s || !emu_obj_lock(map))
		return true;
	set_repair(&w->h);
	emu_obj_unlock(map);
	return false;
}

static void unlock_alloc(struct emu_obj *map, struct wctx *w)
{
	if (w->s)
		emu_obj_unlock(map);
}

/* Find key; *prevp gets the link that points at it (bucket slot or prev->next). */
static inline bool key_eq(const void *a, const void *b, __u32 size)
{
	if (size == 4) {             /* one load each, no call */
		__u32 x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	if (size == 8) {
		__u64 x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	return !memcmp(a, b, size);
}

/* element e holds key (whose hash is hash) */
static inline bool elem_is(const struct htab *h, struct htab_elem *e, const void *key, __u32 hash)
{
	if (key_inline(h->key_size))
		return key_eq(&e->hash, key, h->key_size);
	return e->hash == hash && key_eq(e + 1, key, h->key_size);
}

/* the hash of element e's key */
static inline __u32 elem_hash(const struct htab *h, struct htab_elem *e)
{
	if (key_inline(h->key_size))
		return hash_key(&e->hash, h->key_size, h->st[HT_SEED]);
	return __atomic_load_n(&e->hash, __ATOMIC_RELAXED);
}

static __u32 find(const struct htab *h, const void *key, __u32 hash, __u32 **linkp)
{
	__u32 *link = &h->buckets[hash & (h->n_buckets - 1)];
	for (__u32 i = *link; i; link = &elem_at(h, i)->next, i = *link) {
		if (elem_is(h, elem_at(h, i), key, hash)) {
			if (linkp)
				*linkp = link;
			return i;
		}
	}
	if (linkp)
		*linkp = link;          /* not found: the chain's last link (see chain_append) */
	return 0;
}

/* A new key's element e (index n) joins its chain at the end: link is the
 * last link find() walked to (the key was not there, so it walked them all,
 * and the stripe's lock keeps it the last). The kernel pushes at the head;
 * at the end, a chain is in the order its keys came, so the keys that came
 * first are the first found: deleting or looking up keys in the order they
 * were inserted (expiry, a FIFO of flows) meets no newer element before its
 * own, each of which is a cache miss on a big map. One release store
 * publishes the built element, as a push at the head does. */
static inline void chain_append(__u32 *link, struct htab_elem *e, __u32 n)
{
	e->next = 0;
	__atomic_store_n(link, n, __ATOMIC_RELEASE);
}

/* Pops the free list (object lock held: the only popper) or takes the next
 * element never used. */
static __u32 alloc_elem(struct htab *h)
{
	__u64 i = __atomic_load_n(&h->st[HT_FREE], __ATOMIC_ACQUIRE);
	while (i) {
		__u32 next = __atomic_load_n(&elem_at(h, (__u32)i)->next, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&h->st[HT_FREE], &i, next, false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			return (__u32)i;
	}
	/* the bump index also moves without the object lock (bump_pair), by
	 * compare-and-swap, within what is populated; only this lock's holder
	 * populates more */
	__u64 b = __atomic_load_n(&h->st[HT_BUMP], __ATOMIC_RELAXED);
	while (b < h->nelems) {
		/* back the next stretch of elements with memory before using it */
		__u64 off = (__u64)(h->elems - (char *)h->buckets) + b * h->elem_size;
		__u64 pop = __atomic_load_n(&h->st[HT_POPULATED], __ATOMIC_RELAXED);
		if (off + h->elem_size > pop) {
			__u64 upto = off + h->elem_size + HTAB_POPULATE_CHUNK;
			if (emu_obj_populate(h->obj, pop, upto - pop))
				return 0;
			__atomic_store_n(&h->st[HT_POPULATED], upto, __ATOMIC_RELEASE);
		}
		if (__atomic_compare_exchange_n(&h->st[HT_BUMP], &b, b + 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return (__u32)b + 1;
	}
	return 0;
}

/* Two elements never used, for an insert and its stripe's next spare, by
 * compare-and-swap on the bump index with no object lock (the caller holds
 * its stripe): the index + 1 of the first, or 0 if the free list has
 * elements (taken first, by the object lock's holder) or the next two are
 * not populated yet (the object lock's holder populates). An inserter killed
 * after the swap leaks them until the repair its dead stripe sets off, which
 * frees every element below the bump index that no chain holds. */
static inline __u32 bump_pair(__u64 *st, __u64 elems_off, __u32 elem_size, __u32 nelems)
{
	if (__atomic_load_n(&st[HT_FREE], __ATOMIC_RELAXED))
		return 0;
	__u64 pop = __atomic_load_n(&st[HT_POPULATED], __ATOMIC_ACQUIRE);
	__u64 b = __atomic_load_n(&st[HT_BUMP], __ATOMIC_RELAXED);
	do
		if (b + 2 > nelems || elems_off + (b + 2) * elem_size > pop)
			return 0;
	while (!__atomic_compare_exchange_n(&st[HT_BUMP], &b, b + 2, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (__u32)b + 1;
}

/* Pushes element i on the free list. Pushers need not hold the object lock
 * (a delete holds only its stripe), the one popper does (alloc_elem): with a
 * single popper the list has no ABA, the head it read stays on the list
 * until its own compare-and-swap. A pusher killed before its swap leaks the
 * element until the repair its dead stripe lock sets off. */
static void free_elem(struct htab *h, __u32 i)
{
	__u64 head = __atomic_load_n(&h->st[HT_FREE], __ATOMIC_RELAXED);
	do
		__atomic_store_n(&elem_at(h, i)->next, (__u32)head, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&h->st[HT_FREE], &head, i, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* The element count: changed with atomics (deletes and inserts into a
 * stripe's spare hold only their stripe), raised by a compare-and-swap below
 * max_entries; a delete lowers it after the element is back on the free
 * list, so a count below max_entries always leaves an element to take
 * (elements not in a chain nor free are spares, one per stripe at most, or
 * counted). */
static void count_sub(struct htab *h, __u64 n)
{
	__atomic_sub_fetch(&h->st[HT_COUNT], n, __ATOMIC_RELAXED);
}

/* A new key's place: the count raised if below max_entries (an insert that
 * uses its stripe's spare does this without the object lock). */
static bool count_take(struct htab *h)
{
	__u64 c = __atomic_load_n(&h->st[HT_COUNT], __ATOMIC_RELAXED);
	do
		if (c >= h->max_entries)
			return false;
	while (!__atomic_compare_exchange_n(&h->st[HT_COUNT], &c, c + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/* ---- LRU recency lists ---- */

/* The list this caller's updates go to: the common one, or its CPU's. */
static __u32 lru_list_of_caller(const struct htab *h)
{
	__u32 n = (__u32)h->st[HT_NLISTS];
	if (n <= 1)
		return 0;
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : (__u32)cpu % n;
}

/* Element i leaves its LRU list; its node goes back to a free list. */
static void lru_release(struct htab *h, __u32 i, bool evicted)
{
	struct htab_lru *e = lru_at(h, i);
	struct lru_list *L = &h->lists[e->lru_list];
	lru_unlink(h, i);
	if (h->st[HT_NLISTS] == 1) {
		if (evicted || e->lru_gen == L->gen)
			L->local_free++;
		else
			L->global_free++;
	}
}

/* Unlinks element i from its chain (it is in the map) and frees it. */
static void unlink_and_free(struct htab *h, __u32 i, bool evicted)
{
	struct htab_elem *e = elem_at(h, i);
	__u32 *link = NULL;
	if (find(h, elem_key(h, e), elem_hash(h, e), &link) != i)
		return;
	__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
	if (h->lru)
		lru_release(h, i, evicted);
	free_elem(h, i);
	count_sub(h, 1);
}

#define LOCAL_NR_SCANS LOCAL_FREE_TARGET
#define PERCPU_NR_SCANS PERCPU_FREE_TARGET

/* __bpf_lru_list_rotate(): when inactive is the smaller sublist, active
 * elements from the oldest end go to inactive (referenced ones get one more
 * round in active); then referenced inactive elements move to active. */
static void lru_rotate(struct htab *h, struct lru_list *L, __u32 nr_scans)
{
	if (L->n[LRU_INACTIVE] < L->n[LRU_ACTIVE]) {
		__u32 first = L->newest[LRU_ACTIVE], i = L->oldest[LRU_ACTIVE];
		for (__u32 scanned = 0; i;) {
			__u32 next = lru_at(h, i)->lru_next;
			lru_move(h, i, lru_at(h, i)->lru_ref ? LRU_ACTIVE : LRU_INACTIVE);
			if (++scanned == nr_scans || i == first)
				break;
			i = next;
		}
	}
	__u32 i = L->oldest[LRU_INACTIVE];
	for (__u32 scanned = 0; i && scanned < nr_scans; scanned++) {
		__u32 next = lru_at(h, i)->lru_next;
		if (lru_at(h, i)->lru_ref)
			lru_move(h, i, LRU_ACTIVE);
		i = next;
	}
}

/* __bpf_lru_list_shrink(): evict up to n unreferenced inactive elements from
 * the oldest end; if none, force out the oldest inactive (else active) one. */
static void lru_evict(struct htab *h, struct lru_list *L, __u32 n, __u32 nr_scans)
{
	__u32 done = 0, i = L->oldest[LRU_INACTIVE];
	for (__u32 scanned = 0; i && done < n;) {
		__u32 next = lru_at(h, i)->lru_next;
		if (lru_at(h, i)->lru_ref) {
			lru_move(h, i, LRU_ACTIVE);
		} else {
			unlink_and_free(h, i, true);
			done++;
		}
		if (++scanned == nr_scans)
			break;
		i = next;
	}
	if (done)
		return;
	i = L->oldest[LRU_INACTIVE] ? L->oldest[LRU_INACTIVE] : L->oldest[LRU_ACTIVE];
	if (i)
		unlink_and_free(h, i, true);
}

/* Takes a free node for the caller's list, evicting as the kernel's
 * bpf_lru_pop_free() would; false if there is none (-ENOMEM). */
static bool lru_reserve(struct htab *h, __u32 list)
{
	struct lru_list *L = &h->lists[list];
	__u32 target = (__u32)h->st[HT_TARGET];
	if (h->st[HT_NLISTS] > 1) {
		lru_rotate(h, L, PERCPU_NR_SCANS);
		if (L->count >= L->cap)
			lru_evict(h, L, target, PERCPU_NR_SCANS);
		return L->count < L->cap;
	}
	if (!L->local_free) {
		__u32 n = L->global_free < target ? L->global_free : target;
		L->gen++;                      /* pending nodes are flushed to the lists */
		lru_rotate(h, L, LOCAL_NR_SCANS);
		L->global_free -= n;
		L->local_free += n;
		if (n < target)
			lru_evict(h, L, target - n, LOCAL_NR_SCANS);
	}
	if (!L->local_free)
		return false;
	L->local_free--;
	return true;
}

/* A reserved node that was not used goes back (it is pending: local). */
static void lru_unreserve(struct htab *h, __u32 list)
{
	if (h->st[HT_NLISTS] == 1)
		h->lists[list].local_free++;
}

/* ---- element operations ---- */

/*
 * Reading without the lock: read the sequence of the bucket's stripe (LRU:
 * the map's), walk the chain, copy into the engine's buffer, and accept the
 * result only if no writer was inside that stripe meanwhile (its sequence is
 * unchanged). Indices are bounds-checked and walks are bounded, so a chain
 * changing under us can only make us read again. While a live writer is
 * inside (odd sequence) we yield; a writer that died left the chains intact
 * (every change is one store), so its odd sequence is read through. A
 * read-write mapping takes the stripe's lock after a few busy tries (which
 * also repairs what a dead writer left); a read-only one cannot.
 *
 * A reused element cannot fool a reader of another stripe: an element leaves
 * a chain only under that chain's stripe, its sequence odd, and goes to the
 * free list (or the stripe's spare) in the same hold; so before it can be
 * reused and rewritten by any writer, its old stripe's sequence has moved, and
 * a reader that reached it through that stripe reads again. A reader that
 * begins after the unlink (acquire on the sequence, release on the unlinking
 * store) cannot reach it from that stripe's buckets at all.
 */
static inline __u64 *seq_at(const struct htab *h, __u32 si)
{
	return h->nstripes ? &h->stripes[si & h->smask].seq : &h->st[HT_SEQ];
}

static bool seq_holder_alive(const struct emu_obj *map, const struct htab *h, __u32 si)
{
	return h->nstripes ? emu_mutex_holder_alive(&h->stripes[si & h->smask].lock) : emu_obj_holder_alive(map);
}

static bool htab_seq_wait(struct emu_obj *map, const struct htab *h, __u32 si, __u64 *s, int *tries)
{
	const __u64 *seq = seq_at(h, si);
	for (unsigned int spins = 0;; spins++) {
		*s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		if (!(*s & 1))
			return true;
		if (spins < 1024) {
			/* a writer is inside for a few dozen ns: wait for it rather
			 * than queue on its lock or sleep */
			emu_cpu_relax();
			continue;
		}
		if (!seq_holder_alive(map, h, si))
			return true;      /* it died inside: read through it */
		if (!map->rdonly && ++*tries >= 4)
			return false;
		sched_yield();
	}
}

static inline bool htab_seq_begin(struct emu_obj *map, const struct htab *h, __u32 si, __u64 *s, int *tries)
{
	*s = __atomic_load_n(seq_at(h, si), __ATOMIC_ACQUIRE);
	return __builtin_expect(!(*s & 1), 1) || htab_seq_wait(map, h, si, s, tries);
}

static inline bool htab_seq_retry(const struct htab *h, __u32 si, __u64 s, int *tries)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(seq_at(h, si), __ATOMIC_RELAXED) == s)
		return false;
	if (++*tries > 8)
		sched_yield();      /* writers keep coming: let them finish */
	return true;
}

/* A read over several stripes (get_next_key): each stripe's sequence is read
 * when the walk first enters it and checked at the end. */
struct seqset {
	__u64 seq[HTAB_MAX_STRIPES];
	__u64 have;                    /* bit si: seq[si] was read */
};

static inline bool seqset_enter(struct emu_obj *map, const struct htab *h, struct seqset *ss, __u32 si, int *tries)
{
	si &= h->smask;
	if (ss->have & (1ull << si))
		return true;
	if (!htab_seq_begin(map, h, si, &ss->seq[si], tries))
		return false;
	ss->have |= 1ull << si;
	return true;
}

static inline bool seqset_retry(const struct htab *h, const struct seqset *ss, int *tries)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (__u64 m = ss->have; m; m &= m - 1) {
		__u32 si = (__u32)__builtin_ctzll(m);
		if (__atomic_load_n(seq_at(h, si), __ATOMIC_RELAXED) != ss->seq[si]) {
			if (++*tries > 8)
				sched_yield();
			return true;
		}
	}
	return false;
}

/* find() for readers without the lock: 0 if absent, -1 if the walk met an
 * index out of range or a cycle (a writer was inside: read again) */
__attribute__((no_sanitize("thread")))
static long find_seq(const struct htab *h, const void *key, __u32 hash)
{
	__u32 limit = h->nelems, steps = 0;
	for (__u32 i = __atomic_load_n(&h->buckets[hash & (h->n_buckets - 1)], __ATOMIC_ACQUIRE); i;
	     i = __atomic_load_n(&elem_at(h, i)->next, __ATOMIC_ACQUIRE)) {
		if (i > limit || ++steps > limit)
			return -1;
		if (elem_is(h, elem_at(h, i), key, hash))
			return i;
	}
	return 0;
}

/* 0, -ENOENT, or 1: take the lock */
__attribute__((no_sanitize("thread")))
static int htab_lookup_seq(struct emu_obj *map, const void *key, void *value)
{
	int tries = 0;
	struct htab h = htab_of(map);
	__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
	do {
		__u64 s;
		if (!htab_seq_begin(map, &h, hash, &s, &tries))
			return 1;
		long i = find_seq(&h, key, hash);
		if (i > 0)
			memcpy(value, elem_value(&h, elem_at(&h, (__u32)i)), h.vbytes);
		if (i >= 0 && !htab_seq_retry(&h, hash, s, &tries))
			return i ? 0 : -ENOENT;
	} while (map->rdonly || tries < 4);
	return 1;
}

/* The kernel's get_next_key order (bucket by bucket, each chain newest
 * first) without the lock; 0, -ENOENT, or 1: take the locks. Each stripe the
 * walk passes through is validated (the kernel's walk, under RCU, is not
 * atomic across buckets either). */
__attribute__((no_sanitize("thread")))
static int htab_get_next_key_seq(struct emu_obj *map, const void *key, void *next)
{
	int tries = 0;
	struct htab h = htab_of(map);
	__u32 hash = key ? hash_key(key, h.key_size, h.st[HT_SEED]) : 0;
	do {
		struct seqset ss;
		ss.have = 0;
		__u32 b = 0, i = 0;
		long found = 0;
		if (key) {
			if (!seqset_enter(map, &h, &ss, hash, &tries))
				return 1;
			found = find_seq(&h, key, hash);
			if (found > 0) {
				b = (hash & (h.n_buckets - 1)) + 1;
				i = __atomic_load_n(&elem_at(&h, (__u32)found)->next, __ATOMIC_ACQUIRE);
			}
		}
		for (; found >= 0 && !i && b < h.n_buckets; b++) {
			if (!seqset_enter(map, &h, &ss, b, &tries))
				return 1;
			i = __atomic_load_n(&h.buckets[b], __ATOMIC_ACQUIRE);
		}
		if (i > h.nelems)
			found = -1;
		if (found >= 0 && i)
			memcpy(next, elem_key(&h, elem_at(&h, i)), h.key_size);
		if (found >= 0 && !seqset_retry(&h, &ss, &tries))
			return i ? 0 : -ENOENT;
	} while (map->rdonly || tries < 4);
	return 1;
}

static int htab_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	/* BPF_F_LOCK: the value's lock is its stripe's lock, taken by every
	 * writer of the key, which also makes the stripe's sequence odd: a
	 * sequence-checked copy is as good */
	if (!(flags & BPF_F_LOCK) || map->rdonly) {
		int r = htab_lookup_seq(map, key, value);
		if (r <= 0)
			return r;
	}
	struct wctx w;
	__u32 hash = lock_key(map, &w, key, false);
	__u32 i = find(&w.h, key, hash, NULL);
	if (i)
		memcpy(value, elem_value(&w.h, elem_at(&w.h, i)), w.h.vbytes);
	unlock_stripe(map, &w);
	return i ? 0 : -ENOENT;
}

#define HTAB_AGAIN 1      /* a lock's holder died: let go, repair, start over */

/* cpu < 0: value holds every CPU's slot (user space); else (a BPF program)
 * value is one value_size value for that CPU's slot, the other CPUs' slots of
 * a new element zeroed (the kernel's pcpu_init_value) */
static int htab_update_locked(struct emu_obj *map, struct wctx *wp, __u32 hash, const void *key, const void *value,
			      __u64 op, int cpu);

static int htab_update_once(struct emu_obj *map, const void *key, const void *value, __u64 op, int cpu)
{
	struct wctx w;
	__u32 hash = lock_key(map, &w, key, true);
	return htab_update_locked(map, &w, hash, key, value, op, cpu);
}

/* The rest of an update, with w's stripe (LRU: the object lock) held and its
 * sequence odd; lets go of it. */
static int htab_update_locked(struct emu_obj *map, struct wctx *wp, __u32 hash, const void *key, const void *value,
			      __u64 op, int cpu)
{
	struct wctx w = *wp;
	struct htab *h = &w.h;
	__u32 list = 0;
	int err = 0;

	/* LRU: the kernel takes a free node (evicting if it must) before it
	 * looks the key up; the per-CPU flavour skips that for BPF_EXIST */
	bool reserved = false;
	if (h->lru) {
		list = lru_list_of_caller(h);
		if (!(h->percpu && op == BPF_EXIST)) {
			if (!lru_reserve(h, list)) {
				err = -ENOMEM;
				goto out;
			}
			reserved = true;
		}
	}

	__u32 *link;
	__u32 old = find(h, key, hash, &link);

	if (old && op == BPF_NOEXIST) {
		err = -EEXIST;
		goto out;
	}
	if (!old && op == BPF_EXIST) {
		err = -ENOENT;
		goto out;
	}
	if (old && h->percpu) {
		/* per-CPU values are updated in place, like the kernel's */
		if (cpu < 0)
			memcpy(elem_value(h, elem_at(h, old)), value, h->vbytes);
		else
			memcpy((char *)elem_value(h, elem_at(h, old)) + (size_t)cpu * round_up8(map->hdr->map.value_size),
			       value, map->hdr->map.value_size);
		if (h->lru)
			lru_at(h, old)->lru_ref = 1;    /* the kernel sets the reference bit */
		goto out;
	}
	__u32 n;
	bool counted = false;                    /* a new key's place in the count is taken */
	if (!old && w.s && w.s->spare) {
		if (!count_take(h)) {
			err = -E2BIG;
			goto out;
		}
		counted = true;
	}
	if ((old || counted) && w.s && w.s->spare) {
		n = w.s->spare;                  /* the stripe's own: no shared lock */
		w.s->spare = 0;
	} else {
		if (!lock_alloc(map, &w)) {
			err = HTAB_AGAIN;
			goto out;
		}
		if (!old && !h->lru) {
			if (!count_take(h)) {
				unlock_alloc(map, &w);
				err = -E2BIG;
				goto out;
			}
			counted = true;
		}
		n = alloc_elem(h);
		if (!n) {
			/* full, or no memory behind the next elements (a full tmpfs) */
			err = h->st[HT_BUMP] < h->nelems ? -ENOMEM : -E2BIG;
			if (counted)
				count_sub(h, 1);
			unlock_alloc(map, &w);
			goto out;
		}
		if (!old && h->lru)
			__atomic_add_fetch(&h->st[HT_COUNT], 1, __ATOMIC_RELAXED);
		/* a new key's stripe takes a spare for its next new key while the
		 * object lock is held anyway: every other insert in a stripe then
		 * takes no shared lock (a replacing update leaves the old element
		 * there instead). At most one spare per stripe, as the element
		 * budget (max_entries + 1 + stripes) allows. */
		if (!old && w.s && !w.s->spare)
			w.s->spare = alloc_elem(h);
		unlock_alloc(map, &w);
	}
	struct htab_elem *e = elem_at(h, n);
	if (!key_inline(h->key_size))
		e->hash = hash;
	memcpy(elem_key(h, e), key, h->key_size);
	if (cpu < 0) {
		memcpy(elem_value(h, e), value, h->vbytes);
	} else if (h->percpu) {
		memset(elem_value(h, e), 0, h->vbytes);
		memcpy((char *)elem_value(h, e) + (size_t)cpu * round_up8(map->hdr->map.value_size), value,
		       map->hdr->map.value_size);
	} else {
		memcpy(elem_value(h, e), value, h->vbytes);
	}
	if (old) {
		/* replace in place in the chain: one store publishes the new element */
		e->next = elem_at(h, old)->next;
		__atomic_store_n(link, n, __ATOMIC_RELEASE);
		if (h->lru)
			lru_release(h, old, false);
		if (w.s)
			w.s->spare = old;        /* unlinked under this stripe: the stripe's next spare */
		else
			free_elem(h, old);
	} else {
		chain_append(link, e, n);
	}
	if (h->lru) {
		/* a replacing node carries the reference bit: the common LRU's
		 * flush puts it on the active sublist, a per-CPU list keeps it
		 * inactive until the next rotation */
		if (!old)
			lru_push(h, n, list, LRU_INACTIVE, 0);
		else if (h->st[HT_NLISTS] == 1)
			lru_push(h, n, list, LRU_ACTIVE, 0);
		else
			lru_push(h, n, list, LRU_INACTIVE, 1);
		lru_at(h, n)->lru_gen = h->lists[list].gen;
		reserved = false;
	}
out:
	if (reserved)
		lru_unreserve(h, list);
	unlock_stripe(map, &w);
	return err;
}

/*
 * The element calls of user space on a striped map that is not per-CPU (HASH,
 * and the devmap hash through htab_map_ops), in their common cases, reading
 * only the fields they need instead of building the whole struct htab, with
 * the same locks, sequences, stores and order as the general code above:
 * an update that replaces a key or inserts a new one with its stripe's spare
 * element, and a delete. What they do not handle (a lock's holder dead, a
 * repair pending, a write that needs the object lock for an element) goes
 * the general way: before anything is changed, either with nothing held or,
 * for an update, continuing with the stripe held (htab_update_locked).
 */
struct htab_fast {
	struct htab_stripe *s;
	__u32 *buckets;
	char *elems;
	__u64 *st;
	__u32 hash, n_buckets, elem_size, key_size, vbytes, voff;
};

/* Takes key's stripe with its sequence odd; false (nothing held, nothing
 * changed) if the general path must run: not such a map, its holder died or a
 * repair is pending (the general path's lock then repairs). */
static inline bool htab_fast_lock(struct emu_obj *map, const void *key, struct htab_fast *f)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u64 *st = d->type_state;
	__u32 nstripes = (__u32)st[HT_NSTRIPES];
	if (!nstripes || type_is_percpu(d->map_type))
		return false;
	f->st = st;
	f->key_size = d->key_size;
	f->n_buckets = (__u32)st[HT_NBUCKETS];
	f->elem_size = (__u32)st[HT_ELEM_SIZE];
	f->vbytes = (__u32)st[HT_VBYTES];
	f->voff = value_off(f->key_size);
	f->buckets = emu_obj_data(map);
	struct htab_stripe *stripes = (struct htab_stripe *)((char *)f->buckets + stripes_off(f->n_buckets, 0));
	f->elems = (char *)(stripes + nstripes);
	f->hash = hash_key(key, f->key_size, st[HT_SEED]);
	f->s = &stripes[f->hash & (nstripes - 1)];
	if (emu_mutex_lock_robust(&f->s->lock)) {
		__atomic_store_n(&st[HT_REPAIR], 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&f->s->lock);
		return false;
	}
	if (__atomic_load_n(&st[HT_REPAIR], __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&f->s->lock);
		return false;
	}
	__atomic_store_n(&f->s->seq, f->s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return true;
}

static inline void htab_fast_unlock(struct htab_fast *f)
{
	__atomic_store_n(&f->s->seq, f->s->seq + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&f->s->lock);
}

static inline struct htab_elem *fast_elem(const struct htab_fast *f, __u32 idx1)
{
	return (struct htab_elem *)(f->elems + (size_t)(idx1 - 1) * f->elem_size);
}

/* find() on the fast path: the index of key's element (0: none), *linkp the
 * link that points at it */
static inline __u32 fast_find(const struct htab_fast *f, const void *key, __u32 **linkp)
{
	__u32 *link = &f->buckets[f->hash & (f->n_buckets - 1)];
	bool inl = key_inline(f->key_size);
	for (__u32 i = *link; i; link = &fast_elem(f, i)->next, i = *link) {
		struct htab_elem *e = fast_elem(f, i);
		if (inl ? key_eq(&e->hash, key, f->key_size) : e->hash == f->hash && key_eq(e + 1, key, f->key_size)) {
			*linkp = link;
			return i;
		}
	}
	*linkp = link;                  /* not found: the chain's last link */
	return 0;
}

/* 0 or -errno; 1: the general path (htab_update_once), nothing held */
static int htab_update_fast(struct emu_obj *map, const void *key, const void *value, __u64 op)
{
	struct htab_fast f;
	if (!htab_fast_lock(map, key, &f))
		return 1;
	__u32 *link = NULL;
	__u32 old = fast_find(&f, key, &link), n = f.s->spare, max = emu_map_desc(map)->max_entries;
	int err = 0;
	if (old && op == BPF_NOEXIST) {
		err = -EEXIST;
	} else if (!old && op == BPF_EXIST) {
		err = -ENOENT;
	} else if (!old && !count_take(&(struct htab){ .st = f.st, .max_entries = max })) {
		err = -E2BIG;
	} else {
		if (!n) {
			/* no spare: a new key takes two elements never used,
			 * its own and the stripe's next spare, with no shared
			 * lock; else (no such pair, or a replacing update) the
			 * object lock for an element, the general way */
			n = old ? 0
				: bump_pair(f.st, (__u64)(f.elems - (char *)f.buckets), f.elem_size,
					    max + 1 + (__u32)f.st[HT_NSTRIPES]);
			if (!n) {
				if (!old)
					count_sub(&(struct htab){ .st = f.st }, 1);
				struct wctx w;
				w.h = htab_of(map);
				w.s = f.s;
				w.odd = true;
				return htab_update_locked(map, &w, f.hash, key, value, op, -1);
			}
			f.s->spare = n + 1;
		} else {
			f.s->spare = 0;
		}
		/* the element is built, then published with one store (a
		 * replaced element is the next spare) */
		struct htab_elem *e = fast_elem(&f, n);
		if (!key_inline(f.key_size))
			e->hash = f.hash;
		memcpy(key_inline(f.key_size) ? (void *)&e->hash : (void *)(e + 1), key, f.key_size);
		memcpy((char *)e + f.voff, value, f.vbytes);
		if (old) {
			e->next = fast_elem(&f, old)->next;
			__atomic_store_n(link, n, __ATOMIC_RELEASE);
			f.s->spare = old;
		} else {
			chain_append(link, e, n);
		}
	}
	htab_fast_unlock(&f);
	return err;
}

/* 0, -ENOENT; 1: the general path, nothing held */
static int htab_delete_fast(struct emu_obj *map, const void *key)
{
	struct htab_fast f;
	if (!htab_fast_lock(map, key, &f))
		return 1;
	__u32 *link = NULL;
	__u32 i = fast_find(&f, key, &link);
	if (i) {
		struct htab_elem *e = fast_elem(&f, i);
		__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
		if (!f.s->spare) {
			/* unlinked under this stripe: its spare, as a replaced
			 * element is (no compare-and-swap on the free list) */
			f.s->spare = i;
		} else {
			struct htab h = { .st = f.st, .elems = f.elems, .elem_size = f.elem_size };
			free_elem(&h, i);
		}
		count_sub(&(struct htab){ .st = f.st }, 1);
	}
	htab_fast_unlock(&f);
	return i ? 0 : -ENOENT;
}

static int htab_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	__u64 op = flags & ~(__u64)BPF_F_LOCK;
	if (op > BPF_EXIST)
		return -EINVAL;
	int err = htab_update_fast(map, key, value, op);
	if (err != 1)
		return err;
	while ((err = htab_update_once(map, key, value, op, -1)) == HTAB_AGAIN)
		;
	return err;
}

/* ---- from BPF programs (emu/vm) ---- */

/* bpf_map_lookup_elem(): the element's value (per-CPU: the CPU's slot) in
 * place, found without the lock as the kernel's RCU walk does; an LRU
 * element gets its reference bit. The address stays valid memory for good
 * (elements are never unmapped); after a delete or a replacing update it is
 * a free or spare element's value, as a kernel pointer past RCU would be. */
__attribute__((no_sanitize("thread")))
static void *htab_prog_lookup_slow(struct emu_obj *map, const void *key, unsigned int cpu)
{
	int tries = 0;
	struct htab h = htab_of(map);
	__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
	long i = -1;
	do {
		__u64 s;
		if (!htab_seq_begin(map, &h, hash, &s, &tries))
			break;
		i = find_seq(&h, key, hash);
		if (i >= 0 && !htab_seq_retry(&h, hash, s, &tries))
			break;
		i = -1;
	} while (map->rdonly || tries < 4);
	if (i < 0) {
		struct wctx w;
		lock_key(map, &w, key, false);
		i = find(&w.h, key, hash, NULL);
		unlock_stripe(map, &w);
	}
	if (!i)
		return NULL;
	struct htab_elem *e = elem_at(&h, (__u32)i);
	if (h.lru && !map->rdonly)
		__atomic_store_n(&lru_at(&h, (__u32)i)->lru_ref, 1, __ATOMIC_RELAXED);
	char *v = elem_value(&h, e);
	return h.percpu ? v + (size_t)cpu * round_up8(map->hdr->map.value_size) : v;
}

/* The same, in the common case (a striped, non-LRU map; the stripe stable
 * before and after the walk; no index out of range), reading only the fields
 * that walk needs: what programs call most, made short (issue 14's speed
 * targets). Anything else goes the way above. */
__attribute__((no_sanitize("thread")))
static void *htab_prog_lookup(struct emu_obj *map, const void *key, unsigned int cpu)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	const __u64 *st = d->type_state;
	__u32 nstripes = (__u32)st[HT_NSTRIPES];
	if (!nstripes || type_is_lru(d->map_type))
		return htab_prog_lookup_slow(map, key, cpu);
	__u32 key_size = d->key_size, n_buckets = (__u32)st[HT_NBUCKETS], esize = (__u32)st[HT_ELEM_SIZE];
	__u32 hash = hash_key(key, key_size, st[HT_SEED]);
	const __u32 *buckets = emu_obj_data(map);
	struct htab_stripe *stripes = (struct htab_stripe *)((char *)buckets + stripes_off(n_buckets, 0));
	char *elems = (char *)(stripes + nstripes);
	__u64 *seq = &stripes[hash & (nstripes - 1)].seq;
	__u64 s0 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
	if (s0 & 1)
		return htab_prog_lookup_slow(map, key, cpu);
	__u32 limit = d->max_entries + 1 + nstripes, steps = 0;
	struct htab_elem *found = NULL, *e;
	for (__u32 i = __atomic_load_n(&buckets[hash & (n_buckets - 1)], __ATOMIC_ACQUIRE); i;
	     i = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE)) {
		if (i > limit || ++steps > limit)
			return htab_prog_lookup_slow(map, key, cpu);
		e = (struct htab_elem *)(elems + (size_t)(i - 1) * esize);
		bool eq;
		if (key_size == 4) {             /* one load each, no call; the key is where the hash would be */
			__u32 a, b;
			memcpy(&a, &e->hash, 4);
			memcpy(&b, key, 4);
			eq = a == b;
		} else if (key_inline(key_size)) {
			eq = !memcmp(&e->hash, key, key_size);
		} else if (e->hash != hash) {
			continue;
		} else if (key_size == 8) {
			__u64 a, b;
			memcpy(&a, e + 1, 8);
			memcpy(&b, key, 8);
			eq = a == b;
		} else {
			eq = !memcmp(e + 1, key, key_size);
		}
		if (eq) {
			found = e;
			break;
		}
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(seq, __ATOMIC_RELAXED) != s0)
		return htab_prog_lookup_slow(map, key, cpu);
	if (!found)
		return NULL;
	char *v = (char *)found + value_off(key_size);
	return type_is_percpu(d->map_type) ? v + (size_t)cpu * round_up8(d->value_size) : v;
}

static int htab_prog_update(struct emu_obj *map, const void *key, const void *value, __u64 flags, unsigned int cpu)
{
	__u64 op = flags & ~(__u64)BPF_F_LOCK;
	if (op > BPF_EXIST)
		return -EINVAL;
	int err;
	while ((err = htab_update_once(map, key, value, op, (int)cpu)) == HTAB_AGAIN)
		;
	return err;
}

/* bpf_spin_lock on an element's value: the lock its key's writers and
 * BPF_F_LOCK take (the stripe, or an LRU map's object lock), the sequence
 * odd while held, as for a writer, so BPF_F_LOCK copies see whole values */
static int htab_prog_value_lock(struct emu_obj *map, void *value, bool lock)
{
	struct htab h = htab_of(map);
	struct htab_elem *e = (struct htab_elem *)((char *)value - value_off(h.key_size));
	__u32 hash = elem_hash(&h, e);
	struct wctx w;
	if (lock) {
		lock_stripe(map, &w, hash, true);
		return 0;
	}
	w.h = h;
	w.odd = true;
	w.s = h.nstripes ? &h.stripes[hash & h.smask] : NULL;
	unlock_stripe(map, &w);
	return 0;
}

/* delete and lookup_and_delete (value != NULL) */
static int htab_delete_common(struct emu_obj *map, const void *key, void *value)
{
	struct wctx w;
	__u32 hash = lock_key(map, &w, key, true);
	__u32 *link;
	__u32 i = find(&w.h, key, hash, &link);
	if (i) {
		/* no object lock: the free list takes pushes and the count
		 * changes without it (LRU: held already) */
		struct htab_elem *e = elem_at(&w.h, i);
		if (value)
			memcpy(value, elem_value(&w.h, e), w.h.vbytes);
		__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
		if (w.h.lru)
			lru_release(&w.h, i, false);
		free_elem(&w.h, i);
		count_sub(&w.h, 1);
	}
	unlock_stripe(map, &w);
	return i ? 0 : -ENOENT;
}

static int htab_delete(struct emu_obj *map, const void *key)
{
	int err = htab_delete_fast(map, key);
	return err != 1 ? err : htab_delete_common(map, key, NULL);
}

static int htab_lookup_and_delete(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)flags;
	return htab_delete_common(map, key, value);
}

/* The kernel's order: bucket by bucket, each chain newest first; a key that is
 * not in the map (or NULL) restarts from the first element. */
static int htab_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	int r = htab_get_next_key_seq(map, key, next);
	if (r <= 0)
		return r;
	struct htab h = htab_of(map);
	lock_all(map, &h);
	__u32 b = 0, i = 0;
	int err = -ENOENT;

	if (key) {
		__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
		i = find(&h, key, hash, NULL);
		if (i) {
			b = (hash & (h.n_buckets - 1)) + 1;
			i = elem_at(&h, i)->next;
		}
	}
	for (; !i && b < h.n_buckets; b++)
		i = h.buckets[b];
	if (i) {
		memcpy(next, elem_key(&h, elem_at(&h, i)), h.key_size);
		err = 0;
	}
	unlock_all(map, &h);
	return err;
}

/*
 * MAP_LOOKUP_BATCH and MAP_LOOKUP_AND_DELETE_BATCH, bucket by bucket like the
 * kernel's __htab_map_lookup_and_delete_batch: the token is a bucket index, a
 * bucket is taken whole or not at all (ENOSPC when the first non-empty bucket
 * is larger than count), out_batch is the first bucket not taken, ENOENT once
 * the last bucket was passed. Runs of buckets are read under their stripes'
 * sequences (lookup), single buckets under their stripe's lock (delete, or a
 * lookup that keeps meeting writers), into a chunk buffer, which is copied out with no lock held; with delete, elements
 * go before the copy out (a fault then loses them, as in the kernel).
 */
#define HTAB_BATCH_CHUNK 1024u

/* Without the lock, from bucket *bp on: whole buckets into keys/vals while
 * they fit in room, all under their stripes' sequences (checked once for the
 * run). 0: *bp is past the buckets taken, *np elements taken, *cntp the size
 * of the bucket at *bp if it did not fit (0 if the run ended at nb or at
 * HTAB_SEQ_RUN buckets); 1: take bucket *bp with its lock (nothing taken). */
#define HTAB_SEQ_RUN 256u

/* The walk asks for the first element of the bucket HTAB_PREFETCH ahead
 * while it copies this one's: a big map's elements lie in the order their
 * keys came, not in bucket order, so each chain's first element is a cache
 * miss that nothing else would start early. A hint only (no fault, no
 * ordering): the bucket is read again under the sequence. */
#define HTAB_PREFETCH 12u
#define HTAB_PREFETCH_BYTES (1u << 20)    /* elements a cache holds: no misses to start early */
__attribute__((no_sanitize("thread")))
static inline void prefetch_head(const struct htab *h, __u32 b)
{
	__u32 i = __atomic_load_n(&h->buckets[b], __ATOMIC_RELAXED);
	if (i && i <= h->nelems) {
		const char *e = (const char *)elem_at(h, i);
		__builtin_prefetch(e);
		__builtin_prefetch(e + h->elem_size - 1);
	}
}
__attribute__((no_sanitize("thread")))
static int take_run_seq(struct emu_obj *map, __u32 *bp, char *keys, char *vals, __u32 room, __u32 *np,
			__u32 *cntp)
{
	struct htab h = htab_of(map);
	__u32 lim = h.nelems, ks = h.key_size, vs = h.vbytes;
	__u32 end = h.n_buckets - *bp > HTAB_SEQ_RUN ? *bp + HTAB_SEQ_RUN : h.n_buckets;
	bool big_map = (__u64)h.nelems * h.elem_size > HTAB_PREFETCH_BYTES;
	int tries = 0;
	do {
		struct seqset ss;
		ss.have = 0;
		__u32 b = *bp, n = 0, big = 0;
		bool bad = false;
		for (; b < end && !bad; b++) {
			if (!seqset_enter(map, &h, &ss, b, &tries))
				return 1;
			if (big_map && b + HTAB_PREFETCH < end)
				prefetch_head(&h, b + HTAB_PREFETCH);
			__u32 cnt = 0;
			for (__u32 i = __atomic_load_n(&h.buckets[b], __ATOMIC_ACQUIRE); i;
			     i = __atomic_load_n(&elem_at(&h, i)->next, __ATOMIC_ACQUIRE)) {
				if (i > lim || ++cnt > lim) {
					bad = true;
					break;
				}
				if (n + cnt <= room) {
					struct htab_elem *e = elem_at(&h, i);
					memcpy(keys + (size_t)(n + cnt - 1) * ks, elem_key(&h, e), ks);
					memcpy(vals + (size_t)(n + cnt - 1) * vs, elem_value(&h, e), vs);
				}
			}
			if (n + cnt > room) {
				big = cnt;
				break;
			}
			n += cnt;
		}
		bool changed = seqset_retry(&h, &ss, &tries);
		if (!bad && !changed) {
			*bp = b;
			*np = n;
			*cntp = big;
			return 0;
		}
		tries += !changed;     /* a bad walk under a still sequence: a writer died inside */
	} while (map->rdonly || tries < 4);
	return 1;
}

/* Bucket b's cnt elements (*cntp) into keys/vals if they fit in room: 0
 * (taken; with del, unlinked and freed), else 1 (nothing taken). */
static int take_bucket(struct emu_obj *map, __u32 b, bool del, char *keys, char *vals, __u32 room, __u32 *cntp)
{
	for (;;) {
		struct wctx w;
		lock_stripe(map, &w, b, del);
		struct htab *h = &w.h;
		__u32 cnt = 0, n = 0;
		for (__u32 i = h->buckets[b]; i; i = elem_at(h, i)->next)
			cnt++;
		*cntp = cnt;
		if (cnt > room || !cnt) {
			unlock_stripe(map, &w);
			return cnt > room;
		}
		if (del && !lock_alloc(map, &w)) {
			unlock_stripe(map, &w);
			continue;
		}
		for (__u32 i = h->buckets[b]; i; i = elem_at(h, i)->next, n++) {
			struct htab_elem *e = elem_at(h, i);
			memcpy(keys + (size_t)n * h->key_size, elem_key(h, e), h->key_size);
			memcpy(vals + (size_t)n * h->vbytes, elem_value(h, e), h->vbytes);
		}
		if (del) {
			__u32 i = h->buckets[b];
			__atomic_store_n(&h->buckets[b], 0, __ATOMIC_RELEASE);
			while (i) {
				__u32 next = elem_at(h, i)->next;
				if (h->lru)
					lru_release(h, i, false);
				free_elem(h, i);
				i = next;
			}
			count_sub(h, cnt);
			unlock_alloc(map, &w);
		}
		unlock_stripe(map, &w);
		return 0;
	}
}

static int htab_batch(struct emu_obj *map, const struct emu_map_batch *b, bool del)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u32 nb = (__u32)d->type_state[HT_NBUCKETS], ks = d->key_size, vs = (__u32)d->type_state[HT_VBYTES];
	__u32 batch = 0, total = 0, cap;
	char *keys = NULL, *vals = NULL;
	bool stop = false;
	int ret = 0;

	if (emu_map_batch_elem_flags_check(map, b->elem_flags))
		return -EINVAL;
	if (b->flags)
		return -EINVAL;
	if (!b->count)
		return 0;
	__u32 zero = 0;
	if (emu_copy_to_user(b->ucount, &zero, sizeof(zero)))
		return -EFAULT;
	if (b->in_batch && emu_copy_from_user(&batch, b->in_batch, sizeof(batch)))
		return -EFAULT;
	if (batch >= nb)
		return -ENOENT;

	cap = b->count < HTAB_BATCH_CHUNK ? b->count : HTAB_BATCH_CHUNK;
grow:
	free(keys);
	free(vals);
	keys = malloc((size_t)cap * ks);
	vals = malloc((size_t)cap * vs);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 n = 0;
		while (batch < nb) {
			__u32 left = b->count - total - n, room = left < cap - n ? left : cap - n, cnt, got;
			if (!del && !take_run_seq(map, &batch, keys + (size_t)n * ks, vals + (size_t)n * vs, room, &got,
						  &cnt)) {
				n += got;
				if (!cnt)
					continue;       /* the run ended */
			} else if (!take_bucket(map, batch, del, keys + (size_t)n * ks, vals + (size_t)n * vs, room,
						&cnt)) {
				n += cnt;
				batch++;
				continue;
			}
			left = b->count - total - n;
			if (cnt > left) {
				if (!total && !n)
					ret = -ENOSPC;
				stop = true;
				break;
			}
			if (n)
				break;          /* flush, then take this bucket */
			cap = cnt;
			goto grow;
		}
		if (n && (emu_copy_to_user(UPTR_ADD(b->keys, (size_t)total * ks), keys, (size_t)n * ks) ||
			  emu_copy_to_user(UPTR_ADD(b->values, (size_t)total * vs), vals, (size_t)n * vs))) {
			ret = -EFAULT;
			goto out;
		}
		total += n;
		if (stop)
			break;
		if (batch >= nb) {
			ret = -ENOENT;
			break;
		}
	}
	if (emu_copy_to_user(b->out_batch, &batch, sizeof(batch)) ||
	    emu_copy_to_user(b->ucount, &total, sizeof(total)))
		ret = -EFAULT;
out:
	free(keys);
	free(vals);
	return ret;
}

static int htab_lookup_batch(struct emu_obj *map, const struct emu_map_batch *b)
{
	return htab_batch(map, b, false);
}

static int htab_lookup_and_delete_batch(struct emu_obj *map, const struct emu_map_batch *b)
{
	return htab_batch(map, b, true);
}

const struct emu_map_ops htab_map_ops = {
	.check_spec = htab_check,
	.data_size = htab_data_size,
	.reserve_size = htab_reserve_size,
	.init = htab_init,
	.mem_usage = htab_mem_usage,
	.lookup = htab_lookup,
	.update = htab_update,
	.delete = htab_delete,
	.lookup_and_delete = htab_lookup_and_delete,
	.get_next_key = htab_get_next_key,
	.lookup_batch = htab_lookup_batch,
	.lookup_and_delete_batch = htab_lookup_and_delete_batch,
	.update_batch = emu_generic_map_update_batch,
	.delete_batch = emu_generic_map_delete_batch,
	.prog_lookup = htab_prog_lookup,
	.prog_update = htab_prog_update,
	.prog_value_lock = htab_prog_value_lock,
};

/* The same code serves the per-CPU and LRU flavours (the kernel's hashtab.c
 * does likewise); they differ in the value size user space passes. */
#define HTAB_OPS(name)                                          \
	const struct emu_map_ops name = {                       \
		.check_spec = htab_check,                       \
		.data_size = htab_data_size,                    \
		.reserve_size = htab_reserve_size,              \
		.init = htab_init,                              \
		.mem_usage = htab_mem_usage,                    \
		.lookup = htab_lookup,                          \
		.update = htab_update,                          \
		.delete = htab_delete,                          \
		.lookup_and_delete = htab_lookup_and_delete,    \
		.get_next_key = htab_get_next_key,              \
		.user_value_size = htab_user_value_size,        \
		.lookup_batch = htab_lookup_batch,              \
		.lookup_and_delete_batch = htab_lookup_and_delete_batch, \
		.update_batch = emu_generic_map_update_batch,   \
		.delete_batch = emu_generic_map_delete_batch,   \
		.prog_lookup = htab_prog_lookup,                \
		.prog_update = htab_prog_update,                \
		.prog_value_lock = htab_prog_value_lock,        \
	}
HTAB_OPS(htab_percpu_map_ops);
HTAB_OPS(htab_lru_map_ops);
HTAB_OPS(htab_lru_percpu_map_ops);
