/* SPDX-License-Identifier: MIT */
/*
 * emu/arraymap.c: BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
 *
 * Storage: max_entries values of round_up(value_size, 8) bytes from the start
 * of the (page-aligned) data area, so a BPF_F_MMAPABLE array's mmap of the map
 * fd maps exactly the values, like the kernel's. Lookups copy without a lock,
 * as in the kernel (a concurrent reader may see a value mid-copy; BPF_F_LOCK
 * needs a bpf_spin_lock in the value).
 *
 * No update is ever left half done, even by a writer killed with SIGKILL (the
 * kernel finishes every update it starts): a user value of up to 8 bytes is
 * written with one aligned store, one of up to 64 bytes with one masked
 * store where the CPU has it (store_one); a larger one goes through a redo
 * journal (struct array_journal, on the page after the values, outside what
 * mmap can reach) under the object lock, and whoever next takes that lock,
 * or a reader that finds its element's update abandoned, replays it.
 *
 * PERCPU_ARRAY stores, per index, one round_up(value_size, 8) slot per
 * possible CPU, contiguous, which is exactly what user space reads and writes.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "map.h"

#define ARRAY_CREATE_FLAG_MASK                                                               \
	(BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG |   \
	 BPF_F_WRONLY_PROG | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)
#define KERNEL_BPF_ARRAY_SIZE 312u     /* sizeof(struct bpf_array): bytes_memlock */

#define PCPU_MIN_UNIT_SIZE (32u << 10)

static bool is_percpu(__u32 map_type) { return map_type == BPF_MAP_TYPE_PERCPU_ARRAY; }
/* bytes of one index: one rounded value, per CPU for per-CPU arrays */
static __u32 elem_size(const struct emu_map_desc *d)
{
	return (__u32)round_up8(d->value_size) * (is_percpu(d->map_type) ? emu_possible_cpus() : 1);
}
/* what user space passes as one value: value_size, or every CPU's slot */
static __u32 user_bytes(const struct emu_map_desc *d)
{
	return is_percpu(d->map_type) ? elem_size(d) : d->value_size;
}

/* With Spectre v1 mitigations the kernel sizes arrays to a power of two. */
static __u64 kernel_entries(__u32 max_entries)
{
	__u64 p = 1;
	while (p < max_entries)
		p <<= 1;
	return p;
}

static int array_check_spec(const struct emu_map_spec *s)
{
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
	bool percpu = is_percpu(s->map_type);
	bool numa = (s->map_flags & BPF_F_NUMA_NODE) && s->numa_node != 0xffffffffu;

	if (s->max_entries == 0 || s->key_size != 4 || s->value_size == 0 ||
	    (s->map_flags & ~ARRAY_CREATE_FLAG_MASK) || access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) ||
	    (percpu && numa))
		return -EINVAL;
	if (s->map_type != BPF_MAP_TYPE_ARRAY && (s->map_flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)))
		return -EINVAL;
	if (s->map_flags & BPF_F_PRESERVE_ELEMS)     /* perf event arrays only */
		return -EINVAL;
	if (s->value_size > INT_MAX)
		return -E2BIG;
	if (percpu && round_up8(s->value_size) > PCPU_MIN_UNIT_SIZE)
		return -E2BIG;
	if (kernel_entries(s->max_entries) > 0x80000000ull)
		return -E2BIG;
	return 0;
}

/*
 * The redo journal of an array whose user values are larger than 8 bytes.
 * A writer holding the object lock copies {index, new value} here, marks the
 * entry valid with one aligned store of state, copies the value into place
 * and clears state. A valid entry found by the next holder of the lock was
 * left by a holder that died (a live one always clears it before unlocking):
 * the copy is replayed, which is idempotent.
 */
struct array_journal {
	__u64 state;                   /* 0: empty; (index << 1) | 1: value is index's new value */
	__u64 pad;
	unsigned char value[];         /* one user value, as it goes into place */
};
#define JOURNAL_VALID(index) (((__u64)(index) << 1) | 1)

/* the values, then the journal on its own page(s) when values need one */
static __u64 array_data_size(const struct emu_map_spec *s)
{
	__u64 per = round_up8(s->value_size) * (is_percpu(s->map_type) ? emu_possible_cpus() : 1);
	__u64 user = is_percpu(s->map_type) ? per : s->value_size;
	__u64 journal = user > 8 ? page_align(sizeof(struct array_journal) + user) : 0;
	return page_align((__u64)s->max_entries * per) + journal;
}

static __u64 array_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (is_percpu(d->map_type))   /* the value pointers, then every CPU's values */
		return KERNEL_BPF_ARRAY_SIZE + (__u64)d->max_entries * 8 + (__u64)d->max_entries * elem_size(d);
	__u64 bytes = kernel_entries(d->max_entries) * elem_size(d);
	if (d->map_flags & BPF_F_MMAPABLE)
		return page_align(KERNEL_BPF_ARRAY_SIZE) + page_align(bytes);
	return KERNEL_BPF_ARRAY_SIZE + bytes;
}

static inline char *value_at(struct emu_obj *map, __u32 index)
{
	return (char *)emu_obj_data(map) + (size_t)index * elem_size(emu_map_desc(map));
}

/* The bytes of the values: what a BPF_F_MMAPABLE array's mmap covers. */
static __u64 values_bytes(__u32 max_entries, __u32 elem)
{
	return page_align((__u64)max_entries * elem);
}

static bool journaled(const struct emu_map_desc *d) { return user_bytes(d) > 8; }

static struct array_journal *journal_of(struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return (struct array_journal *)((char *)emu_obj_data(map) + values_bytes(d->max_entries, elem_size(d)));
}

/* Copy a value into place; the value's bpf_spin_lock is not the caller's to write. */
static void copy_into_place(const struct emu_map_desc *d, char *dst, const unsigned char *src)
{
	__u32 n = user_bytes(d);
	if (d->spin_lock_off < 0) {
		memcpy(dst, src, n);
		return;
	}
	memcpy(dst, src, (size_t)d->spin_lock_off);
	memcpy(dst + d->spin_lock_off + 4, src + d->spin_lock_off + 4, n - (size_t)d->spin_lock_off - 4);
}

/* Replay what a dead holder of the lock left in the journal (lock held). */
static void journal_redo(struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!journaled(d))
		return;
	struct array_journal *j = journal_of(map);
	__u64 state = __atomic_load_n(&j->state, __ATOMIC_ACQUIRE);
	if (!state)
		return;
	if ((state >> 1) < d->max_entries)
		copy_into_place(d, value_at(map, (__u32)(state >> 1)), j->value);
	__atomic_store_n(&j->state, 0, __ATOMIC_RELEASE);
}

/* Take the object lock with the journal replayed. */
static void array_lock(struct emu_obj *map)
{
	emu_obj_lock(map);     /* a dead holder's entry is still valid: no need for its flag */
	journal_redo(map);
}

/* Has index's update been abandoned by a writer that died holding the lock? */
static bool abandoned(struct emu_obj *map, __u32 index)
{
	if (!journaled(emu_map_desc(map)))
		return false;
	return __atomic_load_n(&journal_of(map)->state, __ATOMIC_ACQUIRE) == JOURNAL_VALID(index) &&
	       !emu_obj_holder_alive(map);
}

/* Write a value of more than 8 bytes: journal, mark, copy, clear (lock held). */
static void journaled_write(struct emu_obj *map, __u32 index, const void *value)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	struct array_journal *j = journal_of(map);
	char *dst = value_at(map, index);

	memcpy(j->value, value, user_bytes(d));
	/* the mark is stored after the entry and before the first byte goes into
	 * place, in program order: a kill between any two stores leaves either
	 * the old value and no mark, or a complete entry. Program order is all a
	 * kill needs: a killed thread's stores that executed all reach memory
	 * before its robust lock is marked dead, so only the compiler must keep
	 * them in order (a signal fence); no other thread reads the journal
	 * without the lock but a reader that finds its holder dead. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&j->state, JOURNAL_VALID(index), __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	copy_into_place(d, dst, value);
	__atomic_store_n(&j->state, 0, __ATOMIC_RELEASE);
}

/*
 * A user value of up to 8 bytes (an element slot is 8-byte aligned and at
 * least 8 bytes long) is written with one aligned store and read with one
 * aligned load, so neither a kill nor a concurrent reader ever sees it torn.
 * Sizes other than 1, 2, 4 and 8 merge into the slot's 8-byte word (the rest
 * of the word is padding); so does a value holding a bpf_spin_lock, whose
 * lock bytes are kept.
 */
static void store_small(const struct emu_map_desc *d, void *dst, const void *src)
{
	__u32 n = user_bytes(d);
	if (d->spin_lock_off < 0) {
		switch (n) {
		case 1: __atomic_store_n((__u8 *)dst, *(const __u8 *)src, __ATOMIC_RELAXED); return;
		case 2: { __u16 v; memcpy(&v, src, 2); __atomic_store_n((__u16 *)dst, v, __ATOMIC_RELAXED); return; }
		case 4: { __u32 v; memcpy(&v, src, 4); __atomic_store_n((__u32 *)dst, v, __ATOMIC_RELAXED); return; }
		default: break;
		}
	}
	__u64 w = __atomic_load_n((__u64 *)dst, __ATOMIC_RELAXED);
	unsigned char *b = (unsigned char *)&w;
	if (d->spin_lock_off < 0) {
		memcpy(b, src, n);
	} else {
		memcpy(b, src, (size_t)d->spin_lock_off);
		memcpy(b + d->spin_lock_off + 4, (const char *)src + d->spin_lock_off + 4,
		       n - (size_t)d->spin_lock_off - 4);
	}
	__atomic_store_n((__u64 *)dst, w, __ATOMIC_RELAXED);
}

/*
 * A larger value that one store instruction can write whole needs no journal
 * either: a kill lands between two instructions, and the stores of every
 * instruction that retired reach memory, so a value written by one is
 * either all there or not at all, as one aligned 8-byte store is. On x86-64
 * with AVX-512BW that is a value of up to 64 bytes, written by one masked
 * store (vmovdqu8 under a mask of its bytes: nothing past the value is
 * touched, and the masked load reads nothing past the source). zmm16 keeps
 * the AVX registers below 16 clean (no vzeroupper needed). 0 where no such
 * store exists: the journal then writes every value over 8 bytes.
 */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx512bw"))) static void store_one(void *dst, const void *src, __u32 n)
{
	__u64 mask = n >= 64 ? ~(__u64)0 : ((__u64)1 << n) - 1;
	__asm__ volatile("kmovq %2, %%k1\n\t"
			 "vmovdqu8 (%1), %%zmm16%{%%k1%}%{z%}\n\t"
			 "vmovdqu8 %%zmm16, (%0)%{%%k1%}"
			 :
			 : "r"(dst), "r"(src), "r"(mask)
			 : "k1", "xmm16", "memory");
}

static __u32 one_store_max(void)
{
	static int max = -1;
	int m = __atomic_load_n(&max, __ATOMIC_RELAXED);
	if (m < 0) {
		__builtin_cpu_init();
		m = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? 64 : 0;
		__atomic_store_n(&max, m, __ATOMIC_RELAXED);
	}
	return (__u32)m;
}
#else
static void store_one(void *dst, const void *src, __u32 n)
{
	(void)dst;
	(void)src;
	(void)n;
}
static __u32 one_store_max(void) { return 0; }
#endif

static void load_small(void *dst, const void *src, __u32 n)
{
	switch (n) {
	case 1: *(__u8 *)dst = __atomic_load_n((const __u8 *)src, __ATOMIC_RELAXED); return;
	case 2: { __u16 v = __atomic_load_n((const __u16 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 2); return; }
	case 4: { __u32 v = __atomic_load_n((const __u32 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 4); return; }
	default: { __u64 v = __atomic_load_n((const __u64 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, n); return; }
	}
}

static int array_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u32 index, n = user_bytes(d);

	memcpy(&index, key, 4);
	if (index >= d->max_entries)
		return -ENOENT;
	if (!(flags & BPF_F_LOCK) && n <= 8) {
		load_small(value, value_at(map, index), n);
		return 0;
	}
	/* BPF_F_LOCK: the value's bpf_spin_lock is taken as the object lock
	 * (only user space touches these maps, and every locked copy takes it).
	 * A read-only mapping cannot take the lock, nor replay the journal:
	 * copy (an abandoned update from the journal) until no locked writer
	 * overlapped the copy */
	if (map->rdonly && ((flags & BPF_F_LOCK) || abandoned(map, index))) {
		__u32 seq;
		do {
			seq = emu_obj_read_begin(map);
			memcpy(value, abandoned(map, index) ? journal_of(map)->value : (unsigned char *)value_at(map, index), n);
		} while (emu_obj_read_retry(map, seq));
		return 0;
	}
	if (flags & BPF_F_LOCK) {
		array_lock(map);
		memcpy(value, value_at(map, index), n);
		emu_obj_unlock(map);
		return 0;
	}
	if (abandoned(map, index)) {      /* finish the dead writer's update first */
		array_lock(map);
		emu_obj_unlock(map);
	}
	memcpy(value, value_at(map, index), n);
	return 0;
}

static int array_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u32 index;

	memcpy(&index, key, 4);
	if ((flags & ~(__u64)BPF_F_LOCK) > BPF_EXIST)
		return -EINVAL;
	if (index >= d->max_entries)
		return -E2BIG;
	if (flags & BPF_NOEXIST)
		return -EEXIST;
	if (!journaled(d)) {
		if (flags & BPF_F_LOCK)
			emu_obj_lock(map);
		store_small(d, value_at(map, index), value);
		if (flags & BPF_F_LOCK)
			emu_obj_unlock(map);
		return 0;
	}
	/* one store (see store_one), when no update is left in the journal: a
	 * dead writer's is replayed under the lock first, so that it lands
	 * before this one, as the kernel would have finished it before */
	__u32 n = user_bytes(d);
	if (!(flags & BPF_F_LOCK) && d->spin_lock_off < 0 && n <= one_store_max() &&
	    !__atomic_load_n(&journal_of(map)->state, __ATOMIC_ACQUIRE)) {
		store_one(value_at(map, index), value, n);
		return 0;
	}
	/* with or without BPF_F_LOCK: holding the lock for a plain update as
	 * well only orders it against locked copies, which the kernel may do too */
	array_lock(map);
	journaled_write(map, index, value);
	emu_obj_unlock(map);
	return 0;
}

/*
 * MAP_LOOKUP_BATCH: what emu_generic_map_lookup_batch does through
 * get_next_key and lookup element by element (the kernel's
 * generic_map_lookup_batch), a chunk at a time: indices from the one after
 * in_batch (an index past the end starts over at 0, as get_next_key does),
 * keys made here, values read as array_lookup reads them (values of up to 8
 * bytes with one load each; larger ones copied out in place when they lie
 * back to back, as they do when value_size is a multiple of 8). BPF_F_LOCK,
 * an update a dead writer left in the journal, and larger values with
 * padding between them go the generic way.
 */
#define ARRAY_BATCH_CHUNK 512u
static int array_lookup_batch(struct emu_obj *map, const struct emu_map_batch *b)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u32 n = user_bytes(d), es = elem_size(d), max = d->max_entries;

	if (b->elem_flags || (n > 8 && n != es) ||
	    (journaled(d) && __atomic_load_n(&journal_of(map)->state, __ATOMIC_ACQUIRE)))
		return emu_generic_map_lookup_batch(map, b);
	if (!b->count)
		return 0;
	__u32 start = 0, zero = 0;
	if (emu_copy_to_user(b->ucount, &zero, sizeof(zero)))
		return -EFAULT;
	if (b->in_batch) {
		__u32 prev;
		if (emu_copy_from_user(&prev, b->in_batch, sizeof(prev)))
			return -EFAULT;
		if (prev < max) {
			if (prev == max - 1)
				return -ENOENT;       /* nothing after the last index; out_batch untouched */
			start = prev + 1;
		}
	}
	__u32 avail = max - start, take = b->count < avail ? b->count : avail;
	__u32 kbuf[ARRAY_BATCH_CHUNK];
	__u64 vbuf[ARRAY_BATCH_CHUNK];
	for (__u32 done = 0, c; done < take; done += c) {
		c = take - done < ARRAY_BATCH_CHUNK ? take - done : ARRAY_BATCH_CHUNK;
		__u32 first = start + done;
		for (__u32 i = 0; i < c; i++)
			kbuf[i] = first + i;
		if (emu_copy_to_user(UPTR_ADD(b->keys, (size_t)done * 4), kbuf, (size_t)c * 4))
			return -EFAULT;
		const void *src = value_at(map, first);
		if (n <= 8) {
			for (__u32 i = 0; i < c; i++)
				load_small((char *)vbuf + (size_t)i * n, value_at(map, first + i), n);
			src = vbuf;
		}
		if (emu_copy_to_user(UPTR_ADD(b->values, (size_t)done * n), src, (size_t)c * n))
			return -EFAULT;
	}
	if (emu_copy_to_user(b->ucount, &take, sizeof(take)))
		return -EFAULT;
	if (take) {
		__u32 last = start + take - 1;
		if (emu_copy_to_user(b->out_batch, &last, sizeof(last)))
			return -EFAULT;
	}
	return b->count > avail ? -ENOENT : 0;
}

/* ---- from BPF programs (emu/vm) ---- */

/* bpf_map_lookup_elem(): the value in place; per-CPU: the CPU's slot */
static void *array_prog_lookup(struct emu_obj *map, const void *key, unsigned int cpu)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	__u32 index;
	memcpy(&index, key, 4);
	if (index >= d->max_entries)
		return NULL;
	char *v = value_at(map, index);
	return is_percpu(d->map_type) ? v + (size_t)cpu * round_up8(d->value_size) : v;
}

/* bpf_map_update_elem() from a program: one value; per-CPU: the CPU's slot only */
static int array_prog_update(struct emu_obj *map, const void *key, const void *value, __u64 flags, unsigned int cpu)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!is_percpu(d->map_type))
		return array_update(map, key, value, flags);
	__u32 index;
	memcpy(&index, key, 4);
	if ((flags & ~(__u64)BPF_F_LOCK) > BPF_EXIST)
		return -EINVAL;
	if (index >= d->max_entries)
		return -E2BIG;
	if (flags & BPF_NOEXIST)
		return -EEXIST;
	memcpy(value_at(map, index) + (size_t)cpu * round_up8(d->value_size), value, d->value_size);
	return 0;
}

/* bpf_spin_lock: the object lock, which BPF_F_LOCK takes (and the journal's) */
static int array_prog_value_lock(struct emu_obj *map, void *value, bool lock)
{
	(void)value;
	if (lock)
		array_lock(map);
	else
		emu_obj_unlock(map);
	return 0;
}

static int array_delete(struct emu_obj *map, const void *key)
{
	(void)map;
	(void)key;
	return -EINVAL;
}

static int array_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	return emu_array_next_key(emu_map_desc(map)->max_entries, key, next);
}

static __u32 percpu_array_user_value_size(const struct emu_obj *map)
{
	return user_bytes(emu_map_desc(map));
}

static int array_mmap_check(const struct emu_obj *map, size_t len, off_t off)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!(d->map_flags & BPF_F_MMAPABLE))
		return -EINVAL;
	if ((__u64)off + len > values_bytes(d->max_entries, elem_size(d)))     /* never the journal */
		return -EINVAL;
	return 0;
}

const struct emu_map_ops array_map_ops = {
	.check_spec = array_check_spec,
	.data_size = array_data_size,
	.mem_usage = array_mem_usage,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.get_next_key = array_get_next_key,
	.mmap_check = array_mmap_check,
	.lookup_batch = array_lookup_batch,
	.update_batch = emu_generic_map_update_batch,
	.prog_lookup = array_prog_lookup,
	.prog_update = array_prog_update,
	.prog_value_lock = array_prog_value_lock,
};

/* no mmap: the kernel's percpu_array_map_ops has no map_mmap (ENOTSUPP) */
const struct emu_map_ops percpu_array_map_ops = {
	.check_spec = array_check_spec,
	.data_size = array_data_size,
	.mem_usage = array_mem_usage,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.get_next_key = array_get_next_key,
	.user_value_size = percpu_array_user_value_size,
	.lookup_batch = array_lookup_batch,
	.update_batch = emu_generic_map_update_batch,
	.prog_lookup = array_prog_lookup,
	.prog_update = array_prog_update,
};
