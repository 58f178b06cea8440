// SPDX-License-Identifier: GPL-2.0
/*
 * The lessons' runtime: the registry, the workload side of the step
 * protocol (lesson.h) and what both sides share.  The lessons themselves
 * live in lessons_*.c; the driver that traces them is `learn`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lesson.h"
#include "workload.h"
#include "workload_ops.h"

struct lesson_rt {
	const struct lesson *l;
	void *priv;
	__s64 arg[ET_LESSON_ARGS];
	int nargs;
	int epfd[2];
};

/* The lessons, in the README's order. */
extern const struct lesson lesson_structures;
extern const struct lesson lesson_wakeup;
extern const struct lesson lesson_lt_et;
extern const struct lesson lesson_oneshot;
extern const struct lesson lesson_herd;
extern const struct lesson lesson_nested;
extern const struct lesson lesson_close;
extern const struct lesson lesson_pool;

const struct lesson *const *lesson_all(void)
{
	static const struct lesson *list[9];
	const struct lesson *const all[] = {
		&lesson_structures, &lesson_wakeup, &lesson_lt_et, &lesson_oneshot,
		&lesson_herd, &lesson_nested, &lesson_close, &lesson_pool,
	};
	int n = 0;

	if (!list[0])
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (all[i])
				list[n++] = all[i];
	return list;
}

const struct lesson *lesson_find(const char *name)
{
	for (const struct lesson *const *l = lesson_all(); name && *l; l++)
		if (!strcmp((*l)->name, name))
			return *l;
	return NULL;
}

/* ---- for the steps --------------------------------------------------------- */

void *lesson_priv(struct lesson_rt *rt)
{
	return rt->priv;
}

void lesson_arg(struct lesson_rt *rt, int i, long long v)
{
	if (i < 0 || i >= ET_LESSON_ARGS)
		return;
	rt->arg[i] = v;
	if (rt->nargs <= i)
		rt->nargs = i + 1;
}

void lesson_args(struct lesson_rt *rt, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n && i < ET_LESSON_ARGS; i++)
		rt->arg[i] = va_arg(ap, long long);
	va_end(ap);
	rt->nargs = n < ET_LESSON_ARGS ? n : ET_LESSON_ARGS;
}

void lesson_epfd(struct lesson_rt *rt, int slot, int epfd)
{
	if (slot == 0 || slot == 1)
		rt->epfd[slot] = epfd;
}

void lesson_expect(enum lesson_expect what, int epfd, int n, const int *v)
{
	static const char *const name[] = {
		[LESSON_EXPECT_WAITERS] = "expect_waiters",
		[LESSON_EXPECT_CALLBACKS] = "expect_callbacks",
		[LESSON_EXPECT_WAKEUPS] = "expect_wakeups",
	};
	char list[256];
	size_t o = 0;

	list[0] = 0;
	for (int i = 0; i < n && o + 16 < sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - o, "%s%d", i ? "," : "", v[i]);
	workload_ops.truth("\"t\":\"%s\",\"epfd\":%d,\"%s\":[%s]", name[what], epfd,
			   what == LESSON_EXPECT_CALLBACKS ? "fds" : "tids", list);
}

int lesson_await_asleep(struct lesson_rt *rt, pid_t tid)
{
	(void)rt;
	/* 5 s in steps of 0.1 ms, then 2 ms: a thread falls asleep at once */
	for (int i = 0; i < 2520; i++) {
		int r = workload_ops.asleep(tid);

		if (r == 1)
			return 0;
		if (r < 0)
			return workload_ops.fail("thread %d is gone before it slept in epoll_wait",
						 tid);
		usleep(i < 20 ? 100 : 2000);
	}
	return workload_ops.fail("thread %d never fell asleep in epoll_wait", tid);
}

/* ---- the workload side ------------------------------------------------------- */

static int reply(int ctl, char kind, int step, const struct lesson_rt *rt)
{
	char line[512];
	int n;

	if (kind == 'f')
		n = snprintf(line, sizeof(line), "fail %d\n", step);
	else
		n = snprintf(line, sizeof(line), "%s %d %d %lld %lld %lld %lld %lld %lld %d %d\n",
			     kind == 'b' ? "before" : "after", step, rt->nargs,
			     (long long)rt->arg[0], (long long)rt->arg[1], (long long)rt->arg[2],
			     (long long)rt->arg[3], (long long)rt->arg[4], (long long)rt->arg[5],
			     rt->epfd[0], rt->epfd[1]);
	return write(ctl, line, n) == n ? 0 : -1;
}

/* one line from ctl, without its newline; -1 at end of file or error */
static int read_line(int ctl, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(ctl, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 0;
}

static int do_step(struct lesson_rt *rt, int k)
{
	const struct lesson_step *s = &rt->l->steps[k - 1];
	int err;

	workload_ops.truth("\"t\":\"step\",\"step\":%d,\"phase\":\"run\"", k);
	err = s->run(rt);
	workload_ops.truth("\"t\":\"step\",\"step\":%d,\"phase\":\"done\"", k);
	return err || workload_ops.failed() ? -1 : 0;
}

static int prepare_step(struct lesson_rt *rt, int k)
{
	const struct lesson_step *s = &rt->l->steps[k - 1];

	return s->prepare ? s->prepare(rt) : 0;
}

static int serve(struct lesson_rt *rt, int ctl)
{
	const struct lesson *l = rt->l;
	char line[128];
	int k;

	while (!read_line(ctl, line, sizeof(line))) {
		if (!strcmp(line, "quit"))
			return 0;
		if (sscanf(line, "before %d", &k) == 1 && k >= 1 && k <= l->nsteps) {
			if (reply(ctl, prepare_step(rt, k) ? 'f' : 'b', k, rt))
				return -1;
		} else if (sscanf(line, "run %d", &k) == 1 && k >= 1 && k <= l->nsteps) {
			if (reply(ctl, do_step(rt, k) ? 'f' : 'a', k, rt))
				return -1;
		} else {
			fprintf(stderr, "lesson %s: unknown request '%s'\n", l->name, line);
			return -1;
		}
	}
	return 0;	/* the driver went away: the lesson ends */
}

int lesson_run(const struct lesson *l, int ctl, FILE *truth)
{
	struct lesson_rt rt = { .l = l, .epfd = { -1, -1 } };
	int err = 0;

	workload_begin(truth, l->name);
	workload_ops.truth("\"t\":\"lesson\",\"name\":\"%s\",\"pid\":%d,\"steps\":%d", l->name,
			   getpid(), l->nsteps);
	if (l->priv_size) {
		rt.priv = calloc(1, l->priv_size);
		if (!rt.priv) {
			fprintf(stderr, "lesson %s: out of memory\n", l->name);
			workload_end();
			return 1;
		}
	}
	if (l->setup && l->setup(&rt))
		err = -1;
	if (!err && ctl >= 0)
		err = serve(&rt, ctl);
	for (int k = 1; !err && ctl < 0 && k <= l->nsteps; k++)
		err = prepare_step(&rt, k) || do_step(&rt, k) ? -1 : 0;
	if (l->teardown)
		l->teardown(&rt);
	free(rt.priv);
	return workload_end() || err ? 1 : 0;
}

/* ---- the driver side --------------------------------------------------------- */

int lesson_reply_parse(const char *line, struct lesson_reply *r)
{
	long long a[ET_LESSON_ARGS];
	char word[8];
	int n;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "fail %d", &r->step) == 1) {
		r->kind = 'f';
		return 0;
	}
	n = sscanf(line, "%7s %d %d %lld %lld %lld %lld %lld %lld %d %d", word, &r->step,
		   &r->nargs, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &r->epfd[0], &r->epfd[1]);
	if (n != 11 || r->nargs < 0 || r->nargs > ET_LESSON_ARGS)
		return -1;
	if (!strcmp(word, "before"))
		r->kind = 'b';
	else if (!strcmp(word, "after"))
		r->kind = 'a';
	else
		return -1;
	for (int i = 0; i < ET_LESSON_ARGS; i++)
		r->arg[i] = a[i];
	return 0;
}

void lesson_format(char *buf, size_t len, const char *text, const __s64 *arg, int nargs)
{
	size_t o = 0;

	if (!len)
		return;
	for (const char *p = text; *p && o + 1 < len; p++) {
		char *end;
		long i;

		if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
			i = strtol(p + 1, &end, 10);
			if (*end == '}') {
				char v[32];
				int n = i < nargs ? snprintf(v, sizeof(v), "%lld", (long long)arg[i])
						  : snprintf(v, sizeof(v), "\u2013");

				for (int j = 0; j < n && o + 1 < len; j++)
					buf[o++] = v[j];
				p = end;
				continue;
			}
		}
		buf[o++] = *p;
	}
	buf[o] = 0;
}
