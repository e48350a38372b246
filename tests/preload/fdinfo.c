/* SPDX-License-Identifier: MIT */
/* /proc/self/fdinfo/N of a map fd: the kernel's generic lines, then the map's. */
#include <fcntl.h>

#include "check.h"

int main(void)
{
	char path[64];
	unsigned int mnt_id;
	unsigned long ino;

	require_shim();
	int fd = make_map();
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	const char *t = slurp(path);
	CHECK(!strncmp(t, "pos:\t0\nflags:\t02000002\nmnt_id:\t", 31), "generic lines:\n%s", t);
	CHECK(sscanf(t, "pos:\t0\nflags:\t02000002\nmnt_id:\t%u\nino:\t%lu\n", &mnt_id, &ino) == 2, "ids:\n%s", t);
	CHECK(strstr(t, "\nmap_type:\t1\nkey_size:\t4\nvalue_size:\t8\nmax_entries:\t16\n"), "map lines:\n%s", t);
	CHECK(strstr(t, "\nmap_id:\t"), "map_id:\n%s", t);

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)getpid(), fd);
	CHECK(strstr(slurp(path), "map_type:\t1\n"), "/proc/<pid>/fdinfo");

	/* without O_CLOEXEC the flags say so */
	int fd2 = fcntl(fd, F_DUPFD, 10);
	CHECK(fd2 >= 10, "F_DUPFD");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd2);
	t = slurp(path);
	CHECK(strstr(t, "flags:\t02\n") && strstr(t, "map_type:\t1\n"), "dup'ed fd:\n%s", t);
	CHECK(fcntl(fd, F_GETFL) == O_RDWR, "F_GETFL %#o", fcntl(fd, F_GETFL));

	/* any other fd: the kernel's own file */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", 0);
	CHECK(!strstr(slurp(path), "map_type"), "stdin untouched");
	return 0;
}
