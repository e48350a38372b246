/* SPDX-License-Identifier: MIT */
/*
 * emu/lpm_trie.c: BPF_MAP_TYPE_LPM_TRIE.
 *
 * Keys are struct bpf_lpm_trie_key_u8: a host-order u32 prefixlen, then
 * key_size - 4 bytes of data read big-endian (data[0] holds the most
 * significant bits). The trie has the kernel's shape, so GET_NEXT_KEY walks it
 * in the kernel's order (post-order: more specific prefixes first): a binary
 * trie where a node's children differ in the bit just after its prefix, real
 * nodes carry a value, and intermediate nodes (exactly two children, no
 * value) exist only to branch. LOOKUP returns the value of the longest
 * matching prefix; UPDATE and DELETE take exact prefixes.
 *
 * Storage: a pool of 2 * max_entries + 1 nodes (max_entries real ones, at
 * most one intermediate per real one, one spare so a value update can build
 * the replacement before it unlinks the old node), linked by index + 1; a
 * free list and a bump index hand them out, so a sparse file stays sparse.
 * Every change is published by one store into a parent's child slot, under
 * the object's robust lock; a holder that died can only have leaked nodes or
 * left n_entries off, and the next locker recounts both from the tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

#define LPM_CREATE_FLAG_MASK                                                                       \
	(BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG |  \
	 BPF_F_WRONLY_PROG)
#define KMALLOC_MAX_SIZE (1u << 22)
#define KERNEL_LPM_NODE_SIZE 24u       /* sizeof(struct lpm_trie_node): bytes_memlock */
#define LPM_DATA_SIZE_MIN 1u
#define LPM_DATA_SIZE_MAX 256u
#define LPM_KEY_SIZE_MIN (4u + LPM_DATA_SIZE_MIN)
#define LPM_KEY_SIZE_MAX (4u + LPM_DATA_SIZE_MAX)
#define LPM_VAL_SIZE_MAX (KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - KERNEL_LPM_NODE_SIZE)
#define NODE_IM 1u                     /* intermediate node: no value */

struct lpm_node {
	__u32 child[2];                /* index + 1, 0 = none */
	__u32 prefixlen;
	__u32 flags;
	/* data[data_size], then the value, each rounded to 8 */
};

enum { LP_ENTRIES, LP_FREE, LP_BUMP, LP_NODE_SIZE };
#define LP_HEAD 8u                     /* data area: the root slot (u32), then the nodes */

struct trie {
	__u64 *st;
	__u32 *root;
	char *nodes;
	__u32 node_size, data_size, value_size, max_prefixlen, max_entries;
	__u64 cap;                     /* nodes in the pool */
};

static __u64 node_size_of(__u32 key_size, __u32 value_size)
{
	return sizeof(struct lpm_node) + round_up8(key_size - 4) + round_up8(value_size);
}

static struct trie trie_of(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	struct trie t = {
		.st = d->type_state,
		.root = emu_obj_data(map),
		.nodes = (char *)emu_obj_data(map) + LP_HEAD,
		.node_size = (__u32)d->type_state[LP_NODE_SIZE],
		.data_size = d->key_size - 4,
		.value_size = d->value_size,
		.max_prefixlen = (d->key_size - 4) * 8,
		.max_entries = d->max_entries,
		.cap = 2 * (__u64)d->max_entries + 1,
	};
	return t;
}

static inline struct lpm_node *N(const struct trie *t, __u32 i)
{
	/* only a reader without the lock can see an index out of range (it
	 * reads again): keep it inside the pool */
	if (__builtin_expect(i - 1 >= t->cap, 0))
		i = 1;
	return (struct lpm_node *)(t->nodes + (size_t)(i - 1) * t->node_size);
}
static inline __u8 *ndata(struct lpm_node *n) { return (__u8 *)(n + 1); }
static inline void *nvalue(const struct trie *t, struct lpm_node *n) { return ndata(n) + round_up8(t->data_size); }

static inline __u32 key_plen(const void *key)
{
	__u32 p;
	memcpy(&p, key, 4);
	return p;
}
static inline const __u8 *key_data(const void *key) { return (const __u8 *)key + 4; }

static inline unsigned int bit_at(const __u8 *data, __u32 index)
{
	return (data[index / 8] >> (7 - index % 8)) & 1;
}

/* How many leading bits of node and key agree, up to the shorter prefix. */
static __u32 match_len(const struct trie *t, struct lpm_node *n, const __u8 *kdata, __u32 kplen)
{
	__u32 limit = n->prefixlen < kplen ? n->prefixlen : kplen, len = 0;
	const __u8 *nd = ndata(n);
	for (__u32 i = 0; i < t->data_size && len < limit; i++) {
		__u8 x = nd[i] ^ kdata[i];
		if (!x) {
			len += 8;
			continue;
		}
		len += (__u32)__builtin_clz((unsigned int)x) - 24;
		break;
	}
	return len < limit ? len : limit;
}

/* trie_alloc()'s checks */
static int trie_check_spec(const struct emu_map_spec *s)
{
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
	if (s->max_entries == 0 || !(s->map_flags & BPF_F_NO_PREALLOC) || (s->map_flags & ~LPM_CREATE_FLAG_MASK) ||
	    access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) || s->key_size < LPM_KEY_SIZE_MIN ||
	    s->key_size > LPM_KEY_SIZE_MAX || s->value_size < 1 || s->value_size > LPM_VAL_SIZE_MAX)
		return -EINVAL;
	return 0;
}

static __u64 trie_data_size(const struct emu_map_spec *s)
{
	return LP_HEAD + (2 * (__u64)s->max_entries + 1) * node_size_of(s->key_size, s->value_size);
}

static int trie_init(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	d->type_state[LP_ENTRIES] = 0;
	d->type_state[LP_FREE] = 0;
	d->type_state[LP_BUMP] = 0;
	d->type_state[LP_NODE_SIZE] = node_size_of(d->key_size, d->value_size);
	return 0;
}

/* trie_mem_usage() */
static __u64 trie_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 elem = KERNEL_LPM_NODE_SIZE + (d->key_size - 4) + d->value_size;
	return elem * __atomic_load_n(&d->type_state[LP_ENTRIES], __ATOMIC_RELAXED);
}

static __u32 node_alloc(struct trie *t)
{
	__u32 i = (__u32)t->st[LP_FREE];
	if (i) {
		t->st[LP_FREE] = N(t, i)->child[0];
	} else {
		if (t->st[LP_BUMP] >= 2 * (__u64)t->max_entries + 1)
			return 0;
		i = (__u32)++t->st[LP_BUMP];
	}
	memset(N(t, i), 0, sizeof(struct lpm_node));
	return i;
}

static void node_free(struct trie *t, __u32 i)
{
	N(t, i)->child[0] = (__u32)t->st[LP_FREE];
	t->st[LP_FREE] = i;
}

/* After a holder died: nodes not in the tree go back to the free list and
 * n_entries becomes the number of real nodes in the tree. */
static void trie_repair(struct trie *t)
{
	__u32 bump = (__u32)t->st[LP_BUMP];
	unsigned char *seen = calloc((size_t)bump + 1, 1);
	__u32 *stack = malloc((2 * (size_t)bump + 2) * sizeof(*stack));
	__u64 entries = 0;
	if (!seen || !stack)
		goto out;
	__u32 sp = 0;
	if (*t->root)
		stack[sp++] = *t->root;
	while (sp) {
		__u32 i = stack[--sp];
		if (i > bump || seen[i])
			continue;
		seen[i] = 1;
		if (!(N(t, i)->flags & NODE_IM))
			entries++;
		for (int c = 0; c < 2; c++)
			if (N(t, i)->child[c])
				stack[sp++] = N(t, i)->child[c];
	}
	__u32 free_head = 0;
	for (__u32 i = bump; i >= 1; i--)
		if (!seen[i]) {
			N(t, i)->child[0] = free_head;
			free_head = i;
		}
	t->st[LP_FREE] = free_head;
	t->st[LP_ENTRIES] = entries;
out:
	free(seen);
	free(stack);
}

static struct trie lock_trie(struct emu_obj *map)
{
	bool dead = emu_obj_lock(map);
	struct trie t = trie_of(map);
	if (dead)
		trie_repair(&t);
	return t;
}

/* trie_lookup_elem(): the longest prefix that matches. Walks are bounded by
 * the pool size, so a reader without the lock cannot loop on a torn trie. */
static int trie_lookup_in(const struct trie *t, const void *key, void *value)
{
	__u32 kplen = key_plen(key), found = 0;
	const __u8 *kd = key_data(key);
	__u64 steps = 0;
	if (kplen <= t->max_prefixlen) {
		for (__u32 i = __atomic_load_n(t->root, __ATOMIC_ACQUIRE); i && steps++ < t->cap;) {
			struct lpm_node *n = N(t, i);
			__u32 m = match_len(t, n, kd, kplen);
			if (m == t->max_prefixlen) {
				found = i;
				break;
			}
			if (m < n->prefixlen)
				break;
			if (!(n->flags & NODE_IM))
				found = i;
			i = __atomic_load_n(&n->child[bit_at(kd, n->prefixlen)], __ATOMIC_ACQUIRE);
		}
	}
	if (found)
		memcpy(value, nvalue(t, N(t, found)), t->value_size);
	return found ? 0 : -ENOENT;
}

static int trie_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)flags;
	int err;
	if (map->rdonly) {        /* cannot take the lock: read until no writer overlapped */
		__u32 seq;
		do {
			seq = emu_obj_read_begin(map);
			struct trie t = trie_of(map);
			err = trie_lookup_in(&t, key, value);
		} while (emu_obj_read_retry(map, seq));
		return err;
	}
	struct trie t = lock_trie(map);
	err = trie_lookup_in(&t, key, value);
	emu_obj_unlock(map);
	return err;
}

/* bpf_map_lookup_elem() from a program: the longest match's value in place */
static void *trie_prog_lookup(struct emu_obj *map, const void *key, unsigned int cpu)
{
	(void)cpu;
	__u32 seq = 0;
	void *v;
	do {
		struct trie t = map->rdonly ? (seq = emu_obj_read_begin(map), trie_of(map)) : lock_trie(map);
		__u32 kplen = key_plen(key), found = 0;
		const __u8 *kd = key_data(key);
		__u64 steps = 0;
		if (kplen <= t.max_prefixlen) {
			for (__u32 i = __atomic_load_n(t.root, __ATOMIC_ACQUIRE); i && steps++ < t.cap;) {
				struct lpm_node *n = N(&t, i);
				__u32 m = match_len(&t, n, kd, kplen);
				if (m == t.max_prefixlen) {
					found = i;
					break;
				}
				if (m < n->prefixlen)
					break;
				if (!(n->flags & NODE_IM))
					found = i;
				i = __atomic_load_n(&n->child[bit_at(kd, n->prefixlen)], __ATOMIC_ACQUIRE);
			}
		}
		v = found ? nvalue(&t, N(&t, found)) : NULL;
		if (!map->rdonly) {
			emu_obj_unlock(map);
			break;
		}
	} while (emu_obj_read_retry(map, seq));
	return v;
}

/* trie_update_elem(): insert or replace the exact prefix */
static int trie_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	if (flags > BPF_EXIST)
		return -EINVAL;
	struct trie t = lock_trie(map);
	__u32 kplen = key_plen(key);
	const __u8 *kd = key_data(key);
	int err = 0;

	if (kplen > t.max_prefixlen) {
		err = -EINVAL;
		goto out;
	}
	__u32 *slot = t.root;
	__u32 i, m = 0;
	while ((i = *slot)) {
		struct lpm_node *n = N(&t, i);
		m = match_len(&t, n, kd, kplen);
		if (n->prefixlen != m || n->prefixlen == kplen || n->prefixlen == t.max_prefixlen)
			break;
		slot = &n->child[bit_at(kd, n->prefixlen)];
	}
	bool exact = i && N(&t, i)->prefixlen == m;
	bool replaces = exact && !(N(&t, i)->flags & NODE_IM);
	if (replaces && flags == BPF_NOEXIST) {
		err = -EEXIST;
		goto out;
	}
	if (!replaces) {
		if (flags == BPF_EXIST) {
			err = -ENOENT;
			goto out;
		}
		if (t.st[LP_ENTRIES] >= t.max_entries) {
			err = -ENOSPC;
			goto out;
		}
	}
	__u32 nw = node_alloc(&t);
	if (!nw) {
		err = -ENOMEM;
		goto out;
	}
	struct lpm_node *nn = N(&t, nw);
	nn->prefixlen = kplen;
	memcpy(ndata(nn), kd, t.data_size);
	memcpy(nvalue(&t, nn), value, t.value_size);

	if (!i) {
		__atomic_store_n(slot, nw, __ATOMIC_RELEASE);
	} else if (exact) {
		/* the same prefix (a real node or an intermediate one): take its place */
		nn->child[0] = N(&t, i)->child[0];
		nn->child[1] = N(&t, i)->child[1];
		__atomic_store_n(slot, nw, __ATOMIC_RELEASE);
		node_free(&t, i);
	} else if (m == kplen) {
		/* the new prefix covers the node: it becomes its parent */
		nn->child[bit_at(ndata(N(&t, i)), m)] = i;
		__atomic_store_n(slot, nw, __ATOMIC_RELEASE);
	} else {
		/* they part at bit m: an intermediate node branches there */
		__u32 im = node_alloc(&t);
		if (!im) {
			node_free(&t, nw);
			err = -ENOMEM;
			goto out;
		}
		struct lpm_node *in = N(&t, im);
		in->prefixlen = m;
		in->flags = NODE_IM;
		memcpy(ndata(in), ndata(N(&t, i)), t.data_size);
		unsigned int b = bit_at(kd, m);
		in->child[b] = nw;
		in->child[!b] = i;
		__atomic_store_n(slot, im, __ATOMIC_RELEASE);
	}
	if (!replaces)
		t.st[LP_ENTRIES]++;
out:
	emu_obj_unlock(map);
	return err;
}

/* trie_delete_elem(): exact prefix only */
static int trie_delete(struct emu_obj *map, const void *key)
{
	struct trie t = lock_trie(map);
	__u32 kplen = key_plen(key);
	const __u8 *kd = key_data(key);
	int err = 0;

	if (kplen > t.max_prefixlen) {
		err = -EINVAL;
		goto out;
	}
	__u32 *trim = t.root, *trim2 = trim;
	__u32 i, parent = 0, m = 0;
	while ((i = *trim)) {
		struct lpm_node *n = N(&t, i);
		m = match_len(&t, n, kd, kplen);
		if (n->prefixlen != m || n->prefixlen == kplen)
			break;
		parent = i;
		trim2 = trim;
		trim = &n->child[bit_at(kd, n->prefixlen)];
	}
	if (!i || N(&t, i)->prefixlen != kplen || N(&t, i)->prefixlen != m || (N(&t, i)->flags & NODE_IM)) {
		err = -ENOENT;
		goto out;
	}
	struct lpm_node *n = N(&t, i);
	t.st[LP_ENTRIES]--;
	if (n->child[0] && n->child[1]) {
		/* still needed to branch: it becomes intermediate */
		__atomic_or_fetch(&n->flags, NODE_IM, __ATOMIC_RELEASE);
		goto out;
	}
	if (parent && (N(&t, parent)->flags & NODE_IM) && !n->child[0] && !n->child[1]) {
		/* a leaf under an intermediate node: the sibling takes the parent's place */
		struct lpm_node *p = N(&t, parent);
		__atomic_store_n(trim2, p->child[0] == i ? p->child[1] : p->child[0], __ATOMIC_RELEASE);
		node_free(&t, parent);
		node_free(&t, i);
		goto out;
	}
	__atomic_store_n(trim, n->child[0] ? n->child[0] : n->child[1], __ATOMIC_RELEASE);
	node_free(&t, i);
out:
	emu_obj_unlock(map);
	return err;
}

static void copy_key_out(const struct trie *t, __u32 i, void *next)
{
	struct lpm_node *n = N(t, i);
	memcpy(next, &n->prefixlen, 4);
	memcpy((char *)next + 4, ndata(n), t->data_size);
}

/* The first node in post-order under root: the deepest, leftmost real node. */
static __u32 leftmost(const struct trie *t, __u32 i)
{
	__u32 found = 0;
	for (__u64 steps = 0; i && steps < t->cap; steps++) {
		struct lpm_node *n = N(t, i);
		if (n->flags & NODE_IM) {
			i = n->child[0];
		} else {
			found = i;
			i = n->child[0] ? n->child[0] : n->child[1];
		}
	}
	return found;
}

/* trie_get_next_key(): post-order; an absent or invalid key starts over */
static int trie_next_in(const struct trie *tp, const void *key, void *next)
{
	const struct trie t = *tp;
	__u32 root = __atomic_load_n(t.root, __ATOMIC_ACQUIRE), res = 0;
	__u32 *stack = NULL;
	int err = 0;

	if (!root) {
		err = -ENOENT;
		goto out;
	}
	if (!key || key_plen(key) > t.max_prefixlen) {
		res = leftmost(&t, root);
		goto out;
	}
	stack = malloc(((size_t)t.max_prefixlen + 2) * sizeof(*stack));
	if (!stack) {
		err = -ENOMEM;
		goto out;
	}
	__u32 kplen = key_plen(key), sp = 0, i;
	const __u8 *kd = key_data(key);
	for (i = root; i && sp < t.max_prefixlen + 2;) {
		struct lpm_node *n = N(&t, i);
		stack[sp++] = i;
		__u32 m = match_len(&t, n, kd, kplen);
		if (n->prefixlen != m || n->prefixlen == kplen)
			break;
		i = n->child[bit_at(kd, n->prefixlen)];
	}
	if (!i || N(&t, i)->prefixlen != kplen || (N(&t, i)->flags & NODE_IM)) {
		res = leftmost(&t, root);
		goto out;
	}
	/* climb: a right sibling subtree comes next, else the parent if real */
	for (i = stack[--sp]; sp > 0; sp--) {
		__u32 p = stack[sp - 1];
		if (N(&t, p)->child[0] == i && N(&t, p)->child[1]) {
			res = leftmost(&t, N(&t, p)->child[1]);
			goto out;
		}
		if (!(N(&t, p)->flags & NODE_IM)) {
			res = p;
			goto out;
		}
		i = p;
	}
	err = -ENOENT;
out:
	if (res)
		copy_key_out(&t, res, next);
	free(stack);
	return err;
}

static int trie_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	int err;
	if (map->rdonly) {
		__u32 seq;
		do {
			seq = emu_obj_read_begin(map);
			struct trie t = trie_of(map);
			err = trie_next_in(&t, key, next);
		} while (emu_obj_read_retry(map, seq));
		return err;
	}
	struct trie t = lock_trie(map);
	err = trie_next_in(&t, key, next);
	emu_obj_unlock(map);
	return err;
}

const struct emu_map_ops trie_map_ops = {
	.prog_lookup = trie_prog_lookup,
	.check_spec = trie_check_spec,
	.data_size = trie_data_size,
	.init = trie_init,
	.mem_usage = trie_mem_usage,
	.lookup = trie_lookup,
	.update = trie_update,
	.delete = trie_delete,
	.get_next_key = trie_get_next_key,
};
