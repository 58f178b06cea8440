/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_ANATOMY_H
#define EPOLLTRACE_TUI_ANATOMY_H

#include "tui_view.h"

/*
 * The latency anatomy of one instance, as a pane of the instance view (the
 * 'a' key shows it in place of the event log): a row per histogram with
 * its count, p50, p99, max, the fidelity of the hooks it comes from and
 * the log2 buckets drawn as bars.  title_w: the title stays left of it.
 */
void tui_anatomy_pane(const struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in, int title_w);

#endif
