/* SPDX-License-Identifier: MIT */
/*
 * tests/seccomp/static_bpf.c: a statically linked client (gcc -static) that
 * issues bpf() with its own inline `syscall` instruction: no libc syscall()
 * for a preloaded library to wrap, so only the seccomp door reaches it. It
 * prints what it sees; static.sh compares that on the kernel (root, a private
 * bpffs) and under `bpfemu run` (nobody, the door chosen automatically).
 *
 *   static_bpf DIR session   maps, pins, fdinfo, fd links, mmap, freeze,
 *                            dup, fork, a thread, statfs: one transcript
 *   static_bpf DIR signals   queue push/pop while a child signals us
 *                            thousands of times: nothing lost, nothing twice
 *   static_bpf DIR wait      one call, "ready", then waits for SIGUSR1 and
 *                            calls again (the supervisor's death: ENOSYS)
 *   static_bpf DIR basic     element calls only (record and replay)
 *   static_bpf DIR loop      calls until killed
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* bpf(2) by hand: the instruction itself, no libc in between */
static long raw_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_bpf), "D"((long)cmd), "S"(attr), "d"((long)size)
			 : "rcx", "r11", "memory");
	return ret;
}

static const char *err_name(long r)
{
	static char buf[32];
	if (r >= 0)
		return "ok";
	switch (-r) {
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case EFAULT: return "EFAULT";
	case ENOSYS: return "ENOSYS";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case 524: return "ENOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno %ld", -r);
	return buf;
}

static long map_create(__u32 type, __u32 key, __u32 value, __u32 max, __u32 flags, const char *name)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = max;
	a.map_flags = flags;
	snprintf(a.map_name, sizeof(a.map_name), "%s", name);
	return raw_bpf(BPF_MAP_CREATE, &a, sizeof(a));
}

static long elem(int cmd, long fd, const void *key, void *value, __u64 flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)value;
	a.flags = flags;
	return raw_bpf(cmd, &a, sizeof(a));
}

static long obj(int cmd, long fd, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (__u32)(cmd == BPF_OBJ_PIN ? fd : 0);
	a.pathname = (__u64)(unsigned long)path;
	return raw_bpf(cmd, &a, sizeof(a));
}

/* the bpf lines of /proc/self/fdinfo/FD that do not depend on ids or memory */
static void show_fdinfo(long fd)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%ld", fd);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
	if (f >= 0)
		close(f);
	if (n <= 0) {
		printf("fdinfo: unreadable\n");
		return;
	}
	buf[n] = '\0';
	for (char *save, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "map_type", 8) || !strncmp(l, "key_size", 8) || !strncmp(l, "value_size", 10) ||
		    !strncmp(l, "max_entries", 11) || !strncmp(l, "frozen", 6))
			printf("fdinfo: %s\n", l);
}

static void show_link(long fd)
{
	char path[64], t[256];
	snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	t[n > 0 ? n : 0] = '\0';
	printf("fd link: %s\n", n > 0 ? t : "unreadable");
}

static long thread_map;
static void *thread_fn(void *arg)
{
	(void)arg;
	__u32 k = 77;
	__u64 v = 7700;
	printf("thread update: %s\n", err_name(elem(BPF_MAP_UPDATE_ELEM, thread_map, &k, &v, BPF_ANY)));
	return NULL;
}

static int session(const char *dir)
{
	char pin[4096];
	__u32 k;
	__u64 v;
	long r;

	long fd = map_create(BPF_MAP_TYPE_HASH, 4, 8, 64, 0, "st_hash");
	printf("hash create: %s\n", err_name(fd));
	for (k = 1; k <= 3; k++) {
		v = k * 11;
		printf("update %u: %s\n", k, err_name(elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_NOEXIST)));
	}
	k = 2;
	printf("update 2 noexist: %s\n", err_name(elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_NOEXIST)));
	v = 0;
	r = elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0);
	printf("lookup 2: %s %llu\n", err_name(r), (unsigned long long)v);
	printf("lookup bad pointer: %s\n", err_name(elem(BPF_MAP_LOOKUP_ELEM, fd, (void *)8, &v, 0)));
	printf("lookup bad fd: %s\n", err_name(elem(BPF_MAP_LOOKUP_ELEM, 1000, &k, &v, 0)));
	printf("delete 3: %s\n", err_name(elem(BPF_MAP_DELETE_ELEM, fd, &(__u32){ 3 }, NULL, 0)));
	int count = 0;
	__u32 cur, next;
	for (r = elem(BPF_MAP_GET_NEXT_KEY, fd, NULL, &next, 0); r == 0;
	     cur = next, r = elem(BPF_MAP_GET_NEXT_KEY, fd, &cur, &next, 0))
		count++;
	printf("keys: %d, end %s\n", count, err_name(r));
	show_fdinfo(fd);
	show_link(fd);

	/* a pin, reopened */
	snprintf(pin, sizeof(pin), "%s/st_hash", dir);
	printf("pin: %s\n", err_name(obj(BPF_OBJ_PIN, fd, pin)));
	printf("pin again: %s\n", err_name(obj(BPF_OBJ_PIN, fd, pin)));
	long fd2 = obj(BPF_OBJ_GET, 0, pin);
	printf("get: %s\n", err_name(fd2));
	v = 0;
	r = elem(BPF_MAP_LOOKUP_ELEM, fd2, &(__u32){ 1 }, &v, 0);
	printf("lookup through get: %s %llu\n", err_name(r), (unsigned long long)v);
	struct stat st;
	memset(&st, 0, sizeof(st));
	r = stat(pin, &st) ? -errno : 0;
	printf("stat pin: %s regular %d size %lld\n", err_name(r), S_ISREG(st.st_mode), (long long)st.st_size);
	struct statfs sfs;
	memset(&sfs, 0, sizeof(sfs));
	r = statfs(dir, &sfs) ? -errno : 0;
	printf("statfs dir: %s magic %#lx\n", err_name(r), (unsigned long)sfs.f_type);
	r = open(pin, O_RDONLY) < 0 ? -errno : 0;
	printf("open pin: %s\n", r == -EIO ? "EIO" : err_name(r));
	printf("get missing: %s\n", err_name(obj(BPF_OBJ_GET, 0, "/sys/fs/bpf/nope/none")));

	/* dup and a thread */
	long fd3 = dup((int)fd);
	v = 0;
	r = elem(BPF_MAP_LOOKUP_ELEM, fd3, &(__u32){ 2 }, &v, 0);
	printf("lookup through dup: %s %llu\n", err_name(r), (unsigned long long)v);
	thread_map = fd;
	pthread_t t;
	pthread_create(&t, NULL, thread_fn, NULL);
	pthread_join(t, NULL);

	/* a forked child updates through the inherited fd */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		__u32 ck = 9;
		__u64 cv = 99;
		printf("child update: %s\n", err_name(elem(BPF_MAP_UPDATE_ELEM, fd, &ck, &cv, BPF_ANY)));
		fflush(stdout);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	v = 0;
	r = elem(BPF_MAP_LOOKUP_ELEM, fd, &(__u32){ 9 }, &v, 0);
	printf("parent sees child's: %s %llu\n", err_name(r), (unsigned long long)v);
	v = 0;
	r = elem(BPF_MAP_LOOKUP_ELEM, fd, &(__u32){ 77 }, &v, 0);
	printf("parent sees thread's: %s %llu\n", err_name(r), (unsigned long long)v);
	r = unlink(pin) ? -errno : 0;
	printf("unlink pin: %s\n", err_name(r));
	printf("get after unlink: %s\n", err_name(obj(BPF_OBJ_GET, 0, pin)));
	printf("pin after unlink: %s\n", err_name(obj(BPF_OBJ_PIN, fd, pin)));
	r = unlink(pin) ? -errno : 0;
	printf("unlink again: %s\n", err_name(r));

	/* an mmapable array: the mapping is the map */
	long afd = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 512, BPF_F_MMAPABLE, "st_array");
	printf("array create: %s\n", err_name(afd));
	__u64 *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)afd, 0);
	printf("mmap: %s\n", m == MAP_FAILED ? err_name(-errno) : "ok");
	if (m != MAP_FAILED) {
		m[5] = 555;
		v = 0;
		r = elem(BPF_MAP_LOOKUP_ELEM, afd, &(__u32){ 5 }, &v, 0);
		printf("lookup 5 after store: %s %llu\n", err_name(r), (unsigned long long)v);
		v = 666;
		elem(BPF_MAP_UPDATE_ELEM, afd, &(__u32){ 6 }, &v, BPF_ANY);
		printf("mapping sees update: %llu\n", (unsigned long long)m[6]);
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)afd;
		printf("freeze while mapped writable: %s\n", err_name(raw_bpf(BPF_MAP_FREEZE, &a, sizeof(a))));
		munmap(m, 4096);
	}
	void *big = mmap(NULL, 8192, PROT_READ, MAP_SHARED, (int)afd, 4096);
	printf("mmap past the data: %s\n", big == MAP_FAILED ? err_name(-errno) : "mapped");
	long hfd = map_create(BPF_MAP_TYPE_HASH, 4, 4, 4, 0, "st_h2");
	void *h = mmap(NULL, 4096, PROT_READ, MAP_SHARED, (int)hfd, 0);
	printf("mmap of a hash: %s\n", h == MAP_FAILED ? err_name(-errno) : "mapped");
	return 0;
}

static volatile sig_atomic_t hits;
static void on_usr1(int sig)
{
	(void)sig;
	hits++;
}

/* Without SA_RESTART a signal that comes before the door picked the call up
 * interrupts it (EINTR, nothing done: the program retries); once picked up,
 * only SIGKILL can (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV). So every pop
 * returns the next element: none lost to a call done but not answered, none
 * popped twice. */
static long retry(int cmd, long fd, void *value, __u64 flags, int *eintr)
{
	long r;
	while ((r = elem(cmd, fd, NULL, value, flags)) == -EINTR)
		(*eintr)++;
	return r;
}

static int signals(void)
{
	enum { N = 4000 };
	struct sigaction sa = { .sa_handler = on_usr1 };    /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	long q = map_create(BPF_MAP_TYPE_QUEUE, 0, 4, N, 0, "st_queue");
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		for (;;) {
			kill(parent, SIGUSR1);
			usleep(20);
		}
	}
	int bad = 0, eintr = 0;
	for (__u32 i = 0; i < N; i++)
		if (retry(BPF_MAP_UPDATE_ELEM, q, &i, BPF_ANY, &eintr))
			bad++;
	for (__u32 i = 0; i < N; i++) {
		__u32 got = ~0u;
		long r = retry(BPF_MAP_LOOKUP_AND_DELETE_ELEM, q, &got, 0, &eintr);
		if (r || got != i)
			bad++;
	}
	__u32 got;
	long r = retry(BPF_MAP_LOOKUP_AND_DELETE_ELEM, q, &got, 0, &eintr);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("signals: %d pushed and popped in order, %d wrong, then %s; signalled %s\n", N, bad, err_name(r),
	       hits > 10 ? "often" : "rarely");
	fprintf(stderr, "signals: %d signals, %d calls interrupted before they were served\n", (int)hits, eintr);
	return bad != 0;
}

static int wait_mode(void)
{
	sigset_t set;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	long fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "st_wait");
	printf("before: %s\n", err_name(fd));
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	printf("after: %s\n", err_name(map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "st_wait2")));
	fflush(stdout);
	return 0;
}

/* element calls only: a record of it replays (no dup or fork a bpf() trace cannot see) */
static int basic(void)
{
	long fd = map_create(BPF_MAP_TYPE_HASH, 4, 8, 8, 0, "st_basic");
	__u32 k, next;
	__u64 v;
	for (k = 1; k <= 4; k++) {
		v = k * 3;
		elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_ANY);
	}
	k = 2;
	elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0);
	elem(BPF_MAP_DELETE_ELEM, fd, &k, NULL, 0);
	elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0);
	elem(BPF_MAP_GET_NEXT_KEY, fd, NULL, &next, 0);
	printf("basic: done\n");
	return 0;
}

static int loop_mode(void)
{
	long fd = map_create(BPF_MAP_TYPE_HASH, 4, 4, 16, 0, "st_loop");
	printf("ready\n");
	fflush(stdout);
	for (__u32 i = 0;; i++)
		elem(BPF_MAP_UPDATE_ELEM, fd, &(__u32){ i % 16 }, &i, BPF_ANY);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: static_bpf DIR session|signals|wait|loop\n");
		return 2;
	}
	if (!strcmp(argv[2], "session"))
		return session(argv[1]);
	if (!strcmp(argv[2], "signals"))
		return signals();
	if (!strcmp(argv[2], "wait"))
		return wait_mode();
	if (!strcmp(argv[2], "basic"))
		return basic();
	if (!strcmp(argv[2], "loop"))
		return loop_mode();
	return 2;
}
