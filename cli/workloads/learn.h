/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_LEARN_H
#define EPOLLTRACE_LEARN_H

/*
 * `epolltrace learn [NAME]`: lists the lessons, or runs one, traced, stop
 * by stop (lesson.h).  argv[0] is "learn".  Returns the exit status.
 */
int learn_command(int argc, char **argv);

#endif
