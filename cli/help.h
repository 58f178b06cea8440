/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_HELP_H
#define EPOLLTRACE_HELP_H

#include <stdio.h>

/*
 * Every usage text of the command line, kept in one file so that the man
 * page (docs/epolltrace.8) has one place to be compared with.
 */

/*
 * The usage and examples of subcommand SUB on f: NULL or "trace" for the
 * default command (the overview), else "demo", "probes", "sites", "record",
 * "replay", "info", "export" or "help".  -1 if SUB is none of them.
 */
int help_print(const char *sub, FILE *f);

/* "epolltrace VERSION" and a newline on f */
void help_version(FILE *f);

/*
 * `epolltrace help [SUBCOMMAND]`: args are the words after "help".
 * Returns the exit status: 0, or 2 with one line on stderr.
 */
int help_command(int nargs, char **args);

#endif
