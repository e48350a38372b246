/* SPDX-License-Identifier: MIT */
/*
 * emu/btf_kernel.c: the kernel's BTF, and the attach_btf_id checks of tracing
 * programs against it.
 *
 * The host's /sys/kernel/btf (readable by every user) is the emulator's
 * kernel BTF: vmlinux and each module's split BTF become BTF objects with
 * the kernel's flags (kernel_btf, the name), vmlinux first, so that in a new
 * state root vmlinux has id 1 as on the kernel and the modules follow. Their
 * ids are reserved in <root>/kernel-btf/index ("ID NAME" lines) the first
 * time any BTF id is handed out or asked for; the objects themselves (a copy
 * of the file, kept alive by <root>/refs/kernel/btf-ID-0, where the id scans
 * of emu/objfs.c find it) are made when ids are listed or opened. Without
 * /sys/kernel/btf/vmlinux the engine answers as a kernel without BTF (no
 * kernel BTF objects; an attach_btf_id load is EINVAL) and says so once in
 * the BPFEMU_LOG=sys log.
 *
 * The checks are bpf_prog_load()'s resolution of attach_prog_fd /
 * attach_btf_obj_fd and bpf_check_attach_target() + check_attach_btf_id()
 * of Linux 6.18's verifier for tracing (tp_btf, fentry/fexit/fmod_ret,
 * iter), lsm and ext programs, with the kernel's messages. What a user
 * cannot read is not guessed: the error-injection list (debugfs, root only)
 * decides sleepable and fmod_ret targets when it can be read, and they are
 * accepted with a log line when it cannot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btf.h"
#include "os.h"
#include "perf/perf.h"
#include "map.h"
#include "prog.h"
#include "btf_layout.h"

/* Where the kernel's BTF is: /sys/kernel/btf, or BPFEMU_KERNEL_BTF (a copy of
 * another kernel's, or a directory without vmlinux: a kernel without BTF). */
static const char *kbtf_dir(void)
{
	static const char *dir;
	const char *d = __atomic_load_n(&dir, __ATOMIC_ACQUIRE);
	if (!d) {
		d = getenv("BPFEMU_KERNEL_BTF");
		if (!d || !*d)
			d = "/sys/kernel/btf";
		__atomic_store_n(&dir, d, __ATOMIC_RELEASE);
	}
	return d;
}
#define MAX_FUNC_ARGS 12

/* ---- reading BTF: a type index over raw data (vmlinux, split module BTF, a program's BTF) ---- */

struct kbtf {
	char *data;
	size_t size;
	const char *types, *strs;
	__u32 str_len;
	__u32 *off;                    /* offset of each type in the type section */
	__u32 nr;                      /* types in this BTF (not counting a base's) */
	__u32 start_id;                /* id of the first: 1, or the base's count + 1 */
	__u32 str_start;               /* string offsets below this are the base's */
	const struct kbtf *base;
	bool borrowed;                 /* data and off are emu_kernel_btf_file()'s and _offsets()' */
};

static __u32 kind_of(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static __u32 vlen_of(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }

/* the kernel wrote it: every kind is one it (and btf_layout.h) knows */
static size_t type_extra(const struct btf_type *t)
{
	long n = emu_btf_type_extra(t);
	return n < 0 ? 0 : (size_t)n;
}

static void kbtf_free(struct kbtf *b)
{
	if (!b)
		return;
	if (!b->borrowed) {
		free(b->off);
		free(b->data);
	}
	free(b);
}

/* Indexes raw BTF (taking over data, malloc'ed) on top of base (NULL for vmlinux or a program's BTF);
 * with path (vmlinux's), the data is emu_kernel_btf_file()'s and the index the shared one. */
static struct kbtf *kbtf_parse_shared(char *data, size_t size, const struct kbtf *base, const char *path)
{
	struct kbtf *b = calloc(1, sizeof(*b));
	const struct btf_header *h = (const void *)data;
	if (!b || size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len > size ||
	    (__u64)h->hdr_len + h->type_off + h->type_len > size || (__u64)h->hdr_len + h->str_off + h->str_len > size)
		goto fail;
	b->data = data;
	b->size = size;
	b->types = data + h->hdr_len + h->type_off;
	b->strs = data + h->hdr_len + h->str_off;
	b->str_len = h->str_len;
	b->base = base;
	b->start_id = base ? base->start_id + base->nr : 1;
	b->str_start = base ? base->str_start + base->str_len : 0;
	if (path) {
		__u32 nr;
		const __u32 *off = emu_kernel_btf_offsets(path, &nr);
		if (!off)
			goto fail;
		b->borrowed = true;
		b->off = (__u32 *)off + 1;     /* ids from 1 */
		b->nr = nr - 1;
		return b;
	}
	size_t cap = 1024;
	b->off = malloc(cap * sizeof(*b->off));
	if (!b->off)
		goto fail;
	for (size_t pos = 0; pos + sizeof(struct btf_type) <= h->type_len;) {
		const struct btf_type *t = (const void *)(b->types + pos);
		if (b->nr == cap) {
			__u32 *n = realloc(b->off, 2 * cap * sizeof(*n));
			if (!n)
				goto fail;
			b->off = n;
			cap *= 2;
		}
		b->off[b->nr++] = (__u32)pos;
		pos += sizeof(*t) + type_extra(t);
	}
	return b;
fail:
	if (b)
		b->data = NULL;                /* the caller still owns data on failure */
	kbtf_free(b);
	return NULL;
}

static struct kbtf *kbtf_parse(char *data, size_t size, const struct kbtf *base)
{
	return kbtf_parse_shared(data, size, base, NULL);
}

static const struct btf_type void_type;

static const struct btf_type *kb_type(const struct kbtf *b, __u32 id)
{
	if (!id)
		return &void_type;
	while (b && id < b->start_id)
		b = b->base;
	if (!b || id - b->start_id >= b->nr)
		return NULL;
	return (const void *)(b->types + b->off[id - b->start_id]);
}

static const char *kb_name(const struct kbtf *b, __u32 off)
{
	while (b && off < b->str_start)
		b = b->base;
	if (!b || off - b->str_start >= b->str_len)
		return NULL;
	return b->strs + (off - b->str_start);
}

/* A FUNC (or another kind) by name, the first with that name: its id, or 0. */
static __u32 kb_find(const struct kbtf *b, const char *name, __u32 kind)
{
	for (const struct kbtf *x = b; x; x = x->base)
		for (__u32 i = 0; i < x->nr; i++) {
			const struct btf_type *t = (const void *)(x->types + x->off[i]);
			const char *n;
			if (kind_of(t) == kind && (n = kb_name(x, t->name_off)) && !strcmp(n, name))
				return x->start_id + i;
		}
	return 0;
}

/* NULL with errno set */
static char *read_file(const char *path, size_t *size);

/*
 * A kernel BTF file's bytes, read-only, read once per process and path and
 * shared by the engine's readers (this file, the verifier's and the VM's
 * views). Mapped where the file can be mapped (/sys/kernel/btf/vmlinux since
 * Linux 6.16, read-only and private; a copy on disk): no 5 MB copy through
 * read(); else read into memory. NULL with errno set.
 */
struct kfile {
	char path[PATH_MAX];
	const char *data;
	size_t size;
	__u32 *off;                    /* emu_kernel_btf_offsets(): NULL until asked */
	__u32 nr;
	struct kfile *next;
};
static struct kfile *kfiles;
static pthread_mutex_t kfile_lock = PTHREAD_MUTEX_INITIALIZER;

const void *emu_kernel_btf_file(const char *path, size_t *size)
{
	pthread_mutex_lock(&kfile_lock);
	struct kfile *k = kfiles;
	while (k && strcmp(k->path, path))
		k = k->next;
	if (!k && strlen(path) < sizeof(k->path) && (k = calloc(1, sizeof(*k)))) {
		strcpy(k->path, path);
		int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
		struct stat sb;
		if (fd >= 0 && !emu_os_fstat(fd, &sb) && sb.st_size > 0) {
			void *p = emu_os_mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0, NULL);
			if (p != MAP_FAILED) {
				k->data = p;
				k->size = (size_t)sb.st_size;
			}
		}
		if (fd >= 0)
			emu_os_close(fd);
		if (!k->data)
			k->data = read_file(path, &k->size);
		if (k->data) {
			k->next = kfiles;
			kfiles = k;
		} else {
			int e = errno;
			free(k);
			k = NULL;
			errno = e;
		}
	} else if (!k && strlen(path) >= sizeof(k->path)) {
		errno = ENAMETOOLONG;
	}
	pthread_mutex_unlock(&kfile_lock);
	if (!k)
		return NULL;
	*size = k->size;
	return k->data;
}

/*
 * The type index of a kernel BTF file that emu_kernel_btf_file() gave (a
 * base BTF: vmlinux): off[id] is the offset of type id in the type section
 * (off[0] unused), *nr the last id + 1. Built once per process and shared by
 * the readers (a walk of some 100,000 types each would cost about a
 * millisecond). NULL if the header is not BTF's or on ENOMEM.
 */
const __u32 *emu_kernel_btf_offsets(const char *path, __u32 *nr)
{
	const __u32 *r = NULL;
	pthread_mutex_lock(&kfile_lock);
	struct kfile *k = kfiles;
	while (k && strcmp(k->path, path))
		k = k->next;
	if (k && !k->off) {
		const struct btf_header *h = (const void *)k->data;
		if (k->size >= sizeof(*h) && h->magic == BTF_MAGIC && h->hdr_len <= k->size &&
		    (__u64)h->hdr_len + h->type_off + h->type_len <= k->size) {
			const char *types = k->data + h->hdr_len + h->type_off;
			__u32 cap = 1 + h->type_len / sizeof(struct btf_type), n = 1;
			__u32 *off = malloc((size_t)cap * sizeof(*off));
			if (off) {
				off[0] = 0;
				for (size_t pos = 0; pos + sizeof(struct btf_type) <= h->type_len && n < cap;) {
					const struct btf_type *t = (const void *)(types + pos);
					off[n++] = (__u32)pos;
					pos += sizeof(*t) + type_extra(t);
				}
				k->off = off;
				k->nr = n;
			}
		}
	}
	if (k && k->off) {
		r = k->off;
		*nr = k->nr;
	}
	pthread_mutex_unlock(&kfile_lock);
	return r;
}

static char *read_file(const char *path, size_t *size)
{
	int fd = emu_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	struct stat sb;
	size_t cap = !emu_os_fstat(fd, &sb) && sb.st_size > 0 ? (size_t)sb.st_size : 1 << 20, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			errno = ENOMEM;
			break;
		}
		long r = emu_os_read(fd, buf + n, cap - n);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			errno = (int)-r;
			break;
		}
		n += (size_t)r;
		if (r == 0)
			break;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	emu_os_close(fd);
	*size = n;
	return buf;
}

/* The kernel's BTF of this process: vmlinux, and the modules asked for. */
static pthread_mutex_t kb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kbtf *vmlinux;
static int vmlinux_state;              /* 0 not read, 1 read, -1 none */
struct kmod_btf {
	char name[64];
	struct kbtf *b;
	struct kmod_btf *next;
};
static struct kmod_btf *kmods;

static void no_btf_log(void)
{
	static int said;
	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		EMU_LOG(EMU_LOG_SYS, "%s/vmlinux cannot be read: bpfemu answers as a kernel without BTF "
			"(no kernel BTF objects; programs naming a kernel BTF type are EINVAL)", kbtf_dir());
}

static const struct kbtf *kbtf_vmlinux(void)
{
	pthread_mutex_lock(&kb_lock);
	if (!vmlinux_state) {
		size_t n;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%.4000s/vmlinux", kbtf_dir());
		char *d = (char *)emu_kernel_btf_file(path, &n);
		vmlinux = d ? kbtf_parse_shared(d, n, NULL, path) : NULL;
		vmlinux_state = vmlinux ? 1 : -1;
	}
	pthread_mutex_unlock(&kb_lock);
	if (!vmlinux)
		no_btf_log();
	return vmlinux;
}

static const struct kbtf *kbtf_module(const char *name)
{
	const struct kbtf *base = kbtf_vmlinux();
	if (!base)
		return NULL;
	pthread_mutex_lock(&kb_lock);
	struct kmod_btf *m;
	for (m = kmods; m && strcmp(m->name, name); m = m->next)
		;
	if (!m && (m = calloc(1, sizeof(*m)))) {
		char path[PATH_MAX];
		size_t n;
		snprintf(m->name, sizeof(m->name), "%s", name);
		snprintf(path, sizeof(path), "%.4000s/%.63s", kbtf_dir(), name);
		char *d = read_file(path, &n);
		m->b = d ? kbtf_parse(d, n, base) : NULL;
		if (d && !m->b)
			free(d);
		m->next = kmods;
		kmods = m;
	}
	pthread_mutex_unlock(&kb_lock);
	return m ? m->b : NULL;
}

/* ---- the kernel BTF objects and their ids ---- */

static int kdir(char *buf, size_t len)
{
	int err = emu_root_ready();
	if (err)
		return err;
	if (snprintf(buf, len, "%.4000s/kernel-btf", emu_config()->root) >= (int)len)
		return -ENAMETOOLONG;
	err = emu_os_mkdir(buf, 0700);
	return err == -EEXIST ? 0 : err;
}

struct kentry {
	__u32 id;
	char name[64];
};

/* Reads <root>/kernel-btf/index into e (at most max): count, or -errno. */
static int index_read(struct kentry *e, int max)
{
	char path[PATH_MAX], line[128];
	int err = kdir(path, sizeof(path)), n = 0;
	if (err)
		return err;
	strncat(path, "/index", sizeof(path) - strlen(path) - 1);
	struct emu_os_lines *f = emu_os_lines_open(path, &err);
	if (!f)
		return err;
	while (n < max && emu_os_lines_get(line, sizeof(line), f))
		if (sscanf(line, "%u %63s", &e[n].id, e[n].name) == 2)
			n++;
	emu_os_lines_close(f);
	return n;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Under the flock of <root>/kernel-btf: ids for vmlinux and every module, once per state root. */
static int reserve_locked(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/index", dir);
	if (!emu_os_faccessat(AT_FDCWD, path, F_OK))
		return 0;
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/index.tmp", dir);
	int f = emu_os_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (f < 0)
		return f;
	char vpath[PATH_MAX], line[96];
	int err = 0;
	snprintf(vpath, sizeof(vpath), "%.4000s/vmlinux", kbtf_dir());
	if (!emu_os_faccessat(AT_FDCWD, vpath, R_OK)) {
		char *names[4096];
		size_t n = 0;
		struct emu_os_dir *d = emu_os_opendir(kbtf_dir(), NULL);
		const struct emu_os_dirent *e;
		while (d && (e = emu_os_readdir(d)) && n < 4096)
			if (e->name[0] != '.' && strcmp(e->name, "vmlinux") && strlen(e->name) < 64)
				names[n++] = strdup(e->name);
		if (d)
			emu_os_closedir(d);
		qsort(names, n, sizeof(*names), name_cmp);
		int l = snprintf(line, sizeof(line), "%u vmlinux\n", emu_id_alloc(EMU_KIND_BTF));
		if (emu_os_write(f, line, (size_t)l) != l)
			err = -EIO;
		for (size_t i = 0; i < n; i++) {
			if (names[i]) {
				l = snprintf(line, sizeof(line), "%u %s\n", emu_id_alloc(EMU_KIND_BTF), names[i]);
				if (emu_os_write(f, line, (size_t)l) != l)
					err = -EIO;
			}
			free(names[i]);
		}
	} else {
		no_btf_log();
	}
	emu_os_close(f);
	if (!err)
		err = emu_os_renameat(AT_FDCWD, tmp, AT_FDCWD, path);
	return err;
}

static int with_kdir_lock(int (*fn)(const char *dir))
{
	char dir[PATH_MAX];
	int err = kdir(dir, sizeof(dir));
	if (err)
		return err;
	int lfd = emu_os_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (lfd < 0)
		return lfd;
	while (emu_os_flock(lfd, LOCK_EX) == -EINTR)
		;
	err = fn(dir);
	emu_os_close(lfd);
	return err;
}

int emu_kernel_btf_reserve(void)
{
	static char done_root[PATH_MAX];
	if (!strcmp(done_root, emu_config()->root))
		return 0;
	int err = with_kdir_lock(reserve_locked);
	if (!err)
		snprintf(done_root, sizeof(done_root), "%s", emu_config()->root);
	return err;
}

/* Makes the object of one kernel BTF and links it as <root>/refs/kernel/btf-ID-0. */
static int publish_one(const struct kentry *k, int refdir)
{
	char name[32], path[PATH_MAX];
	snprintf(name, sizeof(name), "btf-%u-0", k->id);
	if (!emu_os_faccessat(refdir, name, F_OK))
		return 0;
	snprintf(path, sizeof(path), "%.4000s/%.63s", kbtf_dir(), k->name);
	size_t n;
	const char *data = emu_kernel_btf_file(path, &n);
	if (!data)
		return -errno;
	struct emu_obj *obj;
	int fd = emu_obj_create(EMU_KIND_BTF, n, &obj);
	if (fd < 0)
		return fd;
	memcpy(emu_obj_data(obj), data, n);
	obj->hdr->btf.data_size = (__u32)n;
	obj->hdr->btf.kernel_btf = 1;
	snprintf(obj->hdr->btf.name, sizeof(obj->hdr->btf.name), "%s", k->name);
	obj->hdr->id = k->id;
	__atomic_store_n(&obj->hdr->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	emu_obj_mark_linked(obj);     /* a name besides its spare name */
	int err = emu_os_linkat(AT_FDCWD, proc, refdir, name, AT_SYMLINK_FOLLOW);
	emu_os_close(fd);
	emu_obj_put(obj);
	return err;
}

static int publish_locked(const char *dir)
{
	(void)dir;
	struct kentry e[512];
	int n = index_read(e, 512);
	if (n <= 0)
		return n;
	char refs[PATH_MAX];
	snprintf(refs, sizeof(refs), "%.4000s/refs", emu_config()->root);
	emu_os_mkdir(refs, 0700);
	strncat(refs, "/kernel", sizeof(refs) - strlen(refs) - 1);
	int err = emu_os_mkdir(refs, 0700);
	if (err && err != -EEXIST)
		return err;
	int rfd = emu_os_open(refs, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (rfd < 0)
		return rfd;
	err = 0;
	for (int i = 0; i < n && !err; i++)
		err = publish_one(&e[i], rfd);
	emu_os_close(rfd);
	return err;
}

int emu_kernel_btf_publish(void)
{
	static char done_root[PATH_MAX];
	if (!strcmp(done_root, emu_config()->root))
		return 0;
	int err = emu_kernel_btf_reserve();
	if (!err)
		err = with_kdir_lock(publish_locked);
	if (err)
		EMU_LOG(EMU_LOG_SYS, "kernel BTF objects: %s", strerror(-err));
	else
		snprintf(done_root, sizeof(done_root), "%s", emu_config()->root);
	return err;
}

/* The kernel BTF a BTF object id names: its BTF, or NULL (with *name set). */
static const struct kbtf *kbtf_by_obj_id(__u32 id)
{
	struct kentry e[512];
	int n = emu_kernel_btf_reserve() ? -1 : index_read(e, 512);
	for (int i = 0; i < n; i++)
		if (e[i].id == id)
			return strcmp(e[i].name, "vmlinux") ? kbtf_module(e[i].name) : kbtf_vmlinux();
	return NULL;
}

static __u32 vmlinux_obj_id(void)
{
	struct kentry e[4];
	int n = emu_kernel_btf_reserve() ? -1 : index_read(e, 4);
	return n > 0 && !strcmp(e[0].name, "vmlinux") ? e[0].id : 0;
}

/* ---- bpf_prog_load(): attach_prog_fd / attach_btf_obj_fd, and bpf_prog_load_check_attach()'s BTF part ---- */

int emu_attach_btf_resolve(__u32 prog_type, __u32 attach_fd, __u32 attach_btf_id, struct emu_attach_target *t)
{
	struct emu_obj *obj;
	int acc;
	memset(t, 0, sizeof(*t));
	if (attach_fd) {
		if (!emu_fd_get((int)attach_fd, EMU_KIND_PROG, &obj, &acc)) {
			t->dst_prog_fd = (int)attach_fd;
			t->dst_prog_id = obj->hdr->id;
			emu_obj_put(obj);
		} else {
			if (emu_fd_get((int)attach_fd, EMU_KIND_BTF, &obj, &acc))
				return -EINVAL;    /* btf_get_by_fd() failed */
			bool kernel = obj->hdr->btf.kernel_btf;
			t->btf_obj_id = obj->hdr->id;
			emu_obj_put(obj);
			if (!kernel)
				return -ENOTSUPP;  /* a program's own BTF object: not (yet) in the kernel either */
		}
	} else if (attach_btf_id) {
		/* fall back to vmlinux BTF */
		t->btf_obj_id = vmlinux_obj_id();
		if (!t->btf_obj_id || !kbtf_vmlinux()) {
			no_btf_log();
			return -EINVAL;
		}
	}
	/* bpf_prog_load_check_attach() */
	if (attach_btf_id && !t->btf_obj_id && !t->dst_prog_id)
		return -EINVAL;
	if (t->btf_obj_id && (!attach_btf_id || t->dst_prog_id))
		return -EINVAL;
	if (t->dst_prog_id && prog_type != BPF_PROG_TYPE_TRACING && prog_type != BPF_PROG_TYPE_EXT)
		return -EINVAL;
	return 0;
}

/* ---- bpf_check_attach_target() and the rest of check_attach_btf_id() ---- */

static const char *const kind_str[] = {
	"UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE",
	"CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
};

static const char *type_str(const struct btf_type *t)
{
	__u32 k = t ? kind_of(t) : 0;
	return k < ARRAY_SIZE(kind_str) ? kind_str[k] : "UNKNOWN";
}

static bool is_modifier(const struct btf_type *t)
{
	__u32 k = kind_of(t);
	return k == BTF_KIND_TYPEDEF || k == BTF_KIND_VOLATILE || k == BTF_KIND_CONST || k == BTF_KIND_RESTRICT ||
	       k == BTF_KIND_TYPE_TAG;
}

/* __get_type_size() */
static int type_size(const struct kbtf *b, __u32 id, const struct btf_type **ret)
{
	*ret = &void_type;
	if (!id)
		return 0;
	const struct btf_type *t = kb_type(b, id);
	while (t && is_modifier(t))
		t = kb_type(b, t->type);
	if (!t)
		return -EINVAL;
	*ret = t;
	__u32 k = kind_of(t);
	if (k == BTF_KIND_PTR)
		return 8;
	if (k == BTF_KIND_INT || k == BTF_KIND_ENUM || k == BTF_KIND_ENUM64 || k == BTF_KIND_STRUCT ||
	    k == BTF_KIND_UNION)
		return (int)t->size;
	return -EINVAL;
}

#define FAIL(err_, ...) do { snprintf(msg, len, __VA_ARGS__); return (err_); } while (0)

/* btf_distill_func_proto() */
static int distill(const struct kbtf *b, const struct btf_type *proto, const char *tname, char *msg, size_t len)
{
	const struct btf_param *args = (const void *)(proto + 1);
	__u32 nargs = vlen_of(proto);
	const struct btf_type *t;
	if (nargs > MAX_FUNC_ARGS)
		FAIL(-EINVAL, "The function %s has %u arguments. Too many.\n", tname, nargs);
	int ret = type_size(b, proto->type, &t);
	if (ret < 0 || kind_of(t) == BTF_KIND_STRUCT)
		FAIL(-EINVAL, "The function %s return type %s is unsupported.\n", tname, type_str(t));
	for (__u32 i = 0; i < nargs; i++) {
		if (i == nargs - 1 && args[i].type == 0)
			FAIL(-EINVAL, "The function %s with variable args is unsupported.\n", tname);
		ret = type_size(b, args[i].type, &t);
		if (ret < 0 || ret > 16)
			FAIL(-EINVAL, "The function %s arg%u type %s is unsupported.\n", tname, i, type_str(t));
		if (ret == 0)
			FAIL(-EINVAL, "The function %s has malformed void argument.\n", tname);
	}
	return 0;
}

/* Is addr-of-name on the error-injection list? 1 yes, 0 no, -1 cannot tell (debugfs is root's). */
static int error_injectable(const char *name)
{
	struct emu_os_lines *f = emu_os_lines_open("/sys/kernel/debug/error_injection/list", NULL);
	char line[256], fn[200];
	int r = 0;
	if (!f)
		return -1;
	while (emu_os_lines_get(line, sizeof(line), f))
		if (sscanf(line, "%199s", fn) == 1 && !strcmp(fn, name)) {
			r = 1;
			break;
		}
	emu_os_lines_close(f);
	return r;
}

/* btf_id_deny of Linux 6.18: only functions this kernel has are in its set */
static bool deny_listed(const char *name)
{
	static const char *const deny[] = {
		"___migrate_enable", "migrate_disable", "migrate_enable", "rcu_read_unlock_strict",
		"preempt_count_add", "preempt_count_sub", "__rcu_read_lock", "__rcu_read_unlock",
	};
	for (size_t i = 0; i < ARRAY_SIZE(deny); i++)
		if (!strcmp(name, deny[i]))
			return true;
	return false;
}

/* noreturn_deny of Linux 6.18 (fexit and fmod_ret) */
static bool noreturn(const char *name)
{
	static const char *const nr[] = {
		"__ia32_sys_exit", "__ia32_sys_exit_group", "__kunit_abort", "kunit_try_catch_throw",
		"__module_put_and_kthread_exit", "__x64_sys_exit", "__x64_sys_exit_group", "do_exit",
		"do_group_exit", "kthread_complete_and_exit", "kthread_exit", "make_task_dead",
	};
	for (size_t i = 0; i < ARRAY_SIZE(nr); i++)
		if (!strcmp(name, nr[i]))
			return true;
	return false;
}

/* bpf_lsm_hooks: bpf_lsm_<hook> for each LSM hook, a member of struct
 * lsm_static_calls_table (6.12 on) or security_hook_heads (before) */
static bool lsm_hook(const struct kbtf *b, const char *fname)
{
	if (strncmp(fname, "bpf_lsm_", 8))
		return false;
	__u32 id = kb_find(b, "lsm_static_calls_table", BTF_KIND_STRUCT);
	if (!id)
		id = kb_find(b, "security_hook_heads", BTF_KIND_STRUCT);
	const struct btf_type *t = id ? kb_type(b, id) : NULL;
	if (!t)
		return true;                   /* no list to check against: take the prefix */
	const struct btf_member *m = (const void *)(t + 1);
	for (__u32 i = 0; i < vlen_of(t); i++, m++) {
		const char *n = kb_name(b, m->name_off);
		if (n && !strcmp(n, fname + 8))
			return true;
	}
	return false;
}

/* bpf_iter_prog_supported(): "bpf_iter_<target>", a registered target (its
 * function takes a struct bpf_iter_meta * first) */
static bool iter_target(const struct kbtf *b, const struct btf_type *func, const char *tname)
{
	if (strncmp(tname, "bpf_iter_", 9))
		return false;
	const struct btf_type *proto = kb_type(b, func->type);
	if (!proto || kind_of(proto) != BTF_KIND_FUNC_PROTO || !vlen_of(proto))
		return false;
	const struct btf_param *p = (const void *)(proto + 1);
	const struct btf_type *ptr = kb_type(b, p[0].type);
	const struct btf_type *s = ptr && kind_of(ptr) == BTF_KIND_PTR ? kb_type(b, ptr->type) : NULL;
	const char *sn = s && kind_of(s) == BTF_KIND_STRUCT ? kb_name(b, s->name_off) : NULL;
	return sn && !strcmp(sn, "bpf_iter_meta");
}

/* A BTF object's types by fd (acc: any) or by id: its own parsed copy, or NULL. */
static struct kbtf *btf_obj_parse(int fd, __u32 id)
{
	struct emu_obj *btf;
	bool opened = false;
	if (fd <= 0) {
		if (!id)
			return NULL;
		fd = emu_obj_fd_by_id(EMU_KIND_BTF, id, O_RDONLY);
		if (fd < 0)
			return NULL;
		opened = true;
	}
	int acc;
	struct kbtf *b = NULL;
	if (!(opened ? emu_fd_get_local(fd, EMU_KIND_BTF, &btf, &acc) : emu_fd_get(fd, EMU_KIND_BTF, &btf, &acc))) {
		size_t n = btf->hdr->btf.data_size;
		char *d = malloc(n);
		if (d) {
			memcpy(d, emu_obj_data(btf), n);
			b = kbtf_parse(d, n, NULL);
			if (!b)
				free(d);
		}
		emu_obj_put(btf);
	}
	if (opened) {
		emu_fd_closed(fd);
		emu_os_close(fd);
	}
	return b;
}

/* A program's BTF (for attach_prog_fd targets). */
static struct kbtf *prog_btf(const struct emu_obj *prog)
{
	return btf_obj_parse(-1, prog->hdr->prog.btf_id);
}

static const struct btf_type *skip_mods(const struct kbtf *b, __u32 id)
{
	const struct btf_type *t = kb_type(b, id);
	while (t && is_modifier(t))
		t = kb_type(b, t->type);
	return t ? t : &void_type;
}

static bool has_size(const struct btf_type *t)
{
	__u32 k = kind_of(t);
	return k == BTF_KIND_INT || k == BTF_KIND_STRUCT || k == BTF_KIND_UNION || k == BTF_KIND_ENUM ||
	       k == BTF_KIND_DATASEC || k == BTF_KIND_FLOAT || k == BTF_KIND_ENUM64;
}

/* btf_check_func_type_match(): the extension's function (b1, t1) against the one it replaces */
static int func_type_match(const struct kbtf *b1, const struct btf_type *t1, const struct kbtf *b2,
			   const struct btf_type *t2, char *msg, size_t len)
{
	const char *fn1 = kb_name(b1, t1->name_off), *fn2 = kb_name(b2, t2->name_off);
	fn1 = fn1 ? fn1 : "";
	fn2 = fn2 ? fn2 : "";
	if (vlen_of(t1) != BTF_FUNC_GLOBAL)
		FAIL(-EINVAL, "%s() is not a global function\n", fn1);
	if (vlen_of(t2) != BTF_FUNC_GLOBAL)
		FAIL(-EINVAL, "%s() is not a global function\n", fn2);
	t1 = kb_type(b1, t1->type);
	t2 = kb_type(b2, t2->type);
	if (!t1 || kind_of(t1) != BTF_KIND_FUNC_PROTO || !t2 || kind_of(t2) != BTF_KIND_FUNC_PROTO)
		return -EFAULT;
	const struct btf_param *a1 = (const void *)(t1 + 1), *a2 = (const void *)(t2 + 1);
	__u32 n1 = vlen_of(t1), n2 = vlen_of(t2);
	if (n1 != n2)
		FAIL(-EINVAL, "%s() has %d args while %s() has %d args\n", fn1, (int)n1, fn2, (int)n2);
	const struct btf_type *r1 = skip_mods(b1, t1->type), *r2 = skip_mods(b2, t2->type);
	if (r1->info != r2->info)
		FAIL(-EINVAL, "Return type %s of %s() doesn't match type %s of %s()\n", type_str(r1), fn1,
		     type_str(r2), fn2);
	for (__u32 i = 0; i < n1; i++) {
		const struct btf_type *x = skip_mods(b1, a1[i].type), *y = skip_mods(b2, a2[i].type);
		if (x->info != y->info)
			FAIL(-EINVAL, "arg%d in %s() is %s while %s() has %s\n", (int)i, fn1, type_str(x), fn2,
			     type_str(y));
		if (has_size(x) && x->size != y->size)
			FAIL(-EINVAL, "arg%d in %s() has size %d while %s() has %d\n", (int)i, fn1, (int)x->size, fn2,
			     (int)y->size);
		__u32 k = kind_of(x);
		if (k == BTF_KIND_INT || k == BTF_KIND_ENUM || k == BTF_KIND_ENUM64)
			continue;
		if (k != BTF_KIND_PTR)
			FAIL(-EINVAL, "arg%d in %s() has unrecognized type\n", (int)i, fn1);
		x = skip_mods(b1, x->type);
		y = skip_mods(b2, y->type);
		if (kind_of(x) != BTF_KIND_STRUCT && kind_of(x) != BTF_KIND_UNION)
			FAIL(-EINVAL, "arg%d in %s() is not a pointer to context\n", (int)i, fn1);
		if (kind_of(y) != BTF_KIND_STRUCT && kind_of(y) != BTF_KIND_UNION)
			FAIL(-EINVAL, "arg%d in %s() is not a pointer to context\n", (int)i, fn2);
		const char *s1 = kb_name(b1, x->name_off), *s2 = kb_name(b2, y->name_off);
		if (strcmp(s1 ? s1 : "", s2 ? s2 : ""))
			FAIL(-EINVAL, "arg%d in %s() %s doesn't match %s() %s\n", (int)i, fn1, s1 ? s1 : "", fn2,
			     s2 ? s2 : "");
	}
	return 0;
}

/* btf_check_type_match(): the extension's own BTF and first function */
static int ext_type_match(const struct emu_attach_check *c, const struct kbtf *b2, const struct btf_type *t2,
			  char *msg, size_t len)
{
	if (!c->has_finfo)
		FAIL(-EINVAL, "Program extension requires BTF\n");
	if (!c->func0_type_id)
		return -EFAULT;
	struct kbtf *b1 = btf_obj_parse(c->prog_btf_fd, c->prog_btf_obj_id);
	const struct btf_type *t1 = b1 ? kb_type(b1, c->func0_type_id) : NULL;
	int err = -EFAULT;
	if (t1 && kind_of(t1) == BTF_KIND_FUNC)
		err = func_type_match(b1, t1, b2, t2, msg, len);
	kbtf_free(b1);
	return err;
}

/* The target program's part of bpf_check_attach_target() (tgt_prog != NULL). */
static int check_dst_prog(struct emu_attach_check *c, char *msg, size_t len)
{
	struct emu_obj *tgt;
	int acc, err = emu_fd_get(c->dst_prog_fd, EMU_KIND_PROG, &tgt, &acc);
	if (err)
		return -EINVAL;
	struct kbtf *b = prog_btf(tgt);
	bool ext = c->prog_type == BPF_PROG_TYPE_EXT;
	const struct btf_type *t;
	const char *tname;
	if (!b) {
		snprintf(msg, len, "FENTRY/FEXIT program can only be attached to another program annotated with BTF\n");
		err = -EINVAL;
		goto out;
	}
	t = kb_type(b, c->btf_id);
	if (!t) {
		snprintf(msg, len, "attach_btf_id %u is invalid\n", c->btf_id);
		err = -EINVAL;
		goto out;
	}
	tname = kb_name(b, t->name_off);
	if (!tname) {
		snprintf(msg, len, "attach_btf_id %u doesn't have a name\n", c->btf_id);
		err = -EINVAL;
		goto out;
	}
	const struct emu_prog_desc *p = &tgt->hdr->prog;
	const struct bpf_func_info *fi =
		(const void *)((char *)emu_obj_data(tgt) + (size_t)p->insn_cnt * sizeof(struct bpf_insn));
	int sub = -1;
	for (__u32 i = 0; i < p->nr_func_info; i++)
		if (fi[i].type_id == c->btf_id) {
			sub = (int)i;
			break;
		}
	if (sub < 0) {
		snprintf(msg, len, "Subprog %s doesn't exist\n", tname);
		err = -EINVAL;
		goto out;
	}
	if (!ext) {
		/* no JIT shown here, as on a kernel without one: tgt_prog->jited is false */
		snprintf(msg, len, "Can attach to only JITed progs\n");
		err = -EINVAL;
		goto out;
	}
	/* func_info_aux[].unreliable: a static function */
	if (BTF_INFO_VLEN(t->info) == BTF_FUNC_STATIC) {
		snprintf(msg, len, "Cannot replace static functions\n");
		err = -EINVAL;
		goto out;
	}
	/* An extension's target runs in the VM, which bpfemu runs (and the
	 * extension with it): as a kernel whose JIT is on, the JIT checks pass */
	bool tgt_pkt = sub >= 64 || (p->sub_pkt_mask >> sub & 1);
	bool tgt_sleep = sub >= 64 || (p->sub_sleep_mask >> sub & 1);
	if (c->changes_pkt_data && !tgt_pkt) {
		snprintf(msg, len, "Extension program changes packet data, while original does not\n");
		err = -EINVAL;
		goto out;
	}
	if (c->might_sleep && !tgt_sleep) {
		snprintf(msg, len, "Extension program may sleep, while original does not\n");
		err = -EINVAL;
		goto out;
	}
	if (p->prog_type == BPF_PROG_TYPE_EXT) {
		snprintf(msg, len, "Cannot recursively attach\n");
		err = -EINVAL;
		goto out;
	}
	if (p->prog_type == BPF_PROG_TYPE_TRACING &&
	    (p->expected_attach_type == BPF_TRACE_FENTRY || p->expected_attach_type == BPF_TRACE_FEXIT)) {
		snprintf(msg, len, "Cannot extend fentry/fexit\n");
		err = -EINVAL;
		goto out;
	}
	/* the switch on expected_attach_type: an extension takes the function path */
	if (kind_of(t) != BTF_KIND_FUNC) {
		snprintf(msg, len, "attach_btf_id %u is not a function\n", c->btf_id);
		err = -EINVAL;
		goto out;
	}
	if (ext_type_match(c, b, t, msg, len)) {
		err = -EINVAL;
		goto out;
	}
	const struct btf_type *proto = kb_type(b, t->type);
	if (!proto || kind_of(proto) != BTF_KIND_FUNC_PROTO) {
		err = -EINVAL;
		goto out;
	}
	c->dst_prog_type = p->prog_type;
	c->dst_eat = p->expected_attach_type;
	c->dst_prog_id = tgt->hdr->id;
	c->dst_insn_off = fi[sub].insn_off;
	err = 0;
out:
	kbtf_free(b);
	emu_obj_put(tgt);
	return err;
}

/* btf_type_resolve_func_ptr(): a member's pointer to a function prototype, or NULL */
static const struct btf_type *func_ptr(const struct kbtf *b, __u32 id)
{
	const struct btf_type *t = kb_type(b, id);
	while (t && is_modifier(t))
		t = kb_type(b, t->type);
	if (!t || kind_of(t) != BTF_KIND_PTR)
		return NULL;
	t = kb_type(b, t->type);
	while (t && is_modifier(t))
		t = kb_type(b, t->type);
	return t && kind_of(t) == BTF_KIND_FUNC_PROTO ? t : NULL;
}

/* check_struct_ops_btf_id(): a struct_ops type is registered when the kernel's
 * BTF has its value type, struct bpf_struct_ops_<name> */
static int check_struct_ops(const struct emu_attach_check *c, char *msg, size_t len)
{
	char value[160];
	if (!c->gpl)
		FAIL(-EINVAL, "struct ops programs must have a GPL compatible license\n");
	if (!c->btf_id)
		return -ENOTSUPP;
	const struct kbtf *b = c->btf_obj_id ? kbtf_by_obj_id(c->btf_obj_id) : NULL;
	const struct btf_type *t = b ? kb_type(b, c->btf_id) : NULL;
	const char *name = t && kind_of(t) == BTF_KIND_STRUCT ? kb_name(b, t->name_off) : NULL;
	snprintf(value, sizeof(value), "bpf_struct_ops_%.120s", name ? name : "");
	if (!name || !*name || !kb_find(b, value, BTF_KIND_STRUCT))
		FAIL(-ENOTSUPP, "attach_btf_id %u is not a supported struct\n", c->btf_id);
	__u32 idx = c->eat;
	if (idx >= vlen_of(t))
		FAIL(-EINVAL, "attach to invalid member idx %u of struct %s\n", idx, name);
	const struct btf_member *m = (const struct btf_member *)(t + 1) + idx;
	const char *mname = kb_name(b, m->name_off);
	if (!func_ptr(b, m->type))
		FAIL(-EINVAL, "attach to invalid member %s(@idx %u) of struct %s\n", mname ? mname : "", idx, name);
	/* st_ops->check_member(): tcp_congestion_ops' get_info is unsupported
	 * (bpf_tcp_ca_check_member); of bpf_dummy_ops only test_sleepable may be
	 * sleepable (bpf_dummy_ops_check_member) */
	if (!strcmp(name, "tcp_congestion_ops") && mname && !strcmp(mname, "get_info"))
		FAIL(-ENOTSUPP, "attach to unsupported member %s of struct %s\n", mname, name);
	if (!strcmp(name, "bpf_dummy_ops") && c->sleepable && mname && strcmp(mname, "test_sleepable"))
		FAIL(-EINVAL, "attach to unsupported member %s of struct %s\n", mname, name);
	return 0;
}

int emu_attach_btf_check(struct emu_attach_check *c, char *msg, size_t len)
{
	msg[0] = '\0';
	if (c->prog_type == BPF_PROG_TYPE_STRUCT_OPS)
		return check_struct_ops(c, msg, len);
	if (c->prog_type != BPF_PROG_TYPE_TRACING && c->prog_type != BPF_PROG_TYPE_LSM &&
	    c->prog_type != BPF_PROG_TYPE_EXT)
		return 0;
	if (!c->btf_id)
		FAIL(-EINVAL, "Tracing programs must provide btf_id\n");
	if (c->dst_prog_fd > 0)
		return check_dst_prog(c, msg, len);
	const struct kbtf *b = c->btf_obj_id ? kbtf_by_obj_id(c->btf_obj_id) : NULL;
	if (!b)
		FAIL(-EINVAL, "FENTRY/FEXIT program can only be attached to another program annotated with BTF\n");
	const struct btf_type *t = kb_type(b, c->btf_id);
	if (!t)
		FAIL(-EINVAL, "attach_btf_id %u is invalid\n", c->btf_id);
	const char *tname = kb_name(b, t->name_off);
	if (!tname)
		FAIL(-EINVAL, "attach_btf_id %u doesn't have a name\n", c->btf_id);
	if (c->prog_type == BPF_PROG_TYPE_EXT)
		FAIL(-EINVAL, "Cannot replace kernel functions\n");
	switch (c->eat) {
	case BPF_TRACE_RAW_TP: {
		if (kind_of(t) != BTF_KIND_TYPEDEF)
			FAIL(-EINVAL, "attach_btf_id %u is not a typedef\n", c->btf_id);
		if (strncmp(tname, "btf_trace_", 10))
			FAIL(-EINVAL, "attach_btf_id %u points to wrong type name %s\n", c->btf_id, tname);
		/* a btf_trace_<tp> typedef is emitted for every tracepoint the kernel defines */
		const struct btf_type *ptr = kb_type(b, t->type);
		if (!ptr || kind_of(ptr) != BTF_KIND_PTR)
			return -EINVAL;
		return 0;
	}
	case BPF_TRACE_ITER: {
		if (kind_of(t) != BTF_KIND_FUNC)
			FAIL(-EINVAL, "attach_btf_id %u is not a function\n", c->btf_id);
		const struct btf_type *proto = kb_type(b, t->type);
		if (!proto || kind_of(proto) != BTF_KIND_FUNC_PROTO)
			return -EINVAL;
		int err = distill(b, proto, tname, msg, len);
		if (err)
			return err;
		if (!iter_target(b, t, tname)) {
			EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: iter: '%s' is no registered bpf_iter target: EINVAL", tname);
			return -EINVAL;
		}
		return 0;
	}
	case BPF_MODIFY_RETURN: case BPF_LSM_MAC: case BPF_LSM_CGROUP: case BPF_TRACE_FENTRY: case BPF_TRACE_FEXIT:
		break;
	default:
		return -EINVAL;
	}
	if (kind_of(t) != BTF_KIND_FUNC)
		FAIL(-EINVAL, "attach_btf_id %u is not a function\n", c->btf_id);
	const struct btf_type *proto = kb_type(b, t->type);
	if (!proto || kind_of(proto) != BTF_KIND_FUNC_PROTO)
		return -EINVAL;
	int err = distill(b, proto, tname, msg, len);
	if (err)
		return err;
	/* kallsyms_lookup_name() */
	int has = emu_kallsyms_has(tname);
	if (has == 0)
		FAIL(-ENOENT, "The address of function %s cannot be found\n", tname);
	if (c->sleepable) {
		int inj = error_injectable(tname);
		bool ok = c->prog_type == BPF_PROG_TYPE_TRACING
				  ? inj != 0 && strcmp(tname, "__filemap_add_folio") && strcmp(tname, "should_fail_alloc_page") &&
					    strcmp(tname, "should_failslab")
				  : true;   /* lsm: the sleepable hooks are not listed in BTF: taken on trust */
		if (inj < 0 && c->prog_type == BPF_PROG_TYPE_TRACING)
			EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: sleepable %s: the error-injection list (debugfs) cannot be "
				"read; accepted unchecked", tname);
		if (!ok)
			FAIL(-EINVAL, "%s is not sleepable\n", tname);
	} else if (c->eat == BPF_MODIFY_RETURN) {
		int inj = error_injectable(tname);
		if (inj < 0 && strncmp(tname, "security_", 9))
			EMU_LOG(EMU_LOG_SYS, "BPF_PROG_LOAD: fmod_ret %s: the error-injection list (debugfs) cannot be "
				"read; accepted unchecked", tname);
		if (inj == 0 && strncmp(tname, "security_", 9))
			FAIL(-EINVAL, "%s() is not modifiable\n", tname);
	}
	/* check_attach_btf_id() after the target */
	if (c->prog_type == BPF_PROG_TYPE_LSM) {
		if (!c->gpl)
			FAIL(-EINVAL, "LSM programs must have a GPL compatible license\n");
		if (!lsm_hook(b, tname))
			FAIL(-EINVAL, "attach_btf_id %u points to wrong type name %s\n", c->btf_id, tname);
	} else if (deny_listed(tname)) {
		FAIL(-EINVAL, "Attaching tracing programs to function '%s' is rejected.\n", tname);
	} else if ((c->eat == BPF_TRACE_FEXIT || c->eat == BPF_MODIFY_RETURN) && noreturn(tname)) {
		FAIL(-EINVAL, "Attaching fexit/fmod_ret to __noreturn function '%s' is rejected.\n", tname);
	}
	return 0;
}

/* The name of a kernel BTF type (for link info and the registry of attach points): NULL if none. */
const char *emu_kernel_btf_name(__u32 btf_obj_id, __u32 type_id)
{
	const struct kbtf *b = kbtf_by_obj_id(btf_obj_id);
	const struct btf_type *t = b ? kb_type(b, type_id) : NULL;
	return t ? kb_name(b, t->name_off) : NULL;
}

/* A type's id in the kernel's BTF by name and kind (vmlinux, then the modules): 0 if none. */
__u32 emu_kernel_btf_find(const char *name, __u32 kind, __u32 *btf_obj_id)
{
	struct kentry e[512];
	int n = emu_kernel_btf_reserve() ? -1 : index_read(e, 512);
	for (int i = 0; i < n; i++) {
		const struct kbtf *b = strcmp(e[i].name, "vmlinux") ? kbtf_module(e[i].name) : kbtf_vmlinux();
		__u32 id = 0;
		if (b) {
			for (__u32 k = 0; k < b->nr && !id; k++) {
				const struct btf_type *t = (const void *)(b->types + b->off[k]);
				const char *nm;
				if (kind_of(t) == kind && (nm = kb_name(b, t->name_off)) && !strcmp(nm, name))
					id = b->start_id + k;
			}
		}
		if (id) {
			if (btf_obj_id)
				*btf_obj_id = e[i].id;
			return id;
		}
	}
	return 0;
}

/* ---- read access to vmlinux for the engine's other parts (emu/fire: synthetic kernel objects) ---- */

__u32 emu_vmlinux_btf_nr_types(void)
{
	const struct kbtf *b = kbtf_vmlinux();
	return b ? b->start_id + b->nr : 0;
}

const struct btf_type *emu_vmlinux_btf_type(__u32 type_id)
{
	const struct kbtf *b = kbtf_vmlinux();
	return b ? kb_type(b, type_id) : NULL;
}

const char *emu_vmlinux_btf_str(__u32 off)
{
	const struct kbtf *b = kbtf_vmlinux();
	return b ? kb_name(b, off) : NULL;
}
