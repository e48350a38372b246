/* SPDX-License-Identifier: MIT */
/*
 * tools/record.c: `bpfemu record -o LOG [-s SIZE] [--root DIR] [--log CATS] [--] CMD [ARG...]`
 * runs CMD under the shim with BPFEMU_TRACE=LOG (emptied first), so LOG holds
 * one strace-style line per bpf() call with the data strace cannot show
 * (-s SIZE: strings and BTF cut where `strace -s SIZE` cuts them): a
 * regression test that `bpfemu replay LOG` re-checks later. It sets the
 * environment and re-executes this binary as `bpfemu run [...] -- CMD`, so
 * CMD keeps our pid: BPFEMU_TRACE_PID names it as the first task of the
 * traced tree (the trace prefixes "[pid N] " while more than one task lives).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

#define EXIT_USAGE 2
#define USAGE "usage: bpfemu record -o LOG [-s SIZE] [--root DIR] [--log CATS] [--] CMD [ARG...]\n"

int record_trace_env(const char *file, int truncate)
{
	char abs[PATH_MAX], cwd[PATH_MAX], pid[16];
	int n;

	if (!*file) {
		fprintf(stderr, "bpfemu: the trace file name is empty\n");
		return -EINVAL;
	}
	if (file[0] == '/') {
		n = snprintf(abs, sizeof(abs), "%s", file);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr, "bpfemu: getcwd: %s\n", strerror(errno));
			return -errno;
		}
		n = snprintf(abs, sizeof(abs), "%s/%s", cwd, file);
	}
	if (n < 0 || (size_t)n >= sizeof(abs)) {
		fprintf(stderr, "bpfemu: %s: %s\n", file, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	int fd = open(abs, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
	if (fd < 0) {
		int err = errno;
		fprintf(stderr, "bpfemu: %s: %s\n", abs, strerror(err));
		return -err;
	}
	close(fd);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (setenv("BPFEMU_TRACE", abs, 1) || setenv("BPFEMU_TRACE_PID", pid, 1)) {
		fprintf(stderr, "bpfemu: setenv: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "string-limit", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *root = NULL, *log = NULL, *strsize = NULL;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:o:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 's': strsize = optarg; break;
		case 'r': root = optarg; break;
		case 'l': log = optarg; break;
		case 'h':
			printf(USAGE);
			return 0;
		case ':':
			fprintf(stderr, "bpfemu: record: option %s needs an argument\n" USAGE, argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "bpfemu: record: unknown option '%s'\n" USAGE, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (!out) {
		fprintf(stderr, "bpfemu: record: -o LOG is required\n" USAGE);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "bpfemu: record: no command given\n" USAGE);
		return EXIT_USAGE;
	}
	if (strsize) {
		char *end;
		unsigned long v = strtoul(strsize, &end, 10);
		if (!*strsize || *end || v > (1ul << 24)) {
			fprintf(stderr, "bpfemu: record: -s %s: not a string size (0 to 16777216)\n" USAGE, strsize);
			return EXIT_USAGE;
		}
		setenv("BPFEMU_TRACE_STRSIZE", strsize, 1);
	}
	if (record_trace_env(out, 1))
		return EXIT_FAILURE;

	char **args = calloc((size_t)(argc - optind) + 8, sizeof(*args));
	int n = 0;
	if (!args) {
		fprintf(stderr, "bpfemu: record: %s\n", strerror(ENOMEM));
		return EXIT_FAILURE;
	}
	args[n++] = "bpfemu";
	args[n++] = "run";
	if (root) {
		args[n++] = "--root";
		args[n++] = (char *)root;
	}
	if (log) {
		args[n++] = "--log";
		args[n++] = (char *)log;
	}
	args[n++] = "--";
	for (int i = optind; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execv("/proc/self/exe", args);
	fprintf(stderr, "bpfemu: record: re-executing bpfemu: %s\n", strerror(errno));
	free(args);
	return EXIT_FAILURE;
}
