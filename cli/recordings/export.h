/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_EXPORT_H
#define EPOLLTRACE_EXPORT_H

#include <stdio.h>
#include "event.h"
#include "recording.h"

/* Trace Event Format JSON (Perfetto, chrome://tracing), fed by replay_feed(). */
struct et_sink *export_chrome_new(FILE *f, const struct rec_header *h);
/* Process names and the closing brackets: call once the feed is over. */
void export_chrome_finish(struct et_sink *s, const struct rec_header *h);
void export_chrome_free(struct et_sink *s);

/* `epolltrace info`: the header and statistics of a whole recording. */
int rec_info_print(struct rec_reader *r, FILE *f);

#endif
