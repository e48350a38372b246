/* SPDX-License-Identifier: MIT */
/*
 * tools/reset.c: `bpfemu reset [--root DIR] [--yes]`: removes the state root
 * (every emulated map, pin and id counter) after confirmation. Without --yes
 * it asks on a terminal and refuses when stdin is not one. It removes only a
 * directory that looks like a state root (empty, or holding bpfemu's own
 * entries), so a mistyped BPFEMU_ROOT cannot wipe an unrelated directory.
 * Processes that still hold map fds keep their (unlinked) maps until they
 * close them.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT) {
		fprintf(stderr, "bpfemu: reset: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 if it looks like a state root (holds "ids", "bpffs" or "objs", or is empty), 0 if not, -errno */
static int looks_like_root(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ours = false, empty = true;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		empty = false;
		if (!strcmp(e->d_name, "ids") || !strcmp(e->d_name, "bpffs") || !strcmp(e->d_name, "objs"))
			ours = true;
	}
	closedir(d);
	return ours || empty;
}

static size_t reset_npins;   /* nftw callbacks take no context */

static int count_pin(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	/* bpf_preload's entries in the bpffs root are no pins */
	if (ftw->level == 1 && (!strcmp(path + ftw->base, "maps.debug") || !strcmp(path + ftw->base, "progs.debug")))
		return 0;
	if (flag == FTW_F)
		reset_npins++;
	return 0;
}

int cmd_reset(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: bpfemu reset [--root DIR] [--yes]\n";
	char root[PATH_MAX], bpffs[PATH_MAX + 8];
	struct stat st;
	bool yes = false;
	int opt, r;

	root[0] = '\0';
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":hy", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			snprintf(root, sizeof(root), "%s", optarg);
			break;
		case 'y':
			yes = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_SUCCESS;
		case ':':
			fprintf(stderr, "bpfemu: reset: option %s needs an argument\n%s", argv[optind - 1], usage);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "bpfemu: reset: unknown option '%s'\n%s", argv[optind - 1], usage);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bpfemu: reset: unexpected argument '%s'\n%s", argv[optind], usage);
		return EXIT_USAGE;
	}
	if (!root[0])
		tool_state_root(root, sizeof(root));

	if (lstat(root, &st)) {
		if (errno == ENOENT) {
			printf("bpfemu: reset: %s does not exist: nothing to remove\n", root);
			return EXIT_SUCCESS;
		}
		fprintf(stderr, "bpfemu: reset: %s: %s\n", root, strerror(errno));
		return EXIT_FAILURE;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "bpfemu: reset: %s is not a directory\n", root);
		return EXIT_FAILURE;
	}
	r = looks_like_root(root);
	if (r < 0) {
		fprintf(stderr, "bpfemu: reset: %s: %s\n", root, strerror(-r));
		return EXIT_FAILURE;
	}
	if (!r) {
		fprintf(stderr, "bpfemu: reset: %s does not look like a bpfemu state root (no ids, bpffs or "
			"objs in it): not removing it\n", root);
		return EXIT_FAILURE;
	}
	snprintf(bpffs, sizeof(bpffs), "%s/bpffs", root);
	reset_npins = 0;
	if (access(bpffs, F_OK) == 0)
		nftw(bpffs, count_pin, 16, FTW_PHYS);

	if (!yes) {
		char answer[16];

		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, "bpfemu: reset: stdin is not a terminal: pass --yes to remove %s\n", root);
			return EXIT_USAGE;
		}
		fprintf(stderr, "Remove the bpfemu state root %s (%zu pin%s and every emulated map)? [y/N] ",
			root, reset_npins, reset_npins == 1 ? "" : "s");
		if (!fgets(answer, sizeof(answer), stdin) ||
		    (strcmp(answer, "y\n") && strcmp(answer, "yes\n") && strcmp(answer, "Y\n"))) {
			fprintf(stderr, "bpfemu: reset: not removed\n");
			return EXIT_FAILURE;
		}
	}
	if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS)) {
		fprintf(stderr, "bpfemu: reset: %s was not removed completely\n", root);
		return EXIT_FAILURE;
	}
	printf("bpfemu: reset: removed %s (%zu pin%s)\n", root, reset_npins, reset_npins == 1 ? "" : "s");
	return EXIT_SUCCESS;
}
