/* SPDX-License-Identifier: MIT */
/*
 * preload/syscall.c: syscall(2). SYS_bpf goes to the engine; every other
 * number is forwarded with all six arguments and errno left to the real call.
 * Raw close/dup/fcntl(F_DUPFD*) through syscall() still keep the engine's fd
 * cache right; SYS_perf_event_open goes to preload/perf.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "perf.h"
#include "real.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void after_fd_syscall(long nr, const long a[6], long ret)
{
	if (ret < 0)
		return;
	int saved = errno;
	SHIM_ENTER();
	switch (nr) {
	case SYS_close:
		emu_fd_closed((int)a[0]);
		break;
	case SYS_close_range:
		if (!((unsigned int)a[2] & CLOSE_RANGE_CLOEXEC))
			emu_fd_range_closed((unsigned int)a[0], (unsigned int)a[1]);
		break;
	case SYS_dup:
	case SYS_dup2:
	case SYS_dup3:
	case SYS_fcntl:
		if (ret != a[0])
			emu_fd_duped((int)a[0], (int)ret);
		break;
	}
	SHIM_LEAVE();
	errno = saved;
}

/* Reads six variadic longs whatever the caller passed, as libc's own
 * syscall() does: that read past a short argument list is by design, so ASan
 * must not instrument it. bpf() takes three: it reads those only (the sixth
 * is on the caller's stack, a load that can wait on the caller's last stores
 * there; the other three would only be stored and never read). */
__attribute__((no_sanitize_address))
SHIM_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6], ret;

	va_start(ap, nr);
	for (int i = 0; i < 3; i++)
		a[i] = va_arg(ap, long);
	if (nr == SYS_bpf && !shim_busy) {
		va_end(ap);
		int err = 0;
		SHIM_ENTER();
		ret = emu_ret_to_libc(emu_sys_bpf((int)a[0], (const void *)a[1], (unsigned int)a[2]), &err);
		SHIM_LEAVE();
		if (ret < 0)
			errno = err;
		return ret;
	}
	for (int i = 3; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);

	if (shim_busy)
		return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr == SYS_perf_event_open)
		return shim_perf_event_open(a);
	ret = REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	switch (nr) {
	case SYS_fcntl:
		if ((int)a[1] != F_DUPFD && (int)a[1] != F_DUPFD_CLOEXEC)
			break;
		/* fall through */
	case SYS_close:
	case SYS_close_range:
	case SYS_dup:
	case SYS_dup2:
	case SYS_dup3:
		after_fd_syscall(nr, a, ret);
		break;
	}
	return ret;
}
