/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/perm_helper.c: one bpf() step per run for perms.sh,
 * printing errno names so transcripts compare across users and modes.
 *
 *   pin PATH            create a hash map (key 4, value 8, 4 entries), pin it: "pin=OK|EXXX"
 *   get PATH rw|ro|wo   OBJ_GET with those file_flags, then update and lookup key 1
 *                       through the fd: "get=OK update=OK|EXXX lookup=OK|EXXX"
 */
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
	fprintf(stderr, "usage: perm_helper pin PATH | get PATH rw|ro|wo\n");
	return 2;
}
