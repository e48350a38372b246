/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/transcript.h: what the libbpf loaders of tests/progs share to
 * print a transcript the kernel's run and bpfemu's can be compared by: errno
 * names, hex bytes, libbpf's messages kept quiet (warnings on stderr with
 * LOADER_VERBOSE set), a program looked up by name or the run stops.
 */
#ifndef BPFEMU_TESTS_PROGS_TRANSCRIPT_H
#define BPFEMU_TESTS_PROGS_TRANSCRIPT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

static inline const char *en(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);
	return n ? n : "E?";
}

static inline int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN || !getenv("LOADER_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static inline void hex(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", ((const unsigned char *)p)[i]);
}

static inline struct bpf_program *prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);
	if (!p) {
		printf("no program %s\n", name);
		exit(1);
	}
	return p;
}

#endif
