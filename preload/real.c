/* SPDX-License-Identifier: MIT */
/* preload/real.c: symbol resolution, the busy flag, one-time init. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "emu.h"
#include "real.h"

__thread int shim_busy __attribute__((tls_model("initial-exec")));
int shim_ready;

void *shim_next_symbol(const char *name)
{
	int saved = errno;
	void *p;

	/* dlsym may call malloc (and so, through other preloads, anything) */
	shim_busy++;
	p = dlsym(RTLD_NEXT, name);
	shim_busy--;
	if (!p) {
		static const char msg[] = "bpfemu: cannot find the real libc function ";
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
		    write(STDERR_FILENO, name, __builtin_strlen(name)) < 0 ||
		    write(STDERR_FILENO, "\n", 1) < 0) {
			/* nothing more to say */
		}
		abort();
	}
	errno = saved;
	return p;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	shim_busy++;
	emu_config();
	emu_fd_hooks_active();
	shim_busy--;
	__atomic_store_n(&shim_ready, 1, __ATOMIC_RELEASE);
}

void shim_init_slow(void)
{
	int saved = errno;

	/* A re-entrant call from inside init() (busy raised) must not wait on
	 * itself: it is already past the point where anything needs init. */
	if (shim_busy)
		return;
	pthread_once(&init_once, init);
	errno = saved;
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}
