/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/liveness.c: which stack slots may still be read, per call
 * chain and instruction (Linux 6.18's stack liveness).
 *
 * While the walk runs it records, for the function instance of the current
 * call chain, the slots each instruction may read ("may_read", a union over
 * every visit) and the slots it surely writes ("must_write", an intersection
 * over every visit). When asked (after a path ends, at a subprogram exit),
 * a backward data flow over the subprogram's instructions turns them into
 * "live_before": the slots the instruction or one after it may read before
 * they are written. State pruning compares only live slots, and forgets the
 * others when it keeps a state (clean_func_state). A call chain is the list
 * of call sites leading to the frame plus the subprogram's first
 * instruction; what a callee surely writes or may read of its callers'
 * frames is carried to the call instruction of the caller's instance.
 */
#include <errno.h>
#include <stdlib.h>

#include "env.h"

struct callchain {
	__u32 callsites[MAX_CALL_FRAMES];       /* per frame: the call instruction; the last: the start */
	__u32 sp_starts[MAX_CALL_FRAMES];       /* the first instruction of each frame's subprogram */
	__u32 curframe;
};

struct frame_masks {
	__u64 may_read, must_write, must_write_acc, live_before;
};

struct func_instance {
	struct func_instance *next;     /* hash chain */
	struct callchain cc;
	__u32 insn_cnt;
	bool updated, must_write_dropped;
	struct frame_masks *frames[MAX_CALL_FRAMES];    /* per frame, per instruction (lazily) */
	bool *must_write_set;
};

#define LIVE_BUCKETS 256

struct vliveness {
	struct func_instance *buckets[LIVE_BUCKETS];
	struct {
		struct func_instance *inst[MAX_CALL_FRAMES];
		__u32 curframe, insn_idx;
	} query;
	struct func_instance *cur;
	__u64 write_acc[MAX_CALL_FRAMES];
	__u32 write_insn_idx;
};

static void compute_callchain(struct venv *env, const struct vstate *st, struct callchain *cc, __u32 frameno)
{
	memset(cc, 0, sizeof(*cc));
	for (__u32 i = 0; i <= frameno; i++) {
		cc->sp_starts[i] = env->subprog[st->frame[i]->subprogno].start;
		if (i < st->curframe)
			cc->callsites[i] = (__u32)st->frame[i + 1]->callsite;
	}
	cc->curframe = frameno;
	cc->callsites[frameno] = cc->sp_starts[frameno];
}

static __u32 cc_hash(const struct callchain *cc)
{
	__u32 h = 2166136261u;
	for (__u32 i = 0; i <= cc->curframe; i++)
		h = (h ^ cc->callsites[i]) * 16777619u;
	return h % LIVE_BUCKETS;
}

static bool cc_equal(const struct callchain *a, const struct callchain *b)
{
	if (a->curframe != b->curframe)
		return false;
	for (__u32 i = 0; i <= a->curframe; i++)
		if (a->callsites[i] != b->callsites[i])
			return false;
	return true;
}

static struct func_instance *lookup_cc(struct venv *env, const struct callchain *cc)
{
	struct vliveness *l = env->liveness;
	__u32 h = cc_hash(cc);
	for (struct func_instance *f = l->buckets[h]; f; f = f->next)
		if (cc_equal(&f->cc, cc))
			return f;
	struct vsubprog *sp = find_containing_subprog(env, (int)cc->sp_starts[cc->curframe]);
	if (!sp)
		return NULL;
	struct func_instance *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->insn_cnt = sp[1].start - sp->start;
	f->must_write_set = calloc(f->insn_cnt ? f->insn_cnt : 1, sizeof(bool));
	if (!f->must_write_set) {
		free(f);
		return NULL;
	}
	f->cc = *cc;
	f->next = l->buckets[h];
	l->buckets[h] = f;
	return f;
}

static struct func_instance *lookup_instance(struct venv *env, const struct vstate *st, __u32 frameno)
{
	struct callchain cc;
	compute_callchain(env, st, &cc, frameno);
	return lookup_cc(env, &cc);
}

int live_init(struct venv *env)
{
	env->liveness = calloc(1, sizeof(*env->liveness));
	return env->liveness ? 0 : -ENOMEM;
}

void live_free(struct venv *env)
{
	struct vliveness *l = env->liveness;
	if (!l)
		return;
	for (int b = 0; b < LIVE_BUCKETS; b++)
		for (struct func_instance *f = l->buckets[b], *n; f; f = n) {
			n = f->next;
			for (__u32 i = 0; i < MAX_CALL_FRAMES; i++)
				free(f->frames[i]);
			free(f->must_write_set);
			free(f);
		}
	free(l);
	env->liveness = NULL;
}

static struct frame_masks *get_masks(struct func_instance *f, __u32 frame, __u32 insn_idx)
{
	if (!f->frames[frame])
		return NULL;
	return &f->frames[frame][insn_idx - f->cc.sp_starts[f->cc.curframe]];
}

static struct frame_masks *alloc_masks(struct func_instance *f, __u32 frame, __u32 insn_idx)
{
	if (!f->frames[frame] && !(f->frames[frame] = calloc(f->insn_cnt ? f->insn_cnt : 1, sizeof(struct frame_masks))))
		return NULL;
	return get_masks(f, frame, insn_idx);
}

void live_reset_callchain(struct venv *env)
{
	env->liveness->cur = NULL;
}

static int ensure_cur(struct venv *env)
{
	if (env->liveness->cur)
		return 0;
	env->liveness->cur = lookup_instance(env, env->cur_state, env->cur_state->curframe);
	return env->liveness->cur ? 0 : -ENOMEM;
}

static int mark_read(struct func_instance *f, __u32 frame, __u32 insn_idx, __u64 mask)
{
	struct frame_masks *m = alloc_masks(f, frame, insn_idx);
	if (!m)
		return -ENOMEM;
	__u64 n = m->may_read | mask;
	if (n != m->may_read && (n | m->live_before) != m->live_before)
		f->updated = true;
	m->may_read = n;
	return 0;
}

int live_mark_stack_read(struct venv *env, __u32 frame, __u32 insn_idx, __u64 mask)
{
	int err = ensure_cur(env);
	return err ? err : mark_read(env->liveness->cur, frame, insn_idx, mask);
}

static void reset_write_marks(struct venv *env, struct func_instance *f, __u32 insn_idx)
{
	env->liveness->write_insn_idx = insn_idx;
	for (__u32 i = 0; i <= f->cc.curframe; i++)
		env->liveness->write_acc[i] = 0;
}

int live_reset_write_marks(struct venv *env, __u32 insn_idx)
{
	int err = ensure_cur(env);
	if (!err)
		reset_write_marks(env, env->liveness->cur, insn_idx);
	return err;
}

void live_mark_stack_write(struct venv *env, __u32 frame, __u64 mask)
{
	env->liveness->write_acc[frame] |= mask;
}

static int commit_write_marks(struct venv *env, struct func_instance *f)
{
	struct vliveness *l = env->liveness;
	if (!f)
		return 0;
	__u32 idx = l->write_insn_idx - f->cc.sp_starts[f->cc.curframe];
	for (__u32 frame = 0; frame <= f->cc.curframe; frame++) {
		__u64 mask = l->write_acc[frame];
		if (!mask && !f->must_write_set[idx])
			continue;
		struct frame_masks *m = alloc_masks(f, frame, l->write_insn_idx);
		if (!m)
			return -ENOMEM;
		__u64 old = m->must_write;
		if (f->must_write_set[idx])
			mask &= old;
		if (old != mask) {
			m->must_write = mask;
			f->updated = true;
		}
		if (old & ~mask)
			f->must_write_dropped = true;
	}
	f->must_write_set[idx] = true;
	l->write_insn_idx = 0;
	return 0;
}

int live_commit_write_marks(struct venv *env)
{
	return commit_write_marks(env, env->liveness->cur);
}

/* the may_read and must_write_acc of a callee's first instruction go to the call in the caller */
static int propagate_to_outer(struct venv *env, struct func_instance *f)
{
	struct callchain cc = f->cc;
	__u32 start = cc.sp_starts[cc.curframe], callsite = cc.callsites[cc.curframe - 1];
	cc.callsites[cc.curframe] = 0;
	cc.sp_starts[cc.curframe] = 0;
	cc.curframe--;
	cc.callsites[cc.curframe] = cc.sp_starts[cc.curframe];
	struct func_instance *outer = lookup_cc(env, &cc);
	if (!outer)
		return -ENOMEM;
	reset_write_marks(env, outer, callsite);
	for (__u32 frame = 0; frame < f->cc.curframe; frame++) {
		struct frame_masks *m = get_masks(f, frame, start);
		if (!m)
			continue;
		live_mark_stack_write(env, frame, m->must_write_acc);
		int err = mark_read(outer, frame, callsite, m->live_before);
		if (err)
			return err;
	}
	return commit_write_marks(env, outer);
}

static const char *fmt_callchain(struct venv *env, const struct callchain *cc)
{
	char *b = env->tmp_str_buf, *end = b + sizeof(env->tmp_str_buf);
	b += snprintf(b, (size_t)(end - b), "(");
	for (__u32 i = 0; i <= cc->curframe && b < end; i++)
		b += snprintf(b, (size_t)(end - b), "%s%d", i ? "," : "", cc->callsites[i]);
	if (b < end)
		snprintf(b, (size_t)(end - b), ")");
	return env->tmp_str_buf;
}

/* the level-2 log of a mask that changed: "(0) frame 0 insn 7 +live -8 " */
static void log_mask_change(struct venv *env, const struct callchain *cc, const char *pfx, __u32 frame,
			    __u32 insn_idx, __u64 old, __u64 new)
{
	__u64 changed = old ^ new, ones = new & changed, zeros = ~new & changed;
	char m[TMP_STR_BUF_LEN];
	if (!changed)
		return;
	verbose(env, "%s frame %d insn %d ", fmt_callchain(env, cc), frame, insn_idx);
	if (ones) {
		fmt_stack_mask(m, sizeof(m), ones);
		verbose(env, "+%s %s ", pfx, m);
	}
	if (zeros) {
		fmt_stack_mask(m, sizeof(m), zeros);
		verbose(env, "-%s %s", pfx, m);
	}
	verbose(env, "\n");
}

static bool update_insn(struct venv *env, struct func_instance *f, __u32 frame, __u32 idx)
{
	__u32 succ[2];
	int n = insn_successors(env, idx, succ);
	if (!n)
		return false;
	struct frame_masks *m = get_masks(f, frame, idx);
	__u64 after = 0, acc = ~0ull;
	for (int s = 0; s < n; s++) {
		struct frame_masks *sm = get_masks(f, frame, succ[s]);
		after |= sm->live_before;
		acc &= sm->must_write_acc;
	}
	acc |= m->must_write;
	__u64 before = (after & ~m->must_write) | m->may_read;
	bool changed = before != m->live_before || acc != m->must_write_acc;
	if ((env->log.level & BPF_LOG_LEVEL2) &&
	    (m->may_read || m->must_write || idx == f->cc.sp_starts[f->cc.curframe] || env->aux[idx].prune_point)) {
		log_mask_change(env, &f->cc, "live", frame, idx, m->live_before, before);
		log_mask_change(env, &f->cc, "written", frame, idx, m->must_write_acc, acc);
	}
	m->live_before = before;
	m->must_write_acc = acc;
	return changed;
}

static int update_instance(struct venv *env, struct func_instance *f)
{
	__u32 start = f->cc.sp_starts[f->cc.curframe];
	if (f->must_write_dropped)
		for (__u32 frame = 0; frame <= f->cc.curframe; frame++)
			if (f->frames[frame])
				for (__u32 i = 0; i < f->insn_cnt; i++)
					f->frames[frame][i].must_write_acc = 0;
	struct vsubprog *sp = find_containing_subprog(env, (int)start);
	__u32 po_start = sp->postorder_start, po_end = sp[1].postorder_start;
	bool changed;
	int cnt = 0;
	do {
		cnt++;
		changed = false;
		for (__u32 frame = 0; frame <= f->cc.curframe; frame++) {
			if (!f->frames[frame])
				continue;
			for (__u32 i = po_start; i < po_end; i++)
				changed |= update_insn(env, f, frame, env->insn_postorder[i]);
		}
	} while (changed);
	if (env->log.level & BPF_LOG_LEVEL2)
		verbose(env, "%s live stack update done in %d iterations\n", fmt_callchain(env, &f->cc), cnt);
	return f->cc.curframe > 0 ? propagate_to_outer(env, f) : 0;
}

int live_update(struct venv *env)
{
	live_reset_callchain(env);
	for (int frame = (int)env->cur_state->curframe; frame >= 0; frame--) {
		struct func_instance *f = lookup_instance(env, env->cur_state, (__u32)frame);
		if (!f)
			return -ENOMEM;
		if (f->updated) {
			int err = update_instance(env, f);
			if (err)
				return err;
			f->updated = false;
			f->must_write_dropped = false;
		}
	}
	return 0;
}

int live_query_init(struct venv *env, struct vstate *st)
{
	struct vliveness *l = env->liveness;
	memset(&l->query, 0, sizeof(l->query));
	for (__u32 frame = 0; frame <= st->curframe; frame++) {
		l->query.inst[frame] = lookup_instance(env, st, frame);
		if (!l->query.inst[frame])
			return -ENOMEM;
	}
	l->query.curframe = st->curframe;
	l->query.insn_idx = st->insn_idx;
	return 0;
}

static bool live_before(struct func_instance *f, __u32 insn_idx, __u32 frameno, __u32 spi)
{
	struct frame_masks *m = get_masks(f, frameno, insn_idx);
	return m && (m->live_before >> spi & 1);
}

bool live_slot_alive(struct venv *env, __u32 frameno, __u32 spi)
{
	struct vliveness *l = env->liveness;
	struct func_instance *cur = l->query.inst[l->query.curframe];
	if (live_before(cur, l->query.insn_idx, frameno, spi))
		return true;
	for (__u32 i = frameno; i < l->query.curframe; i++) {
		__u32 callsite = cur->cc.callsites[i];
		if (calls_callback(env, callsite) ? live_before(l->query.inst[i], callsite, frameno, spi)
						  : live_before(l->query.inst[i], callsite + 1, frameno, spi))
			return true;
	}
	return false;
}
