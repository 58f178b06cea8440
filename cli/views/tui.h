/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_H
#define EPOLLTRACE_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include "event.h"

/*
 * The ncurses front end.  Live, it is a sink the session feeds; a replay
 * drives the same sink from a recording, so both draw the same screens.
 */

struct tui_opts {
	const char *theme;	/* "dark" (default), "light" or "mono" */
	bool ascii;		/* ASCII boxes even on a UTF-8 terminal */
};

/* Can a TUI run here?  false, with the reason, if not. */
bool tui_possible(char *why, size_t len);
/* Names of the themes, NULL-terminated. */
const char *const *tui_themes(void);

struct et_sink *tui_sink_new(const struct tui_opts *o);
void tui_sink_free(struct et_sink *s);

struct rec_reader;
/*
 * Replay a recording in the TUI: the same screens, with a clock that runs
 * at x0.1 to x100, pauses, steps, seeks and jumps to the next event of a
 * kind.  Returns 0, or 1 if the file turned out corrupt.
 */
int tui_replay(struct rec_reader *r, const struct tui_opts *o);

/*
 * The terminal for another layout (the lesson's, tui_lesson.c), owned by a
 * sink from tui_sink_new() as for its own screens: the same themes, glyphs
 * and drawing.  tui_term_on: false if the terminal cannot be opened (said
 * on stderr); tui_sink_free() gives it back.  tui_term_draw writes a
 * formatted buffer.  tui_term_gone: the terminal hung up, or a signal came
 * while the TUI kept the screen.
 */
struct tbuf;
struct tglyphs;
bool tui_term_on(struct et_sink *s);
const struct tglyphs *tui_term_glyphs(const struct et_sink *s);
/* red and black also by a letter (mono theme, --ascii, no colours) */
bool tui_term_letters(const struct et_sink *s);
void tui_term_draw(struct et_sink *s, const struct tbuf *b);
bool tui_term_gone(void);

#endif
