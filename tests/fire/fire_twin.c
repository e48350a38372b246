/* SPDX-License-Identifier: MIT */
/*
 * tests/fire/fire_twin.c: the loader of fire_twin.bpf.o (Debian's libbpf).
 *
 *     fire_twin OBJ kernel   attach, kill(getpid(), 0) once, print the records
 *     fire_twin OBJ emu      attach, print "ready PID", wait for SIGINT (the test
 *                            fires the events), print the records
 *
 * Records are printed sorted by program, with what depends on the run made
 * relative: the loader's own pid, tid, uid, gid and parent are "self",
 * "parent"; so the kernel's transcript and bpfemu's can be compared.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct trec {
	__u32 kind, pid, tid, uid, gid, ppid, task_pid, task_tgid;
	__s64 a0, a1, a2, a3;
	char comm[16], task_comm[16];
	__s64 stackid, stack_bytes;
	__u64 ips[8];
};

/* the kernel's jhash2 (lookup3's hashword): a stack's id in a stack trace map is
 * jhash2(frames as u32 words, 0) & (buckets - 1) */
static __u32 rol32(__u32 w, unsigned s) { return (w << s) | (w >> (32 - s)); }
static __u32 jhash2(const __u32 *k, __u32 len, __u32 initval)
{
	__u32 a, b, c;
	a = b = c = 0xdeadbeef + (len << 2) + initval;
	for (; len > 3; len -= 3, k += 3) {
		a += k[0]; b += k[1]; c += k[2];
		a -= c; a ^= rol32(c, 4); c += b;
		b -= a; b ^= rol32(a, 6); a += c;
		c -= b; c ^= rol32(b, 8); b += a;
		a -= c; a ^= rol32(c, 16); c += b;
		b -= a; b ^= rol32(a, 19); a += c;
		c -= b; c ^= rol32(b, 4); b += a;
	}
	if (!len)
		return c;
	if (len == 3) c += k[2];
	if (len >= 2) b += k[1];
	a += k[0];
	c ^= b; c -= rol32(b, 14); a ^= c; a -= rol32(c, 11); b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16); a ^= c; a -= rol32(c, 4); b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	return c;
}

static const char *const kinds[] = { "?", "raw_tp sys_enter", "tp_btf sys_enter", "tracepoint raw_syscalls:sys_enter",
				     "tracepoint syscalls:sys_enter_kill", "tracepoint syscalls:sys_exit_kill" };
static struct trec recs[64];
static int nrecs;
static volatile sig_atomic_t stop;

static void on_int(int sig) { (void)sig; stop = 1; }

static void on_rec(void *ctx, int cpu, void *data, __u32 size)
{
	(void)ctx, (void)cpu;
	if (size >= sizeof(struct trec) && nrecs < 64)
		memcpy(&recs[nrecs++], data, sizeof(struct trec));
}

static int cmp(const void *a, const void *b)
{
	const struct trec *x = a, *y = b;
	return (int)x->kind - (int)y->kind;
}

static void id(const char *name, __u32 v, __u32 self, const char *word)
{
	if (v == self)
		printf(" %s=%s", name, word);
	else
		printf(" %s=%u", name, v);
}

static void val(const char *name, __s64 v)
{
	if (v == getpid())
		printf(" %s=self", name);
	else
		printf(" %s=%lld", name, (long long)v);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "kernel") && strcmp(argv[2], "emu"))) {
		fprintf(stderr, "usage: %s OBJ kernel|emu\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	__u32 zero = 0, me = (__u32)getpid();
	if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "cfg"), &zero, &me, BPF_ANY)) {
		fprintf(stderr, "cfg: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_program *p;
	struct bpf_link *links[8];
	int nl = 0;
	bpf_object__for_each_program(p, obj) {
		links[nl] = bpf_program__attach(p);
		if (!links[nl]) {
			fprintf(stderr, "attach %s: %s\n", bpf_program__name(p), strerror(errno));
			return 1;
		}
		nl++;
	}
	struct perf_buffer *pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), 8, on_rec, NULL,
						  NULL, NULL);
	if (!pb) {
		fprintf(stderr, "perf_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[2], "kernel")) {
		if (syscall(SYS_kill, getpid(), 0))
			fprintf(stderr, "kill: %s\n", strerror(errno));
		for (int i = 0; i < 5; i++)
			perf_buffer__poll(pb, 50);
	} else {
		signal(SIGINT, on_int);
		printf("ready %d\n", (int)getpid());
		while (!stop)
			perf_buffer__poll(pb, 100);
	}
	perf_buffer__consume(pb);
	qsort(recs, (size_t)nrecs, sizeof(recs[0]), cmp);
	for (int i = 0; i < nrecs; i++) {
		const struct trec *r = &recs[i];
		printf("%s:", r->kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[r->kind] : "?");
		id("pid", r->pid, (__u32)getpid(), "self");
		id("tid", r->tid, (__u32)getpid(), "self");
		id("uid", r->uid, (__u32)getuid(), "self");
		id("gid", r->gid, (__u32)getgid(), "self");
		id("ppid", r->ppid, (__u32)getppid(), "parent");
		id("task_pid", r->task_pid, (__u32)getpid(), "self");
		id("task_tgid", r->task_tgid, (__u32)getpid(), "self");
		printf(" comm=%.16s task_comm=%.16s", r->comm, r->task_comm);
		val("a0", r->a0);
		val("a1", r->a1);
		val("a2", r->a2);
		val("a3", r->a3);
		if (r->kind == 2) {
			/* the stack bpf_get_stackid stored: under the id the kernel's hash of its frames gives */
			__u64 st[8] = { 0 };
			__u32 key = (__u32)r->stackid, n = 0;
			if (r->stackid < 0) {
				printf(" stackid=%lld", (long long)r->stackid);
			} else if (bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "stacks"), &key, st)) {
				printf(" stackid=%lld not in the map: %s", (long long)r->stackid, strerror(errno));
			} else {
				while (n < 8 && st[n])
					n++;
				if (n && (__u32)r->stackid == (jhash2((const __u32 *)st, n * 2, 0) & 15))
					printf(" stackid=jhash2(its frames)");
				else
					printf(" stackid=%lld (jhash2 of its %u frames gives %u)", (long long)r->stackid, n,
					       jhash2((const __u32 *)st, n * 2, 0) & 15);
			}
			printf(" get_stack=%s", r->stack_bytes > 0 ? "frames" : "none");
		}
		putchar('\n');
	}
	printf("%d records\n", nrecs);
	perf_buffer__free(pb);
	for (int i = 0; i < nl; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
