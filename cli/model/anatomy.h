/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_ANATOMY_H
#define EPOLLTRACE_ANATOMY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * Latency anatomy, per instance: where the time of a wait goes, as log2
 * histograms.  Fed by the model (model.c) from the records that exist; a
 * pure accumulator, no clock of its own.  What each figure is measured
 * between, and where a plan cannot see it, is said at enum anat_kind and
 * in docs/json.md ("anatomy").
 */

#define ANAT_BUCKETS 40		/* = MODEL_HIST_BUCKETS (model.c checks) */

enum anat_kind {
	/*
	 * ns an item sat on the ready list: from the record that queued it
	 * (ep_poll_callback, or ep_insert/ep_modify queueing it themselves)
	 * to the transfer that took it off (ep_done_scan, else the wait's
	 * return).  A level-triggered item a transfer delivered and put
	 * back counts from that transfer.  Without callbacks (tracepoint
	 * mode) only items a snapshot caught on the list are counted, from
	 * that snapshot: a lower bound, sampled.
	 */
	ANAT_RESIDENCY,
	/*
	 * ns from the waking of a sleeping waiter (sched_waking) to its
	 * switch-in (sched_switch with it as next): the wakeup latency, time
	 * runnable but not running.  The wait's last wakeup (ET_EV_WAIT_RUN).
	 */
	ANAT_WAKEUP,
	/*
	 * ns from the waking of a sleeping waiter (sched_waking) to the
	 * return of its wait: the wakeup latency plus the rest of the wait
	 * (the transfer, the copy-out, the return from the syscall).
	 */
	ANAT_WAKE_RETURN,
	ANAT_ASLEEP,		/* ns asleep per wait that slept (the wait's slept_ns) */
	ANAT_EVENTS_WAKEUP,	/* events returned per wait that slept (0: a 0-event wakeup) */
	ANAT_EVENTS_WAIT,	/* events returned per wait (ret >= 0) */
	ANAT_TRANSFER,		/* ns from ep_send_events to ep_done_scan (the inline rung) */
	ANAT_MAX,
};

struct anat_hist {
	__u64 b[ANAT_BUCKETS];	/* log2 buckets (model_bucket) */
	__u64 count, sum, max;
};

/* a sleeping waiter woken, its wait not yet returned */
struct anat_wake {
	__u32 tid;
	__u64 ts;
};

/* an item a transfer took off the ready list: delivered, if the wait returns it */
struct anat_taken {
	__u32 tid;
	__s32 fd;
	__u64 since;		/* on the list since */
	__u64 ts;		/* taken off (the scan) */
};

#define ANAT_SCANS 8

struct anatomy {
	struct anat_hist h[ANAT_MAX];
	__u64 waits;		/* waits that returned (ret >= 0) */
	__u64 maxevents_known;	/* ... whose maxevents the wait's entry said */
	__u64 full;		/* ... that returned exactly maxevents */
	__u64 timed;		/* waits with a finite timeout > 0 (known) that returned */
	__u64 timeouts;		/* ... that returned 0: the timeout expired */
	__u64 resleeps;		/* wakeups followed by another sleep in the same wait */
	struct anat_wake *wake;
	size_t nwake, cap_wake;
	struct anat_taken *taken;
	size_t ntaken, cap_taken;
	/* the last scans (ep_done_scan), by thread: when a transfer ended */
	struct anat_wake scan[ANAT_SCANS];
	unsigned int nscan;
};

void anatomy_free(struct anatomy *a);
void anatomy_add(struct anat_hist *h, __u64 v);
/*
 * A wait returned (e): maxevents and timeout_ns from its entry, maxevents
 * <= 0 when no entry was seen (timeout_ns is then ignored).
 */
void anatomy_wait_exit(struct anatomy *a, const struct et_ev_wait_exit *e, __s32 maxevents,
		       __s64 timeout_ns);
/* the other records of the instance: wait entries, sleeps, wakeups, scans */
void anatomy_follow(struct anatomy *a, const struct et_hdr *h);
/*
 * A scan of tid took fd off the ready list (on it since since): the wait's
 * return says whether it was delivered (anatomy_delivered) or found not
 * ready, which is no residency that ended in a delivery.
 */
void anatomy_taken(struct anatomy *a, __u32 tid, __s32 fd, __u64 since, __u64 ts);
/*
 * A scan of tid begins (before its anatomy_taken calls): what its earlier
 * scan took was not delivered, or its wait would have returned (ep_poll
 * returns once ep_send_events transferred anything: fs/eventpoll.c, 6.1
 * and 6.12) -- or the scan was no wait's (the epoll file polled: nested,
 * select).
 */
void anatomy_scan_begin(struct anatomy *a, __u32 tid);
/* the wait of tid returned an event of fd's item: taken by its scan, it counts */
void anatomy_delivered(struct anatomy *a, __u32 tid, __s32 fd);
/* when the last transfer of tid ended (its scan record), else dflt */
__u64 anatomy_scan_ts(const struct anatomy *a, __u32 tid, __u64 dflt);
/* thread tid exited: its pairs in flight will not be completed */
void anatomy_forget(struct anatomy *a, __u32 tid);
/* records were lost: the pairs in flight will not be completed */
void anatomy_lost(struct anatomy *a);

/*
 * The q-quantile (0 < q <= 1) of a histogram: the top of the log2 bucket
 * holding that rank, or the exact max if lower.  An upper bound of the true
 * value, so p50 <= p99 <= max.  0 if the histogram is empty.
 */
__u64 anatomy_quantile(const struct anat_hist *h, double q);

/* What a session's plan sees (struct et_visible's bits). */
struct anat_vis {
	bool callbacks;		/* ep_poll_callback attached */
	bool sleeps;		/* sched_switch/sched_waking attached */
	bool transfers;		/* ep_send_events at its site (the inline rung) */
};

/* "exact", "derived", "sampled" or "none" (cannot be seen) */
const char *anatomy_fidelity(enum anat_kind k, const struct anat_vis *v);
/* the histogram's key in --json-state ("residency_ns", ...) */
const char *anatomy_key(enum anat_kind k);
/* its name for people (gettext msgid: translate when shown) */
const char *anatomy_label(enum anat_kind k);
/* true where the values are nanoseconds, false where they are counts */
bool anatomy_is_ns(enum anat_kind k);

#endif
