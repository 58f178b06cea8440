// SPDX-License-Identifier: GPL-2.0
/*
 * The "classroom" workload: an endless epoll workload paced for human eyes
 * (`epolltrace demo --scenario classroom`).  See classroom.h.
 *
 * What a watcher sees, at rate 1:
 *
 * Process 1 (the one that called us, main thread named "classroom"): a TCP
 * echo server on 127.0.0.1 with one epoll instance holding
 *   - the listening socket (level-triggered),
 *   - every accepted connection (level-triggered),
 *   - a timerfd ticking every second (EPOLLONESHOT: whoever takes a tick
 *     handles it for a while, then re-arms the item with EPOLL_CTL_MOD),
 *   - an eventfd poked by client-1 after each burst (EPOLLET),
 * served by worker-1 and worker-2 (maxevents 1, no timeout) and worker-3
 * (maxevents 2, 2 s timeout).  Clients client-1..3 hold three connections
 * each and send one burst every 1.5 s: one or two requests on each of
 * their connections at the same moment, so nine connections become ready
 * together.  A worker spends 150-300 ms per request, so the ready list
 * holds the waiting connections (and the level-triggered ones that were
 * just delivered, until the next scan drops them) for most of a second
 * per burst (0.8-1 s, measured with 50 ms snapshots).  Three bursts are followed by a pause of two slots (3 s
 * without requests): the workers fall asleep, each tick wakes the most
 * recent sleeper (the wait queue is LIFO), and worker-3's timeout expires
 * into a 0-event wakeup.  Each
 * client replaces one of its connections every third burst; the server
 * drops a closed connection with EPOLL_CTL_DEL before close() one time
 * and by the implicit removal of close() alone the next.
 *
 * Process 2 (forked first, named "pipeline"): its own instance with a
 * pipe and a timerfd; "producer" writes three 32-byte messages at once
 * every 1.2 s, "consumer" (asleep in epoll_wait, no timeout) takes one
 * message per wakeup and spends 200 ms on it, so the level-triggered pipe
 * item keeps being delivered while data is left.
 *
 * Every duration is divided by the rate.  Nothing is printed unless
 * something fails.
 *
 * The schedule runs on a clock that stands still while the process is
 * stopped (Ctrl-Z, SIGSTOP): a stop of any length resumes where it left
 * off, rather than tripping the "no echo" watchdog or replaying the missed
 * bursts back to back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include "classroom.h"
#include "clock.h"

/* a gap this long between two readings of the clock: the process was stopped */
#define PAUSE_NS	1000000000ULL
/* the main loops' slice: no gap is longer while the process runs */
#define SLICE_MS	100

/* nominal durations at rate 1, in milliseconds */
#define SLOT_MS		1500	/* one burst per slot */
#define SLOTS_PER_CYCLE	5	/* a cycle: bursts, then a pause */
#define QUIET_SLOTS	2	/* the pause: the last slots of a cycle */
#define WORK_MIN_MS	150	/* a worker's time per request */
#define WORK_MAX_MS	300
#define TICK_MS		1000	/* the server's timerfd */
#define TICK_WORK_MS	200	/* time a tick is handled before the re-arm */
#define W3_TIMEOUT_MS	2000	/* worker-3's epoll_wait timeout */
#define REPLY_SLOTS	6	/* a burst's replies must come within this */
#define PROD_MS		1200	/* the child's producer period */
#define CONS_WORK_MS	200	/* the child's consumer, per message */
#define CHILD_TICK_MS	1500	/* the child's timerfd */

#define NWORKERS	3
#define NCLIENTS	3
#define CONNS		3	/* per client */
#define MAX_FD		1024	/* the server's connection table */
#define MSG_LEN		32	/* the child's pipe messages */
#define REQ_MAX		128	/* bytes per connection per burst */

/* epoll_data: (kind << 32) | fd */
enum kind { K_LISTEN = 1, K_CONN, K_TICK, K_POKE, K_STOP, K_PIPE };

static uint64_t tag(enum kind k, int fd)
{
	return (uint64_t)k << 32 | (uint32_t)fd;
}

/* ---- shared by every thread of a process ---------------------------------- */

static struct {
	double rate;
	int stop;		/* atomic: stop requested */
	int failed;		/* atomic */
	pthread_mutex_t lock;	/* nap's condition and the error message */
	pthread_cond_t cond;
	char err[256];
	__u64 seen_ns;		/* atomic: the latest CLOCK_MONOTONIC reading */
	__u64 paused_ns;	/* atomic: time spent stopped, so far */
} g;

/*
 * The workload's clock, in seconds: CLOCK_MONOTONIC less the time the
 * process spent stopped.  A stopped process runs no thread, so every
 * thread reading this clock, the main loops at least every SLICE_MS, leaves
 * no gap longer than that while it runs; the first reading after a longer
 * gap credits it as a pause, for every thread at once.
 */
static double wl_s(void)
{
	__u64 now = mono_ns(), last = __atomic_load_n(&g.seen_ns, __ATOMIC_SEQ_CST);

	while (now > last) {
		if (__atomic_compare_exchange_n(&g.seen_ns, &last, now, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			if (last && now - last > PAUSE_NS)
				__atomic_add_fetch(&g.paused_ns, now - last, __ATOMIC_SEQ_CST);
			break;
		}
	}
	return (now - __atomic_load_n(&g.paused_ns, __ATOMIC_SEQ_CST)) / 1e9;
}

static bool stopping(void)
{
	return __atomic_load_n(&g.stop, __ATOMIC_SEQ_CST);
}

static void request_stop(void)
{
	pthread_mutex_lock(&g.lock);
	__atomic_store_n(&g.stop, 1, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

/* the first failure wins; every failure stops everything */
__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g.lock);
	if (!g.failed) {
		va_start(ap, fmt);
		vsnprintf(g.err, sizeof(g.err), fmt, ap);
		va_end(ap);
		__atomic_store_n(&g.failed, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&g.lock);
	request_stop();
	return -1;
}

/* the child process failed and said why on stderr: fail, but quietly */
static void child_failed(void)
{
	int zero = 0;

	__atomic_compare_exchange_n(&g.failed, &zero, 2, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	request_stop();
}

static int g_init(double rate)
{
	pthread_condattr_t ca;

	memset(&g, 0, sizeof(g));
	g.rate = rate;
	if (pthread_mutex_init(&g.lock, NULL) || pthread_condattr_init(&ca))
		return -1;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&g.cond, &ca)) {
		pthread_condattr_destroy(&ca);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

static void g_fini(void)
{
	pthread_cond_destroy(&g.cond);
	pthread_mutex_destroy(&g.lock);
}

/* a nominal duration in ms, at the current rate */
static long scaled_ms(long ms)
{
	double v = ms / g.rate;

	return v < 1 ? 1 : (long)v;
}

static struct timespec ts_at(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t };

	ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * Sleeps until the workload's time t (wl_s()), or until a stop.  true:
 * stopping.  The condition waits on CLOCK_MONOTONIC; after a pause the
 * wait ends early and is taken up again, as far as the pause moved t.
 */
static bool nap_until(double t)
{
	pthread_mutex_lock(&g.lock);
	while (!stopping()) {
		double now = wl_s();
		struct timespec ts;

		if (now >= t)
			break;
		ts = ts_at(mono_s() + (t - now));
		pthread_cond_timedwait(&g.cond, &g.lock, &ts);
	}
	pthread_mutex_unlock(&g.lock);
	return stopping();
}

/* a nominal duration, scaled */
static bool nap(long ms)
{
	return nap_until(wl_s() + scaled_ms(ms) / 1e3);
}

static long rand_between(unsigned int *seed, long lo, long hi)
{
	return lo + rand_r(seed) % (hi - lo + 1);
}

static void name_thread(const char *fmt, int n)
{
	char name[16];

	snprintf(name, sizeof(name), fmt, n);
	pthread_setname_np(pthread_self(), name);
}

static int make_timerfd(long period_ms)
{
	long ns = scaled_ms(period_ms) * 1000000L;
	struct itimerspec its = {
		.it_interval = { ns / 1000000000L, ns % 1000000000L },
		.it_value = { ns / 1000000000L, ns % 1000000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0) {
		fail("timerfd_create: %s", strerror(errno));
		return -1;
	}
	if (timerfd_settime(fd, 0, &its, NULL)) {
		fail("timerfd_settime: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return fail("epoll_ctl(ADD, fd %d): %s", fd, strerror(errno));
	return 0;
}

/* makes a stop eventfd ready and adds it: wakes every waiter, for good */
static int ep_add_stop(int ep, int stopfd)
{
	uint64_t one = 1;

	if (write(stopfd, &one, sizeof(one)) != sizeof(one))
		return fail("eventfd write: %s", strerror(errno));
	return ep_add(ep, stopfd, EPOLLIN, tag(K_STOP, stopfd));
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- the child process: a pipe-driven producer/consumer -------------------- */

static struct {
	int ep, pipe[2], tick, stopfd;
} ch;

static void *producer_main(void *arg)
{
	unsigned int seed = 7;
	double next = wl_s();
	int n = 0;

	(void)arg;
	name_thread("producer", 0);
	while (!nap_until(next += scaled_ms(PROD_MS) / 1e3)) {
		char buf[3 * MSG_LEN], head[MSG_LEN];

		/* three fixed-size messages in one write: one wakeup, three reads */
		memset(buf, '.', sizeof(buf));
		for (int i = 0; i < 3; i++) {
			int len = snprintf(head, sizeof(head), "job %d.%d (%ld)", n, i,
					   rand_between(&seed, 1, 99));

			memcpy(buf + i * MSG_LEN, head, len < MSG_LEN ? len : MSG_LEN - 1);
			buf[(i + 1) * MSG_LEN - 1] = '\n';
		}
		n++;
		if (write(ch.pipe[1], buf, sizeof(buf)) < 0 && errno != EAGAIN) {
			fail("pipe write: %s", strerror(errno));
			break;
		}
	}
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct epoll_event ev[4];

	(void)arg;
	name_thread("consumer", 0);
	while (!stopping()) {
		int n = epoll_wait(ch.ep, ev, 4, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && !stopping(); i++) {
			int fd = (int)(uint32_t)ev[i].data.u64;
			char msg[MSG_LEN];
			uint64_t ticks;

			switch (ev[i].data.u64 >> 32) {
			case K_PIPE:
				/* one message per wakeup: level-triggered, the
				 * item is delivered again while data is left */
				if (read(fd, msg, sizeof(msg)) < 0 && errno != EAGAIN)
					fail("pipe read: %s", strerror(errno));
				else
					nap(CONS_WORK_MS);
				break;
			case K_TICK:
				if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					fail("timerfd read: %s", strerror(errno));
				break;
			default:
				break;	/* K_STOP */
			}
		}
	}
	return NULL;
}

static int child_main(pid_t parent)
{
	sigset_t stopsigs;
	pthread_t prod, cons;
	bool have_prod = false, have_cons = false;
	struct timespec slice = { 0, SLICE_MS * 1000000L };

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		return 0;	/* the parent is gone already: nothing to show */
	name_thread("pipeline", 0);
	ch.ep = ch.pipe[0] = ch.pipe[1] = ch.tick = ch.stopfd = -1;
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGHUP);

	ch.ep = epoll_create1(EPOLL_CLOEXEC);
	if (ch.ep < 0) {
		fail("epoll_create1: %s", strerror(errno));
		goto out;
	}
	if (pipe2(ch.pipe, O_NONBLOCK | O_CLOEXEC)) {
		fail("pipe2: %s", strerror(errno));
		goto out;
	}
	ch.stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ch.stopfd < 0) {
		fail("eventfd: %s", strerror(errno));
		goto out;
	}
	ch.tick = make_timerfd(CHILD_TICK_MS);
	if (ch.tick < 0 || ep_add(ch.ep, ch.pipe[0], EPOLLIN, tag(K_PIPE, ch.pipe[0])) ||
	    ep_add(ch.ep, ch.tick, EPOLLIN, tag(K_TICK, ch.tick)))
		goto out;
	if (pthread_create(&cons, NULL, consumer_main, NULL)) {
		fail("pthread_create: out of resources");
		goto out;
	}
	have_cons = true;
	if (pthread_create(&prod, NULL, producer_main, NULL)) {
		fail("pthread_create: out of resources");
		goto out;
	}
	have_prod = true;
	while (!stopping()) {
		int sig = sigtimedwait(&stopsigs, NULL, &slice);

		wl_s();	/* the clock's heartbeat */
		if (sig > 0 || getppid() != parent)
			request_stop();
	}
out:
	request_stop();
	if (have_cons && ep_add_stop(ch.ep, ch.stopfd))
		pthread_cancel(cons);	/* cannot wake it: last resort */
	if (have_prod)
		pthread_join(prod, NULL);
	if (have_cons)
		pthread_join(cons, NULL);
	close_fd(&ch.tick);
	close_fd(&ch.stopfd);
	close_fd(&ch.pipe[0]);
	close_fd(&ch.pipe[1]);
	close_fd(&ch.ep);
	if (g.failed) {
		fprintf(stderr, "classroom (child process): %s\n", g.err);
		return 1;
	}
	return 0;
}

/* ---- the echo server --------------------------------------------------------- */

struct conn {
	pthread_mutex_t lock;
	bool open;
	size_t len;		/* a partial request line */
	char buf[REQ_MAX];
};

static struct {
	int ep, lst, tick, poke, stopfd;
	struct sockaddr_in addr;
	struct conn conns[MAX_FD];
	int closes;		/* atomic: alternates DEL+close and close */
} srv;

struct worker {
	int id, maxevents, timeout_ms;
	pthread_t th;
	bool started;
};

static void conn_open(int fd)
{
	struct conn *c = &srv.conns[fd];

	pthread_mutex_lock(&c->lock);
	c->open = true;
	c->len = 0;
	pthread_mutex_unlock(&c->lock);
}

/* the client went away: take the connection out, one way or the other */
static void conn_close_locked(int fd, struct conn *c)
{
	if (__atomic_fetch_add(&srv.closes, 1, __ATOMIC_SEQ_CST) % 2 == 0 &&
	    epoll_ctl(srv.ep, EPOLL_CTL_DEL, fd, NULL))
		fail("epoll_ctl(DEL, fd %d): %s", fd, strerror(errno));
	/* else: close() drops the epitem itself (the last reference goes) */
	close(fd);
	c->open = false;
	c->len = 0;
}

static void serve_accept(void)
{
	for (;;) {
		int fd = accept4(srv.lst, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fail("accept4: %s", strerror(errno));
			if (errno != EINTR && errno != ECONNABORTED)
				return;
			continue;
		}
		if (fd >= MAX_FD) {
			close(fd);
			fail("fd %d above the connection table", fd);
			return;
		}
		conn_open(fd);
		if (ep_add(srv.ep, fd, EPOLLIN, tag(K_CONN, fd)))
			return;
	}
}

/*
 * A request: read what is there (another worker may have been handed the
 * same level-triggered item a moment ago and taken it: EAGAIN, nothing to
 * do), then take our time over each complete line and echo it.
 */
static void serve_conn(int fd, unsigned int *seed)
{
	struct conn *c = &srv.conns[fd];
	char lines[REQ_MAX];
	size_t nlines = 0;
	ssize_t n;

	if (fd < 0 || fd >= MAX_FD)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->open) {
		pthread_mutex_unlock(&c->lock);
		return;		/* a stale event: closed meanwhile */
	}
	n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		conn_close_locked(fd, c);
	} else if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail("read from a connection: %s", strerror(errno));
	} else {
		char *nl;

		c->len += n;
		nl = memrchr(c->buf, '\n', c->len);
		if (nl) {
			nlines = nl - c->buf + 1;
			memcpy(lines, c->buf, nlines);
			memmove(c->buf, nl + 1, c->len - nlines);
			c->len -= nlines;
		} else if (c->len == sizeof(c->buf)) {
			fail("a request line longer than %d bytes", REQ_MAX);
		}
	}
	pthread_mutex_unlock(&c->lock);

	/* one request at a time, each taking a while */
	for (size_t off = 0; off < nlines && !stopping();) {
		size_t len = (char *)memchr(lines + off, '\n', nlines - off) - (lines + off) + 1;

		if (nap(rand_between(seed, WORK_MIN_MS, WORK_MAX_MS)))
			break;
		if (write(fd, lines + off, len) != (ssize_t)len && errno != EPIPE &&
		    errno != ECONNRESET) {
			fail("echo write: %s", errno ? strerror(errno) : "short write");
			break;
		}
		off += len;
	}
}

static void serve_tick(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
				  .data.u64 = tag(K_TICK, srv.tick) };
	uint64_t ticks;

	if (read(srv.tick, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
		fail("timerfd read: %s", strerror(errno));
		return;
	}
	/* disarmed while we are at it: ticks now queue nothing */
	if (nap(TICK_WORK_MS))
		return;
	if (epoll_ctl(srv.ep, EPOLL_CTL_MOD, srv.tick, &ev))
		fail("epoll_ctl(MOD, timerfd): %s", strerror(errno));
}

static void serve_poke(void)
{
	uint64_t v;

	if (read(srv.poke, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fail("eventfd read: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[4];
	unsigned int seed = 1000 + w->id;
	int timeout = w->timeout_ms < 0 ? -1 : (int)scaled_ms(w->timeout_ms);

	name_thread("worker-%d", w->id);
	while (!stopping()) {
		int n = epoll_wait(srv.ep, ev, w->maxevents, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && !stopping(); i++) {
			int fd = (int)(uint32_t)ev[i].data.u64;

			switch (ev[i].data.u64 >> 32) {
			case K_LISTEN:
				serve_accept();
				break;
			case K_CONN:
				serve_conn(fd, &seed);
				break;
			case K_TICK:
				serve_tick();
				break;
			case K_POKE:
				serve_poke();
				break;
			default:
				break;	/* K_STOP: the loop ends */
			}
		}
	}
	return NULL;
}

/* 127.0.0.1 exists only while "lo" is up; a bare VM guest may start without */
static void loopback_up(void)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (!ioctl(s, SIOCGIFFLAGS, &ifr) && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

static int server_setup(void)
{
	socklen_t alen = sizeof(srv.addr);
	int one = 1;

	srv.ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv.ep < 0)
		return fail("epoll_create1: %s", strerror(errno));
	srv.lst = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv.lst < 0)
		return fail("socket: %s", strerror(errno));
	setsockopt(srv.lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	srv.addr.sin_family = AF_INET;
	srv.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	loopback_up();
	if (bind(srv.lst, (struct sockaddr *)&srv.addr, sizeof(srv.addr)) ||
	    getsockname(srv.lst, (struct sockaddr *)&srv.addr, &alen) || listen(srv.lst, 64))
		return fail("listening on 127.0.0.1: %s", strerror(errno));
	srv.poke = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	srv.stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv.poke < 0 || srv.stopfd < 0)
		return fail("eventfd: %s", strerror(errno));
	srv.tick = make_timerfd(TICK_MS);
	if (srv.tick < 0)
		return -1;
	if (ep_add(srv.ep, srv.lst, EPOLLIN, tag(K_LISTEN, srv.lst)) ||
	    ep_add(srv.ep, srv.tick, EPOLLIN | EPOLLONESHOT, tag(K_TICK, srv.tick)) ||
	    ep_add(srv.ep, srv.poke, EPOLLIN | EPOLLET, tag(K_POKE, srv.poke)))
		return -1;
	return 0;
}

static void server_teardown(void)
{
	for (int fd = 0; fd < MAX_FD; fd++) {
		if (srv.conns[fd].open)
			close(fd);
		srv.conns[fd].open = false;
		pthread_mutex_destroy(&srv.conns[fd].lock);
	}
	close_fd(&srv.tick);
	close_fd(&srv.poke);
	close_fd(&srv.stopfd);
	close_fd(&srv.lst);
	close_fd(&srv.ep);
}

/* ---- the clients ------------------------------------------------------------- */

struct client {
	int id;			/* 1.. */
	double t0;		/* when slot 0 starts */
	pthread_t th;
	bool started;
	int fd[CONNS];
	char sent[CONNS][REQ_MAX];
	char got[CONNS][REQ_MAX];
	size_t nsent[CONNS], ngot[CONNS];
};

static int client_connect(struct client *c, int i)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&srv.addr, sizeof(srv.addr))) {
		int e = errno;

		close(fd);
		return fail("connect to 127.0.0.1:%d: %s", ntohs(srv.addr.sin_port), strerror(e));
	}
	c->fd[i] = fd;
	return 0;
}

/* waits for every echo of this burst; true: all came back */
static bool client_replies(struct client *c, double deadline)
{
	for (;;) {
		struct pollfd pfd[CONNS];
		int npfd = 0, idx[CONNS];

		for (int i = 0; i < CONNS; i++) {
			if (c->ngot[i] < c->nsent[i]) {
				pfd[npfd] = (struct pollfd){ .fd = c->fd[i], .events = POLLIN };
				idx[npfd++] = i;
			}
		}
		if (!npfd)
			return true;
		if (stopping())
			return false;
		if (wl_s() > deadline) {
			fail("client-%d: no echo within %.1f s", c->id,
			     REPLY_SLOTS * scaled_ms(SLOT_MS) / 1e3);
			return false;
		}
		if (poll(pfd, npfd, 100) < 0 && errno != EINTR) {
			fail("poll: %s", strerror(errno));
			return false;
		}
		for (int k = 0; k < npfd; k++) {
			int i = idx[k];
			ssize_t n;

			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(c->fd[i], c->got[i] + c->ngot[i], c->nsent[i] - c->ngot[i]);
			if (n <= 0) {
				fail("client-%d: connection %d: %s", c->id, i + 1,
				     n ? strerror(errno) : "closed by the server");
				return false;
			}
			c->ngot[i] += n;
			if (c->ngot[i] == c->nsent[i] &&
			    memcmp(c->got[i], c->sent[i], c->nsent[i])) {
				fail("client-%d: connection %d: the echo differs", c->id, i + 1);
				return false;
			}
		}
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	unsigned int seed = 2000 + c->id;
	int req = 0;

	name_thread("client-%d", c->id);
	for (int i = 0; i < CONNS; i++)
		if (client_connect(c, i))
			return NULL;
	for (long slot = 0;; slot++) {
		/* the clients' bursts land within a few ms of each other */
		double t = c->t0 + slot * scaled_ms(SLOT_MS) / 1e3 + (c->id - 1) * 0.01 / g.rate;
		int twice;

		if (nap_until(t))
			break;
		if (slot % SLOTS_PER_CYCLE >= SLOTS_PER_CYCLE - QUIET_SLOTS)
			continue;	/* a pause: everybody sleeps */
		twice = rand_r(&seed) % CONNS;
		for (int i = 0; i < CONNS; i++) {
			size_t len = 0;

			for (int k = 0; k < (i == twice ? 2 : 1); k++)
				len += snprintf(c->sent[i] + len, sizeof(c->sent[i]) - len,
						"client-%d conn-%d request %d\n", c->id, i + 1,
						req++);
			c->nsent[i] = len;
			c->ngot[i] = 0;
			if (write(c->fd[i], c->sent[i], len) != (ssize_t)len) {
				fail("client-%d: send: %s", c->id,
				     errno ? strerror(errno) : "short write");
				return NULL;
			}
		}
		if (c->id == 1) {
			uint64_t one = 1;

			/* "a burst went out": an edge on the server's eventfd */
			if (write(srv.poke, &one, sizeof(one)) != sizeof(one)) {
				fail("eventfd write: %s", strerror(errno));
				return NULL;
			}
		}
		if (!client_replies(c, t + REPLY_SLOTS * scaled_ms(SLOT_MS) / 1e3))
			break;
		/* every third burst: hang up one connection, dial a new one */
		if ((slot + c->id) % 3 == 0) {
			int i = (int)(slot / 3 % CONNS);

			close_fd(&c->fd[i]);
			if (client_connect(c, i))
				break;
		}
	}
	return NULL;
}

/* for messages about a wait status */
static const char *how(int status)
{
	return WIFSIGNALED(status) ? "killed by signal" : "exit status";
}

static int what(int status)
{
	return WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
}

/* ---- running it all ---------------------------------------------------------- */

static void stop_child(pid_t child, int *status)
{
	double give_up = mono_s() + 5;

	kill(child, SIGTERM);
	while (waitpid(child, status, WNOHANG) == 0) {
		if (mono_s() > give_up) {
			kill(child, SIGKILL);
			waitpid(child, status, 0);
			return;
		}
		usleep(20000);
	}
}

int classroom_run(const struct classroom_opts *o)
{
	static struct worker workers[NWORKERS] = {
		{ .id = 1, .maxevents = 1, .timeout_ms = -1 },
		{ .id = 2, .maxevents = 1, .timeout_ms = -1 },
		{ .id = 3, .maxevents = 2, .timeout_ms = W3_TIMEOUT_MS },
	};
	static struct client clients[NCLIENTS];
	double rate = o->rate > 0 ? o->rate : 1, end;
	struct timespec slice = { 0, SLICE_MS * 1000000L };
	sigset_t sigs, oldmask, pending;
	pid_t parent = getpid(), child;
	int old_pdeath = 0, status = 0;
	char old_name[16] = "";
	bool child_reaped = false;

	if (o->duration_s < 0) {
		fprintf(stderr, "classroom: invalid duration %g\n", o->duration_s);
		return 1;
	}
	if (g_init(rate)) {
		fprintf(stderr, "classroom: cannot initialise a mutex\n");
		return 1;
	}
	memset(&srv, 0, sizeof(srv));
	srv.ep = srv.lst = srv.tick = srv.poke = srv.stopfd = -1;
	for (int fd = 0; fd < MAX_FD; fd++)
		pthread_mutex_init(&srv.conns[fd].lock, NULL);

	/* blocked before any thread or child exists: all of them inherit it */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &sigs, &oldmask);
	prctl(PR_GET_PDEATHSIG, &old_pdeath);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	pthread_getname_np(pthread_self(), old_name, sizeof(old_name));

	/* the second process first, while this one has a single thread */
	fflush(NULL);
	child = fork();
	if (child < 0) {
		fail("fork: %s", strerror(errno));
		goto out;
	}
	if (child == 0)
		_exit(child_main(parent));
	name_thread("classroom", 0);

	if (server_setup())
		goto out;
	for (int i = 0; i < NWORKERS; i++) {
		if (pthread_create(&workers[i].th, NULL, worker_main, &workers[i])) {
			fail("pthread_create: out of resources");
			goto out;
		}
		workers[i].started = true;
	}
	for (int i = 0; i < NCLIENTS; i++) {
		clients[i] = (struct client){ .id = i + 1, .t0 = wl_s() + 0.3 / rate };
		for (int k = 0; k < CONNS; k++)
			clients[i].fd[k] = -1;
		if (pthread_create(&clients[i].th, NULL, client_main, &clients[i])) {
			fail("pthread_create: out of resources");
			goto out;
		}
		clients[i].started = true;
	}

	end = o->duration_s > 0 ? wl_s() + o->duration_s : 0;
	while (!stopping()) {
		int sig = sigtimedwait(&sigs, NULL, &slice);

		if (sig == SIGCHLD || (sig < 0 && !child_reaped)) {
			if (waitpid(child, &status, WNOHANG) == child) {
				child_reaped = true;
				/* a Ctrl-C reaches the child too: stopping with it is fine */
				sigpending(&pending);
				if (!sigismember(&pending, SIGINT) && !sigismember(&pending, SIGTERM) &&
				    !sigismember(&pending, SIGHUP)) {
					if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
						fail("the child process ended early (%s %d)", how(status), what(status));
					else	/* it said why itself */
						child_failed();
				}
				request_stop();
			}
		} else if (sig > 0) {
			request_stop();
		}
		/* read every slice: the clock's heartbeat (wl_s) */
		if (wl_s() >= end && end)
			request_stop();
	}

out:
	request_stop();
	for (int i = 0; i < NCLIENTS; i++) {
		if (clients[i].started)
			pthread_join(clients[i].th, NULL);
		for (int k = 0; k < CONNS; k++)
			close_fd(&clients[i].fd[k]);
		clients[i].started = false;
	}
	if (srv.ep >= 0 && srv.stopfd >= 0)
		ep_add_stop(srv.ep, srv.stopfd);
	for (int i = 0; i < NWORKERS; i++) {
		if (workers[i].started)
			pthread_join(workers[i].th, NULL);
		workers[i].started = false;
	}
	server_teardown();
	if (child > 0 && !child_reaped) {
		stop_child(child, &status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			child_failed();
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("the child process ended (%s %d)", how(status), what(status));
	}
	/* the stop signal was taken; a second one must not kill us now */
	while (sigtimedwait(&sigs, NULL, &(struct timespec){ 0, 0 }) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	prctl(PR_SET_PDEATHSIG, old_pdeath);
	if (old_name[0])
		pthread_setname_np(pthread_self(), old_name);
	/* 2: the child said why on stderr already */
	if (g.failed == 1)
		fprintf(stderr, "classroom: %s\n", g.err);
	status = g.failed;
	g_fini();
	return status ? 1 : 0;
}
