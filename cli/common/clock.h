/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_CLOCK_H
#define EPOLLTRACE_CLOCK_H

#include <time.h>
#include <linux/types.h>

/*
 * CLOCK_MONOTONIC: the clock of bpf_ktime_get_ns(), so of every record's
 * ts_ns.  The one clock user space reads, so that its times and the
 * records' can be compared.
 */
static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline double mono_s(void)
{
	return mono_ns() / 1e9;
}

#endif
