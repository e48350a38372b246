/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/libbpf_maps.c: drives HASH and ARRAY maps through
 * Debian's libbpf and prints a transcript with nothing run-specific in it (no
 * fds, no ids, keys in sorted order), so the transcript from the shim and the
 * one from the real kernel can be diffed.
 *
 * usage: libbpf_maps PIN_DIR    (PIN_DIR is on a bpffs, real or fake)
 * Exit status 0 when every step ran (its result is in the transcript), 1 on a
 * setup failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *pin_dir;

/* "ok", "ok N" for a non-negative result, or the errno's name. */
static const char *res_err(int ret, int err)
{
	static char buf[64];

	if (ret >= 0)
		return "ok";
	/* libbpf 1.x returns -errno and sets errno */
	err = ret < -1 ? -ret : err;
	snprintf(buf, sizeof(buf), "%s", strerrorname_np(err) ? strerrorname_np(err) : "E?");
	return buf;
}

#define res(ret) res_err((ret), errno)
/* The call runs (and errno is read) before the step's label is formatted. */
#define STEP(fmt, ret, ...) do {						\
		int r_ = (ret), e_ = errno;					\
		printf("%-48s %s\n", fmt_step(fmt, ##__VA_ARGS__), res_err(r_, e_));	\
	} while (0)

static const char *fmt_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt_step(const char *fmt, ...)
{
	static char buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static int create(const char *what, enum bpf_map_type type, const char *name, __u32 ksz, __u32 vsz,
		  __u32 max, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd = bpf_map_create(type, name, ksz, vsz, max, &opts);

	int err = errno;

	printf("%-48s %s\n", fmt_step("create %s", what), res_err(fd, err));
	return fd;
}

static void info(const char *what, int fd, __u32 *id)
{
	struct bpf_map_info mi;
	__u32 len = sizeof(mi);
	int ret;

	memset(&mi, 0, sizeof(mi));
	ret = bpf_obj_get_info_by_fd(fd, &mi, &len);
	STEP("info %s", ret, what);
	if (ret)
		return;
	printf("  type %u key %u value %u max_entries %u flags 0x%x name '%s' id %s info_len %s\n",
	       mi.type, mi.key_size, mi.value_size, mi.max_entries, mi.map_flags, mi.name,
	       mi.id ? "set" : "0", len == sizeof(mi) ? "full" : "short");
	if (id)
		*id = mi.id;
}

static void update(const char *what, int fd, __u32 key, __u64 val, __u64 flags)
{
	STEP("update %s key %u val %llu flags %llu", bpf_map_update_elem(fd, &key, &val, flags), what, key,
	     (unsigned long long)val, (unsigned long long)flags);
}

static void lookup(const char *what, int fd, __u32 key)
{
	__u64 val = 0xdead;
	int ret = bpf_map_lookup_elem(fd, &key, &val), err = errno;

	if (ret == 0)
		printf("%-48s ok val %llu\n", fmt_step("lookup %s key %u", what, key), (unsigned long long)val);
	else
		printf("%-48s %s\n", fmt_step("lookup %s key %u", what, key), res_err(ret, err));
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Walks the keys from NULL; prints them sorted (hash order differs by design). */
static void keys(const char *what, int fd)
{
	__u32 all[64], n = 0, key, next;
	int ret = bpf_map_get_next_key(fd, NULL, &next);

	while (ret == 0 && n < ARRAY_SIZE(all)) {
		all[n++] = next;
		key = next;
		ret = bpf_map_get_next_key(fd, &key, &next);
	}
	int err = errno;

	qsort(all, n, sizeof(all[0]), cmp_u32);
	printf("%-48s %u keys, end %s:", fmt_step("keys %s", what), n, res_err(ret, err));
	for (__u32 i = 0; i < n; i++)
		printf(" %u", all[i]);
	printf("\n");
}

static void test_hash(void)
{
	char path[512];
	__u32 key, next, id1 = 0, id2 = 0;
	int fd, fd2, ret;

	printf("## hash\n");
	create("hash key 0", BPF_MAP_TYPE_HASH, "h0", 0, 8, 4, 0);
	create("hash value 0", BPF_MAP_TYPE_HASH, "h0", 4, 0, 4, 0);
	create("hash entries 0", BPF_MAP_TYPE_HASH, "h0", 4, 8, 0, 0);
	create("hash bad name", BPF_MAP_TYPE_HASH, "bad-name", 4, 8, 4, 0);
	create("hash mmapable", BPF_MAP_TYPE_HASH, "h0", 4, 8, 4, BPF_F_MMAPABLE);
	ret = create("hash no_prealloc", BPF_MAP_TYPE_HASH, "h_np", 4, 8, 4, BPF_F_NO_PREALLOC);
	if (ret >= 0)
		close(ret);
	fd = create("hash", BPF_MAP_TYPE_HASH, "t_hash", 4, 8, 4, 0);
	if (fd < 0)
		exit(1);
	info("hash", fd, &id1);

	update("hash", fd, 1, 10, BPF_ANY);
	update("hash", fd, 1, 11, BPF_NOEXIST);
	update("hash", fd, 2, 20, BPF_EXIST);
	update("hash", fd, 2, 20, BPF_NOEXIST);
	update("hash", fd, 1, 12, BPF_EXIST);
	update("hash", fd, 3, 30, 99);
	update("hash", fd, 3, 30, BPF_F_LOCK);
	lookup("hash", fd, 1);
	lookup("hash", fd, 2);
	lookup("hash", fd, 7);
	update("hash", fd, 3, 30, BPF_ANY);
	update("hash", fd, 4, 40, BPF_ANY);
	update("hash (full)", fd, 5, 50, BPF_ANY);
	update("hash (full, existing)", fd, 4, 41, BPF_ANY);
	keys("hash", fd);
	key = 77;
	ret = bpf_map_get_next_key(fd, &key, &next);
	STEP("next_key hash missing key -> some key", ret);

	STEP("delete hash key 4", bpf_map_delete_elem(fd, &(__u32){ 4 }));
	STEP("delete hash key 4 again", bpf_map_delete_elem(fd, &(__u32){ 4 }));
	lookup("hash", fd, 4);
	keys("hash", fd);

	snprintf(path, sizeof(path), "%s/itest_hash", pin_dir);
	STEP("pin hash", bpf_obj_pin(fd, path));
	STEP("pin hash again", bpf_obj_pin(fd, path));
	fd2 = bpf_obj_get(path);
	STEP("obj_get hash", fd2);
	if (fd2 >= 0) {
		info("hash via pin", fd2, &id2);
		printf("  same id as creator: %s\n", id1 == id2 ? "yes" : "no");
		lookup("hash via pin", fd2, 1);
		update("hash via pin", fd2, 2, 21, BPF_EXIST);
		lookup("hash", fd, 2);
		close(fd2);
	}
	{
		LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
		fd2 = bpf_obj_get_opts(path, &o);
		STEP("obj_get hash rdonly", fd2);
		if (fd2 >= 0) {
			lookup("hash rdonly", fd2, 1);
			update("hash rdonly", fd2, 1, 13, BPF_ANY);
			close(fd2);
		}
	}
	{
		LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_WRONLY);
		fd2 = bpf_obj_get_opts(path, &o);
		STEP("obj_get hash wronly", fd2);
		if (fd2 >= 0) {
			lookup("hash wronly", fd2, 1);
			update("hash wronly", fd2, 1, 14, BPF_ANY);
			close(fd2);
		}
	}
	snprintf(path, sizeof(path), "%s/itest_missing", pin_dir);
	STEP("obj_get missing pin", bpf_obj_get(path));

	STEP("freeze hash", bpf_map_freeze(fd));
	STEP("freeze hash again", bpf_map_freeze(fd));
	update("hash frozen", fd, 1, 15, BPF_ANY);
	STEP("delete hash frozen key 1", bpf_map_delete_elem(fd, &(__u32){ 1 }));
	lookup("hash frozen", fd, 1);
	keys("hash frozen", fd);

	snprintf(path, sizeof(path), "%s/itest_hash", pin_dir);
	STEP("unpin hash (unlink)", unlink(path));
	STEP("obj_get hash after unpin", bpf_obj_get(path));
	close(fd);
}

static void test_array(void)
{
	char path[512];
	__u32 id1 = 0, id2 = 0, next;
	int fd, fd2, ret;

	printf("## array\n");
	create("array key 8", BPF_MAP_TYPE_ARRAY, "a0", 8, 8, 4, 0);
	create("array value 0", BPF_MAP_TYPE_ARRAY, "a0", 4, 0, 4, 0);
	create("array entries 0", BPF_MAP_TYPE_ARRAY, "a0", 4, 8, 0, 0);
	create("array no_prealloc", BPF_MAP_TYPE_ARRAY, "a0", 4, 8, 4, BPF_F_NO_PREALLOC);
	ret = create("array mmapable", BPF_MAP_TYPE_ARRAY, "a_mm", 4, 8, 4, BPF_F_MMAPABLE);
	if (ret >= 0)
		close(ret);
	create("map type 999", (enum bpf_map_type)999, "x", 4, 8, 4, 0);
	fd = create("array", BPF_MAP_TYPE_ARRAY, "t_array", 4, 8, 4, 0);
	if (fd < 0)
		exit(1);
	info("array", fd, &id1);

	lookup("array (zeroed)", fd, 0);
	lookup("array", fd, 4);
	update("array", fd, 0, 100, BPF_ANY);
	update("array", fd, 1, 101, BPF_EXIST);
	update("array", fd, 2, 102, BPF_NOEXIST);
	update("array", fd, 4, 104, BPF_ANY);
	update("array", fd, 3, 103, 99);
	lookup("array", fd, 0);
	lookup("array", fd, 1);
	keys("array", fd);
	STEP("next_key array key 9 -> 0", bpf_map_get_next_key(fd, &(__u32){ 9 }, &next));
	printf("  next %u\n", next);
	STEP("next_key array last key", bpf_map_get_next_key(fd, &(__u32){ 3 }, &next));
	STEP("delete array key 0", bpf_map_delete_elem(fd, &(__u32){ 0 }));

	snprintf(path, sizeof(path), "%s/itest_array", pin_dir);
	STEP("pin array", bpf_obj_pin(fd, path));
	fd2 = bpf_obj_get(path);
	STEP("obj_get array", fd2);
	if (fd2 >= 0) {
		info("array via pin", fd2, &id2);
		printf("  same id as creator: %s\n", id1 == id2 ? "yes" : "no");
		lookup("array via pin", fd2, 0);
		update("array via pin", fd2, 3, 203, BPF_ANY);
		lookup("array", fd, 3);
	}
	STEP("freeze array", bpf_map_freeze(fd));
	update("array frozen", fd2 >= 0 ? fd2 : fd, 3, 303, BPF_ANY);
	lookup("array frozen", fd, 3);
	if (fd2 >= 0)
		close(fd2);
	STEP("unpin array (unlink)", unlink(path));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PIN_DIR\n", argv[0]);
		return 2;
	}
	pin_dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_hash();
	test_array();
	return 0;
}
