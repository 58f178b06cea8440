/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_MOUNTS_H
#define EPOLLTRACE_MOUNTS_H

#define ET_TRACEFS "/sys/kernel/tracing"

/*
 * Mount tracefs (libbpf resolves tracepoint ids through it) and bpffs if
 * they are not mounted, as perf and bpftrace do.  On failure, logs the
 * command that would fix it and returns -errno.
 */
int mounts_ensure(void);

#endif
