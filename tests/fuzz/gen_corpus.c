/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/gen_corpus.c: writes the seed corpus of fuzz_sys (tests/fuzz/corpus)
 * from the call sequences real programs make (bpftool map create/update/dump,
 * libbpf's map and pin handling, a socket filter load, the probes libbpf
 * runs), in fuzz_sys's input format. Usage: gen_corpus DIR
 */
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(buf, off) ((0xb0f0b0f0ull << 32) | ((uint64_t)(buf) << 16) | (off))
#define FD(n) (0xfd000000u | (n))
#define END(f) (offsetof(union bpf_attr, f) + sizeof(((union bpf_attr *)0)->f))

static unsigned char out[8192];
static size_t olen;

static void fill(unsigned int buf, unsigned int off16, const void *p, size_t len)
{
	out[olen++] = 0xff;
	out[olen++] = (unsigned char)buf;
	out[olen++] = (unsigned char)off16;
	out[olen++] = (unsigned char)len;
	memcpy(out + olen, p, len);
	olen += len;
}

static void call(int cmd, const union bpf_attr *a, size_t len, unsigned int size)
{
	out[olen++] = (unsigned char)cmd;
	out[olen++] = (unsigned char)size;
	out[olen++] = (unsigned char)(size >> 8);
	out[olen++] = (unsigned char)len;
	memcpy(out + olen, a, len);
	olen += len;
}
#define CALL(cmd, a, last) call(cmd, &(a), END(last), END(last))

static void save(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(out, 1, olen, f) != olen || fclose(f)) {
		perror(path);
		exit(1);
	}
	olen = 0;
}

static union bpf_attr create(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	return a;
}

static union bpf_attr elem(unsigned int fd, uint64_t key, uint64_t value, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = FD(fd);
	a.key = key;
	a.value = value;
	a.flags = flags;
	return a;
}

int main(int argc, char **argv)
{
	union bpf_attr a;
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	__u32 k = 7;
	__u64 v = 0x1122334455667788ull;

	/* hash: bpftool map create + update + lookup + dump + delete */
	fill(0, 0, &k, 4);
	fill(1, 0, &v, 8);
	a = create(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	memcpy(a.map_name, "counts", 7);
	CALL(BPF_MAP_CREATE, a, map_extra);
	a = elem(0, P(0, 0), P(1, 0), BPF_ANY);
	CALL(BPF_MAP_UPDATE_ELEM, a, flags);
	a = elem(0, P(0, 0), P(1, 0), BPF_NOEXIST);
	CALL(BPF_MAP_UPDATE_ELEM, a, flags);
	a = elem(0, P(0, 0), P(2, 0), 0);
	CALL(BPF_MAP_LOOKUP_ELEM, a, flags);
	a = elem(0, 0, P(2, 64), 0);
	CALL(BPF_MAP_GET_NEXT_KEY, a, next_key);
	a = elem(0, P(0, 0), P(2, 64), 0);
	CALL(BPF_MAP_GET_NEXT_KEY, a, next_key);
	a = elem(0, P(0, 0), P(2, 0), 0);
	CALL(BPF_MAP_LOOKUP_AND_DELETE_ELEM, a, flags);
	a = elem(0, P(0, 0), 0, 0);
	CALL(BPF_MAP_DELETE_ELEM, a, key);
	save(dir, "hash_crud");

	/* array: update, lookup, iterate, info, freeze */
	fill(0, 0, &k, 4);
	fill(1, 0, &v, 8);
	a = create(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0);
	CALL(BPF_MAP_CREATE, a, map_extra);
	a = elem(0, P(0, 0), P(1, 0), BPF_EXIST);
	CALL(BPF_MAP_UPDATE_ELEM, a, flags);
	a = elem(0, P(0, 0), P(2, 0), 0);
	CALL(BPF_MAP_LOOKUP_ELEM, a, flags);
	a = elem(0, P(0, 0), P(2, 64), 0);
	CALL(BPF_MAP_GET_NEXT_KEY, a, next_key);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = FD(0);
	a.info.info_len = 104;
	a.info.info = P(2, 128);
	CALL(BPF_OBJ_GET_INFO_BY_FD, a, info);
	memset(&a, 0, sizeof(a));
	a.map_fd = FD(0);
	CALL(BPF_MAP_FREEZE, a, map_fd);
	a = elem(0, P(0, 0), P(1, 0), 0);
	CALL(BPF_MAP_UPDATE_ELEM, a, flags);
	save(dir, "array_info_freeze");

	/* mmapable array, RDONLY and WRONLY maps */
	a = create(BPF_MAP_TYPE_ARRAY, 4, 4, 1024, BPF_F_MMAPABLE);
	CALL(BPF_MAP_CREATE, a, map_extra);
	a = create(BPF_MAP_TYPE_HASH, 8, 16, 4, BPF_F_RDONLY | BPF_F_NO_PREALLOC);
	CALL(BPF_MAP_CREATE, a, map_extra);
	a = create(BPF_MAP_TYPE_ARRAY, 4, 16, 4, BPF_F_WRONLY);
	CALL(BPF_MAP_CREATE, a, map_extra);
	a = elem(1, P(0, 0), P(1, 0), 0);
	CALL(BPF_MAP_UPDATE_ELEM, a, flags);
	a = elem(2, P(0, 0), P(2, 0), 0);
	CALL(BPF_MAP_LOOKUP_ELEM, a, flags);
	save(dir, "flags");

	/* libbpf pinning: pin, get, get read-only, write through it */
	const char path[] = "/sys/fs/bpf/fz";
	fill(0, 0, path, sizeof(path));
	fill(0, 8, &k, 4);
	fill(1, 0, &v, 8);
	a = create(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	CALL(BPF_MAP_CREATE, a, map_extra);
	memset(&a, 0, sizeof(a));
	a.bpf_fd = FD(0);
	a.pathname = P(0, 0);
	CALL(BPF_OBJ_PIN, a, file_flags);
	CALL(BPF_OBJ_PIN, a, file_flags);
	memset(&a, 0, sizeof(a));
	a.pathname = P(0, 0);
	CALL(BPF_OBJ_GET, a, file_flags);
	a.file_flags = BPF_F_RDONLY;
	CALL(BPF_OBJ_GET, a, file_flags);
	a = elem(2, P(0, 128), P(1, 0), 0);
	CALL(BPF_MAP_UPDATE_ELEM, a, flags);
	save(dir, "pin_get");

	/* paths: .., //, long names */
	const char p2[] = "/sys/fs/bpf/../bpf//./x";
	fill(0, 0, p2, sizeof(p2));
	a = create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	CALL(BPF_MAP_CREATE, a, map_extra);
	memset(&a, 0, sizeof(a));
	a.bpf_fd = FD(0);
	a.pathname = P(0, 0);
	CALL(BPF_OBJ_PIN, a, file_flags);
	memset(&a, 0, sizeof(a));
	a.pathname = P(0, 0);
	CALL(BPF_OBJ_GET, a, file_flags);
	a.pathname = P(1, 4000);     /* a string running into the unmapped page */
	CALL(BPF_OBJ_GET, a, file_flags);
	save(dir, "paths");

	/* ids: bpftool map list / show id */
	a = create(BPF_MAP_TYPE_HASH, 4, 4, 1, 0);
	CALL(BPF_MAP_CREATE, a, map_extra);
	memset(&a, 0, sizeof(a));
	CALL(BPF_MAP_GET_NEXT_ID, a, next_id);
	a.map_id = 1;
	CALL(BPF_MAP_GET_FD_BY_ID, a, open_flags);
	memset(&a, 0, sizeof(a));
	CALL(BPF_PROG_GET_NEXT_ID, a, next_id);
	save(dir, "ids");

	/* a socket filter: r0 = 0; exit */
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const char lic[] = "GPL";
	fill(0, 0, insns, sizeof(insns));
	fill(0, 16, lic, sizeof(lic));
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = 2;
	a.insns = P(0, 0);
	a.license = P(0, 256);
	a.log_level = 1;
	a.log_size = 1024;
	a.log_buf = P(2, 0);
	CALL(BPF_PROG_LOAD, a, attach_prog_fd);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = FD(0);
	a.info.info_len = sizeof(struct bpf_prog_info);
	a.info.info = P(1, 0);
	CALL(BPF_OBJ_GET_INFO_BY_FD, a, info);
	save(dir, "prog_load");

	/* an XDP program that reads its packet, test-run (emu/vm): data in and out, repeat, a ctx */
	struct bpf_insn xdp[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 1, .off = 0 },
		{ .code = BPF_LDX | BPF_MEM | BPF_B, .dst_reg = 3, .src_reg = 2, .off = 12 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned char pkt[64];
	memset(pkt, 0, sizeof(pkt));
	pkt[12] = 8;
	fill(0, 0, xdp, sizeof(xdp));
	fill(0, 16, lic, sizeof(lic));
	fill(1, 0, pkt, sizeof(pkt));
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insn_cnt = 4;
	a.insns = P(0, 0);
	a.license = P(0, 256);
	CALL(BPF_PROG_LOAD, a, attach_prog_fd);
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = FD(0);
	a.test.data_in = P(1, 0);
	a.test.data_size_in = sizeof(pkt);
	a.test.data_out = P(2, 0);
	a.test.data_size_out = 128;
	a.test.repeat = 3;
	CALL(BPF_PROG_TEST_RUN, a, test.batch_size);
	struct xdp_md md = { .data = 4, .data_end = sizeof(pkt) };
	fill(2, 32, &md, sizeof(md));
	a.test.ctx_in = P(2, 512);
	a.test.ctx_size_in = sizeof(md);
	a.test.ctx_out = P(2, 1024);
	a.test.ctx_size_out = sizeof(md);
	CALL(BPF_PROG_TEST_RUN, a, test.batch_size);
	save(dir, "prog_test_run");

	/* sizes: a short attr, a long zero tail, a non-zero tail, past a page */
	a = create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	call(BPF_MAP_CREATE, &a, 20, 20);
	call(BPF_MAP_CREATE, &a, 20, 4096);
	unsigned char big[200];
	memset(big, 0, sizeof(big));
	memcpy(big, &a, END(map_extra));
	big[190] = 1;
	out[olen++] = BPF_MAP_CREATE;
	out[olen++] = 200;
	out[olen++] = 0;
	out[olen++] = sizeof(big);
	memcpy(out + olen, big, sizeof(big));
	olen += sizeof(big);
	call(BPF_MAP_CREATE, &a, 20, 4097);
	call(BPF_MAP_LOOKUP_BATCH, &a, 20, 56);
	call(99, &a, 20, 20);
	save(dir, "sizes");
	return 0;
}
