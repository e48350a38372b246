/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/vbtf.c: reading BTF for the VM: the kernel's (vmlinux, for the
 * layout of the kernel objects some program types see: netfilter's sk_buff,
 * struct_ops state, fentry arguments) and a program's own (the prototypes of
 * the kfuncs it declares, which user functions are called with through
 * libffi).
 *
 * Read-only views over raw BTF: a type index by id, lookups by name and
 * kind, modifiers and typedefs skipped, sizes, and struct members found
 * through anonymous structs and unions (sk_buff keeps most of its fields in
 * them). Loading already checked a program's BTF; vmlinux's is the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm_int.h"
#include "../os_errno.h"
#include "../btf.h"
#include "../btf_layout.h"

struct vm_btf {
	char *data;
	size_t size;
	const char *types, *strs;
	__u32 str_len;
	__u32 *off;                    /* offset of type id (1-based) in types */
	__u32 nr;                      /* the number of types + 1 */
	bool shared;                   /* off is emu_kernel_btf_offsets()' */
};

static size_t extra(const struct btf_type *t)
{
	long n = emu_btf_type_extra(t);
	return n < 0 ? 0 : (size_t)n;
}

/* takes data (malloc'ed) over; with kpath (the kernel's file), borrows data
 * and the type index from emu_kernel_btf_file() and _offsets() */
static struct vm_btf *parse(char *data, size_t size, const char *kpath)
{
	struct vm_btf *b = calloc(1, sizeof(*b));
	const struct btf_header *h = (const void *)data;
	if (!b || size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len > size ||
	    (__u64)h->hdr_len + h->type_off + h->type_len > size || (__u64)h->hdr_len + h->str_off + h->str_len > size)
		goto bad;
	b->data = kpath ? NULL : data;        /* freed with b: only what it owns */
	b->size = size;
	b->types = data + h->hdr_len + h->type_off;
	b->strs = data + h->hdr_len + h->str_off;
	b->str_len = h->str_len;
	if (kpath) {
		const __u32 *off = emu_kernel_btf_offsets(kpath, &b->nr);
		if (!off)
			goto bad;
		b->off = (__u32 *)off;
		b->shared = true;
		return b;
	}
	__u32 cap = 1024, n = 1;
	b->off = malloc(cap * sizeof(*b->off));
	if (!b->off)
		goto bad;
	for (__u32 o = 0; o + sizeof(struct btf_type) <= h->type_len;) {
		const struct btf_type *t = (const void *)(b->types + o);
		if (n == cap) {
			__u32 *no = realloc(b->off, (cap *= 2) * sizeof(*b->off));
			if (!no)
				goto bad;
			b->off = no;
		}
		b->off[n++] = o;
		o += (__u32)(sizeof(*t) + extra(t));
	}
	b->nr = n;
	return b;
bad:
	if (b && !b->shared)
		free(b->off);
	free(b);
	if (!kpath)
		free(data);
	return NULL;
}

struct vm_btf *vm_btf_parse(const void *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	if (!copy)
		return NULL;
	memcpy(copy, data, size);
	return parse(copy, size, NULL);
}

void vm_btf_free(struct vm_btf *b)
{
	if (!b)
		return;
	if (!b->shared)
		free(b->off);
	free(b->data);
	free(b);
}

static pthread_once_t vmlinux_once = PTHREAD_ONCE_INIT;
static struct vm_btf *vmlinux;

static void vmlinux_load(void)
{
	const char *dir = getenv("BPFEMU_KERNEL_BTF");
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmlinux", dir && *dir ? dir : "/sys/kernel/btf");
	/* the engine's one copy of the file (read once per process, never freed) */
	size_t len;
	const char *data = emu_kernel_btf_file(path, &len);
	if (!data)
		return;
	vmlinux = parse((char *)data, len, path);
}

const struct vm_btf *vm_btf_vmlinux(void)
{
	pthread_once(&vmlinux_once, vmlinux_load);
	return vmlinux;
}

const struct btf_type *vm_btf_type(const struct vm_btf *b, __u32 id)
{
	return b && id && id < b->nr ? (const struct btf_type *)(b->types + b->off[id]) : NULL;
}

const char *vm_btf_str(const struct vm_btf *b, __u32 off)
{
	return b && off < b->str_len ? b->strs + off : "";
}

__u32 vm_btf_find(const struct vm_btf *b, const char *name, __u32 kind)
{
	for (__u32 id = 1; b && id < b->nr; id++) {
		const struct btf_type *t = vm_btf_type(b, id);
		if (BTF_INFO_KIND(t->info) == kind && !strcmp(vm_btf_str(b, t->name_off), name))
			return id;
	}
	return 0;
}

__u32 vm_btf_skip_mods(const struct vm_btf *b, __u32 id)
{
	for (int depth = 0; depth < 32; depth++) {
		const struct btf_type *t = vm_btf_type(b, id);
		if (!t)
			return id;
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return id;
}

int vm_btf_size(const struct vm_btf *b, __u32 id, __u32 *size)
{
	for (int depth = 0; depth < 32; depth++) {
		id = vm_btf_skip_mods(b, id);
		const struct btf_type *t = vm_btf_type(b, id);
		if (!t)
			return -EINVAL;
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_ENUM: case 19:
		case BTF_KIND_FLOAT: case BTF_KIND_DATASEC:
			*size = t->size;
			return 0;
		case BTF_KIND_PTR:
			*size = 8;
			return 0;
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = (const void *)(t + 1);
			__u32 es;
			if (vm_btf_size(b, a->type, &es))
				return -EINVAL;
			*size = es * a->nelems;
			return 0;
		}
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}

int vm_btf_member(const struct vm_btf *b, __u32 sid, const char *name, __u32 *off, __u32 *size)
{
	const struct btf_type *t = vm_btf_type(b, vm_btf_skip_mods(b, sid));
	if (!t || (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT && BTF_INFO_KIND(t->info) != BTF_KIND_UNION))
		return -ENOENT;
	const struct btf_member *m = (const void *)(t + 1);
	bool kflag = BTF_INFO_KFLAG(t->info);
	for (__u32 i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		__u32 bit = kflag ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
		__u32 bsz = kflag ? BTF_MEMBER_BITFIELD_SIZE(m[i].offset) : 0;
		if (!m[i].name_off) {
			__u32 o, s;
			if (!vm_btf_member(b, m[i].type, name, &o, &s)) {
				*off = bit / 8 + o;
				*size = s;
				return 0;
			}
			continue;
		}
		if (strcmp(vm_btf_str(b, m[i].name_off), name))
			continue;
		if (bsz || bit % 8)
			return -EOPNOTSUPP;       /* a bitfield */
		*off = bit / 8;
		return vm_btf_size(b, m[i].type, size);
	}
	return -ENOENT;
}
