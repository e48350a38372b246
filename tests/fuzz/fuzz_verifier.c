/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_verifier.c: libFuzzer target over the verifier
 * (BPF_PROG_LOAD through the engine's bpf() entry point).
 *
 * One input is a program:
 *
 *   TYPE ATTACH FLAGS insn[8]...        (at most 4096 instructions)
 *
 * TYPE and ATTACH are the program and expected attach types; FLAGS bits 0-1
 * are the log level (a 64 KiB log), bit 2 BPF_LOG_FIXED with it, bit 3 a
 * GPL license (else none), bit 4 BPF_F_STRICT_ALIGNMENT, bits 5-7 the log
 * size (128 << n bytes instead). An ld_imm64 naming a map (src 1 or 2) takes
 * the map of slot imm % 6 (hash, array, ring buffer, perf event array, prog
 * array, percpu array: made once), so programs reach map-typed code.
 *
 * Whatever the program, the answer must come back (libFuzzer's -timeout
 * catches a hang; the complexity limit bounds every walk), be an fd or one
 * of the verifier's errnos, and leave the log a string inside its buffer.
 * The seeds in corpus_verifier/ are valid programs of several types (the
 * mutants' seeds, tests/verifier/mutants.c: vmutants corpus DIR).
 */
#include <errno.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu.h"

#define MAX_INSNS 4096
#define LOG_SIZE (64u << 10)

static int map_fds[6];
static char root[64];
static char logbuf[LOG_SIZE + 64];
static struct bpf_insn insns[MAX_INSNS];

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void setup(void)
{
	static const struct { __u32 type, key, value, max; } specs[6] = {
		{ BPF_MAP_TYPE_HASH, 4, 8, 16 }, { BPF_MAP_TYPE_ARRAY, 4, 16, 8 }, { BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 8 }, { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4 },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4 },
	};
	snprintf(root, sizeof(root), "/tmp/bpfemu-fuzzv-%d", (int)getpid());
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(root);
	setenv("BPFEMU_ROOT", root, 1);
	if (emu_root_ready())
		abort();
	for (int k = 0; k < 6; k++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = specs[k].type;
		a.key_size = specs[k].key;
		a.value_size = specs[k].value;
		a.max_entries = specs[k].max;
		long fd = emu_sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
		if (fd < 0)
			abort();
		map_fds[k] = (int)fd;
	}
}

static int known_errno(long r)
{
	switch (-r) {
	case EINVAL: case EACCES: case EPERM: case E2BIG: case EFAULT: case ENOSPC: case EBADF: case 524 /* ENOTSUPP */:
	case EOPNOTSUPP: case EPROTO: case ENOENT: case EBUSY: case ENOMEM:
		return 1;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 3)
		return 0;
	__u32 type = data[0], attach = data[1], flags = data[2];
	size_t n = (size - 3) / sizeof(struct bpf_insn);
	if (n > MAX_INSNS)
		n = MAX_INSNS;
	memcpy(insns, data + 3, n * sizeof(struct bpf_insn));
	for (size_t i = 0; i + 1 < n; i++)
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE)) {
			insns[i].imm = map_fds[(__u32)insns[i].imm % 6];
			i++;
		}
	__u32 log_size = flags >> 5 ? 128u << (flags >> 5) : LOG_SIZE;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = (__u32)n;
	a.license = (__u64)(unsigned long)(flags & 8 ? "GPL" : "");
	a.prog_flags = flags & 16 ? BPF_F_STRICT_ALIGNMENT : 0;
	a.log_level = flags & 3;
	if (a.log_level && (flags & 4))
		a.log_level |= 8;
	memset(logbuf, 0x5a, sizeof(logbuf));
	if (a.log_level) {
		a.log_buf = (__u64)(unsigned long)logbuf;
		a.log_size = log_size;
	}
	long r = emu_sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (r >= 0) {
		emu_fd_closed((int)r);
		close((int)r);
	}
	else if (!known_errno(r)) {
		fprintf(stderr, "fuzz_verifier: BPF_PROG_LOAD answered %ld\n", r);
		abort();
	}
	if (a.log_level) {
		/* a log written is a string inside its buffer; nothing past the buffer was written */
		if ((unsigned char)logbuf[0] != 0x5a && !memchr(logbuf, 0, log_size))
			abort();
		for (size_t i = log_size; i < sizeof(logbuf); i++)
			if (logbuf[i] != 0x5a)
				abort();
	}
	return 0;
}
