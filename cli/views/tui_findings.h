/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_TUI_FINDINGS_H
#define EPOLLTRACE_TUI_FINDINGS_H

#include "tui_buf.h"
#include "tui_view.h"

/*
 * The findings of one instance (detect.h), as a pane of the instance view
 * (key F, in place of the events): each finding's line and its hint, the
 * selected one marked; with t->find_evidence, the selected finding's
 * evidence records (time, stream position, type, tid, fd).  comm: the
 * instance owner's.  Boxed at x, y, w, h; title_w: the room for the title.
 */
void tui_findings_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		       const struct model_inst *in, const char *comm, int title_w);

#endif
