/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/vm_int.h: the VM's own parts, shared by its files.
 *
 * Three layers, each usable by an x86-64 JIT later without change:
 *
 *   the decoded program (struct vm_prog, struct vm_insn): built once per
 *   process from the program object (decode.c), read-only afterwards and
 *   shared by every thread that runs it. Map handles, helper addresses and
 *   jump targets are resolved; each memory access says whether the load-time
 *   analysis proved it safe.
 *
 *   the run (struct vm_run): one per BPF_PROG_TEST_RUN call (per thread),
 *   holding the stack, the regions the program may touch, the statistics of
 *   the run and how it ended.
 *
 *   the run-time check interface (mem.c): vm_mem_check() decides whether an
 *   access may happen, from a one-entry cache of the last region and then
 *   the region sets; a refusal records the fault (errno, log line) and ends
 *   the run. The interpreter inlines the cache test; a JIT emits it and calls
 *   vm_mem_slow() on a miss, exactly as the interpreter does.
 */
#ifndef BPFEMU_VM_INT_H
#define BPFEMU_VM_INT_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../map.h"
#include "../obj.h"
#include "ops.h"
#include "vm.h"

#define VM_STACK_SIZE 512u             /* MAX_BPF_STACK: one frame */
#define VM_MAX_FRAMES 8u               /* MAX_CALL_FRAMES: callbacks count too */
#define VM_MAX_TAIL_CALLS 33u          /* MAX_TAIL_CALL_CNT */
#define VM_MAX_LOOPS (1u << 23)        /* BPF_MAX_LOOPS: bpf_loop's limit, may_goto's count */
#define VM_TICKS 65536u                /* loop ticks between two looks at the clock */

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

struct vm_run;
struct vm_map;
struct emu_insn_aux;

/* A helper: the BPF calling convention plus the run. A helper that must end
 * the run calls vm_fault*() and returns anything; the interpreter looks at
 * run->err after every call. */
typedef __u64 (*vm_helper_fn)(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);

enum vm_op {
#define X(n) VM_OP_##n,
	VM_OPS(X)
#undef X
	VM_NR_OPS
};

/* vm_insn.flags */
#define VM_I_FAST 0x01                 /* atomics: address proven (no run-time check) */
#define VM_I_MAPARG 0x02               /* CALL: R1 holds insn->map (proven at load) */
#define VM_I_ENTRY 0x04                /* the first instruction of a function (callback targets) */
#define VM_I_PROBE 0x08                /* LDX: the verifier saw a BTF pointer (BPF_PROBE_MEM: a fault reads 0) */

struct vm_insn {
	const void *label;             /* the interpreter's block for op (interp.c fills it) */
	__u16 op;                      /* enum vm_op */
	__u8 dst, src;
	__s16 off;
	__u16 flags;
	__u32 idx;                     /* the BPF instruction this came from (logs) */
	__s32 imm;
	__u64 k;                       /* K forms: imm sign-extended; LDDW: the 64-bit value */
	union {
		const struct vm_insn *target;   /* jumps, CALL_FUNC, LDDW of a function */
		vm_helper_fn helper;            /* CALL */
		struct vm_map *map;             /* CALL with VM_I_MAPARG; LDDW of a map */
		const char *why;                /* FAULT: what the load step could not accept */
	};
};

/*
 * A map as programs of this process see it: the handle a program holds in a
 * register (ld_imm64 of a map, an inner map from a map-in-map lookup) is the
 * address of one of these. One per map object per process, kept in a table by
 * id (maps.c) and counted: each decoded program holds one reference per map
 * it names, each run one per inner map it was handed (until the run ends);
 * the last put frees the handle and drops its reference on the map object.
 */
struct vm_map {
	__u64 magic;                   /* VM_MAP_MAGIC */
	struct emu_obj *obj;           /* one reference, held while the handle lives */
	__u32 refs;                    /* under maps.c's lock */
	const struct emu_map_ops *ops;
	__u32 id, type, key_size, value_size, max_entries, flags;
	bool writable;                 /* not BPF_F_RDONLY_PROG and mapped read-write */
	bool readable;                 /* not BPF_F_WRONLY_PROG */
	/* ARRAY / PERCPU_ARRAY: the values, elem bytes per index (per CPU: slot bytes each) */
	char *values;
	__u32 elem, slot;
	struct vm_map *next;           /* hash chain by id */
};
#define VM_MAP_MAGIC 0x50414d4d56554d45ull      /* "EMUVMMAP" */

/* A function of the program: its entry, for callbacks and logs. */
struct vm_func {
	const struct vm_insn *entry;
	__u32 start;                   /* BPF instruction index */
};

/* The decoded program of one process. */
struct vm_prog {
	struct emu_obj *obj;           /* the program object (not a reference: it owns us) */
	__u32 id, type, attach_type, prog_flags;
	char name[16];
	struct vm_insn *insns;
	__u32 nr_insns;
	struct vm_func *funcs;
	__u32 nr_funcs;
	struct vm_map **maps;          /* the maps ld_imm64 names, each once */
	__u32 nr_maps;
	__u32 max_ctx_offset;          /* the end of the farthest ctx access proven at load */
	struct vm_region *direct;      /* the array values ld_imm64 names directly (global data) */
	__u32 nr_direct;
	const char *not_runnable;      /* why the program cannot run here (NULL: it can) */
	__u32 not_runnable_insn;
	const struct emu_insn_aux *aux;   /* the verifier's facts in the object (NULL: none kept) */
	__u32 nr_aux;
	struct vm_ffi_bind *binds;     /* its calls of user functions (ffi.c) */
	struct vm_btf *btf;            /* its own BTF, once a kfunc needed it */
	struct vm_jit *jit;            /* its machine code (jit/jit.h), NULL: the interpreter runs it */
	bool jit_wanted;               /* the JIT was on when it was decoded (vm_jit_enabled()) */
	bool jit_tried;                /* compiled (or found not compilable): at its first run, not at load */
};

/* ---- regions: what a run may touch ---- */

enum vm_region_kind {
	VM_R_STACK, VM_R_CTX, VM_R_PKT, VM_R_PKT_META, VM_R_MAPVAL, VM_R_RINGBUF, VM_R_SCRATCH, VM_R_KEY,
	VM_R_FLOW_KEYS,                /* a flow dissector's struct bpf_flow_keys */
	VM_R_KOBJ,                     /* a kernel object the run shows (netfilter's sk_buff, an fentry argument) */
	VM_R_KMEM,                     /* an event's synthetic kernel objects (emu/fire), read-only */
};
#define VM_RD 1u
#define VM_WR 2u
#define VM_RW (VM_RD | VM_WR)

struct vm_region {
	__u64 lo, len;
	__u32 perm;
	__u16 kind;
	__u16 pad;
	struct vm_map *map;            /* MAPVAL, RINGBUF: the map (spin locks, logs) */
};

/* the regions of a run that come and go: map values, ring buffer records */
struct vm_regions {
	struct vm_region *r;
	__u32 n, cap;
	__u32 *hash;                   /* page -> first region index + 1, chained by next (once n > 16) */
	__u32 *next;
	__u32 hcap;
	__u32 last;                    /* index of the last hit */
};

struct vm_frame {
	const struct vm_insn *ret;     /* where the caller continues; NULL: back to C (a callback) */
	const struct vm_prog *prog;
	__u64 r6, r7, r8, r9;
	__u64 may_goto;                /* the caller's may_goto count */
};

/* where an XDP or tc redirect went (bpf_redirect, bpf_redirect_map) */
struct vm_redirect {
	bool set;
	__u32 ifindex;                 /* bpf_redirect's or the devmap's target */
	__u32 map_id;                  /* 0: bpf_redirect */
	__u32 key;
	__u64 flags;
};

/* a packet the program works on: XDP buffer or the skb's linear data */
struct vm_pkt {
	unsigned char *buf;            /* the whole buffer (below 4 GiB: see test_run.c) */
	size_t buf_len;
	unsigned char *hard_start;     /* XDP: data_hard_start; skb: head */
	unsigned char *meta, *data, *end;
	unsigned char *hard_end;       /* how far data_end may grow */
	__u32 mac_off, net_off;        /* skb: mac and network headers (offsets from hard_start) */
	bool has_frags;                /* XDP: data past the linear part (kept aside) */
};

struct vm_run {
	/* hot: read by every checked access (interpreter and JIT) */
	__u64 c_lo, c_len;             /* the last region hit */
	__u32 c_perm;
	int err;                       /* non-zero: the run is over (-errno) */
	__u64 map_hint;                /* the CALL's k: the map the load step proved R1 holds (0: none),
	                                * or a user function's binding (ffi.c); set before every call */
	const struct vm_prog *prog;    /* the program running now (tail calls change it) */
	__u64 stack_top;               /* R10 of frame 0 */
	__u32 depth;                   /* call frames in use (0: the main program) */
	__u32 tail_calls;
	__u64 ticks;                   /* loop ticks left before the next clock check */
	__u64 deadline_ns;             /* CLOCK_MONOTONIC; 0: none */
	__u64 may_goto;                /* the running function's may_goto count */
	__u64 jit_sp;                  /* the JIT's native stack at its entry (jit/x86_64.c: the fault exit) */
	struct vm_frame frames[VM_MAX_FRAMES];

	/* the static regions of this run: stack, ctx, packet, and what the
	 * program type shows besides (flow keys, kernel objects) */
	struct vm_region fixed[12];
	__u32 nr_fixed;
	struct vm_regions dyn;

	unsigned char *stack;          /* VM_MAX_FRAMES * VM_STACK_SIZE bytes */
	void *ctx;
	__u32 ctx_size;
	const unsigned char *ctx_wmask;   /* writable ctx bytes (NULL: none, or all if ctx_all_w) */
	bool ctx_all_w;
	int ctx_kind;                  /* VM_CTX_* */
	struct vm_pkt pkt;
	void *skb;                     /* struct vm_skb (test_run.c) for skb programs */
	__u32 cpu;
	__u32 fault_insn;

	/* what the run holds and must give back */
	struct vm_map *lock_map;       /* a bpf_spin_lock held, and in which map */
	void *lock_value;
	struct vm_map **inner;         /* inner maps handed out (map-in-map lookups) */
	__u32 nr_inner, cap_inner;
	struct vm_redirect redirect;

	/* an event run (emu_vm_run_event): what the tracing helpers answer from */
	const struct emu_vm_event *ev;
	/* loads the run-time check refuses read 0 instead of ending the run, as
	 * the kernel's BPF_PROBE_MEM loads through BTF pointers do: vm_mem_slow()
	 * returns false without setting err, and the load gives 0. With the
	 * verifier's facts only the loads it saw through BTF pointers
	 * (VM_I_PROBE); a program without them: every plain load */
	bool probe_zero;
	bool sk_selected;              /* sk_lookup: bpf_sk_assign() selected a socket */

	/* program extensions (maps.c: vm_ext_target()): the live ones of ext_of,
	 * looked up once per run setup (a link's liveness is a scan of the state
	 * root, too slow for every call) */
	const struct vm_prog *ext_of;
	__u32 ext_n;
	struct { __u32 start; const struct vm_prog *x; } ext[8];
};

enum {
	VM_CTX_NONE, VM_CTX_XDP, VM_CTX_SKB, VM_CTX_RAW, VM_CTX_SYSCALL,
	VM_CTX_FLOW,                   /* flow dissector: a __sk_buff with data, data_end, flow_keys */
	VM_CTX_TRACING,                /* fentry/fexit/fmod_ret, struct_ops: the arguments as u64s */
	VM_CTX_SK_LOOKUP,              /* struct bpf_sk_lookup */
	VM_CTX_NF,                     /* netfilter: struct bpf_nf_ctx { state, skb } */
	VM_CTX_EVENT,                  /* a fired event (emu/fire): the context its program type sees */
};

/* the bytes of __sk_buff each skb program type may write (test_run.c) */
#define VM_SKB_SIZE sizeof(struct __sk_buff)
extern unsigned char vm_skb_wmask_tc[], vm_skb_wmask_filter[], vm_skb_wmask_cg[];

/* The skb a test run builds (test_run.c): the __sk_buff the program sees
 * first (so the ctx pointer is this struct), then what the kernel's sk_buff
 * holds that __sk_buff does not show directly. Writable fields (mark,
 * priority, cb, tc_index, tc_classid, queue_mapping, tstamp) live in ctx. */
struct vm_skb {
	struct __sk_buff ctx;
	unsigned char *head, *data, *end;  /* buffer, skb->data, the buffer's end (tailroom) */
	__u32 len;                         /* skb->len (linear: all of it) */
	__u32 mac_off, net_off;            /* mac and network headers, from head */
	bool l2;                           /* tc: data starts at the MAC header */
	bool direct;                       /* data_end computed (tc, lwt: direct packet access) */
	bool pkt_write;                    /* the program type may write packet data */
	bool csum_complete;                /* BPF_F_TEST_SKB_CHECKSUM_COMPLETE */
	__u32 csum;                        /* skb->csum (CHECKSUM_COMPLETE) */
	__u8 ip_summed;                    /* VM_CHECKSUM_* */
	__u8 csum_level;
	bool sw_hash;                      /* bpf_set_hash() set ctx.hash */
	bool encapsulation;                /* bpf_skb_adjust_room() added an outer header */
};
enum { VM_CHECKSUM_NONE, VM_CHECKSUM_UNNECESSARY, VM_CHECKSUM_COMPLETE };

/* ---- decode.c ---- */
/* The decoded program of obj for this process (decoded on first use): NULL
 * with *err set on failure. Thread-safe. */
/* The program decoded, and compiled when the JIT is on: what a run needs. */
const struct vm_prog *vm_prog_get(struct emu_obj *obj, int *err);
/* Program extensions (maps.c): the extension replacing prog's function that
 * starts at BPF instruction start while its link lives, or NULL (run->err set
 * if it cannot be decoded); a function's first instruction by its entry. */
const struct vm_prog *vm_ext_target(struct vm_run *run, const struct vm_prog *prog, __u32 start);
__u32 vm_func_start(const struct vm_prog *prog, const struct vm_insn *entry);
__u64 vm_jit_ext_call(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
static inline bool vm_prog_extended(const struct vm_prog *prog)
{
	return __atomic_load_n(&prog->obj->hdr->prog.nr_ext, __ATOMIC_ACQUIRE) != 0;
}
/* Decoded only (the load step: a program loaded and dropped, as feature
 * probes and loaders do, pays no compilation; its first run compiles it). */
const struct vm_prog *vm_prog_decode(struct emu_obj *obj, int *err);
void vm_prog_free(struct vm_prog *p);
bool vm_func_entry(const struct vm_prog *p, __u64 addr, const struct vm_insn **entry);
/* Tests: off, the load step proves nothing (every access checked) for programs decoded from now on. */
void vm_decode_proofs(bool on);

/* ---- interp.c ---- */
/* Runs from entry in a frame whose R10 is stack_top - depth * VM_STACK_SIZE,
 * with R1-R5 set; returns R0 (run->err says whether the run ended early). */
__u64 vm_exec(struct vm_run *run, const struct vm_insn *entry, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
/* Fills insn->label for the interpreter. */
void vm_link(struct vm_insn *insns, __u32 n);
/* Calls a function of the running program as a callback (bpf_loop,
 * for_each_map_elem): a frame of its own; returns its R0. */
__u64 vm_callback(struct vm_run *run, const struct vm_insn *fn, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
/* One loop tick (bpf_loop iterations count like loop back-edges). */
bool vm_tick_slow(struct vm_run *run);

/* ---- mem.c ---- */
static inline bool vm_cache_ok(const struct vm_run *run, __u64 a, __u32 n, __u32 acc)
{
	__u64 o = a - run->c_lo;
	return o < run->c_len && o + n <= run->c_len && (run->c_perm & acc) == acc;
}
/* The slow half of the check: the region sets; true if allowed (the cache
 * now holds the region), false if not (the fault is recorded; but for a plain
 * load in a run with probe_zero nothing is recorded: the load reads 0). */
bool vm_mem_slow(struct vm_run *run, const struct vm_insn *pc, __u64 a, __u32 n, __u32 acc);
/* The check for a helper's pointer argument: 0 or -EFAULT (fault recorded
 * with the helper's name). len 0 is always allowed. */
int vm_mem_arg(struct vm_run *run, __u64 a, __u64 len, __u32 acc, const char *what);

/* dynptr.c: the dynptr kfuncs over the run's packet */
__u64 vm_k_dynptr_from_skb(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_from_xdp(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_slice(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_slice_rdwr(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_adjust(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_is_null(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_is_rdonly(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_size(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_k_dynptr_clone(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
/* The region holding [a, a+n), or NULL (no fault recorded). */
const struct vm_region *vm_region_find(struct vm_run *run, __u64 a, __u64 n);
int vm_region_add(struct vm_run *run, __u64 lo, __u64 len, __u32 perm, int kind, struct vm_map *map);
void vm_region_del(struct vm_run *run, __u64 lo);
void vm_regions_reset(struct vm_run *run);
void vm_regions_free(struct vm_regions *d);
void vm_fixed_set(struct vm_run *run, int kind, __u64 lo, __u64 len, __u32 perm);
/* one more static region (kinds that come several at a time: VM_R_KOBJ); 0 or -ENOSPC */
int vm_fixed_add(struct vm_run *run, int kind, __u64 lo, __u64 len, __u32 perm);
/* End the run: -err, and a log line "prog 'x' insn N: ..." */
void vm_fault(struct vm_run *run, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *vm_region_kind_name(int kind);

/* ---- maps.c ---- */
/* The handle of map id as reached from holder (a program or an outer map). */
struct vm_map *vm_map_by_ref(const struct emu_obj *holder, __u32 id, int *err);
struct vm_map *vm_map_of(struct emu_obj *obj);     /* a counted handle (obj's own reference is the caller's) */
void vm_map_put(struct vm_map *m);
struct vm_map *vm_map_hold(struct vm_map *m);      /* one more reference; m */
/* A map handle the program passed: validated against what the run may use;
 * NULL with the fault recorded. */
struct vm_map *vm_map_arg(struct vm_run *run, __u64 r1, const char *helper);
void vm_run_release_maps(struct vm_run *run);
void vm_release_lock(struct vm_run *run);
const struct vm_prog *vm_tail_target(struct vm_run *run, __u64 map, __u64 index);
__u64 vm_h_spin_unlock(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
__u64 vm_h_kptr_xchg(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);

/* ---- helpers.c ---- */
struct vm_helper {
	vm_helper_fn fn;               /* NULL: not emulated */
	const char *sig;               /* its C prototype (a user function may stand in), or NULL */
	const char *limits;            /* emulated with these limits (README's table) */
};
const struct vm_helper *vm_helper(__s32 id);          /* NULL: not emulated */
const char *vm_helper_sig(__s32 id);                  /* the prototype a user function gets, or NULL */
/* ffi.c: user functions (BPFEMU_FUNCS, bpfemu_func_set) and bpfemu's kfuncs */
struct vm_ffi_bind;
__u64 vm_h_user(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5);
int vm_ffi_helper(struct vm_prog *p, __s32 id, const char *sig, vm_helper_fn *fn, __u64 *k);
bool vm_ffi_helper_replaced(__s32 id);
int vm_ffi_kfunc(struct vm_prog *p, __u32 btf_id, vm_helper_fn *fn, __u64 *k, const char **why);
void vm_ffi_free(struct vm_ffi_bind *b);
const char *vm_helper_name(__s32 id);
void vm_release_records(struct vm_run *run);
void vm_caller_comm(char comm[17]);            /* the calling thread's name */
/* net.c: x86-64's csum_partial() and csum_fold() */
__u32 vm_csum_partial(const void *buf, __u32 len, __u32 seed);
__u16 vm_csum_fold(__u32 sum);
__u32 vm_current_cpu(void);

/* ---- test_run.c ---- */
struct emu_test_run_spec;
/* What a thread keeps between test runs: the stack, a packet buffer below 4 GiB, the run. */
struct vm_thread {
	unsigned char *stack;
	unsigned char *pkt;                /* VM_PKT_BUF bytes below 4 GiB */
	struct vm_run run;
	struct vm_skb skb;
	struct xdp_md xdp;
	struct vm_redirect last_redirect;
};
#define VM_PKT_BUF (64 * 1024u)     /* room for the skb helpers' growth (BPF_SKB_MAX_LEN) */
struct vm_thread *vm_thread_get(void);
/* the common steps of net/bpf/test_run.c: bpf_check_uarg_tail_zero(), bpf_ctx_init(),
 * bpf_test_finish() (frags: data past the linear part), bpf_ctx_finish() */
int vm_tail_zero(const void *uaddr, size_t expected, size_t actual);
void *vm_ctx_init(const struct emu_test_run_spec *s, __u32 max_size, int *err);
int vm_test_finish(const struct emu_test_run_spec *s, const void *data, __u32 size, const void *frags,
		   __u32 frags_size, __u32 retval, __u32 duration);
int vm_ctx_finish(const struct emu_test_run_spec *s, const void *ctx, __u32 size);
bool vm_range_zero(const void *p, size_t from, size_t to);
/* the run's regions and context for one program type (ctx_perm: VM_RD or VM_RW) */
void vm_run_setup(struct vm_thread *t, const struct vm_prog *p, int ctx_kind, void *ctx, __u32 ctx_size,
		  __u32 ctx_perm);
/* One run of p on the prepared context (R1 = the ctx): R0, or run->err. */
__u64 vm_run_once(struct vm_run *run, const struct vm_prog *p, __u32 cpu);
/* a function of p run alone (timer callbacks, timer.c): (r1, a key copy, the map's value) */
__u64 vm_run_fn(struct vm_thread *t, const struct vm_prog *p, const struct vm_insn *entry, __u64 r1, const void *key,
		__u32 key_size, void *value, struct vm_map *m);
/* bpf_test_run(): repeat runs (0 is 1) with the statistics, the mean duration; 0 or the run's errno */
int vm_test_repeat(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p, __u32 repeat, __u32 fixed_cpu,
		   bool on_cpu, __u32 *retval, __u32 *duration);
/* add one run of ns to obj's statistics when they are on */
void vm_stats_add(struct emu_obj *obj, __u64 runs, __u64 ns);
__u64 vm_now_ns(void);
/* test_types.c: the types beyond packets, raw tracepoints and syscall programs */
int vm_run_flow_dissector(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
			  const struct emu_test_run_spec *s);
int vm_run_sk_lookup(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		     const struct emu_test_run_spec *s);
int vm_run_netfilter(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		     const struct emu_test_run_spec *s);
int vm_run_struct_ops(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		      const struct emu_test_run_spec *s);
int vm_run_tracing(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		   const struct emu_test_run_spec *s);
bool vm_tick_deadline(struct vm_run *run);     /* false: the run's time is up */
/* The program's current packet changed (adjust head/tail/meta): its regions and ctx follow. */
void vm_pkt_changed(struct vm_run *run);
/* skb.c: at least head bytes of headroom and tail of tailroom (the data moves); 0 or -ENOMEM */
int vm_skb_room(struct vm_run *run, struct vm_skb *s, __u32 head, __u32 tail);
/* LD_ABS / LD_IND: 0 and *val, or -EFAULT (the program returns 0). */
int vm_ld_pkt(struct vm_run *run, __s64 off, __u32 size, __u32 *val);

/* ---- vbtf.c: reading BTF (vmlinux's and programs') ---- */
#include <linux/btf.h>
struct vm_btf;
const struct vm_btf *vm_btf_vmlinux(void);     /* the kernel's (BPFEMU_KERNEL_BTF or /sys/kernel/btf), NULL: none */
struct vm_btf *vm_btf_parse(const void *data, size_t size);  /* a copy */
void vm_btf_free(struct vm_btf *b);
const struct btf_type *vm_btf_type(const struct vm_btf *b, __u32 id);
const char *vm_btf_str(const struct vm_btf *b, __u32 off);
__u32 vm_btf_find(const struct vm_btf *b, const char *name, __u32 kind);
__u32 vm_btf_skip_mods(const struct vm_btf *b, __u32 id);
int vm_btf_size(const struct vm_btf *b, __u32 id, __u32 *size);
/* a member's byte offset and size, through anonymous structs and unions; -ENOENT, -EOPNOTSUPP (bitfield) */
int vm_btf_member(const struct vm_btf *b, __u32 struct_id, const char *name, __u32 *off, __u32 *size);

/* ---- interp.c: the log line's program name ---- */
void vm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
