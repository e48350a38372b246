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
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "obj.h"
#include "vm/vm.h"
#include "map.h"

/*
 * The table: fd -> (object, access mode), read without a lock. Chunks of
 * FD_CHUNK slots are allocated on first use and never freed; a slot holds the
 * object pointer with the fd's access mode in its low two bits. Writers (new
 * fds, close, dup) serialize on fd_lock. A reader takes a reference only if
 * the count is not already zero and then re-reads the slot, so an object being
 * torn down by a concurrent close is never resurrected; object structs are
 * recycled through a pool instead of freed, so a reader that loses that race
 * only ever touches a valid struct.
 */
#define FD_CHUNK 1024u
#define FD_CHUNKS 1024u              /* fds up to 1M; larger ones take the locked path */

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *fd_chunks[FD_CHUNKS];
static struct emu_obj *objs;       /* every mapped object of this process (fd_lock) */
static struct emu_obj *obj_pool;   /* retired structs for reuse (fd_lock) */
static bool hooks_active;
static dev_t root_dev;
static bool root_dev_known;

void emu_fd_hooks_active(void)
{
	__atomic_store_n(&hooks_active, true, __ATOMIC_RELEASE);
	emu_uaccess_enable();
}

/*
 * Readers pin an object with a hazard pointer instead of a reference count
 * (an atomic read-modify-write costs more than the whole lookup of a small
 * map). A thread publishes the object in one of its hazard slots with a plain
 * store and re-reads the fd slot; whoever retires an object first makes every
 * thread pass a full barrier (membarrier(2), the asymmetric-fence pattern) and
 * then waits until no hazard names it. Where membarrier is not available the
 * readers pay a fence instead.
 */
#define EMU_HAZARDS 4
struct reader {
	struct emu_obj *hz[EMU_HAZARDS];
	struct reader *next;
	bool in_use;
};
static struct reader *readers;         /* append-only; entries reused after thread exit */
static EMU_TLS struct reader *me;
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static bool membarrier_ok;
static struct emu_obj *dying;          /* released, waiting for readers (fd_lock) */

static void reader_exit(void *p)
{
	struct reader *r = p;
	for (int i = 0; i < EMU_HAZARDS; i++)
		__atomic_store_n(&r->hz[i], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&r->in_use, false, __ATOMIC_RELEASE);
	me = NULL;
}

static void membarrier_register(void)
{
	bool ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	__atomic_store_n(&membarrier_ok, ok, __ATOMIC_RELEASE);
}

static void reader_init(void)
{
	pthread_key_create(&reader_key, reader_exit);
	membarrier_register();
	/* the registration belongs to the address space: a forked child has none */
	pthread_atfork(NULL, NULL, membarrier_register);
}

static struct reader *reader_self(void)
{
	if (__builtin_expect(me != NULL, 1))
		return me;
	pthread_once(&reader_once, reader_init);
	pthread_mutex_lock(&fd_lock);
	struct reader *r;
	for (r = readers; r; r = r->next)
		if (!__atomic_load_n(&r->in_use, __ATOMIC_ACQUIRE))
			break;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (r) {
			r->next = readers;
			__atomic_store_n(&readers, r, __ATOMIC_RELEASE);
		}
	}
	if (r)
		__atomic_store_n(&r->in_use, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fd_lock);
	if (r) {
		pthread_setspecific(reader_key, r);
		me = r;
	}
	return r;
}

/* Wait until no other thread's hazard names obj. Returns 0 when none does,
 * 1 if this thread itself holds one (the caller keeps the object alive
 * instead), -1 if another thread still holds one after a long wait (a
 * reader that never let go: the object is leaked rather than unmapped under
 * it, and never waited for forever). */
static int wait_readers(struct emu_obj *obj)
{
	/* the registration for membarrier happens with the first reader; a
	 * process that only closes (no reader yet) registers here, so that it
	 * fences instead of sleeping a millisecond per object it frees */
	pthread_once(&reader_once, reader_init);
	if (!__atomic_load_n(&membarrier_ok, __ATOMIC_ACQUIRE) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
		/* no asymmetric fence: from now on readers fence themselves; wait
		 * for any reader that started before it saw that */
		__atomic_store_n(&membarrier_ok, false, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		usleep(1000);
	}
	for (struct reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next)
		for (int i = 0; i < EMU_HAZARDS; i++) {
			if (r == me && __atomic_load_n(&r->hz[i], __ATOMIC_RELAXED) == obj)
				return 1;
			for (unsigned int spins = 0; __atomic_load_n(&r->hz[i], __ATOMIC_ACQUIRE) == obj; spins++) {
				if (spins > 100000) {
					EMU_LOG(EMU_LOG_MAP, "object %u: a thread still reads it after its last close; "
						"its mapping is kept", obj->hdr->id);
					return -1;
				}
				sched_yield();
			}
		}
	return 0;
}

static struct emu_obj *obj_alloc_locked(void)
{
	struct emu_obj *o = obj_pool;
	if (o) {
		obj_pool = o->next;
		memset(o, 0, sizeof(*o));
		return o;
	}
	return calloc(1, sizeof(*o));
}

static bool obj_get_not_zero(struct emu_obj *obj)
{
	int r = __atomic_load_n(&obj->refs, __ATOMIC_RELAXED);
	do {
		if (r <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&obj->refs, &r, r + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

/* The last reference is gone: off the list now, unmapped once no reader
 * holds it (fd_unlock). fd_lock held. */
static void obj_release_locked(struct emu_obj *obj)
{
	for (struct emu_obj **pp = &objs; *pp; pp = &(*pp)->next)
		if (*pp == obj) {
			*pp = obj->next;
			break;
		}
	obj->next = dying;
	dying = obj;
}

/* Unlock fd_lock, then finish releasing what died meanwhile (waiting for
 * readers must not happen under the lock: a reader may be about to take it). */
static void fd_unlock(void)
{
	struct emu_obj *d = dying;
	dying = NULL;
	pthread_mutex_unlock(&fd_lock);
	while (d) {
		struct emu_obj *next = d->next;
		int w = wait_readers(d);
		if (w < 0) {
			/* leaked: neither unmapped nor recycled */
		} else if (w > 0) {
			/* this thread still uses it: turn its hazard into a reference */
			for (int i = 0; i < EMU_HAZARDS; i++)
				if (me->hz[i] == d)
					__atomic_store_n(&me->hz[i], NULL, __ATOMIC_RELEASE);
			__atomic_store_n(&d->refs, 1, __ATOMIC_RELEASE);
		} else {
			if (d->vm)
				emu_vm_obj_release(d);
			munmap(d->data, d->map_len);
			pthread_mutex_lock(&fd_lock);
			d->next = obj_pool;
			obj_pool = d;
			pthread_mutex_unlock(&fd_lock);
		}
		d = next;
	}
}

static void obj_put_locked(struct emu_obj *obj)
{
	if (__atomic_sub_fetch(&obj->refs, 1, __ATOMIC_ACQ_REL) == 0)
		obj_release_locked(obj);
}

void emu_obj_put(struct emu_obj *obj)
{
	if (!obj)
		return;
	struct reader *r = me;
	if (r)
		for (int i = 0; i < EMU_HAZARDS; i++)
			if (r->hz[i] == obj) {
				__atomic_store_n(&r->hz[i], NULL, __ATOMIC_RELEASE);
				return;
			}
	if (__atomic_sub_fetch(&obj->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		pthread_mutex_lock(&fd_lock);
		obj_release_locked(obj);
		fd_unlock();
	}
}

static uintptr_t *fd_slot(int fd)
{
	if (fd < 0 || (unsigned int)fd >= FD_CHUNK * FD_CHUNKS)
		return NULL;
	uintptr_t *chunk = __atomic_load_n(&fd_chunks[(unsigned int)fd / FD_CHUNK], __ATOMIC_ACQUIRE);
	return chunk ? &chunk[(unsigned int)fd % FD_CHUNK] : NULL;
}

static void fd_clear_locked(int fd)
{
	uintptr_t *slot = fd_slot(fd);
	uintptr_t v = slot ? __atomic_exchange_n(slot, 0, __ATOMIC_ACQ_REL) : 0;
	if (v)
		obj_put_locked((struct emu_obj *)(v & ~(uintptr_t)3));
}

/* Installs obj (whose reference the slot takes over). fd_lock held. */
static int fd_set_locked(int fd, struct emu_obj *obj, int accmode)
{
	if (fd < 0 || (unsigned int)fd >= FD_CHUNK * FD_CHUNKS)
		return -EMFILE;
	uintptr_t **cp = &fd_chunks[(unsigned int)fd / FD_CHUNK];
	if (!*cp) {
		uintptr_t *chunk = calloc(FD_CHUNK, sizeof(*chunk));
		if (!chunk)
			return -ENOMEM;
		__atomic_store_n(cp, chunk, __ATOMIC_RELEASE);
	}
	fd_clear_locked(fd);
	__atomic_store_n(fd_slot(fd), (uintptr_t)obj | (uintptr_t)(accmode & 3), __ATOMIC_RELEASE);
	return 0;
}

void emu_fd_closed(int fd)
{
	uintptr_t *slot = fd_slot(fd);
	if (!slot || !__atomic_load_n(slot, __ATOMIC_RELAXED))
		return;       /* the common case for fds that are not ours: no lock */
	pthread_mutex_lock(&fd_lock);
	fd_clear_locked(fd);
	fd_unlock();
}

void emu_fd_range_closed(unsigned int first, unsigned int last)
{
	pthread_mutex_lock(&fd_lock);
	for (unsigned int c = first / FD_CHUNK; c < FD_CHUNKS && c <= last / FD_CHUNK; c++) {
		if (!fd_chunks[c])
			continue;
		unsigned int lo = c * FD_CHUNK > first ? c * FD_CHUNK : first;
		unsigned int hi = (c + 1) * FD_CHUNK - 1 < last ? (c + 1) * FD_CHUNK - 1 : last;
		for (unsigned int fd = lo; fd <= hi; fd++)
			fd_clear_locked((int)fd);
	}
	fd_unlock();
}

void emu_fd_duped(int oldfd, int newfd)
{
	if (oldfd == newfd || newfd < 0)
		return;
	pthread_mutex_lock(&fd_lock);
	uintptr_t *slot = fd_slot(oldfd);
	uintptr_t v = slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
	if (v) {
		struct emu_obj *obj = (struct emu_obj *)(v & ~(uintptr_t)3);
		__atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED);
		if (fd_set_locked(newfd, obj, (int)(v & 3)))
			obj_put_locked(obj);
	} else {
		fd_clear_locked(newfd);   /* newfd now names a file we may not know */
	}
	fd_unlock();
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

int emu_root_dev(dev_t *dev)
{
	return root_dev_get(dev);
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
	if (h->kind < EMU_KIND_MAP || h->kind > EMU_KIND_PERF_EVENT)
		return -EINVAL;
	/* the data from offset 0, the header in the last page (obj.h) */
	if (h->data_off != 0 || h->data_size % EMU_PAGE_SIZE || h->total_size != h->data_size + EMU_PAGE_SIZE ||
	    h->total_size != (__u64)sb->st_size)
		return -EINVAL;
	return 0;
}

/* Map the object file behind fd (fd_lock held). The mapping is read-write
 * (the locks live in it) unless the file can only be opened for reading and
 * the fd is read-only: then it is mapped PROT_READ and marked rdonly, and
 * only the lock-free read paths touch it (a writable fd of the same file
 * gets its own read-write mapping). */
static int obj_map_locked(int fd, const struct stat *sb, int accmode, struct emu_obj **objp)
{
	for (struct emu_obj *o = objs; o; o = o->next)
		if (o->dev == sb->st_dev && o->ino == sb->st_ino && (!o->rdonly || accmode == O_RDONLY) &&
		    obj_get_not_zero(o)) {
			*objp = o;
			return 0;
		}

	bool rdonly = false;
	int rfd = emu_fd_reopen(fd, O_RDWR);
	if (rfd == -EACCES && accmode == O_RDONLY) {
		rdonly = true;
		rfd = emu_fd_reopen(fd, O_RDONLY);
	}
	if (rfd < 0)
		return rfd == -EACCES ? -EACCES : -EINVAL;
	struct emu_obj_hdr h;
	int err = 0;
	if (pread(rfd, &h, sizeof(h), emu_obj_hdr_off(sb->st_size)) != (ssize_t)sizeof(h))
		err = -EINVAL;
	if (!err)
		err = check_hdr(&h, sb);
	void *p = MAP_FAILED;
	if (!err) {
		p = mmap(NULL, h.total_size, rdonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
		if (p == MAP_FAILED)
			err = -ENOMEM;
	}
	close(rfd);
	if (err)
		return err;
	struct emu_obj *obj = obj_alloc_locked();
	if (!obj) {
		munmap(p, h.total_size);
		return -ENOMEM;
	}
	obj->data = p;
	obj->hdr = (struct emu_obj_hdr *)((char *)p + h.data_size);
	obj->map_len = h.total_size;
	obj->dev = sb->st_dev;
	obj->ino = sb->st_ino;
	obj->rdonly = rdonly;
	if (h.kind == EMU_KIND_MAP)
		obj->ops = emu_map_ops_of(h.map.map_type);
	__atomic_store_n(&obj->refs, 1, __ATOMIC_RELEASE);
	obj->next = objs;
	objs = obj;
	*objp = obj;
	return 0;
}

/* The locked path: fds we have not seen yet (adopted after an fstat and a
 * header check), and every lookup when no shim tells us about close(). */
static int fd_get_slow(int fd, struct emu_obj **objp, int *accmode, bool trusted)
{
	struct stat sb;
	int err;

	pthread_mutex_lock(&fd_lock);
	uintptr_t *slot = fd_slot(fd);
	uintptr_t v = slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
	struct emu_obj *obj = (struct emu_obj *)(v & ~(uintptr_t)3);
	if (obj && !trusted) {
		/* Nobody tells us about close(): check the fd still names this file. */
		if (fstat(fd, &sb) || sb.st_dev != obj->dev || sb.st_ino != obj->ino) {
			fd_clear_locked(fd);
			obj = NULL;
		}
	}
	if (obj) {
		__atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED);   /* the slot holds one */
		*accmode = (int)(v & 3);
		*objp = obj;
		err = 0;
		goto out;
	}

	/* Adopt an fd we have not seen. */
	dev_t rdev = 0;
	if (fstat(fd, &sb)) {
		err = errno == EBADF ? -EBADF : -errno;
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
	err = obj_map_locked(fd, &sb, fl & O_ACCMODE, &obj);
	if (err)
		goto out;
	err = fd_set_locked(fd, obj, fl & O_ACCMODE);
	if (err) {
		obj_put_locked(obj);
		goto out;
	}
	__atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED);
	*accmode = fl & O_ACCMODE;
	*objp = obj;
out:
	fd_unlock();
	return err;
}

int emu_fd_get(int fd, enum emu_kind kind, struct emu_obj **objp, int *accmode)
{
	if (__builtin_expect(emu_caller_cur != NULL, 0)) {     /* another process's fd number */
		fd = emu_caller_fd(fd);
		if (fd < 0)
			return fd;
	}
	return emu_fd_get_local(fd, kind, objp, accmode);
}

int emu_fd_get_local(int fd, enum emu_kind kind, struct emu_obj **objp, int *accmode)
{
	bool trusted = __atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE);
	struct emu_obj *obj = NULL;
	int acc = 0, err;

	if (fd < 0)
		return -EBADF;
	uintptr_t *slot = fd_slot(fd);
	uintptr_t v = slot && trusted ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
	struct reader *r = v ? reader_self() : NULL;
	if (r) {
		/* lock-free: publish a hazard, then make sure the slot still names it */
		obj = (struct emu_obj *)(v & ~(uintptr_t)3);
		for (int i = 0; i < EMU_HAZARDS; i++) {
			if (r->hz[i])
				continue;
			__atomic_store_n(&r->hz[i], obj, __ATOMIC_RELAXED);
			if (__atomic_load_n(&membarrier_ok, __ATOMIC_RELAXED))
				__atomic_signal_fence(__ATOMIC_SEQ_CST);
			else
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) == v) {
				acc = (int)(v & 3);
				goto found;
			}
			__atomic_store_n(&r->hz[i], NULL, __ATOMIC_RELEASE);
			break;
		}
	}
	err = fd_get_slow(fd, &obj, &acc, trusted);
	if (err)
		return err;
found:
	if (kind == EMU_KIND_NONE ? obj->hdr->kind > EMU_KIND_LINK
				  : kind != EMU_KIND_ANY && obj->hdr->kind != (__u32)kind) {
		emu_obj_put(obj);
		return -EINVAL;
	}
	*accmode = acc;
	*objp = obj;
	return 0;
}

void emu_fd_install(int fd, struct emu_obj *obj)
{
	int acc = fcntl(fd, F_GETFL);
	pthread_mutex_lock(&fd_lock);
	if (fd_set_locked(fd, obj, acc < 0 ? O_RDWR : acc & O_ACCMODE))
		obj_put_locked(obj);
	fd_unlock();
}

int emu_fd_peek(int fd, struct emu_obj **objp)
{
	int acc;
	uintptr_t *slot = fd >= 0 ? fd_slot(fd) : NULL;
	if (!slot || !__atomic_load_n(slot, __ATOMIC_ACQUIRE) || !__atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE))
		return -ENOENT;
	return emu_fd_get_local(fd, EMU_KIND_ANY, objp, &acc);
}

struct emu_obj *emu_obj_hold(int fd)
{
	struct emu_obj *obj;
	int acc;
	return emu_fd_get_local(fd, EMU_KIND_NONE, &obj, &acc) ? NULL : obj;
}

void emu_obj_release(struct emu_obj *obj)
{
	emu_obj_put(obj);
}

enum emu_kind emu_fd_kind(int fd)
{
	struct emu_obj *obj;
	int acc;
	if (emu_fd_get_local(fd, EMU_KIND_ANY, &obj, &acc))
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
	case EMU_KIND_PERF_EVENT: return "anon_inode:[perf_event]";
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
	return emu_obj_create_lazy(kind, data_size, data_size, objp);
}

/* Make [off, off + len) of the object's data backed by memory, so stores to
 * it cannot SIGBUS on a full tmpfs: 0 or -ENOMEM. */
int emu_obj_populate(struct emu_obj *obj, __u64 off, __u64 len)
{
	char *base = (char *)emu_obj_data(obj);
	__u64 start = off & ~((__u64)EMU_PAGE_SIZE - 1), end = page_align(off + len);
	if (end > obj->hdr->data_size)
		end = obj->hdr->data_size;
	if (end <= start)
		return 0;
	if (madvise(base + start, end - start, MADV_POPULATE_WRITE) == 0 || errno == EINVAL)
		return 0;     /* EINVAL: a kernel before 5.14; nothing better to do */
	return -ENOMEM;
}

int emu_obj_create_lazy(enum emu_kind kind, __u64 data_size, __u64 reserve, struct emu_obj **objp)
{
	int err = emu_root_ready();
	if (err)
		return err;
	__u64 data_len = page_align(data_size);
	__u64 total = data_len + EMU_PAGE_SIZE;          /* the data, then the header page */
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
	/* Reserve the pages the family needs at once (the header, and for an
	 * array all of it, as the kernel allocates it at create): a sparse file
	 * on a full tmpfs would SIGBUS the first store to an unallocated page.
	 * Families that fill lazily (hash elements) populate as they grow, with
	 * emu_obj_populate(). Filesystems without fallocate stay sparse. */
	__u64 reserve_end = page_align(reserve < data_size ? reserve : data_size);
	if (((reserve_end && fallocate(fd, 0, 0, (off_t)reserve_end)) ||
	     fallocate(fd, 0, (off_t)data_len, EMU_PAGE_SIZE)) && errno != EOPNOTSUPP) {
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
	struct emu_obj_hdr *h = (struct emu_obj_hdr *)((char *)p + data_len);
	h->version = EMU_OBJ_VERSION;
	h->kind = kind;
	h->owner_uid = (__u32)getuid();
	h->data_off = 0;
	h->data_size = data_len;
	h->total_size = total;

	emu_mutex_init_robust(&h->lock);

	struct stat sb;
	if (fstat(fd, &sb)) {
		err = -errno;
		free(obj);
		goto fail_map;
	}
	obj->data = p;
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

void emu_mutex_init_robust(pthread_mutex_t *m)
{
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
}

bool emu_mutex_lock_robust(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != EOWNERDEAD)
		return false;
	pthread_mutex_consistent(m);
	return true;
}

/* glibc's robust mutex keeps the owner's tid in its futex word; the kernel
 * replaces it with FUTEX_OWNER_DIED when the owner exits holding it. */
bool emu_mutex_holder_alive(const pthread_mutex_t *m)
{
	int word = __atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE);
	return (word & FUTEX_TID_MASK) != 0 && !(word & FUTEX_OWNER_DIED);
}

/* lock_seq: odd while held. A holder that died left it odd; the next locker
 * makes it odd again with a new value, so readers that began before see a change. */
bool emu_obj_lock(struct emu_obj *obj)
{
	bool dead = false;
	if (emu_mutex_lock_robust(&obj->hdr->lock)) {
		__atomic_add_fetch(&obj->hdr->lock_gen, 1, __ATOMIC_RELEASE);
		dead = true;
	}
	__u32 seq = __atomic_load_n(&obj->hdr->lock_seq, __ATOMIC_RELAXED);
	__atomic_store_n(&obj->hdr->lock_seq, seq + ((seq & 1) ? 2 : 1), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return dead;
}

void emu_obj_unlock(struct emu_obj *obj)
{
	__atomic_store_n(&obj->hdr->lock_seq, obj->hdr->lock_seq + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&obj->hdr->lock);
}

bool emu_obj_holder_alive(const struct emu_obj *obj)
{
	return emu_mutex_holder_alive(&obj->hdr->lock);
}

__u32 emu_obj_read_begin(const struct emu_obj *obj)
{
	for (;;) {
		__u32 seq = __atomic_load_n(&obj->hdr->lock_seq, __ATOMIC_ACQUIRE);
		if (!(seq & 1) || !emu_obj_holder_alive(obj))
			return seq;
		sched_yield();
	}
}

bool emu_obj_read_retry(const struct emu_obj *obj, __u32 seq)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&obj->hdr->lock_seq, __ATOMIC_RELAXED) != seq;
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

/* "0-1", "0-3,8-11", "0" of /sys/devices/system/cpu/possible, counted like
 * libbpf's parse_cpu_mask_file. */
unsigned int emu_host_possible_cpus(void)
{
	unsigned int v = 0;
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
	return v;
}

/* The state root's count (emu/config.c: BPFEMU_CPUS or the host's, fixed
 * when the root was made), else BPFEMU_CPUS, else the host's. */
unsigned int emu_possible_cpus(void)
{
	static unsigned int n;
	unsigned int v = __atomic_load_n(&n, __ATOMIC_RELAXED);
	if (v)
		return v;
	v = emu_root_cpus();
	if (!v)
		v = emu_config()->cpus;
	if (!v)
		v = emu_host_possible_cpus();
	__atomic_store_n(&n, v, __ATOMIC_RELAXED);
	return v;
}

__u64 emu_ktime_boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}
