// SPDX-License-Identifier: GPL-2.0
/* `epolltrace info FILE`: what a recording holds. */
#include <stdio.h>
#include <time.h>
#include "export.h"
#include "log.h"

int rec_info_print(struct rec_reader *r, FILE *f)
{
	const struct rec_header *h = rec_header(r);
	const struct rec_block *b;
	size_t nb = rec_blocks(r, &b), nkey = 0;
	__u64 types[ET_EV_MAX] = {}, snaps = 0, ticks = 0, events = 0, lost[2] = {};
	__u64 first = 0, last = 0, size = rec_file_size(r);
	bool any = false, ended = false;
	struct rec_item it;
	char when[64] = "?";
	time_t wall = h->start_wall_ns / 1000000000ULL;
	struct tm tm;
	int n;

	while ((n = rec_next(r, &it)) > 0) {
		if (!any)
			first = it.ts_ns;
		any = true;
		if (it.ts_ns > last)
			last = it.ts_ns;
		switch (it.kind) {
		case REC_RECORD:
			types[it.rec->type]++;
			if (it.rec->type == ET_EV_LOST) {
				const struct et_ev_lost *l = (const void *)it.rec;

				lost[l->ring ? 1 : 0] += l->count;
			}
			events++;
			break;
		case REC_SNAPSHOT:
			snaps++;
			events++;
			break;
		case REC_TICK:
			ticks++;
			break;
		case REC_END:
			ended = true;
			break;
		}
	}
	for (size_t i = 0; i < nb; i++)
		nkey += !!(b[i].flags & REC_BLK_KEYFRAME);
	if (h->start_wall_ns && gmtime_r(&wall, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "format       epolltrace recording, version %u\n", h->version);
	fprintf(f, "written by   %s\n", h->tool);
	fprintf(f, "kernel       %s %s\n", h->kernel, h->machine);
	fprintf(f, "attach       --attach=%s, ready list %s\n", h->attach,
		h->callbacks_visible ? "exact (ep_poll_callback)" : "sampled (snapshots only)");
	fprintf(f, "started      %s (monotonic %llu ns)\n", when,
		(unsigned long long)h->start_mono_ns);
	fprintf(f, "duration     %.3f s (first to last item)\n", any ? (last - first) / 1e9 : 0.0);
	fprintf(f, "targets     ");
	if (!h->ntargets)
		fprintf(f, " every process");
	for (int i = 0; i < h->ntargets; i++)
		fprintf(f, " %u (%s)", h->targets[i].pid, h->targets[i].comm);
	fprintf(f, "%s%s\n", h->command[0] ? ", command " : "", h->command);
	fprintf(f, "snapshots    every %g s\n", h->snapshot_interval);
	if (h->lesson[0])
		fprintf(f, "lesson       %s (epolltrace replay shows it as the lesson)\n", h->lesson);
	fprintf(f, "\n%-12s %-11s %-8s %s\n", "HOOK", "USING", "FIDELITY", "ATTACH POINT");
	for (int i = 0; i < h->nhooks; i++)
		fprintf(f, "%-12s %-11s %-8s %s\n", h->hooks[i].hook, h->hooks[i].using,
			h->hooks[i].fidelity, h->hooks[i].point);
	fprintf(f, "\n%-14s %12s\n", "EVENT", "COUNT");
	for (int t = 1; t < ET_EV_MAX; t++)
		if (types[t])
			fprintf(f, "%-14s %12llu\n", et_type_name(t), (unsigned long long)types[t]);
	fprintf(f, "%-14s %12llu\n", "snapshot", (unsigned long long)snaps);
	fprintf(f, "%-14s %12llu\n", "total", (unsigned long long)events);
	fprintf(f, "\nlosses       %llu records (event ring), %llu (snapshot ring)\n",
		(unsigned long long)lost[0], (unsigned long long)lost[1]);
	fprintf(f, "file         %llu bytes, %zu blocks (%zu keyframes), %llu ticks, %.1f bytes/event\n",
		(unsigned long long)size, nb, nkey, (unsigned long long)ticks,
		events ? (double)size / events : 0.0);
	/* the reader returns the end only from a whole block: then nothing is cut */
	fprintf(f, "complete     %s\n", n < 0 ? "no: corrupt (see the error)" :
		ended && !rec_warning(r) ? "yes (the session's end is recorded)" : "no: cut off");
	if (n < 0) {
		et_err("%s", rec_error(r));
		return 1;
	}
	if (rec_warning(r))
		et_warn("%s", rec_warning(r));
	return 0;
}
