/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_WORKLOAD_OPS_H
#define EPOLLTRACE_WORKLOAD_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

/*
 * What workload.c lends a scenario that lives in a file of its own: the
 * wrappers that perform an epoll operation and write its ground-truth
 * line, and keep the fd model that "expect" and the final closes use.
 * Each does what its namesake in workload.c does (see there).
 */
struct workload_ops {
	/* a ground-truth line about what the calling thread did */
	void (*truth)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	/* prints the first failure, writes its line; returns -1 */
	int (*fail)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	bool (*failed)(void);
	int (*ep_create)(bool legacy);
	int (*ctl)(int epfd, int op, int fd, uint32_t events, uint64_t data, int want_errno);
	int (*make_eventfd)(void);
	int (*bump_eventfd)(int fd);
	int (*drain)(int fd);
	/* a new fd for fd's file (the lowest free one), tracked; -1 on failure */
	int (*dup_fd)(int fd);
	/* epoll_wait and its line; returns what the call returned, errno kept */
	int (*wait)(int epfd, struct epoll_event *ev, int maxevents, int timeout_ms);
	/* an epoll_wait that must return exactly the one item data, with mask */
	int (*wait_one)(int epfd, uint64_t data, uint32_t mask, const char *what);
	int (*expect)(int epfd);
	int (*expect_ready)(int epfd, int n, ...);
	/*
	 * With --gate: write {"t":WHAT} and wait for SIGUSR1 (blocked in every
	 * thread of the workload); without: only the line
	 */
	int (*hold)(const char *what);
	/* 1: tid sleeps inside an epoll wait; 0: not (yet); -1: gone; -2: /proc unreadable */
	int (*asleep)(pid_t tid);
	/* close(fd) with its truth lines (the items it removes, if any) */
	int (*close_fd)(int fd);
	int (*make_pipe)(int p[2]);
	/* one byte written to fd */
	int (*put_byte)(int fd);
	/* an fd made outside these wrappers (a socket, a dup), kind a short word, for the model */
	int (*track)(int fd, const char *kind, const char *call);
	/* newfd (what call returned) refers to oldfd's file as well */
	int (*track_dup)(int newfd, int oldfd, const char *kind, const char *call);
};

extern const struct workload_ops workload_ops;

/* epoll_data the scenarios use: (epfd << 32) | fd */
static inline uint64_t workload_tag(int epfd, int fd)
{
	return (uint64_t)epfd << 32 | (uint32_t)fd;
}

/* the scenarios in files of their own */
int sc_ovflist(int scale);
int sc_rbtree(int scale);
/* diag.c: each detector provoked (diag-NAME), and not (diag-NAME-ok) */
int sc_diag_herd(int scale), sc_diag_herd_ok(int scale);
int sc_diag_excl(int scale), sc_diag_excl_ok(int scale);
int sc_diag_lt_spin(int scale), sc_diag_lt_spin_ok(int scale);
int sc_diag_sat(int scale), sc_diag_sat_ok(int scale);
int sc_diag_busy(int scale), sc_diag_busy_ok(int scale);
int sc_diag_zero(int scale), sc_diag_zero_ok(int scale);
int sc_diag_stale(int scale), sc_diag_stale_ok(int scale);
int sc_diag_residency(int scale), sc_diag_residency_ok(int scale);

#endif
