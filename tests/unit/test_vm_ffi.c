/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_ffi.c: user functions for programs (emu/vm/ffi.c) and
 * kfunc calls. The kernel build checks what bpfemu's own kfuncs answer
 * (XDP metadata on a device without it: -EOPNOTSUPP; the RCU brackets); the
 * engine build also checks functions registered with bpfemu_func_set()
 * standing in for helpers and kfuncs, called through libffi with the
 * prototype's widths, signedness and pointer checks.
 */
#include "insn.h"
#ifndef BPFEMU_TEST_KERNEL
#include "verifier/verifier.h"
#endif

#define XDP BPF_PROG_TYPE_XDP
#define KFUNC(id) BI(BPF_JMP | BPF_CALL, 0, 2 /* BPF_PSEUDO_KFUNC_CALL */, 0, (__s32)(id))
#define FFI_TEST(name, ...) Test(vm_ffi, name, .init = bt_setup, .fini = bt_teardown, ##__VA_ARGS__)

static unsigned char pkt[64] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45 };

static __u32 kfunc_id(const char *name)
{
	__u32 id = bt_kbtf_id(name, BTF_KIND_FUNC);
	if (!id)
		bt_skip("no %s in this kernel's BTF", name);
	return id;
}

static long xdp_load(const struct bpf_insn *p, __u32 n)
{
	return bt_prog_load(XDP, 0, 0, p, n);
}

static __u32 xdp_run(int fd)
{
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	return r.retval;
}

/* ---- bpfemu's own kfuncs: as the kernel answers ---- */

FFI_TEST(rcu_brackets_run_and_metadata_kfuncs_need_a_device)
{
	/* bpf_rcu_read_lock(); bpf_rcu_read_unlock(); return 2 */
	struct bpf_insn q[] = {
		KFUNC(kfunc_id("bpf_rcu_read_lock")), KFUNC(kfunc_id("bpf_rcu_read_unlock")), MOV64_I(0, 2), EXIT,
	};
	long fd = xdp_load(q, N_INSNS(q));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	cr_assert(eq(u32, xdp_run((int)fd), 2));
	/* bpf_xdp_metadata_rx_hash(ctx, &hash, &type): only device-bound programs
	 * (which have no test run) may call it; without a user function the load fails */
	struct bpf_insn p[] = {
		ST(BPF_W, 10, -4, 7), ST(BPF_W, 10, -8, 7),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -8),
		KFUNC(kfunc_id("bpf_xdp_metadata_rx_hash")),
		EXIT,
	};
	cr_assert(eq(i64, xdp_load(p, N_INSNS(p)), -EINVAL));
}

#ifndef BPFEMU_TEST_KERNEL
/* ---- user functions (engine only: the kernel has none) ---- */

static unsigned long long fake_ktime(void)
{
	return 0x1122334455667788ull;
}

static unsigned int fake_prandom(void)
{
	return 4;        /* chosen by a fair dice roll */
}

static long fake_comm(char *buf, unsigned int size)
{
	snprintf(buf, size, "mocked");
	return (long)size;
}

static int seen_level;
static unsigned long long fake_ancestor(int level)
{
	seen_level = level;
	return 1000 + (unsigned long long)(long long)level;
}

FFI_TEST(user_functions_stand_in_for_helpers)
{
	cr_assert(eq(int, bpfemu_func_set("bpf_ktime_get_ns", (void (*)(void))fake_ktime), 0));
	cr_assert(eq(int, bpfemu_func_set("bpf_get_prandom_u32", (void (*)(void))fake_prandom), 0));
	/* r0 = (ktime >> 32) + prandom */
	struct bpf_insn p[] = {
		CALL(BPF_FUNC_ktime_get_ns), ALU64_I(BPF_RSH, 0, 32), MOV64_R(6, 0),
		CALL(BPF_FUNC_get_prandom_u32), ALU64_R(BPF_ADD, 0, 6),
		EXIT,
	};
	long fd = xdp_load(p, N_INSNS(p));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	cr_assert(eq(u32, xdp_run((int)fd), 0x11223344u + 4));
	/* removed: the next program decoded gets the helper again */
	cr_assert(eq(int, bpfemu_func_set("bpf_ktime_get_ns", NULL), 0));
	cr_assert(eq(int, bpfemu_func_set("bpf_get_prandom_u32", NULL), 0));
	fd = xdp_load(p, N_INSNS(p));
	cr_assert(ne(u32, xdp_run((int)fd), 0x11223344u + 4));
}

FFI_TEST(user_function_pointer_arguments_are_checked)
{
	cr_assert(eq(int, bpfemu_func_set("bpf_get_current_comm", (void (*)(void))fake_comm), 0));
	/* r0 = bpf_get_current_comm(fp - 16, 16) + the first 4 bytes of the name */
	struct bpf_insn p[] = {
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, -16), MOV64_I(2, 16),
		CALL(BPF_FUNC_get_current_comm),
		LDX(BPF_W, 2, 10, -16),
		ALU64_R(BPF_ADD, 0, 2),
		EXIT,
	};
	long fd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	__u32 mock;
	memcpy(&mock, "mock", 4);
	cr_assert(eq(u32, a.test.retval, 16 + mock));
	/* a buffer past the stack: the kernel's verifier refuses it at load, and so does bpfemu's */
	p[1] = ALU64_I(BPF_ADD, 1, 8);
	fd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	cr_assert(eq(i64, fd, -EACCES));
	cr_assert(ne(ptr, strstr(bt_log, "invalid write to stack R1 off=8 size=16\n"), NULL), "%s", bt_log);
	/* loaded with the verifier's walk off (engine-internal, as tests/unit/test_vm_safety.c does), the
	 * VM's run-time check is the last line of defence: the user function is not called, the run ends
	 * with EFAULT */
	emu_verifier_set_walk(false);
	fd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	emu_verifier_set_walk(true);
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	a.test.prog_fd = (__u32)fd;
	cr_assert(eq(i64, bt_test_run(&a), -EFAULT));
	bpfemu_func_set("bpf_get_current_comm", NULL);
}

FFI_TEST(user_function_arguments_have_the_prototypes_width)
{
	/* bpf_get_current_ancestor_cgroup_id(int level): emulated (level -3 is no ancestor: 0, as the
	 * kernel's cgroup_ancestor() answers), and a user function stands in for it when set */
	struct bpf_insn p[] = { LD64(1, 0x12345678fffffffdull), CALL(BPF_FUNC_get_current_ancestor_cgroup_id), EXIT };
	long fd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.retval = 12345;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	cr_assert(eq(u32, a.test.retval, 0));
	cr_assert(eq(int, bpfemu_func_set("bpf_get_current_ancestor_cgroup_id", (void (*)(void))fake_ancestor), 0));
	fd = bt_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, p, N_INSNS(p));
	a.test.prog_fd = (__u32)fd;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	/* the low 32 bits, as an int: -3 */
	cr_assert(eq(i32, seen_level, -3));
	cr_assert(eq(u32, a.test.retval, 997));
	bpfemu_func_set("bpf_get_current_ancestor_cgroup_id", NULL);
}

static int rx_hash_calls;
static int fake_rx_hash(const struct xdp_md *ctx, unsigned int *hash, unsigned int *type)
{
	rx_hash_calls++;
	*hash = ctx->ingress_ifindex * 1000 + 0xab;
	*type = 2;
	return 0;
}

FFI_TEST(user_functions_implement_kfuncs)
{
	__u32 id = kfunc_id("bpf_xdp_metadata_rx_hash");
	cr_assert(eq(int, bpfemu_func_set("bpf_xdp_metadata_rx_hash", (void (*)(void))fake_rx_hash), 0));
	/* r0 = rx_hash(ctx, &hash, &type) ? -1 : hash + type */
	struct bpf_insn p[] = {
		ST(BPF_W, 10, -4, 0), ST(BPF_W, 10, -8, 0),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -8),
		KFUNC(id),
		JMP_I(BPF_JEQ, 0, 0, 2),
		MOV64_I(0, -1),
		EXIT,
		LDX(BPF_W, 0, 10, -4), LDX(BPF_W, 2, 10, -8), ALU64_R(BPF_ADD, 0, 2),
		EXIT,
	};
	long fd = xdp_load(p, N_INSNS(p));
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	cr_assert(eq(u32, xdp_run((int)fd), 1000 + 0xab + 2));
	cr_assert(eq(int, rx_hash_calls, 1));
	/* hash pointing outside the program's memory: the verifier checks the
	 * argument against the kernel's prototype (u32 *: 4 bytes) as the kernel
	 * does, and refuses the load */
	p[3] = ALU64_I(BPF_ADD, 2, 4096);
	fd = xdp_load(p, N_INSNS(p));
	cr_assert(eq(i64, fd, -EACCES), "%s", bt_log);
	cr_assert(ne(ptr, strstr(bt_log, "invalid read from stack R2 off=4096 size=4"), NULL), "%s", bt_log);
	/* loaded without the walk, the VM's own check stops it: EFAULT before the call */
	emu_verifier_set_walk(false);
	fd = xdp_load(p, N_INSNS(p));
	emu_verifier_set_walk(true);
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data((int)fd, pkt, sizeof(pkt), 1, &r), -EFAULT));
	cr_assert(eq(int, rx_hash_calls, 1));
	bpfemu_func_set("bpf_xdp_metadata_rx_hash", NULL);
}

FFI_TEST(a_kfunc_nobody_provides_fails_at_load)
{
	struct bpf_insn p[] = { MOV64_I(1, 1), KFUNC(kfunc_id("bpf_task_from_pid")), MOV64_I(0, 0), EXIT };
	long fd = xdp_load(p, N_INSNS(p));
	cr_assert(eq(i64, fd, -EINVAL));
	cr_assert(ne(ptr, strstr(bt_log, "is not a function"), NULL), "%s", bt_log);
}
#endif
