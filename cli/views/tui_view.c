// SPDX-License-Identifier: GPL-2.0
/*
 * The TUI's screens, formatted into an attributed buffer (tui_view.h).
 *
 * Overview: one row per epoll instance, grouped by process.  Instance
 * view: three panes mirroring struct eventpoll (the rb-tree of epitems,
 * rdllist, the wait queue wq) over a log of the events, each named by the
 * kernel function it stands for.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "i18n.h"
#include "tui_tree.h"
#include "tui_view.h"
#include "tui_anatomy.h"
#include "tui_findings.h"
#include "tui_chains.h"

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
	t->filter.pid = -1;
	t->filter.epfd = -1;
	t->sort = SORT_PID;
	/* as et_session_visible starts: sleeps are seen unless the plan says not */
	t->st.vis.sleeps = true;
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

bool tui_step_match(const struct tui *t, const struct et_hdr *h)
{
	struct et_desc d;

	if (!h || h->type == ET_EV_STATS || h->type == ET_EV_SNAP_ROUND)
		return false;
	if (t->screen != SCR_INSTANCE)
		return true;
	et_classify(h, &d);
	return d.in && d.in->ep == t->sel_ep;
}

bool tui_step(struct tui *t, int (*apply_next)(void *ctx), void *ctx)
{
	for (;;) {
		__u64 before = t->log.total;

		if (apply_next(ctx) <= 0)
			return false;
		/* a record the model took is the log's newest */
		if (t->log.total != before && tui_step_match(t, tui_log_get(&t->log, 0)))
			return true;
	}
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

/*
 * The event names the log can show: whatever describe.c calls each record,
 * found by describing one of every kind (and every variant a field picks),
 * so that the filter and the log never disagree on a name.
 */
#define KNOWN_MAX 64
static char known[KNOWN_MAX][32];
static int nknown = -1;

static void known_add(const struct et_hdr *h)
{
	struct et_desc d;

	et_classify(h, &d);
	/* a name, not a placeholder ("?" for a value out of range) */
	if (!d.func || !isalpha((unsigned char)d.func[0]) || strlen(d.func) >= sizeof(known[0]))
		return;
	for (int i = 0; i < nknown; i++)
		if (!strcmp(known[i], d.func))
			return;
	if (nknown < KNOWN_MAX)
		snprintf(known[nknown++], sizeof(known[0]), "%s", d.func);
}

static void known_init(void)
{
	union {
		struct et_hdr h;
		struct et_ev_ctl ctl;
		struct et_ev_wait_enter wait;
		unsigned char raw[LOG_SLOT];
	} r;

	if (nknown >= 0)
		return;
	nknown = 0;
	for (unsigned int type = 1; type < ET_EV_MAX; type++) {
		for (int v = 0; v < 8; v++) {
			memset(&r, 0, sizeof(r));
			r.h.type = type;
			if (type == ET_EV_CTL)
				r.ctl.op = v;
			else if (type == ET_EV_WAIT_ENTER)
				r.wait.sys = v;
			known_add(&r.h);
		}
		for (int i = 0; i < 16; i++)
			for (int j = i; j < 16; j++) {
				memset(&r, 0, sizeof(r));
				r.h.type = type;
				r.h.flags = (__u16)(1u << i | 1u << j);
				known_add(&r.h);
			}
	}
}

/* is s an event name, or part of one, that describe.c or the log has? */
static bool func_known(const char *s, bool exact, const struct tui_log *log)
{
	known_init();
	for (int i = 0; i < nknown; i++)
		if (exact ? !strcmp(known[i], s) : strstr(known[i], s) != NULL)
			return true;
	for (unsigned int i = 0; log && i < log->count; i++) {
		struct et_desc d;

		et_classify(tui_log_get(log, i), &d);
		if (d.func && (exact ? !strcmp(d.func, s) : strstr(d.func, s) != NULL))
			return true;
	}
	return false;
}

static bool add_func(struct tui_filter *n, const char *s, char *why, size_t len)
{
	if (n->nfuncs >= TUI_FILTER_FUNCS) {
		snprintf(why, len, "at most %d event names", TUI_FILTER_FUNCS);
		return false;
	}
	snprintf(n->funcs[n->nfuncs++], sizeof(n->funcs[0]), "%s", s);
	return true;
}

static bool number(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return s[0] >= '0' && s[0] <= '9' && !*end && !errno && *v <= 0x7fffffff;
}

static void kinds_list(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int k = 0; k < ETK_MAX && n < len; k++)
		n += snprintf(buf + n, len - n, "%s%s", k ? " " : "", et_kind_name(k));
}

static bool parse(struct tui_filter *f, const char *text, const struct tui_log *log, char *why,
		  size_t len)
{
	struct tui_filter n = { .fd = -1, .tid = -1, .pid = -1, .epfd = -1 };
	char buf[64], whole[64], kinds[96], *tok, *save = NULL;
	const char *p = text;
	bool any = false;
	size_t l;

	if (!why || !len) {
		why = kinds;
		len = sizeof(kinds);
	}
	/* a name with a blank in it ("epoll_wait ret"), typed whole */
	while (*p == ' ')
		p++;
	snprintf(whole, sizeof(whole), "%s", p);
	for (l = strlen(whole); l && whole[l - 1] == ' '; l--)
		whole[l - 1] = 0;
	if (strchr(whole, ' ') && func_known(whole, true, log)) {
		add_func(&n, whole, why, len);
		any = true;
		goto done;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *c = buf; *c; c++)
		if (*c == '=' || *c == ':' || *c == ',' || *c == '\t')
			*c = ' ';
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		long v;

		if (!strcmp(tok, "fd") || !strcmp(tok, "tid") || !strcmp(tok, "pid") ||
		    !strcmp(tok, "epfd")) {
			char *arg = strtok_r(NULL, " ", &save);

			if (!arg || !number(arg, &v)) {
				snprintf(why, len, "%s wants a number%s%s%s", tok,
					 arg ? ", not '" : " after it", arg ? arg : "",
					 arg ? "'" : "");
				return false;
			}
			if (!strcmp(tok, "fd"))
				n.fd = (int)v;
			else if (!strcmp(tok, "tid"))
				n.tid = v;
			else if (!strcmp(tok, "pid"))
				n.pid = v;
			else
				n.epfd = (int)v;
		} else if (!strcmp(tok, "kind")) {
			char *arg = strtok_r(NULL, " ", &save);
			int k = arg ? et_kind_parse(arg) : -1;

			if (k < 0) {
				kinds_list(kinds, sizeof(kinds));
				snprintf(why, len, "%s%s%s; kinds: %s",
					 arg ? "no kind '" : "kind wants a kind", arg ? arg : "",
					 arg ? "'" : "", kinds);
				return false;
			}
			n.kinds |= 1u << k;
		} else if (!strcmp(tok, "event") || !strcmp(tok, "func")) {
			char *arg = strtok_r(NULL, " ", &save);

			if (!arg || !func_known(arg, false, log)) {
				snprintf(why, len, "%s%s%s", arg ? "no event is named '" :
					 "event wants a name, as the log shows it", arg ? arg : "",
					 arg ? "'" : "");
				return false;
			}
			if (!add_func(&n, arg, why, len))
				return false;
		} else if (number(tok, &v)) {
			n.fd = (int)v;		/* a bare number is an fd */
		} else if (func_known(tok, true, log)) {
			if (!add_func(&n, tok, why, len))	/* a name, exactly */
				return false;
		} else if (et_kind_parse(tok) >= 0) {
			n.kinds |= 1u << et_kind_parse(tok);
		} else if (func_known(tok, false, log)) {
			if (!add_func(&n, tok, why, len))	/* part of a name */
				return false;
		} else {
			snprintf(why, len, "'%s' is not an fd, a kind or an event name", tok);
			return false;
		}
		any = true;
	}
done:
	if (!any) {
		snprintf(why, len, "empty filter");
		return false;
	}
	n.on = true;
	snprintf(n.text, sizeof(n.text), "%s", whole);
	*f = n;
	return true;
}

bool tui_filter_parse(struct tui_filter *f, const char *text, char *why, size_t len)
{
	return parse(f, text, NULL, why, len);
}

bool tui_set_filter(struct tui *t, const char *text, char *why, size_t len)
{
	const char *p = text;

	while (*p == ' ')
		p++;
	if (!*p) {
		t->filter.on = false;
		t->scroll[PANE_LOG] = 0;
		return true;
	}
	if (!parse(&t->filter, text, &t->log, why, len))
		return false;
	t->scroll[PANE_LOG] = 0;
	return true;
}

bool tui_filter_match(const struct tui_filter *f, const struct et_hdr *h)
{
	struct et_desc d;

	if (!f->on)
		return true;
	et_classify(h, &d);
	if (f->kinds || f->nfuncs) {
		bool what = f->kinds & (1u << d.kind);

		for (int i = 0; !what && i < f->nfuncs; i++)
			what = d.func && strstr(d.func, f->funcs[i]);
		if (!what)
			return false;
	}
	if (f->fd >= 0 && d.fd != f->fd)
		return false;
	if (f->tid >= 0 && h->tid != (__u32)f->tid)
		return false;
	/* the pid the log shows: the instance's owner (a callback runs in the waker) */
	if (f->pid >= 0 && (d.in ? d.in->owner : h->pid) != (__u32)f->pid)
		return false;
	if (f->epfd >= 0 && (!d.in || d.in->epfd != f->epfd))
		return false;
	return true;
}

/* ---- small formatting helpers ------------------------------------------- */

/* a duration in at most five columns (ages and countdowns fit narrow panes) */
static const char *dur(__u64 ns, char *buf, size_t len)
{
	if (ns < 1000000ULL)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000));
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%llu.%02llus", (unsigned long long)(ns / 1000000000ULL),
			 (unsigned long long)(ns % 1000000000ULL / 10000000ULL));
	else if (ns < 1000000000000ULL)
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

/* a value not known: "–" (U+2013), "-" where only ASCII shows; never a -1 or 0 */
static const char *tui_unknown(const struct tui *t)
{
	return t->g == &tglyphs_utf8 ? "\u2013" : "-";
}

/* ep_poll_callback's rate: "–" where the plan cannot see callbacks, as in
 * --summary (and null in JSON), never a 0.0 that reads as "none happened" */
static const char *cb_rate_str(const struct tui *t, const struct tui_rate *r, char *buf,
			       size_t len)
{
	if (!t->m->callbacks_visible) {
		snprintf(buf, len, "%s", tui_unknown(t));
		return buf;
	}
	return rate_str(r ? r->callbacks : 0, buf, len);
}

/* an epfd, or "–" for one not known (an instance a snapshot found held by no fd) */
static const char *epfd_str(const struct tui *t, int epfd, char *buf, size_t len)
{
	if (epfd < 0)
		return tui_unknown(t);
	snprintf(buf, len, "%d", epfd);
	return buf;
}

/* an fd's kind: "–" where not known (a replay: kinds are not recorded) */
static const char *kind_str(const struct tui *t, const struct fdkind *k)
{
	return strcmp(k->kind, "?") ? k->kind : tui_unknown(t);
}

/* wakeups and 0-event wakeups need the sleep hooks: "–" without them, as in --summary */
static const char *wake_rate_str(const struct tui *t, const struct tui_rate *r, char *buf,
				 size_t len)
{
	if (!t->st.vis.sleeps) {
		snprintf(buf, len, "%s", tui_unknown(t));
		return buf;
	}
	return rate_str(r ? r->wakeups : 0, buf, len);
}

static const char *zero_str(const struct tui *t, const struct model_inst *in, char *buf,
			    size_t len)
{
	if (!t->st.vis.sleeps)
		snprintf(buf, len, "%s", tui_unknown(t));
	else
		snprintf(buf, len, "%llu", (unsigned long long)in->cnt.zero_wakeups);
	return buf;
}

static void comm_of(const struct tui *t, __u32 pid, __u32 tid, char *buf, size_t len)
{
	if (!t->env.comm || !t->env.comm(t->env.ctx, pid, tid, buf, len))
		snprintf(buf, len, "%s", tui_unknown(t));
}

/*
 * A line of parts, for the bars: when it does not fit, the parts take
 * their short forms (the least important first), then the least important
 * go, until it fits.
 */
struct part {
	const char *text;
	const char *brief;	/* a shorter form, or NULL */
	int prio;		/* 0: always kept */
	enum tui_color color;
	int x;			/* out: its column, -1 if dropped */
	int cols;		/* out: its width as shown */
};

/* join the parts (NULL or "" texts skipped) in w columns; returns the columns used */
static int parts_fit(struct part *p, int n, const char *sep, int w, char *out, size_t len)
{
	int sepw = tbuf_cols(sep), total;
	bool brief[16] = {}, keep[16];
	size_t o = 0;

	n = n > 16 ? 16 : n;
	for (int i = 0; i < n; i++)
		keep[i] = p[i].text && *p[i].text;
	for (;;) {
		int worst = -1, k = 0;

		total = 0;
		for (int i = 0; i < n; i++) {
			if (!keep[i])
				continue;
			total += tbuf_cols(brief[i] ? p[i].brief : p[i].text) + (k++ ? sepw : 0);
		}
		if (total <= w)
			break;
		/* the least important part that can still be shortened, the rightmost of equals */
		for (int i = 0; i < n; i++)
			if (keep[i] && p[i].brief && !brief[i] &&
			    (worst < 0 || p[i].prio >= p[worst].prio))
				worst = i;
		if (worst >= 0) {
			brief[worst] = true;
			continue;
		}
		/* else the least important part goes */
		for (int i = 0; i < n; i++)
			if (keep[i] && p[i].prio > 0 && (worst < 0 || p[i].prio >= p[worst].prio))
				worst = i;
		if (worst < 0)
			break;
		keep[worst] = false;
	}
	out[0] = 0;
	total = 0;
	for (int i = 0; i < n; i++) {
		const char *t = brief[i] ? p[i].brief : p[i].text;

		p[i].x = -1;
		if (!keep[i])
			continue;
		if (o && o < len) {
			o += snprintf(out + o, len - o, "%s", sep);
			total += sepw;
		}
		p[i].x = total;
		p[i].cols = tbuf_cols(t);
		if (o < len)
			o += snprintf(out + o, len - o, "%s", t);
		total += p[i].cols;
	}
	return total;
}

/* colour the parts that asked for one (x0: where the line starts) */
static void parts_paint(struct tbuf *b, const struct part *p, int n, int x0, int y)
{
	for (int i = 0; i < n; i++)
		if (p[i].x >= 0 && p[i].color != TC_NORMAL)
			tbuf_paint(b, x0 + p[i].x, y, p[i].cols, p[i].color, 0);
}

/*
 * Table columns: each has a preferred and a minimum width; when the row is
 * too narrow the rightmost shrink first, then columns go by priority, and
 * the last column shown takes what is left.  Cells cut short end in the
 * ellipsis: a row never wraps.
 */
struct tcol {
	const char *head;
	int min, pref;
	bool right;	/* right-aligned */
	int prio;	/* 0: never dropped; higher numbers go first */
	const char *brief;	/* the head where it is too narrow, or NULL */
};

static void cols_fit(const struct tcol *c, int n, int w, int *wd)
{
	int total = -1;

	for (int i = 0; i < n; i++) {
		wd[i] = c[i].pref;
		total += wd[i] + 1;
	}
	for (int i = n - 1; i >= 0 && total > w; i--) {
		int cut = wd[i] - c[i].min < total - w ? wd[i] - c[i].min : total - w;

		wd[i] -= cut;
		total -= cut;
	}
	for (int prio = 9; prio > 0 && total > w; prio--)
		for (int i = n - 1; i >= 0 && total > w; i--)
			if (c[i].prio == prio && wd[i]) {
				total -= wd[i] + 1;
				wd[i] = 0;
			}
	/* narrower still (no pane is, at the minimum size): never past the edge */
	for (int i = n - 1; i >= 0 && total > w; i--) {
		int cut = wd[i] < total - w ? wd[i] : total - w;

		wd[i] -= cut;
		total -= cut + (wd[i] ? 0 : 1);
	}
	for (int i = n - 1; i >= 0 && total < w; i--)
		if (wd[i]) {
			wd[i] += w - total;
			break;
		}
}

static void cols_row(const struct tui *t, struct tbuf *b, int x, int y, const struct tcol *c,
		     const int *wd, int n, enum tui_color color, const char *const *cell)
{
	int last = n - 1;

	while (last > 0 && !wd[last])
		last--;
	for (int i = 0; i <= last; i++) {
		int pad;

		if (!wd[i])
			continue;
		pad = c[i].right ? wd[i] - tbuf_cols(cell[i]) : 0;
		if (pad < 0)
			pad = 0;
		/* the row is one colour */
		tbuf_fill(b, x, y, wd[i] + (i < last), 1, ' ', color);
		tbuf_text(b, t->g, x + pad, y, wd[i] - pad, color, cell[i]);
		x += wd[i] + 1;
	}
}

static void cols_head(const struct tui *t, struct tbuf *b, int x, int y, const struct tcol *c,
		      const int *wd, int n)
{
	const char *h[16];

	for (int i = 0; i < n && i < 16; i++)
		h[i] = c[i].brief && tbuf_cols(c[i].head) > wd[i] ? c[i].brief : c[i].head;
	cols_row(t, b, x, y, c, wd, n, TC_HEADER, h);
}

/*
 * A pane's title in its top edge: the longest of the forms that fits,
 * with what (a scroll position) at the right end if there is room too.
 * A title is never cut: it must not run into its neighbour's.
 */
static void pane_title(const struct tui *t, struct tbuf *b, int x, int y, int w, bool focused,
		       const char *const *forms, int nforms, const char *right)
{
	int room = w - 4, rw = right && *right ? tbuf_cols(right) + 3 : 0;

	for (int i = 0; i < nforms; i++) {
		int n = tbuf_cols(forms[i]) + 2;

		if (n > room)
			continue;
		tbuf_printf(b, t->g, x + 2, y, n, TC_PANE_TITLE, " %s ", forms[i]);
		if (focused)
			tbuf_paint(b, x + 2, y, n, TC_KEY, TA_REVERSE);
		if (rw && n + rw <= room)
			tbuf_printf(b, t->g, x + w - 1 - rw, y, rw - 1, TC_BORDER, " %s ",
				    right);
		return;
	}
}

static void title_bar(struct tui *t, struct tbuf *b, const char *what)
{
	char left[160], right[48] = "";
	int lw, rw = 0;

	tbuf_fill(b, 0, 0, b->w, 1, ' ', TC_TITLE);
	snprintf(left, sizeof(left), "epolltrace  %s", what);
	if (tbuf_cols(left) > b->w - 2)
		snprintf(left, sizeof(left), "%s", what);
	lw = tbuf_text(b, t->g, 1, 0, b->w - 2, TC_TITLE, left);
	if (t->last_ns)
		rw = snprintf(right, sizeof(right), "t=%.3fs", (t->last_ns - t->t0_ns) / 1e9);
	/* the clock only where it does not touch the title */
	if (rw && 1 + lw + 2 + rw <= b->w - 1)
		tbuf_text(b, t->g, b->w - rw - 1, 0, rw, TC_TITLE, right);
	tbuf_paint(b, 0, 0, b->w, TC_TITLE, TA_BOLD);
}

static void status_line(struct tui *t, struct tbuf *b)
{
	const struct tui_status *s = &t->st;
	char state[32], mode[128], brief_mode[64], ev[16], evs[32], lost[32], drift_s[32];
	char pos[96], held[32], msgs[32], filt[80], line[512];
	const char *hint = s->ended && !s->replay ? _("q quit  ? help") : _("? help  q quit");
	__u64 drift = 0;
	struct part p[10];
	int np = 10, y = b->h - 1, hw = tbuf_cols(hint);
	const char *exact = s->ready_exact ? C_("ready list", "exact") :
			    C_("ready list", "sampled");
	bool all = true;

	for (size_t i = 0; i < t->m->ninst; i++)
		drift += t->m->inst[i]->drift;
	snprintf(state, sizeof(state), "%s %s", s->replay ? _("REPLAY") : _("LIVE"),
		 s->paused ? _("PAUSED") : s->ended ? _("ENDED") : _("RUNNING"));
	if (s->via)
		snprintf(mode, sizeof(mode), _("%s, callbacks via %s, ready list %s"),
			 s->mode ? s->mode : "?", s->via, exact);
	else
		snprintf(mode, sizeof(mode), _("%s, ready list %s"), s->mode ? s->mode : "?",
			 exact);
	snprintf(brief_mode, sizeof(brief_mode), "%s %s", s->mode ? s->mode : "?", exact);
	snprintf(evs, sizeof(evs), _("%s ev/s"), rate_str(s->events_per_s, ev, sizeof(ev)));
	snprintf(lost, sizeof(lost), _("lost %llu"), (unsigned long long)s->lost);
	snprintf(drift_s, sizeof(drift_s), _("drift %llu"), (unsigned long long)drift);
	pos[0] = held[0] = msgs[0] = filt[0] = 0;
	if (s->replay)
		snprintf(pos, sizeof(pos), "x%g %.1f/%.1fs #%llu/%llu", s->speed,
			 s->pos_ns > s->first_ns ? (s->pos_ns - s->first_ns) / 1e9 : 0.0,
			 s->last_ns > s->first_ns ? (s->last_ns - s->first_ns) / 1e9 : 0.0,
			 (unsigned long long)s->event_no, (unsigned long long)s->events);
	if (s->paused && s->pending)
		snprintf(held, sizeof(held), _("%llu held"), (unsigned long long)s->pending);
	if (s->messages)
		snprintf(msgs, sizeof(msgs), _("%u msg (m)"), s->messages);
	if (t->filter.on)
		snprintf(filt, sizeof(filt), "/%s", t->filter.text);
	/* in display order; what matters most survives a narrow terminal */
	p[0] = (struct part){ state, NULL, 0, TC_STATUS, 0, 0 };
	p[1] = (struct part){ s->note, NULL, 0, TC_WARN, 0, 0 };
	p[2] = (struct part){ mode, brief_mode, 3, TC_STATUS, 0, 0 };
	p[3] = (struct part){ evs, NULL, 4, TC_STATUS, 0, 0 };
	p[4] = (struct part){ lost, NULL, s->lost ? 1 : 3, TC_STATUS, 0, 0 };
	p[5] = (struct part){ drift_s, NULL, drift ? 2 : 4, TC_STATUS, 0, 0 };
	p[6] = (struct part){ pos, NULL, 0, TC_STATUS, 0, 0 };
	p[7] = (struct part){ held, NULL, 1, TC_STATUS, 0, 0 };
	p[8] = (struct part){ msgs, NULL, 2, TC_WARN, 0, 0 };
	p[9] = (struct part){ filt, NULL, 2, TC_STATUS, 0, 0 };
	tbuf_fill(b, 0, y, b->w, 1, ' ', TC_STATUS);
	/* the key hint only if it costs nothing that matters */
	if (parts_fit(p, np, " | ", b->w - 2 - hw - 2, line, sizeof(line)) > b->w - 2 - hw - 2)
		all = false;
	for (int i = 0; i < np; i++)
		if (p[i].text && *p[i].text && p[i].x < 0 && p[i].prio < 3)
			all = false;
	if (!all)
		parts_fit(p, np, " | ", b->w - 2, line, sizeof(line));
	tbuf_text(b, t->g, 1, y, b->w - 1, TC_STATUS, line);
	parts_paint(b, p, np, 1, y);
	if (all)
		tbuf_text(b, t->g, b->w - hw - 1, y, hw, TC_STATUS, hint);
	if (s->paused)
		tbuf_paint(b, 1, y, tbuf_cols(state), TC_WARN, TA_REVERSE);
	if (s->note && p[1].x >= 0)
		tbuf_paint(b, 1 + p[1].x, y, tbuf_cols(s->note), TC_WARN, TA_REVERSE);
}

/* the filter (or seek target) being typed, on the row above the status line */
static void input_line(struct tui *t, struct tbuf *b)
{
	const char *full = t->seeking ?
		_("seek to (seconds from the start, or #event; Enter goes, Esc cancels): ") :
		_("filter (fd N, tid N, kind K, an event name; "
		  "Enter applies, Esc clears, ^U erases): /");
	const char *brief = t->seeking ? _("seek to (s, or #event): ") : _("filter: /");
	const char *prompt = full, *in = t->input;
	int y = b->h - 2, x, room, n = tbuf_cols(t->input);

	tbuf_fill(b, 0, y, b->w, 1, ' ', TC_NORMAL);
	if (tbuf_cols(full) + n + 2 > b->w)
		prompt = brief;
	x = tbuf_text(b, t->g, 0, y, b->w, TC_KEY, prompt);
	room = b->w - x - 1;
	while (tbuf_cols(in) > room)	/* a long input shows its end */
		in++;
	x += tbuf_text(b, t->g, x, y, room, TC_NORMAL, in);
	if (t->input_sel && *in)
		tbuf_paint(b, x - tbuf_cols(in), y, tbuf_cols(in), TC_SELECTED, TA_REVERSE);
	tbuf_text(b, t->g, x, y, 1, TC_KEY, "_");
}

/*
 * Where to break s for a row of w columns: the whole of it if it fits,
 * else before the last blank that leaves it within w (by columns on
 * screen: a Hangul syllable takes two), else as much as fits.
 */
static int wrap_cut(const char *s, int w)
{
	int fit = (int)tbuf_fit(s, w), cut = fit;

	if (!s[fit])
		return fit;
	while (cut > 0 && s[cut] != ' ')
		cut--;
	return cut > 0 ? cut : fit > 0 ? fit : (int)strlen(s);
}

/* ---- the event log pane ---------------------------------------------------- */

/*
 * One record: time, the kernel function it stands for (the name the filter
 * takes), whose instance (the overview's log only), then the details; cut
 * with an ellipsis, never wrapped.
 */
static void log_line(struct tui *t, struct tbuf *b, int x, int y, int w, const struct et_hdr *h,
		     bool show_inst, int fw)
{
	double ts = h->ts_ns > t->t0_ns ? (h->ts_ns - t->t0_ns) / 1e9 : 0.0;
	char epfd[16];
	struct et_desc d;
	int n;

	et_describe(h, &d);
	/* microseconds where there is room for them */
	n = tbuf_printf(b, t->g, x, y, w, TC_DIM, w >= 72 ? "%10.6f " : "%8.3f ", ts);
	if (n < w)
		n += tbuf_printf(b, t->g, x + n, y, w - n, (enum tui_color)(TC_K_INSTANCE + d.kind),
				 "%-*s ", fw, d.func);
	if (show_inst && d.in && n < w)
		n += tbuf_printf(b, t->g, x + n, y, w - n, TC_NORMAL, "%u/epfd %s ", d.in->owner,
				 epfd_str(t, d.in->epfd, epfd, sizeof(epfd)));
	if (n < w)
		tbuf_printf(b, t->g, x + n, y, w - n, TC_NORMAL, "tid %u %s", h->tid, d.what);
}

/*
 * Records of this instance (ep != 0) that pass the filter, newest at the
 * bottom.  The title stays within title_w columns: left of where the
 * panes above meet its top edge.
 */
static void log_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h, __u64 ep,
		     bool focused, int title_w)
{
	char title[160], brief[128];
	const char *ev = _("events"), *forms[] = { title, brief, ev };
	int rows = h - 2, skip = t->scroll[PANE_LOG], shown = 0, fw = 8;
	const struct et_hdr *lines[256];

	snprintf(brief, sizeof(brief), "%s%s%s%s%s", ev, t->filter.on ? " /" : "",
		 t->filter.on ? t->filter.text : "", skip ? " " : "", skip ? _("scrolled") : "");
	snprintf(title, sizeof(title), "%s %s", brief, _("(newest last)"));
	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	pane_title(t, b, x, y, title_w < w ? title_w : w, focused, forms, 3, NULL);
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
		/* the name column as wide as the longest name shown */
		if (d.func && (int)strlen(d.func) > fw)
			fw = (int)strlen(d.func);
		lines[shown++] = r;
	}
	for (int i = 0; i < shown; i++)
		log_line(t, b, x + 1, y + h - 2 - i, w - 2, lines[i], !ep, fw);
	if (!shown)
		tbuf_text(b, t->g, x + 2, y + 1, w - 4, TC_DIM,
			  t->log.total ? _("(no event matches)") : _("(no events yet)"));
}

static void explain_box(struct tui *t, struct tbuf *b, int y, int h);
static int explain_lines(const struct tui *t, const struct tbuf *b);

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
	static const char *const n[SORT_MAX] = { N_("pid"), N_("watched"), N_("ready"),
						 N_("asleep"), N_("callbacks/s"), N_("wakeups/s"),
						 N_("events/s"), N_("0-event wakeups") };

	return s < SORT_MAX ? _(n[s]) : "?";
}

struct col {
	const char *name;
	int w;
	int prio;	/* columns with a higher number go first when narrow */
	enum tui_sort sort;
};

/* the headers are translated where drawn */
static const struct col ov_cols[] = {
	{ N_("PID"), 7, 0, SORT_PID }, { N_("COMM"), 15, 1, SORT_MAX },
	{ N_("EPFD"), 5, 0, SORT_MAX }, { N_("WATCHED"), 8, 0, SORT_WATCHED },
	{ N_("READY"), 6, 0, SORT_READY }, { N_("ASLEEP"), 7, 0, SORT_ASLEEP },
	{ N_("CB/s"), 8, 2, SORT_CALLBACKS }, { N_("WAKE/s"), 8, 3, SORT_WAKEUPS },
	{ N_("EV/s"), 8, 2, SORT_EVENTS }, { N_("0-WAKE"), 7, 3, SORT_ZERO },
	{ N_("FLAGS"), 6, 1, SORT_MAX },
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
	else if (t->st.vis.transfers && in->il.scanning)
		f[n++] = 'O';	/* a transfer runs: ovflist active */
	if (model_sharers(t->m, in))
		f[n++] = 'H';	/* held by a sharer too */
	f[n] = 0;
}

static void ov_row_draw(struct tui *t, struct tbuf *b, int y, const bool *show,
			const struct model_inst *in, bool first_of_proc, bool selected)
{
	const struct tui_rate *r = rate_find(t, in->in.ep);
	char cell[32], comm[32], flags[8], num[16];
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
		case 2: snprintf(cell, sizeof(cell), "%s", epfd_str(t, in->in.epfd, num,
								      sizeof(num)));
			break;
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
		case 6: cb_rate_str(t, r, cell, sizeof(cell)); break;
		case 7: wake_rate_str(t, r, cell, sizeof(cell)); break;
		case 8: rate_str(r ? r->events : 0, cell, sizeof(cell)); break;
		case 9: zero_str(t, in, cell, sizeof(cell)); break;
		case 10:
			snprintf(cell, sizeof(cell), "%s", flags);
			if (flags[0] && !strchr("SXO", flags[0]))
				cc = TC_WARN;
			/* "!N": N findings (F in the instance view lists them) */
			if (detect_count(&t->m->det, in->in.ep)) {
				snprintf(cell, sizeof(cell), "!%u%s",
					 detect_count(&t->m->det, in->in.ep), flags);
				cc = TC_WARN;
			}
			break;
		}
		/* padded by columns on screen, not bytes: "–" is three of them */
		if (i == 1)
			tbuf_text(b, t->g, x, y, ov_cols[i].w - 1, cc, cell);
		else
			tbuf_pad(b, t->g, x, y, ov_cols[i].w - 1, true, cc, cell);
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

	snprintf(title, sizeof(title), ngettext("overview: %zu instance, sorted by %s",
						"overview: %zu instances, sorted by %s", n),
		 n, tui_sort_name(t->sort));
	title_bar(t, b, title);
	ov_fit(b->w, show);
	for (int i = 0; i < NCOLS; i++) {
		if (!show[i])
			continue;
		if (i == 1)
			tbuf_pad(b, t->g, x, 1, ov_cols[i].w, false, TC_HEADER,
				 _(ov_cols[i].name));
		else
			tbuf_pad(b, t->g, x, 1, ov_cols[i].w - 1, true, TC_HEADER,
				 _(ov_cols[i].name));
		if (ov_cols[i].sort == t->sort)
			tbuf_paint(b, x, 1, ov_cols[i].w, TC_HEADER, TA_UNDERLINE);
		x += ov_cols[i].w;
	}
	tbuf_paint(b, 0, 1, b->w, TC_HEADER, TA_BOLD);
	explain_h = t->explain ? 3 + explain_lines(t, b) : 0;
	log_h = (b->h - 3 - explain_h) * 2 / 5;
	if (log_h < 3)
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
	if (!n) {
		tbuf_text(b, t->g, 2, 3, b->w - 4, TC_DIM, _("No epoll instance yet."));
		tbuf_text(b, t->g, 2, 4, b->w - 4, TC_DIM,
			  _("Waiting for the traced processes to use epoll..."));
	}
	if (log_h)
		log_pane(t, b, 0, 2 + list_h, b->w, log_h, 0, false, b->w);
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

/* "first-last of n" for a pane that does not show all its rows */
static const char *range(int top, int rows, int n, char *buf, size_t len)
{
	buf[0] = 0;
	if (n > rows)
		snprintf(buf, len, _("%d-%d of %d"), top + 1, top + rows < n ? top + rows : n, n);
	return buf;
}

static void tree_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in)
{
	const struct model_item **items = calloc(in->nitems ? in->nitems : 1, sizeof(*items));
	int rows = h - 3, top, wd[4], evw = 8;
	char title[128], brief[96], tiny[32], pos[48], ev[64], fd[16];
	const char *forms[] = { title, brief, tiny, "rbr" };
	struct tcol c[] = {
		{ _("FD"), 5, 5, true, 0, NULL }, { _("KIND"), 6, 11, false, 2, NULL },
		{ _("EVENTS"), 4, 8, false, 1, NULL }, { _("ADDRESS"), 0, 40, false, 3, NULL },
	};

	snprintf(title, sizeof(title), ngettext("rbr: %zu epitem, tree order",
						"rbr: %zu epitems, tree order", in->nitems),
		 in->nitems);
	snprintf(brief, sizeof(brief), ngettext("rbr: %zu epitem", "rbr: %zu epitems", in->nitems),
		 in->nitems);
	snprintf(tiny, sizeof(tiny), "rbr: %zu", in->nitems);
	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	if (!items)
		return;
	/* 't': the tree's shape, where a snapshot brought one and it fits */
	if (t->tree_shape && tui_tree_pane(b, t->g, x + 2, y + 1, w - 4, h - 2, &in->tree,
					   t->letters)) {
		snprintf(title, sizeof(title), _("rbr: %zu epitems, as a tree"), in->tree.n);
		pane_title(t, b, x, y, w, t->focus == PANE_TREE, forms, 4, "");
		free(items);
		return;
	}
	for (size_t i = 0; i < in->nitems; i++)
		items[i] = &in->items[i];
	qsort(items, in->nitems, sizeof(*items), tree_cmp);
	top = clamp_scroll(&t->scroll[PANE_TREE], (int)in->nitems, rows);
	pane_title(t, b, x, y, w, t->focus == PANE_TREE, forms, 4,
		   range(top, rows, (int)in->nitems, pos, sizeof(pos)));
	/* the events column as wide as the widest mask shown */
	for (int r = 0; r < rows && top + r < (int)in->nitems; r++) {
		int n = (int)strlen(et_events_str(items[top + r]->events & ~0x18u, ev, sizeof(ev)));

		evw = n > evw ? (n < 24 ? n : 24) : evw;
	}
	c[2].pref = evw;
	/* the ready mark, a blank, then the columns */
	cols_fit(c, 4, w - 4, wd);
	cols_head(t, b, x + 3, y + 1, c, wd, 4);
	for (int r = 0; r < rows && top + r < (int)in->nitems; r++) {
		const struct model_item *it = items[top + r];
		struct fdkind k = { .kind = "?" };
		bool ready = model_ready_index(in, it->fd) >= 0;
		int ry = y + 2 + r;
		struct tcell *mark = tbuf_at(b, x + 1, ry);
		const char *cell[4];

		if (t->env.fdkind)
			t->env.fdkind(t->env.ctx, in->in.owner, it->fd, &k);
		/* EPOLLERR and EPOLLHUP are always on: not worth a column */
		et_events_str(it->events & ~0x18u, ev, sizeof(ev));
		snprintf(fd, sizeof(fd), "%d", it->fd);
		cell[0] = fd;
		cell[1] = kind_str(t, &k);
		cell[2] = ev;
		cell[3] = k.addr;
		/* narrow: of "local -> peer", the peer tells connections apart */
		if (wd[3] && tbuf_cols(k.addr) > wd[3] && strstr(k.addr, " -> "))
			cell[3] = strstr(k.addr, " -> ") + 1;
		if (ready && mark)
			tbuf_set(b, x + 1, ry, t->g->ready, TC_READY);
		cols_row(t, b, x + 3, ry, c, wd, 4, ready ? TC_READY : TC_NORMAL, cell);
		if (touched(t, in->in.ep, SUB_FD(it->fd)))
			tbuf_paint(b, x + 1, ry, w - 2, TC_CHANGED, 0);
	}
	if (!in->nitems)
		tbuf_text(b, t->g, x + 2, y + 2, w - 4, TC_DIM, _("(empty: nothing watched)"));
	free(items);
}

static void ready_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		       const struct model_inst *in)
{
	int rows = h - 3, top, wd[4];
	char title[128], brief[96], tiny[32], pos[48], age[16], fd[16];
	const char *forms[] = { title, brief, tiny, "rdllist" };
	bool sampled = !t->m->callbacks_visible || in->ready_unknown;
	struct tcol c[] = {
		{ _("POS"), 4, 5, false, 0, NULL }, { _("FD"), 3, 5, true, 0, NULL },
		{ _("KIND"), 4, 10, false, 1, NULL }, { _("QUEUED"), 5, 8, false, 0, _("AGE") },
	};

	snprintf(title, sizeof(title), sampled ? _("rdllist: %zu ready (sampled)") :
		 _("rdllist: %zu ready"), in->nready);
	snprintf(brief, sizeof(brief), _("rdllist: %zu ready"), in->nready);
	snprintf(tiny, sizeof(tiny), "rdllist: %zu", in->nready);
	/* a transfer runs: what callbacks queue now waits on ovflist */
	if (t->st.vis.transfers && in->il.scanning && !in->closed_ns) {
		snprintf(title, sizeof(title), sampled ?
			 _("rdllist: %zu ready, ovflist active (sampled)") :
			 _("rdllist: %zu ready, ovflist active"), in->nready);
		snprintf(brief, sizeof(brief), _("rdllist: %zu, ovflist active"), in->nready);
		snprintf(tiny, sizeof(tiny), "rdllist: %zu +ovflist", in->nready);
	}
	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	top = clamp_scroll(&t->scroll[PANE_READY], (int)in->nready, rows);
	pane_title(t, b, x, y, w, t->focus == PANE_READY, forms, 4,
		   range(top, rows, (int)in->nready, pos, sizeof(pos)));
	cols_fit(c, 4, w - 2, wd);
	cols_head(t, b, x + 1, y + 1, c, wd, 4);
	for (int r = 0; r < rows && top + r < (int)in->nready; r++) {
		const struct model_ready *e = &in->ready[top + r];
		struct fdkind k = { .kind = "?" };
		int ry = y + 2 + r;
		const char *cell[4];

		if (t->env.fdkind)
			t->env.fdkind(t->env.ctx, in->in.owner, e->fd, &k);
		snprintf(fd, sizeof(fd), "%d", e->fd);
		cell[0] = e->ovflist ? "ovf" : top + r == 0 ? C_("ready list", "head") :
			  top + r + 1 == (int)in->nready ? C_("ready list", "tail") : "";
		cell[1] = fd;
		cell[2] = kind_str(t, &k);
		cell[3] = e->since_ns && t->now_ns > e->since_ns ?
			  dur(t->now_ns - e->since_ns, age, sizeof(age)) : tui_unknown(t);
		cols_row(t, b, x + 1, ry, c, wd, 4, TC_READY, cell);
		if (touched(t, in->in.ep, SUB_FD(e->fd)))
			tbuf_paint(b, x + 1, ry, w - 2, TC_CHANGED, 0);
	}
	if (!in->nready)
		tbuf_text(b, t->g, x + 2, y + 2, w - 4, TC_DIM, _("(empty: nothing ready)"));
}

/*
 * A waiter's chain on one line: its callers, innermost first, without the
 * libc wrapper that made the syscall (every chain has one); "-" if none
 * was seen (a thread asleep since before tracing began).
 */
static const char *chain_brief(const struct et_ev_wait_chain *c, char *buf, size_t size)
{
	char f[ET_CHAIN_SYM_LEN + 48];
	size_t len = 0;
	int i = 0;

	buf[0] = '\0';
	if (!c || !c->nframes)
		return "-";
	if (c->nframes > 1 && !strncmp(c->frame[0].module, "libc", 4))
		i = 1;
	for (; i < c->nframes && i < ET_CHAIN_FRAMES && len + 1 < size; i++) {
		int n = snprintf(buf + len, size - len, "%s%s", len ? " < " : "",
				 chain_frame_name(&c->frame[i], f, sizeof(f)));

		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

static void wait_pane(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in)
{
	int rows = h - 3, top, wd[5], per = 1;
	char title[128], brief[96], tiny[64], pos[48], a[32], l[16], left[48], comm[32], tid[16];
	char where[256];
	const char *forms[] = { title, brief, tiny, "wq" };
	unsigned int asleep = model_asleep(in);
	/* WHERE takes what is left of the width: the call chain, innermost first */
	struct tcol c[] = {
		{ _("TID"), 5, 7, true, 0, NULL }, { _("COMM"), 6, 15, false, 1, NULL },
		{ _("ASLEEP"), 6, 7, false, 0, NULL }, { _("TIMEOUT"), 5, 10, false, 0, _("LEFT") },
		{ _("WHERE"), 5, 5, false, 2, NULL },
	};

	snprintf(title, sizeof(title), _("wq: %u asleep, %zu in epoll_wait"), asleep,
		 in->nwaiters);
	snprintf(brief, sizeof(brief), _("wq: %u asleep, %zu waiting"), asleep, in->nwaiters);
	snprintf(tiny, sizeof(tiny), _("wq: %u asleep"), asleep);
	tbuf_box(b, t->g, x, y, w, h, TC_BORDER, NULL);
	cols_fit(c, 5, w - 2, wd);
	/*
	 * Too narrow for the chain beside the thread: under it, a row each,
	 * where every waiter still fits; else the threads alone (the 'w' pane
	 * has the chains).
	 */
	if (wd[4] < 24) {
		cols_fit(c, 4, w - 2, wd);
		wd[4] = 0;
		per = rows >= 2 * (int)in->nwaiters ? 2 : 1;
	}
	top = clamp_scroll(&t->scroll[PANE_WAIT], (int)in->nwaiters, rows / per);
	pane_title(t, b, x, y, w, t->focus == PANE_WAIT, forms, 4,
		   range(top, rows / per, (int)in->nwaiters, pos, sizeof(pos)));
	cols_head(t, b, x + 1, y + 1, c, wd, wd[4] ? 5 : 4);
	for (int r = 0; r < rows / per && top + r < (int)in->nwaiters; r++) {
		const struct model_waiter *wt = &in->waiters[top + r];
		int ry = y + 2 + r * per;
		const char *cell[5];

		comm_of(t, in->in.owner, wt->tid, comm, sizeof(comm));
		if (wt->timeout_ns < 0) {
			snprintf(left, sizeof(left), "%s", _("never"));
		} else {
			__u64 end = wt->since_ns + (__u64)wt->timeout_ns;
			const char *rem = end > t->now_ns ? dur(end - t->now_ns, l, sizeof(l)) :
					  "0";

			/* " left" only where it fits */
			if (wd[3] >= 10)
				snprintf(left, sizeof(left), _("%s left"), rem);
			else
				snprintf(left, sizeof(left), "%s", rem);
		}
		if (wt->asleep && wt->asleep_since_ns && t->now_ns > wt->asleep_since_ns)
			dur(t->now_ns - wt->asleep_since_ns, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "%s",
				 wt->asleep ? C_("thread", "asleep") : wd[2] >= 7 ? _("running") :
				 _("awake"));
		snprintf(tid, sizeof(tid), "%u", wt->tid);
		cell[0] = tid;
		cell[1] = comm;
		cell[2] = a;
		cell[3] = left;
		cell[4] = chain_brief(chains_find(&t->m->chains, wt->tid), where, sizeof(where));
		cols_row(t, b, x + 1, ry, c, wd, wd[4] ? 5 : 4,
			 wt->asleep ? TC_ASLEEP : TC_NORMAL, cell);
		if (per == 2)
			tbuf_text(b, t->g, x + 3, ry + 1, w - 4, TC_DIM, cell[4]);
		if (touched(t, in->in.ep, SUB_TID(wt->tid)))
			tbuf_paint(b, x + 1, ry, w - 2, TC_CHANGED, 0);
	}
	if (!in->nwaiters)
		tbuf_text(b, t->g, x + 2, y + 2, w - 4, TC_DIM, _("(empty: no thread waits)"));
}

/* the newest event of what is on screen (stepping skips the others) */
static const struct et_hdr *explained(const struct tui *t)
{
	for (unsigned int i = 0; i < t->log.count; i++)
		if (tui_step_match(t, tui_log_get(&t->log, i)))
			return tui_log_get(&t->log, i);
	return NULL;
}

/*
 * The rows the step box's sentence takes at width w: as many as it needs,
 * up to what the screen's height leaves the panes (one row below 24).
 */
static int explain_lines(const struct tui *t, const struct tbuf *b)
{
	const struct et_hdr *r = explained(t);
	int cap = b->h >= 40 ? 4 : b->h >= 30 ? 3 : b->h >= 24 ? 2 : 1, n = 0;
	const char *s = r ? et_explain(r) : "";

	while (*s && n < cap) {
		s += wrap_cut(s, b->w - 4);
		while (*s == ' ')
			s++;
		n++;
	}
	return n ? n : 1;
}

/* the last record applied, explained: for stepping in the classroom */
static void explain_box(struct tui *t, struct tbuf *b, int y, int h)
{
	const struct et_hdr *r = explained(t);
	const char *forms[] = { _("what the kernel just did (space: next)"),
				_("what the kernel did") };
	struct et_desc d;
	const char *s;
	char who[96], num[16];
	int x = 2, row = y + 1, w = b->w - 4, n;

	tbuf_box(b, t->g, 0, y, b->w, h, TC_KEY, NULL);
	pane_title(t, b, 0, y, b->w, false, forms, 2, NULL);
	if (!r)
		return;
	et_describe(r, &d);
	/* whose it is: the instance's owner and epfd, the thread that did it */
	if (d.in)
		snprintf(who, sizeof(who), _("pid %u tid %u epfd %s:"), d.in->owner, r->tid,
			 epfd_str(t, d.in->epfd, num, sizeof(num)));
	else
		snprintf(who, sizeof(who), _("pid %u tid %u:"), r->pid, r->tid);
	n = tbuf_text(b, t->g, x, row, w, TC_HEADER, who);
	tbuf_printf(b, t->g, x + n + 1, row, w - n - 1, (enum tui_color)(TC_K_INSTANCE + d.kind),
		    "%s %s", d.func, d.what);
	s = et_explain(r);
	/* word-wrap the sentence over the remaining rows */
	for (row++; *s && row < y + h - 1; row++) {
		int cut = wrap_cut(s, w);

		/* the last row: what is left, cut with the ellipsis if it does not fit */
		if (row == y + h - 2)
			cut = (int)strlen(s);
		tbuf_printf(b, t->g, x, row, w, TC_NORMAL, "%.*s", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

static void junction(struct tbuf *b, int x, int y, uint32_t ch)
{
	tbuf_set(b, x, y, ch, TC_BORDER);
}

/*
 * The inline rung's counts, appended to the instance's line where the plan
 * sees them: the transfer window first (while ep_send_events copies out,
 * ep_poll_callback chains items on ovflist), then the counters.
 */
struct inline_texts {
	char win[96], winb[32], xf[160], xfb[48], ins[64], insb[32], poll[32];
};

static int inline_parts(const struct tui *t, const struct model_inst *in, struct part *p,
			struct inline_texts *s)
{
	const struct model_inline *il = &in->il;
	char l[16], mx[16];
	int n = 0;

	if (t->st.vis.transfers) {
		bool on = il->scanning && !in->closed_ns;

		if (on && t->st.vis.callbacks)
			snprintf(s->win, sizeof(s->win), _("OVFLIST ACTIVE (%llu diverted)"),
				 (unsigned long long)il->ovf_window);
		else
			snprintf(s->win, sizeof(s->win), "%s", on ? _("OVFLIST ACTIVE") : "");
		snprintf(s->winb, sizeof(s->winb), "%s", on ? "OVF" : "");
		if (il->transfers_ended)
			snprintf(s->xf, sizeof(s->xf), _("transfers %llu (last %s, max %s)"),
				 (unsigned long long)il->transfers,
				 dur(il->transfer_last_ns, l, sizeof(l)),
				 dur(il->transfer_max_ns, mx, sizeof(mx)));
		else
			snprintf(s->xf, sizeof(s->xf), _("transfers %llu"),
				 (unsigned long long)il->transfers);
		if (t->st.vis.callbacks)
			snprintf(s->xf + strlen(s->xf), sizeof(s->xf) - strlen(s->xf),
				 _(", to ovflist %llu"), (unsigned long long)il->ovf_callbacks);
		if (t->st.vis.callbacks)
			snprintf(s->xfb, sizeof(s->xfb), "xfer %llu ovf %llu",
				 (unsigned long long)il->transfers,
				 (unsigned long long)il->ovf_callbacks);
		else
			snprintf(s->xfb, sizeof(s->xfb), "xfer %llu", (unsigned long long)il->transfers);
		p[n++] = (struct part){ s->win, s->winb, 0, TC_WARN, 0, 0 };
		p[n++] = (struct part){ s->xf, s->xfb, 2, TC_HEADER, 0, 0 };
	}
	if (t->st.vis.inserts) {
		snprintf(s->ins, sizeof(s->ins), "ep_insert %llu%s", (unsigned long long)il->inserts,
			 il->insert_drift ? _(" (drift)") : "");
		snprintf(s->insb, sizeof(s->insb), "ins %llu", (unsigned long long)il->inserts);
		p[n++] = (struct part){ s->ins, s->insb, il->insert_drift ? 1 : 3,
					il->insert_drift ? TC_WARN : TC_HEADER, 0, 0 };
	}
	if (t->st.vis.polls) {
		snprintf(s->poll, sizeof(s->poll), "ep_poll %llu", (unsigned long long)il->polls);
		p[n++] = (struct part){ s->poll, NULL, 3, TC_HEADER, 0, 0 };
	}
	return n;
}

/* the counts in one line; the least useful go first when it is narrow */
static void inst_counts(struct tui *t, struct tbuf *b, const struct model_inst *in)
{
	const struct tui_rate *r = rate_find(t, in->in.ep);
	char w[48], rd[48], as[48], cb[48], cbb[48], wk[48], wkb[48], ev[48], evb[48], z[64];
	char zb[48], dr[48], c1[16], c2[16], c3[16], c4[24], line[768];
	struct part p[16];
	struct inline_texts it;
	int n;

	cb_rate_str(t, r, c1, sizeof(c1));
	wake_rate_str(t, r, c2, sizeof(c2));
	rate_str(r ? r->events : 0, c3, sizeof(c3));
	snprintf(w, sizeof(w), _("watched %zu"), in->nitems);
	snprintf(rd, sizeof(rd), _("ready %zu"), in->nready);
	snprintf(as, sizeof(as), _("asleep %u"), model_asleep(in));
	snprintf(cb, sizeof(cb), _("callbacks/s %s"), c1);
	snprintf(cbb, sizeof(cbb), _("cb/s %s"), c1);
	snprintf(wk, sizeof(wk), _("wakeups/s %s"), c2);
	snprintf(wkb, sizeof(wkb), _("wake/s %s"), c2);
	snprintf(ev, sizeof(ev), _("events/s %s"), c3);
	snprintf(evb, sizeof(evb), _("ev/s %s"), c3);
	zero_str(t, in, c4, sizeof(c4));
	snprintf(z, sizeof(z), _("0-event wakeups %s"), c4);
	snprintf(zb, sizeof(zb), _("0-wake %s"), c4);
	snprintf(dr, sizeof(dr), _("drift %llu"), (unsigned long long)in->drift);
	p[0] = (struct part){ w, NULL, 0, TC_HEADER, 0, 0 };
	p[1] = (struct part){ rd, NULL, 0, TC_HEADER, 0, 0 };
	p[2] = (struct part){ as, NULL, 0, TC_HEADER, 0, 0 };
	p[3] = (struct part){ cb, cbb, 2, TC_HEADER, 0, 0 };
	p[4] = (struct part){ wk, wkb, 2, TC_HEADER, 0, 0 };
	p[5] = (struct part){ ev, evb, 3, TC_HEADER, 0, 0 };
	p[6] = (struct part){ z, zb, 3, TC_HEADER, 0, 0 };
	p[7] = (struct part){ dr, NULL, in->drift ? 1 : 3, TC_HEADER, 0, 0 };
	p[8] = (struct part){ in->resyncing ? _("RESYNCING") : NULL, NULL, 0, TC_WARN, 0, 0 };
	n = 9 + inline_parts(t, in, p + 9, &it);
	parts_fit(p, n, "  ", b->w - 2, line, sizeof(line));
	tbuf_text(b, t->g, 1, 1, b->w - 2, TC_HEADER, line);
	parts_paint(b, p, n, 1, 1);
}

/* under rbr, rdllist and wq, the full width from row y: what t->lower says */
static void lower_pane(struct tui *t, struct tbuf *b, int y, int h, const struct model_inst *in,
		       const char *comm, int title_w)
{
	switch (t->lower) {
	case LOWER_ANATOMY:
		tui_anatomy_pane(t, b, 0, y, b->w, h, in, title_w);
		break;
	case LOWER_FINDINGS:
		tui_findings_pane(t, b, 0, y, b->w, h, in, comm, title_w);
		break;
	case LOWER_CHAINS:
		tui_chains_pane(t, b, 0, y, b->w, h, in, title_w);
		break;
	default:
		log_pane(t, b, 0, y, b->w, h, in->in.ep, t->focus == PANE_LOG, title_w);
	}
}

/*
 * The instance view: the three parts of struct eventpoll over the log.
 * Panes share their edges, so that a 24-row terminal still shows eight
 * epitems and a 60x16 one a row of every pane.
 */
static void instance_view(struct tui *t, struct tbuf *b)
{
	const struct model_inst *in = sel_inst(t);
	char title[128], comm[32], num[16];
	int top = 2, bottom = b->h - 1, explain_h = 0, area, data, R, N, M;

	if (!in) {
		title_bar(t, b, _("instance"));
		tbuf_text(b, t->g, 2, 3, b->w - 4, TC_DIM,
			  _("This instance is gone (closed and forgotten)."));
		tbuf_text(b, t->g, 2, 4, b->w - 4, TC_DIM, _("Esc: back to the overview."));
		return;
	}
	comm_of(t, in->in.owner, in->in.owner, comm, sizeof(comm));
	snprintf(title, sizeof(title), "pid %u (%s) epfd %s%s", in->in.owner, comm,
		 epfd_str(t, in->in.epfd, num, sizeof(num)), in->closed_ns ? _(" [closed]") : "");
	title_bar(t, b, title);
	inst_counts(t, b, in);
	if (t->explain)
		explain_h = 2 + explain_lines(t, b);	/* its top edge is the log's bottom */
	area = bottom - top - explain_h;
	if (b->w - 33 - 44 >= 70) {
		/*
		 * side by side: top edge, header, R rows, shared edge, M rows, bottom
		 * edge.  rdllist and wq take what their columns need, rbr the rest,
		 * and only where that leaves rbr room for a "local -> peer" address.
		 */
		int w2 = 33, w1 = b->w - w2 - 44, ys;

		data = area - 4;
		R = data * 3 / 5;
		M = data - R;
		ys = top + 2 + R;
		tree_pane(t, b, 0, top, w1 + 1, R + 3, in);
		ready_pane(t, b, w1, top, w2 + 1, R + 3, in);
		wait_pane(t, b, w1 + w2, top, b->w - w1 - w2, R + 3, in);
		lower_pane(t, b, ys, M + 2, in, comm, w1 + 1);
		junction(b, w1, top, t->g->ttee);
		junction(b, w1 + w2, top, t->g->ttee);
		junction(b, 0, ys, t->g->ltee);
		junction(b, b->w - 1, ys, t->g->rtee);
		junction(b, w1, ys, t->g->btee);
		junction(b, w1 + w2, ys, t->g->btee);
	} else {
		/* stacked: rbr, then rdllist beside wq, then the log; six edge and header rows */
		int wl = b->w * 9 / 20, ys1, ys2;

		data = area - 6;
		R = data * 8 / 15;
		N = data / 5;
		R = R < 1 ? 1 : R;
		N = N < 1 ? 1 : N;
		M = data - R - N;
		if (M < 1) {
			R -= 1 - M;
			M = 1;
		}
		ys1 = top + 2 + R;
		ys2 = ys1 + 2 + N;
		tree_pane(t, b, 0, top, b->w, R + 3, in);
		ready_pane(t, b, 0, ys1, wl + 1, N + 3, in);
		wait_pane(t, b, wl, ys1, b->w - wl, N + 3, in);
		lower_pane(t, b, ys2, M + 2, in, comm, wl + 1);
		junction(b, 0, ys1, t->g->ltee);
		junction(b, b->w - 1, ys1, t->g->rtee);
		junction(b, wl, ys1, t->g->ttee);
		junction(b, 0, ys2, t->g->ltee);
		junction(b, b->w - 1, ys2, t->g->rtee);
		junction(b, wl, ys2, t->g->btee);
	}
	if (explain_h) {
		explain_box(t, b, bottom - explain_h - 1, explain_h + 1);
		junction(b, 0, bottom - explain_h - 1, t->g->ltee);
		junction(b, b->w - 1, bottom - explain_h - 1, t->g->rtee);
	}
}

/* ---- help and messages -------------------------------------------------------- */

/*
 * One entry a logical line, translated whole (N_: the catalogue has it
 * as one sentence); the screen wraps it under its description.
 */
static const char *const help_lines[] = {
	N_("Keys"),
	N_("  Up/Down, j/k      move the selection, or scroll the focused pane"),
	N_("  PgUp/PgDn, g/G    a page up/down, to the top/bottom"),
	N_("  Enter, l          open the selected instance"),
	N_("  Esc, h            back to the overview (or close this screen)"),
	N_("  Tab               next pane in the instance view (rbr, rdllist, wq, "
	   "events)"),
	N_("  p                 pause the view (tracing and recording go on)"),
	N_("  Space             when paused: apply the next event of the instance on screen "
	   "(of any, in the overview), and explain it"),
	N_("  /                 filter the events: by name, as the log shows it "
	   "(try_to_wake_up, ep_poll_callback; several: any of them), by kind "
	   "(wakeup, ctl), by fd N, tid N, pid N, epfd N (all of them); a bare number "
	   "is an fd.  In the prompt, typing replaces the old filter, ^U erases it, "
	   "^W a word, Enter applies, Esc removes the filter"),
	N_("  s / S             sort the overview by the next / previous column"),
	N_("  t                 rbr as a tree (colours, children) where it fits, or as a list"),
	N_("  a                 in the instance view: the latency anatomy (ready-list "
	   "residency, waking to return, time asleep, events per wakeup, transfers) in "
	   "place of the events, and back"),
	N_("  F                 in the instance view: its findings (named problems, with "
	   "a hint at the fix) in place of the events; Up/Down select one, Enter shows "
	   "the records that triggered it"),
	N_("  w                 in the instance view: where each waiter waits (its call "
	   "chain, symbolized) in place of the events, and back"),
	N_("  m                 messages (diagnostics from epolltrace and libbpf)"),
	N_("  ?                 this help          q  quit"),
	N_("  Help, messages:   Up/Down, j/k, PgUp/PgDn, Home/End scroll them"),
	N_("  Replay only:      + / - speed (x0.1 to x100), p pause, Space or . one "
	   "event, n the next event the filter passes (else of the last one's kind), "
	   "[ / ] 10 s back / on, Home or < / End or > start / end, : seek to a time "
	   "(seconds) or an event (#N)"),
	"",
	N_("What you see"),
	N_("  rbr       the interest set: struct eventpoll's red-black tree of "
	   "epitems, ordered as the kernel orders it (by file, then fd)"),
	N_("  rdllist   the ready list: epitems queued by ep_poll_callback, head "
	   "first; epoll_wait takes them from the head (ep_send_events) "
	   "(--attach=inline: \"ovflist active\" while ep_send_events copies out; "
	   "callbacks meanwhile wait on ovflist, marked ovf)"),
	N_("  wq        the wait queue: threads asleep in epoll_wait, with the time "
	   "asleep and what is left of their timeout"),
	N_("  events    each record named by the kernel function it stands for, "
	   "coloured by kind; a row something just touched is lit"),
	"",
	N_("Overview flags"),
	N_("  D drift: a snapshot corrected the model   L records were lost"),
	N_("  R resyncing: wrong until an exact snapshot (losses, or a first walk "
	   "that raced changes)   W more threads wait than the walk listed"),
	N_("  S the ready list is sampled (no ep_poll_callback hook)   X closed"),
	N_("  O a transfer runs: ovflist active (--attach=inline)"),
	N_("  H held by a sharer too: a process that is no target, traced from the "
	   "snapshot round that found it"),
	N_("  !N N findings: named problems (F in the instance view lists them)"),
};

/* one screen row of the help: a piece of a source line */
struct help_row {
	const char *s;
	int n, indent;
	enum tui_color color;
};

/*
 * Where a help line's text goes on when it wraps: under its description
 * (after the key column, two blanks or more before column 24), else a
 * little in from where it starts.
 */
static int help_hang(const char *s)
{
	int lead = 0, col;
	char pre[128];

	while (s[lead] == ' ')
		lead++;
	/* in columns on screen: a translated key (도움말) takes two a syllable */
	for (int i = lead; s[i] && i < (int)sizeof(pre) - 1; i++) {
		snprintf(pre, sizeof(pre), "%.*s", i + 1, s);
		col = tbuf_cols(pre);
		if (col >= 24)
			break;
		if (s[i] != ' ' && s[i + 1] == ' ' && s[i + 2] == ' ') {
			int j = i + 1;

			while (s[j] == ' ')
				j++;
			col += j - i - 1;
			if (col < 24)
				return col;
			break;
		}
	}
	return lead >= 4 ? lead : lead + 2;
}

/* wrap s into rows of at most w columns; returns the rows added */
static int help_wrap(const char *s, enum tui_color color, int w, struct help_row *out, int room)
{
	int hang = help_hang(s), n = 0, indent = 0;

	if (w - hang < 20)
		hang = 2;
	while (n < room) {
		int cut = wrap_cut(s, w - indent);

		out[n++] = (struct help_row){ s, cut, indent, color };
		s += cut;
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		indent = hang;
	}
	return n;
}

/*
 * The help and the messages scroll (they are longer than a small
 * terminal): rows from t->page_top, and where we are, as less says it.
 */
static void pager(struct tui *t, struct tbuf *b, const struct help_row *rows, int n)
{
	int w = b->w - 2, shown = b->h - 3;
	char at[96], pct[32], line[384];
	struct part p[4];

	t->page_rows = shown;
	if (t->page_top > n - shown)
		t->page_top = n - shown;
	if (t->page_top < 0)
		t->page_top = 0;
	for (int y = 0; y < shown && t->page_top + y < n; y++) {
		const struct help_row *r = &rows[t->page_top + y];

		tbuf_printf(b, t->g, 1 + r->indent, 1 + y, w - r->indent, r->color, "%.*s", r->n,
			    r->s);
	}
	if (n > shown) {
		snprintf(at, sizeof(at), _("lines %d-%d of %d"), t->page_top + 1,
			 t->page_top + shown < n ? t->page_top + shown : n, n);
		if (t->page_top + shown >= n)
			snprintf(pct, sizeof(pct), "%s", _("(END)"));
		else
			snprintf(pct, sizeof(pct), "%d%%", (t->page_top + shown) * 100 / n);
		p[0] = (struct part){ at, NULL, 0, TC_KEY, 0, 0 };
		p[1] = (struct part){ pct, NULL, 0, TC_KEY, 0, 0 };
		p[2] = (struct part){ _("Up/Down PgUp/PgDn Home/End scroll"), _("arrows scroll"), 1,
				      TC_NORMAL, 0, 0 };
		p[3] = (struct part){ _("Esc closes"), NULL, 2, TC_NORMAL, 0, 0 };
	} else {
		snprintf(at, sizeof(at), _("all %d lines"), n);
		p[0] = (struct part){ at, NULL, 0, TC_KEY, 0, 0 };
		p[1] = (struct part){ _("Esc closes"), NULL, 2, TC_NORMAL, 0, 0 };
		p[2] = p[3] = (struct part){ NULL, NULL, 0, TC_NORMAL, 0, 0 };
	}
	parts_fit(p, 4, "  ", w, line, sizeof(line));
	tbuf_text(b, t->g, 1, b->h - 2, w, TC_NORMAL, line);
	parts_paint(b, p, 4, 1, b->h - 2);
	tbuf_paint(b, 1, b->h - 2, tbuf_cols(line), TC_KEY, TA_REVERSE);
}

static void help(struct tui *t, struct tbuf *b)
{
	struct help_row rows[512];
	int n = 0, nsrc = (int)(sizeof(help_lines) / sizeof(help_lines[0])), w = b->w - 2;

	title_bar(t, b, _("help (Esc or ? to close)"));
	for (int i = 0; i < nsrc && n < 512; i++) {
		/* "" stays "": gettext("") is the catalogue's header */
		const char *l = help_lines[i][0] ? _(help_lines[i]) : "";

		n += help_wrap(l, l[0] && l[0] != ' ' ? TC_HEADER : TC_NORMAL, w, rows + n,
			       512 - n);
	}
	if (t->nplan && n + 2 < 512) {
		rows[n++] = (struct help_row){ "", 0, 0, TC_NORMAL };
		n += help_wrap(_("This session's attach plan (hook, attached with, fidelity, "
				 "point)"), TC_HEADER, w, rows + n, 512 - n);
	}
	for (int i = 0; i < t->nplan && n < 512; i++)
		n += help_wrap(t->plan[i], TC_NORMAL, w, rows + n, 512 - n);
	pager(t, b, rows, n);
}

#define MSG_MAX 256

/* the message log, oldest first, wrapped; it opens at its end (tui.c) */
static void messages(struct tui *t, struct tbuf *b)
{
	char (*store)[256] = malloc(MSG_MAX * sizeof(*store));
	struct help_row *rows = calloc(MSG_MAX * 4, sizeof(*rows));
	int nmsg = 0, n = 0;

	title_bar(t, b, _("messages (newest last; Esc to close)"));
	/* (each line must be copied: the next call reuses its buffer) */
	for (; store && rows && t->message && nmsg < MSG_MAX; nmsg++) {
		const char *l = t->message(nmsg);

		if (!l)
			break;
		snprintf(store[nmsg], sizeof(store[0]), "%s", l);
	}
	for (int i = nmsg - 1; rows && i >= 0 && n < MSG_MAX * 4; i--)
		n += help_wrap(store[i], strstr(store[i], "error") ? TC_ERROR : TC_NORMAL, b->w - 2,
			       rows + n, MSG_MAX * 4 - n);
	if (n)
		pager(t, b, rows, n);
	else
		tbuf_text(b, t->g, 1, 2, b->w - 2, TC_DIM, _("(no messages)"));
	free(store);
	free(rows);
}

void tui_format(struct tui *t, struct tbuf *b)
{
	tbuf_clear(b);
	if (b->w < TUI_MIN_W || b->h < TUI_MIN_H) {
		char msg[160];
		int y = b->h / 2;

		snprintf(msg, sizeof(msg), _("Terminal too small: %dx%d, need %dx%d"), b->w, b->h,
			 TUI_MIN_W, TUI_MIN_H);
		tbuf_text(b, t->g, 0, y > 0 ? y - 1 : 0, b->w, TC_WARN, msg);
		tbuf_text(b, t->g, 0, y, b->w, TC_NORMAL, _("Enlarge it, or press q to quit."));
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

/* ---- the panes, for another layout ------------------------------------------ */

void tui_pane_rbr(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		  const struct model_inst *in)
{
	tree_pane(t, b, x, y, w, h, in);
}

void tui_pane_rdllist(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		      const struct model_inst *in)
{
	ready_pane(t, b, x, y, w, h, in);
}

void tui_pane_wq(struct tui *t, struct tbuf *b, int x, int y, int w, int h,
		 const struct model_inst *in)
{
	wait_pane(t, b, x, y, w, h, in);
}
