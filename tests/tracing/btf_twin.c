/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/btf_twin.c: the kernel's BTF and the attach_btf_id checks.
 *
 *   btf_twin shared   what this host's kernel answers too: the kernel BTF
 *                     objects (BTF_GET_NEXT_ID, GET_FD_BY_ID, info: id, name,
 *                     kernel_btf, size, the data = /sys/kernel/btf/vmlinux),
 *                     and program loads naming kernel BTF types: tp_btf and
 *                     iter programs, valid and invalid attach_btf_id, the
 *                     attach_btf_obj_fd / attach_prog_fd resolution, with the
 *                     verifier's messages and prog info's attach fields
 *   btf_twin tracing  fentry/fexit/fmod_ret, lsm and ext loads: Linux 6.18
 *                     under lockdown=integrity (as the mirrored host runs)
 *                     refuses them with EPERM before any check, so their
 *                     expected answers live in the test (the kernel's
 *                     messages from its source)
 *
 * Type ids are looked up by name in /sys/kernel/btf/vmlinux and printed by
 * name. Exit 77 without /sys/kernel/btf/vmlinux.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef BPF_TRACE_ITER
#define BPF_TRACE_ITER 28
#endif

static char *vm;
static size_t vm_size;
static const char *types, *strs;
static __u32 nr_types, *offs;

static long sys_bpf(int cmd, union bpf_attr *a, unsigned int size)
{
	return syscall(__NR_bpf, cmd, a, size);
}

static const char *ename(int e)
{
	return e == 524 ? "ENOTSUPP" : strerrorname_np(e);
}

static const char *en(long r)
{
	return r >= 0 ? "ok" : ename(errno);
}

static size_t extra(const struct btf_type *t)
{
	__u32 k = BTF_INFO_KIND(t->info), v = BTF_INFO_VLEN(t->info);
	switch (k) {
	case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: return 4;
	case BTF_KIND_ARRAY: return 12;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_DATASEC: case BTF_KIND_ENUM64: return v * 12u;
	case BTF_KIND_ENUM: case BTF_KIND_FUNC_PROTO: return v * 8u;
	default: return 0;
	}
}

static void load_vmlinux(void)
{
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	if (fd < 0) {
		printf("SKIP: /sys/kernel/btf/vmlinux: %s\n", strerror(errno));
		exit(77);
	}
	size_t cap = 16 << 20;
	vm = malloc(cap);
	ssize_t n;
	while ((n = read(fd, vm + vm_size, cap - vm_size)) > 0)
		vm_size += (size_t)n;
	close(fd);
	const struct btf_header *h = (const void *)vm;
	types = vm + h->hdr_len + h->type_off;
	strs = vm + h->hdr_len + h->str_off;
	offs = malloc(sizeof(*offs) * 1000000);
	for (size_t pos = 0; pos < h->type_len;) {
		const struct btf_type *t = (const void *)(types + pos);
		offs[nr_types++] = (__u32)pos;
		pos += sizeof(*t) + extra(t);
	}
}

static __u32 find(const char *name, __u32 kind)
{
	for (__u32 i = 0; i < nr_types; i++) {
		const struct btf_type *t = (const void *)(types + offs[i]);
		if (BTF_INFO_KIND(t->info) == kind && !strcmp(strs + t->name_off, name))
			return i + 1;
	}
	printf("no %s of kind %u in vmlinux BTF\n", name, kind);
	return 0;
}

/* ---- the kernel BTF objects ---- */

static void btf_objects(void)
{
	printf("== kernel BTF objects\n");
	union bpf_attr a;
	__u32 id = 0;
	int listed = 0, modules = 0;
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.start_id = id;
		if (sys_bpf(BPF_BTF_GET_NEXT_ID, &a, sizeof(a)))
			break;
		id = a.next_id;
		memset(&a, 0, sizeof(a));
		a.btf_id = id;
		int fd = (int)sys_bpf(BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
		if (fd < 0) {
			printf("  id %u: GET_FD_BY_ID: %s\n", id, ename(errno));
			continue;
		}
		char name[64] = "";
		struct { __u64 btf; __u32 btf_size, id; __u64 name; __u32 name_len, kernel_btf; } info = {
			.name = (uintptr_t)name, .name_len = sizeof(name) };
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (__u32)fd;
		a.info.info = (uintptr_t)&info;
		a.info.info_len = sizeof(info);
		long r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
		if (info.kernel_btf && strcmp(name, "vmlinux")) {
			/* a module's: its name must be a file of /sys/kernel/btf, of the same size */
			char path[128];
			struct stat sb;
			snprintf(path, sizeof(path), "/sys/kernel/btf/%s", name);
			if (stat(path, &sb) || (__u64)sb.st_size != info.btf_size)
				printf("  id %u: module BTF '%s' is no file of /sys/kernel/btf of its size\n", id, name);
			else
				modules++;
		} else if (info.kernel_btf) {
			listed++;
			printf("  id %u: info %s, name '%s' name_len %u kernel_btf %u size %s\n", id, en(r), name,
			       info.name_len, info.kernel_btf,
			       info.btf_size == vm_size ? "that of /sys/kernel/btf/vmlinux" : "DIFFERS");
			{
				char *buf = malloc(vm_size);
				info.btf = (uintptr_t)buf;
				info.btf_size = (__u32)vm_size;
				info.name = 0;
				info.name_len = 0;
				r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
				printf("  id %u: data %s\n", id,
				       r ? strerrorname_np(errno) : memcmp(buf, vm, vm_size) ? "DIFFERS" : "identical");
				/* a short name buffer: ENOSPC, the name cut */
				char shortn[4];
				info.btf = 0;
				info.btf_size = 0;
				info.name = (uintptr_t)shortn;
				info.name_len = sizeof(shortn);
				r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
				printf("  id %u: 4-byte name buffer: %s '%s' name_len %u\n", id, en(r), shortn, info.name_len);
				free(buf);
			}
		}
		close(fd);
	}
	/* modules differ between hosts: counted against /sys/kernel/btf */
	int files = 0;
	DIR *d = opendir("/sys/kernel/btf");
	struct dirent *de;
	while (d && (de = readdir(d)))
		files += de->d_name[0] != '.' && strcmp(de->d_name, "vmlinux");
	if (d)
		closedir(d);
	printf("  vmlinux listed: %s; module BTF objects: %s\n", listed ? "yes" : "no",
	       modules == files ? "one per module file of /sys/kernel/btf" : "NOT one per module file");
}

/* ---- program loads ---- */

static char logbuf[65536];

static int load(const char *what, __u32 type, __u32 eat, __u32 btf_id, __u32 attach_fd, __u32 flags,
		const char *license)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uintptr_t)license;
	a.expected_attach_type = eat;
	a.attach_btf_id = btf_id;
	a.attach_prog_fd = attach_fd;
	a.prog_flags = flags;
	a.log_buf = (uintptr_t)logbuf;
	a.log_size = sizeof(logbuf);
	a.log_level = 1;
	logbuf[0] = '\0';
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	int e = errno;
	/* the log's first line (the statistics line is the walk's business), the
	 * type id written as ID (ids differ between kernel builds) */
	char *nl = strchr(logbuf, '\n');
	if (nl)
		*nl = '\0';
	if (!strncmp(logbuf, "processed ", 10))
		logbuf[0] = '\0';
	char idstr[16], *p;
	snprintf(idstr, sizeof(idstr), "%u", btf_id);
	if (btf_id && (p = strstr(logbuf, idstr))) {
		size_t n = strlen(idstr);
		memmove(p + 2, p + n, strlen(p + n) + 1);
		memcpy(p, "ID", 2);
	}
	printf("  %-44s %s%s%s%s\n", what, fd >= 0 ? "ok" : ename(e), logbuf[0] ? " \"" : "", logbuf,
	       logbuf[0] ? "\"" : "");
	if (fd >= 0) {
		struct bpf_prog_info info;
		memset(&info, 0, sizeof(info));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (__u32)fd;
		a.info.info = (uintptr_t)&info;
		a.info.info_len = sizeof(info);
		if (!sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)))
			printf("  %-44s info: attach_btf_obj_id %u attach_btf_id %s\n", "", info.attach_btf_obj_id,
			       info.attach_btf_id == btf_id ? "as loaded" : "DIFFERS");
	}
	return fd;
}

static void shared(void)
{
	__u32 sw = find("btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	__u32 it = find("bpf_iter_task", BTF_KIND_FUNC);
	__u32 fn = find("do_exit", BTF_KIND_FUNC);
	__u32 u32t = find("u32", BTF_KIND_TYPEDEF);
	__u32 kf = find("bpf_iter_num_new", BTF_KIND_FUNC);
	__u32 ts = find("task_struct", BTF_KIND_STRUCT);
	int fd;

	printf("== tp_btf (tracing, BPF_TRACE_RAW_TP)\n");
	fd = load("btf_trace_sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, sw, 0, 0, "GPL");
	if (fd >= 0)
		close(fd);
	load("a function (do_exit)", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, fn, 0, 0, "GPL");
	load("a typedef not btf_trace_ (u32)", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, u32t, 0, 0, "GPL");
	load("no btf id", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0, 0, 0, "GPL");
	load("an id past the last type", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, nr_types + 1, 0, 0, "GPL");
	load("an id past BTF_MAX_TYPE", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0x100000, 0, 0, "GPL");
	load("sleepable", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, sw, 0, BPF_F_SLEEPABLE, "GPL");
	load("a kprobe program with an attach_btf_id", BPF_PROG_TYPE_KPROBE, 0, sw, 0, 0, "GPL");

	printf("== iter (tracing, BPF_TRACE_ITER)\n");
	fd = load("bpf_iter_task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, it, 0, 0, "GPL");
	if (fd >= 0)
		close(fd);
	load("a struct (task_struct)", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, ts, 0, 0, "GPL");
	load("a kfunc, no target (bpf_iter_num_new)", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, kf, 0, 0, "GPL");
	load("a function, no target (do_exit)", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, fn, 0, 0, "GPL");

	printf("== attach_btf_obj_fd / attach_prog_fd\n");
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf_id = 1;
	int vfd = (int)sys_bpf(BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
	if (vfd >= 0) {
		fd = load("vmlinux's BTF fd, tp_btf", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, sw, (__u32)vfd, 0, "GPL");
		if (fd >= 0)
			close(fd);
		load("vmlinux's BTF fd, no btf id", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0, (__u32)vfd, 0, "GPL");
		close(vfd);
	}
	/* a BTF object of ours: one int type */
	struct {
		struct btf_header h;
		__u32 t[4];
		char s[8];
	} raw = { .h = { .magic = BTF_MAGIC, .version = 1, .hdr_len = sizeof(struct btf_header), .type_len = 16,
			 .str_off = 16, .str_len = 5 },
		  .t = { 1, (__u32)BTF_KIND_INT << 24, 4, 32 }, .s = "\0int" };
	memset(&a, 0, sizeof(a));
	a.btf = (uintptr_t)&raw;
	a.btf_size = sizeof(raw) - 3;
	int ufd = (int)sys_bpf(BPF_BTF_LOAD, &a, sizeof(a));
	if (ufd >= 0) {
		load("a program's BTF fd (not the kernel's)", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, sw, (__u32)ufd, 0,
		     "GPL");
		close(ufd);
	} else {
		printf("  BTF_LOAD: %s\n", strerrorname_np(errno));
	}
	int pfd[2];
	if (!pipe(pfd)) {
		load("a pipe as attach_btf_obj_fd", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, sw, (__u32)pfd[0], 0, "GPL");
		close(pfd[0]);
		close(pfd[1]);
	}
}

static void tracing(void)
{
	__u32 fopen_ = find("security_file_open", BTF_KIND_FUNC);
	__u32 exit_ = find("do_exit", BTF_KIND_FUNC);
	__u32 md = find("migrate_disable", BTF_KIND_FUNC);
	__u32 lsm = find("bpf_lsm_file_open", BTF_KIND_FUNC);
	__u32 lsmv = find("bpf_lsm_verify_prog", BTF_KIND_FUNC);
	__u32 sw = find("btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	__u32 ts = find("task_struct", BTF_KIND_STRUCT);
	__u32 tcp = find("tcp_congestion_ops", BTF_KIND_STRUCT);
	printf("== fentry / fexit / fmod_ret\n");
	load("fentry security_file_open", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, fopen_, 0, 0, "GPL");
	load("fexit do_exit (__noreturn)", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, exit_, 0, 0, "GPL");
	load("fentry do_exit", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, exit_, 0, 0, "GPL");
	load("fentry migrate_disable (deny list)", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, md, 0, 0, "GPL");
	load("fentry a typedef", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, sw, 0, 0, "GPL");
	load("fentry no btf id", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, 0, 0, 0, "GPL");
	load("fmod_ret security_file_open", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, fopen_, 0, 0, "GPL");
	load("fmod_ret do_exit", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, exit_, 0, 0, "GPL");
	printf("== lsm\n");
	load("lsm bpf_lsm_file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, lsm, 0, 0, "GPL");
	load("lsm bpf_lsm_file_open, not GPL", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, lsm, 0, 0, "MIT");
	load("lsm bpf_lsm_verify_prog (no hook)", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, lsmv, 0, 0, "GPL");
	load("lsm security_file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, fopen_, 0, 0, "GPL");
	printf("== ext, and attach_prog_fd\n");
	load("ext of a kernel function", BPF_PROG_TYPE_EXT, 0, fopen_, 0, 0, "GPL");
	int sf = load("a socket filter without BTF", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 0, 0, "GPL");
	if (sf >= 0) {
		load("fentry on a program without BTF", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, 1, (__u32)sf, 0, "GPL");
		load("ext of a program without BTF", BPF_PROG_TYPE_EXT, 0, 1, (__u32)sf, 0, "GPL");
		load("lsm with attach_prog_fd", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 1, (__u32)sf, 0, "GPL");
		close(sf);
	}
	printf("== struct_ops\n");
	load("struct_ops tcp_congestion_ops", BPF_PROG_TYPE_STRUCT_OPS, 0, tcp, 0, 0, "GPL");
	load("struct_ops tcp_congestion_ops, member 200", BPF_PROG_TYPE_STRUCT_OPS, 200, tcp, 0, 0, "GPL");
	load("struct_ops task_struct", BPF_PROG_TYPE_STRUCT_OPS, 0, ts, 0, 0, "GPL");
	load("struct_ops tcp_congestion_ops, not GPL", BPF_PROG_TYPE_STRUCT_OPS, 0, tcp, 0, 0, "MIT");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || (strcmp(argv[1], "shared") && strcmp(argv[1], "tracing"))) {
		fprintf(stderr, "usage: btf_twin shared|tracing\n");
		return 2;
	}
	load_vmlinux();
	if (!strcmp(argv[1], "shared")) {
		btf_objects();
		shared();
	} else {
		tracing();
	}
	return 0;
}
