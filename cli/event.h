/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_EVENT_H
#define EPOLLTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "epolltrace.h"

/*
 * Decoded records.  Live tracing and (later) replay produce the same
 * calls on a sink: one ordered stream of validated records, and whole
 * snapshots assembled from their BEGIN/ITEMS/READY/WAITERS/END parts.
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
};

/* What the consumers are told when tracing starts. */
struct et_session_info {
	bool callbacks_visible;	/* ep_poll_callback attached: ready list exact */
	const char *attach;	/* --attach mode name */
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
	/* optional, for a front end that reads the terminal: an fd the
	 * session watches along with the rings, and a call on every pass of
	 * the loop (about every 100 ms at least); nonzero: stop */
	int (*input_fd)(struct et_sink *s);
	int (*input)(struct et_sink *s, __u64 now_ns);
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
};

/* Feed one part; returns the finished snapshot on END, else NULL. */
const struct et_snapshot *snap_asm_feed(struct snap_asm *a, const struct et_hdr *h, size_t size);
void snap_asm_free(struct snap_asm *a);

#endif
