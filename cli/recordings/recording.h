/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_RECORDING_H
#define EPOLLTRACE_RECORDING_H

/*
 * Recordings: the decoded event stream on disk (docs/recordings.md).
 *
 * A file is a header (magic "EPOLLTRC", version, the session's facts as
 * text lines) followed by blocks.  A block holds items — records,
 * assembled snapshots, the session's ticks and its end — each length
 * prefixed, timestamps as deltas, the whole block zlib-compressed and
 * checksummed (CRC-32 of its header and of its payload).  Every block
 * decodes on its own; a block that starts a snapshot round is a keyframe.
 *
 * The writer is an et_sink (tee it next to any view); the reader gives the
 * same stream back one item at a time, and replay_feed() drives any sink
 * with it exactly as a live session would: begin, records and snapshots,
 * ticks at the recorded times, end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <linux/types.h>
#include "event.h"

#define REC_MAGIC		"EPOLLTRC"
/*
 * 2 added the SNAP_ROUND record and the SNAP_END part flags; version 1 files
 * hold a subset of version 2's records and read the same.  A reader older
 * than a file refuses it by its version, not as a corrupt block.
 * 3 added the ep_insert, ep_poll and ep_send_events records of the inline
 * rung (--attach=inline); versions 1 and 2 read the same.
 * 4 added the lesson record (`learn --record`) and the rb-tree's shape in
 * snapshots; older versions read the same.
 * 5 added the woken waiter's run (ET_EV_WAIT_RUN) and the waiter's call
 * chain (ET_EV_WAIT_CHAIN); older versions read the same.
 */
#define REC_VERSION		5
#define REC_VERSION_MIN		1
#define REC_FILE_HDR_SIZE	20	/* magic, version, header length, header CRC */
#define REC_BLOCK_HDR_SIZE	48
#define REC_MAX_HEADER		65536	/* header text, bytes */
#define REC_MAX_RAW		(64u << 20)	/* a block's inflated size */
#define REC_MAX_HOOKS		16
#define REC_MAX_TARGETS		65

/* block flags */
#define REC_BLK_KEYFRAME	(1u << 0)	/* starts with a snapshot round */

/* item kinds (one byte in the file) */
enum rec_kind {
	REC_RECORD = 1,		/* one record of include/epolltrace.h */
	REC_SNAPSHOT = 2,	/* one assembled snapshot (struct et_snapshot) */
	REC_TICK = 3,		/* the live session ticked its sinks at ts */
	REC_END = 4,		/* the session ended at ts (after its final snapshot) */
};

/* ---- writing ----------------------------------------------------------- */

struct rec_writer;

/*
 * Open PATH for a recording, under outfile.h's rules: never through a
 * symbolic link, an existing file replaced only with force, mode 0600.
 * The recording is written to a temporary name and renamed to PATH when
 * its first block is written: until then (no such pid, attach refused)
 * an existing PATH is left as it was.  A device or FIFO is written in
 * place.  NULL on error, reported on stderr in one line.  The header is
 * written when the session begins.
 */
struct rec_writer *rec_writer_open(const char *path, bool force);
/* The sink to give the session (or a tee). */
struct et_sink *rec_writer_sink(struct rec_writer *w);
/* Nonzero once a write failed (reported then; the file stays readable
 * up to the last complete block, and the session is asked to stop). */
bool rec_writer_failed(const struct rec_writer *w);
/* Bytes written and events (records + snapshots) recorded so far. */
void rec_writer_stats(const struct rec_writer *w, __u64 *bytes, __u64 *events);
/*
 * Write what is buffered and close.  A recording that holds no block
 * (the session never began, or ended before recording anything) is
 * discarded: PATH stays as it was.  Returns 0, 1 if discarded, or -1 if
 * any write failed.
 */
int rec_writer_close(struct rec_writer *w);

/* A sink that hands everything to a and then b (tick: stop if either
 * asks).  Neither is owned. */
struct et_sink *tee_new(struct et_sink *a, struct et_sink *b);
void tee_free(struct et_sink *t);

/* ---- reading ----------------------------------------------------------- */

/* The file header, parsed.  Strings are NUL-terminated, possibly empty. */
struct rec_header {
	__u32 version;
	char tool[64];			/* "epolltrace VERSION" that wrote it */
	char kernel[128];		/* uname -r of the traced machine */
	char machine[65];		/* uname -m */
	char attach[16];		/* --attach mode */
	bool callbacks_visible;		/* ep_poll_callback attached */
	struct rec_hook {
		char hook[24], using[16], fidelity[12], point[160];
	} hooks[REC_MAX_HOOKS];
	int nhooks;
	__u64 start_mono_ns;		/* CLOCK_MONOTONIC at begin */
	__u64 start_wall_ns;		/* CLOCK_REALTIME at begin */
	double snapshot_interval;
	struct rec_target {
		__u32 pid;
		char comm[ET_COMM_LEN + 1];
	} targets[REC_MAX_TARGETS];	/* none: every process was traced */
	int ntargets;
	char command[128];		/* -- COMMAND's argv[0], "" if none */
	char lesson[ET_LESSON_NAME_LEN];	/* `learn --record`: its lesson, "" if none */
};

/* One item of the stream.  Pointers stay valid until the next rec_next(),
 * rec_seek_*() or rec_close(). */
struct rec_item {
	enum rec_kind kind;
	/* events (records and snapshots) are numbered from 0 in file order;
	 * for a tick or the end: the number the next event will have */
	__u64 event_no;
	__u64 ts_ns;			/* CLOCK_MONOTONIC of the traced machine */
	const struct et_hdr *rec;	/* REC_RECORD: validated (et_record_check) */
	size_t size;			/* its size */
	const struct et_snapshot *snap;	/* REC_SNAPSHOT */
	__u64 block_off;		/* file offset of the block it came from */
};

/* A block index entry: what seeking uses. */
struct rec_block {
	__u64 off;			/* file offset of the block header */
	__u64 first_event;		/* event_no of its first event */
	__u64 first_ts;			/* ts_ns of its first item */
	__u32 nevents, nitems, flags, plen, rlen;
};

struct rec_reader;

/*
 * Open a recording and index its blocks (headers only: cheap).  On error
 * returns NULL and writes one line naming the offset into err (bad magic,
 * unknown version, corrupt or truncated header).  A corrupt block is
 * reported by rec_next() when reached; a cut-off tail is not an error.
 */
struct rec_reader *rec_open(const char *path, char *err, size_t errlen);
/* The same over a buffer (the fuzzer); data must outlive the reader. */
struct rec_reader *rec_open_mem(const void *data, size_t size, char *err, size_t errlen);
void rec_close(struct rec_reader *r);
/* The opened file's stat (to refuse writing over it).  0, or -1 (a buffer). */
int rec_fstat(const struct rec_reader *r, struct stat *st);

const struct rec_header *rec_header(const struct rec_reader *r);
/*
 * The session info a live session would give its sinks' begin(), from the
 * header (replay = true, comms set).  hooks must hold REC_MAX_HOOKS, pids
 * and comms REC_MAX_TARGETS; info's strings point into the reader.
 */
void rec_session_info(const struct rec_reader *r, struct et_session_info *info,
		      struct et_hook_info *hooks, __u32 *pids, const char **comms);

/*
 * The next item.  Returns 1 with *it filled, 0 at the end of the
 * recording, -1 on a corrupt block or a malformed item (rec_error() says
 * what, naming the offset).  After 0, rec_warning() says whether the file
 * was cut off (NULL if it ended cleanly with its end marker).  The end
 * marker (REC_END) comes only from a whole, checksummed block: a file cut
 * anywhere, even in its last byte, never returns it and ends with a
 * warning.
 */
int rec_next(struct rec_reader *r, struct rec_item *it);
const char *rec_error(const struct rec_reader *r);
const char *rec_warning(const struct rec_reader *r);

/*
 * Seeking.  Both position the reader at the start of the latest keyframe
 * block at or before the target (or at the very start), so that the next
 * rec_next() returns that block's first item, and return its event_no
 * (0 for an empty recording).  A keyframe starts with a
 * snapshot round: feeding a fresh model from there rebuilds every
 * instance the kernel walked (interest set, ready list, waiters); the
 * model's cumulative counters and histograms then count from the
 * keyframe on.  For the exact state of the live session, rewind (event
 * 0) and feed forward: decoding runs at millions of events a second.
 */
long long rec_seek_event(struct rec_reader *r, __u64 event_no);
long long rec_seek_time(struct rec_reader *r, __u64 ts_ns);
int rec_rewind(struct rec_reader *r);

/*
 * The recording's extent: the first item's and the last item's ts_ns and
 * the number of events, for a seek bar.  Decodes the last block only,
 * then rewinds the reader.  0, or -1 if the last block is corrupt (its
 * error comes again from rec_next() when reached).
 */
int rec_span(struct rec_reader *r, __u64 *first_ts, __u64 *last_ts, __u64 *events);

/* The block index (complete block headers, the cut-off tail included). */
size_t rec_blocks(const struct rec_reader *r, const struct rec_block **blocks);
/* Events in the indexed blocks (a cut-off last block may hold fewer). */
__u64 rec_total_events(const struct rec_reader *r);
/* Bytes of the file; and the offset of the block being read now. */
__u64 rec_file_size(const struct rec_reader *r);
__u64 rec_position(const struct rec_reader *r);

/* ---- headless replay --------------------------------------------------- */

struct replay_opts {
	bool progress;		/* a progress line on stderr (callers: only on a tty) */
	const char *label;	/* for the progress line, e.g. "replay" */
	const struct et_service *service;	/* answered at each tick (--metrics); NULL */
};

/*
 * Drive sink with the whole recording from the reader's position, exactly
 * as the live session drove its sinks: begin(header info), every record
 * and snapshot, tick(ts) at the recorded ticks followed by flush, end(ts).
 * A tick that returns nonzero ends the replay there (as -n does live).  A
 * cut-off file replays up to its last complete item and prints one
 * warning line.  Returns 0, or 1 after printing the error.
 */
int replay_feed(struct rec_reader *r, struct et_sink *sink, const struct replay_opts *o);

#endif
