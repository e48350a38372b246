/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/ffi.c: user functions for programs, called through libffi.
 *
 * Tests want deterministic time, randomness and ids, and sometimes a kfunc
 * bpfemu does not have. BPFEMU_FUNCS=a.so[:b.so...] (or bpfemu_funcs_load())
 * loads shared objects whose exported functions stand in for helpers by
 * name (bpf_ktime_get_ns, bpf_get_prandom_u32, ...) or implement the kfuncs
 * a program declares __ksym; bpfemu_func_set() registers one by pointer. A
 * helper can be replaced when its line in helper_table.h gives its C
 * prototype; a kfunc, when it is a function of the kernel's BTF (libbpf
 * resolves a __ksym there: its id is what the program calls).
 *
 * The call is built once per call site, when the program is decoded: a
 * libffi call interface (ffi_cif) from the prototype, the kfunc's in the
 * program's own BTF (libbpf keeps the extern's FUNC), else vmlinux's, else
 * the helper's from the table: argument widths and signedness (a register
 * holds 64 bits; a u16 parameter gets the low 16, an s8 the low 8 sign-
 * extended), the return type (narrow results sign- or zero-extended into
 * R0, void: 0). Pointer arguments are checked against the run's regions
 * before the call: a sized pointer (the helper's size argument, a kfunc
 * parameter named ...__sz / ...__szk after it, else the size of the
 * pointed-to type; void *: one byte) must lie in memory the program may read
 * (const) or read and write; a parameter named ...__ign, ...__nullable or
 * ...__opt may also be NULL where the kernel lets it. A pointer that fails
 * ends the run with EFAULT and a log line, as the program's own access would.
 * Struct and float parameters are refused at decode (the kernel's kfuncs
 * take neither by value).
 *
 * kfuncs bpfemu provides itself (the table below): the numbers iterator
 * (bpf_iter_num_new/next/destroy, what bpf_for and bpf_repeat expand to),
 * the dynptr kfuncs over a run's packet (dynptr.c),
 * the RCU and preemption brackets (no-ops: a run is one thread that nothing
 * preempts). A user
 * function of the same name wins. A user function also lets a program load
 * that calls a kfunc the kernel would refuse it (the XDP metadata kfuncs
 * outside device-bound programs, say): it is a test's stand-in, and the
 * type checks of kfunc calls are the verifier's (emu/verifier).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ffi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm_int.h"
#include "../os_errno.h"
#include "../helpers.h"

/* ---- the registry of user functions ---- */

struct ufn {
	char *name;
	void *fn;
	struct ufn *next;
};
static struct ufn *ufns;
static void **handles;
static size_t nhandles;
static pthread_mutex_t ufn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static int load_locked(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		EMU_LOG(EMU_LOG_VM | EMU_LOG_SYS, "user functions: cannot load %s: %s", path, dlerror());
		return -ENOENT;
	}
	void **nh = realloc(handles, (nhandles + 1) * sizeof(*nh));
	if (!nh) {
		dlclose(h);
		return -ENOMEM;
	}
	handles = nh;
	handles[nhandles++] = h;
	EMU_LOG(EMU_LOG_VM, "user functions: %s loaded", path);
	return 0;
}

static void env_load(void)
{
	const char *e = getenv("BPFEMU_FUNCS");
	if (!e || !*e)
		return;
	char *copy = strdup(e), *save = NULL;
	if (!copy)
		return;
	pthread_mutex_lock(&ufn_lock);
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		load_locked(p);
	pthread_mutex_unlock(&ufn_lock);
	free(copy);
}

/* the user function called name, or NULL */
static void *user_fn(const char *name)
{
	pthread_once(&env_once, env_load);
	void *fn = NULL;
	pthread_mutex_lock(&ufn_lock);
	for (struct ufn *u = ufns; u && !fn; u = u->next)
		if (!strcmp(u->name, name))
			fn = u->fn;
	for (size_t i = nhandles; !fn && i-- > 0;)
		fn = dlsym(handles[i], name);
	pthread_mutex_unlock(&ufn_lock);
	return fn;
}

int bpfemu_funcs_load(const char *path) __attribute__((visibility("default")));
int bpfemu_funcs_load(const char *path)
{
	pthread_once(&env_once, env_load);
	if (!path) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&ufn_lock);
	int err = load_locked(path);
	pthread_mutex_unlock(&ufn_lock);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

int bpfemu_func_set(const char *name, void (*fn)(void)) __attribute__((visibility("default")));
int bpfemu_func_set(const char *name, void (*fn)(void))
{
	pthread_once(&env_once, env_load);
	if (!name || !*name) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&ufn_lock);
	struct ufn **pp = &ufns;
	while (*pp && strcmp((*pp)->name, name))
		pp = &(*pp)->next;
	if (*pp) {
		if (fn) {
			(*pp)->fn = (void *)fn;
		} else {
			struct ufn *u = *pp;
			*pp = u->next;
			free(u->name);
			free(u);
		}
	} else if (fn) {
		struct ufn *u = calloc(1, sizeof(*u));
		if (!u || !(u->name = strdup(name))) {
			free(u);
			pthread_mutex_unlock(&ufn_lock);
			errno = ENOMEM;
			return -1;
		}
		u->fn = (void *)fn;
		u->next = ufns;
		ufns = u;
	}
	pthread_mutex_unlock(&ufn_lock);
	return 0;
}

/* ---- call bindings ---- */

enum { A_INT, A_PTR, A_OPAQUE };
struct arg {
	__u8 kind;                     /* A_INT, A_PTR (checked), A_OPAQUE (passed as it is) */
	__u8 size;                     /* A_INT: 1, 2, 4, 8 */
	bool sign;
	bool nullable;
	__u32 acc;                     /* A_PTR: VM_RD or VM_RW */
	__s8 size_arg;                 /* A_PTR: the argument giving its size, or -1 */
	__u32 fixed;                   /* A_PTR: else this size (the pointee's) */
	bool string;                   /* A_PTR: NUL-terminated within its region (..__str) */
};

struct vm_ffi_bind {
	const char *name;              /* the helper's or kfunc's */
	void *fn;
	ffi_cif cif;
	ffi_type *atypes[5];
	__u8 nargs;
	struct arg args[5];
	__u8 ret_kind;                 /* A_INT, A_PTR (raw value), A_OPAQUE: void */
	__u8 ret_size;
	bool ret_sign;
	struct vm_ffi_bind *next;      /* the program's list (freed with it) */
};

static ffi_type *int_type(__u8 size, bool sign)
{
	switch (size) {
	case 1: return sign ? &ffi_type_sint8 : &ffi_type_uint8;
	case 2: return sign ? &ffi_type_sint16 : &ffi_type_uint16;
	case 4: return sign ? &ffi_type_sint32 : &ffi_type_uint32;
	default: return sign ? &ffi_type_sint64 : &ffi_type_uint64;
	}
}

static int bind_finish(struct vm_ffi_bind *b)
{
	for (__u8 i = 0; i < b->nargs; i++)
		b->atypes[i] = b->args[i].kind == A_INT ? int_type(b->args[i].size, b->args[i].sign) : &ffi_type_pointer;
	ffi_type *rt = b->ret_kind == A_OPAQUE ? &ffi_type_void
		       : b->ret_kind == A_PTR ? &ffi_type_pointer
					      : int_type(b->ret_size, b->ret_sign);
	return ffi_prep_cif(&b->cif, FFI_DEFAULT_ABI, b->nargs, rt, b->atypes) == FFI_OK ? 0 : -EINVAL;
}

/* "u64(p:w2,u32)": a helper's prototype in helper_table.h */
static int parse_sig(const char *sig, struct vm_ffi_bind *b)
{
	const char *s = sig;
	struct arg ret = { 0 };
	int n = -1;
	while (*s) {
		struct arg a = { .kind = A_INT, .size = 8, .size_arg = -1, .acc = VM_RD };
		char tok[16];
		size_t l = strcspn(s, "(),");
		if (l >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, s, l);
		tok[l] = '\0';
		s += l;
		if (!strcmp(tok, "void"))
			a.kind = A_OPAQUE;
		else if (tok[0] == 'u' || tok[0] == 's') {
			a.sign = tok[0] == 's';
			a.size = (__u8)(atoi(tok + 1) / 8);
			if (a.size != 1 && a.size != 2 && a.size != 4 && a.size != 8)
				return -EINVAL;
		} else if (tok[0] == 'p' && tok[1] == ':' && (tok[2] == 'r' || tok[2] == 'w')) {
			a.kind = A_PTR;
			a.acc = tok[2] == 'w' ? VM_RW : VM_RD;
			if (tok[3] == '=')
				a.fixed = (__u32)atoi(tok + 4);
			else
				a.size_arg = (__s8)(atoi(tok + 3) - 1);
		} else if (!strcmp(tok, "p")) {
			a.kind = A_OPAQUE;
		} else if (l) {
			return -EINVAL;
		}
		if (n < 0)
			ret = a;
		else if (l && n < 5)
			b->args[n] = a;
		if (l && n >= 0)
			n++;
		if (*s == '(')
			n = 0;
		if (*s)
			s++;
	}
	if (n < 0 || n > 5)
		return -EINVAL;
	b->nargs = (__u8)n;
	b->ret_kind = ret.kind;
	b->ret_size = ret.size;
	b->ret_sign = ret.sign;
	return bind_finish(b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);
	return l >= k && !strcmp(s + l - k, suffix);
}

/* a BTF type as an argument or return value; -EOPNOTSUPP for what the VM cannot pass */
static int btf_arg(const struct vm_btf *b, __u32 tid, struct arg *a)
{
	__u32 id = vm_btf_skip_mods(b, tid);
	const struct btf_type *t = vm_btf_type(b, id);
	*a = (struct arg){ .kind = A_OPAQUE, .size_arg = -1, .acc = VM_RD };
	if (!tid || !t)
		return 0;                     /* void */
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT: {
		__u32 enc = *(const __u32 *)(t + 1);
		a->kind = A_INT;
		a->size = (__u8)t->size;
		a->sign = BTF_INT_ENCODING(enc) & BTF_INT_SIGNED;
		return a->size == 1 || a->size == 2 || a->size == 4 || a->size == 8 ? 0 : -EOPNOTSUPP;
	}
	case BTF_KIND_ENUM:
	case 19: /* ENUM64 */
		a->kind = A_INT;
		a->size = (__u8)t->size;
		a->sign = BTF_INFO_KFLAG(t->info);
		return 0;
	case BTF_KIND_PTR: {
		a->kind = A_PTR;
		/* const pointee: read-only */
		__u32 pid = t->type;
		const struct btf_type *pt = vm_btf_type(b, pid);
		bool is_const = false;
		while (pt && (BTF_INFO_KIND(pt->info) == BTF_KIND_CONST || BTF_INFO_KIND(pt->info) == BTF_KIND_VOLATILE ||
			      BTF_INFO_KIND(pt->info) == BTF_KIND_TYPEDEF || BTF_INFO_KIND(pt->info) == BTF_KIND_TYPE_TAG ||
			      BTF_INFO_KIND(pt->info) == BTF_KIND_RESTRICT)) {
			is_const |= BTF_INFO_KIND(pt->info) == BTF_KIND_CONST;
			pid = pt->type;
			pt = vm_btf_type(b, pid);
		}
		a->acc = is_const ? VM_RD : VM_RW;
		__u32 sz = 1;
		if (pt && !vm_btf_size(b, pid, &sz) && sz)
			a->fixed = sz;
		else
			a->fixed = 1;             /* void * (or an incomplete type): its first byte */
		return 0;
	}
	default:
		return -EOPNOTSUPP;           /* structs, unions, floats by value */
	}
}

/* a pointer to a struct holding pointers: a kernel object (a task, a cgroup)
 * the verifier typed as PTR_TO_BTF_ID, not the program's memory */
static bool kernel_object_ptr(const struct vm_btf *b, __u32 tid)
{
	const struct btf_type *t = vm_btf_type(b, vm_btf_skip_mods(b, tid));
	if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_PTR)
		return false;
	t = vm_btf_type(b, vm_btf_skip_mods(b, t->type));
	if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT)
		return false;
	const struct btf_member *m = (const void *)(t + 1);
	for (__u32 i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		const struct btf_type *mt = vm_btf_type(b, vm_btf_skip_mods(b, m[i].type));
		if (mt && BTF_INFO_KIND(mt->info) == BTF_KIND_PTR)
			return true;
	}
	return false;
}

/* from a FUNC of BTF b (names: the same function in names_b, for the __sz rules) */
static int bind_btf(const struct vm_btf *b, __u32 func_id, const struct vm_btf *names_b, __u32 names_id,
		    struct vm_ffi_bind *x)
{
	const struct btf_type *f = vm_btf_type(b, func_id);
	const struct btf_type *proto = f ? vm_btf_type(b, f->type) : NULL;
	if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO)
		return -EINVAL;
	const struct btf_type *nf = names_b ? vm_btf_type(names_b, names_id) : NULL;
	const struct btf_type *nproto = nf ? vm_btf_type(names_b, nf->type) : NULL;
	__u32 n = BTF_INFO_VLEN(proto->info);
	if (n > 5)
		return -E2BIG;
	const struct btf_param *pa = (const void *)(proto + 1);
	const struct btf_param *npa = nproto && BTF_INFO_VLEN(nproto->info) == n ? (const void *)(nproto + 1) : NULL;
	for (__u32 i = 0; i < n; i++) {
		int err = btf_arg(b, pa[i].type, &x->args[i]);
		if (err)
			return err;
		const char *nm = vm_btf_str(b, pa[i].name_off);
		if (!*nm && npa)
			nm = vm_btf_str(names_b, npa[i].name_off);
		const char *next = "";
		if (i + 1 < n) {
			next = vm_btf_str(b, pa[i + 1].name_off);
			if (!*next && npa)
				next = vm_btf_str(names_b, npa[i + 1].name_off);
		}
		struct arg *a = &x->args[i];
		if (a->kind == A_PTR) {
			if (ends_with(next, "__sz") || ends_with(next, "__szk"))
				a->size_arg = (__s8)(i + 1);
			a->nullable = ends_with(nm, "__nullable") || ends_with(nm, "__opt") || ends_with(nm, "__ign");
			a->string = ends_with(nm, "__str");
			if (ends_with(nm, "__ign"))
				a->kind = A_OPAQUE;   /* the kernel does not check it: passed as it is */
			/* the kernel's prototype points to a kernel object: the verifier checked its type */
			if (kernel_object_ptr(b, pa[i].type) || (npa && kernel_object_ptr(names_b, npa[i].type)))
				a->kind = A_OPAQUE;
		}
	}
	x->nargs = (__u8)n;
	struct arg r;
	int err = btf_arg(b, proto->type, &r);
	if (err)
		return err;
	x->ret_kind = r.kind;
	x->ret_size = r.size;
	x->ret_sign = r.sign;
	return bind_finish(x);
}

/* ---- calling ---- */

/* the region check of pointer argument i; true: go ahead */
static bool check_ptr(struct vm_run *run, const struct vm_ffi_bind *b, int i, const __u64 *r)
{
	const struct arg *a = &b->args[i];
	char what[96];
	if (!r[i] && a->nullable)
		return true;
	snprintf(what, sizeof(what), "%s's argument %d", b->name, i + 1);
	if (a->string) {
		const struct vm_region *reg = vm_region_find(run, r[i], 1);
		if (!reg || !memchr((const void *)(uintptr_t)r[i], 0, (size_t)(reg->lo + reg->len - r[i]))) {
			vm_fault(run, -EFAULT, "%s at %#llx is not a string in the program's memory", what,
				 (unsigned long long)r[i]);
			return false;
		}
		return true;
	}
	__u64 len = a->size_arg >= 0 ? (__u32)r[a->size_arg] : a->fixed;
	if (!len)
		return true;
	if (!r[i]) {
		vm_fault(run, -EFAULT, "%s is NULL", what);
		return false;
	}
	return !vm_mem_arg(run, r[i], len, a->acc, what);
}

/* the CALL of a helper or kfunc bound to a user function: the binding is the call's k */
__u64 vm_h_user(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	const struct vm_ffi_bind *b = (const struct vm_ffi_bind *)(uintptr_t)run->map_hint;
	const __u64 r[5] = { r1, r2, r3, r4, r5 };
	union {
		__u8 u8;
		__u16 u16;
		__u32 u32;
		__u64 u64;
		void *p;
	} v[5];
	void *av[5];
	for (int i = 0; i < b->nargs; i++) {
		const struct arg *a = &b->args[i];
		if (a->kind == A_PTR && !check_ptr(run, b, i, r))
			return 0;
		if (a->kind == A_INT) {
			switch (a->size) {
			case 1: v[i].u8 = (__u8)r[i]; break;
			case 2: v[i].u16 = (__u16)r[i]; break;
			case 4: v[i].u32 = (__u32)r[i]; break;
			default: v[i].u64 = r[i]; break;
			}
		} else {
			v[i].p = (void *)(uintptr_t)r[i];
		}
		av[i] = &v[i];
	}
	ffi_arg ret = 0;
	ffi_call((ffi_cif *)&b->cif, FFI_FN(b->fn), &ret, av);
	switch (b->ret_kind) {
	case A_OPAQUE:
		return 0;
	case A_PTR:
		return (__u64)ret;
	default:
		switch (b->ret_size) {
		case 1: return b->ret_sign ? (__u64)(__s64)(__s8)ret : (__u8)ret;
		case 2: return b->ret_sign ? (__u64)(__s64)(__s16)ret : (__u16)ret;
		case 4: return b->ret_sign ? (__u64)(__s64)(__s32)ret : (__u32)ret;
		default: return (__u64)ret;
		}
	}
}

/* ---- bpfemu's own kfuncs ---- */

static __u64 k_noop(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)run; (void)r1; (void)r2; (void)r3; (void)r4; (void)r5;
	return 0;
}

/*
 * The numbers iterator (Linux 6.18 kernel/bpf/bpf_iter.c's semantics):
 * struct bpf_iter_num is 8 bytes of the program's stack, { int cur, end; }.
 * new() fails with -EINVAL for start > end and -E2BIG for more than
 * BPF_MAX_LOOPS numbers (the iterator then yields nothing); next() returns
 * a pointer to cur, NULL when done; destroy() empties it.
 */
#define BPF_MAX_LOOPS (8 * 1024 * 1024)
struct iter_num {
	__s32 cur, end;
};

static struct iter_num *iter_num(struct vm_run *run, __u64 p, const char *fn)
{
	char what[64];
	snprintf(what, sizeof(what), "%s's argument 1", fn);
	return vm_mem_arg(run, p, sizeof(struct iter_num), VM_RW, what) ? NULL : (struct iter_num *)(uintptr_t)p;
}

static __u64 k_iter_num_new(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r4; (void)r5;
	struct iter_num *s = iter_num(run, r1, "bpf_iter_num_new");
	__s32 start = (__s32)r2, end = (__s32)r3;
	if (!s)
		return 0;
	if (start > end) {
		s->cur = s->end = 0;
		return (__u64)(__s64)-EINVAL;
	}
	if ((__s64)end - (__s64)start > BPF_MAX_LOOPS) {
		s->cur = s->end = 0;
		return (__u64)(__s64)-E2BIG;
	}
	s->cur = start - 1;
	s->end = end;
	return 0;
}

static __u64 k_iter_num_next(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct iter_num *s = iter_num(run, r1, "bpf_iter_num_next");
	if (!s)
		return 0;
	if ((__s64)s->cur + 1 >= s->end) {
		s->cur = s->end = 0;
		return 0;
	}
	s->cur++;
	return (__u64)(uintptr_t)&s->cur;
}

static __u64 k_iter_num_destroy(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	(void)r2; (void)r3; (void)r4; (void)r5;
	struct iter_num *s = iter_num(run, r1, "bpf_iter_num_destroy");
	if (s)
		s->cur = s->end = 0;
	return 0;
}

static const struct {
	const char *name;
	vm_helper_fn fn;
} kfuncs[] = {
	{ "bpf_iter_num_new", k_iter_num_new },
	{ "bpf_iter_num_next", k_iter_num_next },
	{ "bpf_iter_num_destroy", k_iter_num_destroy },
	{ "bpf_dynptr_from_skb", vm_k_dynptr_from_skb },
	{ "bpf_dynptr_from_xdp", vm_k_dynptr_from_xdp },
	{ "bpf_dynptr_slice", vm_k_dynptr_slice },
	{ "bpf_dynptr_slice_rdwr", vm_k_dynptr_slice_rdwr },
	{ "bpf_dynptr_adjust", vm_k_dynptr_adjust },
	{ "bpf_dynptr_is_null", vm_k_dynptr_is_null },
	{ "bpf_dynptr_is_rdonly", vm_k_dynptr_is_rdonly },
	{ "bpf_dynptr_size", vm_k_dynptr_size },
	{ "bpf_dynptr_clone", vm_k_dynptr_clone },
	{ "bpf_rcu_read_lock", k_noop },
	{ "bpf_rcu_read_unlock", k_noop },
	{ "bpf_preempt_disable", k_noop },
	{ "bpf_preempt_enable", k_noop },
};

static vm_helper_fn builtin_kfunc(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kfuncs); i++)
		if (!strcmp(kfuncs[i].name, name))
			return kfuncs[i].fn;
	return NULL;
}

/* the name of vmlinux's FUNC btf_id, or NULL */
static const char *kfunc_name(__u32 btf_id)
{
	const struct vm_btf *v = vm_btf_vmlinux();
	const struct btf_type *t = vm_btf_type(v, btf_id);
	if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_FUNC)
		return NULL;
	return vm_btf_str(v, t->name_off);
}

bool emu_vm_kfunc_is_user(__u32 btf_id)
{
	const char *name = kfunc_name(btf_id);
	return name && user_fn(name);
}

bool emu_vm_kfunc_available(__u32 btf_id)
{
	const char *name = kfunc_name(btf_id);
	return name && (builtin_kfunc(name) || user_fn(name));
}

/* ---- decode's side ---- */

void vm_ffi_free(struct vm_ffi_bind *b)
{
	while (b) {
		struct vm_ffi_bind *n = b->next;
		free(b);
		b = n;
	}
}

/* the program's BTF (its prog_btf_fd's), parsed: NULL without one */
static struct vm_btf *prog_btf(const struct vm_prog *p)
{
	__u32 id = p->obj->hdr->prog.btf_id;
	if (!id)
		return NULL;
	int fd = emu_obj_fd_by_id(EMU_KIND_BTF, id, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct emu_obj *o;
	int acc;
	struct vm_btf *b = NULL;
	if (!emu_fd_get_local(fd, EMU_KIND_BTF, &o, &acc)) {
		if (!o->hdr->btf.kernel_btf)
			b = vm_btf_parse(emu_obj_data(o), o->hdr->btf.data_size);
		emu_obj_put(o);
	}
	emu_fd_closed(fd);
	emu_oe_close(fd);
	return b;
}

/* Does a user function stand in for helper id? (a question only: no binding is made) */
bool vm_ffi_helper_replaced(__s32 id)
{
	const char *name = vm_helper_name(id);
	return name && user_fn(name);
}

/*
 * A CALL of helper id: its user function, if there is one and the helper's
 * prototype is known. 0 and *fn / *k set, 1 (none: the helper as it is), or
 * -errno (the binding cannot be made: the program cannot run).
 */
int vm_ffi_helper(struct vm_prog *p, __s32 id, const char *sig, vm_helper_fn *fn, __u64 *k)
{
	if (!sig)
		return 1;
	const char *name = vm_helper_name(id);
	void *uf = user_fn(name);
	if (!uf)
		return 1;
	struct vm_ffi_bind *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->name = name;
	b->fn = uf;
	int err = parse_sig(sig, b);
	if (err) {
		free(b);
		return err;
	}
	b->next = p->binds;
	p->binds = b;
	*fn = vm_h_user;
	*k = (__u64)(uintptr_t)b;
	EMU_LOG(EMU_LOG_VM, "prog '%s' (id %u): %s is the user function", p->name, p->id, name);
	return 0;
}

/*
 * A kfunc CALL (imm: a vmlinux BTF id): 0 and *fn / *k (a user function or
 * bpfemu's own), or -errno with *why (the call cannot run).
 */
int vm_ffi_kfunc(struct vm_prog *p, __u32 btf_id, vm_helper_fn *fn, __u64 *k, const char **why)
{
	const char *name = kfunc_name(btf_id);
	if (!name) {
		*why = "the kfunc's BTF id is not a function of the kernel's BTF";
		return -EINVAL;
	}
	void *uf = user_fn(name);
	if (!uf) {
		vm_helper_fn own = builtin_kfunc(name);
		if (!own) {
			*why = "a kfunc neither bpfemu nor a user function (BPFEMU_FUNCS) provides";
			return -EOPNOTSUPP;
		}
		*fn = own;
		*k = 0;
		return 0;
	}
	struct vm_ffi_bind *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->name = name;
	b->fn = uf;
	/* the prototype: the program's BTF declares the extern; vmlinux's names its parameters */
	const struct vm_btf *v = vm_btf_vmlinux();
	struct vm_btf *pb = p->btf ? p->btf : (p->btf = prog_btf(p));
	__u32 pid = pb ? vm_btf_find(pb, name, BTF_KIND_FUNC) : 0;
	int err = pid ? bind_btf(pb, pid, v, btf_id, b) : bind_btf(v, btf_id, NULL, 0, b);
	if (err) {
		free(b);
		*why = err == -E2BIG ? "a kfunc with more than 5 arguments"
		       : err == -EOPNOTSUPP ? "a kfunc taking or returning a struct or float by value"
					    : "the kfunc's prototype cannot be read";
		return err;
	}
	b->next = p->binds;
	p->binds = b;
	*fn = vm_h_user;
	*k = (__u64)(uintptr_t)b;
	EMU_LOG(EMU_LOG_VM, "prog '%s' (id %u): kfunc %s is the user function (%s prototype)", p->name, p->id, name,
		pid ? "the program's" : "vmlinux's");
	return 0;
}
