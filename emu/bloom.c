/* SPDX-License-Identifier: MIT */
/*
 * emu/bloom.c: BPF_MAP_TYPE_BLOOM_FILTER.
 *
 * A bit array sized as the kernel sizes it (max_entries * nr_hashes * 7 / 5
 * bits, at least 64, rounded up to a power of two; 2^32 bits when that
 * overflows), nr_hashes from the low 4 bits of map_extra (0 means 5). From
 * user space: UPDATE with no key pushes a value (sets its k bits), LOOKUP with
 * no key peeks (0 if all k bits are set, else ENOENT; the value is input and
 * nothing is copied out, sys.c sees to that). Nothing is ever removed, so
 * there are no false negatives; the false-positive rate is the textbook one
 * for m bits and k independent hashes. Bits are set with atomic ORs, so no
 * lock is needed and a killed writer leaves nothing half-done.
 */
#include <errno.h>
#include <string.h>

#include "map.h"
#include "os.h"

#define BLOOM_CREATE_FLAG_MASK                                                                    \
	(BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG |    \
	 BPF_F_WRONLY_PROG)
#define KMALLOC_MAX_SIZE (1u << 22)
#define KERNEL_BPF_BLOOM_SIZE 312u     /* sizeof(struct bpf_bloom_filter): bytes_memlock */

enum { BL_MASK, BL_SEED, BL_NHASH };

/* bloom_map_alloc_check(), then the checks of bloom_map_alloc() */
static int bloom_check_spec(const struct emu_map_spec *s)
{
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);

	if (s->value_size > KMALLOC_MAX_SIZE)
		return -E2BIG;
	if (s->key_size != 0 || s->value_size == 0 || s->max_entries == 0 ||
	    (s->map_flags & ~BLOOM_CREATE_FLAG_MASK) || access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) ||
	    (s->map_extra & ~0xfull))
		return -EINVAL;
	return 0;
}

static __u32 nr_hashes(__u64 map_extra) { return map_extra ? (__u32)map_extra : 5; }

/* number of bits - 1 (the index mask), as bloom_map_alloc() computes it */
static __u32 bitset_mask(__u32 max_entries, __u32 nhash)
{
	__u64 bits = (__u64)max_entries * nhash;
	if (bits > 0xffffffffull)
		return 0xffffffffu;
	bits = bits / 5 * 7;
	if (bits > 0xffffffffull || bits > (1ull << 31))
		return 0xffffffffu;
	if (bits <= 64)
		return 63;
	__u64 p = 1;
	while (p < bits)
		p <<= 1;
	return (__u32)(p - 1);
}

static __u64 bitset_bytes(__u32 mask)
{
	return round_up8(((__u64)mask + 1 + 7) / 8);
}

static __u64 bloom_data_size(const struct emu_map_spec *s)
{
	return bitset_bytes(bitset_mask(s->max_entries, nr_hashes(s->map_extra)));
}

static int bloom_init(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	__u32 seed = 0;
	if (!(d->map_flags & BPF_F_ZERO_SEED) && emu_os_random(&seed, sizeof(seed)))
		seed = (__u32)(emu_ktime_boot_ns() * 0x9e3779b97f4a7c15ull >> 32);
	d->type_state[BL_NHASH] = nr_hashes(d->map_extra);
	d->type_state[BL_MASK] = bitset_mask(d->max_entries, (__u32)d->type_state[BL_NHASH]);
	d->type_state[BL_SEED] = seed;
	return 0;
}

/* bloom_map_mem_usage() */
static __u64 bloom_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return KERNEL_BPF_BLOOM_SIZE + bitset_bytes((__u32)d->type_state[BL_MASK]);
}

/* Our own seeded 64-bit mix over the value bytes (the kernel uses jhash). */
static __u64 bloom_hash(const void *value, __u32 len, __u64 seed)
{
	const unsigned char *p = value;
	__u64 h = (seed + 1) * 0x9e3779b97f4a7c15ull ^ len;
	while (len >= 8) {
		__u64 w;
		memcpy(&w, p, 8);
		h = (h ^ (w * 0xbf58476d1ce4e5b9ull)) * 0x94d049bb133111ebull;
		h ^= h >> 31;
		p += 8;
		len -= 8;
	}
	__u64 w = emu_load_tail(p, len);
	h = (h ^ (w * 0xbf58476d1ce4e5b9ull) ^ len) * 0x94d049bb133111ebull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static __u64 bit_of(const struct emu_map_desc *d, const void *value, __u32 i)
{
	return bloom_hash(value, d->value_size, d->type_state[BL_SEED] + i) & d->type_state[BL_MASK];
}

/* bloom_map_peek_elem(): LOOKUP */
static int bloom_peek(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	const __u64 *bits = emu_obj_data(map);
	(void)key; (void)flags;
	for (__u32 i = 0; i < d->type_state[BL_NHASH]; i++) {
		__u64 b = bit_of(d, value, i);
		if (!(__atomic_load_n(&bits[b / 64], __ATOMIC_RELAXED) & (1ull << (b % 64))))
			return -ENOENT;
	}
	return 0;
}

/* bloom_map_push_elem(): UPDATE */
static int bloom_push(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u64 *bits = emu_obj_data(map);
	(void)key;
	if (flags != BPF_ANY)
		return -EINVAL;
	for (__u32 i = 0; i < d->type_state[BL_NHASH]; i++) {
		__u64 b = bit_of(d, value, i);
		__atomic_fetch_or(&bits[b / 64], 1ull << (b % 64), __ATOMIC_RELAXED);
	}
	return 0;
}

static int bloom_delete(struct emu_obj *map, const void *key)
{
	(void)map; (void)key;
	return -EOPNOTSUPP;
}

static int bloom_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map; (void)key; (void)next;
	return -EOPNOTSUPP;
}

const struct emu_map_ops bloom_filter_map_ops = {
	.check_spec = bloom_check_spec,
	.data_size = bloom_data_size,
	.init = bloom_init,
	.mem_usage = bloom_mem_usage,
	.lookup = bloom_peek,
	.update = bloom_push,
	.delete = bloom_delete,
	.get_next_key = bloom_get_next_key,
};
