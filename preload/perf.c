/* SPDX-License-Identifier: MIT */
/*
 * preload/perf.c: perf_event_open(2) (through syscall(), glibc has no
 * wrapper; libbpf calls syscall(__NR_perf_event_open, ...)), ioctl(2) with
 * PERF_EVENT_IOC_* requests, and the sysfs/tracefs files libbpf reads before
 * it opens a probe event. This is how libbpf attaches kprobe, uprobe and
 * tracepoint programs: perf_event_open for the PMU, then BPF_LINK_CREATE with
 * BPF_PERF_EVENT (the engine, emu/link.c) or ioctl(PERF_EVENT_IOC_SET_BPF).
 *
 * The engine decides (emu/perf/): BPF output events (PERF_TYPE_SOFTWARE /
 * PERF_COUNT_SW_BPF_OUTPUT) are always emulated, probe PMU events only with
 * BPFEMU_ATTACH=inert (stand-ins that remember their probe and never fire);
 * every other event goes to the kernel (a failure for a probe PMU gets a
 * BPFEMU_LOG=sys line). SET_BPF with one of our program fds never reaches
 * the kernel. With inert mode the sysfs PMU type / retprobe format files and
 * tracefs event id files are made up when the real ones cannot be read
 * (emu_perf_made_up_file). mmap of our events goes through fd.c's mmap
 * wrapper, readiness through poll.c. Any other ioctl, and any ioctl on another
 * fd, is forwarded untouched.
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
#include "perf/perf.h"
#include "perf.h"
#include "procfs.h"
#include "real.h"

#define UNHANDLED SHIM_UNHANDLED

long shim_perf_event_open(const long a[6])
{
	bool mine = false;
	long ret;

	SHIM_ENTER();
	ret = emu_perf_event_open((const void *)a[0], (int)a[1], (int)a[2], (int)a[3], (unsigned long)a[4], &mine);
	SHIM_LEAVE();
	if (mine) {
		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
		return ret;
	}
	ret = REAL(syscall)(SYS_perf_event_open, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret < 0) {
		int e = errno;
		__u32 type;
		SHIM_ENTER();
		if (a[0] && !emu_copy_from_user(&type, (const void *)a[0], sizeof(type)) &&
		    emu_perf_attr_kind(type) != EMU_PERF_NONE)
			EMU_LOG(EMU_LOG_SYS, "perf_event_open(%s): %s from the kernel (BPFEMU_ATTACH=inert gives stand-in "
				"events that never fire, to attach bpfemu programs to)", emu_perf_kind_name(emu_perf_attr_kind(type)),
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

/* glibc: int ioctl(int fd, unsigned long request, ...); one argument at most.
 * PERF_EVENT_IOC_* on our events go to the engine; SET_BPF on the kernel's
 * events with one of our programs is refused there (EOPNOTSUPP); the rest is
 * forwarded. */
SHIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);

	if (shim_busy || _IOC_TYPE(req) != _IOC_TYPE(PERF_EVENT_IOC_ENABLE))
		return REAL(ioctl)(fd, req, arg);
	int ret = UNHANDLED;
	bool mine = false;
	SHIM_ENTER();
	int r = emu_perf_ioctl(fd, req, arg, &mine);
	if (mine)
		ret = r;
	else if (req == PERF_EVENT_IOC_SET_BPF && emu_fd_kind((int)arg) == EMU_KIND_PROG &&
		 emu_perf_fd_kind(fd) == EMU_PERF_KERNEL)
		ret = emu_perf_set_bpf(fd, (int)arg);
	SHIM_LEAVE();
	if (ret == UNHANDLED)
		return REAL(ioctl)(fd, req, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* The embedding API as libbpfemu.so exports it: the engine's, with shim_busy raised. */
SHIM_EXPORT int bpfemu_perf_output(int map_fd, unsigned long long flags, const void *data, unsigned long long size)
{
	SHIM_ENTER();
	int err = emu_perf_output_fd(map_fd, EMU_PERF_EVENT_CPU, flags, data, size);
	SHIM_LEAVE();
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

SHIM_EXPORT int bpfemu_perf_output_on_cpu(int map_fd, unsigned int cpu, unsigned long long flags, const void *data,
					  unsigned long long size)
{
	SHIM_ENTER();
	int err = cpu == EMU_PERF_EVENT_CPU ? -EINVAL : emu_perf_output_fd(map_fd, cpu, flags, data, size);
	SHIM_LEAVE();
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}
