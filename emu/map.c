/* SPDX-License-Identifier: MIT */
/* emu/map.c: the generic map object: registry, create, info, fdinfo, mmap. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "map.h"

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
	DIR *d = opendir("/sys/devices/system/node");
	if (d) {
		struct dirent *e;
		unsigned int x;
		char tail;
		while ((e = readdir(d)))
			if (sscanf(e->d_name, "node%u%c", &x, &tail) == 1 && x + 1 > c)
				c = x + 1;
		closedir(d);
	}
	n = c ? c : 1;
	return n;
}

/* The object's fd for a btf_fd: we have no BTF objects yet, so any valid fd
 * is "not a BTF fd" (EINVAL) and an invalid one EBADF, as btf_get_by_fd(). */
static int btf_fd_check(__u32 btf_fd)
{
	return fcntl((int)btf_fd, F_GETFD) < 0 ? -EBADF : -EINVAL;
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

	fd = emu_obj_create(EMU_KIND_MAP, ops->data_size(spec), &map);
	if (fd < 0)
		return fd;
	struct emu_obj_hdr *h = map->hdr;
	err = emu_obj_name_cpy(h->name, spec->name, sizeof(h->name));
	if (err < 0)
		goto fail;
	if (spec->btf_key_type_id || spec->btf_value_type_id || spec->btf_vmlinux_value_type_id) {
		err = btf_fd_check(spec->btf_fd);
		goto fail;
	}
	struct emu_map_desc *d = &h->map;
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
	__atomic_store_n(&h->magic, EMU_OBJ_MAGIC, __ATOMIC_RELEASE);

	if (f_flags != O_RDWR) {
		int nfd = emu_fd_reopen(fd, f_flags);
		if (nfd < 0) {
			err = nfd;
			goto fail;
		}
		close(fd);
		fd = nfd;
	}
	emu_fd_install(fd, map);
	EMU_LOG(EMU_LOG_MAP, "map %u created: type %u key %u value %u max_entries %u flags 0x%x fd %d", h->id,
		d->map_type, d->key_size, d->value_size, d->max_entries, d->map_flags, fd);
	return fd;
fail:
	close(fd);
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
	return 0;
}

int emu_map_fdinfo(struct emu_obj *map, char *buf, size_t len)
{
	const struct emu_map_desc *d = emu_map_desc(map);
	int n = snprintf(buf, len,
			 "map_type:\t%u\nkey_size:\t%u\nvalue_size:\t%u\nmax_entries:\t%u\nmap_flags:\t%#x\n"
			 "map_extra:\t%#llx\nmemlock:\t%llu\nmap_id:\t%u\nfrozen:\t%u\n",
			 d->map_type, d->key_size, d->value_size, d->max_entries, d->map_flags,
			 (unsigned long long)d->map_extra, (unsigned long long)map->ops->mem_usage(map),
			 map->hdr->id, __atomic_load_n(&d->frozen, __ATOMIC_ACQUIRE) ? 1 : 0);
	return n < 0 ? -EINVAL : n;
}

int emu_fdinfo_format(int fd, char *buf, size_t len)
{
	struct emu_obj *obj;
	int acc, n;
	int err = emu_fd_get(fd, EMU_KIND_NONE, &obj, &acc);
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
		n = snprintf(buf, len, "prog_type:\t%u\nprog_jited:\t0\nprog_tag:\t%s\nmemlock:\t%llu\nprog_id:\t%u\n",
			     p->prog_type, tag, (unsigned long long)page_align((__u64)p->insn_cnt * 8),
			     obj->hdr->id);
		break;
	}
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

	err = emu_fd_get(fd, EMU_KIND_NONE, &obj, &acc);
	if (err)
		return 1;      /* not ours: the real mmap decides */
	err = 0;
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
	if (!obj->ops || (!obj->ops->mmap_check && !obj->ops->mmap_check_prot)) {
		err = -ENOTSUPP;
		goto out;
	}
	if ((flags & MAP_TYPE) != MAP_SHARED) {
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
	if (!err)
		*real_off = (off_t)obj->hdr->data_off + off;
out:
	emu_obj_put(obj);
	return err;
}
