/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_SESSION_H
#define EPOLLTRACE_SESSION_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "event.h"
#include "plan.h"

#define SESSION_MAX_PIDS 64

/* Where a traced COMMAND's stdout and stderr go. */
enum session_cmd_output {
	SESSION_CMD_INHERIT,	/* epolltrace's own (record: stdout carries nothing) */
	SESSION_CMD_STDERR,	/* both to epolltrace's stderr: stdout carries data */
	SESSION_CMD_LOG,	/* a pipe into the message log, stdin /dev/null: the TUI */
};

struct session;

/*
 * A driver steering the traced workload from inside the loop (`learn`):
 * turn() runs once each turn of the loop, after the ring was read, and may
 * call session_sync() and session_inject().  Nonzero from turn(): stop.
 */
struct session_driver {
	void *ctx;
	int (*turn)(void *ctx, struct session *s);
};

struct session_opts {
	pid_t pids[SESSION_MAX_PIDS];
	int npids;
	bool follow;			/* -f */
	enum plan_mode mode;		/* --attach */
	const char *sites_file;		/* --sites: the inline rung's sites */
	const char *vmlinux;		/* --vmlinux: the debug info to take */
	bool no_cache;			/* --no-cache: the sites cache unused */
	bool debuginfod;		/* --debuginfod: ask its servers for debug info */
	double duration;		/* seconds, 0 = until stopped */
	double snapshot_interval;	/* seconds */
	char **cmd;			/* -- CMD ARGS: spawn and trace */
	unsigned long events_ring_bytes;
	enum session_cmd_output cmd_output;
	/* the stream a view writes its data to (stdout), or NULL: the
	 * session ends when writing there fails (a reader that went away) */
	FILE *out;
	const struct session_driver *driver;	/* NULL: none */
	/* answered from the loop besides the ring (--metrics); NULL: none */
	const struct et_service *service;
};

/*
 * Load the plan, trace until Ctrl-C/SIGTERM, the duration ends, the sink
 * or the reader of o->out has had enough, or every target has exited, and
 * deliver every record and snapshot to sink in order.
 *
 * Returns the process exit status: 1 when tracing failed; else, when the
 * session ended because -- COMMAND (and what it forked, with -f) exited,
 * COMMAND's status as a shell gives it (128+N if signal N killed it; 127
 * or 126 if it could not be run); else 0.  SIGPIPE is ignored from here on.
 */
int session_run(const struct session_opts *o, struct et_sink *sink);

/*
 * For a driver's turn: every record the ring holds now delivered, then a
 * snapshot round taken and delivered (after the records written before
 * it), so that the next thing in the stream is the kernel's state now.
 */
void session_sync(struct session *s);
/* A user-space record (src ET_SRC_USER) into the stream, now. */
void session_inject(struct session *s, const struct et_hdr *h, size_t size);

/* The reader of f (a pipe or socket) has gone away: EPIPE, not an error. */
bool session_reader_gone(FILE *f);

#endif
