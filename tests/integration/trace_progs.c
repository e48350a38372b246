/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/trace_progs.c: raw bpf() calls of every command strace
 * 6.1 decodes beyond the map commands (and of those it prints as a pointer),
 * for the trace tests: BTF_LOAD (good, bad with a log, with bytes past
 * strace's struct), PROG_LOAD with BTF, func_info, line_info, fd_array and a
 * failing one with a log, PROG_TEST_RUN (data in and out, too small an
 * output), LINK_CREATE of each union strace decodes (XDP, perf_event, iter,
 * kprobe_multi), LINK_UPDATE, LINK_DETACH, RAW_TRACEPOINT_OPEN, PROG_ATTACH,
 * PROG_DETACH, PROG_QUERY, TASK_FD_QUERY, BTF_GET_FD_BY_ID, ITER_CREATE,
 * ENABLE_STATS, PROG_BIND_MAP, TOKEN_CREATE and the four batch commands.
 * Run under `strace -e trace=bpf` on the kernel (as root, in a network
 * namespace of its own: the XDP link goes on its lo) and under the shim with
 * BPFEMU_TRACE (BPFEMU_ATTACH=inert), the two logs must agree once pointers,
 * fds and ids are normalized, and the return values where the engine answers
 * otherwise by design (tests/integration/trace.sh lists which).
 * Prints one line per call to stdout: the command and its result.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define END(f) (offsetof(union bpf_attr, f) + sizeof(((union bpf_attr *)0)->f))

static long sys(const char *what, int cmd, void *attr, unsigned int size)
{
	long r = syscall(SYS_bpf, cmd, attr, size);
	printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : r > 2 ? "fd" : r ? "1" : "0");
	return r;
}

/* BTF: [1] int, [2] struct val {int a; int b;}, [3] int (void), [4] func xdp_prog (global) */
static const char strs[] = "\0int\0val\0a\0b\0xdp_prog\0x.c\0return XDP_PASS;";
#define NTYPES 19                               /* __u32 words of the type section */
static const unsigned int btf_size = sizeof(struct btf_header) + 4 * NTYPES + sizeof(strs);

static void make_btf(unsigned char *b)
{
	struct btf_header h = {
		.magic = 0xeB9F, .version = 1, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = 4 * NTYPES, .str_off = 4 * NTYPES, .str_len = sizeof(strs),
	};
	__u32 t[NTYPES] = {
		1, 1u << 24, 4, (1u << 24) | 32,                        /* int */
		5, (4u << 24) | 2, 8, 9, 1, 0, 11, 1, 32,               /* struct val */
		0, 13u << 24, 1,                                        /* func_proto */
		13, (12u << 24) | 1, 3,                                 /* func xdp_prog */
	};
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), t, sizeof(t));
	memcpy(b + sizeof(h) + sizeof(t), strs, sizeof(strs));
}

static int btf_fd, map_fd, hash_fd, xdp_fd, tp_fd, raw_fd, link_fd;
static char log_buf[4096];

static void btf_calls(void)
{
	unsigned char b[256], bad[256], big[48];
	union bpf_attr a;

	make_btf(b);
	memset(&a, 0, sizeof(a));
	a.btf = (unsigned long)b;
	a.btf_size = btf_size;
	btf_fd = (int)sys("btf_load", BPF_BTF_LOAD, &a, END(btf_log_level));

	/* a bad magic, with a log */
	memcpy(bad, b, sizeof(bad));
	bad[0] = 0x34;
	memset(&a, 0, sizeof(a));
	a.btf = (unsigned long)bad;
	a.btf_size = btf_size;
	a.btf_log_buf = (unsigned long)log_buf;
	a.btf_log_size = sizeof(log_buf);
	a.btf_log_level = 1;
	log_buf[0] = '\0';
	sys("btf_load_bad", BPF_BTF_LOAD, &a, END(btf_log_level));

	/* 40 bytes: btf_log_true_size (an output) set on entry: strace's ", ..." */
	memset(&a, 0, sizeof(a));
	a.btf = (unsigned long)b;
	a.btf_size = btf_size;
	memset(big, 0, sizeof(big));
	memcpy(big, &a, END(btf_log_level));
	big[28] = 7;
	int fd = (int)sys("btf_load_40", BPF_BTF_LOAD, big, 40);
	if (fd >= 0)
		close(fd);
}

static void map_calls(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	a.btf_fd = btf_fd;
	a.btf_key_type_id = 1;
	a.btf_value_type_id = 2;
	strcpy(a.map_name, "vals");
	map_fd = (int)sys("map_create", BPF_MAP_CREATE, &a, END(map_extra));
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 8;
	strcpy(a.map_name, "h");
	hash_fd = (int)sys("hash_create", BPF_MAP_CREATE, &a, END(map_extra));
}

/* *(u32 *)(fp-4) = 0; *(u64 *)(fp-16) = 7; map_update_elem(map, fp-4, fp-16, 0); return XDP_PASS */
static int make_prog(struct bpf_insn *in, int map, int by_index)
{
	int n = 0;
	in[n++] = (struct bpf_insn){ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -4, .imm = 0 };
	in[n++] = (struct bpf_insn){ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = 10, .off = -16, .imm = 7 };
	in[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10 };
	in[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4 };
	in[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 3, .src_reg = 10 };
	in[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = -16 };
	in[n++] = (struct bpf_insn){ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 1,
				     .src_reg = by_index ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_FD, .imm = map };
	in[n++] = (struct bpf_insn){ 0 };
	in[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 4, .imm = 0 };
	in[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_update_elem };
	in[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS };
	in[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	return n;
}

static void prog_calls(void)
{
	struct bpf_insn in[16];
	struct bpf_func_info fi = { .insn_off = 0, .type_id = 4 };
	struct bpf_line_info li[2] = {
		{ .insn_off = 0, .file_name_off = 22, .line_off = 26, .line_col = (3 << 10) | 5 },
		{ .insn_off = 10, .file_name_off = 22, .line_off = 26, .line_col = (4 << 10) | 2 },
	};
	union bpf_attr a;
	int n = make_prog(in, map_fd, 0);

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (unsigned long)in;
	a.insn_cnt = n;
	a.license = (unsigned long)"GPL";
	strcpy(a.prog_name, "xdp_prog");
	a.expected_attach_type = BPF_XDP;
	a.prog_btf_fd = btf_fd;
	a.func_info_rec_size = sizeof(fi);
	a.func_info = (unsigned long)&fi;
	a.func_info_cnt = 1;
	a.line_info_rec_size = sizeof(li[0]);
	a.line_info = (unsigned long)li;
	a.line_info_cnt = 2;
	xdp_fd = (int)sys("prog_load_btf", BPF_PROG_LOAD, &a, END(fd_array));

	/* the map by index into fd_array */
	int fds[1] = { map_fd };
	n = make_prog(in, 0, 1);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (unsigned long)in;
	a.insn_cnt = n;
	a.license = (unsigned long)"Dual MIT/GPL and a license name longer than -s";
	a.fd_array = (unsigned long)fds;
	int fd = (int)sys("prog_load_fd_array", BPF_PROG_LOAD, &a, END(fd_array));
	if (fd >= 0)
		close(fd);

	/* R2 is read before it is written: EACCES, with a log */
	struct bpf_insn badp[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 0, .src_reg = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)badp;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)log_buf;
	a.log_size = sizeof(log_buf);
	a.log_level = 1;
	log_buf[0] = '\0';
	sys("prog_load_eacces", BPF_PROG_LOAD, &a, END(fd_array));

	/* a tracepoint program and a raw tracepoint program (r0 = 0; exit) */
	struct bpf_insn ret0[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_TRACEPOINT;
	a.insns = (unsigned long)ret0;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	strcpy(a.prog_name, "tp");
	tp_fd = (int)sys("prog_load_tp", BPF_PROG_LOAD, &a, END(fd_array));
	a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	strcpy(a.prog_name, "raw");
	raw_fd = (int)sys("prog_load_raw_tp", BPF_PROG_LOAD, &a, END(fd_array));

	/* 144 bytes with log_true_size (an output) set on entry: ", ..." */
	unsigned char big[144];
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)ret0;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	memset(big, 0, sizeof(big));
	memcpy(big, &a, END(fd_array));
	big[140] = 1;
	fd = (int)sys("prog_load_144", BPF_PROG_LOAD, big, sizeof(big));
	if (fd >= 0)
		close(fd);
}

static void test_run_calls(void)
{
	unsigned char in[64], out[128];
	union bpf_attr a;
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = xdp_fd;
	a.test.data_in = (unsigned long)in;
	a.test.data_size_in = sizeof(in);
	a.test.data_out = (unsigned long)out;
	a.test.data_size_out = sizeof(out);
	a.test.repeat = 1;
	sys("test_run", BPF_PROG_TEST_RUN, &a, END(test.batch_size));
	/* the output does not fit: ENOSPC (data_size_out says how much it needed) */
	a.test.data_size_out = 8;
	a.test.retval = 0;
	sys("test_run_small", BPF_PROG_TEST_RUN, &a, END(test.batch_size));
	/* the old 40-byte attr */
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = xdp_fd;
	a.test.data_in = (unsigned long)in;
	a.test.data_size_in = sizeof(in);
	sys("test_run_40", BPF_PROG_TEST_RUN, &a, END(test.duration));
}

static void link_calls(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = xdp_fd;
	a.link_create.target_ifindex = 1;                   /* lo */
	a.link_create.attach_type = BPF_XDP;
	link_fd = (int)sys("link_create_xdp", BPF_LINK_CREATE, &a, END(link_create));

	memset(&a, 0, sizeof(a));
	a.link_update.link_fd = link_fd;
	a.link_update.new_prog_fd = xdp_fd;
	a.link_update.flags = BPF_F_REPLACE;
	a.link_update.old_prog_fd = xdp_fd;
	sys("link_update", BPF_LINK_UPDATE, &a, END(link_update));

	/* a perf event link on no perf event: EBADF */
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = tp_fd;
	a.link_create.target_fd = (__u32)-1;
	a.link_create.attach_type = BPF_PERF_EVENT;
	a.link_create.perf_event.bpf_cookie = 0x2a;
	sys("link_create_perf", BPF_LINK_CREATE, &a, END(link_create));

	/* iter and kprobe_multi unions on a program fd that is none: EBADF */
	__u32 iter_info[2] = { (__u32)map_fd, 0 };
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)-1;
	a.link_create.attach_type = BPF_TRACE_ITER;
	a.link_create.iter_info = (unsigned long)iter_info;
	a.link_create.iter_info_len = 2;
	sys("link_create_iter", BPF_LINK_CREATE, &a, END(link_create));
	const char *syms[2] = { "vfs_read", "vfs_write" };
	__u64 cookies[2] = { 1, 0x20 };
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)-1;
	a.link_create.attach_type = BPF_TRACE_KPROBE_MULTI;
	a.link_create.kprobe_multi.flags = BPF_F_KPROBE_MULTI_RETURN;
	a.link_create.kprobe_multi.cnt = 2;
	a.link_create.kprobe_multi.syms = (unsigned long)syms;
	a.link_create.kprobe_multi.cookies = (unsigned long)cookies;
	sys("link_create_kprobe_multi", BPF_LINK_CREATE, &a, END(link_create));

	/* a raw tracepoint */
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (unsigned long)"sys_enter";
	a.raw_tracepoint.prog_fd = raw_fd;
	int fd = (int)sys("raw_tracepoint_open", BPF_RAW_TRACEPOINT_OPEN, &a, END(raw_tracepoint));

	/* ITER_CREATE on a link that is no iterator; LINK_DETACH; TASK_FD_QUERY */
	memset(&a, 0, sizeof(a));
	a.iter_create.link_fd = (__u32)-1;
	sys("iter_create", BPF_ITER_CREATE, &a, END(iter_create));
	char buf[64] = "";
	memset(&a, 0, sizeof(a));
	a.task_fd_query.pid = (__u32)getpid();
	a.task_fd_query.fd = (__u32)-1;
	a.task_fd_query.buf = (unsigned long)buf;
	a.task_fd_query.buf_len = sizeof(buf);
	sys("task_fd_query", BPF_TASK_FD_QUERY, &a, END(task_fd_query));
	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = link_fd;
	sys("link_detach", BPF_LINK_DETACH, &a, END(link_detach));
	if (fd >= 0)
		close(fd);

	/* PROG_ATTACH / DETACH / QUERY on fds that are none */
	memset(&a, 0, sizeof(a));
	a.target_fd = (__u32)-1;
	a.attach_bpf_fd = (__u32)-1;
	a.attach_type = BPF_CGROUP_INET_INGRESS;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	sys("prog_attach", BPF_PROG_ATTACH, &a, END(replace_bpf_fd));
	memset(&a, 0, sizeof(a));
	a.target_fd = (__u32)-1;
	a.attach_type = BPF_CGROUP_INET_EGRESS;
	sys("prog_detach", BPF_PROG_DETACH, &a, END(replace_bpf_fd));
	__u32 ids[4] = { 0 };
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (__u32)-1;
	a.query.attach_type = BPF_CGROUP_INET_INGRESS;
	a.query.query_flags = BPF_F_QUERY_EFFECTIVE;
	a.query.prog_ids = (unsigned long)ids;
	a.query.prog_cnt = 4;
	sys("prog_query", BPF_PROG_QUERY, &a, END(query.prog_cnt));
}

static void misc_calls(void)
{
	union bpf_attr a;
	struct { __u32 type, id; char rest[120]; } info;

	/* BTF_GET_FD_BY_ID of our BTF (its id from the info) */
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = btf_fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	sys("btf_info", BPF_OBJ_GET_INFO_BY_FD, &a, END(info));
	__u32 btf_id;
	memcpy(&btf_id, (char *)&info + 12, 4);             /* bpf_btf_info.id */
	memset(&a, 0, sizeof(a));
	a.btf_id = btf_id;
	int fd = (int)sys("btf_get_fd_by_id", BPF_BTF_GET_FD_BY_ID, &a, END(btf_id));
	if (fd >= 0)
		close(fd);

	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	fd = (int)sys("enable_stats", BPF_ENABLE_STATS, &a, END(enable_stats));
	if (fd >= 0)
		close(fd);

	memset(&a, 0, sizeof(a));
	a.prog_bind_map.prog_fd = xdp_fd;
	a.prog_bind_map.map_fd = hash_fd;
	sys("prog_bind_map", BPF_PROG_BIND_MAP, &a, END(prog_bind_map));

	/* BPF_TOKEN_CREATE (36): the 6.1 headers do not name it */
	memset(&a, 0, sizeof(a));
	sys("token_create", 36, &a, 8);
}

static void batch_calls(void)
{
	union bpf_attr a;
	__u32 keys[4] = { 1, 2, 3, 4 }, vals[4] = { 10, 20, 30, 40 }, okeys[8], ovals[8], out_batch = 0;

	memset(&a, 0, sizeof(a));
	a.batch.map_fd = hash_fd;
	a.batch.keys = (unsigned long)keys;
	a.batch.values = (unsigned long)vals;
	a.batch.count = 4;
	sys("update_batch", BPF_MAP_UPDATE_BATCH, &a, END(batch));
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = hash_fd;
	a.batch.keys = (unsigned long)keys;
	a.batch.count = 1;
	sys("delete_batch", BPF_MAP_DELETE_BATCH, &a, END(batch));
	/* the whole map in one call: ENOENT, count 3 */
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = hash_fd;
	a.batch.out_batch = (unsigned long)&out_batch;
	a.batch.keys = (unsigned long)okeys;
	a.batch.values = (unsigned long)ovals;
	a.batch.count = 8;
	sys("lookup_batch", BPF_MAP_LOOKUP_BATCH, &a, END(batch));
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = hash_fd;
	a.batch.out_batch = (unsigned long)&out_batch;
	a.batch.keys = (unsigned long)okeys;
	a.batch.values = (unsigned long)ovals;
	a.batch.count = 8;
	sys("lookup_and_delete_batch", BPF_MAP_LOOKUP_AND_DELETE_BATCH, &a, END(batch));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	btf_calls();
	map_calls();
	prog_calls();
	test_run_calls();
	link_calls();
	misc_calls();
	batch_calls();
	return 0;
}
