// SPDX-License-Identifier: GPL-2.0
/*
 * The TUI's formatting, checked on the attributed buffer without a
 * terminal: what the screens say, where, and in which colour.
 */
#include <stdio.h>
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
	CHECK(strstr(row, "0.250s"), "fd 6 heads the ready list, queued for 0.250 s: '%s'", row);
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
	CHECK(tui_filter_parse(&t.filter, "fd 7"), "parse 'fd 7'");
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "ADD fd=7") >= 0 && tbuf_find(&b, "ADD fd=6") < 0 &&
	      tbuf_find(&b, "events /fd 7") >= 0, "filtered by fd 7");
	t.filter.on = false;
	/* stepping explains the last event */
	t.explain = true;
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "what the kernel just did") >= 0 &&
	      tbuf_find(&b, "appended to rdllist") >= 0, "the explanation of ep_poll_callback");
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

	CHECK(tui_filter_parse(&f, "tid=42") && f.tid == 42 && f.fd == -1, "tid=42");
	CHECK(tui_filter_parse(&f, "kind callback") && f.kind == ETK_CALLBACK, "kind callback");
	CHECK(tui_filter_parse(&f, "call") && f.kind == ETK_CALLBACK, "a kind's prefix");
	CHECK(tui_filter_parse(&f, "7") && f.fd == 7, "a bare number is an fd");
	CHECK(!tui_filter_parse(&f, "fd") && !tui_filter_parse(&f, "bogus") &&
	      !tui_filter_parse(&f, "fd -3") && !tui_filter_parse(&f, ""), "nonsense refused");
	hdr(&c.hdr, ET_EV_CALLBACK, 1, 42);
	tui_filter_parse(&f, "fd 7 kind callback");
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

int main(void)
{
	test_buf();
	test_overview();
	test_instance();
	test_status_and_screens();
	test_filter_and_log();
	printf("tui: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
