/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_LESSON_VIEW_H
#define EPOLLTRACE_TUI_LESSON_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "event.h"
#include "model.h"
#include "tui_buf.h"
#include "tui_lesson.h"

/*
 * The lesson layout's state and screens, without curses (tui_lesson.c
 * owns the terminal, the keys and the threads; tests/lesson_tui_test.c
 * checks what this writes).
 *
 * It keeps the whole stream it is given, in order.  The stops are its
 * BEFORE and AFTER lesson records; the state shown at a stop is a model
 * fed the held stream up to and including that record.  Forward, the
 * records since the last stop are applied; back, a fresh model is fed
 * from the start, as a replay would: the same state the live session
 * had there.
 */
struct lesson_view;

enum lv_action { LV_NEXT, LV_PREV, LV_RESTART, LV_AUTO, LV_QUIT };

/* lv_action()'s and lv_tick()'s answers */
#define LV_OK		0
#define LV_QUITS	1	/* q */
/* live, no stop held: call the lesson's advance (without the sink's
 * lock: it may feed the sink) and hand its answer to lv_advanced() */
#define LV_ADVANCE	2

struct lesson_view *lv_new(const struct tglyphs *g, const struct tui_lesson_ctl *ctl,
			   double pace, bool replay);
void lv_free(struct lesson_view *lv);
void lv_set_glyphs(struct lesson_view *lv, const struct tglyphs *g, bool letters);
/* what the session sees: the attach mode, callbacks visible or sampled */
void lv_begin(struct lesson_view *lv, const struct et_session_info *info);

/* Hold a record (applied when its stop is shown); true if the screen changes. */
bool lv_record(struct lesson_view *lv, const struct et_hdr *h, size_t size);
void lv_snapshot(struct lesson_view *lv, const struct et_snapshot *s);

/* A key; wall_ns (CLOCK_MONOTONIC) paces auto-play.  LV_OK, LV_QUITS or LV_ADVANCE. */
int lv_action(struct lesson_view *lv, enum lv_action a, __u64 wall_ns);
/* the answer of ctl->advance after LV_ADVANCE: 0, or -1 nothing more */
void lv_advanced(struct lesson_view *lv, int rc);
/* Auto-play: LV_ADVANCE when a stop is due and must be asked for, else LV_OK. */
int lv_tick(struct lesson_view *lv, __u64 wall_ns);
/* a message for the status line (a corrupt file...) */
void lv_note(struct lesson_view *lv, const char *text);

/* The whole screen. */
void lv_format(struct lesson_view *lv, struct tbuf *b);

/* ---- for tests, and for drawing what a step changed ---------------------- */

int lv_stop(const struct lesson_view *lv);	/* the stop shown, -1: before the first */
int lv_nstops(const struct lesson_view *lv);
bool lv_waiting(const struct lesson_view *lv);	/* asked the lesson for the next stop */
bool lv_autoplay(const struct lesson_view *lv);
bool lv_ended(const struct lesson_view *lv);	/* END held, or advance said nothing more */
/* the model the screen shows */
const struct model *lv_model(const struct lesson_view *lv);
/* the lesson record of stop k, or NULL */
const struct et_ev_lesson *lv_stop_record(const struct lesson_view *lv, int k);
/* a fresh model fed the held stream up to stop k (inclusive); 0, or -1 */
int lv_model_at(const struct lesson_view *lv, int k, struct model *out);

/* A key, with the advance called at once (no lock to drop: replay, tests). */
static inline int lv_press(struct lesson_view *lv, const struct tui_lesson_ctl *ctl,
			   enum lv_action a, __u64 wall_ns)
{
	int r = lv_action(lv, a, wall_ns);

	if (r == LV_ADVANCE) {
		lv_advanced(lv, ctl && ctl->advance ? ctl->advance(ctl->ctx) : -1);
		r = LV_OK;
	}
	return r;
}

#endif
