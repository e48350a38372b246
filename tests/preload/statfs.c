/* SPDX-License-Identifier: MIT */
/* statfs() and friends report BPF_FS_MAGIC for the fake bpffs, the kernel's
 * anon-inode magic for a map fd, and are untouched elsewhere. */
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "check.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define ANON_INODE_FS_MAGIC 0x09041934

int main(void)
{
	struct statfs s;
	struct statvfs v;

	require_shim();
	CHECK(statfs("/sys/fs/bpf", &s) == 0, "statfs");
	CHECK((unsigned long)s.f_type == BPF_FS_MAGIC, "f_type %#lx", (unsigned long)s.f_type);
	CHECK(s.f_bsize == 4096 && s.f_namelen == 255 && s.f_blocks == 0 && s.f_files == 0, "fields");
	CHECK(mkdir("/sys/fs/bpf/sub", 0700) == 0, "mkdir");
	CHECK(statfs("/sys/fs/bpf/sub/", &s) == 0 && (unsigned long)s.f_type == BPF_FS_MAGIC, "statfs sub");
	CHECK(statfs("/sys/fs/bpf/sub/../../bpf", &s) == 0 && (unsigned long)s.f_type == BPF_FS_MAGIC,
	      "statfs with ..");
	CHECK(statvfs("/sys/fs/bpf", &v) == 0 && v.f_blocks == 0 && v.f_namemax == 255, "statvfs");

	int dfd = open("/sys/fs/bpf/sub", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0, "open dir");
	CHECK(fstatfs(dfd, &s) == 0 && (unsigned long)s.f_type == BPF_FS_MAGIC, "fstatfs dir");
	close(dfd);

	int fd = make_map();
	CHECK(fstatfs(fd, &s) == 0 && (unsigned long)s.f_type == ANON_INODE_FS_MAGIC, "fstatfs map");

	CHECK(statfs("/proc", &s) == 0 && s.f_type == 0x9fa0, "statfs /proc is procfs");
	CHECK(statfs("/sys/fs", &s) == 0 && (unsigned long)s.f_type != BPF_FS_MAGIC, "statfs /sys/fs");
	return 0;
}
