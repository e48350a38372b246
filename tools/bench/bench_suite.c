/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench_suite.c: the suite-shaped life-cycle row. Opens, loads
 * and destroys a libbpf object (8 maps, 3 programs: suite.bpf.o) N times
 * with Debian's libbpf, through syscall(__NR_bpf): the kernel when run as
 * root, the emulator under `bpfemu run`. Prints "row life_libbpf_object_<n>
 * <ns per iteration>" (median of 3 runs) for tools/bench/run-bench.
 *
 *   bench_suite OBJECT [ITERATIONS] [--cpu]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_suite OBJECT [ITERATIONS] [--cpu]\n");
		return 2;
	}
	int n = argc > 2 && argv[2][0] != '-' ? atoi(argv[2]) : 1000;
	clockid_t clk = CLOCK_MONOTONIC;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--cpu"))
			clk = CLOCK_PROCESS_CPUTIME_ID;
	libbpf_set_print(quiet);
	double samples[3];
	for (int r = 0; r < 3; r++) {
		struct timespec t0, t1;
		clock_gettime(clk, &t0);
		for (int i = 0; i < n; i++) {
			struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
			if (!obj) {
				fprintf(stderr, "bench_suite: open %s: %s\n", argv[1], strerror(errno));
				return 1;
			}
			int err = bpf_object__load(obj);
			if (err) {
				fprintf(stderr, "bench_suite: load: %s\n", strerror(-err));
				return 1;
			}
			bpf_object__close(obj);
		}
		clock_gettime(clk, &t1);
		samples[r] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
	}
	qsort(samples, 3, sizeof(double), cmp);
	printf("row life_libbpf_object_8_maps_3_progs %.1f\n", samples[1]);
	return 0;
}
