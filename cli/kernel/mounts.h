/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_MOUNTS_H
#define EPOLLTRACE_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#define ET_TRACEFS "/sys/kernel/tracing"
/* where tracefs appears inside debugfs (kernels before 4.1 had it only there) */
#define ET_DEBUG_TRACING "/sys/kernel/debug/tracing"

/*
 * Where tracefs is (libbpf resolves tracepoint ids through it).  If it is
 * mounted nowhere and may_mount, mount it on ET_TRACEFS, as perf and
 * bpftrace do; only a privileged caller should ask (an unprivileged one
 * would only learn that mount(2) needs CAP_SYS_ADMIN).  Returns the
 * directory, or NULL with why in err: what failed and the command that
 * would fix it.  Prints nothing: the caller decides what the user needs.
 */
const char *mounts_tracefs(bool may_mount, char *err, size_t errlen);

#endif
