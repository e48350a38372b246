/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/trace_skel.c: trace_skel.bpf.o through the skeleton
 * `bpftool gen skeleton` makes, for the trace and replay tests: .rodata set
 * before load, three test runs of the XDP program (data in and out), the
 * maps and global data read back, the program's info. Prints a transcript
 * without ids or fds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "trace_skel.skel.h"

static const char *en(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);
	return n ? n : "E?";
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	struct trace_skel *skel = trace_skel__open();
	if (!skel) {
		printf("open: %s\n", en(errno));
		return 1;
	}
	skel->rodata->verdict = XDP_TX;
	int err = trace_skel__load(skel);
	printf("load: %s\n", err ? en(err) : "ok");
	if (err) {
		trace_skel__destroy(skel);
		return 1;
	}
	int prog = bpf_program__fd(skel->progs.xdp_count);
	for (int i = 0; i < 3; i++) {
		unsigned char in[64], out[64];
		memset(in, i == 2 ? 7 : 9, sizeof(in));
		memset(out, 0, sizeof(out));
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in), .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);
		err = bpf_prog_test_run_opts(prog, &o);
		if (err)
			printf("test run %d: %s\n", i, en(errno));
		else
			printf("test run %d: retval %u size %u first byte 0x%02x\n", i, o.retval, o.data_size_out, out[0]);
	}
	__u32 key = 9;
	__u64 v = 0;
	err = bpf_map__lookup_elem(skel->maps.pkts, &key, sizeof(key), &v, sizeof(v), 0);
	printf("pkts[9]: %s %llu\n", err ? en(err) : "ok", (unsigned long long)v);
	key = 0;
	err = bpf_map__lookup_elem(skel->maps.totals, &key, sizeof(key), &v, sizeof(v), 0);
	printf("totals[0]: %s %llu\n", err ? en(err) : "ok", (unsigned long long)v);
	printf("bss seen %llu data marker 0x%x\n", (unsigned long long)skel->bss->seen, skel->data->marker);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(prog, &info, &len);
	printf("info: %s type %u name %s\n", err ? en(err) : "ok", info.type, info.name);
	trace_skel__destroy(skel);
	return 0;
}
