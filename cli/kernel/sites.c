// SPDX-License-Identifier: GPL-2.0
/*
 * Locating the named functions' sites in the kernel's DWARF: sites.h.
 *
 * Why these checks (KERNEL_FACTS.md, "Inlined sites"):
 *  - the entry is DW_AT_entry_pc, never the lowest address of the ranges:
 *    an inlined body's ranges can start before its entry;
 *  - a kprobe at an offset that is not an instruction boundary is refused
 *    (EILSEQ).  The check used here is cheap and decoder-free: the address
 *    must be where a row of the unit's line table starts.  The compiler
 *    emits a row at each inlined entry (it is what a debugger stops at),
 *    and every row starts an instruction, so a site that passes is on a
 *    boundary; one that does not is refused rather than guessed;
 *  - symbol+offset fails when the symbol's name is not unique: such a site
 *    is refused too;
 *  - an argument's location differs by address and by build: it is read
 *    from the location list at the entry, with the frame base and the CFA
 *    (.debug_frame) for stack slots, never from the disassembly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dwarf.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include "grow.h"
#include "json.h"
#include "sites.h"

const char *const sites_functions[] = {
	"ep_insert", "ep_poll", "ep_send_events", "ep_done_scan", NULL,
};

struct fsym {
	uint64_t addr, size;
	const char *name;	/* in the ELF string table */
};

struct ctx {
	Dwarf *dbg;
	Dwarf_CFI *cfi;
	Dwarf_Die cu;
	struct fsym *syms;
	size_t nsyms;
	struct sites *s;
	size_t cap;
	int err;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The function symbols of the ELF file, sorted by address. */
static int load_syms(Elf *elf, struct ctx *c)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!n || !*n)
				continue;
			if (c->nsyms == cap && et_grow((void **)&c->syms, &cap, c->nsyms + 1, sizeof(*c->syms)))
				return -1;
			c->syms[c->nsyms++] = (struct fsym){ sym.st_value, sym.st_size, n };
		}
	}
	qsort(c->syms, c->nsyms, sizeof(*c->syms), cmp_sym);
	return 0;
}

/* the function symbol containing addr; NULL if none */
static const struct fsym *containing(const struct ctx *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nsyms;

	while (lo < hi) {		/* first symbol above addr */
		size_t mid = (lo + hi) / 2;

		if (c->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* aliases share an address: take one whose range holds addr */
	while (lo-- > 0) {
		const struct fsym *f = &c->syms[lo];

		if (addr < f->addr + (f->size ? f->size : 1))
			return f;
		if (lo && c->syms[lo - 1].addr != f->addr)
			break;
	}
	return NULL;
}

static size_t name_count(const struct ctx *c, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nsyms; i++)
		n += !strcmp(c->syms[i].name, name);
	return n;
}

static const char *name_of(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

/*
 * The entry address.  DW_AT_entry_pc is an address, or in DWARF 5 may be
 * a constant offset from the entity's base (lowest) address; without it,
 * the lowest address (the only choice left).
 */
static int entry_of(Dwarf_Die *die, uint64_t *pc)
{
	Dwarf_Attribute a;
	Dwarf_Addr base = 0, start, end, low;
	Dwarf_Word k;
	ptrdiff_t r;

	if (dwarf_lowpc(die, &low) == 0) {
		base = low;
	} else {
		Dwarf_Addr b, first = UINT64_MAX;

		r = 0;
		while ((r = dwarf_ranges(die, r, &b, &start, &end)) > 0)
			if (start < first)
				first = start;
		if (first == UINT64_MAX)
			return -1;
		base = first;
	}
	if (!dwarf_attr(die, DW_AT_entry_pc, &a)) {
		*pc = base;
		return 0;
	}
	switch (dwarf_whatform(&a)) {
	case DW_FORM_data1: case DW_FORM_data2: case DW_FORM_data4: case DW_FORM_data8:
	case DW_FORM_udata:
		if (dwarf_formudata(&a, &k))
			return -1;
		*pc = base + k;
		return 0;
	}
	return dwarf_formaddr(&a, pc);
}

static unsigned int type_size(Dwarf_Die *param)
{
	Dwarf_Attribute a;
	Dwarf_Die t;
	Dwarf_Word sz;

	if (!dwarf_formref_die(dwarf_attr_integrate(param, DW_AT_type, &a), &t))
		return 0;
	if (dwarf_aggregate_size(&t, &sz) == 0)
		return (unsigned int)sz;
	if (dwarf_peel_type(&t, &t) == 0 && dwarf_tag(&t) == DW_TAG_pointer_type)
		return 8;
	return 0;
}

/* where the concrete parameter p lives at pc; top is the enclosing
 * out-of-line function (for the frame base) */
static void locate(struct ctx *c, Dwarf_Die *p, Dwarf_Die *top, uint64_t pc, struct dwloc *l)
{
	Dwarf_Attribute a, fba;
	Dwarf_Op *ops = NULL, *fb = NULL, *cfa = NULL;
	size_t n = 0, nfb = 0, ncfa = 0;
	Dwarf_Frame *frame = NULL;
	Dwarf_Sword sv;
	int r;

	if (dwarf_attr(p, DW_AT_const_value, &a)) {
		memset(l, 0, sizeof(*l));
		if (dwarf_formsdata(&a, &sv) == 0) {
			l->kind = DWLOC_CONST;
			l->value = (uint64_t)sv;
		} else {
			l->kind = DWLOC_UNSUPPORTED;
			snprintf(l->why, sizeof(l->why), "constant of a non-integer form");
		}
		return;
	}
	if (!dwarf_attr(p, DW_AT_location, &a)) {
		dwloc_decode(NULL, 0, NULL, 0, NULL, 0, l);
		return;
	}
	r = dwarf_getlocation_addr(&a, pc, &ops, &n, 1);
	if (r < 0) {
		memset(l, 0, sizeof(*l));
		l->kind = DWLOC_UNSUPPORTED;
		snprintf(l->why, sizeof(l->why), "location: %s", dwarf_errmsg(-1));
		return;
	}
	if (r == 0) {			/* no range of the list covers pc */
		dwloc_decode(NULL, 0, NULL, 0, NULL, 0, l);
		return;
	}
	if (dwarf_attr(top, DW_AT_frame_base, &fba) &&
	    dwarf_getlocation_addr(&fba, pc, &fb, &nfb, 1) <= 0) {
		fb = NULL;
		nfb = 0;
	}
	if (c->cfi && dwarf_cfi_addrframe(c->cfi, pc, &frame) == 0 &&
	    dwarf_frame_cfa(frame, &cfa, &ncfa) != 0) {
		cfa = NULL;
		ncfa = 0;
	}
	dwloc_decode(ops, n, fb, nfb, cfa, ncfa, l);
	free(frame);
}

static bool is_param(Dwarf_Die *d)
{
	return dwarf_tag(d) == DW_TAG_formal_parameter;
}

/* The arguments of instance die (its abstract origin's order and names). */
static void arguments(struct ctx *c, Dwarf_Die *die, Dwarf_Die *top, struct site *st)
{
	Dwarf_Attribute a;
	Dwarf_Die origin, p, q;
	bool has_origin = dwarf_formref_die(dwarf_attr(die, DW_AT_abstract_origin, &a), &origin);
	Dwarf_Die *list = has_origin ? &origin : die;

	if (dwarf_child(list, &p) != 0)
		return;
	do {
		struct site_arg *arg;
		bool found = !has_origin;

		if (!is_param(&p) || st->nargs == SITE_MAX_ARGS)
			continue;
		arg = &st->args[st->nargs++];
		snprintf(arg->name, sizeof(arg->name), "%s", dwarf_diename(&p) ?: "?");
		arg->size = type_size(&p);
		if (has_origin && dwarf_child(die, &q) == 0) {
			do {
				Dwarf_Attribute qa;
				Dwarf_Die o;

				if (is_param(&q) &&
				    dwarf_formref_die(dwarf_attr(&q, DW_AT_abstract_origin, &qa), &o) &&
				    dwarf_dieoffset(&o) == dwarf_dieoffset(&p)) {
					found = true;
					break;
				}
			} while (dwarf_siblingof(&q, &q) == 0);
		}
		if (!found) {		/* no concrete DIE: optimized away */
			dwloc_decode(NULL, 0, NULL, 0, NULL, 0, &arg->loc);
			continue;
		}
		locate(c, has_origin ? &q : &p, top, st->addr, &arg->loc);
	} while (dwarf_siblingof(&p, &p) == 0);
}

static void consider(struct ctx *c, Dwarf_Die *die, Dwarf_Die *top, bool inlined)
{
	const char *name = name_of(die);
	const struct fsym *sym;
	struct site *st;
	Dwarf_Line *line;
	Dwarf_Addr la;
	size_t i;

	if (!name || c->err)
		return;
	for (i = 0; sites_functions[i] && strcmp(sites_functions[i], name); i++)
		;
	if (!sites_functions[i])
		return;
	if (!inlined && (dwarf_hasattr(die, DW_AT_declaration) ||
			 !(dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges))))
		return;			/* the abstract instance, or a declaration */
	if (c->s->n == c->cap && et_grow((void **)&c->s->v, &c->cap, c->s->n + 1, sizeof(*c->s->v))) {
		c->err = ENOMEM;
		return;
	}
	st = &c->s->v[c->s->n];
	memset(st, 0, sizeof(*st));
	snprintf(st->func, sizeof(st->func), "%s", name);
	st->inlined = inlined;
	if (entry_of(die, &st->addr)) {
		snprintf(st->refused, sizeof(st->refused), "no entry address");
		c->s->n++;
		return;
	}
	sym = containing(c, st->addr);
	if (!sym) {
		snprintf(st->refused, sizeof(st->refused), "no symbol holds 0x%" PRIx64, st->addr);
		c->s->n++;
		return;
	}
	snprintf(st->container, sizeof(st->container), "%s", sym->name);
	st->off = st->addr - sym->addr;
	c->s->n++;
	arguments(c, die, top, st);
	line = dwarf_getsrc_die(&c->cu, st->addr);
	if (!line || dwarf_lineaddr(line, &la) || la != st->addr)
		snprintf(st->refused, sizeof(st->refused),
			 "not at the start of a line-table row: maybe not an instruction boundary");
	else if (name_count(c, sym->name) > 1)
		snprintf(st->refused, sizeof(st->refused),
			 "container name %s is not unique: symbol+offset is ambiguous", sym->name);
	else
		st->usable = true;
}

/* Every function and inlined instance under parent.  top: the out-of-line
 * function holding them (its frame base is theirs). */
static void walk(struct ctx *c, Dwarf_Die *parent, Dwarf_Die *top)
{
	Dwarf_Die d;

	if (dwarf_child(parent, &d) != 0)
		return;
	do {
		int tag = dwarf_tag(&d);

		switch (tag) {
		case DW_TAG_subprogram:
			consider(c, &d, &d, false);
			walk(c, &d, &d);
			break;
		case DW_TAG_inlined_subroutine:
			consider(c, &d, top, true);
			walk(c, &d, top);
			break;
		case DW_TAG_lexical_block:
			walk(c, &d, top);
			break;
		}
	} while (dwarf_siblingof(&d, &d) == 0);
}

static bool is_eventpoll(Dwarf_Die *cu)
{
	const char *n = dwarf_diename(cu);
	size_t l = n ? strlen(n) : 0;

	return l >= 14 && !strcmp(n + l - 14, "fs/eventpoll.c") &&
	       (l == 14 || n[l - 15] == '/');
}

int sites_resolve(const struct debuginfo *di, struct sites *s, char *err, size_t errsize)
{
	struct ctx c = { .s = s };
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	double t0 = now_s();
	bool found = false;
	int fd;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", di->path);
	s->id = di->id;
	s->running = di->running;
	fd = open(di->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsize, "%s: %s", di->path, strerror(errno));
		return -1;
	}
	c.dbg = dwarf_begin(fd, DWARF_C_READ);
	if (!c.dbg) {
		snprintf(err, errsize, "%s: no DWARF debug info (%s)", di->path, dwarf_errmsg(-1));
		close(fd);
		return -1;
	}
	if (load_syms(dwarf_getelf(c.dbg), &c)) {
		snprintf(err, errsize, "%s: out of memory reading its symbols", di->path);
		goto fail;
	}
	if (!c.nsyms) {
		snprintf(err, errsize, "%s: no function symbols (.symtab)", di->path);
		goto fail;
	}
	/* vmlinux has .debug_frame; .eh_frame is the fallback elsewhere */
	c.cfi = dwarf_getcfi(c.dbg) ?: dwarf_getcfi_elf(dwarf_getelf(c.dbg));
	/* the functions are static to fs/eventpoll.c: read only its unit,
	 * 0.05 s instead of 0.4-0.7 s for all; every unit if it is absent */
	while (dwarf_get_units(c.dbg, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		if (!is_eventpoll(&cudie))
			continue;
		c.cu = cudie;
		snprintf(s->unit, sizeof(s->unit), "%s", dwarf_diename(&cudie));
		walk(&c, &cudie, &cudie);
		found = true;
		break;
	}
	if (!found) {
		cu = NULL;
		while (dwarf_get_units(c.dbg, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
			c.cu = cudie;
			walk(&c, &cudie, &cudie);
		}
	}
	if (c.err) {
		snprintf(err, errsize, "%s: %s", di->path, strerror(c.err));
		goto fail;
	}
	s->read_s = now_s() - t0;
	free(c.syms);
	dwarf_end(c.dbg);
	close(fd);
	return 0;
fail:
	free(c.syms);
	dwarf_end(c.dbg);
	close(fd);
	sites_free(s);
	return -1;
}

void sites_free(struct sites *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void arg_text(const struct site_arg *a, char *buf, size_t size)
{
	char l[64];

	dwloc_format(&a->loc, l, sizeof(l));
	snprintf(buf, size, "%s=%s/%u", a->name, l, a->size);
}

void sites_print_text(const struct sites *s, FILE *f)
{
	char hex[2 * BUILD_ID_MAX + 1], a[128];

	build_id_hex(&s->id, hex);
	fprintf(f, "vmlinux   %s\n", s->path);
	fprintf(f, "build-id  %s (%s)\n", hex,
		s->running ? "the running kernel" : "not the running kernel");
	fprintf(f, "unit      %s (DWARF read in %.3f s)\n", *s->unit ? s->unit : "all units",
		s->read_s);
	for (const char *const *fn = sites_functions; *fn; fn++) {
		bool any = false;

		for (size_t i = 0; i < s->n; i++) {
			const struct site *st = &s->v[i];

			if (strcmp(st->func, *fn))
				continue;
			any = true;
			fprintf(f, "%-15s %s+0x%" PRIx64 " %-6s", st->func,
				*st->container ? st->container : "?", st->off,
				st->inlined ? "inline" : "entry");
			for (int k = 0; k < st->nargs; k++) {
				arg_text(&st->args[k], a, sizeof(a));
				fprintf(f, " %s", a);
			}
			if (!st->usable)
				fprintf(f, "  REFUSED: %s", st->refused);
			fputc('\n', f);
			for (int k = 0; k < st->nargs; k++)
				if (st->args[k].loc.kind == DWLOC_UNSUPPORTED && *st->args[k].loc.why)
					fprintf(f, "%15s   %s: %s\n", "", st->args[k].name,
						st->args[k].loc.why);
		}
		if (!any)
			fprintf(f, "%-15s no site (neither inlined nor out of line here)\n", *fn);
	}
}

void sites_print_json(const struct sites *s, FILE *f)
{
	struct json_writer w;
	char hex[2 * BUILD_ID_MAX + 1], l[64];

	build_id_hex(&s->id, hex);
	json_init(&w, f);
	json_obj_begin(&w);
	json_kv_str(&w, "vmlinux", s->path);
	json_kv_str(&w, "build_id", hex);
	json_kv_bool(&w, "running_kernel", s->running);
	json_key(&w, "unit");
	if (*s->unit)
		json_str(&w, s->unit);
	else
		json_null(&w);
	json_kv_rate(&w, "read_ms", s->read_s * 1e3);
	json_key(&w, "sites");
	json_arr_begin(&w);
	for (size_t i = 0; i < s->n; i++) {
		const struct site *st = &s->v[i];

		json_obj_begin(&w);
		json_kv_str(&w, "function", st->func);
		json_kv_str(&w, "container", st->container);
		json_kv_u64(&w, "offset", st->off);
		json_kv_hex(&w, "address", st->addr);
		json_kv_str(&w, "kind", st->inlined ? "inline" : "entry");
		json_kv_bool(&w, "usable", st->usable);
		json_key(&w, "refused");
		if (st->usable)
			json_null(&w);
		else
			json_str(&w, st->refused);
		json_key(&w, "args");
		json_arr_begin(&w);
		for (int k = 0; k < st->nargs; k++) {
			const struct site_arg *a = &st->args[k];

			json_obj_begin(&w);
			json_kv_str(&w, "name", a->name);
			dwloc_format(&a->loc, l, sizeof(l));
			json_kv_str(&w, "loc", l);
			json_kv_u64(&w, "size", a->size);
			if (a->loc.kind == DWLOC_UNSUPPORTED)
				json_kv_str(&w, "why", a->loc.why);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	fputc('\n', f);
}

int sites_write(const struct sites *s, FILE *f)
{
	char hex[2 * BUILD_ID_MAX + 1], a[128];
	size_t n = 0;

	build_id_hex(&s->id, hex);
	fprintf(f, "# epolltrace sites file (docs/internals.md); one site per line:\n"
		"# site FUNCTION CONTAINER OFFSET inline|entry ADDRESS ARG=LOCATION/SIZE...\n");
	fprintf(f, "epolltrace-sites 1\n");
	fprintf(f, "build-id %s\n", hex);
	for (size_t i = 0; i < s->n; i++) {
		const struct site *st = &s->v[i];

		if (!st->usable) {
			fprintf(f, "# refused %s %s+0x%" PRIx64 ": %s\n", st->func,
				*st->container ? st->container : "?", st->off, st->refused);
			continue;
		}
		fprintf(f, "site %s %s 0x%" PRIx64 " %s 0x%" PRIx64, st->func, st->container,
			st->off, st->inlined ? "inline" : "entry", st->addr);
		for (int k = 0; k < st->nargs; k++) {
			arg_text(&st->args[k], a, sizeof(a));
			fprintf(f, " %s", a);
		}
		fputc('\n', f);
		n++;
	}
	fprintf(f, "end %zu\n", n);
	return ferror(f) ? -1 : 0;
}

/* "NAME=LOCATION/SIZE" into a */
static int parse_arg(char *w, struct site_arg *a)
{
	char *eq = strchr(w, '='), *sl = strrchr(w, '/'), *end;
	unsigned long sz;

	if (!eq || !sl || sl < eq || eq == w || (size_t)(eq - w) >= sizeof(a->name))
		return -1;
	*eq = 0;
	*sl = 0;
	snprintf(a->name, sizeof(a->name), "%s", w);
	if (dwloc_parse(eq + 1, &a->loc))
		return -1;
	if (sl[1] < '0' || sl[1] > '9')
		return -1;
	errno = 0;
	sz = strtoul(sl + 1, &end, 10);
	if (*end || errno || sz > 64)
		return -1;
	a->size = (unsigned int)sz;
	return 0;
}

static int parse_hex(const char *w, uint64_t *v)
{
	char *end;

	if (strncmp(w, "0x", 2) || !w[2])
		return -1;
	errno = 0;
	*v = strtoull(w + 2, &end, 16);
	return *end || errno ? -1 : 0;
}

/* one "site" line's words after "site" */
static int parse_site(char **w, int nw, struct site *st)
{
	size_t i;

	if (nw < 5)
		return -1;
	for (i = 0; sites_functions[i] && strcmp(sites_functions[i], w[0]); i++)
		;
	if (!sites_functions[i] || strlen(w[1]) >= sizeof(st->container))
		return -1;
	memset(st, 0, sizeof(*st));
	snprintf(st->func, sizeof(st->func), "%s", w[0]);
	snprintf(st->container, sizeof(st->container), "%s", w[1]);
	if (parse_hex(w[2], &st->off) || parse_hex(w[4], &st->addr))
		return -1;
	if (!strcmp(w[3], "inline"))
		st->inlined = true;
	else if (strcmp(w[3], "entry"))
		return -1;
	if (nw - 5 > SITE_MAX_ARGS)
		return -1;
	for (int k = 5; k < nw; k++)
		if (parse_arg(w[k], &st->args[st->nargs++]))
			return -1;
	st->usable = true;
	return 0;
}

int sites_read(FILE *f, const char *name, struct sites *s, char *err, size_t errsize)
{
	char line[2048];
	size_t cap = 0, lineno = 0, ended;
	bool header = false, have_id = false, done = false;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", name);
	while (fgets(line, sizeof(line), f)) {
		char *w[6 + SITE_MAX_ARGS], *save = NULL, *t;
		int nw = 0;
		size_t len = strlen(line);

		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			snprintf(err, errsize, "%s:%zu: line too long", name, lineno);
			goto fail;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		for (t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
			if (nw == (int)(sizeof(w) / sizeof(w[0]))) {
				snprintf(err, errsize, "%s:%zu: too many words", name, lineno);
				goto fail;
			}
			w[nw++] = t;
		}
		if (!nw)
			continue;
		if (done) {
			snprintf(err, errsize, "%s:%zu: text after the end line", name, lineno);
			goto fail;
		}
		if (!header) {
			if (strcmp(w[0], "epolltrace-sites")) {
				snprintf(err, errsize, "%s: not an epolltrace sites file", name);
				goto fail;
			}
			if (nw != 2 || strcmp(w[1], "1")) {
				snprintf(err, errsize, "%s: sites file format %s; this epolltrace "
					 "reads format 1", name, nw > 1 ? w[1] : "?");
				goto fail;
			}
			header = true;
		} else if (!strcmp(w[0], "build-id")) {
			if (nw != 2 || have_id || build_id_parse(w[1], &s->id)) {
				snprintf(err, errsize, "%s:%zu: bad build-id line", name, lineno);
				goto fail;
			}
			have_id = true;
		} else if (!strcmp(w[0], "site")) {
			if (!have_id) {
				snprintf(err, errsize, "%s:%zu: a site before the build-id", name,
					 lineno);
				goto fail;
			}
			if (s->n == cap && et_grow((void **)&s->v, &cap, s->n + 1, sizeof(*s->v))) {
				snprintf(err, errsize, "%s: out of memory", name);
				goto fail;
			}
			if (parse_site(w + 1, nw - 1, &s->v[s->n])) {
				snprintf(err, errsize, "%s:%zu: bad site line", name, lineno);
				goto fail;
			}
			s->n++;
		} else if (!strcmp(w[0], "end")) {
			char *end = NULL;

			errno = 0;
			if (nw == 2 && w[1][0] >= '0' && w[1][0] <= '9')
				ended = strtoul(w[1], &end, 10);
			if (!end || *end || errno || ended != s->n) {
				snprintf(err, errsize, "%s:%zu: the end line does not count the %zu "
					 "sites read", name, lineno, s->n);
				goto fail;
			}
			done = true;
		} else {
			snprintf(err, errsize, "%s:%zu: unknown line '%.20s'", name, lineno, w[0]);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errsize, "%s: read error", name);
		goto fail;
	}
	if (!header) {
		snprintf(err, errsize, "%s: not an epolltrace sites file", name);
		goto fail;
	}
	if (!done || !have_id) {
		snprintf(err, errsize, "%s: cut short (no %s line)", name,
			 have_id ? "end" : "build-id");
		goto fail;
	}
	return 0;
fail:
	sites_free(s);
	return -1;
}

int sites_check_running(const struct sites *s, char *err, size_t errsize)
{
	struct build_id run;
	char a[2 * BUILD_ID_MAX + 1], b[2 * BUILD_ID_MAX + 1], e[256];

	if (build_id_running(&run, e, sizeof(e))) {
		snprintf(err, errsize, "%s: cannot check the build-id: %s", s->path, e);
		return -1;
	}
	if (build_id_eq(&run, &s->id))
		return 0;
	build_id_hex(&s->id, a);
	build_id_hex(&run, b);
	snprintf(err, errsize, "%s is for another build: build-id %s, the running kernel's is %s",
		 s->path, a, b);
	return -1;
}

/* ---- the sites cache (sites.h) --------------------------------------------- */

static const char *cache_dir(void)
{
	const char *d = getenv("EPOLLTRACE_CACHE");

	return d && *d ? d : "/var/cache/epolltrace";
}

int sites_cache_path(const struct build_id *id, char *buf, size_t size)
{
	char hex[2 * BUILD_ID_MAX + 1];
	int n;

	if (!id->len)
		return -1;
	build_id_hex(id, hex);
	n = snprintf(buf, size, "%s/sites/%s", cache_dir(), hex);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int sites_cache_load(const struct build_id *id, struct sites *s, char *err, size_t errsize)
{
	char path[4096], e[512], want[2 * BUILD_ID_MAX + 1], got[2 * BUILD_ID_MAX + 1];
	struct stat st;
	FILE *f;
	int fd;

	memset(s, 0, sizeof(*s));
	if (sites_cache_path(id, path, sizeof(path))) {
		snprintf(err, errsize, "the cache path is too long");
		return -1;
	}
	/* a planted symbolic link is not followed: O_NOFOLLOW */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == EACCES || errno == ENOTDIR)
			return 0;
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* the offsets in it decide where kprobes go: only a file that no one
	 * else could have written is taken */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		snprintf(err, errsize, "%s: %s", path,
			 !S_ISREG(st.st_mode) ? "not a regular file" :
			 st.st_uid != geteuid() ? "owned by another user" :
			 "writable by group or others");
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (sites_read(f, path, s, e, sizeof(e))) {
		snprintf(err, errsize, "%s", e);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (!build_id_eq(&s->id, id)) {
		build_id_hex(&s->id, got);
		build_id_hex(id, want);
		snprintf(err, errsize, "%s is for build-id %s, not %s", path, got, want);
		sites_free(s);
		return -1;
	}
	return 1;
}

/* mkdir with mode 0700 if absent; an existing directory is kept as it is */
static int mkdir_0700(const char *d, char *err, size_t errsize)
{
	struct stat st;

	if (!mkdir(d, 0700) || (errno == EEXIST && !stat(d, &st) && S_ISDIR(st.st_mode)))
		return 0;
	snprintf(err, errsize, "cannot create %s: %s", d, strerror(errno == EEXIST ? ENOTDIR :
									 errno));
	return -1;
}

int sites_cache_store(const struct sites *s, char *path, size_t pathsize, char *err,
		      size_t errsize)
{
	char file[4096], dir[4096], tmp[4200];
	FILE *f;
	int fd;

	if (sites_cache_path(&s->id, file, sizeof(file))) {
		snprintf(err, errsize, "the cache path is too long");
		return -1;
	}
	if (path)
		snprintf(path, pathsize, "%s", file);
	snprintf(dir, sizeof(dir), "%s", cache_dir());
	if (mkdir_0700(dir, err, errsize))
		return -1;
	snprintf(dir, sizeof(dir), "%s/sites", cache_dir());
	if (mkdir_0700(dir, err, errsize))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", file);
	fd = mkstemp(tmp);	/* 0600, O_EXCL */
	if (fd < 0) {
		snprintf(err, errsize, "cannot create a file in %s: %s", dir, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	fprintf(f, "# the sites cache of epolltrace, resolved from %s\n", s->path);
	if (sites_write(s, f) || fflush(f) || fsync(fd)) {
		snprintf(err, errsize, "writing %s failed: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) || rename(tmp, file)) {
		snprintf(err, errsize, "cannot put %s in place: %s", file, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
