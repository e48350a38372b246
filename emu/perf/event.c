/* SPDX-License-Identifier: MIT */
/*
 * emu/perf/event.c: the emulated perf event object: perf_event_open (the
 * kernel's checks for the events we emulate, in its order), mmap of the ring
 * (perf_mmap), the PERF_EVENT_IOC_* requests (perf_ioctl) and readiness
 * (perf_poll). Records are written by emu/perf/output.c; see perf.h for the
 * layout of the object.
 *
 * Which events are ours: PERF_TYPE_SOFTWARE / PERF_COUNT_SW_BPF_OUTPUT,
 * always (a program's bpf_perf_event_output() output can only come from
 * bpfemu, so the kernel's event would stay empty), and with
 * BPFEMU_ATTACH=inert the probe PMUs' events (kprobe, uprobe, tracepoint),
 * which stand for the probe libbpf asked for: they remember it (function or
 * path, offset, tracepoint) for the links and BPF_TASK_FD_QUERY, and never
 * fire by themselves. Every other event goes to the kernel.
 *
 * Privileges: the emulated event answers as the kernel answers root
 * (perf_event_paranoid, perf_event_mlock_kb and the ptrace check do not
 * apply), as bpf() does under bpfemu.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../os.h"
#include "perf.h"

#define KERNEL_ATTR_SIZE 136u          /* sizeof(struct perf_event_attr) in Linux 6.18 (VER8) */
/* the bit-field word: bits Linux 6.18 defines (disabled .. sigtrap); the rest is __reserved_1 */
#define ATTR_BITS_KNOWN ((1ull << 38) - 1)
#define ATTR_BIT(n) (1ull << (n))
enum {
	B_DISABLED = 0, B_INHERIT = 1, B_EXCLUDE_KERNEL = 5, B_FREQ = 10, B_ENABLE_ON_EXEC = 12, B_WATERMARK = 14,
	B_SAMPLE_ID_ALL = 18, B_USE_CLOCKID = 25, B_WRITE_BACKWARD = 27, B_AUX_OUTPUT = 31, B_INHERIT_THREAD = 35,
	B_REMOVE_ON_EXEC = 36, B_SIGTRAP = 37,
};
/* sample_type bits a record of ours can carry */
#define SAMPLE_EMULATED                                                                                           \
	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |           \
	 PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW)
#ifndef PERF_FORMAT_LOST
#define PERF_FORMAT_LOST (1u << 4)
#endif
#define FORMAT_MAX (PERF_FORMAT_LOST << 1)

/* ---- the attr (perf_copy_attr) ---- */

struct attr_in {
	__u32 type, size;
	__u64 config, sample_period, sample_type, read_format, flags;
	__u32 wakeup, bp_type;
	__u64 config1, config2, branch_sample_type, sample_regs_user;
	__u32 sample_stack_user;
	__s32 clockid;
	__u64 sample_regs_intr;
	__u32 aux_watermark;
	__u16 sample_max_stack, reserved_2;
	__u32 aux_sample_size, reserved_3;
	__u64 sig_data, config3;
};
_Static_assert(sizeof(struct attr_in) == KERNEL_ATTR_SIZE, "Linux 6.18's perf_event_attr layout");

static bool mem_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* perf_copy_attr(): E2BIG writes the size the kernel knows back into the caller's attr */
static int copy_attr(const void *uattr, struct attr_in *a)
{
	__u32 size;
	memset(a, 0, sizeof(*a));
	if (emu_copy_from_user(&size, UPTR_ADD(uattr, 4), 4))
		return -EFAULT;
	if (!size)
		size = PERF_ATTR_SIZE_VER0;
	if (size < PERF_ATTR_SIZE_VER0 || size > EMU_PAGE_SIZE)
		goto e2big;
	if (size > sizeof(*a)) {
		unsigned char tail[EMU_PAGE_SIZE];
		if (emu_copy_from_user(tail, UPTR_ADD(uattr, sizeof(*a)), size - sizeof(*a)))
			return -EFAULT;
		if (!mem_zero(tail, size - sizeof(*a)))
			goto e2big;
	}
	if (emu_copy_from_user(a, uattr, size < sizeof(*a) ? size : sizeof(*a)))
		return -EFAULT;
	a->size = size;
	if ((a->flags & ~ATTR_BITS_KNOWN) || a->reserved_2 || a->reserved_3)
		return -EINVAL;
	if (a->sample_type & ~(__u64)(PERF_SAMPLE_MAX - 1))
		return -EINVAL;
	if (a->read_format & ~(__u64)(FORMAT_MAX - 1))
		return -EINVAL;
	if ((a->sample_type & PERF_SAMPLE_STACK_USER) &&
	    (a->sample_stack_user >= 0xffff || (a->sample_stack_user & 7)))
		return -EINVAL;
	if ((a->sample_type & PERF_SAMPLE_WEIGHT) && (a->sample_type & PERF_SAMPLE_WEIGHT_STRUCT))
		return -EINVAL;
	if (!(a->flags & ATTR_BIT(B_INHERIT)) && (a->flags & ATTR_BIT(B_INHERIT_THREAD)))
		return -EINVAL;
	if ((a->flags & ATTR_BIT(B_REMOVE_ON_EXEC)) && (a->flags & ATTR_BIT(B_ENABLE_ON_EXEC)))
		return -EINVAL;
	if ((a->flags & ATTR_BIT(B_SIGTRAP)) && !(a->flags & ATTR_BIT(B_REMOVE_ON_EXEC)))
		return -EINVAL;
	return 0;
e2big:
	size = sizeof(*a);
	emu_copy_to_user(UPTR_ADD(uattr, 4), &size, 4);
	return -E2BIG;
}

static __u32 sysctl_u32(const char *path, __u32 dflt)
{
	char buf[32];
	if (emu_os_read_file(path, buf, sizeof(buf)) <= 0)
		return dflt;
	return (__u32)strtoul(buf, NULL, 10);
}

/* Is cpu online? The host's /sys/devices/system/cpu/online ("0-3,8") for its own CPUs; the CPUs
 * BPFEMU_CPUS adds past them are. */
static bool cpu_online(int cpu)
{
	char buf[256];
	long n = emu_os_read_file("/sys/devices/system/cpu/online", buf, sizeof(buf));
	if (n <= 0)
		return true;
	unsigned int last = 0;
	for (char *save, *tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		unsigned int a, b;
		int k = sscanf(tok, "%u-%u", &a, &b);
		if (k == 1)
			b = a;
		if (k >= 1 && (unsigned int)cpu >= a && (unsigned int)cpu <= b)
			return true;
		if (k >= 1 && b + 1 > last)
			last = b + 1;
	}
	return (unsigned int)cpu >= last;       /* an emulated CPU past the host's */
}

/* ---- the probe a stand-in remembers ---- */

static int probe_describe(enum emu_perf_kind kind, const struct attr_in *a, struct emu_perf_state *st)
{
	long n;
	st->retprobe = kind != EMU_PERF_TRACEPOINT && (a->config & 1);
	switch (kind) {
	case EMU_PERF_KPROBE:
		/* perf_kprobe_init(): the function name (KSYM_NAME_LEN), or an address */
		if (a->config1) {
			n = emu_strncpy_from_user(st->name, (const void *)(uintptr_t)a->config1, 512);
			if (n < 0)
				return n == -ENAMETOOLONG ? -E2BIG : (int)n;
			st->name_len = (__u32)n;
			st->probe_offset = a->config2;
			/* register_kprobe(): a function this kernel lacks is ENOENT */
			int has = n ? emu_kallsyms_has(st->name) : 1;
			if (has == 0) {
				EMU_LOG(EMU_LOG_SYS, "perf_event_open(kprobe): no function '%s' in /proc/kallsyms: ENOENT",
					st->name);
				return -ENOENT;
			}
		} else {
			st->probe_addr = a->config2;
		}
		return 0;
	case EMU_PERF_UPROBE: {
		/* perf_uprobe_init(): the path (PATH_MAX), then kern_path(): it must be a regular file */
		struct stat sb;
		if (!a->config1)
			return -EINVAL;
		n = emu_strncpy_from_user(st->name, (const void *)(uintptr_t)a->config1, EMU_PERF_NAME_MAX);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : (int)n;
		st->name_len = (__u32)n;
		st->probe_offset = a->config2;
		st->ref_ctr_offset = a->config >> 32;
		int serr = emu_os_stat(st->name, &sb);
		if (serr)
			return serr;
		if (!S_ISREG(sb.st_mode))
			return -EINVAL;
		return 0;
	}
	case EMU_PERF_TRACEPOINT: {
		char full[EMU_PERF_NAME_MAX];
		st->tp_id = (__u32)a->config;
		if (!emu_perf_tp_name(st->tp_id, full, sizeof(full))) {
			char *slash = strchr(full, '/');
			if (slash) {
				*slash = '\0';
				snprintf(st->category, sizeof(st->category), "%.255s", full);
				snprintf(st->name, sizeof(st->name), "%s", slash + 1);
				st->name_len = (__u32)strlen(st->name);
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* ---- perf_event_open ---- */

int emu_perf_event_open(const void *uattr, int pid, int cpu, int group_fd, unsigned long flags, bool *mine)
{
	struct attr_in a;
	struct {
		__u32 type, size;
		__u64 config;
	} head;
	int err;

	*mine = false;
	if (!uattr || emu_copy_from_user(&head, uattr, sizeof(head)))
		return 0;                            /* the kernel answers EFAULT */
	enum emu_perf_kind kind = EMU_PERF_NONE;
	if (head.type == PERF_TYPE_SOFTWARE && head.config == PERF_COUNT_SW_BPF_OUTPUT)
		kind = EMU_PERF_BPF_OUTPUT;
	else if (emu_config()->attach_inert)
		kind = emu_perf_attr_kind(head.type);
	if (kind == EMU_PERF_NONE || kind == EMU_PERF_KERNEL)
		return 0;
	*mine = true;

	/* perf_event_open(), in its order */
	if (flags & ~(unsigned long)(PERF_FLAG_FD_NO_GROUP | PERF_FLAG_FD_OUTPUT | PERF_FLAG_PID_CGROUP |
				     PERF_FLAG_FD_CLOEXEC))
		return -EINVAL;
	err = copy_attr(uattr, &a);
	if (err)
		return err;
	if (a.flags & ATTR_BIT(B_FREQ)) {
		if (a.sample_period > sysctl_u32("/proc/sys/kernel/perf_event_max_sample_rate", 100000))
			return -EINVAL;
	} else if (a.sample_period & (1ull << 63)) {
		return -EINVAL;
	}
	if ((flags & PERF_FLAG_PID_CGROUP) && (pid == -1 || cpu == -1))
		return -EINVAL;
	if (group_fd != -1) {
		enum emu_perf_kind gk = emu_perf_fd_kind(group_fd);
		if (gk == EMU_PERF_NONE)
			return -EBADF;               /* perf_fget_light() */
		EMU_LOG(EMU_LOG_SYS, "perf_event_open(%s): event groups are not emulated: EOPNOTSUPP",
			emu_perf_kind_name(kind));
		return -EOPNOTSUPP;
	}
	if (pid != -1 && !(flags & PERF_FLAG_PID_CGROUP)) {
		if (pid == 0)
			pid = getpid();
		else if (pid < 0 || (kill(pid, 0) && errno == ESRCH))
			return -ESRCH;               /* find_lively_task_by_vpid() */
	}
	/* perf_event_alloc() */
	if (cpu < -1 || cpu >= (int)emu_possible_cpus() || (cpu == -1 && (pid == -1 || (flags & PERF_FLAG_PID_CGROUP))))
		return -EINVAL;
	if ((a.flags & ATTR_BIT(B_SIGTRAP)) && pid == -1)
		return -EINVAL;
	/* perf_swevent_init(): no branch sampling for software events */
	if (kind == EMU_PERF_BPF_OUTPUT && (a.sample_type & PERF_SAMPLE_BRANCH_STACK))
		return -EOPNOTSUPP;
	if (a.flags & ATTR_BIT(B_AUX_OUTPUT))
		return -EOPNOTSUPP;                  /* no AUX-capable group leader */
	if (flags & PERF_FLAG_PID_CGROUP) {
		struct stat sb;
		if (emu_os_fstat(emu_caller_fd(pid), &sb) || !S_ISDIR(sb.st_mode))
			return -EBADF;               /* perf_cgroup_connect() */
	}
	if (kind == EMU_PERF_BPF_OUTPUT) {
		if ((a.sample_type & ~(__u64)SAMPLE_EMULATED) || (a.flags & ATTR_BIT(B_WRITE_BACKWARD))) {
			EMU_LOG(EMU_LOG_SYS, "perf_event_open(bpf-output): sample_type %#llx%s: bpfemu writes the sample "
				"fields IDENTIFIER IP TID TIME ADDR ID STREAM_ID CPU PERIOD RAW, forward: EOPNOTSUPP",
				(unsigned long long)a.sample_type,
				(a.flags & ATTR_BIT(B_WRITE_BACKWARD)) ? " with write_backward" : "");
			return -EOPNOTSUPP;
		}
	}
	if (cpu != -1 && !cpu_online(cpu))
		return -ENODEV;

	struct emu_obj *ev;
	/* the ring's room stays sparse: the user page and the state are populated now, the data
	 * pages by the first mmap */
	int fd = emu_obj_create_lazy(EMU_KIND_PERF_EVENT, EMU_PERF_DATA_SIZE, EMU_PAGE_SIZE, &ev);
	if (fd < 0)
		return fd;
	err = emu_obj_populate(ev, EMU_PERF_STATE_OFF, EMU_PERF_STATE_SIZE);
	if (err) {
		emu_os_close(fd);
		emu_obj_put(ev);
		return err;
	}
	struct emu_perf_state *st = emu_perf_state(ev);
	emu_mutex_init_robust(&st->lock);
	st->kind = kind;
	st->type = a.type;
	st->config = a.config;
	st->config1 = a.config1;
	st->config2 = a.config2;
	st->sample_type = a.sample_type;
	st->read_format = a.read_format;
	st->attr_flags = a.flags;
	st->wakeup = a.wakeup;
	st->clockid = (a.flags & ATTR_BIT(B_USE_CLOCKID)) ? a.clockid : -1;
	st->sample_period = a.sample_period;
	st->cpu = cpu;
	st->pid = (flags & PERF_FLAG_PID_CGROUP) ? -1 : pid;
	st->enabled = !(a.flags & ATTR_BIT(B_DISABLED));
	if (kind != EMU_PERF_BPF_OUTPUT) {
		err = probe_describe(kind, &a, st);
		if (err) {
			emu_os_close(fd);
			emu_obj_put(ev);
			return err;
		}
	}
	ev->hdr->id = emu_id_alloc(EMU_KIND_PERF_EVENT);
	if (!ev->hdr->id) {
		emu_os_close(fd);
		emu_obj_put(ev);
		return -ENOSPC;
	}
	if (!(flags & PERF_FLAG_FD_CLOEXEC))
		emu_os_fcntl(fd, F_SETFD, 0);
	__atomic_store_n(&ev->hdr->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install(fd, ev);
	if (kind == EMU_PERF_BPF_OUTPUT)
		EMU_LOG(EMU_LOG_SYS, "perf_event_open(bpf-output, pid %d, cpu %d): emulated event %u, fd %d", pid, cpu,
			ev->hdr->id, fd);
	else
		EMU_LOG(EMU_LOG_SYS, "perf_event_open(%s%s %s): BPFEMU_ATTACH=inert: stand-in event %u that never fires, fd %d",
			emu_perf_kind_name(kind), st->retprobe ? " (return)" : "", st->name_len ? st->name : "?",
			ev->hdr->id, fd);
	return fd;
}

/* ---- mmap (perf_mmap) ---- */

static __u64 watermark_of(const struct emu_perf_state *st, __u64 data_size)
{
	/* ring_buffer_init(): the watermark asked for (attr.watermark), else half the ring */
	__u64 w = (st->attr_flags & ATTR_BIT(B_WATERMARK)) ? st->wakeup : 0;
	if (w > data_size)
		w = data_size;
	return w ? w : data_size / 2;
}

int emu_perf_mmap_check(struct emu_obj *ev, size_t len, int prot, int flags, off_t off, off_t *real_off)
{
	struct emu_perf_state *st = emu_perf_state(ev);
	if ((flags & MAP_TYPE) != MAP_SHARED)
		return -EINVAL;
	if (!len)
		return -EINVAL;
	if (off != 0) {
		/* the AUX area: these events have none */
		return -EINVAL;
	}
	__u64 vma = page_align(len);
	__u64 nr = vma / EMU_PAGE_SIZE - 1;
	if (nr && (nr & (nr - 1)))
		return -EINVAL;
	if (nr > EMU_PERF_MAX_PAGES) {
		EMU_LOG(EMU_LOG_SYS, "mmap of perf event %u: a ring of %llu pages is more than bpfemu's %u: ENOMEM",
			ev->hdr->id, (unsigned long long)nr, EMU_PERF_MAX_PAGES);
		return -ENOMEM;
	}
	int err = 0;
	if (emu_mutex_lock_robust(&st->lock))
		EMU_LOG(EMU_LOG_SYS, "perf event %u: a producer died holding its lock", ev->hdr->id);
	if (st->has_ring) {
		if (st->nr_pages != nr)
			err = -EINVAL;          /* the ring exists with another size */
		goto out;
	}
	/* the ring's pages, backed now (a full tmpfs is ENOMEM here, not SIGBUS later) */
	err = emu_obj_populate(ev, 0, vma);
	if (err)
		goto out;
	struct perf_event_mmap_page *up = emu_obj_data(ev);
	memset(up, 0, sizeof(*up));
	up->cap_bit0_is_deprecated = 1;
	up->size = offsetof(struct perf_event_mmap_page, __reserved);
	up->data_offset = EMU_PAGE_SIZE;
	up->data_size = nr * EMU_PAGE_SIZE;
	st->nr_pages = (__u32)nr;
	st->overwrite = !(prot & PROT_WRITE);
	st->watermark = watermark_of(st, nr * EMU_PAGE_SIZE);
	st->head = st->wakeup_pos = st->lost = st->events = 0;
	__atomic_store_n(&st->has_ring, 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&st->lock);
	if (!err)
		*real_off = 0;                  /* the file's offsets are the ABI's */
	return err;
}

/* ---- ioctl (perf_ioctl) ---- */

static int ioc_query_bpf(struct emu_perf_state *st, unsigned long arg)
{
	/* perf_event_query_prog_array(): struct perf_event_query_bpf { u32 ids_len; u32 prog_cnt; u32 ids[]; } */
	__u32 q[2], cnt;
	if (st->kind == EMU_PERF_BPF_OUTPUT)
		return -EINVAL;
	if (emu_copy_from_user(q, (const void *)arg, sizeof(q)))
		return -EFAULT;
	if (q[0] > 64)
		return -E2BIG;                       /* BPF_TRACE_MAX_PROGS */
	cnt = st->prog_id ? 1 : 0;
	if (emu_copy_to_user((char *)arg + 4, &cnt, 4))
		return -EFAULT;
	if (q[0] && cnt && emu_copy_to_user((char *)arg + 8, &st->prog_id, 4))
		return -EFAULT;
	return q[0] < cnt && cnt ? -ENOSPC : 0;
}

int emu_perf_ioctl(int fd, unsigned long req, unsigned long arg, bool *mine)
{
	struct emu_obj *ev;
	int acc, err = emu_fd_get(fd, EMU_KIND_PERF_EVENT, &ev, &acc);
	*mine = !err;
	if (err)
		return 0;
	struct emu_perf_state *st = emu_perf_state(ev);
	bool sampling = st->sample_period != 0;
	__u64 v;
	switch (req) {
	case PERF_EVENT_IOC_ENABLE:
		__atomic_store_n(&st->enabled, 1, __ATOMIC_RELEASE);
		break;
	case PERF_EVENT_IOC_DISABLE:
		__atomic_store_n(&st->enabled, 0, __ATOMIC_RELEASE);
		break;
	case PERF_EVENT_IOC_RESET:
		break;
	case PERF_EVENT_IOC_REFRESH:
		if ((st->attr_flags & ATTR_BIT(B_INHERIT)) || !sampling)
			err = -EINVAL;
		else
			__atomic_store_n(&st->enabled, 1, __ATOMIC_RELEASE);
		break;
	case PERF_EVENT_IOC_PERIOD:
		if (emu_copy_from_user(&v, (const void *)arg, sizeof(v)))
			err = -EFAULT;
		else if (!sampling || !v || (!(st->attr_flags & ATTR_BIT(B_FREQ)) && (v & (1ull << 63))))
			err = -EINVAL;
		else
			st->sample_period = v;
		break;
	case PERF_EVENT_IOC_ID:
		v = ev->hdr->id;
		err = emu_copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
		break;
	case PERF_EVENT_IOC_SET_OUTPUT:
		/* perf_event_set_output(): not while the event's ring is mapped (ours stays until the
		 * event goes: munmap is not seen) */
		if (__atomic_load_n(&st->has_ring, __ATOMIC_ACQUIRE))
			err = -EINVAL;
		else if ((int)arg != -1) {
			EMU_LOG(EMU_LOG_SYS, "ioctl(%d, PERF_EVENT_IOC_SET_OUTPUT, %d): redirecting an emulated event's "
				"output is not emulated: EINVAL", fd, (int)arg);
			err = -EINVAL;
		}
		break;
	case PERF_EVENT_IOC_SET_FILTER: {
		char filter[4096];
		long n = emu_strncpy_from_user(filter, (const void *)arg, sizeof(filter));
		if (n == -EFAULT)
			err = -EFAULT;
		else
			err = st->kind == EMU_PERF_BPF_OUTPUT ? -EINVAL : 0;   /* tracing events take filters */
		break;
	}
	case PERF_EVENT_IOC_SET_BPF:
		err = emu_perf_set_bpf(fd, (int)arg);
		break;
	case PERF_EVENT_IOC_PAUSE_OUTPUT:
		if (!__atomic_load_n(&st->has_ring, __ATOMIC_ACQUIRE) || !st->nr_pages)
			err = -EINVAL;
		else
			__atomic_store_n(&st->paused, arg ? 1 : 0, __ATOMIC_RELEASE);
		break;
	case PERF_EVENT_IOC_QUERY_BPF:
		err = ioc_query_bpf(st, arg);
		break;
	case PERF_EVENT_IOC_MODIFY_ATTRIBUTES: {
		struct attr_in a;
		err = copy_attr((const void *)arg, &a);
		if (!err)
			err = a.type != st->type ? -EINVAL : -EOPNOTSUPP;   /* breakpoints only */
		break;
	}
	default:
		err = -ENOTTY;
	}
	emu_obj_put(ev);
	return err;
}

/* ---- readiness (perf_poll) and the wake-up FIFO ---- */

static int notify_path(__u32 id, char *buf, size_t len)
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
	snprintf(buf + n, len - n, "/perf-%u", id);
	return 0;
}

/* A producer's wake-up (perf_output_wakeup): one byte into the event's FIFO if somebody waits. */
void emu_perf_wake(__u32 id, struct emu_perf_state *st)
{
	char path[PATH_MAX];
	__atomic_store_n(&st->poll, POLLIN, __ATOMIC_SEQ_CST);     /* perf_output_wakeup(): EPOLLIN */
	if (!__atomic_load_n(&st->waiters, __ATOMIC_SEQ_CST) || notify_path(id, path, sizeof(path)))
		return;
	int fd = emu_os_open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return;                          /* nobody holds it open */
	long w = emu_os_write(fd, "", 1);
	(void)w;
	emu_os_close(fd);
}

static int event_get(int fd, bool cached_only, struct emu_obj **evp)
{
	int acc, err = cached_only ? emu_fd_peek(fd, evp) : emu_fd_get(fd, EMU_KIND_PERF_EVENT, evp, &acc);
	if (err)
		return err;
	if ((*evp)->hdr->kind != EMU_KIND_PERF_EVENT) {
		emu_obj_put(*evp);
		return -EINVAL;
	}
	return 0;
}

bool emu_perf_is_event(int fd, bool cached_only)
{
	struct emu_obj *ev;
	if (event_get(fd, cached_only, &ev))
		return false;
	emu_obj_put(ev);
	return true;
}

int emu_perf_notify_open(int fd)
{
	char path[PATH_MAX];
	struct emu_obj *ev;
	int err = event_get(fd, false, &ev);
	if (err)
		return err;
	err = notify_path(ev->hdr->id, path, sizeof(path));
	if (!err) {
		err = emu_os_mknodat(AT_FDCWD, path, S_IFIFO | 0600, 0);
		if (err == -EEXIST)
			err = 0;
	}
	int nfd = err ? err : emu_os_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	emu_obj_put(ev);
	return nfd;
}

unsigned int emu_perf_revents(int fd, bool consume)
{
	struct emu_obj *ev;
	if (event_get(fd, false, &ev))
		return POLLNVAL;
	struct emu_perf_state *st = emu_perf_state(ev);
	unsigned int r;
	if (!__atomic_load_n(&st->has_ring, __ATOMIC_ACQUIRE))
		r = POLLHUP;                     /* no ring buffer: perf_poll()'s initial EPOLLHUP */
	else if (consume)
		r = __atomic_exchange_n(&st->poll, 0, __ATOMIC_SEQ_CST);
	else
		r = __atomic_load_n(&st->poll, __ATOMIC_SEQ_CST);
	emu_obj_put(ev);
	return r;
}

void emu_perf_waiting(int fd, int delta)
{
	struct emu_obj *ev;
	if (event_get(fd, false, &ev))
		return;
	__atomic_add_fetch(&emu_perf_state(ev)->waiters, (__u64)(__s64)delta, __ATOMIC_SEQ_CST);
	emu_obj_put(ev);
}

void emu_perf_notify_gc(void)
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
		if (sscanf(e->name, "perf-%u", &id) == 1 && !emu_obj_alive(EMU_KIND_PERF_EVENT, id))
			emu_os_unlinkat(emu_os_dirfd(d), e->name, 0);
	}
	emu_os_closedir(d);
}
