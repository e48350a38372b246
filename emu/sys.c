/* SPDX-License-Identifier: MIT */
/*
 * emu/sys.c: the bpf() entry point, the ONLY reader of union bpf_attr.
 *
 * One table maps each command to its handler and the last attr field the
 * handler understands. Checks run in the kernel's order (__sys_bpf and the
 * command handlers of kernel/bpf/syscall.c), so the first error is the
 * kernel's first error.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpfemu/bpfemu.h"
#include "btf.h"
#include "link.h"
#include "map.h"
#include "prog.h"
#include "trace.h"
#include "os.h"
#include "vm/vm.h"

#define PTR(u64) ((void *)(unsigned long)(u64))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* The largest attr the kernel we mirror copies in (its sizeof(union bpf_attr));
 * bytes past our own union up to this are "fields we do not know" (EINVAL via
 * the last-field check), bytes past it the kernel's E2BIG tail. */
#define EMU_ATTR_MAX 168u      /* Linux 6.18 */

union emu_attr {
	union bpf_attr a;
	unsigned char raw[EMU_ATTR_MAX];
};

struct emu_cmd {
	int (*fn)(union bpf_attr *attr, void *uattr);
	size_t attr_end;
	const char *name;
};

static const char *cmd_name(int cmd);

/* ---- helpers shared by the handlers ---- */

/* map_get_sys_perms(): the fd's mode, less write once the map is frozen */
static bool can_read(int acc) { return acc != O_WRONLY; }
static bool can_write(const struct emu_obj *map, int acc)
{
	return acc != O_RDONLY && !__atomic_load_n(&map->hdr->map.frozen, __ATOMIC_ACQUIRE);
}

/*
 * Per-thread scratch buffers for the key, value and next key of one call:
 * grown as needed, kept for the thread's next call (no malloc/free per
 * element operation), freed when the thread exits. Slots: 0 key, 1 value,
 * 2 next key. A handler uses each slot once; handlers do not nest.
 */
enum { SCRATCH_KEY, SCRATCH_VALUE, SCRATCH_NEXT, SCRATCH_SLOTS };
struct scratch {
	void *p[SCRATCH_SLOTS];
	size_t n[SCRATCH_SLOTS];
};
static EMU_TLS struct scratch *scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
	struct scratch *sc = p;
	for (int i = 0; i < SCRATCH_SLOTS; i++)
		free(sc->p[i]);
	free(sc);
	scratch = NULL;
}

static void scratch_init(void)
{
	pthread_key_create(&scratch_key, scratch_free);
}

static void *scratch_get(int slot, size_t n)
{
	struct scratch *sc = scratch;
	if (__builtin_expect(!sc, 0)) {
		pthread_once(&scratch_once, scratch_init);
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return NULL;
		pthread_setspecific(scratch_key, sc);
		scratch = sc;
	}
	if (n < 8)
		n = 8;
	if (n > sc->n[slot]) {
		void *q = realloc(sc->p[slot], n);
		if (!q)
			return NULL;
		sc->p[slot] = q;
		sc->n[slot] = n;
	}
	return sc->p[slot];
}

/* ___bpf_copy_key(), into the key scratch buffer */
static void *copy_key(const void *ukey, __u32 key_size, int *err)
{
	*err = 0;
	if (!key_size) {
		if (ukey)
			*err = -EINVAL;
		return NULL;
	}
	void *k = scratch_get(SCRATCH_KEY, key_size);
	if (!k) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = emu_copy_from_user(k, ukey, key_size);
	return *err ? NULL : k;
}

static int map_get(__u32 ufd, struct emu_obj **map, int *acc)
{
	int err = emu_fd_get((int)ufd, EMU_KIND_MAP, map, acc);
	if (!err && !(*map)->ops) {      /* a map type this build does not know */
		emu_obj_put(*map);
		return -EINVAL;
	}
	return err;
}

/* ---- commands ---- */

static int map_create(union bpf_attr *attr, void *uattr)
{
	struct emu_map_spec spec = {
		.map_type = attr->map_type,
		.key_size = attr->key_size,
		.value_size = attr->value_size,
		.max_entries = attr->max_entries,
		.map_flags = attr->map_flags,
		.inner_map_fd = attr->inner_map_fd,
		.numa_node = attr->numa_node,
		.ifindex = attr->map_ifindex,
		.btf_fd = attr->btf_fd,
		.btf_key_type_id = attr->btf_key_type_id,
		.btf_value_type_id = attr->btf_value_type_id,
		.btf_vmlinux_value_type_id = attr->btf_vmlinux_value_type_id,
		.map_extra = attr->map_extra,
	};
	(void)uattr;
	memcpy(spec.name, attr->map_name, sizeof(spec.name));
	if (attr->btf_vmlinux_value_type_id) {
		if (attr->map_type != BPF_MAP_TYPE_STRUCT_OPS || attr->btf_key_type_id || attr->btf_value_type_id)
			return -EINVAL;
	} else if (attr->btf_key_type_id && !attr->btf_value_type_id) {
		return -EINVAL;
	}
	if (attr->map_type != BPF_MAP_TYPE_BLOOM_FILTER && attr->map_type != 33 /* BPF_MAP_TYPE_ARENA */ &&
	    attr->map_extra)
		return -EINVAL;
	return emu_map_create(&spec);
}

static int map_lookup_elem(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *map;
	int acc, err;
	(void)uattr;

	if (attr->flags & ~(__u64)BPF_F_LOCK)
		return -EINVAL;
	err = map_get(attr->map_fd, &map, &acc);
	if (err)
		return err;
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!can_read(acc)) {
		err = -EPERM;
		goto out;
	}
	if ((attr->flags & BPF_F_LOCK) && d->spin_lock_off < 0) {   /* no bpf_spin_lock in the value */
		err = -EINVAL;
		goto out;
	}
	void *key = copy_key(PTR(attr->key), d->key_size, &err);
	if (err)
		goto out;
	__u32 vsize = emu_map_value_size(map);
	void *value = scratch_get(SCRATCH_VALUE, vsize);
	if (!value) {
		err = -ENOMEM;
		goto free_key;
	}
	if (d->map_type == BPF_MAP_TYPE_BLOOM_FILTER) {
		/* the value is what to look for; nothing is copied out */
		err = emu_copy_from_user(value, PTR(attr->value), vsize);
		if (!err)
			err = map->ops->lookup(map, key, value, attr->flags);
		goto free_value;
	}
	err = map->ops->lookup(map, key, value, attr->flags);
	if (!err)                               /* special fields read as zero */
		emu_map_zero_fields(map, value, false);
	if (!err)
		err = emu_copy_to_user(PTR(attr->value), value, vsize);
free_value:
free_key:
out:
	emu_obj_put(map);
	return err;
}

static int map_update_elem(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *map;
	int acc, err;
	(void)uattr;

	err = map_get(attr->map_fd, &map, &acc);
	if (err)
		return err;
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!can_write(map, acc)) {
		err = -EPERM;
		goto out;
	}
	if ((attr->flags & BPF_F_LOCK) && d->spin_lock_off < 0) {
		err = -EINVAL;
		goto out;
	}
	void *key = copy_key(PTR(attr->key), d->key_size, &err);
	if (err)
		goto out;
	__u32 vsize = emu_map_value_size(map);
	void *value = scratch_get(SCRATCH_VALUE, vsize);
	if (!value) {
		err = -ENOMEM;
		goto free_key;
	}
	err = emu_copy_from_user(value, PTR(attr->value), vsize);
	if (!err && !(attr->flags & BPF_F_LOCK))
		emu_map_zero_fields(map, value, true);
	if (!err)
		err = d->map_type == BPF_MAP_TYPE_STRUCT_OPS
			      ? emu_struct_ops_update(map, (int)attr->map_fd, key, value, attr->flags)
			      : map->ops->update(map, key, value, attr->flags);
free_key:
out:
	emu_obj_put(map);
	return err;
}

static int map_delete_elem(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *map;
	int acc, err;
	(void)uattr;

	err = map_get(attr->map_fd, &map, &acc);
	if (err)
		return err;
	if (!can_write(map, acc)) {
		err = -EPERM;
		goto out;
	}
	void *key = copy_key(PTR(attr->key), emu_map_desc(map)->key_size, &err);
	if (err)
		goto out;
	err = map->ops->delete(map, key);
out:
	emu_obj_put(map);
	return err;
}

static int map_get_next_key(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *map;
	void *key = NULL;
	int acc, err;
	(void)uattr;

	err = map_get(attr->map_fd, &map, &acc);
	if (err)
		return err;
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!can_read(acc)) {
		err = -EPERM;
		goto out;
	}
	if (attr->key) {
		key = copy_key(PTR(attr->key), d->key_size, &err);
		if (err)
			goto out;
	}
	void *next = scratch_get(SCRATCH_NEXT, d->key_size);
	if (!next) {
		err = -ENOMEM;
		goto free_key;
	}
	err = map->ops->get_next_key(map, key, next);
	if (!err)
		err = emu_copy_to_user(PTR(attr->next_key), next, d->key_size);
free_key:
out:
	emu_obj_put(map);
	return err;
}

static int map_lookup_and_delete_elem(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *map;
	int acc, err;
	(void)uattr;

	if (attr->flags & ~(__u64)BPF_F_LOCK)
		return -EINVAL;
	err = map_get(attr->map_fd, &map, &acc);
	if (err)
		return err;
	const struct emu_map_desc *d = emu_map_desc(map);
	if (!can_read(acc) || !can_write(map, acc)) {
		err = -EPERM;
		goto out;
	}
	if (attr->flags && (d->map_type == BPF_MAP_TYPE_QUEUE || d->map_type == BPF_MAP_TYPE_STACK)) {
		err = -EINVAL;
		goto out;
	}
	if ((attr->flags & BPF_F_LOCK) && d->spin_lock_off < 0) {
		err = -EINVAL;
		goto out;
	}
	void *key = copy_key(PTR(attr->key), d->key_size, &err);
	if (err)
		goto out;
	void *value = scratch_get(SCRATCH_VALUE, emu_map_value_size(map));
	if (!value) {
		err = -ENOMEM;
		goto free_key;
	}
	err = map->ops->lookup_and_delete ? map->ops->lookup_and_delete(map, key, value, attr->flags) : -ENOTSUPP;
	if (!err)
		emu_map_zero_fields(map, value, false);
	if (!err)
		err = emu_copy_to_user(PTR(attr->value), value, emu_map_value_size(map));
free_key:
out:
	emu_obj_put(map);
	return err;
}

static int map_freeze(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *map;
	int acc, err;
	(void)uattr;

	err = map_get(attr->map_fd, &map, &acc);
	if (err)
		return err;
	if (map->hdr->map.special) {          /* a value with special fields (btf_record) */
		err = -ENOTSUPP;
		goto out;
	}
	if (!can_write(map, acc)) {
		err = -EPERM;
		goto out;
	}
	emu_obj_lock(map);
	if (map->hdr->map.frozen || emu_obj_writably_mapped(map))
		err = -EBUSY;
	else
		__atomic_store_n(&map->hdr->map.frozen, 1, __ATOMIC_RELEASE);
	emu_obj_unlock(map);
out:
	emu_obj_put(map);
	return err;
}

/* bpf_map_do_batch(): the fd, its mode (less write once frozen), then the family's op */
static int map_batch(union bpf_attr *attr, void *uattr, int cmd)
{
	bool has_read = cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH;
	bool has_write = cmd != BPF_MAP_LOOKUP_BATCH;
	struct emu_obj *map;
	int acc, err;

	err = map_get(attr->batch.map_fd, &map, &acc);
	if (err)
		return err;
	if ((has_read && !can_read(acc)) || (has_write && !can_write(map, acc))) {
		err = -EPERM;
		goto out;
	}
	const struct emu_map_ops *ops = map->ops;
	int (*op)(struct emu_obj *, const struct emu_map_batch *) =
		cmd == BPF_MAP_LOOKUP_BATCH ? ops->lookup_batch :
		cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH ? ops->lookup_and_delete_batch :
		cmd == BPF_MAP_UPDATE_BATCH ? ops->update_batch : ops->delete_batch;
	if (!op) {
		EMU_LOG(EMU_LOG_SYS, "bpf(%s): map type %u has no batch operation (the kernel's ENOTSUPP)",
			cmd_name(cmd), emu_map_desc(map)->map_type);
		err = -ENOTSUPP;
		goto out;
	}
	struct emu_map_batch b = {
		.in_batch = PTR(attr->batch.in_batch),
		.out_batch = PTR(attr->batch.out_batch),
		.keys = PTR(attr->batch.keys),
		.values = PTR(attr->batch.values),
		.ucount = UPTR_ADD(uattr, offsetof(union bpf_attr, batch.count)),
		.count = attr->batch.count,
		.elem_flags = attr->batch.elem_flags,
		.flags = attr->batch.flags,
	};
	err = op(map, &b);
out:
	emu_obj_put(map);
	return err;
}
static int map_lookup_batch(union bpf_attr *a, void *u) { return map_batch(a, u, BPF_MAP_LOOKUP_BATCH); }
static int map_lookup_and_delete_batch(union bpf_attr *a, void *u)
{
	return map_batch(a, u, BPF_MAP_LOOKUP_AND_DELETE_BATCH);
}
static int map_update_batch(union bpf_attr *a, void *u) { return map_batch(a, u, BPF_MAP_UPDATE_BATCH); }
static int map_delete_batch(union bpf_attr *a, void *u) { return map_batch(a, u, BPF_MAP_DELETE_BATCH); }

static int prog_load(union bpf_attr *attr, void *uattr)
{
	struct emu_prog_spec spec = {
		.prog_type = attr->prog_type,
		.insn_cnt = attr->insn_cnt,
		.insns = PTR(attr->insns),
		.license = PTR(attr->license),
		.log_level = attr->log_level,
		.log_size = attr->log_size,
		.log_buf = PTR(attr->log_buf),
		.prog_flags = attr->prog_flags,
		.ifindex = attr->prog_ifindex,
		.expected_attach_type = attr->expected_attach_type,
		.prog_btf_fd = attr->prog_btf_fd,
		.attach_btf_id = attr->attach_btf_id,
		.attach_prog_fd = attr->attach_prog_fd,
		.func_info_rec_size = attr->func_info_rec_size,
		.func_info = PTR(attr->func_info),
		.func_info_cnt = attr->func_info_cnt,
		.line_info_rec_size = attr->line_info_rec_size,
		.line_info = PTR(attr->line_info),
		.line_info_cnt = attr->line_info_cnt,
	};
	(void)uattr;
	memcpy(spec.name, attr->prog_name, sizeof(spec.name));
	return emu_prog_load(&spec);
}

static int tail_zero(const void *uaddr, size_t expected, size_t actual);

/* ---- attach calls (emu/link.c): EOPNOTSUPP, or inert links with BPFEMU_ATTACH=inert ---- */
static int link_create(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_link_create((const struct emu_link_create_attr *)(void *)&attr->link_create);
}

/* Linux 6.18's raw_tracepoint: name, prog_fd, then a cookie */
struct emu_raw_tp_attr {
	__u64 name;
	__u32 prog_fd, pad;
	__u64 cookie;
};

static int raw_tracepoint_open(union bpf_attr *attr, void *uattr)
{
	const struct emu_raw_tp_attr *r = (const void *)&attr->raw_tracepoint;
	(void)uattr;
	return emu_raw_tracepoint_open((int)r->prog_fd, PTR(r->name), r->cookie);
}

static int prog_attach(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_prog_attach((const struct emu_attach_attr *)(void *)&attr->target_fd, false);
}

static int prog_detach(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_prog_attach((const struct emu_attach_attr *)(void *)&attr->target_fd, true);
}

static int prog_query(union bpf_attr *attr, void *uattr)
{
	return emu_prog_query((const struct emu_query_attr *)(void *)&attr->query,
			      UPTR_ADD(uattr, offsetof(union bpf_attr, query)));
}

static int task_fd_query(union bpf_attr *attr, void *uattr)
{
	return emu_task_fd_query((int)attr->task_fd_query.pid, (int)attr->task_fd_query.fd, attr->task_fd_query.flags,
				 UPTR_ADD(uattr, offsetof(union bpf_attr, task_fd_query)));
}

static int link_update(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_link_update((int)attr->link_update.link_fd, (int)attr->link_update.new_prog_fd,
			       attr->link_update.flags, (int)attr->link_update.old_prog_fd);
}

static int iter_create(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_iter_create((int)attr->iter_create.link_fd, attr->iter_create.flags);
}

static int link_get_fd_by_id(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_obj_fd_by_id(EMU_KIND_LINK, attr->link_id, O_RDONLY);   /* bpf_link_new_fd: O_CLOEXEC only */
}

static int link_detach(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_link_detach((int)attr->link_detach.link_fd);
}

static int link_info(struct emu_obj *link, union bpf_attr *attr, void *uattr)
{
	__u64 info[EMU_LINK_INFO_SIZE / 8];       /* struct bpf_link_info of Linux 6.18 */
	void *uinfo = PTR(attr->info.info);
	__u32 info_len = attr->info.info_len;
	int err = tail_zero(uinfo, sizeof(info), info_len);
	if (err)
		return err;
	info_len = MIN(info_len, (__u32)sizeof(info));
	memset(info, 0, sizeof(info));
	if (emu_copy_from_user(info, uinfo, info_len))
		return -EFAULT;
	err = emu_link_fill_info(link, info);
	if (err)
		return err;
	if (emu_copy_to_user(uinfo, info, info_len) ||
	    emu_copy_to_user(UPTR_ADD(uattr, offsetof(union bpf_attr, info.info_len)), &info_len, sizeof(info_len)))
		return -EFAULT;
	return 0;
}

/* bpf_prog_bind_map() */
static int prog_bind_map(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	if (attr->prog_bind_map.flags)
		return -EINVAL;
	return emu_prog_bind_map((int)attr->prog_bind_map.prog_fd, (int)attr->prog_bind_map.map_fd);
}

/* BPF_BTF_LOAD: Linux 6.18 has btf_log_true_size, btf_flags and btf_token_fd
 * after btf_log_level; the installed header may not. */
#define BTF_LOAD_TRUE_SIZE_OFF 28u
#define BTF_LOAD_FLAGS_OFF 32u
#define BTF_LOAD_TOKEN_FD_OFF 36u
#define BTF_LOAD_END 40u
#define EMU_F_TOKEN_FD (1u << 16)

static EMU_TLS unsigned int cur_attr_size;   /* the size argument of the bpf() call being served */

static int btf_load(union bpf_attr *attr, void *uattr)
{
	unsigned int size = cur_attr_size;
	__u32 flags, token_fd;
	memcpy(&flags, (char *)attr + BTF_LOAD_FLAGS_OFF, 4);
	memcpy(&token_fd, (char *)attr + BTF_LOAD_TOKEN_FD_OFF, 4);
	if (flags & ~EMU_F_TOKEN_FD)
		return -EINVAL;
	if (flags & EMU_F_TOKEN_FD)           /* no bpf tokens here: whatever the fd is, it is not one */
		return emu_caller_fd((int)token_fd) < 0 || emu_os_fcntl(emu_caller_fd((int)token_fd), F_GETFD, 0) < 0
			       ? -EBADF : -EINVAL;
	struct emu_btf_load_spec spec = {
		.btf = PTR(attr->btf),
		.btf_size = attr->btf_size,
		.log_buf = PTR(attr->btf_log_buf),
		.log_size = attr->btf_log_size,
		.log_level = attr->btf_log_level,
		.log_true_size = size >= BTF_LOAD_TRUE_SIZE_OFF + 4 ? UPTR_ADD(uattr, BTF_LOAD_TRUE_SIZE_OFF)
								   : NULL,
	};
	return emu_btf_load(&spec);
}

/* BPF_OBJ_PIN / BPF_OBJ_GET since Linux 6.5: path_fd after file_flags, used
 * with BPF_F_PATH_FD (pathname relative to it); not in the installed header. */
#define OBJ_PATH_FD_OFF 16u
#define OBJ_END 20u
#define EMU_F_PATH_FD (1u << 14)

static int obj_path_fd(const union bpf_attr *attr, int *dirfd)
{
	__s32 path_fd;
	memcpy(&path_fd, (const char *)attr + OBJ_PATH_FD_OFF, 4);
	/* path_fd has to be accompanied by BPF_F_PATH_FD */
	if (!(attr->file_flags & EMU_F_PATH_FD) && path_fd)
		return -EINVAL;
	*dirfd = attr->file_flags & EMU_F_PATH_FD ? path_fd : AT_FDCWD;
	return 0;
}

static int obj_pin(union bpf_attr *attr, void *uattr)
{
	char path[4096];
	int dirfd;
	(void)uattr;
	if (attr->file_flags & ~EMU_F_PATH_FD)
		return -EINVAL;
	int err = obj_path_fd(attr, &dirfd);
	if (err)
		return err;
	/* the object first (bpf_fd_probe_obj), then the path */
	struct emu_obj *obj;
	int acc;
	if (emu_fd_get((int)attr->bpf_fd, EMU_KIND_NONE, &obj, &acc))
		return -EINVAL;           /* bpf_fd_probe_obj(): any failure */
	emu_obj_put(obj);
	long n = emu_strncpy_from_user(path, PTR(attr->pathname), sizeof(path));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENOENT;
	return emu_obj_pin_at((int)attr->bpf_fd, dirfd, path);
}

static int obj_get(union bpf_attr *attr, void *uattr)
{
	char path[4096];
	int dirfd;
	(void)uattr;
	if (attr->bpf_fd || (attr->file_flags & ~(__u32)(BPF_F_RDONLY | BPF_F_WRONLY | EMU_F_PATH_FD)))
		return -EINVAL;
	int err = obj_path_fd(attr, &dirfd);
	if (err)
		return err;
	if ((attr->file_flags & BPF_F_RDONLY) && (attr->file_flags & BPF_F_WRONLY))
		return -EINVAL;
	int acc = attr->file_flags & BPF_F_RDONLY ? O_RDONLY : attr->file_flags & BPF_F_WRONLY ? O_WRONLY : O_RDWR;
	long n = emu_strncpy_from_user(path, PTR(attr->pathname), sizeof(path));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENOENT;
	return emu_obj_get_at(dirfd, path, acc);
}

static int get_next_id(union bpf_attr *attr, void *uattr, enum emu_kind kind)
{
	__u32 next;
	if (attr->start_id >= INT32_MAX)
		return -EINVAL;
	int err = emu_obj_next_id(kind, attr->start_id, &next);
	if (err)
		return err;
	return emu_copy_to_user(UPTR_ADD(uattr, offsetof(union bpf_attr, next_id)), &next, sizeof(next));
}
static int map_get_next_id(union bpf_attr *a, void *u) { return get_next_id(a, u, EMU_KIND_MAP); }
static int prog_get_next_id(union bpf_attr *a, void *u) { return get_next_id(a, u, EMU_KIND_PROG); }
static int btf_get_next_id(union bpf_attr *a, void *u)
{
	emu_kernel_btf_publish();        /* vmlinux and the modules are listed first (emu/btf_kernel.c) */
	return get_next_id(a, u, EMU_KIND_BTF);
}
static int link_get_next_id(union bpf_attr *a, void *u) { return get_next_id(a, u, EMU_KIND_LINK); }

static int map_get_fd_by_id(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	if (attr->open_flags & ~(__u32)(BPF_F_RDONLY | BPF_F_WRONLY))
		return -EINVAL;
	if ((attr->open_flags & BPF_F_RDONLY) && (attr->open_flags & BPF_F_WRONLY))
		return -EINVAL;
	int acc = attr->open_flags & BPF_F_RDONLY ? O_RDONLY : attr->open_flags & BPF_F_WRONLY ? O_WRONLY : O_RDWR;
	return emu_obj_fd_by_id(EMU_KIND_MAP, attr->map_id, acc);
}

static int prog_get_fd_by_id(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	return emu_obj_fd_by_id(EMU_KIND_PROG, attr->prog_id, O_RDWR);
}

static int btf_get_fd_by_id(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	emu_kernel_btf_publish();
	return emu_obj_fd_by_id(EMU_KIND_BTF, attr->btf_id, O_RDONLY);     /* btf_new_fd: O_RDONLY */
}

/* bpf_enable_stats(): an fd that keeps run-time statistics (run_time_ns,
 * run_cnt) on while it is open, in every process of the state root (emu/vm) */
static int enable_stats(union bpf_attr *attr, void *uattr)
{
	(void)uattr;
	if (attr->enable_stats.type != BPF_STATS_RUN_TIME)
		return -EINVAL;
	return emu_vm_enable_stats();
}

/* BPF_PROG_TEST_RUN: the attr decoded, the rest in emu/vm (the kernel's
 * CHECK_ATTR at test.batch_size is the command table's) */
static int prog_test_run(union bpf_attr *attr, void *uattr)
{
	struct emu_test_run_spec spec = {
		.prog_fd = attr->test.prog_fd,
		.retval_in = attr->test.retval,
		.data_size_in = attr->test.data_size_in,
		.data_size_out = attr->test.data_size_out,
		.data_in = PTR(attr->test.data_in),
		.data_out = PTR(attr->test.data_out),
		.repeat = attr->test.repeat,
		.duration_in = attr->test.duration,
		.ctx_size_in = attr->test.ctx_size_in,
		.ctx_size_out = attr->test.ctx_size_out,
		.ctx_in = PTR(attr->test.ctx_in),
		.ctx_out = PTR(attr->test.ctx_out),
		.flags = attr->test.flags,
		.cpu = attr->test.cpu,
		.batch_size = attr->test.batch_size,
		.u_retval = UPTR_ADD(uattr, offsetof(union bpf_attr, test.retval)),
		.u_data_size_out = UPTR_ADD(uattr, offsetof(union bpf_attr, test.data_size_out)),
		.u_duration = UPTR_ADD(uattr, offsetof(union bpf_attr, test.duration)),
		.u_ctx_size_out = UPTR_ADD(uattr, offsetof(union bpf_attr, test.ctx_size_out)),
	};
	return emu_vm_test_run(&spec);
}

/* bpf_check_uarg_tail_zero() */
static int tail_zero(const void *uaddr, size_t expected, size_t actual)
{
	unsigned char buf[256];
	if (actual > EMU_PAGE_SIZE)
		return -E2BIG;
	if (actual <= expected)
		return 0;
	for (size_t off = expected; off < actual; off += sizeof(buf)) {
		size_t n = MIN(sizeof(buf), actual - off);
		if (emu_copy_from_user(buf, UPTR_ADD(uaddr, off), n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (buf[i])
				return -E2BIG;
	}
	return 0;
}

/* struct bpf_map_info as Linux 6.18 has it: the installed headers stop at map_extra */
struct emu_map_info {
	struct bpf_map_info base;
	__u64 hash;           /* user pointer for the map's SHA-256 (exclusive maps) */
	__u32 hash_size;
	__u32 pad;
};
_Static_assert(sizeof(struct emu_map_info) == 104, "bpf_map_info of Linux 6.18");

static int map_info(struct emu_obj *map, union bpf_attr *attr, void *uattr)
{
	struct emu_map_info info, in;
	void *uinfo = PTR(attr->info.info);
	__u32 info_len = attr->info.info_len;
	int err = tail_zero(uinfo, sizeof(info), info_len);
	if (err)
		return err;
	info_len = MIN(info_len, (__u32)sizeof(info));
	memset(&in, 0, sizeof(in));
	if (emu_copy_from_user(&in, uinfo, info_len))
		return -EFAULT;
	if (in.pad)          /* the kernel's tail check covers the padding too */
		return -E2BIG;
	/* no map type we have computes a hash: asking for one is EINVAL */
	if (in.hash || in.hash_size) {
		EMU_LOG(EMU_LOG_SYS, "BPF_OBJ_GET_INFO_BY_FD: map hash is not available for this map: EINVAL");
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	emu_map_fill_info(map, &info.base);
	if (emu_copy_to_user(uinfo, &info, info_len) ||
	    emu_copy_to_user(UPTR_ADD(uattr, offsetof(union bpf_attr, info.info_len)), &info_len, sizeof(info_len)))
		return -EFAULT;
	return 0;
}

static int prog_info(struct emu_obj *prog, union bpf_attr *attr, void *uattr)
{
	struct bpf_prog_info info, uinfo_in;
	void *uinfo = PTR(attr->info.info);
	__u32 info_len = attr->info.info_len;
	int err = tail_zero(uinfo, sizeof(info), info_len);
	if (err)
		return err;
	info_len = MIN(info_len, (__u32)sizeof(info));
	memset(&uinfo_in, 0, sizeof(uinfo_in));
	if (emu_copy_from_user(&uinfo_in, uinfo, info_len))
		return -EFAULT;
	emu_prog_fill_info(prog, &info, NULL, 0);
	/* the run-time statistics (emu/vm: BPF_ENABLE_STATS) */
	info.run_time_ns = __atomic_load_n(&prog->hdr->prog.run_time_ns, __ATOMIC_RELAXED);
	info.run_cnt = __atomic_load_n(&prog->hdr->prog.run_cnt, __ATOMIC_RELAXED);
	info.recursion_misses = __atomic_load_n(&prog->hdr->prog.recursion_misses, __ATOMIC_RELAXED);
	/* bpf_prog_get_info_by_fd(): the caller's pointers stay as given; each
	 * array gets min(asked, ours) entries copied (EFAULT for a bad pointer,
	 * NULL included) and its length set to ours. No JIT: jited arrays are empty. */
	info.jited_prog_insns = uinfo_in.jited_prog_insns;
	info.xlated_prog_insns = uinfo_in.xlated_prog_insns;
	info.map_ids = uinfo_in.map_ids;
	info.jited_ksyms = uinfo_in.jited_ksyms;
	info.jited_func_lens = uinfo_in.jited_func_lens;
	info.func_info = uinfo_in.func_info;
	info.line_info = uinfo_in.line_info;
	info.jited_line_info = uinfo_in.jited_line_info;
	info.prog_tags = uinfo_in.prog_tags;
	__u32 n = MIN(uinfo_in.nr_map_ids, info.nr_map_ids);
	if (n) {
		__u32 ids[64];
		__u64 rt = info.run_time_ns, rc = info.run_cnt, rm = info.recursion_misses;
		emu_prog_fill_info(prog, &info, ids, 64);
		info.run_time_ns = rt;
		info.run_cnt = rc;
		info.recursion_misses = rm;
		info.map_ids = uinfo_in.map_ids;
		info.jited_prog_insns = uinfo_in.jited_prog_insns;
		info.xlated_prog_insns = uinfo_in.xlated_prog_insns;
		info.jited_ksyms = uinfo_in.jited_ksyms;
		info.jited_func_lens = uinfo_in.jited_func_lens;
		info.func_info = uinfo_in.func_info;
		info.line_info = uinfo_in.line_info;
		info.jited_line_info = uinfo_in.jited_line_info;
		info.prog_tags = uinfo_in.prog_tags;
		if (emu_copy_to_user(PTR(uinfo_in.map_ids), ids, n * 4))
			return -EFAULT;
	}
	n = MIN(uinfo_in.xlated_prog_len, info.xlated_prog_len);
	if (n) {
		struct bpf_insn *x = emu_prog_xlated_dump(prog, n / 8);
		if (!x)
			return -ENOMEM;
		/* a length not a multiple of 8 copies the bytes asked for */
		err = emu_copy_to_user(PTR(uinfo_in.xlated_prog_insns), x, n - n % 8);
		if (!err && n % 8)
			err = emu_copy_to_user((char *)PTR(uinfo_in.xlated_prog_insns) + n - n % 8,
					       (const char *)emu_obj_data(prog) + n - n % 8, n % 8);
		free(x);
		if (err)
			return -EFAULT;
	}
	if (uinfo_in.nr_prog_tags && emu_copy_to_user(PTR(uinfo_in.prog_tags), info.tag, sizeof(info.tag)))
		return -EFAULT;
	/* func_info then line_info follow the instructions in the object */
	const char *recs = (const char *)emu_obj_data(prog) + info.xlated_prog_len;
	n = MIN(uinfo_in.nr_func_info, info.nr_func_info);
	if (n && emu_copy_to_user(PTR(uinfo_in.func_info), recs, n * sizeof(struct bpf_func_info)))
		return -EFAULT;
	recs += info.nr_func_info * sizeof(struct bpf_func_info);
	n = MIN(uinfo_in.nr_line_info, info.nr_line_info);
	if (n && emu_copy_to_user(PTR(uinfo_in.line_info), recs, n * sizeof(struct bpf_line_info)))
		return -EFAULT;
	if (emu_copy_to_user(uinfo, &info, info_len) ||
	    emu_copy_to_user(UPTR_ADD(uattr, offsetof(union bpf_attr, info.info_len)), &info_len, sizeof(info_len)))
		return -EFAULT;
	return 0;
}

static int obj_get_info_by_fd(union bpf_attr *attr, void *uattr)
{
	struct emu_obj *obj;
	int acc, err = emu_fd_get((int)attr->info.bpf_fd, EMU_KIND_NONE, &obj, &acc);
	if (err)
		return err == -EBADF ? -EBADFD : err;     /* 6.18: fd_empty() -> EBADFD */
	switch (obj->hdr->kind) {
	case EMU_KIND_MAP:
		err = obj->ops ? map_info(obj, attr, uattr) : -EINVAL;
		break;
	case EMU_KIND_PROG:
		err = prog_info(obj, attr, uattr);
		break;
	case EMU_KIND_LINK:
		err = link_info(obj, attr, uattr);
		break;
	case EMU_KIND_BTF: {
		__u32 out_len = 0;
		err = tail_zero(PTR(attr->info.info), 32, attr->info.info_len);
		if (!err)
			err = emu_btf_get_info(obj, PTR(attr->info.info), attr->info.info_len, &out_len);
		if ((!err || err == -ENOSPC) &&
		    emu_copy_to_user(UPTR_ADD(uattr, offsetof(union bpf_attr, info.info_len)), &out_len, 4))
			err = -EFAULT;
		break;
	}
	default:
		err = -EINVAL;
	}
	emu_obj_put(obj);
	return err;
}

#define EMU_CMD(c, f, last) [c] = { f, offsetofend(union bpf_attr, last), #c }
#define EMU_CMD_END(c, f, end) [c] = { f, end, #c }    /* last field past the installed header */
static const struct emu_cmd emu_cmds[] = {
	EMU_CMD(BPF_MAP_CREATE, map_create, map_extra),
	EMU_CMD(BPF_MAP_LOOKUP_ELEM, map_lookup_elem, flags),
	EMU_CMD(BPF_MAP_UPDATE_ELEM, map_update_elem, flags),
	EMU_CMD(BPF_MAP_DELETE_ELEM, map_delete_elem, key),
	EMU_CMD(BPF_MAP_GET_NEXT_KEY, map_get_next_key, next_key),
	EMU_CMD(BPF_PROG_LOAD, prog_load, attach_prog_fd),
	EMU_CMD(BPF_PROG_TEST_RUN, prog_test_run, test.batch_size),
	EMU_CMD_END(BPF_OBJ_PIN, obj_pin, OBJ_END),
	EMU_CMD_END(BPF_OBJ_GET, obj_get, OBJ_END),
	EMU_CMD(BPF_PROG_GET_NEXT_ID, prog_get_next_id, next_id),
	EMU_CMD(BPF_MAP_GET_NEXT_ID, map_get_next_id, next_id),
	EMU_CMD(BPF_PROG_GET_FD_BY_ID, prog_get_fd_by_id, prog_id),
	EMU_CMD(BPF_MAP_GET_FD_BY_ID, map_get_fd_by_id, open_flags),
	EMU_CMD(BPF_OBJ_GET_INFO_BY_FD, obj_get_info_by_fd, info.info),
	EMU_CMD_END(BPF_BTF_LOAD, btf_load, BTF_LOAD_END),
	EMU_CMD(BPF_BTF_GET_FD_BY_ID, btf_get_fd_by_id, btf_id),
	EMU_CMD(BPF_MAP_LOOKUP_AND_DELETE_ELEM, map_lookup_and_delete_elem, flags),
	EMU_CMD(BPF_MAP_FREEZE, map_freeze, map_fd),
	EMU_CMD(BPF_BTF_GET_NEXT_ID, btf_get_next_id, next_id),
	EMU_CMD(BPF_MAP_LOOKUP_BATCH, map_lookup_batch, batch.flags),
	EMU_CMD(BPF_MAP_LOOKUP_AND_DELETE_BATCH, map_lookup_and_delete_batch, batch.flags),
	EMU_CMD(BPF_MAP_UPDATE_BATCH, map_update_batch, batch.flags),
	EMU_CMD(BPF_MAP_DELETE_BATCH, map_delete_batch, batch.flags),
	EMU_CMD(BPF_LINK_GET_NEXT_ID, link_get_next_id, next_id),
	EMU_CMD(BPF_ENABLE_STATS, enable_stats, enable_stats.type),
	EMU_CMD(BPF_PROG_BIND_MAP, prog_bind_map, prog_bind_map.flags),
	/* Linux 6.18's attrs for these are longer than the installed headers' (emu/link.h) */
	EMU_CMD_END(BPF_PROG_ATTACH, prog_attach, offsetof(union bpf_attr, target_fd) + sizeof(struct emu_attach_attr)),
	EMU_CMD_END(BPF_PROG_DETACH, prog_detach, offsetof(union bpf_attr, target_fd) + sizeof(struct emu_attach_attr)),
	EMU_CMD_END(BPF_PROG_QUERY, prog_query, offsetof(union bpf_attr, query) + sizeof(struct emu_query_attr)),
	EMU_CMD_END(BPF_RAW_TRACEPOINT_OPEN, raw_tracepoint_open,
		    offsetof(union bpf_attr, raw_tracepoint) + sizeof(struct emu_raw_tp_attr)),
	EMU_CMD(BPF_TASK_FD_QUERY, task_fd_query, task_fd_query.probe_addr),
	EMU_CMD_END(BPF_LINK_CREATE, link_create,
		    offsetof(union bpf_attr, link_create) + sizeof(struct emu_link_create_attr)),
	EMU_CMD(BPF_LINK_UPDATE, link_update, link_update.old_prog_fd),
	EMU_CMD(BPF_LINK_GET_FD_BY_ID, link_get_fd_by_id, link_id),
	EMU_CMD(BPF_ITER_CREATE, iter_create, iter_create.flags),
	EMU_CMD(BPF_LINK_DETACH, link_detach, link_detach.link_fd),
};

static const char *const cmd_names[] = {
#define N(c) [c] = #c
	N(BPF_MAP_CREATE), N(BPF_MAP_LOOKUP_ELEM), N(BPF_MAP_UPDATE_ELEM), N(BPF_MAP_DELETE_ELEM),
	N(BPF_MAP_GET_NEXT_KEY), N(BPF_PROG_LOAD), N(BPF_OBJ_PIN), N(BPF_OBJ_GET), N(BPF_PROG_ATTACH),
	N(BPF_PROG_DETACH), N(BPF_PROG_TEST_RUN), N(BPF_PROG_GET_NEXT_ID), N(BPF_MAP_GET_NEXT_ID),
	N(BPF_PROG_GET_FD_BY_ID), N(BPF_MAP_GET_FD_BY_ID), N(BPF_OBJ_GET_INFO_BY_FD), N(BPF_PROG_QUERY),
	N(BPF_RAW_TRACEPOINT_OPEN), N(BPF_BTF_LOAD), N(BPF_BTF_GET_FD_BY_ID), N(BPF_TASK_FD_QUERY),
	N(BPF_MAP_LOOKUP_AND_DELETE_ELEM), N(BPF_MAP_FREEZE), N(BPF_BTF_GET_NEXT_ID), N(BPF_MAP_LOOKUP_BATCH),
	N(BPF_MAP_LOOKUP_AND_DELETE_BATCH), N(BPF_MAP_UPDATE_BATCH), N(BPF_MAP_DELETE_BATCH), N(BPF_LINK_CREATE),
	N(BPF_LINK_UPDATE), N(BPF_LINK_GET_FD_BY_ID), N(BPF_LINK_GET_NEXT_ID), N(BPF_ENABLE_STATS),
	N(BPF_ITER_CREATE), N(BPF_LINK_DETACH), N(BPF_PROG_BIND_MAP),
#undef N
};

static const char *cmd_name(int cmd)
{
	return cmd >= 0 && (size_t)cmd < ARRAY_SIZE(cmd_names) && cmd_names[cmd] ? cmd_names[cmd] : NULL;
}

/* The element commands: their handlers (map_lookup_elem ... map_batch) read
 * the attr up to the command's last field only. */
static bool elem_cmd(int cmd)
{
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_DELETE_ELEM: case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM: case BPF_MAP_LOOKUP_BATCH: case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH: case BPF_MAP_DELETE_BATCH:
		return true;
	}
	return false;
}

static long sys_bpf(int cmd, const void *uattr, unsigned int size)
{
	const struct emu_cmd *c = cmd >= 0 && (size_t)cmd < ARRAY_SIZE(emu_cmds) ? &emu_cmds[cmd] : NULL;
	union emu_attr attr;
	int err;

	err = tail_zero(uattr, sizeof(attr), size);
	if (err)
		return err;
	/* the fields up to the command's last one are copied, the attr's other
	 * bytes are zero: word stores from the word holding the first byte not
	 * copied (a memset here is a rep stos, whose start-up cost and stores
	 * the loads below wait for, on every call); up to the last field's
	 * word only for the element commands, whose handlers read no further
	 * (17 stores a call otherwise, for a 144-byte attr) */
	size_t end = MIN(size, sizeof(attr));
	size_t copy = c && c->fn ? MIN(end, c->attr_end) : end;
	size_t zero_end = c && c->fn && elem_cmd(cmd) ? round_up8(c->attr_end) : sizeof(attr);
	_Static_assert(sizeof(attr) % 8 == 0, "attr in words");
	__u64 *w = (__u64 *)(void *)&attr;
	for (size_t k = copy / 8; k < zero_end / 8; k++) {
		w[k] = 0;
		__asm__("" ::: "memory");     /* stays word stores, not a memset */
	}
	if (!c || !c->fn) {
		if (emu_copy_from_user(&attr, uattr, end))
			return -EFAULT;
		const char *name = cmd_name(cmd);
		if (name)
			EMU_LOG(EMU_LOG_SYS, "bpf(%s): not emulated yet: EINVAL", name);
		else
			EMU_LOG(EMU_LOG_SYS, "bpf(cmd %d): unknown command: EINVAL", cmd);
		return -EINVAL;
	}
	/* the kernel's copy_from_bpfptr() and CHECK_ATTR in one pass: the
	 * bytes after the command's last field (up to size) are checked for
	 * zero where they are, not copied and read back; their copy stays the
	 * zeros stored above (EFAULT first: the kernel copies every byte
	 * before it checks) */
	err = emu_copy_attr_from_user(&attr, uattr, copy, end - copy);
	if (err)
		return err < 0 ? -EFAULT : -EINVAL;
	cur_attr_size = size;
	long ret = c->fn(&attr.a, (void *)uattr);
	if (ret < 0 && ret != -ENOENT)
		EMU_LOG(EMU_LOG_SYS, "bpf(%s) = %s", c->name, strerror((int)-ret));
	return ret;
}

/* The commands whose result is a new fd: served for another process
 * (emu/caller.c), it is installed in that process's table. */
static bool cmd_returns_fd(int cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE: case BPF_PROG_LOAD: case BPF_OBJ_GET: case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID: case BPF_BTF_LOAD: case BPF_BTF_GET_FD_BY_ID: case BPF_RAW_TRACEPOINT_OPEN:
	case BPF_LINK_CREATE: case BPF_LINK_GET_FD_BY_ID: case BPF_ENABLE_STATS: case BPF_ITER_CREATE:
		return true;
	}
	return false;
}

/* BPFEMU_TRACE: the attr as it was before the call, the line after it (emu/trace.c) */
long emu_sys_bpf(int cmd, const void *uattr, unsigned int size)
{
	struct emu_trace_call tc;
	bool traced = emu_trace_enter(&tc, cmd, uattr, size);
	long ret = sys_bpf(cmd, uattr, size);
	if (__builtin_expect(emu_caller_cur != NULL, 0) && ret >= 0 && cmd_returns_fd(cmd))
		ret = emu_caller_give_fd((int)ret);
	if (traced)
		emu_trace_exit(&tc, ret);
	return ret;
}

/* The one embedding entry, in libbpfemu.so as in a program linking the
 * engine: the engine reaches the system itself (emu/os.c), so the same call
 * behaves the same with or without the shim around it. */
long bpfemu_bpf(int cmd, void *attr, unsigned int size) __attribute__((visibility("default")));
long bpfemu_bpf(int cmd, void *attr, unsigned int size)
{
	int err = 0;
	long ret = emu_ret_to_libc(emu_sys_bpf(cmd, attr, size), &err);
	if (ret < 0)
		errno = err;
	return ret;
}
