/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_CHAINS_H
#define EPOLLTRACE_TUI_CHAINS_H

#include "tui_view.h"

/*
 * Where the instance's waiters wait, as a pane of the instance view (the
 * 'w' key shows it in place of the event log): each thread on the wait
 * queue, then its call chain a frame a row, innermost first, with the
 * module of each.  title_w: the title stays left of it.
 */
void tui_chains_pane(const struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		     const struct model_inst *in, int title_w);

#endif
