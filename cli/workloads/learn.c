// SPDX-License-Identifier: GPL-2.0
/*
 * `epolltrace learn`: the driver of a lesson.  It forks the lesson's
 * workload (lesson_run(), lesson.h), traces it as a target, and steers it
 * one stop at a time from inside the tracing loop (session_driver):
 *
 *   BEGIN; per step K: "before K" -> BEFORE record; the presenter goes on;
 *   "run K" -> the step's kernel records arrive; "after K" -> the ring
 *   drained, a snapshot round taken and delivered -> AFTER record; END.
 *
 * So a step's records lie between its BEFORE and its AFTER, and what the
 * AFTER's snapshot shows is the kernel's state once the step is done, in
 * every attach mode (sampled structures included).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "clock.h"
#include "help.h"
#include "i18n.h"
#include "lang.h"
#include "learn.h"
#include "lesson.h"
#include "log.h"
#include "outfile.h"
#include "output.h"
#include "plan.h"
#include "recording.h"
#include "session.h"
#include "tui.h"
#include "tui_lesson.h"


#define LEARN_MAX_EPFDS	64

enum learn_state {
	ST_START,	/* the workload waits for "start" */
	ST_WAIT,	/* a request is out: waiting for its reply */
	ST_AT_BEFORE,	/* stopped at BEFORE step */
	ST_AT_AFTER,	/* stopped at AFTER step (or BEGIN, step 0) */
	ST_DONE,	/* END written, "quit" sent */
	ST_FAILED,
};

struct learn {
	struct et_sink sink;		/* wraps next: learns the instances' addresses */
	struct et_sink *next;
	const struct lesson *l;
	pid_t child;
	int ctl;			/* the socket to the workload */
	char line[512];
	size_t len;
	enum learn_state st;
	int step;			/* the stop we are at (or the reply awaited) */
	char expect;			/* the reply awaited: 'b' before, 'a' after */
	bool autoplay;			/* headless: every stop in turn */
	bool want_next;			/* the presenter asked for the next stop */
	struct { int epfd; __u64 ep; } eps[LEARN_MAX_EPFDS];
	int neps;
};

/* ---- the sink: the instances' addresses, from the stream ----------------- */

static void ep_learn(struct learn *d, int epfd, __u64 ep)
{
	for (int i = 0; i < d->neps; i++)
		if (d->eps[i].epfd == epfd) {
			d->eps[i].ep = ep;
			return;
		}
	if (d->neps < LEARN_MAX_EPFDS)
		d->eps[d->neps++] = (typeof(d->eps[0])){ epfd, ep };
}

static __u64 ep_of(const struct learn *d, int epfd)
{
	for (int i = 0; epfd >= 0 && i < d->neps; i++)
		if (d->eps[i].epfd == epfd)
			return d->eps[i].ep;
	return 0;
}

static void l_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct learn *d = (struct learn *)s;

	if (h->type == ET_EV_EP_CREATE) {
		const struct et_ev_create *c = (const void *)h;

		if ((pid_t)c->in.owner == d->child && c->in.epfd >= 0)
			ep_learn(d, c->in.epfd, c->in.ep);
	}
	d->next->record(d->next, h, size);
}

static void l_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct learn *d = (struct learn *)s;

	/* an instance made before tracing began is known from its picture */
	if ((pid_t)snap->in.owner == d->child && snap->in.epfd >= 0 && !ep_of(d, snap->in.epfd))
		ep_learn(d, snap->in.epfd, snap->in.ep);
	d->next->snapshot(d->next, snap);
}

static void l_flush(struct et_sink *s)
{
	struct learn *d = (struct learn *)s;

	d->next->flush(d->next);
}

static void l_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct learn *d = (struct learn *)s;
	struct et_session_info i = *info;

	i.lesson = d->l->name;	/* the header says it holds a lesson */
	if (d->next->begin)
		d->next->begin(d->next, &i);
}

static int l_tick(struct et_sink *s, __u64 now)
{
	struct learn *d = (struct learn *)s;

	return d->next->tick ? d->next->tick(d->next, now) : 0;
}

static void l_end(struct et_sink *s, __u64 now)
{
	struct learn *d = (struct learn *)s;

	if (d->next->end)
		d->next->end(d->next, now);
}

/* ---- the lesson records ----------------------------------------------------- */

static void inject(struct learn *d, struct session *s, enum et_lesson_phase phase, int step,
		   const struct lesson_reply *r)
{
	const struct lesson *l = d->l;
	const struct lesson_step *st = step >= 1 && step <= l->nsteps ? &l->steps[step - 1] : NULL;
	struct et_ev_lesson e = {};
	const char *text = phase == ET_LESSON_BEGIN ? l->title :
			   phase == ET_LESSON_BEFORE && st ? st->before :
			   phase == ET_LESSON_AFTER && st ? st->after : "";

	e.hdr.ts_ns = mono_ns();
	e.hdr.pid = d->child;
	e.hdr.tid = d->child;
	e.hdr.type = ET_EV_LESSON;
	e.hdr.src = ET_SRC_USER;
	e.phase = phase;
	e.step = step;
	e.nsteps = l->nsteps;
	e.epfd[0] = e.epfd[1] = -1;
	if (r) {
		for (int i = 0; i < 2; i++) {
			e.epfd[i] = r->epfd[i];
			e.ep[i] = ep_of(d, r->epfd[i]);
		}
		e.nargs = r->nargs;
		memcpy(e.arg, r->arg, sizeof(e.arg));
	}
	if (st) {
		e.touched = st->touched;
		snprintf(e.hooks, sizeof(e.hooks), "%s", st->hooks ? st->hooks : "");
	}
	snprintf(e.lesson, sizeof(e.lesson), "%s", l->name);
	snprintf(e.text, sizeof(e.text), "%s", text);
	session_inject(s, &e.hdr, sizeof(e));
}

static int ask(struct learn *d, const char *what, int step)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%s %d\n", what, step);

	if (write(d->ctl, buf, n) != n) {
		et_err("learn: lesson %s: the workload went away", d->l->name);
		return -1;
	}
	d->st = ST_WAIT;
	d->step = step;
	d->expect = what[0] == 'r' ? 'a' : 'b';
	return 0;
}

static void finish(struct learn *d, struct session *s, const struct lesson_reply *r)
{
	inject(d, s, ET_LESSON_END, d->l->nsteps + 1, r);
	if (write(d->ctl, "quit\n", 5) != 5)
		et_debug("learn: quit: %s", strerror(errno));
	d->st = ST_DONE;
}

/* one reply line from the workload */
static int on_reply(struct learn *d, struct session *s, const char *line)
{
	struct lesson_reply r;

	if (lesson_reply_parse(line, &r) || r.step != d->step || d->st != ST_WAIT ||
	    (r.kind != 'f' && r.kind != d->expect)) {
		et_err("learn: lesson %s: unexpected reply '%s'", d->l->name, line);
		return -1;
	}
	if (r.kind == 'f') {
		et_err("learn: lesson %s: step %d failed", d->l->name, r.step);
		d->st = ST_FAILED;
		return -1;
	}
	if (r.kind == 'b') {
		inject(d, s, ET_LESSON_BEFORE, r.step, &r);
		d->st = ST_AT_BEFORE;
	} else {
		/* the kernel's state after the step, then the narration of it */
		session_sync(s);
		inject(d, s, ET_LESSON_AFTER, r.step, &r);
		d->st = ST_AT_AFTER;
		if (r.step == d->l->nsteps)
			finish(d, s, &r);
	}
	d->next->flush(d->next);
	return 0;
}

static int read_replies(struct learn *d, struct session *s)
{
	for (;;) {
		ssize_t n = read(d->ctl, d->line + d->len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			if (d->st == ST_DONE)
				return 0;
			et_err("learn: lesson %s: the workload ended before the lesson did",
			       d->l->name);
			d->st = ST_FAILED;
			return -1;
		}
		if (d->line[d->len] == '\n') {
			d->line[d->len] = 0;
			d->len = 0;
			if (on_reply(d, s, d->line))
				return -1;
			continue;
		}
		if (++d->len == sizeof(d->line) - 1) {
			et_err("learn: lesson %s: a reply too long", d->l->name);
			return -1;
		}
	}
}

/* the session's loop turns: replies in, the next request out */
static int turn(void *ctx, struct session *s)
{
	struct learn *d = ctx;

	if (d->st == ST_START) {
		/* traced from here: the workload begins (setup, then waits) */
		if (write(d->ctl, "start\n", 6) != 6) {
			et_err("learn: lesson %s: the workload went away", d->l->name);
			return 1;
		}
		inject(d, s, ET_LESSON_BEGIN, 0, NULL);
		d->next->flush(d->next);
		d->st = ST_AT_AFTER;
		d->step = 0;
	}
	/*
	 * A few stops a turn: a reply is waited for here (up to 100 ms, the
	 * loop's own idle wait), not in the next turn, so that a stop costs
	 * the workload's time, not a loop turn.  The step's records wait in
	 * the ring meanwhile; session_sync() takes them before the snapshot.
	 */
	for (int i = 0; i < 4; i++) {
		if (d->st == ST_WAIT) {
			struct pollfd p = { .fd = d->ctl, .events = POLLIN };

			if (poll(&p, 1, 100) < 0 && errno != EINTR)
				return 1;
		}
		if (d->st != ST_DONE && d->st != ST_FAILED && read_replies(d, s))
			return 1;
		if (d->st == ST_FAILED)
			return 1;
		if (d->st == ST_WAIT || (!d->want_next && !d->autoplay))
			return 0;
		if (d->st == ST_AT_BEFORE) {
			d->want_next = false;
			if (ask(d, "run", d->step))
				return 1;
		} else if (d->st == ST_AT_AFTER && d->step < d->l->nsteps) {
			d->want_next = false;
			if (ask(d, "before", d->step + 1))
				return 1;
		} else {
			return 0;
		}
	}
	return 0;
}

/* the TUI's "next stop, please" */
static int advance(void *ctx)
{
	struct learn *d = ctx;

	if (d->st == ST_DONE || d->st == ST_FAILED)
		return -1;
	d->want_next = true;
	return 0;
}

/* ---- the command ------------------------------------------------------------ */

enum {
	OPT_JSON = 256,
	OPT_RECORD,
	OPT_PACE,
	OPT_ATTACH,
	OPT_TRUTH,
	OPT_FORCE,
	OPT_SITES,
	OPT_VMLINUX,
	OPT_LANG,
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "pace", required_argument, NULL, OPT_PACE },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "sites", required_argument, NULL, OPT_SITES },
	{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
	{ "lang", required_argument, NULL, OPT_LANG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

struct learn_opts {
	bool json, force;
	const char *record, *truth;
	double pace;
	struct session_opts s;
};

static void list_lessons(void)
{
	for (const struct lesson *const *l = lesson_all(); *l; l++)
		printf("%-10s %s\n", (*l)->name, _((*l)->title));
}

/* the workload's process: waits for "start", then serves the steps */
static int child_main(const struct lesson *l, int ctl, FILE *truth)
{
	char c, comm[16];

	/* the lesson's name where the screens show a comm */
	snprintf(comm, sizeof(comm), "lesson:%s", l->name);
	prctl(PR_SET_NAME, comm);
	/* a driver gone is the end of the lesson (EPIPE), not a death */
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-C is the driver's: it ends the session, and the lesson with it */
	signal(SIGINT, SIG_IGN);
	do {
		if (read(ctl, &c, 1) != 1)
			_exit(0);
	} while (c != '\n');
	return lesson_run(l, ctl, truth);
}

static pid_t fork_workload(const struct lesson *l, FILE *truth, int *ctl, int err_fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		et_err("learn: socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		et_err("learn: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (!pid) {
		close(sv[0]);
		if (err_fd >= 0)
			dup2(err_fd, STDERR_FILENO);
		/* stdout carries the driver's data: nothing of the workload's */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		_exit(child_main(l, sv[1], truth));
	}
	close(sv[1]);
	*ctl = sv[0];
	fcntl(*ctl, F_SETFL, fcntl(*ctl, F_GETFL) | O_NONBLOCK);
	return pid;
}

/* what the workload said on stderr while the TUI had the screen */
static void replay_stderr(FILE *f)
{
	char buf[512];

	if (!f)
		return;
	rewind(f);
	while (fgets(buf, sizeof(buf), f))
		fputs(buf, stderr);
	fclose(f);
}

static int run_lesson(const struct lesson *l, struct learn_opts *o)
{
	struct learn d = {
		.sink = { .record = l_record, .snapshot = l_snapshot, .flush = l_flush,
			  .begin = l_begin, .tick = l_tick, .end = l_end },
		.l = l, .ctl = -1, .st = ST_START,
	};
	struct session_driver drv = { .ctx = &d, .turn = turn };
	struct tui_lesson_ctl lctl = { .ctx = &d, .advance = advance };
	struct tui_opts topts = {};
	struct tui_lesson_opts lo = { .tui = &topts, .pace = o->pace, .ctl = &lctl };
	struct rec_writer *rec = NULL;
	struct et_sink *view = NULL, *tee = NULL;
	struct outfile truth = { .fd = -1 };
	FILE *truth_f = NULL, *errs = NULL;
	bool tui = !o->json;
	int ret = 1, status = 0;
	char why[128];

	/* --record alone off a terminal: the file only, every stop in turn */
	if (tui && !tui_possible(why, sizeof(why))) {
		if (!o->record) {
			et_err("learn: %s; headless, use --json or --record FILE", why);
			return 2;
		}
		tui = false;
	}
	if (geteuid() != 0) {
		et_err("learn: tracing the lesson needs root (a lesson's recording replays "
		       "without it)");
		return 1;
	}
	if (o->truth) {
		if (outfile_open(&truth, o->truth, o->force, NULL))
			return 1;
		truth_f = outfile_stream(&truth);
		if (!truth_f || outfile_commit(&truth))
			goto out;
	}
	if (o->record && !(rec = rec_writer_open(o->record, o->force)))
		goto out;
	if (tui) {
		view = tui_lesson_sink_new(&lo);
		errs = tmpfile();
	} else if (o->json) {
		view = out_json_new(stdout);
	}
	d.autoplay = !tui;
	if (view && rec)
		tee = tee_new(rec_writer_sink(rec), view);
	d.next = tee ? tee : view ? view : rec ? rec_writer_sink(rec) : NULL;
	if (!d.next || (view && rec && !tee)) {
		et_err("out of memory");
		goto out;
	}
	d.child = fork_workload(l, truth_f, &d.ctl, errs ? fileno(errs) : -1);
	if (d.child < 0)
		goto out;
	o->s.pids[0] = d.child;
	o->s.npids = 1;
	o->s.follow = true;	/* a lesson may fork (its processes are its own) */
	o->s.driver = &drv;
	o->s.out = tui ? NULL : stdout;
	ret = session_run(&o->s, &d.sink);
	/* the workload ends at "quit", or when its socket closes (q mid-lesson) */
	close(d.ctl);
	d.ctl = -1;
	if (waitpid(d.child, &status, 0) == d.child && WIFEXITED(status) &&
	    WEXITSTATUS(status) && d.st != ST_FAILED)
		et_err("learn: lesson %s: the workload failed", l->name);
	if (d.st == ST_FAILED || (WIFEXITED(status) && WEXITSTATUS(status)))
		ret = 1;
	/* (a reader that stopped reading, --json | head, ended it as it ends a trace) */
	else if (!ret && d.st != ST_DONE && !tui && !(o->json && session_reader_gone(stdout))) {
		et_err("learn: lesson %s: stopped at step %d of %d", l->name, d.step, l->nsteps);
		ret = 1;
	}
out:
	if (tee)
		tee_free(tee);
	if (view && tui)
		tui_lesson_sink_free(view);
	else if (view)
		out_free(view);
	replay_stderr(errs);
	if (rec) {
		int r = rec_writer_close(rec);

		if (r < 0 || (r && !ret))
			ret = 1;
	}
	if (truth_f && outfile_finish(&truth))
		ret = 1;
	else if (!truth_f && o->truth)
		outfile_close(&truth);
	if (o->json && (fflush(stdout) || ferror(stdout)) && !session_reader_gone(stdout)) {
		et_err("writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}

int learn_command(int argc, char **argv)
{
	struct learn_opts o = { .pace = 0 };
	const struct lesson *l;
	char *end;
	int c;

	o.s.mode = PLAN_AUTO;
	/* the lesson's own snapshots, one at each AFTER, are the only ones */
	o.s.snapshot_interval = 3600;
	o.s.events_ring_bytes = 4ul << 20;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "vhV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_RECORD:
			o.record = optarg;
			break;
		case OPT_PACE:
			errno = 0;
			o.pace = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o.pace) || o.pace < 0.1 ||
			    o.pace > 3600) {
				et_err("invalid pace '%s': --pace takes 0.1 to 3600 seconds", optarg);
				return 2;
			}
			break;
		case OPT_ATTACH:
			if (plan_mode_parse(optarg, &o.s.mode)) {
				et_err("invalid --attach '%s': use auto, fentry, kprobe, tracepoint "
				       "or inline", optarg);
				return 2;
			}
			break;
		case OPT_TRUTH:
			o.truth = optarg;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_SITES:
			o.s.sites_file = optarg;
			break;
		case OPT_VMLINUX:
			o.s.vmlinux = optarg;
			break;
		case OPT_LANG:
			if (et_lang_set(optarg)) {
				et_err("invalid --lang '%s': use en or ko", optarg);
				return 2;
			}
			break;
		case 'v':
			et_verbose++;
			break;
		case 'h':
			help_print("learn", stdout);
			return 0;
		case 'V':
			help_version(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'epolltrace learn --help'.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		if (o.json || o.record || o.pace || o.truth) {
			et_err("learn: a lesson NAME is needed (epolltrace learn lists them)");
			return 2;
		}
		list_lessons();
		return fflush(stdout) || ferror(stdout) ? 1 : 0;
	}
	if (optind + 1 < argc) {
		et_err("unexpected argument '%s'", argv[optind + 1]);
		return 2;
	}
	l = lesson_find(argv[optind]);
	if (!l) {
		et_err("learn: unknown lesson '%s' (epolltrace learn lists them)", argv[optind]);
		return 2;
	}
	if (o.force && !o.record && !o.truth) {
		et_err("--force applies to a file written with --record or --truth");
		return 2;
	}
	if (o.pace && o.json) {
		et_err("--pace applies to the lesson screen, not to --json");
		return 2;
	}
	et_log_libbpf_init();
	return run_lesson(l, &o);
}

/* ---- replay of a lesson's recording, headless --------------------------------- */

struct learn_guard {
	struct et_sink sink;
	struct et_sink *next;
	int step, nsteps;
	bool ended;
	char name[ET_LESSON_NAME_LEN];
};

static void g_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct learn_guard *g = (struct learn_guard *)s;

	if (h->type == ET_EV_LESSON) {
		const struct et_ev_lesson *e = (const void *)h;

		g->step = e->step;
		g->nsteps = e->nsteps;
		g->ended |= e->phase == ET_LESSON_END;
		snprintf(g->name, sizeof(g->name), "%.*s", (int)sizeof(e->lesson) - 1, e->lesson);
	}
	g->next->record(g->next, h, size);
}

static void g_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct learn_guard *g = (struct learn_guard *)s;

	g->next->snapshot(g->next, snap);
}

static void g_flush(struct et_sink *s)
{
	struct learn_guard *g = (struct learn_guard *)s;

	g->next->flush(g->next);
}

static void g_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct learn_guard *g = (struct learn_guard *)s;

	if (g->next->begin)
		g->next->begin(g->next, info);
}

static int g_tick(struct et_sink *s, __u64 now)
{
	struct learn_guard *g = (struct learn_guard *)s;

	return g->next->tick ? g->next->tick(g->next, now) : 0;
}

static void g_end(struct et_sink *s, __u64 now)
{
	struct learn_guard *g = (struct learn_guard *)s;

	if (g->next->end)
		g->next->end(g->next, now);
}

struct et_sink *learn_guard_new(struct et_sink *next)
{
	struct learn_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->sink = (struct et_sink){ .record = g_record, .snapshot = g_snapshot, .flush = g_flush,
				    .begin = g_begin, .tick = g_tick, .end = g_end };
	g->next = next;
	return &g->sink;
}

int learn_guard_finish(struct et_sink *s, const char *path)
{
	struct learn_guard *g = (struct learn_guard *)s;
	int ret = 0;

	if (!g->ended) {
		if (g->nsteps)
			et_err("%s: the lesson %s is cut off after step %d of %d (the recording is "
			       "truncated)", path, g->name, g->step < g->nsteps ? g->step : g->nsteps,
			       g->nsteps);
		else
			et_err("%s: the recording says it holds a lesson, but no lesson record is in "
			       "it (truncated)", path);
		ret = 1;
	}
	free(g);
	return ret;
}
