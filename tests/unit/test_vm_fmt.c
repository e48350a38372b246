/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_fmt.c: the formatting and string helpers, engine and
 * kernel (test_vm_fmt_kernel): bpf_snprintf's output, return value and
 * errors (Linux 6.18's format rules and its 512-byte argument budget),
 * bpf_trace_printk and bpf_trace_vprintk as trace shows them (the kernel's
 * tracefs, mounted in the test's private mount namespace; the engine's
 * /sys/kernel/tracing view), bpf_strtol, bpf_strtoul and bpf_strncmp. The
 * programs are syscall programs: the context is the test's buffer, copied
 * back after the run.
 */
#include "insn.h"

#include <sys/mount.h>

#define SYSCALL BT_PROG_TYPE_SYSCALL
#define FMT_TEST(name, ...) Test(vm_fmt, name, .init = bt_setup, .fini = bt_teardown, ##__VA_ARGS__)

/* a read-only, frozen array map holding str: what ARG_PTR_TO_CONST_STR wants */
static int const_str(const char *str, size_t len)
{
	int m = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 128, 1, BPF_F_RDONLY_PROG);
	char v[128] = { 0 };
	cr_assert(le(sz, len, sizeof(v)));
	memcpy(v, str, len);
	__u32 k = 0;
	cr_assert(eq(i64, bt_update(m, &k, v, 0), 0));
	cr_assert(eq(i64, bt_freeze(m), 0));
	return m;
}

/* the context of every program here */
struct ctx {
	char out[64];                /* snprintf's buffer */
	__u64 args[12];              /* its data (string arguments point into strs) */
	char strs[4][64];            /* arguments' strings, IP addresses */
	__u64 res;                   /* strtol's result */
	char buf[96];                /* strtol's and strncmp's input, trace_printk's format */
};

static int run(int fd, struct ctx *c, __u32 *retval)
{
	return (int)bt_run_ctx(fd, c, sizeof(*c), retval);
}

/* Helpers take no context memory (Linux 6.18 wants the stack, a map value...):
 * the programs copy between the context (R6) and the stack, 8 bytes at a time. */
static void copy_in(struct bpf_insn *p, __u32 *n, size_t ctx_off, int fp_off, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		p[(*n)++] = LDX(BPF_DW, 2, 6, (__s16)(ctx_off + i));
		p[(*n)++] = STX(BPF_DW, 10, 2, (__s16)(fp_off + (int)i));
	}
}

static void copy_out(struct bpf_insn *p, __u32 *n, int fp_off, size_t ctx_off, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		p[(*n)++] = LDX(BPF_DW, 2, 10, (__s16)(fp_off + (int)i));
		p[(*n)++] = STX(BPF_DW, 6, 2, (__s16)(ctx_off + i));
	}
}

/* the stack: strings at -256, args at -352, snprintf's out at -416; strto's buf at -96, res at -104 */
#define FP_STRS (-256)
#define FP_ARGS (-352)
#define FP_OUT (-416)
#define FP_BUF (-96)
#define FP_RES (-104)

/* snprintf(out, out_size, fmt, args, nargs * 8) on the stack copies of the
 * ctx's, the args pointing at the strings where ptrs[i] >= 0; out copied back */
static int snprintf_prog(int fmt_map, __u32 out_size, __u32 nargs, const int *ptrs)
{
	static struct bpf_insn p[400];
	__u32 n = 0;
	p[n++] = MOV64_R(6, 1);
	copy_in(p, &n, offsetof(struct ctx, strs), FP_STRS, sizeof(((struct ctx *)0)->strs));
	copy_in(p, &n, offsetof(struct ctx, args), FP_ARGS, sizeof(((struct ctx *)0)->args));
	copy_in(p, &n, offsetof(struct ctx, out), FP_OUT, sizeof(((struct ctx *)0)->out));
	for (__u32 i = 0; ptrs && i < nargs; i++) {
		if (ptrs[i] < 0)
			continue;
		p[n++] = MOV64_R(2, 10);
		p[n++] = ALU64_I(BPF_ADD, 2, FP_STRS + 64 * ptrs[i]);
		p[n++] = STX(BPF_DW, 10, 2, (__s16)(FP_ARGS + 8 * (int)i));
	}
	struct bpf_insn call[] = {
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, FP_OUT),
		MOV64_I(2, (__s32)out_size),
		LD_MAPVAL(3, fmt_map, 0),
		MOV64_R(4, 10), ALU64_I(BPF_ADD, 4, FP_ARGS),
		MOV64_I(5, (__s32)(nargs * 8)),
		CALL(BPF_FUNC_snprintf),
		MOV64_R(7, 0),
	};
	if (!nargs) {
		call[5] = MOV64_I(4, 0);
		call[6] = MOV64_I(4, 0);
	}
	memcpy(p + n, call, sizeof(call));
	n += N_INSNS(call);
	copy_out(p, &n, FP_OUT, offsetof(struct ctx, out), sizeof(((struct ctx *)0)->out));
	p[n++] = MOV64_R(0, 7);
	p[n++] = EXIT;
	long fd = bt_prog_load(SYSCALL, 0, BPF_F_SLEEPABLE, p, n);
	cr_assert(fd >= 0 || fd == -EINVAL, "load: %s\n%s", strerror((int)-fd), bt_log);
	return (int)fd;
}

struct sn_case {
	const char *fmt;
	__u32 nargs;
	__u64 args[12];
	int ptrs[12];                 /* index into strs, or -1 */
	const char *strs[4];
	const char *want;             /* NULL: an error */
	int ret;                      /* snprintf's return: the length with the NUL, or -errno */
	__u32 raw;                    /* copy this many bytes of strs[0] (not a string) */
};

static void snprintf_case(const struct sn_case *t, __u32 out_size)
{
	int m = const_str(t->fmt, strlen(t->fmt) + 1);
	int fd = snprintf_prog(m, out_size, t->nargs, t->ptrs);
	if (fd < 0) {
		/* Linux 6.18's verifier checks a constant format at load (check_bpf_snprintf_call) */
		cr_expect(eq(int, fd, t->ret), "load with snprintf(\"%s\")", t->fmt);
		cr_expect(ne(ptr, strstr(bt_log, "Invalid format string"), NULL), "%s", bt_log);
		bt_close(m);
		return;
	}
	struct ctx c;
	memset(&c, 0, sizeof(c));
	memset(c.out, 'Z', sizeof(c.out));
	memcpy(c.args, t->args, sizeof(c.args));
	for (int i = 0; i < 4; i++)
		if (t->strs[i])
			memcpy(c.strs[i], t->strs[i], i == 0 && t->raw ? t->raw : strnlen(t->strs[i], 63) + 1);
	__u32 ret = 0;
	cr_assert(eq(int, run(fd, &c, &ret), 0), "%s", t->fmt);
	cr_expect(eq(i32, (int)ret, t->ret), "snprintf(\"%s\")", t->fmt);
	if (t->want) {
		size_t wl = strlen(t->want);
		size_t shown = wl < out_size ? wl : out_size - 1;
		cr_expect(eq(int, memcmp(c.out, t->want, shown), 0), "snprintf(\"%s\"): \"%.64s\"", t->fmt, c.out);
		cr_expect(eq(chr, c.out[shown], '\0'), "%s", t->fmt);
	}
	bt_close(fd);
	bt_close(m);
}

FMT_TEST(snprintf_formats_as_the_kernel)
{
	bt_kernel_needs_syscall_progs();
	static const struct sn_case cases[] = {
		{ "%d %u %x %X|%i", 5, { (__u64)-5, (__u64)-5, 0xabc, 0xabc, 7 }, { -1, -1, -1, -1, -1 }, { 0 },
		  "-5 4294967291 abc ABC|7", 24, 0 },
		{ "[%5d][%-5d][%05d][%+d][% d]", 5, { 42, 42, 42, 42, 42 }, { -1, -1, -1, -1, -1 }, { 0 },
		  "[   42][42   ][00042][+42][ 42]", 32, 0 },
		{ "%ld %lld %lu %llx %lX", 5, { (__u64)-1, 1ull << 40, (__u64)-1, 0xdeadbeefcafeull, 255, 0 },
		  { -1, -1, -1, -1, -1 }, { 0 }, "-1 1099511627776 18446744073709551615 deadbeefcafe FF", 54, 0 },
		{ "%s|%8s|%-4s|", 3, { 0 }, { 0, 1, 2 }, { "abc", "xy", "z" }, "abc|      xy|z   |", 19, 0 },
		{ "%c%c%c!", 3, { 'o', 'k', 0x141 }, { -1, -1, -1 }, { 0 }, "okA!", 5, 0 },
		{ "%pI4 %pi4", 2, { 0 }, { 0, 0 }, { "\x0a\x00\x00\x01" }, "10.0.0.1 010.000.000.001", 25, 4 },
		{ "%pI6|%pi6", 2, { 0 }, { 0, 0, 0 },
		  { "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" },
		  "2001:0db8:0000:0000:0000:0000:0000:0001|20010db8000000000000000000000001", 73, 16 },
		{ "%px %ps", 2, { 0x1234, 0x1234 }, { -1, -1 }, { 0 }, "0000000000001234 0x1234", 24, 0 },
		{ "100%% %d", 1, { 3 }, { -1 }, { 0 }, "100% 3", 7, 0 },
		{ "no args", 0, { 0 }, { -1 }, { 0 }, "no args", 8, 0 },
		{ "%q", 1, { 0 }, { -1 }, { 0 }, NULL, -EINVAL, 0 },
		{ "%d %d", 1, { 0 }, { -1 }, { 0 }, NULL, -EINVAL, 0 },
		{ "%.2d", 1, { 0 }, { -1 }, { 0 }, NULL, -EINVAL, 0 },
		{ "%sx", 1, { 0 }, { 0 }, { "a" }, NULL, -EINVAL, 0 },
		{ "%lld %hd", 2, { 0 }, { -1, -1 }, { 0 }, NULL, -EINVAL, 0 },
		{ "tab\there\n", 0, { 0 }, { -1 }, { 0 }, "tab\there\n", 10, 0 },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++)
		snprintf_case(&cases[i], 64);
}

FMT_TEST(snprintf_cuts_the_text_and_returns_the_whole_length)
{
	bt_kernel_needs_syscall_progs();
	static const struct sn_case c = { "%d-%d-%d", 3, { 111, 222, 333 }, { -1, -1, -1 }, { 0 }, "111-222-333", 12, 0 };
	snprintf_case(&c, 6);
	snprintf_case(&c, 12);
	/* a bad data length: EINVAL */
	int m = const_str("%d", 3);
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -8, 0), ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -24, 0), ST(BPF_DW, 10, -32, 0),
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, -32), MOV64_I(2, 16), LD_MAPVAL(3, m, 0),
		MOV64_R(4, 10), ALU64_I(BPF_ADD, 4, -16), MOV64_I(5, 12),
		CALL(BPF_FUNC_snprintf), EXIT,
	};
	/* Linux 6.18's verifier refuses it at load (the length is a constant); a
	 * loader that got past it (bpfemu's verifier does not look) gets -EINVAL */
	long fd = bt_prog_load(SYSCALL, 0, BPF_F_SLEEPABLE, p, N_INSNS(p));
	if (fd < 0) {
		cr_assert(eq(i64, fd, -EINVAL));
		return;
	}
	struct ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	__u32 ret;
	cr_assert(eq(int, run((int)fd, &ctx, &ret), 0));
	cr_assert(eq(i32, (int)ret, -EINVAL));
}

FMT_TEST(snprintf_argument_budget_is_512_bytes)
{
	bt_kernel_needs_syscall_progs();
	/* 12 strings of 63 bytes: the binary form of the arguments fills up */
	struct sn_case c = { "%s%s%s%s%s%s%s%s%s%s%s%s", 12, { 0 }, { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3 }, { 0 }, NULL, 0, 0 };
	static char s[4][64];
	for (int i = 0; i < 4; i++) {
		memset(s[i], 'a' + i, 63);
		s[i][63] = '\0';
		c.strs[i] = s[i];
	}
	/* 8 strings take 8 * 64 = 512: the 9th finds no room */
	c.ret = -ENOSPC;
	snprintf_case(&c, 64);
	/* 7 strings and an int past them: 448, aligned, + 4 fits; 8 strings and nothing else fits too */
	struct sn_case d = { "%s%s%s%s%s%s%s%s", 8, { 0 }, { 0, 1, 2, 3, 0, 1, 2, 3 }, { 0 }, NULL, 8 * 63 + 1, 0 };
	memcpy(d.strs, c.strs, sizeof(d.strs));
	snprintf_case(&d, 64);
}

/* ---- trace_printk, trace_vprintk: the lines trace shows ---- */

/* the whole trace file: the kernel's (tracefs mounted here) or the engine's view */
static size_t read_trace(char *buf, size_t size)
{
#ifdef BPFEMU_TEST_KERNEL
	static bool mounted;
	if (!mounted) {
		if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY)
			bt_skip("cannot mount tracefs: %s", strerror(errno));
		mounted = true;
	}
	int fd = open("/sys/kernel/tracing/trace", O_RDONLY | O_CLOEXEC);
#else
	int fd = emu_proc_open("/sys/kernel/tracing/trace", O_RDONLY | O_CLOEXEC);
#endif
	cr_assert(ge(i32, fd, 0), "open trace: %s", strerror(errno));
	size_t len = 0;
	ssize_t n;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return len;
}

/* the message part of the line that has tag in it, or NULL; *flags gets the flags column */
static const char *event_line(char *trace, const char *tag, char flags[6])
{
	char *l = strstr(trace, tag);
	if (!l)
		return NULL;
	char *start = l;
	while (start > trace && start[-1] != '\n')
		start--;
	char *br = strstr(start, "] ");
	if (br && br < l) {
		memcpy(flags, br + 2, 5);
		flags[5] = '\0';
	}
	char *m = strstr(start, ": bpf_trace_printk: ");
	return m ? m + strlen(": bpf_trace_printk: ") : NULL;
}

FMT_TEST(trace_printk_and_vprintk_lines)
{
	bt_kernel_needs_syscall_progs();
	char tag[32], fmt1[96], fmt2[96];
	snprintf(tag, sizeof(tag), "tag%d", (int)getpid());
	int n1 = snprintf(fmt1, sizeof(fmt1), "%s p %%d %%x %%s\n", tag);
	int n2 = snprintf(fmt2, sizeof(fmt2), "%s v %%llu %%c %%s %%5d|", tag);
	/* trace_printk(fmt1, n1 + 1, -7, 255, "str") */
	static struct bpf_insn p[200];
	__u32 n = 0;
	p[n++] = MOV64_R(6, 1);
	copy_in(p, &n, offsetof(struct ctx, buf), FP_BUF, sizeof(((struct ctx *)0)->buf));
	copy_in(p, &n, offsetof(struct ctx, strs), FP_STRS, 64);
	struct bpf_insn pc[] = {
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, FP_BUF),
		MOV64_I(2, n1 + 1),
		MOV64_I(3, -7), MOV64_I(4, 255),
		MOV64_R(5, 10), ALU64_I(BPF_ADD, 5, FP_STRS),
		CALL(BPF_FUNC_trace_printk),
		EXIT,
	};
	memcpy(p + n, pc, sizeof(pc));
	n += N_INSNS(pc);
	int fd = bt_prog_new(SYSCALL, p, n);
	struct ctx c;
	memset(&c, 0, sizeof(c));
	memcpy(c.buf, fmt1, (size_t)n1 + 1);
	strcpy(c.strs[0], "str");
	__u32 ret;
	cr_assert(eq(int, run(fd, &c, &ret), 0));
	char want[128];
	int wl = snprintf(want, sizeof(want), "%s p -7 ff str\n", tag);
	cr_assert(eq(i32, (int)ret, wl));
	/* trace_vprintk(fmt2, n2 + 1, args, 32) */
	n = 0;
	p[n++] = MOV64_R(6, 1);
	copy_in(p, &n, offsetof(struct ctx, buf), FP_BUF, sizeof(((struct ctx *)0)->buf));
	copy_in(p, &n, offsetof(struct ctx, strs), FP_STRS, 64);
	copy_in(p, &n, offsetof(struct ctx, args), FP_ARGS, 32);
	struct bpf_insn qc[] = {
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, FP_STRS),
		STX(BPF_DW, 10, 2, FP_ARGS + 16),
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, FP_BUF),
		MOV64_I(2, n2 + 1),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, FP_ARGS),
		MOV64_I(4, 32),
		CALL(BPF_FUNC_trace_vprintk),
		EXIT,
	};
	memcpy(p + n, qc, sizeof(qc));
	n += N_INSNS(qc);
	int fv = bt_prog_new(SYSCALL, p, n);
	memset(&c, 0, sizeof(c));
	memcpy(c.buf, fmt2, (size_t)n2 + 1);
	strcpy(c.strs[0], "vs");
	c.args[0] = 1ull << 33;
	c.args[1] = 'Q';
	c.args[3] = 12;
	cr_assert(eq(int, run(fv, &c, &ret), 0));
	char want2[128];
	int wl2 = snprintf(want2, sizeof(want2), "%s v 8589934592 Q vs    12|", tag);
	cr_assert(eq(i32, (int)ret, wl2));
	static char trace[1 << 20];
	read_trace(trace, sizeof(trace));
	char t1[64], t2[64], flags[6] = "", fl2[6] = "";
	snprintf(t1, sizeof(t1), "%s p ", tag);
	snprintf(t2, sizeof(t2), "%s v ", tag);
	const char *m1 = event_line(trace, t1, flags), *m2 = event_line(trace, t2, fl2);
	cr_assert(m1 != NULL, "no event %s in the trace", t1);
	cr_assert(m2 != NULL, "no event %s in the trace", t2);
	/* the message, then the event's own newline */
	cr_assert(eq(int, strncmp(m1, want, (size_t)wl), 0), "%.80s", m1);
	cr_assert(eq(chr, m1[wl], '\n'));
	cr_assert(eq(int, strncmp(m2, want2, (size_t)wl2), 0), "%.80s", m2);
	cr_assert(eq(chr, m2[wl2], '\n'));
	/* a syscall program's run: migration off, preemption off while the helper formats */
	cr_assert(eq(str, flags, "...11"));
}

/* ---- strtol, strtoul ---- */

struct strto_case {
	const char *s;
	__u32 len;
	__u32 flags;
	int ret;
	__u64 res;
};

static void strto_case(__s32 func, const struct strto_case *t)
{
	static struct bpf_insn p[100];
	__u32 n = 0;
	p[n++] = MOV64_R(6, 1);
	copy_in(p, &n, offsetof(struct ctx, buf), FP_BUF, sizeof(((struct ctx *)0)->buf));
	copy_in(p, &n, offsetof(struct ctx, res), FP_RES, 8);
	struct bpf_insn pc[] = {
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, FP_BUF),
		MOV64_I(2, (__s32)t->len),
		MOV64_I(3, (__s32)t->flags),
		MOV64_R(4, 10), ALU64_I(BPF_ADD, 4, FP_RES),
		CALL(func),
		MOV64_R(7, 0),
	};
	memcpy(p + n, pc, sizeof(pc));
	n += N_INSNS(pc);
	copy_out(p, &n, FP_RES, offsetof(struct ctx, res), 8);
	p[n++] = MOV64_R(0, 7);
	p[n++] = EXIT;
	int fd = bt_prog_new(SYSCALL, p, n);
	struct ctx c;
	memset(&c, 0, sizeof(c));
	memcpy(c.buf, t->s, t->len);
	c.res = 0x5555;
	__u32 ret;
	cr_assert(eq(int, run(fd, &c, &ret), 0));
	cr_expect(eq(i32, (int)ret, t->ret), "%s(\"%.*s\", %u, %#x)", func == BPF_FUNC_strtol ? "strtol" : "strtoul",
		  (int)t->len, t->s, t->len, t->flags);
	cr_expect(eq(u64, c.res, t->res), "%s(\"%.*s\"): result", func == BPF_FUNC_strtol ? "strtol" : "strtoul",
		  (int)t->len, t->s);
	bt_close(fd);
}

FMT_TEST(strtol_and_strtoul_parse_as_the_kernel)
{
	bt_kernel_needs_syscall_progs();
	static const struct strto_case l[] = {
		{ "123", 3, 0, 3, 123 },
		{ "  -42xyz", 8, 0, 5, (__u64)-42 },
		{ "0x1f", 4, 0, 4, 31 },
		{ "0x1f", 4, 16, 4, 31 },
		{ "1f", 2, 16, 2, 31 },
		{ "0x", 2, 0, 1, 0 },
		{ "017", 3, 0, 3, 15 },
		{ "017", 3, 10, 3, 17 },
		{ "9", 1, 8, -EINVAL, 0 },
		{ " ", 1, 0, -EINVAL, 0 },
		{ "-", 1, 0, -EINVAL, 0 },
		{ "12", 2, 3, -EINVAL, 0 },
		{ "12", 2, 0x20, -EINVAL, 0 },
		{ "1 2", 3, 0, 1, 1 },
		{ "12345", 3, 0, 3, 123 },
		{ "\xa0\t5", 3, 0, 3, 5 },
		{ "99999999999999999999", 20, 0, -ERANGE, 0 },
		{ "9223372036854775807", 19, 0, 19, 9223372036854775807ull },
		{ "9223372036854775808", 19, 0, -ERANGE, 0 },
		{ "-9223372036854775808", 20, 0, 20, 1ull << 63 },
		{ "000000000000000000000000000000000000000000000000000000000000000000000007", 72, 0, 63, 0 },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(l); i++)
		strto_case(BPF_FUNC_strtol, &l[i]);
	static const struct strto_case u[] = {
		{ "18446744073709551615", 20, 0, 20, ~0ull },
		{ "18446744073709551616", 20, 0, -ERANGE, 0 },
		{ "-1", 2, 0, -EINVAL, 0 },
		{ "0X10", 4, 0, 4, 16 },
		{ "  7", 3, 10, 3, 7 },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(u); i++)
		strto_case(BPF_FUNC_strtoul, &u[i]);
}

/* ---- strncmp ---- */

FMT_TEST(strncmp_compares_as_the_kernel)
{
	bt_kernel_needs_syscall_progs();
	static const struct { const char *s1; __u32 n; const char *s2; int want; } cases[] = {
		{ "abc", 3, "abc", 0 }, { "abd", 3, "abc", 1 }, { "abb", 3, "abc", -1 }, { "ab\0", 3, "abc", -1 },
		{ "abcdef", 3, "abcxyz", 0 }, { "\xff", 1, "a", 1 }, { "abc", 4, "ab", 1 }, { "a\0x", 3, "a", 0 },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
		int m = const_str(cases[i].s2, strlen(cases[i].s2) + 1);
		static struct bpf_insn p[100];
		__u32 n = 0;
		p[n++] = MOV64_R(6, 1);
		copy_in(p, &n, offsetof(struct ctx, buf), FP_BUF, sizeof(((struct ctx *)0)->buf));
		struct bpf_insn pc[] = {
			MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, FP_BUF),
			MOV64_I(2, (__s32)cases[i].n),
			LD_MAPVAL(3, m, 0),
			CALL(BPF_FUNC_strncmp),
			EXIT,
		};
		memcpy(p + n, pc, sizeof(pc));
		n += N_INSNS(pc);
		int fd = bt_prog_new(SYSCALL, p, n);
		struct ctx c;
		memset(&c, 0, sizeof(c));
		memcpy(c.buf, cases[i].s1, cases[i].n);
		__u32 ret;
		cr_assert(eq(int, run(fd, &c, &ret), 0));
		cr_expect(eq(i32, (int)ret, cases[i].want), "strncmp(\"%s\", %u, \"%s\")", cases[i].s1, cases[i].n,
			  cases[i].s2);
		bt_close(fd);
		bt_close(m);
	}
}
