/* SPDX-License-Identifier: MIT */
/* tests/unit/test_btf.c: BPF_BTF_LOAD, BTF objects and BTF in maps (emu/btf.c). */
#include "bt.h"
#include "btf_blobs.h"

#define LOG_SIZE 65536
#define BTF_LOAD_ATTR_SIZE 40u            /* Linux 6.18: through btf_token_fd */

struct btf_load_attr {                    /* the 6.18 layout of the BTF_LOAD part of union bpf_attr */
	__u64 btf;
	__u64 btf_log_buf;
	__u32 btf_size;
	__u32 btf_log_size;
	__u32 btf_log_level;
	__u32 btf_log_true_size;
	__u32 btf_flags;
	__u32 btf_token_fd;
};

static long btf_load_raw(const void *blob, __u32 size, char *log, __u32 log_size, __u32 level,
			 struct btf_load_attr *out)
{
	struct btf_load_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = BT_PTR(blob);
	a.btf_size = size;
	a.btf_log_buf = BT_PTR(log);
	a.btf_log_size = log_size;
	a.btf_log_level = level;
	long r = bt_bpf(BPF_BTF_LOAD, &a, sizeof(a));
	if (out)
		*out = a;
	return r;
}

static const char *last_line(const char *log)
{
	static char b[512];
	size_t n = strlen(log);
	while (n && log[n - 1] == '\n')
		n--;
	const char *p = log + n;
	while (p > log && p[-1] != '\n')
		p--;
	snprintf(b, sizeof(b), "%.*s", (int)(log + n - p), p);
	return b;
}

/* int; struct s { int x; struct bpf_spin_lock v; }; struct bpf_spin_lock { int x; } */
static const __u32 lock_types[] = {
	INT32,                                                          /* [1] int */
	BB_TYPE(S_LOCK, BB_INFO(BTF_KIND_STRUCT, 0, 1), 4), BB_MEMBER(S_X, 1, 0),     /* [2] bpf_spin_lock */
	BB_TYPE(S_S, BB_INFO(BTF_KIND_STRUCT, 0, 2), 8), BB_MEMBER(S_X, 1, 0), BB_MEMBER(S_V, 2, 32), /* [3] s */
	BB_TYPE(S_T, BB_INFO(BTF_KIND_TYPEDEF, 0, 0), 1),               /* [4] typedef int t */
	BB_INT(S_X, 0, 0, 64, 8),                                       /* [5] 8-byte int */
};

static char blob[4096];

static __u32 good_blob(void)
{
	return bb_build(blob, sizeof(blob), lock_types, BT_ARRAY_SIZE(lock_types), BB_STRS, BB_STRS_LEN, NULL, 0, 0);
}

static int btf_new(void)
{
	__u32 size = good_blob();
	long fd = btf_load_raw(blob, size, NULL, 0, 0, NULL);
	cr_assert(ge(i64, fd, 0), "BTF_LOAD: %s", strerror((int)-fd));
	return (int)fd;
}

ParameterizedTestParameters(unit, load_malformed_is_rejected_with_log)
{
	return cr_make_param_array(struct bb_case, (void *)bb_cases, BT_ARRAY_SIZE(bb_cases));
}

ParameterizedTest(const struct bb_case *c, unit, load_malformed_is_rejected_with_log, .init = bt_setup,
		  .fini = bt_teardown)
{
	static char log[LOG_SIZE];
	__u32 size = bb_build(blob, sizeof(blob), c->types, c->ntypes, BB_STRS, BB_STRS_LEN, c->patch, c->npatch,
			      c->size_delta);
	memset(log, 0, sizeof(log));
	long r = btf_load_raw(blob, size, log, sizeof(log), 1, NULL);
	cr_assert(eq(i64, r, -c->err), "%s: got %ld", c->name, r);
	cr_assert(eq(str, (char *)last_line(log), (char *)c->log_last), "%s", c->name);
	/* without a log the answer is the same */
	cr_assert(eq(i64, btf_load_raw(blob, size, NULL, 0, 0, NULL), -c->err), "%s without log", c->name);
}

/* Linux 6.18 allows '.' in identifiers, also first (clang's "func.var" statics) */
BT_TEST(load_dot_in_identifier_is_accepted)
{
	const __u32 types[] = { INT32, BB_TYPE(S_DATA, BB_INFO(BTF_KIND_TYPEDEF, 0, 0), 1) };
	__u32 size = bb_build(blob, sizeof(blob), types, BT_ARRAY_SIZE(types), BB_STRS, BB_STRS_LEN, NULL, 0, 0);
	long fd = btf_load_raw(blob, size, NULL, 0, 0, NULL);
	cr_assert(ge(i64, fd, 0), "got %ld", fd);
	bt_close((int)fd);
}

BT_TEST(load_valid_returns_rdonly_cloexec_fd)
{
	int fd = btf_new();
	int fl = fcntl(fd, F_GETFL);
	cr_assert(eq(int, fl & O_ACCMODE, O_RDONLY));
	cr_assert(ne(int, fcntl(fd, F_GETFD) & FD_CLOEXEC, 0));
	bt_close(fd);
}

BT_TEST(load_valid_with_log_writes_type_dump)
{
	static char log[LOG_SIZE];
	struct btf_load_attr a;
	__u32 size = good_blob();
	long fd = btf_load_raw(blob, size, log, sizeof(log), 1, &a);
	cr_assert(ge(i64, fd, 0));
	const char *expect = "magic: 0xeb9f\nversion: 1\nflags: 0x0\nhdr_len: 24\ntype_off: 0\ntype_len: 104\n"
			     "str_off: 104\nstr_len: 38\nbtf_total_size: 166\n"
			     "[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n"
			     "[2] STRUCT bpf_spin_lock size=4 vlen=1\n\tx type_id=1 bits_offset=0\n"
			     "[3] STRUCT s size=8 vlen=2\n\tx type_id=1 bits_offset=0\n\tv type_id=2 bits_offset=32\n"
			     "[4] TYPEDEF t type_id=1\n"
			     "[5] INT x size=8 bits_offset=0 nr_bits=64 encoding=(none)\n";
	cr_assert(eq(str, log, (char *)expect));
	cr_assert(eq(u32, a.btf_log_true_size, (__u32)strlen(expect) + 1));
}

BT_TEST(load_log_too_small_is_enospc_and_keeps_the_tail)
{
	char log[16];
	struct btf_load_attr a;
	memset(log, 'X', sizeof(log));
	cr_assert(eq(i64, btf_load_raw(blob, good_blob(), log, sizeof(log), 1, &a), -ENOSPC));
	cr_assert(eq(sz, strlen(log), 15));
	cr_assert(eq(str, log, "ncoding=(none)\n"));
	cr_assert(eq(u32, a.btf_log_true_size, 410));
}

BT_TEST(load_log_fixed_keeps_the_head)
{
	char log[16];
	memset(log, 'X', sizeof(log));
	cr_assert(eq(i64, btf_load_raw(blob, good_blob(), log, sizeof(log), 1 | 8, NULL), -ENOSPC));
	cr_assert(eq(str, log, "magic: 0xeb9f\nv"));
}

BT_TEST(load_error_with_small_log_is_enospc)
{
	char log[8];
	const struct bb_case *c = &bb_cases[0];
	__u32 size = bb_build(blob, sizeof(blob), c->types, c->ntypes, BB_STRS, BB_STRS_LEN, c->patch, c->npatch, 0);
	cr_assert(eq(i64, btf_load_raw(blob, size, log, sizeof(log), 1, NULL), -ENOSPC));
}

struct log_attr_case {
	__u32 level;
	bool buf;
	__u32 size;
	int err;
};

ParameterizedTestParameters(unit, load_log_attrs_checked)
{
	static struct log_attr_case cases[] = {
		{ 0, true, 64, EINVAL },          /* a buffer without a level */
		{ 1, true, 0, EINVAL },           /* a buffer without a size */
		{ 1, false, 64, EINVAL },         /* a size without a buffer */
		{ 16, true, 64, EINVAL },         /* unknown level bits */
		{ 1, true, 0x40000000u, EINVAL }, /* size > UINT_MAX >> 2 */
		{ 1, false, 0, 0 },               /* a level alone is fine */
		{ 2, true, 4096, 0 },
	};
	return cr_make_param_array(struct log_attr_case, cases, BT_ARRAY_SIZE(cases));
}

ParameterizedTest(struct log_attr_case *c, unit, load_log_attrs_checked, .init = bt_setup, .fini = bt_teardown)
{
	static char log[4096];
	long r = btf_load_raw(blob, good_blob(), c->buf ? log : NULL, c->size, c->level, NULL);
	if (c->err)
		cr_assert(eq(i64, r, -c->err));
	else
		cr_assert(ge(i64, r, 0), "%s", strerror((int)-r));
}

BT_TEST(load_too_big_is_e2big)
{
	cr_assert(eq(i64, btf_load_raw(blob, 16u * 1024 * 1024 + 1, NULL, 0, 0, NULL), -E2BIG));
}

BT_TEST(load_unmapped_blob_is_efault)
{
	cr_assert(eq(i64, btf_load_raw(bt_unmapped_page(), 100, NULL, 0, 0, NULL), -EFAULT));
	cr_assert(eq(i64, btf_load_raw(NULL, 100, NULL, 0, 0, NULL), -EFAULT));
}

BT_TEST(load_empty_is_einval)
{
	cr_assert(eq(i64, btf_load_raw(NULL, 0, NULL, 0, 0, NULL), -EINVAL));
}

BT_TEST(load_unknown_flags_is_einval)
{
	struct btf_load_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = BT_PTR(blob);
	a.btf_size = good_blob();
	a.btf_flags = 1;
	cr_assert(eq(i64, bt_bpf(BPF_BTF_LOAD, &a, sizeof(a)), -EINVAL));
}

BT_TEST(load_short_attr_leaves_true_size_alone)
{
	static char log[LOG_SIZE];
	struct btf_load_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = BT_PTR(blob);
	a.btf_size = good_blob();
	a.btf_log_buf = BT_PTR(log);
	a.btf_log_size = sizeof(log);
	a.btf_log_level = 1;
	a.btf_log_true_size = 7;
	long fd = bt_bpf(BPF_BTF_LOAD, &a, 28);
	cr_assert(ge(i64, fd, 0));
	cr_assert(eq(u32, a.btf_log_true_size, 7));
}

/* ---- info, ids ---- */

struct btf_info {
	__u64 btf;
	__u32 btf_size;
	__u32 id;
	__u64 name;
	__u32 name_len;
	__u32 kernel_btf;
};

BT_TEST(info_returns_the_blob_and_id)
{
	int fd = btf_new();
	__u32 size = good_blob();
	char back[4096], name[16];
	struct btf_info info;
	memset(&info, 0, sizeof(info));
	memset(name, 'X', sizeof(name));
	info.btf = BT_PTR(back);
	info.btf_size = sizeof(back);
	info.name = BT_PTR(name);
	info.name_len = sizeof(name);
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, len, sizeof(info)));
	cr_assert(eq(u32, info.btf_size, size));
	cr_assert(eq(int, memcmp(back, blob, size), 0));
	cr_assert(gt(u32, info.id, 0));
	cr_assert(eq(u32, info.kernel_btf, 0));
	cr_assert(eq(u32, info.name_len, 0));
	cr_assert(eq(str, name, ""));
}

BT_TEST(info_short_len_copies_only_that)
{
	int fd = btf_new();
	char back[8];
	struct btf_info info;
	memset(&info, 0xff, sizeof(info));
	info.btf = BT_PTR(back);
	info.btf_size = 4;             /* copies 4 bytes only */
	__u32 len = 12;                /* btf and btf_size */
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	cr_assert(eq(u32, len, 12));
	cr_assert(eq(u32, info.btf_size, good_blob()));
	cr_assert(eq(u32, info.id, 0xffffffffu));
	cr_assert(eq(int, memcmp(back, blob, 4), 0));
}

BT_TEST(info_long_len_with_nonzero_tail_is_e2big)
{
	int fd = btf_new();
	char buf[64];
	memset(buf, 0, sizeof(buf));
	buf[40] = 1;
	__u32 len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), -E2BIG));
	buf[40] = 0;
	len = sizeof(buf);
	cr_assert(eq(i64, bt_info(fd, buf, &len), 0));
	cr_assert(eq(u32, len, 32));
}

BT_TEST(info_name_without_len_is_einval)
{
	int fd = btf_new();
	char name[4];
	struct btf_info info;
	memset(&info, 0, sizeof(info));
	info.name = BT_PTR(name);
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), -EINVAL));
}

BT_TEST(get_fd_by_id_and_next_id_find_it)
{
	int fd = btf_new();
	struct btf_info info;
	memset(&info, 0, sizeof(info));
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info(fd, &info, &len), 0));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf_id = info.id;
	long fd2 = bt_bpf(BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
	cr_assert(ge(i64, fd2, 0), "%s", strerror((int)-fd2));
	struct btf_info info2;
	memset(&info2, 0, sizeof(info2));
	len = sizeof(info2);
	cr_assert(eq(i64, bt_info((int)fd2, &info2, &len), 0));
	cr_assert(eq(u32, info2.id, info.id));
	memset(&a, 0, sizeof(a));
	a.start_id = info.id - 1;
	cr_assert(eq(i64, bt_bpf(BPF_BTF_GET_NEXT_ID, &a, sizeof(a)), 0));
	cr_assert(eq(u32, a.next_id, info.id));
}

/* ---- maps with BTF ---- */

static long map_create_btf(__u32 type, __u32 ks, __u32 vs, __u32 flags, int btf_fd, __u32 kid, __u32 vid)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = 4;
	a.map_flags = flags;
	a.btf_fd = (__u32)btf_fd;
	a.btf_key_type_id = kid;
	a.btf_value_type_id = vid;
	return bt_map_create_attr(&a);
}

struct map_btf_case {
	char what[48];
	__u32 type, ks, vs, flags, kid, vid;
	int err;
};

ParameterizedTestParameters(unit, map_create_with_btf_checked)
{
	static struct map_btf_case cases[] = {
		{ "array int/struct s", BPF_MAP_TYPE_ARRAY, 4, 8, 0, 1, 3, 0 },
		{ "hash typedef/int", BPF_MAP_TYPE_HASH, 4, 4, 0, 4, 1, 0 },
		{ "hash int/s", BPF_MAP_TYPE_HASH, 4, 8, 0, 1, 3, 0 },
		{ "value size mismatch", BPF_MAP_TYPE_HASH, 4, 4, 0, 1, 3, EINVAL },
		{ "key size mismatch", BPF_MAP_TYPE_HASH, 8, 8, 0, 1, 3, EINVAL },
		{ "array key not u32", BPF_MAP_TYPE_ARRAY, 4, 8, 0, 2, 3, EINVAL },
		{ "hash without key type", BPF_MAP_TYPE_HASH, 4, 8, 0, 0, 3, EINVAL },
		{ "array without key type, not datasec", BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, 3, EINVAL },
		{ "key id past the end", BPF_MAP_TYPE_HASH, 4, 8, 0, 99, 3, EINVAL },
		{ "value id past the end", BPF_MAP_TYPE_HASH, 4, 8, 0, 1, 99, EINVAL },
		{ "key type only", BPF_MAP_TYPE_HASH, 4, 8, 0, 1, 0, EINVAL },
		{ "spin lock with RDONLY_PROG", BPF_MAP_TYPE_HASH, 4, 8, BPF_F_RDONLY_PROG, 1, 3, EACCES },
	};
	return cr_make_param_array(struct map_btf_case, cases, BT_ARRAY_SIZE(cases));
}

ParameterizedTest(struct map_btf_case *c, unit, map_create_with_btf_checked, .init = bt_setup, .fini = bt_teardown)
{
	int btf = btf_new();
	long fd = map_create_btf(c->type, c->ks, c->vs, c->flags, btf, c->kid, c->vid);
	if (c->err) {
		cr_assert(eq(i64, fd, -c->err), "%s", c->what);
		return;
	}
	cr_assert(ge(i64, fd, 0), "%s: %s", c->what, strerror((int)-fd));
	struct bpf_map_info info;
	struct btf_info binfo;
	memset(&info, 0, sizeof(info));
	memset(&binfo, 0, sizeof(binfo));
	__u32 len = sizeof(info);
	cr_assert(eq(i64, bt_info((int)fd, &info, &len), 0));
	len = sizeof(binfo);
	cr_assert(eq(i64, bt_info(btf, &binfo, &len), 0));
	cr_assert(eq(u32, info.btf_id, binfo.id));
	cr_assert(eq(u32, info.btf_key_type_id, c->kid));
	cr_assert(eq(u32, info.btf_value_type_id, c->vid));
}

BT_TEST(map_create_btf_fd_not_btf_is_einval)
{
	int m = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	cr_assert(eq(i64, map_create_btf(BPF_MAP_TYPE_HASH, 4, 8, 0, m, 1, 3), -EINVAL));
	cr_assert(eq(i64, map_create_btf(BPF_MAP_TYPE_HASH, 4, 8, 0, bt_closed_fd(), 1, 3), -EBADF));
}

BT_TEST(map_create_bad_type_checked_before_btf)
{
	cr_assert(eq(i64, map_create_btf(BPF_MAP_TYPE_HASH, 0, 8, 0, bt_closed_fd(), 1, 3), -EINVAL));
}

static int lock_map(__u32 type, __u32 flags)
{
	int btf = btf_new();
	long fd = map_create_btf(type, 4, 8, flags, btf, 1, 3);
	cr_assert(ge(i64, fd, 0), "%s", strerror((int)-fd));
	return (int)fd;
}

BT_TEST(lock_update_and_lookup_with_f_lock_work)
{
	__u32 types[] = { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH };
	for (size_t i = 0; i < BT_ARRAY_SIZE(types); i++) {
		int fd = lock_map(types[i], 0);
		__u32 k = 1, v[2] = { 42, 0xdeadbeef }, out[2] = { 0, 0 };
		cr_assert(eq(i64, bt_update(fd, &k, v, BPF_F_LOCK), 0));
		cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_ELEM, fd, &k, out, BPF_F_LOCK), 0));
		cr_assert(eq(u32, out[0], 42));
		cr_assert(eq(u32, out[1], 0), "the lock reads as zero");
		v[0] = 43;
		cr_assert(eq(i64, bt_update(fd, &k, v, 0), 0));
		cr_assert(eq(i64, bt_lookup(fd, &k, out), 0));
		cr_assert(eq(u32, out[0], 43));
		cr_assert(eq(u32, out[1], 0));
	}
}

BT_TEST(lock_f_lock_without_spin_lock_is_einval)
{
	int fd = bt_map_new(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	__u32 k = 0, v[2] = { 0, 0 };
	cr_assert(eq(i64, bt_update(fd, &k, v, BPF_F_LOCK), -EINVAL));
	cr_assert(eq(i64, bt_elem(BPF_MAP_LOOKUP_ELEM, fd, &k, v, BPF_F_LOCK), -EINVAL));
}

BT_TEST(lock_freeze_is_enotsupp)
{
	int fd = lock_map(BPF_MAP_TYPE_ARRAY, 0);
	cr_assert(eq(i64, bt_freeze(fd), -524));
}

BT_TEST(lock_mmap_is_enotsupp)
{
	int fd = lock_map(BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE);
	errno = 0;
	cr_assert(eq(ptr, bt_mmap(fd, 4096, PROT_READ, MAP_SHARED), MAP_FAILED));
	cr_assert(eq(int, errno, 524));
}

/* emu/btf.c keeps the parsed types of blobs verified without a log, keyed by
 * their bytes: a blob that differs in one byte is verified on its own, a
 * reload of a kept one answers as the first load did, with or without a log,
 * and maps made with it are checked as with a fresh verification, past the
 * cache's few slots too. */
BT_TEST(load_again_and_maps_answer_as_the_first_time)
{
	static char bad[4096], log1[LOG_SIZE], log2[LOG_SIZE];
	__u32 size = good_blob();
	int fds[2];
	for (int i = 0; i < 2; i++) {
		long fd = btf_load_raw(blob, size, NULL, 0, 0, NULL);
		cr_assert(ge(i64, fd, 0), "load %d: %s", i, strerror((int)-fd));
		fds[i] = (int)fd;
	}
	/* struct s's member v of type 99: the same size, one word apart */
	__u32 types[BT_ARRAY_SIZE(lock_types)];
	memcpy(types, lock_types, sizeof(types));
	cr_assert(eq(u32, types[17], 2));
	types[17] = 99;
	__u32 bsize = bb_build(bad, sizeof(bad), types, BT_ARRAY_SIZE(types), BB_STRS, BB_STRS_LEN, NULL, 0, 0);
	cr_assert(eq(u32, bsize, size));
	for (int i = 0; i < 2; i++)
		cr_assert(eq(i64, btf_load_raw(bad, bsize, NULL, 0, 0, NULL), -EINVAL), "load %d of the bad blob", i);
	cr_assert(eq(i64, btf_load_raw(bad, bsize, log1, LOG_SIZE, 1, NULL), -EINVAL));
	cr_assert(not(eq(ptr, strstr(last_line(log1), "Invalid member"), NULL)), "%s", last_line(log1));
	/* a kept blob with a log: the same log as a fresh one */
	long l1 = btf_load_raw(blob, size, log1, LOG_SIZE, 1, NULL);
	long l2 = btf_load_raw(blob, size, log2, LOG_SIZE, 1, NULL);
	cr_assert(ge(i64, l1, 0));
	cr_assert(ge(i64, l2, 0));
	cr_assert(eq(str, log1, log2));
	cr_assert(gt(sz, strlen(log1), 0));
	/* more kept blobs than slots (a typedef more each: other bytes), then
	 * maps on every one of them, twice */
	int more[6];
	static __u32 grown[BT_ARRAY_SIZE(lock_types) + 3 * 6];
	static char mblob[6][4096];
	memcpy(grown, lock_types, sizeof(lock_types));
	for (int i = 0; i < 6; i++) {
		__u32 *t = grown + BT_ARRAY_SIZE(lock_types) + 3 * i;
		t[0] = S_T;
		t[1] = BB_INFO(BTF_KIND_TYPEDEF, 0, 0);
		t[2] = 1;
		__u32 n = bb_build(mblob[i], sizeof(mblob[i]), grown, BT_ARRAY_SIZE(lock_types) + 3 * (i + 1), BB_STRS,
				   BB_STRS_LEN, NULL, 0, 0);
		long fd = btf_load_raw(mblob[i], n, NULL, 0, 0, NULL);
		cr_assert(ge(i64, fd, 0), "blob %d: %s", i, strerror((int)-fd));
		more[i] = (int)fd;
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 8; i++) {
			int btf = i < 2 ? fds[i] : more[i - 2];
			long m = map_create_btf(BPF_MAP_TYPE_HASH, 4, 8, 0, btf, 1, 3);
			cr_assert(ge(i64, m, 0), "round %d btf %d: %s", round, i, strerror((int)-m));
			close((int)m);
			cr_assert(eq(i64, map_create_btf(BPF_MAP_TYPE_HASH, 4, 4, 0, btf, 1, 3), -EINVAL));
			cr_assert(eq(i64, map_create_btf(BPF_MAP_TYPE_HASH, 4, 8, BPF_F_RDONLY_PROG, btf, 1, 3), -EACCES));
			cr_assert(eq(i64, map_create_btf(BPF_MAP_TYPE_ARRAY, 4, 4, 0, btf, 1, 3 + 3 + (__u32)i), -EINVAL),
				  "value id past this blob's end");
			/* [6], a typedef of int, only in the grown blobs */
			m = map_create_btf(BPF_MAP_TYPE_HASH, 4, 4, 0, btf, 4, 6);
			if (i < 2) {
				cr_assert(eq(i64, m, -EINVAL), "round %d btf %d", round, i);
			} else {
				cr_assert(ge(i64, m, 0), "round %d btf %d: %s", round, i, strerror((int)-m));
				close((int)m);
			}
		}
	}
}
