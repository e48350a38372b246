/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/vhelper.c: what the host kernel refuses that libbpf-tools
 * probe for, as REFUSE_LOADS for libloadwatch.so (loadwatch.c):
 *
 *   vhelper refused     prints "TYPE:ATTACH=ERRNO,..." for the tracing
 *                       program kinds (fentry, fexit, fmod_ret, lsm) whose
 *                       trivial load the host answers with an error, or ""
 *
 * Exit 0, or 1 when the probes cannot run at all (no vmlinux BTF).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

static int probe(enum bpf_prog_type type, enum bpf_attach_type attach, const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id = libbpf_find_vmlinux_btf_id(func, attach);
	if (id < 0)
		return 0;               /* no such function here: nothing to say */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = (__u32)id);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	if (argc != 2 || strcmp(argv[1], "refused")) {
		fprintf(stderr, "usage: %s refused\n", argv[0]);
		return 2;
	}
	static const struct {
		enum bpf_prog_type type;
		enum bpf_attach_type attach;
		const char *func;
		bool any_attach;
	} kinds[] = {
		{ BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_unlinkat", false },
		{ BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "do_unlinkat", false },
		{ BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "security_file_open", false },
		{ BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bpf_lsm_file_open", true },
	};
	const char *sep = "";
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int err = probe(kinds[k].type, kinds[k].attach, kinds[k].func);
		if (!err)
			continue;
		if (kinds[k].any_attach)
			printf("%s%d=%d", sep, kinds[k].type, err);
		else
			printf("%s%d:%d=%d", sep, kinds[k].type, kinds[k].attach, err);
		sep = ",";
	}
	printf("\n");
	return 0;
}
