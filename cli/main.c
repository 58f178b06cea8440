// SPDX-License-Identifier: GPL-2.0
/*
 * epolltrace: watch Linux epoll internals live.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classroom.h"
#include "export.h"
#include "log.h"
#include "output.h"
#include "plan.h"
#include "recording.h"
#include "session.h"
#include "state_view.h"
#include "tui.h"
#include "workload.h"

#ifndef EPOLLTRACE_VERSION
#define EPOLLTRACE_VERSION "0.1"
#endif

static const char usage[] =
"Usage: epolltrace [OPTIONS] [-p PID]... [-- COMMAND [ARGS...]]\n"
"       epolltrace demo\n"
"       epolltrace probes [--json] [--attach=MODE]\n"
"       epolltrace demo --scenario NAME [--truth FILE] [--gate] [--scale N]\n"
"       epolltrace demo --scenario classroom [--duration S] [--rate X]\n"
"       epolltrace demo --list\n"
"       epolltrace record -o FILE [--force] [OPTIONS] [-p PID]... [-- COMMAND [ARGS...]]\n"
"       epolltrace replay FILE [--json|--summary|--json-state [-i S] [-n N]]\n"
"       epolltrace info FILE\n"
"       epolltrace export FILE --format jsonl|chrome [-o OUT]\n"
"\n"
"Trace what the kernel's epoll machinery does inside processes: instances\n"
"created and closed, fds inserted/modified/removed, ep_poll_callback,\n"
"threads waiting, sleeping, woken, and the events they receive.\n"
"\n"
"Options:\n"
"  -p, --pid PID             trace this process (repeatable); threads included\n"
"  -f, --follow              also trace children the targets fork from now on\n"
"      --tui                 the full-screen view (the default on a terminal)\n"
"      --text                one line per event (the default when piped)\n"
"      --theme NAME          TUI colours: dark, light or mono\n"
"      --ascii               TUI boxes in ASCII even on a UTF-8 terminal\n"
"      --json                JSON Lines on stdout (one object per event)\n"
"      --summary             a table per instance every interval (top-style)\n"
"      --json-state          the whole model as one JSON object per interval\n"
"  -i, --interval SECONDS    refresh interval of --summary/--json-state (default 1)\n"
"  -n, --count N             stop after N refreshes\n"
"  -d, --duration SECONDS    stop after this long\n"
"      --attach MODE         auto|fentry|kprobe|tracepoint (default auto)\n"
"      --snapshot-interval S seconds between snapshots (default 1)\n"
"      --ring-size MB        event ring buffer size (default 8)\n"
"  -w, --write FILE          also record the session to FILE (with any output)\n"
"  -o, --output FILE         record: the recording; export: the output (default stdout)\n"
"      --force               overwrite an existing recording\n"
"      --format F            export: jsonl (as --json) or chrome (Trace Event Format)\n"
"  -v, --verbose             more diagnostics (twice: libbpf debug)\n"
"  -V, --version             print the version\n"
"  -h, --help                this help\n"
"\n"
"Without -p or a COMMAND every process but epolltrace itself is traced.\n"
"\n"
"Examples:\n"
"  epolltrace demo                        watch a built-in workload in the TUI\n"
"  epolltrace -p $(pidof redis-server)    redis's epoll instances, live\n"
"  epolltrace probes                      what this kernel lets us see, and why\n"
"  epolltrace -p $(pidof nginx) --json    stream nginx's epoll events as JSON\n"
"  epolltrace --json -d 5 -- redis-server trace a command from its first syscall\n"
"  epolltrace demo --scenario threads     a scripted workload to trace\n"
"  epolltrace record -p $(pidof redis-server) -o redis.etr -d 10\n"
"  epolltrace replay redis.etr --summary  the same table, from the file, no root\n"
"  epolltrace export redis.etr --format chrome -o redis.json   for ui.perfetto.dev\n";

enum {
	OPT_JSON = 256,
	OPT_ATTACH,
	OPT_SNAP_INTERVAL,
	OPT_RING_SIZE,
	OPT_SCENARIO,
	OPT_TRUTH,
	OPT_GATE,
	OPT_SCALE,
	OPT_LIST,
	OPT_SUMMARY,
	OPT_JSON_STATE,
	OPT_TUI,
	OPT_TEXT,
	OPT_THEME,
	OPT_ASCII,
	OPT_RATE,
	OPT_FORCE,
	OPT_FORMAT,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "follow", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "duration", required_argument, NULL, 'd' },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "snapshot-interval", required_argument, NULL, OPT_SNAP_INTERVAL },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "gate", no_argument, NULL, OPT_GATE },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "summary", no_argument, NULL, OPT_SUMMARY },
	{ "json-state", no_argument, NULL, OPT_JSON_STATE },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'n' },
	{ "tui", no_argument, NULL, OPT_TUI },
	{ "text", no_argument, NULL, OPT_TEXT },
	{ "theme", required_argument, NULL, OPT_THEME },
	{ "ascii", no_argument, NULL, OPT_ASCII },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "write", required_argument, NULL, 'w' },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{},
};

struct cli {
	struct session_opts s;
	bool json;
	bool summary;
	bool json_state;
	bool tui;
	bool text;
	struct tui_opts tui_o;
	double interval;
	long count;
	const char *scenario;
	const char *truth;
	bool gate;
	int scale;
	bool list;
	double rate;		/* demo --scenario classroom; 0: not given */
	const char *write;	/* -w: record alongside */
	const char *output;	/* -o */
	bool force;
	const char *format;
};

static int parse_double(const char *opt, const char *arg, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < min) {
		et_err("invalid %s: '%s'", opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_long(const char *opt, const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		et_err("invalid %s: '%s'", opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * -p 1,2,3 and -p "$(pidof nginx)" (spaces), as perf and pidstat take
 * them; repeatable; a pid given twice is traced once.
 */
static int parse_pids(const char *arg, struct session_opts *o)
{
	static const char sep[] = ", \t\n";
	const char *p = arg + strspn(arg, sep);

	if (!*p) {
		et_err("invalid pid: '%s' (no process id in it)", arg);
		return -1;
	}
	while (*p) {
		size_t len = strcspn(p, sep);
		char one[32], *end;
		bool dup = false;
		long v;

		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		errno = 0;
		v = strtol(one, &end, 10);
		if (errno || end == one || *end || v < 1 || v > INT_MAX || len >= sizeof(one)) {
			if (len == strlen(arg))
				et_err("invalid pid: '%s'", arg);
			else
				et_err("invalid pid: '%.*s' in '%s'", (int)len, p, arg);
			return -1;
		}
		for (int i = 0; i < o->npids; i++)
			dup |= o->pids[i] == v;
		if (!dup) {
			if (o->npids == SESSION_MAX_PIDS) {
				et_err("too many pids (at most %d)", SESSION_MAX_PIDS);
				return -1;
			}
			o->pids[o->npids++] = v;
		}
		p += len;
		p += strspn(p, sep);
	}
	return 0;
}

/* permute: options may follow operands (replay FILE --json) */
static int parse(int argc, char **argv, struct cli *c, bool permute)
{
	long v;
	int opt;

	c->s.mode = PLAN_AUTO;
	c->s.snapshot_interval = 1.0;
	c->s.events_ring_bytes = 8ul << 20;
	c->s.snap_ring_bytes = 16ul << 20;
	c->scale = 1;
	c->interval = 1.0;
	while ((opt = getopt_long(argc, argv, permute ? "p:fd:i:n:w:o:vVh" : "+p:fd:i:n:w:o:vVh",
				  long_opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_pids(optarg, &c->s))
				return -1;
			break;
		case 'f':
			c->s.follow = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case 'd':
			if (parse_double("duration", optarg, 0.001, &c->s.duration))
				return -1;
			break;
		case OPT_ATTACH:
			if (plan_mode_parse(optarg, &c->s.mode)) {
				et_err("invalid --attach '%s': use auto, fentry, kprobe or tracepoint",
				       optarg);
				return -1;
			}
			break;
		case OPT_SNAP_INTERVAL:
			if (parse_double("snapshot interval", optarg, 0.01, &c->s.snapshot_interval))
				return -1;
			break;
		case OPT_RING_SIZE:
			if (parse_long("ring size", optarg, 1, 1024, &v))
				return -1;
			/* a power of two number of pages */
			c->s.events_ring_bytes = 1ul << 20;
			while (c->s.events_ring_bytes < (unsigned long)v << 20)
				c->s.events_ring_bytes <<= 1;
			break;
		case 'v':
			et_verbose++;
			break;
		case 'V':
			printf("epolltrace %s\n", EPOLLTRACE_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case OPT_SCENARIO:
			c->scenario = optarg;
			break;
		case OPT_TRUTH:
			c->truth = optarg;
			break;
		case OPT_GATE:
			c->gate = true;
			break;
		case OPT_SCALE:
			if (parse_long("scale", optarg, 1, 1000, &v))
				return -1;
			c->scale = v;
			break;
		case OPT_LIST:
			c->list = true;
			break;
		case OPT_SUMMARY:
			c->summary = true;
			break;
		case OPT_JSON_STATE:
			c->json_state = true;
			break;
		case OPT_TUI:
			c->tui = true;
			break;
		case OPT_TEXT:
			c->text = true;
			break;
		case OPT_THEME: {
			bool known = false;

			for (const char *const *t = tui_themes(); *t; t++)
				known |= !strcmp(*t, optarg);
			if (!known) {
				et_err("invalid --theme '%s': use dark, light or mono", optarg);
				return -1;
			}
			c->tui_o.theme = optarg;
			break;
		}
		case OPT_ASCII:
			c->tui_o.ascii = true;
			break;
		case 'i':
			if (parse_double("interval", optarg, 0.05, &c->interval))
				return -1;
			break;
		case 'n':
			if (parse_long("count", optarg, 1, LONG_MAX, &c->count))
				return -1;
			break;
		case OPT_RATE:
			if (parse_double("rate", optarg, 0.05, &c->rate))
				return -1;
			if (c->rate > 20) {
				et_err("invalid rate: '%s' (0.05 to 20)", optarg);
				return -1;
			}
			break;
		case 'w':
			c->write = optarg;
			break;
		case 'o':
			c->output = optarg;
			break;
		case OPT_FORCE:
			c->force = true;
			break;
		case OPT_FORMAT:
			c->format = optarg;
			break;
		default:
			fprintf(stderr, "Try 'epolltrace --help'.\n");
			return -1;
		}
	}
	return 0;
}

static int cmd_probes(struct cli *c)
{
	struct plan_params pp = {
		.self_tgid = getpid(),
		.trace_all = true,
		.events_ring_bytes = 1ul << 20,
		.snap_ring_bytes = 1ul << 20,
	};
	struct plan p;
	struct plan_loaded ld;
	int err = plan_load(&p, c->s.mode, &pp, &ld);

	if (c->json)
		plan_print_json(&p, stdout);
	else
		plan_print(&p, stdout);
	if (!err)
		plan_unload(&ld);
	else
		et_err("no full mode works: %s", p.fix);
	plan_free(&p);
	return err ? 1 : 0;
}

static int cmd_demo_live(struct cli *c);

static int cmd_demo(struct cli *c)
{
	struct workload_opts wo = { .scenario = c->scenario, .gate = c->gate, .scale = c->scale };
	int ret;

	if (c->list) {
		for (const char *const *n = workload_scenarios(); *n; n++)
			printf("%-14s %s\n", *n, workload_describe(*n));
		printf("%-14s %s\n", "classroom", CLASSROOM_DESCRIPTION);
		return 0;
	}
	if (c->scenario && !strcmp(c->scenario, "classroom")) {
		struct classroom_opts co = { .duration_s = c->s.duration, .rate = c->rate };

		if (c->truth || c->gate || c->scale != 1) {
			et_err("demo: --truth, --gate and --scale do not apply to classroom");
			return 2;
		}
		return classroom_run(&co) ? 1 : 0;
	}
	if (!c->scenario)
		return cmd_demo_live(c);
	if (c->rate) {
		et_err("demo: --rate applies to --scenario classroom only");
		return 2;
	}
	if (!workload_describe(c->scenario)) {
		et_err("demo: unknown scenario '%s' (see epolltrace demo --list)", c->scenario);
		return 2;
	}
	if (c->truth) {
		wo.truth = fopen(c->truth, "we");
		if (!wo.truth) {
			et_err("demo: cannot write %s: %s", c->truth, strerror(errno));
			return 1;
		}
	}
	ret = workload_run(&wo);
	if (wo.truth && fclose(wo.truth)) {
		et_err("demo: writing %s: %s", c->truth, strerror(errno));
		ret = 1;
	}
	return ret ? 1 : 0;
}

static int finish_recording(struct rec_writer *w, const char *path, bool report)
{
	__u64 bytes, events;
	int ret;

	rec_writer_stats(w, &bytes, &events);
	ret = rec_writer_close(w);
	if (report && !ret)
		et_info("recorded %llu events in %llu bytes (%.1f bytes/event) to %s",
			(unsigned long long)events, (unsigned long long)bytes,
			events ? (double)bytes / events : 0.0, path);
	return ret ? 1 : 0;
}

/* epolltrace record -o FILE: no screen, no stream; the file only */
static int cmd_record(struct cli *c, char **cmd)
{
	struct rec_writer *w;
	int ret;

	if (!c->output) {
		et_err("record: -o FILE is required");
		return 2;
	}
	if (c->json || c->summary || c->json_state || c->write) {
		et_err("record writes only the file; to watch while recording use -w FILE");
		return 2;
	}
	if (c->s.follow && !c->s.npids && !cmd) {
		et_err("-f needs -p PID or a COMMAND");
		return 2;
	}
	c->s.cmd = cmd;
	w = rec_writer_open(c->output, c->force);
	if (!w)
		return 1;
	ret = session_run(&c->s, rec_writer_sink(w));
	if (finish_recording(w, c->output, true))
		ret = 1;
	return ret;
}

static struct rec_reader *open_recording(const char *path)
{
	char err[512];
	struct rec_reader *r = rec_open(path, err, sizeof(err));

	if (!r)
		et_err("%s", err);
	return r;
}

/* the file operand of replay/info/export: exactly one */
static const char *file_operand(int argc, char **argv, const char *sub)
{
	if (optind >= argc) {
		et_err("%s: a recording FILE is required", sub);
		return NULL;
	}
	if (optind + 1 < argc) {
		et_err("unexpected argument '%s'", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}

static int cmd_replay(struct cli *c, const char *path)
{
	struct replay_opts ro = { .progress = isatty(STDERR_FILENO), .label = "replay" };
	struct rec_reader *r;
	struct et_sink *sink;
	int ret;

	if (c->json + c->summary + c->json_state > 1) {
		et_err("--json, --summary and --json-state exclude each other");
		return 2;
	}
	if (!c->json && !c->summary && !c->json_state) {
		char why[128];

		if (!tui_possible(why, sizeof(why))) {
			et_err("replay: %s; headless, use --json, --summary or --json-state", why);
			return 2;
		}
		r = open_recording(path);
		if (!r)
			return 1;
		ret = tui_replay(r, &c->tui_o);
		rec_close(r);
		return ret;
	}
	r = open_recording(path);
	if (!r)
		return 1;
	if (c->summary || c->json_state)
		sink = state_view_new(stdout, c->summary ? STATE_SUMMARY : STATE_JSON, c->interval,
				      c->count);
	else
		sink = out_json_new(stdout);
	if (!sink) {
		et_err("out of memory");
		rec_close(r);
		return 1;
	}
	ret = replay_feed(r, sink, &ro);
	if (c->summary || c->json_state)
		state_view_free(sink);
	else
		out_free(sink);
	rec_close(r);
	if (fflush(stdout) || ferror(stdout)) {
		et_err("writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}

static int cmd_info(const char *path)
{
	struct rec_reader *r = open_recording(path);
	int ret;

	if (!r)
		return 1;
	ret = rec_info_print(r, stdout);
	rec_close(r);
	return ret;
}

static int cmd_export(struct cli *c, const char *path)
{
	struct replay_opts ro = { .progress = isatty(STDERR_FILENO), .label = "export" };
	bool chrome;
	struct rec_reader *r;
	struct et_sink *sink;
	FILE *out = stdout;
	int ret;

	if (!c->format || (strcmp(c->format, "jsonl") && strcmp(c->format, "chrome"))) {
		et_err("export: --format jsonl or --format chrome is required");
		return 2;
	}
	chrome = !strcmp(c->format, "chrome");
	r = open_recording(path);
	if (!r)
		return 1;
	if (c->output && strcmp(c->output, "-")) {
		out = fopen(c->output, "we");
		if (!out) {
			et_err("cannot create %s: %s", c->output, strerror(errno));
			rec_close(r);
			return 1;
		}
	}
	sink = chrome ? export_chrome_new(out, rec_header(r)) : out_json_new(out);
	if (!sink) {
		et_err("out of memory");
		ret = 1;
		goto out;
	}
	ret = replay_feed(r, sink, &ro);
	if (chrome) {
		export_chrome_finish(sink, rec_header(r));
		export_chrome_free(sink);
	} else {
		out_free(sink);
	}
out:
	rec_close(r);
	if (fflush(out) || ferror(out) || (out != stdout && fclose(out))) {
		et_err("writing %s: %s", out == stdout ? "output" : c->output, strerror(errno));
		ret = 1;
	}
	return ret;
}

enum out_kind { OUT_TEXT, OUT_JSON, OUT_STATE, OUT_TUI };

static int cmd_trace(struct cli *c, char **cmd)
{
	struct rec_writer *rec = NULL;
	struct et_sink *sink, *view;
	enum out_kind kind;
	char why[128];
	int ret;

	if (c->s.follow && !c->s.npids && !cmd) {
		et_err("-f needs -p PID or a COMMAND");
		return 2;
	}
	if (c->json + c->summary + c->json_state + c->tui + c->text > 1) {
		et_err("--json, --summary, --json-state, --tui and --text exclude each other");
		return 2;
	}
	if (c->output) {
		et_err("-o is for record and export; to record while tracing use -w FILE");
		return 2;
	}
	if (c->json)
		kind = OUT_JSON;
	else if (c->summary || c->json_state)
		kind = OUT_STATE;
	else if (c->text)
		kind = OUT_TEXT;
	else if (c->tui && !tui_possible(why, sizeof(why))) {
		et_err("--tui: %s", why);
		return 2;
	} else	/* on a terminal, the TUI; piped, the text stream */
		kind = tui_possible(why, sizeof(why)) ? OUT_TUI : OUT_TEXT;
	c->s.cmd = cmd;
	/*
	 * The TUI owns the terminal: COMMAND's output goes to its message
	 * log.  Every other view writes its data to stdout, which must carry
	 * nothing else (a JSON reader chokes on a stray line): COMMAND's
	 * stdout joins its stderr on ours.
	 */
	c->s.cmd_output = kind == OUT_TUI ? SESSION_CMD_LOG : SESSION_CMD_STDERR;
	c->s.out = kind == OUT_TUI ? NULL : stdout;
	if (c->write) {
		rec = rec_writer_open(c->write, c->force);
		if (!rec)
			return 1;
	}
	switch (kind) {
	case OUT_STATE:
		view = state_view_new(stdout, c->summary ? STATE_SUMMARY : STATE_JSON, c->interval,
				      c->count);
		break;
	case OUT_TUI:
		view = tui_sink_new(&c->tui_o);
		break;
	case OUT_JSON:
		view = out_json_new(stdout);
		break;
	default:
		view = out_text_new(stdout);
	}
	/* the recorder first: its end (the file complete) must not wait for
	 * the TUI, which keeps an ended screen until q */
	sink = view && rec ? tee_new(rec_writer_sink(rec), view) : view;
	if (!sink) {
		et_err("out of memory");
		ret = 1;
		goto out;
	}
	ret = session_run(&c->s, sink);
out:
	if (sink != view)
		tee_free(sink);
	if (kind == OUT_STATE)
		state_view_free(view);
	else if (kind == OUT_TUI)
		tui_sink_free(view);
	else
		out_free(view);
	if (rec && finish_recording(rec, c->write, false))
		ret = 1;
	/*
	 * A reader that stopped reading (--json | head -1) ended the session
	 * as -d or -n would: the recording is complete, nothing is wrong, and
	 * the status is 0 (a shell's pipefail would take 141 for a failure).
	 */
	if ((fflush(stdout) || ferror(stdout)) && !session_reader_gone(stdout)) {
		et_err("writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}

/*
 * `epolltrace demo` alone: the classroom workload, started as a traced
 * child of this very binary, shown in the TUI (or the text stream when
 * not on a terminal).
 */
static int cmd_demo_live(struct cli *c)
{
	static char self[PATH_MAX], rate[32];
	char *cmd[] = { self, "demo", "--scenario", "classroom", NULL, NULL, NULL };
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		et_err("demo: cannot find this program: %s", strerror(errno));
		return 1;
	}
	self[n] = 0;
	if (c->rate) {
		snprintf(rate, sizeof(rate), "%g", c->rate);
		cmd[4] = "--rate";
		cmd[5] = rate;
	}
	c->s.follow = true;	/* the workload forks its second process */
	return cmd_trace(c, cmd);
}

int main(int argc, char **argv)
{
	struct cli c = {};
	const char *sub = NULL;
	char **cmd = NULL;

	static const char *const subs[] = { "probes", "demo", "record", "replay", "info", "export" };
	bool takes_file, record = false;

	for (size_t i = 0; argc > 1 && i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (!strcmp(argv[1], subs[i])) {
			sub = argv[1];
			argc--;
			argv++;
			break;
		}
	}
	takes_file = sub && (!strcmp(sub, "replay") || !strcmp(sub, "info") ||
			     !strcmp(sub, "export"));
	if (parse(argc, argv, &c, takes_file))
		return 2;
	if (takes_file) {
		const char *file = file_operand(argc, argv, sub);

		if (!file)
			return 2;
		if (!strcmp(sub, "replay"))
			return cmd_replay(&c, file);
		if (!strcmp(sub, "info"))
			return cmd_info(file);
		return cmd_export(&c, file);
	}
	if (sub && !strcmp(sub, "record")) {
		record = true;
		sub = NULL;	/* takes -- COMMAND like a trace */
	}
	if (optind < argc) {
		if (sub || strcmp(argv[optind - 1], "--")) {
			et_err("unexpected argument '%s'", argv[optind]);
			return 2;
		}
		cmd = argv + optind;
	}
	et_log_libbpf_init();
	if (sub && !strcmp(sub, "probes"))
		return cmd_probes(&c);
	if (sub && !strcmp(sub, "demo"))
		return cmd_demo(&c);
	return record ? cmd_record(&c, cmd) : cmd_trace(&c, cmd);
}
