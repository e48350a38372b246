/* SPDX-License-Identifier: MIT */
/* tests/preload/check.h: helpers for the tiny programs run under the shim. */
#ifndef BPFEMU_TEST_PRELOAD_CHECK_H
#define BPFEMU_TEST_PRELOAD_CHECK_H

#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));    \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

/* Refuse to run without the shim: mount() or bpf() would reach the kernel. */
static inline void require_shim(void)
{
	if (!dlsym(RTLD_DEFAULT, "bpfemu_forget_fd") || !getenv("BPFEMU_ROOT")) {
		fprintf(stderr, "not running under libbpfemu.so with BPFEMU_ROOT set\n");
		exit(1);
	}
}

/* A hash map (4-byte keys, 8-byte values) through syscall(SYS_bpf). */
static inline int make_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 16;
	int fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	CHECK(fd >= 0, "BPF_MAP_CREATE");
	return fd;
}

/* The whole of a (small) file, NUL-terminated, in a static buffer. */
static inline const char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	CHECK(f, "fopen %s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static inline const char *root_path(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", getenv("BPFEMU_ROOT"), rel);
	return buf;
}

#endif
