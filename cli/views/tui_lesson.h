/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_LESSON_H
#define EPOLLTRACE_TUI_LESSON_H

#include <stdbool.h>
#include "event.h"
#include "tui.h"

/*
 * The lesson layout of the TUI (`epolltrace learn NAME`, and `replay` of a
 * recording that holds a lesson): a narration pane, the lesson's instance
 * (or two, side by side), the structures the step touched highlighted.
 *
 * A lesson's stream is BEGIN, then per step BEFORE, the step's records,
 * AFTER (after a snapshot), then END (struct et_ev_lesson).  Its stops are
 * the BEFOREs and AFTERs.  The layout keeps the whole stream it was given
 * (a lesson is short): going back (←) shows a stop's state rebuilt from it,
 * exactly as a replay would.
 *
 * Keys: Space or →: the next stop; ←: the previous; r: back to the start;
 * a: auto-play (one stop per pace seconds); q: quit.
 */
struct tui_lesson_ctl {
	void *ctx;
	/*
	 * Live: the presenter wants the next stop and none is held yet: ask
	 * the lesson to go on.  Asynchronous: its records come through the
	 * sink.  0, or -1 when the lesson has nothing more (after END).
	 */
	int (*advance)(void *ctx);
};

struct tui_lesson_opts {
	const struct tui_opts *tui;
	double pace;			/* seconds per stop in auto-play; <= 0: 2 */
	const struct tui_lesson_ctl *ctl;	/* live; NULL in a replay */
};

/* The live sink: the session (learn's driver) feeds it. */
struct et_sink *tui_lesson_sink_new(const struct tui_lesson_opts *o);
void tui_lesson_sink_free(struct et_sink *s);

struct rec_reader;
/* `replay FILE` of a lesson's recording: the same screens, no root.
 * Returns 0, or 1 if the file turned out corrupt. */
int tui_lesson_replay(struct rec_reader *r, const struct tui_lesson_opts *o);
/* Does the recording hold a lesson (a lesson record among its first
 * items)?  The reader is rewound. */
bool tui_lesson_in_recording(struct rec_reader *r);

#endif
