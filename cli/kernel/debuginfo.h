/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_DEBUGINFO_H
#define EPOLLTRACE_DEBUGINFO_H

/*
 * The kernel's debug info (a vmlinux with DWARF), found and matched to a
 * build by its GNU build-id.  Offsets from another build attach at the
 * wrong place silently (seen: KERNEL_FACTS.md, "Inlined sites"), so a file
 * found by searching is taken only when its build-id is the running
 * kernel's.
 */
#include <stdbool.h>
#include <stddef.h>

#define BUILD_ID_MAX 64		/* bytes; GNU build-ids are 20 */

struct build_id {
	unsigned char b[BUILD_ID_MAX];
	size_t len;		/* 0: none */
};

/* lowercase hex, NUL-terminated, into buf (2 * BUILD_ID_MAX + 1 bytes) */
void build_id_hex(const struct build_id *id, char *buf);
/* parse hex; 0, or -1 if s is not an even number of hex digits (<= MAX) */
int build_id_parse(const char *s, struct build_id *id);
bool build_id_eq(const struct build_id *a, const struct build_id *b);

/* The running kernel's build-id from /sys/kernel/notes.  0, or -1 with
 * the reason in err. */
int build_id_running(struct build_id *id, char *err, size_t errsize);
/* The build-id note of an ELF file.  0, or -1 with the reason in err. */
int build_id_of_file(const char *path, struct build_id *id, char *err, size_t errsize);

struct debuginfo {
	char path[4096];
	struct build_id id;
	bool running;		/* the running kernel's build-id matched */
};

/*
 * Find the debug info.  explicit_path (--vmlinux) or, when NULL,
 * $EPOLLTRACE_VMLINUX is taken as given: its build-id is read, and checked
 * against the running kernel's only if must_match (attaching needs that;
 * `sites` resolves for whatever build the file is).  Without either, the
 * standard places are searched in this order, taking the first file whose
 * build-id is the running kernel's:
 *   /usr/lib/debug/.build-id/xx/rest.debug, /usr/lib/debug/boot/vmlinux-R,
 *   /usr/lib/debug/lib/modules/R/vmlinux, /lib/modules/R/build/vmlinux,
 *   /boot/vmlinux-R.
 * When none is and debuginfod is true (the user opted in: --debuginfod, or
 * $DEBUGINFOD_URLS set), the file is then asked of the debuginfod servers
 * (debuginfo_fetch).
 * 0, or -1 with one line in err: the files refused with both build-ids, or
 * the package to install for this distribution.
 */
int debuginfo_find(const char *explicit_path, bool must_match, bool debuginfod,
		   struct debuginfo *di, char *err, size_t errsize);

/* Has the user opted in to debuginfod?  --debuginfod (flag), or a
 * non-empty $DEBUGINFOD_URLS. */
bool debuginfo_debuginfod_wanted(bool flag);

/*
 * The vmlinux of build id from the debuginfod servers of $DEBUGINFOD_URLS,
 * with elfutils' client library (libdebuginfod.so.1, loaded when first
 * needed: it is optional, and it brings libcurl).  The file lands in the
 * client's cache ($DEBUGINFOD_CACHE_PATH, else ~/.cache/debuginfod_client)
 * and is taken only if its build-id is id.  0, or -1 with one line in err.
 */
int debuginfo_fetch(const struct build_id *id, struct debuginfo *di, char *err,
		    size_t errsize);

/* The package that has the running kernel's vmlinux with debug info, for
 * this distribution (from /etc/os-release, or root's os_release file for
 * tests), as words to put in a message: "linux-image-R-dbg". */
void debuginfo_package_hint(const char *os_release, const char *release, char *buf,
			    size_t size);

#endif
