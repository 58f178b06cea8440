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
#include "log.h"
#include "output.h"
#include "plan.h"
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
"  epolltrace demo --scenario threads     a scripted workload to trace\n";

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

static int parse(int argc, char **argv, struct cli *c)
{
	long v;
	int opt;

	c->s.mode = PLAN_AUTO;
	c->s.snapshot_interval = 1.0;
	c->s.events_ring_bytes = 8ul << 20;
	c->s.snap_ring_bytes = 16ul << 20;
	c->scale = 1;
	c->interval = 1.0;
	while ((opt = getopt_long(argc, argv, "+p:fd:i:n:vVh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_long("pid", optarg, 1, INT_MAX, &v))
				return -1;
			if (c->s.npids == SESSION_MAX_PIDS) {
				et_err("too many -p (at most %d)", SESSION_MAX_PIDS);
				return -1;
			}
			c->s.pids[c->s.npids++] = v;
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

enum out_kind { OUT_TEXT, OUT_JSON, OUT_STATE, OUT_TUI };

static int cmd_trace(struct cli *c, char **cmd)
{
	struct et_sink *sink;
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
	switch (kind) {
	case OUT_STATE:
		sink = state_view_new(stdout, c->summary ? STATE_SUMMARY : STATE_JSON, c->interval,
				      c->count);
		break;
	case OUT_TUI:
		sink = tui_sink_new(&c->tui_o);
		break;
	case OUT_JSON:
		sink = out_json_new(stdout);
		break;
	default:
		sink = out_text_new(stdout);
	}
	if (!sink) {
		et_err("out of memory");
		return 1;
	}
	ret = session_run(&c->s, sink);
	if (kind == OUT_STATE)
		state_view_free(sink);
	else if (kind == OUT_TUI)
		tui_sink_free(sink);
	else
		out_free(sink);
	if (fflush(stdout) || ferror(stdout)) {
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

	if (argc > 1 && (!strcmp(argv[1], "probes") || !strcmp(argv[1], "demo"))) {
		sub = argv[1];
		argc--;
		argv++;
	}
	if (parse(argc, argv, &c))
		return 2;
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
	return cmd_trace(&c, cmd);
}
