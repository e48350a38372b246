/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/mapvals_maps.c: map values with special fields (the value's
 * BTF record: bpf_spin_lock, bpf_timer, bpf_wq, kptrs; nested, in arrays,
 * twice, misaligned, next to a bitfield): BPF_BTF_LOAD's answer, then map
 * creation for each map type (and with BPF_F_RDONLY_PROG); what user space
 * reads back of a value written whole with 0xab (with and without
 * BPF_F_LOCK); then hand-assembled programs on a value holding a referenced
 * and an untrusted kptr to task_struct (clang 14 emits no type tags): kptr
 * loads, stores, bpf_kptr_xchg, each loaded at log level 1 (verdict, errno,
 * error line, verified_insns) and, when loaded, test-run once (retval).
 * mapvals.sh runs it under bpfemu as nobody and on the kernel as root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>
#include <linux/bpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

enum shape {
	S_INT, S_LOCK, S_TIMER, S_WQ, S_LOCK2, S_TIMER2, S_LOCK_NESTED, S_TIMER_ARR2, S_LOCK_MISALIGNED,
	S_LOCK_TIMER, S_KPTR_TASK, S_KPTR_UNTRUSTED, S_KPTR_LOCAL, S_KPTR_NODTOR, S_KPTR_BADTAG, S_LOCK_BITFIELD,
	S_KPTR_PERCPU_LOCAL, S_LOCK_ARR1, S_OVERLAP_UNION,
};
static const char *shape_name[] = {
	"int", "lock", "timer", "wq", "two-locks", "two-timers", "nested-lock", "timer[2]", "misaligned-lock",
	"lock+timer", "kptr-task", "kptr_untrusted-task", "kptr-local", "kptr-sk_buff", "kptr-badtag",
	"lock+bitfield", "percpu_kptr-local", "lock[1]", "union-lock-int",
};

/* a value BTF of the given shape; *vsz its size; the value type id */
static int build(struct btf *b, enum shape s, __u32 *vsz)
{
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int lock = btf__add_struct(b, "bpf_spin_lock", 4);
	btf__add_field(b, "val", i32, 0, 0);
	int u64 = btf__add_int(b, "long long unsigned int", 8, 0);
	int timer = btf__add_struct(b, "bpf_timer", 16);
	btf__add_field(b, "a", u64, 0, 0);
	btf__add_field(b, "b", u64, 64, 0);
	int wq = btf__add_struct(b, "bpf_wq", 16);
	btf__add_field(b, "a", u64, 0, 0);
	btf__add_field(b, "b", u64, 64, 0);
	int v;
	switch (s) {
	case S_INT:
		*vsz = 4;
		return i32;
	case S_LOCK:
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "x", i32, 0, 0);
		btf__add_field(b, "l", lock, 32, 0);
		*vsz = 8;
		return v;
	case S_TIMER: case S_WQ:
		v = btf__add_struct(b, "v", 24);
		btf__add_field(b, "x", u64, 0, 0);
		btf__add_field(b, "t", s == S_TIMER ? timer : wq, 64, 0);
		*vsz = 24;
		return v;
	case S_LOCK2:
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "l1", lock, 0, 0);
		btf__add_field(b, "l2", lock, 32, 0);
		*vsz = 8;
		return v;
	case S_TIMER2:
		v = btf__add_struct(b, "v", 32);
		btf__add_field(b, "t1", timer, 0, 0);
		btf__add_field(b, "t2", timer, 128, 0);
		*vsz = 32;
		return v;
	case S_LOCK_NESTED: {
		int in = btf__add_struct(b, "in", 8);
		btf__add_field(b, "x", i32, 0, 0);
		btf__add_field(b, "l", lock, 32, 0);
		v = btf__add_struct(b, "v", 16);
		btf__add_field(b, "y", u64, 0, 0);
		btf__add_field(b, "in", in, 64, 0);
		*vsz = 16;
		return v;
	}
	case S_TIMER_ARR2: {
		int arr = btf__add_array(b, i32, timer, 2);
		v = btf__add_struct(b, "v", 32);
		btf__add_field(b, "t", arr, 0, 0);
		*vsz = 32;
		return v;
	}
	case S_LOCK_ARR1: {
		int arr = btf__add_array(b, i32, lock, 1);
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "x", i32, 0, 0);
		btf__add_field(b, "l", arr, 32, 0);
		*vsz = 8;
		return v;
	}
	case S_LOCK_MISALIGNED: {
		int ch = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "c", ch, 0, 0);
		btf__add_field(b, "l", lock, 16, 0);
		*vsz = 8;
		return v;
	}
	case S_LOCK_TIMER:
		v = btf__add_struct(b, "v", 24);
		btf__add_field(b, "l", lock, 0, 0);
		btf__add_field(b, "t", timer, 64, 0);
		*vsz = 24;
		return v;
	case S_LOCK_BITFIELD:
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "f", i32, 3, 5);
		btf__add_field(b, "l", lock, 32, 0);
		*vsz = 8;
		return v;
	case S_OVERLAP_UNION: {
		int un = btf__add_union(b, "u", 4);
		btf__add_field(b, "l", lock, 0, 0);
		btf__add_field(b, "x", i32, 0, 0);
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "u", un, 0, 0);
		btf__add_field(b, "y", i32, 32, 0);
		*vsz = 8;
		return v;
	}
	case S_KPTR_TASK: case S_KPTR_UNTRUSTED: case S_KPTR_LOCAL: case S_KPTR_NODTOR: case S_KPTR_BADTAG:
	case S_KPTR_PERCPU_LOCAL: {
		const char *sname = s == S_KPTR_LOCAL || s == S_KPTR_PERCPU_LOCAL ? "recmaps_local" :
				    s == S_KPTR_NODTOR ? "sk_buff" : "task_struct";
		const char *tag = s == S_KPTR_UNTRUSTED ? "kptr_untrusted" : s == S_KPTR_BADTAG ? "kptr_bogus" :
				  s == S_KPTR_PERCPU_LOCAL ? "percpu_kptr" : "kptr";
		int st = btf__add_struct(b, sname, 8);
		btf__add_field(b, "x", u64, 0, 0);
		int tt = btf__add_type_tag(b, tag, st);
		int p = btf__add_ptr(b, tt);
		v = btf__add_struct(b, "v", 16);
		btf__add_field(b, "x", u64, 0, 0);
		btf__add_field(b, "p", p, 64, 0);
		*vsz = 16;
		return v;
	}
	}
	return -1;
}

static const struct { __u32 type; const char *name; } types[] = {
	{ BPF_MAP_TYPE_HASH, "hash" }, { BPF_MAP_TYPE_ARRAY, "array" },
	{ BPF_MAP_TYPE_PERCPU_HASH, "percpu_hash" }, { BPF_MAP_TYPE_PERCPU_ARRAY, "percpu_array" },
	{ BPF_MAP_TYPE_LRU_HASH, "lru_hash" }, { BPF_MAP_TYPE_LRU_PERCPU_HASH, "lru_percpu_hash" },
	{ BPF_MAP_TYPE_QUEUE, "queue" },
};

static int create(enum shape s, __u32 type, __u32 flags, int *btf_fd_out)
{
	struct btf *b = btf__new_empty();
	__u32 vsz = 0;
	int vid = build(b, s, &vsz);
	int kid = btf__find_by_name(b, "int");
	int bfd = -1;
	if (btf__load_into_kernel(b) == 0)
		bfd = btf__fd(b);
	else {
		int e = errno;
		btf__free(b);
		errno = e;
		return -1;
	}
	bfd = dup(bfd);
	btf__free(b);
	LIBBPF_OPTS(bpf_map_create_opts, o, .btf_fd = (__u32)bfd, .btf_key_type_id = type == BPF_MAP_TYPE_QUEUE ? 0 : (__u32)kid,
		    .btf_value_type_id = (__u32)vid, .map_flags = flags);
	if (type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_PERCPU_HASH ||
	    type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		o.map_flags |= 0;
	int fd = bpf_map_create(type, "recmap", type == BPF_MAP_TYPE_QUEUE ? 0 : 4, vsz, 2, &o);
	int e = errno;
	if (btf_fd_out)
		*btf_fd_out = bfd;
	else
		close(bfd);
	errno = e;
	return fd;
}

static void dump(const char *what, const unsigned char *p, size_t n)
{
	printf("  %s:", what);
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i % 8 ? "" : " ", p[i]);
	printf("\n");
}

/* a value written whole with 0xab from user space, read back; with BPF_F_LOCK where asked */
static void roundtrip(enum shape s, __u32 type)
{
	int fd = create(s, type, 0, NULL);
	if (fd < 0)
		return;
	unsigned char val[64], out[64];
	__u32 vsz = 0;
	struct btf *b = btf__new_empty();
	build(b, s, &vsz);
	btf__free(b);
	int k = 0;
	memset(val, 0xab, sizeof(val));
	int r = bpf_map_update_elem(fd, &k, val, 0);
	printf("%s %s: update %s", shape_name[s], types[type == BPF_MAP_TYPE_HASH ? 0 : 1].name,
	       r ? strerrorname_np(errno) : "ok");
	memset(out, 0xcd, sizeof(out));
	r = bpf_map_lookup_elem(fd, &k, out);
	printf("; lookup %s", r ? strerrorname_np(errno) : "ok");
	r = bpf_map_lookup_elem_flags(fd, &k, out + 32, BPF_F_LOCK);
	printf("; lookup F_LOCK %s", r ? strerrorname_np(errno) : "ok");
	r = bpf_map_update_elem(fd, &k, val, BPF_F_LOCK);
	printf("; update F_LOCK %s\n", r ? strerrorname_np(errno) : "ok");
	dump("lookup", out, vsz);
	close(fd);
}

/* ---- kptrs: clang 14 emits no type tags, so the value's BTF and the programs are built here ---- */
#define I(c, d, s_, o, i_) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i_) })
#define MOVI(d, i_) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i_)
#define MOVR(d, s_) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s_, 0, 0)
#define ADDI(d, i_) I(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i_)
#define RSHI(d, i_) I(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i_)
#define LDX(sz, d, s_, o) I(BPF_LDX | BPF_MEM | (sz), d, s_, o, 0)
#define STX(sz, d, s_, o) I(BPF_STX | BPF_MEM | (sz), d, s_, o, 0)
#define ST(sz, d, o, i_) I(BPF_ST | BPF_MEM | (sz), d, 0, o, i_)
#define JEQI(d, i_, o) I(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i_)
#define JNEI(d, i_, o) I(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i_)
#define CALL(f) I(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define KCALL(id) I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id)
#define EXIT I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDMAP(d, fd) I(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), I(0, 0, 0, 0, 0)

/* r9 = the context, r6 = the value of key 0 of map fd, or exit 1 */
#define LOOKUP(fd) MOVR(9, 1), ST(BPF_W, 10, -4, 0), MOVR(2, 10), ADDI(2, -4), LDMAP(1, fd), CALL(BPF_FUNC_map_lookup_elem), \
	JNEI(0, 0, 2), MOVI(0, 1), EXIT, MOVR(6, 0)

static void kptr_progs(void)
{
	struct btf *b = btf__new_empty();
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u64 = btf__add_int(b, "long long unsigned int", 8, 0);
	int task = btf__add_struct(b, "task_struct", 8);
	btf__add_field(b, "x", u64, 0, 0);
	int ref = btf__add_ptr(b, btf__add_type_tag(b, "kptr", task));
	int weak = btf__add_ptr(b, btf__add_type_tag(b, "kptr_untrusted", task));
	int v = btf__add_struct(b, "kval", 24);
	btf__add_field(b, "x", u64, 0, 0);
	btf__add_field(b, "weak", weak, 64, 0);
	btf__add_field(b, "task", ref, 128, 0);
	if (btf__load_into_kernel(b)) {
		printf("kptr: btf load %s\n", strerrorname_np(errno));
		btf__free(b);
		return;
	}
	LIBBPF_OPTS(bpf_map_create_opts, mo, .btf_fd = (__u32)btf__fd(b), .btf_key_type_id = (__u32)i32,
		    .btf_value_type_id = (__u32)v);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kptrs", 4, 24, 1, &mo);
	if (fd < 0) {
		printf("kptr: map %s\n", strerrorname_np(errno));
		btf__free(b);
		return;
	}
	struct btf *vml = btf__load_vmlinux_btf();
	int from_pid = vml ? btf__find_by_name_kind(vml, "bpf_task_from_pid", BTF_KIND_FUNC) : -1;
	int release = vml ? btf__find_by_name_kind(vml, "bpf_task_release", BTF_KIND_FUNC) : -1;
	btf__free(vml);
	if (from_pid < 0 || release < 0) {
		printf("kptr: no bpf_task_from_pid/bpf_task_release in the kernel's BTF\n");
		close(fd);
		btf__free(b);
		return;
	}
	/* r7 = the current process's task (acquired), or exit 3: 8 instructions */
#define ACQUIRE CALL(BPF_FUNC_get_current_pid_tgid), RSHI(0, 32), MOVR(1, 0), KCALL(from_pid), JNEI(0, 0, 2), \
	MOVI(0, 3), EXIT, MOVR(7, 0)
	struct { const char *name; struct bpf_insn insns[64]; int n; } progs[] = {
#define P(nm, ...) { nm, { __VA_ARGS__ }, sizeof((struct bpf_insn[]){ __VA_ARGS__ }) / sizeof(struct bpf_insn) }
		P("kptr_load", LOOKUP(fd), LDX(BPF_DW, 1, 6, 16), LDX(BPF_DW, 2, 6, 8), MOVI(0, 10), JEQI(1, 0, 1),
		  MOVI(0, 20), JEQI(2, 0, 1), ADDI(0, 1), EXIT),
		P("kptr_rcu_deref", LOOKUP(fd), LDX(BPF_DW, 1, 6, 16), JNEI(1, 0, 2), MOVI(0, 7), EXIT,
		  LDX(BPF_W, 0, 1, 0), EXIT),
		P("bad_kptr_untrusted_pass", LOOKUP(fd), LDX(BPF_DW, 1, 6, 8), JNEI(1, 0, 2), MOVI(0, 7), EXIT,
		  KCALL(release), MOVI(0, 0), EXIT),
		P("bad_kptr_size", LOOKUP(fd), ST(BPF_W, 6, 16, 0), MOVI(0, 0), EXIT),
		P("bad_kptr_misaligned", LOOKUP(fd), LDX(BPF_DW, 0, 6, 12), EXIT),
		P("bad_kptr_store_ref", LOOKUP(fd), STX(BPF_DW, 6, 9, 16), MOVI(0, 0), EXIT),
		P("bad_kptr_st_ref", LOOKUP(fd), ST(BPF_DW, 6, 16, 0), MOVI(0, 0), EXIT),
		P("bad_kptr_st_imm", LOOKUP(fd), ST(BPF_DW, 6, 8, 1), MOVI(0, 0), EXIT),
		P("weak_st_zero", LOOKUP(fd), ST(BPF_DW, 6, 8, 0), MOVI(0, 5), EXIT),
		P("bad_weak_store_ctx", LOOKUP(fd), STX(BPF_DW, 6, 9, 8), MOVI(0, 0), EXIT),
		P("weak_store_task", LOOKUP(fd), ACQUIRE, STX(BPF_DW, 6, 7, 8), ST(BPF_DW, 6, 8, 0), MOVR(1, 7),
		  KCALL(release), MOVI(0, 6), EXIT),
		P("bad_weak_store_off", LOOKUP(fd), ACQUIRE, MOVR(1, 7), ADDI(1, 8), STX(BPF_DW, 6, 1, 8), MOVR(1, 7),
		  KCALL(release), MOVI(0, 6), EXIT),
		P("kptr_load_again", LOOKUP(fd), ACQUIRE, MOVR(1, 6), ADDI(1, 16), MOVR(2, 7), CALL(BPF_FUNC_kptr_xchg),
		  JEQI(0, 0, 2), MOVR(1, 0), KCALL(release), LDX(BPF_DW, 1, 6, 16), MOVI(0, 10), JEQI(1, 0, 1), MOVI(0, 20),
		  MOVR(8, 0), MOVR(1, 6), ADDI(1, 16), MOVI(2, 0), CALL(BPF_FUNC_kptr_xchg), JEQI(0, 0, 2), MOVR(1, 0),
		  KCALL(release), MOVR(0, 8), EXIT),
		P("xchg_pair", LOOKUP(fd), ACQUIRE, MOVR(1, 6), ADDI(1, 16), MOVR(2, 7), CALL(BPF_FUNC_kptr_xchg),
		  JEQI(0, 0, 2), MOVR(1, 0), KCALL(release), MOVR(1, 6), ADDI(1, 16), MOVI(2, 0),
		  CALL(BPF_FUNC_kptr_xchg), JNEI(0, 0, 2), MOVI(0, 4), EXIT, MOVR(1, 0), KCALL(release), MOVI(0, 2), EXIT),
		P("bad_xchg_leak", LOOKUP(fd), MOVR(1, 6), ADDI(1, 16), MOVI(2, 0), CALL(BPF_FUNC_kptr_xchg), MOVI(0, 0), EXIT),
		P("bad_xchg_unref", LOOKUP(fd), ACQUIRE, MOVR(1, 6), ADDI(1, 8), MOVR(2, 7), CALL(BPF_FUNC_kptr_xchg),
		  MOVI(0, 0), EXIT),
		P("bad_xchg_off", LOOKUP(fd), ACQUIRE, MOVR(1, 6), MOVR(2, 7), CALL(BPF_FUNC_kptr_xchg), MOVI(0, 0), EXIT),
		P("bad_xchg_ctx", LOOKUP(fd), MOVR(7, 9), MOVR(1, 6), ADDI(1, 16), MOVR(2, 7), CALL(BPF_FUNC_kptr_xchg),
		  MOVI(0, 0), EXIT),
		P("bad_xchg_unacquired", LOOKUP(fd), LDX(BPF_DW, 7, 6, 8), JNEI(7, 0, 2), MOVI(0, 0), EXIT, MOVR(1, 6),
		  ADDI(1, 16), MOVR(2, 7), CALL(BPF_FUNC_kptr_xchg), MOVI(0, 0), EXIT),
		P("bad_xchg_var", LOOKUP(fd), LDX(BPF_W, 2, 9, 0), I(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 8),
		  MOVR(1, 6), I(BPF_ALU64 | BPF_ADD | BPF_X, 1, 2, 0, 0), MOVI(2, 0), CALL(BPF_FUNC_kptr_xchg), MOVI(0, 0), EXIT),
		P("bad_kptr_helper", LOOKUP(fd), MOVR(1, 6), MOVI(2, 24), MOVI(3, 0), CALL(BPF_FUNC_probe_read_kernel),
		  MOVI(0, 0), EXIT),
#undef P
	};
	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++) {
		static char log[65536];
		LIBBPF_OPTS(bpf_prog_load_opts, po, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
		log[0] = 0;
		int pfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, progs[i].name, "GPL", progs[i].insns, (size_t)progs[i].n, &po);
		if (pfd < 0) {
			int e = errno;
			/* the error line: the one before "processed ..." */
			char *last = NULL, *prev = NULL;
			for (char *p = strtok(log, "\n"); p; p = strtok(NULL, "\n")) {
				prev = last;
				last = p;
			}
			const char *line = last && !strncmp(last, "processed ", 10) && prev ? prev : last ? last : "";
			printf("%s: load %s: %s\n", progs[i].name, strerrorname_np(e), line);
			continue;
		}
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		bpf_obj_get_info_by_fd(pfd, &info, &len);
		unsigned char pkt[64] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));
		int err = bpf_prog_test_run_opts(pfd, &o);
		printf("%s: load ok verified_insns %u; run %s retval %u\n", progs[i].name, info.verified_insns,
		       err ? strerrorname_np(errno) : "ok", o.retval);
		close(pfd);
	}
	close(fd);
	btf__free(b);
}

int main(void)
{
	libbpf_set_print(quiet);
	for (unsigned s = 0; s < sizeof(shape_name) / sizeof(*shape_name); s++) {
		printf("%s:", shape_name[s]);
		{
			struct btf *b = btf__new_empty();
			__u32 vsz;
			build(b, (enum shape)s, &vsz);
			printf(" btf %s;", btf__load_into_kernel(b) ? strerrorname_np(errno) : "ok");
			btf__free(b);
		}
		for (unsigned t = 0; t < sizeof(types) / sizeof(*types); t++) {
			int fd = create((enum shape)s, types[t].type, 0, NULL);
			printf(" %s %s", types[t].name, fd >= 0 ? "ok" : strerrorname_np(errno));
			if (fd >= 0)
				close(fd);
		}
		int fd = create((enum shape)s, BPF_MAP_TYPE_ARRAY, BPF_F_RDONLY_PROG, NULL);
		printf(" array+rdonly_prog %s", fd >= 0 ? "ok" : strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
		printf("\n");
	}
	enum shape rs[] = { S_INT, S_LOCK, S_TIMER, S_LOCK_TIMER, S_KPTR_TASK, S_LOCK_NESTED };
	for (unsigned i = 0; i < sizeof(rs) / sizeof(*rs); i++) {
		roundtrip(rs[i], BPF_MAP_TYPE_ARRAY);
		roundtrip(rs[i], BPF_MAP_TYPE_HASH);
	}
	kptr_progs();
	return 0;
}
