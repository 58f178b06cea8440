// SPDX-License-Identifier: GPL-2.0
/*
 * A workload with a known structure for tests/anatomy.sh: one epoll
 * instance, and four phases whose counts it knows exactly and whose times
 * it measures itself (CLOCK_MONOTONIC, the records' clock).
 *
 *  A  R rounds: a pipe (level-triggered) made readable, then A_MS asleep
 *     in user space, then epoll_wait: 1 event, ready for at least A_MS
 *     before the wait (long enough for snapshots to see it: tracepoint
 *     mode's residency is sampled).
 *  B  W rounds: a second thread makes another pipe (edge-triggered)
 *     readable B_MS after the main thread was told to wait: 1 event.
 *  C  C waits with a 20 ms timeout on an instance with nothing ready:
 *     0 events each, every timeout expires.
 *  D  F rounds: six edge-triggered pipes made readable, then two waits
 *     with maxevents 4: 4 events (full), then 2.
 *
 * Every wait has maxevents 4; only phase C's have a finite timeout.  Then
 * it writes its truth as one JSON object to TRUTH, keeps the instance open
 * HOLD_MS (a replay's TUI can open it), and exits 1 if the kernel did not
 * answer as the phases say.
 *
 * usage: anatomy_load TRUTH R W C F A_MS B_MS HOLD_MS
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAXEV 4
#define NPIPES 6
#define MAXFD 1024

static unsigned long long t_start, res_bound, wait_max, waits, events;
static unsigned long long ret_n[MAXEV + 1];
/* per fd: when the last wait that returned it was called (0: never) */
static unsigned long long last_call[MAXFD];
static int ep, bpipe[2], go[2];
static long b_ms;

static unsigned long long mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/*
 * One wait, and what it teaches about bounds: a delivered item was queued
 * after the last wait that returned it was called (or after the start), and
 * is delivered before this one returns; a sleep, or a wakeup, inside the
 * wait lies between its call and its return.
 */
static int wait_once(int timeout_ms, struct epoll_event *ev)
{
	unsigned long long t0 = mono(), t1;
	int n = epoll_wait(ep, ev, MAXEV, timeout_ms);

	t1 = mono();
	if (n < 0)
		die("epoll_wait");
	waits++;
	events += n;
	ret_n[n]++;
	if (t1 - t0 > wait_max)
		wait_max = t1 - t0;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		unsigned long long from = last_call[fd] ? last_call[fd] : t_start;

		if (t1 - from > res_bound)
			res_bound = t1 - from;
		last_call[fd] = t0;
	}
	return n;
}

static void drain(int fd)
{
	char buf[64];

	if (read(fd, buf, sizeof(buf)) < 1)
		die("read");
}

static void add(int fd, unsigned int events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };

	if (fd >= MAXFD || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e))
		die("epoll_ctl");
}

static void *writer(void *arg)
{
	char c;

	(void)arg;
	while (read(go[0], &c, 1) == 1) {
		if (c == 'q')
			break;
		nap(b_ms);
		if (write(bpipe[1], "b", 1) != 1)
			die("write");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct epoll_event ev[MAXEV];
	int apipe[2], dp[NPIPES][2], bad = 0;
	long R, W, C, F, a_ms, hold_ms;
	pthread_t th;
	FILE *f;

	if (argc != 9) {
		fprintf(stderr, "usage: anatomy_load TRUTH R W C F A_MS B_MS HOLD_MS\n");
		return 2;
	}
	R = atol(argv[2]), W = atol(argv[3]), C = atol(argv[4]), F = atol(argv[5]);
	a_ms = atol(argv[6]), b_ms = atol(argv[7]), hold_ms = atol(argv[8]);
	t_start = mono();
	ep = epoll_create1(0);
	if (ep < 0 || pipe(apipe) || pipe(bpipe) || pipe(go))
		die("setup");
	add(apipe[0], EPOLLIN);
	add(bpipe[0], EPOLLIN | EPOLLET);
	for (int i = 0; i < NPIPES; i++) {
		if (pipe(dp[i]))
			die("pipe");
		add(dp[i][0], EPOLLIN | EPOLLET);
	}
	if (pthread_create(&th, NULL, writer, NULL))
		die("pthread_create");

	for (long r = 0; r < R; r++) {		/* A */
		if (write(apipe[1], "a", 1) != 1)
			die("write");
		nap(a_ms);
		bad |= wait_once(-1, ev) != 1;
		drain(apipe[0]);
	}
	for (long r = 0; r < W; r++) {		/* B */
		if (write(go[1], "g", 1) != 1)
			die("write");
		bad |= wait_once(-1, ev) != 1;
		drain(bpipe[0]);
	}
	for (long r = 0; r < C; r++)		/* C */
		bad |= wait_once(20, ev) != 0;
	for (long r = 0; r < F; r++) {		/* D */
		for (int i = 0; i < NPIPES; i++)
			if (write(dp[i][1], "d", 1) != 1)
				die("write");
		bad |= wait_once(-1, ev) != MAXEV;
		bad |= wait_once(-1, ev) != NPIPES - MAXEV;
		for (int i = 0; i < NPIPES; i++)
			drain(dp[i][0]);
	}
	if (write(go[1], "q", 1) != 1)
		die("write");
	pthread_join(th, NULL);

	f = fopen(argv[1], "w");
	if (!f)
		die(argv[1]);
	fprintf(f, "{\"pid\": %d, \"epfd\": %d, \"waits\": %llu, \"events\": %llu, "
		"\"ret\": [%llu, %llu, %llu, %llu, %llu], \"R\": %ld, \"W\": %ld, \"C\": %ld, "
		"\"F\": %ld, \"maxevents\": %d, \"sleep_ns\": %lld, \"res_bound_ns\": %llu, "
		"\"wait_max_ns\": %llu, \"ok\": %s}\n", getpid(), ep, waits, events, ret_n[0],
		ret_n[1], ret_n[2], ret_n[3], ret_n[4], R, W, C, F, MAXEV, a_ms * 1000000LL,
		res_bound, wait_max, bad ? "false" : "true");
	fclose(f);
	nap(hold_ms);
	return bad;
}
