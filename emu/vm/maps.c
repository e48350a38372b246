/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/maps.c: maps as BPF programs see them, and the map helpers.
 *
 * A program holds maps by handle: the address of this process's struct
 * vm_map of the map (ld_imm64 of a map; an inner map from a map-in-map
 * lookup). Handles are made once per map and process, from the map's object
 * file reached through the holder's reference links (<root>/refs/prog-<id>/
 * for a program's own maps, <root>/refs/<outer id>/ for inner maps and for
 * the programs of a PROG_ARRAY), so a program pinned by one process runs in
 * another with the same maps. Handles live as long as the process: a handle
 * may sit in a register or on the stack of any run.
 *
 * A helper that gets a map handle checks it against the maps the running
 * program names and the inner maps this run was handed; the load-time
 * analysis proves most of them already (the call then passes the proven map,
 * and the check is one comparison).
 *
 * Values: a lookup returns the value in the map's own shared memory (per-CPU
 * maps: the running CPU's slot), and the value becomes a region of the run
 * (read and written in place, atomics included, as in the kernel); it stays
 * one for the rest of the run. BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG maps
 * give read-only / write-only regions. A map another user's pin lent us
 * read-only (mapped PROT_READ) gives read-only regions, and a helper that
 * would write it ends the run (EACCES), never a SIGSEGV.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../emu.h"
#include "../os.h"
#include "vm_int.h"

#define MAP_BUCKETS 1024u
static struct vm_map *by_id[MAP_BUCKETS];
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;

/* the handle for id with one more reference, or NULL; maps_lock held */
static struct vm_map *cached_get_locked(__u32 id)
{
	for (struct vm_map *m = by_id[id % MAP_BUCKETS]; m; m = m->next)
		if (m->id == id) {
			m->refs++;
			return m;
		}
	return NULL;
}

static struct vm_map *cached_get(__u32 id)
{
	pthread_mutex_lock(&maps_lock);
	struct vm_map *m = cached_get_locked(id);
	pthread_mutex_unlock(&maps_lock);
	return m;
}

/* A counted handle for obj (consumes the caller's reference on obj). */
static struct vm_map *map_new(struct emu_obj *obj)
{
	pthread_mutex_lock(&maps_lock);
	struct vm_map *m = cached_get_locked(obj->hdr->id);
	if (m) {
		pthread_mutex_unlock(&maps_lock);
		emu_obj_put(obj);
		return m;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		pthread_mutex_unlock(&maps_lock);
		emu_obj_put(obj);
		return NULL;
	}
	const struct emu_map_desc *d = emu_map_desc(obj);
	m->magic = VM_MAP_MAGIC;
	m->obj = obj;
	m->refs = 1;
	m->ops = obj->ops;
	m->id = obj->hdr->id;
	m->type = d->map_type;
	m->key_size = d->key_size;
	m->value_size = d->value_size;
	m->max_entries = d->max_entries;
	m->flags = d->map_flags;
	m->writable = !(d->map_flags & BPF_F_RDONLY_PROG) && !obj->rdonly;
	m->readable = !(d->map_flags & BPF_F_WRONLY_PROG);
	if (d->map_type == BPF_MAP_TYPE_ARRAY || d->map_type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		m->values = emu_obj_data(obj);
		m->slot = (__u32)round_up8(d->value_size);
		m->elem = m->slot * (d->map_type == BPF_MAP_TYPE_PERCPU_ARRAY ? emu_possible_cpus() : 1);
	}
	m->next = by_id[m->id % MAP_BUCKETS];
	by_id[m->id % MAP_BUCKETS] = m;
	pthread_mutex_unlock(&maps_lock);
	return m;
}

struct vm_map *vm_map_of(struct emu_obj *obj)
{
	struct vm_map *m = cached_get(obj->hdr->id);
	if (m)
		return m;
	__atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED);
	return map_new(obj);
}

struct vm_map *vm_map_by_ref(const struct emu_obj *holder, __u32 id, int *err)
{
	struct vm_map *m = cached_get(id);
	if (m)
		return m;
	struct emu_obj *obj;
	*err = emu_ref_get(holder, EMU_KIND_MAP, id, &obj);
	if (*err)
		return NULL;
	if (!obj->ops) {
		emu_obj_put(obj);
		*err = -EINVAL;
		return NULL;
	}
	m = map_new(obj);
	if (!m)
		*err = -ENOMEM;
	return m;
}

struct vm_map *vm_map_hold(struct vm_map *m)
{
	pthread_mutex_lock(&maps_lock);
	m->refs++;
	pthread_mutex_unlock(&maps_lock);
	return m;
}

void vm_map_put(struct vm_map *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&maps_lock);
	if (--m->refs) {
		pthread_mutex_unlock(&maps_lock);
		return;
	}
	for (struct vm_map **pp = &by_id[m->id % MAP_BUCKETS]; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	pthread_mutex_unlock(&maps_lock);
	/* outside the lock: the object's release takes the fd table's */
	emu_obj_put(m->obj);
	m->magic = 0;
	free(m);
}

struct vm_map *vm_map_arg(struct vm_run *run, __u64 r1, const char *helper)
{
	if (likely(r1 && r1 == run->map_hint))
		return (struct vm_map *)(uintptr_t)r1;
	const struct vm_prog *p = run->prog;
	for (__u32 i = 0; i < p->nr_maps; i++)
		if ((__u64)(uintptr_t)p->maps[i] == r1)
			return p->maps[i];
	for (__u32 i = 0; i < run->nr_inner; i++)
		if ((__u64)(uintptr_t)run->inner[i] == r1)
			return run->inner[i];
	vm_fault(run, -EFAULT, "%s: R1 %#llx is not a map the program holds", helper, (unsigned long long)r1);
	return NULL;
}

/* keeps the reference on m until the run ends (or drops it: m is held already) */
static int inner_add(struct vm_run *run, struct vm_map *m)
{
	for (__u32 i = 0; i < run->nr_inner; i++)
		if (run->inner[i] == m) {
			vm_map_put(m);
			return 0;
		}
	if (run->nr_inner == run->cap_inner) {
		__u32 cap = run->cap_inner ? run->cap_inner * 2 : 8;
		struct vm_map **n = realloc(run->inner, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		run->inner = n;
		run->cap_inner = cap;
	}
	run->inner[run->nr_inner++] = m;
	return 0;
}

void vm_run_release_maps(struct vm_run *run)
{
	for (__u32 i = 0; i < run->nr_inner; i++)
		vm_map_put(run->inner[i]);
	run->nr_inner = 0;
}

/* ---- the map helpers ---- */

static bool is_hash(__u32 t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}
static bool is_array(__u32 t) { return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY; }
static bool is_of_maps(__u32 t) { return t == BPF_MAP_TYPE_ARRAY_OF_MAPS || t == BPF_MAP_TYPE_HASH_OF_MAPS; }
static bool is_qs(__u32 t) { return t == BPF_MAP_TYPE_QUEUE || t == BPF_MAP_TYPE_STACK; }

static bool not_for(struct vm_run *run, const struct vm_map *m, const char *helper)
{
	vm_fault(run, -EOPNOTSUPP, "%s on map %u of type %u is not emulated (or not allowed by the kernel)", helper,
		 m->id, m->type);
	return true;
}

static bool writable(struct vm_run *run, const struct vm_map *m, const char *helper)
{
	if (!m->obj->rdonly)
		return true;
	vm_fault(run, -EACCES, "%s: map %u is mapped read-only in this process (another user's pin)", helper, m->id);
	return false;
}

/* the value region of a lookup's result */
static int add_value(struct vm_run *run, struct vm_map *m, void *v)
{
	__u32 perm = (m->readable ? VM_RD : 0) | (m->writable ? VM_WR : 0);
	int err = vm_region_add(run, (__u64)(uintptr_t)v, m->value_size, perm, VM_R_MAPVAL, m);
	if (err)
		vm_fault(run, err, "no memory to track a map value");
	return err;
}

static __u64 lookup_on(struct vm_run *run, struct vm_map *m, __u64 key, unsigned int cpu, const char *helper)
{
	if (!m->ops->prog_lookup) {
		not_for(run, m, helper);
		return 0;
	}
	if (vm_mem_arg(run, key, m->key_size, VM_RD, helper))
		return 0;
	void *v = m->ops->prog_lookup(m->obj, (const void *)(uintptr_t)key, cpu);
	if (!v)
		return 0;
	if (is_of_maps(m->type)) {
		/* the slot holds the inner map's id: hand out its handle */
		__u32 id = __atomic_load_n((__u32 *)v, __ATOMIC_ACQUIRE);
		int err = 0;
		struct vm_map *inner = id ? vm_map_by_ref(m->obj, id, &err) : NULL;
		if (!inner)
			return 0;        /* replaced or deleted meanwhile: as absent */
		if (inner_add(run, inner)) {
			vm_map_put(inner);
			vm_fault(run, -ENOMEM, "no memory to track an inner map");
			return 0;
		}
		return (__u64)(uintptr_t)inner;
	}
	if (add_value(run, m, v))
		return 0;
	return (__u64)(uintptr_t)v;
}

__u64 vm_h_map_lookup_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_lookup_elem");
	if (!m)
		return 0;
	if (!is_hash(m->type) && !is_array(m->type) && !is_of_maps(m->type) && m->type != BPF_MAP_TYPE_LPM_TRIE) {
		not_for(run, m, "bpf_map_lookup_elem");
		return 0;
	}
	return lookup_on(run, m, r2, run->cpu, "bpf_map_lookup_elem");
}

__u64 vm_h_map_lookup_percpu_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_lookup_percpu_elem");
	if (!m)
		return 0;
	if (m->type != BPF_MAP_TYPE_PERCPU_ARRAY && m->type != BPF_MAP_TYPE_PERCPU_HASH &&
	    m->type != BPF_MAP_TYPE_LRU_PERCPU_HASH) {
		not_for(run, m, "bpf_map_lookup_percpu_elem");
		return 0;
	}
	if ((__u32)r3 >= emu_possible_cpus())
		return 0;
	return lookup_on(run, m, r2, (__u32)r3, "bpf_map_lookup_percpu_elem");
}

__u64 vm_h_map_update_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_update_elem");
	if (!m)
		return 0;
	if (!is_hash(m->type) && !is_array(m->type) && m->type != BPF_MAP_TYPE_LPM_TRIE) {
		not_for(run, m, "bpf_map_update_elem");
		return 0;
	}
	if (vm_mem_arg(run, r2, m->key_size, VM_RD, "bpf_map_update_elem's key") ||
	    vm_mem_arg(run, r3, m->value_size, VM_RD, "bpf_map_update_elem's value") ||
	    !writable(run, m, "bpf_map_update_elem"))
		return 0;
	if ((r4 & BPF_F_LOCK) && emu_map_desc(m->obj)->spin_lock_off < 0)
		return (__u64)-EINVAL;
	const void *key = (const void *)(uintptr_t)r2, *val = (const void *)(uintptr_t)r3;
	int err = m->ops->prog_update ? m->ops->prog_update(m->obj, key, val, r4, run->cpu)
				      : m->ops->update(m->obj, key, val, r4);
	return (__u64)(__s64)err;
}

__u64 vm_h_map_delete_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_delete_elem");
	if (!m)
		return 0;
	if (!is_hash(m->type) && !is_array(m->type) && m->type != BPF_MAP_TYPE_LPM_TRIE) {
		not_for(run, m, "bpf_map_delete_elem");
		return 0;
	}
	if (vm_mem_arg(run, r2, m->key_size, VM_RD, "bpf_map_delete_elem's key") ||
	    !writable(run, m, "bpf_map_delete_elem"))
		return 0;
	return (__u64)(__s64)m->ops->delete(m->obj, (const void *)(uintptr_t)r2);
}

__u64 vm_h_map_push_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_push_elem");
	if (!m)
		return 0;
	if (!is_qs(m->type) && m->type != BPF_MAP_TYPE_BLOOM_FILTER) {
		not_for(run, m, "bpf_map_push_elem");
		return 0;
	}
	if (vm_mem_arg(run, r2, m->value_size, VM_RD, "bpf_map_push_elem's value") ||
	    !writable(run, m, "bpf_map_push_elem"))
		return 0;
	return (__u64)(__s64)m->ops->update(m->obj, NULL, (const void *)(uintptr_t)r2, r3);
}

__u64 vm_h_map_pop_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_pop_elem");
	if (!m)
		return 0;
	if (!is_qs(m->type)) {
		not_for(run, m, "bpf_map_pop_elem");
		return 0;
	}
	if (vm_mem_arg(run, r2, m->value_size, VM_WR, "bpf_map_pop_elem's value") ||
	    !writable(run, m, "bpf_map_pop_elem"))
		return 0;
	return (__u64)(__s64)m->ops->lookup_and_delete(m->obj, NULL, (void *)(uintptr_t)r2, 0);
}

__u64 vm_h_map_peek_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_map_peek_elem");
	if (!m)
		return 0;
	if (!is_qs(m->type) && m->type != BPF_MAP_TYPE_BLOOM_FILTER) {
		not_for(run, m, "bpf_map_peek_elem");
		return 0;
	}
	/* a queue or stack writes the value; a bloom filter reads what to look for */
	if (vm_mem_arg(run, r2, m->value_size, is_qs(m->type) ? VM_WR : VM_RD, "bpf_map_peek_elem's value"))
		return 0;
	return (__u64)(__s64)m->ops->lookup(m->obj, NULL, (void *)(uintptr_t)r2, 0);
}

/* bpf_for_each_map_elem(map, callback, ctx, flags): callback(map, &key, &value, ctx) per element,
 * until it returns non-zero; returns the number of elements it was called for */
__u64 vm_h_for_each_map_elem(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r5;
	struct vm_map *m = vm_map_arg(run, r1, "bpf_for_each_map_elem");
	const struct vm_insn *fn;
	if (!m)
		return 0;
	if (!vm_func_entry(run->prog, r2, &fn)) {
		vm_fault(run, -EFAULT, "bpf_for_each_map_elem: R2 %#llx is not a function of the program",
			 (unsigned long long)r2);
		return 0;
	}
	if (r4)
		return (__u64)-EINVAL;
	if (!is_hash(m->type) && !is_array(m->type)) {
		not_for(run, m, "bpf_for_each_map_elem");
		return 0;
	}
	/* the key the callback sees: a read-only buffer of ours, a region for the call */
	unsigned char kbuf[2][512];
	if (m->key_size > sizeof(kbuf[0])) {
		vm_fault(run, -E2BIG, "bpf_for_each_map_elem: keys of %u bytes", m->key_size);
		return 0;
	}
	__u64 n = 0;
	int cur = 0;
	bool have = false;
	if (is_array(m->type)) {
		for (__u32 i = 0; i < m->max_entries; i++) {
			memcpy(kbuf[0], &i, 4);
			void *v = m->ops->prog_lookup(m->obj, kbuf[0], run->cpu);
			n++;
			if (!v || add_value(run, m, v) ||
			    vm_region_add(run, (__u64)(uintptr_t)kbuf[0], 4, VM_RD, VM_R_KEY, m))
				break;
			__u64 r = vm_callback(run, fn, r1, (__u64)(uintptr_t)kbuf[0], (__u64)(uintptr_t)v, r3, 0);
			vm_region_del(run, (__u64)(uintptr_t)kbuf[0]);
			if (run->err || r || (--run->ticks == 0 && !vm_tick_slow(run)))
				break;
		}
		return n;
	}
	/* hashes: in get_next_key order, the next key taken before the callback
	 * runs (it may delete the current one) */
	have = !m->ops->get_next_key(m->obj, NULL, kbuf[cur]);
	while (have) {
		int nx = !cur;
		bool more = !m->ops->get_next_key(m->obj, kbuf[cur], kbuf[nx]);
		void *v = m->ops->prog_lookup(m->obj, kbuf[cur], run->cpu);
		if (v) {
			n++;
			if (add_value(run, m, v) ||
			    vm_region_add(run, (__u64)(uintptr_t)kbuf[cur], m->key_size, VM_RD, VM_R_KEY, m))
				break;
			__u64 r = vm_callback(run, fn, r1, (__u64)(uintptr_t)kbuf[cur], (__u64)(uintptr_t)v, r3, 0);
			vm_region_del(run, (__u64)(uintptr_t)kbuf[cur]);
			if (run->err || r || (--run->ticks == 0 && !vm_tick_slow(run)))
				break;
		}
		have = more;
		cur = nx;
		if (n > (__u64)m->max_entries * 2 + 16)     /* a callback that keeps changing the map */
			break;
	}
	return n;
}

/* ---- bpf_kptr_xchg: the 8 bytes of a kptr field, exchanged ---- */

__u64 vm_h_kptr_xchg(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r3; (void)r4; (void)r5;
	const struct vm_region *r = vm_region_find(run, r1, 8);
	if (!r || r->kind != VM_R_MAPVAL || (r1 & 7)) {
		vm_fault(run, -EINVAL, "bpf_kptr_xchg: %#llx is not a kptr in a map value the program holds",
			 (unsigned long long)r1);
		return 0;
	}
	return __atomic_exchange_n((__u64 *)(uintptr_t)r1, r2, __ATOMIC_SEQ_CST);
}

/* ---- bpf_spin_lock / bpf_spin_unlock: the lock BPF_F_LOCK takes from user space ---- */

__u64 vm_h_spin_lock(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	const struct vm_region *r = vm_region_find(run, r1, 4);
	struct vm_map *m = r && r->kind == VM_R_MAPVAL ? r->map : NULL;
	__s32 off = m ? emu_map_desc(m->obj)->spin_lock_off : -1;
	if (!m || off < 0 || r1 - r->lo != (__u64)off || !m->ops->prog_value_lock) {
		vm_fault(run, -EINVAL, "bpf_spin_lock: %#llx is not the bpf_spin_lock of a map value the program holds",
			 (unsigned long long)r1);
		return 0;
	}
	if (run->lock_map) {
		vm_fault(run, -EINVAL, "bpf_spin_lock while holding a lock (the kernel's verifier refuses it)");
		return 0;
	}
	if (!writable(run, m, "bpf_spin_lock"))
		return 0;
	m->ops->prog_value_lock(m->obj, (void *)(uintptr_t)r->lo, true);
	run->lock_map = m;
	run->lock_value = (void *)(uintptr_t)r->lo;
	return 0;
}

__u64 vm_h_spin_unlock(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct vm_map *m = run->lock_map;
	__s32 off = m ? emu_map_desc(m->obj)->spin_lock_off : -1;
	if (!m || r1 != (__u64)(uintptr_t)run->lock_value + (__u64)off) {
		vm_fault(run, -EINVAL, "bpf_spin_unlock of a lock the program does not hold");
		return 0;
	}
	m->ops->prog_value_lock(m->obj, run->lock_value, false);
	run->lock_map = NULL;
	run->lock_value = NULL;
	return 0;
}

/* the end of a run: a lock still held is given back (and the run fails) */
void vm_release_lock(struct vm_run *run)
{
	if (!run->lock_map)
		return;
	run->lock_map->ops->prog_value_lock(run->lock_map->obj, run->lock_value, false);
	run->lock_map = NULL;
	vm_fault(run, -EINVAL, "the program ended holding a bpf_spin_lock (the kernel's verifier refuses it)");
}

/* ---- tail calls ---- */

#define PROG_BUCKETS 256u
struct prog_ref {
	__u32 id;
	struct emu_obj *obj;
	struct prog_ref *next;
};
static struct prog_ref *progs_by_id[PROG_BUCKETS];

/* Keeps obj (a reference the caller took) as program id's for the process;
 * if another thread kept one first, that one, and obj's reference goes. */
static struct emu_obj *prog_cache_add(__u32 id, struct emu_obj *obj, int *err)
{
	pthread_mutex_lock(&maps_lock);
	for (struct prog_ref *r = progs_by_id[id % PROG_BUCKETS]; r; r = r->next)
		if (r->id == id) {
			pthread_mutex_unlock(&maps_lock);
			emu_obj_put(obj);
			return r->obj;
		}
	struct prog_ref *r = calloc(1, sizeof(*r));
	if (!r) {
		pthread_mutex_unlock(&maps_lock);
		emu_obj_put(obj);
		*err = -ENOMEM;
		return NULL;
	}
	r->id = id;
	r->obj = obj;
	r->next = progs_by_id[id % PROG_BUCKETS];
	__atomic_store_n(&progs_by_id[id % PROG_BUCKETS], r, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&maps_lock);
	return obj;
}

/* The program a PROG_ARRAY slot names (for good in this process). */
static struct emu_obj *prog_obj(struct vm_map *array, __u32 id, int *err)
{
	for (struct prog_ref *r = __atomic_load_n(&progs_by_id[id % PROG_BUCKETS], __ATOMIC_ACQUIRE); r; r = r->next)
		if (r->id == id)
			return r->obj;
	struct emu_obj *obj;
	*err = emu_ref_get(array->obj, EMU_KIND_PROG, id, &obj);
	if (*err)
		return NULL;
	return prog_cache_add(id, obj, err);
}

/* A program by id, opened once per process and kept (as tail call targets are) */
static struct emu_obj *prog_obj_by_id(__u32 id, int *err)
{
	for (struct prog_ref *r = __atomic_load_n(&progs_by_id[id % PROG_BUCKETS], __ATOMIC_ACQUIRE); r; r = r->next)
		if (r->id == id)
			return r->obj;
	int fd = emu_obj_fd_by_id(EMU_KIND_PROG, id, O_RDONLY);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	struct emu_obj *obj;
	int acc;
	*err = emu_fd_get_local(fd, EMU_KIND_PROG, &obj, &acc);
	emu_fd_closed(fd);
	emu_os_close(fd);
	if (*err)
		return NULL;
	return prog_cache_add(id, obj, err);
}

/* The live extensions of prog into run->ext: slots whose link is gone are
 * cleared, and nr_ext drops to the last slot in use (0: the calls are plain
 * again, for the JIT's code too) */
static void ext_lookup(struct vm_run *run, const struct vm_prog *prog)
{
	struct emu_prog_desc *d = &prog->obj->hdr->prog;
	run->ext_of = prog;
	run->ext_n = 0;
	bool dead = false;
	__u32 n = __atomic_load_n(&d->nr_ext, __ATOMIC_ACQUIRE);
	for (__u32 k = 0; k < n && k < ARRAY_SIZE(d->ext); k++) {
		__u32 link = __atomic_load_n(&d->ext[k].link_id, __ATOMIC_ACQUIRE);
		if (!link)
			continue;
		if (!emu_obj_alive(EMU_KIND_LINK, link)) {
			dead = true;
			continue;
		}
		__u32 id = d->ext[k].prog_id;
		int err = 0;
		struct emu_obj *obj = prog_obj_by_id(id, &err);
		if (!obj)
			continue;                    /* gone meanwhile: the function itself runs */
		const struct vm_prog *x = vm_prog_get(obj, &err);
		if (!x) {
			vm_fault(run, err, "extension program %u cannot be decoded", id);
			return;
		}
		if (run->ext_n < ARRAY_SIZE(run->ext)) {
			run->ext[run->ext_n].start = d->ext[k].insn_off;
			run->ext[run->ext_n++].x = x;
		}
	}
	if (!dead)
		return;
	emu_obj_lock(prog->obj);
	__u32 last = 0;
	n = d->nr_ext;
	for (__u32 k = 0; k < n && k < ARRAY_SIZE(d->ext); k++) {
		__u32 link = d->ext[k].link_id;
		if (link && !emu_obj_alive(EMU_KIND_LINK, link))
			__atomic_store_n(&d->ext[k].link_id, 0, __ATOMIC_RELEASE);
		else if (link)
			last = k + 1;
	}
	__atomic_store_n(&d->nr_ext, last, __ATOMIC_RELEASE);
	emu_obj_unlock(prog->obj);
}

/* The extension that replaces the function of prog starting at BPF
 * instruction start, while its link lives (emu/link.c: ext_attach()), or NULL */
const struct vm_prog *vm_ext_target(struct vm_run *run, const struct vm_prog *prog, __u32 start)
{
	if (run->ext_of != prog) {
		ext_lookup(run, prog);
		if (run->err)
			return NULL;
	}
	for (__u32 k = 0; k < run->ext_n; k++)
		if (run->ext[k].start == start)
			return run->ext[k].x;
	return NULL;
}

/* The first BPF instruction of the function whose decoded entry is entry */
__u32 vm_func_start(const struct vm_prog *prog, const struct vm_insn *entry)
{
	for (__u32 k = 0; k < prog->nr_funcs; k++)
		if (prog->funcs[k].entry == entry)
			return prog->funcs[k].start;
	return entry->idx;
}

/* bpf_tail_call(ctx, array, index): the program to go on with, or NULL (the
 * call fails and the program goes on: index out of range, 33 tail calls
 * done, empty slot) */
const struct vm_prog *vm_tail_target(struct vm_run *run, __u64 map, __u64 index)
{
	struct vm_map *m = vm_map_arg(run, map, "bpf_tail_call");
	if (!m)
		return NULL;
	if (m->type != BPF_MAP_TYPE_PROG_ARRAY) {
		vm_fault(run, -EINVAL, "bpf_tail_call: map %u is not a PROG_ARRAY", m->id);
		return NULL;
	}
	if (run->lock_map) {
		vm_fault(run, -EINVAL, "bpf_tail_call while holding a bpf_spin_lock (the kernel's verifier refuses it)");
		return NULL;
	}
	if ((__u32)index >= m->max_entries)
		return NULL;
	if (run->tail_calls >= VM_MAX_TAIL_CALLS)
		return NULL;
	run->tail_calls++;
	__u32 id = emu_prog_array_slot(m->obj, (__u32)index);
	if (!id)
		return NULL;
	int err = 0;
	struct emu_obj *obj = prog_obj(m, id, &err);
	if (!obj)
		return NULL;             /* removed meanwhile: as an empty slot */
	const struct vm_prog *p = vm_prog_get(obj, &err);
	if (!p) {
		vm_fault(run, err, "bpf_tail_call: program %u cannot be decoded", id);
		return NULL;
	}
	return p;
}
