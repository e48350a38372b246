/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_replay_synth.c: what `bpfemu replay` makes up for a log
 * without the bytes (tools/replay_synth.c) is real BPF: the BTF holds the
 * types the recorded maps were created with and loads, the programs load
 * when the record says they loaded and fail with the recorded errno when it
 * says they failed. Built twice like every unit test: on the engine, and on
 * the kernel (as root), which must take the same bytes the same way.
 */
#include "bt.h"
#include "replay.h"

static long btf_load(const void *b, __u32 len)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = BT_PTR(b);
	a.btf_size = len;
	return bt_bpf(BPF_BTF_LOAD, &a, BT_ATTR_END(btf_log_level));
}

static long map_with_btf(__u32 type, __u32 ks, __u32 vs, __u32 max, int btf, __u32 kid, __u32 vid)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = type == BPF_MAP_TYPE_HASH ? BPF_F_NO_PREALLOC : 0;
	a.btf_fd = (__u32)btf;
	a.btf_key_type_id = kid;
	a.btf_value_type_id = vid;
	return bt_bpf(BPF_MAP_CREATE, &a, BT_ATTR_END(map_extra));
}

static char *funcs[] = { "xdp_prog", "tracepoint__sys", "9lives" };
static struct btf_use uses[] = {
	{ 3, 4, false, true },          /* an ARRAY's key */
	{ 7, 12, false, false },        /* a value of 12 bytes: a struct of that size */
	{ 9, 880, true, false },        /* .bss of global data */
	{ 12, 8, false, false },        /* a hash key */
	{ 13, 16, false, false },
};

/* The blob the replay synthesizes for a BTF_LOAD later calls use like this */
static unsigned char *needs_blob(__u32 rec_size, __u32 *len)
{
	struct btf_needs n = { uses, BT_ARRAY_SIZE(uses), funcs, BT_ARRAY_SIZE(funcs), rec_size };
	unsigned char *b = synth_btf(&n, len);
	cr_assert(ne(ptr, b, NULL));
	return b;
}

Test(unit, synth_btf_holds_the_types_maps_use, .init = bt_setup, .fini = bt_teardown)
{
	__u32 len;
	unsigned char *b = needs_blob(0, &len);
	long btf = btf_load(b, len);
	cr_assert(ge(i64, btf, 0), "the synthesized BTF loads: %ld", btf);
	long m = map_with_btf(BPF_MAP_TYPE_ARRAY, 4, 12, 4, (int)btf, 3, 7);
	cr_expect(ge(i64, m, 0), "ARRAY with key 3 (u32) and value 7 (12 bytes): %ld", m);
	bt_close((int)m);
	m = map_with_btf(BPF_MAP_TYPE_ARRAY, 4, 880, 1, (int)btf, 0, 9);
	cr_expect(ge(i64, m, 0), "global data: no key type, DATASEC value: %ld", m);
	bt_close((int)m);
	m = map_with_btf(BPF_MAP_TYPE_HASH, 8, 16, 8, (int)btf, 12, 13);
	cr_expect(ge(i64, m, 0), "HASH with key 12 (8 bytes) and value 13 (16 bytes): %ld", m);
	bt_close((int)m);
	/* what the record did not ask for is not there: a size that does not match */
	cr_expect(eq(i64, map_with_btf(BPF_MAP_TYPE_HASH, 4, 16, 8, (int)btf, 12, 13), -EINVAL));
	bt_close((int)btf);
	free(b);
}

Test(unit, synth_btf_has_the_recorded_size, .init = bt_setup, .fini = bt_teardown)
{
	__u32 small, len;
	free(needs_blob(0, &small));
	unsigned char *b = needs_blob(small + 1000, &len);
	cr_assert(eq(u32, len, small + 1000), "padded to the recorded btf_size");
	long btf = btf_load(b, len);
	cr_expect(ge(i64, btf, 0), "and still loads: %ld", btf);
	bt_close((int)btf);
	free(b);
	b = needs_blob(small - 1, &len);
	cr_expect(eq(u32, len, small), "a recorded size too small for the types: the types win");
	free(b);
}

static long load(const struct prog_shape *s, struct prog_made *m, int btf, char *log, __u32 log_size)
{
	union bpf_attr a;
	cr_assert(eq(int, synth_prog(s, m), 0));
	memset(&a, 0, sizeof(a));
	a.prog_type = s->prog_type;
	a.expected_attach_type = s->expected_attach_type;
	a.insns = m->bad_insns ? 8 : BT_PTR(m->insns);
	a.insn_cnt = m->insn_cnt;
	a.license = BT_PTR("GPL");
	if (s->name)
		snprintf(a.prog_name, sizeof(a.prog_name), "%s", s->name);
	a.prog_btf_fd = (__u32)btf;
	a.func_info_rec_size = s->func_info_rec_size;
	a.func_info_cnt = s->func_info_cnt;
	a.func_info = BT_PTR(m->func_info);
	a.line_info_rec_size = s->line_info_rec_size;
	a.line_info_cnt = s->line_info_cnt;
	a.line_info = BT_PTR(m->line_info);
	a.log_buf = BT_PTR(log);
	a.log_size = log_size;
	a.log_level = log_size ? 1 : 0;
	if (log_size)
		log[0] = '\0';
	return bt_bpf(BPF_PROG_LOAD, &a, BT_ATTR_END(attach_prog_fd));
}

struct shape_case {
	__u32 prog_type, attach;
	__u32 insn_cnt, funcs, lines;
	bool with_btf;
	int fail;               /* the recorded errno */
};

static struct shape_case shapes[] = {
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 2, 0, 0, false, 0 },              /* libbpf's probes */
	{ BPF_PROG_TYPE_TRACEPOINT, 0, 6, 0, 0, false, 0 },
	{ BPF_PROG_TYPE_XDP, BPF_XDP, 50, 1, 23, true, 0 },                /* an object's program */
	{ BPF_PROG_TYPE_TRACEPOINT, 0, 102, 1, 34, true, 0 },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 300, 4, 40, true, 0 },               /* with subprograms */
	{ BPF_PROG_TYPE_XDP, 0, 5, 3, 3, true, 0 },                         /* fewer insns than it needs */
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 2, 0, 0, false, EACCES },
	{ BPF_PROG_TYPE_XDP, BPF_XDP, 50, 2, 10, true, EACCES },
	{ BPF_PROG_TYPE_XDP, 0, 20, 0, 0, false, EINVAL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 40, 2, 6, true, EINVAL },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 4, 0, 0, false, EFAULT },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 2000000, 0, 0, false, E2BIG },
};

ParameterizedTestParameters(unit, synth_prog_loads_or_fails_as_recorded)
{
	return cr_make_param_array(struct shape_case, shapes, BT_ARRAY_SIZE(shapes));
}

ParameterizedTest(struct shape_case *c, unit, synth_prog_loads_or_fails_as_recorded, .init = bt_setup,
		  .fini = bt_teardown)
{
	__u32 len = 0;
	unsigned char *b = c->with_btf ? needs_blob(0, &len) : NULL;
	long btf = b ? btf_load(b, len) : 0;
	cr_assert(ge(i64, btf, 0), "BTF: %ld", btf);
	struct prog_shape s = {
		.prog_type = c->prog_type, .expected_attach_type = c->attach, .insn_cnt = c->insn_cnt,
		.func_info_cnt = c->funcs, .func_info_rec_size = 8,
		.line_info_cnt = c->lines, .line_info_rec_size = 16,
		.name = c->with_btf ? "xdp_prog" : "", .btf = b, .btf_len = len, .fail = c->fail, .retval = 2,
	};
	struct prog_made m;
	static char log[65536];
	long fd = load(&s, &m, (int)btf, log, c->fail == EFAULT || c->fail == E2BIG ? 0 : sizeof(log));
	if (c->fail)
		cr_expect(eq(i64, fd, -c->fail), "recorded -%d, got %ld: %s", c->fail, fd, log);
	else
		cr_expect(ge(i64, fd, 0), "recorded success, got %ld: %s", fd, log);
	if (!c->fail && c->insn_cnt >= 3 * (c->funcs ? c->funcs - 1 : 0) + 2)
		cr_expect(eq(u32, m.insn_cnt, c->insn_cnt), "the recorded instruction count");
	if (fd >= 0)
		bt_close((int)fd);
	if (btf > 0)
		bt_close((int)btf);
	prog_made_free(&m);
	free(b);
}
