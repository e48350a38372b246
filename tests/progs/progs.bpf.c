/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/progs.bpf.c: an ordinary libbpf program, built with
 * clang -O2 -g -target bpf (BTF included). BTF-defined maps of several types,
 * global data in .data/.bss/.rodata, a map pinned by name, and programs of
 * several types. Loaded by tests/progs/loader.c and by the skeleton program
 * tests/progs/skel_main.c, on the kernel and under bpfemu.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct pair {
	__u32 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct pair);
	__uint(max_entries, 128);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 4);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner1 },
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 4);
} jmp SEC(".maps");

/* global data: .data, .bss, .rodata */
__u64 counter = 0;                 /* .bss */
__u32 flags_seen = 0;              /* .bss */
__u64 started = 7;                 /* .data */
char tagline[16] = "bpfemu";       /* .data */
const volatile __u32 limit = 42;   /* .rodata */
const volatile __u64 magic = 0x1234;

struct event {
	__u32 kind;
	__u32 len;
};

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&stats, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	__sync_fetch_and_add(&counter, 1);
	if (ctx->data_end - ctx->data > limit)
		return XDP_DROP;
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	__u32 k = skb->protocol;
	struct pair *p = bpf_map_lookup_elem(&counts, &k);
	if (p) {
		p->b++;
	} else {
		struct pair n = { .a = k, .b = 1 };
		bpf_map_update_elem(&counts, &k, &n, BPF_ANY);
	}
	started++;
	return TC_ACT_OK;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u32 k = 1;
	__u32 *s = bpf_map_lookup_elem(&shared, &k);
	if (s && *s > magic)
		return 0;
	flags_seen |= skb->len;
	return skb->len;
}

SEC("tracepoint/syscalls/sys_enter_nanosleep")
int tp_nanosleep(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 k = 0;
	void *in = bpf_map_lookup_elem(&outer, &k);
	if (!e)
		return 0;
	e->kind = 1;
	e->len = in ? 1 : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/do_nanosleep")
int kp_nanosleep(void *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	struct pair n = { .a = pid, .b = now };
	bpf_map_update_elem(&counts, &pid, &n, BPF_ANY);
	bpf_printk("nanosleep %s", tagline);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
