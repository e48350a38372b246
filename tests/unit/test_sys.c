/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_sys.c: how bpf() reads its attr (emu/sys.c).
 *
 * Expectations come from running the same calls on the real kernel (6.18,
 * whose union bpf_attr is 168 bytes: larger than the 144 of the installed
 * 6.1 uapi headers, so offsets in between are "known fields" to the kernel).
 */
#include "bt.h"

/* A buffer large enough for any size we pass, page aligned so we can
 * place an attr at the end of a mapped page. */
static char big[2 * 4096] __attribute__((aligned(4096)));

static union bpf_attr *array_attr(void *buf)
{
	union bpf_attr *a = buf;
	a->map_type = BPF_MAP_TYPE_ARRAY;
	a->key_size = 4;
	a->value_size = 8;
	a->max_entries = 4;
	return a;
}

BT_TEST(attr_size_larger_with_nonzero_tail_is_e2big)
{
	memset(big, 0, sizeof(big));
	array_attr(big);
	big[255] = 1;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, big, 256), -E2BIG));
}

BT_TEST(attr_size_larger_with_zero_tail_succeeds)
{
	memset(big, 0, sizeof(big));
	array_attr(big);
	long fd = bt_bpf(BPF_MAP_CREATE, big, 256);
	cr_assert(ge(i64, fd, 0), "create with 256-byte zero-tailed attr: %s", strerror((int)-fd));
	bt_close((int)fd);
}

BT_TEST(attr_size_page_with_nonzero_last_byte_is_e2big)
{
	long pg = sysconf(_SC_PAGESIZE);
	memset(big, 0, sizeof(big));
	array_attr(big);
	big[pg - 1] = 1;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, big, (unsigned int)pg), -E2BIG));
}

BT_TEST(attr_size_page_with_zero_tail_succeeds)
{
	long pg = sysconf(_SC_PAGESIZE);
	memset(big, 0, sizeof(big));
	array_attr(big);
	long fd = bt_bpf(BPF_MAP_CREATE, big, (unsigned int)pg);
	cr_assert(ge(i64, fd, 0), "create with a page-sized zero-tailed attr: %s", strerror((int)-fd));
	bt_close((int)fd);
}

BT_TEST(attr_size_above_page_with_zero_tail_is_e2big)
{
	long pg = sysconf(_SC_PAGESIZE);
	memset(big, 0, sizeof(big));
	array_attr(big);
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, big, (unsigned int)pg + 1), -E2BIG));
}

BT_TEST(attr_size_smaller_is_zero_extended)
{
	/* Only type, key, value and max_entries are passed; garbage after them
	 * in the caller's buffer must not be read. */
	memset(big, 0xff, sizeof(big));
	union bpf_attr *a = (union bpf_attr *)big;
	a->map_type = BPF_MAP_TYPE_HASH;
	a->key_size = 4;
	a->value_size = 8;
	a->max_entries = 16;
	long fd = bt_bpf(BPF_MAP_CREATE, big, (unsigned int)BT_ATTR_END(max_entries));
	cr_assert(ge(i64, fd, 0), "create with a 16-byte attr: %s", strerror((int)-fd));

	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
	cr_assert(eq(u32, info.type, BPF_MAP_TYPE_HASH));
	cr_assert(eq(u32, info.max_entries, 16));
	cr_assert(eq(u32, info.map_flags, 0));
	cr_assert(eq(str, info.name, ""));
	bt_close((int)fd);
}

BT_TEST(attr_size_too_small_for_create_is_einval)
{
	/* 4 bytes: key_size reads as 0 */
	memset(big, 0, sizeof(big));
	array_attr(big);
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, big, 4), -EINVAL));
}

BT_TEST(attr_size_zero_for_create_is_einval)
{
	memset(big, 0, sizeof(big));
	array_attr(big);
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, big, 0), -EINVAL));
}

BT_TEST(attr_field_after_delete_key_is_einval)
{
	/* MAP_DELETE_ELEM's last field is key: a value pointer is rejected
	 * before the fd is even looked at. */
	union bpf_attr a;
	int v = 0;
	memset(&a, 0, sizeof(a));
	a.map_fd = 12345;
	a.key = BT_PTR(&v);
	a.value = BT_PTR(&v);
	cr_assert(eq(i64, bt_bpf(BPF_MAP_DELETE_ELEM, &a, sizeof(a)), -EINVAL));
}

BT_TEST(attr_field_after_freeze_map_fd_is_einval)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.flags = 1;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_FREEZE, &a, sizeof(a)), -EINVAL));
	a.flags = 0;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_FREEZE, &a, sizeof(a)), 0));
}

BT_TEST(attr_field_after_lookup_flags_is_einval)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	__u32 k = 0, v = 0;
	union bpf_attr *a = (union bpf_attr *)big;
	memset(big, 0, sizeof(big));
	a->map_fd = (__u32)fd;
	a->key = BT_PTR(&k);
	a->value = BT_PTR(&v);
	big[BT_ATTR_END(flags)] = 1;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_LOOKUP_ELEM, a, sizeof(*a)), -EINVAL));
}

BT_TEST(attr_byte_past_uapi_header_within_kernel_attr_is_einval)
{
	/* Offset 144..167 is past this uapi header's union but inside the
	 * kernel's: the kernel takes it for a field (CHECK_ATTR: EINVAL), not
	 * for an oversized tail (E2BIG). */
	memset(big, 0, sizeof(big));
	union bpf_attr *a = (union bpf_attr *)big;
	int k = 0;
	a->map_fd = 12345;
	a->key = BT_PTR(&k);
	big[sizeof(union bpf_attr)] = 1;
	cr_assert(eq(i64, bt_bpf(BPF_MAP_DELETE_ELEM, big, (unsigned int)sizeof(union bpf_attr) + 8), -EINVAL));
}

BT_TEST(attr_null_is_efault)
{
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, NULL, sizeof(union bpf_attr)), -EFAULT));
}

BT_TEST(attr_null_with_size_zero_is_einval)
{
	/* Nothing is copied, the zeroed attr asks for map type 0. */
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, NULL, 0), -EINVAL));
}

BT_TEST(attr_null_with_unknown_cmd_is_efault)
{
	/* The attr is copied before the command is looked at. */
	cr_assert(eq(i64, bt_bpf(9999, NULL, sizeof(union bpf_attr)), -EFAULT));
}

BT_TEST(attr_unmapped_is_efault)
{
	void *p = bt_unmapped_page();
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, p, sizeof(union bpf_attr)), -EFAULT));
	cr_assert(eq(i64, bt_bpf(BPF_MAP_LOOKUP_ELEM, p, sizeof(union bpf_attr)), -EFAULT));
}

BT_TEST(attr_straddling_unmapped_page_is_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, p, MAP_FAILED));
	mprotect(p + pg, (size_t)pg, PROT_NONE);     /* not unmapped: a created map's mapping could fill a hole */
	/* 16 readable bytes (a valid array create), then the hole */
	union bpf_attr *a = (union bpf_attr *)(p + pg - 16);
	array_attr(a);
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, a, sizeof(union bpf_attr)), -EFAULT));
	cr_assert(eq(i64, bt_bpf(BPF_MAP_CREATE, a, 512), -EFAULT));
	long fd = bt_bpf(BPF_MAP_CREATE, a, 16);
	cr_assert(ge(i64, fd, 0), "16 mapped bytes: %s", strerror((int)-fd));
}

BT_TEST(attr_readonly_memory_is_accepted_for_create)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, p, MAP_FAILED));
	array_attr(p);
	mprotect(p, (size_t)pg, PROT_READ);
	long fd = bt_bpf(BPF_MAP_CREATE, p, sizeof(union bpf_attr));
	cr_assert(ge(i64, fd, 0), "read-only attr: %s", strerror((int)-fd));
}

BT_TEST(cmd_unknown_is_einval)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	cr_assert(eq(i64, bt_bpf(9999, &a, sizeof(a)), -EINVAL));
	cr_assert(eq(i64, bt_bpf(-1, &a, sizeof(a)), -EINVAL));
	cr_assert(eq(i64, bt_bpf(1000, &a, sizeof(a)), -EINVAL));
}

BT_TEST(cmd_raw_syscall_returns_minus_one_and_errno)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	errno = 0;
	cr_assert(eq(i64, bt_sys(9999, &a, sizeof(a)), -1));
	cr_assert(eq(int, errno, EINVAL));
}

BT_TEST(map_create_unknown_type_is_einval)
{
	cr_assert(eq(i64, bt_map_create(9999, 4, 4, 1, 0), -EINVAL));
	cr_assert(eq(i64, bt_map_create(BPF_MAP_TYPE_UNSPEC, 4, 4, 1, 0), -EINVAL));
}

BT_TEST(map_create_returns_cloexec_fd)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	int fl = fcntl(fd, F_GETFD);
	cr_assert(ge(i32, fl, 0));
	cr_assert(ne(int, fl & FD_CLOEXEC, 0));
}

/* ---- object names: bpf_obj_name_cpy() with the kernel's isalnum() ---- */

/* The bytes the kernel takes in a map or program name: '.', '_', digits,
 * ASCII letters, and the Latin-1 letters its ctype table knows (0xc0-0xff
 * but for 0xd7 and 0xf7). Written out, not computed like the engine does. */
static bool name_byte_ok(unsigned int b)
{
	static const char ok[] = "._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	if (b && strchr(ok, (int)b))
		return true;
	return (b >= 0xc0 && b <= 0xd6) || (b >= 0xd8 && b <= 0xf6) || (b >= 0xf8 && b <= 0xff);
}

BT_TEST(name_every_byte_value_in_map_and_prog_names)
{
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT },
	};
	for (unsigned int b = 1; b < 256; b++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		a.map_name[0] = 'm';
		a.map_name[1] = (char)b;
		a.map_name[2] = (char)b;
		long fd = bt_map_create_attr(&a);
		cr_assert(eq(i64, fd < 0 ? fd : 0, name_byte_ok(b) ? 0 : -EINVAL), "map name byte %#x", b);
		if (fd >= 0) {
			struct bpf_map_info info;
			__u32 len = sizeof(info);
			memset(&info, 0, sizeof(info));
			cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
			cr_assert(eq(u8, (unsigned char)info.name[1], b));
			cr_assert(eq(u8, (unsigned char)info.name[2], b));
			cr_assert(eq(u8, (unsigned char)info.name[3], 0));
			bt_close((int)fd);
		}

		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		a.insns = BT_PTR(insns);
		a.insn_cnt = 2;
		a.license = BT_PTR("GPL");
		a.prog_name[0] = (char)b;
		fd = bt_bpf(BPF_PROG_LOAD, &a, sizeof(a));
		cr_assert(eq(i64, fd < 0 ? fd : 0, name_byte_ok(b) ? 0 : -EINVAL), "prog name byte %#x", b);
		if (fd >= 0) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			memset(&info, 0, sizeof(info));
			cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
			cr_assert(eq(u8, (unsigned char)info.name[0], b));
			bt_close((int)fd);
		}
	}
}

BT_TEST(name_without_nul_in_16_bytes_is_einval_even_of_latin1_letters)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	memset(a.map_name, 0xe9, sizeof(a.map_name));
	cr_assert(eq(i64, bt_map_create_attr(&a), -EINVAL));
	a.map_name[sizeof(a.map_name) - 1] = 0;
	long fd = bt_map_create_attr(&a);
	cr_assert(ge(i64, fd, 0));
}
