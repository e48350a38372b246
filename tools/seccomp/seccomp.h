/* SPDX-License-Identifier: MIT */
/* tools/seccomp/seccomp.h: the seccomp door, as `bpfemu run --mode seccomp` uses it. */
#ifndef BPFEMU_SECCOMP_H
#define BPFEMU_SECCOMP_H

#include <stdbool.h>

/* Runs argv (found on PATH like execvp) under a seccomp filter that sends
 * its bpf() and bpffs file calls to this process, and serves them until the
 * program and every descendant have exited. Returns the exit status for
 * bpfemu: the program's (a signal that killed it is raised again here), 127
 * if it was not found, 126 if it could not be run, 1 if the door could not
 * be set up (message printed). */
int seccomp_door_run(char **argv);

/* Is the executable argv0 names (on PATH like execvp) statically linked: an
 * ELF file without PT_INTERP? false for scripts, dynamic ELF, and what
 * cannot be read. */
bool seccomp_door_static(const char *argv0);

#endif
