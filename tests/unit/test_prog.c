/* SPDX-License-Identifier: MIT */
/* tests/unit/test_prog.c: BPF_PROG_LOAD as libbpf's and bpftool's probes use it (emu/prog.c). */
#include "bt.h"

/* r0 = 0; exit */
static struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static long prog_load(__u32 type, const struct bpf_insn *insns, __u32 cnt, const char *license)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = BT_PTR(insns);
	a.insn_cnt = cnt;
	a.license = BT_PTR(license);
	return bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

BT_TEST(load_socket_filter_returns_fd)
{
	long fd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL");
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
	cr_assert(ne(int, fcntl((int)fd, F_GETFD) & FD_CLOEXEC, 0));
	bt_close((int)fd);
}

BT_TEST(load_with_name_returns_fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(ret0);
	a.insn_cnt = 2;
	a.license = BT_PTR("GPL");
	strcpy(a.prog_name, "probe_name");
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
}

BT_TEST(load_non_gpl_socket_filter_returns_fd)
{
	long fd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "MIT");
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
}

BT_TEST(load_empty_program_is_e2big)
{
	/* the kernel checks insn_cnt == 0 together with the upper bound */
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 0, "GPL"), -E2BIG));
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, 0, "GPL"), -E2BIG));
}

BT_TEST(load_without_exit_is_einval)
{
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 1, "GPL"), -EINVAL));
}

BT_TEST(load_exit_without_setting_r0_is_eacces)
{
	/* the verifier: "R0 !read_ok" */
	static const struct bpf_insn exit_only[] = { { .code = BPF_JMP | BPF_EXIT } };
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, exit_only, 1, "GPL"), -EACCES));
}

BT_TEST(load_unknown_type_is_einval)
{
	cr_assert(eq(i64, prog_load(9999, ret0, 2, "GPL"), -EINVAL));
}

BT_TEST(load_too_many_insns_is_e2big)
{
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 1u << 30, "GPL"), -E2BIG));
}

BT_TEST(load_null_insns_is_efault)
{
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, 2, "GPL"), -EFAULT));
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, bt_unmapped_page(), 2, "GPL"), -EFAULT));
}

BT_TEST(load_null_license_is_efault)
{
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, NULL), -EFAULT));
}

BT_TEST(load_unknown_flag_is_einval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(ret0);
	a.insn_cnt = 2;
	a.license = BT_PTR("GPL");
	a.prog_flags = 1u << 30;
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
}

BT_TEST(load_pin_then_get_returns_fd)
{
	long fd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL");
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
	cr_assert(eq(i64, bt_pin((int)fd, "/sys/fs/bpf/prog"), 0));
	long fd2 = bt_get("/sys/fs/bpf/prog", 0);
	cr_assert(ge(i64, fd2, 0), "get: %s", strerror((int)-fd2));
}

BT_TEST(map_op_on_prog_fd_is_einval)
{
	long fd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL");
	cr_assert(ge(i64, fd, 0));
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup((int)fd, &k, &v), -EINVAL));
	cr_assert(eq(i64, bt_update((int)fd, &k, &v, BPF_ANY), -EINVAL));
}

/* ---- helper ids and kfunc calls (check_helper_call, add_kfunc_call) ---- */

static char call_log[4096];

/* call <imm> (src_reg src, off off); r0 = 0; exit, with a level-1 log in call_log */
static long load_call(__u32 type, __u32 attach_type, __u8 src, __s16 off, __s32 imm, const char *license)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .src_reg = src, .off = off, .imm = imm },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach_type;
	a.insns = BT_PTR(insns);
	a.insn_cnt = 3;
	a.license = BT_PTR(license);
	a.log_level = 1;
	a.log_buf = BT_PTR(call_log);
	a.log_size = sizeof(call_log);
	call_log[0] = '\0';
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		bt_close((int)fd);
	return fd >= 0 ? 0 : fd;
}

#define assert_log_has(text) cr_assert(ne(ptr, strstr(call_log, text), NULL), "log lacks \"%s\":\n%s", text, call_log)

BT_TEST(load_call_unknown_helper_is_einval)
{
	/* Linux 6.18: __BPF_FUNC_MAX_ID is 212 (bpf_cgrp_storage_delete is 211) */
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 0, 212, "GPL"), -EINVAL));
	assert_log_has("invalid func unknown#212\n");
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_XDP, 0, 0, 0, -1, "GPL"), -EINVAL));
	assert_log_has("invalid func unknown#-1\n");
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_KPROBE, 0, 0, 0, 100000, "GPL"), -EINVAL));
	assert_log_has("invalid func unknown#100000\n");
}

BT_TEST(load_call_helper_0_is_einval)
{
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 0, 0, "GPL"), -EINVAL));
	assert_log_has("program of this type cannot use helper bpf_unspec#0\n");
}

struct helper_case {
	__u32 type, attach_type;
	int id;
	char license[8];
	long expected;
	char log[80];        /* "": loads (arrays, not pointers: Criterion copies the cases to the test process) */
};

ParameterizedTestParameters(unit, load_call_helper_per_type)
{
	static struct helper_case cases[] = {
		/* allowed, no arguments: loads */
		{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 5 /* ktime_get_ns */, "GPL", 0, "" },
		{ BPF_PROG_TYPE_KPROBE, 0, 14 /* get_current_pid_tgid */, "MIT", 0, "" },
		{ BPF_PROG_TYPE_TRACEPOINT, 0, 8 /* get_smp_processor_id */, "GPL", 0, "" },
		/* not for this program type */
		{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 58, "GPL", -EINVAL,
		  "program of this type cannot use helper bpf_override_return#58\n" },
		{ BPF_PROG_TYPE_XDP, 0, 58, "GPL", -EINVAL,
		  "program of this type cannot use helper bpf_override_return#58\n" },
		{ BPF_PROG_TYPE_XDP, BPF_XDP, 4 /* probe_read */, "GPL", -EINVAL,
		  "program of this type cannot use helper bpf_probe_read#4\n" },
		{ BPF_PROG_TYPE_SCHED_CLS, 0, 51 /* redirect_map */, "GPL", -EINVAL,
		  "program of this type cannot use helper bpf_redirect_map#51\n" },
		{ BPF_PROG_TYPE_TRACEPOINT, 0, 23 /* redirect */, "GPL", -EINVAL,
		  "program of this type cannot use helper bpf_redirect#23\n" },
		/* GPL-only helper from a non-GPL program */
		{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 6 /* trace_printk */, "MIT", -EINVAL,
		  "cannot call GPL-restricted function from non-GPL compatible program\n" },
		{ BPF_PROG_TYPE_KPROBE, 0, 113, "MIT", -EINVAL,
		  "cannot call GPL-restricted function from non-GPL compatible program\n" },
	};
	return cr_make_param_array(struct helper_case, cases, BT_ARRAY_SIZE(cases));
}

ParameterizedTest(struct helper_case *c, unit, load_call_helper_per_type, .init = bt_setup, .fini = bt_teardown)
{
	long r = load_call(c->type, c->attach_type, 0, 0, c->id, c->license);
	cr_assert(eq(i64, r, c->expected), "type %u helper %d: %s\n%s", c->type, c->id, strerror((int)-r), call_log);
	if (c->log[0])
		assert_log_has(c->log);
}

BT_TEST(load_call_unreachable_before_bad_helper)
{
	/* check_cfg() runs before the helper checks: r0 = 0; exit; call 58 (never reached) */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_JMP | BPF_CALL, .imm = 58 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(insns);
	a.insn_cnt = 4;
	a.license = BT_PTR("GPL");
	a.log_level = 1;
	a.log_buf = BT_PTR(call_log);
	a.log_size = sizeof(call_log);
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
	assert_log_has("unreachable insn 2\n");
}

BT_TEST(load_kfunc_call_is_einval)
{
	/* no kernel function behind the id: "is not a function" */
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_SOCKET_FILTER, 0, 2, 0, 12345, "GPL"), -EINVAL));
	assert_log_has("kernel btf_id 12345 is not a function\n");
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_KPROBE, 0, 2, 0, 1, "GPL"), -EINVAL));
	assert_log_has("kernel btf_id 1 is not a function\n");
}

BT_TEST(load_kfunc_call_non_gpl_is_einval)
{
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_SOCKET_FILTER, 0, 2, 0, 12345, "MIT"), -EINVAL));
	assert_log_has("cannot call kernel function from non-GPL compatible program\n");
}

BT_TEST(load_kfunc_call_module_offset_without_fd_array_is_eproto)
{
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_SOCKET_FILTER, 0, 2, 1, 12345, "GPL"), -EPROTO));
	assert_log_has("kfunc offset > 0 without fd_array is invalid\nfailed to find BTF for kernel function\n");
	cr_assert(eq(i64, load_call(BPF_PROG_TYPE_SOCKET_FILTER, 0, 2, -1, 12345, "GPL"), -EINVAL));
	assert_log_has("negative offset disallowed for kernel module function call\n");
}

BT_TEST(load_kfunc_call_before_bad_map_fd)
{
	/* add_subprog_and_kfunc() runs before the map fds are resolved */
	const struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = 999 },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .src_reg = 2, .imm = 12345 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(insns);
	a.insn_cnt = 5;
	a.license = BT_PTR("GPL");
	a.log_level = 1;
	a.log_buf = BT_PTR(call_log);
	a.log_size = sizeof(call_log);
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
	assert_log_has("kernel btf_id 12345 is not a function\n");
}
