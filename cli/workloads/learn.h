/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_LEARN_H
#define EPOLLTRACE_LEARN_H

/*
 * `epolltrace learn [NAME]`: lists the lessons, or runs one, traced, stop
 * by stop (lesson.h).  argv[0] is "learn".  Returns the exit status.
 */
int learn_command(int argc, char **argv);

struct et_sink;
/*
 * `replay` of a lesson's recording without the lesson screen: next gets the
 * stream unchanged; learn_guard_finish() says in one line, and returns 1,
 * when the lesson in it never reached its END (a recording cut off), and
 * frees the guard.
 */
struct et_sink *learn_guard_new(struct et_sink *next);
int learn_guard_finish(struct et_sink *guard, const char *path);

#endif
