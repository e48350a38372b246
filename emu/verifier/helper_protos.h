/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/helper_protos.h: each helper's prototype as the verifier
 * checks it (struct bpf_func_proto of Linux 6.18): the return type and the
 * five argument types, fixed sizes and kernel types of pointer arguments.
 * Written from the kernel's prototypes (kernel/bpf/helpers.c,
 * kernel/trace/bpf_trace.c, net/core/filter.c and friends); where a helper
 * has variants per program type with the same argument types, one entry
 * stands for all; the variants whose types differ follow the table. Which program types may call a helper, and which need a
 * GPL license or a sleepable program, is emu/helpers.h (probed on the kernel).
 */
#ifndef BPFEMU_VERIFIER_HELPER_PROTOS_H
#define BPFEMU_VERIFIER_HELPER_PROTOS_H

/* enum bpf_arg_type */
enum {
	ARG_DONTCARE = 0,
	ARG_CONST_MAP_PTR,
	ARG_PTR_TO_MAP_KEY,
	ARG_PTR_TO_MAP_VALUE,
	ARG_PTR_TO_MEM,
	ARG_PTR_TO_ARENA,
	ARG_CONST_SIZE,
	ARG_CONST_SIZE_OR_ZERO,
	ARG_PTR_TO_CTX,
	ARG_ANYTHING,
	ARG_PTR_TO_SPIN_LOCK,
	ARG_PTR_TO_SOCK_COMMON,
	ARG_PTR_TO_SOCKET,
	ARG_PTR_TO_BTF_ID,
	ARG_PTR_TO_RINGBUF_MEM,
	ARG_CONST_ALLOC_SIZE_OR_ZERO,
	ARG_PTR_TO_BTF_ID_SOCK_COMMON,
	ARG_PTR_TO_PERCPU_BTF_ID,
	ARG_PTR_TO_FUNC,
	ARG_PTR_TO_STACK,
	ARG_PTR_TO_CONST_STR,
	ARG_PTR_TO_TIMER,
	ARG_KPTR_XCHG_DEST,
	ARG_PTR_TO_DYNPTR,
	__BPF_ARG_TYPE_MAX,
};

/* enum bpf_return_type */
enum {
	RET_INTEGER = 0,
	RET_VOID,
	RET_PTR_TO_MAP_VALUE,
	RET_PTR_TO_SOCKET,
	RET_PTR_TO_TCP_SOCK,
	RET_PTR_TO_SOCK_COMMON,
	RET_PTR_TO_MEM,
	RET_PTR_TO_MEM_OR_BTF_ID,
	RET_PTR_TO_BTF_ID,
};

struct helper_proto {
	__u32 ret_type;                 /* RET_* | flags */
	__u32 arg_type[5];              /* ARG_* | flags */
	__u32 arg_size[5];              /* MEM_FIXED_SIZE arguments */
	const char *arg_btf[5];         /* ARG_PTR_TO_BTF_ID: the kernel struct */
	const char *ret_btf;            /* RET_PTR_TO_BTF_ID: the kernel struct */
	bool pkt_access;
	bool known;                     /* a prototype is written down here */
};

#define M ARG_CONST_MAP_PTR
#define K ARG_PTR_TO_MAP_KEY
#define V ARG_PTR_TO_MAP_VALUE
#define VU (ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE)
#define VN (ARG_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL)
#define C ARG_PTR_TO_CTX
#define CN (ARG_PTR_TO_CTX | PTR_MAYBE_NULL)
#define A ARG_ANYTHING
#define RM (ARG_PTR_TO_MEM | MEM_RDONLY)
#define RMN (ARG_PTR_TO_MEM | MEM_RDONLY | PTR_MAYBE_NULL)
#define UM (ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE)
#define WM (ARG_PTR_TO_MEM | MEM_WRITE)
#define WMN (ARG_PTR_TO_MEM | MEM_WRITE | PTR_MAYBE_NULL)
#define FL (ARG_PTR_TO_MEM | MEM_FIXED_SIZE | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED)   /* a long the helper writes */
#define FW (ARG_PTR_TO_MEM | MEM_FIXED_SIZE | MEM_WRITE)
#define FR (ARG_PTR_TO_MEM | MEM_FIXED_SIZE | MEM_RDONLY)
#define S ARG_CONST_SIZE
#define SZ ARG_CONST_SIZE_OR_ZERO
#define SC ARG_PTR_TO_SOCK_COMMON
#define BS ARG_PTR_TO_BTF_ID_SOCK_COMMON
#define B ARG_PTR_TO_BTF_ID
#define BN (ARG_PTR_TO_BTF_ID | PTR_MAYBE_NULL)
#define FN ARG_PTR_TO_FUNC
#define STN (ARG_PTR_TO_STACK | PTR_MAYBE_NULL)
#define TM ARG_PTR_TO_TIMER
#define DY (ARG_PTR_TO_DYNPTR | MEM_RDONLY)
#define RI RET_INTEGER
#define RV RET_VOID
#define RMV (RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL)
#define RBN (RET_PTR_TO_BTF_ID | PTR_MAYBE_NULL)
#define P(ret, a1, a2, a3, a4, a5) { .ret_type = (ret), .arg_type = { a1, a2, a3, a4, a5 }, .known = true }
#define PB(ret, rb, a1, a2, a3, a4, a5, b1, b2) \
	{ .ret_type = (ret), .ret_btf = (rb), .arg_type = { a1, a2, a3, a4, a5 }, .arg_btf = { b1, b2 }, .known = true }

static const struct helper_proto helper_protos[212] = {
	[1] = { .ret_type = RMV, .arg_type = { M, K }, .pkt_access = true, .known = true },
	[2] = { .ret_type = RI, .arg_type = { M, K, V, A }, .pkt_access = true, .known = true },
	[3] = { .ret_type = RI, .arg_type = { M, K }, .pkt_access = true, .known = true },
	[4] = P(RI, UM, SZ, A, 0, 0),
	[5] = P(RI, 0, 0, 0, 0, 0),
	[6] = P(RI, RM, S, 0, 0, 0),
	[7] = P(RI, 0, 0, 0, 0, 0),
	[8] = P(RI, 0, 0, 0, 0, 0),
	[9] = P(RI, C, A, RM, S, A),
	[10] = P(RI, C, A, A, A, A),
	[11] = P(RI, C, A, A, A, A),
	[12] = P(RV, C, M, A, 0, 0),
	[13] = P(RI, C, A, A, 0, 0),
	[14] = P(RI, 0, 0, 0, 0, 0),
	[15] = P(RI, 0, 0, 0, 0, 0),
	[16] = P(RI, UM, S, 0, 0, 0),
	[17] = P(RI, C, 0, 0, 0, 0),
	[18] = P(RI, C, A, A, 0, 0),
	[19] = P(RI, C, 0, 0, 0, 0),
	[20] = P(RI, C, UM, S, A, 0),
	[21] = P(RI, C, RM, S, A, 0),
	[22] = P(RI, M, A, 0, 0, 0),
	[23] = P(RI, A, A, 0, 0, 0),
	[24] = P(RI, C, 0, 0, 0, 0),
	[25] = P(RI, C, M, A, RM, SZ),
	[26] = P(RI, C, A, UM, S, 0),
	[27] = P(RI, C, M, A, 0, 0),
	[28] = { .ret_type = RI, .arg_type = { RMN, SZ, RMN, SZ, A }, .pkt_access = true, .known = true },
	[29] = P(RI, C, UM, S, 0, 0),
	[30] = P(RI, C, RM, S, 0, 0),
	[31] = P(RI, C, A, A, 0, 0),
	[32] = P(RI, C, A, 0, 0, 0),
	[33] = P(RI, C, M, A, 0, 0),
	[34] = P(RI, C, 0, 0, 0, 0),
	[35] = P(RI, 0, 0, 0, 0, 0),
	[36] = P(RI, A, RM, S, 0, 0),
	[37] = P(RI, M, A, 0, 0, 0),
	[38] = P(RI, C, A, A, 0, 0),
	[39] = P(RI, C, A, 0, 0, 0),
	[40] = P(RI, C, A, 0, 0, 0),
	[41] = P(RI, C, 0, 0, 0, 0),
	[42] = P(RI, 0, 0, 0, 0, 0),
	[43] = P(RI, C, A, A, 0, 0),
	[44] = P(RI, C, A, 0, 0, 0),
	[45] = P(RI, UM, SZ, A, 0, 0),
	[46] = P(RI, C, 0, 0, 0, 0),
	[47] = P(RI, C, 0, 0, 0, 0),
	[48] = P(RI, C, A, 0, 0, 0),
	[49] = P(RI, C, A, A, RM, S),
	[50] = P(RI, C, A, A, A, 0),
	[51] = P(RI, M, A, A, 0, 0),
	[52] = P(RI, C, M, A, A, 0),
	[53] = { .ret_type = RI, .arg_type = { C, M, K, A }, .pkt_access = true, .known = true },
	[54] = P(RI, C, A, 0, 0, 0),
	[55] = P(RI, M, A, UM, S, 0),
	[56] = P(RI, C, UM, S, 0, 0),
	[57] = P(RI, C, A, A, UM, S),
	[58] = P(RI, C, A, 0, 0, 0),
	[59] = P(RI, C, A, 0, 0, 0),
	[60] = P(RI, C, M, A, A, 0),
	[61] = P(RI, C, A, 0, 0, 0),
	[62] = P(RI, C, A, 0, 0, 0),
	[63] = P(RI, C, A, A, A, 0),
	[64] = P(RI, C, RM, S, 0, 0),
	[65] = P(RI, C, A, 0, 0, 0),
	[66] = P(RI, C, A, UM, S, A),
	[67] = P(RI, C, UM, SZ, A, 0),
	[68] = P(RI, C, A, UM, S, A),
	[69] = P(RI, C, WM, S, A, 0),
	[70] = { .ret_type = RI, .arg_type = { C, M, K, A }, .pkt_access = true, .known = true },
	[71] = P(RI, C, M, K, A, 0),
	[72] = P(RI, C, M, K, A, 0),
	[73] = P(RI, C, A, RM, S, 0),
	[74] = P(RI, C, A, RM, S, 0),
	[75] = P(RI, C, A, A, 0, 0),
	[76] = P(RI, C, A, RM, S, 0),
	[77] = P(RI, C, 0, 0, 0, 0),
	[78] = P(RI, C, A, A, A, 0),
	[79] = P(RI, C, 0, 0, 0, 0),
	[80] = P(RI, 0, 0, 0, 0, 0),
	[81] = P(RET_PTR_TO_MAP_VALUE, M, A, 0, 0, 0),
	[82] = P(RI, C, M, K, A, 0),
	[83] = P(RI, C, A, 0, 0, 0),
	[84] = { .ret_type = RET_PTR_TO_SOCKET | PTR_MAYBE_NULL, .arg_type = { C, RM, SZ, A, A }, .pkt_access = true,
		 .known = true },
	[85] = { .ret_type = RET_PTR_TO_SOCKET | PTR_MAYBE_NULL, .arg_type = { C, RM, SZ, A, A }, .pkt_access = true,
		 .known = true },
	[86] = P(RI, BS | OBJ_RELEASE, 0, 0, 0, 0),
	[87] = { .ret_type = RI, .arg_type = { M, V, A }, .pkt_access = true, .known = true },
	[88] = P(RI, M, VU, 0, 0, 0),
	[89] = P(RI, M, VU, 0, 0, 0),
	[90] = P(RI, C, A, A, A, 0),
	[91] = P(RI, C, A, A, A, 0),
	[92] = P(RI, C, A, A, 0, 0),
	[93] = P(RV, ARG_PTR_TO_SPIN_LOCK, 0, 0, 0, 0),
	[94] = P(RV, ARG_PTR_TO_SPIN_LOCK, 0, 0, 0, 0),
	[95] = P(RET_PTR_TO_SOCKET | PTR_MAYBE_NULL, SC, 0, 0, 0, 0),
	[96] = P(RET_PTR_TO_TCP_SOCK | PTR_MAYBE_NULL, SC, 0, 0, 0, 0),
	[97] = P(RI, C, 0, 0, 0, 0),
	[98] = P(RET_PTR_TO_SOCKET | PTR_MAYBE_NULL, SC, 0, 0, 0, 0),
	[99] = { .ret_type = RET_PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL, .arg_type = { C, RM, SZ, A, A }, .pkt_access = true,
		 .known = true },
	[100] = { .ret_type = RI, .arg_type = { BS, RM, S, RM, S }, .pkt_access = true, .known = true },
	[101] = P(RI, C, WM, S, A, 0),
	[102] = P(RI, C, UM, S, 0, 0),
	[103] = P(RI, C, UM, S, 0, 0),
	[104] = P(RI, C, RM, S, 0, 0),
	[105] = { .ret_type = RI, .arg_type = { RM, S, A, FL }, .arg_size = { 0, 0, 0, 8 }, .known = true },
	[106] = { .ret_type = RI, .arg_type = { RM, S, A, FL }, .arg_size = { 0, 0, 0, 8 }, .known = true },
	[107] = P(RMV, M, BS, VN, A, 0),
	[108] = P(RI, M, BS, 0, 0, 0),
	[109] = P(RI, A, 0, 0, 0, 0),
	[110] = { .ret_type = RI, .arg_type = { BS, RM, S, RM, S }, .pkt_access = true, .known = true },
	[111] = PB(RI, NULL, B, M, A, RM, SZ, "sk_buff", NULL),
	[112] = P(RI, UM, SZ, A, 0, 0),
	[113] = P(RI, UM, SZ, A, 0, 0),
	[114] = P(RI, UM, SZ, A, 0, 0),
	[115] = P(RI, UM, SZ, A, 0, 0),
	[116] = PB(RI, NULL, B, A, 0, 0, 0, "tcp_sock", NULL),
	[117] = P(RI, A, 0, 0, 0, 0),
	[118] = P(RI, 0, 0, 0, 0, 0),
	[119] = P(RI, C, WMN, SZ, A, 0),
	[120] = P(RI, A, A, UM, S, 0),
	[121] = PB(RI, NULL, B, M, A, RM, SZ, "xdp_buff", NULL),
	[122] = P(RI, CN, 0, 0, 0, 0),
	[123] = P(RI, A, 0, 0, 0, 0),
	[124] = P(RI, C, BS, A, 0, 0),
	[125] = P(RI, 0, 0, 0, 0, 0),
	[126] = PB(RI, NULL, B, RM, S, RMN, SZ, "seq_file", NULL),
	[127] = PB(RI, NULL, B, RM, SZ, 0, 0, "seq_file", NULL),
	[128] = P(RI, BS, 0, 0, 0, 0),
	[129] = P(RI, BS, A, 0, 0, 0),
	[130] = P(RI, M, RM, SZ, A, 0),
	[131] = P(RET_PTR_TO_MEM | MEM_RINGBUF | PTR_MAYBE_NULL, M, ARG_CONST_ALLOC_SIZE_OR_ZERO, A, 0, 0),
	[132] = P(RV, ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, A, 0, 0, 0),
	[133] = P(RV, ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, A, 0, 0, 0),
	[134] = P(RI, M, A, 0, 0, 0),
	[135] = P(RI, C, A, 0, 0, 0),
	[136] = PB(RBN, "tcp6_sock", BS, 0, 0, 0, 0, NULL, NULL),
	[137] = PB(RBN, "tcp_sock", BS, 0, 0, 0, 0, NULL, NULL),
	[138] = PB(RBN, "tcp_timewait_sock", BS, 0, 0, 0, 0, NULL, NULL),
	[139] = PB(RBN, "tcp_request_sock", BS, 0, 0, 0, 0, NULL, NULL),
	[140] = PB(RBN, "udp6_sock", BS, 0, 0, 0, 0, NULL, NULL),
	[141] = PB(RI, NULL, B, UM, SZ, A, 0, "task_struct", NULL),
	[142] = P(RI, C, WM, S, A, 0),
	[143] = P(RI, C, RM, S, A, 0),
	[144] = P(RI, C, A, A, 0, 0),
	[145] = PB(RMV, NULL, M, BN, VN, A, 0, NULL, "inode"),
	[146] = PB(RI, NULL, M, BN, 0, 0, 0, NULL, "inode"),
	[147] = PB(RI, NULL, B, WM, SZ, 0, 0, "path", NULL),
	[148] = P(RI, UM, SZ, A, 0, 0),
	[149] = P(RI, WM, S, RM, S, A),
	[150] = PB(RI, NULL, B, RM, SZ, A, 0, "seq_file", NULL),
	[151] = P(RI, C, 0, 0, 0, 0),
	[152] = P(RI, A, RMN, SZ, A, 0),
	[153] = P(RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL | MEM_RDONLY, ARG_PTR_TO_PERCPU_BTF_ID, A, 0, 0, 0),
	[154] = P(RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY, ARG_PTR_TO_PERCPU_BTF_ID, 0, 0, 0, 0),
	[155] = P(RI, A, A, 0, 0, 0),
	[156] = PB(RMV, NULL, M, BN, VN, A, 0, NULL, "task_struct"),
	[157] = PB(RI, NULL, M, BN, 0, 0, 0, NULL, "task_struct"),
	[158] = PB(RET_PTR_TO_BTF_ID | PTR_TRUSTED, "task_struct", 0, 0, 0, 0, 0, NULL, NULL),
	[159] = PB(RI, NULL, B, A, 0, 0, 0, "linux_binprm", NULL),
	[160] = P(RI, 0, 0, 0, 0, 0),
	[161] = PB(RI, NULL, B, UM, S, 0, 0, "inode", NULL),
	[162] = PB(RBN, "socket", B, 0, 0, 0, 0, "file", NULL),
	[163] = { .ret_type = RI, .arg_type = { C, A, FW | MEM_ALIGNED, A, A }, .arg_size = { 0, 0, 4 }, .known = true },
	[164] = P(RI, M, FN, STN, A, 0),
	[165] = P(RI, WMN, SZ, ARG_PTR_TO_CONST_STR, RMN, SZ),
	[166] = P(RI, A, RM, S, 0, 0),
	[167] = P(RI, RM, S, A, A, 0),
	[168] = P(RI, A, 0, 0, 0, 0),
	[169] = P(RI, TM, M, A, 0, 0),
	[170] = P(RI, TM, FN, 0, 0, 0),
	[171] = P(RI, TM, A, A, 0, 0),
	[172] = P(RI, TM, 0, 0, 0, 0),
	[173] = P(RI, C, 0, 0, 0, 0),
	[174] = P(RI, C, 0, 0, 0, 0),
	[175] = PB(RET_PTR_TO_BTF_ID, "pt_regs", B, 0, 0, 0, 0, "task_struct", NULL),
	[176] = P(RI, UM, SZ, 0, 0, 0),
	[177] = P(RI, RM, S, RMN, SZ, 0),
	[178] = PB(RBN, "unix_sock", BS, 0, 0, 0, 0, NULL, NULL),
	[179] = { .ret_type = RI, .arg_type = { RM, SZ, A, FL }, .arg_size = { 0, 0, 0, 8 }, .known = true },
	[180] = PB(RI, NULL, B, A, FN, STN, A, "task_struct", NULL),
	[181] = P(RI, A, FN, STN, A, 0),
	[182] = P(RI, RM, S, ARG_PTR_TO_CONST_STR, 0, 0),
	[183] = { .ret_type = RI, .arg_type = { C, A, FL }, .arg_size = { 0, 0, 8 }, .known = true },
	[184] = { .ret_type = RI, .arg_type = { C, FL }, .arg_size = { 0, 8 }, .known = true },
	[185] = P(RI, C, 0, 0, 0, 0),
	[186] = P(RI, 0, 0, 0, 0, 0),
	[187] = P(RI, A, 0, 0, 0, 0),
	[188] = P(RI, C, 0, 0, 0, 0),
	[189] = P(RI, C, A, UM, S, 0),
	[190] = P(RI, C, A, RM, S, 0),
	[191] = { .ret_type = RI, .arg_type = { UM, SZ, A, B, A }, .arg_btf = { [3] = "task_struct" }, .known = true },
	[192] = P(RI, C, A, A, 0, 0),
	[193] = PB(RI, NULL, B, UM, S, 0, 0, "file", NULL),
	[194] = P(RBN, ARG_KPTR_XCHG_DEST, BN | OBJ_RELEASE, 0, 0, 0),
	[195] = { .ret_type = RMV, .arg_type = { M, K, A }, .pkt_access = true, .known = true },
	[196] = PB(RBN, "mptcp_sock", SC, 0, 0, 0, 0, NULL, NULL),
	[197] = P(RI, UM, SZ, A, ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_LOCAL | MEM_UNINIT | MEM_WRITE, 0),
	[198] = P(RI, M, A, A, ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | MEM_UNINIT | MEM_WRITE, 0),
	[199] = P(RV, ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE, A, 0, 0, 0),
	[200] = P(RV, ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE, A, 0, 0, 0),
	[201] = P(RI, UM, SZ, DY, A, A),
	[202] = P(RI, DY, A, RM, SZ, A),
	[203] = P(RET_PTR_TO_MEM | PTR_MAYBE_NULL, DY, A, ARG_CONST_ALLOC_SIZE_OR_ZERO, 0, 0),
	[204] = { .ret_type = RI, .arg_type = { FR, RM, SZ }, .arg_size = { 20 }, .pkt_access = true, .known = true },
	[205] = { .ret_type = RI, .arg_type = { FR, RM, SZ }, .arg_size = { 40 }, .pkt_access = true, .known = true },
	[206] = { .ret_type = RI, .arg_type = { FR, FR }, .arg_size = { 20, 20 }, .pkt_access = true, .known = true },
	[207] = { .ret_type = RI, .arg_type = { FR, FR }, .arg_size = { 40, 20 }, .pkt_access = true, .known = true },
	[208] = P(RI, 0, 0, 0, 0, 0),
	[209] = P(RI, M, FN, STN, A, 0),
	[210] = PB(RMV, NULL, M, BN, VN, A, 0, NULL, "cgroup"),
	[211] = PB(RI, NULL, M, BN, 0, 0, 0, NULL, "cgroup"),
};

/*
 * Prototypes a program type's get_func_proto() hands out instead of the one
 * above for the same helper id (emu/verifier/call.c's get_helper_proto()
 * picks them, as the kernel's func_proto functions do):
 *   get_cgroup_classid  no argument (bpf_get_cgroup_classid_curr_proto) where
 *                       bpf_base_func_proto() answers: not tc, not lwt
 *   get_socket_cookie   a sock_common BTF pointer or NULL
 *                       (bpf_get_socket_ptr_cookie_proto): sk_reuseport and
 *                       tracing_prog_func_proto()'s users (tracing, lsm, syscall)
 *   setsockopt,         a sock_common BTF pointer (bpf_sk_setsockopt_proto,
 *   getsockopt          bpf_sk_getsockopt_proto): cgroup sockopt, lsm_cgroup,
 *                       tcp iterators; sock_ops and sock_addr pass the context
 *   sk_assign           a socket or NULL (bpf_sk_lookup_assign_proto): sk_lookup
 *   sk_storage_get,     a sock_common BTF pointer or NULL, only some attach
 *   sk_storage_delete   types (bpf_sk_storage_*_tracing_proto): tracing, syscall;
 *                       cgroup_sock passes the context (bpf_sk_storage_get_cg_sock_proto)
 *   xdp_get_buff_len    an xdp_buff BTF pointer (bpf_xdp_get_buff_len_trace_proto):
 *                       tracing_prog_func_proto()'s users
 */
static const struct helper_proto helper_proto_get_cgroup_classid_curr = P(RI, 0, 0, 0, 0, 0);
static const struct helper_proto helper_proto_get_socket_ptr_cookie = P(RI, BS | PTR_MAYBE_NULL, 0, 0, 0, 0);
static const struct helper_proto helper_proto_sk_setsockopt = P(RI, BS, A, A, RM, S);
static const struct helper_proto helper_proto_sk_getsockopt = P(RI, BS, A, A, UM, S);
static const struct helper_proto helper_proto_sk_lookup_assign =
	P(RI, C, ARG_PTR_TO_SOCKET | PTR_MAYBE_NULL, A, 0, 0);
static const struct helper_proto helper_proto_sk_storage_get_tracing =
	PB(RMV, NULL, M, BN, VN, A, 0, NULL, "sock_common");
static const struct helper_proto helper_proto_sk_storage_delete_tracing =
	PB(RI, NULL, M, BN, 0, 0, 0, NULL, "sock_common");
static const struct helper_proto helper_proto_sk_storage_get_cg_sock = P(RMV, M, C, VN, A, 0);
static const struct helper_proto helper_proto_xdp_get_buff_len_trace = PB(RI, NULL, B, 0, 0, 0, 0, "xdp_buff", NULL);

#undef M
#undef K
#undef V
#undef VU
#undef VN
#undef C
#undef CN
#undef A
#undef RM
#undef RMN
#undef UM
#undef WM
#undef WMN
#undef FL
#undef FW
#undef FR
#undef S
#undef SZ
#undef SC
#undef BS
#undef B
#undef BN
#undef FN
#undef STN
#undef TM
#undef DY
#undef RI
#undef RV
#undef RMV
#undef RBN
#undef P
#undef PB

#endif
