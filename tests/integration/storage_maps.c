/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/storage_maps.c: SK_STORAGE, INODE_STORAGE, TASK_STORAGE
 * and CGRP_STORAGE maps as bpftool's feature probe and libbpf objects make
 * them (BTF: int key, a value with a bpf_spin_lock), and what user space
 * gets from their element calls: the key is a socket fd, a file fd, a pidfd
 * or a cgroup fd. For storage_maps.sh; one line per step, "step: result".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btf_blob.h"

#define T_CGRP_STORAGE 32u
#define ENOTSUPP 524

static const char *en(long r)
{
	if (r >= 0)
		return "OK";
	return errno == ENOTSUPP ? "ENOTSUPP" : strerrorname_np(errno);
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/* libbpf's load_local_storage_btf(): int, struct bpf_spin_lock, struct val */
static int storage_btf(void)
{
	struct test_btf b;
	union bpf_attr a;
	test_btf_spin_lock(&b);
	test_btf_attr(&a, &b);
	return (int)sys_bpf(BPF_BTF_LOAD, &a);
}

static int btf_fd;

static long create(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags, __u32 kid, __u32 vid)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	if (kid || vid) {
		a.btf_fd = (__u32)btf_fd;
		a.btf_key_type_id = kid;
		a.btf_value_type_id = vid;
	}
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static long elem(int cmd, int map, int key, void *val, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)map;
	a.key = (__u64)(unsigned long)&key;
	a.value = (__u64)(unsigned long)val;
	a.flags = flags;
	return sys_bpf(cmd, &a);
}

static void upd(const char *what, int map, int key, int cnt, __u64 flags)
{
	int v[2] = { cnt, 0x5a5a };     /* cnt, and the lock word (never taken from user space) */
	printf("  update %s flags %llu: %s\n", what, (unsigned long long)flags, en(elem(BPF_MAP_UPDATE_ELEM, map, key, v, flags)));
}

static void lkp(const char *what, int map, int key, __u64 flags)
{
	int v[2] = { -1, -1 };
	long r = elem(BPF_MAP_LOOKUP_ELEM, map, key, v, flags);
	if (r < 0)
		printf("  lookup %s flags %llu: %s\n", what, (unsigned long long)flags, en(r));
	else
		printf("  lookup %s flags %llu: OK cnt=%d lock=%d\n", what, (unsigned long long)flags, v[0], v[1]);
}

static void del(const char *what, int map, int key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)map;
	a.key = (__u64)(unsigned long)&key;
	printf("  delete %s: %s\n", what, en(sys_bpf(BPF_MAP_DELETE_ELEM, &a)));
}

static void rest(int map, int key)
{
	union bpf_attr a;
	int next, v[2];
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)map;
	a.key = (__u64)(unsigned long)&key;
	a.next_key = (__u64)(unsigned long)&next;
	printf("  get_next_key: %s\n", en(sys_bpf(BPF_MAP_GET_NEXT_KEY, &a)));
	a.key = 0;
	printf("  get_next_key NULL: %s\n", en(sys_bpf(BPF_MAP_GET_NEXT_KEY, &a)));
	printf("  lookup_and_delete: %s\n", en(elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, map, key, v, 0)));
	memset(&a, 0, sizeof(a));
	int keys[4], vals[8];
	__u64 out = 0;
	a.batch.map_fd = (__u32)map;
	a.batch.keys = (__u64)(unsigned long)keys;
	a.batch.values = (__u64)(unsigned long)vals;
	a.batch.out_batch = (__u64)(unsigned long)&out;
	a.batch.count = 4;
	printf("  lookup_batch: %s\n", en(sys_bpf(BPF_MAP_LOOKUP_BATCH, &a)));
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)map;
	printf("  freeze: %s\n", en(sys_bpf(BPF_MAP_FREEZE, &a)));
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)map;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	long r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
	printf("  info: %s type=%u key=%u value=%u max=%u flags=%#x btf_key=%u btf_value=%u\n", en(r), info.type,
	       info.key_size, info.value_size, info.max_entries, info.map_flags, info.btf_key_type_id,
	       info.btf_value_type_id);
}

/* the same element steps for an owner key (and a second fd of the same owner) */
static void steps(int map, const char *what, int key, int same)
{
	lkp(what, map, key, 0);
	upd(what, map, key, 1, BPF_EXIST);
	upd(what, map, key, 1, 4);
	upd(what, map, key, 1, BPF_NOEXIST);
	upd(what, map, key, 2, BPF_NOEXIST);
	lkp(what, map, key, 0);
	lkp("the same owner through another fd", map, same, 0);
	upd(what, map, key, 3, BPF_EXIST);
	upd(what, map, key, 4, BPF_F_LOCK);
	upd(what, map, key, 5, BPF_F_LOCK | BPF_EXIST);
	lkp(what, map, key, BPF_F_LOCK);
	lkp(what, map, key, 2);
	upd(what, map, key, 6, BPF_ANY);
	lkp(what, map, key, 0);
	del(what, map, key);
	del(what, map, key);
	lkp(what, map, key, 0);
	upd(what, map, key, 7, BPF_ANY);
}

static const struct {
	__u32 type;
	const char *name;
} types[] = {
	{ BPF_MAP_TYPE_SK_STORAGE, "sk_storage" },
	{ BPF_MAP_TYPE_INODE_STORAGE, "inode_storage" },
	{ BPF_MAP_TYPE_TASK_STORAGE, "task_storage" },
	{ T_CGRP_STORAGE, "cgrp_storage" },
};

/* storage_maps probe: does this host make the four storages as bpftool
 * probes them? 0, or 1 and the reason (a refusal: EPERM, EOPNOTSUPP,
 * ENOTSUPP, EINVAL for an unknown type or no BTF). */
static int probe(void)
{
	btf_fd = storage_btf();
	if (btf_fd < 0) {
		printf("host kernel refuses BTF loads (%s)\n", en(btf_fd));
		return 1;
	}
	for (int i = 0; i < 4; i++) {
		long r = create(types[i].type, 4, 8, 0, BPF_F_NO_PREALLOC, 1, 3);
		if (r < 0) {
			printf("host kernel refuses %s map creation (%s)\n", types[i].name, en(r));
			return 1;
		}
		close((int)r);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "probe"))
		return probe();
	btf_fd = storage_btf();
	if (btf_fd < 0) {
		printf("BTF load: %s\n", en(btf_fd));
		return 1;
	}
	int maps[4];
	for (int i = 0; i < 4; i++) {
		__u32 t = types[i].type;
		printf("%s:\n", types[i].name);
		printf("  create as bpftool probes: %s\n", en(maps[i] = (int)create(t, 4, 8, 0, BPF_F_NO_PREALLOC, 1, 3)));
		long r;
		printf("  create without BTF: %s\n", en(r = create(t, 4, 8, 0, BPF_F_NO_PREALLOC, 0, 0)));
		printf("  create with a struct key: %s\n", en(r = create(t, 4, 8, 0, BPF_F_NO_PREALLOC, 2, 3)));
		printf("  create with an int value of 4: %s\n", en(r = create(t, 4, 4, 0, BPF_F_NO_PREALLOC, 1, 1)));
		if (r >= 0)
			close((int)r);
		printf("  create with BPF_F_CLONE: %s\n", en(r = create(t, 4, 8, 0, BPF_F_NO_PREALLOC | BPF_F_CLONE, 1, 3)));
		if (r >= 0)
			close((int)r);
		printf("  create without NO_PREALLOC: %s\n", en(create(t, 4, 8, 0, 0, 1, 3)));
		printf("  create with max_entries: %s\n", en(create(t, 4, 8, 1, BPF_F_NO_PREALLOC, 1, 3)));
		printf("  create with key 8: %s\n", en(create(t, 8, 8, 0, BPF_F_NO_PREALLOC, 1, 3)));
	}

	int closed = 1000;          /* no fd opens that high here */
	close(closed);
	int pipefd[2];
	if (pipe(pipefd))
		return 1;
	int file = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	int file2 = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	int other = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	/* sockets */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	int dup_sock = dup(sv[0]);
	printf("sk_storage elements:\n");
	steps(maps[0], "a unix socket", sv[0], dup_sock);
	lkp("its peer", maps[0], sv[1], 0);
	upd("a udp socket", maps[0], udp, 9, BPF_NOEXIST);
	lkp("a udp socket", maps[0], udp, 0);
	lkp("a pipe", maps[0], pipefd[0], 0);
	upd("a pipe", maps[0], pipefd[0], 1, BPF_ANY);
	del("a pipe", maps[0], pipefd[0]);
	lkp("a closed fd", maps[0], closed, 0);
	upd("a closed fd", maps[0], closed, 1, BPF_ANY);
	del("a closed fd", maps[0], closed);
	lkp("fd -1", maps[0], -1, 0);
	rest(maps[0], sv[0]);

	printf("inode_storage elements:\n");
	steps(maps[1], "a file", file, file2);
	lkp("another file", maps[1], other, 0);
	lkp("a pipe", maps[1], pipefd[0], 0);
	upd("a pipe", maps[1], pipefd[0], 8, BPF_NOEXIST);
	lkp("the pipe's other end", maps[1], pipefd[1], 0);
	int efd = eventfd(0, EFD_CLOEXEC);
	upd("an eventfd", maps[1], efd, 11, BPF_NOEXIST);
	lkp("a bpf map fd (one anonymous inode with the eventfd)", maps[1], maps[2], 0);
	lkp("a closed fd", maps[1], closed, 0);
	upd("a closed fd", maps[1], closed, 1, BPF_ANY);
	lkp("fd -1", maps[1], -1, 0);
	rest(maps[1], file);

	printf("task_storage elements:\n");
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int self2 = (int)syscall(SYS_pidfd_open, getpid(), 0);
	steps(maps[2], "our pidfd", self, self2);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	int cfd = (int)syscall(SYS_pidfd_open, child, 0);
	lkp("a child's pidfd", maps[2], cfd, 0);
	upd("a child's pidfd", maps[2], cfd, 12, BPF_NOEXIST);
	lkp("a child's pidfd", maps[2], cfd, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	lkp("the pidfd of a reaped child", maps[2], cfd, 0);
	upd("the pidfd of a reaped child", maps[2], cfd, 1, BPF_ANY);
	del("the pidfd of a reaped child", maps[2], cfd);
	lkp("a file", maps[2], file, 0);
	upd("a file", maps[2], file, 1, BPF_ANY);
	lkp("a closed fd", maps[2], closed, 0);
	rest(maps[2], self);

	printf("cgrp_storage elements:\n");
	/* a cgroup2 directory: the host's cgroup2 mount (wherever it is), or a
	 * v1 hierarchy's (the kernel takes both); the line says which, as hosts differ */
	char cgpath[512] = "", v1path[512] = "";
	FILE *mi = fopen("/proc/self/mountinfo", "r");
	char line[2048];
	while (mi && fgets(line, sizeof(line), mi)) {
		char mp[512], fs[64];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*d %*d %*s %*s %511s", mp) != 1 || sscanf(dash + 3, "%63s", fs) != 1)
			continue;
		if (!strcmp(fs, "cgroup2") && !cgpath[0])
			snprintf(cgpath, sizeof(cgpath), "%s", mp);
		if (!strcmp(fs, "cgroup") && !v1path[0])
			snprintf(v1path, sizeof(v1path), "%s", mp);
	}
	if (mi)
		fclose(mi);
	int cg = cgpath[0] ? open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	printf("cgroup2 mounted: %s\n", cg >= 0 ? "yes" : "no");
	if (cg >= 0) {
		int cg2 = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		steps(maps[3], "a cgroup2 directory", cg, cg2);
		printf("cgroup2 done\n");
	}
	int v1 = v1path[0] ? open(v1path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	printf("cgroup v1 mounted: %s\n", v1 >= 0 ? "yes" : "no");
	if (v1 >= 0) {
		lkp("a cgroup v1 directory", maps[3], v1, 0);
		upd("a cgroup v1 directory", maps[3], v1, 13, BPF_NOEXIST);
		lkp("a cgroup v1 directory", maps[3], v1, 0);
		printf("cgroup v1 done\n");
	}
	int dir = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	lkp("a directory that is no cgroup", maps[3], dir, 0);
	upd("a directory that is no cgroup", maps[3], dir, 1, BPF_ANY);
	lkp("a file", maps[3], file, 0);
	lkp("a closed fd", maps[3], closed, 0);
	rest(maps[3], cg);
	return 0;
}
