/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/funcs_loader.c: loads funcs.bpf.o with Debian's libbpf,
 * test-runs xdp_funcs once and prints what the program stored in .bss (the
 * user functions' answers under BPFEMU_FUNCS).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "transcript.h"

int main(int argc, char **argv)
{
	libbpf_set_print(quiet);
	if (argc < 2)
		return 2;
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	int err = obj ? bpf_object__load(obj) : -errno;
	printf("load: %s\n", err ? strerrorname_np(-err) : "ok");
	if (err) {
		bpf_object__close(obj);
		return 0;
	}
	struct bpf_program *p = bpf_object__find_program_by_name(obj, "xdp_funcs");
	unsigned char pkt[64] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));
	err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	printf("run: %s retval %u\n", err ? strerrorname_np(errno) : "ok", o.retval);
	struct { unsigned long long now, rnd; unsigned int hash, type; int ret; } bss;
	unsigned int k = 0;
	memset(&bss, 0, sizeof(bss));
	err = bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, ".bss")), &k, &bss);
	printf(".bss: %s now %llu rnd %llu ret %d hash %#x type %u\n", err ? strerrorname_np(errno) : "ok", bss.now,
	       bss.rnd, bss.ret, bss.hash, bss.type);
	bpf_object__close(obj);
	return 0;
}
