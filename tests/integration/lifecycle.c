/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/lifecycle.c: objects made and dropped over and over keep
 * to themselves. Under the shim a small object's file is reused once nothing
 * holds it (emu/fdtable.c, "spare object files"); this program checks what
 * the kernel guarantees anyway, that no map ever shows another one's data or
 * disappears while something still holds it: a fd in a forked child, a fd
 * passed over a socket, an OBJ_GET fd in another process, a pin, a slot of a
 * map of maps, a program's mapping; that a dropped map is gone for ids; and
 * that a program closing every fd (closefrom) or dup2'ing over high numbers
 * changes nothing. For lifecycle.sh (the kernel as root, the shim as nobody).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btf_blob.h"

#include "check.h"

/* Sends fd over the socket with one byte, tag (SCM_RIGHTS): sendmsg's result. */
static ssize_t send_fd(int sock, int fd, char tag)
{
	char buf[CMSG_SPACE(sizeof(int))];
	struct iovec io = { &tag, 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(sock, &m, 0);
}

static int array(__u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 16;
	a.map_flags = flags;
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	CHECK(fd >= 0, "array create");
	return fd;
}

static void put(int fd, __u32 k, __u64 v)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)&k;
	a.value = (__u64)(unsigned long)&v;
	CHECK(sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0, "update fd %d", fd);
}

static __u64 get(int fd, __u32 k)
{
	union bpf_attr a;
	__u64 v = 0;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)&k;
	a.value = (__u64)(unsigned long)&v;
	CHECK(sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) == 0, "lookup fd %d", fd);
	return v;
}

/* a map's or a program's id (both infos have it second; the larger buffer serves both) */
static __u32 obj_id(int fd)
{
	struct bpf_prog_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	CHECK(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0, "info");
	return info.id;
}

static bool id_alive(__u32 id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	int fd = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* a socket filter whose ld_imm64 names map fd: the program holds the map */
static int prog_using(int map)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = 4;
	a.license = (__u64)(unsigned long)"GPL";
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

/* the kernel drops a freed program's maps after an RCU grace period: wait for it */
static bool id_gone_soon(__u32 id)
{
	for (int i = 0; i < 200; i++) {
		if (!id_alive(id))
			return true;
		usleep(10000);
	}
	return false;
}

/* a BTF of its own: int [1], struct s { int x; } [2] named by tag */
static int btf_load(__u32 tag)
{
	char strs[16];
	int sl = snprintf(strs + 1, sizeof(strs) - 1, "x%u", tag % 100000) + 2;
	strs[0] = '\0';
	static const __u32 types[] = { 0, 1u << 24, 4, (1u << 24) | 32, 1, (4u << 24) | 1, 4, 1, 1, 0 };
	struct test_btf b;
	union bpf_attr a;
	test_btf_make(&b, types, sizeof(types), strs, (__u32)sl);
	test_btf_attr(&a, &b);
	int fd = (int)sys_bpf(BPF_BTF_LOAD, &a);
	CHECK(fd >= 0, "BTF load");
	return fd;
}

static int btf_map(int btf)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 8;
	a.btf_fd = (__u32)btf;
	a.btf_key_type_id = 1;
	a.btf_value_type_id = 2;
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	CHECK(fd >= 0, "map with BTF");
	return fd;
}

/* the BTF the map says it holds, by id: its first string after "", or "" */
static const char *held_btf_name(int map)
{
	static char name[32];
	struct bpf_map_info info;
	union bpf_attr a;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)map;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	CHECK(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && info.btf_id, "map info with a btf_id");
	memset(&a, 0, sizeof(a));
	a.btf_id = info.btf_id;
	int b = (int)sys_bpf(BPF_BTF_GET_FD_BY_ID, &a);
	name[0] = '\0';
	if (b < 0)
		return name;
	char raw[256];
	struct bpf_btf_info bi;
	memset(&bi, 0, sizeof(bi));
	bi.btf = (__u64)(unsigned long)raw;
	bi.btf_size = sizeof(raw);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)b;
	a.info.info_len = sizeof(bi);
	a.info.info = (__u64)(unsigned long)&bi;
	CHECK(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && bi.id == info.btf_id, "BTF info");
	close(b);
	__u32 str_off, type_len;
	memcpy(&type_len, raw + 12, 4);
	memcpy(&str_off, raw + 16, 4);
	snprintf(name, sizeof(name), "%s", raw + 24 + str_off + 1);
	return name;
}

/* makes and drops maps of the same size, each with its own values */
static void churn(int n, __u64 tag)
{
	for (int i = 0; i < n; i++) {
		int fd = array(0);
		CHECK(get(fd, 3) == 0, "a new map reads zero (round %d)", i);
		put(fd, 3, tag + (__u64)i);
		close(fd);
	}
}

/* pins fd, takes it back with OBJ_GET, reads key 1 through that, unpins */
static __u64 pin_get_unpin(int fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/lifecycle_cycle";
	a.bpf_fd = (__u32)fd;
	CHECK(sys_bpf(BPF_OBJ_PIN, &a) == 0, "pin");
	a.bpf_fd = 0;
	int g = (int)sys_bpf(BPF_OBJ_GET, &a);
	CHECK(g >= 0, "get");
	__u64 v = get(g, 1);
	close(g);
	CHECK(unlink("/sys/fs/bpf/lifecycle_cycle") == 0, "unpin");
	return v;
}

static void wait_ok(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed (status %#x)", st);
}

/* After the exec of a process that loaded a program holding map mid (the
 * process's only hold on it): the program fd kept across the exec (keep)
 * still holds the map, one closed by the exec does not. */
static int after_exec(__u32 mid, int keep)
{
	if (keep >= 0) {
		CHECK(id_alive(mid), "a map a program kept across an exec holds is found by id");
		close(keep);
		CHECK(id_gone_soon(mid), "a map a program kept across an exec held is gone for ids once that is closed");
	} else {
		CHECK(id_gone_soon(mid), "a map a program closed by an exec held is gone for ids");
	}
	return 0;
}

/* A child loads a program holding a map of its own, then execs this
 * program again (after_exec), the program's fd closed on exec or kept. */
static void exec_case(bool keep)
{
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		int m = array(0), p = prog_using(m);
		CHECK(p >= 0, "child: load a program using the map");
		char mid[16], fd[16];
		snprintf(mid, sizeof(mid), "%u", obj_id(m));
		snprintf(fd, sizeof(fd), "%d", keep ? p : -1);
		close(m);
		if (keep)
			CHECK(fcntl(p, F_SETFD, 0) == 0, "child: the program's fd kept across exec");
		execl("/proc/self/exe", "lifecycle", "after-exec", mid, fd, (char *)NULL);
		CHECK(0, "exec: %s", strerror(errno));
	}
	wait_ok(c);
}

/* An array of 2.4 MB (300000 8-byte values): its fd, or -1. */
static int big_array(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 300000;
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

/* A map of more than 1 MiB (it gets no spare name: a marker of its file,
 * emu/objfs.c) that only another process's fd holds is found by id, and is
 * gone once that process went. */
static void big_map_held_elsewhere(void)
{
	int sv[2], back[2];
	__u32 bid = 0;
	CHECK(pipe(sv) == 0 && pipe(back) == 0, "pipe");
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		char x;
		int big = big_array();
		CHECK(big >= 0, "child: a 2.4 MB array");
		__u32 bmid = obj_id(big);
		CHECK(write(back[1], &bmid, sizeof(bmid)) == sizeof(bmid), "child: write");
		_exit(read(sv[0], &x, 1) == 1 ? 0 : 1);
	}
	CHECK(read(back[0], &bid, sizeof(bid)) == sizeof(bid), "read the big map's id");
	CHECK(id_alive(bid), "a map of 2.4 MB another process holds is found by id");
	CHECK(write(sv[1], "x", 1) == 1, "let the child go");
	wait_ok(c);
	CHECK(id_gone_soon(bid), "a map of 2.4 MB is gone for ids once its process went");
	close(sv[0]);
	close(sv[1]);
	close(back[0]);
	close(back[1]);
}

/* "hold-maps": a small and a 2.4 MB map, held until stdin closes; says "r"
 * on stdout once they are made. */
static int hold_maps(void)
{
	int big = big_array(), small = array(0);
	CHECK(big >= 0 && small >= 0, "holder: two maps");
	char x;
	CHECK(write(1, "r", 1) == 1, "holder: ready");
	while (read(0, &x, 1) > 0)
		;
	return 0;
}

/* Starts this program as "hold-maps" with a state root inside ours
 * (under the shim: the same file system, so its files' locks show in
 * /proc/locks beside ours; on the kernel, just another process holding
 * maps). Its stdin in *in: close it to end the holder. */
static pid_t other_root_holder(int *in, char *root, size_t len)
{
	const char *ours = getenv("BPFEMU_ROOT");
	int to[2], from[2];
	char x;
	root[0] = '\0';
	if (ours && *ours)
		snprintf(root, len, "%s/other-root", ours);    /* ours is writable, and on the same file system */
	CHECK(pipe(to) == 0 && pipe(from) == 0, "pipe");
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		CHECK(dup2(to[0], 0) == 0 && dup2(from[1], 1) == 1, "holder: dup2");
		close(to[1]);      /* or its stdin never ends */
		close(from[0]);
		if (root[0])
			CHECK(setenv("BPFEMU_ROOT", root, 1) == 0, "holder: setenv");
		execl("/proc/self/exe", "lifecycle", "hold-maps", (char *)NULL);
		CHECK(0, "exec: %s", strerror(errno));
	}
	close(to[0]);
	close(from[1]);
	CHECK(read(from[0], &x, 1) == 1, "the other root's holder is ready");
	close(from[0]);
	*in = to[1];
	return c;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hold-maps"))
		return hold_maps();
	if (argc == 4 && !strcmp(argv[1], "after-exec"))
		return after_exec((__u32)strtoul(argv[2], NULL, 10), atoi(argv[3]));

	/* fresh maps read zero, over and over */
	churn(50, 1000);
	printf("50 maps made and dropped: each new one reads zero\n");

	/* fresh hashes are empty, whatever the last one of their size held */
	for (int round = 0; round < 20; round++) {
		union bpf_attr h;
		memset(&h, 0, sizeof(h));
		h.map_type = BPF_MAP_TYPE_HASH;
		h.key_size = 4;
		h.value_size = 8;
		h.max_entries = 256;
		int hf = (int)sys_bpf(BPF_MAP_CREATE, &h);
		CHECK(hf >= 0, "hash create");
		__u32 k, next;
		memset(&h, 0, sizeof(h));
		h.map_fd = (__u32)hf;
		h.next_key = (__u64)(unsigned long)&next;
		CHECK(sys_bpf(BPF_MAP_GET_NEXT_KEY, &h) < 0 && errno == ENOENT, "a new hash is empty (round %d)", round);
		for (k = 0; k < 200; k++)
			put(hf, k, 0x7000 + k);
		close(hf);
	}
	printf("20 hashes filled and dropped: each new one is empty\n");

	/* a dropped map is gone for ids */
	int fd = array(0);
	__u32 id = obj_id(fd);
	CHECK(id_alive(id), "a live map is found by id");
	close(fd);
	CHECK(!id_alive(id), "a closed map is found by id");
	churn(3, 2000);
	CHECK(!id_alive(id), "a closed map is found by id after maps of its size were made");
	printf("a dropped map is gone for MAP_GET_FD_BY_ID, also after others of its size came\n");

	big_map_held_elsewhere();
	/* the same while a process of another state root on the same file
	 * system holds a small and a big map: the scan must not take the big
	 * map's locked file, which no name leads to, for the other root's */
	{
		char other[4096];
		int in;
		pid_t h = other_root_holder(&in, other, sizeof(other));
		big_map_held_elsewhere();
		close(in);
		wait_ok(h);
		if (other[0]) {
			char cmd[4200];
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other);
			CHECK(system(cmd) == 0, "remove the other state root");
		}
	}
	printf("a map of 2.4 MB another process holds is found by id while it lives, also beside another state root's\n");

	/* a map only programs hold lives as long as one of them does; many
	 * programs dropped at once drop their holds in one id scan */
	{
		enum { NPROGS = 40 };
		int progs[NPROGS], m = array(0);
		__u32 mid = obj_id(m);
		for (int i = 0; i < NPROGS; i++) {
			progs[i] = prog_using(m);
			CHECK(progs[i] >= 0, "load program %d using the map", i);
		}
		close(m);
		CHECK(id_alive(mid), "a map its programs hold is found by id");
		for (int i = 1; i < NPROGS; i++)
			close(progs[i]);
		CHECK(id_alive(mid), "a map one live program of %d holds is found by id", NPROGS);
		close(progs[0]);
		CHECK(id_gone_soon(mid), "a map its dropped programs held is gone for ids");
	}
	printf("a map held by programs only: alive while one of them is, gone with the last\n");

	/* programs of a process that exits without closing them: the maps only
	 * they held go with them, except the one a program still in flight in
	 * a socket holds and the one a pinned program holds */
	{
		int ms[3], sp[2];
		__u32 ids[3];
		for (int i = 0; i < 3; i++) {
			ms[i] = array(0);
			ids[i] = obj_id(ms[i]);
		}
		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");
		const char *pin = "/sys/fs/bpf/lifecycle_exit_prog";
		unlink(pin);
		pid_t c = fork();
		CHECK(c >= 0, "fork");
		if (c == 0) {
			for (int i = 0; i < 20; i++)
				CHECK(prog_using(ms[0]) >= 0, "child: load program %d", i);
			int sent = prog_using(ms[1]), pinned = prog_using(ms[2]);
			CHECK(sent >= 0 && pinned >= 0, "child: load");
			CHECK(send_fd(sp[1], sent, 'p') == 1, "child: sendmsg");
			union bpf_attr pa;
			memset(&pa, 0, sizeof(pa));
			pa.pathname = (__u64)(unsigned long)pin;
			pa.bpf_fd = (__u32)pinned;
			CHECK(sys_bpf(BPF_OBJ_PIN, &pa) == 0, "child: pin");
			_exit(0);       /* no close, no destructor */
		}
		wait_ok(c);
		for (int i = 0; i < 3; i++)
			close(ms[i]);
		CHECK(id_gone_soon(ids[0]), "a map the programs of an exited process held is gone for ids");
		CHECK(id_alive(ids[1]), "a map a program in flight in a socket holds is found by id");
		CHECK(id_alive(ids[2]), "a map a pinned program of an exited process holds is found by id");
		char cc, buf[CMSG_SPACE(sizeof(int))];
		struct iovec io = { &cc, 1 };
		struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
		CHECK(recvmsg(sp[0], &mh, 0) == 1 && CMSG_FIRSTHDR(&mh), "recvmsg");
		int got;
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(got));
		CHECK(id_alive(ids[1]), "a map a received program holds is found by id");
		close(got);
		CHECK(id_gone_soon(ids[1]), "a map its received program held is gone for ids once that is closed");
		CHECK(id_alive(ids[2]), "a map a pinned program holds is found by id");
		CHECK(unlink(pin) == 0, "unpin");
		CHECK(id_gone_soon(ids[2]), "a map its pinned program held is gone for ids once unpinned");
		close(sp[0]);
		close(sp[1]);
	}
	printf("the programs of a process that exits without closing them: their maps go, but for the one a program "
	       "in flight in a socket holds and the one a pinned program holds\n");

	/* a program's hold on its map after its process forked (the child
	 * keeps the program), after another process took the program by id,
	 * and after the program went into a pinned program array, each time
	 * with the loader gone or its fds closed */
	{
		int m = array(0), p = prog_using(m), sv[2];
		__u32 mid = obj_id(m);
		CHECK(p >= 0, "load a program using the map");
		close(m);
		CHECK(pipe(sv) == 0, "pipe");
		pid_t c = fork();
		CHECK(c >= 0, "fork");
		if (c == 0) {          /* keeps the inherited program until the parent writes */
			char x;
			close(sv[1]);
			_exit(read(sv[0], &x, 1) == 1 ? 0 : 1);
		}
		close(sv[0]);
		close(p);
		CHECK(id_alive(mid), "a map a program a forked child inherited holds is found by id");
		CHECK(write(sv[1], "x", 1) == 1, "let the child go");
		wait_ok(c);
		close(sv[1]);
		CHECK(id_gone_soon(mid), "a map the program of an exited child held is gone for ids");
	}
	{
		int m = array(0), sv[2], back[2];
		__u32 mid = obj_id(m), pid_id = 0;
		CHECK(pipe(sv) == 0 && pipe(back) == 0, "pipe");
		pid_t c = fork();
		CHECK(c >= 0, "fork");
		if (c == 0) {          /* loads, tells the program's id, waits, exits without closing */
			char x;
			int p = prog_using(m);
			CHECK(p >= 0, "child: load");
			close(m);
			__u32 id = obj_id(p);
			CHECK(write(back[1], &id, sizeof(id)) == sizeof(id), "child: write");
			_exit(read(sv[0], &x, 1) == 1 ? 0 : 1);
		}
		CHECK(read(back[0], &pid_id, sizeof(pid_id)) == sizeof(pid_id), "read the program's id");
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.prog_id = pid_id;
		int p = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		CHECK(p >= 0, "the child's program by id");
		CHECK(write(sv[1], "x", 1) == 1, "let the child go");
		wait_ok(c);
		close(m);
		CHECK(id_alive(mid), "a map a program taken by id from an exited process holds is found by id");
		close(p);
		CHECK(id_gone_soon(mid), "a map its program taken by id held is gone for ids once that is closed");
		close(sv[0]);
		close(sv[1]);
		close(back[0]);
		close(back[1]);
	}
	{
		const char *pin = "/sys/fs/bpf/lifecycle_prog_array";
		unlink(pin);
		int m = array(0);
		__u32 mid = obj_id(m);
		pid_t c = fork();
		CHECK(c >= 0, "fork");
		if (c == 0) {          /* a program in a slot of a pinned program array; exits */
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.map_type = BPF_MAP_TYPE_PROG_ARRAY;
			a.key_size = 4;
			a.value_size = 4;
			a.max_entries = 2;
			int pa = (int)sys_bpf(BPF_MAP_CREATE, &a), p = prog_using(m);
			CHECK(pa >= 0 && p >= 0, "child: program array and program");
			__u32 k = 0, v = (__u32)p;
			memset(&a, 0, sizeof(a));
			a.map_fd = (__u32)pa;
			a.key = (__u64)(unsigned long)&k;
			a.value = (__u64)(unsigned long)&v;
			CHECK(sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0, "child: the program into slot 0");
			memset(&a, 0, sizeof(a));
			a.pathname = (__u64)(unsigned long)pin;
			a.bpf_fd = (__u32)pa;
			CHECK(sys_bpf(BPF_OBJ_PIN, &a) == 0, "child: pin the program array");
			_exit(0);
		}
		wait_ok(c);
		close(m);
		CHECK(id_alive(mid), "a map a program in a pinned program array holds is found by id");
		CHECK(unlink(pin) == 0, "unpin the program array");
		CHECK(id_gone_soon(mid), "a map a program of an unpinned program array held is gone for ids");
	}
	printf("a program's map stays with the program: inherited by a forked child, taken by id, in a pinned "
	       "program array\n");
	exec_case(false);
	exec_case(true);
	printf("an exec: a map goes with the program the exec closed, stays with one kept across it\n");

	/* held by a forked child */
	int pipe_go[2], pipe_done[2];
	CHECK(pipe(pipe_go) == 0 && pipe(pipe_done) == 0, "pipe");
	fd = array(0);
	put(fd, 1, 0x1111);
	pid_t child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		char c;
		close(pipe_go[1]);
		CHECK(read(pipe_go[0], &c, 1) == 1, "child read");
		CHECK(get(fd, 1) == 0x1111, "the child's inherited map kept its value: %#llx",
		      (unsigned long long)get(fd, 1));
		put(fd, 2, 0x2222);
		_exit(0);
	}
	close(fd);
	churn(20, 3000);
	CHECK(write(pipe_go[1], "x", 1) == 1, "go");
	wait_ok(child);
	printf("a map a forked child still holds survives its creator's close and 20 new maps\n");

	/* passed over a socket, then closed by the sender */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	fd = array(0);
	put(fd, 1, 0x3333);
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		char c, buf[CMSG_SPACE(sizeof(int))];
		struct iovec io = { &c, 1 };
		struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
		close(sv[0]);
		CHECK(recvmsg(sv[1], &m, 0) == 1, "recvmsg");
		int got;
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(got));
		CHECK(read(sv[1], &c, 1) == 1, "child wait");
		CHECK(get(got, 1) == 0x3333, "the received map kept its value");
		_exit(0);
	}
	{
		CHECK(send_fd(sv[0], fd, 'x') == 1, "sendmsg");
		close(fd);
		usleep(20000);
		churn(20, 4000);
		CHECK(write(sv[0], "y", 1) == 1, "go");
		wait_ok(child);
	}
	printf("a map passed over a socket survives the sender's close and 20 new maps\n");

	/* pinned, then closed; taken again with OBJ_GET in another process */
	fd = array(0);
	put(fd, 1, 0x4444);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/lifecycle";
	a.bpf_fd = (__u32)fd;
	CHECK(sys_bpf(BPF_OBJ_PIN, &a) == 0, "pin");
	close(fd);
	churn(20, 5000);
	a.bpf_fd = 0;
	fd = (int)sys_bpf(BPF_OBJ_GET, &a);
	CHECK(fd >= 0 && get(fd, 1) == 0x4444, "the pinned map kept its value");
	close(fd);
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		int g = (int)sys_bpf(BPF_OBJ_GET, &a);
		CHECK(g >= 0, "child get");
		CHECK(unlink("/sys/fs/bpf/lifecycle") == 0, "unpin");
		CHECK(write(pipe_done[1], "x", 1) == 1, "ready");
		char c;
		CHECK(read(pipe_go[0], &c, 1) == 1, "child wait");
		CHECK(get(g, 1) == 0x4444, "the OBJ_GET fd of an unpinned map kept its value");
		_exit(0);
	}
	char c;
	CHECK(read(pipe_done[0], &c, 1) == 1, "wait for the child");
	churn(20, 6000);
	CHECK(write(pipe_go[1], "x", 1) == 1, "go");
	wait_ok(child);
	printf("a pinned map survives its fd's close; an OBJ_GET fd in another process keeps it after the unpin\n");

	/* taken by id in another process (read-write, then read-only), then
	 * closed by its creator */
	for (int ro = 0; ro < 2; ro++) {
		fd = array(0);
		put(fd, 1, 0x4545 + (__u64)ro);
		id = obj_id(fd);
		child = fork();
		CHECK(child >= 0, "fork");
		if (child == 0) {
			close(fd);          /* its own open of the file, not the creator's */
			union bpf_attr b;
			memset(&b, 0, sizeof(b));
			b.map_id = id;
			b.open_flags = ro ? BPF_F_RDONLY : 0;
			int g = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &b);
			CHECK(g >= 0, "child MAP_GET_FD_BY_ID");
			CHECK(write(pipe_done[1], "x", 1) == 1, "ready");
			CHECK(read(pipe_go[0], &c, 1) == 1, "child wait");
			CHECK(get(g, 1) == 0x4545 + (__u64)ro, "the map taken by id (%s) kept its value: %#llx",
			      ro ? "read-only" : "read-write", (unsigned long long)get(g, 1));
			_exit(0);
		}
		CHECK(read(pipe_done[0], &c, 1) == 1, "wait for the child");
		close(fd);
		churn(20, 6500);
		CHECK(write(pipe_go[1], "x", 1) == 1, "go");
		wait_ok(child);
	}
	printf("a map another process took by id (read-write, read-only) survives its creator's close and 20 new maps\n");

	/* a slot of a map of maps holds the inner map */
	int inner = array(0);
	put(inner, 1, 0x5555);
	__u32 inner_id = obj_id(inner);
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY_OF_MAPS;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 2;
	a.inner_map_fd = (__u32)inner;
	int outer = (int)sys_bpf(BPF_MAP_CREATE, &a);
	CHECK(outer >= 0, "outer");
	__u32 k = 0, v = (__u32)inner;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)outer;
	a.key = (__u64)(unsigned long)&k;
	a.value = (__u64)(unsigned long)&v;
	CHECK(sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0, "insert");
	close(inner);
	churn(20, 7000);
	memset(&a, 0, sizeof(a));
	a.map_id = inner_id;
	inner = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
	CHECK(inner >= 0 && get(inner, 1) == 0x5555, "the inner map kept its value");
	close(inner);
	close(outer);
	printf("an inner map held only by a slot survives its fd's close and 20 new maps\n");

	/* a program's mapping of a mmapable array */
	fd = array(BPF_F_MMAPABLE);
	__u64 *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(mem != MAP_FAILED, "mmap");
	mem[1] = 0x6666;
	close(fd);
	for (int i = 0; i < 20; i++) {
		int f = array(BPF_F_MMAPABLE);
		CHECK(get(f, 1) == 0, "a new mmapable array reads zero");
		put(f, 1, 0x7777);
		close(f);
	}
	CHECK(mem[1] == 0x6666, "the mapping of a closed map kept its value: %#llx", (unsigned long long)mem[1]);
	munmap(mem, 4096);
	printf("a mapped array outlives its fd and keeps its values\n");

	/* the program closes every fd it does not know, or dup2s over high numbers */
	fd = array(0);
	put(fd, 1, 0x8888);
	int keep_safe = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	close(fd);
	for (int i = 3; i < 4096; i++)
		if (i != keep_safe && i != pipe_go[0] && i != pipe_go[1] && i != pipe_done[0] && i != pipe_done[1] &&
		    i != sv[0] && i != sv[1])
			close(i);
	churn(20, 8000);
	CHECK(get(keep_safe, 1) == 0x8888, "a map kept through a dup");
	CHECK(pin_get_unpin(keep_safe) == 0x8888, "pin, get and unpin after a closefrom");
	int devnull = open("/dev/null", O_RDONLY);
	for (int i = 500; i < 1100; i++)
		dup2(devnull, i);
	churn(20, 9000);
	CHECK(pin_get_unpin(keep_safe) == 0x8888, "pin, get and unpin with dup2 over high numbers");
	for (int i = 500; i < 1100; i++)
		close(i);
	churn(20, 10000);
	CHECK(get(keep_safe, 1) == 0x8888, "a map kept through a dup");
	printf("closing every other fd and dup2 over high numbers change nothing\n");

	/* a map holds its BTF: after the BTF's fd is closed, while BTFs and maps
	 * of the same sizes come and go; pinned; sent over a socket by a process
	 * that is then killed */
	int btf = btf_load(1);
	int bm = btf_map(btf);
	close(btf);
	for (int i = 0; i < 20; i++) {
		int b2 = btf_load(100 + (__u32)i), m2 = btf_map(b2);
		close(m2);
		close(b2);
	}
	CHECK(!strcmp(held_btf_name(bm), "x1"), "the BTF a map holds, by id: '%s'", held_btf_name(bm));
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)"/sys/fs/bpf/lifecycle_btf";
	a.bpf_fd = (__u32)bm;
	CHECK(sys_bpf(BPF_OBJ_PIN, &a) == 0, "pin");
	close(bm);
	for (int i = 0; i < 20; i++) {
		int b2 = btf_load(200 + (__u32)i), m2 = btf_map(b2);
		close(m2);
		close(b2);
	}
	a.bpf_fd = 0;
	bm = (int)sys_bpf(BPF_OBJ_GET, &a);
	CHECK(bm >= 0 && !strcmp(held_btf_name(bm), "x1"), "the BTF a pinned map holds: '%s'", held_btf_name(bm));
	close(bm);
	CHECK(unlink("/sys/fs/bpf/lifecycle_btf") == 0, "unpin");
	int sv2[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0, "socketpair");
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		int b3 = btf_load(3), m3 = btf_map(b3);
		CHECK(send_fd(sv2[1], m3, 'm') == 1, "sendmsg");
		pause();
		_exit(0);
	}
	{
		char cc, buf[CMSG_SPACE(sizeof(int))];
		struct iovec io = { &cc, 1 };
		struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
		CHECK(recvmsg(sv2[0], &m, 0) == 1, "recvmsg");
		memcpy(&bm, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(bm));
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		churn(5, 11000);
		CHECK(!strcmp(held_btf_name(bm), "x3"), "the BTF of a map received from a killed process: '%s'",
		      held_btf_name(bm));
		close(bm);
	}
	/* taken by id from a process that lives on and makes BTFs of the same size */
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		int b4 = btf_load(4), m4 = btf_map(b4);
		char cc;
		__u32 id4 = obj_id(m4);
		CHECK(write(sv2[1], &id4, sizeof(id4)) == (ssize_t)sizeof(id4), "send the id");
		CHECK(read(sv2[1], &cc, 1) == 1, "child wait");     /* the parent has it */
		close(m4);
		close(b4);
		for (int i = 0; i < 20; i++) {
			int b5 = btf_load(400 + (__u32)i), m5 = btf_map(b5);
			close(m5);
			close(b5);
		}
		CHECK(write(sv2[1], "d", 1) == 1, "child done");
		pause();
		_exit(0);
	}
	{
		char cc;
		__u32 id4;
		CHECK(read(sv2[0], &id4, sizeof(id4)) == (ssize_t)sizeof(id4), "read the id");
		memset(&a, 0, sizeof(a));
		a.map_id = id4;
		bm = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
		CHECK(bm >= 0 && !strcmp(held_btf_name(bm), "x4"), "the BTF of a map taken by id: '%s'", held_btf_name(bm));
		CHECK(write(sv2[0], "u", 1) == 1, "go");
		CHECK(read(sv2[0], &cc, 1) == 1, "wait for the child");
		CHECK(!strcmp(held_btf_name(bm), "x4"), "the BTF of a map taken by id, after its maker dropped it and made "
		      "20 of its size: '%s'", held_btf_name(bm));
		close(bm);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	printf("a map holds its BTF: after the BTF fd's close, pinned, received from a killed process, taken by id "
	       "from one that goes on\n");
	return 0;
}
