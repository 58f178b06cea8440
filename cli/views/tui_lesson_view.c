// SPDX-License-Identifier: GPL-2.0
/*
 * The lesson layout (tui_lesson_view.h): the held stream, its stops, the
 * keys that move between them, and the screen: a narration pane over the
 * lesson's instance, or two side by side, with the structures the step
 * touched highlighted.  No curses and no clock of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "describe.h"
#include "grow.h"
#include "i18n.h"
#include "lesson.h"
#include "tui_lesson_view.h"
#include "tui_tree.h"
#include "tui_view.h"

#define HOLD_MAX_BYTES (256u << 20)	/* a lesson is short: this is a runaway */
#define NOTE_LEN 160

/* a line of the narration pane */
struct nline {
	char s[512];
	enum tui_color color;
	int indent;		/* columns a wrapped line is indented */
};

#define NLINES 96

struct lv_item {
	bool snap;
	size_t size;			/* a record's */
	void *rec;			/* a record, copied */
	struct et_snapshot s;		/* a snapshot, its arrays copied */
};

struct lesson_view {
	const struct tui_lesson_ctl *ctl;
	double pace;			/* seconds per stop in auto-play */
	bool replay;
	bool callbacks_visible;
	char mode[24];
	struct lv_item *items;
	size_t nitems, cap_items, bytes;
	__u64 dropped;			/* records not held: over HOLD_MAX_BYTES */
	size_t *stops;			/* the items that are BEFORE and AFTER records */
	size_t nstops, cap_stops;
	long begin;			/* the BEGIN record's item, -1 none */
	bool end_held;			/* END came */
	bool no_more;			/* advance said there is nothing more */
	int cur;			/* the stop shown, -1: the title */
	size_t applied;			/* items applied to m: [0, applied) */
	bool waiting;			/* asked for the next stop */
	bool autoplay;
	__u64 next_auto;		/* wall clock of the next auto stop */
	struct model m;
	struct tui t;
	char note[NOTE_LEN];
	struct nline *lines;		/* the narration pane's, NLINES */
	/* rbr's shapes at the stop before before_stop, of the instances
	 * before_ep[] (a comparison shows two): one model fed per stop */
	int before_stop;
	__u64 before_ep[2];
	struct model_tree before[2];
};

/* ---- the held stream ------------------------------------------------------------ */

static const struct et_ev_lesson *item_lesson(const struct lesson_view *lv, size_t i)
{
	const struct lv_item *it = &lv->items[i];
	const struct et_hdr *h = it->rec;

	if (it->snap || !h || h->type != ET_EV_LESSON || it->size < sizeof(struct et_ev_lesson))
		return NULL;
	return it->rec;
}

static const struct et_hdr *item_hdr(const struct lv_item *it)
{
	return it->snap ? &it->s.hdr : it->rec;
}

/*
 * A deep copy of a snapshot.  Every array of struct et_snapshot must be
 * copied here: one added there (the rb-tree's shape) needs a line too.
 */
static int snap_copy(struct et_snapshot *d, const struct et_snapshot *s, size_t *bytes)
{
	size_t ni = s->nitems * sizeof(*s->items), nr = s->nready * sizeof(*s->ready);
	size_t nw = s->nwaiters * sizeof(*s->waiters);
	/* rbr's shape (tree[i] for items[i]): a lesson draws it before and after */
	size_t nt = s->has_shape && s->tree ? s->nitems * sizeof(*s->tree) : 0;

	*d = *s;
	d->items = ni ? malloc(ni) : NULL;
	d->ready = nr ? malloc(nr) : NULL;
	d->waiters = nw ? malloc(nw) : NULL;
	d->tree = nt ? malloc(nt) : NULL;
	d->raw = NULL;
	d->nraw = d->cap_raw = 0;
	d->stale = NULL;	/* a lesson shows no findings */
	d->nstale = d->cap_stale = 0;
	if ((ni && !d->items) || (nr && !d->ready) || (nw && !d->waiters) || (nt && !d->tree)) {
		free(d->items);
		free(d->ready);
		free(d->waiters);
		free(d->tree);
		return -1;
	}
	if (nt)
		memcpy(d->tree, s->tree, nt);
	d->cap_tree = nt ? s->nitems : 0;
	if (ni)
		memcpy(d->items, s->items, ni);
	if (nr)
		memcpy(d->ready, s->ready, nr);
	if (nw)
		memcpy(d->waiters, s->waiters, nw);
	d->cap_items = s->nitems;
	d->cap_ready = s->nready;
	d->cap_waiters = s->nwaiters;
	*bytes = ni + nr + nw + nt + sizeof(*d);
	return 0;
}

static struct lv_item *item_new(struct lesson_view *lv, size_t size)
{
	if (lv->bytes + size > HOLD_MAX_BYTES ||
	    et_grow((void **)&lv->items, &lv->cap_items, lv->nitems + 1, sizeof(*lv->items))) {
		lv->dropped++;
		return NULL;
	}
	memset(&lv->items[lv->nitems], 0, sizeof(lv->items[0]));
	return &lv->items[lv->nitems];
}

static void apply_item(struct lesson_view *lv, const struct lv_item *it)
{
	if (it->snap)
		tui_apply_snapshot(&lv->t, &it->s);
	else
		tui_apply(&lv->t, it->rec, it->size);
}

/* a fresh model and log: what a replay from the start begins with */
static void fresh(struct lesson_view *lv)
{
	model_free(&lv->m);
	model_init(&lv->m, lv->callbacks_visible);
	tui_reset(&lv->t);
	lv->applied = 0;
}

static void feed(struct lesson_view *lv, size_t to)
{
	for (; lv->applied < to && lv->applied < lv->nitems; lv->applied++)
		apply_item(lv, &lv->items[lv->applied]);
}

/*
 * Show stop k: the state after its record.  The rows lit are those the
 * records since the stop before touched; the panes' clock is the stop's
 * (ages of ready items, sleeps).
 */
static void show(struct lesson_view *lv, int k)
{
	size_t end = lv->stops[k] + 1, lit = k > 0 ? lv->stops[k - 1] + 1 : 0;
	__u64 at = item_hdr(&lv->items[lv->stops[k]])->ts_ns;

	if (lv->applied > lit)
		fresh(lv);	/* back: start over, exactly as a replay */
	feed(lv, lit);
	memset(lv->t.touch, 0, sizeof(lv->t.touch));
	feed(lv, end);
	/* lit until the next stop: stamped with the stop's time */
	for (int i = 0; i < TUI_TOUCH_CAP; i++)
		if (lv->t.touch[i].ts)
			lv->t.touch[i].ts = at;
	lv->t.now_ns = at;
	lv->cur = k;
	lv->note[0] = 0;
}

/* ---- in ----------------------------------------------------------------------- */

bool lv_record(struct lesson_view *lv, const struct et_hdr *h, size_t size)
{
	struct lv_item *it = item_new(lv, size);
	const struct et_ev_lesson *l;
	bool was_last = lv->cur + 1 == (int)lv->nstops;

	if (!it)
		return false;
	it->rec = malloc(size);
	if (!it->rec) {
		lv->dropped++;
		return false;
	}
	memcpy(it->rec, h, size);
	it->size = size;
	lv->nitems++;
	lv->bytes += size + sizeof(*it);
	l = item_lesson(lv, lv->nitems - 1);
	if (!l)
		return false;
	switch (l->phase) {
	case ET_LESSON_BEGIN:
		if (lv->begin < 0)
			lv->begin = (long)lv->nitems - 1;
		return true;
	case ET_LESSON_END:
		lv->end_held = true;
		lv->waiting = false;
		return true;
	case ET_LESSON_BEFORE:
	case ET_LESSON_AFTER:
		if (et_grow((void **)&lv->stops, &lv->cap_stops, lv->nstops + 1,
			    sizeof(*lv->stops)))
			return false;
		lv->stops[lv->nstops++] = lv->nitems - 1;
		/* the stop the presenter asked for has come */
		if (lv->waiting && was_last) {
			lv->waiting = false;
			show(lv, (int)lv->nstops - 1);
		}
		return true;
	}
	return false;
}

void lv_snapshot(struct lesson_view *lv, const struct et_snapshot *s)
{
	struct lv_item *it = item_new(lv, sizeof(*s));
	size_t bytes;

	if (!it)
		return;
	if (snap_copy(&it->s, s, &bytes)) {
		lv->dropped++;
		return;
	}
	it->snap = true;
	lv->nitems++;
	lv->bytes += bytes;
}

/* ---- keys ---------------------------------------------------------------------- */

static void set_note(struct lesson_view *lv, const char *s)
{
	snprintf(lv->note, sizeof(lv->note), "%s", s);
}

void lv_note(struct lesson_view *lv, const char *text)
{
	set_note(lv, text);
}

static int next(struct lesson_view *lv, __u64 wall_ns)
{
	lv->next_auto = wall_ns + (__u64)(lv->pace * 1e9);
	if (lv->cur + 1 < (int)lv->nstops) {
		show(lv, lv->cur + 1);
		return LV_OK;
	}
	if (lv->waiting)
		return LV_OK;		/* asked already: it is coming */
	if (lv->end_held || lv->no_more || lv->replay || !lv->ctl || !lv->ctl->advance) {
		set_note(lv, _("The lesson is over: r starts it again, q quits."));
		lv->autoplay = false;
		return LV_OK;
	}
	lv->waiting = true;
	return LV_ADVANCE;
}

int lv_action(struct lesson_view *lv, enum lv_action a, __u64 wall_ns)
{
	switch (a) {
	case LV_NEXT:
		return next(lv, wall_ns);
	case LV_PREV:
		if (lv->cur > 0)
			show(lv, lv->cur - 1);
		else if (lv->cur == 0)
			set_note(lv, _("This is the first step: Space or → goes on."));
		lv->next_auto = wall_ns + (__u64)(lv->pace * 1e9);
		return LV_OK;
	case LV_RESTART:
		if (lv->nstops)
			show(lv, 0);
		lv->next_auto = wall_ns + (__u64)(lv->pace * 1e9);
		return LV_OK;
	case LV_AUTO:
		lv->autoplay = !lv->autoplay;
		lv->next_auto = wall_ns + (__u64)(lv->pace * 1e9);
		lv->note[0] = 0;
		return LV_OK;
	case LV_QUIT:
		return LV_QUITS;
	}
	return LV_OK;
}

void lv_advanced(struct lesson_view *lv, int rc)
{
	if (rc >= 0)
		return;
	lv->waiting = false;
	lv->no_more = true;
	lv->autoplay = false;
	set_note(lv, _("The lesson is over: r starts it again, q quits."));
}

int lv_tick(struct lesson_view *lv, __u64 wall_ns)
{
	if (!lv->autoplay || lv->waiting || wall_ns < lv->next_auto)
		return LV_OK;
	return next(lv, wall_ns);
}

/* ---- the screen ------------------------------------------------------------------ */

/* add text, its first line after label, wrapped at w columns at blanks */
static int wrap(struct nline *out, int n, const char *label, const char *text,
		enum tui_color color, int w)
{
	int indent = tbuf_cols(label);
	char line[512];
	const char *p = text;

	if (w - indent < 16)
		indent = 0;
	snprintf(line, sizeof(line), "%s", label);
	while (n < NLINES) {
		size_t len = strlen(line);
		const char *word = p, *e;
		char cand[512];

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ' '; e++)
			;
		size_t wl = (size_t)(e - p), o = len;

		memcpy(cand, line, len);
		if (len && line[len - 1] != ' ' && word != text && o + 1 < sizeof(cand))
			cand[o++] = ' ';
		if (wl > sizeof(cand) - 1 - o)
			wl = sizeof(cand) - 1 - o;
		memcpy(cand + o, p, wl);
		cand[o + wl] = 0;
		if (tbuf_cols(cand) <= w || tbuf_cols(line) <= indent) {
			snprintf(line, sizeof(line), "%s", cand);
			p = e;
			continue;
		}
		/* the line is full: out, and the word starts the next */
		snprintf(out[n].s, sizeof(out[n].s), "%s", line);
		out[n].color = color;
		out[n++].indent = 0;
		snprintf(line, sizeof(line), "%*s", indent, "");
	}
	if (n < NLINES && tbuf_cols(line) > indent) {
		snprintf(out[n].s, sizeof(out[n].s), "%s", line);
		out[n].color = color;
		out[n++].indent = 0;
	}
	return n;
}

/* the narration of a lesson record, translated, {N} filled */
static void narration(const struct et_ev_lesson *l, char *buf, size_t len)
{
	char text[ET_LESSON_TEXT_LEN + 1];

	snprintf(text, sizeof(text), "%.*s", ET_LESSON_TEXT_LEN, l->text);
	lesson_format(buf, len, text[0] ? gettext(text) : "", l->arg, l->nargs);
}

/* the kernel's names of the structures a step touches */
static void touched_names(unsigned int touched, char *buf, size_t len)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ ET_LT_RBR, "rbr" }, { ET_LT_RDLLIST, "rdllist" }, { ET_LT_WQ, "wq" },
		{ ET_LT_OVFLIST, "ovflist" }, { ET_LT_POLLWAIT, "pwqlist" },
	};
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && o < len; i++)
		if (touched & names[i].bit)
			o += snprintf(buf + o, len - o, "%s%s", o ? " " : "", names[i].name);
}

/* the stop of stop k's step's BEFORE (k itself if it is one), or -1 */
static int step_before_at(const struct lesson_view *lv, int k)
{
	for (int i = k; i >= 0; i--) {
		const struct et_ev_lesson *l = item_lesson(lv, lv->stops[i]);

		if (l->step != item_lesson(lv, lv->stops[k])->step)
			return -1;
		if (l->phase == ET_LESSON_BEFORE)
			return i;
	}
	return -1;
}

static const struct et_ev_lesson *step_before(const struct lesson_view *lv, int k)
{
	int i = step_before_at(lv, k);

	return i >= 0 ? item_lesson(lv, lv->stops[i]) : NULL;
}

/* one of the step's records in words: the hook that saw it, then whose */
static void record_line(const struct lesson_view *lv, const struct lv_item *it, char *buf,
			size_t len, enum tui_color *color)
{
	const struct et_hdr *h = item_hdr(it);
	char epfd[16];

	if (it->snap) {
		const struct et_snapshot *s = &it->s;

		snprintf(buf, len, _("%-10s snapshot: rbr %u, rdllist %u, wq %u  pid %u epfd %d"),
			 et_src_name(h->src), s->nitems, s->nready, s->nwaiters, s->in.owner,
			 s->in.epfd);
		*color = TC_DIM;
		return;
	}
	struct et_desc d;

	et_describe_vis(h, &d, &lv->t.st.vis);
	if (d.in && d.in->epfd >= 0)
		snprintf(epfd, sizeof(epfd), "%d", d.in->epfd);
	else
		snprintf(epfd, sizeof(epfd), "\u2013");
	snprintf(buf, len, _("%-10s %s %s  pid %u tid %u epfd %s"), et_src_name(h->src),
		 d.func ? d.func : "?", d.what, h->pid, h->tid, epfd);
	*color = (enum tui_color)(TC_K_INSTANCE + d.kind);
}

/* records that say nothing about the step itself */
static bool quiet(const struct lv_item *it)
{
	const struct et_hdr *h = item_hdr(it);

	return !it->snap && (h->type == ET_EV_LESSON || h->type == ET_EV_STATS ||
			     h->type == ET_EV_SNAP_ROUND);
}

static const char *lesson_title(const struct lesson_view *lv, char *buf, size_t len)
{
	const struct et_ev_lesson *l = lv->begin >= 0 ? item_lesson(lv, (size_t)lv->begin) : NULL;

	if (!l) {
		snprintf(buf, len, "%s", _("lesson"));
		return buf;
	}
	char t[600];

	narration(l, t, sizeof(t));
	snprintf(buf, len, _("lesson %.*s: %s"), ET_LESSON_NAME_LEN, l->lesson, t);
	return buf;
}

/* the step the next stop belongs to */
static int next_step(const struct lesson_view *lv)
{
	const struct et_ev_lesson *l = lv->cur >= 0 ? item_lesson(lv, lv->stops[lv->cur]) : NULL;

	if (!l)
		return 1;
	return l->phase == ET_LESSON_BEFORE ? l->step : l->step + 1;
}

static void title_bar(struct lesson_view *lv, struct tbuf *b)
{
	char title[700], left[720], right[64] = "";
	const struct tglyphs *g = lv->t.g;
	const struct et_ev_lesson *l = lv->cur >= 0 ? item_lesson(lv, lv->stops[lv->cur]) : NULL;
	int rw = 0, lw;

	tbuf_fill(b, 0, 0, b->w, 1, ' ', TC_TITLE);
	if (l)
		rw = snprintf(right, sizeof(right), _("step %d/%d"), l->step, l->nsteps);
	snprintf(left, sizeof(left), "epolltrace  %s", lesson_title(lv, title, sizeof(title)));
	lw = b->w - 2 - (rw ? rw + 2 : 0);
	tbuf_text(b, g, 1, 0, lw, TC_TITLE, left);
	if (rw)
		tbuf_text(b, g, b->w - rw - 1, 0, rw, TC_TITLE, right);
	tbuf_paint(b, 0, 0, b->w, TC_TITLE, TA_BOLD);
}

static void status_line(struct lesson_view *lv, struct tbuf *b)
{
	const struct tglyphs *g = lv->t.g;
	const char *hint = _("Space/→ next  ← back  r restart  a auto  q quit");
	const char *brief = _("Spc/→ ← r a q");
	char left[128], mode[160], wait[64] = "";
	int y = b->h - 1, x, hw;

	tbuf_fill(b, 0, y, b->w, 1, ' ', TC_STATUS);
	if (lv->waiting)
		snprintf(wait, sizeof(wait), _("running step %d…"), next_step(lv));
	snprintf(left, sizeof(left), "%s%s%s", lv->replay ? _("REPLAY") : _("LESSON"),
		 lv->autoplay ? " " : "", lv->autoplay ? _("AUTO") : "");
	snprintf(mode, sizeof(mode), " | %s, %s", lv->mode,
		 lv->callbacks_visible ? _("ready list exact") : _("ready list sampled"));
	if (lv->m.lost || lv->dropped)	/* losses are never silent */
		snprintf(mode + strlen(mode), sizeof(mode) - strlen(mode), _(" | lost %llu"),
			 (unsigned long long)(lv->m.lost + lv->dropped));
	x = 1 + tbuf_text(b, g, 1, y, b->w - 2, TC_STATUS, left);
	if (lv->autoplay)
		tbuf_paint(b, 1, y, x - 1, TC_STATUS, TA_BOLD);
	if (wait[0] || lv->note[0]) {
		const char *s = wait[0] ? wait : lv->note;
		int n;

		x += tbuf_text(b, g, x, y, b->w - x - 1, TC_STATUS, " | ");
		n = tbuf_text(b, g, x, y, b->w - x - 1, TC_WARN, s);
		tbuf_paint(b, x, y, n, TC_WARN, TA_REVERSE);
		x += n;
	}
	hw = tbuf_cols(hint);
	if (x + 2 + hw > b->w - 1) {
		hint = brief;
		hw = tbuf_cols(hint);
	}
	/* the attach mode where the keys leave room for it */
	if (x + tbuf_cols(mode) + 2 + hw <= b->w - 1)
		x += tbuf_text(b, g, x, y, b->w - x - 1, TC_STATUS, mode);
	if (x + 2 + hw <= b->w - 1)
		tbuf_text(b, g, b->w - 1 - hw, y, hw, TC_STATUS, hint);
}

/* the lines of the narration pane for stop k (-1: the title) */
static int narration_lines(struct lesson_view *lv, int k, int w, bool brief, struct nline *out,
			   int *core, int *nrec)
{
	const struct et_ev_lesson *l, *bl;
	char text[1024], touched[96], hooks[ET_LESSON_HOOKS_LEN * 2];
	int n = 0;

	*nrec = 0;
	if (k < 0) {
		char title[700];

		n = wrap(out, n, "", lesson_title(lv, title, sizeof(title)), TC_HEADER, w);
		n = wrap(out, n, "", lv->nstops || lv->begin >= 0 || lv->replay ?
			 _("Space or → begins the lesson; q quits.") :
			 _("Waiting for the lesson to begin…"), TC_KEY, w);
		*core = n;
		return n;
	}
	l = item_lesson(lv, lv->stops[k]);
	bl = step_before(lv, k);
	/* brief (a short terminal), after the step: what the kernel did first */
	if (bl && !(brief && l->phase == ET_LESSON_AFTER)) {
		narration(bl, text, sizeof(text));
		n = wrap(out, n, _("Next: "), text, l->phase == ET_LESSON_BEFORE ? TC_HEADER :
			 TC_NORMAL, w);
	}
	if (l->phase == ET_LESSON_AFTER) {
		narration(l, text, sizeof(text));
		n = wrap(out, n, _("The kernel: "), text, TC_HEADER, w);
	} else {
		n = wrap(out, n, "", _("Space or → runs this step."), TC_DIM, w);
	}
	/* the kernel's own spelling, comma-separated */
	hooks[0] = 0;
	for (size_t i = 0, o = 0; i < sizeof(l->hooks) && l->hooks[i] && o + 3 < sizeof(hooks);
	     i++) {
		hooks[o++] = l->hooks[i];
		if (l->hooks[i] == ',' && i + 1 < sizeof(l->hooks) && l->hooks[i + 1] != ' ')
			hooks[o++] = ' ';
		hooks[o] = 0;
	}
	touched_names(l->touched, touched, sizeof(touched));
	snprintf(text, sizeof(text), "%s%s%s%s%s", hooks[0] ? _("hooks: ") : "", hooks,
		 hooks[0] && touched[0] ? " | " : "", touched[0] ? _("touches: ") : "", touched);
	if (text[0])
		n = wrap(out, n, "", text, TC_KEY, w);
	*core = n;
	if (l->phase != ET_LESSON_AFTER || !bl)
		return n;
	/* the step's own records: between its BEFORE and its AFTER */
	int seen = 0;		/* of them, records of the step's work (not snapshots) */

	for (size_t i = lv->stops[step_before_at(lv, k)] + 1; i < lv->stops[k]; i++) {
		enum tui_color c;

		if (quiet(&lv->items[i]) || n >= NLINES)
			continue;
		if (!*nrec && n < NLINES) {
			snprintf(out[n].s, sizeof(out[n].s), "%s", _("What the hooks saw:"));
			out[n].color = TC_PANE_TITLE;
			out[n++].indent = 0;
		}
		record_line(lv, &lv->items[i], out[n].s, sizeof(out[n].s), &c);
		out[n].color = c;
		out[n++].indent = 2;
		(*nrec)++;
		seen += !lv->items[i].snap;
	}
	if (!seen && n < NLINES) {
		snprintf(out[n].s, sizeof(out[n].s), "%s",
			 _("(no hook of this attach mode saw the step: the snapshot shows what "
			   "it did)"));
		out[n].color = TC_DIM;
		out[n++].indent = 0;
	}
	return n;
}

/* which instances the stop shows: its record's, else its step's BEFORE's */
static int stop_insts(const struct lesson_view *lv, int k, __u64 *ep, int *epfd)
{
	const struct et_ev_lesson *l = item_lesson(lv, lv->stops[k]), *bl = step_before(lv, k);
	int n = 1;

	for (int i = 0; i < 2; i++) {
		ep[i] = l->ep[i];
		epfd[i] = l->epfd[i];
		if (!ep[i] && bl) {
			ep[i] = bl->ep[i];
			epfd[i] = bl->epfd[i];
		}
	}
	if (ep[1])
		n = 2;
	return n;
}

static void junction(struct tbuf *b, int x, int y, uint32_t ch)
{
	struct tcell *c = tbuf_at(b, x, y);

	if (c)
		*c = (struct tcell){ .ch = ch, .color = TC_BORDER };
}

/* a structure the step touches: its box's top edge lit, and a marker for mono */
static void lit_edge(struct tbuf *b, int x, int y, int w)
{
	struct tcell *c = tbuf_at(b, x + 1, y);

	tbuf_paint(b, x, y, w, TC_CHANGED, TA_BOLD);
	if (c)
		*c = (struct tcell){ .ch = '>', .color = TC_CHANGED, .attr = TA_BOLD };
}

struct rows { int r, n, m; };	/* data rows of rbr, rdllist, wq */

/*
 * The rows the panes have, from the rows the instances have: at least one
 * each; the rest where there is something to show, rbr first, then what
 * is left to rbr.
 */
static struct rows share(int data, const struct rows *need, bool three)
{
	struct rows r = { 1, 1, 1 };
	int left = data - (three ? 3 : 2);

	while (left > 0) {
		bool any = false;

		if (r.r < need->r && left > 0) {
			r.r++, left--, any = true;
		}
		if (r.n < need->n && left > 0) {
			r.n++, left--, any = true;
		}
		if (three && r.m < need->m && left > 0) {
			r.m++, left--, any = true;
		}
		if (!any)
			break;
	}
	r.r += left > 0 ? left : 0;
	if (!three)
		r.m = r.n;
	return r;
}

/* rbr's shape of instance ep at the stop before k, kept for the frames
 * that show stop k (a fresh model fed up to that stop) */
static const struct model_tree *shape_before(struct lesson_view *lv, int k, __u64 ep)
{
	static const struct model_tree none = { .root = -1 };
	int ninst;
	__u64 eps[2];
	int epfds[2];
	struct model m;

	if (lv->before_stop != k) {
		for (int i = 0; i < 2; i++) {
			tui_tree_release(&lv->before[i]);
			lv->before_ep[i] = 0;
		}
		lv->before_stop = k;
		ninst = stop_insts(lv, k, eps, epfds);
		if (k >= 1) {
			/* lv_model_at inits m in every case */
			if (!lv_model_at(lv, k - 1, &m)) {
				for (int i = 0; i < ninst; i++) {
					const struct model_inst *in = model_find(&m, eps[i]);

					lv->before_ep[i] = eps[i];
					if (in && in->tree.present)
						tui_tree_copy(&lv->before[i], &in->tree);
				}
			}
			model_free(&m);
		}
	}
	for (int i = 0; i < 2; i++)
		if (lv->before_ep[i] == ep)
			return &lv->before[i];
	return &none;
}

/*
 * At the AFTER of a step that touched rbr: its shape before the step and
 * after, side by side (or stacked), what changed marked, drawn over the
 * rbr pane's rows.  Where either shape is missing (a tree too large, a
 * walk that raced a change) or they do not fit, the pane stays as drawn.
 */
static void rbr_change(struct lesson_view *lv, struct tbuf *b, int x, int y, int w, int h,
		       const struct model_inst *in)
{
	const struct model_tree *before;
	struct tbuf tmp = {};
	int k = lv->cur;

	if (k < 1 || item_lesson(lv, lv->stops[k])->phase != ET_LESSON_AFTER ||
	    !in->tree.present || in->tree.stale)
		return;
	before = shape_before(lv, k, in->in.ep);
	if (!before->present || h < 4 || tbuf_resize(&tmp, w - 4, h - 2))
		return;
	if (tui_tree_draw_change(&tmp, lv->t.g, 0, 0, w - 4, h - 2, before, &in->tree,
				 lv->t.letters) > 0) {
		char title[96];

		tbuf_fill(b, x + 1, y + 1, w - 2, h - 2, ' ', TC_NORMAL);
		for (int r = 0; r < h - 2; r++)
			for (int c = 0; c < w - 4; c++)
				*tbuf_at(b, x + 2 + c, y + 1 + r) = *tbuf_at(&tmp, c, r);
		snprintf(title, sizeof(title), _(" rbr: before and after the step "));
		tbuf_text(b, lv->t.g, x + 2, y, w - 4, TC_PANE_TITLE, title);
	}
	tbuf_free(&tmp);
}

/*
 * One instance's column at x, y, w, h: a line naming it, then rbr over
 * rdllist and wq (side by side, or below each other when three).
 */
static void inst_column(struct lesson_view *lv, struct tbuf *b, int x, int y, int w, int h,
			__u64 ep, int epfd, const struct rows *rw, bool three, unsigned int touched)
{
	const struct model_inst *in = ep ? model_find(&lv->m, ep) : NULL;
	struct tui *t = &lv->t;
	char line[160], fd[16];

	if (epfd >= 0)
		snprintf(fd, sizeof(fd), "%d", epfd);
	else
		snprintf(fd, sizeof(fd), "\u2013");
	if (!in) {
		snprintf(line, sizeof(line), _("epfd %s: no instance yet"), fd);
		tbuf_text(b, t->g, x + 1, y, w - 2, TC_DIM, line);
		return;
	}
	snprintf(line, sizeof(line), _("epfd %d  pid %u  watched %zu  ready %zu  asleep %u"),
		 in->in.epfd, in->in.owner, in->nitems, in->nready, model_asleep(in));
	if (tbuf_cols(line) > w - 2)	/* the panes' titles count them too */
		snprintf(line, sizeof(line), _("epfd %d  pid %u"), in->in.epfd, in->in.owner);
	tbuf_text(b, t->g, x + 1, y, w - 2, TC_HEADER, line);
	tbuf_paint(b, x + 1, y, tbuf_cols(line) < w - 2 ? tbuf_cols(line) : w - 2, TC_HEADER,
		   TA_BOLD);
	y++;
	h--;
	/* rbr: as a tree where it fits, else the list; at the AFTER of a step
	 * that changed it, the shape before and after, the changes marked */
	tui_pane_rbr(t, b, x, y, w, rw->r + 3, in);
	if (touched & ET_LT_RBR)
		rbr_change(lv, b, x, y, w, rw->r + 3, in);
	if (touched & ET_LT_RBR)
		lit_edge(b, x, y, w);
	if (three) {
		int y1 = y + rw->r + 2, y2 = y1 + rw->n + 2;

		tui_pane_rdllist(t, b, x, y1, w, rw->n + 3, in);
		tui_pane_wq(t, b, x, y2, w, rw->m + 3, in);
		junction(b, x, y1, t->g->ltee);
		junction(b, x + w - 1, y1, t->g->rtee);
		junction(b, x, y2, t->g->ltee);
		junction(b, x + w - 1, y2, t->g->rtee);
		if (touched & ET_LT_RDLLIST)
			lit_edge(b, x, y1, w);
		if (touched & ET_LT_WQ)
			lit_edge(b, x, y2, w);
	} else {
		int y1 = y + rw->r + 2, wl = w * 9 / 20;

		tui_pane_rdllist(t, b, x, y1, wl + 1, rw->n + 3, in);
		tui_pane_wq(t, b, x + wl, y1, w - wl, rw->n + 3, in);
		junction(b, x, y1, t->g->ltee);
		junction(b, x + w - 1, y1, t->g->rtee);
		junction(b, x + wl, y1, t->g->ttee);
		junction(b, x + wl, y1 + rw->n + 2, t->g->btee);
		if (touched & ET_LT_RDLLIST)
			lit_edge(b, x, y1, wl + 1);
		if (touched & ET_LT_WQ)
			lit_edge(b, x + wl, y1, w - wl);
	}
	(void)h;
}

void lv_format(struct lesson_view *lv, struct tbuf *b)
{
	struct nline *lines = lv->lines;
	const struct tglyphs *g = lv->t.g;
	int k = lv->cur, avail, core, nrec, n, nar_h, inst_h, inst_min, inst_need, fixed, ninst = 0;
	__u64 ep[2] = { 0, 0 };
	int epfd[2] = { -1, -1 };
	struct rows need = { 1, 1, 1 }, rw;
	unsigned int touched = 0;
	bool three;

	tbuf_clear(b);
	if (b->w < TUI_MIN_W || b->h < TUI_MIN_H) {
		char msg[128];
		int y = b->h / 2;

		snprintf(msg, sizeof(msg), _("Terminal too small: %dx%d, need %dx%d"), b->w, b->h,
			 TUI_MIN_W, TUI_MIN_H);
		tbuf_text(b, g, 0, y > 0 ? y - 1 : 0, b->w, TC_WARN, msg);
		tbuf_text(b, g, 0, y, b->w, TC_NORMAL, _("Enlarge it, or press q to quit."));
		return;
	}
	lv->t.focus = PANE_LOG;		/* no pane has the focus: none is titled so */
	title_bar(lv, b);
	status_line(lv, b);
	avail = b->h - 2;
	n = narration_lines(lv, k, b->w - 4, false, lines, &core, &nrec);
	if (k >= 0) {
		ninst = stop_insts(lv, k, ep, epfd);
		touched = item_lesson(lv, lv->stops[k])->touched;
	}
	three = ninst == 2;
	fixed = 1 + (three ? 7 : 5);	/* the naming line, box edges and headers */
	inst_min = ninst ? fixed + (three ? 3 : 2) : 0;
	for (int i = 0; i < ninst; i++) {
		const struct model_inst *in = ep[i] ? model_find(&lv->m, ep[i]) : NULL;
		int nr = in ? (int)in->nready : 0, nw = in ? (int)in->nwaiters : 0;

		if (!in)
			continue;
		need.r = (int)in->nitems > need.r ? (int)in->nitems : need.r;
		if (in->tree.present) {
			int tw, th;

			/* the shape, and at a change its titles and the line naming it */
			tui_tree_size(&in->tree, lv->t.letters, &tw, &th);
			need.r = th + 3 > need.r ? th + 3 : need.r;
		}
		need.n = nr > need.n ? nr : need.n;
		need.m = nw > need.m ? nw : need.m;
	}
	if (!three && need.m > need.n)
		need.n = need.m;	/* rdllist and wq side by side */
	inst_need = ninst ? fixed + need.r + need.n + (three ? need.m : 0) : 0;
	/* the narration first, then the instance, then the step's records */
	nar_h = core + 2;
	if (nar_h > avail - inst_min)
		nar_h = avail - inst_min;
	if (nar_h < 3)
		nar_h = 3;
	inst_h = inst_need < avail - nar_h ? inst_need : avail - nar_h;
	if (n + 2 > nar_h)
		nar_h = n + 2 < avail - inst_h ? n + 2 : avail - inst_h;
	if (ninst)
		inst_h = avail - nar_h;		/* what is left: more rbr rows */
	else
		nar_h = avail;
	if (core > nar_h - 2)
		n = narration_lines(lv, k, b->w - 4, true, lines, &core, &nrec);

	/* the narration pane */
	{
		char title[160];
		const struct et_ev_lesson *l = k >= 0 ? item_lesson(lv, lv->stops[k]) : NULL;
		int rows = nar_h - 2, shown = n < rows ? n : rows;

		if (l)
			snprintf(title, sizeof(title), l->phase == ET_LESSON_BEFORE ?
				 _(" step %d/%d: what is about to happen ") :
				 _(" step %d/%d: what the kernel did "), l->step, l->nsteps);
		else
			snprintf(title, sizeof(title), " %s ", _("lesson"));
		tbuf_box(b, g, 0, 1, b->w, nar_h, TC_KEY, NULL);
		tbuf_text(b, g, 2, 1, b->w - 4, TC_PANE_TITLE, title);
		/* records cut short: the last row says how many more */
		if (n > rows && rows > core)
			shown = rows - 1;
		for (int i = 0; i < shown; i++)
			tbuf_text(b, g, 2 + lines[i].indent, 2 + i, b->w - 4 - lines[i].indent,
				  lines[i].color, lines[i].s);
		if (shown < n && rows > core) {
			char more[64];

			snprintf(more, sizeof(more), _("… and %d more"), n - shown);
			tbuf_text(b, g, 4, 2 + shown, b->w - 6, TC_DIM, more);
		}
	}
	if (!ninst)
		return;
	rw = share(inst_h - fixed, &need, three);
	if (three) {
		int w0 = b->w / 2;

		inst_column(lv, b, 0, 1 + nar_h, w0, inst_h, ep[0], epfd[0], &rw, true, touched);
		inst_column(lv, b, w0, 1 + nar_h, b->w - w0, inst_h, ep[1], epfd[1], &rw, true,
			    touched);
	} else {
		inst_column(lv, b, 0, 1 + nar_h, b->w, inst_h, ep[0], epfd[0], &rw, false,
			    touched);
	}
}

/* ---- life ---------------------------------------------------------------------- */

struct lesson_view *lv_new(const struct tglyphs *g, const struct tui_lesson_ctl *ctl,
			   double pace, bool replay)
{
	struct lesson_view *lv = calloc(1, sizeof(*lv));

	if (!lv)
		return NULL;
	lv->lines = calloc(NLINES, sizeof(*lv->lines));
	if (!lv->lines) {
		free(lv);
		return NULL;
	}
	lv->ctl = ctl;
	lv->pace = pace > 0 ? pace : 2;
	lv->replay = replay;
	lv->callbacks_visible = true;
	lv->begin = -1;
	lv->cur = -1;
	snprintf(lv->mode, sizeof(lv->mode), "?");
	model_init(&lv->m, true);
	if (tui_init(&lv->t, &lv->m, g ? g : &tglyphs_ascii)) {
		model_free(&lv->m);
		free(lv->lines);
		free(lv);
		return NULL;
	}
	lv->t.st.replay = replay;
	/* rbr as the kernel's tree wherever it fits (the list otherwise) */
	lv->t.tree_shape = true;
	lv->before_stop = -1;
	return lv;
}

void lv_set_glyphs(struct lesson_view *lv, const struct tglyphs *g, bool letters)
{
	if (g)
		lv->t.g = g;
	lv->t.letters = letters;
}

void lv_begin(struct lesson_view *lv, const struct et_session_info *info)
{
	lv->callbacks_visible = info->callbacks_visible;
	lv->m.callbacks_visible = info->callbacks_visible;
	lv->t.st.ready_exact = info->callbacks_visible;
	et_session_visible(info, &lv->t.st.vis);
	snprintf(lv->mode, sizeof(lv->mode), "%s", info->attach ? info->attach : "?");
}

void lv_free(struct lesson_view *lv)
{
	if (!lv)
		return;
	for (size_t i = 0; i < lv->nitems; i++) {
		struct lv_item *it = &lv->items[i];

		free(it->rec);
		if (it->snap) {
			free(it->s.items);
			free(it->s.ready);
			free(it->s.waiters);
			free(it->s.tree);
		}
	}
	tui_tree_release(&lv->before[0]);
	tui_tree_release(&lv->before[1]);
	free(lv->items);
	free(lv->stops);
	free(lv->lines);
	tui_free(&lv->t);
	model_free(&lv->m);
	free(lv);
}

int lv_stop(const struct lesson_view *lv)
{
	return lv->cur;
}

int lv_nstops(const struct lesson_view *lv)
{
	return (int)lv->nstops;
}

bool lv_waiting(const struct lesson_view *lv)
{
	return lv->waiting;
}

bool lv_autoplay(const struct lesson_view *lv)
{
	return lv->autoplay;
}

bool lv_ended(const struct lesson_view *lv)
{
	return lv->end_held || lv->no_more;
}

const struct model *lv_model(const struct lesson_view *lv)
{
	return &lv->m;
}

const struct et_ev_lesson *lv_stop_record(const struct lesson_view *lv, int k)
{
	return k >= 0 && k < (int)lv->nstops ? item_lesson(lv, lv->stops[k]) : NULL;
}

int lv_model_at(const struct lesson_view *lv, int k, struct model *out)
{
	model_init(out, lv->callbacks_visible);
	if (k < 0 || k >= (int)lv->nstops)
		return -1;
	for (size_t i = 0; i <= lv->stops[k]; i++) {
		const struct lv_item *it = &lv->items[i];

		if (it->snap)
			model_apply_snapshot(out, &it->s);
		else
			model_apply(out, it->rec);
	}
	return 0;
}
