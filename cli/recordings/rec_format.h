/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_REC_FORMAT_H
#define EPOLLTRACE_REC_FORMAT_H

/* What the recording's writer and reader share beyond recording.h. */
#include <linux/types.h>
#include "epolltrace.h"
#include "event.h"

#define REC_BLOCK_MAGIC "ETBK"
/* zlib level: 3 compresses about 2.5 times faster than 6 for some 10% more
 * bytes (redis: 8.8 against 8.0 bytes/event); the tracer pays for it live */
#define REC_ZLEVEL 3

#ifdef EPOLLTRACE_VERSION
#define EPOLLTRACE_VERSION_STR EPOLLTRACE_VERSION
#else
#define EPOLLTRACE_VERSION_STR "0.1"
#endif

/* A snapshot item's body starts with this, then (if has_counters) a
 * struct et_inst_counters, then nitems struct et_snap_item, nready __s32
 * fds, nwaiters __u32 tids, then (if has_shape, version 4) the rb-tree's
 * shape: a __s32 root position and nitems struct et_tree_node.  Older
 * files have 0 where has_shape is.  No implicit padding. */
struct rec_snap_fixed {
	__u8 hdr_rest[16];	/* struct et_hdr after ts_ns */
	struct et_inst in;
	__u64 seq;
	__s64 watched;
	__u32 nitems, nready, nwaiters;
	__u16 flags;
	__u8 has_counters;
	__u8 has_shape;
};

_Static_assert(sizeof(struct rec_snap_fixed) == 64, "rec_snap_fixed layout");
_Static_assert(sizeof(struct et_hdr) == 24, "et_hdr layout");
_Static_assert(sizeof(struct et_snap_item) == 24, "et_snap_item layout");
_Static_assert(sizeof(struct et_inst_counters) == 56, "et_inst_counters layout");
_Static_assert(sizeof(struct et_tree_node) == 16, "et_tree_node layout");

#endif
