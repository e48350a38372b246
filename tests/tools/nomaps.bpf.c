/* A BPF object with no map section at all. */
#define SEC(n) __attribute__((section(n), used))
char LICENSE[] SEC("license") = "GPL";
