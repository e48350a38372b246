/* SPDX-License-Identifier: MIT */
/*
 * emu/perf/output.c: records into an emulated perf event's ring, as the
 * kernel's bpf_perf_event_output() -> perf_event_output() writes them
 * (kernel/trace/bpf_trace.c, kernel/events/core.c and ring_buffer.c):
 *
 *   - the event comes from a PERF_EVENT_ARRAY slot: the index, or the CPU
 *     the program runs on for BPF_F_CURRENT_CPU (E2BIG, ENOENT); it must be
 *     a BPF output event (EINVAL) that is enabled and on that CPU
 *     (EOPNOTSUPP);
 *   - a PERF_RECORD_SAMPLE with the fields sample_type asks for, in the
 *     kernel's order, the raw data padded with zeros to 8 bytes;
 *   - no room (CIRC_SPACE(head, data_tail) < size; the ring can never be
 *     filled to the last byte) or a paused ring: the record is lost,
 *     counted, and the next record that fits is preceded by a
 *     PERF_RECORD_LOST { id, lost } (plus sample_id with sample_id_all);
 *   - wake-ups: every wakeup_events samples, or when head runs more than
 *     the watermark (attr.wakeup_watermark, else half the ring) past the
 *     last wake-up position; a wake-up makes the next poll report
 *     EPOLLIN and wakes waiting threads of any process.
 *
 * A PERF_EVENT_ARRAY slot holds the event's id and a reference link
 * (<root>/refs/<map id>/perf-<id>-<n>, emu/map_in_map.c), so a producer in any
 * process finds the event's file through the map. Each process keeps the
 * mapping of the events it wrote to (keyed by map, slot and event id).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "map.h"
#include "../os.h"
#include "perf.h"

#define SAMPLE_ID_ALL_BIT (1ull << 18)

/* ---- the per-process mappings of events written to ---- */

struct writer {
	dev_t map_dev;
	ino_t map_ino;
	__u32 index, ev_id;
	char *base;                     /* the whole event file, from offset 0 */
	size_t len;
	__u64 tick;
};

#define WRITERS 64
static struct writer writers[WRITERS];
static __u64 writer_tick;
static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;

static void writer_unmap(struct writer *w)
{
	if (w->base)
		emu_os_munmap(w->base, w->len);
	memset(w, 0, sizeof(*w));
}

/* Opens the event file a map's slot references: <root>/refs/<map id>/perf-<id>-*. */
static int open_ref(const struct emu_obj *map, __u32 ev_id)
{
	char dir[PATH_MAX], prefix[32];
	if (snprintf(dir, sizeof(dir), "%.4000s/refs/%u", emu_config()->root, map->hdr->id) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	int n = snprintf(prefix, sizeof(prefix), "perf-%u-", ev_id);
	struct emu_os_dir *d = emu_os_opendir(dir, NULL);
	int fd = -ENOENT;
	if (!d)
		return -ENOENT;
	const struct emu_os_dirent *e;
	while (fd < 0 && (e = emu_os_readdir(d)))
		if (!strncmp(e->name, prefix, (size_t)n))
			fd = emu_os_openat(emu_os_dirfd(d), e->name, O_RDWR | O_CLOEXEC, 0);
	emu_os_closedir(d);
	return fd;
}

static int writer_map(struct writer *w, const struct emu_obj *map)
{
	int fd = open_ref(map, w->ev_id);
	if (fd < 0)
		return fd;
	struct emu_obj_hdr h;
	struct stat sb;
	int err = 0;
	if (emu_os_fstat(fd, &sb) ||
	    emu_os_pread(fd, &h, sizeof(h), emu_obj_hdr_off(sb.st_size)) != (long)sizeof(h) || h.magic != EMU_OBJ_MAGIC ||
	    h.kind != EMU_KIND_PERF_EVENT || h.id != w->ev_id || (__u64)sb.st_size != h.total_size ||
	    h.data_size < EMU_PERF_DATA_SIZE)
		err = -ENOENT;
	void *p = MAP_FAILED;
	/* the mapping keeps this open file: held (emu_fd_hold), so that the
	 * event's file is not reused while we write into it */
	if (!err && emu_fd_hold(fd, O_RDWR | EMU_HOLD_SECOND, NULL))
		err = -ENOLCK;
	if (!err) {
		p = emu_os_mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, NULL);
		if (p == MAP_FAILED)
			err = -ENOMEM;
	}
	emu_os_close(fd);
	if (err)
		return err;
	if (w->base)
		emu_os_munmap(w->base, w->len);
	w->base = p;
	w->len = (size_t)sb.st_size;
	return 0;
}

/* The mapping of the event in map's slot index (id ev_id), made or refreshed; writers_lock held. */
static struct writer *writer_get(const struct emu_obj *map, __u32 index, __u32 ev_id, int *err)
{
	struct writer *w = NULL, *victim = &writers[0];
	for (int i = 0; i < WRITERS; i++) {
		struct writer *c = &writers[i];
		if (c->base && c->map_dev == map->dev && c->map_ino == map->ino && c->index == index) {
			w = c;
			break;
		}
		if (!c->base || (victim->base && c->tick < victim->tick))
			victim = c;
	}
	if (w && w->ev_id != ev_id)
		writer_unmap(w);                 /* the slot holds another event now */
	if (!w || !w->base) {
		if (!w) {
			w = victim;
			writer_unmap(w);
		}
		w->map_dev = map->dev;
		w->map_ino = map->ino;
		w->index = index;
		w->ev_id = ev_id;
		*err = writer_map(w, map);
		if (*err) {
			writer_unmap(w);
			return NULL;
		}
	}
	w->tick = ++writer_tick;
	return w;
}

static struct emu_perf_state *writer_state(const struct writer *w)
{
	return (struct emu_perf_state *)(w->base + EMU_PERF_STATE_OFF);
}

/* ---- records ---- */

struct cursor {
	char *ring;
	__u64 mask, pos;
};

static void put(struct cursor *c, const void *src, size_t n)
{
	const char *s = src;
	while (n) {
		size_t off = (size_t)(c->pos & c->mask), room = (size_t)(c->mask + 1 - off);
		size_t k = n < room ? n : room;
		if (s)
			memcpy(c->ring + off, s, k);
		else
			memset(c->ring + off, 0, k);
		c->pos += k;
		n -= k;
		if (s)
			s += k;
	}
}

static void put64(struct cursor *c, __u64 v)
{
	put(c, &v, 8);
}

static __u64 event_clock(const struct emu_perf_state *st)
{
	struct timespec ts;
	clockid_t id = st->clockid >= 0 ? (clockid_t)st->clockid : CLOCK_MONOTONIC;
	if (clock_gettime(id, &ts))
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* __perf_event_header__init_id(): the sample_id trailer's size */
static __u32 id_header_size(__u64 t)
{
	__u32 n = 0;
	n += (t & PERF_SAMPLE_TID) ? 8 : 0;
	n += (t & PERF_SAMPLE_TIME) ? 8 : 0;
	n += (t & PERF_SAMPLE_ID) ? 8 : 0;
	n += (t & PERF_SAMPLE_STREAM_ID) ? 8 : 0;
	n += (t & PERF_SAMPLE_CPU) ? 8 : 0;
	n += (t & PERF_SAMPLE_IDENTIFIER) ? 8 : 0;
	return n;
}

static void put_sample_id(struct cursor *c, __u64 t, __u32 id, __u32 cpu, const struct emu_perf_ctx *x)
{
	if (t & PERF_SAMPLE_TID) {
		__u32 v[2] = { x->pid, x->tid };
		put(c, v, 8);
	}
	if (t & PERF_SAMPLE_TIME)
		put64(c, x->time);
	if (t & PERF_SAMPLE_ID)
		put64(c, id);
	if (t & PERF_SAMPLE_STREAM_ID)
		put64(c, id);
	if (t & PERF_SAMPLE_CPU) {
		__u32 v[2] = { cpu, 0 };
		put(c, v, 8);
	}
	if (t & PERF_SAMPLE_IDENTIFIER)
		put64(c, id);
}

/* perf_event_output() on the event of writer w: 0 or -ENOSPC / -E2BIG */
static int output(struct writer *w, __u32 id, __u32 cpu, const struct emu_perf_frag *frags, unsigned int nfrags,
		  const struct emu_perf_ctx *x)
{
	struct emu_perf_state *st = writer_state(w);
	__u64 t = st->sample_type, raw = 0;
	for (unsigned int i = 0; i < nfrags; i++)
		raw += frags[i].size;
	/* perf_prepare_sample(): the header, each field, the raw data rounded up with its u32 size */
	__u64 size = sizeof(struct perf_event_header);
	size += 8 * (!!(t & PERF_SAMPLE_IDENTIFIER) + !!(t & PERF_SAMPLE_IP) + !!(t & PERF_SAMPLE_TID) +
		     !!(t & PERF_SAMPLE_TIME) + !!(t & PERF_SAMPLE_ADDR) + !!(t & PERF_SAMPLE_ID) +
		     !!(t & PERF_SAMPLE_STREAM_ID) + !!(t & PERF_SAMPLE_CPU) + !!(t & PERF_SAMPLE_PERIOD));
	__u64 raw_rounded = (raw + 4 + 7) & ~7ull;
	if (t & PERF_SAMPLE_RAW)
		size += raw_rounded;
	if (size > 0xffff) {
		EMU_LOG(EMU_LOG_SYS, "perf event %u: a record of %llu bytes does not fit perf_event_header.size: E2BIG",
			id, (unsigned long long)size);
		return -E2BIG;
	}
	if (emu_mutex_lock_robust(&st->lock))
		EMU_LOG(EMU_LOG_SYS, "perf event %u: a producer died holding its lock", id);
	int err = 0;
	bool wake = false;
	if (!__atomic_load_n(&st->has_ring, __ATOMIC_ACQUIRE) || !st->nr_pages) {
		err = -ENOSPC;                   /* no ring buffer */
		goto out;
	}
	if (__atomic_load_n(&st->paused, __ATOMIC_ACQUIRE)) {
		st->lost++;
		st->lost_samples++;
		err = -ENOSPC;
		goto out;
	}
	struct perf_event_mmap_page *up = (void *)w->base;
	struct cursor c = { .ring = (char *)up + EMU_PAGE_SIZE, .mask = (__u64)st->nr_pages * EMU_PAGE_SIZE - 1 };
	__u64 need = size, wakeup_at_begin = st->wakeup_pos;
	__u32 idh = id_header_size(t);
	bool sample_id_all = st->attr_flags & SAMPLE_ID_ALL_BIT;
	if (st->lost)
		need += 24 + (sample_id_all ? idh : 0);
	__u64 tail = __atomic_load_n(&up->data_tail, __ATOMIC_ACQUIRE);
	__u64 head = st->head;
	if (!st->overwrite && ((tail - (head + 1)) & c.mask) < need) {
		st->lost++;                      /* perf_output_begin(): fail */
		st->lost_samples++;
		err = -ENOSPC;
		goto out;
	}
	st->head = head + need;
	if (st->head - st->wakeup_pos > st->watermark)
		st->wakeup_pos += st->watermark;
	c.pos = head;
	if (st->lost) {
		struct perf_event_header lh = {
			.type = PERF_RECORD_LOST, .misc = 0, .size = (__u16)(24 + (sample_id_all ? idh : 0)),
		};
		put(&c, &lh, sizeof(lh));
		put64(&c, id);
		put64(&c, st->lost);
		st->lost = 0;
		if (sample_id_all)
			put_sample_id(&c, t, id, cpu, x);
	}
	struct perf_event_header sh = { .type = PERF_RECORD_SAMPLE, .misc = x->misc, .size = (__u16)size };
	put(&c, &sh, sizeof(sh));
	if (t & PERF_SAMPLE_IDENTIFIER)
		put64(&c, id);
	if (t & PERF_SAMPLE_IP)
		put64(&c, x->ip);
	if (t & PERF_SAMPLE_TID) {
		__u32 v[2] = { x->pid, x->tid };
		put(&c, v, 8);
	}
	if (t & PERF_SAMPLE_TIME)
		put64(&c, x->time);
	if (t & PERF_SAMPLE_ADDR)
		put64(&c, 0);
	if (t & PERF_SAMPLE_ID)
		put64(&c, id);
	if (t & PERF_SAMPLE_STREAM_ID)
		put64(&c, id);
	if (t & PERF_SAMPLE_CPU) {
		__u32 v[2] = { cpu, 0 };
		put(&c, v, 8);
	}
	if (t & PERF_SAMPLE_PERIOD)
		put64(&c, 0);                    /* perf_sample_data_init(sd, 0, 0) */
	if (t & PERF_SAMPLE_RAW) {
		__u32 rs = (__u32)(raw_rounded - 4);
		put(&c, &rs, 4);
		for (unsigned int i = 0; i < nfrags; i++)
			put(&c, frags[i].data, frags[i].size);
		c.pos += rs - raw;               /* frag->pad: skipped, not written (__output_skip) */
	}
	/* perf_output_sample(): wakeup_events (not with a watermark) */
	if (!(st->attr_flags & (1ull << 14)) && st->wakeup) {
		if (++st->events >= st->wakeup) {
			st->events -= st->wakeup;
			st->wakeup_pos++;
		}
	}
	/* perf_output_put_handle(): publish, then wake if a wake-up position was passed */
	__atomic_store_n(&up->data_head, st->head, __ATOMIC_RELEASE);
	wake = wakeup_at_begin != st->wakeup_pos;
out:
	pthread_mutex_unlock(&st->lock);
	if (wake)
		emu_perf_wake(id, st);
	return err;
}

int emu_perf_event_output(struct emu_obj *map, __u64 flags, __u32 cpu, const struct emu_perf_frag *frags,
			  unsigned int nfrags, const struct emu_perf_ctx *ctx)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	struct emu_perf_ctx me;
	if (d->map_type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	if (flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK))
		return -EINVAL;
	__u64 index = flags & BPF_F_INDEX_MASK;
	bool any_cpu = cpu == EMU_PERF_EVENT_CPU;
	if (any_cpu && index == BPF_F_CURRENT_CPU) {
		int c = sched_getcpu();
		cpu = c < 0 ? 0 : (__u32)c;
		any_cpu = false;
	}
	if (index == BPF_F_CURRENT_CPU)
		index = cpu;
	if (index >= d->max_entries)
		return -E2BIG;
	__u32 v = __atomic_load_n((const __u32 *)emu_obj_data(map) + index, __ATOMIC_ACQUIRE);
	if (!v)
		return -ENOENT;
	if (v == EMU_PERF_SLOT_KERNEL)
		return -EINVAL;                  /* the kernel's event: every BPF output event is ours */
	pthread_mutex_lock(&writers_lock);
	int err = 0;
	struct writer *w = writer_get(map, (__u32)index, v, &err);
	if (!w) {
		pthread_mutex_unlock(&writers_lock);
		EMU_LOG(EMU_LOG_SYS, "perf event array %u: slot %llu names event %u, which cannot be opened: ENOENT",
			map->hdr->id, (unsigned long long)index, v);
		return -ENOENT;
	}
	struct emu_perf_state *st = writer_state(w);
	if (any_cpu) {
		int c = sched_getcpu();
		cpu = st->cpu >= 0 ? (__u32)st->cpu : c < 0 ? 0 : (__u32)c;
	}
	if (st->kind != EMU_PERF_BPF_OUTPUT) {
		err = -EINVAL;
	} else if (!__atomic_load_n(&st->enabled, __ATOMIC_ACQUIRE) || (st->cpu >= 0 && (__u32)st->cpu != cpu)) {
		err = -EOPNOTSUPP;               /* event->oncpu != smp_processor_id() */
	} else {
		if (!ctx) {
			me = (struct emu_perf_ctx){ .pid = (__u32)emu_caller_pid(), .tid = (__u32)emu_caller_tid(),
						    .misc = PERF_RECORD_MISC_KERNEL };
			ctx = &me;
		}
		struct emu_perf_ctx x = *ctx;
		if (!x.time)
			x.time = event_clock(st);
		err = output(w, v, cpu, frags, nfrags, &x);
	}
	pthread_mutex_unlock(&writers_lock);
	return err;
}

int emu_perf_output_fd(int map_fd, __u32 cpu, __u64 flags, const void *data, __u64 size)
{
	struct emu_obj *map;
	int acc, err = emu_fd_get(map_fd, EMU_KIND_MAP, &map, &acc);
	if (err)
		return err;
	if (!map->ops || emu_map_desc(map)->map_type != BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
	    (flags & ~BPF_F_INDEX_MASK)) {
		emu_obj_put(map);
		return -EINVAL;
	}
	char small[512], *buf = small;
	if (size > 0xffff) {
		emu_obj_put(map);
		return -E2BIG;
	}
	if (size > sizeof(small) && !(buf = malloc(size))) {
		emu_obj_put(map);
		return -ENOMEM;
	}
	err = emu_copy_from_user(buf, data, size);
	if (!err) {
		struct emu_perf_frag f = { buf, size };
		err = emu_perf_event_output(map, flags, cpu, &f, 1, NULL);
	}
	if (buf != small)
		free(buf);
	emu_obj_put(map);
	return err;
}

/* ---- PERF_EVENT_ARRAY values ---- */

int emu_perf_array_get(int ufd, struct emu_obj **evp)
{
	struct emu_obj *ev;
	int acc;
	*evp = NULL;
	if (ufd < 0 || emu_os_fcntl(emu_caller_fd(ufd), F_GETFD, 0) < 0)
		return -EBADF;
	if (!emu_fd_get(ufd, EMU_KIND_PERF_EVENT, &ev, &acc)) {
		/* perf_event_read_local(): inherited events are EOPNOTSUPP */
		if (emu_perf_state(ev)->attr_flags & 2) {
			emu_obj_put(ev);
			return -EOPNOTSUPP;
		}
		*evp = ev;
		return 0;
	}
	return emu_perf_fd_kind(ufd) == EMU_PERF_KERNEL ? 0 : -EBADF;
}

/* ---- the embedding API (include/bpfemu/bpfemu.h) ---- */

int bpfemu_perf_output(int map_fd, unsigned long long flags, const void *data, unsigned long long size)
	__attribute__((weak, visibility("default")));
int bpfemu_perf_output(int map_fd, unsigned long long flags, const void *data, unsigned long long size)
{
	int err = emu_perf_output_fd(map_fd, EMU_PERF_EVENT_CPU, flags, data, size);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

int bpfemu_perf_output_on_cpu(int map_fd, unsigned int cpu, unsigned long long flags, const void *data,
			      unsigned long long size) __attribute__((weak, visibility("default")));
int bpfemu_perf_output_on_cpu(int map_fd, unsigned int cpu, unsigned long long flags, const void *data,
			      unsigned long long size)
{
	int err = cpu == EMU_PERF_EVENT_CPU ? -EINVAL : emu_perf_output_fd(map_fd, cpu, flags, data, size);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}
