// SPDX-License-Identifier: GPL-2.0
/*
 * The model's kernel semantics, one test each, on synthetic streams.
 * Built with ASan and UBSan by `make check`.
 */
#include <stdio.h>
#include "check.h"
#include <string.h>
#include "model.h"


#define EP 0xffff000000001000ull
#define PID 100
#define EPFD 3
#define IN 0x1u
#define ET (1u << 31)
#define ONESHOT (1u << 30)

static __u64 now = 1000;

static void hdr(struct et_hdr *h, unsigned int type, __u32 tid)
{
	h->ts_ns = now += 1000;
	h->pid = PID;
	h->tid = tid;
	h->type = type;
}

static const struct et_inst inst = { .ep = EP, .owner = PID, .epfd = EPFD };

static void create(struct model *m)
{
	struct et_ev_create e = { .in = inst };

	hdr(&e.hdr, ET_EV_EP_CREATE, PID);
	model_apply(m, &e.hdr);
}

static void ctl(struct model *m, int op, int fd, __u32 events)
{
	struct et_ev_ctl e = { .in = inst, .op = op, .fd = fd, .events = events,
			       .data = 0x100 + fd, .file = 0x5000 + fd };

	hdr(&e.hdr, ET_EV_CTL, PID);
	model_apply(m, &e.hdr);
}

static void callback(struct model *m, int fd, __u32 key)
{
	struct et_ev_callback e = { .in = inst, .fd = fd, .key = key, .data = 0x100 + fd };

	hdr(&e.hdr, ET_EV_CALLBACK, 999);
	model_apply(m, &e.hdr);
}

static void wait_enter(struct model *m, __u32 tid)
{
	struct et_ev_wait_enter e = { .in = inst, .maxevents = 8, .timeout_ns = -1 };

	hdr(&e.hdr, ET_EV_WAIT_ENTER, tid);
	model_apply(m, &e.hdr);
}

static void sleep_wake(struct model *m, unsigned int type, __u32 tid)
{
	struct et_ev_wakeup e = { .in = inst };

	hdr(&e.hdr, type, tid);
	model_apply(m, &e.hdr);
}

/* a wait returning the given fds (their data) */
static void wait_exit(struct model *m, __u32 tid, const int *fds, int n)
{
	struct et_ev_wait_exit e = { .in = inst, .ret = n, .ncopied = n };

	for (int i = 0; i < n; i++) {
		e.ev[i].events = IN;
		e.ev[i].data = 0x100 + fds[i];
	}
	hdr(&e.hdr, ET_EV_WAIT_EXIT, tid);
	model_apply(m, &e.hdr);
}

static bool is_ready(struct model *m, int fd)
{
	struct model_inst *in = model_find(m, EP);

	for (size_t i = 0; in && i < in->nready; i++)
		if (in->ready[i].fd == fd)
			return true;
	return false;
}

static void test_lt_et(void)
{
	struct model m;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN | ET);
	callback(&m, 5, IN);
	callback(&m, 6, IN);
	CHECK(is_ready(&m, 5) && is_ready(&m, 6), "both queued by their callbacks");
	wait_exit(&m, PID, (int[]){ 5, 6 }, 2);
	CHECK(is_ready(&m, 5), "level-triggered item re-queued after delivery");
	CHECK(!is_ready(&m, 6), "edge-triggered item not re-queued");
	CHECK(model_find(&m, EP)->ready[0].fd == 5 && model_find(&m, EP)->nready == 1,
	      "rdllist holds exactly the LT item");
	model_free(&m);
}

static void test_oneshot(void)
{
	struct model m;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN | ONESHOT);
	callback(&m, 5, IN);
	wait_exit(&m, PID, (int[]){ 5 }, 1);
	CHECK(!is_ready(&m, 5), "one-shot item not re-queued");
	callback(&m, 5, IN);
	CHECK(!is_ready(&m, 5), "disarmed one-shot item ignores callbacks");
	ctl(&m, ET_CTL_MOD, 5, IN | ONESHOT);
	callback(&m, 5, IN);
	CHECK(is_ready(&m, 5), "MOD re-arms it");
	model_free(&m);
}

static void test_key_filter(void)
{
	struct model m;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	callback(&m, 5, 0x4 /* EPOLLOUT */);
	CHECK(!is_ready(&m, 5), "a wakeup key the item does not ask for queues nothing");
	model_free(&m);
}

static void test_exclusive_one_waiter(void)
{
	struct model m;
	struct model_inst *in;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN | (1u << 28));
	wait_enter(&m, 201);
	wait_enter(&m, 202);
	sleep_wake(&m, ET_EV_SLEEP, 201);
	sleep_wake(&m, ET_EV_SLEEP, 202);
	callback(&m, 5, IN);
	sleep_wake(&m, ET_EV_WAKEUP, 201);	/* EPOLLEXCLUSIVE: one woken */
	wait_exit(&m, 201, (int[]){ 5 }, 1);
	in = model_find(&m, EP);
	CHECK(in->nwaiters == 1 && in->waiters[0].tid == 202 && in->waiters[0].asleep,
	      "the other waiter is still asleep");
	CHECK(in->cnt.wakeups == 1 && in->cnt.waits == 1 && in->cnt.events == 1, "counters");
	model_free(&m);
}

static void test_removal_drops_ready(void)
{
	struct model m;
	struct et_ev_release r = { .in = inst, .fd = 6, .file = 0x5006 };

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	callback(&m, 5, IN);
	callback(&m, 6, IN);
	ctl(&m, ET_CTL_DEL, 5, 0);
	CHECK(!is_ready(&m, 5) && !model_item_find(model_find(&m, EP), 5), "DEL drops it");
	hdr(&r.hdr, ET_EV_RELEASE, PID);
	model_apply(&m, &r.hdr);
	CHECK(!is_ready(&m, 6) && model_find(&m, EP)->nitems == 0, "implicit removal drops it");
	model_free(&m);
}

static void test_close_drops_all(void)
{
	struct model m;
	struct et_ev_close c = { .in = inst };
	struct et_ev_task_exit x = {};

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	callback(&m, 5, IN);
	wait_enter(&m, 201);
	hdr(&c.hdr, ET_EV_EP_CLOSE, PID);
	model_apply(&m, &c.hdr);
	CHECK(!model_find(&m, EP), "a closed instance is no longer found");
	CHECK(m.ninst == 1 && m.inst[0]->closed_ns && !m.inst[0]->nitems &&
	      !m.inst[0]->nready && !m.inst[0]->nwaiters, "it lingers, emptied and marked");
	/* records in flight at the close (a callback on another CPU, the
	 * wait that held the file) are the closed instance's, no new one */
	callback(&m, 5, IN);
	wait_exit(&m, 201, NULL, 0);
	CHECK(m.ninst == 1 && m.inst[0]->closed_ns && !model_find(&m, EP),
	      "records after the close: still one instance, closed (%zu)", m.ninst);
	now += MODEL_LINGER_NS + 1;
	create(&m);	/* the address reused by a new instance */
	model_expire(&m);
	CHECK(m.ninst == 1 && !m.inst[0]->closed_ns, "the old one expires, the new one stays");
	/* the whole process exiting closes what it owns */
	ctl(&m, ET_CTL_ADD, 7, IN);
	hdr(&x.hdr, ET_EV_TASK_EXIT, PID);
	x.hdr.flags = ET_F_GROUP_DEAD;
	model_apply(&m, &x.hdr);
	CHECK(!model_find(&m, EP) && m.procs[0].exited_ns, "process exit closes its instances");
	model_free(&m);
}

static void test_thread_exit(void)
{
	struct model m;
	struct et_ev_task_exit x = {};

	model_init(&m, true);
	create(&m);
	wait_enter(&m, 201);
	wait_enter(&m, 202);
	hdr(&x.hdr, ET_EV_TASK_EXIT, 201);
	model_apply(&m, &x.hdr);
	CHECK(model_find(&m, EP)->nwaiters == 1 && model_find(&m, EP)->waiters[0].tid == 202,
	      "an exited thread is no longer a waiter");
	model_free(&m);
}

/* a thread's wait chain: the latest record per thread, forgotten at its exit */
static void wait_chain(struct model *m, __u32 tid, const char *inner)
{
	struct et_ev_wait_chain e = { .in = inst, .method = ET_CHAIN_DWARF, .nframes = 2 };

	snprintf(e.frame[0].sym, sizeof(e.frame[0].sym), "epoll_wait+0x13");
	snprintf(e.frame[0].module, sizeof(e.frame[0].module), "libc.so.6");
	snprintf(e.frame[1].sym, sizeof(e.frame[1].sym), "%s", inner);
	e.frame[1].addr = 0x55550000abcdull;
	hdr(&e.hdr, ET_EV_WAIT_CHAIN, tid);
	model_apply(m, &e.hdr);
}

static void test_wait_chains(void)
{
	struct model m;
	struct et_ev_task_exit x = {};
	const struct et_ev_wait_chain *c;
	struct et_chain_frame nosym = { .addr = 0x7f00, .offset = 0x54174, .module = "nginx" };
	char buf[128];

	model_init(&m, true);
	create(&m);
	wait_enter(&m, 201);
	wait_chain(&m, 201, "uv__io_poll+0x246");
	wait_enter(&m, 202);
	wait_chain(&m, 202, "aeMain+0x1d");
	wait_chain(&m, 201, "ngx_process_events_and_timers+0x86");
	c = chains_find(&m.chains, 201);
	CHECK(m.chains.n == 2 && c && !strcmp(c->frame[1].sym, "ngx_process_events_and_timers+0x86"),
	      "a thread's latest chain replaces its earlier one");
	CHECK(c && !strcmp(chain_frame_name(&c->frame[1], buf, sizeof(buf)),
			   "ngx_process_events_and_timers"), "a frame's name drops its offset");
	CHECK(!strcmp(chain_frame_text(&nosym, buf, sizeof(buf)), "nginx+0x54174") &&
	      !strcmp(chain_frame_name(&nosym, buf, sizeof(buf)), "nginx+0x54174"),
	      "a frame with no symbol: its module and file offset");
	hdr(&x.hdr, ET_EV_TASK_EXIT, 201);
	model_apply(&m, &x.hdr);
	CHECK(!chains_find(&m.chains, 201) && chains_find(&m.chains, 202),
	      "an exited thread's chain is forgotten, its sibling's kept");
	hdr(&x.hdr, ET_EV_TASK_EXIT, 202);
	x.hdr.flags = ET_F_GROUP_DEAD;
	model_apply(&m, &x.hdr);
	CHECK(!m.chains.n, "the process's exit forgets its chains");
	model_free(&m);
}

static void test_nested(void)
{
	struct model m;
	struct et_inst inner = { .ep = EP + 0x1000, .owner = PID, .epfd = 4 };
	struct et_ev_create c = { .in = inner };

	model_init(&m, true);
	create(&m);
	hdr(&c.hdr, ET_EV_EP_CREATE, PID);
	model_apply(&m, &c.hdr);
	ctl(&m, ET_CTL_ADD, 4, IN);	/* the outer instance watches the inner's fd */
	callback(&m, 4, IN);
	CHECK(m.ninst == 2 && is_ready(&m, 4), "inner instance queued on the outer one");
	model_free(&m);
}

/* a walk at now + gap */
static struct et_snapshot snap_at(__u64 gap, struct et_snap_item *items, __u32 n, __s32 *ready,
				  __u32 nr, __u32 *waiters, __u32 nw)
{
	struct et_snapshot s = { .in = inst, .items = items, .nitems = n, .ready = ready,
				 .nready = nr, .waiters = waiters, .nwaiters = nw, .watched = n };

	s.hdr.ts_ns = now += gap;
	s.hdr.type = ET_EV_SNAP_BEGIN;
	return s;
}

/* a walk once the records before it have settled */
static struct et_snapshot snap(struct et_snap_item *items, __u32 n, __s32 *ready, __u32 nr,
			       __u32 *waiters, __u32 nw)
{
	return snap_at(MODEL_SETTLE_NS + 1000, items, n, ready, nr, waiters, nw);
}

static void test_snapshots(void)
{
	struct model m;
	struct et_snap_item items[2] = { { .fd = 5, .events = IN | 0x18, .data = 0x105, .file = 0x5005 },
					 { .fd = 9, .events = IN | 0x18, .data = 0x109, .file = 0x5009 } };
	__s32 ready[1] = { 9 };
	__u32 waiters[1] = { 301 };
	struct et_snapshot s;
	struct et_ev_lost lost = { .count = 3 };

	/* seeding: an instance from before tracing began is no drift */
	model_init(&m, true);
	s = snap(items, 2, ready, 1, waiters, 1);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->nitems == 2 && model_find(&m, EP)->drift == 0,
	      "seeded without drift");
	CHECK(is_ready(&m, 9) && model_find(&m, EP)->nwaiters == 1, "ready list and waiters seeded");

	/* an item the model missed is drift, and is corrected */
	s = snap(items, 1, NULL, 0, NULL, 0);	/* fd 9 gone, nothing ready, no waiter */
	model_apply_snapshot(&m, &s);
	/* corrected at once; the waiter counts now, the item when the next
	 * snapshot comes and no record explained it (a DEL in flight would
	 * have); the removal takes fd 9 off the ready list as well */
	CHECK(model_find(&m, EP)->nitems == 1 && model_find(&m, EP)->drift == 1 &&
	      !is_ready(&m, 9) && !model_find(&m, EP)->nwaiters,
	      "missing removal + vanished waiter: corrected, drift %llu so far",
	      (unsigned long long)model_find(&m, EP)->drift);

	/* an item added after the walk began is kept, not drift */
	s = snap(items, 1, NULL, 0, NULL, 0);
	ctl(&m, ET_CTL_ADD, 7, IN);
	model_apply_snapshot(&m, &s);
	CHECK(model_item_find(model_find(&m, EP), 7) && model_find(&m, EP)->drift == 2,
	      "unexplained removal counted; later ADD kept without drift");

	/* a walk that saw an ADD whose record comes only after it (the syscall
	 * was in flight): corrected, then explained, never drift */
	{
		struct et_snap_item with8[3] = { items[0],
						 { .fd = 7, .events = IN | 0x18, .data = 0x107,
						   .file = 0x5007 },
						 { .fd = 8, .events = IN | 0x18, .data = 0x108,
						   .file = 0x5008 } };

		s = snap(with8, 3, NULL, 0, NULL, 0);
		model_apply_snapshot(&m, &s);
		ctl(&m, ET_CTL_ADD, 8, IN);	/* its syscall-exit record */
		s = snap(with8, 3, NULL, 0, NULL, 0);
		model_apply_snapshot(&m, &s);
		CHECK(model_item_find(model_find(&m, EP), 8) && model_find(&m, EP)->drift == 2,
		      "in-flight ADD explained: drift %llu",
		      (unsigned long long)model_find(&m, EP)->drift);
		ctl(&m, ET_CTL_DEL, 8, 0);
		s = snap(with8, 2, NULL, 0, NULL, 0);
		model_apply_snapshot(&m, &s);
	}

	/* an item removed after the walk is not resurrected */
	s = snap(items, 1, NULL, 0, NULL, 0);
	s.items = (struct et_snap_item[]){ items[0], { .fd = 7, .events = IN | 0x18,
							.data = 0x107, .file = 0x5007 } };
	s.nitems = 2;
	ctl(&m, ET_CTL_DEL, 7, 0);
	model_apply_snapshot(&m, &s);
	CHECK(!model_item_find(model_find(&m, EP), 7) && model_find(&m, EP)->drift == 2,
	      "later DEL not undone");

	/* after a loss: resyncing until the next snapshot, which corrects
	 * without counting drift */
	lost.hdr.type = ET_EV_LOST;
	lost.hdr.ts_ns = now += 1000;
	model_apply(&m, &lost.hdr);
	CHECK(model_find(&m, EP)->resyncing, "a loss marks the instance resyncing");
	s = snap(items, 2, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(!model_find(&m, EP)->resyncing && model_find(&m, EP)->nitems == 2 &&
	      model_find(&m, EP)->drift == 2, "resynced, not counted as drift");

	/* a truncated snapshot corrects nothing */
	s = snap(NULL, 0, NULL, 0, NULL, 0);
	s.flags = ET_F_TRUNCATED;
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->nitems == 2, "truncated snapshot ignored");
	model_free(&m);
}

static void test_many_removals(void)
{
	struct model m;
	struct et_snap_item many[200];
	struct et_snapshot s;

	/* however many items go after the walk began, none is resurrected */
	model_init(&m, true);
	create(&m);
	for (int i = 0; i < 200; i++) {
		many[i] = (struct et_snap_item){ .fd = 1000 + i, .events = IN | 0x18,
						 .data = 0x100 + 1000 + i, .file = 0x5000 + 1000 + i };
		ctl(&m, ET_CTL_ADD, 1000 + i, IN);
	}
	s = snap(many, 200, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	s = snap(many, 200, NULL, 0, NULL, 0);	/* walked, then... */
	for (int i = 0; i < 200; i++)
		ctl(&m, ET_CTL_DEL, 1000 + i, 0);	/* ...all removed */
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->nitems == 0 && model_find(&m, EP)->drift == 0,
	      "200 removals after the walk: none resurrected, no drift (%zu left)",
	      model_find(&m, EP)->nitems);
	model_free(&m);
}

static void test_derived_release(void)
{
	struct model m;
	struct et_snap_item items[2] = { { .fd = 5, .events = IN | 0x18, .data = 0x105, .file = 0x5005 },
					 { .fd = 6, .events = IN | 0x18, .data = 0x106, .file = 0x5006 } };
	struct et_ev_release r = { .in = inst, .fd = 6, .file = 0x5006 };
	struct et_ev_close c = { .in = inst };
	struct et_snapshot s;

	/* tracepoint mode: a release seen at close()'s entry; a snapshot
	 * walked after it can still show the item (the fput is deferred) */
	model_init(&m, false);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	hdr(&r.hdr, ET_EV_RELEASE, PID);
	r.hdr.src = ET_SRC_TRACEPOINT;
	model_apply(&m, &r.hdr);
	s = snap(items, 2, NULL, 0, NULL, 0);	/* walked after, item still there */
	model_apply_snapshot(&m, &s);
	CHECK(!model_item_find(model_find(&m, EP), 6) && model_find(&m, EP)->drift == 0,
	      "pending release: not resurrected, no drift (%s)", model_find(&m, EP)->drift_note);
	s = snap(items, 1, NULL, 0, NULL, 0);	/* now it is gone */
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->nitems == 1 && model_find(&m, EP)->drift == 0,
	      "confirmed by the next snapshot");
	/* an instance closed at close()'s entry, walked once more before the
	 * deferred fput: no phantom */
	hdr(&c.hdr, ET_EV_EP_CLOSE, PID);
	model_apply(&m, &c.hdr);
	s = snap_at(1000, items, 1, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(!model_find(&m, EP) && m.ninst == 1, "a stale snapshot of a closed instance is ignored");
	/* walked well after: it is alive (a process it was shared with holds
	 * it), reopened and seeded anew, without drift */
	s = snap(items, 1, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP) && m.ninst == 1 && model_find(&m, EP)->nitems == 1 &&
	      model_find(&m, EP)->drift == 0 && !model_find(&m, EP)->resyncing,
	      "walked well after its close: reopened, reseeded");
	model_free(&m);
}

static void test_ovflist_and_sampled(void)
{
	struct model m;
	struct et_snap_item items[1] = { { .fd = 5, .events = IN | 0x18, .data = 0x105 } };
	__s32 ready[1] = { 5 };
	struct et_snapshot s;

	/* tracepoint mode: no callbacks, the ready list is whatever the
	 * snapshots saw, rdllist and ovflist alike, and never drift */
	model_init(&m, false);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	callback(&m, 5, IN);
	CHECK(!is_ready(&m, 5), "without callbacks the model does not guess readiness");
	s = snap(items, 1, ready, 1, NULL, 0);
	s.flags = ET_F_SCANNING;	/* entries came from ovflist during a scan */
	model_apply_snapshot(&m, &s);
	CHECK(is_ready(&m, 5) && model_find(&m, EP)->drift == 0, "sampled ready list, no drift");
	model_free(&m);
}

/*
 * A walk during a transfer ("ovflist" scenario): fd 5, taken off rdllist
 * by ep_send_events, is being copied out (on neither list); fd 6's
 * callback came meanwhile and is on ovflist.  Not drift: the walk cannot
 * see the scanner's private list.
 */
static void test_walk_during_transfer(void)
{
	struct model m;
	struct et_snap_item items[2] = { { .fd = 5, .events = IN | 0x18, .data = 0x105 },
					 { .fd = 6, .events = IN | 0x18, .data = 0x106 } };
	__s32 ready[1] = { 6 };
	struct et_snapshot s;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	callback(&m, 5, IN);
	callback(&m, 6, IN);
	s = snap(items, 2, ready, 1, NULL, 0);
	s.flags = ET_F_SCANNING;
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 0 && is_ready(&m, 5) && is_ready(&m, 6),
	      "a walk during a transfer: the item being copied out is no drift");
	s = snap(items, 2, ready, 1, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 1 && !is_ready(&m, 5) && is_ready(&m, 6),
	      "the same walk with no transfer running is drift, and corrects");
	model_free(&m);
}

static void scan(struct model *m, const int *fds, __u32 n, bool truncated)
{
	struct et_ev_scan e = { .in = inst, .n = n, .truncated = truncated };

	for (__u32 i = 0; i < n; i++)
		e.fd[i] = fds[i];
	hdr(&e.hdr, ET_EV_SCAN, PID);
	model_apply(m, &e.hdr);
}

static void test_scan_records(void)
{
	struct model m;
	struct et_snap_item items[3] = { { .fd = 5, .events = IN | 0x18, .data = 0x105, .file = 0x5005 },
					 { .fd = 6, .events = IN | ET | 0x18, .data = 0x106, .file = 0x5006 },
					 { .fd = 7, .events = IN | 0x18, .data = 0x107, .file = 0x5007 } };
	__s32 ready[1] = { 5 };
	struct et_snapshot s;

	/* where ep_done_scan is seen, what a scan leaves is the ready list:
	 * an LT item drained before the wait is dropped by the scan */
	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN | ET);
	ctl(&m, ET_CTL_ADD, 7, IN);
	callback(&m, 5, IN);
	callback(&m, 6, IN);
	callback(&m, 7, IN);
	scan(&m, (int[]){ 5 }, 1, false);
	wait_exit(&m, PID, (int[]){ 5, 6 }, 2);
	CHECK(is_ready(&m, 5) && !is_ready(&m, 6) && !is_ready(&m, 7) &&
	      model_find(&m, EP)->nready == 1, "the scan's list replaces the guess");
	s = snap(items, 3, ready, 1, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 0, "and agrees with the kernel: %s",
	      model_find(&m, EP)->drift_note);
	/* a delivered one-shot item is disarmed even when scans say the rest */
	ctl(&m, ET_CTL_ADD, 8, IN | ONESHOT);
	callback(&m, 8, IN);
	scan(&m, (int[]){ 5 }, 1, false);
	wait_exit(&m, PID, (int[]){ 8 }, 1);
	CHECK(model_item_find(model_find(&m, EP), 8)->events == ONESHOT,
	      "one-shot disarmed with scan records too");
	ctl(&m, ET_CTL_DEL, 8, 0);
	/* a scan that left more than a record holds: unknown, not drift */
	scan(&m, (int[]){ 5, 7 }, 2, true);
	s = snap(items, 3, (__s32[]){ 7 }, 1, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 0 && is_ready(&m, 7) && !is_ready(&m, 5),
	      "truncated scan: the snapshot corrects without drift");
	model_free(&m);
}

/*
 * A walk 1 us after a record may show the state before or after the change
 * the record announces (fentry records lead the change, fexit ones trail
 * it).  Seen on Debian's 6.1 under QEMU: the walk came after the callback's
 * record but before ep_poll_callback queued the item.  The part touched
 * near the walk is neither compared nor corrected; a settled walk is.
 */
static void test_settle(void)
{
	struct model m;
	struct et_snap_item items[2] = { { .fd = 5, .events = IN | 0x18, .data = 0x105, .file = 0x5005 },
					 { .fd = 6, .events = IN | 0x18, .data = 0x106, .file = 0x5006 } };
	struct et_snapshot s;
	struct et_ev_release rel = { .in = inst, .fd = 6, .file = 0x5006 };

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	s = snap(items, 2, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	callback(&m, 5, IN);
	s = snap_at(1000, items, 2, NULL, 0, NULL, 0);	/* the queueing not yet done */
	model_apply_snapshot(&m, &s);
	CHECK(is_ready(&m, 5) && model_find(&m, EP)->drift == 0,
	      "a walk just after a callback record neither corrects nor counts: %s",
	      model_find(&m, EP)->drift_note);
	/* a release announced at eventpoll_release_file's entry, walked
	 * before ep_remove ran: the item is still in the kernel's tree */
	hdr(&rel.hdr, ET_EV_RELEASE, PID);
	model_apply(&m, &rel.hdr);
	s = snap_at(1000, items, 2, (__s32[]){ 5 }, 1, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(!model_item_find(model_find(&m, EP), 6) && model_find(&m, EP)->drift == 0,
	      "a walk just after a release record keeps the item removed: %s",
	      model_find(&m, EP)->drift_note);
	/* a waiter woken (sched_wakeup comes before the wait queue entry goes) */
	wait_enter(&m, 301);
	sleep_wake(&m, ET_EV_SLEEP, 301);
	sleep_wake(&m, ET_EV_WAKEUP, 301);
	s = snap_at(1000, items, 1, (__s32[]){ 5 }, 1, (__u32[]){ 301 }, 1);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 0, "a walk just after a wakeup: %s",
	      model_find(&m, EP)->drift_note);
	/* a one-shot item delivered just after the walk (the wait's record
	 * comes after it, the snapshot is applied after that): the walk shows
	 * it armed, the model disarmed, and neither is wrong */
	{
		struct et_snap_item armed[2] = { items[0], { .fd = 8, .events = IN | ONESHOT | 0x18,
							     .data = 0x108, .file = 0x5008 } };

		ctl(&m, ET_CTL_ADD, 8, IN | ONESHOT);
		s = snap(armed, 2, (__s32[]){ 5 }, 1, NULL, 0);
		model_apply_snapshot(&m, &s);
		callback(&m, 8, IN);
		s = snap_at(MODEL_SETTLE_NS + 1000, armed, 2, (__s32[]){ 5, 8 }, 2, NULL, 0);
		wait_exit(&m, 302, (int[]){ 8 }, 1);
		model_apply_snapshot(&m, &s);
		CHECK(model_find(&m, EP)->drift == 0 &&
		      model_item_find(model_find(&m, EP), 8)->events == ONESHOT,
		      "a walk just before a one-shot delivery: no drift, still disarmed: %s",
		      model_find(&m, EP)->drift_note);
		ctl(&m, ET_CTL_DEL, 8, 0);
	}
	/* settled: the same pictures agree, and a real difference counts */
	s = snap(items, 1, (__s32[]){ 5 }, 1, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 0, "settled and agreeing: %s",
	      model_find(&m, EP)->drift_note);
	s = snap(items, 1, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(model_find(&m, EP)->drift == 1 && !is_ready(&m, 5),
	      "settled and differing: drift %llu, corrected",
	      (unsigned long long)model_find(&m, EP)->drift);
	model_free(&m);
}

#define MS 1000000ull
/* a snapshot item as ctl() adds it */
#define ITEM(n) { .fd = (n), .events = IN | 0x18, .data = 0x100 + (n), .file = 0x5000 + (n) }

static struct model_inst *cur(struct model *m)
{
	return model_find(m, EP);
}

/*
 * The first walk of an instance from before tracing raced changes to its
 * tree (redis under redis-benchmark -k 0 churns connections): it is no
 * exact picture, but what it lists was there.  Seed from it, stay marked
 * resyncing until an exact walk, and count what later walks correct.
 */
static void test_truncated_seed(void)
{
	struct et_snap_item all[4] = { ITEM(3), ITEM(6), ITEM(7), ITEM(9) };
	struct et_snap_item seen[3] = { ITEM(3), ITEM(6), ITEM(9) };	/* fd 7 missed */
	struct et_snapshot s;
	struct model m;

	model_init(&m, false);
	s = snap(seen, 3, NULL, 0, NULL, 0);
	s.flags = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
	model_apply_snapshot(&m, &s);
	CHECK(cur(&m) && cur(&m)->nitems == 3 && cur(&m)->resyncing && !cur(&m)->drift,
	      "seeded from what a raced first walk listed, marked resyncing (%zu items)",
	      cur(&m) ? cur(&m)->nitems : 0);
	s = snap(all, 4, NULL, 0, NULL, 0);
	s.flags = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
	model_apply_snapshot(&m, &s);
	CHECK(model_item_find(cur(&m), 7) && cur(&m)->resyncing,
	      "a later raced walk adds what the first missed, still resyncing");
	s = snap(all, 4, NULL, 0, NULL, 0);
	s.flags = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
	model_apply_snapshot(&m, &s);
	CHECK(cur(&m)->drift == 1 && cur(&m)->resyncing,
	      "that correction counts as drift (%llu): %s", (unsigned long long)cur(&m)->drift,
	      cur(&m)->drift_note);
	s = snap(all, 4, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	CHECK(!cur(&m)->resyncing && cur(&m)->drift == 1 && cur(&m)->nitems == 4,
	      "an exact walk ends the resync");
	model_free(&m);

	/* a busy server's tree changes during every walk: two raced walks in a
	 * row that find everything as the model has it end it too */
	model_init(&m, false);
	s = snap(seen, 3, NULL, 0, NULL, 0);
	s.flags = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
	model_apply_snapshot(&m, &s);
	for (int i = 0; i < 2; i++) {
		CHECK(cur(&m)->resyncing, "raced walk %d: still resyncing", i);
		s = snap(seen, 3, NULL, 0, NULL, 0);
		s.flags = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
		model_apply_snapshot(&m, &s);
	}
	CHECK(!cur(&m)->resyncing && !cur(&m)->drift, "two raced walks that agree end it");
	model_free(&m);
}

/* an fd added and removed every 10 ms: the interest set never settles */
static void churn(struct model *m, int n)
{
	for (int i = 0; i < n; i++) {
		now += 5 * MS;
		ctl(m, ET_CTL_ADD, 20, IN);
		now += 5 * MS;
		ctl(m, ET_CTL_DEL, 20, 0);
	}
}

/* a raced walk at the current time, delivered after 100 ms more of churn */
static void churn_walk(struct model *m, struct et_snap_item *items, __u32 n, __u16 flags)
{
	struct et_snapshot s = snap_at(1000, items, n, NULL, 0, NULL, 0);

	s.flags = flags;
	churn(m, 10);
	model_apply_snapshot(m, &s);
	churn(m, 20);
}

/*
 * Under steady churn the part-wise comparison never ran.  Item by item,
 * what no record touched near the walk is compared: an item the records
 * never showed (an io_uring EPOLL_CTL_ADD) is found, and an item removed
 * where no record saw it is dropped once two walks agree.
 */
static void test_churn(void)
{
	struct et_snap_item base[2] = { ITEM(5), ITEM(6) };
	struct et_snap_item with8[3] = { ITEM(5), ITEM(6), ITEM(8) };
	struct et_snap_item no6[2] = { ITEM(5), ITEM(8) };
	struct et_snap_item only8[1] = { ITEM(8) };
	struct et_snap_item flight[3] = { ITEM(5), ITEM(8), ITEM(20) };
	const __u16 moved = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
	struct et_snapshot s;
	struct model m;
	__u64 c0;

	model_init(&m, false);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	s = snap(base, 2, NULL, 0, NULL, 0);
	model_apply_snapshot(&m, &s);
	churn(&m, 20);
	c0 = m.compared;
	churn_walk(&m, with8, 3, moved);
	CHECK(model_item_find(cur(&m), 8) && m.compared == c0 + 3 && !cur(&m)->drift,
	      "under churn, items compared (%llu) and an unseen ADD corrected",
	      (unsigned long long)(m.compared - c0));
	churn_walk(&m, with8, 3, moved);
	CHECK(cur(&m)->drift == 1, "and counted when no record explained it: %s",
	      cur(&m)->drift_note);
	churn_walk(&m, no6, 2, moved);
	CHECK(model_item_find(cur(&m), 6) && cur(&m)->drift == 1,
	      "one raced walk without fd 6: not enough");
	churn_walk(&m, no6, 2, moved);
	CHECK(!model_item_find(cur(&m), 6) && cur(&m)->drift == 2,
	      "two: fd 6 gone, drift %llu: %s", (unsigned long long)cur(&m)->drift,
	      cur(&m)->drift_note);
	/* a walk that skipped fd 5 once, then listed it: nothing happens */
	churn_walk(&m, only8, 1, moved);
	churn_walk(&m, no6, 2, moved);
	churn_walk(&m, only8, 1, moved);
	CHECK(model_item_find(cur(&m), 5) && cur(&m)->drift == 2,
	      "missed once between two walks that list it: kept");
	/* a walk cut short proves nothing gone */
	churn_walk(&m, only8, 1, moved | ET_F_ITEMS_CUT);
	churn_walk(&m, only8, 1, moved | ET_F_ITEMS_CUT);
	CHECK(model_item_find(cur(&m), 5) && cur(&m)->drift == 2, "walks cut short remove nothing");
	/* the churning fd is in flight: listed or not, never compared */
	c0 = m.compared;
	churn_walk(&m, flight, 3, moved);
	churn_walk(&m, no6, 2, moved);
	CHECK(m.compared == c0 + 4 && cur(&m)->drift == 2 && !model_item_find(cur(&m), 20),
	      "items in flight skipped (%llu compared)", (unsigned long long)(m.compared - c0));
	/* a MOD just before the walk, which shows the old mask: in flight */
	ctl(&m, ET_CTL_MOD, 5, IN | 0x4);
	churn_walk(&m, no6, 2, moved);
	CHECK(cur(&m)->drift == 2 && model_item_find(cur(&m), 5)->events == (IN | 0x4 | 0x18),
	      "a MOD in flight is not undone: %s", cur(&m)->drift_note);
	model_free(&m);
}

/* a parts-blind truncated snapshot (an older recording, or parts lost in
 * the ring): what it lists is believed, what it lacks proves nothing */
static void test_old_truncated(void)
{
	struct et_snap_item two[2] = { ITEM(5), ITEM(9) };
	struct et_snapshot s;
	struct model m;

	model_init(&m, false);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	for (int i = 0; i < 3; i++) {
		s = snap(two, 2, NULL, 0, NULL, 0);
		s.flags = ET_F_TRUNCATED;
		model_apply_snapshot(&m, &s);
	}
	CHECK(model_item_find(cur(&m), 6) && model_item_find(cur(&m), 9) && cur(&m)->drift == 1,
	      "presence only: fd 9 added (drift %llu), fd 6 kept",
	      (unsigned long long)cur(&m)->drift);
	model_free(&m);
}

/*
 * 5000 threads asleep on one instance: every one is a waiter.  A walk of
 * the wait queue cut short (it stood on a waiter being woken) drops none
 * and says so.
 */
static void test_many_waiters(void)
{
	static __u32 tids[5000];
	struct et_snapshot s;
	struct model m;

	for (int i = 0; i < 5000; i++)
		tids[i] = 10000 + (i * 7919) % 5000;	/* queue order, not sorted */
	model_init(&m, true);
	s = snap(NULL, 0, NULL, 0, tids, 5000);
	model_apply_snapshot(&m, &s);
	CHECK(cur(&m)->nwaiters == 5000 && model_asleep(cur(&m)) == 5000 &&
	      !cur(&m)->waiters_truncated && cur(&m)->waiters[0].tid == tids[0],
	      "5000 waiters seeded in queue order (%zu)", cur(&m)->nwaiters);
	s = snap(NULL, 0, NULL, 0, tids, 300);
	s.flags = ET_F_TRUNCATED | ET_F_WAITERS_CUT;
	model_apply_snapshot(&m, &s);
	CHECK(cur(&m)->nwaiters == 5000 && cur(&m)->waiters_truncated && !cur(&m)->drift,
	      "a walk cut short drops none and is marked");
	s = snap(NULL, 0, NULL, 0, tids, 4000);
	model_apply_snapshot(&m, &s);
	CHECK(cur(&m)->nwaiters == 4000 && !cur(&m)->waiters_truncated && cur(&m)->drift == 1,
	      "a whole walk: 4000 left, drift %llu", (unsigned long long)cur(&m)->drift);
	/* a raced walk that lists a waiter twice: once */
	s = snap(NULL, 0, NULL, 0, (__u32[]){ 77, 77, 78 }, 3);
	model_apply_snapshot(&m, &s);
	CHECK(cur(&m)->nwaiters == 2, "a tid listed twice is one waiter (%zu)", cur(&m)->nwaiters);
	model_free(&m);
}

static void round_end(struct model *m, __u64 seq, __u64 start, __u32 drops, __u16 flags)
{
	struct et_ev_snap_round r = { .seq = seq, .start_ns = start, .drops = drops };

	hdr(&r.hdr, ET_EV_SNAP_ROUND, 0);
	r.hdr.pid = 0;
	r.hdr.flags = flags;
	model_apply(m, &r.hdr);
}

static void walk_of(struct model *m, __u64 ep, __u64 seq)
{
	struct et_snapshot s = snap_at(1000, NULL, 0, NULL, 0, NULL, 0);

	s.in.ep = ep;
	s.seq = seq;
	model_apply_snapshot(m, &s);
}

/*
 * An instance closed by close-on-exec at exec leaves no record in
 * tracepoint mode: a complete round that does not walk it proves it gone.
 * Only a complete round, only what existed before it began and saw no
 * record during it.
 */
static void test_round_gone(void)
{
	const __u64 A = EP, B = EP + 0x1000, C = EP + 0x2000, D = EP + 0x3000;
	struct et_ev_create cr = { .in = { .ep = D, .owner = PID, .epfd = 9 } };
	struct et_ev_ctl c = { .in = { .ep = C, .owner = PID, .epfd = 8 }, .op = ET_CTL_ADD,
			       .fd = 4, .events = IN };
	struct model m;
	__u64 start;

	model_init(&m, false);
	start = now;
	walk_of(&m, A, 1);
	walk_of(&m, B, 1);
	walk_of(&m, C, 1);
	round_end(&m, 1, start, 0, 0);
	CHECK(model_find(&m, A) && model_find(&m, B) && model_find(&m, C), "all walked, all kept");
	now += 10 * MS;
	start = now;
	walk_of(&m, A, 2);
	walk_of(&m, C, 2);
	round_end(&m, 2, start, 0, 0);
	CHECK(model_find(&m, A) && !model_find(&m, B) && m.inst[1]->gone_ns && model_find(&m, C),
	      "the one a complete round did not find is gone");
	now += 10 * MS;
	start = now;
	walk_of(&m, A, 3);
	round_end(&m, 3, start, 1, ET_F_TRUNCATED);	/* C's walk lost in the ring */
	round_end(&m, 3, start, 0, ET_F_TRUNCATED);	/* ... or dropped half-way */
	CHECK(model_find(&m, C), "an incomplete round removes nothing");
	now += 10 * MS;
	start = now;
	walk_of(&m, A, 4);
	hdr(&cr.hdr, ET_EV_EP_CREATE, PID);	/* after the walk passed its owner */
	model_apply(&m, &cr.hdr);
	hdr(&c.hdr, ET_EV_CTL, PID);		/* C in use during the round */
	model_apply(&m, &c.hdr);
	round_end(&m, 4, start, 0, 0);
	CHECK(model_find(&m, C) && model_find(&m, D),
	      "created or used during the round: kept");
	now += 10 * MS;
	round_end(&m, 5, now, 0, 0);
	CHECK(!model_find(&m, A) && !model_find(&m, C) && !model_find(&m, D),
	      "the next complete round without them: gone");
	model_free(&m);
}

/*
 * After a traced process exits its pid can be handed to a new process at
 * once: its records are not the traced process's.  A fork the session
 * follows takes the pid in again.
 */
static void test_pid_reuse(void)
{
	const __u64 E2 = EP + 0x1000;
	struct et_ev_task_exit x = {};
	struct et_ev_create cr = { .in = { .ep = E2, .owner = PID, .epfd = 3 } };
	struct et_ev_ctl c = { .in = { .ep = E2, .owner = PID, .epfd = 3 }, .op = ET_CTL_ADD,
			       .fd = 4, .events = IN };
	struct et_ev_fork f = { .child_pid = PID };
	struct model m;
	bool applied;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	hdr(&x.hdr, ET_EV_TASK_EXIT, PID);
	x.hdr.flags = ET_F_GROUP_DEAD | ET_F_UNTRACED;
	model_apply(&m, &x.hdr);
	hdr(&cr.hdr, ET_EV_EP_CREATE, PID);	/* the newcomer with the same pid */
	applied = model_apply(&m, &cr.hdr);
	hdr(&c.hdr, ET_EV_CTL, PID);
	model_apply(&m, &c.hdr);
	CHECK(!applied && m.ignored == 2 && !model_find(&m, E2) && !model_find(&m, EP),
	      "records after the exit are ignored (%llu)", (unsigned long long)m.ignored);
	hdr(&f.hdr, ET_EV_FORK, 200);	/* a followed parent forks: the pid again */
	f.hdr.pid = 200;
	model_apply(&m, &f.hdr);
	hdr(&cr.hdr, ET_EV_EP_CREATE, PID);
	applied = model_apply(&m, &cr.hdr);
	CHECK(applied && model_find(&m, E2) && m.ignored == 2, "a followed fork takes it in again");
	model_free(&m);

	/* tracing every process, the tracer lets no pid go: a new process with
	 * an old pid is one of all */
	model_init(&m, true);
	create(&m);
	hdr(&x.hdr, ET_EV_TASK_EXIT, PID);
	x.hdr.flags = ET_F_GROUP_DEAD;
	model_apply(&m, &x.hdr);
	hdr(&cr.hdr, ET_EV_EP_CREATE, PID);
	applied = model_apply(&m, &cr.hdr);
	CHECK(applied && model_find(&m, E2) && !m.ignored, "system-wide: the pid's newcomer is traced");
	model_free(&m);
}

/* ---- the inline rung's records ------------------------------------------ */

#define E2 0xffff000000002000ull
static const struct et_inst inst2 = { .ep = E2, .owner = PID, .epfd = EPFD + 1 };

static void send_events(struct model *m, const struct et_inst *in, __u32 tid)
{
	struct et_ev_ep_send_events e = { .in = *in, .maxevents = 8 };

	hdr(&e.hdr, ET_EV_EP_SEND_EVENTS, tid);
	model_apply(m, &e.hdr);
}

static void done_scan(struct model *m, const struct et_inst *in, __u32 tid, __u64 after)
{
	struct et_ev_scan e = { .in = *in };

	now += after;
	hdr(&e.hdr, ET_EV_SCAN, tid);
	model_apply(m, &e.hdr);
}

/* a callback as the BPF side writes it: with the item's mask */
static void callback_on(struct model *m, const struct et_inst *in, int fd, __u32 mask, __u32 key)
{
	struct et_ev_callback e = { .in = *in, .fd = fd, .events = mask | 0x18, .key = key,
				    .data = 0x100 + fd };

	hdr(&e.hdr, ET_EV_CALLBACK, 999);
	model_apply(m, &e.hdr);
}

static void ep_insert(struct model *m, __u32 tid, int fd, __u32 events, __u64 file)
{
	struct et_ev_ep_insert e = { .in = inst, .fd = fd, .events = events, .data = 0x100 + fd,
				     .file = file };

	hdr(&e.hdr, ET_EV_EP_INSERT, tid);
	model_apply(m, &e.hdr);
}

static void test_transfer_window(void)
{
	struct model m;
	struct model_inst *in;
	long r;

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	ctl(&m, ET_CTL_ADD, 6, IN);
	in = model_find(&m, EP);
	CHECK(!in->il.scanning && !in->il.transfers, "no transfer before ep_send_events");
	send_events(&m, &inst, 200);
	in = model_find(&m, EP);
	CHECK(in->il.scanning && in->il.transfers == 1 && in->il.scan_since_ns == now,
	      "ep_send_events opens the window");
	callback_on(&m, &inst, 5, IN, IN);
	r = model_ready_index(in, 5);
	CHECK(in->il.ovf_callbacks == 1 && in->il.ovf_window == 1 && r >= 0 && in->ready[r].ovflist,
	      "a callback inside the window went to ovflist");
	callback_on(&m, &inst, 6, IN, 0x4);	/* EPOLLOUT: the item does not ask for it */
	CHECK(in->il.ovf_callbacks == 1, "a callback the key filter stops is not chained");
	callback_on(&m, &inst, 6, 0, IN);	/* disarmed: private bits only */
	CHECK(in->il.ovf_callbacks == 1, "nor one for a disarmed item");
	done_scan(&m, &inst, 200, 5000);
	r = model_ready_index(in, 5);
	CHECK(!in->il.scanning && in->il.transfers_ended == 1 && in->il.transfer_last_ns == 9000 &&
	      in->il.transfer_max_ns == 9000 && in->il.transfer_total_ns == 9000,
	      "ep_done_scan of the same thread ends it: %llu ns",
	      (unsigned long long)in->il.transfer_last_ns);
	CHECK(r < 0 || !in->ready[r].ovflist, "spliced back: no ready item is on ovflist");
	callback_on(&m, &inst, 6, IN, IN);
	CHECK(in->il.ovf_callbacks == 1 && in->il.ovf_window == 1 && is_ready(&m, 6) &&
	      !in->ready[model_ready_index(in, 6)].ovflist,
	      "a callback outside the window goes to rdllist");
	/* a second, longer one: max and total */
	send_events(&m, &inst, 200);
	CHECK(in->il.ovf_window == 0, "a new window counts afresh");
	done_scan(&m, &inst, 200, 9000);
	CHECK(in->il.transfers == 2 && in->il.transfers_ended == 2 &&
	      in->il.transfer_last_ns == 10000 && in->il.transfer_max_ns == 10000 &&
	      in->il.transfer_total_ns == 19000, "last, max and total durations");
	/* ep_done_scan with no transfer open (the epoll file polled) */
	done_scan(&m, &inst, 200, 0);
	CHECK(in->il.transfers_ended == 2 && !in->il.scanning, "a scan without a transfer ends none");
	model_free(&m);
}

static void test_transfer_interleaved(void)
{
	struct model m;
	struct model_inst *a, *b;
	struct et_ev_create c2 = { .in = inst2 };

	model_init(&m, true);
	create(&m);
	hdr(&c2.hdr, ET_EV_EP_CREATE, PID);
	model_apply(&m, &c2.hdr);
	ctl(&m, ET_CTL_ADD, 5, IN);
	a = model_find(&m, EP);
	b = model_find(&m, E2);
	send_events(&m, &inst, 200);
	send_events(&m, &inst2, 300);
	send_events(&m, &inst, 201);	/* a second thread, queued on ep->mtx */
	callback_on(&m, &inst2, 9, IN, IN);
	CHECK(a->il.ovf_callbacks == 0 && b->il.ovf_callbacks == 1,
	      "a callback counts for its own instance only");
	done_scan(&m, &inst2, 200, 100);	/* thread 200 has no transfer on E2 */
	done_scan(&m, &inst, 300, 100);		/* nor 300 on EP */
	CHECK(a->il.scanning && b->il.scanning && !a->il.transfers_ended &&
	      !b->il.transfers_ended, "another thread's or instance's scan ends nothing");
	done_scan(&m, &inst, 200, 100);
	CHECK(a->il.scanning && a->il.transfers_ended == 1,
	      "one of two threads done: still scanning");
	callback_on(&m, &inst, 5, IN, IN);
	CHECK(a->il.ovf_callbacks == 1, "the other's window still diverts");
	done_scan(&m, &inst, 201, 100);
	done_scan(&m, &inst2, 300, 100);
	CHECK(!a->il.scanning && !b->il.scanning && a->il.transfers == 2 &&
	      a->il.transfers_ended == 2 && b->il.transfers == 1 && b->il.transfers_ended == 1,
	      "each ended by its own thread's scan");
	model_free(&m);
}

static void test_transfer_unended(void)
{
	struct model m;
	struct model_inst *in;
	struct et_ev_lost l = { .count = 3 };

	model_init(&m, true);
	create(&m);
	ctl(&m, ET_CTL_ADD, 5, IN);
	in = model_find(&m, EP);
	send_events(&m, &inst, 200);
	hdr(&l.hdr, ET_EV_LOST, 0);
	model_apply(&m, &l.hdr);
	CHECK(!in->il.scanning && in->il.transfers == 1 && in->il.transfers_unended == 1,
	      "records lost: the open transfer has no end, the window is closed");
	callback_on(&m, &inst, 5, IN, IN);
	done_scan(&m, &inst, 200, 100);
	CHECK(!in->il.ovf_callbacks && !in->il.transfers_ended,
	      "after the loss: no diversion, no end");
	/* its end record lost alone: the next ep_send_events of the thread */
	send_events(&m, &inst, 200);
	send_events(&m, &inst, 200);
	CHECK(in->il.transfers == 3 && in->il.transfers_unended == 2 && in->il.scanning,
	      "a thread's new transfer: its previous one had no end");
	/* the wait ended first (ep_send_events left at once on a fatal signal) */
	wait_exit(&m, 200, NULL, 0);
	CHECK(!in->il.scanning && in->il.transfers_unended == 3 && !in->il.transfers_ended,
	      "the wait's exit closes its thread's transfer, unended");
	/* the instance closed inside a window */
	send_events(&m, &inst, 200);
	{
		struct et_ev_close c = { .in = inst };

		hdr(&c.hdr, ET_EV_EP_CLOSE, PID);
		model_apply(&m, &c.hdr);
	}
	CHECK(!in->il.scanning, "a closed instance is not scanning");
	model_free(&m);
}

static void test_ep_insert_poll(void)
{
	struct model m;
	struct model_inst *in;
	struct et_ev_ep_poll p = { .in = inst, .maxevents = 7, .deadline_ns = 123456789 };

	model_init(&m, true);
	create(&m);
	ep_insert(&m, PID, 5, IN | 0x18, 0x5005);
	ctl(&m, ET_CTL_ADD, 5, IN);
	in = model_find(&m, EP);
	CHECK(in->il.inserts == 1 && !in->il.insert_drift && !in->il.insert_unpaired,
	      "ep_insert and its ctl ADD agree: %s", in->il.insert_note);
	ep_insert(&m, PID, 6, 0x4 | 0x18, 0x5006);	/* the kernel inserted OUT */
	ctl(&m, ET_CTL_ADD, 6, IN);
	CHECK(in->il.insert_drift == 1 && strstr(in->il.insert_note, "fd 6: ep_insert mask 0x1c"),
	      "a mask that differs is drift: %s", in->il.insert_note);
	ep_insert(&m, PID, 7, IN | 0x18, 0x9999);
	ctl(&m, ET_CTL_ADD, 7, IN);
	CHECK(in->il.insert_drift == 2 && strstr(in->il.insert_note, "file"),
	      "so is another file: %s", in->il.insert_note);
	ep_insert(&m, PID, 11, IN | 0x18, 0x500b);
	ctl(&m, ET_CTL_ADD, 10, IN);
	CHECK(in->il.insert_drift == 3 && strstr(in->il.insert_note, "ep_insert fd 11, ctl ADD fd 10"),
	      "and another fd: %s", in->il.insert_note);
	ep_insert(&m, PID, 8, 0, 0);	/* the mask not readable at the site */
	ctl(&m, ET_CTL_ADD, 8, IN);
	CHECK(in->il.insert_drift == 3, "an unreadable mask is not compared");
	ep_insert(&m, 101, 9, IN | 0x18, 0x5009);	/* another thread's, pending */
	ctl(&m, ET_CTL_ADD, 12, IN);
	CHECK(in->il.insert_drift == 3 && in->il.insert_unpaired == 1 && in->il.inserts == 6,
	      "a thread's ADD does not pair with another thread's ep_insert");
	hdr(&p.hdr, ET_EV_EP_POLL, PID);
	model_apply(&m, &p.hdr);
	CHECK(in->il.polls == 1 && in->il.poll_maxevents == 7 &&
	      in->il.poll_deadline_ns == 123456789 && in->il.poll_ts_ns == now,
	      "ep_poll: counted, with its deadline");
	model_free(&m);
}

static void test_buckets(void)
{
	CHECK(model_bucket(0) == 0 && model_bucket(1) == 1 && model_bucket(2) == 2 &&
	      model_bucket(3) == 2 && model_bucket(4) == 3 && model_bucket(1023) == 10 &&
	      model_bucket(~0ull) == MODEL_HIST_BUCKETS - 1, "log2 buckets");
}

int main(void)
{
	test_lt_et();
	test_oneshot();
	test_key_filter();
	test_exclusive_one_waiter();
	test_removal_drops_ready();
	test_close_drops_all();
	test_thread_exit();
	test_wait_chains();
	test_nested();
	test_snapshots();
	test_ovflist_and_sampled();
	test_walk_during_transfer();
	test_many_removals();
	test_derived_release();
	test_scan_records();
	test_settle();
	test_truncated_seed();
	test_churn();
	test_old_truncated();
	test_many_waiters();
	test_round_gone();
	test_pid_reuse();
	test_transfer_window();
	test_transfer_interleaved();
	test_transfer_unended();
	test_ep_insert_poll();
	test_buckets();
	printf("model: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
