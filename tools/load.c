/* SPDX-License-Identifier: MIT */
/*
 * tools/load.c: `bpfemu load OBJ.o [--pin-dir DIR] [--json]`.
 *
 * Reads the map definitions of a BPF ELF object (libelf) in both conventions,
 * the legacy SEC("maps") array of struct bpf_map_def (and iproute2's longer
 * struct bpf_elf_map) and BTF-defined SEC(".maps") (read with btfread.c),
 * then creates every map with bpf(BPF_MAP_CREATE) and pins it as
 * DIR/<map name>. Nothing touches bpf() or the file system until the whole
 * object has been read and checked; existing pins are checked for
 * compatibility before anything is created; a failure after that removes the
 * pins and directories this run created.
 *
 * bpf() is syscall(__NR_bpf): the real kernel when run as root, the engine
 * under the shim (tool_ensure_backend re-executes under `bpfemu run` when
 * neither applies).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfread.h"
#include "tools.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

#define LEGACY_SEC "maps"
#define BTF_MAPS_SEC ".maps"
#define LEGACY_MIN_DEF 20           /* struct bpf_map_def: type .. map_flags */
#define LEGACY_IPROUTE2_DEF 36      /* struct bpf_elf_map: + id, pinning, inner_id, inner_idx */
#define MAX_DIRS 64

struct ldmap {
	char name[256];
	const char *sec;
	__u32 type, key_size, value_size, max_entries, map_flags, numa_node, pinning;
	__u64 map_extra;
	__u32 id, inner_id, inner_idx;   /* iproute2 layout */
	int inner;                       /* index of the inner map template, or -1 */
	bool template_only;              /* a BTF `values` inner definition: not pinned */
	/* results */
	int fd;
	__u32 map_id;
	bool reused, pinned_now;
	char pin[PATH_MAX];
};

struct ldobj {
	const char *file;
	char name[256];
	struct ldmap *maps;
	size_t n, cap;
	bool btf_values_init;           /* .rel.maps: initial `values` slots we do not set */
	char dirs[MAX_DIRS][PATH_MAX];  /* directories this run created, outermost first */
	int ndirs;
};

static int __attribute__((format(printf, 2, 3))) obj_err(const struct ldobj *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bpfemu: load: %s: ", o->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static struct ldmap *add_map(struct ldobj *o, const char *sec, const char *name)
{
	struct ldmap *m;

	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 8;
		struct ldmap *n = realloc(o->maps, cap * sizeof(*n));

		if (!n)
			return NULL;
		o->maps = n;
		o->cap = cap;
	}
	m = &o->maps[o->n++];
	memset(m, 0, sizeof(*m));
	m->sec = sec;
	m->inner = -1;
	m->fd = -1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	return m;
}

/* ---- ELF ---------------------------------------------------------------- */

struct elfsecs {
	Elf_Data *legacy, *btfmaps, *btf, *symtab;
	size_t legacy_idx, btfmaps_idx, symstr_idx;
};

static Elf_Data *sec_data(struct ldobj *o, Elf_Scn *scn, const char *name)
{
	Elf_Data *d = elf_getdata(scn, NULL);

	if (!d)
		obj_err(o, "section %s: cannot read data: %s", name, elf_errmsg(-1));
	return d;
}

static int elf_scan(struct ldobj *o, Elf *elf, struct elfsecs *s, __u64 fsize)
{
	GElf_Ehdr eh;
	size_t shstrndx, shnum;
	Elf_Scn *scn = NULL;

	if (elf_kind(elf) != ELF_K_ELF)
		return obj_err(o, "not an ELF file");
	if (!gelf_getehdr(elf, &eh))
		return obj_err(o, "ELF header: %s", elf_errmsg(-1));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return obj_err(o, "ELF header: not a 64-bit object (class %u)", eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB))
		return obj_err(o, "ELF header: byte order differs from this host's (compile with -target %s)",
			       __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "bpfel" : "bpfeb");
	if (eh.e_machine != EM_BPF)
		return obj_err(o, "ELF header: machine %u is not BPF (%u): not a BPF object", eh.e_machine, EM_BPF);
	if (eh.e_type != ET_REL)
		return obj_err(o, "ELF header: type %u is not a relocatable object (ET_REL)", eh.e_type);
	/* libelf reads a cut-off file without complaint: name the damage ourselves */
	/* e_shnum 0 means the count is in section 0 (more than 0xff00 sections) */
	shnum = eh.e_shnum;
	if (!shnum && elf_getshdrnum(elf, &shnum))
		return obj_err(o, "section headers: %s", elf_errmsg(-1));
	if (eh.e_shoff > fsize || (__u64)shnum * eh.e_shentsize > fsize - eh.e_shoff)
		return obj_err(o, "truncated: the section header table (offset %llu, %zu entries) ends past the "
			       "end of the file (%llu bytes)", (unsigned long long)eh.e_shoff, shnum,
			       (unsigned long long)fsize);
	if (elf_getshdrstrndx(elf, &shstrndx))
		return obj_err(o, "section header string table: %s", elf_errmsg(-1));

	memset(s, 0, sizeof(*s));
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return obj_err(o, "section %zu: header: %s", elf_ndxscn(scn), elf_errmsg(-1));
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			return obj_err(o, "section %zu: name: %s", elf_ndxscn(scn), elf_errmsg(-1));
		if (sh.sh_type != SHT_NOBITS && (sh.sh_offset > fsize || sh.sh_size > fsize - sh.sh_offset))
			return obj_err(o, "section %s: truncated: bytes %llu..%llu, the file has %llu", name,
				       (unsigned long long)sh.sh_offset,
				       (unsigned long long)(sh.sh_offset + sh.sh_size), (unsigned long long)fsize);
		if (!strcmp(name, LEGACY_SEC)) {
			if (!(s->legacy = sec_data(o, scn, name)))
				return -EINVAL;
			s->legacy_idx = elf_ndxscn(scn);
		} else if (!strcmp(name, BTF_MAPS_SEC)) {
			if (!(s->btfmaps = sec_data(o, scn, name)))
				return -EINVAL;
			s->btfmaps_idx = elf_ndxscn(scn);
		} else if (!strcmp(name, ".BTF")) {
			if (!(s->btf = sec_data(o, scn, name)))
				return -EINVAL;
		} else if (!strcmp(name, ".rel.maps") || !strcmp(name, ".rel" BTF_MAPS_SEC)) {
			if (!strcmp(name, ".rel" BTF_MAPS_SEC) && sh.sh_size)
				o->btf_values_init = true;
		} else if (sh.sh_type == SHT_SYMTAB) {
			if (!(s->symtab = sec_data(o, scn, name)))
				return -EINVAL;
			s->symstr_idx = sh.sh_link;
		}
	}
	if (!s->legacy && !s->btfmaps)
		return obj_err(o, "no map section: neither \"" LEGACY_SEC "\" nor \"" BTF_MAPS_SEC "\" is present");
	return 0;
}

/* ---- legacy SEC("maps") ------------------------------------------------- */

static __u32 def_word(const unsigned char *def, size_t def_sz, size_t i)
{
	__u32 v = 0;

	if ((i + 1) * 4 <= def_sz)
		memcpy(&v, def + i * 4, 4);
	return v;
}

static int parse_legacy(struct ldobj *o, Elf *elf, struct elfsecs *s)
{
	Elf_Data *d = s->legacy;
	GElf_Sym sym;
	size_t nsyms, nmaps = 0, def_sz;

	if (!s->symtab)
		return obj_err(o, "section " LEGACY_SEC ": no symbol table (.symtab) to name the maps");
	nsyms = s->symtab->d_size / sizeof(Elf64_Sym);
	for (size_t i = 0; i < nsyms; i++) {
		if (!gelf_getsym(s->symtab, (int)i, &sym))
			return obj_err(o, "section .symtab: symbol %zu: %s", i, elf_errmsg(-1));
		if (sym.st_shndx == s->legacy_idx && GELF_ST_TYPE(sym.st_info) != STT_SECTION)
			nmaps++;
	}
	if (!nmaps)
		return obj_err(o, "section " LEGACY_SEC ": no map symbols in it");
	if (!d->d_buf || d->d_size % nmaps)
		return obj_err(o, "section " LEGACY_SEC ": %zu bytes do not divide into %zu map definitions",
			       (size_t)d->d_size, nmaps);
	def_sz = d->d_size / nmaps;
	if (def_sz < LEGACY_MIN_DEF || def_sz % 4)
		return obj_err(o, "section " LEGACY_SEC ": map definitions of %zu bytes (need a multiple of 4, "
			       "at least %d: struct bpf_map_def)", def_sz, LEGACY_MIN_DEF);

	for (size_t i = 0; i < nsyms; i++) {
		const unsigned char *def;
		const char *name;
		struct ldmap *m;

		gelf_getsym(s->symtab, (int)i, &sym);
		if (sym.st_shndx != s->legacy_idx || GELF_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		name = elf_strptr(elf, s->symstr_idx, sym.st_name);
		if (!name || !*name)
			return obj_err(o, "section " LEGACY_SEC ": symbol %zu has no name", i);
		if (sym.st_value % def_sz || sym.st_value + def_sz > d->d_size)
			return obj_err(o, "section " LEGACY_SEC ": map '%s' at offset %llu is not a whole "
				       "%zu-byte definition inside the section", name,
				       (unsigned long long)sym.st_value, def_sz);
		def = (const unsigned char *)d->d_buf + sym.st_value;
		for (size_t b = LEGACY_IPROUTE2_DEF; b < def_sz; b++)
			if (def[b])
				return obj_err(o, "section " LEGACY_SEC ": map '%s': non-zero bytes past the known "
					       "fields (offset %zu of a %zu-byte definition)", name, b, def_sz);
		m = add_map(o, LEGACY_SEC, name);
		if (!m)
			return -ENOMEM;
		m->type = def_word(def, def_sz, 0);
		m->key_size = def_word(def, def_sz, 1);
		m->value_size = def_word(def, def_sz, 2);
		m->max_entries = def_word(def, def_sz, 3);
		m->map_flags = def_word(def, def_sz, 4);
		m->id = def_word(def, def_sz, 5);
		m->pinning = def_word(def, def_sz, 6);
		m->inner_id = def_word(def, def_sz, 7);
		m->inner_idx = def_word(def, def_sz, 8);
	}
	return 0;
}

/* iproute2: a map-in-map names its inner template by inner_id == that map's id. */
static int link_legacy_inner(struct ldobj *o)
{
	for (size_t i = 0; i < o->n; i++) {
		struct ldmap *m = &o->maps[i];

		if (strcmp(m->sec, LEGACY_SEC) || !m->inner_id)
			continue;
		if (m->type != BPF_MAP_TYPE_ARRAY_OF_MAPS && m->type != BPF_MAP_TYPE_HASH_OF_MAPS)
			return obj_err(o, "section " LEGACY_SEC ": map '%s': inner_id %u on a map that is not "
				       "a map-in-map", m->name, m->inner_id);
		for (size_t j = 0; j < o->n; j++)
			if (j != i && !strcmp(o->maps[j].sec, LEGACY_SEC) && o->maps[j].id == m->inner_id)
				m->inner = (int)j;
		if (m->inner < 0)
			return obj_err(o, "section " LEGACY_SEC ": map '%s': inner_id %u names no map's id",
				       m->name, m->inner_id);
		if (o->maps[m->inner].inner >= 0 || o->maps[m->inner].inner_id)
			return obj_err(o, "section " LEGACY_SEC ": map '%s': its inner map is itself a map-in-map",
				       m->name);
	}
	return 0;
}

/* ---- BTF-defined SEC(".maps") ------------------------------------------- */

/* `__uint(name, N)` is `int (*name)[N]`: N. */
static int btf_uint(struct ldobj *o, const struct btfr *b, const char *map, const char *field,
		    __u32 type_id, __u32 *out)
{
	const struct btf_type *t = btfr_skip_mods(b, &type_id);
	const struct btf_type *a;

	if (!t || btfr_kind(t) != BTF_KIND_PTR)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': field '%s' is not a pointer to an array "
			       "(__uint)", map, field);
	type_id = t->type;
	a = btfr_skip_mods(b, &type_id);
	if (!a || btfr_kind(a) != BTF_KIND_ARRAY)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': field '%s' is not a pointer to an array "
			       "(__uint)", map, field);
	*out = ((const struct btf_array *)(a + 1))->nelems;
	return 0;
}

/* `__type(name, T)` is `T *name`: sizeof(T). */
static int btf_type_size(struct ldobj *o, const struct btfr *b, const char *map, const char *field,
			 __u32 type_id, __u32 *out)
{
	const struct btf_type *t = btfr_skip_mods(b, &type_id);
	long sz;

	if (!t || btfr_kind(t) != BTF_KIND_PTR)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': field '%s' is not a pointer (__type)",
			       map, field);
	sz = btfr_size(b, t->type);
	if (sz < 0)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': field '%s': cannot size its type [%u]",
			       map, field, t->type);
	*out = (__u32)sz;
	return 0;
}

static int set_size(struct ldobj *o, const char *map, const char *what, __u32 *cur, bool *has, __u32 v)
{
	if (*has && *cur != v)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': conflicting %s size %u != %u",
			       map, what, *cur, v);
	*cur = v;
	*has = true;
	return 0;
}

static int parse_btf_def(struct ldobj *o, const struct btfr *b, size_t idx, __u32 struct_id, bool inner);

static int btf_values(struct ldobj *o, const struct btfr *b, size_t idx, __u32 type_id)
{
	const struct btf_type *t = btfr_skip_mods(b, &type_id), *p;
	char name[sizeof(o->maps[0].name)];
	size_t inner_idx;
	struct ldmap *m;
	int err;

	/* `__array(values, struct inner)` is `struct inner *values[]` */
	if (!t || btfr_kind(t) != BTF_KIND_ARRAY)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': field 'values' is not an array (__array)",
			       o->maps[idx].name);
	type_id = ((const struct btf_array *)(t + 1))->type;
	p = btfr_skip_mods(b, &type_id);
	if (!p || btfr_kind(p) != BTF_KIND_PTR)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': field 'values' is not an array of pointers",
			       o->maps[idx].name);
	type_id = p->type;
	p = btfr_skip_mods(b, &type_id);
	if (!p || btfr_kind(p) != BTF_KIND_STRUCT)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': 'values' does not point to a map "
			       "definition struct", o->maps[idx].name);
	/* only messages and the 15-byte map_name see the inner map's name */
	snprintf(name, sizeof(name), "%.*s.inner", (int)sizeof(name) - 7, o->maps[idx].name);
	m = add_map(o, BTF_MAPS_SEC, name);
	if (!m)
		return -ENOMEM;
	inner_idx = o->n - 1;
	m->template_only = true;
	o->maps[idx].inner = (int)inner_idx;
	err = parse_btf_def(o, b, inner_idx, type_id, true);
	return err;
}

static int parse_btf_def(struct ldobj *o, const struct btfr *b, size_t idx, __u32 struct_id, bool inner)
{
	const struct btf_type *st = btfr_skip_mods(b, &struct_id);
	const struct btf_member *mem;
	bool has_key = false, has_value = false, has_type = false;
	int err = 0;

	if (!st || btfr_kind(st) != BTF_KIND_STRUCT)
		return obj_err(o, "section " BTF_MAPS_SEC ": map '%s': definition is not a struct", o->maps[idx].name);
	mem = (const struct btf_member *)(st + 1);
	for (unsigned int i = 0; i < btfr_vlen(st) && !err; i++) {
		const char *f = btfr_name(b, mem[i].name_off);
		/* o->maps may move (btf_values adds a map): index it afresh each time */
		struct ldmap *m = &o->maps[idx];
		__u32 v = 0;

		if (!strcmp(f, "type")) {
			err = btf_uint(o, b, m->name, f, mem[i].type, &m->type);
			has_type = true;
		} else if (!strcmp(f, "max_entries")) {
			err = btf_uint(o, b, m->name, f, mem[i].type, &m->max_entries);
		} else if (!strcmp(f, "map_flags")) {
			err = btf_uint(o, b, m->name, f, mem[i].type, &m->map_flags);
		} else if (!strcmp(f, "numa_node")) {
			err = btf_uint(o, b, m->name, f, mem[i].type, &m->numa_node);
		} else if (!strcmp(f, "map_extra")) {
			err = btf_uint(o, b, m->name, f, mem[i].type, &v);
			m->map_extra = v;
		} else if (!strcmp(f, "pinning")) {
			err = btf_uint(o, b, m->name, f, mem[i].type, &m->pinning);
			if (!err && m->pinning > 1)   /* LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME */
				err = obj_err(o, "section " BTF_MAPS_SEC ": map '%s': invalid pinning value %u "
					      "(0 none, 1 by name)", m->name, m->pinning);
		} else if (!strcmp(f, "key_size") || !strcmp(f, "value_size")) {
			bool key = f[0] == 'k';

			err = btf_uint(o, b, m->name, f, mem[i].type, &v);
			if (!err)
				err = set_size(o, m->name, key ? "key" : "value", key ? &m->key_size : &m->value_size,
					       key ? &has_key : &has_value, v);
		} else if (!strcmp(f, "key") || !strcmp(f, "value")) {
			bool key = f[0] == 'k';

			err = btf_type_size(o, b, m->name, f, mem[i].type, &v);
			if (!err)
				err = set_size(o, m->name, key ? "key" : "value", key ? &m->key_size : &m->value_size,
					       key ? &has_key : &has_value, v);
		} else if (!strcmp(f, "values")) {
			if (inner)
				err = obj_err(o, "section " BTF_MAPS_SEC ": map '%s': an inner map cannot have "
					      "'values' (one level of map-in-map only)", m->name);
			else if (!has_type || (m->type != BPF_MAP_TYPE_ARRAY_OF_MAPS &&
					       m->type != BPF_MAP_TYPE_HASH_OF_MAPS))
				err = obj_err(o, "section " BTF_MAPS_SEC ": map '%s': 'values' needs 'type' first, "
					      "array_of_maps or hash_of_maps", m->name);
			else if (!(err = set_size(o, m->name, "value", &m->value_size, &has_value, 4)))
				err = btf_values(o, b, idx, mem[i].type);
		} else {
			err = obj_err(o, "section " BTF_MAPS_SEC ": map '%s': unknown field '%s'", m->name, f);
		}
	}
	if (!err && !has_type)
		err = obj_err(o, "section " BTF_MAPS_SEC ": map '%s': no 'type' field", o->maps[idx].name);
	return err;
}

static int parse_btf_maps(struct ldobj *o, struct elfsecs *s)
{
	const struct btf_type *sec = NULL;
	const struct btf_var_secinfo *vs;
	struct btfr b;
	char why[200];
	int err = 0;

	if (!s->btf)
		return obj_err(o, "section " BTF_MAPS_SEC ": BTF-defined maps need a .BTF section, and there is none "
			       "(compile with -g)");
	if (btfr_parse(&b, s->btf->d_buf, s->btf->d_size, why, sizeof(why)))
		return obj_err(o, "section .BTF: %s", why);
	for (__u32 id = 1; id < b.ntypes; id++) {
		const struct btf_type *t = btfr_type(&b, id);

		if (btfr_kind(t) == BTF_KIND_DATASEC && !strcmp(btfr_name(&b, t->name_off), BTF_MAPS_SEC))
			sec = t;
	}
	if (!sec) {
		err = obj_err(o, "section .BTF: no DATASEC \"" BTF_MAPS_SEC "\" describing section " BTF_MAPS_SEC);
		goto out;
	}
	vs = (const struct btf_var_secinfo *)(sec + 1);
	for (unsigned int i = 0; i < btfr_vlen(sec) && !err; i++) {
		__u32 vid = vs[i].type;
		const struct btf_type *var = btfr_type(&b, vid);
		const char *name;
		struct ldmap *m;

		if (!var || btfr_kind(var) != BTF_KIND_VAR) {
			err = obj_err(o, "section .BTF: " BTF_MAPS_SEC " entry %u is not a variable", i);
			break;
		}
		name = btfr_name(&b, var->name_off);
		if (!*name) {
			err = obj_err(o, "section .BTF: " BTF_MAPS_SEC " entry %u has no name", i);
			break;
		}
		m = add_map(o, BTF_MAPS_SEC, name);
		if (!m) {
			err = -ENOMEM;
			break;
		}
		err = parse_btf_def(o, &b, o->n - 1, var->type, false);
	}
out:
	btfr_free(&b);
	return err;
}

/* ---- bpf() -------------------------------------------------------------- */

static int map_create(const struct ldmap *m, int inner_fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = m->type;
	a.key_size = m->key_size;
	a.value_size = m->value_size;
	a.max_entries = m->max_entries;
	a.map_flags = m->map_flags;
	a.inner_map_fd = inner_fd > 0 ? (__u32)inner_fd : 0;
	a.numa_node = m->numa_node;
	a.map_extra = m->map_extra;
	/* the kernel takes [A-Za-z0-9_.] and 15 bytes */
	for (size_t i = 0; i < BPF_OBJ_NAME_LEN - 1 && m->name[i]; i++) {
		char c = m->name[i];
		a.map_name[i] = (c == '_' || c == '.' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) ? c : '_';
	}
	return (int)tool_bpf(BPF_MAP_CREATE, &a, sizeof(a));
}

static int map_info(int fd, struct bpf_map_info *info)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	memset(info, 0, sizeof(*info));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(*info);
	a.info.info = (__u64)(unsigned long)info;
	return (int)tool_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
}

static int obj_get(const char *path)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	return (int)tool_bpf(BPF_OBJ_GET, &a, sizeof(a));
}

static int obj_pin(int fd, const char *path)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	a.bpf_fd = (__u32)fd;
	return (int)tool_bpf(BPF_OBJ_PIN, &a, sizeof(a));
}

static int map_update(int fd, const void *key, const void *val)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	return (int)tool_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

static bool fd_is_map(int fd)
{
	char p[64], l[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return false;
	l[n] = '\0';
	return !strcmp(l, "anon_inode:bpf-map");
}

/* mkdir -p, remembering what it made. */
static int make_dirs(struct ldobj *o, const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
			path[i] = dir[i];
			continue;
		}
		if (mkdir(path, 0755) == 0) {
			if (o->ndirs < MAX_DIRS)
				snprintf(o->dirs[o->ndirs++], PATH_MAX, "%s", path);
		} else if (errno != EEXIST) {
			int err = -errno;

			fprintf(stderr, "bpfemu: load: %s: mkdir %s: %s\n", o->file, path, strerror(errno));
			return err;
		}
		path[i] = dir[i];
	}
	return 0;
}

static void rollback(struct ldobj *o)
{
	for (size_t i = o->n; i-- > 0;)
		if (o->maps[i].pinned_now && unlink(o->maps[i].pin))
			fprintf(stderr, "bpfemu: load: %s: cannot remove pin %s: %s\n", o->file, o->maps[i].pin,
				strerror(errno));
	for (int i = o->ndirs; i-- > 0;)
		rmdir(o->dirs[i]);
}

/* A pinned map can be reused when it matches the definition in every field. */
static int check_existing(struct ldobj *o, struct ldmap *m)
{
	struct bpf_map_info info;
	struct { const char *field; __u64 pinned, want; } cmp[6];
	int fd = obj_get(m->pin), err;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		fprintf(stderr, "bpfemu: load: %s: map '%s': existing pin %s: %s\n", o->file, m->name, m->pin,
			strerror(-fd));
		return fd;
	}
	if (!fd_is_map(fd)) {
		close(fd);
		return obj_err(o, "map '%s': existing pin %s is not a map", m->name, m->pin);
	}
	err = map_info(fd, &info);
	if (err) {
		close(fd);
		fprintf(stderr, "bpfemu: load: %s: map '%s': info of %s: %s\n", o->file, m->name, m->pin,
			strerror(-err));
		return err;
	}
	cmp[0] = (typeof(cmp[0])){ "type", info.type, m->type };
	cmp[1] = (typeof(cmp[0])){ "key_size", info.key_size, m->key_size };
	cmp[2] = (typeof(cmp[0])){ "value_size", info.value_size, m->value_size };
	cmp[3] = (typeof(cmp[0])){ "max_entries", info.max_entries, m->max_entries };
	cmp[4] = (typeof(cmp[0])){ "map_flags", info.map_flags, m->map_flags };
	cmp[5] = (typeof(cmp[0])){ "map_extra", info.map_extra, m->map_extra };
	for (size_t i = 0; i < 6; i++) {
		if (cmp[i].pinned != cmp[i].want) {
			close(fd);
			return obj_err(o, "map '%s': existing pin %s is incompatible: %s is %llu there, %llu in "
				       "the object", m->name, m->pin, cmp[i].field,
				       (unsigned long long)cmp[i].pinned, (unsigned long long)cmp[i].want);
		}
	}
	m->fd = fd;
	m->map_id = info.id;
	m->reused = true;
	return 0;
}

static int create_one(struct ldobj *o, struct ldmap *m)
{
	struct bpf_map_info info;
	int inner_fd = -1, fd, err;

	if (m->reused)
		return 0;
	if (m->inner >= 0) {
		struct ldmap *in = &o->maps[m->inner];

		if (in->template_only) {
			inner_fd = map_create(in, -1);
			if (inner_fd < 0) {
				fprintf(stderr, "bpfemu: load: %s: map '%s': creating its inner map: %s\n",
					o->file, m->name, strerror(-inner_fd));
				return inner_fd;
			}
		} else {
			inner_fd = in->fd;
		}
	}
	fd = map_create(m, inner_fd);
	if (inner_fd >= 0 && o->maps[m->inner].template_only)
		close(inner_fd);
	if (fd < 0) {
		fprintf(stderr, "bpfemu: load: %s: map '%s' (%s, key %u, value %u, max_entries %u, flags 0x%x): "
			"create: %s\n", o->file, m->name, tool_map_type_name(m->type) ?: "?", m->key_size,
			m->value_size, m->max_entries, m->map_flags, strerror(-fd));
		return fd;
	}
	m->fd = fd;
	err = obj_pin(fd, m->pin);
	if (err) {
		fprintf(stderr, "bpfemu: load: %s: map '%s': pin %s: %s\n", o->file, m->name, m->pin, strerror(-err));
		return err;
	}
	m->pinned_now = true;
	err = map_info(fd, &info);
	if (err) {
		fprintf(stderr, "bpfemu: load: %s: map '%s': info: %s\n", o->file, m->name, strerror(-err));
		return err;
	}
	m->map_id = info.id;
	return 0;
}

static int create_all(struct ldobj *o, const char *dir)
{
	int err;

	/* every check that can fail without side effects, first */
	for (size_t i = 0; i < o->n; i++) {
		struct ldmap *m = &o->maps[i];

		if (m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && !m->max_entries) {
			int cpus = tool_possible_cpus();

			if (cpus < 0) {
				fprintf(stderr, "bpfemu: load: %s: map '%s': possible CPUs: %s\n", o->file, m->name,
					strerror(-cpus));
				return cpus;
			}
			m->max_entries = (__u32)cpus;
		}
		if (m->template_only)
			continue;
		if ((size_t)snprintf(m->pin, sizeof(m->pin), "%s/%s", dir, m->name) >= sizeof(m->pin))
			return obj_err(o, "map '%s': pin path too long", m->name);
	}
	for (size_t i = 0; i < o->n; i++) {
		if (o->maps[i].template_only)
			continue;
		err = check_existing(o, &o->maps[i]);
		if (err)
			return err;
	}
	err = make_dirs(o, dir);
	if (err)
		goto fail;
	/* maps that others use as inner templates (iproute2 ids) before map-in-maps */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < o->n; i++) {
			struct ldmap *m = &o->maps[i];

			if (m->template_only || (m->inner >= 0) != (pass == 1))
				continue;
			err = create_one(o, m);
			if (err)
				goto fail;
		}
	}
	/* iproute2: the inner map goes into its outer map at inner_idx */
	for (size_t i = 0; i < o->n; i++) {
		struct ldmap *out = &o->maps[i];

		if (out->inner < 0 || out->reused || o->maps[out->inner].template_only)
			continue;
		err = map_update(out->fd, &o->maps[out->inner].inner_idx, &o->maps[out->inner].fd);
		if (err) {
			fprintf(stderr, "bpfemu: load: %s: map '%s': insert '%s' at index %u: %s\n", o->file,
				out->name, o->maps[out->inner].name, o->maps[out->inner].inner_idx, strerror(-err));
			goto fail;
		}
	}
	return 0;
fail:
	rollback(o);
	return err;
}

/* ---- output ------------------------------------------------------------- */

static const char *type_str(__u32 type, char *buf, size_t len)
{
	const char *n = tool_map_type_name(type);

	if (n)
		return n;
	snprintf(buf, len, "%u", type);
	return buf;
}

static void print_table(const struct ldobj *o)
{
	char tb[16];
	int w = 4;
	size_t shown = 0, reused = 0;

	for (size_t i = 0; i < o->n; i++)
		if (!o->maps[i].template_only && (int)strlen(o->maps[i].name) > w)
			w = (int)strlen(o->maps[i].name);
	printf("%-*s  %-16s %5s %6s %11s %10s  %-7s %6s  %s\n", w, "NAME", "TYPE", "KEY", "VALUE",
	       "MAX_ENTRIES", "FLAGS", "STATE", "ID", "PIN");
	for (size_t i = 0; i < o->n; i++) {
		const struct ldmap *m = &o->maps[i];
		char fl[16];

		if (m->template_only)
			continue;

		snprintf(fl, sizeof(fl), "0x%x", m->map_flags);
		printf("%-*s  %-16s %5u %6u %11u %10s  %-7s %6u  %s\n", w, m->name, type_str(m->type, tb, sizeof(tb)),
		       m->key_size, m->value_size, m->max_entries, fl, m->reused ? "reused" : "created",
		       m->map_id, m->pin);
		shown++;
		reused += m->reused;
	}
	printf("%zu map%s: %zu created, %zu reused\n", shown, shown == 1 ? "" : "s", shown - reused, reused);
}

static void print_json(const struct ldobj *o, const char *dir)
{
	char tb[16];
	bool first = true;

	printf("{\"file\":");
	tool_json_str(stdout, o->file);
	printf(",\"object\":");
	tool_json_str(stdout, o->name);
	printf(",\"pin_dir\":");
	tool_json_str(stdout, dir);
	printf(",\"maps\":[");
	for (size_t i = 0; i < o->n; i++) {
		const struct ldmap *m = &o->maps[i];

		if (m->template_only)
			continue;
		printf("%s{\"name\":", first ? "" : ",");
		first = false;
		tool_json_str(stdout, m->name);
		printf(",\"section\":");
		tool_json_str(stdout, m->sec);
		printf(",\"type\":");
		tool_json_str(stdout, type_str(m->type, tb, sizeof(tb)));
		printf(",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,\"map_flags\":%u,\"pinning\":%u,"
		       "\"pin\":", m->key_size, m->value_size, m->max_entries, m->map_flags, m->pinning);
		tool_json_str(stdout, m->pin);
		printf(",\"id\":%u,\"reused\":%s,\"inner\":", m->map_id, m->reused ? "true" : "false");
		if (m->inner >= 0) {
			const struct ldmap *in = &o->maps[m->inner];

			printf("{\"name\":");
			tool_json_str(stdout, in->name);
			printf(",\"type\":");
			tool_json_str(stdout, type_str(in->type, tb, sizeof(tb)));
			printf(",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,\"map_flags\":%u}",
			       in->key_size, in->value_size, in->max_entries, in->map_flags);
		} else {
			printf("null");
		}
		printf("}");
	}
	printf("]}\n");
}

/* ---- the subcommand ----------------------------------------------------- */

static void load_usage(FILE *f)
{
	fprintf(f, "usage: bpfemu load OBJ.o [--pin-dir DIR] [--json]\n");
}

/* libbpf's object name: the file's base name up to its first '.'. */
static void object_name(const char *file, char *out, size_t len)
{
	const char *base = strrchr(file, '/');

	base = base ? base + 1 : file;
	snprintf(out, len, "%.*s", (int)strcspn(base, "."), base);
}

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldobj o;
	struct elfsecs secs;
	struct stat st;
	const char *dir_opt = NULL;
	char dir[PATH_MAX];
	bool json = false;
	Elf *elf = NULL;
	int opt, fd = -1, err, ret = EXIT_FAILURE;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":hj", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir_opt = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			load_usage(stdout);
			return EXIT_SUCCESS;
		case ':':
			fprintf(stderr, "bpfemu: load: option %s needs an argument\n", argv[optind - 1]);
			load_usage(stderr);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "bpfemu: load: unknown option '%s'\n", argv[optind - 1]);
			load_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "bpfemu: load: %s\n", optind >= argc ? "no object file given" : "one object file only");
		load_usage(stderr);
		return EXIT_USAGE;
	}
	if (tool_ensure_backend(argv))
		return EXIT_FAILURE;

	memset(&o, 0, sizeof(o));
	o.file = argv[optind];
	object_name(o.file, o.name, sizeof(o.name));
	if (dir_opt && !*dir_opt) {
		fprintf(stderr, "bpfemu: load: --pin-dir needs a directory\n");
		return EXIT_USAGE;
	}
	if (dir_opt)
		snprintf(dir, sizeof(dir), "%s", dir_opt);
	else if (!*o.name) {
		obj_err(&o, "no object name in the file name: give --pin-dir");
		return EXIT_USAGE;
	} else
		snprintf(dir, sizeof(dir), "/sys/fs/bpf/%s", o.name);
	/* DIR/name is the pin: drop trailing slashes so messages show one path */
	for (size_t l = strlen(dir); l > 1 && dir[l - 1] == '/'; l--)
		dir[l - 1] = '\0';

	if (elf_version(EV_CURRENT) == EV_NONE) {
		fprintf(stderr, "bpfemu: load: libelf: %s\n", elf_errmsg(-1));
		return EXIT_FAILURE;
	}
	fd = open(o.file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bpfemu: load: %s: %s\n", o.file, strerror(errno));
		return EXIT_FAILURE;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		obj_err(&o, "cannot read as ELF: %s", elf_errmsg(-1));
		goto out;
	}
	if (fstat(fd, &st)) {
		fprintf(stderr, "bpfemu: load: %s: %s\n", o.file, strerror(errno));
		goto out;
	}
	err = elf_scan(&o, elf, &secs, (__u64)st.st_size);
	if (!err && secs.legacy)
		err = parse_legacy(&o, elf, &secs);
	if (!err && secs.legacy)
		err = link_legacy_inner(&o);
	if (!err && secs.btfmaps)
		err = parse_btf_maps(&o, &secs);
	if (err == -ENOMEM)
		fprintf(stderr, "bpfemu: load: %s: out of memory\n", o.file);
	if (err)
		goto out;
	for (size_t i = 0; i < o.n; i++)
		for (size_t j = 0; j < i; j++)
			if (!o.maps[i].template_only && !o.maps[j].template_only &&
			    !strcmp(o.maps[i].name, o.maps[j].name)) {
				obj_err(&o, "map '%s' is defined in both %s and %s", o.maps[i].name, o.maps[j].sec,
					o.maps[i].sec);
				goto out;
			}
	if (o.btf_values_init)
		fprintf(stderr, "bpfemu: load: %s: section .rel" BTF_MAPS_SEC ": initial `values` slots are "
			"not set (maps are created empty)\n", o.file);

	if (create_all(&o, dir))
		goto out;
	if (json)
		print_json(&o, dir);
	else
		print_table(&o);
	ret = fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	for (size_t i = 0; i < o.n; i++)
		if (o.maps[i].fd >= 0 && !o.maps[i].template_only)
			close(o.maps[i].fd);
	free(o.maps);
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
