/* SPDX-License-Identifier: MIT */
/*
 * emu/prog.c: BPF_PROG_LOAD.
 *
 * Programs are not run yet. A load is accepted when the program passes what
 * this file mirrors of Linux 6.18's verifier, in the kernel's order: kfunc
 * calls, jumps inside their subprogram and subprograms ending in exit or a
 * jump (check_subprogs), func_info/line_info, then instruction by
 * instruction ld_imm64 pairs, map fds and the opcode table
 * (resolve_pseudo_ldimm64), reachability (check_cfg), the per-type rules of
 * check_attach_btf_id, and the main walk (do_check) in the kernel's visiting
 * order: each instruction's reserved fields, constant operands and register
 * numbers, helper calls, and registers no path initializes before they are
 * read (path-insensitively: no register types or values). A rejection gets
 * the kernel's errno and error line in log_buf, and with any log level the
 * kernel's statistics line. The object is a real file like a map, so its fd
 * reads as anon_inode:bpf-prog and closes normally.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/btf.h>

#include "btf.h"
#include "helpers.h"
#include "map.h"
#include "prog.h"
#include "os.h"
#include "vm/vm.h"

#define BPF_COMPLEXITY_LIMIT_INSNS 1000000u
#define PROG_FLAGS_MASK                                                                          \
	(BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT | BPF_F_TEST_STATE_FREQ | BPF_F_SLEEPABLE | \
	 BPF_F_TEST_RND_HI32 | BPF_F_XDP_HAS_FRAGS)

struct vlog {
	char *buf;               /* our copy, copied out at the end */
	size_t size, len;
	void *ubuf;
};

static void vlog(struct vlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog(struct vlog *l, const char *fmt, ...)
{
	va_list ap;
	if (!l->buf || l->len + 1 >= l->size)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < l->size ? l->len + (size_t)n : l->size - 1;
}

static bool is_ldimm64(const struct bpf_insn *i) { return i->code == (BPF_LD | BPF_IMM | BPF_DW); }

#ifndef BPF_JCOND
#define BPF_JCOND 0xe0          /* may_goto (JMP class, Linux 6.9) */
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80          /* sign-extending loads (LDX class, Linux 6.6) */
#endif
#ifndef BPF_LOAD_ACQ
#define BPF_LOAD_ACQ 0x100      /* atomic load-acquire and store-release (Linux 6.15) */
#define BPF_STORE_REL 0x110
#endif
#ifndef BPF_ADDR_SPACE_CAST
#define BPF_ADDR_SPACE_CAST 1   /* MOV64 X with off 1: arena address space cast (Linux 6.9) */
#endif
#ifndef BPF_PSEUDO_KFUNC_CALL
#define BPF_PSEUDO_KFUNC_CALL 2
#endif
#define MAP_TYPE_ARENA 33

/*
 * The opcodes the verifier knows, as Linux 6.18's bpf_opcode_in_insntable()
 * (checked against that kernel for all 256 codes), from the instruction set:
 *   ALU, ALU64  ADD SUB MUL DIV OR AND LSH RSH MOD XOR MOV ARSH with K or X
 *               (DIV/MOD cover SDIV/SMOD, MOV covers MOVSX: they differ in off),
 *               NEG with K only, END: ALU to_le (K) / to_be (X), ALU64 bswap (K)
 *   JMP         JA (K), the eleven conditional jumps with K or X, CALL, EXIT
 *               and JCOND (may_goto), K only
 *   JMP32       JA (K: gotol, offset in imm) and the conditional jumps
 *   LD          IMM|DW (ld_imm64), ABS and IND of sizes W, H, B
 *   LDX         MEM of every size, MEMSX of W, H, B
 *   ST          MEM of every size
 *   STX         MEM and ATOMIC of every size
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

/*
 * resolve_pseudo_ldimm64()'s pass, instruction by instruction: reserved LDX
 * fields, ld_imm64 pairs and their pseudo sources, map fds (collected as the
 * program's used maps, *arena when one is an arena), then the opcode table.
 * 0 or -errno with the kernel's message in the log.
 */
static int check_insns(const struct bpf_insn *insns, __u32 cnt, struct vlog *log, __u32 *map_ids, __u32 *nr_maps,
		       bool *arena)
{
	for (__u32 i = 0; i < cnt; i++) {
		const struct bpf_insn *in = &insns[i];

		if (BPF_CLASS(in->code) == BPF_LDX &&
		    ((BPF_MODE(in->code) != BPF_MEM && BPF_MODE(in->code) != BPF_MEMSX) || in->imm)) {
			vlog(log, "BPF_LDX uses reserved fields\n");
			return -EINVAL;
		}
		if (is_ldimm64(in)) {
			if (i + 1 >= cnt || insns[i + 1].code || insns[i + 1].dst_reg || insns[i + 1].src_reg ||
			    insns[i + 1].off) {
				vlog(log, "invalid bpf_ld_imm64 insn\n");
				return -EINVAL;
			}
			/* 0 plain, BTF_ID, FUNC, MAP_IDX, MAP_IDX_VALUE: not resolved here;
			 * MAP_FD and MAP_IDX take no second immediate */
			if (in->src_reg > BPF_PSEUDO_MAP_IDX_VALUE ||
			    ((in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_IDX) && insns[i + 1].imm)) {
				vlog(log, "unrecognized bpf_ld_imm64 insn\n");
				return -EINVAL;
			}
			if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
				struct emu_obj *map;
				int acc, err = emu_fd_get(in->imm, EMU_KIND_MAP, &map, &acc);
				if (err) {
					vlog(log, "fd %d is not pointing to valid bpf_map\n", in->imm);
					return err;
				}
				__u32 id = map->hdr->id, k = 0;
				bool is_arena = map->hdr->map.map_type == MAP_TYPE_ARENA;
				emu_obj_put(map);
				while (k < *nr_maps && map_ids[k] != id)
					k++;
				if (k == *nr_maps) {          /* a new map: check_map_prog_compatibility() */
					if (is_arena && *arena) {
						vlog(log, "Only one arena per program\n");
						return -EBUSY;
					}
					*arena |= is_arena;
					if (*nr_maps < 64)    /* used_maps: each map once */
						map_ids[(*nr_maps)++] = id;
				}
			}
			i++;
			continue;
		}
		if (!opcode_known(in->code)) {
			vlog(log, "unknown opcode %02x\n", in->code);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * After a successful verification (bpf_check_tail_call() at the end of the
 * load): a PROG_ARRAY the program uses belongs to the first program type
 * that used it. EINVAL without a verifier message, and a load that failed
 * earlier claims nothing.
 */
static int claim_prog_arrays(const struct bpf_insn *insns, __u32 cnt, __u32 prog_type)
{
	for (__u32 i = 0; i + 1 < cnt; i++) {
		if (!is_ldimm64(&insns[i]))
			continue;
		if (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
			struct emu_obj *map;
			int acc, err = emu_fd_get(insns[i].imm, EMU_KIND_MAP, &map, &acc);
			if (err)
				return err;
			if (map->hdr->map.map_type == BPF_MAP_TYPE_PROG_ARRAY)
				err = emu_prog_array_claim(map, prog_type);
			emu_obj_put(map);
			if (err)
				return err;
		}
		i++;
	}
	return 0;
}

/* ---- func_info / line_info against prog_btf_fd (check_btf_info) ---- */

#define MIN_FUNCINFO_SIZE 8u
#define MAX_FUNCINFO_REC_SIZE 252u
#define MIN_LINEINFO_SIZE 16u
#define MAX_LINEINFO_REC_SIZE 252u

/* A loaded BTF object's raw blob, indexed by type id (it passed the BTF verifier). */
struct pbtf {
	const unsigned char *types, *strs;
	__u32 types_len, str_len, nr;
	const struct btf_type **by_id;        /* [0] = void */
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

static int pbtf_open(struct emu_obj *btf, struct pbtf *b)
{
	const unsigned char *raw = emu_obj_data(btf);
	struct btf_header h;
	memset(b, 0, sizeof(*b));
	if (btf->hdr->btf.data_size < sizeof(h))
		return -EINVAL;
	memcpy(&h, raw, sizeof(h));
	b->types = raw + h.hdr_len + h.type_off;
	b->types_len = h.type_len;
	b->strs = raw + h.hdr_len + h.str_off;
	b->str_len = h.str_len;
	__u32 cap = 1 + h.type_len / sizeof(struct btf_type);
	b->by_id = calloc(cap, sizeof(*b->by_id));
	if (!b->by_id)
		return -ENOMEM;
	b->nr = 1;
	for (__u32 off = 0; off + sizeof(struct btf_type) <= h.type_len && b->nr < cap;) {
		const struct btf_type *t = (const void *)(b->types + off);
		b->by_id[b->nr++] = t;
		off += sizeof(*t) + btf_type_extra(t);
	}
	return 0;
}

static const struct btf_type *pbtf_type(const struct pbtf *b, __u32 id)
{
	return id && id < b->nr ? b->by_id[id] : NULL;
}

/* Subprogram starts: 0 and every bpf-to-bpf call or callback target, sorted, unique. */
static __u32 subprogs(const struct bpf_insn *insns, __u32 cnt, __u32 *starts, __u32 max)
{
	__u32 n = 1;
	starts[0] = 0;
	for (__u32 i = 0; i < cnt; i++) {
		long long t = -1;
		if (insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == BPF_PSEUDO_CALL)
			t = (long long)i + insns[i].imm + 1;
		else if (is_ldimm64(&insns[i]) && insns[i].src_reg == BPF_PSEUDO_FUNC)
			t = (long long)i + insns[i].imm + 1;
		if (t < 0 || t >= cnt)
			continue;
		__u32 k = 0;
		while (k < n && starts[k] < (__u32)t)
			k++;
		if (k < n && starts[k] == (__u32)t)
			continue;
		if (n == max)
			break;
		memmove(&starts[k + 1], &starts[k], (n - k) * sizeof(*starts));
		starts[k] = (__u32)t;
		n++;
	}
	return n;
}

/*
 * check_subprogs(): every jump lands inside its own subprogram (JMP32|JA,
 * gotol, takes its offset from imm) and every subprogram ends in exit or an
 * unconditional jump. The opcode is not looked at yet: a jump with an
 * unknown op still gets "jump out of range".
 */
static int check_jumps(const struct bpf_insn *insns, __u32 cnt, struct vlog *log)
{
	__u32 starts[257], nsub = subprogs(insns, cnt, starts, 256), sub = 0;
	starts[nsub] = cnt;
	for (__u32 i = 0; i < cnt; i++) {
		const struct bpf_insn *in = &insns[i];
		__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		while (i >= starts[sub + 1])
			sub++;
		if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_EXIT && op != BPF_CALL) {
			/* the kernel's int arithmetic, wrapping */
			int t = (int)((__u32)i + (__u32)(in->code == (BPF_JMP32 | BPF_JA) ? in->imm : in->off) + 1u);
			if (t < (int)starts[sub] || t >= (int)starts[sub + 1]) {
				vlog(log, "jump out of range from insn %u to %d\n", i, t);
				return -EINVAL;
			}
		}
		if (i == starts[sub + 1] - 1 && in->code != (BPF_JMP | BPF_EXIT) && in->code != (BPF_JMP | BPF_JA) &&
		    in->code != (BPF_JMP32 | BPF_JA)) {
			vlog(log, "last insn is not an exit or jmp\n");
			return -EINVAL;
		}
	}
	return 0;
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

struct btf_info_out {
	__u32 btf_id;
	__u32 str_len;                        /* of the program's BTF */
	struct bpf_func_info *finfo;
	__u8 *linkage;                        /* per func_info record: BTF_FUNC_STATIC, ... */
	bool *scalar_ret;                     /* per func_info record: returns an int or enum */
	char **names;                         /* per func_info record: the function's name */
	__u32 nr_names;
	__u32 nr_finfo;
	struct bpf_line_info *linfo;
	__u32 nr_linfo;
};

static void btf_info_free(struct btf_info_out *out)
{
	free(out->finfo);
	free(out->linkage);
	free(out->scalar_ret);
	for (__u32 i = 0; out->names && i < out->nr_names; i++)
		free(out->names[i]);
	free(out->names);
	free(out->linfo);
	memset(out, 0, sizeof(*out));
}

/* btf_type_skip_modifiers(), then btf_type_is_small_int() || btf_is_any_enum() */
static bool btf_scalar(const struct pbtf *b, __u32 id)
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

/*
 * check_btf_info_early(), before anything else looks at the program: the
 * BTF object and the func_info records themselves (size, tail, order, FUNC
 * types). The caller frees out (btf_info_free), also on error.
 */
static int check_btf_info_early(const struct emu_prog_spec *s, struct vlog *log, struct btf_info_out *out)
{
	struct emu_obj *btf;
	struct pbtf b;
	int acc, err;

	memset(out, 0, sizeof(*out));
	if (!s->func_info_cnt && !s->line_info_cnt)
		return 0;
	err = emu_fd_get((int)s->prog_btf_fd, EMU_KIND_BTF, &btf, &acc);
	if (err)
		return err;                                  /* btf_get_by_fd(): EBADF, EINVAL */
	if (btf->hdr->btf.kernel_btf) {
		emu_obj_put(btf);
		return -EACCES;
	}
	out->btf_id = btf->hdr->id;
	err = pbtf_open(btf, &b);
	if (err)
		goto out_put;
	out->str_len = b.str_len;

	/* check_btf_func_early() */
	if (s->func_info_cnt) {
		__u32 urec = s->func_info_rec_size, prev = 0;
		if (urec < MIN_FUNCINFO_SIZE || urec > MAX_FUNCINFO_REC_SIZE || urec % 4) {
			vlog(log, "invalid func info rec size %u\n", urec);
			err = -EINVAL;
			goto out_free;
		}
		out->finfo = calloc(s->func_info_cnt, sizeof(*out->finfo));
		out->linkage = calloc(s->func_info_cnt, 1);
		out->scalar_ret = calloc(s->func_info_cnt, sizeof(bool));
		out->names = calloc(s->func_info_cnt, sizeof(char *));
		if (!out->finfo || !out->linkage || !out->scalar_ret || !out->names) {
			err = -ENOMEM;
			goto out_free;
		}
		for (__u32 i = 0; i < s->func_info_cnt; i++) {
			const unsigned char *u = (const unsigned char *)s->func_info + (size_t)i * urec;
			struct bpf_func_info *f = &out->finfo[i];
			err = rec_tail_zero(u, sizeof(*f), urec);
			if (err) {
				if (err == -E2BIG)
					vlog(log, "nonzero tailing record in func info");
				goto out_free;
			}
			if (emu_copy_from_user(f, u, sizeof(*f))) {
				err = -EFAULT;
				goto out_free;
			}
			err = -EINVAL;
			if (i == 0 && f->insn_off) {
				vlog(log, "nonzero insn_off %u for the first func info record", f->insn_off);
				goto out_free;
			}
			if (i && f->insn_off <= prev) {
				vlog(log, "same or smaller insn offset (%u) than previous func info record (%u)",
				     f->insn_off, prev);
				goto out_free;
			}
			const struct btf_type *t = pbtf_type(&b, f->type_id);
			if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_FUNC) {
				vlog(log, "invalid type id %d in func info", (int)f->type_id);
				goto out_free;
			}
			const struct btf_type *proto = pbtf_type(&b, t->type);
			if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO)
				goto out_free;
			out->linkage[i] = (__u8)BTF_INFO_VLEN(t->info);
			out->scalar_ret[i] = btf_scalar(&b, proto->type);
			const char *name = t->name_off < b.str_len ? (const char *)b.strs + t->name_off : "";
			out->names[i] = strndup(name, b.str_len - (t->name_off < b.str_len ? t->name_off : b.str_len));
			if (!out->names[i]) {
				err = -ENOMEM;
				goto out_free;
			}
			out->nr_names = i + 1;
			prev = f->insn_off;
		}
		out->nr_finfo = s->func_info_cnt;
	}
	err = 0;
out_free:
	free(b.by_id);
out_put:
	emu_obj_put(btf);
	return err;
}

/* check_abnormal_return(): without func_info no subprogram may use packet loads or tail calls */
static int check_abnormal_return(const struct bpf_insn *insns, __u32 cnt, const __u32 *starts, __u32 nsub,
				 struct vlog *log)
{
	for (__u32 k = 1; k < nsub; k++) {
		bool ld_abs = false, tail_call = false;
		for (__u32 i = starts[k]; i < (k + 1 < nsub ? starts[k + 1] : cnt); i++) {
			ld_abs |= BPF_CLASS(insns[i].code) == BPF_LD &&
				  (BPF_MODE(insns[i].code) == BPF_ABS || BPF_MODE(insns[i].code) == BPF_IND);
			tail_call |= insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == 0 &&
				     insns[i].imm == BPF_FUNC_tail_call;
		}
		if (ld_abs || tail_call) {
			vlog(log, "%s is not allowed in subprogs without BTF\n", ld_abs ? "LD_ABS" : "tail_call");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * check_btf_info(), after check_subprogs(): func_info against the
 * subprograms (their number, starts, and an int return where a subprogram
 * uses packet loads or tail calls), then line_info.
 */
static int check_btf_info(const struct emu_prog_spec *s, const struct bpf_insn *insns, struct vlog *log,
			  struct btf_info_out *out)
{
	__u32 starts[256], nsub = subprogs(insns, s->insn_cnt, starts, ARRAY_SIZE(starts));

	if (!s->func_info_cnt) {
		int err = check_abnormal_return(insns, s->insn_cnt, starts, nsub, log);
		if (err || !s->line_info_cnt)
			return err;
	} else {        /* check_btf_func() */
		if (s->func_info_cnt != nsub) {
			vlog(log, "number of funcs in func_info doesn't match number of subprogs\n");
			return -EINVAL;
		}
		for (__u32 k = 0; k < nsub; k++) {
			if (out->finfo[k].insn_off != starts[k]) {
				vlog(log, "func_info BTF section doesn't match subprog layout in BPF program\n");
				return -EINVAL;
			}
			bool ld_abs = false, tail_call = false;
			for (__u32 i = starts[k]; k && i < (k + 1 < nsub ? starts[k + 1] : s->insn_cnt); i++) {
				ld_abs |= BPF_CLASS(insns[i].code) == BPF_LD &&
					  (BPF_MODE(insns[i].code) == BPF_ABS || BPF_MODE(insns[i].code) == BPF_IND);
				tail_call |= insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == 0 &&
					     insns[i].imm == BPF_FUNC_tail_call;
			}
			if (!out->scalar_ret[k] && (ld_abs || tail_call)) {
				vlog(log, "%s is only allowed in functions that return 'int'.\n", ld_abs ? "LD_ABS" : "tail_call");
				return -EINVAL;
			}
		}
	}

	/* check_btf_line() */
	if (!s->line_info_cnt)
		return 0;
	__u32 urec = s->line_info_rec_size, prev = 0, sub = 0;
	if (s->line_info_cnt > INT32_MAX / sizeof(struct bpf_line_info) || urec < MIN_LINEINFO_SIZE ||
	    urec > MAX_LINEINFO_REC_SIZE || urec % 4)
		return -EINVAL;
	out->linfo = calloc(s->line_info_cnt, sizeof(*out->linfo));
	if (!out->linfo)
		return -ENOMEM;
	for (__u32 i = 0; i < s->line_info_cnt; i++) {
		const unsigned char *u = (const unsigned char *)s->line_info + (size_t)i * urec;
		struct bpf_line_info *l = &out->linfo[i];
		int err = rec_tail_zero(u, sizeof(*l), urec);
		if (err) {
			if (err == -E2BIG)
				vlog(log, "nonzero tailing record in line_info");
			return err;
		}
		if (emu_copy_from_user(l, u, sizeof(*l)))
			return -EFAULT;
		if ((i && l->insn_off <= prev) || l->insn_off >= s->insn_cnt) {
			vlog(log, "Invalid line_info[%u].insn_off:%u (prev_offset:%u prog->len:%u)\n", i, l->insn_off,
			     prev, s->insn_cnt);
			return -EINVAL;
		}
		if (!insns[l->insn_off].code) {
			vlog(log, "Invalid insn code at line_info[%u].insn_off\n", i);
			return -EINVAL;
		}
		if (l->line_off >= out->str_len || l->file_name_off >= out->str_len) {
			vlog(log, "Invalid line_info[%u].line_off or .file_name_off\n", i);
			return -EINVAL;
		}
		if (sub != nsub) {
			if (l->insn_off == starts[sub]) {
				sub++;
			} else if (starts[sub] < l->insn_off) {
				vlog(log, "missing bpf_line_info for func#%u\n", sub);
				return -EINVAL;
			}
		}
		prev = l->insn_off;
	}
	if (sub != nsub) {
		vlog(log, "missing bpf_line_info for %u funcs starting from func#%u\n", nsub - sub, sub);
		return -EINVAL;
	}
	out->nr_linfo = s->line_info_cnt;
	return 0;
}

/*
 * What an instruction does to the registers some path has initialized (bit n
 * = Rn) and where control goes next. Its successors get (in & ~clobbers) |
 * writes; the first instruction of a bpf-to-bpf callee or of a callback
 * (ld_imm64 of a BPF_PSEUDO_FUNC) gets a frame of its own, (in & keep) | set:
 * a callee the caller's R1-R5 and R10 (not R0, not R6-R9), a callback R1-R5
 * (what its helper passes, at most five arguments) and R10. After a
 * bpf-to-bpf call R0 is what the callee's exits left in it (check_reach()).
 */
struct insn_flow {
	__u16 writes, clobbers;
	int succ[2];
	int nsucc;
	int callee;             /* first instruction of the callee or callback, -1: none */
	__u16 keep, set;
	bool returns;           /* a bpf-to-bpf call: R0 comes back from the callee */
};

#define REG_ARGS 0x3eu          /* R1-R5 */
#define REG_FP (1u << 10)

static struct insn_flow insn_flow(const struct bpf_insn *insns, __u32 i)
{
	const struct bpf_insn *in = &insns[i];
	__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	struct insn_flow f = { .succ = { (int)i + 1, -1 }, .nsucc = 1, .callee = -1 };
	__u16 dst = (__u16)(1u << in->dst_reg), src = (__u16)(1u << in->src_reg);

	switch (cls) {
	case BPF_ALU: case BPF_ALU64: case BPF_LDX:
		f.writes = dst;
		break;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			if (in->imm == BPF_CMPXCHG)
				f.writes = 1;
			else if (in->imm == BPF_LOAD_ACQ)
				f.writes = dst;
			else if (in->imm & BPF_FETCH)
				f.writes = src;
		}
		break;
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			f.writes = dst;
			f.succ[0] = (int)i + 2;
			if (in->src_reg == BPF_PSEUDO_FUNC) {
				f.callee = (int)((__u32)i + (__u32)in->imm + 1u);   /* wraps: out of range is skipped */
				f.set = REG_ARGS | REG_FP;
			}
		} else {   /* LD_ABS / LD_IND: result in R0, R1-R5 clobbered */
			f.writes = 1;
			f.clobbers = REG_ARGS;
		}
		break;
	case BPF_JMP: case BPF_JMP32:
		if (op == BPF_EXIT) {
			f.nsucc = 0;
		} else if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_KFUNC_CALL && !in->imm) {
			/* kfunc id 0: no call, nothing happens to the registers (check_kfunc_call()) */
		} else if (op == BPF_CALL) {
			f.writes = 1;
			f.clobbers = REG_ARGS;
			if (in->src_reg == BPF_PSEUDO_CALL) {
				f.callee = (int)((__u32)i + (__u32)in->imm + 1u);
				f.keep = REG_ARGS;
				f.set = REG_FP;
				f.writes = 0;
				f.clobbers |= 1;
				f.returns = true;
			}
		} else if (op == BPF_JA) {
			f.succ[0] = (int)((__u32)i + (__u32)(cls == BPF_JMP32 ? in->imm : in->off) + 1u);
		} else {   /* conditional jumps and may_goto */
			f.succ[1] = (int)i + in->off + 1;
			f.nsucc = 2;
		}
		break;
	}
	return f;
}

/* What the helper and kfunc checks need to know of the program being loaded. */
struct prog_ctx {
	__u32 prog_type, expected_attach_type, prog_flags;
	bool gpl;
	bool arena;                           /* it uses an arena map */
	const struct bpf_func_info *finfo;    /* func_info, if any, and each function's linkage */
	const __u8 *linkage;
	char *const *names;
	__u32 nr_finfo;
};

/* The row of emu/helpers.h probed with this program type and attach type, if any. */
static const struct emu_helper_row *helper_row(const struct prog_ctx *pc)
{
	for (size_t k = 0; k < ARRAY_SIZE(emu_helper_rows); k++)
		if (emu_helper_rows[k].prog_type == pc->prog_type &&
		    emu_helper_rows[k].expected_attach_type == pc->expected_attach_type)
			return &emu_helper_rows[k];
	return NULL;
}

/*
 * check_helper_call()'s first checks: the id exists (__BPF_FUNC_MAX_ID of
 * Linux 6.18), the program type has a prototype for it, GPL-only helpers need
 * a GPL-compatible license, sleepable helpers a sleepable program. The
 * answers per type come from the kernel itself (emu/helpers.h, generated by
 * tools/gen/helpers.c); a type or attach type the table lacks is not checked
 * beyond the id range, so nothing the kernel accepts is rejected here.
 */
static int check_helper_call(const struct bpf_insn *in, const struct prog_ctx *pc, struct vlog *log)
{
	int id = in->imm;
	if (id < 0 || id >= EMU_BPF_FUNC_MAX_ID) {
		vlog(log, "invalid func unknown#%d\n", id);
		return -EINVAL;
	}
	const struct emu_helper_row *row = helper_row(pc);
	switch (row ? row->allowed[id] : 'y') {
	case '-':
		vlog(log, "program of this type cannot use helper %s#%d\n", emu_helper_names[id], id);
		return -EINVAL;
	case 'g':
		if (!pc->gpl) {
			vlog(log, "cannot call GPL-restricted function from non-GPL compatible program\n");
			return -EINVAL;
		}
		break;
	case 'p':
		vlog(log, "helper call is not allowed in probe\n");
		return -EINVAL;
	case 's':
		if (!(pc->prog_flags & BPF_F_SLEEPABLE)) {
			vlog(log, "helper call might sleep in a non-sleepable prog\n");
			return -EINVAL;
		}
		break;
	}
	return 0;
}

/*
 * add_subprog_and_kfunc(), which the kernel runs right after the func_info
 * records and before any other instruction check, in instruction order:
 * bpf-to-bpf calls and callback addresses name an instruction of the
 * program, 256 subprograms at most (the main program included); kernel
 * function calls: bpfemu has none (no kernel BTF of its own, nothing to run
 * them), so a kfunc call gets what a kernel answers whose BTF has no function
 * of that id: "kernel btf_id %u is not a function", after the GPL check and
 * the module BTF lookup (an offset needs fd_array, which this engine does not
 * take). Function id 0 with off 0 is no call at all: the kernel refuses it
 * only when the walk reached it (check_walk()).
 */
static int check_calls(const struct bpf_insn *insns, __u32 cnt, bool gpl, struct vlog *log)
{
	__u32 starts[256], nsub = 1;
	starts[0] = 0;
	for (__u32 i = 0; i < cnt; i++) {
		const struct bpf_insn *in = &insns[i];
		if ((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
		    (is_ldimm64(in) && in->src_reg == BPF_PSEUDO_FUNC)) {
			int t = (int)(i + (__u32)in->imm + 1u);   /* the kernel's int, wrapping */
			if (t < 0 || (__u32)t >= cnt) {
				vlog(log, "call to invalid destination\n");
				return -EINVAL;
			}
			__u32 k = 0;
			while (k < nsub && starts[k] != (__u32)t)
				k++;
			if (k < nsub)
				continue;
			if (nsub == ARRAY_SIZE(starts)) {
				vlog(log, "too many subprograms\n");
				return -E2BIG;
			}
			starts[nsub++] = (__u32)t;
			continue;
		}
		if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg != BPF_PSEUDO_KFUNC_CALL)
			continue;
		if (!gpl) {
			vlog(log, "cannot call kernel function from non-GPL compatible program\n");
			return -EINVAL;
		}
		if (!in->imm && !in->off)       /* left for the walk: dead code may remove it */
			continue;
		if (in->off < 0) {
			vlog(log, "negative offset disallowed for kernel module function call\n");
			vlog(log, "failed to find BTF for kernel function\n");
			return -EINVAL;
		}
		if (in->off > 0) {
			vlog(log, "kfunc offset > 0 without fd_array is invalid\n");
			vlog(log, "failed to find BTF for kernel function\n");
			return -EPROTO;
		}
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: insn %u calls kernel function btf_id %u: bpfemu has no kernel "
			"functions", i, (__u32)in->imm);
		vlog(log, "kernel btf_id %u is not a function\n", (__u32)in->imm);
		return -EINVAL;
	}
	return 0;
}

/*
 * check_cfg(), path-insensitively: which registers some path has set before
 * each instruction (init[i], bit 15: the instruction is reached at all), and
 * in instruction order "unreachable insn" for an instruction no path reaches
 * and "jump into the middle of ldimm64" for one a jump splits. A global
 * function (func_info linkage) is verified on its own by the kernel, not
 * walked into at a call: it starts with R1-R5 set, and a call to it sets R0.
 */
#define REACHED (1u << 15)

struct flow {
	__u16 *init;            /* per instruction; 0 = unreached */
	__u8 *sub;              /* per instruction: its subprogram */
	__u32 starts[257], nsub;
	bool global[256];       /* global linkage in func_info */
	bool r0[256];           /* R0 is set at some exit of the subprogram */
	bool callback[256];     /* a callback: some ld_imm64 takes its address */
};

static bool reach_merge(__u16 *init, __u32 cnt, int t, __u16 in)
{
	if (t < 0 || (__u32)t >= cnt || (init[t] | in) == init[t])
		return false;
	init[t] |= in;
	return true;
}

/* fl->init and fl->sub are the caller's to free (also on error) */
static int check_reach(const struct bpf_insn *insns, __u32 cnt, const struct prog_ctx *pc, struct vlog *log,
		       struct flow *fl)
{
	fl->init = calloc(cnt, sizeof(*fl->init));
	fl->sub = calloc(cnt, sizeof(*fl->sub));
	if (!fl->init || !fl->sub)
		return -ENOMEM;
	fl->nsub = subprogs(insns, cnt, fl->starts, 256);
	for (__u32 k = 0, i = 0; i < cnt; i++) {
		while (k + 1 < fl->nsub && fl->starts[k + 1] <= i)
			k++;
		fl->sub[i] = (__u8)k;
	}
	for (__u32 k = 0; k < pc->nr_finfo; k++)
		if (pc->linkage[k] == BTF_FUNC_GLOBAL && k < fl->nsub && fl->starts[k] == pc->finfo[k].insn_off)
			fl->global[k] = true;
	for (__u32 i = 0; i + 1 < cnt; i++)
		if (is_ldimm64(&insns[i]) && insns[i].src_reg == BPF_PSEUDO_FUNC) {
			__u32 t = i + (__u32)insns[i].imm + 1u;
			if (t < cnt)
				fl->callback[fl->sub[t]] = true;
		}

	__u16 *init = fl->init;
	init[0] = REACHED | 1u << 1 | REG_FP;        /* R1 = ctx, R10 = frame */
	for (bool changed = true; changed;) {
		changed = false;
		for (__u32 i = 0; i < cnt; i++) {
			if (!init[i])
				continue;
			struct insn_flow f = insn_flow(insns, i);
			__u16 out = (__u16)((init[i] & ~f.clobbers) | f.writes);
			if (f.returns && f.callee >= 0 && (__u32)f.callee < cnt) {
				__u32 k = fl->sub[f.callee];
				if (fl->global[k]) {
					f.keep = 0;
					f.set = REG_ARGS | REG_FP;
				}
				if (fl->global[k] || fl->r0[k])
					out |= 1;
			}
			for (int k = 0; k < f.nsucc; k++)
				changed |= reach_merge(init, cnt, f.succ[k], out);
			if (f.callee >= 0)
				changed |= reach_merge(init, cnt, f.callee, (__u16)(REACHED | (init[i] & f.keep) | f.set));
			if (insns[i].code == (BPF_JMP | BPF_EXIT) && (init[i] & 1) && !fl->r0[fl->sub[i]]) {
				fl->r0[fl->sub[i]] = true;
				changed = true;
			}
			if (is_ldimm64(&insns[i]))
				i++;
		}
	}
	for (__u32 i = 0; i < cnt; i++) {
		if (!init[i]) {
			vlog(log, "unreachable insn %u\n", i);
			return -EINVAL;
		}
		if (is_ldimm64(&insns[i])) {
			if (init[i + 1]) {      /* a jump to its second half */
				vlog(log, "jump into the middle of ldimm64 insn %u\n", i);
				return -EINVAL;
			}
			i++;
		}
	}
	return 0;
}

/* check_reg_arg() of a register the instruction reads (SRC_OP): no path set it, "!read_ok" */
static int reg_read(__u8 r, __u16 init, struct vlog *log)
{
	if (r > 10) {
		vlog(log, "R%d is invalid\n", r);
		return -EINVAL;
	}
	if (!(init >> r & 1)) {
		vlog(log, "R%d !read_ok\n", r);
		return -EACCES;
	}
	return 0;
}

/* check_reg_arg() of a register the instruction writes (DST_OP) */
static int reg_write(__u8 r, struct vlog *log)
{
	if (r > 10) {
		vlog(log, "R%d is invalid\n", r);
		return -EINVAL;
	}
	if (r == 10) {
		vlog(log, "frame pointer is read only\n");
		return -EACCES;
	}
	return 0;
}

static int reserved(struct vlog *log, const char *what)
{
	vlog(log, "%s uses reserved fields\n", what);
	return -EINVAL;
}

/*
 * check_alu_op(): the fields each form leaves zero, then its registers in
 * the kernel's order (the source before the destination, which is read
 * before it is written), constant divisors and shift amounts. MOV with BPF_X
 * is also the sign-extending move (off 8, 16, 32 on ALU64; 8, 16 on ALU) and
 * on ALU64 with off 1 the arena address space cast; DIV and MOD with off 1
 * are the signed ones.
 */
static int check_alu(const struct bpf_insn *in, __u16 init, const struct prog_ctx *pc, struct vlog *log)
{
	__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	bool x = BPF_SRC(in->code) == BPF_X;
	int err;

	if (op == BPF_NEG || op == BPF_END) {
		if (op == BPF_NEG && (in->src_reg || in->off || in->imm))
			return reserved(log, "BPF_NEG");
		if (op == BPF_END && (in->src_reg || in->off || (in->imm != 16 && in->imm != 32 && in->imm != 64)))
			return reserved(log, "BPF_END");
		err = reg_read(in->dst_reg, init, log);
		return err ? err : reg_write(in->dst_reg, log);
	}
	if (op == BPF_MOV) {
		if (x) {
			if (cls == BPF_ALU64 && in->off == BPF_ADDR_SPACE_CAST) {
				if (in->imm != 1 && in->imm != 1 << 16) {
					vlog(log, "addr_space_cast insn can only convert between address space 1 and 0\n");
					return -EINVAL;
				}
				if (!pc->arena) {
					vlog(log, "addr_space_cast insn can only be used in a program that has an associated arena\n");
					return -EINVAL;
				}
			} else if (in->imm || (in->off != 0 && in->off != 8 && in->off != 16 &&
					       (cls == BPF_ALU || in->off != 32))) {
				return reserved(log, "BPF_MOV");
			}
			err = reg_read(in->src_reg, init, log);
			if (err)
				return err;
		} else if (in->src_reg || in->off) {
			return reserved(log, "BPF_MOV");
		}
		return reg_write(in->dst_reg, log);
	}
	if ((in->off != 0 && in->off != 1) || (in->off == 1 && op != BPF_DIV && op != BPF_MOD) ||
	    (x ? in->imm != 0 : in->src_reg != 0))
		return reserved(log, "BPF_ALU");
	if (x && (err = reg_read(in->src_reg, init, log)))
		return err;
	err = reg_read(in->dst_reg, init, log);
	if (err)
		return err;
	if (!x && (op == BPF_DIV || op == BPF_MOD) && in->imm == 0) {
		vlog(log, "div by zero\n");
		return -EINVAL;
	}
	if (!x && (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
	    (in->imm < 0 || in->imm >= (cls == BPF_ALU64 ? 64 : 32))) {
		vlog(log, "invalid shift %d\n", in->imm);
		return -EINVAL;
	}
	return reg_write(in->dst_reg, log);
}

/*
 * BPF_STX: a plain store leaves imm zero; an atomic names a known operation
 * (check_atomic), read-modify-write ones on 4 or 8 bytes only. Registers as
 * the kernel checks them: the source, then the address, then R0 of a
 * cmpxchg; a load-acquire writes its destination. A fetch into R10 is
 * refused only when the address is R10 too: for another address the kernel
 * looks at that register's type first.
 */
static int check_stx(const struct bpf_insn *in, __u16 init, struct vlog *log)
{
	int err;

	if (BPF_MODE(in->code) == BPF_MEM) {
		if (in->imm)
			return reserved(log, "BPF_STX");
		err = reg_read(in->src_reg, init, log);
		return err ? err : reg_read(in->dst_reg, init, log);
	}
	switch (in->imm) {
	case BPF_ADD: case BPF_ADD | BPF_FETCH: case BPF_AND: case BPF_AND | BPF_FETCH:
	case BPF_OR: case BPF_OR | BPF_FETCH: case BPF_XOR: case BPF_XOR | BPF_FETCH:
	case BPF_XCHG: case BPF_CMPXCHG:
		if (BPF_SIZE(in->code) != BPF_W && BPF_SIZE(in->code) != BPF_DW) {
			vlog(log, "invalid atomic operand size\n");
			return -EINVAL;
		}
		if ((err = reg_read(in->src_reg, init, log)) || (err = reg_read(in->dst_reg, init, log)))
			return err;
		if (in->imm == BPF_CMPXCHG)
			return reg_read(0, init, log);
		if ((in->imm & BPF_FETCH) && in->dst_reg == 10)
			return reg_write(in->src_reg, log);
		return 0;
	case BPF_LOAD_ACQ:
		err = reg_read(in->src_reg, init, log);
		return err ? err : reg_write(in->dst_reg, log);
	case BPF_STORE_REL:
		err = reg_read(in->src_reg, init, log);
		return err ? err : reg_read(in->dst_reg, init, log);
	default:
		vlog(log, "BPF_ATOMIC uses invalid atomic opcode %02x\n", (unsigned)in->imm);
		return -EINVAL;
	}
}

/*
 * BPF_JMP and BPF_JMP32 in do_check_insn() and check_cond_jmp_op(): calls,
 * gotos, exits and may_goto leave the fields they do not use zero (a call's
 * off only for a kfunc, exit's off is not looked at); a conditional jump
 * reads its destination before its other fields are looked at. R0 is read
 * at the exits of the program and of global functions (check_return_code);
 * a static function's exit hands it back to the caller as it is.
 */
static int check_jmp(const struct bpf_insn *in, __u16 init, bool returns_r0, const struct prog_ctx *pc,
		     struct vlog *log)
{
	__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	int err;

	switch (op) {
	case BPF_CALL:
		if ((in->off && in->src_reg != BPF_PSEUDO_KFUNC_CALL) || in->src_reg > BPF_PSEUDO_KFUNC_CALL ||
		    in->dst_reg)
			return reserved(log, "BPF_CALL");
		return in->src_reg == 0 ? check_helper_call(in, pc, log) : 0;
	case BPF_JA:
		if (in->src_reg || in->dst_reg || (cls == BPF_JMP ? in->imm : in->off))
			return reserved(log, "BPF_JA");
		return 0;
	case BPF_EXIT:
		if (in->imm || in->src_reg || in->dst_reg)
			return reserved(log, "BPF_EXIT");
		return returns_r0 ? reg_read(0, init, log) : 0;
	case BPF_JCOND:
		if (in->src_reg || in->dst_reg || in->imm) {
			vlog(log, "invalid may_goto imm %d\n", in->imm);
			return -EINVAL;
		}
		return 0;
	}
	err = reg_read(in->dst_reg, init, log);
	if (err)
		return err;
	if (BPF_SRC(in->code) == BPF_K)
		return in->src_reg ? reserved(log, "BPF_JMP/JMP32") : 0;
	return in->imm ? reserved(log, "BPF_JMP/JMP32") : reg_read(in->src_reg, init, log);
}

/*
 * BPF_LD: packet loads (check_ld_abs) only in the program types that may use
 * them, with the fields they leave zero, R6 (the context; its type is not
 * checked here) then the offset register; ld_imm64 (check_ld_imm) with off
 * zero and a writable destination; a callback's address needs func_info
 * naming a static function there.
 */
static int check_ld(const struct bpf_insn *insns, __u32 i, __u16 init, const struct prog_ctx *pc, struct vlog *log)
{
	const struct bpf_insn *in = &insns[i];
	int err;

	if (is_ldimm64(in)) {
		if (in->off)
			return reserved(log, "BPF_LD_IMM64");
		err = reg_write(in->dst_reg, log);
		if (err || in->src_reg != BPF_PSEUDO_FUNC)
			return err;
		if (!pc->nr_finfo) {
			vlog(log, "missing btf func_info\n");
			return -EINVAL;
		}
		__u32 t = i + (__u32)in->imm + 1u;
		for (__u32 k = 0; k < pc->nr_finfo; k++)
			if (pc->finfo[k].insn_off == t && pc->linkage[k] != BTF_FUNC_STATIC) {
				vlog(log, "callback function not static\n");
				return -EINVAL;
			}
		return 0;
	}
	if (pc->prog_type != BPF_PROG_TYPE_SOCKET_FILTER && pc->prog_type != BPF_PROG_TYPE_SCHED_CLS &&
	    pc->prog_type != BPF_PROG_TYPE_SCHED_ACT) {
		vlog(log, "BPF_LD_[ABS|IND] instructions not allowed for this program type\n");
		return -EINVAL;
	}
	if (in->dst_reg || in->off || (BPF_MODE(in->code) == BPF_ABS && in->src_reg))
		return reserved(log, "BPF_LD_[ABS|IND]");
	err = reg_read(6, init, log);
	if (err || BPF_MODE(in->code) == BPF_ABS)
		return err;
	return reg_read(in->src_reg, init, log);
}

/*
 * One instruction of do_check(), as do_check_insn() and the checks it calls
 * look at it before register types matter: reserved fields, constant
 * operands, register numbers, R10 as a destination, the helper checks of a
 * call, and a register no path initializes before the instruction reads it
 * ("!read_ok"), each in the kernel's order.
 */
static int check_insn(const struct bpf_insn *insns, __u32 i, const struct flow *fl, const struct prog_ctx *pc,
		      struct vlog *log)
{
	const struct bpf_insn *in = &insns[i];
	__u16 init = fl->init[i];
	int err;

	switch (BPF_CLASS(in->code)) {
	case BPF_ALU: case BPF_ALU64:
		return check_alu(in, init, pc, log);
	case BPF_LDX:   /* reserved fields: resolve_pseudo_ldimm64() */
		err = reg_read(in->src_reg, init, log);
		return err ? err : reg_write(in->dst_reg, log);
	case BPF_STX:
		return check_stx(in, init, log);
	case BPF_ST:
		if (in->src_reg)
			return reserved(log, "BPF_ST");
		return reg_read(in->dst_reg, init, log);
	case BPF_JMP: case BPF_JMP32:
		return check_jmp(in, init, fl->sub[i] == 0 || fl->global[fl->sub[i]], pc, log);
	default:
		return check_ld(insns, i, init, pc, log);
	}
}

/*
 * do_check() visits instructions along paths: a conditional jump goes on
 * with its fall-through and keeps the target for later, may_goto the other
 * way round, a path ends at the program's exit and the last kept one is
 * taken up (last in, first out); a static function is walked into at each
 * call, in a frame of its own (at most 8 deep); a global function is walked
 * on its own after the main program, once some walked path called it; a
 * callback when a helper that takes one is called (every callback of the
 * program: which one the helper gets is a register's value). This walk
 * follows the same order without register values or states: each
 * instruction is checked (check_insn) on its first visit in a frame, and a
 * second visit counts but ends the path (the kernel prunes only where it
 * finds an equal state, and it also skips branches it proves dead, so the
 * counts differ where paths branch). Code no path walks, an uncalled
 * callback or global function, is not checked, as on the kernel. Errors are
 * ones the kernel finds on every path through the instruction, so nothing it
 * accepts is rejected here except in a branch it proves dead.
 */
#define MAX_CALL_FRAMES 8

struct frame {                  /* a chain of call sites: the frames of a path */
	__u32 parent, callsite;         /* callsite UINT32_MAX: a walk of its own starts here */
	__u32 depth;
	bool callback;                  /* its exit goes back to the helper call */
};

/* 64-bit keys to 32-bit values, open addressing (key + 1 stored: 0 is empty) */
struct kmap {
	__u64 *keys;
	__u32 *vals;
	size_t cap, n;
};

static __u64 mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static size_t kmap_slot(const __u64 *keys, size_t cap, __u64 key)
{
	size_t h = mix64(key) & (cap - 1);
	while (keys[h] && keys[h] != key)
		h = (h + 1) & (cap - 1);
	return h;
}

/* *val: the key's value, set to val when the key is new. 1: found, 0: added, -ENOMEM */
static int kmap_get(struct kmap *m, __u64 key, __u32 val, __u32 *out)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		__u64 *keys = calloc(cap, sizeof(*keys));
		__u32 *vals = calloc(cap, sizeof(*vals));
		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -ENOMEM;
		}
		for (size_t k = 0; k < m->cap; k++)
			if (m->keys[k]) {
				size_t h = kmap_slot(keys, cap, m->keys[k]);
				keys[h] = m->keys[k];
				vals[h] = m->vals[k];
			}
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->cap = cap;
	}
	size_t h = kmap_slot(m->keys, m->cap, key + 1);
	if (m->keys[h]) {
		if (out)
			*out = m->vals[h];
		return 1;
	}
	m->keys[h] = key + 1;
	m->vals[h] = val;
	m->n++;
	if (out)
		*out = val;
	return 0;
}

static void kmap_free(struct kmap *m)
{
	free(m->keys);
	free(m->vals);
}

struct walk {
	const struct bpf_insn *insns;
	__u32 cnt;
	const struct flow *fl;
	const struct prog_ctx *pc;
	struct vlog *log;
	struct kmap seen;               /* frame << 32 | insn: visited */
	struct kmap calls;              /* parent << 32 | callsite: the callee's frame */
	struct frame *frames;
	__u32 nframes, frames_cap;
	struct { __u32 insn, frame; } *todo;   /* paths kept for later */
	size_t ntodo, todo_cap;
	bool called[256], walked[256];
	bool kfunc0;                    /* a kfunc call of id 0 was walked */
	__u32 processed, states;
};

/* A frame: of a call at callsite in parent (the same one each time), or a walk's own (callsite UINT32_MAX). */
static long frame_get(struct walk *w, __u32 parent, __u32 callsite, bool callback)
{
	__u32 idx;
	int r = 0;
	if (callsite != UINT32_MAX && (r = kmap_get(&w->calls, (__u64)parent << 32 | callsite, w->nframes, &idx)))
		return r < 0 ? r : (long)idx;
	if (w->nframes == w->frames_cap) {
		__u32 cap = w->frames_cap ? 2 * w->frames_cap : 64;
		struct frame *f = realloc(w->frames, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		w->frames = f;
		w->frames_cap = cap;
	}
	bool own = callsite == UINT32_MAX;
	w->frames[w->nframes] = (struct frame){ own ? 0 : parent, callsite, own ? 0 : w->frames[parent].depth + 1,
						callback };
	return w->nframes++;
}

static int todo_push(struct walk *w, __u32 insn, __u32 frame)
{
	if (w->ntodo == w->todo_cap) {
		size_t cap = w->todo_cap ? 2 * w->todo_cap : 64;
		void *t = realloc(w->todo, cap * sizeof(*w->todo));
		if (!t)
			return -ENOMEM;
		w->todo = t;
		w->todo_cap = cap;
	}
	w->todo[w->ntodo].insn = insn;
	w->todo[w->ntodo].frame = frame;
	w->ntodo++;
	return 0;
}

/* helpers that call back into the program: for_each_map_elem, timer_set_callback, find_vma, loop, user_ringbuf_drain */
static bool takes_callback(__s32 id)
{
	return id == 164 || id == 170 || id == 180 || id == 181 || id == 209;
}

/* One path from insn in frame to its end, and the paths kept on the way (until none is left). */
static int walk_paths(struct walk *w, __u32 insn, __u32 frame)
{
	const struct bpf_insn *insns = w->insns;
	int err;

	for (;;) {
		if (insn >= w->cnt) {   /* a path that ended: take up the last one kept */
			if (!w->ntodo)
				return 0;
			w->ntodo--;
			insn = w->todo[w->ntodo].insn;
			frame = w->todo[w->ntodo].frame;
			continue;
		}
		if (++w->processed > BPF_COMPLEXITY_LIMIT_INSNS) {
			vlog(w->log, "BPF program is too large. Processed %u insn\n", w->processed);
			return -E2BIG;
		}
		err = kmap_get(&w->seen, (__u64)frame << 32 | insn, 0, NULL);
		if (err < 0)
			return err;
		if (err) {              /* seen in this frame: checked, end of the path */
			insn = w->cnt;
			continue;
		}
		const struct bpf_insn *in = &insns[insn];
		__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		if (in->code == (BPF_JMP | BPF_JCOND) && in->src_reg == 0)   /* is_may_goto_insn(): a forced checkpoint */
			w->states++;
		err = check_insn(insns, insn, w->fl, w->pc, w->log);
		if (err)
			return err;

		if (is_ldimm64(in)) {
			insn += 2;
		} else if (cls != BPF_JMP && cls != BPF_JMP32) {
			insn++;
		} else if (op == BPF_EXIT) {
			const struct frame *f = &w->frames[frame];
			if (f->callsite == UINT32_MAX) {
				insn = w->cnt;
			} else {        /* back to the caller; from a callback to the helper call */
				insn = f->callsite + (f->callback ? 0 : 1);
				frame = f->parent;
			}
		} else if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_CALL) {
			__u32 target = insn + (__u32)in->imm + 1u, k = target < w->cnt ? w->fl->sub[target] : 0;
			if (target >= w->cnt || w->fl->global[k]) {
				w->called[k] = true;
				insn++;
				continue;
			}
			if (w->frames[frame].depth + 1 >= MAX_CALL_FRAMES) {
				vlog(w->log, "the call stack of %u frames is too deep\n", w->frames[frame].depth + 2);
				return -E2BIG;
			}
			long f = frame_get(w, frame, insn, false);
			if (f < 0)
				return (int)f;
			frame = (__u32)f;
			insn = target;
		} else if (op == BPF_CALL) {
			w->kfunc0 |= in->src_reg == BPF_PSEUDO_KFUNC_CALL;   /* (any other kfunc failed before) */
			if (in->src_reg == 0 && takes_callback(in->imm))
				for (__u32 k = w->fl->nsub; k-- > 1;)
					if (w->fl->callback[k]) {
						long f = frame_get(w, frame, insn, true);
						if (f < 0 || (err = todo_push(w, w->fl->starts[k], (__u32)f)))
							return f < 0 ? (int)f : err;
					}
			insn++;
		} else if (op == BPF_JA) {
			insn += (__u32)(cls == BPF_JMP32 ? in->imm : in->off) + 1u;
		} else if (op == BPF_JCOND) {   /* may_goto: the jump first */
			if ((err = todo_push(w, insn + 1, frame)))
				return err;
			insn += (__u32)in->off + 1u;
		} else {                        /* a conditional jump: the fall-through first */
			if ((err = todo_push(w, insn + (__u32)in->off + 1u, frame)))
				return err;
			insn++;
		}
	}
}

/*
 * The walk of the main program, then of the global functions called (in
 * subprogram order, again while walks call more), each one that passes
 * with the kernel's line saying so (the only one left of the log before it). *processed is the count
 * of instruction visits (the statistics line, verified_insns): for
 * straight-line code up to and including the failing instruction, ld_imm64
 * once; *states the states the kernel keeps on such code, one at each
 * may_goto (src_reg 0: a forced checkpoint, before the instruction is
 * checked).
 */
static int check_walk(const struct bpf_insn *insns, __u32 cnt, const struct flow *fl, const struct prog_ctx *pc,
		      struct vlog *log, __u32 *processed, __u32 *states)
{
	struct walk w = { .insns = insns, .cnt = cnt, .fl = fl, .pc = pc, .log = log };
	long f = frame_get(&w, 0, UINT32_MAX, false);
	int err = f < 0 ? (int)f : walk_paths(&w, 0, (__u32)f);
	for (bool more = true; !err && more;) {
		more = false;
		for (__u32 k = 1; !err && k < fl->nsub; k++)
			if (w.called[k] && !w.walked[k]) {
				w.walked[k] = more = true;
				f = frame_get(&w, 0, UINT32_MAX, false);
				err = f < 0 ? (int)f : walk_paths(&w, fl->starts[k], (__u32)f);
				/* a walk that passes leaves the log (level 1) as it found it at the start
				 * of the verification, then its verdict */
				if (!err && k < pc->nr_finfo) {
					log->len = 0;
					if (log->buf)
						log->buf[0] = '\0';
					vlog(log, "Func#%u ('%s') is safe for any args that match its prototype\n", k,
					     pc->names[k]);
				}
			}
	}
	/* do_misc_fixups(): a kfunc call of id 0 dead code did not remove */
	if (!err && w.kfunc0) {
		vlog(log, "invalid kernel function call not eliminated in verifier pass\n");
		err = -EINVAL;
	}
	*processed = w.processed;
	*states = w.states;
	kmap_free(&w.seen);
	kmap_free(&w.calls);
	free(w.frames);
	free(w.todo);
	return err;
}

/* The kernel's prog tag (Linux 6.18, bpf_prog_calc_tag): the first 8 bytes
 * of the SHA-256 of the instructions with map fds and map value offsets of
 * ld_imm64 zeroed (older kernels used SHA-1). */
static __u32 ror32(__u32 x, int n) { return x >> n | x << (32 - n); }

static void sha256(const unsigned char *msg, size_t len, unsigned char out[32])
{
	static const __u32 k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
		0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
		0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
		0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
		0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
		0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
		0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
		0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
	};
	__u32 h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	size_t total = ((len + 8) / 64 + 1) * 64;
	unsigned char *m = calloc(1, total);
	if (!m) {
		memset(out, 0, 32);
		return;
	}
	memcpy(m, msg, len);
	m[len] = 0x80;
	__u64 bits = (__u64)len * 8;
	for (int i = 0; i < 8; i++)
		m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < total; off += 64) {
		__u32 w[64];
		for (int i = 0; i < 16; i++)
			w[i] = (__u32)m[off + 4 * i] << 24 | (__u32)m[off + 4 * i + 1] << 16 |
			       (__u32)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
		for (int i = 16; i < 64; i++) {
			__u32 s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
			__u32 s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		__u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			__u32 t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
			__u32 t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
	}
	free(m);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void prog_tag(const struct bpf_insn *insns, __u32 cnt, __u8 tag[8])
{
	struct bpf_insn *copy = malloc((size_t)cnt * sizeof(*copy));
	unsigned char digest[32];
	if (!copy) {
		memset(tag, 0, 8);
		return;
	}
	memcpy(copy, insns, (size_t)cnt * sizeof(*copy));
	for (__u32 i = 0; i + 1 < cnt; i++)
		if (is_ldimm64(&copy[i])) {
			if (copy[i].src_reg == BPF_PSEUDO_MAP_FD || copy[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
				copy[i].imm = 0;
				copy[i + 1].imm = 0;
			}
			i++;
		}
	sha256((const unsigned char *)copy, (size_t)cnt * sizeof(*copy), digest);
	memcpy(tag, digest, 8);
	free(copy);
}

static int log_check(const struct emu_prog_spec *s)
{
	/* bpf_vlog_init(): a level needs a buffer of at least 128 bytes; a buffer needs a level */
	if (s->log_level || s->log_buf || s->log_size) {
		if (s->log_level & ~(__u32)(1 | 2 | 4 | 8))   /* BPF_LOG_LEVEL1|2|STATS|FIXED */
			return -EINVAL;
		if (!s->log_level && (s->log_buf || s->log_size))
			return -EINVAL;
		if (s->log_level && (!s->log_buf || s->log_size < 128 || s->log_size > UINT32_MAX >> 2))
			return -EINVAL;
	}
	return 0;
}

/* A type this kernel's bpf_prog_load() finds (emu/helpers.h lists the ones
 * Linux 6.18 lacks here among the first 40 that tools/gen/helpers.c probes). */
static bool prog_type_known(__u32 type)
{
	if (type == BPF_PROG_TYPE_UNSPEC || type >= 40)
		return false;
	for (size_t k = 0; k < ARRAY_SIZE(emu_absent_prog_types); k++)
		if (emu_absent_prog_types[k] == type)
			return false;
	return true;
}

#define B(n) (1ull << (n))
/*
 * bpf_prog_load_check_attach()'s expected_attach_type rules, as Linux 6.18
 * answers "r0 = 0; exit" of each type with each attach type below 64 (an
 * attach type outside a type's set is EINVAL before anything is copied; 0
 * stands for the default the kernel fills in for cgroup_sock and
 * sk_reuseport). Types not listed take any attach type here.
 */
static const struct {
	__u32 type;
	__u64 allowed;
} attach_rules[] = {
	{ BPF_PROG_TYPE_CGROUP_SKB, B(BPF_CGROUP_INET_INGRESS) | B(BPF_CGROUP_INET_EGRESS) },
	{ BPF_PROG_TYPE_CGROUP_SOCK, B(0) | B(BPF_CGROUP_INET_SOCK_CREATE) | B(BPF_CGROUP_INET4_POST_BIND) |
					 B(BPF_CGROUP_INET6_POST_BIND) | B(BPF_CGROUP_INET_SOCK_RELEASE) },
	{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
	  B(BPF_CGROUP_INET4_BIND) | B(BPF_CGROUP_INET6_BIND) | B(BPF_CGROUP_INET4_CONNECT) |
		  B(BPF_CGROUP_INET6_CONNECT) | B(BPF_CGROUP_UDP4_SENDMSG) | B(BPF_CGROUP_UDP6_SENDMSG) |
		  B(BPF_CGROUP_UDP4_RECVMSG) | B(BPF_CGROUP_UDP6_RECVMSG) | B(BPF_CGROUP_INET4_GETPEERNAME) |
		  B(BPF_CGROUP_INET6_GETPEERNAME) | B(BPF_CGROUP_INET4_GETSOCKNAME) | B(BPF_CGROUP_INET6_GETSOCKNAME) |
		  B(49) | B(50) | B(51) | B(52) | B(53) },      /* the unix socket ones, newer than our headers */
	{ BPF_PROG_TYPE_SK_REUSEPORT, B(0) | B(BPF_SK_REUSEPORT_SELECT) | B(BPF_SK_REUSEPORT_SELECT_OR_MIGRATE) },
	{ BPF_PROG_TYPE_CGROUP_SOCKOPT, B(BPF_CGROUP_GETSOCKOPT) | B(BPF_CGROUP_SETSOCKOPT) },
	{ BPF_PROG_TYPE_SK_LOOKUP, B(BPF_SK_LOOKUP) },
	{ BPF_PROG_TYPE_SYSCALL, B(0) },
	{ 32 /* BPF_PROG_TYPE_NETFILTER */, B(45) /* BPF_NETFILTER */ },
};
#undef B

static bool attach_type_ok(__u32 type, __u32 attach_type)
{
	for (size_t k = 0; k < ARRAY_SIZE(attach_rules); k++)
		if (attach_rules[k].type == type)
			return attach_type < 64 && (attach_rules[k].allowed >> attach_type & 1);
	return true;
}

/* can_be_sleepable(): fentry/fexit/fmod_ret and iter tracing, lsm, kprobe (uprobes), struct_ops */
static bool can_sleep(__u32 type, __u32 attach_type)
{
	if (type == BPF_PROG_TYPE_TRACING)
		return attach_type == BPF_TRACE_FENTRY || attach_type == BPF_TRACE_FEXIT ||
		       attach_type == BPF_MODIFY_RETURN || attach_type == BPF_TRACE_ITER;
	return type == BPF_PROG_TYPE_LSM || type == BPF_PROG_TYPE_KPROBE || type == BPF_PROG_TYPE_STRUCT_OPS;
}

/*
 * check_attach_btf_id(), after check_cfg() and before the main walk: syscall
 * programs must be sleepable, only some types may be; struct_ops, tracing,
 * lsm and ext programs are checked against the kernel's BTF by
 * emu/btf_kernel.c (registered struct_ops types, bpf_check_attach_target(),
 * the deny lists, LSM hooks, iterator targets) with the verifier's messages.
 */
static int check_attach(const struct emu_prog_spec *s, bool gpl, const struct emu_attach_target *tgt, struct vlog *log)
{
	__u32 type = s->prog_type, eat = s->expected_attach_type;
	bool sleepable = s->prog_flags & BPF_F_SLEEPABLE;

	if (type == BPF_PROG_TYPE_SYSCALL) {
		if (!sleepable) {
			vlog(log, "Syscall programs can only be sleepable\n");
			return -EINVAL;
		}
		return 0;
	}
	if (sleepable && !can_sleep(type, eat)) {
		vlog(log, "Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable\n");
		return -EINVAL;
	}
	/* check_struct_ops_btf_id() and bpf_check_attach_target(): against the kernel's BTF (emu/btf_kernel.c) */
	char msg[512];
	struct emu_attach_check ac = { .prog_type = type, .eat = eat, .btf_id = s->attach_btf_id, .sleepable = sleepable,
				       .gpl = gpl, .btf_obj_id = tgt->btf_obj_id, .dst_prog_fd = tgt->dst_prog_fd };
	int err = emu_attach_btf_check(&ac, msg, sizeof(msg));
	if (msg[0])
		vlog(log, "%s", msg);
	return err;
}

int emu_prog_load(const struct emu_prog_spec *s)
{
	struct btf_info_out bi = { 0 };
	char license[128];
	int err;

	if (s->prog_flags & ~PROG_FLAGS_MASK)
		return -EINVAL;
	if (s->insn_cnt == 0 || s->insn_cnt > BPF_COMPLEXITY_LIMIT_INSNS)
		return -E2BIG;
	/* attach_prog_fd / attach_btf_obj_fd, or vmlinux's BTF for attach_btf_id (emu/btf_kernel.c) */
	struct emu_attach_target tgt;
	err = emu_attach_btf_resolve(s->prog_type, s->attach_prog_fd, s->attach_btf_id, &tgt);
	if (err)
		return err;
	/* bpf_prog_load_check_attach(): only these types name a BTF type to attach to */
	if (s->attach_btf_id && (s->attach_btf_id > BTF_MAX_TYPE ||
				 (s->prog_type != BPF_PROG_TYPE_TRACING && s->prog_type != BPF_PROG_TYPE_LSM &&
				  s->prog_type != BPF_PROG_TYPE_STRUCT_OPS && s->prog_type != BPF_PROG_TYPE_EXT)))
		return -EINVAL;
	if (!attach_type_ok(s->prog_type, s->expected_attach_type)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program type %u does not take expected_attach_type %u: EINVAL",
			s->prog_type, s->expected_attach_type);
		return -EINVAL;
	}
	size_t bytes = (size_t)s->insn_cnt * sizeof(struct bpf_insn);
	struct bpf_insn *insns = malloc(bytes);
	if (!insns)
		return -ENOMEM;
	err = emu_copy_from_user(insns, s->insns, bytes);
	if (err)
		goto out_insns;
	long n = emu_strncpy_from_user(license, s->license, sizeof(license));
	if (n == -EFAULT) {
		err = -EFAULT;
		goto out_insns;
	}
	if (n < 0)
		license[sizeof(license) - 1] = '\0';
	/* after the copies, as bpf_prog_load(): device binding, then find_prog_type() */
	if (s->ifindex) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: device offload is not possible: EINVAL");
		err = -EINVAL;
		goto out_insns;
	}
	if (!prog_type_known(s->prog_type)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program type %u is not one Linux 6.18 has here: EINVAL", s->prog_type);
		err = -EINVAL;
		goto out_insns;
	}
	bool gpl = !strcmp(license, "GPL") || !strcmp(license, "GPL v2") || !strcmp(license, "GPL and additional rights") ||
		   !strcmp(license, "Dual BSD/GPL") || !strcmp(license, "Dual MIT/GPL") || !strcmp(license, "Dual MPL/GPL");
	char name[EMU_OBJ_NAME_LEN];
	err = emu_obj_name_cpy(name, s->name, sizeof(name));
	if (err < 0)
		goto out_insns;
	err = log_check(s);
	if (err)
		goto out_insns;

	struct vlog log = { .size = s->log_level ? s->log_size : 0, .ubuf = s->log_buf };
	if (log.size && !(log.buf = calloc(1, log.size))) {
		err = -ENOMEM;
		goto out_insns;
	}
	__u32 map_ids[64], nr_maps = 0;
	struct prog_ctx pc = { .prog_type = s->prog_type, .expected_attach_type = s->expected_attach_type,
			       .prog_flags = s->prog_flags, .gpl = gpl };
	struct flow fl = { 0 };
	__u32 processed = 0, states = 0;   /* before the main walk: 0 */
	err = check_btf_info_early(s, &log, &bi);
	if (!err)
		err = check_calls(insns, s->insn_cnt, gpl, &log);
	if (!err)
		err = check_jumps(insns, s->insn_cnt, &log);
	if (!err)
		err = check_btf_info(s, insns, &log, &bi);
	if (!err)
		err = check_insns(insns, s->insn_cnt, &log, map_ids, &nr_maps, &pc.arena);
	pc.finfo = bi.finfo;
	pc.linkage = bi.linkage;
	pc.names = bi.names;
	pc.nr_finfo = bi.nr_finfo;
	if (!err)
		err = check_reach(insns, s->insn_cnt, &pc, &log, &fl);
	if (!err)
		err = check_attach(s, gpl, &tgt, &log);
	if (!err)
		err = check_walk(insns, s->insn_cnt, &fl, &pc, &log, &processed, &states);
	free(fl.init);
	free(fl.sub);
	/* print_verification_stats(): on every answer of the verifier proper */
	if (s->log_level)
		vlog(&log, "processed %u insns (limit %u) max_states_per_insn 0 total_states %u peak_states %u mark_read 0\n",
		     processed, BPF_COMPLEXITY_LIMIT_INSNS, states, states);
	if (!err)
		err = claim_prog_arrays(insns, s->insn_cnt, s->prog_type);
	if (log.buf && log.len) {
		int cerr = emu_copy_to_user(log.ubuf, log.buf, log.len + 1);
		if (cerr && !err)
			err = cerr;
	}
	free(log.buf);
	if (err) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program rejected: %s", strerror(-err));
		goto out_insns;
	}

	struct emu_obj *prog;
	size_t fbytes = (size_t)bi.nr_finfo * sizeof(struct bpf_func_info);
	size_t lbytes = (size_t)bi.nr_linfo * sizeof(struct bpf_line_info);
	int fd = emu_obj_create(EMU_KIND_PROG, bytes + fbytes + lbytes, &prog);
	if (fd < 0) {
		err = fd;
		goto out_insns;
	}
	struct emu_obj_hdr *h = prog->hdr;
	memcpy(h->name, name, sizeof(h->name));
	struct emu_prog_desc *p = &h->prog;
	p->prog_type = s->prog_type;
	p->expected_attach_type = s->expected_attach_type;
	p->insn_cnt = s->insn_cnt;
	p->prog_flags = s->prog_flags;
	p->gpl_compatible = gpl;
	p->load_time = emu_ktime_boot_ns();
	p->created_by_uid = (__u32)getuid();
	p->verified_insns = processed;
	p->nr_map_ids = nr_maps;
	memcpy(p->map_ids, map_ids, nr_maps * sizeof(__u32));
	prog_tag(insns, s->insn_cnt, p->tag);
	memcpy(emu_obj_data(prog), insns, bytes);
	p->btf_id = bi.btf_id;
	p->nr_func_info = bi.nr_finfo;
	p->nr_line_info = bi.nr_linfo;
	p->attach_btf_id = s->attach_btf_id;
	p->attach_btf_obj_id = tgt.btf_obj_id;
	if (fbytes)
		memcpy((char *)emu_obj_data(prog) + bytes, bi.finfo, fbytes);
	if (lbytes)
		memcpy((char *)emu_obj_data(prog) + bytes + fbytes, bi.linfo, lbytes);
	h->id = emu_id_alloc(EMU_KIND_PROG);
	if (!h->id) {
		emu_os_close(fd);
		emu_obj_put(prog);
		err = -ENOSPC;
		goto out_insns;
	}
	if (bi.btf_id) {
		/* the program holds its BTF (prog->aux->btf), as a map holds its own */
		struct emu_obj *btf;
		int acc;
		if (!emu_fd_get((int)s->prog_btf_fd, EMU_KIND_BTF, &btf, &acc)) {
			err = emu_obj_hold_btf(prog, (int)s->prog_btf_fd, btf);
			emu_obj_put(btf);
			if (err) {
				emu_os_close(fd);
				emu_obj_put(prog);
				goto out_insns;
			}
		}
	}
	/* the VM: references to the maps, map ids in the stored instructions, decoded */
	err = emu_vm_prog_loaded(prog, insns, s->insn_cnt);
	if (err) {
		emu_os_close(fd);
		emu_obj_put(prog);
		goto out_insns;
	}
	__atomic_store_n(&h->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install_acc(fd, prog, O_RDWR);
	err = fd;
out_insns:
	btf_info_free(&bi);
	free(insns);
	return err;
}

int emu_prog_bind_map(int prog_fd, int map_fd)
{
	struct emu_obj *prog, *map;
	int acc, err = emu_fd_get(prog_fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;
	err = emu_fd_get(map_fd, EMU_KIND_MAP, &map, &acc);
	if (err) {
		emu_obj_put(prog);
		return err;
	}
	struct emu_prog_desc *p = &prog->hdr->prog;
	emu_obj_lock(prog);
	__u32 k = 0;
	while (k < p->nr_map_ids && p->map_ids[k] != map->hdr->id)
		k++;
	if (k == p->nr_map_ids) {
		if (p->nr_map_ids < ARRAY_SIZE(p->map_ids))
			p->map_ids[p->nr_map_ids++] = map->hdr->id;
		else
			err = -E2BIG;
	}
	emu_obj_unlock(prog);
	emu_obj_put(map);
	emu_obj_put(prog);
	return err;
}

int emu_prog_fill_info(struct emu_obj *prog, struct bpf_prog_info *info, __u32 *map_ids_out, __u32 nr_map_ids)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	memset(info, 0, sizeof(*info));
	info->type = p->prog_type;
	info->id = prog->hdr->id;
	memcpy(info->tag, p->tag, sizeof(info->tag));
	info->xlated_prog_len = p->insn_cnt * 8;
	info->load_time = p->load_time;
	info->created_by_uid = p->created_by_uid;
	info->nr_map_ids = p->nr_map_ids;
	memcpy(info->name, prog->hdr->name, sizeof(info->name));
	info->gpl_compatible = p->gpl_compatible;
	info->verified_insns = p->verified_insns ? p->verified_insns : p->insn_cnt;   /* 0: an object of an older bpfemu */
	info->func_info_rec_size = sizeof(struct bpf_func_info);
	info->line_info_rec_size = sizeof(struct bpf_line_info);
	info->jited_line_info_rec_size = sizeof(__u64);
	info->nr_prog_tags = 1;                      /* no subprograms: the program's own tag */
	info->btf_id = p->btf_id;
	info->nr_func_info = p->nr_func_info;
	info->nr_line_info = p->nr_line_info;
	info->attach_btf_id = p->attach_btf_id;
	info->attach_btf_obj_id = p->attach_btf_obj_id;
	if (map_ids_out)
		memcpy(map_ids_out, p->map_ids, (nr_map_ids < p->nr_map_ids ? nr_map_ids : p->nr_map_ids) * 4);
	return 0;
}
