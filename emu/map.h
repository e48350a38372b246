/* SPDX-License-Identifier: MIT */
/* emu/map.h: the generic map object and the per-family ops table. */
#ifndef BPFEMU_MAP_H
#define BPFEMU_MAP_H

#include <errno.h>
#include <string.h>

#include "obj.h"

/* What sys.c decodes from BPF_MAP_CREATE's attr; families never see union bpf_attr. */
struct emu_map_spec {
	__u32 map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 inner_map_fd;
	__u32 numa_node;
	__u32 ifindex;
	__u32 btf_fd;
	__u32 btf_key_type_id;
	__u32 btf_value_type_id;
	__u32 btf_vmlinux_value_type_id;
	__u64 map_extra;
	char name[EMU_OBJ_NAME_LEN];
};

/* A batch command as sys.c decoded it (families never see union bpf_attr).
 * Pointers are the caller's; ucount is the address of attr->batch.count in
 * the caller's attr, where the number of elements done is written back. */
struct emu_map_batch {
	void *in_batch, *out_batch, *keys, *values;
	void *ucount;
	__u32 count;
	__u64 elem_flags, flags;
};

struct emu_map_ops {
	/* creation: a pure check of the spec, the storage size, then init of the storage */
	int (*check_spec)(const struct emu_map_spec *spec);                 /* optional */
	__u64 (*data_size)(const struct emu_map_spec *spec);
	/* bytes of data backed by memory at create (optional: all of it); a
	 * family that reserves less populates the rest as it fills */
	__u64 (*reserve_size)(const struct emu_map_spec *spec);
	int (*init)(struct emu_obj *map);                                   /* optional */
	int (*init_spec)(struct emu_obj *map, const struct emu_map_spec *spec); /* optional: init that needs the spec */
	__u64 (*mem_usage)(const struct emu_obj *map);                      /* bytes_memlock */

	/* element operations, callable from user space; the caller copied key and value in */
	int (*lookup)(struct emu_obj *map, const void *key, void *value, __u64 flags);   /* copies out */
	int (*update)(struct emu_obj *map, const void *key, const void *value, __u64 flags);
	int (*delete)(struct emu_obj *map, const void *key);
	int (*lookup_and_delete)(struct emu_obj *map, const void *key, void *value, __u64 flags); /* optional: -ENOTSUPP */
	int (*get_next_key)(struct emu_obj *map, const void *key, void *next);    /* key NULL = first */

	/* bytes user space passes as a value (bpf_map_value_size): optional,
	 * value_size when NULL; per-CPU maps: round_up(value_size, 8) * possible CPUs */
	__u32 (*user_value_size)(const struct emu_obj *map);

	/* batch commands (optional: NULL is -ENOTSUPP, as the kernel); the generic
	 * helpers below implement them through the element ops, like the kernel's
	 * generic_map_*_batch; a family may do better (hashtab: bucket by bucket) */
	int (*lookup_batch)(struct emu_obj *map, const struct emu_map_batch *b);
	int (*lookup_and_delete_batch)(struct emu_obj *map, const struct emu_map_batch *b);
	int (*update_batch)(struct emu_obj *map, const struct emu_map_batch *b);
	int (*delete_batch)(struct emu_obj *map, const struct emu_map_batch *b);

	/* mmap of the map fd: 0 if allowed (the file offset of the data is data_off + off) */
	int (*mmap_check)(const struct emu_obj *map, size_t len, off_t off);    /* optional: -ENOTSUPP */
	/* the same for families whose pages differ in what may be written (ring buffers); preferred */
	int (*mmap_check_prot)(const struct emu_obj *map, size_t len, off_t off, int prot);

	/* callable from BPF programs (emu/vm), optional; cpu is the running program's CPU */
	void *(*prog_lookup)(struct emu_obj *map, const void *key, unsigned int cpu);  /* the live value, NULL: absent */
	/* bpf_map_update_elem from a program where it differs from update (per-CPU: the CPU's slot only) */
	int (*prog_update)(struct emu_obj *map, const void *key, const void *value, __u64 flags, unsigned int cpu);
	/* bpf_spin_lock / bpf_spin_unlock on a value: the very lock BPF_F_LOCK takes from user space */
	int (*prog_value_lock)(struct emu_obj *map, void *value, bool lock);
};

/* emu/stackmap.c: bpf_get_stackid()'s store of nr frames (after the skip):
 * the stack's id, or -EEXIST (another stack holds the bucket and
 * BPF_F_REUSE_STACKID is not given), -ENOMEM (max_entries stacks held), -EFAULT */
int emu_stackmap_store(struct emu_obj *map, const __u64 *ips, __u32 nr, __u64 flags);

/* emu/fd_array.c: PROG_ARRAY ownership (the first program type that uses it) */
bool emu_map_holds_progs(__u32 map_type);
int emu_prog_map_claim(struct emu_obj *map, __u32 prog_type, __u32 expected_attach_type, __u32 prog_flags);
bool emu_prog_map_owner(const struct emu_obj *map, __u32 *prog_type);
__u32 emu_prog_array_slot(struct emu_obj *map, __u32 index);      /* the program id in a slot, 0: none */

#ifndef ENOTSUPP
#define ENOTSUPP 524   /* the kernel's internal "operation not supported", seen by user space */
#endif

const struct emu_map_ops *emu_map_ops_of(__u32 map_type);
static inline struct emu_map_desc *emu_map_desc(const struct emu_obj *map) { return &map->hdr->map; }
/* bpf_map_value_size(): what the syscall copies in and out as one value */
static inline __u32 emu_map_value_size(const struct emu_obj *map)
{
	return map->ops->user_value_size ? map->ops->user_value_size(map) : map->hdr->map.value_size;
}

/* Does the map's value hold a bpf_spin_lock (BPF_F_LOCK allowed)? Map
 * creation with BTF records where it is. */
static inline bool emu_map_has_spin_lock(const struct emu_obj *map)
{
	return map->hdr->map.spin_lock_off >= 0;
}

/* check_and_init_map_value(): a value copied out to user space (every CPU's
 * copy of a per-CPU one, each rounded up to 8 bytes) reads zero in its special
 * fields; with keep_lock, the bpf_spin_lock is left alone (an update's buffer:
 * the kernel frees the timers and kptrs an update overwrites, the lock is never
 * the caller's to write). */
static inline void emu_map_zero_fields(const struct emu_obj *map, void *value, bool keep_lock)
{
	const struct emu_map_desc *d = &map->hdr->map;
	if (!d->nr_fields || d->nr_fields > EMU_MAP_FIELDS_MAX)
		return;     /* (before the value size: an indirect call for most maps) */
	__u32 total = emu_map_value_size(map), stride = total;
	if (total > d->value_size)
		stride = (d->value_size + 7) & ~7u;
	for (__u32 base = 0; base + d->value_size <= total; base += stride)
		for (__u32 i = 0; i < d->nr_fields; i++) {
			const struct emu_map_field *f = &d->fields[i];
			if (keep_lock && f->type == EMU_FIELD_SPIN_LOCK)
				continue;
			if (f->off + f->size <= d->value_size)
				memset((char *)value + base + f->off, 0, f->size);
		}
}

/* emu/map.c: the kernel's generic_map_{lookup,update,delete}_batch over the element ops */
int emu_generic_map_lookup_batch(struct emu_obj *map, const struct emu_map_batch *b);
int emu_generic_map_update_batch(struct emu_obj *map, const struct emu_map_batch *b);
int emu_generic_map_delete_batch(struct emu_obj *map, const struct emu_map_batch *b);
/* elem_flags as every batch command checks them first: 0 or -EINVAL */
int emu_map_batch_elem_flags_check(const struct emu_obj *map, __u64 elem_flags);

/* the families (one file each, emu/map_types.h lists them) */
extern const struct emu_map_ops htab_map_ops;
extern const struct emu_map_ops array_map_ops;
extern const struct emu_map_ops prog_array_map_ops;
extern const struct emu_map_ops perf_event_array_map_ops;
extern const struct emu_map_ops cgroup_array_map_ops;
extern const struct emu_map_ops array_of_maps_map_ops;
extern const struct emu_map_ops htab_of_maps_map_ops;
extern const struct emu_map_ops ringbuf_map_ops;
extern const struct emu_map_ops user_ringbuf_map_ops;

/* map types whose values are kernel objects or that need BTF (one file per
 * family: stackmap.c devmap.c cpumap.c sockmap.c reuseport_array.c xskmap.c
 * local_storage.c cgroup_storage.c struct_ops.c arena.c) */
extern const struct emu_map_ops stack_trace_map_ops;
extern const struct emu_map_ops dev_map_ops;
extern const struct emu_map_ops dev_map_hash_ops;
extern const struct emu_map_ops cpu_map_ops;
extern const struct emu_map_ops sock_map_ops;
extern const struct emu_map_ops sock_hash_ops;
extern const struct emu_map_ops reuseport_array_ops;
extern const struct emu_map_ops xsk_map_ops;
extern const struct emu_map_ops sk_storage_map_ops;
extern const struct emu_map_ops inode_storage_map_ops;
extern const struct emu_map_ops task_storage_map_ops;
extern const struct emu_map_ops cgrp_storage_map_ops;
extern const struct emu_map_ops cgroup_storage_map_ops;
extern const struct emu_map_ops percpu_cgroup_storage_map_ops;
extern const struct emu_map_ops struct_ops_map_ops;
extern const struct emu_map_ops arena_map_ops;

/* array_map_get_next_key over [0, max): a missing or out-of-range key gives 0 */
/* The last len (< 8) bytes at p as a little-endian word, as memcpy into a
 * zeroed word would give, but built from loads: storing bytes into a word and
 * loading it back stalls (no store-to-load forwarding from several stores). */
static inline __u64 emu_load_tail(const unsigned char *p, unsigned int len)
{
	__u64 w = 0;
	unsigned int shift = 0;
	if (len >= 4) {
		__u32 x;
		memcpy(&x, p, 4);
		w = x;
		p += 4;
		len -= 4;
		shift = 32;
	}
	if (len >= 2) {
		__u16 x;
		memcpy(&x, p, 2);
		w |= (__u64)x << shift;
		p += 2;
		len -= 2;
		shift += 16;
	}
	if (len)
		w |= (__u64)*p << shift;
	return w;
}

/* Maps whose slots hold socket cookies (SOCKMAP, REUSEPORT_SOCKARRAY): an
 * array of __u64, 0 for an empty slot, read from user space as the cookie
 * (8-byte values only: ENOSPC otherwise, as sock_map_lookup_sys and
 * reuseport_array_lookup_elem answer). */
__u64 emu_cookie_slots_size(const struct emu_map_spec *s);
int emu_cookie_slot_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags);

static inline __u64 *emu_cookie_slot(struct emu_obj *map, __u32 i)
{
	return (__u64 *)emu_obj_data(map) + i;
}

static inline int emu_array_next_key(__u32 max, const void *key, void *next)
{
	__u32 index = 0xffffffffu, n;
	if (key)
		__builtin_memcpy(&index, key, 4);
	if (index >= max) {
		n = 0;
	} else {
		if (index == max - 1)
			return -ENOENT;
		n = index + 1;
	}
	__builtin_memcpy(next, &n, 4);
	return 0;
}

/* emu/sockmap.c: what the kernel's sockfd_lookup and the map types see of a socket fd */
struct emu_sock {
	int family, type, protocol;
	bool listening, connected, bound, reuseport;
	__u64 cookie;
};
int emu_sock_get(int fd, struct emu_sock *sk);     /* 0 or -ENOTSOCK */
/* emu/devmap.c, emu/cpumap.c: a program fd as a devmap/cpumap value: its id or -errno */
int emu_xdp_prog_id(int fd, __u32 expected_attach_type);

/* emu/ringbuf.c: a BPF program's bpf_ringbuf_reserve / submit / discard / query on the map object:
 * reserve returns the record's data (8-byte aligned, size bytes) or NULL (no room: the kernel's NULL) */
void *emu_ringbuf_reserve(struct emu_obj *map, __u64 size);
void emu_ringbuf_commit(struct emu_obj *map, void *sample, bool discard, __u64 flags);
__u64 emu_ringbuf_query(struct emu_obj *map, __u64 flags);
/* emu/ringbuf.c: what a BPF program's bpf_ringbuf_output / bpf_user_ringbuf_drain do */
int emu_ringbuf_output(int fd, const void *data, __u64 size, __u64 flags);
long emu_user_ringbuf_drain(int fd, int (*fn)(const void *data, __u32 size, void *ctx), void *ctx);
void emu_ringbuf_notify_gc(void);     /* drops the wake-up FIFOs of rings that are gone */

/* emu/map_in_map.c: references from a map's slots to other objects (hard
 * links under <root>/refs/<holder id>/), and the inner-map template */
int emu_refs_lock(const struct emu_obj *holder);          /* dir fd, flock held; or -errno */
/* holder is dead (no fd, pin or reference reaches its file): its references
 * go now rather than at the next id scan (emu_refs_gc), as the kernel drops a
 * dead program's maps. */
void emu_refs_drop(const struct emu_obj *holder);
void emu_refs_unlock(int dfd);
/* The same for a holder directory by name (<root>/refs/<name>, made if missing):
 * one that no id scan decides about ("struct_ops": emu/struct_ops.c). */
int emu_refs_lock_name(const char *name);
int emu_ref_take(int dfd, int target_fd, const struct emu_obj *target);
void emu_ref_drop(int dfd, enum emu_kind kind, __u32 target_id);
/* Links path (relative to dirfd) as <root>/limbo/<kind>-<id>, so the file stays
 * linkable after its last other name goes (the limbo mechanism above). */
int emu_limbo_keep(int dirfd, const char *path, enum emu_kind kind, __u32 id);
int emu_inner_meta_check(__u32 inner_map_fd);             /* bpf_map_meta_alloc's errors */
int emu_inner_meta_save(struct emu_obj *map, __u32 inner_map_fd);
int emu_inner_map_get(const struct emu_obj *map, int ufd, struct emu_obj **innerp);  /* bpf_map_fd_get_ptr */
int emu_inner_meta_get(const struct emu_obj *map, struct emu_map_desc *out);       /* the inner-map template */
/* The object holder (a map's slot, a program) holds a reference to: kind and
 * id, opened from the reference link (any process). 0 and a reference in
 * *objp, or -ENOENT (holder does not hold it), -errno. */
int emu_ref_get(const struct emu_obj *holder, enum emu_kind kind, __u32 id, struct emu_obj **objp);
extern const struct emu_map_ops percpu_array_map_ops;
extern const struct emu_map_ops htab_percpu_map_ops;
extern const struct emu_map_ops htab_lru_map_ops;
extern const struct emu_map_ops htab_lru_percpu_map_ops;
extern const struct emu_map_ops trie_map_ops;
extern const struct emu_map_ops queue_map_ops;
extern const struct emu_map_ops stack_map_ops;
extern const struct emu_map_ops bloom_filter_map_ops;

/* emu/struct_ops.c: BPF_MAP_TYPE_STRUCT_OPS (the kernel's bpf_struct_ops.c) */
/* BPF_MAP_UPDATE_ELEM: map_fd is the caller's fd of map (a registration holds the map by it) */
int emu_struct_ops_update(struct emu_obj *map, int map_fd, const void *key, const void *value, __u64 flags);
__u32 emu_struct_ops_btf_obj_id(const struct emu_obj *map);   /* bpf_map_info.btf_vmlinux_id */
/* bpf_struct_ops_valid_to_reg(): a BPF_F_LINK struct_ops map in state READY */
bool emu_struct_ops_ready(const struct emu_obj *map);
/* link (being made: an id, no fd yet) registers map (the caller's map_fd): the
 * type's reg() (tcp_congestion_ops: a unique name, -EEXIST) and the link's
 * reference to map. 0 or -errno. */
int emu_struct_ops_link_reg(struct emu_obj *link, struct emu_obj *map, int map_fd);
/* link (holding map_id) drops map: unregistered. */
void emu_struct_ops_link_unreg(struct emu_obj *link, __u32 map_id);
/* the link's map map_id is replaced by new_map (the caller's new_fd): the type's update(). */
int emu_struct_ops_link_update(struct emu_obj *link, __u32 map_id, struct emu_obj *new_map, int new_fd);

/* emu/map.c: the command handlers' map side, attr already decoded */
int emu_map_create(const struct emu_map_spec *spec);
int emu_map_fdinfo(struct emu_obj *map, char *buf, size_t len);
int emu_map_fill_info(struct emu_obj *map, struct bpf_map_info *info);

#endif
