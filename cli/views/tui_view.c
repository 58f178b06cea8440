// SPDX-License-Identifier: GPL-2.0
/*
 * The TUI's screens, formatted into an attributed buffer (tui_view.h).
 *
 * Overview: one row per epoll instance, grouped by process.  Instance
 * view: three panes mirroring struct eventpoll (the rb-tree of epitems,
 * rdllist, the wait queue wq) over a log of the events, each named by the
 * kernel function it stands for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "tui_view.h"

#define LOG_SLOT 512	/* bytes per log slot: the largest record fits */

/* ---- the event log -------------------------------------------------------- */

static int log_init(struct tui_log *l, unsigned int cap)
{
	l->slots = calloc(cap, LOG_SLOT);
	l->cap = l->slots ? cap : 0;
	l->head = l->count = 0;
	l->total = 0;
	return l->slots ? 0 : -1;
}

static void log_push(struct tui_log *l, const struct et_hdr *h, size_t size)
{
	unsigned char *slot;

	if (!l->cap)
		return;
	if (size > LOG_SLOT - 8)
		size = LOG_SLOT - 8;
	slot = l->slots + (size_t)l->head * LOG_SLOT;
	memcpy(slot, &size, sizeof(size) < 8 ? sizeof(size) : 8);
	memcpy(slot + 8, h, size);
	l->head = (l->head + 1) % l->cap;
	if (l->count < l->cap)
		l->count++;
	l->total++;
}

const struct et_hdr *tui_log_get(const struct tui_log *l, unsigned int i)
{
	if (i >= l->count)
		return NULL;
	return (const void *)(l->slots + (size_t)((l->head + l->cap - 1 - i) % l->cap) * LOG_SLOT + 8);
}

/* ---- what changed lately ------------------------------------------------ */

#define SUB_INST	(2ULL << 32)
#define SUB_TID(t)	((1ULL << 32) | (t))
#define SUB_FD(f)	((__u64)(__u32)(f))

static unsigned int touch_slot(__u64 ep, __u64 sub)
{
	__u64 k = ep * 0x9e3779b97f4a7c15ULL ^ (sub + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;

	return (unsigned int)(k >> 40) % TUI_TOUCH_CAP;
}

static void touch_set(struct tui *t, __u64 ep, __u64 sub, __u64 ts)
{
	struct tui_touch *e = &t->touch[touch_slot(ep, sub)];

	e->key = ep ^ sub * 0x9e3779b97f4a7c15ULL;
	e->ts = ts;
}

static bool touched(const struct tui *t, __u64 ep, __u64 sub)
{
	const struct tui_touch *e = &t->touch[touch_slot(ep, sub)];

	return e->key == (ep ^ sub * 0x9e3779b97f4a7c15ULL) && e->ts &&
	       e->ts + TUI_HIGHLIGHT_NS > t->now_ns;
}

int tui_init(struct tui *t, struct model *m, const struct tglyphs *g)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->g = g;
	t->filter.fd = -1;
	t->filter.tid = -1;
	t->filter.kind = -1;
	t->sort = SORT_PID;
	return log_init(&t->log, TUI_LOG_CAP);
}

void tui_free(struct tui *t)
{
	free(t->log.slots);
	free(t->rates);
	t->log.slots = NULL;
	t->rates = NULL;
}

void tui_reset(struct tui *t)
{
	t->log.head = t->log.count = 0;
	t->log.total = 0;
	memset(t->touch, 0, sizeof(t->touch));
	t->nrates = 0;
	t->last_ns = t->t0_ns = 0;
	memset(t->scroll, 0, sizeof(t->scroll));
}

void tui_apply(struct tui *t, const struct et_hdr *h, size_t size)
{
	struct et_desc d;

	if (!model_apply(t->m, h))
		return;		/* a process after its exit: not ours */
	log_push(&t->log, h, size);
	if (h->ts_ns > t->last_ns)
		t->last_ns = h->ts_ns;
	if (!t->t0_ns || h->ts_ns < t->t0_ns)
		t->t0_ns = h->ts_ns;
	et_classify(h, &d);
	if (!d.in)
		return;
	touch_set(t, d.in->ep, SUB_INST, h->ts_ns);
	if (d.fd >= 0)
		touch_set(t, d.in->ep, SUB_FD(d.fd), h->ts_ns);
	if (d.kind == ETK_WAIT || d.kind == ETK_SLEEP || d.kind == ETK_WAKEUP)
		touch_set(t, d.in->ep, SUB_TID(h->tid), h->ts_ns);
}

void tui_apply_snapshot(struct tui *t, const struct et_snapshot *s)
{
	model_apply_snapshot(t->m, s);
}

static struct tui_rate *rate_of(struct tui *t, const struct model_inst *in)
{
	for (size_t i = 0; i < t->nrates; i++)
		if (t->rates[i].ep == in->in.ep)
			return &t->rates[i];
	if (et_grow((void **)&t->rates, &t->cap_rates, t->nrates + 1, sizeof(*t->rates)))
		return NULL;
	t->rates[t->nrates] = (struct tui_rate){ .ep = in->in.ep, .prev = in->cnt,
						 .prev_ns = t->now_ns };
	return &t->rates[t->nrates++];
}

void tui_update_rates(struct tui *t, __u64 now_ns)
{
	size_t j = 0;

	for (size_t i = 0; i < t->m->ninst; i++) {
		struct model_inst *in = t->m->inst[i];
		struct tui_rate *r = rate_of(t, in);
		double dt;

		if (!r || now_ns < r->prev_ns + 1000000000ULL)
			continue;
		dt = (now_ns - r->prev_ns) / 1e9;
		r->callbacks = (in->cnt.callbacks - r->prev.callbacks) / dt;
		r->wakeups = (in->cnt.wakeups - r->prev.wakeups) / dt;
		r->events = (in->cnt.events - r->prev.events) / dt;
		r->prev = in->cnt;
		r->prev_ns = now_ns;
	}
	/* forget the rates of instances the model forgot */
	for (size_t i = 0; i < t->nrates; i++)
		if (model_find(t->m, t->rates[i].ep))
			t->rates[j++] = t->rates[i];
	t->nrates = j;
}

static const struct tui_rate *rate_find(const struct tui *t, __u64 ep)
{
	for (size_t i = 0; i < t->nrates; i++)
		if (t->rates[i].ep == ep)
			return &t->rates[i];
	return NULL;
}

/* ---- filters ------------------------------------------------------------- */

bool tui_filter_parse(struct tui_filter *f, const char *text)
{
	struct tui_filter n = { .fd = -1, .tid = -1, .kind = -1 };
	char buf[64], *tok, *save = NULL;
	bool any = false;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *p = buf; *p; p++)
		if (*p == '=' || *p == ':' || *p == ',')
			*p = ' ';
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *end;
		long v;

		if (!strcmp(tok, "fd") || !strcmp(tok, "tid") || !strcmp(tok, "kind")) {
			char *arg = strtok_r(NULL, " ", &save);

			if (!arg)
				return false;
			if (!strcmp(tok, "kind")) {
				n.kind = et_kind_parse(arg);
				if (n.kind < 0)
					return false;
			} else {
				v = strtol(arg, &end, 10);
				if (*end || v < 0 || v > 0x7fffffff)
					return false;
				if (tok[0] == 'f')
					n.fd = (int)v;
				else
					n.tid = v;
			}
			any = true;
			continue;
		}
		v = strtol(tok, &end, 10);
		if (!*end && v >= 0 && v <= 0x7fffffff) {
			n.fd = (int)v;		/* a bare number is an fd */
		} else if (et_kind_parse(tok) >= 0) {
			n.kind = et_kind_parse(tok);
		} else {
			return false;
		}
		any = true;
	}
	if (!any)
		return false;
	n.on = true;
	snprintf(n.text, sizeof(n.text), "%s", text);
	*f = n;
	return true;
}

bool tui_filter_match(const struct tui_filter *f, const struct et_hdr *h)
{
	struct et_desc d;

	if (!f->on)
		return true;
	et_classify(h, &d);
	if (f->kind >= 0 && (int)d.kind != f->kind)
		return false;
	if (f->fd >= 0 && d.fd != f->fd)
		return false;
	if (f->tid >= 0 && h->tid != (__u32)f->tid)
		return false;
	return true;
}

/* ---- small formatting helpers ------------------------------------------- */

static const char *dur(__u64 ns, char *buf, size_t len)
{
	if (ns < 1000000ULL)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.*fs", ns < 1000000000ULL ? 3 : 1, ns / 1e9);
	else if (ns < 600000000000ULL)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ULL));
	else
		snprintf(buf, len, "%llum", (unsigned long long)(ns / 60000000000ULL));
	return buf;
}

static const char *rate_str(double r, char *buf, size_t len)
{
	if (r >= 1e6)
		snprintf(buf, len, "%.1fM", r / 1e6);
	else if (r >= 1e4)
		snprintf(buf, len, "%.0fk", r / 1e3);
	else if (r >= 100)
		snprintf(buf, len, "%.0f", r);
	else
		snprintf(buf, len, "%.1f", r);
	return buf;
}

static void comm_of(const struct tui *t, __u32 pid, __u32 tid, char *buf, size_t len)
{
	if (!t->env.comm || !t->env.comm(t->env.ctx, pid, tid, buf, len))
		snprintf(buf, len, "?");
}

static void title_bar(struct tui *t, struct tbuf *b, const char *what)
{
	tbuf_fill(b, 0, 0, b->w, 1, ' ', TC_TITLE);
	tbuf_printf(b, t->g, 1, 0, b->w - 2, TC_TITLE, "epolltrace  %s", what);
	if (t->last_ns) {
		char right[48];
		int n = snprintf(right, sizeof(right), "t=%.3fs", (t->last_ns - t->t0_ns) / 1e9);

		if (n < b->w - 30)
			tbuf_text(b, t->g, b->w - n - 1, 0, n, TC_TITLE, right);
	}
	tbuf_paint(b, 0, 0, b->w, TC_TITLE, TA_BOLD);
}

static void status_line(struct tui *t, struct tbuf *b)
{
	const struct tui_status *s = &t->st;
	char left[256], ev[16];
	__u64 drift = 0;
	int y = b->h - 1, x;

	for (size_t i = 0; i < t->m->ninst; i++)
		drift += t->m->inst[i]->drift;
	tbuf_fill(b, 0, y, b->w, 1, ' ', TC_STATUS);
	snprintf(left, sizeof(left), " %s%s | %s%s%s, ready list %s | %s ev/s | lost %llu | drift %llu",
		 s->replay ? "REPLAY" : "LIVE",
		 s->paused ? " PAUSED" : s->ended ? " ENDED" : " RUNNING",
		 s->mode ? s->mode : "?", s->via ? ", callbacks via " : "", s->via ? s->via : "",
		 s->ready_exact ? "exact" : "sampled",
		 rate_str(s->events_per_s, ev, sizeof(ev)), (unsigned long long)s->lost,
		 (unsigned long long)drift);
	x = tbuf_text(b, t->g, 0, y, b->w, TC_STATUS, left);
	if (s->replay && x < b->w - 8)
		x += tbuf_printf(b, t->g, x, y, b->w - x, TC_STATUS, " | x%g %.1f/%.1fs #%llu/%llu",
				 s->speed,
				 s->pos_ns > s->first_ns ? (s->pos_ns - s->first_ns) / 1e9 : 0.0,
				 s->last_ns > s->first_ns ? (s->last_ns - s->first_ns) / 1e9 : 0.0,
				 (unsigned long long)s->event_no, (unsigned long long)s->events);
	if (s->paused && s->pending && x < b->w - 8)
		x += tbuf_printf(b, t->g, x, y, b->w - x, TC_STATUS, " | %llu held",
				 (unsigned long long)s->pending);
	if (s->messages && x < b->w - 12)
		x += tbuf_printf(b, t->g, x, y, b->w - x, TC_WARN, " | %u msg (m)", s->messages);
	if (t->filter.on && x < b->w - 12)
		x += tbuf_printf(b, t->g, x, y, b->w - x, TC_STATUS, " | /%s", t->filter.text);
	if (s->lost)
		tbuf_paint(b, 0, y, x, TC_STATUS, 0);
	if (x < b->w - 18) {
		const char *hint = s->ended && !s->replay ? "q quit  ? help " : "? help  q quit ";
		int n = (int)strlen(hint);

		tbuf_text(b, t->g, b->w - n, y, n, TC_STATUS, hint);
	}
	tbuf_paint(b, 0, y, b->w, TC_STATUS, 0);
	if (s->paused)
		tbuf_paint(b, 1, y, 13, TC_WARN, TA_REVERSE);
}

/* the filter being typed, on the row above the status line */
static void input_line(struct tui *t, struct tbuf *b)
{
	int y = b->h - 2;

	tbuf_fill(b, 0, y, b->w, 1, ' ', TC_NORMAL);
	if (t->seeking)
		tbuf_printf(b, t->g, 0, y, b->w, TC_KEY,
			    "seek to (seconds from the start, or #event; Esc cancels): %s_", t->input);
	else
		tbuf_printf(b, t->g, 0, y, b->w, TC_KEY,
			    "filter (fd N, tid N, kind K; Esc clears): /%s_", t->input);
}

/* ---- the event log pane ---------------------------------------------------- */

static void log_line(struct tui *t, struct tbuf *b, int x, int y, int w, const struct et_hdr *h)
{
	struct et_desc d;
	int n;

	et_describe(h, &d);
	n = tbuf_printf(b, t->g, x, y, w, TC_DIM, "%10.6f ",
			h->ts_ns > t->t0_ns ? (h->ts_ns - t->t0_ns) / 1e9 : 0.0);
	n += tbuf_printf(b, t->g, x + n, y, w - n, (enum tui_color)(TC_K_INSTANCE + d.kind),
			 "%-22s ", d.func);
	if (d.in && n < w)
		n += tbuf_printf(b, t->g, x + n, y, w - n, TC_NORMAL, "%u/epfd %d ", d.in->owner,
				 d.in->epfd);
	if (n < w)
		n += tbuf_printf(b, t->g, x + n, y, w - n, TC_NORMAL, "tid %u %s", h->tid, d.what);
	(void)n;
}

/* records of this instance (ep != 0) that pass the filter, newest at the bottom */
static void log_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h, __u64 ep,
		     bool focused)
{
	char title[96];
	int rows = h - 2, skip = t->scroll[PANE_LOG], shown = 0;
	const struct et_hdr *lines[256];

	snprintf(title, sizeof(title), "events%s%s%s (newest last)", t->filter.on ? " /" : "",
		 t->filter.on ? t->filter.text : "", skip ? " scrolled" : "");
	tbuf_box(b, t->g, x, y, w, h, focused ? TC_KEY : TC_BORDER, title);
	if (rows > 256)
		rows = 256;
	for (unsigned int i = 0; shown < rows; i++) {
		const struct et_hdr *r = tui_log_get(&t->log, i);
		struct et_desc d;

		if (!r)
			break;
		if (r->type == ET_EV_STATS || r->type == ET_EV_SNAP_ROUND)
			continue;
		et_classify(r, &d);
		if (ep && (!d.in || d.in->ep != ep))
			continue;
		if (!tui_filter_match(&t->filter, r))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		lines[shown++] = r;
	}
	for (int i = 0; i < shown; i++)
		log_line(t, b, x + 1, y + h - 2 - i, w - 2, lines[i]);
	if (!shown)
		tbuf_text(b, t->g, x + 2, y + 1, w - 4, TC_DIM,
			  t->log.total ? "(no event matches)" : "(no events yet)");
}

static void explain_box(struct tui *t, struct tbuf *b, int y, int h);

/* ---- the overview ------------------------------------------------------------ */

struct ov_row {
	const struct model_inst *in;
	double key;		/* this row's sort key */
	double group;		/* its process's */
};

static double sort_key(const struct tui *t, const struct model_inst *in, enum tui_sort s)
{
	const struct tui_rate *r = rate_find(t, in->in.ep);

	switch (s) {
	case SORT_PID: return 0;
	case SORT_WATCHED: return in->nitems;
	case SORT_READY: return in->nready;
	case SORT_ASLEEP: return model_asleep(in);
	case SORT_CALLBACKS: return r ? r->callbacks : 0;
	case SORT_WAKEUPS: return r ? r->wakeups : 0;
	case SORT_EVENTS: return r ? r->events : 0;
	case SORT_ZERO: return in->cnt.zero_wakeups;
	default: return 0;
	}
}

static int ov_cmp(const void *a, const void *b)
{
	const struct ov_row *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? 1 : -1;	/* busiest process first */
	if (x->in->in.owner != y->in->in.owner)
		return x->in->in.owner < y->in->in.owner ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	if (x->in->in.epfd != y->in->in.epfd)
		return x->in->in.epfd < y->in->in.epfd ? -1 : 1;
	return x->in->in.ep < y->in->in.ep ? -1 : x->in->in.ep > y->in->in.ep;
}

/* the rows in display order; caller frees */
static struct ov_row *ov_rows(const struct tui *t, size_t *n)
{
	struct ov_row *r = calloc(t->m->ninst ? t->m->ninst : 1, sizeof(*r));

	*n = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < t->m->ninst; i++)
		r[(*n)++] = (struct ov_row){ .in = t->m->inst[i],
					     .key = sort_key(t, t->m->inst[i], t->sort) };
	for (size_t i = 0; i < *n; i++)
		for (size_t j = 0; j < *n; j++)
			if (r[j].in->in.owner == r[i].in->in.owner && r[j].key > r[i].group)
				r[i].group = r[j].key;
	qsort(r, *n, sizeof(*r), ov_cmp);
	return r;
}

const char *tui_sort_name(enum tui_sort s)
{
	static const char *const n[SORT_MAX] = { "pid", "watched", "ready", "asleep",
						 "callbacks/s", "wakeups/s", "events/s",
						 "0-event wakeups" };

	return s < SORT_MAX ? n[s] : "?";
}

struct col {
	const char *name;
	int w;
	int prio;	/* columns with a higher number go first when narrow */
	enum tui_sort sort;
};

static const struct col ov_cols[] = {
	{ "PID", 7, 0, SORT_PID }, { "COMM", 15, 1, SORT_MAX }, { "EPFD", 5, 0, SORT_MAX },
	{ "WATCHED", 8, 0, SORT_WATCHED }, { "READY", 6, 0, SORT_READY },
	{ "ASLEEP", 7, 0, SORT_ASLEEP }, { "CB/s", 8, 2, SORT_CALLBACKS },
	{ "WAKE/s", 8, 3, SORT_WAKEUPS }, { "EV/s", 8, 2, SORT_EVENTS },
	{ "0-WAKE", 7, 3, SORT_ZERO }, { "FLAGS", 6, 1, SORT_MAX },
};
#define NCOLS (int)(sizeof(ov_cols) / sizeof(ov_cols[0]))

/* which columns fit in width w */
static void ov_fit(int w, bool *show)
{
	int total = 0;

	for (int i = 0; i < NCOLS; i++) {
		show[i] = true;
		total += ov_cols[i].w;
	}
	for (int prio = 3; prio > 0 && total > w; prio--)
		for (int i = NCOLS - 1; i >= 0 && total > w; i--)
			if (ov_cols[i].prio == prio && show[i]) {
				show[i] = false;
				total -= ov_cols[i].w;
			}
}

static void ov_flags(const struct tui *t, const struct model_inst *in, char *f)
{
	int n = 0;

	if (in->drift)
		f[n++] = 'D';
	if (t->m->lost)
		f[n++] = 'L';
	if (in->resyncing)
		f[n++] = 'R';
	if (!t->m->callbacks_visible || in->ready_unknown)
		f[n++] = 'S';
	if (in->waiters_truncated)
		f[n++] = 'W';
	if (in->closed_ns)
		f[n++] = 'X';
	f[n] = 0;
}

static void ov_row_draw(struct tui *t, struct tbuf *b, int y, const bool *show,
			const struct model_inst *in, bool first_of_proc, bool selected)
{
	const struct tui_rate *r = rate_find(t, in->in.ep);
	char cell[32], comm[32], flags[8];
	int x = 0;
	enum tui_color c = in->closed_ns ? TC_DIM : TC_NORMAL;

	ov_flags(t, in, flags);
	comm_of(t, in->in.owner, in->in.owner, comm, sizeof(comm));
	for (int i = 0; i < NCOLS; i++) {
		enum tui_color cc = c;

		if (!show[i])
			continue;
		cell[0] = 0;
		switch (i) {
		case 0: if (first_of_proc) snprintf(cell, sizeof(cell), "%u", in->in.owner); break;
		case 1: if (first_of_proc) snprintf(cell, sizeof(cell), "%s", comm); break;
		case 2: snprintf(cell, sizeof(cell), "%d", in->in.epfd); break;
		case 3: snprintf(cell, sizeof(cell), "%zu", in->nitems); break;
		case 4:
			snprintf(cell, sizeof(cell), "%zu", in->nready);
			if (in->nready)
				cc = TC_READY;
			break;
		case 5:
			snprintf(cell, sizeof(cell), "%u", model_asleep(in));
			if (model_asleep(in))
				cc = TC_ASLEEP;
			break;
		case 6: rate_str(r ? r->callbacks : 0, cell, sizeof(cell)); break;
		case 7: rate_str(r ? r->wakeups : 0, cell, sizeof(cell)); break;
		case 8: rate_str(r ? r->events : 0, cell, sizeof(cell)); break;
		case 9: snprintf(cell, sizeof(cell), "%llu", (unsigned long long)in->cnt.zero_wakeups);
			break;
		case 10:
			snprintf(cell, sizeof(cell), "%s", flags);
			if (flags[0] && flags[0] != 'S' && flags[0] != 'X')
				cc = TC_WARN;
			break;
		}
		if (i == 1)
			tbuf_text(b, t->g, x, y, ov_cols[i].w - 1, cc, cell);
		else
			tbuf_printf(b, t->g, x, y, ov_cols[i].w, cc, "%*s ", ov_cols[i].w - 1, cell);
		x += ov_cols[i].w;
	}
	if (touched(t, in->in.ep, SUB_INST))
		tbuf_paint(b, 0, y, b->w, TC_CHANGED, 0);
	if (selected)
		tbuf_paint(b, 0, y, b->w, TC_SELECTED, TA_REVERSE);
}

static void overview(struct tui *t, struct tbuf *b)
{
	bool show[NCOLS];
	size_t n;
	struct ov_row *rows = ov_rows(t, &n);
	int x = 0, list_h, log_h, explain_h, sel = -1;
	char title[96];

	snprintf(title, sizeof(title), "overview: %zu instance%s, sorted by %s", n,
		 n == 1 ? "" : "s", tui_sort_name(t->sort));
	title_bar(t, b, title);
	ov_fit(b->w, show);
	for (int i = 0; i < NCOLS; i++) {
		if (!show[i])
			continue;
		if (i == 1)
			tbuf_printf(b, t->g, x, 1, ov_cols[i].w, TC_HEADER, "%-*s",
				    ov_cols[i].w, ov_cols[i].name);
		else
			tbuf_printf(b, t->g, x, 1, ov_cols[i].w, TC_HEADER, "%*s ",
				    ov_cols[i].w - 1, ov_cols[i].name);
		if (ov_cols[i].sort == t->sort)
			tbuf_paint(b, x, 1, ov_cols[i].w, TC_HEADER, TA_UNDERLINE);
		x += ov_cols[i].w;
	}
	tbuf_paint(b, 0, 1, b->w, TC_HEADER, TA_BOLD);
	explain_h = t->explain ? 4 : 0;
	log_h = (b->h - 3 - explain_h) * 2 / 5;
	if (log_h < 5)
		log_h = 0;
	list_h = b->h - 3 - log_h - explain_h;

	/* keep the selection on the same instance across re-sorts */
	for (size_t i = 0; rows && i < n; i++)
		if (rows[i].in->in.ep == t->sel_ep)
			sel = (int)i;
	if (sel < 0 && n) {
		sel = t->sel_row < (int)n ? (t->sel_row < 0 ? 0 : t->sel_row) : (int)n - 1;
		t->sel_ep = rows[sel].in->in.ep;
	}
	t->sel_row = sel;
	if (sel >= 0 && sel < t->top)
		t->top = sel;
	if (sel >= t->top + list_h)
		t->top = sel - list_h + 1;
	if (t->top > (int)n - list_h)
		t->top = (int)n - list_h > 0 ? (int)n - list_h : 0;
	t->rows_y = 2;
	t->nrows_shown = 0;
	for (int i = 0; rows && i < list_h && t->top + i < (int)n; i++) {
		const struct ov_row *r = &rows[t->top + i];
		bool first = t->top + i == 0 || rows[t->top + i - 1].in->in.owner != r->in->in.owner ||
			     i == 0;

		ov_row_draw(t, b, 2 + i, show, r->in, first, t->top + i == sel);
		if (i < (int)(sizeof(t->row_ep) / sizeof(t->row_ep[0]))) {
			t->row_ep[i] = r->in->in.ep;
			t->nrows_shown = i + 1;
		}
	}
	if (!n)
		tbuf_text(b, t->g, 2, 3, b->w - 4, TC_DIM,
			  "No epoll instance yet. Waiting for the traced processes to use epoll...");
	if (log_h)
		log_pane(t, b, 0, 2 + list_h, b->w, log_h, 0, false);
	if (explain_h)
		explain_box(t, b, 2 + list_h + log_h, explain_h);
	free(rows);
}

void tui_select_move(struct tui *t, int delta)
{
	size_t n;
	struct ov_row *rows = ov_rows(t, &n);
	int sel = 0;

	if (!rows || !n) {
		free(rows);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].in->in.ep == t->sel_ep)
			sel = (int)i;
	sel += delta;
	if (sel < 0)
		sel = 0;
	if (sel >= (int)n)
		sel = (int)n - 1;
	t->sel_ep = rows[sel].in->in.ep;
	t->sel_row = sel;
	free(rows);
}

/* ---- the instance view -------------------------------------------------------- */

static const struct model_inst *sel_inst(const struct tui *t)
{
	return model_find(t->m, t->sel_ep);
}

/* items in rb-tree order: the kernel orders epitems by file, then fd */
static int tree_cmp(const void *a, const void *b)
{
	const struct model_item *x = *(const struct model_item *const *)a;
	const struct model_item *y = *(const struct model_item *const *)b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

static int clamp_scroll(int *scroll, int n, int rows)
{
	if (*scroll > n - rows)
		*scroll = n - rows;
	if (*scroll < 0)
		*scroll = 0;
	return *scroll;
}

static void tree_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in)
{
	const struct model_item **items = calloc(in->nitems ? in->nitems : 1, sizeof(*items));
	int rows = h - 3, top;
	char title[96], ev[64];

	snprintf(title, sizeof(title), "rbr: %zu epitem%s, tree order", in->nitems,
		 in->nitems == 1 ? "" : "s");
	tbuf_box(b, t->g, x, y, w, h, t->focus == PANE_TREE ? TC_KEY : TC_BORDER, title);
	tbuf_printf(b, t->g, x + 1, y + 1, w - 2, TC_HEADER, "  %5s %-11s %-8s %s", "FD", "KIND",
		    "EVENTS", "ADDRESS");
	if (!items)
		return;
	for (size_t i = 0; i < in->nitems; i++)
		items[i] = &in->items[i];
	qsort(items, in->nitems, sizeof(*items), tree_cmp);
	top = clamp_scroll(&t->scroll[PANE_TREE], (int)in->nitems, rows);
	for (int r = 0; r < rows && top + r < (int)in->nitems; r++) {
		const struct model_item *it = items[top + r];
		struct fdkind k = { .kind = "?" };
		bool ready = model_ready_index(in, it->fd) >= 0;
		int ry = y + 2 + r;
		struct tcell *mark = tbuf_at(b, x + 1, ry);

		if (t->env.fdkind)
			t->env.fdkind(t->env.ctx, in->in.owner, it->fd, &k);
		/* EPOLLERR and EPOLLHUP are always on: not worth a column */
		et_events_str(it->events & ~0x18u, ev, sizeof(ev));
		if (ready && mark)
			*mark = (struct tcell){ .ch = t->g->ready, .color = TC_READY };
		tbuf_printf(b, t->g, x + 3, ry, w - 4, ready ? TC_READY : TC_NORMAL,
			    "%5d %-11.11s %-8s %s", it->fd, k.kind, ev, k.addr);
		if (touched(t, in->in.ep, SUB_FD(it->fd)))
			tbuf_paint(b, x + 1, ry, w - 2, TC_CHANGED, 0);
	}
	if (!in->nitems)
		tbuf_text(b, t->g, x + 2, y + 2, w - 4, TC_DIM, "(empty: nothing watched)");
	else if ((int)in->nitems > rows)
		tbuf_printf(b, t->g, x + w - 14, y + h - 1, 12, TC_BORDER, " %d-%d ", top + 1,
			    top + rows < (int)in->nitems ? top + rows : (int)in->nitems);
	free(items);
}

static void ready_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		       const struct model_inst *in)
{
	int rows = h - 3, top;
	char title[96], age[16];
	bool sampled = !t->m->callbacks_visible || in->ready_unknown;

	snprintf(title, sizeof(title), "rdllist: %zu ready%s", in->nready,
		 sampled ? " (sampled)" : "");
	tbuf_box(b, t->g, x, y, w, h, t->focus == PANE_READY ? TC_KEY : TC_BORDER, title);
	tbuf_printf(b, t->g, x + 1, y + 1, w - 2, TC_HEADER, "%-5s %5s %-9s %s", "POS", "FD",
		    "KIND", "QUEUED");
	top = clamp_scroll(&t->scroll[PANE_READY], (int)in->nready, rows);
	for (int r = 0; r < rows && top + r < (int)in->nready; r++) {
		const struct model_ready *e = &in->ready[top + r];
		struct fdkind k = { .kind = "?" };
		int ry = y + 2 + r;

		if (t->env.fdkind)
			t->env.fdkind(t->env.ctx, in->in.owner, e->fd, &k);
		tbuf_printf(b, t->g, x + 1, ry, w - 2, TC_READY, "%-5s %5d %-9.9s %s",
			    top + r == 0 ? "head" : top + r + 1 == (int)in->nready ? "tail" : "",
			    e->fd, k.kind,
			    e->since_ns && t->now_ns > e->since_ns ?
			    dur(t->now_ns - e->since_ns, age, sizeof(age)) : "-");
		if (touched(t, in->in.ep, SUB_FD(e->fd)))
			tbuf_paint(b, x + 1, ry, w - 2, TC_CHANGED, 0);
	}
	if (!in->nready)
		tbuf_text(b, t->g, x + 2, y + 2, w - 4, TC_DIM, "(empty: nothing ready)");
}

static void wait_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in)
{
	int rows = h - 3, top;
	char title[96], a[16], left[24], comm[32];
	unsigned int asleep = model_asleep(in);

	snprintf(title, sizeof(title), "wq: %u asleep, %zu in epoll_wait", asleep, in->nwaiters);
	tbuf_box(b, t->g, x, y, w, h, t->focus == PANE_WAIT ? TC_KEY : TC_BORDER, title);
	tbuf_printf(b, t->g, x + 1, y + 1, w - 2, TC_HEADER, "%7s %-10s %-7s %s", "TID", "COMM",
		    "ASLEEP", "TIMEOUT");
	top = clamp_scroll(&t->scroll[PANE_WAIT], (int)in->nwaiters, rows);
	for (int r = 0; r < rows && top + r < (int)in->nwaiters; r++) {
		const struct model_waiter *wt = &in->waiters[top + r];
		int ry = y + 2 + r;

		comm_of(t, in->in.owner, wt->tid, comm, sizeof(comm));
		if (wt->timeout_ns < 0) {
			snprintf(left, sizeof(left), "never");
		} else {
			__u64 end = wt->since_ns + (__u64)wt->timeout_ns;

			snprintf(left, sizeof(left), "%s left",
				 end > t->now_ns ? dur(end - t->now_ns, a, sizeof(a)) : "0");
		}
		if (wt->asleep && wt->asleep_since_ns && t->now_ns > wt->asleep_since_ns)
			dur(t->now_ns - wt->asleep_since_ns, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "%s", "");
		tbuf_printf(b, t->g, x + 1, ry, w - 2, wt->asleep ? TC_ASLEEP : TC_NORMAL,
			    "%7u %-10.10s %-7s %s", wt->tid, comm,
			    wt->asleep ? (a[0] ? a : "asleep") : "running", left);
		if (touched(t, in->in.ep, SUB_TID(wt->tid)))
			tbuf_paint(b, x + 1, ry, w - 2, TC_CHANGED, 0);
	}
	if (!in->nwaiters)
		tbuf_text(b, t->g, x + 2, y + 2, w - 4, TC_DIM, "(empty: no thread waits)");
}

/* the last record applied, explained: for stepping in the classroom */
static void explain_box(struct tui *t, struct tbuf *b, int y, int h)
{
	const struct et_hdr *r = tui_log_get(&t->log, 0);
	struct et_desc d;
	const char *s;
	int x = 2, row = y + 1, w = b->w - 4;

	tbuf_box(b, t->g, 0, y, b->w, h, TC_KEY, "what the kernel just did (space: next)");
	if (!r)
		return;
	et_describe(r, &d);
	tbuf_printf(b, t->g, x, row, w, (enum tui_color)(TC_K_INSTANCE + d.kind), "%s %s",
		    d.func, d.what);
	s = et_explain(r);
	/* word-wrap the sentence over the remaining rows */
	for (row++; *s && row < y + h - 1; row++) {
		int n = (int)strlen(s), cut = n;

		if (n > w) {
			cut = w;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (!cut)
				cut = w;
		}
		tbuf_printf(b, t->g, x, row, w, TC_NORMAL, "%.*s", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

static void instance_view(struct tui *t, struct tbuf *b)
{
	const struct model_inst *in = sel_inst(t);
	const struct tui_rate *r;
	char title[128], comm[32], c1[16], c2[16], c3[16];
	int top = 2, bottom = b->h - 1, panes_h, log_h, explain_h = 0;

	if (!in) {
		title_bar(t, b, "instance");
		tbuf_text(b, t->g, 2, 3, b->w - 4, TC_DIM,
			  "This instance is gone (closed and forgotten). Esc: back to the overview.");
		return;
	}
	r = rate_find(t, in->in.ep);
	comm_of(t, in->in.owner, in->in.owner, comm, sizeof(comm));
	snprintf(title, sizeof(title), "pid %u (%s) epfd %d%s", in->in.owner, comm, in->in.epfd,
		 in->closed_ns ? " [closed]" : "");
	title_bar(t, b, title);
	tbuf_printf(b, t->g, 1, 1, b->w - 2, TC_HEADER,
		    "watched %zu  ready %zu  asleep %u  callbacks/s %s  wakeups/s %s  events/s %s"
		    "  0-event wakeups %llu  drift %llu%s",
		    in->nitems, in->nready, model_asleep(in),
		    rate_str(r ? r->callbacks : 0, c1, sizeof(c1)),
		    rate_str(r ? r->wakeups : 0, c2, sizeof(c2)),
		    rate_str(r ? r->events : 0, c3, sizeof(c3)),
		    (unsigned long long)in->cnt.zero_wakeups, (unsigned long long)in->drift,
		    in->resyncing ? "  RESYNCING" : "");
	if (t->explain)
		explain_h = 4;
	bottom -= explain_h;
	panes_h = (bottom - top) * 3 / 5;
	if (panes_h < 6)
		panes_h = bottom - top;
	log_h = bottom - top - panes_h;
	if (log_h < 4) {
		panes_h += log_h;
		log_h = 0;
	}
	if (b->w >= 110) {
		int w1 = b->w * 8 / 20, w2 = b->w * 5 / 20, w3 = b->w - w1 - w2;

		tree_pane(t, b, 0, top, w1, panes_h, in);
		ready_pane(t, b, w1, top, w2, panes_h, in);
		wait_pane(t, b, w1 + w2, top, w3, panes_h, in);
	} else {
		int h1 = panes_h / 2, h2 = panes_h - h1, wl = b->w / 2;

		tree_pane(t, b, 0, top, b->w, h1, in);
		ready_pane(t, b, 0, top + h1, wl, h2, in);
		wait_pane(t, b, wl, top + h1, b->w - wl, h2, in);
	}
	if (log_h)
		log_pane(t, b, 0, top + panes_h, b->w, log_h, in->in.ep, t->focus == PANE_LOG);
	if (explain_h)
		explain_box(t, b, bottom, explain_h);
}

/* ---- help and messages -------------------------------------------------------- */

static const char *const help_lines[] = {
	"Keys",
	"  Up/Down, j/k      move the selection, or scroll the focused pane",
	"  PgUp/PgDn, g/G    a page up/down, to the top/bottom",
	"  Enter, l          open the selected instance",
	"  Esc, h            back to the overview (or close this screen)",
	"  Tab               next pane in the instance view (rbr, rdllist, wq, events)",
	"  p                 pause the view (tracing and recording go on)",
	"  Space             when paused: apply the next event, and explain it",
	"  /                 filter events: fd N, tid N, kind K (a bare number is an fd)",
	"  s / S             sort the overview by the next / previous column",
	"  m                 messages (diagnostics from epolltrace and libbpf)",
	"  ?                 this help          q  quit",
	"  Replay only:      + / - speed (x0.1 to x100), p pause, Space or . one event,",
	"                    n the next event of the filter's kind (else of the last one's),",
	"                    [ / ] 10 s back / on, Home or < / End or > start / end,",
	"                    : seek to a time (seconds) or an event (#N)",
	"",
	"What you see",
	"  rbr       the interest set: struct eventpoll's red-black tree of epitems,",
	"            ordered as the kernel orders it (by file, then fd)",
	"  rdllist   the ready list: epitems queued by ep_poll_callback, head first;",
	"            epoll_wait takes them from the head (ep_send_events)",
	"  wq        the wait queue: threads asleep in epoll_wait, with the time",
	"            asleep and what is left of their timeout",
	"  events    each record named by the kernel function it stands for,",
	"            coloured by kind; a row something just touched is lit",
	"",
	"Overview flags",
	"  D drift: a snapshot corrected the model   L records were lost",
	"  R resyncing: wrong until an exact snapshot (losses, or a first walk",
	"    that raced changes)   W more threads wait than the walk listed",
	"  S the ready list is sampled (no ep_poll_callback hook)   X closed",
};

static void help(struct tui *t, struct tbuf *b)
{
	int n = (int)(sizeof(help_lines) / sizeof(help_lines[0])), y = 2;

	title_bar(t, b, "help (Esc or ? to close)");
	for (int i = 0; i < n && y < b->h - 1; i++, y++)
		tbuf_text(b, t->g, 1, y, b->w - 2,
			  help_lines[i][0] && help_lines[i][0] != ' ' ? TC_HEADER : TC_NORMAL,
			  help_lines[i]);
	if (!t->nplan || y + 2 >= b->h - 1)
		return;
	tbuf_text(b, t->g, 1, ++y, b->w - 2, TC_HEADER,
		  "This session's attach plan (hook, attached with, fidelity, point)");
	for (int i = 0; i < t->nplan && ++y < b->h - 1; i++)
		tbuf_text(b, t->g, 1, y, b->w - 2, TC_NORMAL, t->plan[i]);
}

static void messages(struct tui *t, struct tbuf *b)
{
	int rows = b->h - 3, shown = 0;

	title_bar(t, b, "messages (newest last; Esc to close)");
	for (unsigned int i = 0; t->message && shown < rows; i++) {
		const char *l = t->message(i);

		if (!l)
			break;
		tbuf_text(b, t->g, 1, 1 + rows - 1 - shown, b->w - 2,
			  strstr(l, "error") ? TC_ERROR : TC_NORMAL, l);
		shown++;
	}
	if (!shown)
		tbuf_text(b, t->g, 1, 2, b->w - 2, TC_DIM, "(no messages)");
}

void tui_format(struct tui *t, struct tbuf *b)
{
	tbuf_clear(b);
	if (b->w < TUI_MIN_W || b->h < TUI_MIN_H) {
		char msg[96];
		int y = b->h / 2;

		snprintf(msg, sizeof(msg), "Terminal too small: %dx%d, need %dx%d", b->w, b->h,
			 TUI_MIN_W, TUI_MIN_H);
		tbuf_text(b, t->g, 0, y > 0 ? y - 1 : 0, b->w, TC_WARN, msg);
		tbuf_text(b, t->g, 0, y, b->w, TC_NORMAL, "Enlarge it, or press q to quit.");
		return;
	}
	switch (t->screen) {
	case SCR_OVERVIEW: overview(t, b); break;
	case SCR_INSTANCE: instance_view(t, b); break;
	case SCR_HELP: help(t, b); break;
	case SCR_MESSAGES: messages(t, b); break;
	}
	status_line(t, b);
	if (t->editing)
		input_line(t, b);
}
