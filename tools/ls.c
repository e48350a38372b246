/* SPDX-License-Identifier: MIT */
/*
 * tools/ls.c: `bpfemu ls [PATH] [--json]`: a bpffs (the fake one under the
 * shim, a real one as root) as a tree. Every object is opened with
 * BPF_OBJ_GET and described by BPF_OBJ_GET_INFO_BY_FD; a map's entry count
 * comes from walking it with BPF_MAP_GET_NEXT_KEY and its frozen state from
 * /proc/self/fdinfo, as bpftool reads it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools.h"

#define MAX_DEPTH 64

enum kind { K_DIR, K_MAP, K_PROG, K_LINK, K_OTHER };

struct node {
	char name[NAME_MAX + 1];
	char path[PATH_MAX];
	enum kind kind;
	int err;                 /* -errno opening or describing it */
	const char *err_what;
	__u32 type, id, key_size, value_size, max_entries, map_flags, insns;
	char objname[BPF_OBJ_NAME_LEN];
	long long entries;       /* -1: the map cannot be walked */
	int frozen;              /* -1: unknown */
	struct node *kids;
	size_t nkids;
};

static const char *kind_name(enum kind k)
{
	static const char *const n[] = { "dir", "map", "prog", "link", "?" };
	return n[k];
}

static enum kind fd_kind(int fd)
{
	char p[64], l[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return K_OTHER;
	l[n] = '\0';
	if (!strcmp(l, "anon_inode:bpf-map"))
		return K_MAP;
	if (!strcmp(l, "anon_inode:bpf-prog"))
		return K_PROG;
	if (!strcmp(l, "anon_inode:bpf-link"))
		return K_LINK;
	return K_OTHER;
}

static int obj_get(const char *path, __u32 flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	a.file_flags = flags;
	return (int)tool_bpf(BPF_OBJ_GET, &a, sizeof(a));
}

static int get_info(int fd, void *info, __u32 len)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	memset(info, 0, len);
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = len;
	a.info.info = (__u64)(unsigned long)info;
	return (int)tool_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
}

static long long count_entries(int fd, __u32 key_size, __u32 max_entries)
{
	unsigned char *k = malloc(key_size ? key_size : 1), *next = malloc(key_size ? key_size : 1);
	union bpf_attr a;
	long long n = 0;
	bool first = true;

	if (!k || !next) {
		free(k);
		free(next);
		return -1;
	}
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (__u32)fd;
		a.key = first ? 0 : (__u64)(unsigned long)k;
		a.next_key = (__u64)(unsigned long)next;
		long r = tool_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a));

		if (r < 0) {
			/* ENOENT ends the walk; anything else: not walkable */
			if (r != -ENOENT)
				n = -1;
			break;
		}
		first = false;
		memcpy(k, next, key_size);
		/* a hash map changing under us could loop: stop past any sane count */
		if (++n > (long long)max_entries * 2 + 16)
			break;
	}
	free(k);
	free(next);
	return n;
}

static int read_frozen(int fd)
{
	char p[64], line[256];
	FILE *f;
	int v = -1;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "frozen: %d", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void describe(struct node *n)
{
	int fd = obj_get(n->path, 0);

	if (fd == -EACCES || fd == -EPERM)
		fd = obj_get(n->path, BPF_F_RDONLY);
	if (fd < 0) {
		n->kind = K_OTHER;
		n->err = fd;
		n->err_what = "BPF_OBJ_GET";
		return;
	}
	n->kind = fd_kind(fd);
	n->entries = -1;
	n->frozen = -1;
	if (n->kind == K_MAP) {
		struct bpf_map_info mi;

		n->err = get_info(fd, &mi, sizeof(mi));
		if (!n->err) {
			n->type = mi.type;
			n->id = mi.id;
			n->key_size = mi.key_size;
			n->value_size = mi.value_size;
			n->max_entries = mi.max_entries;
			n->map_flags = mi.map_flags;
			memcpy(n->objname, mi.name, sizeof(n->objname));
			n->entries = count_entries(fd, mi.key_size, mi.max_entries);
			n->frozen = read_frozen(fd);
		}
	} else if (n->kind == K_PROG) {
		struct bpf_prog_info pi;

		n->err = get_info(fd, &pi, sizeof(pi));
		if (!n->err) {
			n->type = pi.type;
			n->id = pi.id;
			n->insns = pi.xlated_prog_len / 8;
			memcpy(n->objname, pi.name, sizeof(n->objname));
		}
	} else if (n->kind == K_LINK) {
		struct bpf_link_info li;

		n->err = get_info(fd, &li, sizeof(li));
		if (!n->err) {
			n->type = li.type;
			n->id = li.id;
		}
	}
	if (n->err)
		n->err_what = "BPF_OBJ_GET_INFO_BY_FD";
	n->objname[sizeof(n->objname) - 1] = '\0';
	close(fd);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

static void build(struct node *n, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	size_t cap = 0;

	if (lstat(n->path, &st)) {
		n->kind = K_OTHER;
		n->err = -errno;
		n->err_what = "stat";
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		describe(n);
		return;
	}
	n->kind = K_DIR;
	if (depth >= MAX_DEPTH)
		return;
	d = opendir(n->path);
	if (!d) {
		n->err = -errno;
		n->err_what = "opendir";
		return;
	}
	while ((e = readdir(d))) {
		struct node *k;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* bpf_preload's entries in a bpffs root (the kernel's and ours): no pins */
		if (depth == 0 && (!strcmp(e->d_name, "maps.debug") || !strcmp(e->d_name, "progs.debug")))
			continue;
		if (n->nkids == cap) {
			struct node *nk = realloc(n->kids, (cap = cap ? 2 * cap : 8) * sizeof(*nk));

			if (!nk)
				break;
			n->kids = nk;
		}
		k = &n->kids[n->nkids++];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%s", e->d_name);
		if ((size_t)snprintf(k->path, sizeof(k->path), "%s/%s", strcmp(n->path, "/") ? n->path : "",
				     e->d_name) >= sizeof(k->path)) {
			k->kind = K_OTHER;
			k->err = -ENAMETOOLONG;
			k->err_what = "path";
		}
	}
	closedir(d);
	qsort(n->kids, n->nkids, sizeof(*n->kids), by_name);
	for (size_t i = 0; i < n->nkids; i++)
		if (!n->kids[i].err)
			build(&n->kids[i], depth + 1);
}

static void free_tree(struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		free_tree(&n->kids[i]);
	free(n->kids);
}

static void type_str(const struct node *n, char *buf, size_t len)
{
	const char *s = n->kind == K_MAP ? tool_map_type_name(n->type)
		      : n->kind == K_PROG ? tool_prog_type_name(n->type) : NULL;

	if (s)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%u", n->type);
}

static void print_line(const struct node *n)
{
	char t[32];

	if (n->err && n->kind == K_OTHER && !strcmp(n->err_what, "BPF_OBJ_GET")) {
		/* e.g. a kernel bpffs's maps.debug: a file, not a pinned object */
		printf("  file, not a bpf object (BPF_OBJ_GET: %s)\n", strerror(-n->err));
		return;
	}
	if (n->err) {
		printf("  error: %s: %s\n", n->err_what, strerror(-n->err));
		return;
	}
	type_str(n, t, sizeof(t));
	switch (n->kind) {
	case K_DIR:
		printf("/\n");
		break;
	case K_MAP:
		printf("  map %s id=%u name=%s key=%u value=%u max_entries=%u flags=0x%x entries=", t, n->id,
		       n->objname, n->key_size, n->value_size, n->max_entries, n->map_flags);
		if (n->entries >= 0)
			printf("%lld", n->entries);
		else
			printf("-");
		printf("%s\n", n->frozen == 1 ? " frozen" : "");
		break;
	case K_PROG:
		printf("  prog %s id=%u name=%s insns=%u\n", t, n->id, n->objname, n->insns);
		break;
	case K_LINK:
		printf("  link type=%u id=%u\n", n->type, n->id);
		break;
	default:
		printf("  ?\n");
	}
}

static void print_tree(const struct node *n, const char *prefix)
{
	char sub[4 * MAX_DEPTH + 8];

	for (size_t i = 0; i < n->nkids; i++) {
		bool last = i + 1 == n->nkids;

		printf("%s%s%s", prefix, last ? "`-- " : "|-- ", n->kids[i].name);
		print_line(&n->kids[i]);
		if (n->kids[i].kind == K_DIR && strlen(prefix) + 5 < sizeof(sub)) {
			snprintf(sub, sizeof(sub), "%s%s", prefix, last ? "    " : "|   ");
			print_tree(&n->kids[i], sub);
		}
	}
}

static void print_json(const struct node *n)
{
	char t[32];

	printf("{\"name\":");
	tool_json_str(stdout, n->name);
	printf(",\"path\":");
	tool_json_str(stdout, n->path);
	printf(",\"kind\":\"%s\"", n->kind == K_OTHER && n->err && !strcmp(n->err_what, "BPF_OBJ_GET")
	       ? "file" : kind_name(n->kind));
	if (n->err) {
		printf(",\"error\":");
		tool_json_str(stdout, strerror(-n->err));
		printf(",\"errno\":%d", -n->err);
	} else if (n->kind == K_DIR) {
		printf(",\"children\":[");
		for (size_t i = 0; i < n->nkids; i++) {
			if (i)
				printf(",");
			print_json(&n->kids[i]);
		}
		printf("]");
	} else if (n->kind != K_OTHER) {
		type_str(n, t, sizeof(t));
		printf(",\"type\":");
		tool_json_str(stdout, t);
		printf(",\"id\":%u", n->id);
		if (n->kind != K_LINK) {
			printf(",\"obj_name\":");
			tool_json_str(stdout, n->objname);
		}
		if (n->kind == K_MAP) {
			printf(",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,\"map_flags\":%u,\"entries\":",
			       n->key_size, n->value_size, n->max_entries, n->map_flags);
			if (n->entries >= 0)
				printf("%lld", n->entries);
			else
				printf("null");
			printf(",\"frozen\":%s", n->frozen < 0 ? "null" : n->frozen ? "true" : "false");
		} else if (n->kind == K_PROG) {
			printf(",\"insns\":%u", n->insns);
		}
	}
	printf("}");
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct node root;
	bool json = false;
	int opt, ret;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: bpfemu ls [PATH] [--json]\n");
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "bpfemu: ls: unknown option '%s'\nusage: bpfemu ls [PATH] [--json]\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "bpfemu: ls: one PATH only\nusage: bpfemu ls [PATH] [--json]\n");
		return EXIT_USAGE;
	}
	if (tool_ensure_backend(argv))
		return EXIT_FAILURE;

	memset(&root, 0, sizeof(root));
	snprintf(root.path, sizeof(root.path), "%s", optind < argc ? argv[optind] : "/sys/fs/bpf");
	for (size_t l = strlen(root.path); l > 1 && root.path[l - 1] == '/'; l--)
		root.path[l - 1] = '\0';
	/* the root's name is its path, cut to the name field if longer */
	size_t nl = strnlen(root.path, sizeof(root.name) - 1);
	memcpy(root.name, root.path, nl);
	root.name[nl] = '\0';
	build(&root, 0);
	if (root.err == -ENOENT || (root.err && !strcmp(root.err_what, "stat"))) {
		fprintf(stderr, "bpfemu: ls: %s: %s\n", root.path, strerror(-root.err));
		free_tree(&root);
		return EXIT_FAILURE;
	}
	if (json) {
		print_json(&root);
		printf("\n");
	} else {
		printf("%s", root.path);
		print_line(&root);
		print_tree(&root, "");
	}
	ret = root.err ? EXIT_FAILURE : EXIT_SUCCESS;
	free_tree(&root);
	if (fflush(stdout))
		ret = EXIT_FAILURE;
	return ret;
}
