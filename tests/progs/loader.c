/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/loader.c: an ordinary libbpf (Debian's 1.1) loader for
 * progs.bpf.o. Prints a transcript with no ids, fds or addresses, so the
 * kernel's (as root) and bpfemu's (as nobody) can be compared line by line.
 *
 *   loader OBJ PINDIR load     open, load, maps, programs, global data, pins
 *   loader OBJ PINDIR reuse    a second load: the pinned-by-name map is reused
 *   loader OBJ PINDIR read     a second process: open the pins, read them
 *   loader OBJ PINDIR unpin    unpin everything again
 *   loader OBJ PINDIR attach   load, then attach the XDP program to lo
 *   loader OBJ PINDIR probes   load, then attach the tracepoint program
 *                              (bpf_program__attach) and the kprobe program
 *                              (bpf_program__attach_kprobe), run $LOADER_SHOW
 *                              (if set) while the links live, destroy them
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "transcript.h"

static void show_map(struct bpf_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	int err = bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len);
	printf("map %-14s ", bpf_map__name(m));
	if (err) {
		printf("info %s\n", en(errno));
		return;
	}
	printf("type %u key %u value %u max %u flags 0x%x name %s btf %s key_type %s value_type %s\n", info.type,
	       info.key_size, info.value_size, info.max_entries, info.map_flags, info.name, info.btf_id ? "yes" : "no",
	       info.btf_key_type_id ? "yes" : "no", info.btf_value_type_id ? "yes" : "no");
}

static void show_prog(struct bpf_program *p)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	__u32 map_ids[16];
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)map_ids;
	int err = bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len);
	printf("prog %-14s sec %s insns %zu ", bpf_program__name(p), bpf_program__section_name(p),
	       bpf_program__insn_cnt(p));
	if (err) {
		printf("info %s\n", en(errno));
		return;
	}
	printf("type %u name %s tag ", info.type, info.name);
	hex(info.tag, sizeof(info.tag));
	printf(" maps %u gpl %u btf %s func_info %u line_info %u\n", info.nr_map_ids, info.gpl_compatible,
	       info.btf_id ? "yes" : "no", info.nr_func_info, info.nr_line_info);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", bpf_program__fd(p));
	char target[64] = "";
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n > 0)
		target[n] = 0;
	printf("  fd reads %s\n", target);
}

/* the internal maps libbpf made for global data: .bss .data .rodata */
static void *global(struct bpf_object *obj, const char *suffix, struct bpf_map **mp)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t l = strlen(n), s = strlen(suffix);
		if (l >= s && !strcmp(n + l - s, suffix)) {
			size_t sz;
			*mp = m;
			return (void *)bpf_map__initial_value(m, &sz);
		}
	}
	*mp = NULL;
	return NULL;
}

struct bss { __u64 counter; __u32 flags_seen; };
struct data { __u64 started; char tagline[16]; };
struct rodata { __u32 limit; __u64 magic; };

static void globals(struct bpf_object *obj)
{
	struct bpf_map *mb, *md, *mr;
	struct bss *bss = global(obj, ".bss", &mb);
	struct data *data = global(obj, ".data", &md);
	struct rodata *ro = global(obj, ".rodata", &mr);
	__u32 zero = 0;
	if (!bss || !data || !ro) {
		printf("globals: missing internal map\n");
		return;
	}
	printf("globals: counter %llu started %llu tagline %s limit %u magic 0x%llx\n",
	       (unsigned long long)bss->counter, (unsigned long long)data->started, data->tagline, ro->limit,
	       (unsigned long long)ro->magic);
	bss->counter = 41;
	struct bss b;
	int err = bpf_map_lookup_elem(bpf_map__fd(mb), &zero, &b);
	printf("bss via mmap then lookup: %s counter %llu\n", err ? en(errno) : "ok", (unsigned long long)b.counter);
	b.counter = 99;
	b.flags_seen = 3;
	err = bpf_map_update_elem(bpf_map__fd(mb), &zero, &b, 0);
	printf("bss update then mmap: %s counter %llu flags_seen %u\n", err ? en(errno) : "ok",
	       (unsigned long long)bss->counter, bss->flags_seen);
	struct data d;
	err = bpf_map_lookup_elem(bpf_map__fd(md), &zero, &d);
	printf("data lookup: %s started %llu tagline %s\n", err ? en(errno) : "ok", (unsigned long long)d.started,
	       d.tagline);
	struct rodata r = { 1, 2 };
	err = bpf_map_update_elem(bpf_map__fd(mr), &zero, &r, 0);
	printf("rodata update: %s\n", err ? en(errno) : "ok");
	err = bpf_map_lookup_elem(bpf_map__fd(mr), &zero, &r);
	printf("rodata lookup: %s limit %u\n", err ? en(errno) : "ok", r.limit);
	void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(mr), 0);
	printf("rodata mmap writable: %s\n", w == MAP_FAILED ? en(errno) : "ok");
	if (w != MAP_FAILED)
		munmap(w, 4096);
	w = mmap(NULL, 4096, PROT_READ, MAP_SHARED, bpf_map__fd(mr), 0);
	printf("rodata mmap read-only: %s limit %u\n", w == MAP_FAILED ? en(errno) : "ok",
	       w == MAP_FAILED ? 0 : ((struct rodata *)w)->limit);
	if (w != MAP_FAILED)
		munmap(w, 4096);
}

static void maps_rw(struct bpf_object *obj)
{
	struct bpf_map *counts = bpf_object__find_map_by_name(obj, "counts");
	struct bpf_map *outer = bpf_object__find_map_by_name(obj, "outer");
	struct bpf_map *inner = bpf_object__find_map_by_name(obj, "inner1");
	struct bpf_map *jmp = bpf_object__find_map_by_name(obj, "jmp");
	struct { __u32 a; __u32 pad; __u64 b; } v = { 5, 0, 500 }, out;
	__u32 k = 5, z = 0;
	int err = bpf_map__update_elem(counts, &k, sizeof(k), &v, sizeof(v), BPF_NOEXIST);
	printf("counts update: %s\n", err ? en(err) : "ok");
	err = bpf_map__update_elem(counts, &k, sizeof(k), &v, sizeof(v), BPF_NOEXIST);
	printf("counts update noexist again: %s\n", err ? en(err) : "ok");
	memset(&out, 0, sizeof(out));
	err = bpf_map__lookup_elem(counts, &k, sizeof(k), &out, sizeof(out), 0);
	printf("counts lookup: %s a %u b %llu\n", err ? en(err) : "ok", out.a, (unsigned long long)out.b);
	err = bpf_map__lookup_elem(counts, &k, 2, &out, sizeof(out), 0);
	printf("counts lookup bad key size: %s\n", err ? en(err) : "ok");

	/* per-CPU array: one value per possible CPU through libbpf */
	struct bpf_map *pcpu = bpf_object__find_map_by_name(obj, "pcpu");
	int ncpu = libbpf_num_possible_cpus();
	if (pcpu && ncpu > 0 && ncpu <= 1024) {
		__u64 vals[1024], sum = 0;
		for (int c = 0; c < ncpu; c++)
			vals[c] = 10ull * (__u64)(c + 1);
		err = bpf_map__update_elem(pcpu, &z, sizeof(z), vals, sizeof(__u64) * (size_t)ncpu, 0);
		memset(vals, 0, sizeof(vals));
		int err2 = bpf_map__lookup_elem(pcpu, &z, sizeof(z), vals, sizeof(__u64) * (size_t)ncpu, 0);
		for (int c = 0; c < ncpu; c++)
			sum += vals[c] == 10ull * (__u64)(c + 1);
		printf("pcpu update %s lookup %s: %llu of %d cpus right; short value: %s\n", err ? en(err) : "ok",
		       err2 ? en(err2) : "ok", (unsigned long long)sum, ncpu,
		       en(bpf_map__lookup_elem(pcpu, &z, sizeof(z), vals, 8, 0)));
	}
	/* LRU hash: 24 keys into 16 entries evict, none fails */
	struct bpf_map *recent = bpf_object__find_map_by_name(obj, "recent");
	if (recent) {
		int fails = 0, left = 0;
		for (__u32 i = 0; i < 24; i++) {
			__u64 val = i;
			fails += bpf_map__update_elem(recent, &i, sizeof(i), &val, sizeof(val), BPF_ANY) != 0;
		}
		for (__u32 i = 0; i < 24; i++) {
			__u64 val;
			left += bpf_map__lookup_elem(recent, &i, sizeof(i), &val, sizeof(val), 0) == 0;
		}
		printf("lru 24 updates into 16: %d failed, %d keys left, newest %s\n", fails, left,
		       bpf_map__lookup_elem(recent, &(__u32){ 23 }, 4, &(__u64){ 0 }, 8, 0) ? "gone" : "kept");
	}

	__u32 inner_id = 0;
	err = bpf_map__lookup_elem(outer, &z, sizeof(z), &inner_id, sizeof(inner_id), 0);
	struct bpf_map_info ii;
	__u32 len = sizeof(ii);
	memset(&ii, 0, sizeof(ii));
	bpf_obj_get_info_by_fd(bpf_map__fd(inner), &ii, &len);
	printf("outer[0]: %s is inner1 %s\n", err ? en(err) : "ok", inner_id == ii.id ? "yes" : "no");

	struct bpf_program *xdp = bpf_object__find_program_by_name(obj, "xdp_count");
	struct bpf_program *tc = bpf_object__find_program_by_name(obj, "tc_mark");
	int fd = bpf_program__fd(xdp);
	err = bpf_map__update_elem(jmp, &z, sizeof(z), &fd, sizeof(fd), 0);
	printf("jmp[0] = xdp_count: %s\n", err ? en(err) : "ok");
	fd = bpf_program__fd(tc);
	k = 1;
	err = bpf_map__update_elem(jmp, &k, sizeof(k), &fd, sizeof(fd), 0);
	printf("jmp[1] = tc_mark: %s\n", err ? en(err) : "ok");
	__u32 id = 0;
	err = bpf_map_lookup_elem(bpf_map__fd(jmp), &z, &id);
	printf("jmp lookup from user space: %s\n", err ? en(errno) : "ok");
}

static void prog_ids(struct bpf_object *obj)
{
	__u32 id = 0, found = 0;
	while (!bpf_prog_get_next_id(id, &id)) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			struct bpf_program *p;
			bpf_object__for_each_program(p, obj) {
				struct bpf_prog_info mine;
				__u32 l2 = sizeof(mine);
				memset(&mine, 0, sizeof(mine));
				if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &mine, &l2) && mine.id == info.id)
					found++;
			}
		}
		close(fd);
	}
	printf("prog ids walk: found %u of ours\n", found);
}

static const char *pin_root;

static int open_load(const char *path, struct bpf_object **objp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);
	if (!obj) {
		printf("open: %s\n", en(errno));
		return 1;
	}
	printf("open: ok\n");
	int err = bpf_object__load(obj);
	printf("load: %s\n", err ? en(err) : "ok");
	if (err) {
		bpf_object__close(obj);
		return 1;
	}
	*objp = obj;
	return 0;
}

static int cmd_load(const char *objpath, const char *pindir)
{
	struct bpf_object *obj;
	struct bpf_map *m;
	struct bpf_program *p;
	if (open_load(objpath, &obj))
		return 1;
	bpf_object__for_each_map(m, obj)
		show_map(m);
	bpf_object__for_each_program(p, obj)
		show_prog(p);
	globals(obj);
	maps_rw(obj);
	prog_ids(obj);

	struct bpf_map *shared = bpf_object__find_map_by_name(obj, "shared");
	const char *pp = bpf_map__pin_path(shared);
	printf("shared pinned: %s at %s\n", bpf_map__is_pinned(shared) ? "yes" : "no",
	       pp && !strncmp(pp, pin_root, strlen(pin_root)) ? pp + strlen(pin_root) : "?");
	__u32 k = 1, v = 77;
	int err = bpf_map__update_elem(shared, &k, sizeof(k), &v, sizeof(v), 0);
	printf("shared[1] = 77: %s\n", err ? en(err) : "ok");

	err = bpf_object__pin_maps(obj, pindir);
	printf("pin_maps: %s\n", err ? en(err) : "ok");
	char path[256];
	snprintf(path, sizeof(path), "%s/xdp_count", pindir);
	err = bpf_program__pin(bpf_object__find_program_by_name(obj, "xdp_count"), path);
	printf("pin xdp_count: %s\n", err ? en(err) : "ok");
	int fd = bpf_obj_get(path);
	struct bpf_prog_info a, b;
	__u32 la = sizeof(a), lb = sizeof(b);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	bpf_obj_get_info_by_fd(fd, &a, &la);
	bpf_obj_get_info_by_fd(bpf_program__fd(bpf_object__find_program_by_name(obj, "xdp_count")), &b, &lb);
	printf("obj_get prog: %s same id %s type %u\n", fd < 0 ? en(errno) : "ok", a.id == b.id ? "yes" : "no", a.type);
	if (fd >= 0)
		close(fd);
	bpf_object__close(obj);
	return 0;
}

static int cmd_reuse(const char *objpath)
{
	struct bpf_object *obj;
	if (open_load(objpath, &obj))
		return 1;
	struct bpf_map *shared = bpf_object__find_map_by_name(obj, "shared");
	__u32 k = 1, v = 0;
	int err = bpf_map__lookup_elem(shared, &k, sizeof(k), &v, sizeof(v), 0);
	printf("reused shared[1]: %s %u\n", err ? en(err) : "ok", v);
	bpf_object__close(obj);
	return 0;
}

static int cmd_read(const char *pindir)
{
	static const char *const names[] = { "counts", "stats", "shared", "outer", "jmp", "progs_bss", "progs_data",
					     "progs_rodata", "xdp_count" };
	char path[256];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pindir, names[i]);
		int fd = bpf_obj_get(path);
		if (fd < 0) {
			printf("get %s: %s\n", names[i], en(errno));
			continue;
		}
		printf("get %s: ok\n", names[i]);
		__u32 z = 0;
		if (!strcmp(names[i], "progs_bss")) {
			struct bss b;
			int err = bpf_map_lookup_elem(fd, &z, &b);
			printf("  counter %llu (%s)\n", (unsigned long long)b.counter, err ? en(errno) : "ok");
			void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (mem != MAP_FAILED) {
				((struct bss *)mem)->counter++;
				munmap(mem, 4096);
				bpf_map_lookup_elem(fd, &z, &b);
				printf("  counter after mmap increment %llu\n", (unsigned long long)b.counter);
			} else {
				printf("  mmap %s\n", en(errno));
			}
		} else if (!strcmp(names[i], "counts")) {
			struct { __u32 a; __u32 pad; __u64 b; } v;
			__u32 k = 5;
			int err = bpf_map_lookup_elem(fd, &k, &v);
			printf("  counts[5] %s b %llu\n", err ? en(errno) : "ok", (unsigned long long)v.b);
		}
		close(fd);
	}
	return 0;
}

static int cmd_unpin(const char *objpath, const char *pindir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct bpf_object *obj = bpf_object__open_file(objpath, &opts);
	if (!obj)
		return 1;
	int err = bpf_object__unpin_maps(obj, pindir);
	printf("unpin_maps: %s\n", err ? en(err) : "ok");
	char path[256];
	snprintf(path, sizeof(path), "%s/xdp_count", pindir);
	printf("unlink prog pin: %s\n", unlink(path) ? en(errno) : "ok");
	bpf_object__close(obj);
	return 0;
}

static int cmd_attach(const char *objpath)
{
	struct bpf_object *obj;
	if (open_load(objpath, &obj))
		return 1;
	struct bpf_link *l = bpf_program__attach_xdp(bpf_object__find_program_by_name(obj, "xdp_count"), 1);
	printf("attach xdp lo: %s\n", l ? "ok" : en(errno));
	if (l) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		int err = bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len);
		printf("link info: %s type %u ifindex %u\n", err ? en(errno) : "ok", info.type, info.xdp.ifindex);
		bpf_link__destroy(l);
	}
	bpf_object__close(obj);
	return 0;
}

static void probe_link(const char *what, struct bpf_link *l, int err)
{
	printf("attach %s: %s\n", what, l ? "ok" : en(err));
	if (!l)
		return;
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	int e = bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len);
	printf("%s link info: %s type %u prog matches %s\n", what, e ? en(errno) : "ok", info.type,
	       info.prog_id ? "yes" : "no");
}

static int cmd_probes(const char *objpath)
{
	struct bpf_object *obj;
	if (open_load(objpath, &obj))
		return 1;
	struct bpf_link *tp = bpf_program__attach(bpf_object__find_program_by_name(obj, "tp_nanosleep"));
	int tp_err = errno;
	probe_link("tracepoint syscalls/sys_enter_nanosleep", tp, tp_err);
	struct bpf_link *kp = bpf_program__attach_kprobe(bpf_object__find_program_by_name(obj, "kp_nanosleep"), false,
							 "do_nanosleep");
	int kp_err = errno;
	probe_link("kprobe do_nanosleep", kp, kp_err);
	const char *show = getenv("LOADER_SHOW");
	if (show && (tp || kp))
		printf("show: exit %d\n", system(show));
	int tp_d = tp ? bpf_link__destroy(tp) : 0, kp_d = kp ? bpf_link__destroy(kp) : 0;
	printf("destroy: tracepoint %s kprobe %s\n", !tp ? "none" : tp_d ? en(tp_d) : "ok",
	       !kp ? "none" : kp_d ? en(kp_d) : "ok");
	bpf_object__close(obj);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ PINDIR load|reuse|read|unpin|attach|probes\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	const char *cmd = argv[3];
	pin_root = argv[2];
	if (!strcmp(cmd, "load"))
		return cmd_load(argv[1], argv[2]);
	if (!strcmp(cmd, "reuse"))
		return cmd_reuse(argv[1]);
	if (!strcmp(cmd, "read"))
		return cmd_read(argv[2]);
	if (!strcmp(cmd, "unpin"))
		return cmd_unpin(argv[1], argv[2]);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(argv[1]);
	if (!strcmp(cmd, "probes"))
		return cmd_probes(argv[1]);
	return 2;
}
