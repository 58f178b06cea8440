/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_FDKIND_H
#define EPOLLTRACE_FDKIND_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <sys/types.h>

/*
 * What a watched fd is, resolved live from /proc/PID/fd and the target's
 * own /proc/PID/net tables: "tcp", "tcp-listen", "udp", "unix-stream",
 * "unix-dgram", "unix-listen", "socket", "pipe", "eventfd", "timerfd",
 * "signalfd", "epoll", "file", or "?" when it cannot be read (the fd is
 * closed, or the process is gone).
 */
struct fdkind {
	char kind[16];
	char addr[112];		/* "127.0.0.1:6379 -> 127.0.0.1:50312", a path, or "" */
};

struct fdkind_cache;

/* A cache of one process's socket tables, valid for one refresh. */
struct fdkind_cache *fdkind_cache_new(pid_t pid);
void fdkind_cache_free(struct fdkind_cache *c);
void fdkind_resolve(struct fdkind_cache *c, int fd, struct fdkind *out);

/* A thread's comm from /proc/PID/task/TID/comm (TID == PID: the
 * process's); false, with "?" in buf, if it cannot be read. */
bool proc_comm(__u32 pid, __u32 tid, char *buf, size_t len);

#endif
