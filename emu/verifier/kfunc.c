/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/kfunc.c: calls of kernel functions (kfuncs), written from
 * Linux 6.18's kernel/bpf/verifier.c: fetch_kfunc_meta(), check_kfunc_args()
 * (the function's prototype in the kernel's BTF: scalars, constants __k,
 * pointers to memory with a size __sz/__szk, the context, PTR_TO_BTF_ID
 * with the trusted/RCU rules, nullable __nullable/__opt, open-coded
 * iterators on the stack), check_kfunc_call() (references acquired and
 * released, R0 after the call: a scalar, memory of the pointee's size, a
 * pointer to a BTF id, each maybe NULL under KF_RET_NULL), and the open-
 * coded iterators' convergence (process_iter_next_call(); is_state_visited()
 * in state.c treats an iterator's next call as a loop head).
 *
 * The kfunc flags are not in BTF: the table below is the BTF_ID_FLAGS lines
 * of Linux 6.18 (kernel/bpf/helpers.c common_btf_ids and generic_btf_ids)
 * for the kfuncs a program here can call: those bpfemu runs itself
 * (emu/vm/ffi.c) and those a test may provide as user functions. Any other
 * kfunc a user function provides (BPFEMU_FUNCS) is checked against its
 * prototype with no flags. The prototype is always the kernel's BTF (the
 * host's /sys/kernel/btf/vmlinux, whose ids the program's calls name).
 */
#include <errno.h>
#include <string.h>

#include "env.h"
#include "tnum.h"
#include "../vm/vm.h"
#include "../btf.h"
#include "helper_protos.h"

/* include/linux/btf.h */
#define KF_ACQUIRE (1u << 0)
#define KF_RELEASE (1u << 1)
#define KF_RET_NULL (1u << 2)
#define KF_TRUSTED_ARGS (1u << 4)
#define KF_SLEEPABLE (1u << 5)
#define KF_DESTRUCTIVE (1u << 6)
#define KF_RCU (1u << 7)
#define KF_ITER_NEW (1u << 8)
#define KF_ITER_NEXT (1u << 9)
#define KF_ITER_DESTROY (1u << 10)
#define KF_RCU_PROTECTED (1u << 11)
#define KF_FASTCALL (1u << 12)

/* Linux 6.18, kernel/bpf/helpers.c: BTF_ID_FLAGS(func, NAME, FLAGS) */
static const struct {
	const char *name;
	__u32 flags;
} kfunc_flags[] = {
	/* generic_btf_ids */
	{ "bpf_task_acquire", KF_ACQUIRE | KF_RCU | KF_RET_NULL },
	{ "bpf_task_release", KF_RELEASE },
	{ "bpf_cgroup_acquire", KF_ACQUIRE | KF_RCU | KF_RET_NULL },
	{ "bpf_cgroup_release", KF_RELEASE },
	{ "bpf_cgroup_from_id", KF_ACQUIRE | KF_RET_NULL },
	{ "bpf_task_from_pid", KF_ACQUIRE | KF_RET_NULL },
	{ "bpf_task_from_vpid", KF_ACQUIRE | KF_RET_NULL },
	{ "bpf_copy_from_user_str", KF_SLEEPABLE },
	/* common_btf_ids */
	{ "bpf_cast_to_kern_ctx", KF_FASTCALL },
	{ "bpf_rdonly_cast", KF_FASTCALL },
	{ "bpf_rcu_read_lock", 0 },
	{ "bpf_rcu_read_unlock", 0 },
	{ "bpf_dynptr_slice", KF_RET_NULL },
	{ "bpf_dynptr_slice_rdwr", KF_RET_NULL },
	{ "bpf_iter_num_new", KF_ITER_NEW },
	{ "bpf_iter_num_next", KF_ITER_NEXT | KF_RET_NULL },
	{ "bpf_iter_num_destroy", KF_ITER_DESTROY },
	{ "bpf_dynptr_adjust", 0 },
	{ "bpf_dynptr_is_null", 0 },
	{ "bpf_dynptr_is_rdonly", 0 },
	{ "bpf_dynptr_size", 0 },
	{ "bpf_dynptr_clone", 0 },
	{ "bpf_preempt_disable", 0 },
	{ "bpf_preempt_enable", 0 },
	/* net/core/filter.c: bpf_kfunc_check_set_skb, bpf_kfunc_check_set_xdp */
	{ "bpf_dynptr_from_skb", KF_TRUSTED_ARGS },
	{ "bpf_dynptr_from_xdp", 0 },
};

/* bpf_dynptr_slice_rdwr(): EPERM "bpf_dynptr_slice_rdwr() is not allowed" on this host */
#define HOST_REFUSES_SLICE_RDWR 1

/* enum kfunc_ptr_arg_type (the kinds handled here) */
enum { KF_ARG_PTR_TO_CTX, KF_ARG_PTR_TO_BTF_ID, KF_ARG_PTR_TO_ITER, KF_ARG_PTR_TO_MEM, KF_ARG_PTR_TO_MEM_SIZE,
       KF_ARG_PTR_TO_NULL, KF_ARG_PTR_TO_DYNPTR };

/* struct bpf_kfunc_call_arg_meta */
struct kmeta {
	const struct kbtf *btf;
	__u32 func_id;
	const char *func_name;
	const struct btf_type *func_proto;
	__u32 kfunc_flags;
	__u32 ref_obj_id;
	__u32 release_regno;
	bool r0_rdonly;
	__u32 r0_size;
	struct {
		__u64 value;
		bool found;
	} arg_constant;
	struct {
		int spi;
		__u32 frameno;
	} iter;
	struct {
		__u32 id, type, ref_obj_id;
	} initialized_dynptr;
};

static __u32 flags_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kfunc_flags); i++)
		if (!strcmp(kfunc_flags[i].name, name))
			return kfunc_flags[i].flags;
	return 0;
}

static bool is_kfunc_acquire(const struct kmeta *m) { return m->kfunc_flags & KF_ACQUIRE; }
static bool is_kfunc_release(const struct kmeta *m) { return m->kfunc_flags & KF_RELEASE; }
static bool is_kfunc_ret_null(const struct kmeta *m) { return m->kfunc_flags & KF_RET_NULL; }
static bool is_kfunc_release(const struct kmeta *m);
/* a release function's arguments are trusted too */
static bool is_kfunc_trusted_args(const struct kmeta *m) { return (m->kfunc_flags & KF_TRUSTED_ARGS) || is_kfunc_release(m); }
static bool is_kfunc_sleepable(const struct kmeta *m) { return m->kfunc_flags & KF_SLEEPABLE; }
static bool is_kfunc_rcu(const struct kmeta *m) { return m->kfunc_flags & KF_RCU; }
static bool is_kfunc_rcu_protected(const struct kmeta *m) { return m->kfunc_flags & KF_RCU_PROTECTED; }
static bool is_iter_new_kfunc(const struct kmeta *m) { return m->kfunc_flags & KF_ITER_NEW; }
static bool is_iter_next_kfunc(const struct kmeta *m) { return m->kfunc_flags & KF_ITER_NEXT; }
static bool is_iter_destroy_kfunc(const struct kmeta *m) { return m->kfunc_flags & KF_ITER_DESTROY; }
static bool is_iter_kfunc(const struct kmeta *m)
{
	return m->kfunc_flags & (KF_ITER_NEW | KF_ITER_NEXT | KF_ITER_DESTROY);
}

/* btf_kfunc_id_set_contains(): the kfuncs registered for some program types
 * only (net/core/filter.c bpf_kfunc_init()); the rest of the table is
 * registered for every type. A user function is not filtered. */
static bool kfunc_allowed(const struct venv *env, const char *name)
{
	switch (env->prog_type) {
	case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT: case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_XMIT: case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case PROG_TYPE_NETFILTER: case BPF_PROG_TYPE_TRACING:
		if (!strcmp(name, "bpf_dynptr_from_xdp"))
			return false;
		break;
	case BPF_PROG_TYPE_XDP:
		if (!strcmp(name, "bpf_dynptr_from_skb"))
			return false;
		break;
	default:
		if (!strcmp(name, "bpf_dynptr_from_skb") || !strcmp(name, "bpf_dynptr_from_xdp"))
			return false;
		break;
	}
	return true;
}

/* fetch_kfunc_meta(): the FUNC of the kernel's BTF the call names, its prototype and flags */
static int fetch_kfunc_meta(struct venv *env, const struct bpf_insn *insn, struct kmeta *m, bool log)
{
	memset(m, 0, sizeof(*m));
	const struct kbtf *b = kbtf_vmlinux();
	const struct btf_type *fn = b ? kbtf_type(b, (__u32)insn->imm) : NULL;
	if (!fn || BTF_INFO_KIND(fn->info) != BTF_KIND_FUNC) {
		if (log)
			verbose(env, "kernel btf_id %u is not a function\n", (__u32)insn->imm);
		return -EINVAL;
	}
	const struct btf_type *proto = kbtf_type(b, fn->type);
	if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO) {
		if (log)
			verbose(env, "kernel function btf_id %u does not have a valid func_proto\n", (__u32)insn->imm);
		return -EINVAL;
	}
	m->btf = b;
	m->func_id = (__u32)insn->imm;
	m->func_name = kbtf_name(b, fn->name_off);
	m->func_proto = proto;
	m->kfunc_flags = flags_of(m->func_name);
	return 0;
}

/* get_call_summary()'s kfunc part: how many registers the call reads */
int kfunc_nr_params(struct venv *env, const struct bpf_insn *insn)
{
	struct kmeta m;
	if (!insn->imm || fetch_kfunc_meta(env, insn, &m, false))
		return -1;
	if (!emu_vm_kfunc_is_user((__u32)insn->imm) && !kfunc_allowed(env, m.func_name))
		return -1;
	return (int)BTF_INFO_VLEN(m.func_proto->info);
}

/* visit_insn(): an iterator's next call is a prune point and a forced checkpoint */
void kfunc_mark_cfg(struct venv *env, int t)
{
	struct kmeta m;
	if (!env->insns[t].imm || fetch_kfunc_meta(env, &env->insns[t], &m, false))
		return;
	if (is_iter_next_kfunc(&m)) {
		env->aux[t].prune_point = true;
		env->aux[t].force_checkpoint = true;
	}
	if (is_kfunc_sleepable(&m)) {
		struct vsubprog *sp = find_containing_subprog(env, t);
		if (sp)
			sp->might_sleep = true;
	}
}

/* ---- BTF of the prototype ---- */

static const struct btf_param *kparams(const struct kmeta *m) { return (const void *)(m->func_proto + 1); }

static bool ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);
	return l > k && !strcmp(s + l - k, suffix);
}

static bool param_suffix(const struct kmeta *m, const struct btf_param *p, const char *suffix)
{
	return ends_with(kbtf_name(m->btf, p->name_off), suffix);
}

static bool kind_is(const struct btf_type *t, __u32 k) { return t && BTF_INFO_KIND(t->info) == k; }
static bool btf_is_scalar(const struct btf_type *t)
{
	return kind_is(t, BTF_KIND_INT) || kind_is(t, BTF_KIND_ENUM) || kind_is(t, BTF_KIND_ENUM64);
}
static bool btf_is_struct(const struct btf_type *t) { return kind_is(t, BTF_KIND_STRUCT); }

/* __btf_type_is_scalar_struct(): a struct of scalars (and arrays of them), two levels deep */
static bool is_scalar_struct(const struct kbtf *b, const struct btf_type *t, int rec)
{
	if (!btf_is_struct(t))
		return false;
	const struct btf_member *mb = (const void *)(t + 1);
	for (__u32 i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		const struct btf_type *mt = kbtf_skip_modifiers(b, mb[i].type, NULL);
		if (rec < 3 && btf_is_struct(mt)) {
			if (!is_scalar_struct(b, mt, rec + 1))
				return false;
			continue;
		}
		if (kind_is(mt, BTF_KIND_ARRAY)) {
			const struct btf_array *a = (const void *)(mt + 1);
			mt = kbtf_skip_modifiers(b, a->type, NULL);
			if (rec < 3 && btf_is_struct(mt)) {
				if (!is_scalar_struct(b, mt, rec + 1))
					return false;
				continue;
			}
		}
		if (!btf_is_scalar(mt))
			return false;
	}
	return true;
}

const char *iter_type_str(const struct kbtf *b, __u32 btf_id)
{
	const char *name = b ? kbtf_type_name(b, btf_id) : "";
	return strncmp(name, "bpf_iter_", 9) ? name : name + 9;
}

const char *iter_state_str(__u32 state)
{
	switch (state) {
	case BPF_ITER_STATE_ACTIVE: return "active";
	case BPF_ITER_STATE_DRAINED: return "drained";
	case BPF_ITER_STATE_INVALID: return "<invalid>";
	default: return "<unknown>";
	}
}

/* ---- iterators on the stack (STACK_ITER slots; the first holds the reference) ---- */

static int iter_get_spi(struct venv *env, const struct vreg *reg, int nr_slots)
{
	if (!tnum_is_const(reg->var_off)) {
		verbose(env, "%s has to be at a constant offset\n", "iter");
		return -EINVAL;
	}
	int off = reg->off + (int)reg->var_off.value;
	if (off % BPF_REG_SIZE) {
		verbose(env, "cannot pass in %s at an offset=%d\n", "iter", off);
		return -EINVAL;
	}
	int spi = __get_spi(off);
	/* fp+0 is refused too (the kernel answers "offset=0" for one slot) */
	if (off >= 0 || spi + 1 < nr_slots) {
		verbose(env, "cannot pass in %s at an offset=%d\n", "iter", off);
		return -EINVAL;
	}
	const struct vfunc *st = func_of(env, reg);
	if (spi - nr_slots + 1 < 0 || spi >= st->allocated_stack / BPF_REG_SIZE)
		return -ERANGE;
	return spi;
}

static bool is_iter_reg_valid_uninit(struct venv *env, const struct vreg *reg, int nr_slots)
{
	int spi = iter_get_spi(env, reg, nr_slots);
	if (spi == -ERANGE)
		return true;
	if (spi < 0)
		return false;
	const struct vfunc *state = func_of(env, reg);
	for (int i = 0; i < nr_slots; i++)
		for (int j = 0; j < BPF_REG_SIZE; j++)
			if (state->stack[spi - i].slot_type[j] == STACK_ITER)
				return false;
	return true;
}

static int is_iter_reg_valid_init(struct venv *env, const struct vreg *reg, const struct kbtf *b, __u32 btf_id,
				  int nr_slots)
{
	int spi = iter_get_spi(env, reg, nr_slots);
	if (spi < 0)
		return -EINVAL;
	const struct vfunc *state = func_of(env, reg);
	for (int i = 0; i < nr_slots; i++) {
		const struct vslot *slot = &state->stack[spi - i];
		const struct vreg *st = &slot->spilled_ptr;
		if (st->type & PTR_UNTRUSTED)
			return -EPROTO;
		if (i == 0 && !st->ref_obj_id)
			return -EINVAL;
		if (i != 0 && st->ref_obj_id)
			return -EINVAL;
		if (st->iter.btf != b || st->iter.btf_id != btf_id)
			return -EINVAL;
		for (int j = 0; j < BPF_REG_SIZE; j++)
			if (slot->slot_type[j] != STACK_ITER)
				return -EINVAL;
	}
	return 0;
}

static int mark_stack_slots_iter(struct venv *env, const struct kmeta *m, const struct vreg *reg, int insn_idx,
				 __u32 btf_id, int nr_slots)
{
	struct vfunc *state = func_of(env, reg);
	int spi = iter_get_spi(env, reg, nr_slots);
	if (spi < 0)
		return spi;
	int id = acquire_reference(env, insn_idx);
	if (id < 0)
		return id;
	for (int i = 0; i < nr_slots; i++) {
		struct vslot *slot = &state->stack[spi - i];
		struct vreg *st = &slot->spilled_ptr;
		__mark_reg_known_zero(st);
		st->type = PTR_TO_STACK;
		if (is_kfunc_rcu_protected(m))
			st->type |= env->cur_state->active_rcu_lock ? MEM_RCU : PTR_UNTRUSTED;
		st->ref_obj_id = i == 0 ? (__u32)id : 0;
		st->iter.btf = m->btf;
		st->iter.btf_id = btf_id;
		st->iter.state = BPF_ITER_STATE_ACTIVE;
		st->iter.depth = 0;
		memset(slot->slot_type, STACK_ITER, BPF_REG_SIZE);
		mark_stack_slot_scratched(env, (__u32)(spi - i));
	}
	live_mark_stack_write(env, state->frameno, nr_slots == 1 ? BIT(spi) : BIT(spi) | BIT(spi - 1));
	return 0;
}

static int unmark_stack_slots_iter(struct venv *env, const struct vreg *reg, int nr_slots)
{
	struct vfunc *state = func_of(env, reg);
	int spi = iter_get_spi(env, reg, nr_slots);
	if (spi < 0)
		return spi;
	for (int i = 0; i < nr_slots; i++) {
		struct vslot *slot = &state->stack[spi - i];
		if (i == 0)
			(void)release_reference(env, slot->spilled_ptr.ref_obj_id);
		__mark_reg_not_init(env, &slot->spilled_ptr);
		memset(slot->slot_type, STACK_INVALID, BPF_REG_SIZE);
		mark_stack_slot_scratched(env, (__u32)(spi - i));
		live_mark_stack_write(env, state->frameno, BIT(spi - i));
	}
	return 0;
}

/* btf_check_iter_arg(): the argument is a pointer to struct bpf_iter_<type>; its id or -EINVAL */
static int iter_arg_btf_id(const struct kmeta *m, int arg)
{
	const struct btf_param *p = &kparams(m)[arg];
	const struct btf_type *t = kbtf_skip_modifiers(m->btf, p->type, NULL);
	if (!kind_is(t, BTF_KIND_PTR))
		return -EINVAL;
	__u32 id;
	t = kbtf_skip_modifiers(m->btf, t->type, &id);
	if (!btf_is_struct(t) || strncmp(kbtf_name(m->btf, t->name_off), "bpf_iter_", 9) || !t->size ||
	    t->size % BPF_REG_SIZE)
		return -EINVAL;
	return (int)id;
}

static int process_iter_arg(struct venv *env, __u32 regno, int insn_idx, struct kmeta *m)
{
	struct vreg *reg = &cur_regs(env)[regno];
	int btf_id = iter_arg_btf_id(m, (int)regno - 1), err;
	if (btf_id < 0) {
		verbose(env, "expected valid iter pointer as arg #%d\n", regno - 1);
		return -EINVAL;
	}
	const struct btf_type *t = kbtf_type(m->btf, (__u32)btf_id);
	int nr_slots = (int)(t->size / BPF_REG_SIZE);
	if (is_iter_new_kfunc(m)) {
		if (!is_iter_reg_valid_uninit(env, reg, nr_slots)) {
			verbose(env, "expected uninitialized iter_%s as arg #%d\n", iter_type_str(m->btf, (__u32)btf_id),
				regno - 1);
			return -EINVAL;
		}
		for (int i = 0; i < nr_slots * 8; i += BPF_REG_SIZE) {
			err = check_mem_access(env, insn_idx, regno, i, BPF_DW, BPF_WRITE, -1, false, false);
			if (err)
				return err;
		}
		return mark_stack_slots_iter(env, m, reg, insn_idx, (__u32)btf_id, nr_slots);
	}
	err = is_iter_reg_valid_init(env, reg, m->btf, (__u32)btf_id, nr_slots);
	switch (err) {
	case 0:
		break;
	case -EINVAL:
		verbose(env, "expected an initialized iter_%s as arg #%d\n", iter_type_str(m->btf, (__u32)btf_id),
			regno - 1);
		return err;
	case -EPROTO:
		verbose(env, "expected an RCU CS when using %s\n", m->func_name);
		return err;
	default:
		return err;
	}
	int spi = iter_get_spi(env, reg, nr_slots);
	if (spi < 0)
		return spi;
	for (int i = 0; i < nr_slots; i++) {
		err = live_mark_stack_read(env, reg->frameno, (__u32)env->insn_idx, BIT(spi - i));
		if (err)
			return err;
		mark_stack_slot_scratched(env, (__u32)(spi - i));
	}
	m->iter.spi = spi;
	m->iter.frameno = reg->frameno;
	m->ref_obj_id = func_of(env, reg)->stack[spi].spilled_ptr.ref_obj_id;
	if (is_iter_destroy_kfunc(m))
		return unmark_stack_slots_iter(env, reg, nr_slots);
	return 0;
}

static struct vreg *iter_reg_of(struct vstate *st, const struct kmeta *m)
{
	return &st->frame[m->iter.frameno]->stack[m->iter.spi].spilled_ptr;
}

/*
 * process_iter_next_call(): an active iterator's next() forks: the state
 * walked now is the drained one (R0 = 0, the loop left), the queued one
 * has R0 not NULL and the depth one more, its imprecise scalars widened
 * against the previous visit of this call (the loop converges when a
 * queued state equals one seen, in is_state_visited()).
 */
static int process_iter_next_call(struct venv *env, int insn_idx, const struct kmeta *m)
{
	struct vstate *cur_st = env->cur_state;
	struct vfunc *cur_fr = cur_st->frame[cur_st->curframe];
	struct vreg *cur_iter = iter_reg_of(cur_st, m);
	if (cur_iter->iter.state != BPF_ITER_STATE_ACTIVE && cur_iter->iter.state != BPF_ITER_STATE_DRAINED) {
		verbose(env, "verifier bug: unexpected iterator state %d (%s)\n", cur_iter->iter.state,
			iter_state_str(cur_iter->iter.state));
		return -EFAULT;
	}
	if (cur_iter->iter.state == BPF_ITER_STATE_ACTIVE) {
		if (!cur_st->parent || cur_st->parent->insn_idx != (__u32)insn_idx ||
		    cur_st->parent->curframe != cur_st->curframe) {
			verbose(env, "verifier bug: bad parent state for iter next call\n");
			return -EFAULT;
		}
		struct vstate *prev_st = find_prev_entry(env, cur_st->parent, insn_idx);
		struct vstate *queued_st = push_stack(env, insn_idx + 1, insn_idx, false);
		if (!queued_st)
			return env->push_err ? env->push_err : -ENOMEM;
		struct vreg *queued_iter = iter_reg_of(queued_st, m);
		queued_iter->iter.state = BPF_ITER_STATE_ACTIVE;
		queued_iter->iter.depth++;
		if (prev_st)
			widen_imprecise_scalars(env, prev_st, queued_st);
		mark_ptr_not_null_reg(&queued_st->frame[queued_st->curframe]->regs[BPF_REG_0]);
	}
	cur_iter->iter.state = BPF_ITER_STATE_DRAINED;
	__mark_reg_const_zero(env, &cur_fr->regs[BPF_REG_0]);
	return 0;
}

/* iter_active_depths_differ(): an active iterator deeper in cur is no infinite loop */
bool iter_active_depths_differ(const struct vstate *old, const struct vstate *cur)
{
	for (__u32 fr = old->curframe + 1; fr-- > 0;) {
		const struct vfunc *state = old->frame[fr], *cstate = cur->frame[fr];
		for (int i = 0; i < state->allocated_stack / BPF_REG_SIZE; i++) {
			if (state->stack[i].slot_type[0] != STACK_ITER)
				continue;
			const struct vreg *slot = &state->stack[i].spilled_ptr;
			if (slot->iter.state != BPF_ITER_STATE_ACTIVE)
				continue;
			if (i >= cstate->allocated_stack / BPF_REG_SIZE)
				return true;
			if (cstate->stack[i].spilled_ptr.iter.depth != slot->iter.depth)
				return true;
		}
	}
	return false;
}

/* ---- check_kfunc_args() ---- */

static bool is_trusted_reg(const struct vreg *reg)
{
	if (reg->ref_obj_id)
		return true;
	if (base_type(reg->type) == PTR_TO_CTX)
		return true;
	return (type_flag(reg->type) & (PTR_TRUSTED | MEM_ALLOC)) && !(type_flag(reg->type) & PTR_UNTRUSTED) &&
	       !(type_flag(reg->type) & ~(PTR_TRUSTED | MEM_ALLOC | MEM_RCU | PTR_MAYBE_NULL | NON_OWN_REF | MEM_PERCPU));
}

static bool is_rcu_reg(const struct vreg *reg) { return reg->type & MEM_RCU; }

static bool is_ctx_struct(struct venv *env, const struct kmeta *m, const struct btf_type *ref_t)
{
	const char *want = prog_ctx_type_name(env->prog_type);
	return btf_is_struct(ref_t) && *want && !strcmp(kbtf_name(m->btf, ref_t->name_off), want);
}

/* get_kfunc_ptr_arg_type() */
static int kfunc_ptr_arg_type(struct venv *env, struct kmeta *m, const struct btf_type *ref_t, const char *ref_tname,
			      int argno, int nargs)
{
	const struct btf_param *args = kparams(m);
	struct vreg *reg = &cur_regs(env)[argno + 1];
	bool arg_mem_size = false;
	if (is_ctx_struct(env, m, ref_t))
		return KF_ARG_PTR_TO_CTX;
	if (param_suffix(m, &args[argno], "__nullable") && register_is_null(reg))
		return KF_ARG_PTR_TO_NULL;
	if (btf_is_struct(ref_t) && !strcmp(ref_tname, "bpf_dynptr"))
		return KF_ARG_PTR_TO_DYNPTR;
	if ((is_iter_kfunc(m) && argno == 0) || param_suffix(m, &args[argno], "__iter"))
		return KF_ARG_PTR_TO_ITER;
	if (base_type(reg->type) == PTR_TO_BTF_ID) {
		if (!btf_is_struct(ref_t)) {
			verbose(env, "kernel function %s args#%d pointer type %s %s is not supported\n", m->func_name,
				argno, kbtf_kind_str(ref_t), ref_tname);
			return -EINVAL;
		}
		return KF_ARG_PTR_TO_BTF_ID;
	}
	/* is_kfunc_arg_mem_size(), is_kfunc_arg_const_mem_size(): a scalar parameter, a scalar register */
	if (argno + 1 < nargs && btf_is_scalar(kbtf_skip_modifiers(m->btf, args[argno + 1].type, NULL)) &&
	    cur_regs(env)[argno + 2].type == SCALAR_VALUE &&
	    (param_suffix(m, &args[argno + 1], "__sz") || param_suffix(m, &args[argno + 1], "__szk")))
		arg_mem_size = true;
	if (!btf_is_scalar(ref_t) && !is_scalar_struct(m->btf, ref_t, 0) && !arg_mem_size) {
		verbose(env, "arg#%d pointer type %s %s must point to %sscalar, or struct with scalar\n", argno,
			kbtf_kind_str(ref_t), ref_tname, arg_mem_size ? "void, " : "");
		return -EINVAL;
	}
	return arg_mem_size ? KF_ARG_PTR_TO_MEM_SIZE : KF_ARG_PTR_TO_MEM;
}

static int check_kfunc_mem_size_reg(struct venv *env, struct vreg *reg, __u32 regno)
{
	struct vreg *mem_reg = &cur_regs(env)[regno - 1], saved;
	bool may_be_null = type_may_be_null(mem_reg->type);
	struct call_meta meta;
	memset(&meta, 0, sizeof(meta));
	if (may_be_null) {
		saved = *mem_reg;
		mark_ptr_not_null_reg(mem_reg);
	}
	int err = check_mem_size_reg(env, reg, regno, BPF_READ, true, &meta);
	if (!err)
		err = check_mem_size_reg(env, reg, regno, BPF_WRITE, true, &meta);
	if (may_be_null)
		*mem_reg = saved;
	return err;
}

static int check_kfunc_args(struct venv *env, struct kmeta *m, int insn_idx)
{
	const struct btf_param *args = kparams(m);
	int nargs = (int)BTF_INFO_VLEN(m->func_proto->info), err;
	if (nargs > MAX_BPF_FUNC_REG_ARGS) {
		verbose(env, "Function %s has %d > %d args\n", m->func_name, nargs, MAX_BPF_FUNC_REG_ARGS);
		return -EINVAL;
	}
	for (int i = 0; i < nargs; i++) {
		struct vreg *regs = cur_regs(env), *reg = &regs[i + 1];
		__u32 regno = (__u32)i + 1, ref_id = 0, arg_type = 0;
		const struct btf_type *t = kbtf_skip_modifiers(m->btf, args[i].type, NULL);
		if (param_suffix(m, &args[i], "__ign"))
			continue;
		if (btf_is_scalar(t)) {
			if (reg->type != SCALAR_VALUE) {
				verbose(env, "R%d is not a scalar\n", regno);
				return -EINVAL;
			}
			bool ret_buf_sz = false;
			if (param_suffix(m, &args[i], "__k")) {
				if (m->arg_constant.found) {
					verbose(env, "verifier bug: only one constant argument permitted\n");
					return -EFAULT;
				}
				if (!tnum_is_const(reg->var_off)) {
					verbose(env, "R%d must be a known constant\n", regno);
					return -EINVAL;
				}
				err = mark_chain_precision(env, (int)regno);
				if (err < 0)
					return err;
				m->arg_constant.found = true;
				m->arg_constant.value = reg->var_off.value;
			} else if (!strcmp(kbtf_name(m->btf, args[i].name_off), "rdonly_buf_size")) {
				m->r0_rdonly = true;
				ret_buf_sz = true;
			} else if (!strcmp(kbtf_name(m->btf, args[i].name_off), "rdwr_buf_size")) {
				ret_buf_sz = true;
			}
			if (ret_buf_sz) {
				if (m->r0_size) {
					verbose(env, "2 or more rdonly/rdwr_buf_size parameters for kfunc");
					return -EINVAL;
				}
				if (!tnum_is_const(reg->var_off)) {
					verbose(env, "R%d is not a const\n", regno);
					return -EINVAL;
				}
				m->r0_size = (__u32)reg->var_off.value;
				err = mark_chain_precision(env, (int)regno);
				if (err)
					return err;
			}
			continue;
		}
		if (!kind_is(t, BTF_KIND_PTR)) {
			verbose(env, "Unrecognized arg#%d type %s\n", i, kbtf_kind_str(t));
			return -EINVAL;
		}
		bool nullable = param_suffix(m, &args[i], "__nullable");
		if ((is_kfunc_trusted_args(m) || is_kfunc_rcu(m)) &&
		    (register_is_null(reg) || type_may_be_null(reg->type)) && !nullable) {
			verbose(env, "Possibly NULL pointer passed to trusted arg%d\n", i);
			return -EACCES;
		}
		if (reg->ref_obj_id) {
			if (is_kfunc_release(m) && m->ref_obj_id) {
				verbose(env, "verifier bug: more than one arg with ref_obj_id R%d %u %u\n", regno,
					reg->ref_obj_id, m->ref_obj_id);
				return -EFAULT;
			}
			m->ref_obj_id = reg->ref_obj_id;
			if (is_kfunc_release(m))
				m->release_regno = regno;
		}
		const struct btf_type *ref_t = kbtf_skip_modifiers(m->btf, t->type, &ref_id);
		if (!ref_t) {
			verbose(env, "Unrecognized arg#%d type %s\n", i, kbtf_kind_str(t));
			return -EINVAL;
		}
		const char *ref_tname = kbtf_name(m->btf, ref_t->name_off);
		int kf_arg_type = kfunc_ptr_arg_type(env, m, ref_t, ref_tname, i, nargs);
		if (kf_arg_type < 0)
			return kf_arg_type;
		switch (kf_arg_type) {
		case KF_ARG_PTR_TO_NULL:
			continue;
		case KF_ARG_PTR_TO_BTF_ID:
			if (!is_kfunc_trusted_args(m) && !is_kfunc_rcu(m))
				break;
			if (!is_trusted_reg(reg)) {
				if (!is_kfunc_rcu(m)) {
					verbose(env, "R%d must be referenced or trusted\n", regno);
					return -EINVAL;
				}
				if (!is_rcu_reg(reg)) {
					verbose(env, "R%d must be a rcu pointer\n", regno);
					return -EINVAL;
				}
			}
			/* trusted: the offset checks of a released argument */
			arg_type |= OBJ_RELEASE;
			break;
		case KF_ARG_PTR_TO_CTX:
			/* no release offset checks (the host: a scalar gets "expected pointer to ctx",
			 * an uninitialized register the offset check's line) */
			break;
		default:
			break;
		}
		if (is_kfunc_release(m) && reg->ref_obj_id)
			arg_type |= OBJ_RELEASE;
		err = check_func_arg_reg_off(env, reg, (int)regno, arg_type);
		if (err < 0)
			return err;

		switch (kf_arg_type) {
		case KF_ARG_PTR_TO_CTX:
			if (reg->type != PTR_TO_CTX) {
				verbose(env, "arg#%d expected pointer to ctx, but got %s\n", i, reg_type_str(env, reg->type));
				return -EINVAL;
			}
			break;
		case KF_ARG_PTR_TO_ITER:
			if (reg->type != PTR_TO_STACK) {
				verbose(env, "arg#%d expected pointer to an iterator on stack\n", i);
				return -EINVAL;
			}
			err = process_iter_arg(env, regno, insn_idx, m);
			if (err < 0)
				return err;
			break;
		case KF_ARG_PTR_TO_DYNPTR: {
			__u32 dynptr_arg_type = ARG_PTR_TO_DYNPTR, clone_ref_obj_id = 0;
			if (reg->type == CONST_PTR_TO_DYNPTR)
				dynptr_arg_type |= MEM_RDONLY;
			if (param_suffix(m, &args[i], "__uninit"))
				dynptr_arg_type |= MEM_UNINIT;
			if (!strcmp(m->func_name, "bpf_dynptr_from_skb")) {
				dynptr_arg_type |= DYNPTR_TYPE_SKB;
			} else if (!strcmp(m->func_name, "bpf_dynptr_from_xdp")) {
				dynptr_arg_type |= DYNPTR_TYPE_XDP;
			} else if (!strcmp(m->func_name, "bpf_dynptr_clone") && (dynptr_arg_type & MEM_UNINIT)) {
				__u32 parent_type = m->initialized_dynptr.type;
				if (parent_type == BPF_DYNPTR_TYPE_INVALID) {
					verbose(env, "verifier bug: no dynptr type for parent of clone\n");
					return -EFAULT;
				}
				dynptr_arg_type |= dynptr_type_flag(parent_type);
				clone_ref_obj_id = m->initialized_dynptr.ref_obj_id;
				if (parent_type == BPF_DYNPTR_TYPE_RINGBUF && !clone_ref_obj_id) {
					verbose(env, "verifier bug: missing ref obj id for parent of clone\n");
					return -EFAULT;
				}
			}
			err = process_dynptr_func(env, regno, insn_idx, dynptr_arg_type, clone_ref_obj_id);
			if (err < 0)
				return err;
			if (!(dynptr_arg_type & MEM_UNINIT)) {
				err = dynptr_reg_info(env, reg, &m->initialized_dynptr.id, &m->initialized_dynptr.type,
						      &m->initialized_dynptr.ref_obj_id);
				if (err < 0) {
					verbose(env, "verifier bug: failed to obtain dynptr id\n");
					return err;
				}
			}
			break;
		}
		case KF_ARG_PTR_TO_BTF_ID:
			if (base_type(reg->type) != PTR_TO_BTF_ID || (reg->type & PTR_UNTRUSTED && !is_rcu_reg(reg))) {
				verbose(env, "arg#%d is %s ", i, reg_type_str(env, reg->type));
				verbose(env, "expected %s or socket\n",
					reg_type_str(env, base_type(reg->type) |
								  (type_flag(reg->type) & (PTR_TRUSTED | MEM_ALLOC | MEM_RCU |
											   NON_OWN_REF | MEM_PERCPU))));
				return -EINVAL;
			}
			if (!kbtf_struct_ids_match(m->btf, reg->btf_id, reg->off, ref_id,
						   is_kfunc_release(m) && reg->ref_obj_id)) {
				verbose(env, "kernel function %s args#%d expected pointer to %s %s but R%d has a pointer to %s %s\n",
					m->func_name, i, kbtf_kind_str(ref_t), ref_tname, regno,
					kbtf_kind_str(kbtf_type(m->btf, reg->btf_id)), kbtf_type_name(m->btf, reg->btf_id));
				return -EINVAL;
			}
			break;
		case KF_ARG_PTR_TO_MEM: {
			__u32 sz = 0;
			int r = kbtf_resolve_size(m->btf, ref_id, &sz);
			if (r < 0) {
				verbose(env, "arg#%d reference type('%s %s') size cannot be determined: %d\n", i,
					kbtf_kind_str(ref_t), ref_tname, r);
				return -EINVAL;
			}
			err = check_mem_reg(env, reg, regno, sz);
			if (err < 0)
				return err;
			break;
		}
		case KF_ARG_PTR_TO_MEM_SIZE: {
			struct vreg *size_reg = &regs[regno + 1];
			const struct btf_param *size_arg = &args[i + 1];
			if (!register_is_null(reg) || !param_suffix(m, &args[i], "__opt")) {
				err = check_kfunc_mem_size_reg(env, size_reg, regno + 1);
				if (err < 0) {
					verbose(env, "arg#%d arg#%d memory, len pair leads to invalid memory access\n", i,
						i + 1);
					return err;
				}
			} else {
				/* a NULL optional buffer: its zero is made precise (as this
				 * host's level-2 log shows) */
				err = mark_chain_precision(env, (int)regno);
				if (err < 0)
					return err;
			}
			if (param_suffix(m, size_arg, "__szk")) {
				if (m->arg_constant.found) {
					verbose(env, "verifier bug: only one constant argument permitted\n");
					return -EFAULT;
				}
				if (!tnum_is_const(size_reg->var_off)) {
					verbose(env, "R%d must be a known constant\n", regno + 1);
					return -EINVAL;
				}
				err = mark_chain_precision(env, (int)regno + 1);
				if (err < 0)
					return err;
				m->arg_constant.found = true;
				m->arg_constant.value = size_reg->var_off.value;
			}
			i++;    /* the size argument is checked */
			break;
		}
		default:
			break;
		}
	}
	if (is_kfunc_release(m) && !m->release_regno) {
		verbose(env, "release kernel function %s expects refcounted PTR_TO_BTF_ID\n", m->func_name);
		return -EINVAL;
	}
	return 0;
}

/* ---- check_kfunc_call() ---- */

/*
 * A kfunc bpfemu runs (emu/vm/ffi.c) or a user function provides: its
 * arguments checked against the kernel's prototype, then R0 from the
 * return type. Any other id gets what a kernel whose BTF has no such
 * function answers (front.c already refused it before the walk).
 */
int check_kfunc_call(struct venv *env, const struct bpf_insn *insn, int *insn_idx_p)
{
	int insn_idx = *insn_idx_p, err;
	struct kmeta m;
	if (!insn->imm) {
		env->kfunc0 = true;
		return 0;
	}
	if (!emu_vm_kfunc_available((__u32)insn->imm)) {
		verbose(env, "kernel btf_id %u is not a function\n", (__u32)insn->imm);
		return -EINVAL;
	}
	err = fetch_kfunc_meta(env, insn, &m, true);
	if (err)
		return err;
	if (!emu_vm_kfunc_is_user((__u32)insn->imm) && !kfunc_allowed(env, m.func_name)) {
		verbose(env, "calling kernel function %s is not allowed\n", m.func_name);
		return -EACCES;
	}
	env->aux[insn_idx].is_iter_next = is_iter_next_kfunc(&m);
	if (is_kfunc_sleepable(&m) && !(env->sleepable || env->cur_state->in_sleepable)) {
		verbose(env, "program must be sleepable to call sleepable kfunc %s\n", m.func_name);
		return -EACCES;
	}
	err = check_kfunc_args(env, &m, insn_idx);
	if (err < 0)
		return err;

	bool rcu_lock = !strcmp(m.func_name, "bpf_rcu_read_lock"), rcu_unlock = !strcmp(m.func_name, "bpf_rcu_read_unlock");
	bool preempt_disable = !strcmp(m.func_name, "bpf_preempt_disable");
	bool preempt_enable = !strcmp(m.func_name, "bpf_preempt_enable");
	struct vstate *vs = env->cur_state;
	if (vs->active_rcu_lock) {
		if (rcu_lock) {
			verbose(env, "nested rcu read lock (kernel function %s)\n", m.func_name);
			return -EINVAL;
		} else if (rcu_unlock) {
			for (__u32 fr = 0; fr <= vs->curframe; fr++) {
				struct vfunc *f = vs->frame[fr];
				for (int r = 0; r < MAX_BPF_REG; r++)
					if (f->regs[r].type & MEM_RCU) {
						f->regs[r].type &= ~(MEM_RCU | PTR_MAYBE_NULL);
						f->regs[r].type |= PTR_UNTRUSTED;
					}
				for (int s = 0; s < f->allocated_stack / BPF_REG_SIZE; s++)
					if ((f->stack[s].slot_type[0] == STACK_SPILL || f->stack[s].slot_type[0] == STACK_ITER) &&
					    (f->stack[s].spilled_ptr.type & MEM_RCU)) {
						f->stack[s].spilled_ptr.type &= ~(MEM_RCU | PTR_MAYBE_NULL);
						f->stack[s].spilled_ptr.type |= PTR_UNTRUSTED;
					}
			}
			vs->active_rcu_lock = 0;
		} else if (is_kfunc_sleepable(&m)) {
			verbose(env, "kernel func %s is sleepable within rcu_read_lock region\n", m.func_name);
			return -EACCES;
		}
	} else if (rcu_lock) {
		vs->active_rcu_lock = 1;
	} else if (rcu_unlock) {
		verbose(env, "unmatched rcu read unlock (kernel function %s)\n", m.func_name);
		return -EINVAL;
	}
	if (vs->active_preempt_locks) {
		if (preempt_disable) {
			vs->active_preempt_locks++;
		} else if (preempt_enable) {
			vs->active_preempt_locks--;
		} else if (is_kfunc_sleepable(&m)) {
			verbose(env, "kernel func %s is sleepable within non-preemptible region\n", m.func_name);
			return -EACCES;
		}
	} else if (preempt_disable) {
		vs->active_preempt_locks++;
	} else if (preempt_enable) {
		verbose(env, "unmatched attempt to enable preemption (kernel function %s)\n", m.func_name);
		return -EINVAL;
	}

	struct vreg *regs = cur_regs(env);
	if (m.release_regno) {
		err = release_reference(env, regs[m.release_regno].ref_obj_id);
		if (err) {
			verbose(env, "kfunc %s#%d reference has not been acquired before\n", m.func_name, m.func_id);
			return err;
		}
	}
	for (__u32 i = 0; i < CALLER_SAVED_REGS; i++) {
		mark_reg_not_init(env, regs, i);
		check_reg_arg(env, i, DST_OP_NO_MARK);
	}

	__u32 ptr_type_id = 0;
	const struct btf_type *t = kbtf_skip_modifiers(m.btf, m.func_proto->type, NULL);
	if (is_kfunc_acquire(&m) &&
	    !(kind_is(t, BTF_KIND_PTR) && btf_is_struct(kbtf_skip_modifiers(m.btf, t->type, NULL)))) {
		verbose(env, "acquire kernel function does not return PTR_TO_BTF_ID\n");
		return -EINVAL;
	}
	if (btf_is_scalar(t)) {
		mark_reg_unknown(env, regs, BPF_REG_0);
	} else if (kind_is(t, BTF_KIND_PTR)) {
		const struct btf_type *ptr_type = kbtf_skip_modifiers(m.btf, t->type, &ptr_type_id);
		bool slice = !strcmp(m.func_name, "bpf_dynptr_slice"), slice_rdwr = !strcmp(m.func_name, "bpf_dynptr_slice_rdwr");
		if (slice || slice_rdwr) {
			/* check_special_kfunc(): memory of the constant size, of the dynptr's kind */
			mark_reg_known_zero(env, regs, BPF_REG_0);
			if (!m.arg_constant.found) {
				verbose(env, "verifier bug: bpf_dynptr_slice(_rdwr) no constant size\n");
				return -EFAULT;
			}
			regs[BPF_REG_0].mem_size = (__u32)m.arg_constant.value;
			regs[BPF_REG_0].type = PTR_TO_MEM | dynptr_type_flag(m.initialized_dynptr.type);
			if (slice) {
				regs[BPF_REG_0].type |= MEM_RDONLY;
			} else if (HOST_REFUSES_SLICE_RDWR) {
				/* this host's 6.18 (6.18.44) refuses it for every dynptr, after the
				 * arguments' checks, where the source allows it: the host wins */
				verbose(env, "bpf_dynptr_slice_rdwr() is not allowed\n");
				return -EPERM;
			} else if (!may_access_direct_pkt_data(env, NULL, BPF_WRITE)) {
				verbose(env, "the prog does not allow writes to packet data\n");
				return -EINVAL;
			}
			if (!m.initialized_dynptr.id) {
				verbose(env, "verifier bug: no dynptr id\n");
				return -EFAULT;
			}
			regs[BPF_REG_0].dynptr_id = m.initialized_dynptr.id;
		} else if (!ptr_type || !t->type || (ptr_type && BTF_INFO_KIND(ptr_type->info) == 0)) {
			/* a kfunc returning void * returns a scalar */
			mark_reg_unknown(env, regs, BPF_REG_0);
		} else if (!btf_is_struct(ptr_type)) {
			if (!m.r0_size) {
				__u32 sz;
				if (!kbtf_resolve_size(m.btf, ptr_type_id, &sz)) {
					m.r0_size = sz;
					m.r0_rdonly = true;
				}
			}
			if (!m.r0_size) {
				verbose(env, "kernel function %s returns pointer type %s %s is not supported\n", m.func_name,
					kbtf_kind_str(ptr_type), kbtf_name(m.btf, ptr_type->name_off));
				return -EINVAL;
			}
			mark_reg_known_zero(env, regs, BPF_REG_0);
			regs[BPF_REG_0].type = PTR_TO_MEM;
			regs[BPF_REG_0].mem_size = m.r0_size;
			if (m.r0_rdonly)
				regs[BPF_REG_0].type |= MEM_RDONLY;
			if (m.ref_obj_id)
				regs[BPF_REG_0].ref_obj_id = m.ref_obj_id;
		} else {
			mark_reg_known_zero(env, regs, BPF_REG_0);
			regs[BPF_REG_0].btf = m.btf;
			regs[BPF_REG_0].type = PTR_TO_BTF_ID;
			regs[BPF_REG_0].btf_id = ptr_type_id;
			if (is_kfunc_rcu_protected(&m))
				regs[BPF_REG_0].type |= MEM_RCU;
			if (is_iter_next_kfunc(&m))
				regs[BPF_REG_0].type |= iter_reg_of(env->cur_state, &m)->type & MEM_RCU ? MEM_RCU : PTR_TRUSTED;
		}
		if (is_kfunc_ret_null(&m)) {
			regs[BPF_REG_0].type |= PTR_MAYBE_NULL;
			regs[BPF_REG_0].id = ++env->id_gen;
		}
		if (is_kfunc_acquire(&m)) {
			int id = acquire_reference(env, insn_idx);
			if (id < 0)
				return id;
			if (is_kfunc_ret_null(&m))
				regs[BPF_REG_0].id = (__u32)id;
			regs[BPF_REG_0].ref_obj_id = (__u32)id;
		}
	}
	if (is_iter_next_kfunc(&m)) {
		err = process_iter_next_call(env, insn_idx, &m);
		if (err)
			return err;
	}
	return 0;
}
