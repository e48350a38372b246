/* SPDX-License-Identifier: MIT */
/*
 * tests/seccomp/rb_feed.c: rb_feed PIN writes the records the Go client
 * (go/cilium_maps) expects into the ring buffer pinned at PIN, with
 * bpfemu_ringbuf_output() (what a BPF program's bpf_ringbuf_output() does
 * on the kernel). It links the engine itself, so it works wherever it runs:
 * started by a program the seccomp door serves, its own file calls pass
 * through the door unchanged.
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include <bpfemu/bpfemu.h>

int main(int argc, char **argv)
{
	static const char *const records[] = { "first record", "second", "3rd: 0123456789abcdef" };
	union bpf_attr a;

	if (argc != 2) {
		fprintf(stderr, "usage: rb_feed PIN\n");
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)argv[1];
	long fd = bpfemu_bpf(BPF_OBJ_GET, &a, sizeof(a));
	if (fd < 0) {
		perror("rb_feed: BPF_OBJ_GET");
		return 1;
	}
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		if (bpfemu_ringbuf_output((int)fd, records[i], strlen(records[i]), 0)) {
			perror("rb_feed: bpfemu_ringbuf_output");
			return 1;
		}
	return 0;
}
