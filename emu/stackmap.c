/* SPDX-License-Identifier: MIT */
/*
 * emu/stackmap.c: BPF_MAP_TYPE_STACK_TRACE.
 *
 * A BPF program's bpf_get_stackid() stores stacks (emu_stackmap_store, for
 * emu/vm/tracing.c: the stacks of fired events); user space looks them up,
 * deletes them and walks them, and never updates (EINVAL). The storage is
 * the kernel's: n_buckets = max_entries rounded up to a power of two, one
 * bucket per id (its jhash2 and frame count, then value_size bytes of
 * frames), the id of a stack being its jhash2 (over the frames as u32
 * words, seed 0) masked by n_buckets - 1, and at most max_entries stacks held
 * (the kernel's freelist). Creation follows stack_map_alloc(); ids past the
 * bucket count are ENOENT for lookup and E2BIG for delete, as there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "map.h"
#include "os.h"

#define STACK_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID)
#define KERNEL_STACK_MAP_SIZE 320u      /* sizeof(struct bpf_stack_map): bytes_memlock */
#define KERNEL_STACK_BUCKET_SIZE 16u    /* sizeof(struct stack_map_bucket) */
#define BUILD_ID_SIZE 32u               /* sizeof(struct bpf_stack_build_id) */

/* type_state slots */
enum { SM_COUNT };

/* a bucket: hash, nr (0: empty), then the frames */
struct bucket {
	__u32 hash, nr;
	unsigned char data[];
};

static __u32 perf_max_stack(void)
{
	static __u32 n;
	if (!n) {
		char buf[32];
		unsigned int v = 0;
		if (emu_os_read_file("/proc/sys/kernel/perf_event_max_stack", buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%u", &v) != 1 || !v)
			v = 127;
		n = v;
	}
	return n;
}

static __u64 n_buckets(__u32 max)
{
	__u64 n = 1;
	while (n < max)
		n <<= 1;
	return n;
}

static int stack_check_spec(const struct emu_map_spec *s)
{
	__u32 elem = s->map_flags & BPF_F_STACK_BUILD_ID ? BUILD_ID_SIZE : 8;
	if (s->map_flags & ~(__u32)STACK_CREATE_FLAG_MASK)
		return -EINVAL;
	if (s->max_entries == 0 || s->key_size != 4 || s->value_size < 8 || s->value_size % 8)
		return -EINVAL;
	if (s->value_size % elem || s->value_size / elem > perf_max_stack())
		return -EINVAL;
	if (n_buckets(s->max_entries) > 0x80000000ull)
		return -E2BIG;
	return 0;
}

static __u64 bucket_size(__u32 value_size)
{
	return sizeof(struct bucket) + round_up8(value_size);
}

static __u64 stack_data_size(const struct emu_map_spec *s)
{
	return n_buckets(s->max_entries) * bucket_size(s->value_size);
}

/* buckets are backed as stacks fill them (a read of an untouched one reads zeros: empty) */
static __u64 stack_reserve_size(const struct emu_map_spec *s)
{
	(void)s;
	return 0;
}

static struct bucket *bucket_at(struct emu_obj *map, __u32 id)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return (struct bucket *)((char *)emu_obj_data(map) + (__u64)id * bucket_size(d->value_size));
}

static bool build_id_map(const struct emu_obj *map)
{
	return emu_map_desc(map)->map_flags & BPF_F_STACK_BUILD_ID;
}

static __u64 stack_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return KERNEL_STACK_MAP_SIZE + 8 * n_buckets(d->max_entries) +
	       (__u64)d->max_entries * (KERNEL_STACK_BUCKET_SIZE + d->value_size);
}

/* bpf_stackmap_copy(): the frames, the rest of the value zero */
static int stack_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)flags;
	const struct emu_map_desc *d = emu_map_desc(map);
	__u32 id, vs = d->value_size;
	memcpy(&id, key, 4);
	if (id >= n_buckets(d->max_entries))
		return -ENOENT;
	struct bucket *b = bucket_at(map, id);
	int err = 0;
	if (map->rdonly) {
		__u32 seq;
		do {
			seq = emu_obj_read_begin(map);
			__u32 nr = __atomic_load_n(&b->nr, __ATOMIC_ACQUIRE);
			err = nr ? 0 : -ENOENT;
			if (nr) {
				__u32 len = nr * (build_id_map(map) ? BUILD_ID_SIZE : 8);
				memcpy(value, b->data, len);
				memset((char *)value + len, 0, vs - len);
			}
		} while (emu_obj_read_retry(map, seq));
		return err;
	}
	emu_obj_lock(map);
	if (!b->nr) {
		err = -ENOENT;
	} else {
		__u32 len = b->nr * (build_id_map(map) ? BUILD_ID_SIZE : 8);
		memcpy(value, b->data, len);
		memset((char *)value + len, 0, vs - len);
	}
	emu_obj_unlock(map);
	return err;
}

static int stack_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;               /* stack_map_update_elem */
}

static int stack_delete(struct emu_obj *map, const void *key)
{
	__u32 id;
	__builtin_memcpy(&id, key, 4);
	struct emu_map_desc *d = emu_map_desc(map);
	if (id >= n_buckets(d->max_entries))
		return -E2BIG;
	struct bucket *b = bucket_at(map, id);
	int err = -ENOENT;
	emu_obj_lock(map);
	if (b->nr) {
		__atomic_store_n(&b->nr, 0, __ATOMIC_RELEASE);
		b->hash = 0;
		d->type_state[SM_COUNT]--;
		err = 0;
	}
	emu_obj_unlock(map);
	return err;
}

static int stack_lookup_and_delete(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -ENOENT;
}

/* stack_map_get_next_key(): the next id holding a stack; an id past the
 * buckets or empty starts from the first */
static int stack_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	__u32 nb = (__u32)n_buckets(emu_map_desc(map)->max_entries), id = 0;
	if (key) {
		memcpy(&id, key, 4);
		if (id >= nb || !__atomic_load_n(&bucket_at(map, id)->nr, __ATOMIC_ACQUIRE))
			id = 0;
		else
			id++;
	}
	while (id < nb && !__atomic_load_n(&bucket_at(map, id)->nr, __ATOMIC_ACQUIRE))
		id++;
	if (id >= nb)
		return -ENOENT;
	memcpy(next, &id, 4);
	return 0;
}

/* ---- bpf_get_stackid(): storing a stack ---- */

static __u32 rol32(__u32 w, unsigned s)
{
	return (w << s) | (w >> (32 - s));
}

/* Bob Jenkins' lookup3 over u32 words, as the kernel's jhash2() */
static __u32 jhash2(const __u32 *k, __u32 len, __u32 initval)
{
	__u32 a, b, c;
	a = b = c = 0xdeadbeef + (len << 2) + initval;
	while (len > 3) {
		a += k[0];
		b += k[1];
		c += k[2];
		a -= c; a ^= rol32(c, 4); c += b;
		b -= a; b ^= rol32(a, 6); a += c;
		c -= b; c ^= rol32(b, 8); b += a;
		a -= c; a ^= rol32(c, 16); c += b;
		b -= a; b ^= rol32(a, 19); a += c;
		c -= b; c ^= rol32(b, 4); b += a;
		len -= 3;
		k += 3;
	}
	switch (len) {
	case 3: c += k[2]; __attribute__((fallthrough));
	case 2: b += k[1]; __attribute__((fallthrough));
	case 1:
		a += k[0];
		c ^= b; c -= rol32(b, 14);
		a ^= c; a -= rol32(c, 11);
		b ^= a; b -= rol32(a, 25);
		c ^= b; c -= rol32(b, 16);
		a ^= c; a -= rol32(c, 4);
		b ^= a; b -= rol32(a, 14);
		c ^= b; c -= rol32(b, 24);
		break;
	default:
		break;
	}
	return c;
}

int emu_stackmap_store(struct emu_obj *map, const __u64 *ips, __u32 nr, __u64 flags)
{
	struct emu_map_desc *d = emu_map_desc(map);
	if (d->map_type != BPF_MAP_TYPE_STACK_TRACE || map->rdonly)
		return -EINVAL;
	bool bid = build_id_map(map);
	__u32 elem = bid ? BUILD_ID_SIZE : 8, max_depth = d->value_size / elem;
	if (nr > max_depth)
		nr = max_depth;
	if (!nr)
		return -EFAULT;
	__u32 hash = jhash2((const __u32 *)ips, nr * 2, 0);
	__u32 id = hash & ((__u32)n_buckets(d->max_entries) - 1);
	struct bucket *b = bucket_at(map, id);
	int ret = (int)id;
	emu_obj_lock(map);
	bool match = b->nr && b->hash == hash;
	if (match && (flags & BPF_F_FAST_STACK_CMP))
		goto out;
	if (match && !bid && b->nr == nr && !memcmp(b->data, ips, 8ull * nr))
		goto out;
	if (match && bid && b->nr == nr) {
		bool same = true;
		for (__u32 i = 0; i < nr && same; i++) {
			struct bpf_stack_build_id e;
			memcpy(&e, b->data + (size_t)i * BUILD_ID_SIZE, sizeof(e));
			same = e.ip == ips[i];
		}
		if (same)
			goto out;
	}
	if (b->nr && !(flags & BPF_F_REUSE_STACKID)) {
		ret = -EEXIST;
		goto out;
	}
	if (!b->nr && d->type_state[SM_COUNT] >= d->max_entries) {
		ret = -ENOMEM;                 /* the kernel's freelist is empty */
		goto out;
	}
	if (emu_obj_populate(map, (__u64)((char *)b - (char *)emu_obj_data(map)), bucket_size(d->value_size))) {
		ret = -ENOMEM;
		goto out;
	}
	if (!b->nr)
		d->type_state[SM_COUNT]++;
	__atomic_store_n(&b->nr, 0, __ATOMIC_RELEASE);
	if (bid) {
		/* no build id is known here: each frame by its address */
		for (__u32 i = 0; i < nr; i++) {
			struct bpf_stack_build_id e;
			memset(&e, 0, sizeof(e));
			e.status = BPF_STACK_BUILD_ID_IP;
			e.ip = ips[i];
			memcpy(b->data + (size_t)i * BUILD_ID_SIZE, &e, sizeof(e));
		}
	} else {
		memcpy(b->data, ips, 8ull * nr);
	}
	b->hash = hash;
	__atomic_store_n(&b->nr, nr, __ATOMIC_RELEASE);
out:
	emu_obj_unlock(map);
	return ret;
}

const struct emu_map_ops stack_trace_map_ops = {
	.check_spec = stack_check_spec,
	.data_size = stack_data_size,
	.reserve_size = stack_reserve_size,
	.mem_usage = stack_mem_usage,
	.lookup = stack_lookup,
	.update = stack_update,
	.delete = stack_delete,
	.lookup_and_delete = stack_lookup_and_delete,
	.get_next_key = stack_get_next_key,
};
