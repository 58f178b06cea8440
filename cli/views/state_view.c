// SPDX-License-Identifier: GPL-2.0
/*
 * The model's text views: --summary (a top-style table per interval) and
 * --json-state (the whole model as one JSON object per interval).  Both
 * are sinks that feed a model and render it on a timer; neither knows
 * whether the stream is live.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "describe.h"
#include "fdkind.h"
#include "finding_json.h"
#include "i18n.h"
#include "json.h"
#include "model.h"
#include "state_view.h"

#define MAX_PREV 4096
#define SESSION_TARGETS 65

struct prev {
	__u64 ep;
	__u64 created_ns;
	struct model_counters cnt;
};

struct view {
	struct et_sink sink;
	FILE *f;
	enum state_fmt fmt;
	__u64 interval_ns;
	long count;		/* refreshes left, < 0: unlimited */
	__u64 next_ns;
	__u64 last_ns;		/* previous refresh, for rates */
	bool printed_since_end;
	const char *attach;
	struct et_visible vis;	/* what the plan sees: the rest is null, or "-" */
	/* a replay: /proc here knows nothing of the recorded processes */
	bool replay;
	struct {
		__u32 pid;
		char comm[17];
	} targets[SESSION_TARGETS];
	int ntargets;
	struct model m;
	struct prev prev[MAX_PREV];
	size_t nprev;
};

static struct model_counters *prev_of(struct view *v, const struct model_inst *in)
{
	for (size_t i = 0; i < v->nprev; i++)
		if (v->prev[i].ep == in->in.ep && v->prev[i].created_ns == in->created_ns)
			return &v->prev[i].cnt;
	if (v->nprev == MAX_PREV)
		v->nprev = 0;	/* rates restart; better than growing forever */
	v->prev[v->nprev] = (struct prev){ .ep = in->in.ep, .created_ns = in->created_ns };
	return &v->prev[v->nprev++].cnt;
}

static double rate(__u64 now, __u64 before, double secs)
{
	return secs > 0 && now >= before ? (now - before) / secs : 0;
}

/* a thread's comm: /proc/PID/task/TID/comm (TID == PID for the process);
 * in a replay, a target's comm from the recording, else "?" */
static void comm_of(const struct view *v, __u32 pid, __u32 tid, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	if (v->replay) {
		for (int i = 0; pid == tid && i < v->ntargets; i++)
			if (v->targets[i].pid == pid)
				snprintf(buf, len, "%s", v->targets[i].comm);
		return;
	}
	proc_comm(pid, tid, buf, len);
}

static void __attribute__((format(printf, 3, 5)))
fmt_num(char *buf, size_t len, const char *f, bool known, ...)
{
	va_list ap;

	if (!known) {
		snprintf(buf, len, "-");
		return;
	}
	va_start(ap, known);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static void fmt_rate(char *buf, size_t len, bool known, double r)
{
	if (known)
		snprintf(buf, len, "%.1f", r);
	else
		snprintf(buf, len, "-");
}

static void j_bool_or_null(struct json_writer *w, const char *k, bool v, bool known)
{
	if (known) {
		json_kv_bool(w, k, v);
	} else {
		json_key(w, k);
		json_null(w);
	}
}

/*
 * The inline rung's records (model_inline): each part is null where the
 * plan has no such hook.  Deadlines and ages are the records' clock.
 */
static void j_inline(struct json_writer *w, const struct view *v, const struct model_inst *in)
{
	const struct model_inline *il = &in->il;
	__s64 dl = il->poll_deadline_ns;
	bool polled = il->polls && dl != -2;	/* -2: not readable at the site */

	json_key(w, "ep_insert");
	if (v->vis.inserts) {
		json_obj_begin(w);
		json_kv_u64(w, "count", il->inserts);
		json_kv_u64(w, "drift", il->insert_drift);
		json_kv_u64(w, "unpaired_adds", il->insert_unpaired);
		if (il->insert_note[0])
			json_kv_str(w, "drift_last", il->insert_note);
		json_obj_end(w);
	} else {
		json_null(w);
	}
	json_key(w, "ep_poll");
	if (v->vis.polls) {
		json_obj_begin(w);
		json_kv_u64(w, "count", il->polls);
		json_kv_s64_or_null(w, "maxevents_last", il->poll_maxevents,
				    il->polls && il->poll_maxevents >= 0);
		/* -1 infinite, 0 do not wait, else the absolute expiry and what
		 * was left of it when the wait loop was entered */
		json_kv_s64_or_null(w, "deadline_ns_last", dl, polled);
		json_kv_s64_or_null(w, "timeout_ns_last",
				    dl > 0 ? (dl > (__s64)il->poll_ts_ns ?
					      dl - (__s64)il->poll_ts_ns : 0) : dl, polled);
		json_obj_end(w);
	} else {
		json_null(w);
	}
	json_key(w, "transfers");
	if (v->vis.transfers) {
		json_obj_begin(w);
		json_kv_u64(w, "count", il->transfers);
		json_kv_u64(w, "ended", il->transfers_ended);
		json_kv_u64(w, "unended", il->transfers_unended);
		json_kv_bool(w, "scanning", il->scanning && !in->closed_ns);
		json_kv_u64_or_null(w, "scanning_since_ns", il->scan_since_ns,
				    il->scanning && !in->closed_ns);
		json_kv_u64_or_null(w, "last_ns", il->transfer_last_ns, il->transfers_ended);
		json_kv_u64_or_null(w, "max_ns", il->transfer_max_ns, il->transfers_ended);
		json_kv_u64(w, "total_ns", il->transfer_total_ns);
		/* a callback inside a window is chained on ovflist, if it is seen */
		json_kv_u64_or_null(w, "ovflist_callbacks", il->ovf_callbacks, v->vis.callbacks);
		json_kv_u64_or_null(w, "ovflist_window", il->ovf_window, v->vis.callbacks);
		json_obj_end(w);
	} else {
		json_null(w);
	}
}

/* a duration in 6 columns or fewer: 850ns, 1.2us, 12us, 3.4ms, 534ms, 2.0s, 120s */
static void fmt_dur(char *buf, size_t len, __u64 ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 10000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else if (ns < 10000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else if (ns < 1000000000)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000));
	else if (ns < 100000000000ULL)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000));
}

/*
 * The --summary columns of the anatomy: residency p99, wakeup latency
 * p99 (waking to switch-in), mean events per wakeup, and how many waits returned exactly
 * maxevents; "-" where the plan cannot see it or nothing was measured.
 */
static void summary_anatomy(struct view *v, const struct model_inst *in)
{
	const struct anatomy *a = &in->anat;
	const struct anat_hist *ew = &a->h[ANAT_EVENTS_WAKEUP];
	char res[16] = "-", wk[16] = "-", evw[16] = "-", full[16] = "-";

	if (a->h[ANAT_RESIDENCY].count)
		fmt_dur(res, sizeof(res), anatomy_quantile(&a->h[ANAT_RESIDENCY], 0.99));
	if (v->vis.sleeps && a->h[ANAT_WAKEUP].count)
		fmt_dur(wk, sizeof(wk), anatomy_quantile(&a->h[ANAT_WAKEUP], 0.99));
	if (v->vis.sleeps && ew->count)
		snprintf(evw, sizeof(evw), "%.1f", (double)ew->sum / ew->count);
	if (a->maxevents_known)
		snprintf(full, sizeof(full), "%.1f", 100.0 * a->full / a->maxevents_known);
	fprintf(v->f, " %6s %6s %5s %5s", res, wk, evw, full);
}

/* the --summary columns of the inline rung: where the plan sees transfers */
static void summary_inline(struct view *v, const struct model_inst *in)
{
	char ovf[24];

	if (!v->vis.transfers)
		return;
	fmt_num(ovf, sizeof(ovf), "%llu", v->vis.callbacks,
		(unsigned long long)in->il.ovf_callbacks);
	fprintf(v->f, " %7llu %6s", (unsigned long long)in->il.transfers, ovf);
}

/* the findings, at the end: one line each, and the hint under it */
static void summary_findings(struct view *v)
{
	const struct detect *d = &v->m.det;

	if (!d->n)
		return;
	/* no blank line: the block belongs to the final table */
	fprintf(v->f, "%s\n", _("Findings:"));
	for (size_t i = 0; i < d->n; i++) {
		struct finding f = d->f[i];
		char line[512];

		comm_of(v, f.pid, f.pid, f.comm, sizeof(f.comm));
		detect_describe(&f, line, sizeof(line));
		fprintf(v->f, "  %s\n    %s %s\n", line, _("hint:"), _(detect_hint(f.kind)));
	}
}

static void render_summary(struct view *v, __u64 now, bool final)
{
	double secs = v->last_ns ? (now - v->last_ns) / 1e9 : 0;
	time_t wall = time(NULL);
	char tbuf[16];

	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&wall));
	fprintf(v->f, "%s  epolltrace  attach=%s  ready list %s  records=%llu lost=%llu%s\n", tbuf,
		v->attach, v->m.callbacks_visible ? "exact" : "sampled",
		(unsigned long long)v->m.records, (unsigned long long)v->m.lost,
		final ? "  (final)" : "");
	fprintf(v->f, "%7s %-15s %5s %7s %5s %5s %9s %9s %9s %6s %5s", "PID", "COMM", "EPFD",
		"WATCHED", "READY", "SLEEP", "CB/s", "WAKE/s", "EV/s", "ZERO", "DRIFT");
	fprintf(v->f, " %6s %6s %5s %5s", "RES99", "WAKE99", "EV/WK", "FULL%");
	if (v->vis.transfers)
		fprintf(v->f, " %7s %6s", "XFER", "OVF");
	fprintf(v->f, " %4s %s\n", "FIND", "FLAGS");
	for (size_t i = 0; i < v->m.ninst; i++) {
		const struct model_inst *in = v->m.inst[i];
		struct model_counters *p = prev_of(v, in);
		char comm[17], flags[8] = "", epfd[16], cb[24], wk[24], zero[24];

		comm_of(v, in->in.owner, in->in.owner, comm, sizeof(comm));
		if (!v->m.callbacks_visible)
			strcat(flags, "S");	/* ready list sampled */
		if (in->resyncing)
			strcat(flags, "R");
		if (in->waiters_truncated)
			strcat(flags, "W");
		if (in->closed_ns)
			strcat(flags, "X");
		else if (in->il.scanning && v->vis.transfers)
			strcat(flags, "O");	/* a transfer runs: ovflist active */
		if (model_sharers(&v->m, in))
			strcat(flags, "H");	/* held by a sharer too */
		/* what the plan cannot see is "-", never 0 */
		fmt_num(epfd, sizeof(epfd), "%d", in->in.epfd >= 0, in->in.epfd);
		fmt_rate(cb, sizeof(cb), v->vis.callbacks, rate(in->cnt.callbacks, p->callbacks, secs));
		fmt_rate(wk, sizeof(wk), v->vis.sleeps, rate(in->cnt.wakeups, p->wakeups, secs));
		fmt_num(zero, sizeof(zero), "%llu", v->vis.sleeps,
			(unsigned long long)in->cnt.zero_wakeups);
		fprintf(v->f, "%7u %-15s %5s %7zu %5zu %5u %9s %9s %9.1f %6s %5llu", in->in.owner,
			comm, epfd, in->nitems, in->nready, model_asleep(in), cb, wk,
			rate(in->cnt.events, p->events, secs), zero, (unsigned long long)in->drift);
		summary_anatomy(v, in);
		summary_inline(v, in);
		fprintf(v->f, " %4u %s\n", detect_count(&v->m.det, in->in.ep), flags);
		*p = in->cnt;
	}
	if (final)
		summary_findings(v);
	fputc('\n', v->f);
}

static void j_rate_or_null(struct json_writer *w, const char *k, double v, bool known)
{
	if (known) {
		json_kv_rate(w, k, v);
	} else {
		json_key(w, k);
		json_null(w);
	}
}

/* known false: the plan cannot see what it would count (null) */
static void j_hist(struct json_writer *w, const char *k, const __u64 *h, bool known)
{
	int last = -1;

	for (int i = 0; i < MODEL_HIST_BUCKETS; i++)
		if (h[i])
			last = i;
	json_key(w, k);
	if (!known) {
		json_null(w);
		return;
	}
	json_arr_begin(w);
	for (int i = 0; i <= last; i++)
		json_u64(w, h[i]);
	json_arr_end(w);
}

/*
 * rbr's shape from the latest snapshot (docs/json.md): null when none came
 * (a tree larger than ET_MAX_SHAPE_ITEMS, or an older recording).  nodes
 * are in tree order, the kernel's (file, fd) key; left, right and root are
 * positions in nodes.
 */
static void j_tree(struct json_writer *w, const struct model_tree *t)
{
	json_key(w, "tree");
	if (!t->present) {
		json_null(w);
		return;
	}
	json_obj_begin(w);
	json_kv_bool(w, "exact", t->exact);
	json_kv_bool(w, "stale", t->stale);
	json_kv_s64_or_null(w, "root", t->root, t->root >= 0);
	json_key(w, "nodes");
	json_arr_begin(w);
	for (size_t k = 0; k < t->n; k++) {
		const struct model_tree_node *n = &t->nodes[k];

		json_obj_begin(w);
		json_kv_s64(w, "fd", n->fd);
		json_kv_str(w, "color", n->black ? "black" : "red");
		json_kv_s64_or_null(w, "left", n->left, n->left >= 0);
		json_kv_s64_or_null(w, "right", n->right, n->right >= 0);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}

static struct anat_vis anat_vis_of(const struct view *v)
{
	return (struct anat_vis){ .callbacks = v->vis.callbacks, .sleeps = v->vis.sleeps,
				  .transfers = v->vis.transfers };
}

/*
 * The latency anatomy (docs/json.md, "anatomy"): each histogram with the
 * fidelity of the hooks it comes from; its figures null where the plan
 * cannot see it ("none"), its quantiles and max null while it is empty.
 */
static void j_anatomy(struct json_writer *w, const struct view *v, const struct anatomy *a)
{
	struct anat_vis av = anat_vis_of(v);

	json_key(w, "anatomy");
	json_obj_begin(w);
	for (int k = 0; k < ANAT_MAX; k++) {
		const struct anat_hist *h = &a->h[k];
		const char *fid = anatomy_fidelity(k, &av);
		bool seen = strcmp(fid, "none") != 0, some = seen && h->count;

		json_key(w, anatomy_key(k));
		json_obj_begin(w);
		json_kv_str(w, "fidelity", fid);
		json_kv_u64_or_null(w, "count", h->count, seen);
		json_kv_u64_or_null(w, "sum", h->sum, seen);
		json_kv_u64_or_null(w, "p50", anatomy_quantile(h, 0.5), some);
		json_kv_u64_or_null(w, "p99", anatomy_quantile(h, 0.99), some);
		json_kv_u64_or_null(w, "max", h->max, some);
		j_hist(w, "log2", h->b, seen);
		json_obj_end(w);
	}
	json_kv_u64(w, "waits", a->waits);
	json_kv_u64(w, "maxevents_known", a->maxevents_known);
	json_kv_u64(w, "full", a->full);
	j_rate_or_null(w, "full_pct", a->maxevents_known ? 100.0 * a->full / a->maxevents_known : 0,
		       a->maxevents_known);
	json_kv_u64(w, "timed", a->timed);
	json_kv_u64(w, "timeouts", a->timeouts);
	json_kv_u64_or_null(w, "resleeps", a->resleeps, av.sleeps);
	json_obj_end(w);
}

/* the instance's findings (docs/json.md, "finding"), oldest first */
static void j_findings(struct json_writer *w, const struct view *v, const struct model_inst *in)
{
	const struct detect *d = &v->m.det;
	char comm[17];

	comm_of(v, in->in.owner, in->in.owner, comm, sizeof(comm));
	json_key(w, "findings");
	json_arr_begin(w);
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].ep == in->in.ep && d->f[i].pid == in->in.owner)
			json_finding(w, &d->f[i], comm, false);
	json_arr_end(w);
}

/* where the waiter waits: its thread's latest chain, frame names innermost first */
static void j_chain(struct json_writer *w, const struct et_ev_wait_chain *c)
{
	char f[ET_CHAIN_SYM_LEN + 48];

	json_key(w, "chain");
	if (!c) {
		json_null(w);
		json_key(w, "chain_method");
		json_null(w);
		return;
	}
	json_arr_begin(w);
	for (int i = 0; i < c->nframes && i < ET_CHAIN_FRAMES; i++)
		json_str(w, chain_frame_name(&c->frame[i], f, sizeof(f)));
	json_arr_end(w);
	json_kv_str(w, "chain_method", chains_method_name(c->method));
}
static void render_json(struct view *v, __u64 now, bool final)
{
	double secs = v->last_ns ? (now - v->last_ns) / 1e9 : 0;
	struct fdkind_cache *kc = NULL;
	__u32 kc_pid = 0;
	struct json_writer w;

	json_init(&w, v->f);
	json_obj_begin(&w);
	json_kv_str(&w, "type", "state");
	json_kv_u64(&w, "ts_ns", now);
	json_kv_bool(&w, "final", final);
	json_kv_str(&w, "attach", v->attach);
	json_kv_bool(&w, "ready_sampled", !v->m.callbacks_visible);
	json_kv_u64(&w, "records", v->m.records);
	json_kv_u64(&w, "lost", v->m.lost);
	json_kv_u64(&w, "ignored", v->m.ignored);
	json_kv_u64(&w, "compared", v->m.compared);
	json_key(&w, "instances");
	json_arr_begin(&w);
	for (size_t i = 0; i < v->m.ninst; i++) {
		const struct model_inst *in = v->m.inst[i];
		struct model_counters *p = prev_of(v, in);
		char comm[17];

		/* one read of a process's socket tables per refresh, not per instance */
		if (!v->replay && !in->closed_ns && (!kc || kc_pid != in->in.owner)) {
			fdkind_cache_free(kc);
			kc = fdkind_cache_new(in->in.owner);
			kc_pid = in->in.owner;
		}

		comm_of(v, in->in.owner, in->in.owner, comm, sizeof(comm));
		json_obj_begin(&w);
		json_kv_u64(&w, "pid", in->in.owner);
		json_kv_str(&w, "comm", comm);
		/* processes holding it without being targets, traced like them */
		json_key(&w, "sharers");
		json_arr_begin(&w);
		for (size_t k = 0; k < v->m.nprocs; k++)
			if (model_shares(&v->m.procs[k], in))
				json_u64(&w, v->m.procs[k].pid);
		json_arr_end(&w);
		json_kv_s64_or_null(&w, "epfd", in->in.epfd, in->in.epfd >= 0);
		json_kv_hex(&w, "ep", in->in.ep);
		json_kv_u64(&w, "watched", in->nitems);
		json_kv_bool(&w, "closed", in->closed_ns);
		json_kv_bool(&w, "gone", in->gone_ns);
		json_kv_bool(&w, "resyncing", in->resyncing);
		json_kv_u64(&w, "drift", in->drift);
		json_kv_u64(&w, "compared", in->compared);
		json_kv_bool(&w, "waiters_truncated", in->waiters_truncated);
		if (in->drift_note[0])
			json_kv_str(&w, "drift_last", in->drift_note);
		json_key(&w, "fds");
		json_arr_begin(&w);
		for (size_t k = 0; k < in->nitems; k++) {
			const struct model_item *it = &in->items[k];
			struct fdkind fk;

			fdkind_resolve(in->closed_ns || v->replay ? NULL : kc, it->fd, &fk);
			json_obj_begin(&w);
			json_kv_s64(&w, "fd", it->fd);
			json_kv_u64(&w, "events", it->events);
			json_kv_u64(&w, "data", it->data);
			json_kv_str(&w, "kind", fk.kind);
			if (fk.addr[0])
				json_kv_str(&w, "addr", fk.addr);
			/* 0: it was there before tracing began, when is not known */
			json_kv_u64_or_null(&w, "added_ns", it->added_ns, it->added_ns != 0);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "ready");
		json_arr_begin(&w);
		for (size_t k = 0; k < in->nready; k++) {
			json_obj_begin(&w);
			json_kv_s64(&w, "fd", in->ready[k].fd);
			/* 0: no callback said which events (a snapshot saw the item) */
			json_kv_u64_or_null(&w, "events", in->ready[k].events, in->ready[k].events != 0);
			/* without callbacks, when an item was queued is not seen */
			json_kv_u64_or_null(&w, "age_ns", now > in->ready[k].since_ns ?
				      now - in->ready[k].since_ns : 0, v->vis.callbacks);
			/* queued on ovflist by a callback inside a transfer */
			j_bool_or_null(&w, "ovflist", in->ready[k].ovflist,
					     v->vis.transfers && v->vis.callbacks);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "waiters");
		json_arr_begin(&w);
		for (size_t k = 0; k < in->nwaiters; k++) {
			const struct model_waiter *wt = &in->waiters[k];
			/* seen by a snapshot only: a real wait has maxevents >= 1 */
			bool entered = wt->maxevents > 0;
			char tcomm[17];

			comm_of(v, in->in.owner, wt->tid, tcomm, sizeof(tcomm));
			json_obj_begin(&w);
			json_kv_u64(&w, "tid", wt->tid);
			json_kv_str(&w, "comm", tcomm);
			json_kv_bool(&w, "asleep", wt->asleep);
			json_kv_u64_or_null(&w, "since_ns", wt->since_ns, entered);
			json_kv_s64_or_null(&w, "timeout_ns", wt->timeout_ns, entered);	/* -1: infinite */
			json_kv_s64_or_null(&w, "maxevents", wt->maxevents, entered);
			j_chain(&w, chains_find(&v->m.chains, wt->tid));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "counters");
		json_obj_begin(&w);
		json_kv_u64_or_null(&w, "callbacks", in->cnt.callbacks, v->vis.callbacks);
		json_kv_u64_or_null(&w, "wakeups", in->cnt.wakeups, v->vis.sleeps);
		json_kv_u64(&w, "waits", in->cnt.waits);
		json_kv_u64(&w, "events", in->cnt.events);
		json_kv_u64_or_null(&w, "zero_wakeups", in->cnt.zero_wakeups, v->vis.sleeps);
		json_kv_u64(&w, "ctl", in->cnt.ctl);
		json_obj_end(&w);
		json_key(&w, "rates");
		json_obj_begin(&w);
		j_rate_or_null(&w, "callbacks_per_s", rate(in->cnt.callbacks, p->callbacks, secs),
			       v->vis.callbacks);
		j_rate_or_null(&w, "wakeups_per_s", rate(in->cnt.wakeups, p->wakeups, secs),
			       v->vis.sleeps);
		json_kv_rate(&w, "events_per_s", rate(in->cnt.events, p->events, secs));
		json_obj_end(&w);
		j_hist(&w, "batch_log2", in->batch_hist, true);
		j_hist(&w, "ready_ns_log2", in->ready_hist, v->vis.callbacks);
		j_hist(&w, "sleep_ns_log2", in->sleep_hist, v->vis.sleeps);
		j_inline(&w, v, in);
		j_tree(&w, &in->tree);
		j_anatomy(&w, v, &in->anat);
		j_findings(&w, v, in);
		json_obj_end(&w);
		*p = in->cnt;
	}
	fdkind_cache_free(kc);
	json_arr_end(&w);
	json_obj_end(&w);
	fputc('\n', v->f);
}

static void render(struct view *v, __u64 now, bool final)
{
	if (v->fmt == STATE_SUMMARY)
		render_summary(v, now, final);
	else
		render_json(v, now, final);
	fflush(v->f);
	v->last_ns = now;
	model_expire(&v->m);
}

static void v_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	(void)size;
	model_apply(&((struct view *)s)->m, h);
}

static void v_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	model_apply_snapshot(&((struct view *)s)->m, snap);
}

static void v_flush(struct et_sink *s)
{
	fflush(((struct view *)s)->f);
}

static void v_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct view *v = (struct view *)s;

	v->m.callbacks_visible = info->callbacks_visible;
	et_session_visible(info, &v->vis);
	v->attach = info->attach;
	v->replay = info->replay;
	for (int i = 0; info->comms && i < info->npids && i < SESSION_TARGETS; i++) {
		v->targets[v->ntargets].pid = info->pids[i];
		snprintf(v->targets[v->ntargets++].comm, sizeof(v->targets[0].comm), "%s",
			 info->comms[i]);
	}
}

static int v_tick(struct et_sink *s, __u64 now)
{
	struct view *v = (struct view *)s;

	if (!v->next_ns) {
		v->next_ns = now + v->interval_ns;
		/* the first refresh's rates: since this first tick, not 0 */
		v->last_ns = now;
	}
	if (now < v->next_ns)
		return 0;
	v->next_ns += v->interval_ns;
	if (v->next_ns <= now)	/* we fell behind: do not burst */
		v->next_ns = now + v->interval_ns;
	/*
	 * The Nth refresh of -n N is the last word: "final": true, as at the
	 * end of -d or of the targets.  Rendered here, at the tick, so that a
	 * replay (which stops at the same tick) prints the same.
	 */
	if (v->count > 0 && --v->count == 0) {
		render(v, now, true);
		return 1;
	}
	render(v, now, false);
	return 0;
}

static void v_end(struct et_sink *s, __u64 now)
{
	struct view *v = (struct view *)s;

	/* -n reached: its last refresh was the final one */
	if (v->count != 0)
		render(v, now, true);
}

struct et_sink *state_view_new(FILE *f, enum state_fmt fmt, double interval_s, long count)
{
	struct view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->f = f;
	v->fmt = fmt;
	v->interval_ns = interval_s * 1e9;
	v->count = count > 0 ? count : -1;
	v->attach = "?";
	model_init(&v->m, false);
	v->sink = (struct et_sink){ .record = v_record, .snapshot = v_snapshot, .flush = v_flush,
				    .begin = v_begin, .tick = v_tick, .end = v_end };
	return &v->sink;
}

void state_view_free(struct et_sink *s)
{
	struct view *v = (struct view *)s;

	if (!v)
		return;
	model_free(&v->m);
	free(v);
}
