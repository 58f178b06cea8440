/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_LESSON_GATE_H
#define EPOLLTRACE_LESSON_GATE_H

#include <stdio.h>
#include <sys/types.h>	/* lesson.h uses pid_t */
#include "lesson.h"

/*
 * `demo --lesson NAME --gate` (hidden, for tests): lesson l run in this
 * process through its own step protocol (lesson.h) by a thread that plays
 * the driver.  After each step it writes {"t":"hold","step":K,...} with
 * the step's narration formatted as the driver would show it, and waits
 * for SIGUSR1, so that a tracer's snapshot can take the kernel's state at
 * every step.  Returns what lesson_run() returns.
 */
int lesson_run_gated(const struct lesson *l, FILE *truth);

#endif
