/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/verifier.h: the verifier of BPF_PROG_LOAD, as another part of
 * the engine sees it.
 *
 * emu/prog.c copies the program in and hands it here; the verifier answers
 * as Linux 6.18's bpf_check() does (errno, log text, statistics line) and,
 * for a program that loads, leaves per-instruction facts (struct
 * emu_insn_aux) for the parts that run programs: which instructions some
 * path reached, and for each load and store which memory region it touches
 * and whether every walked path proved it in bounds (the kernel's
 * insn_aux_data, in a form a VM can read to skip run-time checks).
 */
#ifndef BPFEMU_VERIFIER_H
#define BPFEMU_VERIFIER_H

#include <linux/bpf.h>
#include <stdbool.h>

/* The memory a load or store reaches (enum emu_mem_region in emu_insn_aux.mem). */
enum emu_mem_region {
	EMU_MEM_NONE = 0,       /* not a memory access, or never walked */
	EMU_MEM_STACK,          /* the frame's stack: [r10 - 512, r10) of the walking frame */
	EMU_MEM_CTX,            /* the program's context */
	EMU_MEM_MAP_VALUE,      /* a map value (value_size bytes) */
	EMU_MEM_MAP_KEY,        /* a map key handed to a callback */
	EMU_MEM_PACKET,         /* packet data, checked against data_end */
	EMU_MEM_PACKET_META,
	EMU_MEM_MEM,            /* helper-returned memory (ring buffer record, ...) of a known size */
	EMU_MEM_BTF,            /* a kernel object through BTF (probe read: faults read as zero) */
	EMU_MEM_FLOW_KEYS,
	EMU_MEM_SOCKET,         /* sock, sock_common, tcp_sock, xdp_sock */
	EMU_MEM_TP_BUFFER,
	EMU_MEM_BUF,
	EMU_MEM_ARENA,
	EMU_MEM_MIXED,          /* different regions on different paths */
};

struct emu_insn_aux {
	__u8 seen;              /* some walked path reached the instruction (0: dead code) */
	__u8 mem;               /* enum emu_mem_region of a load, store or atomic */
	__u8 in_bounds;         /* every path that reached it proved the access inside its region */
	__u8 ctx_field_size;    /* a context access: the size of the field it reads (narrow loads) */
	__s32 fixed_off;        /* a stack or map value access: the offset every path used, if constant
				 * (INT32_MIN: it varied) */
	__u32 map_id;           /* ld_imm64 of a map (fd or value): the map's id */
};

/* What a load gives the verifier: the instructions and license are already
 * copied in (and checked for the limits bpf_prog_load() checks first); the
 * other pointers are the caller's, copied here as the kernel copies them. */
struct emu_verifier_attr {
	const struct bpf_insn *insns;
	__u32 insn_cnt;
	__u32 prog_type, expected_attach_type, prog_flags;
	bool gpl;
	__u32 attach_btf_id;
	__u32 attach_btf_obj_id;        /* the kernel BTF object attach_btf_id is in (emu/btf_kernel.c), 0: none */
	int attach_prog_fd;             /* > 0: the program an extension or fentry program targets */
	__u32 prog_btf_fd;
	__u32 func_info_rec_size, func_info_cnt;
	const void *func_info;
	__u32 line_info_rec_size, line_info_cnt;
	const void *line_info;
	__u32 log_level, log_size;
	void *log_buf;
};

struct emu_verifier_result {
	__u32 verified_insns;           /* the statistics line's processed count */
	__u32 map_ids[64], nr_map_ids;  /* used maps, each once, in order of first use */
	__u32 btf_id;                   /* prog_btf_fd's BTF, when func_info/line_info came with it */
	struct bpf_func_info *finfo;    /* copied records (the caller frees with emu_verifier_result_free) */
	__u32 nr_finfo;
	struct bpf_line_info *linfo;
	__u32 nr_linfo;
	struct emu_insn_aux *aux;       /* xlated_cnt entries (of the xlated instructions) */
	/* the program after the kernel's dead code passes (xlate.c): what
	 * bpf_prog_info's xlated instructions show and what runs; finfo and
	 * linfo above are of it. NULL: the loaded program unchanged (no walk) */
	struct bpf_insn *xlated;
	__u32 xlated_cnt;
	__u32 stack_depth;              /* the deepest stack of the main program (bytes, rounded to 8) */
	/* an extension of a program: the target's id, expected_attach_type (the
	 * extension's from now on, as the kernel's check_attach_btf_id() sets it)
	 * and the first instruction of the function it replaces */
	__u32 dst_prog_id, dst_eat, dst_insn_off, dst_btf_id;
	/* bit i: subprogram i changes packet data / might sleep (a subprogram
	 * past the 64th is taken as both) */
	__u64 sub_pkt_mask, sub_sleep_mask;
};

/*
 * For the engine's own tests of the VM's run-time checks only (not reachable
 * through bpf() or the environment): with walk false, loads skip the
 * verifier's walk (everything before and after it still runs), so programs
 * the kernel refuses load and the VM must stop them; their instructions
 * carry no facts.
 */
void emu_verifier_set_walk(bool walk);

/* 0 or -errno, as bpf_check(); the log (when asked for) is written to the caller's buffer. */
int emu_verify(const struct emu_verifier_attr *attr, struct emu_verifier_result *res);
void emu_verifier_result_free(struct emu_verifier_result *res);

#endif
