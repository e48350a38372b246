/* SPDX-License-Identifier: MIT */
/* dup, dup2, dup3, fcntl(F_DUPFD*), close and close_range keep map fds
 * working, and a closed number that is reused is not taken for the map. */
#include <fcntl.h>

#include "check.h"

static long update(int fd, __u32 key, __u64 val)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&val;
	return syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

static long lookup(int fd, __u32 key, __u64 *val)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)val;
	return syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
}

int main(void)
{
	__u64 v;

	require_shim();
	int fd = make_map();
	CHECK(update(fd, 1, 11) == 0, "update");

	int d1 = dup(fd);
	CHECK(d1 >= 0 && lookup(d1, 1, &v) == 0 && v == 11, "dup");
	CHECK(dup2(fd, 40) == 40 && lookup(40, 1, &v) == 0 && v == 11, "dup2");
	CHECK(dup3(fd, 41, O_CLOEXEC) == 41 && lookup(41, 1, &v) == 0, "dup3");
	int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 50);
	CHECK(d2 >= 50 && lookup(d2, 1, &v) == 0, "F_DUPFD_CLOEXEC");

	/* libbpf's ensure_good_fd: move the map and close the original */
	CHECK(close(fd) == 0, "close");
	CHECK(update(d1, 2, 22) == 0 && lookup(40, 2, &v) == 0 && v == 22, "still one map");
	errno = 0;
	CHECK(lookup(fd, 1, &v) == -1 && errno == EBADF, "closed fd is EBADF");

	/* the number comes back as an ordinary file: not a map any more */
	int other = open("/dev/null", O_RDONLY);
	CHECK(other >= 0, "open");
	CHECK(dup2(other, 40) == 40, "dup2 over a map fd");
	errno = 0;
	CHECK(lookup(40, 1, &v) == -1 && errno == EINVAL, "replaced fd is not a map");

	CHECK(close_range(41, 49, 0) == 0, "close_range");
	errno = 0;
	CHECK(lookup(41, 1, &v) == -1 && errno == EBADF, "range-closed fd");
	CHECK(lookup(d2, 1, &v) == 0, "fd outside the range");

	/* raw syscalls are seen too */
	CHECK(syscall(SYS_close, d2) == 0, "SYS_close");
	errno = 0;
	CHECK(lookup(d2, 1, &v) == -1 && errno == EBADF, "SYS_close'd fd");
	CHECK(lookup(d1, 1, &v) == 0 && v == 11, "last fd still works");
	return 0;
}
