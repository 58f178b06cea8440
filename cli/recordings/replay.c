// SPDX-License-Identifier: GPL-2.0
/*
 * Headless replay: a recording drives a sink exactly as the live session
 * drove the sinks that watched it — the same records and snapshots in the
 * same order, ticks at the recorded clock readings, the end at the
 * recorded end — so a view fed from a file renders what it rendered live.
 */
#include <stdio.h>
#include <time.h>
#include "clock.h"
#include "log.h"
#include "recording.h"

static void progress(struct rec_reader *r, const struct replay_opts *o, __u64 events, bool last)
{
	__u64 size = rec_file_size(r), pos = last ? size : rec_position(r);

	fprintf(stderr, "\r%s: %3llu%%  %llu events%s", o->label ? o->label : "replay",
		size ? (unsigned long long)(pos * 100 / size) : 100ULL,
		(unsigned long long)events, last ? "\n" : "");
}

int replay_feed(struct rec_reader *r, struct et_sink *sink, const struct replay_opts *o)
{
	struct et_hook_info hooks[REC_MAX_HOOKS];
	__u32 pids[REC_MAX_TARGETS];
	const char *comms[REC_MAX_TARGETS];
	struct et_session_info info;
	struct rec_item it;
	__u64 last_ts = 0, events = 0, next_progress = 0;
	bool ended = false;
	int n;

	rec_session_info(r, &info, hooks, pids, comms);
	if (sink->begin)
		sink->begin(sink, &info);
	while ((n = rec_next(r, &it)) > 0) {
		last_ts = it.ts_ns;
		switch (it.kind) {
		case REC_RECORD:
			sink->record(sink, it.rec, it.size);
			events++;
			break;
		case REC_SNAPSHOT:
			sink->snapshot(sink, it.snap);
			events++;
			break;
		case REC_TICK:
			sink->flush(sink);
			if (sink->tick && sink->tick(sink, it.ts_ns))
				ended = true;	/* the sink has had enough (-n) */
			if (o && o->service)
				o->service->serve(o->service->ctx);
			if (o && o->progress && mono_ns() / 1000000 >= next_progress) {
				progress(r, o, events, false);
				next_progress = mono_ns() / 1000000 + 200;
			}
			break;
		case REC_END:
			ended = true;
			break;
		}
		if (ended)
			break;
	}
	if (n < 0) {
		if (o && o->progress)
			fputc('\n', stderr);
		sink->flush(sink);
		et_err("%s", rec_error(r));
		return 1;
	}
	if (sink->end)
		sink->end(sink, last_ts);
	sink->flush(sink);
	if (o && o->progress)
		progress(r, o, events, true);
	if (!ended && rec_warning(r))
		et_warn("%s", rec_warning(r));
	return 0;
}
