/* SPDX-License-Identifier: MIT */
/*
 * tools/gen/helpers.c: writes emu/helpers.h, the table of BPF helper ids each
 * program type may call, by asking the running kernel. Run it once, as root,
 * on the kernel the engine mirrors, and commit its output:
 *
 *     cc -O2 -Wall -Wextra -o /tmp/gen-helpers tools/gen/helpers.c
 *     sudo /tmp/gen-helpers > emu/helpers.h
 *
 * For every program type that loads "r0 = 0; exit" with expected_attach_type
 * 0 and no flags (and for the pairs in extra[] below, with that
 * expected_attach_type, as libbpf loads those sections), and for every helper id from 0 up to the first id the
 * verifier calls "invalid func unknown#N" (that id is __BPF_FUNC_MAX_ID),
 * it loads "call id; r0 = 0; exit" (r0 = 1 for the attach types that must
 * return 1: recvmsg, getpeername, getsockname) with log_level 2, once with license "GPL"
 * and once with "MIT", and classifies the verifier's answer:
 *   '-' "program of this type cannot use helper"   (not allowed: EINVAL)
 *   'g' allowed, but the MIT load says "cannot call GPL-restricted function"
 *   'p' "helper call is not allowed in probe"
 *   's' "helper call might sleep in a non-sleepable prog"
 *   'y' anything else (loaded, or an argument check failed: the helper exists)
 * The helper names come from the verifier's own "(85) call NAME#ID" lines.
 *
 * It also lists the program types up to MAX_TYPE this kernel does not have
 * (emu_absent_prog_types[]): those whose load of "r0 = 0; exit" fails with
 * EINVAL and an empty level-1 log although the same load with insns = NULL
 * gets as far as copying the instructions (EFAULT). bpf_prog_load() copies
 * the instructions before it looks the type up, and answers a type that
 * merely needs an expected_attach_type (cgroup_sock_addr, netfilter ...)
 * before the copy, so those are not listed.
 * Not a build step: the build never runs this program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../../emu/btf_layout.h"

#define MAX_TYPE 40
#define MAX_ID 1024

/* (program type, expected_attach_type) pairs libbpf loads with a non-zero
 * expected_attach_type: xdp (BPF_XDP, devmap, cpumap), tcx/ingress and
 * tcx/egress, netkit, kprobe.multi and kprobe.session, uprobe.multi and
 * uprobe.session, every attach type of cgroup_skb, cgroup_sock,
 * cgroup_sock_addr, cgroup_sockopt, sk_skb, sk_msg and sk_reuseport (their
 * helpers differ by attach type), sk_lookup, netfilter; syscall programs
 * (which must be sleepable); tracing programs by attach type, on a target of
 * that kind (tp_btf, iterators, fentry/fexit/fmod_ret, lsm: a host without
 * trampolines refuses the last ones, and their rows are left out); the
 * struct_ops bpf_dummy_ops by member (expected_attach_type is the member's
 * index). */
struct extra_row {
	unsigned int type, attach, flags;
	const char *btf;        /* attach_btf_id: this name in the kernel's BTF */
	unsigned int btf_kind;
};
#define R(t, a) { t, a, 0, NULL, 0 }
static const struct extra_row extra[] = {
	R(6, 37), R(6, 33), R(6, 35), R(3, 46), R(3, 47), R(3, 54), R(3, 55), R(2, 42), R(2, 48), R(2, 56),
	R(2, 57), R(8, 1), R(9, 2), R(9, 12), R(9, 13), R(9, 34), R(18, 8), R(18, 9), R(18, 10), R(18, 11), R(18, 14),
	R(18, 15), R(18, 19), R(18, 20), R(18, 29), R(18, 30), R(18, 31), R(18, 32), R(18, 49), R(18, 50),
	R(18, 51), R(18, 52), R(18, 53), R(25, 21), R(25, 22), R(14, 4), R(14, 5), R(14, 38), R(16, 7),
	R(21, 39), R(21, 40), R(30, 36), R(32, 45), { 31, 0, 1u << 4 /* BPF_F_SLEEPABLE */, NULL, 0 },
	{ 26, 23, 0, "btf_trace_sys_enter", 8 /* BTF_KIND_TYPEDEF */ },
	{ 26, 28, 0, "bpf_iter_task", 12 /* BTF_KIND_FUNC */ },
	{ 26, 24, 0, "bpf_fentry_test1", 12 }, { 26, 25, 0, "bpf_fentry_test1", 12 },
	{ 26, 26, 0, "bpf_modify_return_test", 12 }, { 29, 27, 0, "bpf_lsm_file_open", 12 },
	{ 29, 43, 0, "bpf_lsm_socket_create", 12 },
	{ 27, 0, 0, "bpf_dummy_ops", 4 /* BTF_KIND_STRUCT */ }, { 27, 1, 0, "bpf_dummy_ops", 4 },
};
#undef R
#define NR_ROWS (MAX_TYPE + sizeof(extra) / sizeof(extra[0]))

static char logbuf[1 << 20];

static unsigned int attach_type;   /* expected_attach_type of the loads */
static unsigned int load_flags, attach_btf_id;
static int exit_value;             /* r0 at exit: 1 for the attach types that must return 1 */

/* the kernel's BTF: the id of a name of a kind, 0 if none */
static unsigned int kbtf_id(const char *name, unsigned int kind)
{
	static char *data;
	static size_t size;
	if (!data) {
		FILE *f = fopen("/sys/kernel/btf/vmlinux", "rb");
		if (!f)
			return 0;
		size_t cap = 1 << 20, n;
		data = malloc(cap);
		while (data && (n = fread(data + size, 1, cap - size, f)) > 0)
			if ((size += n) == cap)
				data = realloc(data, cap *= 2);
		fclose(f);
		if (!data)
			return 0;
	}
	const struct btf_header *h = (const void *)data;
	const char *types = data + h->hdr_len + h->type_off, *strs = data + h->hdr_len + h->str_off;
	unsigned int off = 0, id = 1;
	while (off < h->type_len) {
		const struct btf_type *t = (const void *)(types + off);
		unsigned int k = BTF_INFO_KIND(t->info);
		if (k == kind && !strcmp(strs + t->name_off, name))
			return id;
		off += sizeof(*t);
		if (emu_btf_type_extra(t) > 0)
			off += (unsigned int)emu_btf_type_extra(t);
		id++;
	}
	return 0;
}

static int load(unsigned int type, int id, const char *license, int level)
{
	struct bpf_insn call[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = id },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = exit_value },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach_type;
	a.prog_flags = load_flags;
	a.attach_btf_id = attach_btf_id;
	a.insns = (unsigned long)(id < 0 ? call + 1 : call);
	a.insn_cnt = id < 0 ? 2 : 3;
	a.license = (unsigned long)license;
	if (level) {
		a.log_buf = (unsigned long)logbuf;
		a.log_size = sizeof(logbuf);
		a.log_level = level;
	}
	logbuf[0] = '\0';
	int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* A type bpf_prog_load() does not know: see the header comment. */
static bool type_absent(unsigned int type)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	if (syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a)) >= 0 || errno != EFAULT)
		return false;
	attach_type = 0;
	load_flags = attach_btf_id = 0;
	return load(type, -1, "GPL", 1) == -EINVAL && logbuf[0] == '\0';
}

static char *names[MAX_ID];

static void take_name(int id)
{
	char key[32];
	snprintf(key, sizeof(key), "#%d\n", id);
	const char *c = strstr(logbuf, "(85) call ");
	if (names[id] || !c)
		return;
	c += strlen("(85) call ");
	const char *e = strstr(c, key);
	if (!e || strchr(c, '\n') < e)
		return;
	names[id] = strndup(c, (size_t)(e - c));
}

int main(void)
{
	static char row[NR_ROWS][MAX_ID + 1];
	unsigned int types[NR_ROWS], attach[NR_ROWS];
	struct utsname u;
	int max_id = -1;
	bool probed[NR_ROWS] = { false };
	bool absent[MAX_TYPE] = { false };

	if (geteuid() != 0) {
		fprintf(stderr, "gen-helpers: run as root, on the kernel to mirror\n");
		return 1;
	}
	uname(&u);
	for (int id = 0; id < MAX_ID && max_id < 0; id++) {
		load(BPF_PROG_TYPE_SOCKET_FILTER, id, "GPL", 2);
		if (strstr(logbuf, "invalid func unknown#"))
			max_id = id;
	}
	if (max_id < 0) {
		fprintf(stderr, "gen-helpers: no id up to %d is invalid\n", MAX_ID);
		return 1;
	}
	for (unsigned int t = 1; t < MAX_TYPE; t++)
		absent[t] = type_absent(t);
	for (unsigned int r = 1; r < NR_ROWS; r++) {
		const struct extra_row *x = r < MAX_TYPE ? NULL : &extra[r - MAX_TYPE];
		unsigned int t = x ? x->type : r;
		attach_type = x ? x->attach : 0;
		load_flags = x ? x->flags : 0;
		attach_btf_id = x && x->btf ? kbtf_id(x->btf, x->btf_kind) : 0;
		if (x && x->btf && !attach_btf_id)
			continue;
		exit_value = 0;
		if (load(t, -1, "GPL", 0))
			exit_value = 1;
		types[r] = t;
		attach[r] = attach_type;
		if (load(t, -1, "GPL", 0))
			continue;
		probed[r] = true;
		for (int id = 0; id < max_id; id++) {
			char c = 'y';
			load(t, id, "GPL", 2);
			take_name(id);
			if (strstr(logbuf, "program of this type cannot use helper"))
				c = '-';
			else if (strstr(logbuf, "helper call is not allowed in probe"))
				c = 'p';
			else if (strstr(logbuf, "helper call might sleep in a non-sleepable prog"))
				c = 's';
			else if (strstr(logbuf, "invalid func"))
				c = '?';
			else if (load(t, id, "MIT", 2) && strstr(logbuf, "cannot call GPL-restricted function"))
				c = 'g';
			row[r][id] = c;
		}
	}

	time_t now = time(NULL);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));
	printf("/* SPDX-License-Identifier: MIT */\n");
	printf("/*\n * emu/helpers.h: GENERATED by tools/gen/helpers.c (see there how to run it);\n");
	printf(" * do not edit. Produced %s as root on Linux %s %s (%s).\n", date, u.release, u.version, u.machine);
	printf(" *\n * EMU_BPF_FUNC_MAX_ID is that kernel's __BPF_FUNC_MAX_ID (the first id its\n");
	printf(" * verifier calls \"invalid func unknown#N\"). emu_helper_names[] are the names its\n");
	printf(" * verifier prints. emu_helper_rows[] has one string per program type that loads\n");
	printf(" * with expected_attach_type 0 and no flags, and per (type, expected_attach_type)\n");
	printf(" * pair libbpf loads with one (tracing: on a target of that kind; struct_ops:\n");
	printf(" * bpf_dummy_ops's member of that index), one character per helper id:\n");
	printf(" *   '-' \"program of this type cannot use helper\"   'y' allowed\n");
	printf(" *   'g' allowed, GPL-compatible license only       'p' \"not allowed in probe\"\n");
	printf(" *   's' \"might sleep in a non-sleepable prog\"\n");
	printf(" * Answers depend on the probing process's capabilities (root: all of them).\n *\n");
	printf(" * emu_absent_prog_types[] are the program types below %d that kernel does not\n", MAX_TYPE);
	printf(" * have: their load fails with EINVAL and an empty log after the instructions\n");
	printf(" * are copied (a type that only needs an expected_attach_type fails before).\n */\n");
	printf("#ifndef BPFEMU_HELPERS_H\n#define BPFEMU_HELPERS_H\n\n");
	printf("#define EMU_BPF_FUNC_MAX_ID %d\n\n", max_id);
	printf("static const char *const emu_helper_names[EMU_BPF_FUNC_MAX_ID] = {\n");
	for (int id = 0; id < max_id; id++)
		printf("\t[%d] = \"%s\",\n", id, names[id] ? names[id] : "unknown");
	printf("};\n\n");
	printf("struct emu_helper_row {\n\t__u32 prog_type;\n\t__u32 expected_attach_type;\n\tconst char *allowed;   /* EMU_BPF_FUNC_MAX_ID characters */\n};\n\n");
	printf("static const struct emu_helper_row emu_helper_rows[] = {\n");
	for (unsigned int r = 1; r < NR_ROWS; r++) {
		if (!probed[r])
			continue;
		printf("\t{ %u, %u,\n", types[r], attach[r]);
		for (int id = 0; id < max_id; id += 64)
			printf("\t  \"%.*s\"%s\n", max_id - id < 64 ? max_id - id : 64, row[r] + id,
			       id + 64 >= max_id ? " }," : "");
	}
	printf("};\n\n");
	printf("static const __u32 emu_absent_prog_types[] = {");
	for (unsigned int t = 1, n = 0; t < MAX_TYPE; t++)
		if (absent[t])
			printf("%s%u", n++ ? ", " : " ", t);
	printf(" };\n\n#endif\n");
	return 0;
}
