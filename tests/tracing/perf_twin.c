/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/perf_twin.c: BPF output perf events, byte for byte.
 *
 *   perf_twin kernel    outputs come from a tiny raw_tracepoint program that
 *                       calls bpf_perf_event_output(ctx, map, flags, buf, size)
 *                       with flags, size and data taken from its context,
 *                       run with BPF_PROG_TEST_RUN on the CPU the case names
 *                       (BPF_F_TEST_RUN_ON_CPU); needs root
 *   perf_twin emu       under the shim: the same outputs with
 *                       bpfemu_perf_output_on_cpu(map, cpu, flags, data, size)
 *
 * Everything else is the same code: perf_event_open of PERF_COUNT_SW_BPF_OUTPUT
 * events with several attrs, their errors, mmap of the ring and its errors,
 * the PERF_EVENT_IOC_* requests, a PERF_EVENT_ARRAY holding the events, and
 * after each step the output's return value, what poll() says, the ring's
 * data_head and every record in it, in hex. Event ids print as E1, E2... in
 * the order the events were opened (the kernel's are global). The two
 * transcripts must be identical (tracing_perf_twin.sh). Exit 77 when the
 * kernel side cannot run here (not root, no bpf(), a refused program or
 * event), with the reason.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef BPF_F_TEST_RUN_ON_CPU
#define BPF_F_TEST_RUN_ON_CPU (1U << 0)
#endif
#define PG 4096

static bool kernel_mode;
static int map_fd, prog_fd = -1, ncpu;
static int (*emu_output)(int, unsigned int, unsigned long long, const void *, unsigned long long);

static __u64 ids[64];
static int nids;

static void skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("SKIP: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(77);
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static const char *ename(int e)
{
	return e ? strerrorname_np(e) : "0";
}

/* ---- the producer: a program on the kernel, bpfemu_perf_output under the shim ---- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static void load_prog(void)
{
	struct bpf_insn p[64];
	int n = 0;
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);               /* r6 = ctx */
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, 7, 6, 0, 0);                /* r7 = flags */
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, 8, 6, 8, 0);                /* r8 = size */
	for (int k = 0; k < 10; k++) {                                         /* stack = ctx[2..11] */
		p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, 0, 6, (short)(16 + 8 * k), 0);
		p[n++] = INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 0, (short)(-80 + 8 * k), 0);
	}
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 5, 8, 0, 0);               /* r5 = min(size, 80) */
	p[n++] = INSN(BPF_JMP | BPF_JLE | BPF_K, 5, 0, 1, 80);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, 80);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0);
	p[n++] = INSN(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_MAP_FD, 0, map_fd);
	p[n++] = INSN(0, 0, 0, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 7, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 10, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, -80);
	p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_perf_event_output);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	static char log[65536];
	union bpf_attr a = { 0 };
	a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	a.insns = (uintptr_t)p;
	a.insn_cnt = (__u32)n;
	a.license = (uintptr_t) "GPL";
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (prog_fd < 0)
		skip("the kernel refuses the raw_tracepoint producer: %s\n%s", strerror(errno), log);
}

/* bpf_perf_event_output(ctx, map, flags, data, size) as a program running on cpu */
static int output(int cpu, __u64 flags, const void *data, unsigned int size)
{
	if (kernel_mode) {
		__u64 ctx[12] = { flags, size };
		memcpy(&ctx[2], data, size > 80 ? 80 : size);
		union bpf_attr a = { 0 };
		a.test.prog_fd = (__u32)prog_fd;
		a.test.ctx_in = (uintptr_t)ctx;
		a.test.ctx_size_in = sizeof(ctx);
		a.test.flags = BPF_F_TEST_RUN_ON_CPU;
		a.test.cpu = (__u32)cpu;
		if (sys_bpf(BPF_PROG_TEST_RUN, &a))
			skip("BPF_PROG_TEST_RUN of the raw_tracepoint producer: %s", strerror(errno));
		return (int)a.test.retval;
	}
	return emu_output(map_fd, (unsigned int)cpu, flags, data, size) ? -errno : 0;
}

/* ---- events ---- */

struct ev {
	int fd;
	struct perf_event_mmap_page *up;
	size_t pages;                /* data pages */
	int n;                       /* E<n> */
	__u64 sample_type;
	bool sample_id_all;
};

static int ev_name(__u64 id)
{
	for (int i = 0; i < nids; i++)
		if (ids[i] == id)
			return i + 1;
	return 0;
}

static int popen_ev(struct perf_event_attr *a, int pid, int cpu, int group, unsigned long flags)
{
	int fd = (int)syscall(__NR_perf_event_open, a, pid, cpu, group, flags);
	return fd < 0 ? -errno : fd;
}

static struct ev open_ev(const char *what, __u64 sample_type, __u32 wakeup, bool watermark, bool sample_id_all,
			 int cpu)
{
	struct perf_event_attr a = { 0 };
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_BPF_OUTPUT;
	a.size = sizeof(a);
	a.sample_type = sample_type;
	a.sample_period = 1;
	a.wakeup_events = wakeup;
	a.watermark = watermark;
	a.sample_id_all = sample_id_all;
	a.disabled = 1;
	struct ev e = { .fd = popen_ev(&a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC), .sample_type = sample_type,
			.sample_id_all = sample_id_all };
	if (e.fd < 0) {
		if (kernel_mode && nids == 0)
			skip("perf_event_open of a BPF output event: %s", strerror(-e.fd));
		printf("%s: perf_event_open = %s\n", what, ename(-e.fd));
		return e;
	}
	__u64 id = 0;
	if (ioctl(e.fd, PERF_EVENT_IOC_ID, &id))
		printf("%s: PERF_EVENT_IOC_ID: %s\n", what, ename(errno));
	ids[nids++] = id;
	e.n = nids;
	printf("%s: opened E%d on cpu %d, sample_type %#llx, wakeup %u%s%s\n", what, e.n, cpu,
	       (unsigned long long)sample_type, wakeup, watermark ? " (watermark)" : "",
	       sample_id_all ? ", sample_id_all" : "");
	return e;
}

static void map_ev(struct ev *e, size_t pages, int prot)
{
	void *p = mmap(NULL, (1 + pages) * PG, prot, MAP_SHARED, e->fd, 0);
	if (p == MAP_FAILED) {
		printf("  mmap 1+%zu pages = %s\n", pages, ename(errno));
		return;
	}
	e->up = p;
	e->pages = pages;
	printf("  mmap 1+%zu pages: data_offset %llu data_size %llu data_head %llu data_tail %llu\n", pages,
	       (unsigned long long)e->up->data_offset, (unsigned long long)e->up->data_size,
	       (unsigned long long)e->up->data_head, (unsigned long long)e->up->data_tail);
}

static void put_slot(int slot, int fd)
{
	union bpf_attr a = { 0 };
	__u32 k = (__u32)slot, v = (__u32)fd;
	a.map_fd = (__u32)map_fd;
	a.key = (uintptr_t)&k;
	a.value = (uintptr_t)&v;
	long r = sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
	printf("  slot %d = fd: %s\n", slot, r ? ename(errno) : "0");
}

static void del_slot(int slot)
{
	union bpf_attr a = { 0 };
	__u32 k = (__u32)slot;
	a.map_fd = (__u32)map_fd;
	a.key = (uintptr_t)&k;
	long r = sys_bpf(BPF_MAP_DELETE_ELEM, &a);
	printf("  slot %d deleted: %s\n", slot, r ? ename(errno) : "0");
}

static void do_ioctl(struct ev *e, const char *name, unsigned long req, unsigned long arg)
{
	int r = ioctl(e->fd, req, arg);
	printf("  ioctl(E%d, %s) = %s\n", e->n, name, r ? ename(errno) : "0");
}

static void poll_ev(struct ev *e)
{
	struct pollfd p = { .fd = e->fd, .events = POLLIN };
	int r = poll(&p, 1, 0);
	printf("  poll = %d revents %#x\n", r, r > 0 ? p.revents : 0);
}

static void out(int cpu, __u64 flags, unsigned int size, unsigned char seed)
{
	unsigned char d[80];
	for (unsigned int i = 0; i < sizeof(d); i++)
		d[i] = (unsigned char)(seed + i * 7);
	int r = output(cpu, flags, d, size);
	printf("  output(cpu %d, flags %#llx, %u bytes) = %s\n", cpu, (unsigned long long)flags, size, ename(-r));
}

/* record fields, as perf_output_sample() writes them */
struct rd {
	const unsigned char *p;
	size_t off, len;
};

static __u64 take64(struct rd *r)
{
	__u64 v = 0;
	if (r->off + 8 <= r->len)
		memcpy(&v, r->p + r->off, 8);
	r->off += 8;
	return v;
}

static void print_id(const char *name, __u64 id)
{
	int n = ev_name(id);
	if (n)
		printf(" %s=E%d", name, n);
	else
		printf(" %s=%llu(unknown)", name, (unsigned long long)id);
}

static void print_sample_id(struct rd *r, __u64 t)
{
	if (t & PERF_SAMPLE_TID)
		take64(r), printf(" tid=*");
	if (t & PERF_SAMPLE_TIME)
		take64(r), printf(" time=*");
	if (t & PERF_SAMPLE_ID)
		print_id("id", take64(r));
	if (t & PERF_SAMPLE_STREAM_ID)
		print_id("stream_id", take64(r));
	if (t & PERF_SAMPLE_CPU)
		printf(" cpu=%#llx", (unsigned long long)take64(r));
	if (t & PERF_SAMPLE_IDENTIFIER)
		print_id("identifier", take64(r));
}

/* the records between data_tail and data_head, field by field; then data_tail = data_head */
static void dump(struct ev *e, const char *what)
{
	if (!e->up)
		return;
	__u64 head = __atomic_load_n(&e->up->data_head, __ATOMIC_ACQUIRE), tail = e->up->data_tail;
	size_t size = e->pages * PG;
	unsigned char *ring = (unsigned char *)e->up + PG;
	__u64 t = e->sample_type;
	printf("  %s: data_head %llu data_tail %llu\n", what, (unsigned long long)head, (unsigned long long)tail);
	while (tail < head) {
		static unsigned char rec[65536];
		struct perf_event_header h;
		for (size_t i = 0; i < sizeof(h); i++)
			((unsigned char *)&h)[i] = ring[(tail + i) & (size - 1)];
		if (h.size < sizeof(h) || h.size > head - tail) {
			printf("    bad record size %u at %llu\n", h.size, (unsigned long long)tail);
			break;
		}
		for (size_t i = 0; i < h.size; i++)
			rec[i] = ring[(tail + i) & (size - 1)];
		struct rd r = { rec, sizeof(h), h.size };
		printf("    @%llu type %u misc %u size %u:", (unsigned long long)tail, h.type, h.misc, h.size);
		if (h.type == PERF_RECORD_LOST) {
			print_id("id", take64(&r));
			printf(" lost=%llu", (unsigned long long)take64(&r));
			if (e->sample_id_all)
				print_sample_id(&r, t);
		} else if (h.type == PERF_RECORD_SAMPLE) {
			if (t & PERF_SAMPLE_IDENTIFIER)
				print_id("identifier", take64(&r));
			if (t & PERF_SAMPLE_IP)
				take64(&r), printf(" ip=*");
			if (t & PERF_SAMPLE_TID)
				take64(&r), printf(" tid=*");
			if (t & PERF_SAMPLE_TIME)
				take64(&r), printf(" time=*");
			if (t & PERF_SAMPLE_ADDR)
				printf(" addr=%#llx", (unsigned long long)take64(&r));
			if (t & PERF_SAMPLE_ID)
				print_id("id", take64(&r));
			if (t & PERF_SAMPLE_STREAM_ID)
				print_id("stream_id", take64(&r));
			if (t & PERF_SAMPLE_CPU)
				printf(" cpu=%#llx", (unsigned long long)take64(&r));
			if (t & PERF_SAMPLE_PERIOD)
				printf(" period=%llu", (unsigned long long)take64(&r));
			if (t & PERF_SAMPLE_RAW) {
				__u32 rs = 0;
				if (r.off + 4 <= r.len)
					memcpy(&rs, rec + r.off, 4);
				printf(" raw[%u]=", rs);
				for (size_t i = r.off + 4; i < r.len; i++)
					printf("%02x", rec[i]);
				r.off = r.len;
			}
		}
		if (r.off != r.len)
			printf(" (%zu bytes left over)", r.len - r.off);
		printf("\n");
		tail += h.size;
	}
	__atomic_store_n(&e->up->data_tail, head, __ATOMIC_RELEASE);
}

static void close_ev(struct ev *e)
{
	if (e->up)
		munmap(e->up, (1 + e->pages) * PG);
	if (e->fd >= 0)
		close(e->fd);
	e->up = NULL;
	e->fd = -1;
}

/* ---- the cases ---- */

static void case_raw(void)
{
	printf("== raw samples, wakeup_events 1, one data page\n");
	struct ev e = open_ev("raw", PERF_SAMPLE_RAW, 1, false, false, 0);
	poll_ev(&e);                         /* no ring yet: POLLHUP */
	map_ev(&e, 1, PROT_READ | PROT_WRITE);
	poll_ev(&e);
	put_slot(0, e.fd);
	out(0, 0, 8, 1);                     /* disabled: EOPNOTSUPP */
	do_ioctl(&e, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	static const unsigned int sizes[] = { 0, 1, 3, 4, 5, 8, 12, 13, 60, 80 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		out(0, 0, sizes[i], (unsigned char)(0x10 * i));
	out(0, BPF_F_CURRENT_CPU, 16, 0xaa);
	poll_ev(&e);
	poll_ev(&e);                         /* the wake-up was read */
	dump(&e, "ring");
	do_ioctl(&e, "DISABLE", PERF_EVENT_IOC_DISABLE, 0);
	out(0, 0, 8, 2);
	do_ioctl(&e, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	out(0, 0, 8, 3);
	dump(&e, "after disable/enable");
	del_slot(0);
	close_ev(&e);
}

static void case_lost(void)
{
	printf("== a full ring: lost records, then PERF_RECORD_LOST\n");
	struct ev e = open_ev("lost", PERF_SAMPLE_RAW, 1, false, false, 0);
	map_ev(&e, 1, PROT_READ | PROT_WRITE);
	put_slot(0, e.fd);
	do_ioctl(&e, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	int ok = 0, r;
	for (int i = 0; i < 100; i++) {
		unsigned char d[80];
		memset(d, i, sizeof(d));
		r = output(0, 0, d, 52);     /* 8 + 4 + 52 = 64 bytes a record */
		if (r)
			break;
		ok++;
	}
	printf("  %d records of 64 bytes fit a 4096-byte ring, then %s\n", ok, ename(-r));
	out(0, 0, 52, 0x40);
	out(0, 0, 52, 0x41);
	out(0, 0, 4, 0x42);
	printf("  data_head %llu\n", (unsigned long long)e.up->data_head);
	e.up->data_tail += 64 * 3;          /* the consumer reads three records */
	out(0, 0, 52, 0x50);                 /* 64 fit in the 192 freed */
	out(0, 0, 52, 0x51);
	out(0, 0, 52, 0x52);                 /* lost */
	out(0, 0, 52, 0x53);                 /* lost */
	printf("  data_head %llu\n", (unsigned long long)e.up->data_head);
	e.up->data_tail += 64;               /* one more: 24 (LOST) + 64 do not fit in 64 + 48 - 1 */
	out(0, 0, 52, 0x54);
	out(0, 0, 4, 0x55);                  /* 24 + 16 fit */
	printf("  data_head %llu\n", (unsigned long long)e.up->data_head);
	e.up->data_tail = 62 * 64;           /* the last full-ring record on */
	dump(&e, "after the loss");
	do_ioctl(&e, "PAUSE_OUTPUT 1", PERF_EVENT_IOC_PAUSE_OUTPUT, 1);
	out(0, 0, 8, 0x60);
	do_ioctl(&e, "PAUSE_OUTPUT 0", PERF_EVENT_IOC_PAUSE_OUTPUT, 0);
	out(0, 0, 8, 0x61);
	dump(&e, "after a pause");
	close_ev(&e);
}

static void case_fields(void)
{
	printf("== more sample fields, sample_id_all\n");
	__u64 t = PERF_SAMPLE_RAW | PERF_SAMPLE_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_STREAM_ID |
		  PERF_SAMPLE_ADDR | PERF_SAMPLE_PERIOD;
	int cpu = ncpu > 1 ? 1 : 0;
	struct ev e = open_ev("fields", t, 1, false, true, cpu);
	map_ev(&e, 1, PROT_READ | PROT_WRITE);
	put_slot(cpu, e.fd);
	do_ioctl(&e, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	out(cpu, (__u64)cpu, 12, 0x70);
	out(cpu, BPF_F_CURRENT_CPU, 0, 0x71);
	/* fill it to get a LOST record with a sample_id trailer */
	int r;
	do {
		unsigned char d[80] = { 0 };
		r = output(cpu, (__u64)cpu, d, 80);
	} while (!r);
	out(cpu, (__u64)cpu, 80, 0x72);
	e.up->data_tail = e.up->data_head;   /* drop everything */
	out(cpu, (__u64)cpu, 4, 0x73);
	dump(&e, "ring");
	del_slot(cpu);
	close_ev(&e);
}

static void case_wakeup(void)
{
	printf("== wake-ups: wakeup_events 3; a 300-byte watermark; the default (half the ring)\n");
	struct ev a = open_ev("every 3", PERF_SAMPLE_RAW, 3, false, false, 0);
	map_ev(&a, 1, PROT_READ | PROT_WRITE);
	put_slot(0, a.fd);
	do_ioctl(&a, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	for (int i = 0; i < 7; i++) {
		out(0, 0, 20, (unsigned char)i);
		poll_ev(&a);
	}
	dump(&a, "ring");
	close_ev(&a);
	struct ev b = open_ev("watermark 300", PERF_SAMPLE_RAW, 300, true, false, 0);
	map_ev(&b, 1, PROT_READ | PROT_WRITE);
	put_slot(0, b.fd);
	do_ioctl(&b, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	for (int i = 0; i < 7; i++) {
		out(0, 0, 52, (unsigned char)i);
		poll_ev(&b);
	}
	close_ev(&b);
	struct ev c = open_ev("default", PERF_SAMPLE_RAW, 0, false, false, 0);
	map_ev(&c, 1, PROT_READ | PROT_WRITE);
	put_slot(0, c.fd);
	do_ioctl(&c, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
	for (int i = 0; i < 40; i++) {
		out(0, 0, 52, (unsigned char)i);
		struct pollfd p = { .fd = c.fd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0)
			printf("  woken after output %d: revents %#x data_head %llu\n", i, p.revents,
			       (unsigned long long)c.up->data_head);
	}
	del_slot(0);
	close_ev(&c);
}

static void case_errors(void)
{
	printf("== errors\n");
	struct perf_event_attr a = { 0 };
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_BPF_OUTPUT;
	a.size = sizeof(a);
	a.sample_type = PERF_SAMPLE_RAW;
	a.sample_period = 1;
	int fd;
	printf("  flags 0x100: %s\n", ename(-popen_ev(&a, -1, 0, -1, 0x100)));
	printf("  pid -1, cpu -1: %s\n", ename(-popen_ev(&a, -1, -1, -1, 0)));
	printf("  cpu 100000: %s\n", ename(-popen_ev(&a, -1, 100000, -1, 0)));
	printf("  pid 2147483000: %s\n", ename(-popen_ev(&a, 2147483000, 0, -1, 0)));
	printf("  group_fd 0 (stdin): %s\n", ename(-popen_ev(&a, -1, 0, 0, 0)));
	a.size = 20;
	fd = popen_ev(&a, -1, 0, -1, 0);
	printf("  size 20: %s, size now %u\n", ename(-fd), a.size);
	a.size = sizeof(a) + 8;
	fd = popen_ev(&a, -1, 0, -1, 0);
	printf("  size %zu (zero tail): %s\n", sizeof(a) + 8, fd >= 0 ? "ok" : ename(-fd));
	if (fd >= 0)
		close(fd);
	a.size = sizeof(a);
	a.sample_type = 1ull << 40;
	printf("  sample_type bit 40: %s\n", ename(-popen_ev(&a, -1, 0, -1, 0)));
	a.sample_type = PERF_SAMPLE_RAW;
	a.freq = 0;
	a.sample_period = 1ull << 63;
	printf("  sample_period 1<<63: %s\n", ename(-popen_ev(&a, -1, 0, -1, 0)));
	a.sample_period = 1;
	a.read_format = 1u << 6;
	printf("  read_format bit 6: %s\n", ename(-popen_ev(&a, -1, 0, -1, 0)));
	a.read_format = 0;
	a.sigtrap = 1;
	printf("  sigtrap without remove_on_exec: %s\n", ename(-popen_ev(&a, -1, 0, -1, 0)));
	a.sigtrap = 0;

	/* mmap */
	fd = popen_ev(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	printf("  pid 0 (this process), cpu -1: %s\n", fd >= 0 ? "ok" : ename(-fd));
	struct ev e = { .fd = fd, .sample_type = PERF_SAMPLE_RAW };
	if (fd >= 0) {
		__u64 id;
		ioctl(fd, PERF_EVENT_IOC_ID, &id);
		ids[nids++] = id;
		e.n = nids;
		void *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		printf("  mmap private: %s\n", p == MAP_FAILED ? ename(errno) : "ok");
		p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		printf("  mmap 1+3 pages: %s\n", p == MAP_FAILED ? ename(errno) : "ok");
		p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
		printf("  mmap at offset 4096: %s\n", p == MAP_FAILED ? ename(errno) : "ok");
		map_ev(&e, 2, PROT_READ | PROT_WRITE);
		p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		printf("  mmap 1+1 pages while 1+2 are mapped: %s\n", p == MAP_FAILED ? ename(errno) : "ok");
		p = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
		printf("  mmap 1+2 pages again, read-only: %s\n", p == MAP_FAILED ? ename(errno) : "ok");
		if (p != MAP_FAILED)
			munmap(p, 3 * PG);
		do_ioctl(&e, "unknown 0x2499", _IO('$', 0x99), 0);
		__u64 period = 0;
		do_ioctl(&e, "PERIOD 0", PERF_EVENT_IOC_PERIOD, (unsigned long)&period);
		period = 5;
		do_ioctl(&e, "PERIOD 5", PERF_EVENT_IOC_PERIOD, (unsigned long)&period);
		do_ioctl(&e, "ID NULL", PERF_EVENT_IOC_ID, 0);
		do_ioctl(&e, "SET_FILTER", PERF_EVENT_IOC_SET_FILTER, (unsigned long)"common_pid == 1");
		do_ioctl(&e, "REFRESH 1", PERF_EVENT_IOC_REFRESH, 1);
		do_ioctl(&e, "RESET", PERF_EVENT_IOC_RESET, 0);
		do_ioctl(&e, "SET_OUTPUT -1", PERF_EVENT_IOC_SET_OUTPUT, (unsigned long)-1);
		struct perf_event_attr m = a;
		do_ioctl(&e, "MODIFY_ATTRIBUTES", PERF_EVENT_IOC_MODIFY_ATTRIBUTES, (unsigned long)&m);
	}

	/* the map */
	printf("  -- the PERF_EVENT_ARRAY\n");
	int pfd[2];
	if (pipe(pfd) == 0) {
		put_slot(0, pfd[0]);
		close(pfd[0]);
		close(pfd[1]);
	}
	put_slot(0, 1000);
	a.inherit = 1;
	int ifd = popen_ev(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	a.inherit = 0;
	printf("  an inherited event: %s\n", ifd >= 0 ? "opened" : ename(-ifd));
	if (ifd >= 0) {
		put_slot(0, ifd);
		close(ifd);
	}
	if (e.fd >= 0) {
		put_slot(0, e.fd);          /* bound to this process, any CPU */
		out(0, 0, 8, 0x80);          /* disabled */
		do_ioctl(&e, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
		out(0, 0, 8, 0x81);
		dump(&e, "task-bound event");
	}
	/* a software event of the kernel's that is no BPF output (counting this task, user space only) */
	struct perf_event_attr c = { 0 };
	c.type = PERF_TYPE_SOFTWARE;
	c.config = PERF_COUNT_SW_TASK_CLOCK;
	c.size = sizeof(c);
	c.exclude_kernel = 1;
	c.exclude_hv = 1;
	int cfd = popen_ev(&c, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	printf("  a task-clock event: %s\n", cfd >= 0 ? "opened" : ename(-cfd));
	if (cfd >= 0) {
		put_slot(0, cfd);
		out(0, 0, 8, 0x90);          /* not a BPF output event */
		close(cfd);
	}
	struct ev b = open_ev("cpu 0 in slot 1", PERF_SAMPLE_RAW, 1, false, false, 0);
	if (ncpu > 1 && b.fd >= 0) {
		map_ev(&b, 1, PROT_READ | PROT_WRITE);
		do_ioctl(&b, "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
		put_slot(1, b.fd);
		out(1, 1, 8, 0xa0);          /* a program on CPU 1: the event is on CPU 0 */
		out(0, 1, 8, 0xa1);          /* on CPU 0 with index 1: fine */
		dump(&b, "cpu 0 event in slot 1");
		del_slot(1);
		out(0, 1, 8, 0xa2);          /* empty slot */
		del_slot(1);
	}
	out(0, (__u64)ncpu, 8, 0xb0);        /* index past max_entries */
	out(0, 1ull << 33, 8, 0xb1);         /* flags outside the index */
	close_ev(&b);
	close_ev(&e);
}

static void case_cpus(void)
{
	printf("== one event per CPU, BPF_F_CURRENT_CPU on each\n");
	struct ev e[8];
	int n = ncpu < 8 ? ncpu : 8;
	for (int c = 0; c < n; c++) {
		e[c] = open_ev("per-cpu", PERF_SAMPLE_RAW | PERF_SAMPLE_CPU, 1, false, false, c);
		map_ev(&e[c], 2, PROT_READ | PROT_WRITE);
		do_ioctl(&e[c], "ENABLE", PERF_EVENT_IOC_ENABLE, 0);
		put_slot(c, e[c].fd);
	}
	for (int c = 0; c < n; c++)
		out(c, BPF_F_CURRENT_CPU, 4 + (unsigned int)c, (unsigned char)(0xc0 + c));
	for (int c = 0; c < n; c++) {
		poll_ev(&e[c]);
		dump(&e[c], "ring");
		close_ev(&e[c]);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || (strcmp(argv[1], "kernel") && strcmp(argv[1], "emu"))) {
		fprintf(stderr, "usage: perf_twin kernel|emu\n");
		return 2;
	}
	kernel_mode = !strcmp(argv[1], "kernel");
	/* on CPU 0: a test run there executes in this task, so a task-bound event is on that CPU */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (ncpu > 64)
		ncpu = 64;
	if (kernel_mode && geteuid())
		skip("the kernel side needs root");
	if (!kernel_mode) {
		emu_output = (int (*)(int, unsigned int, unsigned long long, const void *, unsigned long long))dlsym(
			RTLD_DEFAULT, "bpfemu_perf_output_on_cpu");
		if (!emu_output) {
			fprintf(stderr, "bpfemu_perf_output_on_cpu not found: run under the shim\n");
			return 1;
		}
	}
	union bpf_attr a = { 0 };
	a.map_type = BPF_MAP_TYPE_PERF_EVENT_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = (__u32)ncpu;
	map_fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (map_fd < 0) {
		if (kernel_mode)
			skip("BPF_MAP_CREATE: %s", strerror(errno));
		perror("BPF_MAP_CREATE");
		return 1;
	}
	if (kernel_mode)
		load_prog();
	printf("%d CPUs\n", ncpu);
	case_raw();
	case_lost();
	case_fields();
	case_wakeup();
	case_errors();
	case_cpus();
	return 0;
}
