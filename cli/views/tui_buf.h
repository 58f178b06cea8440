/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_BUF_H
#define EPOLLTRACE_TUI_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An attributed screen buffer: the TUI formats every screen into one of
 * these and only then draws it with curses, so that formatting is tested
 * without a terminal (tests/tui_test.c).
 */

/* What a cell is, by name; the colour scheme (tui.c) maps names to looks. */
enum tui_color {
	TC_NORMAL,
	TC_TITLE,	/* the top bar */
	TC_HEADER,	/* column headers */
	TC_BORDER,
	TC_PANE_TITLE,
	TC_SELECTED,	/* the cursor row */
	TC_CHANGED,	/* a row something just touched */
	TC_DIM,		/* closed, lingering, unknown */
	TC_STATUS,	/* the status line */
	TC_KEY,		/* key names in hints and help */
	TC_GOOD,
	TC_WARN,
	TC_ERROR,
	TC_READY,	/* the ready mark, ready-list entries */
	TC_ASLEEP,	/* sleeping waiters */
	/* event kinds in the log, in enum et_kind order */
	TC_K_INSTANCE,
	TC_K_CTL,
	TC_K_RELEASE,
	TC_K_CALLBACK,
	TC_K_WAIT,
	TC_K_SLEEP,
	TC_K_WAKEUP,
	TC_K_TASK,
	TC_K_META,
	TC_MAX,
};

#define TA_BOLD		0x1
#define TA_REVERSE	0x2
#define TA_UNDERLINE	0x4

/*
 * A double-width character (Hangul, CJK) takes two cells: its code point
 * in the left one, TBUF_WIDE_TAIL in the right one.  The buffer keeps the
 * pair whole: writing over either half blanks the other, and no text puts
 * a left half in a row's last column (the terminal would wrap it).
 */
#define TBUF_WIDE_TAIL 0xffffffffu

struct tcell {
	uint32_t ch;		/* a Unicode code point, or TBUF_WIDE_TAIL */
	uint8_t color;		/* enum tui_color */
	uint8_t attr;		/* TA_* on top of the colour's own */
};

struct tbuf {
	int w, h;
	struct tcell *c;
};

/* The characters boxes and marks are drawn with. */
struct tglyphs {
	uint32_t hline, vline, tl, tr, bl, br, ltee, rtee;
	uint32_t ttee, btee;	/* where panes that share an edge meet */
	uint32_t ready;		/* the ready mark in the interest set */
	uint32_t arrow;		/* queue direction in the ready list */
	uint32_t ellipsis;	/* cut-off text */
};

extern const struct tglyphs tglyphs_utf8;
extern const struct tglyphs tglyphs_ascii;

int tbuf_resize(struct tbuf *b, int w, int h);
void tbuf_free(struct tbuf *b);
void tbuf_clear(struct tbuf *b);
struct tcell *tbuf_at(struct tbuf *b, int x, int y);
/* one single-width character at (x, y), keeping wide pairs whole */
void tbuf_set(struct tbuf *b, int x, int y, uint32_t ch, enum tui_color color);

/*
 * Write UTF-8 text at (x, y), at most maxw columns (clipped to the buffer);
 * returns the columns written.  A text cut short ends in the ellipsis; a
 * double-width character that would straddle the limit is not split: the
 * column it leaves is a blank.  Widths are wcwidth()'s (LC_CTYPE must be
 * a UTF-8 locale for anything past ASCII: tui.c and the tests set it).
 */
int tbuf_text(struct tbuf *b, const struct tglyphs *g, int x, int y, int maxw,
	      enum tui_color color, const char *s);
int tbuf_printf(struct tbuf *b, const struct tglyphs *g, int x, int y, int maxw,
		enum tui_color color, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void tbuf_fill(struct tbuf *b, int x, int y, int w, int h, uint32_t ch, enum tui_color color);
/* give a span another colour (and attributes), keeping its characters */
void tbuf_paint(struct tbuf *b, int x, int y, int w, enum tui_color color, uint8_t attr);
/* a frame with a title in its top edge */
void tbuf_box(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
	      enum tui_color color, const char *title);

/* The columns a UTF-8 text takes on screen (Hangul: two per syllable). */
int tbuf_cols(const char *s);
/* The bytes of the longest start of s that fits in w columns (whole characters). */
size_t tbuf_fit(const char *s, int w);
/* Write text padded with blanks to exactly w columns (right-aligned if right). */
int tbuf_pad(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, bool right,
	     enum tui_color color, const char *s);

/* Row y as UTF-8 (trailing blanks dropped), for tests. */
char *tbuf_row(const struct tbuf *b, int y, char *out, size_t len);
/* The first row containing needle, or -1. */
int tbuf_find(const struct tbuf *b, const char *needle);

#endif
