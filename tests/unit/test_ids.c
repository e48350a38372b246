/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ids.c: MAP/PROG GET_NEXT_ID and GET_FD_BY_ID across
 * processes (emu/objfs.c): another live process's objects are found, opened
 * and shared; once their last holder is gone they are not.
 */
#include <sys/wait.h>

#include "bt.h"

static long next_id(int cmd, __u32 start)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = start;
	long r = bt_bpf(cmd, &a, sizeof(a));
	return r < 0 ? r : (long)a.next_id;
}

static long fd_by_id(int cmd, __u32 id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	if (cmd == BPF_MAP_GET_FD_BY_ID)
		a.map_id = id;
	else
		a.prog_id = id;
	return bt_bpf(cmd, &a, sizeof(a));
}

static __u32 obj_id(int fd)
{
	struct bpf_prog_info info;       /* large enough for map info's id too */
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	return info.id;       /* id is the second __u32 of both structs */
}

static int load_ret0(void)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(insns);
	a.insn_cnt = 2;
	a.license = BT_PTR("GPL");
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
	return (int)fd;
}

struct child {
	pid_t pid;
	int to, from;        /* pipes: parent -> child, child -> parent */
	__u32 map_id, prog_id;
};

/* The child creates a hash map (key 1 = 11) and a program, reports their ids,
 * then serves "r" (report the value of key 1) until "q" or EOF. */
static void child_start(struct child *c)
{
	int down[2], up[2];
	cr_assert(eq(i32, pipe(down), 0));
	cr_assert(eq(i32, pipe(up), 0));
	c->pid = fork();
	cr_assert(ge(i32, c->pid, 0));
	if (c->pid == 0) {
		close(down[1]);
		close(up[0]);
		int fd = (int)bt_map_create(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
		__u32 k = 1;
		__u64 v = 11;
		if (fd < 0 || bt_update(fd, &k, &v, BPF_ANY))
			_exit(2);
		int pfd = load_ret0();
		__u32 ids[2] = { obj_id(fd), obj_id(pfd) };
		if (write(up[1], ids, sizeof(ids)) != sizeof(ids))
			_exit(3);
		char cmd;
		while (read(down[0], &cmd, 1) == 1 && cmd == 'r') {
			if (bt_lookup(fd, &k, &v))
				v = 0;
			if (write(up[1], &v, sizeof(v)) != sizeof(v))
				_exit(4);
		}
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	c->to = down[1];
	c->from = up[0];
	__u32 ids[2];
	cr_assert(eq(i64, read(c->from, ids, sizeof(ids)), (long)sizeof(ids)));
	c->map_id = ids[0];
	c->prog_id = ids[1];
}

static void child_stop(struct child *c)
{
	int st;
	cr_assert(eq(i64, write(c->to, "q", 1), 1));
	close(c->to);
	close(c->from);
	cr_assert(eq(i32, waitpid(c->pid, &st, 0), c->pid));
	cr_assert(eq(i32, st, 0), "child status %#x", st);
}

BT_TEST(get_next_id_finds_other_process_map_and_prog)
{
	struct child c;
	child_start(&c);
	cr_assert(eq(i64, next_id(BPF_MAP_GET_NEXT_ID, c.map_id - 1), c.map_id));
	cr_assert(eq(i64, next_id(BPF_PROG_GET_NEXT_ID, c.prog_id - 1), c.prog_id));
	child_stop(&c);
}

BT_TEST(get_fd_by_id_opens_other_process_map_and_shares_data)
{
	struct child c;
	child_start(&c);
	int fd = (int)fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id);
	cr_assert(ge(i32, fd, 0), "%s", strerror(-fd));
	cr_assert(eq(u32, obj_id(fd), c.map_id));
	__u32 k = 1;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(fd, &k, &v), 0));
	cr_assert(eq(u64, v, 11));
	v = 42;
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_EXIST), 0));
	cr_assert(eq(i64, write(c.to, "r", 1), 1));
	cr_assert(eq(i64, read(c.from, &v, sizeof(v)), (long)sizeof(v)));
	cr_assert(eq(u64, v, 42), "the other process sees the update");
	int pfd = (int)fd_by_id(BPF_PROG_GET_FD_BY_ID, c.prog_id);
	cr_assert(ge(i32, pfd, 0), "%s", strerror(-pfd));
	cr_assert(eq(u32, obj_id(pfd), c.prog_id));
	child_stop(&c);
}

BT_TEST(get_fd_by_id_keeps_object_alive_after_creator_exits)
{
	struct child c;
	child_start(&c);
	int fd = (int)fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id);
	cr_assert(ge(i32, fd, 0));
	child_stop(&c);
	/* our fd holds it: still listed, still opens */
	cr_assert(eq(i64, next_id(BPF_MAP_GET_NEXT_ID, c.map_id - 1), c.map_id));
	int fd2 = (int)fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id);
	cr_assert(ge(i32, fd2, 0));
	bt_close(fd2);
	bt_close(fd);
	cr_assert(eq(i64, fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id), -ENOENT));
}

BT_TEST(get_next_id_skips_objects_of_exited_process)
{
	struct child c;
	child_start(&c);
	child_stop(&c);
	long n = next_id(BPF_MAP_GET_NEXT_ID, c.map_id - 1);
	cr_assert(n == -ENOENT || n > (long)c.map_id, "dead map %u still listed (%ld)", c.map_id, n);
	n = next_id(BPF_PROG_GET_NEXT_ID, c.prog_id - 1);
	cr_assert(n == -ENOENT || n > (long)c.prog_id, "dead prog %u still listed (%ld)", c.prog_id, n);
	cr_assert(eq(i64, fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id), -ENOENT));
	cr_assert(eq(i64, fd_by_id(BPF_PROG_GET_FD_BY_ID, c.prog_id), -ENOENT));
}

BT_TEST(get_next_id_walk_sees_maps_of_three_processes)
{
	struct child c[3];
	for (int i = 0; i < 3; i++)
		child_start(&c[i]);
	int found = 0;
	long id = 0;
	while ((id = next_id(BPF_MAP_GET_NEXT_ID, (__u32)id)) > 0)
		for (int i = 0; i < 3; i++)
			found += id == (long)c[i].map_id;
	cr_assert(eq(i64, id, -ENOENT));
	cr_assert(eq(i32, found, 3));
	for (int i = 0; i < 3; i++)
		child_stop(&c[i]);
}

BT_TEST(get_fd_by_id_pinned_map_of_exited_process_opens)
{
	struct child c;
	child_start(&c);
	int fd = (int)fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id);
	cr_assert(ge(i32, fd, 0));
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/kept"), 0));
	bt_close(fd);
	child_stop(&c);
	fd = (int)fd_by_id(BPF_MAP_GET_FD_BY_ID, c.map_id);
	cr_assert(ge(i32, fd, 0), "a pin keeps the map: %s", strerror(-fd));
	bt_close(fd);
}

#ifndef BPFEMU_TEST_KERNEL
#include <sys/stat.h>
#include <time.h>

/* The engine's layout (emu/map_in_map.c, emu_refs_proc_hold): a process
 * holds the maps of programs only it reaches by links in
 * <root>/refs/proc-<pid>.<stamp>/; the id scan's gc drops that directory
 * once the process is gone, or once its pid names a process that started
 * after the stamp (the pid was reused), and keeps it while the process
 * that took the stamp lives. Made by hand here: unit tests run no shim. */
static __u32 held_by_process(pid_t pid, unsigned long long stamp)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	int fd = (int)bt_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	cr_assert(ge(i32, fd, 0));
	__u32 id = obj_id(fd);
	char dir[PATH_MAX], link[PATH_MAX + 32], proc[64];
	snprintf(dir, sizeof(dir), "%s/refs", bt_root);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/refs/proc-%d.%llx", bt_root, (int)pid, stamp);
	cr_assert(eq(i32, mkdir(dir, 0700), 0), "mkdir %s: %s", dir, strerror(errno));
	snprintf(link, sizeof(link), "%s/map-%u-0", dir, id);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	cr_assert(eq(i32, linkat(AT_FDCWD, proc, AT_FDCWD, link, AT_SYMLINK_FOLLOW), 0), "link: %s", strerror(errno));
	bt_close(fd);
	return id;
}

BT_TEST(a_process_hold_goes_with_its_process_or_its_reused_pid)
{
	int go[2];
	cr_assert(eq(i32, pipe(go), 0));
	pid_t pid = fork();
	cr_assert(ge(i32, pid, 0));
	if (pid == 0) {
		char x;
		close(go[1]);
		_exit(read(go[0], &x, 1) < 0);
	}
	close(go[0]);
	usleep(20000);        /* a stamp in a later boot-time tick than the child's start */
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	unsigned long long now = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	__u32 reused = held_by_process(pid, 1);          /* a stamp before the child started */
	__u32 live = held_by_process(pid, now);
	long fd = fd_by_id(BPF_MAP_GET_FD_BY_ID, reused);
	cr_assert(eq(i64, fd, -ENOENT), "the hold of a process whose pid was reused is dropped");
	fd = fd_by_id(BPF_MAP_GET_FD_BY_ID, live);
	cr_assert(ge(i64, fd, 0), "the hold of a live process keeps its map: %s", strerror((int)-fd));
	bt_close((int)fd);
	close(go[1]);
	int st;
	cr_assert(eq(i32, waitpid(pid, &st, 0), pid));
	fd = fd_by_id(BPF_MAP_GET_FD_BY_ID, live);
	cr_assert(eq(i64, fd, -ENOENT), "the hold of an exited process is dropped");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/refs/proc-%d.%llx", bt_root, (int)pid, now);
	cr_assert(ne(i32, access(dir, F_OK), 0), "its directory is gone");
}
#endif
