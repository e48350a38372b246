/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/kfuncs_mock.c: user functions (BPFEMU_FUNCS) for the
 * kfuncs of kfuncs.bpf.c that bpfemu does not run itself: a task lookup
 * that finds only the calling process (a test run's current task on the
 * kernel) and counts what it hands out, its release, and a user-memory
 * string copy that, like the kernel's, answers -EFAULT for a NULL source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct task_struct;
static char fake_task[64];
static int outstanding;

struct task_struct *bpf_task_from_pid(int pid)
{
	if (pid != getpid())
		return NULL;
	outstanding++;
	return (struct task_struct *)fake_task;
}

void bpf_task_release(struct task_struct *p)
{
	if ((char *)p != fake_task || outstanding <= 0) {
		fprintf(stderr, "kfuncs_mock: bpf_task_release of a task never acquired\n");
		abort();
	}
	outstanding--;
}

int bpf_copy_from_user_str(void *dst, unsigned int dst__sz, const void *unsafe_ptr__ign, unsigned long long flags)
{
	(void)flags;
	if (!dst__sz)
		return 0;
	if (!unsafe_ptr__ign) {
		memset(dst, 0, dst__sz);
		return -EFAULT;
	}
	size_t n = strnlen(unsafe_ptr__ign, dst__sz - 1);
	memcpy(dst, unsafe_ptr__ign, n);
	((char *)dst)[n] = '\0';
	return (int)n + 1;
}
