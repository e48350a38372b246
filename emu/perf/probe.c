/* SPDX-License-Identifier: MIT */
/*
 * emu/perf/probe.c: what libbpf reads before it opens a probe event, and
 * what a stand-in needs to name its probe.
 *
 *   - the kprobe / uprobe PMU types (/sys/bus/event_source/devices/NAME/type),
 *     made up (1000001, 1000002) when this kernel has no such PMU;
 *   - with BPFEMU_ATTACH=inert, made-up contents for the files libbpf reads
 *     when the real ones cannot be read: the PMU type, format/retprobe
 *     ("config:0"), and tracefs events/CAT/NAME/id (a stable number from
 *     100000 up, hashed from "CAT/NAME", remembered in <root>/tracepoints so
 *     that a stand-in can name its tracepoint later);
 *   - a tracepoint's name from its id: <root>/tracepoints, then tracefs;
 *   - whether /proc/kallsyms has a function (read once per process; names
 *     are readable by every user, addresses are not).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "perf.h"
#include "../os.h"

#define MADE_UP_KPROBE_TYPE 1000001
#define MADE_UP_UPROBE_TYPE 1000002

static const char *const kind_names[] = {
	[EMU_PERF_NONE] = "perf", [EMU_PERF_KPROBE] = "kprobe", [EMU_PERF_UPROBE] = "uprobe",
	[EMU_PERF_TRACEPOINT] = "tracepoint", [EMU_PERF_KERNEL] = "perf", [EMU_PERF_BPF_OUTPUT] = "bpf-output",
};

const char *emu_perf_kind_name(enum emu_perf_kind kind)
{
	return (unsigned int)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "perf";
}

static int read_sysfs_int(const char *path, int *out)
{
	char buf[32];
	if (emu_os_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	*out = atoi(buf);
	return 0;
}

/* The kernel's PMU type for kprobe / uprobe events, or the made-up one. */
static int pmu_type(enum emu_perf_kind kind, bool *made_up)
{
	static int cached[EMU_PERF_TRACEPOINT + 1];
	static bool cached_made_up[EMU_PERF_TRACEPOINT + 1];
	if (kind == EMU_PERF_TRACEPOINT) {
		*made_up = false;
		return PERF_TYPE_TRACEPOINT;
	}
	int t = __atomic_load_n(&cached[kind], __ATOMIC_ACQUIRE);
	if (!t) {
		char path[96];
		snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", kind_names[kind]);
		bool m = read_sysfs_int(path, &t) != 0 || t <= 0;
		if (m)
			t = kind == EMU_PERF_KPROBE ? MADE_UP_KPROBE_TYPE : MADE_UP_UPROBE_TYPE;
		cached_made_up[kind] = m;
		__atomic_store_n(&cached[kind], t, __ATOMIC_RELEASE);
	}
	*made_up = cached_made_up[kind];
	return t;
}

int emu_perf_pmu_type(enum emu_perf_kind kind)
{
	bool made_up;
	return pmu_type(kind, &made_up);
}

enum emu_perf_kind emu_perf_attr_kind(__u32 type)
{
	bool m;
	if (type == PERF_TYPE_TRACEPOINT)
		return EMU_PERF_TRACEPOINT;
	if ((int)type == pmu_type(EMU_PERF_KPROBE, &m))
		return EMU_PERF_KPROBE;
	if ((int)type == pmu_type(EMU_PERF_UPROBE, &m))
		return EMU_PERF_UPROBE;
	return EMU_PERF_NONE;
}

enum emu_perf_kind emu_perf_fd_kind(int fd)
{
	struct emu_obj *ev;
	int acc;
	if (fd < 0)
		return EMU_PERF_NONE;
	if (!emu_fd_get(fd, EMU_KIND_PERF_EVENT, &ev, &acc)) {
		enum emu_perf_kind k = (enum emu_perf_kind)emu_perf_state(ev)->kind;
		emu_obj_put(ev);
		return k;
	}
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", emu_caller_fd(fd));
	long n = emu_os_readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return EMU_PERF_NONE;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[perf_event]") ? EMU_PERF_NONE : EMU_PERF_KERNEL;
}

/* ---- tracepoint ids ---- */

static int registry_path(char *buf, size_t len)
{
	int err = emu_root_ready();
	if (err)
		return err;
	return snprintf(buf, len, "%.4000s/tracepoints", emu_config()->root) >= (int)len ? -ENAMETOOLONG : 0;
}

/* Looks id up in the text of <root>/tracepoints ("ID CAT/NAME" lines); 0 found, -ENOENT. */
static int registry_find(__u32 id, char *name, size_t len, const char *text)
{
	char nm[512];
	unsigned int k;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (sscanf(l, "%u %511s", &k, nm) == 2 && k == id) {
			snprintf(name, len, "%s", nm);
			return 0;
		}
	return -ENOENT;
}

static void registry_add(__u32 id, const char *catname)
{
	char path[PATH_MAX], old[512], line[600];
	if (registry_path(path, sizeof(path)))
		return;
	int fd = emu_os_open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	emu_os_flock(fd, LOCK_EX);
	/* the lines so far (reads start at 0; O_APPEND only moves writes) */
	size_t cap = 4096, n = 0;
	char *text = malloc(cap);
	for (;;) {
		if (!text)
			break;
		if (cap - n < 1025) {
			char *nt = realloc(text, cap * 2);
			if (!nt) {
				free(text);
				text = NULL;
				break;
			}
			text = nt;
			cap *= 2;
		}
		long r = emu_os_read(fd, text + n, cap - n - 1);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (text) {
		text[n] = '\0';
		if (registry_find(id, old, sizeof(old), text)) {
			int l = snprintf(line, sizeof(line), "%u %s\n", id, catname);
			if (l > 0 && (size_t)l < sizeof(line))
				(void)emu_os_write(fd, line, (size_t)l);
		}
		free(text);
	}
	emu_os_flock(fd, LOCK_UN);
	emu_os_close(fd);
}

int emu_perf_tp_name(__u32 id, char *buf, size_t len)
{
	char path[PATH_MAX];
	if (!registry_path(path, sizeof(path))) {
		char *text = emu_os_slurp(path, NULL, NULL);
		if (text) {
			int err = registry_find(id, buf, len, text);
			free(text);
			if (!err)
				return 0;
		}
	}
	static const char *const roots[] = { "/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events" };
	for (size_t r = 0; r < ARRAY_SIZE(roots); r++) {
		struct emu_os_dir *cats = emu_os_opendir(roots[r], NULL);
		const struct emu_os_dirent *c, *e;
		if (!cats)
			continue;
		while ((c = emu_os_readdir(cats))) {
			if (c->name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", roots[r], c->name);
			struct emu_os_dir *evs = emu_os_opendir(path, NULL);
			if (!evs)
				continue;
			while ((e = emu_os_readdir(evs))) {
				char idp[PATH_MAX];
				int v;
				if (e->name[0] == '.')
					continue;
				if (snprintf(idp, sizeof(idp), "%s/%s/id", path, e->name) >= (int)sizeof(idp))
					continue;
				if (!read_sysfs_int(idp, &v) && (__u32)v == id) {
					snprintf(buf, len, "%s/%s", c->name, e->name);
					emu_os_closedir(evs);
					emu_os_closedir(cats);
					return 0;
				}
			}
			emu_os_closedir(evs);
		}
		emu_os_closedir(cats);
	}
	return -ENOENT;
}

int emu_perf_made_up_file(const char *path, char *buf, size_t len)
{
	static const char dev[] = "/sys/bus/event_source/devices/";
	if (!strncmp(path, dev, strlen(dev))) {
		const char *p = path + strlen(dev);
		for (int k = EMU_PERF_KPROBE; k <= EMU_PERF_UPROBE; k++) {
			size_t n = strlen(kind_names[k]);
			if (strncmp(p, kind_names[k], n) || p[n] != '/')
				continue;
			bool m;
			if (!strcmp(p + n, "/type"))
				return snprintf(buf, len, "%d\n", pmu_type((enum emu_perf_kind)k, &m));
			if (!strcmp(p + n, "/format/retprobe"))
				return snprintf(buf, len, "config:0\n");
		}
		return -ENOENT;
	}
	const char *ev = NULL;
	if (!strncmp(path, "/sys/kernel/tracing/events/", 27))
		ev = path + 27;
	else if (!strncmp(path, "/sys/kernel/debug/tracing/events/", 33))
		ev = path + 33;
	if (!ev)
		return -ENOENT;
	const char *slash = strchr(ev, '/');
	const char *name_end = slash ? strchr(slash + 1, '/') : NULL;
	if (!slash || slash == ev || !name_end || name_end == slash + 1 || strcmp(name_end, "/id") ||
	    name_end - ev >= 500)
		return -ENOENT;
	__u32 h = 2166136261u;                      /* FNV-1a of "CAT/NAME": stable per tracepoint */
	for (const char *c = ev; c < name_end; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	__u32 id = 100000 + h % 900000;
	if (emu_config()->attach_inert) {
		char catname[512];
		snprintf(catname, sizeof(catname), "%.*s", (int)(name_end - ev), ev);
		registry_add(id, catname);
	}
	return snprintf(buf, len, "%u\n", id);
}

/* ---- /proc/kallsyms ---- */

static char **syms;                             /* open addressing, NULL = empty */
static size_t syms_cap;
static int syms_state;                          /* 0 not read, 1 read, -errno failed */
static pthread_mutex_t syms_lock = PTHREAD_MUTEX_INITIALIZER;

static __u64 str_hash(const char *s)
{
	__u64 h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void syms_insert(char *name)
{
	size_t i = str_hash(name) & (syms_cap - 1);
	while (syms[i]) {
		if (!strcmp(syms[i], name)) {
			free(name);
			return;
		}
		i = (i + 1) & (syms_cap - 1);
	}
	syms[i] = name;
}

static int syms_load(void)
{
	int err = 0;
	struct emu_os_lines *f = emu_os_lines_open("/proc/kallsyms", &err);
	char line[512];
	size_t n = 0;
	if (!f)
		return err;
	syms_cap = 1u << 20;
	syms = calloc(syms_cap, sizeof(*syms));
	if (!syms) {
		emu_os_lines_close(f);
		return -ENOMEM;
	}
	while (emu_os_lines_get(line, sizeof(line), f) && n < syms_cap / 2) {
		char type, name[400];
		if (sscanf(line, "%*s %c %399s", &type, name) != 2)
			continue;
		char *copy = strdup(name);
		if (!copy)
			break;
		syms_insert(copy);
		n++;
	}
	emu_os_lines_close(f);
	return n ? 1 : -ENOENT;
}

int emu_kallsyms_has(const char *name)
{
	pthread_mutex_lock(&syms_lock);
	if (!syms_state)
		syms_state = syms_load();
	int r = syms_state;
	if (r > 0) {
		size_t i = str_hash(name) & (syms_cap - 1);
		r = 0;
		while (syms[i]) {
			if (!strcmp(syms[i], name)) {
				r = 1;
				break;
			}
			i = (i + 1) & (syms_cap - 1);
		}
	}
	pthread_mutex_unlock(&syms_lock);
	return r;
}
