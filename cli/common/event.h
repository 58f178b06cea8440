/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_EVENT_H
#define EPOLLTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * One node of the rb-tree's shape, for items[i] of a snapshot: its
 * children and parent as positions in items[] (tree order), -1 for none.
 */
struct et_tree_node {
	__s32 left;
	__s32 right;
	__s32 parent;
	__u32 black;		/* 1 black, 0 red */
};

/*
 * Decoded records.  Live tracing and (later) replay produce the same
 * calls on a sink: one ordered stream of validated records, and whole
 * snapshots assembled from their BEGIN/ITEMS/SHAPE/READY/WAITERS/END parts.
 */
struct et_snapshot {
	struct et_hdr hdr;	/* of SNAP_BEGIN; pid = owner */
	struct et_inst in;
	__u64 seq;
	__s64 watched;		/* epitems per ep->refcount, -1 unknown */
	__u16 flags;		/* ET_F_TRUNCATED | ET_F_SCANNING | ET_F_COUNTED */
	__u32 nitems, nready, nwaiters;
	struct et_snap_item *items;
	__s32 *ready;
	__u32 *waiters;
	__u32 cap_items, cap_ready, cap_waiters;
	bool has_counters;	/* cnt read from the instances map */
	struct et_inst_counters cnt;
	/*
	 * The rb-tree's shape (trees of at most ET_MAX_SHAPE_ITEMS items):
	 * tree[i] for items[i], root its position (-1: empty tree).  Exact
	 * when the items are (flags without ET_F_ITEMS_MOVED/ITEMS_CUT).
	 */
	bool has_shape;
	__s32 root;
	struct et_tree_node *tree;
	__u32 cap_tree;
	/* assembly only: the SNAP_SHAPE records' nodes, as read */
	struct et_snap_node *raw;
	__u32 nraw, cap_raw;
	/*
	 * Positions in items[] of the items whose fd number, in the fd table
	 * of the task the walk went through, is closed or holds another
	 * file (et_ev_snap_items.stale; flags has ET_F_FDS_CHECKED).
	 */
	__u32 *stale;
	__u32 nstale, cap_stale;
};

/*
 * Turn the nodes as read (addresses) into positions in tree order: fills
 * s->tree and s->root from raw[0..nitems).  0 if every link names an item
 * and exactly one node is the root; -1 if not (the tree moved during the
 * walk): the links that name no item are -1 then.
 */
int et_shape_resolve(struct et_snapshot *s, const struct et_snap_node *raw);

/* One hook of the attach plan, as a recording's header carries it. */
struct et_hook_info {
	const char *hook;	/* logical hook: "ctl", "callback", ... */
	const char *using;	/* rung kind that won ("fentry", ...), "-" if none */
	const char *fidelity;	/* "exact", "derived", "sampled", "none" */
	const char *point;	/* attach point, or how the views cope without it */
};

/* What the consumers are told when tracing starts. */
struct et_session_info {
	bool callbacks_visible;	/* ep_poll_callback attached: ready list exact */
	const char *attach;	/* --attach mode name */
	/* for recordings' headers; NULL/0 where unknown */
	const char *kernel;	/* uname -r of the traced machine */
	const char *machine;	/* uname -m */
	const struct et_hook_info *hooks;
	int nhooks;
	__u64 start_mono_ns;	/* CLOCK_MONOTONIC at begin (the records' clock) */
	__u64 start_wall_ns;	/* CLOCK_REALTIME at the same moment */
	const __u32 *pids;	/* the targets given (-p, the spawned command); none: all */
	const char *const *comms;	/* their comms, from a recording's header; NULL live */
	int npids;
	const char *cmd;	/* -- COMMAND's argv[0], NULL if none (its pid is last) */
	double snapshot_interval;	/* seconds */
	bool replay;		/* the stream comes from a recording, not a kernel */
	const char *lesson;	/* `learn`: the lesson the stream holds, else NULL */
};

struct et_sink {
	void (*record)(struct et_sink *s, const struct et_hdr *h, size_t size);
	void (*snapshot)(struct et_sink *s, const struct et_snapshot *snap);
	void (*flush)(struct et_sink *s);
	/* optional: tracing starts */
	void (*begin)(struct et_sink *s, const struct et_session_info *info);
	/* optional: called about every 100 ms with CLOCK_MONOTONIC ns (the
	 * records' clock); nonzero: the sink has had enough, stop */
	int (*tick)(struct et_sink *s, __u64 now_ns);
	/* optional: the session is over, after the final snapshot */
	void (*end)(struct et_sink *s, __u64 now_ns);
};

/*
 * A service the loop that feeds the sinks answers besides (the metrics
 * endpoint): fd polled with the loop's own wait, readable when it has
 * work; serve() does that work without blocking, and is called at least
 * every turn of the loop (for its timeouts).
 */
struct et_service {
	int fd;
	void *ctx;
	void (*serve)(void *ctx);
};

/* The size a record of this type must have, 0 for an unknown type. */
size_t et_record_size(unsigned int type);
/* 0 if the record is well formed, -EINVAL otherwise. */
int et_record_check(const void *data, size_t size);
const char *et_type_name(unsigned int type);
const char *et_src_name(unsigned int src);

/* Snapshot assembly from the snapshot ring's parts. */
struct snap_asm {
	struct et_snapshot cur;
	bool open;
	unsigned long incomplete;	/* snapshots dropped half-way */
	unsigned long incomplete_round;	/* ... in the round going on */
	bool round_ready;		/* a round's end, not yet taken */
	struct et_ev_snap_round round;
};

/* Feed one part; returns the finished snapshot on END, else NULL. */
const struct et_snapshot *snap_asm_feed(struct snap_asm *a, const struct et_hdr *h, size_t size);
/*
 * The end of a round, once after its SNAP_ROUND record was fed (after the
 * round's snapshots), else NULL: a record for the sinks, marked
 * ET_F_TRUNCATED if a snapshot of the round was dropped half-way.
 */
const struct et_hdr *snap_asm_round(struct snap_asm *a);
void snap_asm_free(struct snap_asm *a);

#endif
