// SPDX-License-Identifier: GPL-2.0
/*
 * The detectors (cli/model/detect.c) on synthetic streams through the
 * model: for each, a stream that provokes it and one just short of its
 * threshold that must not; --detect's parsing; the same stream giving the
 * same findings twice (replay).  Built with ASan and UBSan by `make check`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "model.h"

#define EP 0xffff000000001000ull
#define PID 100
#define EPFD 3
#define IN 0x1u
#define ET (1u << 31)
#define EXCL (1u << 28)
#define MS 1000000ull

static __u64 now = 1000;
static const struct et_inst inst = { .ep = EP, .owner = PID, .epfd = EPFD };
static const struct et_inst inst2 = { .ep = EP + 0x1000, .owner = PID, .epfd = EPFD + 1 };
/* the instance the helpers' records are about */
static const struct et_inst *cur = &inst;

static void hdr_at(struct et_hdr *h, unsigned int type, __u32 tid, __u64 gap)
{
	h->ts_ns = now += gap;
	h->pid = PID;
	h->tid = tid;
	h->type = type;
}

/* a fresh model with the given options (defaults if NULL) and one instance */
static void start(struct model *m, bool callbacks, const struct det_opts *o)
{
	struct et_ev_create e = { .in = *cur };

	model_init(m, callbacks);
	if (o)
		m->det.opts = *o;
	hdr_at(&e.hdr, ET_EV_EP_CREATE, PID, 1000);
	model_apply(m, &e.hdr);
}

static void ctl(struct model *m, int op, int fd, __u32 events, int ret)
{
	struct et_ev_ctl e = { .in = *cur, .op = op, .fd = fd, .events = events,
			       .data = 0x100 + fd, .file = 0x5000 + fd, .queued = -1, .ret = ret };

	hdr_at(&e.hdr, ET_EV_CTL, PID, 1000);
	model_apply(m, &e.hdr);
}

static void callback(struct model *m, int fd, __u64 gap)
{
	struct et_ev_callback e = { .in = *cur, .fd = fd, .key = IN, .data = 0x100 + fd,
				    .events = IN };

	hdr_at(&e.hdr, ET_EV_CALLBACK, 999, gap);
	model_apply(m, &e.hdr);
}

static void enter(struct model *m, __u32 tid, int maxevents, __s64 timeout_ns, __u64 gap)
{
	struct et_ev_wait_enter e = { .in = *cur, .maxevents = maxevents,
				      .timeout_ns = timeout_ns };

	hdr_at(&e.hdr, ET_EV_WAIT_ENTER, tid, gap);
	model_apply(m, &e.hdr);
}

/* SLEEP, or WAKEUP (flags: ET_F_TIMER for a timeout's expiry) */
static void rec(struct model *m, unsigned int type, __u32 tid, __u16 flags, __u64 gap)
{
	struct et_ev_wakeup e = { .in = *cur };

	hdr_at(&e.hdr, type, tid, gap);
	e.hdr.flags = flags;
	model_apply(m, &e.hdr);
}

static void leave(struct model *m, __u32 tid, int ret, const int *fds, int n, __u64 slept,
		  __u64 gap)
{
	struct et_ev_wait_exit e = { .in = *cur, .ret = ret, .ncopied = n, .slept_ns = slept };

	for (int i = 0; i < n; i++) {
		e.ev[i].events = IN;
		e.ev[i].data = 0x100 + fds[i];
	}
	hdr_at(&e.hdr, ET_EV_WAIT_EXIT, tid, gap);
	model_apply(m, &e.hdr);
}

static const struct finding *find(const struct model *m, enum det_kind k)
{
	for (size_t i = 0; i < m->det.n; i++)
		if (m->det.f[i].kind == k && m->det.f[i].ep == EP)
			return &m->det.f[i];
	return NULL;
}

static bool has_tid(const struct finding *f, __u32 tid)
{
	for (unsigned int i = 0; f && i < f->ntids; i++)
		if (f->tids[i] == tid)
			return true;
	return false;
}

static bool has_fd(const struct finding *f, __s32 fd)
{
	for (unsigned int i = 0; f && i < f->nfds; i++)
		if (f->fds[i] == fd)
			return true;
	return false;
}

/* n sleepers woken in a burst; took of them return an event, the rest 0
 * or (every other one) asleep again */
static void herd_stream(struct model *m, int n, int took)
{
	for (int i = 0; i < n; i++) {
		enter(m, 200 + i, 8, -1, 1000);
		rec(m, ET_EV_SLEEP, 200 + i, 0, 1000);
	}
	callback(m, 5, 1000);
	for (int i = 0; i < n; i++)
		rec(m, ET_EV_WAKEUP, 200 + i, 0, 1000);
	for (int i = 0; i < n; i++) {
		if (i < took)
			leave(m, 200 + i, 1, (int[]){ 5 }, 1, 5000, 1000);
		else if (i % 2)
			rec(m, ET_EV_SLEEP, 200 + i, 0, 1000);
		else
			leave(m, 200 + i, 0, NULL, 0, 5000, 1000);
	}
}

static void test_herd(void)
{
	struct det_opts o;
	struct model m;
	const struct finding *f;
	char line[512];

	detect_defaults(&o);
	o.herd_waiters = 3;
	start(&m, true, &o);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	herd_stream(&m, 3, 1);
	f = find(&m, DET_HERD);
	CHECK(f && f->count == 1 && f->value == 3, "3 woken, 1 took: a herd (%llu, %llu)",
	      f ? (unsigned long long)f->count : 0, f ? (unsigned long long)f->value : 0);
	CHECK(has_tid(f, 200) && has_tid(f, 201) && has_tid(f, 202) && has_fd(f, 5),
	      "the herd names the woken threads and the callback's fd");
	CHECK(f && f->nev == 4 && f->ev[0].type == ET_EV_CALLBACK && f->ev[1].type == ET_EV_WAKEUP,
	      "evidence: the callback, then the wakeups (%u)", f ? f->nev : 0);
	if (f) {
		snprintf(m.det.f[0].comm, sizeof(m.det.f[0].comm), "srv");
		detect_describe(f, line, sizeof(line));
		CHECK(strstr(line, "pid 100 (srv) epfd 3") && strstr(line, "fds 5") &&
		      strstr(line, "threads 200,201,202"), "one line names it all: %s", line);
	}
	model_free(&m);

	/* near miss: 2 woken (threshold 3), 1 took */
	start(&m, true, &o);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	herd_stream(&m, 2, 1);
	CHECK(!find(&m, DET_HERD), "2 woken under herd_waiters=3: no herd");
	model_free(&m);

	/* tracepoint mode (no callbacks): the burst alone; all took: no herd */
	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	herd_stream(&m, 4, 4);
	CHECK(!find(&m, DET_HERD), "4 woken, 4 took: no herd");
	herd_stream(&m, 4, 1);
	CHECK(find(&m, DET_HERD) && find(&m, DET_HERD)->value == 4,
	      "4 woken, 1 took, without callbacks: a herd");
	model_free(&m);
}

/* wakeups of an exclusive item's instance: a of them to 300, b to 301 */
static void excl_stream(struct model *m, int a, int b)
{
	ctl(m, ET_CTL_ADD, 5, IN | EXCL, 0);
	for (int i = 0; i < 2; i++) {
		enter(m, 300 + i, 8, -1, 1000);
		rec(m, ET_EV_SLEEP, 300 + i, 0, 1000);
	}
	for (int i = 0; i < a + b; i++) {
		__u32 tid = i < a ? 300 : 301;

		rec(m, ET_EV_WAKEUP, tid, 0, 1000);
		leave(m, tid, 1, (int[]){ 5 }, 1, 5000, 1000);
		enter(m, tid, 8, -1, 1000);
		rec(m, ET_EV_SLEEP, tid, 0, 1000);
	}
}

static void test_exclusive(void)
{
	struct model m;
	const struct finding *f;

	start(&m, false, NULL);
	excl_stream(&m, 41, 9);		/* 82% of 50 */
	f = find(&m, DET_EXCL_IMBALANCE);
	CHECK(f && f->value == 82 && f->tids[0] == 300 && has_fd(f, 5),
	      "one thread took 82%% of 50 contested wakeups (%llu)",
	      f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, false, NULL);
	excl_stream(&m, 39, 11);	/* 78% */
	CHECK(!find(&m, DET_EXCL_IMBALANCE), "78%% under 80%%: no imbalance");
	model_free(&m);

	start(&m, false, NULL);
	excl_stream(&m, 49, 0);		/* 49 < excl_min_wakeups */
	CHECK(!find(&m, DET_EXCL_IMBALANCE), "49 wakeups under 50: no imbalance yet");
	model_free(&m);
}

/* a thread's waits, each returning fd's item, gap apart */
static void lt_stream(struct model *m, int fd, int waits, __u64 gap)
{
	for (int i = 0; i < waits; i++) {
		enter(m, PID, 8, -1, gap);
		leave(m, PID, 1, (int[]){ fd }, 1, 0, 1000);
	}
}

/* one thread on each of two instances that watch one eventfd exclusively */
static void excl_two(struct model *m, int a, int b)
{
	struct et_ev_create e = { .in = inst2 };

	hdr_at(&e.hdr, ET_EV_EP_CREATE, PID, 1000);
	model_apply(m, &e.hdr);
	for (int i = 0; i < 2; i++) {
		cur = i ? &inst2 : &inst;
		ctl(m, ET_CTL_ADD, 5, IN | EXCL | ET, 0);	/* the same file: 0x5005 */
		enter(m, 300 + i, 8, -1, 1000);
		rec(m, ET_EV_SLEEP, 300 + i, 0, 1000);
	}
	for (int i = 0; i < a + b; i++) {
		__u32 tid = i < a ? 300 : 301;

		cur = i < a ? &inst : &inst2;
		rec(m, ET_EV_WAKEUP, tid, 0, 1000);
		leave(m, tid, 1, (int[]){ 5 }, 1, 5000, 1000);
		enter(m, tid, 8, -1, 1000);
		rec(m, ET_EV_SLEEP, tid, 0, 1000);
	}
	cur = &inst;
}

static void test_exclusive_across(void)
{
	struct model m;
	const struct finding *f;

	start(&m, false, NULL);
	excl_two(&m, 45, 5);		/* 90% */
	f = find(&m, DET_EXCL_IMBALANCE);
	CHECK(f && f->value == 90 && f->tids[0] == 300 && has_tid(f, 301) && has_fd(f, 5),
	      "two instances, one listening file: one thread took 90%% (%llu)",
	      f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, false, NULL);
	excl_two(&m, 39, 11);		/* 78% */
	CHECK(!m.det.n, "78%% across two instances: no imbalance (%zu findings)", m.det.n);
	model_free(&m);
}

static void test_lt_spin(void)
{
	struct model m;
	const struct finding *f;

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	lt_stream(&m, 5, 16, 1 * MS);
	f = find(&m, DET_LT_SPIN);
	CHECK(f && f->value == 16 && f->count == 1 && has_fd(f, 5) && has_tid(f, PID),
	      "16 waits in a row within 100 ms: a spin");
	CHECK(f && f->unconfirmed, "no callbacks seen: the spin is a question, not a verdict");
	lt_stream(&m, 5, 4, 1 * MS);
	f = find(&m, DET_LT_SPIN);
	CHECK(f && f->value == 20 && f->count == 1, "the spin goes on: one finding, grown (%llu)",
	      f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	lt_stream(&m, 5, 15, 1 * MS);
	CHECK(!find(&m, DET_LT_SPIN), "15 waits: no spin");
	model_free(&m);

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	lt_stream(&m, 5, 16, 7 * MS);	/* 105 ms from the first */
	CHECK(!find(&m, DET_LT_SPIN), "16 waits over more than 100 ms: no spin");
	model_free(&m);

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	lt_stream(&m, 5, 40, 1 * MS);
	CHECK(!find(&m, DET_LT_SPIN), "an edge-triggered item: no spin");
	model_free(&m);

	/* each wait slept before the item came: new data each time, drained */
	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	for (int i = 0; i < 40; i++) {
		enter(&m, PID, 8, -1, 1000);
		leave(&m, PID, 1, (int[]){ 5 }, 1, 500, 1000);
	}
	CHECK(!find(&m, DET_LT_SPIN), "waits that slept first: no spin");
	model_free(&m);

	/* callbacks seen: new data between the waits (a busy stream never
	 * lets the thread sleep), each delivery is news: no spin */
	start(&m, true, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	for (int i = 0; i < 40; i++) {
		enter(&m, PID, 8, 0, 100);
		callback(&m, 5, 100);
		leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 100);
	}
	CHECK(!find(&m, DET_LT_SPIN), "a callback before each delivery (new data): no spin");
	/* ... and the same without callbacks between: the data left unread */
	lt_stream(&m, 5, 16, 1 * MS);
	f = find(&m, DET_LT_SPIN);
	CHECK(f && !f->unconfirmed, "then 16 deliveries with no callback: a spin, confirmed");
	model_free(&m);
}

static void test_saturation(void)
{
	struct model m;
	const struct finding *f;
	int four[4] = { 5, 6, 7, 8 };

	/* tracepoint mode: full waits, each next one returning at once */
	start(&m, false, NULL);
	for (int fd = 5; fd < 9; fd++)
		ctl(&m, ET_CTL_ADD, fd, IN | ET, 0);
	for (int i = 0; i < 20; i++) {
		enter(&m, PID, 4, -1, 1000);
		leave(&m, PID, 4, four, 4, 0, 1000);
	}
	f = find(&m, DET_MAXEVENTS_SAT);
	CHECK(f && f->value == 95, "19 of 20 waits saturated: %llu%%",
	      f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, false, NULL);
	for (int fd = 5; fd < 9; fd++)
		ctl(&m, ET_CTL_ADD, fd, IN | ET, 0);
	for (int i = 0; i < 19; i++) {
		enter(&m, PID, 4, -1, 1000);
		leave(&m, PID, 4, four, 4, 0, 1000);
	}
	CHECK(!find(&m, DET_MAXEVENTS_SAT), "19 waits, under sat_min_waits: none yet");
	model_free(&m);

	start(&m, false, NULL);
	for (int fd = 5; fd < 9; fd++)
		ctl(&m, ET_CTL_ADD, fd, IN | ET, 0);
	for (int i = 0; i < 20; i++) {
		enter(&m, PID, 4, -1, 1000);
		/* every other one slept first: waits 2, 4 ... 18 saturated, 9 of 20 */
		leave(&m, PID, 4, four, 4, i % 2 ? 5000 : 0, 1000);
	}
	CHECK(!find(&m, DET_MAXEVENTS_SAT), "9 of 20 saturated (45%%): none");
	model_free(&m);

	/* callbacks: exact, the ready list not empty after a full wait */
	start(&m, true, NULL);
	for (int fd = 5; fd < 13; fd++)
		ctl(&m, ET_CTL_ADD, fd, IN | ET, 0);
	for (int i = 0; i < 20; i++) {
		for (int fd = 5; fd < 13; fd++)
			callback(&m, fd, 100);
		enter(&m, PID, 4, -1, 1000);
		leave(&m, PID, 4, four, 4, 0, 1000);
		enter(&m, PID, 4, -1, 1000);
		leave(&m, PID, 4, (int[]){ 9, 10, 11, 12 }, 4, 0, 1000);
	}
	f = find(&m, DET_MAXEVENTS_SAT);
	CHECK(f && f->value == 50, "callbacks: every other full wait left events: %llu%%",
	      f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, true, NULL);
	for (int fd = 5; fd < 9; fd++)
		ctl(&m, ET_CTL_ADD, fd, IN | ET, 0);
	for (int i = 0; i < 40; i++) {
		for (int fd = 5; fd < 9; fd++)
			callback(&m, fd, 100);
		enter(&m, PID, 4, -1, 1000);
		leave(&m, PID, 4, four, 4, 0, 1000);
	}
	CHECK(!find(&m, DET_MAXEVENTS_SAT), "callbacks: full waits that emptied the list: none");
	model_free(&m);
}

static void busy_stream(struct model *m, int waits, __u64 gap, int nonempty)
{
	for (int i = 0; i < waits; i++) {
		enter(m, PID, 8, 0, gap);
		if (i < nonempty)
			leave(m, PID, 1, (int[]){ 5 }, 1, 0, 100);
		else
			leave(m, PID, 0, NULL, 0, 0, 100);
	}
}

static void test_busy(void)
{
	struct model m;
	const struct finding *f;

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	busy_stream(&m, 1100, 950000 - 100, 0);
	f = find(&m, DET_BUSY_POLL);
	CHECK(f && f->value >= 1000 && f->value < 1100, "1100 empty timeout-0 waits in 1.04 s: "
	      "%llu/s", f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	busy_stream(&m, 1100, 1050000 - 100, 0);
	CHECK(!find(&m, DET_BUSY_POLL), "953 waits/s: under busy_rate");
	model_free(&m);

	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	busy_stream(&m, 1100, 950000 - 100, 120);	/* 89% empty */
	CHECK(!find(&m, DET_BUSY_POLL), "89%% empty: under busy_empty_pct");
	model_free(&m);
}

/* waits that slept, were woken (timer: by their timeout) and returned 0 */
static void zero_stream(struct model *m, int n, __u64 gap, bool timer, __s64 timeout)
{
	for (int i = 0; i < n; i++) {
		enter(m, PID, 8, timeout, gap);
		rec(m, ET_EV_SLEEP, PID, 0, 100);
		rec(m, ET_EV_WAKEUP, PID, timer ? ET_F_TIMER : 0, 100);
		leave(m, PID, 0, NULL, 0, 100, 100);
	}
}

static void test_zero(void)
{
	struct model m;
	const struct finding *f;

	start(&m, false, NULL);
	zero_stream(&m, 12, 100 * MS - 300, false, -1);
	f = find(&m, DET_ZERO_WAKEUPS);
	CHECK(f && f->value == 10, "12 in 1.1 s, the 11th at 1 s: %llu/s",
	      f ? (unsigned long long)f->value : 0);
	model_free(&m);

	start(&m, false, NULL);
	zero_stream(&m, 12, 110 * MS - 300, false, -1);
	CHECK(!find(&m, DET_ZERO_WAKEUPS), "110 ms apart: 9.1/s, under zero_rate");
	model_free(&m);

	start(&m, false, NULL);
	zero_stream(&m, 100, 10 * MS, true, 1000);
	CHECK(!find(&m, DET_ZERO_WAKEUPS), "timeouts that expired are no 0-event wakeups");
	model_free(&m);
}

static void test_stale(void)
{
	struct model m;
	const struct finding *f;
	struct et_snap_item items[2] = {
		{ .fd = 5, .events = IN | 0x18, .data = 0x105, .file = 0x5005 },
		{ .fd = 6, .events = IN | 0x18, .data = 0x106, .file = 0x5006 },
	};
	__u32 stale[1] = { 1 };
	struct et_snapshot s = { .in = inst, .items = items, .nitems = 2, .watched = 2 };

	/* DEL of a closed fd (EBADF), then a wait still delivers its item */
	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	ctl(&m, ET_CTL_DEL, 5, 0, -EBADF);
	CHECK(!find(&m, DET_STALE_REG), "EBADF alone: a suspicion, no finding yet");
	enter(&m, PID, 8, -1, 1000);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 1000);
	f = find(&m, DET_STALE_REG);
	CHECK(f && f->count == 1 && has_fd(f, 5) && f->nev == 2 && f->ev[0].type == ET_EV_CTL &&
	      f->ev[1].type == ET_EV_WAIT_EXIT, "delivered after its fd was closed: stale");
	model_free(&m);

	/* EBADF, and the next walk no longer has it: the kernel had dropped it */
	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	ctl(&m, ET_CTL_ADD, 6, IN, 0);
	ctl(&m, ET_CTL_DEL, 5, 0, -EBADF);
	s.items = items + 1;
	s.nitems = s.watched = 1;
	s.hdr.ts_ns = now += MODEL_SETTLE_NS + 1000;
	model_apply_snapshot(&m, &s);
	enter(&m, PID, 8, -1, 1000);
	leave(&m, PID, 1, (int[]){ 6 }, 1, 0, 1000);
	CHECK(!find(&m, DET_STALE_REG), "EBADF, then gone from the walk: not stale");
	model_free(&m);

	/* the iterator found fd 6 holding another file */
	start(&m, false, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	ctl(&m, ET_CTL_ADD, 6, IN, 0);
	s.items = items;
	s.nitems = s.watched = 2;
	s.flags = ET_F_FDS_CHECKED;
	s.hdr.ts_ns = now += MODEL_SETTLE_NS + 1000;
	model_apply_snapshot(&m, &s);
	CHECK(!find(&m, DET_STALE_REG), "every fd holds its file: not stale");
	s.stale = stale;
	s.nstale = 1;
	s.hdr.ts_ns = now += MODEL_SETTLE_NS + 1000;
	model_apply_snapshot(&m, &s);
	s.hdr.ts_ns = now += MODEL_SETTLE_NS + 1000;
	model_apply_snapshot(&m, &s);
	f = find(&m, DET_STALE_REG);
	CHECK(f && f->count == 1 && f->value == 1 && f->nfds == 1 && has_fd(f, 6) &&
	      f->ev[0].type == ET_EV_SNAP_END, "the walk's mark: stale, counted once");
	model_free(&m);
}

static void test_residency(void)
{
	struct model m;
	const struct finding *f;

	start(&m, true, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	enter(&m, PID, 8, -1, 1000);
	leave(&m, PID, 0, NULL, 0, 0, 1000);
	callback(&m, 5, 1000);
	enter(&m, PID, 8, -1, 11 * MS);	/* busy 11 ms before it waits again */
	f = find(&m, DET_LONG_RESIDENCY);
	CHECK(f && f->value >= 11 * MS && has_fd(f, 5), "11 ms on the list: long");
	model_free(&m);

	start(&m, true, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	enter(&m, PID, 8, -1, 1000);
	leave(&m, PID, 0, NULL, 0, 0, 1000);
	callback(&m, 5, 1000);
	enter(&m, PID, 8, -1, 9 * MS);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 1000);
	CHECK(!find(&m, DET_LONG_RESIDENCY), "9 ms: under residency");
	model_free(&m);

	/* a level-triggered item put back by its delivery is no stay */
	start(&m, true, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN, 0);
	callback(&m, 5, 1000);
	enter(&m, PID, 8, -1, 1000);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 1000);
	CHECK(model_ready_index(model_find(&m, EP), 5) >= 0, "LT: put back on the list");
	enter(&m, PID, 8, -1, 50 * MS);
	CHECK(!find(&m, DET_LONG_RESIDENCY), "LT put back, busy 50 ms: no finding");
	model_free(&m);

	/* sampled: two walks 20 ms apart found it, not delivered between */
	{
		struct et_snap_item items[1] = { { .fd = 5, .events = IN | 0x18, .data = 0x105,
						   .file = 0x5005 } };
		__s32 ready[1] = { 5 };
		struct et_snapshot s = { .in = inst, .items = items, .nitems = 1, .ready = ready,
					 .nready = 1, .watched = 1 };

		start(&m, false, NULL);
		ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
		enter(&m, PID, 8, -1, 1000);
		leave(&m, PID, 0, NULL, 0, 0, 1000);
		s.hdr.ts_ns = now += MODEL_SETTLE_NS;
		model_apply_snapshot(&m, &s);
		s.hdr.ts_ns = now += 9 * MS;
		model_apply_snapshot(&m, &s);
		CHECK(!find(&m, DET_LONG_RESIDENCY), "sampled: 9 ms between the walks: none");
		s.hdr.ts_ns = now += 11 * MS;
		model_apply_snapshot(&m, &s);
		f = find(&m, DET_LONG_RESIDENCY);
		CHECK(f && f->value >= 20 * MS && f->ev[0].type == ET_EV_SNAP_END,
		      "sampled: still queued 20 ms after the first walk: long");
		model_free(&m);
	}

	/* nobody waits on the instance: nobody is kept waiting */
	start(&m, true, NULL);
	ctl(&m, ET_CTL_ADD, 5, IN | ET, 0);
	callback(&m, 5, 1000);
	callback(&m, 5, 50 * MS);
	CHECK(!find(&m, DET_LONG_RESIDENCY), "no waiter: no finding");
	model_free(&m);
}

static void test_parse(void)
{
	struct det_opts o, d;
	char err[160];

	detect_defaults(&d);
	o = d;
	CHECK(!detect_parse(&o, "herd_waiters=3,residency=5ms", err, sizeof(err)) &&
	      o.herd_waiters == 3 && o.residency_ns == 5 * MS, "two keys at once");
	CHECK(!detect_parse(&o, "lt_spin_window=2s", err, sizeof(err)) &&
	      o.lt_spin_window_ns == 2000 * MS, "a duration in seconds");
	CHECK(!detect_parse(&o, "lt-spin=off", err, sizeof(err)) && o.off[DET_LT_SPIN] &&
	      !o.off[DET_HERD], "one detector off");
	o = d;
	CHECK(!detect_parse(&o, "off", err, sizeof(err)) && !detect_any_on(&o), "off: all off");
	CHECK(!detect_parse(&o, "herd=on", err, sizeof(err)) && detect_any_on(&o) &&
	      !o.off[DET_HERD], "one back on");
	o = d;
	CHECK(detect_parse(&o, "herd_waiters=1", err, sizeof(err)) && strstr(err, "herd_waiters"),
	      "herd_waiters below 2: refused (%s)", err);
	CHECK(detect_parse(&o, "sat_pct=50,sat_pct=101", err, sizeof(err)) && o.sat_pct == 50 &&
	      !memcmp(&o, &d, sizeof(o)), "a bad value leaves the options as they were");
	CHECK(detect_parse(&o, "residency=5xs", err, sizeof(err)), "a bad unit: refused");
	CHECK(detect_parse(&o, "residency=0", err, sizeof(err)), "a zero duration: refused");
	CHECK(detect_parse(&o, "nosuch=1", err, sizeof(err)) && strstr(err, "nosuch"),
	      "an unknown key: refused");
	CHECK(detect_parse(&o, "herd", err, sizeof(err)), "no value: refused");
	CHECK(detect_parse(&o, "herd=maybe", err, sizeof(err)), "on or off only");
	CHECK(detect_parse(&o, "busy_rate=-5", err, sizeof(err)), "negative: refused");
	CHECK(!strcmp(detect_key(DET_STALE_REG), "stale-registration") &&
	      !strcmp(detect_key(DET_MAXEVENTS_SAT), "maxevents-saturation"), "the JSON names");
}

static void count_cb(const struct finding *f, void *arg)
{
	(void)f;
	(*(int *)arg)++;
}

static void test_off_and_replay(void)
{
	struct det_opts o;
	struct model a, b;
	__u64 t0;

	detect_defaults(&o);
	o.off[DET_HERD] = true;
	start(&a, false, &o);
	ctl(&a, ET_CTL_ADD, 5, IN, 0);
	herd_stream(&a, 4, 1);
	CHECK(!find(&a, DET_HERD), "herd=off: no herd");
	model_free(&a);

	t0 = now;
	start(&a, false, NULL);
	ctl(&a, ET_CTL_ADD, 5, IN, 0);
	herd_stream(&a, 4, 1);
	lt_stream(&a, 5, 20, MS);
	now = t0;
	start(&b, false, NULL);
	ctl(&b, ET_CTL_ADD, 5, IN, 0);
	herd_stream(&b, 4, 1);
	lt_stream(&b, 5, 20, MS);
	CHECK(a.det.n == 2 && b.det.n == 2 && a.det.version == b.det.version &&
	      !memcmp(a.det.f, b.det.f, 2 * sizeof(*a.det.f)),
	      "the same stream, the same findings");
	{
		__u64 seen = 0;
		int calls = 0;

		detect_changed(&a.det, &seen, count_cb, &calls);
		CHECK(calls == 2 && seen == a.det.version, "both findings are new: %d", calls);
		calls = 0;
		detect_changed(&a.det, &seen, count_cb, &calls);
		CHECK(calls == 0, "then none changed");
	}
	model_free(&a);
	model_free(&b);
}

int main(void)
{
	test_herd();
	test_exclusive();
	test_exclusive_across();
	test_lt_spin();
	test_saturation();
	test_busy();
	test_zero();
	test_stale();
	test_residency();
	test_parse();
	test_off_and_replay();
	printf("detect: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
