// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics endpoint (--metrics): a model fed from the stream, rendered
 * as OpenMetrics 1.0 text on GET /metrics by a small non-blocking HTTP/1.1
 * server.  The server is one listening socket and at most MX_CLIENTS
 * connections, all in one epoll set whose fd the feeding loop polls
 * (et_service); a request is answered in one turn, its bytes written as
 * the socket takes them, so a slow or silent client never holds tracing.
 *
 * Cardinality: at most `max` instances have series of their own, given in
 * order of activity when a place is free and kept while the instance
 * lives (a series that came and went with each scrape would break
 * rate()); the others are summed into one series labelled epfd="other",
 * whose counters keep what left it, so they only grow.  An instance gone
 * from the model keeps its last figures MX_LINGER_NS, then its series
 * goes; sooner if a live instance needs its place.  docs/metrics.md says
 * all this for users.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include "clock.h"
#include "describe.h"
#include "fdkind.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "model.h"

#define MX_CLIENTS 8
#define MX_REQ_MAX 4096				/* a request's head, at most */
#define MX_CLIENT_NS (5ULL * 1000000000ULL)	/* a connection's whole life, at most */
#define MX_SYNC_NS (1000000000ULL)		/* bookkeeping between scrapes */
/* a vanished instance's series stays this long: longer than common scrape intervals */
#define MX_LINGER_NS (60ULL * 1000000000ULL)
#define MX_HOOKS 16
#define MX_TARGETS 65

static const char content_type[] = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/* the figures of one series: an instance, or the sum folded as "other" */
struct mx_vals {
	/* gauges: now (0 once the instance is gone) */
	__u64 watched, ready, asleep;
	/* counters */
	struct model_counters c;
	__u64 full, timed, timeouts, drift;
	struct anat_hist h[ANAT_MAX];
	__u64 findings[DET_MAX];
};

struct mx_entry {
	__u64 ep, created_ns;
	__u32 pid;
	__s32 epfd;
	char comm[16];
	bool own;		/* a series of its own, else folded into "other" */
	bool folded;		/* counted in "other" by a sync already */
	/* its series went early (a live instance needed the place) while the
	 * model still holds it, closed: shown nowhere until it leaves */
	bool evicted;
	bool seen;
	__u64 serial;		/* order of first sight */
	__u64 closed_ns;	/* the instance's (model_inst), 0: open */
	__u64 gone_ns;		/* left the model (records' clock), 0: in it */
	struct mx_vals last;	/* as of the last sync */
};

struct mx_client {
	int fd;			/* -1: free */
	char in[MX_REQ_MAX];
	size_t nin;
	char *out;
	size_t nout, pos;
	/* answered before its request was all read: the rest is read and
	 * dropped after the answer, or closing would reset the connection
	 * and lose the answer (a "lingering close") */
	bool drain;
	__u64 deadline;		/* CLOCK_MONOTONIC */
};

struct metrics {
	struct et_sink sink;
	struct et_service svc;
	int lfd, efd;
	bool paused;		/* every place taken: the listener not polled */
	struct mx_client cl[MX_CLIENTS];
	unsigned int max;
	struct model m;
	struct et_visible vis;
	bool replay;
	struct {
		char hook[24], using[16], fidelity[12];
	} hooks[MX_HOOKS];
	int nhooks;
	struct {
		__u32 pid;
		char comm[16];
	} targets[MX_TARGETS];
	int ntargets;
	struct mx_entry *e;
	size_t ne, cap;
	struct mx_vals other_base;	/* what left "other": vanished, or given its own series */
	bool other_shown;		/* once shown, "other" stays (its counters) */
	__u64 drift_gone;		/* drift of the instances whose series went */
	__u64 next_sync;		/* records' clock */
	__u64 serial;
	char *buf;
	size_t len, bufcap;
	bool oom;
};

/* ---- the address ---------------------------------------------------------- */

int metrics_parse_addr(const char *arg, struct metrics_addr *a, char *err, size_t errlen)
{
	char host[64] = "", *end;
	const char *port = arg, *colon;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
	bool ipv6 = false;
	long p;

	memset(a, 0, sizeof(*a));
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':' || (size_t)(close - arg - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - arg - 1), arg + 1);
		port = close + 2;
		ipv6 = true;
	} else if ((colon = strrchr(arg, ':'))) {
		if ((size_t)(colon - arg) >= sizeof(host) || memchr(arg, ':', colon - arg))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 1 || p > 65535 || port[0] == '+' || port[0] == '-')
		goto bad;
	if (!host[0] || !strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (!ipv6 && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(p);
		a->len = sizeof(*v4);
		a->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
		snprintf(a->text, sizeof(a->text), "%s:%ld", host, p);
		return 0;
	}
	if (ipv6 && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(p);
		a->len = sizeof(*v6);
		a->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
		snprintf(a->text, sizeof(a->text), "[%s]:%ld", host, p);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 _("invalid --metrics '%s': use PORT, :PORT, ADDRESS:PORT or [ADDRESS6]:PORT, "
		   "a numeric address and a port from 1 to 65535"), arg);
	return -1;
}

/* ---- the figures ---------------------------------------------------------- */

static void vals_of(const struct metrics *mx, const struct model_inst *in, struct mx_vals *v)
{
	memset(v, 0, sizeof(*v));
	v->watched = in->nitems;
	v->ready = in->nready;
	v->asleep = model_asleep(in);
	v->c = in->cnt;
	v->full = in->anat.full;
	v->timed = in->anat.timed;
	v->timeouts = in->anat.timeouts;
	v->drift = in->drift;
	memcpy(v->h, in->anat.h, sizeof(v->h));
	for (size_t i = 0; i < mx->m.det.n; i++) {
		const struct finding *f = &mx->m.det.f[i];

		if (f->ep == in->in.ep && f->pid == in->in.owner && f->kind < DET_MAX)
			v->findings[f->kind] += f->count;
	}
}

/* dst += src: the counters and histograms; the gauges too if gauges */
static void vals_add(struct mx_vals *dst, const struct mx_vals *src, bool gauges)
{
	if (gauges) {
		dst->watched += src->watched;
		dst->ready += src->ready;
		dst->asleep += src->asleep;
	}
	dst->c.callbacks += src->c.callbacks;
	dst->c.wakeups += src->c.wakeups;
	dst->c.waits += src->c.waits;
	dst->c.events += src->c.events;
	dst->c.zero_wakeups += src->c.zero_wakeups;
	dst->c.ctl += src->c.ctl;
	dst->full += src->full;
	dst->timed += src->timed;
	dst->timeouts += src->timeouts;
	dst->drift += src->drift;
	for (int k = 0; k < ANAT_MAX; k++) {
		struct anat_hist *d = &dst->h[k];
		const struct anat_hist *s = &src->h[k];

		for (int b = 0; b < ANAT_BUCKETS; b++)
			d->b[b] += s->b[b];
		d->count += s->count;
		d->sum += s->sum;
		d->max = d->max > s->max ? d->max : s->max;
	}
	for (int k = 0; k < DET_MAX; k++)
		dst->findings[k] += src->findings[k];
}

static __u64 activity(const struct mx_vals *v)
{
	return v->c.callbacks + v->c.waits + v->c.events + v->c.ctl;
}

static void comm_of(const struct metrics *mx, __u32 pid, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	if (mx->replay) {
		for (int i = 0; i < mx->ntargets; i++)
			if (mx->targets[i].pid == pid)
				snprintf(buf, len, "%s", mx->targets[i].comm);
		return;
	}
	proc_comm(pid, pid, buf, len);
}

static struct mx_entry *entry_find(struct metrics *mx, const struct model_inst *in)
{
	for (size_t i = 0; i < mx->ne; i++)
		if (mx->e[i].ep == in->in.ep && mx->e[i].created_ns == in->created_ns &&
		    !mx->e[i].gone_ns)
			return &mx->e[i];
	return NULL;
}

/* when an own entry's instance ended (closed or gone), 0: it lives */
static __u64 ended_ns(const struct mx_entry *e)
{
	return e->gone_ns ? e->gone_ns : e->closed_ns;
}

static void entry_drop(struct metrics *mx, size_t i)
{
	mx->drift_gone += mx->e[i].last.drift;
	mx->e[i] = mx->e[--mx->ne];
}

/* the later of two instances with the same labels: created later, else seen later */
static bool later(const struct mx_entry *a, const struct mx_entry *b)
{
	return a->created_ns != b->created_ns ? a->created_ns > b->created_ns :
						 a->serial > b->serial;
}

/*
 * Labels must name one series: a process cannot hold two open instances at
 * one fd, so of two entries with the same pid and epfd the earlier has
 * ended, even if no record said so yet (an exec closes its fds without
 * close(2); a closed fd number is taken again).  It goes, and the later
 * one takes its labels (for Prometheus, a counter reset).  "Later" is by
 * creation first: a picture of an instance the model made again from a
 * snapshot after its close (created 0: "before tracing") does not push
 * out the instance it shows.  Returns how many own places it freed.
 */
static size_t supersede(struct metrics *mx)
{
	size_t freed = 0;

	for (size_t i = 0; i < mx->ne; i++) {
		struct mx_entry *older = &mx->e[i];
		bool newer = false;

		if (older->evicted || older->epfd < 0)
			continue;
		for (size_t j = 0; j < mx->ne && !newer; j++)
			newer = j != i && !mx->e[j].evicted && !mx->e[j].gone_ns &&
				mx->e[j].pid == older->pid && mx->e[j].epfd == older->epfd &&
				later(&mx->e[j], older);
		if (!newer)
			continue;
		freed += older->own;
		if (!older->own && older->folded)
			/* leaving "other": its count stays there */
			vals_add(&mx->other_base, &older->last, false);
		if (older->gone_ns) {
			entry_drop(mx, i--);
			continue;
		}
		older->own = false;
		older->evicted = true;
	}
	return freed;
}

/*
 * Bring the entries in line with the model: figures taken, instances
 * gone from it marked (after model_expire: the model's own linger), the
 * entries past MX_LINGER_NS dropped, free places given by activity.
 */
static void mx_sync(struct metrics *mx)
{
	__u64 now = mx->m.now_ns;
	size_t own = 0, i;

	for (i = 0; i < mx->ne; i++)
		mx->e[i].seen = false;
	for (i = 0; i < mx->m.ninst; i++) {
		const struct model_inst *in = mx->m.inst[i];
		struct mx_entry *e = entry_find(mx, in);

		if (!e) {
			if (mx->ne == mx->cap) {
				size_t cap = mx->cap ? mx->cap * 2 : 16;
				struct mx_entry *n = realloc(mx->e, cap * sizeof(*n));

				if (!n) {
					mx->oom = true;
					continue;
				}
				mx->e = n;
				mx->cap = cap;
			}
			e = &mx->e[mx->ne++];
			*e = (struct mx_entry){ .ep = in->in.ep, .created_ns = in->created_ns,
						.pid = in->in.owner, .serial = ++mx->serial };
			comm_of(mx, in->in.owner, e->comm, sizeof(e->comm));
		}
		e->epfd = in->in.epfd;
		e->closed_ns = in->closed_ns;
		e->seen = true;
		vals_of(mx, in, &e->last);
	}
	model_expire(&mx->m);
	for (i = 0; i < mx->ne; i++)
		mx->e[i].seen = false;
	for (i = 0; i < mx->m.ninst; i++) {
		struct mx_entry *e = entry_find(mx, mx->m.inst[i]);

		if (e)
			e->seen = true;
	}
	for (i = 0; i < mx->ne;) {
		struct mx_entry *e = &mx->e[i];

		if (!e->seen && !e->gone_ns) {
			/* gone: its last figures stay, its gauges are 0 */
			e->gone_ns = now ? now : 1;
			e->last.watched = e->last.ready = e->last.asleep = 0;
			if (e->evicted) {
				entry_drop(mx, i);
				continue;
			}
			if (!e->own) {
				/* nothing to linger for: "other" keeps its counts */
				vals_add(&mx->other_base, &e->last, false);
				entry_drop(mx, i);
				continue;
			}
		}
		if (e->gone_ns && now >= e->gone_ns + MX_LINGER_NS) {
			entry_drop(mx, i);
			continue;
		}
		own += e->own;
		i++;
	}
	own -= supersede(mx);
	/* free places: the most active of the folded first */
	for (;;) {
		struct mx_entry *best = NULL, *old = NULL;

		for (i = 0; i < mx->ne; i++)
			if (!mx->e[i].own && !mx->e[i].evicted && !mx->e[i].gone_ns &&
			    !mx->e[i].closed_ns &&
			    (!best || activity(&mx->e[i].last) > activity(&best->last)))
				best = &mx->e[i];
		if (!best)
			break;
		if (own >= mx->max) {
			/*
			 * A live instance before an ended one's last figures:
			 * the series of the one that ended first goes now (the
			 * bound holds).  A closed one still in the model is
			 * marked, so that it comes back neither on its own nor
			 * in "other".
			 */
			for (i = 0; i < mx->ne; i++)
				if (mx->e[i].own && ended_ns(&mx->e[i]) &&
				    (!old || ended_ns(&mx->e[i]) < ended_ns(old)))
					old = &mx->e[i];
			if (!old)
				break;
			if (old->gone_ns) {
				if (best == &mx->e[mx->ne - 1])
					best = old;
				entry_drop(mx, old - mx->e);
			} else {
				old->own = false;
				old->evicted = true;
			}
			own--;
		}
		/* what it counted while folded stays in "other" (counters only grow);
		 * an instance seen for the first time was never folded */
		if (best->folded)
			vals_add(&mx->other_base, &best->last, false);
		best->own = true;
		own++;
	}
	for (i = 0; i < mx->ne; i++)
		if (!mx->e[i].own && !mx->e[i].evicted)
			mx->other_shown = mx->e[i].folded = true;
}

/* ---- the text --------------------------------------------------------------- */

static void __attribute__((format(printf, 2, 3))) put(struct metrics *mx, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(mx->buf + mx->len, mx->bufcap - mx->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (mx->len + n < mx->bufcap) {
			mx->len += n;
			return;
		}
		size_t cap = (mx->bufcap ? mx->bufcap : 8192) * 2;
		char *b;

		while (cap <= mx->len + n)
			cap *= 2;
		b = realloc(mx->buf, cap);
		if (!b) {
			mx->oom = true;
			return;
		}
		mx->buf = b;
		mx->bufcap = cap;
	}
}

/* a label value: backslash, double quote and newline escaped (OpenMetrics) */
static void put_esc(struct metrics *mx, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			put(mx, "\\%c", *s);
		else if (*s == '\n')
			put(mx, "\\n");
		else
			put(mx, "%c", *s);
	}
}

/* the series' labels, without braces: own instance, or the folded rest (e NULL) */
static void put_labels(struct metrics *mx, const struct mx_entry *e)
{
	if (!e) {
		put(mx, "epfd=\"other\"");
		return;
	}
	put(mx, "pid=\"%u\",comm=\"", e->pid);
	put_esc(mx, e->comm);
	if (e->epfd >= 0)
		put(mx, "\",epfd=\"%d\"", e->epfd);
	else	/* one series each: the n-th instance epolltrace saw */
		put(mx, "\",epfd=\"unknown-%llu\"", (unsigned long long)e->serial);
}

static void family(struct metrics *mx, const char *name, const char *type, const char *unit,
		   const char *help)
{
	put(mx, "# TYPE %s %s\n", name, type);
	if (unit)
		put(mx, "# UNIT %s %s\n", name, unit);
	/* HELP is for machines and people reading a scrape: English, as the names */
	put(mx, "# HELP %s %s\n", name, help);
}

/* the series: own entries, then "other" (folded) */
struct mx_series {
	const struct mx_entry *e;	/* NULL: other */
	const struct mx_vals *v;
};

typedef __u64 (*mx_get)(const struct mx_vals *v);

static void put_scalar(struct metrics *mx, const char *name, const char *suffix,
		       const struct mx_series *s, size_t n, mx_get get)
{
	for (size_t i = 0; i < n; i++) {
		put(mx, "%s%s{", name, suffix);
		put_labels(mx, s[i].e);
		put(mx, "} %llu\n", (unsigned long long)get(s[i].v));
	}
}

#define GETTER(fn, expr) \
	static __u64 fn(const struct mx_vals *v) { return (expr); }
GETTER(g_watched, v->watched)
GETTER(g_ready, v->ready)
GETTER(g_asleep, v->asleep)
GETTER(g_callbacks, v->c.callbacks)
GETTER(g_wakeups, v->c.wakeups)
GETTER(g_waits, v->c.waits)
GETTER(g_events, v->c.events)
GETTER(g_zero, v->c.zero_wakeups)
GETTER(g_ctl, v->c.ctl)
GETTER(g_full, v->full)
GETTER(g_timeouts, v->timeouts)

/*
 * The scalar families: name (without _total), type, visible, help.  What
 * the plan cannot see is absent, never 0 (as --summary prints "-").
 */
struct mx_scalar {
	const char *name, *type, *help;
	mx_get get;
	int needs;		/* 0 nothing, 1 callbacks, 2 sleeps */
};

static const struct mx_scalar scalars[] = {
	{ "epolltrace_watched_fds", "gauge", "Items in the interest set (the rb-tree)",
	  g_watched, 0 },
	{ "epolltrace_ready_fds", "gauge",
	  "Items on the ready list (sampled by snapshots where callbacks are not seen)",
	  g_ready, 0 },
	{ "epolltrace_waiters_asleep", "gauge", "Threads asleep on the wait queue in epoll_wait",
	  g_asleep, 0 },
	{ "epolltrace_callbacks", "counter", "ep_poll_callback runs: an fd became ready",
	  g_callbacks, 1 },
	{ "epolltrace_wakeups", "counter", "Sleeping waiters woken", g_wakeups, 2 },
	{ "epolltrace_waits", "counter", "epoll_wait calls that returned", g_waits, 0 },
	{ "epolltrace_events", "counter", "Events delivered to user space", g_events, 0 },
	{ "epolltrace_zero_event_wakeups", "counter", "Waits that slept and returned 0 events",
	  g_zero, 2 },
	{ "epolltrace_ctl", "counter", "epoll_ctl calls", g_ctl, 0 },
	{ "epolltrace_full_waits", "counter", "Waits that returned exactly maxevents",
	  g_full, 0 },
	{ "epolltrace_timeouts_expired", "counter",
	  "Waits with a finite timeout that returned 0: the timeout expired", g_timeouts, 0 },
};

/* a histogram family: log2 buckets cut to a fixed set of bounds */
static void put_hist(struct metrics *mx, enum anat_kind k, const char *name,
		     const struct mx_series *s, size_t n)
{
	bool ns = anatomy_is_ns(k);
	/* bucket b holds values < 2^b (model_bucket): bounds 2^b - 1, exact.
	 * ns: 1 us to 68.7 s by factors of 4; counts: 0 to 1023 by 2 */
	int lo = ns ? 10 : 0, hi = ns ? 36 : 10, stepb = ns ? 2 : 1;

	for (size_t i = 0; i < n; i++) {
		const struct anat_hist *h = &s[i].v->h[k];
		__u64 cum = 0;
		int b = 0;

		for (int top = lo; top <= hi; top += stepb) {
			__u64 bound = (1ULL << top) - 1;

			for (; b <= top; b++)
				cum += h->b[b];
			put(mx, "%s_bucket{", name);
			put_labels(mx, s[i].e);
			if (ns) {
				char frac[16];
				int l;

				snprintf(frac, sizeof(frac), "%09llu",
					 (unsigned long long)(bound % 1000000000ULL));
				for (l = 8; l > 0 && frac[l] == '0'; l--)
					frac[l] = 0;
				put(mx, ",le=\"%llu.%s\"} %llu\n",
				    (unsigned long long)(bound / 1000000000ULL), frac,
				    (unsigned long long)cum);
			} else {
				put(mx, ",le=\"%llu.0\"} %llu\n", (unsigned long long)bound,
				    (unsigned long long)cum);
			}
		}
		put(mx, "%s_bucket{", name);
		put_labels(mx, s[i].e);
		put(mx, ",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
		put(mx, "%s_count{", name);
		put_labels(mx, s[i].e);
		put(mx, "} %llu\n", (unsigned long long)h->count);
		put(mx, "%s_sum{", name);
		put_labels(mx, s[i].e);
		if (ns)
			put(mx, "} %llu.%09llu\n", (unsigned long long)(h->sum / 1000000000ULL),
			    (unsigned long long)(h->sum % 1000000000ULL));
		else
			put(mx, "} %llu\n", (unsigned long long)h->sum);
	}
}

/*
 * A histogram's family name: epolltrace_ and its --json-state key, "_ns"
 * said as "_seconds" (its unit), so that a kind added to the anatomy is
 * served with no change here.
 */
static void hist_name(enum anat_kind k, char *buf, size_t len)
{
	const char *key = anatomy_key(k);
	size_t n = strlen(key);

	if (anatomy_is_ns(k) && n > 3 && !strcmp(key + n - 3, "_ns"))
		snprintf(buf, len, "epolltrace_%.*s_seconds", (int)(n - 3), key);
	else
		snprintf(buf, len, "epolltrace_%s", key);
}

static void render(struct metrics *mx)
{
	struct anat_vis av = { .callbacks = mx->vis.callbacks, .sleeps = mx->vis.sleeps,
			       .transfers = mx->vis.transfers };
	struct mx_series *s;
	struct mx_vals other;
	size_t n = 0, folded = 0, i;
	__u64 drift;
	int fallbacks = 0;

	mx->len = 0;
	/* first: the sync may add entries */
	mx_sync(mx);
	s = calloc(mx->ne + 1, sizeof(*s));
	if (!s) {
		mx->oom = true;
		return;
	}
	other = mx->other_base;
	drift = mx->drift_gone;
	for (i = 0; i < mx->ne; i++) {
		drift += mx->e[i].last.drift;
		if (mx->e[i].evicted)
			continue;
		if (mx->e[i].own) {
			s[n++] = (struct mx_series){ .e = &mx->e[i], .v = &mx->e[i].last };
		} else {
			vals_add(&other, &mx->e[i].last, true);
			folded++;
		}
	}
	if (mx->other_shown)
		s[n++] = (struct mx_series){ .e = NULL, .v = &other };

	/* the tracer */
	family(mx, "epolltrace_records", "counter", NULL, "Records applied to the model");
	put(mx, "epolltrace_records_total %llu\n", (unsigned long long)mx->m.records);
	family(mx, "epolltrace_lost_records", "counter", NULL,
	       "Records lost (the ring buffer was full)");
	put(mx, "epolltrace_lost_records_total %llu\n", (unsigned long long)mx->m.lost);
	family(mx, "epolltrace_snapshot_drift", "counter", NULL,
	       "Corrections snapshots made to the event-derived state");
	put(mx, "epolltrace_snapshot_drift_total %llu\n", (unsigned long long)drift);
	family(mx, "epolltrace_attach", "info", NULL, "The rung each logical hook attached with");
	for (int h = 0; h < mx->nhooks; h++) {
		put(mx, "epolltrace_attach_info{hook=\"");
		put_esc(mx, mx->hooks[h].hook);
		put(mx, "\",using=\"");
		put_esc(mx, mx->hooks[h].using);
		put(mx, "\",fidelity=\"");
		put_esc(mx, mx->hooks[h].fidelity);
		put(mx, "\"} 1\n");
		fallbacks += strcmp(mx->hooks[h].fidelity, "exact") != 0;
	}
	family(mx, "epolltrace_attach_fallbacks", "gauge", NULL,
	       "Hooks seen at less than exact fidelity in this plan");
	put(mx, "epolltrace_attach_fallbacks %d\n", fallbacks);
	family(mx, "epolltrace_instances", "gauge", NULL,
	       "Epoll instances with series, own or folded into epfd=\"other\"");
	put(mx, "epolltrace_instances %zu\n", n - mx->other_shown + folded);
	family(mx, "epolltrace_instances_folded", "gauge", NULL,
	       "Instances folded into epfd=\"other\" (over --metrics-max)");
	put(mx, "epolltrace_instances_folded %zu\n", folded);

	/* per instance */
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		const struct mx_scalar *sc = &scalars[i];
		bool counter = !strcmp(sc->type, "counter");

		if ((sc->needs == 1 && !mx->vis.callbacks) || (sc->needs == 2 && !mx->vis.sleeps))
			continue;
		family(mx, sc->name, sc->type, NULL, sc->help);
		put_scalar(mx, sc->name, counter ? "_total" : "", s, n, sc->get);
	}
	for (int k = 0; k < ANAT_MAX; k++) {
		char name[96], help[160];

		if (!strcmp(anatomy_fidelity(k, &av), "none"))
			continue;
		hist_name(k, name, sizeof(name));
		/* the label's msgid: HELP is English, as the names are */
		snprintf(help, sizeof(help), "Latency anatomy: %s (docs/diagnosis.md)",
			 anatomy_label(k));
		family(mx, name, "histogram", anatomy_is_ns(k) ? "seconds" : NULL, help);
		put_hist(mx, k, name, s, n);
	}
	family(mx, "epolltrace_findings", "counter", NULL,
	       "Findings of each detector (docs/diagnosis.md), times seen");
	for (i = 0; i < n; i++) {
		for (int k = 0; k < DET_MAX; k++) {
			put(mx, "epolltrace_findings_total{");
			put_labels(mx, s[i].e);
			put(mx, ",detector=\"");
			put_esc(mx, detect_key(k));
			put(mx, "\"} %llu\n", (unsigned long long)s[i].v->findings[k]);
		}
	}
	put(mx, "# EOF\n");
	free(s);
}

/* ---- the server ------------------------------------------------------------- */

/*
 * Every place taken: the listener is left out of the poll until one frees
 * (client_close), so that the next connections wait in its backlog (16)
 * instead of keeping the loop awake; a place frees at the latest when a
 * connection's MX_CLIENT_NS end.
 */
static void listen_on(struct metrics *mx, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = 0 };

	if (mx->paused == !on)
		return;
	epoll_ctl(mx->efd, EPOLL_CTL_MOD, mx->lfd, &ev);
	mx->paused = !on;
}

static void client_close(struct metrics *mx, struct mx_client *c)
{
	epoll_ctl(mx->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	*c = (struct mx_client){ .fd = -1 };
	listen_on(mx, true);
}

static void client_write(struct metrics *mx, struct mx_client *c)
{
	while (c->pos < c->nout) {
		ssize_t w = send(c->fd, c->out + c->pos, c->nout - c->pos, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;	/* EPOLLOUT brings us back */
		if (w <= 0) {
			client_close(mx, c);
			return;
		}
		c->pos += w;
	}
	if (c->drain) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (__u32)(c - mx->cl) + 1 };

		shutdown(c->fd, SHUT_WR);
		epoll_ctl(mx->efd, EPOLL_CTL_MOD, c->fd, &ev);
		free(c->out);
		c->out = NULL;
		c->nout = c->pos = 0;
		return;
	}
	client_close(mx, c);	/* Connection: close */
}

static void respond(struct metrics *mx, struct mx_client *c, int code, const char *reason,
		    const char *type, const char *extra, const char *body, size_t blen, bool head)
{
	char hdr[512];
	int hl = snprintf(hdr, sizeof(hdr),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			  "Connection: close\r\n\r\n", code, reason, type, blen, extra);
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (__u32)(c - mx->cl) + 1 };

	c->out = malloc(hl + (head ? 0 : blen));
	if (!c->out) {
		client_close(mx, c);
		return;
	}
	memcpy(c->out, hdr, hl);
	if (!head)
		memcpy(c->out + hl, body, blen);
	c->nout = hl + (head ? 0 : blen);
	c->pos = 0;
	epoll_ctl(mx->efd, EPOLL_CTL_MOD, c->fd, &ev);
	client_write(mx, c);
}

static void text_response(struct metrics *mx, struct mx_client *c, int code, const char *reason,
			  const char *extra, bool head)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", code, reason);

	respond(mx, c, code, reason, "text/plain; charset=utf-8", extra, body, n, head);
}

/* the request's head is complete (or too long): answer it */
static void request(struct metrics *mx, struct mx_client *c, bool too_long)
{
	char method[16] = "", path[1024] = "", version[16] = "";
	bool head;
	char *q;

	if (too_long) {
		c->drain = true;
		text_response(mx, c, 431, "Request Header Fields Too Large", "", false);
		return;
	}
	c->in[c->nin] = 0;
	if (sscanf(c->in, "%15s %1023s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		text_response(mx, c, 400, "Bad Request", "", false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		text_response(mx, c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", false);
		return;
	}
	q = strchr(path, '?');
	if (q)
		*q = 0;
	if (strcmp(path, "/metrics")) {
		text_response(mx, c, 404, "Not Found", "", head);
		return;
	}
	render(mx);
	if (mx->oom) {
		mx->oom = false;
		text_response(mx, c, 503, "Service Unavailable", "", head);
		return;
	}
	respond(mx, c, 200, "OK", content_type, "", mx->buf, mx->len, head);
}

static void client_read(struct metrics *mx, struct mx_client *c)
{
	while (c->drain) {
		char sink[4096];
		ssize_t r = recv(c->fd, sink, sizeof(sink), 0);

		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_close(mx, c);	/* the client's end, or an error */
		return;
	}
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->nin, MX_REQ_MAX - 1 - c->nin, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			client_close(mx, c);
			return;
		}
		c->nin += r;
		c->in[c->nin] = 0;
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n")) {
			request(mx, c, false);
			return;
		}
		if (c->nin >= MX_REQ_MAX - 1) {
			request(mx, c, true);
			return;
		}
	}
}

static void accept_all(struct metrics *mx)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct mx_client *c = NULL;
		int fd;

		for (int i = 0; i < MX_CLIENTS && !c; i++)
			if (mx->cl[i].fd < 0)
				c = &mx->cl[i];
		if (!c) {
			listen_on(mx, false);
			return;
		}
		fd = accept4(mx->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;	/* EAGAIN, or a connection reset before we took it */
		*c = (struct mx_client){ .fd = fd, .deadline = mono_ns() + MX_CLIENT_NS };
		ev.data.u32 = (__u32)(c - mx->cl) + 1;
		if (epoll_ctl(mx->efd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->fd = -1;
		}
	}
}

static void mx_serve(void *ctx)
{
	struct metrics *mx = ctx;
	struct epoll_event ev[MX_CLIENTS + 1];
	int n = epoll_wait(mx->efd, ev, MX_CLIENTS + 1, 0);
	__u64 now;

	for (int i = 0; i < n; i++) {
		__u32 id = ev[i].data.u32;
		struct mx_client *c;

		if (!id) {
			accept_all(mx);
			continue;
		}
		c = &mx->cl[id - 1];
		if (c->fd < 0)
			continue;
		if (ev[i].events & (EPOLLERR | EPOLLHUP) && !(ev[i].events & EPOLLIN))
			client_close(mx, c);
		else if (c->out)
			client_write(mx, c);
		else
			client_read(mx, c);
	}
	now = mono_ns();
	for (int i = 0; i < MX_CLIENTS; i++)
		if (mx->cl[i].fd >= 0 && now >= mx->cl[i].deadline)
			client_close(mx, &mx->cl[i]);
}

/* ---- the sink --------------------------------------------------------------- */

static void m_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	(void)size;
	model_apply(&((struct metrics *)s)->m, h);
}

static void m_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	model_apply_snapshot(&((struct metrics *)s)->m, snap);
}

static void m_flush(struct et_sink *s)
{
	(void)s;
}

static void m_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct metrics *mx = (struct metrics *)s;

	mx->m.callbacks_visible = info->callbacks_visible;
	et_session_visible(info, &mx->vis);
	mx->replay = info->replay;
	mx->nhooks = 0;
	for (int i = 0; i < info->nhooks && mx->nhooks < MX_HOOKS; i++, mx->nhooks++) {
		snprintf(mx->hooks[i].hook, sizeof(mx->hooks[i].hook), "%s", info->hooks[i].hook);
		snprintf(mx->hooks[i].using, sizeof(mx->hooks[i].using), "%s",
			 info->hooks[i].using);
		snprintf(mx->hooks[i].fidelity, sizeof(mx->hooks[i].fidelity), "%s",
			 info->hooks[i].fidelity);
	}
	for (int i = 0; info->comms && i < info->npids && mx->ntargets < MX_TARGETS; i++) {
		mx->targets[mx->ntargets].pid = info->pids[i];
		snprintf(mx->targets[mx->ntargets++].comm, sizeof(mx->targets[0].comm), "%s",
			 info->comms[i]);
	}
}

static int m_tick(struct et_sink *s, __u64 now)
{
	struct metrics *mx = (struct metrics *)s;

	(void)now;
	/* the records' clock: a replay expires as the live session did */
	if (mx->m.now_ns >= mx->next_sync) {
		mx_sync(mx);
		mx->next_sync = mx->m.now_ns + MX_SYNC_NS;
	}
	return 0;
}

static void m_end(struct et_sink *s, __u64 now)
{
	(void)now;
	mx_sync((struct metrics *)s);
}

struct et_sink *metrics_new(const struct metrics_addr *a, unsigned int max)
{
	struct metrics *mx = calloc(1, sizeof(*mx));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };
	int one = 1;

	if (!mx) {
		et_err("%s", _("out of memory"));
		return NULL;
	}
	mx->lfd = mx->efd = -1;
	for (int i = 0; i < MX_CLIENTS; i++)
		mx->cl[i].fd = -1;
	mx->lfd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (mx->lfd < 0 || setsockopt(mx->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(mx->lfd, (const struct sockaddr *)&a->ss, a->len) || listen(mx->lfd, 16)) {
		et_err(_("--metrics %s: cannot listen: %s"), a->text, strerror(errno));
		goto err;
	}
	mx->efd = epoll_create1(EPOLL_CLOEXEC);
	if (mx->efd < 0 || epoll_ctl(mx->efd, EPOLL_CTL_ADD, mx->lfd, &ev)) {
		et_err(_("--metrics %s: %s"), a->text, strerror(errno));
		goto err;
	}
	if (!a->loopback)
		et_warn(_("--metrics %s serves beyond this machine: whoever reaches it reads the "
			  "traced processes' names and activity"), a->text);
	mx->max = max;
	mx->bufcap = 64 * 1024;
	mx->buf = malloc(mx->bufcap);
	if (!mx->buf) {
		et_err("%s", _("out of memory"));
		goto err;
	}
	model_init(&mx->m, false);
	mx->svc = (struct et_service){ .fd = mx->efd, .ctx = mx, .serve = mx_serve };
	mx->sink = (struct et_sink){ .record = m_record, .snapshot = m_snapshot, .flush = m_flush,
				     .begin = m_begin, .tick = m_tick, .end = m_end };
	return &mx->sink;
err:
	if (mx->lfd >= 0)
		close(mx->lfd);
	if (mx->efd >= 0)
		close(mx->efd);
	free(mx->buf);
	free(mx);
	return NULL;
}

const struct et_service *metrics_service(struct et_sink *s)
{
	return s ? &((struct metrics *)s)->svc : NULL;
}

static volatile sig_atomic_t linger_stop;

static void on_linger_signal(int sig)
{
	(void)sig;
	linger_stop = 1;
}

void metrics_linger(struct et_sink *s)
{
	struct metrics *mx = (struct metrics *)s;
	struct sigaction sa = { .sa_handler = on_linger_signal }, old[3];
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	while (!linger_stop) {
		struct pollfd p = { .fd = mx->efd, .events = POLLIN };

		/* 1 s at most: the clients' timeouts */
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		mx_serve(mx);
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
}

void metrics_free(struct et_sink *s)
{
	struct metrics *mx = (struct metrics *)s;

	if (!mx)
		return;
	for (int i = 0; i < MX_CLIENTS; i++)
		if (mx->cl[i].fd >= 0)
			client_close(mx, &mx->cl[i]);
	close(mx->lfd);
	close(mx->efd);
	model_free(&mx->m);
	free(mx->e);
	free(mx->buf);
	free(mx);
}
