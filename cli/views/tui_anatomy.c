// SPDX-License-Identifier: GPL-2.0
/*
 * The instance view's anatomy pane (tui_anatomy.h): formatted into the
 * attributed buffer like every pane, no curses here.  What it shows is
 * --json-state's "anatomy" object (docs/json.md), in rows.
 */
#include <stdio.h>
#include <string.h>
#include "anatomy.h"
#include "i18n.h"
#include "tui_anatomy.h"

/* a value in at most seven columns: a duration, or a count of events */
static void value_str(enum anat_kind k, __u64 v, char *buf, size_t len)
{
	if (!anatomy_is_ns(k))
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else if (v < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)v);
	else if (v < 1000000)
		snprintf(buf, len, "%.1fus", v / 1e3);
	else if (v < 1000000000)
		snprintf(buf, len, "%.1fms", v / 1e6);
	else
		snprintf(buf, len, "%.2fs", v / 1e9);
}

/*
 * The buckets from the first non-empty to the last, one column each, as
 * bars of eight heights scaled to the fullest; "." marks an empty bucket
 * between others.
 */
static void bars(const struct tui *t, struct tbuf *b, int x, int y, int w,
		 const struct anat_hist *h)
{
	static const uint32_t utf8[8] = { 0x2581, 0x2582, 0x2583, 0x2584, 0x2585, 0x2586,
					  0x2587, 0x2588 };
	static const char ascii[8] = { '_', '.', ':', '-', '=', '+', '*', '#' };
	bool plain = t->g == &tglyphs_ascii;
	int lo = -1, hi = -1;
	__u64 top = 0;

	for (int i = 0; i < ANAT_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		if (lo < 0)
			lo = i;
		hi = i;
		if (h->b[i] > top)
			top = h->b[i];
	}
	if (lo < 0 || w < 1)
		return;
	if (hi - lo + 1 > w)	/* the slowest buckets matter most: keep them */
		lo = hi - w + 1;
	for (int i = lo; i <= hi; i++) {
		struct tcell *c = tbuf_at(b, x + i - lo, y);
		int level;

		if (!c)
			return;
		if (!h->b[i]) {
			c->ch = ' ';
			continue;
		}
		level = (int)((h->b[i] * 8 - 1) / top);
		c->ch = plain ? (uint32_t)ascii[level] : utf8[level];
		c->color = TC_READY;
	}
}

void tui_anatomy_pane(const struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in, int title_w)
{
	const struct anatomy *a = &in->anat;
	struct anat_vis av = { .callbacks = t->st.vis.callbacks, .sleeps = t->st.vis.sleeps,
			       .transfers = t->st.vis.transfers };
	int row = y + 1, last = y + h - 2, lw = 22, cw = 8, fw = 11;
	bool show_fid = w - 2 >= lw + 4 * cw + fw, show_bars = w - 2 >= lw + 4 * cw + fw + 8;
	char title[64], line[256];

	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	snprintf(title, sizeof(title), " %s ", _("latency anatomy (a: events)"));
	if (tbuf_cols(title) > (title_w < w ? title_w : w) - 4)
		snprintf(title, sizeof(title), " %s ", _("anatomy"));
	tbuf_text(b, t->g, x + 2, y, (title_w < w ? title_w : w) - 4, TC_PANE_TITLE, title);
	if (row > last)
		return;
	snprintf(line, sizeof(line), "%-*s%*s%*s%*s%*s", lw, "", cw, _("count"), cw, "p50", cw,
		 "p99", cw, "max");
	if (show_fid)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "  %-*s", fw - 2,
			 _("fidelity"));
	if (show_bars)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s",
			 _("log2 buckets"));
	tbuf_text(b, t->g, x + 1, row++, w - 2, TC_HEADER, line);
	for (int k = 0; k < ANAT_MAX && row <= last; k++, row++) {
		const struct anat_hist *hg = &a->h[k];
		const char *fid = anatomy_fidelity(k, &av);
		bool seen = strcmp(fid, "none") != 0;
		char c[16] = "-", p50[16] = "-", p99[16] = "-", mx[16] = "-";

		if (seen)
			snprintf(c, sizeof(c), "%llu", (unsigned long long)hg->count);
		if (seen && hg->count) {
			value_str(k, anatomy_quantile(hg, 0.5), p50, sizeof(p50));
			value_str(k, anatomy_quantile(hg, 0.99), p99, sizeof(p99));
			value_str(k, hg->max, mx, sizeof(mx));
		}
		snprintf(line, sizeof(line), "%-*.*s%*s%*s%*s%*s", lw, lw - 1,
			 _(anatomy_label(k)), cw, c, cw, p50, cw, p99, cw, mx);
		if (show_fid)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "  %-*s",
				 fw - 2, fid);
		tbuf_text(b, t->g, x + 1, row, w - 2, seen ? TC_NORMAL : TC_DIM, line);
		if (show_bars && seen)
			bars(t, b, x + 1 + lw + 4 * cw + fw, row, w - 2 - (lw + 4 * cw + fw), hg);
	}
	if (row > last)
		return;
	if (a->maxevents_known)
		snprintf(line, sizeof(line), _("waits %llu   full (= maxevents) %llu of %llu, %.1f%%"),
			 (unsigned long long)a->waits, (unsigned long long)a->full,
			 (unsigned long long)a->maxevents_known,
			 100.0 * a->full / a->maxevents_known);
	else
		snprintf(line, sizeof(line), _("waits %llu   full (= maxevents) -"),
			 (unsigned long long)a->waits);
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
		 _("   timeouts expired %llu of %llu"), (unsigned long long)a->timeouts,
		 (unsigned long long)a->timed);
	if (av.sleeps)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 _("   woken, asleep again %llu"), (unsigned long long)a->resleeps);
	tbuf_text(b, t->g, x + 1, row, w - 2, TC_HEADER, line);
}
