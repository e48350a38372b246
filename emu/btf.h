/* SPDX-License-Identifier: MIT */
/* emu/btf.h: BTF objects (BPF_BTF_LOAD, info, the map side of BTF). */
#ifndef BPFEMU_BTF_H
#define BPFEMU_BTF_H

#include "obj.h"

/* What sys.c decodes from BPF_BTF_LOAD's attr. */
struct emu_btf_load_spec {
	const void *btf;          /* user pointer */
	__u32 btf_size;
	void *log_buf;            /* user pointer */
	__u32 log_size;
	__u32 log_level;
	__u32 *log_true_size;     /* user pointer to write the log's true size to, or NULL (short attr) */
};

/* The map side: map_check_btf() of the kernel. */
struct emu_map_btf {
	__u32 btf_id;
	__s32 spin_lock_off;      /* -1: no bpf_spin_lock in the value */
	__u32 special;            /* the value has special fields (spin lock, timer...): a btf_record */
};

struct emu_map_spec;
int emu_btf_load(const struct emu_btf_load_spec *spec);
/* OBJ_GET_INFO_BY_FD for a BTF object: info and info_len are the caller's,
 * *out_len receives the length to write back to attr->info.info_len. */
int emu_btf_get_info(struct emu_obj *btf, void *uinfo, __u32 info_len, __u32 *out_len);
/* map_create's BTF part: btf_get_by_fd() then map_check_btf(). */
int emu_btf_map_check(const struct emu_map_spec *spec, struct emu_map_btf *out);

#endif
