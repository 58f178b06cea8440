/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_STATE_VIEW_H
#define EPOLLTRACE_STATE_VIEW_H

#include <stdio.h>
#include "event.h"

enum state_fmt {
	STATE_SUMMARY,		/* --summary: a table per interval */
	STATE_JSON,		/* --json-state: one JSON object per interval */
};

/* count: refreshes before the session stops (0: until it ends anyway) */
struct et_sink *state_view_new(FILE *f, enum state_fmt fmt, double interval_s, long count);
void state_view_free(struct et_sink *s);

#endif
