/* SPDX-License-Identifier: MIT */
/*
 * emu/struct_ops.c: BPF_MAP_TYPE_STRUCT_OPS, as Linux 6.18's
 * kernel/bpf/bpf_struct_ops.c and net/ipv4/bpf_tcp_ca.c answer.
 *
 * A struct_ops map's value is struct bpf_struct_ops_<name> of the kernel's
 * BTF: a common part (refcnt, state) and, cache-line aligned, the kernel
 * struct itself (tcp_congestion_ops, ...) whose function pointers user space
 * fills with program fds. The types are the kernel's registered ones: those
 * whose value type its BTF has (bpf_struct_ops_<name> with members common and
 * data, data a struct <name>). Creation, lookup, update, delete and the link
 * answer as there for every such type; the data members are checked as the
 * type's init_member() checks them for tcp_congestion_ops (name, flags) and
 * bpf_dummy_ops (every update is EOPNOTSUPP, as there); another type's update
 * is EOPNOTSUPP with a log line (its rules are not known here).
 *
 * What "registered" means here: nothing on the host calls these programs (a
 * TCP socket of the host never picks an emulated congestion control). A
 * registration is state the emulated kernel keeps: the map in state INUSE
 * (update without BPF_F_LINK) held by <root>/refs/struct_ops/, a holder no
 * id scan collects (the kernel's bpf_map_inc() in update), or a BPF_F_LINK
 * map in state READY held by a live struct_ops link (<root>/refs/link-<id>/,
 * dropped with the link). tcp_congestion_ops names are unique among the
 * host's registered ones (/proc/sys/net/ipv4/tcp_available_congestion_control)
 * and the emulated registrations (EEXIST). Two processes registering one name
 * at the very same time through links may both succeed (the name is checked
 * before the link object exists, under the references' lock, then taken).
 *
 * The value a lookup returns is the one user space gave, programs by id in
 * place of fds (the kernel's uvalue), with the state and refcnt (the
 * registrations: the kernel's refcnt - usercnt, as no socket uses it).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btf.h"
#include "link.h"
#include "map.h"
#include "os.h"

#define F_LINK (1u << 13)                     /* BPF_F_LINK */
#define F_VTYPE_BTF_OBJ_FD (1u << 15)         /* BPF_F_VTYPE_BTF_OBJ_FD */
#define STRUCT_OPS_FLAG_MASK (F_LINK | F_VTYPE_BTF_OBJ_FD)

enum { ST_INIT, ST_INUSE, ST_TOBEFREE, ST_READY };  /* enum bpf_struct_ops_state */
enum { SO_OTHER, SO_TCP, SO_DUMMY };
#define TCP_CONG_MASK 0x1fu                   /* TCP_CONG_MASK of 6.18: five flags (0x20 is EINVAL on the host) */
#define TCP_CA_NAME_MAX 16

/* the map's data: this header, then the value user space sees (uvalue) */
struct so_map {
	__u32 state;
	__u32 type_id;                        /* struct <name> */
	__u32 value_id;                       /* struct bpf_struct_ops_<name> */
	__u32 data_off;                       /* of member data in the value: sizeof(bpf_struct_ops_value) */
	__u32 nfuncs;                         /* function pointer members */
	__u32 kind;                           /* SO_* */
	__u32 btf_obj_id;                     /* the vmlinux BTF object */
	__u32 name_off;                       /* tcp_congestion_ops: name's offset in the struct */
	unsigned char uvalue[];
};

static struct so_map *so(const struct emu_obj *map)
{
	return (struct so_map *)emu_obj_data(map);
}

/* ---- the kernel's BTF ---- */

static __u32 kind_of(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static __u32 vlen_of(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }
static const struct btf_member *members(const struct btf_type *t) { return (const struct btf_member *)(t + 1); }

static __u32 member_off(const struct btf_type *t, const struct btf_member *m)
{
	return (BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset) / 8;
}

static const struct btf_type *skip_mods(__u32 id, __u32 *res)
{
	const struct btf_type *t = emu_vmlinux_btf_type(id);
	for (int depth = 0; t && depth < 32; depth++) {
		switch (kind_of(t)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			t = emu_vmlinux_btf_type(id);
			continue;
		default:
			if (res)
				*res = id;
			return t;
		}
	}
	return NULL;
}

/* btf_resolve_size() */
static int resolve_size(__u32 id, __u32 *size)
{
	__u64 mult = 1;
	for (int depth = 0; depth < 32; depth++) {
		const struct btf_type *t = skip_mods(id, NULL);
		if (!t)
			return -EINVAL;
		switch (kind_of(t)) {
		case BTF_KIND_INT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		case BTF_KIND_FLOAT:
			*size = (__u32)(mult * t->size);
			return 0;
		case BTF_KIND_PTR:
			*size = (__u32)(mult * 8);
			return 0;
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = (const struct btf_array *)(t + 1);
			mult *= a->nelems;
			id = a->type;
			continue;
		}
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}

/* btf_type_resolve_ptr(): what a pointer member points to (modifiers skipped), or NULL */
static const struct btf_type *ptr_target(__u32 id)
{
	const struct btf_type *t = skip_mods(id, NULL);
	if (!t || kind_of(t) != BTF_KIND_PTR)
		return NULL;
	return skip_mods(t->type, NULL);
}

static bool is_func_ptr(__u32 id)
{
	const struct btf_type *p = ptr_target(id);
	return p && kind_of(p) == BTF_KIND_FUNC_PROTO;
}

static bool is_module_ptr(__u32 id)
{
	const struct btf_type *p = ptr_target(id);
	const char *n = p && kind_of(p) == BTF_KIND_STRUCT ? emu_vmlinux_btf_str(p->name_off) : NULL;
	return n && !strcmp(n, "module");
}

/* bpf_struct_ops_find_value(): the registered type whose value type is value_id */
static int find_value(__u32 value_id, __u32 *type_id, __u32 *data_off)
{
	const struct btf_type *vt = value_id ? emu_vmlinux_btf_type(value_id) : NULL;
	const char *vname = vt && kind_of(vt) == BTF_KIND_STRUCT ? emu_vmlinux_btf_str(vt->name_off) : NULL;
	if (!vname || strncmp(vname, "bpf_struct_ops_", 15) || vlen_of(vt) != 2)
		return -ENOTSUPP;
	const struct btf_member *m = members(vt);
	const char *m0 = emu_vmlinux_btf_str(m[0].name_off), *m1 = emu_vmlinux_btf_str(m[1].name_off);
	if (!m0 || !m1 || strcmp(m0, "common") || strcmp(m1, "data"))
		return -ENOTSUPP;
	__u32 tid;
	const struct btf_type *t = skip_mods(m[1].type, &tid);
	const char *tname = t && kind_of(t) == BTF_KIND_STRUCT ? emu_vmlinux_btf_str(t->name_off) : NULL;
	if (!tname || strcmp(tname, vname + 15))
		return -ENOTSUPP;
	*type_id = tid;
	*data_off = member_off(vt, &m[1]);
	return 0;
}

/* ---- creation ---- */

static int st_check_spec(const struct emu_map_spec *s)
{
	__u32 tid, doff;
	if (s->key_size != 4 || s->max_entries != 1 || (s->map_flags & ~STRUCT_OPS_FLAG_MASK) ||
	    !s->btf_vmlinux_value_type_id)
		return -EINVAL;
	if (s->map_flags & F_VTYPE_BTF_OBJ_FD) {
		EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: struct_ops of kernel modules (BPF_F_VTYPE_BTF_OBJ_FD) are not "
				     "emulated: EINVAL");
		return -EINVAL;
	}
	if (!emu_vmlinux_btf_nr_types()) {
		EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: no kernel BTF, so no struct_ops type: ENOTSUPP");
		return -ENOTSUPP;
	}
	if (find_value(s->btf_vmlinux_value_type_id, &tid, &doff)) {
		EMU_LOG(EMU_LOG_SYS, "BPF_MAP_CREATE: vmlinux type %u is no struct_ops value type: ENOTSUPP",
			s->btf_vmlinux_value_type_id);
		return -ENOTSUPP;
	}
	if (s->value_size != emu_vmlinux_btf_type(s->btf_vmlinux_value_type_id)->size)
		return -EINVAL;
	return 0;
}

static __u64 st_data_size(const struct emu_map_spec *s)
{
	return sizeof(struct so_map) + s->value_size;
}

static int st_init_spec(struct emu_obj *map, const struct emu_map_spec *s)
{
	struct so_map *m = so(map);
	if (find_value(s->btf_vmlinux_value_type_id, &m->type_id, &m->data_off))
		return -ENOTSUPP;
	m->value_id = s->btf_vmlinux_value_type_id;
	const struct btf_type *t = emu_vmlinux_btf_type(m->type_id);
	const char *name = emu_vmlinux_btf_str(t->name_off);
	m->kind = !strcmp(name, "tcp_congestion_ops") ? SO_TCP : !strcmp(name, "bpf_dummy_ops") ? SO_DUMMY : SO_OTHER;
	const struct btf_member *mb = members(t);
	for (__u32 i = 0; i < vlen_of(t); i++) {
		if (is_func_ptr(mb[i].type))
			m->nfuncs++;
		const char *mname = emu_vmlinux_btf_str(mb[i].name_off);
		if (m->kind == SO_TCP && mname && !strcmp(mname, "name"))
			m->name_off = member_off(t, &mb[i]);
	}
	emu_kernel_btf_find(name, BTF_KIND_STRUCT, &m->btf_obj_id);
	return 0;
}

/* bpf_struct_ops_map_mem_usage(): the map (512 bytes on x86-64 6.18), kvalue's
 * data, uvalue, a link and a ksym pointer per function member, the image page */
static __u64 st_mem_usage(const struct emu_obj *map)
{
	const struct so_map *m = so(map);
	__u32 vsize = map->hdr->map.value_size;
	return 512 + (vsize - m->data_off) + vsize + 16ull * m->nfuncs + 4096;
}

__u32 emu_struct_ops_btf_obj_id(const struct emu_obj *map)
{
	return so(map)->btf_obj_id;
}

/* ---- registrations ---- */

static int refs_path(char *buf, size_t len, const char *sub)
{
	return snprintf(buf, len, "%.4000s/refs/%s", emu_config()->root, sub) < (int)len ? 0 : -ENAMETOOLONG;
}

/* the map file entry (map-<id>-<n>) of a registration: is it a tcp_congestion_ops named name? */
static bool entry_has_name(int dfd, const char *entry, __u32 type_id, const char *name, __u32 *map_id)
{
	unsigned int id, n;
	if (sscanf(entry, "map-%u-%u", &id, &n) != 2)
		return false;
	if (map_id)
		*map_id = id;
	int fd = emu_os_openat(dfd, entry, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct so_map h;
	char got[TCP_CA_NAME_MAX + 1] = "";
	bool same = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.type_id == type_id && h.kind == SO_TCP &&
		    pread(fd, got, TCP_CA_NAME_MAX, (off_t)(sizeof(h) + h.data_off + h.name_off)) == TCP_CA_NAME_MAX;
	emu_os_close(fd);
	return same && !strncmp(got, name, TCP_CA_NAME_MAX);
}

/* Is a tcp_congestion_ops named name registered: on the host, in an INUSE map
 * or through a live link? */
static bool tcp_name_taken(__u32 type_id, const char *name)
{
	char buf[4096], path[PATH_MAX];
	int fd = emu_os_open("/proc/sys/net/ipv4/tcp_available_congestion_control", O_RDONLY | O_CLOEXEC, 0);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		emu_os_close(fd);
		buf[n > 0 ? n : 0] = '\0';
		for (char *save = NULL, *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
			if (!strcmp(tok, name))
				return true;
	}
	if (refs_path(path, sizeof(path), ""))
		return false;
	struct emu_os_dir *d = emu_os_opendir(path, NULL);
	const struct emu_os_dirent *e;
	bool taken = false;
	while (d && !taken && (e = emu_os_readdir(d))) {
		unsigned int link_id = 0;
		bool reg = !strcmp(e->name, "struct_ops");
		if (!reg && sscanf(e->name, "link-%u", &link_id) != 1)
			continue;
		int dfd = emu_os_openat(emu_os_dirfd(d), e->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		struct emu_os_dir *sd = dfd >= 0 ? emu_os_opendirat(dfd, ".", NULL) : NULL;
		const struct emu_os_dirent *se;
		while (sd && !taken && (se = emu_os_readdir(sd)))
			if (entry_has_name(dfd, se->name, type_id, name, NULL))
				taken = reg || emu_obj_alive(EMU_KIND_LINK, link_id);
		if (sd)
			emu_os_closedir(sd);
		if (dfd >= 0)
			emu_os_close(dfd);
	}
	if (d)
		emu_os_closedir(d);
	return taken;
}

/* Does a live link hold map id (a READY map's registration)? */
static bool linked(__u32 id)
{
	char path[PATH_MAX], prefix[32];
	if (refs_path(path, sizeof(path), ""))
		return false;
	int plen = snprintf(prefix, sizeof(prefix), "map-%u-", id);
	struct emu_os_dir *d = emu_os_opendir(path, NULL);
	const struct emu_os_dirent *e;
	bool found = false;
	while (d && !found && (e = emu_os_readdir(d))) {
		unsigned int link_id;
		if (sscanf(e->name, "link-%u", &link_id) != 1)
			continue;
		struct emu_os_dir *sd = emu_os_opendirat(emu_os_dirfd(d), e->name, NULL);
		const struct emu_os_dirent *se;
		bool has = false;
		while (sd && !has && (se = emu_os_readdir(sd)))
			has = !strncmp(se->name, prefix, (size_t)plen);
		if (sd)
			emu_os_closedir(sd);
		found = has && emu_obj_alive(EMU_KIND_LINK, link_id);
	}
	if (d)
		emu_os_closedir(d);
	return found;
}

/* st_ops->reg() before anything is taken: 0 or -errno */
static int reg_check(const struct emu_obj *map)
{
	const struct so_map *m = so(map);
	switch (m->kind) {
	case SO_TCP: {
		char name[TCP_CA_NAME_MAX + 1];
		memcpy(name, m->uvalue + m->data_off + m->name_off, TCP_CA_NAME_MAX);
		name[TCP_CA_NAME_MAX] = '\0';
		if (tcp_name_taken(m->type_id, name)) {
			EMU_LOG(EMU_LOG_SYS, "struct_ops: tcp_congestion_ops %s is registered already: EEXIST", name);
			return -EEXIST;
		}
		return 0;
	}
	default:
		return -EOPNOTSUPP;             /* no update of other types gets this far */
	}
}

/* ---- element operations ---- */

static int st_lookup(struct emu_obj *map, const void *key, void *value, __u64 flags)
{
	(void)flags;
	struct so_map *m = so(map);
	__u32 vsize = map->hdr->map.value_size, state;
	if (*(const __u32 *)key != 0)
		return -ENOENT;
	state = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
	if (state == ST_INIT) {
		memset(value, 0, vsize);
		return 0;
	}
	memcpy(value, m->uvalue, vsize);
	__u32 refcnt = state == ST_INUSE || (state == ST_READY && linked(map->hdr->id)) ? 1 : 0;
	memcpy(value, &refcnt, 4);
	memcpy((char *)value + 4, &state, 4);
	return 0;
}

/* check_zero_holes(): bytes between and after the members of t at data are 0 */
static int check_zero_holes(__u32 type_id, const unsigned char *data)
{
	const struct btf_type *t = emu_vmlinux_btf_type(type_id);
	const struct btf_member *mb = members(t);
	__u32 prev_end = 0;
	for (__u32 i = 0; i < vlen_of(t); i++) {
		__u32 off = member_off(t, &mb[i]), size;
		for (__u32 k = prev_end; k < off; k++)
			if (data[k])
				return -EINVAL;
		int err = resolve_size(mb[i].type, &size);
		if (err)
			return err;
		prev_end = off + size;
	}
	for (__u32 k = prev_end; k < t->size; k++)
		if (data[k])
			return -EINVAL;
	return 0;
}

static bool all_zero(const unsigned char *p, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* bpf_obj_name_cpy(): the name's length, or -EINVAL (no NUL within size, a character not [A-Za-z0-9_.]) */
static int obj_name_len(const char *src, __u32 size)
{
	for (__u32 i = 0; i < size; i++) {
		char c = src[i];
		if (!c)
			return (int)i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.'))
			return -EINVAL;
	}
	return -EINVAL;
}

/* st_ops->init_member(): 1 handled, 0 not, -errno */
static int init_member(const struct so_map *m, const char *mname, const unsigned char *udata, __u32 off)
{
	switch (m->kind) {
	case SO_TCP:                            /* bpf_tcp_ca_init_member() */
		if (!strcmp(mname, "flags")) {
			__u32 f;
			memcpy(&f, udata + off, 4);
			return f & ~TCP_CONG_MASK ? -EINVAL : 1;
		}
		if (!strcmp(mname, "name"))
			return obj_name_len((const char *)udata + off, TCP_CA_NAME_MAX) <= 0 ? -EINVAL : 1;
		return 0;
	case SO_DUMMY:                          /* bpf_dummy_init_member() */
		return -EOPNOTSUPP;
	default:
		EMU_LOG(EMU_LOG_SYS, "struct_ops: the members of %s are not emulated: EOPNOTSUPP",
			emu_vmlinux_btf_str(emu_vmlinux_btf_type(m->type_id)->name_off));
		return -EOPNOTSUPP;
	}
}

/* tcp_validate_congestion_control(): ssthresh, undo_cwnd, cong_avoid or cong_control */
static int validate(const struct so_map *m, const unsigned char *udata)
{
	if (m->kind != SO_TCP)
		return 0;
	const struct btf_type *t = emu_vmlinux_btf_type(m->type_id);
	const struct btf_member *mb = members(t);
	bool ss = false, undo = false, avoid = false;
	for (__u32 i = 0; i < vlen_of(t); i++) {
		const char *n = emu_vmlinux_btf_str(mb[i].name_off);
		bool set = !all_zero(udata + member_off(t, &mb[i]), 8);
		if (!n || !is_func_ptr(mb[i].type))
			continue;
		if (!strcmp(n, "ssthresh"))
			ss = set;
		else if (!strcmp(n, "undo_cwnd"))
			undo = set;
		else if (!strcmp(n, "cong_avoid") || !strcmp(n, "cong_control"))
			avoid |= set;
	}
	if (!ss || !undo || !avoid) {
		EMU_LOG(EMU_LOG_SYS, "struct_ops: tcp_congestion_ops %.16s lacks ssthresh, undo_cwnd or "
				     "cong_avoid/cong_control: EINVAL", (const char *)udata + m->name_off);
		return -EINVAL;
	}
	return 0;
}

/* drops the program references taken for the members before index upto */
static void put_progs(struct emu_obj *map, int dfd, const unsigned char *udata, __u32 upto)
{
	const struct so_map *m = so(map);
	const struct btf_type *t = emu_vmlinux_btf_type(m->type_id);
	const struct btf_member *mb = members(t);
	for (__u32 i = 0; i < upto && i < vlen_of(t); i++) {
		__u64 id;
		if (!is_func_ptr(mb[i].type))
			continue;
		memcpy(&id, udata + member_off(t, &mb[i]), 8);
		if (id)
			emu_ref_drop(dfd, EMU_KIND_PROG, (__u32)id);
	}
}

int emu_struct_ops_update(struct emu_obj *map, int map_fd, const void *key, const void *value, __u64 flags)
{
	struct so_map *m = so(map);
	__u32 vsize = map->hdr->map.value_size;
	const unsigned char *v = value;
	int err;

	if (flags)
		return -EINVAL;
	if (*(const __u32 *)key != 0)
		return -E2BIG;
	err = check_zero_holes(m->value_id, v);
	if (!err)
		err = check_zero_holes(m->type_id, v + m->data_off);
	if (err)
		return err;
	if (!all_zero(v, 8))                    /* refcnt, state */
		return -EINVAL;
	if (map->rdonly)
		return -EPERM;
	emu_obj_lock(map);
	if (m->state != ST_INIT) {
		err = -EBUSY;
		goto unlock;
	}
	unsigned char *udata = m->uvalue + m->data_off;
	memcpy(m->uvalue, v, vsize);
	const struct btf_type *t = emu_vmlinux_btf_type(m->type_id);
	const struct btf_member *mb = members(t);
	int dfd = emu_refs_lock(map);
	if (dfd < 0) {
		err = dfd;
		goto reset;
	}
	struct emu_obj *held[64];
	__u32 i, nheld = 0;
	err = 0;
	for (i = 0; i < vlen_of(t); i++) {
		__u32 off = member_off(t, &mb[i]), size;
		const char *mname = emu_vmlinux_btf_str(mb[i].name_off);
		if (is_module_ptr(mb[i].type)) {
			if (!all_zero(udata + off, 8))
				break;          /* the kernel returns what err holds: 0 or 1 (init_member's) */
			continue;
		}
		err = init_member(m, mname ? mname : "", udata, off);
		if (err < 0)
			break;
		if (err > 0)
			continue;
		if (!is_func_ptr(mb[i].type)) {
			err = resolve_size(mb[i].type, &size);
			if (!err && !all_zero(udata + off, size))
				err = -EINVAL;
			if (err)
				break;
			continue;
		}
		__u64 ufd;
		memcpy(&ufd, udata + off, 8);
		if (!(int)ufd)
			continue;
		struct emu_obj *prog;
		int acc;
		err = emu_fd_get((int)ufd, EMU_KIND_PROG, &prog, &acc);
		if (err)
			break;
		const struct emu_prog_desc *p = &prog->hdr->prog;
		if (p->prog_type != BPF_PROG_TYPE_STRUCT_OPS || p->attach_btf_id != m->type_id ||
		    p->attach_btf_obj_id != m->btf_obj_id || p->expected_attach_type != i) {
			emu_obj_put(prog);
			err = -EINVAL;
			break;
		}
		err = emu_ref_take(dfd, (int)ufd, prog);
		__u64 id = prog->hdr->id;
		if (err || nheld >= ARRAY_SIZE(held)) {
			emu_obj_put(prog);
			if (err)
				break;
		} else {
			held[nheld++] = prog;
		}
		memcpy(udata + off, &id, 8);
	}
	bool failed = i < vlen_of(t);
	if (failed)
		put_progs(map, dfd, udata, i);
	emu_refs_unlock(dfd);
	for (__u32 k = 0; k < nheld; k++) {
		if (!failed)
			emu_obj_share(held[k]);   /* reached through the map: its BTF hold becomes a link */
		emu_obj_put(held[k]);
	}
	if (failed)
		goto reset;
	err = validate(m, udata);
	if (!err && (map->hdr->map.map_flags & F_LINK)) {
		__atomic_store_n(&m->state, ST_READY, __ATOMIC_RELEASE);
		goto unlock;
	}
	if (!err) {
		/* st_ops->reg(), and the registration's reference (bpf_map_inc) */
		int rfd = emu_refs_lock_name("struct_ops");
		err = rfd < 0 ? rfd : reg_check(map);
		if (!err)
			err = emu_ref_take(rfd, map_fd, map);
		if (!err)
			__atomic_store_n(&m->state, ST_INUSE, __ATOMIC_RELEASE);
		emu_refs_unlock(rfd);
		if (!err) {
			emu_obj_share(map);
			EMU_LOG(EMU_LOG_MAP, "struct_ops map %u registered", map->hdr->id);
			goto unlock;
		}
	}
	dfd = emu_refs_lock(map);
	if (dfd >= 0) {
		put_progs(map, dfd, udata, vlen_of(t));
		emu_refs_unlock(dfd);
	}
reset:
	memset(m->uvalue, 0, vsize);
unlock:
	emu_obj_unlock(map);
	return err;
}

static int st_update(struct emu_obj *map, const void *key, const void *value, __u64 flags)
{
	(void)map, (void)key, (void)value, (void)flags;
	return -EINVAL;                         /* sys.c calls emu_struct_ops_update */
}

static int st_delete(struct emu_obj *map, const void *key)
{
	(void)key;                              /* the kernel does not look at it */
	struct so_map *m = so(map);
	if (map->hdr->map.map_flags & F_LINK)
		return -EOPNOTSUPP;
	if (map->rdonly)
		return -EPERM;
	int err;
	emu_obj_lock(map);
	switch (m->state) {
	case ST_INUSE: {
		m->state = ST_TOBEFREE;
		int rfd = emu_refs_lock_name("struct_ops");
		if (rfd >= 0) {
			emu_ref_drop(rfd, EMU_KIND_MAP, map->hdr->id);
			emu_refs_unlock(rfd);
		}
		EMU_LOG(EMU_LOG_MAP, "struct_ops map %u unregistered", map->hdr->id);
		err = 0;
		break;
	}
	case ST_TOBEFREE:
		err = -EINPROGRESS;
		break;
	default:
		err = -ENOENT;
	}
	emu_obj_unlock(map);
	return err;
}

static int st_get_next_key(struct emu_obj *map, const void *key, void *next)
{
	(void)map;
	if (key && *(const __u32 *)key == 0)
		return -ENOENT;
	memset(next, 0, 4);
	return 0;
}

/* ---- links ---- */

bool emu_struct_ops_ready(const struct emu_obj *map)
{
	return map->hdr->map.map_type == BPF_MAP_TYPE_STRUCT_OPS && (map->hdr->map.map_flags & F_LINK) &&
	       __atomic_load_n(&so(map)->state, __ATOMIC_ACQUIRE) == ST_READY;
}

int emu_struct_ops_link_reg(struct emu_obj *link, struct emu_obj *map, int map_fd)
{
	int dfd = emu_refs_lock(link);
	if (dfd < 0)
		return dfd;
	int err = reg_check(map);
	if (!err)
		err = emu_ref_take(dfd, map_fd, map);
	emu_refs_unlock(dfd);
	if (!err)
		emu_obj_share(map);
	if (err)
		emu_refs_drop(link);
	return err;
}

void emu_struct_ops_link_unreg(struct emu_obj *link, __u32 map_id)
{
	int dfd = emu_refs_lock(link);
	if (dfd < 0)
		return;
	emu_ref_drop(dfd, EMU_KIND_MAP, map_id);
	emu_refs_unlock(dfd);
}

int emu_struct_ops_link_update(struct emu_obj *link, __u32 map_id, struct emu_obj *new_map, int new_fd)
{
	struct emu_obj *old;
	int err = emu_ref_get(link, EMU_KIND_MAP, map_id, &old);
	if (err)
		return -ENOLINK;
	const struct so_map *o = so(old), *n = so(new_map);
	if (o->type_id != n->type_id) {
		err = -EINVAL;
	} else if (n->kind != SO_TCP) {
		err = -EOPNOTSUPP;              /* no update() */
	} else if (strncmp((const char *)o->uvalue + o->data_off + o->name_off,
			   (const char *)n->uvalue + n->data_off + n->name_off, TCP_CA_NAME_MAX)) {
		/* tcp_update_congestion_control(): the new one must have the old one's name */
		EMU_LOG(EMU_LOG_SYS, "struct_ops: %.16s not registered or non-unique key: EINVAL",
			(const char *)n->uvalue + n->data_off + n->name_off);
		err = -EINVAL;
	} else {
		int dfd = emu_refs_lock(link);
		err = dfd < 0 ? dfd : emu_ref_take(dfd, new_fd, new_map);
		if (!err)
			emu_ref_drop(dfd, EMU_KIND_MAP, map_id);
		emu_refs_unlock(dfd);
		if (!err)
			emu_obj_share(new_map);
	}
	emu_obj_put(old);
	return err;
}

/* ---- the registrations as attach points (emu/fire) ---- */

/* One registered map's file entry (in the holder directory dfd): its function members. */
static int each_member(int dfd, const char *entry, __u32 link_id,
		       int (*fn)(const struct emu_attach_point *pt, void *ctx), void *ctx)
{
	unsigned int id, n;
	if (sscanf(entry, "map-%u-%u", &id, &n) != 2)
		return 0;
	int fd = emu_os_openat(dfd, entry, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct stat sb;
	struct emu_obj_hdr h;
	struct so_map m;
	unsigned char *v = NULL;
	int r = 0;
	if (emu_os_fstat(fd, &sb) || pread(fd, &h, sizeof(h), emu_obj_hdr_off(sb.st_size)) != (ssize_t)sizeof(h) ||
	    h.magic != EMU_OBJ_MAGIC || h.kind != EMU_KIND_MAP || h.id != id ||
	    h.map.map_type != BPF_MAP_TYPE_STRUCT_OPS || pread(fd, &m, sizeof(m), 0) != (ssize_t)sizeof(m) ||
	    !(v = malloc(h.map.value_size)) ||
	    pread(fd, v, h.map.value_size, sizeof(m)) != (ssize_t)h.map.value_size)
		goto out;
	const struct btf_type *t = emu_vmlinux_btf_type(m.type_id);
	const char *tname = t ? emu_vmlinux_btf_str(t->name_off) : NULL;
	if (!tname)
		goto out;
	char inst[EMU_OBJ_NAME_LEN + 1], name[256];
	if (m.kind == SO_TCP)
		snprintf(inst, sizeof(inst), "%.16s", (const char *)v + m.data_off + m.name_off);
	else
		snprintf(inst, sizeof(inst), "%.16s", h.name);
	const struct btf_member *mb = members(t);
	for (__u32 i = 0; !r && i < vlen_of(t); i++) {
		__u64 prog;
		const char *mname = emu_vmlinux_btf_str(mb[i].name_off);
		if (!mname || !is_func_ptr(mb[i].type))
			continue;
		memcpy(&prog, v + m.data_off + member_off(t, &mb[i]), 8);
		if (!prog || prog > 0xffffffffull)
			continue;
		snprintf(name, sizeof(name), "%s/%s.%s", tname, inst, mname);
		struct emu_attach_point pt = { .kind = EMU_AT_STRUCT_OPS, .prog_id = (__u32)prog, .link_id = link_id,
					       .attach_type = i, .name = name, .target = id };
		r = fn(&pt, ctx);
	}
out:
	free(v);
	emu_os_close(fd);
	return r;
}

int emu_struct_ops_foreach(int (*fn)(const struct emu_attach_point *pt, void *ctx), void *ctx)
{
	char path[PATH_MAX];
	if (refs_path(path, sizeof(path), ""))
		return 0;
	struct emu_os_dir *d = emu_os_opendir(path, NULL);
	const struct emu_os_dirent *e;
	int r = 0;
	while (d && !r && (e = emu_os_readdir(d))) {
		unsigned int link_id = 0;
		if (strcmp(e->name, "struct_ops") && sscanf(e->name, "link-%u", &link_id) != 1)
			continue;
		if (link_id && !emu_obj_alive(EMU_KIND_LINK, link_id))
			continue;
		int dfd = emu_os_openat(emu_os_dirfd(d), e->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		struct emu_os_dir *sd = dfd >= 0 ? emu_os_opendirat(dfd, ".", NULL) : NULL;
		const struct emu_os_dirent *se;
		while (sd && !r && (se = emu_os_readdir(sd)))
			r = each_member(dfd, se->name, link_id, fn, ctx);
		if (sd)
			emu_os_closedir(sd);
		if (dfd >= 0)
			emu_os_close(dfd);
	}
	if (d)
		emu_os_closedir(d);
	return r;
}

const struct emu_map_ops struct_ops_map_ops = {
	.check_spec = st_check_spec,
	.data_size = st_data_size,
	.init_spec = st_init_spec,
	.mem_usage = st_mem_usage,
	.lookup = st_lookup,
	.update = st_update,
	.delete = st_delete,
	.get_next_key = st_get_next_key,
};
