// SPDX-License-Identifier: GPL-2.0
/*
 * Chrome Trace Event Format export (what the Perfetto UI and
 * chrome://tracing open): a sink fed by replay_feed().
 *
 *  - one track per thread (pid/tid of the records): each epoll wait is a
 *    span "epoll_wait", with nested spans "asleep" (sched_switch out to
 *    the wakeup) and "woken" (the wakeup to the wait's return);
 *  - ep_poll_callback as instant events on the waker's thread, epoll_ctl
 *    and implicit removals as instants on the caller's;
 *  - per instance a counter "epfd N (pid P)" with series watched and
 *    ready, from the same model the views use, written when they change.
 * Times are microseconds since the recording's start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "describe.h"
#include "export.h"
#include "json.h"
#include "model.h"

#define MAX_THREADS 16384
#define MAX_COUNTERS 4096

struct thr {
	__u32 tid, pid;
	bool named, in_wait, asleep, woken;
	__u64 wait_ts, sleep_ts, wake_ts;
	__s32 epfd;
	__u32 owner;
};

struct ctr {
	__u64 ep, created_ns;
	size_t watched, ready;
};

struct chrome {
	struct et_sink sink;
	FILE *f;
	__u64 t0;
	bool first;
	struct model m;
	struct thr *thr;	/* open addressing by tid */
	size_t nthr;
	struct ctr ctr[MAX_COUNTERS];
	size_t nctr;
	__u64 last_ts;
};

static void put_str(FILE *f, const char *s, size_t n)
{
	struct json_writer w;

	json_init(&w, f);
	json_strn(&w, s, strnlen(s, n));
}

/* start of one event object, with its comma */
static void ev_begin(struct chrome *c, const char *ph, const char *name, __u32 pid, __u32 tid,
		     __u64 ts)
{
	__s64 rel = (__s64)(ts - c->t0);

	if (rel < 0)
		rel = 0;	/* nothing precedes the start; a skewed clock reading */

	fprintf(c->f, "%s\n{\"ph\":\"%s\",\"name\":", c->first ? "" : ",", ph);
	put_str(c->f, name, 128);
	fprintf(c->f, ",\"pid\":%u,\"tid\":%u,\"ts\":%lld.%03lld", pid, tid,
		(long long)(rel / 1000), (long long)(rel % 1000));
	c->first = false;
}

static struct thr *thr_get(struct chrome *c, __u32 pid, __u32 tid)
{
	size_t h = (tid * 2654435761u) % MAX_THREADS;

	for (size_t i = 0; i < MAX_THREADS; i++, h = (h + 1) % MAX_THREADS) {
		struct thr *t = &c->thr[h];

		if (t->tid == tid && t->named)
			return t;
		if (!t->named) {
			if (c->nthr == MAX_THREADS - 1)
				return NULL;
			c->nthr++;
			*t = (struct thr){ .tid = tid, .pid = pid, .named = true };
			ev_begin(c, "M", "thread_name", pid, tid, c->t0);
			fprintf(c->f, ",\"args\":{\"name\":\"tid %u\"}}", tid);
			return t;
		}
	}
	return NULL;
}

/* an epfd as a JSON value: -1 (not known) is null */
static const char *epfd_json(__s32 epfd, char *buf, size_t len)
{
	if (epfd < 0)
		return "null";
	snprintf(buf, len, "%d", epfd);
	return buf;
}

static void span(struct chrome *c, const char *name, const struct thr *t, __u64 from, __u64 to,
		 const char *args)
{
	__u64 d = to > from ? to - from : 0;
	char ep[16];

	ev_begin(c, "X", name, t->pid, t->tid, from);
	fprintf(c->f, ",\"dur\":%llu.%03llu,\"cat\":\"epoll\",\"args\":{\"epfd\":%s,"
		"\"owner\":%u%s}}", (unsigned long long)(d / 1000), (unsigned long long)(d % 1000),
		epfd_json(t->epfd, ep, sizeof(ep)), t->owner, args);
}

static void close_wait(struct chrome *c, struct thr *t, __u64 ts, const char *args)
{
	if (t->asleep)
		span(c, "asleep", t, t->sleep_ts, ts, "");
	else if (t->woken)
		span(c, "woken", t, t->wake_ts, ts, "");
	span(c, "epoll_wait", t, t->wait_ts, ts, args);
	t->in_wait = t->asleep = t->woken = false;
}

static void counters(struct chrome *c, const struct model_inst *in, __u64 ts)
{
	struct ctr *k = NULL;
	char name[64];

	for (size_t i = 0; i < c->nctr; i++)
		if (c->ctr[i].ep == in->in.ep && c->ctr[i].created_ns == in->created_ns)
			k = &c->ctr[i];
	if (!k) {
		if (c->nctr == MAX_COUNTERS)
			c->nctr = 0;	/* reuse: at worst a repeated sample */
		k = &c->ctr[c->nctr++];
		*k = (struct ctr){ .ep = in->in.ep, .created_ns = in->created_ns,
				   .watched = (size_t)-1 };
	} else if (k->watched == in->nitems && k->ready == in->nready) {
		return;
	}
	k->watched = in->nitems;
	k->ready = in->nready;
	if (in->in.epfd >= 0)
		snprintf(name, sizeof(name), "epfd %d (pid %u)", in->in.epfd, in->in.owner);
	else
		snprintf(name, sizeof(name), "epfd ? (pid %u, ep %llx)", in->in.owner,
			 (unsigned long long)in->in.ep);
	ev_begin(c, "C", name, in->in.owner, 0, ts);
	fprintf(c->f, ",\"args\":{\"watched\":%zu,\"ready\":%zu}}", in->nitems, in->nready);
}

static const struct et_inst *inst_of(const struct et_hdr *h)
{
	switch (h->type) {
	case ET_EV_EP_CREATE: case ET_EV_EP_CLOSE: case ET_EV_CTL: case ET_EV_RELEASE:
	case ET_EV_CALLBACK: case ET_EV_WAIT_ENTER: case ET_EV_SLEEP: case ET_EV_WAKEUP:
	case ET_EV_WAIT_EXIT: case ET_EV_SEND_EVENTS: case ET_EV_SCAN:
	case ET_EV_EP_INSERT: case ET_EV_EP_POLL: case ET_EV_EP_SEND_EVENTS:
		return (const struct et_inst *)(h + 1);
	}
	return NULL;
}

static void all_counters(struct chrome *c, __u64 ts)
{
	for (size_t i = 0; i < c->m.ninst; i++)
		if (!c->m.inst[i]->closed_ns)
			counters(c, c->m.inst[i], ts);
}

static void c_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct chrome *c = (struct chrome *)s;
	const struct et_inst *in = inst_of(h);
	struct thr *t;
	char args[160], ep[16];

	(void)size;
	c->last_ts = h->ts_ns;
	model_apply(&c->m, h);
	switch (h->type) {
	case ET_EV_WAIT_ENTER:
		t = thr_get(c, h->pid, h->tid);
		if (!t)
			break;
		if (t->in_wait)
			close_wait(c, t, h->ts_ns, ",\"unfinished\":true");
		t->in_wait = true;
		t->wait_ts = h->ts_ns;
		t->epfd = in->epfd;
		t->owner = in->owner;
		break;
	case ET_EV_SLEEP:
		t = thr_get(c, h->pid, h->tid);
		if (!t || !t->in_wait)
			break;
		if (t->woken)
			span(c, "woken", t, t->wake_ts, h->ts_ns, "");
		t->woken = false;
		t->asleep = true;
		t->sleep_ts = h->ts_ns;
		break;
	case ET_EV_WAKEUP: {
		const struct et_ev_wakeup *e = (const void *)h;
		const char *ctx = et_context_name(h->flags);
		char tid[16];

		t = thr_get(c, h->pid, h->tid);
		if (!t || !t->in_wait || !t->asleep)
			break;
		/* an interrupt's wakeup is nobody's: current was only interrupted */
		snprintf(tid, sizeof(tid), "%u", e->waker_tid);
		snprintf(args, sizeof(args), ",\"waker_tid\":%s,\"waker_context\":%s%s%s,"
			 "\"timer\":%s", et_context_is_task(h->flags) ? tid : "null",
			 ctx ? "\"" : "", ctx ? ctx : "null", ctx ? "\"" : "",
			 !(h->flags & ET_F_CTX_KNOWN) ? "null" :
			 h->flags & ET_F_TIMER ? "true" : "false");
		span(c, "asleep", t, t->sleep_ts, h->ts_ns, args);
		t->asleep = false;
		t->woken = true;
		t->wake_ts = h->ts_ns;
		break;
	}
	case ET_EV_WAIT_EXIT: {
		const struct et_ev_wait_exit *e = (const void *)h;

		t = thr_get(c, h->pid, h->tid);
		if (!t || !t->in_wait)
			break;
		snprintf(args, sizeof(args), ",\"ret\":%d", e->ret);
		close_wait(c, t, h->ts_ns, args);
		break;
	}
	case ET_EV_CALLBACK: {
		const struct et_ev_callback *e = (const void *)h;
		const char *ctx = et_context_name(h->flags);
		char key[16];

		if (!thr_get(c, h->pid, h->tid))
			break;
		/* key 0: the waker passed no poll flags */
		snprintf(key, sizeof(key), "%u", e->key);
		ev_begin(c, "i", "ep_poll_callback", h->pid, h->tid, h->ts_ns);
		fprintf(c->f, ",\"s\":\"t\",\"cat\":\"epoll\",\"args\":{\"epfd\":%s,\"owner\":%u,"
			"\"fd\":%d,\"key\":%s,\"context\":%s%s%s,\"comm\":",
			epfd_json(in->epfd, ep, sizeof(ep)), in->owner, e->fd, e->key ? key : "null",
			ctx ? "\"" : "", ctx ? ctx : "null", ctx ? "\"" : "");
		put_str(c->f, e->comm, ET_COMM_LEN);
		fputs("}}", c->f);
		break;
	}
	case ET_EV_CTL: {
		const struct et_ev_ctl *e = (const void *)h;
		static const char *const op[] = { "?", "ADD", "DEL", "MOD" };

		if (!thr_get(c, h->pid, h->tid))
			break;
		ev_begin(c, "i", "epoll_ctl", h->pid, h->tid, h->ts_ns);
		fprintf(c->f, ",\"s\":\"t\",\"cat\":\"epoll\",\"args\":{\"epfd\":%s,\"op\":\"%s\","
			"\"fd\":%d,\"ret\":%d}}", epfd_json(in->epfd, ep, sizeof(ep)),
			e->op >= 1 && e->op <= 3 ? op[e->op] : "?", e->fd, e->ret);
		break;
	}
	case ET_EV_RELEASE: {
		const struct et_ev_release *e = (const void *)h;

		if (!thr_get(c, h->pid, h->tid))
			break;
		ev_begin(c, "i", "release", h->pid, h->tid, h->ts_ns);
		fprintf(c->f, ",\"s\":\"t\",\"cat\":\"epoll\",\"args\":{\"epfd\":%s,\"fd\":%d}}",
			epfd_json(in->epfd, ep, sizeof(ep)), e->fd);
		break;
	}
	case ET_EV_EP_INSERT:
	case ET_EV_EP_POLL:
	case ET_EV_EP_SEND_EVENTS:
		/* the named functions at their inlined sites (--attach=inline) */
		if (!thr_get(c, h->pid, h->tid))
			break;
		ev_begin(c, "i", et_type_name(h->type), h->pid, h->tid, h->ts_ns);
		fprintf(c->f, ",\"s\":\"t\",\"cat\":\"epoll\",\"args\":{\"epfd\":%s",
			epfd_json(in->epfd, ep, sizeof(ep)));
		if (h->type == ET_EV_EP_INSERT)
			fprintf(c->f, ",\"fd\":%d", ((const struct et_ev_ep_insert *)h)->fd);
		fputs("}}", c->f);
		break;
	}
	if (in) {
		const struct model_inst *mi = model_find(&c->m, in->ep);

		if (mi)
			counters(c, mi, h->ts_ns);
	} else if (h->type == ET_EV_TASK_EXIT) {
		all_counters(c, h->ts_ns);
	}
}

static void c_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct chrome *c = (struct chrome *)s;
	const struct model_inst *mi;

	c->last_ts = snap->hdr.ts_ns;
	model_apply_snapshot(&c->m, snap);
	mi = model_find(&c->m, snap->in.ep);
	if (mi)
		counters(c, mi, snap->hdr.ts_ns);
}

static void c_flush(struct et_sink *s)
{
	(void)s;
}

static void c_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct chrome *c = (struct chrome *)s;
	struct et_visible vis;

	c->t0 = info->start_mono_ns;
	c->m.callbacks_visible = info->callbacks_visible;
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"kernel\":", c->f);
	put_str(c->f, info->kernel ? info->kernel : "", 128);
	fputs(",\"attach\":", c->f);
	put_str(c->f, info->attach ? info->attach : "", 32);
	/* what the plan could not see is absent below, not zero */
	et_session_visible(info, &vis);
	fprintf(c->f, ",\"callbacks_visible\":%s,\"sleeps_visible\":%s,\"start_wall_ns\":%llu},"
		"\"traceEvents\":[", vis.callbacks ? "true" : "false",
		vis.sleeps ? "true" : "false", (unsigned long long)info->start_wall_ns);
	c->first = true;
}

static int c_tick(struct et_sink *s, __u64 now)
{
	struct chrome *c = (struct chrome *)s;

	(void)now;
	model_expire(&c->m);
	return 0;
}

static void c_end(struct et_sink *s, __u64 now)
{
	struct chrome *c = (struct chrome *)s;

	if (!now)
		now = c->last_ts;
	/* waits still open at the end (threads left asleep) */
	for (size_t i = 0; i < MAX_THREADS; i++) {
		struct thr *t = &c->thr[i];

		if (t->named && t->in_wait)
			close_wait(c, t, now, ",\"unfinished\":true");
	}
}

struct et_sink *export_chrome_new(FILE *f, const struct rec_header *h)
{
	struct chrome *c = calloc(1, sizeof(*c));

	if (!c || !(c->thr = calloc(MAX_THREADS, sizeof(*c->thr)))) {
		free(c);
		return NULL;
	}
	c->f = f;
	c->first = true;
	model_init(&c->m, false);
	c->sink = (struct et_sink){ .record = c_record, .snapshot = c_snapshot, .flush = c_flush,
				    .begin = c_begin, .tick = c_tick, .end = c_end };
	(void)h;
	return &c->sink;
}

/* Process names and the closing brackets; call after replay_feed. */
void export_chrome_finish(struct et_sink *s, const struct rec_header *h)
{
	struct chrome *c = (struct chrome *)s;

	for (int i = 0; i < h->ntargets; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s (%u)", h->targets[i].comm, h->targets[i].pid);
		ev_begin(c, "M", "process_name", h->targets[i].pid, 0, c->t0);
		fputs(",\"args\":{\"name\":", c->f);
		put_str(c->f, name, sizeof(name));
		fputs("}}", c->f);
	}
	fputs("\n]}\n", c->f);
}

void export_chrome_free(struct et_sink *s)
{
	struct chrome *c = (struct chrome *)s;

	if (!c)
		return;
	model_free(&c->m);
	free(c->thr);
	free(c);
}
