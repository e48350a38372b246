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

/* ---- the verifier's front: opcodes, check order, statistics, per-type rules ---- */

#define STATS_TAIL " insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"

static char vlog_buf[8192];

/* A load with a level-1 log in vlog_buf: the fd is closed, the result is 0 or -errno. */
static long load_v(__u32 type, __u32 attach_type, __u32 flags, __u32 btf_id, const char *license,
		   const struct bpf_insn *insns, __u32 cnt)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach_type;
	a.prog_flags = flags;
	a.attach_btf_id = btf_id;
	a.insns = BT_PTR(insns);
	a.insn_cnt = cnt;
	a.license = BT_PTR(license);
	a.log_level = 1;
	a.log_buf = BT_PTR(vlog_buf);
	a.log_size = sizeof(vlog_buf);
	vlog_buf[0] = '\0';
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		bt_close((int)fd);
	return fd >= 0 ? 0 : fd;
}

/* The log ends with tail (the kernel's state dump lines before a walk error are not emulated). */
static bool log_ends_with(const char *tail)
{
	size_t n = strlen(vlog_buf), t = strlen(tail);
	return n >= t && !strcmp(vlog_buf + n - t, tail);
}

/* The codes Linux 6.18 does not call "unknown opcode" (all 256 probed on it). */
static const unsigned char known_opcodes[] = {
	0x04, 0x05, 0x06, 0x07, 0x0c, 0x0f, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
	0x24, 0x25, 0x26, 0x27, 0x28, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x34, 0x35, 0x36, 0x37, 0x3c, 0x3d,
	0x3e, 0x3f, 0x40, 0x44, 0x45, 0x46, 0x47, 0x48, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x54, 0x55, 0x56,
	0x57, 0x5c, 0x5d, 0x5e, 0x5f, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x69, 0x6a, 0x6b, 0x6c,
	0x6d, 0x6e, 0x6f, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e,
	0x7f, 0x81, 0x84, 0x85, 0x87, 0x89, 0x91, 0x94, 0x95, 0x97, 0x9c, 0x9f, 0xa4, 0xa5, 0xa6, 0xa7,
	0xac, 0xad, 0xae, 0xaf, 0xb4, 0xb5, 0xb6, 0xb7, 0xbc, 0xbd, 0xbe, 0xbf, 0xc3, 0xc4, 0xc5, 0xc6,
	0xc7, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xdb, 0xdc, 0xdd, 0xde, 0xe5,
};

BT_TEST(load_opcode_table_is_the_kernels)
{
	for (int c = 0; c < 256; c++) {
		/* r0 = 0; <c>; exit, with operands that keep earlier checks quiet */
		struct bpf_insn p[3] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
			{ .code = (__u8)c },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		__u8 cls = BPF_CLASS(c);
		if ((cls == BPF_ALU || cls == BPF_ALU64) && BPF_OP(c) == BPF_END)
			p[1].imm = 16;
		if (cls == BPF_ST || cls == BPF_STX) {
			p[1].dst_reg = BPF_REG_10;
			p[1].src_reg = BPF_REG_10;
			p[1].off = -8;
		}
		if (cls == BPF_LDX) {
			p[1].dst_reg = BPF_REG_1;
			p[1].src_reg = BPF_REG_10;
			p[1].off = -8;
		}
		bool known = memchr(known_opcodes, c, sizeof(known_opcodes)) != NULL;
		/* LDX modes other than MEM and MEMSX fail earlier, on the reserved fields */
		bool ldx_reserved = cls == BPF_LDX && BPF_MODE(c) != BPF_MEM && BPF_MODE(c) != 0x80;
		char line[32];
		snprintf(line, sizeof(line), "unknown opcode %02x\n", c);
		long r = load_v(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 0, "GPL", p, 3);
		if (ldx_reserved) {
			cr_assert(eq(i64, r, -EINVAL), "code %02x", c);
			cr_assert(eq(str, vlog_buf, "BPF_LDX uses reserved fields\nprocessed 0" STATS_TAIL), "code %02x", c);
		} else if (known) {
			cr_assert(eq(ptr, strstr(vlog_buf, "unknown opcode"), NULL), "code %02x: %s", c, vlog_buf);
		} else {
			cr_assert(eq(i64, r, -EINVAL), "code %02x", c);
			char want[160];
			snprintf(want, sizeof(want), "%sprocessed 0" STATS_TAIL, line);
			cr_assert(eq(str, vlog_buf, want), "code %02x", c);
		}
	}
}

BT_TEST(load_ldx_with_imm_is_reserved_fields)
{
	const struct bpf_insn p[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1, .imm = 5 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 0, "GPL", p, 3), -EINVAL));
	cr_assert(eq(str, vlog_buf, "BPF_LDX uses reserved fields\nprocessed 0" STATS_TAIL));
}

struct order_case {
	char name[40];
	__u32 type, attach_type, flags, btf_id;
	char license[8];
	struct bpf_insn insns[6];
	__u32 cnt;
	long expected;
	char tail[200];   /* the end of the log; all of it when exact */
	bool exact;
};

#define MOV0 { .code = BPF_ALU64 | BPF_MOV | BPF_K }
#define EXIT { .code = BPF_JMP | BPF_EXIT }
#define BADOP { .code = 0xff }
#define LDIMM(d, s, k) { .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = d, .src_reg = s, .imm = k }, { 0 }
#define JA(o) { .code = BPF_JMP | BPF_JA, .off = o }
#define MOVK(d) { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = d }
#define SF BPF_PROG_TYPE_SOCKET_FILTER
#define PRE(msg) msg "processed 0" STATS_TAIL

ParameterizedTestParameters(unit, load_check_order)
{
	static struct order_case cases[] = {
		/* check_subprogs() first: jumps (any op), then the last insn */
		{ "jump range before opcode", SF, 0, 0, 0, "GPL", { BADOP, JA(5), MOV0, EXIT }, 4, -EINVAL,
		  PRE("jump out of range from insn 1 to 7\n"), true },
		{ "bad jump op out of range", SF, 0, 0, 0, "GPL", { MOV0, { .code = 0xf5, .off = 7 }, EXIT }, 3, -EINVAL,
		  PRE("jump out of range from insn 1 to 9\n"), true },
		{ "gotol range from imm", SF, 0, 0, 0, "GPL", { MOV0, { .code = BPF_JMP32 | BPF_JA, .imm = 9 }, EXIT }, 3,
		  -EINVAL, PRE("jump out of range from insn 1 to 11\n"), true },
		{ "last insn before opcode", SF, 0, 0, 0, "GPL", { BADOP, MOV0 }, 2, -EINVAL,
		  PRE("last insn is not an exit or jmp\n"), true },
		{ "last insn before ld_imm64", SF, 0, 0, 0, "GPL", { MOV0, EXIT, { .code = BPF_LD | BPF_IMM | BPF_DW } }, 3,
		  -EINVAL, PRE("last insn is not an exit or jmp\n"), true },
		/* resolve_pseudo_ldimm64(): one pass, instruction order */
		{ "ld_imm64 before later opcode", SF, 0, 0, 0, "GPL", { { .code = BPF_LD | BPF_IMM | BPF_DW }, MOV0, BADOP, EXIT },
		  4, -EINVAL, PRE("invalid bpf_ld_imm64 insn\n"), true },
		{ "opcode before later ld_imm64", SF, 0, 0, 0, "GPL", { BADOP, { .code = BPF_LD | BPF_IMM | BPF_DW }, MOV0, EXIT },
		  4, -EINVAL, PRE("unknown opcode ff\n"), true },
		{ "map fd before later opcode", SF, 0, 0, 0, "GPL", { LDIMM(1, BPF_PSEUDO_MAP_FD, -1), BADOP, MOV0, EXIT }, 5,
		  -EBADF, PRE("fd -1 is not pointing to valid bpf_map\n"), true },
		{ "opcode before later map fd", SF, 0, 0, 0, "GPL", { BADOP, LDIMM(1, BPF_PSEUDO_MAP_FD, -1), MOV0, EXIT }, 5,
		  -EINVAL, PRE("unknown opcode ff\n"), true },
		{ "ld_imm64 unknown source", SF, 0, 0, 0, "GPL", { LDIMM(1, 7, 0), MOV0, EXIT }, 4, -EINVAL,
		  PRE("unrecognized bpf_ld_imm64 insn\n"), true },
		{ "opcode before LDX reserved", SF, 0, 0, 0, "GPL",
		  { BADOP, { .code = BPF_LDX | BPF_IMM | BPF_W, .src_reg = 1 }, MOV0, EXIT }, 4, -EINVAL,
		  PRE("unknown opcode ff\n"), true },
		{ "unknown opcode 00", SF, 0, 0, 0, "GPL", { { .code = 0 }, MOV0, EXIT }, 3, -EINVAL,
		  PRE("unknown opcode 00\n"), true },
		/* check_cfg() after the opcodes */
		{ "opcode before unreachable", SF, 0, 0, 0, "GPL", { MOV0, EXIT, BADOP, EXIT }, 4, -EINVAL,
		  PRE("unknown opcode ff\n"), true },
		{ "unreachable before R11", SF, 0, 0, 0, "GPL", { MOVK(11), MOV0, EXIT, EXIT }, 4, -EINVAL,
		  PRE("unreachable insn 3\n"), true },
		{ "map fd before R11", SF, 0, 0, 0, "GPL", { MOVK(11), LDIMM(1, BPF_PSEUDO_MAP_FD, -1), MOV0, EXIT }, 5,
		  -EBADF, PRE("fd -1 is not pointing to valid bpf_map\n"), true },
		{ "opcode before R11", SF, 0, 0, 0, "GPL", { MOVK(11), BADOP, MOV0, EXIT }, 4, -EINVAL,
		  PRE("unknown opcode ff\n"), true },
		/* do_check(): the instructions processed up to the failing one */
		{ "R11 in the walk", SF, 0, 0, 0, "GPL", { MOV0, MOVK(11), EXIT }, 3, -EINVAL,
		  "R11 is invalid\nprocessed 2" STATS_TAIL, false },
		{ "R11 source in the walk", SF, 0, 0, 0, "GPL",
		  { MOV0, { .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 1, .src_reg = 11 }, EXIT }, 3, -EINVAL,
		  "R11 is invalid\nprocessed 2" STATS_TAIL, false },
		{ "ld_imm64 R12", SF, 0, 0, 0, "GPL", { LDIMM(12, 0, 0), MOV0, EXIT }, 4, -EINVAL,
		  "R12 is invalid\nprocessed 1" STATS_TAIL, false },
		{ "R4 read at insn 2", SF, 0, 0, 0, "GPL",
		  { MOVK(1), MOVK(2), { .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 3, .src_reg = 4 }, EXIT }, 4, -EACCES,
		  "R4 !read_ok\nprocessed 3" STATS_TAIL, false },
		{ "R0 read at exit 3", SF, 0, 0, 0, "GPL", { MOVK(1), MOVK(2), MOVK(3), EXIT }, 4, -EACCES,
		  "R0 !read_ok\nprocessed 4" STATS_TAIL, false },
		{ "ld_imm64 counts once", SF, 0, 0, 0, "GPL", { LDIMM(1, 0, 0), EXIT }, 3, -EACCES,
		  "R0 !read_ok\nprocessed 2" STATS_TAIL, false },
		{ "bad helper before R11", SF, 0, 0, 0, "GPL", { { .code = BPF_JMP | BPF_CALL, .imm = 999 }, MOVK(11), MOV0, EXIT },
		  4, -EINVAL, "invalid func unknown#999\nprocessed 1" STATS_TAIL, false },
		/* check_attach_btf_id(): after check_cfg(), before the walk */
		{ "struct_ops MIT", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, 0, "MIT", { MOV0, EXIT }, 2, -EINVAL,
		  PRE("struct ops programs must have a GPL compatible license\n"), true },
		{ "struct_ops MIT before R0", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, 0, "MIT", { EXIT }, 1, -EINVAL,
		  PRE("struct ops programs must have a GPL compatible license\n"), true },
		{ "struct_ops opcode first", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, 0, "MIT", { BADOP, MOV0, EXIT }, 3, -EINVAL,
		  PRE("unknown opcode ff\n"), true },
		{ "struct_ops unreachable first", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, 0, "MIT", { MOV0, EXIT, EXIT }, 3, -EINVAL,
		  PRE("unreachable insn 2\n"), true },
		{ "struct_ops no btf id", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, 0, "GPL", { MOV0, EXIT }, 2, -524,
		  PRE(""), true },
		{ "struct_ops btf id", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, 5, "GPL", { EXIT }, 1, -524,
		  PRE("attach_btf_id 5 is not a supported struct\n"), true },
		{ "struct_ops sleepable btf id", BPF_PROG_TYPE_STRUCT_OPS, 0, BPF_F_SLEEPABLE, 5, "GPL", { MOV0, EXIT }, 2,
		  -524, PRE("attach_btf_id 5 is not a supported struct\n"), true },
		{ "syscall not sleepable", BPF_PROG_TYPE_SYSCALL, 0, 0, 0, "GPL", { EXIT }, 1, -EINVAL,
		  PRE("Syscall programs can only be sleepable\n"), true },
		{ "syscall map fd first", BPF_PROG_TYPE_SYSCALL, 0, 0, 0, "GPL", { LDIMM(1, BPF_PSEUDO_MAP_FD, -1), MOV0, EXIT },
		  4, -EBADF, PRE("fd -1 is not pointing to valid bpf_map\n"), true },
		{ "syscall sleepable walks", BPF_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE, 0, "GPL", { EXIT }, 1, -EACCES,
		  "R0 !read_ok\nprocessed 1" STATS_TAIL, false },
		{ "syscall sleepable loads", BPF_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE, 0, "GPL", { MOV0, EXIT }, 2, 0,
		  "processed 2" STATS_TAIL, true },
		{ "xdp sleepable", BPF_PROG_TYPE_XDP, 0, BPF_F_SLEEPABLE, 0, "GPL", { EXIT }, 1, -EINVAL,
		  PRE("Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable\n"), true },
		{ "xdp sleepable unreachable", BPF_PROG_TYPE_XDP, 0, BPF_F_SLEEPABLE, 0, "GPL", { MOV0, EXIT, EXIT }, 3, -EINVAL,
		  PRE("unreachable insn 2\n"), true },
		{ "socket filter sleepable", SF, 0, BPF_F_SLEEPABLE, 0, "MIT", { MOV0, EXIT }, 2, -EINVAL,
		  PRE("Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable\n"), true },
		{ "kprobe sleepable loads", BPF_PROG_TYPE_KPROBE, 0, BPF_F_SLEEPABLE, 0, "GPL", { MOV0, EXIT }, 2, 0,
		  "processed 2" STATS_TAIL, true },
		{ "tracing without btf id", BPF_PROG_TYPE_TRACING, 0, 0, 0, "GPL", { EXIT }, 1, -EINVAL,
		  PRE("Tracing programs must provide btf_id\n"), true },
		{ "tracing raw_tp without btf id", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0, 0, "MIT", { MOV0, EXIT }, 2,
		  -EINVAL, PRE("Tracing programs must provide btf_id\n"), true },
		{ "tracing sleepable", BPF_PROG_TYPE_TRACING, 0, BPF_F_SLEEPABLE, 0, "GPL", { MOV0, EXIT }, 2, -EINVAL,
		  PRE("Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable\n"), true },
		{ "tracing iter sleepable", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, BPF_F_SLEEPABLE, 0, "GPL", { MOV0, EXIT }, 2,
		  -EINVAL, PRE("Tracing programs must provide btf_id\n"), true },
		{ "tracing opcode first", BPF_PROG_TYPE_TRACING, 0, 0, 0, "GPL", { BADOP, MOV0, EXIT }, 3, -EINVAL,
		  PRE("unknown opcode ff\n"), true },
	};
	return cr_make_param_array(struct order_case, cases, BT_ARRAY_SIZE(cases));
}

ParameterizedTest(struct order_case *c, unit, load_check_order, .init = bt_setup, .fini = bt_teardown)
{
	long r = load_v(c->type, c->attach_type, c->flags, c->btf_id, c->license, c->insns, c->cnt);
	cr_assert(eq(i64, r, c->expected), "%s: %s\n%s", c->name, strerror((int)-r), vlog_buf);
	if (c->exact)
		cr_assert(eq(str, vlog_buf, c->tail), "%s", c->name);
	else
		cr_assert(log_ends_with(c->tail), "%s: log does not end with\n%s---\n%s", c->name, c->tail, vlog_buf);
}

BT_TEST(load_success_counts_ld_imm64_once)
{
	const struct bpf_insn p[] = { LDIMM(1, 0, 7), MOV0, EXIT };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(p);
	a.insn_cnt = 4;
	a.license = BT_PTR("GPL");
	a.log_level = 1;
	a.log_buf = BT_PTR(vlog_buf);
	a.log_size = sizeof(vlog_buf);
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, "processed 3" STATS_TAIL));
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
	cr_assert(eq(u32, info.verified_insns, 3));
	bt_close((int)fd);
}

BT_TEST(load_absent_type_is_einval_with_empty_log)
{
	/* lirc_mode2 (20): CONFIG_BPF_LIRC_MODE2 is off on the kernel mirrored */
	const struct bpf_insn bad[] = { BADOP, MOV0, EXIT };
	strcpy(vlog_buf, "untouched");
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_LIRC_MODE2;
	a.expected_attach_type = BPF_LIRC_MODE2;
	a.insns = BT_PTR(bad);
	a.insn_cnt = 3;
	a.license = BT_PTR("GPL");
	a.log_level = 1;
	a.log_buf = BT_PTR(vlog_buf);
	a.log_size = sizeof(vlog_buf);
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
	cr_assert(eq(str, vlog_buf, "untouched"));
	a.prog_flags = BPF_F_SLEEPABLE;
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
	cr_assert(eq(str, vlog_buf, "untouched"));
}

BT_TEST(load_unknown_type_copies_insns_first)
{
	/* find_prog_type() runs after the instructions and the license are copied */
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_LIRC_MODE2, NULL, 2, "GPL"), -EFAULT));
	cr_assert(eq(i64, prog_load(9999, NULL, 2, "GPL"), -EFAULT));
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_UNSPEC, NULL, 2, "GPL"), -EFAULT));
	cr_assert(eq(i64, prog_load(9999, ret0, 2, NULL), -EFAULT));
	cr_assert(eq(i64, prog_load(BPF_PROG_TYPE_UNSPEC, ret0, 2, "GPL"), -EINVAL));
}

BT_TEST(load_expected_attach_type_rules)
{
	/*
	 * bpf_prog_load_check_attach(): types that take only some attach types
	 * refuse the others with EINVAL before the instructions are copied;
	 * with NULL instructions an accepted attach type is EFAULT. The sets
	 * are what Linux 6.18 answers (0 is cgroup_sock's and sk_reuseport's
	 * default; 49-53 the unix socket hooks of cgroup_sock_addr).
	 */
	static const struct {
		__u32 type;
		int allowed[20];       /* -1 terminated */
	} rules[] = {
		{ BPF_PROG_TYPE_CGROUP_SKB, { 0, 1, -1 } },
		{ BPF_PROG_TYPE_CGROUP_SOCK, { 0, 2, 12, 13, 34, -1 } },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, { 8, 9, 10, 11, 14, 15, 19, 20, 29, 30, 31, 32, 49, 50, 51, 52, 53, -1 } },
		{ BPF_PROG_TYPE_SK_REUSEPORT, { 0, 39, 40, -1 } },
		{ BPF_PROG_TYPE_CGROUP_SOCKOPT, { 21, 22, -1 } },
		{ BPF_PROG_TYPE_SK_LOOKUP, { 36, -1 } },
		{ BPF_PROG_TYPE_SYSCALL, { 0, -1 } },
		{ 32 /* BPF_PROG_TYPE_NETFILTER */, { 45, -1 } },
		{ BPF_PROG_TYPE_XDP, { 0, 1, 2, 30, 37, 63, -1 } },    /* any: a few samples */
	};
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
		for (int eat = 0; eat < 64; eat++) {
			bool ok = false;
			for (int k = 0; rules[r].allowed[k] >= 0; k++)
				ok |= rules[r].allowed[k] == eat;
			if (rules[r].type == BPF_PROG_TYPE_XDP && !ok)
				continue;
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.prog_type = rules[r].type;
			a.expected_attach_type = (__u32)eat;
			a.insns = 0;
			a.insn_cnt = 2;
			a.license = BT_PTR("GPL");
			long ret = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
			cr_expect(eq(i64, ret, ok ? -EFAULT : -EINVAL), "type %u, expected_attach_type %d: %ld",
				  rules[r].type, eat, ret);
		}
}

BT_TEST(load_attach_btf_id_on_other_types_is_einval)
{
	/* only tracing, lsm, struct_ops and ext name a BTF type: EINVAL before the copy, no log */
	strcpy(vlog_buf, "untouched");
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = 0;
	a.insn_cnt = 2;
	a.license = BT_PTR("GPL");
	a.attach_btf_id = 5;
	a.log_level = 1;
	a.log_buf = BT_PTR(vlog_buf);
	a.log_size = sizeof(vlog_buf);
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = BT_PTR(ret0);
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EINVAL));
	cr_assert(eq(str, vlog_buf, "untouched"));
}

BT_TEST(load_prog_array_claimed_by_verified_load_only)
{
	int map = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	const struct bpf_insn bad[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, map), EXIT };
	const struct bpf_insn ok[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, map), MOV0, EXIT };
	/* an xdp load the walk rejects claims nothing */
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_XDP, 0, 0, 0, "GPL", bad, 3), -EACCES));
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", ok, 4), 0), "%s", vlog_buf);
	/* now a socket filter's: an xdp program passes the verifier, then EINVAL */
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_XDP, 0, 0, 0, "GPL", ok, 4), -EINVAL));
	cr_assert(eq(str, vlog_buf, "processed 3" STATS_TAIL));
	bt_close(map);
}
