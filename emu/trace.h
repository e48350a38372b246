/* SPDX-License-Identifier: MIT */
/*
 * emu/trace.h: BPFEMU_TRACE=FILE, one strace-6.1-style line per bpf() call.
 *
 * sys.c calls emu_trace_enter() before the command runs (strace decodes most
 * fields on entry, and a few "old => new" on exit) and emu_trace_exit() after.
 */
#ifndef BPFEMU_TRACE_H
#define BPFEMU_TRACE_H

#include <stdbool.h>

#define EMU_TRACE_ATTR 256u     /* bytes of attr snapshotted on entry */

struct emu_trace_call {
	int cmd;
	const void *uattr;
	unsigned int size;
	bool readable;                          /* the attr could be read on entry */
	unsigned char before[EMU_TRACE_ATTR] __attribute__((aligned(8)));   /* min(size, EMU_TRACE_ATTR) bytes, rest zero */
	unsigned char *info_in;                 /* OBJ_GET_INFO_BY_FD: the info struct as given */
	unsigned int info_in_len;
	char *log_in;                           /* PROG_LOAD: log_buf as strace prints it on entry */
};

/* False (and nothing to do after the call) when tracing is off. */
bool emu_trace_enter(struct emu_trace_call *t, int cmd, const void *uattr, unsigned int size);
void emu_trace_exit(struct emu_trace_call *t, long ret);

/* For bpfemu replay: the value of a name the trace prints (BPF_MAP_TYPE_HASH,
 * BPF_F_RDONLY, BPF_NOEXIST, ...); false if unknown. */
bool emu_trace_name_value(const char *name, unsigned long long *v);
/* The number of a command name (BPF_MAP_CREATE = 0), -1 if unknown. */
int emu_trace_cmd_value(const char *name);
const char *emu_trace_cmd_name(int cmd);

#endif
