// SPDX-License-Identifier: GPL-2.0
/*
 * The scripted workload behind `epolltrace demo --scenario NAME`.
 *
 * Every epoll operation goes through a wrapper that performs it and writes
 * a ground-truth line.  The workload also keeps its own model of which fd
 * refers to which open file and which items each instance holds, so that
 * a close() line can say which epitems the kernel must drop implicitly (a
 * dup keeps the file alive: then nothing is dropped).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include "workload.h"

#define MAX_FDS 1024
#define MAX_REGS 2048
#define WAIT_MAX 64

struct fd_ent {
	int open;
	int file;		/* open-file identity: dup() shares it */
	int epoll;		/* 1: this file is an epoll instance */
};

struct reg {
	int live;
	int epfile;		/* file id of the instance */
	int epfd;		/* instance fd as the truth names it */
	int fd;			/* fd number at ADD time: the epitem's key */
	int file;		/* watched file id */
};

static struct {
	FILE *truth;
	pthread_mutex_t lock;
	struct fd_ent fds[MAX_FDS];
	struct reg regs[MAX_REGS];
	int next_file;
	int failed;
	const char *scenario;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

static void vtruth(pid_t tid, const char *fmt, va_list ap)
{
	if (!W.truth)
		return;
	pthread_mutex_lock(&W.lock);
	fputc('{', W.truth);
	vfprintf(W.truth, fmt, ap);
	fprintf(W.truth, ",\"tid\":%d}\n", tid);
	fflush(W.truth);
	pthread_mutex_unlock(&W.lock);
}

/* a ground-truth line about what the calling thread did */
__attribute__((format(printf, 1, 2)))
static void truth(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtruth(gettid_(), fmt, ap);
	va_end(ap);
}

/* ... about what another thread did, when it cannot say so itself */
__attribute__((format(printf, 2, 3)))
static void truth_as(pid_t tid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtruth(tid, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2)))
static void bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "epolltrace demo %s: ", W.scenario);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	W.failed = 1;
}

/* ---- fd bookkeeping ------------------------------------------------------ */

static int track(int fd, const char *kind, int epoll)
{
	if (fd < 0 || fd >= MAX_FDS) {
		bad("%s: fd %d out of range: %s", kind, fd, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&W.lock);
	W.fds[fd].open = 1;
	W.fds[fd].file = ++W.next_file;
	W.fds[fd].epoll = epoll;
	pthread_mutex_unlock(&W.lock);
	truth("\"t\":\"fd\",\"fd\":%d,\"kind\":\"%s\"", fd, kind);
	return fd;
}

static void track_dup(int oldfd, int newfd)
{
	pthread_mutex_lock(&W.lock);
	W.fds[newfd] = W.fds[oldfd];
	pthread_mutex_unlock(&W.lock);
}

static int file_refs(int file)
{
	int n = 0;

	for (int i = 0; i < MAX_FDS; i++)
		n += W.fds[i].open && W.fds[i].file == file;
	return n;
}

/*
 * fd is about to stop referring to its file.  Returns the JSON list of
 * epitems the kernel drops, and forgets them (and a dying instance's).
 */
static void forget_fd(int fd, char *removes, size_t len, int *epclosed)
{
	int file = W.fds[fd].file, last;
	size_t off = 0;

	*epclosed = 0;
	W.fds[fd].open = 0;
	last = file_refs(file) == 0;
	off += snprintf(removes + off, len - off, "[");
	if (last) {
		for (int i = 0; i < MAX_REGS; i++) {
			struct reg *r = &W.regs[i];

			if (!r->live)
				continue;
			if (r->epfile == file) {	/* the instance itself dies */
				r->live = 0;
				continue;
			}
			if (r->file != file)
				continue;
			r->live = 0;
			off += snprintf(removes + off, len - off, "%s{\"epfd\":%d,\"fd\":%d}",
					removes[off - 1] == '[' ? "" : ",", r->epfd, r->fd);
		}
		*epclosed = W.fds[fd].epoll;
	}
	snprintf(removes + off, len - off, "]");
}

static void do_close(int fd, const char *how)
{
	char removes[4096];
	int epclosed;

	pthread_mutex_lock(&W.lock);
	forget_fd(fd, removes, sizeof(removes), &epclosed);
	pthread_mutex_unlock(&W.lock);
	if (close(fd))
		bad("close(%d): %s", fd, strerror(errno));
	truth("\"t\":\"close\",\"fd\":%d,\"how\":\"%s\",\"removes\":%s", fd, how, removes);
	if (epclosed)
		truth("\"t\":\"epclose\",\"epfd\":%d", fd);
}

/* ---- epoll wrappers ---------------------------------------------------------- */

static int ep_new(int legacy)
{
	int fd = legacy ? epoll_create(1) : epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0) {
		bad("epoll_create: %s", strerror(errno));
		return -1;
	}
	truth("\"t\":\"create\",\"epfd\":%d,\"flags\":%d,\"syscall\":\"%s\"", fd,
	      legacy ? 0 : EPOLL_CLOEXEC, legacy ? "epoll_create" : "epoll_create1");
	return track(fd, "epoll", 1);
}

static uint64_t tag(int epfd, int fd)
{
	return ((uint64_t)0xe7 << 56) | ((uint64_t)epfd << 32) | (uint32_t)fd;
}

/* expect_err: the errno this call must fail with, 0 if it must succeed */
static int ctl(int epfd, int op, int fd, uint32_t events, int expect_err)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag(epfd, fd) };
	const char *name = op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_MOD ? "MOD" : "DEL";
	int ret = epoll_ctl(epfd, op, fd, &ev), err = ret ? errno : 0;

	truth("\"t\":\"ctl\",\"op\":\"%s\",\"epfd\":%d,\"fd\":%d,\"events\":%u,\"data\":%llu,"
	      "\"ret\":%d,\"errno\":%d", name, epfd, fd, op == EPOLL_CTL_DEL ? 0 : events,
	      op == EPOLL_CTL_DEL ? 0ULL : (unsigned long long)ev.data.u64, ret, err);
	if (err != expect_err) {
		bad("epoll_ctl(%d, %s, %d): %s, expected %s", epfd, name, fd, strerror(err),
		    strerror(expect_err));
		return -1;
	}
	if (ret)
		return 0;
	pthread_mutex_lock(&W.lock);
	if (op == EPOLL_CTL_ADD) {
		for (int i = 0; i < MAX_REGS; i++) {
			if (!W.regs[i].live) {
				W.regs[i] = (struct reg){ 1, W.fds[epfd].file, epfd, fd,
							  W.fds[fd].file };
				break;
			}
		}
	} else if (op == EPOLL_CTL_DEL) {
		for (int i = 0; i < MAX_REGS; i++)
			if (W.regs[i].live && W.regs[i].epfd == epfd && W.regs[i].fd == fd)
				W.regs[i].live = 0;
	}
	pthread_mutex_unlock(&W.lock);
	return 0;
}

enum wsys { W_WAIT, W_PWAIT, W_PWAIT2 };

static int wait_(enum wsys sys, int epfd, int maxevents, int timeout_ms, struct epoll_event *out)
{
	static const char *const names[] = { "epoll_wait", "epoll_pwait", "epoll_pwait2" };
	struct epoll_event ev[WAIT_MAX];
	char list[WAIT_MAX * 48] = "";
	size_t off = 0;
	int ret;

	if (maxevents > WAIT_MAX)
		maxevents = WAIT_MAX;
	if (sys == W_WAIT) {
		ret = epoll_wait(epfd, ev, maxevents, timeout_ms);
	} else if (sys == W_PWAIT) {
		ret = epoll_pwait(epfd, ev, maxevents, timeout_ms, NULL);
	} else {
		struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

		ret = syscall(SYS_epoll_pwait2, epfd, ev, maxevents, timeout_ms < 0 ? NULL : &ts,
			      NULL, 8);
	}
	for (int i = 0; i < ret; i++)
		off += snprintf(list + off, sizeof(list) - off, "%s{\"events\":%u,\"data\":%llu}",
				i ? "," : "", ev[i].events, (unsigned long long)ev[i].data.u64);
	truth("\"t\":\"wait\",\"syscall\":\"%s\",\"epfd\":%d,\"maxevents\":%d,\"timeout_ms\":%d,"
	      "\"ret\":%d,\"errno\":%d,\"events\":[%s]", names[sys], epfd, maxevents, timeout_ms,
	      ret, ret < 0 ? errno : 0, list);
	if (ret < 0)
		bad("%s(%d): %s", names[sys], epfd, strerror(errno));
	if (out && ret > 0)
		memcpy(out, ev, ret * sizeof(*ev));
	return ret;
}

static void expect(int epfd)
{
	char list[8192];
	size_t off = 0;
	int fds[MAX_REGS], n = 0;

	pthread_mutex_lock(&W.lock);
	for (int i = 0; i < MAX_REGS; i++)
		if (W.regs[i].live && W.regs[i].epfd == epfd)
			fds[n++] = W.regs[i].fd;
	pthread_mutex_unlock(&W.lock);
	for (int i = 1; i < n; i++)	/* insertion sort: small */
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];

			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	list[0] = '\0';
	for (int i = 0; i < n && off < sizeof(list) - 16; i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%d", i ? "," : "", fds[i]);
	truth("\"t\":\"expect\",\"epfd\":%d,\"fds\":[%s]", epfd, list);
}

static void check(int cond, const char *what)
{
	if (!cond)
		bad("the kernel disagrees: %s", what);
}

/* ---- fd makers -------------------------------------------------------------- */

static int make_pipe(int p[2])
{
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) {
		bad("pipe: %s", strerror(errno));
		return -1;
	}
	track(p[0], "pipe", 0);
	track(p[1], "pipe-w", 0);
	return 0;
}

static void put(int fd)
{
	if (write(fd, "x", 1) != 1)
		bad("write(%d): %s", fd, strerror(errno));
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void lo_up(void)
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

/* ---- thread helpers ----------------------------------------------------------- */

struct waiter {
	pthread_t th;
	pid_t tid;
	int epfd;
	int timeout;
	int waits;		/* how many waits to do */
	int got;		/* events received */
	volatile int done;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->tid = gettid_();
	truth("\"t\":\"thread\"");
	for (int i = 0; i < w->waits; i++) {
		struct epoll_event ev[4];
		int n = wait_(W_WAIT, w->epfd, 1, w->timeout, ev);

		if (n > 0) {
			w->got += n;
			/* consume so that no other thread sees it again */
			if ((ev[0].data.u64 >> 56) == 0xe7) {
				uint64_t v;

				if (read((int)(uint32_t)ev[0].data.u64, &v, sizeof(v)) < 0 &&
				    errno != EAGAIN)
					bad("read: %s", strerror(errno));
			}
		}
	}
	w->done = 1;
	return NULL;
}

/* Is the thread asleep (state S)?  Bounded polling of /proc. */
static int wait_asleep(pid_t tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (tid && p && p[1] == ' ' && p[2] == 'S')
			return 0;
		usleep(1000);
	}
	bad("thread %d never fell asleep", tid);
	return -1;
}

static void start_waiters(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++) {
		if (pthread_create(&w[i].th, NULL, waiter_main, &w[i]))
			bad("pthread_create failed");
	}
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < 5000 && !w[i].tid; k++)
			usleep(1000);
		wait_asleep(w[i].tid);
	}
}

/* ---- scenarios ------------------------------------------------------------------ */

static void sc_mixed(int scale)
{
	int ep = ep_new(0), p[2], ready = 0, n;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int lst, watched[MAX_FDS], nw = 0, writers[MAX_FDS];

	lo_up();
	for (int i = 0; i < 16 * scale; i++) {
		if (make_pipe(p))
			return;
		watched[nw] = p[0];
		writers[nw++] = p[1];
	}
	for (int i = 0; i < 8 * scale; i++) {
		int e = track(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd", 0);

		watched[nw] = e;
		writers[nw++] = e;
	}
	lst = track(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "tcp-listen", 0);
	if (lst < 0 || bind(lst, (void *)&a, sizeof(a)) || listen(lst, 64) ||
	    getsockname(lst, (void *)&a, &al)) {
		bad("tcp listen: %s", strerror(errno));
		return;
	}
	watched[nw] = lst;
	writers[nw++] = -1;
	for (int i = 0; i < 8 * scale; i++) {
		int c = track(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "tcp-client", 0);

		if (c < 0 || connect(c, (void *)&a, sizeof(a))) {
			bad("tcp connect: %s", strerror(errno));
			return;
		}
		watched[nw] = track(accept4(lst, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), "tcp", 0);
		writers[nw++] = c;
	}
	for (int i = 0; i < 4 * scale; i++) {
		int u = track(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "udp", 0);

		if (u < 0 || bind(u, (void *)&(struct sockaddr_in){ .sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, sizeof(a))) {
			bad("udp: %s", strerror(errno));
			return;
		}
		watched[nw] = u;
		writers[nw++] = -2;	/* sendto self */
	}
	for (int i = 0; i < 6 * scale; i++) {
		int sv[2], type = i < 4 * scale ? SOCK_STREAM : SOCK_DGRAM;

		if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
			bad("socketpair: %s", strerror(errno));
			return;
		}
		watched[nw] = track(sv[0], type == SOCK_STREAM ? "unix-stream" : "unix-dgram", 0);
		writers[nw++] = track(sv[1], "unix-peer", 0);
	}
	for (int i = 0; i < nw; i++)
		ctl(ep, EPOLL_CTL_ADD, watched[i], EPOLLIN, 0);
	expect(ep);

	/* make every other one ready, in order */
	for (int i = 0; i < nw; i += 2) {
		if (writers[i] == -1)
			continue;
		if (writers[i] == -2) {
			struct sockaddr_in self;
			socklen_t sl = sizeof(self);

			getsockname(watched[i], (void *)&self, &sl);
			sendto(watched[i], "u", 1, 0, (void *)&self, sl);
		} else if (writers[i] == watched[i]) {
			uint64_t one = 1;

			if (write(watched[i], &one, sizeof(one)) != sizeof(one))
				bad("eventfd write: %s", strerror(errno));
		} else {
			put(writers[i]);
		}
		ready++;
	}
	n = wait_(W_WAIT, ep, WAIT_MAX, 2000, NULL);
	check(n == ready, "mixed: every fd made ready is reported once");
	for (int i = 0; i < nw; i++)
		drain(watched[i]);
	n = wait_(W_WAIT, ep, WAIT_MAX, 0, NULL);
	check(n == 0, "mixed: nothing ready after draining");
	for (int i = 0; i < nw; i += 3)
		ctl(ep, EPOLL_CTL_DEL, watched[i], 0, 0);
	/* a second DEL of the same fd fails: the trace must show the error */
	ctl(ep, EPOLL_CTL_DEL, watched[0], 0, ENOENT);
	expect(ep);
}

static void sc_threads(void)
{
	int ep = ep_new(0), efd[4];
	struct waiter w[4] = {};

	for (int i = 0; i < 4; i++) {
		efd[i] = track(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd", 0);
		ctl(ep, EPOLL_CTL_ADD, efd[i], EPOLLIN | EPOLLET, 0);
	}
	for (int i = 0; i < 4; i++)
		w[i] = (struct waiter){ .epfd = ep, .timeout = 5000, .waits = 1 };
	start_waiters(w, 4);
	for (int i = 0; i < 4; i++) {
		uint64_t one = 1;
		int done = 0;

		if (write(efd[i], &one, sizeof(one)) != sizeof(one))
			bad("eventfd write: %s", strerror(errno));
		/* one write, one callback, one exclusive wakeup */
		for (int k = 0; k < 5000 && done <= i; k++) {
			done = 0;
			for (int j = 0; j < 4; j++)
				done += w[j].done;
			usleep(1000);
		}
	}
	for (int i = 0; i < 4; i++)
		pthread_join(w[i].th, NULL);
	for (int i = 0, got = 0; i < 4; i++) {
		got += w[i].got;
		if (i == 3)
			check(got == 4, "threads: four writes woke four waits");
	}
	expect(ep);
}

static void sc_lt_et(void)
{
	int ep = ep_new(1), a[2], b[2];
	struct epoll_event ev[4];

	if (make_pipe(a) || make_pipe(b))
		return;
	ctl(ep, EPOLL_CTL_ADD, a[0], EPOLLIN, 0);
	ctl(ep, EPOLL_CTL_ADD, b[0], EPOLLIN | EPOLLET, 0);
	put(a[1]);
	put(b[1]);
	check(wait_(W_WAIT, ep, 8, 1000, ev) == 2, "lt-et: both reported first");
	check(wait_(W_WAIT, ep, 8, 0, ev) == 1 && ev[0].data.u64 == tag(ep, a[0]),
	      "lt-et: level-triggered reported again, edge-triggered not");
	put(b[1]);
	check(wait_(W_WAIT, ep, 8, 1000, ev) == 2, "lt-et: new data re-arms the edge");
	expect(ep);
	/* ep_send_events put the level-triggered item back on rdllist, and
	 * nothing consumed it since: it is still queued; the edge one is not */
	truth("\"t\":\"expect_ready\",\"epfd\":%d,\"fds\":[%d]", ep, a[0]);
}

static void sc_oneshot(void)
{
	int ep = ep_new(0), p[2];
	struct epoll_event ev[4];

	if (make_pipe(p))
		return;
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, 0);
	put(p[1]);
	for (int i = 0; i < 3; i++) {
		check(wait_(W_PWAIT, ep, 4, 1000, ev) == 1, "oneshot: reported once");
		check(wait_(W_PWAIT, ep, 4, 0, ev) == 0, "oneshot: disarmed after delivery");
		ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 0);
	}
	check(wait_(W_PWAIT, ep, 4, 1000, ev) == 1, "oneshot: re-armed by MOD");
	expect(ep);
	/* delivered once more, then disarmed: data pending, yet not queued */
	truth("\"t\":\"expect_ready\",\"epfd\":%d,\"fds\":[]", ep);
}

static void sc_exclusive(void)
{
	int efd = track(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd", 0), stop[3][2];
	struct waiter w[3] = {};
	int woken = 0;

	for (int i = 0; i < 3; i++) {
		int ep = ep_new(0);

		if (make_pipe(stop[i]))
			return;
		ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE, 0);
		ctl(ep, EPOLL_CTL_ADD, stop[i][0], EPOLLIN, 0);
		w[i] = (struct waiter){ .epfd = ep, .timeout = 5000, .waits = 1 };
	}
	/* EPOLLEXCLUSIVE cannot be modified */
	ctl(w[0].epfd, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLEXCLUSIVE, EINVAL);
	start_waiters(w, 3);
	{
		uint64_t one = 1;

		if (write(efd, &one, sizeof(one)) != sizeof(one))
			bad("eventfd write: %s", strerror(errno));
	}
	for (int k = 0; k < 5000 && !woken; k++) {
		for (int i = 0; i < 3; i++)
			woken += w[i].done;
		usleep(1000);
	}
	check(woken >= 1 && woken < 3, "exclusive: one write does not wake every instance");
	for (int i = 0; i < 3; i++)
		if (!w[i].done)
			put(stop[i][1]);
	for (int i = 0; i < 3; i++) {
		pthread_join(w[i].th, NULL);
		expect(w[i].epfd);
	}
}

static void sc_close_watched(void)
{
	int ep = ep_new(0), p[2], q[2], r[2], s[2];
	struct epoll_event ev[4];
	int a, b, hi = 200;

	if (make_pipe(p) || make_pipe(q))
		return;
	/* closed while watched: dropped by the kernel */
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0);
	do_close(p[0], "close");
	/* a dup keeps the file, and the epitem keeps the old fd number */
	a = q[0];
	ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 0);
	b = dup(a);
	track_dup(a, b);
	do_close(a, "close");
	put(q[1]);
	check(wait_(W_WAIT, ep, 4, 1000, ev) == 1 && ev[0].data.u64 == tag(ep, a),
	      "close-watched: item survives while a dup holds the file");
	expect(ep);
	do_close(b, "close");
	/* an instance closed with an item in it, and an instance closed while
	 * another one watches it (nested): both go, items and all */
	{
		int tmp = ep_new(0), inner = ep_new(0), t[2];

		if (make_pipe(t))
			return;
		ctl(tmp, EPOLL_CTL_ADD, t[0], EPOLLIN, 0);
		ctl(inner, EPOLL_CTL_ADD, t[0], EPOLLIN, 0);
		ctl(ep, EPOLL_CTL_ADD, inner, EPOLLIN, 0);
		do_close(tmp, "close");
		do_close(inner, "close");
		do_close(t[0], "close");
		do_close(t[1], "close");
	}
	/* close_range over three watched fds */
	for (int i = 0; i < 3; i++) {
		if (make_pipe(r))
			return;
		if (dup2(r[0], hi + i) < 0)
			bad("dup2: %s", strerror(errno));
		track_dup(r[0], hi + i);
		do_close(r[0], "close");
		ctl(ep, EPOLL_CTL_ADD, hi + i, EPOLLIN, 0);
	}
	{
		char removes[4096], all[4096] = "[";
		int epc;

		pthread_mutex_lock(&W.lock);
		for (int i = 0; i < 3; i++) {
			forget_fd(hi + i, removes, sizeof(removes), &epc);
			if (strlen(removes) > 2)
				snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%.*s",
					 strlen(all) > 1 ? "," : "", (int)strlen(removes) - 2,
					 removes + 1);
		}
		pthread_mutex_unlock(&W.lock);
		if (syscall(SYS_close_range, hi, hi + 2, 0))
			bad("close_range: %s", strerror(errno));
		truth("\"t\":\"close\",\"fd\":%d,\"how\":\"close_range\",\"removes\":%s]", hi, all);
	}
	/* dup2 over a watched fd closes its file */
	if (make_pipe(s))
		return;
	ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, 0);
	{
		char removes[4096];
		int epc;

		pthread_mutex_lock(&W.lock);
		forget_fd(s[0], removes, sizeof(removes), &epc);
		pthread_mutex_unlock(&W.lock);
		if (dup2(q[1], s[0]) < 0)
			bad("dup2: %s", strerror(errno));
		track_dup(q[1], s[0]);
		truth("\"t\":\"close\",\"fd\":%d,\"how\":\"dup2\",\"removes\":%s", s[0], removes);
	}
	expect(ep);
}

static void sc_nested(void)
{
	int inner = ep_new(0), outer = ep_new(0), p[2];
	struct epoll_event ev[4];

	if (make_pipe(p))
		return;
	ctl(inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0);
	ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 0);
	put(p[1]);
	check(wait_(W_PWAIT2, outer, 4, 1000, ev) == 1 && ev[0].data.u64 == tag(outer, inner),
	      "nested: the inner instance is ready in the outer one");
	check(wait_(W_PWAIT2, inner, 4, 1000, ev) == 1 && ev[0].data.u64 == tag(inner, p[0]),
	      "nested: the inner instance holds the pipe");
	expect(inner);
	expect(outer);
}

static void exit_thread(int sig)
{
	(void)sig;
	syscall(SYS_exit, 0);	/* ends this thread only */
}

static void sc_thread_exit(void)
{
	int ep = ep_new(0), p[2];
	struct waiter w[2] = {};
	struct sigaction sa = { .sa_handler = exit_thread };

	if (make_pipe(p))
		return;
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0);
	sigaction(SIGUSR2, &sa, NULL);
	for (int i = 0; i < 2; i++)
		w[i] = (struct waiter){ .epfd = ep, .timeout = 5000, .waits = 1 };
	start_waiters(w, 2);
	pthread_kill(w[0].th, SIGUSR2);
	/*
	 * The signal interrupts the sleeping wait, which returns -EINTR (never
	 * restarted, whatever SA_RESTART says), then the handler ends the
	 * thread.  It cannot write that down itself: this thread does.
	 */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%d", w[0].tid);
		for (int k = 0; k < 5000 && !access(path, F_OK); k++)
			usleep(1000);
		if (!access(path, F_OK))
			bad("thread %d did not exit", w[0].tid);
	}
	truth_as(w[0].tid, "\"t\":\"wait\",\"syscall\":\"epoll_wait\",\"epfd\":%d,\"maxevents\":1,"
		 "\"timeout_ms\":5000,\"ret\":-1,\"errno\":%d,\"events\":[]", ep, EINTR);
	truth_as(w[0].tid, "\"t\":\"thread_exit\",\"in_wait\":true");
	put(p[1]);
	pthread_join(w[1].th, NULL);
	pthread_join(w[0].th, NULL);
	check(w[1].got == 1, "thread-exit: the surviving waiter is woken");
	signal(SIGUSR2, SIG_DFL);
	expect(ep);
}

static const struct {
	const char *name;
	const char *desc;
} scenarios[] = {
	{ "mixed", "pipes, eventfds, TCP, UDP and unix sockets on one instance" },
	{ "threads", "four threads asleep on one instance, woken one by one" },
	{ "lt-et", "level- vs edge-triggered: what is reported again" },
	{ "oneshot", "EPOLLONESHOT disarms after one event; MOD re-arms" },
	{ "exclusive", "EPOLLEXCLUSIVE: one eventfd, three instances, not all woken" },
	{ "close-watched", "closing watched fds: plain, with a dup, close_range, dup2" },
	{ "nested", "an epoll instance watched by another" },
	{ "thread-exit", "a thread exits while asleep in epoll_wait" },
	{ "all", "every scenario above, in order" },
};

#define NSC (sizeof(scenarios) / sizeof(scenarios[0]))

const char *const *workload_scenarios(void)
{
	static const char *names[NSC + 1];

	for (size_t i = 0; i < NSC; i++)
		names[i] = scenarios[i].name;
	return names;
}

const char *workload_describe(const char *name)
{
	for (size_t i = 0; i < NSC; i++)
		if (!strcmp(scenarios[i].name, name))
			return scenarios[i].desc;
	return NULL;
}

static void run_one(const char *name, int scale)
{
	truth("\"t\":\"scenario\",\"name\":\"%s\",\"pid\":%d", name, getpid());
	if (!strcmp(name, "mixed"))
		sc_mixed(scale);
	else if (!strcmp(name, "threads"))
		sc_threads();
	else if (!strcmp(name, "lt-et"))
		sc_lt_et();
	else if (!strcmp(name, "oneshot"))
		sc_oneshot();
	else if (!strcmp(name, "exclusive"))
		sc_exclusive();
	else if (!strcmp(name, "close-watched"))
		sc_close_watched();
	else if (!strcmp(name, "nested"))
		sc_nested();
	else if (!strcmp(name, "thread-exit"))
		sc_thread_exit();
}

static void gate(const struct workload_opts *o, const char *what)
{
	sigset_t set;
	int sig;

	truth("\"t\":\"%s\"", what);
	if (!o->gate)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigwait(&set, &sig);
}

int workload_run(const struct workload_opts *o)
{
	int pre, p[2], scale = o->scale > 0 ? o->scale : 1;
	sigset_t set;

	if (!workload_describe(o->scenario)) {
		fprintf(stderr, "epolltrace demo: unknown scenario '%s'\n", o->scenario);
		return 1;
	}
	memset(W.fds, 0, sizeof(W.fds));
	memset(W.regs, 0, sizeof(W.regs));
	W.truth = o->truth;
	W.scenario = o->scenario;
	W.failed = 0;
	for (int fd = 0; fd < 3; fd++) {	/* stdio: files we never close */
		W.fds[fd].open = 1;
		W.fds[fd].file = ++W.next_file;
	}
	/* SIGUSR1 is the gate: blocked in every thread, taken by sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	truth("\"t\":\"scenario\",\"name\":\"%s\",\"pid\":%d", o->scenario, getpid());
	/* an instance that exists before any tracer attaches */
	pre = ep_new(0);
	for (int i = 0; i < 3; i++) {
		if (make_pipe(p))
			return 1;
		ctl(pre, EPOLL_CTL_ADD, p[0], EPOLLIN | (i ? EPOLLOUT : 0), 0);
	}
	expect(pre);
	gate(o, "ready");

	if (!strcmp(o->scenario, "all")) {
		for (size_t i = 0; i + 1 < NSC; i++)
			run_one(scenarios[i].name, scale);
	} else {
		run_one(o->scenario, scale);
	}
	expect(pre);
	gate(o, "done");

	/* close every instance first, then everything else */
	for (int fd = 3; fd < MAX_FDS; fd++)
		if (W.fds[fd].open && W.fds[fd].epoll)
			do_close(fd, "close");
	for (int fd = 3; fd < MAX_FDS; fd++)
		if (W.fds[fd].open)
			do_close(fd, "close");
	truth("\"t\":\"exit\"");
	return W.failed;
}
