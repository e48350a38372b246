/* SPDX-License-Identifier: MIT */
/* tools/util.c: helpers shared by load, ls and reset (see tools.h). */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tools.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define REEXEC_ENV "BPFEMU_TOOL_REEXEC"

long tool_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	long r = syscall(__NR_bpf, cmd, attr, size);

	return r < 0 ? -errno : r;
}

/* The shim exports bpfemu_bpf; this binary does not link the engine, so only
 * a preloaded libbpfemu.so can provide it. */
bool tool_under_shim(void)
{
	return dlsym(RTLD_DEFAULT, "bpfemu_bpf") != NULL;
}

int tool_ensure_backend(char **argv)
{
	char self[PATH_MAX];
	const char *again = getenv(REEXEC_ENV);
	ssize_t n;
	size_t argc = 0;
	char **nargv;

	if (tool_under_shim() || geteuid() == 0)
		return 0;
	if (again && *again) {
		fprintf(stderr, "bpfemu: %s: libbpfemu.so was not preloaded after re-executing under "
			"`bpfemu run` (check BPFEMU_LIB)\n", argv[0]);
		return -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "bpfemu: /proc/self/exe: %s\n", strerror(errno));
		return -errno;
	}
	self[n] = '\0';
	while (argv[argc])
		argc++;
	nargv = calloc(argc + 5, sizeof(*nargv));
	if (!nargv)
		return -ENOMEM;
	nargv[0] = self;
	nargv[1] = "run";
	nargv[2] = "--";
	nargv[3] = self;
	memcpy(&nargv[4], argv, argc * sizeof(*argv));
	if (setenv(REEXEC_ENV, "1", 1)) {
		free(nargv);
		return -errno;
	}
	execv(self, nargv);
	fprintf(stderr, "bpfemu: %s: %s\n", self, strerror(errno));
	free(nargv);
	return -errno;
}

static const char *const map_types[] = {
	"unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash",
	"percpu_array", "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash",
	"lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap", "cpumap",
	"xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray",
	"percpu_cgroup_storage", "queue", "stack", "sk_storage", "devmap_hash",
	"struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter",
	"user_ringbuf", "cgrp_storage", "arena",
};

static const char *const prog_types[] = {
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint",
	"xdp", "perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out",
	"lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint",
	"cgroup_sock_addr", "lwt_seg6local", "lirc_mode2", "sk_reuseport",
	"flow_dissector", "cgroup_sysctl", "raw_tracepoint_writable", "cgroup_sockopt",
	"tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall", "netfilter",
};

const char *tool_map_type_name(unsigned int type)
{
	return type < ARRAY_SIZE(map_types) ? map_types[type] : NULL;
}

const char *tool_prog_type_name(unsigned int type)
{
	return type < ARRAY_SIZE(prog_types) ? prog_types[type] : NULL;
}

/* "0-3,5,7-8\n" -> 7 */
int tool_possible_cpus(void)
{
	char buf[4096], *p, *end;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int n = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 0)
			return -EINVAL;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return -EINVAL;
			p = end;
		}
		n += (int)(b - a + 1);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return n > 0 ? n : -EINVAL;
}

void tool_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void tool_state_root(char *out, size_t len)
{
	const char *root = getenv("BPFEMU_ROOT");

	if (root && *root)
		snprintf(out, len, "%s", root);
	else
		snprintf(out, len, "/dev/shm/bpfemu-%u", (unsigned int)getuid());
}
