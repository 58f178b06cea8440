// SPDX-License-Identifier: GPL-2.0
/*
 * The instance view's chains pane (tui_chains.h): formatted into the
 * attributed buffer like every pane, no curses here.  What it shows is
 * each waiter's "chain" in --json-state (docs/json.md), with offsets and
 * modules.
 */
#include <stdio.h>
#include <string.h>
#include "chains.h"
#include "i18n.h"
#include "tui_chains.h"

void tui_chains_pane(const struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		     const struct model_inst *in, int title_w)
{
	int row = y + 1, last = y + h - 2, tw = title_w < w ? title_w : w;
	char title[96], line[256], f[ET_CHAIN_SYM_LEN + 48];

	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	snprintf(title, sizeof(title), " %s ", _("where threads wait (w: events)"));
	if (tbuf_cols(title) > tw - 4)
		snprintf(title, sizeof(title), " %s ", _("where"));
	tbuf_text(b, t->g, x + 2, y, tw - 4, TC_PANE_TITLE, title);
	if (!in->nwaiters && row <= last)
		tbuf_text(b, t->g, x + 2, row, w - 4, TC_DIM, _("(empty: no thread waits)"));
	for (size_t k = 0; k < in->nwaiters && row <= last; k++) {
		const struct model_waiter *wt = &in->waiters[k];
		const struct et_ev_wait_chain *c = chains_find(&t->m->chains, wt->tid);

		if (!c)
			snprintf(line, sizeof(line), _("tid %u %s: no chain seen yet (asleep since before "
						       "tracing: the next snapshot reads it)"), wt->tid,
				 wt->asleep ? C_("thread", "asleep") : _("running"));
		else
			snprintf(line, sizeof(line), _("tid %u %s, %u frames (%s)%s%s"), wt->tid,
				 wt->asleep ? C_("thread", "asleep") : _("running"), c->nframes,
				 chains_method_name(c->method), c->cut ? _(", more not kept") : "",
				 c->live ? _(", outer frames read live") : "");
		tbuf_text(b, t->g, x + 1, row++, w - 2, wt->asleep ? TC_ASLEEP : TC_HEADER, line);
		for (int i = 0; c && i < c->nframes && i < ET_CHAIN_FRAMES && row <= last; i++) {
			const struct et_chain_frame *fr = &c->frame[i];

			snprintf(line, sizeof(line), "  %s %-40s %.*s", i ? "<-" : "  ",
				 chain_frame_text(fr, f, sizeof(f)), (int)sizeof(fr->module),
				 fr->module);
			tbuf_text(b, t->g, x + 1, row++, w - 2, TC_NORMAL, line);
		}
	}
}
