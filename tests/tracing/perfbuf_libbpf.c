/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/perfbuf_libbpf.c: libbpf's perf_buffer API (Debian's libbpf)
 * under the shim, fed by another process with bpfemu_perf_output().
 *
 *   perfbuf_libbpf consume PIN N FIFO   create a PERF_EVENT_ARRAY (one slot
 *       per possible CPU, as the libbpf-tools do), pin it, perf_buffer__new
 *       (8 pages a CPU), print "ready"; perf_buffer__poll (5 s timeout) until
 *       N records came; then twice: block reading FIFO (the test writes a
 *       line after a flood it made while nobody read, then after one more
 *       record), perf_buffer__consume, and print what came and what the lost
 *       callback counted
 *   perfbuf_libbpf produce PIN N GAP_MS  N records, GAP_MS apart, record i
 *       into slot i % CPUs (as a program on that CPU writes)
 *   perfbuf_libbpf flood PIN N SIZE     N records of SIZE bytes into slot 0,
 *       as fast as possible; prints how many were refused with ENOSPC
 *
 * The consumer fails on a record on the wrong CPU, out of order or missing,
 * a poll that came back without a record, a record later than 500 ms, or a
 * CPU time above 25% of the wall time (a poll that spins instead of blocking).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct rec {
	unsigned int seq, cpu;
	long long ns;           /* CLOCK_MONOTONIC when produced */
	char text[24];
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
	       ru.ru_stime.tv_usec / 1e3;
}

struct state {
	unsigned int want, got, ncpu, bad;
	unsigned int next[256];       /* per CPU: the next seq expected */
	long long max_delay;
	unsigned long long flood_got, lost;
	bool flood;
};

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct state *s = ctx;
	if (s->flood) {
		s->flood_got++;
		return;
	}
	struct rec r;
	if (size < sizeof(r)) {
		printf("record of %u bytes, expected %zu\n", size, sizeof(r));
		s->bad++;
		return;
	}
	memcpy(&r, data, sizeof(r));
	long long d = now_ns() - r.ns;
	if (d > s->max_delay)
		s->max_delay = d;
	if ((unsigned int)cpu != r.cpu || r.seq % s->ncpu != r.cpu || r.seq != s->next[r.cpu]) {
		printf("record %u on cpu %d (written for cpu %u), expected %u there\n", r.seq, cpu, r.cpu,
		       s->next[r.cpu % 256]);
		s->bad++;
	}
	s->next[r.cpu % 256] = r.seq + s->ncpu;
	s->got++;
}

static void on_lost(void *ctx, int cpu, __u64 cnt)
{
	struct state *s = ctx;
	(void)cpu;
	s->lost += cnt;
}

static int consume(const char *pin, unsigned int n, const char *fifo)
{
	static struct state s;
	s.ncpu = (unsigned int)libbpf_num_possible_cpus();
	for (unsigned int c = 0; c < s.ncpu && c < 256; c++)
		s.next[c] = c;
	s.want = n;
	int map = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "events", 4, 4, s.ncpu, NULL);
	if (map < 0 || bpf_obj_pin(map, pin)) {
		perror("create/pin the perf event array");
		return 1;
	}
	struct perf_buffer *pb = perf_buffer__new(map, 8, on_sample, on_lost, &s, NULL);
	if (!pb) {
		printf("perf_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	printf("perf_buffer__new: %zu buffers, epoll fd %d\n", perf_buffer__buffer_cnt(pb), perf_buffer__epoll_fd(pb));
	printf("ready\n");
	fflush(stdout);
	long long t0 = now_ns();
	double c0 = cpu_ms();
	unsigned int polls = 0, empty = 0;
	while (s.got < n) {
		unsigned int before = s.got;
		int k = perf_buffer__poll(pb, 5000);
		polls++;
		if (k < 0) {
			printf("perf_buffer__poll: %s\n", strerror(-k));
			return 1;
		}
		if (k == 0) {
			printf("perf_buffer__poll: timeout after %u of %u records\n", s.got, n);
			return 1;
		}
		if (s.got == before)
			empty++;               /* woken by something that was no record */
	}
	double wall = (now_ns() - t0) / 1e6, cpu = cpu_ms() - c0;
	printf("got %u records in order, on their CPUs, in %u polls (%u without a record)\n", s.got, polls, empty);
	printf("largest delay %s 500 ms; cpu %s 25%% of the wall time\n", s.max_delay < 500000000 ? "under" : "OVER",
	       cpu < wall / 4 ? "under" : "OVER");
	if (s.bad || empty || s.max_delay >= 500000000 || cpu >= wall / 4)
		return 1;
	/* an idle poll waits its timeout */
	long long p0 = now_ns();
	int k = perf_buffer__poll(pb, 200);
	long long waited = (now_ns() - p0) / 1000000;
	printf("idle perf_buffer__poll(200 ms) = %d after %s\n", k, waited >= 190 ? "its timeout" : "too short a wait");
	if (k != 0 || waited < 190)
		return 1;

	/* the flood: nobody reads meanwhile; then perf_buffer__consume, twice: the loss is
	 * reported by the first record that fits after it (the test writes one between) */
	s.flood = true;
	int r = 0;
	FILE *f = fopen(fifo, "r+");            /* read-write: a writer that closes is no end of file */
	if (!f) {
		perror("fifo");
		return 1;
	}
	for (int round = 0; round < 2 && r >= 0; round++) {
		char line[64];
		if (!fgets(line, sizeof(line), f)) {
			perror("fifo");
			return 1;
		}
		s.flood_got = s.lost = 0;
		r = perf_buffer__consume(pb);
		printf("perf_buffer__consume = %d: %llu records, the lost callback counted %llu\n", r, s.flood_got,
		       s.lost);
	}
	fclose(f);
	perf_buffer__free(pb);
	return r < 0;
}

static int (*out_fn)(int, unsigned long long, const void *, unsigned long long);

static int get_out(void)
{
	out_fn = (int (*)(int, unsigned long long, const void *, unsigned long long))dlsym(RTLD_DEFAULT,
											"bpfemu_perf_output");
	if (!out_fn) {
		fprintf(stderr, "bpfemu_perf_output not found: run under the shim\n");
		return -1;
	}
	return 0;
}

static int produce(const char *pin, unsigned int n, unsigned int gap_ms)
{
	unsigned int ncpu = (unsigned int)libbpf_num_possible_cpus();
	int map = bpf_obj_get(pin);
	if (map < 0 || get_out()) {
		perror("bpf_obj_get");
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct rec r = { .seq = i, .cpu = i % ncpu, .ns = now_ns() };
		snprintf(r.text, sizeof(r.text), "record %u", i);
		if (out_fn(map, r.cpu, &r, sizeof(r))) {
			printf("bpfemu_perf_output(slot %u): %s\n", r.cpu, strerror(errno));
			return 1;
		}
		usleep(gap_ms * 1000);
	}
	printf("sent %u records\n", n);
	return 0;
}

static int flood(const char *pin, unsigned int n, unsigned int size)
{
	int map = bpf_obj_get(pin);
	char buf[4096] = { 0 };
	unsigned int ok = 0, nospc = 0;
	if (map < 0 || get_out() || size > sizeof(buf)) {
		perror("bpf_obj_get");
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!out_fn(map, 0, buf, size))
			ok++;
		else if (errno == ENOSPC)
			nospc++;
		else {
			printf("bpfemu_perf_output: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("flood: %u written, %u lost (ENOSPC)\n", ok, nospc);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "consume"))
		return consume(argv[2], (unsigned int)atoi(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "produce"))
		return produce(argv[2], (unsigned int)atoi(argv[3]), (unsigned int)atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "flood"))
		return flood(argv[2], (unsigned int)atoi(argv[3]), (unsigned int)atoi(argv[4]));
	fprintf(stderr, "usage: perfbuf_libbpf consume PIN N FIFO | produce PIN N GAP_MS | flood PIN N SIZE\n");
	return 2;
}
