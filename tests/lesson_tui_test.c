// SPDX-License-Identifier: GPL-2.0
/*
 * The lesson layout (tui_lesson_view.c), driven with a made-up lesson's
 * stream (tests/lesson_stream.h) as `learn` feeds its sink: what the
 * screen buffer says at each stop, the two instances side by side, the
 * touched structures lit, ← giving exactly the state of the earlier stop,
 * r, auto-play, and the lesson asked to go on only when no stop is held.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lesson_stream.h"
#include "tui_lesson_view.h"
#include "tui_view.h"

/* ---- the stream, kept whole: the test feeds it piece by piece ------------ */

struct item {
	bool snap;
	size_t size;
	unsigned char rec[sizeof(struct et_ev_wait_exit) + sizeof(struct et_ev_lesson)];
	struct et_snapshot s;
	struct et_snap_item items[8];
	__s32 ready[8];
	__u32 waiters[8];
};

static struct item stream[256];
static int nstream, stop_at[LS_NSTOPS + 1];

static void col_record(void *ctx, const struct et_hdr *h, size_t size)
{
	(void)ctx;
	stream[nstream].snap = false;
	stream[nstream].size = size;
	memcpy(stream[nstream].rec, h, size);
	nstream++;
}

static void col_snapshot(void *ctx, const struct et_snapshot *s)
{
	struct item *it = &stream[nstream++];

	(void)ctx;
	it->snap = true;
	it->s = *s;
	memcpy(it->items, s->items, s->nitems * sizeof(*s->items));
	memcpy(it->ready, s->ready, s->nready * sizeof(*s->ready));
	memcpy(it->waiters, s->waiters, s->nwaiters * sizeof(*s->waiters));
	it->s.items = it->items;
	it->s.ready = it->ready;
	it->s.waiters = it->waiters;
}

static void col_stop(void *ctx, int k)
{
	(void)ctx;
	stop_at[k] = nstream - 1;
}

static void collect(void)
{
	struct ls_out o = { .record = col_record, .snapshot = col_snapshot, .stop = col_stop,
			    .until = -1, .now = 5000000000ULL };

	nstream = 0;
	ls_run(&o);
}

/* feed items [from, to) */
static void feed(struct lesson_view *lv, int from, int to)
{
	for (int i = from; i < to && i < nstream; i++) {
		if (stream[i].snap)
			lv_snapshot(lv, &stream[i].s);
		else
			lv_record(lv, (const void *)stream[i].rec, stream[i].size);
	}
}

/* a model fed by the test itself, items [0, to) */
static void model_to(struct model *m, int to)
{
	model_init(m, true);
	for (int i = 0; i < to; i++) {
		if (stream[i].snap)
			model_apply_snapshot(m, &stream[i].s);
		else
			model_apply(m, (const void *)stream[i].rec);
	}
}

/* the same instances, interest sets, ready lists, waiters and counters */
static bool same_model(const struct model *a, const struct model *b, char *why, size_t len)
{
	if (a->ninst != b->ninst) {
		snprintf(why, len, "%zu instances, not %zu", a->ninst, b->ninst);
		return false;
	}
	for (size_t i = 0; i < a->ninst; i++) {
		const struct model_inst *x = a->inst[i], *y = model_find(b, x->in.ep);

		if (!y || x->nitems != y->nitems || x->nready != y->nready ||
		    x->nwaiters != y->nwaiters || memcmp(&x->cnt, &y->cnt, sizeof(x->cnt)) ||
		    x->drift != y->drift) {
			snprintf(why, len, "instance %#llx differs", (unsigned long long)x->in.ep);
			return false;
		}
		for (size_t j = 0; j < x->nitems; j++)
			if (x->items[j].fd != y->items[j].fd ||
			    x->items[j].events != y->items[j].events) {
				snprintf(why, len, "item %zu differs", j);
				return false;
			}
		for (size_t j = 0; j < x->nready; j++)
			if (x->ready[j].fd != y->ready[j].fd ||
			    x->ready[j].since_ns != y->ready[j].since_ns) {
				snprintf(why, len, "ready %zu differs", j);
				return false;
			}
		for (size_t j = 0; j < x->nwaiters; j++)
			if (x->waiters[j].tid != y->waiters[j].tid ||
			    x->waiters[j].asleep != y->waiters[j].asleep) {
				snprintf(why, len, "waiter %zu differs", j);
				return false;
			}
	}
	return true;
}

static bool same_buf(const struct tbuf *a, const struct tbuf *b)
{
	return a->w == b->w && a->h == b->h &&
	       !memcmp(a->c, b->c, (size_t)a->w * a->h * sizeof(*a->c));
}

static void copy_buf(struct tbuf *d, const struct tbuf *s)
{
	tbuf_resize(d, s->w, s->h);
	memcpy(d->c, s->c, (size_t)s->w * s->h * sizeof(*s->c));
}

static char rowbuf[1024];

static const char *row(const struct tbuf *b, int y)
{
	return tbuf_row(b, y, rowbuf, sizeof(rowbuf));
}

static void dump(const struct tbuf *b)
{
	char r[1024];

	for (int y = 0; y < b->h; y++)
		printf("    |%s\n", tbuf_row(b, y, r, sizeof(r)));
}

/* ---- the advance mock ---------------------------------------------------- */

static int advances;

static int advance(void *ctx)
{
	(void)ctx;
	advances++;
	return 0;
}

static const struct tui_lesson_ctl ctl = { .advance = advance };

static const struct et_session_info info = { .callbacks_visible = true, .attach = "fentry" };

/* ---- the tests --------------------------------------------------------------- */

/* live: Space asks for a stop only when none is held, and shows it when it comes */
static void test_live_advance(void)
{
	struct lesson_view *lv = lv_new(&tglyphs_ascii, &ctl, 2, false);
	struct tbuf b = {};
	__u64 wall = 1;

	tbuf_resize(&b, 80, 24);
	lv_begin(lv, &info);
	advances = 0;
	feed(lv, 0, 1);		/* BEGIN */
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "lesson synthetic: A made-up lesson") == 0,
	      "the title bar names the lesson: '%s'", row(&b, 0));
	CHECK(tbuf_find(&b, "Space or \u2192 begins the lesson") > 0, "the title screen says how");
	CHECK(lv_press(lv, &ctl, LV_NEXT, wall) == LV_OK && advances == 1 && lv_waiting(lv),
	      "Space with no stop held asks the lesson once (%d)", advances);
	lv_press(lv, &ctl, LV_NEXT, wall);
	CHECK(advances == 1, "a second Space while asking does not ask again (%d)", advances);
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "running step 1\u2026") == b.h - 1, "'running step 1…' on the status "
	      "line: '%s'", row(&b, b.h - 1));
	feed(lv, 1, stop_at[0] + 1);	/* BEFORE 1 comes */
	CHECK(lv_stop(lv) == 0 && !lv_waiting(lv), "the stop asked for is shown when it comes "
	      "(stop %d)", lv_stop(lv));
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "step 1/5: what is about to happen") == 1,
	      "the narration pane's title: '%s'", row(&b, 1));
	CHECK(tbuf_find(&b, "Next: epoll_create1 asks the kernel for an instance.") == 2,
	      "BEFORE's text: '%s'", row(&b, 2));
	CHECK(tbuf_find(&b, "running step") < 0, "no 'running step' once it came");
	CHECK(tbuf_find(&b, "step 1/5") == 0 || strstr(row(&b, 0), "step 1/5"),
	      "the title bar says step 1/5: '%s'", row(&b, 0));
	/* the driver sends the rest at once: every stop held, no more asking */
	feed(lv, stop_at[0] + 1, nstream);
	for (int k = 1; k < LS_NSTOPS; k++)
		lv_press(lv, &ctl, LV_NEXT, wall);
	CHECK(advances == 1 && lv_stop(lv) == LS_NSTOPS - 1,
	      "held stops are shown without asking (advances %d, stop %d)", advances, lv_stop(lv));
	lv_press(lv, &ctl, LV_NEXT, wall);
	lv_format(lv, &b);
	CHECK(advances == 1 && lv_ended(lv) && tbuf_find(&b, "The lesson is over") == b.h - 1,
	      "past the last stop with END held: the end said, nothing asked (%d)", advances);
	lv_free(lv);

	/* the lesson says it has nothing more: said too */
	lv = lv_new(&tglyphs_ascii, &ctl, 2, false);
	lv_begin(lv, &info);
	feed(lv, 0, stop_at[0] + 1);
	lv_press(lv, &ctl, LV_NEXT, wall);
	lv_press(lv, &ctl, LV_NEXT, wall);
	CHECK(advances == 2 && lv_stop(lv) == 0, "at stop 0 with nothing held: asks (%d)",
	      advances);
	lv_advanced(lv, -1);
	CHECK(!lv_waiting(lv) && lv_ended(lv), "advance's -1: no longer waiting, ended");
	lv_free(lv);
	tbuf_free(&b);
}

static void test_narration(void)
{
	struct lesson_view *lv = lv_new(&tglyphs_ascii, &ctl, 2, true);
	struct tbuf b = {};
	int y, f0 = failed;

	tbuf_resize(&b, 100, 30);
	lv_begin(lv, &info);
	feed(lv, 0, nstream);
	for (int k = 0; k <= 1; k++)
		lv_press(lv, NULL, LV_NEXT, 0);
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "step 1/5: what the kernel did") == 1, "AFTER's pane title: '%s'",
	      row(&b, 1));
	CHECK(tbuf_find(&b, "The kernel: ep_alloc made a struct eventpoll: epfd 3, with an "
			    "empty rbr") > 1, "AFTER's text, {0} filled");
	CHECK(tbuf_find(&b, "hooks: do_epoll_create, ep_alloc") > 1, "the hooks, the kernel's "
	      "names");
	y = tbuf_find(&b, "What the hooks saw:");
	CHECK(y > 1, "the step's records are listed");
	CHECK(y > 0 && strstr(row(&b, y + 1), "tracepoint") &&
	      strstr(row(&b, y + 1), "pid 100 tid 100 epfd 3"),
	      "a record: its hook, pid, tid, epfd: '%s'", row(&b, y + 1));
	CHECK(y > 0 && strstr(row(&b, y + 2), "iter") && strstr(row(&b, y + 2), "snapshot"),
	      "the step's snapshot, seen by the iterator: '%s'", row(&b, y + 2));
	CHECK(tbuf_find(&b, "epfd 3  pid 100  watched 0  ready 0  asleep 0") > y,
	      "the instance, named under the narration");
	CHECK(tbuf_find(&b, "rbr: 0 epitems") > y && tbuf_find(&b, "rdllist: 0 ready") > y &&
	      tbuf_find(&b, "wq: 0 asleep") > y, "its three panes");

	lv_press(lv, NULL, LV_NEXT, 0);	/* BEFORE 2 */
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "Next: epoll_ctl ADD puts fds 5 and 6 into the interest set.") == 2,
	      "BEFORE's {0} and {1} filled: '%s'", row(&b, 2));
	CHECK(tbuf_find(&b, "Space or \u2192 runs this step.") > 2,
	      "a BEFORE says what Space does");
	CHECK(tbuf_find(&b, "What the hooks saw") < 0, "no records before the step ran");
	lv_press(lv, NULL, LV_NEXT, 0);	/* AFTER 2 */
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "ordered by (file, fd); \u2013 was not given.") > 1 ||
	      tbuf_find(&b, "\u2013 was not given.") > 1,
	      "a placeholder with no value shows as \u2013");
	y = tbuf_find(&b, "What the hooks saw:");
	CHECK(y > 0 && strstr(row(&b, y + 1), "fentry") && strstr(row(&b, y + 1), "fd=5") &&
	      strstr(row(&b, y + 2), "fd=6"), "the two ADDs, seen by fentry: '%s'",
	      y > 0 ? row(&b, y + 2) : "");
	/* touched: rbr lit, its marker; rdllist and wq not */
	y = tbuf_find(&b, "> rbr: 2 epitems");
	CHECK(y > 0 && b.c[y * b.w + 1].ch == '>' && b.c[y * b.w + 1].color == TC_CHANGED &&
	      b.c[y * b.w + 6].color == TC_CHANGED, "rbr touched: marker and colour: '%s'",
	      y > 0 ? row(&b, y) : "");
	y = tbuf_find(&b, "rdllist: 0 ready");
	CHECK(y > 0 && !strstr(row(&b, y), ">") && b.c[y * b.w + 5].color != TC_CHANGED,
	      "rdllist untouched: not lit: '%s'", y > 0 ? row(&b, y) : "");
	/* the rows the step's records touched are lit too */
	y = tbuf_find(&b, "     5 ");
	CHECK(y > 0 && b.c[y * b.w + 4].color == TC_CHANGED, "fd 5's row is lit: '%s'",
	      y > 0 ? row(&b, y) : "");

	/* step 3: data on 5: rdllist lit, with how long it is queued */
	lv_press(lv, NULL, LV_NEXT, 0);
	lv_press(lv, NULL, LV_NEXT, 0);
	lv_format(lv, &b);
	y = tbuf_find(&b, "> rdllist: 1 ready");
	CHECK(y > 0, "rdllist touched, marked");
	CHECK(tbuf_find(&b, "kprobe") > 1 && tbuf_find(&b, "ep_poll_callback") > 1,
	      "the callback, seen by a kprobe");
	CHECK(y > 0 && strstr(row(&b, y + 2), "head") && strstr(row(&b, y + 2), "ms"),
	      "fd 5 at the head, with how long it is queued: '%s'", y > 0 ? row(&b, y + 2) : "");
	/* step 4: wq */
	lv_press(lv, NULL, LV_NEXT, 0);
	lv_press(lv, NULL, LV_NEXT, 0);
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "> wq: 1 asleep") > 0 && tbuf_find(&b, "> rdllist: 0 ready") > 0,
	      "step 4 lights rdllist and wq");
	CHECK(tbuf_find(&b, "inline") > 1, "records seen at inlined sites say so");
	CHECK(tbuf_find(&b, "copied 1 event; thread 101 waits again") > 1, "{0} {1} filled");
	if (failed != f0)
		dump(&b);
	lv_free(lv);
	tbuf_free(&b);
}

/* step 5 names two instances: side by side, the same panes at the same rows */
static void test_two(void)
{
	static const int sizes[][2] = { { 60, 16 }, { 80, 24 }, { 200, 50 } };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct lesson_view *lv = lv_new(&tglyphs_ascii, NULL, 2, true);
		struct tbuf b = {};
		int w = sizes[i][0], h = sizes[i][1], y, ya, yb, f0 = failed;
		const char *r;

		tbuf_resize(&b, w, h);
		lv_begin(lv, &info);
		feed(lv, 0, nstream);
		for (int k = 0; k < LS_NSTOPS; k++)
			lv_press(lv, NULL, LV_NEXT, 0);
		lv_format(lv, &b);
		y = tbuf_find(&b, "epfd 3  pid 100");
		r = y >= 0 ? row(&b, y) : "";
		CHECK(y > 1 && strstr(r, "epfd 4  pid 100"),
		      "%dx%d: A and B named on one row: '%s'", w, h, r);
		ya = tbuf_find(&b, "rbr: 3");
		CHECK(ya > y && strstr(row(&b, ya), "rbr: 1"), "%dx%d: both rb-trees on one row",
		      w, h);
		yb = tbuf_find(&b, "rdllist: 1");
		CHECK(yb > ya && strstr(row(&b, yb), "> rdllist") &&
		      strstr(strstr(row(&b, yb), "> rdllist") + 1, "> rdllist"),
		      "%dx%d: both ready lists lit on one row: '%s'", w, h,
		      yb > 0 ? row(&b, yb) : "");
		CHECK(tbuf_find(&b, "wq: 1 asleep") > yb, "%dx%d: A's thread asleep", w, h);
		if (h >= 24)
			CHECK(tbuf_find(&b, "     9 ") > ya,
			      "%dx%d: fd 9 listed", w, h);
		CHECK(tbuf_find(&b, "The kernel: ep_poll_callback queued fd 9") > 0 || h < 24,
		      "%dx%d: the narration", w, h);
		CHECK(tbuf_find(&b, "step 5/5") >= 0, "%dx%d: step 5/5 shown", w, h);
		if (failed != f0)
			dump(&b);
		/* one column too few: the message, as the TUI's other screens say it */
		tbuf_resize(&b, w - (i ? 0 : 1), h - (i ? 20 : 0));
		lv_format(lv, &b);
		if (i < 2)
			CHECK(tbuf_find(&b, "Terminal too small") >= 0, "%dx%d: too small said",
			      b.w, b.h);
		lv_free(lv);
		tbuf_free(&b);
	}
}

/* ← and r: exactly the state of the earlier stop, as a replay rebuilds it */
static void test_back(void)
{
	struct lesson_view *lv = lv_new(&tglyphs_ascii, NULL, 2, true);
	struct tbuf b = {}, seen[LS_NSTOPS] = {};
	char why[128];

	tbuf_resize(&b, 80, 24);
	lv_begin(lv, &info);
	feed(lv, 0, nstream);
	for (int k = 0; k < LS_NSTOPS; k++) {
		lv_press(lv, NULL, LV_NEXT, 0);
		lv_format(lv, &b);
		copy_buf(&seen[k], &b);
	}
	for (int k = LS_NSTOPS - 2; k >= 0; k--) {
		struct model m, at;

		lv_press(lv, NULL, LV_PREV, 0);
		model_to(&m, stop_at[k] + 1);
		CHECK(lv_stop(lv) == k, "\u2190 goes to stop %d (%d)", k, lv_stop(lv));
		CHECK(same_model(lv_model(lv), &m, why, sizeof(why)),
		      "stop %d: \u2190 gives the model fed the stream to that stop: %s", k, why);
		lv_model_at(lv, k, &at);
		CHECK(same_model(&at, &m, why, sizeof(why)), "lv_model_at(%d): %s", k, why);
		lv_format(lv, &b);
		CHECK(same_buf(&b, &seen[k]), "stop %d: the screen after \u2190 is the one shown "
		      "going forward", k);
		model_free(&m);
		model_free(&at);
	}
	lv_press(lv, NULL, LV_PREV, 0);
	lv_format(lv, &b);
	CHECK(lv_stop(lv) == 0 && tbuf_find(&b, "This is the first step") == b.h - 1,
	      "\u2190 at the first stop stays, and says so");
	for (int k = 0; k < 7; k++)
		lv_press(lv, NULL, LV_NEXT, 0);
	CHECK(lv_stop(lv) == 7, "forward again (%d)", lv_stop(lv));
	lv_press(lv, NULL, LV_RESTART, 0);
	lv_format(lv, &b);
	CHECK(lv_stop(lv) == 0 && same_buf(&b, &seen[0]), "r: back to the first stop, its screen");
	/* a stop held but not reached is not shown: stop 3's state has no step-4 waiter */
	for (int k = 0; k < 3; k++)
		lv_press(lv, NULL, LV_NEXT, 0);
	CHECK(model_find(lv_model(lv), ls_a.ep) &&
	      model_find(lv_model(lv), ls_a.ep)->nwaiters == 0 &&
	      model_find(lv_model(lv), ls_a.ep)->nready == 0,
	      "stop 3 shows no record of later steps");
	for (int k = 0; k < LS_NSTOPS; k++)
		tbuf_free(&seen[k]);
	tbuf_free(&b);
	lv_free(lv);
}

static void test_auto(void)
{
	struct lesson_view *lv = lv_new(&tglyphs_ascii, &ctl, 1.5, false);
	__u64 s = 1000000000ULL;

	lv_begin(lv, &info);
	feed(lv, 0, stop_at[2] + 1);
	advances = 0;
	lv_press(lv, &ctl, LV_AUTO, 10 * s);
	CHECK(lv_autoplay(lv) && lv_tick(lv, 11 * s) == LV_OK && lv_stop(lv) == -1,
	      "auto-play: nothing before the pace");
	CHECK(lv_tick(lv, 11 * s + s / 2) == LV_OK && lv_stop(lv) == 0, "a stop after 1.5 s");
	lv_tick(lv, 13 * s);
	CHECK(lv_stop(lv) == 1, "the next after 1.5 s more (%d)", lv_stop(lv));
	lv_tick(lv, 15 * s);
	CHECK(lv_stop(lv) == 2 && lv_tick(lv, 17 * s) == LV_ADVANCE && lv_waiting(lv),
	      "no stop held: auto-play asks the lesson (%d)", lv_stop(lv));
	CHECK(lv_tick(lv, 30 * s) == LV_OK, "... once");
	feed(lv, stop_at[2] + 1, stop_at[3] + 1);
	CHECK(lv_stop(lv) == 3, "the stop comes and is shown");
	lv_press(lv, &ctl, LV_AUTO, 31 * s);
	CHECK(!lv_autoplay(lv) && lv_tick(lv, 60 * s) == LV_OK && lv_stop(lv) == 3,
	      "a: auto-play off");
	lv_free(lv);
}

/* mono and --ascii: the marker carries what colour cannot */
static void test_marker_utf8(void)
{
	struct lesson_view *lv = lv_new(&tglyphs_utf8, NULL, 2, true);
	struct tbuf b = {};
	int y;

	tbuf_resize(&b, 80, 24);
	lv_begin(lv, &info);
	feed(lv, 0, nstream);
	for (int k = 0; k < 4; k++)
		lv_press(lv, NULL, LV_NEXT, 0);
	lv_format(lv, &b);
	y = tbuf_find(&b, "rbr: 2 epitems");
	CHECK(y > 0 && b.c[y * b.w + 1].ch == '>' && b.c[y * b.w].ch == 0x250c,
	      "UTF-8 boxes: the marker after the corner: '%s'", y > 0 ? row(&b, y) : "");
	tbuf_free(&b);
	lv_free(lv);
}

static void to_lv_record(void *ctx, const struct et_hdr *h, size_t size)
{
	lv_record(ctx, h, size);
}

static void to_lv_snapshot(void *ctx, const struct et_snapshot *sn)
{
	lv_snapshot(ctx, sn);
}

/* tracepoint mode sees no ep_poll_callback: the step shows only its snapshot, and says so */
static void test_sampled(void)
{
	static const int f5[] = { 5 }, r5[] = { 5 };
	static const __u32 m1[] = { LS_IN };
	struct et_session_info tp = { .callbacks_visible = false, .attach = "tracepoint" };
	struct lesson_view *lv = lv_new(&tglyphs_ascii, NULL, 2, true);
	struct ls_out o = { .record = to_lv_record, .snapshot = to_lv_snapshot, .until = -1,
			    .now = 1000000000ULL };
	struct tbuf b = {};
	int y;

	o.ctx = lv;
	tbuf_resize(&b, 100, 30);
	lv_begin(lv, &tp);
	ls_lesson(&o, ET_LESSON_BEGIN, 0, NULL, NULL, 0, "", "Sampled", 0, 0, 0);
	ls_lesson(&o, ET_LESSON_BEFORE, 1, &ls_a, NULL, ET_LT_RDLLIST, "ep_poll_callback", LS_B3,
		  1, 5, 0);
	ls_snap(&o, &ls_a, 1, f5, m1, 1, r5, 0, NULL);
	ls_lesson(&o, ET_LESSON_AFTER, 1, &ls_a, NULL, ET_LT_RDLLIST, "ep_poll_callback", LS_A3,
		  1, 5, 0);
	lv_press(lv, NULL, LV_NEXT, 0);
	lv_press(lv, NULL, LV_NEXT, 0);
	lv_format(lv, &b);
	y = tbuf_find(&b, "What the hooks saw:");
	CHECK(y > 0 && strstr(row(&b, y + 1), "iter") && strstr(row(&b, y + 1), "rdllist 1"),
	      "only the snapshot: '%s'", y > 0 ? row(&b, y + 1) : "");
	CHECK(tbuf_find(&b, "(no hook of this attach mode saw the step") > y,
	      "... and the pane says no hook saw the step");
	CHECK(tbuf_find(&b, "tracepoint, ready list sampled") == b.h - 1,
	      "the status line: the mode, sampled: '%s'", row(&b, b.h - 1));
	CHECK(tbuf_find(&b, "rdllist: 1 ready (sampled)") > y, "the snapshot's ready list");
	tbuf_free(&b);
	lv_free(lv);
}

/* ---- rbr before and after a step that changed it ------------------------------ */

static __u64 tc_now = 90000000000ULL;

static void tc_lesson(struct lesson_view *lv, int phase, int step, unsigned int touched)
{
	struct et_ev_lesson l;

	memset(&l, 0, sizeof(l));
	l.hdr = (struct et_hdr){ .ts_ns = tc_now += 1000000, .pid = 100, .tid = 100,
				 .type = ET_EV_LESSON, .src = ET_SRC_USER };
	l.ep[0] = ls_a.ep;
	l.epfd[0] = ls_a.epfd;
	l.epfd[1] = -1;
	l.step = (__u16)step;
	l.nsteps = 2;
	l.phase = (__u8)phase;
	l.touched = (__u16)touched;
	snprintf(l.lesson, sizeof(l.lesson), "tree");
	snprintf(l.text, sizeof(l.text), "step %d", step);
	lv_record(lv, &l.hdr, sizeof(l));
}

/* a snapshot of ls_a: fds in tree order, their shape (or none) */
static void tc_snap(struct lesson_view *lv, int n, const int *fds,
		    const struct et_tree_node *shape, int root)
{
	struct et_snap_item items[4];
	struct et_tree_node nodes[4];
	struct et_snapshot s;

	memset(&s, 0, sizeof(s));
	s.hdr = (struct et_hdr){ .ts_ns = tc_now += 1000000, .pid = 100,
				 .type = ET_EV_SNAP_BEGIN, .src = ET_SRC_ITER };
	s.in = ls_a;
	s.watched = n;
	for (int i = 0; i < n; i++) {
		items[i] = (struct et_snap_item){ .fd = fds[i], .events = LS_IN,
						  .file = 0x9000 + (__u64)i * 16 };
		if (shape)
			nodes[i] = shape[i];
	}
	s.items = items;
	s.nitems = s.cap_items = (__u32)n;
	if (shape) {
		s.has_shape = true;
		s.root = root;
		s.tree = nodes;
		s.cap_tree = (__u32)n;
	}
	lv_snapshot(lv, &s);
}

static void tc_add(struct lesson_view *lv, int fd)
{
	struct et_ev_ctl c = { .in = ls_a, .op = ET_CTL_ADD, .fd = fd, .events = LS_IN,
			       .file = 0x9000 + (__u64)fd * 16 };

	c.hdr = (struct et_hdr){ .ts_ns = tc_now += 1000000, .pid = 100, .tid = 100,
				 .type = ET_EV_CTL, .src = ET_SRC_TRACEPOINT };
	lv_record(lv, &c.hdr, sizeof(c));
}

static void test_tree_change(void)
{
	static const int f2[] = { 5, 6 }, f3[] = { 5, 6, 9 };
	/* 5 black with a red right child 6; then 9 goes right of 6: a left
	 * rotation at 5 makes 6 the black root, 5 and 9 its red children */
	static const struct et_tree_node s2[] = {
		{ .left = -1, .right = 1, .parent = -1, .black = 1 },
		{ .left = -1, .right = -1, .parent = 0, .black = 0 },
	};
	static const struct et_tree_node s3[] = {
		{ .left = -1, .right = -1, .parent = 1, .black = 0 },
		{ .left = 0, .right = 2, .parent = -1, .black = 1 },
		{ .left = -1, .right = -1, .parent = 1, .black = 0 },
	};
	struct lesson_view *lv = lv_new(&tglyphs_utf8, NULL, 2, true);
	struct tbuf b = {};
	char row[512];
	int y;

	tbuf_resize(&b, 100, 40);
	lv_begin(lv, &info);
	tc_lesson(lv, ET_LESSON_BEGIN, 0, 0);
	tc_add(lv, 5);
	tc_add(lv, 6);
	tc_snap(lv, 2, f2, s2, 0);
	tc_lesson(lv, ET_LESSON_BEFORE, 1, ET_LT_RBR);
	tc_add(lv, 9);
	tc_snap(lv, 3, f3, s3, 1);
	tc_lesson(lv, ET_LESSON_AFTER, 1, ET_LT_RBR);
	/* step 2 touches only rdllist; its snapshot has no shape */
	tc_lesson(lv, ET_LESSON_BEFORE, 2, ET_LT_RDLLIST);
	tc_snap(lv, 3, f3, NULL, -1);
	tc_lesson(lv, ET_LESSON_AFTER, 2, ET_LT_RDLLIST);

	lv_press(lv, NULL, LV_NEXT, 0);		/* step 1's BEFORE */
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "before and after") < 0 && tbuf_find(&b, "6") >= 0,
	      "at a BEFORE, rbr as it is (no before and after)");
	lv_press(lv, NULL, LV_NEXT, 0);		/* step 1's AFTER */
	lv_format(lv, &b);
	y = tbuf_find(&b, "rbr: before and after the step");
	CHECK(y > 0, "at the AFTER of a step that touched rbr: before and after");
	tbuf_row(&b, y + 1, row, sizeof(row));
	CHECK(y > 0 && strstr(row, "before") && strstr(row, "after"),
	      "both shapes are titled, under the pane's title: '%s'", row);
	y = tbuf_find(&b, "inserted: 9");
	tbuf_row(&b, y, row, sizeof(row));
	CHECK(y > 0 && strstr(row, "recoloured: 5, 6") && strstr(row, "moved by a rotation: 5, 6"),
	      "what the insert did: '%s'", row);
	lv_press(lv, NULL, LV_NEXT, 0);		/* step 2's BEFORE */
	lv_press(lv, NULL, LV_NEXT, 0);		/* step 2's AFTER: no shape, rdllist only */
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "before and after") < 0 && tbuf_find(&b, "inserted:") < 0,
	      "a step that did not touch rbr, or a snapshot without the shape: the pane as is");
	lv_press(lv, NULL, LV_PREV, 0);
	lv_press(lv, NULL, LV_PREV, 0);		/* back to step 1's AFTER: the same again */
	lv_format(lv, &b);
	CHECK(tbuf_find(&b, "inserted: 9") > 0, "\u2190 to step 1's AFTER shows the change again");
	tbuf_free(&b);
	lv_free(lv);
}

int main(void)
{
	/* as main() does: widths (wcwidth) need a UTF-8 character set */
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("FAIL no C.UTF-8 locale\n");
		return 1;
	}
	collect();
	CHECK(stop_at[LS_NSTOPS - 1] > 0 && nstream < 256, "the stream: %d items", nstream);
	test_live_advance();
	test_narration();
	test_tree_change();
	test_two();
	test_back();
	test_auto();
	test_marker_utf8();
	test_sampled();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
