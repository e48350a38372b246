/* SPDX-License-Identifier: MIT */
/*
 * tools/replay.h: what `bpfemu replay` makes up for logs that lack the bytes
 * (tools/replay_synth.c): a BTF holding the types later calls use, and a
 * program of the recorded shape that loads, or fails with the recorded errno.
 */
#ifndef BPFEMU_REPLAY_H
#define BPFEMU_REPLAY_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>

/* One type id a later call names in a BTF the log does not show whole. */
struct btf_use {
	__u32 id;
	__u32 size;             /* the map's key_size or value_size */
	bool datasec;           /* the value of a global data map (ARRAY, no key type, one entry) */
	bool int32_key;         /* an ARRAY's key: must be a 32-bit int */
};

struct btf_needs {
	struct btf_use *uses;
	size_t nuses;
	char **funcs;           /* names of the programs loaded with func_info on it */
	size_t nfuncs;
	__u32 rec_size;         /* btf_size as recorded (0: unknown) */
};

/* A BTF blob (header, types, strings): every id in needs at its place with
 * its size, PTR fillers between, then a FUNC_PROTO and one static FUNC per
 * name (and "sub"); the strings padded so the blob is rec_size bytes when it
 * fits. malloc'd; *len its size. NULL on allocation failure. */
unsigned char *synth_btf(const struct btf_needs *needs, __u32 *len);

/* A program for a PROG_LOAD whose instructions the log does not show. */
struct prog_shape {
	__u32 prog_type, expected_attach_type;
	__u32 insn_cnt;                 /* as recorded (0 kept: the kernel's EINVAL) */
	__u32 func_info_cnt, func_info_rec_size;
	__u32 line_info_cnt, line_info_rec_size;
	const char *name;               /* prog_name */
	const unsigned char *btf;       /* the BTF prog_btf_fd names (func_info type ids), or NULL */
	__u32 btf_len;
	int fail;                       /* the recorded errno, 0 if it loaded */
	__u32 retval;                   /* what a test run should return */
};

struct prog_made {
	struct bpf_insn *insns;
	__u32 insn_cnt;
	void *func_info;                /* func_info_cnt records of func_info_rec_size */
	void *line_info;
	bool bad_insns;                 /* EFAULT: pass an unreadable pointer */
};

/* 0, or -ENOMEM. Free with prog_made_free. */
int synth_prog(const struct prog_shape *s, struct prog_made *out);
void prog_made_free(struct prog_made *m);

#endif
