// SPDX-License-Identifier: GPL-2.0
/*
 * A lesson driven by a thread of its own process, stopping after every
 * step until SIGUSR1 (lesson_gate.h): the step protocol without `learn`,
 * so that a test can hold a traced lesson's steps against the kernel's
 * state (tests/lessons.sh) before the driver exists, and check what the
 * narration says once its {N} are filled in.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "lesson_gate.h"
#include "workload_ops.h"

struct gate_driver {
	const struct lesson *l;
	int fd;
	int err;		/* 0, or the first failure (its line is in the truth) */
};

static int say(int fd, const char *what, int k)
{
	char line[32];
	int n = k ? snprintf(line, sizeof(line), "%s %d\n", what, k) :
		    snprintf(line, sizeof(line), "%s\n", what);

	/* no SIGPIPE if the lesson is gone: the error says it */
	return send(fd, line, n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static int hear(int fd, struct lesson_reply *r)
{
	char line[512];
	size_t n = 0;

	while (n + 1 < sizeof(line)) {
		ssize_t got = read(fd, line + n, 1);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return lesson_reply_parse(line, r);
}

/* text as JSON string contents (the narration is ASCII; quotes escaped) */
static void json_text(char *out, size_t len, const char *text)
{
	size_t o = 0;

	for (const char *p = text; *p && o + 3 < len; p++) {
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	out[o] = 0;
}

static void *gate_main(void *arg)
{
	struct gate_driver *d = arg;
	sigset_t usr1;
	int sig;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	for (int k = 1; k <= d->l->nsteps && !d->err; k++) {
		const struct lesson_step *s = &d->l->steps[k - 1];
		char before[ET_LESSON_TEXT_LEN * 2], after[ET_LESSON_TEXT_LEN * 2];
		char jb[sizeof(before) * 2], ja[sizeof(after) * 2];
		struct lesson_reply rb, ra;
		struct timespec now;

		if (say(d->fd, "before", k) || hear(d->fd, &rb) || rb.kind != 'b' ||
		    say(d->fd, "run", k) || hear(d->fd, &ra) || ra.kind != 'a') {
			d->err = -1;
			workload_ops.fail("lesson %s: step %d failed under the driver",
					  d->l->name, k);
			break;
		}
		lesson_format(before, sizeof(before), s->before, rb.arg, rb.nargs);
		lesson_format(after, sizeof(after), s->after, ra.arg, ra.nargs);
		json_text(jb, sizeof(jb), before);
		json_text(ja, sizeof(ja), after);
		/*
		 * CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(): a snapshot
		 * round that began after mono_ns saw the lesson at rest
		 */
		clock_gettime(CLOCK_MONOTONIC, &now);
		workload_ops.truth("\"t\":\"hold\",\"step\":%d,\"mono_ns\":%llu,"
				   "\"epfd\":[%d,%d],"
				   "\"before\":\"%s\",\"after\":\"%s\",\"hooks\":\"%s\","
				   "\"touched\":%u", k,
				   (unsigned long long)now.tv_sec * 1000000000ULL + now.tv_nsec,
				   ra.epfd[0], ra.epfd[1], jb, ja, s->hooks, s->touched);
		if (sigwait(&usr1, &sig)) {
			d->err = -1;
			break;
		}
	}
	say(d->fd, "quit", 0);
	return NULL;
}

int lesson_run_gated(const struct lesson *l, FILE *truth)
{
	struct gate_driver d = { .l = l };
	sigset_t usr1, old;
	pthread_t th;
	int sv[2], ret;

	/* blocked before any thread exists: the lesson's threads inherit it */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "lesson %s: socketpair: %s\n", l->name, strerror(errno));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	d.fd = sv[1];
	if (pthread_create(&th, NULL, gate_main, &d)) {
		fprintf(stderr, "lesson %s: cannot start the driver thread\n", l->name);
		close(sv[0]);
		close(sv[1]);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	ret = lesson_run(l, sv[0], truth);
	/* the lesson ended (quit, or a failure): the driver hears end of file */
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret || d.err ? 1 : 0;
}
