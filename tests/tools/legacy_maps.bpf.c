/* Legacy maps: struct bpf_map_def in SEC("maps") (20 bytes), which libbpf 1.x
 * refuses. Compiled by the tools tests with clang -O2 -g -target bpf. */
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") flows = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 8,
	.value_size = 16,
	.max_entries = 256,
};

struct bpf_map_def SEC("maps") stats = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
};

char LICENSE[] SEC("license") = "GPL";
