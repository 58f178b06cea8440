// SPDX-License-Identifier: GPL-2.0
/*
 * Detectors (detect.h): named problems of an event loop, found per
 * instance from the records the model applies and the state it keeps.
 * model.c calls detect_record after each record and detect_snapshot after
 * each snapshot; the detectors keep what only they need (the waits of each
 * thread, a burst of wakeups, counting windows) in struct det_inst, one per
 * instance.  What each detector is, and what each attach mode lets it see,
 * is in docs/diagnosis.md ("Findings").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"
#include "grow.h"
#include "i18n.h"
#include "model.h"

#define NS_PER_S 1000000000ULL
/* a rate is measured over windows of at least this much stream time */
#define DET_RATE_WINDOW_NS NS_PER_S
/* a burst of wakeups whose outcomes never all came (lost, untraced) ends */
#define DET_BURST_MAX_NS NS_PER_S
#define DET_BURST 16
#define DET_REPORTED 32
#define DET_SUSPECTS 8
#define DET_QUEUED 64

/* what the detectors know of one thread's waits on one instance */
struct det_thread {
	__u32 tid;
	bool in_wait;
	bool woken;		/* woken by someone (not a timer) in this wait */
	__s32 maxevents;	/* of the wait going on, <= 0 unknown */
	__s64 timeout_ns;	/* -1 infinite, -2 unknown */
	__u64 enter_ns;
	/* the previous wait returned exactly maxevents (tracepoint mode:
	 * saturated if this one returns at once) */
	bool prev_full;
	/* LT spin: what its previous wait delivered, by the events' data */
	struct {
		__u64 data;
		__u32 run;	/* consecutive waits that delivered it */
		__u64 start;	/* the first of them */
	} lt[ET_WAIT_MAX_EVENTS];
	unsigned int nlt;
};

/* a sleeper woken in the burst going on, and what its wait did next */
enum { OUT_PENDING, OUT_TOOK, OUT_EMPTY };

struct det_member {
	__u32 tid;
	int outcome;
	struct det_evidence ev;
};

struct det_inst {
	struct det_thread *t;
	size_t nt, cap_t;
	int fidx[DET_MAX];		/* position in detect.f + 1, 0 none yet */
	bool exclusive;			/* an item has EPOLLEXCLUSIVE */
	__u64 excl_file;		/* ... its file: the group (excl_group) */
	/* herd: the wakeups of a burst (overlapping windows) */
	struct det_member burst[DET_BURST];
	unsigned int nburst, npending;
	__u64 burst_ns;
	struct det_evidence cb;		/* the latest callback, ts 0 none */
	/* the latest callback when the burst going on began: its event (the
	 * taker's own read may make another callback during the burst) */
	struct det_evidence burst_cb;
	/* maxevents saturation: waits whose maxevents is known, full ones */
	__u32 sat_waits, sat_full;
	/* busy polling and 0-event wakeups: counts in the window going on */
	__u64 busy_start, busy_n, busy_empty;
	__u64 zero_start, zero_n;
	/* stale registrations and long residencies already counted */
	struct {
		__s32 fd;
		__u64 key;	/* the file (stale) or since_ns (residency) */
	} stale[DET_REPORTED], resid[DET_REPORTED];
	unsigned int nstale, nresid;
	/* with callbacks: the stays on the ready list callbacks began, oldest first */
	struct {
		__s32 fd;
		__u64 since;
	} q[DET_QUEUED];
	unsigned int nq;
	__u64 nstale_total;
	/* items whose fd a ctl found closed (EBADF): stale if they live on */
	struct {
		__s32 fd;
		__u64 file, data;
		struct det_evidence ev;
	} sus[DET_SUSPECTS];
	unsigned int nsus;
};

/* --detect options given on the command line: every model starts with them */
static struct det_opts configured;
static bool have_configured;

void detect_defaults(struct det_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->herd_waiters = 2;
	o->excl_share_pct = 80;
	o->excl_min_wakeups = 50;
	o->lt_spin_waits = 16;
	o->lt_spin_window_ns = 100ULL * 1000000ULL;
	o->sat_pct = 50;
	o->sat_min_waits = 20;
	o->busy_rate = 1000;
	o->busy_empty_pct = 90;
	o->zero_rate = 10;
	o->residency_ns = 10ULL * 1000000ULL;
}

void detect_configure(const struct det_opts *o)
{
	configured = *o;
	have_configured = true;
}

void detect_init(struct detect *d)
{
	memset(d, 0, sizeof(*d));
	if (have_configured)
		d->opts = configured;
	else
		detect_defaults(&d->opts);
}

bool detect_any_on(const struct det_opts *o)
{
	for (int k = 0; k < DET_MAX; k++)
		if (!o->off[k])
			return true;
	return false;
}

static void excl_free(struct detect *d);

void detect_free(struct detect *d)
{
	excl_free(d);
	free(d->f);
	d->f = NULL;
	d->n = d->cap = 0;
}

void detect_inst_free(struct det_inst *di)
{
	if (!di)
		return;
	free(di->t);
	free(di);
}

static void *grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	if (et_grow(&arr, cap, need, sz))
		abort();	/* the model cannot be half-updated */
	return arr;
}

/* ---- options ------------------------------------------------------------- */

const char *detect_key(enum det_kind k)
{
	static const char *const n[DET_MAX] = {
		"herd", "exclusive-imbalance", "lt-spin", "maxevents-saturation",
		"busy-poll", "zero-wakeups", "stale-registration", "long-residency",
	};

	return k < DET_MAX ? n[k] : "?";
}

/* "100ms", "2s", "500us", "1000000" (ns) */
static int parse_ns(const char *s, __u64 *out)
{
	static const struct {
		const char *unit;
		__u64 mul;
	} u[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", NS_PER_S }, { "", 1 } };
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (strcmp(end, u[i].unit))
			continue;
		if (!v || v > UINT64_MAX / u[i].mul)
			return -1;
		*out = v * u[i].mul;
		return 0;
	}
	return -1;
}

static int parse_u32(const char *s, __u32 lo, __u32 hi, __u32 *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_one(struct det_opts *o, const char *key, const char *val, char *err,
		     size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
		__u32 lo, hi;
	} num[] = {
		{ "herd_waiters", offsetof(struct det_opts, herd_waiters), 2, 1u << 20 },
		{ "excl_share_pct", offsetof(struct det_opts, excl_share_pct), 1, 100 },
		{ "excl_min_wakeups", offsetof(struct det_opts, excl_min_wakeups), 1, 1u << 30 },
		{ "lt_spin_waits", offsetof(struct det_opts, lt_spin_waits), 2, 1u << 30 },
		{ "sat_pct", offsetof(struct det_opts, sat_pct), 1, 100 },
		{ "sat_min_waits", offsetof(struct det_opts, sat_min_waits), 1, 1u << 30 },
		{ "busy_rate", offsetof(struct det_opts, busy_rate), 1, 1u << 30 },
		{ "busy_empty_pct", offsetof(struct det_opts, busy_empty_pct), 1, 100 },
		{ "zero_rate", offsetof(struct det_opts, zero_rate), 1, 1u << 30 },
	};
	bool all = !strcmp(key, "all");

	for (int k = 0; k < DET_MAX; k++) {
		if (!all && strcmp(key, detect_key(k)))
			continue;
		if (strcmp(val, "off") && strcmp(val, "on")) {
			snprintf(err, errlen, _("--detect %s: expected on or off, not '%s'"), key,
				 val);
			return -1;
		}
		o->off[k] = !strcmp(val, "off");
		if (!all)
			return 0;
	}
	if (all)
		return 0;
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
		if (strcmp(key, num[i].key))
			continue;
		if (parse_u32(val, num[i].lo, num[i].hi, (__u32 *)((char *)o + num[i].off))) {
			snprintf(err, errlen,
				 _("--detect %s: expected a whole number from %u to %u, not '%s'"),
				 key, num[i].lo, num[i].hi, val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "lt_spin_window") || !strcmp(key, "residency")) {
		__u64 *p = key[0] == 'l' ? &o->lt_spin_window_ns : &o->residency_ns;

		if (parse_ns(val, p)) {
			snprintf(err, errlen,
				 _("--detect %s: expected a duration such as 100ms, 2s or 500us, "
				   "not '%s'"), key, val);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, _("--detect: unknown key '%s' (see epolltrace --help)"), key);
	return -1;
}

int detect_parse(struct det_opts *o, const char *arg, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	struct det_opts n = *o;

	if (strlen(arg) >= sizeof(buf) || !arg[0]) {
		snprintf(err, errlen, _("--detect: expected KEY=VALUE[,KEY=VALUE...]"));
		return -1;
	}
	strcpy(buf, arg);
	/* "off" alone: every detector off */
	if (!strcmp(buf, "off") || !strcmp(buf, "on"))
		return parse_one(o, "all", buf, err, errlen);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || !eq[1]) {
			snprintf(err, errlen, _("--detect: expected KEY=VALUE, not '%s'"), tok);
			return -1;
		}
		*eq = 0;
		if (parse_one(&n, tok, eq + 1, err, errlen))
			return -1;
	}
	*o = n;		/* all or nothing */
	return 0;
}

/* ---- findings -------------------------------------------------------------- */

static struct det_inst *dinst(struct model_inst *in)
{
	if (!in->det) {
		in->det = calloc(1, sizeof(*in->det));
		if (!in->det)
			abort();
	}
	return in->det;
}

static struct finding *finding_get(struct detect *d, struct model_inst *in, enum det_kind k,
				   __u64 ts)
{
	struct det_inst *di = dinst(in);
	struct finding *f;

	if (di->fidx[k])
		return &d->f[di->fidx[k] - 1];
	d->f = grow(d->f, &d->cap, d->n + 1, sizeof(*d->f));
	f = &d->f[d->n++];
	di->fidx[k] = d->n;
	f->kind = k;
	f->ep = in->in.ep;
	f->pid = in->in.owner;
	f->epfd = in->in.epfd;
	f->first_ns = ts;
	return f;
}

static void add_fd(struct finding *f, __s32 fd)
{
	if (fd < 0)
		return;
	for (unsigned int i = 0; i < f->nfds; i++)
		if (f->fds[i] == fd)
			return;
	if (f->nfds < DET_FDS)
		f->fds[f->nfds++] = fd;
}

static void add_tid(struct finding *f, __u32 tid)
{
	if (!tid)
		return;
	for (unsigned int i = 0; i < f->ntids; i++)
		if (f->tids[i] == tid)
			return;
	if (f->ntids < DET_TIDS)
		f->tids[f->ntids++] = tid;
}

static void add_ev(struct finding *f, const struct det_evidence *e)
{
	if (f->nev == DET_EVIDENCE) {
		memmove(f->ev, f->ev + 1, (DET_EVIDENCE - 1) * sizeof(*f->ev));
		f->nev--;
	}
	f->ev[f->nev++] = *e;
}

static struct det_evidence evidence(const struct model *m, const struct et_hdr *h, __s32 fd)
{
	return (struct det_evidence){ .ts_ns = h->ts_ns, .seq = m->records, .type = h->type,
				      .tid = h->tid, .fd = fd };
}

/* a finding was seen (again): count it, or only update its measure */
static struct finding *hit(struct detect *d, struct model_inst *in, enum det_kind k, __u64 ts,
			   __u64 value, bool counts)
{
	struct finding *f = finding_get(d, in, k, ts);

	f->count += counts;
	f->value = value;
	f->last_ns = ts;
	if (in->in.epfd >= 0)
		f->epfd = in->in.epfd;
	f->version = ++d->version;
	return f;
}

/* ---- threads ----------------------------------------------------------------- */

static struct det_thread *thread_get(struct det_inst *di, __u32 tid)
{
	for (size_t i = 0; i < di->nt; i++)
		if (di->t[i].tid == tid)
			return &di->t[i];
	di->t = grow(di->t, &di->cap_t, di->nt + 1, sizeof(*di->t));
	di->t[di->nt] = (struct det_thread){ .tid = tid, .timeout_ns = -2 };
	return &di->t[di->nt++];
}

static void thread_drop(struct det_inst *di, __u32 tid)
{
	for (size_t i = 0; i < di->nt; i++) {
		if (di->t[i].tid != tid)
			continue;
		di->t[i] = di->t[--di->nt];
		return;
	}
}

/* the item a delivered event's data belongs to (the buffer has data, not fds) */
static const struct model_item *item_by_data(const struct model_inst *in, __u64 data)
{
	for (size_t j = 0; j < in->nitems; j++)
		if (in->items[j].data == data)
			return &in->items[j];
	return NULL;
}

static bool level_triggered(const struct model_item *it)
{
	return !(it->events & (MODEL_EPOLLET | MODEL_EPOLLONESHOT));
}

/* ---- herd ------------------------------------------------------------------ */

static void burst_end(struct detect *d, struct model_inst *in, __u64 ts)
{
	struct det_inst *di = in->det;
	unsigned int took = 0;
	struct finding *f;

	for (unsigned int i = 0; i < di->nburst; i++)
		took += di->burst[i].outcome == OUT_TOOK;
	if (!d->opts.off[DET_HERD] && di->nburst >= d->opts.herd_waiters && took == 1) {
		f = hit(d, in, DET_HERD, ts, di->nburst, true);
		if (di->burst_cb.ts_ns && di->burst_cb.ts_ns <= di->burst_ns) {
			add_fd(f, di->burst_cb.fd);
			add_ev(f, &di->burst_cb);
		}
		for (unsigned int i = 0; i < di->nburst; i++) {
			add_tid(f, di->burst[i].tid);
			add_ev(f, &di->burst[i].ev);
		}
	}
	di->nburst = di->npending = 0;
}

static struct det_member *member(struct det_inst *di, __u32 tid)
{
	for (unsigned int i = 0; i < di->nburst; i++)
		if (di->burst[i].tid == tid)
			return &di->burst[i];
	return NULL;
}

/* a woken member's wait went on: it took events, or it did not */
static void burst_outcome(struct detect *d, struct model_inst *in, __u32 tid, int outcome,
			  __u64 ts)
{
	struct det_inst *di = in->det;
	struct det_member *b = member(di, tid);

	if (!b || b->outcome != OUT_PENDING)
		return;
	b->outcome = outcome;
	if (!--di->npending)
		burst_end(d, in, ts);
}

static void herd_wakeup(const struct model *m, struct model_inst *in,
			const struct et_hdr *h)
{
	struct det_inst *di = in->det;
	struct det_member *b;

	if (di->nburst && h->ts_ns - di->burst_ns > DET_BURST_MAX_NS)
		di->nburst = di->npending = 0;	/* outcomes lost: no verdict */
	if (!di->nburst) {
		di->burst_ns = h->ts_ns;
		di->burst_cb = di->cb;
	}
	b = member(di, h->tid);
	if (b) {		/* woken again before its outcome: still one member */
		return;
	}
	if (di->nburst == DET_BURST)
		return;
	di->burst[di->nburst++] = (struct det_member){ h->tid, OUT_PENDING,
						       evidence(m, h, -1) };
	di->npending++;
}

/* ---- wait exits -------------------------------------------------------------- */

/*
 * ep_poll_callback ran for the item: new data came (a callback runs at
 * every wakeup of the file's queue, on the ready list or not).  Its
 * deliveries after this one are news, not the same data left unread: the
 * runs of it start again.  Only where callbacks are seen; without them a
 * steady stream of new data that never lets the thread sleep looks the
 * same as unread data (docs/diagnosis.md).
 */
static void lt_new_data(struct det_inst *di, __u64 data, __u64 ts)
{
	for (size_t i = 0; i < di->nt; i++)
		for (unsigned int j = 0; j < di->t[i].nlt; j++)
			if (di->t[i].lt[j].data == data) {
				di->t[i].lt[j].run = 0;
				di->t[i].lt[j].start = ts;
			}
}

static void lt_spin(struct detect *d, const struct model *m, struct model_inst *in,
		    struct det_thread *t, const struct et_ev_wait_exit *e)
{
	__typeof__(t->lt) prev;
	unsigned int nprev = t->nlt;
	__u64 ts = e->hdr.ts_ns;

	memcpy(prev, t->lt, sizeof(prev));
	t->nlt = 0;
	for (__u32 k = 0; e->ret > 0 && k < e->ncopied && k < ET_WAIT_MAX_EVENTS; k++) {
		__u64 data = e->ev[k].data;
		__u32 run = 1;
		__u64 start = ts;
		const struct model_item *it;

		/*
		 * A wait that slept found the item not ready when it began: new
		 * data, not the same unread data again.  It starts a run.
		 */
		for (unsigned int j = 0; !e->slept_ns && j < nprev; j++) {
			/* a run counts within one window from its first wait */
			if (prev[j].data == data &&
			    ts - prev[j].start <= d->opts.lt_spin_window_ns) {
				run = prev[j].run + 1;
				start = prev[j].start;
			}
		}
		t->lt[t->nlt].data = data;
		t->lt[t->nlt].run = run;
		t->lt[t->nlt].start = start;
		t->nlt++;
		if (run < d->opts.lt_spin_waits || d->opts.off[DET_LT_SPIN])
			continue;
		it = item_by_data(in, data);
		if (!it || !level_triggered(it))
			continue;
		{
			struct finding *f = hit(d, in, DET_LT_SPIN, ts, run,
						run == d->opts.lt_spin_waits);
			struct det_evidence ev = evidence(m, &e->hdr, it->fd);

			f->unconfirmed = !m->callbacks_visible;

			add_fd(f, it->fd);
			add_tid(f, e->hdr.tid);
			add_ev(f, &ev);
		}
	}
}

static void saturation(struct detect *d, const struct model *m, struct model_inst *in,
		       struct det_thread *t, const struct et_ev_wait_exit *e)
{
	struct det_inst *di = in->det;
	bool full = t->maxevents > 0 && e->ret == t->maxevents;
	bool sat;

	if (t->maxevents <= 0 || e->ret < 0)
		return;
	/*
	 * With callbacks the model's ready list is the kernel's: not empty
	 * after a full wait means events were left.  Without, the sign is the
	 * thread's next wait returning at once, without sleeping.
	 */
	if (m->callbacks_visible) {
		sat = full && in->nready > 0;
	} else {
		sat = t->prev_full && e->ret > 0 && !e->slept_ns;
		t->prev_full = full;
	}
	di->sat_waits++;
	di->sat_full += sat;
	if (di->sat_waits < d->opts.sat_min_waits)
		return;
	if (!d->opts.off[DET_MAXEVENTS_SAT] &&
	    (__u64)di->sat_full * 100 >= (__u64)d->opts.sat_pct * di->sat_waits) {
		struct finding *f = hit(d, in, DET_MAXEVENTS_SAT, e->hdr.ts_ns,
					di->sat_full * 100 / di->sat_waits, true);
		struct det_evidence ev = evidence(m, &e->hdr, -1);

		add_tid(f, e->hdr.tid);
		for (size_t i = 0; i < in->nready && i < DET_FDS; i++)
			add_fd(f, in->ready[i].fd);
		add_ev(f, &ev);
	}
	di->sat_waits = di->sat_full = 0;	/* the next window */
}

/* a rate over a window of stream time: n intervals between events, per second */
static __u64 per_s(__u64 n, __u64 ns)
{
	return ns ? (__u64)((double)n * NS_PER_S / ns) : 0;
}

static void busy_poll(struct detect *d, const struct model *m, struct model_inst *in,
		      struct det_thread *t, const struct et_ev_wait_exit *e)
{
	struct det_inst *di = in->det;
	__u64 ts = e->hdr.ts_ns, rate;

	if (t->timeout_ns != 0 || e->ret < 0)
		return;
	if (!di->busy_n)
		di->busy_start = ts;
	di->busy_n++;
	di->busy_empty += e->ret == 0;
	if (ts - di->busy_start < DET_RATE_WINDOW_NS)
		return;
	rate = per_s(di->busy_n - 1, ts - di->busy_start);
	if (!d->opts.off[DET_BUSY_POLL] && rate >= d->opts.busy_rate &&
	    di->busy_empty * 100 >= (__u64)d->opts.busy_empty_pct * di->busy_n) {
		struct finding *f = hit(d, in, DET_BUSY_POLL, ts, rate, true);
		struct det_evidence ev = evidence(m, &e->hdr, -1);

		add_tid(f, e->hdr.tid);
		add_ev(f, &ev);
	}
	di->busy_n = di->busy_empty = 0;
}

static void zero_wakeups(struct detect *d, const struct model *m, struct model_inst *in,
			 struct det_thread *t, const struct et_ev_wait_exit *e)
{
	struct det_inst *di = in->det;
	__u64 ts = e->hdr.ts_ns, rate;
	bool expired;

	if (e->ret != 0 || !e->slept_ns)
		return;
	/*
	 * A timeout's expiry is no wakeup: woken by someone (a wakeup record
	 * without ET_F_TIMER), or the wait had no timeout, or it ended before
	 * its timeout.
	 */
	expired = !t->woken && t->timeout_ns != -1 &&
		  (t->timeout_ns < 0 || !t->enter_ns || ts - t->enter_ns >= (__u64)t->timeout_ns);
	if (expired)
		return;
	if (!di->zero_n || ts - di->zero_start > 4 * DET_RATE_WINDOW_NS) {
		di->zero_start = ts;
		di->zero_n = 0;
	}
	di->zero_n++;
	if (ts - di->zero_start < DET_RATE_WINDOW_NS)
		return;
	rate = per_s(di->zero_n - 1, ts - di->zero_start);
	if (!d->opts.off[DET_ZERO_WAKEUPS] && rate >= d->opts.zero_rate) {
		struct finding *f = hit(d, in, DET_ZERO_WAKEUPS, ts, rate, true);
		struct det_evidence ev = evidence(m, &e->hdr, -1);

		add_tid(f, e->hdr.tid);
		add_ev(f, &ev);
	}
	di->zero_n = 0;
}

static void wait_exit(struct detect *d, const struct model *m, struct model_inst *in,
		      const struct et_ev_wait_exit *e)
{
	struct det_thread *t = thread_get(in->det, e->hdr.tid);

	burst_outcome(d, in, e->hdr.tid, e->ret > 0 ? OUT_TOOK : OUT_EMPTY, e->hdr.ts_ns);
	lt_spin(d, m, in, t, e);
	saturation(d, m, in, t, e);
	busy_poll(d, m, in, t, e);
	zero_wakeups(d, m, in, t, e);
	t->in_wait = false;
	t->woken = false;
}

/* ---- exclusive imbalance --------------------------------------------------------- */

/*
 * The waiters that an EPOLLEXCLUSIVE item's file can wake: the threads on
 * the instances (of one process) that watch that file exclusively -- one
 * instance with several threads, or, as EPOLLEXCLUSIVE is meant to be
 * used, one instance per thread all watching one listening socket.  The
 * group's wakeups are counted per thread in windows of excl_min_wakeups.
 */
#define EXCL_MEMBERS 32
#define EXCL_INSTS 16

struct excl_group {
	__u32 pid;
	__u64 file;
	__s32 fd;
	__u64 eps[EXCL_INSTS];		/* the instances watching it exclusively */
	unsigned int neps;
	struct {
		__u32 tid;
		__u64 ep;
		__u64 n;
	} m[EXCL_MEMBERS];
	unsigned int nm;
	__u64 total;
};

struct det_priv {
	struct excl_group *g;
	size_t ng, cap_g;
};

static struct det_priv *dpriv(struct detect *d)
{
	if (!d->priv) {
		d->priv = calloc(1, sizeof(struct det_priv));
		if (!d->priv)
			abort();
	}
	return d->priv;
}

static struct excl_group *excl_group(struct detect *d, __u32 pid, __u64 file, bool add)
{
	struct det_priv *p = dpriv(d);

	for (size_t i = 0; i < p->ng; i++)
		if (p->g[i].pid == pid && p->g[i].file == file)
			return &p->g[i];
	if (!add)
		return NULL;
	p->g = grow(p->g, &p->cap_g, p->ng + 1, sizeof(*p->g));
	p->g[p->ng] = (struct excl_group){ .pid = pid, .file = file };
	return &p->g[p->ng++];
}

/* instance in watches file (fd) with EPOLLEXCLUSIVE */
static void excl_join(struct detect *d, struct model_inst *in, __s32 fd, __u64 file)
{
	struct excl_group *g;

	in->det->exclusive = true;
	in->det->excl_file = file;
	if (!file)
		return;
	g = excl_group(d, in->in.owner, file, true);
	g->fd = fd;
	for (unsigned int i = 0; i < g->neps; i++)
		if (g->eps[i] == in->in.ep)
			return;
	if (g->neps < EXCL_INSTS)
		g->eps[g->neps++] = in->in.ep;
}

static void excl_wakeup(struct detect *d, struct model *m, struct model_inst *in,
			const struct et_hdr *h)
{
	struct det_inst *di = in->det;
	struct excl_group *g;
	bool contested = false;
	unsigned int top = 0, k;

	if (!di->exclusive || !(g = excl_group(d, in->in.owner, di->excl_file, false)))
		return;
	/* contested: another waiter of the group slept too, and could have had it */
	for (unsigned int i = 0; i < g->neps && !contested; i++) {
		const struct model_inst *o = model_find(m, g->eps[i]);

		contested = o && model_asleep(o) > 0;
	}
	if (!contested)
		return;
	for (k = 0; k < g->nm && g->m[k].tid != h->tid; k++)
		;
	if (k == g->nm) {
		if (g->nm == EXCL_MEMBERS)
			return;
		g->m[g->nm].tid = h->tid;
		g->m[g->nm].n = 0;
		g->nm++;
	}
	g->m[k].ep = in->in.ep;
	g->m[k].n++;
	if (++g->total < d->opts.excl_min_wakeups)
		return;
	for (k = 1; k < g->nm; k++)
		if (g->m[k].n > g->m[top].n)
			top = k;
	if (!d->opts.off[DET_EXCL_IMBALANCE] &&
	    g->m[top].n * 100 >= (__u64)d->opts.excl_share_pct * g->total) {
		/* on the instance of the thread that took them */
		struct model_inst *ti = model_find(m, g->m[top].ep);
		struct finding *f;
		struct det_evidence ev = evidence(m, h, g->fd);

		if (!ti)
			ti = in;
		dinst(ti);
		f = hit(d, ti, DET_EXCL_IMBALANCE, h->ts_ns, g->m[top].n * 100 / g->total, true);
		add_tid(f, g->m[top].tid);
		for (k = 0; k < g->nm; k++)
			add_tid(f, g->m[k].tid);
		add_fd(f, g->fd);
		add_ev(f, &ev);
	}
	g->total = 0;		/* the next window */
	for (k = 0; k < g->nm; k++)
		g->m[k].n = 0;
}

static void excl_free(struct detect *d)
{
	if (d->priv)
		free(((struct det_priv *)d->priv)->g);
	free(d->priv);
	d->priv = NULL;
}

static void excl_recount(struct detect *d, struct model_inst *in)
{
	in->det->exclusive = false;
	for (size_t i = 0; i < in->nitems; i++)
		if (in->items[i].events & MODEL_EPOLLEXCLUSIVE)
			excl_join(d, in, in->items[i].fd, in->items[i].file);
}

/* ---- stale registrations ------------------------------------------------------- */

/*
 * One item whose fd no longer holds its file, counted once per (fd, file);
 * first: the record that raised the suspicion, if another confirmed it.
 */
static void stale(struct detect *d, const struct model *m, struct model_inst *in,
		  const struct et_hdr *h, __s32 fd, __u64 file, __u16 type, __s32 evfd,
		  const struct det_evidence *first)
{
	struct det_inst *di = in->det;
	struct det_evidence ev = evidence(m, h, evfd);
	bool known = false;
	struct finding *f;

	if (d->opts.off[DET_STALE_REG])
		return;
	for (unsigned int i = 0; i < di->nstale; i++)
		known |= di->stale[i].fd == fd && di->stale[i].key == file;
	if (!known) {
		if (di->nstale == DET_REPORTED)
			memmove(di->stale, di->stale + 1,
				(DET_REPORTED - 1) * sizeof(di->stale[0]));
		else
			di->nstale++;
		di->stale[di->nstale - 1].fd = fd;
		di->stale[di->nstale - 1].key = file;
		di->nstale_total++;
	}
	f = hit(d, in, DET_STALE_REG, h->ts_ns, di->nstale_total, !known);
	ev.type = type;
	add_fd(f, fd);
	if (first) {
		add_tid(f, first->tid);
		add_ev(f, first);
	}
	add_tid(f, h->tid);
	if (!known || !f->nev || f->ev[f->nev - 1].type != type || f->ev[f->nev - 1].fd != evfd)
		add_ev(f, &ev);
}

static void resid_queued(struct model_inst *in, __s32 fd, __u64 ts);

/*
 * A DEL or MOD of an item's fd number failed with EBADF: the number is
 * closed.  Whether the kernel still holds the item (a dup or a fork keeps
 * the file) or dropped it where no record saw (tracepoint mode does not see
 * a close_range or a dup2 drop the last reference) is told later: the item
 * is stale if a wait still delivers it, a release of it comes, or a
 * snapshot still shows it; if a snapshot does not, it was gone.
 */
static void ctl(struct detect *d, const struct model *m, struct model_inst *in,
		const struct et_ev_ctl *e)
{
	const struct model_item *it = model_item_find(in, e->fd);
	struct det_inst *di = in->det;

	if (e->ret == 0 && e->op == ET_CTL_ADD && (e->events & MODEL_EPOLLEXCLUSIVE))
		excl_join(d, in, e->fd, e->file);
	/* ep_insert and ep_modify queue a ready item themselves */
	if (m->callbacks_visible && e->ret == 0 && e->queued > 0)
		resid_queued(in, e->fd, e->hdr.ts_ns);
	if (e->ret != -EBADF || e->op == ET_CTL_ADD || !it)
		return;
	for (unsigned int i = 0; i < di->nsus; i++)
		if (di->sus[i].fd == it->fd && di->sus[i].file == it->file)
			return;
	if (di->nsus == DET_SUSPECTS)
		memmove(di->sus, di->sus + 1, (DET_SUSPECTS - 1) * sizeof(di->sus[0]));
	else
		di->nsus++;
	di->sus[di->nsus - 1].fd = it->fd;
	di->sus[di->nsus - 1].file = it->file;
	di->sus[di->nsus - 1].data = it->data;
	di->sus[di->nsus - 1].ev = evidence(m, &e->hdr, e->fd);
}

static void suspect_confirm(struct detect *d, const struct model *m, struct model_inst *in,
			    unsigned int i, const struct et_hdr *h, __s32 fd)
{
	struct det_inst *di = in->det;
	struct det_evidence ev = di->sus[i].ev;

	stale(d, m, in, h, di->sus[i].fd, di->sus[i].file, h->type, fd, &ev);
	di->sus[i] = di->sus[--di->nsus];
}

/* a wait delivered it, or it was released: the item lived on */
static void suspects_follow(struct detect *d, const struct model *m, struct model_inst *in,
			    const struct et_hdr *h)
{
	struct det_inst *di = in->det;

	if (h->type == ET_EV_WAIT_EXIT) {
		const struct et_ev_wait_exit *e = (const void *)h;

		for (__u32 k = 0; k < e->ncopied && k < ET_WAIT_MAX_EVENTS; k++)
			for (unsigned int i = 0; i < di->nsus; i++)
				if (di->sus[i].data == e->ev[k].data) {
					suspect_confirm(d, m, in, i, h, di->sus[i].fd);
					break;
				}
	} else if (h->type == ET_EV_RELEASE) {
		const struct et_ev_release *e = (const void *)h;

		for (unsigned int i = 0; i < di->nsus; i++)
			if (di->sus[i].fd == e->fd && di->sus[i].file == e->file) {
				suspect_confirm(d, m, in, i, h, e->fd);
				break;
			}
	}
}

/* ---- long residency ----------------------------------------------------------- */

/* one stay on the ready list over the threshold: counted once per (fd, since) */
static void resid_hit(struct detect *d, const struct model *m, struct model_inst *in,
		      const struct et_hdr *h, __s32 fd, __u64 since)
{
	struct det_inst *di = in->det;
	bool known = false;
	struct finding *f;

	for (unsigned int j = 0; j < di->nresid; j++)
		known |= di->resid[j].fd == fd && di->resid[j].key == since;
	if (!known) {
		if (di->nresid == DET_REPORTED)
			memmove(di->resid, di->resid + 1,
				(DET_REPORTED - 1) * sizeof(di->resid[0]));
		else
			di->nresid++;
		di->resid[di->nresid - 1].fd = fd;
		di->resid[di->nresid - 1].key = since;
	}
	f = hit(d, in, DET_LONG_RESIDENCY, h->ts_ns, h->ts_ns - since, !known);
	add_fd(f, fd);
	/* the threads kept waiting: those in a wait, else those busy elsewhere */
	for (size_t w = 0; w < in->nwaiters; w++)
		add_tid(f, in->waiters[w].tid);
	for (size_t t = 0; !in->nwaiters && t < di->nt; t++)
		add_tid(f, di->t[t].tid);
	if (!known) {
		struct det_evidence ev = evidence(m, h, fd);

		add_ev(f, &ev);
	}
}

/*
 * With callbacks: a callback (or a ctl) that queued an item starts a stay
 * (the model's entry, queued at the record's time).  Only those count: a
 * level-triggered item a transfer put back is on the kernel's list too,
 * but until the next scan polls it nothing says it is ready.
 */
static void resid_queued(struct model_inst *in, __s32 fd, __u64 ts)
{
	struct det_inst *di = in->det;
	long r = model_ready_index(in, fd);

	if (r < 0 || in->ready[r].since_ns != ts)
		return;		/* already queued, or not queued */
	if (di->nq == DET_QUEUED)
		memmove(di->q, di->q + 1, (DET_QUEUED - 1) * sizeof(di->q[0]));
	else
		di->nq++;
	di->q[di->nq - 1].fd = fd;
	di->q[di->nq - 1].since = ts;
}

/*
 * Items on the ready list longer than the threshold while a thread that
 * waits on the instance lives (nobody waiting is nobody kept waiting).
 * With callbacks: the stays callbacks began, oldest first, until one
 * under the threshold.  Without (sampled): at each snapshot, the items
 * it found that an earlier walk had found too, not delivered since (the
 * model's since_ns).
 */
static void residency(struct detect *d, const struct model *m, struct model_inst *in,
		      const struct et_hdr *h)
{
	struct det_inst *di = in->det;
	__u64 now = h->ts_ns;

	if (d->opts.off[DET_LONG_RESIDENCY] || !di->nt)
		return;
	if (m->callbacks_visible) {
		while (di->nq) {
			long r = model_ready_index(in, di->q[0].fd);

			if (r < 0 || in->ready[r].since_ns != di->q[0].since) {
				/* delivered, or taken off: the stay is over */
				memmove(di->q, di->q + 1, --di->nq * sizeof(di->q[0]));
				continue;
			}
			if (now < di->q[0].since || now - di->q[0].since <= d->opts.residency_ns)
				return;
			resid_hit(d, m, in, h, di->q[0].fd, di->q[0].since);
			memmove(di->q, di->q + 1, --di->nq * sizeof(di->q[0]));
		}
		return;
	}
	if (h->type != ET_EV_SNAP_END)
		return;
	/* the head of the list is the oldest; look at a few, not all */
	for (size_t i = 0; i < in->nready && i < 64; i++) {
		const struct model_ready *r = &in->ready[i];

		if (r->since_ns && now > r->since_ns && now - r->since_ns > d->opts.residency_ns)
			resid_hit(d, m, in, h, r->fd, r->since_ns);
	}
}

/* ---- the model's calls --------------------------------------------------------- */

void detect_record(struct model *m, struct model_inst *in, const struct et_hdr *h)
{
	struct detect *d = &m->det;
	struct det_inst *di;
	struct det_thread *t;

	if (!detect_any_on(&d->opts))
		return;
	if (!in) {
		for (size_t i = 0; i < m->ninst; i++) {
			struct det_inst *x = m->inst[i]->det;

			if (!x)
				continue;
			if (h->type == ET_EV_TASK_EXIT) {
				/* its wakeup will have no outcome; it waits no more */
				struct det_member *b = member(x, h->tid);

				if (b && b->outcome == OUT_PENDING)
					burst_outcome(d, m->inst[i], h->tid, OUT_EMPTY, h->ts_ns);
				thread_drop(x, h->tid);
			} else if (h->type == ET_EV_LOST) {
				x->nburst = x->npending = 0;
			}
		}
		return;
	}
	di = dinst(in);
	switch (h->type) {
	case ET_EV_CALLBACK: {
		const struct et_ev_callback *e = (const void *)h;

		di->cb = evidence(m, h, e->fd);
		if (m->callbacks_visible)
			resid_queued(in, e->fd, h->ts_ns);
		lt_new_data(di, e->data, h->ts_ns);
		break;
	}
	case ET_EV_CTL:
		ctl(d, m, in, (const void *)h);
		break;
	case ET_EV_WAIT_ENTER: {
		const struct et_ev_wait_enter *e = (const void *)h;

		t = thread_get(di, h->tid);
		t->in_wait = true;
		t->woken = false;
		t->maxevents = e->maxevents;
		t->timeout_ns = e->timeout_ns;
		t->enter_ns = h->ts_ns;
		break;
	}
	case ET_EV_WAKEUP:
		if (h->flags & ET_F_TIMER)
			break;	/* its timeout expired: nobody's event */
		t = thread_get(di, h->tid);
		t->woken = true;
		herd_wakeup(m, in, h);
		excl_wakeup(d, m, in, h);
		break;
	case ET_EV_SLEEP:
		/* woken and asleep again in the same wait: it found nothing */
		burst_outcome(d, in, h->tid, OUT_EMPTY, h->ts_ns);
		break;
	case ET_EV_WAIT_EXIT:
		wait_exit(d, m, in, (const void *)h);
		break;
	}
	if (di->nsus)
		suspects_follow(d, m, in, h);
	switch (h->type) {
	case ET_EV_WAIT_ENTER:
	case ET_EV_WAIT_EXIT:
	case ET_EV_SLEEP:
	case ET_EV_CALLBACK:
		residency(d, m, in, h);
		break;
	}
}

void detect_snapshot(struct model *m, struct model_inst *in, const struct et_snapshot *s)
{
	struct detect *d = &m->det;
	struct det_inst *di;
	struct et_hdr h = s->hdr;

	if (!in || !detect_any_on(&d->opts))
		return;
	di = dinst(in);
	excl_recount(d, in);
	h.type = ET_EV_SNAP_END;
	h.tid = 0;
	/* the iterator found these fds closed, or holding another file */
	for (__u32 i = 0; i < s->nstale; i++) {
		__u32 k = s->stale[i];

		if (k < s->nitems)
			stale(d, m, in, &h, s->items[k].fd, s->items[k].file, ET_EV_SNAP_END,
			      s->items[k].fd, NULL);
	}
	/* a suspect the walk still shows lived on; one it does not was gone */
	if (!(s->flags & (ET_F_ITEMS_MOVED | ET_F_ITEMS_CUT | ET_F_TRUNCATED))) {
		for (unsigned int i = 0; i < di->nsus;) {
			bool held = false;

			if (s->hdr.ts_ns <= di->sus[i].ev.ts_ns) {
				i++;	/* a walk from before the ctl: it cannot tell */
				continue;
			}
			for (__u32 k = 0; k < s->nitems && !held; k++)
				held = s->items[k].fd == di->sus[i].fd &&
				       s->items[k].file == di->sus[i].file;
			if (held)
				suspect_confirm(d, m, in, i, &h, di->sus[i].fd);
			else
				di->sus[i] = di->sus[--di->nsus];
		}
	}
	residency(d, m, in, &h);
}

void detect_changed(const struct detect *d, __u64 *seen,
		    void (*fn)(const struct finding *f, void *arg), void *arg)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].version > *seen)
			fn(&d->f[i], arg);
	*seen = d->version;
}

unsigned int detect_count(const struct detect *d, __u64 ep)
{
	unsigned int n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->f[i].ep == ep;
	return n;
}

/* ---- words ------------------------------------------------------------------ */

const char *detect_label(enum det_kind k)
{
	static const char *const n[DET_MAX] = {
		N_("thundering herd"), N_("EXCLUSIVE imbalance"), N_("level-triggered spin"),
		N_("maxevents saturation"), N_("busy polling"), N_("0-event wakeups"),
		N_("stale registration"), N_("long ready-list residency"),
	};

	return k < DET_MAX ? n[k] : "?";
}

const char *detect_hint(enum det_kind k)
{
	static const char *const n[DET_MAX] = {
		N_("add the fd with EPOLLEXCLUSIVE, or give each thread its own instance"),
		N_("give each thread its own listening socket (SO_REUSEPORT): an exclusive "
		   "wakeup stops at the first waiter the kernel finds, so the same one wins"),
		N_("use EPOLLET, or drain the fd (read until EAGAIN) before waiting again"),
		N_("raise maxevents, or drain the ready list in a loop before other work"),
		N_("block in epoll_wait with a timeout instead of polling with timeout 0"),
		N_("find who wakes the waiters for nothing: drop needless EPOLLOUT interest, "
		   "or use EPOLLET"),
		N_("EPOLL_CTL_DEL the fd before closing it (a dup or a fork keeps the file, "
		   "and with it the item)"),
		N_("the loop is busy elsewhere: shorten the work between waits, or move it "
		   "to other threads"),
	};

	return k < DET_MAX ? n[k] : "?";
}

static void list_fds(const struct finding *f, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < f->nfds && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%d", i ? "," : "", f->fds[i]);
}

static void list_tids(const struct finding *f, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < f->ntids && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%u", i ? "," : "", f->tids[i]);
}

void detect_measure(const struct finding *f, char *buf, size_t len)
{
	unsigned long long v = f->value;

	switch (f->kind) {
	case DET_HERD:
		snprintf(buf, len, _("%llu waiters woken for one event, 1 took it"), v);
		break;
	case DET_EXCL_IMBALANCE:
		snprintf(buf, len, _("one thread took %llu%% of the wakeups while others slept"),
			 v);
		break;
	case DET_LT_SPIN:
		if (f->unconfirmed)
			snprintf(buf, len, _("a level-triggered item delivered in %llu waits in a "
					     "row, unconfirmed (without ep_poll_callback, new data "
					     "each time looks the same)"), v);
		else
			snprintf(buf, len,
				 _("a level-triggered item delivered in %llu waits in a row"), v);
		break;
	case DET_MAXEVENTS_SAT:
		snprintf(buf, len, _("%llu%% of waits returned maxevents with events left"), v);
		break;
	case DET_BUSY_POLL:
		snprintf(buf, len, _("%llu timeout-0 waits/s, mostly empty"), v);
		break;
	case DET_ZERO_WAKEUPS:
		snprintf(buf, len, _("%llu wakeups/s returned 0 events"), v);
		break;
	case DET_STALE_REG:
		snprintf(buf, len, _("items whose fd is closed or holds another file: %llu"), v);
		break;
	case DET_LONG_RESIDENCY:
		snprintf(buf, len, _("an item waited %.1f ms on the ready list"), v / 1e6);
		break;
	default:
		snprintf(buf, len, "?");
	}
}

void detect_describe(const struct finding *f, char *buf, size_t len)
{
	char m[256], fds[DET_FDS * 12], tids[DET_TIDS * 12];

	detect_measure(f, m, sizeof(m));
	list_fds(f, fds, sizeof(fds));
	list_tids(f, tids, sizeof(tids));
	snprintf(buf, len, _("%s: pid %u (%s) epfd %d: %s; fds %s; threads %s; seen: %llu"),
		 _(detect_label(f->kind)), f->pid, f->comm[0] ? f->comm : "?", f->epfd, m,
		 fds[0] ? fds : "-", tids[0] ? tids : "-", (unsigned long long)f->count);
}
