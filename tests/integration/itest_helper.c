/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/itest_helper.c: small libbpf programs for the
 * multi-process integration tests. Each subcommand prints what it does and
 * exits 0 on success, 1 with a "FAIL:" line otherwise, 2 on a usage error.
 *
 *   probe                 does bpf() work here? (creates and closes an array map)
 *   pin-write PATH        creates a hash map (key 4, value 8), pins it at PATH,
 *                         writes key 1 = 100, prints "ready", waits for a line on
 *                         stdin, then expects key 1 = 200 and key 2 = 300
 *   open-rw PATH          opens the pin, expects key 1 = 100, writes key 1 = 200
 *                         and key 2 = 300
 *   fork                  creates a map, forks; the child updates it through the
 *                         inherited fd; the parent sees the update
 *   create-unpinned       creates a map, prints "id N", exits without pinning
 *   gone ID               expects MAP_GET_FD_BY_ID(ID) to fail with ENOENT and
 *                         MAP_GET_NEXT_ID not to list ID
 *   need map|prog TYPE... does the host kernel show these map or program
 *                         types (names as in hostprobe.h: HASH, ARENA, XDP...)?
 *                         exit 0, or 1 with the reason of the first refused
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "hostprobe.h"

static int fail(const char *what, int err)
{
	printf("FAIL: %s: %s\n", what, strerror(err));
	return 1;
}

static int create_hash(const char *name)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, 4, 8, 16, NULL);

	if (fd < 0)
		return -errno;
	return fd;
}

static int expect_val(int fd, __u32 key, __u64 want, const char *who)
{
	__u64 val = 0;

	if (bpf_map_lookup_elem(fd, &key, &val))
		return fail("lookup", errno);
	printf("%s: key %u = %llu (want %llu)\n", who, key, (unsigned long long)val,
	       (unsigned long long)want);
	if (val != want) {
		printf("FAIL: %s: key %u is %llu, expected %llu\n", who, key, (unsigned long long)val,
		       (unsigned long long)want);
		return 1;
	}
	return 0;
}

static int put(int fd, __u32 key, __u64 val, const char *who)
{
	if (bpf_map_update_elem(fd, &key, &val, BPF_ANY))
		return fail("update", errno);
	printf("%s: wrote key %u = %llu\n", who, key, (unsigned long long)val);
	return 0;
}

static int cmd_probe(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);

	if (fd < 0)
		return fail("bpf(BPF_MAP_CREATE)", errno);
	close(fd);
	printf("bpf() works\n");
	return 0;
}

static int cmd_pin_write(const char *path)
{
	char line[16];
	int fd = create_hash("two_proc");

	if (fd < 0)
		return fail("create", -fd);
	if (bpf_obj_pin(fd, path))
		return fail(path, errno);
	printf("A: created and pinned %s\n", path);
	if (put(fd, 1, 100, "A"))
		return 1;
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		printf("FAIL: A: no go-ahead on stdin\n");
		return 1;
	}
	if (expect_val(fd, 1, 200, "A") || expect_val(fd, 2, 300, "A"))
		return 1;
	printf("A: sees the other process's writes\n");
	return 0;
}

static int cmd_open_rw(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return fail(path, errno);
	printf("B: opened %s\n", path);
	if (expect_val(fd, 1, 100, "B") || put(fd, 1, 200, "B") || put(fd, 2, 300, "B"))
		return 1;
	return 0;
}

static int cmd_fork(void)
{
	int fd = create_hash("fork_test"), status;
	pid_t pid;

	if (fd < 0)
		return fail("create", -fd);
	if (put(fd, 1, 1, "parent"))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork", errno);
	if (pid == 0) {
		int bad = expect_val(fd, 1, 1, "child") || put(fd, 1, 2, "child") || put(fd, 7, 70, "child");
		fflush(stdout);
		_exit(bad);
	}
	if (waitpid(pid, &status, 0) < 0)
		return fail("waitpid", errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("FAIL: child failed (status 0x%x)\n", status);
		return 1;
	}
	if (expect_val(fd, 1, 2, "parent") || expect_val(fd, 7, 70, "parent"))
		return 1;
	printf("parent: sees the child's writes\n");
	return 0;
}

static int cmd_create_unpinned(void)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = create_hash("unpinned");

	if (fd < 0)
		return fail("create", -fd);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return fail("get info", errno);
	if (!info.id) {
		printf("FAIL: map id is 0\n");
		return 1;
	}
	printf("id %u\n", info.id);
	return 0; /* exit closes the only fd */
}

static int cmd_gone(const char *arg)
{
	__u32 id = (__u32)strtoul(arg, NULL, 10), cur = 0, next, n = 0;
	int fd = bpf_map_get_fd_by_id(id);

	if (fd >= 0) {
		printf("FAIL: MAP_GET_FD_BY_ID(%u) returned fd %d, the map still exists\n", id, fd);
		return 1;
	}
	if (errno != ENOENT) {
		printf("FAIL: MAP_GET_FD_BY_ID(%u): %s, expected ENOENT\n", id, strerror(errno));
		return 1;
	}
	printf("MAP_GET_FD_BY_ID(%u): %s\n", id, strerror(errno));
	while (bpf_map_get_next_id(cur, &next) == 0) {
		if (next == id) {
			printf("FAIL: MAP_GET_NEXT_ID lists %u\n", id);
			return 1;
		}
		cur = next;
		n++;
	}
	if (errno != ENOENT)
		return fail("MAP_GET_NEXT_ID", errno);
	printf("MAP_GET_NEXT_ID: %u live map(s), %u not among them\n", n, id);
	return 0;
}

static int cmd_need(int argc, char **argv)
{
	char why[160];
	int is_map = !strcmp(argv[2], "map");
	if (!is_map && strcmp(argv[2], "prog"))
		return 2;
	for (int i = 3; i < argc; i++) {
		int n = is_map ? HP_NR_MAP_TYPES : HP_NR_PROG_TYPES, t;
		const char *const *names = is_map ? hp_map_names : hp_prog_names;
		for (t = 1; t < n && strcasecmp(names[t], argv[i]); t++)
			;
		if (t == n) {
			fprintf(stderr, "need: unknown %s type %s\n", argv[2], argv[i]);
			return 2;
		}
		if (is_map ? hp_host_refuses_map((__u32)t, why, sizeof(why))
			   : hp_host_refuses_prog((__u32)t, why, sizeof(why))) {
			printf("%s\n", why);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "probe") && argc == 2)
		return cmd_probe();
	if (!strcmp(cmd, "pin-write") && argc == 3)
		return cmd_pin_write(argv[2]);
	if (!strcmp(cmd, "open-rw") && argc == 3)
		return cmd_open_rw(argv[2]);
	if (!strcmp(cmd, "fork") && argc == 2)
		return cmd_fork();
	if (!strcmp(cmd, "create-unpinned") && argc == 2)
		return cmd_create_unpinned();
	if (!strcmp(cmd, "gone") && argc == 3)
		return cmd_gone(argv[2]);
	if (!strcmp(cmd, "need") && argc >= 4) {
		int r = cmd_need(argc, argv);
		if (r != 2)
			return r;
	}
	fprintf(stderr, "usage: %s probe | pin-write PATH | open-rw PATH | fork | create-unpinned | gone ID | "
		"need map|prog TYPE...\n",
		argv[0]);
	return 2;
}
