/* SPDX-License-Identifier: MIT */
/* readlink("/proc/self/fd/N") of a map fd reads anon_inode:bpf-map, truncated
 * like readlink(); other fds are untouched. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "check.h"

int main(void)
{
	char path[64], buf[PATH_MAX];

	require_shim();
	int fd = make_map();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, sizeof(buf));
	CHECK(n == 18 && !memcmp(buf, "anon_inode:bpf-map", 18), "readlink %.*s", (int)(n > 0 ? n : 0), buf);
	memset(buf, 'x', sizeof(buf));
	CHECK(readlink(path, buf, 5) == 5 && !memcmp(buf, "anon_x", 6), "truncated");
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	CHECK(readlink(path, buf, sizeof(buf)) == 18, "/proc/<pid>/fd");
	snprintf(path, sizeof(path), "fd/%d", fd);
	int proc = open("/proc/thread-self", O_RDONLY | O_DIRECTORY);
	CHECK(proc >= 0, "open /proc/thread-self");
	snprintf(path, sizeof(path), "/proc/thread-self/fd/%d", fd);
	CHECK(readlinkat(proc, path, buf, sizeof(buf)) == 18, "readlinkat");
	close(proc);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", 1 /* stdout */);
	n = readlink(path, buf, sizeof(buf));
	CHECK(n > 0 && memcmp(buf, "anon_inode:bpf", 14), "other fds untouched");

	/* a descriptor opened under bpffs reads back as a mount-point path */
	CHECK(mkdir("/sys/fs/bpf/d", 0700) == 0, "mkdir");
	int dfd = open("/sys/fs/bpf/d", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0, "open dir");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	n = readlink(path, buf, sizeof(buf) - 1);
	CHECK(n > 0, "readlink dir fd");
	buf[n] = '\0';
	CHECK(!strcmp(buf, "/sys/fs/bpf/d"), "dir fd reads %s", buf);
	return 0;
}
