// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics endpoint's figures (cli/views/metrics.c) on synthetic
 * streams: a series per instance up to --metrics-max and the rest summed
 * as epfd="other", counters of "other" that never go back when instances
 * leave it or are given a series, a closed instance giving its place to a
 * live one, findings per detector, escaped labels, the histogram's
 * cumulative buckets.  metrics.c is included for its static render().
 * Built with ASan and UBSan by `make check`.
 */
#include "../cli/views/metrics.c"
#include "check.h"

#define PORT "19466"
static __u64 now = 1000000;

static void hdr(struct et_hdr *h, unsigned int type, __u32 pid, __u64 gap)
{
	h->ts_ns = now += gap;
	h->pid = pid;
	h->tid = pid;
	h->type = type;
}

static struct et_inst inst_of(int n)
{
	return (struct et_inst){ .ep = 0xffff000000001000ull + n * 0x100, .owner = 100 + n,
				 .epfd = 3 };
}

static void create(struct et_sink *s, int n)
{
	struct et_ev_create e = { .in = inst_of(n) };

	hdr(&e.hdr, ET_EV_EP_CREATE, 100 + n, 1000);
	s->record(s, &e.hdr, sizeof(e));
}

static void close_inst(struct et_sink *s, int n)
{
	struct et_ev_close e = { .in = inst_of(n) };

	hdr(&e.hdr, ET_EV_EP_CLOSE, 100 + n, 1000);
	s->record(s, &e.hdr, sizeof(e));
}

/* k waits of instance n returning ret events each (no sleep) */
static void waits(struct et_sink *s, int n, int k, int ret)
{
	for (int i = 0; i < k; i++) {
		struct et_ev_wait_enter in = { .in = inst_of(n), .maxevents = 4, .timeout_ns = -1 };
		struct et_ev_wait_exit out = { .in = inst_of(n), .ret = ret };

		hdr(&in.hdr, ET_EV_WAIT_ENTER, 100 + n, 1000);
		s->record(s, &in.hdr, sizeof(in));
		hdr(&out.hdr, ET_EV_WAIT_EXIT, 100 + n, 1000);
		s->record(s, &out.hdr, sizeof(out));
	}
}

/* the value of the sample whose line starts with prefix, -1 if none */
static long long sample(struct metrics *mx, const char *prefix)
{
	const char *p = mx->buf;
	size_t n = strlen(prefix);

	while (p && *p) {
		if (!strncmp(p, prefix, n) && p[n] == ' ')
			return atoll(p + n + 1);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

static void scrape(struct metrics *mx)
{
	render(mx);
	mx->buf[mx->len] = 0;	/* put() leaves room: vsnprintf's */
}

int main(void)
{
	struct metrics_addr a;
	char err[256];
	static const struct et_hook_info hooks[] = {
		{ "callback", "fentry", "exact", "ep_poll_callback" },
		{ "sleep", "tp_btf", "derived", "sched_switch+sched_waking" },
	};
	__u32 pids[] = { 100, 101, 102 };
	const char *comms[] = { "zero", "q\"b\\s", "two" };
	struct et_session_info info = { .callbacks_visible = true, .attach = "auto",
					.hooks = hooks, .nhooks = 2, .pids = pids,
					.comms = comms, .npids = 3, .replay = true };
	struct et_sink *s;
	struct metrics *mx;
	struct finding f = { .kind = DET_HERD, .count = 3 };
	long long other_before;

	CHECK(metrics_parse_addr(PORT, &a, err, sizeof(err)) == 0 && a.loopback &&
	      !strcmp(a.text, "127.0.0.1:" PORT), "a port alone is 127.0.0.1:PORT");
	CHECK(metrics_parse_addr("[::1]:" PORT, &a, err, sizeof(err)) == 0 && a.loopback,
	      "[::1]:PORT is loopback");
	CHECK(metrics_parse_addr("10.0.0.1:" PORT, &a, err, sizeof(err)) == 0 && !a.loopback,
	      "10.0.0.1 is not loopback");
	CHECK(metrics_parse_addr("localhost:0", &a, err, sizeof(err)) == -1 &&
	      strstr(err, "invalid --metrics"), "port 0 refused");
	metrics_parse_addr(PORT, &a, err, sizeof(err));
	s = metrics_new(&a, 2);
	CHECK(s != NULL, "metrics_new on 127.0.0.1:" PORT);
	if (!s)
		return 1;
	mx = (struct metrics *)s;
	s->begin(s, &info);

	/* three instances: 0 busiest, 1 next, 2 the least: max 2 folds 2 */
	for (int n = 0; n < 3; n++)
		create(s, n);
	waits(s, 0, 30, 1);
	waits(s, 1, 20, 0);
	waits(s, 2, 5, 3);
	f.ep = inst_of(1).ep;
	f.pid = 101;
	mx->m.det.f = &f;
	mx->m.det.n = 1;
	scrape(mx);
	CHECK(sample(mx, "epolltrace_waits_total{pid=\"100\",comm=\"zero\",epfd=\"3\"}") == 30,
	      "the busiest instance has its series");
	CHECK(sample(mx, "epolltrace_waits_total{pid=\"101\",comm=\"q\\\"b\\\\s\",epfd=\"3\"}") ==
	      20, "the next has its series, its comm escaped");
	CHECK(sample(mx, "epolltrace_waits_total{epfd=\"other\"}") == 5,
	      "the third is in epfd=\"other\"");
	CHECK(sample(mx, "epolltrace_instances_folded") == 1, "one instance folded");
	CHECK(sample(mx, "epolltrace_findings_total{pid=\"101\",comm=\"q\\\"b\\\\s\",epfd=\"3\","
			 "detector=\"herd\"}") == 3, "a finding counted for its instance");
	CHECK(sample(mx, "epolltrace_findings_total{pid=\"100\",comm=\"zero\",epfd=\"3\","
			 "detector=\"herd\"}") == 0, "... and not for another");
	CHECK(sample(mx, "epolltrace_events_per_wait_bucket{pid=\"100\",comm=\"zero\",epfd=\"3\","
			 "le=\"0.0\"}") == 0 &&
	      sample(mx, "epolltrace_events_per_wait_bucket{pid=\"100\",comm=\"zero\",epfd=\"3\","
			 "le=\"1.0\"}") == 30 &&
	      sample(mx, "epolltrace_events_per_wait_bucket{epfd=\"other\",le=\"1.0\"}") == 0 &&
	      sample(mx, "epolltrace_events_per_wait_bucket{epfd=\"other\",le=\"3.0\"}") == 5 &&
	      sample(mx, "epolltrace_events_per_wait_sum{epfd=\"other\"}") == 15,
	      "events per wait: cumulative buckets and sum");
	CHECK(sample(mx, "epolltrace_callbacks_total{epfd=\"other\"}") == 0,
	      "callbacks shown where the plan sees them");
	mx->m.det.f = NULL;
	mx->m.det.n = 0;

	/* the folded one goes on counting; then instance 0 closes: 2 takes its place */
	waits(s, 2, 5, 3);
	scrape(mx);
	other_before = sample(mx, "epolltrace_waits_total{epfd=\"other\"}");
	CHECK(other_before == 10, "\"other\" counts its instance's waits (%lld)", other_before);
	close_inst(s, 0);
	waits(s, 2, 1, 3);
	scrape(mx);
	CHECK(sample(mx, "epolltrace_waits_total{pid=\"102\",comm=\"two\",epfd=\"3\"}") == 11,
	      "a closed instance gave its place to the live folded one (its whole count)");
	CHECK(sample(mx, "epolltrace_waits_total{pid=\"100\",comm=\"zero\",epfd=\"3\"}") == -1,
	      "the closed one's series went");
	/* the wait since the last scrape came while it was folded: "other" has it too */
	other_before = sample(mx, "epolltrace_waits_total{epfd=\"other\"}");
	CHECK(other_before == 11, "\"other\" kept what it counted: counters never go back "
	      "(%lld)", other_before);
	CHECK(sample(mx, "epolltrace_instances_folded") == 0, "nothing folded now");

	/* the closed one leaves the model (its linger): counted nowhere again */
	waits(s, 1, 1, 0);
	now += MODEL_LINGER_NS + 1;
	waits(s, 1, 1, 0);
	scrape(mx);
	CHECK(sample(mx, "epolltrace_waits_total{epfd=\"other\"}") == other_before &&
	      sample(mx, "epolltrace_instances") == 2,
	      "the closed instance gone from the model: \"other\" unchanged (%lld), "
	      "2 instances (%lld)", sample(mx, "epolltrace_waits_total{epfd=\"other\"}"),
	      sample(mx, "epolltrace_instances"));
	CHECK(!strcmp(mx->buf + mx->len - 6, "# EOF\n"), "the text ends with # EOF");

	/*
	 * Instance 1's process holds a new instance at the same fd, no close
	 * seen (an exec; a reused fd number): one series for the labels, the
	 * new instance's.
	 */
	{
		struct et_ev_create e = { .in = inst_of(1) };
		const char *p = mx->buf;
		int lines = 0;

		e.in.ep += 0x10000;
		hdr(&e.hdr, ET_EV_EP_CREATE, 101, 1000);
		s->record(s, &e.hdr, sizeof(e));
		scrape(mx);
		while ((p = strstr(p, "epolltrace_waits_total{pid=\"101\","))) {
			lines++;
			p++;
		}
		CHECK(lines == 1 && sample(mx, "epolltrace_waits_total{pid=\"101\",comm=\"q\\\"b\\\\s\","
					   "epfd=\"3\"}") == 0,
		      "two instances at one pid and fd: one series, the newer's (%d lines)", lines);
	}
	metrics_free(s);
	printf("metrics: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
