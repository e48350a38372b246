/* SPDX-License-Identifier: MIT */
/*
 * tests/fire/fire_loader.c: loads fire_progs.bpf.o with Debian's libbpf,
 * attaches every program (kprobe, kretprobe, fentry and uprobe with a
 * cookie), prints "ready PID" and then one line per record its programs send
 * through the perf buffer, until SIGINT; then the run count of each program
 * kind (the counts map) and "done".
 *
 *     fire_loader OBJ [KIND...]    only the programs named (tp raw btf openat
 *                                  exit kprobe kretprobe fentry fexit uprobe
 *                                  uretprobe lsm); default all
 *
 * It also has the function the uprobes probe (fire_target).
 */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rec {
	__u32 kind;
	__u32 pid, tid, uid, gid, ppid, cpu, task_pid;
	__u64 time, cookie, ip;
	__s64 a0, a1, a2, a3, ret;
	__s64 stack_ret;
	__u64 stack0;
	char comm[16], task_comm[16];
	char s1[64], s2[32];
};

static const char *const kinds[] = { "?", "tp", "raw", "btf", "kprobe", "kretprobe", "fentry", "fexit", "uprobe",
				     "uretprobe", "lsm", "openat", "exit" };
static const char *const progs[] = { NULL, "tp_switch", "raw_switch", "btf_switch", "kp_nanosleep", "kret_nanosleep",
				     "fe_unlinkat", "fx_unlinkat", "up_target", "uret_target", "lsm_open",
				     "tp_openat", "tp_exit_openat" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static volatile sig_atomic_t stop;
static void on_int(int sig) { (void)sig; stop = 1; }

__attribute__((noinline, used)) int fire_target(int a, const char *s)
{
	__asm__ volatile("" ::: "memory");
	return a + (s ? (int)strlen(s) : 0);
}

static void str(const char *name, const char *s, size_t n)
{
	printf(" %s=\"", name);
	for (size_t i = 0; i < n && s[i]; i++)
		putchar(s[i] >= 32 && s[i] < 127 ? s[i] : '?');
	putchar('"');
}

static void on_rec(void *ctx, int cpu, void *data, __u32 size)
{
	(void)ctx;
	struct rec rec;
	const struct rec *r = &rec;
	if (size < sizeof(rec)) {
		printf("short record %u\n", size);
		return;
	}
	memcpy(&rec, data, sizeof(rec));    /* raw data is 4-byte aligned, as the kernel's */
	printf("%s on cpu %d: pid=%u tid=%u uid=%u gid=%u ppid=%u cpu=%u task_pid=%u time=%llu", kinds[r->kind < NKINDS ? r->kind : 0],
	       cpu, r->pid, r->tid, r->uid, r->gid, r->ppid, r->cpu, r->task_pid, (unsigned long long)r->time);
	str("comm", r->comm, 16);
	str("task_comm", r->task_comm, 16);
	printf(" cookie=%#llx ip=%#llx a0=%lld a1=%lld a2=%lld a3=%lld ret=%lld stack_ret=%lld stack0=%#llx",
	       (unsigned long long)r->cookie, (unsigned long long)r->ip, (long long)r->a0, (long long)r->a1,
	       (long long)r->a2, (long long)r->a3, (long long)r->ret, (long long)r->stack_ret,
	       (unsigned long long)r->stack0);
	str("s1", r->s1, sizeof(r->s1));
	str("s2", r->s2, sizeof(r->s2));
	putchar('\n');
	fflush(stdout);
}

static int on_ring(void *ctx, void *data, size_t size)
{
	(void)ctx;
	long long v = 0;
	if (size >= sizeof(v))
		memcpy(&v, data, sizeof(v));
	printf("ringbuf: %zu bytes: %lld\n", size, v);
	fflush(stdout);
	return 0;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	(void)ctx;
	printf("lost %llu on cpu %d\n", (unsigned long long)n, cpu);
}

static bool wanted(int argc, char **argv, const char *kind)
{
	if (argc < 3)
		return true;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], kind))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ [KIND...]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (size_t k = 1; k < NKINDS; k++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[k]);
		if (p && !wanted(argc, argv, kinds[k]))
			bpf_program__set_autoload(p, false);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_link *links[NKINDS] = { 0 };
	for (size_t k = 1; k < NKINDS; k++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[k]);
		if (!p || !wanted(argc, argv, kinds[k]))
			continue;
		if (!strcmp(kinds[k], "kprobe") || !strcmp(kinds[k], "kretprobe")) {
			LIBBPF_OPTS(bpf_kprobe_opts, o, .bpf_cookie = k == 4 ? 0x1111 : 0x2222, .retprobe = k == 5);
			links[k] = bpf_program__attach_kprobe_opts(p, "do_nanosleep", &o);
		} else if (!strcmp(kinds[k], "fentry")) {
			LIBBPF_OPTS(bpf_trace_opts, o, .cookie = 0x3333);
			links[k] = bpf_program__attach_trace_opts(p, &o);
		} else if (!strcmp(kinds[k], "uprobe") || !strcmp(kinds[k], "uretprobe")) {
			LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = "fire_target", .retprobe = k == 9,
				    .bpf_cookie = k == 8 ? 0x4444 : 0);
			links[k] = bpf_program__attach_uprobe_opts(p, -1, "/proc/self/exe", 0, &o);
		} else {
			links[k] = bpf_program__attach(p);
		}
		if (!links[k]) {
			fprintf(stderr, "attach %s: %s\n", progs[k], strerror(errno));
			return 1;
		}
	}
	struct perf_buffer *pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), 8, on_rec, on_lost,
						  NULL, NULL);
	if (!pb) {
		fprintf(stderr, "perf_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_ring, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGINT, on_int);
	printf("ready %d\n", (int)getpid());
	while (!stop) {
		int n = perf_buffer__poll(pb, 50);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "perf_buffer__poll: %s\n", strerror(-n));
			return 1;
		}
		n = ring_buffer__poll(rb, 50);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "ring_buffer__poll: %s\n", strerror(-n));
			return 1;
		}
	}
	perf_buffer__consume(pb);
	ring_buffer__consume(rb);
	int cfd = bpf_object__find_map_fd_by_name(obj, "counts");
	for (__u32 k = 1; k < NKINDS; k++) {
		__u64 v;
		if (!bpf_map_lookup_elem(cfd, &k, &v))
			printf("count %s %llu\n", kinds[k], (unsigned long long)v);
	}
	int sfd = bpf_object__find_map_fd_by_name(obj, "stacks");
	__u32 key, *prev = NULL;
	while (!bpf_map_get_next_key(sfd, prev, &key)) {
		__u64 ips[4];
		if (!bpf_map_lookup_elem(sfd, &key, ips))
			printf("stack %u: %#llx %#llx %#llx %#llx\n", key, (unsigned long long)ips[0],
			       (unsigned long long)ips[1], (unsigned long long)ips[2], (unsigned long long)ips[3]);
		prev = &key;
	}
	printf("done\n");
	perf_buffer__free(pb);
	ring_buffer__free(rb);
	for (size_t k = 0; k < NKINDS; k++)
		bpf_link__destroy(links[k]);
	bpf_object__close(obj);
	return 0;
}
