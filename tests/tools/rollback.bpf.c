/* Two BTF-defined maps, the second invalid (an ARRAY's key must be 4 bytes,
 * EINVAL from BPF_MAP_CREATE): load must leave nothing pinned. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 8);
} first SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 8);
	__uint(value_size, 4);
	__uint(max_entries, 8);
} second SEC(".maps");
