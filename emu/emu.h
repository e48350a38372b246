/* SPDX-License-Identifier: MIT */
/*
 * emu/emu.h: what the engine offers the shim (preload/) and the tools.
 *
 * Convention: every function returns >= 0 or -errno and never touches errno
 * (the two edges, bpfemu_bpf() and the shim's syscall(), convert). The engine
 * knows nothing of the shim: its own file, descriptor and memory calls go to
 * the system directly (emu/os.h), never to a libc function the shim wraps, so
 * it behaves the same linked alone or inside libbpfemu.so, and the program's
 * fd bookkeeping never sees the engine's descriptors
 * (tests/preload/engine_calls.c, engine_symbols.sh).
 */
#ifndef BPFEMU_EMU_H
#define BPFEMU_EMU_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Thread-local storage of the engine: initial-exec, so an access is one
 * instruction instead of a __tls_get_addr call (the engine is linked into
 * programs or into libbpfemu.so, preloaded at start-up, never dlopen()ed late). */
#define EMU_TLS __thread __attribute__((tls_model("initial-exec")))

/* ---- the bpf() entry point (emu/sys.c) ---- */
long emu_sys_bpf(int cmd, const void *uattr, unsigned int size);

static inline long emu_ret_to_libc(long ret, int *err)
{
	if (ret < 0) {
		*err = (int)-ret;
		return -1;
	}
	return ret;
}

/* ---- the caller (emu/caller.c): whose memory, fds and cwd a call names ---- */
/*
 * The engine serves its own process by default. A door that serves another
 * process (the seccomp supervisor) sets one of these for the thread around
 * each call into the engine; NULL goes back to the calling process itself.
 * Every hook returns 0 (or an fd) or -errno.
 */
struct emu_caller {
	pid_t pid;                      /* the calling process (thread group) */
	pid_t tid;                      /* the calling thread */
	/* copy len bytes from / to the caller's address: 0 or -EFAULT */
	int (*read)(struct emu_caller *c, void *dst, const void *src, size_t len);
	int (*write)(struct emu_caller *c, void *dst, const void *src, size_t len);
	/* a descriptor of this process for the caller's fd ufd (the same open
	 * file), or -EBADF; the door owns it and closes it after the call (telling
	 * the engine with emu_fd_closed) and returns the same one for the same
	 * ufd within a call */
	int (*fd_get)(struct emu_caller *c, int ufd);
	/* install this process's fd in the caller (O_CLOEXEC, as bpf() fds are):
	 * the caller's number or -errno; the engine closes fd afterwards */
	int (*fd_give)(struct emu_caller *c, int fd);
	void *door;                     /* the door's own state */
};
void emu_caller_set(struct emu_caller *c);
struct emu_caller *emu_caller_get(void);
pid_t emu_caller_pid(void);
pid_t emu_caller_tid(void);
/* The caller's fd ufd as an fd of this process (itself when the caller is
 * this process), or -EBADF. */
int emu_caller_fd(int ufd);
/* Hands a new fd of this process to the caller and closes ours: the
 * caller's number (fd itself when the caller is this process) or -errno. */
int emu_caller_give_fd(int fd);
/* The directory dirfd (AT_FDCWD: the cwd) of the caller stands for, as a
 * path: its length, or -errno. */
ssize_t emu_caller_dir(int dirfd, char *buf, size_t len);

/* ---- configuration and logging (emu/config.c) ---- */
#define EMU_NR_CPUS 8192u             /* BPFEMU_CPUS bound: Debian's NR_CPUS */
enum emu_log_cat {
	EMU_LOG_SYS = 1u << 0,   /* bpf() calls that fail or are not emulated */
	EMU_LOG_MAP = 1u << 1,   /* map object life cycle */
	EMU_LOG_PATH = 1u << 2,  /* path translation */
	EMU_LOG_SHIM = 1u << 3,  /* wrapped libc calls */
	EMU_LOG_VM = 1u << 4,    /* BPF programs: how a run ended early, helpers not emulated */
};
struct emu_config {
	char root[PATH_MAX];          /* state root, no trailing slash */
	char bpffs_dir[PATH_MAX];     /* root + "/bpffs": where /sys/fs/bpf lives */
	char objs_dir[PATH_MAX];      /* root + "/objs": O_TMPFILE home of objects */
	unsigned int nmounts;         /* fake bpffs mount points */
	char mounts[8][PATH_MAX];     /* [0] = "/sys/fs/bpf", then BPFEMU_BPFFS */
	unsigned int log;             /* enum emu_log_cat bits */
	char trace[PATH_MAX];         /* BPFEMU_TRACE: strace-style log of every call, "" = off */
	pid_t trace_pid;              /* BPFEMU_TRACE_PID: first task of the traced tree ("[pid N] " rule) */
	bool attach_inert;            /* BPFEMU_ATTACH=inert: attach calls succeed with links that do nothing */
	unsigned int cpus;            /* BPFEMU_CPUS: possible CPUs to emulate (0: the host's) */
};
/* Reads the environment once (thread-safe); never fails: problems are logged
 * and surface as -errno from the first call that needs the state root. */
const struct emu_config *emu_config(void);
/* Creates the state root (0700) and its subdirectories if needed; 0 or -errno. */
int emu_root_ready(void);
/* The possible CPUs the state root was made for (its "cpus" file), 0 if unknown. */
unsigned int emu_root_cpus(void);
/* Possible CPUs as per-CPU values count them: the state root's (BPFEMU_CPUS,
 * else the host's when the root was made); emu/fdtable.c. */
unsigned int emu_possible_cpus(void);
unsigned int emu_host_possible_cpus(void);    /* the host's /sys/devices/system/cpu/possible */
/* Is the state root shared by several users (root-owned, sticky, writable by all)? */
bool emu_root_shared(void);
void emu_log(unsigned int cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define EMU_LOG(cat, ...) do { if (emu_config()->log & (cat)) emu_log((cat), __VA_ARGS__); } while (0)

/* ---- fd tracking (emu/fdtable.c) ---- */
/* The shim sees close, the dup family and fcntl and tells the engine; once it says so, the
 * engine trusts its fd cache without an fstat per call. */
void emu_fd_hooks_active(void);
void emu_fd_closed(int fd);                          /* after a successful close */
void emu_fd_range_closed(unsigned int first, unsigned int last);
void emu_fd_duped(int oldfd, int newfd);             /* newfd now shares oldfd's file */
void emu_fd_shared(int fd);                          /* fd is being sent to another process (SCM_RIGHTS) */

/* Objects the engine keeps as files. Kinds past EMU_KIND_LINK are not bpf objects (bpf()
 * answers them as it answers any other fd): emu_fd_get() returns them only when asked for by
 * their own kind or by EMU_KIND_ANY, never for EMU_KIND_NONE ("any bpf object"). */
enum emu_kind {
	EMU_KIND_NONE = 0, EMU_KIND_MAP, EMU_KIND_PROG, EMU_KIND_BTF, EMU_KIND_LINK,
	EMU_KIND_PERF_EVENT,           /* an emulated perf event (emu/perf/) */
	EMU_KIND_ANY = 255,            /* emu_fd_get(): any object, perf events included */
};
/* A door that serves other processes keeps the objects it served mapped
 * between calls (their fds come and go with each call): a reference on the
 * object behind our fd (NULL if it is none), and its release. */
struct emu_obj;
struct emu_obj *emu_obj_hold(int fd);
void emu_obj_release(struct emu_obj *obj);
/* Which object fd refers to (EMU_KIND_NONE for any other fd, closed fds too). */
enum emu_kind emu_fd_kind(int fd);
/* "anon_inode:bpf-map" and friends, NULL for EMU_KIND_NONE. */
const char *emu_kind_anon_name(enum emu_kind kind);
/* The bpf lines of /proc/self/fdinfo/FD after the generic ones, in the
 * kernel's format ("map_type:\t1\nkey_size:\t4\n..."). Length or -errno. */
int emu_fdinfo_format(int fd, char *buf, size_t len);

/* mmap(2) of a bpf object fd. Returns 1 if fd is not a bpf object (the shim
 * calls the real mmap unchanged), 0 with *real_off set to the file offset to
 * map instead of off, or -errno (the kernel's answer for this map). */
int emu_mmap_check(int fd, size_t len, int prot, int flags, off_t off, off_t *real_off);

/* ---- ring buffer readiness (emu/ringbuf.c), for the shim's epoll/poll/select ---- */
/* BPF_MAP_TYPE_RINGBUF or USER_RINGBUF if fd is a ring buffer map, else 0.
 * cached_only: only fds the engine already knows (no system call). */
int emu_ringbuf_fd_type(int fd, bool cached_only);
/* An fd to wait on instead (readable after a producer or a drain made the ring
 * ready; may also wake spuriously), O_NONBLOCK, owned by the caller; or -errno. */
int emu_ringbuf_notify_open(int fd);
/* What poll() would report for the ring now: POLLIN|POLLRDNORM (RINGBUF with
 * data), POLLOUT|POLLWRNORM (USER_RINGBUF with space), 0, or POLLNVAL. */
unsigned int emu_ringbuf_revents(int fd);
/* Count (+1) or uncount (-1) a waiter: producers wake only rings with waiters. */
void emu_ringbuf_waiting(int fd, int delta);

/* ---- readiness of every emulated pollable fd (emu/wait.c): ring buffer maps and perf events ---- */
bool emu_pollable(int fd, bool cached_only);
int emu_poll_notify_open(int fd);
/* What poll() reports now. consume: a perf event's wake-up is read and cleared, as
 * perf_poll() does (for ring buffers the same as a peek). */
unsigned int emu_poll_revents(int fd, bool consume);
void emu_poll_waiting(int fd, int delta);

/* ---- the fake bpffs (emu/path.c): the ONE path translator ---- */
/*
 * Normalizes path (relative to dirfd, AT_FDCWD or a directory fd; "." "..",
 * "//") and, if it is at or below a fake bpffs mount point,
 * writes the state-root path into buf and returns buf. Otherwise returns path
 * unchanged. Returns NULL with errno set if the path cannot be walked: the
 * result does not fit (ENAMETOOLONG), or a component inside bpffs that a ".."
 * removes is missing (ENOENT) or not a directory (ENOTDIR), as the kernel's
 * walk answers; the caller fails with that errno. Nothing it returns lies outside the state root unless the
 * input was outside every mount point.
 */
const char *emu_bpffs_translate(int dirfd, const char *path, char buf[PATH_MAX]);
/* The reverse, for paths handed back to the program (realpath, getcwd,
 * readlink): a state-root bpffs path becomes its mount-point path in buf. */
const char *emu_bpffs_untranslate(const char *real, char buf[PATH_MAX]);
/* The fake bpffs's directory with symlinks resolved (its canonical path). */
const char *emu_bpffs_real(void);
/* real (a translated path) relative to an fd of the fake bpffs's root that
 * the engine keeps, in *dirfd, when it lies below the root with no ".." on
 * the way (the same file, by a shorter walk); else AT_FDCWD and real. */
const char *emu_bpffs_from_root(const char *real, int *dirfd);
/* Is this real (already translated) path at or under the fake bpffs? */
bool emu_bpffs_contains(const char *real);
/* The entries a bpffs mount shows in its root only (bpf_preload's iterators):
 * real files there, created with the state root (emu_root_ready). */
#define EMU_BPFFS_DEBUG_ENTRIES { "maps.debug", "progs.debug" }
/* Is path (translated; relative to dirfd if not absolute) one of them, in
 * the fake bpffs root? Cheap when the last component is another name. */
bool emu_bpffs_debug_entry(int dirfd, const char *path);
/* Is a stat result of path relative to dirfd (AT_FDCWD: the cwd) under the
 * fake bpffs? Only asks the file system when dev is the state root's, so
 * ordinary relative stats cost nothing. For the stat wrappers' view of pins
 * reached through a relative path (`cd /sys/fs/bpf; ls -l`). */
bool emu_bpffs_rel_contains(int dirfd, const char *path, dev_t dev);
/* The state root's device (0 or -errno). */
int emu_root_dev(dev_t *dev);
/* Is fd an open file or directory under the fake bpffs? (fstatfs) */
bool emu_bpffs_fd_contains(int fd);
/* Called by the shim before unlinking a name under the fake bpffs (path
 * translated, relative to dirfd): keeps an object's last link linkable. */
void emu_unpin_prepare(int dirfd, const char *path);
/* Lines to append to /proc/mounts (mountinfo = false) or /proc/self/mountinfo
 * for every fake bpffs mount point. Length written (truncated to len) */
size_t emu_bpffs_mount_lines(char *buf, size_t len, bool mountinfo);

/* ---- bpffs answers to file calls (emu/vfs.c), on translated paths ---- */
/* open(): 0 to go ahead with the real open of t, or the kernel's -errno
 * (EIO for a pin, EACCES for a new name, EOPNOTSUPP for O_TMPFILE...). */
int emu_bpffs_open_check(const char *t, int flags);
/* The errno of opening maps.debug / progs.debug (root's 0400 files). */
int emu_bpffs_debug_open_errno(int flags);

/* ---- /proc views (emu/procfs.c), for the caller (emu/caller.c) ---- */
#define EMU_PROC_UNHANDLED 1     /* "not a view we make up": the real call decides */
/*
 * open() of /proc/mounts, /proc/self/mounts, /etc/mtab (a link to it),
 * /proc/self/mountinfo (or /proc/<caller's pid or tid>/...), or
 * /proc/self/fdinfo/N of a bpf object fd, read-only: a descriptor (of this
 * process) of a memfd holding the real content plus the bpf lines, -errno, or
 * EMU_PROC_UNHANDLED. errno is left as it was.
 */
int emu_proc_open(const char *path, int flags);
/* readlink() of /proc/self/fd/N (or /proc/<caller>/fd/N,
 * /proc/thread-self/fd/N) for a bpf object fd: "anon_inode:bpf-map" and so
 * on; NULL for anything else. */
const char *emu_proc_fd_link(const char *path);
/* N when path names /proc/self/fd/N (or /proc/<caller>/fd/N,
 * /proc/thread-self/fd/N, /dev/fd/N) and the caller's fd N is a bpf object
 * fd; -1 otherwise. errno is left as it was. */
int emu_proc_obj_fd(const char *path);

/* ---- the trace buffer and its tracefs files (emu/tracefs.c) ---- */
/* One event (its line as trace_pipe shows it, with the newline) into the state root's buffer. */
void emu_trace_event(const char *line, size_t len);
/* open() of /sys/kernel/tracing/{trace_pipe,trace,tracing_on} (or under
 * /sys/kernel/debug/tracing): an fd, -errno or EMU_PROC_UNHANDLED (emu_proc_open calls it). */
int emu_tracefs_open(const char *path, int flags);
/* Is path one of the tracefs directories the engine shows (statfs: TRACEFS_MAGIC)? */
bool emu_tracefs_dir(const char *path);
#define EMU_TRACEFS_MAGIC 0x74726163

#endif
