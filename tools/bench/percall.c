/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/percall.c: what one call costs through each way in, measured
 * with the same binary: the real kernel (root), the preloaded shim and the
 * seccomp door (`bpfemu run --mode preload|seccomp`). Rows: bpf() element
 * calls on a 1K-entry hash (4-byte keys, 8-byte values), a file call the door
 * looks at and lets continue (stat of a path outside bpffs), and one no one
 * intercepts (getppid: the floor). "row <name> <ns_per_call>", median of 5.
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum op { LOOKUP_HIT, LOOKUP_MISS, UPDATE, NEXT_KEY, STAT, GETPPID };
static const char *const names[] = { "hash_4_8_1k_lookup_hit", "hash_4_8_1k_lookup_miss", "hash_4_8_1k_update_existing",
				     "hash_4_8_1k_get_next_key", "stat_outside_bpffs", "getppid" };

static int map_fd;

static void run(enum op op, unsigned int n)
{
	union bpf_attr a;
	__u32 k, next;
	__u64 v = 1;
	struct stat st;
	for (unsigned int i = 0; i < n; i++) {
		k = i % 1000 + (op == LOOKUP_MISS ? 5000 : 0);
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)map_fd;
		a.key = (__u64)(unsigned long)&k;
		a.value = (__u64)(unsigned long)(op == NEXT_KEY ? (void *)&next : (void *)&v);
		switch (op) {
		case LOOKUP_HIT:
		case LOOKUP_MISS: bpf(BPF_MAP_LOOKUP_ELEM, &a); break;
		case UPDATE: bpf(BPF_MAP_UPDATE_ELEM, &a); break;
		case NEXT_KEY: bpf(BPF_MAP_GET_NEXT_KEY, &a); break;
		case STAT: stat("/tmp", &st); break;
		case GETPPID: syscall(SYS_getppid); break;
		}
	}
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 20000;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1024;
	map_fd = (int)bpf(BPF_MAP_CREATE, &a);
	if (map_fd < 0) {
		perror("percall: BPF_MAP_CREATE");
		return 1;
	}
	for (__u32 k = 0; k < 1000; k++) {
		__u64 v = k;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)map_fd;
		a.key = (__u64)(unsigned long)&k;
		a.value = (__u64)(unsigned long)&v;
		bpf(BPF_MAP_UPDATE_ELEM, &a);
	}
	for (int op = LOOKUP_HIT; op <= GETPPID; op++) {
		double s[5];
		for (int r = 0; r < 5; r++) {
			double t0 = now_ns();
			run((enum op)op, n);
			s[r] = (now_ns() - t0) / n;
		}
		qsort(s, 5, sizeof(s[0]), cmp);
		printf("row %s %.1f\n", names[op], s[2]);
	}
	return 0;
}
