/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/obj_paths.c: BPF_OBJ_PIN and BPF_OBJ_GET on every path
 * shape, relative to the cwd and to a directory fd (BPF_F_PATH_FD), for
 * obj_paths.sh. Raw bpf() calls with Linux 6.18's attr: the installed 6.1
 * header has no path_fd (offset 16, after file_flags).
 *
 * Run on a fresh bpffs: it pins a map at m, makes d and pins d/inner, then
 * prints one line per case, "name: result" (OK, or the errno's name; an
 * OBJ_GET that succeeds also says whether update and lookup through the fd
 * work). With "nodac" first, it drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
 * and CAP_FOWNER (a no-op for a user without them), so a 0000 pin answers
 * EACCES for root as for anyone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define F_PATH_FD (1U << 14)
#define ATTR_SIZE 168          /* Linux 6.18's union bpf_attr */

static const char *B = "/sys/fs/bpf";
static int map_fd;

static const char *en(long r)
{
	return r < 0 ? strerrorname_np(errno) : "OK";
}

#define NOFD (-1000)           /* no path_fd: the field stays 0 */

static long obj(int cmd, const char *path, __u32 bpf_fd, __u32 flags, __s32 path_fd)
{
	if (path_fd == NOFD)
		path_fd = 0;
	unsigned char attr[ATTR_SIZE];
	__u64 p = (__u64)(unsigned long)path;
	memset(attr, 0, sizeof(attr));
	memcpy(attr, &p, 8);
	memcpy(attr + 8, &bpf_fd, 4);
	memcpy(attr + 12, &flags, 4);
	memcpy(attr + 16, &path_fd, 4);
	return syscall(__NR_bpf, cmd, attr, sizeof(attr));
}

static long elem(int cmd, int fd)
{
	union bpf_attr a;
	__u32 k = 1;
	__u64 v = 7;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)&k;
	a.value = (__u64)(unsigned long)&v;
	return syscall(__NR_bpf, cmd, &a, sizeof(a));
}

static void pin(const char *name, int dirfd, __u32 flags, const char *path)
{
	long r = obj(BPF_OBJ_PIN, path, (__u32)map_fd, flags, dirfd);
	printf("pin %s: %s\n", name, en(r));
}

static void get(const char *name, int dirfd, __u32 flags, const char *path)
{
	long fd = obj(BPF_OBJ_GET, path, 0, flags, dirfd);
	if (fd < 0) {
		printf("get %s: %s\n", name, en(fd));
		return;
	}
	const char *u = en(elem(BPF_MAP_UPDATE_ELEM, (int)fd));
	const char *l = en(elem(BPF_MAP_LOOKUP_ELEM, (int)fd));
	printf("get %s: OK update=%s lookup=%s\n", name, u, l);
	close((int)fd);
}

static int open_dir(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		printf("setup: open %s: %s\n", path, strerrorname_np(errno));
		exit(1);
	}
	return fd;
}

static void drop_dac(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d))
		return;
	__u32 drop = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER);
	d[0].effective &= ~drop;
	d[0].permitted &= ~drop;
	d[0].inheritable &= ~drop;
	if (syscall(SYS_capset, &h, d))
		printf("setup: capset: %s\n", strerrorname_np(errno));
}

int main(int argc, char **argv)
{
	char p[512];
	if (argc > 1 && !strcmp(argv[1], "nodac"))
		drop_dac();

	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	map_fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (map_fd < 0) {
		printf("setup: map create: %s\n", strerrorname_np(errno));
		return 1;
	}
	snprintf(p, sizeof(p), "%s/d", B);
	if (mkdir(p, 0755)) {
		printf("setup: mkdir: %s\n", strerrorname_np(errno));
		return 1;
	}
	pin("setup-m", NOFD, 0, "/sys/fs/bpf/m");
	pin("setup-inner", NOFD, 0, "/sys/fs/bpf/d/inner");
	/* its own map: pins of one object here are links of one file, so a
	 * mode set on one pin shows on all of them (on bpffs each pin is an
	 * inode of its own) */
	int first = map_fd;
	map_fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	pin("setup-secret", NOFD, 0, "/sys/fs/bpf/secret");
	close(map_fd);
	map_fd = first;
	if (chmod("/sys/fs/bpf/secret", 0))
		printf("setup: chmod: %s\n", strerrorname_np(errno));

	/* absolute shapes */
	static const char *const gets[] = {
		"/sys/fs/bpf/m", "/sys/fs/bpf/m/", "/sys/fs/bpf//m", "/sys/fs/bpf/./m", "/sys/fs/bpf/m/.",
		"/sys/fs/bpf/m/..", "/sys/fs/bpf/d/../m", "/sys/fs/bpf/../bpf/m", "/sys/fs/../fs/bpf/m",
		"/sys/fs/bpf/d/inner", "/sys/fs/bpf/d//inner/", "/sys/fs/bpf/d/", "/sys/fs/bpf/d", "/sys/fs/bpf",
		"/sys/fs/bpf/", "//sys//fs//bpf//m", "/sys/fs/bpf/d/./inner/.", "/sys/fs/bpf/nope/",
		"/sys/fs/bpf/m//", "/sys/fs/bpf/../../sys/fs/bpf/m", "/sys/fs/bpf/d/../../bpf/d/inner",
		"/./sys/fs/bpf/m", "/sys/fs/bpf/..", "/sys/fs/bpf/d/..", "/sys/fs/bpf/nope/..", "/sys/fs/bpf/m/../m",
		"/sys/fs/bpf/secret", "/sys/fs/bpf/maps.debug", "/sys/fs/bpf/maps.debug/", "/sys/fs/bpf/.m", "",
		"/sys/fs/bpf/m/x",
	};
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++)
		get(gets[i], NOFD, 0, gets[i]);
	static const char *const pins[] = {
		"/sys/fs/bpf/p1/", "/sys/fs/bpf//p2", "/sys/fs/bpf/./p3", "/sys/fs/bpf/d/../p4", "/sys/fs/bpf/../bpf/p5",
		"/sys/fs/bpf/m/p6", "/sys/fs/bpf/nope/p7", "/sys/fs/bpf/.", "/sys/fs/bpf/..", "/sys/fs/bpf",
		"/sys/fs/bpf/", "/sys/fs/bpf/m", "/sys/fs/bpf/m/", "/sys/fs/bpf/d/", "//sys/fs/bpf/p15",
		"/sys/fs/bpf/d/p16/.", "/sys/fs/bpf/p17/..", "/sys/fs/bpf/../p22", "/sys/fs/bpf/p23//",
		"/sys/fs/bpf/d/p24/", "/sys/fs/bpf/maps.debug", "/sys/fs/bpf/.p25", "/sys/fs/bpf/d/./p26",
		"/sys/fs/bpf/m/..", "",
	};
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		pin(pins[i], NOFD, 0, pins[i]);
	get("/sys/fs/bpf/p2 (pinned above)", NOFD, 0, "/sys/fs/bpf/p2");
	get("/sys/fs/bpf/p4 (pinned above)", NOFD, 0, "/sys/fs/bpf/p4");

	/* relative to the cwd */
	if (chdir(B)) {
		printf("setup: chdir: %s\n", strerrorname_np(errno));
		return 1;
	}
	static const char *const rgets[] = { "m", "./m", "./m/", "../bpf/m", "d/../m", "d/inner", "d/../d/inner/",
					     "nope", ".", "..", "m/..", "secret" };
	for (size_t i = 0; i < sizeof(rgets) / sizeof(rgets[0]); i++) {
		snprintf(p, sizeof(p), "cwd bpffs: %s", rgets[i]);
		get(p, NOFD, 0, rgets[i]);
	}
	static const char *const rpins[] = { "r1", "./r2", "../bpf/r3", "d/../r4/", "d/r5", "m", "nope/r6", "../r7" };
	for (size_t i = 0; i < sizeof(rpins) / sizeof(rpins[0]); i++) {
		snprintf(p, sizeof(p), "cwd bpffs: %s", rpins[i]);
		pin(p, NOFD, 0, rpins[i]);
	}
	if (chdir("/sys/fs")) {
		printf("setup: chdir: %s\n", strerrorname_np(errno));
		return 1;
	}
	get("cwd /sys/fs: bpf/m", NOFD, 0, "bpf/m");
	pin("cwd /sys/fs: bpf/r8", NOFD, 0, "bpf/r8");
	get("cwd /sys/fs: ./bpf/d/../m", NOFD, 0, "./bpf/d/../m");
	if (chdir(B))
		return 1;

	/* relative to a directory fd */
	int D = open_dir(B, O_RDONLY | O_DIRECTORY);
	int DD = open_dir("/sys/fs/bpf/d", O_RDONLY | O_DIRECTORY);
	int DP = open_dir(B, O_PATH);
	int N = open_dir("/dev/null", O_RDONLY);
	int T = open_dir("/tmp", O_RDONLY | O_DIRECTORY);
	int S = open_dir("/sys/fs", O_RDONLY | O_DIRECTORY);
	int C = open_dir("/dev/null", O_RDONLY);
	close(C);
	pin("fd bpffs: q1", D, F_PATH_FD, "q1");
	get("fd bpffs: q1", D, F_PATH_FD, "q1");
	get("fd bpffs: m", D, F_PATH_FD, "m");
	get("fd bpffs: m rdonly", D, F_PATH_FD | BPF_F_RDONLY, "m");
	get("fd bpffs: m wronly", D, F_PATH_FD | BPF_F_WRONLY, "m");
	get("fd bpffs: m rdonly|wronly", D, F_PATH_FD | BPF_F_RDONLY | BPF_F_WRONLY, "m");
	pin("fd bpffs: m", D, F_PATH_FD, "m");
	get("fd bpffs: nope", D, F_PATH_FD, "nope");
	get("fd bpffs: m/", D, F_PATH_FD, "m/");
	get("fd bpffs: ..", D, F_PATH_FD, "..");
	get("fd bpffs: ../bpf/m", D, F_PATH_FD, "../bpf/m");
	get("fd bpffs: secret", D, F_PATH_FD, "secret");
	get("fd bpffs: empty", D, F_PATH_FD, "");
	get("fd closed: m", C, F_PATH_FD, "m");
	pin("fd closed: q2", C, F_PATH_FD, "q2");
	get("fd closed: /sys/fs/bpf/m", C, F_PATH_FD, "/sys/fs/bpf/m");
	pin("fd closed: /sys/fs/bpf/q9", C, F_PATH_FD, "/sys/fs/bpf/q9");
	get("fd -1: m", -1, F_PATH_FD, "m");
	get("fd -100 (cwd bpffs): m", AT_FDCWD, F_PATH_FD, "m");
	pin("fd -100 (cwd bpffs): q10", AT_FDCWD, F_PATH_FD, "q10");
	get("fd /dev/null: m", N, F_PATH_FD, "m");
	pin("fd /dev/null: q3", N, F_PATH_FD, "q3");
	get("fd /dev/null: /sys/fs/bpf/m", N, F_PATH_FD, "/sys/fs/bpf/m");
	get("fd d: inner", DD, F_PATH_FD, "inner");
	get("fd d: ../m", DD, F_PATH_FD, "../m");
	get("fd d: ../../bpf/m", DD, F_PATH_FD, "../../bpf/m");
	pin("fd d: ../q4", DD, F_PATH_FD, "../q4");
	pin("fd d: q11", DD, F_PATH_FD, "q11");
	get("fd d: q11", DD, F_PATH_FD, "q11");
	get("fd O_PATH bpffs: m", DP, F_PATH_FD, "m");
	pin("fd O_PATH bpffs: q12", DP, F_PATH_FD, "q12");
	pin("fd /tmp: q5", T, F_PATH_FD, "q5");
	get("fd /tmp: nope", T, F_PATH_FD, "nope");
	get("fd /sys/fs: bpf/m", S, F_PATH_FD, "bpf/m");
	pin("fd /sys/fs: bpf/q6", S, F_PATH_FD, "bpf/q6");
	get("no flag, path_fd set: m", D, 0, "m");
	pin("no flag, path_fd set: q7", D, 0, "q7");
	pin("flag RDONLY on pin: q8", D, F_PATH_FD | BPF_F_RDONLY, "q8");
	get("unknown flag: m", D, F_PATH_FD | (1U << 15), "m");
	get("fd bpffs, no flag, path_fd 0: m", 0, 0, "/sys/fs/bpf/m");
	/* what the pins made above look like */
	static const char *const made[] = { "q1", "q4", "q6", "q10", "q11", "q12", "r1", "r2", "r3", "r8", "d/r5", "q9" };
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", B, made[i]);
		printf("stat %s: %s\n", made[i], stat(p, &st) ? strerrorname_np(errno) :
			S_ISREG(st.st_mode) ? "file" : "other");
	}
	return 0;
}
