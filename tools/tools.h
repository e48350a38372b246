/* SPDX-License-Identifier: MIT */
/*
 * tools/tools.h: what the bpfemu subcommands beyond `run` share.
 *
 * `load` and `ls` talk to "the kernel" only through syscall(__NR_bpf) and
 * ordinary libc file calls, so the same code runs on a real kernel (as root)
 * and under the shim (libbpfemu.so preloaded). tool_ensure_backend() decides
 * which one a run gets.
 */
#ifndef BPFEMU_TOOLS_H
#define BPFEMU_TOOLS_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>

#define EXIT_USAGE 2

/* syscall(__NR_bpf, ...): >= 0, or -errno. */
long tool_bpf(int cmd, union bpf_attr *attr, unsigned int size);

/*
 * Under the shim: returns 0 (bpf() is emulated). Not under the shim and root:
 * returns 0 (the real kernel answers). Otherwise re-executes this process as
 * `bpfemu run -- bpfemu SUBCMD ARG...` and does not return unless that
 * fails (message printed, returns -errno). argv is the subcommand's
 * (argv[0] is its name).
 */
int tool_ensure_backend(char **argv);
bool tool_under_shim(void);

/* "hash", "array", ... (bpftool's names); NULL if unknown. */
const char *tool_map_type_name(unsigned int type);
const char *tool_prog_type_name(unsigned int type);

/* The number of possible CPUs (/sys/devices/system/cpu/possible), or -errno. */
int tool_possible_cpus(void);

/* Writes s as a JSON string (quotes included). */
void tool_json_str(FILE *f, const char *s);

/* The state root bpfemu uses: BPFEMU_ROOT, else /dev/shm/bpfemu-$UID. */
void tool_state_root(char *out, size_t len);

int cmd_load(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_reset(int argc, char **argv);


int cmd_replay(int argc, char **argv);     /* tools/replay.c */
void replay_help(FILE *f);                  /* tools/replay.c: the options and what replay infers */
int cmd_record(int argc, char **argv);     /* tools/record.c */
int cmd_fire(int argc, char **argv);       /* tools/fire.c */
void fire_help(FILE *f);
/* `run --trace FILE` and `record -o FILE`: BPFEMU_TRACE (absolute) and
 * BPFEMU_TRACE_PID for the program about to be exec'd; truncates FILE first
 * if truncate. 0, or -errno with a message printed. */
int record_trace_env(const char *file, int truncate);

#endif
