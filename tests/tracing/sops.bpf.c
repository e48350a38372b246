/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/sops.bpf.c: a tiny TCP congestion control as a libbpf
 * struct_ops map (SEC(".struct_ops")), for `bpftool struct_ops register`
 * (Debian's libbpf 1.1: bpf_map__attach_struct_ops). Only the members it
 * fills are declared; libbpf matches them by name in the kernel's BTF.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct sock;
struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	char name[16];
	__u32 flags;
} __attribute__((preserve_access_index));

char _license[] SEC("license") = "GPL";

__u32 calls;

SEC("struct_ops/sops_ssthresh")
__u32 BPF_PROG(sops_ssthresh, struct sock *sk)
{
	__sync_fetch_and_add(&calls, 1);
	return 7;
}

SEC("struct_ops/sops_cong_avoid")
void BPF_PROG(sops_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	calls += acked;
}

SEC("struct_ops/sops_undo_cwnd")
__u32 BPF_PROG(sops_undo_cwnd, struct sock *sk)
{
	return 10;
}

SEC(".struct_ops")
struct tcp_congestion_ops sops_ca = {
	.ssthresh = (void *)sops_ssthresh,
	.cong_avoid = (void *)sops_cong_avoid,
	.undo_cwnd = (void *)sops_undo_cwnd,
	.name = "bpfemu_sops",
};
