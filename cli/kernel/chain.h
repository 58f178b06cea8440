/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_CHAIN_H
#define EPOLLTRACE_CHAIN_H

#include <stddef.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * Where a waiter waits: BPF's ring record of a new wait site (registers,
 * frame-pointer chain, top of the user stack) made into the stream's
 * symbolized record, with elfutils' libdwfl, one Dwfl per process.
 */
struct chain_cache;

struct chain_cache *chain_cache_new(void);
void chain_cache_free(struct chain_cache *c);

/*
 * Fills *out from r (size bytes as read from the ring).  The process's
 * modules are read again from /proc/PID/maps each time (a Dwfl keeps the
 * modules that did not move), so an exec or a new mapping is seen.
 * Returns 0, or -EINVAL for a malformed record.  A process gone already
 * gives the frames' addresses with no names.
 */
int chain_resolve(struct chain_cache *c, const struct et_ring_wait_chain *r, size_t size,
		  struct et_ev_wait_chain *out);

/*
 * A waiter a snapshot found asleep (tid, on instance in) whose thread has
 * had no chain yet: it has been waiting since before tracing began, and
 * BPF sees a chain only at a wait's entry.  Its registers come from
 * /proc/TID/syscall (sp, pc of the blocked syscall; no bp) and its stack
 * from the process itself (it is blocked: the stack holds still), then as
 * chain_resolve.  Returns 0 with *out filled, -EEXIST if the thread has
 * had a chain, or -errno (not in a syscall, gone, not readable).
 */
int chain_from_proc(struct chain_cache *c, __u32 tid, const struct et_inst *in,
		    struct et_ev_wait_chain *out);

#endif
