/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/repin.c: pin, remove the pin by hand, pin the same fd
 * again. The kernel lets a pinned object be pinned again once its pin is
 * gone (a new name in bpffs); Linux refuses to link a file that lost its
 * last link, so the emulator keeps one in limbo (emu_unpin_prepare). Prints
 * one line per step, to be compared with the kernel's.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void step(const char *what, int r)
{
	printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static __u32 id_of(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/sys/fs/bpf";
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/repin_a", dir);
	snprintf(b, sizeof(b), "%s/repin_b", dir);
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "repin", 4, 8, 4, NULL);
	step("create", fd);
	__u32 k = 1;
	__u64 v = 42;
	step("update key 1 = 42", bpf_map_update_elem(fd, &k, &v, 0));
	step("pin a", bpf_obj_pin(fd, a));
	step("unlink a", unlink(a));
	step("pin a again", bpf_obj_pin(fd, a));
	step("pin b", bpf_obj_pin(fd, b));
	step("unlink a", unlink(a));
	step("unlink b", unlink(b));
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	step("pin b again", bpf_obj_pin(fd, b));
	step("unlinkat(dir, b)", unlinkat(d, "repin_b", 0));
	step("pin b once more", bpf_obj_pin(fd, b));
	int g = bpf_obj_get(b);
	step("get b", g);
	v = 0;
	step("lookup key 1 through the new pin", bpf_map_lookup_elem(g, &k, &v));
	printf("value %llu, same map: %s\n", (unsigned long long)v, id_of(g) == id_of(fd) ? "yes" : "no");
	step("unlink b", unlink(b));
	step("unlink b (gone)", unlink(b));

	/* a rename onto a pin unpins the object that was there */
	char c[256];
	snprintf(c, sizeof(c), "%s/repin_c", dir);
	int fd2 = bpf_map_create(BPF_MAP_TYPE_ARRAY, "repin2", 4, 8, 4, NULL);
	step("create a second map", fd2);
	step("pin the first at a", bpf_obj_pin(fd, a));
	step("pin the second at c", bpf_obj_pin(fd2, c));
	step("rename c onto a", rename(c, a));
	step("pin the first at c again", bpf_obj_pin(fd, c));
	g = bpf_obj_get(a);
	printf("a is the second map: %s\n", id_of(g) == id_of(fd2) ? "yes" : "no");
	close(g);
	step("unlink a", unlink(a));
	step("unlink c", unlink(c));
	close(fd2);
	close(d);
	close(g);
	close(fd);
	return 0;
}
