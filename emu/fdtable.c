/* SPDX-License-Identifier: MIT */
/*
 * emu/fdtable.c: the per-process fd -> object cache, object files, locks.
 *
 * The cache is kept right by the shim, which sees close(), the dup family and
 * fcntl(F_DUPFD*) and calls emu_fd_closed()/emu_fd_duped(). Without the shim
 * (embedding through bpfemu_bpf()), every cached entry is re-validated with an
 * fstat() before use, since the program may close and reuse fds unseen.
 * Unknown fds (inherited across exec, received over a socket) are adopted on
 * first use after an fstat() and a header check.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "obj.h"
#include "map.h"

struct fdent {
	struct emu_obj *obj;
	int accmode;
};

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fdent *fds;
static size_t nfds;
static struct emu_obj *objs;       /* every mapped object of this process */
static bool hooks_active;
static dev_t root_dev;
static bool root_dev_known;

void emu_fd_hooks_active(void)
{
	__atomic_store_n(&hooks_active, true, __ATOMIC_RELEASE);
}

/* Drop one reference; unmap when the last fd and user are gone. fd_lock held. */
static void obj_put_locked(struct emu_obj *obj)
{
	if (--obj->refs > 0)
		return;
	for (struct emu_obj **pp = &objs; *pp; pp = &(*pp)->next)
		if (*pp == obj) {
			*pp = obj->next;
			break;
		}
	munmap(obj->hdr, obj->map_len);
	free(obj);
}

void emu_obj_put(struct emu_obj *obj)
{
	if (!obj)
		return;
	pthread_mutex_lock(&fd_lock);
	obj_put_locked(obj);
	pthread_mutex_unlock(&fd_lock);
}

static void fd_clear_locked(int fd)
{
	if (fd >= 0 && (size_t)fd < nfds && fds[fd].obj) {
		struct emu_obj *obj = fds[fd].obj;
		fds[fd].obj = NULL;
		obj_put_locked(obj);
	}
}

static int fd_set_locked(int fd, struct emu_obj *obj, int accmode)
{
	if ((size_t)fd >= nfds) {
		size_t n = nfds ? nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct fdent *t = realloc(fds, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + nfds, 0, (n - nfds) * sizeof(*t));
		fds = t;
		nfds = n;
	}
	fd_clear_locked(fd);
	fds[fd].obj = obj;
	fds[fd].accmode = accmode;
	return 0;
}

void emu_fd_closed(int fd)
{
	pthread_mutex_lock(&fd_lock);
	fd_clear_locked(fd);
	pthread_mutex_unlock(&fd_lock);
}

void emu_fd_range_closed(unsigned int first, unsigned int last)
{
	pthread_mutex_lock(&fd_lock);
	for (size_t fd = first; fd < nfds && fd <= last; fd++)
		fd_clear_locked((int)fd);
	pthread_mutex_unlock(&fd_lock);
}

void emu_fd_duped(int oldfd, int newfd)
{
	if (oldfd == newfd || newfd < 0)
		return;
	pthread_mutex_lock(&fd_lock);
	if (oldfd >= 0 && (size_t)oldfd < nfds && fds[oldfd].obj) {
		struct emu_obj *obj = fds[oldfd].obj;
		obj->refs++;
		if (fd_set_locked(newfd, obj, fds[oldfd].accmode))
			obj->refs--;
	} else {
		fd_clear_locked(newfd);   /* newfd now names a file we may not know */
	}
	pthread_mutex_unlock(&fd_lock);
}

void bpfemu_forget_fd(int fd) __attribute__((visibility("default")));
void bpfemu_forget_fd(int fd)
{
	emu_fd_closed(fd);
}

static int root_dev_get(dev_t *dev)
{
	if (!__atomic_load_n(&root_dev_known, __ATOMIC_ACQUIRE)) {
		struct stat sb;
		int err = emu_root_ready();
		if (err)
			return err;
		if (stat(emu_config()->objs_dir, &sb))
			return -errno;
		root_dev = sb.st_dev;
		__atomic_store_n(&root_dev_known, true, __ATOMIC_RELEASE);
	}
	*dev = root_dev;
	return 0;
}

int emu_fd_reopen(int fd, int accmode)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int nfd = open(path, accmode | O_CLOEXEC);
	return nfd < 0 ? -errno : nfd;
}

static int check_hdr(const struct emu_obj_hdr *h, const struct stat *sb)
{
	if (h->magic != EMU_OBJ_MAGIC || h->version != EMU_OBJ_VERSION)
		return -EINVAL;
	if (h->kind < EMU_KIND_MAP || h->kind > EMU_KIND_LINK)
		return -EINVAL;
	if (h->data_off < sizeof(*h) || h->data_off % EMU_PAGE_SIZE ||
	    h->total_size != h->data_off + h->data_size || h->total_size > (__u64)sb->st_size)
		return -EINVAL;
	return 0;
}

/* Map the object file behind fd (fd_lock held). */
static int obj_map_locked(int fd, const struct stat *sb, struct emu_obj **objp)
{
	for (struct emu_obj *o = objs; o; o = o->next)
		if (o->dev == sb->st_dev && o->ino == sb->st_ino) {
			o->refs++;
			*objp = o;
			return 0;
		}

	/* The fd may be read- or write-only; the mapping must be writable (locks). */
	int rfd = emu_fd_reopen(fd, O_RDWR);
	if (rfd < 0)
		return rfd == -EACCES ? -EACCES : -EINVAL;
	struct emu_obj_hdr h;
	int err = 0;
	if (pread(rfd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		err = -EINVAL;
	if (!err)
		err = check_hdr(&h, sb);
	void *p = MAP_FAILED;
	if (!err) {
		p = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
		if (p == MAP_FAILED)
			err = -ENOMEM;
	}
	close(rfd);
	if (err)
		return err;
	struct emu_obj *obj = calloc(1, sizeof(*obj));
	if (!obj) {
		munmap(p, h.total_size);
		return -ENOMEM;
	}
	obj->hdr = p;
	obj->map_len = h.total_size;
	obj->dev = sb->st_dev;
	obj->ino = sb->st_ino;
	obj->refs = 1;
	if (h.kind == EMU_KIND_MAP)
		obj->ops = emu_map_ops_of(h.map.map_type);
	obj->next = objs;
	objs = obj;
	*objp = obj;
	return 0;
}

int emu_fd_get(int fd, enum emu_kind kind, struct emu_obj **objp, int *accmode)
{
	struct stat sb;
	bool trusted = __atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE);
	int err;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&fd_lock);
	struct emu_obj *obj = (size_t)fd < nfds ? fds[fd].obj : NULL;
	if (obj && !trusted) {
		/* Nobody tells us about close(): check the fd still names this file. */
		if (fstat(fd, &sb) || sb.st_dev != obj->dev || sb.st_ino != obj->ino) {
			fd_clear_locked(fd);
			obj = NULL;
		}
	}
	if (obj) {
		*accmode = fds[fd].accmode;
		goto found;
	}

	/* Adopt an fd we have not seen. */
	dev_t rdev = 0;
	if (fstat(fd, &sb)) {
		err = -errno == -EBADF ? -EBADF : -errno;
		goto out;
	}
	err = -EINVAL;
	if (!S_ISREG(sb.st_mode) || root_dev_get(&rdev) || sb.st_dev != rdev ||
	    sb.st_size < (off_t)EMU_PAGE_SIZE)
		goto out;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		err = -EBADF;
		goto out;
	}
	if (fl & O_PATH)
		goto out;
	err = obj_map_locked(fd, &sb, &obj);
	if (err)
		goto out;
	err = fd_set_locked(fd, obj, fl & O_ACCMODE);
	if (err) {
		obj_put_locked(obj);
		goto out;
	}
	*accmode = fl & O_ACCMODE;
found:
	if (kind != EMU_KIND_NONE && obj->hdr->kind != (__u32)kind) {
		err = -EINVAL;
		goto out;
	}
	obj->refs++;
	*objp = obj;
	err = 0;
out:
	pthread_mutex_unlock(&fd_lock);
	return err;
}

void emu_fd_install(int fd, struct emu_obj *obj)
{
	pthread_mutex_lock(&fd_lock);
	if (fd_set_locked(fd, obj, O_RDWR))
		obj_put_locked(obj);
	else
		fds[fd].accmode = fcntl(fd, F_GETFL) & O_ACCMODE;
	pthread_mutex_unlock(&fd_lock);
}

enum emu_kind emu_fd_kind(int fd)
{
	struct emu_obj *obj;
	int acc;
	if (emu_fd_get(fd, EMU_KIND_NONE, &obj, &acc))
		return EMU_KIND_NONE;
	enum emu_kind k = (enum emu_kind)obj->hdr->kind;
	emu_obj_put(obj);
	return k;
}

const char *emu_kind_anon_name(enum emu_kind kind)
{
	switch (kind) {
	case EMU_KIND_MAP: return "anon_inode:bpf-map";
	case EMU_KIND_PROG: return "anon_inode:bpf-prog";
	case EMU_KIND_BTF: return "anon_inode:btf";
	case EMU_KIND_LINK: return "anon_inode:bpf_link";
	default: return NULL;
	}
}

static int space_available(__u64 bytes)
{
	struct statvfs vfs;
	if (statvfs(emu_config()->objs_dir, &vfs))
		return 0;   /* cannot tell: let the write fail later rather than refuse */
	if (vfs.f_blocks && (__u64)vfs.f_bavail * vfs.f_frsize < bytes)
		return -ENOMEM;
	return 0;
}

int emu_obj_create(enum emu_kind kind, __u64 data_size, struct emu_obj **objp)
{
	int err = emu_root_ready();
	if (err)
		return err;
	__u64 data_off = EMU_PAGE_SIZE;
	__u64 total = data_off + page_align(data_size);
	if (total < data_size || total > (__u64)1 << 46)
		return -ENOMEM;
	/* A sparse file that the type would overfill could later SIGBUS the
	 * program on a page fault; the kernel answers ENOMEM up front instead. */
	err = space_available(total);
	if (err)
		return err;

	int fd = open(emu_config()->objs_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == ENOSPC ? -ENOMEM : -errno;
	if (ftruncate(fd, (off_t)total)) {
		err = errno == EFBIG ? -E2BIG : -ENOMEM;
		goto fail_fd;
	}
	/* Reserve every page now, as the kernel allocates an array or a
	 * preallocated hash at create: a sparse file on a full tmpfs would
	 * SIGBUS the first store to an unallocated page. Filesystems without
	 * fallocate keep the sparse file. */
	if (fallocate(fd, 0, 0, (off_t)total) && errno != EOPNOTSUPP) {
		err = errno == EFBIG ? -E2BIG : -ENOMEM;
		goto fail_fd;
	}
	void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -ENOMEM;
		goto fail_fd;
	}
	struct emu_obj *obj = calloc(1, sizeof(*obj));
	if (!obj) {
		err = -ENOMEM;
		goto fail_map;
	}
	struct emu_obj_hdr *h = p;
	h->version = EMU_OBJ_VERSION;
	h->kind = kind;
	h->owner_uid = (__u32)getuid();
	h->data_off = data_off;
	h->data_size = total - data_off;
	h->total_size = total;

	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&h->lock, &ma);
	pthread_mutexattr_destroy(&ma);

	struct stat sb;
	if (fstat(fd, &sb)) {
		err = -errno;
		free(obj);
		goto fail_map;
	}
	obj->hdr = h;
	obj->map_len = total;
	obj->dev = sb.st_dev;
	obj->ino = sb.st_ino;
	obj->refs = 1;
	pthread_mutex_lock(&fd_lock);
	obj->next = objs;
	objs = obj;
	pthread_mutex_unlock(&fd_lock);
	*objp = obj;
	return fd;     /* magic is written by the caller once the object is complete */

fail_map:
	munmap(p, total);
fail_fd:
	close(fd);
	return err;
}

bool emu_obj_lock(struct emu_obj *obj)
{
	int r = pthread_mutex_lock(&obj->hdr->lock);
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(&obj->hdr->lock);
		__atomic_add_fetch(&obj->hdr->lock_gen, 1, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

void emu_obj_unlock(struct emu_obj *obj)
{
	pthread_mutex_unlock(&obj->hdr->lock);
}

/* ---- copies that answer EFAULT instead of crashing ---- */

int emu_copy_from_user(void *dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if (!src)
		return -EFAULT;
	struct iovec l = { dst, len }, r = { (void *)src, len };
	ssize_t n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		memcpy(dst, src, len);     /* no way to check: trust the caller */
		return 0;
	}
	return -EFAULT;
}

int emu_copy_to_user(void *dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if (!dst)
		return -EFAULT;
	struct iovec l = { (void *)src, len }, r = { dst, len };
	ssize_t n = process_vm_writev(getpid(), &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		memcpy(dst, src, len);
		return 0;
	}
	return -EFAULT;
}

long emu_strncpy_from_user(char *dst, const void *src, size_t len)
{
	/* Copy in chunks that do not cross a page, so the string may end just
	 * before an unmapped page as the kernel allows. */
	size_t done = 0;
	if (!src)
		return -EFAULT;
	while (done < len) {
		uintptr_t a = (uintptr_t)src + done;
		size_t chunk = EMU_PAGE_SIZE - (a % EMU_PAGE_SIZE);
		if (chunk > len - done)
			chunk = len - done;
		if (emu_copy_from_user(dst + done, (const void *)a, chunk))
			return -EFAULT;
		char *nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	return -ENAMETOOLONG;
}

int emu_obj_name_cpy(char *dst, const char *src, size_t size)
{
	size_t i;
	memset(dst, 0, size);
	for (i = 0; i < size && src[i]; i++) {
		char c = src[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.'))
			return -EINVAL;
		dst[i] = c;
	}
	if (i == size)
		return -EINVAL;     /* no NUL within the field */
	return (int)i;
}

unsigned int emu_possible_cpus(void)
{
	static unsigned int n;
	unsigned int v = __atomic_load_n(&n, __ATOMIC_RELAXED);
	if (v)
		return v;
	/* "0-1", "0-3,8-11", "0": count like libbpf's parse_cpu_mask_file */
	v = 0;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	if (f) {
		char buf[256];
		if (fgets(buf, sizeof(buf), f)) {
			for (char *save, *tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
				unsigned int a, b;
				int k = sscanf(tok, "%u-%u", &a, &b);
				if (k == 2 && b >= a)
					v += b - a + 1;
				else if (k == 1)
					v += 1;
			}
		}
		fclose(f);
	}
	if (!v) {
		long c = sysconf(_SC_NPROCESSORS_CONF);
		v = c > 0 ? (unsigned int)c : 1;
	}
	__atomic_store_n(&n, v, __ATOMIC_RELAXED);
	return v;
}

__u64 emu_ktime_boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}
