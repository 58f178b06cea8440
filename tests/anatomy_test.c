// SPDX-License-Identifier: GPL-2.0
/*
 * The latency anatomy (cli/model/anatomy.c) on synthetic streams through
 * the model: exact bucket counts and quantiles for known inputs, each
 * figure's pairing of records, the fidelity per mode, and the same stream
 * giving the same anatomy twice (replay).  Built with ASan and UBSan by
 * `make check`.
 */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "model.h"

#define EP 0xffff000000001000ull
#define PID 100
#define EPFD 3
#define IN 0x1u
#define ET (1u << 31)

static __u64 now = 1000;
static const struct et_inst inst = { .ep = EP, .owner = PID, .epfd = EPFD };

/* the next record's time: gap ns after the last one */
static void hdr_at(struct et_hdr *h, unsigned int type, __u32 tid, __u64 gap)
{
	h->ts_ns = now += gap;
	h->pid = PID;
	h->tid = tid;
	h->type = type;
}

static struct model_inst *inst_of(struct model *m)
{
	return model_find(m, EP);
}

static const struct anat_hist *hist(struct model *m, enum anat_kind k)
{
	return &inst_of(m)->anat.h[k];
}

static void create(struct model *m)
{
	struct et_ev_create e = { .in = inst };

	hdr_at(&e.hdr, ET_EV_EP_CREATE, PID, 1000);
	model_apply(m, &e.hdr);
}

static void ctl_add(struct model *m, int fd, __u32 events)
{
	struct et_ev_ctl e = { .in = inst, .op = ET_CTL_ADD, .fd = fd, .events = events,
			       .data = 0x100 + fd, .file = 0x5000 + fd, .queued = 0 };

	hdr_at(&e.hdr, ET_EV_CTL, PID, 1000);
	model_apply(m, &e.hdr);
}

static void callback(struct model *m, int fd, __u64 gap)
{
	struct et_ev_callback e = { .in = inst, .fd = fd, .key = IN, .data = 0x100 + fd,
				    .events = IN };

	hdr_at(&e.hdr, ET_EV_CALLBACK, 999, gap);
	model_apply(m, &e.hdr);
}

static void enter(struct model *m, __u32 tid, int maxevents, __s64 timeout_ns, __u64 gap)
{
	struct et_ev_wait_enter e = { .in = inst, .maxevents = maxevents,
				      .timeout_ns = timeout_ns };

	hdr_at(&e.hdr, ET_EV_WAIT_ENTER, tid, gap);
	model_apply(m, &e.hdr);
}

static void rec(struct model *m, unsigned int type, __u32 tid, __u64 gap)
{
	struct et_ev_wakeup e = { .in = inst };

	hdr_at(&e.hdr, type, tid, gap);
	model_apply(m, &e.hdr);
}

/* a wait returning ret events, the first n of them the given fds */
static void leave(struct model *m, __u32 tid, int ret, const int *fds, int n, __u64 slept,
		  __u64 gap)
{
	struct et_ev_wait_exit e = { .in = inst, .ret = ret, .ncopied = n, .slept_ns = slept };

	for (int i = 0; i < n; i++) {
		e.ev[i].events = IN;
		e.ev[i].data = 0x100 + fds[i];
	}
	hdr_at(&e.hdr, ET_EV_WAIT_EXIT, tid, gap);
	model_apply(m, &e.hdr);
}

static void scan(struct model *m, __u32 tid, const int *fds, __u32 n, __u64 gap)
{
	struct et_ev_scan e = { .in = inst, .n = n };

	for (__u32 i = 0; i < n; i++)
		e.fd[i] = fds[i];
	hdr_at(&e.hdr, ET_EV_SCAN, tid, gap);
	model_apply(m, &e.hdr);
}

static void test_quantiles(void)
{
	struct anat_hist h = { 0 };
	static const __u64 v[] = { 0, 1, 3, 4, 1000, 1000000 };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		anatomy_add(&h, v[i]);
	CHECK(h.b[0] == 1 && h.b[1] == 1 && h.b[2] == 1 && h.b[3] == 1 && h.b[10] == 1 &&
	      h.b[20] == 1, "one value in each of buckets 0, 1, 2, 3, 10, 20");
	CHECK(h.count == 6 && h.sum == 1001008 && h.max == 1000000, "count %llu sum %llu max %llu",
	      (unsigned long long)h.count, (unsigned long long)h.sum,
	      (unsigned long long)h.max);
	/* rank 3 of 6 is 3, in bucket 2 ([2, 3]): its top */
	CHECK(anatomy_quantile(&h, 0.5) == 3, "p50 %llu",
	      (unsigned long long)anatomy_quantile(&h, 0.5));
	/* rank 6 is in bucket 20, whose top (2^20 - 1) is above the max */
	CHECK(anatomy_quantile(&h, 0.99) == 1000000, "p99 %llu",
	      (unsigned long long)anatomy_quantile(&h, 0.99));

	memset(&h, 0, sizeof(h));
	CHECK(anatomy_quantile(&h, 0.5) == 0, "an empty histogram's quantile is 0");
	for (int i = 0; i < 100; i++)
		anatomy_add(&h, i < 99 ? 100 : 5000);
	CHECK(anatomy_quantile(&h, 0.5) == 127 && anatomy_quantile(&h, 0.99) == 127 &&
	      h.max == 5000, "99 of 100 in [64, 127]: p50 = p99 = 127, max 5000");
	anatomy_add(&h, ~0ull);
	CHECK(h.b[ANAT_BUCKETS - 1] == 1 && anatomy_quantile(&h, 1.0) == ~0ull,
	      "the last bucket holds everything above; its top is the max");
}

/* fentry/kprobe without ep_done_scan: deliveries end residency at the wait's return */
static void test_residency_exact(void)
{
	struct model m;

	model_init(&m, true);
	create(&m);
	ctl_add(&m, 5, IN);		/* level-triggered */
	ctl_add(&m, 6, IN | ET);
	callback(&m, 5, 1000);
	callback(&m, 6, 500);
	callback(&m, 5, 300);		/* already queued: still since the first */
	leave(&m, PID, 2, (int[]){ 5, 6 }, 2, 0, 7000);
	/* fd 5: 500 + 300 + 7000; fd 6: 300 + 7000 */
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 2 && hist(&m, ANAT_RESIDENCY)->max == 7800 &&
	      hist(&m, ANAT_RESIDENCY)->sum == 7800 + 7300, "two deliveries: %llu, max %llu",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count,
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->max);
	/* the LT item was put back at the return: its next residency starts there */
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 2000);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 3 && hist(&m, ANAT_RESIDENCY)->sum == 15100 + 2000,
	      "LT put back: the second delivery counts from the first");
	model_free(&m);
}

/* where ep_done_scan is seen: a scan takes items off, the return says which were delivered */
static void test_residency_scans(void)
{
	struct model m;

	model_init(&m, true);
	create(&m);
	ctl_add(&m, 5, IN | ET);
	ctl_add(&m, 6, IN | ET);
	ctl_add(&m, 7, IN);		/* level-triggered */
	callback(&m, 5, 1000);
	callback(&m, 6, 1000);
	callback(&m, 7, 1000);
	/* fd 5 delivered, fd 6 found not ready (dropped), fd 7 delivered and put back */
	scan(&m, PID, (int[]){ 7 }, 1, 4000);
	leave(&m, PID, 2, (int[]){ 5, 7 }, 2, 0, 500);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 2, "two delivered, the dropped one not counted: %llu",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count);
	/* fd 5: 1000 + 1000 + 4000 to the scan; fd 7: 4000 */
	CHECK(hist(&m, ANAT_RESIDENCY)->sum == 6000 + 4000 && hist(&m, ANAT_RESIDENCY)->max == 6000,
	      "to the scan, not the return: sum %llu",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->sum);
	CHECK(inst_of(&m)->nready == 1 && inst_of(&m)->ready[0].since_ns == now - 500,
	      "the LT item is on the list again since its scan");
	scan(&m, PID, (int[]){ 7 }, 1, 3000);
	leave(&m, PID, 1, (int[]){ 7 }, 1, 0, 100);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 3 && hist(&m, ANAT_RESIDENCY)->sum == 10000 + 3500,
	      "LT again: from the last scan to this one");
	/* another thread's scan between: each wait pairs with its own */
	callback(&m, 5, 1000);
	scan(&m, 201, NULL, 0, 1000);	/* thread 201 takes 5 and 7... */
	scan(&m, PID, NULL, 0, 1000);	/* ... PID's scan finds nothing */
	leave(&m, PID, 0, NULL, 0, 0, 100);
	leave(&m, 201, 1, (int[]){ 5 }, 1, 0, 100);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 4 && hist(&m, ANAT_RESIDENCY)->max == 6000,
	      "201 delivered fd 5 (2000 on the list), fd 7 found not ready: %llu",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count);
	/* scans that are no wait's (the epoll file polled) keep nothing for long */
	for (int i = 0; i < 100; i++) {
		callback(&m, 5, 10);
		callback(&m, 6, 10);
		scan(&m, 888, NULL, 0, 10);
	}
	CHECK(inst_of(&m)->anat.ntaken == 2 && hist(&m, ANAT_RESIDENCY)->count == 4,
	      "100 polls of the epoll file: one scan's worth kept, none counted (%zu)",
	      inst_of(&m)->anat.ntaken);
	/* more events than a record carries: the rest cannot be told apart */
	callback(&m, 5, 1000);
	callback(&m, 6, 1000);
	scan(&m, PID, NULL, 0, 1000);
	leave(&m, PID, ET_WAIT_MAX_EVENTS + 4, (int[]){ 5 }, 1, 0, 100);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 6, "ret > ncopied: every item taken counts");
	model_free(&m);
}

/* tracepoint mode: residency from the snapshot that saw an item, never from a stale one */
static void test_residency_sampled(void)
{
	struct model m;
	struct et_snap_item items[1] = { { .fd = 5, .events = IN | 0x18, .data = 0x105,
					   .file = 0x5005 } };
	__s32 ready[1] = { 5 };
	struct et_snapshot s = { .in = inst, .items = items, .nitems = 1, .ready = ready,
				 .nready = 1, .watched = 1 };
	__u64 walk;

	model_init(&m, false);
	create(&m);
	ctl_add(&m, 5, IN);
	callback(&m, 5, 1000);
	CHECK(inst_of(&m)->nready == 0, "no callbacks seen: nothing queued");
	s.hdr.ts_ns = walk = now += MODEL_SETTLE_NS + 1000;
	model_apply_snapshot(&m, &s);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 5000);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 1 && hist(&m, ANAT_RESIDENCY)->max == 5000,
	      "from the walk that saw it: a lower bound");
	/* a walk from before that delivery, applied after it (snapshots come late) */
	s.hdr.ts_ns = walk + 10;
	model_apply_snapshot(&m, &s);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 5000);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 1, "a stale picture is no residency: %llu",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count);
	/* stale, then a walk after the delivery shows the same list: it counts from there */
	s.hdr.ts_ns = now - 10;
	model_apply_snapshot(&m, &s);
	s.hdr.ts_ns = now += MODEL_SETTLE_NS + 1000;
	model_apply_snapshot(&m, &s);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 3000);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 2 && hist(&m, ANAT_RESIDENCY)->sum == 8000,
	      "the same list walked again after the delivery: from that walk (%llu, sum %llu)",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count,
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->sum);
	/* a walk after a wait's return, applied before the return's record
	 * (two rings): no residency of a negative length; the item stays */
	s.hdr.ts_ns = now + MODEL_SETTLE_NS + 9000;
	now += MODEL_SETTLE_NS;
	model_apply_snapshot(&m, &s);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 0, 100);
	CHECK(hist(&m, ANAT_RESIDENCY)->count == 2 && hist(&m, ANAT_RESIDENCY)->max < 1000000 &&
	      inst_of(&m)->nready == 1,
	      "a walk newer than the delivery: not its residency (%llu, max %llu, ready %zu)",
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count,
	      (unsigned long long)hist(&m, ANAT_RESIDENCY)->max, inst_of(&m)->nready);
	model_free(&m);
}

/*
 * No scan records: a wait that returned fewer than maxevents scanned the
 * whole list, so what was queued before it began and is not among its
 * events was found not ready (another instance took the connection).
 */
static void test_not_ready_dropped(void)
{
	struct model m;
	struct et_snap_item items[2] = {
		{ .fd = 5, .events = IN | 0x18, .data = 0x105, .file = 0x5005 },
		{ .fd = 6, .events = IN | 0x18, .data = 0x106, .file = 0x5006 } };
	__s32 ready[2] = { 5, 6 };
	struct et_snapshot s = { .in = inst, .items = items, .nitems = 2, .ready = ready,
				 .nready = 2, .watched = 2 };

	for (int full = 0; full < 2; full++) {
		model_init(&m, false);
		create(&m);
		ctl_add(&m, 5, IN);
		ctl_add(&m, 6, IN);
		s.hdr.ts_ns = now += MODEL_SETTLE_NS + 1000;
		model_apply_snapshot(&m, &s);
		/* maxevents 1 and one event: the scan may have stopped before fd 5 */
		enter(&m, PID, full ? 1 : 8, 0, 1000);
		leave(&m, PID, 1, (int[]){ 6 }, 1, 0, 1000);
		if (full) {
			CHECK(inst_of(&m)->nready == 1,
			      "a full wait may have left fd 5 on the list: kept (%zu)",
			      inst_of(&m)->nready);
		} else {
			CHECK(inst_of(&m)->nready == 0,
			      "a wait of 1 of 8 events went through the list: fd 5 was not ready (%zu)",
			      inst_of(&m)->nready);
			/* delivered much later: new data, no residency from the old walk */
			enter(&m, PID, 8, -1, 1000);
			leave(&m, PID, 1, (int[]){ 5 }, 1, 500000000, 500000000);
			CHECK(hist(&m, ANAT_RESIDENCY)->count == 1 &&
			      hist(&m, ANAT_RESIDENCY)->max < 10000,
			      "fd 5 delivered 0.5 s later: not a 0.5 s residency (count %llu max %llu)",
			      (unsigned long long)hist(&m, ANAT_RESIDENCY)->count,
			      (unsigned long long)hist(&m, ANAT_RESIDENCY)->max);
		}
		model_free(&m);
	}
}

static void test_wakeups(void)
{
	struct model m;
	struct anatomy *a;

	model_init(&m, true);
	create(&m);
	ctl_add(&m, 5, IN | ET);
	enter(&m, PID, 8, -1, 1000);
	rec(&m, ET_EV_SLEEP, PID, 100);
	rec(&m, ET_EV_WAKEUP, PID, 40000);
	callback(&m, 5, 0);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 40000, 3000);
	a = &inst_of(&m)->anat;
	CHECK(a->h[ANAT_WAKE_RETURN].count == 1 && a->h[ANAT_WAKE_RETURN].max == 3000,
	      "waking to return: %llu",
	      (unsigned long long)a->h[ANAT_WAKE_RETURN].max);
	CHECK(a->h[ANAT_ASLEEP].count == 1 && a->h[ANAT_ASLEEP].max == 40000 &&
	      a->h[ANAT_EVENTS_WAKEUP].count == 1 && a->h[ANAT_EVENTS_WAKEUP].sum == 1,
	      "asleep 40 us, one event for the wakeup");
	/* the wait's run record (the session's, from the ring's wait end):
	 * the wakeup latency, one value per record, the instance's */
	{
		struct et_ev_wait_run r = { .in = inst, .delay_ns = 2500 };

		hdr_at(&r.hdr, ET_EV_WAIT_RUN, PID, 0);
		model_apply(&m, &r.hdr);
		r.delay_ns = 70;
		model_apply(&m, &r.hdr);
	}
	CHECK(a->h[ANAT_WAKEUP].count == 2 && a->h[ANAT_WAKEUP].max == 2500 &&
	      a->h[ANAT_WAKEUP].sum == 2570 && a->h[ANAT_WAKE_RETURN].count == 1,
	      "wakeup latency: two run records, %llu counted, max %llu",
	      (unsigned long long)a->h[ANAT_WAKEUP].count,
	      (unsigned long long)a->h[ANAT_WAKEUP].max);
	/* woken for nothing, asleep again, woken again (a herd's loser) */
	enter(&m, PID, 8, -1, 1000);
	rec(&m, ET_EV_SLEEP, PID, 100);
	rec(&m, ET_EV_WAKEUP, PID, 1000);
	rec(&m, ET_EV_SLEEP, PID, 700);
	rec(&m, ET_EV_WAKEUP, PID, 1000);
	leave(&m, PID, 1, (int[]){ 5 }, 1, 1700, 900);
	CHECK(a->resleeps == 1 && a->h[ANAT_WAKE_RETURN].count == 2 &&
	      a->h[ANAT_WAKE_RETURN].sum == 3900, "one resleep; the last wakeup pairs with the return");
	/* a wakeup whose return was lost pairs with nothing after a loss */
	enter(&m, PID, 8, -1, 1000);
	rec(&m, ET_EV_SLEEP, PID, 100);
	rec(&m, ET_EV_WAKEUP, PID, 100);
	{
		struct et_ev_lost l = { .count = 1 };

		hdr_at(&l.hdr, ET_EV_LOST, 0, 10);
		model_apply(&m, &l.hdr);
	}
	leave(&m, PID, 0, NULL, 0, 100, 100);
	CHECK(a->h[ANAT_WAKE_RETURN].count == 2, "records lost: the pair is not made");
	/* a thread woken that exits before its return: nothing of it stays */
	enter(&m, 555, 8, -1, 1000);
	rec(&m, ET_EV_SLEEP, 555, 100);
	rec(&m, ET_EV_WAKEUP, 555, 100);
	CHECK(a->nwake == 1, "a wakeup pending");
	rec(&m, ET_EV_TASK_EXIT, 555, 100);
	CHECK(a->nwake == 0, "gone with its thread");
	/* a wait that never slept: no sleep, no wakeup figure */
	enter(&m, PID, 8, -1, 1000);
	leave(&m, PID, 3, NULL, 0, 0, 100);
	CHECK(a->h[ANAT_ASLEEP].count == 3 && a->h[ANAT_EVENTS_WAKEUP].count == 3 &&
	      a->h[ANAT_EVENTS_WAIT].count == 4 && a->h[ANAT_EVENTS_WAIT].sum == 5 &&
	      a->h[ANAT_EVENTS_WAIT].b[0] == 1 && a->h[ANAT_EVENTS_WAIT].b[1] == 2 &&
	      a->h[ANAT_EVENTS_WAIT].b[2] == 1, "events per wait: 1, 1, 0, 3");
	model_free(&m);
}

static void test_timeouts_and_fill(void)
{
	struct model m;
	struct anatomy *a;

	model_init(&m, true);
	create(&m);
	enter(&m, PID, 4, 5000000, 1000);	/* 5 ms */
	rec(&m, ET_EV_SLEEP, PID, 100);
	rec(&m, ET_EV_WAKEUP, PID, 5000000);
	leave(&m, PID, 0, NULL, 0, 5000000, 1000);
	enter(&m, PID, 4, 0, 1000);		/* busy poll: returns 0, no timeout expired */
	leave(&m, PID, 0, NULL, 0, 0, 100);
	enter(&m, PID, 4, -1, 1000);
	leave(&m, PID, 4, NULL, 0, 0, 100);	/* full */
	enter(&m, PID, 4, 1000000, 1000);
	leave(&m, PID, 2, NULL, 0, 0, 100);	/* a timed wait that found events */
	enter(&m, PID, 4, -1, 1000);
	leave(&m, PID, -4, NULL, 0, 0, 100);	/* -EINTR: no wait that returned */
	leave(&m, 301, 4, NULL, 0, 0, 100);	/* entered before tracing: maxevents unknown */
	a = &inst_of(&m)->anat;
	CHECK(a->waits == 5 && a->maxevents_known == 4 && a->full == 1,
	      "waits %llu, known %llu, full %llu", (unsigned long long)a->waits,
	      (unsigned long long)a->maxevents_known, (unsigned long long)a->full);
	CHECK(a->timed == 2 && a->timeouts == 1, "timed %llu, expired %llu",
	      (unsigned long long)a->timed, (unsigned long long)a->timeouts);
	CHECK(a->h[ANAT_EVENTS_WAKEUP].count == 1 && a->h[ANAT_EVENTS_WAKEUP].b[0] == 1,
	      "the timeout's wakeup brought 0 events");
	model_free(&m);
}

static void test_transfer(void)
{
	struct model m;
	struct et_ev_ep_send_events se = { .in = inst, .maxevents = 8 };

	model_init(&m, true);
	create(&m);
	hdr_at(&se.hdr, ET_EV_EP_SEND_EVENTS, PID, 1000);
	model_apply(&m, &se.hdr);
	scan(&m, PID, NULL, 0, 2500);
	hdr_at(&se.hdr, ET_EV_EP_SEND_EVENTS, PID, 1000);
	model_apply(&m, &se.hdr);
	scan(&m, 777, NULL, 0, 100);	/* another thread's: not this transfer's end */
	scan(&m, PID, NULL, 0, 400);
	CHECK(hist(&m, ANAT_TRANSFER)->count == 2 && hist(&m, ANAT_TRANSFER)->sum == 3000 &&
	      hist(&m, ANAT_TRANSFER)->max == 2500, "two transfers, 2500 and 500 ns");
	model_free(&m);
}

static void test_fidelity(void)
{
	/* what each --attach mode's plan sees (plan.c): tracepoint mode has no
	 * callbacks, every mode has the sched hooks (tp_btf), inline adds transfers */
	const struct anat_vis tp = { false, true, false }, fe = { true, true, false },
			      il = { true, true, true }, none = { false, false, false };
	static const char *const want_tp[ANAT_MAX] = { "sampled", "derived", "derived", "derived",
						       "derived", "exact", "none" };
	static const char *const want_fe[ANAT_MAX] = { "exact", "derived", "derived", "derived",
						       "derived", "exact", "none" };
	static const char *const want_il[ANAT_MAX] = { "exact", "derived", "derived", "derived",
						       "derived", "exact", "exact" };
	static const char *const want_no[ANAT_MAX] = { "sampled", "none", "none", "none",
						       "none", "exact", "none" };

	for (int k = 0; k < ANAT_MAX; k++) {
		CHECK(!strcmp(anatomy_fidelity(k, &tp), want_tp[k]), "tracepoint %s: %s",
		      anatomy_key(k), anatomy_fidelity(k, &tp));
		CHECK(!strcmp(anatomy_fidelity(k, &fe), want_fe[k]), "fentry %s: %s",
		      anatomy_key(k), anatomy_fidelity(k, &fe));
		CHECK(!strcmp(anatomy_fidelity(k, &il), want_il[k]), "inline %s: %s",
		      anatomy_key(k), anatomy_fidelity(k, &il));
		CHECK(!strcmp(anatomy_fidelity(k, &none), want_no[k]), "no sched hooks %s: %s",
		      anatomy_key(k), anatomy_fidelity(k, &none));
	}
}

/* one stream of every kind of record, from a seed */
static void stream(struct model *m, unsigned int seed)
{
	now = 1000;
	model_init(m, true);
	create(m);
	for (int fd = 5; fd < 12; fd++)
		ctl_add(m, fd, fd & 1 ? IN : IN | ET);
	for (int i = 0; i < 500; i++) {
		__u32 tid = PID + (seed % 3);
		int fd = 5 + seed % 7, n = 1 + seed % 3;

		seed = seed * 1103515245 + 12345;
		enter(m, tid, 2, seed & 1 ? -1 : 1000000, 100 + seed % 5000);
		if (seed & 2) {
			rec(m, ET_EV_SLEEP, tid, 10);
			rec(m, ET_EV_WAKEUP, tid, seed % 100000);
		}
		callback(m, fd, seed % 3000);
		if (seed & 4)
			scan(m, tid, (int[]){ fd }, seed & 8 ? 1 : 0, 50);
		leave(m, tid, n > 2 ? 2 : n, (int[]){ fd, 5 }, n > 2 ? 2 : n, seed & 2 ? 777 : 0,
		      100 + seed % 900);
	}
}

static void test_replay_same(void)
{
	struct model a, b;
	const struct anatomy *x, *y;
	bool same = true;

	stream(&a, 42);
	stream(&b, 42);
	x = &model_find(&a, EP)->anat;
	y = &model_find(&b, EP)->anat;
	same = !memcmp(x->h, y->h, sizeof(x->h)) && x->waits == y->waits && x->full == y->full &&
	       x->timeouts == y->timeouts && x->resleeps == y->resleeps;
	CHECK(same && x->h[ANAT_RESIDENCY].count > 0 && x->h[ANAT_WAKE_RETURN].count > 0,
	      "the same stream twice: the same anatomy (residency %llu, wakeups %llu)",
	      (unsigned long long)x->h[ANAT_RESIDENCY].count,
	      (unsigned long long)x->h[ANAT_WAKE_RETURN].count);
	for (int k = 0; k < ANAT_MAX; k++) {
		const struct anat_hist *h = &x->h[k];
		__u64 n = 0;

		for (int i = 0; i < ANAT_BUCKETS; i++)
			n += h->b[i];
		CHECK(n == h->count && anatomy_quantile(h, 0.5) <= anatomy_quantile(h, 0.99) &&
		      anatomy_quantile(h, 0.99) <= h->max, "%s: buckets sum to count, p50 <= p99 <= max",
		      anatomy_key(k));
	}
	model_free(&a);
	model_free(&b);
}

int main(void)
{
	test_quantiles();
	test_residency_exact();
	test_residency_scans();
	test_residency_sampled();
	test_not_ready_dropped();
	test_wakeups();
	test_timeouts_and_fill();
	test_transfer();
	test_fidelity();
	test_replay_same();
	printf("anatomy: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
