/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/env.h: the verifier's own state, shared by its files.
 *
 * The shapes follow Linux 6.18's struct bpf_reg_state, bpf_func_state,
 * bpf_verifier_state and bpf_verifier_env, because the answers (which
 * states prune which, what the log prints) depend on them: a register has a
 * type, a fixed offset, a tnum and signed/unsigned 32- and 64-bit bounds, an
 * id (null checks, packet ranges, linked scalars), a reference id and a
 * precision mark; a frame has eleven registers and a stack of 8-byte slots;
 * a state has frames, acquired references and a history of jumps.
 */
#ifndef BPFEMU_VERIFIER_ENV_H
#define BPFEMU_VERIFIER_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include "../obj.h"
#include "tnum.h"
#include "verifier.h"

#define BPF_REG_FP 10
#define BPF_REG_SIZE 8
#define MAX_BPF_STACK 512
#define MAX_CALL_FRAMES 8
#define MAX_SUBPROGS 256
#define BPF_COMPLEXITY_LIMIT_INSNS 1000000u
#define BPF_COMPLEXITY_LIMIT_JMP_SEQ 8192
#define BPF_COMPLEXITY_LIMIT_STATES 64
#define BPF_MAX_VAR_OFF (1 << 29)
#define BPF_MAX_VAR_SIZ (1 << 29)
#define MAX_USED_MAPS 64
#define BPF_ID_MAP_SIZE ((MAX_BPF_REG + MAX_BPF_STACK / BPF_REG_SIZE) * MAX_CALL_FRAMES)
#define BPF_ADD_CONST (1u << 31)
#define MAX_BPF_FUNC_ARGS 12
#define MAX_BPF_FUNC_REG_ARGS 5
#define MAX_PACKET_OFF 0xffff
#define MAX_ERRNO 4095
#define CALLER_SAVED_REGS 6
#define BPF_REGMASK_ARGS ((1u << BPF_REG_1) | (1u << BPF_REG_2) | (1u << BPF_REG_3) | (1u << BPF_REG_4) | \
			  (1u << BPF_REG_5))
#define BPF_MAIN_FUNC (-1)
#define TMP_STR_BUF_LEN 320

#define S64_MIN INT64_MIN
#define S64_MAX INT64_MAX
#define U64_MAX UINT64_MAX
#define S32_MIN INT32_MIN
#define S32_MAX INT32_MAX
#define U32_MAX UINT32_MAX

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define BIT(n) (1ull << (n))
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#ifndef BPF_LOAD_ACQ
#define BPF_LOAD_ACQ 0x100
#define BPF_STORE_REL 0x110
#endif
#ifndef BPF_ADDR_SPACE_CAST
#define BPF_ADDR_SPACE_CAST 1
#endif
#ifndef BPF_PSEUDO_KFUNC_CALL
#define BPF_PSEUDO_KFUNC_CALL 2
#endif
#ifndef ENOTSUPP
#define ENOTSUPP 524     /* the kernel's internal "operation not supported", seen by user space */
#endif
#define MAP_TYPE_ARENA 33
#define MAP_TYPE_CGRP_STORAGE 32
#define FUNC_user_ringbuf_drain 209
#define FUNC_cgrp_storage_get 210
#define FUNC_cgrp_storage_delete 211
#define PROG_TYPE_NETFILTER 32
#define TRACE_KPROBE_SESSION 56
#define TRACE_UPROBE_SESSION 57

/* ---- register types (enum bpf_reg_type): a base type and flags ---- */
enum vtype {
	NOT_INIT = 0,
	SCALAR_VALUE,
	PTR_TO_CTX,
	CONST_PTR_TO_MAP,
	PTR_TO_MAP_VALUE,
	PTR_TO_MAP_KEY,
	PTR_TO_STACK,
	PTR_TO_PACKET_META,
	PTR_TO_PACKET,
	PTR_TO_PACKET_END,
	PTR_TO_FLOW_KEYS,
	PTR_TO_SOCKET,
	PTR_TO_SOCK_COMMON,
	PTR_TO_TCP_SOCK,
	PTR_TO_TP_BUFFER,
	PTR_TO_XDP_SOCK,
	PTR_TO_BTF_ID,
	PTR_TO_MEM,
	PTR_TO_ARENA,
	PTR_TO_BUF,
	PTR_TO_FUNC,
	CONST_PTR_TO_DYNPTR,
	__BPF_REG_TYPE_MAX,
};
#define BASE_BITS 8
#define BASE_MASK ((1u << BASE_BITS) - 1)
enum vflag {
	PTR_MAYBE_NULL = 1u << (0 + BASE_BITS),
	MEM_RDONLY = 1u << (1 + BASE_BITS),
	MEM_RINGBUF = 1u << (2 + BASE_BITS),
	MEM_USER = 1u << (3 + BASE_BITS),
	MEM_PERCPU = 1u << (4 + BASE_BITS),
	OBJ_RELEASE = 1u << (5 + BASE_BITS),
	PTR_UNTRUSTED = 1u << (6 + BASE_BITS),
	MEM_UNINIT = 1u << (7 + BASE_BITS),
	DYNPTR_TYPE_LOCAL = 1u << (8 + BASE_BITS),
	DYNPTR_TYPE_RINGBUF = 1u << (9 + BASE_BITS),
	MEM_FIXED_SIZE = 1u << (10 + BASE_BITS),
	MEM_ALLOC = 1u << (11 + BASE_BITS),
	PTR_TRUSTED = 1u << (12 + BASE_BITS),
	MEM_RCU = 1u << (13 + BASE_BITS),
	NON_OWN_REF = 1u << (14 + BASE_BITS),
	DYNPTR_TYPE_SKB = 1u << (15 + BASE_BITS),
	DYNPTR_TYPE_XDP = 1u << (16 + BASE_BITS),
	MEM_ALIGNED = 1u << (17 + BASE_BITS),
	MEM_WRITE = 1u << (18 + BASE_BITS),
	DYNPTR_TYPE_SKB_META = 1u << (19 + BASE_BITS),
};
#define DYNPTR_TYPE_FLAG_MASK (DYNPTR_TYPE_LOCAL | DYNPTR_TYPE_RINGBUF | DYNPTR_TYPE_SKB | DYNPTR_TYPE_XDP | \
			       DYNPTR_TYPE_SKB_META)
static inline __u32 base_type(__u32 t) { return t & BASE_MASK; }
static inline __u32 type_flag(__u32 t) { return t & ~BASE_MASK; }
static inline bool type_may_be_null(__u32 t) { return t & PTR_MAYBE_NULL; }

/* A map as the verifier sees it (one per map the program names). */
struct vmap {
	__u32 id, type, key_size, value_size, max_entries, map_flags;
	__u64 map_extra;
	char name[16];
	bool frozen, rdonly;
	__u32 btf_id, btf_value_type_id;
	__s32 spin_lock_off;
	__u32 special;          /* the btf_record's field types (EMU_FIELD_*), 0: none */
	__u32 nr_fields;        /* the btf_record, by offset */
	struct emu_map_field fields[EMU_MAP_FIELDS_MAX];
	struct emu_obj *obj;    /* held for the whole verification */
	struct vmap *inner;     /* map-in-map: the inner template (owned) */
};

/* ---- the register (struct bpf_reg_state): the order up to id is compared with memcmp ---- */
struct vreg {
	__u32 type;
	__s32 off;              /* fixed offset of a pointer; delta of a BPF_ADD_CONST scalar */
	union {
		int range;                          /* packet pointers: bytes proven readable after off */
		struct {
			const struct vmap *map_ptr; /* map value, map key, const map ptr */
			__u32 map_uid;
		};
		struct {
			const void *btf;            /* PTR_TO_BTF_ID: the kernel BTF (struct kbtf), NULL unknown */
			__u32 btf_id;
		};
		struct {
			__u32 mem_size;             /* PTR_TO_MEM, PTR_TO_BUF... */
			__u32 dynptr_id;
		};
		struct {
			__u32 type;
			bool first_slot;
		} dynptr;
		struct {
			const void *btf;            /* the kernel BTF (struct kbtf) of the iterator's struct */
			__u32 btf_id;               /* struct bpf_iter_<type> */
			__u32 state : 2;            /* BPF_ITER_STATE_* */
			__u32 depth : 30;           /* iterations walked (the kernel's int depth:30) */
		} iter;
		__u32 subprogno;                    /* PTR_TO_FUNC */
		__u64 raw[2];
	};
	struct tnum var_off;
	__s64 smin_value, smax_value;
	__u64 umin_value, umax_value;
	__s32 s32_min_value, s32_max_value;
	__u32 u32_min_value, u32_max_value;
	__u32 id;
	__u32 ref_obj_id;
	__u32 frameno;
	__s32 subreg_def;
	bool precise;
};

enum { STACK_INVALID, STACK_SPILL, STACK_MISC, STACK_ZERO, STACK_DYNPTR, STACK_ITER, STACK_IRQ_FLAG };

struct vslot {
	struct vreg spilled_ptr;
	__u8 slot_type[BPF_REG_SIZE];
};

struct retval_range {
	__s32 minval, maxval;
};

struct vfunc {
	struct vreg regs[MAX_BPF_REG];
	int callsite;           /* the call instruction in the caller, BPF_MAIN_FUNC for a walk of its own */
	__u32 frameno;
	__u32 subprogno;
	__u32 async_entry_cnt;
	struct retval_range callback_ret_range;
	bool in_callback_fn;
	bool in_async_callback_fn;
	bool in_exception_callback_fn;
	__u32 callback_depth;
	int allocated_stack;    /* bytes */
	struct vslot *stack;    /* allocated_stack / 8 slots: [0] is fp-8 */
};

enum ref_type { REF_TYPE_PTR = 1, REF_TYPE_IRQ = 2, REF_TYPE_LOCK = 4 };
struct vref {
	__u32 id;
	int insn_idx;
	int type;
	const void *ptr;
};

/* a jump (or call return, stack spill/fill) of the current path since the last checkpoint */
struct jmp_hist {
	__u32 idx, prev_idx;
	__u32 flags;            /* INSN_F_* */
	__u64 linked_regs;
};
#define INSN_F_FRAMENO_MASK 0x7
#define INSN_F_SPI_MASK 0x3f
#define INSN_F_SPI_SHIFT 3
#define INSN_F_STACK_ACCESS (1u << 9)
#define INSN_F_DST_REG_STACK (1u << 10)
#define INSN_F_SRC_REG_STACK (1u << 11)

struct vstate {
	struct vfunc *frame[MAX_CALL_FRAMES];
	struct vstate *parent;
	__u32 branches;
	__u32 insn_idx;
	__u32 curframe;
	struct vref *refs;
	__u32 acquired_refs;
	__u32 active_locks, active_preempt_locks, active_rcu_lock, active_irq_id, active_lock_id;
	const void *active_lock_ptr;
	bool speculative, in_sleepable, cleaned;
	__u32 first_insn_idx;
	int last_insn_idx;
	struct vstate *equal_state;
	struct jmp_hist *jmp_history;
	__u32 jmp_history_cnt;
	__u32 dfs_depth, callback_unroll_depth, may_goto_depth;
};

struct vstate_list {
	struct vstate state;
	struct vstate_list *next, *prev;        /* in a bucket of explored states or the free list */
	__u32 miss_cnt, hit_cnt;
	bool in_free_list;
};

struct vstack_elem {
	struct vstate st;
	int insn_idx, prev_insn_idx;
	struct vstack_elem *next;
	__u64 log_pos;
};

/* strongly connected components: a visit of one per call chain, with the back edges seen inside */
struct scc_callchain {
	__u32 callsites[MAX_CALL_FRAMES - 1];
	__u32 scc;
};
struct scc_backedge {
	struct scc_backedge *next;
	struct vstate state;
};
struct scc_visit {
	struct scc_callchain callchain;
	struct vstate *entry_state;
	struct scc_backedge *backedges;
	__u32 num_backedges;
};
struct scc_info {
	__u32 num_visits;
	struct scc_visit *visits;
};

/* per-instruction facts of the walk (the kernel's bpf_insn_aux_data) */
struct vaux {
	__u32 ptr_type;         /* save_aux_ptr_type(): the pointer type a load/store used first */
	bool prune_point, jmp_point, force_checkpoint, calls_callback;
	bool seen;
	bool nospec, nospec_result;
	bool is_iter_next;              /* a kfunc call of an iterator's next (KF_ITER_NEXT) */
	__u8 taken_seen;                /* conditional jumps: 1 fall-through walked, 2 target walked */
	__u16 live_regs_before;
	__u32 scc;
	const struct vmap *map_ptr;     /* helper calls on maps: the map the call saw */
	bool map_ptr_poison;
	__u64 map_key_state;
	int ctx_field_size;
	__u8 mem;                       /* enum emu_mem_region */
	bool mem_unproven;              /* some path reached it without a proof */
	__s32 fixed_off;
	bool fixed_off_set;
	__u32 map_index;                /* ld_imm64 of a map: index into env->maps */
	__u32 map_off;                  /* ld_imm64 map value: the offset */
	struct {
		__u32 reg_type, mem_size, btf_id;
		const void *btf;
	} btf_var;                      /* ld_imm64 of a kernel symbol (BPF_PSEUDO_BTF_ID) */
};

struct vsubprog {
	__u32 start;
	__u32 linkage;                  /* from func_info: BTF_FUNC_STATIC / GLOBAL / EXTERN */
	bool has_func_info;
	bool scalar_ret, void_ret;
	int exit_idx;
	char *name;
	__u32 btf_type_id;              /* the FUNC of func_info */
	__u16 stack_depth;
	bool has_tail_call, has_ld_abs, tail_call_reachable;
	bool is_cb, is_async_cb, is_exception_cb;
	bool changes_pkt_data, might_sleep;
	bool called;                    /* a global function some walked path called */
	bool verified, unreliable;
	__u32 postorder_start;
	/* a global function's arguments from its BTF prototype (btf_prepare_func_args) */
	bool args_cached;
	int args_err;
	__u32 arg_cnt;
	__u32 arg_type[MAX_BPF_FUNC_REG_ARGS];
	__u32 arg_mem_size[MAX_BPF_FUNC_REG_ARGS];
	__u32 arg_btf_id[MAX_BPF_FUNC_REG_ARGS];
};

/* the verifier log: Linux 6.18's rotating buffer, copied out at the end */
struct vlog {
	__u32 level;
	__u32 len_total;
	void *ubuf;
	char *buf;              /* our copy, len_total bytes (a ring unless BPF_LOG_FIXED) */
	__u64 start_pos, end_pos, len_max;
	__u64 hi;               /* bytes [0, hi) of the user's buffer were written */
};
#define BPF_LOG_LEVEL1 1
#define BPF_LOG_LEVEL2 2
#define BPF_LOG_STATS 4
#define BPF_LOG_FIXED 8
#define BPF_LOG_LEVEL (BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2)

/* the backtracking state of precision marking (struct backtrack_state) */
struct vbt {
	__u32 frame;
	__u32 reg_masks[MAX_CALL_FRAMES];
	__u64 stack_masks[MAX_CALL_FRAMES];
};

struct vidmap {
	struct { __u32 old, cur; } map[BPF_ID_MAP_SIZE];
	__u32 tmp_id_gen;
};

struct vliveness;
struct kbtf;
struct helper_proto;
struct pbtf_view;

struct venv {
	const struct bpf_insn *insns;
	__u32 len;
	const struct emu_verifier_attr *attr;
	__u32 prog_type, expected_attach_type, prog_flags;
	bool ext;                       /* an extension: prog_type and expected_attach_type are its target's */
	__u32 dst_prog_id, dst_insn_off;
	bool gpl, sleepable, strict_alignment;
	bool bpf_capable, allow_ptr_leaks, allow_uninit_stack, bypass_spec_v1, bypass_spec_v4;
	struct vaux *aux;
	struct vlog log;

	/* maps */
	struct vmap maps[MAX_USED_MAPS];
	__u32 nr_maps;
	bool arena;
	int cgroup_storage_map[2];      /* the one cgroup storage of each kind (map index), -1: none */

	/* subprograms (+1: the end marker) */
	struct vsubprog subprog[MAX_SUBPROGS + 1];
	__u32 subprog_cnt;

	/* BTF of the program (func_info/line_info) */
	struct pbtf_view *pbtf;
	struct bpf_func_info *finfo;
	__u32 nr_finfo;
	struct bpf_line_info *linfo;
	__u32 nr_linfo;
	const struct bpf_line_info *prev_linfo;
	__u32 btf_id;

	/* kernel BTF (vmlinux) and what the program attaches to */
	const struct kbtf *kbtf;
	__u32 attach_func_proto;        /* tracing: FUNC_PROTO of the traced function (vmlinux id), 0 none */
	const char *attach_func_name;
	const char *attach_tp_name;     /* tp_btf: the tracepoint ("sched_switch") */
	bool attach_btf_trace;          /* tp_btf: the prototype's first argument (void *__data) is not the program's */

	/* the walk */
	struct vstate *cur_state;
	struct vstack_elem *head;
	__u32 stack_size;
	int push_err;                   /* why push_stack() failed: -ENOMEM, -E2BIG (too many jumps) */
	struct vstate_list **explored;  /* len buckets (list heads) */
	struct vstate_list *free_list;
	__u32 explored_states_size, free_list_size, num_backedges;
	int insn_idx, prev_insn_idx;
	__u32 insn_processed, prev_insn_processed;
	__u32 jmps_processed, prev_jmps_processed;
	__u32 total_states, peak_states, max_states_per_insn;
	__u32 id_gen;
	__u32 pass_cnt;
	bool test_state_freq, explore_alu_limits;
	bool seen_direct_write;
	struct vbt bt;
	struct vidmap idmap_scratch;
	struct vliveness *liveness;
	__u32 scratched_regs;
	__u64 scratched_stack;
	__u64 prev_log_pos, prev_insn_print_pos;
	struct jmp_hist *cur_hist_ent;
	bool kfunc0;                    /* a kfunc call of id 0 was walked */
	int *insn_postorder;
	__u32 cur_postorder;
	struct scc_info **scc_info;
	__u32 scc_cnt;
	struct scc_callchain callchain_buf;
	struct vreg fake_reg[2];
	char tmp_str_buf[TMP_STR_BUF_LEN];
};

/* ---- log.c ---- */
void verbose(struct venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vlog_reset(struct vlog *log, __u64 new_pos);
bool vlog_needed(const struct vlog *log);
int vlog_finalize(struct vlog *log, __u32 *true_size);
void verbose_linfo(struct venv *env, __u32 insn_off, const char *prefix_fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *reg_type_str(struct venv *env, __u32 type);
void print_verifier_state(struct venv *env, const struct vstate *vs, __u32 frameno, bool print_all);
void print_insn_state(struct venv *env, const struct vstate *vs, __u32 frameno);
void verbose_insn(struct venv *env, const struct bpf_insn *insn);
void verbose_invalid_scalar(struct venv *env, const struct vreg *reg, struct retval_range range, const char *ctx,
			    const char *reg_name);
void mark_reg_scratched(struct venv *env, __u32 regno);
void mark_stack_slot_scratched(struct venv *env, __u32 spi);
void mark_verifier_state_scratched(struct venv *env);
void mark_verifier_state_clean(struct venv *env);
bool verifier_state_scratched(const struct venv *env);
void fmt_stack_mask(char *buf, size_t n, __u64 mask);
void fmt_reg_mask(char *buf, size_t n, __u32 mask);
const char *func_id_name(int id);
const char *dynptr_type_str(__u32 type);
/* disasm.c */
void print_bpf_insn(struct venv *env, const struct bpf_insn *insn, bool allow_ptr_leaks);

/* ---- bounds.c: scalar values ---- */
void ___mark_reg_known(struct vreg *reg, __u64 imm);
void __mark_reg_known(struct vreg *reg, __u64 imm);
void __mark_reg32_known(struct vreg *reg, __u64 imm);
void __mark_reg_known_zero(struct vreg *reg);
void __mark_reg_unbounded(struct vreg *reg);
void __mark_reg64_unbounded(struct vreg *reg);
void __mark_reg32_unbounded(struct vreg *reg);
void __mark_reg_unknown_imprecise(struct vreg *reg);
void __mark_reg_unknown(const struct venv *env, struct vreg *reg);
void __mark_reg_not_init(const struct venv *env, struct vreg *reg);
void __mark_reg_const_zero(const struct venv *env, struct vreg *reg);
void __update_reg_bounds(struct vreg *reg);
void reg_bounds_sync(struct vreg *reg);
void __reg_assign_32_into_64(struct vreg *reg);
void zext_32_to_64(struct vreg *reg);
void coerce_reg_to_size(struct vreg *reg, int size);
void coerce_reg_to_size_sx(struct vreg *reg, int size);
void coerce_subreg_to_size_sx(struct vreg *reg, int size);
bool register_is_null(const struct vreg *reg);
bool is_reg_const(const struct vreg *reg, bool subreg32);
__u64 reg_const_value(const struct vreg *reg, bool subreg32);
int reg_bounds_sanity_check(struct venv *env, struct vreg *reg, const char *ctx);
bool is_safe_to_compute_dst_reg_range(const struct bpf_insn *insn, const struct vreg *src_reg);
void scalar_alu(struct vreg *dst, const struct vreg *src, __u8 opcode, bool alu32);
void scalar_add_const(struct vreg *reg, const struct vreg *k);
int is_branch_taken(struct vreg *reg1, struct vreg *reg2, __u8 opcode, bool is_jmp32);
int reg_set_min_max(struct venv *env, struct vreg *true_reg1, struct vreg *true_reg2, struct vreg *false_reg1,
		    struct vreg *false_reg2, __u8 opcode, bool is_jmp32);
__u8 flip_opcode(__u32 opcode);
bool reg_not_null(const struct vreg *reg);
bool reg_is_pkt_pointer(const struct vreg *reg);
bool reg_is_pkt_pointer_any(const struct vreg *reg);
int __mark_reg_s32_range(struct venv *env, struct vreg *reg, __s32 s32_min, __s32 s32_max);
enum { AT_PKT_END = -1, BEYOND_PKT_END = -2 };

/* ---- state.c: states, the stack of paths, pruning, precision ---- */
int copy_verifier_state(struct vstate *dst, const struct vstate *src);
void free_verifier_state(struct vstate *st, bool free_self);
void free_func_state(struct vfunc *f);
int grow_stack_state(struct venv *env, struct vfunc *state, int size);
struct vstate *push_stack(struct venv *env, int insn_idx, int prev_insn_idx, bool speculative);
struct vstate *push_async_cb(struct venv *env, int insn_idx, int prev_insn_idx, int subprog, bool sleepable);
int pop_stack(struct venv *env, int *prev_insn_idx, int *insn_idx, bool pop_log);
int update_branch_counts(struct venv *env, struct vstate *st);
int is_state_visited(struct venv *env, int insn_idx);
int push_jmp_history(struct venv *env, struct vstate *cur, __u32 insn_flags, __u64 linked_regs);
void free_states(struct venv *env);
int mark_chain_precision(struct venv *env, int regno);
int mark_chain_precision_batch(struct venv *env, struct vstate *starting_state);
int acquire_reference(struct venv *env, int insn_idx);
int release_reference_nomark(struct vstate *st, __u32 ref_obj_id);
int release_reference(struct venv *env, __u32 ref_obj_id);
bool find_reference_state(const struct vstate *st, __u32 ptr_id);
struct vstate *find_prev_entry(struct venv *env, struct vstate *cur, int insn_idx);
int widen_imprecise_scalars(struct venv *env, struct vstate *old, struct vstate *cur);
void init_func_state(struct venv *env, struct vfunc *state, int callsite, int frameno, int subprogno);
static inline struct vfunc *cur_func(struct venv *env) { return env->cur_state->frame[env->cur_state->curframe]; }
static inline struct vreg *cur_regs(struct venv *env) { return cur_func(env)->regs; }
static inline struct vfunc *func_of(struct venv *env, const struct vreg *reg)
{
	return env->cur_state->frame[reg->frameno];
}
static inline bool bt_is_frame_reg_set(const struct vbt *bt, __u32 frame, __u32 reg)
{
	return bt->reg_masks[frame] >> reg & 1;
}
static inline void bt_set_frame_reg(struct vbt *bt, __u32 frame, __u32 reg) { bt->reg_masks[frame] |= 1u << reg; }
static inline void bt_set_frame_slot(struct vbt *bt, __u32 frame, __u32 slot) { bt->stack_masks[frame] |= 1ull << slot; }
/* for each register of every frame of st, and each spilled register */
#define for_each_reg_in_state(st, fn, reg, body)                                                   \
	do {                                                                                        \
		for (__u32 _fr = 0; _fr <= (st)->curframe; _fr++) {                                 \
			struct vfunc *fn = (st)->frame[_fr];                                        \
			for (int _r = 0; _r < MAX_BPF_REG; _r++) {                                  \
				struct vreg *reg = &fn->regs[_r];                                   \
				body;                                                               \
			}                                                                           \
			for (int _s = 0; _s < fn->allocated_stack / BPF_REG_SIZE; _s++) {          \
				if (fn->stack[_s].slot_type[BPF_REG_SIZE - 1] != STACK_SPILL)      \
					continue;                                                   \
				struct vreg *reg = &fn->stack[_s].spilled_ptr;                      \
				body;                                                               \
			}                                                                           \
		}                                                                                   \
	} while (0)

/* ---- liveness.c (stack slot liveness) ---- */
int live_init(struct venv *env);
void live_free(struct venv *env);
int live_mark_stack_read(struct venv *env, __u32 frame, __u32 insn_idx, __u64 mask);
int live_reset_write_marks(struct venv *env, __u32 insn_idx);
void live_mark_stack_write(struct venv *env, __u32 frame, __u64 mask);
int live_commit_write_marks(struct venv *env);
int live_update(struct venv *env);
void live_reset_callchain(struct venv *env);
int live_query_init(struct venv *env, struct vstate *st);
bool live_slot_alive(struct venv *env, __u32 frameno, __u32 spi);

/* ---- cfg.c ---- */
int check_cfg(struct venv *env);
int compute_postorder(struct venv *env);
int compute_live_registers(struct venv *env);
int compute_scc(struct venv *env);
int check_max_stack_depth(struct venv *env);
int insn_successors(const struct venv *env, __u32 idx, __u32 succ[2]);
static inline bool is_prune_point(struct venv *env, int idx) { return env->aux[idx].prune_point; }
static inline bool is_jmp_point(struct venv *env, int idx) { return env->aux[idx].jmp_point; }
static inline bool is_force_checkpoint(struct venv *env, int idx) { return env->aux[idx].force_checkpoint; }
static inline bool calls_callback(struct venv *env, int idx) { return env->aux[idx].calls_callback; }
static inline bool is_ldimm64(const struct bpf_insn *i) { return i->code == (BPF_LD | BPF_IMM | BPF_DW); }
static inline bool is_may_goto_insn(const struct bpf_insn *i)
{
	return i->code == (BPF_JMP | BPF_JCOND) && i->src_reg == 0;
}

/* ---- front.c ---- */
int check_btf_info_early(struct venv *env);
int add_subprog_and_kfunc(struct venv *env);
int check_subprogs(struct venv *env);
int check_btf_info(struct venv *env);
int resolve_pseudo_ldimm64(struct venv *env);
void front_free(struct venv *env);
int find_subprog(const struct venv *env, int off);
struct vsubprog *find_containing_subprog(struct venv *env, int off);
static inline bool subprog_is_global(const struct venv *env, __u32 k)
{
	return env->subprog[k].has_func_info && env->subprog[k].linkage == BTF_FUNC_GLOBAL;
}
static inline const char *subprog_name(const struct venv *env, __u32 k)
{
	return env->subprog[k].name ? env->subprog[k].name : "";
}
int btf_prepare_func_args(struct venv *env, __u32 subprog);
const char *vbtf_str(const struct venv *env, __u32 off);
bool map_is_rdonly(const struct vmap *m);
int map_direct_read(const struct vmap *m, int off, int size, __u64 *val, bool is_ldsx);
bool map_direct_value_ok(const struct vmap *m);

/* ---- check.c: the walk ---- */
int do_check_main(struct venv *env);
int do_check_subprogs(struct venv *env);
int check_reg_arg(struct venv *env, __u32 regno, int t);
int __check_reg_arg(struct venv *env, struct vreg *regs, __u32 regno, int t);
enum { SRC_OP, DST_OP, DST_OP_NO_MARK };
void mark_reg_unknown(struct venv *env, struct vreg *regs, __u32 regno);
void mark_reg_not_init(struct venv *env, struct vreg *regs, __u32 regno);
void mark_reg_known_zero(struct venv *env, struct vreg *regs, __u32 regno);
void mark_reg_invalid(const struct venv *env, struct vreg *reg);
void mark_ptr_not_null_reg(struct vreg *reg);
bool is_pointer_value(struct venv *env, int regno);
bool __is_pointer_value(bool allow_ptr_leaks, const struct vreg *reg);
void clear_all_pkt_pointers(struct venv *env);
int check_return_code(struct venv *env, int regno, const char *reg_name);
void record_mem(struct venv *env, enum emu_mem_region region, bool proven, int fixed_off, bool fixed);

/* ---- mem.c ---- */
enum { BPF_READ = 1, BPF_WRITE = 2 };
enum { ACCESS_DIRECT = 1, ACCESS_HELPER = 2 };
/* struct bpf_call_arg_meta: what a helper call's arguments told about each other */
struct call_meta {
	const struct emu_map_field *kptr_field;   /* bpf_kptr_xchg's destination field */
	const struct vmap *map_ptr;
	bool raw_mode, pkt_access;
	__u8 release_regno;
	int regno, access_size, mem_size;
	__u64 msize_max_value;
	__u32 ref_obj_id;
	__u32 map_uid;
	int func_id;
	const void *ret_btf;
	__u32 ret_btf_id;
	__u32 subprogno;
	__s64 const_map_key;
	__u32 dynptr_id;
};
/* enum bpf_dynptr_type */
enum { BPF_DYNPTR_TYPE_INVALID, BPF_DYNPTR_TYPE_LOCAL, BPF_DYNPTR_TYPE_RINGBUF, BPF_DYNPTR_TYPE_SKB, BPF_DYNPTR_TYPE_XDP,
       BPF_DYNPTR_TYPE_SKB_META };
int destroy_if_dynptr_stack_slot(struct venv *env, struct vfunc *state, int spi);
int check_mem_access(struct venv *env, int insn_idx, __u32 regno, int off, int bpf_size, int t, int value_regno,
		     bool strict_alignment_once, bool is_ldsx);
int check_load_mem(struct venv *env, const struct bpf_insn *insn, bool strict_alignment_once, bool is_ldsx,
		   bool allow_trust_mismatch, const char *ctx);
int check_store_reg(struct venv *env, const struct bpf_insn *insn, bool strict_alignment_once);
int check_atomic(struct venv *env, const struct bpf_insn *insn);
int check_helper_mem_access(struct venv *env, int regno, int access_size, int access_type, bool zero_size_allowed,
			    struct call_meta *meta);
int check_mem_size_reg(struct venv *env, struct vreg *reg, __u32 regno, int access_type, bool zero_size_allowed,
		       struct call_meta *meta);
int check_mem_reg(struct venv *env, struct vreg *reg, __u32 regno, __u32 mem_size);
int check_ptr_off_reg(struct venv *env, const struct vreg *reg, int regno);
int __check_ptr_off_reg(struct venv *env, const struct vreg *reg, int regno, bool fixed_off_ok);
int check_map_access(struct venv *env, __u32 regno, int off, int size, bool zero_size_allowed, int src);
const char *field_type_name(__u32 type);
const struct emu_map_field *map_field_at(const struct vmap *map, __u64 off, __u32 types);
int map_kptr_match_type(struct venv *env, const struct emu_map_field *f, const struct vreg *reg, __u32 regno);
int check_ptr_alignment(struct venv *env, const struct vreg *reg, int off, int size, bool strict_alignment_once);
int save_aux_ptr_type(struct venv *env, __u32 type, bool allow_trust_mismatch);
bool may_access_direct_pkt_data(struct venv *env, const struct call_meta *meta, int t);
bool is_spilled_reg(const struct vslot *s);
bool is_spilled_scalar_reg(const struct vslot *s);
bool is_spilled_scalar_reg64(const struct vslot *s);
static inline int __get_spi(__s32 off) { return (-off - 1) / BPF_REG_SIZE; }

/* ---- ctx.c: the context of each program type (is_valid_access) ---- */
struct ctx_access_info {
	__u32 reg_type;         /* what the load gives: SCALAR_VALUE or a pointer type */
	__u32 btf_id;           /* PTR_TO_BTF_ID */
	const void *btf;
	int ctx_field_size;
	bool is_retval;
	bool is_ldsx;
};
bool ctx_is_valid_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info);
bool ctx_convertible(const struct venv *env);   /* env->ops->convert_ctx_access != NULL */
bool sock_is_valid_access(__u32 reg_type, int off, int size, int t, struct ctx_access_info *info);
bool ctx_has_ld_abs(__u32 prog_type);
void attach_target_setup(struct venv *env);

/* ---- call.c ---- */
int check_helper_call(struct venv *env, const struct bpf_insn *insn, int *insn_idx_p);
int check_func_call(struct venv *env, const struct bpf_insn *insn, int *insn_idx);
int check_kfunc_call(struct venv *env, const struct bpf_insn *insn, int *insn_idx_p);
int check_func_arg_reg_off(struct venv *env, const struct vreg *reg, int regno, __u32 arg_type);
int process_dynptr_func(struct venv *env, __u32 regno, int insn_idx, __u32 arg_type, __u32 clone_ref_obj_id);
int dynptr_reg_info(struct venv *env, const struct vreg *reg, __u32 *id, __u32 *type, __u32 *ref_obj_id);
__u32 dynptr_type_flag(__u32 type);

/* ---- kfunc.c ---- */
enum { BPF_ITER_STATE_INVALID, BPF_ITER_STATE_ACTIVE, BPF_ITER_STATE_DRAINED };
int kfunc_nr_params(struct venv *env, const struct bpf_insn *insn);
void kfunc_mark_cfg(struct venv *env, int t);
static inline bool is_iter_next_insn(struct venv *env, int idx) { return env->aux[idx].is_iter_next; }
const char *iter_state_str(__u32 state);
const char *iter_type_str(const struct kbtf *b, __u32 btf_id);
bool iter_active_depths_differ(const struct vstate *old, const struct vstate *cur);
const char *prog_ctx_type_name(__u32 prog_type);
int prepare_func_exit(struct venv *env, int *insn_idx);
int check_resource_leak(struct venv *env, bool exception_exit, bool check_lock, const char *prefix);
bool helper_changes_pkt_data(int func_id);
bool is_sync_callback_calling_function(int func_id);
bool is_async_callback_calling_function(int func_id);
bool helper_exists(struct venv *env, int func_id);
int helper_nr_params(struct venv *env, int func_id, bool *is_void, bool *might_sleep);
struct helper_proto;
const struct helper_proto *get_helper_proto(const struct venv *env, int func_id);
int btf_check_subprog_call(struct venv *env, int subprog, struct vreg *regs);

/* ---- kbtf.c: vmlinux BTF, when the host has one ---- */
const struct kbtf *kbtf_vmlinux(void);
const struct btf_type *kbtf_type(const struct kbtf *b, __u32 id);
const char *kbtf_name(const struct kbtf *b, __u32 off);
__u32 kbtf_nr_types(const struct kbtf *b);
const struct btf_type *kbtf_skip_modifiers(const struct kbtf *b, __u32 id, __u32 *res_id);
int kbtf_resolve_size(const struct kbtf *b, __u32 id, __u32 *size);
__s32 kbtf_find_by_name_kind(const struct kbtf *b, const char *name, __u32 kind);
const char *kbtf_type_name(const struct kbtf *b, __u32 id);
const char *kbtf_kind_str(const struct btf_type *t);
/* btf_struct_access(): SCALAR_VALUE, PTR_TO_BTF_ID (*next_id, *flag) or -errno with the log line */
int kbtf_struct_access(struct venv *env, const struct vreg *reg, int off, int size, int atype, __u32 *next_id,
		       __u32 *flag, const char **field_name);
bool kbtf_struct_ids_match(const struct kbtf *b, __u32 id, int off, __u32 need_id, bool strict);
/* the arguments of a tracing program's target (btf_ctx_access) */
bool kbtf_ctx_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info);
bool kallsyms_has(const char *name);

/* xlate.c: the dead code passes on a copy of the program (the kernel's
 * insns, insn_aux_data, subprog_info[].start with its end marker, func_info
 * and line_info, changed in place) */
struct xlate {
	struct bpf_insn *insns;
	__u32 len;
	struct emu_insn_aux *aux;       /* len entries: seen decides what is dead */
	__u32 *start;                   /* nr_subprogs + 1 entries, the last the program's length */
	__u32 nr_subprogs;
	struct bpf_func_info *finfo;    /* NULL, or nr_finfo (== nr_subprogs) records */
	__u32 nr_finfo;
	struct bpf_line_info *linfo;
	__u32 nr_linfo;
};
void xlate_dead_code(struct xlate *x);

/* misc */
static inline bool bpf_pseudo_call(const struct bpf_insn *i)
{
	return i->code == (BPF_JMP | BPF_CALL) && i->src_reg == BPF_PSEUDO_CALL;
}
static inline bool bpf_helper_call(const struct bpf_insn *i)
{
	return i->code == (BPF_JMP | BPF_CALL) && i->src_reg == 0;
}
static inline bool bpf_pseudo_kfunc_call(const struct bpf_insn *i)
{
	return i->code == (BPF_JMP | BPF_CALL) && i->src_reg == BPF_PSEUDO_KFUNC_CALL;
}
static inline bool bpf_pseudo_func(const struct bpf_insn *i)
{
	return is_ldimm64(i) && i->src_reg == BPF_PSEUDO_FUNC;
}
static inline int bpf_size_to_bytes(int bpf_size)
{
	switch (bpf_size) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	case BPF_B: return 1;
	case BPF_DW: return 8;
	default: return -1;
	}
}
static inline int fls64(__u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }

#endif
