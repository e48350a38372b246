/* SPDX-License-Identifier: MIT */
/*
 * tools/btfread.h: a small, checking reader of raw BTF (the .BTF section of
 * a BPF object), enough for `bpfemu load` to read BTF-defined maps. Every
 * offset, length and type id is checked, so a corrupt section gives an error
 * message, never a wild read.
 */
#ifndef BPFEMU_BTFREAD_H
#define BPFEMU_BTFREAD_H

#include <linux/btf.h>
#include <stddef.h>

struct btfr {
	void *buf;                        /* our aligned copy of the section */
	size_t size;
	const char *strs;
	__u32 str_len;
	const struct btf_type **types;    /* [0] is void (NULL) */
	__u32 ntypes;                     /* including void */
};

/* 0, or -EINVAL with a reason in err. */
int btfr_parse(struct btfr *b, const void *data, size_t size, char *err, size_t errlen);
void btfr_free(struct btfr *b);

/* NULL for void or an id out of range. */
const struct btf_type *btfr_type(const struct btfr *b, __u32 id);
/* "" for an offset out of range. */
const char *btfr_name(const struct btfr *b, __u32 off);
/* Follows typedef, const, volatile, restrict and type tags; *id gets the final id. */
const struct btf_type *btfr_skip_mods(const struct btfr *b, __u32 *id);
/* The size in bytes of type id, or -EINVAL. */
long btfr_size(const struct btfr *b, __u32 id);

static inline unsigned int btfr_kind(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static inline unsigned int btfr_vlen(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }

#endif
