/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/skel_main.c: progs.bpf.o through the skeleton `bpftool gen
 * skeleton` generated (progs.skel.h in the build tree): .rodata set before
 * load, skel->bss / skel->data through libbpf's mmap of the global data maps,
 * checked against BPF_MAP_LOOKUP_ELEM; then the attach step. Prints a
 * transcript with no ids or fds, compared between the kernel and bpfemu.
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

#include "progs.skel.h"

int main(int argc, char **argv)
{
	int attach = argc > 1 && !strcmp(argv[1], "attach");
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	struct progs *skel = progs__open();
	if (!skel) {
		printf("open: %s\n", en(errno));
		return 1;
	}
	printf("open: ok rodata limit %u magic 0x%llx\n", skel->rodata->limit, (unsigned long long)skel->rodata->magic);
	skel->rodata->limit = 10;
	bpf_map__set_pin_path(skel->maps.shared, NULL);    /* no pin for this one */
	int err = progs__load(skel);
	printf("load: %s\n", err ? en(err) : "ok");
	if (err) {
		progs__destroy(skel);
		return 1;
	}
	printf("bss counter %llu data started %llu tagline %s rodata limit %u\n",
	       (unsigned long long)skel->bss->counter, (unsigned long long)skel->data->started, skel->data->tagline,
	       skel->rodata->limit);
	skel->bss->counter = 5;
	skel->data->started += 100;
	__u32 zero = 0;
	struct progs__bss b;
	struct progs__data d;
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.bss), &zero, &b);
	printf("bss lookup after skel->bss->counter = 5: %s counter %llu\n", err ? en(errno) : "ok",
	       (unsigned long long)b.counter);
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.data), &zero, &d);
	printf("data lookup: %s started %llu\n", err ? en(errno) : "ok", (unsigned long long)d.started);
	b.counter = 1234;
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.bss), &zero, &b, 0);
	printf("bss update 1234: %s skel->bss->counter %llu\n", err ? en(errno) : "ok",
	       (unsigned long long)skel->bss->counter);
	struct progs__rodata r;
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.rodata), &zero, &r);
	printf("rodata lookup: %s limit %u\n", err ? en(errno) : "ok", r.limit);
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.rodata), &zero, &r, 0);
	printf("rodata update: %s\n", err ? en(errno) : "ok");
	printf("progs: xdp %s tc %s socket %s tp %s kprobe %s\n",
	       bpf_program__fd(skel->progs.xdp_count) >= 0 ? "fd" : "none",
	       bpf_program__fd(skel->progs.tc_mark) >= 0 ? "fd" : "none",
	       bpf_program__fd(skel->progs.sock_filter) >= 0 ? "fd" : "none",
	       bpf_program__fd(skel->progs.tp_nanosleep) >= 0 ? "fd" : "none",
	       bpf_program__fd(skel->progs.kp_nanosleep) >= 0 ? "fd" : "none");
	if (attach) {
		struct bpf_link *l = bpf_program__attach_xdp(skel->progs.xdp_count, 1);
		printf("attach xdp lo: %s\n", l ? "ok" : en(errno));
		if (l) {
			struct bpf_link_info info;
			__u32 len = sizeof(info);
			memset(&info, 0, sizeof(info));
			err = bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len);
			printf("link info: %s type %u prog matches %s ifindex %u\n", err ? en(errno) : "ok", info.type,
			       info.prog_id ? "yes" : "no", info.xdp.ifindex);
			bpf_link__destroy(l);
		}
	}
	progs__destroy(skel);
	printf("destroyed\n");
	return 0;
}
