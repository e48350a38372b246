/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_seed.c: the random bytes objects take their seeds from
 * (emu_os_random, emu/os.c: a per-thread batch that one getrandom() fills)
 * are handed out once: no two draws alike, in one thread, across threads,
 * and in a forked child against its parent (whose batch the child copied).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

Test(seed, draws_are_never_repeated)
{
	enum { N = 4096 };     /* 128 batches */
	static unsigned long long v[N];
	for (int i = 0; i < N; i++)
		cr_assert(eq(int, emu_os_random(&v[i], sizeof(v[i])), 0));
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (int i = 1; i < N; i++)
		cr_assert(v[i] != v[i - 1], "draw %d repeats %#llx", i, v[i]);
	unsigned char big[65];
	cr_assert(eq(int, emu_os_random(big, sizeof(big)), -EINVAL));
}

static void *draw(void *p)
{
	emu_os_random(p, 8);
	return NULL;
}

Test(seed, threads_draw_their_own)
{
	unsigned long long a = 0, b = 0, mine = 0;
	emu_os_random(&mine, sizeof(mine));    /* this thread's batch is filled */
	pthread_t t1, t2;
	cr_assert(eq(int, pthread_create(&t1, NULL, draw, &a), 0));
	cr_assert(eq(int, pthread_create(&t2, NULL, draw, &b), 0));
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	cr_assert(a != b && a != mine && b != mine);
}

Test(seed, a_forked_child_does_not_repeat_its_parent)
{
	unsigned long long first, parent, child = 0;
	emu_os_random(&first, sizeof(first));  /* the batch has bytes left to copy */
	int p[2];
	cr_assert(eq(int, pipe(p), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		unsigned long long v = 0;
		emu_os_random(&v, sizeof(v));
		_exit(write(p[1], &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : 1);
	}
	emu_os_random(&parent, sizeof(parent));
	int st;
	cr_assert(eq(int, waitpid(pid, &st, 0), pid));
	bool exited_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	cr_assert(exited_ok);
	ssize_t got = read(p[0], &child, sizeof(child));
	cr_assert(got == (ssize_t)sizeof(child));
	cr_assert(child != parent, "the child drew its parent's next seed %#llx", parent);
	close(p[0]);
	close(p[1]);
}
