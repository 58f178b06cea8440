/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_VIEW_H
#define EPOLLTRACE_TUI_VIEW_H

#include <stdbool.h>
#include <linux/types.h>
#include "describe.h"
#include "fdkind.h"
#include "model.h"
#include "tui_buf.h"

/*
 * The TUI's screens, formatted from the model and the UI state into an
 * attributed buffer.  No curses and no clock here: tui.c owns the
 * terminal, and tests/tui_test.c checks what these functions write.
 */

#define TUI_MIN_W 60
#define TUI_MIN_H 16
#define TUI_LOG_CAP 4096	/* records kept for the event log */
#define TUI_TOUCH_CAP 4096	/* recently changed rows remembered */
#define TUI_HIGHLIGHT_NS 1000000000ULL	/* how long a touched row stays lit */

enum tui_screen { SCR_OVERVIEW, SCR_INSTANCE, SCR_HELP, SCR_MESSAGES };
enum tui_pane { PANE_TREE, PANE_READY, PANE_WAIT, PANE_LOG, PANE_MAX };
enum tui_sort {
	SORT_PID, SORT_WATCHED, SORT_READY, SORT_ASLEEP, SORT_CALLBACKS, SORT_WAKEUPS,
	SORT_EVENTS, SORT_ZERO, SORT_MAX,
};

/* The newest records, raw: formatted only when shown. */
struct tui_log {
	unsigned char *slots;
	unsigned int cap, head, count;
	__u64 total;		/* records ever pushed: the event number */
};

struct tui_touch {
	__u64 key;
	__u64 ts;
};

/* per-instance rates, from counter deltas over about a second */
struct tui_rate {
	__u64 ep;
	struct model_counters prev;
	__u64 prev_ns;
	double callbacks, wakeups, events;
};

#define TUI_FILTER_FUNCS 4

/*
 * What the event log shows.  The "what" (kinds and event names: any of
 * them) and the "who" (fd, tid, pid, epfd: all of them) must both pass.
 */
struct tui_filter {
	bool on;
	int fd;			/* -1: any */
	long tid;		/* -1: any */
	long pid;		/* -1: any */
	int epfd;		/* -1: any */
	unsigned int kinds;	/* a bit per enum et_kind; 0: any */
	int nfuncs;		/* event names (parts of them), as the log shows them */
	char funcs[TUI_FILTER_FUNCS][32];
	char text[64];		/* as typed */
};

/* Where names come from: /proc when live, the recording when replayed. */
struct tui_env {
	void *ctx;
	/* comm of a thread (tid) or process (tid == pid); false if unknown */
	bool (*comm)(void *ctx, __u32 pid, __u32 tid, char *buf, size_t len);
	/* kind and address of one of pid's fds; kind "?" if unknown */
	void (*fdkind)(void *ctx, __u32 pid, int fd, struct fdkind *out);
};

struct tui_status {
	bool replay;
	bool paused;
	bool ended;		/* the targets exited, or the recording ended */
	const char *mode;	/* attach mode */
	bool ready_exact;	/* ep_poll_callback seen: ready list exact */
	double events_per_s;
	__u64 lost;
	__u64 pending;		/* records held while paused */
	double speed;		/* replay speed */
	unsigned int messages;	/* unread lines in the message log */
	const char *note;	/* a transient message, or NULL */
	const char *via;	/* how ep_poll_callback is seen ("fentry", ...), or NULL */
	/* what the plan sees (et_session_visible); the inline rung's counts
	 * are shown only where its hooks are attached */
	struct et_visible vis;
	/* replay: where we are */
	__u64 pos_ns, first_ns, last_ns;
	__u64 event_no, events;
};

struct tui {
	struct model *m;
	const struct tglyphs *g;
	struct tui_env env;
	enum tui_screen screen, back;	/* back: where help/messages return */
	__u64 sel_ep;			/* the selected (or opened) instance */
	int sel_row;			/* its row in the overview, for scrolling */
	int top;			/* first overview row shown */
	enum tui_sort sort;
	enum tui_pane focus;
	int scroll[PANE_MAX];		/* first row shown per pane (log: from newest) */
	struct tui_filter filter;
	bool editing;			/* typing a filter (or a seek target) */
	bool seeking;			/* ... a seek target */
	bool input_sel;			/* the input is the old filter, selected:
					 * typing replaces it */
	char input[64];
	int page_top;			/* help, messages: the first line shown */
	int page_rows;			/* ... lines on screen (tui_format sets) */
	struct tui_log log;
	struct tui_touch touch[TUI_TOUCH_CAP];
	struct tui_rate *rates;
	size_t nrates, cap_rates;
	struct tui_status st;
	__u64 now_ns;			/* the display's clock (records' clock) */
	__u64 last_ns;			/* ts of the newest record applied */
	__u64 t0_ns;			/* ts of the first: times are shown from it */
	bool explain;			/* show what the last event did */
	/* what the instance view shows under rbr, rdllist and wq: one at a time */
	enum tui_lower {
		LOWER_EVENTS,		/* the event log */
		LOWER_ANATOMY,		/* the latency anatomy (a) */
		LOWER_FINDINGS,		/* the instance's findings (F) */
		LOWER_CHAINS,		/* where its waiters wait (w, tui_chains.c) */
	} lower;
	int find_sel;			/* the findings: the selected one */
	bool find_evidence;		/* ... its evidence records (Enter) */
	/* filled by tui_format for the mouse: overview rows on screen */
	int rows_y;
	int nrows_shown;
	__u64 row_ep[256];
	/* the attach plan, one line per hook, for the help screen */
	char plan[16][120];
	int nplan;
	/* rbr drawn as a tree where it fits ('t'), red and black also by a
	 * letter (mono theme, --ascii): cli/views/tui_tree.c */
	bool tree_shape;
	bool letters;
	/* message log lines, newest first (tui.c fills) */
	const char *(*message)(unsigned int n);
};

int tui_init(struct tui *t, struct model *m, const struct tglyphs *g);
void tui_free(struct tui *t);
/* Forget the records (log, highlights, rates, clocks), keep the UI state:
 * for a replay that seeks back and starts over on a fresh model. */
void tui_reset(struct tui *t);

/* Apply one record to the model, the log and the change highlights. */
void tui_apply(struct tui *t, const struct et_hdr *h, size_t size);
void tui_apply_snapshot(struct tui *t, const struct et_snapshot *s);
/* Recompute rates if about a second passed (records' clock). */
void tui_update_rates(struct tui *t, __u64 now_ns);

/* The whole screen for the current state. */
void tui_format(struct tui *t, struct tbuf *b);

/* Overview navigation: move the selection by delta rows. */
void tui_select_move(struct tui *t, int delta);
/*
 * Parse a filter: "fd 7", "tid 1234", "pid 99", "epfd 3", "kind callback",
 * an event name as the log shows it ("try_to_wake_up", or part of one),
 * "7" (an fd), "callback" (a kind); several at once.  False if it means
 * nothing, with the reason in why (f unchanged).
 */
bool tui_filter_parse(struct tui_filter *f, const char *text, char *why, size_t len);
/* The same, also knowing the names in the log; empty text: no filter. */
bool tui_set_filter(struct tui *t, const char *text, char *why, size_t len);
/* Does the record pass the filter? */
bool tui_filter_match(const struct tui_filter *f, const struct et_hdr *h);

/*
 * Step mode: does the record belong to what is on screen?  In the
 * instance view, only the instance shown; elsewhere any event (not the
 * periodic stats and snapshot rounds, which are no event).
 */
bool tui_step_match(const struct tui *t, const struct et_hdr *h);
/*
 * One step: apply_next(ctx) applies the next item of a source (a record
 * through tui_apply, or a snapshot) and returns 0 when none is left.
 * Items are applied, so the model stays exact, until a record that
 * tui_step_match takes has been; returns whether one was.
 */
bool tui_step(struct tui *t, int (*apply_next)(void *ctx), void *ctx);

/* the i-th newest record (0 = newest) in the log, or NULL */
const struct et_hdr *tui_log_get(const struct tui_log *l, unsigned int i);

const char *tui_sort_name(enum tui_sort s);

/*
 * struct eventpoll's panes of one instance, each boxed at x, y, w, h
 * (h - 3 rows of data), for another layout (the lesson's, tui_lesson.c).
 */
void tui_pane_rbr(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		  const struct model_inst *in);
void tui_pane_rdllist(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in);
void tui_pane_wq(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		 const struct model_inst *in);

#endif
