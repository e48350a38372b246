/* SPDX-License-Identifier: MIT */
/*
 * emu/uaccess.c: copies from and to the caller's memory that answer EFAULT
 * instead of crashing, like the kernel's copy_from_user().
 *
 * Fast path (under the shim): a plain memcpy with a SIGSEGV/SIGBUS handler
 * armed for the calling thread; a fault inside the copy jumps back and the
 * copy answers -EFAULT. No system call. The handler passes every other fault
 * on to whatever the program installed (the shim keeps ours first when the
 * program calls sigaction(), see preload/signal.c), so the program's own
 * crashes and handlers behave as without us.
 *
 * Slow path (the engine embedded without the shim, or built with ASan, which
 * owns SIGSEGV): process_vm_readv/writev on ourselves, one system call per
 * copy, equally safe.
 *
 * Serving another process (emu_caller_set, emu/caller.c): the caller's own
 * read and write hooks.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "obj.h"
#include "os.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EMU_FAULT_HANDLER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define EMU_FAULT_HANDLER 0
#endif
#endif
#ifndef EMU_FAULT_HANDLER
#define EMU_FAULT_HANDLER 1
#endif

static EMU_TLS sigjmp_buf *fault_jmp;     /* armed while this thread copies */
static struct sigaction prev_act[2];       /* [0] SIGSEGV, [1] SIGBUS: the program's */
static bool fast;                          /* the handler is installed */
static bool enabled;                       /* the shim is there to keep it installed */
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

#ifdef __x86_64__
/*
 * Small copies: a frameless copy loop whose faulting instructions all lie in
 * [emu_ucopy, emu_ucopy_end). The handler moves a fault there to
 * emu_ucopy_fault, which returns -EFAULT to the caller, the way the kernel's
 * exception table does: no setjmp on the fast path.
 */
__asm__(".text\n"
	".p2align 4\n"
	".type emu_ucopy, @function\n"
	"emu_ucopy:\n"                      /* rdi dst, rsi src, rdx len */
	"	cmp $32, %rdx\n"
	"	jb 5f\n"
	"6:	mov (%rsi), %rax\n"              /* 32 bytes a turn */
	"	mov 8(%rsi), %rcx\n"
	"	mov 16(%rsi), %r8\n"
	"	mov 24(%rsi), %r9\n"
	"	mov %rax, (%rdi)\n"
	"	mov %rcx, 8(%rdi)\n"
	"	mov %r8, 16(%rdi)\n"
	"	mov %r9, 24(%rdi)\n"
	"	add $32, %rsi\n"
	"	add $32, %rdi\n"
	"	sub $32, %rdx\n"
	"	cmp $32, %rdx\n"
	"	jae 6b\n"
	"5:	cmp $8, %rdx\n"
	"	jb 2f\n"
	"1:	mov (%rsi), %rax\n"
	"	mov %rax, (%rdi)\n"
	"	add $8, %rsi\n"
	"	add $8, %rdi\n"
	"	sub $8, %rdx\n"
	"	cmp $8, %rdx\n"
	"	jae 1b\n"
	/* the last 0-7 bytes as one 4-, 2- and 1-byte move each: a 4-byte key
	 * is then one store, which a 4-byte load of it can be forwarded from
	 * (from four byte stores it cannot: a stall on every call) */
	"2:	test $4, %dl\n"
	"	jz 4f\n"
	"	movl (%rsi), %eax\n"
	"	movl %eax, (%rdi)\n"
	"	add $4, %rsi\n"
	"	add $4, %rdi\n"
	"4:	test $2, %dl\n"
	"	jz 7f\n"
	"	movw (%rsi), %ax\n"
	"	movw %ax, (%rdi)\n"
	"	add $2, %rsi\n"
	"	add $2, %rdi\n"
	"7:	test $1, %dl\n"
	"	jz 3f\n"
	"	movb (%rsi), %al\n"
	"	movb %al, (%rdi)\n"
	"3:	xor %eax, %eax\n"
	"	ret\n"
	/* emu_uzero(src, len): 0 if the len bytes at src are all zero, 1 if
	 * not; every byte is read (a fault anywhere answers -EFAULT, as the
	 * kernel's copy of the whole attr would), two words a turn */
	".p2align 4\n"
	".type emu_uzero, @function\n"
	"emu_uzero:\n"                      /* rdi src, rsi len */
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"	cmp $16, %rsi\n"
	"	jb 12f\n"
	"11:	or (%rdi), %rax\n"
	"	or 8(%rdi), %rdx\n"
	"	add $16, %rdi\n"
	"	sub $16, %rsi\n"
	"	cmp $16, %rsi\n"
	"	jae 11b\n"
	"12:	cmp $8, %rsi\n"
	"	jb 13f\n"
	"	or (%rdi), %rax\n"
	"	add $8, %rdi\n"
	"	sub $8, %rsi\n"
	"13:	test %rsi, %rsi\n"
	"	jz 15f\n"
	"14:	movzbl (%rdi), %ecx\n"
	"	or %rcx, %rdx\n"
	"	inc %rdi\n"
	"	dec %rsi\n"
	"	jnz 14b\n"
	"15:	or %rdx, %rax\n"
	"	setnz %al\n"
	"	movzbl %al, %eax\n"
	"	ret\n"
	".size emu_uzero, .-emu_uzero\n"
	"emu_ucopy_end:\n"
	"emu_ucopy_fault:\n"
	"	mov $-14, %eax\n"              /* -EFAULT */
	"	ret\n"
	".size emu_ucopy, .-emu_ucopy\n");
int emu_ucopy(void *dst, const void *src, size_t len) __attribute__((visibility("hidden")));
int emu_uzero(const void *src, size_t len) __attribute__((visibility("hidden")));
extern const char emu_ucopy_end[] __attribute__((visibility("hidden")));
extern const char emu_ucopy_fault[] __attribute__((visibility("hidden")));
#define UCOPY_MAX 256
#endif

static void on_fault(int sig, siginfo_t *si, void *uc)
{
#ifdef __x86_64__
	ucontext_t *ctx = uc;
	uintptr_t ip = (uintptr_t)ctx->uc_mcontext.gregs[REG_RIP];
	if (ip >= (uintptr_t)emu_ucopy && ip < (uintptr_t)emu_ucopy_end) {
		ctx->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)emu_ucopy_fault;
		return;
	}
#endif
	sigjmp_buf *j = fault_jmp;
	if (j) {
		fault_jmp = NULL;
		siglongjmp(*j, 1);
	}
	/* not a copy of ours: what the program would have had */
	struct sigaction *p = &prev_act[sig == SIGBUS];
	if (p->sa_flags & SA_SIGINFO) {
		p->sa_sigaction(sig, si, uc);
	} else if (p->sa_handler == SIG_DFL || p->sa_handler == SIG_IGN) {
		/* back to the default action; returning re-runs the faulting
		 * instruction, which now kills the process as it would have */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		emu_os_sigaction(sig, &dfl, NULL);
	} else {
		p->sa_handler(sig);
	}
}

static void install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (emu_os_sigaction(SIGSEGV, &sa, &prev_act[0]) == 0 && emu_os_sigaction(SIGBUS, &sa, &prev_act[1]) == 0)
		__atomic_store_n(&fast, true, __ATOMIC_RELEASE);
}

void emu_uaccess_enable(void)
{
	__atomic_store_n(&enabled, true, __ATOMIC_RELEASE);
}

bool emu_uaccess_fast(void)
{
	if (__builtin_expect(__atomic_load_n(&fast, __ATOMIC_ACQUIRE), 1))
		return true;
	if (!EMU_FAULT_HANDLER || !__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
		return false;
	pthread_once(&fast_once, install);
	return __atomic_load_n(&fast, __ATOMIC_ACQUIRE);
}

/* sigaction() as the program sees it: the shim calls this for SIGSEGV and
 * SIGBUS, so the program's handler runs for its own faults and ours stays. */
int emu_uaccess_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if ((sig != SIGSEGV && sig != SIGBUS) || !__atomic_load_n(&fast, __ATOMIC_ACQUIRE))
		return 1;     /* not ours: the caller does the real sigaction */
	struct sigaction *p = &prev_act[sig == SIGBUS];
	if (old)
		*old = *p;
	if (act)
		*p = *act;
	return 0;
}

static int slow_copy(void *dst, const void *src, size_t len, bool to_user)
{
	struct iovec l = { to_user ? (void *)src : dst, len }, r = { to_user ? dst : (void *)src, len };
	long n = emu_os_process_vm(to_user, &l, &r);
	if (n == (long)len)
		return 0;
	if (n == -ENOSYS || n == -EPERM) {
		memcpy(dst, src, len);     /* no way to check: trust the caller */
		return 0;
	}
	return -EFAULT;
}

/* Only this function touches caller memory on the fast path. noinline and
 * the barriers keep the accesses between arming and disarming. */
__attribute__((noinline)) static int guarded_copy(void *dst, const void *src, size_t len)
{
	sigjmp_buf env;
	int saved = errno;
	if (sigsetjmp(env, 0)) {
		errno = saved;
		return -EFAULT;
	}
	fault_jmp = &env;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(dst, src, len);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	fault_jmp = NULL;
	return 0;
}

static int fast_copy(void *dst, const void *src, size_t len)
{
#ifdef __x86_64__
	if (len <= UCOPY_MAX)
		return emu_ucopy(dst, src, len);
#endif
	return guarded_copy(dst, src, len);
}

int emu_copy_from_user(void *dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if ((uintptr_t)src < EMU_PAGE_SIZE)       /* NULL and the zero page */
		return -EFAULT;
	if (__builtin_expect(emu_caller_cur != NULL, 0))     /* another process's memory */
		return emu_caller_cur->read(emu_caller_cur, dst, src, len);
	return emu_uaccess_fast() ? fast_copy(dst, src, len) : slow_copy(dst, src, len, false);
}

/* With the fault handler the checked bytes are read where they are, not
 * copied and read back; without it they are copied (zeros over the caller's
 * zeros when the answer is 0) and checked in dst. */
int emu_copy_attr_from_user(void *dst, const void *src, size_t copy, size_t check)
{
#ifdef __x86_64__
	if (__builtin_expect(emu_caller_cur == NULL, 1) && copy + check <= UCOPY_MAX &&
	    (uintptr_t)src >= EMU_PAGE_SIZE && emu_uaccess_fast()) {
		int err = emu_ucopy(dst, src, copy);
		return err ? err : check ? emu_uzero((const char *)src + copy, check) : 0;
	}
#endif
	int err = emu_copy_from_user(dst, src, copy + check);
	if (err || !check)
		return err;
	const unsigned char *c = (const unsigned char *)dst + copy;
	unsigned char acc = 0;
	for (size_t i = 0; i < check; i++)
		acc |= c[i];
	return acc != 0;
}

int emu_copy_to_user(void *dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if ((uintptr_t)dst < EMU_PAGE_SIZE)
		return -EFAULT;
	if (__builtin_expect(emu_caller_cur != NULL, 0))
		return emu_caller_cur->write(emu_caller_cur, dst, src, len);
	return emu_uaccess_fast() ? fast_copy(dst, src, len) : slow_copy(dst, src, len, true);
}

long emu_strncpy_from_user(char *dst, const void *src, size_t len)
{
	/* Copy in chunks that do not cross a page, so the string may end just
	 * before an unmapped page as the kernel allows. */
	size_t done = 0;
	if ((uintptr_t)src < EMU_PAGE_SIZE)
		return -EFAULT;
	while (done < len) {
		uintptr_t a = (uintptr_t)src + done;
		size_t chunk = EMU_PAGE_SIZE - (a % EMU_PAGE_SIZE);
		if (chunk > len - done)
			chunk = len - done;
		if (emu_copy_from_user(dst + done, (const void *)a, chunk))
			return -EFAULT;
		char *nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	return -ENAMETOOLONG;
}
