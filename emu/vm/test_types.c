/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/test_types.c: BPF_PROG_TEST_RUN for the program types that are not
 * packets in a buffer (test_run.c has XDP, the skb types, raw tracepoints and
 * syscall programs): flow dissectors, sk_lookup, netfilter, struct_ops
 * (bpf_dummy_ops, the only struct_ops the kernel test-runs) and tracing
 * programs (fentry, fexit, fmod_ret: the kernel calls its bpf_fentry_test*
 * and bpf_modify_return_test* functions, and the programs attached to them
 * run). The attr checks are Linux 6.18's (net/bpf/test_run.c,
 * net/bpf/bpf_dummy_struct_ops.c), in its order, with its errnos.
 *
 * Kernel objects a program reads through BTF pointers (netfilter's sk_buff,
 * nf_hook_state and net_device; the bpf_dummy_ops_state; the fentry
 * functions' pointer arguments) are made here with vmlinux's layout
 * (vbtf.c): the fields a test run sets are filled in, the others read as
 * zero, and the objects are read-only regions of the run (struct_ops state:
 * read-write, as the kernel allows).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"
#include "vm_int.h"
#include "../os_errno.h"
#include "../btf.h"
#include "../link.h"

#define ETH_HLEN 14
#define PAGE 4096u
#define NET_SKB_PAD 64u
#define SKB_TAILROOM 320u
#define SK_DROP 0
#define SK_PASS 1

static int run_error(struct vm_run *run)
{
	return run->err;
}

/* ---- flow dissector: bpf_prog_test_run_flow_dissector() ---- */

int vm_run_flow_dissector(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
			  const struct emu_test_run_spec *s)
{
	__u32 size = s->data_size_in;
	int err;
	if (s->flags || s->cpu || s->batch_size)
		return -EINVAL;
	if (size < ETH_HLEN || size > PAGE)       /* bpf_test_init(size, 0, 0) */
		return -EINVAL;
	unsigned char *data = t->pkt;
	if (emu_copy_from_user(data, s->data_in, size))
		return -EFAULT;
	struct bpf_flow_keys *uctx = vm_ctx_init(s, sizeof(struct bpf_flow_keys), &err);
	if (err)
		return err;
	__u32 flags = 0;
	if (uctx) {
		/* verify_user_bpf_flow_keys(): flags only */
		if (!vm_range_zero(uctx, 0, offsetof(struct bpf_flow_keys, flags)) ||
		    !vm_range_zero(uctx, offsetofend(struct bpf_flow_keys, flags), sizeof(*uctx))) {
			free(uctx);
			return -EINVAL;
		}
		flags = uctx->flags;
	}
	/* struct bpf_flow_dissector as the program's __sk_buff: data, data_end, flow_keys */
	struct bpf_flow_keys keys;
	struct __sk_buff ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.data = (__u32)(uintptr_t)data;
	ctx.data_end = (__u32)(uintptr_t)(data + size);
	ctx.flow_keys = &keys;
	struct vm_run *run = &t->run;
	vm_run_setup(t, p, VM_CTX_FLOW, &ctx, sizeof(ctx), VM_RD);
	vm_fixed_set(run, VM_R_PKT, (__u64)(uintptr_t)data, size, VM_RD);
	vm_fixed_set(run, VM_R_FLOW_KEYS, (__u64)(uintptr_t)&keys, sizeof(keys), VM_RW);
	__u16 proto;
	memcpy(&proto, data + 12, 2);
	__u32 repeat = s->repeat ? s->repeat : 1, i, retval = 0;
	bool stats = emu_vm_stats_enabled();
	__u32 cpu = vm_current_cpu();
	__u64 start = vm_now_ns();
	for (i = 0; i < repeat; i++) {
		/* bpf_flow_dissect(): the keys the program starts from, its result clamped */
		memset(&keys, 0, sizeof(keys));
		keys.n_proto = proto;
		keys.nhoff = ETH_HLEN;
		keys.thoff = ETH_HLEN;
		keys.flags = flags;
		retval = (__u32)vm_run_once(run, p, cpu);
		if (run->err)
			break;
		__u16 nh = keys.nhoff < ETH_HLEN ? ETH_HLEN : keys.nhoff > size ? (__u16)size : keys.nhoff;
		keys.nhoff = nh;
		keys.thoff = keys.thoff < nh ? nh : keys.thoff > size ? (__u16)size : keys.thoff;
	}
	__u64 spent = vm_now_ns() - start;
	if (stats)
		vm_stats_add(obj, i + (run->err ? 1 : 0), spent);
	err = run_error(run);
	if (!err) {
		spent /= repeat;
		err = vm_test_finish(s, &keys, sizeof(keys), NULL, 0, retval,
				     spent > 0xffffffffu ? 0xffffffffu : (__u32)spent);
		if (!err)
			err = vm_ctx_finish(s, uctx, sizeof(struct bpf_flow_keys));
	}
	free(uctx);
	return err;
}

/* ---- sk_lookup: bpf_prog_test_run_sk_lookup() ---- */

int vm_run_sk_lookup(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		     const struct emu_test_run_spec *s)
{
	int err;
	if (s->flags || s->cpu || s->batch_size)
		return -EINVAL;
	if (s->data_in || s->data_size_in || s->data_out || s->data_size_out)
		return -EINVAL;
	struct bpf_sk_lookup *u = vm_ctx_init(s, sizeof(struct bpf_sk_lookup), &err);
	if (err)
		return err;
	if (!u)
		return -EINVAL;
	err = -EINVAL;
	if (u->sk || !vm_range_zero(u, offsetofend(struct bpf_sk_lookup, local_port), sizeof(*u)))
		goto out;
	if (u->local_port > 0xffff) {
		err = -ERANGE;
		goto out;
	}
	/* struct bpf_sk_lookup_kern as the program reads it */
	struct bpf_sk_lookup ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.family = (__u16)u->family;
	ctx.protocol = (__u16)u->protocol;
	ctx.local_port = (__u16)u->local_port;
	ctx.remote_port = u->remote_port;
	switch (ctx.family) {
	case 2:               /* AF_INET */
		ctx.local_ip4 = u->local_ip4;
		ctx.remote_ip4 = u->remote_ip4;
		break;
	case 10:              /* AF_INET6 */
		memcpy(ctx.local_ip6, u->local_ip6, sizeof(ctx.local_ip6));
		memcpy(ctx.remote_ip6, u->remote_ip6, sizeof(ctx.remote_ip6));
		break;
	default:
		err = -EAFNOSUPPORT;
		goto out;
	}
	struct vm_run *run = &t->run;
	vm_run_setup(t, p, VM_CTX_SK_LOOKUP, &ctx, sizeof(ctx), VM_RD);
	__u32 repeat = s->repeat ? s->repeat : 1, i, retval = 0;
	bool stats = emu_vm_stats_enabled();
	__u32 cpu = vm_current_cpu();
	__u64 start = vm_now_ns();
	for (i = 0; i < repeat; i++) {
		run->sk_selected = false;
		__u64 r0 = vm_run_once(run, p, cpu);
		if (run->err)
			break;
		/* BPF_PROG_SK_LOOKUP_RUN_ARRAY() of one program */
		retval = r0 == SK_DROP && !run->sk_selected ? SK_DROP : SK_PASS;
	}
	__u64 spent = vm_now_ns() - start;
	if (stats)
		vm_stats_add(obj, i + (run->err ? 1 : 0), spent);
	err = run_error(run);
	if (err)
		goto out;
	u->cookie = 0;        /* no socket can be selected here (see bpf_sk_assign) */
	spent /= repeat;
	err = vm_test_finish(s, NULL, 0, NULL, 0, retval, spent > 0xffffffffu ? 0xffffffffu : (__u32)spent);
	if (!err)
		err = vm_ctx_finish(s, u, sizeof(*u));
out:
	free(u);
	return err;
}

/* ---- kernel objects with vmlinux's layout ---- */

struct kobj {
	const struct vm_btf *b;
	__u32 id;
	unsigned char *p;
	__u32 size;
};

/* a zeroed object of vmlinux's struct name; -EOPNOTSUPP without vmlinux BTF (the
 * kernel cannot load the program types that read kernel objects without it either) */
static int kobj_new(struct kobj *o, const char *name)
{
	o->b = vm_btf_vmlinux();
	o->id = o->b ? vm_btf_find(o->b, name, BTF_KIND_STRUCT) : 0;
	if (!o->id || vm_btf_size(o->b, o->id, &o->size) || !o->size) {
		EMU_LOG(EMU_LOG_VM | EMU_LOG_SYS, "BPF_PROG_TEST_RUN: no struct %s in the kernel's BTF: EOPNOTSUPP", name);
		return -EOPNOTSUPP;
	}
	o->p = calloc(1, o->size);
	return o->p ? 0 : -ENOMEM;
}

/* sets member name to v (its own width, little-endian); members this kernel's layout lacks are skipped */
static void kobj_set(struct kobj *o, const char *name, __u64 v)
{
	__u32 off, size;
	if (vm_btf_member(o->b, o->id, name, &off, &size) || size > 8 || off + size > o->size)
		return;
	memcpy(o->p + off, &v, size);
}

/* member name's value (0 if the layout lacks it) in a raw object of o's type */
static __u64 kobj_get(const struct kobj *o, const unsigned char *raw, const char *name)
{
	__u32 off, size;
	__u64 v = 0;
	if (!vm_btf_member(o->b, o->id, name, &off, &size) && size <= 8 && off + size <= o->size)
		memcpy(&v, raw + off, size);
	return v;
}

static void kobj_set_bytes(struct kobj *o, const char *name, const void *src, __u32 len)
{
	__u32 off, size;
	if (!o->id || vm_btf_member(o->b, o->id, name, &off, &size) || off + size > o->size)
		return;
	memcpy(o->p + off, src, len < size ? len : size);
}

/* the loopback device as a struct net_device (ifindex, name, mtu, flags) */
static int loopback_dev(struct kobj *dev)
{
	int err = kobj_new(dev, "net_device");
	if (err)
		return err;
	char name[IF_NAMESIZE] = "lo";
	unsigned int ifindex = if_nametoindex("lo");
	kobj_set(dev, "ifindex", ifindex ? ifindex : 1);
	kobj_set_bytes(dev, "name", name, sizeof(name));
	kobj_set(dev, "mtu", 65536);
	kobj_set(dev, "flags", 0x49);  /* IFF_UP | IFF_LOOPBACK | IFF_RUNNING */
	return 0;
}

/* ---- netfilter: bpf_prog_test_run_nf() ---- */

#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10
enum { NF_PRE_ROUTING, NF_LOCAL_IN, NF_FORWARD, NF_LOCAL_OUT, NF_POST_ROUTING };

int vm_run_netfilter(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		     const struct emu_test_run_spec *s)
{
	__u32 size = s->data_size_in;
	int err;
	if (s->flags || s->cpu || s->batch_size)
		return -EINVAL;
	if (size < 20)                                   /* sizeof(struct iphdr) */
		return -EINVAL;
	if (size > PAGE - NET_SKB_PAD - SKB_TAILROOM)    /* bpf_test_init() */
		return -EINVAL;
	unsigned char *head = t->pkt;
	memset(head, 0, PAGE);
	if (emu_copy_from_user(head + NET_SKB_PAD, s->data_in, size))
		return -EFAULT;
	struct kobj state = { 0 }, skb = { 0 }, dev = { 0 };
	err = kobj_new(&state, "nf_hook_state");
	if (err)
		return err;
	unsigned char *u = vm_ctx_init(s, state.size, &err);
	if (err)
		goto out;
	__u32 hook = NF_LOCAL_OUT, pf = NFPROTO_IPV4;
	bool with_dev = false;
	if (u) {
		/* verify_and_copy_hook_state(): the pointers must be NULL; in and out
		 * are set for the default hook (LOCAL_OUT: out), as the kernel does */
		err = -EINVAL;
		if (kobj_get(&state, u, "in") || kobj_get(&state, u, "out") || kobj_get(&state, u, "net") ||
		    kobj_get(&state, u, "sk") || kobj_get(&state, u, "okfn"))
			goto out;
		__u8 uhook = (__u8)kobj_get(&state, u, "hook"), upf = (__u8)kobj_get(&state, u, "pf");
		if (upf != NFPROTO_IPV4 && upf != NFPROTO_IPV6)
			goto out;
		with_dev = true;
		pf = upf;
		hook = uhook;
	}
	err = kobj_new(&skb, "sk_buff");
	if (!err && with_dev)
		err = loopback_dev(&dev);
	if (err)
		goto out;
	unsigned char *data = head + NET_SKB_PAD;
	__u16 protocol;
	__u32 network = 0, mac = 0xffff;
	bool has_dev = false;
	err = -EINVAL;
	if (hook != NF_LOCAL_OUT) {
		if (size < ETH_HLEN + 20)
			goto out;
		/* eth_type_trans() on loopback */
		memcpy(&protocol, data + 12, 2);
		__u16 h = __builtin_bswap16(protocol);
		if (h < 0x0600)
			protocol = __builtin_bswap16(size >= ETH_HLEN + 2 && data[14] == 0xff && data[15] == 0xff ? 0x0001 : 0x0004);
		mac = NET_SKB_PAD;
		data += ETH_HLEN;
		size -= ETH_HLEN;
		network = NET_SKB_PAD + ETH_HLEN;
		if (protocol == __builtin_bswap16(0x0800)) {
			if (pf != NFPROTO_IPV4)
				goto out;
		} else if (protocol == __builtin_bswap16(0x86dd)) {
			if (size < 40 || pf != NFPROTO_IPV6)
				goto out;
		} else {
			err = -EPROTO;
			goto out;
		}
		has_dev = true;
	} else {
		protocol = __builtin_bswap16(pf == NFPROTO_IPV4 ? 0x0800 : 0x86dd);
	}
	if (has_dev && !dev.p && (err = loopback_dev(&dev)))
		goto out;
	kobj_set(&state, "hook", hook);
	kobj_set(&state, "pf", pf);
	if (with_dev)
		kobj_set(&state, "out", (__u64)(uintptr_t)dev.p);
	kobj_set(&skb, "len", size);
	kobj_set(&skb, "protocol", protocol);
	kobj_set(&skb, "head", (__u64)(uintptr_t)head);
	kobj_set(&skb, "data", (__u64)(uintptr_t)data);
	kobj_set(&skb, "tail", (__u64)(data + size - head));
	kobj_set(&skb, "end", PAGE - SKB_TAILROOM);
	kobj_set(&skb, "network_header", network);
	kobj_set(&skb, "mac_header", mac);
	kobj_set(&skb, "transport_header", 0xffff);
	if (has_dev)
		kobj_set(&skb, "dev", (__u64)(uintptr_t)dev.p);
	/* struct bpf_nf_ctx { const struct nf_hook_state *state; struct sk_buff *skb; } */
	__u64 ctx[2] = { (__u64)(uintptr_t)state.p, (__u64)(uintptr_t)skb.p };
	struct vm_run *run = &t->run;
	vm_run_setup(t, p, VM_CTX_NF, ctx, sizeof(ctx), VM_RD);
	vm_fixed_add(run, VM_R_KOBJ, (__u64)(uintptr_t)state.p, state.size, VM_RD);
	vm_fixed_add(run, VM_R_KOBJ, (__u64)(uintptr_t)skb.p, skb.size, VM_RD);
	if (dev.p)
		vm_fixed_add(run, VM_R_KOBJ, (__u64)(uintptr_t)dev.p, dev.size, VM_RD);
	vm_fixed_set(run, VM_R_PKT, (__u64)(uintptr_t)head, PAGE - SKB_TAILROOM, VM_RD);
	__u32 retval = 0, duration = 0;
	err = vm_test_repeat(t, obj, p, s->repeat, 0, false, &retval, &duration);
	if (!err)
		err = vm_test_finish(s, NULL, 0, NULL, 0, retval, duration);
out:
	free(u);
	free(state.p);
	free(skb.p);
	free(dev.p);
	return err;
}

/* ---- struct_ops: bpf_struct_ops_test_run() of bpf_dummy_ops ---- */

/* the function prototype of member idx (a function pointer) of vmlinux's struct sid */
static const struct btf_type *member_proto(const struct vm_btf *b, __u32 sid, __u32 idx)
{
	const struct btf_type *st = vm_btf_type(b, sid);
	if (!st || BTF_INFO_KIND(st->info) != BTF_KIND_STRUCT || idx >= BTF_INFO_VLEN(st->info))
		return NULL;
	const struct btf_member *m = (const void *)(st + 1);
	const struct btf_type *ptr = vm_btf_type(b, vm_btf_skip_mods(b, m[idx].type));
	if (!ptr || BTF_INFO_KIND(ptr->info) != BTF_KIND_PTR)
		return NULL;
	const struct btf_type *proto = vm_btf_type(b, vm_btf_skip_mods(b, ptr->type));
	return proto && BTF_INFO_KIND(proto->info) == BTF_KIND_FUNC_PROTO ? proto : NULL;
}

/* check_test_run_args(): pointer arguments must not be NULL unless the member's
 * stub ("bpf_dummy_ops__<member>") names them __nullable */
static int check_args(const struct vm_btf *b, __u32 sid, __u32 idx, const __u64 *args)
{
	const struct btf_type *proto = member_proto(b, sid, idx), *st = vm_btf_type(b, sid);
	const struct btf_member *m = (const void *)(st + 1);
	char stub_name[160];
	snprintf(stub_name, sizeof(stub_name), "%s__%s", vm_btf_str(b, st->name_off), vm_btf_str(b, m[idx].name_off));
	const struct btf_type *stub = vm_btf_type(b, vm_btf_find(b, stub_name, BTF_KIND_FUNC));
	const struct btf_type *sproto = stub ? vm_btf_type(b, stub->type) : NULL;
	const struct btf_param *pa = (const void *)(proto + 1);
	for (__u32 i = 0; i < BTF_INFO_VLEN(proto->info); i++) {
		const struct btf_type *t = vm_btf_type(b, vm_btf_skip_mods(b, pa[i].type));
		if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_PTR || args[i])
			continue;
		if (sproto && i < BTF_INFO_VLEN(sproto->info)) {
			const char *n = vm_btf_str(b, ((const struct btf_param *)(sproto + 1))[i].name_off);
			size_t l = strlen(n);
			if (l >= 10 && !strcmp(n + l - 10, "__nullable"))
				continue;
		}
		return -EINVAL;
	}
	return 0;
}

/* the argument count of member idx (a function pointer) of vmlinux's struct sid; -1 if none */
static int member_nargs(const struct vm_btf *b, __u32 sid, __u32 idx)
{
	const struct btf_type *proto = member_proto(b, sid, idx);
	return proto ? (int)BTF_INFO_VLEN(proto->info) : -1;
}

int vm_run_struct_ops(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		      const struct emu_test_run_spec *s)
{
	const struct vm_btf *b = vm_btf_vmlinux();
	__u32 dummy = b ? vm_btf_find(b, "bpf_dummy_ops", BTF_KIND_STRUCT) : 0;
	if (!dummy || obj->hdr->prog.attach_btf_id != dummy)
		return -EOPNOTSUPP;
	int nargs = member_nargs(b, dummy, p->attach_type);
	if (nargs < 0 || nargs > 12 || s->ctx_size_in != 8u * (__u32)nargs)
		return -EINVAL;
	__u64 args[13] = { 0 };
	if (emu_copy_from_user(args, s->ctx_in, s->ctx_size_in))
		return -EFAULT;
	/* args[0] is the caller's struct bpf_dummy_ops_state *, or 0 for NULL */
	struct kobj state = { 0 };
	int err = kobj_new(&state, "bpf_dummy_ops_state");
	if (err)
		return err;
	void *ustate = (void *)(uintptr_t)args[0];
	if (ustate && emu_copy_from_user(state.p, ustate, state.size)) {
		free(state.p);
		return -EFAULT;
	}
	err = check_args(b, dummy, p->attach_type, args);
	if (err) {
		free(state.p);
		return err;
	}
	if (nargs > 0)
		args[0] = ustate ? (__u64)(uintptr_t)state.p : 0;
	struct vm_run *run = &t->run;
	vm_run_setup(t, p, VM_CTX_TRACING, args, 8u * (__u32)nargs, VM_RD);
	vm_fixed_add(run, VM_R_KOBJ, (__u64)(uintptr_t)state.p, state.size, VM_RW);
	__u32 retval = 0, duration = 0;
	err = vm_test_repeat(t, obj, p, 1, 0, false, &retval, &duration);
	if (!err && ustate && emu_copy_to_user(ustate, state.p, state.size))
		err = -EFAULT;
	if (!err && emu_copy_to_user(s->u_retval, &retval, 4))
		err = -EFAULT;
	free(state.p);
	return err;
}

/* ---- tracing: bpf_prog_test_run_tracing() and the trampolines it goes through ---- */

/*
 * The test run calls kernel functions; what runs are the fentry, fmod_ret and
 * fexit programs attached to them (BPF_LINK_CREATE or RAW_TRACEPOINT_OPEN;
 * BPFEMU_ATTACH=inert makes those succeed), in the order the trampoline runs
 * them: fentry programs on the arguments, fmod_ret programs on the arguments
 * and the return value so far (the first non-zero return skips the function
 * and the rest), the function, fexit programs on the arguments and the
 * return value. The program the test run was asked for need not be
 * attached: its expected attach type only picks the functions.
 */
struct tramp_prog {
	enum emu_attach_kind kind;
	struct emu_obj *obj;
};
struct tramp {
	__u32 btf_id;
	struct tramp_prog *progs;
	__u32 n, cap;
};

static int tramp_collect(const struct emu_attach_point *pt, void *c)
{
	struct tramp *tr = c;
	if ((pt->kind != EMU_AT_FENTRY && pt->kind != EMU_AT_FEXIT && pt->kind != EMU_AT_FMOD_RET) ||
	    pt->target != tr->btf_id)
		return 0;
	int fd = emu_obj_fd_by_id(EMU_KIND_PROG, pt->prog_id, O_RDONLY);
	if (fd < 0)
		return 0;
	struct emu_obj *o;
	int acc;
	int err = emu_fd_get_local(fd, EMU_KIND_PROG, &o, &acc);
	emu_fd_closed(fd);
	emu_oe_close(fd);
	if (err)
		return 0;
	if (tr->n == tr->cap) {
		struct tramp_prog *np = realloc(tr->progs, (tr->cap = tr->cap ? tr->cap * 2 : 8) * sizeof(*np));
		if (!np) {
			emu_obj_put(o);
			return -ENOMEM;
		}
		tr->progs = np;
	}
	tr->progs[tr->n++] = (struct tramp_prog){ pt->kind, o };
	return 0;
}

struct tcall {
	struct vm_thread *t;
	__u32 cpu;
	bool stats;
	int err;
};

/* runs the programs of one kind on ctx; fmod_ret: stops at the first non-zero return (true) */
static bool tramp_run(struct tcall *c, struct tramp *tr, enum emu_attach_kind kind, __u64 *ctx, __u32 nctx,
		      __u64 *ret_slot)
{
	for (__u32 i = 0; i < tr->n && !c->err; i++) {
		if (tr->progs[i].kind != kind)
			continue;
		int err;
		const struct vm_prog *p = vm_prog_get(tr->progs[i].obj, &err);
		if (!p) {
			c->err = err;
			break;
		}
		struct vm_run *run = &c->t->run;
		/* the pointer arguments' objects stay (fixed regions after the ctx) */
		run->ctx = ctx;
		run->ctx_size = 8u * nctx;
		run->fixed[1].lo = (__u64)(uintptr_t)ctx;
		run->fixed[1].len = 8u * nctx;
		run->c_len = 0;
		run->prog = p;
		__u64 start = c->stats ? vm_now_ns() : 0;
		__u64 r0 = vm_run_once(run, p, c->cpu);
		if (c->stats)
			vm_stats_add(tr->progs[i].obj, 1, vm_now_ns() - start);
		if (run->err) {
			c->err = run->err;
			break;
		}
		if (kind == EMU_AT_FMOD_RET) {
			*ret_slot = r0;
			if (r0)
				return true;
		}
	}
	return false;
}

/* One call of a kernel function through its trampoline: args[0..nargs), the
 * function's own result from real(); the result the caller sees. */
static __u64 tramp_call(struct tcall *c, const char *fn, __u64 *args, __u32 nargs, __u64 (*real)(const __u64 *))
{
	const struct vm_btf *b = vm_btf_vmlinux();
	struct tramp tr = { .btf_id = b ? vm_btf_find(b, fn, BTF_KIND_FUNC) : 0 };
	__u64 ctx[13] = { 0 };
	memcpy(ctx, args, 8u * nargs);
	if (tr.btf_id && emu_attach_foreach(tramp_collect, &tr) < 0)
		c->err = -ENOMEM;
	bool skip = false;
	if (tr.n && !c->err) {
		tramp_run(c, &tr, EMU_AT_FENTRY, ctx, nargs, NULL);
		skip = tramp_run(c, &tr, EMU_AT_FMOD_RET, ctx, nargs + 1, &ctx[nargs]);
	}
	if (!skip)
		ctx[nargs] = real(args);
	if (tr.n && !c->err)
		tramp_run(c, &tr, EMU_AT_FEXIT, ctx, nargs + 1, NULL);
	for (__u32 i = 0; i < tr.n; i++)
		emu_obj_put(tr.progs[i].obj);
	free(tr.progs);
	return ctx[nargs];
}

/* the kernel's functions (net/bpf/test_run.c), on the arguments as the trampoline saved them */
static __u64 f1(const __u64 *a) { return (__u32)((int)a[0] + 1); }
static __u64 f2(const __u64 *a) { return (__u32)(int)((int)a[0] + a[1]); }
static __u64 f3(const __u64 *a) { return (__u32)(int)((char)a[0] + (int)a[1] + a[2]); }
static __u64 f4(const __u64 *a) { return (__u32)(int)((long)a[0] + (char)a[1] + (int)a[2] + a[3]); }
static __u64 f5(const __u64 *a) { return (__u32)(int)(a[0] + (long)a[1] + (short)a[2] + (int)a[3] + a[4]); }
static __u64 f6(const __u64 *a)
{
	return (__u32)(int)(a[0] + (long)a[1] + (short)a[2] + (int)a[3] + (long)a[4] + a[5]);
}
static __u64 f7(const __u64 *a) { return (__u32)(int)(long)a[0]; }
static __u64 f8(const __u64 *a) { return (__u32)(int)(long)*(const __u64 *)(uintptr_t)a[0]; }
static __u64 f9(const __u64 *a) { return *(const __u32 *)(uintptr_t)a[0]; }
static __u64 f10(const __u64 *a) { return (__u32)(int)(long)a[0]; }
static __u64 mr1(const __u64 *a)
{
	int *b = (int *)(uintptr_t)a[1];
	*b += 1;
	return (__u32)((int)a[0] + *b);
}
static __u64 mr2(const __u64 *a)
{
	int *b = (int *)(uintptr_t)a[1];
	*b += 1;
	return (__u32)(int)((int)a[0] + *b + (short)a[2] + (int)a[3] + (long)a[4] + (char)a[5] + (int)a[6]);
}

int vm_run_tracing(struct vm_thread *t, struct emu_obj *obj, const struct vm_prog *p,
		   const struct emu_test_run_spec *s)
{
	(void)obj;
	if (s->flags || s->cpu || s->batch_size)
		return -EINVAL;
	struct tcall c = { .t = t, .cpu = vm_current_cpu(), .stats = emu_vm_stats_enabled() };
	__u64 arg8 = 0;                 /* struct bpf_fentry_test_t { struct bpf_fentry_test_t *a; } */
	__u32 ret9 = 0;                 /* bpf_fentry_test9's u32 *, the test's retval */
	int b = 2;
	__u32 retval = 0;
	__u64 dummy_ctx[13] = { 0 };
	/* the regions of every program run here: the arguments (ctx, moved per call), what they point to */
	vm_run_setup(t, p, VM_CTX_TRACING, dummy_ctx, sizeof(dummy_ctx), VM_RD);
	vm_fixed_add(&t->run, VM_R_KOBJ, (__u64)(uintptr_t)&arg8, sizeof(arg8), VM_RD);
	vm_fixed_add(&t->run, VM_R_KOBJ, (__u64)(uintptr_t)&ret9, sizeof(ret9), VM_RD);
	vm_fixed_add(&t->run, VM_R_KOBJ, (__u64)(uintptr_t)&b, sizeof(b), VM_RD);
	switch (p->attach_type) {
	case BPF_TRACE_FENTRY:
	case BPF_TRACE_FEXIT: {
		struct {
			const char *fn;
			__u64 (*real)(const __u64 *);
			__u32 n;
			__u64 a[6];
			int want;
		} calls[] = {
			{ "bpf_fentry_test1", f1, 1, { 1 }, 2 },
			{ "bpf_fentry_test2", f2, 2, { 2, 3 }, 5 },
			{ "bpf_fentry_test3", f3, 3, { 4, 5, 6 }, 15 },
			{ "bpf_fentry_test4", f4, 4, { 7, 8, 9, 10 }, 34 },
			{ "bpf_fentry_test5", f5, 5, { 11, 12, 13, 14, 15 }, 65 },
			{ "bpf_fentry_test6", f6, 6, { 16, 17, 18, 19, 20, 21 }, 111 },
			{ "bpf_fentry_test7", f7, 1, { 0 }, 0 },
			{ "bpf_fentry_test8", f8, 1, { (__u64)(uintptr_t)&arg8 }, 0 },
			{ "bpf_fentry_test9", f9, 1, { (__u64)(uintptr_t)&ret9 }, 0 },
			{ "bpf_fentry_test10", f10, 1, { 0 }, 0 },
		};
		for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
			int r = (int)tramp_call(&c, calls[i].fn, calls[i].a, calls[i].n, calls[i].real);
			if (c.err)
				return c.err;
			if (r != calls[i].want)
				return -EFAULT;
		}
		break;
	}
	case BPF_MODIFY_RETURN: {
		__u16 side_effect = 0, ret = 0;
		__u64 a1[2] = { 1, (__u64)(uintptr_t)&b };
		ret = (__u16)tramp_call(&c, "bpf_modify_return_test", a1, 2, mr1);
		if (c.err)
			return c.err;
		if (b != 2)
			side_effect++;
		b = 2;
		__u64 a2[7] = { 1, (__u64)(uintptr_t)&b, 3, 4, 5, 6, 7 };
		ret = (__u16)(ret + (__u16)tramp_call(&c, "bpf_modify_return_test2", a2, 7, mr2));
		if (c.err)
			return c.err;
		if (b != 2)
			side_effect++;
		retval = (__u32)side_effect << 16 | ret;
		break;
	}
	default:
		return -EFAULT;
	}
	if (emu_copy_to_user(s->u_retval, &retval, 4))
		return -EFAULT;
	return 0;
}
