/* SPDX-License-Identifier: MIT */
/*
 * emu/verifier/kbtf.c: the kernel's own BTF (the host's
 * /sys/kernel/btf/vmlinux, read once), which tracing programs are checked
 * against: the arguments of the traced function or tracepoint
 * (btf_ctx_access), the fields of kernel structs read through them
 * (btf_struct_walk/btf_struct_access), struct ids helpers expect.
 * Without that file these checks are skipped (arguments are plain u64s).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "../os_errno.h"
#include "../perf/perf.h"
#include "../btf.h"

#define MAX_RESOLVE_DEPTH 32

struct kbtf {
	const char *raw;
	size_t size;
	const char *strs;
	__u32 str_len;
	const char *tsec;                /* the type section */
	const __u32 *off;                /* off[id]: type id's offset in it (emu_kernel_btf_offsets(); [0]: void) */
	__u32 nr;
};

static const struct btf_type btf_void;

/* Indexes the kernel's file (emu_kernel_btf_file(): read once per process,
 * shared with the engine's other readers, never freed). */
static struct kbtf *kbtf_load(const char *path)
{
	size_t size;
	const char *buf = emu_kernel_btf_file(path, &size);
	if (!buf)
		return NULL;
	struct kbtf *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->raw = buf;
	b->size = size;
	struct btf_header h;
	if (b->size < sizeof(h))
		goto fail;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != BTF_MAGIC || (size_t)h.hdr_len + h.type_off + h.type_len > b->size ||
	    (size_t)h.hdr_len + h.str_off + h.str_len > b->size)
		goto fail;
	b->strs = buf + h.hdr_len + h.str_off;
	b->str_len = h.str_len;
	b->tsec = buf + h.hdr_len + h.type_off;
	b->off = emu_kernel_btf_offsets(path, &b->nr);
	if (!b->off)
		goto fail;
	return b;
fail:
	free(b);
	return NULL;
}

static struct kbtf *vmlinux;
static pthread_once_t vmlinux_once = PTHREAD_ONCE_INIT;

static void vmlinux_init(void)
{
	vmlinux = kbtf_load("/sys/kernel/btf/vmlinux");
}

const struct kbtf *kbtf_vmlinux(void)
{
	pthread_once(&vmlinux_once, vmlinux_init);
	return vmlinux;
}

const struct btf_type *kbtf_type(const struct kbtf *b, __u32 id)
{
	if (!b || id >= b->nr)
		return NULL;
	return id ? (const struct btf_type *)(b->tsec + b->off[id]) : &btf_void;
}

__u32 kbtf_nr_types(const struct kbtf *b) { return b ? b->nr : 0; }

const char *kbtf_name(const struct kbtf *b, __u32 off)
{
	return b && off < b->str_len ? b->strs + off : "";
}

/* __btf_name_by_offset(): what the kernel's messages call a nameless type or member */
static const char *kbtf_anon_name(const struct kbtf *b, __u32 off)
{
	return off ? kbtf_name(b, off) : "(anon)";
}

const char *kbtf_type_name(const struct kbtf *b, __u32 id)
{
	const struct btf_type *t = kbtf_type(b, id);
	return t ? kbtf_name(b, t->name_off) : "";
}

static __u32 kind(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static bool is_modifier(const struct btf_type *t)
{
	switch (kind(t)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return t != &btf_void;
	default:
		return false;
	}
}
static bool is_struct(const struct btf_type *t)
{
	return t != &btf_void && (kind(t) == BTF_KIND_STRUCT || kind(t) == BTF_KIND_UNION);
}
static bool is_ptr(const struct btf_type *t) { return t != &btf_void && kind(t) == BTF_KIND_PTR; }
static bool is_int(const struct btf_type *t) { return t != &btf_void && kind(t) == BTF_KIND_INT; }
static bool is_array(const struct btf_type *t) { return t != &btf_void && kind(t) == BTF_KIND_ARRAY; }
static bool is_any_enum(const struct btf_type *t)
{
	return t != &btf_void && (kind(t) == BTF_KIND_ENUM || kind(t) == BTF_KIND_ENUM64);
}
static bool is_small_int(const struct btf_type *t) { return is_int(t) && t->size <= 8; }
static bool is_type_tag(const struct btf_type *t) { return t != &btf_void && kind(t) == BTF_KIND_TYPE_TAG; }

const char *kbtf_kind_str(const struct btf_type *t)
{
	static const char *const k[] = { "UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD",
					 "TYPEDEF", "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR",
					 "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64" };
	__u32 n = !t || t == &btf_void ? 0 : kind(t);
	return n < ARRAY_SIZE(k) ? k[n] : "UNKN";
}

const struct btf_type *kbtf_skip_modifiers(const struct kbtf *b, __u32 id, __u32 *res_id)
{
	const struct btf_type *t = kbtf_type(b, id);
	for (int n = 0; t && is_modifier(t) && n < MAX_RESOLVE_DEPTH; n++) {
		id = t->type;
		t = kbtf_type(b, id);
	}
	if (res_id)
		*res_id = id;
	return t;
}

__s32 kbtf_find_by_name_kind(const struct kbtf *b, const char *name, __u32 k)
{
	if (!b)
		return -ENOENT;
	for (__u32 i = 1; i < b->nr; i++) {
		const struct btf_type *t = kbtf_type(b, i);
		if (kind(t) == k && !strcmp(kbtf_name(b, t->name_off), name))
			return (__s32)i;
	}
	return -ENOENT;
}

/* __btf_resolve_size(): the size of a type through modifiers and (nested) arrays */
static const struct btf_type *resolve_size(const struct kbtf *b, const struct btf_type *type, __u32 *type_size,
					   const struct btf_type **elem_type, __u32 *elem_id, __u32 *total_nelems,
					   __u32 *type_id)
{
	const struct btf_type *array_type = NULL;
	__u32 size = 0, nelems = 1, id = 0;

	for (int i = 0; i < MAX_RESOLVE_DEPTH && type; i++) {
		switch (type == &btf_void ? 0 : kind(type)) {
		case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION: case BTF_KIND_ENUM:
		case BTF_KIND_FLOAT: case BTF_KIND_ENUM64:
			size = type->size;
			goto resolved;
		case BTF_KIND_PTR:
			size = 8;
			goto resolved;
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = type->type;
			type = kbtf_type(b, type->type);
			break;
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = (const void *)(type + 1);
			if (!array_type)
				array_type = type;
			if (nelems && a->nelems > UINT32_MAX / nelems)
				return NULL;
			nelems *= a->nelems;
			id = a->type;
			type = kbtf_type(b, a->type);
			break;
		}
		default:
			return NULL;
		}
	}
	return NULL;
resolved:
	if (nelems && size > UINT32_MAX / nelems)
		return NULL;
	*type_size = nelems * size;
	if (total_nelems)
		*total_nelems = nelems;
	if (elem_type)
		*elem_type = type;
	if (elem_id)
		*elem_id = array_type ? id : 0;
	if (type_id && id)
		*type_id = id;
	return array_type ? array_type : type;
}

int kbtf_resolve_size(const struct kbtf *b, __u32 id, __u32 *size)
{
	const struct btf_type *t = resolve_size(b, kbtf_type(b, id), size, NULL, NULL, NULL, NULL);
	return t ? 0 : -EINVAL;
}

enum { WALK_SCALAR = 0, WALK_PTR, WALK_PTR_UNTRUSTED, WALK_STRUCT };

static __u32 member_bit_off(const struct btf_type *t, const struct btf_member *m)
{
	return BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
}
static __u32 member_bitfield_size(const struct btf_type *t, const struct btf_member *m)
{
	return BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BITFIELD_SIZE(m->offset) : 0;
}

/* btf_struct_walk(): what the bytes [off, off + size) of a struct are */
#define KLOG(...) do { if (env) verbose(env, __VA_ARGS__); } while (0)

static int struct_walk(struct venv *env, const struct kbtf *b, const struct btf_type *t, int off, int size,
		       __u32 *next_btf_id, __u32 *flag, const char **field_name)
{
	const struct btf_type *mtype, *elem_type = NULL;
	const char *tname, *mname;
	__u32 msize = 0, total_nelems = 0, elem_id = 0, mid, moff, mtrue_end, vlen;

again:
	if (is_modifier(t))
		t = kbtf_skip_modifiers(b, t->type, NULL);
	if (!t)
		return -EINVAL;
	tname = kbtf_anon_name(b, t->name_off);
	if (!is_struct(t)) {
		KLOG("Type '%s' is not a struct\n", tname);
		return -EINVAL;
	}
	vlen = BTF_INFO_VLEN(t->info);
	if (kind(t) == BTF_KIND_UNION && vlen != 1 && !(*flag & PTR_UNTRUSTED))
		*flag |= PTR_UNTRUSTED;
	const struct btf_member *members = (const void *)(t + 1);
	if ((__u32)(off + size) > t->size) {
		/* a flexible array at the end may take it */
		if (vlen == 0)
			goto error;
		const struct btf_member *last = members + vlen - 1;
		mtype = kbtf_skip_modifiers(b, last->type, NULL);
		if (!mtype || !is_array(mtype))
			goto error;
		const struct btf_array *a = (const void *)(mtype + 1);
		if (a->nelems)
			goto error;
		moff = member_bit_off(t, last) / 8;
		if ((__u32)off < moff)
			goto error;
		t = kbtf_skip_modifiers(b, a->type, NULL);
		if (!t)
			goto error;
		if (is_int(t))
			return WALK_SCALAR;
		if (!is_struct(t) || !t->size)
			goto error;
		off = (int)(((__u32)off - moff) % t->size);
		goto again;
error:
		KLOG("access beyond struct %s at off %u size %u\n", tname, off, size);
		return -EACCES;
	}
	for (__u32 i = 0; i < vlen; i++) {
		const struct btf_member *m = &members[i];
		moff = member_bit_off(t, m) / 8;
		if ((__u32)(off + size) <= moff)
			break;
		if (member_bitfield_size(t, m)) {
			__u32 end_bit = member_bit_off(t, m) + member_bitfield_size(t, m);
			if ((__u32)off <= moff && (end_bit + 7) / 8 <= (__u32)(off + size))
				return WALK_SCALAR;
			continue;
		}
		if ((__u32)off < moff)
			break;
		mid = m->type;
		mname = kbtf_anon_name(b, m->name_off);
		mtype = resolve_size(b, kbtf_type(b, m->type), &msize, &elem_type, &elem_id, &total_nelems, &mid);
		if (!mtype) {
			KLOG("field %s doesn't have size\n", mname);
			return -EFAULT;
		}
		mtrue_end = moff + msize;
		if ((__u32)off >= mtrue_end)
			continue;
		if (is_array(mtype)) {
			if (moff == mtrue_end)
				continue;
			msize /= total_nelems;
			moff += ((__u32)off - moff) / msize * msize;
			mtype = elem_type;
			mid = elem_id;
		}
		if (is_struct(mtype)) {
			t = mtype;
			if ((__u32)off == moff) {
				*next_btf_id = mid;
				return WALK_STRUCT;
			}
			off -= (int)moff;
			goto again;
		}
		if (is_ptr(mtype)) {
			__u32 tmp_flag = 0, id;
			if (msize != (__u32)size || (__u32)off != moff) {
				KLOG("cannot access ptr member %s with moff %u in struct %s with off %u size %u\n",
					mname, moff, tname, off, size);
				return -EACCES;
			}
			const struct btf_type *tt = kbtf_type(b, mtype->type);
			if (tt && is_type_tag(tt) && !BTF_INFO_KFLAG(tt->info)) {
				const char *tag = kbtf_name(b, tt->name_off);
				if (!strcmp(tag, "user"))
					tmp_flag = MEM_USER;
				if (!strcmp(tag, "percpu"))
					tmp_flag = MEM_PERCPU;
				if (!strcmp(tag, "rcu"))
					tmp_flag = MEM_RCU;
			}
			const struct btf_type *st = kbtf_skip_modifiers(b, mtype->type, &id);
			if (st && is_struct(st)) {
				*next_btf_id = id;
				*flag |= tmp_flag;
				if (field_name)
					*field_name = mname;
				return WALK_PTR;
			}
			return WALK_PTR_UNTRUSTED;
		}
		if ((__u32)(off + size) > mtrue_end && !(*flag & PTR_UNTRUSTED)) {
			KLOG("access beyond the end of member %s (mend:%u) in struct %s with off %u size %u\n",
				mname, mtrue_end, tname, off, size);
			return -EACCES;
		}
		return WALK_SCALAR;
	}
	KLOG("struct %s doesn't have field at offset %d\n", tname, off);
	return -EINVAL;
}

int kbtf_struct_access(struct venv *env, const struct vreg *reg, int off, int size, int atype, __u32 *next_id,
		       __u32 *flag, const char **field_name)
{
	const struct kbtf *b = reg->btf;
	__u32 id = reg->btf_id, tmp_flag = 0;
	const struct btf_type *t = kbtf_type(b, id);
	(void)atype;
	while (t) {
		int err = struct_walk(env, b, t, off, size, &id, &tmp_flag, field_name);
		switch (err) {
		case WALK_PTR:
			*next_id = id;
			*flag = tmp_flag;
			return PTR_TO_BTF_ID;
		case WALK_PTR_UNTRUSTED:
			*flag = MEM_RDONLY | PTR_UNTRUSTED;
			return PTR_TO_MEM;
		case WALK_SCALAR:
			return SCALAR_VALUE;
		case WALK_STRUCT:
			t = kbtf_type(b, id);
			off = 0;
			break;
		default:
			return err;
		}
	}
	return -EINVAL;
}

bool kbtf_struct_ids_match(const struct kbtf *b, __u32 id, int off, __u32 need_id, bool strict)
{
	__u32 flag = 0;
	if (off == 0 && id == need_id)
		return true;
	if (strict)
		return false;
	for (int n = 0; n < 64; n++) {
		const struct btf_type *t = kbtf_type(b, id);
		if (!t)
			return false;
		/* a walk that logs nothing: the answer is only whether a struct starts there */
		if (struct_walk(NULL, b, t, off, 1, &id, &flag, NULL) != WALK_STRUCT)
			return false;
		if (id == need_id)
			return true;
		off = 0;
	}
	return false;
}

/* ---- the context of tracing programs: the target's arguments (btf_ctx_access) ---- */

static const struct {
	const char *func;
	__u64 mask;
} raw_tp_null_args[] = {
	{ "sched_pi_setprio", 0x10 }, { "sched_stick_numa", 0x100 }, { "sched_swap_numa", 0x100 },
	{ "afs_make_fs_call", 0x10 }, { "afs_make_fs_calli", 0x10 }, { "afs_make_fs_call1", 0x10 },
	{ "afs_make_fs_call2", 0x10 }, { "afs_protocol_error", 0x1 }, { "afs_flock_ev", 0x10 },
	{ "cachefiles_lookup", 0x1 | 0x200 }, { "cachefiles_unlink", 0x1 }, { "cachefiles_rename", 0x1 },
	{ "cachefiles_prep_read", 0x1 }, { "cachefiles_mark_active", 0x1 }, { "cachefiles_mark_failed", 0x1 },
	{ "cachefiles_mark_inactive", 0x1 }, { "cachefiles_vfs_error", 0x1 }, { "cachefiles_io_error", 0x1 },
	{ "cachefiles_ondemand_open", 0x1 }, { "cachefiles_ondemand_copen", 0x1 },
	{ "cachefiles_ondemand_close", 0x1 }, { "cachefiles_ondemand_read", 0x1 },
	{ "cachefiles_ondemand_cread", 0x1 }, { "cachefiles_ondemand_fd_write", 0x1 },
	{ "cachefiles_ondemand_fd_release", 0x1 }, { "ext4_mballoc_discard", 0x10 }, { "ext4_mballoc_free", 0x10 },
	{ "fib_table_lookup", 0x100 }, { "posix_lock_inode", 0x10 }, { "fcntl_setlk", 0x10 },
	{ "locks_remove_posix", 0x10 }, { "flock_lock_inode", 0x10 }, { "break_lease_noblock", 0x10 },
	{ "break_lease_block", 0x10 }, { "break_lease_unblock", 0x10 }, { "generic_delete_lease", 0x10 },
	{ "time_out_leases", 0x10 }, { "host1x_cdma_push_gather", 0x10000 }, { "mm_khugepaged_scan_pmd", 0x10 },
	{ "mm_collapse_huge_page_isolate", 0x1 }, { "mm_khugepaged_scan_file", 0x10 },
	{ "mm_khugepaged_collapse_file", 0x10 }, { "mm_page_alloc", 0x1 }, { "mm_page_pcpu_drain", 0x1 },
	{ "mm_page_alloc_zone_locked", 0x1 }, { "netfs_failure", 0x10 }, { "device_pm_callback_start", 0x10 },
	{ "qdisc_dequeue", 0x1000 }, { "rxrpc_recvdata", 0x1 }, { "rxrpc_resend", 0x10 }, { "rxrpc_tq", 0x10 },
	{ "rxrpc_client", 0x1 }, { "kfree_skb", 0x1000 }, { "xs_stream_read_data", 0x1 },
	{ "xprt_reserve_cong", 0x10 }, { "xprt_release_cong", 0x10 }, { "xprt_get_cong", 0x10 },
	{ "xprt_put_cong", 0x10 }, { "tcp_send_reset", 0x11 }, { "tcp_sendmsg_locked", 0x100 },
	{ "tegra_dma_tx_status", 0x100 }, { "tmigr_update_events", 0x1 }, { "writeback_dirty_folio", 0x10 },
	{ "folio_wait_writeback", 0x10 }, { "mr_integ_alloc", 0x2000 }, { "bpf_testmod_test_read", 0x0 },
	{ "amdgpu_vm_bo_map", 0x1 }, { "amdgpu_vm_bo_unmap", 0x1 }, { "netfs_folioq", 0x1 },
	{ "xfs_defer_create_intent", 0x1 }, { "xfs_defer_cancel_list", 0x1 }, { "xfs_defer_pending_finish", 0x1 },
	{ "xfs_defer_pending_abort", 0x1 }, { "xfs_defer_relog_intent", 0x1 }, { "xfs_defer_isolate_paused", 0x1 },
	{ "xfs_defer_item_pause", 0x1 }, { "xfs_defer_item_unpause", 0x1 }, { "xfs_defer_add_item", 0x1 },
	{ "xfs_defer_cancel_item", 0x1 }, { "xfs_defer_finish_item", 0x1 }, { "xfs_ioc_free_eofblocks", 0x10 },
	{ "xfs_blockgc_free_space", 0x10 }, { "xfs_btree_updkeys", 0x100 },
	{ "xfs_btree_overlapped_query_range", 0x100 }, { "xfs_map_blocks_found", 0x10000 },
	{ "xfs_map_blocks_alloc", 0x10000 }, { "xfs_iomap_alloc", 0x1000 }, { "xfs_iomap_found", 0x1000 },
	{ "xfs_inodegc_flush", 0x1 }, { "xfs_inodegc_push", 0x1 }, { "xfs_inodegc_start", 0x1 },
	{ "xfs_inodegc_stop", 0x1 }, { "xfs_inodegc_queue", 0x1 }, { "xfs_inodegc_throttle", 0x1 },
	{ "xfs_fs_sync_fs", 0x1 }, { "xfs_blockgc_start", 0x1 }, { "xfs_blockgc_stop", 0x1 },
	{ "xfs_blockgc_worker", 0x1 }, { "xfs_blockgc_flush_all", 0x1 }, { "xchk_nlinks_live_update", 0x10 },
	{ "xchk_metapath_lookup", 0x100 }, { "nfsd_dirent", 0x1 }, { "nfsd_file_acquire", 0x1001 },
	{ "nfsd_file_insert_err", 0x1 }, { "nfsd_file_cons_err", 0x1 }, { "nfs4_setup_sequence", 0x1 },
	{ "pnfs_update_layout", 0x10000 }, { "nfs4_inode_callback_event", 0x200 },
	{ "nfs4_inode_stateid_callback_event", 0x200 }, { "pnfs_mds_fallback_pg_init_read", 0x10000 },
	{ "pnfs_mds_fallback_pg_init_write", 0x10000 }, { "pnfs_mds_fallback_pg_get_mirror_count", 0x10000 },
	{ "pnfs_mds_fallback_read_done", 0x10000 }, { "pnfs_mds_fallback_write_done", 0x10000 },
	{ "pnfs_mds_fallback_read_pagelist", 0x10000 }, { "pnfs_mds_fallback_write_pagelist", 0x10000 },
	{ "coda_dec_pic_run", 0x10 }, { "coda_dec_pic_done", 0x10 }, { "cfg80211_scan_done", 0x11 },
	{ "rdev_set_coalesce", 0x10 }, { "cfg80211_report_wowlan_wakeup", 0x100 },
	{ "cfg80211_inform_bss_frame", 0x100 }, { "cfg80211_michael_mic_failure", 0x10000 },
	{ "wiphy_work_queue", 0x10 }, { "wiphy_work_run", 0x10 }, { "wiphy_work_cancel", 0x10 },
	{ "wiphy_work_flush", 0x10 }, { "hugetlbfs_alloc_inode", 0x10 }, { "spufs_context", 0x10 },
	{ "kvm_page_fault_enter", 0x100 }, { "dpu_crtc_setup_mixer", 0x100 }, { "binder_transaction", 0x100 },
	{ "btree_path_free", 0x100 }, { "hfi1_sdma_progress", 0x1000 }, { "iptfs_ingress_postq_event", 0x1000 },
	{ "neigh_update", 0x10 }, { "amdtp_packet", 0x100 },
};

/* btf_ctx_arg_idx(): which argument the byte off of the context is in */
static __u32 ctx_arg_idx(const struct kbtf *b, const struct btf_type *proto, int off)
{
	if (!proto)
		return (__u32)off / 8;
	__u32 nr = BTF_INFO_VLEN(proto->info), offset = 0;
	const struct btf_param *args = (const void *)(proto + 1);
	for (__u32 i = 0; i < nr; i++) {
		const struct btf_type *t = kbtf_skip_modifiers(b, args[i].type, NULL);
		offset += t && is_ptr(t) ? 8 : ((t ? t->size : 8) + 7) / 8 * 8;
		if ((__u32)off < offset)
			return i;
	}
	const struct btf_type *t = kbtf_skip_modifiers(b, proto->type, NULL);
	offset += t && is_ptr(t) ? 8 : ((t ? t->size : 8) + 7) / 8 * 8;
	if ((__u32)off < offset)
		return nr;
	return nr + 1;
}

static bool args_trusted(const struct venv *env)
{
	switch (env->prog_type) {
	case BPF_PROG_TYPE_TRACING:
		return env->expected_attach_type == BPF_TRACE_RAW_TP || env->expected_attach_type == BPF_TRACE_ITER;
	case BPF_PROG_TYPE_STRUCT_OPS:
		return true;
	default:
		return false;
	}
}

bool kbtf_ctx_access(struct venv *env, int off, int size, int type, struct ctx_access_info *info)
{
	const struct kbtf *b = env->kbtf;
	const struct btf_type *t = env->attach_func_proto ? kbtf_type(b, env->attach_func_proto) : NULL;
	const char *tname = env->attach_func_name ? env->attach_func_name : "";
	bool ptr_err_raw_tp = false;
	(void)type;

	if (off % 8) {
		verbose(env, "func '%s' offset %d is not multiple of 8\n", tname, off);
		return false;
	}
	__u32 arg = ctx_arg_idx(b, t, off);
	const struct btf_param *args = t ? (const void *)(t + 1) : NULL;
	__u32 nr_args = t ? BTF_INFO_VLEN(t->info) : MAX_BPF_FUNC_REG_ARGS;
	if (env->attach_btf_trace) {
		args++;
		nr_args--;
	}
	if (arg > nr_args) {
		verbose(env, "func '%s' doesn't have %d-th argument\n", tname, arg + 1);
		return false;
	}
	if (arg == nr_args) {
		switch (env->expected_attach_type) {
		case BPF_LSM_MAC:
			info->is_retval = true;
			/* fall through */
		case BPF_LSM_CGROUP: case BPF_TRACE_FEXIT:
			if (!t)
				return true;
			t = kbtf_type(b, t->type);
			break;
		case BPF_MODIFY_RETURN:
			if (!t)
				return false;
			t = kbtf_skip_modifiers(b, t->type, NULL);
			if (!t || !is_small_int(t)) {
				verbose(env, "ret type %s not allowed for fmod_ret\n", t ? kbtf_kind_str(t) : "UNKN");
				return false;
			}
			break;
		default:
			verbose(env, "func '%s' doesn't have %d-th argument\n", tname, arg + 1);
			return false;
		}
	} else {
		if (!t)
			return true;
		t = kbtf_type(b, args[arg].type);
	}
	while (t && is_modifier(t))
		t = kbtf_type(b, t->type);
	if (!t)
		return false;
	if (is_small_int(t) || is_any_enum(t) || is_struct(t))
		return true;
	if (!is_ptr(t)) {
		verbose(env, "func '%s' arg%d '%s' has type %s. Only pointer access is allowed\n", tname, arg,
			kbtf_name(b, t->name_off), kbtf_kind_str(t));
		return false;
	}
	if (size != 8) {
		verbose(env, "func '%s' size %d must be 8\n", tname, size);
		return false;
	}
	/* a pointer to void or an int is a scalar too */
	const struct btf_type *pt = kbtf_skip_modifiers(b, t->type, NULL);
	if (!pt || pt == &btf_void || is_int(pt))
		return true;

	info->reg_type = PTR_TO_BTF_ID;
	if (args_trusted(env))
		info->reg_type |= PTR_TRUSTED;
	if (arg < nr_args) {
		const char *pname = kbtf_name(b, args[arg].name_off);
		size_t pl = strlen(pname);
		if (pl >= 10 && !strcmp(pname + pl - 10, "__nullable"))
			info->reg_type |= PTR_MAYBE_NULL;
	}
	if (env->expected_attach_type == BPF_TRACE_RAW_TP && env->attach_tp_name) {
		for (size_t i = 0; i < ARRAY_SIZE(raw_tp_null_args); i++) {
			if (strcmp(env->attach_tp_name, raw_tp_null_args[i].func))
				continue;
			if (raw_tp_null_args[i].mask & (0x1ull << (arg * 4)))
				info->reg_type |= PTR_MAYBE_NULL;
			if (raw_tp_null_args[i].mask & (0x2ull << (arg * 4)))
				ptr_err_raw_tp = true;
			break;
		}
	}
	info->btf = b;
	info->btf_id = t->type;
	t = kbtf_type(b, t->type);
	if (t && is_type_tag(t) && !BTF_INFO_KFLAG(t->info)) {
		const char *tag = kbtf_name(b, t->name_off);
		if (!strcmp(tag, "user"))
			info->reg_type |= MEM_USER;
		if (!strcmp(tag, "percpu"))
			info->reg_type |= MEM_PERCPU;
	}
	while (t && is_modifier(t)) {
		info->btf_id = t->type;
		t = kbtf_type(b, t->type);
	}
	if (!t || !is_struct(t)) {
		verbose(env, "func '%s' arg%d type %s is not a struct\n", tname, arg, t ? kbtf_kind_str(t) : "UNKN");
		return false;
	}
	verbose(env, "func '%s' arg%d has btf_id %d type %s '%s'\n", tname, arg, info->btf_id, kbtf_kind_str(t),
		kbtf_name(b, t->name_off));
	if (ptr_err_raw_tp) {
		verbose(env, "marking pointer arg%d as scalar as it may encode error", arg);
		info->reg_type = SCALAR_VALUE;
	}
	return true;
}

/* ---- the kernel's symbol table (kallsyms_lookup_name): emu/perf's reader ---- */

/* Whether the kernel's symbol table names it; true when it cannot be read. */
bool kallsyms_has(const char *name)
{
	return emu_kallsyms_has(name) != 0;
}
