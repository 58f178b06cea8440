// SPDX-License-Identifier: GPL-2.0
/*
 * The streaming outputs: JSON Lines (a public interface, documented in the
 * README; fields are only ever added) and a one-line-per-event text form.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "describe.h"
#include "json.h"
#include "output.h"

struct out {
	struct et_sink sink;
	FILE *f;
};

static void j_hdr(struct json_writer *w, const char *type, const struct et_hdr *h)
{
	json_kv_str(w, "type", type);
	json_kv_u64(w, "ts_ns", h->ts_ns);
	json_kv_u64(w, "pid", h->pid);
	json_kv_u64(w, "tid", h->tid);
	json_kv_u64(w, "cpu", h->cpu);
	json_kv_str(w, "src", et_src_name(h->src));
}

static void j_inst(struct json_writer *w, const struct et_inst *in)
{
	json_kv_hex(w, "ep", in->ep);
	json_kv_u64(w, "owner", in->owner);
	json_kv_s64(w, "epfd", in->epfd);
}

static void j_comm(struct json_writer *w, const char *k, const char *comm)
{
	json_key(w, k);
	json_strn(w, comm, strnlen(comm, ET_COMM_LEN));
}

static const char *const counter_names[ET_CNT_MAX] = {
	[ET_CNT_CALLBACKS] = "callbacks",
	[ET_CNT_WAIT_ENTER] = "wait_enter",
	[ET_CNT_WAIT_EXIT] = "wait_exit",
	[ET_CNT_EVENTS_DELIVERED] = "events",
	[ET_CNT_ZERO_WAKEUPS] = "zero_wakeups",
	[ET_CNT_SLEEPS] = "sleeps",
	[ET_CNT_WAKEUPS] = "wakeups",
	[ET_CNT_CTL] = "ctl",
	[ET_CNT_RELEASES] = "releases",
	[ET_CNT_RB_DROPS] = "ring_drops",
	[ET_CNT_SNAP_DROPS] = "snapshot_drops",
};

static void j_inst_counters(struct json_writer *w, const struct et_inst_counters *c)
{
	json_key(w, "counters");
	json_obj_begin(w);
	json_kv_u64(w, "callbacks", c->callbacks);
	json_kv_u64(w, "wait_enter", c->wait_enter);
	json_kv_u64(w, "wait_exit", c->wait_exit);
	json_kv_u64(w, "events", c->events);
	json_kv_u64(w, "zero_wakeups", c->zero_wakeups);
	json_kv_u64(w, "sleeps", c->sleeps);
	json_kv_u64(w, "wakeups", c->wakeups);
	json_obj_end(w);
}

static void json_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct out *o = (struct out *)s;
	struct json_writer w;

	(void)size;
	json_init(&w, o->f);
	json_obj_begin(&w);
	j_hdr(&w, et_type_name(h->type), h);
	switch (h->type) {
	case ET_EV_EP_CREATE: {
		const struct et_ev_create *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_str(&w, "syscall", e->legacy ? "epoll_create" : "epoll_create1");
		break;
	}
	case ET_EV_EP_CLOSE:
		j_inst(&w, &((const struct et_ev_close *)h)->in);
		break;
	case ET_EV_CTL: {
		const struct et_ev_ctl *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_str(&w, "op", et_ctl_op_name(e->op));
		json_kv_s64(&w, "fd", e->fd);
		json_kv_u64(&w, "events", e->events);
		json_kv_u64(&w, "data", e->data);
		json_kv_s64(&w, "ret", e->ret);
		if (e->queued >= 0)
			json_kv_bool(&w, "queued", e->queued);
		break;
	}
	case ET_EV_RELEASE: {
		const struct et_ev_release *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "fd", e->fd);
		json_kv_u64(&w, "events", e->events);
		json_kv_u64(&w, "data", e->data);
		break;
	}
	case ET_EV_CALLBACK: {
		const struct et_ev_callback *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "fd", e->fd);
		json_kv_u64(&w, "events", e->events);
		json_kv_u64(&w, "data", e->data);
		json_kv_u64(&w, "key", e->key);
		j_comm(&w, "comm", e->comm);
		json_kv_str(&w, "context", et_context_name(h->flags));
		break;
	}
	case ET_EV_WAIT_ENTER: {
		const struct et_ev_wait_enter *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "maxevents", e->maxevents);
		json_kv_s64(&w, "timeout_ns", e->timeout_ns);
		json_kv_str(&w, "syscall", et_wait_sys_name(e->sys));
		break;
	}
	case ET_EV_SLEEP:
		j_inst(&w, &((const struct et_ev_sleep *)h)->in);
		break;
	case ET_EV_WAKEUP: {
		const struct et_ev_wakeup *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_u64(&w, "waker_pid", e->waker_pid);
		json_kv_u64(&w, "waker_tid", e->waker_tid);
		j_comm(&w, "waker_comm", e->waker_comm);
		break;
	}
	case ET_EV_WAIT_EXIT: {
		const struct et_ev_wait_exit *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "ret", e->ret);
		json_kv_u64(&w, "slept_ns", e->slept_ns);
		json_key(&w, "events");
		json_arr_begin(&w);
		for (unsigned int i = 0; i < e->ncopied; i++) {
			json_obj_begin(&w);
			json_kv_u64(&w, "events", e->ev[i].events);
			json_kv_u64(&w, "data", e->ev[i].data);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_kv_bool(&w, "events_truncated", e->ret > (int)e->ncopied);
		break;
	}
	case ET_EV_SEND_EVENTS: {
		const struct et_ev_send_events *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "count", e->count);
		json_key(&w, "requeued");
		if (e->requeued < 0)
			json_null(&w);
		else
			json_s64(&w, e->requeued);
		break;
	}
	case ET_EV_SCAN: {
		const struct et_ev_scan *e = (const void *)h;

		j_inst(&w, &e->in);
		json_key(&w, "ready");
		json_arr_begin(&w);
		for (__u32 i = 0; i < e->n; i++)
			json_s64(&w, e->fd[i]);
		json_arr_end(&w);
		json_kv_bool(&w, "truncated", e->truncated);
		break;
	}
	case ET_EV_TASK_EXIT: {
		const struct et_ev_task_exit *e = (const void *)h;

		json_kv_bool(&w, "group_dead", h->flags & ET_F_GROUP_DEAD);
		json_kv_s64(&w, "exit_code", e->exit_code);
		break;
	}
	case ET_EV_FORK:
		json_kv_u64(&w, "child", ((const struct et_ev_fork *)h)->child_pid);
		break;
	case ET_EV_LOST: {
		const struct et_ev_lost *e = (const void *)h;

		json_kv_u64(&w, "count", e->count);
		json_kv_str(&w, "ring", e->ring ? "snapshots" : "events");
		break;
	}
	case ET_EV_SNAP_ROUND: {
		const struct et_ev_snap_round *e = (const void *)h;

		json_kv_u64(&w, "seq", e->seq);
		json_kv_u64(&w, "start_ns", e->start_ns);
		json_kv_u64(&w, "instances", e->instances);
		json_kv_u64(&w, "drops", e->drops);
		json_kv_bool(&w, "complete", !(h->flags & ET_F_TRUNCATED) && !e->drops);
		break;
	}
	case ET_EV_STATS: {
		const struct et_ev_stats *e = (const void *)h;

		json_key(&w, "counters");
		json_obj_begin(&w);
		for (int i = 0; i < ET_CNT_MAX; i++)
			json_kv_u64(&w, counter_names[i], e->cnt[i]);
		json_obj_end(&w);
		break;
	}
	}
	json_obj_end(&w);
	fputc('\n', o->f);
}

static void json_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct out *o = (struct out *)s;
	struct json_writer w;

	json_init(&w, o->f);
	json_obj_begin(&w);
	j_hdr(&w, "snapshot", &snap->hdr);
	j_inst(&w, &snap->in);
	json_kv_u64(&w, "seq", snap->seq);
	json_kv_s64(&w, "watched", snap->watched);
	json_key(&w, "fds");
	json_arr_begin(&w);
	for (__u32 i = 0; i < snap->nitems; i++) {
		json_obj_begin(&w);
		json_kv_s64(&w, "fd", snap->items[i].fd);
		json_kv_u64(&w, "events", snap->items[i].events);
		json_kv_u64(&w, "data", snap->items[i].data);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_key(&w, "ready");
	json_arr_begin(&w);
	for (__u32 i = 0; i < snap->nready; i++)
		json_s64(&w, snap->ready[i]);
	json_arr_end(&w);
	json_key(&w, "waiters");
	json_arr_begin(&w);
	for (__u32 i = 0; i < snap->nwaiters; i++)
		json_u64(&w, snap->waiters[i]);
	json_arr_end(&w);
	json_kv_bool(&w, "scanning", snap->flags & ET_F_SCANNING);
	json_kv_bool(&w, "truncated", snap->flags & ET_F_TRUNCATED);
	if (snap->has_counters)
		j_inst_counters(&w, &snap->cnt);
	json_obj_end(&w);
	fputc('\n', o->f);
}

static void out_flush(struct et_sink *s)
{
	fflush(((struct out *)s)->f);
}

static struct out *out_alloc(FILE *f)
{
	struct out *o = calloc(1, sizeof(*o));

	if (o) {
		o->f = f;
		o->sink.flush = out_flush;
	}
	return o;
}

struct et_sink *out_json_new(FILE *f)
{
	struct out *o = out_alloc(f);

	if (!o)
		return NULL;
	o->sink.record = json_record;
	o->sink.snapshot = json_snapshot;
	return &o->sink;
}

static void text_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct out *o = (struct out *)s;
	struct et_desc d;

	(void)size;
	et_describe(h, &d);
	fprintf(o->f, "%llu.%06llu %7u %7u %-12s", (unsigned long long)(h->ts_ns / 1000000000ULL),
		(unsigned long long)(h->ts_ns % 1000000000ULL / 1000), h->pid, h->tid,
		et_type_name(h->type));
	if (d.in)
		fprintf(o->f, " epfd=%d(%u)", d.in->epfd, d.in->owner);
	fprintf(o->f, " %s\n", d.what);
}

static void text_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct out *o = (struct out *)s;

	fprintf(o->f, "%llu.%06llu %7u %7u %-12s epfd=%d(%u) watched=%lld ready=%u waiters=%u%s\n",
		(unsigned long long)(snap->hdr.ts_ns / 1000000000ULL),
		(unsigned long long)(snap->hdr.ts_ns % 1000000000ULL / 1000), snap->hdr.pid, 0,
		"snapshot", snap->in.epfd, snap->in.owner, (long long)snap->watched, snap->nready,
		snap->nwaiters, snap->flags & ET_F_TRUNCATED ? " (truncated)" : "");
}

struct et_sink *out_text_new(FILE *f)
{
	struct out *o = out_alloc(f);

	if (!o)
		return NULL;
	o->sink.record = text_record;
	o->sink.snapshot = text_snapshot;
	return &o->sink;
}

void out_free(struct et_sink *s)
{
	free(s);
}
