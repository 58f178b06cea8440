// SPDX-License-Identifier: GPL-2.0
/*
 * The model's text views: --summary (a top-style table per interval) and
 * --json-state (the whole model as one JSON object per interval).  Both
 * are sinks that feed a model and render it on a timer; neither knows
 * whether the stream is live.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fdkind.h"
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
	fprintf(v->f, "%7s %-15s %5s %7s %5s %5s %9s %9s %9s %6s %5s %s\n", "PID", "COMM", "EPFD",
		"WATCHED", "READY", "SLEEP", "CB/s", "WAKE/s", "EV/s", "ZERO", "DRIFT", "FLAGS");
	for (size_t i = 0; i < v->m.ninst; i++) {
		const struct model_inst *in = v->m.inst[i];
		struct model_counters *p = prev_of(v, in);
		char comm[17], flags[8] = "";

		comm_of(v, in->in.owner, in->in.owner, comm, sizeof(comm));
		if (!v->m.callbacks_visible)
			strcat(flags, "S");	/* ready list sampled */
		if (in->resyncing)
			strcat(flags, "R");
		if (in->waiters_truncated)
			strcat(flags, "W");
		if (in->closed_ns)
			strcat(flags, "X");
		fprintf(v->f, "%7u %-15s %5d %7zu %5zu %5u %9.1f %9.1f %9.1f %6llu %5llu %s\n",
			in->in.owner, comm, in->in.epfd, in->nitems, in->nready, model_asleep(in),
			rate(in->cnt.callbacks, p->callbacks, secs),
			rate(in->cnt.wakeups, p->wakeups, secs), rate(in->cnt.events, p->events, secs),
			(unsigned long long)in->cnt.zero_wakeups, (unsigned long long)in->drift, flags);
		*p = in->cnt;
	}
	fputc('\n', v->f);
}

static void j_hist(struct json_writer *w, const char *k, const __u64 *h)
{
	int last = -1;

	for (int i = 0; i < MODEL_HIST_BUCKETS; i++)
		if (h[i])
			last = i;
	json_key(w, k);
	json_arr_begin(w);
	for (int i = 0; i <= last; i++)
		json_u64(w, h[i]);
	json_arr_end(w);
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
		json_kv_s64(&w, "epfd", in->in.epfd);
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
			json_kv_u64(&w, "added_ns", it->added_ns);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "ready");
		json_arr_begin(&w);
		for (size_t k = 0; k < in->nready; k++) {
			json_obj_begin(&w);
			json_kv_s64(&w, "fd", in->ready[k].fd);
			json_kv_u64(&w, "events", in->ready[k].events);
			json_kv_u64(&w, "age_ns", now > in->ready[k].since_ns ?
					 now - in->ready[k].since_ns : 0);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "waiters");
		json_arr_begin(&w);
		for (size_t k = 0; k < in->nwaiters; k++) {
			const struct model_waiter *wt = &in->waiters[k];
			char tcomm[17];

			comm_of(v, in->in.owner, wt->tid, tcomm, sizeof(tcomm));
			json_obj_begin(&w);
			json_kv_u64(&w, "tid", wt->tid);
			json_kv_str(&w, "comm", tcomm);
			json_kv_bool(&w, "asleep", wt->asleep);
			json_kv_u64(&w, "since_ns", wt->since_ns);
			json_kv_s64(&w, "timeout_ns", wt->timeout_ns);
			json_kv_s64(&w, "maxevents", wt->maxevents);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "counters");
		json_obj_begin(&w);
		json_kv_u64(&w, "callbacks", in->cnt.callbacks);
		json_kv_u64(&w, "wakeups", in->cnt.wakeups);
		json_kv_u64(&w, "waits", in->cnt.waits);
		json_kv_u64(&w, "events", in->cnt.events);
		json_kv_u64(&w, "zero_wakeups", in->cnt.zero_wakeups);
		json_kv_u64(&w, "ctl", in->cnt.ctl);
		json_obj_end(&w);
		json_key(&w, "rates");
		json_obj_begin(&w);
		json_kv_rate(&w, "callbacks_per_s", rate(in->cnt.callbacks, p->callbacks, secs));
		json_kv_rate(&w, "wakeups_per_s", rate(in->cnt.wakeups, p->wakeups, secs));
		json_kv_rate(&w, "events_per_s", rate(in->cnt.events, p->events, secs));
		json_obj_end(&w);
		j_hist(&w, "batch_log2", in->batch_hist);
		j_hist(&w, "ready_ns_log2", in->ready_hist);
		j_hist(&w, "sleep_ns_log2", in->sleep_hist);
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

	if (!v->next_ns)
		v->next_ns = now + v->interval_ns;
	if (now < v->next_ns)
		return 0;
	v->next_ns += v->interval_ns;
	if (v->next_ns <= now)	/* we fell behind: do not burst */
		v->next_ns = now + v->interval_ns;
	render(v, now, false);
	if (v->count > 0 && --v->count == 0)
		return 1;
	return 0;
}

static void v_end(struct et_sink *s, __u64 now)
{
	struct view *v = (struct view *)s;

	/* -n reached: that was the last word */
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
