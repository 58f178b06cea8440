// SPDX-License-Identifier: GPL-2.0
/*
 * `epolltrace sites`: resolve the named functions' sites from the kernel's
 * debug info, print them, and write them to a sites file (docs/internals.md)
 * for machines that run the same build without debug info.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "help.h"
#include "log.h"
#include "outfile.h"
#include "sites.h"

enum { OPT_VMLINUX = 256, OPT_JSON, OPT_FORCE, OPT_DEBUGINFOD, OPT_BUILD_ID };

static const struct option long_opts[] = {
	{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
	{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
	{ "build-id", required_argument, NULL, OPT_BUILD_ID },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

/* the functions a hook needs a usable site of (ep_done_scan is out of
 * line and attachable by name everywhere it exists) */
static const char *const needed[] = { "ep_insert", "ep_poll", "ep_send_events", NULL };

int sites_command(int argc, char **argv)
{
	const char *vmlinux = NULL, *output = NULL, *build_id = NULL;
	bool json = false, force = false, debuginfod = false;
	struct build_id want;
	struct debuginfo di;
	struct sites s;
	struct outfile of;
	char err[8192];
	int o, ret = 0;

	optind = 1;
	opterr = 1;
	while ((o = getopt_long(argc, argv, "o:vhV", long_opts, NULL)) != -1) {
		switch (o) {
		case OPT_VMLINUX:
			vmlinux = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_DEBUGINFOD:
			debuginfod = true;
			break;
		case OPT_BUILD_ID:
			build_id = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'v':
			et_verbose++;
			break;
		case 'h':
			help_print("sites", stdout);
			return 0;
		case 'V':
			help_version(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'epolltrace sites --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		et_err("sites: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (force && !output) {
		et_err("sites: --force applies to a file written with -o");
		return 2;
	}
	if (vmlinux && !*vmlinux) {
		et_err("sites: --vmlinux needs a file name");
		return 2;
	}
	if (build_id && vmlinux) {
		et_err("sites: --build-id and --vmlinux: give one of them");
		return 2;
	}
	if (build_id && build_id_parse(build_id, &want)) {
		et_err("sites: --build-id needs an even number of hex digits (at most %d): '%s'",
		       2 * BUILD_ID_MAX, build_id);
		return 2;
	}
	/* another machine's build, from the debuginfod servers */
	if (build_id && debuginfo_fetch(&want, &di, err, sizeof(err))) {
		fprintf(stderr, "epolltrace: sites: %s\n", err);
		return 1;
	}
	/* resolve for whatever build the given file is: only attaching
	 * needs the running kernel's build-id */
	if (!build_id && debuginfo_find(vmlinux, false, debuginfo_debuginfod_wanted(debuginfod),
					&di, err, sizeof(err))) {
		/* not et_err: the refused files' names and ids can be longer
		 * than its line */
		fprintf(stderr, "epolltrace: sites: %s\n", err);
		return 1;
	}
	if (sites_resolve(&di, &s, err, sizeof(err))) {
		fprintf(stderr, "epolltrace: sites: %s\n", err);
		return 1;
	}
	et_debug("sites: read %s in %.3f s", s.unit[0] ? s.unit : "every unit", s.read_s);
	if (output) {
		if (outfile_open(&of, output, force, NULL)) {
			sites_free(&s);
			return 1;
		}
		if (!outfile_stream(&of) || sites_write(&s, outfile_stream(&of)) ||
		    outfile_finish(&of)) {
			et_err("sites: writing %s failed", output);
			outfile_close(&of);
			sites_free(&s);
			return 1;
		}
		outfile_close(&of);
	}
	if (json)
		sites_print_json(&s, stdout);
	else
		sites_print_text(&s, stdout);
	for (const char *const *fn = needed; *fn; fn++) {
		bool ok = false;

		for (size_t i = 0; i < s.n; i++)
			ok |= s.v[i].usable && !strcmp(s.v[i].func, *fn);
		if (!ok) {
			et_err("sites: no usable site of %s in %s", *fn, s.path);
			ret = 1;
		}
	}
	sites_free(&s);
	return ret;
}
