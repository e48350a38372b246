/* SPDX-License-Identifier: MIT */
/*
 * emu/prog.c: BPF_PROG_LOAD.
 *
 * Programs are not run yet. A load is accepted when the program is
 * structurally what the verifier's first passes accept (known opcode classes,
 * registers in range, ld_imm64 pairs, jumps inside the program, ending in exit
 * or a jump, map references resolving to map fds); everything else gets
 * EINVAL with a verifier-style message in log_buf. The object is a real file
 * like a map, so its fd reads as anon_inode:bpf-prog and closes normally.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"
#include "prog.h"

#define BPF_COMPLEXITY_LIMIT_INSNS 1000000u
#define PROG_FLAGS_MASK                                                                          \
	(BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT | BPF_F_TEST_STATE_FREQ | BPF_F_SLEEPABLE | \
	 BPF_F_TEST_RND_HI32 | BPF_F_XDP_HAS_FRAGS)

struct vlog {
	char *buf;               /* our copy, copied out at the end */
	size_t size, len;
	void *ubuf;
};

static void vlog(struct vlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog(struct vlog *l, const char *fmt, ...)
{
	va_list ap;
	if (!l->buf || l->len + 1 >= l->size)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < l->size ? l->len + (size_t)n : l->size - 1;
}

static bool is_ldimm64(const struct bpf_insn *i) { return i->code == (BPF_LD | BPF_IMM | BPF_DW); }

/* The structural part of the verifier: 0 or -errno with a message in the log. */
static int check_insns(struct bpf_insn *insns, __u32 cnt, struct vlog *log, __u32 *map_ids, __u32 *nr_maps)
{
	for (__u32 i = 0; i < cnt; i++) {
		struct bpf_insn *in = &insns[i];
		__u8 cls = BPF_CLASS(in->code);

		if (in->dst_reg > 10 || in->src_reg > 10) {
			if (!(is_ldimm64(in) && in->src_reg <= BPF_PSEUDO_MAP_IDX_VALUE)) {
				vlog(log, "R%d is invalid\n", in->dst_reg > 10 ? in->dst_reg : in->src_reg);
				return -EINVAL;
			}
		}
		if (is_ldimm64(in)) {
			if (i + 1 >= cnt || insns[i + 1].code || insns[i + 1].dst_reg || insns[i + 1].src_reg ||
			    insns[i + 1].off) {
				vlog(log, "invalid bpf_ld_imm64 insn\n");
				return -EINVAL;
			}
			if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
				struct emu_obj *map;
				int acc, err = emu_fd_get(in->imm, EMU_KIND_MAP, &map, &acc);
				if (err) {
					vlog(log, "fd %d is not pointing to valid bpf_map\n", in->imm);
					return err;
				}
				if (*nr_maps < 64)
					map_ids[(*nr_maps)++] = map->hdr->id;
				emu_obj_put(map);
			}
			i++;
			continue;
		}
		switch (cls) {
		case BPF_LD:
			if (BPF_MODE(in->code) != BPF_ABS && BPF_MODE(in->code) != BPF_IND) {
				vlog(log, "unknown opcode %02x\n", in->code);
				return -EINVAL;
			}
			break;
		case BPF_LDX: case BPF_ST: case BPF_STX: case BPF_ALU: case BPF_ALU64:
			break;
		case BPF_JMP: case BPF_JMP32: {
			__u8 op = BPF_OP(in->code);
			if (op == BPF_EXIT || op == BPF_CALL)
				break;
			if (op > BPF_JSLE) {
				vlog(log, "unknown opcode %02x\n", in->code);
				return -EINVAL;
			}
			long long off = (cls == BPF_JMP32 || op != BPF_JA) ? in->off : in->off;
			long long t = (long long)i + off + 1;
			if (t < 0 || t >= cnt) {
				vlog(log, "jump out of range from insn %u to %lld\n", i, t);
				return -EINVAL;
			}
			break;
		}
		}
	}
	__u8 last = insns[cnt - 1].code;
	if (last != (BPF_JMP | BPF_EXIT) && last != (BPF_JMP | BPF_JA) && last != (BPF_JMP32 | BPF_JA)) {
		vlog(log, "last insn is not an exit or jmp\n");
		return -EINVAL;
	}
	return 0;
}

/* Registers an instruction reads and writes (bit n = Rn), its successors. */
struct insn_use {
	__u16 reads, writes, clobbers;
	int succ[2];
	int nsucc;
};

static struct insn_use insn_use(const struct bpf_insn *insns, __u32 i)
{
	const struct bpf_insn *in = &insns[i];
	__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	bool x = BPF_SRC(in->code) == BPF_X;
	struct insn_use u = { .succ = { (int)i + 1, -1 }, .nsucc = 1 };
	__u16 dst = (__u16)(1u << in->dst_reg), src = (__u16)(1u << in->src_reg);

	switch (cls) {
	case BPF_ALU: case BPF_ALU64:
		if (op == BPF_MOV)
			u.reads = x ? src : 0;
		else
			u.reads = dst | (x && op != BPF_END && op != BPF_NEG ? src : 0);
		u.writes = dst;
		break;
	case BPF_LDX:
		u.reads = src;
		u.writes = dst;
		break;
	case BPF_ST:
		u.reads = dst;
		break;
	case BPF_STX:
		u.reads = dst | src;
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			if (in->imm == BPF_CMPXCHG) {
				u.reads |= 1;
				u.writes = 1;
			} else if (in->imm & BPF_FETCH) {
				u.writes = src;
			}
		}
		break;
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			u.writes = dst;
			u.succ[0] = (int)i + 2;
		} else {   /* LD_ABS / LD_IND: ctx in R6, result in R0, R1-R5 clobbered */
			u.reads = (__u16)(1u << 6) | (BPF_MODE(in->code) == BPF_IND ? src : 0);
			u.writes = 1;
			u.clobbers = 0x3e;
		}
		break;
	case BPF_JMP: case BPF_JMP32:
		if (op == BPF_EXIT) {
			u.reads = 1;
			u.nsucc = 0;
		} else if (op == BPF_CALL) {
			u.writes = 1;
			u.clobbers = 0x3e;
			if (in->src_reg == BPF_PSEUDO_CALL) {
				u.succ[1] = (int)i + in->imm + 1;
				u.nsucc = 2;
			}
		} else if (op == BPF_JA) {
			u.succ[0] = (int)i + (cls == BPF_JMP32 ? in->imm : in->off) + 1;
		} else {
			u.reads = dst | (x ? src : 0);
			u.succ[1] = (int)i + in->off + 1;
			u.nsucc = 2;
		}
		break;
	}
	return u;
}

/*
 * check_cfg() and the register part of do_check(), path-insensitively: an
 * instruction no path reaches is "unreachable insn", and a register that no
 * path initializes before an instruction reads it is "!read_ok". Both are
 * errors the kernel finds on every path, so nothing the kernel accepts is
 * rejected here (the kernel may still reject more).
 */
static int check_flow(const struct bpf_insn *insns, __u32 cnt, struct vlog *log)
{
	__u16 *init = calloc(cnt, sizeof(*init));   /* registers some path has set; 0 = unreached */
	int err = 0;
	if (!init)
		return -ENOMEM;
	init[0] = 1u << 15 | 1u << 1 | 1u << 10;     /* bit 15: reached; R1 = ctx, R10 = frame */
	for (bool changed = true; changed;) {
		changed = false;
		for (__u32 i = 0; i < cnt; i++) {
			if (!init[i])
				continue;
			struct insn_use u = insn_use(insns, i);
			__u16 out = (__u16)((init[i] & ~u.clobbers) | u.writes);
			for (int k = 0; k < u.nsucc; k++) {
				int t = u.succ[k];
				if (t < 0 || (__u32)t >= cnt)
					continue;
				if ((init[t] | out) != init[t]) {
					init[t] |= out;
					changed = true;
				}
			}
			if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW))
				i++;
		}
	}
	for (__u32 i = 0; i < cnt && !err; i++) {
		bool wide = insns[i].code == (BPF_LD | BPF_IMM | BPF_DW);
		if (!init[i]) {
			vlog(log, "unreachable insn %u\n", i);
			err = -EINVAL;
			break;
		}
		__u16 missing = insn_use(insns, i).reads & (__u16)~init[i];
		for (int r = 0; r <= 10 && missing; r++)
			if (missing & (1u << r)) {
				vlog(log, "%u: R%d !read_ok\n", i, r);
				err = -EACCES;
				break;
			}
		if (wide)
			i++;
	}
	free(init);
	return err;
}

/* The kernel's prog tag: SHA-1 over the instructions (map fds zeroed), first 8 bytes. */
static void sha1(const unsigned char *msg, size_t len, unsigned char out[20])
{
	__u32 h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	size_t total = ((len + 8) / 64 + 1) * 64;
	unsigned char *m = calloc(1, total);
	if (!m) {
		memset(out, 0, 20);
		return;
	}
	memcpy(m, msg, len);
	m[len] = 0x80;
	__u64 bits = (__u64)len * 8;
	for (int i = 0; i < 8; i++)
		m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < total; off += 64) {
		__u32 w[80];
		for (int i = 0; i < 16; i++)
			w[i] = (__u32)m[off + 4 * i] << 24 | (__u32)m[off + 4 * i + 1] << 16 |
			       (__u32)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
		for (int i = 16; i < 80; i++) {
			__u32 x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
			w[i] = x << 1 | x >> 31;
		}
		__u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (int i = 0; i < 80; i++) {
			__u32 f, k;
			if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
			else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
			else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
			else { f = b ^ c ^ d; k = 0xCA62C1D6; }
			__u32 t = (a << 5 | a >> 27) + f + e + k + w[i];
			e = d; d = c; c = b << 30 | b >> 2; b = a; a = t;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
	}
	free(m);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void prog_tag(const struct bpf_insn *insns, __u32 cnt, __u8 tag[8])
{
	struct bpf_insn *copy = malloc((size_t)cnt * sizeof(*copy));
	unsigned char digest[20];
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
	sha1((const unsigned char *)copy, (size_t)cnt * sizeof(*copy), digest);
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

int emu_prog_load(const struct emu_prog_spec *s)
{
	char license[128];
	int err;

	if (s->prog_flags & ~PROG_FLAGS_MASK)
		return -EINVAL;
	if (s->insn_cnt == 0 || s->insn_cnt > BPF_COMPLEXITY_LIMIT_INSNS)
		return -E2BIG;
	if (s->prog_type == BPF_PROG_TYPE_UNSPEC || s->prog_type > BPF_PROG_TYPE_SYSCALL) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: unknown program type %u: EINVAL", s->prog_type);
		return -EINVAL;
	}
	if (s->ifindex) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: device offload is not possible: EINVAL");
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
	bool gpl = !strcmp(license, "GPL") || !strcmp(license, "GPL v2") || !strcmp(license, "GPL and additional rights") ||
		   !strcmp(license, "Dual BSD/GPL") || !strcmp(license, "Dual MIT/GPL") || !strcmp(license, "Dual MPL/GPL");
	char name[EMU_OBJ_NAME_LEN];
	err = emu_obj_name_cpy(name, s->name, sizeof(name));
	if (err < 0)
		goto out_insns;
	err = log_check(s);
	if (err)
		goto out_insns;

	struct vlog log = { .size = s->log_level ? s->log_size : 0, .ubuf = s->log_buf };
	if (log.size && !(log.buf = calloc(1, log.size))) {
		err = -ENOMEM;
		goto out_insns;
	}
	__u32 map_ids[64], nr_maps = 0;
	err = check_insns(insns, s->insn_cnt, &log, map_ids, &nr_maps);
	if (!err)
		err = check_flow(insns, s->insn_cnt, &log);
	if (!err && s->log_level)
		vlog(&log, "processed %u insns (limit %u) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n",
		     s->insn_cnt, BPF_COMPLEXITY_LIMIT_INSNS);
	if (log.buf && log.len) {
		int cerr = emu_copy_to_user(log.ubuf, log.buf, log.len + 1);
		if (cerr && !err)
			err = cerr;
	}
	free(log.buf);
	if (err) {
		EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: program rejected: %s", strerror(-err));
		goto out_insns;
	}

	struct emu_obj *prog;
	int fd = emu_obj_create(EMU_KIND_PROG, bytes, &prog);
	if (fd < 0) {
		err = fd;
		goto out_insns;
	}
	struct emu_obj_hdr *h = prog->hdr;
	memcpy(h->name, name, sizeof(h->name));
	struct emu_prog_desc *p = &h->prog;
	p->prog_type = s->prog_type;
	p->expected_attach_type = s->expected_attach_type;
	p->insn_cnt = s->insn_cnt;
	p->prog_flags = s->prog_flags;
	p->gpl_compatible = gpl;
	p->load_time = emu_ktime_boot_ns();
	p->created_by_uid = (__u32)getuid();
	p->nr_map_ids = nr_maps;
	memcpy(p->map_ids, map_ids, nr_maps * sizeof(__u32));
	prog_tag(insns, s->insn_cnt, p->tag);
	memcpy(emu_obj_data(prog), insns, bytes);
	h->id = emu_id_alloc(EMU_KIND_PROG);
	if (!h->id) {
		close(fd);
		emu_obj_put(prog);
		err = -ENOSPC;
		goto out_insns;
	}
	__atomic_store_n(&h->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	emu_fd_install(fd, prog);
	err = fd;
out_insns:
	free(insns);
	return err;
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
	info->verified_insns = p->insn_cnt;          /* straight-line: what the verifier processed */
	info->func_info_rec_size = sizeof(struct bpf_func_info);
	info->line_info_rec_size = sizeof(struct bpf_line_info);
	info->jited_line_info_rec_size = sizeof(__u64);
	info->nr_prog_tags = 1;                      /* no subprograms: the program's own tag */
	if (map_ids_out)
		memcpy(map_ids_out, p->map_ids, (nr_map_ids < p->nr_map_ids ? nr_map_ids : p->nr_map_ids) * 4);
	return 0;
}
