/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/mem.c: the event's memory. Two arenas per firing process, each
 * one anonymous mapping reserved once (pages are only backed once used): the
 * synthetic kernel objects (task_struct and whatever a path reaches), which
 * the VM gives the run as a read-only region, and the task's user memory
 * (strings and arrays a syscall argument points to), which only
 * bpf_probe_read_user reaches. Between events the used part is cleared.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fire_int.h"

int fmem_init(struct fmem *m, size_t cap)
{
	if (m->base)
		return 0;
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	m->base = p;
	m->cap = cap;
	/* never address 0 of the arena: a NULL-looking offset would be a valid object */
	m->used = 64;
	return 0;
}

void fmem_reset(struct fmem *m)
{
	if (!m->base)
		return;
	memset(m->base, 0, m->used);
	m->used = 64;
}

void fmem_free(struct fmem *m)
{
	if (m->base)
		munmap(m->base, m->cap);
	memset(m, 0, sizeof(*m));
}

void *fmem_alloc(struct fmem *m, size_t size, size_t align)
{
	if (!m->base || !align)
		return NULL;
	size_t at = (m->used + align - 1) & ~(align - 1);
	if (at > m->cap || size > m->cap - at)
		return NULL;
	m->used = at + size;
	return m->base + at;               /* zero: fresh pages or cleared by fmem_reset */
}

bool fmem_has(const struct fmem *m, __u64 addr, __u64 len)
{
	__u64 o = addr - (__u64)(uintptr_t)m->base;
	return m->base && o < m->used && len <= m->used - o;
}
