/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/btf_blobs.h: building BTF blobs for the tests (encodings as in
 * include/uapi/linux/btf.h), and the table of malformed blobs the kernel
 * rejects, each with the kernel's errno and the last line of its log.
 */
#ifndef BPFEMU_TESTS_BTF_BLOBS_H
#define BPFEMU_TESTS_BTF_BLOBS_H

#include <linux/btf.h>
#include <stddef.h>
#include <string.h>

#define BB_INFO(kind, kflag, vlen) ((((__u32)!!(kflag)) << 31) | ((__u32)(kind) << 24) | ((vlen) & 0xffff))
#define BB_TYPE(name, info, size_or_type) (name), (info), (size_or_type)
#define BB_INT_DATA(enc, off, bits) (((__u32)(enc) << 24) | ((off) << 16) | (bits))
#define BB_INT(name, enc, off, bits, sz) BB_TYPE(name, BB_INFO(BTF_KIND_INT, 0, 0), sz), BB_INT_DATA(enc, off, bits)
#define BB_MEMBER(name, type, off) (name), (type), (off)

/* The one string section every case uses:
 *   0 ""  1 "int"  5 "x"  7 "s"  9 "t"  11 ".data"  17 "bpf_spin_lock"  31 "v"  33 "1bad" */
#define BB_STRS "\0int\0x\0s\0t\0.data\0bpf_spin_lock\0v\0" "1bad"
#define BB_STRS_LEN 38u
#define S_INT 1
#define S_X 5
#define S_S 7
#define S_T 9
#define S_DATA 11
#define S_LOCK 17
#define S_V 31
#define S_BAD 33

/* Header fields a case may overwrite (offset in struct btf_header, value). */
struct bb_patch {
	__u32 off, val;
};

/* No pointers: Criterion hands parameters to a re-executed test process. */
struct bb_case {
	char name[40];
	__u32 types[48];
	__u32 ntypes;            /* words used in types[] */
	struct bb_patch patch[3];
	int npatch;
	int size_delta;          /* added to the blob size passed to the kernel (bytes cut or appended) */
	int err;                 /* the kernel's errno (positive), 0 for success */
	char log_last[160];      /* the last line of the kernel's log_level 1 log */
};

/* Builds header + types + strings into buf; returns the size to pass. */
static inline __u32 bb_build(void *buf, size_t cap, const __u32 *types, __u32 nwords, const char *strs,
			     __u32 str_len, const struct bb_patch *patch, int npatch, int size_delta)
{
	struct btf_header h = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(struct btf_header),
		.type_off = 0,
		.type_len = nwords * 4,
		.str_off = nwords * 4,
		.str_len = str_len,
	};
	size_t size = sizeof(h) + nwords * 4 + str_len;
	memset(buf, 0, cap);
	memcpy(buf, &h, sizeof(h));
	memcpy((char *)buf + sizeof(h), types, nwords * 4);
	memcpy((char *)buf + sizeof(h) + nwords * 4, strs, str_len);
	for (int i = 0; i < npatch; i++)
		memcpy((char *)buf + patch[i].off, &patch[i].val, 4);
	return (__u32)((long)size + size_delta);
}

#define W(...) { __VA_ARGS__ }, (sizeof((__u32[]){ __VA_ARGS__ }) / 4)
#define P1(o, v) { { o, v } }, 1
#define NOP { { 0, 0 } }, 0
#define INT32 BB_INT(S_INT, BTF_INT_SIGNED, 0, 32, 4)

static const struct bb_case bb_cases[] = {
	{ "bad_magic", W(INT32), P1(0, 0xeb9e), 0, EINVAL, "Invalid magic" },
	{ "bad_version", W(INT32), P1(0, 0x0002eb9f), 0, 524, "Unsupported version" },
	{ "bad_flags", W(INT32), { { 0, 0x0101eb9f } }, 1, 0, 524, "Unsupported flags" },
	{ "no_hdr_len", W(INT32), NOP, -(int)(sizeof(struct btf_header) + 4 + 12 + BB_STRS_LEN) + 6, EINVAL,
	  "hdr_len not found" },
	{ "hdr_len_past_end", W(INT32), P1(4, 0x1000), 0, EINVAL, "btf_header not found" },
	{ "str_off_past_end", W(INT32), P1(16, 4096), 0, EINVAL, "Invalid section offset" },
	{ "sections_overlap", W(INT32), P1(16, 8), 0, EINVAL, "Section overlap found" },
	{ "section_gap", W(INT32), { { 8, 4 }, { 12, 12 } }, 2, 0, EINVAL, "Unsupported section found" },
	{ "str_len_too_long", W(INT32), P1(20, 100), 0, EINVAL, "Total section length too long" },
	{ "trailing_data", W(INT32), NOP, 4, EINVAL, "Unsupported section found" },
	{ "strings_not_terminated", W(INT32), P1(20, BB_STRS_LEN - 1), -1, EINVAL, "Invalid string section" },
	{ "no_types", W(INT32), { { 12, 0 }, { 16, 0 }, { 20, 16 + BB_STRS_LEN } }, 3, 0, EINVAL,
	  "Invalid string section" },
	{ "type_off_leaves_gap", W(INT32, 0), { { 8, 2 }, { 12, 12 }, { 16, 14 } }, 3, -2, EINVAL,
	  "Unsupported section found" },
	{ "type_meta_too_short", W(INT32), P1(12, 8), 0, EINVAL, "Unsupported section found" },
	{ "invalid_kind", W(BB_TYPE(0, BB_INFO(20, 0, 0), 0)), NOP, 0, EINVAL, "[1] Invalid kind:20" },
	{ "invalid_info_bits", W(BB_TYPE(0, 0x01200000, 4), 32), NOP, 0, EINVAL, "[1] Invalid btf_info:1200000" },
	{ "name_off_past_strings", W(BB_INT(100, 0, 0, 32, 4)), NOP, 0, EINVAL, "[1] Invalid name_offset:100" },
	{ "int_meta_short", W(BB_TYPE(S_INT, BB_INFO(BTF_KIND_INT, 0, 0), 4)), NOP, 0, EINVAL,
	  "[1] INT int meta_left:0 meta_needed:4" },
	{ "int_vlen", W(BB_TYPE(S_INT, BB_INFO(BTF_KIND_INT, 0, 1), 4), BB_INT_DATA(0, 0, 32)), NOP, 0, EINVAL,
	  "[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=(none) vlen != 0" },
	{ "int_kflag", W(BB_TYPE(S_INT, BB_INFO(BTF_KIND_INT, 1, 0), 4), BB_INT_DATA(0, 0, 32)), NOP, 0, EINVAL,
	  "[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=(none) Invalid btf_info kind_flag" },
	{ "int_bits_over_128", W(BB_INT(S_INT, 0, 0, 129, 16)), NOP, 0, EINVAL,
	  "[1] INT int size=16 bits_offset=0 nr_bits=129 encoding=(none) nr_bits exceeds 128" },
	{ "int_bits_over_size", W(BB_INT(S_INT, 0, 0, 64, 4)), NOP, 0, EINVAL,
	  "[1] INT int size=4 bits_offset=0 nr_bits=64 encoding=(none) nr_bits exceeds type_size" },
	{ "int_two_encodings", W(BB_INT(S_INT, 3, 0, 32, 4)), NOP, 0, 524,
	  "[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=UNKN Unsupported encoding" },
	{ "int_data_high_bits", W(BB_INT(S_INT, 0x10, 0, 32, 4)), NOP, 0, EINVAL,
	  "[1] INT int Invalid int_data:10000020" },
	{ "ptr_to_missing_type", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_PTR, 0, 0), 5)), NOP, 0, EINVAL,
	  "[2] PTR (anon) type_id=5 Invalid type_id" },
	{ "ptr_with_name", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_PTR, 0, 0), 1)), NOP, 0, EINVAL,
	  "[2] PTR x type_id=1 Invalid name" },
	{ "ptr_loop", W(BB_TYPE(0, BB_INFO(BTF_KIND_PTR, 0, 0), 2), BB_TYPE(0, BB_INFO(BTF_KIND_PTR, 0, 0), 1)),
	  NOP, 0, EEXIST, "[1] PTR (anon) type_id=2 Loop detected" },
	{ "typedef_loop", W(BB_TYPE(S_T, BB_INFO(BTF_KIND_TYPEDEF, 0, 0), 2),
			    BB_TYPE(S_X, BB_INFO(BTF_KIND_TYPEDEF, 0, 0), 1)), NOP, 0, EEXIST,
	  "[1] TYPEDEF t type_id=2 Loop detected" },
	{ "typedef_no_name", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_TYPEDEF, 0, 0), 1)), NOP, 0, EINVAL,
	  "[2] TYPEDEF (anon) type_id=1 Invalid name" },
	{ "typedef_bad_name", W(INT32, BB_TYPE(S_BAD, BB_INFO(BTF_KIND_TYPEDEF, 0, 0), 1)), NOP, 0, EINVAL,
	  "[2] TYPEDEF 1bad type_id=1 Invalid name" },
	{ "const_with_name", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_CONST, 0, 0), 1)), NOP, 0, EINVAL,
	  "[2] CONST x type_id=1 Invalid name" },
	{ "volatile_vlen", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_VOLATILE, 0, 1), 1)), NOP, 0, EINVAL,
	  "[2] VOLATILE (anon) type_id=1 vlen != 0" },
	{ "restrict_kflag", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_RESTRICT, 1, 0), 1)), NOP, 0, EINVAL,
	  "[2] RESTRICT (anon) type_id=1 Invalid btf_info kind_flag" },
	{ "array_with_name", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_ARRAY, 0, 0), 0), 1, 1, 4), NOP, 0, EINVAL,
	  "[2] ARRAY x type_id=1 index_type_id=1 nr_elems=4 Invalid name" },
	{ "array_size_set", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_ARRAY, 0, 0), 16), 1, 1, 4), NOP, 0, EINVAL,
	  "[2] ARRAY (anon) type_id=1 index_type_id=1 nr_elems=4 size != 0" },
	{ "array_void_elem", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_ARRAY, 0, 0), 0), 0, 1, 4), NOP, 0, EINVAL,
	  "[2] ARRAY (anon) type_id=0 index_type_id=1 nr_elems=4 Invalid elem" },
	{ "array_index_not_int", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_PTR, 0, 0), 1),
				   BB_TYPE(0, BB_INFO(BTF_KIND_ARRAY, 0, 0), 0), 1, 2, 4), NOP, 0, EINVAL,
	  "[3] ARRAY (anon) type_id=1 index_type_id=2 nr_elems=4 Invalid index" },
	{ "array_meta_short", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_ARRAY, 0, 0), 0), 1), NOP, 0, EINVAL,
	  "[2] ARRAY (anon) meta_left:4 meta_needed:12" },
	{ "array_overflows_u32", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_ARRAY, 0, 0), 0), 1, 1, 0x40000000u), NOP,
	  0, EINVAL, "[2] ARRAY (anon) type_id=1 index_type_id=1 nr_elems=1073741824 Array size overflows U32_MAX" },
	{ "struct_member_past_size", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 1), 4),
				       BB_MEMBER(S_X, 1, 64)), NOP, 0, EINVAL,
	  "\tx type_id=1 bits_offset=64 Member bits_offset exceeds its struct size" },
	{ "struct_member_exceeds_size", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 1), 4),
					  BB_MEMBER(S_X, 1, 8)), NOP, 0, EINVAL,
	  "\tx type_id=1 bits_offset=8 Member exceeds struct_size" },
	{ "struct_member_void", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 1), 4), BB_MEMBER(S_X, 0, 0)),
	  NOP, 0, EINVAL, "\tx type_id=0 bits_offset=0 Invalid type_id" },
	{ "struct_member_bad_name", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 1), 4),
				      BB_MEMBER(S_BAD, 1, 0)), NOP, 0, EINVAL,
	  "\t1bad type_id=1 bits_offset=0 Invalid name" },
	{ "struct_members_out_of_order", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 2), 8),
					   BB_MEMBER(S_X, 1, 32), BB_MEMBER(S_V, 1, 0)), NOP, 0, EINVAL,
	  "\tv type_id=1 bits_offset=0 Invalid member bits_offset" },
	{ "union_member_offset", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_UNION, 0, 1), 8), BB_MEMBER(S_X, 1, 32)),
	  NOP, 0, EINVAL, "\tx type_id=1 bits_offset=32 Invalid member bits_offset" },
	{ "struct_meta_short", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 2), 8), BB_MEMBER(S_X, 1, 0)),
	  NOP, 0, EINVAL, "[2] STRUCT s meta_left:12 meta_needed:24" },
	{ "struct_bitfield_too_wide", W(INT32, BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 1, 1), 8),
					BB_MEMBER(S_X, 1, (33u << 24) | 0)), NOP, 0, EINVAL,
	  "\tx type_id=1 bitfield_size=33 bits_offset=0 Invalid member bitfield_size" },
	{ "struct_contains_itself", W(BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 1), 4), BB_MEMBER(S_X, 1, 0)), NOP,
	  0, EEXIST, "[1] STRUCT s size=4 vlen=1 Loop detected" },
	{ "enum_bad_size", W(BB_TYPE(S_S, BB_INFO(BTF_KIND_ENUM, 0, 1), 3), S_X, 1), NOP, 0, EINVAL,
	  "[1] ENUM s size=3 vlen=1 Unexpected size" },
	{ "enum_value_no_name", W(BB_TYPE(S_S, BB_INFO(BTF_KIND_ENUM, 0, 1), 4), 0, 1), NOP, 0, EINVAL,
	  "[1] ENUM s size=4 vlen=1 Invalid name" },
	{ "enum64_meta_short", W(BB_TYPE(S_S, BB_INFO(BTF_KIND_ENUM64, 0, 1), 8), S_X, 1), NOP, 0, EINVAL,
	  "[1] ENUM64 s meta_left:8 meta_needed:12" },
	{ "fwd_with_type", W(BB_TYPE(S_S, BB_INFO(BTF_KIND_FWD, 0, 0), 1)), NOP, 0, EINVAL,
	  "[1] FWD s struct type != 0" },
	{ "fwd_no_name", W(BB_TYPE(0, BB_INFO(BTF_KIND_FWD, 0, 0), 0)), NOP, 0, EINVAL,
	  "[1] FWD (anon) struct Invalid name" },
	{ "func_bad_linkage", W(BB_TYPE(0, BB_INFO(BTF_KIND_FUNC_PROTO, 0, 0), 0),
				BB_TYPE(S_X, BB_INFO(BTF_KIND_FUNC, 0, 3), 1)), NOP, 0, EINVAL,
	  "[2] FUNC x type_id=1 Invalid func linkage" },
	{ "func_not_to_proto", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_FUNC, 0, 0), 1)), NOP, 0, EINVAL,
	  "[2] FUNC x type_id=1 Invalid type_id" },
	{ "func_proto_with_name", W(BB_TYPE(S_X, BB_INFO(BTF_KIND_FUNC_PROTO, 0, 0), 0)), NOP, 0, EINVAL,
	  "[1] FUNC_PROTO x return=0 args=(void) Invalid name" },
	{ "func_proto_named_vararg", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_FUNC_PROTO, 0, 2), 1), S_X, 1, S_V, 0),
	  NOP, 0, EINVAL, "[2] FUNC_PROTO (anon) return=1 args=(1 x, vararg) Invalid arg#2" },
	{ "func_proto_bad_return", W(BB_TYPE(0, BB_INFO(BTF_KIND_FUNC_PROTO, 0, 0), 7)), NOP, 0, EINVAL,
	  "[1] FUNC_PROTO (anon) return=7 args=(void) Invalid return type" },
	{ "var_bad_linkage", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_VAR, 0, 0), 1), 5), NOP, 0, EINVAL,
	  "[2] VAR x type_id=1 linkage=5 Linkage not supported" },
	{ "var_void", W(BB_TYPE(S_X, BB_INFO(BTF_KIND_VAR, 0, 0), 0), 0), NOP, 0, EINVAL,
	  "[1] VAR x type_id=0 linkage=0 Invalid type_id" },
	{ "datasec_size_zero", W(BB_TYPE(S_DATA, BB_INFO(BTF_KIND_DATASEC, 0, 0), 0)), NOP, 0, EINVAL,
	  "[1] DATASEC .data size=0 vlen=0 size == 0" },
	{ "datasec_member_not_var", W(INT32, BB_TYPE(S_DATA, BB_INFO(BTF_KIND_DATASEC, 0, 1), 4), 1, 0, 4), NOP, 0,
	  EINVAL, "\t type_id=1 offset=0 size=4 Not a VAR kind member" },
	{ "datasec_offset_past_size", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_VAR, 0, 0), 1), 0,
					BB_TYPE(S_DATA, BB_INFO(BTF_KIND_DATASEC, 0, 1), 4), 2, 4, 4), NOP, 0,
	  EINVAL, "\t type_id=2 offset=4 size=4 Invalid offset" },
	{ "float_bad_size", W(BB_TYPE(S_X, BB_INFO(BTF_KIND_FLOAT, 0, 0), 3)), NOP, 0, EINVAL,
	  "[1] FLOAT x size=3 Invalid type_size" },
	{ "decl_tag_no_value", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_DECL_TAG, 0, 0), 1), (__u32)-1), NOP, 0, EINVAL,
	  "[2] DECL_TAG (anon) type=1 component_idx=-1 Invalid value" },
	{ "decl_tag_bad_component", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_DECL_TAG, 0, 0), 1), (__u32)-2), NOP, 0,
	  EINVAL, "[2] DECL_TAG x type=1 component_idx=-2 Invalid component_idx" },
	{ "decl_tag_on_int", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_DECL_TAG, 0, 0), 1), (__u32)-1), NOP, 0, EINVAL,
	  "[2] DECL_TAG x type=1 component_idx=-1 Invalid type_id" },
	{ "type_tag_no_name", W(INT32, BB_TYPE(0, BB_INFO(BTF_KIND_TYPE_TAG, 0, 0), 1)), NOP, 0, EINVAL,
	  "[2] TYPE_TAG (anon) type_id=1 Invalid name" },
	{ "type_tag_after_const", W(INT32, BB_TYPE(S_X, BB_INFO(BTF_KIND_TYPE_TAG, 0, 0), 1),
				    BB_TYPE(0, BB_INFO(BTF_KIND_CONST, 0, 0), 2),
				    BB_TYPE(S_V, BB_INFO(BTF_KIND_TYPE_TAG, 0, 0), 3)), NOP, 0, EINVAL,
	  "Type tags don't precede modifiers" },
};

#endif
