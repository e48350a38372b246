/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/bt.h: shared helpers for the Criterion unit tests.
 *
 * Every test file is built twice: against the engine (bpfemu_bpf) and, with
 * BPFEMU_TEST_KERNEL defined, against the real bpf() syscall. The kernel build
 * is how the expectations were found and keeps them honest: the same test
 * must pass on both. Kernel builds need root; without it every test skips.
 *
 * Helpers return >= 0 or -errno, so tests compare errno as values:
 *     cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_NOEXIST), -EEXIST));
 */
#ifndef BPFEMU_TESTS_BT_H
#define BPFEMU_TESTS_BT_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include "btf_blob.h"

#ifndef BPFEMU_TEST_KERNEL
#include <bpfemu/bpfemu.h>
#include "emu.h"
#else
#include "hostprobe.h"
#endif

#include <signal.h>
#include <sys/prctl.h>

/* fork() for a child that loops until the test kills it: the child dies with
 * the test process too (a failed assertion ends the parent, and a child left
 * looping would spin forever as an orphan). */
static inline pid_t bt_fork(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	/* never return -1: a caller's kill(pid, SIGKILL) would signal every
	 * process it may (as root: all of them) */
	cr_assert(ge(i32, pid, 0), "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
	}
	return pid;
}

#define BT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BT_PTR(p) ((__u64)(uintptr_t)(p))
#define BT_ATTR_END(field) (offsetof(union bpf_attr, field) + sizeof(((union bpf_attr *)0)->field))

/*
 * Kernel builds skip a test whose kernel side the host cannot show: no root,
 * no private bpffs, no working bpf(), or a map or program type the host
 * refuses (tests/common/hostprobe.h). The reason is one line, in Criterion's
 * output and in $BPFEMU_SKIP_LOG for tools/check's summary. The engine build
 * of the same test still asserts every expectation.
 */
#define bt_skip(...)                                                                                   \
	do {                                                                                           \
		char bt_why_[256];                                                                     \
		snprintf(bt_why_, sizeof(bt_why_), __VA_ARGS__);                                       \
		bt_skip_log_(bt_why_);                                                                 \
		cr_skip_test("skipped: %s", bt_why_);                                                  \
	} while (0)

#ifdef BPFEMU_TEST_KERNEL
static inline void bt_skip_log_(const char *why)
{
	char who[256], exe[128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);   /* workers are "boxfort-worker" */
	exe[n > 0 ? n : 0] = '\0';
	const char *base = strrchr(exe, '/');
	snprintf(who, sizeof(who), "%s %s::%s", base ? base + 1 : exe,
		 criterion_current_suite ? criterion_current_suite->name : "?",
		 criterion_current_test ? criterion_current_test->name : "?");
	hp_skip_log(who, "%s", why);
}
#else
static inline void bt_skip_log_(const char *why) { (void)why; }
#endif

/* Kernel builds: skip unless the host shows a feature that a probe of
 * tests/common/hostprobe.h asks about (hp_host_refuses_xdp_meta, ...).
 * Engine builds always go on. */
#ifdef BPFEMU_TEST_KERNEL
#define bt_need(probe)                                                                                 \
	do {                                                                                           \
		char bt_need_why_[200];                                                                \
		if (probe(bt_need_why_, sizeof(bt_need_why_)))                                         \
			bt_skip("%s", bt_need_why_);                                                   \
	} while (0)
#else
#define bt_need(probe) ((void)0)
#endif

/* The raw call: what syscall(__NR_bpf, ...) returns, -1 and errno included. */
static inline long bt_sys(int cmd, void *attr, unsigned int size)
{
#ifdef BPFEMU_TEST_KERNEL
	char why[160];
	if (hp_host_refuses_call(cmd, attr, size, why, sizeof(why)))
		bt_skip("%s", why);
	return syscall(__NR_bpf, cmd, attr, size);
#else
	return bpfemu_bpf(cmd, attr, size);
#endif
}

/* The same call with the result as >= 0 or -errno. */
static inline long bt_bpf(int cmd, void *attr, unsigned int size)
{
	errno = 0;
	long r = bt_sys(cmd, attr, size);
	return r < 0 ? -errno : r;
}

/* BPF_BTF_LOAD of the blob these types and strings make (sizes in bytes);
 * the test fails when the load does. */
static inline int bt_btf_load(const __u32 *types, __u32 types_len, const char *strs, __u32 strs_len)
{
	struct test_btf b;
	union bpf_attr a;
	test_btf_make(&b, types, types_len, strs, strs_len);
	test_btf_attr(&a, &b);
	long fd = bt_bpf(BPF_BTF_LOAD, &a, sizeof(a));
	cr_assert(ge(i64, fd, 0), "BTF_LOAD: %s", strerror((int)-fd));
	return (int)fd;
}

static char bt_root[64];

static int bt_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* .fini: remove the engine's state root (the process ends right after). */
static inline void bt_teardown(void)
{
	if (bt_root[0])
		nftw(bt_root, bt_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * .init: engine builds point BPFEMU_ROOT at a fresh directory before the
 * first engine call; kernel builds get a private bpffs on /sys/fs/bpf.
 */
static inline void bt_setup(void)
{
#ifdef BPFEMU_TEST_KERNEL
	if (geteuid() != 0)
		bt_skip("the kernel build of the unit tests needs root");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		bt_skip("cannot mount a private bpffs: %s", strerror(errno));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	long fd = syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0)
		bt_skip("the host's bpf() does not work: %s", strerror(errno));
	close((int)fd);
#else
	snprintf(bt_root, sizeof(bt_root), "/tmp/bpfemu-unit-XXXXXX");
	cr_assert(ne(ptr, mkdtemp(bt_root), NULL), "mkdtemp: %s", strerror(errno));
	setenv("BPFEMU_ROOT", bt_root, 1);
#endif
}

static inline void bt_close(int fd)
{
	close(fd);
#ifndef BPFEMU_TEST_KERNEL
	bpfemu_forget_fd(fd);
#endif
}

/* mmap of a map fd: the kernel directly, the engine through emu_mmap_check()
 * (which the shim would call) because no shim runs in unit tests. */
static inline void *bt_mmap(int fd, size_t len, int prot, int flags)
{
#ifdef BPFEMU_TEST_KERNEL
	return mmap(NULL, len, prot, flags, fd, 0);
#else
	off_t off = 0;
	int r = emu_mmap_check(fd, len, prot, flags, 0, &off);
	if (r < 0) {
		errno = -r;
		return MAP_FAILED;
	}
	return mmap(NULL, len, prot, flags, fd, r == 0 ? off : 0);
#endif
}

static inline long bt_map_create_attr(union bpf_attr *a)
{
	return bt_bpf(BPF_MAP_CREATE, a, sizeof(*a));
}

static inline long bt_map_create(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	return bt_map_create_attr(&a);
}

/* The number of possible CPUs, as libbpf's libbpf_num_possible_cpus() reads
 * it: a per-CPU value from user space is this many slots. */
static inline unsigned int bt_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned int a = 0, b = 0, n = 0;
	cr_assert(ne(ptr, f, NULL));
	char buf[256];
	cr_assert(ne(ptr, fgets(buf, sizeof(buf), f), NULL));
	fclose(f);
	for (char *save, *t = strtok_r(buf, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
		n += sscanf(t, "%u-%u", &a, &b) == 2 ? b - a + 1 : 1;
	return n;
}

/* Creates a map or fails the test. */
static inline int bt_map_new(__u32 type, __u32 ks, __u32 vs, __u32 max, __u32 flags)
{
	long fd = bt_map_create(type, ks, vs, max, flags);
	cr_assert(ge(i64, fd, 0), "map create (type %u, %u/%u/%u, flags %#x) failed: %s", type, ks, vs,
		  max, flags, strerror((int)-fd));
	return (int)fd;
}

static inline long bt_elem(int cmd, int fd, const void *key, const void *val, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = BT_PTR(key);
	a.value = BT_PTR(val);
	a.flags = flags;
	return bt_bpf(cmd, &a, sizeof(a));
}

static inline long bt_lookup(int fd, const void *key, void *val)
{
	return bt_elem(BPF_MAP_LOOKUP_ELEM, fd, key, val, 0);
}

static inline long bt_update(int fd, const void *key, const void *val, __u64 flags)
{
	return bt_elem(BPF_MAP_UPDATE_ELEM, fd, key, val, flags);
}

static inline long bt_delete(int fd, const void *key)
{
	return bt_elem(BPF_MAP_DELETE_ELEM, fd, key, NULL, 0);
}

static inline long bt_lookup_and_delete(int fd, const void *key, void *val)
{
	return bt_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, key, val, 0);
}

static inline long bt_next_key(int fd, const void *key, void *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = BT_PTR(key);
	a.next_key = BT_PTR(next);
	return bt_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a));
}

static inline long bt_freeze(int fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	return bt_bpf(BPF_MAP_FREEZE, &a, sizeof(a));
}

static inline long bt_pin(int fd, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (__u32)fd;
	a.pathname = BT_PTR(path);
	return bt_bpf(BPF_OBJ_PIN, &a, sizeof(a));
}

static inline long bt_get(const char *path, __u32 file_flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = BT_PTR(path);
	a.file_flags = file_flags;
	return bt_bpf(BPF_OBJ_GET, &a, sizeof(a));
}

/* OBJ_GET_INFO_BY_FD; *len in: buffer size, out: what the call wrote back. */
static inline long bt_info(int fd, void *info, __u32 *len)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = *len;
	a.info.info = BT_PTR(info);
	long r = bt_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
	*len = a.info.info_len;
	return r;
}

static inline __u32 bt_map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	return info.id;
}

/* A page whose address is certainly unmapped. */
static inline void *bt_unmapped_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, p, MAP_FAILED));
	/* PROT_NONE, not unmapped: a hole could be filled by the next mmap
	 * (the engine maps each object it creates) */
	mprotect(p, (size_t)pg, PROT_NONE);
	return p;
}

/* A closed fd number: open, then close. */
static inline int bt_closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);
	cr_assert(ge(i32, fd, 0));
	close(fd);
	return fd;
}

/* A type id of the running kernel's BTF (/sys/kernel/btf/vmlinux, which the
 * engine takes as its kernel BTF too): 0 if there is none. */
static inline __u32 bt_kbtf_id(const char *name, __u32 kind)
{
	static char *data;
	static size_t size;
	if (!data) {
		FILE *f = fopen("/sys/kernel/btf/vmlinux", "rb");
		if (!f)
			return 0;
		size_t cap = 1 << 20, n;
		data = malloc(cap);
		cr_assert(ne(ptr, data, NULL));
		while ((n = fread(data + size, 1, cap - size, f)) > 0) {
			size += n;
			if (size == cap) {
				data = realloc(data, cap *= 2);
				cr_assert(ne(ptr, data, NULL));
			}
		}
		fclose(f);
	}
	const struct btf_header *h = (const void *)data;
	const char *types = data + h->hdr_len + h->type_off, *strs = data + h->hdr_len + h->str_off;
	__u32 off = 0, id = 1;
	while (off < h->type_len) {
		const struct btf_type *t = (const void *)(types + off);
		__u32 k = BTF_INFO_KIND(t->info), vlen = BTF_INFO_VLEN(t->info);
		if (k == kind && !strcmp(strs + t->name_off, name))
			return id;
		off += sizeof(*t);
		switch (k) {
		case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: off += 4; break;
		case BTF_KIND_ARRAY: off += 12; break;
		case BTF_KIND_STRUCT: case BTF_KIND_UNION: off += vlen * 12; break;
		case BTF_KIND_ENUM: off += vlen * 8; break;
		case 19: off += vlen * 12; break;              /* ENUM64 */
		case BTF_KIND_FUNC_PROTO: off += vlen * 8; break;
		case BTF_KIND_DATASEC: off += vlen * 12; break;
		default: break;
		}
		id++;
	}
	return 0;
}

#define BT_TEST(name, ...) Test(unit, name, .init = bt_setup, .fini = bt_teardown, ##__VA_ARGS__)

#endif
