/* Map-in-map: BTF `values` (inner template) and iproute2's id/inner_id. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(key_size, 4);
	__uint(max_entries, 2);
	__array(values, struct inner);
} outer SEC(".maps");

struct bpf_elf_map {
	unsigned int type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};

struct bpf_elf_map SEC("maps") slot = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 4, .max_elem = 8,
	.id = 42, .inner_idx = 1,
};

struct bpf_elf_map SEC("maps") slots = {
	.type = BPF_MAP_TYPE_HASH_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 4,
	.inner_id = 42,
};
