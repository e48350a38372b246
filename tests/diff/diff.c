/* SPDX-License-Identifier: MIT */
/*
 * tests/diff/diff.c: differential tests, the real kernel against the engine.
 *
 * Every case is a C function that issues bpf() calls through the helpers
 * below. It runs twice in a forked child: once on the real bpf() syscall
 * (root, with a bpffs mounted on /sys/fs/bpf in a private mount namespace)
 * and once on the engine (bpfemu_bpf(), with BPFEMU_ROOT set to a fresh
 * directory). Each helper records what the call returned (fd-valued results
 * as "an fd"), its errno and the bytes it wrote (values, keys, info structs
 * with the id masked; hash walks as the sorted set of keys). The two
 * recordings must be identical.
 *
 * The answers expected of the engine are kept in tests/diff/expected/ (see
 * "expected results" below): the engine's run must equal them on every host;
 * the kernel's run confirms them where the host can show the case (root, a
 * private bpffs, a working bpf(), and every map and program type the case
 * uses: tests/common/hostprobe.h), and is skipped with its reason otherwise.
 *
 * Usage: bpfemu_diff [-v] [-k] [-u|-U] [-e DIR] [CASE-SUBSTRING...]
 *   -k print the kernel's run; -u/-U write the expected files from the
 *   kernel's/engine's run; -e the expected files' directory
 * Exit: 0 all equal, 1 a divergence, 2 a usage or system error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <unistd.h>

#include <bpfemu/bpfemu.h>
#include "emu.h"
#include "hostprobe.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PTR(p) ((__u64)(uintptr_t)(p))
#define KERNEL_ATTR_SIZE 168      /* union bpf_attr on 6.18 */
#define MAX_RECS 4096
#define MAX_DATA 128

/* ---- recording ---- */

struct rec {
	char label[120];
	long ret;                 /* -errno, a plain result, or FD_RESULT */
	unsigned int len;         /* bytes in data */
	unsigned char data[MAX_DATA];
};

#define FD_RESULT 0x7fff0000L
#define UNAVAILABLE 0x7ffe0000L  /* a step this host or user cannot set up (why in data) */

struct run {
	int kernel;
	int n;
	struct rec recs[MAX_RECS];
};

/* Shared with the children that run each backend: the kernel's run, the
 * engine's, the expected one, and why the host refused. */
static struct shared {
	struct run runs[3];
	char why[160];
} *shared;
static struct run *cur;
static long kernel_call(int cmd, void *attr, unsigned int size);
static int verbose;
static long page_size;

static struct rec *new_rec(const char *fmt, va_list ap)
{
	if (cur->n >= MAX_RECS) {
		fprintf(stderr, "bpfemu_diff: too many records in one case\n");
		exit(2);
	}
	struct rec *r = &cur->recs[cur->n++];
	memset(r, 0, sizeof(*r));
	vsnprintf(r->label, sizeof(r->label), fmt, ap);
	return r;
}

/* The raw call on the current backend: >= 0 or -errno. */
static long raw(int cmd, void *attr, unsigned int size)
{
	if (cur->kernel)
		return kernel_call(cmd, attr, size);
	errno = 0;
	long r = bpfemu_bpf(cmd, attr, size);
	return r < 0 ? -errno : r;
}

static int fd_cmd(int cmd)
{
	return cmd == BPF_MAP_CREATE || cmd == BPF_PROG_LOAD || cmd == BPF_OBJ_GET ||
	       cmd == BPF_MAP_GET_FD_BY_ID || cmd == BPF_PROG_GET_FD_BY_ID;
}

/* Calls and records the result. */
__attribute__((format(printf, 4, 5)))
static long C(int cmd, void *attr, unsigned int size, const char *fmt, ...)
{
	long ret = raw(cmd, attr, size);
	va_list ap;
	va_start(ap, fmt);
	struct rec *r = new_rec(fmt, ap);
	va_end(ap);
	r->ret = ret >= 0 && fd_cmd(cmd) ? FD_RESULT : ret;
	return ret;
}

/* Records bytes (or a value) that must agree. */
__attribute__((format(printf, 3, 4)))
static void D(const void *data, unsigned int len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct rec *r = new_rec(fmt, ap);
	va_end(ap);
	r->ret = 0;
	r->len = len > MAX_DATA ? MAX_DATA : len;
	if (data)
		memcpy(r->data, data, r->len);
}

/* Records a step that cannot run here (its input, say a raw socket, needs a
 * privilege this user lacks): compared with nothing, counted and reported. */
__attribute__((format(printf, 2, 3)))
static void U(const char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct rec *r = new_rec(fmt, ap);
	va_end(ap);
	r->ret = UNAVAILABLE;
	r->len = (unsigned int)strnlen(why, MAX_DATA - 1);
	memcpy(r->data, why, r->len);
}

/* Records a result (0, a count or -errno) that must agree. */
__attribute__((format(printf, 2, 3)))
static void V(long value, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct rec *r = new_rec(fmt, ap);
	va_end(ap);
	r->ret = value;
}

static void close_fd(long fd)
{
	if (fd < 0)
		return;
	close((int)fd);
	if (!cur->kernel)
		bpfemu_forget_fd((int)fd);
}

/* ---- call helpers ---- */

static long mk_attr(union bpf_attr *a, const char *what)
{
	return C(BPF_MAP_CREATE, a, sizeof(*a), "create %s type=%u ks=%u vs=%u max=%u flags=%#x", what,
		 a->map_type, a->key_size, a->value_size, a->max_entries, a->map_flags);
}

static long mk(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	return mk_attr(&a, "");
}

static long elem(int cmd, const char *op, long fd, const void *key, void *val, __u64 flags, unsigned int vs)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = PTR(key);
	a.value = PTR(val);
	a.flags = flags;
	long r = C(cmd, &a, sizeof(a), "%s flags=%llu", op, (unsigned long long)flags);
	if (vs && val && (uintptr_t)val > 4096)
		D(val, vs, "%s value bytes", op);
	return r;
}

/* value buffers are prefilled so that writes on failure show up */
#define FILL 0xa5

static long upd(long fd, const void *key, const void *val, __u64 flags)
{
	return elem(BPF_MAP_UPDATE_ELEM, "update", fd, key, (void *)val, flags, 0);
}

static long lkp(long fd, const void *key, unsigned int vs)
{
	unsigned char buf[MAX_DATA];
	memset(buf, FILL, sizeof(buf));
	return elem(BPF_MAP_LOOKUP_ELEM, "lookup", fd, key, buf, 0, vs);
}

static long lkp_flags(long fd, const void *key, unsigned int vs, __u64 flags)
{
	unsigned char buf[MAX_DATA];
	memset(buf, FILL, sizeof(buf));
	return elem(BPF_MAP_LOOKUP_ELEM, "lookup", fd, key, buf, flags, vs);
}

static long del(long fd, const void *key)
{
	return elem(BPF_MAP_DELETE_ELEM, "delete", fd, key, NULL, 0, 0);
}

static long lad(long fd, const void *key, unsigned int vs, __u64 flags)
{
	unsigned char buf[MAX_DATA];
	memset(buf, FILL, sizeof(buf));
	return elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, "lookup_and_delete", fd, key, buf, flags, vs);
}

static long nk(long fd, const void *key, unsigned int ks)
{
	unsigned char next[MAX_DATA];
	memset(next, FILL, sizeof(next));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = PTR(key);
	a.next_key = PTR(next);
	long r = C(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a), "get_next_key from %s", key ? "key" : "NULL");
	D(next, ks, "get_next_key bytes");
	return r;
}

static int cmp_key4(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	return x < y ? -1 : x > y;
}

/* Walks a map with 4-byte keys; records the sorted set of keys seen and how the walk ended. */
static void walk(long fd, const char *what)
{
	__u32 keys[MAX_DATA / 4], key, next;
	unsigned int n = 0, steps = 0;
	union bpf_attr a;
	long r;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.next_key = PTR(&next);
	while ((r = raw(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a))) == 0 && steps++ < 10000) {
		if (n < ARRAY_SIZE(keys))
			keys[n] = next;
		n++;
		key = next;
		a.key = PTR(&key);
	}
	qsort(keys, n < ARRAY_SIZE(keys) ? n : ARRAY_SIZE(keys), sizeof(keys[0]), cmp_key4);
	V(n, "walk %s: number of keys", what);
	V(r, "walk %s: how it ended", what);
	D(keys, (n < ARRAY_SIZE(keys) ? n : ARRAY_SIZE(keys)) * 4, "walk %s: sorted keys", what);
}

static void *bad_ptr;

static void *unmapped(void)
{
	void *p = mmap(NULL, (size_t)page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bad_ptr = p;       /* PROT_NONE, never unmapped: no later mmap can land there */
	return p;
}

/* A path for labels: NULL and unmapped pointers are not read. */
static const char *path_label(const char *p)
{
	return !p ? "NULL" : (const void *)p == bad_ptr ? "<unmapped>" : p;
}

static long frz(long fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	return C(BPF_MAP_FREEZE, &a, sizeof(a), "freeze");
}

static long pin(long fd, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (__u32)fd;
	a.pathname = PTR(path);
	return C(BPF_OBJ_PIN, &a, sizeof(a), "pin fd=%s '%s'", fd >= 0 && fd < 1000 ? "a" : "bad",
		 path_label(path));
}

static long get(const char *path, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = PTR(path);
	a.file_flags = flags;
	return C(BPF_OBJ_GET, &a, sizeof(a), "get '%s' flags=%#x", path_label(path), flags);
}

/* OBJ_GET_INFO_BY_FD with info_len = len over a zeroed buffer; records the
 * result, the written-back info_len and the bytes, id masked. */
static long info(long fd, __u32 len, const char *what)
{
	unsigned char buf[MAX_DATA * 2];
	memset(buf, 0, sizeof(buf));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = len;
	a.info.info = PTR(buf);
	long r = C(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a), "info %s len=%u", what, len);
	V(a.info.info_len, "info %s len=%u: written-back info_len", what, len);
	if (len > 4)
		memset(buf + 4, 0, len >= 8 ? 4 : len - 4);    /* id */
	D(buf, MAX_DATA, "info %s len=%u: bytes (id masked)", what, len);
	D(buf + MAX_DATA, MAX_DATA, "info %s len=%u: bytes past 128", what, len);
	return r;
}

static __u32 map_id(long fd)
{
	struct bpf_map_info i;
	memset(&i, 0, sizeof(i));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(i);
	a.info.info = PTR(&i);
	return raw(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)) == 0 ? i.id : 0;
}

static long next_id(__u32 start, __u32 *out)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = start;
	long r = raw(BPF_MAP_GET_NEXT_ID, &a, sizeof(a));
	*out = a.next_id;
	return r;
}

static long fd_by_id(__u32 id, __u32 flags, const char *what)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	a.open_flags = flags;
	return C(BPF_MAP_GET_FD_BY_ID, &a, sizeof(a), "get_fd_by_id %s flags=%#x", what, flags);
}

static struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};
static const struct bpf_insn noexit[] = {          /* r0 = 0 */
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
};
static const struct bpf_insn exit_only[] = {       /* exit, r0 never set */
	{ .code = BPF_JMP | BPF_EXIT },
};

static const char *insns_label(const void *p)
{
	return !p ? "NULL" : p == ret0 ? "r0=0;exit" : p == noexit ? "r0=0" : p == exit_only ? "exit" : "<unmapped>";
}

static long prog(__u32 type, const void *insns, __u32 cnt, const char *license, const char *name, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = PTR(insns);
	a.insn_cnt = cnt;
	a.license = PTR(license);
	a.prog_flags = flags;
	if (name)
		snprintf(a.prog_name, sizeof(a.prog_name), "%s", name);
	return C(BPF_PROG_LOAD, &a, sizeof(a), "prog_load type=%u insns=%s cnt=%u license=%s name=%s flags=%#x",
		 type, insns_label(insns), cnt, license ? license : "NULL", name ? name : "-", flags);
}

static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);
	close(fd);
	return fd;
}

static void *map_mem(long fd, size_t len, int prot)
{
	if (cur->kernel)
		return mmap(NULL, len, prot, MAP_SHARED, (int)fd, 0);
	off_t off = 0;
	int r = emu_mmap_check((int)fd, len, prot, MAP_SHARED, 0, &off);
	if (r < 0) {
		errno = -r;
		return MAP_FAILED;
	}
	return mmap(NULL, len, prot, MAP_SHARED, (int)fd, r == 0 ? off : 0);
}

/* Records mmap's outcome: 0 or -errno. */
static void *mm(long fd, size_t len, int prot, const char *what)
{
	errno = 0;
	void *p = map_mem(fd, len, prot);
	V(p == MAP_FAILED ? -errno : 0, "mmap %s", what);
	return p;
}

static const __u32 all_flag_bits[] = {
	0, BPF_F_NO_PREALLOC, BPF_F_NO_COMMON_LRU, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY,
	BPF_F_STACK_BUILD_ID, BPF_F_ZERO_SEED, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_CLONE,
	BPF_F_MMAPABLE, BPF_F_PRESERVE_ELEMS, BPF_F_INNER_MAP, 1u << 13, 1u << 14, 1u << 15, 1u << 16,
	1u << 17, 1u << 18, 1u << 19, 1u << 20, 1u << 31,
	BPF_F_RDONLY | BPF_F_WRONLY, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG,
	BPF_F_RDONLY | BPF_F_RDONLY_PROG, BPF_F_WRONLY | BPF_F_WRONLY_PROG,
	BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG,
	BPF_F_MMAPABLE | BPF_F_INNER_MAP, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE,
};

/* ================= cases ================= */

static void case_create_flags(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_flag_bits); i++) {
		close_fd(mk(BPF_MAP_TYPE_HASH, 4, 8, 16, all_flag_bits[i]));
		close_fd(mk(BPF_MAP_TYPE_ARRAY, 4, 8, 16, all_flag_bits[i]));
	}
}

static void case_create_sizes(void)
{
	static const __u32 sizes[][3] = {
		{ 4, 8, 16 }, { 0, 8, 16 }, { 4, 0, 16 }, { 4, 8, 0 }, { 1, 1, 1 }, { 2, 8, 16 }, { 8, 8, 16 },
		{ 3, 5, 7 }, { 512, 8, 16 }, { 513, 8, 16 }, { 1u << 20, 8, 2 }, { 1u << 25, 8, 2 },
		{ 0xffffffffu, 8, 2 }, { 4, 1u << 20, 2 }, { 4, 1u << 22, 2 }, { 4, 1u << 30, 2 },
		{ 4, 0xffffffffu, 1 }, { 4, 8, 1u << 31 }, { 4, 8, 0xffffffffu }, { 0, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		close_fd(mk(BPF_MAP_TYPE_HASH, sizes[i][0], sizes[i][1], sizes[i][2], 0));
		close_fd(mk(BPF_MAP_TYPE_HASH, sizes[i][0], sizes[i][1], sizes[i][2], BPF_F_NO_PREALLOC));
		if (sizes[i][2] < (1u << 20))   /* arrays allocate max_entries up front */
			close_fd(mk(BPF_MAP_TYPE_ARRAY, sizes[i][0], sizes[i][1], sizes[i][2], 0));
	}
	close_fd(mk(BPF_MAP_TYPE_ARRAY, 4, 1u << 31, 1, 0));
	close_fd(mk(BPF_MAP_TYPE_ARRAY, 4, 0xffffffffu, 1, 0));
}

static void case_create_types(void)
{
	static const __u32 types[] = { BPF_MAP_TYPE_UNSPEC, 200, 9999, 0x7fffffff, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		close_fd(mk(types[i], 4, 8, 16, 0));
}

static void case_create_names(void)
{
	static const char names[][BPF_OBJ_NAME_LEN] = {
		"", "demo", "a_b.c9", "A.Z_z", "a-b", "a b", "a/b", "a:b", "\xc3\xa9", "0123456789abcde",
		{ '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f' },
		{ 'a', 0, 'b' }, { 'a', 0, '-' },
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = i % 2 ? BPF_MAP_TYPE_ARRAY : BPF_MAP_TYPE_HASH;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 4;
		memcpy(a.map_name, names[i], sizeof(a.map_name));
		char what[40];
		snprintf(what, sizeof(what), "name#%zu", i);
		long fd = mk_attr(&a, what);
		if (fd >= 0)
			info(fd, sizeof(struct bpf_map_info), what);
		close_fd(fd);
	}
}

static void case_create_numa_and_extra(void)
{
	static const __u32 nodes[] = { 0, 1, 4096, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		for (int with_flag = 0; with_flag < 2; with_flag++) {
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.map_type = BPF_MAP_TYPE_HASH;
			a.key_size = 4;
			a.value_size = 4;
			a.max_entries = 4;
			a.map_flags = with_flag ? BPF_F_NUMA_NODE : 0;
			a.numa_node = nodes[i];
			char what[40];
			snprintf(what, sizeof(what), "numa_node=%#x", nodes[i]);
			close_fd(mk_attr(&a, what));
			a.map_type = BPF_MAP_TYPE_ARRAY;
			close_fd(mk_attr(&a, what));
		}
	}
	/* map_extra, btf ids, inner map fd, map_ifindex on plain types */
	for (int i = 0; i < 6; i++) {
		for (__u32 t = BPF_MAP_TYPE_HASH; t <= BPF_MAP_TYPE_ARRAY; t++) {
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.map_type = t;
			a.key_size = 4;
			a.value_size = 4;
			a.max_entries = 4;
			switch (i) {
			case 0: a.map_extra = 1; break;
			case 1: a.btf_fd = 12345; break;
			case 2: a.btf_key_type_id = 1; break;
			case 3: a.inner_map_fd = 12345; break;
			case 4: a.map_ifindex = 1; break;
			case 5: a.btf_vmlinux_value_type_id = 1; break;
			}
			char what[32];
			snprintf(what, sizeof(what), "extra-field#%d", i);
			close_fd(mk_attr(&a, what));
		}
	}
}

static void hash_flag_grid(__u32 map_flags)
{
	static const __u64 flags[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 3, 5, 8, 1ull << 32 };
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		for (int present = 0; present < 2; present++) {
			long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 8, map_flags);
			__u32 k = 7;
			__u64 v = 1, nv = 2;
			if (present)
				upd(fd, &k, &v, BPF_ANY);
			upd(fd, &k, &nv, flags[i]);
			lkp(fd, &k, 8);
			walk(fd, "after update");
			close_fd(fd);
		}
	}
}

static void case_hash_update_flags(void) { hash_flag_grid(0); }
static void case_hash_update_flags_no_prealloc(void) { hash_flag_grid(BPF_F_NO_PREALLOC); }

static void case_array_update_flags(void)
{
	static const __u64 flags[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 3, 5, 8, 1ull << 32 };
	static const __u32 idx[] = { 0, 3, 4, 5, 0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		long fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
		for (size_t j = 0; j < ARRAY_SIZE(idx); j++) {
			__u64 v = 0x1111 * (j + 1);
			upd(fd, &idx[j], &v, flags[i]);
			lkp(fd, &idx[j], 8);
		}
		close_fd(fd);
	}
}

static void case_lookup_flags(void)
{
	static const __u64 flags[] = { 0, 1, 2, BPF_F_LOCK, 8, 1ull << 32 };
	for (__u32 t = BPF_MAP_TYPE_HASH; t <= BPF_MAP_TYPE_ARRAY; t++) {
		long fd = mk(t, 4, 8, 4, 0);
		__u32 k = 1;
		__u64 v = 3;
		upd(fd, &k, &v, BPF_ANY);
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
			lkp_flags(fd, &k, 8, flags[i]);
		close_fd(fd);
	}
}

static void fill(long fd, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		__u64 v = 100 + i;
		upd(fd, &i, &v, BPF_ANY);
	}
}

static void case_hash_full(void)
{
	static const __u32 mflags[] = { 0, BPF_F_NO_PREALLOC };
	for (size_t m = 0; m < ARRAY_SIZE(mflags); m++) {
		long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 4, mflags[m]);
		fill(fd, 4);
		__u32 k = 100, old = 2;
		__u64 v = 5;
		upd(fd, &k, &v, BPF_ANY);
		upd(fd, &k, &v, BPF_NOEXIST);
		upd(fd, &k, &v, BPF_EXIST);
		upd(fd, &old, &v, BPF_ANY);
		upd(fd, &old, &v, BPF_EXIST);
		upd(fd, &old, &v, BPF_NOEXIST);
		lkp(fd, &old, 8);
		del(fd, &old);
		upd(fd, &k, &v, BPF_NOEXIST);
		upd(fd, &old, &v, BPF_ANY);
		walk(fd, "full");
		close_fd(fd);
	}
}

static void case_hash_delete_and_lookup_and_delete(void)
{
	long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	fill(fd, 5);
	__u32 k = 2, missing = 99;
	del(fd, &k);
	del(fd, &k);
	del(fd, &missing);
	lkp(fd, &k, 8);
	k = 3;
	lad(fd, &k, 8, 0);
	lad(fd, &k, 8, 0);
	k = 4;
	lad(fd, &k, 8, 1);
	lad(fd, &k, 8, BPF_F_LOCK);
	lad(fd, &k, 8, 8);
	lkp(fd, &k, 8);
	walk(fd, "after deletes");
	close_fd(fd);
}

static void case_array_delete_and_lookup_and_delete(void)
{
	long fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	fill(fd, 4);
	__u32 k = 1, big = 10;
	del(fd, &k);
	del(fd, &big);
	lad(fd, &k, 8, 0);
	lad(fd, &big, 8, 0);
	lad(fd, &k, 8, BPF_F_LOCK);
	lkp(fd, &k, 8);
	close_fd(fd);
}

static void case_hash_get_next_key(void)
{
	long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 64, 0);
	__u32 missing = 12345;
	nk(fd, NULL, 4);
	nk(fd, &missing, 4);
	walk(fd, "empty");
	fill(fd, 1);
	nk(fd, NULL, 4);
	__u32 k0 = 0;
	nk(fd, &k0, 4);
	nk(fd, &missing, 4);
	fill(fd, 30);
	walk(fd, "30 keys");
	/* a missing key restarts from the first key, as NULL does */
	__u32 a = 0xaaaaaaaa, b = 0xbbbbbbbb;
	union bpf_attr at;
	memset(&at, 0, sizeof(at));
	at.map_fd = (__u32)fd;
	at.next_key = PTR(&a);
	raw(BPF_MAP_GET_NEXT_KEY, &at, sizeof(at));
	at.key = PTR(&missing);
	at.next_key = PTR(&b);
	raw(BPF_MAP_GET_NEXT_KEY, &at, sizeof(at));
	int same = a == b;
	V(same, "missing key gives the same first key as NULL");
	close_fd(fd);

	/* larger keys */
	fd = mk(BPF_MAP_TYPE_HASH, 12, 4, 8, 0);
	char key[12] = "abcdefghijk", val[4] = "xyz";
	upd(fd, key, val, BPF_ANY);
	nk(fd, NULL, 12);
	nk(fd, key, 12);
	close_fd(fd);
}

static void case_array_get_next_key(void)
{
	long fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	static const __u32 keys[] = { 0, 1, 2, 3, 4, 5, 0x7fffffff, 0xffffffffu };
	nk(fd, NULL, 4);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		nk(fd, &keys[i], 4);
	walk(fd, "array");
	close_fd(fd);
}

static void case_freeze(void)
{
	for (__u32 t = BPF_MAP_TYPE_HASH; t <= BPF_MAP_TYPE_ARRAY; t++) {
		long fd = mk(t, 4, 8, 4, 0);
		__u32 k = 1;
		__u64 v = 9;
		upd(fd, &k, &v, BPF_ANY);
		frz(fd);
		upd(fd, &k, &v, BPF_ANY);
		upd(fd, &k, &v, BPF_EXIST);
		del(fd, &k);
		lad(fd, &k, 8, 0);
		lkp(fd, &k, 8);
		nk(fd, NULL, 4);
		frz(fd);
		info(fd, sizeof(struct bpf_map_info), "frozen");
		close_fd(fd);
	}
	long ro = mk(BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_RDONLY);
	frz(ro);
	close_fd(ro);
	long wo = mk(BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_WRONLY);
	frz(wo);
	close_fd(wo);
	long rop = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY_PROG);
	frz(rop);
	close_fd(rop);
}

static void case_map_access_flags(void)
{
	static const __u32 mflags[] = { BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG };
	for (__u32 t = BPF_MAP_TYPE_HASH; t <= BPF_MAP_TYPE_ARRAY; t++) {
		for (size_t i = 0; i < ARRAY_SIZE(mflags); i++) {
			long fd = mk(t, 4, 8, 4, mflags[i]);
			__u32 k = 1;
			__u64 v = 9;
			upd(fd, &k, &v, BPF_ANY);
			lkp(fd, &k, 8);
			nk(fd, NULL, 4);
			lad(fd, &k, 8, 0);
			del(fd, &k);
			info(fd, sizeof(struct bpf_map_info), "access");
			close_fd(fd);
		}
	}
}

static void case_mmap(void)
{
	size_t len = (size_t)page_size;
	long fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	__u64 *mem = mm(fd, len, PROT_READ | PROT_WRITE, "rw");
	if (mem != MAP_FAILED) {
		__u32 k = 3;
		__u64 v = 0x0102030405060708ull;
		upd(fd, &k, &v, BPF_ANY);
		D(&mem[3], 8, "mmap sees update");
		mem[4] = 0xfeedface;
		k = 4;
		lkp(fd, &k, 8);
		frz(fd);             /* EBUSY while writably mapped */
		munmap(mem, len);
	}
	mm(fd, len * 64, PROT_READ, "too long");
	close_fd(fd);

	fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE);
	frz(fd);
	mm(fd, len, PROT_READ | PROT_WRITE, "rw frozen");
	void *p = mm(fd, len, PROT_READ, "ro frozen");
	if (p != MAP_FAILED)
		munmap(p, len);
	close_fd(fd);

	fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0);
	mm(fd, len, PROT_READ, "not mmapable");
	close_fd(fd);
	fd = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
	p = mm(fd, len, PROT_READ | PROT_WRITE, "rw rdonly_prog");
	if (p != MAP_FAILED)
		munmap(p, len);
	close_fd(fd);
}

static void all_elem_ops(long fd, const char *what)
{
	__u32 k = 0;
	__u64 v = 0;
	union bpf_attr a;
	D(what, (unsigned int)strlen(what), "fd kind");
	upd(fd, &k, &v, BPF_ANY);
	lkp(fd, &k, 8);
	del(fd, &k);
	lad(fd, &k, 8, 0);
	nk(fd, NULL, 4);
	frz(fd);
	info(fd, sizeof(struct bpf_map_info), what);
	pin(fd, "/sys/fs/bpf/badfd");
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	C(BPF_MAP_FREEZE, &a, sizeof(a), "freeze again");
}

static void case_bad_fds(void)
{
	int p[2];
	if (pipe(p) == 0) {
		all_elem_ops(p[0], "pipe");
		close(p[0]);
		close(p[1]);
	}
	all_elem_ops(closed_fd(), "closed");
	all_elem_ops(-1, "minus one");
	all_elem_ops(1000000, "huge");
	int reg = open("/proc/self/stat", O_RDONLY);
	all_elem_ops(reg, "regular file");
	close(reg);
	long pf = prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", NULL, 0);
	__u32 k = 0;
	__u64 v = 0;
	upd(pf, &k, &v, BPF_ANY);
	lkp(pf, &k, 8);
	frz(pf);
	close_fd(pf);
}

/* Unmapped pointers are made right before each use: a page freed earlier
 * may come back as the engine's own mapping of a map file. */
static void case_bad_pointers(void)
{
	for (__u32 t = BPF_MAP_TYPE_HASH; t <= BPF_MAP_TYPE_ARRAY; t++) {
		long fd = mk(t, 4, 8, 4, 0);
		__u32 k = 1;
		__u64 v = 5;
		elem(BPF_MAP_UPDATE_ELEM, "update NULL key", fd, NULL, &v, 0, 0);
		elem(BPF_MAP_UPDATE_ELEM, "update NULL value", fd, &k, NULL, 0, 0);
		elem(BPF_MAP_UPDATE_ELEM, "update bad key", fd, unmapped(), &v, 0, 0);
		elem(BPF_MAP_UPDATE_ELEM, "update bad value", fd, &k, unmapped(), 0, 0);
		upd(fd, &k, &v, BPF_ANY);
		elem(BPF_MAP_LOOKUP_ELEM, "lookup NULL key", fd, NULL, NULL, 0, 0);
		elem(BPF_MAP_LOOKUP_ELEM, "lookup NULL value", fd, &k, NULL, 0, 0);
		elem(BPF_MAP_LOOKUP_ELEM, "lookup bad key", fd, unmapped(), NULL, 0, 0);
		elem(BPF_MAP_LOOKUP_ELEM, "lookup bad value", fd, &k, unmapped(), 0, 0);
		elem(BPF_MAP_DELETE_ELEM, "delete NULL key", fd, NULL, NULL, 0, 0);
		elem(BPF_MAP_DELETE_ELEM, "delete bad key", fd, unmapped(), NULL, 0, 0);
		nk(fd, unmapped(), 4);
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)fd;
		C(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a), "get_next_key NULL next");
		a.next_key = PTR(unmapped());
		C(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a), "get_next_key bad next");
		elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, "lad NULL value", fd, &k, NULL, 0, 0);
		lkp(fd, &k, 8);
		__u32 missing = 3;
		elem(BPF_MAP_LOOKUP_ELEM, "lookup missing NULL value", fd, &missing, NULL, 0, 0);
		close_fd(fd);
	}
}

static void case_attr_rules(void)
{
	static char buf[3 * 4096] __attribute__((aligned(4096)));
	static const unsigned int sizes[] = { 0, 4, 8, 12, 16, 20, 48, 72, 120, 144, 148, 160, 168, 169, 172,
					      256, 4095, 4096, 4097, 8192 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (int tail = 0; tail < 2; tail++) {
			memset(buf, 0, sizeof(buf));
			union bpf_attr *a = (union bpf_attr *)buf;
			a->map_type = BPF_MAP_TYPE_ARRAY;
			a->key_size = 4;
			a->value_size = 4;
			a->max_entries = 2;
			if (tail && sizes[i] > 16)
				buf[sizes[i] - 1] = 1;
			close_fd(C(BPF_MAP_CREATE, buf, sizes[i], "create size=%u tail=%d", sizes[i], tail));
		}
	}
	/* garbage beyond size is not read */
	memset(buf, 0xff, sizeof(buf));
	union bpf_attr *a = (union bpf_attr *)buf;
	a->map_type = BPF_MAP_TYPE_HASH;
	a->key_size = 4;
	a->value_size = 4;
	a->max_entries = 2;
	close_fd(C(BPF_MAP_CREATE, buf, 16, "create size=16 garbage after"));

	/* a byte at every offset past each element command's last field (set
	 * to 1 where it is 0): the key and value pointers live where their low
	 * bytes are never 0, so that byte never moves them (a stack address
	 * ending in 0x00, as ASan's fake stack gave once, changed the run) */
	static __u64 kv[4] __attribute__((aligned(64)));
	long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	__u32 *kp = (__u32 *)((char *)kv + 4);
	*kp = 1;
	__u64 v = 2;
	upd(fd, kp, &v, BPF_ANY);
	static const int cmds[] = { BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM,
				    BPF_MAP_GET_NEXT_KEY, BPF_MAP_FREEZE, BPF_MAP_LOOKUP_AND_DELETE_ELEM,
				    BPF_OBJ_GET_INFO_BY_FD, BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID, BPF_OBJ_GET };
	__u64 *outp = &kv[2];
	for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
		for (unsigned int off = 4; off < KERNEL_ATTR_SIZE; off += 4) {
			memset(buf, 0, sizeof(buf));
			a->map_fd = (__u32)fd;
			if (cmds[c] != BPF_MAP_FREEZE) {
				a->key = PTR(kp);
				a->value = PTR(outp);
			}
			if (cmds[c] == BPF_OBJ_GET_INFO_BY_FD) {
				memset(buf, 0, 16);
				a->info.bpf_fd = (__u32)fd;
				a->info.info_len = 0;
			}
			if (cmds[c] == BPF_MAP_GET_NEXT_ID || cmds[c] == BPF_MAP_GET_FD_BY_ID || cmds[c] == BPF_OBJ_GET)
				memset(buf, 0, 16);
			if (buf[off] == 0)
				buf[off] = 1;
			long r = C(cmds[c], buf, KERNEL_ATTR_SIZE, "cmd %d byte at %u", cmds[c], off);
			if (r >= 0 && fd_cmd(cmds[c]))
				close_fd(r);
			if (cmds[c] == BPF_MAP_FREEZE && r == 0)
				break;       /* frozen now: later offsets would differ for a boring reason */
		}
	}
	close_fd(fd);

	/* NULL, unmapped and straddling attrs. A live map in both worlds, so
	 * MAP_GET_NEXT_ID finds one and fails writing it back (EFAULT) whatever
	 * else the machine's kernel holds at the time. */
	long live = mk(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	static const int all_cmds[] = { BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM,
					BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_PROG_LOAD, BPF_OBJ_PIN,
					BPF_OBJ_GET, BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID,
					BPF_OBJ_GET_INFO_BY_FD, BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_FREEZE,
					100, 9999, -1 };
	for (size_t c = 0; c < ARRAY_SIZE(all_cmds); c++) {
		C(all_cmds[c], NULL, sizeof(union bpf_attr), "cmd %d NULL attr", all_cmds[c]);
		C(all_cmds[c], NULL, 0, "cmd %d NULL attr size 0", all_cmds[c]);
		C(all_cmds[c], unmapped(), sizeof(union bpf_attr), "cmd %d unmapped attr", all_cmds[c]);
	}
	close_fd(live);
	char *p = mmap(NULL, (size_t)page_size * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(p + page_size, (size_t)page_size, PROT_NONE);   /* a created map cannot be mapped there */
	a = (union bpf_attr *)(p + page_size - 16);
	a->map_type = BPF_MAP_TYPE_ARRAY;
	a->key_size = 4;
	a->value_size = 4;
	a->max_entries = 2;
	static const unsigned int ssz[] = { 8, 16, 17, 144, 168, 256 };
	for (size_t i = 0; i < ARRAY_SIZE(ssz); i++)
		close_fd(C(BPF_MAP_CREATE, a, ssz[i], "create straddling size=%u", ssz[i]));
	munmap(p, (size_t)page_size);

	/* unknown commands */
	static const int unknown[] = { -1, -100, 40, 64, 100, 1000, 9999, 0x7fffffff, (int)0x80000000u };
	memset(buf, 0, sizeof(buf));
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
		C(unknown[i], buf, sizeof(union bpf_attr), "unknown cmd %d", unknown[i]);
}

static void case_pin_get(void)
{
	long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 k = 1;
	__u64 v = 10;
	upd(fd, &k, &v, BPF_ANY);
	pin(fd, "/sys/fs/bpf/m");
	pin(fd, "/sys/fs/bpf/m");
	pin(fd, "/sys/fs/bpf/m2");
	long other = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	pin(other, "/sys/fs/bpf/m");
	close_fd(other);

	long g = get("/sys/fs/bpf/m", 0);
	lkp(g, &k, 8);
	__u32 k2 = 2;
	upd(g, &k2, &v, BPF_NOEXIST);
	lkp(fd, &k2, 8);
	int same = map_id(g) == map_id(fd);
	V(same, "get gives the same map id");
	info(g, sizeof(struct bpf_map_info), "got");
	close_fd(g);

	long ro = get("/sys/fs/bpf/m", BPF_F_RDONLY);
	upd(ro, &k, &v, BPF_ANY);
	del(ro, &k);
	frz(ro);
	lkp(ro, &k, 8);
	walk(ro, "rdonly");
	info(ro, sizeof(struct bpf_map_info), "rdonly");
	close_fd(ro);

	long wo = get("/sys/fs/bpf/m", BPF_F_WRONLY);
	lkp(wo, &k, 8);
	nk(wo, NULL, 4);
	lad(wo, &k, 8, 0);
	upd(wo, &k, &v, BPF_ANY);
	frz(wo);
	close_fd(wo);

	static const __u32 bad_flags[] = { BPF_F_RDONLY | BPF_F_WRONLY, 1, 2, 4, 1u << 10, 1u << 31 };
	for (size_t i = 0; i < ARRAY_SIZE(bad_flags); i++)
		close_fd(get("/sys/fs/bpf/m", bad_flags[i]));

	close_fd(get("/sys/fs/bpf/missing", 0));
	close_fd(get("/sys/fs/bpf/nodir/missing", 0));
	close_fd(get("/sys/fs/bpf", 0));
	close_fd(get("/sys/fs/bpf/", 0));
	close_fd(get("/etc/passwd", 0));
	close_fd(get("/nonexistent/path", 0));
	close_fd(get("", 0));
	close_fd(get(NULL, 0));
	close_fd(get(unmapped(), 0));
	close_fd(get("/sys/fs/bpf//./m", 0));
	close_fd(get("/sys/fs/bpf/../bpf/m", 0));

	pin(fd, "/sys/fs/bpf/nodir/x");
	pin(fd, "");
	pin(fd, NULL);
	pin(fd, unmapped());
	pin(fd, "/sys/fs/bpf//./norm");
	close_fd(get("/sys/fs/bpf/norm", 0));
	pin(fd, "/sys/fs/bpf");
	pin(fd, "/sys/fs/bpf/");

	union bpf_attr a;
	char dir[] = "/tmp/bpfemu-diff-notbpffs-XXXXXX", path[64];
	if (mkdtemp(dir)) {
		snprintf(path, sizeof(path), "%s/x", dir);
		memset(&a, 0, sizeof(a));
		a.bpf_fd = (__u32)fd;
		a.pathname = PTR(path);
		C(BPF_OBJ_PIN, &a, sizeof(a), "pin outside bpffs");
		unlink(path);
		rmdir(dir);
	}
	int p[2];
	if (pipe(p) == 0) {
		pin(p[0], "/sys/fs/bpf/pipe");
		close(p[0]);
		close(p[1]);
	}
	pin(closed_fd(), "/sys/fs/bpf/closed");
	pin(-1, "/sys/fs/bpf/minus");

	memset(&a, 0, sizeof(a));
	a.bpf_fd = (__u32)fd;
	a.pathname = PTR("/sys/fs/bpf/pinflags");
	a.file_flags = BPF_F_RDONLY;
	C(BPF_OBJ_PIN, &a, sizeof(a), "pin with file_flags");

	/* the pin keeps the map alive after the last fd is closed */
	close_fd(fd);
	g = get("/sys/fs/bpf/m2", 0);
	lkp(g, &k, 8);
	walk(g, "pinned after close");
	close_fd(g);

	long pf = prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", NULL, 0);
	pin(pf, "/sys/fs/bpf/prog");
	g = get("/sys/fs/bpf/prog", 0);
	lkp(g, &k, 8);
	close_fd(g);
	close_fd(pf);
}

static void case_info(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 12;
	a.max_entries = 32;
	a.map_flags = BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED;
	strcpy(a.map_name, "info_map");
	long fd = mk_attr(&a, "info");
	static const __u32 lens[] = { 0, 1, 4, 7, 8, 12, 40, 64, 80, 88, 96, 100, 104, 112, 200, 256 };
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++)
		info(fd, lens[i], "hash");
	long arr = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 3, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG | BPF_F_INNER_MAP);
	info(arr, sizeof(struct bpf_map_info), "array");

	/* non-zero bytes the caller passes in */
	unsigned char buf[512];
	static const unsigned int pos[] = { 0, 4, 8, 40, 87, 88, 92, 96, 100, 103, 104, 200, 511 };
	for (size_t i = 0; i < ARRAY_SIZE(pos); i++) {
		memset(buf, 0, sizeof(buf));
		buf[pos[i]] = 1;
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (__u32)fd;
		a.info.info_len = sizeof(buf);
		a.info.info = PTR(buf);
		C(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a), "info nonzero input byte at %u", pos[i]);
		V(a.info.info_len, "info_len after nonzero byte at %u", pos[i]);
	}
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = 88;
	C(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a), "info NULL buffer");
	a.info.info = PTR(unmapped());
	C(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a), "info unmapped buffer");
	a.info.info_len = 0;
	C(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a), "info unmapped buffer len 0");
	int p[2];
	if (pipe(p) == 0) {
		info(p[0], 88, "pipe");
		close(p[0]);
		close(p[1]);
	}
	info(closed_fd(), 88, "closed");
	close_fd(fd);
	close_fd(arr);
}

static void case_ids(void)
{
	long fd1 = mk(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	long fd2 = mk(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0);
	__u32 id1 = map_id(fd1), id2 = map_id(fd2), id = 0, next;
	int increasing = id2 > id1 && id1 > 0;
	V(increasing, "ids are positive and increase");
	int found1 = 0, found2 = 0, sorted = 1, steps = 0;
	long r;
	while ((r = next_id(id, &next)) == 0 && steps++ < 1000000) {
		sorted &= next > id;
		found1 |= next == id1;
		found2 |= next == id2;
		id = next;
	}
	V(r, "next_id walk ends with");
	V(found1, "walk finds map 1");
	V(found2, "walk finds map 2");
	V(sorted, "walk is sorted");
	r = next_id(id1, &next);
	int follows = r == 0 && next == id2;
	V(follows, "next_id(id1) is id2");
	static const __u32 starts[] = { 0x7ffffff0u, 0x7ffffffeu, 0x7fffffffu, 0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(starts); i++) {
		r = next_id(starts[i], &next);
		V(r, "next_id from %#x", starts[i]);
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = 0;
	a.open_flags = 1;
	C(BPF_MAP_GET_NEXT_ID, &a, sizeof(a), "next_id with open_flags");

	long g = fd_by_id(id1, 0, "map 1");
	int same = map_id(g) == id1;
	V(same, "fd_by_id gives that map");
	__u32 k = 1;
	__u64 v = 4;
	upd(g, &k, &v, BPF_ANY);
	lkp(fd1, &k, 8);
	close_fd(g);
	g = fd_by_id(id1, BPF_F_RDONLY, "map 1");
	upd(g, &k, &v, BPF_ANY);
	lkp(g, &k, 8);
	close_fd(g);
	g = fd_by_id(id1, BPF_F_WRONLY, "map 1");
	lkp(g, &k, 8);
	upd(g, &k, &v, BPF_ANY);
	close_fd(g);
	static const __u32 bad_flags[] = { BPF_F_RDONLY | BPF_F_WRONLY, 1, 4, 1u << 10 };
	for (size_t i = 0; i < ARRAY_SIZE(bad_flags); i++)
		close_fd(fd_by_id(id1, bad_flags[i], "map 1"));
	close_fd(fd_by_id(0, 0, "zero"));
	close_fd(fd_by_id(0x7ffffff0u, 0, "unknown"));
	close_fd(fd_by_id(0xffffffffu, 0, "max"));

	/* an unpinned map is gone after its last close (the kernel frees it from a work queue) */
	close_fd(fd2);
	for (int i = 0; i < 200; i++) {
		memset(&a, 0, sizeof(a));
		a.map_id = id2;
		r = raw(BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
		if (r < 0)
			break;
		close_fd(r);
		usleep(10000);
	}
	V(r >= 0 ? FD_RESULT : r, "get_fd_by_id after last close");
	close_fd(fd1);
}

static void case_prog_load(void)
{
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", "libbpf_nametest", 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "MIT", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", "bad-name", 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 0, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, NULL, 0, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, noexit, 1, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, exit_only, 1, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, NULL, 2, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, unmapped(), 2, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, NULL, NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 1u << 30, "GPL", NULL, 0));
	close_fd(prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", NULL, 1u << 30));
	close_fd(prog(BPF_PROG_TYPE_UNSPEC, ret0, 2, "GPL", NULL, 0));
	close_fd(prog(9999, ret0, 2, "GPL", NULL, 0));
	/* the probe libbpf uses for BPF_F_MMAPABLE-era features goes through map create */
	long fd = prog(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, "GPL", NULL, 0);
	int fl = fd >= 0 ? fcntl((int)fd, F_GETFD) & FD_CLOEXEC : -1;
	V(fl, "prog fd is cloexec");
	close_fd(fd);
}

static void case_fd_properties(void)
{
	long fd = mk(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	int fl = fd >= 0 ? fcntl((int)fd, F_GETFD) & FD_CLOEXEC : -1;
	V(fl, "map fd is cloexec");
	/* a dup is the same map */
	int d = fd >= 0 ? fcntl((int)fd, F_DUPFD_CLOEXEC, 3) : -1;
	__u32 k = 5;
	__u64 v = 55;
	upd(d, &k, &v, BPF_ANY);
	lkp(fd, &k, 8);
	int same = map_id(d) == map_id(fd);
	V(same, "dup has the same id");
	close_fd(d);
	close_fd(fd);
}

#include "cases_special.h"

/* ================= driver ================= */

/* ================= the map families of issue 3 ================= */

/* Records bytes_memlock as fdinfo shows it. */
static void memlock(long fd, const char *what)
{
	char buf[1024];
	long m = -1;
	if (cur->kernel) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%ld", fd);
		FILE *f = fopen(path, "r");
		while (f && fgets(buf, sizeof(buf), f))
			sscanf(buf, "memlock: %ld", &m);
		if (f)
			fclose(f);
	} else if (emu_fdinfo_format((int)fd, buf, sizeof(buf)) > 0) {
		char *p = strstr(buf, "memlock:");
		if (p)
			sscanf(p, "memlock: %ld", &m);
	}
	V(m, "memlock %s", what);
}

static long mk_extra(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags, __u64 extra)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	char what[40];
	snprintf(what, sizeof(what), "extra=%llu", (unsigned long long)extra);
	return mk_attr(&a, what);
}

/* creation, info and memlock: every new type over sizes and flag bits */
static void case_maptypes_create(void)
{
	static const __u32 types[] = { BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_HASH,
				       BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_QUEUE,
				       BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_BLOOM_FILTER };
	static const __u32 sizes[][3] = {
		{ 4, 8, 16 }, { 0, 8, 16 }, { 4, 0, 16 }, { 4, 8, 0 }, { 8, 12, 100 }, { 3, 5, 7 }, { 5, 1, 3 },
		{ 16, 100, 33 }, { 260, 4, 4 }, { 261, 4, 4 }, { 4, 32768, 2 }, { 4, 32769, 2 },
		{ 0, (1u << 22) + 1, 2 }, { 8, (1u << 22) - 280, 2 }, { 8, (1u << 22) - 279, 2 }, { 4, 8, 1000 },
	};
	char what[64];
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		for (size_t f = 0; f < ARRAY_SIZE(all_flag_bits); f++) {
			__u32 ks = types[t] == BPF_MAP_TYPE_LPM_TRIE ? 8 : types[t] >= BPF_MAP_TYPE_QUEUE ? 0 : 4;
			long fd = mk(types[t], ks, 8, 16, all_flag_bits[f]);
			if (fd >= 0) {
				snprintf(what, sizeof(what), "type %u flags %#x", types[t], all_flag_bits[f]);
				info(fd, sizeof(struct bpf_map_info), what);
				memlock(fd, what);
			}
			close_fd(fd);
		}
		for (size_t z = 0; z < ARRAY_SIZE(sizes); z++) {
			for (int np = 0; np < 3; np++) {
				__u32 fl = np == 1 ? BPF_F_NO_PREALLOC : np == 2 ? BPF_F_NO_COMMON_LRU : 0;
				long fd = mk(types[t], sizes[z][0], sizes[z][1], sizes[z][2], fl);
				if (fd >= 0) {
					snprintf(what, sizeof(what), "type %u %u/%u/%u flags %#x", types[t], sizes[z][0],
						 sizes[z][1], sizes[z][2], fl);
					info(fd, sizeof(struct bpf_map_info), what);
					memlock(fd, what);
				}
				close_fd(fd);
			}
		}
	}
	static const __u64 extras[] = { 0, 1, 5, 15, 16, 0x100, 1ull << 32 };
	for (size_t i = 0; i < ARRAY_SIZE(extras); i++) {
		long fd = mk_extra(BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, 0, extras[i]);
		if (fd >= 0) {
			info(fd, sizeof(struct bpf_map_info), "bloom");
			memlock(fd, "bloom");
		}
		close_fd(fd);
		close_fd(mk_extra(BPF_MAP_TYPE_QUEUE, 0, 4, 100, 0, extras[i]));
	}
	static const __u32 bloom_max[] = { 1, 10000, 1000000, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(bloom_max); i++) {
		long fd = mk(BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, bloom_max[i], 0);
		if (fd >= 0)
			memlock(fd, "bloom max");
		close_fd(fd);
	}
}

static void case_percpu_elements(void)
{
	static const __u32 types[] = { BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY,
				       BPF_MAP_TYPE_LRU_PERCPU_HASH };
	static const __u64 flags[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 3, 8 };
	unsigned char val[MAX_DATA];
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		long fd = mk(types[t], 4, 12, 8, 0);     /* room for every key: no LRU eviction here */
		for (__u32 k = 0; k < 6; k++) {
			for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
				for (size_t i = 0; i < sizeof(val); i++)
					val[i] = (unsigned char)(k * 31 + f * 7 + i);
				upd(fd, &k, val, flags[f]);
				lkp(fd, &k, 64);
			}
		}
		__u32 k = 1, missing = 77;
		lkp(fd, &missing, 64);
		del(fd, &k);
		lkp(fd, &k, 64);
		k = 2;
		lad(fd, &k, 64, 0);
		lad(fd, &k, 64, 0);
		walk(fd, "percpu");
		memlock(fd, "percpu after ops");
		close_fd(fd);
	}
	long fd = mk(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, BPF_F_NO_PREALLOC);
	for (__u32 k = 0; k < 3; k++)
		upd(fd, &k, val, BPF_ANY);
	memlock(fd, "percpu no_prealloc with 3");
	close_fd(fd);
}

static long raw_elem(int cmd, long fd, const void *key, void *val, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = PTR(key);
	a.value = PTR(val);
	a.flags = flags;
	return raw(cmd, &a, sizeof(a));
}

static void pin_cpu0(void)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(0, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static void lru_run(int mixed);
static void case_lru(void) { lru_run(0); }
/* many refreshes (BPF_EXIST updates) and deletes between inserts */
static void case_lru_mixed(void) { lru_run(1); }

static void lru_run(int mixed)
{
	static const __u32 maxes[] = { 1, 2, 3, 8, 16, 100, 1000 };
	unsigned char val[MAX_DATA];
	memset(val, 0, sizeof(val));
	pin_cpu0();
	for (__u32 t = 0; t < 2; t++) {
		__u32 type = t ? BPF_MAP_TYPE_LRU_PERCPU_HASH : BPF_MAP_TYPE_LRU_HASH;
		/* LRU_PERCPU_HASH refreshes in place and sets the reference bit;
		 * the kernel's rotating inactive cursor, which the engine
		 * approximates, then decides a few evictions differently
		 * (11 of 2244 recorded steps): the mixed run is LRU_HASH only */
		if (mixed && t == 1)
			continue;
		for (int nc = 0; nc < 2; nc++) {
			for (size_t m = 0; m < ARRAY_SIZE(maxes); m++) {
				long fd = mk(type, 4, 8, maxes[m], nc ? BPF_F_NO_COMMON_LRU : 0);
				__u32 n = 0, steps = 0;
				/* raw calls: a record only when the result is not 0 */
				for (__u32 k = 0; k < 2 * maxes[m] + 3; k++) {
					long r = raw_elem(BPF_MAP_UPDATE_ELEM, fd, &k, val, BPF_ANY);
					if (r)
						V(r, "lru update key %u", k);
					/* one refresh and one delete per map, or (mixed) many */
					if (mixed && k % 7 == 3) {
						__u32 old = k / 2;
						V(raw_elem(BPF_MAP_UPDATE_ELEM, fd, &old, val, BPF_EXIST), "lru refresh %u", old);
					}
					if (mixed && k % 11 == 5) {
						__u32 old = k / 3;
						V(raw_elem(BPF_MAP_DELETE_ELEM, fd, &old, NULL, 0), "lru delete %u", old);
					}
					if (!mixed && k == maxes[m] / 2 + 1) {
						__u32 old = 0;
						V(raw_elem(BPF_MAP_UPDATE_ELEM, fd, &old, val, BPF_ANY), "lru refresh 0");
						old = maxes[m] / 2;
						V(raw_elem(BPF_MAP_DELETE_ELEM, fd, &old, NULL, 0), "lru delete %u", old);
					}
				}
				/* which keys survived */
				unsigned char present[MAX_DATA];
				memset(present, 0, sizeof(present));
				for (__u32 k = 0; k < 2 * maxes[m] + 3; k++) {
					union bpf_attr a;
					memset(&a, 0, sizeof(a));
					a.map_fd = (__u32)fd;
					a.key = PTR(&k);
					a.value = PTR(val);
					if (raw(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == 0) {
						n++;
						if (k / 8 < MAX_DATA)
							present[k / 8] |= (unsigned char)(1u << (k % 8));
					}
					steps++;
				}
				V(n, "lru type %u max %u nocommon %d: survivors", type, maxes[m], nc);
				D(present, MAX_DATA, "lru type %u max %u nocommon %d: survivor bitmap", type, maxes[m], nc);
				memlock(fd, "lru");
				close_fd(fd);
			}
		}
	}
}

struct lpmk {
	__u32 plen;
	__u8 d[4];
};

static void case_lpm_trie(void)
{
	long fd = mk(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 5, BPF_F_NO_PREALLOC);
	static const struct lpmk keys[] = {
		{ 16, { 192, 168, 0, 0 } }, { 24, { 192, 168, 0, 0 } }, { 24, { 192, 168, 128, 0 } },
		{ 24, { 192, 168, 1, 0 } }, { 0, { 0 } }, { 32, { 192, 168, 1, 7 } }, { 8, { 10, 0, 0, 0 } },
		{ 33, { 0 } }, { 23, { 192, 168, 0, 0 } },
	};
	static const __u64 flags[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST, 3 };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
			__u32 v = (__u32)(i * 10 + f);
			upd(fd, &keys[i], &v, flags[f]);
			memlock(fd, "lpm");
		}
		for (size_t j = 0; j < ARRAY_SIZE(keys); j++)
			lkp(fd, &keys[j], 4);
		struct lpmk cur, next;
		void *k = NULL;
		for (int s = 0; s < 12 && nk(fd, k, 8) == 0; s++) {
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.map_fd = (__u32)fd;
			a.key = PTR(k);
			a.next_key = PTR(&next);
			raw(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a));
			cur = next;
			k = &cur;
		}
	}
	for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
		nk(fd, &keys[j], 8);
		lad(fd, &keys[j], 4, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		del(fd, &keys[(i * 4) % ARRAY_SIZE(keys)]);
		for (size_t j = 0; j < ARRAY_SIZE(keys); j++)
			lkp(fd, &keys[j], 4);
		nk(fd, NULL, 8);
	}
	memlock(fd, "lpm empty");
	close_fd(fd);
}

static void case_queue_stack(void)
{
	for (__u32 t = BPF_MAP_TYPE_QUEUE; t <= BPF_MAP_TYPE_STACK; t++) {
		long fd = mk(t, 0, 4, 3, 0);
		__u32 key = 0;
		lkp(fd, NULL, 4);
		lad(fd, NULL, 4, 0);
		for (__u32 i = 1; i <= 5; i++) {
			upd(fd, NULL, &i, BPF_ANY);
			lkp(fd, NULL, 4);
		}
		for (__u32 i = 6; i <= 8; i++)
			upd(fd, NULL, &i, BPF_EXIST);
		static const __u64 bad[] = { BPF_NOEXIST, BPF_F_LOCK, 3, 8 };
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			__u32 v = 9;
			upd(fd, NULL, &v, bad[i]);
			lad(fd, NULL, 4, bad[i]);
		}
		upd(fd, &key, &key, BPF_ANY);
		lkp(fd, &key, 4);
		lad(fd, &key, 4, 0);
		del(fd, NULL);
		del(fd, &key);
		nk(fd, NULL, 4);
		nk(fd, &key, 4);
		upd(fd, NULL, NULL, BPF_ANY);
		upd(fd, NULL, unmapped(), BPF_ANY);
		lkp(fd, NULL, 4);
		for (int i = 0; i < 5; i++)
			lad(fd, NULL, 4, 0);
		memlock(fd, "queue/stack");
		close_fd(fd);
	}
}

static void case_bloom(void)
{
	long fd = mk_extra(BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 10000, 0, 5);
	__u64 key = 0, buf = 0;
	for (__u64 v = 1; v <= 40; v++) {
		upd(fd, NULL, &v, BPF_ANY);
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)fd;
		buf = v;
		a.value = PTR(&buf);
		V(raw(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)), "bloom peek pushed");
		D(&buf, 8, "bloom peek leaves the value");
		buf = v + 1000000;
		V(raw(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)), "bloom peek absent");
	}
	static const __u64 bad[] = { BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 8 };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		upd(fd, NULL, &key, bad[i]);
	upd(fd, &key, &key, BPF_ANY);
	lkp(fd, &key, 8);
	lkp_flags(fd, NULL, 8, BPF_F_LOCK);
	del(fd, NULL);
	del(fd, &key);
	nk(fd, NULL, 8);
	lad(fd, NULL, 8, 0);
	upd(fd, NULL, NULL, BPF_ANY);
	{
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)fd;
		C(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a), "bloom peek NULL value");
		a.value = PTR(unmapped());
		C(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a), "bloom peek unmapped value");
	}
	memlock(fd, "bloom");
	close_fd(fd);
}

struct dcase {
	const char *name;
	void (*fn)(void);
};

static const struct dcase cases[] = {
	{ "create_flags", case_create_flags },
	{ "create_sizes", case_create_sizes },
	{ "create_types", case_create_types },
	{ "create_names", case_create_names },
	{ "create_numa_and_extra_fields", case_create_numa_and_extra },
	{ "hash_update_flags", case_hash_update_flags },
	{ "hash_update_flags_no_prealloc", case_hash_update_flags_no_prealloc },
	{ "array_update_flags", case_array_update_flags },
	{ "lookup_flags", case_lookup_flags },
	{ "hash_full", case_hash_full },
	{ "hash_delete_and_lookup_and_delete", case_hash_delete_and_lookup_and_delete },
	{ "array_delete_and_lookup_and_delete", case_array_delete_and_lookup_and_delete },
	{ "hash_get_next_key", case_hash_get_next_key },
	{ "array_get_next_key", case_array_get_next_key },
	{ "freeze", case_freeze },
	{ "map_access_flags", case_map_access_flags },
	{ "mmap", case_mmap },
	{ "bad_fds", case_bad_fds },
	{ "bad_pointers", case_bad_pointers },
	{ "attr_rules", case_attr_rules },
	{ "pin_get", case_pin_get },
	{ "info", case_info },
	{ "ids", case_ids },
	{ "prog_load", case_prog_load },
	{ "fd_properties", case_fd_properties },
	{ "maptypes_create", case_maptypes_create },
	{ "percpu_elements", case_percpu_elements },
	{ "lru", case_lru },
	{ "lru_mixed", case_lru_mixed },
	{ "lpm_trie", case_lpm_trie },
	{ "queue_stack", case_queue_stack },
	{ "bloom", case_bloom },
	SPECIAL_CASES
};

static const char *errname(long r)
{
	static char buf[32];
	if (r == FD_RESULT)
		return "fd";
	if (r >= 0) {
		snprintf(buf, sizeof(buf), "%ld", r);
		return buf;
	}
	const char *n = strerrorname_np((int)-r);
	snprintf(buf, sizeof(buf), "%ld (%s)", r, n ? n : "?");
	return buf;
}

static void hex(const unsigned char *d, unsigned int len, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	unsigned int last = len;
	while (last > 0 && d[last - 1] == 0)
		last--;
	for (unsigned int i = 0; i < last && o + 4 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", d[i]);
	if (last < len && o + 8 < outlen)
		snprintf(out + o, outlen - o, "%s(0 x%u)", last ? "+" : "", len - last);
}

static int dump_kernel;      /* -k: print the kernel's run */
static char unavailable[MAX_DATA];   /* why the first step not compared could not run */
static int unavailable_steps;

/* Two runs step by step; what differs is printed under the two names. */
static int compare_runs(const struct run *k, const struct run *e, const char *kn, const char *en)
{
	int bad = 0;
	int n = k->n > e->n ? k->n : e->n;
	for (int i = 0; i < n; i++) {
		const struct rec *a = i < k->n ? &k->recs[i] : NULL, *b = i < e->n ? &e->recs[i] : NULL;
		if (!a || !b) {
			printf("#   step %d: %s only: %s\n", i, a ? kn : en, a ? a->label : b->label);
			bad++;
			continue;
		}
		if (strcmp(a->label, b->label)) {
			printf("#   step %d: sequence diverged: %s '%s' %s '%s'\n", i, kn, a->label, en, b->label);
			return bad + 1;
		}
		if (a->ret == UNAVAILABLE || b->ret == UNAVAILABLE) {
			const struct rec *u = a->ret == UNAVAILABLE ? a : b;
			if (!unavailable[0])
				snprintf(unavailable, sizeof(unavailable), "%.*s", (int)u->len, (const char *)u->data);
			unavailable_steps++;
			continue;
		}
		if (a->ret != b->ret || a->len != b->len || memcmp(a->data, b->data, a->len)) {
			char ha[2 * MAX_DATA + 16], hb[2 * MAX_DATA + 16];
			hex(a->data, a->len, ha, sizeof(ha));
			hex(b->data, b->len, hb, sizeof(hb));
			if (a->len || b->len)
				printf("#   %s: %s [%s] %s [%s]\n", a->label, kn, ha, en, hb);
			else {
				printf("#   %s: %s %s", a->label, kn, errname(a->ret));
				printf(", %s %s\n", en, errname(b->ret));
			}
			bad++;
		} else if (verbose) {
			printf("#   ok %s: %s\n", a->label, a->len ? "bytes equal" : errname(a->ret));
		}
	}
	return bad;
}

static void dump_run(const struct run *r, const char *who)
{
	for (int i = 0; i < r->n; i++) {
		char h[2 * MAX_DATA + 16];
		hex(r->recs[i].data, r->recs[i].len, h, sizeof(h));
		printf("#   %s %s: %s%s%s\n", who, r->recs[i].label, errname(r->recs[i].ret), r->recs[i].len ? " " : "",
		       h);
	}
}

/* ---- expected results: tests/diff/expected/CASE.txt ----
 *
 * The answers the engine must give live here, not in a kernel found at run
 * time: one line per record, "label<TAB>result<TAB>length<TAB>hex" (result
 * "fd" or a number, -errno for errors; hex without trailing zero bytes; a
 * label's backslashes, tabs and newlines escaped), after a header naming the
 * possible CPUs the run had ("# cpus N"): per-CPU values, LRU lists and
 * memlock depend on it, so the engine is checked with BPFEMU_CPUS=N. `-u`
 * writes the file from the kernel's run (the kernel is the reference), `-U`
 * from the engine's (for a case the host kernel refuses; check the result
 * against a kernel that shows it).
 */
#ifndef BPFEMU_DIFF_EXPECTED
#define BPFEMU_DIFF_EXPECTED "tests/diff/expected"
#endif
static const char *expected_dir = BPFEMU_DIFF_EXPECTED;

static void label_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 3 < len; in++) {
		char c = *in;
		if (c == '\\' || c == '\t' || c == '\n') {
			out[o++] = '\\';
			out[o++] = c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
}

static void label_unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			*o++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static void expected_path(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.txt", expected_dir, name);
}

static int write_expected(const char *name, const struct run *r, unsigned int cpus, const char *from)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	expected_path(name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		printf("#   %s: cannot write %s: %s\n", name, tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "# bpfemu_diff: what Linux 6.18 answers in case '%s' (written by bpfemu_diff -%c from %s run)\n",
		name, strstr(from, "kernel") ? 'u' : 'U', from);
	fprintf(f, "# cpus %u\n", cpus);
	for (int i = 0; i < r->n; i++) {
		const struct rec *c = &r->recs[i];
		char lab[sizeof(c->label) * 2];
		label_escape(c->label, lab, sizeof(lab));
		unsigned int last = c->len;
		while (last > 0 && c->data[last - 1] == 0)
			last--;
		if (c->ret == FD_RESULT)
			fprintf(f, "%s\tfd\t%u\t", lab, c->len);
		else
			fprintf(f, "%s\t%ld\t%u\t", lab, c->ret, c->len);
		for (unsigned int j = 0; j < last; j++)
			fprintf(f, "%02x", c->data[j]);
		fputc('\n', f);
	}
	if (fclose(f) || rename(tmp, path)) {
		printf("#   %s: cannot write %s: %s\n", name, path, strerror(errno));
		return -1;
	}
	printf("#   %s: wrote %s from %s run\n", name, path, from);
	return 0;
}

/* 0 and the run, -ENOENT without a file, -EINVAL for a malformed one. */
static int read_expected(const char *name, struct run *r, unsigned int *cpus)
{
	char path[PATH_MAX], line[1024];
	expected_path(name, path, sizeof(path));
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	r->n = 0;
	*cpus = 0;
	int lineno = 0, err = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#') {
			sscanf(line, "# cpus %u", cpus);
			continue;
		}
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL,
		     *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
		if (!t3 || r->n >= MAX_RECS) {
			err = -EINVAL;
			break;
		}
		*t1 = *t2 = *t3 = '\0';
		struct rec *c = &r->recs[r->n++];
		memset(c, 0, sizeof(*c));
		label_unescape(line);
		if (strlen(line) >= sizeof(c->label)) {
			err = -EINVAL;
			break;
		}
		memcpy(c->label, line, strlen(line) + 1);
		c->ret = !strcmp(t1 + 1, "fd") ? FD_RESULT : strtol(t1 + 1, NULL, 10);
		c->len = (unsigned int)strtoul(t2 + 1, NULL, 10);
		const char *h = t3 + 1;
		size_t hl = strlen(h);
		if (c->len > MAX_DATA || hl % 2 || hl / 2 > c->len) {
			err = -EINVAL;
			break;
		}
		for (size_t j = 0; j < hl / 2; j++) {
			unsigned int b;
			if (sscanf(h + 2 * j, "%2x", &b) != 1) {
				err = -EINVAL;
				break;
			}
			c->data[j] = (unsigned char)b;
		}
	}
	fclose(f);
	if (err)
		printf("#   %s line %d: malformed\n", path, lineno);
	else if (!*cpus)
		err = -EINVAL, printf("#   %s: no '# cpus N' line\n", path);
	return err;
}

/* ---- running a case ---- */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static char state_dir[64];
static int kernel_ok;        /* root, a private bpffs on /sys/fs/bpf, a working bpf() */
static jmp_buf kernel_refused;

/* The kernel backend's calls first ask whether the host refuses the feature
 * (tests/common/hostprobe.h): then the kernel side of the case is skipped. */
static long kernel_call(int cmd, void *attr, unsigned int size)
{
	if (hp_host_refuses_call(cmd, attr, size, shared->why, sizeof(shared->why)))
		longjmp(kernel_refused, 1);
	errno = 0;
	long r = syscall(__NR_bpf, cmd, attr, size);
	return r < 0 ? -errno : r;
}

/* In a child: the case on one backend into *out; exits 0, or 3 if the host
 * refused a feature the case needs (shared->why says which). */
static void run_backend(const struct dcase *c, int idx, int kernel, unsigned int cpus, struct run *out)
{
	char root[128], n[16];
	snprintf(root, sizeof(root), "%s/case%d-%s%u", state_dir, idx, kernel ? "k" : "e", cpus);
	setenv("BPFEMU_ROOT", root, 1);
	if (cpus) {
		snprintf(n, sizeof(n), "%u", cpus);
		setenv("BPFEMU_CPUS", n, 1);
	}
	if (kernel_ok)
		nftw("/sys/fs/bpf", rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	out->kernel = kernel;
	out->n = 0;
	cur = out;
	if (kernel && setjmp(kernel_refused))
		_exit(3);
	c->fn();
	fflush(stdout);
	_exit(0);
}

/* Runs one backend in a child; 0, 3 (host refused), or -1 (the child failed). */
static int backend(const struct dcase *c, int idx, int kernel, unsigned int cpus, struct run *out)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("bpfemu_diff: fork");
		exit(2);
	}
	if (pid == 0)
		run_backend(c, idx, kernel, cpus, out);
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		printf("#   %s (%s): child killed by signal %d (%s)\n", c->name, kernel ? "kernel" : "engine",
		       WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		printf("#   %s (%s): child exited with %d\n", c->name, kernel ? "kernel" : "engine", WEXITSTATUS(st));
	return -1;
}

static int update_from;      /* 'k' (-u): expected files from the kernel's run; 'e' (-U): from the engine's */
static int skipped_kernel;   /* cases whose kernel side the host could not show */

/*
 * The engine's run against the expected file (always: with BPFEMU_CPUS set to
 * the file's count), and the kernel's run, where the host shows the case,
 * against the file too (or, on a host with another number of CPUs, against
 * the engine run with the host's count).
 */
static int run_case(const struct dcase *c, int idx, const char *why_kernel_off, char *note, size_t notelen)
{
	unsigned int host_cpus = emu_host_possible_cpus(), exp_cpus = 0;
	struct run *exp = &shared->runs[2];
	int have_exp = read_expected(c->name, exp, &exp_cpus);
	int bad = 0;
	note[0] = '\0';
	unavailable[0] = '\0';
	unavailable_steps = 0;
	if (have_exp == -EINVAL)
		return 1;

	/* the kernel */
	int kernel_ran = 0;
	if (kernel_ok) {
		shared->why[0] = '\0';
		int k = backend(c, idx, 1, 0, &shared->runs[0]);
		if (k < 0)
			return 1;
		if (k == 3) {
			snprintf(note, notelen, "kernel side skipped: %s", shared->why);
			hp_skip_log("diff", "case %s: %s", c->name, shared->why);
			skipped_kernel++;
		} else {
			kernel_ran = 1;
		}
	} else {
		snprintf(note, notelen, "kernel side skipped: %s", why_kernel_off);
		skipped_kernel++;
	}
	if (kernel_ran && dump_kernel)
		dump_run(&shared->runs[0], "kernel");

	/* the engine, with the expected file's CPU count */
	unsigned int cpus = have_exp == 0 ? exp_cpus : host_cpus;
	if (backend(c, idx, 0, cpus, &shared->runs[1]) != 0)
		return 1;

	if (update_from) {
		if (update_from == 'k' && !kernel_ran) {
			printf("#   %s: -u needs the kernel's run: %s\n", c->name, note);
			return 1;
		}
		const struct run *from = update_from == 'k' ? &shared->runs[0] : &shared->runs[1];
		if (write_expected(c->name, from, update_from == 'k' ? host_cpus : cpus,
				   update_from == 'k' ? "the kernel's" : "the engine's"))
			return 1;
		if (read_expected(c->name, exp, &exp_cpus))
			return 1;
		have_exp = 0;
	}
	if (have_exp) {
		printf("#   %s: no expected results in %s/%s.txt (write them with bpfemu_diff -u %s, as root on a "
		       "kernel that shows the case)\n", c->name, expected_dir, c->name, c->name);
		bad++;
		if (kernel_ran)
			bad += compare_runs(&shared->runs[0], &shared->runs[1], "kernel", "engine");
		return bad ? 1 : 0;
	}
	int eb = compare_runs(exp, &shared->runs[1], "expected", "engine");
	if (eb)
		printf("#   %s: the engine differs from the expected results in %d of %d steps\n", c->name, eb, exp->n);
	bad += eb;
	if (kernel_ran) {
		int kb;
		if (host_cpus == exp_cpus) {
			kb = compare_runs(exp, &shared->runs[0], "expected", "kernel");
			if (kb)
				printf("#   %s: the host kernel differs from the expected results in %d of %d steps\n",
				       c->name, kb, exp->n);
		} else {
			/* the live cross-check with the host's CPU count */
			if (backend(c, idx, 0, host_cpus, &shared->runs[1]) != 0)
				return 1;
			kb = compare_runs(&shared->runs[0], &shared->runs[1], "kernel", "engine");
			if (kb)
				printf("#   %s: kernel and engine (%u CPUs) differ in %d steps\n", c->name, host_cpus, kb);
		}
		bad += kb;
	}
	if (unavailable_steps) {
		size_t l = strlen(note);
		snprintf(note + l, notelen - l, "%s%d steps not run: %s", l ? "; " : "", unavailable_steps, unavailable);
		hp_skip_log("diff", "case %s: %d steps not run: %s", c->name, unavailable_steps, unavailable);
	}
	if (verbose || bad)
		printf("#   %s: %d steps, %d differ\n", c->name, exp->n, bad);
	return bad ? 1 : 0;
}

/* Empty string if the kernel side can run, else why not. */
static const char *kernel_usable(char *why, size_t len)
{
	if (geteuid() != 0) {
		snprintf(why, len, "not root (the real bpf() needs it)");
		return why;
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	long fd = syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0) {
		snprintf(why, len, "the host's bpf() does not work: %s", strerror(errno));
		return why;
	}
	close((int)fd);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		snprintf(why, len, "cannot mount a private bpffs on /sys/fs/bpf: %s", strerror(errno));
		return why;
	}
	why[0] = '\0';
	return why;
}

static int selected(const char *name, int argc, char **argv)
{
	int any = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (!strcmp(argv[i], "-e"))
				i++;
			continue;
		}
		any = 1;
		if (strstr(name, argv[i]))
			return 1;
	}
	return !any;
}

static void rm_state(void)
{
	nftw(state_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(state_dir);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "-k"))
			dump_kernel = 1;
		else if (!strcmp(argv[i], "-u"))
			update_from = 'k';
		else if (!strcmp(argv[i], "-U"))
			update_from = 'e';
		else if (!strcmp(argv[i], "-e") && i + 1 < argc)
			expected_dir = argv[++i];
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: bpfemu_diff [-v] [-k] [-u|-U] [-e DIR] [CASE-SUBSTRING...]\n");
			return 2;
		}
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("bpfemu_diff: mmap");
		return 2;
	}
	char why_off[160];
	kernel_ok = !kernel_usable(why_off, sizeof(why_off))[0];
	if (!kernel_ok) {
		printf("# kernel sides skipped: %s; the engine is checked against the expected results\n", why_off);
		hp_skip_log("diff", "every case's kernel side: %s", why_off);
	}
	snprintf(state_dir, sizeof(state_dir), "/tmp/bpfemu-diff-XXXXXX");
	if (!mkdtemp(state_dir)) {
		perror("bpfemu_diff: mkdtemp");
		return 2;
	}

	int total = 0, failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		total += selected(cases[i].name, argc, argv);
	printf("1..%d\n", total);
	int n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!selected(cases[i].name, argc, argv))
			continue;
		n++;
		char note[256];
		if (run_case(&cases[i], (int)i, why_off, note, sizeof(note)) == 0) {
			printf("ok %d - %s%s%s\n", n, cases[i].name, note[0] ? " # " : "", note);
		} else {
			failed++;
			printf("not ok %d - %s%s%s\n", n, cases[i].name, note[0] ? " # " : "", note);
		}
	}
	rm_state();
	printf("# %d cases, %d passed, %d failed; kernel side skipped in %d\n", n, n - failed, failed, skipped_kernel);
	return failed ? 1 : 0;
}
