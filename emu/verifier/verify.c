/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/verify.c: bpf_check() of Linux 6.18, the order of its steps:
 * func_info (check_btf_info_early), subprograms and kfuncs, jumps
 * (check_subprogs), line_info (check_btf_info), ld_imm64 and maps
 * (resolve_pseudo_ldimm64), the control flow graph (check_cfg), the attach
 * target, loops and live registers, the walk of the main program and of the
 * global functions it calls, the stack depth of the call graph, and the
 * statistics line. The per-instruction facts of a successful walk are handed
 * back for the parts that run programs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "helper_protos.h"
#include "../emu.h"
#include "../obj.h"
#include "../btf.h"

static bool can_be_sleepable(const struct venv *env)
{
	if (env->prog_type == BPF_PROG_TYPE_TRACING)
		return env->expected_attach_type == BPF_TRACE_FENTRY || env->expected_attach_type == BPF_TRACE_FEXIT ||
		       env->expected_attach_type == BPF_MODIFY_RETURN || env->expected_attach_type == BPF_TRACE_ITER;
	return env->prog_type == BPF_PROG_TYPE_LSM || env->prog_type == BPF_PROG_TYPE_KPROBE ||
	       env->prog_type == BPF_PROG_TYPE_STRUCT_OPS;
}

/*
 * check_attach_btf_id(): syscall programs must be sleepable, only some
 * types may be; struct_ops, tracing, LSM and extension programs are checked
 * against the kernel's BTF by emu/btf_kernel.c (bpf_check_attach_target():
 * registered struct_ops types, the traced function or tracepoint, deny
 * lists, LSM hooks, iterator targets, a target program), and a target in
 * vmlinux gives the walk its context arguments (ctx.c).
 */
static int check_attach_btf_id(struct venv *env)
{
	const struct emu_verifier_attr *a = env->attr;
	if (env->prog_type == BPF_PROG_TYPE_SYSCALL) {
		if (env->sleepable)
			return 0;
		verbose(env, "Syscall programs can only be sleepable\n");
		return -EINVAL;
	}
	if (env->sleepable && !can_be_sleepable(env)) {
		verbose(env, "Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable\n");
		return -EINVAL;
	}
	if (env->prog_type != BPF_PROG_TYPE_TRACING && env->prog_type != BPF_PROG_TYPE_LSM &&
	    env->prog_type != BPF_PROG_TYPE_EXT && env->prog_type != BPF_PROG_TYPE_STRUCT_OPS)
		return 0;
	char msg[512];
	struct emu_attach_check ac = { .prog_type = env->prog_type, .eat = env->expected_attach_type,
				       .btf_id = a->attach_btf_id, .sleepable = env->sleepable, .gpl = env->gpl,
				       .btf_obj_id = a->attach_btf_obj_id, .dst_prog_fd = a->attach_prog_fd,
				       .prog_btf_fd = (int)a->prog_btf_fd, .has_finfo = env->nr_finfo > 0,
				       .func0_type_id = env->nr_finfo ? env->finfo[0].type_id : 0,
				       .changes_pkt_data = env->subprog[0].changes_pkt_data,
				       .might_sleep = env->subprog[0].might_sleep };
	int err = emu_attach_btf_check(&ac, msg, sizeof(msg));
	if (msg[0])
		verbose(env, "%s", msg);
	if (err)
		return err;
	if (env->prog_type == BPF_PROG_TYPE_EXT && a->attach_prog_fd > 0) {
		/* an extension is verified as its target: the target's context,
		 * helpers and expected_attach_type (env->ops in the kernel) */
		env->ext = true;
		env->prog_type = ac.dst_prog_type;
		env->expected_attach_type = ac.dst_eat;
		env->dst_prog_id = ac.dst_prog_id;
		env->dst_insn_off = ac.dst_insn_off;
		return 0;
	}
	/* a target in vmlinux (the name the kernel's BTF object gives the id is ours): its prototype */
	const char *kname = a->attach_btf_obj_id && a->attach_prog_fd <= 0 ?
				    emu_kernel_btf_name(a->attach_btf_obj_id, a->attach_btf_id) : NULL;
	if (kname && env->kbtf && !strcmp(kname, kbtf_type_name(env->kbtf, a->attach_btf_id)))
		attach_target_setup(env);
	return 0;
}

/* The kernel's BTF (a few MB read once per process) is read only for the
 * programs that look at it: tracing targets, kernel objects helpers return or
 * take, kernel symbols and functions. */
static bool needs_kernel_btf(const struct venv *env)
{
	switch (env->prog_type) {
	case BPF_PROG_TYPE_TRACING: case BPF_PROG_TYPE_LSM: case BPF_PROG_TYPE_EXT: case BPF_PROG_TYPE_STRUCT_OPS:
	case PROG_TYPE_NETFILTER:       /* the context holds kernel objects (nf_is_valid_access) */
		return true;
	}
	for (__u32 i = 0; i < env->len; i++) {
		const struct bpf_insn *in = &env->insns[i];
		if (bpf_pseudo_kfunc_call(in) || (is_ldimm64(in) && in->src_reg == BPF_PSEUDO_BTF_ID))
			return true;
		if (bpf_helper_call(in) && in->imm >= 0 && in->imm < (int)ARRAY_SIZE(helper_protos)) {
			const struct helper_proto *fn = get_helper_proto(env, in->imm);
			if (fn->ret_btf || in->imm == BPF_FUNC_find_vma)
				return true;
			for (int a = 0; a < 5; a++)
				if (fn->arg_btf[a] || base_type(fn->arg_type[a]) == ARG_PTR_TO_BTF_ID ||
				    base_type(fn->arg_type[a]) == ARG_PTR_TO_BTF_ID_SOCK_COMMON ||
				    base_type(fn->arg_type[a]) == ARG_PTR_TO_PERCPU_BTF_ID)
					return true;
		}
	}
	return false;
}

/* print_verification_stats() */
static void print_stats(struct venv *env)
{
	if (env->log.level & BPF_LOG_STATS) {
		verbose(env, "verification time %llu usec\n", 0ull);
		verbose(env, "stack depth ");
		for (__u32 i = 0; i < env->subprog_cnt; i++)
			verbose(env, "%d%s", env->subprog[i].stack_depth, i + 1 < env->subprog_cnt ? "+" : "");
		verbose(env, "\n");
	}
	verbose(env, "processed %d insns (limit %d) max_states_per_insn %d total_states %d peak_states %d mark_read %d\n",
		env->insn_processed, BPF_COMPLEXITY_LIMIT_INSNS, env->max_states_per_insn, env->total_states,
		env->peak_states, 0);
}

static bool no_walk;

static int fill_result(struct venv *env, struct emu_verifier_result *res)
{
	res->verified_insns = env->insn_processed;
	res->nr_map_ids = 0;
	for (__u32 k = 0; k < env->nr_maps && k < ARRAY_SIZE(res->map_ids); k++)
		res->map_ids[res->nr_map_ids++] = env->maps[k].id;
	res->btf_id = env->btf_id;
	res->sub_pkt_mask = res->sub_sleep_mask = ~0ull;
	for (__u32 i = 0; i < env->subprog_cnt && i < 64; i++) {
		if (!env->subprog[i].changes_pkt_data)
			res->sub_pkt_mask &= ~(1ull << i);
		if (!env->subprog[i].might_sleep)
			res->sub_sleep_mask &= ~(1ull << i);
	}
	if (env->ext) {
		res->dst_prog_id = env->dst_prog_id;
		res->dst_eat = env->expected_attach_type;
		res->dst_insn_off = env->dst_insn_off;
		res->dst_btf_id = env->attr->attach_btf_id;
	}
	res->finfo = env->finfo;
	res->nr_finfo = env->nr_finfo;
	env->finfo = NULL;
	res->linfo = env->linfo;
	res->nr_linfo = env->nr_linfo;
	env->linfo = NULL;
	res->stack_depth = env->subprog[0].stack_depth;
	res->aux = calloc(env->len, sizeof(*res->aux));
	if (!res->aux)
		return -ENOMEM;
	for (__u32 i = 0; i < env->len; i++) {
		const struct vaux *a = &env->aux[i];
		struct emu_insn_aux *o = &res->aux[i];
		o->seen = a->seen;
		o->mem = a->mem;
		o->in_bounds = a->mem && !a->mem_unproven;
		o->ctx_field_size = (__u8)a->ctx_field_size;
		o->fixed_off = a->fixed_off_set ? a->fixed_off : INT32_MIN;
		if (is_ldimm64(&env->insns[i]) &&
		    (env->insns[i].src_reg == BPF_PSEUDO_MAP_FD || env->insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) &&
		    a->map_index < env->nr_maps)
			o->map_id = env->maps[a->map_index].id;
	}
	if (__atomic_load_n(&no_walk, __ATOMIC_RELAXED))
		return 0;       /* nothing was seen: nothing is dead */
	/* the rewrites after check_max_stack_depth() that change the stream */
	__u32 *start = malloc((env->subprog_cnt + 1) * sizeof(*start));
	res->xlated = malloc((size_t)env->len * sizeof(*res->xlated));
	if (!start || !res->xlated) {
		free(start);
		return -ENOMEM;
	}
	memcpy(res->xlated, env->insns, (size_t)env->len * sizeof(*res->xlated));
	for (__u32 k = 0; k <= env->subprog_cnt; k++)
		start[k] = env->subprog[k].start;
	struct xlate x = { .insns = res->xlated, .len = env->len, .aux = res->aux, .start = start,
			   .nr_subprogs = env->subprog_cnt, .finfo = res->finfo, .nr_finfo = res->nr_finfo,
			   .linfo = res->linfo, .nr_linfo = res->nr_linfo };
	xlate_dead_code(&x);
	res->xlated_cnt = x.len;
	res->nr_finfo = x.nr_finfo;
	res->nr_linfo = x.nr_linfo;
	free(start);
	return 0;
}

void emu_verifier_set_walk(bool walk)
{
	__atomic_store_n(&no_walk, !walk, __ATOMIC_RELAXED);
}

int emu_verify(const struct emu_verifier_attr *attr, struct emu_verifier_result *res)
{
	struct venv *env = calloc(1, sizeof(*env));
	int ret;

	memset(res, 0, sizeof(*res));
	if (!env)
		return -ENOMEM;
	env->insns = attr->insns;
	env->len = attr->insn_cnt;
	env->attr = attr;
	env->prog_type = attr->prog_type;
	env->expected_attach_type = attr->expected_attach_type;
	env->prog_flags = attr->prog_flags;
	env->gpl = attr->gpl;
	env->sleepable = attr->prog_flags & BPF_F_SLEEPABLE;
	/* x86-64 has efficient unaligned access: strict only when asked for */
	env->strict_alignment = (attr->prog_flags & BPF_F_STRICT_ALIGNMENT) && !(attr->prog_flags & BPF_F_ANY_ALIGNMENT);
	env->test_state_freq = attr->prog_flags & BPF_F_TEST_STATE_FREQ;
	/* the capabilities of the loader the engine answers as: root's */
	env->bpf_capable = env->allow_ptr_leaks = env->allow_uninit_stack = true;
	env->bypass_spec_v1 = env->bypass_spec_v4 = true;
	env->cgroup_storage_map[0] = env->cgroup_storage_map[1] = -1;
	if (needs_kernel_btf(env))
		env->kbtf = kbtf_vmlinux();
	env->aux = calloc(env->len + 1, sizeof(*env->aux));
	env->explored = calloc(env->len, sizeof(*env->explored));
	env->log.level = attr->log_level;
	if (attr->log_level) {
		env->log.len_total = attr->log_size;
		env->log.ubuf = attr->log_buf;
		env->log.buf = calloc(1, attr->log_size);
	}
	if (!env->aux || !env->explored || (attr->log_level && !env->log.buf)) {
		ret = -ENOMEM;
		goto out;
	}
	mark_verifier_state_clean(env);

	ret = check_btf_info_early(env);
	if (ret < 0)
		goto skip_full_check;
	ret = add_subprog_and_kfunc(env);
	if (ret < 0)
		goto skip_full_check;
	ret = check_subprogs(env);
	if (ret < 0)
		goto skip_full_check;
	ret = check_btf_info(env);
	if (ret < 0)
		goto skip_full_check;
	ret = resolve_pseudo_ldimm64(env);
	if (ret < 0)
		goto skip_full_check;
	ret = check_cfg(env);
	if (ret < 0)
		goto skip_full_check;
	ret = compute_postorder(env);
	if (ret < 0)
		goto skip_full_check;
	ret = live_init(env);
	if (ret < 0)
		goto skip_full_check;
	ret = check_attach_btf_id(env);
	if (ret)
		goto skip_full_check;
	ret = compute_scc(env);
	if (ret < 0)
		goto skip_full_check;
	ret = compute_live_registers(env);
	if (ret < 0)
		goto skip_full_check;
	if (!__atomic_load_n(&no_walk, __ATOMIC_RELAXED)) {
		ret = do_check_main(env);
		if (!ret)
			ret = do_check_subprogs(env);
	}
skip_full_check:
	if (ret == 0)
		ret = check_max_stack_depth(env);
	/* do_misc_fixups(), after dead code is gone: a kfunc call of id 0 some path reached */
	for (__u32 i = 0; ret == 0 && i < env->len; i++)
		if (bpf_pseudo_kfunc_call(&env->insns[i]) && !env->insns[i].imm && env->aux[i].seen) {
			verbose(env, "invalid kernel function call not eliminated in verifier pass\n");
			ret = -EINVAL;
		}
	print_stats(env);
	__u32 true_size;
	int err = vlog_finalize(&env->log, &true_size);
	if (err)
		ret = err;
	if (env->log.buf && env->log.hi) {
		int cerr = emu_copy_to_user(env->log.ubuf, env->log.buf, (size_t)env->log.hi);
		if (cerr && !ret)
			ret = cerr;
	}
	if (!ret)
		ret = fill_result(env, res);
	if (ret)
		emu_verifier_result_free(res);
	else if (__atomic_load_n(&no_walk, __ATOMIC_RELAXED)) {
		free(res->aux);
		res->aux = NULL;        /* nothing was proved */
	}
	else
		res->verified_insns = env->insn_processed;
out:
	live_free(env);
	free_states(env);
	front_free(env);
	free(env->insn_postorder);
	free(env->scc_info);
	free(env->explored);
	free(env->aux);
	free(env->log.buf);
	free(env);
	return ret;
}

void emu_verifier_result_free(struct emu_verifier_result *res)
{
	free(res->finfo);
	free(res->linfo);
	free(res->aux);
	free(res->xlated);
	memset(res, 0, sizeof(*res));
}
