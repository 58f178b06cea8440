// SPDX-License-Identifier: GPL-2.0
/*
 * Records in words, for the text stream and the TUI's event log.
 */
#include <langinfo.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "chains.h"
#include "describe.h"
#include "event.h"
#include "evmask.h"
#include "i18n.h"

const char *et_ctl_op_name(int op)
{
	switch (op) {
	case ET_CTL_ADD: return "ADD";
	case ET_CTL_DEL: return "DEL";
	case ET_CTL_MOD: return "MOD";
	}
	return "?";
}

const char *et_context_name(unsigned int flags)
{
	if (!(flags & ET_F_CTX_KNOWN))
		return NULL;
	if (flags & ET_F_NMI)
		return "nmi";
	if (flags & ET_F_HARDIRQ)
		return "hardirq";
	if (flags & ET_F_SOFTIRQ)
		return "softirq";
	return "task";
}

bool et_context_is_task(unsigned int flags)
{
	return !(flags & ET_F_CTX_KNOWN) ||
	       !(flags & (ET_F_NMI | ET_F_HARDIRQ | ET_F_SOFTIRQ | ET_F_TIMER));
}

const char *et_wait_sys_name(unsigned int sys)
{
	static const char *const n[] = { "epoll_wait", "epoll_pwait", "epoll_pwait2",
					 "do_epoll_wait" };

	return sys <= ET_WAIT_DO_EPOLL_WAIT ? n[sys] : "?";
}

static bool unknown_ascii;

void et_unknown_ascii(bool ascii)
{
	unknown_ascii = ascii;
}

const char *et_unknown(void)
{
	return unknown_ascii || strcmp(nl_langinfo(CODESET), "UTF-8") ? "-" : "\u2013";
}

/* every human view names masks the same way (evmask.h) */
char *et_events_str(__u32 mask, char *buf, size_t len)
{
	return et_mask_str(mask, buf, len);
}

/* "EAGAIN" for -11; the number if the name is not known */
static const char *errno_str(int neg, char *buf, size_t len)
{
	const char *n = neg < 0 ? strerrorname_np(-neg) : NULL;

	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "%d", neg);
	return buf;
}

static const char *const kind_names[ETK_MAX] = {
	[ETK_INSTANCE] = "instance", [ETK_CTL] = "ctl", [ETK_RELEASE] = "release",
	[ETK_CALLBACK] = "callback", [ETK_WAIT] = "wait", [ETK_SLEEP] = "sleep",
	[ETK_WAKEUP] = "wakeup", [ETK_TASK] = "task", [ETK_META] = "meta",
};

const char *et_kind_name(enum et_kind k)
{
	return k < ETK_MAX ? kind_names[k] : "?";
}

int et_kind_parse(const char *s)
{
	size_t n = strlen(s);

	if (!n)
		return -1;
	for (int k = 0; k < ETK_MAX; k++)
		if (!strncmp(kind_names[k], s, n))
			return k;
	return -1;
}

/* the details are formatted only when asked for: the TUI classifies
 * every record, but words only the ones it shows */
static void __attribute__((format(printf, 3, 4)))
what(struct et_desc *d, bool fmt, const char *f, ...)
{
	va_list ap;

	if (!fmt)
		return;
	va_start(ap, f);
	vsnprintf(d->what, sizeof(d->what), f, ap);
	va_end(ap);
}

/* more words after what() */
static void __attribute__((format(printf, 2, 3)))
append(struct et_desc *d, const char *f, ...)
{
	size_t n = strlen(d->what);
	va_list ap;

	if (n + 1 >= sizeof(d->what))
		return;
	va_start(ap, f);
	vsnprintf(d->what + n, sizeof(d->what) - n, f, ap);
	va_end(ap);
}

/* what a wakeup's waker was: a task, or an interrupt (then current is
 * only whoever it interrupted) */
static void waker_str(const struct et_ev_wakeup *e, char *buf, size_t len)
{
	const char *ctx = et_context_name(e->hdr.flags);

	if (e->hdr.flags & ET_F_TIMER)
		snprintf(buf, len, _("by a timer (%s)"), ctx ? ctx : "irq");
	else if (et_context_is_task(e->hdr.flags))
		snprintf(buf, len, ctx ? _("by %u/%.16s") : _("by %u/%.16s (context unknown)"),
			 e->waker_tid, e->waker_comm);
	else
		snprintf(buf, len, _("by an interrupt (%s)"), ctx ? ctx : "irq");
}

static void describe(const struct et_hdr *h, struct et_desc *d, bool fmt,
		     const struct et_visible *vis)
{
	char ev[160], num[24];

	d->kind = ETK_META;
	d->func = "";
	d->in = NULL;
	d->fd = -1;
	d->what[0] = 0;
	switch (h->type) {
	case ET_EV_EP_CREATE:
		d->kind = ETK_INSTANCE;
		d->func = "ep_alloc";
		d->in = &((const struct et_ev_create *)h)->in;
		break;
	case ET_EV_EP_CLOSE:
		d->kind = ETK_INSTANCE;
		d->func = "ep_free";
		d->in = &((const struct et_ev_close *)h)->in;
		break;
	case ET_EV_CTL: {
		const struct et_ev_ctl *e = (const void *)h;

		d->kind = ETK_CTL;
		d->func = e->op == ET_CTL_ADD ? "ep_insert" : e->op == ET_CTL_MOD ? "ep_modify" :
			  "ep_remove";
		d->in = &e->in;
		d->fd = e->fd;
		if (!fmt)
			break;
		if (e->op == ET_CTL_DEL)
			what(d, fmt, "%s fd=%d", et_ctl_op_name(e->op), e->fd);
		else
			what(d, fmt, "%s fd=%d events=%s data=0x%llx", et_ctl_op_name(e->op),
			     e->fd, et_events_str(e->events, ev, sizeof(ev)),
			     (unsigned long long)e->data);
		if (e->ret)
			append(d, _(" failed: %s"), errno_str(e->ret, num, sizeof(num)));
		else if (e->queued > 0)
			append(d, "%s", _(" (ready at once: queued on rdllist)"));
		break;
	}
	case ET_EV_RELEASE: {
		const struct et_ev_release *e = (const void *)h;

		d->kind = ETK_RELEASE;
		d->func = "eventpoll_release_file";
		d->in = &e->in;
		d->fd = e->fd;
		what(d, fmt, _("fd=%d (last reference closed)"), e->fd);
		break;
	}
	case ET_EV_CALLBACK: {
		const struct et_ev_callback *e = (const void *)h;
		const char *ctx = et_context_name(h->flags);

		d->kind = ETK_CALLBACK;
		d->func = "ep_poll_callback";
		d->in = &e->in;
		d->fd = e->fd;
		if (!fmt)
			break;
		/* key 0: the waker did not say which events (a plain wake_up) */
		if (e->key)
			what(d, fmt, "fd=%d %s", e->fd, et_events_str(e->key, ev, sizeof(ev)));
		else
			what(d, fmt, "fd=%d", e->fd);
		if (ctx && strcmp(ctx, "task"))
			append(d, _(" in %s"), ctx);
		else
			append(d, _(" by %.16s"), e->comm);
		break;
	}
	case ET_EV_WAIT_ENTER: {
		const struct et_ev_wait_enter *e = (const void *)h;

		d->kind = ETK_WAIT;
		d->func = et_wait_sys_name(e->sys);
		d->in = &e->in;
		if (e->timeout_ns < 0)
			what(d, fmt, _("maxevents=%d timeout=infinite"), e->maxevents);
		else
			what(d, fmt, "maxevents=%d timeout=%lldms", e->maxevents,
			     (long long)(e->timeout_ns / 1000000));
		break;
	}
	case ET_EV_SLEEP:
		d->kind = ETK_SLEEP;
		d->func = "schedule";
		d->in = &((const struct et_ev_sleep *)h)->in;
		break;
	case ET_EV_WAKEUP: {
		const struct et_ev_wakeup *e = (const void *)h;

		d->kind = ETK_WAKEUP;
		d->func = "try_to_wake_up";
		d->in = &e->in;
		if (fmt)
			waker_str(e, d->what, sizeof(d->what));
		break;
	}
	case ET_EV_WAIT_RUN: {
		const struct et_ev_wait_run *e = (const void *)h;

		d->kind = ETK_WAKEUP;
		d->func = "sched_switch";
		d->in = &e->in;
		if (!fmt)
			break;
		if (e->delay_ns < 10000000ULL)
			what(d, fmt, _("ran %lluus after its wakeup"),
			     (unsigned long long)(e->delay_ns / 1000));
		else
			what(d, fmt, _("ran %.1fms after its wakeup"), e->delay_ns / 1e6);
		break;
	}
	case ET_EV_WAIT_EXIT: {
		const struct et_ev_wait_exit *e = (const void *)h;

		d->kind = ETK_WAIT;
		d->func = "epoll_wait ret";
		d->in = &e->in;
		if (!fmt)
			break;
		if (e->ret < 0)
			what(d, fmt, _("failed: %s"), errno_str(e->ret, num, sizeof(num)));
		else
			what(d, fmt, ngettext("%d event", "%d events", e->ret), e->ret);
		if (!vis || vis->sleeps) {
			/* in the unit a person reads: 850us, 12.3ms, 2.01s */
			if (e->slept_ns < 10000000ULL)
				append(d, _(", slept %lluus"),
				       (unsigned long long)(e->slept_ns / 1000));
			else if (e->slept_ns < 10000000000ULL)
				append(d, _(", slept %.1fms"), e->slept_ns / 1e6);
			else
				append(d, _(", slept %.2fs"), e->slept_ns / 1e9);
		}
		break;
	}
	case ET_EV_SEND_EVENTS: {
		const struct et_ev_send_events *e = (const void *)h;

		d->kind = ETK_WAIT;
		d->func = "ep_send_events";
		d->in = &e->in;
		if (!fmt)
			break;
		/* what the hook could not read is "–", never -1 (issue 12) */
		if (e->count < 0)
			what(d, fmt, _("to user space: %s"), et_unknown());
		else
			what(d, fmt, _("%d to user space"), e->count);
		if (e->requeued >= 0)
			append(d, _(", %d left on the ready list"), e->requeued);
		else
			append(d, _(", left on the ready list: %s"), et_unknown());
		break;
	}
	case ET_EV_SCAN: {
		const struct et_ev_scan *e = (const void *)h;

		d->kind = ETK_WAIT;
		d->func = "ep_done_scan";
		d->in = &e->in;
		what(d, fmt, e->truncated ? _("%u left on the ready list (or more)") :
			     _("%u left on the ready list"), e->n);
		break;
	}
	case ET_EV_TASK_EXIT: {
		/* task->exit_code: the wait status (status << 8, or the signal) */
		int code = ((const struct et_ev_task_exit *)h)->exit_code;
		const char *sig = code & 0x7f ? sigabbrev_np(code & 0x7f) : NULL;

		d->kind = ETK_TASK;
		d->func = "do_exit";
		what(d, fmt, "%s", h->flags & ET_F_GROUP_DEAD ? _("process") : _("thread"));
		if (!fmt)
			break;
		if (!(code & 0x7f))
			append(d, _(", exit status %d"), (code >> 8) & 0xff);
		else if (sig)
			append(d, _(", killed by SIG%s"), sig);
		else
			append(d, _(", killed by signal %d"), code & 0x7f);
		break;
	}
	case ET_EV_FORK:
		d->kind = ETK_TASK;
		d->func = "fork";
		what(d, fmt, "child=%u",
			 ((const struct et_ev_fork *)h)->child_pid);
		break;
	case ET_EV_WAIT_CHAIN: {
		const struct et_ev_wait_chain *e = (const void *)h;
		char f[ET_CHAIN_SYM_LEN + 24];

		d->kind = ETK_WAIT;
		d->func = "wait_site";
		d->in = &e->in;
		what(d, fmt, _("waits at (%s):"), chains_method_name(e->method));
		if (!fmt)
			break;
		for (int i = 0; i < e->nframes && i < ET_CHAIN_FRAMES; i++)
			append(d, "%s %s", i ? " <-" : "", chain_frame_name(&e->frame[i], f, sizeof(f)));
		break;
	}
	case ET_EV_SHARER:
		d->kind = ETK_TASK;
		d->func = "sharer";
		what(d, fmt, _("pid=%u holds epfd %d of %u"), h->pid,
		     ((const struct et_ev_sharer *)h)->in.epfd,
		     ((const struct et_ev_sharer *)h)->in.owner);
		break;
	case ET_EV_LESSON: {
		static const char *const ph[] = { "begin", "before", "after", "end" };
		const struct et_ev_lesson *e = (const void *)h;

		d->kind = ETK_META;
		d->func = "lesson";
		what(d, fmt, "%.*s %s step %u/%u", (int)sizeof(e->lesson), e->lesson,
		     ph[e->phase], e->step, e->nsteps);
		break;
	}
	case ET_EV_STATS: {
		const struct et_ev_stats *e = (const void *)h;

		d->func = "stats";
		what(d, fmt, "waits=%llu events=%llu drops=%llu",
			 (unsigned long long)e->cnt[ET_CNT_WAIT_EXIT],
			 (unsigned long long)e->cnt[ET_CNT_EVENTS_DELIVERED],
			 (unsigned long long)e->cnt[ET_CNT_RB_DROPS]);
		if (fmt && (!vis || vis->callbacks))
			append(d, " callbacks=%llu", (unsigned long long)e->cnt[ET_CNT_CALLBACKS]);
		break;
	}
	case ET_EV_EP_INSERT: {
		const struct et_ev_ep_insert *e = (const void *)h;

		d->kind = ETK_CTL;
		d->func = "ep_insert";
		d->in = &e->in;
		d->fd = e->fd;
		what(d, fmt, _("insert fd=%d events=%s data=0x%llx (inline site)"), e->fd,
		     fmt ? et_events_str(e->events, ev, sizeof(ev)) : "",
		     (unsigned long long)e->data);
		break;
	}
	case ET_EV_EP_POLL: {
		const struct et_ev_ep_poll *e = (const void *)h;

		d->kind = ETK_WAIT;
		d->func = "ep_poll";
		d->in = &e->in;
		if (!fmt)
			break;
		what(d, fmt, _("wait loop entered, maxevents=%d"), e->maxevents);
		if (e->deadline_ns == -1)
			append(d, "%s", _(", no timeout"));
		else if (e->deadline_ns == 0)
			append(d, "%s", _(", does not wait"));
		else if (e->deadline_ns > 0)
			append(d, _(", times out in %.3fms"),
			       ((double)e->deadline_ns - (double)h->ts_ns) / 1e6);
		append(d, "%s", _(" (inline site)"));
		break;
	}
	case ET_EV_EP_SEND_EVENTS: {
		const struct et_ev_ep_send_events *e = (const void *)h;

		d->kind = ETK_WAIT;
		d->func = "ep_send_events";
		d->in = &e->in;
		what(d, fmt, _("copy to user space starts, maxevents=%d (inline site)"),
		     e->maxevents);
		break;
	}
	case ET_EV_SNAP_ROUND: {
		const struct et_ev_snap_round *e = (const void *)h;

		d->func = "snapshot round";
		what(d, fmt, (h->flags & ET_F_TRUNCATED) || e->drops ?
			     _("round %llu: %u instances walked, incomplete") :
			     _("round %llu: %u instances walked"), (unsigned long long)e->seq,
		     e->instances);
		break;
	}
	case ET_EV_LOST:
		d->func = "lost";
		what(d, fmt, _("%llu records lost"),
			 (unsigned long long)((const struct et_ev_lost *)h)->count);
		break;
	}
}

void et_session_visible(const struct et_session_info *info, struct et_visible *vis)
{
	vis->callbacks = info->callbacks_visible;
	vis->sleeps = true;
	vis->inserts = vis->polls = vis->transfers = false;
	for (int i = 0; i < info->nhooks; i++) {
		bool on = strcmp(info->hooks[i].using, "-") != 0;

		if (!strcmp(info->hooks[i].hook, "sleep"))
			vis->sleeps = on;
		else if (!strcmp(info->hooks[i].hook, "ep_insert"))
			vis->inserts = on;
		else if (!strcmp(info->hooks[i].hook, "ep_poll"))
			vis->polls = on;
		else if (!strcmp(info->hooks[i].hook, "ep_send_events"))
			vis->transfers = on;
	}
}

void et_describe(const struct et_hdr *h, struct et_desc *d)
{
	describe(h, d, true, NULL);
}

void et_describe_vis(const struct et_hdr *h, struct et_desc *d, const struct et_visible *vis)
{
	describe(h, d, true, vis);
}

void et_classify(const struct et_hdr *h, struct et_desc *d)
{
	describe(h, d, false, NULL);
}

const char *et_explain(const struct et_hdr *h)
{
	switch (h->type) {
	case ET_EV_EP_CREATE:
		return _("epoll_create: ep_alloc makes a struct eventpoll: an empty rb-tree (rbr), "
		       "an empty ready list (rdllist) and an empty wait queue (wq).");
	case ET_EV_EP_CLOSE:
		return _("The last reference to the instance is gone: every epitem is removed "
		       "and the struct eventpoll freed.");
	case ET_EV_CTL:
		switch (((const struct et_ev_ctl *)h)->op) {
		case ET_CTL_ADD:
			return _("epoll_ctl(ADD) -> ep_insert: a new epitem goes into the rb-tree; "
			       "ep_item_poll hooks ep_poll_callback onto the file's wait queue "
			       "(poll_wait), and queues the item on rdllist at once if the file "
			       "is already ready.");
		case ET_CTL_MOD:
			return _("epoll_ctl(MOD) -> ep_modify: the epitem's events change; "
			       "the file "
			       "is polled again and the item queued if it is ready now.");
		default:
			return _("epoll_ctl(DEL) -> ep_remove: the epitem leaves the rb-tree, its "
			       "callback is unhooked from the file, and it leaves rdllist.");
		}
	case ET_EV_RELEASE:
		return _("The file's last reference was closed: eventpoll_release_file removes "
		       "its epitem from every instance (closing one fd of a dup'd file does not).");
	case ET_EV_CALLBACK:
		return _("ep_poll_callback: the watched file woke its wait queue; the epitem is "
		       "appended to rdllist (to ovflist during a scan) and a thread sleeping "
		       "on wq is woken.");
	case ET_EV_WAIT_ENTER:
		return _("epoll_wait -> ep_poll: if rdllist holds items the thread takes them at "
		       "once; otherwise it adds itself to wq and sleeps.");
	case ET_EV_SLEEP:
		return _("The thread found rdllist empty and sleeps on wq (schedule) until a "
		       "callback or its timeout wakes it.");
	case ET_EV_WAKEUP:
		return _("The sleeping thread was woken (by ep_poll_callback, a signal or its "
		       "timeout) and leaves wq.");
	case ET_EV_WAIT_RUN:
		return _("The woken thread got a CPU (sched_switch): from its wakeup to here it "
		       "was runnable but not running -- the wakeup latency.");
	case ET_EV_WAIT_EXIT:
		return _("epoll_wait returns: ep_send_events copied the ready items to user space; "
		       "level-triggered ones go back on rdllist, edge-triggered and one-shot ones "
		       "do not.");
	case ET_EV_SEND_EVENTS:
		return _("ep_send_events: items were taken off rdllist and polled; those still "
		       "ready were copied to user space.");
	case ET_EV_SCAN:
		return _("ep_done_scan: what the scan left (level-triggered items put back, and "
		       "items queued on ovflist meanwhile) is spliced back onto rdllist.");
	case ET_EV_TASK_EXIT:
		return _("A traced thread exited; if it was waiting it is no longer on wq.");
	case ET_EV_FORK:
		return _("A traced process forked; the child shares the parent's instances.");
	case ET_EV_WAIT_CHAIN:
		return _("A thread waits from a new place in its code: the user-space call chain "
		       "that led to epoll_wait.");
	case ET_EV_SHARER:
		return _("A process that is no target holds a traced instance (inherited, or "
		       "passed over a socket): it is traced like a target from now on.");
	case ET_EV_LOST:
		return _("The ring buffer was full: records were lost; the model is resynced "
		       "from the next snapshot.");
	case ET_EV_STATS:
		return _("Exact counters kept in BPF maps.");
	case ET_EV_EP_INSERT:
		return _("ep_insert: the new epitem goes into the rb-tree and ep_item_poll hooks "
		       "ep_poll_callback onto the file's wait queue (seen at its inlined site).");
	case ET_EV_EP_POLL:
		return _("ep_poll: the wait enters the kernel's loop: take ready items at once, or "
		       "join wq and sleep (seen at its inlined site).");
	case ET_EV_EP_SEND_EVENTS:
		return _("ep_send_events: rdllist is taken for the copy to user space; until "
		       "ep_done_scan, ep_poll_callback queues items on ovflist instead.");
	case ET_EV_SNAP_ROUND:
		return _("A snapshot round walked every instance the traced processes hold; one "
		       "a complete round did not find is gone.");
	case ET_EV_LESSON:
		return _("A lesson's stop (epolltrace learn): what a step is about to do, or what "
			 "the kernel did, told after a snapshot of its state once the step was done.");
	}
	return "";
}
