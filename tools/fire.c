/* SPDX-License-Identifier: MIT */
/*
 * tools/fire.c: `bpfemu fire`, the command-line door to the engine's event
 * firing (emu/fire/): runs the programs attached to an event, in this
 * process, on the state root's shared objects, so a tool that attached them
 * (run under `bpfemu run` with BPFEMU_ATTACH=inert) sees their map updates
 * and perf/ring buffer output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools.h"
#include "../emu/fire/fire.h"

struct totals {
	unsigned long runs, failed;
	bool verbose;
};

static void report(const struct emu_fire_run *r, void *ctx)
{
	struct totals *t = ctx;
	t->runs++;
	if (r->err)
		t->failed++;
	if (r->err)
		fprintf(stderr, "bpfemu fire: prog %u '%s' (%s): the run ended early: %s (BPFEMU_LOG=vm tells where)\n",
			r->prog_id, r->prog_name, r->how, strerror(-r->err));
	else if (t->verbose)
		printf("prog %u '%s' (%s): returned %lld\n", r->prog_id, r->prog_name, r->how, (long long)r->retval);
}

void fire_help(FILE *f)
{
	fprintf(f,
		"\n"
		"  Runs the programs attached to EVENT (by any process of the state root, through\n"
		"  BPFEMU_ATTACH=inert links and probe events) in this process, with a synthetic\n"
		"  context: their map updates and perf/ring buffer output reach the tool that\n"
		"  attached them.\n"
		"\n"
		"  EVENT:\n"
		"    tracepoint:CAT:NAME   tracepoint programs on CAT/NAME, raw_tp and tp_btf on NAME (tp:)\n"
		"    raw_tracepoint:NAME   raw_tp and tp_btf programs on NAME (raw_tp:)\n"
		"    kprobe:FUNC[+OFF]     kprobes on FUNC (and at offset 0 fentry, fmod_ret) (fentry:)\n"
		"    kretprobe:FUNC        kretprobes and fexit programs on FUNC, ret=VALUE (fexit:)\n"
		"    uprobe:PATH:SYM|OFF   uprobes on that file and offset (uretprobe: with ret=)\n"
		"    lsm:HOOK              lsm programs on bpf_lsm_HOOK\n"
		"    struct_ops:TYPE/NAME.MEMBER  the program in MEMBER of a registered struct_ops map of\n"
		"                          TYPE (NAME: a tcp_congestion_ops' name, else the map's)\n"
		"\n"
		"  NAME=VALUE: a tracepoint's record field (typed by its tracefs format, else the\n"
		"  kernel's BTF), an argument by name or as argN (raw tracepoints, functions: the\n"
		"  kernel's BTF), a member through a pointer argument (prev.pid=42,\n"
		"  prev.real_parent.tgid=1), the event task's task_struct (current.flags=...),\n"
		"  ret (and the members of a returned object, ret.__sk_common.skc_num=80), or a\n"
		"  probe's register (di, si, dx, cx, r8, r9, ax, ip, sp, ...).\n"
		"  Values: integers (42, -1, 0x2a, 'c', an enumerator), strings for char arrays\n"
		"  and char pointers, NAME=a,b,c for char ** (argv) and integer arrays,\n"
		"  current, @ADDR or &TYPE:NAME (a named object: the same zeroed struct TYPE in\n"
		"  every event this process fires, skaddr=&tcp_sock:c) for other pointers; a\n"
		"  record's pointer field takes a cast for members (skaddr<sock>.FIELD=...).\n"
		"  Strings of syscall tracepoints and uprobes go to the task's user memory\n"
		"  (bpf_probe_read_user), others to the event's kernel memory; NAME@user=...\n"
		"  / NAME@kernel=... choose.\n"
		"\n"
		"  --pid N --tid N        the task (default: this process and thread); its comm,\n"
		"                         uid, gid, parent and cgroup are read from /proc when it\n"
		"                         exists, else this process's\n"
		"  --comm S --uid N --gid N --ppid N --cgroup /PATH   set them\n"
		"  --cpu N                the CPU the programs run on (default: this thread's)\n"
		"  --time NS              ktime_get_ns() and the records' time (CLOCK_MONOTONIC;\n"
		"                         default: now)\n"
		"  --ip ADDR              the probed function's address (bpf_get_func_ip, the ip\n"
		"                         register; default: /proc/kallsyms's, else a made-up one)\n"
		"  --kstack A,B,...       the stack bpf_get_stack sees (addresses or kernel function\n"
		"  --ustack A,B,...       names; default none: -EFAULT, as for a task without one)\n"
		"  --count N              fire the event N times\n"
		"  -f FILE                one event per line (words as above; - for stdin; # comments)\n"
		"  -v                     print each run and its return value\n"
		"  --root DIR --log CATS  as for run (BPFEMU_ROOT, BPFEMU_LOG)\n"
		"\n"
		"  Exit status: 0 when at least one program ran and no run ended early; 1 when a\n"
		"  run ended early or nothing is attached; 2 for a bad event or value.\n");
}

static int fire_usage(const char *msg)
{
	fprintf(stderr, "bpfemu fire: %s\nusage: bpfemu fire [OPTIONS] EVENT [NAME=VALUE...] (see 'bpfemu help fire')\n", msg);
	return EXIT_USAGE;
}

static int status_of(int err)
{
	return err == -EINVAL || err == -ERANGE || err == -E2BIG || err == -ENAMETOOLONG ? EXIT_USAGE : EXIT_FAILURE;
}

int cmd_fire(int argc, char **argv)
{
	struct totals t = { 0 };
	const char *file = NULL;
	char **words = calloc((size_t)argc + 1, sizeof(*words));
	int n = 0;
	if (!words)
		return EXIT_FAILURE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			free(words);
			printf("usage: bpfemu fire [OPTIONS] EVENT [NAME=VALUE...]\n       bpfemu fire [OPTIONS] -f FILE\n");
			fire_help(stdout);
			return 0;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			t.verbose = true;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--file") || !strcmp(a, "--root") || !strcmp(a, "--log")) {
			if (i + 1 >= argc) {
				free(words);
				return fire_usage("an option needs a value");
			}
			const char *v = argv[++i];
			if (a[1] == 'f' || a[2] == 'f')
				file = v;
			else if (setenv(a[2] == 'r' ? "BPFEMU_ROOT" : "BPFEMU_LOG", v, 1)) {
				free(words);
				return EXIT_FAILURE;
			}
		} else {
			words[n++] = argv[i];
		}
	}
	char msg[4096];
	int ret = 0, events = 0;
	if (file) {
		FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
		if (!f) {
			fprintf(stderr, "bpfemu fire: %s: %s\n", file, strerror(errno));
			free(words);
			return EXIT_FAILURE;
		}
		char *line = NULL;
		size_t cap = 0;
		unsigned long lineno = 0;
		while (getline(&line, &cap, f) > 0) {
			lineno++;
			const char *l = line + strspn(line, " \t\r\n");
			if (!*l || *l == '#')
				continue;
			/* the command line's options and words come first on every line */
			size_t need = strlen(line) + 1;
			for (int i = 0; i < n; i++)
				need += strlen(words[i]) * 2 + 3;
			char *full = malloc(need);
			if (!full)
				break;
			char *o = full;
			for (int i = 0; i < n; i++) {
				*o++ = '\'';
				for (const char *c = words[i]; *c; c++) {
					if (*c == '\'') {
						memcpy(o, "'\\''", 4);
						o += 4;
					} else {
						*o++ = *c;
					}
				}
				*o++ = '\'';
				*o++ = ' ';
			}
			strcpy(o, line);
			int r = emu_fire_line(full, report, &t, msg, sizeof(msg));
			free(full);
			if (r < 0) {
				fprintf(stderr, "bpfemu fire: %s:%lu: %s\n", file, lineno, msg[0] ? msg : strerror(-r));
				ret = status_of(r);
				break;
			}
			events++;
		}
		free(line);
		if (f != stdin)
			fclose(f);
	} else {
		if (!n) {
			free(words);
			return fire_usage("no event given");
		}
		int r = emu_fire_words(n, words, report, &t, msg, sizeof(msg));
		if (r < 0) {
			fprintf(stderr, "bpfemu fire: %s\n", msg[0] ? msg : strerror(-r));
			ret = status_of(r);
		}
		events = 1;
	}
	free(words);
	if (ret)
		return ret;
	if (!t.runs) {
		fprintf(stderr, "bpfemu fire: no program is attached to %s in %s\n", file ? "the events" : "the event",
			getenv("BPFEMU_ROOT") ? getenv("BPFEMU_ROOT") : "the default state root");
		return EXIT_FAILURE;
	}
	if (t.verbose && file)
		printf("%d events, %lu runs, %lu ended early\n", events, t.runs, t.failed);
	return t.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
