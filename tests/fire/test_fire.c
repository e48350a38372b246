/* SPDX-License-Identifier: MIT */
/*
 * tests/fire/test_fire.c: the firer (emu/fire) in one process, engine only:
 * tracepoint records typed from the kernel's BTF and from the syscall table
 * (and, as root where tracefs can be mounted, the same fields as tracefs
 * shows them: the twin of the made-up format), the raw tracepoints'
 * argument names, values and their errors, and whole firings through the
 * embedding API: a raw_tp program reading its task_struct argument with
 * bpf_probe_read_kernel, a tp_btf program loading through BTF pointers (a
 * NULL one on the way reads 0, as BPF_PROBE_MEM), the statistics, the
 * fired task's helpers.
 */
#include <sched.h>
#include <sys/mount.h>

#include "insn.h"
#include "fire/fire_int.h"

static void setup(void)
{
	setenv("BPFEMU_ATTACH", "inert", 1);
	bt_setup();
}

TestSuite(fire, .init = setup, .fini = bt_teardown);

static bool have_btf(void)
{
	return fb_have() && fb_find("task_struct", BTF_KIND_STRUCT);
}

#define NEED_BTF()                                                                 \
	do {                                                                       \
		if (!have_btf())                                                   \
			cr_skip_test("no /sys/kernel/btf/vmlinux on this host");   \
	} while (0)

static const struct tp_field *field(const struct tp_format *f, const char *name)
{
	const struct tp_field *x = tp_field(f, name);
	cr_assert(x != NULL, "%s:%s has no field %s (from %s)", f->cat, f->name, name, f->source);
	return x;
}

/* ---- formats ---- */

Test(fire, sched_switch_record_from_btf)
{
	NEED_BTF();
	struct tp_format f;
	cr_assert(eq(int, tp_format_get("sched", "sched_switch", &f), 0));
	/* as tracefs shows Linux 6.18's sched_switch (and the twin below checks on this host) */
	struct { const char *name; __u32 off, size; int kind; } want[] = {
		{ "common_type", 0, 2, FT_INT }, { "common_pid", 4, 4, FT_INT }, { "prev_comm", 8, 16, FT_CHARS },
		{ "prev_pid", 24, 4, FT_INT }, { "prev_prio", 28, 4, FT_INT }, { "prev_state", 32, 8, FT_INT },
		{ "next_comm", 40, 16, FT_CHARS }, { "next_pid", 56, 4, FT_INT }, { "next_prio", 60, 4, FT_INT },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(want); i++) {
		const struct tp_field *x = field(&f, want[i].name);
		cr_expect(eq(u32, x->off, want[i].off), "%s offset", want[i].name);
		cr_expect(eq(u32, x->t.size, want[i].size), "%s size", want[i].name);
		cr_expect(eq(int, x->t.kind, want[i].kind), "%s kind", want[i].name);
	}
	cr_expect(field(&f, "prev_pid")->t.sign);
	tp_format_free(&f);
}

Test(fire, template_and_argument_names)
{
	NEED_BTF();
	char tmpl[128];
	__u32 proto = tp_raw_proto("sched_wakeup", tmpl, sizeof(tmpl));
	cr_assert(ne(u32, proto, 0));
	cr_expect(eq(str, tmpl, "sched_wakeup_template"));
	__u32 n;
	const struct btf_param *p = fb_params(proto, &n);
	cr_assert(eq(u32, n, 2));                     /* void *__data, struct task_struct *p */
	cr_expect(eq(str, (char *)fb_param_name(&p[1]), "p"));
	proto = tp_raw_proto("sched_switch", tmpl, sizeof(tmpl));
	p = fb_params(proto, &n);
	cr_assert(eq(u32, n, 5));
	const char *names[] = { "__data", "preempt", "prev", "next", "prev_state" };
	for (__u32 i = 0; i < n; i++)
		cr_expect(eq(str, (char *)fb_param_name(&p[i]), (char *)names[i]));
	cr_expect(eq(u32, tp_raw_proto("no_such_tracepoint", tmpl, sizeof(tmpl)), 0));
	/* the record of a DEFINE_EVENT: its template's struct */
	struct tp_format f;
	cr_assert(eq(int, tp_format_get("sched", "sched_wakeup", &f), 0));
	cr_expect(eq(u32, field(&f, "pid")->off, 24));
	cr_expect(eq(u32, field(&f, "comm")->t.size, 16));
	tp_format_free(&f);
}

Test(fire, syscall_records)
{
	struct tp_format f;
	if (tp_format_get("syscalls", "sys_enter_execve", &f))
		cr_fatal("no format for syscalls:sys_enter_execve");
	cr_expect(eq(int, f.syscall_nr, 59));
	cr_expect(eq(u32, field(&f, "__syscall_nr")->off, 8));
	const struct tp_field *fn = field(&f, "filename"), *argv = field(&f, "argv");
	cr_expect(eq(u32, fn->off, 16));
	cr_expect(eq(int, fn->t.kind, FT_PTR));
	cr_expect(eq(u32, fn->t.ptr_depth, 1));
	cr_expect(fn->t.user, "a syscall's pointers are user memory");
	cr_expect(eq(u32, argv->off, 24));
	cr_expect(eq(u32, argv->t.ptr_depth, 2));
	tp_format_free(&f);
	cr_assert(eq(int, tp_format_get("syscalls", "sys_exit_openat", &f), 0));
	cr_expect(eq(u32, field(&f, "ret")->off, 16));
	cr_expect(eq(int, f.syscall_nr, 257));
	tp_format_free(&f);
	cr_expect(eq(int, tp_format_get("syscalls", "sys_enter_no_such_call", &f), -ENOENT));
}

/* The twin: the fields tracefs shows, against the ones bpfemu makes up when it cannot read tracefs. */
Test(fire, made_up_formats_match_tracefs)
{
	NEED_BTF();
	if (geteuid() != 0)
		cr_skip_test("mounting tracefs needs root");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		cr_skip_test("no private mount namespace: %s", strerror(errno));
	if (access("/sys/kernel/tracing/events", F_OK) && mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		cr_skip_test("cannot mount tracefs: %s", strerror(errno));
	static const char *const tps[][2] = {
		{ "sched", "sched_switch" }, { "sched", "sched_wakeup" }, { "sched", "sched_process_exit" },
		{ "sched", "sched_process_exec" }, { "signal", "signal_generate" }, { "raw_syscalls", "sys_enter" },
		{ "syscalls", "sys_enter_openat" }, { "syscalls", "sys_exit_openat" }, { "syscalls", "sys_enter_execve" },
		{ "irq", "irq_handler_entry" }, { "block", "block_rq_complete" }, { "sock", "inet_sock_set_state" },
	};
	static char made[65536];
	unsigned compared = 0;
	for (size_t i = 0; i < BT_ARRAY_SIZE(tps); i++) {
		struct tp_format real;
		if (tp_format_get(tps[i][0], tps[i][1], &real) || strcmp(real.source, "tracefs"))
			cr_skip_test("tracefs has no %s:%s here", tps[i][0], tps[i][1]);
		/* bpfemu's own answer, without tracefs: BTF or the syscall table */
		umount2("/sys/kernel/tracing", MNT_DETACH);
		int n = emu_fire_format_text(tps[i][0], tps[i][1], made, sizeof(made));
		cr_assert(gt(int, n, 0), "no made-up format for %s:%s", tps[i][0], tps[i][1]);
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
		for (__u32 k = 0; k < real.nr; k++) {
			const struct tp_field *x = &real.f[k];
			char want[256];
			snprintf(want, sizeof(want), " %s%s;\toffset:%u;\tsize:%u;", x->name, x->suffix, x->off, x->t.size);
			cr_expect(strstr(made, want) != NULL, "%s:%s: tracefs has '%s', bpfemu's format does not:\n%s", tps[i][0],
				  tps[i][1], want, made);
			compared++;
		}
		tp_format_free(&real);
	}
	cr_expect(gt(u32, compared, 60), "only %u fields compared", compared);
}

/* ---- values ---- */

Test(fire, integers_and_enumerators)
{
	__s64 v;
	cr_expect(eq(int, fv_int("42", 0, &v), 0));
	cr_expect(eq(i64, v, 42));
	cr_expect(eq(int, fv_int("-1", 0, &v), 0));
	cr_expect(eq(i64, v, -1));
	cr_expect(eq(int, fv_int("0x2a", 0, &v), 0));
	cr_expect(eq(i64, v, 42));
	cr_expect(eq(int, fv_int("'A'", 0, &v), 0));
	cr_expect(eq(i64, v, 65));
	cr_expect(eq(int, fv_int("true", 0, &v), 0));
	cr_expect(eq(i64, v, 1));
	cr_expect(eq(int, fv_int("12abc", 0, &v), -EINVAL));
	if (have_btf()) {
		cr_expect(eq(int, fv_int("BPF_MAP_TYPE_HASH", 0, &v), 0), "an enumerator of the kernel");
		cr_expect(eq(i64, v, 1));
		cr_expect(eq(int, fv_int("NO_SUCH_ENUMERATOR_X", 0, &v), -EINVAL));
	}
}

Test(fire, bad_words)
{
	char msg[512];
	char *w1[] = { "nosuch:event" };
	cr_expect(eq(int, emu_fire_words(1, w1, NULL, NULL, msg, sizeof(msg)), -EINVAL));
	cr_expect(strstr(msg, "not an event kind") != NULL, "%s", msg);
	char *w2[] = { "tracepoint:sched" };
	cr_expect(eq(int, emu_fire_words(1, w2, NULL, NULL, msg, sizeof(msg)), -EINVAL));
	char *w3[] = { "--pid", "x", "tracepoint:sched:sched_switch" };
	cr_expect(eq(int, emu_fire_words(3, w3, NULL, NULL, msg, sizeof(msg)), -EINVAL));
	cr_expect(strstr(msg, "--pid needs a number") != NULL, "%s", msg);
	char *w4[] = { "prev_pid=1" };
	cr_expect(eq(int, emu_fire_words(1, w4, NULL, NULL, msg, sizeof(msg)), -EINVAL));
	cr_expect(strstr(msg, "no event given") != NULL, "%s", msg);
	cr_expect(eq(int, emu_fire_line("tracepoint:sched:sched_switch 'prev_comm=a b", NULL, NULL, msg, sizeof(msg)),
		     -EINVAL));
	cr_expect(strstr(msg, "unterminated quote") != NULL, "%s", msg);
	if (have_btf()) {
		char *w5[] = { "tracepoint:sched:sched_switch", "prev_pid=4294967296" };
		cr_expect(eq(int, emu_fire_words(2, w5, NULL, NULL, msg, sizeof(msg)), -ERANGE));
		char *w6[] = { "raw_tp:sched_switch", "prev.no_member=1" };
		cr_expect(eq(int, emu_fire_words(2, w6, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		cr_expect(strstr(msg, "has no member 'no_member'") != NULL, "%s", msg);
		char *w7[] = { "raw_tp:no_such_tracepoint" };
		cr_expect(eq(int, emu_fire_words(1, w7, NULL, NULL, msg, sizeof(msg)), -ENOENT));
		/* nothing attached: no run, no error */
		char *w8[] = { "tracepoint:sched:sched_switch", "prev_pid=1", "prev.comm=x" };
		cr_expect(eq(int, emu_fire_words(3, w8, NULL, NULL, msg, sizeof(msg)), 0), "%s", msg);
		/* members through a record's pointer field: its void * takes a cast (the values the
		 * programs read back: tools/libbpf-tools-fire's tcpstates recipe, fire.tools) */
		char *w9[] = { "tracepoint:sock:inet_sock_set_state", "skaddr<sock>.__sk_common.skc_daddr=10.0.0.1",
			       "skaddr<sock>.__sk_common.skc_dport=be16:443", "newstate=TCP_ESTABLISHED" };
		cr_expect(eq(int, emu_fire_words(4, w9, NULL, NULL, msg, sizeof(msg)), 0), "%s", msg);
		char *w10[] = { "tracepoint:sock:inet_sock_set_state", "skaddr.skc_daddr=1" };
		cr_expect(eq(int, emu_fire_words(2, w10, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		char *w11[] = { "tracepoint:sock:inet_sock_set_state", "oldstate.x=1" };
		cr_expect(eq(int, emu_fire_words(2, w11, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		cr_expect(strstr(msg, "no pointer has no members") != NULL, "%s", msg);
		char *w12[] = { "tracepoint:sock:inet_sock_set_state", "skaddr<no_such_struct>.x=1" };
		cr_expect(eq(int, emu_fire_words(2, w12, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		cr_expect(strstr(msg, "no struct no_such_struct") != NULL, "%s", msg);
		/* named objects: &TYPE:NAME */
		char *w14[] = { "tracepoint:sock:inet_sock_set_state", "skaddr=&tcp_sock:a", "skaddr<sock>.__sk_common.skc_num=7" };
		cr_expect(eq(int, emu_fire_words(3, w14, NULL, NULL, msg, sizeof(msg)), 0), "%s", msg);
		char *w15[] = { "tracepoint:sock:inet_sock_set_state", "skaddr=&tcp_sock" };
		cr_expect(eq(int, emu_fire_words(2, w15, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		cr_expect(strstr(msg, "a named object is &TYPE:NAME") != NULL, "%s", msg);
		char *w16[] = { "raw_tp:sched_switch", "prev=&no_such_struct:x" };
		cr_expect(eq(int, emu_fire_words(2, w16, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		cr_expect(strstr(msg, "no struct no_such_struct") != NULL, "%s", msg);
		char *w13[] = { "tracepoint:sock:inet_sock_set_state", "skaddr<sock>.no_member=1" };
		cr_expect(eq(int, emu_fire_words(2, w13, NULL, NULL, msg, sizeof(msg)), -EINVAL));
		cr_expect(strstr(msg, "has no member 'no_member'") != NULL, "%s", msg);
	}
	const char *api[] = { "bogus:x", NULL };
	cr_expect(eq(int, bpfemu_fire(api), -1));
	cr_expect(eq(int, errno, EINVAL));
	cr_expect(strstr(bpfemu_fire_error(), "not an event kind") != NULL, "%s", bpfemu_fire_error());
}

/* ---- whole firings ---- */

static int array_map(void)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0);
	cr_assert(ge(int, fd, 0));
	return fd;
}

static __u64 slot(int map, __u32 k)
{
	__u64 v = 0;
	cr_assert(eq(long, bt_lookup(map, &k, &v), 0));
	return v;
}

/* Loads a tracing program of this attach type on BTF type id btf_id and
 * attaches it (BPF_RAW_TRACEPOINT_OPEN); the test fails if either fails. */
static void tracing_attach(__u32 eat, __u32 btf_id, const struct bpf_insn *p, __u32 n)
{
	long pfd = bt_prog_load_btf(BPF_PROG_TYPE_TRACING, eat, btf_id, p, n);
	cr_assert(ge(long, pfd, 0), "load: %s %s", strerror((int)-pfd), bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.prog_fd = (__u32)pfd;
	cr_assert(ge(long, bt_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a)), 0));
}

static __s32 member_off(const char *sname, const char *member)
{
	struct fb_member m;
	cr_assert(eq(int, fb_member(fb_find(sname, BTF_KIND_STRUCT), member, &m), 0), "%s.%s", sname, member);
	return (__s32)(m.bit_off / 8);
}

/* r6 = map; *map[k] = r7 */
#define STORE_SLOT(mapfd, k)                                                              \
	ST(BPF_W, BPF_REG_10, -4, k), MOV64_R(BPF_REG_2, BPF_REG_10), ALU64_I(BPF_ADD, BPF_REG_2, -4), \
		STX(BPF_DW, BPF_REG_10, BPF_REG_7, -16), MOV64_R(BPF_REG_3, BPF_REG_10),            \
		ALU64_I(BPF_ADD, BPF_REG_3, -16), LD_MAP(BPF_REG_1, mapfd), MOV64_I(BPF_REG_4, 0), \
		CALL(BPF_FUNC_map_update_elem)

Test(fire, raw_tp_reads_its_task_argument)
{
	NEED_BTF();
	int map = array_map();
	__s32 pid_off = member_off("task_struct", "pid");
	/* raw_tp/sched_switch: ctx[1] is prev; slot 0 = prev->pid (probe read), slot 1 = the read's result,
	 * slot 2 = bpf_get_current_pid_tgid(), slot 3 = bpf_ktime_get_ns() */
	struct bpf_insn p[] = {
		LDX(BPF_DW, BPF_REG_6, BPF_REG_1, 8),
		MOV64_R(BPF_REG_1, BPF_REG_10), ALU64_I(BPF_ADD, BPF_REG_1, -24), MOV64_I(BPF_REG_2, 4),
		MOV64_R(BPF_REG_3, BPF_REG_6), ALU64_I(BPF_ADD, BPF_REG_3, pid_off), ST(BPF_DW, BPF_REG_10, -24, 0),
		CALL(BPF_FUNC_probe_read_kernel), MOV64_R(BPF_REG_8, BPF_REG_0),
		LDX(BPF_W, BPF_REG_7, BPF_REG_10, -24), STORE_SLOT(map, 0),
		MOV64_R(BPF_REG_7, BPF_REG_8), STORE_SLOT(map, 1),
		CALL(BPF_FUNC_get_current_pid_tgid), MOV64_R(BPF_REG_7, BPF_REG_0), STORE_SLOT(map, 2),
		CALL(BPF_FUNC_ktime_get_ns), MOV64_R(BPF_REG_7, BPF_REG_0), STORE_SLOT(map, 3),
		MOV64_I(BPF_REG_0, 0), EXIT,
	};
	long pfd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	cr_assert(ge(long, pfd, 0), "%s", bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = BT_PTR("sched_switch");
	a.raw_tracepoint.prog_fd = (__u32)pfd;
	cr_assert(ge(long, bt_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a)), 0));
	/* statistics on: the run counts */
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	cr_assert(ge(long, bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a)), 0));

	const char *ev[] = { "raw_tp:sched_switch", "--pid=4242", "--tid=4243", "--time=777000", "prev.pid=42", NULL };
	cr_assert(eq(int, bpfemu_fire(ev), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 42));
	cr_expect(eq(u64, slot(map, 1), 0));
	cr_expect(eq(u64, slot(map, 2), 4242ull << 32 | 4243));
	cr_expect(eq(u64, slot(map, 3), 777000));
	/* a pointer argument no one gave members to still points to a (zero) task_struct */
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch next.pid=5"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 0));
	cr_expect(eq(u64, slot(map, 1), 0));
	/* @0: a NULL prev; bpf_probe_read_kernel of a user address is -ERANGE, the buffer cleared */
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch prev=@0"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 1), (__u64)-ERANGE));
	cr_expect(eq(u64, slot(map, 0), 0));
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(long, bt_info((int)pfd, &info, &len), 0));
	cr_expect(eq(u64, info.run_cnt, 3));
	/* a named object is the same task_struct at the next event: its pid given once */
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch prev=&task_struct:t1 prev.pid=77"), 1), "%s",
		  bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 77));
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch prev=&task_struct:t2"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 0));
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch prev=&task_struct:t1"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 77));
	cr_expect(eq(u64, slot(map, 1), 0));
}

Test(fire, tp_btf_loads_through_btf_pointers)
{
	NEED_BTF();
	int map = array_map();
	__u32 tid = fb_find("btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	cr_assert(ne(u32, tid, 0));
	__s32 pid_off = member_off("task_struct", "pid"), tgid_off = member_off("task_struct", "tgid");
	__s32 parent_off = member_off("task_struct", "real_parent");
	/* slot 0 = next->pid, slot 1 = next->real_parent->tgid (NULL on the way: 0), slot 2 = current's
	 * real_parent->tgid through bpf_get_current_task_btf (the --ppid) */
	struct bpf_insn p[] = {
		LDX(BPF_DW, BPF_REG_6, BPF_REG_1, 16),
		LDX(BPF_W, BPF_REG_7, BPF_REG_6, pid_off), STORE_SLOT(map, 0),
		LDX(BPF_DW, BPF_REG_8, BPF_REG_6, parent_off), LDX(BPF_W, BPF_REG_7, BPF_REG_8, tgid_off), STORE_SLOT(map, 1),
		CALL(BPF_FUNC_get_current_task_btf), LDX(BPF_DW, BPF_REG_8, BPF_REG_0, parent_off),
		LDX(BPF_W, BPF_REG_7, BPF_REG_8, tgid_off), STORE_SLOT(map, 2),
		MOV64_I(BPF_REG_0, 0), EXIT,
	};
	tracing_attach(BPF_TRACE_RAW_TP, tid, p, N_INSNS(p));
	cr_assert(eq(int, bpfemu_fire_line("tracepoint:sched:sched_switch --ppid 99 next.pid=1234"), 1), "%s",
		  bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 1234));
	cr_expect(eq(u64, slot(map, 1), 0));
	cr_expect(eq(u64, slot(map, 2), 99));
	cr_assert(eq(int, bpfemu_fire_line("tp:sched:sched_switch next.pid=7 next.real_parent.tgid=8"), 1));
	cr_expect(eq(u64, slot(map, 0), 7));
	cr_expect(eq(u64, slot(map, 1), 8));
}

/* One task, one task_struct: the events one process fires for the same tid see the same address from
 * bpf_get_current_task() (ksnoop keys its call stacks by it), rebuilt at each event (a member given at
 * one event is gone at the next); another tid has another. */
Test(fire, a_task_keeps_its_task_struct)
{
	NEED_BTF();
	int map = array_map();
	__s32 flags_off = member_off("task_struct", "flags"), pid_off = member_off("task_struct", "pid");
	/* slot 0 = bpf_get_current_task(), slot 1 = its flags, slot 2 = its pid (probe reads) */
	struct bpf_insn p[] = {
		CALL(BPF_FUNC_get_current_task), MOV64_R(BPF_REG_6, BPF_REG_0), MOV64_R(BPF_REG_7, BPF_REG_0),
		STORE_SLOT(map, 0),
		MOV64_R(BPF_REG_1, BPF_REG_10), ALU64_I(BPF_ADD, BPF_REG_1, -24), MOV64_I(BPF_REG_2, 4),
		MOV64_R(BPF_REG_3, BPF_REG_6), ALU64_I(BPF_ADD, BPF_REG_3, flags_off), ST(BPF_DW, BPF_REG_10, -24, 0),
		CALL(BPF_FUNC_probe_read_kernel), LDX(BPF_DW, BPF_REG_7, BPF_REG_10, -24), STORE_SLOT(map, 1),
		MOV64_R(BPF_REG_1, BPF_REG_10), ALU64_I(BPF_ADD, BPF_REG_1, -24), MOV64_I(BPF_REG_2, 4),
		MOV64_R(BPF_REG_3, BPF_REG_6), ALU64_I(BPF_ADD, BPF_REG_3, pid_off), ST(BPF_DW, BPF_REG_10, -24, 0),
		CALL(BPF_FUNC_probe_read_kernel), LDX(BPF_DW, BPF_REG_7, BPF_REG_10, -24), STORE_SLOT(map, 2),
		MOV64_I(BPF_REG_0, 0), EXIT,
	};
	long pfd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	cr_assert(ge(long, pfd, 0), "%s", bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = BT_PTR("sched_switch");
	a.raw_tracepoint.prog_fd = (__u32)pfd;
	cr_assert(ge(long, bt_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a)), 0));
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch --pid 4242 --tid 4243 current.flags=0x40"), 1), "%s",
		  bpfemu_fire_error());
	__u64 t1 = slot(map, 0);
	cr_expect(ne(u64, t1, 0));
	cr_expect(eq(u64, slot(map, 1), 0x40));
	cr_expect(eq(u64, slot(map, 2), 4243));
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch --pid 4242 --tid 4244"), 1), "%s", bpfemu_fire_error());
	cr_expect(ne(u64, slot(map, 0), t1), "another thread, another task_struct");
	cr_expect(eq(u64, slot(map, 2), 4244));
	cr_assert(eq(int, bpfemu_fire_line("raw_tp:sched_switch --pid 4242 --tid 4243"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), t1), "the same thread, the same task_struct");
	cr_expect(eq(u64, slot(map, 1), 0), "rebuilt: the last event's flags are gone");
	cr_expect(eq(u64, slot(map, 2), 4243));
}

/* An fexit program on a function returning a pointer (inet_csk_accept's sock): ret.MEMBER gives the
 * returned object's members (made when ret is not given), a cast names a bigger type
 * (ret<inet_sock>.inet_sport), and ret=&TYPE:NAME with members is a named object the next event sees. */
Test(fire, fexit_return_members)
{
	NEED_BTF();
	__u32 fid = fb_find("inet_csk_accept", BTF_KIND_FUNC);
	if (!fid)
		cr_skip_test("no inet_csk_accept in this kernel's BTF");
	__u32 nargs;
	fb_params(fb_proto(fid), &nargs);
	int map = array_map();
	__s32 num_off = member_off("sock_common", "skc_num"), sport_off = member_off("inet_sock", "inet_sport");
	/* slot 0 = ret->__sk_common.skc_num (a BTF load; __sk_common is sock's first member),
	 * slot 1 = ((struct inet_sock *)ret)->inet_sport (probe read), slot 2 = the read's result */
	struct bpf_insn p[] = {
		LDX(BPF_DW, BPF_REG_6, BPF_REG_1, (__s16)(8 * nargs)),
		LDX(BPF_H, BPF_REG_7, BPF_REG_6, num_off), STORE_SLOT(map, 0),
		MOV64_R(BPF_REG_1, BPF_REG_10), ALU64_I(BPF_ADD, BPF_REG_1, -24), MOV64_I(BPF_REG_2, 2),
		MOV64_R(BPF_REG_3, BPF_REG_6), ALU64_I(BPF_ADD, BPF_REG_3, sport_off), ST(BPF_DW, BPF_REG_10, -24, 0),
		CALL(BPF_FUNC_probe_read_kernel), MOV64_R(BPF_REG_8, BPF_REG_0),
		LDX(BPF_DW, BPF_REG_7, BPF_REG_10, -24), STORE_SLOT(map, 1),
		MOV64_R(BPF_REG_7, BPF_REG_8), STORE_SLOT(map, 2),
		MOV64_I(BPF_REG_0, 0), EXIT,
	};
	tracing_attach(BPF_TRACE_FEXIT, fid, p, N_INSNS(p));
	cr_assert(eq(int, bpfemu_fire_line("kretprobe:inet_csk_accept ret.__sk_common.skc_num=8080 "
					   "ret<inet_sock>.inet_sport=be16:8080"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 8080));
	cr_expect(eq(u64, slot(map, 1), 0x901f));         /* be16:8080 as the u16 reads on x86-64 */
	cr_expect(eq(u64, slot(map, 2), 0));
	/* a named returned object keeps its members for the next event */
	cr_assert(eq(int, bpfemu_fire_line("fexit:inet_csk_accept ret=&inet_sock:srv ret.__sk_common.skc_num=443"), 1),
		  "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 443));
	cr_expect(eq(u64, slot(map, 1), 0));
	cr_assert(eq(int, bpfemu_fire_line("fexit:inet_csk_accept ret=&inet_sock:srv"), 1), "%s", bpfemu_fire_error());
	cr_expect(eq(u64, slot(map, 0), 443));
	/* members of what does not return a pointer: a bad event */
	char msg[512];
	cr_expect(eq(int, emu_fire_line("fexit:do_unlinkat ret.x=1", NULL, NULL, msg, sizeof(msg)), -EINVAL));
	cr_expect(strstr(msg, "does not return a typed pointer") != NULL, "%s", msg);
}

/* A tp_btf program whose dead code reads past its tracepoint's arguments (biosnoop's ctx[1] of
 * block_rq_issue, for kernels before 5.11, behind a constant): the kernel's verifier never walks it,
 * and the fired event runs the live path on its one argument. */
Test(fire, dead_reads_past_the_arguments_do_not_stop_a_run)
{
	NEED_BTF();
	int map = array_map();
	__u32 tid = fb_find("btf_trace_block_rq_issue", BTF_KIND_TYPEDEF);
	cr_assert(ne(u32, tid, 0));
	/* r2 = 0; r7 = ctx[0]; if r2 != 0 { r7 = ctx[1] } ; slot 0 = r7 */
	struct bpf_insn p[] = {
		MOV64_I(BPF_REG_2, 0), LDX(BPF_DW, BPF_REG_7, BPF_REG_1, 0),
		JMP_I(BPF_JEQ, BPF_REG_2, 0, 1), LDX(BPF_DW, BPF_REG_7, BPF_REG_1, 8),
		STORE_SLOT(map, 0), MOV64_I(BPF_REG_0, 0), EXIT,
	};
	tracing_attach(BPF_TRACE_RAW_TP, tid, p, N_INSNS(p));
	cr_assert(eq(int, bpfemu_fire_line("tp:block:block_rq_issue rq=&request:dead1 rq.__sector=8"), 1), "%s",
		  bpfemu_fire_error());
	cr_expect(ne(u64, slot(map, 0), 0));
}

/* A run that ends early (here: a helper bpfemu does not emulate, bpf_get_branch_snapshot, which needs
 * the CPU's branch records) is the API call's errno; bpfemu fire reports it. */
Test(fire, a_run_that_ends_early_is_the_calls_errno)
{
	NEED_BTF();
	struct bpf_insn p[] = {
		MOV64_R(BPF_REG_1, BPF_REG_10), ALU64_I(BPF_ADD, BPF_REG_1, -16), MOV64_I(BPF_REG_2, 16),
		MOV64_I(BPF_REG_3, 0), CALL(176 /* BPF_FUNC_get_branch_snapshot */), MOV64_I(BPF_REG_0, 0), EXIT,
	};
	long pfd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	cr_assert(ge(long, pfd, 0), "%s", bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = BT_PTR("sched_switch");
	a.raw_tracepoint.prog_fd = (__u32)pfd;
	cr_assert(ge(long, bt_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a)), 0));
	cr_expect(eq(int, bpfemu_fire_line("raw_tp:sched_switch"), -1));
	cr_expect(eq(int, errno, EOPNOTSUPP));
	cr_expect(strstr(bpfemu_fire_error(), "the run ended early") != NULL, "%s", bpfemu_fire_error());
}
