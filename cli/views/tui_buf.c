// SPDX-License-Identifier: GPL-2.0
/*
 * The attributed screen buffer the TUI formats into (see tui_buf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "tui_buf.h"

const struct tglyphs tglyphs_utf8 = {
	.hline = 0x2500, .vline = 0x2502, .tl = 0x250c, .tr = 0x2510, .bl = 0x2514,
	.br = 0x2518, .ltee = 0x251c, .rtee = 0x2524, .ttee = 0x252c, .btee = 0x2534,
	.ready = 0x25cf, .arrow = 0x2190, .ellipsis = 0x2026,
};

const struct tglyphs tglyphs_ascii = {
	.hline = '-', .vline = '|', .tl = '+', .tr = '+', .bl = '+', .br = '+',
	.ltee = '+', .rtee = '+', .ttee = '+', .btee = '+', .ready = '*', .arrow = '<',
	.ellipsis = '~',
};

int tbuf_resize(struct tbuf *b, int w, int h)
{
	struct tcell *c;

	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	if (w == b->w && h == b->h && b->c)
		return 0;
	c = calloc((size_t)w * h, sizeof(*c));
	if (!c)
		return -1;
	free(b->c);
	b->c = c;
	b->w = w;
	b->h = h;
	tbuf_clear(b);
	return 0;
}

void tbuf_free(struct tbuf *b)
{
	free(b->c);
	b->c = NULL;
	b->w = b->h = 0;
}

void tbuf_clear(struct tbuf *b)
{
	for (int i = 0; i < b->w * b->h; i++)
		b->c[i] = (struct tcell){ .ch = ' ', .color = TC_NORMAL };
}

struct tcell *tbuf_at(struct tbuf *b, int x, int y)
{
	if (x < 0 || y < 0 || x >= b->w || y >= b->h)
		return NULL;
	return &b->c[y * b->w + x];
}

/* one code point from UTF-8; a malformed byte or a control reads as '?' */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0] < 0x20 || s[0] == 0x7f ? '?' : s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		n = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		n = 2;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07;
		n = 3;
	} else {
		*p = s + 1;
		return '?';
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*p = s + i;
			return '?';
		}
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return cp;
}

/*
 * A code point's columns, from wcwidth(): 2 for Hangul and CJK, 0 for a
 * combining mark (dropped: the grid has no cell for it).  What the locale
 * cannot print (wcwidth -1: a C locale, an unassigned code point) is drawn
 * as '?', one column, so the grid holds whatever comes.
 */
static uint32_t printable(uint32_t cp, int *w)
{
	int n;

	if (cp < 0x80) {
		*w = 1;
		return cp;
	}
	n = wcwidth((wchar_t)cp);
	if (n < 0 || n > 2) {
		*w = 1;
		return '?';
	}
	*w = n;
	return cp;
}

/*
 * Put one character, keeping double-width pairs whole: a half written
 * over blanks the other half, so no stray half is ever drawn.
 */
static void put(struct tbuf *b, int x, int y, uint32_t ch, int w, enum tui_color color)
{
	struct tcell *c = tbuf_at(b, x, y), *n;

	if (!c)
		return;
	if (c->ch == TBUF_WIDE_TAIL && x > 0)
		b->c[y * b->w + x - 1].ch = ' ';
	for (int i = 1; i <= w; i++) {
		n = tbuf_at(b, x + i, y);
		if (n && n->ch == TBUF_WIDE_TAIL && !(i < w))
			n->ch = ' ';
	}
	if (w == 2) {
		n = tbuf_at(b, x + 1, y);
		if (!n) {		/* no room for its right half */
			ch = ' ';
		} else {
			*n = (struct tcell){ .ch = TBUF_WIDE_TAIL, .color = color };
		}
	}
	*c = (struct tcell){ .ch = ch, .color = color };
}

void tbuf_set(struct tbuf *b, int x, int y, uint32_t ch, enum tui_color color)
{
	put(b, x, y, ch, 1, color);
}

int tbuf_text(struct tbuf *b, const struct tglyphs *g, int x, int y, int maxw,
	      enum tui_color color, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0, lim;
	bool cut;

	if (y < 0 || y >= b->h || x >= b->w || maxw <= 0)
		return 0;
	if (x + maxw > b->w)
		maxw = b->w - x;
	/* cut short: room for the ellipsis after what fits */
	cut = tbuf_cols(s) > maxw;
	lim = cut ? maxw - 1 : maxw;
	while (*p) {
		int w;
		uint32_t cp = printable(utf8_next(&p), &w);

		if (!w)
			continue;
		if (n + w > lim)
			break;		/* a wide character is never split */
		put(b, x + n, y, cp, w, color);
		n += w;
	}
	if (cut) {
		put(b, x + n++, y, g->ellipsis, 1, color);
		/* the column a wide character could not take: a blank, not a stale cell */
		while (n < maxw)
			put(b, x + n++, y, ' ', 1, color);
	}
	return n;
}

int tbuf_printf(struct tbuf *b, const struct tglyphs *g, int x, int y, int maxw,
		enum tui_color color, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tbuf_text(b, g, x, y, maxw, color, buf);
}

void tbuf_fill(struct tbuf *b, int x, int y, int w, int h, uint32_t ch, enum tui_color color)
{
	for (int r = y; r < y + h; r++)
		for (int c = x; c < x + w; c++) {
			if (tbuf_at(b, c, r))
				put(b, c, r, ch, 1, color);
		}
}

void tbuf_paint(struct tbuf *b, int x, int y, int w, enum tui_color color, uint8_t attr)
{
	for (int c = x; c < x + w; c++) {
		struct tcell *cell = tbuf_at(b, c, y);

		if (cell) {
			cell->color = color;
			cell->attr |= attr;
		}
	}
}

void tbuf_box(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
	      enum tui_color color, const char *title)
{
	if (w < 2 || h < 2)
		return;
	tbuf_fill(b, x + 1, y, w - 2, 1, g->hline, color);
	tbuf_fill(b, x + 1, y + h - 1, w - 2, 1, g->hline, color);
	tbuf_fill(b, x, y + 1, 1, h - 2, g->vline, color);
	tbuf_fill(b, x + w - 1, y + 1, 1, h - 2, g->vline, color);
	tbuf_fill(b, x, y, 1, 1, g->tl, color);
	tbuf_fill(b, x + w - 1, y, 1, 1, g->tr, color);
	tbuf_fill(b, x, y + h - 1, 1, 1, g->bl, color);
	tbuf_fill(b, x + w - 1, y + h - 1, 1, 1, g->br, color);
	if (title && *title && w > 6) {
		int n = tbuf_printf(b, g, x + 2, y, w - 4, TC_PANE_TITLE, " %s ", title);

		(void)n;
	}
}

int tbuf_cols(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0, w;

	while (*p) {
		printable(utf8_next(&p), &w);
		n += w;
	}
	return n;
}

size_t tbuf_fit(const char *s, int w)
{
	const unsigned char *p = (const unsigned char *)s, *prev = p;
	int n = 0, cw;

	while (*p) {
		printable(utf8_next(&p), &cw);
		if (n + cw > w)
			break;
		n += cw;
		prev = p;
	}
	return (size_t)(prev - (const unsigned char *)s);
}

int tbuf_pad(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, bool right,
	     enum tui_color color, const char *s)
{
	int n = tbuf_cols(s), pad = n < w ? w - n : 0;

	tbuf_fill(b, x, y, w, 1, ' ', color);
	tbuf_text(b, g, x + (right ? pad : 0), y, w - (right ? pad : 0), color, s);
	return w;
}

static size_t utf8_put(uint32_t cp, char *out, size_t len)
{
	if (cp < 0x80 && len >= 1) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800 && len >= 2) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000 && len >= 3) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (len >= 4) {
		out[0] = (char)(0xf0 | cp >> 18);
		out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

char *tbuf_row(const struct tbuf *b, int y, char *out, size_t len)
{
	size_t n = 0, end = 0;

	if (!len)
		return out;
	for (int x = 0; y >= 0 && y < b->h && x < b->w; x++) {
		size_t k;

		if (b->c[y * b->w + x].ch == TBUF_WIDE_TAIL)
			continue;	/* the right half of the character before */
		k = utf8_put(b->c[y * b->w + x].ch, out + n, len - 1 - n);

		if (!k)
			break;
		n += k;
		if (b->c[y * b->w + x].ch != ' ')
			end = n;
	}
	out[end] = 0;
	return out;
}

int tbuf_find(const struct tbuf *b, const char *needle)
{
	char row[4096];

	for (int y = 0; y < b->h; y++)
		if (strstr(tbuf_row(b, y, row, sizeof(row)), needle))
			return y;
	return -1;
}
