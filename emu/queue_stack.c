/* SPDX-License-Identifier: MIT */
/*
 * emu/queue_stack.c: BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK.
 *
 * A ring of max_entries + 1 value slots (value_size bytes each, unpadded, as
 * the kernel's) with head (next push) and tail (oldest) indices in the shared
 * header; empty when head == tail. From user space: UPDATE pushes (BPF_EXIST
 * overwrites the oldest element when full, otherwise E2BIG), LOOKUP peeks,
 * LOOKUP_AND_DELETE pops (the queue's oldest, the stack's newest); keys are
 * absent (key_size 0), DELETE and GET_NEXT_KEY are EINVAL.
 *
 * Under the object's robust lock, a push writes the slot before it moves
 * head and a pop reads it before it moves tail, so a holder killed midway
 * leaves a consistent ring (at worst one value half-written, never visible).
 */
#include <errno.h>
#include <string.h>

#include "map.h"

#define QUEUE_STACK_CREATE_FLAG_MASK                                                  \
	(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
#define KMALLOC_MAX_SIZE (1u << 22)
#define KERNEL_BPF_QUEUE_STACK_SIZE 312u     /* sizeof(struct bpf_queue_stack): bytes_memlock */

enum { QS_HEAD, QS_TAIL, QS_SIZE };

/* queue_stack_map_alloc_check() */
static int qs_check_spec(const struct emu_map_spec *s)
{
	__u32 access = s->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);

	if (s->max_entries == 0 || s->key_size != 0 || s->value_size == 0 ||
	    (s->map_flags & ~QUEUE_STACK_CREATE_FLAG_MASK) || access == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return -EINVAL;
	if (s->value_size > KMALLOC_MAX_SIZE)
		return -E2BIG;
	return 0;
}

static __u64 qs_data_size(const struct emu_map_spec *s)
{
	return ((__u64)s->max_entries + 1) * s->value_size;
}

static int qs_init(struct emu_obj *map)
{
	struct emu_map_desc *d = emu_map_desc(map);
	d->type_state[QS_HEAD] = 0;
	d->type_state[QS_TAIL] = 0;
	d->type_state[QS_SIZE] = (__u64)d->max_entries + 1;
	return 0;
}

/* queue_stack_map_mem_usage() */
static __u64 qs_mem_usage(const struct emu_obj *map)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	return KERNEL_BPF_QUEUE_STACK_SIZE + ((__u64)d->max_entries + 1) * d->value_size;
}

static char *slot(struct emu_obj *map, __u64 i)
{
	return (char *)emu_obj_data(map) + i * emu_map_desc(map)->value_size;
}

/* Peek or pop: the queue's tail or the stack's top. ENOENT when empty. */
static int qs_get(struct emu_obj *map, void *value, bool stack, bool delete)
{
	__u64 *st = emu_map_desc(map)->type_state;
	__u32 vs = emu_map_desc(map)->value_size;
	int err = 0;

	if (map->rdonly && !delete) {
		/* a read-only mapping (delete is EPERM before this): peek without the lock */
		__u32 seq;
		do {
			seq = emu_obj_read_begin(map);
			__u64 head = __atomic_load_n(&st[QS_HEAD], __ATOMIC_ACQUIRE);
			__u64 tail = __atomic_load_n(&st[QS_TAIL], __ATOMIC_ACQUIRE), size = st[QS_SIZE];
			err = head == tail ? -ENOENT : 0;
			if (!err && head < size && tail < size)
				memcpy(value, slot(map, stack ? (head == 0 ? size - 1 : head - 1) : tail), vs);
		} while (emu_obj_read_retry(map, seq));
		return err;
	}
	emu_obj_lock(map);
	__u64 head = st[QS_HEAD], tail = st[QS_TAIL], size = st[QS_SIZE];
	if (head == tail) {
		err = -ENOENT;
		goto out;
	}
	if (stack) {
		__u64 top = head == 0 ? size - 1 : head - 1;
		memcpy(value, slot(map, top), vs);
		if (delete)
			__atomic_store_n(&st[QS_HEAD], top, __ATOMIC_RELEASE);
	} else {
		memcpy(value, slot(map, tail), vs);
		if (delete)
			__atomic_store_n(&st[QS_TAIL], tail + 1 >= size ? 0 : tail + 1, __ATOMIC_RELEASE);
	}
out:
	emu_obj_unlock(map);
	return err;
}

/* queue_stack_map_push_elem(): the syscall's UPDATE */
static int qs_push(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	__u64 *st = emu_map_desc(map)->type_state;
	int err = 0;
	(void)key;

	if ((flags & BPF_NOEXIST) || flags > BPF_EXIST)
		return -EINVAL;
	emu_obj_lock(map);
	__u64 head = st[QS_HEAD], tail = st[QS_TAIL], size = st[QS_SIZE];
	__u64 next = head + 1 >= size ? 0 : head + 1;
	if (next == tail) {                     /* full */
		if (!(flags & BPF_EXIST)) {
			err = -E2BIG;
			goto out;
		}
		__atomic_store_n(&st[QS_TAIL], tail + 1 >= size ? 0 : tail + 1, __ATOMIC_RELEASE);
	}
	memcpy(slot(map, head), value, emu_map_desc(map)->value_size);
	__atomic_store_n(&st[QS_HEAD], next, __ATOMIC_RELEASE);
out:
	emu_obj_unlock(map);
	return err;
}

static int queue_peek(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)key; (void)flags;
	return qs_get(map, value, false, false);
}
static int queue_pop(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)key; (void)flags;
	return qs_get(map, value, false, true);
}
static int stack_peek(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)key; (void)flags;
	return qs_get(map, value, true, false);
}
static int stack_pop(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)key; (void)flags;
	return qs_get(map, value, true, true);
}

static int qs_delete(struct emu_obj *map, const void *key)
{
	(void)map; (void)key;
	return -EINVAL;
}

static int qs_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map; (void)key; (void)next;
	return -EINVAL;
}

const struct emu_map_ops queue_map_ops = {
	.check_spec = qs_check_spec,
	.data_size = qs_data_size,
	.init = qs_init,
	.mem_usage = qs_mem_usage,
	.lookup = queue_peek,
	.update = qs_push,
	.delete = qs_delete,
	.lookup_and_delete = queue_pop,
	.get_next_key = qs_get_next_key,
};

const struct emu_map_ops stack_map_ops = {
	.check_spec = qs_check_spec,
	.data_size = qs_data_size,
	.init = qs_init,
	.mem_usage = qs_mem_usage,
	.lookup = stack_peek,
	.update = qs_push,
	.delete = qs_delete,
	.lookup_and_delete = stack_pop,
	.get_next_key = qs_get_next_key,
};
