/* iproute2's struct bpf_elf_map in SEC("maps") (36 bytes: + id, pinning,
 * inner_id, inner_idx). Compiled by the tools tests with clang -target bpf. */
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))
#define PIN_GLOBAL_NS 2

struct bpf_elf_map {
	unsigned int type;
	unsigned int size_key;
	unsigned int size_value;
	unsigned int max_elem;
	unsigned int flags;
	unsigned int id;
	unsigned int pinning;
	unsigned int inner_id;
	unsigned int inner_idx;
};

struct bpf_elf_map SEC("maps") acl = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 64,
	.flags = BPF_F_NO_PREALLOC,
	.pinning = PIN_GLOBAL_NS,
};

struct bpf_elf_map SEC("maps") hits = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 32,
	.id = 7,
};

char LICENSE[] SEC("license") = "GPL";
