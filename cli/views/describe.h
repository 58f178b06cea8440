/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_DESCRIBE_H
#define EPOLLTRACE_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * Records in words: the one-line text stream and the TUI's event log say
 * the same thing, from here.
 */

/* what a record is about, for colouring and filtering */
enum et_kind {
	ETK_INSTANCE,	/* an instance created or closed */
	ETK_CTL,	/* epoll_ctl: the interest set changed */
	ETK_RELEASE,	/* implicit removal */
	ETK_CALLBACK,	/* ep_poll_callback */
	ETK_WAIT,	/* entering or leaving epoll_wait, scans */
	ETK_SLEEP,	/* a waiter fell asleep */
	ETK_WAKEUP,	/* a waiter was woken */
	ETK_TASK,	/* thread exit, fork */
	ETK_META,	/* stats, losses */
	ETK_MAX,
};

struct et_desc {
	enum et_kind kind;
	const char *func;		/* the kernel function the record stands for */
	const struct et_inst *in;	/* the instance, NULL if none */
	__s32 fd;			/* the fd concerned, -1 if none */
	char what[160];			/* the details */
};

/* What the attach plan lets the session see (struct et_session_info's
 * hooks): words about what it cannot see are left out. */
struct et_visible {
	bool callbacks;		/* ep_poll_callback attached */
	bool sleeps;		/* sched_switch/sched_waking attached: sleeps, wakeups */
	/* the inline rung's hooks attached (--attach=inline): ep_insert,
	 * ep_poll and ep_send_events records, transfers */
	bool inserts;
	bool polls;
	bool transfers;
};

struct et_session_info;
/* what the session's plan sees, from its hooks (a recording's too) */
void et_session_visible(const struct et_session_info *info, struct et_visible *vis);

void et_describe(const struct et_hdr *h, struct et_desc *d);
/* the same, for a session that sees only what vis says */
void et_describe_vis(const struct et_hdr *h, struct et_desc *d, const struct et_visible *vis);
/* The same without the words (what[] left empty): cheap, for every record. */
void et_classify(const struct et_hdr *h, struct et_desc *d);
/* One sentence on what the kernel just did, for the classroom. */
const char *et_explain(const struct et_hdr *h);

const char *et_kind_name(enum et_kind k);
/* the kind named s (a prefix is enough), or -1 */
int et_kind_parse(const char *s);

const char *et_ctl_op_name(int op);
/* "task", "hardirq", "softirq", "nmi"; NULL if the record does not say */
const char *et_context_name(unsigned int flags);
/* a task's doing (or the context is unknown), not an interrupt's or a timer's */
bool et_context_is_task(unsigned int flags);
const char *et_wait_sys_name(unsigned int sys);
/* "IN|OUT|ET" for an events mask ("none" for 0), the kernel's private bits
 * included: the one form every human view uses (evmask.h) */
char *et_events_str(__u32 mask, char *buf, size_t len);
/* A value not known: "–" (U+2013), "-" where only ASCII shows (a non-UTF-8
 * character set, or --ascii: et_unknown_ascii); never -1 or 0. */
const char *et_unknown(void);
void et_unknown_ascii(bool ascii);

#endif
