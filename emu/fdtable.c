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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "obj.h"
#include "vm/vm.h"
#include "map.h"
#include "os.h"

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
	bool ok = emu_os_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0;
	__atomic_store_n(&membarrier_ok, ok, __ATOMIC_RELEASE);
}

/* In a forked child only the forking thread lives on: the other threads'
 * reader records (and any hazard they held at the fork) name nobody. */
static void reader_atfork_child(void)
{
	for (struct reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		if (r == me)
			continue;
		for (int i = 0; i < EMU_HAZARDS; i++)
			__atomic_store_n(&r->hz[i], NULL, __ATOMIC_RELAXED);
		__atomic_store_n(&r->in_use, false, __ATOMIC_RELEASE);
	}
	/* the registration belongs to the address space: a forked child has none */
	membarrier_register();
}

static void reader_init(void)
{
	pthread_key_create(&reader_key, reader_exit);
	membarrier_register();
	pthread_atfork(NULL, NULL, reader_atfork_child);
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

/* Is any thread other than this one registered as a reader? A thread
 * registers (under fd_lock) before it publishes its first hazard, and the
 * object being retired left the fd table under fd_lock before this check: a
 * thread that registers later re-reads the slot after publishing and finds
 * it changed, so it never uses the object. */
static bool other_readers(void)
{
	for (struct reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next)
		if (r != me && __atomic_load_n(&r->in_use, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* Wait until no other thread's hazard names obj. Returns 0 when none does,
 * 1 if this thread itself holds one (the caller keeps the object alive
 * instead), -1 if another thread still holds one after a long wait (a
 * reader that never let go: the object is leaked rather than unmapped under
 * it, and never waited for forever). */
static int wait_readers(struct emu_obj *obj)
{
	if (!other_readers()) {
		/* nobody else can hold a hazard: only ours may name it */
		struct reader *r = me;
		for (int i = 0; r && i < EMU_HAZARDS; i++)
			if (__atomic_load_n(&r->hz[i], __ATOMIC_RELAXED) == obj)
				return 1;
		return 0;
	}
	if (__atomic_load_n(&membarrier_ok, __ATOMIC_ACQUIRE)) {
		if (emu_os_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0) {
			/* the asymmetric fence stopped working (it never does once
			 * registered): from now on readers fence themselves; wait
			 * once for any reader that started before it saw that */
			__atomic_store_n(&membarrier_ok, false, __ATOMIC_SEQ_CST);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			usleep(1000);
		}
	} else {
		/* readers that never had membarrier fence themselves (a store,
		 * a full fence, a load): a full fence here pairs with theirs */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
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
	} else {
		o = calloc(1, sizeof(*o));
	}
	return o;
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

/*
 * Spare object files. Making an object file (a tmpfs inode, its pages, the
 * mapping) and tearing it down cost several times what the kernel spends on
 * a small map; most programs make and drop objects of a few sizes over and
 * over (feature probes, test suites, loaders). So a small object's file gets
 * a name of its process's own, <root>/spare/<pid>.<stamp>.<seq>, and once
 * the object is dead the process keeps the file (its name and its mapping)
 * and gives it to the next object of the same size, header and data zeroed:
 * one open by name instead of a new file, its pages, a mapping and its
 * teardown.
 *
 * Dead means: no name but the spare name links the file (no pin, slot
 * reference or limbo link) and no fd that a program got holds it. Every fd
 * handed out holds its file with an OFD lock (emu_fd_hold), which the kernel
 * drops with the last descriptor of that open file in whatever process (dup,
 * fork and SCM_RIGHTS share it; a program's mapping keeps it too). Id scans
 * use the same test (emu_file_held), so a spare never shows as a live object,
 * and so does the gc of dead holders' references (emu_spare_obj_held, through
 * a symlink to the holder's spare name: emu/map_in_map.c).
 * A file a program mapped is never reused (EMU_OBJ_F_USER_MAPPED), as the
 * kernel keeps a mapped map.
 *
 * Names outlive their process: an exiting process removes its own
 * (spare_exit), and the first spare use of a process removes those of
 * processes that are gone and its own from before an exec (spare_gc). A
 * forked child only reuses files it named itself.
 */
static void btf_refs_for(const struct emu_obj *btf);
static void maps_refs_all(void);
static void obj_put_locked(struct emu_obj *obj);
static bool file_held(int fd, const struct stat *sb, nlink_t own, const struct emu_obj_hdr *h);

#define SPARE_MAX 32u                    /* spare files per process */
#define SPARE_OBJ_MAX (1u << 20)         /* only files up to this size */
#define SPARE_BYTES_MAX (32u << 20)

static struct emu_obj *spares;           /* dead, newest first (fd_lock) */
static unsigned int nspares;
static __u64 spare_bytes;
static __u32 spare_next_seq;             /* fd_lock */
static pid_t spare_pid;                  /* 0: spare names not set up in this process (fd_lock) */
static __u64 spare_stamp;
static int spare_state;                  /* 0 untried, 1 usable, -1 not (fd_lock) */
static int spare_dirfd = -1;             /* <root>/spare, high-numbered; -1 when lost or unset */
static dev_t spare_dir_dev;
static ino_t spare_dir_ino;

/* <pid>.<stamp in hex>.<seq> into buf (at least 48 bytes), as spare_path
 * names it: without printf, on the path of every reuse */
static void spare_name(char *buf, __u32 pid, __u64 stamp, __u32 seq)
{
	char tmp[24];
	int n;
	for (n = 0; !n || pid; pid /= 10)
		tmp[n++] = (char)('0' + pid % 10);
	while (n)
		*buf++ = tmp[--n];
	*buf++ = '.';
	for (n = 0; !n || stamp; stamp >>= 4)
		tmp[n++] = "0123456789abcdef"[stamp & 15];
	while (n)
		*buf++ = tmp[--n];
	*buf++ = '.';
	for (n = 0; !n || seq; seq /= 10)
		tmp[n++] = (char)('0' + seq % 10);
	while (n)
		*buf++ = tmp[--n];
	*buf = '\0';
}

static int spare_path(char *buf, size_t len, __u32 pid, __u64 stamp, __u32 seq)
{
	int n = seq ? snprintf(buf, len, "%.4000s/spare/%u.%llx.%u", emu_config()->root, pid,
			       (unsigned long long)stamp, seq)
		    : snprintf(buf, len, "%.4000s/spare", emu_config()->root);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int obj_spare_path(const struct emu_obj_hdr *h, char *buf, size_t len)
{
	return spare_path(buf, len, h->spare_pid, h->spare_stamp, h->spare_seq);
}

int emu_obj_spare_path(const struct emu_obj_hdr *h, char *buf, size_t len)
{
	return h->spare_seq ? obj_spare_path(h, buf, len) : -ENOENT;
}

size_t emu_objs_own_named(struct emu_own_obj **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	pthread_mutex_lock(&fd_lock);
	if (spare_pid && spare_pid == getpid()) {
		for (const struct emu_obj *o = objs; o; o = o->next)
			cap++;
		*out = cap ? malloc(cap * sizeof(**out)) : NULL;
		for (const struct emu_obj *o = objs; *out && o; o = o->next) {
			const struct emu_obj_hdr *h = o->hdr;
			if (!h->spare_seq || h->spare_pid != (__u32)spare_pid || h->spare_stamp != spare_stamp ||
			    __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != EMU_OBJ_MAGIC)    /* complete ones only */
				continue;
			struct emu_own_obj *r = &(*out)[n++];
			r->kind = h->kind;
			r->id = h->id;
			r->dev = o->dev;
			r->ino = o->ino;
			spare_name(r->name, h->spare_pid, h->spare_stamp, h->spare_seq);
		}
	}
	pthread_mutex_unlock(&fd_lock);
	if (!n) {
		free(*out);
		*out = NULL;
	}
	return n;
}

int emu_obj_link_spare(const struct emu_obj *obj, int newdirfd, const char *newpath)
{
	const struct emu_obj_hdr *h = obj->hdr;
	char name[PATH_MAX];
	if (!h->spare_seq)
		return -ENOENT;
	int dfd = __atomic_load_n(&spare_dirfd, __ATOMIC_ACQUIRE);
	if (dfd >= 0 && (pid_t)h->spare_pid == spare_pid && h->spare_stamp == spare_stamp) {
		/* our name, in the directory we keep open: a shorter walk */
		spare_name(name, h->spare_pid, h->spare_stamp, h->spare_seq);
		int err = emu_os_linkat(dfd, name, newdirfd, newpath, 0);
		if (err != -EBADF && err != -ENOTDIR && err != -ENOENT)
			return err;
	}
	int err = obj_spare_path(h, name, sizeof(name));
	return err ? err : emu_os_linkat(AT_FDCWD, name, newdirfd, newpath, 0);
}

/* Opens a spare name of this process: through the spare directory's fd (one
 * path component to walk), or by its whole path. */
static int spare_open(__u32 pid, __u64 stamp, __u32 seq, int flags, mode_t mode)
{
	char path[PATH_MAX];
	int dfd = __atomic_load_n(&spare_dirfd, __ATOMIC_ACQUIRE);
	struct stat sb;
	if (dfd >= 0 && (flags & O_CREAT) && (emu_os_fstat(dfd, &sb) || sb.st_dev != spare_dir_dev ||
					      sb.st_ino != spare_dir_ino))
		dfd = -1;      /* creating: only in our directory, whatever the fd became */
	if (dfd >= 0 && (pid_t)pid == spare_pid && stamp == spare_stamp) {
		spare_name(path, pid, stamp, seq);
		int fd = emu_os_openat(dfd, path, flags, mode);
		if (fd != -EBADF && fd != -ENOTDIR)
			return fd;
	}
	int err = spare_path(path, sizeof(path), pid, stamp, seq);
	return err ? err : emu_os_open(path, flags, mode);
}

static int bpffs_dirfd = -1;             /* the bpffs root (O_PATH), high-numbered; -1 when lost or unset */
static bool bpffs_dirfd_tried;           /* fd_lock */

/* fd at or above half the fd limit, or 1024 if that is less (out of the
 * program's way: a close or dup2 over it by the program only loses it),
 * close-on-exec; fd is closed. Not higher: every fork copies the fd table
 * up to the highest open fd (with a limit of 20000, an fd at 10000 cost a
 * fork 20 us more than one at 1024). */
static int fd_out_of_the_way(int fd)
{
	struct { unsigned long cur, max; } lim;
	long min = EMU_OS_SC(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &lim, 0, 0) == 0 && lim.cur > 64 && lim.cur < (1ul << 20)
		       ? (long)(lim.cur / 2 < 1024 ? lim.cur / 2 : 1024) : 64;
	int hi = emu_os_fcntl(fd, F_DUPFD_CLOEXEC, min);
	emu_os_close(fd);
	return hi;
}

int emu_bpffs_dirfd(void)
{
	int d = __atomic_load_n(&bpffs_dirfd, __ATOMIC_ACQUIRE);
	if (d >= 0 || __atomic_load_n(&bpffs_dirfd_tried, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE))
		return d;     /* without the shim nobody tells us when the program closes it */
	pthread_mutex_lock(&fd_lock);
	if (!bpffs_dirfd_tried) {
		int fd = emu_os_open(emu_config()->bpffs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd >= 0)
			__atomic_store_n(&bpffs_dirfd, fd_out_of_the_way(fd), __ATOMIC_RELEASE);
		__atomic_store_n(&bpffs_dirfd_tried, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&fd_lock);
	return __atomic_load_n(&bpffs_dirfd, __ATOMIC_ACQUIRE);
}

/* The program closed or replaced fd: if it was one of the directories we
 * keep open, that is lost. */
static void spare_dirfd_lost(int fd)
{
	int d = __atomic_load_n(&spare_dirfd, __ATOMIC_ACQUIRE);
	if (d >= 0 && d == fd)
		__atomic_compare_exchange_n(&spare_dirfd, &d, -1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	d = __atomic_load_n(&bpffs_dirfd, __ATOMIC_ACQUIRE);
	if (d >= 0 && d == fd)
		__atomic_compare_exchange_n(&bpffs_dirfd, &d, -1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Removes a spare name. If it is the last name of a file that some fd still
 * holds, the file first gets a limbo link: Linux never links a file again
 * once it lost its last link, and the object may still be pinned. */
static void spare_unname(int dirfd, const char *name)
{
	int fd = emu_os_openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	struct emu_obj_hdr h;
	struct stat sb;
	if (fd >= 0 && !emu_os_fstat(fd, &sb) && sb.st_nlink == 1 &&
	    emu_os_pread(fd, &h, sizeof(h), emu_obj_hdr_off(sb.st_size)) == (long)sizeof(h) && h.magic == EMU_OBJ_MAGIC) {
		struct flock fl;
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (emu_os_fcntl(fd, F_OFD_GETLK, (long)&fl) || fl.l_type != F_UNLCK)
			emu_limbo_keep(dirfd, name, (enum emu_kind)h.kind, h.id);
	}
	if (fd >= 0)
		emu_os_close(fd);
	emu_os_unlinkat(dirfd, name, 0);
}

/* Names of processes that are gone, and ours from before an exec. */
static void spare_gc(void)
{
	char dir[PATH_MAX];
	if (spare_path(dir, sizeof(dir), 0, 0, 0))
		return;
	struct emu_os_dir *d = emu_os_opendir(dir, NULL);
	const struct emu_os_dirent *e;
	if (!d)
		return;
	while ((e = emu_os_readdir(d))) {
		unsigned int pid, seq;
		unsigned long long stamp;
		if (sscanf(e->name, "%u.%llx.%u", &pid, &stamp, &seq) != 3)
			continue;
		if ((pid_t)pid == spare_pid ? stamp != spare_stamp : EMU_OS_SC(SYS_kill, pid, 0, 0, 0, 0, 0) == -ESRCH)
			spare_unname(emu_os_dirfd(d), e->name);
	}
	emu_os_closedir(d);
}

/* An exiting process removes the names of its spares (dead here, so the
 * check is exact: one another process still holds goes to limbo). The names
 * of objects still open stay for the next process's spare_gc, which sees
 * them once our fds are gone. */
__attribute__((destructor)) static void spare_exit(void)
{
	if (!spare_pid || spare_pid != getpid())
		return;
	pthread_mutex_lock(&fd_lock);
	struct emu_obj *o = spares;
	spares = NULL;
	nspares = 0;
	spare_bytes = 0;
	pthread_mutex_unlock(&fd_lock);
	while (o) {
		struct emu_obj *next = o->next;
		char path[PATH_MAX];
		if (!obj_spare_path(o->hdr, path, sizeof(path)))
			spare_unname(AT_FDCWD, path);
		pthread_mutex_lock(&fd_lock);
		o->next = obj_pool;      /* the mappings go with the process */
		obj_pool = o;
		pthread_mutex_unlock(&fd_lock);
		o = next;
	}
}

/* A forked child must not reuse its parent's files: they go (unmapped; the
 * names are the parent's), and the child names its own from now on. fd_lock
 * is held across fork so the lists are whole in the child. */
static void spare_prepare(void)
{
	btf_refs_for(NULL);      /* the child may outlive us with our holders */
	maps_refs_all();         /* and with our programs: their maps by links (emu_refs_proc_hold) */
	pthread_mutex_lock(&fd_lock);
}

static void spare_parent(void)
{
	pthread_mutex_unlock(&fd_lock);
}

static void spare_child(void)
{
	struct emu_obj *o = spares;
	spares = NULL;
	nspares = 0;
	spare_bytes = 0;
	while (o) {
		struct emu_obj *next = o->next;
		emu_os_munmap(o->data, o->map_len);
		o->next = obj_pool;
		obj_pool = o;
		o = next;
	}
	for (o = objs; o; o = o->next) {
		o->spare = false;
		/* the parent counts its holders in the BTF's header; the child's
		 * copies are links now (spare_prepare) */
		struct emu_obj *btf = o->btf_hold;
		o->btf_hold = NULL;
		if (btf)
			obj_put_locked(btf);
		/* the parent's programs' holds on maps are the parent's (linked
		 * for them too before the fork: spare_prepare) */
		free(o->local_maps);
		o->local_maps = NULL;
		o->nlocal_maps = 0;
	}
	emu_refs_proc_forget();
	spare_pid = 0;
	spare_state = 0;
	if (spare_dirfd >= 0)
		emu_os_close(spare_dirfd);
	spare_dirfd = -1;
	pthread_mutex_unlock(&fd_lock);
}

/* Sets up spare names for this process: 0 or -errno (fd_lock held). */
static int spare_setup_locked(void)
{
	static bool atfork_done;
	if (spare_state)
		return spare_state > 0 ? 0 : -EPERM;
	char dir[PATH_MAX];
	int err = spare_path(dir, sizeof(dir), 0, 0, 0);
	if (!err) {
		err = emu_os_mkdir(dir, emu_root_shared() ? 01777 : 0700);
		if (err == -EEXIST)
			err = 0;
		else if (!err && emu_root_shared())
			emu_os_fchmodat(AT_FDCWD, dir, 01777);
	}
	spare_state = err ? -1 : 1;
	if (err)
		return err;
	spare_pid = getpid();
	spare_stamp = emu_ktime_boot_ns();
	spare_next_seq = 0;
	/* the spare directory's fd, out of the program's way: above half its
	 * fd limit (a close or dup2 over it by the program only loses it) */
	int dfd = emu_os_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd >= 0) {
		int hi = fd_out_of_the_way(dfd);
		struct stat sb;
		if (hi >= 0 && !emu_os_fstat(hi, &sb)) {
			spare_dir_dev = sb.st_dev;
			spare_dir_ino = sb.st_ino;
		}
		__atomic_store_n(&spare_dirfd, hi, __ATOMIC_RELEASE);
	}
	if (!atfork_done) {
		atfork_done = true;
		pthread_atfork(spare_prepare, spare_parent, spare_child);
	}
	spare_gc();
	return 0;
}

/* Forgets a spare: its name (a limbo link first if something still holds
 * the file: an evicted spare need not be dead) and its mapping (fd_lock not
 * held). */
static void spare_drop(struct emu_obj *o)
{
	char path[PATH_MAX];
	if (!obj_spare_path(o->hdr, path, sizeof(path)))
		spare_unname(AT_FDCWD, path);
	emu_os_munmap(o->data, o->map_len);
	pthread_mutex_lock(&fd_lock);
	o->next = obj_pool;
	obj_pool = o;
	pthread_mutex_unlock(&fd_lock);
}

/* A holder this process made (a program with its maps, a map of maps) whose
 * file is dead once released here: its references go now, as the kernel
 * lets go of a dead program's maps, so that their files come free for reuse
 * too (else only the next id scan drops them). */
static void spare_drop_refs_if_dead(struct emu_obj *o)
{
	if (!o->spare || o->rdonly || o->hdr->spare_pid != (__u32)spare_pid ||
	    !(__atomic_load_n(&o->hdr->flags, __ATOMIC_RELAXED) & EMU_OBJ_F_HOLDS_REFS))
		return;
	int fd = spare_open(o->hdr->spare_pid, o->hdr->spare_stamp, o->hdr->spare_seq, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0)
		return;
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_len = 1;
	bool dead = false;
	if (!emu_os_fcntl(fd, F_OFD_SETLK, (long)&fl)) {
		struct stat sb;
		if (!(__atomic_load_n(&o->hdr->flags, __ATOMIC_SEQ_CST) & (EMU_OBJ_F_SHARED | EMU_OBJ_F_LINKED)))
			dead = true;
		else
			dead = !emu_os_fstat(fd, &sb) && !file_held(fd, &sb, 1, o->hdr);
	}
	if (dead) {
		emu_refs_drop(o);
		__atomic_and_fetch(&o->hdr->flags, ~EMU_OBJ_F_HOLDS_REFS, __ATOMIC_RELAXED);
	}
	emu_os_close(fd);
}

/* Keeps a released object as a spare: true if kept (fd_lock not held). */
static bool spare_put(struct emu_obj *o)
{
	o->held_fd1 = 0;
	if (!o->spare || o->map_len > SPARE_OBJ_MAX || o->hdr->spare_pid != (__u32)spare_pid ||
	    (__atomic_load_n(&o->hdr->flags, __ATOMIC_RELAXED) & (EMU_OBJ_F_USER_MAPPED | EMU_OBJ_F_UNHELD)))
		return false;
	struct emu_obj *evict = NULL;
	pthread_mutex_lock(&fd_lock);
	if (nspares >= SPARE_MAX || spare_bytes + o->map_len > SPARE_BYTES_MAX) {
		/* the oldest goes */
		struct emu_obj **pp = &spares;
		while (*pp && (*pp)->next)
			pp = &(*pp)->next;
		evict = *pp;
		if (evict) {
			*pp = NULL;
			nspares--;
			spare_bytes -= evict->map_len;
		}
	}
	o->next = spares;
	spares = o;
	nspares++;
	spare_bytes += o->map_len;
	pthread_mutex_unlock(&fd_lock);
	if (evict)
		spare_drop(evict);
	return true;
}

/* ---- a holder's BTF (emu_obj_hold_btf) ----
 *
 * A map or program holds its BTF as the kernel's does. The hold that works
 * across processes and crashes is a reference link of the BTF's file under
 * the holder's refs directory (emu/map_in_map.c): a directory, a lock and a
 * link for every map a loader makes, and links that pile up until the next
 * id scan. When the holder and the BTF are both small objects of this
 * process (they have spare names), the hold starts as a reference inside
 * the process (the holder's handle keeps the BTF's, as the kernel's map keeps
 * its btf) plus a note in the holder's header (the BTF's spare name), and
 * becomes the link only when the holder can be reached from elsewhere: it is
 * pinned, another fd table takes it (OBJ_GET, GET_FD_BY_ID, an inherited or
 * received fd), it is sent over a socket, or the process forks.
 */
static __u32 holder_btf_id(const struct emu_obj_hdr *h)
{
	return h->kind == EMU_KIND_MAP ? h->map.btf_id : h->kind == EMU_KIND_PROG ? h->prog.btf_id : 0;
}

static bool btf_deferred(const struct emu_obj *o)
{
	return !o->rdonly && o->hdr->btf_seq &&
	       !(__atomic_load_n(&o->hdr->flags, __ATOMIC_ACQUIRE) & EMU_OBJ_F_BTF_REF);
}

/* A program whose maps its process's hold directory holds (emu_refs_proc_hold) */
static bool maps_deferred(const struct emu_obj *o)
{
	return !o->rdonly && (__atomic_load_n(&o->hdr->flags, __ATOMIC_ACQUIRE) & EMU_OBJ_F_MAPS_LOCAL);
}

static int btf_ref_link(struct emu_obj *holder)
{
	struct emu_obj_hdr *h = holder->hdr;
	if (!btf_deferred(holder))
		return 0;
	__u32 id = holder_btf_id(h);
	char src[PATH_MAX], name[48];
	struct emu_obj_hdr bh;
	int err = spare_path(src, sizeof(src), h->btf_pid, h->btf_stamp, h->btf_seq);
	int fd = err ? err : emu_os_open(src, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0 && snprintf(src, sizeof(src), "%.4000s/limbo/btf-%u", emu_config()->root, id) < (int)sizeof(src))
		fd = emu_os_open(src, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);   /* its process went */
	struct stat bsb;
	if (fd < 0)
		err = fd;
	else if (emu_os_fstat(fd, &bsb) ||
		 emu_os_pread(fd, &bh, sizeof(bh), emu_obj_hdr_off(bsb.st_size)) != (long)sizeof(bh) ||
		 bh.magic != EMU_OBJ_MAGIC || bh.kind != EMU_KIND_BTF || bh.id != id)
		err = -ENOENT;
	if (!err && holder->btf_hold) {
		emu_obj_mark_linked(holder->btf_hold);    /* mapped here */
	} else if (!err) {
		/* the BTF's process reuses its file only if it sees this link
		 * (emu_obj_mark_linked, through a mapping of its header) */
		void *p = emu_os_mmap(NULL, EMU_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				      emu_obj_hdr_off(bsb.st_size), NULL);
		if (p == MAP_FAILED) {
			err = -ENOMEM;
		} else {
			__atomic_or_fetch(&((struct emu_obj_hdr *)p)->flags, EMU_OBJ_F_LINKED, __ATOMIC_SEQ_CST);
			emu_os_munmap(p, EMU_PAGE_SIZE);
		}
	}
	if (!err) {
		int dfd = emu_refs_lock(holder);
		snprintf(name, sizeof(name), "btf-%u-0", id);
		err = dfd < 0 ? dfd : emu_os_linkat(AT_FDCWD, src, dfd, name, 0);
		if (err == -EEXIST)
			err = 0;
		emu_refs_unlock(dfd);
	}
	if (fd >= 0)
		emu_os_close(fd);
	if (!err)
		__atomic_or_fetch(&h->flags, EMU_OBJ_F_BTF_REF, __ATOMIC_RELEASE);
	EMU_LOG(EMU_LOG_MAP, "%s %u now holds BTF %u by a reference link: %s",
		h->kind == EMU_KIND_MAP ? "map" : "program", h->id, id, err ? strerror(-err) : "ok");
	return err;
}

int emu_obj_hold_btf(struct emu_obj *holder, int btf_fd, struct emu_obj *btf)
{
	struct emu_obj_hdr *h = holder->hdr;
	if (holder->spare && btf->spare && btf->hdr->spare_seq && !holder->btf_hold &&
	    __atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE) && obj_get_not_zero(btf)) {
		holder->btf_hold = btf;
		__atomic_add_fetch(&btf->hdr->holders, 1, __ATOMIC_RELEASE);
		h->btf_pid = btf->hdr->spare_pid;
		h->btf_stamp = btf->hdr->spare_stamp;
		h->btf_seq = btf->hdr->spare_seq;
		return 0;
	}
	int dfd = emu_refs_lock(holder);
	int err = dfd < 0 ? dfd : emu_ref_take(dfd, btf_fd, btf);
	emu_refs_unlock(dfd);
	if (!err)
		__atomic_or_fetch(&h->flags, EMU_OBJ_F_BTF_REF, __ATOMIC_RELEASE);
	return err;
}

void emu_obj_share(struct emu_obj *holder)
{
	if (btf_deferred(holder))
		btf_ref_link(holder);
	if (maps_deferred(holder))
		emu_refs_proc_share(holder);
}

void emu_fd_shared(int fd)
{
	struct emu_obj *obj;
	if (emu_fd_peek(fd, &obj))
		return;
	emu_obj_share(obj);
	emu_obj_put(obj);
}

/* Every live holder here with a deferred hold (fork, exit), or only those of
 * one BTF (its last fd here closed). */
static void btf_refs_for(const struct emu_obj *btf)
{
	struct emu_obj *todo[64];
	for (;;) {
		int n = 0;
		pthread_mutex_lock(&fd_lock);
		for (struct emu_obj *o = objs; o && n < 64; o = o->next) {
			if (o == btf || !btf_deferred(o))
				continue;
			if (btf && (o->hdr->btf_pid != btf->hdr->spare_pid || o->hdr->btf_stamp != btf->hdr->spare_stamp ||
				    o->hdr->btf_seq != btf->hdr->spare_seq))
				continue;
			if (obj_get_not_zero(o))
				todo[n++] = o;
		}
		pthread_mutex_unlock(&fd_lock);
		if (!n)
			return;
		for (int i = 0; i < n; i++) {
			if (btf_ref_link(todo[i]))
				__atomic_or_fetch(&todo[i]->hdr->flags, EMU_OBJ_F_BTF_REF, __ATOMIC_RELEASE);  /* no retry loop */
			emu_obj_put(todo[i]);
		}
	}
}

/* Every live program here whose maps its process's hold directory holds
 * (a fork: the child may outlive us with them). */
static void maps_refs_all(void)
{
	struct emu_obj *todo[64];
	for (;;) {
		int n = 0;
		pthread_mutex_lock(&fd_lock);
		for (struct emu_obj *o = objs; o && n < 64; o = o->next)
			if (maps_deferred(o) && obj_get_not_zero(o))
				todo[n++] = o;
		pthread_mutex_unlock(&fd_lock);
		if (!n)
			return;
		for (int i = 0; i < n; i++) {
			emu_refs_proc_share(todo[i]);
			/* no retry loop: a program whose links failed holds by its process's only */
			__atomic_and_fetch(&todo[i]->hdr->flags, ~EMU_OBJ_F_MAPS_LOCAL, __ATOMIC_RELEASE);
			emu_obj_put(todo[i]);
		}
	}
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
			struct emu_obj *btf = d->btf_hold;
			d->btf_hold = NULL;
			if (btf) {             /* the holder's reference (emu_obj_hold_btf) */
				__atomic_sub_fetch(&btf->hdr->holders, 1, __ATOMIC_RELEASE);
				emu_obj_put(btf);
			}
			if (d->vm)
				emu_vm_obj_release(d);
			emu_refs_proc_release(d);    /* its maps, if its process's hold held them */
			spare_drop_refs_if_dead(d);
			if (spare_put(d)) {
				d = next;
				continue;
			}
			emu_os_munmap(d->data, d->map_len);
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
	spare_dirfd_lost(fd);
	uintptr_t *slot = fd_slot(fd);
	if (!slot || !__atomic_load_n(slot, __ATOMIC_RELAXED))
		return;       /* the common case for fds that are not ours: no lock */
	pthread_mutex_lock(&fd_lock);
	fd_clear_locked(fd);
	fd_unlock();
}

void emu_fd_range_closed(unsigned int first, unsigned int last)
{
	int d = __atomic_load_n(&spare_dirfd, __ATOMIC_ACQUIRE);
	if (d >= 0 && (unsigned int)d >= first && (unsigned int)d <= last)
		spare_dirfd_lost(d);
	d = __atomic_load_n(&bpffs_dirfd, __ATOMIC_ACQUIRE);
	if (d >= 0 && (unsigned int)d >= first && (unsigned int)d <= last)
		spare_dirfd_lost(d);
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
	spare_dirfd_lost(newfd);
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
		/* no state root yet (nothing created it): no fd can be one of
		 * its objects, and asking must not create it */
		struct stat sb;
		int err = emu_os_stat(emu_config()->objs_dir, &sb);
		if (err)
			return err;
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

int emu_fd_reopen_in_place(int fd, int accmode)
{
	int rfd = emu_fd_reopen(fd, accmode);
	if (rfd < 0)
		return rfd;
	int err = emu_os_dup3(rfd, fd, O_CLOEXEC);
	emu_os_close(rfd);
	return err < 0 ? err : 0;
}

int emu_fd_reopen(int fd, int accmode)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return emu_os_open(path, accmode | O_CLOEXEC, 0);
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
	if (emu_os_pread(rfd, &h, sizeof(h), emu_obj_hdr_off(sb->st_size)) != (long)sizeof(h))
		err = -EINVAL;
	if (!err)
		err = check_hdr(&h, sb);
	void *p = MAP_FAILED;
	if (!err) {
		p = emu_os_mmap(NULL, h.total_size, rdonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0, NULL);
		if (p == MAP_FAILED)
			err = -ENOMEM;
	}
	emu_os_close(rfd);
	if (err)
		return err;
	struct emu_obj *obj = obj_alloc_locked();
	if (!obj) {
		emu_os_munmap(p, h.total_size);
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

/* ---- holding files (see "Spare object files") ---- */

/*
 * Byte 0 is the first holder's: a write lock when its fd can write (the
 * usual case, the creator's: spare_take tests a dead file and holds it with
 * that one lock), else a read lock. A holder that finds byte 0 taken flags
 * the header EMU_OBJ_F_SHARED first and then holds a byte of its own (a read
 * lock on byte 1, or for a write-only fd a write lock on a byte of its own),
 * so a reuse test that gets byte 0 once the first holder went knows to ask
 * for the others (file_held: every byte). A read-only mapping cannot take
 * the flag; such an object was reached through a pin, and a pin flags it
 * EMU_OBJ_F_LINKED, which sends the reuse test the same way. Without obj
 * (an engine's own open by a reference link, which flagged it linked) no
 * flag is needed either.
 */
int emu_fd_hold(int fd, int accmode, struct emu_obj *obj)
{
	static __u64 next_byte;
	int acc = accmode & O_ACCMODE;
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_whence = SEEK_SET;
	fl.l_len = 1;
	if (!(accmode & EMU_HOLD_SECOND)) {
		fl.l_type = acc == O_RDONLY ? F_RDLCK : F_WRLCK;
		fl.l_start = 0;
		int err = emu_os_fcntl(fd, F_OFD_SETLK, (long)&fl);
		if (err != -EAGAIN && err != -EACCES) {
			if (err)
				emu_ids_unheld();    /* no lock holds this one: id scans must read /proc */
			return err;
		}
	}
	if (obj && !obj->rdonly)
		__atomic_or_fetch(&obj->hdr->flags, EMU_OBJ_F_SHARED, __ATOMIC_SEQ_CST);
	if (acc == O_WRONLY) {
		/* a read lock needs a readable fd: a write lock on a byte of its own */
		fl.l_type = F_WRLCK;
		fl.l_start = (off_t)(((__u64)(unsigned int)getpid() << 32) + 1 +
				     __atomic_add_fetch(&next_byte, 1, __ATOMIC_RELAXED));
	} else {
		fl.l_type = F_RDLCK;
		fl.l_start = 1;
	}
	int err = emu_os_fcntl(fd, F_OFD_SETLK, (long)&fl);
	if (err)
		emu_ids_unheld();
	return err;
}

void emu_obj_mark_linked(const struct emu_obj *obj)
{
	if (obj && !obj->rdonly) {
		__atomic_or_fetch(&obj->hdr->flags, EMU_OBJ_F_LINKED, __ATOMIC_SEQ_CST);
		/* a slot, an attachment or a pin reaches the program: its maps by links */
		if (maps_deferred(obj))
			emu_refs_proc_share(obj);
	}
}

static bool file_held(int fd, const struct stat *sb, nlink_t own, const struct emu_obj_hdr *h)
{
	if (sb->st_nlink > own)
		return true;
	/* held by holders inside the process that named it (emu_obj_hold_btf) */
	if (__atomic_load_n(&h->holders, __ATOMIC_ACQUIRE) && h->spare_pid &&
	    EMU_OS_SC(SYS_kill, h->spare_pid, 0, 0, 0, 0, 0) != -ESRCH)
		return true;
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;          /* the whole file */
	return emu_os_fcntl(fd, F_OFD_GETLK, (long)&fl) != 0 || fl.l_type != F_UNLCK;
}

bool emu_file_held(int fd, const struct stat *sb, const struct emu_obj_hdr *h)
{
	nlink_t own = 0;
	if (h->spare_seq) {
		/* its spare name does not count, if it still has it */
		char path[PATH_MAX];
		struct stat nb;
		if (!obj_spare_path(h, path, sizeof(path)) && !emu_os_stat(path, &nb) && nb.st_dev == sb->st_dev &&
		    nb.st_ino == sb->st_ino)
			own = 1;
	}
	return file_held(fd, sb, own, h);
}

int emu_obj_spare_name(const struct emu_obj_hdr *h, char *buf, size_t len)
{
	if (!h->spare_seq || len < 48)
		return -ENOENT;
	spare_name(buf, h->spare_pid, h->spare_stamp, h->spare_seq);
	return 0;
}

int emu_spare_obj_held(int dfd, const char *path, int limbo_dfd, const char *limbo_name, enum emu_kind kind, __u32 id)
{
	const int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
	int fd = path ? emu_os_openat(dfd, path, flags, 0) : -ENOENT;
	if (fd == -ENOENT)       /* its process went while something held it: spare_unname kept a limbo link */
		fd = emu_os_openat(limbo_dfd, limbo_name, flags | O_NOFOLLOW, 0);
	if (fd < 0)
		return -1;       /* no name of ours left: pinned only, or gone */
	struct emu_obj_hdr h;
	struct stat sb;
	int r = -1;
	if (!emu_os_fstat(fd, &sb) && S_ISREG(sb.st_mode) && sb.st_size >= (off_t)EMU_PAGE_SIZE &&
	    emu_os_pread(fd, &h, sizeof(h), emu_obj_hdr_off(sb.st_size)) == (long)sizeof(h)) {
		if (h.id != id || h.kind != (__u32)kind)
			r = 0;   /* the file is another object's: reused, which only a dead one's file is */
		else if (__atomic_load_n(&h.magic, __ATOMIC_ACQUIRE) != EMU_OBJ_MAGIC)
			/* being made (the id comes before the magic), by the process that named the file */
			r = EMU_OS_SC(SYS_kill, h.spare_pid, 0, 0, 0, 0, 0) != -ESRCH;
		else if (!(h.flags & EMU_OBJ_F_UNHELD))
			r = file_held(fd, &sb, 1, &h);
	}
	emu_os_close(fd);
	return r;
}

/* accmode may carry EMU_HOLD_SECOND */
static void hold_or_mark(int fd, struct emu_obj *obj, int accmode)
{
	if (obj->held_fd1 == fd + 1) {
		obj->held_fd1 = 0;       /* spare_take's test holds it */
		return;
	}
	if (emu_fd_hold(fd, accmode, obj) && !obj->rdonly)
		__atomic_or_fetch(&obj->hdr->flags, EMU_OBJ_F_UNHELD, __ATOMIC_RELAXED);
}

/* The locked path: fds we have not seen yet (adopted after an fstat and a
 * header check), and every lookup when no shim tells us about close(). */
static int fd_get_slow(int fd, struct emu_obj **objp, int *accmode, bool trusted, const struct stat *known,
		       int known_acc)
{
	struct emu_obj *deferred_share = NULL;
	struct stat sb;
	int err;

	pthread_mutex_lock(&fd_lock);
	uintptr_t *slot = fd_slot(fd);
	uintptr_t v = slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
	struct emu_obj *obj = (struct emu_obj *)(v & ~(uintptr_t)3);
	if (obj && !trusted) {
		/* Nobody tells us about close(): check the fd still names this file. */
		if (emu_os_fstat(fd, &sb) || sb.st_dev != obj->dev || sb.st_ino != obj->ino) {
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
	if (known)
		sb = *known;
	else if ((err = emu_os_fstat(fd, &sb)))
		goto out;
	err = -EINVAL;
	if (!S_ISREG(sb.st_mode) || root_dev_get(&rdev) || sb.st_dev != rdev ||
	    sb.st_size < (off_t)EMU_PAGE_SIZE)
		goto out;
	int fl = known ? known_acc & O_ACCMODE : emu_os_fcntl(fd, F_GETFL, 0);
	if (fl < 0) {
		err = -EBADF;
		goto out;
	}
	if (fl & O_PATH)
		goto out;
	err = obj_map_locked(fd, &sb, fl & O_ACCMODE, &obj);
	if (err)
		goto out;
	hold_or_mark(fd, obj, (fl & O_ACCMODE) | (known ? known_acc & EMU_HOLD_SECOND : 0));
	if (btf_deferred(obj) || maps_deferred(obj))
		deferred_share = obj;     /* another fd table (or fd) reaches it now */
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
	if (deferred_share && !err)
		emu_obj_share(deferred_share);   /* *objp holds a reference */
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
	err = fd_get_slow(fd, &obj, &acc, trusted, NULL, 0);
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

int emu_fd_adopt(int fd, const struct stat *sb, int accmode, struct emu_obj **objp)
{
	int acc;
	return fd_get_slow(fd, objp, &acc, __atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE), sb, accmode);
}

void emu_fd_install_acc(int fd, struct emu_obj *obj, int accmode)
{
	hold_or_mark(fd, obj, accmode);
	pthread_mutex_lock(&fd_lock);
	if (fd_set_locked(fd, obj, accmode & O_ACCMODE))
		obj_put_locked(obj);
	fd_unlock();
}

void emu_fd_install(int fd, struct emu_obj *obj)
{
	int acc = emu_os_fcntl(fd, F_GETFL, 0);
	emu_fd_install_acc(fd, obj, acc < 0 ? O_RDWR : acc);
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
	struct statfs vfs;
	if (emu_os_statfs(emu_config()->objs_dir, &vfs))
		return 0;   /* cannot tell: let the write fail later rather than refuse */
	if (vfs.f_blocks && (__u64)vfs.f_bavail * (__u64)vfs.f_bsize < bytes)
		return -ENOMEM;
	return 0;
}

static int obj_create(enum emu_kind kind, __u64 data_size, __u64 reserve, int accmode, struct emu_obj **objp);

int emu_obj_create(enum emu_kind kind, __u64 data_size, struct emu_obj **objp)
{
	return obj_create(kind, data_size, data_size, O_RDWR, objp);
}

int emu_obj_create_lazy(enum emu_kind kind, __u64 data_size, __u64 reserve, struct emu_obj **objp)
{
	return obj_create(kind, data_size, reserve, O_RDWR, objp);
}

int emu_obj_create_mode(enum emu_kind kind, __u64 data_size, __u64 reserve, int accmode, struct emu_obj **objp)
{
	return obj_create(kind, data_size, reserve, accmode & O_ACCMODE, objp);
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
	if (!(__atomic_load_n(&obj->hdr->flags, __ATOMIC_RELAXED) & EMU_OBJ_F_POPULATED))
		__atomic_or_fetch(&obj->hdr->flags, EMU_OBJ_F_POPULATED, __ATOMIC_RELAXED);
	int err = emu_os_madvise(base + start, end - start, MADV_POPULATE_WRITE);
	if (err == 0 || err == -EINVAL)
		return 0;     /* EINVAL: a kernel before 5.14; nothing better to do */
	return -ENOMEM;
}

/* Is spare o (off the list) dead? 1 and a fresh open file of it for the
 * program in *fdp; 0 if something still holds it (o stays ours); -1 if it
 * is lost (o is freed). */
static int spare_try(struct emu_obj *o, int mode, int *fdp)
{
	struct stat sb;
	int fd = spare_open(o->hdr->spare_pid, o->hdr->spare_stamp, o->hdr->spare_seq, mode | O_CLOEXEC | O_NOFOLLOW, 0);
	o->held_fd1 = 0;
	if (fd >= 0 && (mode & O_ACCMODE) != O_RDONLY) {
		/* The test in one call: byte 0 (emu_fd_hold) is free when no fd
		 * holds the file but those that flagged it shared; then no flag
		 * and no in-process BTF holder is a dead file, and the lock is
		 * the new object's hold. The name is ours: nobody else removes
		 * it while we live, so it still names our file. */
		struct flock fl;
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_len = 1;
		int err = emu_os_fcntl(fd, F_OFD_SETLK, (long)&fl);
		if (err == -EAGAIN || err == -EACCES) {
			emu_os_close(fd);
			return 0;
		}
		if (!err) {
			o->held_fd1 = fd + 1;
			if (!(__atomic_load_n(&o->hdr->flags, __ATOMIC_SEQ_CST) & (EMU_OBJ_F_SHARED | EMU_OBJ_F_LINKED)) &&
			    !__atomic_load_n(&o->hdr->holders, __ATOMIC_ACQUIRE)) {
				*fdp = fd;
				return 1;
			}
		}
	}
	if (fd >= 0 && (mode & O_ACCMODE) == O_RDONLY) {
		/* A read-only fd (BTF, links) cannot take the write lock: the
		 * same test as a query, and the hold comes with the install. */
		struct flock fl;
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_len = 1;
		int err = emu_os_fcntl(fd, F_OFD_GETLK, (long)&fl);
		if (!err && fl.l_type != F_UNLCK) {
			emu_os_close(fd);
			return 0;
		}
		if (!err && !(__atomic_load_n(&o->hdr->flags, __ATOMIC_SEQ_CST) & (EMU_OBJ_F_SHARED | EMU_OBJ_F_LINKED)) &&
		    !__atomic_load_n(&o->hdr->holders, __ATOMIC_ACQUIRE)) {
			*fdp = fd;
			return 1;
		}
	}
	/* shared or linked once: ask the links and every byte */
	if (fd >= 0 && (emu_os_fstat(fd, &sb) || sb.st_dev != o->dev || sb.st_ino != o->ino)) {
		emu_os_close(fd);      /* the name is not our file any more */
		fd = -1;
	}
	if (fd < 0) {
		emu_os_munmap(o->data, o->map_len);
		pthread_mutex_lock(&fd_lock);
		o->next = obj_pool;
		obj_pool = o;
		pthread_mutex_unlock(&fd_lock);
		return -1;
	}
	if (file_held(fd, &sb, 1, o->hdr)) {
		/* pinned, referenced, or another process holds it: not yet */
		o->held_fd1 = 0;
		emu_os_close(fd);
		return 0;
	}
	*fdp = fd;
	return 1;
}

/* Can spare o become an object reserving [0, reserve_end) without fallocate
 * (spare_reuse: nothing to punch back to holes, nothing to grow)? */
static bool spare_fits(const struct emu_obj *o, __u64 reserve_end)
{
	return o->reserve_end == reserve_end &&
	       (reserve_end >= o->map_len - EMU_PAGE_SIZE || !(__atomic_load_n(&o->hdr->flags, __ATOMIC_RELAXED) & EMU_OBJ_F_POPULATED));
}

/* A dead spare of exactly total bytes, taken off the list, and a fresh open
 * file of it for the program (O_RDWR, close-on-exec) in *fdp: the newest
 * that needs no fallocate for reserve_end, else the newest. Spares still
 * held go to the list's end, where they are tried last (and evicted
 * first). */
static struct emu_obj *spare_take(__u64 total, __u64 reserve_end, int mode, int *fdp)
{
	struct emu_obj *held = NULL, *found = NULL;
	for (int tries = 0; tries < 3 && !found; tries++) {
		pthread_mutex_lock(&fd_lock);
		struct emu_obj **pp = &spares, **first = NULL;
		for (; *pp; pp = &(*pp)->next)
			if ((*pp)->map_len == total) {
				if (spare_fits(*pp, reserve_end))
					break;
				if (!first)
					first = pp;
			}
		if (!*pp && first)
			pp = first;
		struct emu_obj *o = *pp;
		if (o) {
			*pp = o->next;
			nspares--;
			spare_bytes -= o->map_len;
		}
		pthread_mutex_unlock(&fd_lock);
		if (!o)
			break;
		int r = spare_try(o, mode, fdp);
		if (r > 0) {
			found = o;
		} else if (r == 0) {
			o->next = held;
			held = o;
		}
	}
	if (held) {
		pthread_mutex_lock(&fd_lock);
		struct emu_obj **pp = &spares;
		while (*pp)
			pp = &(*pp)->next;
		*pp = held;
		for (struct emu_obj *o = held; o; o = o->next) {
			nspares++;
			spare_bytes += o->map_len;
		}
		pthread_mutex_unlock(&fd_lock);
	}
	return found;
}

/* Makes a spare the new object: the header and data as a new file has them.
 * The file's data is [0, data_len) (the same size as before), its header the
 * page after. */
static int spare_reuse(struct emu_obj *o, int fd, int accmode, __u64 reserve_end, __u64 data_len)
{
	int err = 0, wfd = fd;
	bool grow = o->reserve_end < reserve_end;
	/* what a lazy family filled (or an older object reserved) goes back to
	 * being a hole; pages only read are zero already */
	bool punch = reserve_end < data_len && (o->reserve_end > reserve_end ||
						(__atomic_load_n(&o->hdr->flags, __ATOMIC_RELAXED) & EMU_OBJ_F_POPULATED));
	if ((punch || grow) && (accmode & O_ACCMODE) != O_RDWR) {
		/* fd is read-only or write-only: fallocate wants both */
		wfd = spare_open(o->hdr->spare_pid, o->hdr->spare_stamp, o->hdr->spare_seq,
				 O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
		if (wfd < 0)
			return wfd;
	}
	if (punch)
		err = emu_os_fallocate(wfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)reserve_end,
				       (off_t)(data_len - reserve_end));
	if (!err && grow)
		err = emu_os_fallocate(wfd, 0, (off_t)o->reserve_end, (off_t)(reserve_end - o->reserve_end));
	if (wfd != fd)
		emu_os_close(wfd);
	if (err && err != -EOPNOTSUPP)
		return err == -ENOSPC ? -ENOMEM : err;
	o->reserve_end = reserve_end;
	struct emu_obj_hdr *h = o->hdr;
	if (__atomic_load_n(&h->flags, __ATOMIC_RELAXED) & EMU_OBJ_F_HOLDS_REFS)
		emu_refs_drop(o);        /* the dead object's references */
	__u32 pid = h->spare_pid, seq = h->spare_seq;
	__u64 stamp = h->spare_stamp;
	memset(h, 0, sizeof(*h));          /* nothing lives past it in its page */
	memset(o->data, 0, reserve_end);
	h->spare_pid = pid;
	h->spare_stamp = stamp;
	h->spare_seq = seq;
	return 0;
}

/* A new object file with a spare name of this process: its fd, or -errno. */
static int spare_create(__u32 *seq)
{
	pthread_mutex_lock(&fd_lock);
	int err = spare_setup_locked();
	*seq = ++spare_next_seq;
	pthread_mutex_unlock(&fd_lock);
	if (err)
		return err;
	return spare_open((__u32)spare_pid, spare_stamp, *seq, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

static int obj_create(enum emu_kind kind, __u64 data_size, __u64 reserve, int accmode, struct emu_obj **objp)
{
	int err = emu_root_ready();
	if (err)
		return err;
	__u64 data_len = page_align(data_size);
	__u64 total = data_len + EMU_PAGE_SIZE;          /* the data, then the header page */
	if (total < data_size || total > (__u64)1 << 46)
		return -ENOMEM;
	/* Reserve the pages the family needs at once (the header, and for an
	 * array all of it, as the kernel allocates it at create): a sparse file
	 * on a full tmpfs would SIGBUS the first store to an unallocated page.
	 * Families that fill lazily (hash elements) populate as they grow, with
	 * emu_obj_populate(); a file they could overfill is refused up front
	 * with ENOMEM, as the kernel answers. Filesystems without fallocate stay
	 * sparse. */
	__u64 reserve_end = page_align(reserve < data_size ? reserve : data_size);
	bool spare_ok = total <= SPARE_OBJ_MAX && __atomic_load_n(&hooks_active, __ATOMIC_ACQUIRE);
	struct emu_obj *obj = NULL;
	int fd = -1;
	__u32 seq = 0;

	if (spare_ok && (obj = spare_take(total, reserve_end, accmode, &fd))) {
		err = spare_reuse(obj, fd, accmode, reserve_end, data_len);
		EMU_LOG(EMU_LOG_MAP, "the file of a dropped object (%llu bytes) is reused: %s", (unsigned long long)total,
			err ? strerror(-err) : "ok");
		if (err) {
			emu_os_close(fd);
			spare_drop(obj);
			obj = NULL;
		}
	}
	if (!obj) {
		if (reserve_end < data_len) {
			err = space_available(total);
			if (err)
				return err;
		}
		fd = spare_ok ? spare_create(&seq) : -1;
		if (fd < 0) {
			seq = 0;
			fd = emu_os_open(emu_config()->objs_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		}
		if (fd < 0)
			return fd == -ENOSPC ? -ENOMEM : fd;
		/* the reserved data and the header page, the last: fallocate sets
		 * the size too (one call when everything is reserved) */
		if (reserve_end == data_len)
			err = emu_os_fallocate(fd, 0, 0, (off_t)total);
		else if (!(err = emu_os_fallocate(fd, 0, (off_t)data_len, EMU_PAGE_SIZE)) && reserve_end)
			err = emu_os_fallocate(fd, 0, 0, (off_t)reserve_end);
		if (err == -EOPNOTSUPP) {
			reserve_end = 0;
			err = emu_os_ftruncate(fd, (off_t)total);
		}
		if (err) {
			err = err == -EFBIG ? -E2BIG : -ENOMEM;
			goto fail_fd;
		}
		void *p = emu_os_mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, NULL);
		if (p == MAP_FAILED) {
			err = -ENOMEM;
			goto fail_fd;
		}
		struct stat sb;
		err = emu_os_fstat(fd, &sb);
		if (!err) {
			pthread_mutex_lock(&fd_lock);
			obj = obj_alloc_locked();
			pthread_mutex_unlock(&fd_lock);
			if (!obj)
				err = -ENOMEM;
		}
		if (err) {
			emu_os_munmap(p, total);
			goto fail_fd;
		}
		obj->data = p;
		obj->hdr = (struct emu_obj_hdr *)((char *)p + data_len);
		obj->map_len = total;
		obj->dev = sb.st_dev;
		obj->ino = sb.st_ino;
		obj->reserve_end = reserve_end;
		if (!seq)
			emu_ids_unnamed(sb.st_ino);     /* no name: id scans must know it is ours */
		if (seq) {
			obj->spare = true;
			obj->hdr->spare_pid = (__u32)spare_pid;
			obj->hdr->spare_stamp = spare_stamp;
			obj->hdr->spare_seq = seq;
			/* the mapping keeps the open file it was made from, so the
			 * program gets another one (at the same number), which it
			 * alone holds (emu_fd_hold) */
			emu_os_close(fd);
			fd = spare_open(obj->hdr->spare_pid, obj->hdr->spare_stamp, obj->hdr->spare_seq,
					accmode | O_CLOEXEC | O_NOFOLLOW, 0);
			if (fd < 0) {
				err = fd;
				spare_drop(obj);
				return err;
			}
		}
	}
	struct emu_obj_hdr *h = obj->hdr;
	h->version = EMU_OBJ_VERSION;
	h->kind = kind;
	static uid_t uid = (uid_t)-1;      /* the creator's uid (informational) */
	if (uid == (uid_t)-1)
		uid = getuid();
	h->owner_uid = (__u32)uid;
	h->data_off = 0;
	h->data_size = data_len;
	h->total_size = total;

	emu_mutex_init_robust(&h->lock);

	obj->refs = 1;
	pthread_mutex_lock(&fd_lock);
	obj->next = objs;
	objs = obj;
	pthread_mutex_unlock(&fd_lock);
	if (!obj->spare && accmode != O_RDWR && (err = emu_fd_reopen_in_place(fd, accmode))) {
		emu_os_close(fd);
		emu_obj_put(obj);
		return err;
	}
	*objp = obj;
	return fd;     /* magic is written by the caller once the object is complete */

fail_fd:
	if (seq) {
		char path[PATH_MAX];
		if (!spare_path(path, sizeof(path), (__u32)spare_pid, spare_stamp, seq))
			emu_os_unlinkat(AT_FDCWD, path, 0);
	}
	emu_os_close(fd);
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

/* The kernel's isalnum() (lib/ctype.c): Latin-1, so 0xc0-0xff are letters
 * but for 0xd7 and 0xf7 (multiplication and division signs). */
static bool kernel_isalnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c >= 0xc0 && c != 0xd7 && c != 0xf7);
}

int emu_obj_name_cpy(char *dst, const char *src, size_t size)
{
	size_t i;
	memset(dst, 0, size);
	for (i = 0; i < size && src[i]; i++) {
		char c = src[i];
		if (!kernel_isalnum((unsigned char)c) && c != '_' && c != '.')
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
	char buf[256];
	if (emu_os_read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf)) > 0) {
		{
			for (char *save, *tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
				unsigned int a, b;
				int k = sscanf(tok, "%u-%u", &a, &b);
				if (k == 2 && b >= a)
					v += b - a + 1;
				else if (k == 1)
					v += 1;
			}
		}
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
