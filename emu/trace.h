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
	unsigned char before[EMU_TRACE_ATTR];   /* min(size, EMU_TRACE_ATTR) bytes, rest zero */
};

/* False (and nothing to do after the call) when tracing is off. */
bool emu_trace_enter(struct emu_trace_call *t, int cmd, const void *uattr, unsigned int size);
void emu_trace_exit(struct emu_trace_call *t, long ret);

#endif
