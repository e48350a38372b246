/* SPDX-License-Identifier: MIT */
/*
 * preload/perf.c: perf_event_open(2) (through syscall(), glibc has no
 * wrapper; libbpf calls syscall(__NR_perf_event_open, ...)), ioctl(2) with
 * PERF_EVENT_IOC_* requests, and the sysfs/tracefs files libbpf reads before
 * it opens a probe event. This is how libbpf attaches kprobe, uprobe and
 * tracepoint programs: perf_event_open for the PMU, then BPF_LINK_CREATE with
 * BPF_PERF_EVENT (the engine, emu/link.c) or ioctl(PERF_EVENT_IOC_SET_BPF).
 *
 * Default: perf_event_open goes to the kernel (a failure for a probe PMU gets
 * a BPFEMU_LOG=sys line), and SET_BPF with one of our program fds never
 * reaches the kernel: EOPNOTSUPP and a log line. BPFEMU_ATTACH=inert:
 * perf_event_open for the kprobe, uprobe and tracepoint PMUs returns a
 * stand-in fd (a memfd that never fires) whatever the caller's privileges,
 * the PERF_EVENT_IOC_* requests libbpf issues on it succeed, and the sysfs
 * PMU type / retprobe format files and tracefs event id files are made up
 * when the real ones cannot be read (emu_perf_made_up_file).
 * Any other ioctl, and any ioctl on another fd, is forwarded untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "link.h"
#include "perf.h"
#include "procfs.h"
#include "real.h"

#define UNHANDLED SHIM_UNHANDLED

long shim_perf_event_open(const long a[6])
{
	const struct perf_event_attr *uattr = (const void *)a[0];
	unsigned long flags = (unsigned long)a[4];
	enum emu_perf_kind kind = EMU_PERF_NONE;
	__u32 type;
	long ret;

	SHIM_ENTER();
	if (uattr && !emu_copy_from_user(&type, &uattr->type, sizeof(type)))
		kind = emu_perf_attr_kind(type);
	bool inert = emu_config()->attach_inert;
	SHIM_LEAVE();
	if (kind != EMU_PERF_NONE && inert) {
		SHIM_ENTER();
		ret = emu_perf_standin_open(kind, flags & PERF_FLAG_FD_CLOEXEC);
		SHIM_LEAVE();
		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
		return ret;
	}
	ret = REAL(syscall)(SYS_perf_event_open, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret < 0 && kind != EMU_PERF_NONE) {
		int e = errno;
		SHIM_ENTER();
		EMU_LOG(EMU_LOG_SYS, "perf_event_open(%s): %s from the kernel (BPFEMU_ATTACH=inert gives stand-in "
			"events that never fire, to attach bpfemu programs to)", emu_perf_kind_name(kind),
			strerrorname_np(e) ? strerrorname_np(e) : "error");
		SHIM_LEAVE();
		errno = e;
	}
	return ret;
}

/* The sysfs / tracefs files libbpf reads before perf_event_open. UNHANDLED
 * for any other path; the real file if it opens; else, in inert mode and for
 * reading, a memfd with the made-up contents; else the real failure, with a
 * log line. */
int shim_perf_open(const char *path, int flags)
{
	char buf[32];
	int n, fd, e;

	SHIM_ENTER();
	n = emu_perf_made_up_file(path, buf, sizeof(buf));
	SHIM_LEAVE();
	if (n < 0)
		return UNHANDLED;
	fd = REAL(open)(path, flags, 0);
	if (fd >= 0)
		return fd;
	e = errno;
	SHIM_ENTER();
	if (emu_config()->attach_inert && (flags & O_ACCMODE) == O_RDONLY) {
		fd = memfd_create("bpfemu-made-up", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
		if (fd >= 0 && (write(fd, buf, (size_t)n) != n || lseek(fd, 0, SEEK_SET))) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			EMU_LOG(EMU_LOG_SYS, "open(%s): %s; BPFEMU_ATTACH=inert: made up \"%.*s\"", path,
				strerrorname_np(e) ? strerrorname_np(e) : "error", n - 1, buf);
	} else {
		EMU_LOG(EMU_LOG_SYS, "open(%s): %s (bpfemu makes up the probe files libbpf reads only with "
			"BPFEMU_ATTACH=inert)", path, strerrorname_np(e) ? strerrorname_np(e) : "error");
	}
	SHIM_LEAVE();
	if (fd < 0)
		errno = e;
	return fd;
}

/* PERF_EVENT_IOC_* on a stand-in: what libbpf and perf users ask succeeds, nothing happens. */
static int standin_ioctl(int fd, unsigned long req, unsigned long arg)
{
	switch (req) {
	case PERF_EVENT_IOC_ENABLE:
	case PERF_EVENT_IOC_DISABLE:
	case PERF_EVENT_IOC_RESET:
	case PERF_EVENT_IOC_REFRESH:
	case PERF_EVENT_IOC_PAUSE_OUTPUT:
	case PERF_EVENT_IOC_SET_FILTER:
	case PERF_EVENT_IOC_MODIFY_ATTRIBUTES:
	case PERF_EVENT_IOC_PERIOD:
		return 0;
	case PERF_EVENT_IOC_SET_OUTPUT:
		return 0;
	case PERF_EVENT_IOC_ID: {
		__u64 id = (__u64)fd;
		return emu_copy_to_user((void *)arg, &id, sizeof(id)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

/* glibc: int ioctl(int fd, unsigned long request, ...); one argument at most. */
SHIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);

	if (shim_busy || _IOC_TYPE(req) != _IOC_TYPE(PERF_EVENT_IOC_ENABLE))
		return REAL(ioctl)(fd, req, arg);
	int ret = UNHANDLED;
	SHIM_ENTER();
	enum emu_perf_kind kind = emu_perf_fd_kind(fd);
	if (kind != EMU_PERF_NONE) {
		if (req == PERF_EVENT_IOC_SET_BPF) {
			if (emu_fd_kind((int)arg) == EMU_KIND_PROG)
				ret = emu_perf_set_bpf(fd, (int)arg, kind);
			else if (kind != EMU_PERF_KERNEL)   /* bpf_prog_get() of a non-program */
				ret = fcntl((int)arg, F_GETFD) < 0 ? -EBADF : -EINVAL;
		} else if (kind != EMU_PERF_KERNEL) {
			ret = standin_ioctl(fd, req, arg);
		}
	}
	SHIM_LEAVE();
	if (ret == UNHANDLED)
		return REAL(ioctl)(fd, req, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}
