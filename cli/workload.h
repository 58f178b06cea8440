/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_WORKLOAD_H
#define EPOLLTRACE_WORKLOAD_H

#include <stdio.h>

/*
 * A scripted epoll workload that exercises the kernel's epoll machinery
 * in known ways and writes the ground truth of what it did as JSON Lines,
 * so that tests can compare a trace with it (README "Ground truth").
 */
struct workload_opts {
	const char *scenario;
	FILE *truth;		/* NULL: do not write ground truth */
	int gate;		/* stop at "ready" and "done" until SIGUSR1 */
	int scale;		/* multiplies fd counts (mixed) */
};

int workload_run(const struct workload_opts *o);
const char *const *workload_scenarios(void);
/* one-line description, NULL for an unknown name */
const char *workload_describe(const char *name);

#endif
