/* SPDX-License-Identifier: MIT */
/*
 * emu/btf_layout.h: how long a BTF type record is (include/uapi/linux/btf.h):
 * struct btf_type, then a trailer whose size its kind and vlen decide. One
 * definition for every walker of type sections, in the engine (the BTF
 * loader's index of the kernel's BTF, the verifier's view of a program's BTF,
 * the VM's) and in tools/ (btfread, replay, the helper table generator).
 * Header-only: it needs nothing but the uapi header.
 */
#ifndef BPFEMU_BTF_LAYOUT_H
#define BPFEMU_BTF_LAYOUT_H

#include <linux/btf.h>

/* The bytes that follow struct btf_type, or -1 for a kind BTF does not
 * define (up to ENUM64, Linux 6.0; the kernel's btf_check_meta() answers
 * such a kind with "Invalid kind"). */
static inline long emu_btf_type_extra(const struct btf_type *t)
{
	long vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_INT: return 4;                               /* the encoding word */
	case BTF_KIND_VAR: return 4;                               /* struct btf_var */
	case BTF_KIND_DECL_TAG: return 4;                          /* struct btf_decl_tag */
	case BTF_KIND_ARRAY: return 12;                            /* struct btf_array */
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: return vlen * 12; /* struct btf_member */
	case BTF_KIND_ENUM: return vlen * 8;                       /* struct btf_enum */
	case BTF_KIND_ENUM64: return vlen * 12;                    /* struct btf_enum64 */
	case BTF_KIND_FUNC_PROTO: return vlen * 8;                 /* struct btf_param */
	case BTF_KIND_DATASEC: return vlen * 12;                   /* struct btf_var_secinfo */
	default: return -1;
	}
}

#endif
