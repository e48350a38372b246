/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/vm.c: how fast programs run, measured with the same binary on
 * the kernel (root, its JIT on) and on bpfemu (`bpfemu run`, BPFEMU_JIT=1 or
 * 0). tools/bench/run-bench runs it each way and prints the ratios.
 *
 *   bench_vm OBJ [--quick] [--only NAME]   (NAME: a program of OBJ; for profiling)
 *
 * OBJ is vm.o (tools/bench/vm.bpf.c, loaded with libbpf). Each of its
 * programs runs BPF_PROG_TEST_RUN with repeat = 1,000,000 on a 64-byte IPv4
 * packet; two measures per run: the `duration` the call reports, and the wall
 * time of the call divided by repeat. Then ns per instruction on two
 * hand-built programs (straight-line ALU code, and a loop), from the
 * reported duration less that of `return XDP_PASS` (the fixed cost of a run),
 * divided by the instructions one run executes.
 *
 * Output: "row <name> <value>", the median of 5 calls (3 with --quick, whose
 * repeats are 10 times smaller).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRAIGHT_INSNS 4000u
#define LOOP_ITERS 10000u

static int quick;

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

/* the packet: Ethernet, IPv4 (UDP) from 10.0.0.7 to 10.0.0.9, 64 bytes */
static unsigned char pkt[64] = {
	2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
	0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 7, 10, 0, 0, 9,
};

/* median duration and wall time per run of n calls; -1 on error */
static int measure(int fd, unsigned int repeat, double *dur, double *wall)
{
	double d[5], w[5];
	unsigned int n = quick ? 3 : 5;
	unsigned char out[128];
	for (unsigned int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .data_out = out,
			    .data_size_out = sizeof(out), .repeat = repeat);
		double t0 = now_ns();
		int err = bpf_prog_test_run_opts(fd, &o);
		double t1 = now_ns();
		if (err) {
			fprintf(stderr, "bench_vm: test run: %s\n", strerror(errno));
			return -1;
		}
		d[i] = o.duration;
		w[i] = (t1 - t0) / repeat;
	}
	qsort(d, n, sizeof(d[0]), cmp);
	qsort(w, n, sizeof(w[0]), cmp);
	*dur = d[n / 2];
	*wall = w[n / 2];
	return 0;
}

/* a hand-built XDP program; fd or -1 */
static int load_raw(const char *name, const struct bpf_insn *insns, size_t cnt)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, cnt, &o);
	if (fd < 0)
		fprintf(stderr, "bench_vm: load %s: %s\n", name, strerror(errno));
	return fd;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* straight-line: r0, r2-r5 set, then STRAIGHT_INSNS ALU64 operations among them, exit */
static int straight_prog(void)
{
	size_t n = 0, cap = STRAIGHT_INSNS + 16;
	struct bpf_insn *p = calloc(cap, sizeof(*p));
	if (!p)
		return -1;
	for (int r = 0; r <= 5; r++)
		if (r != 1)
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, r * 7 + 1);
	static const __u8 ops[] = { BPF_ADD, BPF_XOR, BPF_SUB, BPF_OR, BPF_ADD, BPF_AND };
	for (unsigned int i = 0; i < STRAIGHT_INSNS; i++) {
		__u8 dst = (__u8)(i % 5 == 1 ? 0 : i % 5), src = (__u8)((i + 2) % 5 == 1 ? 0 : (i + 2) % 5);
		if (i % 3 == 2)
			p[n++] = INSN(BPF_ALU64 | ops[i % 6] | BPF_K, dst, 0, 0, (int)(i * 2654435761u >> 20));
		else
			p[n++] = INSN(BPF_ALU64 | ops[i % 6] | BPF_X, dst, src, 0, 0);
	}
	p[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 3);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	int fd = load_raw("straight", p, n);
	free(p);
	return fd;
}

/* a loop of 4 instructions, LOOP_ITERS times */
static int loop_prog(void)
{
	struct bpf_insn p[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 1),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, LOOP_ITERS),
		INSN(BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0, 0),          /* loop: */
		INSN(BPF_ALU64 | BPF_XOR | BPF_X, 2, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -1),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 0, 2, 0, 0),
		INSN(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 3),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	return load_raw("loop", p, sizeof(p) / sizeof(p[0]));
}

int main(int argc, char **argv)
{
	const char *obj_path = NULL, *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else
			obj_path = argv[i];
	}
	if (!obj_path) {
		fprintf(stderr, "usage: bench_vm OBJ [--quick] [--only NAME]\n");
		return 2;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "bench_vm: open %s: %s\n", obj_path, strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench_vm: load %s: %s\n", obj_path, strerror(errno));
		return 1;
	}
	unsigned int repeat = quick ? 100000 : 1000000;
	static const char *const progs[] = { "xdp_pass", "xdp_count", "xdp_sum" };
	double base = 0;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *pr = bpf_object__find_program_by_name(obj, progs[i]);
		double dur, wall;
		if (only && strcmp(only, progs[i]))
			continue;
		if (!pr || measure(bpf_program__fd(pr), repeat, &dur, &wall))
			return 1;
		if (i == 0)
			base = dur;
		printf("row %s_duration %.1f\n", progs[i], dur);
		printf("row %s_wall %.1f\n", progs[i], wall);
	}
	if (only)
		return 0;
	/* ns per instruction */
	int sfd = straight_prog(), lfd = loop_prog();
	if (sfd < 0 || lfd < 0)
		return 1;
	double dur, wall;
	if (measure(sfd, quick ? 2000 : 20000, &dur, &wall))
		return 1;
	printf("row straight_ns_per_insn %.3f\n", (dur - base) / (STRAIGHT_INSNS + 8));
	if (measure(lfd, quick ? 200 : 2000, &dur, &wall))
		return 1;
	printf("row loop_ns_per_insn %.3f\n", (dur - base) / (4.0 * LOOP_ITERS + 6));
	bpf_object__close(obj);
	return 0;
}
