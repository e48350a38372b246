/* SPDX-License-Identifier: MIT */
/* tools/tools.h: subcommands that live in their own files (tools/bpfemu.c's table names them). */
#ifndef BPFEMU_TOOLS_H
#define BPFEMU_TOOLS_H

int cmd_replay(int argc, char **argv);     /* tools/replay.c */
int cmd_record(int argc, char **argv);     /* tools/record.c */
/* `run --trace FILE` and `record -o FILE`: BPFEMU_TRACE (absolute) and
 * BPFEMU_TRACE_PID for the program about to be exec'd; truncates FILE first
 * if truncate. 0, or -errno with a message printed. */
int record_trace_env(const char *file, int truncate);

#endif
