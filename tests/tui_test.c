// SPDX-License-Identifier: GPL-2.0
/*
 * The TUI's formatting, checked on the attributed buffer without a
 * terminal: what the screens say, where, and in which colour.
 */
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "tui_view.h"

#define IN 0x1u
#define ET (1u << 31)

static __u64 now = 1000000000ULL;

static const struct et_inst ia = { .ep = 0xffff000000001000ull, .owner = 100, .epfd = 3 };
static const struct et_inst ib = { .ep = 0xffff000000002000ull, .owner = 200, .epfd = 4 };

static void hdr(struct et_hdr *h, unsigned int type, __u32 pid, __u32 tid)
{
	memset(h, 0, sizeof(*h));
	h->ts_ns = now += 1000;
	h->pid = pid;
	h->tid = tid;
	h->type = type;
}

static void create(struct tui *t, const struct et_inst *in)
{
	struct et_ev_create e = { .in = *in };

	hdr(&e.hdr, ET_EV_EP_CREATE, in->owner, in->owner);
	tui_apply(t, &e.hdr, sizeof(e));
}

static void add(struct tui *t, const struct et_inst *in, int fd, __u32 events)
{
	struct et_ev_ctl e = { .in = *in, .op = ET_CTL_ADD, .fd = fd, .events = events,
			       .data = fd, .file = 0x9000 - fd * 16 };

	hdr(&e.hdr, ET_EV_CTL, in->owner, in->owner);
	tui_apply(t, &e.hdr, sizeof(e));
}

static void callback(struct tui *t, const struct et_inst *in, int fd)
{
	struct et_ev_callback e = { .in = *in, .fd = fd, .events = IN, .key = IN, .data = fd };

	hdr(&e.hdr, ET_EV_CALLBACK, 999, 999);
	memcpy(e.comm, "writer", 7);
	tui_apply(t, &e.hdr, sizeof(e));
}

static void waiter(struct tui *t, const struct et_inst *in, __u32 tid)
{
	struct et_ev_wait_enter w = { .in = *in, .maxevents = 8, .timeout_ns = 5000000000LL };
	struct et_ev_sleep s = { .in = *in };

	hdr(&w.hdr, ET_EV_WAIT_ENTER, in->owner, tid);
	tui_apply(t, &w.hdr, sizeof(w));
	hdr(&s.hdr, ET_EV_SLEEP, in->owner, tid);
	tui_apply(t, &s.hdr, sizeof(s));
}

static bool comm_stub(void *ctx, __u32 pid, __u32 tid, char *buf, size_t len)
{
	(void)ctx;
	if (pid == tid)
		snprintf(buf, len, pid == 100 ? "server" : "other");
	else
		snprintf(buf, len, "worker-%u", tid);
	return true;
}

static void fdkind_stub(void *ctx, __u32 pid, int fd, struct fdkind *out)
{
	(void)ctx;
	(void)pid;
	snprintf(out->kind, sizeof(out->kind), fd == 5 ? "tcp-listen" : "tcp");
	if (fd >= 20)	/* connections */
		snprintf(out->addr, sizeof(out->addr), "127.0.0.1:6379 -> 127.0.0.1:%d", 40000 + fd);
	else
		snprintf(out->addr, sizeof(out->addr), "127.0.0.1:%d", 8000 + fd);
}

/* the row's words begin with these (blanks collapsed) */
static bool starts_with_words(const char *row, const char *words)
{
	char a[512];
	size_t n = 0;

	for (const char *p = row; *p && n + 1 < sizeof(a); p++) {
		if (*p == ' ' && (!n || a[n - 1] == ' '))
			continue;
		a[n++] = *p;
	}
	a[n] = 0;
	return !strncmp(a, words, strlen(words));
}

/* the cell colour of the first cell of the row containing needle */
static int row_color_at(const struct tbuf *b, const char *needle, int x)
{
	int y = tbuf_find(b, needle);

	return y < 0 ? -1 : b->c[y * b->w + x].color;
}

static void setup(struct tui *t, struct model *m)
{
	model_init(m, true);
	CHECK(!tui_init(t, m, &tglyphs_ascii), "tui_init");
	t->env = (struct tui_env){ .comm = comm_stub, .fdkind = fdkind_stub };
	t->st.mode = "fentry";
	t->st.ready_exact = true;
	create(t, &ia);
	add(t, &ia, 5, IN);
	add(t, &ia, 6, IN);
	add(t, &ia, 7, IN | ET);
	create(t, &ib);
	add(t, &ib, 9, IN);
	add(t, &ib, 10, IN);
	add(t, &ib, 11, IN);
	add(t, &ib, 12, IN);
	waiter(t, &ia, 101);
	callback(t, &ia, 6);
}

static void test_buf(void)
{
	struct tbuf b = {};
	char row[256];

	CHECK(!tbuf_resize(&b, 20, 4), "resize");
	CHECK(tbuf_text(&b, &tglyphs_ascii, 2, 1, 6, TC_NORMAL, "abcdefghij") == 6 &&
	      !strcmp(tbuf_row(&b, 1, row, sizeof(row)), "  abcde~"),
	      "clipped text ends in the ellipsis: '%s'", row);
	tbuf_clear(&b);
	tbuf_text(&b, &tglyphs_utf8, 0, 0, 20, TC_NORMAL, "caf\xc3\xa9 \xe2\x97\x8f");
	CHECK(!strcmp(tbuf_row(&b, 0, row, sizeof(row)), "caf\xc3\xa9 \xe2\x97\x8f"),
	      "UTF-8 in, UTF-8 out: '%s'", row);
	tbuf_clear(&b);
	tbuf_box(&b, &tglyphs_ascii, 0, 0, 10, 3, TC_BORDER, "hi");
	CHECK(!strcmp(tbuf_row(&b, 0, row, sizeof(row)), "+- hi ---+") &&
	      !strcmp(tbuf_row(&b, 1, row, sizeof(row)), "|        |"),
	      "ASCII box: '%s'", tbuf_row(&b, 0, row, sizeof(row)));
	tbuf_box(&b, &tglyphs_utf8, 0, 0, 10, 3, TC_BORDER, "hi");
	CHECK(!strcmp(tbuf_row(&b, 2, row, sizeof(row)),
		      "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"
		      "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x98"),
	      "UTF-8 box bottom: '%s'", row);
	tbuf_text(&b, &tglyphs_ascii, 0, 1, 20, TC_NORMAL, "bad \xff byte");
	CHECK(strstr(tbuf_row(&b, 1, row, sizeof(row)), "bad ? byte") != NULL,
	      "a malformed byte shows as '?': '%s'", row);
	tbuf_free(&b);
}

static void test_overview(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];
	int ya, yb;

	setup(&t, &m);
	tbuf_resize(&b, 100, 30);
	t.now_ns = now;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "overview: 2 instances") == 0, "title counts the instances");
	CHECK(tbuf_find(&b, "WATCHED") == 1 && tbuf_find(&b, "ASLEEP") == 1, "column headers");
	ya = tbuf_find(&b, "server");
	yb = tbuf_find(&b, "other");
	CHECK(ya >= 2 && yb > ya, "grouped by process, pid order: server row %d, other %d", ya, yb);
	CHECK(starts_with_words(tbuf_row(&b, ya, row, sizeof(row)), "100 server 3 3 1 1"),
	      "server: epfd 3, 3 watched, 1 ready, 1 asleep: '%s'", row);
	CHECK(starts_with_words(tbuf_row(&b, yb, row, sizeof(row)), "200 other 4 4 0 0"),
	      "other: epfd 4, 4 watched, nothing ready or asleep: '%s'", row);
	CHECK(b.c[ya * b.w + 1].color == TC_SELECTED, "the first row is selected");
	/* sort by watched: the busier process first */
	t.sort = SORT_WATCHED;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "other") < tbuf_find(&b, "server"), "sorted by watched");
	CHECK(tbuf_find(&b, "sorted by watched") == 0, "the title names the sort");
	/* moving the selection */
	t.sort = SORT_PID;
	tui_select_move(&t, 1);
	tui_format(&t, &b);
	CHECK(t.sel_ep == ib.ep && b.c[tbuf_find(&b, "other") * b.w + 1].color == TC_SELECTED,
	      "down selects the next instance");
	tui_select_move(&t, 5);
	CHECK(t.sel_ep == ib.ep, "and stops at the last");
	/* the event log under the table names kernel functions */
	CHECK(tbuf_find(&b, "ep_poll_callback") > yb && tbuf_find(&b, "ep_insert") > yb,
	      "the log names ep_poll_callback and ep_insert");
	/* without ep_poll_callback its rate is unknown: "-", as --summary
	 * prints it, never a 0.0 that reads as "no callbacks" */
	m.callbacks_visible = false;
	tui_format(&t, &b);
	CHECK(starts_with_words(tbuf_row(&b, ya, row, sizeof(row)), "100 server 3 3 1 1 -"),
	      "CB/s is '-' when callbacks are not seen: '%s'", row);
	t.sel_ep = ia.ep;
	t.screen = SCR_INSTANCE;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "callbacks/s -") >= 0, "the instance's counts say callbacks/s -");
	t.screen = SCR_OVERVIEW;
	m.callbacks_visible = true;
	tui_format(&t, &b);
	CHECK(starts_with_words(tbuf_row(&b, ya, row, sizeof(row)), "100 server 3 3 1 1 0.0"),
	      "CB/s is a number when callbacks are seen: '%s'", row);
	/* narrow: low-priority columns go, the counts stay */
	tbuf_resize(&b, 60, 20);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "WAKE/s") < 0 && tbuf_find(&b, "READY") == 1 &&
	      tbuf_find(&b, "ASLEEP") == 1, "at 60 columns WAKE/s goes, READY stays");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

static void test_instance(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];
	int y;

	setup(&t, &m);
	t.sel_ep = ia.ep;
	t.screen = SCR_INSTANCE;
	tbuf_resize(&b, 140, 40);
	t.now_ns = now + 250000000ULL;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "pid 100 (server) epfd 3") == 0, "title names the instance");
	CHECK(tbuf_find(&b, "rbr: 3 epitems, tree order") >= 0, "the rb-tree pane");
	CHECK(tbuf_find(&b, "rdllist: 1 ready") >= 0, "the ready-list pane");
	CHECK(tbuf_find(&b, "wq: 1 asleep, 1 in epoll_wait") >= 0, "the wait-queue pane");
	/* tree order is file order: fd 7's file sorts first */
	y = tbuf_find(&b, "    7 tcp         IN");
	CHECK(y >= 0 && y < tbuf_find(&b, "    6 tcp         IN") &&
	      tbuf_find(&b, "    6 tcp         IN") < tbuf_find(&b, "    5 tcp-listen  IN"),
	      "epitems in rb-tree (file) order");
	tbuf_row(&b, y, row, sizeof(row));
	CHECK(strstr(row, "IN|ET") && strstr(row, "127.0.0.1:8007"),
	      "events mask and address: '%s'", row);
	tbuf_row(&b, tbuf_find(&b, "    6 tcp         IN"), row, sizeof(row));
	CHECK(row[1] == '*', "fd 6 carries the ready mark: '%s'", row);
	tbuf_row(&b, tbuf_find(&b, "head      6 tcp"), row, sizeof(row));
	CHECK(strstr(row, "250ms"), "fd 6 heads the ready list, queued for 250 ms: '%s'", row);
	tbuf_row(&b, tbuf_find(&b, "worker-101"), row, sizeof(row));
	CHECK(strstr(row, "    101 worker-101") && strstr(row, "left"),
	      "the sleeper with its timeout countdown: '%s'", row);
	/* a row something touched within the last second is lit */
	CHECK(row_color_at(&b, "    6 tcp         IN", 4) == TC_CHANGED, "fd 6 was just touched");
	now += 2000000000ULL;
	callback(&t, &ia, 5);
	t.now_ns = now;
	tui_format(&t, &b);
	CHECK(row_color_at(&b, "    6 tcp         IN", 4) == TC_READY &&
	      row_color_at(&b, "    5 tcp-listen  IN", 4) == TC_CHANGED,
	      "2 s later fd 6 is not lit, and fd 5, just called back, is");
	/* the log shows this instance only */
	CHECK(tbuf_find(&b, "ep_poll_callback") >= 0 && tbuf_find(&b, "200/epfd 4") < 0,
	      "the log holds this instance's events only");
	/* the filter */
	CHECK(tui_filter_parse(&t.filter, "fd 7", NULL, 0), "parse 'fd 7'");
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "ADD fd=7") >= 0 && tbuf_find(&b, "ADD fd=6") < 0 &&
	      tbuf_find(&b, "events /fd 7") >= 0, "filtered by fd 7");
	t.filter.on = false;
	/* stepping explains the last event */
	t.explain = true;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "what the kernel just did") >= 0 &&
	      tbuf_find(&b, "appended to rdllist") >= 0, "the explanation of ep_poll_callback");
	/* the whole sentence where the screen has room for it, cut with … where not */
	tbuf_resize(&b, 100, 30);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "is woken.") > tbuf_find(&b, "what the kernel just did"),
	      "100x30: the sentence to its end");
	tbuf_resize(&b, 60, 16);
	tui_format(&t, &b);
	tbuf_row(&b, b.h - 3, row, sizeof(row));
	CHECK(tbuf_find(&b, "is woken.") < 0 && strstr(row, "~"),
	      "60x16: one row of it, ending in the ellipsis: '%s'", row);
	tbuf_resize(&b, 140, 40);
	t.explain = false;
	/* narrow: the panes stack, all three stay */
	tbuf_resize(&b, 80, 24);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "rbr:") >= 0 && tbuf_find(&b, "rdllist:") >= 0 &&
	      tbuf_find(&b, "wq:") >= 0, "80x24 shows the three panes");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

static void test_status_and_screens(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];

	setup(&t, &m);
	tbuf_resize(&b, 120, 30);
	t.st.paused = true;
	t.st.pending = 12;
	tui_format(&t, &b);
	tbuf_row(&b, b.h - 1, row, sizeof(row));
	CHECK(strstr(row, "LIVE PAUSED") && strstr(row, "fentry, ready list exact") &&
	      strstr(row, "12 held"), "status line, paused: '%s'", row);
	t.st.paused = false;
	t.st.replay = true;
	t.st.speed = 2;
	t.st.lost = 3;
	tui_format(&t, &b);
	tbuf_row(&b, b.h - 1, row, sizeof(row));
	CHECK(strstr(row, "REPLAY RUNNING") && strstr(row, "x2") && strstr(row, "lost 3"),
	      "status line, replay: '%s'", row);
	t.screen = SCR_HELP;
	snprintf(t.plan[0], sizeof(t.plan[0]), "  %-12s %-10s %-8s %s", "callback", "fentry",
		 "exact", "ep_poll_callback");
	t.nplan = 1;
	tbuf_resize(&b, 120, 60);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "rdllist   the ready list") >= 0 && tbuf_find(&b, "Space") >= 0,
	      "the help screen");
	CHECK(tbuf_find(&b, "attach plan") >= 0 &&
	      tbuf_find(&b, "callback     fentry     exact    ep_poll_callback") >
	      tbuf_find(&b, "attach plan"), "the help lists this session's attach plan");
	tbuf_resize(&b, 120, 30);
	t.screen = SCR_OVERVIEW;
	tbuf_resize(&b, 50, 10);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "Terminal too small: 50x10, need 60x16") >= 0,
	      "a terminal below the minimum says so");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

static void test_filter_and_log(void)
{
	struct tui_filter f;
	struct model m;
	struct tui t;
	struct et_ev_callback c = { .fd = 7 };

	CHECK(tui_filter_parse(&f, "tid=42", NULL, 0) && f.tid == 42 && f.fd == -1, "tid=42");
	CHECK(tui_filter_parse(&f, "kind callback", NULL, 0) && f.kinds == 1u << ETK_CALLBACK,
	      "kind callback");
	CHECK(tui_filter_parse(&f, "call", NULL, 0) && f.kinds == 1u << ETK_CALLBACK,
	      "a kind's prefix");
	CHECK(tui_filter_parse(&f, "7", NULL, 0) && f.fd == 7, "a bare number is an fd");
	CHECK(!tui_filter_parse(&f, "fd", NULL, 0) && !tui_filter_parse(&f, "bogus", NULL, 0) &&
	      !tui_filter_parse(&f, "fd -3", NULL, 0) && !tui_filter_parse(&f, "", NULL, 0),
	      "nonsense refused");
	hdr(&c.hdr, ET_EV_CALLBACK, 1, 42);
	tui_filter_parse(&f, "fd 7 kind callback", NULL, 0);
	CHECK(tui_filter_match(&f, &c.hdr), "fd 7 callback matches");
	c.fd = 8;
	CHECK(!tui_filter_match(&f, &c.hdr), "fd 8 does not");

	model_init(&m, true);
	tui_init(&t, &m, &tglyphs_ascii);
	for (int i = 0; i < 5000; i++) {
		c.fd = i;
		hdr(&c.hdr, ET_EV_CALLBACK, 1, 42);
		tui_apply(&t, &c.hdr, sizeof(c));
	}
	CHECK(t.log.total == 5000 && t.log.count == TUI_LOG_CAP &&
	      ((const struct et_ev_callback *)tui_log_get(&t.log, 0))->fd == 4999 &&
	      ((const struct et_ev_callback *)tui_log_get(&t.log, TUI_LOG_CAP - 1))->fd ==
	      5000 - TUI_LOG_CAP && !tui_log_get(&t.log, TUI_LOG_CAP),
	      "the log keeps the newest %d records", TUI_LOG_CAP);
	tui_free(&t);
	model_free(&m);
}

/* the instance of setup(), grown: 43 epitems, 6 ready, 6 asleep */
static void setup_big(struct tui *t, struct model *m)
{
	setup(t, m);
	for (int i = 20; i < 60; i++)
		add(t, &ia, i, IN);
	for (int i = 20; i < 25; i++)
		callback(t, &ia, i);
	for (int i = 0; i < 5; i++)
		waiter(t, &ia, 102 + i);
	t->sel_ep = ia.ep;
	t->now_ns = now;
}

/* rows y0..y1 (inclusive) with something in columns x0..x1 (exclusive) */
static int rows_with_text(const struct tbuf *b, int y0, int y1, int x0, int x1)
{
	int n = 0;

	for (int y = y0; y <= y1; y++)
		for (int x = x0; x < x1; x++)
			if (b->c[y * b->w + x].ch != ' ') {
				n++;
				break;
			}
	return n;
}

static const int sizes[][2] = { { 60, 16 }, { 80, 24 }, { 100, 30 } };

/* the instance view at one size: every pane shows rows, titles stay whole */
static void instance_at(struct tui *t, struct tbuf *b, int w, int h, bool explain)
{
	const char *ex = explain ? " explaining" : "";
	int y_rbr, y_rdl, y_log, y_exp, wl, rbr = 0;
	char row[512], r2[512], *p;
	bool frame = true;

	t->explain = explain;
	tbuf_resize(b, w, h);
	tui_format(t, b);
	y_rbr = tbuf_find(b, "- rbr: ");
	y_rdl = tbuf_find(b, "- rdllist: ");
	y_log = tbuf_find(b, "- events");
	CHECK(y_rbr == 2 && y_rdl > y_rbr && y_log > y_rdl,
	      "%dx%d%s: the panes in order: rbr %d, rdllist %d, events %d", w, h, ex, y_rbr, y_rdl,
	      y_log);
	if (y_rbr < 0 || y_rdl < 0 || y_log < 0)
		return;
	for (int y = y_rbr + 2; y < y_rdl; y++) {
		tbuf_row(b, y, row, sizeof(row));
		rbr += strlen(row) > 8 && row[7] >= '0' && row[7] <= '9';
	}
	CHECK(rbr >= (h >= 24 && !explain ? 8 : 1), "%dx%d%s: %d rows of rbr", w, h, ex, rbr);
	/* a connection's peer shows whole, at any width */
	tbuf_row(b, y_rbr + 2, row, sizeof(row));
	CHECK(strstr(row, "-> 127.0.0.1:400"), "%dx%d: the peer of a connection: '%s'", w, h, row);
	tbuf_row(b, y_rdl, row, sizeof(row));
	p = strstr(row, "+- wq: ");
	wl = p ? (int)(p - row) : -1;
	CHECK(wl > 0 && strstr(row, "rdllist: 6 ready") && strstr(row, "wq: 6 asleep") &&
	      !strchr(row, '~'), "%dx%d: rdllist and wq titles whole, apart: '%s'", w, h, row);
	tbuf_row(b, y_rbr, r2, sizeof(r2));
	CHECK(strstr(r2, "rbr: 43 epitems") && !strchr(r2, '~'), "%dx%d: the rbr title: '%s'",
	      w, h, r2);
	tbuf_row(b, y_log, r2, sizeof(r2));
	CHECK(strstr(r2, " events") && !strchr(r2, '~'), "%dx%d: the events title: '%s'", w, h,
	      r2);
	if (wl > 0) {
		CHECK(b->c[y_log * w + wl].ch == '+' && b->c[y_rdl * w + wl].ch == '+',
		      "%dx%d%s: the edges meet, no title over them: '%s'", w, h, ex, r2);
		CHECK(rows_with_text(b, y_rdl + 2, y_log - 1, 1, wl) >= 1 &&
		      tbuf_find(b, "|head ") > y_rdl, "%dx%d%s: rdllist shows its head", w, h, ex);
		CHECK(rows_with_text(b, y_rdl + 2, y_log - 1, wl + 1, w - 1) >= 1 &&
		      tbuf_find(b, "worker-101") > y_rdl, "%dx%d%s: wq shows a sleeper", w, h, ex);
	}
	y_exp = tbuf_find(b, "- what the kernel");
	CHECK(rows_with_text(b, y_log + 1, y_exp > 0 ? y_exp - 1 : h - 3, 1, w - 1) >= 1,
	      "%dx%d%s: the events pane shows a row", w, h, ex);
	/* every row between the title bar and the status line is framed: nothing spills */
	for (int y = 2; y < h - 1; y++) {
		uint32_t l = b->c[y * w].ch, r = b->c[y * w + w - 1].ch;

		if ((l != '|' && l != '+') || (r != '|' && r != '+'))
			frame = false;
	}
	CHECK(frame, "%dx%d%s: every pane row is inside its frame", w, h, ex);
	tbuf_row(b, h - 1, row, sizeof(row));
	CHECK(strstr(row, "LIVE RUNNING") && (t->filter.on || strstr(row, "? help")) &&
	      !strchr(row, '~'), "%dx%d: the status line fits: '%s'", w, h, row);
}

static void test_instance_sizes(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];

	setup_big(&t, &m);
	t.screen = SCR_INSTANCE;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		instance_at(&t, &b, sizes[i][0], sizes[i][1], false);
		instance_at(&t, &b, sizes[i][0], sizes[i][1], true);
		/* a long filter in the log's title */
		CHECK(tui_set_filter(&t, "schedule epoll_wait tid 101", NULL, 0), "filter");
		instance_at(&t, &b, sizes[i][0], sizes[i][1], false);
		t.filter.on = false;
	}
	/* the counts line keeps what matters: RESYNCING, a drift */
	for (size_t i = 0; i < m.ninst; i++)
		if (m.inst[i]->in.ep == ia.ep) {
			m.inst[i]->resyncing = true;
			m.inst[i]->drift = 2;
		}
	t.explain = false;
	tbuf_resize(&b, 60, 16);
	tui_format(&t, &b);
	tbuf_row(&b, 1, row, sizeof(row));
	CHECK(strstr(row, "RESYNCING") && strstr(row, "drift 2") && strstr(row, "watched 43") &&
	      !strchr(row, '~'), "60 columns: the counts keep RESYNCING and the drift: '%s'", row);
	/* empty panes say so, whole */
	t.sel_ep = ib.ep;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "(empty: nothing ready)") > 0 &&
	      tbuf_find(&b, "(empty: no thread waits)") > 0,
	      "60x16: the empty panes say so");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

static void test_overview_sizes(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];

	setup_big(&t, &m);
	t.sort = SORT_ZERO;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int w = sizes[i][0], h = sizes[i][1], y;

		tbuf_resize(&b, w, h);
		tui_format(&t, &b);
		tbuf_row(&b, 0, row, sizeof(row));
		/* the clock goes before it covers the title */
		CHECK(strstr(row, "overview: 2 instances, sorted by 0-event wakeups"),
		      "%dx%d: the title whole: '%s'", w, h, row);
		tbuf_row(&b, h - 1, row, sizeof(row));
		CHECK(strstr(row, "LIVE RUNNING") && strstr(row, "? help") && !strchr(row, '~'),
		      "%dx%d: the status line fits: '%s'", w, h, row);
		y = tbuf_find(&b, "- events");
		CHECK(tbuf_find(&b, "server") == 2 && tbuf_find(&b, "other") == 3 && y > 3 &&
		      rows_with_text(&b, y + 1, y + 1, 1, w - 1) == 1,
		      "%dx%d: both instances and a row of events", w, h);
	}
	/* losses stay on a narrow status line, the rest goes first */
	t.st.lost = 5;
	t.st.paused = true;
	t.st.pending = 7;
	tbuf_resize(&b, 60, 16);
	tui_format(&t, &b);
	tbuf_row(&b, 15, row, sizeof(row));
	CHECK(strstr(row, "LIVE PAUSED") && strstr(row, "lost 5") && strstr(row, "7 held") &&
	      !strchr(row, '~'), "60 columns, paused with losses: '%s'", row);
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* the help scrolls, at every size from the minimum up, and says where it is */
static void test_help_scroll(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];

	setup(&t, &m);
	t.screen = SCR_HELP;
	snprintf(t.plan[0], sizeof(t.plan[0]), "  %-12s %-10s %-8s %s", "callback", "fentry",
		 "exact", "ep_poll_callback");
	snprintf(t.plan[1], sizeof(t.plan[1]), "  %-12s %-10s %-8s %s", "send", "fexit",
		 "exact", "ep_send_events_last_line");
	t.nplan = 2;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int w = sizes[i][0], h = sizes[i][1], total = 0, shown;
		bool cut = false, seen_flags = false, seen_plan = false, seen_keys = false;

		t.page_top = 0;
		tbuf_resize(&b, w, h);
		tui_format(&t, &b);
		tbuf_row(&b, h - 2, row, sizeof(row));
		CHECK(sscanf(row, " lines 1-%d of %d", &shown, &total) == 2 && shown == h - 3 &&
		      total > shown, "%dx%d: the help says where it is: '%s'", w, h, row);
		CHECK(t.page_rows == h - 3, "%dx%d: a page is %d rows", w, h, t.page_rows);
		/* page through it all: every part shows, nothing is cut */
		for (int top = 0; top <= total; top += 3) {
			t.page_top = top;
			tui_format(&t, &b);
			for (int y = 1; y < h - 2; y++) {
				tbuf_row(&b, y, row, sizeof(row));
				cut |= strchr(row, '~') != NULL;
				seen_keys |= strstr(row, "Keys") == row + 1;
				seen_flags |= strstr(row, "Overview flags") != NULL;
				seen_plan |= strstr(row, "ep_send_events_last_line") != NULL;
			}
		}
		CHECK(seen_keys && seen_flags && seen_plan && !cut,
		      "%dx%d: scrolled, all the help shows, wrapped, not cut (%d %d %d)",
		      w, h, seen_keys, seen_flags, seen_plan);
		t.page_top = 1000000;		/* End */
		tui_format(&t, &b);
		tbuf_row(&b, h - 2, row, sizeof(row));
		CHECK(t.page_top == total - (h - 3) && strstr(row, "(END)") &&
		      tbuf_find(&b, "ep_send_events_last_line") == h - 3,
		      "%dx%d: End shows the last line, and says so: '%s'", w, h, row);
		t.page_top = 1;
		tui_format(&t, &b);
		tbuf_row(&b, h - 2, row, sizeof(row));
		CHECK(strstr(row, "lines 2-") && tbuf_find(&b, "Keys") < 0,
		      "%dx%d: one line down: '%s'", w, h, row);
	}
	/* tall enough for all of it */
	tbuf_resize(&b, 120, 70);
	t.page_top = 5;
	tui_format(&t, &b);
	tbuf_row(&b, 68, row, sizeof(row));
	CHECK(t.page_top == 0 && strstr(row, "all ") && strstr(row, " lines"),
	      "120x70: all of the help at once: '%s'", row);
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* a record of a type, zeroed but for what picks its name */
static const struct et_hdr *record_of(unsigned int type, int variant, unsigned char *buf)
{
	struct et_hdr *h = (struct et_hdr *)buf;

	memset(buf, 0, 512);
	h->type = type;
	h->pid = h->tid = 100;
	if (type == ET_EV_CTL)
		((struct et_ev_ctl *)buf)->op = variant;
	if (type == ET_EV_WAIT_ENTER)
		((struct et_ev_wait_enter *)buf)->sys = variant;
	return h;
}

/* the filter takes the names the log shows, and says why it does not */
static void test_filter_names(void)
{
	union { struct et_hdr h; unsigned char b[512]; } r1, r2;
	struct et_ev_callback cb = { .in = ia, .fd = 7 };
	struct et_ev_ctl ctl = { .in = ia, .op = ET_CTL_ADD, .fd = 7 };
	struct et_ev_wakeup wk = { .in = ia };
	struct tui_filter f;
	struct model m;
	struct tui t;
	char why[160];
	int names = 0;

	/* every name the log can show is a filter for exactly those records */
	for (unsigned int type = 1; type < ET_EV_MAX; type++)
		for (int v = 0; v < 4; v++) {
			const struct et_hdr *h = record_of(type, v, r1.b);
			struct et_desc d, d2;
			bool others = true;

			et_describe(h, &d);
			if (!d.func || !*d.func)
				continue;
			names++;
			why[0] = 0;
			CHECK(tui_filter_parse(&f, d.func, why, sizeof(why)) &&
			      tui_filter_match(&f, h),
			      "the log's name '%s' filters its records (%s)", d.func, why);
			for (unsigned int o = 1; o < ET_EV_MAX; o++) {
				const struct et_hdr *h2 = record_of(o, 0, r2.b);

				et_describe(h2, &d2);
				if (d2.func && !strstr(d2.func, d.func) && tui_filter_match(&f, h2))
					others = false;
			}
			CHECK(others, "'%s' passes no record of another name", d.func);
		}
	CHECK(names >= 12, "%d event names tried", names);
	hdr(&cb.hdr, ET_EV_CALLBACK, 999, 999);
	hdr(&ctl.hdr, ET_EV_CTL, 100, 100);
	hdr(&wk.hdr, ET_EV_WAKEUP, 100, 101);
	CHECK(tui_filter_parse(&f, "try_to_wake_up", why, sizeof(why)) &&
	      tui_filter_match(&f, &wk.hdr) && !tui_filter_match(&f, &cb.hdr),
	      "try_to_wake_up: the wakeups only");
	CHECK(tui_filter_parse(&f, "ep_insert try_to_wake_up", why, sizeof(why)) &&
	      tui_filter_match(&f, &wk.hdr) && tui_filter_match(&f, &ctl.hdr) &&
	      !tui_filter_match(&f, &cb.hdr), "two names: either");
	CHECK(tui_filter_parse(&f, "wake", why, sizeof(why)) && tui_filter_match(&f, &wk.hdr) &&
	      !tui_filter_match(&f, &ctl.hdr), "part of a name");
	CHECK(tui_filter_parse(&f, "ep_poll_callback fd 7", why, sizeof(why)) &&
	      tui_filter_match(&f, &cb.hdr), "a name and an fd: both");
	cb.fd = 8;
	CHECK(!tui_filter_match(&f, &cb.hdr), "... fd 8 does not pass");
	CHECK(tui_filter_parse(&f, "pid 100", why, sizeof(why)) && tui_filter_match(&f, &cb.hdr),
	      "pid: the instance's owner, as the log shows it (the callback ran in pid 999)");
	CHECK(tui_filter_parse(&f, "epfd 3 kind ctl,wakeup", why, sizeof(why)) &&
	      tui_filter_match(&f, &ctl.hdr) && tui_filter_match(&f, &wk.hdr) &&
	      !tui_filter_match(&f, &cb.hdr), "epfd 3, kinds ctl or wakeup");
	/* rejected, with the reason */
	CHECK(!tui_filter_parse(&f, "bogus", why, sizeof(why)) &&
	      strstr(why, "'bogus' is not an fd, a kind or an event name"), "bogus: '%s'", why);
	CHECK(!tui_filter_parse(&f, "fd x", why, sizeof(why)) &&
	      strstr(why, "fd wants a number, not 'x'"), "fd x: '%s'", why);
	CHECK(!tui_filter_parse(&f, "kind nosuch", why, sizeof(why)) &&
	      strstr(why, "no kind 'nosuch'") && strstr(why, "wakeup"), "kind nosuch: '%s'", why);
	CHECK(!tui_filter_parse(&f, "?", why, sizeof(why)), "'?' (an unknown value's name) refused");
	CHECK(!tui_filter_parse(&f, "event nosuch", why, sizeof(why)) &&
	      strstr(why, "no event is named 'nosuch'"), "event nosuch: '%s'", why);
	/* on the TUI: a rejected filter leaves the one in force; empty removes it */
	setup(&t, &m);
	CHECK(tui_set_filter(&t, "try_to_wake_up", why, sizeof(why)) && t.filter.on &&
	      !strcmp(t.filter.text, "try_to_wake_up"), "set");
	CHECK(!tui_set_filter(&t, "nonsense", why, sizeof(why)) && t.filter.on &&
	      !strcmp(t.filter.text, "try_to_wake_up"), "a rejected filter changes nothing");
	CHECK(tui_set_filter(&t, "  ", why, sizeof(why)) && !t.filter.on, "blank: no filter");
	tui_free(&t);
	model_free(&m);
}

/* the filter prompt and a note on the status line */
static void test_prompt_and_note(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];
	int y, x;

	setup(&t, &m);
	t.editing = true;
	snprintf(t.input, sizeof(t.input), "kind wait");
	t.input_sel = true;
	tbuf_resize(&b, 60, 16);
	tui_format(&t, &b);
	tbuf_row(&b, 14, row, sizeof(row));
	CHECK(strstr(row, "/kind wait_"), "60 columns: the prompt leaves room: '%s'", row);
	x = (int)(strstr(row, "/kind") - row) + 1;
	CHECK(b.c[14 * 60 + x].color == TC_SELECTED && (b.c[14 * 60 + x].attr & TA_REVERSE),
	      "the old filter is shown selected");
	t.input_sel = false;
	tui_format(&t, &b);
	CHECK(b.c[14 * 60 + x].color != TC_SELECTED, "not once a key kept it");
	tbuf_resize(&b, 120, 30);
	tui_format(&t, &b);
	tbuf_row(&b, 28, row, sizeof(row));
	CHECK(strstr(row, "Enter applies") && strstr(row, "^U") && strstr(row, "/kind wait_"),
	      "wide: the prompt says how: '%s'", row);
	t.editing = false;
	t.st.note = "filter rejected: 'bogus' is not an fd, a kind or an event name";
	tui_format(&t, &b);
	y = b.h - 1;
	tbuf_row(&b, y, row, sizeof(row));
	CHECK(strstr(row, "LIVE RUNNING | filter rejected: "
			  "'bogus' is not an fd, a kind or an event name"),
	      "the status line says why: '%s'", row);
	tbuf_resize(&b, 60, 16);
	tui_format(&t, &b);
	tbuf_row(&b, 15, row, sizeof(row));
	CHECK(strstr(row, "LIVE RUNNING | filter rejected: 'bogus'"),
	      "... at 60 columns too: '%s'", row);
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* newest first, as the message log gives them: 40 lines, one of them long */
static const char *message_stub(unsigned int n)
{
	static char line[256];

	if (n >= 40)
		return NULL;
	if (n == 1)
		return "libbpf: prog 'handle_callback': failed to attach: the kernel said no, "
		       "and here is a long explanation of why that does not fit in sixty columns";
	snprintf(line, sizeof(line), "message %u", 39 - n);
	return line;
}

/* the messages scroll too, newest last, long lines wrapped */
static void test_messages_scroll(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];
	bool cut = false;
	int total = 0, shown = 0;

	setup(&t, &m);
	t.screen = SCR_MESSAGES;
	t.message = message_stub;
	tbuf_resize(&b, 60, 16);
	t.page_top = 1000000;		/* they open at the end */
	tui_format(&t, &b);
	tbuf_row(&b, 13, row, sizeof(row));
	CHECK(strstr(row, "message 39"), "the newest last: '%s'", row);
	tbuf_row(&b, 14, row, sizeof(row));
	CHECK(sscanf(row, " lines %*d-%d of %d", &shown, &total) == 2 && shown == total &&
	      strstr(row, "(END)") && total > 40, "where we are: '%s'", row);
	for (int y = 1; y < 14; y++)
		cut |= strchr(tbuf_row(&b, y, row, sizeof(row)), '~') != NULL;
	CHECK(!cut && tbuf_find(&b, "sixty columns") > tbuf_find(&b, "libbpf: prog"),
	      "a long message wraps, not cut");
	t.page_top = 0;
	tui_format(&t, &b);
	tbuf_row(&b, 1, row, sizeof(row));
	CHECK(strstr(row, "message 0") && t.page_rows == 13, "scrolled to the oldest: '%s'", row);
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* the replay's position stays on a narrow status line, and nothing overlaps it */
static void test_replay_status(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[512];

	setup(&t, &m);
	t.st.replay = true;
	t.st.paused = true;
	t.st.speed = 2;
	t.st.pos_ns = 3400000000ULL;
	t.st.last_ns = 125000000000ULL;
	t.st.event_no = 12345;
	t.st.events = 987654;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tbuf_resize(&b, sizes[i][0], sizes[i][1]);
		tui_format(&t, &b);
		tbuf_row(&b, sizes[i][1] - 1, row, sizeof(row));
		CHECK(strstr(row, "REPLAY PAUSED") && strstr(row, "x2 3.4/125.0s #12345/987654") &&
		      !strstr(row, "987654?") && !strstr(row, "987654 ?") && !strchr(row, '~'),
		      "%dx%d: the replay's status: '%s'", sizes[i][0], sizes[i][1], row);
	}
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* the inline rung: the transfer window, where the plan sees it */
static void test_inline_transfer(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	struct et_ev_ep_send_events se = { .in = ia, .maxevents = 8 };
	struct et_ev_scan sc = { .in = ia };
	struct et_ev_ep_insert ins = { .in = ia, .fd = 8, .events = IN | 0x18, .file = 0x8f80 };
	char row[512];

	setup(&t, &m);
	t.sel_ep = ia.ep;
	t.screen = SCR_INSTANCE;
	tbuf_resize(&b, 180, 40);
	hdr(&se.hdr, ET_EV_EP_SEND_EVENTS, ia.owner, 101);
	tui_apply(&t, &se.hdr, sizeof(se));
	callback(&t, &ia, 5);
	t.now_ns = now;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "OVFLIST") < 0 && tbuf_find(&b, "transfers") < 0,
	      "a plan without the inline rung shows no transfer");
	t.st.vis = (struct et_visible){ .callbacks = true, .sleeps = true, .inserts = true,
					.polls = true, .transfers = true };
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "OVFLIST ACTIVE (1 diverted)") == 1 &&
	      row_color_at(&b, "OVFLIST ACTIVE", 1) >= 0, "the window is open, one callback diverted");
	CHECK(tbuf_find(&b, "rdllist: 2, ovflist active") >= 0, "the ready pane says so");
	tbuf_row(&b, tbuf_find(&b, "ovf       5 tcp-listen"), row, sizeof(row));
	CHECK(row[0], "fd 5, called back in the window, is marked ovf: '%s'", row);
	hdr(&ins.hdr, ET_EV_EP_INSERT, ia.owner, ia.owner);
	tui_apply(&t, &ins.hdr, sizeof(ins));
	add(&t, &ia, 8, IN);
	now += 40000;
	hdr(&sc.hdr, ET_EV_SCAN, ia.owner, 101);
	tui_apply(&t, &sc.hdr, sizeof(sc));
	t.now_ns = now;
	tui_format(&t, &b);
	tbuf_row(&b, 1, row, sizeof(row));
	CHECK(!strstr(row, "OVFLIST") && strstr(row, "transfers 1 (last 4") &&
	      strstr(row, "to ovflist 1") && strstr(row, "ep_insert 1") &&
	      !strstr(row, "(drift)"), "ep_done_scan ended it: '%s'", row);
	CHECK(tbuf_find(&b, "ovflist active") < 0 && tbuf_find(&b, "ovf       5") < 0,
	      "spliced back: no ovf mark");
	t.screen = SCR_OVERVIEW;
	hdr(&se.hdr, ET_EV_EP_SEND_EVENTS, ia.owner, 101);
	tui_apply(&t, &se.hdr, sizeof(se));
	tui_format(&t, &b);
	tbuf_row(&b, tbuf_find(&b, "server"), row, sizeof(row));
	CHECK(strstr(row, " O"), "the overview flags a running transfer: '%s'", row);
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* ---- issue 12: words a class can read ------------------------------------- */

/* Hangul syllables, UTF-8: each takes two columns */
#define GA "\xea\xb0\x80"	/* 가 */
#define NA "\xeb\x82\x98"	/* 나 */
#define DA "\xeb\x8b\xa4"	/* 다 */
#define RA "\xeb\x9d\xbc"	/* 라 */

/* the column (0-based) where needle starts on row y, counting cells, or -1 */
static int col_of(const struct tbuf *b, int y, const char *needle)
{
	char row[4096];
	const char *p;
	int x = 0;

	tbuf_row(b, y, row, sizeof(row));
	p = strstr(row, needle);
	if (!p)
		return -1;
	/* the cells before it: each character's width */
	for (const char *q = row; q < p;) {
		char one[8] = {};
		int n = 1;

		while ((q[n] & 0xc0) == 0x80)
			n++;
		memcpy(one, q, n);
		x += tbuf_cols(one);
		q += n;
	}
	return x;
}

static void test_wide_text(void)
{
	struct tbuf b = {};
	char row[256];
	int n;

	tbuf_resize(&b, 12, 4);
	CHECK(tbuf_cols(GA NA "ab") == 6, "Hangul is two columns: %d", tbuf_cols(GA NA "ab"));
	/* Korean labels in a row: what follows stays in its column */
	n = tbuf_text(&b, &tglyphs_utf8, 0, 0, 12, TC_NORMAL, GA NA);
	tbuf_text(&b, &tglyphs_utf8, 4, 0, 8, TC_NORMAL, "|x");
	CHECK(n == 4 && !strcmp(tbuf_row(&b, 0, row, sizeof(row)), GA NA "|x") &&
	      b.c[1].ch == TBUF_WIDE_TAIL && b.c[4].ch == '|',
	      "two syllables take four cells, the next text starts at column 4: '%s'", row);
	/* truncation at odd and even widths: the ellipsis, never half a syllable */
	tbuf_clear(&b);
	n = tbuf_text(&b, &tglyphs_utf8, 0, 1, 5, TC_NORMAL, GA NA DA RA);
	tbuf_text(&b, &tglyphs_utf8, 5, 1, 1, TC_NORMAL, "|");
	CHECK(n == 5 && !strcmp(tbuf_row(&b, 1, row, sizeof(row)), GA NA "\xe2\x80\xa6|"),
	      "cut to 5 columns: two syllables and the ellipsis: '%s'", row);
	n = tbuf_text(&b, &tglyphs_utf8, 0, 2, 6, TC_NORMAL, GA NA DA RA);
	tbuf_text(&b, &tglyphs_utf8, 6, 2, 1, TC_NORMAL, "|");
	CHECK(n == 6 && !strcmp(tbuf_row(&b, 2, row, sizeof(row)), GA NA "\xe2\x80\xa6 |"),
	      "cut to 6 columns: the third syllable does not fit beside the ellipsis, a blank "
	      "keeps the column: '%s'", row);
	/* a wide character at the last column: never half of it */
	tbuf_clear(&b);
	n = tbuf_text(&b, &tglyphs_utf8, 11, 3, 4, TC_NORMAL, GA);
	CHECK(b.c[3 * 12 + 11].ch != 0xac00 && b.c[3 * 12 + 11].ch != TBUF_WIDE_TAIL,
	      "no left half in the last column (got U+%04X)", b.c[3 * 12 + 11].ch);
	n = tbuf_text(&b, &tglyphs_utf8, 10, 3, 4, TC_NORMAL, GA);
	CHECK(n == 2 && b.c[3 * 12 + 10].ch == 0xac00 && b.c[3 * 12 + 11].ch == TBUF_WIDE_TAIL,
	      "a syllable ending at the right edge is drawn whole");
	/* writing over half a pair blanks the other half */
	tbuf_clear(&b);
	tbuf_text(&b, &tglyphs_utf8, 0, 0, 12, TC_NORMAL, GA NA);
	tbuf_set(&b, 1, 0, '#', TC_NORMAL);
	CHECK(!strcmp(tbuf_row(&b, 0, row, sizeof(row)), " #" NA),
	      "a cell written over a right half: the left half goes: '%s'", row);
	tbuf_set(&b, 2, 0, '#', TC_NORMAL);
	CHECK(!strcmp(tbuf_row(&b, 0, row, sizeof(row)), " ##") && b.c[3].ch == ' ',
	      "a cell written over a left half: the right half goes: '%s'", row);
	/* padding by columns, not bytes */
	tbuf_clear(&b);
	tbuf_pad(&b, &tglyphs_utf8, 0, 1, 7, true, TC_NORMAL, GA NA);
	tbuf_pad(&b, &tglyphs_utf8, 0, 2, 7, true, TC_NORMAL, "\xe2\x80\x93");
	tbuf_pad(&b, &tglyphs_utf8, 0, 3, 7, true, TC_NORMAL, "42");
	CHECK(col_of(&b, 1, NA) == 5 && col_of(&b, 2, "\xe2\x80\x93") == 6 &&
	      col_of(&b, 3, "2") == 6, "right-aligned by columns: %d %d %d", col_of(&b, 1, NA),
	      col_of(&b, 2, "\xe2\x80\x93"), col_of(&b, 3, "2"));
	CHECK(tbuf_fit(GA NA DA, 5) == 6 && tbuf_fit(GA NA DA, 6) == 9 && tbuf_fit("abc", 2) == 2,
	      "tbuf_fit counts whole syllables: %zu %zu", tbuf_fit(GA NA DA, 5),
	      tbuf_fit(GA NA DA, 6));
	tbuf_free(&b);
}

/* every row a box edge crosses ends in its right border at the last column */
static bool box_rows_aligned(const struct tbuf *b, char *why, size_t len)
{
	for (int y = 1; y < b->h - 1; y++) {
		uint32_t l = b->c[y * b->w].ch, r = b->c[y * b->w + b->w - 1].ch;

		if ((l == '|' || l == '+') && r != '|' && r != '+') {
			snprintf(why, len, "row %d ends in U+%04X", y, r);
			return false;
		}
		for (int x = 0; x < b->w; x++)
			if (b->c[y * b->w + x].ch == TBUF_WIDE_TAIL &&
			    (x == 0 || b->c[y * b->w + x - 1].ch < 0x1100)) {
				snprintf(why, len, "row %d: a right half alone at %d", y, x);
				return false;
			}
	}
	return true;
}

/* The screens in Korean, from the catalogue `make` built (build/locale). */
static void test_korean_screens(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char row[1024], why[96] = "";
	const char *dir = getenv("EPOLLTRACE_LOCALEDIR");
	int y, x_head, x_num;

	bindtextdomain("epolltrace", dir && *dir ? dir : "build/locale");
	bind_textdomain_codeset("epolltrace", "UTF-8");
	textdomain("epolltrace");
	setlocale(LC_MESSAGES, "C.UTF-8");
	setenv("LANGUAGE", "ko", 1);
	CHECK(strcmp(gettext("watched %zu"), "watched %zu") != 0,
	      "the Korean catalogue is found (build/locale, after make)");
	setup(&t, &m);
	t.g = &tglyphs_utf8;
	tbuf_resize(&b, 100, 30);
	t.now_ns = now;
	tui_format(&t, &b);
	/* 개요 (overview), and the WATCHED column (감시) over its numbers */
	CHECK(tbuf_find(&b, "\xea\xb0\x9c\xec\x9a\x94: ") == 0, "the title is Korean: '%s'",
	      tbuf_row(&b, 0, row, sizeof(row)));
	y = tbuf_find(&b, "server");
	x_head = col_of(&b, 1, "\xea\xb0\x90\xec\x8b\x9c");	/* 감시 */
	tbuf_row(&b, y, row, sizeof(row));
	/* right-aligned: the header's last cell (감시's right half) over the last digit */
	x_num = x_head + 3;
	CHECK(x_head > 0 && b.c[1 * b.w + x_num].ch == TBUF_WIDE_TAIL &&
	      b.c[y * b.w + x_num].ch == '3' && b.c[y * b.w + x_num + 1].ch == ' ' &&
	      b.c[y * b.w + x_num - 1].ch == ' ',
	      "감시 ends where the watched count (3) ends, column %d: '%s'", x_num, row);
	/* the instance view: every pane's edges where they belong */
	t.sel_ep = ia.ep;
	t.screen = SCR_INSTANCE;
	t.explain = true;
	for (int w = 60; w <= 200; w += 7) {
		tbuf_resize(&b, w, 30);
		tui_format(&t, &b);
		CHECK(box_rows_aligned(&b, why, sizeof(why)), "%dx30 in Korean: %s", w, why);
	}
	tbuf_resize(&b, 140, 40);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "rbr: epitem 3") >= 0 && tbuf_find(&b, "rdllist: 1") >= 0 &&
	      tbuf_find(&b, "wq: 1") >= 0, "kernel names stay as the kernel spells them");
	/* the narration of the last event, in Korean */
	CHECK(tbuf_find(&b, "ep_poll_callback: ") >= 0 &&
	      tbuf_find(&b, "\xec\xbb\xa4\xeb\x84\x90\xec\x9d\xb4") >= 0,	/* 커널이 */
	      "the step box is Korean and names ep_poll_callback");
	tbuf_resize(&b, 100, 30);
	tui_format(&t, &b);
	/* 깨웁니다. ends it */
	CHECK(tbuf_find(&b, "\xea\xb9\xa8\xec\x9b\x81\xeb\x8b\x88\xeb\x8b\xa4.") > 0,
	      "100x30: the Korean sentence to its end, wrapped by columns");
	/* the help wraps Hangul by columns: no row runs past the edge */
	t.screen = SCR_HELP;
	for (int w = 60; w <= 120; w += 9) {
		tbuf_resize(&b, w, 20);
		t.page_top = 1000;
		tui_format(&t, &b);
		CHECK(box_rows_aligned(&b, why, sizeof(why)), "help at %d columns: %s", w, why);
	}
	/* a Korean key (재생에서만, replay only): its text wraps under its own column 20 */
	tbuf_resize(&b, 70, 60);
	t.page_top = 0;
	tui_format(&t, &b);
	y = tbuf_find(&b, "\xec\x9e\xac\xec\x83\x9d\xec\x97\x90\xec\x84\x9c\xeb\xa7\x8c:");
	x_head = col_of(&b, y, "+ / -");
	x_num = 0;
	while (y > 0 && x_num < b.w && b.c[(y + 1) * b.w + x_num].ch == ' ')
		x_num++;
	CHECK(y > 0 && x_head == 21 && x_num == 21,
	      "the replay keys' text at column 21, wrapped under it: %d, %d", x_head, x_num);
	setenv("LANGUAGE", "en", 1);
	setlocale(LC_MESSAGES, "C");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* a source of records for tui_step: an array, applied one at a time */
struct feed {
	struct tui *t;
	unsigned char rec[32][256];
	size_t size[32];
	int n, at;
};

static int feed_next(void *ctx)
{
	struct feed *f = ctx;

	if (f->at >= f->n)
		return 0;
	tui_apply(f->t, (const void *)f->rec[f->at], f->size[f->at]);
	f->at++;
	return 1;
}

static void feed_push(struct feed *f, const void *r, size_t size)
{
	memcpy(f->rec[f->n], r, size);
	f->size[f->n++] = size;
}

/* Step mode outside lessons: Space on A's screen never stops on B's events. */
static void test_step_instance(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	struct feed f = { .t = &t };
	char row[512];
	int stops = 0, a_recs = 0;
	bool only_a = true;

	setup(&t, &m);
	/* interleaved: B, A, B, B, A, B */
	for (int i = 0; i < 6; i++) {
		const struct et_inst *in = (i == 1 || i == 4) ? &ia : &ib;
		struct et_ev_callback e = { .in = *in, .fd = in == &ia ? 5 : 9, .events = IN,
					    .key = IN };

		hdr(&e.hdr, ET_EV_CALLBACK, 999, 900 + i);
		memcpy(e.comm, "writer", 7);
		feed_push(&f, &e, sizeof(e));
		a_recs += in == &ia;
	}
	t.screen = SCR_INSTANCE;
	t.sel_ep = ia.ep;
	while (tui_step(&t, feed_next, &f)) {
		const struct et_hdr *h = tui_log_get(&t.log, 0);
		const struct et_ev_callback *e = (const void *)h;

		stops++;
		only_a &= e->in.ep == ia.ep;
	}
	CHECK(stops == a_recs && only_a, "stepping on A stopped %d times (A has %d), only on A: %d",
	      stops, a_recs, only_a);
	CHECK(f.at == f.n && model_find(&m, ib.ep)->cnt.callbacks == 4,
	      "B's events were applied on the way (the model stays exact): %llu",
	      (unsigned long long)model_find(&m, ib.ep)->cnt.callbacks);
	/* the step box says whose event it is: A's owner, the thread, A's epfd */
	t.explain = true;
	tbuf_resize(&b, 140, 40);
	t.now_ns = now;
	tui_format(&t, &b);
	tbuf_row(&b, tbuf_find(&b, "pid 100 tid 904 epfd 3:"), row, sizeof(row));
	CHECK(strstr(row, "ep_poll_callback fd=5"),
	      "the step names pid, tid and epfd of A's last event: '%s'", row);
	/* a B event newest in the log does not show on A's screen */
	{
		struct et_ev_callback e = { .in = ib, .fd = 9, .events = IN, .key = IN };

		hdr(&e.hdr, ET_EV_CALLBACK, 999, 950);
		tui_apply(&t, &e.hdr, sizeof(e));
		tui_format(&t, &b);
		CHECK(tbuf_find(&b, "tid 950") < 0 && tbuf_find(&b, "pid 100 tid 904 epfd 3:") >= 0,
		      "B's newer event is not explained on A's screen");
	}
	/* in the overview every instance is on screen: a step stops at B too */
	f.n = f.at = 0;
	{
		struct et_ev_callback e = { .in = ib, .fd = 10, .events = IN, .key = IN };

		hdr(&e.hdr, ET_EV_CALLBACK, 999, 960);
		feed_push(&f, &e, sizeof(e));
	}
	t.screen = SCR_OVERVIEW;
	CHECK(tui_step(&t, feed_next, &f) && tui_log_get(&t.log, 0)->tid == 960,
	      "the overview steps through every instance");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* masks as names, unknowns as "–": never hex, -1 or 0 */
static void test_masks_unknowns(void)
{
	struct et_ev_send_events se = { .in = ia, .count = -1, .requeued = -1 };
	struct et_ev_ctl c = { .in = ia, .op = ET_CTL_ADD, .fd = 8,
			       .events = IN | (1u << 28) | (1u << 20) };
	struct et_desc d;
	struct model m;
	struct tui t;
	struct tbuf b = {};
	char buf[96], row[512];
	const struct et_inst nofd = { .ep = 0xffff000000003000ull, .owner = 300, .epfd = -1 };

	hdr(&se.hdr, ET_EV_SEND_EVENTS, 100, 101);
	et_describe(&se.hdr, &d);
	CHECK(!strstr(d.what, "-1") && strstr(d.what, "\xe2\x80\x93"),
	      "unknown count and requeued read '–': '%s'", d.what);
	hdr(&c.hdr, ET_EV_CTL, 100, 100);
	et_describe(&c.hdr, &d);
	CHECK(strstr(d.what, "events=IN|EXCLUSIVE|BIT20") && !strstr(d.what, "events=0x"),
	      "EXCLUSIVE by name, an unnamed bit by number, no hex: '%s'", d.what);
	CHECK(!strcmp(et_events_str((1u << 30) | IN, buf, sizeof(buf)), "IN|ONESHOT") &&
	      !strcmp(et_events_str(0, buf, sizeof(buf)), "none"), "IN|ONESHOT, none");
	et_unknown_ascii(true);
	et_describe(&se.hdr, &d);
	CHECK(strstr(d.what, ": -") && !strstr(d.what, "\xe2\x80\x93"), "ASCII: '-': '%s'", d.what);
	et_unknown_ascii(false);
	/* an instance whose epfd is not known: "–" in the overview, never -1 */
	setup(&t, &m);
	t.g = &tglyphs_utf8;
	create(&t, &nofd);
	add(&t, &nofd, 4, IN | (1u << 30));
	tbuf_resize(&b, 100, 30);
	t.now_ns = now;
	tui_format(&t, &b);
	tbuf_row(&b, tbuf_find(&b, "  300 "), row, sizeof(row));
	CHECK(strstr(row, "\xe2\x80\x93") && !strstr(row, "-1"), "epfd unknown: '%s'", row);
	/* a plan without the sleep hooks: wakeups are not known, not 0 */
	t.st.vis.sleeps = false;
	tui_format(&t, &b);
	tbuf_row(&b, tbuf_find(&b, "  100 "), row, sizeof(row));
	CHECK(starts_with_words(row, "100 server 3 3 1 1 0.0 \xe2\x80\x93 0.0 \xe2\x80\x93"),
	      "WAKE/s and 0-WAKE unknown without sleeps: '%s'", row);
	t.st.vis.sleeps = true;
	tui_format(&t, &b);
	tbuf_row(&b, tbuf_find(&b, "  100 "), row, sizeof(row));
	CHECK(starts_with_words(row, "100 server 3 3 1 1 0.0 0.0 0.0 0"),
	      "... and counted with them: '%s'", row);
	t.screen = SCR_INSTANCE;
	t.sel_ep = nofd.ep;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "epfd \xe2\x80\x93") == 0 && tbuf_find(&b, "IN|ONESHOT") >= 0,
	      "the instance's title and its mask: '%s'", tbuf_row(&b, 0, row, sizeof(row)));
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

/* the anatomy pane ('a') in place of the event log, at every size */
static void test_anatomy_pane(void)
{
	struct model m;
	struct tui t;
	struct tbuf b = {};
	struct et_ev_wait_exit we = { .in = ia, .ret = 1, .ncopied = 1, .slept_ns = 3000 };
	char row[512];
	static const int sizes[][2] = { { 140, 40 }, { 80, 24 }, { TUI_MIN_W, TUI_MIN_H } };

	setup(&t, &m);
	t.sel_ep = ia.ep;
	t.screen = SCR_INSTANCE;
	t.st.vis = (struct et_visible){ .callbacks = true, .sleeps = true };
	we.ev[0] = (struct et_wait_event){ .events = IN, .data = 6 };
	hdr(&we.hdr, ET_EV_WAIT_EXIT, ia.owner, 101);
	tui_apply(&t, &we.hdr, sizeof(we));
	t.now_ns = now;
	tbuf_resize(&b, 140, 40);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "latency anatomy") < 0 && tbuf_find(&b, "events (newest last)") >= 0,
	      "the log by default");
	t.lower = LOWER_ANATOMY;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tbuf_resize(&b, sizes[i][0], sizes[i][1]);
		tui_format(&t, &b);
		CHECK(tbuf_find(&b, "anatomy") >= 0 && tbuf_find(&b, "events (newest last)") < 0 &&
		      tbuf_find(&b, "rbr:") >= 0, "%dx%d: the pane replaces the log, the panes above stay",
		      sizes[i][0], sizes[i][1]);
	}
	tbuf_resize(&b, 140, 40);
	tui_format(&t, &b);
	tbuf_row(&b, tbuf_find(&b, "events per wait "), row, sizeof(row));
	CHECK(starts_with_words(row + 1, "events per wait 1 1 1 1 exact"),
	      "one wait, one event, exact: '%s'", row);
	tbuf_row(&b, tbuf_find(&b, "asleep per wait"), row, sizeof(row));
	CHECK(starts_with_words(row + 1, "asleep per wait 1 3.0us 3.0us 3.0us derived"),
	      "asleep 3 us (p50, p99 capped at the max), derived: '%s'", row);
	tbuf_row(&b, tbuf_find(&b, "transfer "), row, sizeof(row));
	CHECK(starts_with_words(row + 1, "transfer - - - - none") &&
	      row_color_at(&b, "transfer ", 1) == TC_DIM, "no inline rung: transfers unseen: '%s'",
	      row);
	CHECK(tbuf_find(&b, "waits 1   full (= maxevents) 0 of 1, 0.0%   timeouts expired 0 of 1") >= 0,
	      "worker-101's wait: maxevents 8, a 5 s timeout, one event");
	t.lower = LOWER_EVENTS;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "latency anatomy") < 0 && tbuf_find(&b, "events (newest last)") >= 0,
	      "and back to the log");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

int main(void)
{
	/* as main() does: widths (wcwidth) need a UTF-8 character set */
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("FAIL no C.UTF-8 locale\n");
		return 1;
	}
	test_buf();
	test_overview();
	test_instance();
	test_status_and_screens();
	test_filter_and_log();
	test_instance_sizes();
	test_overview_sizes();
	test_help_scroll();
	test_filter_names();
	test_prompt_and_note();
	test_messages_scroll();
	test_replay_status();
	test_inline_transfer();
	test_wide_text();
	test_step_instance();
	test_masks_unknowns();
	test_korean_screens();
	test_anatomy_pane();
	printf("tui: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
