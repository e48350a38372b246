/* SPDX-License-Identifier: MIT */
/*
 * tests/verifier/kfuncs_loader.c: loads each program of kfuncs.bpf.o alone
 * with Debian's libbpf (log level 1), prints its verdict, errno, the log's
 * last line (the verifier's error line, or the statistics) and
 * verified_insns; a loaded program is test-run once and its retval
 * printed. kfuncs.sh runs it under bpfemu as nobody and on the kernel as
 * root and compares the transcripts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

/* the last non-empty line of the log, and the line before it when that is the statistics line */
static void last_lines(const char *log, char *err, size_t n)
{
	const char *lines[3] = { NULL, NULL, NULL };
	size_t lens[3] = { 0, 0, 0 };
	for (const char *p = log; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l) {
			lines[0] = lines[1]; lens[0] = lens[1];
			lines[1] = lines[2]; lens[1] = lens[2];
			lines[2] = p; lens[2] = l;
		}
		p += l + (e ? 1 : 0);
	}
	/* a refused load ends "error line\nprocessed N insns ..." */
	int i = 2;
	if (lines[2] && !strncmp(lines[2], "processed ", 10) && lines[1])
		i = 1;
	snprintf(err, n, "%.*s", lines[i] ? (int)lens[i] : 0, lines[i] ? lines[i] : "");
}

int main(int argc, char **argv)
{
	libbpf_set_print(quiet);
	if (argc < 2)
		return 2;
	struct bpf_object *probe = bpf_object__open_file(argv[1], NULL);
	if (!probe) {
		printf("open: %s\n", strerrorname_np(errno));
		return 1;
	}
	struct bpf_program *pp;
	bpf_object__for_each_program(pp, probe) {
		const char *name = bpf_program__name(pp);
		if (argc > 2 && strcmp(argv[2], name))
			continue;
		static char log[1 << 20];
		LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_buf = log, .kernel_log_size = sizeof(log),
			    .kernel_log_level = getenv("KFUNCS_LOG") ? (__u32)atoi(getenv("KFUNCS_LOG")) : 1);
		struct bpf_object *obj = bpf_object__open_file(argv[1], &oo);
		struct bpf_program *p, *me = NULL;
		bpf_object__for_each_program(p, obj) {
			bool mine = !strcmp(bpf_program__name(p), name);
			bpf_program__set_autoload(p, mine);
			if (mine)
				me = p;
		}
		log[0] = '\0';
		int err = bpf_object__load(obj);
		if (getenv("KFUNCS_LOG"))
			fputs(log, stdout);
		char line[512];
		last_lines(log, line, sizeof(line));
		if (err) {
			printf("%s: load %s: %s\n", name, strerrorname_np(-err), line);
			bpf_object__close(obj);
			continue;
		}
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		bpf_obj_get_info_by_fd(bpf_program__fd(me), &info, &len);
		unsigned char pkt[64] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));
		err = bpf_prog_test_run_opts(bpf_program__fd(me), &o);
		printf("%s: load ok verified_insns %u; run %s retval %u\n", name, info.verified_insns,
		       err ? strerrorname_np(errno) : "ok", o.retval);
		bpf_object__close(obj);
	}
	bpf_object__close(probe);
	return 0;
}
