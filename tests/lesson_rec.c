// SPDX-License-Identifier: GPL-2.0
/*
 * Writes a recording of the made-up lesson (tests/lesson_stream.h) with
 * the recording writer, as `learn --record` would, for tests/lessontui.sh.
 *
 * usage: lesson_rec FILE [plain]
 *   plain: the same records without the lesson's: an ordinary recording
 */
#include <stdlib.h>
#include <string.h>
#include "lesson_stream.h"
#include "recording.h"

static bool plain;

static void w_record(void *ctx, const struct et_hdr *h, size_t size)
{
	struct et_sink *s = ctx;

	if (plain && h->type == ET_EV_LESSON)
		return;
	s->record(s, h, size);
}

static void w_snapshot(void *ctx, const struct et_snapshot *snap)
{
	struct et_sink *s = ctx;

	s->snapshot(s, snap);
}

int main(int argc, char **argv)
{
	struct et_hook_info hooks[] = {
		{ "ctl", "fentry", "exact", "ep_insert" },
		{ "callback", "kprobe", "exact", "ep_poll_callback" },
	};
	__u32 pids[1] = { 100 };
	struct et_session_info info = {
		.callbacks_visible = true, .attach = "auto", .kernel = "6.12.0-test",
		.machine = "x86_64", .hooks = hooks, .nhooks = 2, .start_mono_ns = 5000000000ULL,
		.start_wall_ns = 1700000000000000000ULL, .pids = pids, .npids = 1,
		.snapshot_interval = 1,
	};
	struct rec_writer *w;
	struct et_sink *s;
	struct ls_out o = { .record = w_record, .snapshot = w_snapshot, .until = -1,
			    .now = 5000000000ULL };

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: lesson_rec FILE [plain]\n");
		return 2;
	}
	plain = argc == 3 && !strcmp(argv[2], "plain");
	w = rec_writer_open(argv[1], true);
	if (!w)
		return 1;
	s = rec_writer_sink(w);
	o.ctx = s;
	s->begin(s, &info);
	ls_run(&o);
	s->tick(s, o.now + 1000);
	s->end(s, o.now + 2000);
	return rec_writer_close(w) ? 1 : 0;
}
