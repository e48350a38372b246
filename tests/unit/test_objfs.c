/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_objfs.c: pins, OBJ_GET, OBJ_GET_INFO_BY_FD and ids
 * (emu/objfs.c, emu/map.c). Pins name "/sys/fs/bpf/...": the engine
 * translates into its state root, the kernel build mounts a private bpffs.
 */
#include "bt.h"

/* What 6.18 fills in and writes back: struct bpf_map_info grew past this
 * uapi header's 88 bytes (hash, hash_size). */
#define KERNEL_MAP_INFO_SIZE 104

static int hash_with_elem(__u32 k, __u64 v)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
	return fd;
}

/* ---- pin and get ---- */

BT_TEST(pin_then_get_sees_same_data)
{
	int fd = hash_with_elem(1, 100);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/x"), 0));
	long fd2 = bt_get("/sys/fs/bpf/x", 0);
	cr_assert(ge(i64, fd2, 0), "get: %s", strerror((int)-fd2));
	cr_assert(ne(i64, fd2, fd));

	__u32 k = 1;
	__u64 out = 0, v = 200;
	cr_assert(eq(i64, bt_lookup((int)fd2, &k, &out), 0));
	cr_assert(eq(u64, out, 100));
	k = 2;
	cr_assert(eq(i64, bt_update((int)fd2, &k, &v, BPF_NOEXIST), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 200));
	cr_assert(eq(u32, bt_map_id(fd), bt_map_id((int)fd2)));
}

BT_TEST(get_survives_close_of_original_fd)
{
	int fd = hash_with_elem(3, 33);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/keep"), 0));
	bt_close(fd);
	long fd2 = bt_get("/sys/fs/bpf/keep", 0);
	cr_assert(ge(i64, fd2, 0), "get: %s", strerror((int)-fd2));
	__u32 k = 3;
	__u64 out = 0;
	cr_assert(eq(i64, bt_lookup((int)fd2, &k, &out), 0));
	cr_assert(eq(u64, out, 33));
}

BT_TEST(get_returns_cloexec_fd)
{
	int fd = hash_with_elem(1, 1);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/cx"), 0));
	long fd2 = bt_get("/sys/fs/bpf/cx", 0);
	cr_assert(ge(i64, fd2, 0));
	cr_assert(ne(int, fcntl((int)fd2, F_GETFD) & FD_CLOEXEC, 0));
}

BT_TEST(get_rdonly_then_update_is_eperm)
{
	int fd = hash_with_elem(1, 100);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/ro"), 0));
	long ro = bt_get("/sys/fs/bpf/ro", BPF_F_RDONLY);
	cr_assert(ge(i64, ro, 0), "get rdonly: %s", strerror((int)-ro));
	__u32 k = 1, next;
	__u64 out = 0, v = 5;
	cr_assert(eq(i64, bt_update((int)ro, &k, &v, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_delete((int)ro, &k), -EPERM));
	cr_assert(eq(i64, bt_freeze((int)ro), -EPERM));
	cr_assert(eq(i64, bt_lookup((int)ro, &k, &out), 0));
	cr_assert(eq(u64, out, 100));
	cr_assert(eq(i64, bt_next_key((int)ro, NULL, &next), 0));
	/* the original fd keeps its rights */
	cr_assert(eq(i64, bt_update(fd, &k, &v, BPF_ANY), 0));
}

BT_TEST(get_wronly_then_lookup_is_eperm)
{
	int fd = hash_with_elem(1, 100);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/wo"), 0));
	long wo = bt_get("/sys/fs/bpf/wo", BPF_F_WRONLY);
	cr_assert(ge(i64, wo, 0), "get wronly: %s", strerror((int)-wo));
	__u32 k = 1, next;
	__u64 out = 0, v = 5;
	cr_assert(eq(i64, bt_lookup((int)wo, &k, &out), -EPERM));
	cr_assert(eq(i64, bt_next_key((int)wo, NULL, &next), -EPERM));
	cr_assert(eq(i64, bt_update((int)wo, &k, &v, BPF_ANY), 0));
	cr_assert(eq(i64, bt_lookup(fd, &k, &out), 0));
	cr_assert(eq(u64, out, 5));
}

BT_TEST(get_rdonly_and_wronly_is_einval)
{
	int fd = hash_with_elem(1, 100);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/rw"), 0));
	cr_assert(eq(i64, bt_get("/sys/fs/bpf/rw", BPF_F_RDONLY | BPF_F_WRONLY), -EINVAL));
	cr_assert(eq(i64, bt_get("/sys/fs/bpf/rw", 1u << 10), -EINVAL));
}

BT_TEST(get_info_of_rdonly_fd_keeps_map_flags)
{
	int fd = hash_with_elem(1, 100);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/rof"), 0));
	long ro = bt_get("/sys/fs/bpf/rof", BPF_F_RDONLY);
	cr_assert(ge(i64, ro, 0));
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info((int)ro, &info, &len), 0));
	cr_assert(eq(u32, info.map_flags, 0));
}

BT_TEST(pin_over_existing_is_eexist)
{
	int fd = hash_with_elem(1, 1);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/dup"), 0));
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/dup"), -EEXIST));
	int other = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	cr_assert(eq(i64, bt_pin(other, "/sys/fs/bpf/dup"), -EEXIST));
}

BT_TEST(pin_same_map_twice_under_two_names_succeeds)
{
	int fd = hash_with_elem(1, 1);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/a"), 0));
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/b"), 0));
	long a = bt_get("/sys/fs/bpf/a", 0), b = bt_get("/sys/fs/bpf/b", 0);
	cr_assert(ge(i64, a, 0));
	cr_assert(ge(i64, b, 0));
	cr_assert(eq(u32, bt_map_id((int)a), bt_map_id((int)b)));
}

BT_TEST(get_missing_is_enoent)
{
	cr_assert(eq(i64, bt_get("/sys/fs/bpf/missing", 0), -ENOENT));
	cr_assert(eq(i64, bt_get("/sys/fs/bpf/nodir/missing", 0), -ENOENT));
}

BT_TEST(pin_in_missing_directory_is_enoent)
{
	int fd = hash_with_elem(1, 1);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/nodir/x"), -ENOENT));
}

BT_TEST(pin_normalized_path_is_found_by_plain_path)
{
	int fd = hash_with_elem(9, 90);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf//./n"), 0));
	long fd2 = bt_get("/sys/fs/bpf/n", 0);
	cr_assert(ge(i64, fd2, 0), "get: %s", strerror((int)-fd2));
	__u32 k = 9;
	__u64 out = 0;
	cr_assert(eq(i64, bt_lookup((int)fd2, &k, &out), 0));
	cr_assert(eq(u64, out, 90));
}

BT_TEST(get_bpffs_root_directory_is_eacces)
{
	cr_assert(eq(i64, bt_get("/sys/fs/bpf", 0), -EACCES));
}

BT_TEST(pin_pipe_fd_is_einval)
{
	int p[2];
	cr_assert(eq(i32, pipe(p), 0));
	cr_assert(eq(i64, bt_pin(p[0], "/sys/fs/bpf/pipe"), -EINVAL));
}

BT_TEST(pin_closed_fd_is_einval)
{
	/* the kernel's pin probes the fd as a map, then a prog, then a link:
	 * a closed fd reads as "none of these" */
	cr_assert(eq(i64, bt_pin(bt_closed_fd(), "/sys/fs/bpf/closed"), -EINVAL));
}

BT_TEST(pin_null_or_unmapped_path_is_efault)
{
	int fd = hash_with_elem(1, 1);
	cr_assert(eq(i64, bt_pin(fd, NULL), -EFAULT));
	cr_assert(eq(i64, bt_pin(fd, bt_unmapped_page()), -EFAULT));
	cr_assert(eq(i64, bt_get(NULL, 0), -EFAULT));
	cr_assert(eq(i64, bt_get(bt_unmapped_page(), 0), -EFAULT));
}

BT_TEST(pin_empty_path_is_enoent)
{
	int fd = hash_with_elem(1, 1);
	cr_assert(eq(i64, bt_pin(fd, ""), -ENOENT));
	cr_assert(eq(i64, bt_get("", 0), -ENOENT));
}

BT_TEST(pin_outside_bpffs_is_eperm)
{
	char dir[] = "/tmp/bpfemu-notbpffs-XXXXXX", path[64];
	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	snprintf(path, sizeof(path), "%s/x", dir);
	int fd = hash_with_elem(1, 1);
	long r = bt_pin(fd, path);
	unlink(path);
	rmdir(dir);
	cr_assert(eq(i64, r, -EPERM));
}

BT_TEST(get_regular_file_outside_bpffs_is_eacces)
{
	cr_assert(eq(i64, bt_get("/etc/passwd", 0), -EACCES));
}

/* ---- OBJ_GET_INFO_BY_FD ---- */

BT_TEST(get_info_fills_map_fields)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 12;
	a.max_entries = 32;
	a.map_flags = BPF_F_NO_PREALLOC;
	strcpy(a.map_name, "info_map");
	long fd = bt_map_create_attr(&a);
	cr_assert(ge(i64, fd, 0));

	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
	cr_assert(eq(u32, len, sizeof(info)));
	cr_assert(eq(u32, info.type, BPF_MAP_TYPE_HASH));
	cr_assert(gt(u32, info.id, 0));
	cr_assert(eq(u32, info.key_size, 4));
	cr_assert(eq(u32, info.value_size, 12));
	cr_assert(eq(u32, info.max_entries, 32));
	cr_assert(eq(u32, info.map_flags, BPF_F_NO_PREALLOC));
	cr_assert(eq(str, info.name, "info_map"));
	cr_assert(eq(u32, info.ifindex, 0));
	cr_assert(eq(u32, info.btf_id, 0));
	cr_assert(eq(u32, info.btf_key_type_id, 0));
	cr_assert(eq(u32, info.btf_value_type_id, 0));
	cr_assert(eq(u64, info.map_extra, 0));
}

BT_TEST(get_info_array_flags_and_type)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 3, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, info.type, BPF_MAP_TYPE_ARRAY));
	cr_assert(eq(u32, info.max_entries, 3));
	cr_assert(eq(u32, info.map_flags, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG));
}

BT_TEST(get_info_of_rdonly_or_wronly_map_hides_those_flags)
{
	/* the kernel keeps BPF_F_RDONLY/BPF_F_WRONLY on the fd, not in map_flags */
	static const __u32 flags[] = { BPF_F_RDONLY, BPF_F_WRONLY };
	for (size_t i = 0; i < BT_ARRAY_SIZE(flags); i++) {
		int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 2, flags[i] | BPF_F_RDONLY_PROG);
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
		cr_assert(eq(u32, info.map_flags, BPF_F_RDONLY_PROG), "created with %#x", flags[i]);
	}
}

BT_TEST(get_info_short_len_writes_only_that_much)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	struct bpf_map_info info;
	__u32 len = 8;
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, len, 8));
	cr_assert(eq(u32, info.type, BPF_MAP_TYPE_HASH));
	cr_assert(gt(u32, info.id, 0));
	cr_assert(eq(u32, info.key_size, 0));
	cr_assert(eq(u32, info.value_size, 0));
}

BT_TEST(get_info_zero_len_succeeds_and_writes_nothing)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 len = 0;
	cr_assert(eq(i64, bt_info(fd, NULL, &len), 0));
	cr_assert(eq(u32, len, 0));
}

BT_TEST(get_info_long_len_writes_back_kernel_size)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	char buf[400];
	memset(buf, 0, sizeof(buf));
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, KERNEL_MAP_INFO_SIZE));
	struct bpf_map_info *info = (struct bpf_map_info *)buf;
	cr_assert(eq(u32, info->key_size, 4));
	for (size_t i = KERNEL_MAP_INFO_SIZE; i < sizeof(buf); i++)
		cr_assert(eq(i32, buf[i], 0), "byte %zu written", i);
}

BT_TEST(get_info_long_len_with_nonzero_tail_is_e2big)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	char buf[400];
	memset(buf, 0, sizeof(buf));
	buf[399] = 1;
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), -E2BIG));
	cr_assert(eq(u32, len, sizeof(buf)));
}

BT_TEST(get_info_nonzero_byte_in_kernel_only_field_is_einval)
{
	/* offset 88 is 6.18's info.hash, an input pointer: set without
	 * hash_size it is EINVAL, not the E2BIG of an unknown tail */
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	char buf[200];
	memset(buf, 0, sizeof(buf));
	buf[88] = 1;
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), -EINVAL));
}

BT_TEST(get_info_null_buffer_is_efault)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 len = sizeof(struct bpf_map_info);
	cr_assert(eq(i64, bt_info(fd, NULL, &len), -EFAULT));
	len = sizeof(struct bpf_map_info);
	cr_assert(eq(i64, bt_info(fd, bt_unmapped_page(), &len), -EFAULT));
}

BT_TEST(get_info_pipe_is_einval)
{
	int p[2];
	cr_assert(eq(i32, pipe(p), 0));
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(p[0], &info, &len), -EINVAL));
}

BT_TEST(get_info_closed_fd_is_ebadfd)
{
	/* 6.18 answers EBADFD (77), not EBADF, for OBJ_GET_INFO_BY_FD */
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(bt_closed_fd(), &info, &len), -EBADFD));
}

/* ---- ids ---- */

static long next_id(__u32 start)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = start;
	long r = bt_bpf(BPF_MAP_GET_NEXT_ID, &a, sizeof(a));
	return r < 0 ? r : (long)a.next_id;
}

static long fd_by_id(__u32 id, __u32 open_flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	a.open_flags = open_flags;
	return bt_bpf(BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
}

BT_TEST(get_next_id_walk_finds_new_maps)
{
	int fd1 = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	int fd2 = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0);
	__u32 id1 = bt_map_id(fd1), id2 = bt_map_id(fd2);
	cr_assert(gt(u32, id2, id1));
	int found1 = 0, found2 = 0, steps = 0;
	long id = 0, prev = 0;
	while ((id = next_id((__u32)id)) > 0) {
		cr_assert(gt(i64, id, prev), "ids must increase");
		prev = id;
		found1 |= id == id1;
		found2 |= id == id2;
		cr_assert(lt(i32, ++steps, 1000000));
	}
	cr_assert(eq(i64, id, -ENOENT));
	cr_assert(found1 && found2, "walk missed id %u or %u", id1, id2);
	cr_assert(eq(i64, next_id(id1), id2));
}

BT_TEST(get_next_id_past_last_is_enoent)
{
	bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	cr_assert(eq(i64, next_id(0x7ffffff0u), -ENOENT));
}

BT_TEST(get_next_id_start_at_int_max_is_einval)
{
	cr_assert(eq(i64, next_id(0x7fffffffu), -EINVAL));
	cr_assert(eq(i64, next_id(0xffffffffu), -EINVAL));
}

BT_TEST(get_fd_by_id_sees_same_map)
{
	int fd = hash_with_elem(4, 44);
	__u32 id = bt_map_id(fd);
	long fd2 = fd_by_id(id, 0);
	cr_assert(ge(i64, fd2, 0), "get fd by id %u: %s", id, strerror((int)-fd2));
	cr_assert(eq(u32, bt_map_id((int)fd2), id));
	__u32 k = 4;
	__u64 out = 0;
	cr_assert(eq(i64, bt_lookup((int)fd2, &k, &out), 0));
	cr_assert(eq(u64, out, 44));
	cr_assert(ne(int, fcntl((int)fd2, F_GETFD) & FD_CLOEXEC, 0));
}

BT_TEST(get_fd_by_id_rdonly_then_update_is_eperm)
{
	int fd = hash_with_elem(4, 44);
	long ro = fd_by_id(bt_map_id(fd), BPF_F_RDONLY);
	cr_assert(ge(i64, ro, 0), "%s", strerror((int)-ro));
	__u32 k = 4;
	__u64 v = 1, out = 0;
	cr_assert(eq(i64, bt_update((int)ro, &k, &v, BPF_ANY), -EPERM));
	cr_assert(eq(i64, bt_lookup((int)ro, &k, &out), 0));
	long wo = fd_by_id(bt_map_id(fd), BPF_F_WRONLY);
	cr_assert(ge(i64, wo, 0), "%s", strerror((int)-wo));
	cr_assert(eq(i64, bt_lookup((int)wo, &k, &out), -EPERM));
	cr_assert(eq(i64, fd_by_id(bt_map_id(fd), BPF_F_RDONLY | BPF_F_WRONLY), -EINVAL));
}

BT_TEST(get_fd_by_id_unknown_is_enoent)
{
	cr_assert(eq(i64, fd_by_id(0x7ffffff0u, 0), -ENOENT));
}

BT_TEST(get_fd_by_id_of_closed_unpinned_map_is_enoent)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 id = bt_map_id(fd);
	bt_close(fd);
	/* the kernel frees maps from a work queue: allow it a moment */
	long r = 0;
	for (int i = 0; i < 200; i++) {
		r = fd_by_id(id, 0);
		if (r < 0)
			break;
		bt_close((int)r);
		usleep(10000);
	}
	cr_assert(eq(i64, r, -ENOENT));
}

BT_TEST(get_fd_by_id_of_closed_pinned_map_succeeds)
{
	int fd = bt_map_new(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	__u32 id = bt_map_id(fd);
	cr_assert(eq(i64, bt_pin(fd, "/sys/fs/bpf/byid"), 0));
	bt_close(fd);
	long r = fd_by_id(id, 0);
	cr_assert(ge(i64, r, 0), "%s", strerror((int)-r));
}
