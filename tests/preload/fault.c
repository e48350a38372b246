/* SPDX-License-Identifier: MIT */
/* Bad pointers passed to bpf() under the shim: EFAULT, never a crash (the
 * engine's fault handler), while the program's own SIGSEGV handler still
 * runs for its own faults and sigaction() reads back what it installed. */
#include <setjmp.h>
#include <stddef.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"

static sigjmp_buf env;
static volatile sig_atomic_t caught;

static void on_segv(int sig)
{
	caught = sig;
	siglongjmp(env, 1);
}

static long bpf(int cmd, union bpf_attr *a, unsigned int size)
{
	return syscall(SYS_bpf, cmd, a, size);
}

/* A program's own crash with no handler of its own still kills it with
 * SIGSEGV (once this hung: the engine's handler re-installed itself). */
static void crash_child_is_killed(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		alarm(5);      /* a hang becomes SIGALRM, not a stuck test */
		volatile int *volatile bad = (int *)(unsigned long)getenv("BPFEMU_NO_SUCH_VARIABLE");
		*bad = 1;      /* NULL */
		_exit(0);
	}
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* a sanitizer's own SEGV handler reports and exits: still no hang */
	CHECK((WIFSIGNALED(st) && WTERMSIG(st) != SIGALRM) || (WIFEXITED(st) && WEXITSTATUS(st) != 0),
	      "a crashing child ends with an error (status %#x)", st);
#else
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a crashing child dies of SIGSEGV (status %#x)", st);
#endif
}

int main(void)
{
	union bpf_attr a;
	require_shim();

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	int fd = (int)bpf(BPF_MAP_CREATE, &a, sizeof(a));
	CHECK(fd >= 0, "create");
	crash_child_is_killed();

	/* an unmapped page as key, value and attr */
	/* PROT_NONE rather than unmapped: a hole could be filled by a map's mapping */
	char *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(hole != MAP_FAILED, "mmap");
	__u32 key = 1;
	__u64 val = 2;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (unsigned long)hole;
	a.value = (unsigned long)&val;
	errno = 0;
	CHECK(bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) == -1 && errno == EFAULT, "update with unmapped key: EFAULT");
	a.key = (unsigned long)&key;
	CHECK(bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) == 0, "update");
	a.value = (unsigned long)hole;
	errno = 0;
	CHECK(bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == -1 && errno == EFAULT, "lookup into unmapped value: EFAULT");
	errno = 0;
	CHECK(bpf(BPF_MAP_LOOKUP_ELEM, (union bpf_attr *)hole, sizeof(a)) == -1 && errno == EFAULT,
	      "unmapped attr: EFAULT");

	/* every length through the fault-safe copy (32-, 8-, 4-, 2- and 1-byte
	 * steps): a value ending exactly at an unmapped page is copied whole and
	 * right, one byte further is EFAULT and writes nothing past the page */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(two != MAP_FAILED && mprotect(two + 4096, 4096, PROT_NONE) == 0, "a page followed by a PROT_NONE page");
	for (unsigned int len = 1; len <= 75; len++) {
		union bpf_attr c;
		unsigned char want[75];
		memset(&c, 0, sizeof(c));
		c.map_type = BPF_MAP_TYPE_ARRAY;
		c.key_size = 4;
		c.value_size = len;
		c.max_entries = 1;
		int afd = (int)bpf(BPF_MAP_CREATE, &c, sizeof(c));
		CHECK(afd >= 0, "array with %u-byte values", len);
		__u32 zero = 0;
		char *end = two + 4096 - len;
		for (unsigned int i = 0; i < len; i++)
			want[i] = end[i] = (unsigned char)(i * 7 + len);
		memset(&c, 0, sizeof(c));
		c.map_fd = (__u32)afd;
		c.key = (unsigned long)&zero;
		c.value = (unsigned long)end;
		CHECK(bpf(BPF_MAP_UPDATE_ELEM, &c, sizeof(c)) == 0, "len %u: update from the page's last bytes", len);
		memset(end, 0, len);
		CHECK(bpf(BPF_MAP_LOOKUP_ELEM, &c, sizeof(c)) == 0 && !memcmp(end, want, len),
		      "len %u: lookup into the page's last bytes gives the value back", len);
		c.value = (unsigned long)(end + 1);
		memset(two + 4096 - len - 1, 0xee, len + 1);
		errno = 0;
		CHECK(bpf(BPF_MAP_UPDATE_ELEM, &c, sizeof(c)) == -1 && errno == EFAULT, "len %u: update across the hole: EFAULT", len);
		errno = 0;
		CHECK(bpf(BPF_MAP_LOOKUP_ELEM, &c, sizeof(c)) == -1 && errno == EFAULT, "len %u: lookup across the hole: EFAULT", len);
		c.value = (unsigned long)end;
		CHECK(bpf(BPF_MAP_LOOKUP_ELEM, &c, sizeof(c)) == 0 && !memcmp(end, want, len),
		      "len %u: the failed update changed nothing", len);
		close(afd);
	}

	/* the attr's bytes after the command's last field, read where they are
	 * (not copied): a nonzero one is EINVAL, an unreadable one EFAULT, and
	 * EFAULT wins over a nonzero byte before it (the kernel copies the whole
	 * attr before CHECK_ATTR); an attr ending at the hole is fine */
	{
		size_t sz = offsetof(union bpf_attr, flags) + 8 + 40;     /* the update's fields, then 40 bytes */
		union bpf_attr *t = (union bpf_attr *)(void *)(two + 4096 - sz);
		memset(t, 0, sz);
		t->map_fd = (__u32)fd;
		t->key = (unsigned long)&key;
		t->value = (unsigned long)&val;
		CHECK(bpf(BPF_MAP_UPDATE_ELEM, t, (unsigned int)sz) == 0, "update with an attr ending at the hole");
		for (size_t off = offsetof(union bpf_attr, flags) + 8; off < sz; off += 13) {
			((unsigned char *)t)[off] = 1;
			errno = 0;
			CHECK(bpf(BPF_MAP_UPDATE_ELEM, t, (unsigned int)sz) == -1 && errno == EINVAL,
			      "a nonzero byte at %zu after the last field: EINVAL", off);
			errno = 0;
			CHECK(bpf(BPF_MAP_UPDATE_ELEM, t, (unsigned int)sz + 1) == -1 && errno == EFAULT,
			      "the same attr one byte into the hole: EFAULT");
			((unsigned char *)t)[off] = 0;
		}
		errno = 0;
		CHECK(bpf(BPF_MAP_UPDATE_ELEM, t, (unsigned int)sz + 1) == -1 && errno == EFAULT,
		      "a zero attr one byte into the hole: EFAULT");
		val = 0;
		t->value = (unsigned long)&val;
		CHECK(bpf(BPF_MAP_LOOKUP_ELEM, t, (unsigned int)sz) == 0 && val == 2, "lookup with an attr ending at the hole");
	}

	/* the program's own handler: installed, read back, and called for its fault */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction SIGSEGV");
	CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == on_segv, "sigaction reads back our handler");
	if (!sigsetjmp(env, 1)) {
		*(volatile char *)hole = 1;     /* the program's own fault */
		CHECK(0, "no fault?");
	}
	CHECK(caught == SIGSEGV, "the program's handler ran for its own fault");
	/* and bpf() still answers EFAULT rather than calling it */
	caught = 0;
	errno = 0;
	CHECK(bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == -1 && errno == EFAULT && !caught,
	      "lookup into unmapped value after the program's sigaction: EFAULT, handler not called");
	return 0;
}
