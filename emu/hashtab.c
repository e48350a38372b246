/* SPDX-License-Identifier: MIT */
/*
 * emu/hashtab.c: BPF_MAP_TYPE_HASH.
 *
 * Storage (all offsets, no pointers): buckets[n_buckets] of element index + 1
 * (0 = empty), then max_entries + 1 elements. The spare element lets an update
 * of an existing key build the new element and swap it into the chain with one
 * store even when the map is full (the kernel keeps per-CPU spares for the
 * same reason), so a reader never sees a half-written value and a writer
 * killed mid-update leaves the chains intact. Elements are handed out from a
 * bump index first and a free list after, so an empty map of a million
 * entries touches no element pages until it is filled.
 *
 * Every operation runs under the object's robust lock. A holder that died can
 * only have leaked an element (taken from the free list, not yet linked, or
 * unlinked and not yet freed); the next locker rebuilds the free list and the
 * count from the chains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "map.h"

struct htab_elem {
	__u32 next;                    /* index + 1 of the next element in the chain */
	__u32 hash;
	/* key (rounded to 8), value (rounded to 8) */
};

/* map->hdr->map.type_state slots */
enum { HT_NBUCKETS, HT_COUNT, HT_FREE, HT_BUMP, HT_SEED, HT_ELEM_SIZE };

#define HTAB_CREATE_FLAG_MASK                                                                   \
	(BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | \
	 BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_ZERO_SEED)
#define KMALLOC_MAX_SIZE (1u << 22)
#define KERNEL_HTAB_ELEM_SIZE 48u      /* sizeof(struct htab_elem) in the kernel: bytes_memlock */
#define KERNEL_BPF_HTAB_SIZE 832u      /* sizeof(struct bpf_htab) */

struct htab {
	__u64 *st;
	__u32 *buckets;
	char *elems;
	__u32 n_buckets, elem_size, key_size, value_size, max_entries;
};

static __u32 roundup_pow2(__u64 v)
{
	__u64 p = 1;
	while (p < v)
		p <<= 1;
	return p > 0xffffffffull ? 0 : (__u32)p;
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
		.value_size = d->value_size,
		.max_entries = d->max_entries,
	};
	h.elems = (char *)h.buckets + round_up8((__u64)h.n_buckets * 4);
	return h;
}

static inline struct htab_elem *elem_at(const struct htab *h, __u32 idx1)
{
	return (struct htab_elem *)(h->elems + (size_t)(idx1 - 1) * h->elem_size);
}
static inline void *elem_key(struct htab_elem *e) { return e + 1; }
static inline void *elem_value(const struct htab *h, struct htab_elem *e)
{
	return (char *)(e + 1) + round_up8(h->key_size);
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
	__u64 w = 0;
	memcpy(&w, p, len);
	h = (h ^ (w * 0xbf58476d1ce4e5b9ull) ^ len) * 0x94d049bb133111ebull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return (__u32)h;
}

static int htab_check_spec(const struct emu_map_spec *s)
{
	bool prealloc = !(s->map_flags & BPF_F_NO_PREALLOC);
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);

	(void)prealloc;
	if ((s->map_flags & ~HTAB_CREATE_FLAG_MASK) || access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return -EINVAL;
	if (s->map_flags & BPF_F_NO_COMMON_LRU)   /* percpu_lru without lru */
		return -EINVAL;
	if (s->max_entries == 0 || s->key_size == 0 || s->value_size == 0)
		return -EINVAL;
	if ((__u64)s->key_size + s->value_size >= KMALLOC_MAX_SIZE - KERNEL_HTAB_ELEM_SIZE)
		return -E2BIG;
	__u32 nb = roundup_pow2(s->max_entries);
	if (nb == 0 || nb > 0xffffffffu / 16)
		return -E2BIG;
	return 0;
}

static __u32 elem_size_of(const struct emu_map_spec *s)
{
	return (__u32)(sizeof(struct htab_elem) + round_up8(s->key_size) + round_up8(s->value_size));
}

static __u64 htab_data_size(const struct emu_map_spec *s)
{
	__u64 nb = roundup_pow2(s->max_entries);
	return round_up8(nb * 4) + ((__u64)s->max_entries + 1) * elem_size_of(s);
}

static int htab_init(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u64 seed = 0;
	struct emu_map_spec s = { .key_size = d->key_size, .value_size = d->value_size };

	if (!(d->map_flags & BPF_F_ZERO_SEED) && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (__u64)emu_ktime_boot_ns() * 0x9e3779b97f4a7c15ull;
	d->type_state[HT_NBUCKETS] = roundup_pow2(d->max_entries);
	d->type_state[HT_COUNT] = 0;
	d->type_state[HT_FREE] = 0;
	d->type_state[HT_BUMP] = 0;
	d->type_state[HT_SEED] = seed;
	d->type_state[HT_ELEM_SIZE] = elem_size_of(&s);
	return 0;     /* buckets are zero: the file is new */
}

static __u64 htab_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 cpus = emu_possible_cpus();
	__u64 kelem = KERNEL_HTAB_ELEM_SIZE + round_up8(d->key_size) + round_up8(d->value_size);
	__u64 usage = KERNEL_BPF_HTAB_SIZE + 16 * d->type_state[HT_NBUCKETS] + 4 * cpus * 8;

	if (!(d->map_flags & BPF_F_NO_PREALLOC))
		usage += kelem * (d->max_entries + cpus) + 8 * cpus;
	else
		usage += (kelem + 8) * __atomic_load_n(&d->type_state[HT_COUNT], __ATOMIC_RELAXED);
	return usage;
}

/* After a holder died: rebuild the free list and the count from the chains. */
static void htab_repair(struct htab *h)
{
	__u32 bump = (__u32)h->st[HT_BUMP];
	unsigned char *seen = calloc(bump + 1, 1);
	__u64 count = 0;

	if (!seen)
		return;       /* try again next time */
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
	h->st[HT_FREE] = free_head;
	h->st[HT_COUNT] = count;
	free(seen);
}

static struct htab lock_htab(struct emu_obj *map)
{
	bool dead = emu_obj_lock(map);
	struct htab h = htab_of(map);
	if (dead)
		htab_repair(&h);
	return h;
}

/* Find key; *prevp gets the link that points at it (bucket slot or prev->next). */
static __u32 find(const struct htab *h, const void *key, __u32 hash, __u32 **linkp)
{
	__u32 *link = &h->buckets[hash & (h->n_buckets - 1)];
	for (__u32 i = *link; i; link = &elem_at(h, i)->next, i = *link) {
		struct htab_elem *e = elem_at(h, i);
		if (e->hash == hash && !memcmp(elem_key(e), key, h->key_size)) {
			if (linkp)
				*linkp = link;
			return i;
		}
	}
	return 0;
}

static __u32 alloc_elem(struct htab *h)
{
	__u32 i = (__u32)h->st[HT_FREE];
	if (i) {
		h->st[HT_FREE] = elem_at(h, i)->next;
		return i;
	}
	if (h->st[HT_BUMP] < (__u64)h->max_entries + 1)
		return (__u32)++h->st[HT_BUMP];
	return 0;
}

static void free_elem(struct htab *h, __u32 i)
{
	elem_at(h, i)->next = (__u32)h->st[HT_FREE];
	h->st[HT_FREE] = i;
}

static int htab_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)flags;
	struct htab h = lock_htab(map);
	__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
	__u32 i = find(&h, key, hash, NULL);
	if (i)
		memcpy(value, elem_value(&h, elem_at(&h, i)), h.value_size);
	emu_obj_unlock(map);
	return i ? 0 : -ENOENT;
}

static int htab_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	__u64 op = flags & ~(__u64)BPF_F_LOCK;
	if (op > BPF_EXIST)
		return -EINVAL;

	struct htab h = lock_htab(map);
	__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
	__u32 *link;
	__u32 old = find(&h, key, hash, &link);
	int err = 0;

	if (old && op == BPF_NOEXIST) {
		err = -EEXIST;
		goto out;
	}
	if (!old && op == BPF_EXIST) {
		err = -ENOENT;
		goto out;
	}
	if (!old && h.st[HT_COUNT] >= h.max_entries) {
		err = -E2BIG;
		goto out;
	}
	__u32 n = alloc_elem(&h);
	if (!n) {
		err = -E2BIG;
		goto out;
	}
	struct htab_elem *e = elem_at(&h, n);
	e->hash = hash;
	memcpy(elem_key(e), key, h.key_size);
	memcpy(elem_value(&h, e), value, h.value_size);
	if (old) {
		/* replace in place in the chain: one store publishes the new element */
		e->next = elem_at(&h, old)->next;
		__atomic_store_n(link, n, __ATOMIC_RELEASE);
		free_elem(&h, old);
	} else {
		__u32 *head = &h.buckets[hash & (h.n_buckets - 1)];
		e->next = *head;
		__atomic_store_n(head, n, __ATOMIC_RELEASE);
		h.st[HT_COUNT]++;
	}
out:
	emu_obj_unlock(map);
	return err;
}

static int htab_delete(struct emu_obj *map, const void *key)
{
	struct htab h = lock_htab(map);
	__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
	__u32 *link;
	__u32 i = find(&h, key, hash, &link);
	if (i) {
		__atomic_store_n(link, elem_at(&h, i)->next, __ATOMIC_RELEASE);
		free_elem(&h, i);
		h.st[HT_COUNT]--;
	}
	emu_obj_unlock(map);
	return i ? 0 : -ENOENT;
}

static int htab_lookup_and_delete(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)flags;
	struct htab h = lock_htab(map);
	__u32 hash = hash_key(key, h.key_size, h.st[HT_SEED]);
	__u32 *link;
	__u32 i = find(&h, key, hash, &link);
	if (i) {
		memcpy(value, elem_value(&h, elem_at(&h, i)), h.value_size);
		__atomic_store_n(link, elem_at(&h, i)->next, __ATOMIC_RELEASE);
		free_elem(&h, i);
		h.st[HT_COUNT]--;
	}
	emu_obj_unlock(map);
	return i ? 0 : -ENOENT;
}

/* The kernel's order: bucket by bucket, each chain newest first; a key that is
 * not in the map (or NULL) restarts from the first element. */
static int htab_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	struct htab h = lock_htab(map);
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
		memcpy(next, elem_key(elem_at(&h, i)), h.key_size);
		err = 0;
	}
	emu_obj_unlock(map);
	return err;
}

/*
 * MAP_LOOKUP_BATCH and MAP_LOOKUP_AND_DELETE_BATCH, bucket by bucket like the
 * kernel's __htab_map_lookup_and_delete_batch: the token is a bucket index, a
 * bucket is taken whole or not at all (ENOSPC when the first non-empty bucket
 * is larger than count), out_batch is the first bucket not taken, ENOENT once
 * the last bucket was passed. Buckets are gathered under one lock hold into a
 * chunk buffer, which is copied out after the lock is dropped; with delete,
 * elements go before the copy out (a fault then loses them, as in the kernel).
 */
#define HTAB_BATCH_CHUNK 1024u

static int htab_batch(struct emu_obj *map, const struct emu_map_batch *b, bool del)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u32 nb = (__u32)d->type_state[HT_NBUCKETS], ks = d->key_size, vs = d->value_size;
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
		struct htab h = lock_htab(map);
		while (batch < nb) {
			__u32 cnt = 0;
			for (__u32 i = h.buckets[batch]; i; i = elem_at(&h, i)->next)
				cnt++;
			if (!cnt) {
				batch++;
				continue;
			}
			if (cnt > b->count - total - n) {
				if (!total && !n)
					ret = -ENOSPC;
				stop = true;
				break;
			}
			if (n + cnt > cap) {
				if (n)
					break;          /* flush, then take this bucket */
				emu_obj_unlock(map);
				cap = cnt;
				goto grow;
			}
			for (__u32 i = h.buckets[batch]; i; i = elem_at(&h, i)->next, n++) {
				struct htab_elem *e = elem_at(&h, i);
				memcpy(keys + (size_t)n * ks, elem_key(e), ks);
				memcpy(vals + (size_t)n * vs, elem_value(&h, e), vs);
			}
			if (del) {
				__u32 i = h.buckets[batch];
				__atomic_store_n(&h.buckets[batch], 0, __ATOMIC_RELEASE);
				while (i) {
					__u32 next = elem_at(&h, i)->next;
					free_elem(&h, i);
					i = next;
				}
				h.st[HT_COUNT] -= cnt;
			}
			batch++;
		}
		emu_obj_unlock(map);
		if (n && (emu_copy_to_user((char *)b->keys + (size_t)total * ks, keys, (size_t)n * ks) ||
			  emu_copy_to_user((char *)b->values + (size_t)total * vs, vals, (size_t)n * vs))) {
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
	.check_spec = htab_check_spec,
	.data_size = htab_data_size,
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
};
