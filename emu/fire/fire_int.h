/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/fire_int.h: the parts of the firer (emu/fire), shared by its files.
 *
 *   btf.c      the kernel's BTF as the firer asks it (types, members, protos)
 *   mem.c      the event's memory: kernel objects and the task's user memory
 *   value.c    name=value: parsing values into fields typed by BTF or by a
 *              tracepoint format; paths through kernel objects (prev.comm)
 *   format.c   tracepoint formats: tracefs, the kernel's BTF, syscalls.h
 *   fire.c     events: what is attached (emu_attach_foreach), the context
 *              each program type sees, the runs (emu_vm_run_event)
 */
#ifndef BPFEMU_FIRE_INT_H
#define BPFEMU_FIRE_INT_H

#include <linux/btf.h>
#include <stdbool.h>
#include <stddef.h>

#include "../btf.h"
#include "../obj.h"
#include "../vm/vm.h"
#include "fire.h"

/* ---- btf.c ---- */
struct fb_member {
	__u32 type;
	__u32 bit_off, bit_size;       /* bit_size 0: not a bitfield */
};
bool fb_have(void);                    /* the kernel's BTF can be read */
const struct btf_type *fb_type(__u32 id);
const char *fb_name(__u32 id);
__u32 fb_kind(__u32 id);
__u32 fb_vlen(__u32 id);
__u32 fb_find(const char *name, int kind);     /* kind -1: any; 0: none */
__u32 fb_strip(__u32 id);              /* through typedefs and qualifiers */
__s64 fb_size(__u32 id);
bool fb_int(__u32 id, __u32 *size, bool *sign);  /* integers and enums */
bool fb_is_char(__u32 id);
bool fb_array(__u32 id, __u32 *elem, __u32 *nelems);
__u32 fb_pointee(__u32 id);            /* 0: not a pointer, or void * */
bool fb_is_composite(__u32 id);
int fb_member(__u32 sid, const char *name, struct fb_member *out);
__u32 fb_proto(__u32 id);              /* the FUNC_PROTO of a FUNC or function pointer */
const struct btf_param *fb_params(__u32 proto, __u32 *n);
const char *fb_param_name(const struct btf_param *p);
bool fb_enum_value(__u32 eid, const char *name, __s64 *v);
void fb_type_str(__u32 id, char *buf, size_t len);

/* ---- mem.c: the rings the programs see as kernel memory or as the tasks' user memory ---- */
struct fmem {
	void *hdr;                     /* the ring's head page (NULL: not mapped) */
	unsigned char *base;           /* its objects */
	size_t cap;
	char root[PATH_MAX];           /* the state root it belongs to */
};
/* <root>/fire/NAME mapped at addr (the same in every process of the state root). */
int fmem_init(struct fmem *m, const char *name, __u64 addr, size_t cap);
void fmem_free(struct fmem *m);
void *fmem_alloc(struct fmem *m, size_t size, size_t align);   /* zeroed; NULL when too big */
bool fmem_has(const struct fmem *m, __u64 addr, __u64 len);

/* ---- value.c ---- */
/* What a field is, for its value: from BTF, or from a tracepoint format. */
enum ft_kind { FT_INT, FT_CHARS, FT_PTR, FT_ARRAY, FT_DATALOC, FT_BTF };
struct ftype {
	__u8 kind;                     /* enum ft_kind */
	bool sign;
	bool user;                     /* pointers: strings and lists go to the task's user memory */
	__u32 size;                    /* bytes of the field (FT_ARRAY: the whole array) */
	__u32 elem;                    /* FT_ARRAY: bytes of an element (integers) */
	__u32 btf;                     /* FT_BTF: the type; FT_PTR/FT_INT from BTF: the type, else 0 */
	__u32 ptr_depth;               /* FT_PTR: 1 for "char *", 2 for "char **", else 0 */
	bool rel;                      /* FT_DATALOC: __rel_loc (offset from the field's end) */
};

/* The event being fired: its world and what was asked. */
struct fire_world {
	struct fmem kmem, umem;
	__u64 current;                 /* the task_struct of the event's task (0: no BTF) */
	char *err;                     /* the message of the last failure */
	size_t err_len;
};
int fire_fail(struct fire_world *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes value into the field at dst (ft, size bytes). 0 or -errno (message in w). */
int fv_put(struct fire_world *w, void *dst, const struct ftype *ft, const char *value, const char *what);
/* The ftype of a BTF type (user: pointers to strings go to user memory). */
struct ftype fv_btf_type(__u32 id, bool user);
/* Follows path ("comm", "real_parent.tgid", "se.vruntime", "args[1]") from an
 * object of BTF type sid at addr; pointers on the way to structs that are 0
 * get a new zeroed object. 0 with *leaf and its type, or -errno. */
int fv_path(struct fire_world *w, __u64 addr, __u32 sid, const char *path, __u64 *leaf, __u32 *type, struct fb_member *bits,
	    const char *what);
/* path=value on an object (fv_path then fv_put, bitfields included). */
int fv_assign(struct fire_world *w, __u64 addr, __u32 sid, const char *path, const char *value, bool user, const char *what);
/* A new zeroed kernel object of BTF type sid (its address, 0 if full). */
__u64 fv_object(struct fire_world *w, __u32 sid);
/* Parses an integer (decimal, 0x hex, 0 octal, negative, 'c', true/false, an
 * enumerator of enum eid or of any kernel enum): 0 or -EINVAL. */
int fv_int(const char *s, __u32 eid, __s64 *v);

/* ---- format.c: tracepoint formats ---- */
struct tp_field {
	char name[64];
	char type[96];                 /* as the format file declares it, without the name ("char", "const char *") */
	char suffix[16];               /* after the name: "[16]" for arrays, else "" */
	__u32 off;
	struct ftype t;
};
struct tp_format {
	char cat[64], name[128];
	__u32 id;                      /* common_type */
	__u32 size;                    /* the fixed part, through the last field */
	struct tp_field *f;
	__u32 nr;
	const char *source;            /* "tracefs", "the kernel's BTF", "bpfemu's syscall table" */
	__s32 syscall_nr;              /* syscalls/sys_{enter,exit}_*: the syscall's number (-1: none) */
};
/* 0, or -ENOENT (no format anywhere: only raw arguments can be given). */
int tp_format_get(const char *cat, const char *name, struct tp_format *f);
void tp_format_free(struct tp_format *f);
const struct tp_field *tp_field(const struct tp_format *f, const char *name);
/* the raw tracepoint's argument proto (btf_trace_<name>'s, names from
 * __bpf_trace_<name or its template>); 0 without one */
__u32 tp_raw_proto(const char *name, char *tmpl, size_t len);

/* ---- syscalls.h (generated from tracefs by tools/gen/syscall-table) ---- */
struct fire_syscall {
	const char *name;
	int nr;
	const char *args;              /* "type name;type name;..." as the format files show them */
};
extern const struct fire_syscall fire_syscalls[];
extern const unsigned int fire_nr_syscalls;

#endif
