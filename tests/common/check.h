/* SPDX-License-Identifier: MIT */
/*
 * tests/common/check.h: the raw-syscall integration programs' assertion and
 * bpf() call. CHECK prints the failed condition, a message and errno's name,
 * then exits 1 (the shell twin around the program reports the failure);
 * sys_bpf() is the system call itself, with the full attr size, so the same
 * binary asks the engine (under bpfemu run) or the kernel.
 */
#ifndef BPFEMU_TEST_CHECK_H
#define BPFEMU_TEST_CHECK_H

#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			printf("FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
			printf(__VA_ARGS__);                                            \
			printf(" (errno %s)\n", strerrorname_np(errno));                \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

static inline long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

#endif
