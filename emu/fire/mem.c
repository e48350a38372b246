/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/mem.c: the events' memory. Two rings per state root, each a file
 * in it (<root>/fire/kmem, <root>/fire/umem: sparse, backed as used) that
 * every firing process maps at the same fixed address: the synthetic kernel
 * objects (task_structs, what a path reaches), which the VM gives a run as a
 * read-only region, and the tasks' user memory (strings and arrays a syscall
 * argument points to), which only bpf_probe_read_user reaches.
 *
 * The address is the first of a few fixed candidates that maps (the file's
 * head page records it, so later processes map the same), plus the ring's
 * slot. Objects outlive their event, as the kernel's do: a program that keeps a
 * pointer at one event (opensnoop's filename at sys_enter_openat,
 * tcpconnect's struct sock at the kprobe) reads the same bytes at a later one
 * (sys_exit_openat, the kretprobe), fired by another process. Allocation goes
 * round the ring: an object is overwritten only after its ring filled once
 * more, as freed kernel memory is eventually reused.
 *
 * The ring's head lives in its first page (an atomic offset), the objects
 * after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fire_int.h"
#include "../os_errno.h"

#define FMEM_MAGIC 0x454d454d45524946ull       /* "FIREMEME" */

struct fmem_hdr {
	__u64 magic;
	__u64 head;                    /* offset of the next object, from the data */
	__u64 laps;                    /* times the ring went round */
	__u64 addr;                    /* where the first process mapped it: the others try there first */
};

/* Where the rings may go, in this order: above the PIE executables and their
 * heaps (x86-64 places them from 0x555555554000, 2^28 pages at most with the
 * default mmap_rnd_bits), and in sanitized builds outside ASan's allocator
 * (0x600000000000) and inside TSan's application ranges; then two further
 * places for hosts where those are taken. */
static const __u64 candidates[] = { 0x567000000000ull, 0x4f0000000000ull, 0x700000000000ull };

static void *map_at(int fd, __u64 addr, size_t len)
{
	void *p = emu_oe_mmap((void *)(uintptr_t)addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (p != (void *)(uintptr_t)addr) {            /* a kernel without MAP_FIXED_NOREPLACE */
		emu_oe_munmap(p, len);
		return NULL;
	}
	return p;
}

int fmem_init(struct fmem *m, const char *name, __u64 slot, size_t cap)
{
	const struct emu_config *c = emu_config();
	if (m->base && !strcmp(m->root, c->root))
		return 0;
	fmem_free(m);
	char dir[PATH_MAX], path[PATH_MAX];
	int err = emu_root_ready();
	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%.4000s/fire", c->root);
	if (emu_oe_mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%.4000s/fire/%s", c->root, name);
	int fd = emu_oe_open3(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	size_t len = EMU_PAGE_SIZE + cap;
	struct stat sb;
	if (emu_oe_fstat(fd, &sb) || ((size_t)sb.st_size < len && emu_oe_ftruncate(fd, (off_t)len))) {
		err = -errno;
		emu_oe_close(fd);
		return err;
	}
	/* the address the ring already lives at in other processes, else the candidates in order */
	struct fmem_hdr first;
	__u64 want = 0;
	if (pread(fd, &first, sizeof(first), 0) == (ssize_t)sizeof(first) && first.magic == FMEM_MAGIC)
		want = first.addr;
	void *p = want ? map_at(fd, want, len) : NULL;
	for (size_t i = 0; !p && i < ARRAY_SIZE(candidates); i++)
		if (candidates[i] + slot != want)
			p = map_at(fd, candidates[i] + slot, len);
	emu_oe_close(fd);
	if (!p)
		return -EEXIST;
	struct fmem_hdr *h = p;
	__u64 zero = 0;
	if (__atomic_compare_exchange_n(&h->magic, &zero, FMEM_MAGIC, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		__atomic_store_n(&h->addr, (__u64)(uintptr_t)p, __ATOMIC_RELEASE);
	else if (want && (__u64)(uintptr_t)p != want)
		EMU_LOG(EMU_LOG_SYS, "fire: %s is mapped at %p here, at %#llx in the processes that made it: pointers "
			"kept from their events do not reach it", path, p, (unsigned long long)want);
	m->hdr = p;
	m->base = (unsigned char *)p + EMU_PAGE_SIZE;
	m->cap = cap;
	snprintf(m->root, sizeof(m->root), "%s", c->root);
	return 0;
}

void fmem_free(struct fmem *m)
{
	if (m->hdr)
		emu_oe_munmap(m->hdr, EMU_PAGE_SIZE + m->cap);
	memset(m, 0, sizeof(*m));
}

void *fmem_alloc(struct fmem *m, size_t size, size_t align)
{
	struct fmem_hdr *h = m->hdr;
	if (!h || !align || size > m->cap / 4)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	__u64 old = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE), at, next;
	do {
		/* never offset 0: a NULL-looking object; round the ring when it is full */
		at = (old + align - 1) & ~(__u64)(align - 1);
		if (at < 64)
			at = 64;
		if (at + size > m->cap)
			at = 64;
		next = at + size;
	} while (!__atomic_compare_exchange_n(&h->head, &old, next, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	if (at == 64 && old > 64)
		__atomic_add_fetch(&h->laps, 1, __ATOMIC_RELAXED);
	memset(m->base + at, 0, size);
	return m->base + at;
}

bool fmem_has(const struct fmem *m, __u64 addr, __u64 len)
{
	__u64 o = addr - (__u64)(uintptr_t)m->base;
	return m->base && o < m->cap && len <= m->cap - o;
}
