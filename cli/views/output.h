/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_OUTPUT_H
#define EPOLLTRACE_OUTPUT_H

#include <stdio.h>
#include "event.h"

/* JSON Lines: one object per record/snapshot (docs/json.md). */
struct et_sink *out_json_new(FILE *f);
/* Human-readable: one line per record. */
struct et_sink *out_text_new(FILE *f);
void out_free(struct et_sink *s);

#endif
