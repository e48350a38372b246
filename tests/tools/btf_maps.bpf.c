/* BTF-defined maps (SEC(".maps")), libbpf's convention. Compiled by the
 * tools tests with clang -O2 -g -target bpf. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef COUNTS_MAX
#define COUNTS_MAX 1024
#endif

struct pair { __u32 a; __u64 b; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct pair);
	__uint(max_entries, COUNTS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 64);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} table SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
