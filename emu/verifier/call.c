/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/call.c: calls. Helpers (check_helper_call: the prototype's
 * argument types and sizes, references acquired and released, maps and the
 * helpers they go with, return values), bpf-to-bpf calls and global
 * functions (check_func_call), callbacks (bpf_loop, for_each_map_elem,
 * timers, find_vma, user ring buffers), and returns from them
 * (prepare_func_exit). Linux 6.18's order and messages.
 */
#include <errno.h>
#include <stdlib.h>

#include "env.h"
#include "../vm/vm.h"
#include "helper_protos.h"
#include "../emu.h"
#include "../helpers.h"
#include "../obj.h"

/* ---- which helpers exist for this program ---- */

static const struct emu_helper_row *helper_row(const struct venv *env)
{
	for (size_t k = 0; k < ARRAY_SIZE(emu_helper_rows); k++)
		if ((__u32)emu_helper_rows[k].prog_type == env->prog_type &&
		    (__u32)emu_helper_rows[k].expected_attach_type == env->expected_attach_type)
			return &emu_helper_rows[k];
	return NULL;
}

static char helper_allowed(const struct venv *env, int id)
{
	const struct emu_helper_row *row = helper_row(env);
	return row ? row->allowed[id] : 'y';
}

bool helper_exists(struct venv *env, int func_id)
{
	return func_id >= 0 && func_id < EMU_BPF_FUNC_MAX_ID && helper_allowed(env, func_id) != '-';
}

/* get_helper_proto(): the prototype this program's type (its verifier_ops'
 * get_func_proto) gives the helper; helper_protos[] unless a type has a
 * prototype of its own (listed in helper_protos.h). */
const struct helper_proto *get_helper_proto(const struct venv *env, int func_id)
{
	__u32 t = env->prog_type;
	bool tracing_protos = t == BPF_PROG_TYPE_TRACING || t == BPF_PROG_TYPE_LSM || t == BPF_PROG_TYPE_SYSCALL;

	switch (func_id) {
	case BPF_FUNC_get_cgroup_classid:
		if (t != BPF_PROG_TYPE_SCHED_CLS && t != BPF_PROG_TYPE_SCHED_ACT && t != BPF_PROG_TYPE_LWT_IN &&
		    t != BPF_PROG_TYPE_LWT_OUT && t != BPF_PROG_TYPE_LWT_XMIT && t != BPF_PROG_TYPE_LWT_SEG6LOCAL)
			return &helper_proto_get_cgroup_classid_curr;
		break;
	case BPF_FUNC_get_socket_cookie:
		if (t == BPF_PROG_TYPE_SK_REUSEPORT || tracing_protos)
			return &helper_proto_get_socket_ptr_cookie;
		break;
	case BPF_FUNC_setsockopt:
		if (t != BPF_PROG_TYPE_SOCK_OPS && t != BPF_PROG_TYPE_CGROUP_SOCK_ADDR)
			return &helper_proto_sk_setsockopt;
		break;
	case BPF_FUNC_getsockopt:
		if (t != BPF_PROG_TYPE_SOCK_OPS && t != BPF_PROG_TYPE_CGROUP_SOCK_ADDR)
			return &helper_proto_sk_getsockopt;
		break;
	case BPF_FUNC_sk_assign:
		if (t == BPF_PROG_TYPE_SK_LOOKUP)
			return &helper_proto_sk_lookup_assign;
		break;
	case BPF_FUNC_sk_storage_get:
		if (t == BPF_PROG_TYPE_TRACING || t == BPF_PROG_TYPE_SYSCALL)
			return &helper_proto_sk_storage_get_tracing;
		if (t == BPF_PROG_TYPE_CGROUP_SOCK)
			return &helper_proto_sk_storage_get_cg_sock;
		break;
	case BPF_FUNC_sk_storage_delete:
		if (t == BPF_PROG_TYPE_TRACING || t == BPF_PROG_TYPE_SYSCALL)
			return &helper_proto_sk_storage_delete_tracing;
		break;
	case BPF_FUNC_xdp_get_buff_len:
		if (tracing_protos)
			return &helper_proto_xdp_get_buff_len_trace;
		break;
	}
	return &helper_protos[func_id];
}

/* bpf_sk_storage_tracing_allowed(): the tracing prototypes of sk_storage_get
 * and sk_storage_delete are only for tp_btf, iterators, and fentry/fexit on a
 * function that is not bpf_sk_storage_* itself */
static bool helper_proto_allowed(const struct venv *env, const struct helper_proto *fn)
{
	if (fn != &helper_proto_sk_storage_get_tracing && fn != &helper_proto_sk_storage_delete_tracing)
		return true;
	switch (env->expected_attach_type) {
	case BPF_TRACE_ITER: case BPF_TRACE_RAW_TP:
		return env->prog_type == BPF_PROG_TYPE_TRACING;
	case BPF_TRACE_FENTRY: case BPF_TRACE_FEXIT:
		return env->prog_type == BPF_PROG_TYPE_TRACING && env->attach_func_name &&
		       strncmp(env->attach_func_name, "bpf_sk_storage", strlen("bpf_sk_storage"));
	default:
		return false;
	}
}

/* get_call_summary(): how many arguments, whether it returns something, whether it may sleep */
int helper_nr_params(struct venv *env, int func_id, bool *is_void, bool *might_sleep)
{
	if (!helper_exists(env, func_id))
		return -1;
	const struct helper_proto *fn = get_helper_proto(env, func_id);
	int n = 0;
	if (!fn->known)
		n = 5;
	else
		while (n < 5 && fn->arg_type[n] != ARG_DONTCARE)
			n++;
	if (is_void)
		*is_void = fn->known && fn->ret_type == RET_VOID;
	if (might_sleep)
		*might_sleep = helper_allowed(env, func_id) == 's';
	return n;
}

bool helper_changes_pkt_data(int func_id)
{
	switch (func_id) {
	case BPF_FUNC_skb_store_bytes: case BPF_FUNC_skb_change_head: case BPF_FUNC_skb_change_tail:
	case BPF_FUNC_skb_pull_data: case BPF_FUNC_clone_redirect: case BPF_FUNC_skb_vlan_push:
	case BPF_FUNC_skb_vlan_pop: case BPF_FUNC_skb_change_proto: case BPF_FUNC_skb_adjust_room:
	case BPF_FUNC_l3_csum_replace: case BPF_FUNC_l4_csum_replace: case BPF_FUNC_xdp_adjust_head:
	case BPF_FUNC_xdp_adjust_meta: case BPF_FUNC_xdp_adjust_tail: case BPF_FUNC_msg_pull_data:
	case BPF_FUNC_msg_push_data: case BPF_FUNC_msg_pop_data: case BPF_FUNC_lwt_push_encap:
	case BPF_FUNC_lwt_seg6_store_bytes: case BPF_FUNC_lwt_seg6_adjust_srh: case BPF_FUNC_lwt_seg6_action:
	case BPF_FUNC_store_hdr_opt:
		return true;
	default:
		return false;
	}
}

bool is_sync_callback_calling_function(int func_id)
{
	return func_id == BPF_FUNC_for_each_map_elem || func_id == BPF_FUNC_find_vma || func_id == BPF_FUNC_loop ||
	       func_id == BPF_FUNC_user_ringbuf_drain;
}

bool is_async_callback_calling_function(int func_id)
{
	return func_id == BPF_FUNC_timer_set_callback;
}

static bool is_acquire_function(int func_id, const struct vmap *map)
{
	if (func_id == BPF_FUNC_sk_lookup_tcp || func_id == BPF_FUNC_sk_lookup_udp || func_id == BPF_FUNC_skc_lookup_tcp ||
	    func_id == BPF_FUNC_ringbuf_reserve || func_id == BPF_FUNC_kptr_xchg)
		return true;
	return func_id == BPF_FUNC_map_lookup_elem && map &&
	       (map->type == BPF_MAP_TYPE_SOCKMAP || map->type == BPF_MAP_TYPE_SOCKHASH);
}

static bool is_ptr_cast_function(int func_id)
{
	return func_id == BPF_FUNC_tcp_sock || func_id == BPF_FUNC_sk_fullsock || func_id == BPF_FUNC_skc_to_tcp_sock ||
	       func_id == BPF_FUNC_skc_to_tcp6_sock || func_id == BPF_FUNC_skc_to_udp6_sock ||
	       func_id == BPF_FUNC_skc_to_mptcp_sock || func_id == BPF_FUNC_skc_to_tcp_timewait_sock ||
	       func_id == BPF_FUNC_skc_to_tcp_request_sock;
}

/* ---- argument types ---- */

#define NT 10
struct reg_types {
	__u32 types[NT];
};

static const struct reg_types sock_types = { { PTR_TO_SOCK_COMMON, PTR_TO_SOCKET, PTR_TO_TCP_SOCK, PTR_TO_XDP_SOCK } };
static const struct reg_types btf_id_sock_common_types = { { PTR_TO_SOCK_COMMON, PTR_TO_SOCKET, PTR_TO_TCP_SOCK,
							     PTR_TO_XDP_SOCK, PTR_TO_BTF_ID,
							     PTR_TO_BTF_ID | PTR_TRUSTED } };
static const struct reg_types mem_types = { { PTR_TO_STACK, PTR_TO_PACKET, PTR_TO_PACKET_META, PTR_TO_MAP_KEY,
					      PTR_TO_MAP_VALUE, PTR_TO_MEM, PTR_TO_MEM | MEM_RINGBUF, PTR_TO_BUF,
					      PTR_TO_BTF_ID | PTR_TRUSTED } };
static const struct reg_types spin_lock_types = { { PTR_TO_MAP_VALUE, PTR_TO_BTF_ID | MEM_ALLOC } };
static const struct reg_types fullsock_types = { { PTR_TO_SOCKET } };
static const struct reg_types scalar_types = { { SCALAR_VALUE } };
static const struct reg_types context_types = { { PTR_TO_CTX } };
static const struct reg_types ringbuf_mem_types = { { PTR_TO_MEM | MEM_RINGBUF } };
static const struct reg_types const_map_ptr_types = { { CONST_PTR_TO_MAP } };
static const struct reg_types btf_ptr_types = { { PTR_TO_BTF_ID, PTR_TO_BTF_ID | PTR_TRUSTED, PTR_TO_BTF_ID | MEM_RCU } };
static const struct reg_types percpu_btf_ptr_types = { { PTR_TO_BTF_ID | MEM_PERCPU, PTR_TO_BTF_ID | MEM_PERCPU | MEM_RCU,
							 PTR_TO_BTF_ID | MEM_PERCPU | PTR_TRUSTED } };
static const struct reg_types func_ptr_types = { { PTR_TO_FUNC } };
static const struct reg_types stack_ptr_types = { { PTR_TO_STACK } };
static const struct reg_types const_str_ptr_types = { { PTR_TO_MAP_VALUE } };
static const struct reg_types timer_types = { { PTR_TO_MAP_VALUE } };
static const struct reg_types kptr_xchg_dest_types = { { PTR_TO_MAP_VALUE, PTR_TO_BTF_ID | MEM_ALLOC } };
static const struct reg_types dynptr_types = { { PTR_TO_STACK, CONST_PTR_TO_DYNPTR } };

static const struct reg_types *const compatible_reg_types[__BPF_ARG_TYPE_MAX] = {
	[ARG_PTR_TO_MAP_KEY] = &mem_types,
	[ARG_PTR_TO_MAP_VALUE] = &mem_types,
	[ARG_CONST_SIZE] = &scalar_types,
	[ARG_CONST_SIZE_OR_ZERO] = &scalar_types,
	[ARG_CONST_ALLOC_SIZE_OR_ZERO] = &scalar_types,
	[ARG_CONST_MAP_PTR] = &const_map_ptr_types,
	[ARG_PTR_TO_CTX] = &context_types,
	[ARG_PTR_TO_SOCK_COMMON] = &sock_types,
	[ARG_PTR_TO_BTF_ID_SOCK_COMMON] = &btf_id_sock_common_types,
	[ARG_PTR_TO_SOCKET] = &fullsock_types,
	[ARG_PTR_TO_BTF_ID] = &btf_ptr_types,
	[ARG_PTR_TO_SPIN_LOCK] = &spin_lock_types,
	[ARG_PTR_TO_MEM] = &mem_types,
	[ARG_PTR_TO_RINGBUF_MEM] = &ringbuf_mem_types,
	[ARG_PTR_TO_PERCPU_BTF_ID] = &percpu_btf_ptr_types,
	[ARG_PTR_TO_FUNC] = &func_ptr_types,
	[ARG_PTR_TO_STACK] = &stack_ptr_types,
	[ARG_PTR_TO_CONST_STR] = &const_str_ptr_types,
	[ARG_PTR_TO_TIMER] = &timer_types,
	[ARG_KPTR_XCHG_DEST] = &kptr_xchg_dest_types,
	[ARG_PTR_TO_DYNPTR] = &dynptr_types,
};

static int check_reg_type(struct venv *env, __u32 regno, __u32 arg_type, const char *arg_btf,
			  struct call_meta *meta)
{
	struct vreg *reg = &cur_regs(env)[regno];
	__u32 type = reg->type;
	const struct reg_types *compatible = compatible_reg_types[base_type(arg_type)];
	int i, j;

	if (!compatible) {
		verbose(env, "verifier bug: unsupported arg type %d\n", arg_type);
		return -EFAULT;
	}
	if (arg_type & MEM_RDONLY)
		type &= ~MEM_RDONLY;
	if (arg_type & PTR_MAYBE_NULL)
		type &= ~PTR_MAYBE_NULL;
	if (base_type(arg_type) == ARG_PTR_TO_MEM)
		type &= ~DYNPTR_TYPE_FLAG_MASK;
	if (meta->func_id == BPF_FUNC_kptr_xchg && (type & MEM_ALLOC) && regno == BPF_REG_2)
		type &= ~(MEM_ALLOC | MEM_PERCPU);
	for (i = 0; i < NT; i++) {
		__u32 expected = compatible->types[i];
		if (expected == NOT_INIT)
			break;
		if (type == expected)
			goto found;
	}
	verbose(env, "R%d type=%s expected=", regno, reg_type_str(env, reg->type));
	for (j = 0; j + 1 < i; j++)
		verbose(env, "%s, ", reg_type_str(env, compatible->types[j]));
	verbose(env, "%s\n", reg_type_str(env, compatible->types[j]));
	return -EACCES;
found:
	if (base_type(reg->type) != PTR_TO_BTF_ID)
		return 0;
	if (compatible == &mem_types) {
		if (!(arg_type & MEM_RDONLY)) {
			verbose(env, "%s() may write into memory pointed by R%d type=%s\n", func_id_name(meta->func_id), regno,
				reg_type_str(env, reg->type));
			return -EACCES;
		}
		return 0;
	}
	switch (reg->type) {
	case PTR_TO_BTF_ID: case PTR_TO_BTF_ID | PTR_TRUSTED: case PTR_TO_BTF_ID | PTR_TRUSTED | PTR_MAYBE_NULL:
	case PTR_TO_BTF_ID | MEM_RCU: case PTR_TO_BTF_ID | PTR_MAYBE_NULL:
	case PTR_TO_BTF_ID | PTR_MAYBE_NULL | MEM_RCU: {
		bool release = arg_type & OBJ_RELEASE;
		if (type_may_be_null(reg->type) && (!type_may_be_null(arg_type) || release)) {
			verbose(env, "Possibly NULL pointer passed to helper arg%d\n", regno);
			return -EACCES;
		}
		if (meta->func_id == BPF_FUNC_kptr_xchg) {
			if (meta->kptr_field && map_kptr_match_type(env, meta->kptr_field, reg, regno))
				return -EACCES;
			break;
		}
		const char *want = arg_btf;
		if (!want && compatible == &btf_id_sock_common_types)
			want = "sock_common";
		if (want && env->kbtf && reg->btf) {
			__s32 need = kbtf_find_by_name_kind(env->kbtf, want, BTF_KIND_STRUCT);
			bool strict = release && meta->func_id != BPF_FUNC_sk_release;
			if (need > 0 && !kbtf_struct_ids_match(env->kbtf, reg->btf_id, reg->off, (__u32)need, strict)) {
				verbose(env, "R%d is of type %s but %s is expected\n", regno,
					kbtf_type_name(env->kbtf, reg->btf_id), want);
				return -EACCES;
			}
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

int check_func_arg_reg_off(struct venv *env, const struct vreg *reg, int regno, __u32 arg_type)
{
	if (arg_type & OBJ_RELEASE) {
		if (base_type(arg_type) == ARG_PTR_TO_DYNPTR && reg->type == PTR_TO_STACK)
			return 0;
		if (reg->off) {
			verbose(env, "R%d must have zero offset when passed to release func or trusted arg to kfunc\n", regno);
			return -EINVAL;
		}
		return __check_ptr_off_reg(env, reg, regno, false);
	}
	switch (reg->type) {
	case PTR_TO_STACK: case PTR_TO_PACKET: case PTR_TO_PACKET_META: case PTR_TO_MAP_KEY: case PTR_TO_MAP_VALUE:
	case PTR_TO_MEM: case PTR_TO_MEM | MEM_RDONLY: case PTR_TO_MEM | MEM_RINGBUF: case PTR_TO_BUF:
	case PTR_TO_BUF | MEM_RDONLY: case PTR_TO_ARENA: case SCALAR_VALUE:
		return 0;
	case PTR_TO_BTF_ID: case PTR_TO_BTF_ID | MEM_ALLOC: case PTR_TO_BTF_ID | PTR_TRUSTED: case PTR_TO_BTF_ID | MEM_RCU:
	case PTR_TO_BTF_ID | MEM_ALLOC | NON_OWN_REF: case PTR_TO_BTF_ID | MEM_ALLOC | NON_OWN_REF | MEM_RCU:
		return __check_ptr_off_reg(env, reg, regno, true);
	default:
		return __check_ptr_off_reg(env, reg, regno, false);
	}
}

/* ARG_PTR_TO_CONST_STR: a zero-terminated string in a read-only map */
static int check_reg_const_str(struct venv *env, struct vreg *reg, __u32 regno)
{
	const struct vmap *map = reg->map_ptr;
	if (reg->type != PTR_TO_MAP_VALUE)
		return -EINVAL;
	if (!map_is_rdonly(map)) {
		verbose(env, "R%d does not point to a readonly map'\n", regno);
		return -EACCES;
	}
	if (!tnum_is_const(reg->var_off)) {
		verbose(env, "R%d is not a constant address'\n", regno);
		return -EACCES;
	}
	if (!map_direct_value_ok(map)) {
		verbose(env, "no direct value access support for this map type\n");
		return -EACCES;
	}
	int err = check_map_access(env, regno, reg->off, (int)map->value_size - reg->off, false, ACCESS_HELPER);
	if (err)
		return err;
	int map_off = reg->off + (int)reg->var_off.value;
	for (int i = map_off; i < (int)map->value_size; i++) {
		__u64 c;
		if (map_direct_read(map, i, 1, &c, false)) {
			verbose(env, "direct value access on string failed\n");
			return -EFAULT;
		}
		if (!c)
			return 0;
	}
	verbose(env, "string is not zero-terminated\n");
	return -EINVAL;
}

static int get_constant_map_key(struct venv *env, struct vreg *key, __u32 key_size, __s64 *value)
{
	if (!env->bpf_capable || key->type != PTR_TO_STACK || !tnum_is_const(key->var_off))
		return -EOPNOTSUPP;
	struct vfunc *state = func_of(env, key);
	int stack_off = key->off + (int)key->var_off.value, slot = -stack_off - 1, spi = slot / BPF_REG_SIZE,
	    off = slot % BPF_REG_SIZE, zero_size = 0, spill_size = 0;
	__u8 *stype = state->stack[spi].slot_type;
	for (int i = off; i >= 0 && stype[i] == STACK_ZERO; i--)
		zero_size++;
	if (zero_size >= (int)key_size) {
		*value = 0;
		return 0;
	}
	if (!is_spilled_scalar_reg(&state->stack[spi]))
		return -EOPNOTSUPP;
	for (int i = off; i >= 0 && stype[i] == STACK_SPILL; i--)
		spill_size++;
	if (spill_size != (int)key_size)
		return -EOPNOTSUPP;
	struct vreg *reg = &state->stack[spi].spilled_ptr;
	if (!tnum_is_const(reg->var_off))
		return -EOPNOTSUPP;
	bt_set_frame_slot(&env->bt, key->frameno, (__u32)spi);
	int err = mark_chain_precision_batch(env, env->cur_state);
	if (err < 0)
		return err;
	*value = (__s64)reg->var_off.value;
	return 0;
}

static int process_spin_lock(struct venv *env, int regno, bool is_lock)
{
	struct vreg *reg = &cur_regs(env)[regno];
	struct vstate *cur = env->cur_state;
	__u64 val = reg->var_off.value;
	if (!tnum_is_const(reg->var_off)) {
		verbose(env, "R%d doesn't have constant offset. %s_lock has to be at the constant offset\n", regno,
			"bpf_spin");
		return -EINVAL;
	}
	const struct vmap *map = reg->map_ptr;
	if (reg->type == PTR_TO_MAP_VALUE && !map->btf_value_type_id) {
		verbose(env, "map '%s' has to have BTF in order to use %s_lock\n", map->name, "bpf_spin");
		return -EINVAL;
	}
	if (reg->type != PTR_TO_MAP_VALUE || map->spin_lock_off < 0) {
		verbose(env, "%s '%s' has no valid %s_lock\n", reg->type == PTR_TO_MAP_VALUE ? "map" : "local",
			reg->type == PTR_TO_MAP_VALUE ? map->name : "kptr", "bpf_spin");
		return -EINVAL;
	}
	if ((__u64)map->spin_lock_off != val + (__u64)(__s64)reg->off) {
		verbose(env, "off %lld doesn't point to 'struct %s_lock' that is at %d\n", (long long)(val + reg->off),
			"bpf_spin", map->spin_lock_off);
		return -EINVAL;
	}
	if (is_lock) {
		if (cur->active_locks) {
			verbose(env, "Locking two bpf_spin_locks are not allowed\n");
			return -EINVAL;
		}
		struct vref *r = realloc(cur->refs, (cur->acquired_refs + 1) * sizeof(*r));
		if (!r)
			return -ENOMEM;
		cur->refs = r;
		r = &cur->refs[cur->acquired_refs++];
		memset(r, 0, sizeof(*r));
		r->type = REF_TYPE_LOCK;
		r->id = reg->id;
		r->ptr = map;
		r->insn_idx = env->insn_idx;
		cur->active_locks++;
		cur->active_lock_id = reg->id;
		cur->active_lock_ptr = map;
		return 0;
	}
	if (!cur->active_locks) {
		verbose(env, "%s_unlock without taking a lock\n", "bpf_spin");
		return -EINVAL;
	}
	for (__u32 i = 0; i < cur->acquired_refs; i++) {
		if (cur->refs[i].type == REF_TYPE_LOCK && cur->refs[i].id == reg->id && cur->refs[i].ptr == map) {
			if (reg->id != cur->active_lock_id || (const void *)map != cur->active_lock_ptr) {
				verbose(env, "%s_unlock cannot be out of order\n", "bpf_spin");
				return -EINVAL;
			}
			memmove(&cur->refs[i], &cur->refs[i + 1], (cur->acquired_refs - i - 1) * sizeof(*cur->refs));
			cur->acquired_refs--;
			cur->active_locks--;
			cur->active_lock_id = 0;
			cur->active_lock_ptr = NULL;
			return 0;
		}
	}
	verbose(env, "%s_unlock of different lock\n", "bpf_spin");
	return -EINVAL;
}

static bool can_elide_value_nullness(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* ---- bpf_dynptr on the stack (two slots of STACK_DYNPTR; the first slot's
 * spilled_ptr holds the type, the id slices refer to and, for a ring buffer
 * record's, the reference) ---- */
#define BPF_DYNPTR_SIZE 16
#define BPF_DYNPTR_NR_SLOTS 2

static int dynptr_get_spi(struct venv *env, const struct vreg *reg)
{
	if (!tnum_is_const(reg->var_off)) {
		verbose(env, "%s has to be at a constant offset\n", "dynptr");
		return -EINVAL;
	}
	int off = reg->off + (int)reg->var_off.value;
	if (off % BPF_REG_SIZE) {
		verbose(env, "cannot pass in %s at an offset=%d\n", "dynptr", off);
		return -EINVAL;
	}
	int spi = __get_spi(off);
	if (spi + 1 < BPF_DYNPTR_NR_SLOTS) {
		verbose(env, "cannot pass in %s at an offset=%d\n", "dynptr", off);
		return -EINVAL;
	}
	const struct vfunc *st = func_of(env, reg);
	if (spi - BPF_DYNPTR_NR_SLOTS + 1 < 0 || spi >= st->allocated_stack / BPF_REG_SIZE)
		return -ERANGE;
	return spi;
}

static __u32 arg_to_dynptr_type(__u32 arg_type)
{
	switch (arg_type & DYNPTR_TYPE_FLAG_MASK) {
	case DYNPTR_TYPE_LOCAL: return BPF_DYNPTR_TYPE_LOCAL;
	case DYNPTR_TYPE_RINGBUF: return BPF_DYNPTR_TYPE_RINGBUF;
	case DYNPTR_TYPE_SKB: return BPF_DYNPTR_TYPE_SKB;
	case DYNPTR_TYPE_XDP: return BPF_DYNPTR_TYPE_XDP;
	case DYNPTR_TYPE_SKB_META: return BPF_DYNPTR_TYPE_SKB_META;
	default: return BPF_DYNPTR_TYPE_INVALID;
	}
}

static void mark_dynptr_reg(struct vreg *reg, __u32 type, bool first_slot, __u32 dynptr_id)
{
	__mark_reg_known_zero(reg);
	reg->type = CONST_PTR_TO_DYNPTR;
	reg->id = dynptr_id;
	reg->dynptr.type = type;
	reg->dynptr.first_slot = first_slot;
}

static int mark_stack_slots_dynptr(struct venv *env, const struct vreg *reg, __u32 arg_type, int insn_idx,
				   __u32 clone_ref_obj_id)
{
	struct vfunc *state = func_of(env, reg);
	int spi = dynptr_get_spi(env, reg), err;
	if (spi < 0)
		return spi;
	err = destroy_if_dynptr_stack_slot(env, state, spi);
	if (err)
		return err;
	err = destroy_if_dynptr_stack_slot(env, state, spi - 1);
	if (err)
		return err;
	for (int i = 0; i < BPF_REG_SIZE; i++) {
		state->stack[spi].slot_type[i] = STACK_DYNPTR;
		state->stack[spi - 1].slot_type[i] = STACK_DYNPTR;
	}
	__u32 type = arg_to_dynptr_type(arg_type);
	if (type == BPF_DYNPTR_TYPE_INVALID)
		return -EINVAL;
	__u32 id = ++env->id_gen;
	mark_dynptr_reg(&state->stack[spi].spilled_ptr, type, true, id);
	mark_dynptr_reg(&state->stack[spi - 1].spilled_ptr, type, false, id);
	if (type == BPF_DYNPTR_TYPE_RINGBUF) {
		/* a clone shares its parent's reference */
		int ref = clone_ref_obj_id ? (int)clone_ref_obj_id : acquire_reference(env, insn_idx);
		if (ref < 0)
			return ref;
		state->stack[spi].spilled_ptr.ref_obj_id = (__u32)ref;
		state->stack[spi - 1].spilled_ptr.ref_obj_id = (__u32)ref;
	}
	live_mark_stack_write(env, state->frameno, BIT(spi - 1) | BIT(spi));
	return 0;
}

static void invalidate_dynptr(struct venv *env, struct vfunc *state, int spi)
{
	for (int i = 0; i < BPF_REG_SIZE; i++) {
		state->stack[spi].slot_type[i] = STACK_INVALID;
		state->stack[spi - 1].slot_type[i] = STACK_INVALID;
	}
	__mark_reg_not_init(env, &state->stack[spi].spilled_ptr);
	__mark_reg_not_init(env, &state->stack[spi - 1].spilled_ptr);
	live_mark_stack_write(env, state->frameno, BIT(spi - 1) | BIT(spi));
}

/* a dynptr released by a helper: a ring buffer record's also ends its clones and slices */
static int unmark_stack_slots_dynptr(struct venv *env, const struct vreg *reg)
{
	struct vfunc *state = func_of(env, reg);
	int spi = dynptr_get_spi(env, reg);
	if (spi < 0)
		return spi;
	if (state->stack[spi].spilled_ptr.dynptr.type != BPF_DYNPTR_TYPE_RINGBUF) {
		invalidate_dynptr(env, state, spi);
		return 0;
	}
	__u32 ref_obj_id = state->stack[spi].spilled_ptr.ref_obj_id;
	(void)release_reference(env, ref_obj_id);
	for (int i = 1; i < state->allocated_stack / BPF_REG_SIZE; i++) {
		if (state->stack[i].spilled_ptr.ref_obj_id != ref_obj_id)
			continue;
		if (state->stack[i].slot_type[0] != STACK_DYNPTR) {
			verbose(env, "verifier bug: misconfigured ref_obj_id\n");
			return -EFAULT;
		}
		if (state->stack[i].spilled_ptr.dynptr.first_slot)
			invalidate_dynptr(env, state, i);
	}
	return 0;
}

static bool is_dynptr_reg_valid_uninit(struct venv *env, const struct vreg *reg)
{
	if (reg->type == CONST_PTR_TO_DYNPTR)
		return false;
	int spi = dynptr_get_spi(env, reg);
	return spi >= 0 || spi == -ERANGE;
}

static bool is_dynptr_reg_valid_init(struct venv *env, const struct vreg *reg)
{
	if (reg->type == CONST_PTR_TO_DYNPTR)
		return true;
	const struct vfunc *state = func_of(env, reg);
	int spi = dynptr_get_spi(env, reg);
	if (spi < 0 || !state->stack[spi].spilled_ptr.dynptr.first_slot)
		return false;
	for (int i = 0; i < BPF_REG_SIZE; i++)
		if (state->stack[spi].slot_type[i] != STACK_DYNPTR || state->stack[spi - 1].slot_type[i] != STACK_DYNPTR)
			return false;
	return true;
}

static bool is_dynptr_type_expected(struct venv *env, const struct vreg *reg, __u32 arg_type)
{
	if (arg_type == ARG_PTR_TO_DYNPTR)
		return true;
	__u32 type = arg_to_dynptr_type(arg_type);
	if (reg->type == CONST_PTR_TO_DYNPTR)
		return reg->dynptr.type == type;
	int spi = dynptr_get_spi(env, reg);
	return spi >= 0 && func_of(env, reg)->stack[spi].spilled_ptr.dynptr.type == type;
}

static int mark_dynptr_read(struct venv *env, const struct vreg *reg)
{
	if (reg->type == CONST_PTR_TO_DYNPTR)
		return 0;
	int spi = dynptr_get_spi(env, reg);
	if (spi < 0)
		return spi;
	for (int i = 0; i < BPF_DYNPTR_NR_SLOTS; i++) {
		int err = live_mark_stack_read(env, reg->frameno, (__u32)env->insn_idx, BIT(spi - i));
		if (err)
			return err;
		mark_stack_slot_scratched(env, (__u32)(spi - i));
	}
	return 0;
}

/* process_dynptr_func(): MEM_UNINIT makes a dynptr in 16 bytes of stack, otherwise one must be there */
int process_dynptr_func(struct venv *env, __u32 regno, int insn_idx, __u32 arg_type, __u32 clone_ref_obj_id)
{
	struct vreg *reg = &cur_regs(env)[regno];
	if (reg->type != PTR_TO_STACK && reg->type != CONST_PTR_TO_DYNPTR) {
		verbose(env, "arg#%d expected pointer to stack or const struct bpf_dynptr\n", regno - 1);
		return -EINVAL;
	}
	if (arg_type & MEM_UNINIT) {
		if (!is_dynptr_reg_valid_uninit(env, reg)) {
			verbose(env, "Dynptr has to be an uninitialized dynptr\n");
			return -EINVAL;
		}
		for (int i = 0; i < BPF_DYNPTR_SIZE; i += 8) {
			int err = check_mem_access(env, insn_idx, regno, i, BPF_DW, BPF_WRITE, -1, false, false);
			if (err)
				return err;
		}
		return mark_stack_slots_dynptr(env, reg, arg_type, insn_idx, clone_ref_obj_id);
	}
	if (reg->type == CONST_PTR_TO_DYNPTR && !(arg_type & MEM_RDONLY)) {
		verbose(env, "cannot pass pointer to const bpf_dynptr, the helper mutates it\n");
		return -EINVAL;
	}
	if (!is_dynptr_reg_valid_init(env, reg)) {
		verbose(env, "Expected an initialized dynptr as arg #%d\n", regno - 1);
		return -EINVAL;
	}
	if (!is_dynptr_type_expected(env, reg, arg_type & ~MEM_RDONLY)) {
		verbose(env, "Expected a dynptr of type %s as arg #%d\n", dynptr_type_str(arg_to_dynptr_type(arg_type)),
			regno - 1);
		return -EINVAL;
	}
	return mark_dynptr_read(env, reg);
}

/* an initialized dynptr's id, type and reference (dynptr_id(), dynptr_get_type(), dynptr_ref_obj_id()) */
int dynptr_reg_info(struct venv *env, const struct vreg *reg, __u32 *id, __u32 *type, __u32 *ref_obj_id)
{
	const struct vreg *d = reg;
	if (reg->type != CONST_PTR_TO_DYNPTR) {
		int spi = dynptr_get_spi(env, reg);
		if (spi < 0)
			return spi;
		d = &func_of(env, reg)->stack[spi].spilled_ptr;
	}
	*id = d->id;
	*type = d->dynptr.type;
	*ref_obj_id = d->ref_obj_id;
	return 0;
}

__u32 dynptr_type_flag(__u32 type)
{
	switch (type) {
	case BPF_DYNPTR_TYPE_LOCAL: return DYNPTR_TYPE_LOCAL;
	case BPF_DYNPTR_TYPE_RINGBUF: return DYNPTR_TYPE_RINGBUF;
	case BPF_DYNPTR_TYPE_SKB: return DYNPTR_TYPE_SKB;
	case BPF_DYNPTR_TYPE_XDP: return DYNPTR_TYPE_XDP;
	case BPF_DYNPTR_TYPE_SKB_META: return DYNPTR_TYPE_SKB_META;
	default: return 0;
	}
}

/* the dynptr a helper's slice comes from: its id and reference */
static int dynptr_ids(struct venv *env, const struct helper_proto *fn, __u32 *id, __u32 *ref_obj_id)
{
	const struct vreg *reg = NULL;
	for (int i = 0; i < MAX_BPF_FUNC_REG_ARGS; i++)
		if (base_type(fn->arg_type[i]) == ARG_PTR_TO_DYNPTR)
			reg = &cur_regs(env)[BPF_REG_1 + i];
	if (!reg)
		return -EFAULT;
	if (reg->type == CONST_PTR_TO_DYNPTR) {
		*id = reg->id;
		*ref_obj_id = reg->ref_obj_id;
		return 0;
	}
	int spi = dynptr_get_spi(env, reg);
	if (spi < 0)
		return spi;
	*id = func_of(env, reg)->stack[spi].spilled_ptr.id;
	*ref_obj_id = func_of(env, reg)->stack[spi].spilled_ptr.ref_obj_id;
	return 0;
}

static int check_func_arg(struct venv *env, __u32 arg, struct call_meta *meta, const struct helper_proto *fn)
{
	__u32 regno = BPF_REG_1 + arg;
	struct vreg *regs = cur_regs(env), *reg = &regs[regno];
	__u32 arg_type = fn->arg_type[arg];
	int err;

	if (arg_type == ARG_DONTCARE)
		return 0;
	err = check_reg_arg(env, regno, SRC_OP);
	if (err)
		return err;
	if (arg_type == ARG_ANYTHING) {
		if (is_pointer_value(env, (int)regno)) {
			verbose(env, "R%d leaks addr into helper function\n", regno);
			return -EACCES;
		}
		return 0;
	}
	if (reg_is_pkt_pointer(reg) && !may_access_direct_pkt_data(env, meta, BPF_READ)) {
		verbose(env, "helper access to the packet is not allowed\n");
		return -EACCES;
	}
	if (base_type(arg_type) == ARG_PTR_TO_MAP_VALUE) {
		if (!meta->map_ptr) {
			verbose(env, "verifier bug: invalid map_ptr to access map->type\n");
			return -EFAULT;
		}
		switch (meta->map_ptr->type) {
		case BPF_MAP_TYPE_SOCKMAP: case BPF_MAP_TYPE_SOCKHASH:
			if (arg_type == ARG_PTR_TO_MAP_VALUE) {
				arg_type = ARG_PTR_TO_BTF_ID_SOCK_COMMON;
			} else {
				verbose(env, "invalid arg_type for sockmap/sockhash\n");
				return -EINVAL;
			}
			break;
		case BPF_MAP_TYPE_BLOOM_FILTER:
			if (meta->func_id == BPF_FUNC_map_peek_elem)
				arg_type = ARG_PTR_TO_MAP_VALUE;
			break;
		}
	}
	if (register_is_null(reg) && type_may_be_null(arg_type))
		goto skip_type_check;
	err = check_reg_type(env, regno, arg_type, fn->arg_btf[arg], meta);
	if (err)
		return err;
	err = check_func_arg_reg_off(env, reg, (int)regno, arg_type);
	if (err)
		return err;
skip_type_check:
	if (arg_type & OBJ_RELEASE) {
		if (base_type(arg_type) == ARG_PTR_TO_DYNPTR) {
			if (reg->type == PTR_TO_STACK) {
				int spi = dynptr_get_spi(env, reg);
				if (spi < 0 || !func_of(env, reg)->stack[spi].spilled_ptr.ref_obj_id) {
					verbose(env, "arg %d is an unacquired reference\n", regno);
					return -EINVAL;
				}
			} else {
				verbose(env, "cannot release unowned const bpf_dynptr\n");
				return -EINVAL;
			}
		} else if (!reg->ref_obj_id && !register_is_null(reg)) {
			verbose(env, "R%d must be referenced when passed to release function\n", regno);
			return -EINVAL;
		}
		if (meta->release_regno) {
			verbose(env, "verifier bug: more than one release argument\n");
			return -EFAULT;
		}
		meta->release_regno = (__u8)regno;
	}
	if (reg->ref_obj_id && base_type(arg_type) != ARG_KPTR_XCHG_DEST) {
		if (meta->ref_obj_id) {
			verbose(env, "more than one arg with ref_obj_id R%d %u %u", regno, reg->ref_obj_id, meta->ref_obj_id);
			return -EACCES;
		}
		meta->ref_obj_id = reg->ref_obj_id;
	}

	switch (base_type(arg_type)) {
	case ARG_CONST_MAP_PTR:
		if (meta->map_ptr && (meta->map_ptr != reg->map_ptr || meta->map_uid != reg->map_uid)) {
			verbose(env, "timer pointer in R1 map_uid=%d doesn't match map pointer in R2 map_uid=%d\n",
				meta->map_uid, reg->map_uid);
			return -EINVAL;
		}
		meta->map_ptr = reg->map_ptr;
		meta->map_uid = reg->map_uid;
		break;
	case ARG_PTR_TO_MAP_KEY:
		if (!meta->map_ptr) {
			verbose(env, "verifier bug: invalid map_ptr to access map->key\n");
			return -EFAULT;
		}
		err = check_helper_mem_access(env, (int)regno, (int)meta->map_ptr->key_size, BPF_READ, false, NULL);
		if (err)
			return err;
		if (can_elide_value_nullness(meta->map_ptr->type)) {
			err = get_constant_map_key(env, reg, meta->map_ptr->key_size, &meta->const_map_key);
			if (err < 0) {
				meta->const_map_key = -1;
				if (err != -EOPNOTSUPP)
					return err;
				err = 0;
			}
		}
		break;
	case ARG_PTR_TO_MAP_VALUE:
		if (type_may_be_null(arg_type) && register_is_null(reg))
			return 0;
		if (!meta->map_ptr) {
			verbose(env, "verifier bug: invalid map_ptr to access map->value\n");
			return -EFAULT;
		}
		meta->raw_mode = arg_type & MEM_UNINIT;
		err = check_helper_mem_access(env, (int)regno, (int)meta->map_ptr->value_size,
					      arg_type & MEM_WRITE ? BPF_WRITE : BPF_READ, false, meta);
		break;
	case ARG_PTR_TO_PERCPU_BTF_ID:
		if (!reg->btf_id) {
			verbose(env, "Helper has invalid btf_id in R%d\n", regno);
			return -EACCES;
		}
		meta->ret_btf = reg->btf;
		meta->ret_btf_id = reg->btf_id;
		break;
	case ARG_PTR_TO_SPIN_LOCK:
		if (meta->func_id == BPF_FUNC_spin_lock)
			err = process_spin_lock(env, (int)regno, true);
		else
			err = process_spin_lock(env, (int)regno, false);
		if (err)
			return err;
		break;
	case ARG_PTR_TO_TIMER:
		if (!tnum_is_const(reg->var_off)) {
			verbose(env, "R%d doesn't have constant offset. %s has to be at the constant offset\n", regno,
				"bpf_timer");
			return -EINVAL;
		}
		if (!reg->map_ptr->btf_value_type_id) {
			verbose(env, "map '%s' has to have BTF in order to use %s\n", reg->map_ptr->name, "bpf_timer");
			return -EINVAL;
		}
		const struct emu_map_field *tf = NULL;
		for (__u32 i = 0; i < reg->map_ptr->nr_fields && !tf; i++)
			if (reg->map_ptr->fields[i].type == EMU_FIELD_TIMER)
				tf = &reg->map_ptr->fields[i];
		if (!tf) {
			verbose(env, "map '%s' has no valid %s\n", reg->map_ptr->name, "bpf_timer");
			return -EINVAL;
		}
		if ((__u64)tf->off != reg->var_off.value + (__u64)(__s64)reg->off) {
			verbose(env, "off %lld doesn't point to 'struct %s' that is at %d\n",
				(long long)(reg->var_off.value + (__u64)(__s64)reg->off), "bpf_timer", (int)tf->off);
			return -EINVAL;
		}
		if (meta->map_ptr) {
			verbose(env, "verifier bug: Two map pointers in a timer helper\n");
			return -EFAULT;
		}
		meta->map_uid = reg->map_uid;
		meta->map_ptr = reg->map_ptr;
		break;
	case ARG_PTR_TO_FUNC:
		meta->subprogno = reg->subprogno;
		break;
	case ARG_KPTR_XCHG_DEST:
		/* process_kptr_func(): the field of the map value's record it points to */
		if (reg->type == PTR_TO_MAP_VALUE) {
			if (!reg->map_ptr->btf_id) {
				verbose(env, "map '%s' has to have BTF in order to use bpf_kptr_xchg\n", reg->map_ptr->name);
				return -EINVAL;
			}
			meta->map_ptr = reg->map_ptr;
		} else {
			/* a local kptr (bpf_obj_new's) as the destination: not modelled */
			verbose(env, "R%u has no valid kptr\n", regno);
			return -EINVAL;
		}
		if (!tnum_is_const(reg->var_off)) {
			verbose(env, "R%u doesn't have constant offset. kptr has to be at the constant offset\n", regno);
			return -EINVAL;
		}
		if (!(reg->map_ptr->special & EMU_FIELD_KPTR)) {
			verbose(env, "R%u has no valid kptr\n", regno);
			return -EINVAL;
		}
		{
			__u32 koff = (__u32)((__u64)(__s64)reg->off + reg->var_off.value);
			const struct emu_map_field *kf = map_field_at(reg->map_ptr, koff, EMU_FIELD_KPTR);
			if (!kf) {
				verbose(env, "off=%d doesn't point to kptr\n", (int)koff);
				return -EACCES;
			}
			if (kf->type != EMU_FIELD_KPTR_REF && kf->type != EMU_FIELD_KPTR_PERCPU) {
				verbose(env, "off=%d kptr isn't referenced kptr\n", (int)koff);
				return -EACCES;
			}
			meta->kptr_field = kf;
		}
		break;
	case ARG_PTR_TO_MEM:
		meta->raw_mode = arg_type & MEM_UNINIT;
		if (arg_type & MEM_FIXED_SIZE) {
			err = check_helper_mem_access(env, (int)regno, (int)fn->arg_size[arg],
						      arg_type & MEM_WRITE ? BPF_WRITE : BPF_READ, false, meta);
			if (err)
				return err;
			if (arg_type & MEM_ALIGNED)
				err = check_ptr_alignment(env, reg, 0, (int)fn->arg_size[arg], true);
		}
		break;
	case ARG_CONST_SIZE:
		err = check_mem_size_reg(env, reg, regno, fn->arg_type[arg - 1] & MEM_WRITE ? BPF_WRITE : BPF_READ, false,
					 meta);
		break;
	case ARG_CONST_SIZE_OR_ZERO:
		err = check_mem_size_reg(env, reg, regno, fn->arg_type[arg - 1] & MEM_WRITE ? BPF_WRITE : BPF_READ, true,
					 meta);
		break;
	case ARG_PTR_TO_DYNPTR:
		err = process_dynptr_func(env, regno, env->insn_idx, arg_type, 0);
		if (err)
			return err;
		break;
	case ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (!tnum_is_const(reg->var_off)) {
			verbose(env, "R%d is not a known constant'\n", regno);
			return -EACCES;
		}
		meta->mem_size = (int)reg->var_off.value;
		err = mark_chain_precision(env, (int)regno);
		if (err)
			return err;
		break;
	case ARG_PTR_TO_CONST_STR:
		err = check_reg_const_str(env, reg, regno);
		if (err)
			return err;
		break;
	default:
		break;
	}
	return err;
}

static bool may_update_sockmap(struct venv *env, int func_id)
{
	if (func_id != BPF_FUNC_map_update_elem && func_id != BPF_FUNC_map_delete_elem)
		return false;
	switch (env->prog_type) {
	case BPF_PROG_TYPE_TRACING:
		if (env->expected_attach_type == BPF_TRACE_ITER)
			return true;
		break;
	case BPF_PROG_TYPE_SOCK_OPS:
		if (func_id == BPF_FUNC_map_delete_elem)
			return true;
		break;
	case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_XDP: case BPF_PROG_TYPE_SK_REUSEPORT: case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_SK_LOOKUP:
		return true;
	default:
		break;
	}
	verbose(env, "cannot update sockmap in this context\n");
	return false;
}

static int check_map_func_compatibility(struct venv *env, const struct vmap *map, int func_id)
{
	if (!map)
		return 0;
	int f = func_id;
	switch (map->type) {
	case BPF_MAP_TYPE_PROG_ARRAY:
		if (f != BPF_FUNC_tail_call)
			goto error;
		break;
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		if (f != BPF_FUNC_perf_event_read && f != BPF_FUNC_perf_event_output && f != BPF_FUNC_skb_output &&
		    f != BPF_FUNC_perf_event_read_value && f != BPF_FUNC_xdp_output)
			goto error;
		break;
	case BPF_MAP_TYPE_RINGBUF:
		if (f != BPF_FUNC_ringbuf_output && f != BPF_FUNC_ringbuf_reserve && f != BPF_FUNC_ringbuf_query &&
		    f != BPF_FUNC_ringbuf_reserve_dynptr && f != BPF_FUNC_ringbuf_submit_dynptr &&
		    f != BPF_FUNC_ringbuf_discard_dynptr)
			goto error;
		break;
	case BPF_MAP_TYPE_USER_RINGBUF:
		if (f != BPF_FUNC_user_ringbuf_drain)
			goto error;
		break;
	case BPF_MAP_TYPE_STACK_TRACE:
		if (f != BPF_FUNC_get_stackid)
			goto error;
		break;
	case BPF_MAP_TYPE_CGROUP_ARRAY:
		if (f != BPF_FUNC_skb_under_cgroup && f != BPF_FUNC_current_task_under_cgroup)
			goto error;
		break;
	case BPF_MAP_TYPE_CGROUP_STORAGE: case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		if (f != BPF_FUNC_get_local_storage)
			goto error;
		break;
	case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_DEVMAP_HASH:
		if (f != BPF_FUNC_redirect_map && f != BPF_FUNC_map_lookup_elem)
			goto error;
		break;
	case BPF_MAP_TYPE_CPUMAP:
		if (f != BPF_FUNC_redirect_map)
			goto error;
		break;
	case BPF_MAP_TYPE_XSKMAP:
		if (f != BPF_FUNC_redirect_map && f != BPF_FUNC_map_lookup_elem)
			goto error;
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS:
		if (f != BPF_FUNC_map_lookup_elem)
			goto error;
		break;
	case BPF_MAP_TYPE_SOCKMAP:
		if (f != BPF_FUNC_sk_redirect_map && f != BPF_FUNC_sock_map_update && f != BPF_FUNC_msg_redirect_map &&
		    f != BPF_FUNC_sk_select_reuseport && f != BPF_FUNC_map_lookup_elem && !may_update_sockmap(env, f))
			goto error;
		break;
	case BPF_MAP_TYPE_SOCKHASH:
		if (f != BPF_FUNC_sk_redirect_hash && f != BPF_FUNC_sock_hash_update && f != BPF_FUNC_msg_redirect_hash &&
		    f != BPF_FUNC_sk_select_reuseport && f != BPF_FUNC_map_lookup_elem && !may_update_sockmap(env, f))
			goto error;
		break;
	case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:
		if (f != BPF_FUNC_sk_select_reuseport)
			goto error;
		break;
	case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK:
		if (f != BPF_FUNC_map_peek_elem && f != BPF_FUNC_map_pop_elem && f != BPF_FUNC_map_push_elem)
			goto error;
		break;
	case BPF_MAP_TYPE_SK_STORAGE:
		if (f != BPF_FUNC_sk_storage_get && f != BPF_FUNC_sk_storage_delete && f != BPF_FUNC_kptr_xchg)
			goto error;
		break;
	case BPF_MAP_TYPE_INODE_STORAGE:
		if (f != BPF_FUNC_inode_storage_get && f != BPF_FUNC_inode_storage_delete && f != BPF_FUNC_kptr_xchg)
			goto error;
		break;
	case BPF_MAP_TYPE_TASK_STORAGE:
		if (f != BPF_FUNC_task_storage_get && f != BPF_FUNC_task_storage_delete && f != BPF_FUNC_kptr_xchg)
			goto error;
		break;
	case MAP_TYPE_CGRP_STORAGE:
		if (f != FUNC_cgrp_storage_get && f != FUNC_cgrp_storage_delete && f != BPF_FUNC_kptr_xchg)
			goto error;
		break;
	case BPF_MAP_TYPE_BLOOM_FILTER:
		if (f != BPF_FUNC_map_peek_elem && f != BPF_FUNC_map_push_elem)
			goto error;
		break;
	default:
		break;
	}
	switch (f) {
	case BPF_FUNC_tail_call:
		if (map->type != BPF_MAP_TYPE_PROG_ARRAY)
			goto error;
		if (env->subprog_cnt > 1 && false) {
			verbose(env, "mixing of tail_calls and bpf-to-bpf calls is not supported\n");
			return -EINVAL;
		}
		break;
	case BPF_FUNC_perf_event_read: case BPF_FUNC_perf_event_output: case BPF_FUNC_perf_event_read_value:
	case BPF_FUNC_skb_output: case BPF_FUNC_xdp_output:
		if (map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
			goto error;
		break;
	case BPF_FUNC_ringbuf_output: case BPF_FUNC_ringbuf_reserve: case BPF_FUNC_ringbuf_query:
	case BPF_FUNC_ringbuf_reserve_dynptr: case BPF_FUNC_ringbuf_submit_dynptr:
	case BPF_FUNC_ringbuf_discard_dynptr:
		if (map->type != BPF_MAP_TYPE_RINGBUF)
			goto error;
		break;
	case BPF_FUNC_user_ringbuf_drain:
		if (map->type != BPF_MAP_TYPE_USER_RINGBUF)
			goto error;
		break;
	case BPF_FUNC_get_stackid:
		if (map->type != BPF_MAP_TYPE_STACK_TRACE)
			goto error;
		break;
	case BPF_FUNC_current_task_under_cgroup: case BPF_FUNC_skb_under_cgroup:
		if (map->type != BPF_MAP_TYPE_CGROUP_ARRAY)
			goto error;
		break;
	case BPF_FUNC_redirect_map:
		if (map->type != BPF_MAP_TYPE_DEVMAP && map->type != BPF_MAP_TYPE_DEVMAP_HASH &&
		    map->type != BPF_MAP_TYPE_CPUMAP && map->type != BPF_MAP_TYPE_XSKMAP)
			goto error;
		break;
	case BPF_FUNC_sk_redirect_map: case BPF_FUNC_msg_redirect_map: case BPF_FUNC_sock_map_update:
		if (map->type != BPF_MAP_TYPE_SOCKMAP)
			goto error;
		break;
	case BPF_FUNC_sk_redirect_hash: case BPF_FUNC_msg_redirect_hash: case BPF_FUNC_sock_hash_update:
		if (map->type != BPF_MAP_TYPE_SOCKHASH)
			goto error;
		break;
	case BPF_FUNC_get_local_storage:
		if (map->type != BPF_MAP_TYPE_CGROUP_STORAGE && map->type != BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE)
			goto error;
		break;
	case BPF_FUNC_sk_select_reuseport:
		if (map->type != BPF_MAP_TYPE_REUSEPORT_SOCKARRAY && map->type != BPF_MAP_TYPE_SOCKMAP &&
		    map->type != BPF_MAP_TYPE_SOCKHASH)
			goto error;
		break;
	case BPF_FUNC_map_pop_elem:
		if (map->type != BPF_MAP_TYPE_QUEUE && map->type != BPF_MAP_TYPE_STACK)
			goto error;
		break;
	case BPF_FUNC_map_peek_elem: case BPF_FUNC_map_push_elem:
		if (map->type != BPF_MAP_TYPE_QUEUE && map->type != BPF_MAP_TYPE_STACK &&
		    map->type != BPF_MAP_TYPE_BLOOM_FILTER)
			goto error;
		break;
	case BPF_FUNC_map_lookup_percpu_elem:
		if (map->type != BPF_MAP_TYPE_PERCPU_ARRAY && map->type != BPF_MAP_TYPE_PERCPU_HASH &&
		    map->type != BPF_MAP_TYPE_LRU_PERCPU_HASH)
			goto error;
		break;
	case BPF_FUNC_sk_storage_get: case BPF_FUNC_sk_storage_delete:
		if (map->type != BPF_MAP_TYPE_SK_STORAGE)
			goto error;
		break;
	case BPF_FUNC_inode_storage_get: case BPF_FUNC_inode_storage_delete:
		if (map->type != BPF_MAP_TYPE_INODE_STORAGE)
			goto error;
		break;
	case BPF_FUNC_task_storage_get: case BPF_FUNC_task_storage_delete:
		if (map->type != BPF_MAP_TYPE_TASK_STORAGE)
			goto error;
		break;
	case FUNC_cgrp_storage_get: case FUNC_cgrp_storage_delete:
		if (map->type != MAP_TYPE_CGRP_STORAGE)
			goto error;
		break;
	default:
		break;
	}
	return 0;
error:
	verbose(env, "cannot pass map_type %d into func %s#%d\n", map->type, func_id_name(func_id), func_id);
	return -EINVAL;
}

static int record_func_map(struct venv *env, struct call_meta *meta, int func_id, int insn_idx)
{
	struct vaux *aux = &env->aux[insn_idx];
	const struct vmap *map = meta->map_ptr;
	if (func_id != BPF_FUNC_tail_call && func_id != BPF_FUNC_map_lookup_elem && func_id != BPF_FUNC_map_update_elem &&
	    func_id != BPF_FUNC_map_delete_elem && func_id != BPF_FUNC_map_push_elem && func_id != BPF_FUNC_map_pop_elem &&
	    func_id != BPF_FUNC_map_peek_elem && func_id != BPF_FUNC_for_each_map_elem &&
	    func_id != BPF_FUNC_redirect_map && func_id != BPF_FUNC_map_lookup_percpu_elem)
		return 0;
	if (!map) {
		verbose(env, "verifier bug: expected map for helper call\n");
		return -EFAULT;
	}
	if ((map->map_flags & BPF_F_RDONLY_PROG) &&
	    (func_id == BPF_FUNC_map_delete_elem || func_id == BPF_FUNC_map_update_elem ||
	     func_id == BPF_FUNC_map_push_elem || func_id == BPF_FUNC_map_pop_elem)) {
		verbose(env, "write into map forbidden\n");
		return -EACCES;
	}
	if (!aux->map_ptr)
		aux->map_ptr = map;
	else if (aux->map_ptr != map)
		aux->map_ptr_poison = true;
	return 0;
}

#define BPF_MAP_KEY_POISON (1ull << 63)
#define BPF_MAP_KEY_SEEN (1ull << 62)

static int record_func_key(struct venv *env, struct call_meta *meta, int func_id, int insn_idx)
{
	struct vaux *aux = &env->aux[insn_idx];
	struct vreg *reg = &cur_regs(env)[BPF_REG_3];
	const struct vmap *map = meta->map_ptr;
	if (func_id != BPF_FUNC_tail_call)
		return 0;
	if (!map || map->type != BPF_MAP_TYPE_PROG_ARRAY) {
		verbose(env, "expected prog array map for tail call");
		return -EINVAL;
	}
	__u64 val = reg->var_off.value;
	if (!(is_reg_const(reg, false) && val < map->max_entries)) {
		aux->map_key_state = BPF_MAP_KEY_POISON | BPF_MAP_KEY_SEEN;
		return 0;
	}
	int err = mark_chain_precision(env, BPF_REG_3);
	if (err)
		return err;
	if (!(aux->map_key_state & BPF_MAP_KEY_SEEN))
		aux->map_key_state = val | BPF_MAP_KEY_SEEN;
	else if (!(aux->map_key_state & BPF_MAP_KEY_POISON) &&
		 (aux->map_key_state & ~(BPF_MAP_KEY_SEEN | BPF_MAP_KEY_POISON)) != val)
		aux->map_key_state = BPF_MAP_KEY_POISON | BPF_MAP_KEY_SEEN;
	return 0;
}

int check_resource_leak(struct venv *env, bool exception_exit, bool check_lock, const char *prefix)
{
	struct vstate *st = env->cur_state;
	if (check_lock && st->active_locks) {
		verbose(env, "%s cannot be used inside bpf_spin_lock-ed region\n", prefix);
		return -EINVAL;
	}
	if (exception_exit || !cur_func(env)->frameno) {
		bool lingering = false;
		for (__u32 i = 0; i < st->acquired_refs; i++) {
			if (st->refs[i].type != REF_TYPE_PTR)
				continue;
			verbose(env, "Unreleased reference id=%d alloc_insn=%d\n", st->refs[i].id, st->refs[i].insn_idx);
			lingering = true;
		}
		if (lingering) {
			verbose(env, "%s would lead to reference leak\n", prefix);
			return -EINVAL;
		}
	}
	if (check_lock && st->active_irq_id) {
		verbose(env, "%s cannot be used inside bpf_local_irq_save-ed region\n", prefix);
		return -EINVAL;
	}
	if (check_lock && st->active_rcu_lock) {
		verbose(env, "%s cannot be used inside bpf_rcu_read_lock-ed region\n", prefix);
		return -EINVAL;
	}
	if (check_lock && st->active_preempt_locks) {
		verbose(env, "%s cannot be used inside bpf_preempt_disable-ed region\n", prefix);
		return -EINVAL;
	}
	return 0;
}

/* ---- calls into the program: bpf-to-bpf, global functions, callbacks ---- */

typedef int (*set_callee_state_fn)(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx);

static int set_callee_state(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx)
{
	(void)env;
	(void)insn_idx;
	for (int i = BPF_REG_1; i <= BPF_REG_5; i++)
		callee->regs[i] = caller->regs[i];
	return 0;
}

static int setup_func_entry(struct venv *env, int subprog, int callsite, set_callee_state_fn cb, struct vstate *state)
{
	if (state->curframe + 1 >= MAX_CALL_FRAMES) {
		verbose(env, "the call stack of %d frames is too deep\n", state->curframe + 2);
		return -E2BIG;
	}
	if (state->frame[state->curframe + 1]) {
		verbose(env, "verifier bug: Frame %d already allocated\n", state->curframe + 1);
		return -EFAULT;
	}
	struct vfunc *caller = state->frame[state->curframe], *callee = calloc(1, sizeof(*callee));
	if (!callee)
		return -ENOMEM;
	state->frame[state->curframe + 1] = callee;
	init_func_state(env, callee, callsite, (int)state->curframe + 1, subprog);
	int err = cb(env, caller, callee, callsite);
	if (err) {
		free_func_state(callee);
		state->frame[state->curframe + 1] = NULL;
		return err;
	}
	state->curframe++;
	return 0;
}

static void clear_caller_saved_regs(struct venv *env, struct vreg *regs)
{
	for (__u32 i = 0; i < CALLER_SAVED_REGS; i++) {
		mark_reg_not_init(env, regs, i);
		__check_reg_arg(env, regs, i, DST_OP_NO_MARK);
	}
}

/* btf_check_func_arg_match(): what a call passes against a global function's BTF arguments */
int btf_check_subprog_call(struct venv *env, int subprog, struct vreg *regs)
{
	struct vsubprog *sub = &env->subprog[subprog];
	if (!env->nr_finfo)
		return -EINVAL;
	if (sub->unreliable)
		return -EINVAL;
	int ret = btf_prepare_func_args(env, (__u32)subprog);
	if (ret) {
		sub->unreliable = true;
		return ret;
	}
	for (__u32 i = 0; i < sub->arg_cnt; i++) {
		__u32 regno = i + 1, at = sub->arg_type[i];
		struct vreg *reg = &regs[regno];
		if (at == ARG_ANYTHING) {
			if (reg->type != SCALAR_VALUE) {
				verbose(env, "R%d is not a scalar\n", regno);
				ret = -EINVAL;
				break;
			}
		} else if (at & PTR_UNTRUSTED) {
		} else if (at == ARG_PTR_TO_CTX) {
			ret = check_func_arg_reg_off(env, reg, (int)regno, ARG_DONTCARE);
			if (ret < 0)
				break;
			if (reg->type != PTR_TO_CTX) {
				verbose(env, "arg#%u expects pointer to ctx\n", i);
				ret = -EINVAL;
				break;
			}
		} else if (base_type(at) == ARG_PTR_TO_MEM) {
			ret = check_func_arg_reg_off(env, reg, (int)regno, ARG_DONTCARE);
			if (ret < 0)
				break;
			if (check_mem_reg(env, reg, regno, sub->arg_mem_size[i])) {
				ret = -EINVAL;
				break;
			}
			if (!(at & PTR_MAYBE_NULL) && (reg->type & PTR_MAYBE_NULL)) {
				verbose(env, "arg#%u is expected to be non-NULL\n", i);
				ret = -EINVAL;
				break;
			}
		} else if (base_type(at) == ARG_PTR_TO_ARENA) {
			if (reg->type != PTR_TO_ARENA && reg->type != SCALAR_VALUE) {
				verbose(env, "R%d is not a pointer to arena or scalar.\n", regno);
				ret = -EINVAL;
				break;
			}
		} else if (base_type(at) == ARG_PTR_TO_BTF_ID) {
			struct call_meta meta = { 0 };
			if (register_is_null(reg) && type_may_be_null(at))
				continue;
			ret = check_reg_type(env, regno, at, NULL, &meta);
			ret = ret ? ret : check_func_arg_reg_off(env, reg, (int)regno, at);
			if (ret)
				break;
		}
	}
	if (ret)
		sub->unreliable = true;
	return ret;
}

static int push_callback_call(struct venv *env, const struct bpf_insn *insn, int insn_idx, int subprog,
			      set_callee_state_fn cb)
{
	struct vstate *state = env->cur_state;
	struct vfunc *caller = state->frame[state->curframe];
	int err = btf_check_subprog_call(env, subprog, caller->regs);
	if (err == -EFAULT)
		return err;
	env->subprog[subprog].is_cb = true;
	if (is_async_callback_calling_function(insn->imm)) {
		env->subprog[subprog].is_async_cb = true;
		struct vstate *async_cb = push_async_cb(env, (int)env->subprog[subprog].start, insn_idx, subprog, false);
		if (!async_cb)
			return env->push_err;
		struct vfunc *callee = async_cb->frame[0];
		callee->async_entry_cnt = caller->async_entry_cnt + 1;
		return cb(env, caller, callee, insn_idx);
	}
	struct vstate *callback_state = push_stack(env, (int)env->subprog[subprog].start, insn_idx, false);
	if (!callback_state)
		return env->push_err;
	err = setup_func_entry(env, subprog, insn_idx, cb, callback_state);
	if (err)
		return err;
	callback_state->callback_unroll_depth++;
	callback_state->frame[callback_state->curframe - 1]->callback_depth++;
	caller->callback_depth = 0;
	return 0;
}

static int set_map_elem_callback_state(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx)
{
	const struct vmap *map = env->aux[insn_idx].map_ptr;
	switch (map->type) {
	case BPF_MAP_TYPE_HASH: case BPF_MAP_TYPE_LRU_HASH: case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH: case BPF_MAP_TYPE_ARRAY: case BPF_MAP_TYPE_PERCPU_ARRAY:
		break;
	default:
		verbose(env, "callback function not allowed for map\n");
		return -ENOTSUPP;
	}
	callee->regs[BPF_REG_1] = caller->regs[BPF_REG_1];
	callee->regs[BPF_REG_2].type = PTR_TO_MAP_KEY;
	__mark_reg_known_zero(&callee->regs[BPF_REG_2]);
	callee->regs[BPF_REG_2].map_ptr = caller->regs[BPF_REG_1].map_ptr;
	callee->regs[BPF_REG_3].type = PTR_TO_MAP_VALUE;
	__mark_reg_known_zero(&callee->regs[BPF_REG_3]);
	callee->regs[BPF_REG_3].map_ptr = caller->regs[BPF_REG_1].map_ptr;
	callee->regs[BPF_REG_4] = caller->regs[BPF_REG_3];
	__mark_reg_not_init(env, &callee->regs[BPF_REG_5]);
	callee->in_callback_fn = true;
	callee->callback_ret_range = (struct retval_range){ 0, 1 };
	return 0;
}

static int set_loop_callback_state(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx)
{
	(void)insn_idx;
	callee->regs[BPF_REG_1].type = SCALAR_VALUE;
	callee->regs[BPF_REG_2] = caller->regs[BPF_REG_3];
	__mark_reg_not_init(env, &callee->regs[BPF_REG_3]);
	__mark_reg_not_init(env, &callee->regs[BPF_REG_4]);
	__mark_reg_not_init(env, &callee->regs[BPF_REG_5]);
	callee->in_callback_fn = true;
	callee->callback_ret_range = (struct retval_range){ 0, 1 };
	return 0;
}

static int set_timer_callback_state(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx)
{
	(void)insn_idx;
	const struct vmap *map = caller->regs[BPF_REG_1].map_ptr;
	callee->regs[BPF_REG_1].type = CONST_PTR_TO_MAP;
	__mark_reg_known_zero(&callee->regs[BPF_REG_1]);
	callee->regs[BPF_REG_1].map_ptr = map;
	callee->regs[BPF_REG_2].type = PTR_TO_MAP_KEY;
	__mark_reg_known_zero(&callee->regs[BPF_REG_2]);
	callee->regs[BPF_REG_2].map_ptr = map;
	callee->regs[BPF_REG_3].type = PTR_TO_MAP_VALUE;
	__mark_reg_known_zero(&callee->regs[BPF_REG_3]);
	callee->regs[BPF_REG_3].map_ptr = map;
	__mark_reg_not_init(env, &callee->regs[BPF_REG_4]);
	__mark_reg_not_init(env, &callee->regs[BPF_REG_5]);
	callee->in_async_callback_fn = true;
	callee->callback_ret_range = (struct retval_range){ 0, 0 };
	return 0;
}

static int set_find_vma_callback_state(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx)
{
	(void)insn_idx;
	callee->regs[BPF_REG_1] = caller->regs[BPF_REG_1];
	callee->regs[BPF_REG_2].type = PTR_TO_BTF_ID;
	__mark_reg_known_zero(&callee->regs[BPF_REG_2]);
	callee->regs[BPF_REG_2].btf = env->kbtf;
	callee->regs[BPF_REG_2].btf_id =
		env->kbtf ? (__u32)kbtf_find_by_name_kind(env->kbtf, "vm_area_struct", BTF_KIND_STRUCT) : 0;
	callee->regs[BPF_REG_3] = caller->regs[BPF_REG_4];
	__mark_reg_not_init(env, &callee->regs[BPF_REG_4]);
	__mark_reg_not_init(env, &callee->regs[BPF_REG_5]);
	callee->in_callback_fn = true;
	callee->callback_ret_range = (struct retval_range){ 0, 1 };
	return 0;
}

static int set_user_ringbuf_callback_state(struct venv *env, struct vfunc *caller, struct vfunc *callee, int insn_idx)
{
	(void)insn_idx;
	__mark_reg_not_init(env, &callee->regs[BPF_REG_0]);
	__mark_reg_known_zero(&callee->regs[BPF_REG_1]);
	callee->regs[BPF_REG_1].type = CONST_PTR_TO_DYNPTR;
	callee->regs[BPF_REG_1].id = ++env->id_gen;
	callee->regs[BPF_REG_1].dynptr.type = 1; /* BPF_DYNPTR_TYPE_LOCAL */
	callee->regs[BPF_REG_1].dynptr.first_slot = true;
	callee->regs[BPF_REG_2] = caller->regs[BPF_REG_3];
	__mark_reg_not_init(env, &callee->regs[BPF_REG_3]);
	__mark_reg_not_init(env, &callee->regs[BPF_REG_4]);
	__mark_reg_not_init(env, &callee->regs[BPF_REG_5]);
	callee->in_callback_fn = true;
	callee->callback_ret_range = (struct retval_range){ 0, 1 };
	return 0;
}

int check_func_call(struct venv *env, const struct bpf_insn *insn, int *insn_idx)
{
	struct vstate *state = env->cur_state;
	int target = *insn_idx + insn->imm + 1, subprog = find_subprog(env, target);
	if (subprog < 0) {
		verbose(env, "verifier bug: target of func call at insn %d is not a program\n", target);
		return -EFAULT;
	}
	struct vfunc *caller = state->frame[state->curframe];
	int err = btf_check_subprog_call(env, subprog, caller->regs);
	if (err == -EFAULT)
		return err;
	if (subprog_is_global(env, (__u32)subprog)) {
		const char *name = subprog_name(env, (__u32)subprog);
		if (state->active_locks) {
			verbose(env, "global function calls are not allowed while holding a lock,\n"
				     "use static function instead\n");
			return -EINVAL;
		}
		if (env->subprog[subprog].might_sleep &&
		    (state->active_rcu_lock || state->active_preempt_locks || state->active_irq_id ||
		     !(env->sleepable || state->in_sleepable))) {
			verbose(env, "global functions that may sleep are not allowed in non-sleepable context,\n"
				     "i.e., in a RCU/IRQ/preempt-disabled section, or in\n"
				     "a non-sleepable BPF program context\n");
			return -EINVAL;
		}
		if (err) {
			verbose(env, "Caller passes invalid args into func#%d ('%s')\n", subprog, name);
			return err;
		}
		verbose(env, "Func#%d ('%s') is global and assumed valid.\n", subprog, name);
		if (env->subprog[subprog].changes_pkt_data)
			clear_all_pkt_pointers(env);
		env->subprog[subprog].called = true;
		clear_caller_saved_regs(env, caller->regs);
		mark_reg_unknown(env, caller->regs, BPF_REG_0);
		return 0;
	}
	err = setup_func_entry(env, subprog, *insn_idx, set_callee_state, state);
	if (err)
		return err;
	clear_caller_saved_regs(env, caller->regs);
	*insn_idx = (int)env->subprog[subprog].start - 1;
	live_reset_callchain(env);
	if (env->log.level & BPF_LOG_LEVEL) {
		verbose(env, "caller:\n");
		print_verifier_state(env, state, caller->frameno, true);
		verbose(env, "callee:\n");
		print_verifier_state(env, state, state->curframe, true);
	}
	return 0;
}

int prepare_func_exit(struct venv *env, int *insn_idx)
{
	struct vstate *state = env->cur_state;
	struct vfunc *callee = state->frame[state->curframe], *caller;
	struct vreg *r0 = &callee->regs[BPF_REG_0];
	int err;

	if (r0->type == PTR_TO_STACK) {
		verbose(env, "cannot return stack pointer to the caller\n");
		return -EINVAL;
	}
	caller = state->frame[state->curframe - 1];
	if (callee->in_callback_fn) {
		if (r0->type != SCALAR_VALUE) {
			verbose(env, "R0 not a scalar value\n");
			return -EACCES;
		}
		err = mark_chain_precision(env, BPF_REG_0);
		if (err)
			return err;
		if (!(callee->callback_ret_range.minval <= r0->smin_value &&
		      r0->smax_value <= callee->callback_ret_range.maxval)) {
			verbose_invalid_scalar(env, r0, callee->callback_ret_range, "At callback return", "R0");
			return -EINVAL;
		}
	} else {
		caller->regs[BPF_REG_0] = *r0;
	}
	bool in_callback_fn = callee->in_callback_fn;
	*insn_idx = in_callback_fn ? callee->callsite : callee->callsite + 1;
	if (env->log.level & BPF_LOG_LEVEL) {
		verbose(env, "returning from callee:\n");
		print_verifier_state(env, state, callee->frameno, true);
		verbose(env, "to caller at %d:\n", *insn_idx);
		print_verifier_state(env, state, caller->frameno, true);
	}
	free_func_state(callee);
	state->frame[state->curframe--] = NULL;
	struct vstate *prev_st = in_callback_fn ? find_prev_entry(env, state, *insn_idx) : NULL;
	if (prev_st)
		return widen_imprecise_scalars(env, prev_st, state);
	return 0;
}

/* ---- helper calls ---- */

static int do_refine_retval_range(struct venv *env, struct vreg *regs, __u32 ret_type, int func_id,
				  struct call_meta *meta)
{
	struct vreg *r = &regs[BPF_REG_0];
	if (ret_type != RET_INTEGER)
		return 0;
	switch (func_id) {
	case BPF_FUNC_get_stack: case BPF_FUNC_get_task_stack: case BPF_FUNC_probe_read_str:
	case BPF_FUNC_probe_read_kernel_str: case BPF_FUNC_probe_read_user_str:
		r->smax_value = (__s64)meta->msize_max_value;
		r->s32_max_value = (__s32)meta->msize_max_value;
		r->smin_value = -MAX_ERRNO;
		r->s32_min_value = -MAX_ERRNO;
		reg_bounds_sync(r);
		break;
	case BPF_FUNC_get_smp_processor_id: {
		__u32 n = (__u32)emu_possible_cpus() - 1;
		r->umax_value = n;
		r->u32_max_value = n;
		r->smax_value = n;
		r->s32_max_value = (__s32)n;
		r->umin_value = 0;
		r->u32_min_value = 0;
		r->smin_value = 0;
		r->s32_min_value = 0;
		reg_bounds_sync(r);
		break;
	}
	}
	return reg_bounds_sanity_check(env, r, "retval");
}

static int check_get_func_ip(struct venv *env)
{
	if (env->prog_type == BPF_PROG_TYPE_TRACING) {
		__u32 eat = env->expected_attach_type;
		if (eat != BPF_TRACE_FENTRY && eat != BPF_TRACE_FEXIT && eat != BPF_MODIFY_RETURN) {
			verbose(env, "func %s#%d supported only for fentry/fexit/fmod_ret programs\n",
				func_id_name(BPF_FUNC_get_func_ip), BPF_FUNC_get_func_ip);
			return -ENOTSUPP;
		}
		return 0;
	}
	if (env->prog_type == BPF_PROG_TYPE_KPROBE)
		return 0;
	verbose(env, "func %s#%d not supported for program type %d\n", func_id_name(BPF_FUNC_get_func_ip),
		BPF_FUNC_get_func_ip, env->prog_type);
	return -ENOTSUPP;
}

int check_helper_call(struct venv *env, const struct bpf_insn *insn, int *insn_idx_p)
{
	int func_id = insn->imm, insn_idx = *insn_idx_p, err;
	struct call_meta meta;
	struct vreg *regs;

	if (func_id < 0 || func_id >= EMU_BPF_FUNC_MAX_ID) {
		verbose(env, "invalid func %s#%d\n", func_id_name(func_id), func_id);
		return -EINVAL;
	}
	switch (helper_allowed(env, func_id)) {
	case '-':
		verbose(env, "program of this type cannot use helper %s#%d\n", func_id_name(func_id), func_id);
		return -EINVAL;
	case 'g':
		if (!env->gpl) {
			verbose(env, "cannot call GPL-restricted function from non-GPL compatible program\n");
			return -EINVAL;
		}
		break;
	case 'p':
		verbose(env, "helper call is not allowed in probe\n");
		return -EINVAL;
	}
	const struct helper_proto *fn = get_helper_proto(env, func_id);
	if (!helper_proto_allowed(env, fn)) {
		verbose(env, "helper call is not allowed in probe\n");
		return -EINVAL;
	}
	switch (helper_allowed(env, func_id)) {
	case 's':
		if (!(env->sleepable || env->cur_state->in_sleepable)) {
			verbose(env, "helper call might sleep in a non-sleepable prog\n");
			return -EINVAL;
		}
		break;
	}
	bool changes_data = helper_changes_pkt_data(func_id);
	bool might_sleep = helper_allowed(env, func_id) == 's';

	memset(&meta, 0, sizeof(meta));
	meta.pkt_access = fn->pkt_access;
	if (env->cur_state->active_rcu_lock && might_sleep) {
		verbose(env, "sleepable helper %s#%d in rcu_read_lock region\n", func_id_name(func_id), func_id);
		return -EINVAL;
	}
	if (env->cur_state->active_preempt_locks && might_sleep) {
		verbose(env, "sleepable helper %s#%d in non-preemptible region\n", func_id_name(func_id), func_id);
		return -EINVAL;
	}
	meta.func_id = func_id;
	if (!fn->known) {
		/* a helper whose prototype is not written down here: its arguments are read, nothing more */
		for (__u32 i = 0; i < MAX_BPF_FUNC_REG_ARGS; i++)
			(void)i;
	} else {
		for (__u32 i = 0; i < MAX_BPF_FUNC_REG_ARGS; i++) {
			err = check_func_arg(env, i, &meta, fn);
			if (err)
				return err;
		}
	}
	err = record_func_map(env, &meta, func_id, insn_idx);
	if (err)
		return err;
	err = record_func_key(env, &meta, func_id, insn_idx);
	if (err)
		return err;
	for (int i = 0; i < meta.access_size; i++) {
		err = check_mem_access(env, insn_idx, (__u32)meta.regno, i, BPF_B, BPF_WRITE, -1, false, false);
		if (err)
			return err;
	}
	regs = cur_regs(env);
	if (meta.release_regno) {
		err = -EINVAL;
		if (base_type(fn->arg_type[meta.release_regno - BPF_REG_1]) == ARG_PTR_TO_DYNPTR)
			err = unmark_stack_slots_dynptr(env, &regs[meta.release_regno]);
		else if (meta.ref_obj_id)
			err = release_reference(env, meta.ref_obj_id);
		else if (register_is_null(&regs[meta.release_regno]))
			err = 0;
		if (err) {
			verbose(env, "func %s#%d reference has not been acquired before\n", func_id_name(func_id), func_id);
			return err;
		}
	}
	switch (func_id) {
	case BPF_FUNC_tail_call:
		err = check_resource_leak(env, false, true, "tail_call");
		if (err)
			return err;
		break;
	case BPF_FUNC_get_local_storage:
		if (!register_is_null(&regs[BPF_REG_2])) {
			verbose(env, "get_local_storage() doesn't support non-zero flags\n");
			return -EINVAL;
		}
		break;
	case BPF_FUNC_for_each_map_elem:
		err = push_callback_call(env, insn, insn_idx, (int)meta.subprogno, set_map_elem_callback_state);
		break;
	case BPF_FUNC_timer_set_callback:
		err = push_callback_call(env, insn, insn_idx, (int)meta.subprogno, set_timer_callback_state);
		break;
	case BPF_FUNC_find_vma:
		err = push_callback_call(env, insn, insn_idx, (int)meta.subprogno, set_find_vma_callback_state);
		break;
	case BPF_FUNC_loop:
		err = mark_chain_precision(env, BPF_REG_1);
		if (err)
			return err;
		if (cur_func(env)->callback_depth < regs[BPF_REG_1].umax_value) {
			err = push_callback_call(env, insn, insn_idx, (int)meta.subprogno, set_loop_callback_state);
		} else {
			cur_func(env)->callback_depth = 0;
			if (env->log.level & BPF_LOG_LEVEL2)
				verbose(env, "frame%u bpf_loop iteration limit reached\n", env->cur_state->curframe);
		}
		break;
	case BPF_FUNC_dynptr_from_mem:
		if (regs[BPF_REG_1].type != PTR_TO_MAP_VALUE) {
			verbose(env, "Unsupported reg type %s for bpf_dynptr_from_mem data\n",
				reg_type_str(env, regs[BPF_REG_1].type));
			return -EACCES;
		}
		break;
	case BPF_FUNC_dynptr_data: {
		__u32 id = 0, ref = 0;
		if (meta.dynptr_id || meta.ref_obj_id) {
			verbose(env, "verifier bug: meta.%s already set\n", meta.dynptr_id ? "dynptr_id" : "ref_obj_id");
			return -EFAULT;
		}
		if (dynptr_ids(env, fn, &id, &ref) < 0) {
			verbose(env, "verifier bug: failed to obtain dynptr id\n");
			return -EFAULT;
		}
		meta.dynptr_id = id;
		meta.ref_obj_id = ref;
		break;
	}
	case BPF_FUNC_user_ringbuf_drain:
		err = push_callback_call(env, insn, insn_idx, (int)meta.subprogno, set_user_ringbuf_callback_state);
		break;
	}
	if (err)
		return err;

	regs = cur_regs(env);
	for (__u32 i = 0; i < CALLER_SAVED_REGS; i++) {
		mark_reg_not_init(env, regs, i);
		check_reg_arg(env, i, DST_OP_NO_MARK);
	}
	__u32 ret_type = fn->known ? fn->ret_type : RET_INTEGER, ret_flag = type_flag(ret_type);
	switch (base_type(ret_type)) {
	case RET_INTEGER:
		mark_reg_unknown(env, regs, BPF_REG_0);
		break;
	case RET_VOID:
		regs[BPF_REG_0].type = NOT_INIT;
		break;
	case RET_PTR_TO_MAP_VALUE:
		mark_reg_known_zero(env, regs, BPF_REG_0);
		if (!meta.map_ptr) {
			verbose(env, "verifier bug: unexpected null map_ptr\n");
			return -EFAULT;
		}
		if (func_id == BPF_FUNC_map_lookup_elem && can_elide_value_nullness(meta.map_ptr->type) &&
		    meta.const_map_key >= 0 && meta.const_map_key < meta.map_ptr->max_entries)
			ret_flag &= ~PTR_MAYBE_NULL;
		regs[BPF_REG_0].map_ptr = meta.map_ptr;
		regs[BPF_REG_0].map_uid = meta.map_uid;
		regs[BPF_REG_0].type = PTR_TO_MAP_VALUE | ret_flag;
		if (!type_may_be_null(ret_flag) && meta.map_ptr->spin_lock_off >= 0)
			regs[BPF_REG_0].id = ++env->id_gen;
		break;
	case RET_PTR_TO_SOCKET:
		mark_reg_known_zero(env, regs, BPF_REG_0);
		regs[BPF_REG_0].type = PTR_TO_SOCKET | ret_flag;
		break;
	case RET_PTR_TO_SOCK_COMMON:
		mark_reg_known_zero(env, regs, BPF_REG_0);
		regs[BPF_REG_0].type = PTR_TO_SOCK_COMMON | ret_flag;
		break;
	case RET_PTR_TO_TCP_SOCK:
		mark_reg_known_zero(env, regs, BPF_REG_0);
		regs[BPF_REG_0].type = PTR_TO_TCP_SOCK | ret_flag;
		break;
	case RET_PTR_TO_MEM:
		mark_reg_known_zero(env, regs, BPF_REG_0);
		regs[BPF_REG_0].type = PTR_TO_MEM | ret_flag;
		regs[BPF_REG_0].mem_size = (__u32)meta.mem_size;
		break;
	case RET_PTR_TO_MEM_OR_BTF_ID: {
		mark_reg_known_zero(env, regs, BPF_REG_0);
		__u32 size = 0;
		const struct btf_type *t = meta.ret_btf ? kbtf_skip_modifiers(meta.ret_btf, meta.ret_btf_id, NULL) : NULL;
		if (t && BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT && BTF_INFO_KIND(t->info) != BTF_KIND_UNION) {
			if (kbtf_resolve_size(meta.ret_btf, meta.ret_btf_id, &size)) {
				verbose(env, "unable to resolve the size of type '%s': %d\n",
					kbtf_type_name(meta.ret_btf, meta.ret_btf_id), -EINVAL);
				return -EINVAL;
			}
			regs[BPF_REG_0].type = PTR_TO_MEM | ret_flag;
			regs[BPF_REG_0].mem_size = size;
		} else {
			regs[BPF_REG_0].type = PTR_TO_BTF_ID | (ret_flag & ~MEM_RDONLY);
			regs[BPF_REG_0].btf = meta.ret_btf;
			regs[BPF_REG_0].btf_id = meta.ret_btf_id;
		}
		break;
	}
	case RET_PTR_TO_BTF_ID:
		mark_reg_known_zero(env, regs, BPF_REG_0);
		regs[BPF_REG_0].type = PTR_TO_BTF_ID | ret_flag;
		regs[BPF_REG_0].btf = env->kbtf;
		if (func_id == BPF_FUNC_kptr_xchg && meta.kptr_field) {
			/* the field's type: a kernel struct, else a program-local one (MEM_ALLOC) */
			regs[BPF_REG_0].btf_id = meta.kptr_field->kptr_btf_id;
			if (!meta.kptr_field->kptr_kernel) {
				regs[BPF_REG_0].btf = NULL;
				regs[BPF_REG_0].type |= MEM_ALLOC;
				if (meta.kptr_field->type == EMU_FIELD_KPTR_PERCPU)
					regs[BPF_REG_0].type |= MEM_PERCPU;
			}
			break;
		}
		regs[BPF_REG_0].btf_id =
			env->kbtf && fn->ret_btf ? (__u32)kbtf_find_by_name_kind(env->kbtf, fn->ret_btf, BTF_KIND_STRUCT) : 0;
		break;
	default:
		verbose(env, "unknown return type %u of func %s#%d\n", base_type(ret_type), func_id_name(func_id), func_id);
		return -EINVAL;
	}
	if (type_may_be_null(regs[BPF_REG_0].type))
		regs[BPF_REG_0].id = ++env->id_gen;
	if (func_id == BPF_FUNC_dynptr_data)
		regs[BPF_REG_0].dynptr_id = meta.dynptr_id;
	if (is_ptr_cast_function(func_id) || func_id == BPF_FUNC_dynptr_data) {
		regs[BPF_REG_0].ref_obj_id = meta.ref_obj_id;
	} else if (is_acquire_function(func_id, meta.map_ptr)) {
		int id = acquire_reference(env, insn_idx);
		if (id < 0)
			return id;
		regs[BPF_REG_0].id = (__u32)id;
		regs[BPF_REG_0].ref_obj_id = (__u32)id;
	}
	err = do_refine_retval_range(env, regs, ret_type, func_id, &meta);
	if (err)
		return err;
	err = check_map_func_compatibility(env, meta.map_ptr, func_id);
	if (err)
		return err;
	if (func_id == BPF_FUNC_get_func_ip && check_get_func_ip(env))
		return -ENOTSUPP;
	if (changes_data)
		clear_all_pkt_pointers(env);
	return 0;
}
