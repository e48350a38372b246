/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/loadwatch.c: libloadwatch.so, preloaded into a program (on
 * the kernel, or under `bpfemu run` before the shim), watches its
 * BPF_PROG_LOAD calls:
 *
 *   LOADWATCH_OUT=FILE   appends one line per load of an object's program
 *                        (libbpf gives those a kern_version; its own feature
 *                        probes have none):
 *                        TYPE ATTACH "NAME" INSN_CNT OK VERIFIED_INSNS
 *                        or TYPE ATTACH "NAME" INSN_CNT ERRNO_NAME
 *                        (VERIFIED_INSNS from BPF_OBJ_GET_INFO_BY_FD)
 *   LOADWATCH_XLATED=FILE appends, for each of those loaded, the program
 *                        as bpf_prog_info shows it (tests/verifier/xlcmp.c):
 *                        X "NAME" INSN_CNT XLATED_CNT HEX L NR_LINE_INFO HEX
 *   LOADWATCH_TIME=1     adds the wall time of the BPF_PROG_LOAD call (ns)
 *                        at the end of each line (tools/bench/verifier-bench)
 *   LOADWATCH_STOP=1     ends the program (exit status 0) when it attaches one
 *                        of those programs (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN,
 *                        BPF_PROG_ATTACH): its loads are over, nothing runs
 *   REFUSE_LOADS="TYPE[:ATTACH]=ERRNO,..."
 *                        answers loads of these program (and attach) types
 *                        with -1 and that errno without passing them on, as
 *                        a host kernel that refuses them does, so that a
 *                        tool probing the kernel (libbpf-tools'
 *                        fentry_can_attach()) takes that host's path under
 *                        bpfemu too (numbers: enum bpf_prog_type, enum
 *                        bpf_attach_type, errno; no ATTACH: any; no errno: EPERM).
 *
 * Everything goes on to the next syscall() (libc's, or the shim's).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long (*real_syscall)(long, ...);
static unsigned char obj_fds[4096];        /* fds of the object programs loaded */

static long next(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (!real_syscall)
		real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real_syscall(nr, a1, a2, a3, a4, a5, a6);
}

/* the caller's attr may be a bad pointer on purpose: copy it only when readable */
static int copy_attr(union bpf_attr *dst, const void *src, unsigned long size)
{
	int p[2];
	memset(dst, 0, sizeof(*dst));
	if (!src || pipe(p))
		return -1;
	size_t n = size < sizeof(*dst) ? size : sizeof(*dst);
	ssize_t w = write(p[1], src, n);
	int ok = w == (ssize_t)n && read(p[0], dst, n) == (ssize_t)n;
	close(p[0]);
	close(p[1]);
	return ok ? 0 : -1;
}

static int refused(const union bpf_attr *a)
{
	const char *spec = getenv("REFUSE_LOADS");
	while (spec && *spec) {
		char *end;
		long type = strtol(spec, &end, 0), attach = -1, err = EPERM;
		if (*end == ':')
			attach = strtol(end + 1, &end, 0);
		if (*end == '=')
			err = strtol(end + 1, &end, 0);
		if ((long)a->prog_type == type && (attach < 0 || (long)a->expected_attach_type == attach))
			return (int)err;
		spec = *end == ',' ? end + 1 : end + strlen(end);
	}
	return 0;
}

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTSUP: return "EOPNOTSUPP";
	case 524: return "ENOTSUPP";
	default: return "E?";
	}
}

static void put_hex(FILE *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const unsigned char *)p)[i]);
}

/* LOADWATCH_XLATED: the xlated instructions and line_info of program fd */
static void dump_xlated(int fd, const char *name, __u32 insn_cnt)
{
	const char *out = getenv("LOADWATCH_XLATED");
	if (!out)
		return;
	struct bpf_prog_info info;
	union bpf_attr ia;
	memset(&info, 0, sizeof(info));
	memset(&ia, 0, sizeof(ia));
	ia.info.bpf_fd = (__u32)fd;
	ia.info.info_len = sizeof(info);
	ia.info.info = (__u64)(unsigned long)&info;
	if (next(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, (long)&ia, sizeof(ia), 0, 0, 0))
		return;
	__u32 xlen = info.xlated_prog_len, nli = info.nr_line_info;
	void *insns = malloc(xlen ? xlen : 1);
	struct bpf_line_info *li = calloc(nli ? nli : 1, sizeof(*li));
	if (!insns || !li)
		goto out;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = xlen;
	info.xlated_prog_insns = (__u64)(unsigned long)insns;
	info.nr_line_info = nli;
	info.line_info_rec_size = sizeof(*li);
	info.line_info = (__u64)(unsigned long)li;
	ia.info.info_len = sizeof(info);
	if (next(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, (long)&ia, sizeof(ia), 0, 0, 0))
		goto out;
	FILE *f = fopen(out, "ae");
	if (f) {
		fprintf(f, "X \"%s\" %u %u ", name, insn_cnt, xlen / 8);
		put_hex(f, insns, xlen);
		fprintf(f, " L %u ", nli);
		put_hex(f, li, (size_t)nli * sizeof(*li));
		fputc('\n', f);
		fclose(f);
	}
out:
	free(insns);
	free(li);
}

static void watch(const union bpf_attr *a, long ret, int err, long long ns)
{
	const char *out = getenv("LOADWATCH_OUT");
	if (!out || !a->kern_version)
		return;
	char name[BPF_OBJ_NAME_LEN + 1] = { 0 };
	memcpy(name, a->prog_name, BPF_OBJ_NAME_LEN);
	char line[256];
	int n;
	if (ret >= 0) {
		struct bpf_prog_info info;
		if (ret < (long)sizeof(obj_fds))
			obj_fds[ret] = 1;
		union bpf_attr ia;
		memset(&info, 0, sizeof(info));
		memset(&ia, 0, sizeof(ia));
		ia.info.bpf_fd = (__u32)ret;
		ia.info.info_len = sizeof(info);
		ia.info.info = (__u64)(unsigned long)&info;
		long r = next(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, (long)&ia, sizeof(ia), 0, 0, 0);
		n = snprintf(line, sizeof(line), "%u %u \"%s\" %u OK %ld\n", a->prog_type, a->expected_attach_type, name,
			     a->insn_cnt, r ? -1L : (long)info.verified_insns);
	} else {
		n = snprintf(line, sizeof(line), "%u %u \"%s\" %u %s\n", a->prog_type, a->expected_attach_type, name,
			     a->insn_cnt, errno_name(err));
	}
	if (ret >= 0)
		dump_xlated((int)ret, name, a->insn_cnt);
	if (getenv("LOADWATCH_TIME") && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n - 1, sizeof(line) - (size_t)n + 1, " %lld\n", ns) - 1;
	int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) != n) {
		}
		close(fd);
	}
}

long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long), a4 = va_arg(ap, long),
	     a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	union bpf_attr attr;
	if (nr == SYS_bpf && getenv("LOADWATCH_STOP") &&
	    (a1 == BPF_LINK_CREATE || a1 == BPF_RAW_TRACEPOINT_OPEN || a1 == BPF_PROG_ATTACH) &&
	    !copy_attr(&attr, (const void *)a2, (unsigned long)a3)) {
		__u32 fd = a1 == BPF_LINK_CREATE ? attr.link_create.prog_fd :
			   a1 == BPF_RAW_TRACEPOINT_OPEN ? attr.raw_tracepoint.prog_fd : attr.attach_bpf_fd;
		if (fd < sizeof(obj_fds) && obj_fds[fd])
			_exit(0);
	}
	if (nr != SYS_bpf || a1 != BPF_PROG_LOAD || copy_attr(&attr, (const void *)a2, (unsigned long)a3))
		return next(nr, a1, a2, a3, a4, a5, a6);
	int err = refused(&attr);
	if (err) {
		watch(&attr, -1, err, 0);
		errno = err;
		return -1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long ret = next(nr, a1, a2, a3, a4, a5, a6);
	err = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	watch(&attr, ret, err, (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	errno = err;
	return ret;
}
