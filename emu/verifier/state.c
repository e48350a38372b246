/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/state.c: verifier states and what is done with them.
 *
 * A state is the frames of one path at one instruction. Conditional jumps
 * push a copy for the branch not taken now (push_stack) and take it up
 * later (pop_stack); at prune points a state is compared with the states
 * kept there (is_state_visited): if an old one is at least as general, the
 * path is safe and ends, else the current state may be kept as a checkpoint
 * (a parent of what follows). Comparison ignores what no later instruction
 * reads (registers: compute_live_registers, stack slots: liveness.c) and the
 * values of scalars not marked precise. Precision is marked backwards from
 * the instruction that needed a value, through the jump history of each
 * state and its parents (mark_chain_precision). Loops: a state equal to a
 * parent still being explored is an infinite loop; back edges inside a
 * strongly connected component carry precision until a fixed point when the
 * component is left. The rules and heuristics are Linux 6.18's: the
 * processed count depends on them.
 */
#include <errno.h>
#include <stdlib.h>

#include "env.h"

/* ---- allocation and copies ---- */

static void *copy_array(void *dst, const void *src, size_t n, size_t size)
{
	if (!n)
		return dst ? dst : malloc(1);
	void *p = realloc(dst, n * size);
	if (!p) {
		free(dst);
		return NULL;
	}
	memcpy(p, src, n * size);
	return p;
}

void free_func_state(struct vfunc *f)
{
	if (!f)
		return;
	free(f->stack);
	free(f);
}

static void clear_jmp_history(struct vstate *st)
{
	free(st->jmp_history);
	st->jmp_history = NULL;
	st->jmp_history_cnt = 0;
}

void free_verifier_state(struct vstate *st, bool free_self)
{
	for (__u32 i = 0; i <= st->curframe && i < MAX_CALL_FRAMES; i++) {
		free_func_state(st->frame[i]);
		st->frame[i] = NULL;
	}
	free(st->refs);
	st->refs = NULL;
	clear_jmp_history(st);
	if (free_self)
		free(st);
}

static int copy_func_state(struct vfunc *dst, const struct vfunc *src)
{
	struct vslot *stack = dst->stack;
	memcpy(dst, src, offsetof(struct vfunc, stack));
	size_t n = (size_t)src->allocated_stack / BPF_REG_SIZE;
	dst->stack = copy_array(stack, src->stack, n, sizeof(struct vslot));
	return dst->stack ? 0 : -ENOMEM;
}

int copy_verifier_state(struct vstate *dst, const struct vstate *src)
{
	dst->jmp_history = copy_array(dst->jmp_history, src->jmp_history, src->jmp_history_cnt, sizeof(struct jmp_hist));
	if (!dst->jmp_history)
		return -ENOMEM;
	dst->jmp_history_cnt = src->jmp_history_cnt;
	for (__u32 i = src->curframe + 1; i <= dst->curframe && i < MAX_CALL_FRAMES; i++) {
		free_func_state(dst->frame[i]);
		dst->frame[i] = NULL;
	}
	dst->refs = copy_array(dst->refs, src->refs, src->acquired_refs, sizeof(struct vref));
	if (!dst->refs)
		return -ENOMEM;
	dst->acquired_refs = src->acquired_refs;
	dst->active_locks = src->active_locks;
	dst->active_preempt_locks = src->active_preempt_locks;
	dst->active_rcu_lock = src->active_rcu_lock;
	dst->active_irq_id = src->active_irq_id;
	dst->active_lock_id = src->active_lock_id;
	dst->active_lock_ptr = src->active_lock_ptr;
	dst->speculative = src->speculative;
	dst->in_sleepable = src->in_sleepable;
	dst->cleaned = src->cleaned;
	dst->curframe = src->curframe;
	dst->branches = src->branches;
	dst->parent = src->parent;
	dst->first_insn_idx = src->first_insn_idx;
	dst->last_insn_idx = src->last_insn_idx;
	dst->dfs_depth = src->dfs_depth;
	dst->callback_unroll_depth = src->callback_unroll_depth;
	dst->may_goto_depth = src->may_goto_depth;
	dst->equal_state = src->equal_state;
	for (__u32 i = 0; i <= src->curframe; i++) {
		if (!dst->frame[i] && !(dst->frame[i] = calloc(1, sizeof(struct vfunc))))
			return -ENOMEM;
		int err = copy_func_state(dst->frame[i], src->frame[i]);
		if (err)
			return err;
	}
	return 0;
}

int grow_stack_state(struct venv *env, struct vfunc *state, int size)
{
	size_t old_n = (size_t)state->allocated_stack / BPF_REG_SIZE;
	size = (size + BPF_REG_SIZE - 1) / BPF_REG_SIZE * BPF_REG_SIZE;
	size_t n = (size_t)size / BPF_REG_SIZE;
	if (old_n >= n)
		return 0;
	struct vslot *s = realloc(state->stack, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + old_n, 0, (n - old_n) * sizeof(*s));
	state->stack = s;
	state->allocated_stack = size;
	if (env->subprog[state->subprogno].stack_depth < size)
		env->subprog[state->subprogno].stack_depth = (__u16)size;
	return 0;
}

void init_func_state(struct venv *env, struct vfunc *state, int callsite, int frameno, int subprogno)
{
	state->callsite = callsite;
	state->frameno = (__u32)frameno;
	state->subprogno = (__u32)subprogno;
	state->callback_ret_range = (struct retval_range){ 0, 0 };
	for (int i = 0; i < MAX_BPF_REG; i++) {
		__mark_reg_not_init(env, &state->regs[i]);
		state->regs[i].subreg_def = 0;
	}
	state->regs[BPF_REG_FP].type = PTR_TO_STACK;
	__mark_reg_known_zero(&state->regs[BPF_REG_FP]);
	state->regs[BPF_REG_FP].frameno = (__u32)frameno;
	mark_verifier_state_scratched(env);
}

/* ---- references ---- */

int acquire_reference(struct venv *env, int insn_idx)
{
	struct vstate *st = env->cur_state;
	struct vref *r = realloc(st->refs, (st->acquired_refs + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	st->refs = r;
	r = &st->refs[st->acquired_refs++];
	memset(r, 0, sizeof(*r));
	r->insn_idx = insn_idx;
	r->type = REF_TYPE_PTR;
	r->id = ++env->id_gen;
	return (int)r->id;
}

static void release_reference_state(struct vstate *st, __u32 idx)
{
	__u32 last = st->acquired_refs - 1;
	if (last && idx != last)
		memmove(&st->refs[idx], &st->refs[idx + 1], sizeof(*st->refs) * (last - idx));
	memset(&st->refs[last], 0, sizeof(*st->refs));
	st->acquired_refs--;
}

bool find_reference_state(const struct vstate *st, __u32 ptr_id)
{
	for (__u32 i = 0; i < st->acquired_refs; i++)
		if (st->refs[i].id == ptr_id)
			return true;
	return false;
}

int release_reference_nomark(struct vstate *st, __u32 ref_obj_id)
{
	for (__u32 i = 0; i < st->acquired_refs; i++) {
		if (st->refs[i].type != REF_TYPE_PTR)
			continue;
		if (st->refs[i].id == ref_obj_id) {
			release_reference_state(st, i);
			return 0;
		}
	}
	return -EINVAL;
}

int release_reference(struct venv *env, __u32 ref_obj_id)
{
	int err = release_reference_nomark(env->cur_state, ref_obj_id);
	if (err)
		return err;
	for_each_reg_in_state(env->cur_state, fn, reg, {
		(void)fn;
		if (reg->ref_obj_id == ref_obj_id)
			mark_reg_invalid(env, reg);
	});
	return 0;
}

/* ---- the explored states: buckets by instruction and call site ---- */

static struct vstate_list **explored_head(struct venv *env, int idx)
{
	struct vstate *cur = env->cur_state;
	struct vfunc *f = cur->frame[cur->curframe];
	return &env->explored[(__u32)(idx ^ f->callsite) % env->len];
}

static void list_del_sl(struct vstate_list **head, struct vstate_list *sl)
{
	if (sl->prev)
		sl->prev->next = sl->next;
	else if (head)
		*head = sl->next;
	if (sl->next)
		sl->next->prev = sl->prev;
	sl->next = sl->prev = NULL;
}

static void list_add_sl(struct vstate_list **head, struct vstate_list *sl)
{
	sl->prev = NULL;
	sl->next = *head;
	if (*head)
		(*head)->prev = sl;
	*head = sl;
}

static bool same_callsites(const struct vstate *a, const struct vstate *b)
{
	if (a->curframe != b->curframe)
		return false;
	for (int fr = (int)a->curframe; fr >= 0; fr--)
		if (a->frame[fr]->callsite != b->frame[fr]->callsite)
			return false;
	return true;
}

static __u32 frame_insn_idx(const struct vstate *st, __u32 frame)
{
	return frame == st->curframe ? st->insn_idx : (__u32)st->frame[frame + 1]->callsite;
}

static void update_peak_states(struct venv *env)
{
	__u32 cur = env->explored_states_size + env->free_list_size + env->num_backedges;
	if (env->peak_states < cur)
		env->peak_states = cur;
}

/* ---- strongly connected components ---- */

static bool compute_scc_callchain(struct venv *env, const struct vstate *st, struct scc_callchain *cc)
{
	memset(cc, 0, sizeof(*cc));
	for (__u32 i = 0; i <= st->curframe; i++) {
		__u32 idx = frame_insn_idx(st, i), scc = env->aux[idx].scc;
		if (scc) {
			cc->scc = scc;
			break;
		} else if (i < st->curframe) {
			cc->callsites[i] = idx;
		} else {
			return false;
		}
	}
	return true;
}

static struct scc_visit *scc_visit_lookup(struct venv *env, const struct scc_callchain *cc)
{
	struct scc_info *info = env->scc_info[cc->scc];
	if (!info)
		return NULL;
	for (__u32 i = 0; i < info->num_visits; i++)
		if (!memcmp(cc, &info->visits[i].callchain, sizeof(*cc)))
			return &info->visits[i];
	return NULL;
}

static struct scc_visit *scc_visit_alloc(struct venv *env, const struct scc_callchain *cc)
{
	struct scc_info *info = env->scc_info[cc->scc];
	if (!info && !(info = env->scc_info[cc->scc] = calloc(1, sizeof(*info))))
		return NULL;
	struct scc_visit *v = realloc(info->visits, (info->num_visits + 1) * sizeof(*v));
	if (!v)
		return NULL;
	info->visits = v;
	v = &info->visits[info->num_visits++];
	memset(v, 0, sizeof(*v));
	v->callchain = *cc;
	return v;
}

static const char *format_callchain(struct venv *env, const struct scc_callchain *cc)
{
	char *buf = env->tmp_str_buf;
	int d = snprintf(buf, TMP_STR_BUF_LEN, "(");
	for (size_t i = 0; i < ARRAY_SIZE(cc->callsites) && cc->callsites[i]; i++)
		d += snprintf(buf + d, TMP_STR_BUF_LEN - (size_t)d, "%u,", cc->callsites[i]);
	snprintf(buf + d, TMP_STR_BUF_LEN - (size_t)d, "%u)", cc->scc);
	return buf;
}

static int maybe_enter_scc(struct venv *env, struct vstate *st)
{
	struct scc_callchain *cc = &env->callchain_buf;
	if (!compute_scc_callchain(env, st, cc))
		return 0;
	struct scc_visit *v = scc_visit_lookup(env, cc);
	if (!v && !(v = scc_visit_alloc(env, cc)))
		return -ENOMEM;
	if (!v->entry_state) {
		v->entry_state = st;
		if (env->log.level & BPF_LOG_LEVEL2)
			verbose(env, "SCC enter %s\n", format_callchain(env, cc));
	}
	return 0;
}

static void free_backedges(struct scc_visit *v)
{
	for (struct scc_backedge *b = v->backedges, *n; b; b = n) {
		n = b->next;
		free_verifier_state(&b->state, false);
		free(b);
	}
	v->backedges = NULL;
}

static int propagate_backedges(struct venv *env, struct scc_visit *v);

static int maybe_exit_scc(struct venv *env, struct vstate *st)
{
	struct scc_callchain *cc = &env->callchain_buf;
	if (!compute_scc_callchain(env, st, cc))
		return 0;
	struct scc_visit *v = scc_visit_lookup(env, cc);
	if (!v) {
		if (!st->speculative) {
			verbose(env, "verifier bug: scc exit: no visit info for call chain %s\n", format_callchain(env, cc));
			return -EFAULT;
		}
		return 0;
	}
	if (v->entry_state != st)
		return 0;
	if (env->log.level & BPF_LOG_LEVEL2)
		verbose(env, "SCC exit %s\n", format_callchain(env, cc));
	v->entry_state = NULL;
	env->num_backedges -= v->num_backedges;
	v->num_backedges = 0;
	update_peak_states(env);
	return propagate_backedges(env, v);
}

static int add_scc_backedge(struct venv *env, struct vstate *st, struct scc_backedge *b)
{
	struct scc_callchain *cc = &env->callchain_buf;
	if (!compute_scc_callchain(env, st, cc)) {
		verbose(env, "verifier bug: add backedge: no SCC in verification path, insn_idx %u\n", st->insn_idx);
		return -EFAULT;
	}
	struct scc_visit *v = scc_visit_lookup(env, cc);
	if (!v) {
		verbose(env, "verifier bug: add backedge: no visit info for call chain %s\n", format_callchain(env, cc));
		return -EFAULT;
	}
	if (env->log.level & BPF_LOG_LEVEL2)
		verbose(env, "SCC backedge %s\n", format_callchain(env, cc));
	b->next = v->backedges;
	v->backedges = b;
	v->num_backedges++;
	env->num_backedges++;
	update_peak_states(env);
	return 0;
}

static bool incomplete_read_marks(struct venv *env, const struct vstate *st)
{
	struct scc_callchain *cc = &env->callchain_buf;
	if (!compute_scc_callchain(env, st, cc))
		return false;
	struct scc_visit *v = scc_visit_lookup(env, cc);
	return v && v->backedges;
}

/* ---- the stack of paths to explore ---- */

static struct vstate_list *state_as_list(struct vstate *st)
{
	return st ? container_of(st, struct vstate_list, state) : NULL;
}

static void maybe_free_verifier_state(struct venv *env, struct vstate_list *sl)
{
	if (!sl->in_free_list || sl->state.branches || incomplete_read_marks(env, &sl->state))
		return;
	list_del_sl(&env->free_list, sl);
	free_verifier_state(&sl->state, false);
	free(sl);
	env->free_list_size--;
}

int update_branch_counts(struct venv *env, struct vstate *st)
{
	struct vstate_list *sl = NULL;
	while (st) {
		__u32 br = --st->branches;
		if (br)
			break;
		int err = maybe_exit_scc(env, st);
		if (err)
			return err;
		struct vstate *parent = st->parent;
		struct vstate_list *parent_sl = state_as_list(parent);
		if (sl)
			maybe_free_verifier_state(env, sl);
		st = parent;
		sl = parent_sl;
	}
	return 0;
}

int pop_stack(struct venv *env, int *prev_insn_idx, int *insn_idx, bool pop_log)
{
	struct vstack_elem *head = env->head;
	if (!head)
		return -ENOENT;
	if (env->cur_state) {
		int err = copy_verifier_state(env->cur_state, &head->st);
		if (err)
			return err;
	}
	if (pop_log)
		vlog_reset(&env->log, head->log_pos);
	if (insn_idx)
		*insn_idx = head->insn_idx;
	if (prev_insn_idx)
		*prev_insn_idx = head->prev_insn_idx;
	env->head = head->next;
	free_verifier_state(&head->st, false);
	free(head);
	env->stack_size--;
	return 0;
}

struct vstate *push_stack(struct venv *env, int insn_idx, int prev_insn_idx, bool speculative)
{
	struct vstack_elem *e = calloc(1, sizeof(*e));
	env->push_err = -ENOMEM;
	if (!e)
		return NULL;
	e->insn_idx = insn_idx;
	e->prev_insn_idx = prev_insn_idx;
	e->next = env->head;
	e->log_pos = env->log.end_pos;
	env->head = e;
	env->stack_size++;
	if (copy_verifier_state(&e->st, env->cur_state))
		return NULL;
	e->st.speculative |= speculative;
	if (env->stack_size > BPF_COMPLEXITY_LIMIT_JMP_SEQ) {
		verbose(env, "The sequence of %d jumps is too complex.\n", env->stack_size);
		env->push_err = -E2BIG;
		return NULL;
	}
	if (e->st.parent)
		e->st.parent->branches++;
	return &e->st;
}

struct vstate *push_async_cb(struct venv *env, int insn_idx, int prev_insn_idx, int subprog, bool sleepable)
{
	struct vstack_elem *e = calloc(1, sizeof(*e));
	env->push_err = -ENOMEM;
	if (!e)
		return NULL;
	e->insn_idx = insn_idx;
	e->prev_insn_idx = prev_insn_idx;
	e->next = env->head;
	e->log_pos = env->log.end_pos;
	env->head = e;
	env->stack_size++;
	if (env->stack_size > BPF_COMPLEXITY_LIMIT_JMP_SEQ) {
		verbose(env, "The sequence of %d jumps is too complex for async cb.\n", env->stack_size);
		env->push_err = -E2BIG;
		return NULL;
	}
	e->st.branches = 1;
	e->st.in_sleepable = sleepable;
	struct vfunc *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	init_func_state(env, f, BPF_MAIN_FUNC, 0, subprog);
	e->st.frame[0] = f;
	return &e->st;
}

void free_states(struct venv *env)
{
	if (env->cur_state)
		free_verifier_state(env->cur_state, true);
	env->cur_state = NULL;
	while (!pop_stack(env, NULL, NULL, false))
		;
	for (struct vstate_list *sl = env->free_list, *n; sl; sl = n) {
		n = sl->next;
		free_verifier_state(&sl->state, false);
		free(sl);
	}
	env->free_list = NULL;
	for (__u32 i = 0; env->scc_info && i < env->scc_cnt; i++) {
		struct scc_info *info = env->scc_info[i];
		if (!info)
			continue;
		for (__u32 j = 0; j < info->num_visits; j++)
			free_backedges(&info->visits[j]);
		free(info->visits);
		free(info);
		env->scc_info[i] = NULL;
	}
	for (__u32 i = 0; env->explored && i < env->len; i++) {
		for (struct vstate_list *sl = env->explored[i], *n; sl; sl = n) {
			n = sl->next;
			free_verifier_state(&sl->state, false);
			free(sl);
		}
		env->explored[i] = NULL;
	}
}

/* ---- jump history and precision backtracking ---- */

int push_jmp_history(struct venv *env, struct vstate *cur, __u32 insn_flags, __u64 linked_regs)
{
	if (env->cur_hist_ent) {
		env->cur_hist_ent->flags |= insn_flags;
		env->cur_hist_ent->linked_regs = linked_regs;
		return 0;
	}
	struct jmp_hist *p = realloc(cur->jmp_history, (cur->jmp_history_cnt + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	cur->jmp_history = p;
	p = &cur->jmp_history[cur->jmp_history_cnt++];
	p->idx = (__u32)env->insn_idx;
	p->prev_idx = (__u32)env->prev_insn_idx;
	p->flags = insn_flags;
	p->linked_regs = linked_regs;
	env->cur_hist_ent = p;
	return 0;
}

static struct jmp_hist *get_jmp_hist_entry(struct vstate *st, __u32 hist_end, int insn_idx)
{
	if (hist_end > 0 && st->jmp_history[hist_end - 1].idx == (__u32)insn_idx)
		return &st->jmp_history[hist_end - 1];
	return NULL;
}

static int get_prev_insn_idx(struct vstate *st, int i, __u32 *history)
{
	__u32 cnt = *history;
	if (i == (int)st->first_insn_idx) {
		if (cnt == 0)
			return -ENOENT;
		if (cnt == 1 && st->jmp_history[0].idx == (__u32)i)
			return -ENOENT;
	}
	if (cnt && st->jmp_history[cnt - 1].idx == (__u32)i) {
		i = (int)st->jmp_history[cnt - 1].prev_idx;
		(*history)--;
	} else {
		i--;
	}
	return i;
}

/* linked registers of a conditional jump, packed as the kernel does (6 entries of 10 bits, count in 4) */
#define LR_FRAMENO_BITS 3
#define LR_SPI_BITS 6
#define LR_ENTRY_BITS (LR_SPI_BITS + LR_FRAMENO_BITS + 1)
#define LR_SIZE_BITS 4
struct linked_reg {
	__u8 frameno, regno;
	bool is_reg;
};
struct linked_regs {
	int cnt;
	struct linked_reg e[6];
};

static void linked_regs_unpack(__u64 val, struct linked_regs *s)
{
	s->cnt = (int)(val & ((1u << LR_SIZE_BITS) - 1));
	val >>= LR_SIZE_BITS;
	for (int i = 0; i < s->cnt; i++) {
		s->e[i].frameno = val & ((1u << LR_FRAMENO_BITS) - 1);
		s->e[i].regno = (val >> LR_FRAMENO_BITS) & ((1u << LR_SPI_BITS) - 1);
		s->e[i].is_reg = (val >> (LR_SPI_BITS + LR_FRAMENO_BITS)) & 1;
		val >>= LR_ENTRY_BITS;
	}
}

static bool bt_empty(const struct vbt *bt)
{
	__u64 mask = 0;
	for (__u32 i = 0; i <= bt->frame; i++)
		mask |= bt->reg_masks[i] | bt->stack_masks[i];
	return !mask;
}

#define bt_reg_mask(bt) ((bt)->reg_masks[(bt)->frame])
#define bt_stack_mask(bt) ((bt)->stack_masks[(bt)->frame])
#define bt_is_reg_set(bt, r) (bt_reg_mask(bt) >> (r) & 1)
#define bt_set_reg(bt, r) (bt_reg_mask(bt) |= 1u << (r))
#define bt_clear_reg(bt, r) (bt_reg_mask(bt) &= ~(1u << (r)))

static void bt_sync_linked_regs(struct vbt *bt, const struct jmp_hist *hist)
{
	struct linked_regs lr;
	bool some = false;
	if (!hist || !hist->linked_regs)
		return;
	linked_regs_unpack(hist->linked_regs, &lr);
	for (int i = 0; i < lr.cnt && !some; i++)
		some = lr.e[i].is_reg ? bt_is_frame_reg_set(bt, lr.e[i].frameno, lr.e[i].regno)
				      : (bt->stack_masks[lr.e[i].frameno] >> lr.e[i].regno & 1);
	if (!some)
		return;
	for (int i = 0; i < lr.cnt; i++) {
		if (lr.e[i].is_reg)
			bt_set_frame_reg(bt, lr.e[i].frameno, lr.e[i].regno);
		else
			bt_set_frame_slot(bt, lr.e[i].frameno, lr.e[i].regno);
	}
}

static bool is_sync_callback_calling_insn(const struct bpf_insn *insn)
{
	return bpf_helper_call(insn) && is_sync_callback_calling_function(insn->imm);
}

/* backtrack_insn(): what this instruction needs precise before it, given what is needed after */
static int backtrack_insn(struct venv *env, int idx, int subseq_idx, struct jmp_hist *hist, struct vbt *bt)
{
	const struct bpf_insn *insn = &env->insns[idx];
	__u8 cls = BPF_CLASS(insn->code), op = BPF_OP(insn->code), mode = BPF_MODE(insn->code);
	__u32 dreg = insn->dst_reg, sreg = insn->src_reg, spi, fr;

	if (insn->code == 0)
		return 0;
	if (env->log.level & BPF_LOG_LEVEL2) {
		fmt_reg_mask(env->tmp_str_buf, TMP_STR_BUF_LEN, bt_reg_mask(bt));
		verbose(env, "mark_precise: frame%u: regs=%s ", bt->frame, env->tmp_str_buf);
		fmt_stack_mask(env->tmp_str_buf, TMP_STR_BUF_LEN, bt_stack_mask(bt));
		verbose(env, "stack=%s before ", env->tmp_str_buf);
		verbose(env, "%d: ", idx);
		verbose_insn(env, insn);
	}
	bt_sync_linked_regs(bt, hist);

	if (cls == BPF_ALU || cls == BPF_ALU64) {
		if (!bt_is_reg_set(bt, dreg))
			return 0;
		if (op == BPF_END || op == BPF_NEG)
			return 0;
		if (op == BPF_MOV) {
			if (BPF_SRC(insn->code) == BPF_X) {
				bt_clear_reg(bt, dreg);
				if (sreg != BPF_REG_FP)
					bt_set_reg(bt, sreg);
			} else {
				bt_clear_reg(bt, dreg);
			}
		} else if (BPF_SRC(insn->code) == BPF_X && sreg != BPF_REG_FP) {
			bt_set_reg(bt, sreg);
		}
	} else if (cls == BPF_LDX || (cls == BPF_STX && mode == BPF_ATOMIC && insn->imm == BPF_LOAD_ACQ)) {
		if (!bt_is_reg_set(bt, dreg))
			return 0;
		bt_clear_reg(bt, dreg);
		if (!hist || !(hist->flags & INSN_F_STACK_ACCESS))
			return 0;
		spi = (hist->flags >> INSN_F_SPI_SHIFT) & INSN_F_SPI_MASK;
		fr = hist->flags & INSN_F_FRAMENO_MASK;
		bt_set_frame_slot(bt, fr, spi);
	} else if (cls == BPF_STX || cls == BPF_ST) {
		if (bt_is_reg_set(bt, dreg))
			return -ENOTSUP;
		if (!hist || !(hist->flags & INSN_F_STACK_ACCESS))
			return 0;
		spi = (hist->flags >> INSN_F_SPI_SHIFT) & INSN_F_SPI_MASK;
		fr = hist->flags & INSN_F_FRAMENO_MASK;
		if (!(bt->stack_masks[fr] >> spi & 1))
			return 0;
		bt->stack_masks[fr] &= ~(1ull << spi);
		if (cls == BPF_STX)
			bt_set_reg(bt, sreg);
	} else if (cls == BPF_JMP || cls == BPF_JMP32) {
		if (bpf_pseudo_call(insn)) {
			int subprog = find_subprog(env, idx + insn->imm + 1);
			if (subprog < 0)
				return -EFAULT;
			if (subprog_is_global(env, (__u32)subprog)) {
				if (bt_reg_mask(bt) & BPF_REGMASK_ARGS) {
					verbose(env, "verifier bug: global subprog unexpected regs %x\n", bt_reg_mask(bt));
					return -EFAULT;
				}
				bt_clear_reg(bt, BPF_REG_0);
				return 0;
			}
			if ((bt_reg_mask(bt) & ~BPF_REGMASK_ARGS) || bt_stack_mask(bt)) {
				verbose(env, "verifier bug: static subprog unexpected regs %x\n", bt_reg_mask(bt));
				return -EFAULT;
			}
			for (__u32 i = BPF_REG_1; i <= BPF_REG_5; i++)
				if (bt_is_reg_set(bt, i)) {
					bt_clear_reg(bt, i);
					bt_set_frame_reg(bt, bt->frame - 1, i);
				}
			if (bt->frame == 0)
				return -EFAULT;
			bt->frame--;
			return 0;
		} else if (is_sync_callback_calling_insn(insn) && idx != subseq_idx - 1) {
			if ((bt_reg_mask(bt) & ~BPF_REGMASK_ARGS) || bt_stack_mask(bt)) {
				verbose(env, "verifier bug: callback unexpected regs %x\n", bt_reg_mask(bt));
				return -EFAULT;
			}
			for (__u32 i = BPF_REG_1; i <= BPF_REG_5; i++)
				bt_clear_reg(bt, i);
			if (bt->frame == 0)
				return -EFAULT;
			bt->frame--;
			return 0;
		} else if (op == BPF_CALL) {
			if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL && insn->imm == 0)
				return -ENOTSUP;
			bt_clear_reg(bt, BPF_REG_0);
			if (bt_reg_mask(bt) & BPF_REGMASK_ARGS) {
				verbose(env, "verifier bug: backtracking call unexpected regs %x\n", bt_reg_mask(bt));
				return -EFAULT;
			}
		} else if (op == BPF_EXIT) {
			if (subseq_idx >= 0 && calls_callback(env, subseq_idx))
				for (__u32 i = BPF_REG_1; i <= BPF_REG_5; i++)
					bt_clear_reg(bt, i);
			if (bt_reg_mask(bt) & BPF_REGMASK_ARGS) {
				verbose(env, "verifier bug: backtracking exit unexpected regs %x\n", bt_reg_mask(bt));
				return -EFAULT;
			}
			bool r0_precise = subseq_idx - 1 >= 0 && bpf_pseudo_call(&env->insns[subseq_idx - 1]) &&
					  bt_is_reg_set(bt, BPF_REG_0);
			bt_clear_reg(bt, BPF_REG_0);
			if (bt->frame == MAX_CALL_FRAMES - 1)
				return -EFAULT;
			bt->frame++;
			if (r0_precise)
				bt_set_reg(bt, BPF_REG_0);
			return 0;
		} else if (BPF_SRC(insn->code) == BPF_X) {
			if (!bt_is_reg_set(bt, dreg) && !bt_is_reg_set(bt, sreg))
				return 0;
			if (!hist || !(hist->flags & INSN_F_SRC_REG_STACK))
				bt_set_reg(bt, sreg);
			if (!hist || !(hist->flags & INSN_F_DST_REG_STACK))
				bt_set_reg(bt, dreg);
		}
	} else if (cls == BPF_LD) {
		if (!bt_is_reg_set(bt, dreg))
			return 0;
		bt_clear_reg(bt, dreg);
		if (mode == BPF_IND || mode == BPF_ABS)
			return -ENOTSUP;
	}
	bt_sync_linked_regs(bt, hist);
	return 0;
}

static void mark_all_scalars_precise(struct venv *env, struct vstate *st)
{
	if (env->log.level & BPF_LOG_LEVEL2)
		verbose(env, "mark_precise: frame%u: falling back to forcing all scalars precise\n", st->curframe);
	for (st = st->parent; st; st = st->parent) {
		for (__u32 i = 0; i <= st->curframe; i++) {
			struct vfunc *f = st->frame[i];
			for (int j = 0; j < BPF_REG_FP; j++) {
				struct vreg *reg = &f->regs[j];
				if (reg->type != SCALAR_VALUE || reg->precise)
					continue;
				reg->precise = true;
				if (env->log.level & BPF_LOG_LEVEL2)
					verbose(env, "force_precise: frame%u: forcing r%d to be precise\n", i, j);
			}
			for (int j = 0; j < f->allocated_stack / BPF_REG_SIZE; j++) {
				if (!is_spilled_reg(&f->stack[j]))
					continue;
				struct vreg *reg = &f->stack[j].spilled_ptr;
				if (reg->type != SCALAR_VALUE || reg->precise)
					continue;
				reg->precise = true;
				if (env->log.level & BPF_LOG_LEVEL2)
					verbose(env, "force_precise: frame%u: forcing fp%d to be precise\n", i,
						-(j + 1) * 8);
			}
		}
	}
}

static void mark_all_scalars_imprecise(struct vstate *st)
{
	for (__u32 i = 0; i <= st->curframe; i++) {
		struct vfunc *f = st->frame[i];
		for (int j = 0; j < BPF_REG_FP; j++)
			if (f->regs[j].type == SCALAR_VALUE)
				f->regs[j].precise = false;
		for (int j = 0; j < f->allocated_stack / BPF_REG_SIZE; j++)
			if (is_spilled_reg(&f->stack[j]) && f->stack[j].spilled_ptr.type == SCALAR_VALUE)
				f->stack[j].spilled_ptr.precise = false;
	}
}

static int __mark_chain_precision(struct venv *env, struct vstate *starting_state, int regno, bool *changed)
{
	struct vstate *st = starting_state;
	struct vbt *bt = &env->bt;
	int first_idx = (int)st->first_insn_idx, last_idx = (int)starting_state->insn_idx, subseq_idx = -1;
	bool tmp, skip_first = true;
	int err;

	if (!env->bpf_capable)
		return 0;
	changed = changed ? changed : &tmp;
	bt->frame = starting_state->curframe;
	struct vfunc *func = st->frame[bt->frame];
	if (regno >= 0) {
		if (func->regs[regno].type != SCALAR_VALUE) {
			verbose(env, "verifier bug: backtracking misuse\n");
			return -EFAULT;
		}
		bt_set_reg(bt, (__u32)regno);
	}
	if (bt_empty(bt))
		return 0;

	for (;;) {
		__u32 history = st->jmp_history_cnt;
		if (env->log.level & BPF_LOG_LEVEL2)
			verbose(env, "mark_precise: frame%u: last_idx %d first_idx %d subseq_idx %d \n", bt->frame, last_idx,
				first_idx, subseq_idx);
		if (last_idx < 0) {
			/* the entry of a global function: only R1-R5 may be asked for */
			if (st->curframe == 0 && st->frame[0]->subprogno > 0 && st->frame[0]->callsite == BPF_MAIN_FUNC &&
			    bt_stack_mask(bt) == 0 && (bt_reg_mask(bt) & ~BPF_REGMASK_ARGS) == 0) {
				for (int i = 0; i < 32; i++) {
					if (!(bt_reg_mask(bt) >> i & 1))
						continue;
					bt_clear_reg(bt, (__u32)i);
					if (st->frame[0]->regs[i].type == SCALAR_VALUE) {
						st->frame[0]->regs[i].precise = true;
						*changed = true;
					}
				}
				return 0;
			}
			verbose(env, "verifier bug: backtracking func entry subprog %u reg_mask %x stack_mask %llx\n",
				st->frame[0]->subprogno, bt_reg_mask(bt), (unsigned long long)bt_stack_mask(bt));
			return -EFAULT;
		}
		for (int i = last_idx;;) {
			if (skip_first) {
				err = 0;
				skip_first = false;
			} else {
				struct jmp_hist *hist = get_jmp_hist_entry(st, history, i);
				err = backtrack_insn(env, i, subseq_idx, hist, bt);
			}
			if (err == -ENOTSUP) {
				mark_all_scalars_precise(env, starting_state);
				memset(bt, 0, sizeof(*bt));
				return 0;
			} else if (err) {
				return err;
			}
			if (bt_empty(bt))
				return 0;
			subseq_idx = i;
			i = get_prev_insn_idx(st, i, &history);
			if (i == -ENOENT)
				break;
			if (i < 0 || (__u32)i >= env->len) {
				verbose(env, "verifier bug: backtracking idx %d\n", i);
				return -EFAULT;
			}
		}
		st = st->parent;
		if (!st)
			break;
		for (int fr = (int)bt->frame; fr >= 0; fr--) {
			func = st->frame[fr];
			for (int i = 0; i < 32; i++) {
				if (!(bt->reg_masks[fr] >> i & 1))
					continue;
				struct vreg *reg = &func->regs[i];
				if (reg->type != SCALAR_VALUE || reg->precise) {
					bt->reg_masks[fr] &= ~(1u << i);
					continue;
				}
				reg->precise = true;
				*changed = true;
			}
			for (int i = 0; i < 64; i++) {
				if (!(bt->stack_masks[fr] >> i & 1))
					continue;
				if (i >= func->allocated_stack / BPF_REG_SIZE) {
					verbose(env, "verifier bug: stack slot %d, total slots %d\n", i,
						func->allocated_stack / BPF_REG_SIZE);
					return -EFAULT;
				}
				if (!is_spilled_scalar_reg(&func->stack[i])) {
					bt->stack_masks[fr] &= ~(1ull << i);
					continue;
				}
				struct vreg *reg = &func->stack[i].spilled_ptr;
				if (reg->precise) {
					bt->stack_masks[fr] &= ~(1ull << i);
				} else {
					reg->precise = true;
					*changed = true;
				}
			}
			if (env->log.level & BPF_LOG_LEVEL2) {
				fmt_reg_mask(env->tmp_str_buf, TMP_STR_BUF_LEN, bt->reg_masks[fr]);
				verbose(env, "mark_precise: frame%d: parent state regs=%s ", fr, env->tmp_str_buf);
				fmt_stack_mask(env->tmp_str_buf, TMP_STR_BUF_LEN, bt->stack_masks[fr]);
				verbose(env, "stack=%s: ", env->tmp_str_buf);
				print_verifier_state(env, st, (__u32)fr, true);
			}
		}
		if (bt_empty(bt))
			return 0;
		subseq_idx = first_idx;
		last_idx = st->last_insn_idx;
		first_idx = (int)st->first_insn_idx;
	}
	if (!bt_empty(bt)) {
		mark_all_scalars_precise(env, starting_state);
		memset(bt, 0, sizeof(*bt));
	}
	return 0;
}

int mark_chain_precision(struct venv *env, int regno)
{
	return __mark_chain_precision(env, env->cur_state, regno, NULL);
}

int mark_chain_precision_batch(struct venv *env, struct vstate *starting_state)
{
	return __mark_chain_precision(env, starting_state, -1, NULL);
}

/* ---- state comparison ---- */

enum exact_level { NOT_EXACT, EXACT, RANGE_WITHIN };

static bool range_within(const struct vreg *old, const struct vreg *cur)
{
	return old->umin_value <= cur->umin_value && old->umax_value >= cur->umax_value &&
	       old->smin_value <= cur->smin_value && old->smax_value >= cur->smax_value &&
	       old->u32_min_value <= cur->u32_min_value && old->u32_max_value >= cur->u32_max_value &&
	       old->s32_min_value <= cur->s32_min_value && old->s32_max_value >= cur->s32_max_value;
}

static bool check_ids(__u32 old_id, __u32 cur_id, struct vidmap *idmap)
{
	if (!!old_id != !!cur_id)
		return false;
	if (!old_id)
		return true;
	for (__u32 i = 0; i < BPF_ID_MAP_SIZE; i++) {
		if (!idmap->map[i].old) {
			idmap->map[i].old = old_id;
			idmap->map[i].cur = cur_id;
			return true;
		}
		if (idmap->map[i].old == old_id)
			return idmap->map[i].cur == cur_id;
		if (idmap->map[i].cur == cur_id)
			return false;
	}
	return false;
}

/* an old scalar with no id is independent: any link in cur only adds constraints
 * (the later fix this host's 6.18.44 has) */
static bool check_scalar_ids(__u32 old_id, __u32 cur_id, struct vidmap *idmap)
{
	if (!old_id)
		return true;
	cur_id = cur_id ? cur_id : ++idmap->tmp_id_gen;
	return check_ids(old_id, cur_id, idmap);
}

static void reset_idmap_scratch(struct venv *env)
{
	env->idmap_scratch.tmp_id_gen = env->id_gen;
	memset(&env->idmap_scratch.map, 0, sizeof(env->idmap_scratch.map));
}

#define REG_CMP_TO_ID offsetof(struct vreg, id)
#define REG_CMP_TO_VAROFF offsetof(struct vreg, var_off)

static bool regs_exact(const struct vreg *rold, const struct vreg *rcur, struct vidmap *idmap)
{
	return !memcmp(rold, rcur, REG_CMP_TO_ID) && check_ids(rold->id, rcur->id, idmap) &&
	       check_ids(rold->ref_obj_id, rcur->ref_obj_id, idmap);
}

static bool regsafe(struct venv *env, const struct vreg *rold, const struct vreg *rcur, struct vidmap *idmap,
		    enum exact_level exact)
{
	if (exact == EXACT)
		return regs_exact(rold, rcur, idmap);
	if (rold->type == NOT_INIT && (exact == NOT_EXACT || rcur->type == NOT_INIT))
		return true;
	if (rold->type != rcur->type)
		return false;
	switch (base_type(rold->type)) {
	case SCALAR_VALUE:
		if (env->explore_alu_limits)
			return !memcmp(rold, rcur, REG_CMP_TO_ID) && check_scalar_ids(rold->id, rcur->id, idmap);
		if (!rold->precise && exact == NOT_EXACT)
			return true;
		if (rold->id && (rold->id & BPF_ADD_CONST) != (rcur->id & BPF_ADD_CONST))
			return false;
		if ((rold->id & BPF_ADD_CONST) && rold->off != rcur->off)
			return false;
		if (!check_scalar_ids(rold->id, rcur->id, idmap))
			return false;
		return range_within(rold, rcur) && tnum_in(rold->var_off, rcur->var_off);
	case PTR_TO_MAP_KEY: case PTR_TO_MAP_VALUE: case PTR_TO_MEM: case PTR_TO_BUF: case PTR_TO_TP_BUFFER:
		return !memcmp(rold, rcur, REG_CMP_TO_VAROFF) && range_within(rold, rcur) &&
		       tnum_in(rold->var_off, rcur->var_off) && check_ids(rold->id, rcur->id, idmap) &&
		       check_ids(rold->ref_obj_id, rcur->ref_obj_id, idmap);
	case PTR_TO_PACKET_META: case PTR_TO_PACKET:
		if (rold->range > rcur->range || rold->off != rcur->off || !check_ids(rold->id, rcur->id, idmap))
			return false;
		return range_within(rold, rcur) && tnum_in(rold->var_off, rcur->var_off);
	case PTR_TO_STACK:
		return regs_exact(rold, rcur, idmap) && rold->frameno == rcur->frameno;
	case PTR_TO_ARENA:
		return true;
	default:
		return regs_exact(rold, rcur, idmap);
	}
}

static bool is_stack_all_misc(struct venv *env, const struct vslot *s)
{
	for (int i = 0; i < BPF_REG_SIZE; i++)
		if (!(s->slot_type[i] == STACK_MISC || (s->slot_type[i] == STACK_INVALID && env->allow_uninit_stack)))
			return false;
	return true;
}

static const struct vreg *scalar_reg_for_stack(struct venv *env, const struct vslot *s, const struct vreg *unbound)
{
	if (is_spilled_scalar_reg64(s))
		return &s->spilled_ptr;
	if (is_stack_all_misc(env, s))
		return unbound;
	return NULL;
}

static bool stacksafe(struct venv *env, const struct vfunc *old, const struct vfunc *cur, struct vidmap *idmap,
		      enum exact_level exact)
{
	struct vreg unbound;
	memset(&unbound, 0, sizeof(unbound));
	__mark_reg_unknown_imprecise(&unbound);

	for (int i = 0; i < old->allocated_stack; i++) {
		int spi = i / BPF_REG_SIZE;
		__u8 ot = old->stack[spi].slot_type[i % BPF_REG_SIZE];
		/* slot types must be the same only for EXACT: this host's 6.18 (6.18.44) has the
		 * later fix that no longer asks it of RANGE_WITHIN (loop and iterator heads) */
		if (exact == EXACT &&
		    (i >= cur->allocated_stack || ot != cur->stack[spi].slot_type[i % BPF_REG_SIZE]))
			return false;
		if (ot == STACK_INVALID)
			continue;
		if (env->allow_uninit_stack && ot == STACK_MISC)
			continue;
		if (i >= cur->allocated_stack)
			return false;
		const struct vreg *oreg = scalar_reg_for_stack(env, &old->stack[spi], &unbound);
		const struct vreg *creg = scalar_reg_for_stack(env, &cur->stack[spi], &unbound);
		if (oreg && creg) {
			if (!regsafe(env, oreg, creg, idmap, exact))
				return false;
			i += BPF_REG_SIZE - 1;
			continue;
		}
		__u8 ct = cur->stack[spi].slot_type[i % BPF_REG_SIZE];
		if (ot == STACK_MISC && ct == STACK_ZERO)
			continue;
		if (ot != ct)
			return false;
		if (i % BPF_REG_SIZE != BPF_REG_SIZE - 1)
			continue;
		switch (old->stack[spi].slot_type[BPF_REG_SIZE - 1]) {
		case STACK_SPILL:
			if (!regsafe(env, &old->stack[spi].spilled_ptr, &cur->stack[spi].spilled_ptr, idmap, exact))
				return false;
			break;
		case STACK_ITER: {
			/* the depth is not compared: it only keeps the infinite loop check off */
			const struct vreg *o = &old->stack[spi].spilled_ptr, *c = &cur->stack[spi].spilled_ptr;
			if (o->iter.btf != c->iter.btf || o->iter.btf_id != c->iter.btf_id ||
			    o->iter.state != c->iter.state || !check_ids(o->ref_obj_id, c->ref_obj_id, idmap))
				return false;
			break;
		}
		case STACK_DYNPTR:
		case STACK_IRQ_FLAG:
			if (!check_ids(old->stack[spi].spilled_ptr.ref_obj_id, cur->stack[spi].spilled_ptr.ref_obj_id,
				       idmap) ||
			    memcmp(&old->stack[spi].spilled_ptr.raw, &cur->stack[spi].spilled_ptr.raw,
				   sizeof(old->stack[spi].spilled_ptr.raw)))
				return false;
			break;
		case STACK_MISC: case STACK_ZERO: case STACK_INVALID:
			continue;
		default:
			return false;
		}
	}
	return true;
}

static bool refsafe(const struct vstate *old, const struct vstate *cur, struct vidmap *idmap)
{
	if (old->acquired_refs != cur->acquired_refs || old->active_locks != cur->active_locks ||
	    old->active_preempt_locks != cur->active_preempt_locks || old->active_rcu_lock != cur->active_rcu_lock)
		return false;
	if (!check_ids(old->active_irq_id, cur->active_irq_id, idmap))
		return false;
	if (!check_ids(old->active_lock_id, cur->active_lock_id, idmap) || old->active_lock_ptr != cur->active_lock_ptr)
		return false;
	for (__u32 i = 0; i < old->acquired_refs; i++) {
		if (!check_ids(old->refs[i].id, cur->refs[i].id, idmap) || old->refs[i].type != cur->refs[i].type)
			return false;
		if (old->refs[i].type == REF_TYPE_LOCK && old->refs[i].ptr != cur->refs[i].ptr)
			return false;
	}
	return true;
}

static bool func_states_equal(struct venv *env, const struct vfunc *old, const struct vfunc *cur, __u32 insn_idx,
			      enum exact_level exact)
{
	__u16 live = env->aux[insn_idx].live_regs_before;
	if (old->callback_depth > cur->callback_depth)
		return false;
	for (int i = 0; i < MAX_BPF_REG; i++)
		if ((live >> i & 1) && !regsafe(env, &old->regs[i], &cur->regs[i], &env->idmap_scratch, exact))
			return false;
	return stacksafe(env, old, cur, &env->idmap_scratch, exact);
}

static bool states_equal(struct venv *env, const struct vstate *old, const struct vstate *cur, enum exact_level exact)
{
	if (old->curframe != cur->curframe)
		return false;
	reset_idmap_scratch(env);
	if (old->speculative && !cur->speculative)
		return false;
	if (old->in_sleepable != cur->in_sleepable)
		return false;
	if (!refsafe(old, cur, &env->idmap_scratch))
		return false;
	for (__u32 i = 0; i <= old->curframe; i++) {
		__u32 insn_idx = frame_insn_idx(old, i);
		if (old->frame[i]->callsite != cur->frame[i]->callsite)
			return false;
		if (!func_states_equal(env, old->frame[i], cur->frame[i], insn_idx, exact))
			return false;
	}
	return true;
}

static int propagate_precision(struct venv *env, const struct vstate *old, struct vstate *cur, bool *changed)
{
	for (int fr = (int)old->curframe; fr >= 0; fr--) {
		const struct vfunc *state = old->frame[fr];
		bool first = true;
		for (int i = 0; i < BPF_REG_FP; i++) {
			if (state->regs[i].type != SCALAR_VALUE || !state->regs[i].precise)
				continue;
			if (env->log.level & BPF_LOG_LEVEL2) {
				if (first)
					verbose(env, "frame %d: propagating r%d", fr, i);
				else
					verbose(env, ",r%d", i);
			}
			bt_set_frame_reg(&env->bt, (__u32)fr, (__u32)i);
			first = false;
		}
		for (int i = 0; i < state->allocated_stack / BPF_REG_SIZE; i++) {
			if (!is_spilled_reg(&state->stack[i]))
				continue;
			const struct vreg *r = &state->stack[i].spilled_ptr;
			if (r->type != SCALAR_VALUE || !r->precise)
				continue;
			if (env->log.level & BPF_LOG_LEVEL2) {
				if (first)
					verbose(env, "frame %d: propagating fp%d", fr, (-i - 1) * BPF_REG_SIZE);
				else
					verbose(env, ",fp%d", (-i - 1) * BPF_REG_SIZE);
			}
			bt_set_frame_slot(&env->bt, (__u32)fr, (__u32)i);
			first = false;
		}
		if (!first)
			verbose(env, "\n");
	}
	int err = __mark_chain_precision(env, cur, -1, changed);
	return err < 0 ? err : 0;
}

#define MAX_BACKEDGE_ITERS 64

static int propagate_backedges(struct venv *env, struct scc_visit *v)
{
	bool changed;
	int i = 0;
	do {
		if (i++ > MAX_BACKEDGE_ITERS) {
			if (env->log.level & BPF_LOG_LEVEL2)
				verbose(env, "%s: too many iterations\n", "propagate_backedges");
			for (struct scc_backedge *b = v->backedges; b; b = b->next)
				mark_all_scalars_precise(env, &b->state);
			break;
		}
		changed = false;
		for (struct scc_backedge *b = v->backedges; b; b = b->next) {
			int err = propagate_precision(env, b->state.equal_state, &b->state, &changed);
			if (err)
				return err;
		}
	} while (changed);
	free_backedges(v);
	return 0;
}

static bool states_maybe_looping(const struct vstate *old, const struct vstate *cur)
{
	__u32 fr = cur->curframe;
	if (old->curframe != fr)
		return false;
	for (int i = 0; i < MAX_BPF_REG; i++)
		if (memcmp(&old->frame[fr]->regs[i], &cur->frame[fr]->regs[i], offsetof(struct vreg, frameno)))
			return false;
	return true;
}

struct vstate *find_prev_entry(struct venv *env, struct vstate *cur, int insn_idx)
{
	for (struct vstate_list *sl = *explored_head(env, insn_idx); sl; sl = sl->next) {
		struct vstate *st = &sl->state;
		if (st->insn_idx == (__u32)insn_idx && st->branches && same_callsites(st, cur) &&
		    st->dfs_depth < cur->dfs_depth)
			return st;
	}
	return NULL;
}

static void maybe_widen_reg(struct venv *env, const struct vreg *rold, struct vreg *rcur, struct vidmap *idmap)
{
	if (rold->type != SCALAR_VALUE || rold->type != rcur->type)
		return;
	if (rold->precise || rcur->precise || regs_exact(rold, rcur, idmap))
		return;
	__mark_reg_unknown(env, rcur);
}

int widen_imprecise_scalars(struct venv *env, struct vstate *old, struct vstate *cur)
{
	reset_idmap_scratch(env);
	for (int fr = (int)old->curframe; fr >= 0; fr--) {
		struct vfunc *fold = old->frame[fr], *fcur = cur->frame[fr];
		for (int i = 0; i < MAX_BPF_REG; i++)
			maybe_widen_reg(env, &fold->regs[i], &fcur->regs[i], &env->idmap_scratch);
		int n = fold->allocated_stack < fcur->allocated_stack ? fold->allocated_stack : fcur->allocated_stack;
		for (int i = 0; i < n / BPF_REG_SIZE; i++) {
			if (!is_spilled_reg(&fold->stack[i]) || !is_spilled_reg(&fcur->stack[i]))
				continue;
			maybe_widen_reg(env, &fold->stack[i].spilled_ptr, &fcur->stack[i].spilled_ptr, &env->idmap_scratch);
		}
	}
	return 0;
}

static void clean_func_state(struct venv *env, struct vfunc *st, __u32 ip)
{
	__u16 live = env->aux[ip].live_regs_before;
	for (int i = 0; i < BPF_REG_FP; i++)
		if (!(live >> i & 1))
			__mark_reg_not_init(env, &st->regs[i]);
	for (int i = 0; i < st->allocated_stack / BPF_REG_SIZE; i++)
		if (!live_slot_alive(env, st->frameno, (__u32)i)) {
			__mark_reg_not_init(env, &st->stack[i].spilled_ptr);
			memset(st->stack[i].slot_type, STACK_INVALID, BPF_REG_SIZE);
		}
}

static void clean_verifier_state(struct venv *env, struct vstate *st)
{
	live_query_init(env, st);
	st->cleaned = true;
	for (__u32 i = 0; i <= st->curframe; i++)
		clean_func_state(env, st->frame[i], frame_insn_idx(st, i));
}

static void clean_live_states(struct venv *env, int insn, struct vstate *cur)
{
	for (struct vstate_list *sl = *explored_head(env, insn); sl; sl = sl->next) {
		if (sl->state.branches)
			continue;
		if (sl->state.insn_idx != (__u32)insn || !same_callsites(&sl->state, cur))
			continue;
		if (sl->state.cleaned)
			continue;
		if (incomplete_read_marks(env, &sl->state))
			continue;
		clean_verifier_state(env, &sl->state);
	}
}

int is_state_visited(struct venv *env, int insn_idx)
{
	struct vstate *cur = env->cur_state;
	bool force_new_state = env->test_state_freq || is_force_checkpoint(env, insn_idx) || cur->jmp_history_cnt > 40;
	bool add_new_state = force_new_state, loop;
	int states_cnt = 0, err;

	if (env->jmps_processed - env->prev_jmps_processed >= 2 && env->insn_processed - env->prev_insn_processed >= 8)
		add_new_state = true;

	clean_live_states(env, insn_idx, cur);

	struct vstate_list **head = explored_head(env, insn_idx);
	for (struct vstate_list *sl = *head, *tmp; sl; sl = tmp) {
		tmp = sl->next;
		states_cnt++;
		if (sl->state.insn_idx != (__u32)insn_idx)
			continue;
		if (sl->state.branches) {
			struct vfunc *frame = sl->state.frame[sl->state.curframe];
			if (frame->in_async_callback_fn &&
			    frame->async_entry_cnt != cur->frame[cur->curframe]->async_entry_cnt)
				goto skip_inf_loop_check;
			/* an open-coded iterator's next call: a state equal to one seen with the
			 * iterator active is the loop converging */
			if (is_iter_next_insn(env, insn_idx)) {
				if (states_equal(env, &sl->state, cur, RANGE_WITHIN)) {
					const struct vreg *iter_reg = &cur->frame[cur->curframe]->regs[BPF_REG_1];
					int spi = __get_spi(iter_reg->off + (__s32)iter_reg->var_off.value);
					const struct vreg *iter_state = &cur->frame[iter_reg->frameno]->stack[spi].spilled_ptr;
					if (iter_state->iter.state == BPF_ITER_STATE_ACTIVE) {
						loop = true;
						goto hit;
					}
				}
				goto skip_inf_loop_check;
			}
			if (is_may_goto_insn(&env->insns[insn_idx])) {
				if (sl->state.may_goto_depth != cur->may_goto_depth &&
				    states_equal(env, &sl->state, cur, RANGE_WITHIN)) {
					loop = true;
					goto hit;
				}
			}
			if (calls_callback(env, insn_idx)) {
				if (states_equal(env, &sl->state, cur, RANGE_WITHIN)) {
					loop = false;
					goto hit;
				}
				goto skip_inf_loop_check;
			}
			if (states_maybe_looping(&sl->state, cur) && states_equal(env, &sl->state, cur, EXACT) &&
			    !iter_active_depths_differ(&sl->state, cur) && sl->state.may_goto_depth == cur->may_goto_depth &&
			    sl->state.callback_unroll_depth == cur->callback_unroll_depth) {
				verbose_linfo(env, (__u32)insn_idx, "; ");
				verbose(env, "infinite loop detected at insn %d\n", insn_idx);
				verbose(env, "cur state:");
				print_verifier_state(env, cur, cur->curframe, true);
				verbose(env, "old state:");
				print_verifier_state(env, &sl->state, cur->curframe, true);
				return -EINVAL;
			}
skip_inf_loop_check:
			if (!force_new_state && env->jmps_processed - env->prev_jmps_processed < 20 &&
			    env->insn_processed - env->prev_insn_processed < 100)
				add_new_state = false;
			goto miss;
		}
		loop = incomplete_read_marks(env, &sl->state);
		if (states_equal(env, &sl->state, cur, loop ? RANGE_WITHIN : NOT_EXACT)) {
hit:
			sl->hit_cnt++;
			err = 0;
			if (is_jmp_point(env, env->insn_idx))
				err = push_jmp_history(env, cur, 0, 0);
			err = err ? err : propagate_precision(env, &sl->state, cur, NULL);
			if (err)
				return err;
			if (loop) {
				struct scc_backedge *b = calloc(1, sizeof(*b));
				if (!b)
					return -ENOMEM;
				err = copy_verifier_state(&b->state, cur);
				b->state.equal_state = &sl->state;
				b->state.insn_idx = (__u32)insn_idx;
				err = err ? err : add_scc_backedge(env, &sl->state, b);
				if (err) {
					free_verifier_state(&b->state, false);
					free(b);
					return err;
				}
			}
			return 1;
		}
miss:
		if (add_new_state)
			sl->miss_cnt++;
		__u32 n = is_force_checkpoint(env, insn_idx) && sl->state.branches > 0 ? 64 : 3;
		if (sl->miss_cnt > sl->hit_cnt * n + n) {
			list_del_sl(head, sl);
			sl->in_free_list = true;
			list_add_sl(&env->free_list, sl);
			env->free_list_size++;
			env->explored_states_size--;
			maybe_free_verifier_state(env, sl);
		}
	}

	if (env->max_states_per_insn < (__u32)states_cnt)
		env->max_states_per_insn = (__u32)states_cnt;
	if (!env->bpf_capable && states_cnt > BPF_COMPLEXITY_LIMIT_STATES)
		return 0;
	if (!add_new_state)
		return 0;

	struct vstate_list *new_sl = calloc(1, sizeof(*new_sl));
	if (!new_sl)
		return -ENOMEM;
	env->total_states++;
	env->explored_states_size++;
	update_peak_states(env);
	env->prev_jmps_processed = env->jmps_processed;
	env->prev_insn_processed = env->insn_processed;
	if (env->bpf_capable)
		mark_all_scalars_imprecise(cur);
	struct vstate *nst = &new_sl->state;
	err = copy_verifier_state(nst, cur);
	if (err) {
		free_verifier_state(nst, false);
		free(new_sl);
		return err;
	}
	nst->insn_idx = (__u32)insn_idx;
	err = maybe_enter_scc(env, nst);
	if (err) {
		free_verifier_state(nst, false);
		free(new_sl);
		return err;
	}
	cur->parent = nst;
	cur->first_insn_idx = (__u32)insn_idx;
	cur->dfs_depth = nst->dfs_depth + 1;
	clear_jmp_history(cur);
	list_add_sl(head, new_sl);
	return 0;
}
