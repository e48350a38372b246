/* SPDX-License-Identifier: MIT */
/*
 * preload/real.h: reaching the real libc functions from the shim.
 *
 * REAL(fn) resolves the next definition of fn (dlsym(RTLD_NEXT)) once and
 * caches it per call site. shim_busy > 0 means "this thread is inside the
 * shim or the engine": every wrapper then forwards straight to REAL(), so the
 * engine's own libc calls are never translated twice or re-enter it.
 */
#ifndef BPFEMU_PRELOAD_REAL_H
#define BPFEMU_PRELOAD_REAL_H

#include <errno.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

void *shim_next_symbol(const char *name);

#define REAL(fn) (*({                                                            \
	static __typeof__(fn) *real_;                                           \
	__typeof__(fn) *r_ = __atomic_load_n(&real_, __ATOMIC_RELAXED);         \
	if (__builtin_expect(!r_, 0)) {                                         \
		r_ = (__typeof__(fn) *)shim_next_symbol(#fn);                   \
		__atomic_store_n(&real_, r_, __ATOMIC_RELAXED);                 \
	}                                                                       \
	r_;                                                                     \
}))

extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

/* Runs the one-time initialization (with shim_busy raised); cheap after. */
void shim_init_slow(void);
extern int shim_ready;
static inline void shim_init(void)
{
	if (__builtin_expect(!__atomic_load_n(&shim_ready, __ATOMIC_ACQUIRE), 0))
		shim_init_slow();
}

/* Brackets the shim's own work: the engine and libc below see busy > 0.
 * errno is saved on entry and restored on exit unless the caller set it. */
#define SHIM_ENTER() do { shim_init(); shim_busy++; } while (0)
#define SHIM_LEAVE() do { shim_busy--; } while (0)

#endif
