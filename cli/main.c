// SPDX-License-Identifier: GPL-2.0
/*
 * epolltrace: watch Linux epoll internals live.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "classroom.h"
#include "detect.h"
#include "export.h"
#include "help.h"
#include "i18n.h"
#include "learn.h"
#include "lesson.h"
#include "lesson_gate.h"
#include "lang.h"
#include "log.h"
#include "metrics.h"
#include "outfile.h"
#include "output.h"
#include "plan.h"
#include "recording.h"
#include "session.h"
#include "sites.h"
#include "state_view.h"
#include "tui.h"
#include "tui_lesson.h"
#include "workload.h"

/* the subcommand being parsed, for -h and the hint after a bad option */
static const char *help_sub;

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
	OPT_SITES,
	OPT_VMLINUX,
	OPT_NO_CACHE,
	OPT_DEBUGINFOD,
	OPT_LESSON,
	OPT_LANG,
	OPT_DETECT,
	OPT_METRICS,
	OPT_METRICS_MAX,
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
	{ "sites", required_argument, NULL, OPT_SITES },
	{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
	{ "lesson", required_argument, NULL, OPT_LESSON },
	{ "lang", required_argument, NULL, OPT_LANG },
	{ "detect", required_argument, NULL, OPT_DETECT },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-max", required_argument, NULL, OPT_METRICS_MAX },
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
	const char *lesson;	/* demo --lesson NAME (hidden): a lesson's workload alone */
	const char *truth;
	bool gate;
	int scale;
	bool list;
	double rate;		/* demo --scenario classroom; 0: not given */
	const char *write;	/* -w: record alongside */
	const char *output;	/* -o */
	bool force;
	const char *format;
	struct det_opts det;	/* --detect: thresholds, detectors off */
	bool metrics;		/* --metrics ADDR:PORT */
	struct metrics_addr maddr;
	unsigned int metrics_max;
	unsigned long long given;	/* OPTION_RULES rows given: bit = row */
};

/* upper bounds of the numeric options (stated in their errors) */
#define MAX_DURATION_S		31536000.0	/* a year */
#define MAX_INTERVAL_S		86400.0		/* a day */
#define MAX_SNAP_INTERVAL_S	3600.0		/* an hour */

/*
 * Where each option applies.  An option given where it does nothing is
 * refused with one line, exit 2, never ignored: check_options() below.
 */
enum {
	IN_TRACE = 1 << 0,	/* epolltrace [-p PID] [-- COMMAND] */
	IN_RECORD = 1 << 1,
	IN_REPLAY = 1 << 2,
	IN_INFO = 1 << 3,
	IN_EXPORT = 1 << 4,
	IN_PROBES = 1 << 5,
	IN_DEMO = 1 << 6,	/* demo: the classroom workload, traced live */
	IN_SCENARIO = 1 << 7,	/* demo --scenario NAME: the workload alone */
	IN_CLASSROOM = 1 << 8,	/* demo --scenario classroom: the workload alone */
	IN_LIST = 1 << 9,	/* demo --list */
	IN_LESSON = 1 << 10,	/* demo --lesson NAME: a lesson's workload alone, for tests */
	IN_ANY_DEMO = IN_DEMO | IN_SCENARIO | IN_CLASSROOM | IN_LIST | IN_LESSON,
};

/* what an option needs besides the subcommand */
enum needs {
	NEEDS_NOTHING,
	NEEDS_STATE_VIEW,	/* -i, -n: --summary or --json-state */
	NEEDS_TUI,		/* --theme, --ascii: not with a stream output */
	NEEDS_FILE,		/* --force: a file to overwrite */
	NEEDS_METRICS,		/* --metrics-max: --metrics */
};

#define RULE(o, n, i, w) { .opt = (o), .name = (n), .in = (i), .where = (w) }
#define RULE_IF(o, n, i, w, nd) { .opt = (o), .name = (n), .in = (i), .where = (w), .needs = (nd) }

static const struct option_rule {
	int opt;		/* getopt's value */
	const char *name;	/* as the messages name it */
	unsigned int in;	/* IN_* where it applies */
	const char *where;	/* ... in words */
	enum needs needs;
} option_rules[] = {
	RULE('p', "-p", IN_TRACE | IN_RECORD, "tracing and record"),
	RULE('f', "-f", IN_TRACE | IN_RECORD, "tracing and record"),
	RULE(OPT_JSON, "--json", IN_TRACE | IN_REPLAY | IN_DEMO | IN_PROBES,
	     "tracing, replay, demo and probes (record writes only its file: trace with -w FILE "
	     "to watch while recording)"),
	RULE(OPT_SUMMARY, "--summary", IN_TRACE | IN_REPLAY | IN_DEMO, "tracing, replay and demo"),
	RULE(OPT_JSON_STATE, "--json-state", IN_TRACE | IN_REPLAY | IN_DEMO,
	     "tracing, replay and demo"),
	RULE_IF(OPT_TUI, "--tui", IN_TRACE | IN_REPLAY | IN_DEMO, "tracing, replay and demo",
		NEEDS_TUI),
	RULE(OPT_TEXT, "--text", IN_TRACE | IN_DEMO, "tracing and demo"),
	RULE_IF(OPT_THEME, "--theme", IN_TRACE | IN_REPLAY | IN_DEMO, "the TUI", NEEDS_TUI),
	RULE_IF(OPT_ASCII, "--ascii", IN_TRACE | IN_REPLAY | IN_DEMO, "the TUI", NEEDS_TUI),
	RULE_IF('i', "-i", IN_TRACE | IN_REPLAY | IN_DEMO, "--summary and --json-state",
		NEEDS_STATE_VIEW),
	RULE_IF('n', "-n", IN_TRACE | IN_REPLAY | IN_DEMO, "--summary and --json-state",
		NEEDS_STATE_VIEW),
	RULE('d', "-d", IN_TRACE | IN_RECORD | IN_DEMO | IN_CLASSROOM,
	     "tracing, record, demo and demo --scenario classroom"),
	RULE(OPT_ATTACH, "--attach", IN_TRACE | IN_RECORD | IN_DEMO | IN_PROBES,
	     "tracing, record, demo and probes"),
	RULE(OPT_SNAP_INTERVAL, "--snapshot-interval", IN_TRACE | IN_RECORD | IN_DEMO,
	     "tracing, record and demo"),
	RULE(OPT_RING_SIZE, "--ring-size", IN_TRACE | IN_RECORD | IN_DEMO,
	     "tracing, record and demo"),
	RULE('w', "-w", IN_TRACE | IN_DEMO, "tracing and demo (record writes its file with -o)"),
	RULE('o', "-o", IN_RECORD | IN_EXPORT,
	     "record and export (to record while tracing, use -w FILE)"),
	RULE_IF(OPT_FORCE, "--force",
		IN_TRACE | IN_RECORD | IN_EXPORT | IN_DEMO | IN_SCENARIO | IN_LESSON,
	        "a file written with -o, -w or --truth", NEEDS_FILE),
	RULE(OPT_FORMAT, "--format", IN_EXPORT, "export"),
	RULE(OPT_SITES, "--sites", IN_TRACE | IN_RECORD | IN_DEMO | IN_PROBES,
	     "tracing, record, demo and probes"),
	RULE(OPT_VMLINUX, "--vmlinux", IN_TRACE | IN_RECORD | IN_DEMO | IN_PROBES,
	     "tracing, record, demo, probes and sites"),
	RULE(OPT_NO_CACHE, "--no-cache", IN_TRACE | IN_RECORD | IN_DEMO | IN_PROBES,
	     "tracing, record, demo and probes"),
	RULE(OPT_DEBUGINFOD, "--debuginfod", IN_TRACE | IN_RECORD | IN_DEMO | IN_PROBES,
	     "tracing, record, demo, probes and sites"),
	RULE(OPT_SCENARIO, "--scenario", IN_SCENARIO | IN_CLASSROOM, "demo (without --list)"),
	RULE(OPT_TRUTH, "--truth", IN_SCENARIO | IN_LESSON, "demo --scenario NAME, not classroom"),
	RULE(OPT_GATE, "--gate", IN_SCENARIO | IN_LESSON, "demo --scenario NAME, not classroom"),
	RULE(OPT_SCALE, "--scale", IN_SCENARIO, "demo --scenario NAME, not classroom"),
	RULE(OPT_LIST, "--list", IN_LIST, "demo"),
	RULE(OPT_RATE, "--rate", IN_DEMO | IN_CLASSROOM, "demo and demo --scenario classroom"),
	RULE(OPT_LESSON, "--lesson", IN_LESSON, "demo"),
	RULE(OPT_DETECT, "--detect", IN_TRACE | IN_REPLAY | IN_DEMO, "tracing, replay and demo"),
	RULE(OPT_LANG, "--lang", IN_TRACE | IN_REPLAY | IN_DEMO | IN_PROBES,
	     "tracing, replay, demo and probes"),
	RULE(OPT_METRICS, "--metrics", IN_TRACE | IN_RECORD | IN_REPLAY | IN_DEMO,
	     "tracing, record, replay and demo"),
	RULE_IF(OPT_METRICS_MAX, "--metrics-max", IN_TRACE | IN_RECORD | IN_REPLAY | IN_DEMO,
		"--metrics", NEEDS_METRICS),
};

#define NRULES (sizeof(option_rules) / sizeof(option_rules[0]))

static void mark_given(struct cli *c, int opt)
{
	for (size_t i = 0; i < NRULES; i++)
		if (option_rules[i].opt == opt)
			c->given |= 1ULL << i;
}

/* Where are we: sub is the subcommand (NULL: tracing). */
static unsigned int context_of(const struct cli *c, const char *sub, const char **label)
{
	static const struct { const char *sub; unsigned int in; } subs[] = {
		{ "record", IN_RECORD }, { "replay", IN_REPLAY }, { "info", IN_INFO },
		{ "export", IN_EXPORT }, { "probes", IN_PROBES },
	};

	*label = sub;
	if (!sub)
		return IN_TRACE;
	if (!strcmp(sub, "demo")) {
		if (c->list) {
			*label = "demo --list";
			return IN_LIST;
		}
		if (c->lesson) {
			*label = "demo --lesson";
			return IN_LESSON;
		}
		if (!c->scenario)
			return IN_DEMO;
		*label = "demo --scenario";
		return strcmp(c->scenario, "classroom") ? IN_SCENARIO : IN_CLASSROOM;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(sub, subs[i].sub))
			return subs[i].in;
	return IN_TRACE;
}

/* the stream output chosen, for "--theme applies to the TUI, not to --json" */
static const char *stream_output(const struct cli *c)
{
	return c->json ? "--json" : c->summary ? "--summary" : c->json_state ? "--json-state" :
	       c->text ? "--text" : NULL;
}

/*
 * Every option given must do something where it is given.  One line and
 * exit 2 otherwise: "-n applies to --summary and --json-state".
 */
static int check_options(const struct cli *c, const char *sub)
{
	const char *label;
	unsigned int in = context_of(c, sub, &label);

	for (size_t i = 0; i < NRULES; i++) {
		const struct option_rule *r = &option_rules[i];
		bool ok = true;

		if (!(c->given & (1ULL << i)))
			continue;
		if (!(r->in & in)) {
			et_err("%s%s%s applies to %s", label ? label : "", label ? ": " : "",
			       r->name, r->where);
			return -1;
		}
		switch (r->needs) {
		case NEEDS_NOTHING:
			break;
		case NEEDS_STATE_VIEW:
			ok = c->summary || c->json_state;
			break;
		case NEEDS_TUI:
			if (stream_output(c) && r->opt == OPT_TUI) {
				et_err("--tui and %s exclude each other", stream_output(c));
				return -1;
			}
			if (stream_output(c)) {
				et_err("%s applies to the TUI, not to %s", r->name, stream_output(c));
				return -1;
			}
			break;
		case NEEDS_METRICS:
			ok = c->metrics;
			break;
		case NEEDS_FILE:
			ok = c->write || c->truth || ((in & (IN_RECORD | IN_EXPORT)) && c->output &&
						      strcmp(c->output, "-"));
			break;
		}
		if (!ok) {
			et_err("%s applies to %s", r->name, r->where);
			return -1;
		}
	}
	return 0;
}

/*
 * A number of seconds (or a rate): finite and within [min, max], which
 * the error states; "nan", "inf" and 1e20 are refused (-d nan never ended).
 */
static int parse_double(const char *what, const char *opt, const char *arg, double min,
			double max, const char *unit, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max) {
		et_err("invalid %s '%s': %s takes %.15g to %.15g%s%s", what, arg, opt, min, max,
		       unit[0] ? " " : "", unit);
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
	c->s.events_ring_bytes = 4ul << 20;
	c->scale = 1;
	c->interval = 1.0;
	detect_defaults(&c->det);
	c->metrics_max = METRICS_DEFAULT_MAX;
	while ((opt = getopt_long(argc, argv, permute ? "p:fd:i:n:w:o:vVh" : "+p:fd:i:n:w:o:vVh",
				  long_opts, NULL)) != -1) {
		mark_given(c, opt);
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
			if (parse_double("duration", "-d", optarg, 0.001, MAX_DURATION_S, "seconds",
					 &c->s.duration))
				return -1;
			break;
		case OPT_ATTACH:
			if (plan_mode_parse(optarg, &c->s.mode)) {
				et_err("invalid --attach '%s': use auto, fentry, kprobe, tracepoint "
				       "or inline",
				       optarg);
				return -1;
			}
			break;
		case OPT_SNAP_INTERVAL:
			if (parse_double("snapshot interval", "--snapshot-interval", optarg, 0.01,
					 MAX_SNAP_INTERVAL_S, "seconds", &c->s.snapshot_interval))
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
			help_version(stdout);
			exit(0);
		case 'h':
			help_print(help_sub, stdout);
			exit(0);
		case OPT_SCENARIO:
			c->scenario = optarg;
			break;
		case OPT_TRUTH:
			c->truth = optarg;
			break;
		case OPT_LESSON:
			c->lesson = optarg;
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
			if (parse_double("interval", "-i", optarg, 0.05, MAX_INTERVAL_S, "seconds",
					 &c->interval))
				return -1;
			break;
		case 'n':
			if (parse_long("count", optarg, 1, LONG_MAX, &c->count))
				return -1;
			break;
		case OPT_RATE:
			if (parse_double("rate", "--rate", optarg, 0.05, 20, "", &c->rate))
				return -1;
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
		case OPT_SITES:
			c->s.sites_file = optarg;
			break;
		case OPT_VMLINUX:
			if (!*optarg) {
				et_err("--vmlinux needs a file name");
				return -1;
			}
			c->s.vmlinux = optarg;
			break;
		case OPT_NO_CACHE:
			c->s.no_cache = true;
			break;
		case OPT_DEBUGINFOD:
			c->s.debuginfod = true;
			break;
		case OPT_METRICS: {
			char err[256];

			if (metrics_parse_addr(optarg, &c->maddr, err, sizeof(err))) {
				et_err("%s", err);
				return -1;
			}
			c->metrics = true;
			break;
		}
		case OPT_METRICS_MAX:
			if (parse_long("--metrics-max", optarg, 1, METRICS_MAX_MAX, &v))
				return -1;
			c->metrics_max = v;
			break;
		case OPT_LANG:
			if (et_lang_set(optarg)) {
				et_err("invalid --lang '%s': use en or ko", optarg);
				return -1;
			}
			break;
		case OPT_DETECT: {
			char err[160];

			if (detect_parse(&c->det, optarg, err, sizeof(err))) {
				et_err("%s", err);
				return -1;
			}
			/* every model of the session starts with them */
			detect_configure(&c->det);
			break;
		}
		default:
			fprintf(stderr, "Try 'epolltrace %s%s--help'.\n", help_sub ? help_sub : "",
				help_sub ? " " : "");
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
		.sites_file = c->s.sites_file,
		.vmlinux = c->s.vmlinux,
		.no_cache = c->s.no_cache,
		.debuginfod = c->s.debuginfod,
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
		et_err("%s%s", p.checked ? "no full mode works: " : "not checked: needs root; ",
		       p.fix);
	plan_free(&p);
	return err ? 1 : 0;
}

static int cmd_demo_live(struct cli *c);

/*
 * demo --lesson NAME (hidden, for tests): every step in order, no driver,
 * the truth to --truth; with --gate, held after each step (lesson_gate.h)
 */
static int cmd_demo_lesson(struct cli *c)
{
	const struct lesson *l = lesson_find(c->lesson);
	struct outfile truth;
	FILE *f = NULL;
	int ret;

	if (!l) {
		et_err("demo: unknown lesson '%s'", c->lesson);
		return 2;
	}
	if (c->truth) {
		if (outfile_open(&truth, c->truth, c->force, NULL))
			return 1;
		f = outfile_stream(&truth);
		if (!f || outfile_commit(&truth)) {
			outfile_close(&truth);
			return 1;
		}
	}
	ret = c->gate ? lesson_run_gated(l, f) : lesson_run(l, -1, f);
	if (f && outfile_finish(&truth))
		ret = 1;
	return ret ? 1 : 0;
}

static int cmd_demo(struct cli *c)
{
	struct workload_opts wo = { .scenario = c->scenario, .gate = c->gate, .scale = c->scale };
	struct outfile truth;
	int ret;

	if (c->lesson)
		return cmd_demo_lesson(c);
	if (c->list) {
		int w = (int)strlen("classroom");

		/* one column of names, as wide as the longest */
		for (const char *const *n = workload_scenarios(); *n; n++)
			w = (int)strlen(*n) > w ? (int)strlen(*n) : w;
		for (const char *const *n = workload_scenarios(); *n; n++)
			printf("%-*s  %s\n", w, *n, workload_describe(*n));
		printf("%-*s  %s\n", w, "classroom", CLASSROOM_DESCRIPTION);
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
		/* tests read the truth while the workload runs: it goes in place at once */
		if (outfile_open(&truth, c->truth, c->force, NULL))
			return 1;
		wo.truth = outfile_stream(&truth);
		if (!wo.truth || outfile_commit(&truth)) {
			outfile_close(&truth);
			return 1;
		}
	}
	ret = workload_run(&wo);
	if (wo.truth && outfile_finish(&truth))
		ret = 1;
	return ret ? 1 : 0;
}

static int finish_recording(struct rec_writer *w, const char *path, bool report)
{
	__u64 bytes, events;
	int ret;

	rec_writer_stats(w, &bytes, &events);
	ret = rec_writer_close(w);	/* 1: nothing recorded, an old file left as it was */
	if (report && !ret)
		et_info("recorded %llu events in %llu bytes (%.1f bytes/event) to %s",
			(unsigned long long)events, (unsigned long long)bytes,
			events ? (double)bytes / events : 0.0, path);
	return ret < 0 ? 1 : 0;
}

/* epolltrace record -o FILE: no screen, no stream; the file only */
static int cmd_record(struct cli *c, char **cmd)
{
	struct et_sink *msink = NULL, *sink;
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
	if (c->metrics && !(msink = metrics_new(&c->maddr, c->metrics_max)))
		return 1;
	w = rec_writer_open(c->output, c->force);
	if (!w) {
		metrics_free(msink);
		return 1;
	}
	sink = msink ? tee_new(rec_writer_sink(w), msink) : rec_writer_sink(w);
	if (!sink) {
		et_err("out of memory");
		ret = 1;
	} else {
		c->s.service = metrics_service(msink);
		ret = session_run(&c->s, sink);
	}
	if (finish_recording(w, c->output, true))
		ret = 1;
	if (msink) {
		tee_free(sink);
		metrics_free(msink);
	}
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
	struct et_sink *sink, *guard = NULL, *msink = NULL, *mtee = NULL;
	int ret;

	if (c->json + c->summary + c->json_state > 1) {
		et_err("--json, --summary and --json-state exclude each other");
		return 2;
	}
	if (!c->json && !c->summary && !c->json_state) {
		char why[128];

		if (c->metrics) {
			/* the TUI's replay seeks back and forth: no stream to count */
			et_err("%s", _("replay: --metrics needs --json, --summary or --json-state"));
			return 2;
		}
		if (!tui_possible(why, sizeof(why))) {
			et_err("replay: %s; headless, use --json, --summary or --json-state", why);
			return 2;
		}
		r = open_recording(path);
		if (!r)
			return 1;
		/* a lesson's recording replays as the lesson, stop by stop, its keys */
		if (rec_header(r)->lesson[0] || tui_lesson_in_recording(r)) {
			struct tui_lesson_opts lo = { .tui = &c->tui_o };

			ret = tui_lesson_replay(r, &lo);
		} else {
			ret = tui_replay(r, &c->tui_o);
		}
		rec_close(r);
		return ret;
	}
	if (c->metrics && !(msink = metrics_new(&c->maddr, c->metrics_max)))
		return 1;
	r = open_recording(path);
	if (!r) {
		metrics_free(msink);
		return 1;
	}
	if (c->summary || c->json_state)
		sink = state_view_new(stdout, c->summary ? STATE_SUMMARY : STATE_JSON, c->interval,
				      c->count);
	else
		sink = out_json_new(stdout);
	/* a lesson cut short is an error, not only a warning */
	if (sink && rec_header(r)->lesson[0] && !(guard = learn_guard_new(sink))) {
		if (c->summary || c->json_state)
			state_view_free(sink);
		else
			out_free(sink);
		sink = NULL;
	}
	if (sink && msink && !(mtee = tee_new(guard ? guard : sink, msink))) {
		if (guard)
			learn_guard_finish(guard, path);
		if (c->summary || c->json_state)
			state_view_free(sink);
		else
			out_free(sink);
		sink = NULL;
	}
	if (!sink) {
		et_err("out of memory");
		rec_close(r);
		metrics_free(msink);
		return 1;
	}
	ro.service = metrics_service(msink);
	ret = replay_feed(r, mtee ? mtee : guard ? guard : sink, &ro);
	if (guard && learn_guard_finish(guard, path))
		ret = 1;
	if (msink) {
		/* the final figures stay served until interrupted (help: replay --metrics) */
		fflush(stdout);
		et_info(_("replay ended: --metrics %s serves its final figures until interrupted"),
			c->maddr.text);
		metrics_linger(msink);
		tee_free(mtee);
		metrics_free(msink);
	}
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
	struct outfile of = { .fd = -1 };
	bool chrome, to_file = c->output && strcmp(c->output, "-");
	struct rec_reader *r;
	struct et_sink *sink;
	struct stat in;
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
	/* written to a temporary file, renamed at the end: never over the input */
	if (to_file && (outfile_open(&of, c->output, c->force, rec_fstat(r, &in) ? NULL : &in) ||
			!(out = outfile_stream(&of)))) {
		outfile_close(&of);
		rec_close(r);
		return 1;
	}
	sink = chrome ? export_chrome_new(out, rec_header(r)) : out_json_new(out);
	if (!sink) {
		et_err("out of memory");
		ret = 1;
		goto out;
	}
	/* a corrupt block ends the export with an error; what came before is kept,
	 * as replay --json keeps it */
	ret = replay_feed(r, sink, &ro);
	if (chrome) {
		export_chrome_finish(sink, rec_header(r));
		export_chrome_free(sink);
	} else {
		out_free(sink);
	}
out:
	rec_close(r);
	if (to_file) {
		if (sink ? outfile_finish(&of) : outfile_close(&of))
			ret = 1;
	} else if (fflush(out) || ferror(out)) {
		et_err("writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}

enum out_kind { OUT_TEXT, OUT_JSON, OUT_STATE, OUT_TUI };

static int cmd_trace(struct cli *c, char **cmd)
{
	struct rec_writer *rec = NULL;
	struct et_sink *sink, *view, *msink = NULL, *shown = NULL;
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
	/* before the screen is taken: a port in use is said on the terminal */
	if (c->metrics && !(msink = metrics_new(&c->maddr, c->metrics_max)))
		return 1;
	if (c->write) {
		rec = rec_writer_open(c->write, c->force);
		if (!rec) {
			metrics_free(msink);
			return 1;
		}
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
	/* the endpoint after the view: it counts what the view was given */
	shown = view && msink ? tee_new(view, msink) : view;
	sink = shown && rec ? tee_new(rec_writer_sink(rec), shown) : shown;
	if (!sink) {
		et_err("out of memory");
		ret = 1;
		goto out;
	}
	c->s.service = metrics_service(msink);
	ret = session_run(&c->s, sink);
out:
	if (sink != shown)
		tee_free(sink);
	if (shown != view)
		tee_free(shown);
	metrics_free(msink);
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

	/*
	 * The model's arrays grow by doubling to megabytes (100k watched
	 * fds).  glibc's default threshold rises with each large free, so
	 * those growths land in the brk heap and leave its holes resident;
	 * a fixed threshold keeps every block over 256 KiB in its own
	 * mapping, grown by mremap and unmapped when freed (make bench,
	 * footprint: --summary at 100k fds 33.8 -> 29.5 MB).
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* first: the locale's language and character set (lang.c) */
	et_lang_init();
	if (argc > 1 && !strcmp(argv[1], "help"))
		return help_command(argc - 2, argv + 2);
	/* reads a file, loads no BPF: its own options (sites_cmd.c) */
	if (argc > 1 && !strcmp(argv[1], "sites"))
		return sites_command(argc - 1, argv + 1);
	/* lessons: their own options (cli/workloads/learn.c) */
	if (argc > 1 && !strcmp(argv[1], "learn"))
		return learn_command(argc - 1, argv + 1);
	for (size_t i = 0; argc > 1 && i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (!strcmp(argv[1], subs[i])) {
			sub = argv[1];
			argc--;
			argv++;
			break;
		}
	}
	help_sub = sub;
	takes_file = sub && (!strcmp(sub, "replay") || !strcmp(sub, "info") ||
			     !strcmp(sub, "export"));
	if (parse(argc, argv, &c, takes_file) || check_options(&c, sub))
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
