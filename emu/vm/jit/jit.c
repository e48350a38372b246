/* SPDX-License-Identifier: MIT */
/*
 * emu/vm/jit/jit.c: the JIT's life cycle and what its code calls.
 *
 * vm_jit_compile() runs once per decoded program, at its first run
 * (decode.c, under the decode lock, before runners see the code; a program
 * loaded and dropped unrun, as feature probes and loaders do, is never
 * compiled; whether the JIT is on is decided when it is decoded, at load):
 * the code generator (x86_64.c)
 * builds the image in ordinary memory, which is copied into a fresh anonymous
 * mapping that is then made read + execute. The mapping is never writable and
 * executable at once (W^X); a host that refuses PROT_EXEC (SELinux execmem,
 * PaX MPROTECT) leaves the program to the interpreter, with a BPFEMU_LOG=vm
 * line.
 *
 * BPFEMU_JIT: unset or 1: on (where the JIT is built: x86-64); 0: off, the
 * interpreter runs every program. BPFEMU_JIT_DUMP=DIR: each program's code
 * is also written to DIR/<id>-<name>.bin (objdump -D -b binary -m
 * i386:x86-64 shows it; the trampoline and shared routines come first).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit.h"
#include "../../os_errno.h"

static int override = -1;

bool vm_jit_enabled(void)
{
#if defined(__x86_64__)
	int o = __atomic_load_n(&override, __ATOMIC_RELAXED);
	if (o >= 0)
		return o;
	static int env = -1;
	int e = __atomic_load_n(&env, __ATOMIC_RELAXED);
	if (e < 0) {
		const char *v = getenv("BPFEMU_JIT");
		e = !(v && !strcmp(v, "0"));
		__atomic_store_n(&env, e, __ATOMIC_RELAXED);
	}
	return e;
#else
	return false;
#endif
}

void vm_jit_override(int on)
{
	__atomic_store_n(&override, on < 0 ? -1 : !!on, __ATOMIC_RELAXED);
}

static void dump(const struct vm_prog *p, const unsigned char *code, size_t len)
{
	const char *dir = getenv("BPFEMU_JIT_DUMP");
	char path[4096];
	if (!dir || !*dir || snprintf(path, sizeof(path), "%s/%u-%s.bin", dir, p->id, p->name) >= (int)sizeof(path))
		return;
	int fd = emu_oe_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	for (size_t off = 0; off < len;) {
		ssize_t n = emu_oe_write(fd, code + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	emu_oe_close(fd);
}

void vm_jit_compile(struct vm_prog *p)
{
	if (!p->jit_wanted || p->not_runnable)
		return;
	unsigned char *code = NULL;
	size_t len = 0, enter_off = 0;
	__u32 *offs = NULL;
	int err = vm_jit_emit(p, &code, &len, &offs, &enter_off);
	if (err) {
		EMU_LOG(EMU_LOG_VM, "prog '%s' (id %u): not compiled (%s): the interpreter runs it", p->name, p->id,
			strerror(-err));
		return;
	}
	long pg = sysconf(_SC_PAGESIZE);
	size_t size = (len + (size_t)pg - 1) & ~((size_t)pg - 1);
	struct vm_jit *j = calloc(1, sizeof(*j));
	void *img = emu_oe_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!j || img == MAP_FAILED) {
		err = ENOMEM;
		goto fail;
	}
	memcpy(img, code, len);
	dump(p, code, len);
	memset((unsigned char *)img + len, 0xcc, size - len);        /* int3 after the code */
	if (mprotect(img, size, PROT_READ | PROT_EXEC)) {
		err = errno;
		emu_oe_munmap(img, size);
		img = MAP_FAILED;
		goto fail;
	}
	free(code);
	j->image = img;
	j->size = size;
	j->offs = offs;
	j->nr = p->nr_insns + 1;
	j->enter = (__typeof__(j->enter))(void *)(j->image + enter_off);
	j->entry0 = j->image + offs[p->funcs[0].entry - p->insns];
	p->jit = j;
	return;
fail:
	EMU_LOG(EMU_LOG_VM, "prog '%s' (id %u): no executable memory for its code (%s): the interpreter runs it",
		p->name, p->id, strerror(err));
	if (img != MAP_FAILED)
		emu_oe_munmap(img, size);
	free(j);
	free(code);
	free(offs);
}

void vm_jit_free(struct vm_jit *j)
{
	if (!j)
		return;
	emu_oe_munmap(j->image, j->size);
	free(j->offs);
	free(j);
}

__u64 vm_jit_exec(struct vm_run *run, const struct vm_insn *entry, __u64 r1, __u64 r2, __u64 r3, __u64 r4,
		  __u64 r5)
{
	const struct vm_prog *p = run->prog;
	const struct vm_jit *j = p->jit;
	const void *code = j->image + j->offs[entry - p->insns];
	return j->enter(run, code, r1, r2, r3, r4, r5, run->stack_top - (__u64)run->depth * VM_STACK_SIZE);
}

/* ---- called by generated code ---- */

/* bpf_map_lookup_elem() on a map the load step proved R1 holds (the map
 * handle m): arrays here, the rest through the helper. The same checks,
 * regions and answers as vm_h_map_lookup_elem(). */
__u64 vm_jit_map_lookup(struct vm_run *run, struct vm_map *m, __u64 key)
{
	char *v;
	if (m->values) {                                  /* ARRAY, PERCPU_ARRAY */
		if (!vm_cache_ok(run, key, 4, VM_RD) && vm_mem_arg(run, key, 4, VM_RD, "bpf_map_lookup_elem"))
			return 0;
		__u32 idx;
		memcpy(&idx, (const void *)(uintptr_t)key, 4);
		if (idx >= m->max_entries)
			return 0;
		v = m->values + (size_t)idx * m->elem;
		if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY)
			v += (size_t)run->cpu * m->slot;
	} else if ((m->type == BPF_MAP_TYPE_HASH || m->type == BPF_MAP_TYPE_PERCPU_HASH ||
		    m->type == BPF_MAP_TYPE_LRU_HASH || m->type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
		    m->type == BPF_MAP_TYPE_LPM_TRIE) && m->ops->prog_lookup) {
		if (!vm_cache_ok(run, key, m->key_size, VM_RD) &&
		    vm_mem_arg(run, key, m->key_size, VM_RD, "bpf_map_lookup_elem"))
			return 0;
		v = m->ops->prog_lookup(m->obj, (const void *)(uintptr_t)key, run->cpu);
		if (!v)
			return 0;
	} else {                                          /* maps of maps, refusals: the helper */
		run->map_hint = (__u64)(uintptr_t)m;
		return vm_h_map_lookup_elem(run, (__u64)(uintptr_t)m, key, 0, 0, 0);
	}
	__u32 perm = (m->readable ? VM_RD : 0) | (m->writable ? VM_WR : 0);
	int err = vm_region_add(run, (__u64)(uintptr_t)v, m->value_size, perm, VM_R_MAPVAL, m);
	if (err) {
		vm_fault(run, err, "no memory to track a map value");
		return 0;
	}
	return (__u64)(uintptr_t)v;
}

/* a tail call into a program without code: the interpreter runs it in this frame */
__u64 vm_jit_tail_interp(struct vm_run *run, __u64 r1, __u64 r2, __u64 r3, __u64 r4, __u64 r5)
{
	return vm_exec(run, run->prog->funcs[0].entry, r1, r2, r3, r4, r5);
}

/* LD_ABS / LD_IND: status 0: val is R0; 1: the function returns 0; run->err: the run ends */
struct vm_jit_pair vm_jit_ld_pkt(struct vm_run *run, const struct vm_insn *pc, __u64 off)
{
	static const __u8 size[] = {
		[VM_OP_LD_ABS_B] = 1, [VM_OP_LD_ABS_H] = 2, [VM_OP_LD_ABS_W] = 4,
		[VM_OP_LD_IND_B] = 1, [VM_OP_LD_IND_H] = 2, [VM_OP_LD_IND_W] = 4,
	};
	__u32 v = 0;
	run->fault_insn = pc->idx;
	if (vm_ld_pkt(run, (__s32)off, size[pc->op], &v))
		return (struct vm_jit_pair){ 0, 1 };
	return (struct vm_jit_pair){ v, 0 };
}

/* the run ends here, as the interpreter's blocks end it */
void vm_jit_fault(struct vm_run *run, const struct vm_insn *pc, __u64 kind, __u64 addr)
{
	run->fault_insn = pc->idx;
	switch (kind) {
	case VM_JIT_F_DEPTH:
		vm_fault(run, -E2BIG, "the call stack of %u frames is too deep", run->depth + 2);
		break;
	case VM_JIT_F_ALIGN: {
		unsigned n = 8;
		switch (pc->op) {
		case VM_OP_LDACQ_H: case VM_OP_STREL_H: n = 2; break;
		case VM_OP_LDACQ_W: case VM_OP_STREL_W: n = 4; break;
		case VM_OP_LDACQ_DW: case VM_OP_STREL_DW: n = 8; break;
		default: n = pc->op >= VM_OP_AADD32 && pc->op <= VM_OP_ACMPXCHG32 ? 4 : 8;
		}
		vm_fault(run, -EFAULT, "misaligned atomic access of %u bytes at %#llx", n, (unsigned long long)addr);
		break;
	}
	case VM_JIT_F_LOCK:
		vm_fault(run, -EINVAL, "helper calls are not allowed while holding a bpf_spin_lock");
		break;
	default:
		if (pc->op == VM_OP_CALL_MISSING)
			vm_fault(run, -EOPNOTSUPP, "calls helper %s#%d, which bpfemu does not emulate",
				 vm_helper_name(pc->imm), pc->imm);
		else
			vm_fault(run, pc->imm ? pc->imm : -EOPNOTSUPP, "%s", pc->why);
	}
}
