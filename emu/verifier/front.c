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

#include "../helpers.h"
#include "../map.h"
#include "env.h"

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

static __u32 btf_type_extra(const struct btf_type *t)
{
	__u32 vlen = BTF_INFO_VLEN(t->info);
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: return 4;
	case BTF_KIND_ARRAY: return 12;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_DATASEC: case BTF_KIND_ENUM64: return vlen * 12;
	case BTF_KIND_ENUM: case BTF_KIND_FUNC_PROTO: return vlen * 8;
	default: return 0;
	}
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

void pbtf_close(struct pbtf_view *b)
{
	if (!b)
		return;
	free(b->by_id);
	if (b->obj)
		emu_obj_put(b->obj);
	free(b);
}

const struct btf_type *pbtf_type(const struct pbtf_view *b, __u32 id)
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
		if (in->imm < 0) {
			verbose(env, "invalid kernel function btf_id %d\n", in->imm);
			return -EINVAL;
		}
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: insn %u calls kernel function btf_id %u: bpfemu has no kernel "
			"functions", i, (__u32)in->imm);
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

extern int emu_inner_meta_get(const struct emu_obj *map, struct emu_map_desc *out);

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
	/* check_map_prog_compatibility(): the one check of it that matters before the walk here */
	if (d->map_type == MAP_TYPE_ARENA && env->arena) {
		emu_obj_put(map);
		verbose(env, "Only one arena per program\n");
		return -EBUSY;
	}
	env->arena |= d->map_type == MAP_TYPE_ARENA;
	struct vmap *m = &env->maps[env->nr_maps];
	memset(m, 0, sizeof(*m));
	m->obj = map;
	m->id = map->hdr->id;
	m->type = d->map_type;
	m->key_size = d->key_size;
	m->value_size = d->value_size;
	m->max_entries = d->max_entries;
	m->map_flags = d->map_flags;
	m->frozen = __atomic_load_n(&d->frozen, __ATOMIC_ACQUIRE) != 0;
	m->rdonly = (d->map_flags & BPF_F_RDONLY_PROG) && m->frozen;
	m->btf_value_type_id = d->btf_value_type_id;
	m->spin_lock_off = d->spin_lock_off;
	m->special = d->special;
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
			env->aux[i].map_index = k + 1;
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
