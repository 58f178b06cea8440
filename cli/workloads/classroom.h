/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_CLASSROOM_H
#define EPOLLTRACE_CLASSROOM_H

/*
 * The "classroom" workload behind `epolltrace demo --scenario classroom`:
 * a live, endless, slowly paced epoll workload meant to be watched.
 *
 *   - this process: a TCP echo server on 127.0.0.1 (one epoll instance
 *     with the listening socket, the accepted connections, a one-shot
 *     timerfd and an edge-triggered eventfd) served by three worker
 *     threads asleep in epoll_wait, and three client threads that send
 *     bursts of requests, and now and then replace a connection;
 *   - a forked child process ("pipeline") with its own instance: a
 *     producer thread writing into a pipe and a consumer thread asleep in
 *     epoll_wait on the pipe and a timerfd.
 *
 * It prints nothing while it runs (a front end may own the terminal).
 */
struct classroom_opts {
	double duration_s;	/* 0: until SIGINT/SIGTERM/SIGHUP or our parent dies */
	double rate;		/* speed multiplier; <= 0 means 1 */
};

/*
 * Runs until stopped; everything it made is torn down before it returns
 * (threads joined, fds closed, the child process killed and reaped).
 * Returns 0 on a clean stop; on failure prints one line to stderr and
 * returns nonzero.  Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD while it
 * runs and sets PR_SET_PDEATHSIG to SIGTERM; both are restored on return.
 * Not reentrant.
 */
int classroom_run(const struct classroom_opts *o);

#define CLASSROOM_DESCRIPTION \
	"live, endless, paced for eyes: an echo server (3 workers, 3 clients) and " \
	"a child process; --duration S, --rate X (not in all)"

#endif
