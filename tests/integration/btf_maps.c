/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/btf_maps.c DIR: builds BTF with Debian's libbpf
 * (btf__add_*), loads it (btf__load_into_kernel), creates a HASH and an
 * ARRAY map with it, one value holding a bpf_spin_lock, fills them and pins
 * them in DIR (btf_hash, btf_lock). Prints a transcript without ids.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#define CHECK(x, what) do { if ((x) < 0) { printf("%s: %s\n", what, strerror(errno)); return 1; } } while (0)

struct val {
	int a;
	char name[8];
	unsigned long long cnt;
	int color;
};

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/sys/fs/bpf";
	char path[256];
	struct btf *btf = btf__new_empty();
	if (!btf)
		return 1;
	int t_int = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	int t_char = btf__add_int(btf, "char", 1, BTF_INT_SIGNED);
	int t_u64 = btf__add_int(btf, "unsigned long long", 8, 0);
	int t_idx = btf__add_int(btf, "__ARRAY_SIZE_TYPE__", 4, 0);
	int t_arr = btf__add_array(btf, t_idx, t_char, 8);
	int t_enum = btf__add_enum(btf, "color", 4);
	btf__add_enum_value(btf, "RED", 0);
	btf__add_enum_value(btf, "GREEN", 1);
	int t_val = btf__add_struct(btf, "val", sizeof(struct val));
	btf__add_field(btf, "a", t_int, 0, 0);
	btf__add_field(btf, "name", t_arr, 32, 0);
	btf__add_field(btf, "cnt", t_u64, 96 + 32, 0);
	btf__add_field(btf, "color", t_enum, 192, 0);
	int t_key = btf__add_typedef(btf, "key_t", t_int);
	int t_lock = btf__add_struct(btf, "bpf_spin_lock", 4);
	btf__add_field(btf, "val", t_int, 0, 0);
	int t_locked = btf__add_struct(btf, "locked", 8);
	btf__add_field(btf, "lock", t_lock, 0, 0);
	btf__add_field(btf, "n", t_int, 32, 0);
	CHECK(btf__load_into_kernel(btf), "btf load");
	printf("btf loaded: fd ok, %u types\n", btf__type_cnt(btf) - 1);

	LIBBPF_OPTS(bpf_map_create_opts, o, .btf_fd = btf__fd(btf), .btf_key_type_id = t_key,
		    .btf_value_type_id = t_val);
	int h = bpf_map_create(BPF_MAP_TYPE_HASH, "btf_hash", 4, sizeof(struct val), 8, &o);
	CHECK(h, "hash create");
	for (int k = 1; k <= 2; k++) {
		struct val v = { .a = k * 10, .cnt = 1000ull * k, .color = k - 1 };
		memcpy(v.name, k == 1 ? "elem1" : "elem2", 6);
		CHECK(bpf_map_update_elem(h, &k, &v, BPF_ANY), "hash update");
	}
	snprintf(path, sizeof(path), "%s/btf_hash", dir);
	CHECK(bpf_obj_pin(h, path), "pin hash");

	o.btf_key_type_id = t_int;
	o.btf_value_type_id = t_locked;
	int l = bpf_map_create(BPF_MAP_TYPE_ARRAY, "btf_lock", 4, 8, 2, &o);
	CHECK(l, "lock array create");
	int k = 1, v[2] = { 0x7f, 5 };
	CHECK(bpf_map_update_elem(l, &k, v, BPF_F_LOCK), "locked update");
	int out[2] = { -1, -1 };
	CHECK(bpf_map_lookup_elem_flags(l, &k, out, BPF_F_LOCK), "locked lookup");
	printf("locked lookup: lock %d n %d\n", out[0], out[1]);
	printf("freeze locked map: %s\n", bpf_map_freeze(l) ? strerror(errno) : "ok");
	snprintf(path, sizeof(path), "%s/btf_lock", dir);
	CHECK(bpf_obj_pin(l, path), "pin lock");

	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	CHECK(bpf_obj_get_info_by_fd(h, &info, &len), "map info");
	struct btf *back = btf__load_from_kernel_by_id(info.btf_id);
	printf("map btf: key %u value %u, read back %s, %u types\n", info.btf_key_type_id, info.btf_value_type_id,
	       back ? "ok" : strerror(errno), back ? btf__type_cnt(back) - 1 : 0);
	btf__free(back);
	btf__free(btf);
	return 0;
}
