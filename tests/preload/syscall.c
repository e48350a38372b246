/* SPDX-License-Identifier: MIT */
/* syscall(): other numbers pass through with all six arguments, errno intact;
 * SYS_bpf goes to the engine with the kernel's errno. */
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"

int main(void)
{
	require_shim();

	long pid = syscall(SYS_getpid, 1L, 2L, 3L, 4L, 5L, 6L);
	CHECK(pid == getpid(), "SYS_getpid = %ld", pid);

	/* six arguments used: a failing one keeps the kernel's errno */
	errno = 0;
	CHECK(syscall(SYS_close, -1) == -1 && errno == EBADF, "SYS_close(-1)");
	errno = 0;
	long r = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
	CHECK(r >= 0 && errno == 0, "SYS_openat = %ld", r);
	CHECK(syscall(SYS_close, r) == 0, "SYS_close");

	/* an invalid command: the kernel's EINVAL, not a real bpf() call */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	errno = 0;
	r = syscall(SYS_bpf, 12345, &a, sizeof(a));
	CHECK(r == -1 && errno == EINVAL, "bpf(12345) = %ld", r);

	/* a valid one reaches the engine: its objects live under BPFEMU_ROOT */
	int fd = make_map();
	struct stat st;
	CHECK(stat(root_path("objs"), &st) == 0 && S_ISDIR(st.st_mode), "state root objs");

	/* errno untouched on success */
	errno = 1234;
	__u32 key = 1;
	__u64 val = 42;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&val;
	CHECK(syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) == 0 && errno == 1234, "update");
	val = 0;
	CHECK(syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == 0 && val == 42, "lookup");
	return 0;
}
