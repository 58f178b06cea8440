/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_SESSION_H
#define EPOLLTRACE_SESSION_H

#include <stdbool.h>
#include <sys/types.h>
#include "event.h"
#include "plan.h"

#define SESSION_MAX_PIDS 64

struct session_opts {
	pid_t pids[SESSION_MAX_PIDS];
	int npids;
	bool follow;			/* -f */
	enum plan_mode mode;		/* --attach */
	double duration;		/* seconds, 0 = until stopped */
	double snapshot_interval;	/* seconds */
	char **cmd;			/* -- CMD ARGS: spawn and trace */
	unsigned long events_ring_bytes;
	unsigned long snap_ring_bytes;
};

/*
 * Load the plan, trace until Ctrl-C/SIGTERM, the duration ends, or every
 * target has exited, and deliver every record and snapshot to sink in
 * order.  Returns the process exit status (0 ok, 1 error).
 */
int session_run(const struct session_opts *o, struct et_sink *sink);

#endif
