// SPDX-License-Identifier: GPL-2.0
/*
 * The lesson layout on a terminal (tui_lesson.h): the live sink that
 * `epolltrace learn` feeds, and `replay` of a lesson's recording.  The
 * state and the screens are tui_lesson_view.c's; the terminal (themes,
 * glyphs, drawing) is tui.c's.
 *
 * Live, as in tui.c, two threads: the session's applies nothing, it only
 * holds what comes (under the lock); the UI thread reads keys and draws.
 * The lesson's advance is called without the lock: it may feed the sink.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include "clock.h"
#include "i18n.h"
#include "log.h"
#include "recording.h"
#include "tui_lesson.h"
#include "tui_lesson_view.h"

#define REDRAW_NS (100ULL * 1000000ULL)	/* at most 10 frames a second */
#define DETECT_ITEMS 4096		/* a lesson's BEGIN comes before this */

struct lsink {
	struct et_sink sink;
	pthread_mutex_t lock;
	struct tui_opts tui_o;
	struct tui_lesson_ctl ctl;
	bool has_ctl;
	struct lesson_view *lv;
	struct et_sink *term;		/* tui.c's sink: it owns the terminal */
	struct tbuf buf;
	pthread_t ui;
	bool ui_started;
	volatile bool quit;		/* q, a signal, the terminal gone */
	volatile bool stop;		/* the session is over */
	volatile bool linger;		/* ... but the screen stays until q */
	bool dirty;
	__u64 last_draw;
};

static volatile sig_atomic_t lesson_signal;

static void on_signal(int sig)
{
	(void)sig;
	lesson_signal = 1;
}

/* the screen outlives the session (a replay, a finished lesson): ^C quits it cleanly */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static enum lv_action key_action(int ch, bool *known)
{
	*known = true;
	switch (ch) {
	case ' ':
	case KEY_RIGHT:
		return LV_NEXT;
	case KEY_LEFT:
		return LV_PREV;
	case 'r':
	case 'R':
		return LV_RESTART;
	case 'a':
	case 'A':
		return LV_AUTO;
	case 'q':
	case 'Q':
		return LV_QUIT;
	}
	*known = false;
	return LV_NEXT;
}

/* an LV_ADVANCE answer: ask the lesson, without the lock (it may feed us) */
static void advance(struct lsink *ls)
{
	int rc = ls->has_ctl && ls->ctl.advance ? ls->ctl.advance(ls->ctl.ctx) : -1;

	pthread_mutex_lock(&ls->lock);
	lv_advanced(ls->lv, rc);
	ls->dirty = true;
	pthread_mutex_unlock(&ls->lock);
}

static void press(struct lsink *ls, enum lv_action a)
{
	int r;

	pthread_mutex_lock(&ls->lock);
	r = lv_action(ls->lv, a, mono_ns());
	ls->dirty = true;
	pthread_mutex_unlock(&ls->lock);
	if (r == LV_QUITS)
		ls->quit = true;
	else if (r == LV_ADVANCE)
		advance(ls);
}

/* keys, auto-play and frames until q (or the session ends and no one lingers) */
static void ui_loop(struct lsink *ls)
{
	wtimeout(stdscr, 50);
	for (;;) {
		int ch = getch(), h, w, r;
		__u64 now;
		bool due;

		if (lesson_signal || tui_term_gone())
			ls->quit = true;
		if (ls->quit || (ls->stop && !ls->linger))
			break;
		while (ch != ERR && !ls->quit) {
			bool known;
			enum lv_action a = key_action(ch, &known);

			if (known)
				press(ls, a);
			else if (ch == KEY_RESIZE)
				ls->dirty = true;
			nodelay(stdscr, TRUE);
			ch = getch();
		}
		wtimeout(stdscr, 50);
		if (ls->quit)
			break;
		now = mono_ns();
		pthread_mutex_lock(&ls->lock);
		if (lv_autoplay(ls->lv)) {
			int at = lv_stop(ls->lv);

			r = lv_tick(ls->lv, now);
			/* a stop shown, asked for, or the end said */
			if (r != LV_OK || lv_stop(ls->lv) != at || !lv_autoplay(ls->lv))
				ls->dirty = true;
		} else {
			r = LV_OK;
		}
		pthread_mutex_unlock(&ls->lock);
		if (r == LV_ADVANCE)
			advance(ls);
		getmaxyx(stdscr, h, w);
		pthread_mutex_lock(&ls->lock);
		due = ls->dirty && now >= ls->last_draw + REDRAW_NS && !tbuf_resize(&ls->buf, w, h);
		if (due) {
			lv_format(ls->lv, &ls->buf);
			ls->dirty = false;
			ls->last_draw = now;
		}
		pthread_mutex_unlock(&ls->lock);
		/* only this thread touches buf outside the lock */
		if (due)
			tui_term_draw(ls->term, &ls->buf);
	}
}

/* ---- the live sink -------------------------------------------------------------- */

static void *ui_main(void *arg)
{
	ui_loop(arg);
	return NULL;
}

static void l_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct lsink *ls = (struct lsink *)s;

	pthread_mutex_lock(&ls->lock);
	if (lv_record(ls->lv, h, size))
		ls->dirty = true;
	pthread_mutex_unlock(&ls->lock);
}

static void l_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct lsink *ls = (struct lsink *)s;

	pthread_mutex_lock(&ls->lock);
	lv_snapshot(ls->lv, snap);
	pthread_mutex_unlock(&ls->lock);
}

static void l_flush(struct et_sink *s)
{
	(void)s;
}

/* open the terminal (tui.c's) for the lesson's screens */
static bool term_open(struct lsink *ls)
{
	ls->term = tui_sink_new(&ls->tui_o);
	if (!ls->term) {
		et_err("out of memory");
		return false;
	}
	if (!tui_term_on(ls->term)) {
		tui_sink_free(ls->term);
		ls->term = NULL;
		return false;
	}
	lv_set_glyphs(ls->lv, tui_term_glyphs(ls->term), tui_term_letters(ls->term));
	ls->dirty = true;
	return true;
}

static void l_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct lsink *ls = (struct lsink *)s;

	lv_begin(ls->lv, info);
	if (!term_open(ls)) {
		ls->quit = true;
		return;
	}
	if (pthread_create(&ls->ui, NULL, ui_main, ls)) {
		tui_sink_free(ls->term);
		ls->term = NULL;
		et_err("cannot start the TUI thread");
		ls->quit = true;
		return;
	}
	ls->ui_started = true;
}

static int l_tick(struct et_sink *s, __u64 now)
{
	(void)now;
	return ((struct lsink *)s)->quit ? 1 : 0;
}

static void l_end(struct et_sink *s, __u64 now)
{
	struct lsink *ls = (struct lsink *)s;

	(void)now;
	pthread_mutex_lock(&ls->lock);
	/* the lesson ran to its end: the class may still go back over it */
	if (!ls->quit && !lesson_signal && lv_ended(ls->lv)) {
		catch_signals();
		ls->linger = true;
		ls->dirty = true;
	}
	ls->stop = true;
	pthread_mutex_unlock(&ls->lock);
	if (ls->ui_started)
		pthread_join(ls->ui, NULL);
	ls->ui_started = false;
	tui_sink_free(ls->term);	/* the terminal restored, the messages printed */
	ls->term = NULL;
}

static struct lsink *lsink_new(const struct tui_lesson_opts *o, bool replay)
{
	struct lsink *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	if (o && o->tui)
		ls->tui_o = *o->tui;
	if (o && o->ctl) {
		ls->ctl = *o->ctl;
		ls->has_ctl = true;
	}
	ls->lv = lv_new(NULL, ls->has_ctl ? &ls->ctl : NULL, o ? o->pace : 0, replay);
	if (!ls->lv) {
		free(ls);
		return NULL;
	}
	pthread_mutex_init(&ls->lock, NULL);
	ls->sink.record = l_record;
	ls->sink.snapshot = l_snapshot;
	ls->sink.flush = l_flush;
	ls->sink.begin = l_begin;
	ls->sink.tick = l_tick;
	ls->sink.end = l_end;
	return ls;
}

struct et_sink *tui_lesson_sink_new(const struct tui_lesson_opts *o)
{
	struct lsink *ls = lsink_new(o, false);

	return ls ? &ls->sink : NULL;
}

void tui_lesson_sink_free(struct et_sink *s)
{
	struct lsink *ls = (struct lsink *)s;

	if (!ls)
		return;
	if (ls->ui_started) {
		ls->stop = true;
		ls->linger = false;
		pthread_join(ls->ui, NULL);
	}
	tui_sink_free(ls->term);
	tbuf_free(&ls->buf);
	lv_free(ls->lv);
	pthread_mutex_destroy(&ls->lock);
	free(ls);
}

/* ---- replay --------------------------------------------------------------------- */

bool tui_lesson_in_recording(struct rec_reader *r)
{
	struct rec_item it;
	bool found = false;

	for (int i = 0; i < DETECT_ITEMS && !found && rec_next(r, &it) > 0; i++)
		found = it.kind == REC_RECORD && it.rec->type == ET_EV_LESSON;
	rec_rewind(r);
	return found;
}

int tui_lesson_replay(struct rec_reader *r, const struct tui_lesson_opts *o)
{
	struct et_hook_info hooks[REC_MAX_HOOKS];
	__u32 pids[REC_MAX_TARGETS];
	const char *comms[REC_MAX_TARGETS];
	struct et_session_info info = {};
	struct lsink *ls = lsink_new(o, true);
	struct rec_item it;
	char *err = NULL;
	int n, ret = 0;

	if (!ls) {
		et_err("out of memory");
		return 1;
	}
	/* a lesson is short: all of it, then the screens */
	rec_session_info(r, &info, hooks, pids, comms);
	lv_begin(ls->lv, &info);
	while ((n = rec_next(r, &it)) > 0 && it.kind != REC_END) {
		if (it.kind == REC_RECORD)
			lv_record(ls->lv, it.rec, it.size);
		else if (it.kind == REC_SNAPSHOT)
			lv_snapshot(ls->lv, it.snap);
	}
	if (n < 0) {
		err = strdup(rec_error(r));
		lv_note(ls->lv, _("The recording is corrupt: shown up to the damage."));
		ret = 1;
	} else if (n == 0 && rec_warning(r)) {
		et_warn("%s", rec_warning(r));
	}
	if (!term_open(ls)) {
		ret = 1;
	} else {
		catch_signals();
		ls->linger = true;
		ui_loop(ls);
	}
	tui_sink_free(ls->term);
	ls->term = NULL;
	if (err)
		et_err("%s", err);
	free(err);
	tui_lesson_sink_free(&ls->sink);
	return ret;
}
