// SPDX-License-Identifier: GPL-2.0
/*
 * The usage texts: `epolltrace --help`, `epolltrace SUBCOMMAND --help`,
 * `epolltrace help [SUBCOMMAND]` and `--version`.  Each text fits 80
 * columns and ends with examples; the man page says the same at length.
 * tests/manual.sh checks that every option of main.c's table is named in
 * one of these texts and in the man page.
 */
#include <string.h>
#include "help.h"
#include "log.h"

#ifndef EPOLLTRACE_VERSION
#define EPOLLTRACE_VERSION "unknown"
#endif

/* the trace options, shared by the default command, record and demo */
#define TRACE_TARGETS \
"What to trace (without -p or a COMMAND: every process but epolltrace):\n" \
"  -p, --pid PID[,PID...]  trace these processes, threads included; repeatable;\n" \
"                          a list may be split by commas or spaces (at most 64)\n" \
"  -f, --follow            also trace the children the targets fork, and the\n" \
"                          descendants they already have\n" \
"  -- COMMAND [ARG...]     start COMMAND, trace it from its first instruction,\n" \
"                          and exit with its exit status (127: cannot be run)\n"

#define SESSION_OPTS \
"  -d, --duration S        stop after S seconds (else at Ctrl-C, or when every\n" \
"                          target has exited)\n" \
"      --attach MODE       auto (default), fentry, kprobe, tracepoint, or inline\n" \
"                          (auto, and ep_insert, ep_poll and ep_send_events at\n" \
"                          their inlined sites required).  Auto attaches them\n" \
"                          too where kprobes and the kernel's debug info exist\n" \
"      --sites FILE        the inlined sites from `epolltrace sites -o FILE`\n" \
"                          (same kernel build); turns on the inline rung\n" \
"      --vmlinux FILE      the running kernel's vmlinux with debug info (else\n" \
"                          $EPOLLTRACE_VMLINUX, else the places `epolltrace\n" \
"                          sites --help` lists); another build's is refused\n" \
"      --no-cache          neither read nor write the sites cache\n" \
"                          ($EPOLLTRACE_CACHE, else /var/cache/epolltrace:\n" \
"                          sites/BUILD-ID, made 0700/0600 when resolved)\n" \
"      --debuginfod        when no debug info is found here, ask the servers of\n" \
"                          $DEBUGINFOD_URLS (also when that is set)\n" \
"      --snapshot-interval S  seconds between snapshots of the kernel (default 1)\n" \
"      --ring-size MB      event ring buffer, MiB, rounded up to a power of 2\n" \
"                          (default 4)\n" \
"  -v, --verbose           more diagnostics on stderr (twice: libbpf's log)\n"

#define VIEW_OPTS \
"How to show it (one of them; default: --tui on a terminal, else --text):\n" \
"      --tui               the full-screen view (q quits, ? for the keys)\n" \
"      --text              one line per event\n" \
"      --json              JSON Lines, one object per event; the first is the\n" \
"                          session (the attach plan in force)\n" \
"      --summary           a table of every instance each interval (top-style)\n" \
"      --json-state        the whole model as one JSON object each interval\n" \
"  -i, --interval S        refresh interval of --summary/--json-state (default 1)\n" \
"  -n, --count N           stop after N refreshes of --summary/--json-state\n" \
"      --theme NAME        TUI colours: dark (default), light or mono\n" \
"      --ascii             TUI boxes in ASCII even on a UTF-8 terminal\n" \
"      --detect KEY=VALUE[,...]  detector thresholds, or NAME=off (repeatable;\n" \
"                          off alone: every detector off).  Keys:\n" \
"                          herd_waiters, excl_share_pct, excl_min_wakeups,\n" \
"                          lt_spin_waits, lt_spin_window, sat_pct,\n" \
"                          sat_min_waits, busy_rate, busy_empty_pct, zero_rate,\n" \
"                          residency (docs/diagnosis.md)\n" \
"      --lang LANG         the words shown: en or ko (default: the locale's)\n"

/* the metrics endpoint, in every mode that feeds a model (docs/metrics.md) */
#define METRICS_OPTS \
"      --metrics [ADDR:]PORT  serve the instances' counters, gauges, latency\n" \
"                          histograms and findings at http://ADDR:PORT/metrics\n" \
"                          (OpenMetrics, for Prometheus); ADDR 127.0.0.1 unless\n" \
"                          given (another address is served with a warning)\n" \
"      --metrics-max N     instances with series of their own (default 64, at\n" \
"                          most 4096); the rest are summed as epfd=\"other\"\n"

static const char help_trace[] =
"Usage: epolltrace [OPTIONS] [-p PID[,PID...]]... [-- COMMAND [ARG...]]\n"
"       epolltrace SUBCOMMAND [OPTIONS] [ARG...]\n"
"\n"
"Watch what the kernel's epoll machinery does inside processes, live: every\n"
"epoll instance, its interest set, its ready list, the threads asleep in\n"
"epoll_wait, and the events that move them (epoll_ctl, ep_poll_callback,\n"
"waits, sleeps, wakeups, events delivered).  Needs root.\n"
"\n"
"Subcommands (epolltrace help SUBCOMMAND, or SUBCOMMAND --help, for more):\n"
"  (none)    trace live: the TUI on a terminal, else one line per event\n"
"  demo      watch a built-in workload in the TUI; scripted test workloads\n"
"  learn     lessons: epoll's ideas happening in the kernel, step by step\n"
"  probes    what this kernel lets epolltrace see, and why\n"
"  sites     where ep_insert, ep_poll, ep_send_events sit, from debug info\n"
"  record    trace into a recording file, with no screen\n"
"  replay    show a recording again (TUI, --json, --summary, --json-state)\n"
"  info      a recording's header, events, losses and size\n"
"  export    a recording as JSON Lines or as a Chrome/Perfetto trace\n"
"  help      these texts\n"
"\n"
TRACE_TARGETS
"\n"
VIEW_OPTS
"  -w, --write FILE        also record the session to FILE (any view)\n"
"      --force             with -w: overwrite an existing FILE\n"
METRICS_OPTS
"\n"
"Session:\n"
SESSION_OPTS
"  -h, --help              this help\n"
"  -V, --version           the version\n"
"\n"
"Examples:\n"
"  epolltrace demo                          a built-in workload, in the TUI\n"
"  epolltrace -p $(pidof redis-server)      redis's epoll instances, live\n"
"  epolltrace -p \"$(pidof nginx)\" -f        nginx's master and its workers\n"
"  epolltrace probes                        what this kernel lets us see\n"
"  epolltrace --json -d 10 -p 1234 > t.jsonl  ten seconds of events as JSON\n"
"  epolltrace --summary -- ./server --port 8080  a command, from its start\n"
"  epolltrace --summary --metrics 9464 -p 1234  and for Prometheus, on :9464\n"
"\n"
"See epolltrace(8) for the whole manual.\n";

static const char help_demo[] =
"Usage: epolltrace demo [VIEW OPTIONS] [-d S] [--rate X]\n"
"       epolltrace demo --list\n"
"       epolltrace demo --scenario NAME [--truth FILE [--force]] [--gate]\n"
"                       [--scale N]\n"
"       epolltrace demo --scenario classroom [-d S] [--rate X]\n"
"       epolltrace demo --lesson NAME [--truth FILE [--force]] [--gate]\n"
"\n"
"demo alone starts the classroom workload (an echo server with three workers\n"
"and three clients, and a forked pipeline process) as a traced child and shows\n"
"it in the TUI (piped: one line per event).  Press p, then Space, to apply the\n"
"events one at a time with an explanation of each.  It takes every option of\n"
"the default command (see epolltrace --help) but -p and -- COMMAND.\n"
"\n"
"With --scenario, demo runs a scripted workload untraced, for a tracer to\n"
"watch: it exercises epoll in known ways and checks the kernel's answers.\n"
"\n"
"Options:\n"
"      --list              the scenarios, one a line\n"
"      --scenario NAME     run workload NAME (mixed, threads, lt-et, oneshot,\n"
"                          exclusive, close-watched, nested, thread-exit,\n"
"                          ovflist, sleepers, sharer, rbtree, all, classroom;\n"
"                          diag-DETECTOR and diag-DETECTOR-ok: --list)\n"
"      --truth FILE        write the ground truth as JSON Lines to FILE\n"
"      --force             with --truth: overwrite an existing FILE\n"
"      --gate              stop at \"ready\" and at \"done\" until SIGUSR1\n"
"                          (ovflist: also at \"hold\", its copy-out held)\n"
"      --scale N           repeat the scenario's work N times (1 to 1000)\n"
"      --lesson NAME       run lesson NAME's workload alone, every step in turn\n"
"                          (for tests; with --gate: held after each step)\n"
"      --rate X            classroom: speed up (X > 1) or slow down (0.05 to 20)\n"
"  -d, --duration S        stop after S seconds\n"
"\n"
"Examples:\n"
"  epolltrace demo                          watch the classroom in the TUI\n"
"  epolltrace demo --rate 0.5 --theme light slower, for a projector\n"
"  epolltrace demo --lang ko                the classroom, in Korean\n"
"  epolltrace demo --text -d 5              five seconds as text\n"
"  epolltrace demo --list                   the scripted workloads\n"
"  epolltrace demo --scenario threads --gate &  epolltrace -p $!\n";

static const char help_learn[] =
"Usage: epolltrace learn\n"
"       epolltrace learn NAME [--json | --record FILE [--force]] [--pace S]\n"
"                        [--attach MODE]\n"
"\n"
"Alone, learn lists the lessons: the name, then the title.  With a NAME it\n"
"runs that lesson: a scripted workload, traced, that stops before and after\n"
"every step.  Each stop narrates the step in the kernel's terms (the function,\n"
"the structure), and after a step a snapshot shows rbr, rdllist and wq as the\n"
"kernel holds them.  Needs root; a lesson's recording replays without it.\n"
"\n"
"Keys: Space or Right: the next stop; Left: the previous; r: restart;\n"
"a: auto-play; q: quit.\n"
"\n"
"Options:\n"
"      --json              headless: every stop in turn, as JSON Lines (the\n"
"                          lesson records among the events; docs/json.md)\n"
"      --record FILE       also record the lesson (the narration in it); alone\n"
"                          off a terminal, every stop in turn\n"
"      --force             with --record: overwrite an existing FILE\n"
"      --pace S            auto-play: seconds per stop (0.1 to 3600; default 2)\n"
"      --attach MODE       auto (default), fentry, kprobe, tracepoint or inline\n"
"      --sites FILE, --vmlinux FILE  as for tracing (epolltrace --help)\n"
"      --lang en|ko        the narration's language (default: the locale's)\n"
"  -v, --verbose           more diagnostics on stderr\n"
"\n"
"Examples:\n"
"  epolltrace learn                         the lessons\n"
"  epolltrace learn wakeup                  sleep and wakeup, step by step\n"
"  epolltrace learn lt-et --record lt.etr   keep it; then, without root:\n"
"  epolltrace replay lt.etr                 the same lesson, from the file\n"
"  epolltrace learn oneshot --json | jq -c 'select(.type==\"lesson\")'\n";

static const char help_probes[] =
"Usage: epolltrace probes [--json] [--attach MODE] [--sites FILE]\n"
"                         [--vmlinux FILE] [--no-cache] [--debuginfod] [-v]\n"
"\n"
"Print the attach plan for the running kernel: for each hook (create, ctl,\n"
"close, callback, wait, send_events, sleep, lifetime, ep_insert, ep_poll,\n"
"ep_send_events, snapshot) the attach\n"
"point that works here, its fidelity (exact, derived or sampled), every rung\n"
"that was rejected and why, and what each view can show.  Exits 0 when a full\n"
"mode works, else 1 with the fix (privileges, BTF, tracefs, the forced mode).\n"
"Unprivileged, it says what it could not check.\n"
"\n"
"Options:\n"
"      --json              the same report as one JSON object\n"
"      --attach MODE       the plan with MODE forced: auto (default), fentry,\n"
"                          kprobe, tracepoint or inline\n"
"      --sites FILE        the inline rung's sites (`epolltrace sites -o FILE`)\n"
"      --vmlinux FILE      the running kernel's debug info, for the inline rung\n"
"      --no-cache          neither read nor write the sites cache\n"
"      --debuginfod        ask $DEBUGINFOD_URLS for the debug info if not here\n"
"      --lang LANG         en or ko (the report itself is English for now)\n"
"  -v, --verbose           more diagnostics (twice: libbpf's log)\n"
"\n"
"Examples:\n"
"  epolltrace probes                        what this kernel lets us see\n"
"  epolltrace probes --attach=kprobe        would kprobes work here?\n"
"  epolltrace probes --json | jq .views     the views' fidelity, as JSON\n";

static const char help_sites[] =
"Usage: epolltrace sites [--vmlinux FILE | --build-id HEX] [--debuginfod]\n"
"                        [-o FILE [--force]] [--json] [-v]\n"
"\n"
"Read the kernel's debug info (DWARF, with elfutils) and print every site of\n"
"ep_insert, ep_poll, ep_send_events and ep_done_scan: each inlined copy and\n"
"out-of-line entry as SYMBOL+OFFSET, and where each argument lives there (a\n"
"register, a stack slot, a constant, or optimized out).  Does not need root\n"
"and loads nothing into the kernel.  Without --vmlinux, the debug info of the\n"
"running kernel is searched for ($EPOLLTRACE_VMLINUX, then\n"
"/usr/lib/debug/.build-id/, /usr/lib/debug/boot/vmlinux-R,\n"
"/usr/lib/debug/lib/modules/R/vmlinux, /lib/modules/R/build/vmlinux,\n"
"/boot/vmlinux-R) and a file is taken only if its build-id is the running\n"
"kernel's; if none is, the message names the package to install, and with\n"
"--debuginfod or $DEBUGINFOD_URLS set the debuginfod servers are asked for it\n"
"(elfutils' libdebuginfod).  Exits 0\n"
"when ep_insert, ep_poll and ep_send_events each have a usable site, else 1.\n"
"\n"
"Options:\n"
"      --vmlinux FILE      read FILE, a vmlinux with debug info, of any build\n"
"                          (its build-id goes into the report and the file)\n"
"      --build-id HEX      the vmlinux of that build, from the debuginfod\n"
"                          servers of $DEBUGINFOD_URLS: sites for another\n"
"                          machine (its build-id: `epolltrace probes`)\n"
"      --debuginfod        ask them when no debug info is found here\n"
"  -o, --output FILE       also write the sites file (docs/internals.md), 0600\n"
"      --force             replace FILE if it exists\n"
"      --json              the report as one JSON object\n"
"  -v, --verbose           more diagnostics (the time to read the DWARF)\n"
"\n"
"Examples:\n"
"  epolltrace sites                         this kernel's sites\n"
"  epolltrace sites --json | jq '.sites[] | select(.usable)'\n"
"  epolltrace sites --vmlinux ./vmlinux-6.12.117+deb12-cloud-amd64 -o 6.12.sites\n"
"                                    a sites file for machines of that build\n";

static const char help_record[] =
"Usage: epolltrace record -o FILE [--force] [OPTIONS] [-p PID[,PID...]]...\n"
"                         [-- COMMAND [ARG...]]\n"
"\n"
"Trace as the default command does, but show nothing: write the session to a\n"
"recording FILE (mode 0600, compressed: about 10 bytes an event) that replay,\n"
"info and export read later, on any machine, without root.  At the end it\n"
"says on stderr how many events and bytes it wrote.  To watch while\n"
"recording, use epolltrace -w FILE instead.\n"
"\n"
"Options:\n"
"  -o, --output FILE       the recording to write (required)\n"
"      --force             overwrite an existing FILE (never a symbolic link)\n"
METRICS_OPTS
"\n"
TRACE_TARGETS
"\n"
"Session:\n"
SESSION_OPTS
"\n"
"Examples:\n"
"  epolltrace record -p $(pidof redis-server) -o redis.etr -d 30\n"
"  epolltrace record -o demo.etr -f -- epolltrace demo --scenario all\n"
"  epolltrace replay redis.etr              then look at it in the TUI\n";

static const char help_replay[] =
"Usage: epolltrace replay FILE [--theme NAME] [--ascii]\n"
"       epolltrace replay FILE --json|--summary|--json-state [-i S] [-n N]\n"
"                         [--metrics [ADDR:]PORT [--metrics-max N]]\n"
"\n"
"Show a recording again through the same model and views as the live\n"
"session, without root or BPF.  Without a view option it opens the TUI on a\n"
"terminal: + and - change the speed, p pauses, Space steps one event, [ and ]\n"
"jump 10 s, : seeks to a time or to an event (#N), q quits.  With a view\n"
"option it prints what the live session printed.\n"
"\n"
"Options:\n"
"      --json              JSON Lines, as epolltrace --json printed them\n"
"      --summary           a table of every instance each interval\n"
"      --json-state        the whole model as one JSON object each interval\n"
"  -i, --interval S        refresh interval (default 1; give the live one to\n"
"                          see the live refreshes)\n"
"  -n, --count N           stop after N refreshes\n"
"      --theme NAME        TUI colours: dark (default), light or mono\n"
"      --ascii             TUI boxes in ASCII\n"
"      --detect KEY=VALUE[,...]  detector thresholds, or NAME=off (repeatable;\n"
"                          off alone: every detector off).  Keys:\n"
"                          herd_waiters, excl_share_pct, excl_min_wakeups,\n"
"                          lt_spin_waits, lt_spin_window, sat_pct,\n"
"                          sat_min_waits, busy_rate, busy_empty_pct, zero_rate,\n"
"                          residency (docs/diagnosis.md)\n"
"      --lang LANG         the words shown: en or ko (default: the locale's)\n"
"      --metrics [ADDR:]PORT  with --json, --summary or --json-state: serve\n"
"                          the model's figures as the tracing option does,\n"
"                          and after the end keep serving the final ones\n"
"                          until interrupted (Ctrl-C), for a scrape to read\n"
"      --metrics-max N     instances with series of their own (default 64)\n"
"\n"
"Examples:\n"
"  epolltrace replay redis.etr              the TUI, from the start, at x1\n"
"  epolltrace replay redis.etr --summary    the tables, as fast as it can\n"
"  epolltrace replay redis.etr --json-state -n 1  the first state\n";

static const char help_info[] =
"Usage: epolltrace info FILE\n"
"\n"
"Print a recording's header (the version that wrote it, the kernel and\n"
"architecture, the attach plan with each hook's fidelity, the start time, the\n"
"targets), its duration, its events by type, the losses the session\n"
"reported, its size per event, and whether it ends with the session's end or\n"
"was cut off.  Exits 1 on a damaged file, naming the offset.\n"
"\n"
"Examples:\n"
"  epolltrace info redis.etr\n"
"  epolltrace info redis.etr | grep complete\n";

static const char help_export[] =
"Usage: epolltrace export FILE --format jsonl|chrome [-o OUT [--force]]\n"
"\n"
"Convert a recording: jsonl is the stream epolltrace --json printed; chrome is\n"
"Trace Event Format JSON for ui.perfetto.dev or chrome://tracing (a track per\n"
"thread with its waits, sleeps and wakeups; callbacks and epoll_ctl as\n"
"instants; watched and ready counters per instance).\n"
"\n"
"Options:\n"
"      --format F          jsonl or chrome (required)\n"
"  -o, --output OUT        write to OUT (mode 0600; default: stdout); never\n"
"                          the recording itself, never a symbolic link\n"
"      --force             overwrite an existing OUT\n"
"\n"
"Examples:\n"
"  epolltrace export redis.etr --format chrome -o redis.json\n"
"  epolltrace export redis.etr --format jsonl | jq -c 'select(.type==\"ctl\")'\n";

static const char help_help[] =
"Usage: epolltrace help [SUBCOMMAND]\n"
"\n"
"Print the usage of SUBCOMMAND (demo, learn, probes, sites, record, replay,\n"
"info, export, help; trace for the default command), the same as epolltrace\n"
"SUBCOMMAND --help.  Alone, the overview (epolltrace --help).\n"
"\n"
"Examples:\n"
"  epolltrace help record\n"
"  man epolltrace                           the whole manual\n";

static const struct {
	const char *name;
	const char *text;
} helps[] = {
	{ "trace", help_trace },
	{ "demo", help_demo },
	{ "learn", help_learn },
	{ "probes", help_probes },
	{ "sites", help_sites },
	{ "record", help_record },
	{ "replay", help_replay },
	{ "info", help_info },
	{ "export", help_export },
	{ "help", help_help },
};

int help_print(const char *sub, FILE *f)
{
	if (!sub)
		sub = "trace";
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		if (!strcmp(sub, helps[i].name)) {
			fputs(helps[i].text, f);
			return 0;
		}
	}
	return -1;
}

void help_version(FILE *f)
{
	fprintf(f, "epolltrace %s\n", EPOLLTRACE_VERSION);
}

int help_command(int nargs, char **args)
{
	const char *sub = nargs ? args[0] : NULL;

	if (sub && (!strcmp(sub, "-h") || !strcmp(sub, "--help")))
		sub = "help";
	if (nargs > 1) {
		et_err("help: one SUBCOMMAND at most, not '%s'", args[1]);
		return 2;
	}
	if (help_print(sub, stdout)) {
		et_err("help: no subcommand '%s' (demo, probes, sites, record, replay, info, export, help)",
		       sub);
		return 2;
	}
	return 0;
}
