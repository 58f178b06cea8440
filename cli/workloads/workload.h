/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_WORKLOAD_H
#define EPOLLTRACE_WORKLOAD_H

#include <stdio.h>

/*
 * A scripted workload that exercises the kernel's epoll machinery in known
 * ways and writes the ground truth of exactly what it did as JSON Lines, so
 * that a test can compare a trace with it (docs/workloads.md).
 */
struct workload_opts {
	const char *scenario;	/* a name from workload_scenarios() */
	FILE *truth;		/* ground-truth sink, flushed per line; NULL: none */
	int gate;		/* nonzero: wait for SIGUSR1 at "ready" and at "done" */
	int scale;		/* multiplies fd counts and iterations; <= 0 means 1 */
};

/*
 * Runs the scenario ("all": every one, in order).  Returns 0 on success;
 * on failure prints one line to stderr and returns nonzero.  Not
 * reentrant: one run per process at a time.  Blocks SIGUSR1 while it runs
 * (the gate) and sets a SIGUSR2 handler during "thread-exit".
 */
int workload_run(const struct workload_opts *o);

/*
 * For runs that are no scenario (lessons): start from a clean state, the
 * ground truth going to truth_sink (NULL: none) and naming the run name;
 * workload_end() closes every fd the wrappers made and says 1 if any
 * wrapper failed.  Between them, workload_ops (workload_ops.h) works.
 */
void workload_begin(FILE *truth_sink, const char *name);
int workload_end(void);

/* NULL-terminated list of scenario names, "all" last */
const char *const *workload_scenarios(void);

/* one-line description, NULL for an unknown name */
const char *workload_describe(const char *name);

#endif
