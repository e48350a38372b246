/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/cfg.c: the program's control flow before the walk, as Linux
 * 6.18 computes it: check_cfg() (a depth-first search that finds
 * unreachable instructions, loops an unprivileged load may not have, jumps
 * into an ld_imm64, and marks where the walk prunes and checkpoints),
 * compute_postorder(), compute_live_registers() (which registers some later
 * instruction reads: the walk forgets the others at checkpoints),
 * compute_scc() (loops as strongly connected components), and after the
 * walk check_max_stack_depth() over the call graph.
 */
#include <errno.h>
#include <stdlib.h>

#include "env.h"

enum { DISCOVERED = 0x10, EXPLORED = 0x20, FALLTHROUGH = 1, BRANCH = 2 };
enum { DONE_EXPLORING = 0, KEEP_EXPLORING = 1 };

static int jmp_offset(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP32 | BPF_JA) ? insn->imm : insn->off;
}

/* bpf_insn_successors(): the fall-through and the jump target, by opcode */
int insn_successors(const struct venv *env, __u32 idx, __u32 succ[2])
{
	const struct bpf_insn *insn = &env->insns[idx];
	__u8 cls = BPF_CLASS(insn->code), op = BPF_OP(insn->code);
	bool jmp = cls == BPF_JMP || cls == BPF_JMP32;
	bool can_fall = true, can_jump = false;
	int n = 0;

	if (jmp) {
		switch (op) {
		case BPF_EXIT:
			can_fall = false;
			break;
		case BPF_JA:
			can_fall = false;
			can_jump = true;
			break;
		case BPF_CALL:
			break;
		default:
			can_jump = op <= BPF_JSLE || op == BPF_JCOND;
			break;
		}
	}
	if (can_fall)
		succ[n++] = idx + (is_ldimm64(insn) ? 2 : 1);
	if (can_jump)
		succ[n++] = (__u32)((int)idx + jmp_offset(insn) + 1);
	return n;
}

struct cfg {
	int *state, *stack;
	int cur;
};

static void mark_prune_point(struct venv *env, int idx) { env->aux[idx].prune_point = true; }
static void mark_jmp_point(struct venv *env, int idx) { env->aux[idx].jmp_point = true; }
static void mark_force_checkpoint(struct venv *env, int idx) { env->aux[idx].force_checkpoint = true; }

static int push_insn(struct venv *env, struct cfg *c, int t, int w, int e)
{
	if (e == FALLTHROUGH && c->state[t] >= (DISCOVERED | FALLTHROUGH))
		return DONE_EXPLORING;
	if (e == BRANCH && c->state[t] >= (DISCOVERED | BRANCH))
		return DONE_EXPLORING;
	if (w < 0 || (__u32)w >= env->len) {
		verbose_linfo(env, (__u32)t, "%d: ", t);
		verbose(env, "jump out of range from insn %d to %d\n", t, w);
		return -EINVAL;
	}
	if (e == BRANCH) {
		mark_prune_point(env, w);
		mark_jmp_point(env, w);
	}
	if (c->state[w] == 0) {
		c->state[t] = DISCOVERED | e;
		c->state[w] = DISCOVERED;
		if (c->cur >= (int)env->len)
			return -E2BIG;
		c->stack[c->cur++] = w;
		return KEEP_EXPLORING;
	}
	if ((c->state[w] & 0xF0) == DISCOVERED) {
		if (env->bpf_capable)
			return DONE_EXPLORING;
		verbose_linfo(env, (__u32)t, "%d: ", t);
		verbose_linfo(env, (__u32)w, "%d: ", w);
		verbose(env, "back-edge from insn %d to %d\n", t, w);
		return -EINVAL;
	}
	if (c->state[w] == EXPLORED) {
		c->state[t] = DISCOVERED | e;
		return DONE_EXPLORING;
	}
	verbose(env, "verifier bug: insn state internal bug\n");
	return -EFAULT;
}

static void merge_callee_effects(struct venv *env, int t, int w)
{
	struct vsubprog *caller = find_containing_subprog(env, t), *callee = find_containing_subprog(env, w);
	if (!caller || !callee)
		return;
	caller->changes_pkt_data |= callee->changes_pkt_data;
	caller->might_sleep |= callee->might_sleep;
}

static int visit_func_call_insn(struct venv *env, struct cfg *c, int t, bool visit_callee)
{
	int sz = is_ldimm64(&env->insns[t]) ? 2 : 1;
	int ret = push_insn(env, c, t, t + sz, FALLTHROUGH);
	if (ret)
		return ret;
	mark_prune_point(env, t + sz);
	mark_jmp_point(env, t + sz);
	if (visit_callee) {
		int w = t + env->insns[t].imm + 1;
		mark_prune_point(env, t);
		merge_callee_effects(env, t, w);
		ret = push_insn(env, c, t, w, BRANCH);
	}
	return ret;
}

static int visit_insn(struct venv *env, struct cfg *c, int t)
{
	const struct bpf_insn *insn = &env->insns[t];
	int ret, off;

	if (bpf_pseudo_func(insn))
		return visit_func_call_insn(env, c, t, true);
	if (BPF_CLASS(insn->code) != BPF_JMP && BPF_CLASS(insn->code) != BPF_JMP32)
		return push_insn(env, c, t, t + (is_ldimm64(insn) ? 2 : 1), FALLTHROUGH);

	switch (BPF_OP(insn->code)) {
	case BPF_EXIT:
		return DONE_EXPLORING;
	case BPF_CALL:
		if (bpf_helper_call(insn) && is_async_callback_calling_function(insn->imm))
			mark_prune_point(env, t);
		if (bpf_helper_call(insn) && is_sync_callback_calling_function(insn->imm)) {
			env->aux[t].calls_callback = true;
			mark_force_checkpoint(env, t);
			mark_prune_point(env, t);
			mark_jmp_point(env, t);
		}
		if (bpf_helper_call(insn)) {
			bool might_sleep = false;
			if (helper_nr_params(env, insn->imm, NULL, &might_sleep) >= 0 && might_sleep) {
				struct vsubprog *sp = find_containing_subprog(env, t);
				if (sp)
					sp->might_sleep = true;
			}
			if (helper_changes_pkt_data(insn->imm)) {
				struct vsubprog *sp = find_containing_subprog(env, t);
				if (sp)
					sp->changes_pkt_data = true;
			}
		}
		if (bpf_pseudo_kfunc_call(insn))
			kfunc_mark_cfg(env, t);
		return visit_func_call_insn(env, c, t, insn->src_reg == BPF_PSEUDO_CALL);
	case BPF_JA:
		if (BPF_SRC(insn->code) != BPF_K)
			return -EINVAL;
		off = BPF_CLASS(insn->code) == BPF_JMP ? insn->off : insn->imm;
		ret = push_insn(env, c, t, t + off + 1, FALLTHROUGH);
		if (ret)
			return ret;
		mark_prune_point(env, t + off + 1);
		mark_jmp_point(env, t + off + 1);
		return ret;
	default:
		mark_prune_point(env, t);
		if (is_may_goto_insn(insn))
			mark_force_checkpoint(env, t);
		ret = push_insn(env, c, t, t + 1, FALLTHROUGH);
		if (ret)
			return ret;
		return push_insn(env, c, t, t + insn->off + 1, BRANCH);
	}
}

/* check_cfg(): a non-recursive depth-first search from the first instruction */
int check_cfg(struct venv *env)
{
	struct cfg c = { 0 };
	int ret = 0;

	c.state = calloc(env->len, sizeof(int));
	c.stack = calloc(env->len, sizeof(int));
	if (!c.state || !c.stack) {
		ret = -ENOMEM;
		goto out;
	}
	c.state[0] = DISCOVERED;
	c.stack[0] = 0;
	c.cur = 1;
	while (c.cur > 0) {
		int t = c.stack[c.cur - 1];
		ret = visit_insn(env, &c, t);
		if (ret == DONE_EXPLORING) {
			c.state[t] = EXPLORED;
			c.cur--;
		} else if (ret != KEEP_EXPLORING) {
			goto out;
		}
	}
	for (__u32 i = 0; i < env->len; i++) {
		if (c.state[i] != EXPLORED) {
			verbose(env, "unreachable insn %d\n", i);
			ret = -EINVAL;
			goto out;
		}
		if (is_ldimm64(&env->insns[i])) {
			if (c.state[i + 1] != 0) {
				verbose(env, "jump into the middle of ldimm64 insn %d\n", i);
				ret = -EINVAL;
				goto out;
			}
			i++;
		}
	}
	ret = 0;
out:
	free(c.state);
	free(c.stack);
	return ret;
}

/* compute_postorder(): each subprogram's instructions in depth-first postorder */
int compute_postorder(struct venv *env)
{
	int *postorder = calloc(env->len, sizeof(int)), *state = calloc(env->len, sizeof(int));
	__u32 *stack = calloc(env->len, sizeof(__u32));
	__u32 cur = 0, i;

	if (!postorder || !state || !stack) {
		free(postorder);
		free(state);
		free(stack);
		return -ENOMEM;
	}
	for (i = 0; i < env->subprog_cnt; i++) {
		__u32 sz = 1;
		env->subprog[i].postorder_start = cur;
		stack[0] = env->subprog[i].start;
		do {
			__u32 top = stack[sz - 1], succ[2];
			state[top] |= DISCOVERED;
			if (state[top] & EXPLORED) {
				postorder[cur++] = (int)top;
				sz--;
				continue;
			}
			int n = insn_successors(env, top, succ);
			for (int s = 0; s < n; s++)
				if (succ[s] < env->len && !state[succ[s]]) {
					stack[sz++] = succ[s];
					state[succ[s]] |= DISCOVERED;
				}
			state[top] |= EXPLORED;
		} while (sz);
	}
	env->subprog[i].postorder_start = cur;
	env->insn_postorder = postorder;
	env->cur_postorder = cur;
	free(stack);
	free(state);
	return 0;
}

#define ALL_CALLER_SAVED_REGS ((1u << CALLER_SAVED_REGS) - 1)

static void insn_use_def(struct venv *env, const struct bpf_insn *insn, __u16 *use_out, __u16 *def_out)
{
	__u8 cls = BPF_CLASS(insn->code), op = BPF_OP(insn->code), mode = BPF_MODE(insn->code);
	__u16 src = (__u16)(1u << (insn->src_reg & 15)), dst = (__u16)(1u << (insn->dst_reg & 15)), r0 = 1;
	__u16 def = 0, use = 0xffff;

	switch (cls) {
	case BPF_LD:
		if (mode == BPF_IMM && BPF_SIZE(insn->code) == BPF_DW) {
			def = dst;
			use = 0;
		}
		break;
	case BPF_LDX:
		if (mode == BPF_MEM || mode == BPF_MEMSX) {
			def = dst;
			use = src;
		}
		break;
	case BPF_ST:
		if (mode == BPF_MEM) {
			def = 0;
			use = dst;
		}
		break;
	case BPF_STX:
		if (mode == BPF_MEM) {
			def = 0;
			use = dst | src;
		} else if (mode == BPF_ATOMIC) {
			switch (insn->imm) {
			case BPF_CMPXCHG:
				use = r0 | dst | src;
				def = r0;
				break;
			case BPF_LOAD_ACQ:
				def = dst;
				use = src;
				break;
			case BPF_STORE_REL:
				def = 0;
				use = dst | src;
				break;
			default:
				use = dst | src;
				def = insn->imm & BPF_FETCH ? src : 0;
			}
		}
		break;
	case BPF_ALU: case BPF_ALU64:
		if (op == BPF_END) {
			use = def = dst;
		} else if (op == BPF_MOV) {
			def = dst;
			use = BPF_SRC(insn->code) == BPF_K ? 0 : src;
		} else {
			def = dst;
			use = BPF_SRC(insn->code) == BPF_K ? dst : dst | src;
		}
		break;
	case BPF_JMP: case BPF_JMP32:
		switch (op) {
		case BPF_JA: case BPF_JCOND:
			def = use = 0;
			break;
		case BPF_EXIT:
			def = 0;
			use = r0;
			break;
		case BPF_CALL: {
			def = ALL_CALLER_SAVED_REGS;
			use = def & ~1u;
			/* get_call_summary(): a known helper reads its parameters only */
			if (bpf_helper_call(insn)) {
				int n = helper_nr_params(env, insn->imm, NULL, NULL);
				if (n >= 0)
					use = (__u16)(((1u << (n + 1)) - 1) & ~1u);
			} else if (bpf_pseudo_kfunc_call(insn)) {
				int n = kfunc_nr_params(env, insn);
				if (n >= 0)
					use = (__u16)(((1u << (n + 1)) - 1) & ~1u);
			}
			break;
		}
		default:
			def = 0;
			use = BPF_SRC(insn->code) == BPF_K ? dst : dst | src;
		}
		break;
	}
	*use_out = use;
	*def_out = def;
}

/* compute_live_registers(): registers some later instruction may read, before each instruction */
int compute_live_registers(struct venv *env)
{
	struct live { __u16 use, def, in, out; } *st = calloc(env->len, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (__u32 i = 0; i < env->len; i++)
		insn_use_def(env, &env->insns[i], &st[i].use, &st[i].def);
	for (bool changed = true; changed;) {
		changed = false;
		for (__u32 i = 0; i < env->cur_postorder; i++) {
			__u32 idx = (__u32)env->insn_postorder[i], succ[2];
			struct live *l = &st[idx];
			__u16 out = 0, in;
			int n = insn_successors(env, idx, succ);
			for (int s = 0; s < n; s++)
				if (succ[s] < env->len)
					out |= st[succ[s]].in;
			in = (__u16)((out & ~l->def) | l->use);
			if (out != l->out || in != l->in) {
				l->in = in;
				l->out = out;
				changed = true;
			}
		}
	}
	for (__u32 i = 0; i < env->len; i++)
		env->aux[i].live_regs_before = st[i].in;
	if (env->log.level & BPF_LOG_LEVEL2) {
		verbose(env, "Live regs before insn:\n");
		for (__u32 i = 0; i < env->len; i++) {
			if (env->aux[i].scc)
				verbose(env, "%3d ", env->aux[i].scc);
			else
				verbose(env, "    ");
			verbose(env, "%3d: ", i);
			for (int j = 0; j < BPF_REG_10; j++)
				verbose(env, j < 10 && (env->aux[i].live_regs_before >> j & 1) ? "%d" : ".", j);
			verbose(env, " ");
			verbose_insn(env, &env->insns[i]);
			if (is_ldimm64(&env->insns[i]))
				i++;
		}
	}
	free(st);
	return 0;
}

/* compute_scc(): Tarjan's algorithm without recursion; a lone instruction
 * without a jump to itself belongs to no component (0) */
int compute_scc(struct venv *env)
{
	const __u32 NOT_ON_STACK = UINT32_MAX, n = env->len;
	__u32 *stack = calloc(n, sizeof(__u32)), *pre = calloc(n, sizeof(__u32)), *low = calloc(n, sizeof(__u32));
	__u32 *dfs = calloc(n, sizeof(__u32));
	__u32 next_pre = 1, next_scc = 1;
	int err = 0;

	if (!stack || !pre || !low || !dfs) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < n; i++) {
		if (pre[i])
			continue;
		__u32 stack_sz = 0, dfs_sz = 1;
		dfs[0] = i;
		while (dfs_sz) {
			__u32 w = dfs[dfs_sz - 1], succ[2];
			if (pre[w] == 0) {
				low[w] = pre[w] = next_pre++;
				stack[stack_sz++] = w;
			}
			int cnt = insn_successors(env, w, succ);
			bool descended = false;
			for (int j = 0; j < cnt; j++) {
				if (succ[j] >= n)
					continue;
				if (pre[succ[j]]) {
					if (low[succ[j]] < low[w])
						low[w] = low[succ[j]];
				} else {
					dfs[dfs_sz++] = succ[j];
					descended = true;
					break;
				}
			}
			if (descended)
				continue;
			if (low[w] < pre[w]) {
				dfs_sz--;
				continue;
			}
			bool assign = stack[stack_sz - 1] != w;
			for (int j = 0; j < cnt; j++)
				if (succ[j] == w)
					assign = true;
			__u32 t;
			do {
				t = stack[--stack_sz];
				low[t] = NOT_ON_STACK;
				if (assign)
					env->aux[t].scc = next_scc;
			} while (t != w);
			if (assign)
				next_scc++;
			dfs_sz--;
		}
	}
	env->scc_info = calloc(next_scc, sizeof(*env->scc_info));
	if (!env->scc_info) {
		err = -ENOMEM;
		goto out;
	}
	env->scc_cnt = next_scc;
out:
	free(stack);
	free(pre);
	free(low);
	free(dfs);
	return err;
}

/* ---- the stack of the whole call graph (check_max_stack_depth) ---- */

#define PRIV_STACK_MIN_SIZE 64
enum { PRIV_STACK_UNKNOWN, NO_PRIV_STACK, PRIV_STACK_ADAPTIVE };

/* the JIT (always on here, as on x86-64) rounds each frame up to 16 bytes */
static int round_up_stack_depth(int depth) { return (depth + 15) & ~15; }

static int check_max_stack_depth_subprog(struct venv *env, int idx, bool priv_ok, __u8 *priv)
{
	struct vsubprog *sp = env->subprog;
	int depth = 0, frame = 0, i, sub_depth;
	bool tail_call_reachable = false;
	int ret_insn[MAX_CALL_FRAMES], ret_prog[MAX_CALL_FRAMES];

	i = (int)sp[idx].start;
	if (!priv_ok)
		priv[idx] = NO_PRIV_STACK;
process_func:
	if (idx && sp[idx].has_tail_call && depth >= 256) {
		verbose(env, "tail_calls are not allowed when call stack of previous frames is %d bytes. Too large\n",
			depth);
		return -EACCES;
	}
	sub_depth = round_up_stack_depth(sp[idx].stack_depth);
	if (priv_ok && priv[idx] == PRIV_STACK_UNKNOWN && sub_depth >= PRIV_STACK_MIN_SIZE)
		priv[idx] = PRIV_STACK_ADAPTIVE;
	if (priv[idx] == PRIV_STACK_ADAPTIVE) {
		if (sub_depth > MAX_BPF_STACK) {
			verbose(env, "stack size of subprog %d is %d. Too large\n", idx, sub_depth);
			return -EACCES;
		}
	} else {
		depth += sub_depth;
		if (depth > MAX_BPF_STACK) {
			verbose(env, "combined stack size of %d calls is %d. Too large\n", frame + 1, depth);
			return -EACCES;
		}
	}
continue_func:
	for (; i < (int)sp[idx + 1].start; i++) {
		const struct bpf_insn *in = &env->insns[i];
		if (!bpf_pseudo_call(in) && !bpf_pseudo_func(in))
			continue;
		ret_insn[frame] = i + 1;
		ret_prog[frame] = idx;
		int next = i + in->imm + 1, sidx = find_subprog(env, next);
		if (sidx < 0) {
			verbose(env, "verifier bug: callee not found at insn %d\n", next);
			return -EFAULT;
		}
		if (sp[sidx].is_async_cb && !bpf_pseudo_call(in))
			continue;
		i = next;
		idx = sidx;
		if (!priv_ok)
			priv[idx] = NO_PRIV_STACK;
		if (sp[idx].has_tail_call)
			tail_call_reachable = true;
		frame++;
		if (frame >= MAX_CALL_FRAMES) {
			verbose(env, "the call stack of %d frames is too deep !\n", frame);
			return -E2BIG;
		}
		goto process_func;
	}
	if (tail_call_reachable)
		for (int j = 0; j < frame; j++)
			sp[ret_prog[j]].tail_call_reachable = true;
	if (frame == 0)
		return 0;
	if (priv[idx] != PRIV_STACK_ADAPTIVE)
		depth -= round_up_stack_depth(sp[idx].stack_depth);
	frame--;
	i = ret_insn[frame];
	idx = ret_prog[frame];
	goto continue_func;
}

int check_max_stack_depth(struct venv *env)
{
	__u8 priv[MAX_SUBPROGS + 1] = { 0 };
	int mode = PRIV_STACK_UNKNOWN;

	for (__u32 i = 0; i < env->subprog_cnt; i++)
		if (env->subprog[i].has_tail_call)
			mode = NO_PRIV_STACK;
	if (mode == PRIV_STACK_UNKNOWN) {
		/* bpf_enable_priv_stack(): x86-64's JIT has private stacks for these types */
		switch (env->prog_type) {
		case BPF_PROG_TYPE_KPROBE: case BPF_PROG_TYPE_TRACEPOINT: case BPF_PROG_TYPE_PERF_EVENT:
		case BPF_PROG_TYPE_RAW_TRACEPOINT:
			mode = PRIV_STACK_ADAPTIVE;
			break;
		case BPF_PROG_TYPE_TRACING:     /* bpf_prog_check_recur() */
			mode = env->expected_attach_type != BPF_TRACE_ITER ? PRIV_STACK_ADAPTIVE : NO_PRIV_STACK;
			break;
		default:
			mode = NO_PRIV_STACK;
		}
	}
	for (int i = (int)env->subprog_cnt - 1; i >= 0; i--) {
		if (!i || env->subprog[i].is_async_cb) {
			int ret = check_max_stack_depth_subprog(env, i, !i && mode == PRIV_STACK_ADAPTIVE, priv);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}
