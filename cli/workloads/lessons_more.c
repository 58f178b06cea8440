// SPDX-License-Identifier: GPL-2.0
/*
 * Lessons 5-8 of `epolltrace learn` (lesson.h): the thundering herd and
 * EPOLLEXCLUSIVE, nested epoll, the close pitfall, and the acceptor and
 * its worker pool.
 *
 * Each step leaves the kernel in one known state before it returns: the
 * threads that must sleep in epoll_wait are seen asleep, the items that
 * must be queued are queued.  Where an outcome would be a race (which of
 * two wakeups comes first, whether a scan runs before a read), the lesson
 * orders it: its threads hold between calls until the main thread lets
 * them go on.  Wakeups come from AF_UNIX sockets and pipes, whose writers
 * run ep_poll_callback synchronously, in the writer's own context: when
 * connect() or write() returns, every wakeup it causes has happened.
 *
 * The kernel's behaviour narrated here was read in fs/eventpoll.c (the
 * 5.x scan_ready_list era and a 2026 tree; the functions named are in
 * 6.1 and 6.12 alike) and kernel/sched/wait.c, and every step's state was
 * seen by the tracer's snapshots on 6.1, 6.12 and 6.18 (tests/lessons.sh,
 * tests/lessons_vm.sh):
 *  - ep_poll() queues its sleeper with __add_wait_queue_exclusive(), and
 *    ep_poll_callback() wakes ep->wq with wake_up(): one sleeper per call;
 *    a woken sleeper whose ep_send_events() copies nothing sleeps again
 *    inside ep_poll() without returning (a 0-event wakeup);
 *  - ep_done_scan() wakes ep->wq again when the scan left items queued
 *    (level-triggered ones put back): the next sleeper wakes, and so on;
 *  - ep_ptable_queue_proc() hangs an EPOLLEXCLUSIVE item's entry with
 *    add_wait_queue_exclusive() (at the tail, in ADD order), and
 *    ep_poll_callback() returns 1 for it only when it woke a sleeper:
 *    __wake_up_common() stops at the first such entry;
 *  - an instance watched by another: ep_eventpoll_poll() hangs the outer
 *    item's entry on the inner eventpoll's poll_wait; ep_poll_callback on
 *    the inner instance wakes it with ep_poll_safewake(); the outer scan
 *    asks the inner one with __ep_eventpoll_poll(), which scans the inner
 *    rdllist and drops items that are no longer ready;
 *  - close(): only the last reference to a file runs __fput() and so
 *    eventpoll_release() -> eventpoll_release_file(), which removes every
 *    epitem of the file; the epitem's key is (file, fd at ADD time);
 *  - EPOLLONESHOT: ep_send_events() clears the item's events but for
 *    EP_PRIVATE_BITS; ep_poll_callback() then returns at once; MOD
 *    (ep_modify) re-arms and polls the file, queueing it if it is ready.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "i18n.h"
#include "lesson.h"
#include "workload_ops.h"

#define W (&workload_ops)
#define LM_WAIT_MS	5000	/* bound on every wait of the main thread */
#define HERD_N		3	/* threads (and instances) of the herd lesson */
#define POOL_WORKERS	2
#define STOP_SIGNAL	SIGURG	/* ends a wait at teardown; ignored by default */

/* ---- threads that hold between steps ------------------------------------ */

struct lcrew {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool inited;
	bool stop;		/* teardown: every thread returns */
};

struct lthread {
	struct lcrew *crew;
	void (*fn)(struct lthread *t);
	void *arg;		/* the lesson's state */
	pthread_t th;
	bool started;
	pid_t tid;		/* set by the thread (atomic) */
	int idx;
	/* under crew->mu */
	int go;			/* permissions to go on, given */
	int used;		/* ... and taken */
	int reports;		/* things done, told to the main thread */
	long long val[3];	/* what the last report says */
	int job;		/* pool workers: the connection handed over */
};

static int crew_init(struct lcrew *c)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->inited = true;
	return 0;
}

static struct timespec deadline_ms(int ms)
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

static bool crew_stopping(struct lcrew *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->stop;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* the thread: tell the main thread what it did (v0..v2) */
static void lt_report(struct lthread *t, long long v0, long long v1, long long v2)
{
	pthread_mutex_lock(&t->crew->mu);
	t->val[0] = v0;
	t->val[1] = v1;
	t->val[2] = v2;
	t->reports++;
	pthread_cond_broadcast(&t->crew->cv);
	pthread_mutex_unlock(&t->crew->mu);
}

/*
 * The thread: wait until allowed to go on.  Unbounded: a presenter may
 * stay on a step for as long as the class needs; teardown sets stop.
 * Returns false when the lesson is ending.
 */
static bool lt_hold(struct lthread *t)
{
	struct lcrew *c = t->crew;
	bool go;

	pthread_mutex_lock(&c->mu);
	while (t->go <= t->used && !c->stop)
		pthread_cond_wait(&c->cv, &c->mu);
	go = !c->stop;
	if (go)
		t->used++;
	pthread_mutex_unlock(&c->mu);
	return go;
}

/* another thread: let t go on once more */
static void lt_go(struct lthread *t)
{
	pthread_mutex_lock(&t->crew->mu);
	t->go++;
	pthread_cond_broadcast(&t->crew->cv);
	pthread_mutex_unlock(&t->crew->mu);
}

static int lt_reports(struct lthread *t)
{
	int n;

	pthread_mutex_lock(&t->crew->mu);
	n = t->reports;
	pthread_mutex_unlock(&t->crew->mu);
	return n;
}

/* the main thread: until t has reported n times (bounded) */
static int lt_await(struct lthread *t, int n)
{
	struct timespec dl = deadline_ms(LM_WAIT_MS);
	struct lcrew *c = t->crew;
	int err = 0, have;

	pthread_mutex_lock(&c->mu);
	while (t->reports < n && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
	have = t->reports;
	pthread_mutex_unlock(&c->mu);
	if (have >= n)
		return 0;
	return W->fail("thread %d did not report (%d of %d) within %d ms", t->tid, have, n,
		       LM_WAIT_MS);
}

static void *lt_main(void *arg)
{
	struct lthread *t = arg;

	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELEASE);
	W->truth("\"t\":\"thread\"");
	t->fn(t);
	return NULL;
}

static int lt_start(struct lthread *t, struct lcrew *c, void (*fn)(struct lthread *), void *arg,
		    int idx)
{
	int err;

	t->crew = c;
	t->fn = fn;
	t->arg = arg;
	t->idx = idx;
	t->job = -1;
	err = pthread_create(&t->th, NULL, lt_main, t);
	if (err)
		return W->fail("pthread_create: %s", strerror(err));
	t->started = true;
	for (int i = 0; i < LM_WAIT_MS * 10 && !__atomic_load_n(&t->tid, __ATOMIC_ACQUIRE); i++)
		usleep(100);
	if (!__atomic_load_n(&t->tid, __ATOMIC_ACQUIRE))
		return W->fail("a new thread did not start within %d ms", LM_WAIT_MS);
	return 0;
}

/* asleep in epoll_wait on epfd, said in the truth too */
static int lt_asleep(struct lesson_rt *rt, struct lthread *t, int epfd)
{
	if (lesson_await_asleep(rt, t->tid))
		return -1;
	W->truth("\"t\":\"asleep\",\"who\":%d,\"epfd\":%d", t->tid, epfd);
	return 0;
}

/*
 * What the tracer must see at the end of this step, for the driver's
 * checker (tests/check_lesson.py) and tests/check_lesson_truth.py --steps:
 * {"t":WHAT,"epfd":E,KEY:[...]}, with WHAT expect_waiters (the threads on
 * wq now, "tids"), expect_callbacks (the items whose ep_poll_callback ran
 * in the step, "fds", as a multiset) or expect_wakeups (the threads woken
 * from wq in the step, "tids").  n values follow, as ints.
 */
static void expect_list(enum lesson_expect what, int epfd, int n, ...)
{
	int v[32];
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n && i < 32; i++)
		v[i] = va_arg(ap, int);
	va_end(ap);
	lesson_expect(what, epfd, n < 32 ? n : 32, v);
}

#define WAITERS(ep, ...)	expect_list(LESSON_EXPECT_WAITERS, ep, __VA_ARGS__)
#define CALLBACKS(ep, ...)	expect_list(LESSON_EXPECT_CALLBACKS, ep, __VA_ARGS__)
#define WAKEUPS(ep, ...)	expect_list(LESSON_EXPECT_WAKEUPS, ep, __VA_ARGS__)

static void stop_handler(int sig)
{
	(void)sig;	/* only there so that a blocking call returns EINTR */
}

static struct sigaction old_stop_action;

static void stop_signal_install(void)
{
	struct sigaction sa = { .sa_handler = stop_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(STOP_SIGNAL, &sa, &old_stop_action);
}

/*
 * Teardown: every started thread told to stop, woken from its epoll_wait
 * by a signal (again and again: one sent before it entered the call is
 * lost), and joined.  A thread that cannot be joined is left running,
 * and its state with it: returns -1, and the caller must not free.
 */
static int crew_stop(struct lcrew *c, struct lthread *t, int n)
{
	int r = 0;

	if (!c->inited)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (int i = 0; i < n; i++) {
		int err = EBUSY;

		if (!t[i].started)
			continue;
		for (int k = 0; k < LM_WAIT_MS / 10 && err; k++) {
			struct timespec dl;

			pthread_kill(t[i].th, STOP_SIGNAL);
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += 10 * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			err = pthread_timedjoin_np(t[i].th, NULL, &dl);
			if (err && err != ETIMEDOUT)
				break;
		}
		if (err) {
			W->fail("thread %d did not stop: %s", t[i].tid, strerror(err));
			r = -1;
			continue;
		}
		t[i].started = false;
	}
	return r;
}

static void stop_signal_restore(void)
{
	sigaction(STOP_SIGNAL, &old_stop_action, NULL);
}

/* joins one thread that has ended (or is ending) of its own accord */
static int lt_join(struct lthread *t)
{
	struct timespec dl;
	int err;

	if (!t->started)
		return 0;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += LM_WAIT_MS / 1000;
	err = pthread_timedjoin_np(t->th, NULL, &dl);
	if (err)
		return W->fail("joining thread %d: %s", t->tid, strerror(err));
	t->started = false;
	return 0;
}

/* ---- what the kernel shows: /proc/self/fdinfo --------------------------- */

/*
 * The interest set as the kernel shows it, into the truth: every "tfd:"
 * line of /proc/self/fdinfo/EPFD with its events, in rb-tree order.
 * W->expect() checks the fd numbers against the model; this line keeps
 * the kernel's own words (an epitem under a closed fd's number, the same
 * number twice, a disarmed EPOLLONESHOT mask) for tests/lessons.sh.
 */
static int kview(int epfd)
{
	char path[64], buf[8192], out[4096];
	size_t o = 0;
	ssize_t n;
	int fd, items = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* no /proc: nothing to show */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return W->fail("read %s: %s", path, strerror(errno));
	buf[n] = 0;
	out[0] = 0;
	for (char *p = buf; (p = strstr(p, "tfd:")); p += 4) {
		int tfd;
		unsigned int ev;

		if (sscanf(p, "tfd: %d events: %x", &tfd, &ev) != 2)
			return W->fail("%s: cannot parse '%.40s'", path, p);
		if (o + 64 < sizeof(out))
			o += snprintf(out + o, sizeof(out) - o, "%s{\"tfd\":%d,\"events\":%u}",
				      items ? "," : "", tfd, ev);
		items++;
	}
	W->truth("\"t\":\"fdinfo\",\"epfd\":%d,\"items\":[%s]", epfd, out);
	return 0;
}

/* ---- AF_UNIX sockets: wakeups in the caller's context -------------------- */

/* an abstract address of this process: nothing in the file system */
static socklen_t unix_addr(struct sockaddr_un *sa, int k)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "epolltrace-lesson-%d-%d",
		     getpid(), k);
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int listener(int k)
{
	struct sockaddr_un sa;
	socklen_t len = unix_addr(&sa, k);
	int fd = W->track(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
			  "unix-listen", "socket");

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 16))
		return W->fail("listening on @%s: %s", sa.sun_path + 1, strerror(errno));
	return fd;
}

/* a client of listener k; its connect() runs the listener's wakeups */
static int client(int k)
{
	struct sockaddr_un sa;
	socklen_t len = unix_addr(&sa, k);
	int fd = W->track(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "unix", "socket");

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, len))
		return W->fail("connect @%s: %s", sa.sun_path + 1, strerror(errno));
	W->truth("\"t\":\"connect\",\"fd\":%d,\"listener\":%d", fd, k);
	return fd;
}

/* accept4 on a nonblocking listener: the fd, or -errno (EAGAIN: nothing there) */
static int accept_one(int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), err = errno;

	W->truth("\"t\":\"accept\",\"listener\":%d,\"ret\":%d,\"errno\":%d", lfd, c < 0 ? -1 : c,
		 c < 0 ? err : 0);
	if (c < 0)
		return err == EAGAIN || err == EWOULDBLOCK ? -EAGAIN :
		       W->fail("accept4(%d): %s", lfd, strerror(err));
	return W->track(c, "unix", "accept4");
}

static int send_str(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));

	if (n != (ssize_t)strlen(s))
		return W->fail("write(%d): %s", fd, n < 0 ? strerror(errno) : "short");
	return 0;
}

/* read what is there without blocking (pipes are O_NONBLOCK): the byte count, or -1 */
static int take(int fd, const char *why)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	int err = errno;

	if (n < 0 && err == ENOTSOCK) {
		n = read(fd, buf, sizeof(buf));
		err = errno;
	}

	W->truth("\"t\":\"read\",\"fd\":%d,\"ret\":%d,\"errno\":%d,\"why\":\"%s\"", fd,
		 n < 0 ? -1 : (int)n, n < 0 ? err : 0, why);
	if (n < 0 && err != EAGAIN)
		return W->fail("read(%d): %s", fd, strerror(err));
	return n < 0 ? 0 : (int)n;
}

/* ==== lesson 5: the thundering herd, and EPOLLEXCLUSIVE ==================== */

struct herd {
	struct lcrew crew;
	struct lthread a[HERD_N];	/* N threads asleep on one instance */
	struct lthread z;		/* the one woken for nothing */
	struct lthread b[HERD_N];	/* one thread on each exclusive instance */
	int ep_a, l1, ep_b[HERD_N], l2;
	int woken_a, eagain_a;
};

/* one wait; with an event, hold; then one accept4; then end */
static void herd_thread(struct lthread *t)
{
	struct herd *h = t->arg;
	bool side_a = t >= h->a && t < h->a + HERD_N;
	int ep = side_a ? h->ep_a : h->ep_b[t->idx], lfd = side_a ? h->l1 : h->l2;
	struct epoll_event ev[4];
	int n = W->wait(ep, ev, 4, -1), c;

	lt_report(t, n, n > 0 ? (long long)ev[0].data.u64 : -1, 0);
	if (n <= 0 || !lt_hold(t))
		return;
	c = accept_one(lfd);
	lt_report(t, n, c, 0);
}

/*
 * The sleeper of the 0-event wakeup: on the main thread's CPU (idx), at
 * SCHED_IDLE, so that once woken it runs only when the main thread lets
 * go of the CPU.  One wait, until teardown.
 */
static void zero_thread(struct lthread *t)
{
	struct herd *h = t->arg;
	struct sched_param sp = { 0 };
	struct epoll_event ev[4];
	cpu_set_t cpus;
	int n;

	CPU_ZERO(&cpus);
	CPU_SET(t->idx, &cpus);
	if (pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus) ||
	    pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp)) {
		W->fail("cannot pin thread %d to CPU %d at SCHED_IDLE", t->tid, t->idx);
		return;
	}
	n = W->wait(h->ep_a, ev, 4, -1);
	lt_report(t, n, n > 0 ? (long long)ev[0].data.u64 : -1, 0);
}

/* voluntary context switches of a thread of ours: each is one sleep; -1: unknown */
static long long switches(pid_t tid)
{
	char path[64], buf[4096], *p;
	long long v = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (p)
		v = strtoll(p + 26, NULL, 10);
	return v;
}

static int herd_setup(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);

	h->ep_a = h->l1 = h->l2 = -1;
	for (int i = 0; i < HERD_N; i++)
		h->ep_b[i] = -1;
	stop_signal_install();
	return crew_init(&h->crew);
}

static int herd_prepare_1(struct lesson_rt *rt)
{
	lesson_args(rt, 1, (long long)HERD_N);
	return 0;
}

static int herd_run_1(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);

	h->ep_a = W->ep_create(false);
	h->l1 = listener(1);
	if (h->ep_a < 0 || h->l1 < 0 ||
	    W->ctl(h->ep_a, EPOLL_CTL_ADD, h->l1, EPOLLIN, (uint64_t)h->l1, 0))
		return -1;
	lesson_epfd(rt, 0, h->ep_a);
	for (int i = 0; i < HERD_N; i++)
		if (lt_start(&h->a[i], &h->crew, herd_thread, h, i))
			return -1;
	for (int i = 0; i < HERD_N; i++)
		if (lt_asleep(rt, &h->a[i], h->ep_a))
			return -1;
	lesson_args(rt, 3, (long long)HERD_N, (long long)h->ep_a, (long long)h->l1);
	WAITERS(h->ep_a, 3, h->a[0].tid, h->a[1].tid, h->a[2].tid);
	return W->expect(h->ep_a) || kview(h->ep_a) || W->expect_ready(h->ep_a, 0);
}

static int herd_run_2(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);

	if (client(1) < 0)
		return -1;
	/*
	 * Nobody accepts yet: the socket stays readable, so every scan finds
	 * the item ready, puts it back, and ep_done_scan wakes the next
	 * sleeper.  All of them return one event, whatever the order.
	 */
	for (int i = 0; i < HERD_N; i++) {
		if (lt_await(&h->a[i], 1))
			return -1;
		if (h->a[i].val[0] != 1)
			return W->fail("the kernel disagrees: herd: thread %d returned %lld "
				       "events, expected 1", h->a[i].tid, h->a[i].val[0]);
		h->woken_a++;
	}
	lesson_args(rt, 3, (long long)h->woken_a, (long long)h->ep_a, (long long)h->l1);
	/* one callback; each thread woken once, the first by it, the others by a scan */
	CALLBACKS(h->ep_a, 1, h->l1);
	WAKEUPS(h->ep_a, 3, h->a[0].tid, h->a[1].tid, h->a[2].tid);
	WAITERS(h->ep_a, 0);
	/* the last scan put the item back and found no sleeper to wake */
	return W->expect_ready(h->ep_a, 1, h->l1);
}

static int herd_run_3(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);
	int accepted = 0;

	/* one at a time, so that which accept4 wins is not a race */
	for (int i = 0; i < HERD_N; i++) {
		lt_go(&h->a[i]);
		if (lt_await(&h->a[i], 2))
			return -1;
		if (h->a[i].val[1] >= 0)
			accepted++;
		else
			h->eagain_a++;
		if (lt_join(&h->a[i]))
			return -1;
	}
	if (accepted != 1 || h->eagain_a != HERD_N - 1)
		return W->fail("herd: %d accept4 calls took the connection, expected 1", accepted);
	W->truth("\"t\":\"herd\",\"side\":\"shared\",\"epfds\":[%d],\"listener\":%d,"
		 "\"threads\":%d,\"woken\":%d,\"accepted\":%d,\"eagain\":%d", h->ep_a, h->l1,
		 HERD_N, h->woken_a, accepted, h->eagain_a);
	lesson_args(rt, 3, (long long)h->woken_a, (long long)h->eagain_a, (long long)h->l1);
	WAITERS(h->ep_a, 0);
	/* queued by the last scan; the accept made it not ready, but no scan ran since */
	return W->expect(h->ep_a) || W->expect_ready(h->ep_a, 1, h->l1);
}

/*
 * A 0-event wakeup, made certain: the sleeper shares the main thread's CPU
 * at SCHED_IDLE, and the main thread runs at SCHED_FIFO (when allowed)
 * from the connect to the accept, so the woken thread cannot run its scan
 * before the connection is taken.  Then ep_send_events finds nothing and
 * ep_poll sleeps again without returning: one more voluntary switch.
 */
static int herd_run_zero(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };
	cpu_set_t one, old;
	int cpu = sched_getcpu(), c, rt_ok;
	long long v0, v1;

	if (cpu < 0 || sched_getaffinity(0, sizeof(old), &old))
		return W->fail("sched_getcpu: %s", strerror(errno));
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return W->fail("cannot pin the main thread to CPU %d: %s", cpu, strerror(errno));
	/* its first scan drops the item step 3 left: the socket is empty */
	if (lt_start(&h->z, &h->crew, zero_thread, h, cpu) || lt_asleep(rt, &h->z, h->ep_a))
		goto fail;
	v0 = switches(h->z.tid);
	rt_ok = !sched_setscheduler(0, SCHED_FIFO, &fifo);
	c = client(1) < 0 ? -1 : accept_one(h->l1);
	if (rt_ok)
		sched_setscheduler(0, SCHED_OTHER, &other);
	sched_setaffinity(0, sizeof(old), &old);
	if (c < 0)
		return c == -EAGAIN ? W->fail("herd: no connection to accept") : -1;
	if (lt_asleep(rt, &h->z, h->ep_a))
		return -1;
	v1 = switches(h->z.tid);
	if (lt_reports(&h->z))
		return W->fail("herd: thread %d ran before the connection was taken%s", h->z.tid,
			       rt_ok ? "" : " (no SCHED_FIFO for the main thread: run as root)");
	if (v0 < 0 || v1 != v0 + 1)
		return W->fail("herd: thread %d slept %lld more times, expected 1", h->z.tid,
			       v1 - v0);
	W->truth("\"t\":\"zero_wakeup\",\"who\":%d,\"epfd\":%d,\"listener\":%d,"
		 "\"switches\":[%lld,%lld],\"returned\":0,\"fifo\":%s", h->z.tid, h->ep_a, h->l1,
		 v0, v1, rt_ok ? "true" : "false");
	lesson_args(rt, 4, (long long)h->ep_a, (long long)h->z.tid, v0, v1);
	CALLBACKS(h->ep_a, 1, h->l1);
	WAKEUPS(h->ep_a, 1, h->z.tid);
	WAITERS(h->ep_a, 1, h->z.tid);
	return W->expect(h->ep_a) || W->expect_ready(h->ep_a, 0);
fail:
	sched_setaffinity(0, sizeof(old), &old);
	return -1;
}

static int herd_prepare_4(struct lesson_rt *rt)
{
	lesson_args(rt, 1, (long long)HERD_N);
	return 0;
}

static int herd_run_4(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);

	h->l2 = listener(2);
	if (h->l2 < 0)
		return -1;
	for (int i = 0; i < HERD_N; i++) {
		h->ep_b[i] = W->ep_create(false);
		if (h->ep_b[i] < 0 ||
		    W->ctl(h->ep_b[i], EPOLL_CTL_ADD, h->l2, EPOLLIN | EPOLLEXCLUSIVE,
			   (uint64_t)h->l2, 0))
			return -1;
	}
	lesson_epfd(rt, 1, h->ep_b[0]);
	for (int i = 0; i < HERD_N; i++)
		if (lt_start(&h->b[i], &h->crew, herd_thread, h, i) ||
		    lt_asleep(rt, &h->b[i], h->ep_b[i]))
			return -1;
	for (int i = 0; i < HERD_N; i++)
		if (W->expect(h->ep_b[i]) || W->expect_ready(h->ep_b[i], 0))
			return -1;
	lesson_args(rt, 4, (long long)HERD_N, (long long)h->l2, (long long)h->ep_b[0],
		    (long long)h->ep_b[HERD_N - 1]);
	WAITERS(h->ep_a, 1, h->z.tid);
	for (int i = 0; i < HERD_N; i++)
		WAITERS(h->ep_b[i], 1, h->b[i].tid);
	return 0;
}

static int herd_run_5(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);
	char list[16 * HERD_N];
	int woken = 0, c;

	if (client(2) < 0)
		return -1;
	/*
	 * connect() ran the listener's wakeups before it returned: a thread
	 * woken is runnable now, and would report, never sleep again in
	 * epoll_wait (the socket stays readable until it accepts).  So the
	 * others seen asleep, with nothing reported, were not woken.
	 */
	if (lt_await(&h->b[0], 1))
		return -1;
	for (int i = 1; i < HERD_N; i++)
		if (lt_asleep(rt, &h->b[i], h->ep_b[i]))
			return -1;
	for (int i = 0; i < HERD_N; i++)
		woken += lt_reports(&h->b[i]) > 0;
	if (woken != 1)
		return W->fail("the kernel disagrees: exclusive: one connect woke %d of %d "
			       "instances", woken, HERD_N);
	lt_go(&h->b[0]);
	if (lt_await(&h->b[0], 2) || lt_join(&h->b[0]))
		return -1;
	c = (int)h->b[0].val[1];
	if (c < 0)
		return W->fail("exclusive: the woken thread found no connection to accept");
	for (int i = 0, o = 0; i < HERD_N; i++)
		o += snprintf(list + o, sizeof(list) - o, "%s%d", i ? "," : "", h->ep_b[i]);
	W->truth("\"t\":\"herd\",\"side\":\"exclusive\",\"epfds\":[%s],\"listener\":%d,"
		 "\"threads\":%d,\"woken\":%d,\"woken_epfd\":%d,\"accepted\":1,\"eagain\":0",
		 list, h->l2, HERD_N, woken, h->ep_b[0]);
	lesson_args(rt, 5, (long long)h->ep_b[0], (long long)h->b[0].tid, (long long)(HERD_N - 1),
		    (long long)h->woken_a, (long long)woken);
	/* the walk of the socket's wait queue ended at the first instance */
	for (int i = 0; i < HERD_N; i++) {
		if (i) {
			CALLBACKS(h->ep_b[i], 0);
			WAKEUPS(h->ep_b[i], 0);
			WAITERS(h->ep_b[i], 1, h->b[i].tid);
		} else {
			CALLBACKS(h->ep_b[0], 1, h->l2);
			WAKEUPS(h->ep_b[0], 1, h->b[0].tid);
			WAITERS(h->ep_b[0], 0);
		}
	}
	WAITERS(h->ep_a, 1, h->z.tid);
	/* b0 scanned and put the item back; the walk never reached the others */
	for (int i = 0; i < HERD_N; i++)
		if (W->expect(h->ep_b[i]) ||
		    (i ? W->expect_ready(h->ep_b[i], 0) : W->expect_ready(h->ep_b[0], 1, h->l2)))
			return -1;
	return 0;
}

static void herd_teardown(struct lesson_rt *rt)
{
	struct herd *h = lesson_priv(rt);

	crew_stop(&h->crew, h->a, HERD_N);
	crew_stop(&h->crew, &h->z, 1);
	crew_stop(&h->crew, h->b, HERD_N);
	stop_signal_restore();
}

static const struct lesson_step herd_steps[] = {
	{
		.before = N_("One instance, one listening socket added level-triggered, and {0} "
			     "threads that all call epoll_wait on it."),
		.after = N_("ep_insert put the socket {2} in rbr and hung ep_poll_callback on "
			    "its wait queue. Each of the {0} threads ran ep_poll, found rdllist "
			    "empty and slept on wq of instance {1}: {0} entries, each added with "
			    "__add_wait_queue_exclusive."),
		.hooks = "ep_insert,ep_poll",
		.touched = ET_LT_RBR | ET_LT_WQ | ET_LT_POLLWAIT,
		.prepare = herd_prepare_1,
		.run = herd_run_1,
	},
	{
		.before = N_("One client connects to the listening socket. How many threads wake "
			     "up?"),
		.after = N_("ep_poll_callback queued the epitem on rdllist; wake_up woke one "
			    "sleeper. Its ep_send_events put the level-triggered item back on "
			    "rdllist and ep_done_scan woke the next sleeper, and so on: {0} "
			    "threads woke, each with the same 1 event for socket {2}."),
		.hooks = "ep_poll_callback,ep_send_events,ep_done_scan",
		.touched = ET_LT_RDLLIST | ET_LT_WQ | ET_LT_POLLWAIT,
		.run = herd_run_2,
	},
	{
		.before = N_("Each woken thread calls accept4 on the socket, one after another."),
		.after = N_("One connection, so one accept4 succeeded and {1} returned EAGAIN: "
			    "{1} of {0} wakeups were for nothing. This is the thundering herd. "
			    "The item stays on rdllist until a next scan finds the socket empty."),
		.hooks = "",
		.touched = ET_LT_RDLLIST,
		.run = herd_run_3,
	},
	{
		.before = N_("A thread sleeps on the instance again. A client connects, and "
			     "another thread accepts the connection before the woken one can run."),
		.after = N_("ep_poll_callback queued the item and woke thread {1}. When it ran, "
			    "ep_send_events polled the socket, found nothing to accept and "
			    "dropped the item: 0 events, so ep_poll put the thread back on wq of "
			    "{0} without returning. A 0-event wakeup: its sleeps went from {2} "
			    "to {3}."),
		.hooks = "ep_poll_callback,ep_send_events,ep_poll",
		.touched = ET_LT_RDLLIST | ET_LT_WQ,
		.run = herd_run_zero,
	},
	{
		.before = N_("Now {0} instances, each with one thread asleep in epoll_wait, all "
			     "watching a second listening socket with EPOLLEXCLUSIVE."),
		.after = N_("Each ep_insert hung its ep_poll_callback entry on socket {1}'s wait "
			    "queue with add_wait_queue_exclusive, at the tail, in ADD order: "
			    "instance {2} first, {3} last. Each instance has one sleeper on wq."),
		.hooks = "ep_insert,ep_poll",
		.touched = ET_LT_RBR | ET_LT_WQ | ET_LT_POLLWAIT,
		.prepare = herd_prepare_4,
		.run = herd_run_4,
	},
	{
		.before = N_("One client connects to the second socket. How many threads wake up "
			     "now?"),
		.after = N_("The socket's wakeup called ep_poll_callback for instance {0}: it "
			    "queued the item, woke thread {1} and returned 1, and "
			    "__wake_up_common stops at an exclusive entry that returns 1. {2} "
			    "threads slept on. Wakeups for one connection: {3} on the shared "
			    "instance, {4} with EPOLLEXCLUSIVE."),
		.hooks = "ep_poll_callback,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ | ET_LT_POLLWAIT,
		.run = herd_run_5,
	},
};

const struct lesson lesson_herd = {
	.name = "herd",
	.title = N_("The thundering herd, and EPOLLEXCLUSIVE"),
	.seed = "000_eff1739510b3b6d7.txt: \"1. eventpoll 구조체: epoll 인스턴스의 본체\" (wq: "
		"several threads may wait on one instance), \"epoll_wait: 이벤트 발생을 기다리다\" "
		"(__add_wait_queue_exclusive), \"ep_poll_callback: 이벤트 발생을 epoll에게 알리는 "
		"시작\" (wake_up(&ep->wq))",
	.ninst = 2,
	.priv_size = sizeof(struct herd),
	.setup = herd_setup,
	.teardown = herd_teardown,
	.steps = herd_steps,
	.nsteps = sizeof(herd_steps) / sizeof(herd_steps[0]),
};

/* ==== lesson 6: nested epoll ============================================== */

struct nested {
	struct lcrew crew;
	struct lthread t;
	int inner, outer, p[2];
};

/* waits on the outer instance, then (let go) on the inner one, then the outer again */
static void nested_thread(struct lthread *t)
{
	struct nested *s = t->arg;
	struct epoll_event ev[4];
	int n;

	n = W->wait(s->outer, ev, 4, -1);
	lt_report(t, n, n > 0 ? (long long)ev[0].data.u64 : -1, 0);
	if (n <= 0 || !lt_hold(t))
		return;
	n = W->wait(s->inner, ev, 4, 0);
	if (W->drain(s->p[0]))
		return;
	lt_report(t, n, n > 0 ? (long long)ev[0].data.u64 : -1, 0);
	if (!lt_hold(t))
		return;
	n = W->wait(s->outer, ev, 4, -1);	/* sleeps until teardown */
	lt_report(t, n, 0, 0);
}

static int nested_setup(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	s->inner = s->outer = s->p[0] = s->p[1] = -1;
	stop_signal_install();
	return crew_init(&s->crew);
}

static int nested_run_1(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	s->inner = W->ep_create(false);
	s->outer = W->ep_create(false);
	if (s->inner < 0 || s->outer < 0 || W->make_pipe(s->p) ||
	    W->ctl(s->inner, EPOLL_CTL_ADD, s->p[0], EPOLLIN, workload_tag(s->inner, s->p[0]), 0) ||
	    W->ctl(s->outer, EPOLL_CTL_ADD, s->inner, EPOLLIN, workload_tag(s->outer, s->inner),
		   0) ||
	    /* the other way round would be a cycle: ep_loop_check refuses it */
	    W->ctl(s->inner, EPOLL_CTL_ADD, s->outer, EPOLLIN, workload_tag(s->inner, s->outer),
		   ELOOP))
		return -1;
	lesson_epfd(rt, 0, s->outer);
	lesson_epfd(rt, 1, s->inner);
	lesson_args(rt, 3, (long long)s->inner, (long long)s->p[0], (long long)s->outer);
	return W->expect(s->inner) || W->expect(s->outer) || kview(s->outer);
}

static int nested_run_2(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	if (lt_start(&s->t, &s->crew, nested_thread, s, 0) || lt_asleep(rt, &s->t, s->outer))
		return -1;
	lesson_args(rt, 4, (long long)s->inner, (long long)s->p[0], (long long)s->outer,
		    (long long)s->t.tid);
	WAITERS(s->outer, 1, s->t.tid);
	WAITERS(s->inner, 0);
	return W->expect_ready(s->outer, 0) || W->expect_ready(s->inner, 0);
}

static int nested_run_3(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	if (W->put_byte(s->p[1]) || lt_await(&s->t, 1))
		return -1;
	if (s->t.val[0] != 1 || (uint64_t)s->t.val[1] != workload_tag(s->outer, s->inner))
		return W->fail("the kernel disagrees: nested: the outer wait returned %lld events "
			       "(data %#llx), expected the inner instance", s->t.val[0],
			       (unsigned long long)s->t.val[1]);
	/*
	 * The inner scan (__ep_eventpoll_poll) found the pipe ready and put
	 * it back; the outer scan delivered the inner item and, level-
	 * triggered, put it back.  One callback each: the pipe's on the
	 * inner instance, the inner's poll_wait one on the outer.
	 */
	CALLBACKS(s->inner, 1, s->p[0]);
	CALLBACKS(s->outer, 1, s->inner);
	WAKEUPS(s->outer, 1, s->t.tid);
	WAITERS(s->outer, 0);
	return W->expect_ready(s->outer, 1, s->inner) || W->expect_ready(s->inner, 1, s->p[0]);
}

static int nested_run_4(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	lt_go(&s->t);
	if (lt_await(&s->t, 2))
		return -1;
	if (s->t.val[0] != 1 || (uint64_t)s->t.val[1] != workload_tag(s->inner, s->p[0]))
		return W->fail("the kernel disagrees: nested: the inner wait returned %lld events, "
			       "expected the pipe", s->t.val[0]);
	WAITERS(s->outer, 0);
	/* both delivered level-triggered and put back; no scan since the read */
	return W->expect_ready(s->outer, 1, s->inner) || W->expect_ready(s->inner, 1, s->p[0]);
}

static int nested_run_5(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	lt_go(&s->t);
	if (lt_asleep(rt, &s->t, s->outer))
		return -1;
	if (lt_reports(&s->t) != 2)
		return W->fail("the kernel disagrees: nested: the outer wait returned with the "
			       "pipe drained");
	lesson_args(rt, 3, (long long)s->inner, (long long)s->p[0], (long long)s->outer);
	/* asleep again without a wakeup: its scan found nothing */
	WAKEUPS(s->outer, 0);
	WAITERS(s->outer, 1, s->t.tid);
	return W->expect_ready(s->outer, 0) || W->expect_ready(s->inner, 0) ||
	       W->expect(s->outer) || W->expect(s->inner);
}

static void nested_teardown(struct lesson_rt *rt)
{
	struct nested *s = lesson_priv(rt);

	crew_stop(&s->crew, &s->t, 1);
	stop_signal_restore();
}

static const struct lesson_step nested_steps[] = {
	{
		.before = N_("An inner instance watches a pipe; an outer instance watches the "
			     "inner one, as it would any file."),
		.after = N_("The inner instance {0} holds the pipe {1} in its rbr; the outer {2} "
			    "holds {0}. Adding {0} polled it: ep_eventpoll_poll hung {2}'s "
			    "ep_poll_callback on {0}'s poll_wait (wq is for epoll_wait only). "
			    "Adding {2} to {0} failed with ELOOP: ep_loop_check refuses cycles."),
		.hooks = "ep_insert,ep_eventpoll_poll,ep_loop_check",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.run = nested_run_1,
	},
	{
		.before = N_("A thread calls epoll_wait on the outer instance."),
		.after = N_("ep_poll found rdllist of {2} empty: thread {3} sleeps on {2}'s wq. "
			    "The inner instance {0} has no sleeper on its wq, only {2}'s entry "
			    "on its poll_wait."),
		.hooks = "ep_poll",
		.touched = ET_LT_WQ,
		.run = nested_run_2,
	},
	{
		.before = N_("A byte is written into the pipe."),
		.after = N_("ep_poll_callback queued the pipe's epitem on rdllist of {0}. {0} "
			    "had no sleeper but a poll_wait entry, so ep_poll_safewake ran "
			    "ep_poll_callback for {2}'s item of {0}: queued on {2}'s rdllist, "
			    "the thread woke. ep_send_events asked {0} with __ep_eventpoll_poll: "
			    "ready. 1 event: {0}."),
		.hooks = "ep_poll_callback,ep_poll_safewake,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ | ET_LT_POLLWAIT,
		.run = nested_run_3,
	},
	{
		.before = N_("Told that the inner instance is ready, the thread calls epoll_wait "
			     "on it and reads the pipe."),
		.after = N_("ep_send_events on {0} copied the pipe's event; the thread read the "
			    "pipe empty. Both items were delivered level-triggered and put back: "
			    "each rdllist still holds one item, though nothing is ready now."),
		.hooks = "ep_send_events",
		.touched = ET_LT_RDLLIST,
		.run = nested_run_4,
	},
	{
		.before = N_("The thread calls epoll_wait on the outer instance again."),
		.after = N_("ep_send_events on {2} polled {0}: __ep_eventpoll_poll scanned {0}'s "
			    "rdllist, found the pipe empty and dropped its item; {0} was not "
			    "ready, so {2} dropped its item too. Both rdllists are empty and the "
			    "thread sleeps on {2}'s wq."),
		.hooks = "ep_poll,ep_send_events,ep_eventpoll_poll",
		.touched = ET_LT_RDLLIST | ET_LT_WQ,
		.run = nested_run_5,
	},
};

const struct lesson lesson_nested = {
	.name = "nested",
	.title = N_("Nested epoll: an instance watched by another"),
	.seed = "000_eff1739510b3b6d7.txt: \"epoll_create: epoll 인스턴스의 탄생\", "
		"\"2. 계층적 epoll (Nested epoll)\"",
	.ninst = 2,
	.priv_size = sizeof(struct nested),
	.setup = nested_setup,
	.teardown = nested_teardown,
	.steps = nested_steps,
	.nsteps = sizeof(nested_steps) / sizeof(nested_steps[0]),
};

/* ==== lesson 7: the close pitfall ========================================= */

struct closep {
	int ep, p[2], dup, q[2];
};

static int close_setup(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);

	s->ep = s->p[0] = s->p[1] = s->dup = s->q[0] = s->q[1] = -1;
	return 0;
}

static int close_run_1(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);

	s->ep = W->ep_create(false);
	if (s->ep < 0 || W->make_pipe(s->p) ||
	    /* data.fd = the fd, as most programs do */
	    W->ctl(s->ep, EPOLL_CTL_ADD, s->p[0], EPOLLIN, (uint64_t)s->p[0], 0))
		return -1;
	lesson_epfd(rt, 0, s->ep);
	lesson_args(rt, 2, (long long)s->ep, (long long)s->p[0]);
	return W->expect(s->ep) || kview(s->ep);
}

static int close_run_2(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);

	s->dup = W->track_dup(dup(s->p[0]), s->p[0], "pipe", "dup");
	if (s->dup < 0 || W->close_fd(s->p[0]))
		return -1;
	lesson_args(rt, 2, (long long)s->p[0], (long long)s->dup);
	/* the model keeps the item (the file is still open): so must the kernel */
	return W->expect(s->ep) || kview(s->ep);
}

static int close_run_3(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);

	if (W->put_byte(s->p[1]) ||
	    W->wait_one(s->ep, (uint64_t)s->p[0], EPOLLIN,
			"close: the item outlives its fd while a dup holds the file") ||
	    take(s->dup, "the dup reads the byte") < 0)
		return -1;
	lesson_args(rt, 2, (long long)s->p[0], (long long)s->dup);
	CALLBACKS(s->ep, 1, s->p[0]);
	/* delivered level-triggered and put back; no scan since the read */
	return W->expect_ready(s->ep, 1, s->p[0]);
}

static int close_run_4(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);

	/* the closed number is no fd now; the dup's number is not the key */
	if (W->ctl(s->ep, EPOLL_CTL_DEL, s->p[0], 0, 0, EBADF) ||
	    W->ctl(s->ep, EPOLL_CTL_DEL, s->dup, 0, 0, ENOENT))
		return -1;
	lesson_args(rt, 2, (long long)s->p[0], (long long)s->dup);
	return W->expect(s->ep) || kview(s->ep);
}

static int close_run_5(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);
	int old = s->p[0];

	if (W->make_pipe(s->q))
		return -1;
	/* the lowest free number is the closed one, unless a lower one is free too */
	if (s->q[0] != old) {
		if (W->track_dup(dup2(s->q[0], old), s->q[0], "pipe", "dup2") < 0 ||
		    W->close_fd(s->q[0]))
			return -1;
		s->q[0] = old;
	}
	if (W->ctl(s->ep, EPOLL_CTL_ADD, old, EPOLLIN, (uint64_t)old, 0))
		return -1;
	lesson_args(rt, 2, (long long)old, (long long)s->dup);
	/* two epitems under one fd number: fdinfo lists it twice */
	return W->expect(s->ep) || kview(s->ep);
}

static int close_run_6(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);
	int n;

	/* into the old pipe: its item is the one delivered, with data {old} */
	if (W->put_byte(s->p[1]) ||
	    W->wait_one(s->ep, (uint64_t)s->p[0], EPOLLIN,
			"close: an event for the old file, under the reused number"))
		return -1;
	n = take(s->q[0], "the program reads the fd the event names");
	if (n < 0 || take(s->dup, "the old file still holds the byte") != 1)
		return -1;
	if (n != 0)
		return W->fail("close: fd %d (the new pipe) had data", s->q[0]);
	W->truth("\"t\":\"pitfall\",\"event_fd\":%d,\"read_ret\":-1,\"errno\":%d,"
		 "\"data_in\":%d", s->q[0], EAGAIN, s->dup);
	lesson_args(rt, 2, (long long)s->q[0], (long long)s->dup);
	/* one callback, the old file's item's: the new pipe heard nothing */
	CALLBACKS(s->ep, 1, s->p[0]);
	/* the old item, delivered and put back; the new one never ready */
	return W->expect_ready(s->ep, 1, s->p[0]);
}

static int close_run_7(struct lesson_rt *rt)
{
	struct closep *s = lesson_priv(rt);

	if (W->close_fd(s->dup))
		return -1;
	lesson_args(rt, 2, (long long)s->dup, (long long)s->q[0]);
	return W->expect(s->ep) || kview(s->ep) || W->expect_ready(s->ep, 0);
}

static const struct lesson_step close_steps[] = {
	{
		.before = N_("A pipe's read end is added to an instance, with data.fd set to its "
			     "fd number."),
		.after = N_("ep_insert keyed the new epitem by (struct file, fd {1}) in rbr of "
			    "{0}, and hung ep_poll_callback on the pipe's wait queue. fdinfo "
			    "lists tfd {1}."),
		.hooks = "ep_insert",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.run = close_run_1,
	},
	{
		.before = N_("dup gives a second fd for the same struct file; then the program "
			     "closes the first one."),
		.after = N_("close({0}) dropped one reference to the file; {1} still holds it, "
			    "so __fput did not run and neither did eventpoll_release. The epitem "
			    "stays in rbr under its key: fdinfo still lists tfd {0}, a closed "
			    "number."),
		.hooks = "",
		.touched = ET_LT_RBR,
		.run = close_run_2,
	},
	{
		.before = N_("A byte is written into the pipe."),
		.after = N_("ep_poll_callback queued the epitem on rdllist and epoll_wait "
			    "returned one event with data.fd {0}: an fd that is closed. Only {1} "
			    "can read the byte."),
		.hooks = "ep_poll_callback,ep_send_events",
		.touched = ET_LT_RDLLIST,
		.run = close_run_3,
	},
	{
		.before = N_("The program tries to remove the item: EPOLL_CTL_DEL of the closed "
			     "fd, then of the dup."),
		.after = N_("DEL {0} failed with EBADF: no such fd. DEL {1} failed with ENOENT: "
			    "ep_find looks up (file, {1}) and the item's key is (file, {0}). No "
			    "fd names that key now: the epitem goes only when the file's last fd "
			    "is closed."),
		.hooks = "ep_find",
		.touched = ET_LT_RBR,
		.run = close_run_4,
	},
	{
		.before = N_("A new pipe is made: its read end gets the lowest free number, the "
			     "closed one. It is added too."),
		.after = N_("The new file got fd {0} again, and ep_insert added (new file, {0}): "
			    "rbr now holds two epitems under fd {0}, and fdinfo lists tfd {0} "
			    "twice."),
		.hooks = "ep_insert",
		.touched = ET_LT_RBR,
		.run = close_run_5,
	},
	{
		.before = N_("A byte is written into the old pipe."),
		.after = N_("The old epitem woke and epoll_wait returned data.fd {0}; the "
			    "program read fd {0}, the new pipe, and got EAGAIN. The byte is in "
			    "the old file, which only {1} reaches: an event for the wrong file."),
		.hooks = "ep_poll_callback,ep_send_events",
		.touched = ET_LT_RDLLIST,
		.run = close_run_6,
	},
	{
		.before = N_("The program closes the dup, the old file's last fd."),
		.after = N_("The last reference went: __fput ran eventpoll_release, and "
			    "eventpoll_release_file removed the old epitem from rbr and from "
			    "rdllist. Only the new pipe's item, fd {1}, is left."),
		.hooks = "eventpoll_release_file",
		.touched = ET_LT_RBR | ET_LT_RDLLIST,
		.run = close_run_7,
	},
};

const struct lesson lesson_close = {
	.name = "close",
	.title = N_("The close pitfall: an epitem outlives its fd"),
	.seed = "000_eff1739510b3b6d7.txt: \"2. epitem 구조체: 감시 대상 FD의 대리자\" "
		"(struct epoll_filefd { file, fd }), \"epoll_ctl: 감시 목록 편집하기\" "
		"(ep_insert, attach_epitem)",
	.ninst = 1,
	.priv_size = sizeof(struct closep),
	.setup = close_setup,
	.steps = close_steps,
	.nsteps = sizeof(close_steps) / sizeof(close_steps[0]),
};

/* ==== lesson 8: the acceptor and the worker pool =========================== */

struct pool {
	struct lcrew crew;
	struct lthread poller;
	struct lthread worker[POOL_WORKERS];
	int ep, lst, ca, cb;
	int conn[2], nconn;	/* accepted, written by the poller only */
	int next;		/* the worker the poller hands the next job to */
};

/* one thread in epoll_wait: accepts, adds, and hands ready connections over */
static void poller_thread(struct lthread *t)
{
	struct pool *s = t->arg;
	struct epoll_event ev[8];

	while (!crew_stopping(t->crew)) {
		int n = W->wait(s->ep, ev, 8, -1), c = -1;

		if (n < 0) {
			if (errno != EINTR)
				W->fail("poller: epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)ev[i].data.u64;

			if (fd == s->lst) {
				while ((c = accept_one(s->lst)) >= 0) {
					if (s->nconn < 2)
						s->conn[s->nconn++] = c;
					/* EPOLLONESHOT: one worker at a time owns it */
					if (W->ctl(s->ep, EPOLL_CTL_ADD, c, EPOLLIN | EPOLLONESHOT,
						   (uint64_t)c, 0))
						return;
				}
				if (c != -EAGAIN)
					return;
			} else {
				struct lthread *w = &s->worker[s->next++ % POOL_WORKERS];

				pthread_mutex_lock(&t->crew->mu);
				w->job = fd;
				pthread_mutex_unlock(&t->crew->mu);
				W->truth("\"t\":\"handoff\",\"fd\":%d,\"worker\":%d", fd, w->tid);
				lt_go(w);
			}
		}
		lt_report(t, n, c, 0);
	}
}

/* waits for a job; reads the request; holds; replies and re-arms the item */
static void worker_thread(struct lthread *t)
{
	struct pool *s = t->arg;

	while (lt_hold(t)) {
		int fd, n;

		pthread_mutex_lock(&t->crew->mu);
		fd = t->job;
		pthread_mutex_unlock(&t->crew->mu);
		n = take(fd, "the worker reads the request");
		lt_report(t, fd, n, 0);
		if (n <= 0 || !lt_hold(t))
			return;
		if (send_str(fd, "OK") ||
		    W->ctl(s->ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, (uint64_t)fd, 0))
			return;
		lt_report(t, fd, 0, 1);
	}
}

static int pool_setup(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);

	s->ep = s->lst = s->ca = s->cb = -1;
	s->conn[0] = s->conn[1] = -1;
	stop_signal_install();
	return crew_init(&s->crew);
}

/* the poller has handled its k-th wakeup and sleeps again */
static int poller_settled(struct lesson_rt *rt, struct pool *s, int k)
{
	if (lt_await(&s->poller, k) || lt_asleep(rt, &s->poller, s->ep))
		return -1;
	if (lt_reports(&s->poller) != k)
		return W->fail("pool: the poller woke %d times, expected %d",
			       lt_reports(&s->poller), k);
	return 0;
}

static int pool_run_1(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);

	s->ep = W->ep_create(false);
	s->lst = listener(8);
	if (s->ep < 0 || s->lst < 0 ||
	    W->ctl(s->ep, EPOLL_CTL_ADD, s->lst, EPOLLIN, (uint64_t)s->lst, 0))
		return -1;
	lesson_epfd(rt, 0, s->ep);
	if (lt_start(&s->poller, &s->crew, poller_thread, s, 0) ||
	    lt_asleep(rt, &s->poller, s->ep))
		return -1;
	for (int i = 0; i < POOL_WORKERS; i++)
		if (lt_start(&s->worker[i], &s->crew, worker_thread, s, i))
			return -1;
	lesson_args(rt, 4, (long long)s->ep, (long long)s->lst, (long long)s->poller.tid,
		    (long long)POOL_WORKERS);
	WAITERS(s->ep, 1, s->poller.tid);
	return W->expect(s->ep) || W->expect_ready(s->ep, 0);
}

static int pool_run_2(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);

	/* one at a time: each connect is one wakeup of the poller */
	s->ca = client(8);
	if (s->ca < 0 || poller_settled(rt, s, 1))
		return -1;
	s->cb = client(8);
	if (s->cb < 0 || poller_settled(rt, s, 2))
		return -1;
	if (s->nconn != 2)
		return W->fail("pool: the poller accepted %d connections, expected 2", s->nconn);
	lesson_args(rt, 3, (long long)s->lst, (long long)s->conn[0], (long long)s->conn[1]);
	CALLBACKS(s->ep, 2, s->lst, s->lst);
	WAKEUPS(s->ep, 2, s->poller.tid, s->poller.tid);
	WAITERS(s->ep, 1, s->poller.tid);
	/* the listener's item, put back, was dropped by the next scan: nothing to accept */
	return W->expect(s->ep) || kview(s->ep) || W->expect_ready(s->ep, 0);
}

static int pool_run_3(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);
	struct lthread *w = &s->worker[0];

	if (send_str(s->ca, "GET /") || poller_settled(rt, s, 3) || lt_await(w, 1))
		return -1;
	if (w->val[0] != s->conn[0] || w->val[1] <= 0)
		return W->fail("pool: worker %d took fd %lld (%lld bytes), expected fd %d", w->tid,
			       w->val[0], w->val[1], s->conn[0]);
	lesson_args(rt, 2, (long long)s->conn[0], (long long)w->tid);
	CALLBACKS(s->ep, 1, s->conn[0]);
	WAKEUPS(s->ep, 1, s->poller.tid);
	WAITERS(s->ep, 1, s->poller.tid);
	/* delivered and disarmed: not put back; fdinfo shows its events cleared */
	return kview(s->ep) || W->expect_ready(s->ep, 0);
}

static int pool_run_4(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);

	/* write() ran the socket's wakeups before it returned */
	if (send_str(s->ca, "MORE") || lt_asleep(rt, &s->poller, s->ep))
		return -1;
	if (lt_reports(&s->poller) != 3)
		return W->fail("the kernel disagrees: pool: a disarmed item woke the poller");
	W->truth("\"t\":\"disarmed\",\"fd\":%d,\"poller_wakeups\":3", s->conn[0]);
	lesson_args(rt, 2, (long long)s->conn[0], (long long)s->worker[0].tid);
	/* the callback ran, and returned at once */
	CALLBACKS(s->ep, 1, s->conn[0]);
	WAKEUPS(s->ep, 0);
	WAITERS(s->ep, 1, s->poller.tid);
	return W->expect_ready(s->ep, 0);
}

static int pool_run_5(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);
	struct lthread *w0 = &s->worker[0], *w1 = &s->worker[1];

	lt_go(w0);
	if (lt_await(w0, 2) || poller_settled(rt, s, 4) || lt_await(w1, 1))
		return -1;
	if (w1->val[0] != s->conn[0] || w1->val[1] != 4)
		return W->fail("pool: worker %d took fd %lld (%lld bytes), expected fd %d (4)",
			       w1->tid, w1->val[0], w1->val[1], s->conn[0]);
	lesson_args(rt, 2, (long long)s->conn[0], (long long)w1->tid);
	/* ep_modify queued it and woke the poller itself: no callback */
	CALLBACKS(s->ep, 0);
	WAKEUPS(s->ep, 1, s->poller.tid);
	WAITERS(s->ep, 1, s->poller.tid);
	return W->expect_ready(s->ep, 0);
}

static int pool_run_6(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);
	struct lthread *w1 = &s->worker[1];
	int n;

	lt_go(w1);
	if (lt_await(w1, 2) || lt_asleep(rt, &s->poller, s->ep))
		return -1;
	if (lt_reports(&s->poller) != 4)
		return W->fail("the kernel disagrees: pool: re-armed with nothing to read, the "
			       "item woke the poller");
	n = take(s->ca, "the client reads both replies");
	if (n != 4)
		return W->fail("pool: the client got %d bytes of replies, expected 4", n);
	W->truth("\"t\":\"pool\",\"poller_wakeups\":4,\"connections\":2,\"handoffs\":2,"
		 "\"replies\":2");
	lesson_args(rt, 3, (long long)s->conn[0], (long long)s->ep, (long long)s->poller.tid);
	/*
	 * The client's read freed the two replies, charged to the
	 * connection that sent them: each ran its write-space wakeup, whose
	 * EPOLLOUT key the item does not want (ep_poll_callback returns)
	 */
	CALLBACKS(s->ep, 2, s->conn[0], s->conn[0]);
	WAKEUPS(s->ep, 0);
	WAITERS(s->ep, 1, s->poller.tid);
	return W->expect(s->ep) || kview(s->ep) || W->expect_ready(s->ep, 0);
}

static void pool_teardown(struct lesson_rt *rt)
{
	struct pool *s = lesson_priv(rt);

	crew_stop(&s->crew, &s->poller, 1);
	crew_stop(&s->crew, s->worker, POOL_WORKERS);
	stop_signal_restore();
}

static const struct lesson_step pool_steps[] = {
	{
		.before = N_("A server: one instance with the listening socket, one poller "
			     "thread in epoll_wait, and a pool of worker threads."),
		.after = N_("ep_insert put the listening socket {1} in rbr of {0}. The poller "
			    "{2} ran ep_poll, found rdllist empty and sleeps on wq. The {3} "
			    "workers wait on a condition variable: epoll knows nothing of them."),
		.hooks = "ep_insert,ep_poll",
		.touched = ET_LT_RBR | ET_LT_WQ,
		.run = pool_run_1,
	},
	{
		.before = N_("Two clients connect, one after the other."),
		.after = N_("Each connect ran ep_poll_callback for the listener's epitem and "
			    "woke the poller; accept4 gave {1}, then {2}, and ep_insert added "
			    "each with EPOLLIN|EPOLLONESHOT. The listener's item, put back, was "
			    "dropped by the next scan. The poller sleeps again."),
		.hooks = "ep_poll_callback,ep_send_events,ep_insert",
		.touched = ET_LT_RBR | ET_LT_RDLLIST | ET_LT_WQ,
		.run = pool_run_2,
	},
	{
		.before = N_("The first client sends a request."),
		.after = N_("ep_poll_callback queued {0}'s epitem and woke the poller. "
			    "ep_send_events copied the event and, EPOLLONESHOT, disarmed the "
			    "item: its events are cleared (fdinfo shows only the flag). The "
			    "poller handed {0} to worker {1} and sleeps again."),
		.hooks = "ep_poll_callback,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ,
		.run = pool_run_3,
	},
	{
		.before = N_("The client sends more while worker {1} still holds the connection."),
		.after = N_("The socket woke its wait queue, but ep_poll_callback found the item "
			    "disarmed and returned at once: nothing on rdllist, the poller "
			    "sleeps on. No other thread can get {0} while worker {1} owns it."),
		.hooks = "ep_poll_callback",
		.touched = ET_LT_POLLWAIT,
		.run = pool_run_4,
	},
	{
		.before = N_("The worker replies and re-arms the connection with EPOLL_CTL_MOD."),
		.after = N_("ep_modify re-armed {0} and polled the socket: the bytes that came "
			    "while it was disarmed were there, so it queued the item and woke "
			    "the poller, which handed {0} to worker {1}. Nothing was lost."),
		.hooks = "ep_modify,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ,
		.run = pool_run_5,
	},
	{
		.before = N_("The second worker replies and re-arms the connection too."),
		.after = N_("This time ep_modify found nothing to read: {0} is armed and off "
			    "rdllist, and poller {2} sleeps on. One thread in epoll_wait, the "
			    "work in a pool: the Tomcat NIO connector's design."),
		.hooks = "ep_modify",
		.touched = ET_LT_RBR | ET_LT_WQ,
		.run = pool_run_6,
	},
};

const struct lesson lesson_pool = {
	.name = "pool",
	.title = N_("The acceptor and the worker pool"),
	.seed = "000_eff1739510b3b6d7.txt: \"이론: epoll, 무엇이 다른가?\" (Tomcat "
		"NIOConnector: one thread in epoll_wait hands sockets to a worker pool)",
	.ninst = 1,
	.priv_size = sizeof(struct pool),
	.setup = pool_setup,
	.teardown = pool_teardown,
	.steps = pool_steps,
	.nsteps = sizeof(pool_steps) / sizeof(pool_steps[0]),
};
