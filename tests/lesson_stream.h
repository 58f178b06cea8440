/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small lesson's stream, made up record by record, for the lesson
 * layout's tests: tests/lesson_tui_test.c feeds it to the layout,
 * tests/lesson_rec.c writes it to a recording for tests/lessontui.sh.
 *
 * Five steps, ten stops, two instances (A: epfd 3, B: epfd 4, both of pid
 * 100; B is made between steps 4 and 5, unnarrated):
 *   1 epoll_create1 makes A             (tracepoint)
 *   2 ADD fds 5 and 6 to A              (fentry)   touches rbr
 *   3 data on fd 5: ep_poll_callback    (kprobe)   touches rdllist
 *   4 thread 101 takes it, then sleeps  (inline)   touches rdllist, wq
 *   5 data on fd 9 of A (LT) and B (ET) (kprobe)   touches rdllist
 * Each step ends with a snapshot of its instances (src iter) before its
 * AFTER, as `learn` takes one.
 */
#ifndef EPOLLTRACE_TEST_LESSON_STREAM_H
#define EPOLLTRACE_TEST_LESSON_STREAM_H

#include <stdio.h>
#include <string.h>
#include "event.h"

#define LS_IN 0x1u
#define LS_ET (1u << 31)
#define LS_NSTEPS 5
#define LS_NSTOPS (2 * LS_NSTEPS)

static const struct et_inst ls_a = { .ep = 0xffff888000001000ull, .owner = 100, .epfd = 3 };
static const struct et_inst ls_b = { .ep = 0xffff888000002000ull, .owner = 100, .epfd = 4 };

struct ls_out {
	void *ctx;
	void (*record)(void *ctx, const struct et_hdr *h, size_t size);
	void (*snapshot)(void *ctx, const struct et_snapshot *s);
	/* called after each stop's record, with its index */
	void (*stop)(void *ctx, int k);
	/* feed only up to (and including) stop `until`; -1 all, END included */
	int until;
	/* ... and only once this many stops went by (the part after them) */
	int after;
	int stops;		/* stops fed so far */
	__u64 now;
};

static void ls_hdr(struct ls_out *o, struct et_hdr *h, unsigned int type, __u32 tid,
		   unsigned int src)
{
	memset(h, 0, sizeof(*h));
	h->ts_ns = o->now += 1000000;	/* 1 ms apart */
	h->pid = 100;
	h->tid = tid;
	h->type = type;
	h->src = (__u8)src;
}

static bool ls_done(const struct ls_out *o)
{
	return o->until >= 0 && o->stops > o->until;
}

static bool ls_skip(const struct ls_out *o)
{
	return ls_done(o) || o->stops < o->after;
}

static void ls_emit(struct ls_out *o, const struct et_hdr *h, size_t size)
{
	if (!ls_skip(o))
		o->record(o->ctx, h, size);
}

static void ls_lesson(struct ls_out *o, int phase, int step, const struct et_inst *a,
		      const struct et_inst *b, unsigned int touched, const char *hooks,
		      const char *text, int nargs, long long a0, long long a1)
{
	struct et_ev_lesson l;

	if (ls_done(o))
		return;
	/* the presenter reads before going on: past the model's settling window */
	if (phase == ET_LESSON_BEFORE)
		o->now += 200000000;
	memset(&l, 0, sizeof(l));
	ls_hdr(o, &l.hdr, ET_EV_LESSON, 100, ET_SRC_USER);
	l.ep[0] = a ? a->ep : 0;
	l.ep[1] = b ? b->ep : 0;
	l.epfd[0] = a ? a->epfd : -1;
	l.epfd[1] = b ? b->epfd : -1;
	l.step = (__u16)step;
	l.nsteps = LS_NSTEPS;
	l.phase = (__u8)phase;
	l.nargs = (__u8)nargs;
	l.touched = (__u16)touched;
	l.arg[0] = a0;
	l.arg[1] = a1;
	snprintf(l.lesson, sizeof(l.lesson), "%s", "synthetic");
	snprintf(l.hooks, sizeof(l.hooks), "%s", hooks);
	snprintf(l.text, sizeof(l.text), "%s", text);
	if (ls_skip(o)) {
		o->stops += phase == ET_LESSON_BEFORE || phase == ET_LESSON_AFTER;
		return;
	}
	o->record(o->ctx, &l.hdr, sizeof(l));
	if (phase == ET_LESSON_BEFORE || phase == ET_LESSON_AFTER) {
		if (o->stop)
			o->stop(o->ctx, o->stops);
		o->stops++;
	}
}

/* a snapshot of in: its items (fd, mask), ready fds, waiting tids */
static void ls_snap(struct ls_out *o, const struct et_inst *in, int nitems, const int *fds,
		    const __u32 *masks, int nready, const int *ready, int nwait,
		    const __u32 *tids)
{
	struct et_snap_item items[8];
	__s32 rd[8];
	__u32 wt[8];
	struct et_snapshot s;

	if (ls_done(o))
		return;
	/* taken once the step has settled, as `learn` takes it */
	o->now += 200000000;
	memset(&s, 0, sizeof(s));
	ls_hdr(o, &s.hdr, ET_EV_SNAP_BEGIN, 0, ET_SRC_ITER);
	s.in = *in;
	s.seq = o->now;
	s.watched = nitems;
	for (int i = 0; i < nitems; i++)
		items[i] = (struct et_snap_item){ .fd = fds[i], .events = masks[i],
						  .data = (__u64)fds[i],
						  .file = 0x9000 - (__u64)fds[i] * 16 };
	for (int i = 0; i < nready; i++)
		rd[i] = ready[i];
	for (int i = 0; i < nwait; i++)
		wt[i] = tids[i];
	s.items = items;
	s.ready = rd;
	s.waiters = wt;
	s.nitems = s.cap_items = (__u32)nitems;
	s.nready = s.cap_ready = (__u32)nready;
	s.nwaiters = s.cap_waiters = (__u32)nwait;
	if (!ls_skip(o))
		o->snapshot(o->ctx, &s);
}

static void ls_create(struct ls_out *o, const struct et_inst *in)
{
	struct et_ev_create e = { .in = *in };

	ls_hdr(o, &e.hdr, ET_EV_EP_CREATE, 100, ET_SRC_TRACEPOINT);
	ls_emit(o, &e.hdr, sizeof(e));
}

static void ls_add(struct ls_out *o, const struct et_inst *in, int fd, __u32 events)
{
	struct et_ev_ctl e = { .in = *in, .op = ET_CTL_ADD, .fd = fd, .events = events,
			       .data = (__u64)fd, .file = 0x9000 - (__u64)fd * 16 };

	ls_hdr(o, &e.hdr, ET_EV_CTL, 100, ET_SRC_FENTRY);
	ls_emit(o, &e.hdr, sizeof(e));
}

static void ls_callback(struct ls_out *o, const struct et_inst *in, int fd, __u32 events)
{
	struct et_ev_callback e = { .in = *in, .fd = fd, .events = events, .key = LS_IN,
				    .data = (__u64)fd };

	ls_hdr(o, &e.hdr, ET_EV_CALLBACK, 102, ET_SRC_KPROBE);
	e.hdr.pid = 102;
	memcpy(e.comm, "writer", 7);
	ls_emit(o, &e.hdr, sizeof(e));
}

static void ls_wait(struct ls_out *o, const struct et_inst *in, __u32 tid)
{
	struct et_ev_wait_enter e = { .in = *in, .maxevents = 8, .timeout_ns = -1 };

	ls_hdr(o, &e.hdr, ET_EV_WAIT_ENTER, tid, ET_SRC_INLINE);
	ls_emit(o, &e.hdr, sizeof(e));
}

static void ls_send(struct ls_out *o, const struct et_inst *in, __u32 tid, int fd)
{
	struct et_ev_send_events s = { .in = *in, .count = 1, .requeued = 0 };
	struct et_ev_wait_exit x = { .in = *in, .ret = 1, .ncopied = 1 };

	ls_hdr(o, &s.hdr, ET_EV_SEND_EVENTS, tid, ET_SRC_INLINE);
	ls_emit(o, &s.hdr, sizeof(s));
	ls_hdr(o, &x.hdr, ET_EV_WAIT_EXIT, tid, ET_SRC_INLINE);
	x.ev[0] = (struct et_wait_event){ .events = LS_IN, .data = (__u64)fd };
	ls_emit(o, &x.hdr, sizeof(x));
}

static void ls_sleep(struct ls_out *o, const struct et_inst *in, __u32 tid)
{
	struct et_ev_sleep e = { .in = *in };

	ls_hdr(o, &e.hdr, ET_EV_SLEEP, tid, ET_SRC_INLINE);
	ls_emit(o, &e.hdr, sizeof(e));
}

/* the texts: English msgids with {N}, as the lessons write them */
#define LS_T_TITLE "A made-up lesson"
#define LS_B1 "epoll_create1 asks the kernel for an instance."
#define LS_A1 "ep_alloc made a struct eventpoll: epfd {0}, with an empty rbr, rdllist and wq."
#define LS_B2 "epoll_ctl ADD puts fds {0} and {1} into the interest set."
#define LS_A2 "ep_insert linked {0} epitems into rbr, ordered by (file, fd); {2} was not given."
#define LS_B3 "Data arrives on fd {0}."
#define LS_A3 "ep_poll_callback queued fd {0}'s epitem on rdllist."
#define LS_B4 "Thread {0} calls epoll_wait."
#define LS_A4 "ep_send_events copied {0} event; thread {1} waits again and sleeps on wq."
#define LS_B5 "The same data on fd 9, watched level-triggered by A and edge-triggered by B."
#define LS_A5 "ep_poll_callback queued fd 9 on both rdllists."

/* the whole lesson (or up to o->until) */
static void ls_run(struct ls_out *o)
{
	static const int f56[] = { 5, 6 }, f569[] = { 5, 6, 9 }, f9[] = { 9 }, r5[] = { 5 };
	static const int r9[] = { 9 };
	static const __u32 m2[] = { LS_IN, LS_IN }, m3[] = { LS_IN, LS_IN, LS_IN };
	static const __u32 met[] = { LS_IN | LS_ET }, t101[] = { 101 };

	ls_lesson(o, ET_LESSON_BEGIN, 0, NULL, NULL, 0, "", LS_T_TITLE, 0, 0, 0);
	/* 1 */
	ls_lesson(o, ET_LESSON_BEFORE, 1, NULL, NULL, 0, "do_epoll_create,ep_alloc", LS_B1, 0,
		  0, 0);
	ls_create(o, &ls_a);
	ls_snap(o, &ls_a, 0, NULL, NULL, 0, NULL, 0, NULL);
	ls_lesson(o, ET_LESSON_AFTER, 1, &ls_a, NULL, 0, "do_epoll_create,ep_alloc", LS_A1, 1,
		  3, 0);
	/* 2 */
	ls_lesson(o, ET_LESSON_BEFORE, 2, &ls_a, NULL, ET_LT_RBR, "ep_insert", LS_B2, 2, 5, 6);
	ls_add(o, &ls_a, 5, LS_IN);
	ls_add(o, &ls_a, 6, LS_IN);
	ls_snap(o, &ls_a, 2, f56, m2, 0, NULL, 0, NULL);
	ls_lesson(o, ET_LESSON_AFTER, 2, &ls_a, NULL, ET_LT_RBR, "ep_insert", LS_A2, 2, 2, 0);
	/* 3 */
	ls_lesson(o, ET_LESSON_BEFORE, 3, &ls_a, NULL, ET_LT_RDLLIST, "ep_poll_callback", LS_B3,
		  1, 5, 0);
	ls_callback(o, &ls_a, 5, LS_IN);
	ls_snap(o, &ls_a, 2, f56, m2, 1, r5, 0, NULL);
	ls_lesson(o, ET_LESSON_AFTER, 3, &ls_a, NULL, ET_LT_RDLLIST, "ep_poll_callback", LS_A3,
		  1, 5, 0);
	/* 4 */
	ls_lesson(o, ET_LESSON_BEFORE, 4, &ls_a, NULL, ET_LT_RDLLIST | ET_LT_WQ,
		  "ep_poll,ep_send_events", LS_B4, 1, 101, 0);
	ls_wait(o, &ls_a, 101);
	ls_send(o, &ls_a, 101, 5);
	ls_wait(o, &ls_a, 101);
	ls_sleep(o, &ls_a, 101);
	ls_snap(o, &ls_a, 2, f56, m2, 0, NULL, 1, t101);
	ls_lesson(o, ET_LESSON_AFTER, 4, &ls_a, NULL, ET_LT_RDLLIST | ET_LT_WQ,
		  "ep_poll,ep_send_events", LS_A4, 2, 1, 101);
	/* unnarrated: B, and fd 9 in both */
	ls_create(o, &ls_b);
	ls_add(o, &ls_a, 9, LS_IN);
	ls_add(o, &ls_b, 9, LS_IN | LS_ET);
	/* 5 */
	ls_lesson(o, ET_LESSON_BEFORE, 5, &ls_a, &ls_b, ET_LT_RDLLIST, "ep_poll_callback", LS_B5,
		  0, 0, 0);
	ls_callback(o, &ls_a, 9, LS_IN);
	ls_callback(o, &ls_b, 9, LS_IN | LS_ET);
	ls_snap(o, &ls_a, 3, f569, m3, 1, r9, 1, t101);
	ls_snap(o, &ls_b, 1, f9, met, 1, r9, 0, NULL);
	ls_lesson(o, ET_LESSON_AFTER, 5, &ls_a, &ls_b, ET_LT_RDLLIST, "ep_poll_callback", LS_A5,
		  0, 0, 0);
	if (o->until < 0)
		ls_lesson(o, ET_LESSON_END, LS_NSTEPS + 1, NULL, NULL, 0, "", "", 0, 0, 0);
}

#endif
