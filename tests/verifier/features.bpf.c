// SPDX-License-Identifier: GPL-2.0
/*
 * tests/verifier/features.bpf.c: programs that reach the verifier's parts the
 * mutants' seeds do not: callbacks (bpf_loop, bpf_for_each_map_elem),
 * global functions checked against their BTF prototypes, bpf-to-bpf calls
 * passing stack pointers, reference tracking (socket lookups, ring buffer
 * records), spin locks in map values, loops over packet data, tail calls.
 * clang -O2 -g -target bpf; loaded by `bpftool prog loadall` under bpfemu
 * and on the kernel (features.sh), every program's verdict and
 * verified_insns compared (libloadwatch.so).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct val {
	struct bpf_spin_lock lock;
	__u64 count;
	__u64 sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct val);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

struct loop_ctx {
	__u64 sum;
	__u32 limit;
};

static long loop_body(__u32 i, void *data)
{
	struct loop_ctx *c = data;

	if (i >= c->limit)
		return 1;
	c->sum += i * 3;
	return 0;
}

SEC("kprobe/do_unlinkat")
int with_bpf_loop(void *ctx)
{
	struct loop_ctx c = { .sum = 0, .limit = 20 };

	bpf_loop(100, loop_body, &c, 0);
	return c.sum > 1000;
}

static long sum_elem(void *map, __u32 *key, __u64 *val, void *data)
{
	*(__u64 *)data += *val;
	return *key > 32;
}

SEC("kprobe/do_unlinkat")
int with_for_each(void *ctx)
{
	__u64 total = 0;

	bpf_for_each_map_elem(&counts, sum_elem, &total, 0);
	return total & 1;
}

struct arr {
	__u64 v[8];
};

__attribute__((noinline)) int global_sum(struct arr *a, int n)
{
	int s = 0;

	if (!a)
		return 0;
	for (int i = 0; i < 8 && i < n; i++)
		s += a->v[i];
	return s;
}

static __attribute__((noinline)) __u64 stack_fill(__u64 *buf, int n)
{
	for (int i = 0; i < 8; i++)
		buf[i] = i < n ? i * 7 : 0;
	return buf[n & 7];
}

SEC("kprobe/do_unlinkat")
int with_calls(void *ctx)
{
	struct arr buf;
	__u64 r = stack_fill(buf.v, bpf_get_prandom_u32() & 7);

	return global_sum(&buf, 4) + (int)r;
}

SEC("tc")
int with_spin_lock(struct __sk_buff *skb)
{
	__u32 key = bpf_get_prandom_u32() & 3;
	struct val *v = bpf_map_lookup_elem(&locked, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->count++;
	v->sum += key;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("kprobe/do_unlinkat")
int with_ringbuf(void *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&events, 16, 0);

	if (!rec)
		return 0;
	rec[0] = bpf_ktime_get_ns();
	rec[1] = bpf_get_current_pid_tgid();
	if (rec[1] & 1)
		bpf_ringbuf_discard(rec, 0);
	else
		bpf_ringbuf_submit(rec, 0);
	return 0;
}

SEC("tc")
int with_sk_lookup(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;

	tuple.ipv4.daddr = bpf_htonl(0x7f000001);
	tuple.ipv4.dport = bpf_htons(80);
	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	if (sk->state == 10)
		skb->mark = 1;
	bpf_sk_release(sk);
	return TC_ACT_OK;
}

SEC("xdp")
int with_packet_loop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 sum = 0;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	__u8 *p = (void *)(ip + 1);
	for (int i = 0; i < 16; i++) {
		if ((void *)(p + i + 1) > end)
			break;
		sum += p[i];
	}
	return sum > 0x100 ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int with_tail_call(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, skb->len & 3);
	return 0;
}

SEC("kprobe/do_unlinkat")
int with_map_update(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &pid);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	return 0;
}
