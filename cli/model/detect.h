/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_DETECT_H
#define EPOLLTRACE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * Detectors: named problems of an event loop, found per instance from the
 * records and the model's state (issue 13, section 2).  Like the latency
 * anatomy, a finding is derived, never recorded: a replay finds the same
 * findings as the live run did.  The findings of a model are in
 * struct detect (model.h: struct model's `det`); each view reads them
 * there: --json prints a "finding" record when one is new or grows
 * (detect_changed), --json-state lists them, --summary prints them at the
 * end, the TUI flags the overview row and lists them in a pane, and the
 * metrics endpoint counts them.  docs/diagnosis.md says what each one
 * means and how its threshold is set.
 */

enum det_kind {
	DET_HERD,		/* several waiters woken for what one could take */
	DET_EXCL_IMBALANCE,	/* EPOLLEXCLUSIVE: one thread takes nearly all wakeups */
	DET_LT_SPIN,		/* an LT item delivered in many consecutive waits */
	DET_MAXEVENTS_SAT,	/* waits return exactly maxevents, the list still not empty */
	DET_BUSY_POLL,		/* timeout-0 waits at a high rate, mostly returning 0 */
	DET_ZERO_WAKEUPS,	/* wakeups that returned 0 events, above a rate */
	DET_STALE_REG,		/* an item whose fd number is closed or reused in its owner */
	DET_LONG_RESIDENCY,	/* items on the ready list longer than a threshold */
	DET_MAX,
};

/* Thresholds: defaults in detect_defaults(), set with --detect KEY=VALUE. */
struct det_opts {
	bool off[DET_MAX];		/* --detect NAME=off */
	__u32 herd_waiters;		/* woken for one event, at least (2) */
	__u32 excl_share_pct;		/* one thread's share of wakeups, at least (80) */
	__u32 excl_min_wakeups;		/* ... over at least this many wakeups (50) */
	__u32 lt_spin_waits;		/* consecutive waits delivering the item (16) */
	__u64 lt_spin_window_ns;	/* ... within this time (100 ms) */
	__u32 sat_pct;			/* waits returning exactly maxevents (50) */
	__u32 sat_min_waits;		/* ... over at least this many waits (20) */
	__u32 busy_rate;		/* timeout-0 waits per second, at least (1000) */
	__u32 busy_empty_pct;		/* ... of which returned 0 (90) */
	__u32 zero_rate;		/* 0-event wakeups per second, at least (10) */
	__u64 residency_ns;		/* on the ready list longer than this (10 ms) */
};

/* the record that triggered a finding, reachable from the TUI */
struct det_evidence {
	__u64 ts_ns;
	__u64 seq;		/* position of the record in the stream (1-based) */
	__u16 type;		/* ET_EV_* */
	__u32 tid;
	__s32 fd;		/* -1: none */
};

#define DET_FDS 8
#define DET_TIDS 8
#define DET_EVIDENCE 16

struct finding {
	enum det_kind kind;
	__u64 ep;		/* the instance */
	__u32 pid;
	__s32 epfd;
	char comm[16];
	__u64 first_ns, last_ns;	/* first and latest time it was seen */
	__u64 count;		/* times it was seen (a herd: each event) */
	__u64 value;		/* the measure against its threshold (see detect_describe) */
	__s32 fds[DET_FDS];	/* the fds it is about, first ones */
	unsigned int nfds;
	__u32 tids[DET_TIDS];	/* the threads it is about, first ones */
	unsigned int ntids;
	struct det_evidence ev[DET_EVIDENCE];	/* the latest triggers, oldest first */
	unsigned int nev;
	__u64 version;		/* bumped at every change (detect_changed) */
	/*
	 * The mode cannot tell it from a healthy case: a level-triggered spin
	 * without ep_poll_callback, where new data at every wait looks the
	 * same as data left unread.  A question, not a verdict.
	 */
	bool unconfirmed;
};

struct detect {
	struct det_opts opts;
	struct finding *f;	/* one per (kind, instance), in order of first sight */
	size_t n, cap;
	__u64 version;		/* bumped whenever any finding changes */
	void *priv;		/* the detectors' own state (detect.c) */
};

void detect_defaults(struct det_opts *o);
/*
 * "KEY=VALUE" (one --detect argument, may hold several separated by ','):
 * 0, or -1 with a one-line reason in err.
 */
int detect_parse(struct det_opts *o, const char *arg, char *err, size_t errlen);

/* "herd", "exclusive-imbalance", ... (the JSON "detector" value) */
const char *detect_key(enum det_kind k);
/* the finding in one line, for people (translated), without a newline */
void detect_describe(const struct finding *f, char *buf, size_t len);
/* the hint at the fix (gettext msgid: translate when shown) */
const char *detect_hint(enum det_kind k);

/*
 * Findings changed since *seen (a view's cursor, 0 at first): calls fn for
 * each finding whose version is newer, then moves *seen on.
 */
void detect_changed(const struct detect *d, __u64 *seen,
		    void (*fn)(const struct finding *f, void *arg), void *arg);

/*
 * The options every model starts with (the command line's --detect):
 * detect_init gives a struct detect those, or the defaults if none were
 * configured.  model_init calls it.
 */
void detect_configure(const struct det_opts *o);
void detect_init(struct detect *d);
void detect_free(struct detect *d);
/* false when every detector is off (--detect off): nothing to feed */
bool detect_any_on(const struct det_opts *o);
/* the findings of instance ep */
unsigned int detect_count(const struct detect *d, __u64 ep);
/* the detector's name for people (gettext msgid: translate when shown) */
const char *detect_label(enum det_kind k);
/* the finding's measure in words (translated), e.g. "3 waiters woken ..." */
void detect_measure(const struct finding *f, char *buf, size_t len);

/* The model's calls (model.c): the detectors' state of one instance. */
struct model;
struct model_inst;
struct det_inst;
struct et_hdr;
struct et_snapshot;
/* after the model applied h (in: the instance it changed, NULL if none) */
void detect_record(struct model *m, struct model_inst *in, const struct et_hdr *h);
/* after the model applied snapshot s of in */
void detect_snapshot(struct model *m, struct model_inst *in, const struct et_snapshot *s);
void detect_inst_free(struct det_inst *di);

#endif
