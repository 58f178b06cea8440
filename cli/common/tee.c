// SPDX-License-Identifier: GPL-2.0
/*
 * A sink that feeds two: a view and the recorder (-w FILE), so recording
 * works alongside any output mode.
 */
#include <stdlib.h>
#include "recording.h"

struct tee {
	struct et_sink sink;
	struct et_sink *a, *b;
};

static void t_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct tee *t = (struct tee *)s;

	t->a->record(t->a, h, size);
	t->b->record(t->b, h, size);
}

static void t_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct tee *t = (struct tee *)s;

	t->a->snapshot(t->a, snap);
	t->b->snapshot(t->b, snap);
}

static void t_flush(struct et_sink *s)
{
	struct tee *t = (struct tee *)s;

	t->a->flush(t->a);
	t->b->flush(t->b);
}

static void t_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct tee *t = (struct tee *)s;

	if (t->a->begin)
		t->a->begin(t->a, info);
	if (t->b->begin)
		t->b->begin(t->b, info);
}

static int t_tick(struct et_sink *s, __u64 now)
{
	struct tee *t = (struct tee *)s;
	int ra = t->a->tick ? t->a->tick(t->a, now) : 0;
	int rb = t->b->tick ? t->b->tick(t->b, now) : 0;

	return ra || rb;
}

static void t_end(struct et_sink *s, __u64 now)
{
	struct tee *t = (struct tee *)s;

	if (t->a->end)
		t->a->end(t->a, now);
	if (t->b->end)
		t->b->end(t->b, now);
}

struct et_sink *tee_new(struct et_sink *a, struct et_sink *b)
{
	struct tee *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->a = a;
	t->b = b;
	t->sink = (struct et_sink){ .record = t_record, .snapshot = t_snapshot, .flush = t_flush,
				    .begin = t_begin, .tick = t_tick, .end = t_end };
	return &t->sink;
}

void tee_free(struct et_sink *t)
{
	free(t);
}
