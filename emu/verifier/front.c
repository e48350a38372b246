/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/front.c: what bpf_check() looks at before it walks a path,
 * in Linux 6.18's order: the func_info records (check_btf_info_early), calls
 * and subprograms (add_subprog_and_kfunc), jumps inside their subprogram
 * (check_subprogs), func_info against the subprograms and line_info
 * (check_btf_info), then instruction by instruction ld_imm64 pairs, map fds
 * and the opcode table (resolve_pseudo_ldimm64). Every error is the
 * kernel's errno with its log line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/btf.h>

#include "env.h"
#include "helper_protos.h"
#include "../btf_layout.h"
#include "../map.h"
#include "../vm/vm.h"

#define MIN_FUNCINFO_SIZE 8u
#define MAX_FUNCINFO_REC_SIZE 252u
#define MIN_LINEINFO_SIZE 16u
#define MAX_LINEINFO_REC_SIZE 252u

/* The program's BTF (prog_btf_fd), indexed by type id. */
struct pbtf_view {
	struct emu_obj *obj;
	const unsigned char *types, *strs;
	__u32 types_len, str_len, nr;
	const struct btf_type **by_id;
};

/* the program's BTF passed emu/btf.c's checks: every kind is a known one */
static __u32 btf_type_extra(const struct btf_type *t)
{
	long n = emu_btf_type_extra(t);
	return n < 0 ? 0 : (__u32)n;
}

static int pbtf_open(struct emu_obj *btf, struct pbtf_view **out)
{
	const unsigned char *raw = emu_obj_data(btf);
	struct btf_header h;
	struct pbtf_view *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (btf->hdr->btf.data_size < sizeof(h)) {
		free(b);
		return -EINVAL;
	}
	memcpy(&h, raw, sizeof(h));
	b->obj = btf;
	b->types = raw + h.hdr_len + h.type_off;
	b->types_len = h.type_len;
	b->strs = raw + h.hdr_len + h.str_off;
	b->str_len = h.str_len;
	__u32 cap = 1 + h.type_len / sizeof(struct btf_type);
	b->by_id = calloc(cap, sizeof(*b->by_id));
	if (!b->by_id) {
		free(b);
		return -ENOMEM;
	}
	b->nr = 1;
	for (__u32 off = 0; off + sizeof(struct btf_type) <= h.type_len && b->nr < cap;) {
		const struct btf_type *t = (const void *)(b->types + off);
		b->by_id[b->nr++] = t;
		off += sizeof(*t) + btf_type_extra(t);
	}
	*out = b;
	return 0;
}

static void pbtf_close(struct pbtf_view *b)
{
	if (!b)
		return;
	free(b->by_id);
	if (b->obj)
		emu_obj_put(b->obj);
	free(b);
}

static const struct btf_type *pbtf_type(const struct pbtf_view *b, __u32 id)
{
	return b && id && id < b->nr ? b->by_id[id] : NULL;
}

const char *vbtf_str(const struct venv *env, __u32 off)
{
	const struct pbtf_view *b = env->pbtf;
	if (!b || off >= b->str_len)
		return "";
	return (const char *)b->strs + off;
}

/* btf_type_skip_modifiers(), then btf_type_is_small_int() || btf_is_any_enum() */
static bool btf_scalar(const struct pbtf_view *b, __u32 id)
{
	const struct btf_type *t = pbtf_type(b, id);
	for (int n = 0; t && n < 32; n++) {
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			t = pbtf_type(b, t->type);
			continue;
		case BTF_KIND_INT:
			return t->size <= 8;
		case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
			return true;
		default:
			return false;
		}
	}
	return false;
}

/* bpf_check_uarg_tail_zero() on one user record */
static int rec_tail_zero(const unsigned char *urec, __u32 ksize, __u32 usize)
{
	unsigned char c;
	for (__u32 i = ksize; i < usize; i++) {
		if (emu_copy_from_user(&c, urec + i, 1))
			return -EFAULT;
		if (c)
			return -E2BIG;
	}
	return 0;
}

/* check_btf_info_early(): the BTF object and the func_info records themselves */
int check_btf_info_early(struct venv *env)
{
	const struct emu_verifier_attr *s = env->attr;
	struct emu_obj *btf;
	int acc, err;

	if (!s->func_info_cnt && !s->line_info_cnt)
		return 0;
	err = emu_fd_get((int)s->prog_btf_fd, EMU_KIND_BTF, &btf, &acc);
	if (err)
		return err;                                  /* btf_get_by_fd(): EBADF, EINVAL */
	if (btf->hdr->btf.kernel_btf) {
		emu_obj_put(btf);
		return -EACCES;
	}
	env->btf_id = btf->hdr->id;
	err = pbtf_open(btf, &env->pbtf);
	if (err) {
		emu_obj_put(btf);
		return err;
	}
	if (!s->func_info_cnt)
		return 0;

	/* check_btf_func_early() */
	__u32 urec = s->func_info_rec_size, prev = 0;
	if (urec < MIN_FUNCINFO_SIZE || urec > MAX_FUNCINFO_REC_SIZE || urec % 4) {
		verbose(env, "invalid func info rec size %u\n", urec);
		return -EINVAL;
	}
	env->finfo = calloc(s->func_info_cnt, sizeof(*env->finfo));
	if (!env->finfo)
		return -ENOMEM;
	for (__u32 i = 0; i < s->func_info_cnt; i++) {
		const unsigned char *u = (const unsigned char *)s->func_info + (size_t)i * urec;
		struct bpf_func_info *f = &env->finfo[i];
		err = rec_tail_zero(u, sizeof(*f), urec);
		if (err) {
			if (err == -E2BIG)
				verbose(env, "nonzero tailing record in func info");
			return err;
		}
		if (emu_copy_from_user(f, u, sizeof(*f)))
			return -EFAULT;
		if (i == 0 && f->insn_off) {
			verbose(env, "nonzero insn_off %u for the first func info record", f->insn_off);
			return -EINVAL;
		}
		if (i && f->insn_off <= prev) {
			verbose(env, "same or smaller insn offset (%u) than previous func info record (%u)", f->insn_off,
				prev);
			return -EINVAL;
		}
		const struct btf_type *t = pbtf_type(env->pbtf, f->type_id);
		if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_FUNC) {
			verbose(env, "invalid type id %d in func info", (int)f->type_id);
			return -EINVAL;
		}
		const struct btf_type *proto = pbtf_type(env->pbtf, t->type);
		if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO)
			return -EINVAL;
		prev = f->insn_off;
	}
	env->nr_finfo = s->func_info_cnt;
	return 0;
}

/* ---- subprograms ---- */

int find_subprog(const struct venv *env, int off)
{
	int l = 0, r = (int)env->subprog_cnt - 1;
	while (l <= r) {
		int m = (l + r) / 2;
		if ((int)env->subprog[m].start == off)
			return m;
		if ((int)env->subprog[m].start < off)
			l = m + 1;
		else
			r = m - 1;
	}
	return -ENOENT;
}

struct vsubprog *find_containing_subprog(struct venv *env, int off)
{
	if (off < 0 || (__u32)off >= env->len || !env->subprog_cnt)
		return NULL;
	int l = 0, r = (int)env->subprog_cnt - 1;
	while (l < r) {
		int m = l + (r - l + 1) / 2;
		if ((int)env->subprog[m].start <= off)
			l = m;
		else
			r = m - 1;
	}
	return &env->subprog[l];
}

static int add_subprog(struct venv *env, int off)
{
	if (off < 0 || (__u32)off >= env->len) {
		verbose(env, "call to invalid destination\n");
		return -EINVAL;
	}
	int ret = find_subprog(env, off);
	if (ret >= 0)
		return ret;
	if (env->subprog_cnt >= MAX_SUBPROGS) {
		verbose(env, "too many subprograms\n");
		return -E2BIG;
	}
	__u32 k = env->subprog_cnt;
	while (k > 0 && (int)env->subprog[k - 1].start > off) {
		env->subprog[k] = env->subprog[k - 1];
		k--;
	}
	memset(&env->subprog[k], 0, sizeof(env->subprog[k]));
	env->subprog[k].start = (__u32)off;
	env->subprog_cnt++;
	return (int)k;
}

/*
 * add_subprog_and_kfunc(): bpf-to-bpf calls and callback addresses name an
 * instruction of the program, 256 subprograms at most; kernel function
 * calls: bpfemu has no kernel functions to run (and checks none against its
 * host's BTF), so a kfunc call gets what a kernel answers whose BTF has no
 * function of that id, after the GPL check and the module BTF lookup. Id 0
 * with off 0 is left for dead code elimination (refused after the walk if a
 * path reached it).
 */
int add_subprog_and_kfunc(struct venv *env)
{
	int ret = add_subprog(env, 0);
	if (ret < 0)
		return ret;
	for (__u32 i = 0; i < env->len; i++) {
		const struct bpf_insn *in = &env->insns[i];
		if (bpf_pseudo_func(in) || bpf_pseudo_call(in)) {
			ret = add_subprog(env, (int)(i + (__u32)in->imm + 1u));
			if (ret < 0)
				return ret;
			continue;
		}
		if (!bpf_pseudo_kfunc_call(in))
			continue;
		if (!env->gpl) {
			verbose(env, "cannot call kernel function from non-GPL compatible program\n");
			return -EINVAL;
		}
		if (!in->imm && !in->off)
			continue;
		if (in->off < 0) {
			verbose(env, "negative offset disallowed for kernel module function call\n");
			verbose(env, "failed to find BTF for kernel function\n");
			return -EINVAL;
		}
		if (in->off > 0) {
			verbose(env, "kfunc offset > 0 without fd_array is invalid\n");
			verbose(env, "failed to find BTF for kernel function\n");
			return -EPROTO;
		}
		/* a kfunc bpfemu or a user function provides (emu/vm/ffi.c): it runs */
		if (emu_vm_kfunc_available((__u32)in->imm))
			continue;
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: insn %u calls kernel function btf_id %u: neither bpfemu nor a user "
			"function (BPFEMU_FUNCS) provides it", i, (__u32)in->imm);
		verbose(env, "kernel btf_id %u is not a function\n", (__u32)in->imm);
		return -EINVAL;
	}
	env->subprog[env->subprog_cnt].start = env->len;
	if (env->log.level & BPF_LOG_LEVEL2)
		for (__u32 i = 0; i < env->subprog_cnt; i++)
			verbose(env, "func#%d @%d\n", i, env->subprog[i].start);
	return 0;
}

/* check_subprogs(): jumps inside their subprogram, each ending in exit or a jump */
int check_subprogs(struct venv *env)
{
	__u32 cur = 0, start = env->subprog[0].start, end = env->subprog[1].start;
	for (__u32 i = 0; i < env->len; i++) {
		const struct bpf_insn *in = &env->insns[i];
		__u8 code = in->code, cls = BPF_CLASS(code), op = BPF_OP(code);
		if (code == (BPF_JMP | BPF_CALL) && in->src_reg == 0 && in->imm == BPF_FUNC_tail_call) {
			env->subprog[cur].has_tail_call = true;
			env->subprog[cur].tail_call_reachable = true;
		}
		if (cls == BPF_LD && (BPF_MODE(code) == BPF_ABS || BPF_MODE(code) == BPF_IND))
			env->subprog[cur].has_ld_abs = true;
		if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL) {
			if (op == BPF_EXIT) {
				env->subprog[cur].exit_idx = (int)i;
			} else {
				int t = (int)((__u32)i + (__u32)(code == (BPF_JMP32 | BPF_JA) ? in->imm : in->off) + 1u);
				if (t < (int)start || t >= (int)end) {
					verbose(env, "jump out of range from insn %u to %d\n", i, t);
					return -EINVAL;
				}
			}
		}
		if (i == end - 1) {
			if (code != (BPF_JMP | BPF_EXIT) && code != (BPF_JMP32 | BPF_JA) && code != (BPF_JMP | BPF_JA)) {
				verbose(env, "last insn is not an exit or jmp\n");
				return -EINVAL;
			}
			start = end;
			cur++;
			if (cur < env->subprog_cnt)
				end = env->subprog[cur + 1].start;
		}
	}
	return 0;
}

/* check_abnormal_return(): without func_info no subprogram may use packet loads or tail calls */
static int check_abnormal_return(struct venv *env)
{
	for (__u32 k = 1; k < env->subprog_cnt; k++) {
		if (env->subprog[k].has_ld_abs) {
			verbose(env, "LD_ABS is not allowed in subprogs without BTF\n");
			return -EINVAL;
		}
		if (env->subprog[k].has_tail_call) {
			verbose(env, "tail_call is not allowed in subprogs without BTF\n");
			return -EINVAL;
		}
	}
	return 0;
}

/* check_btf_info(): func_info against the subprograms, then line_info */
int check_btf_info(struct venv *env)
{
	const struct emu_verifier_attr *s = env->attr;

	if (!s->func_info_cnt && !s->line_info_cnt)
		return check_abnormal_return(env);
	if (!s->func_info_cnt) {
		int err = check_abnormal_return(env);
		if (err)
			return err;
	} else {        /* check_btf_func() */
		if (s->func_info_cnt != env->subprog_cnt) {
			verbose(env, "number of funcs in func_info doesn't match number of subprogs\n");
			return -EINVAL;
		}
		for (__u32 k = 0; k < env->subprog_cnt; k++) {
			struct vsubprog *sp = &env->subprog[k];
			if (env->finfo[k].insn_off != sp->start) {
				verbose(env, "func_info BTF section doesn't match subprog layout in BPF program\n");
				return -EINVAL;
			}
			const struct btf_type *t = pbtf_type(env->pbtf, env->finfo[k].type_id);
			const struct btf_type *proto = pbtf_type(env->pbtf, t->type);
			sp->has_func_info = true;
			sp->btf_type_id = env->finfo[k].type_id;
			sp->linkage = BTF_INFO_VLEN(t->info);
			sp->scalar_ret = btf_scalar(env->pbtf, proto->type);
			sp->void_ret = proto->type == 0;
			sp->name = strdup(vbtf_str(env, t->name_off));
			if (!sp->name)
				return -ENOMEM;
			if (k && !sp->scalar_ret && (sp->has_ld_abs || sp->has_tail_call)) {
				verbose(env, "%s is only allowed in functions that return 'int'.\n",
					sp->has_ld_abs ? "LD_ABS" : "tail_call");
				return -EINVAL;
			}
		}
	}

	/* check_btf_line() */
	if (!s->line_info_cnt)
		return 0;
	__u32 urec = s->line_info_rec_size, prev = 0, sub = 0, nsub = env->subprog_cnt;
	if (s->line_info_cnt > INT32_MAX / sizeof(struct bpf_line_info) || urec < MIN_LINEINFO_SIZE ||
	    urec > MAX_LINEINFO_REC_SIZE || urec % 4)
		return -EINVAL;
	env->linfo = calloc(s->line_info_cnt, sizeof(*env->linfo));
	if (!env->linfo)
		return -ENOMEM;
	for (__u32 i = 0; i < s->line_info_cnt; i++) {
		const unsigned char *u = (const unsigned char *)s->line_info + (size_t)i * urec;
		struct bpf_line_info *l = &env->linfo[i];
		int err = rec_tail_zero(u, sizeof(*l), urec);
		if (err) {
			if (err == -E2BIG)
				verbose(env, "nonzero tailing record in line_info");
			return err;
		}
		if (emu_copy_from_user(l, u, sizeof(*l)))
			return -EFAULT;
		if ((i && l->insn_off <= prev) || l->insn_off >= env->len) {
			verbose(env, "Invalid line_info[%u].insn_off:%u (prev_offset:%u prog->len:%u)\n", i, l->insn_off,
				prev, env->len);
			return -EINVAL;
		}
		if (!env->insns[l->insn_off].code) {
			verbose(env, "Invalid insn code at line_info[%u].insn_off\n", i);
			return -EINVAL;
		}
		if (!env->pbtf || l->line_off >= env->pbtf->str_len || l->file_name_off >= env->pbtf->str_len) {
			verbose(env, "Invalid line_info[%u].line_off or .file_name_off\n", i);
			return -EINVAL;
		}
		if (sub != nsub) {
			if (l->insn_off == env->subprog[sub].start) {
				sub++;
			} else if (env->subprog[sub].start < l->insn_off) {
				verbose(env, "missing bpf_line_info for func#%u\n", sub);
				return -EINVAL;
			}
		}
		prev = l->insn_off;
	}
	if (sub != nsub) {
		verbose(env, "missing bpf_line_info for %u funcs starting from func#%u\n", nsub - sub, sub);
		return -EINVAL;
	}
	env->nr_linfo = s->line_info_cnt;
	return 0;
}

/*
 * The opcodes the verifier knows, as Linux 6.18's bpf_opcode_in_insntable()
 * (checked against that kernel for all 256 codes).
 */
static bool opcode_known(__u8 code)
{
	__u8 cls = BPF_CLASS(code), op = BPF_OP(code), mode = BPF_MODE(code);
	bool k = BPF_SRC(code) == BPF_K;

	switch (cls) {
	case BPF_ALU: case BPF_ALU64:
		if (op == BPF_NEG)
			return k;
		if (op == BPF_END)
			return cls == BPF_ALU || k;
		return op <= BPF_ARSH;
	case BPF_JMP: case BPF_JMP32:
		if (op == BPF_JA)
			return k;
		if (op == BPF_CALL || op == BPF_EXIT || op == BPF_JCOND)
			return cls == BPF_JMP && k;
		return op <= BPF_JSLE;
	case BPF_LD:
		return code == (BPF_LD | BPF_IMM | BPF_DW) ||
		       ((mode == BPF_ABS || mode == BPF_IND) && BPF_SIZE(code) != BPF_DW);
	case BPF_LDX:
		return mode == BPF_MEM || (mode == BPF_MEMSX && BPF_SIZE(code) != BPF_DW);
	case BPF_ST:
		return mode == BPF_MEM;
	default:   /* BPF_STX */
		return mode == BPF_MEM || mode == BPF_ATOMIC;
	}
}



static bool is_tracing_prog_type(__u32 type)
{
	return type == BPF_PROG_TYPE_KPROBE || type == BPF_PROG_TYPE_TRACEPOINT || type == BPF_PROG_TYPE_PERF_EVENT ||
	       type == BPF_PROG_TYPE_RAW_TRACEPOINT || type == BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE;
}

/*
 * check_map_prog_compatibility(), for each map the program names the first
 * time: spin locks not in socket filters and tracing programs, no struct_ops
 * maps, sleepable programs only with some map types, one cgroup storage of
 * each kind, one arena. Not here: list heads and rb roots in map values
 * (their BTF records are not kept), an arena's user address.
 */
static bool sleepable_map_ok(__u32 type)
{
	switch (type) {
	case BPF_MAP_TYPE_HASH: case BPF_MAP_TYPE_LRU_HASH: case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH: case BPF_MAP_TYPE_PERCPU_ARRAY: case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS: case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF: case BPF_MAP_TYPE_INODE_STORAGE: case BPF_MAP_TYPE_SK_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE: case MAP_TYPE_CGRP_STORAGE: case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK: case MAP_TYPE_ARENA:
		return true;
	default:
		return false;
	}
}

static int check_map_prog_compatibility(struct venv *env, struct emu_obj *map, const struct emu_map_desc *d)
{
	if (d->special & (EMU_FIELD_SPIN_LOCK | EMU_FIELD_RES_SPIN_LOCK)) {
		if (env->prog_type == BPF_PROG_TYPE_SOCKET_FILTER) {
			verbose(env, "socket filter progs cannot use bpf_spin_lock yet\n");
			return -EINVAL;
		}
		if (is_tracing_prog_type(env->prog_type)) {
			verbose(env, "tracing progs cannot use bpf_spin_lock yet\n");
			return -EINVAL;
		}
	}
	if ((d->special & EMU_FIELD_TIMER) && is_tracing_prog_type(env->prog_type)) {
		verbose(env, "tracing progs cannot use bpf_timer yet\n");
		return -EINVAL;
	}
	if ((d->special & EMU_FIELD_WORKQUEUE) && is_tracing_prog_type(env->prog_type)) {
		verbose(env, "tracing progs cannot use bpf_wq yet\n");
		return -EINVAL;
	}
	if (d->map_type == BPF_MAP_TYPE_STRUCT_OPS) {
		verbose(env, "bpf_struct_ops map cannot be used in prog\n");
		return -EINVAL;
	}
	if (env->sleepable) {
		/* the host's 6.18.44 checks a map-in-map's inner map too, and says so */
		struct emu_map_desc inner;
		bool ok = sleepable_map_ok(d->map_type);
		if (ok && (d->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || d->map_type == BPF_MAP_TYPE_HASH_OF_MAPS) &&
		    !emu_inner_meta_get(map, &inner))
			ok = sleepable_map_ok(inner.map_type);
		if (!ok) {
			verbose(env, "Sleepable programs can only use array, hash, ringbuf and local storage maps, "
				     "also as inner maps\n");
			return -EINVAL;
		}
	}
	if (d->map_type == BPF_MAP_TYPE_CGROUP_STORAGE || d->map_type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE) {
		int kind = d->map_type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
		if (env->cgroup_storage_map[kind] >= 0) {
			verbose(env, "only one cgroup storage of each type is allowed\n");
			return -EBUSY;
		}
		env->cgroup_storage_map[kind] = (int)env->nr_maps;
	}
	if (d->map_type == MAP_TYPE_ARENA) {
		if (env->arena) {
			verbose(env, "Only one arena per program\n");
			return -EBUSY;
		}
		env->arena = true;
	}
	return 0;
}

static int add_used_map(struct venv *env, int fd, __u32 *index)
{
	struct emu_obj *map;
	int acc, err = emu_fd_get(fd, EMU_KIND_MAP, &map, &acc);
	if (err) {
		verbose(env, "fd %d is not pointing to valid bpf_map\n", fd);
		return err;
	}
	for (__u32 k = 0; k < env->nr_maps; k++)
		if (env->maps[k].id == map->hdr->id) {
			emu_obj_put(map);
			*index = k;
			return 0;
		}
	if (env->nr_maps >= MAX_USED_MAPS) {
		emu_obj_put(map);
		verbose(env, "The total number of maps per program has reached the limit of %u\n", MAX_USED_MAPS);
		return -E2BIG;
	}
	const struct emu_map_desc *d = emu_map_desc(map);
	err = check_map_prog_compatibility(env, map, d);
	if (err) {
		emu_obj_put(map);
		return err;
	}
	struct vmap *m = &env->maps[env->nr_maps];
	memset(m, 0, sizeof(*m));
	m->obj = map;
	m->id = map->hdr->id;
	m->type = d->map_type;
	m->key_size = d->key_size;
	m->value_size = d->value_size;
	m->max_entries = d->max_entries;
	m->map_flags = d->map_flags;
	memcpy(m->name, map->hdr->name, sizeof(m->name));
	m->frozen = __atomic_load_n(&d->frozen, __ATOMIC_ACQUIRE) != 0;
	m->rdonly = (d->map_flags & BPF_F_RDONLY_PROG) && m->frozen;
	m->btf_id = d->btf_id;
	m->btf_value_type_id = d->btf_value_type_id;
	m->spin_lock_off = d->spin_lock_off;
	m->special = d->special;
	m->nr_fields = d->nr_fields <= EMU_MAP_FIELDS_MAX ? d->nr_fields : 0;
	memcpy(m->fields, d->fields, sizeof(m->fields));
	if (d->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || d->map_type == BPF_MAP_TYPE_HASH_OF_MAPS) {
		struct emu_map_desc inner;
		m->inner = calloc(1, sizeof(*m->inner));
		if (!m->inner) {
			emu_obj_put(map);
			return -ENOMEM;
		}
		if (!emu_inner_meta_get(map, &inner)) {
			m->inner->type = inner.map_type;
			m->inner->key_size = inner.key_size;
			m->inner->value_size = inner.value_size;
			m->inner->max_entries = inner.max_entries;
			m->inner->map_flags = inner.map_flags;
			m->inner->spin_lock_off = -1;
		}
	}
	*index = env->nr_maps++;
	return 0;
}

/*
 * check_pseudo_btf_id(): an ld_imm64 of a kernel symbol (a __ksym variable
 * or function) by its vmlinux BTF id. What the register gets: a per-CPU
 * variable a PTR_TO_BTF_ID | MEM_PERCPU, a struct a PTR_TO_BTF_ID, anything
 * else read-only memory of its size, a function read-only memory of size 0.
 * The symbol must be in the host's /proc/kallsyms (a kernel without
 * CONFIG_KALLSYMS_ALL lists no variables); module BTF objects: none here.
 */
static int check_pseudo_btf_id(struct venv *env, const struct bpf_insn *insn, struct vaux *aux)
{
	const struct kbtf *b = env->kbtf;
	__u32 id = (__u32)insn->imm;

	if (insn[1].imm) {
		verbose(env, "invalid module BTF object FD specified.\n");
		return -EINVAL;
	}
	if (!b) {
		verbose(env, "kernel is missing BTF, make sure CONFIG_DEBUG_INFO_BTF=y is specified in Kconfig.\n");
		return -EINVAL;
	}
	const struct btf_type *t = kbtf_type(b, id);
	if (!t || !id) {
		verbose(env, "ldimm64 insn specifies invalid btf_id %d.\n", (int)id);
		return -ENOENT;
	}
	if (BTF_INFO_KIND(t->info) != BTF_KIND_VAR && BTF_INFO_KIND(t->info) != BTF_KIND_FUNC) {
		verbose(env, "pseudo btf_id %d in ldimm64 isn't KIND_VAR or KIND_FUNC\n", (int)id);
		return -EINVAL;
	}
	const char *sym = kbtf_name(b, t->name_off);
	if (!kallsyms_has(sym)) {
		verbose(env, "ldimm64 failed to find the address for kernel symbol '%s'.\n", sym);
		return -ENOENT;
	}
	if (BTF_INFO_KIND(t->info) == BTF_KIND_FUNC) {
		aux->btf_var.reg_type = PTR_TO_MEM | MEM_RDONLY;
		aux->btf_var.mem_size = 0;
		return 0;
	}
	bool percpu = false;
	__s32 ds = kbtf_find_by_name_kind(b, ".data..percpu", BTF_KIND_DATASEC);
	if (ds > 0) {
		const struct btf_type *d = kbtf_type(b, (__u32)ds);
		const struct btf_var_secinfo *v = (const void *)(d + 1);
		for (__u32 k = 0; k < BTF_INFO_VLEN(d->info); k++)
			if (v[k].type == id) {
				percpu = true;
				break;
			}
	}
	__u32 type = t->type;
	const struct btf_type *vt = kbtf_skip_modifiers(b, type, NULL);
	if (percpu) {
		aux->btf_var.reg_type = PTR_TO_BTF_ID | MEM_PERCPU;
		aux->btf_var.btf = b;
		aux->btf_var.btf_id = type;
	} else if (!vt || (BTF_INFO_KIND(vt->info) != BTF_KIND_STRUCT && BTF_INFO_KIND(vt->info) != BTF_KIND_UNION)) {
		__u32 size;
		if (kbtf_resolve_size(b, type, &size)) {
			verbose(env, "ldimm64 unable to resolve the size of type '%s': %d\n",
				vt ? kbtf_name(b, vt->name_off) : "", -EINVAL);
			return -EINVAL;
		}
		aux->btf_var.reg_type = PTR_TO_MEM | MEM_RDONLY;
		aux->btf_var.mem_size = size;
	} else {
		aux->btf_var.reg_type = PTR_TO_BTF_ID;
		aux->btf_var.btf = b;
		aux->btf_var.btf_id = type;
	}
	return 0;
}

/* resolve_pseudo_ldimm64(): reserved LDX fields, ld_imm64 pairs and their maps, the opcode table */
int resolve_pseudo_ldimm64(struct venv *env)
{
	for (__u32 i = 0; i < env->len; i++) {
		const struct bpf_insn *in = &env->insns[i];

		if (BPF_CLASS(in->code) == BPF_LDX &&
		    ((BPF_MODE(in->code) != BPF_MEM && BPF_MODE(in->code) != BPF_MEMSX) || in->imm)) {
			verbose(env, "BPF_LDX uses reserved fields\n");
			return -EINVAL;
		}
		if (is_ldimm64(in)) {
			if (i + 1 >= env->len || in[1].code || in[1].dst_reg || in[1].src_reg || in[1].off) {
				verbose(env, "invalid bpf_ld_imm64 insn\n");
				return -EINVAL;
			}
			if (in->src_reg == 0 || in->src_reg == BPF_PSEUDO_FUNC) {
				i++;
				continue;
			}
			if (in->src_reg == BPF_PSEUDO_BTF_ID) {
				int err = check_pseudo_btf_id(env, in, &env->aux[i]);
				if (err)
					return err;
				i++;
				continue;
			}
			if (in->src_reg > BPF_PSEUDO_MAP_IDX_VALUE ||
			    ((in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_IDX) && in[1].imm)) {
				verbose(env, "unrecognized bpf_ld_imm64 insn\n");
				return -EINVAL;
			}
			if (in->src_reg == BPF_PSEUDO_MAP_IDX || in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE) {
				verbose(env, "fd_idx without fd_array is invalid\n");
				return -EPROTO;
			}
			__u32 k;
			int err = add_used_map(env, in->imm, &k);
			if (err)
				return err;
			env->aux[i].map_index = k;
			if (in->src_reg == BPF_PSEUDO_MAP_VALUE) {
				__u32 off = (__u32)in[1].imm;
				const struct vmap *m = &env->maps[k];
				if (off >= BPF_MAX_VAR_OFF) {
					verbose(env, "direct value offset of %u is not allowed\n", off);
					return -EINVAL;
				}
				bool direct = m->type == BPF_MAP_TYPE_ARRAY || m->type == MAP_TYPE_ARENA;
				if (!direct) {
					verbose(env, "no direct value access support for this map type\n");
					return -EINVAL;
				}
				if (m->type == BPF_MAP_TYPE_ARRAY && (m->max_entries != 1 || off >= m->value_size)) {
					verbose(env, "invalid access to map value pointer, value_size=%u off=%u\n",
						m->value_size, off);
					return m->max_entries != 1 ? -ENOTSUPP : -EINVAL;
				}
				env->aux[i].map_off = off;
			}
			i++;
			continue;
		}
		if (!opcode_known(in->code)) {
			verbose(env, "unknown opcode %02x\n", in->code);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- a global function's arguments from its BTF prototype (btf_prepare_func_args) ---- */

static bool pbtf_is_modifier(const struct btf_type *t)
{
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return true;
	default:
		return false;
	}
}

static const char *const kind_str[] = { "UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD",
					"TYPEDEF", "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR",
					"DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64" };

static const char *pbtf_kind_str(const struct btf_type *t)
{
	__u32 k = t ? BTF_INFO_KIND(t->info) : 0;
	return k < ARRAY_SIZE(kind_str) ? kind_str[k] : "UNKN";
}

/* btf_resolve_size() on the program's BTF: through modifiers and arrays */
static int pbtf_resolve_size(const struct pbtf_view *b, const struct btf_type *t, __u32 *size)
{
	__u64 nelems = 1;
	for (int i = 0; t && i < 32; i++) {
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_ENUM: case BTF_KIND_FLOAT:
		case BTF_KIND_ENUM64:
			if (nelems * t->size > UINT32_MAX)
				return -EINVAL;
			*size = (__u32)(nelems * t->size);
			return 0;
		case BTF_KIND_PTR:
			*size = (__u32)(nelems * 8);
			return 0;
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			t = pbtf_type(b, t->type);
			break;
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = (const void *)(t + 1);
			nelems *= a->nelems;
			if (nelems > UINT32_MAX)
				return -EINVAL;
			t = pbtf_type(b, a->type);
			break;
		}
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}

/* the struct names the kernel takes for each program type's context (bpf_types.h) */
const char *prog_ctx_type_name(__u32 prog_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT: case BPF_PROG_TYPE_LWT_SEG6LOCAL: case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
		return "__sk_buff";
	case BPF_PROG_TYPE_XDP: return "xdp_md";
	case BPF_PROG_TYPE_CGROUP_SOCK: return "bpf_sock";
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return "bpf_sock_addr";
	case BPF_PROG_TYPE_SOCK_OPS: return "bpf_sock_ops";
	case BPF_PROG_TYPE_SK_MSG: return "sk_msg_md";
	case BPF_PROG_TYPE_KPROBE: return "pt_regs";
	case BPF_PROG_TYPE_PERF_EVENT: return "bpf_perf_event_data";
	case BPF_PROG_TYPE_RAW_TRACEPOINT: case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: return "bpf_raw_tracepoint_args";
	case BPF_PROG_TYPE_CGROUP_DEVICE: return "bpf_cgroup_dev_ctx";
	case BPF_PROG_TYPE_CGROUP_SYSCTL: return "bpf_sysctl";
	case BPF_PROG_TYPE_CGROUP_SOCKOPT: return "bpf_sockopt";
	case BPF_PROG_TYPE_SK_REUSEPORT: return "sk_reuseport_md";
	case BPF_PROG_TYPE_SK_LOOKUP: return "bpf_sk_lookup";
	case PROG_TYPE_NETFILTER: return "bpf_nf_ctx";
	default: return "";
	}
}

/* btf_is_prog_ctx_type(): a pointer to the program type's context struct (by name) */
static bool pbtf_is_ctx(const struct venv *env, const struct btf_type *ptr)
{
	const struct pbtf_view *b = env->pbtf;
	const struct btf_type *t = pbtf_type(b, ptr->type);
	if (env->prog_type == BPF_PROG_TYPE_KPROBE) {
		while (t && pbtf_is_modifier(t) && BTF_INFO_KIND(t->info) != BTF_KIND_TYPEDEF)
			t = pbtf_type(b, t->type);
		if (t && BTF_INFO_KIND(t->info) == BTF_KIND_TYPEDEF && !strcmp(vbtf_str(env, t->name_off), "bpf_user_pt_regs_t"))
			return true;
	}
	while (t && pbtf_is_modifier(t))
		t = pbtf_type(b, t->type);
	if (!t || (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT && BTF_INFO_KIND(t->info) != BTF_KIND_UNION))
		return false;
	const char *tname = vbtf_str(env, t->name_off), *want = prog_ctx_type_name(env->prog_type);
	if (!want[0])
		return false;
	if ((!strcmp(want, "__sk_buff") && !strcmp(tname, "sk_buff")) || (!strcmp(want, "xdp_md") && !strcmp(tname, "xdp_buff")))
		return true;
	return !strcmp(want, tname);
}

enum { TAG_CTX = 1, TAG_TRUSTED = 2, TAG_UNTRUSTED = 4, TAG_NONNULL = 8, TAG_NULLABLE = 16, TAG_ARENA = 32 };

int btf_prepare_func_args(struct venv *env, __u32 subprog)
{
	struct vsubprog *sub = &env->subprog[subprog];
	bool is_global = sub->linkage == BTF_FUNC_GLOBAL;
	const struct pbtf_view *b = env->pbtf;

	if (sub->args_cached)
		return 0;
	if (!sub->has_func_info || !b) {
		verbose(env, "verifier bug: func_info undefined\n");
		return -EFAULT;
	}
	const struct btf_type *fn_t = pbtf_type(b, sub->btf_type_id);
	if (!fn_t || BTF_INFO_KIND(fn_t->info) != BTF_KIND_FUNC) {
		verbose(env, "BTF of func#%d doesn't point to KIND_FUNC\n", subprog);
		return -EFAULT;
	}
	const char *tname = vbtf_str(env, fn_t->name_off);
	const struct btf_type *t = pbtf_type(b, fn_t->type);
	if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_FUNC_PROTO) {
		verbose(env, "Invalid type of function %s()\n", tname);
		return -EFAULT;
	}
	const struct btf_param *args = (const void *)(t + 1);
	__u32 nargs = BTF_INFO_VLEN(t->info);
	if (nargs > MAX_BPF_FUNC_REG_ARGS) {
		if (!is_global)
			return -EINVAL;
		verbose(env, "Global function %s() with %d > %d args. Buggy compiler.\n", tname, nargs,
			MAX_BPF_FUNC_REG_ARGS);
		return -EINVAL;
	}
	const struct btf_type *rt = pbtf_type(b, t->type);
	while (rt && pbtf_is_modifier(rt))
		rt = pbtf_type(b, rt->type);
	if (!rt || (BTF_INFO_KIND(rt->info) != BTF_KIND_INT && BTF_INFO_KIND(rt->info) != BTF_KIND_ENUM &&
		    BTF_INFO_KIND(rt->info) != BTF_KIND_ENUM64)) {
		if (!is_global)
			return -EINVAL;
		verbose(env, "Global function %s() doesn't return scalar. Only those are supported.\n", tname);
		return -EINVAL;
	}
	for (__u32 i = 0; i < nargs; i++) {
		__u32 tags = 0;
		/* "arg:<tag>" decl tags on the argument */
		for (__u32 id = 1; id < b->nr; id++) {
			const struct btf_type *dt = b->by_id[id];
			if (BTF_INFO_KIND(dt->info) != BTF_KIND_DECL_TAG || dt->type != sub->btf_type_id ||
			    *(const __s32 *)(dt + 1) != (__s32)i)
				continue;
			const char *tag = vbtf_str(env, dt->name_off);
			if (strncmp(tag, "arg:", 4))
				continue;
			tag += 4;
			if (!is_global) {
				verbose(env, "arg#%d type tag is not supported in static functions\n", i);
				return -EOPNOTSUPP;
			}
			if (!strcmp(tag, "ctx"))
				tags |= TAG_CTX;
			else if (!strcmp(tag, "trusted"))
				tags |= TAG_TRUSTED;
			else if (!strcmp(tag, "untrusted"))
				tags |= TAG_UNTRUSTED;
			else if (!strcmp(tag, "nonnull"))
				tags |= TAG_NONNULL;
			else if (!strcmp(tag, "nullable"))
				tags |= TAG_NULLABLE;
			else if (!strcmp(tag, "arena"))
				tags |= TAG_ARENA;
			else {
				verbose(env, "arg#%d has unsupported set of tags\n", i);
				return -EOPNOTSUPP;
			}
		}
		t = pbtf_type(b, args[i].type);
		while (t && pbtf_is_modifier(t))
			t = pbtf_type(b, t->type);
		if (t && BTF_INFO_KIND(t->info) == BTF_KIND_PTR) {
			if ((tags & TAG_CTX) || pbtf_is_ctx(env, t)) {
				if (tags & ~TAG_CTX) {
					verbose(env, "arg#%d has invalid combination of tags\n", i);
					return -EINVAL;
				}
				sub->arg_type[i] = ARG_PTR_TO_CTX;
				continue;
			}
			if (tags & TAG_ARENA) {
				if (tags & ~TAG_ARENA) {
					verbose(env, "arg#%d arena cannot be combined with any other tags\n", i);
					return -EINVAL;
				}
				sub->arg_type[i] = ARG_PTR_TO_ARENA;
				continue;
			}
			if (tags & (TAG_TRUSTED | TAG_UNTRUSTED)) {
				/* kernel object pointers by BTF id: not modelled, treated as untrusted memory */
				sub->arg_type[i] = ARG_PTR_TO_BTF_ID | PTR_UNTRUSTED;
				continue;
			}
			if (is_global) {
				__u32 mem_size = 0;
				if ((tags & TAG_NULLABLE) && (tags & TAG_NONNULL)) {
					verbose(env, "arg#%d can't have both nonnull and nullable tags\n", i);
					return -EINVAL;
				}
				const struct btf_type *rt2 = pbtf_type(b, t->type);
				while (rt2 && pbtf_is_modifier(rt2))
					rt2 = pbtf_type(b, rt2->type);
				if (!rt2 || pbtf_resolve_size(b, rt2, &mem_size)) {
					verbose(env, "arg#%d reference type('%s %s') size cannot be determined: %d\n", i,
						pbtf_kind_str(rt2), rt2 ? vbtf_str(env, rt2->name_off) : "", -EINVAL);
					return -EINVAL;
				}
				sub->arg_type[i] = ARG_PTR_TO_MEM | PTR_MAYBE_NULL;
				if (tags & TAG_NONNULL)
					sub->arg_type[i] &= ~(__u32)PTR_MAYBE_NULL;
				sub->arg_mem_size[i] = mem_size;
				continue;
			}
		}
		if (tags) {
			verbose(env, "arg#%d has pointer tag, but is not a pointer type\n", i);
			return -EINVAL;
		}
		if (t && (BTF_INFO_KIND(t->info) == BTF_KIND_INT || BTF_INFO_KIND(t->info) == BTF_KIND_ENUM ||
			  BTF_INFO_KIND(t->info) == BTF_KIND_ENUM64)) {
			sub->arg_type[i] = ARG_ANYTHING;
			continue;
		}
		if (!is_global)
			return -EINVAL;
		verbose(env, "Arg#%d type %s in %s() is not supported yet.\n", i, pbtf_kind_str(t), tname);
		return -EINVAL;
	}
	sub->arg_cnt = nargs;
	sub->args_cached = true;
	return 0;
}

/* map_is_rdonly and the direct reads of a frozen read-only array (bpf_map_direct_read) */
bool map_is_rdonly(const struct vmap *m)
{
	return m->rdonly;
}

bool map_direct_value_ok(const struct vmap *m)
{
	return m->type == BPF_MAP_TYPE_ARRAY && m->max_entries == 1;
}

int map_direct_read(const struct vmap *m, int off, int size, __u64 *val, bool is_ldsx)
{
	if (!m->obj || m->type != BPF_MAP_TYPE_ARRAY || off < 0 || size <= 0 || (__u32)(off + size) > m->value_size)
		return -EINVAL;
	const unsigned char *p = (const unsigned char *)emu_obj_data(m->obj) + off;
	switch (size) {
	case 1: *val = is_ldsx ? (__u64)(__s64) * (const __s8 *)p : *p; break;
	case 2: { __u16 v; memcpy(&v, p, 2); *val = is_ldsx ? (__u64)(__s64)(__s16)v : v; break; }
	case 4: { __u32 v; memcpy(&v, p, 4); *val = is_ldsx ? (__u64)(__s64)(__s32)v : v; break; }
	case 8: memcpy(val, p, 8); break;
	default: return -EINVAL;
	}
	return 0;
}

void front_free(struct venv *env)
{
	for (__u32 k = 0; k < env->nr_maps; k++) {
		free(env->maps[k].inner);
		if (env->maps[k].obj)
			emu_obj_put(env->maps[k].obj);
	}
	env->nr_maps = 0;
	for (__u32 k = 0; k <= env->subprog_cnt && k <= MAX_SUBPROGS; k++) {
		free(env->subprog[k].name);
		env->subprog[k].name = NULL;
	}
	free(env->finfo);
	free(env->linfo);
	env->finfo = NULL;
	env->linfo = NULL;
	pbtf_close(env->pbtf);
	env->pbtf = NULL;
}
