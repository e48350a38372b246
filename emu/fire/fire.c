/* SPDX-License-Identifier: MIT */
/*
 * emu/fire/fire.c: firing an event: what is attached to it, the context each
 * program type sees, the runs.
 *
 * Which programs an event runs, as on the kernel:
 *
 *   tracepoint:CAT:NAME  tracepoint programs on CAT/NAME (perf links and
 *                        PERF_EVENT_IOC_SET_BPF), and raw_tp and tp_btf
 *                        programs on NAME when the kernel has that raw
 *                        tracepoint (btf_trace_NAME)
 *   raw_tracepoint:NAME  raw_tp and tp_btf programs on NAME
 *   kprobe:FUNC[+OFF]    kprobes (perf links, kprobe.multi) on FUNC at OFF
 *                        (default 0), and at offset 0 fentry and fmod_ret
 *                        programs on FUNC: entering the function
 *   kretprobe:FUNC       kretprobes and fexit programs: its return
 *   uprobe:PATH:SYM|OFF  uprobes on that file and offset (uretprobe: returns)
 *   lsm:HOOK             lsm programs on bpf_lsm_HOOK
 *   struct_ops:TYPE/NAME.MEMBER
 *                        the program in MEMBER of a registered struct_ops
 *                        map of TYPE (NAME: a tcp_congestion_ops' name,
 *                        otherwise the map's), e.g.
 *                        struct_ops:tcp_congestion_ops/cubic2.ssthresh
 *
 * fentry: and fexit: are the same events as kprobe: and kretprobe:.
 *
 * The contexts: a tracepoint program gets the record (the format's fields,
 * PERF_MAX_TRACE_SIZE bytes, the rest zero); raw_tp and tp_btf programs the
 * raw tracepoint's arguments as u64s; fentry/fexit/fmod_ret and lsm
 * programs the function's arguments as u64s (fexit: then its return value);
 * struct_ops programs the member's arguments as u64s;
 * kprobe and uprobe programs an x86-64 struct pt_regs with the arguments in
 * di, si, dx, cx, r8, r9 (kretprobe: the return value in ax). Arguments that
 * point to kernel structures point to objects in the event's kernel memory,
 * zero unless given (prev.pid=42); the event's task has a task_struct there
 * too (bpf_get_current_task, current.FIELD=...).
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fire_int.h"
#include "../os_errno.h"
#include "../link.h"

#define PERF_MAX_TRACE_SIZE 8192u
#define MAX_ARGS 12u
#define KMEM_SIZE (64u << 20)
#define UMEM_SIZE (16u << 20)
/* the rings' places within the fixed area every firing process maps them in (emu/fire/mem.c) */
#define KMEM_ADDR 0x0ull
#define UMEM_ADDR 0x100000000ull
#define MAX_STACK 127u

/* x86-64 struct pt_regs (arch/x86/include/asm/ptrace.h, as bpf_tracing.h reads it) */
static const struct {
	const char *name;
	__u32 off;
} regs_x86[] = {
	{ "r15", 0 }, { "r14", 8 }, { "r13", 16 }, { "r12", 24 }, { "bp", 32 }, { "bx", 40 }, { "r11", 48 },
	{ "r10", 56 }, { "r9", 64 }, { "r8", 72 }, { "ax", 80 }, { "cx", 88 }, { "dx", 96 }, { "si", 104 },
	{ "di", 112 }, { "orig_ax", 120 }, { "ip", 128 }, { "cs", 136 }, { "flags", 144 }, { "sp", 152 },
	{ "ss", 160 },
};
#define PT_REGS_SIZE 168u
static const __u32 arg_regs[6] = { 112, 104, 96, 88, 72, 64 };   /* di si dx cx r8 r9 */
#define REG_AX 80u
#define REG_IP 128u

enum fire_kind { FK_TP, FK_RAW_TP, FK_ENTRY, FK_EXIT, FK_UPROBE, FK_URETPROBE, FK_LSM, FK_STRUCT_OPS };

struct assign {
	char *name;                    /* without @user/@kernel */
	char *value;
	int space;                     /* 0 default, 1 user, 2 kernel */
	bool used;
};

struct fire_req {
	enum fire_kind kind;
	char cat[64], name[256];
	char path[PATH_MAX];           /* uprobes: the file */
	__u64 offset;                  /* kprobe offset, uprobe file offset */
	char sym[256];                 /* uprobes: the symbol (empty: an offset was given) */
	struct assign *a;
	__u32 na;
	/* options */
	bool pid_set, tid_set, uid_set, gid_set, ppid_set, cpu_set, time_set, comm_set, cgroup_set, ip_set;
	__u32 pid, tid, uid, gid, ppid, cpu, count;
	__u64 time, ip;
	char comm[16];
	char cgroup[256];
	__u64 kstack[MAX_STACK], ustack[MAX_STACK];
	__u32 nr_kstack, nr_ustack;
};

/* ---- attach points and programs, cached by the registry's generation ---- */

struct point {
	enum emu_attach_kind kind;
	__u32 prog_id, attach_type;
	char *name;
	__u64 offset, cookie, target;
};

struct prog {
	__u32 id, type, eat;
	struct emu_obj *obj;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool valid;
	__u64 gen;
	char root[PATH_MAX];
	struct point *pts;
	__u32 nr_pts, cap_pts;
	struct prog *progs;
	__u32 nr_progs;
} cache;

static struct fire_world world;

static void cache_drop_points(void)
{
	for (__u32 i = 0; i < cache.nr_pts; i++)
		free(cache.pts[i].name);
	cache.nr_pts = 0;
}

static int collect(const struct emu_attach_point *pt, void *ctx)
{
	(void)ctx;
	switch (pt->kind) {
	case EMU_AT_TRACEPOINT: case EMU_AT_RAW_TP: case EMU_AT_KPROBE: case EMU_AT_KRETPROBE:
	case EMU_AT_UPROBE: case EMU_AT_URETPROBE: case EMU_AT_FENTRY: case EMU_AT_FEXIT: case EMU_AT_FMOD_RET:
	case EMU_AT_LSM: case EMU_AT_STRUCT_OPS:
		break;
	default:
		return 0;                      /* not an event firing reaches */
	}
	if (cache.nr_pts == cache.cap_pts) {
		__u32 cap = cache.cap_pts ? cache.cap_pts * 2 : 32;
		struct point *n = realloc(cache.pts, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		cache.pts = n;
		cache.cap_pts = cap;
	}
	struct point *p = &cache.pts[cache.nr_pts];
	*p = (struct point){ .kind = pt->kind, .prog_id = pt->prog_id, .attach_type = pt->attach_type,
			     .offset = pt->offset, .cookie = pt->cookie, .target = pt->target };
	p->name = pt->name ? strdup(pt->name) : NULL;
	if (pt->name && !p->name)
		return -ENOMEM;
	cache.nr_pts++;
	return 0;
}

static void prog_put_all(void)
{
	for (__u32 i = 0; i < cache.nr_progs; i++)
		if (cache.progs[i].obj)
			emu_obj_put(cache.progs[i].obj);
	free(cache.progs);
	cache.progs = NULL;
	cache.nr_progs = 0;
}

static int prog_open(__u32 id, const char *path, void *ctx);

/* The registry's points (re-read when something was attached or detached). */
static int points_refresh(void)
{
	__u64 gen = emu_attach_generation();
	if (cache.valid && gen == cache.gen && !strcmp(cache.root, emu_config()->root))
		return 0;
	cache_drop_points();
	prog_put_all();
	int err = emu_attach_foreach(collect, NULL);
	if (err >= 0 && cache.nr_pts)
		err = emu_obj_foreach(EMU_KIND_PROG, prog_open, NULL);
	if (err < 0) {
		cache_drop_points();
		prog_put_all();
		cache.valid = false;
		return err;
	}
	cache.valid = true;
	cache.gen = gen;
	snprintf(cache.root, sizeof(cache.root), "%s", emu_config()->root);
	return 0;
}

/* The attached programs: opened once per refresh, from one scan of the live programs. */
static int prog_open(__u32 id, const char *path, void *ctx)
{
	(void)ctx;
	bool wanted = false;
	for (__u32 i = 0; i < cache.nr_pts && !wanted; i++)
		wanted = cache.pts[i].prog_id == id;
	if (!wanted)
		return 0;
	int fd = emu_oe_open3(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
	if (fd < 0)
		return 0;                          /* gone meanwhile */
	struct emu_obj *obj;
	int acc, err = emu_fd_get_local(fd, EMU_KIND_PROG, &obj, &acc);
	emu_fd_closed(fd);
	emu_oe_close(fd);
	if (err)
		return 0;
	if (obj->hdr->id != id) {
		emu_obj_put(obj);
		return 0;
	}
	struct prog *n = realloc(cache.progs, (cache.nr_progs + 1) * sizeof(*n));
	if (!n) {
		emu_obj_put(obj);
		return -ENOMEM;
	}
	cache.progs = n;
	struct prog *p = &n[cache.nr_progs++];
	p->id = id;
	p->obj = obj;
	p->type = obj->hdr->prog.prog_type;
	p->eat = obj->hdr->prog.expected_attach_type;
	return 0;
}

/* A program of the cache by id (a reference held until the next refresh). */
static struct prog *prog_get(__u32 id)
{
	for (__u32 i = 0; i < cache.nr_progs; i++)
		if (cache.progs[i].id == id)
			return &cache.progs[i];
	return NULL;
}

/* ---- kernel symbols ---- */

static __u64 fnv64(const char *s)
{
	__u64 h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* The function's address from /proc/kallsyms (0 when hidden from this user or absent). */
static __u64 kallsyms_addr(const char *name)
{
	static char last[256];
	static __u64 last_addr;
	if (!strcmp(last, name))
		return last_addr;
	struct emu_os_lines *f = emu_os_lines_open("/proc/kallsyms", NULL);
	char line[512];
	__u64 addr = 0;
	size_t n = strlen(name);
	while (f && emu_os_lines_get(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		if (!sp || !sp[1] || sp[2] != ' ')
			continue;
		char *nm = sp + 3;
		if (!strncmp(nm, name, n) && (nm[n] == '\n' || nm[n] == '\t' || nm[n] == ' ' || !nm[n])) {
			addr = strtoull(line, NULL, 16);
			break;
		}
	}
	if (f)
		emu_os_lines_close(f);
	snprintf(last, sizeof(last), "%s", name);
	last_addr = addr;
	return addr;
}

/* bpf_get_func_ip's answer: the real address when this user may see it, else a
 * made-up stable one in the kernel text range */
static __u64 func_ip(const char *name)
{
	__u64 a = kallsyms_addr(name);
	return a ? a : 0xffffffff81000000ull + ((fnv64(name) % 0x1000000ull) & ~0xfull);
}

/* ---- uprobes: a symbol's file offset, as libbpf computes it (st_value - sh_addr + sh_offset) ---- */

static int elf_sym_offset(const char *path, const char *sym, __u64 *off)
{
	int fd = emu_oe_open3(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct stat sb;
	if (emu_oe_fstat(fd, &sb) || sb.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		emu_oe_close(fd);
		return -ENOEXEC;
	}
	size_t len = (size_t)sb.st_size;
	const unsigned char *m = emu_oe_mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	emu_oe_close(fd);
	if (m == MAP_FAILED)
		return -ENOMEM;
	int err = -ENOENT;
	const Elf64_Ehdr *eh = (const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 || !eh->e_shoff ||
	    eh->e_shoff + (__u64)eh->e_shnum * sizeof(Elf64_Shdr) > len) {
		err = -ENOEXEC;
		goto out;
	}
	const Elf64_Shdr *sh = (const void *)(m + eh->e_shoff);
	size_t nlen = strlen(sym);
	for (int pass = 0; pass < 2 && err == -ENOENT; pass++) {
		__u32 want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
		for (__u32 i = 0; i < eh->e_shnum && err == -ENOENT; i++) {
			if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum || !sh[i].sh_entsize ||
			    sh[i].sh_offset + sh[i].sh_size > len)
				continue;
			const Elf64_Shdr *strs = &sh[sh[i].sh_link];
			if (strs->sh_offset + strs->sh_size > len)
				continue;
			const Elf64_Sym *s = (const void *)(m + sh[i].sh_offset);
			size_t n = sh[i].sh_size / sizeof(*s);
			for (size_t k = 0; k < n; k++) {
				if (ELF64_ST_TYPE(s[k].st_info) != STT_FUNC || !s[k].st_value || s[k].st_name >= strs->sh_size ||
				    s[k].st_shndx == SHN_UNDEF || s[k].st_shndx >= eh->e_shnum)
					continue;
				const char *nm = (const char *)(m + strs->sh_offset + s[k].st_name);
				if (strncmp(nm, sym, nlen) || (nm[nlen] && nm[nlen] != '@'))
					continue;
				const Elf64_Shdr *sec = &sh[s[k].st_shndx];
				*off = s[k].st_value - sec->sh_addr + sec->sh_offset;
				err = 0;
				break;
			}
		}
	}
out:
	emu_oe_munmap((void *)m, len);
	return err;
}

/* ---- parsing the words ---- */

static void req_free(struct fire_req *r)
{
	for (__u32 i = 0; i < r->na; i++) {
		free(r->a[i].name);
		free(r->a[i].value);
	}
	free(r->a);
	r->a = NULL;
	r->na = 0;
}

static int parse_u32(struct fire_world *w, const char *opt, const char *v, __u32 *out)
{
	char *end;
	errno = 0;
	unsigned long x = v ? strtoul(v, &end, 0) : 0;
	if (!v || !*v || *end || errno || x > 0xffffffffu || v[0] == '-')
		return fire_fail(w, -EINVAL, "%s needs a number, not '%s'", opt, v ? v : "");
	*out = (__u32)x;
	return 0;
}

static int parse_stack(struct fire_world *w, const char *opt, const char *v, __u64 *ips, __u32 *nr)
{
	*nr = 0;
	for (const char *s = v; s && *s;) {
		char item[256];
		size_t n = strcspn(s, ",");
		if (n >= sizeof(item) || *nr == MAX_STACK)
			return fire_fail(w, -E2BIG, "%s: at most %u frames", opt, MAX_STACK);
		memcpy(item, s, n);
		item[n] = '\0';
		char *end;
		errno = 0;
		unsigned long long a = strtoull(item, &end, 0);
		if (!*item || *end || errno)
			a = func_ip(item);             /* a kernel function's name */
		ips[(*nr)++] = a;
		s += n + (s[n] == ',');
	}
	return 0;
}

static int parse_event(struct fire_world *w, struct fire_req *r, const char *ev)
{
	const char *colon = strchr(ev, ':');
	if (!colon)
		return fire_fail(w, -EINVAL, "'%s' is not an event (KIND:TARGET, e.g. tracepoint:sched:sched_switch)", ev);
	size_t kl = (size_t)(colon - ev);
	const char *t = colon + 1;
#define IS(s) (kl == strlen(s) && !strncmp(ev, s, kl))
	if (IS("tracepoint") || IS("tp")) {
		r->kind = FK_TP;
		size_t cl = strcspn(t, ":/");
		if (!t[cl] || cl == 0 || !t[cl + 1] || cl >= sizeof(r->cat) || strlen(t + cl + 1) >= sizeof(r->name))
			return fire_fail(w, -EINVAL, "%s: a tracepoint is CATEGORY:NAME", ev);
		snprintf(r->cat, sizeof(r->cat), "%.*s", (int)cl, t);
		snprintf(r->name, sizeof(r->name), "%s", t + cl + 1);
	} else if (IS("raw_tracepoint") || IS("raw_tp") || IS("tp_btf")) {
		r->kind = FK_RAW_TP;
		if (!*t || strlen(t) >= sizeof(r->name))
			return fire_fail(w, -EINVAL, "%s: no tracepoint name", ev);
		snprintf(r->name, sizeof(r->name), "%s", t);
	} else if (IS("kprobe") || IS("fentry") || IS("kretprobe") || IS("fexit")) {
		r->kind = IS("kprobe") || IS("fentry") ? FK_ENTRY : FK_EXIT;
		size_t fl = strcspn(t, "+");
		if (!fl || fl >= sizeof(r->name))
			return fire_fail(w, -EINVAL, "%s: no function name", ev);
		snprintf(r->name, sizeof(r->name), "%.*s", (int)fl, t);
		if (t[fl] == '+') {
			char *end;
			r->offset = strtoull(t + fl + 1, &end, 0);
			if (*end || r->kind != FK_ENTRY || (!IS("kprobe")))
				return fire_fail(w, -EINVAL, "%s: an offset is FUNC+N, for kprobes only", ev);
		}
	} else if (IS("uprobe") || IS("uretprobe")) {
		r->kind = IS("uprobe") ? FK_UPROBE : FK_URETPROBE;
		const char *c = strrchr(t, ':');
		if (!c || c == t || !c[1] || (size_t)(c - t) >= sizeof(r->path))
			return fire_fail(w, -EINVAL, "%s: a uprobe is PATH:SYMBOL or PATH:OFFSET", ev);
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%.*s", (int)(c - t), t);
		int rerr = emu_os_realpath(path, r->path);
		if (rerr)
			return fire_fail(w, rerr, "%s: %s: %s", ev, path, strerror(-rerr));
		char *end;
		r->offset = strtoull(c + 1, &end, 0);
		if (*end || !isdigit((unsigned char)c[1])) {
			snprintf(r->sym, sizeof(r->sym), "%.255s", c + 1);
			int err = elf_sym_offset(r->path, r->sym, &r->offset);
			if (err)
				return fire_fail(w, err, "%s: no function '%s' in %s", ev, r->sym, r->path);
		}
		snprintf(r->name, sizeof(r->name), "%.*s", (int)sizeof(r->name) - 1, r->path);
	} else if (IS("lsm")) {
		r->kind = FK_LSM;
		if (!*t || strlen(t) >= sizeof(r->name) - 8)
			return fire_fail(w, -EINVAL, "%s: no hook name", ev);
		snprintf(r->name, sizeof(r->name), "%s", t);
	} else if (IS("struct_ops")) {
		r->kind = FK_STRUCT_OPS;
		const char *slash = strchr(t, '/'), *dot = slash ? strrchr(slash, '.') : NULL;
		if (!slash || slash == t || !dot || dot == slash + 1 || !dot[1] || strlen(t) >= sizeof(r->name) ||
		    (size_t)(slash - t) >= sizeof(r->cat))
			return fire_fail(w, -EINVAL, "%s: a struct_ops member is TYPE/NAME.MEMBER", ev);
		snprintf(r->cat, sizeof(r->cat), "%.*s", (int)(slash - t), t);
		snprintf(r->name, sizeof(r->name), "%s", t);
	} else {
		return fire_fail(w, -EINVAL,
				 "'%.*s' is not an event kind (tracepoint, raw_tracepoint, kprobe, kretprobe, fentry, "
				 "fexit, uprobe, uretprobe, lsm, struct_ops)",
				 (int)kl, ev);
	}
#undef IS
	return 0;
}

static const char *const opts_with_value[] = { "pid", "tid", "comm", "uid", "gid", "ppid", "cpu", "time",
					       "cgroup", "kstack", "ustack", "count", "ip" };

static int parse_words(struct fire_world *w, int n, char *const words[], struct fire_req *r)
{
	bool have_event = false;
	int err = 0;
	r->count = 1;
	for (int i = 0; i < n && !err; i++) {
		const char *word = words[i];
		if (!strncmp(word, "--", 2) && word[2]) {
			char opt[32];
			const char *eq = strchr(word, '='), *val = NULL;
			size_t ol = eq ? (size_t)(eq - word - 2) : strlen(word + 2);
			snprintf(opt, sizeof(opt), "%.*s", (int)ol, word + 2);
			bool known = false;
			for (size_t k = 0; k < ARRAY_SIZE(opts_with_value); k++)
				known |= !strcmp(opt, opts_with_value[k]);
			if (!known)
				return fire_fail(w, -EINVAL, "unknown option '%s'", word);
			if (eq)
				val = eq + 1;
			else if (i + 1 < n)
				val = words[++i];
			else
				return fire_fail(w, -EINVAL, "option --%s needs a value", opt);
			if (!strcmp(opt, "pid"))
				err = parse_u32(w, "--pid", val, &r->pid), r->pid_set = true;
			else if (!strcmp(opt, "tid"))
				err = parse_u32(w, "--tid", val, &r->tid), r->tid_set = true;
			else if (!strcmp(opt, "uid"))
				err = parse_u32(w, "--uid", val, &r->uid), r->uid_set = true;
			else if (!strcmp(opt, "gid"))
				err = parse_u32(w, "--gid", val, &r->gid), r->gid_set = true;
			else if (!strcmp(opt, "ppid"))
				err = parse_u32(w, "--ppid", val, &r->ppid), r->ppid_set = true;
			else if (!strcmp(opt, "cpu"))
				err = parse_u32(w, "--cpu", val, &r->cpu), r->cpu_set = true;
			else if (!strcmp(opt, "count"))
				err = parse_u32(w, "--count", val, &r->count);
			else if (!strcmp(opt, "comm")) {
				memset(r->comm, 0, sizeof(r->comm));
				snprintf(r->comm, sizeof(r->comm), "%s", val);
				r->comm_set = true;
			} else if (!strcmp(opt, "cgroup")) {
				if (val[0] != '/')
					return fire_fail(w, -EINVAL, "--cgroup: a path from the cgroup v2 root (/...)");
				snprintf(r->cgroup, sizeof(r->cgroup), "%s", val);
				r->cgroup_set = true;
			} else if (!strcmp(opt, "time")) {
				char *end;
				errno = 0;
				r->time = strtoull(val, &end, 0);
				if (!*val || *end || errno || val[0] == '-')
					return fire_fail(w, -EINVAL, "--time needs nanoseconds (CLOCK_MONOTONIC), not '%s'", val);
				r->time_set = true;
			} else if (!strcmp(opt, "ip")) {
				char *end;
				errno = 0;
				r->ip = strtoull(val, &end, 0);
				if (!*val || *end || errno)
					return fire_fail(w, -EINVAL, "--ip needs an address, not '%s'", val);
				r->ip_set = true;
			} else if (!strcmp(opt, "kstack")) {
				err = parse_stack(w, "--kstack", val, r->kstack, &r->nr_kstack);
			} else if (!strcmp(opt, "ustack")) {
				err = parse_stack(w, "--ustack", val, r->ustack, &r->nr_ustack);
			}
			continue;
		}
		const char *eq = strchr(word, '=');
		if (!eq) {
			if (have_event)
				return fire_fail(w, -EINVAL, "'%s': one event at a time, then NAME=VALUE words", word);
			err = parse_event(w, r, word);
			have_event = true;
			continue;
		}
		if (eq == word)
			return fire_fail(w, -EINVAL, "'%s': no name before '='", word);
		struct assign *na = realloc(r->a, (r->na + 1) * sizeof(*na));
		if (!na)
			return fire_fail(w, -ENOMEM, "out of memory");
		r->a = na;
		struct assign *a = &na[r->na++];
		memset(a, 0, sizeof(*a));
		a->name = strndup(word, (size_t)(eq - word));
		a->value = strdup(eq + 1);
		if (!a->name || !a->value)
			return fire_fail(w, -ENOMEM, "out of memory");
		char *at = strrchr(a->name, '@');
		if (at) {
			if (!strcmp(at, "@user"))
				a->space = 1;
			else if (!strcmp(at, "@kernel"))
				a->space = 2;
			else
				return fire_fail(w, -EINVAL, "'%s': a name ends in @user or @kernel", word);
			*at = '\0';
		}
	}
	if (!err && !have_event)
		err = fire_fail(w, -EINVAL, "no event given (e.g. tracepoint:sched:sched_switch)");
	if (!err && !r->count)
		err = fire_fail(w, -EINVAL, "--count must be at least 1");
	return err;
}

/* ---- the event's task ---- */

static int read_proc(const char *path, char *buf, size_t len)
{
	int fd = emu_oe_open3(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	emu_oe_close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return (int)n;
}

static bool status_field(__u32 pid, const char *key, __u32 *v)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (read_proc(path, buf, sizeof(buf)) < 0)
		return false;
	char *p = strstr(buf, key);
	return p && sscanf(p + strlen(key), "%u", v) == 1;
}

/* --pid/--tid as given, the rest from that process when it exists, else the firing one's */
static void task_identity(struct fire_req *r, struct emu_vm_task *t, __u32 *ppid, __u32 *srcp)
{
	__u32 me = (__u32)getpid();
	if (!r->pid_set && !r->tid_set) {
		t->pid = me;
		t->tid = (__u32)emu_os_gettid();
	} else if (r->pid_set) {
		t->pid = r->pid;
		t->tid = r->tid_set ? r->tid : r->pid;
	} else {
		t->tid = r->tid;
		if (!status_field(r->tid, "Tgid:", &t->pid))
			t->pid = r->tid;
	}
	bool real = t->pid == me || status_field(t->pid, "Tgid:", &(__u32){ 0 });
	__u32 src = real ? t->pid : me;
	*srcp = src;
	char path[96], buf[512];
	memset(t->comm, 0, sizeof(t->comm));
	if (r->comm_set) {
		memcpy(t->comm, r->comm, sizeof(t->comm));
	} else {
		snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", src, real ? t->tid : (__u32)emu_os_gettid());
		if (read_proc(path, buf, sizeof(buf)) > 0) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(t->comm, sizeof(t->comm), "%.15s", buf);
		} else {
			prctl(PR_GET_NAME, t->comm);
		}
	}
	t->uid = r->uid_set ? r->uid : status_field(src, "Uid:", &t->uid) ? t->uid : (__u32)getuid();
	t->gid = r->gid_set ? r->gid : status_field(src, "Gid:", &t->gid) ? t->gid : (__u32)getgid();
	if (r->ppid_set)
		*ppid = r->ppid;
	else if (!status_field(src, "PPid:", ppid))
		*ppid = (__u32)getppid();
	/* the cgroup: given, or the process's */
	t->cgroup[0] = '\0';
	if (r->cgroup_set) {
		snprintf(t->cgroup, sizeof(t->cgroup), "%s", r->cgroup);
	} else {
		snprintf(path, sizeof(path), "/proc/%u/cgroup", src);
		if (read_proc(path, buf, sizeof(buf)) > 0) {
			char *l = strstr(buf, "0::");
			if (l) {
				l += 3;
				l[strcspn(l, "\n")] = '\0';
				snprintf(t->cgroup, sizeof(t->cgroup), "%s", l);
			}
		}
	}
	t->cgroup_id = 0;
	if (t->cgroup[0]) {
		struct stat sb;
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "/sys/fs/cgroup%s", t->cgroup);
		if (!emu_oe_stat(full, &sb))
			t->cgroup_id = (__u64)sb.st_ino;
	}
}

/* The inode of a namespace of process pid (/proc/PID/ns/NAME: "mnt:[4026531841]"), 0 if unknown. */
static __u64 ns_inum(__u32 pid, const char *name)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%u/ns/%s", pid, name);
	ssize_t n = emu_oe_ret(emu_os_readlink(path, buf, sizeof(buf) - 1));
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *lb = strchr(buf, '[');
	return lb ? strtoull(lb + 1, NULL, 10) : 0;
}

/* One task, one task_struct address: the events this process fires for the same tid (in the same
 * state root) find their task where the last one left it, as the kernel's task has one address
 * (ksnoop keys its call stacks by bpf_get_current_task()), rebuilt from zero at each event. The last
 * TASK_ADDRS tasks are remembered; like named objects, until the events' ring comes round. */
#define TASK_ADDRS 32
static struct {
	char root[PATH_MAX];
	__u32 tid;
	__u64 addr;
} task_addr[TASK_ADDRS];
static unsigned task_next;
static pthread_mutex_t task_lock = PTHREAD_MUTEX_INITIALIZER;

static __u64 task_object(struct fire_world *w, __u32 ts, __u32 tid)
{
	__s64 size = fb_size(ts);
	__u64 addr = 0;
	pthread_mutex_lock(&task_lock);
	for (unsigned i = 0; i < TASK_ADDRS && !addr; i++)
		if (task_addr[i].addr && task_addr[i].tid == tid && !strcmp(task_addr[i].root, w->kmem.root) &&
		    size > 0 && fmem_has(&w->kmem, task_addr[i].addr, (__u64)size)) {
			addr = task_addr[i].addr;
			memset((void *)(uintptr_t)addr, 0, (size_t)size);
		}
	if (!addr && (addr = fv_object(w, ts))) {
		unsigned i = task_next++ % TASK_ADDRS;
		snprintf(task_addr[i].root, sizeof(task_addr[i].root), "%s", w->kmem.root);
		task_addr[i].tid = tid;
		task_addr[i].addr = addr;
	}
	pthread_mutex_unlock(&task_lock);
	return addr;
}

/* The task's task_struct: pid, tgid, comm, parents, credentials, an mm (a user task),
 * its namespaces (those of the process it is, or of the firing one). */
static int build_current(struct fire_world *w, const struct emu_vm_task *t, __u32 ppid, __u32 cpu, __u32 src)
{
	__u32 ts = fb_find("task_struct", BTF_KIND_STRUCT);
	w->current = 0;
	if (!ts)
		return 0;
	__u64 cur = task_object(w, ts, t->tid);
	if (!cur)
		return fire_fail(w, -ENOMEM, "an object too large for the events' kernel memory");
	w->current = cur;
	char v[64];
	struct {
		const char *path;
		__u64 value;
		const char *str;
	} set[] = {
		{ "pid", t->tid, NULL }, { "tgid", t->pid, NULL }, { "comm", 0, t->comm },
		{ "real_parent.pid", ppid, NULL }, { "real_parent.tgid", ppid, NULL },
		{ "cred.uid.val", t->uid, NULL }, { "cred.euid.val", t->uid, NULL }, { "cred.suid.val", t->uid, NULL },
		{ "cred.fsuid.val", t->uid, NULL }, { "cred.gid.val", t->gid, NULL }, { "cred.egid.val", t->gid, NULL },
		{ "cred.sgid.val", t->gid, NULL }, { "cred.fsgid.val", t->gid, NULL },
		{ "mm.owner", 0, "current" }, { "wake_cpu", cpu, NULL }, { "thread_info.cpu", cpu, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(set); i++) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)set[i].value);
		int err = fv_assign(w, cur, ts, set[i].path, set[i].str ? set[i].str : v, false, set[i].path);
		if (err == -ENOENT)
			continue;                  /* a member this kernel's task_struct lacks */
		if (err)
			return err;
	}
	static const char *const ns[][2] = {
		{ "nsproxy.mnt_ns.ns.inum", "mnt" }, { "nsproxy.uts_ns.ns.inum", "uts" },
		{ "nsproxy.ipc_ns.ns.inum", "ipc" }, { "nsproxy.net_ns.ns.inum", "net" },
		{ "nsproxy.cgroup_ns.ns.inum", "cgroup" }, { "nsproxy.pid_ns_for_children.ns.inum", "pid_for_children" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		__u64 inum = ns_inum(src, ns[i][1]);
		if (!inum)                         /* another user's process: this one's */
			inum = ns_inum((__u32)getpid(), ns[i][1]);
		if (!inum)
			continue;
		snprintf(v, sizeof(v), "%llu", (unsigned long long)inum);
		int err = fv_assign(w, cur, ts, ns[i][0], v, false, ns[i][0]);
		if (err && err != -ENOENT)
			return err;
	}
	/* parent = real_parent, real_cred = cred, group_leader: itself, or its thread group's leader */
	struct {
		const char *dst, *src;
	} same[] = { { "parent", "real_parent" }, { "real_cred", "cred" } };
	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		struct fb_member d, s;
		if (fb_member(ts, same[i].dst, &d) || fb_member(ts, same[i].src, &s))
			continue;
		memcpy((char *)(uintptr_t)cur + d.bit_off / 8, (char *)(uintptr_t)cur + s.bit_off / 8, 8);
	}
	struct fb_member gl;
	if (!fb_member(ts, "group_leader", &gl)) {
		if (t->pid == t->tid) {
			memcpy((char *)(uintptr_t)cur + gl.bit_off / 8, &cur, 8);
		} else {
			snprintf(v, sizeof(v), "%u", t->pid);
			fv_assign(w, cur, ts, "group_leader.pid", v, false, "group_leader.pid");
			fv_assign(w, cur, ts, "group_leader.tgid", v, false, "group_leader.tgid");
			fv_assign(w, cur, ts, "group_leader.comm", t->comm, false, "group_leader.comm");
		}
	}
	return 0;
}

/* ---- the event's values ---- */

struct event {
	struct fire_req *r;
	struct emu_vm_task task;
	__u32 ppid;
	/* tracepoint record */
	struct tp_format fmt;
	bool have_fmt;
	unsigned char *rec;
	__u32 dyn;                     /* where the next __data_loc string goes */
	/* arguments */
	__u32 proto;                   /* FUNC_PROTO of the arguments (0: unknown) */
	__u32 first;                   /* parameters to skip (a tracepoint's void *__data) */
	__u32 nargs;
	__u64 args[MAX_ARGS + 1];      /* + the return value */
	__u32 arg_type[MAX_ARGS];      /* BTF type of each (0: unknown) */
	__u64 ret;
	bool ret_set;
	unsigned char regs[PT_REGS_SIZE];
	bool regs_used;                /* kprobe/uprobe register names were given */
	__u64 fip;
	bool ip_given;                 /* the ip register was given (ip=...) */
	bool user_args;                /* arguments point to user memory (syscalls, uprobes) */
};

static const char *kind_name(enum fire_kind k)
{
	static const char *const n[] = { "tracepoint", "raw_tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe",
					 "lsm", "struct_ops" };
	return n[k];
}

static void put_dataloc(struct event *e, const struct tp_field *f, const char *s)
{
	size_t n = strlen(s) + 1;
	if (e->dyn + n > PERF_MAX_TRACE_SIZE)
		n = PERF_MAX_TRACE_SIZE - e->dyn;
	memcpy(e->rec + e->dyn, s, n);
	if (n)
		e->rec[e->dyn + n - 1] = '\0';
	__u32 off = f->t.rel ? e->dyn - (f->off + 4) : e->dyn;
	__u32 loc = (__u32)n << 16 | (off & 0xffff);
	memcpy(e->rec + f->off, &loc, 4);
	e->dyn += (__u32)n;
}

/* an argument's name: its parameter's, or argN */
static int arg_index(const struct event *e, const char *name)
{
	if (!strncmp(name, "arg", 3) && isdigit((unsigned char)name[3])) {
		char *end;
		unsigned long i = strtoul(name + 3, &end, 10);
		if (!*end && i < e->nargs)
			return (int)i;
	}
	if (e->proto) {
		__u32 n;
		const struct btf_param *p = fb_params(e->proto, &n);
		for (__u32 i = e->first; i < n; i++)
			if (!strcmp(fb_param_name(&p[i]), name))
				return (int)(i - e->first);
	}
	return -1;
}

static int reg_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(regs_x86); i++)
		if (!strcmp(regs_x86[i].name, name))
			return (int)i;
	return -1;
}

static bool has_regs(enum fire_kind k)
{
	return k == FK_ENTRY || k == FK_EXIT || k == FK_UPROBE || k == FK_URETPROBE;
}

/* The names an event takes, for an error message. */
static void list_names(const struct event *e, char *buf, size_t len)
{
	size_t o = 0;
#define ADD(...) do { int w_ = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__); if (w_ > 0) o += (size_t)w_; } while (0)
	buf[0] = '\0';
	if (e->have_fmt) {
		ADD("record fields (%s):", e->fmt.source);
		for (__u32 i = 0; i < e->fmt.nr; i++)
			ADD(" %s", e->fmt.f[i].name);
		ADD("; ");
	}
	if (e->nargs) {
		ADD("arguments:");
		__u32 n = 0;
		const struct btf_param *p = e->proto ? fb_params(e->proto, &n) : NULL;
		for (__u32 i = 0; i < e->nargs; i++) {
			const char *pn = p && e->first + i < n ? fb_param_name(&p[e->first + i]) : "";
			if (*pn)
				ADD(" %s", pn);
			else
				ADD(" arg%u", i);
		}
		ADD("; ");
	}
	if (e->r->kind == FK_EXIT || e->r->kind == FK_URETPROBE)
		ADD("ret; ");
	if (has_regs(e->r->kind))
		ADD("registers di, si, dx, cx, r8, r9, ax, ip, sp ...; ");
	ADD("current.FIELD (the task_struct)");
#undef ADD
}

/* NAME<TYPE>.PATH or NAME.PATH of a pointer field of the record: the object
 * it points to (made in the event's kernel memory when the field is 0) */
static int record_member(struct fire_world *w, struct event *e, const struct tp_field *f, const char *rest,
			 const char *value, bool user, const char *what)
{
	void *slot = e->rec + f->off;
	if (f->t.kind != FT_PTR || f->t.size != 8)
		return fire_fail(w, -EINVAL, "%s: a record field that is no pointer has no members", what);
	if (*rest == '.') {
		/* a pointer the record's BTF types: its own pointee */
		if (!f->t.btf || fb_kind(fb_strip(f->t.btf)) != BTF_KIND_PTR)
			return fire_fail(w, -EINVAL, "%s: the field's type is not known: give it one (%.*s<TYPE>.MEMBER)",
					 what, (int)(rest - what), what);
		int err = fv_assign(w, (__u64)(uintptr_t)slot, f->t.btf, rest + 1, value, user, what);
		return err == -ENOENT ? -EINVAL : err;
	}
	if (*rest != '<')
		return fire_fail(w, -EINVAL, "%s: a record field's members are FIELD<TYPE>.MEMBER", what);
	const char *close = strchr(rest, '>');
	char tn[128];
	if (!close || close == rest + 1 || (size_t)(close - rest - 1) >= sizeof(tn) || close[1] != '.')
		return fire_fail(w, -EINVAL, "%s: a cast is FIELD<TYPE>.MEMBER", what);
	snprintf(tn, sizeof(tn), "%.*s", (int)(close - rest - 1), rest + 1);
	__u32 sid = fb_find(tn, BTF_KIND_STRUCT);
	if (!sid)
		sid = fb_find(tn, BTF_KIND_UNION);
	if (!sid)
		return fire_fail(w, -EINVAL, "%s: no struct %s in the kernel's BTF", what, tn);
	__u64 obj;
	memcpy(&obj, slot, 8);
	if (!obj) {
		obj = fv_object(w, sid);
		if (!obj)
			return fire_fail(w, -ENOMEM, "%s: an object too large for the events' kernel memory", what);
		memcpy(slot, &obj, 8);
	} else if (!fmem_has(&w->kmem, obj, 1)) {
		return fire_fail(w, -EINVAL, "%s: its members are reached through an address given with @", what);
	}
	int err = fv_assign(w, obj, sid, close + 2, value, user, what);
	return err == -ENOENT ? -EINVAL : err;
}

static int assign_one(struct fire_world *w, struct event *e, struct assign *a)
{
	char base[128];
	size_t bl = strcspn(a->name, ".[<");
	const char *rest = a->name + bl;
	if (bl >= sizeof(base))
		return fire_fail(w, -ENAMETOOLONG, "%s: name too long", a->name);
	snprintf(base, sizeof(base), "%.*s", (int)bl, a->name);
	bool user_default = e->user_args;
	bool user = a->space == 1 || (a->space == 0 && user_default);
	int err;
	if (!strcmp(base, "current")) {
		__u32 ts = fb_find("task_struct", BTF_KIND_STRUCT);
		if (!w->current || !ts)
			return fire_fail(w, -ENOENT, "%s: no task_struct without the kernel's BTF", a->name);
		if (*rest != '.' && *rest != '[')
			return fire_fail(w, -EINVAL, "%s: give current's members (current.pid=...)", a->name);
		a->used = true;
		err = fv_assign(w, w->current, ts, rest + (*rest == '.'), a->value, a->space == 1, a->name);
		return err == -ENOENT ? -EINVAL : err;     /* a member the kernel's type lacks: a bad name */
	}
	/* a record field */
	const struct tp_field *f = e->have_fmt ? tp_field(&e->fmt, base) : NULL;
	if (f && *rest) {
		/* members through a pointer field: skaddr<sock>.__sk_common.skc_daddr=... (the
		 * record's own types are often void *: a cast names the object) */
		a->used = true;
		return record_member(w, e, f, rest, a->value, user, a->name);
	}
	if (f) {
		a->used = true;
		if (f->t.kind == FT_DATALOC) {
			put_dataloc(e, f, a->value);
		} else {
			struct ftype t = f->t;
			if (a->space)
				t.user = a->space == 1;
			err = fv_put(w, e->rec + f->off, &t, a->value, a->name);
			if (err)
				return err;
		}
	}
	/* an argument (also set for a tracepoint whose record has a field of that name) */
	int i = arg_index(e, base);
	if (i >= 0) {
		__u32 ty = e->arg_type[i];
		a->used = true;
		if (*rest) {
			if (!ty)
				return fire_fail(w, -EINVAL, "%s: the argument's type is unknown (no BTF for it)", a->name);
			__u64 leaf;
			__u32 lt;
			struct fb_member bits;
			/* the path starts at the argument itself: through its pointer */
			/* a cast right after the argument's name applies to it: prev<task_struct>.pid */
			err = fv_path(w, (__u64)(uintptr_t)&e->args[i], ty, rest + (*rest == '.'), &leaf, &lt, &bits, a->name);
			if (err == -ENOENT)
				err = -EINVAL;
			if (!err && !bits.bit_size) {
				struct ftype t = fv_btf_type(lt, user);
				err = fv_put(w, (void *)(uintptr_t)leaf, &t, a->value, a->name);
			} else if (!err) {
				/* a bitfield: through fv_assign on its container */
				err = fire_fail(w, -EINVAL, "%s: bitfields are set through their object (current.X)", a->name);
			}
			return err;
		}
		if (ty) {
			struct ftype t = fv_btf_type(ty, user);
			if (t.kind == FT_BTF && t.size <= 8) {
				t.kind = FT_INT;          /* a small struct passed by value: its bytes */
				t.size = t.size ? t.size : 8;
			}
			return fv_put(w, &e->args[i], &t, a->value, a->name);
		}
		/* untyped: a number, or a string in the task's user memory (uprobes) or kernel memory */
		__s64 v;
		if (!fv_int(a->value, 0, &v) && (isdigit((unsigned char)a->value[0]) || a->value[0] == '-')) {
			e->args[i] = (__u64)v;
			return 0;
		}
		struct ftype t = { .kind = FT_PTR, .size = 8, .ptr_depth = 1, .user = user };
		return fv_put(w, &e->args[i], &t, a->value, a->name);
	}
	if (f)
		return 0;
	if (!strcmp(base, "ret") && *rest && e->r->kind == FK_EXIT) {
		/* members of the returned object: inet_csk_accept's sock, ret.__sk_common.skc_num=80
		 * (a cast names its type: ret<inet_sock>.inet_sport=...); made when ret is not given */
		__u32 rt = e->proto ? fb_type(e->proto)->type : 0;
		if (!rt || !fb_pointee(rt))
			return fire_fail(w, -EINVAL, "%s: %s does not return a typed pointer (in the kernel's BTF)", a->name,
					 e->r->name);
		__u64 leaf;
		__u32 lt;
		struct fb_member bits;
		a->used = true;
		err = fv_path(w, (__u64)(uintptr_t)&e->ret, rt, rest + (*rest == '.'), &leaf, &lt, &bits, a->name);
		if (err == -ENOENT)
			err = -EINVAL;
		if (!err && bits.bit_size)
			err = fire_fail(w, -EINVAL, "%s: bitfields are set through their object (current.X)", a->name);
		if (!err) {
			struct ftype t = fv_btf_type(lt, user);
			err = fv_put(w, (void *)(uintptr_t)leaf, &t, a->value, a->name);
		}
		if (!err)
			e->ret_set = true;
		return err;
	}
	if (!strcmp(base, "ret") && !*rest && (e->r->kind == FK_EXIT || e->r->kind == FK_URETPROBE)) {
		__s64 v;
		if (fv_int(a->value, 0, &v) || !(isdigit((unsigned char)a->value[0]) || a->value[0] == '-')) {
			/* a string: the returned pointer (uretprobe: user memory, as readline's) */
			struct ftype t = { .kind = FT_PTR, .size = 8, .ptr_depth = 1,
					   .user = a->space ? a->space == 1 : e->r->kind == FK_URETPROBE };
			int err = fv_put(w, &e->ret, &t, a->value, "ret");
			if (err)
				return err;
			e->ret_set = true;
			a->used = true;
			return 0;
		}
		e->ret = (__u64)v;
		e->ret_set = true;
		a->used = true;
		return 0;
	}
	int ri = has_regs(e->r->kind) && !*rest ? reg_index(base) : -1;
	if (ri >= 0) {
		__s64 v;
		if (fv_int(a->value, 0, &v))
			return fire_fail(w, -EINVAL, "%s: '%s' is not an integer", a->name, a->value);
		memcpy(e->regs + regs_x86[ri].off, &v, 8);
		e->regs_used = true;
		a->used = true;
		return 0;
	}
	char names[2048];
	list_names(e, names, sizeof(names));
	return fire_fail(w, -EINVAL, "%s:%s%s%s: no field or argument '%s' (%s)", kind_name(e->r->kind),
			 e->r->kind == FK_TP ? e->r->cat : "", e->r->kind == FK_TP ? ":" : "", e->r->name, base, names);
}

/* Builds the event's world and values. */
static int prepare(struct fire_world *w, struct event *e)
{
	struct fire_req *r = e->r;
	int err;
	__u32 src;
	task_identity(r, &e->task, &e->ppid, &src);
	__u32 cpu = r->cpu_set ? r->cpu : 0;
	if (!r->cpu_set) {
		int c = sched_getcpu();
		cpu = c < 0 ? 0 : (__u32)c;
	}
	unsigned int ncpu = emu_possible_cpus();
	if (ncpu && cpu >= ncpu) {
		if (r->cpu_set)
			return fire_fail(w, -EINVAL, "--cpu %u: the state root has %u possible CPUs", cpu, ncpu);
		cpu %= ncpu;
	}
	r->cpu = cpu;
	err = build_current(w, &e->task, e->ppid, cpu, src);
	if (err)
		return err;
	e->task.task = w->current;
	e->user_args = r->kind == FK_UPROBE || r->kind == FK_URETPROBE || (r->kind == FK_TP && !strcmp(r->cat, "syscalls"));

	/* the record and the arguments, as the event has them */
	char tmpl[200], fname[300];
	switch (r->kind) {
	case FK_TP:
		err = tp_format_get(r->cat, r->name, &e->fmt);
		if (err && err != -ENOENT)
			return fire_fail(w, err, "tracepoint %s:%s: cannot read its format", r->cat, r->name);
		e->have_fmt = !err;
		e->proto = tp_raw_proto(r->name, tmpl, sizeof(tmpl));
		e->first = 1;
		if (!e->have_fmt && !e->proto)
			return fire_fail(w, -ENOENT,
					 "tracepoint %s:%s: no format (tracefs cannot be read here), no "
					 "trace_event_raw_ type and no btf_trace_%s in the kernel's BTF",
					 r->cat, r->name, r->name);
		break;
	case FK_RAW_TP:
		e->proto = tp_raw_proto(r->name, tmpl, sizeof(tmpl));
		e->first = 1;
		if (!e->proto)
			return fire_fail(w, -ENOENT, "raw tracepoint %s: no btf_trace_%s in the kernel's BTF", r->name, r->name);
		break;
	case FK_ENTRY:
	case FK_EXIT:
		e->proto = fb_proto(fb_find(r->name, BTF_KIND_FUNC));
		e->fip = func_ip(r->name) + r->offset;
		break;
	case FK_LSM:
		snprintf(fname, sizeof(fname), "bpf_lsm_%s", r->name);
		e->proto = fb_proto(fb_find(fname, BTF_KIND_FUNC));
		if (!e->proto)
			return fire_fail(w, -ENOENT, "lsm:%s: no %s in the kernel's BTF", r->name, fname);
		e->fip = func_ip(fname);
		break;
	case FK_UPROBE:
	case FK_URETPROBE:
		e->fip = r->offset;
		break;
	case FK_STRUCT_OPS: {
		struct fb_member m;
		const char *member = strrchr(r->name, '.') + 1;
		__u32 sid = fb_find(r->cat, BTF_KIND_STRUCT);
		if (!sid || fb_member(sid, member, &m) || !(e->proto = fb_proto(m.type)))
			return fire_fail(w, -ENOENT, "struct_ops:%s: no function member %s in struct %s of the kernel's BTF",
					 r->name, member, r->cat);
		break;
	}
	}
	if (r->ip_set)
		e->fip = r->ip;
	if (e->proto) {
		__u32 n;
		fb_params(e->proto, &n);
		e->nargs = n > e->first ? n - e->first : 0;
		if (e->nargs > MAX_ARGS)
			e->nargs = MAX_ARGS;
	} else if (has_regs(r->kind)) {
		e->nargs = 6;                  /* positional: arg0..arg5, in di si dx cx r8 r9 */
	}
	memset(e->args, 0, sizeof(e->args));
	memset(e->arg_type, 0, sizeof(e->arg_type));
	if (e->proto) {
		__u32 n;
		const struct btf_param *p = fb_params(e->proto, &n);
		for (__u32 i = 0; i < e->nargs; i++) {
			e->arg_type[i] = p[e->first + i].type;
			/* a pointer to a kernel structure points to one (zeroed) */
			__u32 pt = fb_pointee(p[e->first + i].type);
			if (pt && fb_is_composite(pt) && fb_size(pt) > 0 && !e->user_args) {
				e->args[i] = fv_object(w, pt);
				if (!e->args[i])
					return fire_fail(w, -ENOMEM, "an object too large for the events' kernel memory");
			}
		}
	}
	if (e->have_fmt) {
		e->rec = calloc(1, PERF_MAX_TRACE_SIZE);
		if (!e->rec)
			return fire_fail(w, -ENOMEM, "out of memory");
		e->dyn = (e->fmt.size + 3) & ~3u;
		/* the common fields, the syscall number, empty dynamic strings */
		const struct tp_field *f;
		if ((f = tp_field(&e->fmt, "common_type")))
			memcpy(e->rec + f->off, &(__u16){ (__u16)e->fmt.id }, 2);
		if ((f = tp_field(&e->fmt, "common_pid")))
			memcpy(e->rec + f->off, &e->task.tid, 4);
		if ((f = tp_field(&e->fmt, "__syscall_nr")) && e->fmt.syscall_nr >= 0)
			memcpy(e->rec + f->off, &e->fmt.syscall_nr, 4);
		for (__u32 i = 0; i < e->fmt.nr; i++)
			if (e->fmt.f[i].t.kind == FT_DATALOC)
				put_dataloc(e, &e->fmt.f[i], "");
	}
	memset(e->regs, 0, sizeof(e->regs));
	/* pointers to named objects first (sk=&sock:a), so that members given
	 * through them in the same event (sk.x=...) land in the named object */
	for (int pass = 0; pass < 2; pass++)
		for (__u32 i = 0; i < r->na; i++) {
			if ((r->a[i].value[0] == '&') != (pass == 0))
				continue;
			err = assign_one(w, e, &r->a[i]);
			if (err)
				return err;
		}
	/* the registers of a probe: the arguments, the return value, the ip */
	for (__u32 i = 0; i < 6 && i < e->nargs; i++) {
		__u64 have;
		memcpy(&have, e->regs + arg_regs[i], 8);
		if (!have)
			memcpy(e->regs + arg_regs[i], &e->args[i], 8);
	}
	if ((r->kind == FK_EXIT || r->kind == FK_URETPROBE) && e->ret_set)
		memcpy(e->regs + REG_AX, &e->ret, 8);
	__u64 ip;
	memcpy(&ip, e->regs + REG_IP, 8);
	e->ip_given = ip != 0;
	if (!ip)
		memcpy(e->regs + REG_IP, &e->fip, 8);
	return 0;
}

/* ---- the runs ---- */

/* Does attach point p belong to the event, and how does the program see it? */
static const char *matches(const struct event *e, const struct point *p, const struct prog *pr)
{
	const struct fire_req *r = e->r;
	char buf[400];
	switch (r->kind) {
	case FK_TP:
		if (p->kind == EMU_AT_TRACEPOINT) {
			snprintf(buf, sizeof(buf), "%s/%s", r->cat, r->name);
			return p->name && !strcmp(p->name, buf) && e->have_fmt ? "tracepoint" : NULL;
		}
		/* and the raw tracepoint of the same name */
		__attribute__((fallthrough));
	case FK_RAW_TP:
		if (p->kind != EMU_AT_RAW_TP || !p->name || strcmp(p->name, r->name) || !e->proto)
			return NULL;
		return pr->type == BPF_PROG_TYPE_TRACING ? "tp_btf" : "raw_tp";
	case FK_ENTRY:
		if (p->kind == EMU_AT_KPROBE) {
			if (p->name ? strcmp(p->name, r->name) : (!p->target || p->target != kallsyms_addr(r->name)))
				return NULL;
			return p->offset == r->offset ? "kprobe" : NULL;
		}
		if ((p->kind == EMU_AT_FENTRY || p->kind == EMU_AT_FMOD_RET) && !r->offset && p->name &&
		    !strcmp(p->name, r->name))
			return p->kind == EMU_AT_FENTRY ? "fentry" : "fmod_ret";
		return NULL;
	case FK_EXIT:
		if (p->kind == EMU_AT_KRETPROBE)
			return (p->name ? !strcmp(p->name, r->name) : p->target && p->target == kallsyms_addr(r->name))
				       ? "kretprobe"
				       : NULL;
		return p->kind == EMU_AT_FEXIT && p->name && !strcmp(p->name, r->name) ? "fexit" : NULL;
	case FK_UPROBE:
	case FK_URETPROBE: {
		if (p->kind != (r->kind == FK_UPROBE ? EMU_AT_UPROBE : EMU_AT_URETPROBE) || !p->name || p->offset != r->offset)
			return NULL;
		/* the file the probe was opened on (its inode: /proc/self/exe was the opener's) */
		struct stat sb;
		if (p->target ? emu_oe_stat(r->path, &sb) || (__u64)sb.st_ino != p->target : strcmp(p->name, r->path) != 0)
			return NULL;
		return r->kind == FK_UPROBE ? "uprobe" : "uretprobe";
	}
	case FK_LSM:
		snprintf(buf, sizeof(buf), "bpf_lsm_%s", r->name);
		return p->kind == EMU_AT_LSM && p->name && !strcmp(p->name, buf) ? "lsm" : NULL;
	case FK_STRUCT_OPS:
		return p->kind == EMU_AT_STRUCT_OPS && p->name && !strcmp(p->name, r->name) ? "struct_ops" : NULL;
	}
	return NULL;
}

static int run_one(struct fire_world *w, struct event *e, const struct point *p, struct prog *pr, const char *how,
		   emu_fire_cb cb, void *cbctx)
{
	struct fire_req *r = e->r;
	__u64 slots[2 + MAX_ARGS + 1];
	struct emu_vm_event ev = { .cpu = r->cpu, .time_ns = r->time, .task = e->task, .cookie = p->cookie,
				   .func_ip = e->fip };
	ev.kmem_lo = (__u64)(uintptr_t)w->kmem.base;
	ev.kmem_len = w->kmem.cap;
	ev.umem_lo = (__u64)(uintptr_t)w->umem.base;
	ev.umem_len = w->umem.cap;
	if (r->nr_kstack) {
		ev.kstack = r->kstack;
		ev.nr_kstack = r->nr_kstack;
	}
	if (r->nr_ustack) {
		ev.ustack = r->ustack;
		ev.nr_ustack = r->nr_ustack;
	}
	if (!strcmp(how, "tracepoint")) {
		ev.ctx = e->rec;
		ev.ctx_size = PERF_MAX_TRACE_SIZE;
		ev.func_ip = 0;
	} else if (!strcmp(how, "raw_tp") || !strcmp(how, "tp_btf") || !strcmp(how, "struct_ops")) {
		ev.ctx = e->args;
		ev.ctx_size = 8 * e->nargs;
		ev.func_ip = 0;
	} else if (!strcmp(how, "fentry") || !strcmp(how, "fexit") || !strcmp(how, "fmod_ret") || !strcmp(how, "lsm")) {
		/* the trampoline's frame: ip, nr_args, the arguments, the return value */
		slots[0] = e->fip;
		slots[1] = e->nargs;
		memcpy(&slots[2], e->args, 8ull * e->nargs);
		ev.nr_args = e->nargs;
		ev.has_ret = strcmp(how, "fentry") != 0;
		slots[2 + e->nargs] = ev.has_ret && e->ret_set ? e->ret : 0;
		ev.ctx = &slots[2];
		ev.ctx_size = 8 * (e->nargs + ev.has_ret);
	} else {
		/* a kprobe's pre-handler sees ip one byte past the probed address (x86-64's int3, and
		 * the ftrace-based kprobe sets it so too; ksnoop subtracts it); a kprobe.multi's fprobe,
		 * a kretprobe and a uprobe see the address as it is */
		if (!e->ip_given) {
			__u64 ip = e->fip;
			if (!strcmp(how, "kprobe") && p->attach_type != BPF_TRACE_KPROBE_MULTI)
				ip++;
			memcpy(e->regs + REG_IP, &ip, 8);
		}
		ev.ctx = e->regs;
		ev.ctx_size = PT_REGS_SIZE;
	}
	__u64 ret = 0;
	int err = emu_vm_run_event(pr->obj, &ev, &ret);
	if (err == -EINVAL && ev.ctx_size < 0xffff)
		EMU_LOG(EMU_LOG_VM, "fire: prog %u reads past the %u bytes of its %s context", pr->id, ev.ctx_size, how);
	if (cb) {
		struct emu_fire_run run = { .prog_id = pr->id, .prog_type = pr->type, .how = how, .retval = ret, .err = err };
		memcpy(run.prog_name, pr->obj->hdr->name, sizeof(run.prog_name));
		run.prog_name[sizeof(run.prog_name) - 1] = '\0';
		cb(&run, cbctx);
	}
	return err;
}

static int fire(struct fire_world *w, struct fire_req *r, emu_fire_cb cb, void *cbctx)
{
	int err = emu_root_ready();
	if (err)
		return fire_fail(w, err, "state root %s: %s", emu_config()->root, strerror(-err));
	err = fmem_init(&w->kmem, "kmem", KMEM_ADDR, KMEM_SIZE);
	if (!err)
		err = fmem_init(&w->umem, "umem", UMEM_ADDR, UMEM_SIZE);
	if (err)
		return fire_fail(w, err, "the events' memory (%s/fire/%s) cannot be mapped at any of its fixed addresses: %s",
				 emu_config()->root, w->kmem.base ? "umem" : "kmem", strerror(-err));
	int runs = 0;
	for (__u32 k = 0; k < r->count && runs >= 0; k++) {
		struct event e = { .r = r };
		if (!r->time_set) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			r->time = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
		}
		err = prepare(w, &e);
		if (!err)
			err = points_refresh();
		for (__u32 i = 0; !err && i < cache.nr_pts; i++) {
			const struct point *p = &cache.pts[i];
			struct prog *pr = prog_get(p->prog_id);
			if (!pr)
				continue;                  /* gone meanwhile */
			const char *how = matches(&e, p, pr);
			if (!how)
				continue;
			run_one(w, &e, p, pr, how, cb, cbctx);
			runs++;
		}
		free(e.rec);
		tp_format_free(&e.fmt);
		if (err)
			runs = err;
		if (!r->time_set)
			r->time = 0;
	}
	return runs;
}

int emu_fire_words(int n, char *const words[], emu_fire_cb cb, void *ctx, char *msg, size_t len)
{
	struct fire_req r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&cache_lock);
	world.err = msg;
	world.err_len = len;
	if (msg && len)
		msg[0] = '\0';
	int ret = parse_words(&world, n, words, &r);
	if (!ret)
		ret = fire(&world, &r, cb, ctx);
	world.err = NULL;
	world.err_len = 0;
	pthread_mutex_unlock(&cache_lock);
	req_free(&r);
	return ret;
}

/* shell-like words: '...', "..." (\" and \\ inside), \x outside quotes; # at a word start ends the line */
int emu_fire_line(const char *line, emu_fire_cb cb, void *ctx, char *msg, size_t len)
{
	char *words[256], *buf = malloc(strlen(line) + 1);
	int n = 0, ret;
	if (!buf)
		return -ENOMEM;
	char *o = buf;
	const char *s = line;
	for (;;) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			break;
		if (n == (int)ARRAY_SIZE(words)) {
			free(buf);
			if (msg && len)
				snprintf(msg, len, "more than %zu words in a line", ARRAY_SIZE(words));
			return -E2BIG;
		}
		words[n++] = o;
		char q = 0;
		while (*s && (q || !isspace((unsigned char)*s))) {
			if (q == '\'' && *s == '\'') {
				q = 0;
			} else if (q == '"' && *s == '"') {
				q = 0;
			} else if (!q && (*s == '\'' || *s == '"')) {
				q = *s;
			} else if (q != '\'' && *s == '\\' && s[1]) {
				*o++ = *++s;
			} else {
				*o++ = *s;
			}
			s++;
		}
		if (q) {
			free(buf);
			if (msg && len)
				snprintf(msg, len, "unterminated quote");
			return -EINVAL;
		}
		*o++ = '\0';
	}
	ret = n ? emu_fire_words(n, words, cb, ctx, msg, len) : 0;
	free(buf);
	return ret;
}

/* ---- the embedding API (include/bpfemu/bpfemu.h); the shim wraps these with its busy flag ---- */

static EMU_TLS char api_msg[1024];

const char *bpfemu_fire_error(void) __attribute__((weak, visibility("default")));
const char *bpfemu_fire_error(void)
{
	return api_msg;
}

/* the first run that ended early makes the call fail with its errno */
static void api_run(const struct emu_fire_run *run, void *ctx)
{
	int *first = ctx;
	if (run->err && !*first) {
		*first = run->err;
		snprintf(api_msg, sizeof(api_msg), "prog %u '%s' (%s): the run ended early: %s", run->prog_id,
			 run->prog_name, run->how, strerror(-run->err));
	}
}

int emu_fire_api_words(const char *const words[])
{
	int n = 0, first = 0;
	while (words && words[n])
		n++;
	int r = emu_fire_words(n, (char *const *)words, api_run, &first, api_msg, sizeof(api_msg));
	return r >= 0 && first ? first : r;
}

int emu_fire_api_line(const char *line)
{
	int first = 0;
	int r = emu_fire_line(line, api_run, &first, api_msg, sizeof(api_msg));
	return r >= 0 && first ? first : r;
}

int bpfemu_fire(const char *const words[]) __attribute__((weak, visibility("default")));
int bpfemu_fire(const char *const words[])
{
	int r = emu_fire_api_words(words);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

int bpfemu_fire_line(const char *line) __attribute__((weak, visibility("default")));
int bpfemu_fire_line(const char *line)
{
	int r = emu_fire_api_line(line);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}
