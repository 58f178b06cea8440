// SPDX-License-Identifier: GPL-2.0
/*
 * A synthetic epoll load for the capacity and footprint benchmarks.
 *
 *   epoll_load [--instances T] [--fds F] [--rate R] [--spin N] [--ctl C] [--duration S]
 *
 * T epoll instances, each watching F eventfds (level-triggered EPOLLIN),
 * each with one waiter thread blocked in epoll_wait.  A pacer thread
 * writes to the eventfds round-robin at R writes per second; a write to
 * the fd of a sleeping waiter costs the kernel one ep_poll_callback and
 * one wakeup, and the tracer one wait_exit, wait_enter, sleep and wakeup
 * record (writes to a waiter that is still busy coalesce).  The waiter
 * reads every ready eventfd, which makes it not ready again.  With --spin N
 * it then polls its instance N times more with a zero timeout (each poll a
 * wait_enter, send_events and wait_exit record, without a context switch),
 * so the record rate can be pushed past what wakeups alone reach on two
 * cores.  With --ctl C, a thread adds a spare eventfd to the instances in
 * turn and removes it again, C pairs a second (each ADD an ep_insert in the
 * kernel: the inline ep_insert probe has no other work in this load).
 * --rate 0 makes no writes at all: an idle target for the bystander bench.
 *
 * A process may not open more fds than its hard RLIMIT_NOFILE (20000 on
 * the build machine, without CAP_SYS_RESOURCE to raise it), yet an
 * instance may watch more: an epitem lives as long as its file, not its
 * fd number.  So fds are made in chunks that fit; after each full chunk a
 * holder child is forked that keeps those files open, and the parent
 * closes its copies and reuses the numbers for new files (an epitem is
 * keyed by file and fd).  Only the last chunk's fds are written to.
 *
 * Once set up it prints "ready PID" on stdout.  SIGUSR1 prints the
 * counters so far as one JSON line; SIGINT/SIGTERM (or the end of
 * --duration) prints them once more and exits.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

struct inst {
	int ep;
	int *fds;
	pthread_t th;
	_Atomic unsigned long waits, wakeups, events, zero;
};

static struct inst *insts;
static int ninst = 1, nfds = 1;
static double rate = 1000, duration;
static int spin;
static double ctl_rate;
static _Atomic unsigned long ctls;
static atomic_bool stopping;
static _Atomic unsigned long writes;
static int *live;		/* the fds the pacer writes to */
static unsigned long nlive;
static pid_t holders[1024];
static int nholders;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "epoll_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *waiter(void *arg)
{
	struct inst *in = arg;
	struct epoll_event ev[64];

	while (!atomic_load(&stopping)) {
		int n = epoll_wait(in->ep, ev, 64, 100);

		in->waits++;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		if (n == 0) {
			in->zero++;
			continue;
		}
		in->wakeups++;
		in->events += n;
		for (int i = 0; i < n; i++) {
			unsigned long long v;

			if (read(ev[i].data.fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				die("read eventfd");
		}
		for (int i = 0; i < spin; i++) {
			int m = epoll_wait(in->ep, ev, 64, 0);

			in->waits++;
			if (m < 0 && errno != EINTR)
				die("epoll_wait");
			for (int j = 0; j < m; j++) {
				unsigned long long v;

				if (read(ev[j].data.fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					die("read eventfd");
			}
			in->events += m > 0 ? m : 0;
		}
	}
	return NULL;
}

static void *pacer(void *arg)
{
	const unsigned long long one = 1;
	unsigned long next = 0, sent = 0;
	double start = now();

	(void)arg;
	while (!atomic_load(&stopping)) {
		unsigned long due = (unsigned long)(rate * (now() - start));

		if (rate == 0) {
			/* idle: no wakeups of our own beyond the waiters' timeouts */
			struct timespec ts = { 0, 100000000 };

			nanosleep(&ts, NULL);
			continue;
		}

		/* a burst at most 1 ms long, then sleep until more is due */
		for (int b = 0; sent < due && b < 4096; b++, sent++) {
			if (write(live[next], &one, sizeof(one)) < 0)
				die("write eventfd");
			next = (next + 1) % nlive;
			writes++;
		}
		if (sent >= due) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static void *churner(void *arg)
{
	int spare = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	unsigned long sent = 0, i = 0;
	double start = now();

	(void)arg;
	if (spare < 0)
		die("eventfd");
	while (!atomic_load(&stopping)) {
		unsigned long due = (unsigned long)(ctl_rate * (now() - start));

		for (int b = 0; sent < due && b < 1024; b++, sent++, i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = spare };
			int ep = insts[i % ninst].ep;

			if (epoll_ctl(ep, EPOLL_CTL_ADD, spare, &ev) ||
			    epoll_ctl(ep, EPOLL_CTL_DEL, spare, NULL))
				die("epoll_ctl (churn)");
			ctls++;
		}
		if (sent >= due) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	close(spare);
	return NULL;
}

static void report(double t0)
{
	unsigned long w = 0, k = 0, e = 0, z = 0;

	for (int i = 0; i < ninst; i++) {
		w += insts[i].waits;
		k += insts[i].wakeups;
		e += insts[i].events;
		z += insts[i].zero;
	}
	printf("{\"t\":%.6f,\"elapsed\":%.6f,\"writes\":%lu,\"waits\":%lu,\"wakeups\":%lu,"
	       "\"events\":%lu,\"zero\":%lu,\"ctls\":%lu}\n",
	       now(), now() - t0, (unsigned long)writes, w, k, e, z, (unsigned long)ctls);
	fflush(stdout);
}

static double arg_num(const char *opt, const char *v, double min)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || d < min) {
		fprintf(stderr, "epoll_load: invalid %s '%s'\n", opt, v);
		exit(2);
	}
	return d;
}

int main(int argc, char **argv)
{
	sigset_t set;
	pthread_t pt, ct;
	struct rlimit rl;
	double t0;
	long chunk, inchunk = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "usage: epoll_load [--instances T] [--fds F] [--rate R] "
					"[--spin N] [--ctl C] [--duration S]\n");
			return 2;
		}
		if (!strcmp(o, "--instances"))
			ninst = arg_num(o, v, 1);
		else if (!strcmp(o, "--fds"))
			nfds = arg_num(o, v, 1);
		else if (!strcmp(o, "--rate"))
			rate = arg_num(o, v, 0);
		else if (!strcmp(o, "--spin"))
			spin = arg_num(o, v, 0);
		else if (!strcmp(o, "--ctl"))
			ctl_rate = arg_num(o, v, 0);
		else if (!strcmp(o, "--duration"))
			duration = arg_num(o, v, 0);
		else {
			fprintf(stderr, "epoll_load: unknown option '%s'\n", o);
			return 2;
		}
		i++;
	}

	/* as many fds as the hard limit allows; the rest through holders */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE)");
	chunk = rl.rlim_cur > (rlim_t)ninst + 1000 ? (long)(rl.rlim_cur - ninst - 500) : 0;
	if (chunk <= 0 || (ninst > 1 && (long)ninst * nfds > chunk)) {
		fprintf(stderr, "epoll_load: RLIMIT_NOFILE %lu is too small\n",
			(unsigned long)rl.rlim_cur);
		return 1;
	}
	live = calloc((size_t)ninst * nfds, sizeof(int));
	if (!live)
		die("calloc");

	/* every thread inherits this: only the main thread takes signals */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	insts = calloc(ninst, sizeof(*insts));
	if (!insts)
		die("calloc");
	for (int i = 0; i < ninst; i++) {
		struct inst *in = &insts[i];

		in->fds = calloc(nfds, sizeof(int));
		in->ep = epoll_create1(EPOLL_CLOEXEC);
		if (!in->fds || in->ep < 0)
			die("epoll_create1");
		for (int j = 0; j < nfds; j++) {
			struct epoll_event ev = { .events = EPOLLIN };

			in->fds[j] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (in->fds[j] < 0)
				die("eventfd");
			ev.data.fd = in->fds[j];
			if (epoll_ctl(in->ep, EPOLL_CTL_ADD, in->fds[j], &ev))
				die("epoll_ctl");
			if (++inchunk == chunk && j + 1 < nfds) {
				/* a holder keeps this chunk's files (and epitems) alive */
				pid_t h = fork();

				if (h < 0 || nholders == (int)(sizeof(holders) / sizeof(*holders)))
					die("fork");
				if (h == 0) {
					prctl(PR_SET_PDEATHSIG, SIGKILL);
					for (;;)
						pause();
				}
				holders[nholders++] = h;
				for (int k = j + 1 - inchunk; k <= j; k++) {
					close(in->fds[k]);
					in->fds[k] = -1;
				}
				inchunk = 0;
			}
		}
	}
	for (int i = 0; i < ninst; i++)
		for (int j = 0; j < nfds; j++)
			if (insts[i].fds[j] >= 0)
				live[nlive++] = insts[i].fds[j];
	for (int i = 0; i < ninst; i++)
		if (pthread_create(&insts[i].th, NULL, waiter, &insts[i]))
			die("pthread_create");
	if (pthread_create(&pt, NULL, pacer, NULL))
		die("pthread_create");
	if (ctl_rate > 0 && pthread_create(&ct, NULL, churner, NULL))
		die("pthread_create");
	t0 = now();
	printf("ready %d\n", getpid());
	fflush(stdout);

	for (;;) {
		struct timespec ts = { 0, 100000000 };
		int sig = sigtimedwait(&set, NULL, &ts);

		if (sig == SIGUSR1) {
			report(t0);
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (duration > 0 && now() - t0 >= duration)
			break;
	}
	atomic_store(&stopping, true);
	pthread_join(pt, NULL);
	if (ctl_rate > 0)
		pthread_join(ct, NULL);
	for (int i = 0; i < ninst; i++)
		pthread_join(insts[i].th, NULL);
	report(t0);
	for (int i = 0; i < nholders; i++) {
		kill(holders[i], SIGKILL);
		waitpid(holders[i], NULL, 0);
	}
	return 0;
}
