/* SPDX-License-Identifier: MIT */
/*
 * emu/obj.h: bpf objects as shared files.
 *
 * Every object (map, program) is a file in the state root, created unlinked
 * (O_TMPFILE) and mapped MAP_SHARED. The fd bpf() returns is a real fd of that
 * file, so the kernel's own file refcounting is the object's refcount: the
 * last close of an unpinned object frees it. A pin is a hard link in the fake
 * bpffs.
 *
 * The type's storage starts at file offset 0 (hdr->data_off, always 0) and
 * struct emu_obj_hdr fills the file's last page, at hdr->data_size: a map's
 * mmap offsets are then the file's own, so a program can map the object file
 * itself at the offsets the kernel's ABI uses (BPF_F_MMAPABLE arrays, ring
 * buffers), also where no shim sits between it and mmap(2) (the seccomp
 * door). Nothing in the file is a pointer: every process maps it at its own
 * address.
 */
#ifndef BPFEMU_OBJ_H
#define BPFEMU_OBJ_H

#include <linux/bpf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "emu.h"

#define EMU_OBJ_MAGIC   0x4f4a424f554d4545ULL   /* "EEMUOBJO" */
#define EMU_OBJ_VERSION 7      /* 2: hash elements carry LRU bookkeeping; 3: arrays of values over 8 bytes end in a redo journal;
                                * 4: HASH/PERCPU_HASH (and the families wrapping them) lock by stripes;
                                * 5: the data first, the header in the last page;
                                * 6: hdr->flags, spare names and BTF holds (object files are reused: emu/fdtable.c);
                                * 7: a hash element's key of at most 4 bytes sits where its hash was, LRU hash
                                *    elements start 8-aligned (emu/hashtab.c) */
#define EMU_PAGE_SIZE   4096u
#define EMU_OBJ_NAME_LEN 16

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef offsetofend
#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#endif
static inline void emu_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}
/* A caller's pointer plus an offset, as an integer sum: the caller may pass
 * NULL (then the copy answers EFAULT), where pointer arithmetic would be UB. */
#define UPTR_ADD(p, off) ((void *)((uintptr_t)(p) + (uintptr_t)(off)))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define round_up8(x) (((x) + 7u) & ~(__u64)7u)
#define page_align(x) (((x) + (__u64)EMU_PAGE_SIZE - 1) & ~((__u64)EMU_PAGE_SIZE - 1))

/* A special field of a map value (the kernel's struct btf_field): types as the
 * kernel's enum btf_field_type bits. */
enum {
	EMU_FIELD_SPIN_LOCK = 1u << 0,
	EMU_FIELD_TIMER = 1u << 1,
	EMU_FIELD_KPTR_UNREF = 1u << 2,
	EMU_FIELD_KPTR_REF = 1u << 3,
	EMU_FIELD_KPTR_PERCPU = 1u << 4,
	EMU_FIELD_LIST_HEAD = 1u << 5,
	EMU_FIELD_LIST_NODE = 1u << 6,
	EMU_FIELD_RB_ROOT = 1u << 7,
	EMU_FIELD_RB_NODE = 1u << 8,
	EMU_FIELD_REFCOUNT = 1u << 9,
	EMU_FIELD_WORKQUEUE = 1u << 10,
	EMU_FIELD_UPTR = 1u << 11,
	EMU_FIELD_RES_SPIN_LOCK = 1u << 12,
};
#define EMU_FIELD_KPTR (EMU_FIELD_KPTR_UNREF | EMU_FIELD_KPTR_REF | EMU_FIELD_KPTR_PERCPU)
#define EMU_MAP_FIELDS_MAX 11          /* BTF_FIELDS_MAX */
struct emu_map_field {
	__u32 off, type, size;
	__u32 kptr_btf_id;             /* a kptr's struct: its id in vmlinux (kptr_kernel) or in the map's BTF */
	__u32 kptr_kernel;
};

struct emu_map_desc {
	__u32 map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 numa_node;
	__u64 map_extra;
	__u32 btf_id;
	__u32 btf_key_type_id;
	__u32 btf_value_type_id;
	__u32 btf_vmlinux_value_type_id;
	__u32 ifindex;
	__u32 frozen;                  /* written once, under the object lock */
	/* the family's shared counters: [0, 16) belong to the storage family
	 * (hashtab: heads, count, seq...), [16, 24) to a family wrapping it
	 * (map_in_map.c around hashtab.c) */
	__u64 type_state[24];
	__s32 spin_lock_off;           /* offset of the value's bpf_spin_lock, -1 for none */
	__u32 special;                 /* the value has special fields (a btf_record): no freeze, no mmap */
	__u32 nr_fields;               /* the record (btf_parse_fields()): its fields, by offset */
	struct emu_map_field fields[EMU_MAP_FIELDS_MAX];
};

struct emu_btf_desc {
	__u32 data_size;               /* the raw BTF (header, types, strings) at hdr->data_off */
	__u32 kernel_btf;
	char name[64];                 /* a kernel BTF's: "vmlinux" or the module's (emu/btf_kernel.c) */
};

struct emu_prog_desc {
	__u32 prog_type;
	__u32 expected_attach_type;
	__u32 insn_cnt;
	__u32 prog_flags;
	__u32 gpl_compatible;
	__u32 nr_map_ids;
	__u8 tag[8];
	__u64 load_time;               /* ns since boot, like the kernel's */
	__u32 created_by_uid;
	__u32 verified_insns;          /* the verifier's processed count (0: older object) */
	__u32 map_ids[64];             /* maps used by the program (info.map_ids) */
	__u32 btf_id;                  /* prog_btf_fd's BTF when func_info/line_info came with it */
	__u32 nr_func_info;
	__u32 nr_line_info;
	__u32 attach_btf_id;
	__u32 attach_btf_obj_id;       /* the kernel BTF attach_btf_id is in (emu/btf_kernel.c) */
	/* run-time statistics (BPF_ENABLE_STATS), added to atomically by every
	 * process that runs the program (emu/vm) */
	__u64 run_time_ns;
	__u64 run_cnt;
	__u64 recursion_misses;
	__u32 nr_insn_aux;             /* insn_cnt, or 0: an object without the verifier's facts */
	__u32 loaded_insn_cnt;         /* the loaded length (memlock), insn_cnt: the xlated one
	                                * after the verifier cut dead code (0: an older object) */
	/* an extension loaded with a target program (attach_prog_fd): the target's id,
	 * the BTF id and first instruction of the function it replaces; cleared by
	 * its first attach, as the kernel's prog->aux->dst_prog */
	__u32 ext_dst_prog_id, ext_dst_btf_id, ext_dst_insn_off;
	/* bit i: subprogram i changes packet data / might sleep (the verifier's;
	 * past the 64th: set), what an extension of it is checked against */
	__u64 sub_pkt_mask, sub_sleep_mask;
	/* the functions extensions replace in this program (under the object's
	 * lock): each entry live while its link is (emu/link.c, emu/vm) */
	__u32 nr_ext;
	struct emu_ext_slot {
		__u32 insn_off;        /* the replaced function's first instruction */
		__u32 prog_id;         /* the extension */
		__u32 link_id;
	} ext[8];
	/* insns (struct bpf_insn[insn_cnt]: the xlated program, what runs) at hdr->data_off, then
	 * struct bpf_func_info[nr_func_info], then struct bpf_line_info[nr_line_info],
	 * then struct emu_insn_aux[nr_insn_aux] (emu/verifier/verifier.h: what the
	 * verifier proved of each instruction) */
};

struct emu_link_desc {
	__u32 link_type;               /* enum bpf_link_type */
	__u32 attach_type;
	__u32 prog_id;
	__u32 prog_type;
	__u32 target_ifindex;          /* XDP, TCX, netkit */
	__u32 target_fd_ino;           /* cgroup / netns / perf event: nothing to resolve here */
	char tp_name[64];              /* raw tracepoint name */
};

struct emu_obj_hdr {
	__u64 magic;
	__u32 version;
	__u32 kind;                    /* enum emu_kind */
	__u32 id;                      /* bpf object id (per kind, from the state root counter) */
	__u32 owner_uid;
	__u64 data_off;                /* file offset of the data: 0 */
	__u64 data_size;               /* page aligned; also the file offset of this header */
	__u64 total_size;              /* data_size + one page: the file and mapping size */
	char name[EMU_OBJ_NAME_LEN];
	pthread_mutex_t lock;          /* robust, process-shared: survives a holder killed by SIGKILL */
	__u32 lock_gen;                /* bumped when a dead holder's state was repaired */
	__u32 lock_seq;                /* odd while a holder is inside: lock-free readers of
	                                * read-only mappings retry (emu_obj_read_begin) */
	__u32 flags;                   /* EMU_OBJ_F_*: when the file may not be reused */
	__u32 spare_pid;               /* the file's spare name, <root>/spare/<pid>.<stamp>.<seq> */
	__u64 spare_stamp;             /* (0: it has none): emu/fdtable.c */
	__u32 spare_seq;
	__u32 btf_pid;                 /* the BTF this object holds, by its spare name, while */
	__u64 btf_stamp;               /* that hold is not a reference link yet */
	__u32 btf_seq;                 /* (EMU_OBJ_F_BTF_REF): emu_obj_hold_btf */
	__u32 holders;                 /* a BTF: holders in its spare name's process that hold it
	                                * with no reference link (alive while that process is) */
	__u32 pad1;
	union {
		struct emu_map_desc map;
		struct emu_prog_desc prog;
		struct emu_btf_desc btf;
		struct emu_link_desc link;
	};
};
_Static_assert(sizeof(struct emu_obj_hdr) <= EMU_PAGE_SIZE, "object header must fit its page");

/* hdr->flags: the object file must never be reused for another object */
#define EMU_OBJ_F_USER_MAPPED (1u << 0)   /* a program mapped it: the kernel keeps such a map alive */
#define EMU_OBJ_F_UNHELD      (1u << 1)   /* an fd of it could not be marked held (emu_fd_hold) */
#define EMU_OBJ_F_BTF_REF     (1u << 2)   /* its BTF hold is a reference link (or it holds none) */
#define EMU_OBJ_F_POPULATED   (1u << 3)   /* a lazy family wrote past the part reserved at create */
#define EMU_OBJ_F_SHARED      (1u << 4)   /* an fd of it holds another byte than 0 (emu_fd_hold) */
#define EMU_OBJ_F_LINKED      (1u << 5)   /* it got a name besides its spare name (a pin, a reference) */
#define EMU_OBJ_F_HOLDS_REFS  (1u << 6)   /* it has a holder directory under <root>/refs */
#define EMU_OBJ_F_MAPS_LOCAL  (1u << 7)   /* a program whose maps its process's hold directory
                                           * holds (no links of its own yet): emu_refs_proc_hold */

/* Per-process handle of one object file (shared by every fd of that file). */
struct emu_obj {
	struct emu_obj_hdr *hdr;       /* the header page of the mapping */
	void *data;                    /* the mapping of the whole file: the data, then hdr */
	size_t map_len;
	dev_t dev;
	ino_t ino;
	int refs;                      /* fd table entries + callers holding it */
	bool rdonly;                   /* mapped PROT_READ: the file could only be opened for
	                                * reading (another user's 0644 pin through BPF_F_RDONLY);
	                                * never locked, never written: readers use the sequences */
	const struct emu_map_ops *ops; /* maps only; per process: pointers differ per process */
	void *vm;                      /* programs: the decoded program of this process (emu/vm), or NULL */
	struct emu_obj *next;          /* process-wide list, by inode */
	bool spare;                    /* this process named the file to reuse it (emu/fdtable.c) */
	struct emu_obj *btf_hold;      /* the BTF it holds in this process (a reference) while that
	                                * hold is no reference link: emu_obj_hold_btf */
	__u64 reserve_end;             /* bytes from the file's start backed at create */
	int held_fd1;                  /* 1 + the fd whose hold spare_take took already; 0: none */
	__u32 *local_maps;             /* a program this process loaded: the maps its process's
	                                * hold directory holds for it (emu_refs_proc_hold) */
	__u32 nlocal_maps;
};

static inline void *emu_obj_data(const struct emu_obj *obj)
{
	return obj->data;
}

/* Where the header of an object file of st_size bytes lies (its last page). */
static inline off_t emu_obj_hdr_off(off_t st_size)
{
	return st_size >= (off_t)EMU_PAGE_SIZE ? st_size - (off_t)EMU_PAGE_SIZE : 0;
}

/* ---- emu/fdtable.c ---- */
/* Resolve fd, the caller's fd number (emu/caller.c), to its object: 0 and a reference in *objp (drop with emu_obj_put),
 * -EBADF for a closed fd, -EINVAL for an fd that is not a bpf object of kind
 * (EMU_KIND_NONE: any kind). *accmode gets O_RDONLY/O_WRONLY/O_RDWR of the fd. */
int emu_fd_get(int fd, enum emu_kind kind, struct emu_obj **objp, int *accmode);
/* The same for an fd of this process (one the engine opened itself, or a
 * door's local copy), whoever the caller is. */
int emu_fd_get_local(int fd, enum emu_kind kind, struct emu_obj **objp, int *accmode);
void emu_obj_put(struct emu_obj *obj);
/* emu_fd_get for an fd the cache already holds (under the shim), without a
 * system call: -ENOENT for any fd it does not know yet (poll's fast path). */
int emu_fd_peek(int fd, struct emu_obj **objp);
/* Create an object file with a header page plus data_size bytes, mapped;
 * returns an O_RDWR fd (owned by the caller) and the handle (one ref), with
 * the header's magic/version/kind/sizes/lock set and id 0. */
int emu_obj_create(enum emu_kind kind, __u64 data_size, struct emu_obj **objp);
/* The same, with only the first `reserve` bytes of data backed by memory at
 * once; the rest is populated by emu_obj_populate() as the family fills it. */
int emu_obj_create_lazy(enum emu_kind kind, __u64 data_size, __u64 reserve, struct emu_obj **objp);
int emu_obj_populate(struct emu_obj *obj, __u64 off, __u64 len);
/* The same, the fd in accmode (O_RDONLY, O_WRONLY or O_RDWR), as the
 * kernel's anon_inode_getfd flags for the object. */
int emu_obj_create_mode(enum emu_kind kind, __u64 data_size, __u64 reserve, int accmode, struct emu_obj **objp);
/* Mark fd (an fd handed to the program, of obj) as holding its file: an OFD
 * lock that the kernel drops with the last descriptor of that open file, in
 * whatever process. A file no fd holds and no name links is dead and may be
 * reused (emu_obj_create) or skipped by id scans. 0 or -errno. */
int emu_fd_hold(int fd, int accmode, struct emu_obj *obj);
/* or'ed into accmode: hold another byte than 0 at once (a get of an object
 * that a pin or another fd holds: byte 0 is taken, the flag is set anyway) */
#define EMU_HOLD_SECOND 0x40000000
/* emu_fd_get_local() for an fd the engine just opened in accmode (may carry
 * EMU_HOLD_SECOND), whose stat is sb. */
int emu_fd_adopt(int fd, const struct stat *sb, int accmode, struct emu_obj **objp);
/* obj is about to get a name besides its spare name (a pin, a reference
 * link): its file's reuse must then count its links. */
void emu_obj_mark_linked(const struct emu_obj *obj);
/* Does anything hold the file of fd, whose stat and header are given: a link
 * other than its spare name, or an fd that emu_fd_hold marked? */
bool emu_file_held(int fd, const struct stat *sb, const struct emu_obj_hdr *h);
/* Some fd of the state root could not be marked held (emu_fd_hold failed):
 * id scans read /proc from now on (emu/objfs.c). */
void emu_ids_unheld(void);
/* The object file ino of the state root has no name in it (no spare name:
 * too big, no shim, or the spare directory failed): a marker tells id scans
 * that a locked file no name led to may be one of theirs (then they read
 * /proc), where they would take it for another root's on the same file
 * system (emu/objfs.c). */
void emu_ids_unnamed(ino_t ino);
/* This process's live objects under names of its own (spare names this
 * process gave; no spares, no copies a fork inherited): kind, id, file and
 * the name's last component, for an id scan that then need not read the
 * spare directory (emu/objfs.c). A malloc'ed array in *out (NULL for none)
 * and its length; 0 with *out NULL when memory is short. */
struct emu_own_obj {
	__u32 kind, id;
	dev_t dev;
	ino_t ino;
	char name[48];
};
size_t emu_objs_own_named(struct emu_own_obj **out);
/* The spare name of an object's file (emu/fdtable.c), if it has one: 0 or -errno. */
int emu_obj_spare_path(const struct emu_obj_hdr *h, char *buf, size_t len);
/* The last component of that name ("<pid>.<stamp>.<seq>", in <root>/spare):
 * 0, or -ENOENT without one. buf: at least 48 bytes. */
int emu_obj_spare_name(const struct emu_obj_hdr *h, char *buf, size_t len);
/* Is object (kind, id) still held? Asked of its file (no scan), opened by
 * path in dfd (a symlink to its spare name: path NULL for none), else by its
 * limbo link limbo_name in limbo_dfd. 1 held (or being made), 0 dead
 * (nothing holds it, or the file went to another object, which only a dead
 * object's file does), -1 cannot tell (no name of ours left, or an fd of it
 * could not be marked held): the caller scans. */
int emu_spare_obj_held(int dfd, const char *path, int limbo_dfd, const char *limbo_name, enum emu_kind kind, __u32 id);
/* linkat() of an object's file by its spare name to newpath: 0 or -errno
 * (-ENOENT: no spare name). */
int emu_obj_link_spare(const struct emu_obj *obj, int newdirfd, const char *newpath);
/* An O_PATH fd of the bpffs root that the engine keeps (only under the shim,
 * which tells it when the program closes fds), or -1. */
int emu_bpffs_dirfd(void);
/* holder (a map or program being made, with an id) holds the BTF object btf,
 * whose fd is btf_fd, as the kernel's map->btf / prog->aux->btf: 0 or -errno.
 * A reference link (emu/map_in_map.c) when the hold must outlive this
 * process's view of both; as long as both are small objects this process
 * made and nothing else can reach the holder, the link is made only when it
 * becomes needed (shared, pinned, outliving the BTF's fds here, a fork, the
 * process's exit). */
int emu_obj_hold_btf(struct emu_obj *holder, int btf_fd, struct emu_obj *btf);
/* holder may now be reached from elsewhere: make its BTF hold a link. */
void emu_obj_share(struct emu_obj *holder);
/* Install fd -> obj in the fd table (takes over the caller's reference). */
void emu_fd_install(int fd, struct emu_obj *obj);
/* The same for an fd whose access mode the caller knows (no fcntl). */
void emu_fd_install_acc(int fd, struct emu_obj *obj, int accmode);
/* Reopen fd with another access mode (O_RDONLY/O_WRONLY/O_RDWR), O_CLOEXEC. */
int emu_fd_reopen(int fd, int accmode);
/* The same in fd itself (the number stays, as the kernel's one fd): 0 or -errno. */
int emu_fd_reopen_in_place(int fd, int accmode);

/* Robust process-shared mutexes (the header lock, hash stripes): lock returns
 * true if the previous holder died (the mutex is made consistent; the caller
 * repairs); holder_alive is false when the mutex is free or its owner died. */
void emu_mutex_init_robust(pthread_mutex_t *m);
bool emu_mutex_lock_robust(pthread_mutex_t *m);
bool emu_mutex_holder_alive(const pthread_mutex_t *m);

/* Object lock: robust across processes. Returns true if the previous holder
 * died (the caller must repair what that holder may have left half-done). */
bool emu_obj_lock(struct emu_obj *obj);
void emu_obj_unlock(struct emu_obj *obj);
/* Lock-free reading under hdr->lock_seq (for read-only mappings, which cannot
 * take the lock): begin waits out a live holder (yielding) and returns the
 * sequence; a holder that died leaves the object as it was, so begin does not
 * wait for it. retry is true if a holder came in meanwhile (read again). */
__u32 emu_obj_read_begin(const struct emu_obj *obj);
bool emu_obj_read_retry(const struct emu_obj *obj, __u32 seq);
/* Is the holder of a sequence-guarded section (odd seq) still alive? false
 * when the lock is free or its owner died (robust futex: FUTEX_OWNER_DIED). */
bool emu_obj_holder_alive(const struct emu_obj *obj);

/* ---- emu/objfs.c ---- */
__u32 emu_id_alloc(enum emu_kind kind);             /* 0 when exhausted (-ENOSPC) */
/* pathname relative to dirfd (AT_FDCWD: the cwd), as BPF_F_PATH_FD gives it */
int emu_obj_pin_at(int fd, int dirfd, const char *pathname);
int emu_obj_get_at(int dirfd, const char *pathname, int accmode);
int emu_obj_next_id(enum emu_kind kind, __u32 start, __u32 *next);
int emu_obj_fd_by_id(enum emu_kind kind, __u32 id, int accmode);
/* Every live object of kind, in one scan (what next_id and fd_by_id would
 * find, each id once, in no particular order): fn(id, a path that opens it)
 * until it returns non-zero; returns that, or 0, or -errno. */
int emu_obj_foreach(enum emu_kind kind, int (*fn)(__u32 id, const char *path, void *ctx), void *ctx);
bool emu_obj_writably_mapped(const struct emu_obj *obj);

/* ---- emu/uaccess.c ---- */
/* The shim calls enable once: from then on copies use a fault handler
 * instead of a system call, and the shim routes the program's sigaction()
 * for SIGSEGV/SIGBUS through emu_uaccess_sigaction() (1 = not handled). */
struct sigaction;
void emu_uaccess_enable(void);
bool emu_uaccess_fast(void);
int emu_uaccess_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
bool emu_obj_alive(enum emu_kind kind, __u32 id);   /* reached by a pin or a visible fd */
/* The ids emu_obj_alive() would call alive, all of them in one scan: a sorted
 * malloc'ed array (duplicates possible) the caller frees; 0 or -errno. */
int emu_obj_alive_ids(enum emu_kind kind, __u32 **ids, size_t *n);
void emu_refs_gc(void);                             /* emu/map_in_map.c: drop dead holders' references */
/* emu/map_in_map.c: a program's holds on its maps inside its process (emu_refs_proc_hold) */
int emu_refs_proc_hold(struct emu_obj *prog, int map_fd, const struct emu_obj *map);
void emu_refs_proc_release(struct emu_obj *prog);       /* its handle here is gone */
void emu_refs_proc_share(const struct emu_obj *prog);   /* it can be reached from elsewhere: links */
void emu_refs_proc_forget(void);                        /* a forked child: the parent's counts */

/* ---- emu/caller.c: the caller another process is served for (NULL: ourselves) ---- */
extern EMU_TLS struct emu_caller *emu_caller_cur;

/* ---- helpers shared by the command handlers ---- */
/* Copy from/to caller memory; -EFAULT instead of a crash for bad pointers. */
int emu_copy_from_user(void *dst, const void *src, size_t len);
int emu_copy_to_user(void *dst, const void *src, size_t len);
/* The attr's copy: `copy` bytes into dst, then 1 if any of the `check` bytes
 * after them in src is not zero; 0, 1 or -EFAULT (any of the copy + check
 * bytes unreadable). dst has room for copy + check bytes; a caller that
 * zeroed those after `copy` finds them zero after an answer of 0. */
int emu_copy_attr_from_user(void *dst, const void *src, size_t copy, size_t check);
/* strncpy_from_user: length without NUL, -EFAULT, -ENAMETOOLONG if no NUL within len. */
long emu_strncpy_from_user(char *dst, const void *src, size_t len);
int emu_obj_name_cpy(char *dst, const char *src, size_t size);  /* bpf_obj_name_cpy */
__u64 emu_ktime_boot_ns(void);

#endif
