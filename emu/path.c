/* SPDX-License-Identifier: MIT */
/*
 * emu/path.c: the fake bpffs, the ONE path translator.
 *
 * Every fake mount point (emu_config()->mounts[]) maps to the same directory,
 * emu_config()->bpffs_dir, like one bpffs instance mounted several times.
 * Paths are normalized ("." "..", "//") before they are matched, so no input
 * under a mount point can name anything outside bpffs_dir; a ".." is applied
 * lexically once the component it removes was checked (inside bpffs: it must
 * exist and be a directory, as for the kernel's walk).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "emu.h"
#include "os.h"

/* Length of the mount point p is at or under in the normalized absolute path
 * abs, or 0. The longest match wins (a mount point nested in another). */
static size_t mount_prefix(const char *abs)
{
	const struct emu_config *c = emu_config();
	size_t best = 0;

	for (unsigned int i = 0; i < c->nmounts; i++) {
		size_t n = strlen(c->mounts[i]);
		if (n > best && !strncmp(abs, c->mounts[i], n) && (abs[n] == '\0' || abs[n] == '/'))
			best = n;
	}
	return best;
}

/* Length of dir if p is dir or below it ("dir" or "dir/..."), else 0. */
static size_t under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (n && !strncmp(p, dir, n) && (p[n] == '\0' || p[n] == '/'))
		return n;
	return 0;
}

/*
 * The kernel walks every component before a "..": a name that does not exist
 * is ENOENT, one that is not a directory ENOTDIR. For a component inside a
 * fake bpffs (out, of length o, is strictly below the mount point m), check
 * the state-root directory it stands for; 0 or an errno. Outside the mounts
 * the real call walks the path itself.
 */
static int dotdot_check(const char *out, size_t o)
{
	size_t m = mount_prefix(out);
	if (!m || o <= m)
		return 0;
	char real[PATH_MAX];
	struct stat st;
	int n = snprintf(real, sizeof(real), "%s%s", emu_config()->bpffs_dir, out + m);
	if (n < 0 || n >= (int)sizeof(real))
		return ENAMETOOLONG;
	int err = emu_os_stat(real, &st);
	if (err)
		return -err;
	return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/*
 * Appends the components of src to the normalized absolute path out (length
 * *o), resolving "." and ".." lexically once the component a ".." removes
 * was checked like the kernel's walk (dotdot_check; the first error goes to
 * *walk_err and normalization goes on). out must hold PATH_MAX bytes.
 * Returns -1 if the result does not fit.
 */
static int append_norm(char *out, size_t *o, const char *src, int *walk_err)
{
	for (const char *s = src; *s;) {
		while (*s == '/')
			s++;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			int err = *walk_err ? 0 : dotdot_check(out, *o);
			if (err)
				*walk_err = err;
			while (*o > 1 && out[*o - 1] != '/')
				(*o)--;
			if (*o > 1)
				(*o)--;
			out[*o] = '\0';
		} else {
			size_t sep = *o > 1;
			if (*o + sep + n >= PATH_MAX)
				return -1;
			if (sep)
				out[(*o)++] = '/';
			memcpy(out + *o, s, n);
			*o += n;
			out[*o] = '\0';
		}
		s = e;
	}
	out[*o] = '\0';
	return 0;
}

/* Does the relative path contain a ".." component? */
static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
	return false;
}

/* Could the relative path p, with "." components skipped, complete some
 * mount point from one of its ancestors ("bpf/x" from "/sys/fs")? */
static bool may_reach_mount(const char *p)
{
	const struct emu_config *c = emu_config();

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	for (unsigned int i = 0; i < c->nmounts; i++) {
		/* every component boundary of the mount point: "/sys" "/fs" "/bpf" */
		for (const char *m = c->mounts[i]; (m = strchr(m, '/')); m++) {
			size_t n = strlen(m + 1);
			if (!strncmp(p, m + 1, n) && (p[n] == '\0' || p[n] == '/'))
				return true;
		}
	}
	return false;
}

/* The canonical (symlink-free) form of bpffs_dir, if it differs; "" if not. */
static const char *bpffs_dir_canonical(void)
{
	static char canon[PATH_MAX];
	static int state;       /* 0 unknown, 1 known */

	if (!__atomic_load_n(&state, __ATOMIC_ACQUIRE)) {
		char tmp[PATH_MAX];
		if (!emu_os_realpath(emu_config()->bpffs_dir, tmp) && strcmp(tmp, emu_config()->bpffs_dir)) {
			memcpy(canon, tmp, sizeof(canon));
			__atomic_store_n(&state, 1, __ATOMIC_RELEASE);
		} else if (!emu_os_faccessat(AT_FDCWD, emu_config()->bpffs_dir, F_OK)) {
			__atomic_store_n(&state, 1, __ATOMIC_RELEASE);   /* exists, no symlinks */
		}
	}
	return canon;
}

const char *emu_bpffs_real(void)
{
	const char *c = bpffs_dir_canonical();
	return c[0] ? c : emu_config()->bpffs_dir;
}

bool emu_bpffs_debug_entry(int dirfd, const char *path)
{
	static const char *const names[] = EMU_BPFFS_DEBUG_ENTRIES;
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	char dir[PATH_MAX], canon[PATH_MAX];
	bool match = false;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		match |= !strcmp(name, names[i]);
	if (!match)
		return false;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (path[0] == '/') {
		snprintf(dir, sizeof(dir), "%.*s", (int)(dlen ? dlen : 1), path);
	} else {
		char base[PATH_MAX];
		if (emu_caller_dir(dirfd, base, sizeof(base)) < 0)
			base[0] = '\0';
		snprintf(dir, sizeof(dir), "%.2000s/%.*s", base, (int)dlen, path);
	}
	return !emu_os_realpath(dir, canon) &&
	       (!strcmp(canon, emu_config()->bpffs_dir) || !strcmp(canon, bpffs_dir_canonical()));
}

/* Length of the bpffs directory prefix of the real path p, or 0. */
static size_t bpffs_prefix(const char *p)
{
	size_t n = under(p, emu_config()->bpffs_dir);

	return n ? n : under(p, bpffs_dir_canonical());
}

/* The directory dirfd stands for, as an absolute path in the program's view
 * (state-root bpffs paths shown as mount-point paths). -1 if unknown. */
static int base_dir(int dirfd, char *out, size_t *o, bool *in_bpffs)
{
	char real[PATH_MAX];

	if (emu_caller_dir(dirfd, real, sizeof(real)) <= 0 || real[0] != '/')
		return -1;
	const char *view = emu_bpffs_untranslate(real, out);
	if (!view)
		return -1;
	*in_bpffs = view == out;
	if (view != out)
		snprintf(out, PATH_MAX, "%s", view);
	*o = strlen(out);
	return 0;
}

/* Must what path names be a directory? It ends in "/", "." or "..": the
 * kernel's walk then answers ENOTDIR for a pin (a file), and a new name
 * cannot be created (ENOENT). Normalization drops those, so the translation
 * keeps a trailing "/" for the real call to answer the same. */
static bool names_dir(const char *path)
{
	size_t n = strlen(path);
	if (n && path[n - 1] == '/')
		return true;
	const char *last = strrchr(path, '/');
	last = last ? last + 1 : path;
	return !strcmp(last, ".") || !strcmp(last, "..");
}

/* Appends "/" to buf (a path of length n) if the input path named a
 * directory; -1 if it does not fit. */
static int keep_dir_slash(char *buf, size_t n, const char *path)
{
	if (!names_dir(path) || (n && buf[n - 1] == '/'))
		return 0;
	if (n + 1 >= PATH_MAX)
		return -1;
	buf[n] = '/';
	buf[n + 1] = '\0';
	return 0;
}

const char *emu_bpffs_translate(int dirfd, const char *path, char buf[PATH_MAX])
{
	const struct emu_config *c = emu_config();
	char abs[PATH_MAX];
	bool base_in_bpffs = false;
	size_t o = 1;

	if (!path || !*path)
		return path;
	if (path[0] == '/') {
		abs[0] = '/';
	} else {
		/*
		 * A relative path without ".." stays inside its base directory; a
		 * base opened or entered through the shim is already a real
		 * state-root path, so only a path that might complete a mount point
		 * from above needs the base.
		 */
		if (!has_dotdot(path) && !may_reach_mount(path))
			return path;
		if (base_dir(dirfd, abs, &o, &base_in_bpffs))
			return path;    /* let the real call report EBADF, ENOENT... */
	}
	abs[o] = '\0';
	int walk_err = 0;
	if (append_norm(abs, &o, path, &walk_err)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (walk_err) {
		/* a component inside bpffs that a ".." removed does not exist or
		 * is no directory: the kernel's walk stops there */
		EMU_LOG(EMU_LOG_PATH, "%s: a component before \"..\" fails: %s", path, strerror(walk_err));
		errno = walk_err;
		return NULL;
	}

	size_t m = mount_prefix(abs);
	if (!m) {
		if (!base_in_bpffs)
			return path;
		/* A relative path that left bpffs through "..": hand back the
		 * absolute view, so it does not resolve inside the state root. */
		memcpy(buf, abs, o + 1);
		if (keep_dir_slash(buf, o, path)) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		return buf;
	}
	int n = snprintf(buf, PATH_MAX, "%s%s", c->bpffs_dir, abs + m);
	if (n < 0 || n >= PATH_MAX || keep_dir_slash(buf, (size_t)n, path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* bpffs is "mounted" from the start: make sure its directory exists
	 * (cheap after the first call; a failure shows up as ENOENT later) */
	emu_root_ready();
	EMU_LOG(EMU_LOG_PATH, "%s -> %s", path, buf);
	return buf;
}

const char *emu_bpffs_untranslate(const char *real, char buf[PATH_MAX])
{
	const struct emu_config *c = emu_config();
	size_t n;

	if (!real || real[0] != '/' || !(n = bpffs_prefix(real)))
		return real;
	int len = snprintf(buf, PATH_MAX, "%s%s", c->mounts[0], real + n);
	if (len < 0 || len >= PATH_MAX)
		return NULL;
	return buf;
}

bool emu_bpffs_contains(const char *real)
{
	return real && real[0] == '/' && bpffs_prefix(real) != 0;
}

bool emu_bpffs_rel_contains(int dirfd, const char *path, dev_t dev)
{
	dev_t rdev;
	if (!path || path[0] == '/' || emu_root_dev(&rdev) || dev != rdev)
		return false;
	if (dirfd != AT_FDCWD)
		return emu_bpffs_fd_contains(dirfd);
	char cwd[PATH_MAX];
	return emu_caller_dir(AT_FDCWD, cwd, sizeof(cwd)) > 0 && emu_bpffs_contains(cwd);
}

bool emu_bpffs_fd_contains(int fd)
{
	char real[PATH_MAX];
	return emu_caller_dir(fd, real, sizeof(real)) > 0 && emu_bpffs_contains(real);
}

/* The kernel's mangle() for /proc/mounts fields: space, tab, newline and
 * backslash become \ooo. */
static size_t put_mangled(char *out, size_t len, size_t o, const char *s)
{
	for (; *s; s++) {
		char esc[5];
		const char *p = esc;
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			snprintf(esc, sizeof(esc), "\\%03o", (unsigned char)*s);
		else
			esc[0] = *s, esc[1] = '\0';
		for (; *p; p++, o++)
			if (o + 1 < len)
				out[o] = *p;
	}
	return o;
}

static size_t put_str(char *out, size_t len, size_t o, const char *s)
{
	for (; *s; s++, o++)
		if (o + 1 < len)
			out[o] = *s;
	return o;
}

/* Undo mangle() in place. */
static void unmangle(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

struct mnt_scan {
	int max_id;
	unsigned int max_minor;          /* of major 0 */
	bool is_bpf[8];                  /* mount point already a real bpf mount */
	int parent[8];                   /* id of the mount holding mounts[i] */
	size_t parent_len[8];
};

/* Reads /proc/self/mountinfo: free ids, parents, mount points already bpf. */
static void scan_mountinfo(struct mnt_scan *sc)
{
	const struct emu_config *c = emu_config();
	char *text = emu_os_slurp("/proc/self/mountinfo", NULL, NULL);

	memset(sc, 0, sizeof(*sc));
	sc->max_id = 100;
	if (!text)
		return;
	for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, parent, off = 0;
		unsigned int maj, min;
		char mp[PATH_MAX], fstype[64];
		if (sscanf(line, "%d %d %u:%u %*s %4095s %n", &id, &parent, &maj, &min, mp, &off) != 5 || !off)
			continue;
		const char *dash = strstr(line + off, " - ");
		if (!dash || sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		unmangle(mp);
		if (id > sc->max_id)
			sc->max_id = id;
		if (maj == 0 && min > sc->max_minor)
			sc->max_minor = min;
		for (unsigned int i = 0; i < c->nmounts && i < 8; i++) {
			if (!strcmp(mp, c->mounts[i])) {
				if (!strcmp(fstype, "bpf"))
					sc->is_bpf[i] = true;
				continue;
			}
			/* the deepest mount strictly above mounts[i] is its parent */
			size_t n = !strcmp(mp, "/") ? 1 : under(c->mounts[i], mp);
			if (n && n >= sc->parent_len[i]) {
				sc->parent[i] = id;
				sc->parent_len[i] = n;
			}
		}
	}
	free(text);
}

size_t emu_bpffs_mount_lines(char *buf, size_t len, bool mountinfo)
{
	const struct emu_config *c = emu_config();
	struct mnt_scan sc;
	struct stat st;
	unsigned int maj, min;
	size_t o = 0;
	scan_mountinfo(&sc);
	/* The device stat() reports for the mount point is the state root's. */
	if (!emu_os_stat(c->bpffs_dir, &st)) {
		maj = major(st.st_dev);
		min = minor(st.st_dev);
	} else {
		maj = 0;
		min = sc.max_minor + 1;
	}
	for (unsigned int i = 0; i < c->nmounts && i < 8; i++) {
		char num[96];
		if (sc.is_bpf[i])
			continue;
		/* skip a mount point listed twice */
		unsigned int j;
		for (j = 0; j < i && strcmp(c->mounts[j], c->mounts[i]); j++)
			;
		if (j < i)
			continue;
		if (mountinfo) {
			snprintf(num, sizeof(num), "%d %d %u:%u / ", sc.max_id + 1 + (int)i,
				 sc.parent[i] ? sc.parent[i] : 1, maj, min);
			o = put_str(buf, len, o, num);
			o = put_mangled(buf, len, o, c->mounts[i]);
			o = put_str(buf, len, o, " rw,relatime - bpf bpf rw\n");
		} else {
			o = put_str(buf, len, o, "bpf ");
			o = put_mangled(buf, len, o, c->mounts[i]);
			o = put_str(buf, len, o, " bpf rw,relatime 0 0\n");
		}
	}
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return o < len ? o : (len ? len - 1 : 0);
}
