/* SPDX-License-Identifier: MIT */
/*
 * emu/perf/perf.h: emulated perf events.
 *
 * perf_event_open of PERF_TYPE_SOFTWARE / PERF_COUNT_SW_BPF_OUTPUT (always)
 * and of the probe PMUs (kprobe, uprobe, tracepoint; BPFEMU_ATTACH=inert
 * only) gives an object file of kind EMU_KIND_PERF_EVENT: its fd reads
 * anon_inode:[perf_event], bpf() answers it as any fd that is no bpf object,
 * and it holds the event's state where every process sees it (file
 * offsets; the data of an object starts at 0, emu/obj.h):
 *
 *     0                   struct perf_event_mmap_page: what mmap(fd, 0)
 *                         shows, so a consumer maps the file at the
 *                         kernel's own offsets
 *     4 KiB               room for EMU_PERF_MAX_PAGES data pages, sparse:
 *                         the first mmap picks 2^n of them and populates
 *                         them (the kernel allocates the ring there too)
 *     EMU_PERF_STATE_OFF  struct emu_perf_state (two pages: the event, its
 *                         ring's positions, its producer lock, what was
 *                         attached through it, the probe it stands for)
 *     then                the object header page
 *
 * Producers (bpfemu_perf_output() from any process, later the VM's
 * bpf_perf_event_output) write PERF_RECORD_SAMPLE / PERF_RECORD_LOST records
 * as the kernel's perf_output_begin/end do, under the state's robust lock;
 * consumers (libbpf's perf_buffer, perf) read data_head and write
 * data_tail in the mapped page as on the kernel. Readiness goes through the
 * shim's poll wrappers (preload/poll.c) and a FIFO per event, like ring
 * buffer maps (emu/ringbuf.c).
 */
#ifndef BPFEMU_PERF_H
#define BPFEMU_PERF_H

#include <linux/perf_event.h>

#include "obj.h"

enum emu_perf_kind {
	EMU_PERF_NONE, EMU_PERF_KPROBE, EMU_PERF_UPROBE, EMU_PERF_TRACEPOINT,
	EMU_PERF_KERNEL,               /* a real perf event fd of the kernel's */
	EMU_PERF_BPF_OUTPUT,           /* PERF_TYPE_SOFTWARE / PERF_COUNT_SW_BPF_OUTPUT */
};

#define EMU_PERF_MAX_PAGES (1u << 14)           /* the largest ring: 64 MiB (ENOMEM past it) */
#define EMU_PERF_STATE_OFF ((1ull + EMU_PERF_MAX_PAGES) * EMU_PAGE_SIZE)
#define EMU_PERF_STATE_SIZE (2u * EMU_PAGE_SIZE)
#define EMU_PERF_DATA_SIZE (EMU_PERF_STATE_OFF + EMU_PERF_STATE_SIZE)
#define EMU_PERF_NAME_MAX 4096u

/* The event, in the first two pages of its data area (shared by every process). */
struct emu_perf_state {
	pthread_mutex_t lock;          /* robust: producers, ioctls and the first mmap */
	__u32 kind;                    /* enum emu_perf_kind */
	__u32 type;                    /* perf_event_attr.type */
	__u64 config, config1, config2;
	__u64 sample_type, read_format;
	__u64 attr_flags;              /* the bit-field word after read_format */
	__u32 wakeup;                  /* wakeup_events, or wakeup_watermark with the watermark bit */
	__s32 clockid;
	__u64 sample_period;
	__s32 cpu, pid;                /* as opened (pid: the task's, or -1) */
	__u32 enabled;                 /* event->state == ACTIVE */
	__u32 paused;                  /* PERF_EVENT_IOC_PAUSE_OUTPUT */
	/* the ring (struct perf_buffer), from the first mmap on */
	__u32 nr_pages;                /* data pages; 0: not mapped yet */
	__u32 overwrite;               /* mapped without PROT_WRITE */
	__u32 has_ring;
	__u32 poll;                    /* EPOLLIN once woken, until a poll reads it */
	__u64 head;                    /* rb->head: where the next record goes */
	__u64 wakeup_pos;              /* rb->wakeup */
	__u64 lost;                    /* rb->lost: records dropped since the last LOST record */
	__u64 events;                  /* rb->events: samples since the last wake-up (wakeup_events) */
	__u64 watermark;               /* rb->watermark */
	__u64 lost_samples;            /* event->lost_samples */
	__u64 waiters;                 /* threads blocked in the shim's poll on this event */
	/* what was attached through this event (PERF_EVENT_IOC_SET_BPF, BPF_PERF_EVENT links) */
	__u32 prog_id, prog_type;
	__u32 link_id;                 /* 0: SET_BPF (lives as long as the event) */
	__u32 retprobe;
	__u64 bpf_cookie;
	/* the probe a stand-in stands for */
	__u64 probe_offset, probe_addr, ref_ctr_offset;
	__u32 tp_id;
	__u32 name_len;
	char name[EMU_PERF_NAME_MAX];  /* kprobe function, uprobe path, tracepoint "NAME" (no category) */
	char category[256];            /* tracepoint category */
};
_Static_assert(sizeof(struct emu_perf_state) <= EMU_PERF_STATE_SIZE, "perf state must fit its pages");

static inline struct emu_perf_state *emu_perf_state(const struct emu_obj *ev)
{
	return (struct emu_perf_state *)((char *)emu_obj_data(ev) + EMU_PERF_STATE_OFF);
}

/* ---- opening (the shim's perf_event_open) ---- */
/* perf_event_open(attr, pid, cpu, group_fd, flags) as the kernel answers it,
 * for the events bpfemu emulates: *mine is false (and nothing happened) for
 * any other event, which the caller gives to the kernel. fd or -errno. */
int emu_perf_event_open(const void *uattr, int pid, int cpu, int group_fd, unsigned long flags, bool *mine);

/* ---- mmap (emu_mmap_check in emu/map.c) ---- */
int emu_perf_mmap_check(struct emu_obj *ev, size_t len, int prot, int flags, off_t off, off_t *real_off);

/* ---- ioctl: PERF_EVENT_IOC_* on one of our events. *mine false: not ours. ---- */
int emu_perf_ioctl(int fd, unsigned long req, unsigned long arg, bool *mine);

/* ---- readiness (emu/perf/event.c; the shim's poll wrappers through emu/wait.c) ---- */
bool emu_perf_is_event(int fd, bool cached_only);
int emu_perf_notify_open(int fd);
/* What perf_poll() answers: EPOLLHUP before the first mmap, else the wake-ups
 * since the last poll that consumed them (consume: read and clear, as the kernel's). */
unsigned int emu_perf_revents(int fd, bool consume);
void emu_perf_waiting(int fd, int delta);
void emu_perf_notify_gc(void);
/* A producer's wake-up: poll bits set, one byte into the FIFO if a thread waits. */
void emu_perf_wake(__u32 id, struct emu_perf_state *st);

/* ---- output (emu/perf/output.c) ---- */
/* One piece of a record's raw data (bpf_event_output() passes two: meta and ctx). */
struct emu_perf_frag {
	const void *data;
	__u64 size;
};
/* The task and time a sample is taken in; NULL: the calling thread, now. */
struct emu_perf_ctx {
	__u32 pid, tid;
	__u64 time;                    /* 0: the event's clock now */
	__u64 ip;
	__u16 misc;                    /* PERF_RECORD_MISC_KERNEL (a program's sample) or _USER */
};
/*
 * bpf_perf_event_output() into a PERF_EVENT_ARRAY (map holds a reference):
 * flags = the helper's (an index, or BPF_F_CURRENT_CPU, in BPF_F_INDEX_MASK),
 * cpu = the CPU the program runs on, or EMU_PERF_EVENT_CPU: the CPU the
 * caller runs on for BPF_F_CURRENT_CPU, and for an explicit index the CPU the
 * slot's event is bound to (the record lands whatever CPU that is). The kernel's answers: EINVAL (flags, or
 * not a BPF output event), E2BIG (index), ENOENT (empty slot), EOPNOTSUPP
 * (the event is not on this CPU or disabled), ENOSPC (no ring, paused, full:
 * the loss is counted and reported by the next record that fits), 0.
 */
int emu_perf_event_output(struct emu_obj *map, __u64 flags, __u32 cpu, const struct emu_perf_frag *frags,
			  unsigned int nfrags, const struct emu_perf_ctx *ctx);
#define EMU_PERF_EVENT_CPU 0xffffffffu
/* The same from user space by map fd (user memory: EFAULT), for bpfemu_perf_output(). */
int emu_perf_output_fd(int map_fd, __u32 cpu, __u64 flags, const void *data, __u64 size);

/* ---- PERF_EVENT_ARRAY slots (emu/fd_array.c) ---- */
#define EMU_PERF_SLOT_KERNEL 0xffffffffu   /* a slot holding one of the kernel's perf events */
/* perf_event_fd_array_get_ptr(): 0 and *ev (ours, a reference) or *ev NULL
 * (the kernel's event); EBADF for anything that is no perf event,
 * EOPNOTSUPP for an inherited event. */
int emu_perf_array_get(int ufd, struct emu_obj **ev);

/* ---- probes: PMU types and the files libbpf reads (emu/perf/probe.c) ---- */
const char *emu_perf_kind_name(enum emu_perf_kind kind);
/* Which probe PMU perf_event_attr.type names (kprobe and uprobe types as sysfs
 * says, or made up when sysfs lacks the PMU), EMU_PERF_NONE for any other type. */
enum emu_perf_kind emu_perf_attr_kind(__u32 type);
/* The perf_event_attr.type of a probe PMU (the inverse), -errno if none. */
int emu_perf_pmu_type(enum emu_perf_kind kind);
/* Our events' kind; EMU_PERF_KERNEL for the kernel's perf event fds; EMU_PERF_NONE otherwise. */
enum emu_perf_kind emu_perf_fd_kind(int fd);
/* Made-up contents of the sysfs / tracefs files libbpf reads before
 * perf_event_open: length, or -ENOENT for any other path. */
int emu_perf_made_up_file(const char *path, char *buf, size_t len);
/* A tracepoint's "CATEGORY/NAME" from its id (the made-up ids, then tracefs): 0 or -ENOENT. */
int emu_perf_tp_name(__u32 id, char *buf, size_t len);
/* Does the kernel have this function (kallsyms)? 1 yes, 0 no, -errno cannot tell. */
int emu_kallsyms_has(const char *name);

/* ---- what was attached (emu/link.c) ---- */
/* PERF_EVENT_IOC_SET_BPF on one of our events or the kernel's: 0 or -errno. */
int emu_perf_set_bpf(int perf_fd, int prog_fd);
/* BPF_LINK_CREATE with BPF_PERF_EVENT: the event takes the program (EEXIST if it has one). */
int emu_perf_attach(struct emu_obj *ev, struct emu_obj *prog, __u32 link_id, __u64 cookie);
/* BPF_TASK_FD_QUERY on a perf event of ours (bpf_get_perf_event_info()). */
int emu_perf_query(struct emu_obj *ev, __u32 *prog_id, __u32 *fd_type, const char **buf, __u64 *probe_offset,
		   __u64 *probe_addr);

#endif
