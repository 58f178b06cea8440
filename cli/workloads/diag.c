// SPDX-License-Identifier: GPL-2.0
/*
 * The "diag-*" scenarios: for each detector of cli/model/detect.h a
 * workload that provokes it (diag-NAME) and a similar one that must not
 * (diag-NAME-ok), for tests/diagnose.sh.  Each writes, besides the usual
 * ground truth, one line {"t":"diag","detector":NAME,"expect":BOOL,
 * "epfd":E,"fds":[...],"tids":[...],"min_tids":N} that says which
 * instance a finding must name (tests/check_findings.py), with which fds
 * (a finding's fds must be among them; none listed: not checked) and
 * which threads (a finding's threads must be among them, at least
 * min_tids of them).
 *
 * Nothing here relies on timing: who is woken is made certain by waiting
 * until the threads are asleep in epoll_wait (/proc) before each write,
 * and the kernel's documented or long-standing wakeup order is checked
 * as the workload goes ("the kernel disagrees" when it does not hold).
 * The measures against time thresholds (lt-spin's window, the rates of
 * busy-poll and zero-wakeups, long-residency) are made tens of times
 * above or below the defaults of detect_defaults().
 *
 * fs/eventpoll.c facts used (v6.1, v6.12, the same on 6.18):
 * - ep_poll puts its waiter at the head of ep->wq, exclusive
 *   (__add_wait_queue_exclusive), and ep_poll_callback's wake_up wakes
 *   one: of several threads asleep on one instance the one that slept
 *   last is woken (LIFO), the root of the exclusive imbalance;
 * - ep_send_events puts a level-triggered item back on the ready list
 *   and ep_done_scan then wakes the next waiter: an event nobody takes
 *   wakes every waiter of the instance in turn (the herd below);
 * - an EPOLLEXCLUSIVE item's wait entry is queued at the tail of the
 *   file's wait queue and its callback stops the wakeup there when its
 *   instance had a waiter: one instance per write, the first one added;
 * - ep_poll_callback lets a wakeup without a key (pollflags 0) queue the
 *   item and wake a waiter; signalfd's wakeups carry none
 *   (signalfd_notify: wake_up), so a signal that is not in a signalfd's
 *   mask wakes its waiter for nothing;
 * - closing an fd whose file stays open through a dup leaves the epitem
 *   (ep_remove happens at the file's last fput): the close pitfall.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include "workload_ops.h"

#define W (&workload_ops)

#define DW_MS		10000	/* bound on every wait that must not time out */
#define DW_TAG_STOP	(1ULL << 47)	/* tells a crew thread to stop (as workload.c) */
#define DW_THREADS	4	/* the herd, its exclusive twin */
#define DW_EXCL		3	/* threads on the shared instance of the imbalance */
#define DW_EXCL_ROUNDS	25	/* ... times DW_EXCL wakeups: 75, above 50 */
#define DW_SPIN_WAITS	48	/* consecutive deliveries: 3 times the default 16 */
#define DW_SAT_WAITS	40	/* exactly maxevents: 40 of 40, the default is 50% of 20 */
#define DW_RATE_MS	1500	/* busy-poll, zero-wakeups: rates are measured over 1 s */
#define DW_BUSY_BURST	40	/* timeout-0 waits in a row ... */
#define DW_BUSY_PAUSE_MS 10	/* ... then a pause: about 4000 a second, the default 1000 */
#define DW_ZERO_MS	10	/* 0-event wakeups: one a wait, 100 a second, the default 10 */
#define DW_RES_ROUNDS	3
#define DW_RES_MS	500	/* held on the ready list: 50 times the default 10 ms, and
				 * several snapshot walks (sampled without callbacks) */

/* ---- a crew of threads, each in a wait loop on its instance ------------ */

struct dcrew {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int woke;		/* waits that returned data, every thread */
	int drained;		/* reads after them */
	int took;		/* ... that found the count */
	int drain_gen;		/* hold_drain: bumped to let the woken read */
	int round;		/* hold_round: bumped to let them wait again */
	int done;		/* threads out of their loop */
	bool stop;		/* no more holding back */
};

struct dthr {
	struct dcrew *c;
	pthread_t th;
	bool started;
	pid_t tid;		/* set by the thread (atomic) */
	int ep, efd;
	bool hold_drain;	/* after a wakeup, read only when the main thread says */
	bool hold_round;	/* after the read, wait again only in the next round */
	int woke, took;		/* under c->mu */
};

static struct timespec dl_after(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* under c->mu: until *v >= want or the bound; 0 or ETIMEDOUT */
static int cwait_ge(struct dcrew *c, const int *v, int want)
{
	struct timespec dl = dl_after(DW_MS);
	int err = 0;

	while (*v < want && !W->failed() && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
	return *v >= want ? 0 : ETIMEDOUT;
}

/* under c->mu: until *v changes from old, or stop */
static void cwait_change(struct dcrew *c, const int *v, int old)
{
	struct timespec dl = dl_after(DW_MS);
	int err = 0;

	while (*v == old && !c->stop && !W->failed() && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
}

/* one read of the eventfd: 1 it had a count, 0 it was empty (EAGAIN) */
static int take(int efd)
{
	uint64_t v;
	ssize_t n;

	do
		n = read(efd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n == sizeof(v))
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	return W->fail("read(eventfd %d): %s", efd, n < 0 ? strerror(errno) : "short");
}

static void *dthr_main(void *arg)
{
	struct dthr *t = arg;
	struct dcrew *c = t->c;
	struct epoll_event ev[8];

	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELEASE);
	W->truth("\"t\":\"thread\"");
	while (!W->failed()) {
		int n = W->wait(t->ep, ev, 8, DW_MS), gen, round, got;
		bool stop = false, data = false;

		if (n <= 0) {
			W->fail("thread %d: epoll_wait(%d) returned %d (%s)", t->tid, t->ep, n,
				n ? strerror(errno) : "timed out");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 & DW_TAG_STOP)
				stop = true;
			else
				data = true;
		}
		if (stop)
			break;
		if (!data)
			continue;
		pthread_mutex_lock(&c->mu);
		c->woke++;
		t->woke++;
		gen = c->drain_gen;
		round = c->round;
		pthread_cond_broadcast(&c->cv);
		if (t->hold_drain)
			cwait_change(c, &c->drain_gen, gen);
		pthread_mutex_unlock(&c->mu);
		got = take(t->efd);
		pthread_mutex_lock(&c->mu);
		c->drained++;
		if (got > 0) {
			c->took++;
			t->took++;
		}
		pthread_cond_broadcast(&c->cv);
		if (t->hold_round)
			cwait_change(c, &c->round, round);
		pthread_mutex_unlock(&c->mu);
		if (got < 0)
			break;
	}
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void crew_init(struct dcrew *c)
{
	pthread_condattr_t ca;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* bounded, polling /proc: tid is asleep inside an epoll wait */
static int await_asleep(pid_t tid)
{
	for (int i = 0; i < 4000 && !W->failed(); i++) {
		int r = W->asleep(tid);

		if (r > 0)
			return 0;
		if (r < 0)
			return W->fail("thread %d: cannot tell whether it sleeps (%d)", tid, r);
		usleep(i < 50 ? 100 : 2000);
	}
	return W->fail("thread %d never fell asleep in an epoll wait", tid);
}

static pid_t thr_tid(struct dthr *t)
{
	for (int i = 0; i < 5000; i++) {
		pid_t tid = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);

		if (tid)
			return tid;
		usleep(1000);
	}
	return W->fail("a thread never started"), 0;
}

/* the threads not held back by the crew are asleep in their waits */
static int await_free_asleep(struct dthr *t, int n)
{
	for (int i = 0; i < n; i++) {
		struct dcrew *c = t[i].c;
		bool held;
		pid_t tid = thr_tid(&t[i]);

		if (!tid)
			return -1;
		pthread_mutex_lock(&c->mu);
		/* a woken thread that holds for its round is in a futex, not a wait */
		held = t[i].hold_round && t[i].woke > c->round;
		pthread_mutex_unlock(&c->mu);
		if (!held && await_asleep(tid))
			return -1;
	}
	return 0;
}

/* one at a time, each asleep before the next starts: their order on ep->wq is known */
static int crew_start(struct dthr *t, int n)
{
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&t[i].th, NULL, dthr_main, &t[i]);

		if (err)
			return W->fail("pthread_create: %s", strerror(err));
		t[i].started = true;
		if (await_asleep(thr_tid(&t[i])))
			return -1;
	}
	return 0;
}

/* ends every started thread (a stop item made ready on each instance), bounded */
static int crew_stop(struct dthr *t, int n, const int *stopw)
{
	struct dcrew *c = t[0].c;
	struct timespec dl;
	int r = 0;

	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (int i = 0; i < n; i++)
		if (stopw[i] >= 0)
			W->put_byte(stopw[i]);
	for (int i = 0; i < n; i++) {
		int err;

		if (!t[i].started)
			continue;
		dl = (struct timespec){ 0 };
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += DW_MS / 1000 + 1;
		err = pthread_timedjoin_np(t[i].th, NULL, &dl);
		if (err) {
			/* still running: it keeps the crew, which is never freed */
			r = W->fail("joining thread %d: %s", t[i].tid, strerror(err));
			continue;
		}
		t[i].started = false;
	}
	return r;
}

/* a level-triggered stop item on ep: readable once a byte is written to *w */
static int add_stop(int ep, int *w)
{
	int p[2];

	if (W->make_pipe(p) ||
	    W->ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, workload_tag(ep, p[0]) | DW_TAG_STOP, 0))
		return -1;
	*w = p[1];
	return 0;
}

/* "[a,b,c]" of n ints, into buf */
static const char *ints(char *buf, size_t len, const int *v, int n)
{
	size_t off = 0;

	buf[off++] = '[';
	for (int i = 0; i < n && off + 16 < len; i++)
		off += snprintf(buf + off, len - off, "%s%d", i ? "," : "", v[i]);
	snprintf(buf + off, len - off, "]");
	return buf;
}

/*
 * The line tests/check_findings.py holds the findings to: a finding must
 * name at least min_fds of fds and no other, at least min_tids of tids and
 * no other, and every one of must (the thread it is about)
 */
static void diag_truth(const char *det, bool expect, int epfd, const int *fds, int nfds,
		       int min_fds, const int *tids, int ntids, int min_tids, int must)
{
	char f[256], t[256], m[24] = "";

	if (must)
		snprintf(m, sizeof(m), "%d", must);
	W->truth("\"t\":\"diag\",\"detector\":\"%s\",\"expect\":%s,\"epfd\":%d,\"fds\":%s,"
		 "\"min_fds\":%d,\"tids\":%s,\"min_tids\":%d,\"must_tids\":[%s]", det,
		 expect ? "true" : "false", epfd, ints(f, sizeof(f), fds, nfds), min_fds,
		 ints(t, sizeof(t), tids, ntids), min_tids, m);
}

/* ---- herd --------------------------------------------------------------- */

/* voluntary context switches of a thread of ours: each is one sleep; -1 unknown */
static long long vswitches(pid_t tid)
{
	char path[64], buf[4096], *p;
	long long v = -1;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (p)
		v = strtoll(p + 26, NULL, 10);
	return v;
}

struct herd {
	struct dcrew c;
	struct dthr t[DW_THREADS];	/* the last one takes; the others find nothing */
	int cpu;			/* every thread of the herd runs there */
	bool rt;			/* the taker got SCHED_FIFO */
	int idle_returns;		/* waits of the others that returned data (none) */
};

static int pin(int cpu, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one))
		return -1;
	return pthread_setschedparam(pthread_self(), policy, &sp) ? -2 : 0;
}

/*
 * The taker: SCHED_FIFO on the herd's CPU, where the others are
 * SCHED_IDLE: from its wakeup to its next sleep none of them runs there.
 * Its scan puts the level-triggered item back and wakes one of them; it
 * reads the eventfd empty before anything that could block (the truth
 * line, the crew's lock), so the one woken scans an empty eventfd.  The
 * wait is epoll_wait itself for that reason; its line is written after.
 */
static void *herd_taker(void *arg)
{
	struct dthr *t = arg;
	struct herd *h = (struct herd *)((char *)t->c - offsetof(struct herd, c));
	struct dcrew *c = t->c;
	struct epoll_event ev[8];
	char evs[8 * 48];
	int r = pin(h->cpu, SCHED_FIFO, 1);

	if (r == -2)
		r = pin(h->cpu, SCHED_OTHER, 0);	/* no RT here: SCHED_IDLE must do */
	else
		h->rt = !r;
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELEASE);
	if (r)
		return W->fail("cannot pin thread %d to CPU %d", gettid(), h->cpu), NULL;
	W->truth("\"t\":\"thread\",\"role\":\"taker\",\"cpu\":%d,\"fifo\":%s", h->cpu,
		 h->rt ? "true" : "false");
	while (!W->failed()) {
		int n = epoll_wait(t->ep, ev, 8, DW_MS), err = errno, got = 0, round;
		bool stop = false;

		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 & DW_TAG_STOP)
				stop = true;
			else
				got = take(t->efd);
		}
		evs[0] = 0;
		for (int i = 0, off = 0; i < n; i++)
			off += snprintf(evs + off, sizeof(evs) - off,
					"%s{\"events\":%u,\"data\":%llu}", i ? "," : "",
					ev[i].events, (unsigned long long)ev[i].data.u64);
		W->truth("\"t\":\"wait\",\"syscall\":\"epoll_wait\",\"epfd\":%d,\"maxevents\":8,"
			 "\"timeout_ms\":%d,\"ret\":%d,\"errno\":%d,\"events\":[%s]", t->ep,
			 DW_MS, n, n < 0 ? err : 0, evs);
		if (n <= 0) {
			W->fail("thread %d: epoll_wait(%d) returned %d", t->tid, t->ep, n);
			break;
		}
		if (stop || got < 0)
			break;
		pthread_mutex_lock(&c->mu);
		c->woke++;
		c->drained++;
		c->took += got;
		t->woke++;
		t->took += got;
		round = c->round;
		pthread_cond_broadcast(&c->cv);
		cwait_change(c, &c->round, round);
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* the others: SCHED_IDLE on the herd's CPU, woken for nothing, until the stop item */
static void *herd_other(void *arg)
{
	struct dthr *t = arg;
	struct herd *h = (struct herd *)((char *)t->c - offsetof(struct herd, c));
	struct dcrew *c = t->c;
	struct epoll_event ev[8];
	int r = pin(h->cpu, SCHED_IDLE, 0);

	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELEASE);
	if (r)
		return W->fail("cannot pin thread %d to CPU %d at SCHED_IDLE", gettid(),
			       h->cpu), NULL;
	W->truth("\"t\":\"thread\",\"role\":\"other\",\"cpu\":%d", h->cpu);
	while (!W->failed()) {
		int n = W->wait(t->ep, ev, 8, -1);
		bool stop = false;

		if (n <= 0) {
			W->fail("thread %d: epoll_wait(%d) returned %d", t->tid, t->ep, n);
			break;
		}
		for (int i = 0; i < n; i++)
			stop |= !!(ev[i].data.u64 & DW_TAG_STOP);
		if (stop)
			break;
		pthread_mutex_lock(&c->mu);
		h->idle_returns++;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/*
 * ok false: DW_THREADS threads asleep on one instance watching one
 * level-triggered eventfd, all on one CPU; the taker slept last, so a
 * write wakes it (ep->wq is LIFO).  It returns the event and its scan puts
 * the item back and wakes the next sleeper, which runs only once the taker
 * has read the eventfd empty (see herd_taker): that one's scan finds
 * nothing and it sleeps again without returning.  Two woken, one took it.
 * Three times.
 * ok true: the same number of threads, one instance each, the eventfd
 * added with EPOLLEXCLUSIVE, no scheduling games: each write wakes one
 * thread, which takes it.
 */
static int herd_ok(void)
{
	enum { N = DW_THREADS, ROUNDS = 3 };
	struct dcrew c;
	struct dthr t[N] = {};
	int ep[N], stopw[N], efd, tids[N], r = -1;

	crew_init(&c);
	efd = W->make_eventfd();
	if (efd < 0)
		return -1;
	for (int i = 0; i < N; i++) {
		ep[i] = W->ep_create(false);
		if (ep[i] < 0 ||
		    W->ctl(ep[i], EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE,
			   workload_tag(ep[i], efd), 0) ||
		    add_stop(ep[i], &stopw[i]))
			return -1;
		t[i] = (struct dthr){ .c = &c, .ep = ep[i], .efd = efd, .hold_drain = true };
	}
	if (crew_start(t, N))
		goto stop;
	for (int round = 0; round < ROUNDS; round++) {
		int woke;

		if (await_free_asleep(t, N) || W->bump_eventfd(efd))
			goto stop;
		pthread_mutex_lock(&c.mu);
		r = cwait_ge(&c, &c.woke, round + 1);
		pthread_mutex_unlock(&c.mu);
		if (r) {
			r = W->fail("herd: no thread took write %d", round);
			goto stop;
		}
		r = -1;
		/*
		 * The others, seen asleep in their waits while the event is still
		 * unread, were not woken (a woken one would return it and hold)
		 */
		for (int i = 0; i < N; i++) {
			pthread_mutex_lock(&c.mu);
			woke = t[i].woke;
			pthread_mutex_unlock(&c.mu);
			if (woke == round && await_asleep(t[i].tid))
				goto stop;
		}
		pthread_mutex_lock(&c.mu);
		woke = c.woke;
		c.drain_gen++;
		pthread_cond_broadcast(&c.cv);
		cwait_ge(&c, &c.drained, round + 1);
		pthread_mutex_unlock(&c.mu);
		if (woke != round + 1 || c.took != round + 1) {
			W->fail("the kernel disagrees: exclusive: write %d woke %d threads, %d "
				"took it", round, woke - round, c.took - round);
			goto stop;
		}
	}
	r = 0;
stop:
	if (crew_stop(t, N, stopw))
		return -1;	/* a thread still runs: the crew stays */
	if (r)
		return -1;
	W->truth("\"t\":\"diag_herd\",\"rounds\":%d,\"woken\":%d,\"took\":%d", ROUNDS, c.woke,
		 c.took);
	for (int i = 0; i < N; i++) {
		tids[i] = t[i].tid;
		diag_truth("herd", false, ep[i], &efd, 1, 0, &tids[i], 1, 0, 0);
	}
	return 0;
}

static int herd(bool ok)
{
	enum { N = DW_THREADS, ROUNDS = 3 };
	static struct herd h;	/* leaked on purpose if a thread cannot be joined */
	struct dthr *t = h.t, *taker = &h.t[N - 1];
	int ep, stopw[N], efd, tids[N], woken[N] = {}, wk = 0, r = -1;
	long long sw[N];

	if (ok)
		return herd_ok();
	memset(&h, 0, sizeof(h));
	crew_init(&h.c);
	h.cpu = sched_getcpu();
	if (h.cpu < 0)
		return W->fail("sched_getcpu: %s", strerror(errno));
	for (int i = 0; i < N; i++)
		stopw[i] = -1;
	efd = W->make_eventfd();
	ep = W->ep_create(false);
	if (efd < 0 || ep < 0 ||
	    W->ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, workload_tag(ep, efd), 0) ||
	    add_stop(ep, &stopw[0]))
		return -1;
	/* one at a time, each asleep before the next: the taker last, on top of ep->wq */
	for (int i = 0; i < N; i++) {
		int err;

		t[i] = (struct dthr){ .c = &h.c, .ep = ep, .efd = efd };
		err = pthread_create(&t[i].th, NULL, &t[i] == taker ? herd_taker : herd_other,
				     &t[i]);
		if (err) {
			W->fail("pthread_create: %s", strerror(err));
			goto stop;
		}
		t[i].started = true;
		if (await_asleep(thr_tid(&t[i])))
			goto stop;
	}
	for (int round = 0; round < ROUNDS; round++) {
		bool again = false;

		/* the taker waits again only now: it slept last */
		if (round) {
			pthread_mutex_lock(&h.c.mu);
			h.c.round++;
			pthread_cond_broadcast(&h.c.cv);
			pthread_mutex_unlock(&h.c.mu);
		}
		if (await_asleep(taker->tid))
			goto stop;
		for (int i = 0; i < N - 1; i++)
			sw[i] = vswitches(t[i].tid);
		if (W->bump_eventfd(efd))
			goto stop;
		pthread_mutex_lock(&h.c.mu);
		r = cwait_ge(&h.c, &h.c.drained, round + 1);
		pthread_mutex_unlock(&h.c.mu);
		if (r || h.c.took != round + 1) {
			r = W->fail("herd: round %d: the taker took %d of %d writes", round,
				    h.c.took, round + 1);
			goto stop;
		}
		r = -1;
		/* one other was woken by the taker's scan: it slept again, nothing returned */
		for (int k = 0; k < 5000 && !again; k++) {
			for (int i = 0; i < N - 1 && !again; i++) {
				long long v = vswitches(t[i].tid);

				if (v > sw[i] && W->asleep(t[i].tid) == 1) {
					again = true;
					woken[wk < N ? wk++ : 0] = t[i].tid;
				}
			}
			if (!again)
				usleep(2000);
		}
		if (!again || h.idle_returns) {
			W->fail("the kernel disagrees: herd: round %d: %s", round, !again ?
				"no other thread was woken by the taker's scan" :
				"another thread returned the event the taker had read");
			goto stop;
		}
	}
	r = 0;
stop:
	if (crew_stop(t, N, stopw))
		return -1;	/* a thread still runs: h stays as it is */
	if (r)
		return -1;
	for (int i = 0; i < N; i++)
		tids[i] = t[i].tid;
	W->truth("\"t\":\"diag_herd\",\"rounds\":%d,\"taker\":%d,\"fifo\":%s,\"woken_for_nothing\":"
		 "[%d,%d,%d]", ROUNDS, taker->tid, h.rt ? "true" : "false", woken[0], woken[1],
		 woken[2]);
	diag_truth("herd", true, ep, &efd, 1, 1, tids, N, 2, taker->tid);
	return 0;
}

/* ---- exclusive imbalance ------------------------------------------------- */

/*
 * One eventfd, EPOLLEXCLUSIVE (and edge-triggered: no scan wakes another
 * thread) on two instances: DW_EXCL threads on the first, one on the
 * second.  Each write wakes one thread of the first instance (its entry
 * comes first in the eventfd's queue and it always has a sleeper), the one
 * that slept last.
 * ok false: the woken thread reads and waits again at once: it slept last,
 * it is woken next, every time: one thread takes them all.
 * ok true: the woken thread holds until DW_EXCL writes have gone (one
 * round): each thread of the instance takes one write a round.
 */
static int excl(bool ok)
{
	enum { N = DW_EXCL + 1 };
	struct dcrew c;
	struct dthr t[N] = {};
	int ep[2], stopw[N], efd, tids[N], wins[N], best = 0, total, r = -1;
	char w[128];

	crew_init(&c);
	for (int i = 0; i < N; i++)
		stopw[i] = -1;
	efd = W->make_eventfd();
	if (efd < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		ep[i] = W->ep_create(false);
		if (ep[i] < 0 ||
		    W->ctl(ep[i], EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE,
			   workload_tag(ep[i], efd), 0))
			return -1;
	}
	/* one stop item per instance; one byte wakes every thread of it */
	if (add_stop(ep[0], &stopw[0]) || add_stop(ep[1], &stopw[1]))
		return -1;
	for (int i = 0; i < N; i++)
		t[i] = (struct dthr){ .c = &c, .ep = ep[i < DW_EXCL ? 0 : 1], .efd = efd,
			.hold_round = ok };
	if (crew_start(t, N))
		goto stop;
	for (int round = 0, k = 0; round < DW_EXCL_ROUNDS; round++) {
		for (int j = 0; j < DW_EXCL; j++, k++) {
			if (await_free_asleep(t, N) || W->bump_eventfd(efd))
				goto stop;
			pthread_mutex_lock(&c.mu);
			r = cwait_ge(&c, &c.drained, k + 1);
			pthread_mutex_unlock(&c.mu);
			if (r) {
				r = W->fail("exclusive imbalance: no thread took write %d", k);
				goto stop;
			}
			r = -1;
		}
		pthread_mutex_lock(&c.mu);
		c.round++;
		pthread_cond_broadcast(&c.cv);
		pthread_mutex_unlock(&c.mu);
	}
	r = 0;
stop:
	if (crew_stop(t, N, stopw))
		return -1;
	if (r)
		return -1;
	total = DW_EXCL * DW_EXCL_ROUNDS;
	for (int i = 0; i < N; i++) {
		tids[i] = t[i].tid;
		wins[i] = t[i].woke;
		if (wins[i] > wins[best])
			best = i;
	}
	W->truth("\"t\":\"diag_excl\",\"writes\":%d,\"wins\":%s,\"top\":%d", total,
		 ints(w, sizeof(w), wins, N), tids[best]);
	if (c.woke != total || c.took != total)
		return W->fail("the kernel disagrees: exclusive imbalance: %d writes woke %d "
			       "threads, %d took the count", total, c.woke, c.took);
	if (!ok) {
		/* LIFO on ep->wq: the thread that slept last is woken */
		if (wins[best] < total - 1)
			return W->fail("the kernel disagrees: exclusive imbalance: thread %d took "
				       "%d of %d wakeups, expected all but the first",
				       tids[best], wins[best], total);
		diag_truth("exclusive-imbalance", true, ep[0], &efd, 1, 0, tids, N, 1, tids[best]);
		return 0;
	}
	for (int i = 0; i < DW_EXCL; i++)
		if (wins[i] != DW_EXCL_ROUNDS)
			return W->fail("exclusive imbalance: thread %d took %d of %d wakeups, "
				       "expected one a round", tids[i], wins[i], total);
	diag_truth("exclusive-imbalance", false, ep[0], &efd, 1, 0, tids, N, 0, 0);
	diag_truth("exclusive-imbalance", false, ep[1], &efd, 1, 0, tids, N, 0, 0);
	return 0;
}

/* ---- level-triggered spin ------------------------------------------------ */

/*
 * ok false: a level-triggered eventfd made readable and never read: every
 * wait returns it at once, DW_SPIN_WAITS times in a row.
 * ok true: two level-triggered eventfds, written and read in turn: each
 * delivered every other wait, each delivery a new write, read before the
 * next wait.
 */
static int lt_spin(bool ok)
{
	int ep = W->ep_create(false), a = W->make_eventfd(), b = W->make_eventfd(), fds[2];
	int tid = gettid();

	if (ep < 0 || a < 0 || b < 0 ||
	    W->ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, workload_tag(ep, a), 0) ||
	    W->ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, workload_tag(ep, b), 0))
		return -1;
	if (!ok && W->bump_eventfd(a))
		return -1;
	for (int i = 0; i < DW_SPIN_WAITS; i++) {
		int fd = ok && i % 2 ? b : a;

		if (ok && W->bump_eventfd(fd))
			return -1;
		if (W->wait_one(ep, workload_tag(ep, fd), EPOLLIN,
				ok ? "a written eventfd" : "an unread level-triggered eventfd"))
			return -1;
		if (ok && W->drain(fd))
			return -1;
	}
	/*
	 * ok: the last item delivered was read, but as a level-triggered one
	 * it was put back on the ready list, where it would stay (unreadable)
	 * until the next scan: that scan, now
	 */
	if (ok && W->wait(ep, (struct epoll_event[1]){}, 1, 0) != 0)
		return W->fail("the kernel disagrees: lt spin: a read item was delivered again");
	fds[0] = a;
	fds[1] = b;
	diag_truth("lt-spin", !ok, ep, fds, ok ? 2 : 1, 1, &tid, 1, 1, 0);
	return 0;
}

/* ---- maxevents saturation ------------------------------------------------- */

/*
 * ok false: eight level-triggered eventfds readable, waits with maxevents
 * 4: each returns 4, puts them back behind the other 4 (list_add_tail),
 * so the list always holds 8 and each item goes out every other wait.
 * ok true: the eight edge-triggered, written again before each wait with
 * maxevents 16: each returns 8, the list empty after it.
 */
static int maxevents_sat(bool ok)
{
	enum { NFD = 8 };
	int ep = W->ep_create(false), fd[NFD], tid = gettid(), max = ok ? 16 : 4;
	struct epoll_event ev[16];

	if (ep < 0)
		return -1;
	for (int i = 0; i < NFD; i++) {
		fd[i] = W->make_eventfd();
		if (fd[i] < 0 ||
		    W->ctl(ep, EPOLL_CTL_ADD, fd[i], EPOLLIN | (ok ? EPOLLET : 0),
			   workload_tag(ep, fd[i]), 0) ||
		    (!ok && W->bump_eventfd(fd[i])))
			return -1;
	}
	for (int i = 0; i < DW_SAT_WAITS; i++) {
		int n;

		for (int j = 0; ok && j < NFD; j++)
			if (W->bump_eventfd(fd[j]))
				return -1;
		n = W->wait(ep, ev, max, DW_MS);
		if (n != (ok ? NFD : max))
			return W->fail("the kernel disagrees: maxevents: a wait with %d of %d "
				       "ready returned %d", max, NFD, n);
	}
	diag_truth("maxevents-saturation", !ok, ep, fd, NFD, 0, &tid, 1, 1, 0);
	return 0;
}

/* ---- busy polling ----------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/*
 * Timeout-0 waits in bursts of DW_BUSY_BURST, a DW_BUSY_PAUSE_MS pause
 * between bursts, for DW_RATE_MS: the detectors measure a rate over a
 * second of stream time at least, and the bursts keep it near 4000 a
 * second (a few thousand records a second, not the million a bare loop
 * makes).  epoll_wait itself, not the wrapper: a ground-truth line each
 * would be most of the work; their count goes in one line.
 * ok false: nothing is ever ready: every one returns 0.
 * ok true: an edge-triggered eventfd written before each: each returns it.
 */
static int busy_poll(bool ok)
{
	int ep = W->ep_create(false), e = W->make_eventfd(), tid = gettid(), empty = 0, n = 0;
	long long start = now_ms(), end;
	struct epoll_event ev[4];

	if (ep < 0 || e < 0 ||
	    W->ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, workload_tag(ep, e), 0))
		return -1;
	while (now_ms() - start < DW_RATE_MS) {
		for (int i = 0; i < DW_BUSY_BURST; i++, n++) {
			int ret;

			if (ok && W->bump_eventfd(e))
				return -1;
			ret = epoll_wait(ep, ev, 4, 0);
			if (ret < 0)
				return W->fail("epoll_wait(%d): %s", ep, strerror(errno));
			if (ret != (ok ? 1 : 0))
				return W->fail("the kernel disagrees: busy poll: a timeout-0 wait "
					       "returned %d", ret);
			empty += !ret;
			if (ok && W->drain(e))
				return -1;
		}
		sleep_ms(DW_BUSY_PAUSE_MS);
	}
	end = now_ms();
	W->truth("\"t\":\"waits\",\"epfd\":%d,\"timeout_ms\":0,\"count\":%d,\"empty\":%d,"
		 "\"ms\":%lld", ep, n, empty, end - start);
	diag_truth("busy-poll", !ok, ep, &e, 1, 0, &tid, 1, 1, 0);
	return 0;
}

/* ---- 0-event wakeups ----------------------------------------------------------- */

struct zhelp {
	pid_t main_tid;
	int efd;		/* ok: written once in each wait of the main thread */
	bool ok;
	int gen;		/* atomic: the main thread's wait going on (1, 2, ...) */
	bool done;		/* atomic: the main thread's waits are over */
	int pokes;		/* what the helper did */
	pthread_t th;
};

/*
 * Once in each wait of the main thread, when it is seen asleep there: ok,
 * one write to the eventfd it waits for; not ok, SIGURG raised at this
 * thread, where it is blocked: it is pending (a blocked signal is never
 * ignored), so signalfd_notify wakes the signalfd's queue, keyless, and
 * the main thread's scan finds nothing (its signalfd takes SIGUSR2 only)
 * and it sleeps again until its timeout.
 */
static void *zero_helper(void *arg)
{
	struct zhelp *z = arg;
	struct timespec zero = { 0, 0 };
	sigset_t urg;
	int last = 0;

	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	pthread_sigmask(SIG_BLOCK, &urg, NULL);
	while (!__atomic_load_n(&z->done, __ATOMIC_ACQUIRE) && !W->failed()) {
		int gen = __atomic_load_n(&z->gen, __ATOMIC_ACQUIRE), a;

		if (gen == last) {
			usleep(100);
			continue;
		}
		a = W->asleep(z->main_tid);
		if (a < 0)
			break;
		/* read again: asleep in the same wait, not the next one's start */
		if (a == 0 || __atomic_load_n(&z->gen, __ATOMIC_ACQUIRE) != gen) {
			usleep(100);
			continue;
		}
		if (z->ok) {
			if (W->bump_eventfd(z->efd))
				break;
		} else {
			if (syscall(SYS_tgkill, getpid(), gettid(), SIGURG))
				break;
			while (sigtimedwait(&urg, NULL, &zero) < 0 && errno == EINTR)
				;
		}
		z->pokes++;
		last = gen;
	}
	return NULL;
}

/*
 * For DW_RATE_MS (the rate is measured over a second at least), waits
 * with a DW_ZERO_MS timeout on an instance with one item.
 * ok false: the item is a signalfd for SIGUSR2, never readable; a helper
 * thread wakes each wait once for nothing (see zero_helper): the wait
 * sleeps again and returns 0 at its timeout, after a wakeup that was not
 * its timer's: a 0-event wakeup, about 1000 / DW_ZERO_MS a second.
 * ok true: the item is an edge-triggered eventfd the helper writes once in
 * each wait, which returns it; a DW_ZERO_MS pause between waits keeps the
 * same pace.
 */
static int zero_wakeups(bool ok)
{
	struct zhelp z = { .main_tid = gettid(), .ok = ok };
	int ep = W->ep_create(false), fd, tid = gettid(), zeros = 0, n = 0, err, r = 0;
	long long start = now_ms();
	struct epoll_event ev[4];
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (ep < 0)
		return -1;
	if (ok) {
		fd = W->make_eventfd();
	} else {
		fd = signalfd(-1, &usr2, SFD_NONBLOCK | SFD_CLOEXEC);
		if (fd < 0)
			return W->fail("signalfd: %s", strerror(errno));
		fd = W->track(fd, "signalfd", "signalfd");
	}
	if (fd < 0 ||
	    W->ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | (ok ? EPOLLET : 0), workload_tag(ep, fd), 0))
		return -1;
	z.efd = fd;
	err = pthread_create(&z.th, NULL, zero_helper, &z);
	if (err)
		return W->fail("pthread_create: %s", strerror(err));
	while (!r && now_ms() - start < DW_RATE_MS) {
		int ret;

		__atomic_store_n(&z.gen, ++n, __ATOMIC_RELEASE);
		ret = W->wait(ep, ev, 4, ok ? DW_MS : DW_ZERO_MS);
		if (ret < 0)
			r = W->fail("epoll_wait(%d): %s", ep, strerror(errno));
		else if (ok && ret != 1)
			r = W->fail("zero wakeups: a wait woken by a write returned %d", ret);
		else if (!ok && ret)
			r = W->fail("the kernel disagrees: a signal outside a signalfd's mask "
				    "made it readable");
		zeros += !ret;
		if (!r && ok) {
			r = W->drain(fd);
			sleep_ms(DW_ZERO_MS);
		}
	}
	__atomic_store_n(&z.done, true, __ATOMIC_RELEASE);
	pthread_join(z.th, NULL);
	if (r)
		return -1;
	W->truth("\"t\":\"waits\",\"epfd\":%d,\"count\":%d,\"zero\":%d,\"pokes\":%d,\"ms\":%lld",
		 ep, n, zeros, z.pokes, now_ms() - start);
	diag_truth("zero-wakeups", !ok, ep, &fd, 1, 0, &tid, 1, 1, 0);
	return 0;
}

/* ---- stale registration ---------------------------------------------------- */

/*
 * An eventfd added, dup'd, its first fd closed: the file stays open (the
 * dup), so its epitem stays, keyed by the closed fd number.  A new
 * eventfd then takes that number (the lowest free).  Events written to
 * the dup keep arriving under the old number: the close pitfall.
 * ok true: the same, but the item is deleted (EPOLL_CTL_DEL) before the
 * close, and the new eventfd is added under its number.
 */
static int stale_reg(bool ok)
{
	int ep = W->ep_create(false), e = W->make_eventfd(), d, n, tid = gettid(), watch;

	if (ep < 0 || e < 0 ||
	    W->ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, workload_tag(ep, e), 0))
		return -1;
	d = W->dup_fd(e);
	if (d < 0 || (ok && W->ctl(ep, EPOLL_CTL_DEL, e, 0, 0, 0)) || W->close_fd(e))
		return -1;
	n = W->make_eventfd();
	if (n < 0)
		return -1;
	if (n != e)
		W->truth("\"t\":\"note\",\"text\":\"fd %d not reused (new eventfd %d)\"", e, n);
	if (ok && W->ctl(ep, EPOLL_CTL_ADD, n, EPOLLIN | EPOLLET, workload_tag(ep, n), 0))
		return -1;
	watch = ok ? n : d;
	for (int i = 0; i < 4; i++) {
		/* not ok: written through the dup, reported under the closed number */
		if (W->bump_eventfd(watch) ||
		    W->wait_one(ep, workload_tag(ep, ok ? n : e), EPOLLIN,
				ok ? "a registered eventfd" : "an eventfd closed under its number"))
			return -1;
		if (W->drain(watch))
			return -1;
	}
	if (W->expect(ep))
		return -1;
	diag_truth("stale-registration", !ok, ep, &e, 1, 1, &tid, 1, 0, 0);
	return 0;
}

/* ---- long ready-list residency -------------------------------------------------- */

/*
 * ok false: an eventfd written, then the only thread busy elsewhere (a
 * sleep, not a wait) for DW_RES_MS before it collects it: the item waits
 * on the ready list all that time.  Three times.
 * ok true: the same pauses, taken with nothing ready: the write comes just
 * before the wait, which collects it at once.  Edge-triggered: a delivered
 * level-triggered item would be put back on the list and stay there,
 * unreadable, until the next wait's scan, through the pause.
 */
static int long_residency(bool ok)
{
	int ep = W->ep_create(false), e = W->make_eventfd(), tid = gettid();

	if (ep < 0 || e < 0 ||
	    W->ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, workload_tag(ep, e), 0))
		return -1;
	for (int i = 0; i < DW_RES_ROUNDS; i++) {
		if (ok)
			sleep_ms(DW_RES_MS);
		if (W->bump_eventfd(e))
			return -1;
		if (!ok)
			sleep_ms(DW_RES_MS);
		if (W->wait_one(ep, workload_tag(ep, e), EPOLLIN, "a written eventfd") ||
		    W->drain(e))
			return -1;
	}
	diag_truth("long-residency", !ok, ep, &e, 1, 1, &tid, 1, 0, 0);
	return 0;
}

/* ---- the scenarios ------------------------------------------------------------- */

#define DIAG_PAIR(name, fn) \
	int sc_diag_##name(int scale) { (void)scale; return fn(false); } \
	int sc_diag_##name##_ok(int scale) { (void)scale; return fn(true); }

DIAG_PAIR(herd, herd)
DIAG_PAIR(excl, excl)
DIAG_PAIR(lt_spin, lt_spin)
DIAG_PAIR(sat, maxevents_sat)
DIAG_PAIR(busy, busy_poll)
DIAG_PAIR(zero, zero_wakeups)
DIAG_PAIR(stale, stale_reg)
DIAG_PAIR(residency, long_residency)
