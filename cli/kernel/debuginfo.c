// SPDX-License-Identifier: GPL-2.0
/*
 * Finding the kernel's debug info and checking its build-id: debuginfo.h.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <elfutils/libdwelf.h>
#include "debuginfo.h"

void build_id_hex(const struct build_id *id, char *buf)
{
	for (size_t i = 0; i < id->len; i++)
		sprintf(buf + 2 * i, "%02x", id->b[i]);
	buf[2 * id->len] = 0;
}

int build_id_parse(const char *s, struct build_id *id)
{
	size_t n = strlen(s);

	if (!n || n % 2 || n / 2 > BUILD_ID_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;
		char two[3] = { s[2 * i], s[2 * i + 1], 0 };

		if (!strchr("0123456789abcdefABCDEF", two[0]) || !two[0] ||
		    !strchr("0123456789abcdefABCDEF", two[1]) || !two[1] ||
		    sscanf(two, "%2x", &v) != 1)
			return -1;
		id->b[i] = (unsigned char)v;
	}
	id->len = n / 2;
	return 0;
}

bool build_id_eq(const struct build_id *a, const struct build_id *b)
{
	return a->len && a->len == b->len && !memcmp(a->b, b->b, a->len);
}

/* Walk ELF notes in buf (4-byte aligned, as the kernel lays them out) for
 * the "GNU" NT_GNU_BUILD_ID note. */
static int find_gnu_build_id(const unsigned char *buf, size_t n, struct build_id *id)
{
	size_t p = 0;

	while (p + 12 <= n) {
		uint32_t namesz, descsz, type;
		size_t name_at = p + 12, desc_at;

		memcpy(&namesz, buf + p, 4);
		memcpy(&descsz, buf + p + 4, 4);
		memcpy(&type, buf + p + 8, 4);
		desc_at = name_at + ((namesz + 3ul) & ~3ul);
		if (desc_at > n || descsz > n - desc_at)
			return -1;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(buf + name_at, "GNU", 4)) {
			if (!descsz || descsz > BUILD_ID_MAX)
				return -1;
			memcpy(id->b, buf + desc_at, descsz);
			id->len = descsz;
			return 0;
		}
		p = desc_at + ((descsz + 3ul) & ~3ul);
	}
	return -1;
}

int build_id_running(struct build_id *id, char *err, size_t errsize)
{
	unsigned char buf[4096];
	int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errsize, "cannot read /sys/kernel/notes: %s", strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || find_gnu_build_id(buf, (size_t)n, id)) {
		snprintf(err, errsize, "/sys/kernel/notes has no GNU build-id note");
		return -1;
	}
	return 0;
}

int build_id_of_file(const char *path, struct build_id *id, char *err, size_t errsize)
{
	const void *p = NULL;
	Elf *elf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(err, errsize, "%s: not an ELF file", path);
		if (elf)
			elf_end(elf);
		close(fd);
		return -1;
	}
	n = dwelf_elf_gnu_build_id(elf, &p);
	if (n <= 0 || n > BUILD_ID_MAX) {
		snprintf(err, errsize, "%s: no GNU build-id note", path);
		elf_end(elf);
		close(fd);
		return -1;
	}
	memcpy(id->b, p, (size_t)n);
	id->len = (size_t)n;
	elf_end(elf);
	close(fd);
	return 0;
}

/* KEY=value from an os-release file, quotes removed; "" if absent */
static void os_release_value(const char *file, const char *key, char *buf, size_t size)
{
	char line[512];
	size_t kl = strlen(key);
	FILE *f = fopen(file, "re");

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = line + kl + 1;
		size_t n;

		if (strncmp(line, key, kl) || line[kl] != '=')
			continue;
		v[strcspn(v, "\n")] = 0;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		snprintf(buf, size, "%s", v);
		break;
	}
	fclose(f);
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

void debuginfo_package_hint(const char *os_release, const char *release, char *buf,
			    size_t size)
{
	char id[64], like[256];

	os_release_value(os_release ? os_release : "/etc/os-release", "ID", id, sizeof(id));
	os_release_value(os_release ? os_release : "/etc/os-release", "ID_LIKE", like,
			 sizeof(like));
	if (!strcmp(id, "ubuntu") || has_word(like, "ubuntu"))
		snprintf(buf, size, "linux-image-%s-dbgsym (from ddebs.ubuntu.com)", release);
	else if (!strcmp(id, "fedora") || has_word(like, "fedora") || has_word(like, "rhel"))
		snprintf(buf, size, "kernel-debuginfo-%s (dnf debuginfo-install kernel-%s)",
			 release, release);
	else if (!strcmp(id, "debian") || has_word(like, "debian"))
		snprintf(buf, size, "linux-image-%s-dbg", release);
	else
		snprintf(buf, size, "your distribution's debug-info package of kernel %s "
			 "(Debian: linux-image-%s-dbg)", release, release);
}

/* append a then b to the string in buf, truncating */
static void append(char *buf, size_t size, const char *a, const char *b)
{
	size_t l = strlen(buf);

	snprintf(buf + l, size - l, "%s", a);
	l = strlen(buf);
	snprintf(buf + l, size - l, "%s", b);
}

bool debuginfo_debuginfod_wanted(bool flag)
{
	const char *u = getenv("DEBUGINFOD_URLS");

	return flag || (u && *u);
}

/* elfutils' debuginfod.h, declared here: the library is loaded at run time */
struct debuginfod_client;
typedef struct debuginfod_client *(*dfd_begin_fn)(void);
typedef int (*dfd_find_fn)(struct debuginfod_client *, const unsigned char *, int, char **);
typedef void (*dfd_end_fn)(struct debuginfod_client *);

int debuginfo_fetch(const struct build_id *id, struct debuginfo *di, char *err,
		    size_t errsize)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	char hex[2 * BUILD_ID_MAX + 1], ghex[2 * BUILD_ID_MAX + 1], e[640];
	struct debuginfod_client *c;
	struct build_id got = {}, run = {};
	static void *lib;
	dfd_begin_fn begin;
	dfd_find_fn find;
	dfd_end_fn end;
	char *path = NULL;
	int fd;

	build_id_hex(id, hex);
	if (!urls || !*urls) {
		snprintf(err, errsize, "debuginfod: DEBUGINFOD_URLS is not set");
		return -1;
	}
	/* never unloaded: libcurl does not like to be */
	if (!lib)
		lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, errsize, "debuginfod: cannot load libdebuginfod.so.1 (install "
			 "libdebuginfod1): %s", dlerror());
		return -1;
	}
	begin = (dfd_begin_fn)dlsym(lib, "debuginfod_begin");
	find = (dfd_find_fn)dlsym(lib, "debuginfod_find_debuginfo");
	end = (dfd_end_fn)dlsym(lib, "debuginfod_end");
	if (!begin || !find || !end || !(c = begin())) {
		snprintf(err, errsize, "debuginfod: libdebuginfod.so.1 is unusable");
		return -1;
	}
	fd = find(c, id->b, (int)id->len, &path);
	end(c);
	if (fd < 0) {
		snprintf(err, errsize, "debuginfod (%.200s): build-id %s: %s", urls, hex,
			 strerror(-fd));
		free(path);
		return -1;
	}
	close(fd);
	/* a server can be wrong too: the file is checked like any other */
	if (build_id_of_file(path, &got, e, sizeof(e))) {
		snprintf(err, errsize, "debuginfod (%.200s): %s", urls, e);
		free(path);
		return -1;
	}
	if (!build_id_eq(&got, id)) {
		build_id_hex(&got, ghex);
		snprintf(err, errsize, "debuginfod (%.200s) sent %s, whose build-id is %s, not %s",
			 urls, path, ghex, hex);
		free(path);
		return -1;
	}
	memset(di, 0, sizeof(*di));
	snprintf(di->path, sizeof(di->path), "%s", path);
	free(path);
	di->id = got;
	di->running = !build_id_running(&run, e, sizeof(e)) && build_id_eq(&run, &got);
	return 0;
}

int debuginfo_find(const char *explicit_path, bool must_match, bool debuginfod,
		   struct debuginfo *di, char *err, size_t errsize)
{
	char cand[5][512], why[2048] = "", e[640], want_hex[2 * BUILD_ID_MAX + 1];
	char got_hex[2 * BUILD_ID_MAX + 1], hint[256];
	struct build_id want = {};
	struct utsname u;
	bool have_want;
	int ncand = 0;

	memset(di, 0, sizeof(*di));
	have_want = !build_id_running(&want, e, sizeof(e));
	if (!explicit_path || !*explicit_path)
		explicit_path = getenv("EPOLLTRACE_VMLINUX");
	if (explicit_path && *explicit_path) {
		if (build_id_of_file(explicit_path, &di->id, err, errsize))
			return -1;
		snprintf(di->path, sizeof(di->path), "%s", explicit_path);
		di->running = have_want && build_id_eq(&want, &di->id);
		if (must_match && !di->running) {
			build_id_hex(&di->id, got_hex);
			if (!have_want) {
				snprintf(err, errsize, "%s: cannot check its build-id %s: %s",
					 explicit_path, got_hex, e);
			} else {
				build_id_hex(&want, want_hex);
				snprintf(err, errsize, "%s is another build: its build-id is %s, "
					 "the running kernel's is %s", explicit_path, got_hex,
					 want_hex);
			}
			return -1;
		}
		return 0;
	}
	if (!have_want) {
		snprintf(err, errsize, "%s", e);
		return -1;
	}
	uname(&u);
	build_id_hex(&want, want_hex);
	snprintf(cand[ncand++], sizeof(cand[0]), "/usr/lib/debug/.build-id/%.2s/%s.debug",
		 want_hex, want_hex + 2);
	snprintf(cand[ncand++], sizeof(cand[0]), "/usr/lib/debug/boot/vmlinux-%s", u.release);
	snprintf(cand[ncand++], sizeof(cand[0]), "/usr/lib/debug/lib/modules/%s/vmlinux",
		 u.release);
	snprintf(cand[ncand++], sizeof(cand[0]), "/lib/modules/%s/build/vmlinux", u.release);
	snprintf(cand[ncand++], sizeof(cand[0]), "/boot/vmlinux-%s", u.release);
	for (int i = 0; i < ncand; i++) {
		struct build_id got = {};
		const char *c = cand[i];

		if (access(c, F_OK))
			continue;
		if (build_id_of_file(c, &got, e, sizeof(e))) {
			append(why, sizeof(why), "; ", e);
			continue;
		}
		if (!build_id_eq(&got, &want)) {
			build_id_hex(&got, got_hex);
			append(why, sizeof(why), "; ", c);
			append(why, sizeof(why), " refused: its build-id is ", got_hex);
			continue;
		}
		snprintf(di->path, sizeof(di->path), "%s", c);
		di->id = want;
		di->running = true;
		return 0;
	}
	if (debuginfod) {
		if (!debuginfo_fetch(&want, di, e, sizeof(e)))
			return 0;
		append(why, sizeof(why), "; ", e);
	}
	debuginfo_package_hint(NULL, u.release, hint, sizeof(hint));
	/* the fix first; the files refused after it */
	snprintf(err, errsize, "no debug info for the running kernel %s (build-id %s): "
		 "install %s, or give --vmlinux FILE%s", u.release, want_hex, hint, why);
	return -1;
}
