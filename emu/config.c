/* SPDX-License-Identifier: MIT */
/* emu/config.c: environment (read once), the state root, the logger. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "os.h"

static struct emu_config cfg;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static const struct { const char *name; unsigned int bits; } log_cats[] = {
	{ "sys", EMU_LOG_SYS }, { "map", EMU_LOG_MAP }, { "path", EMU_LOG_PATH },
	{ "shim", EMU_LOG_SHIM }, { "vm", EMU_LOG_VM }, { "all", ~0u }, { "1", ~0u },
};

static void parse_log(const char *s)
{
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s", s);
	for (char *save, *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(log_cats) / sizeof(log_cats[0]); i++)
			if (!strcmp(tok, log_cats[i].name))
				break;
		if (i == sizeof(log_cats) / sizeof(log_cats[0])) {
			fprintf(stderr, "bpfemu: BPFEMU_LOG: unknown category '%s' (known: sys,map,path,shim,vm,all)\n", tok);
			continue;
		}
		cfg.log |= log_cats[i].bits;
	}
}

/* Lexically normalized absolute copy of p into out (no symlink resolution). */
static int normalize_mount(const char *p, char *out, size_t len)
{
	if (p[0] != '/' || strlen(p) >= len)
		return -1;
	size_t o = 0;
	out[o++] = '/';
	for (const char *s = p; *s;) {
		while (*s == '/')
			s++;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
		} else {
			if (o > 1)
				out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s = e;
	}
	out[o] = '\0';
	return 0;
}

static void config_init(void)
{
	const char *root = getenv("BPFEMU_ROOT");
	const char *log = getenv("BPFEMU_LOG");

	const char *trace = getenv("BPFEMU_TRACE");
	const char *trace_pid = getenv("BPFEMU_TRACE_PID");
	const char *attach = getenv("BPFEMU_ATTACH");
	const char *cpus = getenv("BPFEMU_CPUS");

	if (log && *log)
		parse_log(log);
	if (attach && !strcmp(attach, "inert"))
		cfg.attach_inert = true;
	else if (attach && *attach)
		emu_log(EMU_LOG_SYS, "BPFEMU_ATTACH=%s: unknown mode (only \"inert\"); attach calls fail", attach);
	if (cpus && *cpus) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(cpus, &end, 10);
		if (!errno && !*end && n >= 1 && n <= EMU_NR_CPUS && cpus[0] != '-')
			cfg.cpus = (unsigned int)n;
		else
			fprintf(stderr, "bpfemu: BPFEMU_CPUS=%s: not a CPU count from 1 to %u, ignored\n", cpus,
				EMU_NR_CPUS);
	}
	if (trace && *trace)
		snprintf(cfg.trace, sizeof(cfg.trace), "%s", trace);
	if (trace_pid && *trace_pid)
		cfg.trace_pid = (pid_t)strtol(trace_pid, NULL, 10);
	if (root && *root) {
		/* a relative BPFEMU_ROOT is taken as given (relative to the cwd) */
		if (normalize_mount(root, cfg.root, sizeof(cfg.root) - 16))
			snprintf(cfg.root, sizeof(cfg.root) - 16, "%s", root);
	} else
		snprintf(cfg.root, sizeof(cfg.root), "/dev/shm/bpfemu-%u", (unsigned int)getuid());
	snprintf(cfg.bpffs_dir, sizeof(cfg.bpffs_dir), "%.4000s/bpffs", cfg.root);
	snprintf(cfg.objs_dir, sizeof(cfg.objs_dir), "%.4000s/objs", cfg.root);

	snprintf(cfg.mounts[cfg.nmounts++], PATH_MAX, "/sys/fs/bpf");
	const char *extra = getenv("BPFEMU_BPFFS");
	if (extra && *extra) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s", extra);
		for (char *save, *tok = strtok_r(tmp, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
			if (cfg.nmounts >= sizeof(cfg.mounts) / sizeof(cfg.mounts[0])) {
				fprintf(stderr, "bpfemu: BPFEMU_BPFFS: more than %zu mount points, ignoring '%s'\n",
					sizeof(cfg.mounts) / sizeof(cfg.mounts[0]) - 1, tok);
				break;
			}
			if (normalize_mount(tok, cfg.mounts[cfg.nmounts], PATH_MAX)) {
				fprintf(stderr, "bpfemu: BPFEMU_BPFFS: '%s' is not an absolute path, ignored\n", tok);
				continue;
			}
			if (strcmp(cfg.mounts[cfg.nmounts], "/") && strcmp(cfg.mounts[cfg.nmounts], "/sys/fs/bpf"))
				cfg.nmounts++;
		}
	}
}

static bool cfg_done;

static void config_once(void)
{
	config_init();
	__atomic_store_n(&cfg_done, true, __ATOMIC_RELEASE);
}

const struct emu_config *emu_config(void)
{
	if (__builtin_expect(!__atomic_load_n(&cfg_done, __ATOMIC_ACQUIRE), 0))
		pthread_once(&cfg_once, config_once);
	return &cfg;
}

static int mkdir_0700(const char *path)
{
	int err = emu_os_mkdir(path, 0700);
	return err == -EEXIST ? 0 : err;
}

static int root_state;          /* 0 unknown, 1 ready, <0 -errno */
static bool root_shared;

bool emu_root_shared(void)
{
	return emu_root_ready() == 0 && __atomic_load_n(&root_shared, __ATOMIC_ACQUIRE);
}
static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int root_cpus;

/*
 * Per-CPU values are laid out for a number of possible CPUs, so every process
 * sharing a state root must agree on it: the first one writes its count
 * (BPFEMU_CPUS, else the host's) into <root>/cpus, and later ones take that.
 */
static void root_cpus_settle(const struct emu_config *c)
{
	char path[PATH_MAX], buf[16];
	unsigned int want = c->cpus, have = 0;
	snprintf(path, sizeof(path), "%.4000s/cpus", c->root);
	if (!want) {
		/* the host's count, as emu_possible_cpus() reads it */
		want = emu_host_possible_cpus();
	}
	int n = snprintf(buf, sizeof(buf), "%u\n", want);
	int fd = emu_os_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		long w = emu_os_write(fd, buf, (size_t)n);
		emu_os_close(fd);
		if (w == n) {
			root_cpus = want;
			return;
		}
		emu_os_unlinkat(AT_FDCWD, path, 0);
		return;
	}
	fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	long r = emu_os_read(fd, buf, sizeof(buf) - 1);
	emu_os_close(fd);
	if (r <= 0)
		return;
	buf[r] = '\0';
	if (sscanf(buf, "%u", &have) != 1 || have < 1 || have > EMU_NR_CPUS)
		return;
	if (have != want && c->cpus)
		EMU_LOG(EMU_LOG_SYS, "BPFEMU_CPUS=%u: the state root %s was made with %u possible CPUs; using %u", c->cpus,
			c->root, have, have);
	root_cpus = have;
}

unsigned int emu_root_cpus(void)
{
	return emu_root_ready() == 0 ? __atomic_load_n(&root_cpus, __ATOMIC_RELAXED) : 0;
}

int emu_root_ready(void)
{
	int st = __atomic_load_n(&root_state, __ATOMIC_ACQUIRE);
	if (st)
		return st > 0 ? 0 : st;

	const struct emu_config *c = emu_config();
	int err;
	struct stat sb;

	pthread_mutex_lock(&root_lock);
	err = mkdir_0700(c->root);
	if (!err)
		err = emu_os_stat(c->root, &sb);
	if (!err && !S_ISDIR(sb.st_mode))
		err = -ENOTDIR;
	if (!err && sb.st_uid != getuid() && sb.st_uid != 0) {
		EMU_LOG(EMU_LOG_SYS, "state root %s is owned by uid %u, not by us: refused", c->root,
			(unsigned int)sb.st_uid);
		err = -EACCES;
	}
	if (!err && (sb.st_mode & S_IWOTH) && !(sb.st_mode & S_ISVTX)) {
		EMU_LOG(EMU_LOG_SYS, "state root %s is writable by others without the sticky bit: refused", c->root);
		err = -EACCES;
	}
	if (!err)
		err = mkdir_0700(c->bpffs_dir);
	/* A root-owned sticky root that others may write (like /tmp) is shared
	 * by several users, as the kernel's bpffs is: every user must be able
	 * to create objects (objs/ 1777, each file 0600) and take ids. */
	if (!err && sb.st_uid == 0 && (sb.st_mode & S_IWOTH) && (sb.st_mode & S_ISVTX))
		__atomic_store_n(&root_shared, true, __ATOMIC_RELEASE);
	if (!err) {
		/* bpffs' root directory is 1777 like the kernel's (sticky). */
		if (emu_os_stat(c->bpffs_dir, &sb) == 0 && sb.st_uid == getuid() && (sb.st_mode & 07777) != 01777)
			emu_os_fchmodat(AT_FDCWD, c->bpffs_dir, 01777);
		/* the entries bpf_preload shows in a bpffs root: 0400, empty */
		static const char *const names[] = EMU_BPFFS_DEBUG_ENTRIES;
		char path[PATH_MAX];
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%.4000s/%s", c->bpffs_dir, names[i]);
			int fd = emu_os_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
			if (fd >= 0) {
				emu_os_fchmod(fd, 0400);
				emu_os_close(fd);
			}
		}
		err = mkdir_0700(c->objs_dir);
		if (!err && root_shared && emu_os_stat(c->objs_dir, &sb) == 0 && sb.st_uid == getuid() &&
		    (sb.st_mode & 07777) != 01777)
			emu_os_fchmodat(AT_FDCWD, c->objs_dir, 01777);
		if (!err)
			root_cpus_settle(c);
	}
	if (err)
		EMU_LOG(EMU_LOG_SYS, "state root %s: %s", c->root, strerror(-err));
	__atomic_store_n(&root_state, err ? err : 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&root_lock);
	return err;
}

void emu_log(unsigned int cat, const char *fmt, ...)
{
	static const char *const names[] = { "sys", "map", "path", "shim", "vm" };
	const char *name = "log";
	char line[1024];
	int saved = errno;
	va_list ap;

	/* a line of several categories is named after the first one asked for */
	if (cat & cfg.log)
		cat &= cfg.log;
	for (unsigned int i = 0; i < 5; i++)
		if (cat & (1u << i)) {
			name = names[i];
			break;
		}
	int n = snprintf(line, sizeof(line), "bpfemu[%d] %s: ", (int)getpid(), name);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = strnlen(line, sizeof(line) - 2);
	line[len++] = '\n';
	/* one write(2): lines from several threads and processes do not interleave */
	(void)emu_os_write(STDERR_FILENO, line, len);
	errno = saved;
}
