// SPDX-License-Identifier: GPL-2.0
/*
 * The live lesson sink (tui_lesson_sink_new), driven as `learn` drives
 * it: this thread plays the session (begin, records, ticks, end), and the
 * lesson's advance, called from the UI thread, only asks: the next stop's
 * records come from this thread a moment later (made-up lesson,
 * tests/lesson_stream.h).  For tests/lessontui.sh, in tmux.
 *
 * usage: lesson_live COUNTFILE
 *   writes "advances N" to COUNTFILE when the session ends
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "lang.h"
#include "lesson_stream.h"
#include "tui.h"
#include "tui_lesson.h"

static atomic_int asked, advances;

static int advance(void *ctx)
{
	(void)ctx;
	if (atomic_load(&asked) >= LS_NSTOPS)
		return -1;	/* (END came first: never asked then) */
	atomic_fetch_add(&advances, 1);
	atomic_fetch_add(&asked, 1);
	return 0;
}

static void w_record(void *ctx, const struct et_hdr *h, size_t size)
{
	struct et_sink *s = ctx;

	s->record(s, h, size);
}

static void w_snapshot(void *ctx, const struct et_snapshot *snap)
{
	struct et_sink *s = ctx;

	s->snapshot(s, snap);
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	struct tui_opts to = { .theme = "dark" };
	struct tui_lesson_ctl ctl = { .advance = advance };
	struct tui_lesson_opts lo = { .tui = &to, .pace = 1, .ctl = &ctl };
	struct et_session_info info = { .callbacks_visible = true, .attach = "tracepoint" };

	et_lang_init();		/* as main() does: the locale, UTF-8 widths */
	struct et_sink *s = tui_lesson_sink_new(&lo);
	int fed = -1;		/* the last stop fed */
	FILE *f;

	if (argc != 2 || !s) {
		fprintf(stderr, "usage: lesson_live COUNTFILE\n");
		return 2;
	}
	s->begin(s, &info);
	{
		struct ls_out o = { .ctx = s, .record = w_record, .snapshot = w_snapshot,
				    .now = 5000000000ULL };

		ls_lesson(&o, ET_LESSON_BEGIN, 0, NULL, NULL, 0, "", LS_T_TITLE, 0, 0, 0);
	}
	for (;;) {
		/* what the presenter asked for, after the work a step takes */
		if (atomic_load(&asked) > fed + 1 && fed + 1 < LS_NSTOPS) {
			struct ls_out o = { .ctx = s, .record = w_record, .snapshot = w_snapshot,
					    .now = 5000000000ULL, .until = fed + 1,
					    .after = fed + 1 };

			nap(700);	/* "running step K…" shows meanwhile */
			ls_run(&o);	/* the part from stop fed on, to the one asked for */
			fed++;
			if (fed == LS_NSTOPS - 1) {
				/* the lesson's END after its last stop */
				o = (struct ls_out){ .ctx = s, .record = w_record,
						     .snapshot = w_snapshot, .now = 5000000000ULL,
						     .until = -1, .after = LS_NSTOPS };
				ls_run(&o);
				nap(300);
				break;	/* the workload is done: the session ends */
			}
		}
		if (s->tick(s, 0))
			break;		/* q */
		nap(50);
	}
	s->end(s, 0);
	tui_lesson_sink_free(s);
	f = fopen(argv[1], "w");
	if (f) {
		fprintf(f, "advances %d\n", atomic_load(&advances));
		fclose(f);
	}
	return 0;
}
