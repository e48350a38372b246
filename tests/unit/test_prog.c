/* SPDX-License-Identifier: MIT */
/* tests/unit/test_prog.c: BPF_PROG_LOAD as libbpf's and bpftool's probes use it (emu/prog.c). */
#include "bt.h"

#include <linux/btf.h>

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

/* a load's attr with a level-1 log into log[size] */
static void prog_attr(union bpf_attr *a, __u32 type, const struct bpf_insn *insns, __u32 cnt, const char *license,
		      char *log, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->prog_type = type;
	a->insns = BT_PTR(insns);
	a->insn_cnt = cnt;
	a->license = BT_PTR(license);
	a->log_level = 1;
	a->log_buf = BT_PTR(log);
	a->log_size = (__u32)size;
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
	prog_attr(&a, type, insns, 3, license, call_log, sizeof(call_log));
	a.expected_attach_type = attach_type;
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
	prog_attr(&a, BPF_PROG_TYPE_SOCKET_FILTER, insns, 4, "GPL", call_log, sizeof(call_log));
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
	prog_attr(&a, BPF_PROG_TYPE_SOCKET_FILTER, insns, 5, "GPL", call_log, sizeof(call_log));
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
	prog_attr(&a, type, insns, cnt, license, vlog_buf, sizeof(vlog_buf));
	a.expected_attach_type = attach_type;
	a.prog_flags = flags;
	a.attach_btf_id = btf_id;
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
		/* check_cfg() after the opcodes: reachability, then no jump into an ld_imm64 */
		{ "jump into ld_imm64", SF, 0, 0, 0, "GPL",
		  { MOV0, { .code = BPF_JMP | BPF_JEQ | BPF_K, .off = 1 }, LDIMM(1, 0, 0), EXIT }, 5, -EINVAL,
		  PRE("jump into the middle of ldimm64 insn 2\n"), true },
		{ "unreachable ld_imm64 jumped into", SF, 0, 0, 0, "GPL", { MOV0, JA(1), LDIMM(1, 0, 0), EXIT }, 5, -EINVAL,
		  PRE("unreachable insn 2\n"), true },
		{ "jump into unreachable ld_imm64", SF, 0, 0, 0, "GPL",
		  { MOV0, { .code = BPF_JMP | BPF_JEQ | BPF_K, .off = 2 }, EXIT, LDIMM(1, 0, 0), EXIT }, 6, -EINVAL,
		  PRE("unreachable insn 3\n"), true },
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

static void run_order_case(struct order_case *c)
{
	long r = load_v(c->type, c->attach_type, c->flags, c->btf_id, c->license, c->insns, c->cnt);
	cr_assert(eq(i64, r, c->expected), "%s: %s\n%s", c->name, strerror((int)-r), vlog_buf);
	if (c->exact)
		cr_assert(eq(str, vlog_buf, c->tail), "%s", c->name);
	else
		cr_assert(log_ends_with(c->tail), "%s: log does not end with\n%s---\n%s", c->name, c->tail, vlog_buf);
}

ParameterizedTest(struct order_case *c, unit, load_check_order, .init = bt_setup, .fini = bt_teardown)
{
	run_order_case(c);
}

/* ---- the main walk's checks of each instruction (do_check_insn) ---- */

#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#define LOAD_ACQ 0x100
#define STORE_REL 0x110

#define INSN(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define ALU64(op, d, s, o, i) INSN(BPF_ALU64 | (op), d, s, o, i)
#define ALU32(op, d, s, o, i) INSN(BPF_ALU | (op), d, s, o, i)
#define STK INSN(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 0)               /* *(u64 *)(r10 - 8) = 0 */
#define ATOMIC(sz, d, s, i) INSN(BPF_STX | BPF_ATOMIC | (sz), d, s, -8, i)
#define CTX6 ALU64(BPF_MOV | BPF_X, 6, 1, 0, 0)                       /* r6 = r1 */
#define LDABS(sz, d, s, o) INSN(BPF_LD | BPF_ABS | (sz), d, s, o, 0)
#define LDIND(sz, d, s, o) INSN(BPF_LD | BPF_IND | (sz), d, s, o, 0)
/* the walk's error after n processed instructions (the kernel's state dump comes before it) */
#define AT_N(msg, n) msg "processed " #n STATS_TAIL
#define LOADS(n) "processed " #n STATS_TAIL
#define RSV(what, n) AT_N(what " uses reserved fields\n", n)

ParameterizedTestParameters(unit, load_walk_checks)
{
	static struct order_case cases[] = {
		/* check_alu_op(): reserved fields first, then the source, then the destination */
		{ "alu K with src_reg", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_ADD | BPF_K, 0, 1, 0, 1), EXIT }, 3, -EINVAL,
		  RSV("BPF_ALU", 2), false },
		{ "alu K off 1 on add", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_ADD | BPF_K, 0, 0, 1, 1), EXIT }, 3, -EINVAL,
		  RSV("BPF_ALU", 2), false },
		{ "alu X with imm", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_XOR | BPF_X, 0, 0, 0, 1), EXIT }, 3, -EINVAL,
		  RSV("BPF_ALU", 2), false },
		{ "alu reserved before source", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_ADD | BPF_X, 0, 3, 0, 1), EXIT }, 3,
		  -EINVAL, RSV("BPF_ALU", 2), false },
		{ "alu reserved before R11", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_ADD | BPF_K, 11, 1, 0, 0), EXIT }, 3,
		  -EINVAL, RSV("BPF_ALU", 2), false },
		{ "alu source before destination", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_ADD | BPF_X, 4, 3, 0, 0), EXIT }, 3,
		  -EACCES, AT_N("R3 !read_ok\n", 2), false },
		{ "alu source before R11", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_SUB | BPF_X, 11, 3, 0, 0), EXIT }, 3,
		  -EACCES, AT_N("R3 !read_ok\n", 2), false },
		{ "alu source R11", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_SUB | BPF_X, 0, 11, 0, 0), EXIT }, 3, -EINVAL,
		  AT_N("R11 is invalid\n", 2), false },
		{ "sdiv and smod (off 1) load", SF, 0, 0, 0, "GPL",
		  { MOV0, ALU64(BPF_MOD | BPF_X, 0, 0, 1, 0), ALU32(BPF_DIV | BPF_K, 0, 0, 1, 3), EXIT }, 4, 0, LOADS(4),
		  true },
		{ "div by zero", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_DIV | BPF_K, 0, 0, 0, 0), EXIT }, 3, -EINVAL,
		  AT_N("div by zero\n", 2), false },
		{ "mod32 by zero", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_MOD | BPF_K, 0, 0, 0, 0), EXIT }, 3, -EINVAL,
		  AT_N("div by zero\n", 2), false },
		{ "sdiv by zero", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_DIV | BPF_K, 0, 0, 1, 0), EXIT }, 3, -EINVAL,
		  AT_N("div by zero\n", 2), false },
		{ "div by zero after the destination", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_DIV | BPF_K, 3, 0, 0, 0), EXIT },
		  3, -EACCES, AT_N("R3 !read_ok\n", 2), false },
		{ "div by zero before R10 written", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_MOD | BPF_K, 10, 0, 0, 0), EXIT },
		  3, -EINVAL, AT_N("div by zero\n", 2), false },
		{ "shift 64", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_LSH | BPF_K, 0, 0, 0, 64), EXIT }, 3, -EINVAL,
		  AT_N("invalid shift 64\n", 2), false },
		{ "shift32 32", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_RSH | BPF_K, 0, 0, 0, 32), EXIT }, 3, -EINVAL,
		  AT_N("invalid shift 32\n", 2), false },
		{ "shift -1", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_ARSH | BPF_K, 0, 0, 0, -1), EXIT }, 3, -EINVAL,
		  AT_N("invalid shift -1\n", 2), false },
		{ "shift before R10 written", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_LSH | BPF_K, 10, 0, 0, 64), EXIT }, 3,
		  -EINVAL, AT_N("invalid shift 64\n", 2), false },
		{ "shifts 63 and 31 load", SF, 0, 0, 0, "GPL",
		  { MOV0, ALU64(BPF_LSH | BPF_K, 0, 0, 0, 63), ALU32(BPF_ARSH | BPF_K, 0, 0, 0, 31), EXIT }, 4, 0, LOADS(4),
		  true },
		{ "alu writes R10", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_ADD | BPF_K, 10, 0, 0, 1), EXIT }, 3, -EACCES,
		  AT_N("frame pointer is read only\n", 2), false },
		/* MOV: K leaves src_reg and off zero; X is also movsx (off 8/16/32, 32 not on ALU) and arena casts */
		{ "mov K with src_reg", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_K, 0, 1, 0, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "mov K with src R11", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_K, 0, 11, 0, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "mov K with off", SF, 0, 0, 0, "GPL", { ALU32(BPF_MOV | BPF_K, 0, 0, 8, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "mov K into R10", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_K, 10, 0, 0, 0), MOV0, EXIT }, 3, -EACCES,
		  AT_N("frame pointer is read only\n", 1), false },
		{ "mov X with imm", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_X, 0, 1, 0, 1), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "movsx 8, 16, 32 load", SF, 0, 0, 0, "GPL",
		  { ALU64(BPF_MOV | BPF_X, 2, 1, 8, 0), ALU64(BPF_MOV | BPF_X, 2, 1, 16, 0), ALU64(BPF_MOV | BPF_X, 2, 1, 32, 0),
		    MOV0, EXIT }, 5, 0, LOADS(5), true },
		{ "movsx32 8, 16 load", SF, 0, 0, 0, "GPL",
		  { ALU32(BPF_MOV | BPF_X, 2, 1, 8, 0), ALU32(BPF_MOV | BPF_X, 2, 1, 16, 0), MOV0, EXIT }, 4, 0, LOADS(4),
		  true },
		{ "movsx off 64", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_X, 0, 1, 64, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "movsx32 off 32", SF, 0, 0, 0, "GPL", { ALU32(BPF_MOV | BPF_X, 0, 1, 32, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "mov32 X off 1", SF, 0, 0, 0, "GPL", { ALU32(BPF_MOV | BPF_X, 0, 1, 1, 1), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "mov reserved before source", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_X, 0, 3, 3, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_MOV", 1), false },
		{ "mov source before R11", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_X, 11, 3, 0, 0), EXIT }, 2, -EACCES,
		  AT_N("R3 !read_ok\n", 1), false },
		{ "addr_space_cast imm 2", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_X, 0, 1, 1, 2), EXIT }, 2, -EINVAL,
		  AT_N("addr_space_cast insn can only convert between address space 1 and 0\n", 1), false },
		{ "addr_space_cast without arena", SF, 0, 0, 0, "GPL", { ALU64(BPF_MOV | BPF_X, 0, 1, 1, 1 << 16), EXIT }, 2,
		  -EINVAL, AT_N("addr_space_cast insn can only be used in a program that has an associated arena\n", 1),
		  false },
		/* NEG and END: reserved fields (END's imm is 16, 32 or 64), the register read, then written */
		{ "neg with imm", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_NEG, 0, 0, 0, 1), EXIT }, 3, -EINVAL,
		  RSV("BPF_NEG", 2), false },
		{ "neg32 with src_reg", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_NEG, 0, 1, 0, 0), EXIT }, 3, -EINVAL,
		  RSV("BPF_NEG", 2), false },
		{ "neg reads", SF, 0, 0, 0, "GPL", { ALU64(BPF_NEG, 0, 0, 0, 0), EXIT }, 2, -EACCES,
		  AT_N("R0 !read_ok\n", 1), false },
		{ "neg R11", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_NEG, 11, 0, 0, 0), EXIT }, 3, -EINVAL,
		  AT_N("R11 is invalid\n", 2), false },
		{ "neg R10", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_NEG, 10, 0, 0, 0), EXIT }, 3, -EACCES,
		  AT_N("frame pointer is read only\n", 2), false },
		{ "end imm 8", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_END | BPF_TO_LE, 0, 0, 0, 8), EXIT }, 3, -EINVAL,
		  RSV("BPF_END", 2), false },
		{ "bswap imm 48", SF, 0, 0, 0, "GPL", { MOV0, ALU64(BPF_END | BPF_TO_LE, 0, 0, 0, 48), EXIT }, 3, -EINVAL,
		  RSV("BPF_END", 2), false },
		{ "end with off", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_END | BPF_TO_BE, 0, 0, 1, 16), EXIT }, 3, -EINVAL,
		  RSV("BPF_END", 2), false },
		{ "end reserved before read", SF, 0, 0, 0, "GPL", { ALU32(BPF_END | BPF_TO_LE, 0, 0, 0, 0), EXIT }, 2,
		  -EINVAL, RSV("BPF_END", 1), false },
		{ "end R10", SF, 0, 0, 0, "GPL", { MOV0, ALU32(BPF_END | BPF_TO_BE, 10, 0, 0, 32), EXIT }, 3, -EACCES,
		  AT_N("frame pointer is read only\n", 2), false },
		{ "end 16, 32, 64 load", SF, 0, 0, 0, "GPL",
		  { MOV0, ALU32(BPF_END | BPF_TO_LE, 0, 0, 0, 16), ALU32(BPF_END | BPF_TO_BE, 0, 0, 0, 32),
		    ALU64(BPF_END | BPF_TO_LE, 0, 0, 0, 64), EXIT }, 5, 0, LOADS(5), true },
		/* loads: the source, then the destination written */
		{ "ldx into R10", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_LDX | BPF_MEM | BPF_DW, 10, 1, 0, 0), EXIT }, 3,
		  -EACCES, AT_N("frame pointer is read only\n", 2), false },
		{ "ldsx into R10", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_LDX | BPF_MEMSX | BPF_W, 10, 1, 0, 0), EXIT }, 3,
		  -EACCES, AT_N("frame pointer is read only\n", 2), false },
		{ "ldx source before R11", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_LDX | BPF_MEM | BPF_W, 11, 3, 0, 0), EXIT },
		  3, -EACCES, AT_N("R3 !read_ok\n", 2), false },
		/* stores: BPF_ST leaves src_reg zero, BPF_STX imm; the source, then the address */
		{ "st with src_reg", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_ST | BPF_MEM | BPF_DW, 10, 1, -8, 0), EXIT }, 3,
		  -EINVAL, RSV("BPF_ST", 2), false },
		{ "st with src R11", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_ST | BPF_MEM | BPF_DW, 10, 11, -8, 0), EXIT }, 3,
		  -EINVAL, RSV("BPF_ST", 2), false },
		{ "st reserved before address", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_ST | BPF_MEM | BPF_W, 3, 1, 0, 0), EXIT },
		  3, -EINVAL, RSV("BPF_ST", 2), false },
		{ "st R11", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_ST | BPF_MEM | BPF_DW, 11, 0, -8, 0), EXIT }, 3, -EINVAL,
		  AT_N("R11 is invalid\n", 2), false },
		{ "stx with imm", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -8, 1), EXIT }, 3,
		  -EINVAL, RSV("BPF_STX", 2), false },
		{ "stx reserved before source", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 3, -8, 1),
		  EXIT }, 3, -EINVAL, RSV("BPF_STX", 2), false },
		{ "stx source before address", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_STX | BPF_MEM | BPF_DW, 4, 3, -8, 0),
		  EXIT }, 3, -EACCES, AT_N("R3 !read_ok\n", 2), false },
		{ "stx source R11", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_STX | BPF_MEM | BPF_DW, 4, 11, -8, 0), EXIT }, 3,
		  -EINVAL, AT_N("R11 is invalid\n", 2), false },
		/* atomics: the operation, the size of a read-modify-write, then source, address, R0 */
		{ "atomic opcode 05", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_DW, 10, 0, 5), EXIT }, 4, -EINVAL,
		  AT_N("BPF_ATOMIC uses invalid atomic opcode 05\n", 3), false },
		{ "atomic opcode before size", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_H, 10, 3, BPF_SUB), EXIT }, 4,
		  -EINVAL, AT_N("BPF_ATOMIC uses invalid atomic opcode 10\n", 3), false },
		{ "atomic opcode -1", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_W, 10, 0, -1), EXIT }, 4, -EINVAL,
		  AT_N("BPF_ATOMIC uses invalid atomic opcode ffffffff\n", 3), false },
		{ "atomic opcode 101", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_W, 10, 0, LOAD_ACQ | 1), EXIT }, 4,
		  -EINVAL, AT_N("BPF_ATOMIC uses invalid atomic opcode 101\n", 3), false },
		{ "atomic add on 2 bytes", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_H, 10, 0, BPF_ADD), EXIT }, 4,
		  -EINVAL, AT_N("invalid atomic operand size\n", 3), false },
		{ "atomic size before source", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_B, 10, 3, BPF_XCHG), EXIT }, 4,
		  -EINVAL, AT_N("invalid atomic operand size\n", 3), false },
		{ "atomics on 4 and 8 bytes load", SF, 0, 0, 0, "GPL",
		  { MOV0, STK, MOVK(1), ATOMIC(BPF_W, 10, 1, BPF_ADD), ATOMIC(BPF_DW, 10, 1, BPF_XCHG), EXIT }, 6, 0,
		  LOADS(6), true },
		{ "atomic source before address", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_DW, 4, 3, BPF_OR), EXIT }, 4,
		  -EACCES, AT_N("R3 !read_ok\n", 3), false },
		{ "cmpxchg source before R0", SF, 0, 0, 0, "GPL", { STK, ATOMIC(BPF_DW, 10, 3, BPF_CMPXCHG), MOV0, EXIT }, 4,
		  -EACCES, AT_N("R3 !read_ok\n", 2), false },
		{ "cmpxchg reads R0", SF, 0, 0, 0, "GPL", { STK, MOVK(1), ATOMIC(BPF_DW, 10, 1, BPF_CMPXCHG), MOV0, EXIT }, 5,
		  -EACCES, AT_N("R0 !read_ok\n", 3), false },
		{ "atomic fetch into R10", SF, 0, 0, 0, "GPL", { MOV0, ATOMIC(BPF_DW, 10, 10, BPF_ADD | BPF_FETCH), EXIT }, 3,
		  -EACCES, AT_N("frame pointer is read only\n", 2), false },
		{ "load-acquire into R10", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_W, 10, 10, LOAD_ACQ), EXIT }, 4,
		  -EACCES, AT_N("frame pointer is read only\n", 3), false },
		{ "load-acquire source before R11", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_W, 11, 3, LOAD_ACQ), EXIT },
		  4, -EACCES, AT_N("R3 !read_ok\n", 3), false },
		{ "load-acquire byte writes destination", SF, 0, 0, 0, "GPL",
		  { MOV0, STK, ATOMIC(BPF_B, 2, 10, LOAD_ACQ), ALU64(BPF_MOV | BPF_X, 0, 2, 0, 0), EXIT }, 5, 0, LOADS(5),
		  true },
		{ "store-release source before address", SF, 0, 0, 0, "GPL", { MOV0, STK, ATOMIC(BPF_H, 3, 4, STORE_REL),
		  EXIT }, 4, -EACCES, AT_N("R4 !read_ok\n", 3), false },
		/* conditional jumps read the destination first, then look at the fields */
		{ "jump K with src_reg", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0, 0), EXIT }, 3,
		  -EINVAL, RSV("BPF_JMP/JMP32", 2), false },
		{ "jump32 X with imm", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP32 | BPF_JGT | BPF_X, 0, 1, 0, 5), EXIT }, 3,
		  -EINVAL, RSV("BPF_JMP/JMP32", 2), false },
		{ "jump destination before reserved", SF, 0, 0, 0, "GPL",
		  { MOV0, INSN(BPF_JMP | BPF_JEQ | BPF_K, 3, 1, 0, 0), EXIT }, 3, -EACCES, AT_N("R3 !read_ok\n", 2), false },
		{ "jump R11 before reserved", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_JNE | BPF_K, 11, 1, 0, 0), EXIT },
		  3, -EINVAL, AT_N("R11 is invalid\n", 2), false },
		{ "jump destination before source", SF, 0, 0, 0, "GPL",
		  { MOV0, INSN(BPF_JMP | BPF_JSGT | BPF_X, 4, 3, 0, 0), EXIT }, 3, -EACCES, AT_N("R4 !read_ok\n", 2), false },
		{ "jump reserved before source", SF, 0, 0, 0, "GPL",
		  { MOV0, INSN(BPF_JMP | BPF_JSGT | BPF_X, 0, 3, 0, 1), EXIT }, 3, -EINVAL, RSV("BPF_JMP/JMP32", 2), false },
		/* ja, gotol, call, exit, may_goto */
		{ "ja with imm", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 1), EXIT }, 3, -EINVAL,
		  RSV("BPF_JA", 2), false },
		{ "ja with R11", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_JA, 11, 0, 0, 0), EXIT }, 3, -EINVAL,
		  RSV("BPF_JA", 2), false },
		{ "gotol with off", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP32 | BPF_JA, 0, 0, 1, 0), EXIT }, 3, -EINVAL,
		  RSV("BPF_JA", 2), false },
		{ "call with off", SF, 0, 0, 0, "GPL", { INSN(BPF_JMP | BPF_CALL, 0, 0, 1, 5), MOV0, EXIT }, 3, -EINVAL,
		  RSV("BPF_CALL", 1), false },
		{ "call with dst_reg", SF, 0, 0, 0, "GPL", { INSN(BPF_JMP | BPF_CALL, 1, 0, 0, 5), MOV0, EXIT }, 3, -EINVAL,
		  RSV("BPF_CALL", 1), false },
		{ "call with src_reg 3", SF, 0, 0, 0, "GPL", { INSN(BPF_JMP | BPF_CALL, 0, 3, 0, 5), MOV0, EXIT }, 3, -EINVAL,
		  RSV("BPF_CALL", 1), false },
		{ "call fields before helper id", SF, 0, 0, 0, "GPL", { INSN(BPF_JMP | BPF_CALL, 0, 0, 1, 999), MOV0, EXIT },
		  3, -EINVAL, RSV("BPF_CALL", 1), false },
		{ "bpf-to-bpf call with off", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_CALL, 0, 1, 1, 1), EXIT, MOV0,
		  EXIT }, 5, -EINVAL, RSV("BPF_CALL", 2), false },
		{ "exit with imm", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 1) }, 2, -EINVAL,
		  RSV("BPF_EXIT", 2), false },
		{ "exit with R11", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_EXIT, 11, 0, 0, 0) }, 2, -EINVAL,
		  RSV("BPF_EXIT", 2), false },
		{ "exit fields before R0", SF, 0, 0, 0, "GPL", { INSN(BPF_JMP | BPF_EXIT, 0, 1, 0, 0) }, 1, -EINVAL,
		  RSV("BPF_EXIT", 1), false },
		{ "exit with off loads", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_EXIT, 0, 0, 7, 0) }, 2, 0, LOADS(2),
		  true },
		{ "may_goto with imm", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_JCOND, 0, 0, 0, 7), EXIT }, 3, -EINVAL,
		  "invalid may_goto imm 7\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 1 "
		  "peak_states 1 mark_read 0\n", false },
		{ "may_goto with src_reg", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_JCOND, 0, 1, 0, 3), EXIT }, 3,
		  -EINVAL, AT_N("invalid may_goto imm 3\n", 2), false },
		/* packet loads: the program type, reserved fields, R6, the offset register */
		{ "ld_abs with dst_reg", SF, 0, 0, 0, "GPL", { CTX6, LDABS(BPF_W, 1, 0, 0), EXIT }, 3, -EINVAL,
		  RSV("BPF_LD_[ABS|IND]", 2), false },
		{ "ld_abs with src_reg", SF, 0, 0, 0, "GPL", { CTX6, LDABS(BPF_B, 0, 1, 0), EXIT }, 3, -EINVAL,
		  RSV("BPF_LD_[ABS|IND]", 2), false },
		{ "ld_ind with off", SF, 0, 0, 0, "GPL", { CTX6, MOVK(2), LDIND(BPF_H, 0, 2, 1), EXIT }, 4, -EINVAL,
		  RSV("BPF_LD_[ABS|IND]", 3), false },
		{ "ld_abs reserved before R6", SF, 0, 0, 0, "GPL", { LDABS(BPF_H, 1, 0, 0), EXIT }, 2, -EINVAL,
		  RSV("BPF_LD_[ABS|IND]", 1), false },
		{ "ld_ind R6 before source", SF, 0, 0, 0, "GPL", { LDIND(BPF_W, 0, 2, 0), EXIT }, 2, -EACCES,
		  AT_N("R6 !read_ok\n", 1), false },
		{ "ld_ind source", SF, 0, 0, 0, "GPL", { CTX6, LDIND(BPF_W, 0, 2, 0), EXIT }, 3, -EACCES,
		  AT_N("R2 !read_ok\n", 2), false },
		{ "ld_ind source R11", SF, 0, 0, 0, "GPL", { CTX6, LDIND(BPF_W, 0, 11, 0), EXIT }, 3, -EINVAL,
		  AT_N("R11 is invalid\n", 2), false },
		{ "ld_abs in xdp", BPF_PROG_TYPE_XDP, 0, 0, 0, "GPL", { CTX6, LDABS(BPF_W, 0, 0, 0), EXIT }, 3, -EINVAL,
		  AT_N("BPF_LD_[ABS|IND] instructions not allowed for this program type\n", 2), false },
		{ "ld_abs type before fields", BPF_PROG_TYPE_KPROBE, 0, 0, 0, "GPL", { CTX6, LDABS(BPF_W, 1, 0, 0), EXIT }, 3,
		  -EINVAL, AT_N("BPF_LD_[ABS|IND] instructions not allowed for this program type\n", 2), false },
		{ "ld_abs in sched_cls loads", BPF_PROG_TYPE_SCHED_CLS, 0, 0, 0, "GPL", { CTX6, LDABS(BPF_B, 0, 0, 0), EXIT },
		  3, 0, LOADS(3), true },
		{ "ld_ind in sched_act loads", BPF_PROG_TYPE_SCHED_ACT, 0, 0, 0, "GPL",
		  { CTX6, MOVK(2), LDIND(BPF_W, 0, 2, 0), EXIT }, 4, 0, LOADS(4), true },
		/* ld_imm64: off, then the destination; a callback's address needs func_info */
		{ "ld_imm64 with off", SF, 0, 0, 0, "GPL", { INSN(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 1, 0), { 0 }, MOV0, EXIT },
		  4, -EINVAL, RSV("BPF_LD_IMM64", 1), false },
		{ "ld_imm64 off before R11", SF, 0, 0, 0, "GPL",
		  { INSN(BPF_LD | BPF_IMM | BPF_DW, 11, 0, 1, 0), { 0 }, MOV0, EXIT }, 4, -EINVAL, RSV("BPF_LD_IMM64", 1),
		  false },
		{ "ld_imm64 into R10", SF, 0, 0, 0, "GPL", { LDIMM(10, 0, 0), MOV0, EXIT }, 4, -EACCES,
		  AT_N("frame pointer is read only\n", 1), false },
		{ "callback without func_info", SF, 0, 0, 0, "GPL", { LDIMM(2, BPF_PSEUDO_FUNC, 3), MOV0, EXIT, MOV0, EXIT },
		  6, -EINVAL, AT_N("missing btf func_info\n", 1), false },
	};
	return cr_make_param_array(struct order_case, cases, BT_ARRAY_SIZE(cases));
}

ParameterizedTest(struct order_case *c, unit, load_walk_checks, .init = bt_setup, .fini = bt_teardown)
{
	run_order_case(c);
}

BT_TEST(load_success_counts_ld_imm64_once)
{
	const struct bpf_insn p[] = { LDIMM(1, 0, 7), MOV0, EXIT };
	union bpf_attr a;
	prog_attr(&a, BPF_PROG_TYPE_SOCKET_FILTER, p, 4, "GPL", vlog_buf, sizeof(vlog_buf));
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
	prog_attr(&a, BPF_PROG_TYPE_LIRC_MODE2, bad, 3, "GPL", vlog_buf, sizeof(vlog_buf));
	a.expected_attach_type = BPF_LIRC_MODE2;
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
	prog_attr(&a, BPF_PROG_TYPE_SOCKET_FILTER, NULL, 2, "GPL", vlog_buf, sizeof(vlog_buf));
	a.attach_btf_id = 5;
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

BT_TEST(load_prog_maps_owned_by_first_program)
{
	/* bpf_check_tail_call(): a prog array, devmap or cpumap belongs to the
	 * first program that loads with it: its type, its frags and sleepable
	 * flags, and (a prog array) its expected attach type; others: EINVAL
	 * after the verifier's statistics */
	const __u32 frags = 1u << 5, sleepable = BPF_F_SLEEPABLE;
	const __u32 kprobe_multi = 42, uprobe_multi = 48;
	__u32 types[] = { BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_CPUMAP };
	for (int k = 0; k < 2; k++) {
		int map = bt_map_new(types[k], 4, 4, 2, 0);
		const struct bpf_insn ok[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, map), MOV0, EXIT };
		cr_assert(eq(i64, load_v(BPF_PROG_TYPE_XDP, 0, 0, 0, "GPL", ok, 4), 0), "%s", vlog_buf);
		cr_assert(eq(i64, load_v(BPF_PROG_TYPE_XDP, 0, frags, 0, "GPL", ok, 4), -EINVAL), "map type %u", types[k]);
		cr_assert(eq(str, vlog_buf, "processed 3" STATS_TAIL));
		/* the attach type is not compared outside prog arrays */
		cr_assert(eq(i64, load_v(BPF_PROG_TYPE_XDP, BPF_XDP, 0, 0, "GPL", ok, 4), 0), "%s", vlog_buf);
		cr_assert(eq(i64, load_v(BPF_PROG_TYPE_SCHED_CLS, 0, 0, 0, "GPL", ok, 4), -EINVAL));
		bt_close(map);
	}
	int pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	const struct bpf_insn ok[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, pa), MOV0, EXIT };
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_KPROBE, 0, 0, 0, "GPL", ok, 4), 0), "%s", vlog_buf);
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_KPROBE, kprobe_multi, 0, 0, "GPL", ok, 4), -EINVAL));
	cr_assert(eq(str, vlog_buf, "processed 3" STATS_TAIL));
	bt_close(pa);
	pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	const struct bpf_insn ok2[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, pa), MOV0, EXIT };
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_KPROBE, uprobe_multi, 0, 0, "GPL", ok2, 4), 0), "%s", vlog_buf);
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_KPROBE, uprobe_multi, sleepable, 0, "GPL", ok2, 4), -EINVAL));
	cr_assert(eq(i64, load_v(BPF_PROG_TYPE_KPROBE, uprobe_multi, 0, 0, "GPL", ok2, 4), 0), "%s", vlog_buf);
	bt_close(pa);
}

/* ---- frames: bpf-to-bpf callees, global functions, callbacks ---- */

#define PCALL(k) INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, k)
#define MOVX(d, s) ALU64(BPF_MOV | BPF_X, d, s, 0, 0)

/* the walk rejects p with errno err and a log ending in tail */
static void assert_walk_error(const struct bpf_insn *p, __u32 cnt, long err, const char *tail)
{
	long r = load_v(SF, 0, 0, 0, "GPL", p, cnt);
	cr_assert(eq(i64, r, err), "%s: %s\n%s", tail, strerror((int)-r), vlog_buf);
	cr_assert(log_ends_with(tail), "log does not end with\n%s---\n%s", tail, vlog_buf);
}

BT_TEST(load_callee_frame_registers)
{
	/* a callee starts with the caller's R1-R5 and R10: not R0, not R6-R9 */
	const struct bpf_insn reads_r1[] = { MOV0, PCALL(1), EXIT, MOVX(0, 1), EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", reads_r1, 5), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(5)));
	const struct bpf_insn reads_r6[] = { MOVK(6), PCALL(1), EXIT, MOVX(0, 6), EXIT };
	assert_walk_error(reads_r6, 5, -EACCES, AT_N("R6 !read_ok\n", 3));
	const struct bpf_insn reads_r0[] = { MOV0, PCALL(1), EXIT, ALU64(BPF_ADD | BPF_K, 0, 0, 0, 1), EXIT };
	assert_walk_error(reads_r0, 5, -EACCES, AT_N("R0 !read_ok\n", 3));
	/* the caller keeps R6-R9 and loses R1-R5 */
	const struct bpf_insn keeps_r6[] = { MOVK(6), PCALL(2), MOVX(0, 6), EXIT, MOV0, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", keeps_r6, 6), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(6)));
	const struct bpf_insn loses_r1[] = { PCALL(2), MOVX(0, 1), EXIT, MOV0, EXIT };
	assert_walk_error(loses_r1, 5, -EACCES, AT_N("R1 !read_ok\n", 4));
}

BT_TEST(load_callee_exit_hands_back_r0)
{
	/* a static function's exit does not read R0: the caller gets it as it is */
	const struct bpf_insn caller_sets[] = { PCALL(2), MOV0, EXIT, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", caller_sets, 4), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(4)));
	const struct bpf_insn caller_reads[] = { PCALL(1), EXIT, EXIT };
	assert_walk_error(caller_reads, 3, -EACCES, AT_N("R0 !read_ok\n", 3));
	const struct bpf_insn callee_sets[] = { PCALL(1), EXIT, MOV0, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", callee_sets, 4), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(4)));
}

/* FUNC types: [3] "x" global and [4] "s" static return int, [6] "t" static returns void */
static int load_func_btf(void)
{
	static const char strs[] = "\0int\0x\0s\0t";
	const __u32 types[] = {
		0x1, (__u32)BTF_KIND_INT << 24, 4, (__u32)BTF_INT_SIGNED << 24 | 32,        /* [1] int */
		0, (__u32)BTF_KIND_FUNC_PROTO << 24, 1,                                    /* [2] int (void) */
		5, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_GLOBAL, 2,                        /* [3] x, global */
		7, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 2,                        /* [4] s, static */
		0, (__u32)BTF_KIND_FUNC_PROTO << 24, 0,                                    /* [5] void (void) */
		9, (__u32)BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 5,                        /* [6] t, static */
	};
	return bt_btf_load(types, sizeof(types), strs, sizeof(strs));
}

static __u32 func_rec_size = sizeof(struct bpf_func_info);

/* p with func_info for subprograms at 0 and at second, of BTF types t0 and t1 */
static long load_with_funcs(const struct bpf_insn *p, __u32 cnt, int btf, __u32 second, __u32 t0, __u32 t1)
{
	const struct bpf_func_info fi[2] = { { 0, t0 }, { second, t1 } };
	union bpf_attr a;
	prog_attr(&a, SF, p, cnt, "GPL", vlog_buf, sizeof(vlog_buf));
	a.prog_btf_fd = (__u32)btf;
	a.func_info = BT_PTR(fi);
	a.func_info_cnt = 2;
	a.func_info_rec_size = func_rec_size;
	vlog_buf[0] = '\0';
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		bt_close((int)fd);
	return fd >= 0 ? 0 : fd;
}

BT_TEST(load_callback_needs_static_func_info)
{
	/* r2 = callback; r0 = 0; exit; callback: r0 = 0; exit */
	const struct bpf_insn p[] = { LDIMM(2, BPF_PSEUDO_FUNC, 3), MOV0, EXIT, MOV0, EXIT };
	int btf = load_func_btf();
	cr_assert(eq(i64, load_with_funcs(p, 6, btf, 4, 4, 3), -EINVAL), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("callback function not static\n", 1)), "%s", vlog_buf);
	cr_assert(eq(i64, load_with_funcs(p, 6, btf, 4, 3, 4), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(3)));
	/* no helper calls it: the kernel does not walk it, nor check it */
	const struct bpf_insn unused[] = { LDIMM(2, BPF_PSEUDO_FUNC, 3), MOV0, EXIT, MOV0,
					   ALU64(BPF_DIV | BPF_K, 0, 0, 0, 0), EXIT };
	cr_assert(eq(i64, load_with_funcs(unused, 7, btf, 4, 3, 4), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(3)));
	bt_close(btf);
}

BT_TEST(load_walks_callees_where_called)
{
	/* the kernel walks into a static function at the call: its error comes first, counted
	 * in visiting order (0, 1, 4, 5 here) */
	const struct bpf_insn callee_first[] = { MOV0, PCALL(2), ALU64(BPF_ADD | BPF_K, 0, 1, 0, 0), EXIT, MOV0,
						 ALU64(BPF_DIV | BPF_K, 0, 0, 0, 0), EXIT };
	assert_walk_error(callee_first, 7, -EINVAL, AT_N("div by zero\n", 4));
	/* called twice: walked twice */
	const struct bpf_insn twice[] = { PCALL(3), PCALL(2), MOV0, EXIT, MOV0, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", twice, 6), 0), "%s", vlog_buf);
	cr_assert(log_ends_with(LOADS(8)), "%s", vlog_buf);
}

BT_TEST(load_call_stack_too_deep)
{
	/* 8 frames at most: recursion, counted through the 8 frames walked (2 each) */
	const struct bpf_insn recurse[] = { MOV0, PCALL(-2), EXIT };
	long r = load_v(SF, 0, 0, 0, "GPL", recurse, 3);
	cr_assert(eq(i64, r, -E2BIG), "%s", vlog_buf);
	cr_assert(ne(ptr, strstr(vlog_buf, "the call stack of 9 frames is too deep\nprocessed 16 insns"), NULL), "%s",
		  vlog_buf);
	/* a chain of calls 8 deep loads, 9 deep does not */
	struct bpf_insn chain[20];
	for (int depth = 8; depth <= 9; depth++) {
		__u32 n = 0;
		for (int k = 0; k < depth - 1; k++) {     /* each function calls the next: call +1; exit */
			chain[n++] = (struct bpf_insn)PCALL(1);
			chain[n++] = (struct bpf_insn)EXIT;
		}
		chain[n++] = (struct bpf_insn)MOV0;
		chain[n++] = (struct bpf_insn)EXIT;
		r = load_v(SF, 0, 0, 0, "GPL", chain, n);
		if (depth == 8) {
			cr_assert(eq(i64, r, 0), "%s", vlog_buf);
			/* (the kernel keeps states at calls: not in this statistics line) */
			cr_assert(ne(ptr, strstr(vlog_buf, "processed 16 insns"), NULL), "%s", vlog_buf);
		} else {
			cr_assert(eq(i64, r, -E2BIG), "%s", vlog_buf);
			cr_assert(ne(ptr, strstr(vlog_buf, "the call stack of 9 frames is too deep\nprocessed 8 insns"), NULL),
				  "%s", vlog_buf);
		}
	}
}

BT_TEST(load_global_function_frame)
{
	/* a global function is checked on its own: it starts without the caller's registers
	 * but with its arguments, reads R0 at its exit, and a call to it sets R0 */
	int btf = load_func_btf();
	const struct bpf_insn ok[] = { PCALL(1), EXIT, MOV0, EXIT };
	cr_assert(eq(i64, load_with_funcs(ok, 4, btf, 2, 4, 3), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, "Func#1 ('x') is safe for any args that match its prototype\n" LOADS(4)));
	const struct bpf_insn no_r0[] = { PCALL(1), EXIT, EXIT };
	cr_assert(eq(i64, load_with_funcs(no_r0, 3, btf, 2, 4, 3), -EACCES), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("R0 !read_ok\n", 3)), "%s", vlog_buf);
	const struct bpf_insn reads_r6[] = { MOVK(6), PCALL(1), EXIT, MOVX(0, 6), EXIT };
	cr_assert(eq(i64, load_with_funcs(reads_r6, 5, btf, 3, 4, 3), -EACCES), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("R6 !read_ok\n", 4)), "%s", vlog_buf);
	bt_close(btf);
}

BT_TEST(load_global_functions_in_order)
{
	/* main calls two global functions (func#1, func#2, both of type x); each is walked after main,
	 * in subprogram order; a log of level 1 keeps only the last verdict, or the verdicts before a
	 * failure */
	int btf = load_func_btf();
	const struct bpf_insn two[] = { PCALL(2), PCALL(3), EXIT, MOV0, EXIT, MOV0, EXIT };
	const struct bpf_func_info fi[3] = { { 0, 4 }, { 3, 3 }, { 5, 3 } };
	union bpf_attr a;
	prog_attr(&a, SF, two, 7, "GPL", vlog_buf, sizeof(vlog_buf));
	a.prog_btf_fd = (__u32)btf;
	a.func_info = BT_PTR(fi);
	a.func_info_cnt = 3;
	a.func_info_rec_size = sizeof(fi[0]);
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	bt_close((int)fd);
	cr_assert(eq(str, vlog_buf, "Func#2 ('x') is safe for any args that match its prototype\n" LOADS(7)));
	/* func#2 fails (R0 is not its caller's): func#1's verdict stays */
	const struct bpf_insn second[] = { PCALL(2), PCALL(3), EXIT, MOV0, EXIT, ALU64(BPF_DIV | BPF_K, 0, 0, 0, 1),
					   EXIT };
	a.insns = BT_PTR(second);
	vlog_buf[0] = '\0';
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -EACCES), "%s", vlog_buf);
	cr_assert(eq(ptr, (void *)strstr(vlog_buf, "Func#1 ('x') is safe for any args that match its prototype\n"),
		     (void *)vlog_buf), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("R0 !read_ok\n", 6)), "%s", vlog_buf);
	bt_close(btf);
}

/* An arena map whose user address is set (map_extra), as addr_space_cast needs one. */
BT_TEST(load_addr_space_cast_with_arena)
{
	union bpf_attr m;
	memset(&m, 0, sizeof(m));
	m.map_type = 33;                        /* BPF_MAP_TYPE_ARENA */
	m.max_entries = 4;
	m.map_flags = BPF_F_MMAPABLE;
	m.map_extra = 1ull << 32;
	long arena = bt_map_create_attr(&m);
	cr_assert(ge(i64, arena, 0), "arena: %s", strerror((int)-arena));
	const struct bpf_insn p[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, (int)arena), ALU64(BPF_MOV | BPF_X, 2, 1, 1, 1),
				      ALU64(BPF_MOV | BPF_X, 3, 2, 1, 1 << 16), MOV0, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", p, 6), 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, LOADS(5)));
	const struct bpf_insn bad[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, (int)arena), ALU64(BPF_MOV | BPF_X, 2, 1, 1, 2), MOV0,
					EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", bad, 5), -EINVAL), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("addr_space_cast insn can only convert between address space 1 and 0\n", 2)),
		  "%s", vlog_buf);
	const struct bpf_insn src[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, (int)arena), ALU64(BPF_MOV | BPF_X, 2, 3, 1, 1), MOV0,
					EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", src, 5), -EACCES), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("R3 !read_ok\n", 2)), "%s", vlog_buf);
	/* one arena per program (the same one twice is one) */
	m.map_extra = 2ull << 32;
	long arena2 = bt_map_create_attr(&m);
	cr_assert(ge(i64, arena2, 0), "arena: %s", strerror((int)-arena2));
	const struct bpf_insn same[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, (int)arena), LDIMM(2, BPF_PSEUDO_MAP_FD, (int)arena),
					 MOV0, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", same, 6), 0), "%s", vlog_buf);
	const struct bpf_insn two[] = { LDIMM(1, BPF_PSEUDO_MAP_FD, (int)arena), LDIMM(2, BPF_PSEUDO_MAP_FD, (int)arena2),
					MOV0, EXIT };
	cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", two, 6), -EBUSY), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, PRE("Only one arena per program\n")));
	bt_close((int)arena2);
	bt_close((int)arena);
}

BT_TEST(load_callback_walked_at_its_helper)
{
	/* bpf_loop(1, callback, 0, 0): the callback's error is found at the call */
	int btf = load_func_btf();
	const struct bpf_insn p[] = { ALU64(BPF_MOV | BPF_K, 1, 0, 0, 1), LDIMM(2, BPF_PSEUDO_FUNC, 6), MOVK(3), MOVK(4),
				      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 181), MOV0, EXIT,
				      MOV0, ALU64(BPF_DIV | BPF_K, 0, 0, 0, 0), EXIT };
	cr_assert(eq(i64, load_with_funcs(p, 11, btf, 8, 3, 4), -EINVAL), "%s", vlog_buf);
	cr_assert(ne(ptr, strstr(vlog_buf, "div by zero\nprocessed "), NULL), "%s", vlog_buf);
	bt_close(btf);
}

/* ---- add_subprog_and_kfunc() and the subprogram rules of check_btf_info() ---- */

#define KFUNC(id) INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id)
#define TAIL_CALL INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call)

ParameterizedTestParameters(unit, load_subprog_rules)
{
	static struct order_case cases[] = {
		{ "call out of range", SF, 0, 0, 0, "GPL", { MOV0, PCALL(10), EXIT }, 3, -EINVAL,
		  PRE("call to invalid destination\n"), true },
		{ "call before the program", SF, 0, 0, 0, "GPL", { MOV0, PCALL(-3), EXIT }, 3, -EINVAL,
		  PRE("call to invalid destination\n"), true },
		{ "call with off out of range", SF, 0, 0, 0, "GPL", { MOV0, INSN(BPF_JMP | BPF_CALL, 0, 1, 1, 10), EXIT }, 3,
		  -EINVAL, PRE("call to invalid destination\n"), true },
		{ "callback out of range", SF, 0, 0, 0, "GPL", { LDIMM(2, BPF_PSEUDO_FUNC, -9), MOV0, EXIT }, 4, -EINVAL,
		  PRE("call to invalid destination\n"), true },
		{ "call destination before jumps", SF, 0, 0, 0, "GPL", { PCALL(10), JA(10), MOV0, EXIT }, 4, -EINVAL,
		  PRE("call to invalid destination\n"), true },
		{ "call destination before opcodes", SF, 0, 0, 0, "GPL", { BADOP, PCALL(10), MOV0, EXIT }, 4, -EINVAL,
		  PRE("call to invalid destination\n"), true },
		{ "kfunc before later call", SF, 0, 0, 0, "GPL", { KFUNC(5), PCALL(10), MOV0, EXIT }, 4, -EINVAL,
		  PRE("kernel btf_id 5 is not a function\n"), true },
		{ "call before later kfunc", SF, 0, 0, 0, "GPL", { PCALL(10), KFUNC(5), MOV0, EXIT }, 4, -EINVAL,
		  PRE("call to invalid destination\n"), true },
		/* kfunc id 0 (off 0) is left for dead code elimination: refused after the walk reached it */
		{ "kfunc 0 walked", SF, 0, 0, 0, "GPL", { KFUNC(0), MOV0, EXIT }, 3, -EINVAL,
		  AT_N("invalid kernel function call not eliminated in verifier pass\n", 3), false },
		{ "kfunc 0 after the opcodes", SF, 0, 0, 0, "GPL", { KFUNC(0), BADOP, MOV0, EXIT }, 4, -EINVAL,
		  PRE("unknown opcode ff\n"), true },
		{ "kfunc 0 fields in the walk", SF, 0, 0, 0, "GPL", { INSN(BPF_JMP | BPF_CALL, 1, 2, 0, 0), MOV0, EXIT }, 3,
		  -EINVAL, RSV("BPF_CALL", 1), false },
		{ "kfunc 0 needs GPL first", SF, 0, 0, 0, "MIT", { KFUNC(0), MOV0, EXIT }, 3, -EINVAL,
		  PRE("cannot call kernel function from non-GPL compatible program\n"), true },
		{ "kfunc 0 keeps R1", SF, 0, 0, 0, "GPL", { KFUNC(0), MOVX(0, 1), EXIT }, 3, -EINVAL,
		  AT_N("invalid kernel function call not eliminated in verifier pass\n", 3), false },
		{ "ld_abs in a subprogram", SF, 0, 0, 0, "GPL", { CTX6, PCALL(1), EXIT, LDABS(BPF_W, 0, 0, 0), EXIT }, 5,
		  -EINVAL, PRE("LD_ABS is not allowed in subprogs without BTF\n"), true },
		{ "ld_ind in a later subprogram", SF, 0, 0, 0, "GPL",
		  { CTX6, PCALL(2), MOV0, EXIT, LDIND(BPF_B, 0, 6, 0), EXIT }, 6, -EINVAL,
		  PRE("LD_ABS is not allowed in subprogs without BTF\n"), true },
		{ "tail_call in a subprogram", SF, 0, 0, 0, "GPL", { MOV0, PCALL(1), EXIT, TAIL_CALL, MOV0, EXIT }, 6,
		  -EINVAL, PRE("tail_call is not allowed in subprogs without BTF\n"), true },
		{ "ld_abs named before tail_call", SF, 0, 0, 0, "GPL",
		  { MOV0, PCALL(1), EXIT, TAIL_CALL, LDABS(BPF_W, 0, 0, 0), EXIT }, 6, -EINVAL,
		  PRE("LD_ABS is not allowed in subprogs without BTF\n"), true },
		{ "subprogram rules after jumps", SF, 0, 0, 0, "GPL", { MOV0, PCALL(1), EXIT, TAIL_CALL, JA(5), EXIT }, 6,
		  -EINVAL, PRE("jump out of range from insn 4 to 10\n"), true },
		{ "subprogram rules before opcodes", SF, 0, 0, 0, "GPL", { MOV0, PCALL(1), EXIT, TAIL_CALL, BADOP, EXIT }, 6,
		  -EINVAL, PRE("tail_call is not allowed in subprogs without BTF\n"), true },
		{ "ld_abs in the main program loads", SF, 0, 0, 0, "GPL",
		  { CTX6, LDABS(BPF_W, 0, 0, 0), PCALL(1), EXIT, MOV0, EXIT }, 6, 0, LOADS(6), true },
	};
	return cr_make_param_array(struct order_case, cases, BT_ARRAY_SIZE(cases));
}

ParameterizedTest(struct order_case *c, unit, load_subprog_rules, .init = bt_setup, .fini = bt_teardown)
{
	run_order_case(c);
}

BT_TEST(load_too_many_subprograms)
{
	/* the main program calls n functions (r0 = 0; exit each): 256 subprograms at most */
	static struct bpf_insn p[3 * 256 + 2];
	for (__u32 n = 255; n <= 256; n++) {
		__u32 cnt = 0;
		for (__u32 k = 0; k < n; k++, cnt++)
			p[cnt] = (struct bpf_insn)PCALL((int)(n + 2 + 2 * k - cnt - 1));
		p[cnt++] = (struct bpf_insn)MOV0;
		p[cnt++] = (struct bpf_insn)EXIT;
		for (__u32 k = 0; k < n; k++) {
			p[cnt++] = (struct bpf_insn)MOV0;
			p[cnt++] = (struct bpf_insn)EXIT;
		}
		if (n == 255) {          /* (without a log: the kernel's state dump would not fit) */
			long fd = prog_load(SF, p, cnt, "GPL");
			cr_assert(ge(i64, fd, 0), "%s", strerror((int)-fd));
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			memset(&info, 0, sizeof(info));
			cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
			cr_assert(eq(u32, info.verified_insns, 767));
			bt_close((int)fd);
		} else {
			cr_assert(eq(i64, load_v(SF, 0, 0, 0, "GPL", p, cnt), -E2BIG), "%s", vlog_buf);
			cr_assert(eq(str, vlog_buf, PRE("too many subprograms\n")));
		}
	}
}

BT_TEST(load_func_info_records_first)
{
	/* check_btf_info_early() runs before the calls are looked at */
	int btf = load_func_btf();
	const struct bpf_insn kfunc[] = { KFUNC(5), MOV0, EXIT, MOV0, EXIT };
	func_rec_size = 7;
	cr_assert(eq(i64, load_with_funcs(kfunc, 5, btf, 3, 3, 4), -EINVAL), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, PRE("invalid func info rec size 7\n")));
	func_rec_size = sizeof(struct bpf_func_info);
	/* ... the subprogram layout after them */
	cr_assert(eq(i64, load_with_funcs(kfunc, 5, btf, 3, 3, 4), -EINVAL), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, PRE("kernel btf_id 5 is not a function\n")));
	bt_close(btf);
}

BT_TEST(load_subprogram_returning_void_without_ld_abs)
{
	/* with func_info, packet loads and tail calls need a subprogram returning int */
	int btf = load_func_btf();
	const struct bpf_insn ld_abs[] = { CTX6, PCALL(1), EXIT, LDABS(BPF_W, 0, 0, 0), EXIT };
	cr_assert(eq(i64, load_with_funcs(ld_abs, 5, btf, 3, 3, 6), -EINVAL), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, PRE("LD_ABS is only allowed in functions that return 'int'.\n")));
	const struct bpf_insn tail[] = { MOV0, PCALL(1), EXIT, TAIL_CALL, MOV0, EXIT };
	cr_assert(eq(i64, load_with_funcs(tail, 6, btf, 3, 3, 6), -EINVAL), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, PRE("tail_call is only allowed in functions that return 'int'.\n")));
	/* returning int: the walk goes on (R6 is the caller's, not the callee's) */
	cr_assert(eq(i64, load_with_funcs(ld_abs, 5, btf, 3, 3, 4), -EACCES), "%s", vlog_buf);
	cr_assert(log_ends_with(AT_N("R6 !read_ok\n", 3)), "%s", vlog_buf);
	bt_close(btf);
}

/* ---- the path-sensitive walk (emu/verifier) ---- */

#define MOVI(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOVR(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADDI(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LDXM(sz, d, s, o) INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STXM(sz, d, s, o) INSN(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define JMPI(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JMPR(op, d, s, o) INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define CALLH(id) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
/* what libbpf leaves of a CO-RE relocation that failed: a call no kernel has */
#define POISON CALLH(0xbad2310)

static long load_logged(__u32 type, const struct bpf_insn *p, __u32 n)
{
	union bpf_attr a;
	prog_attr(&a, type, p, n, "GPL", vlog_buf, sizeof(vlog_buf));
	return bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

static __u32 verified(long fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
	return info.verified_insns;
}

BT_TEST(load_dead_branch_is_not_walked)
{
	/* libbpf-tools' runqlat and biolatency: a poisoned CO-RE call in a branch the
	 * kernel proves dead (r0 is 0) is never looked at */
	const struct bpf_insn p[] = { MOVI(0, 0), JMPI(BPF_JEQ, 0, 0, 1), POISON, EXIT };
	long fd = load_logged(BPF_PROG_TYPE_SOCKET_FILTER, p, 4);
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, "processed 3" STATS_TAIL));
	cr_assert(eq(u32, verified(fd), 3));
	bt_close((int)fd);
	/* with an unknown value both branches are walked: the call is refused */
	const struct bpf_insn q[] = { CALLH(BPF_FUNC_get_prandom_u32), JMPI(BPF_JEQ, 0, 0, 1), POISON, EXIT };
	cr_assert(eq(i64, load_logged(BPF_PROG_TYPE_SOCKET_FILTER, q, 4), -EINVAL));
	cr_assert(log_ends_with(AT_N("invalid func unknown#195896080\n", 3)), "%s", vlog_buf);
}

BT_TEST(load_counts_both_branches_and_prunes)
{
	/* a diamond: both sides walked (8 visits, not 6); too short a path for the
	 * kernel to keep a state at the join */
	const struct bpf_insn p[] = { CALLH(BPF_FUNC_get_prandom_u32), MOVI(1, 1), JMPI(BPF_JGT, 0, 5, 1), MOVI(1, 2),
				      MOVR(0, 1), EXIT };
	long fd = load_logged(BPF_PROG_TYPE_SOCKET_FILTER, p, 6);
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	cr_assert(eq(str, vlog_buf, "processed 8" STATS_TAIL));
	cr_assert(eq(u32, verified(fd), 8));
	bt_close((int)fd);
}

BT_TEST(load_uninitialized_stack_read_is_allowed_to_root)
{
	/* CAP_PERFMON: reading a stack slot never written gives an unknown scalar */
	const struct bpf_insn p[] = { LDXM(BPF_DW, 0, 10, -8), EXIT };
	long fd = load_logged(BPF_PROG_TYPE_SOCKET_FILTER, p, 2);
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	bt_close((int)fd);
	/* beyond the frame it is refused */
	const struct bpf_insn q[] = { LDXM(BPF_DW, 0, 10, -520), EXIT };
	cr_assert(eq(i64, load_logged(BPF_PROG_TYPE_SOCKET_FILTER, q, 2), -EACCES));
	cr_assert(log_ends_with(AT_N("invalid read from stack R10 off=-520 size=8\n", 1)), "%s", vlog_buf);
}

BT_TEST(load_packet_access_needs_a_range)
{
	/* xdp: one byte past what data_end was compared with */
	const struct bpf_insn p[] = { LDXM(BPF_W, 2, 1, 0), LDXM(BPF_W, 3, 1, 4), MOVR(4, 2), ADDI(4, 14),
				      JMPR(BPF_JGT, 4, 3, 1), LDXM(BPF_B, 0, 2, 14), MOVI(0, 2), EXIT };
	cr_assert(eq(i64, load_logged(BPF_PROG_TYPE_XDP, p, 8), -EACCES));
	cr_assert(log_ends_with(AT_N("invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)\n"
				     "R2 offset is outside of the packet\n", 6)), "%s", vlog_buf);
	/* at offset 13 it is in range */
	struct bpf_insn ok[8];
	memcpy(ok, p, sizeof(ok));
	ok[5].off = 13;
	long fd = load_logged(BPF_PROG_TYPE_XDP, ok, 8);
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	bt_close((int)fd);
}

BT_TEST(load_map_value_needs_a_null_check)
{
	long map = bt_map_create(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	cr_assert(ge(i64, map, 0));
	const struct bpf_insn p[] = { INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0), LDIMM(1, BPF_PSEUDO_MAP_FD, (int)map),
				      MOVR(2, 10), ADDI(2, -4), CALLH(BPF_FUNC_map_lookup_elem), LDXM(BPF_DW, 0, 0, 0),
				      EXIT };
	cr_assert(eq(i64, load_logged(BPF_PROG_TYPE_SOCKET_FILTER, p, 8), -EACCES));
	cr_assert(log_ends_with(AT_N("R0 invalid mem access 'map_value_or_null'\n", 6)), "%s", vlog_buf);
	bt_close((int)map);
}

BT_TEST(load_jump_sequence_limit)
{
	/* 9000 forks pending at once: BPF_COMPLEXITY_LIMIT_JMP_SEQ (8192) */
	static struct bpf_insn p[9003];
	static char big[1 << 20];
	const char *tail = "The sequence of 8193 jumps is too complex.\nprocessed 8194 insns (limit 1000000) "
			   "max_states_per_insn 0 total_states 1024 peak_states 1024 mark_read 0\n";
	p[0] = (struct bpf_insn)CALLH(BPF_FUNC_get_prandom_u32);
	for (int k = 0; k < 9000; k++)
		p[1 + k] = (struct bpf_insn)JMPI(BPF_JEQ, 0, k + 1, 0);
	p[9001] = (struct bpf_insn)MOVI(0, 0);
	p[9002] = (struct bpf_insn)EXIT;
	union bpf_attr a;
	prog_attr(&a, BPF_PROG_TYPE_SOCKET_FILTER, p, 9003, "GPL", big, sizeof(big));
	cr_assert(eq(i64, bt_bpf(BPF_PROG_LOAD, &a, sizeof(a)), -E2BIG));
	size_t n = strlen(big), t = strlen(tail);
	cr_assert(ge(u64, n, t));
	cr_assert(eq(str, big + n - t, (char *)tail));
}

/* ---- what a program type's verifier_ops give it: helper prototypes
 * (get_func_proto hands some types another prototype of a helper), the
 * context (is_valid_access), stores through kernel pointers
 * (btf_struct_access). The errno and error line are the kernel's (Linux
 * 6.18.44); the kernel build skips a case whose program type, attach type or
 * target the host refuses ("r0 = 0; exit" does not load). ---- */

#define PT_NETFILTER 32          /* BPF_PROG_TYPE_NETFILTER, BPF_NETFILTER: not in the installed headers */
#define AT_NETFILTER 45
#define ST8(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, i)
#define STB(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_B, d, 0, o, i)
#define STW(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define FP(d, o) MOVR(d, 10), ADDI(d, o)

struct type_case {
	char name[48];
	__u32 type, attach;
	char btf[40];                   /* attach_btf_id: this name in the kernel's BTF, "" for none */
	__u32 btf_kind;
	struct bpf_insn insns[16];
	__u32 cnt;
	long err;
	char line[112];                 /* the line before the statistics line of a refused load */
};

ParameterizedTestParameters(unit, load_program_type_protos)
{
	static struct type_case cases[] = {
		/* sk_assign: sk_lookup's prototype takes a socket or NULL (bpf_sk_lookup_assign_proto), tc's a
		 * sock_common */
		{ "sk_lookup sk_assign NULL", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, "", 0,
		  { MOVI(2, 0), MOVI(3, 0), CALLH(BPF_FUNC_sk_assign), MOVI(0, 0), EXIT }, 5, 0, "" },
		{ "sk_lookup sk_assign ctx->sk", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, "", 0,
		  { MOVR(6, 1), LDXM(BPF_DW, 2, 1, 0), MOVR(1, 6), MOVI(3, 0), CALLH(BPF_FUNC_sk_assign), MOVI(0, 0), EXIT },
		  7, 0, "" },
		{ "sk_lookup sk_assign scalar", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, "", 0,
		  { MOVI(2, 1), MOVI(3, 0), CALLH(BPF_FUNC_sk_assign), MOVI(0, 0), EXIT }, 5, -EACCES,
		  "R2 type=scalar expected=sock" },
		{ "tc sk_assign NULL", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { MOVI(2, 0), MOVI(3, 0), CALLH(BPF_FUNC_sk_assign), MOVI(0, 0), EXIT }, 5, -EACCES,
		  "R2 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_" },
		/* get_cgroup_classid: the context in tc and lwt, no argument where bpf_base_func_proto answers */
		{ "kprobe get_cgroup_classid scalar", BPF_PROG_TYPE_KPROBE, 0, "", 0,
		  { MOVI(1, 0), CALLH(BPF_FUNC_get_cgroup_classid), EXIT }, 3, 0, "" },
		{ "tc get_cgroup_classid scalar", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { MOVI(1, 0), CALLH(BPF_FUNC_get_cgroup_classid), EXIT }, 3, -EACCES, "R1 type=scalar expected=ctx" },
		{ "lwt_xmit get_cgroup_classid scalar", BPF_PROG_TYPE_LWT_XMIT, 0, "", 0,
		  { MOVI(1, 0), CALLH(BPF_FUNC_get_cgroup_classid), EXIT }, 3, -EACCES, "R1 type=scalar expected=ctx" },
		{ "cgroup_skb get_cgroup_classid scalar", BPF_PROG_TYPE_CGROUP_SKB, 0, "", 0,
		  { MOVI(1, 0), CALLH(BPF_FUNC_get_cgroup_classid), EXIT }, 3, -EINVAL,
		  "At program exit the register R0 has unknown scalar value should have been in [0, 1]" },
		/* get_socket_cookie: sk_reuseport's takes a sock_common pointer or NULL */
		{ "sk_reuseport get_socket_cookie NULL", BPF_PROG_TYPE_SK_REUSEPORT, 0, "", 0,
		  { MOVI(1, 0), CALLH(BPF_FUNC_get_socket_cookie), EXIT }, 3, 0, "" },
		{ "sk_reuseport get_socket_cookie ctx", BPF_PROG_TYPE_SK_REUSEPORT, 0, "", 0,
		  { CALLH(BPF_FUNC_get_socket_cookie), EXIT }, 2, -EACCES,
		  "R1 type=ctx expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_" },
		{ "tc get_socket_cookie NULL", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { MOVI(1, 0), CALLH(BPF_FUNC_get_socket_cookie), EXIT }, 3, -EACCES, "R1 type=scalar expected=ctx" },
		/* setsockopt: a socket in cgroup sockopt programs, the context in sock_ops and sock_addr */
		{ "sockopt setsockopt ctx->sk", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, "", 0,
		  { LDXM(BPF_DW, 1, 1, 0), ST8(10, -8, 0), MOVI(2, 1), MOVI(3, 36), FP(4, -8), MOVI(5, 4),
		    CALLH(BPF_FUNC_setsockopt), MOVI(0, 1), EXIT }, 10, 0, "" },
		{ "sockopt setsockopt ctx", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, "", 0,
		  { ST8(10, -8, 0), MOVI(2, 1), MOVI(3, 36), FP(4, -8), MOVI(5, 4), CALLH(BPF_FUNC_setsockopt), MOVI(0, 1),
		    EXIT }, 9, -EACCES, "R1 type=ctx expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_" },
		{ "sock_ops setsockopt ctx", BPF_PROG_TYPE_SOCK_OPS, 0, "", 0,
		  { ST8(10, -8, 0), MOVI(2, 1), MOVI(3, 36), FP(4, -8), MOVI(5, 4), CALLH(BPF_FUNC_setsockopt), MOVI(0, 1),
		    EXIT }, 9, 0, "" },
		/* return types and argument details of the prototypes */
		{ "tc set_hash_invalid returns a value", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { CALLH(BPF_FUNC_set_hash_invalid), EXIT }, 2, 0, "" },
		{ "tc check_mtu length misaligned", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { ST8(10, -8, 0), MOVI(2, 0), FP(3, -6), MOVI(4, 0), MOVI(5, 0), CALLH(BPF_FUNC_check_mtu), MOVI(0, 0),
		    EXIT }, 9, -EACCES, "misaligned stack access off 0+-6+0 size 4" },
		{ "tc sk_lookup_tcp tuple size 0", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { ST8(10, -8, 0), FP(2, -8), MOVI(3, 0), MOVI(4, 0), MOVI(5, 0), CALLH(BPF_FUNC_sk_lookup_tcp),
		    JMPI(BPF_JEQ, 0, 0, 2), MOVR(1, 0), CALLH(BPF_FUNC_sk_release), MOVI(0, 0), EXIT }, 12, 0, "" },
		{ "kprobe get_ns_current_pid_tgid size 0", BPF_PROG_TYPE_KPROBE, 0, "", 0,
		  { MOVI(1, 0), MOVI(2, 0), FP(3, -8), MOVI(4, 0), CALLH(BPF_FUNC_get_ns_current_pid_tgid), MOVI(0, 0),
		    EXIT }, 8, -EACCES, "R4 invalid zero-sized read: u64=[0,0]" },
		{ "tc skb_load_bytes into the packet", BPF_PROG_TYPE_SCHED_CLS, 0, "", 0,
		  { LDXM(BPF_W, 2, 1, 76), LDXM(BPF_W, 3, 1, 80), MOVR(4, 2), ADDI(4, 8), JMPR(BPF_JGT, 4, 3, 5),
		    MOVR(3, 2), MOVI(2, 0), MOVI(4, 8), CALLH(BPF_FUNC_skb_load_bytes), MOVI(0, 0), EXIT }, 11, -EACCES,
		  "helper access to the packet is not allowed" },
		/* netfilter: struct bpf_nf_ctx holds trusted pointers to the hook state and the skb */
		{ "netfilter reads state and skb", PT_NETFILTER, AT_NETFILTER, "", 0,
		  { LDXM(BPF_DW, 2, 1, 0), LDXM(BPF_B, 3, 2, 0), LDXM(BPF_DW, 2, 1, 8), LDXM(BPF_W, 3, 2, 112), MOVI(0, 1),
		    EXIT }, 6, 0, "" },
		{ "netfilter ctx load of 4 bytes", PT_NETFILTER, AT_NETFILTER, "", 0,
		  { LDXM(BPF_W, 2, 1, 0), MOVI(0, 1), EXIT }, 3, -EACCES, "invalid bpf_context access off=0 size=4" },
		{ "netfilter ctx store", PT_NETFILTER, AT_NETFILTER, "", 0,
		  { ST8(1, 0, 0), MOVI(0, 1), EXIT }, 3, -EACCES, "invalid bpf_context access off=0 size=8" },
		{ "netfilter ctx past the end", PT_NETFILTER, AT_NETFILTER, "", 0,
		  { LDXM(BPF_DW, 2, 1, 16), MOVI(0, 1), EXIT }, 3, -EACCES, "invalid bpf_context access off=16 size=8" },
		{ "netfilter store into the state", PT_NETFILTER, AT_NETFILTER, "", 0,
		  { LDXM(BPF_DW, 2, 1, 0), STB(2, 0, 1), MOVI(0, 1), EXIT }, 4, -EACCES, "only read is supported" },
		{ "netfilter skb->next as 4 bytes", PT_NETFILTER, AT_NETFILTER, "", 0,
		  { LDXM(BPF_DW, 2, 1, 8), LDXM(BPF_W, 3, 2, 0), MOVI(0, 1), EXIT }, 4, -EACCES,
		  "cannot access ptr member next with moff 0 in struct (anon) with off 0 size 4" },
		/* bpf_dummy_ops: test_1's state may be written, within struct bpf_dummy_ops_state */
		{ "bpf_dummy_ops test_1 writes its state", BPF_PROG_TYPE_STRUCT_OPS, 0, "bpf_dummy_ops", BTF_KIND_STRUCT,
		  { LDXM(BPF_DW, 2, 1, 0), MOVI(0, 0), JMPI(BPF_JEQ, 2, 0, 1), STW(2, 0, 7), EXIT }, 5, 0, "" },
		{ "bpf_dummy_ops test_1 writes past it", BPF_PROG_TYPE_STRUCT_OPS, 0, "bpf_dummy_ops", BTF_KIND_STRUCT,
		  { LDXM(BPF_DW, 2, 1, 0), MOVI(0, 0), JMPI(BPF_JEQ, 2, 0, 1), STW(2, 4, 7), EXIT }, 5, -EACCES,
		  "write access at off 4 with size 4" },
		/* tracing: a pointer to an int or to void is a scalar (btf_ctx_access), only 8-byte loads */
		{ "tp_btf int pointer dereferenced", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "btf_trace_bpf_test_finish",
		  BTF_KIND_TYPEDEF, { LDXM(BPF_DW, 2, 1, 0), LDXM(BPF_W, 2, 2, 0), MOVI(0, 0), EXIT }, 4, -EACCES,
		  "R2 invalid mem access 'scalar'" },
		{ "tp_btf int pointer compared", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "btf_trace_bpf_test_finish",
		  BTF_KIND_TYPEDEF, { LDXM(BPF_DW, 2, 1, 0), MOVI(0, 0), JMPI(BPF_JEQ, 2, 0, 1), MOVI(0, 0), EXIT }, 5, 0,
		  "" },
		{ "tp_btf int pointer as 4 bytes", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "btf_trace_bpf_test_finish",
		  BTF_KIND_TYPEDEF, { LDXM(BPF_W, 2, 1, 0), MOVI(0, 0), EXIT }, 3, -EACCES,
		  "invalid bpf_context access off=0 size=4" },
		{ "tp_btf void pointer dereferenced", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "btf_trace_kfree",
		  BTF_KIND_TYPEDEF, { LDXM(BPF_DW, 2, 1, 8), LDXM(BPF_B, 2, 2, 0), MOVI(0, 0), EXIT }, 4, -EACCES,
		  "R2 invalid mem access 'scalar'" },
	};
	return cr_make_param_array(struct type_case, cases, BT_ARRAY_SIZE(cases));
}

/* the line before "processed N insns ..." */
static void error_line(char *out, size_t n)
{
	const char *stats = NULL, *p = vlog_buf;
	while ((p = strstr(p, "processed ")))
		if (p == vlog_buf || p[-1] == '\n')
			stats = p++;
		else
			p++;
	out[0] = '\0';
	if (!stats || stats == vlog_buf)
		return;
	const char *end = stats - 1, *start = end;
	while (start > vlog_buf && start[-1] != '\n')
		start--;
	snprintf(out, n, "%.*s", (int)(end - start), start);
}

ParameterizedTest(struct type_case *c, unit, load_program_type_protos, .init = bt_setup, .fini = bt_teardown)
{
	__u32 id = 0;
	if (c->btf[0] && !(id = bt_kbtf_id(c->btf, c->btf_kind)))
		bt_skip("no %s in this kernel's BTF", c->btf);
#ifdef BPFEMU_TEST_KERNEL
	static const struct bpf_insn r0[] = { MOV0, EXIT };
	long host = load_v(c->type, c->attach, 0, id, "GPL", r0, 2);
	if (host < 0)
		bt_skip("the host kernel refuses program type %u, attach type %u%s%s: %s", c->type, c->attach,
			c->btf[0] ? " on " : "", c->btf, strerror((int)-host));
#endif
	long r = load_v(c->type, c->attach, 0, id, "GPL", c->insns, c->cnt);
	char line[256];
	error_line(line, sizeof(line));
	cr_assert(eq(i64, r, c->err), "%s: %s\n%s", c->name, strerror((int)-r), vlog_buf);
	if (c->err)
		cr_assert(eq(str, line, c->line), "%s\n%s", c->name, vlog_buf);
}

#ifndef BPFEMU_TEST_KERNEL
#include "obj.h"
#include "verifier/verifier.h"

/* what the verifier proved of each instruction, kept in the program object */
static const struct emu_insn_aux *prog_aux(long fd, struct emu_obj **objp)
{
	int acc;
	cr_assert(eq(int, emu_fd_get((int)fd, EMU_KIND_PROG, objp, &acc), 0));
	const struct emu_prog_desc *d = &(*objp)->hdr->prog;
	cr_assert(eq(u32, d->nr_insn_aux, d->insn_cnt));
	const char *data = emu_obj_data(*objp);
	return (const void *)(data + d->insn_cnt * sizeof(struct bpf_insn) + d->nr_func_info * sizeof(struct bpf_func_info) +
			      d->nr_line_info * sizeof(struct bpf_line_info));
}

BT_TEST(load_keeps_the_verifiers_facts)
{
	/* xdp: context loads, a checked packet load, a stack spill, a dead instruction */
	const struct bpf_insn p[] = {
		LDXM(BPF_W, 2, 1, 0), LDXM(BPF_W, 3, 1, 4), MOVR(4, 2), ADDI(4, 14), JMPR(BPF_JGT, 4, 3, 5),
		LDXM(BPF_B, 0, 2, 12), STXM(BPF_DW, 10, 0, -8), MOVI(5, 0), JMPI(BPF_JEQ, 5, 0, 1),
		LDXM(BPF_DW, 0, 10, -8), MOVI(0, 2), EXIT };
	long fd = load_logged(BPF_PROG_TYPE_XDP, p, 12);
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	struct emu_obj *obj;
	const struct emu_insn_aux *aux = prog_aux(fd, &obj);
	cr_assert(eq(u8, aux[0].mem, EMU_MEM_CTX));
	cr_assert(eq(u8, aux[0].ctx_field_size, 0), "xdp_md.data takes no narrow loads");
	cr_assert(eq(u8, aux[0].in_bounds, 1));
	cr_assert(eq(u8, aux[2].mem, EMU_MEM_NONE));
	cr_assert(eq(u8, aux[5].mem, EMU_MEM_PACKET));
	cr_assert(eq(u8, aux[5].in_bounds, 1));
	cr_assert(eq(i32, aux[5].fixed_off, 12));
	cr_assert(eq(u8, aux[6].mem, EMU_MEM_STACK));
	cr_assert(eq(i32, aux[6].fixed_off, -8));
	/* r5 is 0: the jump at 8 is always taken, the load after it dead; the
	 * kernel's passes cut both (the jump became `ja +1`, then `ja 0`): the
	 * stored program and its facts are the 10 instructions left */
	cr_assert(eq(u32, obj->hdr->prog.insn_cnt, 10));
	cr_assert(eq(u32, obj->hdr->prog.loaded_insn_cnt, 12));
	for (int i = 0; i < 10; i++)
		cr_assert(eq(u8, aux[i].seen, 1), "insn %d", i);
	const struct bpf_insn *xl = emu_obj_data(obj);
	cr_assert(eq(u8, xl[8].code, BPF_ALU64 | BPF_MOV | BPF_K), "r0 = 2 moved up to 8");
	cr_assert(eq(i32, xl[8].imm, 2));
	cr_assert(eq(u8, aux[8].mem, EMU_MEM_NONE));
	emu_obj_put(obj);
	bt_close((int)fd);
}

BT_TEST(load_keeps_variable_map_value_offsets)
{
	long map = bt_map_create(BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0);
	cr_assert(ge(i64, map, 0));
	const struct bpf_insn p[] = {
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0), LDIMM(1, BPF_PSEUDO_MAP_FD, (int)map), MOVR(2, 10),
		ADDI(2, -4), CALLH(BPF_FUNC_map_lookup_elem), JMPI(BPF_JEQ, 0, 0, 5), MOVR(6, 0),
		CALLH(BPF_FUNC_get_prandom_u32), INSN(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 8),
		INSN(BPF_ALU64 | BPF_ADD | BPF_X, 6, 0, 0, 0), LDXM(BPF_DW, 0, 6, 0), MOVI(0, 0), EXIT };
	long fd = load_logged(BPF_PROG_TYPE_SOCKET_FILTER, p, 14);
	cr_assert(ge(i64, fd, 0), "%s", vlog_buf);
	struct emu_obj *obj;
	const struct emu_insn_aux *aux = prog_aux(fd, &obj);
	cr_assert(eq(u8, aux[11].mem, EMU_MEM_MAP_VALUE));
	cr_assert(eq(u8, aux[11].in_bounds, 1));
	cr_assert(eq(i32, aux[11].fixed_off, INT32_MIN), "the offset is 0 or 8");
	struct bpf_map_info mi;
	__u32 len = sizeof(mi);
	memset(&mi, 0, sizeof(mi));
	cr_assert(eq(i64, bt_info((int)map, &mi, &len), 0));
	cr_assert(eq(u32, aux[1].map_id, mi.id));
	emu_obj_put(obj);
	bt_close((int)fd);
	bt_close((int)map);
}
#endif
