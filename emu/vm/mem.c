/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/mem.c: the run-time memory checks.
 *
 * A run may touch its regions only: the stack (every frame, VM_MAX_FRAMES *
 * 512 bytes), the context (read; written only where the program type may
 * write it), the packet (meta data and data up to data_end), the map values
 * it obtained (from lookups, or named directly: global data), the ring
 * buffer records it reserved, and buffers a helper lends a callback (a key).
 * Anything else ends the run with EFAULT and a log line naming the
 * instruction, the address and the nearest region.
 *
 * The check is in two halves. The inline half (vm_cache_ok, vm_int.h)
 * compares against the last region hit; this file is the slow half: the
 * fixed regions of the run, the dynamic ones (a vector, indexed by page once
 * it holds more than 16), and the program's direct-value regions. A hit
 * refreshes the cache, and so does a region added (a lookup's value: the
 * program's next access is likely there). Context writes always come here (the cache never
 * grants them unless the whole context is writable) and are checked byte by
 * byte against the type's writable mask.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_int.h"

#define PAGE_SHIFT 12
#define HASH_FROM 16u

const char *vm_region_kind_name(int kind)
{
	static const char *const names[] = {
		[VM_R_STACK] = "the stack", [VM_R_CTX] = "the context", [VM_R_PKT] = "the packet",
		[VM_R_PKT_META] = "the packet's meta data", [VM_R_MAPVAL] = "a map value",
		[VM_R_RINGBUF] = "a ring buffer record", [VM_R_SCRATCH] = "a helper's buffer",
		[VM_R_KEY] = "a callback's key", [VM_R_FLOW_KEYS] = "the flow keys",
		[VM_R_KOBJ] = "a kernel object",
	};
	return kind >= 0 && (size_t)kind < ARRAY_SIZE(names) && names[kind] ? names[kind] : "a region";
}

void vm_fault(struct vm_run *run, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (run->err)
		return;
	run->err = err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const struct vm_prog *p = run->prog;
	EMU_LOG(EMU_LOG_VM | EMU_LOG_SYS, "prog '%s' (id %u) insn %u: %s: the run ends with %s", p ? p->name : "?",
		p ? p->id : 0, run->fault_insn, msg, strerror(-err));
}

void vm_fixed_set(struct vm_run *run, int kind, __u64 lo, __u64 len, __u32 perm)
{
	for (__u32 i = 0; i < run->nr_fixed; i++)
		if (run->fixed[i].kind == kind) {
			run->fixed[i].lo = lo;
			run->fixed[i].len = len;
			run->fixed[i].perm = perm;
			run->c_len = 0;          /* the cache may hold the old one */
			return;
		}
	if (run->nr_fixed < ARRAY_SIZE(run->fixed))
		run->fixed[run->nr_fixed++] = (struct vm_region){ .lo = lo, .len = len, .perm = perm, .kind = (__u16)kind };
	run->c_len = 0;
}

int vm_fixed_add(struct vm_run *run, int kind, __u64 lo, __u64 len, __u32 perm)
{
	if (run->nr_fixed >= ARRAY_SIZE(run->fixed))
		return -ENOSPC;
	run->fixed[run->nr_fixed++] = (struct vm_region){ .lo = lo, .len = len, .perm = perm, .kind = (__u16)kind };
	run->c_len = 0;
	return 0;
}

static inline bool contains(const struct vm_region *r, __u64 a, __u64 n)
{
	__u64 o = a - r->lo;
	return o < r->len && n <= r->len - o;
}

/* ---- dynamic regions ---- */

static __u32 page_hash(__u64 page, __u32 cap)
{
	page *= 0x9e3779b97f4a7c15ull;
	return (__u32)(page >> 32) & (cap - 1);
}

static void hash_insert(struct vm_regions *d, __u32 idx)
{
	const struct vm_region *r = &d->r[idx];
	/* a region is indexed under its first page only; lookups also try the
	 * pages before the address, up to the longest region's span */
	__u32 h = page_hash(r->lo >> PAGE_SHIFT, d->hcap);
	d->next[idx] = d->hash[h];
	d->hash[h] = idx + 1;
}

static int hash_rebuild(struct vm_regions *d, __u32 cap)
{
	__u32 *h = calloc(cap, sizeof(*h));
	__u32 *nx = realloc(d->next, d->cap * sizeof(*nx));
	if (!h || !nx) {
		free(h);
		if (nx)
			d->next = nx;
		return -ENOMEM;
	}
	free(d->hash);
	d->hash = h;
	d->next = nx;
	d->hcap = cap;
	for (__u32 i = 0; i < d->n; i++)
		hash_insert(d, i);
	return 0;
}

static __u64 max_span_pages;           /* the longest dynamic region seen, in pages (grows only) */

/* a region just handed to the program (a lookup's value) is where its next access goes */
static inline void cache_set(struct vm_run *run, __u64 lo, __u64 len, __u32 perm)
{
	run->c_lo = lo;
	run->c_len = len;
	run->c_perm = perm;
}

int vm_region_add(struct vm_run *run, __u64 lo, __u64 len, __u32 perm, int kind, struct vm_map *map)
{
	struct vm_regions *d = &run->dyn;
	if (!len)
		return 0;
	/* the same value again (a lookup in a loop): nothing new */
	if (d->n && d->r[d->last].lo == lo && d->r[d->last].len == len) {
		cache_set(run, lo, len, d->r[d->last].perm);
		return 0;
	}
	if (d->n <= HASH_FROM) {
		for (__u32 i = 0; i < d->n; i++)
			if (d->r[i].lo == lo && d->r[i].len == len) {
				d->r[i].perm = perm;
				cache_set(run, lo, len, perm);
				return 0;
			}
	} else {
		for (__u32 i = d->hash[page_hash(lo >> PAGE_SHIFT, d->hcap)]; i; i = d->next[i - 1])
			if (d->r[i - 1].lo == lo && d->r[i - 1].len == len) {
				d->r[i - 1].perm = perm;
				cache_set(run, lo, len, perm);
				return 0;
			}
	}
	if (d->n == d->cap) {
		__u32 cap = d->cap ? d->cap * 2 : 32;
		struct vm_region *r = realloc(d->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		d->r = r;
		d->cap = cap;
		if (d->hash) {
			__u32 *nx = realloc(d->next, cap * sizeof(*nx));
			if (!nx)
				return -ENOMEM;
			d->next = nx;
		}
	}
	d->r[d->n] = (struct vm_region){ .lo = lo, .len = len, .perm = perm, .kind = (__u16)kind, .map = map };
	__u64 span = ((lo + len - 1) >> PAGE_SHIFT) - (lo >> PAGE_SHIFT) + 1;
	if (span > __atomic_load_n(&max_span_pages, __ATOMIC_RELAXED))
		__atomic_store_n(&max_span_pages, span, __ATOMIC_RELAXED);
	d->n++;
	cache_set(run, lo, len, perm);
	if (d->n == HASH_FROM + 1 || (d->hash && d->n > d->hcap / 2)) {
		if (hash_rebuild(d, d->hcap ? d->hcap * 4 : 256))
			return -ENOMEM;
	} else if (d->hash) {
		hash_insert(d, d->n - 1);
	}
	return 0;
}

void vm_region_del(struct vm_run *run, __u64 lo)
{
	struct vm_regions *d = &run->dyn;
	for (__u32 i = 0; i < d->n; i++)
		if (d->r[i].lo == lo) {
			d->r[i] = d->r[--d->n];
			d->last = 0;
			if (d->hash)
				hash_rebuild(d, d->hcap);
			break;
		}
	run->c_len = 0;
}

void vm_regions_reset(struct vm_run *run)
{
	struct vm_regions *d = &run->dyn;
	d->n = 0;
	d->last = 0;
	if (d->hash)
		memset(d->hash, 0, d->hcap * sizeof(*d->hash));
	run->c_len = 0;
}

void vm_regions_free(struct vm_regions *d)
{
	free(d->r);
	free(d->hash);
	free(d->next);
	memset(d, 0, sizeof(*d));
}

const struct vm_region *vm_region_find(struct vm_run *run, __u64 a, __u64 n)
{
	for (__u32 i = 0; i < run->nr_fixed; i++)
		if (contains(&run->fixed[i], a, n))
			return &run->fixed[i];
	struct vm_regions *d = &run->dyn;
	if (d->n && contains(&d->r[d->last], a, n))
		return &d->r[d->last];
	if (!d->hash) {
		for (__u32 i = d->n; i-- > 0;)
			if (contains(&d->r[i], a, n)) {
				d->last = i;
				return &d->r[i];
			}
	} else {
		__u64 span = __atomic_load_n(&max_span_pages, __ATOMIC_RELAXED);
		__u64 page = a >> PAGE_SHIFT;
		for (__u64 k = 0; k < span && k <= page; k++)
			for (__u32 i = d->hash[page_hash(page - k, d->hcap)]; i; i = d->next[i - 1])
				if (contains(&d->r[i - 1], a, n)) {
					d->last = i - 1;
					return &d->r[i - 1];
				}
	}
	const struct vm_prog *p = run->prog;
	for (__u32 i = 0; p && i < p->nr_direct; i++)
		if (contains(&p->direct[i], a, n))
			return &p->direct[i];
	return NULL;
}

/* the region nearest to [a, a+n), for the log line */
static void near(struct vm_run *run, __u64 a, __u64 n, char *buf, size_t len)
{
	const struct vm_region *best = NULL;
	__u64 bd = ~0ull;
	for (int pass = 0; pass < 3; pass++) {
		const struct vm_region *rs = pass == 0 ? run->fixed : pass == 1 ? run->dyn.r : run->prog ? run->prog->direct : NULL;
		__u32 nr = pass == 0 ? run->nr_fixed : pass == 1 ? run->dyn.n : run->prog ? run->prog->nr_direct : 0;
		for (__u32 i = 0; i < nr; i++) {
			const struct vm_region *r = &rs[i];
			__u64 dist = a < r->lo ? r->lo - a : a >= r->lo + r->len ? a - (r->lo + r->len) : 0;
			if (dist < bd) {
				bd = dist;
				best = r;
			}
		}
	}
	if (!best || bd > (1ull << 32)) {
		snprintf(buf, len, "no region near it");
		return;
	}
	const char *what = vm_region_kind_name(best->kind);
	unsigned long long lo = best->lo, hi = best->lo + best->len;
	if (a >= hi)
		snprintf(buf, len, "%llu bytes past the end of %s at [%#llx, %#llx)", (unsigned long long)(a - hi), what,
			 lo, hi);
	else if (a < lo && a + n <= lo)
		snprintf(buf, len, "%llu bytes before %s at [%#llx, %#llx)", (unsigned long long)(lo - a), what, lo, hi);
	else if (a < lo)
		snprintf(buf, len, "across the start of %s at [%#llx, %#llx)", what, lo, hi);
	else
		snprintf(buf, len, "across the end of %s at [%#llx, %#llx)", what, lo, hi);
}

static bool allow(struct vm_run *run, const struct vm_region *r, __u64 a, __u32 n, __u32 acc)
{
	if ((r->perm & acc) == acc)
		return true;
	/* a context write: the bytes the program type may write */
	if (r->kind == VM_R_CTX && acc == VM_WR && run->ctx_wmask) {
		__u64 o = a - r->lo;
		for (__u32 k = 0; k < n; k++)
			if (!run->ctx_wmask[o + k])
				return false;
		return true;
	}
	return false;
}

static bool check(struct vm_run *run, __u64 a, __u64 n, __u32 acc, const char *what)
{
	const struct vm_region *r = vm_region_find(run, a, n);
	if (r && allow(run, r, a, (__u32)n, acc)) {
		run->c_lo = r->lo;
		run->c_len = r->len;
		run->c_perm = r->perm;
		return true;
	}
	char where[160];
	near(run, a, n, where, sizeof(where));
	if (r)
		vm_fault(run, -EFAULT, "%s of %llu bytes at %#llx: %s may not be %s", what, (unsigned long long)n,
			 (unsigned long long)a, vm_region_kind_name(r->kind), acc & VM_WR ? "written there" : "read");
	else
		vm_fault(run, -EFAULT, "%s of %llu bytes at %#llx is outside the program's memory (%s)", what,
			 (unsigned long long)n, (unsigned long long)a, where);
	return false;
}

bool vm_mem_slow(struct vm_run *run, const struct vm_insn *pc, __u64 a, __u32 n, __u32 acc)
{
	run->fault_insn = pc->idx;
	return check(run, a, n, acc, acc == VM_RW ? "atomic access" : acc & VM_WR ? "write" : "read");
}

int vm_mem_arg(struct vm_run *run, __u64 a, __u64 len, __u32 acc, const char *what)
{
	if (!len)
		return 0;
	if (len > (1ull << 32) || a + len < a) {
		vm_fault(run, -EFAULT, "%s: %llu bytes at %#llx", what, (unsigned long long)len, (unsigned long long)a);
		return -EFAULT;
	}
	if (vm_cache_ok(run, a, (__u32)len, acc))
		return 0;
	return check(run, a, len, acc, what) ? 0 : -EFAULT;
}
