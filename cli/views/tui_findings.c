// SPDX-License-Identifier: GPL-2.0
/*
 * The instance view's findings pane (tui_findings.h): formatted into the
 * attributed buffer like every pane, no curses here.  What it lists is
 * --json-state's "findings" of the instance (docs/json.md).
 */
#include <stdio.h>
#include <string.h>
#include "event.h"
#include "i18n.h"
#include "model.h"
#include "tui_findings.h"

/* the instance's findings, in order of first sight: their positions in det.f */
static size_t inst_findings(const struct tui *t, const struct model_inst *in, size_t *pos,
			    size_t cap)
{
	const struct detect *d = &t->m->det;
	size_t n = 0;

	for (size_t i = 0; i < d->n && n < cap; i++)
		if (d->f[i].ep == in->in.ep && d->f[i].pid == in->in.owner)
			pos[n++] = i;
	return n;
}

static void evidence_rows(const struct tui *t, struct tbuf *b, int x, int row, int last, int w,
			  const struct finding *f)
{
	char line[160];

	snprintf(line, sizeof(line), "%10s %10s  %-12s %8s %6s", _("time"), "#", _("record"),
		 "tid", "fd");
	tbuf_text(b, t->g, x, row++, w, TC_HEADER, line);
	if (!f->nev && row <= last)
		tbuf_text(b, t->g, x, row, w, TC_DIM, _("no evidence records"));
	for (unsigned int i = 0; i < f->nev && row <= last; i++, row++) {
		const struct det_evidence *e = &f->ev[i];
		char tid[16] = "-", fd[16] = "-";
		double s = e->ts_ns > t->t0_ns ? (e->ts_ns - t->t0_ns) / 1e9 : 0.0;

		if (e->tid)
			snprintf(tid, sizeof(tid), "%u", e->tid);
		if (e->fd >= 0)
			snprintf(fd, sizeof(fd), "%d", e->fd);
		snprintf(line, sizeof(line), "%10.6f %10llu  %-12s %8s %6s", s,
			 (unsigned long long)e->seq, et_type_name(e->type), tid, fd);
		tbuf_text(b, t->g, x, row, w, TC_NORMAL, line);
	}
}

void tui_findings_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		       const struct model_inst *in, const char *comm, int title_w)
{
	size_t pos[DET_MAX * 4], n = inst_findings(t, in, pos, sizeof(pos) / sizeof(pos[0]));
	int row = y + 1, last = y + h - 2, first = 0, per;
	char title[96], line[512];

	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	snprintf(title, sizeof(title), " %s ", t->find_evidence ?
		 _("evidence (Enter: findings, F: events)") :
		 _("findings (Enter: evidence, F: events)"));
	if (tbuf_cols(title) > (title_w < w ? title_w : w) - 4)
		snprintf(title, sizeof(title), " %s ", _("findings"));
	tbuf_text(b, t->g, x + 2, y, (title_w < w ? title_w : w) - 4, TC_PANE_TITLE, title);
	if (row > last)
		return;
	if (!n) {
		tbuf_text(b, t->g, x + 1, row, w - 2, TC_DIM, _("No findings for this instance "
			  "(docs/diagnosis.md says what is looked for)."));
		t->find_sel = 0;
		return;
	}
	if (t->find_sel >= (int)n)
		t->find_sel = n - 1;
	if (t->find_sel < 0)
		t->find_sel = 0;
	{
		struct finding f = t->m->det.f[pos[t->find_sel]];

		snprintf(f.comm, sizeof(f.comm), "%s", comm);
		if (t->find_evidence) {
			detect_describe(&f, line, sizeof(line));
			tbuf_text(b, t->g, x + 1, row++, w - 2, TC_WARN, line);
			if (row <= last)
				evidence_rows(t, b, x + 1, row, last, w - 2, &f);
			return;
		}
	}
	/* two rows a finding: its line, its hint; the selected one in view */
	per = (last - row + 1) / 2;
	if (per < 1)
		per = 1;
	if (t->find_sel >= per)
		first = t->find_sel - per + 1;
	for (size_t k = first; k < n && row <= last; k++) {
		struct finding f = t->m->det.f[pos[k]];
		bool sel = (int)k == t->find_sel;

		snprintf(f.comm, sizeof(f.comm), "%s", comm);
		detect_describe(&f, line + 2, sizeof(line) - 2);
		line[0] = sel ? '>' : ' ';
		line[1] = ' ';
		tbuf_text(b, t->g, x + 1, row, w - 2, TC_WARN, line);
		if (sel)
			tbuf_paint(b, x + 1, row, w - 2, TC_SELECTED, TA_REVERSE);
		if (++row > last)
			break;
		snprintf(line, sizeof(line), "    %s %s", _("hint:"), _(detect_hint(f.kind)));
		tbuf_text(b, t->g, x + 1, row++, w - 2, TC_DIM, line);
	}
}
