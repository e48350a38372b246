/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/perm_helper.c: one bpf() step per run for perms.sh,
 * printing errno names so transcripts compare across users and modes.
 *
 *   pin PATH            create a hash map (key 4, value 8, 4 entries), pin it: "pin=OK|EXXX"
 *   get PATH rw|ro|wo   OBJ_GET with those file_flags, then update and lookup key 1
 *                       through the fd: "get=OK update=OK|EXXX lookup=OK|EXXX"
 *   read PATH           OBJ_GET read-only, then every read path and the writes that
 *                       must fail: "next=.. lookup=.. batch=N update=.. delete=.. freeze=..
 *                       info=.. fdinfo=.."
 *   path PATH...        for each PATH: stat, open (O_RDONLY), mkdir, pin and get (the
 *                       map created for pin), one "op=OK|EXXX" word each, a line per PATH
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

static const char *e(int r)
{
	return r < 0 ? strerrorname_np(errno) : "OK";
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "pin")) {
		int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "perm", 4, 8, 4, NULL);
		if (fd < 0) {
			printf("create=%s\n", e(fd));
			return 0;
		}
		printf("pin=%s\n", e(bpf_obj_pin(fd, argv[2])));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "get")) {
		LIBBPF_OPTS(bpf_obj_get_opts, o);
		o.file_flags = !strcmp(argv[3], "ro") ? BPF_F_RDONLY : !strcmp(argv[3], "wo") ? BPF_F_WRONLY : 0;
		int fd = bpf_obj_get_opts(argv[2], &o);
		if (fd < 0) {
			printf("get=%s\n", e(fd));
			return 0;
		}
		__u32 k = 1;
		__u64 v = 42;
		int u = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
		const char *us = e(u);
		int l = bpf_map_lookup_elem(fd, &k, &v);
		printf("get=OK update=%s lookup=%s\n", us, e(l));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "read")) {
		LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
		int fd = bpf_obj_get_opts(argv[2], &o);
		if (fd < 0) {
			printf("get=%s\n", e(fd));
			return 0;
		}
		__u32 k, keys[8], n = 8, out;
		__u64 v, vals[8];
		printf("next=%s", e(bpf_map_get_next_key(fd, NULL, &k)));
		printf(" lookup=%s", e(bpf_map_lookup_elem(fd, &k, &v)));
		int r = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &n, NULL);
		if (r < 0 && errno != ENOENT)
			printf(" batch=%s", e(r));
		else
			printf(" batch=%u", n);
		v = 7;
		printf(" update=%s", e(bpf_map_update_elem(fd, &k, &v, BPF_ANY)));
		printf(" delete=%s", e(bpf_map_delete_elem(fd, &k)));
		printf(" freeze=%s", e(bpf_map_freeze(fd)));
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		r = bpf_obj_get_info_by_fd(fd, &info, &len);
		printf(" info=%s", r < 0 ? e(r) : info.type == BPF_MAP_TYPE_HASH ? "OK" : "wrong");
		char path[64], buf[512] = "";
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		FILE *f = fopen(path, "r");
		size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[got] = 0;
		if (f)
			fclose(f);
		printf(" fdinfo=%s\n", strstr(buf, "map_type:\t1\n") ? "OK" : "missing");
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "path")) {
		int map = bpf_map_create(BPF_MAP_TYPE_HASH, "perm", 4, 8, 4, NULL);
		for (int i = 2; i < argc; i++) {
			struct stat st;
			const char *p = argv[i];
			printf("stat=%s", e(stat(p, &st)));
			int fd = open(p, O_RDONLY);
			printf(" open=%s", e(fd));
			if (fd >= 0)
				close(fd);
			printf(" mkdir=%s", e(mkdir(p, 0755)));
			printf(" pin=%s", e(bpf_obj_pin(map, p)));
			fd = bpf_obj_get(p);
			printf(" get=%s\n", e(fd));
			if (fd >= 0)
				close(fd);
		}
		return 0;
	}
	fprintf(stderr, "usage: perm_helper pin PATH | get PATH rw|ro|wo\n");
	return 2;
}
