/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_CHAINS_H
#define EPOLLTRACE_CHAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * Where each waiter waits: the latest wait_chain record of each thread
 * (a thread's wait site changes rarely; BPF sends a record when it does).
 */
struct chains {
	struct et_ev_wait_chain *v;
	size_t n, cap;
};

void chains_apply(struct chains *c, const struct et_ev_wait_chain *e);
/* tid's latest chain, NULL if none was seen */
const struct et_ev_wait_chain *chains_find(const struct chains *c, __u32 tid);
/* a thread exited (tid), or its whole process (tid 0: every thread of pid) */
void chains_forget(struct chains *c, __u32 pid, __u32 tid);
void chains_free(struct chains *c);

/*
 * A frame as text: its symbol+offset, else module+0xELF-address (for
 * addr2line with the module's debug info), else module@0xaddr, else
 * the bare address.  Returns buf.
 */
const char *chain_frame_text(const struct et_chain_frame *f, char *buf, size_t size);
/* the symbol alone (no offset), or chain_frame_text's fallback; for short lines */
const char *chain_frame_name(const struct et_chain_frame *f, char *buf, size_t size);
const char *chains_method_name(unsigned int method);

#endif
