/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_safety.c (engine only): programs that do wild things.
 * The kernel's verifier refuses these at load, and so does bpfemu's; with
 * the verifier's walk turned off for these tests (emu_verifier_set_walk, not
 * reachable through bpf()) they load here and the VM's run-time checks must
 * stop them:
 * the run ends with the documented errno (EFAULT for memory outside the
 * program's regions, ETIME for the time limit, E2BIG for a call stack too
 * deep (the load step refuses that first today), EINVAL for a misused lock or record, EOPNOTSUPP for what is not
 * emulated, EACCES for a program the kernel's verifier would refuse), a
 * BPFEMU_LOG=vm line names the instruction and the address, and the process
 * and the maps are left intact.
 */
#include "insn.h"
#include "verifier/verifier.h"

#include <sys/wait.h>

#define XDP 6

static unsigned char pkt[64];
static char logpath[96];

/* stderr to a file, BPFEMU_LOG=vm, a short time limit; loads skip the
 * verifier's walk, which would refuse these programs as the kernel does */
static void setup(void)
{
	bt_setup();
	emu_verifier_set_walk(false);
	setenv("BPFEMU_LOG", "vm", 1);
	setenv("BPFEMU_VM_TIMEOUT_MS", "300", 1);
	snprintf(logpath, sizeof(logpath), "%s/stderr", bt_root);
	cr_assert(ne(ptr, freopen(logpath, "w", stderr), NULL));
	setvbuf(stderr, NULL, _IONBF, 0);
}

#define SAFE_TEST(name, ...) Test(vm_safety, name, .init = setup, .fini = bt_teardown, ##__VA_ARGS__)

static const char *logged(void)
{
	static char buf[8192];
	FILE *f = fopen(logpath, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static int load(__u32 type, const struct bpf_insn *p, __u32 n)
{
	long fd = bt_prog_load(type, 0, type == BT_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0, p, n);
	cr_assert(ge(i64, fd, 0), "load: %s\n%s", strerror((int)-fd), bt_log);
	return (int)fd;
}

static long run(int fd)
{
	struct bt_run r;
	return bt_run_data(fd, pkt, sizeof(pkt), 1, &r);
}

/* a syscall program with ctx = { off }: the unknown offset the wild access uses */
static long run_off(const struct bpf_insn *p, __u32 n, __s64 off)
{
	int fd = load(BT_PROG_TYPE_SYSCALL, p, n);
	__u64 ctx[1] = { (__u64)off };
	return bt_run_ctx(fd, ctx, sizeof(ctx), NULL);
}

SAFE_TEST(stack_access_outside_every_frame_is_efault_and_logged)
{
	/* r2 = ctx[0]; r1 = r10 + r2; *(u64 *)r1 = 1 */
	struct bpf_insn p[] = {
		LDX(BPF_DW, 2, 1, 0),
		MOV64_R(1, 10),
		ALU64_R(BPF_ADD, 1, 2),
		ST(BPF_DW, 1, 0, 1),
		MOV64_I(0, 0),
		EXIT,
	};
	cr_assert(eq(i64, run_off(p, N_INSNS(p), -8), 0));          /* inside frame 0 */
	cr_assert(eq(i64, run_off(p, N_INSNS(p), -4096), 0));       /* the deepest frame */
	cr_assert(eq(i64, run_off(p, N_INSNS(p), 0), -EFAULT));     /* just above the stack */
	cr_assert(eq(i64, run_off(p, N_INSNS(p), -4097 - 7), -EFAULT));
	const char *l = logged();
	cr_assert(ne(ptr, strstr(l, "insn 3: write of 8 bytes at"), NULL), "%s", l);
	cr_assert(ne(ptr, strstr(l, "past the end of the stack"), NULL), "%s", l);
	cr_assert(ne(ptr, strstr(l, "Bad address"), NULL), "%s", l);
}

SAFE_TEST(wild_and_null_pointers_are_efault)
{
	struct bpf_insn p[] = {
		LDX(BPF_DW, 2, 1, 0),
		LDX(BPF_DW, 0, 2, 0),
		EXIT,
	};
	cr_assert(eq(i64, run_off(p, N_INSNS(p), 0), -EFAULT));
	cr_assert(eq(i64, run_off(p, N_INSNS(p), 0x1234), -EFAULT));
	cr_assert(eq(i64, run_off(p, N_INSNS(p), (__s64)(uintptr_t)&pkt), -EFAULT));   /* host memory */
	cr_assert(eq(i64, run_off(p, N_INSNS(p), -1), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "outside the program's memory"), NULL));
}

SAFE_TEST(packet_past_data_end_is_efault)
{
	/* no bounds check: read data + 64 (one byte past the 64-byte packet) */
	struct bpf_insn p[] = {
		LDX(BPF_W, 2, 1, offsetof(struct xdp_md, data)),
		LDX(BPF_B, 0, 2, 63),
		LDX(BPF_B, 0, 2, 64),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "insn 2: read of 1 bytes"), NULL), "%s", logged());
	cr_assert(ne(ptr, strstr(logged(), "0 bytes past the end of the packet"), NULL), "%s", logged());
	/* a wider read across the end */
	struct bpf_insn q[] = {
		LDX(BPF_W, 2, 1, offsetof(struct xdp_md, data)),
		LDX(BPF_DW, 0, 2, 60),
		MOV64_I(0, 2),
		EXIT,
	};
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "across the end of the packet"), NULL), "%s", logged());
}

SAFE_TEST(context_writes_outside_the_writable_fields_are_efault)
{
	/* XDP: xdp_md is read-only */
	struct bpf_insn p[] = { ST(BPF_W, 1, 0, 0), MOV64_I(0, 2), EXIT };
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EFAULT));
	/* tc: mark may be written, len may not */
	struct bpf_insn q[] = {
		ST(BPF_W, 1, offsetof(struct __sk_buff, mark), 5),
		LDX(BPF_DW, 2, 1, 0),        /* ctx pointer kept in r1: both stores checked by the analysis */
		ST(BPF_W, 1, offsetof(struct __sk_buff, len), 5),
		MOV64_I(0, 0),
		EXIT,
	};
	fd = load(BPF_PROG_TYPE_SCHED_CLS, q, N_INSNS(q));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "insn 2: write of 4 bytes"), NULL), "%s", logged());
}

SAFE_TEST(map_value_overflow_is_efault_and_the_map_is_intact)
{
	int map = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	__u32 k1 = 1, k2 = 2;
	__u64 v = 7;
	cr_assert(eq(i64, bt_update(map, &k1, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(map, &k2, &v, BPF_ANY), 0));
	/* v = lookup(1); write 8 bytes at v + off (off from the packet) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		ST(BPF_W, 10, -4, 1), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		LD_MAP(1, map), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 7),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data)),
		LDX(BPF_DW, 3, 2, 0),
		ALU64_R(BPF_ADD, 0, 3),
		LD64(4, 0x4141414141414141ull),
		STX(BPF_DW, 0, 4, 0),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	__s64 offs[] = { 0, 8, -8, -24, 64, -64 };
	for (size_t i = 0; i < BT_ARRAY_SIZE(offs); i++) {
		memcpy(pkt, &offs[i], 8);
		cr_expect(eq(i64, run(fd), i == 0 ? 0 : -EFAULT), "offset %lld", (long long)offs[i]);
	}
	/* both keys and values as they were, but the one allowed write */
	__u32 k, next;
	int n = 0;
	for (void *prev = NULL; !bt_next_key(map, prev, &next); prev = &k, k = next)
		n++;
	cr_assert(eq(int, n, 2));
	cr_assert(eq(i64, bt_lookup(map, &k1, &v), 0));
	cr_assert(eq(u64, v, 0x4141414141414141ull));
	cr_assert(eq(i64, bt_lookup(map, &k2, &v), 0));
	cr_assert(eq(u64, v, 7));
}

SAFE_TEST(read_only_maps_cannot_be_written_by_programs)
{
	int ro = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, BPF_F_RDONLY_PROG);
	__u32 k = 0;
	__u64 v = 99;
	cr_assert(eq(i64, bt_update(ro, &k, &v, BPF_ANY), 0));
	/* .rodata: a direct value, then a store through an unknown offset */
	struct bpf_insn p[] = {
		LD_MAPVAL(1, ro, 0),
		LDX(BPF_DW, 0, 1, 0),                  /* reading is fine */
		MOV64_I(2, 0),
		ALU64_R(BPF_ADD, 1, 2),
		ST(BPF_DW, 1, 0, 5),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "a map value may not be written there"), NULL), "%s", logged());
	cr_assert(eq(i64, bt_lookup(ro, &k, &v), 0));
	cr_assert(eq(u64, v, 99));
	/* and through the helper */
	struct bpf_insn q[] = {
		ST(BPF_W, 10, -4, 0), ST(BPF_DW, 10, -16, 1),
		LD_MAP(1, ro), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -16),
		MOV64_I(4, 0), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 1),
		ST(BPF_DW, 0, 0, 1),
		MOV64_I(0, 2),
		EXIT,
	};
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(eq(i64, bt_lookup(ro, &k, &v), 0));
	cr_assert(eq(u64, v, 99));
}

SAFE_TEST(a_loop_that_never_ends_is_etime)
{
	/* r0 counts up until it wraps around: 2^64 iterations */
	struct bpf_insn p[] = { MOV64_I(0, 0), ALU64_I(BPF_ADD, 0, 1), JMP_I(BPF_JNE, 0, 0, -2), EXIT };
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -ETIME));
	cr_assert(ne(ptr, strstr(logged(), "time limit"), NULL), "%s", logged());
	/* the process goes on: the same program object, another run */
	struct bpf_insn q[] = { MOV64_I(0, 2), EXIT };
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(i64, run(fd), 0));
}

SAFE_TEST(helpers_check_their_pointers_and_maps)
{
	int map = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	/* lookup with a key pointer into host memory */
	struct bpf_insn p[] = {
		LD_MAP(1, map),
		LD64(2, (__u64)(uintptr_t)&pkt),
		CALL(BPF_FUNC_map_lookup_elem),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "bpf_map_lookup_elem"), NULL), "%s", logged());
	/* a map argument that is not a map */
	struct bpf_insn q[] = {
		MOV64_R(1, 10),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8),
		CALL(BPF_FUNC_map_lookup_elem),
		MOV64_I(0, 2),
		EXIT,
	};
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(i64, run(fd), -EFAULT));
	cr_assert(ne(ptr, strstr(logged(), "is not a map the program holds"), NULL), "%s", logged());
	/* a tail call through something that is not a program array */
	struct bpf_insn t[] = { LD_MAP(2, map), MOV64_I(3, 0), CALL(BPF_FUNC_tail_call), MOV64_I(0, 2), EXIT };
	fd = load(XDP, t, N_INSNS(t));
	cr_assert(eq(i64, run(fd), -EINVAL));
	/* a callback address that is not a function */
	struct bpf_insn c[] = { MOV64_I(1, 3), MOV64_R(2, 10), MOV64_I(3, 0), MOV64_I(4, 0), CALL(BPF_FUNC_loop),
				MOV64_I(0, 2), EXIT };
	fd = load(XDP, c, N_INSNS(c));
	cr_assert(eq(i64, run(fd), -EFAULT));
}

SAFE_TEST(a_lock_left_held_is_released_and_the_run_fails)
{
	/* an array whose value holds a bpf_spin_lock at 4 (BTF as in test_vm_maps) */
	static const char strs[] = "\0int\0bpf_spin_lock\0val\0v\0cnt\0l";
	const __u32 types[] = {
		1, (__u32)BTF_KIND_INT << 24, 4, (__u32)BTF_INT_SIGNED << 24 | 32,
		5, (__u32)BTF_KIND_STRUCT << 24 | 1, 4, 19, 1, 0,
		23, (__u32)BTF_KIND_STRUCT << 24 | 2, 8, 25, 1, 0, 29, 2, 32,
	};
	int btf = bt_btf_load(types, sizeof(types), strs, sizeof(strs));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	a.btf_fd = (__u32)btf;
	a.btf_key_type_id = 1;
	a.btf_value_type_id = 3;
	int map = (int)bt_map_create_attr(&a);
	cr_assert(ge(i32, map, 0));
	/* lock and exit; lock twice; a helper call while locked */
	struct bpf_insn p[] = {
		ST(BPF_W, 10, -4, 0), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		LD_MAP(1, map), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 3),
		MOV64_R(1, 0), ALU64_I(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_lock),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EINVAL));
	cr_assert(ne(ptr, strstr(logged(), "ended holding a bpf_spin_lock"), NULL), "%s", logged());
	/* the lock was given back: a BPF_F_LOCK update from user space goes through */
	__u32 k = 0, v[2] = { 1, 0 };
	cr_assert(eq(i64, bt_elem(BPF_MAP_UPDATE_ELEM, map, &k, v, BPF_F_LOCK), 0));
	struct bpf_insn q[] = {
		ST(BPF_W, 10, -4, 0), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		LD_MAP(1, map), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 5),
		MOV64_R(6, 0),
		MOV64_R(1, 0), ALU64_I(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_lock),
		CALL(BPF_FUNC_ktime_get_ns),
		MOV64_I(0, 2),
		EXIT,
	};
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(i64, run(fd), -EINVAL));
	cr_assert(ne(ptr, strstr(logged(), "while holding a bpf_spin_lock"), NULL), "%s", logged());
	cr_assert(eq(i64, bt_elem(BPF_MAP_UPDATE_ELEM, map, &k, v, BPF_F_LOCK), 0));
}

SAFE_TEST(a_record_never_submitted_is_discarded)
{
	int rb = bt_map_new(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	struct bpf_insn p[] = {
		LD_MAP(1, rb), MOV64_I(2, 8), MOV64_I(3, 0), CALL(BPF_FUNC_ringbuf_reserve),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EINVAL));
	unsigned char *m = bt_mmap(rb, 4 * 4096, PROT_READ, MAP_SHARED);
	cr_assert(ne(ptr, m, MAP_FAILED));
	__u32 hdr;
	memcpy(&hdr, m + 2 * 4096, 4);
	cr_assert(eq(u32, hdr, 8u | (1u << 30)));     /* not busy: discarded */
}

SAFE_TEST(what_is_not_emulated_ends_the_run_with_eopnotsupp)
{
	/* bpf_check_mtu (163) loads (the kernel has it) but is not emulated */
	struct bpf_insn p[] = {
		ST(BPF_W, 10, -8, 0),
		MOV64_I(2, 0), MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -8), MOV64_I(4, 0), MOV64_I(5, 0),
		CALL(163),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(i64, run(fd), -EOPNOTSUPP));
	cr_assert(ne(ptr, strstr(logged(), "bpf_check_mtu#163"), NULL), "%s", logged());
	/* a program that does not reach it runs */
	struct bpf_insn q[] = { MOV64_I(0, 2), EXIT, CALL(163), EXIT };
	(void)q;
}

SAFE_TEST(writing_r10_makes_the_program_not_runnable)
{
	/* an atomic fetch into R10 through another address register: eacces at run time */
	struct bpf_insn p[] = {
		MOV64_R(1, 10),
		ALU64_I(BPF_ADD, 1, -8),
		ST(BPF_DW, 1, 0, 0),
		ATOMIC(BPF_DW, BPF_ADD | BPF_FETCH, 1, 10, 0),
		MOV64_I(0, 2),
		EXIT,
	};
	long fd = bt_prog_load(XDP, 0, 0, p, N_INSNS(p));
	if (fd < 0)
		cr_skip_test("the load step refuses it already: %s", strerror((int)-fd));
	cr_assert(eq(i64, run((int)fd), -EACCES));
	cr_assert(ne(ptr, strstr(logged(), "writes R10"), NULL), "%s", logged());
}

SAFE_TEST(a_forked_child_runs_the_parents_program)
{
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	struct bpf_insn p[] = {
		ST(BPF_W, 10, -4, 0), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		LD_MAP(1, map), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 2),
		MOV64_I(1, 1), ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	pid_t pid = fork();
	cr_assert(ge(i32, pid, 0));
	if (pid == 0)
		_exit(run(fd) == 0 ? 0 : 1);
	int st;
	cr_assert(eq(i32, waitpid(pid, &st, 0), pid));
	cr_assert(eq(int, WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0));
	cr_assert(eq(i64, run(fd), 0));
	__u32 k = 0;
	__u64 v = 0;
	cr_assert(eq(i64, bt_lookup(map, &k, &v), 0));
	cr_assert(eq(u64, v, 2));
}

/* instructions that put len bytes (a multiple of 4) of s at fp+off */
static __u32 put_bytes(struct bpf_insn *p, const void *s, __u32 len, __s16 off)
{
	for (__u32 i = 0; i < len; i += 4) {
		__s32 w;
		memcpy(&w, (const char *)s + i, 4);
		p[i / 4] = ST(BPF_W, 10, (__s16)(off + (__s16)i), w);
	}
	return len / 4;
}

/* the state root's trace buffer as /sys/kernel/tracing/trace shows it */
static size_t read_trace(char *buf, size_t size)
{
	int fd = emu_proc_open("/sys/kernel/tracing/trace", O_RDONLY | O_CLOEXEC);
	cr_assert(ge(i32, fd, 0), "%s", strerror(-fd));
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	cr_assert(ge(i64, n, 0));
	buf[n] = '\0';
	return (size_t)n;
}

SAFE_TEST(trace_printk_writes_trace_pipe_lines)
{
	/* bpf_trace_printk("hello %d %s %x\n", 24, 42, "hel", 0xbeef) */
	static const char fmt[24] = "hello %d %s %x\n", str[4] = "hel";
	struct bpf_insn p[32];
	__u32 n = put_bytes(p, fmt, sizeof(fmt), -24);
	n += put_bytes(p + n, str, sizeof(str), -32);
	struct bpf_insn tail[] = {
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, -24),
		MOV64_I(2, 24),
		MOV64_I(3, 42),
		MOV64_R(4, 10), ALU64_I(BPF_ADD, 4, -32),
		MOV64_I(5, 0xbeef),
		CALL(BPF_FUNC_trace_printk),
		EXIT,
	};
	memcpy(p + n, tail, sizeof(tail));
	n += N_INSNS(tail);
	int fd = load(XDP, p, n);
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, strlen("hello 42 hel beef\n")));
	char buf[2048];
	size_t len = read_trace(buf, sizeof(buf));
	/* the kernel's event line: the message, then the event's own newline */
	cr_assert(ne(ptr, strstr(buf, "] b..11 "), NULL), "%s", buf);
	cr_assert(ne(ptr, strstr(buf, ": bpf_trace_printk: hello 42 hel beef\n\n"), NULL), "%s", buf);
	/* comm-pid [cpu] at the start, as trace_pipe shows it */
	cr_assert(ne(ptr, strstr(buf, "-"), NULL));
	cr_assert(ne(ptr, strstr(buf, "] "), NULL));
	/* a format the kernel refuses: -EINVAL, nothing more written */
	static const char bad[4] = "%q\n";
	n = put_bytes(p, bad, sizeof(bad), -8);
	struct bpf_insn t2[] = {
		MOV64_R(1, 10), ALU64_I(BPF_ADD, 1, -8), MOV64_I(2, 4), MOV64_I(3, 1),
		CALL(BPF_FUNC_trace_printk),
		EXIT,
	};
	memcpy(p + n, t2, sizeof(t2));
	n += N_INSNS(t2);
	fd = load(XDP, p, n);
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(i32, (int)r.retval, -EINVAL));
	cr_assert(eq(sz, read_trace(buf, sizeof(buf)), len));
}

SAFE_TEST(redirects_are_recorded_for_the_caller)
{
	int dm = bt_map_new(BPF_MAP_TYPE_DEVMAP, 4, 4, 4, 0);
	__u32 k = 2, ifindex = 1;
	cr_assert(eq(i64, bt_update(dm, &k, &ifindex, BPF_ANY), 0));
	/* redirect_map(dm, key from the packet, XDP_PASS on a miss) */
	struct bpf_insn p[] = {
		LDX(BPF_W, 2, 1, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 2, 2, 0),
		LD_MAP(1, dm),
		MOV64_I(3, XDP_PASS),
		CALL(BPF_FUNC_redirect_map),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	unsigned int rif = 0, mid = 0, key = 0;
	unsigned long long fl = 1;
	memcpy(pkt, &k, 4);
	struct bt_run r;
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, XDP_REDIRECT));
	cr_assert(eq(int, bpfemu_test_run_redirect(&rif, &mid, &key, &fl), 1));
	cr_assert(eq(u32, rif, 1));
	cr_assert(eq(u32, mid, bt_map_id(dm)));
	cr_assert(eq(u32, key, 2));
	cr_assert(eq(u64, fl, 0));
	k = 3;                                   /* an empty slot: the flags' action, no redirect */
	memcpy(pkt, &k, 4);
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, XDP_PASS));
	cr_assert(eq(int, bpfemu_test_run_redirect(&rif, &mid, &key, &fl), 0));
	/* bpf_redirect */
	struct bpf_insn q[] = { MOV64_I(1, 7), MOV64_I(2, 0), CALL(BPF_FUNC_redirect), EXIT };
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &r), 0));
	cr_assert(eq(u32, r.retval, XDP_REDIRECT));
	cr_assert(eq(int, bpfemu_test_run_redirect(&rif, &mid, NULL, NULL), 1));
	cr_assert(eq(u32, rif, 7));
	cr_assert(eq(u32, mid, 0));
}

/* ---- atomics for real: threads and processes running one program on one map ---- */

#include <pthread.h>

static int shared_fd;
static void *runner(void *arg)
{
	(void)arg;
	struct bt_run r;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)shared_fd;
	a.test.data_in = BT_PTR(pkt);
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = 20000;
	(void)r;
	return (void *)(intptr_t)bt_test_run(&a);
}

SAFE_TEST(atomics_are_atomic_across_threads_and_processes)
{
	int map = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	__u32 k = 1;
	__u64 v = 0;
	cr_assert(eq(i64, bt_update(map, &k, &v, BPF_ANY), 0));
	/* lookup(1); atomic add 1, and a plain read-modify-write of a second word is not used */
	struct bpf_insn p[] = {
		ST(BPF_W, 10, -4, 1), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		LD_MAP(1, map), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 2),
		MOV64_I(1, 1), ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
		MOV64_I(0, 2),
		EXIT,
	};
	shared_fd = load(XDP, p, N_INSNS(p));
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, pthread_create(&th[i], NULL, runner, NULL), 0));
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		cr_assert(ge(i32, kids[i], 0));
		if (kids[i] == 0)
			_exit(runner(NULL) == NULL ? 0 : 1);
	}
	for (int i = 0; i < 4; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		cr_assert(eq(ptr, ret, NULL));
	}
	for (int i = 0; i < 2; i++) {
		int st;
		cr_assert(eq(i32, waitpid(kids[i], &st, 0), kids[i]));
		cr_assert(eq(int, WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0));
	}
	cr_assert(eq(i64, bt_lookup(map, &k, &v), 0));
	cr_assert(eq(u64, v, 6 * 20000));
}

/* ---- the handles the VM keeps go with the program and the run ---- */

/* how many of this process's mappings are files of the state root */
static int root_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, bt_root) != NULL;
	if (f)
		fclose(f);
	return n;
}

SAFE_TEST(closed_programs_and_maps_leave_no_mapping_behind)
{
	/* each round: an inner array in a hash of maps, a program that names the
	 * outer map and is handed the inner one, two runs, all closed. The fd
	 * table lets an object a thread looked at last go a little later (its
	 * hazard pointers), so the count is taken after the first round and must
	 * not grow: the VM's map handles (one per map a program names, one per
	 * inner map a run was handed) go with the program and the run */
	int baseline = -1;
	for (int round = 0; round < 6; round++) {
		int inner = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_HASH_OF_MAPS;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 4;
		a.inner_map_fd = (__u32)inner;
		int outer = (int)bt_map_create_attr(&a);
		cr_assert(ge(i32, outer, 0));
		__u32 k = 3, ifd = (__u32)inner;
		cr_assert(eq(i64, bt_update(outer, &k, &ifd, BPF_ANY), 0));
		/* m = lookup(outer, 3); v = lookup(m, 0); *v += 1; r0 = 2 */
		struct bpf_insn p[] = {
			ST(BPF_W, 10, -4, 3), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
			LD_MAP(1, outer), CALL(BPF_FUNC_map_lookup_elem),
			JMP_I(BPF_JEQ, 0, 0, 8),
			MOV64_R(1, 0), ST(BPF_W, 10, -4, 0), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
			CALL(BPF_FUNC_map_lookup_elem),
			JMP_I(BPF_JEQ, 0, 0, 2),
			MOV64_I(1, 1), ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
			MOV64_I(0, 2),
			EXIT,
		};
		int fd = load(XDP, p, N_INSNS(p));
		struct bt_run br;
		for (int i = 0; i < 2; i++) {
			cr_assert(eq(i64, bt_run_data(fd, pkt, sizeof(pkt), 1, &br), 0), "%s", logged());
			cr_assert(eq(u32, br.retval, 2));
		}
		__u64 v = 0;
		k = 0;
		cr_assert(eq(i64, bt_lookup(inner, &k, &v), 0));
		cr_assert(eq(u64, v, 2));
		close(fd);
		close(outer);
		close(inner);
		int n = root_mappings();
		if (round == 0)
			baseline = n;
		cr_assert(eq(i32, n, baseline), "round %d: %d mappings of the state root, %d after the first", round,
			  n, baseline);
	}
}
