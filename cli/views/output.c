// SPDX-License-Identifier: GPL-2.0
/*
 * The streaming outputs: JSON Lines (a public interface, documented in the
 * docs/json.md; fields are only ever added) and a one-line-per-event text form.
 *
 * Both start with what the session is: the first JSON line is a "session"
 * record, the text a "#" header.  What the attach plan cannot see is never
 * printed as a number: JSON says null, the text leaves it out.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "chains.h"
#include "describe.h"
#include "fdkind.h"
#include "finding_json.h"
#include "i18n.h"
#include "json.h"
#include "lesson.h"
#include "model.h"
#include "output.h"
#include "recording.h"

#define COMM_CACHE 1024

struct out {
	struct et_sink sink;
	FILE *f;
	struct et_visible vis;
	bool replay;
	bool began;
	__u64 t0;		/* the session's start: text times count from here */
	/* a lesson's step: the sources (1 << src) each record type came from
	 * since its BEFORE, for the AFTER's seen_by */
	__u8 seen[ET_EV_MAX];
	/* text: the comm of each thread, read once from /proc */
	struct {
		__u32 tid;
		char comm[ET_COMM_LEN];
	} comms[COMM_CACHE];
	/*
	 * --json with detectors on: a model fed the same stream, for the
	 * "finding" records.  Per finding (detect.f's order): the version
	 * and the stream time last printed; a changed one waits for a
	 * second of stream time since its last line, or the end.
	 */
	struct model *m;
	struct {
		__u64 version, ts;
	} *fp;
	size_t cap_fp;
	__u64 det_seen;
	__u64 expired_ns;
	struct {
		__u32 pid;
		char comm[ET_COMM_LEN];
	} tgt[REC_MAX_TARGETS];
	int ntgt;
};

/*
 * A target's comm as a recording's header holds it (recording.c's
 * w_begin): from the header in a replay; live, the COMMAND's name for
 * the spawned child (still stopped before its exec), else /proc.
 */
static void target_comm(const struct et_session_info *info, int i, char *buf, size_t len)
{
	const char *b;

	if (info->comms) {
		snprintf(buf, len, "%s", info->comms[i]);
	} else if (info->cmd && i == info->npids - 1) {
		b = strrchr(info->cmd, '/');
		snprintf(buf, len, "%.15s", b ? b + 1 : info->cmd);
	} else {
		proc_comm(info->pids[i], info->pids[i], buf, len);
	}
}

/*
 * The snapshot interval as a recording's header keeps it ("%g"), so that
 * the live stream and `export --format jsonl` say the same.
 */
static __u64 interval_ns(double s)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%g", s);
	return (__u64)(strtod(buf, NULL) * 1e9 + 0.5);
}

/* ---- findings (--json) ------------------------------------------------------ */

#define FINDING_EVERY_NS 1000000000ULL	/* a growing finding: a line a second at most */

/* a model only when a detector is on: --json alone feeds none */
static void findings_begin(struct out *o, const struct et_session_info *info)
{
	struct det_opts d;

	o->ntgt = 0;
	for (int i = 0; i < info->npids && i < REC_MAX_TARGETS; i++) {
		o->tgt[o->ntgt].pid = info->pids[i];
		target_comm(info, i, o->tgt[o->ntgt].comm, sizeof(o->tgt[0].comm));
		o->ntgt++;
	}
	o->m = malloc(sizeof(*o->m));
	if (!o->m)
		return;		/* no findings, the stream goes on */
	model_init(o->m, info->callbacks_visible);
	d = o->m->det.opts;
	if (!detect_any_on(&d)) {
		model_free(o->m);
		free(o->m);
		o->m = NULL;
	}
}

/* the owner's comm: a target's as the session names it, else /proc (live) */
static void finding_comm(struct out *o, __u32 pid, char *buf, size_t len)
{
	for (int i = 0; i < o->ntgt; i++) {
		if (o->tgt[i].pid == pid) {
			snprintf(buf, len, "%s", o->tgt[i].comm);
			return;
		}
	}
	if (o->replay)
		snprintf(buf, len, "?");
	else
		proc_comm(pid, pid, buf, len);
}

static void finding_line(struct out *o, const struct finding *f)
{
	struct json_writer w;
	char comm[ET_COMM_LEN + 1];

	finding_comm(o, f->pid, comm, sizeof(comm));
	json_init_line(&w, o->f);
	json_finding(&w, f, comm, true);
	fputc('\n', o->f);
}

/*
 * Print the findings that are new, or changed and last printed a second
 * of stream time ago (all that changed, at the end).
 */
static void findings_emit(struct out *o, __u64 now, bool end)
{
	const struct detect *d = &o->m->det;
	bool pending = false;

	if (d->version == o->det_seen)
		return;
	if (d->n > o->cap_fp) {
		void *p = realloc(o->fp, d->n * 2 * sizeof(*o->fp));

		if (!p)
			return;
		o->fp = p;
		memset(o->fp + o->cap_fp, 0, (d->n * 2 - o->cap_fp) * sizeof(*o->fp));
		o->cap_fp = d->n * 2;
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];

		if (f->version <= o->fp[i].version)
			continue;
		if (!end && o->fp[i].version && now - o->fp[i].ts < FINDING_EVERY_NS) {
			pending = true;
			continue;
		}
		finding_line(o, f);
		o->fp[i].version = f->version;
		o->fp[i].ts = now;
	}
	/* with one still waiting, look again at the next record */
	if (!pending)
		o->det_seen = d->version;
}

static void findings_feed(struct out *o, const struct et_hdr *h, const struct et_snapshot *snap)
{
	if (h)
		model_apply(o->m, h);
	else
		model_apply_snapshot(o->m, snap);
	findings_emit(o, o->m->now_ns, false);
	/* closed instances go after their linger, as in the other views */
	if (o->m->now_ns - o->expired_ns >= MODEL_LINGER_NS) {
		model_expire(o->m);
		o->expired_ns = o->m->now_ns;
	}
}

static void json_record(struct et_sink *s, const struct et_hdr *h, size_t size);
static void json_snapshot(struct et_sink *s, const struct et_snapshot *snap);

static void json_record_det(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct out *o = (struct out *)s;

	json_record(s, h, size);
	if (o->m)
		findings_feed(o, h, NULL);
}

static void json_snapshot_det(struct et_sink *s, const struct et_snapshot *snap)
{
	struct out *o = (struct out *)s;

	json_snapshot(s, snap);
	if (o->m)
		findings_feed(o, NULL, snap);
}

static void json_end(struct et_sink *s, __u64 now_ns)
{
	struct out *o = (struct out *)s;

	(void)now_ns;
	if (o->m)
		findings_emit(o, o->m->now_ns, true);
}

/* ---- JSON Lines ------------------------------------------------------------ */

/* a string as a recording's header can hold it; "" (unknown): null */
#define HDR_MAX(field) (sizeof(((struct rec_header *)0)->field) - 1)

static void j_str_max(struct json_writer *w, const char *k, const char *s, size_t max)
{
	json_key(w, k);
	if (!s || !s[0])
		json_null(w);
	else
		json_strn(w, s, strnlen(s, max));
}

/*
 * The first line: which plan is in force, so that a consumer can tell "no
 * callbacks happened" (callbacks_visible true, no callback records) from
 * "callbacks cannot be seen here".  Only facts a recording's header holds:
 * the same line comes out of `export --format jsonl` and `replay --json`.
 */
static void json_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct out *o = (struct out *)s;
	struct json_writer w;
	char comm[64];

	et_session_visible(info, &o->vis);
	o->replay = info->replay;
	o->t0 = info->start_mono_ns;
	if (o->began)
		return;
	o->began = true;
	findings_begin(o, info);
	json_init_line(&w, o->f);
	json_obj_begin(&w);
	json_kv_str(&w, "type", "session");
	json_kv_u64(&w, "ts_ns", info->start_mono_ns);
	json_kv_u64(&w, "start_wall_ns", info->start_wall_ns);
	j_str_max(&w, "kernel", info->kernel, HDR_MAX(kernel));
	j_str_max(&w, "machine", info->machine, HDR_MAX(machine));
	j_str_max(&w, "attach", info->attach, HDR_MAX(attach));
	json_kv_u64(&w, "snapshot_interval_ns", interval_ns(info->snapshot_interval));
	json_kv_bool(&w, "all_processes", info->npids == 0);
	json_key(&w, "targets");
	json_arr_begin(&w);
	for (int i = 0; i < info->npids && i < REC_MAX_TARGETS; i++) {
		target_comm(info, i, comm, sizeof(comm));
		json_obj_begin(&w);
		json_kv_u64(&w, "pid", info->pids[i]);
		j_str_max(&w, "comm", strcmp(comm, "?") ? comm : NULL, HDR_MAX(targets[0].comm));
		json_obj_end(&w);
	}
	json_arr_end(&w);
	j_str_max(&w, "command", info->cmd, HDR_MAX(command));
	if (info->lesson)
		j_str_max(&w, "lesson", info->lesson, HDR_MAX(lesson));
	json_kv_bool(&w, "callbacks_visible", info->callbacks_visible);
	json_kv_bool(&w, "sleeps_visible", o->vis.sleeps);
	json_key(&w, "hooks");
	json_arr_begin(&w);
	for (int i = 0; i < info->nhooks && i < REC_MAX_HOOKS; i++) {
		const struct et_hook_info *h = &info->hooks[i];

		json_obj_begin(&w);
		j_str_max(&w, "hook", h->hook, HDR_MAX(hooks[0].hook));
		j_str_max(&w, "using", strcmp(h->using, "-") ? h->using : NULL,
			  HDR_MAX(hooks[0].using));
		j_str_max(&w, "fidelity", h->fidelity, HDR_MAX(hooks[0].fidelity));
		j_str_max(&w, "point", h->point, HDR_MAX(hooks[0].point));
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	fputc('\n', o->f);
}

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
	json_kv_s64_or_null(w, "epfd", in->epfd, in->epfd >= 0);
}

static void j_comm(struct json_writer *w, const char *k, const char *comm)
{
	json_key(w, k);
	json_strn(w, comm, strnlen(comm, ET_COMM_LEN));
}

/* "task", "hardirq", "softirq", "nmi", or null where the plan cannot tell */
static void j_context(struct json_writer *w, unsigned int flags)
{
	const char *ctx = et_context_name(flags);

	json_key(w, "context");
	if (ctx)
		json_str(w, ctx);
	else
		json_null(w);
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

/* Can the plan see what this counter counts? */
static bool counter_visible(const struct et_visible *vis, int i)
{
	switch (i) {
	case ET_CNT_CALLBACKS:
		return vis->callbacks;
	case ET_CNT_SLEEPS:
	case ET_CNT_WAKEUPS:
	case ET_CNT_ZERO_WAKEUPS:	/* "slept and returned 0" needs the sleeps */
		return vis->sleeps;
	}
	return true;
}

static void j_inst_counters(struct json_writer *w, const struct et_inst_counters *c,
			    const struct et_visible *vis)
{
	json_key(w, "counters");
	json_obj_begin(w);
	json_kv_u64_or_null(w, "callbacks", c->callbacks, vis->callbacks);
	json_kv_u64(w, "wait_enter", c->wait_enter);
	json_kv_u64(w, "wait_exit", c->wait_exit);
	json_kv_u64(w, "events", c->events);
	json_kv_u64_or_null(w, "zero_wakeups", c->zero_wakeups, vis->sleeps);
	json_kv_u64_or_null(w, "sleeps", c->sleeps, vis->sleeps);
	json_kv_u64_or_null(w, "wakeups", c->wakeups, vis->sleeps);
	json_obj_end(w);
}

static const char *const lesson_phases[] = { "begin", "before", "after", "end" };
static const char *const lesson_touched[] = { "rbr", "rdllist", "wq", "ovflist", "pollwait" };

/* a kernel event of a lesson's step: what saw it */
static bool lesson_step_record(unsigned int type)
{
	switch (type) {
	case ET_EV_LOST: case ET_EV_STATS: case ET_EV_SNAP_ROUND: case ET_EV_LESSON:
	case ET_EV_SNAP_BEGIN: case ET_EV_SNAP_ITEMS: case ET_EV_SNAP_READY:
	case ET_EV_SNAP_WAITERS: case ET_EV_SNAP_END: case ET_EV_WAIT_CHAIN:
		return false;
	}
	return type < ET_EV_MAX;
}

static void j_lesson(struct out *o, struct json_writer *w, const struct et_ev_lesson *e)
{
	char text[ET_LESSON_TEXT_LEN * 2];
	const char *p;

	json_key(w, "lesson");
	json_strn(w, e->lesson, strnlen(e->lesson, sizeof(e->lesson)));
	json_kv_str(w, "phase", lesson_phases[e->phase]);
	json_kv_u64(w, "step", e->step);
	json_kv_u64(w, "steps", e->nsteps);
	json_key(w, "instances");
	json_arr_begin(w);
	for (int i = 0; i < 2; i++) {
		if (e->epfd[i] < 0 && !e->ep[i])
			continue;
		json_obj_begin(w);
		if (e->ep[i]) {
			json_kv_hex(w, "ep", e->ep[i]);
		} else {
			json_key(w, "ep");
			json_null(w);
		}
		json_kv_s64_or_null(w, "epfd", e->epfd[i], e->epfd[i] >= 0);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_key(w, "args");
	json_arr_begin(w);
	for (int i = 0; i < e->nargs; i++)
		json_s64(w, e->arg[i]);
	json_arr_end(w);
	json_key(w, "hooks");
	json_arr_begin(w);
	for (p = e->hooks; *p && p < e->hooks + sizeof(e->hooks);) {
		size_t n = strcspn(p, ",");

		json_strn(w, p, strnlen(p, n));
		p += n;
		p += *p == ',';
	}
	json_arr_end(w);
	json_key(w, "touched");
	json_arr_begin(w);
	for (unsigned int i = 0; i < sizeof(lesson_touched) / sizeof(lesson_touched[0]); i++)
		if (e->touched & (1u << i))
			json_str(w, lesson_touched[i]);
	json_arr_end(w);
	json_key(w, "text");
	json_strn(w, e->text, strnlen(e->text, sizeof(e->text)));
	/* the English narration with its {N} filled in (the TUI translates) */
	snprintf(text, sizeof(text), "%.*s", (int)sizeof(e->text), e->text);
	{
		char out[ET_LESSON_TEXT_LEN * 2];

		lesson_format(out, sizeof(out), text, e->arg, e->nargs);
		json_kv_str(w, "narration", out);
	}
	if (e->phase == ET_LESSON_AFTER) {
		/* which attach points saw the step: its records' types and sources */
		json_key(w, "seen_by");
		json_arr_begin(w);
		for (int t = 0; t < ET_EV_MAX; t++)
			for (int src = 0; src < 8; src++)
				if (o->seen[t] & (1u << src)) {
					json_obj_begin(w);
					json_kv_str(w, "type", et_type_name(t));
					json_kv_str(w, "src", et_src_name(src));
					json_obj_end(w);
				}
		json_arr_end(w);
	}
	if (e->phase == ET_LESSON_BEFORE || e->phase == ET_LESSON_AFTER)
		memset(o->seen, 0, sizeof(o->seen));
}

/* where a waiter waits: the frames innermost first, each its text, address, module */
static void j_wait_chain(struct json_writer *w, const struct et_ev_wait_chain *e)
{
	char f[ET_CHAIN_SYM_LEN + 48];

	j_inst(w, &e->in);
	json_kv_str(w, "method", chains_method_name(e->method));
	json_kv_hex(w, "site", e->site);
	json_kv_bool(w, "cut", e->cut);
	json_kv_bool(w, "live_stack", e->live);
	json_key(w, "frames");
	json_arr_begin(w);
	for (int i = 0; i < e->nframes && i < ET_CHAIN_FRAMES; i++) {
		const struct et_chain_frame *fr = &e->frame[i];

		json_obj_begin(w);
		json_kv_str(w, "frame", chain_frame_text(fr, f, sizeof(f)));
		json_kv_hex(w, "addr", fr->addr);
		/* the address in the module's file, for addr2line: null unknown */
		if (fr->offset) {
			json_kv_hex(w, "offset", fr->offset);
		} else {
			json_key(w, "offset");
			json_null(w);
		}
		json_key(w, "symbol");
		if (fr->sym[0])
			json_strn(w, fr->sym, strnlen(fr->sym, sizeof(fr->sym)));
		else
			json_null(w);
		json_key(w, "module");
		if (fr->module[0])
			json_strn(w, fr->module, strnlen(fr->module, sizeof(fr->module)));
		else
			json_null(w);
		json_obj_end(w);
	}
	json_arr_end(w);
}

static void json_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct out *o = (struct out *)s;
	struct json_writer w;

	(void)size;
	if (lesson_step_record(h->type) && h->src < 8)
		o->seen[h->type] |= 1u << h->src;
	json_init_line(&w, o->f);
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
		/* ADD/MOD that succeeded: queued at once or not; else null */
		json_key(&w, "queued");
		if (e->queued >= 0)
			json_bool(&w, e->queued);
		else
			json_null(&w);
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
		/* 0: the waker passed no poll flags (a plain wake_up) */
		json_kv_u64_or_null(&w, "key", e->key, e->key != 0);
		j_comm(&w, "comm", e->comm);
		j_context(&w, h->flags);
		break;
	}
	case ET_EV_WAIT_ENTER: {
		const struct et_ev_wait_enter *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "maxevents", e->maxevents);
		json_kv_s64(&w, "timeout_ns", e->timeout_ns);	/* -1: infinite */
		json_kv_str(&w, "syscall", et_wait_sys_name(e->sys));
		break;
	}
	case ET_EV_SLEEP:
		j_inst(&w, &((const struct et_ev_sleep *)h)->in);
		break;
	case ET_EV_WAIT_RUN:
		j_inst(&w, &((const struct et_ev_wait_run *)h)->in);
		json_kv_u64(&w, "delay_ns", ((const struct et_ev_wait_run *)h)->delay_ns);
		break;
	case ET_EV_WAKEUP: {
		const struct et_ev_wakeup *e = (const void *)h;
		bool known = h->flags & ET_F_CTX_KNOWN;
		/* in an interrupt, current is whoever it interrupted */
		bool task = et_context_is_task(h->flags);

		j_inst(&w, &e->in);
		json_kv_u64_or_null(&w, "waker_pid", e->waker_pid, task);
		json_kv_u64_or_null(&w, "waker_tid", e->waker_tid, task);
		json_key(&w, "waker_comm");
		if (task)
			json_strn(&w, e->waker_comm, strnlen(e->waker_comm, ET_COMM_LEN));
		else
			json_null(&w);
		j_context(&w, h->flags);
		json_key(&w, "timer");
		if (known)
			json_bool(&w, h->flags & ET_F_TIMER);
		else
			json_null(&w);
		break;
	}
	case ET_EV_WAIT_EXIT: {
		const struct et_ev_wait_exit *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "ret", e->ret);
		json_kv_u64_or_null(&w, "slept_ns", e->slept_ns, o->vis.sleeps);
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
		json_kv_s64_or_null(&w, "count", e->count, e->count >= 0);
		json_kv_s64_or_null(&w, "requeued", e->requeued, e->requeued >= 0);
		break;
	}
	case ET_EV_EP_INSERT: {
		const struct et_ev_ep_insert *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64(&w, "fd", e->fd);
		json_kv_u64(&w, "events", e->events);
		json_kv_u64(&w, "data", e->data);
		json_kv_u64(&w, "file", e->file);
		break;
	}
	case ET_EV_EP_POLL: {
		const struct et_ev_ep_poll *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64_or_null(&w, "maxevents", e->maxevents, e->maxevents >= 0);
		json_kv_s64_or_null(&w, "deadline_ns", e->deadline_ns, e->deadline_ns >= -1);
		json_kv_u64(&w, "site", e->site);
		break;
	}
	case ET_EV_EP_SEND_EVENTS: {
		const struct et_ev_ep_send_events *e = (const void *)h;

		j_inst(&w, &e->in);
		json_kv_s64_or_null(&w, "maxevents", e->maxevents, e->maxevents >= 0);
		json_kv_u64(&w, "site", e->site);
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
	case ET_EV_WAIT_CHAIN:
		j_wait_chain(&w, (const void *)h);
		break;
	case ET_EV_SHARER:	/* hdr.pid holds the instance, not being a target */
		j_inst(&w, &((const struct et_ev_sharer *)h)->in);
		break;
	case ET_EV_LESSON:
		j_lesson(o, &w, (const void *)h);
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
			json_kv_u64_or_null(&w, counter_names[i], e->cnt[i], counter_visible(&o->vis, i));
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

	json_init_line(&w, o->f);
	json_obj_begin(&w);
	j_hdr(&w, "snapshot", &snap->hdr);
	j_inst(&w, &snap->in);
	json_kv_u64(&w, "seq", snap->seq);
	json_kv_s64_or_null(&w, "watched", snap->watched, snap->watched >= 0);
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
	/* which parts the walk could not give exactly (none listed by an
	 * older recording's truncated snapshot: then every part is suspect) */
	json_key(&w, "inexact");
	json_arr_begin(&w);
	if (snap->flags & ET_F_ITEMS_MOVED)
		json_str(&w, "items_moved");
	if (snap->flags & ET_F_ITEMS_CUT)
		json_str(&w, "items_cut");
	if (snap->flags & ET_F_READY_CUT)
		json_str(&w, "ready_cut");
	if (snap->flags & ET_F_WAITERS_CUT)
		json_str(&w, "waiters_cut");
	json_arr_end(&w);
	/* rbr's shape (small trees): nodes[i] is fds[i], children as positions */
	json_key(&w, "tree");
	if (snap->has_shape) {
		json_obj_begin(&w);
		json_kv_s64_or_null(&w, "root", snap->root, snap->root >= 0);
		json_key(&w, "nodes");
		json_arr_begin(&w);
		for (__u32 i = 0; i < snap->nitems; i++) {
			const struct et_tree_node *t = &snap->tree[i];

			json_obj_begin(&w);
			json_kv_str(&w, "color", t->black ? "black" : "red");
			json_kv_s64_or_null(&w, "left", t->left, t->left >= 0);
			json_kv_s64_or_null(&w, "right", t->right, t->right >= 0);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_obj_end(&w);
	} else {
		json_null(&w);
	}
	if (snap->has_counters)
		j_inst_counters(&w, &snap->cnt, &o->vis);
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
		o->vis = (struct et_visible){ .callbacks = true, .sleeps = true };
		o->sink.flush = out_flush;
	}
	return o;
}

/*
 * JSON Lines to a file or a pipe are written 64 KiB at a time, not 4 KiB:
 * at a million records a second that is 3k write()s a second rather than
 * 50k, each on the syscall slow path the tracepoints put every task on.
 * The session flushes after every read of the ring, so nothing waits
 * longer than it did.  A terminal keeps its line buffering.
 */
static void big_buffer(FILE *f)
{
	static char buf[64 << 10];
	static bool done;

	if (f != stdout || done || isatty(fileno(f)))
		return;
	done = true;
	setvbuf(f, buf, _IOFBF, sizeof(buf));
}

struct et_sink *out_json_new(FILE *f)
{
	struct out *o = out_alloc(f);

	if (!o)
		return NULL;
	big_buffer(f);
	o->sink.record = json_record_det;
	o->sink.snapshot = json_snapshot_det;
	o->sink.begin = json_begin;
	o->sink.end = json_end;
	return &o->sink;
}

/* ---- text ---------------------------------------------------------------------- */

/*
 * Seconds since the session began, as the TUI's event log counts them.
 * The hooks are attached just before the start is read: a record of
 * those first microseconds counts as 0, nothing precedes the start.
 */
static double rel_s(const struct out *o, __u64 ts)
{
	return ts > o->t0 ? (ts - o->t0) / 1e9 : 0.0;
}

static const char *thread_comm(struct out *o, __u32 pid, __u32 tid)
{
	unsigned int h = (tid * 2654435761u) % COMM_CACHE;

	if (!tid)
		tid = pid;
	if (o->comms[h].tid != tid || !o->comms[h].comm[0]) {
		o->comms[h].tid = tid;
		if (o->replay)	/* /proc here knows nothing of the recorded threads */
			snprintf(o->comms[h].comm, sizeof(o->comms[h].comm), "?");
		else
			proc_comm(pid, tid, o->comms[h].comm, sizeof(o->comms[h].comm));
	}
	return o->comms[h].comm;
}

static void comm_forget(struct out *o, __u32 tid)
{
	unsigned int h = (tid * 2654435761u) % COMM_CACHE;

	if (o->comms[h].tid == tid)
		o->comms[h].comm[0] = 0;
}

static void text_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct out *o = (struct out *)s;
	time_t wall = info->start_wall_ns / 1000000000ULL;
	const char *cb_point = "not attachable";
	char when[32], comm[64];
	struct tm tm;

	et_session_visible(info, &o->vis);
	o->replay = info->replay;
	o->t0 = info->start_mono_ns;
	if (o->began)
		return;
	o->began = true;
	for (int i = 0; i < info->nhooks; i++)
		if (!strcmp(info->hooks[i].hook, "callback"))
			cb_point = info->hooks[i].point;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&wall, &tm));
	fputs("# epolltrace: tracing ", o->f);
	if (!info->npids)
		fputs("every process but epolltrace", o->f);
	for (int i = 0; i < info->npids; i++) {
		target_comm(info, i, comm, sizeof(comm));
		fprintf(o->f, "%spid %u (%s)", i ? ", " : "", info->pids[i], comm);
	}
	fprintf(o->f, " on Linux %s %s, --attach=%s, snapshots every %gs, started %s\n",
		info->kernel ? info->kernel : "?", info->machine ? info->machine : "?",
		info->attach ? info->attach : "?", info->snapshot_interval, when);
	if (info->callbacks_visible)
		fprintf(o->f, "# ep_poll_callback: seen, exact (%s)", cb_point);
	else	/* cb_point says how the views cope without it */
		fprintf(o->f, "# ep_poll_callback: not attachable, so no ep_poll_callback lines: %s",
			cb_point);
	if (!o->vis.sleeps)
		fputs("; sleeps and wakeups: not seen", o->f);
	fputs("; times: seconds since the start\n", o->f);
	fprintf(o->f, "# %9s %-15s %7s %7s %-22s %s\n", "TIME", "COMM", "PID", "TID", "EVENT",
		"DETAILS");
}

static void text_line(struct out *o, __u64 ts, const char *comm, __u32 pid, __u32 tid,
		      const char *event, const struct et_inst *in, const char *what)
{
	char ids[2][16];

	snprintf(ids[0], sizeof(ids[0]), "%u", pid);
	snprintf(ids[1], sizeof(ids[1]), "%u", tid);
	fprintf(o->f, "%11.6f %-15.15s %7s %7s %-22s", rel_s(o, ts), comm, pid ? ids[0] : "-",
		tid ? ids[1] : "-", event);
	if (in && in->epfd >= 0)
		fprintf(o->f, " %u/epfd %d", in->owner, in->epfd);
	else if (in)	/* not known: "–", never a number */
		fprintf(o->f, " %u/epfd %s", in->owner, et_unknown());
	fprintf(o->f, "%s%s\n", what[0] ? " " : "", what);
}

static void text_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct out *o = (struct out *)s;
	const char *comm, *ctx;
	__u32 pid = h->pid, tid = h->tid;
	struct et_desc d;
	char irq[16];

	(void)size;
	if (!o->t0)
		o->t0 = h->ts_ns;
	et_describe_vis(h, &d, &o->vis);
	if (h->type == ET_EV_CALLBACK) {
		/* the waker; in an interrupt, nobody: current was only interrupted */
		ctx = et_context_name(h->flags);
		if (ctx && strcmp(ctx, "task")) {
			snprintf(irq, sizeof(irq), "[%s]", ctx);
			comm = irq;
			pid = tid = 0;
		} else {
			comm = ((const struct et_ev_callback *)h)->comm;
		}
	} else {
		comm = thread_comm(o, h->pid, h->tid);
	}
	text_line(o, h->ts_ns, comm, pid, tid, d.func, d.in, d.what);
	if (h->type == ET_EV_TASK_EXIT)
		comm_forget(o, h->tid);
}

static void text_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct out *o = (struct out *)s;
	char what[160];

	snprintf(what, sizeof(what), "watched=%lld ready=%u waiters=%u%s",
		 snap->watched >= 0 ? (long long)snap->watched : (long long)snap->nitems,
		 snap->nready, snap->nwaiters, snap->flags & ET_F_TRUNCATED ? " (truncated)" : "");
	text_line(o, snap->hdr.ts_ns, thread_comm(o, snap->hdr.pid, snap->hdr.pid),
		  snap->hdr.pid, 0, "snapshot", &snap->in, what);
}

struct et_sink *out_text_new(FILE *f)
{
	struct out *o = out_alloc(f);

	if (!o)
		return NULL;
	o->sink.record = text_record;
	o->sink.snapshot = text_snapshot;
	o->sink.begin = text_begin;
	return &o->sink;
}

void out_free(struct et_sink *s)
{
	struct out *o = (struct out *)s;

	if (o && o->m) {
		model_free(o->m);
		free(o->m);
	}
	if (o)
		free(o->fp);
	free(s);
}
