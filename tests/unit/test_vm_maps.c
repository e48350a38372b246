/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vm_maps.c: what programs do to maps, seen from user space,
 * on the engine and (test_vm_maps_kernel) on the kernel: the map helpers on
 * every map type that has them, per-CPU slots, map-in-map, direct value
 * access, ring buffer records, tail calls and their limit, callbacks,
 * bpf_spin_lock, and the task helpers.
 */
#include "insn.h"

#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#define XDP 6
#define RAWTP BPF_PROG_TYPE_RAW_TRACEPOINT

static unsigned char pkt[64];

static int load(__u32 type, const struct bpf_insn *p, __u32 n)
{
	long fd = bt_prog_load(type, 0, 0, p, n);
	cr_assert(ge(i64, fd, 0), "load type %u: %s\n%s", type, strerror((int)-fd), bt_log);
	return (int)fd;
}

static __u32 run(int fd)
{
	struct bt_run r;
	long e = bt_run_data(fd, pkt, sizeof(pkt), 1, &r);
	cr_assert(eq(i64, e, 0), "test run: %s", strerror((int)-e));
	return r.retval;
}

static __u32 run_raw_on_cpu(int fd, __u32 cpu)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	a.test.flags = BPF_F_TEST_RUN_ON_CPU;
	a.test.cpu = cpu;
	long e = bt_test_run(&a);
	cr_assert(eq(i64, e, 0), "test run: %s", strerror((int)-e));
	return a.test.retval;
}

/* fp-4 = key; r2 = fp-4 */
#define KEY_ON_STACK(k) ST(BPF_W, 10, -4, k), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4)

BT_TEST(hash_counter_from_a_program_is_seen_by_user_space)
{
	int map = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	/* v = lookup(7); if !v { fp-16 = 1; update(7, fp-16) } else atomic v += 1; r0 = 2 */
	struct bpf_insn p[] = {
		KEY_ON_STACK(7),
		LD_MAP(1, map),
		CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 4),
		MOV64_I(1, 1),
		ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
		MOV64_I(0, 2),
		EXIT,
		ST(BPF_DW, 10, -16, 1),
		LD_MAP(1, map),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -16),
		MOV64_I(4, BPF_NOEXIST),
		CALL(BPF_FUNC_map_update_elem),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	__u32 k = 7;
	__u64 v = 0;
	cr_assert(eq(u32, run(fd), 0));            /* the update's result */
	cr_assert(eq(i64, bt_lookup(map, &k, &v), 0));
	cr_assert(eq(u64, v, 1));
	for (int i = 0; i < 4; i++)
		cr_assert(eq(u32, run(fd), 2));
	cr_assert(eq(i64, bt_lookup(map, &k, &v), 0));
	cr_assert(eq(u64, v, 5));
}

/* The value a program gets is 8-aligned, as the kernel's htab_elem puts it
 * (at round_up(key_size, 8) past the key) whatever the key size, for plain
 * and LRU hashes: the program stores the pointer it got in the value itself
 * (a privileged program may), and user space reads it back. */
BT_TEST(hash_values_a_program_gets_are_8_aligned)
{
	static const __u32 types[] = { BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH };
	static const __u32 ksizes[] = { 1, 3, 4, 5, 8, 12 };
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (size_t k = 0; k < sizeof(ksizes) / sizeof(ksizes[0]); k++) {
			int map = bt_map_new(types[t], ksizes[k], 8, 64, 0);
			unsigned char key[12] = { 7 };
			__u64 v = 0;
			/* every key byte zero but the first: the program's key is fp-16's 7 and zeros */
			cr_assert(eq(i64, bt_update(map, key, &v, BPF_ANY), 0));
			struct bpf_insn p[] = {
				ST(BPF_DW, 10, -16, 7), ST(BPF_DW, 10, -8, 0),
				MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -16),
				LD_MAP(1, map),
				CALL(BPF_FUNC_map_lookup_elem),
				JMP_I(BPF_JEQ, 0, 0, 2),
				STX(BPF_DW, 0, 0, 0),
				MOV64_I(0, 1),
				EXIT,
			};
			int fd = load(XDP, p, N_INSNS(p));
			cr_assert(eq(u32, run(fd), 1), "type %u key size %u: the lookup failed", types[t], ksizes[k]);
			cr_assert(eq(i64, bt_lookup(map, key, &v), 0));
			cr_assert(ne(u64, v, 0));
			cr_expect(eq(u64, v & 7, 0), "type %u key size %u: the value is at %#llx", types[t], ksizes[k],
				  (unsigned long long)v);
			bt_close(fd);
			bt_close(map);
		}
	}
}

BT_TEST(map_update_and_delete_results_are_the_kernels)
{
	int map = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 1, 0);
	int arr = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
	/* r7 = update(hash, k, v, flags) (k from the packet), r8 = delete(hash, 9), r9 = delete(array, 0) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 3, 6, offsetof(struct xdp_md, data_end)),
		MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 16),
		MOV64_I(0, 0),
		JMP_R(BPF_JGT, 4, 3, 33),
		LDX(BPF_W, 7, 2, 0), STX(BPF_W, 10, 7, -4),    /* key */
		LDX(BPF_DW, 7, 2, 8),                           /* flags */
		ST(BPF_DW, 10, -16, 5),
		LD_MAP(1, map),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -16),
		MOV64_R(4, 7),
		CALL(BPF_FUNC_map_update_elem),
		MOV64_R(7, 0),
		ST(BPF_W, 10, -4, 9),
		LD_MAP(1, map), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		CALL(BPF_FUNC_map_delete_elem),
		MOV64_R(8, 0),
		ST(BPF_W, 10, -4, 0),
		LD_MAP(1, arr), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		CALL(BPF_FUNC_map_delete_elem),
		ALU64_I(BPF_AND, 0, 0xff), ALU64_I(BPF_LSH, 0, 16),
		ALU64_I(BPF_AND, 8, 0xff), ALU64_I(BPF_LSH, 8, 8),
		ALU64_I(BPF_AND, 7, 0xff),
		ALU64_R(BPF_OR, 0, 8), ALU64_R(BPF_OR, 0, 7),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	struct { __u32 key; __u64 flags; __u32 want; } cases[] = {
		{ 1, BPF_EXIST, (__u8)-ENOENT },      /* missing key */
		{ 1, BPF_NOEXIST, 0 },
		{ 1, BPF_NOEXIST, (__u8)-EEXIST },
		{ 2, BPF_ANY, (__u8)-E2BIG },         /* full */
		{ 1, 7, (__u8)-EINVAL },              /* unknown flags */
		{ 1, BPF_F_LOCK, (__u8)-EINVAL },     /* no bpf_spin_lock in the value */
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
		unsigned char d[64] = { 0 };
		memcpy(d, &cases[i].key, 4);
		memcpy(d + 8, &cases[i].flags, 8);
		struct bt_run r;
		cr_assert(eq(i64, bt_run_data(fd, d, sizeof(d), 1, &r), 0));
		/* delete of an absent key: ENOENT; delete in an array: EINVAL */
		cr_expect(eq(u32, r.retval, (__u32)(__u8)-EINVAL << 16 | (__u32)(__u8)-ENOENT << 8 | cases[i].want),
			  "case %zu", i);
	}
}

BT_TEST(direct_value_access_is_global_data)
{
	/* an array of one value as .bss: *(u64 *)(val + 8) += 3 through ld_imm64 of the value */
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0);
	struct bpf_insn p[] = {
		LD_MAPVAL(1, map, 8),
		LDX(BPF_DW, 2, 1, 0),
		ALU64_I(BPF_ADD, 2, 3),
		STX(BPF_DW, 1, 2, 0),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	run(fd);
	run(fd);
	__u32 k = 0;
	__u64 v[2] = { 0 };
	cr_assert(eq(i64, bt_lookup(map, &k, v), 0));
	cr_assert(eq(u64, v[0], 0));
	cr_assert(eq(u64, v[1], 6));
}

BT_TEST(percpu_maps_give_the_running_cpus_slot)
{
	int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (ncpu < 2)
		cr_skip_test("one CPU");
	int arr = bt_map_new(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, 0);
	int hash = bt_map_new(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, 0);
	/* array[0] (this CPU's) = cpu + 100; hash update(5, cpu + 200); r0 = cpu */
	struct bpf_insn p[] = {
		CALL(BPF_FUNC_get_smp_processor_id),
		MOV64_R(6, 0),
		KEY_ON_STACK(0),
		LD_MAP(1, arr),
		CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 3),
		MOV64_R(1, 6), ALU64_I(BPF_ADD, 1, 100),
		STX(BPF_DW, 0, 1, 0),
		MOV64_R(1, 6), ALU64_I(BPF_ADD, 1, 200), STX(BPF_DW, 10, 1, -16),
		ST(BPF_W, 10, -4, 5),
		LD_MAP(1, hash),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -4),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -16),
		MOV64_I(4, 0),
		CALL(BPF_FUNC_map_update_elem),
		MOV64_R(0, 6),
		EXIT,
	};
	int fd = load(RAWTP, p, N_INSNS(p));
	cr_assert(eq(u32, run_raw_on_cpu(fd, 1), 1));
	__u64 *vals = calloc((size_t)ncpu, 8);
	__u32 k = 0;
	cr_assert(eq(i64, bt_lookup(arr, &k, vals), 0));
	for (int c = 0; c < ncpu; c++)
		cr_expect(eq(u64, vals[c], c == 1 ? 101 : 0), "cpu %d", c);
	k = 5;
	cr_assert(eq(i64, bt_lookup(hash, &k, vals), 0));
	for (int c = 0; c < ncpu; c++)
		cr_expect(eq(u64, vals[c], c == 1 ? 201 : 0), "cpu %d", c);
	/* another CPU's update keeps the first one's slot */
	cr_assert(eq(u32, run_raw_on_cpu(fd, 0), 0));
	cr_assert(eq(i64, bt_lookup(hash, &k, vals), 0));
	cr_expect(eq(u64, vals[0], 200));
	cr_expect(eq(u64, vals[1], 201));
	free(vals);
}

BT_TEST(map_in_map_lookup_gives_the_inner_map)
{
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
	a.map_type = BPF_MAP_TYPE_ARRAY_OF_MAPS;
	int aom = (int)bt_map_create_attr(&a);
	cr_assert(ge(i32, aom, 0));
	__u32 k = 3, ifd = (__u32)inner;
	cr_assert(eq(i64, bt_update(outer, &k, &ifd, BPF_ANY), 0));
	k = 1;
	cr_assert(eq(i64, bt_update(aom, &k, &ifd, BPF_ANY), 0));
	/* m = lookup(outer, 3); v = lookup(m, 1); *v += 10; m2 = lookup(aom, 1); v = lookup(m2, 0); *v += 1;
	 * r0 = lookup(outer, 2) == NULL */
	struct bpf_insn p[] = {
		KEY_ON_STACK(3), LD_MAP(1, outer), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 33),
		MOV64_R(1, 0), KEY_ON_STACK(1), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 27),
		MOV64_I(1, 10), ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
		KEY_ON_STACK(1), LD_MAP(1, aom), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 18),
		MOV64_R(1, 0), KEY_ON_STACK(0), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 12),
		MOV64_I(1, 1), ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
		KEY_ON_STACK(2), LD_MAP(1, outer), CALL(BPF_FUNC_map_lookup_elem),
		MOV64_I(1, 0),
		JMP_I(BPF_JNE, 0, 0, 1),
		MOV64_I(1, 1),
		MOV64_R(0, 1),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(u32, run(fd), 1));
	cr_assert(eq(u32, run(fd), 1));
	__u64 v = 0;
	k = 1;
	cr_assert(eq(i64, bt_lookup(inner, &k, &v), 0));
	cr_assert(eq(u64, v, 20));
	k = 0;
	cr_assert(eq(i64, bt_lookup(inner, &k, &v), 0));
	cr_assert(eq(u64, v, 2));
}

BT_TEST(lpm_trie_lookup_finds_the_longest_prefix)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_LPM_TRIE;
	a.key_size = 8;
	a.value_size = 8;
	a.max_entries = 8;
	a.map_flags = BPF_F_NO_PREALLOC;
	int trie = (int)bt_map_create_attr(&a);
	cr_assert(ge(i32, trie, 0));
	struct { __u32 plen; unsigned char ip[4]; } k8 = { 8, { 10 } }, k24 = { 24, { 10, 0, 0 } };
	__u64 v8 = 8, v24 = 24;
	cr_assert(eq(i64, bt_update(trie, &k8, &v8, BPF_ANY), 0));
	cr_assert(eq(i64, bt_update(trie, &k24, &v24, BPF_ANY), 0));
	/* key {32, 10.0.0.9}: the /24's value; {32, 10.1.0.0}: the /8's; {32, 11.0.0.0}: none (0) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 3, 6, offsetof(struct xdp_md, data_end)),
		MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 4),
		MOV64_I(0, 0),
		JMP_R(BPF_JGT, 4, 3, 10),
		LDX(BPF_W, 7, 2, 0),
		STX(BPF_W, 10, 7, -4),
		ST(BPF_W, 10, -8, 32),
		LD_MAP(1, trie),
		MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8),
		CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 1),
		LDX(BPF_DW, 0, 0, 0),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	struct { unsigned char ip[4]; __u32 want; } cases[] = {
		{ { 10, 0, 0, 9 }, 24 }, { { 10, 1, 0, 0 }, 8 }, { { 11, 0, 0, 0 }, 0 },
	};
	for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
		unsigned char d[64] = { 0 };
		memcpy(d, cases[i].ip, 4);
		struct bt_run r;
		cr_assert(eq(i64, bt_run_data(fd, d, sizeof(d), 1, &r), 0));
		cr_expect(eq(u32, r.retval, cases[i].want), "case %zu", i);
	}
}

BT_TEST(queue_stack_and_bloom_filter_from_programs)
{
	int q = bt_map_new(BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0);
	int s = bt_map_new(BPF_MAP_TYPE_STACK, 0, 8, 4, 0);
	int b = bt_map_new(BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0);
	/* push 11, 22 into both, 33 into the bloom filter; r0 = pop(stack) << 16 | peek(queue) << 8 | peek(bloom, 33) */
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -8, 11),
		LD_MAP(1, q), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 0), CALL(BPF_FUNC_map_push_elem),
		LD_MAP(1, s), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 0), CALL(BPF_FUNC_map_push_elem),
		ST(BPF_DW, 10, -8, 22),
		LD_MAP(1, q), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 0), CALL(BPF_FUNC_map_push_elem),
		LD_MAP(1, s), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 0), CALL(BPF_FUNC_map_push_elem),
		ST(BPF_DW, 10, -8, 33),
		LD_MAP(1, b), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 0), CALL(BPF_FUNC_map_push_elem),
		LD_MAP(1, s), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -16), CALL(BPF_FUNC_map_pop_elem),
		LDX(BPF_DW, 7, 10, -16), ALU64_I(BPF_LSH, 7, 16),
		LD_MAP(1, q), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -16), CALL(BPF_FUNC_map_peek_elem),
		LDX(BPF_DW, 8, 10, -16), ALU64_I(BPF_LSH, 8, 8), ALU64_R(BPF_OR, 7, 8),
		LD_MAP(1, b), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), CALL(BPF_FUNC_map_peek_elem),
		ALU64_I(BPF_AND, 0, 0xff),
		ALU64_R(BPF_OR, 0, 7),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(u32, run(fd), 22u << 16 | 11u << 8 | 0));
	__u64 v;
	cr_assert(eq(i64, bt_lookup_and_delete(q, NULL, &v), 0));
	cr_assert(eq(u64, v, 11));
	cr_assert(eq(i64, bt_lookup_and_delete(q, NULL, &v), 0));
	cr_assert(eq(u64, v, 22));
	cr_assert(eq(i64, bt_lookup_and_delete(s, NULL, &v), 0));
	cr_assert(eq(u64, v, 11));
	cr_assert(eq(i64, bt_lookup_and_delete(s, NULL, &v), -ENOENT));
	v = 33;
	cr_assert(eq(i64, bt_lookup(b, NULL, &v), 0));
}

/* ---- ring buffer ---- */

BT_TEST(ringbuf_records_reach_user_space)
{
	int rb = bt_map_new(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	/* output 8 bytes; reserve 12 and submit; reserve 4 and discard; r0 = query(AVAIL_DATA) */
	struct bpf_insn p[] = {
		LD64(1, 0x1122334455667788ull), STX(BPF_DW, 10, 1, -8),
		LD_MAP(1, rb), MOV64_R(2, 10), ALU64_I(BPF_ADD, 2, -8), MOV64_I(3, 8), MOV64_I(4, 0),
		CALL(BPF_FUNC_ringbuf_output),
		LD_MAP(1, rb), MOV64_I(2, 12), MOV64_I(3, 0), CALL(BPF_FUNC_ringbuf_reserve),
		JMP_I(BPF_JEQ, 0, 0, 6),
		ST(BPF_W, 0, 0, 0x0a0b0c0d), ST(BPF_W, 0, 4, 7), ST(BPF_W, 0, 8, 0),
		MOV64_R(1, 0), MOV64_I(2, 0), CALL(BPF_FUNC_ringbuf_submit),
		LD_MAP(1, rb), MOV64_I(2, 4), MOV64_I(3, 0), CALL(BPF_FUNC_ringbuf_reserve),
		JMP_I(BPF_JEQ, 0, 0, 3),
		MOV64_R(1, 0), MOV64_I(2, 0), CALL(BPF_FUNC_ringbuf_discard),
		LD_MAP(1, rb), MOV64_I(2, BPF_RB_AVAIL_DATA), CALL(BPF_FUNC_ringbuf_query),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	cr_assert(eq(u32, run(fd), 16 + 24 + 16));
	unsigned char *prod = bt_mmap(rb, 4096 * 4, PROT_READ, MAP_SHARED);
	cr_assert(ne(ptr, prod, MAP_FAILED));
	/* the consumer page is first; producer_pos at the second page, data from the third */
	const __u64 *pp = (const __u64 *)(prod + 4096);
	cr_assert(eq(u64, pp[0], 56));
	const unsigned char *d = prod + 2 * 4096;
	__u32 h[2];
	memcpy(h, d, 8);
	cr_assert(eq(u32, h[0], 8));
	cr_assert(eq(int, memcmp(d + 8, "\x88\x77\x66\x55\x44\x33\x22\x11", 8), 0));
	memcpy(h, d + 16, 8);
	cr_assert(eq(u32, h[0], 12));
	cr_assert(eq(int, memcmp(d + 24, "\x0d\x0c\x0b\x0a\x07\0\0\0\0\0\0\0", 12), 0));
	memcpy(h, d + 40, 8);
	cr_assert(eq(u32, h[0], 4u | (1u << 30)));     /* discarded */
	/* BPF_RB_RING_SIZE; reserve with flags is NULL; a record larger than the ring is NULL */
	struct bpf_insn q[] = {
		LD_MAP(1, rb), MOV64_I(2, 8), MOV64_I(3, 1), CALL(BPF_FUNC_ringbuf_reserve),
		MOV64_I(7, 0),
		JMP_I(BPF_JEQ, 0, 0, 4),
		MOV64_R(1, 0), MOV64_I(2, 0), CALL(BPF_FUNC_ringbuf_discard),
		MOV64_I(7, 1),
		LD_MAP(1, rb), MOV64_I(2, 5000), MOV64_I(3, 0), CALL(BPF_FUNC_ringbuf_reserve),
		JMP_I(BPF_JEQ, 0, 0, 4),
		MOV64_R(1, 0), MOV64_I(2, 0), CALL(BPF_FUNC_ringbuf_discard),
		ALU64_I(BPF_OR, 7, 2),
		LD_MAP(1, rb), MOV64_I(2, BPF_RB_RING_SIZE), CALL(BPF_FUNC_ringbuf_query),
		ALU64_R(BPF_ADD, 0, 7),
		EXIT,
	};
	fd = load(XDP, q, N_INSNS(q));
	cr_assert(eq(u32, run(fd), 4096));
}

/* ---- tail calls ---- */

BT_TEST(tail_calls_stop_after_33)
{
	int pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
	int cnt = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	/* count[0] += 1; tail_call(ctx, pa, 0); r0 = 2 (when the tail call fails) */
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		KEY_ON_STACK(0), LD_MAP(1, cnt), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 2),
		MOV64_I(1, 1), ATOMIC(BPF_DW, BPF_ADD, 0, 1, 0),
		MOV64_R(1, 6), LD_MAP(2, pa), MOV64_I(3, 0),
		CALL(BPF_FUNC_tail_call),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	__u32 k = 0, v = (__u32)fd;
	cr_assert(eq(i64, bt_update(pa, &k, &v, BPF_ANY), 0));
	cr_assert(eq(u32, run(fd), 2));
	__u64 n = 0;
	cr_assert(eq(i64, bt_lookup(cnt, &k, &n), 0));
	cr_assert(eq(u64, n, 34));       /* the first run and 33 tail calls */
}

BT_TEST(tail_call_to_an_empty_or_missing_slot_goes_on)
{
	int pa = bt_map_new(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
	/* tail_call(ctx, pa, index from the packet); r0 = 2; the target returns 3 */
	struct bpf_insn target[] = { MOV64_I(0, 3), EXIT };
	struct bpf_insn p[] = {
		MOV64_R(6, 1),
		LDX(BPF_W, 2, 6, offsetof(struct xdp_md, data)),
		LDX(BPF_W, 3, 6, offsetof(struct xdp_md, data_end)),
		MOV64_R(4, 2), ALU64_I(BPF_ADD, 4, 4),
		MOV64_I(0, 0),
		JMP_R(BPF_JGT, 4, 3, 6),
		LDX(BPF_W, 3, 2, 0),
		MOV64_R(1, 6), LD_MAP(2, pa),
		CALL(BPF_FUNC_tail_call),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	int t = load(XDP, target, 2);
	__u32 k = 1, v = (__u32)t;
	cr_assert(eq(i64, bt_update(pa, &k, &v, BPF_ANY), 0));
	__u32 idx[] = { 1, 0, 4, 0xffffffff }, want[] = { 3, 2, 2, 2 };
	for (size_t i = 0; i < BT_ARRAY_SIZE(idx); i++) {
		unsigned char d[64] = { 0 };
		memcpy(d, &idx[i], 4);
		struct bt_run r;
		cr_assert(eq(i64, bt_run_data(fd, d, sizeof(d), 1, &r), 0));
		cr_expect(eq(u32, r.retval, want[i]), "index %u", idx[i]);
	}
}

/* ---- for_each_map_elem ---- */

BT_TEST(for_each_map_elem_visits_and_stops)
{
	int arr = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 5, 0);
	for (__u32 k = 0; k < 5; k++) {
		__u64 v = (k + 1) * 10;
		cr_assert(eq(i64, bt_update(arr, &k, &v, BPF_ANY), 0));
	}
	/*
	 * main: fp-8 = 0; n = for_each(arr, cb, fp-8, 0); r0 = n << 16 | fp-8
	 * cb(map, key, val, ctx): *ctx += *val; *val += 1; return *key == 2 (stop at the third)
	 */
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -8, 0),
		LD_MAP(1, arr),
		LD_FUNC(2, 0),
		MOV64_R(3, 10), ALU64_I(BPF_ADD, 3, -8),
		MOV64_I(4, 0),
		CALL(BPF_FUNC_for_each_map_elem),
		ALU64_I(BPF_LSH, 0, 16),
		LDX(BPF_DW, 1, 10, -8),
		ALU64_R(BPF_OR, 0, 1),
		EXIT,
	};
	struct bpf_insn cb[] = {
		LDX(BPF_DW, 5, 3, 0),
		LDX(BPF_DW, 0, 4, 0), ALU64_R(BPF_ADD, 0, 5), STX(BPF_DW, 4, 0, 0),
		ALU64_I(BPF_ADD, 5, 1), STX(BPF_DW, 3, 5, 0),
		LDX(BPF_W, 1, 2, 0),
		MOV64_I(0, 0),
		JMP_I(BPF_JNE, 1, 2, 1),
		MOV64_I(0, 1),
		EXIT,
	};
	struct bpf_insn all[N_INSNS(p) + N_INSNS(cb)];
	memcpy(all, p, sizeof(p));
	memcpy(all + N_INSNS(p), cb, sizeof(cb));
	all[3] = BI(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_FUNC, 0, (__s32)N_INSNS(p) - 4);
	const __u32 starts[] = { 0, N_INSNS(p) };
	long fd = bt_prog_load_funcs(XDP, 0, all, N_INSNS(all), starts, 2);
	cr_assert(ge(i64, fd, 0), "%s", bt_log);
	cr_assert(eq(u32, run((int)fd), 3u << 16 | 60));
	__u64 v;
	__u32 k = 2;
	cr_assert(eq(i64, bt_lookup(arr, &k, &v), 0));
	cr_assert(eq(u64, v, 31));
	k = 3;
	cr_assert(eq(i64, bt_lookup(arr, &k, &v), 0));
	cr_assert(eq(u64, v, 40));
}

/* ---- bpf_spin_lock: the lock BPF_F_LOCK takes ---- */

/* BTF: [1] int, [2] struct bpf_spin_lock { int val }, [3] struct v { int cnt; struct bpf_spin_lock l } */
static int lock_btf(void)
{
	static const char strs[] = "\0int\0bpf_spin_lock\0val\0v\0cnt\0l";
	const __u32 types[] = {
		1, (__u32)BTF_KIND_INT << 24, 4, (__u32)BTF_INT_SIGNED << 24 | 32,
		5, (__u32)BTF_KIND_STRUCT << 24 | 1, 4, 19, 1, 0,
		23, (__u32)BTF_KIND_STRUCT << 24 | 2, 8, 25, 1, 0, 29, 2, 32,
	};
	return bt_btf_load(types, sizeof(types), strs, sizeof(strs));
}

BT_TEST(spin_lock_in_a_program_and_bpf_f_lock_in_user_space)
{
	int btf = lock_btf();
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	a.btf_fd = (__u32)btf;
	a.btf_key_type_id = 1;
	a.btf_value_type_id = 3;
	int map = (int)bt_map_create_attr(&a);
	cr_assert(ge(i32, map, 0), "%s", strerror(-map));
	__u32 k = 1, val[2] = { 5, 0 };
	cr_assert(eq(i64, bt_update(map, &k, val, BPF_ANY), 0));
	/* v = lookup(1); lock(&v->l); v->cnt += 2; unlock; r0 = 2 */
	struct bpf_insn p[] = {
		KEY_ON_STACK(1), LD_MAP(1, map), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 10),
		MOV64_R(6, 0),
		MOV64_R(1, 6), ALU64_I(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_lock),
		LDX(BPF_W, 1, 6, 0), ALU64_I(BPF_ADD, 1, 2), STX(BPF_W, 6, 1, 0),
		MOV64_R(1, 6), ALU64_I(BPF_ADD, 1, 4), CALL(BPF_FUNC_spin_unlock),
		MOV64_I(0, 2),
		EXIT,
	};
	int fd = load(XDP, p, N_INSNS(p));
	for (int i = 0; i < 3; i++)
		cr_assert(eq(u32, run(fd), 2));
	__u32 out[2] = { 0, 0xffffffff };
	cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_ELEM, map, &k, out, BPF_F_LOCK), 0));
	cr_assert(eq(u32, out[0], 11));
	cr_assert(eq(u32, out[1], 0));     /* the lock reads as zero */
}

/* ---- the task helpers and time ---- */

BT_TEST(task_helpers_describe_the_calling_thread)
{
	prctl(PR_SET_NAME, "vmtest-comm");
	/* ctx-less raw_tp: ctx[] written to an array map: pid_tgid, uid_gid, comm[16], ktime twice */
	int out = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 48, 1, 0);
	struct bpf_insn p[] = {
		KEY_ON_STACK(0), LD_MAP(1, out), CALL(BPF_FUNC_map_lookup_elem),
		JMP_I(BPF_JEQ, 0, 0, 13),
		MOV64_R(6, 0),
		CALL(BPF_FUNC_get_current_pid_tgid), STX(BPF_DW, 6, 0, 0),
		CALL(BPF_FUNC_get_current_uid_gid), STX(BPF_DW, 6, 0, 8),
		MOV64_R(1, 6), ALU64_I(BPF_ADD, 1, 16), MOV64_I(2, 16), CALL(BPF_FUNC_get_current_comm),
		CALL(BPF_FUNC_ktime_get_ns), STX(BPF_DW, 6, 0, 32),
		CALL(BPF_FUNC_ktime_get_boot_ns), STX(BPF_DW, 6, 0, 40),
		MOV64_I(0, 0),
		EXIT,
	};
	int fd = load(RAWTP, p, N_INSNS(p));
	struct timespec t0, t1, b0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_BOOTTIME, &b0);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)fd;
	cr_assert(eq(i64, bt_test_run(&a), 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	__u32 k = 0;
	struct { __u64 pid_tgid, uid_gid; char comm[16]; __u64 mono, boot; } v;
	cr_assert(eq(i64, bt_lookup(out, &k, &v), 0));
	cr_assert(eq(u64, v.pid_tgid, (__u64)getpid() << 32 | (__u32)gettid()));
	cr_assert(eq(u64, v.uid_gid, (__u64)getgid() << 32 | getuid()));
	cr_assert(eq(str, v.comm, "vmtest-comm"));
	__u64 a0 = (__u64)t0.tv_sec * 1000000000ull + (__u64)t0.tv_nsec;
	__u64 a1 = (__u64)t1.tv_sec * 1000000000ull + (__u64)t1.tv_nsec;
	__u64 bb = (__u64)b0.tv_sec * 1000000000ull + (__u64)b0.tv_nsec;
	cr_assert(ge(u64, v.mono, a0));
	cr_assert(le(u64, v.mono, a1));
	cr_assert(ge(u64, v.boot, bb));
}
