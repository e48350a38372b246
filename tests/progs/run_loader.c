/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/run_loader.c: a libbpf (Debian's 1.1) program that test-runs
 * the programs of run.bpf.o with bpf_prog_test_run_opts and prints
 * everything it sees: retval, data_out and its size, ctx_out, errnos, the
 * maps afterwards (hash, array, per-CPU, map-in-map, .bss, .data), the ring
 * buffer records another process polls with ring_buffer__poll, and the
 * run-time statistics. No ids, fds, addresses or times: the kernel's
 * transcript (as root) and bpfemu's (as nobody) must be identical.
 *
 *   run_loader OBJ PINDIR run    load, pin, a consumer process, the test runs, the maps
 *   run_loader OBJ PINDIR dump   another process: the pinned maps again
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "transcript.h"

/* packets: IPv4/UDP from 10.0.0.<src> to 10.0.0.9:<dport>, proto, total size */
static size_t make_pkt(unsigned char *p, size_t size, int src, int proto, int dport)
{
	static const unsigned char mac[] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00 };
	memset(p, 0, size);
	memcpy(p, mac, sizeof(mac));
	unsigned char *ip = p + 14;
	ip[0] = 0x45;
	ip[2] = (unsigned char)((size - 14) >> 8);
	ip[3] = (unsigned char)(size - 14);
	ip[8] = 64;
	ip[9] = (unsigned char)proto;
	ip[12] = 10;
	ip[15] = (unsigned char)src;
	ip[16] = 10;
	ip[19] = 9;
	unsigned char *udp = ip + 20;
	udp[0] = 0x30;
	udp[1] = 0x39;
	udp[2] = (unsigned char)(dport >> 8);
	udp[3] = (unsigned char)dport;
	for (size_t i = 42; i < size; i++)
		p[i] = (unsigned char)(i * 3);
	return size;
}

/* one test run: retval, sizes, the data out (hex, up to 80 bytes) */
static void run_data(const char *what, struct bpf_program *p, const void *in, __u32 size, __u32 out_size, __u32 repeat)
{
	unsigned char out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = size, .data_out = out,
		    .data_size_out = out_size, .repeat = repeat);
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	printf("%s: %s retval %u size %u", what, err ? en(errno) : "ok", o.retval, o.data_size_out);
	if (!err || errno == ENOSPC) {
		__u32 n = o.data_size_out < out_size ? o.data_size_out : out_size;
		printf(" data ");
		hex(out, n < 80 ? n : 80);
	}
	printf("\n");
}

static void dump(struct bpf_object *obj, const char *dir)
{
	char path[512];
	int ncpu = libbpf_num_possible_cpus();
	/* by_src, sorted by key */
	snprintf(path, sizeof(path), "%s/by_src", dir);
	int fd = bpf_obj_get(path);
	__u32 keys[64], n = 0, k, *prev = NULL;
	while (n < 64 && !bpf_map_get_next_key(fd, prev, &k)) {
		keys[n++] = k;
		prev = &keys[n - 1];
	}
	for (__u32 i = 0; i < n; i++)
		for (__u32 j = i + 1; j < n; j++)
			if (keys[j] < keys[i]) {
				__u32 t = keys[i];
				keys[i] = keys[j];
				keys[j] = t;
			}
	printf("by_src:");
	for (__u32 i = 0; i < n; i++) {
		__u64 v = 0;
		bpf_map_lookup_elem(fd, &keys[i], &v);
		printf(" %u.%u.%u.%u=%llu", keys[i] & 0xff, keys[i] >> 8 & 0xff, keys[i] >> 16 & 0xff, keys[i] >> 24,
		       (unsigned long long)v);
	}
	printf("\n");
	close(fd);
	snprintf(path, sizeof(path), "%s/stats", dir);
	fd = bpf_obj_get(path);
	printf("stats:");
	for (k = 0; k < 4; k++) {
		__u64 v = 0;
		bpf_map_lookup_elem(fd, &k, &v);
		printf(" %llu", (unsigned long long)v);
	}
	printf("\n");
	close(fd);
	snprintf(path, sizeof(path), "%s/bytes", dir);
	fd = bpf_obj_get(path);
	__u64 *pc = calloc((size_t)ncpu, 8), sum = 0;
	k = 0;
	int err = bpf_map_lookup_elem(fd, &k, pc);
	for (int c = 0; c < ncpu; c++)
		sum += pc[c];
	printf("bytes (all CPUs): %s %llu\n", err ? en(errno) : "ok", (unsigned long long)sum);
	free(pc);
	close(fd);
	snprintf(path, sizeof(path), "%s/inner0", dir);
	fd = bpf_obj_get(path);
	printf("inner0:");
	for (k = 0; k < 2; k++) {
		__u64 v = 0;
		bpf_map_lookup_elem(fd, &k, &v);
		printf(" %llu", (unsigned long long)v);
	}
	printf("\n");
	close(fd);
	struct { __u64 seen; __u32 last_len; __u32 pad; } bss = { 0 };
	snprintf(path, sizeof(path), "%s/run_bss", dir);
	fd = bpf_obj_get(path);
	k = 0;
	err = bpf_map_lookup_elem(fd, &k, &bss);
	printf(".bss: %s seen %llu last_len %u\n", err ? en(errno) : "ok", (unsigned long long)bss.seen, bss.last_len);
	close(fd);
	__u64 base = 0;
	snprintf(path, sizeof(path), "%s/run_data", dir);
	fd = bpf_obj_get(path);
	err = bpf_map_lookup_elem(fd, &k, &base);
	printf(".data: %s base %llu\n", err ? en(errno) : "ok", (unsigned long long)base);
	close(fd);
	(void)obj;
}

/* the consumer: another process polls the pinned ring buffer until it has
 * want records (or 5 s), and writes what it saw into a pipe */
static int got;
static int on_record(void *ctx, void *data, size_t size)
{
	FILE *f = ctx;
	struct { __u32 saddr, len; __u64 seen; } r;
	memcpy(&r, data, sizeof(r) < size ? sizeof(r) : size);
	fprintf(f, "record %zu bytes: saddr %u.%u.%u.%u len %u seen %llu\n", size, r.saddr & 0xff, r.saddr >> 8 & 0xff,
		r.saddr >> 16 & 0xff, r.saddr >> 24, r.len, (unsigned long long)r.seen);
	got++;
	return 0;
}

static pid_t consumer(const char *dir, int want, int *rfd)
{
	int pfd[2], ready[2];
	if (pipe(pfd) || pipe(ready))
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		char c;
		close(pfd[1]);
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			printf("consumer did not start\n");
		close(ready[0]);
		*rfd = pfd[0];
		return pid;
	}
	close(pfd[0]);
	close(ready[0]);
	FILE *f = fdopen(pfd[1], "w");
	char path[512];
	snprintf(path, sizeof(path), "%s/events", dir);
	int fd = bpf_obj_get(path);
	struct ring_buffer *rb = ring_buffer__new(fd, on_record, f, NULL);
	if (write(ready[1], rb ? "y" : "n", 1) != 1)
		_exit(1);
	if (!rb) {
		fprintf(f, "ring_buffer__new: %s\n", en(errno));
		fclose(f);
		_exit(1);
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int polls = 0;
	while (got < want) {
		int n = ring_buffer__poll(rb, 100);
		if (n < 0) {
			fprintf(f, "ring_buffer__poll: %s\n", en(n));
			break;
		}
		polls++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			break;
	}
	fprintf(f, "consumer: %d records\n", got);
	ring_buffer__free(rb);
	fclose(f);
	_exit(0);
}

static void stats_line(struct bpf_program *p)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	int err = bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len);
	printf("stats %s: %s run_cnt %llu run_time_ns %s\n", bpf_program__name(p), err ? en(errno) : "ok",
	       (unsigned long long)info.run_cnt, info.run_time_ns ? "> 0" : "0");
}

static int do_run(const char *path, const char *dir)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		printf("open: %s\n", en(errno));
		return 1;
	}
	int err = bpf_object__load(obj);
	printf("load: %s\n", err ? en(err) : "ok");
	if (err)
		return 1;
	err = bpf_object__pin_maps(obj, dir);
	printf("pin maps: %s\n", err ? en(err) : "ok");
	struct bpf_program *acc = prog(obj, "xdp_acc"), *loops = prog(obj, "xdp_loops");
	char ppath[512];
	snprintf(ppath, sizeof(ppath), "%s/xdp_acc", dir);
	err = bpf_program__pin(acc, ppath);
	printf("pin xdp_acc: %s\n", err ? en(err) : "ok");
	__u32 k = 0;
	int tfd = bpf_program__fd(prog(obj, "xdp_tail"));
	err = bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "chain")), &k, &tfd, BPF_ANY);
	printf("chain[0] = xdp_tail: %s\n", err ? en(errno) : "ok");
	int sfd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	printf("enable stats: %s\n", sfd < 0 ? en(errno) : "ok");

	int rfd = -1;
	pid_t cpid = consumer(dir, 6, &rfd);

	unsigned char a[64], b[80], arp[60], big[1200], dns[64], other[64];
	make_pkt(a, sizeof(a), 1, 17, 53);
	make_pkt(b, sizeof(b), 2, 6, 80);
	make_pkt(arp, sizeof(arp), 3, 17, 53);
	arp[12] = 0x08;
	arp[13] = 0x06;
	make_pkt(big, sizeof(big), 4, 17, 53);
	make_pkt(dns, sizeof(dns), 5, 17, 53);
	make_pkt(other, sizeof(other), 5, 17, 54);

	printf("-- xdp_acc\n");
	run_data("udp from .1", acc, a, sizeof(a), sizeof(a) + 16, 1);
	run_data("tcp from .2, repeat 3", acc, b, sizeof(b), sizeof(b), 3);
	run_data("arp", acc, arp, sizeof(arp), sizeof(arp), 1);
	run_data("ethernet header only", acc, a, 14, 64, 1);
	run_data("1200 bytes", acc, big, sizeof(big), sizeof(big), 1);
	run_data("short data_out", acc, a, sizeof(a), 10, 1);
	run_data("13 bytes", acc, a, 13, 64, 1);
	LIBBPF_OPTS(bpf_test_run_opts, bad, .data_in = a, .data_size_in = sizeof(a), .flags = BPF_F_TEST_RUN_ON_CPU);
	err = bpf_prog_test_run_opts(bpf_program__fd(acc), &bad);
	printf("flags on xdp: %s\n", err ? en(errno) : "ok");

	printf("-- xdp_rewrite\n");
	run_data("udp from .1", prog(obj, "xdp_rewrite"), a, sizeof(a), 128, 1);

	printf("-- tc_act\n");
	struct __sk_buff sin, sout;
	memset(&sin, 0, sizeof(sin));
	memset(&sout, 0, sizeof(sout));
	sin.mark = 20;
	sin.cb[0] = 7;
	unsigned char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = a, .data_size_in = sizeof(a), .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &sin, .ctx_size_in = sizeof(sin), .ctx_out = &sout,
		    .ctx_size_out = sizeof(sout));
	err = bpf_prog_test_run_opts(bpf_program__fd(prog(obj, "tc_act")), &to);
	printf("tc_act: %s retval %u size %u data ", err ? en(errno) : "ok", to.retval, to.data_size_out);
	hex(out, to.data_size_out < 64 ? to.data_size_out : 64);
	printf("\n  ctx_out: mark %u priority %u cb %u %u %u ifindex %u wire_len %u size %u\n", sout.mark,
	       sout.priority, sout.cb[0], sout.cb[1], sout.cb[2], sout.ifindex, sout.wire_len, to.ctx_size_out);
	run_data("tc_act 80 bytes", prog(obj, "tc_act"), b, sizeof(b), sizeof(out), 1);

	printf("-- sock_len, cg_len\n");
	run_data("sock_len dport 53", prog(obj, "sock_len"), dns, sizeof(dns), sizeof(out), 1);
	run_data("sock_len dport 54", prog(obj, "sock_len"), other, sizeof(other), sizeof(out), 1);
	run_data("cg_len", prog(obj, "cg_len"), a, sizeof(a), sizeof(out), 1);

	printf("-- xdp_loops\n");
	run_data("loops", loops, a, sizeof(a), sizeof(a), 1);

	printf("-- raw_args\n");
	__u64 args[2] = { 4, 2 };
	LIBBPF_OPTS(bpf_test_run_opts, ro, .ctx_in = args, .ctx_size_in = sizeof(args));
	err = bpf_prog_test_run_opts(bpf_program__fd(prog(obj, "raw_args")), &ro);
	printf("raw_args: %s retval %u\n", err ? en(errno) : "ok", ro.retval);
	LIBBPF_OPTS(bpf_test_run_opts, ro2, .ctx_in = args, .ctx_size_in = 8);
	err = bpf_prog_test_run_opts(bpf_program__fd(prog(obj, "raw_args")), &ro2);
	printf("raw_args 8 bytes of ctx: %s\n", err ? en(errno) : "ok");

	printf("-- maps\n");
	dump(obj, dir);
	stats_line(acc);
	stats_line(loops);

	printf("-- consumer\n");
	int st = 0;
	waitpid(cpid, &st, 0);
	char buf[4096];
	ssize_t r;
	fflush(stdout);
	while ((r = read(rfd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stdout);
	printf("consumer exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (sfd >= 0)
		close(sfd);
	bpf_object__close(obj);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ PINDIR run|dump\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	if (!strcmp(argv[3], "run"))
		return do_run(argv[1], argv[2]);
	if (!strcmp(argv[3], "dump")) {
		dump(NULL, argv[2]);
		return 0;
	}
	fprintf(stderr, "unknown mode %s\n", argv[3]);
	return 2;
}
