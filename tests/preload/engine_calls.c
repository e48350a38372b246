/* SPDX-License-Identifier: MIT */
/*
 * The engine never reaches the shim: run with LD_PRELOAD="spy.so
 * libbpfemu.so", this program drives every part of the engine that touches
 * files and descriptors (object files, refs and limbo links, pins and gets
 * through paths and path_fd, id scans of /proc, BTF, programs, map-in-map,
 * ring buffers and their mmap, local storages keyed by a socket and a pidfd,
 * the trace file and the log) through syscall(SYS_bpf), bpfemu_bpf(), close,
 * dup, fcntl, unlink, readlink and mmap, and then asks the spy (tests/preload/
 * spy.c) whether any libc file, descriptor or memory call arrived by name
 * while one of those ran. None may: the engine calls the system itself
 * (emu/os.c), so the program's fd bookkeeping never sees its descriptors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "btf_blob.h"
#include "check.h"

static long (*emb)(int, void *, unsigned int);

static long sys(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static int map(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags, int inner, int btf, __u32 kid, __u32 vid)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.inner_map_fd = (__u32)inner;
	if (kid || vid) {
		a.btf_fd = (__u32)btf;
		a.btf_key_type_id = kid;
		a.btf_value_type_id = vid;
	}
	int fd = (int)emb(BPF_MAP_CREATE, &a, sizeof(a));
	CHECK(fd >= 0, "map type %u", type);
	return fd;
}

static long elem(int cmd, int fd, const void *key, void *val, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	a.flags = flags;
	return sys(cmd, &a);
}

static int btf_load(void)
{
	struct test_btf b;
	union bpf_attr a;
	test_btf_spin_lock(&b);
	test_btf_attr(&a, &b);
	int fd = (int)sys(BPF_BTF_LOAD, &a);
	CHECK(fd >= 0, "BTF load");
	return fd;
}

int main(void)
{
	require_shim();
	int (*report)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "spy_report");
	int (*selftest)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "spy_selftest");
	CHECK(report && selftest, "not run behind tests/preload/spy.c (LD_PRELOAD=spy.so:libbpfemu.so)");
	CHECK(selftest() == 1, "the spy sees a call made while the depth is raised");
	emb = (long (*)(int, void *, unsigned int))dlsym(RTLD_DEFAULT, "bpfemu_bpf");
	CHECK(emb, "bpfemu_bpf");

	/* maps, elements, a walk, a batch */
	int h = map(BPF_MAP_TYPE_HASH, 4, 8, 64, 0, 0, 0, 0, 0);
	int ar = map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, 0, 0, 0);
	__u32 k = 1, next;
	__u64 v = 5;
	CHECK(elem(BPF_MAP_UPDATE_ELEM, h, &k, &v, 0) == 0, "update");
	CHECK(elem(BPF_MAP_LOOKUP_ELEM, h, &k, &v, 0) == 0, "lookup");
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)h;
	a.next_key = (__u64)(unsigned long)&next;
	CHECK(sys(BPF_MAP_GET_NEXT_KEY, &a) == 0, "next key");
	__u32 keys[4];
	__u64 vals[4], out = 0;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (__u32)ar;
	a.batch.keys = (__u64)(unsigned long)keys;
	a.batch.values = (__u64)(unsigned long)vals;
	a.batch.out_batch = (__u64)(unsigned long)&out;
	a.batch.count = 4;
	sys(BPF_MAP_LOOKUP_BATCH, &a);

	/* BTF, a map holding its BTF, a program */
	int btf = btf_load();
	int hb = map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0, 0, btf, 1, 3);
	struct bpf_insn insns[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (__u64)(unsigned long)"GPL";
	int prog = (int)sys(BPF_PROG_LOAD, &a);
	CHECK(prog >= 0, "prog load");

	/* map-in-map: a reference link, then limbo */
	int inner = map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, 0, 0, 0, 0);
	int outer = map(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, inner, 0, 0, 0);
	__u32 ifd = (__u32)inner;
	CHECK(elem(BPF_MAP_UPDATE_ELEM, outer, &k, &ifd, 0) == 0, "insert an inner map");
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)outer;
	a.key = (__u64)(unsigned long)&k;
	CHECK(sys(BPF_MAP_DELETE_ELEM, &a) == 0, "delete it");

	/* pins: by path, through a path_fd, get, unpin */
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/spied";
	a.bpf_fd = (__u32)h;
	CHECK(sys(BPF_OBJ_PIN, &a) == 0, "pin");
	CHECK(mkdir("/sys/fs/bpf/dir", 0755) == 0, "mkdir");
	int dfd = open("/sys/fs/bpf/dir", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0, "open the bpffs dir");
	unsigned char raw[168];
	__u64 path = (__u64)(unsigned long)"../spied";
	__u32 flags = 1u << 14;
	memset(raw, 0, sizeof(raw));
	memcpy(raw, &path, 8);
	memcpy(raw + 12, &flags, 4);
	memcpy(raw + 16, &dfd, 4);
	int got = (int)syscall(SYS_bpf, BPF_OBJ_GET, raw, sizeof(raw));
	CHECK(got >= 0, "get through path_fd");
	int d2 = dup(got), d3 = fcntl(got, F_DUPFD_CLOEXEC, 100);
	CHECK(d2 >= 0 && d3 >= 100 && fcntl(d3, F_GETFL) >= 0, "dup");
	char link[64], buf[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", got);
	CHECK(readlink(link, buf, sizeof(buf)) == 18, "readlink of a map fd");
	CHECK(unlink("/sys/fs/bpf/spied") == 0, "unpin");
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/spied";
	a.bpf_fd = (__u32)h;
	CHECK(sys(BPF_OBJ_PIN, &a) == 0, "pin again after the unpin (limbo)");

	/* ids: scans of the pins, refs and /proc */
	memset(&a, 0, sizeof(a));
	CHECK(sys(BPF_MAP_GET_NEXT_ID, &a) == 0, "next id");
	a.map_id = a.next_id;
	int byid = (int)sys(BPF_MAP_GET_FD_BY_ID, &a);
	CHECK(byid >= 0, "fd by id");
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)byid;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	CHECK(sys(BPF_OBJ_GET_INFO_BY_FD, &a) == 0, "info");

	/* a ring buffer and its mmap */
	int rb = map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0, 0, 0, 0);
	void *cons = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rb, 0);
	CHECK(cons != MAP_FAILED, "mmap of a ring buffer");

	/* local storages keyed by a socket and by a pidfd */
	int sks = map(BPF_MAP_TYPE_SK_STORAGE, 4, 8, 0, BPF_F_NO_PREALLOC, 0, btf, 1, 3);
	int tks = map(BPF_MAP_TYPE_TASK_STORAGE, 4, 8, 0, BPF_F_NO_PREALLOC, 0, btf, 1, 3);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	__u32 val2[2] = { 3, 0 };
	CHECK(elem(BPF_MAP_UPDATE_ELEM, sks, &sv[0], val2, 0) == 0, "sk storage");
	CHECK(elem(BPF_MAP_UPDATE_ELEM, tks, &pidfd, val2, 0) == 0, "task storage");

	/* and everything closed again: the last close unmaps and frees */
	int all[] = { h, ar, btf, hb, prog, inner, outer, got, d2, d3, byid, rb, sks, tks };
	munmap(cons, 4096);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		CHECK(close(all[i]) == 0, "close %d", all[i]);
	CHECK(unlink("/sys/fs/bpf/spied") == 0, "unpin");

	int n = report();
	CHECK(n == 0, "%d libc calls by name came from inside the engine", n);
	return 0;
}
