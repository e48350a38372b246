/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sys.c: libFuzzer target over the engine's bpf() entry point.
 *
 * One input is a short program of calls to emu_sys_bpf(). It is a sequence of
 * records:
 *
 *   0xff BUF OFF LEN data[LEN]      fill fuzzer buffer BUF (0..2) at OFF
 *   CMD SZLO SZHI LEN attr[LEN]     bpf(CMD, attr, SZHI << 8 | SZLO)
 *
 * The attr bytes go into an 8 KiB zeroed buffer, so size may point past them
 * (the E2BIG tail rules) and up to and beyond a page. Before the call, tags in
 * the attr become real values:
 *
 *   an 8-byte aligned u64 0xb0f0b0f0'000BOOOO (B = buffer 0..3, O = offset)
 *       -> a pointer into buffer B at O % 4096. Buffers 0..2 are a page each,
 *          followed by GUARD bytes of PROT_NONE (a copy that runs off the
 *          end gets EFAULT); buffer 3 is the start of such a guard. The
 *          guards are reserved, not unmapped: an unmapped hole would let the
 *          next mmap (an object file of the engine, the allocator's memory)
 *          land right behind a buffer, and a copy that should fault would
 *          write there instead. GUARD is larger than any offset the engine
 *          writes at from a caller pointer (batch elements of a map, whose
 *          storage is capped below), so no such write reaches other memory.
 *   a 4-byte aligned u32 0xfd0000NN -> fd number NN % n of the fds returned by
 *          earlier calls of this input (map, prog, obj_get, fd_by_id ...).
 *
 * Other bytes stay as given, so the engine also sees wild pointers and fds;
 * to keep a wild pointer from landing in the fuzzer's own memory, the known
 * pointer fields of the commands the engine implements (and the pointers
 * inside a bpf_*_info struct) are replaced by an unmapped address when they
 * are not tagged. Every fd returned is closed and
 * the fake bpffs emptied after each input, so inputs do not depend on each
 * other (the state root is a fresh directory per fuzzer process). An fd the
 * engine leaks, or a positive result from a command that returns no fd, is a
 * crash. FUZZ_TRACE=1 prints every call and its result.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu.h"

#define PAGE 4096u
#define NBUF 3
#define MAX_CALLS 24
#define MAX_FDS 16
#define PTR_TAG 0xb0f0b0f0u
#define FD_TAG 0xfd000000u

#define GUARD (256u << 20)
static unsigned char *bufs;            /* NBUF times a page and a guard */
static unsigned char attr[2 * PAGE];
static char root[64];

static unsigned char *buf_at(unsigned int b)
{
	if (b >= NBUF)
		return bufs + PAGE;                     /* a PROT_NONE page */
	return bufs + (size_t)(PAGE + GUARD) * b;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/bpfemu-fuzz-%d", (int)getpid());
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(root);
	setenv("BPFEMU_ROOT", root, 1);
	/* a fuzzed program that loops ends its test run after 50 ms, not 10 s */
	setenv("BPFEMU_VM_TIMEOUT_MS", "50", 1);
	bufs = mmap(NULL, (size_t)(PAGE + GUARD) * NBUF, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bufs == MAP_FAILED)
		abort();
	for (unsigned int b = 0; b < NBUF; b++)
		if (mprotect(buf_at(b), PAGE, PROT_READ | PROT_WRITE))
			abort();
	if (emu_root_ready())
		abort();
}

static void cleanup_root(void)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/bpffs", root);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* An fd the engine leaked: one still open on a file of the state root (its
 * objects, pins, ids) or on /proc (its scans) after the input's fds were
 * closed. Other fds are libFuzzer's (the symbolizer's pipes). */
static void check_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	if (!d)
		abort();
	while ((e = readdir(d))) {
		char link[300], target[PATH_MAX];
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, root, strlen(root)) || !strncmp(target, "/proc/", 6)) {
			fprintf(stderr, "fd leak: fd %s (%s) is open after the input\n", e->d_name, target);
			abort();
		}
	}
	closedir(d);
}

/* commands whose result is a new fd */
static int returns_fd(int cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE: case BPF_PROG_LOAD: case BPF_OBJ_GET: case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID: case BPF_BTF_LOAD: case BPF_BTF_GET_FD_BY_ID: case BPF_RAW_TRACEPOINT_OPEN:
	case BPF_LINK_CREATE: case BPF_LINK_GET_FD_BY_ID: case BPF_ENABLE_STATS: case BPF_ITER_CREATE:
	case 36 /* BPF_TOKEN_CREATE */:
		return 1;
	default:
		return 0;
	}
}

/* offsets of pointer fields in union bpf_attr, by command (0-terminated, +1) */
static const unsigned char *ptr_fields(int cmd)
{
	static const unsigned char elem[] = { 9, 17, 0 };             /* key, value/next_key */
	static const unsigned char prog[] = { 9, 17, 33, 0 };         /* insns, license, log_buf */
	static const unsigned char path[] = { 1, 0 };                 /* pathname */
	static const unsigned char info[] = { 9, 0 };                 /* info.info */
	static const unsigned char batch[] = { 1, 9, 17, 25, 0 };     /* in/out_batch, keys, values */
	static const unsigned char btf[] = { 1, 9, 0 };               /* btf, btf_log_buf */
	static const unsigned char test[] = { 17, 25, 49, 57, 0 };    /* data_in/out, ctx_in/out */
	static const unsigned char none[] = { 0 };
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY: case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		return elem;
	case BPF_PROG_LOAD: return prog;
	case BPF_OBJ_PIN: case BPF_OBJ_GET: return path;
	case BPF_OBJ_GET_INFO_BY_FD: return info;
	case BPF_MAP_LOOKUP_BATCH: case BPF_MAP_LOOKUP_AND_DELETE_BATCH: case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		return batch;
	case BPF_BTF_LOAD: return btf;
	case BPF_PROG_TEST_RUN: return test;
	default: return none;
	}
}

static void patch(int cmd, size_t len, const int *fds, unsigned int nfds)
{
	bool done[PAGE / 8] = { false };
	for (size_t off = 0; off + 8 <= len && off < PAGE; off += 8) {
		uint64_t v;
		memcpy(&v, attr + off, 8);
		if ((v >> 32) == PTR_TAG) {
			unsigned char *p = buf_at((unsigned int)(v >> 16) & 3) + (v & 0xffff) % PAGE;
			v = (uint64_t)(uintptr_t)p;
			memcpy(attr + off, &v, 8);
			done[off / 8] = true;
		}
	}
	for (const unsigned char *f = ptr_fields(cmd); *f; f++) {
		size_t off = *f - 1u;
		uint64_t v;
		memcpy(&v, attr + off, 8);
		if (!done[off / 8] && v > PAGE) {     /* NULL and tiny values stay: they are unmapped */
			v = (uint64_t)(uintptr_t)buf_at(NBUF);
			memcpy(attr + off, &v, 8);
		}
	}
	/* OBJ_GET_INFO_BY_FD writes through pointers inside the info struct
	 * (map_ids, xlated_prog_insns ...), which live in a fuzzer buffer: the
	 * same rule there, so no write lands in the fuzzer's own heap. */
	if (cmd == BPF_OBJ_GET_INFO_BY_FD) {
		uint64_t p;
		memcpy(&p, attr + 8, 8);
		for (unsigned int b = 0; b < NBUF; b++) {
			unsigned char *lo = buf_at(b), *q = (unsigned char *)(uintptr_t)p;
			if (q < lo || q >= lo + PAGE)
				continue;
			for (unsigned char *w = lo + ((size_t)(q - lo) & ~(size_t)7); w + 8 <= lo + PAGE; w += 8) {
				uint64_t v;
				memcpy(&v, w, 8);
				if ((v >> 32) == PTR_TAG)
					v = (uint64_t)(uintptr_t)(buf_at((unsigned int)(v >> 16) & 3) + (v & 0xffff) % PAGE);
				else if (v > PAGE)
					v = (uint64_t)(uintptr_t)buf_at(NBUF);
				memcpy(w, &v, 8);
			}
		}
	}
	for (size_t off = 0; off + 4 <= len && off < PAGE; off += 4) {
		uint32_t v;
		memcpy(&v, attr + off, 4);
		if ((v & 0xffffff00u) == FD_TAG && !done[off / 8]) {
			v = nfds ? (uint32_t)fds[(v & 0xff) % nfds] : 0xffffffffu;
			memcpy(attr + off, &v, 4);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready, trace;
	int fds[MAX_FDS];
	unsigned int nfds = 0, calls = 0;

	if (!ready) {
		setup();
		trace = getenv("FUZZ_TRACE") != NULL;
		ready = 1;
	}
	for (unsigned int b = 0; b < NBUF; b++)
		memset(buf_at(b), 0, PAGE);

	size_t i = 0;
	while (i + 4 <= size && calls < MAX_CALLS) {
		unsigned int cmd = data[i], a = data[i + 1], b = data[i + 2], len = data[i + 3];
		i += 4;
		if (len > size - i)
			len = (unsigned int)(size - i);
		if (cmd == 0xff) {            /* fill buffer a at offset b * 16 */
			size_t off = (size_t)b * 16;
			if (a < NBUF && off + len <= PAGE)
				memcpy(buf_at(a) + off, data + i, len);
			i += len;
			continue;
		}
		memset(attr, 0, sizeof(attr));
		memcpy(attr, data + i, len);
		i += len;
		patch((int)cmd, len, fds, nfds);
		if (cmd == BPF_MAP_CREATE) {
			/* Keep a map's storage small: the engine backs what the kernel
			 * allocates at create with memory, so a fuzzed 3 GiB array
			 * would be 3 GiB of tmpfs and trip libFuzzer's RSS limit (and
			 * the machine's memory). Sizes and their errnos are the unit
			 * tests' job; the fuzzer keeps every other field. */
			union bpf_attr *ma = (union bpf_attr *)attr;
			if (ma->value_size > (1u << 20))
				ma->value_size = 1u << 20;
			/* an arena's entries are pages */
			__u64 per = ma->map_type == 33 ? 4096 : (__u64)ma->key_size + ma->value_size + 64;
			while (ma->max_entries > 1 && (__u64)ma->max_entries * per > (16u << 20))
				ma->max_entries >>= 1;
		}
		if (cmd == BPF_PROG_TEST_RUN) {
			/* A test run's repeat is the caller's time to spend (4 billion
			 * runs of a short program take a minute): keep it short, as
			 * each run's loops are (BPFEMU_VM_TIMEOUT_MS, set in setup) */
			union bpf_attr *ta = (union bpf_attr *)attr;
			ta->test.repeat %= 64;
		}
		unsigned int asize = (b << 8 | a) % (2 * PAGE + 1);
		long ret = emu_sys_bpf((int)cmd, attr, asize);
		calls++;
		if (trace)
			fprintf(stderr, "bpf(%u, len %u, size %u) = %ld\n", cmd, len, asize, ret);
		if (ret > 0 && returns_fd((int)cmd)) {
			if (nfds < MAX_FDS) {
				fds[nfds++] = (int)ret;
			} else {
				emu_fd_closed((int)ret);
				close((int)ret);
			}
		} else if (ret > 0) {
			fprintf(stderr, "bpf(%u) returned %ld, not an fd command\n", cmd, ret);
			abort();
		} else if (ret < -4095) {
			fprintf(stderr, "bpf(%u) returned %ld, not an errno\n", cmd, ret);
			abort();
		}
	}
	for (unsigned int k = 0; k < nfds; k++) {
		emu_fd_closed(fds[k]);
		close(fds[k]);
	}
	cleanup_root();
	check_fds();
	return 0;
}
