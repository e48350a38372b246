/* SPDX-License-Identifier: MIT */
/*
 * emu/prog.c: BPF_PROG_LOAD, the program object's life cycle.
 *
 * Programs are not run here. bpf_prog_load()'s own checks come first, in the
 * kernel's order (flags, size, attach type, the copies, device binding,
 * program type, license, name, log attributes); the verifier proper
 * (bpf_check(): emu/verifier/) then answers with the kernel's errno, log
 * text and statistics line; a program it accepts becomes an object, a real
 * file like a map, so its fd reads as anon_inode:bpf-prog and closes
 * normally. The verifier's per-instruction facts are kept for the parts that
 * run programs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/btf.h>

#include "btf.h"
#include "helpers.h"
#include "map.h"
#include "prog.h"
#include "os.h"
#include "verifier/verifier.h"
#include "vm/vm.h"

#define BPF_COMPLEXITY_LIMIT_INSNS 1000000u
#define PROG_FLAGS_MASK                                                                          \
	(BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT | BPF_F_TEST_STATE_FREQ | BPF_F_SLEEPABLE | \
	 BPF_F_TEST_RND_HI32 | BPF_F_XDP_HAS_FRAGS)

static bool is_ldimm64(const struct bpf_insn *i) { return i->code == (BPF_LD | BPF_IMM | BPF_DW); }

/*
 * After a successful verification (bpf_check_tail_call() at the end of the
 * load): a map that holds programs (prog array, devmap, cpumap) belongs to
 * the first program that used it (its type, flags, attach type). EINVAL
 * without a verifier message, and a load that failed earlier claims nothing.
 */
static int claim_prog_maps(const struct bpf_insn *insns, __u32 cnt, __u32 prog_type, __u32 expected_attach_type,
			   __u32 prog_flags)
{
	for (__u32 i = 0; i + 1 < cnt; i++) {
		if (!is_ldimm64(&insns[i]))
			continue;
		if (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
			struct emu_obj *map;
			int acc, err = emu_fd_get(insns[i].imm, EMU_KIND_MAP, &map, &acc);
			if (err)
				return err;
			if (emu_map_holds_progs(map->hdr->map.map_type))
				err = emu_prog_map_claim(map, prog_type, expected_attach_type, prog_flags);
			emu_obj_put(map);
			if (err)
				return err;
		}
		i++;
	}
	return 0;
}

static __u32 ror32(__u32 x, int n) { return x >> n | x << (32 - n); }

static void sha256(const unsigned char *msg, size_t len, unsigned char out[32])
{
	static const __u32 k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
		0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
		0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
		0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
		0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
		0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
		0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
		0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
	};
	__u32 h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	size_t total = ((len + 8) / 64 + 1) * 64;
	unsigned char *m = calloc(1, total);
	if (!m) {
		memset(out, 0, 32);
		return;
	}
	memcpy(m, msg, len);
	m[len] = 0x80;
	__u64 bits = (__u64)len * 8;
	for (int i = 0; i < 8; i++)
		m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < total; off += 64) {
		__u32 w[64];
		for (int i = 0; i < 16; i++)
			w[i] = (__u32)m[off + 4 * i] << 24 | (__u32)m[off + 4 * i + 1] << 16 |
			       (__u32)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
		for (int i = 16; i < 64; i++) {
			__u32 s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
			__u32 s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		__u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			__u32 t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
			__u32 t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
	}
	free(m);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void prog_tag(const struct bpf_insn *insns, __u32 cnt, __u8 tag[8])
{
	struct bpf_insn *copy = malloc((size_t)cnt * sizeof(*copy));
	unsigned char digest[32];
	if (!copy) {
		memset(tag, 0, 8);
		return;
	}
	memcpy(copy, insns, (size_t)cnt * sizeof(*copy));
	for (__u32 i = 0; i + 1 < cnt; i++)
		if (is_ldimm64(&copy[i])) {
			if (copy[i].src_reg == BPF_PSEUDO_MAP_FD || copy[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
				copy[i].imm = 0;
				copy[i + 1].imm = 0;
			}
			i++;
		}
	sha256((const unsigned char *)copy, (size_t)cnt * sizeof(*copy), digest);
	memcpy(tag, digest, 8);
	free(copy);
}

static int log_check(const struct emu_prog_spec *s)
{
	/* bpf_vlog_init(): a level needs a buffer of at least 128 bytes; a buffer needs a level */
	if (s->log_level || s->log_buf || s->log_size) {
		if (s->log_level & ~(__u32)(1 | 2 | 4 | 8))   /* BPF_LOG_LEVEL1|2|STATS|FIXED */
			return -EINVAL;
		if (!s->log_level && (s->log_buf || s->log_size))
			return -EINVAL;
		if (s->log_level && (!s->log_buf || s->log_size < 128 || s->log_size > UINT32_MAX >> 2))
			return -EINVAL;
	}
	return 0;
}

/* A type this kernel's bpf_prog_load() finds (emu/helpers.h lists the ones
 * Linux 6.18 lacks here among the first 40 that tools/gen/helpers.c probes). */
static bool prog_type_known(__u32 type)
{
	if (type == BPF_PROG_TYPE_UNSPEC || type >= 40)
		return false;
	for (size_t k = 0; k < ARRAY_SIZE(emu_absent_prog_types); k++)
		if (emu_absent_prog_types[k] == type)
			return false;
	return true;
}

#define B(n) (1ull << (n))
/*
 * bpf_prog_load_check_attach()'s expected_attach_type rules, as Linux 6.18
 * answers "r0 = 0; exit" of each type with each attach type below 64 (an
 * attach type outside a type's set is EINVAL before anything is copied; 0
 * stands for the default the kernel fills in for cgroup_sock and
 * sk_reuseport). Types not listed take any attach type here.
 */
static const struct {
	__u32 type;
	__u64 allowed;
} attach_rules[] = {
	{ BPF_PROG_TYPE_CGROUP_SKB, B(BPF_CGROUP_INET_INGRESS) | B(BPF_CGROUP_INET_EGRESS) },
	{ BPF_PROG_TYPE_CGROUP_SOCK, B(0) | B(BPF_CGROUP_INET_SOCK_CREATE) | B(BPF_CGROUP_INET4_POST_BIND) |
					 B(BPF_CGROUP_INET6_POST_BIND) | B(BPF_CGROUP_INET_SOCK_RELEASE) },
	{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
	  B(BPF_CGROUP_INET4_BIND) | B(BPF_CGROUP_INET6_BIND) | B(BPF_CGROUP_INET4_CONNECT) |
		  B(BPF_CGROUP_INET6_CONNECT) | B(BPF_CGROUP_UDP4_SENDMSG) | B(BPF_CGROUP_UDP6_SENDMSG) |
		  B(BPF_CGROUP_UDP4_RECVMSG) | B(BPF_CGROUP_UDP6_RECVMSG) | B(BPF_CGROUP_INET4_GETPEERNAME) |
		  B(BPF_CGROUP_INET6_GETPEERNAME) | B(BPF_CGROUP_INET4_GETSOCKNAME) | B(BPF_CGROUP_INET6_GETSOCKNAME) |
		  B(49) | B(50) | B(51) | B(52) | B(53) },      /* the unix socket ones, newer than our headers */
	{ BPF_PROG_TYPE_SK_REUSEPORT, B(0) | B(BPF_SK_REUSEPORT_SELECT) | B(BPF_SK_REUSEPORT_SELECT_OR_MIGRATE) },
	{ BPF_PROG_TYPE_CGROUP_SOCKOPT, B(BPF_CGROUP_GETSOCKOPT) | B(BPF_CGROUP_SETSOCKOPT) },
	{ BPF_PROG_TYPE_SK_LOOKUP, B(BPF_SK_LOOKUP) },
	{ BPF_PROG_TYPE_SYSCALL, B(0) },
	{ BPF_PROG_TYPE_EXT, B(0) },
	{ 32 /* BPF_PROG_TYPE_NETFILTER */, B(45) /* BPF_NETFILTER */ },
};
#undef B

static bool attach_type_ok(__u32 type, __u32 attach_type)
{
	for (size_t k = 0; k < ARRAY_SIZE(attach_rules); k++)
		if (attach_rules[k].type == type)
			return attach_type < 64 && (attach_rules[k].allowed >> attach_type & 1);
	return true;
}

int emu_prog_load(const struct emu_prog_spec *s)
{
	struct emu_verifier_result vr = { 0 };
	char license[128];
	int err;

	if (s->prog_flags & ~PROG_FLAGS_MASK)
		return -EINVAL;
	if (s->insn_cnt == 0 || s->insn_cnt > BPF_COMPLEXITY_LIMIT_INSNS)
		return -E2BIG;
	/* attach_prog_fd / attach_btf_obj_fd, or vmlinux's BTF for attach_btf_id (emu/btf_kernel.c) */
	struct emu_attach_target tgt;
	err = emu_attach_btf_resolve(s->prog_type, s->attach_prog_fd, s->attach_btf_id, &tgt);
	if (err)
		return err;
	/* bpf_prog_load_check_attach(): only these types name a BTF type to attach to */
	if (s->attach_btf_id && (s->attach_btf_id > BTF_MAX_TYPE ||
				 (s->prog_type != BPF_PROG_TYPE_TRACING && s->prog_type != BPF_PROG_TYPE_LSM &&
				  s->prog_type != BPF_PROG_TYPE_STRUCT_OPS && s->prog_type != BPF_PROG_TYPE_EXT)))
		return -EINVAL;
	if (!attach_type_ok(s->prog_type, s->expected_attach_type)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program type %u does not take expected_attach_type %u: EINVAL",
			s->prog_type, s->expected_attach_type);
		return -EINVAL;
	}
	size_t bytes = (size_t)s->insn_cnt * sizeof(struct bpf_insn);
	struct bpf_insn *insns = malloc(bytes);
	if (!insns)
		return -ENOMEM;
	err = emu_copy_from_user(insns, s->insns, bytes);
	if (err)
		goto out_insns;
	long n = emu_strncpy_from_user(license, s->license, sizeof(license));
	if (n == -EFAULT) {
		err = -EFAULT;
		goto out_insns;
	}
	if (n < 0)
		license[sizeof(license) - 1] = '\0';
	/* after the copies, as bpf_prog_load(): device binding, then find_prog_type() */
	if (s->ifindex) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: device offload is not possible: EINVAL");
		err = -EINVAL;
		goto out_insns;
	}
	if (!prog_type_known(s->prog_type)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program type %u is not one Linux 6.18 has here: EINVAL", s->prog_type);
		err = -EINVAL;
		goto out_insns;
	}
	bool gpl = !strcmp(license, "GPL") || !strcmp(license, "GPL v2") || !strcmp(license, "GPL and additional rights") ||
		   !strcmp(license, "Dual BSD/GPL") || !strcmp(license, "Dual MIT/GPL") || !strcmp(license, "Dual MPL/GPL");
	char name[EMU_OBJ_NAME_LEN];
	err = emu_obj_name_cpy(name, s->name, sizeof(name));
	if (err < 0)
		goto out_insns;
	err = log_check(s);
	if (err)
		goto out_insns;

	struct emu_verifier_attr va = {
		.insns = insns, .insn_cnt = s->insn_cnt, .prog_type = s->prog_type,
		.expected_attach_type = s->expected_attach_type, .prog_flags = s->prog_flags, .gpl = gpl,
		.attach_btf_id = s->attach_btf_id, .attach_btf_obj_id = tgt.btf_obj_id, .attach_prog_fd = tgt.dst_prog_fd,
		.prog_btf_fd = s->prog_btf_fd,
		.func_info_rec_size = s->func_info_rec_size, .func_info_cnt = s->func_info_cnt, .func_info = s->func_info,
		.line_info_rec_size = s->line_info_rec_size, .line_info_cnt = s->line_info_cnt, .line_info = s->line_info,
		.log_level = s->log_level, .log_size = s->log_size, .log_buf = s->log_buf,
	};
	err = emu_verify(&va, &vr);
	if (!err)
		err = claim_prog_maps(insns, s->insn_cnt, s->prog_type, s->expected_attach_type, s->prog_flags);
	if (err) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program rejected: %s", strerror(-err));
		goto out_insns;
	}

	/* the object keeps the program as the verifier rewrote it (dead code
	 * cut): what info's xlated instructions show and what the VM runs */
	const struct bpf_insn *xl = vr.xlated ? vr.xlated : insns;
	__u32 xcnt = vr.xlated ? vr.xlated_cnt : s->insn_cnt;
	size_t xbytes = (size_t)xcnt * sizeof(struct bpf_insn);
	struct emu_obj *prog;
	size_t fbytes = (size_t)vr.nr_finfo * sizeof(struct bpf_func_info);
	size_t lbytes = (size_t)vr.nr_linfo * sizeof(struct bpf_line_info);
	size_t abytes = vr.aux ? (size_t)xcnt * sizeof(struct emu_insn_aux) : 0;
	int fd = emu_obj_create(EMU_KIND_PROG, xbytes + fbytes + lbytes + abytes, &prog);
	if (fd < 0) {
		err = fd;
		goto out_insns;
	}
	struct emu_obj_hdr *h = prog->hdr;
	memcpy(h->name, name, sizeof(h->name));
	struct emu_prog_desc *p = &h->prog;
	p->prog_type = s->prog_type;
	/* an extension takes its target's (check_attach_btf_id()) */
	p->expected_attach_type = vr.dst_prog_id ? vr.dst_eat : s->expected_attach_type;
	p->ext_dst_prog_id = vr.dst_prog_id;
	p->ext_dst_btf_id = vr.dst_btf_id;
	p->ext_dst_insn_off = vr.dst_insn_off;
	p->sub_pkt_mask = vr.sub_pkt_mask;
	p->sub_sleep_mask = vr.sub_sleep_mask;
	p->insn_cnt = xcnt;
	p->loaded_insn_cnt = s->insn_cnt;
	p->prog_flags = s->prog_flags;
	p->gpl_compatible = gpl;
	p->load_time = emu_ktime_boot_ns();
	p->created_by_uid = (__u32)getuid();
	p->verified_insns = vr.verified_insns;
	p->nr_map_ids = vr.nr_map_ids < ARRAY_SIZE(p->map_ids) ? vr.nr_map_ids : (__u32)ARRAY_SIZE(p->map_ids);
	memcpy(p->map_ids, vr.map_ids, p->nr_map_ids * sizeof(__u32));
	prog_tag(insns, s->insn_cnt, p->tag);
	memcpy(emu_obj_data(prog), xl, xbytes);
	p->btf_id = vr.btf_id;
	p->nr_func_info = vr.nr_finfo;
	p->nr_line_info = vr.nr_linfo;
	p->attach_btf_id = s->attach_btf_id;
	p->attach_btf_obj_id = tgt.btf_obj_id;
	if (fbytes)
		memcpy((char *)emu_obj_data(prog) + xbytes, vr.finfo, fbytes);
	if (lbytes)
		memcpy((char *)emu_obj_data(prog) + xbytes + fbytes, vr.linfo, lbytes);
	if (abytes) {
		memcpy((char *)emu_obj_data(prog) + xbytes + fbytes + lbytes, vr.aux, abytes);
		p->nr_insn_aux = xcnt;
	}
	h->id = emu_id_alloc(EMU_KIND_PROG);
	if (!h->id) {
		emu_os_close(fd);
		emu_obj_put(prog);
		err = -ENOSPC;
		goto out_insns;
	}
	if (vr.btf_id) {
		/* the program holds its BTF (prog->aux->btf), as a map holds its own */
		struct emu_obj *btf;
		int acc;
		if (!emu_fd_get((int)s->prog_btf_fd, EMU_KIND_BTF, &btf, &acc)) {
			err = emu_obj_hold_btf(prog, (int)s->prog_btf_fd, btf);
			emu_obj_put(btf);
			if (err) {
				emu_os_close(fd);
				emu_obj_put(prog);
				goto out_insns;
			}
		}
	}
	if (vr.dst_prog_id) {
		/* an extension holds its target until its first attach (prog->aux->dst_prog) */
		struct emu_obj *dst;
		int acc;
		if (!emu_fd_get((int)s->attach_prog_fd, EMU_KIND_PROG, &dst, &acc)) {
			int dfd = emu_refs_lock(prog);
			err = dfd < 0 ? dfd : emu_ref_take(dfd, (int)s->attach_prog_fd, dst);
			emu_refs_unlock(dfd);
			emu_obj_put(dst);
			if (err) {
				emu_os_close(fd);
				emu_obj_put(prog);
				goto out_insns;
			}
		}
	}
	/* the VM: references to the maps, map ids in the stored instructions, decoded */
	err = emu_vm_prog_loaded(prog, insns, s->insn_cnt);     /* maps of cut code held too, as used_maps */
	if (err) {
		emu_os_close(fd);
		emu_obj_put(prog);
		goto out_insns;
	}
	__atomic_store_n(&h->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install_acc(fd, prog, O_RDWR);
	err = fd;
out_insns:
	emu_verifier_result_free(&vr);
	free(insns);
	return err;
}

int emu_prog_bind_map(int prog_fd, int map_fd)
{
	struct emu_obj *prog, *map;
	int acc, err = emu_fd_get(prog_fd, EMU_KIND_PROG, &prog, &acc);
	if (err)
		return err;
	err = emu_fd_get(map_fd, EMU_KIND_MAP, &map, &acc);
	if (err) {
		emu_obj_put(prog);
		return err;
	}
	struct emu_prog_desc *p = &prog->hdr->prog;
	emu_obj_lock(prog);
	__u32 k = 0;
	while (k < p->nr_map_ids && p->map_ids[k] != map->hdr->id)
		k++;
	if (k == p->nr_map_ids) {
		if (p->nr_map_ids < ARRAY_SIZE(p->map_ids))
			p->map_ids[p->nr_map_ids++] = map->hdr->id;
		else
			err = -E2BIG;
	}
	emu_obj_unlock(prog);
	emu_obj_put(map);
	emu_obj_put(prog);
	return err;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	return x < y ? -1 : x > y;
}

static bool pseudo_func(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC;
}

static bool pseudo_call(const struct bpf_insn *in)
{
	return in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
}

/*
 * jit_subprogs()'s last step, which leaves the main program's instructions
 * for dumps: a pseudo call gets its distance in off and the callee's
 * subprogram index in imm, an ld_imm64 of a function its distance in imm and
 * the index in the second half's imm. Only a program with subprograms is
 * split (the kernel JITs; this host's bpf_jit_enable is 1, as x86-64's
 * default).
 */
struct bpf_insn *emu_prog_xlated_dump(struct emu_obj *prog, __u32 n)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	const struct bpf_insn *src = emu_obj_data(prog);
	__u32 cnt = p->insn_cnt, ns = 0;
	struct bpf_insn *out = malloc((size_t)(n ? n : 1) * sizeof(*out));
	__u32 *starts = malloc((size_t)(cnt + 1) * sizeof(*starts));
	if (!out || !starts) {
		free(out);
		free(starts);
		return NULL;
	}
	memcpy(out, src, (size_t)n * sizeof(*out));
	starts[ns++] = 0;
	for (__u32 i = 0; i < cnt; i++)
		if (pseudo_call(&src[i]) || (pseudo_func(&src[i]) && i + 1 < cnt)) {
			__s64 t = (__s64)i + 1 + src[i].imm;
			if (t >= 0 && t < cnt)
				starts[ns++] = (__u32)t;
		}
	qsort(starts, ns, sizeof(*starts), cmp_u32);
	__u32 u = 0;
	for (__u32 k = 0; k < ns; k++)
		if (!u || starts[u - 1] != starts[k])
			starts[u++] = starts[k];
	for (__u32 i = 0; u > 1 && i < n; i++) {
		if (!pseudo_call(&src[i]) && !pseudo_func(&src[i]))
			continue;
		__u32 t = (__u32)((__s64)i + 1 + src[i].imm), k = 0;
		while (k < u && starts[k] != t)
			k++;
		if (pseudo_call(&src[i])) {
			out[i].off = (__s16)src[i].imm;
			out[i].imm = (__s32)k;
		} else {
			out[i].off = 0;
			if (i + 1 < n)
				out[i + 1].imm = (__s32)k;
			i++;
		}
	}
	free(starts);
	return out;
}

int emu_prog_fill_info(struct emu_obj *prog, struct bpf_prog_info *info, __u32 *map_ids_out, __u32 nr_map_ids)
{
	const struct emu_prog_desc *p = &prog->hdr->prog;
	memset(info, 0, sizeof(*info));
	info->type = p->prog_type;
	info->id = prog->hdr->id;
	memcpy(info->tag, p->tag, sizeof(info->tag));
	info->xlated_prog_len = p->insn_cnt * 8;
	info->load_time = p->load_time;
	info->created_by_uid = p->created_by_uid;
	info->nr_map_ids = p->nr_map_ids;
	memcpy(info->name, prog->hdr->name, sizeof(info->name));
	info->gpl_compatible = p->gpl_compatible;
	info->verified_insns = p->verified_insns ? p->verified_insns : p->insn_cnt;   /* 0: an object of an older bpfemu */
	info->func_info_rec_size = sizeof(struct bpf_func_info);
	info->line_info_rec_size = sizeof(struct bpf_line_info);
	info->jited_line_info_rec_size = sizeof(__u64);
	info->nr_prog_tags = 1;                      /* no subprograms: the program's own tag */
	info->btf_id = p->btf_id;
	info->nr_func_info = p->nr_func_info;
	info->nr_line_info = p->nr_line_info;
	info->attach_btf_id = p->attach_btf_id;
	info->attach_btf_obj_id = p->attach_btf_obj_id;
	if (map_ids_out)
		memcpy(map_ids_out, p->map_ids, (nr_map_ids < p->nr_map_ids ? nr_map_ids : p->nr_map_ids) * 4);
	return 0;
}
