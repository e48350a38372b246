/* SPDX-License-Identifier: MIT */
/*
 * tools/bpfemu.c: the bpfemu command-line tool.
 *
 * One table of subcommands; each entry names its handler, a usage line and a
 * one-line summary. Exit codes: 0 success, 1 failure of bpfemu itself, 2 usage
 * error; `run` replaces itself with CMD (so CMD's status is ours), or exits
 * 127 (command not found) or 126 (found but not executable), like a shell.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpfemu/bpfemu.h>

#include "tools.h"
#include "seccomp/seccomp.h"

#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127

#ifndef BPFEMU_BUILD_LIB
#error "BPFEMU_BUILD_LIB must name libbpfemu.so in the build tree"
#endif
#ifndef BPFEMU_INSTALL_LIB
#error "BPFEMU_INSTALL_LIB must name the installed libbpfemu.so"
#endif
#ifndef BPFEMU_BIN_TO_LIB
#error "BPFEMU_BIN_TO_LIB must name the install libdir relative to the bindir"
#endif
#ifndef BPFEMU_INSTALL_BINDIR
#error "BPFEMU_INSTALL_BINDIR must name the directory the binary is installed to"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *summary;
};

static int cmd_run(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/* Later: replay, record. A name not in this table is a usage error. */
static const struct subcmd subcmds[] = {
	{ "run", cmd_run, "[--mode auto|preload|seccomp] [--root DIR] [--log CATS] [--trace FILE] [--] CMD [ARG...]",
	  "run CMD with bpf() emulated in user space (LD_PRELOAD, or a seccomp supervisor)" },
	{ "load", cmd_load, "OBJ.o [--pin-dir DIR] [--json]",
	  "create and pin the maps an ELF object defines (SEC(\"maps\") and SEC(\".maps\"))" },
	{ "ls", cmd_ls, "[PATH] [--json]", "show a bpffs (default /sys/fs/bpf) as a tree of objects" },
	{ "reset", cmd_reset, "[--root DIR] [--yes]", "remove the state root: every emulated map and pin" },
	{ "replay", cmd_replay, "[--keep-going] [--root DIR] LOG",
	  "re-run the bpf() calls of an strace or BPFEMU_TRACE log on the engine and check every result" },
	{ "record", cmd_record, "-o LOG [-s SIZE] [--root DIR] [--log CATS] [--] CMD [ARG...]",
	  "run CMD under the shim, writing every bpf() call to LOG (replayable)" },
	{ "help", cmd_help, "[SUBCOMMAND]", "show this help, or a subcommand's" },
};

static void print_usage(FILE *f)
{
	fprintf(f, "usage: bpfemu [--help | --version] SUBCOMMAND [ARG...]\n\nsubcommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
		fprintf(f, "  %-6s %s\n", subcmds[i].name, subcmds[i].summary);
	fprintf(f, "\nrun 'bpfemu help SUBCOMMAND' for a subcommand's options.\n");
}

static const struct subcmd *find_subcmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
		if (!strcmp(subcmds[i].name, name))
			return &subcmds[i];
	return NULL;
}

static void print_subcmd_usage(FILE *f, const struct subcmd *c)
{
	fprintf(f, "usage: bpfemu %s %s\n  %s\n", c->name, c->args, c->summary);
	if (c->fn == cmd_replay)
		replay_help(f);
	if (c->fn == cmd_run)
		fprintf(f, "\n"
			"  --root DIR   state root for maps and the fake /sys/fs/bpf (sets BPFEMU_ROOT;\n"
			"               default /dev/shm/bpfemu-$UID)\n"
			"  --log CATS   explain failing or unemulated calls on stderr (sets BPFEMU_LOG;\n"
			"               comma-separated: sys,map,path,shim,vm,all)\n"
			"  --trace FILE append one strace-style line per bpf() call to FILE (BPFEMU_TRACE)\n"
			"  --mode MODE  preload: LD_PRELOAD=libbpfemu.so (dynamically linked programs; fastest);\n"
			"               seccomp: a seccomp user-notification supervisor serves bpf() and the\n"
			"               bpffs file calls of CMD and its children (static binaries, Go);\n"
			"               auto (default): seccomp for a statically linked CMD, else preload.\n"
			"               seccomp's CONTINUE is a convenience, not a sandbox.\n"
			"\n"
			"  The library is BPFEMU_LIB if set, else the installed or built libbpfemu.so.\n"
			"  Exit status: CMD's; 127 if CMD is not found, 126 if it cannot be run,\n"
			"  2 for a usage error, 1 if bpfemu itself fails.\n");
}

static int __attribute__((format(printf, 2, 3))) usage_error(const struct subcmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bpfemu: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (c)
		fprintf(stderr, "usage: bpfemu %s %s\n(see 'bpfemu help %s')\n", c->name, c->args, c->name);
	else
		fprintf(stderr, "usage: bpfemu [--help | --version] SUBCOMMAND [ARG...] (see 'bpfemu help')\n");
	return EXIT_USAGE;
}

/* Absolute form of path (lexically: path need not exist) into out. */
static int make_absolute(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		n = snprintf(out, len, "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		n = snprintf(out, len, "%s/%s", cwd, path);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Is the running binary the installed one (it lives in the install bindir)? */
static bool running_installed(void)
{
	char self[PATH_MAX], bindir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (!realpath(BPFEMU_INSTALL_BINDIR, bindir))
		return false;
	return !strcmp(self, bindir);
}

/* <directory of this binary>/<BPFEMU_BIN_TO_LIB>/libbpfemu.so, if it exists. */
static bool lib_beside_binary(char *out, size_t len)
{
	char self[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	snprintf(cand, sizeof(cand), "%s/" BPFEMU_BIN_TO_LIB "/libbpfemu.so", self);
	return access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len;
}

/* Chooses the absolute path of libbpfemu.so; 0 or -errno (message printed). */
static int find_library(char *out, size_t len)
{
	const char *env = getenv("BPFEMU_LIB");
	const char *cand[2] = { BPFEMU_BUILD_LIB, BPFEMU_INSTALL_LIB };
	int err;

	if (env && *env) {
		if (!realpath(env, out)) {
			err = errno;
			fprintf(stderr, "bpfemu: BPFEMU_LIB=%s: %s\n", env, strerror(err));
			return -err;
		}
		return 0;
	}
	/* an installed tree moved elsewhere (cmake --install --prefix, DESTDIR):
	 * the library beside the binary, <bindir>/../<libdir>/libbpfemu.so */
	if (lib_beside_binary(out, len))
		return 0;
	if (running_installed()) {
		cand[0] = BPFEMU_INSTALL_LIB;
		cand[1] = BPFEMU_BUILD_LIB;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cand); i++) {
		if (access(cand[i], R_OK) == 0) {
			if ((size_t)snprintf(out, len, "%s", cand[i]) >= len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	err = access(cand[0], R_OK) ? errno : ENOENT;
	fprintf(stderr, "bpfemu: %s: %s (set BPFEMU_LIB to the library's path)\n", cand[0], strerror(err));
	return -err;
}

/* Is lib already one of the ':'- or ' '-separated entries of list? */
static bool preload_has(const char *list, const char *lib)
{
	size_t n = strlen(lib);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ": ");
		if (len == n && !strncmp(p, lib, n))
			return true;
		p += len;
		p += strspn(p, ": ");
	}
	return false;
}

static int set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1)) {
		fprintf(stderr, "bpfemu: setenv %s: %s\n", name, strerror(errno));
		return -errno;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "trace", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct subcmd *self = find_subcmd("run");
	enum { MODE_AUTO, MODE_PRELOAD, MODE_SECCOMP } mode = MODE_AUTO;
	char lib[PATH_MAX], root[PATH_MAX];
	const char *old;
	char *preload;
	int opt, err;

	opterr = 0;
	optind = 1;
	/* '+': options end at the first non-option word, which starts CMD. */
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (!*optarg)
				return usage_error(self, "run: --root needs a directory");
			err = make_absolute(optarg, root, sizeof(root));
			if (err) {
				fprintf(stderr, "bpfemu: --root %s: %s\n", optarg, strerror(-err));
				return EXIT_FAILURE;
			}
			if (set_env("BPFEMU_ROOT", root))
				return EXIT_FAILURE;
			break;
		case 'l':
			if (set_env("BPFEMU_LOG", optarg))
				return EXIT_FAILURE;
			break;
		case 't':
			if (record_trace_env(optarg, 0))
				return EXIT_FAILURE;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				mode = MODE_AUTO;
			else if (!strcmp(optarg, "preload"))
				mode = MODE_PRELOAD;
			else if (!strcmp(optarg, "seccomp"))
				mode = MODE_SECCOMP;
			else
				return usage_error(self, "run: --mode is auto, preload or seccomp, not '%s'", optarg);
			break;
		case 'h':
			print_subcmd_usage(stdout, self);
			return EXIT_SUCCESS;
		case ':':
			return usage_error(self, "run: option %s needs an argument", argv[optind - 1]);
		default:
			return usage_error(self, "run: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error(self, "run: no command given");

	/* a static program never loads a preloaded library: the seccomp door
	 * serves it (tools/seccomp/) */
	if (mode == MODE_SECCOMP || (mode == MODE_AUTO && seccomp_door_static(argv[optind])))
		return seccomp_door_run(&argv[optind]);

	if (find_library(lib, sizeof(lib)))
		return EXIT_FAILURE;
	old = getenv("LD_PRELOAD");
	if (old && *old && preload_has(old, lib)) {
		preload = NULL;
	} else if (old && *old) {
		if (asprintf(&preload, "%s:%s", lib, old) < 0)
			preload = NULL, errno = ENOMEM;
		if (!preload) {
			fprintf(stderr, "bpfemu: LD_PRELOAD: %s\n", strerror(errno));
			return EXIT_FAILURE;
		}
	} else {
		preload = lib;
	}
	if (preload && set_env("LD_PRELOAD", preload))
		return EXIT_FAILURE;

	execvp(argv[optind], &argv[optind]);
	err = errno;
	fprintf(stderr, "bpfemu: %s: %s\n", argv[optind],
		err == ENOENT ? "command not found" : strerror(err));
	return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

static int cmd_help(int argc, char **argv)
{
	const struct subcmd *c;

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc > 2)
		return usage_error(find_subcmd("help"), "help: too many arguments");
	c = find_subcmd(argv[1]);
	if (!c)
		return usage_error(NULL, "help: unknown subcommand '%s'", argv[1]);
	print_subcmd_usage(stdout, c);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const struct subcmd *c;

	if (argc < 2)
		return usage_error(NULL, "no subcommand given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("bpfemu %s\n", BPFEMU_VERSION);
		return EXIT_SUCCESS;
	}
	if (argv[1][0] == '-')
		return usage_error(NULL, "unknown option '%s'", argv[1]);
	c = find_subcmd(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown subcommand '%s'", argv[1]);
	return c->fn(argc - 1, argv + 1);
}
