/* SPDX-License-Identifier: MIT */
/*
 * tests/tracing/ext_twin.c: program extensions (BPF_PROG_TYPE_EXT, libbpf's
 * SEC("freplace/FUNC")) as a transcript compared with the kernel's (ext.sh).
 *
 * ext_tgt.o's XDP program calls the global function check(); ext.o's
 * extensions replace it. Load errors (a static function, prototypes that do
 * not match, no target program, an extension of an extension, an
 * expected_attach_type), the attach calls (LINK_CREATE with and without a
 * target, RAW_TRACEPOINT_OPEN, a second extension of the same function),
 * link info, BPF_PROG_TEST_RUN of the target before, while and after an
 * extension replaces check(), and of the extension itself. Ids print as
 * P<n>/L<n> in order of appearance.
 *
 * ext_twin DIR [CMD]: the objects in DIR; CMD runs (sh -c) while the link is
 * attached with $LINK, $TGT and $EXT set to the link's and programs' ids.
 *
 * ext_twin fire DIR CMD (bpfemu only, BPFEMU_ATTACH=inert): ext_fire.o's raw
 * tracepoint program attached to sys_enter, CMD (`bpfemu fire ...`) run
 * before, while and after new_pick() replaces its pick(), and the .bss the
 * program writes (hits, last) printed after each.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *en(int e)
{
	return e == 524 ? "ENOTSUPP" : strerrorname_np(e);
}

static __u32 ids[2][32];
static int nids[2];
enum { PROGS, LINKS };

static int idx(int k, __u32 id)
{
	for (int i = 0; i < nids[k]; i++)
		if (ids[k][i] == id)
			return i + 1;
	ids[k][nids[k]] = id;
	return ++nids[k];
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l; (void)f; (void)ap;
	return 0;
}

static const char *dir;
static char log_buf[65536];

/* XDP test run of prog_fd on a 64-byte packet: "retval N" or the errno */
static void run(const char *what, int fd)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	int r = bpf_prog_test_run_opts(fd, &o);
	if (r)
		printf("test_run %s: %s\n", what, en(errno));
	else
		printf("test_run %s: retval %u\n", what, o.retval);
}

/* the verifier's lines of a failed load, stats and timing dropped */
static void print_log(void)
{
	char *save, *line = strtok_r(log_buf, "\n", &save);
	for (; line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "processed ", 10) && strncmp(line, "verification time", 17))
			printf("  | %s\n", line);
}

/* ext.o with only program NAME loaded, attached (at load) to FUNC of tgt_fd */
static struct bpf_object *load_ext(const char *name, int tgt_fd, const char *func, int *fd)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/ext.o", dir);
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	if (!o) {
		printf("open ext.o: %s\n", en(errno));
		exit(1);
	}
	struct bpf_program *p;
	bpf_object__for_each_program(p, o) {
		bool me = !strcmp(bpf_program__name(p), name);
		bpf_program__set_autoload(p, me);
		if (me) {
			bpf_program__set_attach_target(p, tgt_fd, func);
			log_buf[0] = '\0';
			bpf_program__set_log_buf(p, log_buf, sizeof(log_buf));
			bpf_program__set_log_level(p, 1);
		}
	}
	int err = bpf_object__load(o);
	if (err) {
		printf("load %s -> %s: %s\n", name, func, en(-err));
		print_log();
		bpf_object__close(o);
		*fd = -1;
		return NULL;
	}
	*fd = bpf_program__fd(bpf_object__find_program_by_name(o, name));
	printf("load %s -> %s: P%d\n", name, func, idx(PROGS, prog_id(*fd)));
	return o;
}

/* a raw EXT load of "r0 = 0; exit" without BTF */
static void raw_load(const char *what, __u32 attach_prog_fd, __u32 btf_id, __u32 eat)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	log_buf[0] = '\0';
	LIBBPF_OPTS(bpf_prog_load_opts, o, .attach_prog_fd = attach_prog_fd, .attach_btf_id = btf_id,
		    .expected_attach_type = eat, .log_buf = log_buf, .log_size = sizeof(log_buf), .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_EXT, "raw_ext", "GPL", insns, 2, &o);
	if (fd >= 0) {
		printf("raw %s: P%d\n", what, idx(PROGS, prog_id(fd)));
		close(fd);
		return;
	}
	printf("raw %s: %s\n", what, en(errno));
	print_log();
}

static int link_create(const char *what, int prog_fd, int target_fd, __u32 btf_id, __u32 at)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .target_btf_id = btf_id);
	int fd = bpf_link_create(prog_fd, target_fd, at, &o);
	if (fd < 0) {
		printf("link_create %s: %s\n", what, en(errno));
		return -1;
	}
	struct bpf_link_info li;
	__u32 len = sizeof(li);
	memset(&li, 0, sizeof(li));
	if (bpf_obj_get_info_by_fd(fd, &li, &len)) {
		printf("link_create %s: info: %s\n", what, en(errno));
		return fd;
	}
	printf("link_create %s: L%d type %u prog P%d attach_type %u target_obj P%d target_btf_id %u\n", what,
	       idx(LINKS, li.id), li.type, idx(PROGS, li.prog_id), li.tracing.attach_type,
	       idx(PROGS, li.tracing.target_obj_id), li.tracing.target_btf_id);
	return fd;
}

static void raw_tp(const char *what, int prog_fd)
{
	int fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (fd < 0) {
		printf("raw_tracepoint_open %s: %s\n", what, en(errno));
		return;
	}
	struct bpf_link_info li;
	__u32 len = sizeof(li);
	memset(&li, 0, sizeof(li));
	bpf_obj_get_info_by_fd(fd, &li, &len);
	printf("raw_tracepoint_open %s: L%d type %u target_obj P%d target_btf_id %u\n", what, idx(LINKS, li.id),
	       li.type, idx(PROGS, li.tracing.target_obj_id), li.tracing.target_btf_id);
	close(fd);
}

/* slot 0 of prog array map_fd: prog_fd (or deleted with -1) */
static void prog_array(const char *what, int map_fd, int prog_fd)
{
	__u32 k = 0;
	int r = prog_fd < 0 ? bpf_map_delete_elem(map_fd, &k) : bpf_map_update_elem(map_fd, &k, &prog_fd, BPF_ANY);
	printf("prog array %s: %s\n", what, r ? en(errno) : "ok");
}

/* the first two ints of an object's .bss (ext_fire.o: hits, last; ext.o: calls) */
static void bss(struct bpf_object *o, const char *what)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, o) {
		const char *n = bpf_map__name(m);
		size_t l = strlen(n);
		if (l < 4 || strcmp(n + l - 4, ".bss"))
			continue;
		int v[2] = { 0, 0 };
		__u32 k = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(m), &k, v))
			printf("%s: .bss: %s\n", what, en(errno));
		else if (strstr(n, "ext_fire"))
			printf("%s: hits %d last %d\n", what, v[0], v[1]);
		else
			printf("%s: calls %d\n", what, v[0]);
	}
}

static int fire_mode(const char *cmd)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/ext_fire.o", dir);
	struct bpf_object *t = bpf_object__open_file(path, NULL);
	if (!t || bpf_object__load(t)) {
		printf("load ext_fire.o: %s\n", en(errno));
		return 1;
	}
	struct bpf_program *p = bpf_object__find_program_by_name(t, "fire_main");
	int tgt = bpf_program__fd(p);
	struct bpf_link *rt = bpf_program__attach_raw_tracepoint(p, "sys_enter");
	printf("fire_main on sys_enter: %s\n", rt ? "ok" : en(errno));
	int fd;
	load_ext("new_pick_7", tgt, "pick", &fd);
	struct bpf_object *o = load_ext("new_pick", tgt, "pick", &fd);
	if (!o || !rt)
		return 1;
	fflush(stdout);
	if (system(cmd))
		printf("cmd failed\n");
	bss(t, "fired");
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(fd, &info, &ilen);
	int l = link_create("new_pick", fd, tgt, info.attach_btf_id, 0);
	fflush(stdout);
	if (system(cmd))
		printf("cmd failed\n");
	bss(t, "fired, new_pick attached");
	bss(o, "new_pick's");
	if (l >= 0)
		close(l);
	fflush(stdout);
	if (system(cmd))
		printf("cmd failed\n");
	bss(t, "fired, new_pick detached");
	bpf_link__destroy(rt);
	bpf_object__close(o);
	bpf_object__close(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "fire")) {
		dir = argv[2];
		libbpf_set_print(quiet);
		setvbuf(stdout, NULL, _IOLBF, 0);
		return fire_mode(argv[3]);
	}
	if (argc < 2) {
		fprintf(stderr, "usage: ext_twin DIR [CMD]\n");
		return 2;
	}
	dir = argv[1];
	libbpf_set_print(quiet);
	setvbuf(stdout, NULL, _IOLBF, 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/ext_tgt.o", dir);
	struct bpf_object *t = bpf_object__open_file(path, NULL);
	/* libbpf gives SEC("xdp") expected_attach_type BPF_XDP, which an extension
	 * takes over from its target; a link of an extension wants 0 */
	if (t)
		bpf_program__set_expected_attach_type(bpf_object__find_program_by_name(t, "xdp_main"), 0);
	if (!t || bpf_object__load(t)) {
		printf("load ext_tgt.o: %s\n", en(errno));
		return 1;
	}
	int tgt = bpf_program__fd(bpf_object__find_program_by_name(t, "xdp_main"));
	printf("target xdp_main: P%d\n", idx(PROGS, prog_id(tgt)));
	run("target", tgt);

	/* load errors */
	int fd, fd2;
	struct bpf_object *o;
	load_ext("new_quiet", tgt, "quiet", &fd);
	load_ext("bad_args", tgt, "check", &fd);
	load_ext("bad_arg0", tgt, "check", &fd);
	load_ext("new_check", tgt, "two", &fd);
	load_ext("check_grows", tgt, "check", &fd);
	raw_load("no target, no btf id", 0, 0, 0);
	raw_load("no target, btf id 1", 0, 1, 0);
	raw_load("target, btf id 1 (no function)", (__u32)tgt, 1, 0);

	/* two() replaced: the target's result moves by 2 */
	struct bpf_object *o2 = load_ext("new_two", tgt, "two", &fd2);
	o = load_ext("new_check", tgt, "check", &fd);
	if (!o || !o2)
		return 1;
	int ext2;
	struct bpf_object *o3 = load_ext("other_check", tgt, "check", &ext2);
	/* an extension of an extension */
	struct bpf_object *o4 = load_ext("new_check", fd, "new_check", &fd2);
	if (o4)
		bpf_object__close(o4);
	run("extension", fd);
	run("target, nothing attached", tgt);

	/* attach: RAW_TRACEPOINT_OPEN (the load's target), LINK_CREATE */
	__s32 btf_check = -1;
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(fd, &info, &ilen);
	btf_check = (__s32)info.attach_btf_id;
	raw_load("without func_info", (__u32)tgt, (__u32)btf_check, 0);
	raw_load("expected_attach_type 37", (__u32)tgt, (__u32)btf_check, 37);
	printf("extension info: type %u attach_btf_id %s attach_btf_obj_id %u\n", info.type,
	       btf_check > 0 ? "check's" : "0", info.attach_btf_obj_id);
	link_create("target without btf id", fd, tgt, 0, 0);
	link_create("btf id without target", fd, 0, (__u32)btf_check, 0);
	int l1 = bpf_raw_tracepoint_open(NULL, fd);
	if (l1 < 0)
		printf("raw_tracepoint_open new_check: %s\n", en(errno));
	else
		printf("raw_tracepoint_open new_check: ok\n");
	run("target, new_check attached", tgt);
	run("target again", tgt);
	link_create("other_check, same function", ext2, tgt, (__u32)btf_check, 0);
	raw_tp("new_check again", fd);
	link_create("new_check again, same target", fd, tgt, (__u32)btf_check, 0);
	if (argc > 2 && l1 >= 0) {
		struct bpf_link_info li;
		__u32 len = sizeof(li);
		memset(&li, 0, sizeof(li));
		bpf_obj_get_info_by_fd(l1, &li, &len);
		printf("link L%d type %u attach_type %u target_obj P%d target_btf_id %s\n", idx(LINKS, li.id),
		       li.type, li.tracing.attach_type, idx(PROGS, li.tracing.target_obj_id),
		       (__s32)li.tracing.target_btf_id == btf_check ? "check's" : "other");
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "LINK=%u TGT=%u EXT=%u; %s", li.id, prog_id(tgt), prog_id(fd), argv[2]);
		fflush(stdout);
		if (system(cmd))
			printf("cmd failed\n");
	}
	if (l1 >= 0 && bpf_link_detach(l1))
		printf("link_detach: %s\n", en(errno));
	if (l1 >= 0)
		close(l1);
	run("target, link closed", tgt);
	raw_tp("new_check after detach", fd);
	/* a tail call's target cannot be extended, an extended program not be one */
	int pa = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "ext_pa", 4, 4, 1, NULL);
	if (pa < 0)
		printf("prog array: %s\n", en(errno));
	prog_array("target in", pa, tgt);
	link_create("new_check, target in a prog array", fd, tgt, (__u32)btf_check, 0);
	prog_array("target out", pa, -1);
	int l2 = link_create("new_check with target", fd, tgt, (__u32)btf_check, 0);
	run("target, new_check attached by LINK_CREATE", tgt);
	prog_array("extended target in", pa, tgt);
	close(pa);
	/* the target program closed: the link holds it */
	__u32 tgt_id = prog_id(tgt);
	bpf_object__close(t);
	int again = bpf_prog_get_fd_by_id(tgt_id);
	printf("target closed, by id: %s\n", again < 0 ? en(errno) : "ok");
	if (again >= 0) {
		run("target by id, new_check attached", again);
		close(again);
	}
	if (l2 >= 0)
		close(l2);
	printf("link closed\n");
	again = bpf_prog_get_fd_by_id(tgt_id);
	printf("target by id: %s\n", again < 0 ? en(errno) : "ok");
	if (again >= 0)
		close(again);
	bpf_object__close(o);
	bpf_object__close(o2);
	if (o3)
		bpf_object__close(o3);

	/* a new target: LINK_CREATE's attach_type is the link's; the main function replaced */
	t = bpf_object__open_file(path, NULL);
	if (t)
		bpf_program__set_expected_attach_type(bpf_object__find_program_by_name(t, "xdp_main"), 0);
	if (!t || bpf_object__load(t)) {
		printf("load ext_tgt.o again: %s\n", en(errno));
		return 1;
	}
	tgt = bpf_program__fd(bpf_object__find_program_by_name(t, "xdp_main"));
	printf("target xdp_main: P%d\n", idx(PROGS, prog_id(tgt)));
	o = load_ext("new_check", tgt, "check", &fd);
	o2 = load_ext("new_main", tgt, "xdp_main", &fd2);
	if (!o || !o2)
		return 1;
	memset(&info, 0, sizeof(info));
	ilen = sizeof(info);
	bpf_obj_get_info_by_fd(fd2, &info, &ilen);
	l1 = link_create("new_check, attach_type 37", fd, tgt, (__u32)btf_check, 37);
	run("target, new_check attached", tgt);
	int fd3;
	struct bpf_object *o5 = load_ext("new_grow", tgt, "grow", &fd3);
	if (o5) {
		int l3 = bpf_raw_tracepoint_open(NULL, fd3);
		printf("raw_tracepoint_open new_grow: %s\n", l3 < 0 ? en(errno) : "ok");
		run("target, new_check and new_grow attached", tgt);
		if (l3 >= 0)
			close(l3);
		bpf_object__close(o5);
	}
	l2 = link_create("new_main", fd2, tgt, info.attach_btf_id, 0);
	run("target, xdp_main replaced", tgt);
	close(l2);
	run("target, new_main detached", tgt);
	close(l1);
	run("target, new_check detached", tgt);
	bpf_object__close(o);
	bpf_object__close(o2);
	bpf_object__close(t);

	/* a target whose expected_attach_type is BPF_XDP (libbpf's for SEC("xdp")):
	 * its extension takes it over, and an extension's link wants 0 */
	t = bpf_object__open_file(path, NULL);
	if (!t || bpf_object__load(t)) {
		printf("load ext_tgt.o with BPF_XDP: %s\n", en(errno));
		return 1;
	}
	tgt = bpf_program__fd(bpf_object__find_program_by_name(t, "xdp_main"));
	printf("target xdp_main (BPF_XDP): P%d\n", idx(PROGS, prog_id(tgt)));
	o = load_ext("new_check", tgt, "check", &fd);
	if (!o)
		return 1;
	raw_tp("new_check of a BPF_XDP target", fd);
	link_create("new_check of a BPF_XDP target", fd, tgt, (__u32)btf_check, 0);
	run("BPF_XDP target", tgt);
	bpf_object__close(o);
	bpf_object__close(t);

	/* an extension holds the target it was loaded with until its first attach */
	t = bpf_object__open_file(path, NULL);
	if (t)
		bpf_program__set_expected_attach_type(bpf_object__find_program_by_name(t, "xdp_main"), 0);
	if (!t || bpf_object__load(t)) {
		printf("load ext_tgt.o again: %s\n", en(errno));
		return 1;
	}
	tgt = bpf_program__fd(bpf_object__find_program_by_name(t, "xdp_main"));
	tgt_id = prog_id(tgt);
	printf("target xdp_main: P%d\n", idx(PROGS, tgt_id));
	o = load_ext("new_check", tgt, "check", &fd);
	if (!o)
		return 1;
	bpf_object__close(t);
	again = bpf_prog_get_fd_by_id(tgt_id);
	printf("target closed, extension not attached, by id: %s\n", again < 0 ? en(errno) : "ok");
	l1 = bpf_raw_tracepoint_open(NULL, fd);
	printf("raw_tracepoint_open new_check: %s\n", l1 < 0 ? en(errno) : "ok");
	if (again >= 0) {
		run("target by id, new_check attached", again);
		close(again);
	}
	if (l1 >= 0)
		close(l1);
	again = bpf_prog_get_fd_by_id(tgt_id);
	printf("link closed, target by id: %s\n", again < 0 ? en(errno) : "ok");
	if (again >= 0)
		close(again);
	bpf_object__close(o);
	return 0;
}
