/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/ctx.c: the context each program type gets in R1, as Linux
 * 6.18's verifier_ops->is_valid_access() answers for a load or store of
 * size bytes at off: allowed or not, what a load gives (a scalar, a packet
 * pointer, a socket...), the field's full size for narrow loads. Tracing
 * programs ask the kernel's BTF (kbtf.c); the attach target they name is
 * checked here too (check_attach_btf_id's part of bpf_check_attach_target).
 */
#include <errno.h>
#include <string.h>

#include "env.h"

#define RANGE(type, m) offsetof(type, m) ... offsetof(type, m) + sizeof(((type *)0)->m) - 1
#define RANGE_TILL(type, m1, m2) offsetof(type, m1) ... offsetof(type, m2) + sizeof(((type *)0)->m2) - 1
#define OFFEND(type, m) (offsetof(type, m) + sizeof(((type *)0)->m))
#define RANGE_PTR(type, m) offsetof(type, m) ... offsetof(type, m) + 8 - 1

#define PTR_TO_SOCK_COMMON_OR_NULL (PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL)
#define PTR_TO_SOCKET_OR_NULL (PTR_TO_SOCKET | PTR_MAYBE_NULL)
#define PT_REGS_SIZE 168        /* x86-64 struct pt_regs */
#define PERF_MAX_TRACE_SIZE 8192       /* Linux 6.18 (older kernels: 2048) */

static bool narrow_ok(int size, int size_default)
{
	return size <= size_default && (size & (size - 1)) == 0;
}

static bool wide_ok(int off, int size, size_t start, size_t end)
{
	return size == 8 && off >= (int)start && (size_t)off + 8 <= end && off % 8 == 0;
}

/* ---- struct __sk_buff ---- */

static bool skb_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off >= (int)sizeof(struct __sk_buff) || off % size)
		return false;
	switch (off) {
	case RANGE_TILL(struct __sk_buff, cb[0], cb[4]):
		if ((size_t)(off + size) > OFFEND(struct __sk_buff, cb[4]))
			return false;
		break;
	case RANGE(struct __sk_buff, data):
	case RANGE(struct __sk_buff, data_meta):
	case RANGE(struct __sk_buff, data_end):
		if (info->is_ldsx || size != 4)     /* no sign-extended packet pointers */
			return false;
		break;
	case RANGE_TILL(struct __sk_buff, remote_ip6[0], remote_ip6[3]):
	case RANGE_TILL(struct __sk_buff, local_ip6[0], local_ip6[3]):
	case RANGE(struct __sk_buff, remote_ip4):
	case RANGE(struct __sk_buff, local_ip4):
		if (size != 4)
			return false;
		break;
	case RANGE_PTR(struct __sk_buff, flow_keys):
		return false;
	case RANGE(struct __sk_buff, hwtstamp):
		if (t == BPF_WRITE || size != 8)
			return false;
		break;
	case RANGE(struct __sk_buff, tstamp):
		if (size != 8)
			return false;
		break;
	case RANGE_PTR(struct __sk_buff, sk):
		if (t == BPF_WRITE || size != 8)
			return false;
		info->reg_type = PTR_TO_SOCK_COMMON_OR_NULL;
		break;
	case offsetof(struct __sk_buff, tstamp_type):
		return false;
	case OFFEND(struct __sk_buff, tstamp_type) ... offsetof(struct __sk_buff, hwtstamp) - 1:
		return false;
	default:
		if (t == BPF_WRITE) {
			if (size != 4)
				return false;
		} else {
			info->ctx_field_size = 4;
			if (!narrow_ok(size, 4))
				return false;
		}
	}
	return true;
}

static bool sk_filter_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	switch (off) {
	case RANGE(struct __sk_buff, tc_classid):
	case RANGE(struct __sk_buff, data):
	case RANGE(struct __sk_buff, data_meta):
	case RANGE(struct __sk_buff, data_end):
	case RANGE_TILL(struct __sk_buff, family, local_port):
	case RANGE(struct __sk_buff, tstamp):
	case RANGE(struct __sk_buff, wire_len):
	case RANGE(struct __sk_buff, hwtstamp):
		return false;
	}
	if (t == BPF_WRITE) {
		switch (off) {
		case RANGE_TILL(struct __sk_buff, cb[0], cb[4]):
			break;
		default:
			return false;
		}
	}
	return skb_access(env, off, size, t, info);
}

static bool cg_skb_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	switch (off) {
	case RANGE(struct __sk_buff, tc_classid):
	case RANGE(struct __sk_buff, data_meta):
	case RANGE(struct __sk_buff, wire_len):
		return false;
	case RANGE(struct __sk_buff, data):
	case RANGE(struct __sk_buff, data_end):
		if (!env->bpf_capable)
			return false;
		break;
	}
	if (t == BPF_WRITE) {
		switch (off) {
		case RANGE(struct __sk_buff, mark):
		case RANGE(struct __sk_buff, priority):
		case RANGE_TILL(struct __sk_buff, cb[0], cb[4]):
			break;
		case RANGE(struct __sk_buff, tstamp):
			if (!env->bpf_capable)
				return false;
			break;
		default:
			return false;
		}
	}
	switch (off) {
	case RANGE(struct __sk_buff, data):
		info->reg_type = PTR_TO_PACKET;
		break;
	case RANGE(struct __sk_buff, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		break;
	}
	return skb_access(env, off, size, t, info);
}

static bool lwt_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	switch (off) {
	case RANGE(struct __sk_buff, tc_classid):
	case RANGE_TILL(struct __sk_buff, family, local_port):
	case RANGE(struct __sk_buff, data_meta):
	case RANGE(struct __sk_buff, tstamp):
	case RANGE(struct __sk_buff, wire_len):
	case RANGE(struct __sk_buff, hwtstamp):
		return false;
	}
	if (t == BPF_WRITE) {
		switch (off) {
		case RANGE(struct __sk_buff, mark):
		case RANGE(struct __sk_buff, priority):
		case RANGE_TILL(struct __sk_buff, cb[0], cb[4]):
			break;
		default:
			return false;
		}
	}
	switch (off) {
	case RANGE(struct __sk_buff, data):
		info->reg_type = PTR_TO_PACKET;
		break;
	case RANGE(struct __sk_buff, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		break;
	}
	return skb_access(env, off, size, t, info);
}

static bool tc_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (t == BPF_WRITE) {
		switch (off) {
		case RANGE(struct __sk_buff, mark):
		case RANGE(struct __sk_buff, tc_index):
		case RANGE(struct __sk_buff, priority):
		case RANGE(struct __sk_buff, tc_classid):
		case RANGE_TILL(struct __sk_buff, cb[0], cb[4]):
		case RANGE(struct __sk_buff, tstamp):
		case RANGE(struct __sk_buff, queue_mapping):
			break;
		default:
			return false;
		}
	}
	switch (off) {
	case RANGE(struct __sk_buff, data):
		info->reg_type = PTR_TO_PACKET;
		break;
	case RANGE(struct __sk_buff, data_meta):
		info->reg_type = PTR_TO_PACKET_META;
		break;
	case RANGE(struct __sk_buff, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		break;
	case RANGE_TILL(struct __sk_buff, family, local_port):
		return false;
	case offsetof(struct __sk_buff, tstamp_type):
		return size == 1;
	}
	return skb_access(env, off, size, t, info);
}

static bool sk_skb_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	switch (off) {
	case RANGE(struct __sk_buff, tc_classid):
	case RANGE(struct __sk_buff, data_meta):
	case RANGE(struct __sk_buff, tstamp):
	case RANGE(struct __sk_buff, wire_len):
	case RANGE(struct __sk_buff, hwtstamp):
		return false;
	}
	if (t == BPF_WRITE) {
		switch (off) {
		case RANGE(struct __sk_buff, tc_index):
		case RANGE(struct __sk_buff, priority):
			break;
		default:
			return false;
		}
	}
	switch (off) {
	case RANGE(struct __sk_buff, mark):
		return false;
	case RANGE(struct __sk_buff, data):
		info->reg_type = PTR_TO_PACKET;
		break;
	case RANGE(struct __sk_buff, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		break;
	}
	return skb_access(env, off, size, t, info);
}

/* flow_dissector_is_valid_access() */
static bool flow_dissector_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off >= (int)sizeof(struct __sk_buff))
		return false;
	if (off % size)         /* the 2025 fix that 6.18 has: a misaligned load made a packet pointer */
		return false;
	if (t == BPF_WRITE)
		return false;
	switch (off) {
	case RANGE(struct __sk_buff, data):
		if (info->is_ldsx || size != 4)
			return false;
		info->reg_type = PTR_TO_PACKET;
		return true;
	case RANGE(struct __sk_buff, data_end):
		if (info->is_ldsx || size != 4)
			return false;
		info->reg_type = PTR_TO_PACKET_END;
		return true;
	case RANGE_PTR(struct __sk_buff, flow_keys):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_FLOW_KEYS;
		return true;
	default:
		return false;
	}
}

/* ---- struct xdp_md ---- */

static bool xdp_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (env->expected_attach_type != BPF_XDP_DEVMAP && off == (int)offsetof(struct xdp_md, egress_ifindex))
		return false;
	if (t == BPF_WRITE)
		return false;       /* no device-bound programs here */
	if (info->is_ldsx && (off == (int)offsetof(struct xdp_md, data) || off == (int)offsetof(struct xdp_md, data_meta) ||
			      off == (int)offsetof(struct xdp_md, data_end)))
		return false;
	switch (off) {
	case offsetof(struct xdp_md, data):
		info->reg_type = PTR_TO_PACKET;
		break;
	case offsetof(struct xdp_md, data_meta):
		info->reg_type = PTR_TO_PACKET_META;
		break;
	case offsetof(struct xdp_md, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		break;
	}
	return off >= 0 && off < (int)sizeof(struct xdp_md) && off % size == 0 && size == 4;
}

/* ---- struct bpf_sock (cgroup sock programs, and sockets programs get pointers to) ---- */

bool sock_is_valid_access(__u32 reg_type, int off, int size, int t, struct ctx_access_info *info)
{
	/* bpf_sock_common_is_valid_access() for sock_common: no fields from type to priority */
	if (base_type(reg_type) == PTR_TO_SOCK_COMMON && off >= (int)offsetof(struct bpf_sock, type) &&
	    off < (int)OFFEND(struct bpf_sock, priority))
		return false;
	if (base_type(reg_type) == PTR_TO_TCP_SOCK) {
		/* bpf_tcp_sock_is_valid_access() */
		if (off < 0 || off >= (int)OFFEND(struct bpf_tcp_sock, bytes_acked) || t != BPF_READ || off % size)
			return false;
		if (off >= (int)offsetof(struct bpf_tcp_sock, bytes_received) &&
		    off <= (int)offsetof(struct bpf_tcp_sock, bytes_acked) + 7)
			return size == 8;
		return size == 4;
	}
	if (base_type(reg_type) == PTR_TO_XDP_SOCK) {
		/* bpf_xdp_sock_is_valid_access() */
		if (t != BPF_READ || off < 0 || off >= (int)sizeof(struct bpf_xdp_sock) || off % size)
			return false;
		return size == 4;
	}
	if (off < 0 || off >= (int)sizeof(struct bpf_sock) || off % size)
		return false;
	switch (off) {
	case offsetof(struct bpf_sock, state):
	case offsetof(struct bpf_sock, family):
	case offsetof(struct bpf_sock, type):
	case offsetof(struct bpf_sock, protocol):
	case offsetof(struct bpf_sock, src_port):
	case offsetof(struct bpf_sock, rx_queue_mapping):
	case RANGE(struct bpf_sock, src_ip4):
	case RANGE_TILL(struct bpf_sock, src_ip6[0], src_ip6[3]):
	case RANGE(struct bpf_sock, dst_ip4):
	case RANGE_TILL(struct bpf_sock, dst_ip6[0], dst_ip6[3]):
		info->ctx_field_size = 4;
		return narrow_ok(size, 4);
	case RANGE(struct bpf_sock, dst_port): {
		int fs = size == 4 ? 4 : 2;
		info->ctx_field_size = fs;
		return narrow_ok(size, fs);
	}
	case OFFEND(struct bpf_sock, dst_port) ... offsetof(struct bpf_sock, dst_ip4) - 1:
		return false;
	}
	return size == 4;
}

static bool cg_sock_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (!sock_is_valid_access(PTR_TO_CTX, off, size, t, info))
		return false;
	switch (off) {
	case offsetof(struct bpf_sock, bound_dev_if):
	case offsetof(struct bpf_sock, mark):
	case offsetof(struct bpf_sock, priority):
		return env->expected_attach_type == BPF_CGROUP_INET_SOCK_CREATE ||
		       env->expected_attach_type == BPF_CGROUP_INET_SOCK_RELEASE;
	case RANGE(struct bpf_sock, src_ip4):
		if (env->expected_attach_type != BPF_CGROUP_INET4_POST_BIND)
			return false;
		break;
	case RANGE_TILL(struct bpf_sock, src_ip6[0], src_ip6[3]):
		if (env->expected_attach_type != BPF_CGROUP_INET6_POST_BIND)
			return false;
		break;
	case RANGE(struct bpf_sock, src_port):
		if (env->expected_attach_type != BPF_CGROUP_INET4_POST_BIND &&
		    env->expected_attach_type != BPF_CGROUP_INET6_POST_BIND)
			return false;
		break;
	}
	return t == BPF_READ;
}

/* ---- struct bpf_sock_addr ---- */

static bool sock_addr_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	__u32 eat = env->expected_attach_type;
	if (off < 0 || off >= (int)sizeof(struct bpf_sock_addr) || off % size)
		return false;
	switch (off) {
	case RANGE(struct bpf_sock_addr, user_ip4):
		if (eat != BPF_CGROUP_INET4_BIND && eat != BPF_CGROUP_INET4_CONNECT && eat != BPF_CGROUP_INET4_GETPEERNAME &&
		    eat != BPF_CGROUP_INET4_GETSOCKNAME && eat != BPF_CGROUP_UDP4_SENDMSG && eat != BPF_CGROUP_UDP4_RECVMSG)
			return false;
		break;
	case RANGE_TILL(struct bpf_sock_addr, user_ip6[0], user_ip6[3]):
		if (eat != BPF_CGROUP_INET6_BIND && eat != BPF_CGROUP_INET6_CONNECT && eat != BPF_CGROUP_INET6_GETPEERNAME &&
		    eat != BPF_CGROUP_INET6_GETSOCKNAME && eat != BPF_CGROUP_UDP6_SENDMSG && eat != BPF_CGROUP_UDP6_RECVMSG)
			return false;
		break;
	case RANGE(struct bpf_sock_addr, msg_src_ip4):
		if (eat != BPF_CGROUP_UDP4_SENDMSG)
			return false;
		break;
	case RANGE_TILL(struct bpf_sock_addr, msg_src_ip6[0], msg_src_ip6[3]):
		if (eat != BPF_CGROUP_UDP6_SENDMSG)
			return false;
		break;
	}
	switch (off) {
	case RANGE(struct bpf_sock_addr, user_ip4):
	case RANGE_TILL(struct bpf_sock_addr, user_ip6[0], user_ip6[3]):
	case RANGE(struct bpf_sock_addr, msg_src_ip4):
	case RANGE_TILL(struct bpf_sock_addr, msg_src_ip6[0], msg_src_ip6[3]):
	case RANGE(struct bpf_sock_addr, user_port):
		if (t == BPF_READ)
			info->ctx_field_size = 4;
		if (wide_ok(off, size, offsetof(struct bpf_sock_addr, user_ip6), OFFEND(struct bpf_sock_addr, user_ip6)))
			return true;
		if (wide_ok(off, size, offsetof(struct bpf_sock_addr, msg_src_ip6),
			    OFFEND(struct bpf_sock_addr, msg_src_ip6)))
			return true;
		if (t == BPF_READ ? !narrow_ok(size, 4) : size != 4)
			return false;
		break;
	case RANGE_PTR(struct bpf_sock_addr, sk):
		if (t != BPF_READ || size != 8)
			return false;
		info->reg_type = PTR_TO_SOCKET;
		break;
	case RANGE(struct bpf_sock_addr, user_family):
	case RANGE(struct bpf_sock_addr, family):
	case RANGE(struct bpf_sock_addr, type):
	case RANGE(struct bpf_sock_addr, protocol):
		if (t != BPF_READ || size != 4)
			return false;
		break;
	default:
		return false;
	}
	return true;
}

/* ---- struct bpf_sock_ops ---- */

/* Linux 6.18's struct bpf_sock_ops ends with __u64 skb_hwtstamp, which the installed (6.1) headers lack */
#define SOCK_OPS_HWTSTAMP 216
#define SOCK_OPS_SIZE 224

static bool sock_ops_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off >= SOCK_OPS_SIZE || off % size)
		return false;
	if (t == BPF_WRITE) {
		switch (off) {
		case offsetof(struct bpf_sock_ops, reply):
		case offsetof(struct bpf_sock_ops, sk_txhash):
			return size == 4;
		default:
			return false;
		}
	}
	switch (off) {
	case RANGE_TILL(struct bpf_sock_ops, bytes_received, bytes_acked):
		return size == 8;
	case RANGE_PTR(struct bpf_sock_ops, sk):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_SOCKET_OR_NULL;
		return true;
	case RANGE_PTR(struct bpf_sock_ops, skb_data):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_PACKET;
		return true;
	case RANGE_PTR(struct bpf_sock_ops, skb_data_end):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_PACKET_END;
		return true;
	case offsetof(struct bpf_sock_ops, skb_tcp_flags):
		info->ctx_field_size = 4;
		return narrow_ok(size, 4);
	case SOCK_OPS_HWTSTAMP ... SOCK_OPS_HWTSTAMP + 7:
		return size == 8;
	default:
		return size == 4;
	}
}

/* ---- struct sk_msg_md ---- */

static bool sk_msg_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (t == BPF_WRITE || off % size)
		return false;
	switch (off) {
	case offsetof(struct sk_msg_md, data):
		info->reg_type = PTR_TO_PACKET;
		return size == 8;
	case offsetof(struct sk_msg_md, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		return size == 8;
	case offsetof(struct sk_msg_md, sk):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_SOCKET;
		return true;
	case RANGE(struct sk_msg_md, family):
	case RANGE(struct sk_msg_md, remote_ip4):
	case RANGE(struct sk_msg_md, local_ip4):
	case RANGE_TILL(struct sk_msg_md, remote_ip6[0], remote_ip6[3]):
	case RANGE_TILL(struct sk_msg_md, local_ip6[0], local_ip6[3]):
	case RANGE(struct sk_msg_md, remote_port):
	case RANGE(struct sk_msg_md, local_port):
	case RANGE(struct sk_msg_md, size):
		if (size != 4)
			return false;
		break;
	default:
		return false;
	}
	return true;
}

/* ---- tracing ---- */

static bool kprobe_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	(void)info;
	if (off < 0 || off >= PT_REGS_SIZE || t != BPF_READ || off % size)
		return false;
	return off + size <= PT_REGS_SIZE;
}

static bool tp_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	(void)info;
	/* tp_prog_is_valid_access() compares off with sizeof(void *), as an
	 * unsigned value: negative offsets pass that test (and reach the VM's
	 * bounds at run time) */
	if (((unsigned int)off < 8) || off >= PERF_MAX_TRACE_SIZE || t != BPF_READ || off % size)
		return false;
	return true;
}

static bool raw_tp_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	(void)info;
	if (off < 0 || off >= 8 * MAX_BPF_FUNC_ARGS || t != BPF_READ || off % size)
		return false;
	return true;
}

static bool raw_tp_writable_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (off == 0) {
		if (size != 8 || t != BPF_READ)
			return false;
		info->reg_type = PTR_TO_TP_BUFFER;
	}
	return raw_tp_access(env, off, size, t, info);
}

static bool pe_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	/* struct bpf_perf_event_data: pt_regs, then sample_period and addr */
	if (off < 0 || off >= PT_REGS_SIZE + 16 || t != BPF_READ || off % size)
		return false;
	if (off >= PT_REGS_SIZE) {
		info->ctx_field_size = 8;
		return narrow_ok(size, 8);
	}
	return size == 8;
}

static bool tracing_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (off < 0 || off >= 8 * MAX_BPF_FUNC_ARGS || off % size)
		return false;
	if ((env->prog_type == BPF_PROG_TYPE_TRACING || env->prog_type == BPF_PROG_TYPE_STRUCT_OPS) && t != BPF_READ)
		return false;
	return kbtf_ctx_access(env, off, size, t, info);
}

static bool syscall_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	(void)t;
	(void)info;
	return off >= 0 && off < 0xffff && off % size == 0;
}

/* ---- cgroup device, sysctl, sockopt ---- */

static bool cgroup_dev_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off + size > (int)sizeof(struct bpf_cgroup_dev_ctx) || t == BPF_WRITE || off % size)
		return false;
	switch (off) {
	case RANGE(struct bpf_cgroup_dev_ctx, access_type):
		info->ctx_field_size = 4;
		return narrow_ok(size, 4);
	default:
		return size == 4;
	}
}

static bool sysctl_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off + size > (int)sizeof(struct bpf_sysctl) || off % size)
		return false;
	switch (off) {
	case RANGE(struct bpf_sysctl, write):
		if (t != BPF_READ)
			return false;
		info->ctx_field_size = 4;
		return narrow_ok(size, 4);
	case RANGE(struct bpf_sysctl, file_pos):
		if (t == BPF_READ) {
			info->ctx_field_size = 4;
			return narrow_ok(size, 4);
		}
		return size == 4;
	default:
		return false;
	}
}

static bool sockopt_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (off < 0 || off >= (int)sizeof(struct bpf_sockopt) || off % size)
		return false;
	if (t == BPF_WRITE) {
		switch (off) {
		case offsetof(struct bpf_sockopt, retval):
			if (size != 4)
				return false;
			return env->expected_attach_type == BPF_CGROUP_GETSOCKOPT;
		case offsetof(struct bpf_sockopt, optname):
		case offsetof(struct bpf_sockopt, level):
			if (size != 4)
				return false;
			return env->expected_attach_type == BPF_CGROUP_SETSOCKOPT;
		case offsetof(struct bpf_sockopt, optlen):
			return size == 4;
		default:
			return false;
		}
	}
	switch (off) {
	case RANGE_PTR(struct bpf_sockopt, sk):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_SOCKET;
		break;
	case RANGE_PTR(struct bpf_sockopt, optval):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_PACKET;
		break;
	case RANGE_PTR(struct bpf_sockopt, optval_end):
		if (size != 8)
			return false;
		info->reg_type = PTR_TO_PACKET_END;
		break;
	case RANGE(struct bpf_sockopt, retval):
		if (size != 4)
			return false;
		return env->expected_attach_type == BPF_CGROUP_GETSOCKOPT;
	default:
		if (size != 4)
			return false;
		break;
	}
	return true;
}

/* sk_lookup_is_valid_access() */
static bool sk_lookup_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off >= (int)sizeof(struct bpf_sk_lookup) || off % size || t != BPF_READ)
		return false;
	switch (off) {
	case RANGE_PTR(struct bpf_sk_lookup, sk):
		info->reg_type = PTR_TO_SOCKET_OR_NULL;
		return size == 8;
	case RANGE(struct bpf_sk_lookup, family):
	case RANGE(struct bpf_sk_lookup, protocol):
	case RANGE(struct bpf_sk_lookup, remote_ip4):
	case RANGE(struct bpf_sk_lookup, local_ip4):
	case RANGE_TILL(struct bpf_sk_lookup, remote_ip6[0], remote_ip6[3]):
	case RANGE_TILL(struct bpf_sk_lookup, local_ip6[0], local_ip6[3]):
	case RANGE(struct bpf_sk_lookup, local_port):
	case RANGE(struct bpf_sk_lookup, ingress_ifindex):
		info->ctx_field_size = 4;
		return narrow_ok(size, 4);
	case RANGE(struct bpf_sk_lookup, remote_port):
		/* allow 4-byte load on the 2-byte field */
		if (size == 4)
			return true;
		info->ctx_field_size = 2;
		return narrow_ok(size, 2);
	case OFFEND(struct bpf_sk_lookup, remote_port) ... offsetof(struct bpf_sk_lookup, local_ip4) - 1:
		/* the zero padding, for backward compatibility */
		info->ctx_field_size = 2;
		return narrow_ok(size, 2);
	default:
		return false;
	}
}

/* ---- sk_reuseport: struct sk_reuseport_md ---- */

static bool sk_reuseport_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	(void)env;
	if (off < 0 || off >= (int)sizeof(struct sk_reuseport_md) || off % size || t != BPF_READ)
		return false;
	switch (off) {
	case offsetof(struct sk_reuseport_md, data):
		info->reg_type = PTR_TO_PACKET;
		return size == 8;
	case offsetof(struct sk_reuseport_md, data_end):
		info->reg_type = PTR_TO_PACKET_END;
		return size == 8;
	case offsetof(struct sk_reuseport_md, hash):
		return size == 4;
	case offsetof(struct sk_reuseport_md, sk):
		info->reg_type = PTR_TO_SOCKET;
		return size == 8;
	case offsetof(struct sk_reuseport_md, migrating_sk):
		info->reg_type = PTR_TO_SOCK_COMMON_OR_NULL;
		return size == 8;
	case RANGE(struct sk_reuseport_md, eth_protocol):
		if (size < 2)   /* sizeof_field(struct sk_buff, protocol) */
			return false;
		/* fall through */
	case RANGE(struct sk_reuseport_md, ip_protocol):
	case RANGE(struct sk_reuseport_md, bind_inany):
	case RANGE(struct sk_reuseport_md, len):
		info->ctx_field_size = 4;
		return narrow_ok(size, 4);
	default:
		return false;
	}
}

/* ---- netfilter: struct bpf_nf_ctx { const struct nf_hook_state *state; struct sk_buff *skb; } ---- */

static bool nf_ptr_to_btf_id(struct venv *env, struct ctx_access_info *info, const char *name)
{
	__s32 id = env->kbtf ? kbtf_find_by_name_kind(env->kbtf, name, BTF_KIND_STRUCT) : -1;
	if (id < 0)
		return false;
	info->btf = env->kbtf;
	info->btf_id = (__u32)id;
	info->reg_type = PTR_TO_BTF_ID | PTR_TRUSTED;
	return true;
}

static bool nf_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	if (off < 0 || off >= 16 || off % size || t == BPF_WRITE)
		return false;
	if (size != 8)
		return false;
	return nf_ptr_to_btf_id(env, info, off < 8 ? "nf_hook_state" : "sk_buff");
}

typedef bool (*access_fn)(struct venv *, int, int, int, struct ctx_access_info *);

static access_fn access_of(__u32 prog_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: return sk_filter_access;
	case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT: return tc_access;
	case BPF_PROG_TYPE_XDP: return xdp_access;
	case BPF_PROG_TYPE_CGROUP_SKB: return cg_skb_access;
	case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT: case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL:
		return lwt_access;
	case BPF_PROG_TYPE_SK_SKB: return sk_skb_access;
	case BPF_PROG_TYPE_FLOW_DISSECTOR: return flow_dissector_access;
	case BPF_PROG_TYPE_CGROUP_SOCK: return cg_sock_access;
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return sock_addr_access;
	case BPF_PROG_TYPE_SOCK_OPS: return sock_ops_access;
	case BPF_PROG_TYPE_SK_MSG: return sk_msg_access;
	case BPF_PROG_TYPE_KPROBE: return kprobe_access;
	case BPF_PROG_TYPE_TRACEPOINT: return tp_access;
	case BPF_PROG_TYPE_RAW_TRACEPOINT: return raw_tp_access;
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: return raw_tp_writable_access;
	case BPF_PROG_TYPE_PERF_EVENT: return pe_access;
	case BPF_PROG_TYPE_TRACING: case BPF_PROG_TYPE_LSM: case BPF_PROG_TYPE_EXT: case BPF_PROG_TYPE_STRUCT_OPS:
		return tracing_access;
	case BPF_PROG_TYPE_SYSCALL: return syscall_access;
	case BPF_PROG_TYPE_CGROUP_DEVICE: return cgroup_dev_access;
	case BPF_PROG_TYPE_CGROUP_SYSCTL: return sysctl_access;
	case BPF_PROG_TYPE_CGROUP_SOCKOPT: return sockopt_access;
	case BPF_PROG_TYPE_SK_LOOKUP: return sk_lookup_access;
	case BPF_PROG_TYPE_SK_REUSEPORT: return sk_reuseport_access;
	case PROG_TYPE_NETFILTER: return nf_access;
	default: return NULL;
	}
}

bool ctx_is_valid_access(struct venv *env, int off, int size, int t, struct ctx_access_info *info)
{
	access_fn fn = access_of(env->prog_type);
	return fn && fn(env, off, size, t, info);
}

/* the types whose context loads the kernel rewrites (ops->convert_ctx_access) */
bool ctx_convertible(const struct venv *env)
{
	switch (env->prog_type) {
	case BPF_PROG_TYPE_KPROBE: case BPF_PROG_TYPE_TRACEPOINT: case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: case BPF_PROG_TYPE_TRACING: case BPF_PROG_TYPE_LSM:
	case BPF_PROG_TYPE_EXT: case BPF_PROG_TYPE_STRUCT_OPS: case BPF_PROG_TYPE_SYSCALL: case PROG_TYPE_NETFILTER:
		return false;
	default:
		return true;
	}
}

bool ctx_has_ld_abs(__u32 prog_type)
{
	return prog_type == BPF_PROG_TYPE_SOCKET_FILTER || prog_type == BPF_PROG_TYPE_SCHED_CLS ||
	       prog_type == BPF_PROG_TYPE_SCHED_ACT;
}

/* ---- the attach target of tracing programs (bpf_check_attach_target) ---- */

/*
 * What the walk needs of an attach target emu/btf_kernel.c accepted (its
 * checks and messages are bpf_check_attach_target()'s): the prototype whose
 * arguments the context holds, the name btf_ctx_access() logs; tp_btf
 * programs skip the tracepoint's first argument (void *__data); a
 * struct_ops program gets the member's function prototype.
 */
void attach_target_setup(struct venv *env)
{
	const struct kbtf *b = env->kbtf;
	__u32 id = env->attr->attach_btf_id;
	const char *prefix = "btf_trace_";
	const struct btf_type *t = kbtf_type(b, id);

	if (!t || !id)
		return;
	const char *tname = kbtf_name(b, t->name_off);
	if (env->prog_type == BPF_PROG_TYPE_STRUCT_OPS) {
		if (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT || env->expected_attach_type >= BTF_INFO_VLEN(t->info))
			return;
		const struct btf_member *m = (const struct btf_member *)(t + 1) + env->expected_attach_type;
		const struct btf_type *p = kbtf_skip_modifiers(b, m->type, NULL);
		if (!p || BTF_INFO_KIND(p->info) != BTF_KIND_PTR)
			return;
		__u32 pid;
		p = kbtf_skip_modifiers(b, p->type, &pid);
		if (p && BTF_INFO_KIND(p->info) == BTF_KIND_FUNC_PROTO) {
			env->attach_func_proto = pid;
			env->attach_func_name = kbtf_name(b, m->name_off);
		}
		return;
	}
	if (env->expected_attach_type == BPF_TRACE_RAW_TP) {
		if (BTF_INFO_KIND(t->info) != BTF_KIND_TYPEDEF || strncmp(prefix, tname, strlen(prefix)))
			return;
		const struct btf_type *ptr = kbtf_type(b, t->type);
		if (!ptr || BTF_INFO_KIND(ptr->info) != BTF_KIND_PTR)
			return;
		const struct btf_type *proto = kbtf_type(b, ptr->type);
		if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO)
			return;
		env->attach_func_proto = ptr->type;
		env->attach_tp_name = tname + strlen(prefix);
		env->attach_func_name = env->attach_tp_name;
		env->attach_btf_trace = true;
		return;
	}
	if (BTF_INFO_KIND(t->info) != BTF_KIND_FUNC)
		return;
	const struct btf_type *proto = kbtf_type(b, t->type);
	if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO)
		return;
	env->attach_func_proto = t->type;
	env->attach_func_name = tname;
}
