/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_MODEL_H
#define EPOLLTRACE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "anatomy.h"
#include "chains.h"
#include "detect.h"
#include "event.h"

/*
 * The epoll state model: a pure state machine fed by the decoded stream
 * (model_apply) and corrected by snapshots (model_apply_snapshot).  No
 * ncurses, no libbpf, no clock of its own: time is the records' ts_ns.
 * Everything the views show is derived from it.
 */

#define MODEL_HIST_BUCKETS 40	/* log2 buckets of nanoseconds */
/* how long vanished instances stay visible, marked (htop-style) */
#define MODEL_LINGER_NS (3ULL * 1000000000ULL)
/*
 * A record touching something within this long of a walk (before or after
 * it) makes it in flight: the walk may show it before or after the change.
 * The interest set is compared item by item, skipping the items in flight;
 * the ready list and the waiters as wholes, when nothing touched them.  A
 * source of snapshots delivers each one only after the records of the
 * following MODEL_SETTLE_NS (model.c).
 */
#define MODEL_SETTLE_NS (100ULL * 1000000ULL)

/* the kernel's private bits of epi->event.events (fs/eventpoll.c) */
#define MODEL_EPOLLEXCLUSIVE	(1u << 28)
#define MODEL_EPOLLWAKEUP	(1u << 29)
#define MODEL_EPOLLONESHOT	(1u << 30)
#define MODEL_EPOLLET		(1u << 31)
#define MODEL_EP_PRIVATE_BITS	(MODEL_EPOLLWAKEUP | MODEL_EPOLLONESHOT | MODEL_EPOLLET | \
				 MODEL_EPOLLEXCLUSIVE)

struct model_item {
	__s32 fd;
	__u32 events;		/* as the kernel holds it (ONESHOT: disarmed = private bits only) */
	__u64 data;
	__u64 file;		/* identity, 0 unknown */
	__u64 added_ns;		/* 0: existed before tracing began */
	__u64 delivered_ns;	/* the last wait that returned it, 0: none seen */
};

struct model_ready {
	__s32 fd;
	__u32 events;		/* pending events (callback key), 0 unknown */
	__u64 since_ns;
	/* a callback during a transfer queued it on ovflist (struct model_inline) */
	bool ovflist;
};

struct model_waiter {
	__u32 tid;
	bool asleep;
	__s32 maxevents;
	__s64 timeout_ns;	/* -1 infinite */
	__u64 since_ns;		/* entered the wait */
	__u64 asleep_since_ns;
};

struct model_counters {
	__u64 callbacks;
	__u64 wakeups;
	__u64 waits;		/* completed waits */
	__u64 events;		/* events delivered */
	__u64 zero_wakeups;	/* waits that slept and returned 0 */
	__u64 ctl;
};

/*
 * What the named functions at their inlined sites add (--attach=inline:
 * ep_insert, ep_poll and ep_send_events records).  Counted whatever the
 * plan; a view shows them as unknown where the plan has no such hook
 * (struct et_visible), never as 0.
 *
 * A transfer is ep_send_events's copy to user space: from its record to
 * the ep_done_scan (ET_EV_SCAN) of the same thread and instance.  Inside
 * it the kernel has set ep->ovflist to NULL (ep_start_scan), so
 * ep_poll_callback chains items on ovflist instead of rdllist until
 * ep_done_scan splices them back (fs/eventpoll.c, 5.11 to 6.12 alike).
 * The window the records bound is close to the kernel's, not equal: it
 * opens before ep_send_events takes ep->mtx and ep->lock, and closes
 * when ep_done_scan is entered, before it takes ep->lock.
 */
struct model_inline {
	__u64 inserts;		/* ep_insert records: items inserted */
	/* an ep_insert whose fd, mask or file differs from the ctl ADD of the
	 * same thread that follows it */
	__u64 insert_drift;
	__u64 insert_unpaired;	/* successful ctl ADDs no ep_insert came before */
	char insert_note[96];	/* the last drift */
	__u64 polls;		/* ep_poll records: waits that entered the wait loop */
	__s32 poll_maxevents;	/* the last one's, -1 not readable */
	/* the last one's absolute expiry (the records' clock): -1 infinite,
	 * 0 do not wait, -2 not readable (struct et_ev_ep_poll) */
	__s64 poll_deadline_ns;
	__u64 poll_ts_ns;	/* when the last one entered, 0 none yet */
	bool scanning;		/* a transfer runs: callbacks are chained on ovflist */
	__u64 scan_since_ns;	/* when the oldest running transfer began */
	__u64 transfers;	/* ep_send_events records: transfers begun */
	__u64 transfers_ended;	/* ... ended by their ep_done_scan */
	__u64 transfers_unended;	/* ... with no end record: lost, or the wait ended */
	__u64 transfer_last_ns, transfer_max_ns, transfer_total_ns;	/* of the ended ones */
	__u64 ovf_callbacks;	/* callbacks inside a transfer: chained on ovflist */
	__u64 ovf_window;	/* ... inside the running transfer, or the last one */
};

/*
 * The rb-tree's shape as the latest snapshot read it (small trees only:
 * ET_MAX_SHAPE_ITEMS).  Nothing between snapshots says how an insert or a
 * removal rebalanced it: the model marks it stale then, and does not guess.
 */
struct model_tree_node {
	__s32 fd;
	__s32 left, right;	/* positions in nodes[] (tree order), -1: none */
	bool black;
};

struct model_tree {
	struct model_tree_node *nodes;	/* in the kernel's (file, fd) order */
	size_t n, cap;
	__s32 root;		/* position in nodes[], -1: empty */
	bool present;		/* the latest snapshot brought a shape */
	bool exact;		/* ... from a walk that raced no change */
	bool stale;		/* an insert or removal came since */
	__u64 ts_ns;		/* of that snapshot */
};

struct model_inst {
	struct et_inst in;
	__u64 created_ns;	/* 0: before tracing */
	__u64 closed_ns;	/* 0: open */
	struct model_item *items;	/* interest set, kept sorted by fd */
	size_t nitems, cap_items;
	struct model_ready *ready;	/* rdllist order */
	size_t nready, cap_ready;
	struct model_waiter *waiters;
	size_t nwaiters, cap_waiters;
	struct model_counters cnt;
	__u64 batch_hist[MODEL_HIST_BUCKETS];	/* events per wait, log2 */
	__u64 ready_hist[MODEL_HIST_BUCKETS];	/* ns on rdllist before delivery */
	__u64 sleep_hist[MODEL_HIST_BUCKETS];	/* ns asleep per wait */
	__u64 drift;		/* corrections made by snapshots */
	char drift_note[96];	/* what the last counted correction was */
	/*
	 * May be wrong until a snapshot that is an exact picture: records
	 * were lost, or the first pictures of an instance from before
	 * tracing began were incomplete (its interest set changed while it
	 * was walked).  Corrections meanwhile are made, and counted as drift
	 * unless records were lost.
	 */
	bool resyncing;
	bool ready_unknown;	/* a scan left more than a record holds */
	bool seen_snapshot;
	/* the last walk of the wait queue stopped short: more threads may
	 * wait than the model lists */
	bool waiters_truncated;
	__u64 compared;		/* interest-set items snapshots compared with the model */
	__u64 gone_ns;		/* closed because a complete round did not find it */
	struct model_inline il;	/* the records of the inline rung */
	struct model_tree tree;	/* rbr's shape */
	struct anatomy anat;	/* latency anatomy (anatomy.h) */
	struct det_inst *det;	/* the detectors' state (detect.c), NULL until needed */
};

struct model_proc {
	__u32 pid;
	__u64 exited_ns;	/* 0: alive (or its pid taken again by a followed fork) */
	bool untraced;		/* the tracer let the pid go at its exit */
	__u64 shares_ep;	/* a sharer (ET_EV_SHARER): the traced instance it holds */
};

struct model {
	struct model_inst **inst;
	size_t ninst, cap_inst;
	struct model_proc *procs;
	size_t nprocs, cap_procs;
	__u64 now_ns;		/* ts of the newest record applied */
	bool callbacks_visible;	/* else the ready list is sampled */
	bool scans_seen;	/* scan records come: they say what a scan leaves */
	__u64 lost;
	__u64 records;
	__u64 ignored;		/* records of a process after its exit (a reused pid) */
	__u64 compared;		/* interest-set items compared, every instance */
	struct detect det;	/* findings (detect.h) */
	struct chains chains;	/* where each waiter waits, per thread (chains.h) */
};

void model_init(struct model *m, bool callbacks_visible);
void model_free(struct model *m);
/* false if the record was ignored: it is about a process after the exit
 * of the one the pid was traced for (reused), and the views should not show
 * it either */
bool model_apply(struct model *m, const struct et_hdr *h);
void model_apply_snapshot(struct model *m, const struct et_snapshot *s);
/* Forget vanished instances and processes older than MODEL_LINGER_NS. */
void model_expire(struct model *m);

struct model_inst *model_find(const struct model *m, __u64 ep);
const struct model_item *model_item_find(const struct model_inst *in, __s32 fd);
/* position of fd on the ready list, -1 if it is not on it */
long model_ready_index(const struct model_inst *in, __s32 fd);
/* waiters asleep on the wait queue (the others found events at once) */
unsigned int model_asleep(const struct model_inst *in);
/* a live process found holding in without being a target (a sharer) */
bool model_shares(const struct model_proc *p, const struct model_inst *in);
/* how many sharers hold in */
size_t model_sharers(const struct model *m, const struct model_inst *in);
/* log2 bucket of a value (0 for 0) */
unsigned int model_bucket(__u64 v);

#endif
