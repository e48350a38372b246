/* SPDX-License-Identifier: MIT */
/*
 * tests/hostsim/refuse.c: librefuse.so, a host kernel that refuses one
 * feature, for testing the kernel twins' skip logic (refuse.sh).
 *
 * Preloaded into a kernel twin, it answers the real bpf() system call's
 * BPF_MAP_CREATE of map type $REFUSE_MAP_TYPE, or BPF_PROG_LOAD of program
 * type $REFUSE_PROG_TYPE, with -1 and errno $REFUSE_ERRNO (a number, default
 * EPERM) instead of passing it to the kernel, as a kernel built without the
 * feature, or one that forbids it, answers. Everything else goes to libc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long env_num(const char *name, long def)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 0) : def;
}

static int refused(long cmd, const union bpf_attr *a, unsigned long size)
{
	if (!a || size < offsetof(union bpf_attr, map_type) + 4)
		return 0;
	/* attr is the caller's: a test may pass a bad pointer on purpose, so
	 * only look at it when it is readable (write() to a pipe checks) */
	int p[2];
	if (pipe(p))
		return 0;
	ssize_t ok = write(p[1], a, 4);
	close(p[0]);
	close(p[1]);
	if (ok != 4)
		return 0;
	if (cmd == BPF_MAP_CREATE)
		return (long)a->map_type == env_num("REFUSE_MAP_TYPE", -1);
	if (cmd == BPF_PROG_LOAD)
		return (long)a->prog_type == env_num("REFUSE_PROG_TYPE", -1);
	return 0;
}

/* six longs, as libc's syscall() takes them: va_arg past what the caller
 * passed reads its stack, which ASan would call an underflow */
__attribute__((no_sanitize_address))
long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	va_start(ap, nr);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long), a4 = va_arg(ap, long),
	     a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_bpf && refused(a1, (const union bpf_attr *)a2, (unsigned long)a3)) {
		errno = (int)env_num("REFUSE_ERRNO", EPERM);
		return -1;
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a1, a2, a3, a4, a5, a6);
}
