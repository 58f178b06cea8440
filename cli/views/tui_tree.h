/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_TREE_H
#define EPOLLTRACE_TUI_TREE_H

#include <stdbool.h>
#include "model.h"
#include "tui_buf.h"

/*
 * rbr drawn as a tree: each epitem a node labelled with its fd, red or
 * black, joined to its left and right children, laid out in the kernel's
 * order (by struct file, then fd: an in-order walk reads left to right).
 * Formatted into the attributed buffer like every screen (tests/tree_test.c).
 *
 * Colour shows red and black; with letters (a mono theme, --ascii) every
 * label also ends in R or B, so that the colour is never the only sign.
 */

/* How a node changed between two shapes (tui_tree_diff). */
#define TT_NEW		0x1	/* not in the shape before: inserted */
#define TT_RECOLOURED	0x2	/* red became black, or black red */
#define TT_MOVED	0x4	/* another parent: a rotation moved it */

/*
 * The columns and rows the drawing of t takes (0, 0 for an empty tree or
 * no shape).
 */
void tui_tree_size(const struct model_tree *t, bool letters, int *w, int *h);

/*
 * Draw t with its top-left corner at (x, y), centred in w columns, in at
 * most h rows.  mark: TT_* per node of t (NULL: none), shown by attributes
 * (inserted reversed, recoloured underlined, moved bold).  False, and
 * nothing drawn, if it does not fit or t has no shape.
 */
bool tui_tree_draw(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
		   const struct model_tree *t, bool letters, const unsigned char *mark);

/*
 * What one insert or removal did: mark[i] (TT_*) for each node of after,
 * nodes matched by fd.  Returns how many nodes changed.
 */
int tui_tree_diff(const struct model_tree *before, const struct model_tree *after,
		  unsigned char *mark);

/*
 * Before and after of one insert or removal, for the lessons: the two
 * shapes side by side (one above the other when narrow), each under its
 * title, the changed nodes of after marked, and a line naming them
 * ("inserted: 7  recoloured: 5 9  moved by a rotation: 5").  Returns the
 * rows used, or 0 (nothing drawn) if they do not fit.
 */
int tui_tree_draw_change(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
			 const struct model_tree *before, const struct model_tree *after,
			 bool letters);

/*
 * Keep a shape (the lessons keep the one before a step): dst gets its own
 * copy of src's nodes; tui_tree_release frees them.  False if out of memory
 * (dst then has no shape).
 */
bool tui_tree_copy(struct model_tree *dst, const struct model_tree *src);
void tui_tree_release(struct model_tree *t);

/*
 * rbr in the instance view: the tree and, under it, once, the line that
 * says whose order it is.  Returns false (nothing drawn) if t has no shape
 * or does not fit: the caller shows the list instead.
 */
bool tui_tree_pane(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
		   const struct model_tree *t, bool letters);

#endif
