/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/ringbuf_poll.c: libbpf's ring buffer APIs under the shim,
 * fed or drained by another process.
 *
 *   ringbuf_poll consume PIN N        create a RINGBUF, pin it, print "ready",
 *                                     ring_buffer__poll (5 s timeout) until N
 *                                     records came, in order
 *   ringbuf_poll produce PIN N GAP_MS bpfemu_ringbuf_output (dlsym from the
 *                                     preloaded libbpfemu.so) N records,
 *                                     GAP_MS apart, each stamped with its time
 *   ringbuf_poll ureserve PIN N       create a USER_RINGBUF of one page, pin it,
 *                                     print "ready", N x user_ring_buffer__
 *                                     reserve_blocking (5 s) + submit: records
 *                                     fill the ring exactly, so most reserves
 *                                     wait for the drainer
 *   ringbuf_poll udrain PIN N GAP_MS  bpfemu_user_ringbuf_drain every GAP_MS
 *                                     until N records came, in order
 *
 * The waiting side reports how many waits it made, how many came back
 * empty-handed, the largest delay between a record's production and its
 * arrival, and its CPU time: a blocking wait costs almost none, a busy loop
 * the whole wall time. It fails on a record out of order, a missing record,
 * a timeout, a wait that returned with nothing, or a CPU time above 25% of
 * the wall time.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define UREC_PAYLOAD 504   /* + 8-byte header = 512: eight fill a 4096-byte ring exactly */

struct rec {
	unsigned int seq;
	unsigned int pad;
	long long ns;          /* CLOCK_MONOTONIC when produced */
	char text[32];
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
	       ru.ru_stime.tv_usec / 1e3;
}

static unsigned int got, bad;
static long long max_delay;

static int on_record(void *ctx, void *data, size_t size)
{
	const struct rec *r = data;
	(void)ctx;
	if (size < sizeof(*r) || r->seq != got) {
		fprintf(stderr, "record %u: seq %u size %zu (out of order or damaged)\n", got,
			size >= sizeof(*r) ? r->seq : ~0u, size);
		bad++;
	}
	char want[32];
	snprintf(want, sizeof(want), "record %u", got);
	if (size >= sizeof(*r) && strcmp(r->text, want))
		bad++;
	long long d = now_ns() - r->ns;
	if (d > max_delay)
		max_delay = d;
	got++;
	return 0;
}

static int report(const char *what, unsigned int n, unsigned int waits, unsigned int empty, long long t0)
{
	double wall = (now_ns() - t0) / 1e6, cpu = cpu_ms();
	printf("%s: %u/%u records in order, %u waits, %u empty, max delay %.1f ms, cpu %.1f ms of %.1f ms wall\n",
	       what, got, n, waits, empty, max_delay / 1e6, cpu, wall);
	if (got != n || bad) {
		printf("FAIL: records missing or out of order\n");
		return 1;
	}
	if (empty) {
		printf("FAIL: a wait returned with nothing\n");
		return 1;
	}
	if (cpu > wall / 4 + 20) {
		printf("FAIL: the waiting side used %.0f ms of CPU in %.0f ms: a busy loop\n", cpu, wall);
		return 1;
	}
	return 0;
}

static int consume(const char *pin, unsigned int n)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rb", 0, 0, 16384, NULL);
	if (fd < 0 || bpf_obj_pin(fd, pin)) {
		perror("consume: create/pin");
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(fd, on_record, NULL, NULL);
	if (!rb) {
		perror("consume: ring_buffer__new");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	long long t0 = now_ns();
	unsigned int waits = 0, empty = 0;
	while (got < n) {
		int r = ring_buffer__poll(rb, 5000);
		waits++;
		if (r < 0) {
			fprintf(stderr, "ring_buffer__poll: %s\n", strerror(-r));
			return 1;
		}
		if (r == 0) {
			empty++;
			if (now_ns() - t0 > 20000000000ll)
				break;
		}
	}
	/* nothing more: a poll with a short timeout times out */
	long long t1 = now_ns();
	int r = ring_buffer__poll(rb, 200);
	double waited = (now_ns() - t1) / 1e6;
	printf("consume: an idle poll(200 ms) returned %d after %.0f ms\n", r, waited);
	int rc = report("consume", n, waits, empty, t0);
	if (r != 0 || waited < 150) {
		printf("FAIL: an idle poll did not wait for its timeout\n");
		rc = 1;
	}
	printf("consume: ring_buffer__consume on the empty ring: %d\n", ring_buffer__consume(rb));

	/* the producer sends one more record 600 ms after the others: plain poll() and select();
	 * poll reports only the asked events of POLLIN | POLLRDNORM (do_pollfd filters) */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	t1 = now_ns();
	r = poll(&pfd, 1, 5000);
	printf("consume: poll(POLLIN) = %d revents %#x after the last record\n", r, (unsigned int)pfd.revents);
	if (r != 1 || pfd.revents != POLLIN || now_ns() - t1 < 100000000ll) {
		printf("FAIL: poll() did not block until the record came, or reported the wrong events\n");
		rc = 1;
	}
	r = ring_buffer__consume(rb);
	printf("consume: ring_buffer__consume: %d\n", r);
	if (r != 1)
		rc = 1;
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	struct timeval tv = { 0, 200000 };
	t1 = now_ns();
	r = select(fd + 1, &rs, NULL, NULL, &tv);
	waited = (now_ns() - t1) / 1e6;
	printf("consume: select(readable, 200 ms) on the empty ring = %d after %.0f ms\n", r, waited);
	if (r != 0 || waited < 150)
		rc = 1;
	pfd.events = POLLOUT;
	t1 = now_ns();
	r = poll(&pfd, 1, 100);
	waited = (now_ns() - t1) / 1e6;
	printf("consume: poll(POLLOUT, 100 ms) = %d after %.0f ms (a ring buffer is never writable)\n", r, waited);
	if (r != 0 || waited < 80)
		rc = 1;
	ring_buffer__free(rb);
	return rc;
}

static int produce(const char *pin, unsigned int n, unsigned int gap_ms)
{
	int (*output)(int, const void *, unsigned long long, unsigned long long) =
		(int (*)(int, const void *, unsigned long long, unsigned long long))dlsym(RTLD_DEFAULT,
											 "bpfemu_ringbuf_output");
	if (!output) {
		fprintf(stderr, "produce: bpfemu_ringbuf_output not found: run under the shim\n");
		return 1;
	}
	int fd = bpf_obj_get(pin);
	if (fd < 0) {
		perror("produce: bpf_obj_get");
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		usleep(gap_ms * 1000);
		struct rec r = { .seq = i };
		snprintf(r.text, sizeof(r.text), "record %u", i);
		r.ns = now_ns();
		if (output(fd, &r, sizeof(r), 0)) {
			perror("produce: bpfemu_ringbuf_output");
			return 1;
		}
	}
	usleep(600000);
	struct rec r = { .seq = n };
	snprintf(r.text, sizeof(r.text), "record %u", n);
	r.ns = now_ns();
	if (output(fd, &r, sizeof(r), 0)) {
		perror("produce: bpfemu_ringbuf_output");
		return 1;
	}
	printf("produce: %u records, one more after 600 ms\n", n);
	return 0;
}

static int ureserve(const char *pin, unsigned int n)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_USER_RINGBUF, "urb", 0, 0, 4096, NULL);
	if (fd < 0 || bpf_obj_pin(fd, pin)) {
		perror("ureserve: create/pin");
		return 1;
	}
	struct user_ring_buffer *rb = user_ring_buffer__new(fd, NULL);
	if (!rb) {
		perror("ureserve: user_ring_buffer__new");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	long long t0 = now_ns();
	unsigned int blocked = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct rec *r = user_ring_buffer__reserve(rb, UREC_PAYLOAD);
		if (!r) {
			if (errno != ENOSPC) {
				perror("ureserve: user_ring_buffer__reserve");
				return 1;
			}
			blocked++;
			r = user_ring_buffer__reserve_blocking(rb, UREC_PAYLOAD, 5000);
		}
		if (!r) {
			fprintf(stderr, "ureserve: record %u: reserve_blocking: %s\n", i, strerror(errno));
			return 1;
		}
		memset(r, 0, UREC_PAYLOAD);
		r->seq = i;
		snprintf(r->text, sizeof(r->text), "record %u", i);
		r->ns = now_ns();
		user_ring_buffer__submit(rb, r);
	}
	double wall = (now_ns() - t0) / 1e6, cpu = cpu_ms();
	printf("ureserve: %u records, %u waited for space, cpu %.1f ms of %.1f ms wall\n", n, blocked, cpu, wall);
	user_ring_buffer__free(rb);
	if (!blocked) {
		printf("FAIL: no reserve had to wait: the test did not test blocking\n");
		return 1;
	}
	if (cpu > wall / 4 + 20) {
		printf("FAIL: the producer used %.0f ms of CPU in %.0f ms: a busy loop\n", cpu, wall);
		return 1;
	}
	return 0;
}

static int on_urecord(const void *data, unsigned int size, void *ctx)
{
	(void)ctx;
	return on_record(NULL, (void *)data, size);
}

static int udrain(const char *pin, unsigned int n, unsigned int gap_ms)
{
	long (*drain)(int, int (*)(const void *, unsigned int, void *), void *) =
		(long (*)(int, int (*)(const void *, unsigned int, void *), void *))dlsym(RTLD_DEFAULT,
											  "bpfemu_user_ringbuf_drain");
	if (!drain) {
		fprintf(stderr, "udrain: bpfemu_user_ringbuf_drain not found: run under the shim\n");
		return 1;
	}
	int fd = bpf_obj_get(pin);
	if (fd < 0) {
		perror("udrain: bpf_obj_get");
		return 1;
	}
	long long t0 = now_ns();
	unsigned int drains = 0;
	while (got < n && now_ns() - t0 < 20000000000ll) {
		usleep(gap_ms * 1000);
		if (drain(fd, on_urecord, NULL) < 0) {
			perror("udrain: bpfemu_user_ringbuf_drain");
			return 1;
		}
		drains++;
	}
	printf("udrain: %u drains\n", drains);
	max_delay = 0;      /* records wait in the ring for the drainer by design */
	return report("udrain", n, drains, 0, t0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "consume"))
		return consume(argv[2], (unsigned int)atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "produce"))
		return produce(argv[2], (unsigned int)atoi(argv[3]), (unsigned int)atoi(argv[4]));
	if (argc >= 4 && !strcmp(argv[1], "ureserve"))
		return ureserve(argv[2], (unsigned int)atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "udrain"))
		return udrain(argv[2], (unsigned int)atoi(argv[3]), (unsigned int)atoi(argv[4]));
	fprintf(stderr, "usage: %s consume PIN N | produce PIN N GAP_MS | ureserve PIN N | udrain PIN N GAP_MS\n",
		argv[0]);
	return 2;
}
