/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/run2_loader.c: a libbpf (Debian's 1.1) program that loads
 * run2.bpf.o and test-runs its programs with bpf_prog_test_run_opts, printing
 * everything they give back (retval, data_out, ctx_out, the maps, what a
 * syscall program wrote into its context), and what the statistics switch
 * looks like: the ENABLE_STATS fd as /proc shows it, kernel.bpf_stats_enabled.
 * No ids, addresses or times: the kernel's transcript (as root) and bpfemu's
 * (as nobody) must be identical.
 *
 *   run2_loader OBJ          everything above
 *   run2_loader OBJ print N  only: test-run xdp_print N times (bpf_printk)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "transcript.h"

/* IPv4/UDP from 10.0.0.1:12345 to 10.0.0.2:<dport>, 64 bytes, the IP checksum right */
static void make_pkt(unsigned char *p, int dport)
{
	static const unsigned char hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x32, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x00, 0x35, 0x00, 0x1e, 0x00, 0x00,
	};
	memset(p, 0, 64);
	memcpy(p, hdr, sizeof(hdr));
	p[36] = (unsigned char)(dport >> 8);
	p[37] = (unsigned char)dport;
	for (int i = 42; i < 64; i++)
		p[i] = (unsigned char)i;
	unsigned int s = 0;
	for (int i = 14; i < 34; i += 2)
		s += (unsigned int)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	p[24] = (unsigned char)(~s >> 8);
	p[25] = (unsigned char)~s;
}

static void flow(struct bpf_program *p)
{
	unsigned char pkt[64], out[128];
	make_pkt(pkt, 53);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 2);
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	printf("flow: %s retval %u size %u keys ", err ? en(errno) : "ok", o.retval, o.data_size_out);
	hex(out, o.data_size_out < sizeof(out) ? o.data_size_out : sizeof(out));
	printf("\n");
	LIBBPF_OPTS(bpf_test_run_opts, o2, .data_in = pkt, .data_size_in = 10);
	err = bpf_prog_test_run_opts(bpf_program__fd(p), &o2);
	printf("flow 10 bytes: %s\n", err ? en(errno) : "ok");
}

static void lookup(struct bpf_program *p, struct bpf_object *obj)
{
	__u32 lports[] = { 80, 7, 443, 80 };
	for (size_t i = 0; i < sizeof(lports) / sizeof(lports[0]); i++) {
		struct bpf_sk_lookup ctx = { .family = 2, .protocol = 6, .local_port = lports[i],
					     .remote_ip4 = 0x0100000a, .local_ip4 = 0x0200000a }, out;
		memset(&out, 0xee, sizeof(out));
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &out,
			    .ctx_size_out = sizeof(out));
		int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
		printf("sk_lookup port %u: %s retval %u cookie %llu ctx_size_out %u\n", lports[i], err ? en(errno) : "ok",
		       o.retval, (unsigned long long)out.cookie, o.ctx_size_out);
	}
	int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "ports"));
	printf("ports:");
	for (__u32 k = 0; k < 8; k++) {
		__u64 v = 0;
		bpf_map_lookup_elem(fd, &k, &v);
		printf(" %llu", (unsigned long long)v);
	}
	printf("\n");
}

static void tc(struct bpf_program *p)
{
	unsigned char pkt[64], out[256];
	make_pkt(pkt, 53);
	struct __sk_buff ctx, cout;
	memset(&ctx, 0, sizeof(ctx));
	memset(&cout, 0, sizeof(cout));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &cout,
		    .ctx_size_out = sizeof(cout));
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	printf("tc_reshape: %s retval %u size %u data ", err ? en(errno) : "ok", o.retval, o.data_size_out);
	hex(out, o.data_size_out < sizeof(out) ? o.data_size_out : sizeof(out));
	printf("\n  cb %d %d %d %#x %#x\n", (int)cout.cb[0], (int)cout.cb[1], (int)cout.cb[2], cout.cb[3], cout.cb[4]);
}

struct args {
	char in[16];
	long long parsed;
	int cmp;
	int fmt_len;
	char out[48];
	int map_fd;
	int pad;
};

static void sys_prog(struct bpf_program *p)
{
	struct args a;
	memset(&a, 0, sizeof(a));
	strcpy(a.in, "  -1234xyz");
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &a, .ctx_size_in = sizeof(a));
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	printf("sys_prog: %s retval %d parsed %lld cmp %d fmt_len %d out \"%s\"\n", err ? en(errno) : "ok", (int)o.retval,
	       a.parsed, a.cmp, a.fmt_len, a.out);
	/* the map bpf_sys_bpf made: an array of 2 u64 in this process's fd table */
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	err = a.map_fd < 0 ? a.map_fd : bpf_obj_get_info_by_fd(a.map_fd, &info, &len);
	printf("  sys_bpf map: %s type %u key %u value %u entries %u\n", err ? en(err) : "ok", info.type,
	       info.key_size, info.value_size, info.max_entries);
	if (a.map_fd >= 0)
		close(a.map_fd);
}

struct tval {
	__u64 fired;
	int init, set, start, cancel;
	__u64 timer[2];
};

static void timer_value(struct bpf_object *obj, const char *when)
{
	struct tval v;
	__u32 k = 0;
	memset(&v, 0, sizeof(v));
	int err = bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "tmap")), &k, &v);
	printf("timer %s: %s fired %llu init %d set %d start %d cancel %d\n", when, err ? en(errno) : "ok",
	       (unsigned long long)v.fired, v.init, v.set, v.start, v.cancel);
}

static __u64 timer_fired(struct bpf_object *obj)
{
	struct tval v;
	__u32 k = 0;
	memset(&v, 0, sizeof(v));
	if (bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "tmap")), &k, &v))
		return ~0ULL;
	return v.fired;
}

static void timers(struct bpf_program *p, struct bpf_object *obj)
{
	unsigned char pkt[64];
	make_pkt(pkt, 53);
	pkt[0] = 0;
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));
		int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
		printf("xdp_timer: %s retval %u\n", err ? en(errno) : "ok", o.retval);
		timer_value(obj, "armed");
	}
	/* the 200 ms timer fires once; a loaded machine may run its callback late, so wait for it (up to 10 s) */
	usleep(300 * 1000);
	for (int i = 0; i < 97 && timer_fired(obj) == 0; i++)
		usleep(100 * 1000);
	timer_value(obj, "later");
	/* armed again and cancelled at once: it does not fire */
	pkt[0] = 1;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	printf("xdp_timer cancel: %s retval %u\n", err ? en(errno) : "ok", o.retval);
	usleep(400 * 1000);
	timer_value(obj, "cancelled, 400 ms later");
}

static void stats(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	char path[64], link[128] = "";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	printf("enable_stats: %s link %s\n", fd < 0 ? en(errno) : "ok", link);
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	char v[8] = "?";
	if (f) {
		if (!fgets(v, sizeof(v), f))
			strcpy(v, "?");
		fclose(f);
	}
	printf("kernel.bpf_stats_enabled (an fd open): %s", v);
	if (fd >= 0)
		close(fd);
}

static void print_runs(struct bpf_program *p, int n)
{
	unsigned char pkt[64];
	make_pkt(pkt, 53);
	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = 60 + (__u32)i);
		int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
		printf("xdp_print: %s retval %u\n", err ? en(errno) : "ok", o.retval);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	if (argc < 2) {
		fprintf(stderr, "usage: run2_loader OBJ [print N]\n");
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open: %s\n", en(errno));
		return 1;
	}
	int err = bpf_object__load(obj);
	printf("load: %s\n", err ? en(err) : "ok");
	if (err)
		return 1;
	if (argc > 3 && !strcmp(argv[2], "print")) {
		print_runs(prog(obj, "xdp_print"), atoi(argv[3]));
		bpf_object__close(obj);
		return 0;
	}
	flow(prog(obj, "flow"));
	lookup(prog(obj, "lookup"), obj);
	tc(prog(obj, "tc_reshape"));
	sys_prog(prog(obj, "sys_prog"));
	timers(prog(obj, "xdp_timer"), obj);
	stats();
	bpf_object__close(obj);
	return 0;
}
