/* SPDX-License-Identifier: MIT */
/*
 * preload/signal.c: sigaction() and signal() for SIGSEGV and SIGBUS.
 *
 * The engine catches faults on bad pointers passed to bpf() with a handler of
 * its own (emu/uaccess.c), the way the kernel answers EFAULT. A program that
 * installs its own SIGSEGV/SIGBUS handler gets it recorded and called for
 * every fault that is not the engine's, and reads it back from sigaction() as
 * it set it; the engine's handler stays in place underneath.
 */
#include <signal.h>
#include <string.h>

#include "obj.h"
#include "real.h"

SHIM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!shim_busy && (sig == SIGSEGV || sig == SIGBUS) && emu_uaccess_sigaction(sig, act, old) == 0)
		return 0;
	return REAL(sigaction)(sig, act, old);
}

SHIM_EXPORT __sighandler_t signal(int sig, __sighandler_t handler)
{
	if (!shim_busy && (sig == SIGSEGV || sig == SIGBUS)) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = handler;
		sa.sa_flags = SA_RESTART;     /* glibc's signal(): BSD semantics */
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, sig);
		if (emu_uaccess_sigaction(sig, &sa, &old) == 0)
			return old.sa_handler;
	}
	return REAL(signal)(sig, handler);
}
