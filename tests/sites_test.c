// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the DWARF location decoding (cli/kernel/dwloc.c) and the
 * build-id and package-hint helpers (cli/kernel/debuginfo.c), on
 * synthetic expressions: the shapes GCC gives arguments at inline sites.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dwarf.h>
#include "check.h"
#include "debuginfo.h"
#include "dwloc.h"
#include "sites.h"

#define OP(a) { .atom = (a) }
#define OP1(a, n) { .atom = (a), .number = (Dwarf_Word)(n) }
#define OP2(a, n, m) { .atom = (a), .number = (Dwarf_Word)(n), .number2 = (Dwarf_Word)(m) }
#define N(a) (sizeof(a) / sizeof(a[0]))

static const char *fmt(const struct dwloc *l)
{
	static char buf[64];

	dwloc_format(l, buf, sizeof(buf));
	return buf;
}

static void test_decode(void)
{
	struct dwloc l;
	Dwarf_Op r15[] = { OP(DW_OP_reg15) };
	Dwarf_Op regx[] = { OP1(DW_OP_regx, 12) };
	Dwarf_Op breg7[] = { OP1(DW_OP_breg7, 16) };
	Dwarf_Op bregx[] = { OP2(DW_OP_bregx, 6, (int64_t)-24) };
	Dwarf_Op fbreg[] = { OP1(DW_OP_fbreg, (int64_t)-40) };
	Dwarf_Op fb_cfa[] = { OP(DW_OP_call_frame_cfa) };
	Dwarf_Op cfa_sp[] = { OP2(DW_OP_bregx, 7, 56) };
	Dwarf_Op fb_breg6[] = { OP1(DW_OP_breg6, 16) };
	Dwarf_Op fb_reg6[] = { OP(DW_OP_reg6) };
	Dwarf_Op lit[] = { OP(DW_OP_lit1), OP(DW_OP_stack_value) };
	Dwarf_Op cst[] = { OP1(DW_OP_constu, 4096), OP(DW_OP_stack_value) };
	Dwarf_Op val_reg[] = { OP1(DW_OP_breg5, 0), OP(DW_OP_stack_value) };
	Dwarf_Op val_off[] = { OP1(DW_OP_breg5, 8), OP(DW_OP_stack_value) };
	Dwarf_Op entry[] = { OP(DW_OP_entry_value), OP(DW_OP_stack_value) };
	Dwarf_Op pieces[] = { OP(DW_OP_reg0), OP1(DW_OP_piece, 4), OP(DW_OP_reg1),
			      OP1(DW_OP_piece, 4) };
	Dwarf_Op addr[] = { OP1(DW_OP_addr, 0xffffffff81000000ull) };
	Dwarf_Op deref[] = { OP1(DW_OP_breg7, 8), OP(DW_OP_deref) };

	dwloc_decode(r15, N(r15), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_REG && l.reg == 15 && !strcmp(fmt(&l), "reg:r15"), "r15: %s", fmt(&l));
	dwloc_decode(regx, N(regx), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_REG && !strcmp(fmt(&l), "reg:r12"), "regx: %s", fmt(&l));
	dwloc_decode(breg7, N(breg7), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_MEM && !strcmp(fmt(&l), "mem:sp+16"), "breg7: %s", fmt(&l));
	dwloc_decode(bregx, N(bregx), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_MEM && !strcmp(fmt(&l), "mem:bp-24"), "bregx: %s", fmt(&l));

	/* fbreg: frame base = CFA = sp+56, so -40 is sp+16 */
	dwloc_decode(fbreg, N(fbreg), fb_cfa, N(fb_cfa), cfa_sp, N(cfa_sp), &l);
	CHECK(l.kind == DWLOC_MEM && !strcmp(fmt(&l), "mem:sp+16"), "fbreg/cfa: %s", fmt(&l));
	dwloc_decode(fbreg, N(fbreg), fb_breg6, N(fb_breg6), NULL, 0, &l);
	CHECK(!strcmp(fmt(&l), "mem:bp-24"), "fbreg/breg6: %s", fmt(&l));
	dwloc_decode(fbreg, N(fbreg), fb_reg6, N(fb_reg6), NULL, 0, &l);
	CHECK(!strcmp(fmt(&l), "mem:bp-40"), "fbreg/reg6: %s", fmt(&l));
	/* no CFA known, no frame base: refused, not guessed */
	dwloc_decode(fbreg, N(fbreg), fb_cfa, N(fb_cfa), NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED && strstr(l.why, "CFA"), "fbreg no cfa: %s", l.why);
	dwloc_decode(fbreg, N(fbreg), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED && strstr(l.why, "frame base"), "fbreg no fb: %s",
	      l.why);
	/* a CFA that is an expression, not register+offset */
	dwloc_decode(fbreg, N(fbreg), fb_cfa, N(fb_cfa), deref, N(deref), &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED, "fbreg cfa expr");

	dwloc_decode(NULL, 0, NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_OUT && !strcmp(fmt(&l), "out"), "empty: %s", fmt(&l));
	dwloc_decode(lit, N(lit), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_CONST && l.value == 1 && !strcmp(fmt(&l), "const:1"), "lit1");
	dwloc_decode(cst, N(cst), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_CONST && l.value == 4096, "constu");
	dwloc_decode(val_reg, N(val_reg), NULL, 0, NULL, 0, &l);
	CHECK(!strcmp(fmt(&l), "reg:di"), "breg5 0 stack_value: %s", fmt(&l));
	dwloc_decode(val_off, N(val_off), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED && strstr(l.why, "computed"), "breg5 8 sv: %s", l.why);
	dwloc_decode(entry, N(entry), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED && strstr(l.why, "entry"), "entry_value: %s", l.why);
	dwloc_decode(pieces, N(pieces), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED && strstr(l.why, "pieces"), "pieces: %s", l.why);
	dwloc_decode(addr, N(addr), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED && !strcmp(fmt(&l), "unsupported"), "addr");
	dwloc_decode(deref, N(deref), NULL, 0, NULL, 0, &l);
	CHECK(l.kind == DWLOC_UNSUPPORTED, "deref");
}

static void test_format_parse(void)
{
	static const char *const good[] = {
		"reg:ax", "reg:r15", "mem:sp+16", "mem:sp-8", "mem:r12+0", "const:0",
		"const:18446744073709551615", "out", "unsupported",
	};
	static const char *const bad[] = {
		"", "reg:", "reg:rax", "mem:sp", "mem:+16", "mem:sp+", "mem:sp+1x", "mem:xx+1",
		"const:", "const:-1", "const:1a", "outx", "register:r15",
		"mem:toolongname+1", "const:99999999999999999999",
	};
	struct dwloc l;
	char buf[64];

	for (size_t i = 0; i < N(good); i++) {
		CHECK(dwloc_parse(good[i], &l) == 0, "parse %s", good[i]);
		dwloc_format(&l, buf, sizeof(buf));
		CHECK(!strcmp(buf, good[i]), "round trip %s -> %s", good[i], buf);
	}
	for (size_t i = 0; i < N(bad); i++)
		CHECK(dwloc_parse(bad[i], &l) == -1, "refuse '%s'", bad[i]);
	CHECK(dwloc_reg_number("sp") == 7 && dwloc_reg_number("r8") == 8, "reg numbers");
	CHECK(!dwloc_reg_name(17) && !dwloc_reg_name(-1), "reg names out of range");
}

static void test_build_id(void)
{
	struct build_id a, b;
	char hex[2 * BUILD_ID_MAX + 1];

	CHECK(build_id_parse("7f76f39faf07f34cfa9fadd801e131bfa8cb6dc3", &a) == 0 && a.len == 20,
	      "parse 20 bytes");
	build_id_hex(&a, hex);
	CHECK(!strcmp(hex, "7f76f39faf07f34cfa9fadd801e131bfa8cb6dc3"), "hex %s", hex);
	CHECK(build_id_parse("7F76F39FAF07F34CFA9FADD801E131BFA8CB6DC3", &b) == 0 &&
	      build_id_eq(&a, &b), "case-insensitive");
	b.b[19] ^= 1;
	CHECK(!build_id_eq(&a, &b), "one bit differs");
	b.len = 0;
	CHECK(!build_id_eq(&b, &b), "empty ids never match");
	CHECK(build_id_parse("abc", &b) == -1 && build_id_parse("", &b) == -1 &&
	      build_id_parse("zz", &b) == -1 && build_id_parse("0g", &b) == -1, "bad hex");
}

static void hint_for(const char *osr, const char *want)
{
	char path[] = "/tmp/sites_test.XXXXXX", buf[256];
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, osr, strlen(osr)) == (ssize_t)strlen(osr), "tmp");
	close(fd);
	debuginfo_package_hint(path, "6.1.0-9-amd64", buf, sizeof(buf));
	unlink(path);
	CHECK(strstr(buf, want) != NULL, "hint for %s: %s", osr, buf);
}

static void test_hint(void)
{
	hint_for("ID=debian\nVERSION_ID=\"12\"\n", "linux-image-6.1.0-9-amd64-dbg");
	hint_for("ID=ubuntu\nID_LIKE=debian\n", "linux-image-6.1.0-9-amd64-dbgsym");
	hint_for("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", "-dbgsym");
	hint_for("ID=fedora\n", "debuginfo-install kernel-6.1.0-9-amd64");
	hint_for("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", "kernel-debuginfo-");
	hint_for("ID=raspbian\nID_LIKE=debian\n", "linux-image-6.1.0-9-amd64-dbg");
	hint_for("ID=arch\n", "Debian: linux-image-6.1.0-9-amd64-dbg");
}

static const char good_file[] =
"# a comment\n"
"epolltrace-sites 1\n"
"build-id 7f76f39faf07f34cfa9fadd801e131bfa8cb6dc3\n"
"# refused ep_poll x+0x1: a reason\n"
"site ep_poll do_epoll_wait 0xeb inline 0xffffffff814b4eab ep=reg:r15/8 events=mem:sp+16/8 "
"maxevents=reg:si/4 timeout=reg:dx/8\n"
"site ep_done_scan ep_done_scan 0x0 entry 0xffffffff814b3d60 ep=reg:di/8 x=const:1/4 y=out/8\n"
"end 2\n";

static int read_text(const char *text, struct sites *s, char *err, size_t n)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	if (!f)
		return -2;
	r = sites_read(f, "t.sites", s, err, n);
	fclose(f);
	return r;
}

static void test_sites_file(void)
{
	struct sites s, t;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *m;

	CHECK(read_text(good_file, &s, err, sizeof(err)) == 0, "good file: %s", err);
	CHECK(s.n == 2 && s.v[0].inlined && s.v[0].off == 0xeb && s.v[0].nargs == 4 &&
	      !strcmp(s.v[0].container, "do_epoll_wait") &&
	      s.v[0].args[0].loc.kind == DWLOC_REG && s.v[0].args[0].loc.reg == 15 &&
	      s.v[0].args[1].loc.kind == DWLOC_MEM && s.v[0].args[1].loc.off == 16 &&
	      s.v[0].args[2].size == 4 && !s.v[1].inlined && s.v[1].addr == 0xffffffff814b3d60ull &&
	      s.v[1].args[1].loc.kind == DWLOC_CONST && s.v[1].args[2].loc.kind == DWLOC_OUT,
	      "good file's contents");
	/* written back, it reads the same */
	m = open_memstream(&buf, &len);
	CHECK(m && sites_write(&s, m) == 0, "write");
	fclose(m);
	CHECK(read_text(buf, &t, err, sizeof(err)) == 0 && t.n == s.n &&
	      build_id_eq(&t.id, &s.id) && !memcmp(t.v, s.v, s.n * sizeof(*s.v)),
	      "round trip: %s", err);
	free(buf);
	sites_free(&t);
	sites_free(&s);

	static const struct { const char *text, *want; } bad[] = {
		{ "", "not an epolltrace sites file" },
		{ "hello\n", "not an epolltrace sites file" },
		{ "epolltrace-sites 2\nbuild-id 00\nend 0\n", "format 2" },
		{ "epolltrace-sites 1\nbuild-id 00\n", "cut short (no end" },
		{ "epolltrace-sites 1\nend 0\n", "cut short (no build-id" },
		{ "epolltrace-sites 1\nbuild-id 00\nend 1\n", ":3: the end line" },
		{ "epolltrace-sites 1\nbuild-id 00\nend x\n", ":3: the end line" },
		{ "epolltrace-sites 1\nbuild-id 00\nend 0\nend 0\n", ":4: text after" },
		{ "epolltrace-sites 1\nbuild-id xyz\nend 0\n", ":2: bad build-id" },
		{ "epolltrace-sites 1\nsite ep_poll a 0x1 inline 0x2\nend 1\n",
		  ":2: a site before the build-id" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_foo a 0x1 inline 0x2\nend 1\n",
		  ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 1 inline 0x2\nend 1\n",
		  ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 0x1 inlined 0x2\nend 1\n",
		  ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 0x1 inline 0x2 ep=reg:rax/8\n"
		  "end 1\n", ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 0x1 inline 0x2 ep=reg:ax\n"
		  "end 1\n", ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 0x1 inline 0x2 =reg:ax/8\n"
		  "end 1\n", ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 0x1 inline 0x2 a=out/8 b=out/8 "
		  "c=out/8 d=out/8 e=out/8 f=out/8 g=out/8 h=out/8 i=out/8\nend 1\n",
		  ":3: too many words" },
		{ "epolltrace-sites 1\nbuild-id 00\nsite ep_poll a 0x1\nend 1\n",
		  ":3: bad site line" },
		{ "epolltrace-sites 1\nbuild-id 00\nbogus\nend 0\n", ":3: unknown line" },
	};
	for (size_t i = 0; i < N(bad); i++) {
		int r = read_text(bad[i].text, &s, err, sizeof(err));

		CHECK(r == -1 && strstr(err, bad[i].want) && s.n == 0 && !s.v,
		      "bad file %zu: r=%d err '%s', want '%s'", i, r, err, bad[i].want);
	}
	{
		/* a line longer than the reader's buffer */
		size_t n = 5000;
		char *big = malloc(n + 64);

		strcpy(big, "epolltrace-sites 1\n# ");
		memset(big + strlen(big), 'x', n);
		strcpy(big + strlen("epolltrace-sites 1\n# ") + n, "\nend 0\n");
		CHECK(read_text(big, &s, err, sizeof(err)) == -1 && strstr(err, "too long"),
		      "long line: %s", err);
		free(big);
	}
}

/* how many entries DIR has besides . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return d ? n : -1;
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0 && chmod(path, mode) == 0, "put %s", path);
}

/* The sites cache: $EPOLLTRACE_CACHE/sites/BUILD-ID, 0700 and 0600,
 * written whole or not at all, and refused when it is not trustworthy. */
static void test_cache(void)
{
	char root[] = "/tmp/sites_cache.XXXXXX", path[4096], dir[64], err[512], cmd[4400];
	struct sites s, t;
	struct build_id other;
	struct stat st;

	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	snprintf(dir, sizeof(dir), "%s/c", root);
	setenv("EPOLLTRACE_CACHE", dir, 1);
	CHECK(read_text(good_file, &s, err, sizeof(err)) == 0, "good file: %s", err);
	snprintf(s.path, sizeof(s.path), "/usr/lib/debug/boot/vmlinux-test");

	CHECK(sites_cache_path(&s.id, path, sizeof(path)) == 0 &&
	      !strcmp(path + strlen(dir), "/sites/7f76f39faf07f34cfa9fadd801e131bfa8cb6dc3"),
	      "cache path %s", path);
	CHECK(sites_cache_load(&s.id, &t, err, sizeof(err)) == 0 && !t.v, "no cache yet: a miss");
	CHECK(sites_cache_store(&s, path, sizeof(path), err, sizeof(err)) == 0, "store: %s", err);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700, "cache dir 0%o", st.st_mode);
	snprintf(cmd, sizeof(cmd), "%s/sites", dir);
	CHECK(stat(cmd, &st) == 0 && (st.st_mode & 07777) == 0700, "sites dir 0%o", st.st_mode);
	CHECK(entries(cmd) == 1, "one file, no temporary left: %d", entries(cmd));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "file 0%o", st.st_mode);
	CHECK(sites_cache_load(&s.id, &t, err, sizeof(err)) == 1 && t.n == s.n &&
	      !strcmp(t.path, path) && !memcmp(t.v, s.v, s.n * sizeof(*s.v)), "load: %s", err);
	sites_free(&t);
	/* stored again (a refused file replaced): still one file */
	CHECK(sites_cache_store(&s, NULL, 0, err, sizeof(err)) == 0 && entries(cmd) == 1,
	      "store twice: %s", err);

	/* another build's sites under this build's name */
	other = s.id;
	other.b[0] ^= 0xff;
	{
		char opath[4096];

		CHECK(sites_cache_path(&other, opath, sizeof(opath)) == 0, "other path");
		CHECK(rename(path, opath) == 0, "rename");
		CHECK(sites_cache_load(&other, &t, err, sizeof(err)) == -1 &&
		      strstr(err, "is for build-id 7f76f39f") && strstr(err, "not 8076f39f") &&
		      !t.v, "another build-id refused: %s", err);
		CHECK(rename(opath, path) == 0, "rename back");
	}
	/* malformed: cut short */
	put(path, "epolltrace-sites 1\nbuild-id 7f76f39faf07f34cfa9fadd801e131bfa8cb6dc3\n", 0600);
	CHECK(sites_cache_load(&s.id, &t, err, sizeof(err)) == -1 && strstr(err, "cut short"),
	      "malformed refused: %s", err);
	/* writable by others: someone else could have chosen the offsets */
	CHECK(sites_cache_store(&s, NULL, 0, err, sizeof(err)) == 0, "store: %s", err);
	CHECK(chmod(path, 0622) == 0, "chmod");
	CHECK(sites_cache_load(&s.id, &t, err, sizeof(err)) == -1 &&
	      strstr(err, "writable by group or others"), "0622 refused: %s", err);
	/* a symbolic link is not followed */
	CHECK(unlink(path) == 0 && symlink("/etc/hostname", path) == 0, "symlink");
	CHECK(sites_cache_load(&s.id, &t, err, sizeof(err)) == -1 && strstr(err, path),
	      "symlink refused: %s", err);
	CHECK(unlink(path) == 0, "unlink");
	/* a directory where the cache should be: store fails, says where */
	CHECK(sites_cache_store(&s, NULL, 0, err, sizeof(err)) == 0, "store: %s", err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && touch %s", dir, dir);
	CHECK(system(cmd) == 0, "%s", cmd);
	CHECK(sites_cache_store(&s, NULL, 0, err, sizeof(err)) == -1 && strstr(err, dir),
	      "a file in the way: %s", err);
	CHECK(sites_cache_load(&s.id, &t, err, sizeof(err)) == 0, "a miss: %s", err);
	/* unset or empty: the documented default */
	setenv("EPOLLTRACE_CACHE", "", 1);
	CHECK(sites_cache_path(&s.id, path, sizeof(path)) == 0 &&
	      !strncmp(path, "/var/cache/epolltrace/sites/", 28), "default %s", path);
	unsetenv("EPOLLTRACE_CACHE");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0, "%s", cmd);
	sites_free(&s);
}

int main(void)
{
	test_decode();
	test_format_parse();
	test_build_id();
	test_hint();
	test_sites_file();
	test_cache();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
