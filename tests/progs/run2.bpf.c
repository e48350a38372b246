/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/run2.bpf.c: programs of the types and helpers beyond run.bpf.c,
 * test-run by tests/progs/run2_loader.c on the kernel (as root) and under
 * bpfemu (as nobody): a flow dissector, an sk_lookup program, a tc program
 * that reshapes its skb (VLAN tag, tail, TTL with the checksum, the hash), a
 * syscall program with bpf_snprintf, bpf_strtol, bpf_strncmp and bpf_sys_bpf,
 * and an XDP program that prints (bpf_printk, read back through the trace
 * buffer by `bpftool prog tracelog`).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} ports SEC(".maps");

/* ---- flow dissector: Ethernet, IPv4, UDP/TCP ports ---- */

SEC("flow_dissector")
int flow(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct bpf_flow_keys *k = skb->flow_keys;
	struct iphdr *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || k->n_proto != bpf_htons(ETH_P_IP))
		return BPF_DROP;
	k->addr_proto = ETH_P_IP;
	k->ip_proto = ip->protocol;
	k->ipv4_src = ip->saddr;
	k->ipv4_dst = ip->daddr;
	k->thoff = ETH_HLEN + sizeof(*ip);
	struct udphdr *udp = (void *)(ip + 1);
	if (ip->ihl != 5 || (void *)(udp + 1) > end)
		return BPF_OK;
	k->sport = udp->source;
	k->dport = udp->dest;
	return BPF_OK;
}

/* ---- sk_lookup: count local ports, drop port 7 ---- */

SEC("sk_lookup")
int lookup(struct bpf_sk_lookup *ctx)
{
	__u32 slot = ctx->local_port & 7;
	__u64 *n = bpf_map_lookup_elem(&ports, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	if (bpf_sk_assign(ctx, NULL, 0))
		return SK_DROP;
	return ctx->local_port == 7 ? SK_DROP : SK_PASS;
}

/* ---- tc: the skb reshaped ---- */

SEC("tc")
int tc_reshape(struct __sk_buff *skb)
{
	skb->cb[0] = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 42);
	skb->cb[1] = bpf_skb_change_tail(skb, skb->len + 6, 0);
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end)
		return TC_ACT_SHOT;
	__u16 old = *(__u16 *)&ip->ttl, new;
	ip->ttl--;
	new = *(__u16 *)&ip->ttl;
	skb->cb[2] = bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2);
	bpf_set_hash(skb, 0xabcd);
	skb->cb[3] = bpf_get_hash_recalc(skb);
	skb->cb[4] = skb->vlan_tci | skb->vlan_present << 16;
	return TC_ACT_OK;
}

/* ---- syscall: strings, formatting, bpf() ---- */

struct args {
	char in[16];                   /* a number */
	long long parsed;
	int cmp;
	int fmt_len;
	char out[48];
	int map_fd;
	int pad;
};

char out_buf[48];
const char want[] = "ab";
const char fmt[] = "%s=%lld [%5d] %x";

SEC("syscall")
int sys_prog(struct args *ctx)
{
	char in[16];
	long long v = 0;
	__builtin_memcpy(in, ctx->in, sizeof(in));
	in[15] = 0;
	int n = bpf_strtol(in, sizeof(in), 0, (long *)&v);
	ctx->parsed = v;
	ctx->cmp = bpf_strncmp(in, 2, want);
	__u64 data[4] = { (__u64)(long)want, v, -3, 255 };
	ctx->fmt_len = bpf_snprintf(out_buf, sizeof(out_buf), fmt, data, sizeof(data));
	__builtin_memcpy(ctx->out, out_buf, sizeof(out_buf));
	union bpf_attr attr = {};
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 2;
	ctx->map_fd = bpf_sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	return n;
}

/* ---- timers: armed by a test run, firing after it ---- */

struct tval {
	__u64 fired;
	int init, set, start, cancel;
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct tval);
	__uint(max_entries, 1);
} tmap SEC(".maps");

static int timer_cb(void *map, __u32 *key, struct tval *v)
{
	v->fired += 1 + *key;
	return 0;
}

/* mode (the packet's first byte): 0 arm for 50 ms, 1 arm for 50 ms and cancel */
SEC("xdp")
int xdp_timer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0;
	struct tval *v = bpf_map_lookup_elem(&tmap, &k);
	if (!v || data + 1 > end)
		return XDP_ABORTED;
	v->init = bpf_timer_init(&v->t, &tmap, 1 /* CLOCK_MONOTONIC */);
	v->set = bpf_timer_set_callback(&v->t, timer_cb);
	v->start = bpf_timer_start(&v->t, 200 * 1000 * 1000, 0);   /* 200 ms: a loaded machine may stall the reader between run and lookup */
	v->cancel = *(__u8 *)data == 1 ? bpf_timer_cancel(&v->t) : -1;
	return XDP_PASS;
}

/* ---- xdp: what it prints ---- */

SEC("xdp")
int xdp_print(struct xdp_md *ctx)
{
	int len = ctx->data_end - ctx->data;
	bpf_printk("run2 xdp len %d", len);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
