// SPDX-License-Identifier: GPL-2.0
/*
 * The ncurses front end: a sink that feeds the model and the TUI state
 * (tui_view.c formats the screens), owns the terminal, reads the keys and
 * the mouse, and redraws at most ten times a second, only when something
 * changed.  While it owns the screen, diagnostics go to its message log
 * and are printed to stderr once the terminal is restored.
 *
 * Two threads: the session's, which applies records as they come, and the
 * UI thread, which reads keys and draws.  A terminal that drains slowly
 * (a busy machine, a remote link) blocks only the UI thread: the rings
 * keep being emptied.  One lock covers the model, the TUI state and the
 * records held while paused; a frame is formatted under it and written
 * to the terminal outside it.  Only the UI thread calls curses between
 * begin and end.
 */
#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <pthread.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include "clock.h"
#include "fdkind.h"
#include "i18n.h"
#include "recording.h"
#include "lang.h"
#include "log.h"
#include "tui.h"
#include "tui_view.h"

#define REDRAW_NS (100ULL * 1000000ULL)	/* at most 10 frames a second */
#define HOLD_MAX_BYTES (64u << 20)	/* records held while paused */
#define COMM_TTL_NS (2ULL * 1000000000ULL)
#define FDKIND_TTL_NS (1000000000ULL)
#define NOTE_NS (8ULL * 1000000000ULL)	/* how long a note stays on the status line */

/* ---- colour schemes ------------------------------------------------------ */

struct look {
	short fg, bg;
	int attr;		/* curses attributes on top */
};

struct theme {
	const char *name;
	struct look look[TC_MAX];
};

/* -1: the terminal's default colour */
static const struct theme themes[] = {
	{ "dark", {
		[TC_NORMAL] = { -1, -1, 0 },
		[TC_TITLE] = { COLOR_BLACK, COLOR_CYAN, 0 },
		[TC_HEADER] = { COLOR_CYAN, -1, 0 },
		[TC_BORDER] = { COLOR_BLUE, -1, 0 },
		[TC_PANE_TITLE] = { COLOR_CYAN, -1, A_BOLD },
		[TC_SELECTED] = { COLOR_BLACK, COLOR_CYAN, 0 },
		[TC_CHANGED] = { COLOR_BLACK, COLOR_YELLOW, 0 },
		[TC_DIM] = { COLOR_WHITE, -1, A_DIM },
		[TC_STATUS] = { COLOR_BLACK, COLOR_WHITE, 0 },
		[TC_KEY] = { COLOR_YELLOW, -1, A_BOLD },
		[TC_GOOD] = { COLOR_GREEN, -1, 0 },
		[TC_WARN] = { COLOR_YELLOW, -1, A_BOLD },
		[TC_ERROR] = { COLOR_RED, -1, A_BOLD },
		[TC_READY] = { COLOR_GREEN, -1, A_BOLD },
		[TC_ASLEEP] = { COLOR_MAGENTA, -1, 0 },
		[TC_K_INSTANCE] = { COLOR_WHITE, -1, A_BOLD },
		[TC_K_CTL] = { COLOR_CYAN, -1, 0 },
		[TC_K_RELEASE] = { COLOR_RED, -1, 0 },
		[TC_K_CALLBACK] = { COLOR_GREEN, -1, A_BOLD },
		[TC_K_WAIT] = { COLOR_BLUE, -1, A_BOLD },
		[TC_K_SLEEP] = { COLOR_MAGENTA, -1, 0 },
		[TC_K_WAKEUP] = { COLOR_YELLOW, -1, 0 },
		[TC_K_TASK] = { COLOR_WHITE, -1, 0 },
		[TC_K_META] = { COLOR_WHITE, -1, A_DIM },
	} },
	{ "light", {
		[TC_NORMAL] = { -1, -1, 0 },
		[TC_TITLE] = { COLOR_WHITE, COLOR_BLUE, 0 },
		[TC_HEADER] = { COLOR_BLUE, -1, 0 },
		[TC_BORDER] = { COLOR_BLUE, -1, 0 },
		[TC_PANE_TITLE] = { COLOR_BLUE, -1, A_BOLD },
		[TC_SELECTED] = { COLOR_WHITE, COLOR_BLUE, 0 },
		[TC_CHANGED] = { COLOR_BLACK, COLOR_YELLOW, 0 },
		[TC_DIM] = { COLOR_BLACK, -1, A_DIM },
		[TC_STATUS] = { COLOR_WHITE, COLOR_BLACK, 0 },
		[TC_KEY] = { COLOR_RED, -1, A_BOLD },
		[TC_GOOD] = { COLOR_GREEN, -1, 0 },
		[TC_WARN] = { COLOR_RED, -1, 0 },
		[TC_ERROR] = { COLOR_RED, -1, A_BOLD },
		[TC_READY] = { COLOR_GREEN, -1, A_BOLD },
		[TC_ASLEEP] = { COLOR_MAGENTA, -1, 0 },
		[TC_K_INSTANCE] = { COLOR_BLACK, -1, A_BOLD },
		[TC_K_CTL] = { COLOR_BLUE, -1, 0 },
		[TC_K_RELEASE] = { COLOR_RED, -1, 0 },
		[TC_K_CALLBACK] = { COLOR_GREEN, -1, A_BOLD },
		[TC_K_WAIT] = { COLOR_BLUE, -1, A_BOLD },
		[TC_K_SLEEP] = { COLOR_MAGENTA, -1, 0 },
		[TC_K_WAKEUP] = { COLOR_RED, -1, 0 },
		[TC_K_TASK] = { COLOR_BLACK, -1, 0 },
		[TC_K_META] = { COLOR_BLACK, -1, A_DIM },
	} },
};

/* without colours, attributes alone tell things apart */
static const int mono[TC_MAX] = {
	[TC_TITLE] = A_REVERSE, [TC_HEADER] = A_BOLD, [TC_PANE_TITLE] = A_BOLD,
	[TC_SELECTED] = A_REVERSE, [TC_CHANGED] = A_BOLD | A_UNDERLINE, [TC_DIM] = A_DIM,
	[TC_STATUS] = A_REVERSE, [TC_KEY] = A_BOLD, [TC_WARN] = A_BOLD, [TC_ERROR] = A_BOLD,
	[TC_READY] = A_BOLD, [TC_K_INSTANCE] = A_BOLD, [TC_K_CALLBACK] = A_BOLD,
	[TC_K_RELEASE] = A_UNDERLINE, [TC_K_META] = A_DIM,
};

const char *const *tui_themes(void)
{
	static const char *const names[] = { "dark", "light", "mono", NULL };

	return names;
}

/* ---- the sink -------------------------------------------------------------- */

struct held {			/* a record or snapshot held while paused */
	struct held *next;
	bool snap;
	size_t size;
	struct et_snapshot s;	/* when snap: arrays point after this struct */
	unsigned char data[];
};

struct comm_entry {
	__u32 tid;
	__u64 at;
	char comm[17];
};

struct fdk_cache {
	__u32 pid;
	struct fdkind_cache *c;
};

struct tsink {
	struct et_sink sink;
	pthread_mutex_t lock;
	pthread_t ui;
	bool ui_started;
	volatile bool ui_stop;		/* the session is over: the UI thread ends */
	volatile bool linger;		/* ... but keeps the screen until q */
	struct tbuf frame;		/* what is being written, outside the lock */
	struct tui_opts o;
	struct model m;
	struct tui t;
	struct tbuf buf;
	bool on;			/* curses owns the terminal */
	bool colors;
	const struct theme *theme;
	bool dirty;
	volatile bool quit;
	__u64 now;			/* the display's clock: CLOCK_MONOTONIC live,
					 * the replay position in a replay */
	__u64 last_draw;
	__u64 last_wall;		/* replay: CLOCK_MONOTONIC of the last frame */
	__u64 rate_at, rate_records;	/* for events/s */
	unsigned long seen_msgs;
	char note[160];			/* a note on the status line (a rejected filter) */
	__u64 note_at;			/* CLOCK_MONOTONIC when it was set */
	/* paused: what came meanwhile, in order */
	struct held *hold_head, **hold_tail;
	size_t hold_bytes;
	__u64 hold_dropped;
	/* names */
	struct comm_entry comms[256];
	struct fdk_cache fdk[8];
	int nfdk;
	__u64 fdk_at;
};

static struct tsink *active;	/* for atexit and the signal flag */
static void *ui_main(void *arg);
static volatile sig_atomic_t tui_signal;

/* -- names, live -- */

static bool live_comm(void *ctx, __u32 pid, __u32 tid, char *buf, size_t len)
{
	struct tsink *ts = ctx;
	struct comm_entry *e = &ts->comms[tid % 256];

	if (e->tid != tid || ts->now > e->at + COMM_TTL_NS) {
		e->tid = tid;
		e->at = ts->now;
		if (!proc_comm(pid, tid, e->comm, sizeof(e->comm)))
			e->comm[0] = 0;
	}
	if (!e->comm[0])
		return false;
	snprintf(buf, len, "%s", e->comm);
	return true;
}

/* a process's socket tables, read once and kept for FDKIND_TTL_NS */
static void live_fdkind(void *ctx, __u32 pid, int fd, struct fdkind *out)
{
	struct tsink *ts = ctx;
	struct fdkind_cache *c = NULL;

	for (int i = 0; i < ts->nfdk; i++)
		if (ts->fdk[i].pid == pid)
			c = ts->fdk[i].c;
	if (!c && ts->nfdk < 8) {
		c = fdkind_cache_new(pid);
		if (c)
			ts->fdk[ts->nfdk++] = (struct fdk_cache){ pid, c };
	}
	if (!c) {
		snprintf(out->kind, sizeof(out->kind), "?");
		out->addr[0] = 0;
		return;
	}
	fdkind_resolve(c, fd, out);
}

static const char *message_line(unsigned int n)
{
	return et_log_line(n);
}

/* -- the terminal -- */

static void curses_off(void)
{
	if (active && active->on) {
		endwin();
		active->on = false;
	}
}

static void on_tui_signal(int sig)
{
	(void)sig;
	tui_signal = 1;
}

bool tui_possible(char *why, size_t len)
{
	const char *term = getenv("TERM");

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(why, len, "the TUI needs a terminal on stdin and stdout");
		return false;
	}
	if (!term || !*term || !strcmp(term, "dumb")) {
		snprintf(why, len, "the TUI needs a terminal type (TERM is %s)",
			 term && *term ? term : "unset");
		return false;
	}
	return true;
}

static int pair_of(enum tui_color c)
{
	return (int)c + 1;
}

static bool curses_on(struct tsink *ts)
{
	const char *theme = ts->o.theme;
	bool utf8;

	/* main set the locale first (lang.c: a missing one falls back to C.UTF-8) */
	utf8 = et_lang_utf8() && !ts->o.ascii;
	if (!newterm(NULL, stdout, stdin)) {
		et_err("cannot open the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		return false;
	}
	ts->on = true;
	active = ts;
	atexit(curses_off);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	/*
	 * Home and End as terminals other than the one TERM names send them
	 * (tmux and screen under TERM=xterm*, rxvt, the Linux console): else
	 * their Esc would close the screen, as htop found too.
	 */
	define_key("\033[1~", KEY_HOME);
	define_key("\033[7~", KEY_HOME);
	define_key("\033[H", KEY_HOME);
	define_key("\033OH", KEY_HOME);
	define_key("\033[4~", KEY_END);
	define_key("\033[8~", KEY_END);
	define_key("\033[F", KEY_END);
	define_key("\033OF", KEY_END);
	mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED,
		  NULL);
	ts->t.g = utf8 ? &tglyphs_utf8 : &tglyphs_ascii;
	et_unknown_ascii(!utf8);	/* the log's "–" as the frame's glyphs */
	ts->colors = has_colors() && !getenv("NO_COLOR") && (!theme || strcmp(theme, "mono"));
	ts->theme = &themes[0];
	for (size_t i = 0; theme && i < sizeof(themes) / sizeof(themes[0]); i++)
		if (!strcmp(themes[i].name, theme))
			ts->theme = &themes[i];
	if (ts->colors && start_color() == OK) {
		use_default_colors();
		for (int c = 0; c < TC_MAX; c++)
			init_pair(pair_of(c), ts->theme->look[c].fg, ts->theme->look[c].bg);
	} else {
		ts->colors = false;
	}
	/* red and black by a letter too where colour is not seen */
	ts->t.letters = !ts->colors || !utf8;
	et_log_capture(true);
	return true;
}

static attr_t cell_attr(const struct tsink *ts, const struct tcell *c)
{
	attr_t a = 0;

	if (ts->colors)
		a = COLOR_PAIR(pair_of(c->color)) | ts->theme->look[c->color].attr;
	else
		a = mono[c->color];
	if (c->attr & TA_BOLD)
		a |= A_BOLD;
	if (c->attr & TA_REVERSE)
		a |= A_REVERSE;
	if (c->attr & TA_UNDERLINE)
		a |= A_UNDERLINE;
	return a;
}

/* Format a frame under the lock; false if nothing is due. */
static bool format_frame(struct tsink *ts, int w, int h)
{
	if (tbuf_resize(&ts->buf, w, h) || tbuf_resize(&ts->frame, w, h))
		return false;
	if (ts->t.st.replay)
		ts->t.now_ns = ts->t.st.pos_ns;
	else
		ts->t.now_ns = ts->t.st.paused || ts->t.st.ended ? ts->t.last_ns : ts->now;
	ts->t.st.messages = (unsigned int)(et_log_captured() - ts->seen_msgs);
	/* socket tables are read at most once a second per process */
	if (ts->now >= ts->fdk_at + FDKIND_TTL_NS) {
		for (int i = 0; i < ts->nfdk; i++)
			fdkind_cache_free(ts->fdk[i].c);
		ts->nfdk = 0;
		ts->fdk_at = ts->now;
	}
	tui_format(&ts->t, &ts->buf);
	memcpy(ts->frame.c, ts->buf.c, (size_t)w * h * sizeof(*ts->frame.c));
	ts->dirty = false;
	ts->last_draw = ts->now;
	return true;
}

/* Write the formatted frame to the terminal (UI thread, no lock held). */
static void blit(struct tsink *ts)
{
	const struct tbuf *b = &ts->frame;

	for (int y = 0; y < b->h; y++) {
		for (int x = 0; x < b->w; x++) {
			const struct tcell *c = &b->c[y * b->w + x];
			attr_t a = cell_attr(ts, c);

			/* a double-width character's right half: the left one drew it */
			if (c->ch == TBUF_WIDE_TAIL)
				continue;
			if (c->ch < 0x80) {
				mvaddch(y, x, (chtype)c->ch | a);
			} else {
				wchar_t wc[2] = { (wchar_t)c->ch, 0 };
				cchar_t cc;

				setcchar(&cc, wc, a, 0, NULL);
				mvadd_wch(y, x, &cc);
			}
		}
	}
	refresh();
}

/* -- records in, possibly held -- */

static void apply(struct tsink *ts, const struct et_hdr *h, size_t size)
{
	tui_apply(&ts->t, h, size);
	ts->dirty = true;
}

static void hold(struct tsink *ts, const struct et_hdr *h, size_t size,
		 const struct et_snapshot *snap)
{
	size_t extra = 0;
	struct held *e;

	if (snap)
		extra = snap->nitems * sizeof(*snap->items) + snap->nready * sizeof(*snap->ready) +
			snap->nwaiters * sizeof(*snap->waiters) +
			(snap->has_shape ? snap->nitems * sizeof(*snap->tree) : 0);
	else
		extra = size;
	if (ts->hold_bytes + extra > HOLD_MAX_BYTES) {
		ts->hold_dropped++;
		return;
	}
	e = malloc(sizeof(*e) + extra);
	if (!e) {
		ts->hold_dropped++;
		return;
	}
	e->next = NULL;
	e->snap = snap != NULL;
	e->size = extra;
	if (snap) {
		unsigned char *p = e->data;

		e->s = *snap;
		e->s.items = (void *)p;
		memcpy(p, snap->items, snap->nitems * sizeof(*snap->items));
		p += snap->nitems * sizeof(*snap->items);
		e->s.ready = (void *)p;
		memcpy(p, snap->ready, snap->nready * sizeof(*snap->ready));
		p += snap->nready * sizeof(*snap->ready);
		e->s.waiters = (void *)p;
		memcpy(p, snap->waiters, snap->nwaiters * sizeof(*snap->waiters));
		p += snap->nwaiters * sizeof(*snap->waiters);
		e->s.tree = snap->has_shape ? (void *)p : NULL;
		e->s.raw = NULL;
		if (snap->has_shape)
			memcpy(p, snap->tree, snap->nitems * sizeof(*snap->tree));
	} else {
		memcpy(e->data, h, size);
	}
	*ts->hold_tail = e;
	ts->hold_tail = &e->next;
	ts->hold_bytes += extra;
	ts->t.st.pending++;
}

/* Apply the oldest held item (a record or a snapshot); 0 when none is left. */
static int release_item(void *ctx)
{
	struct tsink *ts = ctx;
	struct held *e = ts->hold_head;

	if (!e)
		return 0;
	ts->hold_head = e->next;
	if (!ts->hold_head)
		ts->hold_tail = &ts->hold_head;
	ts->hold_bytes -= e->size;
	ts->t.st.pending--;
	if (e->snap)
		tui_apply_snapshot(&ts->t, &e->s);
	else
		apply(ts, (const void *)e->data, e->size);
	free(e);
	ts->dirty = true;
	return 1;
}

/*
 * One step of what was held: up to and including the next record of what
 * is on screen (the instance view: its instance only, issue 12); the
 * records of other instances on the way are applied, unseen, so that the
 * model stays exact.  Returns false when nothing of it is left.
 */
static bool release_one(struct tsink *ts)
{
	if (tui_step(&ts->t, release_item, ts))
		return true;
	/* a gap in what was held: the model must resync */
	if (ts->hold_dropped) {
		struct et_ev_lost l = { .count = ts->hold_dropped };

		l.hdr.type = ET_EV_LOST;
		l.hdr.ts_ns = ts->t.last_ns;
		l.hdr.src = ET_SRC_USER;
		apply(ts, &l.hdr, sizeof(l));
		ts->hold_dropped = 0;
	}
	return false;
}

static void t_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct tsink *ts = (struct tsink *)s;

	pthread_mutex_lock(&ts->lock);
	ts->rate_records++;
	if (ts->t.st.paused)
		hold(ts, h, size, NULL);
	else
		apply(ts, h, size);
	pthread_mutex_unlock(&ts->lock);
}

static void t_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct tsink *ts = (struct tsink *)s;

	pthread_mutex_lock(&ts->lock);
	if (ts->t.st.paused) {
		hold(ts, NULL, 0, snap);
	} else {
		tui_apply_snapshot(&ts->t, snap);
		ts->dirty = true;
	}
	pthread_mutex_unlock(&ts->lock);
}

static void t_flush(struct et_sink *s)
{
	(void)s;
}

static void t_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct tsink *ts = (struct tsink *)s;

	ts->m.callbacks_visible = info->callbacks_visible;
	ts->t.st.mode = info->attach;
	ts->t.st.ready_exact = info->callbacks_visible;
	et_session_visible(info, &ts->t.st.vis);
	for (int i = 0; i < info->nhooks; i++) {
		const struct et_hook_info *hk = &info->hooks[i];

		if (!strcmp(hk->hook, "callback") && strcmp(hk->using, "-"))
			ts->t.st.via = hk->using;
		if (ts->t.nplan < (int)(sizeof(ts->t.plan) / sizeof(ts->t.plan[0])))
			snprintf(ts->t.plan[ts->t.nplan++], sizeof(ts->t.plan[0]),
				 "  %-12s %-10s %-8s %s", hk->hook, hk->using, hk->fidelity,
				 hk->point);
	}
	ts->now = mono_ns();
	if (!curses_on(ts)) {
		ts->quit = true;
		return;
	}
	ts->dirty = true;
	if (ts->t.st.replay)
		return;		/* tui_replay() runs the screen in this thread */
	if (pthread_create(&ts->ui, NULL, ui_main, ts)) {
		curses_off();
		et_log_capture(false);
		et_err("cannot start the TUI thread");
		ts->quit = true;
		return;
	}
	ts->ui_started = true;
}

/* -- keys -- */

static void toggle_pause(struct tsink *ts)
{
	ts->t.st.paused = !ts->t.st.paused;
	if (!ts->t.st.paused) {
		while (release_item(ts))
			;
		release_one(ts);	/* nothing left: a gap, if any, is applied */
		ts->t.explain = false;
	}
}

static void open_screen(struct tsink *ts, enum tui_screen scr)
{
	if (ts->t.screen == scr) {
		ts->t.screen = ts->t.back;
		return;
	}
	if (ts->t.screen == SCR_OVERVIEW || ts->t.screen == SCR_INSTANCE)
		ts->t.back = ts->t.screen;
	ts->t.screen = scr;
	/* the help opens at its top, the messages at their end (the newest) */
	ts->t.page_top = scr == SCR_HELP ? 0 : 1000000;
	if (scr == SCR_MESSAGES)
		ts->seen_msgs = et_log_captured();
}

static void scroll_focus(struct tsink *ts, int delta)
{
	struct tui *t = &ts->t;

	if (t->screen == SCR_OVERVIEW) {
		tui_select_move(t, delta);
		return;
	}
	if (t->screen == SCR_HELP || t->screen == SCR_MESSAGES) {
		/* tui_format keeps it in range */
		t->page_top += delta;
		if (t->page_top < 0)
			t->page_top = 0;
		if (t->page_top > 1000000)
			t->page_top = 1000000;
		return;
	}
	if (t->screen != SCR_INSTANCE)
		return;
	/* the findings pane in the log's place: the selection moves */
	if (t->lower == LOWER_FINDINGS && t->focus == PANE_LOG && !t->find_evidence) {
		t->find_sel = t->find_sel + delta < 0 ? 0 : t->find_sel + delta;
		return;
	}
	/* the log scrolls back in time upwards */
	if (t->focus == PANE_LOG)
		delta = -delta;
	t->scroll[t->focus] += delta;
	if (t->scroll[t->focus] < 0)
		t->scroll[t->focus] = 0;
}

/* the instance view's lower pane: KIND, or back to the events if it shows KIND */
static void lower_toggle(struct tui *t, enum tui_lower kind)
{
	t->lower = t->lower == kind ? LOWER_EVENTS : kind;
	t->find_evidence = false;
	if (t->lower == LOWER_FINDINGS)
		t->focus = PANE_LOG;	/* Up/Down select a finding */
}

/* a note on the status line, for a few seconds: why a filter or a seek was refused */
static void __attribute__((format(printf, 2, 3)))
set_note(struct tsink *ts, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ts->note, sizeof(ts->note), fmt, ap);
	va_end(ap);
	ts->note_at = mono_ns();
	ts->t.st.note = ts->note;
}

static void clear_note(struct tsink *ts)
{
	ts->t.st.note = NULL;
	ts->note[0] = 0;
}

/* a note goes after a while (wall clock: a paused view shows it too) */
static void note_expire(struct tsink *ts, __u64 wall)
{
	if (ts->t.st.note && wall > ts->note_at + NOTE_NS) {
		clear_note(ts);
		ts->dirty = true;
	}
}

/*
 * A key into the input line (a filter, a seek target): 1 on Enter, -1 on
 * Esc (the line is ended either way), 0 while typing.  As in a shell,
 * ^U erases the line and ^W the word before the cursor.  An old filter
 * comes selected: typing replaces it, a cursor key keeps it for editing.
 */
static int edit_line(struct tui *t, int ch)
{
	size_t n = strlen(t->input);
	bool sel = t->input_sel;

	if (ch == KEY_RESIZE || ch == KEY_MOUSE)
		return 0;
	t->input_sel = false;
	if (ch == 27 || ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		t->editing = t->seeking = false;
		return ch == 27 ? -1 : 1;
	}
	if (sel && (ch == KEY_BACKSPACE || ch == 127 || ch == 8 || ch == KEY_DC ||
		    (ch >= 32 && ch < 127))) {
		t->input[0] = 0;	/* the selection goes */
		n = 0;
		if (ch < 32 || ch >= 127)
			return 0;
	}
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n)
			t->input[n - 1] = 0;
	} else if (ch == 21) {		/* ^U */
		t->input[0] = 0;
	} else if (ch == 23) {		/* ^W: blanks, then the word */
		while (n && t->input[n - 1] == ' ')
			t->input[--n] = 0;
		while (n && t->input[n - 1] != ' ')
			t->input[--n] = 0;
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(t->input)) {
		t->input[n] = (char)ch;
		t->input[n + 1] = 0;
	}
	return 0;
}

static void filter_key(struct tsink *ts, int ch)
{
	struct tui *t = &ts->t;
	char why[128];
	int done = edit_line(t, ch);

	if (done < 0) {			/* Esc: no filter at all */
		t->filter.on = false;
		t->input[0] = 0;
		clear_note(ts);
	} else if (done > 0) {
		if (tui_set_filter(t, t->input, why, sizeof(why))) {
			clear_note(ts);
		} else {
			/* say why, and leave the text to be put right */
			set_note(ts, _("filter rejected: %s"), why);
			t->editing = true;
		}
	}
}

static void open_filter(struct tsink *ts)
{
	struct tui *t = &ts->t;

	t->editing = true;
	t->seeking = false;
	snprintf(t->input, sizeof(t->input), "%s", t->filter.on ? t->filter.text : "");
	t->input_sel = t->input[0] != 0;
	clear_note(ts);
}

static void mouse_key(struct tsink *ts)
{
	struct tui *t = &ts->t;
	MEVENT ev;
	int row;

	if (getmouse(&ev) != OK)
		return;
	if (ev.bstate & BUTTON4_PRESSED) {
		scroll_focus(ts, -3);
		return;
	}
	if (ev.bstate & BUTTON5_PRESSED) {
		scroll_focus(ts, 3);
		return;
	}
	if (t->screen != SCR_OVERVIEW)
		return;
	row = ev.y - t->rows_y;
	if (row < 0 || row >= t->nrows_shown)
		return;
	if (t->sel_ep == t->row_ep[row] || (ev.bstate & BUTTON1_DOUBLE_CLICKED)) {
		t->sel_ep = t->row_ep[row];
		t->screen = SCR_INSTANCE;
	} else {
		t->sel_ep = t->row_ep[row];
	}
}

/* a page: the help's or the messages' height, else ten rows */
static int page(const struct tui *t)
{
	bool paged = t->screen == SCR_HELP || t->screen == SCR_MESSAGES;

	return paged && t->page_rows > 2 ? t->page_rows - 1 : 10;
}

/* one key; returns nonzero to quit */
static int key(struct tsink *ts, int ch)
{
	struct tui *t = &ts->t;

	ts->dirty = true;
	if (t->editing && !t->seeking) {
		filter_key(ts, ch);
		return 0;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case KEY_RESIZE:
		break;
	case KEY_UP:
	case 'k':
		scroll_focus(ts, -1);
		break;
	case KEY_DOWN:
	case 'j':
		scroll_focus(ts, 1);
		break;
	case KEY_PPAGE:
		scroll_focus(ts, -page(t));
		break;
	case KEY_NPAGE:
		scroll_focus(ts, page(t));
		break;
	case 'g':
	case KEY_HOME:
		scroll_focus(ts, -1000000);
		break;
	case 'G':
	case KEY_END:
		scroll_focus(ts, 1000000);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case KEY_RIGHT:
	case 'l':
		/* the findings pane: a finding's evidence, and back */
		if (t->screen == SCR_INSTANCE && t->lower == LOWER_FINDINGS && ch != KEY_RIGHT &&
		    ch != 'l') {
			t->find_evidence = !t->find_evidence;
			break;
		}
		if (t->screen == SCR_OVERVIEW && model_find(t->m, t->sel_ep)) {
			t->screen = SCR_INSTANCE;
			t->focus = PANE_TREE;
			memset(t->scroll, 0, sizeof(t->scroll));
		}
		break;
	case 27:
	case KEY_LEFT:
	case 'h':
	case KEY_BACKSPACE:
		if (t->screen == SCR_HELP || t->screen == SCR_MESSAGES)
			t->screen = t->back;
		else
			t->screen = SCR_OVERVIEW;
		break;
	case '\t':
		t->focus = (t->focus + 1) % PANE_MAX;
		break;
	case KEY_BTAB:
		t->focus = (t->focus + PANE_MAX - 1) % PANE_MAX;
		break;
	case 'p':
		toggle_pause(ts);
		break;
	case ' ':
		if (t->st.paused) {
			/* say why nothing moved: the others' events went by unseen */
			if (!release_one(ts) && t->screen == SCR_INSTANCE)
				set_note(ts, "%s", _("no event of this instance held yet"));
			t->explain = true;
		}
		break;
	case '/':
		open_filter(ts);
		break;
	case 's':
		t->sort = (t->sort + 1) % SORT_MAX;
		break;
	case 'S':
		t->sort = (t->sort + SORT_MAX - 1) % SORT_MAX;
		break;
	case 't':
		t->tree_shape = !t->tree_shape;
		break;
	case '?':
		open_screen(ts, SCR_HELP);
		break;
	case 'm':
		open_screen(ts, SCR_MESSAGES);
		break;
	case 'a':	/* the instance view's lower pane: the anatomy, or the events */
	case 'F':	/* ... the findings, or the events */
	case 'w':	/* ... where the waiters wait, or the events */
		if (t->screen != SCR_INSTANCE) {
			ts->dirty = false;
			break;
		}
		lower_toggle(t, ch == 'a' ? LOWER_ANATOMY : ch == 'F' ? LOWER_FINDINGS : LOWER_CHAINS);
		break;
	case KEY_MOUSE:
		mouse_key(ts);
		break;
	default:
		ts->dirty = false;
	}
	return 0;
}

/* once a second: rates, events/s, losses, expiry (under the lock) */
static void per_second(struct tsink *ts)
{
	__u64 now = ts->now;

	if (now < ts->rate_at + 1000000000ULL)
		return;
	if (ts->rate_at)
		ts->t.st.events_per_s = ts->rate_records / ((now - ts->rate_at) / 1e9);
	ts->rate_at = now;
	ts->rate_records = 0;
	tui_update_rates(&ts->t, ts->t.st.paused ? ts->t.last_ns : now);
	ts->t.st.lost = ts->m.lost;
	if (!ts->t.st.paused && !ts->t.st.ended)
		model_expire(&ts->m);	/* closed instances linger 3 s */
	ts->dirty = true;		/* rates, ages and countdowns moved */
}

/* The terminal hung up (its window closed, the ssh link dropped). */
static bool terminal_gone(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/*
 * The UI thread: keys, then (at most every REDRAW_NS, and only if
 * something changed) a frame.  It ends when the session is over, or, if
 * the session ended because the targets exited, when q is pressed.
 */
static void *ui_main(void *arg)
{
	struct tsink *ts = arg;

	wtimeout(stdscr, 50);
	for (;;) {
		int ch = getch(), h, w;
		bool due;

		if (tui_signal || terminal_gone())
			ts->quit = true;
		if (ts->ui_stop && (!ts->linger || ts->quit))
			break;
		if (ts->quit && ts->linger)
			break;
		pthread_mutex_lock(&ts->lock);
		ts->now = mono_ns();
		while (ch != ERR && !ts->quit) {
			if (key(ts, ch))
				ts->quit = true;
			ch = ts->quit ? ERR : (nodelay(stdscr, TRUE), getch());
		}
		wtimeout(stdscr, 50);
		per_second(ts);
		note_expire(ts, ts->now);
		/* the instance view shows ages and countdowns: keep them moving */
		if (ts->t.screen == SCR_INSTANCE && !ts->t.st.paused && !ts->t.st.ended)
			ts->dirty = true;
		if (et_log_captured() != ts->seen_msgs)
			ts->dirty = true;
		getmaxyx(stdscr, h, w);
		due = ts->dirty && ts->now >= ts->last_draw + REDRAW_NS && format_frame(ts, w, h);
		pthread_mutex_unlock(&ts->lock);
		if (due)
			blit(ts);
		if (ts->quit && !ts->linger)
			break;
	}
	return NULL;
}

static int t_tick(struct et_sink *s, __u64 now)
{
	(void)now;
	return ((struct tsink *)s)->quit ? 1 : 0;
}

/* every traced process is gone: the session ended by itself */
static bool targets_gone(const struct tsink *ts)
{
	if (!ts->m.nprocs)
		return false;
	for (size_t i = 0; i < ts->m.nprocs; i++)
		if (!ts->m.procs[i].exited_ns && !(kill((pid_t)ts->m.procs[i].pid, 0) && errno == ESRCH))
			return false;
	return true;
}

static void t_end(struct et_sink *s, __u64 now)
{
	struct tsink *ts = (struct tsink *)s;
	struct sigaction sa = { .sa_handler = on_tui_signal };

	(void)now;
	if (!ts->on)
		return;
	pthread_mutex_lock(&ts->lock);
	/* the targets went away: keep their last picture until q */
	if (!ts->quit && !tui_signal && targets_gone(ts)) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		while (ts->t.st.paused)
			toggle_pause(ts);
		ts->t.st.ended = true;
		et_info("the traced processes exited; q quits");
		ts->dirty = true;
		ts->linger = true;
	}
	ts->ui_stop = true;
	pthread_mutex_unlock(&ts->lock);
	if (ts->ui_started)
		pthread_join(ts->ui, NULL);
	ts->ui_started = false;
	curses_off();
	et_log_capture(false);
	et_log_flush();
}

/* ---- replay: the same screens, driven from a recording ---------------------- */

static const double speeds[] = { 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100 };

struct replay {
	struct tsink *ts;
	struct rec_reader *r;
	const struct rec_header *hdr;
	struct rec_item it;		/* the next item, not yet applied */
	bool have;			/* it is valid */
	bool at_end;
	int speed;			/* index into speeds */
	__u64 anchor_wall, anchor_pos;	/* playing: pos = anchor_pos + (wall - anchor_wall) * speed */
	bool callbacks_visible;
	int err;			/* a corrupt block was met */
};

/* a recorded target's comm; fd kinds are not recorded */
static bool replay_comm(void *ctx, __u32 pid, __u32 tid, char *buf, size_t len)
{
	const struct rec_header *h = ctx;

	for (int i = 0; tid == pid && i < h->ntargets; i++)
		if (h->targets[i].pid == pid) {
			snprintf(buf, len, "%s", h->targets[i].comm);
			return true;
		}
	return false;
}

static void replay_fdkind(void *ctx, __u32 pid, int fd, struct fdkind *out)
{
	(void)ctx;
	(void)pid;
	(void)fd;
	snprintf(out->kind, sizeof(out->kind), "?");
	out->addr[0] = 0;
}

/* read ahead one item: false at the end (or on an error, kept in rp->err) */
static bool peek(struct replay *rp)
{
	int n;

	if (rp->have)
		return true;
	if (rp->at_end)
		return false;
	n = rec_next(rp->r, &rp->it);
	if (n <= 0) {
		rp->at_end = true;
		if (n < 0) {
			rp->err = 1;
			et_err("%s", rec_error(rp->r));
		} else if (rec_warning(rp->r)) {
			et_warn("%s", rec_warning(rp->r));
		}
		return false;
	}
	rp->have = true;
	return true;
}

/* apply the item read ahead; returns true if it was a record */
static bool take(struct replay *rp)
{
	struct tsink *ts = rp->ts;
	bool rec = rp->it.kind == REC_RECORD;

	if (rec) {
		ts->rate_records++;
		apply(ts, rp->it.rec, rp->it.size);
	} else if (rp->it.kind == REC_SNAPSHOT) {
		tui_apply_snapshot(&ts->t, rp->it.snap);
		ts->dirty = true;
	}
	ts->t.st.pos_ns = rp->it.ts_ns > ts->t.st.pos_ns ? rp->it.ts_ns : ts->t.st.pos_ns;
	ts->t.st.event_no = rp->it.kind == REC_RECORD || rp->it.kind == REC_SNAPSHOT ?
			    rp->it.event_no + 1 : rp->it.event_no;
	rp->have = false;
	return rec;
}

/* start over from the first event, on a fresh model */
static void restart(struct replay *rp)
{
	struct tsink *ts = rp->ts;

	model_free(&ts->m);
	model_init(&ts->m, rp->callbacks_visible);
	tui_reset(&ts->t);
	rec_rewind(rp->r);
	rp->have = rp->at_end = false;
	ts->t.st.pos_ns = ts->t.st.first_ns;
	ts->t.st.event_no = 0;
	ts->t.st.ended = false;
	ts->dirty = true;
}

/* Go to a time (records' clock) or an event number: forward by applying,
 * back by starting over, so the state is exactly the live one. */
static void seek(struct replay *rp, bool by_event, __u64 to)
{
	struct tsink *ts = rp->ts;

	if (by_event ? to < ts->t.st.event_no : to < ts->t.st.pos_ns)
		restart(rp);
	while (peek(rp) && (by_event ? rp->it.event_no < to : rp->it.ts_ns <= to))
		take(rp);
	if (!by_event && to > ts->t.st.pos_ns && !rp->at_end)
		ts->t.st.pos_ns = to;
	rp->anchor_wall = mono_ns();
	rp->anchor_pos = ts->t.st.pos_ns;
	ts->dirty = true;
}

/* the next item of the recording, applied; 0 at the end */
static int replay_item(void *ctx)
{
	struct replay *rp = ctx;

	if (!peek(rp))
		return 0;
	take(rp);
	return 1;
}

/* one event of what is on screen (and whatever comes before it) */
static bool step(struct replay *rp)
{
	return tui_step(&rp->ts->t, replay_item, rp);
}

/* the next event the filter passes, else the next of the last event's kind */
static void next_of_kind(struct replay *rp)
{
	struct tsink *ts = rp->ts;
	const struct et_hdr *last = tui_log_get(&ts->t.log, 0);
	const struct tui_filter *f = &ts->t.filter;
	struct et_desc d;
	int kind = -1;

	if (!f->on && last) {
		et_classify(last, &d);
		kind = (int)d.kind;
	}
	while (peek(rp)) {
		if (rp->it.kind == REC_RECORD) {
			et_classify(rp->it.rec, &d);
			if (f->on ? tui_filter_match(f, rp->it.rec) :
				    kind < 0 || (int)d.kind == kind) {
				take(rp);
				break;
			}
		}
		take(rp);
	}
	ts->t.st.paused = true;
	ts->t.explain = true;
}

static void seek_prompt_done(struct replay *rp)
{
	struct tui *t = &rp->ts->t;
	char *end;
	double v;

	if (t->input[0] == '#') {
		unsigned long long n = strtoull(t->input + 1, &end, 10);

		if (end == t->input + 1 || *end)
			set_note(rp->ts, _("seek: not an event number: '%s'"), t->input);
		else
			seek(rp, true, n);
		return;
	}
	v = strtod(t->input, &end);
	if (end == t->input || *end || !(v >= 0 && v < 1e9))
		set_note(rp->ts, _("seek: not a time in seconds: '%s'"), t->input);
	else
		seek(rp, false, t->st.first_ns + (__u64)(v * 1e9));
}

/* replay's own keys; false if the key is the common ones' */
static bool replay_key(struct replay *rp, int ch)
{
	struct tsink *ts = rp->ts;
	struct tui *t = &ts->t;

	if (t->editing && t->seeking) {
		if (edit_line(t, ch) > 0)
			seek_prompt_done(rp);
		ts->dirty = true;
		return true;
	}
	if (t->editing)
		return false;
	switch (ch) {
	case 'p':
		t->st.paused = !t->st.paused;
		t->explain = t->st.paused && t->explain;
		break;
	case ' ':
	case '.':
		t->st.paused = true;
		if (!step(rp))
			set_note(ts, "%s", t->screen == SCR_INSTANCE ?
				 _("no more events of this instance in the recording") :
				 _("the end of the recording"));
		t->explain = true;
		break;
	case '+':
	case '=':
		if (rp->speed + 1 < (int)(sizeof(speeds) / sizeof(speeds[0])))
			rp->speed++;
		break;
	case '-':
		if (rp->speed > 0)
			rp->speed--;
		break;
	case 'n':
		next_of_kind(rp);
		break;
	case '[':
		seek(rp, false, t->st.pos_ns > t->st.first_ns + 10000000000ULL ?
				t->st.pos_ns - 10000000000ULL : t->st.first_ns);
		break;
	case ']':
		seek(rp, false, t->st.pos_ns + 10000000000ULL);
		break;
	case KEY_HOME:
	case '<':
		if (ch == KEY_HOME && (t->screen == SCR_HELP || t->screen == SCR_MESSAGES))
			return false;	/* it scrolls the help */
		seek(rp, true, 0);
		break;
	case KEY_END:
	case '>':
		if (ch == KEY_END && (t->screen == SCR_HELP || t->screen == SCR_MESSAGES))
			return false;
		seek(rp, false, t->st.last_ns);
		break;
	case ':':
		t->editing = t->seeking = true;
		t->input[0] = 0;
		break;
	default:
		return false;
	}
	t->st.speed = speeds[rp->speed];
	rp->anchor_wall = mono_ns();
	rp->anchor_pos = t->st.pos_ns;
	ts->dirty = true;
	return true;
}

int tui_replay(struct rec_reader *r, const struct tui_opts *o)
{
	struct et_hook_info hooks[REC_MAX_HOOKS];
	__u32 pids[REC_MAX_TARGETS];
	const char *comms[REC_MAX_TARGETS];
	struct et_session_info info = {};
	struct replay rp = { .r = r, .hdr = rec_header(r), .speed = 3 };
	struct et_sink *s = tui_sink_new(o);
	struct tsink *ts = (struct tsink *)s;
	__u64 first = 0, last = 0, events = 0;
	int ret = 0;

	if (!s) {
		et_err("out of memory");
		return 1;
	}
	rp.ts = ts;
	if (rec_span(r, &first, &last, &events) < 0)
		et_warn("%s", rec_error(r));
	rec_session_info(r, &info, hooks, pids, comms);
	rp.callbacks_visible = info.callbacks_visible;
	ts->t.st.replay = true;
	ts->t.st.speed = speeds[rp.speed];
	ts->t.st.first_ns = ts->t.st.pos_ns = first;
	ts->t.st.last_ns = last;
	ts->t.st.events = events;
	ts->t.env = (struct tui_env){ .ctx = (void *)rp.hdr, .comm = replay_comm,
				      .fdkind = replay_fdkind };
	t_begin(s, &info);
	if (ts->quit) {
		tui_sink_free(s);
		return 1;
	}
	rp.anchor_wall = mono_ns();
	rp.anchor_pos = first;
	wtimeout(stdscr, 20);
	while (!ts->quit) {
		int ch = getch(), h, w;
		__u64 now = mono_ns();

		if (tui_signal || terminal_gone())
			break;
		while (ch != ERR) {
			if (!replay_key(&rp, ch) && key(ts, ch)) {
				ts->quit = true;
				break;
			}
			nodelay(stdscr, TRUE);
			ch = getch();
		}
		wtimeout(stdscr, 20);
		if (!ts->t.st.paused && !ts->t.st.ended) {
			__u64 target = rp.anchor_pos +
				       (__u64)((now - rp.anchor_wall) * speeds[rp.speed]);
			unsigned int budget = 200000;	/* stay responsive at x100 */

			while (budget-- && peek(&rp) && rp.it.ts_ns <= target)
				take(&rp);
			if (target > ts->t.st.pos_ns && !rp.at_end)
				ts->t.st.pos_ns = target;
			ts->dirty = true;
		}
		if (!rp.have && rp.at_end && !ts->t.st.ended) {
			ts->t.st.ended = true;
			ts->dirty = true;
		}
		ts->now = ts->t.st.pos_ns;
		per_second(ts);
		note_expire(ts, now);
		if (et_log_captured() != ts->seen_msgs)
			ts->dirty = true;
		getmaxyx(stdscr, h, w);
		if (ts->dirty && now >= ts->last_wall + REDRAW_NS && format_frame(ts, w, h)) {
			ts->last_wall = now;
			blit(ts);
		}
	}
	ret = rp.err;
	curses_off();
	et_log_capture(false);
	et_log_flush();
	tui_sink_free(s);
	return ret;
}

/* ---- the terminal, for another layout (tui.h) ------------------------------- */

bool tui_term_on(struct et_sink *s)
{
	return curses_on((struct tsink *)s);
}

const struct tglyphs *tui_term_glyphs(const struct et_sink *s)
{
	return ((const struct tsink *)s)->t.g;
}

bool tui_term_letters(const struct et_sink *s)
{
	return ((const struct tsink *)s)->t.letters;
}

void tui_term_draw(struct et_sink *s, const struct tbuf *b)
{
	struct tsink *ts = (struct tsink *)s;

	if (!ts->on || tbuf_resize(&ts->frame, b->w, b->h))
		return;
	memcpy(ts->frame.c, b->c, (size_t)b->w * b->h * sizeof(*b->c));
	blit(ts);
}

bool tui_term_gone(void)
{
	return tui_signal || terminal_gone();
}

struct et_sink *tui_sink_new(const struct tui_opts *o)
{
	struct tsink *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	if (o)
		ts->o = *o;
	model_init(&ts->m, true);
	if (tui_init(&ts->t, &ts->m, &tglyphs_ascii)) {
		model_free(&ts->m);
		free(ts);
		return NULL;
	}
	ts->t.env = (struct tui_env){ .ctx = ts, .comm = live_comm, .fdkind = live_fdkind };
	ts->t.message = message_line;
	ts->hold_tail = &ts->hold_head;
	ts->sink.record = t_record;
	ts->sink.snapshot = t_snapshot;
	ts->sink.flush = t_flush;
	ts->sink.begin = t_begin;
	ts->sink.tick = t_tick;
	ts->sink.end = t_end;
	pthread_mutex_init(&ts->lock, NULL);
	return &ts->sink;
}

void tui_sink_free(struct et_sink *s)
{
	struct tsink *ts = (struct tsink *)s;

	if (!ts)
		return;
	if (ts->ui_started) {
		ts->ui_stop = true;
		pthread_join(ts->ui, NULL);
	}
	if (ts->on) {
		curses_off();
		et_log_capture(false);
		et_log_flush();
	}
	while (ts->hold_head) {
		struct held *e = ts->hold_head;

		ts->hold_head = e->next;
		free(e);
	}
	for (int i = 0; i < ts->nfdk; i++)
		fdkind_cache_free(ts->fdk[i].c);
	tbuf_free(&ts->buf);
	tbuf_free(&ts->frame);
	pthread_mutex_destroy(&ts->lock);
	tui_free(&ts->t);
	model_free(&ts->m);
	if (active == ts)
		active = NULL;
	free(ts);
}
