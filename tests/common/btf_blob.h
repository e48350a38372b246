/* SPDX-License-Identifier: MIT */
/*
 * tests/common/btf_blob.h: a raw BTF blob for BPF_BTF_LOAD, built from a
 * type section and a string section (header-only, for tests that issue raw
 * bpf() calls without libbpf).
 *
 *	struct test_btf b;
 *	union bpf_attr a;
 *	test_btf_spin_lock(&b);      (or test_btf_make(&b, types, ..., strs, ...))
 *	test_btf_attr(&a, &b);       a zeroed attr with btf and btf_size set
 */
#ifndef BPFEMU_TESTS_BTF_BLOB_H
#define BPFEMU_TESTS_BTF_BLOB_H

#include <linux/bpf.h>
#include <linux/btf.h>
#include <string.h>

struct test_btf {
	__u32 size;
	_Alignas(8) unsigned char bytes[512];
};

/* header, types, strings; sizes in bytes. Aborts on a blob too large for
 * the buffer (a test's own mistake). */
static inline void test_btf_make(struct test_btf *b, const __u32 *types, __u32 types_len,
				 const char *strs, __u32 strs_len)
{
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = types_len, .str_off = types_len, .str_len = strs_len,
	};
	if (sizeof(h) + types_len + strs_len > sizeof(b->bytes))
		__builtin_trap();
	memset(b, 0, sizeof(*b));
	memcpy(b->bytes, &h, sizeof(h));
	memcpy(b->bytes + sizeof(h), types, types_len);
	memcpy(b->bytes + sizeof(h) + types_len, strs, strs_len);
	b->size = (__u32)sizeof(h) + types_len + strs_len;
}

/* libbpf's load_local_storage_btf() (also what bpftool's feature probe
 * loads for the local storages): int [1]; struct bpf_spin_lock { int val; }
 * [2]; struct val { int cnt; struct bpf_spin_lock l; } [3] */
static inline void test_btf_spin_lock(struct test_btf *b)
{
	static const char strs[] = "\0bpf_spin_lock\0val\0cnt\0l";
	static const __u32 types[] = {
		0, 1u << 24, 4, (1u << 24) | 32,                  /* [1] int, signed, 32 bits */
		1, (4u << 24) | 1, 4, 15, 1, 0,                   /* [2] struct bpf_spin_lock */
		15, (4u << 24) | 2, 8, 19, 1, 0, 23, 2, 32,       /* [3] struct val */
	};
	test_btf_make(b, types, sizeof(types), strs, sizeof(strs));
}

static inline void test_btf_attr(union bpf_attr *a, const struct test_btf *b)
{
	memset(a, 0, sizeof(*a));
	a->btf = (__u64)(unsigned long)b->bytes;
	a->btf_size = b->size;
}

#endif
