/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_LESSON_H
#define EPOLLTRACE_LESSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * Lessons (`epolltrace learn`): scripted workloads that stop at every step
 * until the presenter goes on.
 *
 * Two processes.  The workload (lesson_run(), in a process of its own, so
 * that it can be traced with -p) performs the steps; the driver (learn)
 * traces it and says when to go on, over a socket, one line each way:
 *
 *   driver:   "before K"   what is step K about to do?
 *   workload: "before K NARGS A0 A1 A2 A3 A4 A5 EPFD0 EPFD1"
 *   driver:   "run K"      do step K
 *   workload: "after K NARGS A0 .. A5 EPFD0 EPFD1"   done; the kernel's state has settled
 *         or  "fail K"     (the reason went to stderr in one line)
 *   driver:   "quit"       (or end of file) tear down and exit
 *
 * The args fill the narration's {0}..{5}; EPFDn are the workload's fds of
 * the instances the lesson shows (-1: not made yet).  The ground truth goes
 * to the truth file as the scenarios write it (workload_ops.truth), with
 * {"t":"lesson","name":...,"pid":...} first and {"t":"step","step":K,
 * "phase":"run"|"done"} around each step's lines, so that a test can cut
 * the truth into steps.
 */
struct lesson_rt;

struct lesson_step {
	const char *before;	/* N_(): what is about to happen, {N} placeholders */
	const char *after;	/* N_(): what the kernel did, in its terms */
	const char *hooks;	/* kernel functions it runs: "ep_poll_callback,ep_send_events" */
	unsigned int touched;	/* ET_LT_*: the structures to highlight */
	/* optional: sets the args the before text names; 0, or -1 failed */
	int (*prepare)(struct lesson_rt *rt);
	/* does it; returns once the kernel's state has settled (threads asleep
	 * are asleep, ready items queued); 0, or -1 failed (workload_ops.fail) */
	int (*run)(struct lesson_rt *rt);
};

struct lesson {
	const char *name;	/* the name `learn NAME` takes */
	const char *title;	/* N_(): one line */
	const char *seed;	/* where the seed articles show it (see the README's table) */
	int ninst;		/* instances shown side by side: 1 or 2 */
	size_t priv_size;	/* bytes of zeroed private state (lesson_priv) */
	/* optional: before step 1; nothing it does is narrated */
	int (*setup)(struct lesson_rt *rt);
	/* optional: after the last step or a quit; threads joined, fds the
	 * wrappers did not make closed (workload_end closes theirs) */
	void (*teardown)(struct lesson_rt *rt);
	const struct lesson_step *steps;
	int nsteps;
};

/* ---- for the steps -------------------------------------------------------- */

void *lesson_priv(struct lesson_rt *rt);
/* the values of {0}..{n-1} from now on (n <= ET_LESSON_ARGS) */
void lesson_args(struct lesson_rt *rt, int n, ...);
/* one value, {i}; the count grows to i + 1 */
void lesson_arg(struct lesson_rt *rt, int i, long long v);
/* the instance shown in slot (0 or 1) is the workload's epfd */
void lesson_epfd(struct lesson_rt *rt, int slot, int epfd);
/*
 * What the checker (tests/check_lesson.py) holds a step to, as a truth
 * line: the threads asleep on epfd's wq now (WAITERS, tids), the items
 * whose ep_poll_callback ran in the step (CALLBACKS, fds, a multiset), the
 * threads woken from its wq in the step (WAKEUPS, tids).
 */
enum lesson_expect {
	LESSON_EXPECT_WAITERS,
	LESSON_EXPECT_CALLBACKS,
	LESSON_EXPECT_WAKEUPS,
};

void lesson_expect(enum lesson_expect what, int epfd, int n, const int *v);
/* waits until tid sleeps in an epoll wait (bounded: fails after 5 s) */
int lesson_await_asleep(struct lesson_rt *rt, pid_t tid);

/* ---- the registry ------------------------------------------------------- */

/* every lesson, in the order the README teaches them, NULL-terminated */
const struct lesson *const *lesson_all(void);
const struct lesson *lesson_find(const char *name);

/* ---- the workload side --------------------------------------------------- */

/*
 * Runs lesson l in this process: with ctl >= 0, step by step as the driver
 * asks over ctl; with ctl < 0, every step in order (no driver: the truth
 * alone, for tests).  Returns 0, or 1 on failure (one line on stderr).
 */
int lesson_run(const struct lesson *l, int ctl, FILE *truth);

/* ---- the driver side ----------------------------------------------------- */

struct lesson_reply {
	int kind;		/* 'b' before, 'a' after, 'f' fail */
	int step;
	int nargs;
	__s64 arg[ET_LESSON_ARGS];
	int epfd[2];
};

/* parses one reply line (without its newline); 0, or -1 malformed */
int lesson_reply_parse(const char *line, struct lesson_reply *r);

/* {N} in text replaced by arg[N] (a missing one as "–"), into buf */
void lesson_format(char *buf, size_t len, const char *text, const __s64 *arg, int nargs);

#endif
