/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/obj_stat.c: what stat and friends say about bpf object
 * fds and pins, for obj_stat.sh (the kernel as root, the shim as nobody).
 *
 * On the kernel an object fd (map, program, BTF, link) is an anonymous
 * inode: every stat call that reaches it through the fd (fstat, fstat64,
 * fstatat with AT_EMPTY_PATH, statx, stat of /proc/self/fd/N, /dev/fd/N or
 * /proc/<pid>/fd/N) reports exactly what it reports for an eventfd, the
 * same inode; fstatfs and statfs report the anon_inodefs. lstat of
 * /proc/self/fd/N is the link, 0700 (0500 for a read-only fd: BTF, links,
 * BPF_F_RDONLY maps), and F_GETFL says the same. A pin is a
 * regular file of its own, 0600, empty, one link, the pinner's. Prints one
 * line per object and exits 1 at the first difference.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static struct stat anon_st;
static struct statx anon_stx;
static struct statfs anon_sfs;

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_rdev == b->st_rdev && a->st_size == b->st_size && a->st_blksize == b->st_blksize &&
	       a->st_blocks == b->st_blocks && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec;
}

static void show(const char *what, const struct stat *st)
{
	printf("  %s: dev=%#lx ino=%lu mode=%o nlink=%lu uid=%u gid=%u size=%ld blksize=%ld blocks=%ld\n", what,
	       (unsigned long)st->st_dev, (unsigned long)st->st_ino, st->st_mode, (unsigned long)st->st_nlink,
	       st->st_uid, st->st_gid, (long)st->st_size, (long)st->st_blksize, (long)st->st_blocks);
}

#define SAME(st, what)                                                                  \
	do {                                                                            \
		if (!same_stat(&anon_st, (st))) {                                       \
			show("eventfd", &anon_st);                                      \
			show(what, (st));                                               \
			CHECK(0, "%s: %s differs from an anonymous inode", name, what); \
		}                                                                       \
	} while (0)

static void check_fd(const char *name, int fd, bool rdonly)
{
	char path[64];
	struct stat st;
	struct stat64 st64;
	struct statx stx;
	struct statfs sfs;

	CHECK(fstat(fd, &st) == 0, "%s: fstat", name);
	SAME(&st, "fstat");
	CHECK(fstat64(fd, &st64) == 0, "%s: fstat64", name);
	memcpy(&st, &st64, sizeof(st));
	SAME(&st, "fstat64");
	CHECK(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0, "%s: fstatat", name);
	SAME(&st, "fstatat(AT_EMPTY_PATH)");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(stat(path, &st) == 0, "%s: stat %s", name, path);
	SAME(&st, "stat /proc/self/fd/N");
	CHECK(fstatat(AT_FDCWD, path, &st, 0) == 0, "%s: fstatat %s", name, path);
	SAME(&st, "fstatat /proc/self/fd/N");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == (rdonly ? O_RDONLY : O_RDWR), "%s: F_GETFL %o", name,
	      fcntl(fd, F_GETFL));
	CHECK(lstat(path, &st) == 0, "%s: lstat", name);
	CHECK(S_ISLNK(st.st_mode) && (st.st_mode & 07777) == (rdonly ? 0500u : 0700u) && st.st_size == 64,
	      "%s: lstat of the link: mode %o size %ld", name, st.st_mode, (long)st.st_size);
	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	CHECK(stat(path, &st) == 0, "%s: stat %s", name, path);
	SAME(&st, "stat /dev/fd/N");
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	CHECK(stat(path, &st) == 0, "%s: stat %s", name, path);
	SAME(&st, "stat /proc/<pid>/fd/N");

	CHECK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0, "%s: statx", name);
	CHECK(stx.stx_mode == anon_stx.stx_mode && stx.stx_nlink == anon_stx.stx_nlink &&
	      stx.stx_uid == anon_stx.stx_uid && stx.stx_gid == anon_stx.stx_gid && stx.stx_ino == anon_stx.stx_ino &&
	      stx.stx_size == anon_stx.stx_size && stx.stx_blocks == anon_stx.stx_blocks &&
	      stx.stx_blksize == anon_stx.stx_blksize && stx.stx_dev_major == anon_stx.stx_dev_major &&
	      stx.stx_dev_minor == anon_stx.stx_dev_minor && stx.stx_attributes == anon_stx.stx_attributes,
	      "%s: statx mode %o ino %llu", name, stx.stx_mode, (unsigned long long)stx.stx_ino);

	CHECK(fstatfs(fd, &sfs) == 0, "%s: fstatfs", name);
	CHECK(sfs.f_type == anon_sfs.f_type && sfs.f_bsize == anon_sfs.f_bsize && sfs.f_blocks == anon_sfs.f_blocks &&
	      sfs.f_namelen == anon_sfs.f_namelen, "%s: fstatfs type %#lx", name, (unsigned long)sfs.f_type);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(statfs(path, &sfs) == 0 && sfs.f_type == anon_sfs.f_type, "%s: statfs %s: %#lx", name, path,
	      (unsigned long)sfs.f_type);
	printf("%s: an anonymous inode (mode %o, nlink %lu, uid %u, size %ld) through fstat, fstat64, fstatat, "
	       "statx, /proc/self/fd, /dev/fd, /proc/<pid>/fd; fstatfs and statfs: anon_inodefs\n",
	       name, anon_st.st_mode, (unsigned long)anon_st.st_nlink, anon_st.st_uid, (long)anon_st.st_size);
}

static void check_pin(const char *path)
{
	struct stat st;
	struct statx stx;
	CHECK(stat(path, &st) == 0, "stat %s", path);
	CHECK(st.st_mode == (S_IFREG | 0600) && st.st_nlink == 1 && st.st_size == 0 && st.st_blocks == 0 &&
	      st.st_uid == geteuid() && st.st_gid == getegid(), "pin %s", path);
	CHECK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) == 0 && stx.stx_mode == (S_IFREG | 0600) &&
	      stx.stx_nlink == 1 && stx.stx_size == 0, "statx %s", path);
	printf("pin %s: a regular file, 0600, one link, empty, the pinner's\n", path);
}

int main(void)
{
	union bpf_attr a;
	int efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0, "eventfd");
	CHECK(fstat(efd, &anon_st) == 0 && statx(efd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &anon_stx) == 0 &&
	      fstatfs(efd, &anon_sfs) == 0, "eventfd stat");
	CHECK(anon_st.st_mode == 0600, "the anonymous inode's mode is %o", anon_st.st_mode);

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	int map = (int)sys_bpf(BPF_MAP_CREATE, &a);
	CHECK(map >= 0, "map create");
	check_fd("map", map, false);
	a.map_flags = BPF_F_RDONLY;
	int map_ro = (int)sys_bpf(BPF_MAP_CREATE, &a);
	CHECK(map_ro >= 0, "map create rdonly");
	check_fd("map (BPF_F_RDONLY)", map_ro, true);

	struct bpf_insn insns[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 2 /* XDP_PASS */ },
				    { .code = BPF_JMP | BPF_EXIT } };
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (__u64)(unsigned long)"GPL";
	int prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
	CHECK(prog >= 0, "prog load");
	check_fd("program", prog, false);

	static const struct {
		__u16 magic;
		__u8 version, flags;
		__u32 hdr_len, type_off, type_len, str_off, str_len;
		__u32 types[4];
		char strs[5];
	} __attribute__((packed)) btf = { 0xeB9F, 1, 0, 24, 0, 16, 16, 5, { 1, 1u << 24, 4, 32 }, "\0int" };
	memset(&a, 0, sizeof(a));
	a.btf = (__u64)(unsigned long)&btf;
	a.btf_size = sizeof(btf);
	int b = (int)sys_bpf(BPF_BTF_LOAD, &a);
	CHECK(b >= 0, "BTF load");
	check_fd("BTF", b, true);

	/* an XDP link on the loopback of a network namespace of our own (the
	 * kernel, as root); under the shim BPFEMU_ATTACH=inert makes one */
	if (geteuid() == 0)
		CHECK(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET)");
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)prog;
	a.link_create.target_ifindex = 1;
	a.link_create.attach_type = BPF_XDP;
	int link = (int)sys_bpf(BPF_LINK_CREATE, &a);
	CHECK(link >= 0, "XDP link on lo");
	check_fd("link", link, true);      /* anon_inode_getfile(..., O_CLOEXEC): read-only */

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/stat1";
	a.bpf_fd = (__u32)map;
	CHECK(sys_bpf(BPF_OBJ_PIN, &a) == 0, "pin");
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/stat2";
	CHECK(sys_bpf(BPF_OBJ_PIN, &a) == 0, "pin twice");
	check_pin("/sys/fs/bpf/stat1");
	check_pin("/sys/fs/bpf/stat2");
	a.bpf_fd = 0;
	int got = (int)sys_bpf(BPF_OBJ_GET, &a);
	CHECK(got >= 0, "get");
	check_fd("map from OBJ_GET", got, false);
	a.file_flags = BPF_F_RDONLY;
	got = (int)sys_bpf(BPF_OBJ_GET, &a);
	CHECK(got >= 0, "get rdonly");
	check_fd("map from OBJ_GET (BPF_F_RDONLY)", got, true);
	return 0;
}
