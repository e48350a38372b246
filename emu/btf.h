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
	__u32 special;            /* the record's field types (EMU_FIELD_*), 0: no btf_record */
	__u32 nr_fields;          /* the record, sorted by offset */
	struct emu_map_field fields[EMU_MAP_FIELDS_MAX];
};

struct emu_map_spec;
int emu_btf_load(const struct emu_btf_load_spec *spec);
/* OBJ_GET_INFO_BY_FD for a BTF object: info and info_len are the caller's,
 * *out_len receives the length to write back to attr->info.info_len. */
int emu_btf_get_info(struct emu_obj *btf, void *uinfo, __u32 info_len, __u32 *out_len);
/* map_create's BTF part: btf_get_by_fd() then map_check_btf(). */
int emu_btf_map_check(const struct emu_map_spec *spec, struct emu_map_btf *out);

/* ---- the kernel's BTF (emu/btf_kernel.c): /sys/kernel/btf as kernel BTF objects ---- */
/* Ids for vmlinux (first: 1 in a new state root) and the modules, reserved once per
 * state root before any other BTF id; 0 or -errno. */
int emu_kernel_btf_reserve(void);
/* The kernel BTF objects themselves, for the id scans (BTF_GET_NEXT_ID, GET_FD_BY_ID). */
int emu_kernel_btf_publish(void);
/* A kernel BTF type's name, or NULL. */
const char *emu_kernel_btf_name(__u32 btf_obj_id, __u32 type_id);
/* A type id by name and kind in vmlinux then the modules (0: none); *btf_obj_id its object. */
__u32 emu_kernel_btf_find(const char *name, __u32 kind, __u32 *btf_obj_id);

/* What bpf_prog_load() resolved from attach_prog_fd / attach_btf_obj_fd / attach_btf_id. */
struct emu_attach_target {
	__u32 btf_obj_id;         /* the kernel BTF object (vmlinux or a module), 0: none */
	__u32 dst_prog_id;        /* attach_prog_fd named a program: its id */
	int dst_prog_fd;
};
/* bpf_prog_load()'s resolution and bpf_prog_load_check_attach()'s BTF rules: 0,
 * -EINVAL, -ENOTSUPP (a BTF object that is not the kernel's). */
int emu_attach_btf_resolve(__u32 prog_type, __u32 attach_fd, __u32 attach_btf_id, struct emu_attach_target *t);
/* bpf_check_attach_target() and the rest of check_attach_btf_id() for tracing, lsm and
 * ext programs: 0 or -errno, and the verifier's message in msg ("" for none). */
struct emu_attach_check {
	__u32 prog_type, eat, btf_id;
	bool sleepable, gpl;
	__u32 btf_obj_id;
	int dst_prog_fd;          /* > 0: the target program's fd */
	/* an extension: its own BTF (prog_btf_fd) and first function (func_info[0]) */
	int prog_btf_fd;
	__u32 prog_btf_obj_id;    /* or, without prog_btf_fd, its BTF object's id */
	bool has_finfo;
	__u32 func0_type_id;
	bool changes_pkt_data, might_sleep;     /* the extension's main function's */
	/* out, an extension that passed: the target's type, expected_attach_type and
	 * id, and the first instruction of the function it replaces */
	__u32 dst_prog_type, dst_eat, dst_prog_id, dst_insn_off;
};
int emu_attach_btf_check(struct emu_attach_check *c, char *msg, size_t len);

/* A kernel BTF file's bytes (path: /sys/kernel/btf/vmlinux or a copy), read-only, read
 * once per process and shared by the engine's readers (mapped where the file can be
 * mapped): *size bytes, or NULL with errno set. */
const void *emu_kernel_btf_file(const char *path, size_t *size);
/* The type index of such a file (a base BTF: vmlinux), once per process and shared:
 * off[id] the offset of type id in the type section (off[0] unused), *nr the last id
 * + 1; NULL if emu_kernel_btf_file(path) did not read it, its header is not BTF's, or
 * ENOMEM. */
const __u32 *emu_kernel_btf_offsets(const char *path, __u32 *nr);

/* Read access to vmlinux's BTF (this process's copy of the kernel's file): the number
 * of type ids (the last id + 1; 0 without kernel BTF), a type (id 0: void; NULL past
 * the last), a string by offset (NULL if none). */
struct btf_type;
__u32 emu_vmlinux_btf_nr_types(void);
const struct btf_type *emu_vmlinux_btf_type(__u32 type_id);
const char *emu_vmlinux_btf_str(__u32 off);

#endif
