/* SPDX-License-Identifier: MIT */
/* emu/map.c: the generic map object: registry, create, info, fdinfo, mmap. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "btf.h"
#include "perf/perf.h"
#include "map.h"
#include "os.h"

static const struct emu_map_ops *const emu_map_types[] = {
#define EMU_MAP_TYPE(id, ops) [id] = &ops,
#include "map_types.h"
#undef EMU_MAP_TYPE
};

const struct emu_map_ops *emu_map_ops_of(__u32 map_type)
{
	return map_type < ARRAY_SIZE(emu_map_types) ? emu_map_types[map_type] : NULL;
}

static unsigned int numa_nodes(void)
{
	static unsigned int n;
	if (n)
		return n;
	unsigned int c = 0;
	struct emu_os_dir *d = emu_os_opendir("/sys/devices/system/node", NULL);
	if (d) {
		const struct emu_os_dirent *e;
		unsigned int x;
		char tail;
		while ((e = emu_os_readdir(d)))
			if (sscanf(e->name, "node%u%c", &x, &tail) == 1 && x + 1 > c)
				c = x + 1;
		emu_os_closedir(d);
	}
	n = c ? c : 1;
	return n;
}

int emu_map_create(const struct emu_map_spec *spec)
{
	const struct emu_map_ops *ops;
	struct emu_obj *map;
	int err, fd, f_flags;

	/* bpf_get_file_flag() */
	if ((spec->map_flags & BPF_F_RDONLY) && (spec->map_flags & BPF_F_WRONLY))
		return -EINVAL;
	f_flags = spec->map_flags & BPF_F_RDONLY ? O_RDONLY : spec->map_flags & BPF_F_WRONLY ? O_WRONLY : O_RDWR;
	if ((spec->map_flags & BPF_F_NUMA_NODE) && spec->numa_node != 0xffffffffu && spec->numa_node >= numa_nodes())
		return -EINVAL;

	ops = emu_map_ops_of(spec->map_type);
	if (!ops) {
		EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: map type %u is not emulated (yet): EINVAL", spec->map_type);
		return -EINVAL;
	}
	if (ops->check_spec) {
		err = ops->check_spec(spec);
		if (err)
			return err;
	}
	if (spec->ifindex) {
		char ifname[IF_NAMESIZE];
		EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: device offload (map_ifindex %u) is not possible", spec->ifindex);
		return if_indextoname(spec->ifindex, ifname) ? -EOPNOTSUPP : -EINVAL;
	}

	/* the name, then the BTF (map_create()), checked before the object file
	 * exists so that its fd cannot be mistaken for spec->btf_fd */
	char name[EMU_OBJ_NAME_LEN];
	err = emu_obj_name_cpy(name, spec->name, sizeof(name));
	if (err < 0)
		return err;
	struct emu_map_btf mb = { .spin_lock_off = -1 };
	bool with_btf = spec->btf_key_type_id || spec->btf_value_type_id || spec->btf_vmlinux_value_type_id;
	if (with_btf) {
		err = emu_btf_map_check(spec, &mb);
		if (err)
			return err;
	}

	__u64 data_size = ops->data_size(spec);
	fd = emu_obj_create_mode(EMU_KIND_MAP, data_size, ops->reserve_size ? ops->reserve_size(spec) : data_size,
				 f_flags, &map);
	if (fd < 0)
		return fd;
	struct emu_obj_hdr *h = map->hdr;
	memcpy(h->name, name, sizeof(h->name));
	struct emu_map_desc *d = &h->map;
	d->spin_lock_off = -1;
	if (with_btf) {
		d->btf_id = mb.btf_id;
		d->btf_key_type_id = spec->btf_key_type_id;
		d->btf_value_type_id = spec->btf_value_type_id;
		d->btf_vmlinux_value_type_id = spec->btf_vmlinux_value_type_id;
		d->spin_lock_off = mb.spin_lock_off;
		d->special = mb.special;
		d->nr_fields = mb.nr_fields;
		memcpy(d->fields, mb.fields, sizeof(d->fields));
	}
	d->map_type = spec->map_type;
	d->key_size = spec->key_size;
	d->value_size = spec->value_size;
	d->max_entries = spec->max_entries;
	d->map_flags = spec->map_flags & ~(__u32)(BPF_F_RDONLY | BPF_F_WRONLY);   /* those stay on the fd */
	d->numa_node = spec->numa_node;
	d->map_extra = spec->map_extra;
	map->ops = ops;
	if (ops->init) {
		err = ops->init(map);
		if (err)
			goto fail;
	}
	if (ops->init_spec) {
		err = ops->init_spec(map, spec);
		if (err)
			goto fail;
	}
	h->id = emu_id_alloc(EMU_KIND_MAP);
	if (!h->id) {
		err = -ENOSPC;
		goto fail;
	}
	if (with_btf) {
		/* the map holds its BTF (map->btf): emu_obj_hold_btf */
		struct emu_obj *btf;
		int acc;
		err = emu_fd_get((int)spec->btf_fd, EMU_KIND_BTF, &btf, &acc);
		if (err)
			goto fail;
		err = emu_obj_hold_btf(map, (int)spec->btf_fd, btf);
		emu_obj_put(btf);
		if (err)
			goto fail;
	}
	__atomic_store_n(&h->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);

	emu_fd_install_acc(fd, map, f_flags);
	EMU_LOG(EMU_LOG_MAP, "map %u created: type %u key %u value %u max_entries %u flags 0x%x fd %d", h->id,
		d->map_type, d->key_size, d->value_size, d->max_entries, d->map_flags, fd);
	return fd;
fail:
	emu_os_close(fd);
	emu_obj_put(map);
	return err;
}

int emu_map_fill_info(struct emu_obj *map, struct bpf_map_info *info)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	memset(info, 0, sizeof(*info));
	info->type = d->map_type;
	info->id = map->hdr->id;
	info->key_size = d->key_size;
	info->value_size = d->value_size;
	info->max_entries = d->max_entries;
	info->map_flags = d->map_flags;
	info->map_extra = d->map_extra;
	memcpy(info->name, map->hdr->name, sizeof(info->name));
	info->btf_id = d->btf_id;
	info->btf_key_type_id = d->btf_key_type_id;
	info->btf_value_type_id = d->btf_value_type_id;
	info->btf_vmlinux_value_type_id = d->btf_vmlinux_value_type_id;
	if (d->map_type == BPF_MAP_TYPE_STRUCT_OPS) {      /* btf_vmlinux_id (6.18), after btf_value_type_id */
		__u32 id = emu_struct_ops_btf_obj_id(map);
		memcpy((char *)info + offsetof(struct bpf_map_info, btf_value_type_id) + 4, &id, 4);
	}
	return 0;
}

/* The kernel's seq_printf("%#x") prints 0 as "0x0"; glibc's prints "0": spelled out. */
int emu_map_fdinfo(struct emu_obj *map, char *buf, size_t len)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	int n = snprintf(buf, len,
			 "map_type:\t%u\nkey_size:\t%u\nvalue_size:\t%u\nmax_entries:\t%u\nmap_flags:\t0x%x\n"
			 "map_extra:\t0x%llx\nmemlock:\t%llu\nmap_id:\t%u\nfrozen:\t%u\n",
			 d->map_type, d->key_size, d->value_size, d->max_entries, d->map_flags,
			 (unsigned long long)d->map_extra, (unsigned long long)map->ops->mem_usage(map),
			 map->hdr->id, __atomic_load_n(&d->frozen, __ATOMIC_ACQUIRE) ? 1 : 0);
	__u32 owner;
	if (n >= 0 && (size_t)n < len && emu_map_holds_progs(d->map_type) && emu_prog_map_owner(map, &owner)) {
		/* no JIT here: the owner is not jited */
		int m = snprintf(buf + n, len - (size_t)n, "owner_prog_type:\t%u\nowner_jited:\t0\n", owner);
		n = m < 0 ? m : n + m;
	}
	return n < 0 ? -EINVAL : n;
}

int emu_fdinfo_format(int fd, char *buf, size_t len)
{
	struct emu_obj *obj;
	int acc, n;
	int err = emu_fd_get_local(fd, EMU_KIND_ANY, &obj, &acc);
	if (err)
		return err;
	switch (obj->hdr->kind) {
	case EMU_KIND_MAP:
		n = obj->ops ? emu_map_fdinfo(obj, buf, len) : -EINVAL;
		break;
	case EMU_KIND_PROG: {
		const struct emu_prog_desc *p = &obj->hdr->prog;
		char tag[17];
		for (int i = 0; i < 8; i++)
			snprintf(tag + 2 * i, 3, "%02x", p->tag[i]);
		n = snprintf(buf, len, "prog_type:\t%u\nprog_jited:\t0\nprog_tag:\t%s\nmemlock:\t%llu\nprog_id:\t%u\n"
			     "run_time_ns:\t%llu\nrun_cnt:\t%llu\nrecursion_misses:\t%llu\nverified_insns:\t%u\n",
			     p->prog_type, tag, (unsigned long long)page_align((__u64)(p->loaded_insn_cnt ? p->loaded_insn_cnt : p->insn_cnt) * 8),
			     obj->hdr->id, (unsigned long long)__atomic_load_n(&p->run_time_ns, __ATOMIC_RELAXED),
			     (unsigned long long)__atomic_load_n(&p->run_cnt, __ATOMIC_RELAXED),
			     (unsigned long long)__atomic_load_n(&p->recursion_misses, __ATOMIC_RELAXED),
			     p->verified_insns ? p->verified_insns : p->insn_cnt);
		break;
	}
	case EMU_KIND_BTF:
		n = snprintf(buf, len, "btf_id:\t%u\n", obj->hdr->id);
		break;
	default:
		n = snprintf(buf, len, "%s", "");
	}
	emu_obj_put(obj);
	return n;
}

/* bpf_map_mmap() */
int emu_mmap_check(int fd, size_t len, int prot, int flags, off_t off, off_t *real_off)
{
	struct emu_obj *obj;
	int acc, err;

	err = emu_fd_get_local(fd, EMU_KIND_ANY, &obj, &acc);
	if (err)
		return 1;      /* not ours: the real mmap decides */
	err = 0;
	if (obj->hdr->kind == EMU_KIND_PERF_EVENT) {
		err = emu_perf_mmap_check(obj, len, prot, flags, off, real_off);   /* emu/perf/ */
		goto out;
	}
	if (obj->hdr->kind != EMU_KIND_MAP) {
		err = -ENODEV;
		goto out;
	}
	const struct emu_map_desc *d = emu_map_desc(obj);
	/* the kernel's mmap layer checks the fd's access mode first */
	if ((flags & MAP_TYPE) == MAP_SHARED && (prot & PROT_WRITE) && acc == O_RDONLY) {
		err = -EACCES;
		goto out;
	}
	if (acc == O_WRONLY) {
		err = -EACCES;
		goto out;
	}
	if (!obj->ops || (!obj->ops->mmap_check && !obj->ops->mmap_check_prot) || d->special) {
		err = -ENOTSUPP;
		goto out;
	}
	/* a read-only file's shared mapping loses VM_SHARED in the mm layer */
	if ((flags & MAP_TYPE) != MAP_SHARED || acc == O_RDONLY) {
		err = -EINVAL;
		goto out;
	}
	if (prot & PROT_WRITE) {
		if (__atomic_load_n(&d->frozen, __ATOMIC_ACQUIRE)) {
			err = -EPERM;
			goto out;
		}
		if (d->map_flags & BPF_F_RDONLY_PROG) {
			err = -EACCES;
			goto out;
		}
	}
	err = obj->ops->mmap_check_prot ? obj->ops->mmap_check_prot(obj, len, off, prot)
					: obj->ops->mmap_check(obj, len, off);
	if (!err) {
		*real_off = (off_t)obj->hdr->data_off + off;
		/* the mapping keeps the map alive, as the kernel's vma does (it
		 * also keeps the fd's open file, so emu_file_held sees it): the
		 * file is never reused for another object (emu/fdtable.c) */
		if (!(__atomic_load_n(&obj->hdr->flags, __ATOMIC_RELAXED) & EMU_OBJ_F_USER_MAPPED))
			__atomic_or_fetch(&obj->hdr->flags, EMU_OBJ_F_USER_MAPPED, __ATOMIC_RELAXED);
	}
out:
	emu_obj_put(obj);
	return err;
}

/* ---- batch commands: the kernel's generic_map_*_batch over the element ops ----
 *
 * The observable behaviour is the kernel's element by element (the count
 * written back is the number of elements done before the first error), but
 * user memory is copied in and out a chunk at a time, so a batch costs one
 * copy per chunk instead of a system call per element. When a chunk copy in
 * faults, the chunk is redone element by element to find where the kernel
 * would have stopped.
 */
#define BATCH_CHUNK_BYTES (64u * 1024)

int emu_map_batch_elem_flags_check(const struct emu_obj *map, __u64 elem_flags)
{
	if (elem_flags & ~(__u64)BPF_F_LOCK)
		return -EINVAL;
	if ((elem_flags & BPF_F_LOCK) && !emu_map_has_spin_lock(map))
		return -EINVAL;
	return 0;
}

static __u32 batch_chunk(__u32 count, __u32 elem_bytes)
{
	__u32 n = BATCH_CHUNK_BYTES / (elem_bytes ? elem_bytes : 1);
	if (n < 1)
		n = 1;
	return n < count ? n : count;
}

static int put_count(const struct emu_map_batch *b, __u32 n)
{
	return emu_copy_to_user(b->ucount, &n, sizeof(n));
}

int emu_generic_map_lookup_batch(struct emu_obj *map, const struct emu_map_batch *b)
{
	__u32 ks = emu_map_desc(map)->key_size, vs = emu_map_value_size(map);
	__u32 cp = 0, n = 0, chunk;
	char *keys, *vals, *prev_buf;
	bool have_prev = false;
	int err;

	err = emu_map_batch_elem_flags_check(map, b->elem_flags);
	if (err)
		return err;
	if (!b->count)
		return 0;
	if (put_count(b, 0))
		return -EFAULT;
	chunk = batch_chunk(b->count, ks + vs);
	keys = malloc((size_t)chunk * (ks ? ks : 1));
	vals = malloc((size_t)chunk * (vs ? vs : 1));
	prev_buf = malloc(ks ? ks : 1);
	if (!keys || !vals || !prev_buf) {
		err = -ENOMEM;
		goto out;
	}
	if (b->in_batch) {
		if (emu_copy_from_user(prev_buf, b->in_batch, ks)) {
			err = -EFAULT;
			goto out;
		}
		have_prev = true;
	}
	err = 0;
	/* the token: the last key get_next_key gave, where it lies (in keys, not
	 * copied per element; into prev_buf before its slot is written again) */
	const char *prev = have_prev ? prev_buf : NULL;
	int (*next_key)(struct emu_obj *, const void *, void *) = map->ops->get_next_key;
	int (*lookup)(struct emu_obj *, const void *, void *, __u64) = map->ops->lookup;
	while (cp + n < b->count) {
		char *key = keys + (size_t)n * ks;
		if (prev == key) {       /* a skipped element's slot is reused */
			memcpy(prev_buf, key, ks);
			prev = prev_buf;
		}
		err = next_key(map, prev, key);
		if (err)
			break;
		err = lookup(map, key, vals + (size_t)n * vs, b->elem_flags);
		if (err && err != -ENOENT)
			goto out;
		prev = key;
		if (err == -ENOENT) {
			err = 0;
			continue;      /* gone since get_next_key: skipped, as the kernel does */
		}
		if (++n == chunk) {
			if (emu_copy_to_user(UPTR_ADD(b->keys, (size_t)cp * ks), keys, (size_t)n * ks) ||
			    emu_copy_to_user(UPTR_ADD(b->values, (size_t)cp * vs), vals, (size_t)n * vs)) {
				err = -EFAULT;
				goto out;
			}
			memcpy(prev_buf, prev, ks);
			prev = prev_buf;
			cp += n;
			n = 0;
		}
	}
	if (n && (emu_copy_to_user(UPTR_ADD(b->keys, (size_t)cp * ks), keys, (size_t)n * ks) ||
		  emu_copy_to_user(UPTR_ADD(b->values, (size_t)cp * vs), vals, (size_t)n * vs))) {
		err = -EFAULT;
		goto out;
	}
	cp += n;
	if (put_count(b, cp) || (cp && emu_copy_to_user(b->out_batch, prev, ks)))
		err = -EFAULT;
out:
	free(prev_buf);
	free(vals);
	free(keys);
	return err;
}

/* Copy keys (and values) of elements [i, i + n) in: the whole chunk at once,
 * or, if that faults, element by element up to the first fault. Returns the
 * number of elements copied in; *fault set when it stopped at a fault. */
static __u32 batch_copy_in(const struct emu_map_batch *b, __u32 i, __u32 n, __u32 ks, __u32 vs, char *keys,
			   char *vals, bool with_values, bool *fault)
{
	*fault = false;
	if (!emu_copy_from_user(keys, UPTR_ADD(b->keys, (size_t)i * ks), (size_t)n * ks) &&
	    (!with_values || !emu_copy_from_user(vals, UPTR_ADD(b->values, (size_t)i * vs), (size_t)n * vs)))
		return n;
	for (__u32 j = 0; j < n; j++)
		if (emu_copy_from_user(keys + (size_t)j * ks, UPTR_ADD(b->keys, (size_t)(i + j) * ks), ks) ||
		    (with_values &&
		     emu_copy_from_user(vals + (size_t)j * vs, UPTR_ADD(b->values, (size_t)(i + j) * vs), vs))) {
			*fault = true;
			return j;
		}
	return n;
}

static int generic_write_batch(struct emu_obj *map, const struct emu_map_batch *b, bool update)
{
	__u32 ks = emu_map_desc(map)->key_size, vs = update ? emu_map_value_size(map) : 0;
	__u32 cp = 0, chunk;
	char *keys = NULL, *vals = NULL;
	int err;

	err = emu_map_batch_elem_flags_check(map, b->elem_flags);
	if (err)
		return err;
	if (!b->count)
		return 0;
	if (put_count(b, 0))
		return -EFAULT;
	chunk = batch_chunk(b->count, ks + vs);
	keys = malloc((size_t)chunk * (ks ? ks : 1));
	vals = malloc((size_t)chunk * (vs ? vs : 1));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!err && cp < b->count) {
		__u32 want = b->count - cp < chunk ? b->count - cp : chunk;
		bool fault;
		__u32 got = batch_copy_in(b, cp, want, ks, vs, keys, vals, update, &fault);
		for (__u32 j = 0; j < got && !err; j++) {
			err = update ? map->ops->update(map, keys + (size_t)j * ks, vals + (size_t)j * vs, b->elem_flags)
				     : map->ops->delete(map, keys + (size_t)j * ks);
			if (!err)
				cp++;
		}
		if (!err && fault)
			err = -EFAULT;
	}
	if (put_count(b, cp))
		err = -EFAULT;
out:
	free(vals);
	free(keys);
	return err;
}

int emu_generic_map_update_batch(struct emu_obj *map, const struct emu_map_batch *b)
{
	return generic_write_batch(map, b, true);
}

int emu_generic_map_delete_batch(struct emu_obj *map, const struct emu_map_batch *b)
{
	return generic_write_batch(map, b, false);
}
