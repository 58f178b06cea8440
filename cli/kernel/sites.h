/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_SITES_H
#define EPOLLTRACE_SITES_H

/*
 * The sites of the named epoll functions in one kernel build, read from
 * its DWARF with libdw: every inlined instance and every out-of-line copy
 * (.isra/.constprop clones included) of ep_insert, ep_poll, ep_send_events
 * and ep_done_scan, as containing symbol + offset (from DW_AT_entry_pc),
 * with where each argument lives at that address.  The sites file
 * (docs/internals.md) carries them to a machine without debug info.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "debuginfo.h"
#include "dwloc.h"

#define SITE_MAX_ARGS 8

struct site_arg {
	char name[32];
	struct dwloc loc;
	unsigned int size;	/* bytes of the argument's type; 0: unknown */
};

struct site {
	char func[32];		/* ep_poll */
	char container[128];	/* the ELF symbol holding the site: do_epoll_wait */
	uint64_t addr;		/* link-time address of the entry */
	uint64_t off;		/* addr - the container's address */
	bool inlined;		/* an inlined instance; else an out-of-line entry */
	bool usable;		/* every check passed; else refused says why */
	char refused[96];
	int nargs;
	struct site_arg args[SITE_MAX_ARGS];
};

struct sites {
	char path[4096];	/* the vmlinux read */
	struct build_id id;
	bool running;		/* its build-id is the running kernel's */
	char unit[128];		/* the compilation unit read; "" when all were */
	double read_s;		/* wall time to read the DWARF */
	struct site *v;
	size_t n;
};

/* the functions looked for, NULL-terminated */
extern const char *const sites_functions[];

/*
 * Read di's vmlinux and fill *s.  0, or -1 with one line in err.  A
 * function with no site is not an error here: the site list says so.
 */
int sites_resolve(const struct debuginfo *di, struct sites *s, char *err, size_t errsize);
void sites_free(struct sites *s);

/* the report for people, and as one JSON object */
void sites_print_text(const struct sites *s, FILE *f);
void sites_print_json(const struct sites *s, FILE *f);
/* the sites file (docs/internals.md); 0, or -1 if writing failed */
int sites_write(const struct sites *s, FILE *f);
/*
 * Read a sites file written by sites_write (name: for messages).  Every
 * site read is usable; s->path is name.  0, or -1 with one line in err
 * (the line number and what is wrong): not a sites file, another format
 * version, a bad line, no build-id, cut before its "end" line.
 */
int sites_read(FILE *f, const char *name, struct sites *s, char *err, size_t errsize);
/*
 * Are these sites for the running kernel?  0, or -1 with both build-ids
 * in err: offsets of another build attach at the wrong place silently.
 */
int sites_check_running(const struct sites *s, char *err, size_t errsize);

/*
 * The sites cache: the sites resolved from debug info, kept per build-id so
 * that the next start reads no DWARF.  The directory is $EPOLLTRACE_CACHE,
 * or /var/cache/epolltrace when it is unset or empty; the file is
 * DIR/sites/BUILD-ID (hex), a sites file as sites_write makes it.
 * Directories made here are 0700, the file 0600.
 */
/* the cache file for build-id id into buf; 0, or -1 if it does not fit */
int sites_cache_path(const struct build_id *id, char *buf, size_t size);
/*
 * Read the cached sites of build id.  1: read, s filled (s->path is the
 * cache file); 0: no cache file (or not readable by this user: a cache
 * this user cannot read is a miss, not an error); -1: the file is
 * refused, err says why (not a regular file, not this user's, writable
 * by others, malformed, or another build-id): the caller resolves again
 * and the store replaces it.
 */
int sites_cache_load(const struct build_id *id, struct sites *s, char *err, size_t errsize);
/*
 * Keep s in the cache, atomically: a 0600 temporary file in the same
 * directory, fsync'd, renamed over the old one.  path (may be NULL)
 * receives the cache file's name.  0, or -1 with the reason in err.
 */
int sites_cache_store(const struct sites *s, char *path, size_t pathsize, char *err,
		      size_t errsize);

/*
 * `epolltrace sites [--vmlinux FILE] [-o FILE] [--force] [--json]`: argv[0]
 * is "sites".  Returns the exit status (sites_cmd.c).
 */
int sites_command(int argc, char **argv);

#endif
