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
