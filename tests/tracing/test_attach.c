/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/test_attach.c: the engine's registry of attach points
 * (emu_attach_foreach, emu_attach_generation in emu/link.h), which the
 * event firing to come will use to find the programs attached to an event.
 * Engine only: nothing of it is visible through bpf().
 */
#include "bt.h"
#include "link.h"
#include "perf/perf.h"

static void setup(void)
{
	setenv("BPFEMU_ATTACH", "inert", 1);
	bt_setup();
}

TestSuite(attach, .init = setup, .fini = bt_teardown);

static int prog(__u32 type, __u32 eat)
{
	struct bpf_insn p[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)p;
	a.insn_cnt = 2;
	a.license = (uintptr_t) "GPL";
	a.expected_attach_type = eat;
	return (int)bpfemu_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

struct seen {
	int n;
	struct emu_attach_point pt[16];
	char names[16][64];
};

static int collect(const struct emu_attach_point *pt, void *ctx)
{
	struct seen *s = ctx;
	if (s->n < 16) {
		s->pt[s->n] = *pt;
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", pt->name ? pt->name : "");
		s->n++;
	}
	return 0;
}

static const struct emu_attach_point *find(const struct seen *s, enum emu_attach_kind kind, int *i)
{
	for (int k = 0; k < s->n; k++)
		if (s->pt[k].kind == kind) {
			*i = k;
			return &s->pt[k];
		}
	return NULL;
}

Test(attach, foreach_lists_every_link_with_its_target_and_generation_moves)
{
	__u64 g0 = emu_attach_generation();
	int rtp = prog(BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
	int xdp = prog(BPF_PROG_TYPE_XDP, 0);
	cr_assert(ge(i32, rtp, 0), "%s", strerror(errno));
	cr_assert(ge(i32, xdp, 0), "%s", strerror(errno));

	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (uintptr_t) "sched_switch";
	a.raw_tracepoint.prog_fd = (__u32)rtp;
	int l1 = (int)bpfemu_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	cr_assert(ge(i32, l1, 0), "raw_tp: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)xdp;
	a.link_create.target_ifindex = 1;     /* lo */
	a.link_create.attach_type = BPF_XDP;
	int l2 = (int)bpfemu_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	cr_assert(ge(i32, l2, 0), "xdp: %s", strerror(errno));
	cr_assert(gt(u64, emu_attach_generation(), g0));

	struct seen s = { 0 };
	cr_assert(eq(i32, emu_attach_foreach(collect, &s), 0));
	int i;
	const struct emu_attach_point *p = find(&s, EMU_AT_RAW_TP, &i);
	cr_assert(not(eq(ptr, (void *)p, NULL)), "no raw tracepoint among %d points", s.n);
	cr_assert(eq(str, s.names[i], "sched_switch"));
	cr_assert(ne(u32, p->link_id, 0));
	p = find(&s, EMU_AT_XDP, &i);
	cr_assert(not(eq(ptr, (void *)p, NULL)));
	cr_assert(eq(u64, p->target, 1));

	/* a detached link is no attach point any more, and the generation moves again */
	__u64 g1 = emu_attach_generation();
	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = (__u32)l2;
	cr_assert(eq(i32, (int)bpfemu_bpf(BPF_LINK_DETACH, &a, sizeof(a)), 0));
	cr_assert(gt(u64, emu_attach_generation(), g1));
	memset(&s, 0, sizeof(s));
	emu_attach_foreach(collect, &s);
	cr_assert(eq(ptr, (void *)find(&s, EMU_AT_XDP, &i), NULL));
	cr_assert(not(eq(ptr, (void *)find(&s, EMU_AT_RAW_TP, &i), NULL)));
}

static int stop_at_first(const struct emu_attach_point *pt, void *ctx)
{
	(void)pt;
	++*(int *)ctx;
	return 7;
}

Test(attach, foreach_stops_when_the_callback_says_so)
{
	int rtp = prog(BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
	union bpf_attr a;
	int calls = 0;
	for (int k = 0; k < 2; k++) {
		memset(&a, 0, sizeof(a));
		a.raw_tracepoint.name = (uintptr_t)(k ? "sched_wakeup" : "sched_switch");
		a.raw_tracepoint.prog_fd = (__u32)rtp;
		cr_assert(ge(i64, bpfemu_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a)), 0));
	}
	cr_assert(eq(i32, emu_attach_foreach(stop_at_first, &calls), 7));
	cr_assert(eq(i32, calls, 1));
}
