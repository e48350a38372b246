/* SPDX-License-Identifier: MIT */
/*
 * emu/ringbuf.c: BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_USER_RINGBUF.
 *
 * What user space maps (the kernel's layout, from file offset 0 of the fd):
 *     page 0          consumer_pos (u64)
 *     page 1          producer_pos (u64), pending_pos (u64)
 *     pages 2..       data, max_entries bytes, then the same data again
 * The kernel maps the data pages twice so a record that wraps past the end
 * reads as one run. Our storage is a file, so the data area is simply twice
 * as long (2 * max_entries): every writer and every reader touches a record at
 * data + (pos & mask) for its whole length, never through the other copy, so
 * each byte is read at the very address it was written at and the two copies
 * never need to agree. libbpf reads exactly that way.
 *
 * Records: an 8-byte header { u32 len | BUSY (1 << 31) | DISCARD (1 << 30);
 * u32 pg_off } then len bytes, rounded up to 8. Producers (bpfemu_ringbuf_output
 * for RINGBUF, libbpf's user_ring_buffer for USER_RINGBUF) write the record,
 * then clear BUSY with a release store, as the kernel does.
 *
 * Element operations from the syscall are the kernel's ENOTSUPP (524).
 *
 * Readiness (epoll, poll, select on the map fd; the shim's preload/poll.c):
 * the kernel's ring buffer fd is readable when data is available (RINGBUF:
 * producer_pos != consumer_pos) and a user ring buffer's writable while it
 * is not full. Our fd is a regular file, so the shim waits on a stand-in: a
 * FIFO per ring, <root>/notify/map-<id>, that every waiter holds open
 * read-write. A waiter counts itself in the ring's header (RB_WAITERS), checks
 * the state, then sleeps on the FIFO; a producer that makes the ring ready
 * (the kernel's rule: the record it commits is the first the consumer has
 * not seen, or BPF_RB_FORCE_WAKEUP; a drain that consumed something) and sees
 * a waiter writes one byte into the FIFO, from any process. Waiters re-check
 * the state after every wake-up and drain stale bytes only when the state
 * says not ready, so a byte can cause a spurious wake-up, never a lost one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpfemu/bpfemu.h"
#include "map.h"
#include "os.h"

#define RB_BUSY_BIT (1u << 31)
#define RB_DISCARD_BIT (1u << 30)
#define RB_HDR_SZ 8u
#define KERNEL_RINGBUF_MAP_SIZE 304u     /* sizeof(struct bpf_ringbuf_map): bytes_memlock */
#define KERNEL_RINGBUF_META_PAGES 3u     /* the header page, consumer and producer pages */
#define RB_POS_PAGES 2u                  /* what user space sees before the data */

enum { RB_WAITERS = 0 };                 /* type_state slot: threads waiting for readiness */

static void rb_notify(struct emu_obj *map);

static int ringbuf_check_spec(const struct emu_map_spec *s)
{
	if (s->map_flags & ~(__u32)BPF_F_NUMA_NODE)
		return -EINVAL;
	if (s->key_size || s->value_size || !s->max_entries || (s->max_entries & (s->max_entries - 1)) ||
	    (s->max_entries % EMU_PAGE_SIZE))
		return -EINVAL;
	return 0;
}

static __u64 ringbuf_data_size(const struct emu_map_spec *s)
{
	return (__u64)RB_POS_PAGES * EMU_PAGE_SIZE + 2ull * s->max_entries;
}

static __u64 ringbuf_mem_usage(const struct emu_obj *map)
{
	__u64 data_pages = emu_map_desc(map)->max_entries / EMU_PAGE_SIZE;
	return KERNEL_RINGBUF_MAP_SIZE + ((KERNEL_RINGBUF_META_PAGES + data_pages) * EMU_PAGE_SIZE) +
	       (KERNEL_RINGBUF_META_PAGES + 2 * data_pages) * 8;
}

static int ringbuf_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -ENOTSUPP;
}

static int ringbuf_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -ENOTSUPP;
}

static int ringbuf_delete(struct emu_obj *map, const void *key)
{
	(void)map, (void)key;
	return -ENOTSUPP;
}

static int ringbuf_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map, (void)key, (void)next;
	return -ENOTSUPP;
}

/* ringbuf_map_mmap_kern / ringbuf_map_mmap_user */
static int ringbuf_mmap_check_prot(const struct emu_obj *map, size_t len, off_t off, int prot)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	if (prot & PROT_WRITE) {
		if (d->map_type == BPF_MAP_TYPE_RINGBUF && (off != 0 || len != EMU_PAGE_SIZE))
			return -EPERM;           /* only the consumer page is writable */
		if (d->map_type == BPF_MAP_TYPE_USER_RINGBUF && off == 0)
			return -EPERM;           /* everything but the consumer page is */
	}
	if (off < 0 || (__u64)off + page_align(len) > (__u64)RB_POS_PAGES * EMU_PAGE_SIZE + 2ull * d->max_entries)
		return -EINVAL;              /* remap_vmalloc_range() */
	return 0;
}

/* ---- the positions and records ---- */

struct rb {
	__u64 *consumer_pos, *producer_pos, *pending_pos;
	char *data;
	__u64 mask;
};

static struct rb rb_of(struct emu_obj *map)
{
	char *base = emu_obj_data(map);
	struct rb r = {
		.consumer_pos = (__u64 *)base,
		.producer_pos = (__u64 *)(base + EMU_PAGE_SIZE),
		.pending_pos = (__u64 *)(base + EMU_PAGE_SIZE) + 1,
		.data = base + RB_POS_PAGES * EMU_PAGE_SIZE,
		.mask = emu_map_desc(map)->max_entries - 1,
	};
	return r;
}

/* bpf_ringbuf_output(): reserve, copy, commit. Producers serialize on the map's lock. */
int emu_ringbuf_output(int fd, const void *data, __u64 size, __u64 flags)
{
	struct emu_obj *map;
	int acc, err = emu_fd_get(fd, EMU_KIND_MAP, &map, &acc);
	if (err)
		return err;
	if (!map->ops || emu_map_desc(map)->map_type != BPF_MAP_TYPE_RINGBUF) {
		err = -EINVAL;
		goto out;
	}
	if (flags & ~(__u64)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) {
		err = -EINVAL;
		goto out;
	}
	struct rb r = rb_of(map);
	__u64 total = (size + RB_HDR_SZ + 7) & ~7ull;
	if (size > (r.mask + 1) / 4 || total > r.mask + 1) {
		err = -EAGAIN;            /* bpf_ringbuf_output: reservation failed */
		goto out;
	}
	emu_obj_lock(map);
	__u64 cons = __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE);
	__u64 prod = *r.producer_pos;
	if (prod - cons + total > r.mask + 1) {
		emu_obj_unlock(map);
		err = -EAGAIN;
		goto out;
	}
	__u32 *hdr = (__u32 *)(r.data + (prod & r.mask));
	hdr[0] = (__u32)size | RB_BUSY_BIT;
	/* the kernel's pg_off: pages from the start of its struct bpf_ringbuf, one page before the data */
	hdr[1] = (__u32)(((char *)hdr - ((char *)emu_obj_data(map) - EMU_PAGE_SIZE)) / EMU_PAGE_SIZE);
	__atomic_store_n(r.producer_pos, prod + total, __ATOMIC_RELEASE);
	*r.pending_pos = prod + total;
	emu_obj_unlock(map);
	if (emu_copy_from_user(hdr + 2, data, size)) {
		__atomic_store_n(&hdr[0], (__u32)size | RB_DISCARD_BIT, __ATOMIC_RELEASE);
		err = -EFAULT;
		goto out;
	}
	__atomic_store_n(&hdr[0], (__u32)size, __ATOMIC_RELEASE);
	/* bpf_ringbuf_commit: wake the consumer if it waits for exactly this record */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if ((flags & BPF_RB_FORCE_WAKEUP) ||
	    (!(flags & BPF_RB_NO_WAKEUP) && __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE) == prod))
		rb_notify(map);
out:
	emu_obj_put(map);
	return err;
}

/* ---- a BPF program's side (emu/vm), on the map object ---- */

#define RINGBUF_MAX_RECORD_SZ (0xffffffffu / 4)

/* __bpf_ringbuf_reserve(): NULL when the record cannot be had. The map's lock
 * serializes producers (emu_ringbuf_output takes it too). Positions run as
 * the kernel's: the producer stays less than the ring's size ahead of the
 * consumer and of the oldest record not yet committed (pending_pos). */
void *emu_ringbuf_reserve(struct emu_obj *map, __u64 size)
{
	struct rb r = rb_of(map);
	if (size > RINGBUF_MAX_RECORD_SZ)
		return NULL;
	__u64 len = (size + RB_HDR_SZ + 7) & ~7ull;
	if (len > r.mask + 1)
		return NULL;
	__u64 cons = __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE);
	emu_obj_lock(map);
	__u64 pend = *r.pending_pos, prod = *r.producer_pos;
	while (pend < prod) {
		__u32 *h = (__u32 *)(r.data + (pend & r.mask));
		__u32 hl = __atomic_load_n(&h[0], __ATOMIC_ACQUIRE);
		if (hl & RB_BUSY_BIT)
			break;
		pend += ((hl & ~RB_DISCARD_BIT) + RB_HDR_SZ + 7) & ~7ull;
	}
	*r.pending_pos = pend;
	__u64 new_prod = prod + len;
	if (new_prod - cons > r.mask || new_prod - pend > r.mask) {
		emu_obj_unlock(map);
		return NULL;
	}
	__u32 *hdr = (__u32 *)(r.data + (prod & r.mask));
	/* the kernel's pg_off, as emu_ringbuf_output writes it */
	hdr[1] = (__u32)(((char *)hdr - ((char *)emu_obj_data(map) - EMU_PAGE_SIZE)) / EMU_PAGE_SIZE);
	__atomic_store_n(&hdr[0], (__u32)size | RB_BUSY_BIT, __ATOMIC_RELAXED);
	__atomic_store_n(r.producer_pos, new_prod, __ATOMIC_RELEASE);
	emu_obj_unlock(map);
	return hdr + 2;
}

/* bpf_ringbuf_commit(): the record becomes whole (or discarded); the consumer
 * is woken if it waits for exactly this record, or when forced */
void emu_ringbuf_commit(struct emu_obj *map, void *sample, bool discard, __u64 flags)
{
	struct rb r = rb_of(map);
	__u32 *hdr = (__u32 *)sample - 2;
	__u32 len = __atomic_load_n(&hdr[0], __ATOMIC_RELAXED) ^ RB_BUSY_BIT;
	if (discard)
		len |= RB_DISCARD_BIT;
	__atomic_exchange_n(&hdr[0], len, __ATOMIC_SEQ_CST);
	__u64 rec_pos = (__u64)((char *)hdr - r.data);
	__u64 cons = __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE) & r.mask;
	if ((flags & BPF_RB_FORCE_WAKEUP) || (cons == rec_pos && !(flags & BPF_RB_NO_WAKEUP)))
		rb_notify(map);
}

/* bpf_ringbuf_query() */
__u64 emu_ringbuf_query(struct emu_obj *map, __u64 flags)
{
	struct rb r = rb_of(map);
	switch (flags) {
	case BPF_RB_AVAIL_DATA: {
		__u64 cons = __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE);
		return __atomic_load_n(r.producer_pos, __ATOMIC_ACQUIRE) - cons;
	}
	case BPF_RB_RING_SIZE:
		return r.mask + 1;
	case BPF_RB_CONS_POS:
		return __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE);
	case BPF_RB_PROD_POS:
		return __atomic_load_n(r.producer_pos, __ATOMIC_ACQUIRE);
	default:
		return 0;
	}
}

/* bpf_user_ringbuf_drain() from user space: calls fn for each committed
 * record, skips discarded ones, stops at a busy one. Returns the number of
 * records handed to fn, or -errno. fn returning non-zero stops the drain. */
long emu_user_ringbuf_drain(int fd, int (*fn)(const void *data, __u32 size, void *ctx), void *ctx)
{
	struct emu_obj *map;
	int acc, err = emu_fd_get(fd, EMU_KIND_MAP, &map, &acc);
	long n = 0;
	if (err)
		return err;
	if (!map->ops || emu_map_desc(map)->map_type != BPF_MAP_TYPE_USER_RINGBUF) {
		emu_obj_put(map);
		return -EINVAL;
	}
	struct rb r = rb_of(map);
	emu_obj_lock(map);
	__u64 cons = *r.consumer_pos;
	__u64 prod = __atomic_load_n(r.producer_pos, __ATOMIC_ACQUIRE);
	while (cons < prod) {
		__u32 *hdr = (__u32 *)(r.data + (cons & r.mask));
		__u32 len = __atomic_load_n(&hdr[0], __ATOMIC_ACQUIRE);
		if (len & RB_BUSY_BIT)
			break;
		__u32 size = len & ~(RB_BUSY_BIT | RB_DISCARD_BIT);
		__u64 total = ((__u64)size + RB_HDR_SZ + 7) & ~7ull;
		if (total > prod - cons) {
			n = -EINVAL;      /* a producer wrote a length past its reservation */
			break;
		}
		int stop = 0;
		if (!(len & RB_DISCARD_BIT)) {
			n++;
			stop = fn(hdr + 2, size, ctx);
		}
		cons += total;
		__atomic_store_n(r.consumer_pos, cons, __ATOMIC_RELEASE);
		if (stop)
			break;
	}
	emu_obj_unlock(map);
	if (n > 0) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		rb_notify(map);                 /* space freed: wake the producer */
	}
	emu_obj_put(map);
	return n;
}

/* ---- readiness ---- */

static int notify_path(const struct emu_obj *map, char *buf, size_t len)
{
	int err = emu_root_ready();
	if (err)
		return err;
	if (snprintf(buf, len, "%.4000s/notify", emu_config()->root) >= (int)len)
		return -ENAMETOOLONG;
	err = emu_os_mkdir(buf, 0700);
	if (err && err != -EEXIST)
		return err;
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "/map-%u", map->hdr->id);
	return 0;
}

static void rb_notify(struct emu_obj *map)
{
	char path[PATH_MAX];
	if (!__atomic_load_n(&emu_map_desc(map)->type_state[RB_WAITERS], __ATOMIC_SEQ_CST))
		return;                         /* nobody sleeps: waiters check the state first */
	if (notify_path(map, path, sizeof(path)))
		return;
	int fd = emu_os_open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return;                         /* ENOENT, ENXIO: no waiter holds it open */
	long w = emu_os_write(fd, "", 1);   /* EAGAIN: full of wake-ups already */
	(void)w;
	emu_os_close(fd);
}

static int ringbuf_get(int fd, bool cached_only, struct emu_obj **mapp)
{
	struct emu_obj *map;
	int acc, err = cached_only ? emu_fd_peek(fd, &map) : emu_fd_get_local(fd, EMU_KIND_NONE, &map, &acc);
	if (err)
		return err;
	__u32 t = map->hdr->kind == EMU_KIND_MAP && map->ops ? emu_map_desc(map)->map_type : 0;
	if (t != BPF_MAP_TYPE_RINGBUF && t != BPF_MAP_TYPE_USER_RINGBUF) {
		emu_obj_put(map);
		return -EINVAL;
	}
	*mapp = map;
	return 0;
}

int emu_ringbuf_fd_type(int fd, bool cached_only)
{
	struct emu_obj *map;
	if (ringbuf_get(fd, cached_only, &map))
		return 0;
	int t = (int)emu_map_desc(map)->map_type;
	emu_obj_put(map);
	return t;
}

int emu_ringbuf_notify_open(int fd)
{
	char path[PATH_MAX];
	struct emu_obj *map;
	int err = ringbuf_get(fd, false, &map);
	if (err)
		return err;
	err = notify_path(map, path, sizeof(path));
	if (!err && (err = emu_os_mknodat(AT_FDCWD, path, S_IFIFO | 0600, 0)) == -EEXIST)
		err = 0;
	/* read-write: the FIFO always has a writer, so it never reports a hang-up */
	int nfd = err ? err : emu_os_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	emu_obj_put(map);
	return nfd;
}

unsigned int emu_ringbuf_revents(int fd)
{
	struct emu_obj *map;
	if (ringbuf_get(fd, false, &map))
		return POLLNVAL;
	struct rb r = rb_of(map);
	__u64 prod = __atomic_load_n(r.producer_pos, __ATOMIC_ACQUIRE);
	__u64 cons = __atomic_load_n(r.consumer_pos, __ATOMIC_ACQUIRE);
	unsigned int ev;
	if (emu_map_desc(map)->map_type == BPF_MAP_TYPE_RINGBUF)
		ev = prod != cons ? POLLIN | POLLRDNORM : 0;          /* ringbuf_map_poll_kern */
	else
		ev = prod - cons < r.mask + 1 ? POLLOUT | POLLWRNORM : 0;   /* ringbuf_map_poll_user */
	emu_obj_put(map);
	return ev;
}

/* Notification FIFOs of rings nothing reaches any more (run with the id scans' gc). */
void emu_ringbuf_notify_gc(void)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%.4000s/notify", emu_config()->root) >= (int)sizeof(path))
		return;
	struct emu_os_dir *d = emu_os_opendir(path, NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return;
	while ((e = emu_os_readdir(d))) {
		unsigned int id;
		if (sscanf(e->name, "map-%u", &id) == 1 && !emu_obj_alive(EMU_KIND_MAP, id))
			emu_os_unlinkat(emu_os_dirfd(d), e->name, 0);
	}
	emu_os_closedir(d);
}

void emu_ringbuf_waiting(int fd, int delta)
{
	struct emu_obj *map;
	if (ringbuf_get(fd, false, &map))
		return;
	__atomic_add_fetch(&emu_map_desc(map)->type_state[RB_WAITERS], (__u64)(__s64)delta, __ATOMIC_SEQ_CST);
	emu_obj_put(map);
}

const struct emu_map_ops ringbuf_map_ops = {
	.check_spec = ringbuf_check_spec,
	.data_size = ringbuf_data_size,
	.mem_usage = ringbuf_mem_usage,
	.lookup = ringbuf_lookup,
	.update = ringbuf_update,
	.delete = ringbuf_delete,
	.get_next_key = ringbuf_get_next_key,
	.mmap_check_prot = ringbuf_mmap_check_prot,
};

const struct emu_map_ops user_ringbuf_map_ops = {
	.check_spec = ringbuf_check_spec,
	.data_size = ringbuf_data_size,
	.mem_usage = ringbuf_mem_usage,
	.lookup = ringbuf_lookup,
	.update = ringbuf_update,
	.delete = ringbuf_delete,
	.get_next_key = ringbuf_get_next_key,
	.mmap_check_prot = ringbuf_mmap_check_prot,
};

/* ---- the embedding API (include/bpfemu/bpfemu.h) ---- */

int bpfemu_ringbuf_output(int map_fd, const void *data, unsigned long long size, unsigned long long flags)
	__attribute__((weak, visibility("default")));
int bpfemu_ringbuf_output(int map_fd, const void *data, unsigned long long size, unsigned long long flags)
{
	int err = emu_ringbuf_output(map_fd, data, size, flags);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

long bpfemu_user_ringbuf_drain(int map_fd, int (*fn)(const void *data, unsigned int size, void *ctx), void *ctx)
	__attribute__((weak, visibility("default")));
long bpfemu_user_ringbuf_drain(int map_fd, int (*fn)(const void *data, unsigned int size, void *ctx), void *ctx)
{
	long n = emu_user_ringbuf_drain(map_fd, fn, ctx);
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	return n;
}
