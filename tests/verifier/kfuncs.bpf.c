// SPDX-License-Identifier: GPL-2.0
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct bpf_iter_num { __u64 __opaque[1]; } __attribute__((aligned(8)));
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

SEC("xdp")
int iter_sum(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;
	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	bpf_iter_num_destroy(&it);
	return sum;
}

SEC("xdp")
int bad_no_destroy(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;
	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	return sum;
}

SEC("xdp")
int bad_destroy_twice(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	bpf_iter_num_new(&it, 0, 3);
	bpf_iter_num_destroy(&it);
	bpf_iter_num_destroy(&it);
	return 0;
}

SEC("xdp")
int bad_null_unchecked(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v, r;
	bpf_iter_num_new(&it, 0, 3);
	v = bpf_iter_num_next(&it);
	r = *v;
	bpf_iter_num_destroy(&it);
	return r;
}

SEC("xdp")
int bad_uninit_next(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v = bpf_iter_num_next(&it);
	return v ? 1 : 0;
}

/* bpf_for(i, start, end) as libbpf's bpf_helpers.h writes it (libbpf 1.1 has none) */
#define kf_for(i, start, end)                                                              \
	for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) = (bpf_iter_num_new(&___it, (start), (end)), (void)0, \
					       (struct bpf_iter_num *)0);                      \
	     ({                                                                                \
		     int *___t = bpf_iter_num_next(&___it);                                   \
		     int ___ok = ___t && ((i) = *___t, (i) >= (start) && (i) < (end));        \
		     ___ok;                                                                    \
	     });)
#define kf_repeat(n)                                                                       \
	for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) = (bpf_iter_num_new(&___it, 0, (n)), (void)0,       \
					       (struct bpf_iter_num *)0);                      \
	     bpf_iter_num_next(&___it);)

SEC("tc")
int iter_array(struct __sk_buff *skb)
{
	int arr[16], i, sum = 0;
	kf_for(i, 0, 16)
		arr[i] = i * 3;
	kf_for(i, 0, 16)
		sum += arr[i];
	return sum;
}

SEC("xdp")
int iter_nested(struct xdp_md *ctx)
{
	int i, j, sum = 0;
	kf_for(i, 0, 4)
		kf_for(j, 0, 5)
			sum += i * j;
	return sum;
}

SEC("xdp")
int iter_repeat(struct xdp_md *ctx)
{
	int n = 0;
	kf_repeat(7)
		n += 2;
	return n;
}

SEC("xdp")
int iter_edges(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int r = 0, e1, e2;
	e1 = bpf_iter_num_new(&it, 5, 5);
	if (bpf_iter_num_next(&it))
		r |= 1;
	bpf_iter_num_destroy(&it);
	e2 = bpf_iter_num_new(&it, 10, 0);
	if (bpf_iter_num_next(&it))
		r |= 2;
	bpf_iter_num_destroy(&it);
	return r | (e1 == 0) << 2 | (e2 == -22) << 3;
}

SEC("xdp")
int bad_new_twice(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	bpf_iter_num_new(&it, 0, 3);
	bpf_iter_num_new(&it, 0, 3);
	bpf_iter_num_destroy(&it);
	return 0;
}

SEC("xdp")
int bad_not_stack(struct xdp_md *ctx)
{
	bpf_iter_num_new((struct bpf_iter_num *)ctx, 0, 3);
	return 0;
}

SEC("xdp")
int bad_scalar_is_ptr(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	bpf_iter_num_new(&it, (int)(long)ctx, 3);
	bpf_iter_num_destroy(&it);
	return 0;
}

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("xdp")
int bad_rcu_unmatched(struct xdp_md *ctx)
{
	bpf_rcu_read_unlock();
	return 0;
}

SEC("xdp")
int bad_rcu_nested(struct xdp_md *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_rcu_read_unlock();
	return 0;
}

SEC("xdp")
int bad_rcu_missing(struct xdp_md *ctx)
{
	bpf_rcu_read_lock();
	return 0;
}

/* the acquire/release pair (run by a user function under bpfemu: tests/verifier/kfuncs_mock.c) */
struct task_struct {
	int pid;
};
extern struct task_struct *bpf_task_from_pid(int pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tc")
int task_pair(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(bpf_get_current_pid_tgid() >> 32);
	if (!t)
		return 1;
	bpf_task_release(t);
	return 2;
}

SEC("tc")
int bad_task_leak(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	if (!t)
		return 1;
	return 2;
}

SEC("tc")
int bad_task_null(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	bpf_task_release(t);
	return 0;
}

SEC("tc")
int bad_task_twice(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	if (!t)
		return 1;
	bpf_task_release(t);
	bpf_task_release(t);
	return 0;
}

SEC("tc")
int bad_task_type(struct __sk_buff *skb)
{
	bpf_task_release((struct task_struct *)skb);
	return 0;
}

SEC("tc")
int bad_task_scalar(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	if (!t)
		return 1;
	bpf_task_release((struct task_struct *)(long)skb->len);
	return 0;
}

/* a pointer and size pair (bpf_copy_from_user_str: sleepable, syscall programs) */
extern int bpf_copy_from_user_str(void *dst, __u32 dst__sz, const void *unsafe_ptr__ign, __u64 flags) __ksym;

SEC("syscall")
int bad_size(void *ctx)
{
	char buf[8];
	return bpf_copy_from_user_str(buf, 16, ctx, 0);
}

SEC("xdp")
int bad_not_sleepable(struct xdp_md *ctx)
{
	char buf[8];
	return bpf_copy_from_user_str(buf, sizeof(buf), ctx, 0);
}

SEC("syscall")
int size_ok(void *ctx)
{
	char buf[8];
	return bpf_copy_from_user_str(buf, sizeof(buf), (void *)0, 0) == -14 ? 0 : 1;
}

/* dynptrs over the packet */
extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
				   __u32 buffer__szk) __ksym;
extern int bpf_dynptr_adjust(const struct bpf_dynptr *p, __u32 start, __u32 end) __ksym;
extern _Bool bpf_dynptr_is_null(const struct bpf_dynptr *p) __ksym;
extern _Bool bpf_dynptr_is_rdonly(const struct bpf_dynptr *p) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit) __ksym;

SEC("xdp")
int dynptr_xdp(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	unsigned char buf[14];
	unsigned char *eth;
	if (bpf_dynptr_from_xdp(ctx, 0, &d))
		return 100;
	eth = bpf_dynptr_slice(&d, 0, buf, sizeof(buf));
	if (!eth)
		return 101;
	int r = eth[12] << 8 | eth[13];
	if (bpf_dynptr_slice(&d, 60, NULL, 8))
		r += 1000;
	return r + bpf_dynptr_size(&d) * 100000;
}

SEC("tc")
int dynptr_skb(struct __sk_buff *skb)
{
	struct bpf_dynptr d, c;
	__u16 *proto;
	int r = 0;
	if (bpf_dynptr_from_skb(skb, 0, &d))
		return 100;
	if (bpf_dynptr_is_rdonly(&d))
		r |= 1;
	if (bpf_dynptr_is_null(&d))
		r |= 2;
	if (bpf_dynptr_clone(&d, &c))
		return 101;
	if (bpf_dynptr_adjust(&c, 12, 14))
		return 102;
	proto = bpf_dynptr_slice(&c, 0, NULL, 2);
	if (!proto)
		return 103;
	if (*proto == 8)
		r |= 4;
	r |= bpf_dynptr_size(&c) << 4;
	if (bpf_dynptr_adjust(&c, 3, 2) == -22)
		r |= 1 << 8;
	if (bpf_dynptr_adjust(&c, 0, 3) == -34)
		r |= 1 << 9;
	return r | bpf_dynptr_size(&d) << 12;
}

SEC("socket")
int dynptr_rdonly(struct __sk_buff *skb)
{
	struct bpf_dynptr d;
	if (bpf_dynptr_from_skb(skb, 0, &d))
		return 100;
	if (bpf_dynptr_from_skb(skb, 1, &d) != -22 || !bpf_dynptr_is_null(&d))
		return 101;
	bpf_dynptr_from_skb(skb, 0, &d);
	return bpf_dynptr_is_rdonly(&d) ? 7 : 8;
}

SEC("xdp")
int bad_slice_unchecked(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	unsigned char *p;
	bpf_dynptr_from_xdp(ctx, 0, &d);
	p = bpf_dynptr_slice(&d, 0, NULL, 4);
	return p[0];
}

SEC("xdp")
int bad_slice_oob(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	__u32 *p;
	bpf_dynptr_from_xdp(ctx, 0, &d);
	p = bpf_dynptr_slice(&d, 0, NULL, 4);
	if (!p)
		return 0;
	return p[1];
}

SEC("xdp")
int bad_slice_size(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	unsigned char buf[4];
	unsigned char *p;
	bpf_dynptr_from_xdp(ctx, 0, &d);
	p = bpf_dynptr_slice(&d, 0, buf, 8);
	return p ? p[0] : 0;
}

SEC("xdp")
int bad_slice_not_const(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	unsigned char *p;
	bpf_dynptr_from_xdp(ctx, 0, &d);
	p = bpf_dynptr_slice(&d, 0, NULL, ctx->ingress_ifindex & 7);
	return p ? p[0] : 0;
}

SEC("xdp")
int bad_dynptr_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	return bpf_dynptr_size(&d);
}

SEC("tc")
int bad_dynptr_wrong_kind(struct __sk_buff *skb)
{
	struct bpf_dynptr d;
	bpf_dynptr_from_xdp((struct xdp_md *)skb, 0, &d);
	return 0;
}

SEC("socket")
int bad_rdwr_socket(struct __sk_buff *skb)
{
	struct bpf_dynptr d;
	unsigned char *p;
	bpf_dynptr_from_skb(skb, 0, &d);
	p = bpf_dynptr_slice_rdwr(&d, 0, NULL, 2);
	return p ? p[0] : 0;
}

/* this host's 6.18 refuses bpf_dynptr_slice_rdwr() (EPERM) where the source allows it */
SEC("xdp")
int rdwr_xdp(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	unsigned char *w;
	bpf_dynptr_from_xdp(ctx, 0, &d);
	w = bpf_dynptr_slice_rdwr(&d, 6, NULL, 2);
	if (!w)
		return 1;
	w[0] = 0x42;
	return 2;
}

SEC("tc")
int rdwr_tc(struct __sk_buff *skb)
{
	struct bpf_dynptr d;
	unsigned char *w;
	bpf_dynptr_from_skb(skb, 0, &d);
	w = bpf_dynptr_slice_rdwr(&d, 6, NULL, 2);
	if (!w)
		return 1;
	w[0] = 0x42;
	return 2;
}
