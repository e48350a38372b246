/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_info.c: OBJ_GET_INFO_BY_FD with short and long info_len
 * on maps and programs, prog info arrays, and BPF_ENABLE_STATS (emu/sys.c).
 */
#include "bt.h"

static int load_with_map(int map_fd, __u32 *insn_cnt)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ .code = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = BT_PTR(insns);
	a.insn_cnt = 4;
	a.license = BT_PTR("GPL");
	memcpy(a.prog_name, "info_prog", 10);
	long fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "prog load: %s", strerror((int)-fd));
	*insn_cnt = 4;
	return (int)fd;
}

/* Linux 6.18's struct sizes: what a long info_len is cut down to */
#define KERNEL_MAP_INFO_SIZE 104u
#define KERNEL_PROG_INFO_SIZE 232u

BT_TEST(info_map_short_len_writes_only_that_much)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	unsigned char buf[64];
	memset(buf, 0xaa, sizeof(buf));
	__u32 len = 8;
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, 8));
	__u32 type, id;
	memcpy(&type, buf, 4);
	memcpy(&id, buf + 4, 4);
	cr_assert(eq(u32, type, BPF_MAP_TYPE_HASH));
	cr_assert(gt(u32, id, 0));
	cr_assert(eq(u8, buf[8], 0xaa), "nothing past info_len");
}

BT_TEST(info_map_len_zero_writes_nothing)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0);
	unsigned char buf[8];
	memset(buf, 0xaa, sizeof(buf));
	__u32 len = 0;
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, 0));
	cr_assert(eq(u8, buf[0], 0xaa));
}

BT_TEST(info_map_long_len_zero_tail_is_cut_to_kernel_size)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0);
	unsigned char buf[512];
	memset(buf, 0, sizeof(buf));
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, KERNEL_MAP_INFO_SIZE));
}

BT_TEST(info_map_long_len_nonzero_tail_is_e2big)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0);
	unsigned char buf[512];
	memset(buf, 0, sizeof(buf));
	buf[300] = 1;
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), -E2BIG));
}

BT_TEST(info_prog_short_len_writes_only_that_much)
{
	__u32 cnt;
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	int fd = load_with_map(map, &cnt);
	unsigned char buf[64];
	memset(buf, 0xaa, sizeof(buf));
	__u32 len = 4;
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, 4));
	__u32 type;
	memcpy(&type, buf, 4);
	cr_assert(eq(u32, type, BPF_PROG_TYPE_SOCKET_FILTER));
	cr_assert(eq(u8, buf[4], 0xaa));
}

BT_TEST(info_prog_long_len_zero_tail_is_cut_to_kernel_size)
{
	__u32 cnt;
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	int fd = load_with_map(map, &cnt);
	unsigned char buf[1024];
	memset(buf, 0, sizeof(buf));
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, KERNEL_PROG_INFO_SIZE));
}

BT_TEST(info_prog_reports_array_lengths_without_buffers)
{
	__u32 cnt;
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	int fd = load_with_map(map, &cnt);
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.nr_map_ids, 1));
	cr_assert(eq(u32, info.xlated_prog_len, cnt * 8));
	cr_assert(eq(u32, info.nr_func_info, 0));
	cr_assert(eq(u32, info.nr_line_info, 0));
	cr_assert(eq(str, info.name, "info_prog"));
	cr_assert(eq(u32, info.run_cnt, 0));
	cr_assert(eq(u64, info.run_time_ns, 0));
}

BT_TEST(info_prog_map_ids_copied_when_asked)
{
	__u32 cnt;
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	__u32 map_id = bt_map_id(map);
	int fd = load_with_map(map, &cnt);
	__u32 ids[4] = { 0 };
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 4;
	info.map_ids = BT_PTR(ids);
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.nr_map_ids, 1));
	cr_assert(eq(u32, ids[0], map_id));
	cr_assert(eq(u32, ids[1], 0));
}

BT_TEST(info_prog_map_ids_bad_pointer_is_efault)
{
	__u32 cnt;
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	int fd = load_with_map(map, &cnt);
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 1;
	info.map_ids = BT_PTR(bt_unmapped_page());
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), -EFAULT));
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = 8;      /* a length with a NULL buffer: EFAULT too */
	len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), -EFAULT));
}

BT_TEST(info_prog_xlated_copied_up_to_asked_length)
{
	__u32 cnt;
	int map = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	int fd = load_with_map(map, &cnt);
	struct bpf_insn insns[8];
	memset(insns, 0xaa, sizeof(insns));
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = 3 * 8;
	info.xlated_prog_insns = BT_PTR(insns);
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.xlated_prog_len, cnt * 8), "the full length is reported");
	cr_assert(eq(u8, insns[2].code, BPF_ALU64 | BPF_MOV | BPF_K));
	cr_assert(eq(u8, insns[3].code, 0xaa), "nothing past the asked length");
}

/* ---- BPF_ENABLE_STATS ---- */

BT_TEST(enable_stats_run_time_returns_cloexec_fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	long fd = bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "%s", strerror((int)-fd));
	cr_assert(eq(i32, fcntl((int)fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC));
	/* not a map, prog or link: info is EINVAL */
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), -EINVAL));
	close((int)fd);
}

BT_TEST(enable_stats_unknown_type_is_einval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = 1;
	cr_assert(eq(i64, bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a)), -EINVAL));
}

BT_TEST(enable_stats_field_after_type_is_einval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	((char *)&a)[BT_ATTR_END(enable_stats.type)] = 1;
	cr_assert(eq(i64, bt_bpf(BPF_ENABLE_STATS, &a, sizeof(a)), -EINVAL));
}
