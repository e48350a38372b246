/* SPDX-License-Identifier: MIT */
/* emu/prog.h: program objects (structurally checked, not yet run). */
#ifndef BPFEMU_PROG_H
#define BPFEMU_PROG_H

#include "obj.h"

/* What sys.c decodes from BPF_PROG_LOAD's attr. Pointers are the caller's. */
struct emu_prog_spec {
	__u32 prog_type;
	__u32 insn_cnt;
	const void *insns;
	const void *license;
	__u32 log_level;
	__u32 log_size;
	void *log_buf;
	__u32 prog_flags;
	char name[EMU_OBJ_NAME_LEN];
	__u32 ifindex;
	__u32 expected_attach_type;
	__u32 prog_btf_fd;
	__u32 attach_btf_id;
	__u32 attach_prog_fd;
	__u32 func_info_rec_size;
	const void *func_info;
	__u32 func_info_cnt;
	__u32 line_info_rec_size;
	const void *line_info;
	__u32 line_info_cnt;
};

int emu_prog_load(const struct emu_prog_spec *spec);
/* BPF_PROG_BIND_MAP: map_fd joins the program's used maps (once). */
int emu_prog_bind_map(int prog_fd, int map_fd);
int emu_prog_fill_info(struct emu_obj *prog, struct bpf_prog_info *info, __u32 *map_ids_out, __u32 nr_map_ids);

/* The first n (<= insn_cnt) of the program's xlated instructions as info
 * shows them (a JITed kernel's dump of a program with subprograms: a call's
 * distance in off and the callee's index in imm): a malloc'd copy, NULL on
 * ENOMEM. */
struct bpf_insn *emu_prog_xlated_dump(struct emu_obj *prog, __u32 n);

#endif
