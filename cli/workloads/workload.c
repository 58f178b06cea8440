// SPDX-License-Identifier: GPL-2.0
/*
 * The scripted epoll workload behind `epolltrace demo --scenario NAME`.
 *
 * It drives the kernel's epoll machinery in known ways and writes the
 * ground truth of exactly what it did as JSON Lines, so that a test can
 * hold a trace against it.  Every epoll operation goes through a wrapper
 * that performs it and then writes its line.
 *
 * The workload also keeps a model of which fd refers to which open file
 * and which epitems each instance holds.  The kernel keys an epitem by
 * (file, fd number at ADD time) and drops it implicitly only when the
 * file's last reference goes, so the model can say exactly which epitems a
 * close() drops (none while a dup keeps the file open), and exactly which
 * interest set /proc/PID/fdinfo/EPFD must show at a checkpoint.
 *
 * Where the outcome is documented epoll semantics (level vs edge, one-shot,
 * exclusive wakeups, implicit removal, nesting), the workload asserts it
 * and fails loudly, naming what the kernel did instead.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include "grow.h"
#include "workload.h"
#include "workload_ops.h"

/* Debian 12's glibc has no epoll_pwait2() wrapper; the numbers are generic */
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define WAIT_MS		5000	/* bound on every wait that must not time out */
#define MAX_SCALE	64
/* epoll_data: (epfd << 32) | fd, plus these; all below 2^53, exact in JSON */
#define TAG_STOP	(1ULL << 47)	/* an item that tells waiter threads to stop */
#define TAG_GEN_SHIFT	48		/* MOD generation (1..31): new data is seen */
#define KSIGSET_SIZE	8		/* the kernel's sigset_t, what pwait2 wants */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- state ------------------------------------------------------------- */

struct file_info {
	int refs;		/* fds of ours referring to it */
	bool epoll;
	int epfd;		/* an instance: the fd the truth names it by */
};

struct item {
	int ep_file;		/* the instance */
	int epfd;
	int fd;			/* key: the fd number at ADD time */
	int file;		/* the watched file */
};

static struct {
	pthread_mutex_t lock;	/* the truth sink and the model */
	FILE *truth;
	const char *scenario;	/* the one running, for error lines */
	int failed;		/* set by the first failure (atomic) */
	int *fd_file;		/* fd number -> file id; 0: not ours */
	int nfd;
	struct file_info *files;	/* by file id; id 0 unused */
	int nfiles, cap_files;
	struct item *items;
	int nitems, cap_items;
	bool lo_checked;
} wl = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool failed(void)
{
	return __atomic_load_n(&wl.failed, __ATOMIC_SEQ_CST);
}

/* ---- JSON lines ------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_vadd(struct sbuf *b, const char *fmt, va_list ap)
{
	for (;;) {
		size_t room = b->cap - b->len, cap;
		va_list aq;
		char *s;
		int n;

		if (b->oom)
			return;
		va_copy(aq, ap);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, aq);
		va_end(aq);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += n;
			return;
		}
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vadd(b, fmt, ap);
	va_end(ap);
}

static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_add(b, "\"");
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			sb_add(b, "\\%c", c);
		else if (c < 0x20)
			sb_add(b, "\\u%04x", c);
		else
			sb_add(b, "%c", c);
	}
	sb_add(b, "\"");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes {BODY,"tid":TID} as one line and flushes it; frees b. */
static void emit(pid_t tid, struct sbuf *b)
{
	bool oom = b->oom;
	int err = 0;

	if (!oom && wl.truth) {
		pthread_mutex_lock(&wl.lock);
		if (fprintf(wl.truth, "{%s,\"tid\":%d}\n", b->s, tid) < 0 || fflush(wl.truth))
			err = errno ? errno : EIO;
		pthread_mutex_unlock(&wl.lock);
	}
	free(b->s);
	memset(b, 0, sizeof(*b));
	if (oom)
		fail("out of memory writing the ground truth");
	else if (err)
		fail("writing the ground truth: %s", strerror(err));
}

static void vtruth_as(pid_t tid, const char *fmt, va_list ap)
{
	struct sbuf b = {};

	sb_vadd(&b, fmt, ap);
	emit(tid, &b);
}

/* a ground-truth line about what the calling thread did */
__attribute__((format(printf, 1, 2)))
static void truth(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtruth_as(gettid(), fmt, ap);
	va_end(ap);
}

/* ... about what another thread did, when it cannot say so itself */
__attribute__((format(printf, 2, 3)))
static void truth_as(pid_t tid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtruth_as(tid, fmt, ap);
	va_end(ap);
}

/*
 * Only the first failure is printed: the rest follow from it.  Never call
 * with wl.lock held.  Returns -1 so that callers can `return fail(...)`.
 */
static int fail(const char *fmt, ...)
{
	struct sbuf b = {};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (__atomic_exchange_n(&wl.failed, 1, __ATOMIC_SEQ_CST))
		return -1;
	fprintf(stderr, "workload %s: %s\n", wl.scenario, msg);
	sb_add(&b, "\"t\":\"error\",\"scenario\":");
	sb_json_str(&b, wl.scenario);
	sb_add(&b, ",\"msg\":");
	sb_json_str(&b, msg);
	emit(gettid(), &b);
	return -1;
}

/* a kernel semantic the workload relies on did not hold */
#define semantic(cond, ...) ((cond) ? 0 : fail("the kernel disagrees: " __VA_ARGS__))

/* ---- the model: fds, files, epitems ------------------------------------- */

static int grow(void *pp, int *cap, int need, size_t size)
{
	size_t c = (size_t)*cap;

	if (need < 0 || et_grow(pp, &c, (size_t)need, size) || c > INT_MAX)
		return -1;
	*cap = (int)c;
	return 0;
}

/* under wl.lock */
static int model_file(int fd)
{
	return fd >= 0 && fd < wl.nfd ? wl.fd_file[fd] : 0;
}

/* under wl.lock: fd now refers to file */
static int model_set_fd(int fd, int file)
{
	if (fd < 0 || grow(&wl.fd_file, &wl.nfd, fd + 1, sizeof(int)))
		return -1;
	wl.fd_file[fd] = file;
	wl.files[file].refs++;
	return 0;
}

/* under wl.lock: fd refers to a newly opened file */
static int model_new_file(int fd, bool epoll)
{
	int id = wl.nfiles ? wl.nfiles : 1;

	if (grow(&wl.files, &wl.cap_files, id + 1, sizeof(struct file_info)))
		return -1;
	wl.files[id] = (struct file_info){ .epoll = epoll, .epfd = fd };
	wl.nfiles = id + 1;
	return model_set_fd(fd, id);
}

static void model_del_item(int i)
{
	wl.items[i] = wl.items[--wl.nitems];
}

/*
 * A set of closes at once: the epitems the kernel drops implicitly, as a
 * JSON list, and the instances that die.
 */
struct closing {
	struct sbuf removes;
	int nremoves;
	int epclosed[8];
	int nep;
};

/*
 * Under wl.lock: fd stops referring to its file.  When that was the last
 * reference the file is released: every epitem watching it (in any
 * instance, under any fd key) goes, and if it is an instance, it goes
 * with its own epitems, which are not implicit removals of their files.
 */
static int model_drop_fd(int fd, struct closing *c)
{
	int file = model_file(fd);

	if (!file)
		return -1;
	wl.fd_file[fd] = 0;
	if (--wl.files[file].refs > 0)
		return 0;
	for (int i = wl.nitems - 1; i >= 0; i--) {
		struct item *it = &wl.items[i];

		if (it->file == file) {
			sb_add(&c->removes, "%s{\"epfd\":%d,\"fd\":%d}",
			       c->nremoves++ ? "," : "", it->epfd, it->fd);
			model_del_item(i);
		}
	}
	if (wl.files[file].epoll) {
		for (int i = wl.nitems - 1; i >= 0; i--)
			if (wl.items[i].ep_file == file)
				model_del_item(i);
		if (c->nep < (int)ARRAY_SIZE(c->epclosed))
			c->epclosed[c->nep++] = wl.files[file].epfd;
	}
	return 0;
}

/* the lines for a close that happened; extra: more JSON members, or "" */
static void closing_lines(int fd, const char *how, const char *extra, struct closing *c)
{
	struct sbuf b = {};

	sb_add(&b, "\"t\":\"close\",\"fd\":%d,\"how\":\"%s\"%s,\"removes\":[%s]", fd, how, extra,
	       c->removes.s ? c->removes.s : "");
	emit(gettid(), &b);
	for (int i = 0; i < c->nep; i++)
		truth("\"t\":\"epclose\",\"epfd\":%d", c->epclosed[i]);
	if (c->removes.oom)
		fail("out of memory");
	free(c->removes.s);
}

/* ---- fds: creating and closing ----------------------------------------- */

/* A new fd (the result of call) referring to a newly opened file. */
static int track(int fd, const char *kind, const char *call)
{
	int r;

	if (fd < 0)
		return fail("%s (%s): %s", call, kind, strerror(errno));
	pthread_mutex_lock(&wl.lock);
	r = model_new_file(fd, false);
	pthread_mutex_unlock(&wl.lock);
	if (r) {
		close(fd);
		return fail("out of memory");
	}
	truth("\"t\":\"fd\",\"fd\":%d,\"kind\":\"%s\"", fd, kind);
	return fd;
}

/* newfd (the result of call) now refers to oldfd's file as well */
static int track_dup(int newfd, int oldfd, const char *kind, const char *call)
{
	int r;

	if (newfd < 0)
		return fail("%s(%d): %s", call, oldfd, strerror(errno));
	pthread_mutex_lock(&wl.lock);
	r = model_set_fd(newfd, model_file(oldfd));
	pthread_mutex_unlock(&wl.lock);
	if (r)
		return fail("out of memory");
	truth("\"t\":\"fd\",\"fd\":%d,\"kind\":\"%s\",\"dup_of\":%d", newfd, kind, oldfd);
	return newfd;
}

/* a dup of fd at the lowest free number, for scenarios in files of their own */
static int ops_dup(int fd)
{
	return track_dup(fcntl(fd, F_DUPFD_CLOEXEC, 0), fd, "dup", "fcntl(F_DUPFD_CLOEXEC)");
}

static int close_fd(int fd)
{
	struct closing c = {};
	int r;

	pthread_mutex_lock(&wl.lock);
	r = model_drop_fd(fd, &c);
	pthread_mutex_unlock(&wl.lock);
	if (r)
		return fail("close(%d): not an fd of ours", fd);
	r = close(fd);
	if (r)
		fail("close(%d): %s", fd, strerror(errno));
	closing_lines(fd, "close", "", &c);
	return r;
}

static int close_range_fds(int first, int last)
{
	struct closing c = {};
	char extra[32];
	int r;

	pthread_mutex_lock(&wl.lock);
	for (int fd = first; fd <= last; fd++)
		if (model_file(fd))
			model_drop_fd(fd, &c);
	pthread_mutex_unlock(&wl.lock);
	r = syscall(SYS_close_range, first, last, 0);
	if (r)
		fail("close_range(%d, %d): %s", first, last, strerror(errno));
	snprintf(extra, sizeof(extra), ",\"last\":%d", last);
	closing_lines(first, "close_range", extra, &c);
	return r;
}

/* dup2(oldfd, newfd) where newfd is open: its file is closed first */
static int dup2_over(int oldfd, int newfd, const char *kind)
{
	struct closing c = {};
	char extra[32];
	int r;

	pthread_mutex_lock(&wl.lock);
	r = model_drop_fd(newfd, &c);
	pthread_mutex_unlock(&wl.lock);
	if (r)
		return fail("dup2(%d, %d): %d is not an fd of ours", oldfd, newfd, newfd);
	r = dup2(oldfd, newfd);
	if (r < 0)
		fail("dup2(%d, %d): %s", oldfd, newfd, strerror(errno));
	snprintf(extra, sizeof(extra), ",\"oldfd\":%d", oldfd);
	closing_lines(newfd, "dup2", extra, &c);
	return r < 0 ? -1 : track_dup(newfd, oldfd, kind, "dup2");
}

static int make_pipe(int p[2])
{
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return fail("pipe2: %s", strerror(errno));
	if (track(p[0], "pipe", "pipe2") < 0 || track(p[1], "pipe-w", "pipe2") < 0)
		return -1;
	return 0;
}

static int make_eventfd(void)
{
	return track(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd", "eventfd");
}

static int put_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		return fail("write(%d): %s", fd, strerror(errno));
	return 0;
}

static int bump_eventfd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return fail("write(eventfd %d): %s", fd, strerror(errno));
	return 0;
}

static int read_one(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		return fail("read(%d): %s", fd, strerror(errno));
	return 0;
}

/* read a nonblocking fd empty (pipes, sockets, eventfd, timerfd) */
static int drain(int fd)
{
	char buf[4096];
	ssize_t n;

	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0 && errno != EAGAIN)
		return fail("read(%d): %s", fd, strerror(errno));
	return 0;
}

/*
 * Data written on one end can reach the other end later (loopback runs in
 * softirq context; a timer fires in an interrupt).  poll() waits for it
 * outside epoll, so that the epoll wait that follows sees a known set.
 */
static int await_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, WAIT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail("poll(%d): %s", fd, strerror(errno));
	if (n == 0)
		return fail("fd %d did not become readable in %d ms", fd, WAIT_MS);
	return 0;
}

/* lowest fd >= the ones we know of that starts n free fds in a row */
static int free_fd_range(int n)
{
	int base = wl.nfd + 16;

	for (int tries = 0; tries < 64; tries++, base += n) {
		int i;

		for (i = 0; i < n; i++)
			if (fcntl(base + i, F_GETFD) >= 0 || errno != EBADF)
				break;
		if (i == n)
			return base;
	}
	return fail("no %d free fds in a row", n);
}

/*
 * A minimal VM guest may start with "lo" down: then 127.0.0.1 does not
 * exist and bind() fails with EADDRNOTAVAIL.  Bring it up once.
 */
static int loopback_up(void)
{
	struct ifreq ifr = {};
	int s, r = 0;

	if (wl.lo_checked)
		return 0;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail("socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr)) {
		r = fail("SIOCGIFFLAGS lo: %s", strerror(errno));
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			r = fail("loopback is down and cannot be brought up (%s): "
				 "run `ip link set lo up`", strerror(errno));
	}
	close(s);
	wl.lo_checked = !r;
	return r;
}

static struct sockaddr_in loopback_addr(void)
{
	return (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
}

/* ---- epoll wrappers: do it, then write it down ------------------------- */

static uint64_t tag(int epfd, int fd)
{
	return (uint64_t)epfd << 32 | (uint32_t)fd;
}

static uint64_t tag_gen(int epfd, int fd, int gen)
{
	return tag(epfd, fd) | (uint64_t)(1 + gen % 31) << TAG_GEN_SHIFT;
}

static int tag_fd(uint64_t data)
{
	return (int)(uint32_t)data;
}

static int ep_create(bool legacy)
{
	int fd = legacy ? epoll_create(1) : epoll_create1(EPOLL_CLOEXEC);
	int r;

	if (fd < 0)
		return fail("%s: %s", legacy ? "epoll_create" : "epoll_create1", strerror(errno));
	truth("\"t\":\"create\",\"epfd\":%d,\"flags\":%d,\"syscall\":\"%s\"%s", fd,
	      legacy ? 0 : EPOLL_CLOEXEC, legacy ? "epoll_create" : "epoll_create1",
	      legacy ? ",\"size\":1" : "");
	pthread_mutex_lock(&wl.lock);
	r = model_new_file(fd, true);
	pthread_mutex_unlock(&wl.lock);
	if (r) {
		close(fd);
		return fail("out of memory");
	}
	truth("\"t\":\"fd\",\"fd\":%d,\"kind\":\"epoll\"", fd);
	return fd;
}

static const char *op_name(int op)
{
	return op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_MOD ? "MOD" : "DEL";
}

/*
 * epoll_ctl, which must fail with want_errno (0: must succeed).  DEL passes
 * no event at all (allowed since 2.6.9), and its line says events 0, data 0.
 */
static int ctl(int epfd, int op, int fd, uint32_t events, uint64_t data, int want_errno)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	bool del = op == EPOLL_CTL_DEL;
	int ret = epoll_ctl(epfd, op, fd, del ? NULL : &ev);
	int err = ret ? errno : 0, r = 0;

	truth("\"t\":\"ctl\",\"op\":\"%s\",\"epfd\":%d,\"fd\":%d,\"events\":%u,\"data\":%llu,"
	      "\"ret\":%d,\"errno\":%d", op_name(op), epfd, fd, del ? 0 : events,
	      del ? 0ULL : (unsigned long long)data, ret, err);
	if (!ret) {
		pthread_mutex_lock(&wl.lock);
		if (op == EPOLL_CTL_ADD) {
			r = grow(&wl.items, &wl.cap_items, wl.nitems + 1, sizeof(struct item));
			if (!r)
				wl.items[wl.nitems++] = (struct item){
					.ep_file = model_file(epfd), .epfd = epfd, .fd = fd,
					.file = model_file(fd),
				};
		} else if (del) {
			for (int i = 0; i < wl.nitems; i++) {
				struct item *it = &wl.items[i];

				if (it->ep_file == model_file(epfd) && it->fd == fd &&
				    it->file == model_file(fd)) {
					model_del_item(i);
					break;
				}
			}
		}
		pthread_mutex_unlock(&wl.lock);
		if (r)
			return fail("out of memory");
	}
	if (err != want_errno)
		return fail("epoll_ctl(%d, %s, %d, %#x): %s, expected %s", epfd, op_name(op), fd,
			    events, err ? strerror(err) : "success",
			    want_errno ? strerror(want_errno) : "success");
	return 0;
}

enum wait_call { WAIT_PLAIN, WAIT_P, WAIT_P2 };

static const char *const wait_names[] = { "epoll_wait", "epoll_pwait", "epoll_pwait2" };

/*
 * One wait and its line.  The pwait variants get mask, or when that is
 * NULL the thread's current mask, so that they change nothing but still
 * take the sigmask path.  Returns what the call returned, errno kept.
 */
static int ep_wait(enum wait_call call, int epfd, struct epoll_event *ev, int maxevents,
		   int timeout_ms, const sigset_t *mask)
{
	struct sbuf b = {};
	sigset_t cur;
	int ret, err;

	if (call != WAIT_PLAIN && !mask) {
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		mask = &cur;
	}
	if (call == WAIT_PLAIN) {
		ret = epoll_wait(epfd, ev, maxevents, timeout_ms);
	} else if (call == WAIT_P) {
		ret = epoll_pwait(epfd, ev, maxevents, timeout_ms, mask);
	} else {
		struct timespec ts = { timeout_ms / 1000, timeout_ms % 1000 * 1000000L };

		ret = syscall(SYS_epoll_pwait2, epfd, ev, maxevents, timeout_ms < 0 ? NULL : &ts,
			      mask, KSIGSET_SIZE);
	}
	err = ret < 0 ? errno : 0;
	sb_add(&b, "\"t\":\"wait\",\"syscall\":\"%s\",\"epfd\":%d,\"maxevents\":%d,"
	       "\"timeout_ms\":%d,\"ret\":%d,\"errno\":%d,\"events\":[", wait_names[call], epfd,
	       maxevents, timeout_ms, ret, err);
	for (int i = 0; i < ret; i++)
		sb_add(&b, "%s{\"events\":%u,\"data\":%llu}", i ? "," : "", ev[i].events,
		       (unsigned long long)ev[i].data.u64);
	sb_add(&b, "]");
	emit(gettid(), &b);
	errno = err;
	return ret;
}

/*
 * A wait that must return exactly the items in want (each once, with
 * events == mask), in any order: the order of the ready list is not a
 * documented semantic.  With maxevents below nwant, any maxevents of them.
 */
static int wait_for(enum wait_call call, int epfd, int maxevents, int timeout_ms,
		    const uint64_t *want, int nwant, uint32_t mask, const char *what)
{
	int expect_n = nwant < maxevents ? nwant : maxevents;
	struct epoll_event *ev = calloc(maxevents, sizeof(*ev));
	bool *seen = calloc(nwant + 1, sizeof(*seen));
	int n, r = -1;

	if (!ev || !seen) {
		fail("out of memory");
		goto out;
	}
	n = ep_wait(call, epfd, ev, maxevents, timeout_ms, NULL);
	if (n < 0) {
		fail("%s(%d): %s", wait_names[call], epfd, strerror(errno));
		goto out;
	}
	if (n != expect_n) {
		fail("the kernel disagrees: %s: %s(%d) returned %d events, expected %d", what,
		     wait_names[call], epfd, n, expect_n);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int j;

		for (j = 0; j < nwant; j++)
			if (!seen[j] && want[j] == ev[i].data.u64)
				break;
		if (j == nwant) {
			fail("the kernel disagrees: %s: unexpected or repeated event (data %#llx)",
			     what, (unsigned long long)ev[i].data.u64);
			goto out;
		}
		seen[j] = true;
		if (ev[i].events != mask) {
			fail("the kernel disagrees: %s: events %#x for fd %d, expected %#x", what,
			     ev[i].events, tag_fd(ev[i].data.u64), mask);
			goto out;
		}
	}
	r = 0;
out:
	free(ev);
	free(seen);
	return r;
}

/* a timeout-0 wait that must return nothing */
static int wait_none(enum wait_call call, int epfd, const char *what)
{
	return wait_for(call, epfd, 8, 0, NULL, 0, 0, what);
}

static int wait_one(enum wait_call call, int epfd, uint64_t data, uint32_t mask, const char *what)
{
	return wait_for(call, epfd, 8, WAIT_MS, &data, 1, mask, what);
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/*
 * The interest set as the kernel shows it: one "tfd: N" line per epitem
 * in /proc/self/fdinfo/EPFD.  Returns the count, or -1 when it cannot be
 * read (no /proc): then there is nothing to hold the model against.
 */
static int fdinfo_fds(int epfd, int *fds, int max)
{
	struct sbuf b = {};
	char path[64], chunk[4096], *p;
	int fd, n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* a big interest set is many pages: read to the end */
	while ((len = read(fd, chunk, sizeof(chunk))) > 0)
		sb_add(&b, "%.*s", (int)len, chunk);
	close(fd);
	if (len < 0 || b.oom || !b.s) {
		free(b.s);
		return -1;
	}
	for (p = b.s; (p = strstr(p, "tfd:")); p += 4) {
		if (n < max)
			fds[n] = atoi(p + 4);
		n++;
	}
	free(b.s);
	return n;
}

/*
 * Checkpoint: the interest set the kernel must hold for epfd now.  It is
 * also held against fdinfo here, so that a wrong line never gets written
 * without an error beside it.
 */
static int expect(int epfd)
{
	struct sbuf b = {};
	int *fds, *kfds, n = 0, kn;
	bool same;

	pthread_mutex_lock(&wl.lock);
	fds = malloc((wl.nitems + 1) * sizeof(*fds));
	for (int i = 0; fds && i < wl.nitems; i++)
		if (wl.items[i].ep_file == model_file(epfd))
			fds[n++] = wl.items[i].fd;
	pthread_mutex_unlock(&wl.lock);
	if (!fds)
		return fail("out of memory");
	qsort(fds, n, sizeof(*fds), cmp_int);
	sb_add(&b, "\"t\":\"expect\",\"epfd\":%d,\"fds\":[", epfd);
	for (int i = 0; i < n; i++)
		sb_add(&b, "%s%d", i ? "," : "", fds[i]);
	sb_add(&b, "]");
	emit(gettid(), &b);

	kfds = malloc((n + 1) * sizeof(*kfds));
	kn = kfds ? fdinfo_fds(epfd, kfds, n + 1) : -1;
	if (kn >= 0) {
		qsort(kfds, kn < n + 1 ? kn : n + 1, sizeof(*kfds), cmp_int);
		same = kn == n && !memcmp(fds, kfds, n * sizeof(*fds));
		if (!same) {
			struct sbuf k = {}, m = {};

			for (int i = 0; i < kn && i < n + 1; i++)
				sb_add(&k, "%s%d", i ? "," : "", kfds[i]);
			for (int i = 0; i < n; i++)
				sb_add(&m, "%s%d", i ? "," : "", fds[i]);
			fail("the kernel disagrees: epfd %d holds [%s%s], expected [%s]", epfd,
			     k.s ? k.s : "", kn > n + 1 ? ",..." : "", m.s ? m.s : "");
			free(k.s);
			free(m.s);
		}
	}
	free(kfds);
	free(fds);
	return failed() ? -1 : 0;
}

/*
 * Checkpoint: the items (by fd key) the kernel must hold on epfd's ready
 * list (rdllist) now and still at "done".  Nothing in /proc shows that
 * list, so unlike expect() this is not checked here: each caller says why
 * it holds.  The rules it rests on: ep_poll_callback() queues an item on
 * a wakeup whose key matches its events; a wait's scan takes every queued
 * item off, drops those not ready, and puts back only the level-triggered
 * ones it delivered (and any that maxevents cut off); consuming data
 * queues or unqueues nothing.
 */
static int expect_ready(int epfd, int n, ...)
{
	struct sbuf b = {};
	int fds[16];
	va_list ap;

	if (n > (int)ARRAY_SIZE(fds))
		return fail("expect_ready: too many fds");
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		fds[i] = va_arg(ap, int);
	va_end(ap);
	qsort(fds, n, sizeof(*fds), cmp_int);
	sb_add(&b, "\"t\":\"expect_ready\",\"epfd\":%d,\"fds\":[", epfd);
	for (int i = 0; i < n; i++)
		sb_add(&b, "%s%d", i ? "," : "", fds[i]);
	sb_add(&b, "]");
	emit(gettid(), &b);
	return failed() ? -1 : 0;
}

/* ---- threads ------------------------------------------------------------ */

/*
 * 1: tid sleeps inside an epoll wait; 0: not (yet); -1: it is gone; -2:
 * /proc could not be read (errno).  State S alone could be a futex or a
 * write; /proc/.../syscall names the call it is blocked in ("running"
 * while it runs).  Where that file does not exist (kernel config) or is not
 * ours to read, state S is the best evidence there is.
 */
static int task_in_epoll_wait_of(const char *proc, pid_t tid)
{
	char path[64], buf[512], *p, *end;
	long nr;

	snprintf(path, sizeof(path), "/proc/%s/task/%d/stat", proc, tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return errno == ENOENT || errno == ESRCH ? -1 : -2;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'S')
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/task/%d/syscall", proc, tid);
	if (read_small(path, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT || errno == EACCES || errno == EPERM)
			return 1;
		return errno == ESRCH ? -1 : -2;
	}
	nr = strtol(buf, &end, 10);
	if (end == buf)
		return 0;
	return nr == SYS_epoll_wait || nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2;
}

static int task_in_epoll_wait(pid_t tid)
{
	return task_in_epoll_wait_of("self", tid);
}

/* threads of one scenario and what they got, under mu */
struct crew {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int delivered;		/* data events taken by every thread together */
	uint64_t last_data;	/* of the latest one */
	int done;		/* threads out of their loop */
	int round;		/* see waiter.by_round */
	bool released;		/* no more rounds: nobody holds back */
};

struct waiter {
	struct crew *crew;
	pthread_t th;
	bool started;
	pid_t tid;		/* set by the thread (atomic) */
	int epfd;
	enum wait_call call;
	int maxevents;
	bool dies;		/* SIGUSR2 gets in, only while it waits */
	/*
	 * After taking data, wait for the next crew round before waiting on
	 * epoll again, so that each thread takes one event per round
	 */
	bool by_round;
	int woken_round;	/* the last round it took data in, under crew.mu */
	int got;		/* data events this thread took */
	bool saw_stop;
};

static struct timespec deadline(clockid_t clk, int ms)
{
	struct timespec t;

	clock_gettime(clk, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* bounded: the main thread starts the next round within WAIT_MS */
static int hold_for_next_round(struct waiter *w)
{
	struct timespec dl = deadline(CLOCK_MONOTONIC, WAIT_MS);
	struct crew *c = w->crew;
	int err = 0;

	pthread_mutex_lock(&c->mu);
	while (c->round == w->woken_round && !c->released && !failed() && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
	pthread_mutex_unlock(&c->mu);
	if (err == ETIMEDOUT)
		return fail("thread %d: no new round within %d ms", w->tid, WAIT_MS);
	return 0;
}

/*
 * Waits on w->epfd until an item tagged TAG_STOP is reported.  Every event
 * is consumed (its fd read empty) before the crew hears of it, so that the
 * next write makes a fresh event.
 */
static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct crew *c = w->crew;
	struct epoll_event ev[8];
	sigset_t usr2, inwait;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	truth("\"t\":\"thread\"");
	/*
	 * SIGUSR2 ends the dying thread of "thread-exit".  Blocked except
	 * inside epoll_pwait's mask, it cannot arrive anywhere else (say,
	 * while this thread holds the truth lock).
	 */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, &inwait);
	sigdelset(&inwait, SIGUSR2);
	while (!w->saw_stop && !failed()) {
		int n = ep_wait(w->call, w->epfd, ev, w->maxevents, WAIT_MS,
				w->dies ? &inwait : NULL);
		int got = 0;
		uint64_t last = 0;

		if (n < 0) {
			fail("thread %d: %s(%d): %s", w->tid, wait_names[w->call], w->epfd,
			     strerror(errno));
			break;
		}
		if (n == 0) {
			fail("thread %d: %s(%d) timed out after %d ms", w->tid,
			     wait_names[w->call], w->epfd, WAIT_MS);
			break;
		}
		for (int i = 0; i < n; i++) {
			drain(tag_fd(ev[i].data.u64));
			if (ev[i].data.u64 & TAG_STOP) {
				w->saw_stop = true;
				continue;
			}
			last = ev[i].data.u64;
			got++;
		}
		w->got += got;
		pthread_mutex_lock(&c->mu);
		c->delivered += got;
		if (got) {
			c->last_data = last;
			w->woken_round = c->round;
		}
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		if (got && w->by_round && !w->saw_stop && hold_for_next_round(w))
			break;
	}
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static struct crew *crew_new(void)
{
	struct crew *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	return c;
}

static void crew_free(struct crew *c)
{
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

/* until the crew has taken `delivered` events in all (bounded) */
static int crew_await(struct crew *c, int delivered)
{
	struct timespec dl = deadline(CLOCK_MONOTONIC, WAIT_MS);
	int have, err = 0;

	pthread_mutex_lock(&c->mu);
	while (c->delivered < delivered && !failed() && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
	have = c->delivered;
	pthread_mutex_unlock(&c->mu);
	if (have >= delivered)
		return 0;
	return fail("no thread took event %d within %d ms", delivered, WAIT_MS);
}

static int crew_delivered(struct crew *c, uint64_t *last)
{
	int n;

	pthread_mutex_lock(&c->mu);
	n = c->delivered;
	if (last)
		*last = c->last_data;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static void crew_next_round(struct crew *c, bool release)
{
	pthread_mutex_lock(&c->mu);
	c->round++;
	c->released |= release;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static int crew_done(struct crew *c)
{
	int n;

	pthread_mutex_lock(&c->mu);
	n = c->done;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* until `done` threads have left their loop (bounded); 0 or -1 */
static int crew_await_done(struct crew *c, int done)
{
	struct timespec dl = deadline(CLOCK_MONOTONIC, WAIT_MS);
	int have, err = 0;

	pthread_mutex_lock(&c->mu);
	while (c->done < done && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
	have = c->done;
	pthread_mutex_unlock(&c->mu);
	return have >= done ? 0 : fail("a thread did not stop within %d ms", WAIT_MS);
}

/* bounded: about 4 s, polling fast at first */
static int await_asleep(struct waiter *w)
{
	pid_t tid = 0;

	for (int i = 0; i < 2000 && !failed(); i++) {
		int r = 0;

		tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
		if (tid)
			r = task_in_epoll_wait(tid);
		if (r > 0)
			return 0;
		if (r == -2)
			return fail("reading /proc/self/task/%d: %s", tid, strerror(errno));
		if (r < 0)
			return fail("thread %d is gone", tid);
		usleep(i < 20 ? 100 : 2000);
	}
	return fail("thread %d never fell asleep in an epoll wait", tid);
}

static int await_all_asleep(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++)
		if (await_asleep(&w[i]))
			return -1;
	return 0;
}

/* the threads that have not taken data in this round are asleep in epoll */
static int await_round_asleep(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++) {
		struct crew *c = w[i].crew;
		bool held;

		pthread_mutex_lock(&c->mu);
		held = w[i].woken_round == c->round;
		pthread_mutex_unlock(&c->mu);
		if (!held && await_asleep(&w[i]))
			return -1;
	}
	return 0;
}

static int crew_start(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&w[i].th, NULL, waiter_main, &w[i]);

		if (err)
			return fail("pthread_create: %s", strerror(err));
		w[i].started = true;
	}
	return await_all_asleep(w, n);
}

/*
 * Joins every started thread, bounded.  Returns -1 if one could not be
 * joined: it may still use the crew and the waiters, which must then be
 * leaked rather than freed.
 */
static int crew_join(struct waiter *w, int n)
{
	int r = 0;

	for (int i = 0; i < n; i++) {
		struct timespec dl = deadline(CLOCK_REALTIME, WAIT_MS + 1000);
		int err;

		if (!w[i].started)
			continue;
		err = pthread_timedjoin_np(w[i].th, NULL, &dl);
		if (err) {
			fail("joining thread %d: %s", w[i].tid, strerror(err));
			r = -1;
			continue;
		}
		w[i].started = false;
	}
	return r;
}

/* ---- scenarios ----------------------------------------------------------- */

enum kind { K_PIPE, K_EVENTFD, K_LISTEN, K_TCP, K_UDP, K_USTREAM, K_UDGRAM, K_TIMERFD };

static const char *const kind_names[] = {
	[K_PIPE] = "pipe", [K_EVENTFD] = "eventfd", [K_LISTEN] = "tcp-listen", [K_TCP] = "tcp",
	[K_UDP] = "udp", [K_USTREAM] = "unix-stream", [K_UDGRAM] = "unix-dgram",
	[K_TIMERFD] = "timerfd",
};

struct source {
	enum kind kind;
	int fd;			/* watched */
	int peer;		/* what makes it ready; -1: itself */
	uint64_t data;
};

struct mixed {
	int ep;
	struct source *src;
	int n, cap;
	struct sockaddr_in lsa;	/* the listener's address */
};

static int mixed_add(struct mixed *m, enum kind kind, int fd, int peer)
{
	if (fd < 0 || grow(&m->src, &m->cap, m->n + 1, sizeof(*m->src)))
		return fd < 0 ? -1 : fail("out of memory");
	m->src[m->n++] = (struct source){ kind, fd, peer, tag(m->ep, fd) };
	return 0;
}

static int tcp_connect(const struct sockaddr_in *sa)
{
	int one = 1;
	int c = track(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "tcp-client", "socket");

	if (c < 0)
		return -1;
	/* no Nagle: a second 1-byte write must not wait for the first ACK */
	if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return fail("TCP_NODELAY: %s", strerror(errno));
	if (connect(c, (const struct sockaddr *)sa, sizeof(*sa)))
		return fail("connect 127.0.0.1:%d: %s", ntohs(sa->sin_port), strerror(errno));
	return c;
}

static int tcp_accept(int lst, const char *kind)
{
	if (await_readable(lst))
		return -1;
	return track(accept4(lst, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), kind, "accept4");
}

static int mixed_setup(struct mixed *m, int scale)
{
	struct sockaddr_in sa = loopback_addr();
	socklen_t len = sizeof(m->lsa);
	int p[2], sv[2], lst;

	for (int i = 0; i < 16 * scale; i++)
		if (make_pipe(p) || mixed_add(m, K_PIPE, p[0], p[1]))
			return -1;
	for (int i = 0; i < 8 * scale; i++)
		if (mixed_add(m, K_EVENTFD, make_eventfd(), -1))
			return -1;
	if (loopback_up())
		return -1;
	lst = track(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "tcp-listen",
		    "socket");
	if (lst < 0)
		return -1;
	if (bind(lst, (struct sockaddr *)&sa, sizeof(sa)) || listen(lst, SOMAXCONN) ||
	    getsockname(lst, (struct sockaddr *)&m->lsa, &len))
		return fail("TCP listener on 127.0.0.1: %s", strerror(errno));
	if (mixed_add(m, K_LISTEN, lst, -1))
		return -1;
	for (int i = 0; i < 8 * scale; i++) {
		int c = tcp_connect(&m->lsa);

		if (c < 0 || mixed_add(m, K_TCP, tcp_accept(lst, "tcp"), c))
			return -1;
	}
	for (int i = 0; i < 4 * scale; i++) {
		int u = track(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "udp",
			      "socket");

		if (u < 0)
			return -1;
		if (bind(u, (struct sockaddr *)&sa, sizeof(sa)))
			return fail("bind UDP 127.0.0.1: %s", strerror(errno));
		if (mixed_add(m, K_UDP, u, -1))
			return -1;
	}
	for (int i = 0; i < 6 * scale; i++) {
		enum kind k = i < 4 * scale ? K_USTREAM : K_UDGRAM;
		int type = k == K_USTREAM ? SOCK_STREAM : SOCK_DGRAM;

		if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
			return fail("socketpair: %s", strerror(errno));
		if (track(sv[0], kind_names[k], "socketpair") < 0 ||
		    track(sv[1], "unix-peer", "socketpair") < 0 || mixed_add(m, k, sv[0], sv[1]))
			return -1;
	}
	for (int i = 0; i < scale; i++) {
		int t = track(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC),
			      "timerfd", "timerfd_create");

		if (mixed_add(m, K_TIMERFD, t, -1))
			return -1;
	}
	return 0;
}

static int mixed_make_ready(struct mixed *m, struct source *s)
{
	switch (s->kind) {
	case K_EVENTFD:
		return bump_eventfd(s->fd);
	case K_LISTEN:		/* a pending connection */
		return tcp_connect(&m->lsa) < 0 ? -1 : 0;
	case K_UDP: {		/* a datagram to itself */
		struct sockaddr_in self;
		socklen_t len = sizeof(self);

		if (getsockname(s->fd, (struct sockaddr *)&self, &len) ||
		    sendto(s->fd, "u", 1, 0, (struct sockaddr *)&self, len) != 1)
			return fail("UDP send to self: %s", strerror(errno));
		return 0;
	}
	case K_TIMERFD: {	/* expires right away */
		struct itimerspec its = { .it_value = { 0, 1 } };

		if (timerfd_settime(s->fd, 0, &its, NULL))
			return fail("timerfd_settime: %s", strerror(errno));
		return 0;
	}
	default:
		return put_byte(s->peer);
	}
}

static int mixed_consume(struct source *s)
{
	if (s->kind == K_LISTEN)
		return tcp_accept(s->fd, "tcp-accepted") < 0 ? -1 : 0;
	return drain(s->fd);
}

/*
 * One round: make the sources in pick ready, wait, consume, and see that
 * nothing is left.  first_max > 0: a first wait with that maxevents, then
 * a second one: level-triggered items stay ready whether or not they were
 * delivered, so the second one reports every one of them.
 */
static int mixed_round(struct mixed *m, const int *pick, int k, enum wait_call call,
		       int first_max)
{
	uint64_t *want = calloc(k + 1, sizeof(*want));
	int r = -1;

	if (!want)
		return fail("out of memory");
	for (int j = 0; j < k; j++) {
		want[j] = m->src[pick[j]].data;
		if (mixed_make_ready(m, &m->src[pick[j]]))
			goto out;
	}
	for (int j = 0; j < k; j++)
		if (await_readable(m->src[pick[j]].fd))
			goto out;
	if (first_max) {
		if (wait_for(call, m->ep, first_max, WAIT_MS, want, k, EPOLLIN,
			     "maxevents cuts a wait short") ||
		    wait_for(call, m->ep, m->n + 8, 0, want, k, EPOLLIN,
			     "level-triggered items are all reported again"))
			goto out;
	} else if (wait_for(call, m->ep, m->n + 8, WAIT_MS, want, k, EPOLLIN,
			    "every fd made ready is reported once")) {
		goto out;
	}
	for (int j = 0; j < k; j++)
		if (mixed_consume(&m->src[pick[j]]))
			goto out;
	r = wait_none(WAIT_PLAIN, m->ep, "nothing is ready once everything is consumed");
out:
	free(want);
	return r;
}

static int sc_mixed(int scale)
{
	struct mixed m = { .ep = ep_create(false) };
	struct source *s;
	int *pick = NULL, k, r = -1;

	if (m.ep < 0 || mixed_setup(&m, scale))
		goto out;
	for (int i = 0; i < m.n; i++) {
		s = &m.src[i];
		if (ctl(m.ep, EPOLL_CTL_ADD, s->fd, EPOLLIN, s->data, 0))
			goto out;
	}
	if (expect(m.ep))
		goto out;
	pick = calloc(m.n, sizeof(*pick));
	if (!pick) {
		fail("out of memory");
		goto out;
	}
	/* three rounds, three subsets, the three wait calls */
	k = 0;
	for (int i = 0; i < m.n; i += 2)
		pick[k++] = i;
	if (mixed_round(&m, pick, k, WAIT_PLAIN, 0))
		goto out;
	k = 0;
	for (int i = 1; i < m.n; i += 3)
		pick[k++] = i;
	if (mixed_round(&m, pick, k, WAIT_P, 4))
		goto out;
	for (k = 0; k < m.n; k++)
		pick[k] = k;
	if (mixed_round(&m, pick, k, WAIT_P2, 0))
		goto out;

	/* MOD: a connected TCP socket is writable; its new data is reported */
	for (s = m.src; s->kind != K_TCP; s++)
		;
	s->data = tag_gen(m.ep, s->fd, 1);
	if (ctl(m.ep, EPOLL_CTL_MOD, s->fd, EPOLLIN | EPOLLOUT, s->data, 0) ||
	    wait_for(WAIT_PLAIN, m.ep, 8, 0, &s->data, 1, EPOLLOUT,
		     "MOD to EPOLLOUT reports a writable socket with the new data"))
		goto out;
	s->data = tag_gen(m.ep, s->fd, 2);
	if (ctl(m.ep, EPOLL_CTL_MOD, s->fd, EPOLLIN, s->data, 0) ||
	    wait_none(WAIT_PLAIN, m.ep, "MOD back to EPOLLIN"))
		goto out;

	/* errors the trace must show as errors */
	if (ctl(m.ep, EPOLL_CTL_ADD, s->fd, EPOLLIN, s->data, EEXIST) ||
	    ctl(m.ep, EPOLL_CTL_MOD, m.src[0].peer, EPOLLIN, tag(m.ep, m.src[0].peer), ENOENT))
		goto out;

	/* explicit DEL of every third; the second DEL of one fails */
	for (int i = 0; i < m.n; i += 3)
		if (ctl(m.ep, EPOLL_CTL_DEL, m.src[i].fd, 0, 0, 0))
			goto out;
	if (ctl(m.ep, EPOLL_CTL_DEL, m.src[0].fd, 0, 0, ENOENT))
		goto out;
	/* src[0] was deleted, src[1] was not: only src[1] is reported */
	if (put_byte(m.src[0].peer) || put_byte(m.src[1].peer) ||
	    await_readable(m.src[0].fd) || await_readable(m.src[1].fd) ||
	    wait_one(WAIT_PLAIN, m.ep, m.src[1].data, EPOLLIN, "a deleted fd is not reported") ||
	    drain(m.src[0].fd) || drain(m.src[1].fd))
		goto out;
	/* src[1] was put back when delivered; draining it after does not unqueue it */
	r = expect(m.ep) || expect_ready(m.ep, 1, m.src[1].fd) ? -1 : 0;
out:
	free(pick);
	free(m.src);
	return r;
}

/*
 * Four threads asleep on one instance, and eventfd writes one at a time,
 * each once the threads that are to take it are asleep.  A thread that
 * took an event holds back until every thread had one (a round): epoll
 * wakes its waiters LIFO, so without rounds the last thread to fall
 * asleep would take every event.  The items are edge-triggered so that one
 * write is one event for one thread: a level-triggered item that ep_send_events()
 * puts back would wake another waiter as well, and which one got it would
 * be a race.  The stop item, too, is edge-triggered and written once per
 * thread, so that the main thread wakes every thread itself.
 */
static int sc_threads(int scale)
{
	enum { NTH = 4 };
	struct waiter *w = calloc(NTH, sizeof(*w));
	struct crew *c = crew_new();
	int ep = ep_create(false), efd[NTH], stop = -1, k = 0, nstarted = 0, r = -1;

	if (!w || !c) {
		fail("out of memory");
		goto out;
	}
	if (ep < 0)
		goto out;
	for (int i = 0; i < NTH; i++) {
		efd[i] = make_eventfd();
		if (efd[i] < 0 ||
		    ctl(ep, EPOLL_CTL_ADD, efd[i], EPOLLIN | EPOLLET, tag(ep, efd[i]), 0))
			goto out;
	}
	stop = make_eventfd();
	if (stop < 0 ||
	    ctl(ep, EPOLL_CTL_ADD, stop, EPOLLIN | EPOLLET, tag(ep, stop) | TAG_STOP, 0))
		goto out;
	for (int i = 0; i < NTH; i++)
		w[i] = (struct waiter){ .crew = c, .epfd = ep, .maxevents = 4, .by_round = true,
			.woken_round = -1, .call = i < 2 ? WAIT_PLAIN : i == 2 ? WAIT_P : WAIT_P2 };
	r = crew_start(w, NTH);
	for (int i = 0; i < NTH; i++)
		nstarted += w[i].started;
	if (r)
		goto stop;
	r = -1;
	for (int round = 0; round < 2 * scale; round++) {
		for (int i = 0; i < NTH; i++, k++) {
			uint64_t last;

			if (await_round_asleep(w, NTH) ||
			    semantic(crew_delivered(c, NULL) == k,
				     "threads: one write woke more than one thread") ||
			    bump_eventfd(efd[i]) || crew_await(c, k + 1))
				goto stop;
			crew_delivered(c, &last);
			if (semantic(last == tag(ep, efd[i]),
				     "threads: eventfd %d written, fd %d reported", efd[i],
				     tag_fd(last)))
				goto stop;
		}
		crew_next_round(c, false);
	}
	if (await_all_asleep(w, NTH) ||
	    semantic(crew_delivered(c, NULL) == k, "threads: one write woke more than one thread"))
		goto stop;
	r = 0;
stop:
	/* never hold a thread back from here on; then stop them one by one */
	if (c)
		crew_next_round(c, true);
	for (int j = crew_done(c); stop >= 0 && j < nstarted; j = crew_done(c))
		if (bump_eventfd(stop) || crew_await_done(c, j + 1))
			break;
	if (crew_join(w, NTH)) {
		w = NULL;	/* still in use: leaked on purpose */
		c = NULL;
		r = -1;
	}
	for (int i = 0; !r && i < NTH; i++)
		r = semantic(w[i].saw_stop && w[i].got == 2 * scale,
			     "threads: thread %d took %d events in %d rounds", w[i].tid, w[i].got,
			     2 * scale);
	/* edge-triggered items are not put back: nothing is queued */
	if (!r)
		r = expect(ep) || expect_ready(ep, 0);
out:
	free(w);
	if (c)
		crew_free(c);
	return r || failed() ? -1 : 0;
}

/*
 * The same unconsumed data on two instances: level-triggered reports it on
 * every wait, edge-triggered once per new arrival.
 */
static int sc_lt_et(int scale)
{
	int lt = ep_create(true), et = ep_create(false), a[2], b[2];
	struct epoll_event ev[4];
	uint64_t da, db;
	int n;

	(void)scale;
	if (lt < 0 || et < 0 || make_pipe(a) || make_pipe(b))
		return -1;
	da = tag(lt, a[0]);
	db = tag(et, b[0]);
	if (ctl(lt, EPOLL_CTL_ADD, a[0], EPOLLIN, da, 0) ||
	    ctl(et, EPOLL_CTL_ADD, b[0], EPOLLIN | EPOLLET, db, 0))
		return -1;
	if (put_byte(a[1]) || put_byte(a[1]) || put_byte(b[1]) || put_byte(b[1]))
		return -1;

	if (wait_one(WAIT_PLAIN, lt, da, EPOLLIN, "lt-et: level-triggered data is reported") ||
	    wait_for(WAIT_PLAIN, lt, 8, 0, &da, 1, EPOLLIN,
		     "lt-et: level-triggered, unconsumed data is reported again") ||
	    read_one(a[0]) ||
	    wait_for(WAIT_PLAIN, lt, 8, 0, &da, 1, EPOLLIN,
		     "lt-et: level-triggered, data left after a partial read is reported again") ||
	    drain(a[0]) ||
	    wait_none(WAIT_PLAIN, lt, "lt-et: level-triggered, nothing once drained"))
		return -1;
	/* delivered, put back, then consumed: it stays queued until a next scan */
	if (put_byte(a[1]) ||
	    wait_one(WAIT_PLAIN, lt, da, EPOLLIN, "lt-et: level-triggered, new data") ||
	    drain(a[0]))
		return -1;

	if (wait_one(WAIT_P2, et, db, EPOLLIN, "lt-et: edge-triggered data is reported") ||
	    wait_none(WAIT_P2, et,
		      "lt-et: edge-triggered, unconsumed data is not reported again") ||
	    read_one(b[0]) ||
	    wait_none(WAIT_P2, et, "lt-et: edge-triggered, a partial read is no new edge"))
		return -1;
	/*
	 * Not asserted: whether a write to a pipe that still holds data is a
	 * new edge is pipe behaviour, not epoll's (Linux >= 5.16 wakes epoll
	 * on every write; 5.5-5.15 only on empty -> non-empty).
	 */
	if (put_byte(b[1]))
		return -1;
	n = ep_wait(WAIT_P2, et, ev, 4, 0, NULL);
	if (n < 0)
		return fail("epoll_pwait2(%d): %s", et, strerror(errno));
	if (drain(b[0]) || put_byte(b[1]) ||
	    wait_one(WAIT_P2, et, db, EPOLLIN, "lt-et: data into an empty pipe is a new edge") ||
	    wait_none(WAIT_P2, et, "lt-et: edge-triggered, one report per edge") || drain(b[0]))
		return -1;
	/* the level-triggered item is still queued (above); the edge one never is */
	if (expect(lt) || expect_ready(lt, 1, a[0]) || expect(et) || expect_ready(et, 0))
		return -1;
	return 0;
}

/*
 * EPOLLONESHOT: one report, then the item is disarmed (still in the
 * interest set) until a MOD re-arms it, with new data each time.
 */
static int sc_oneshot(int scale)
{
	int ep = ep_create(false), p[2], gen = 0;
	uint64_t data;

	if (ep < 0 || make_pipe(p))
		return -1;
	data = tag_gen(ep, p[0], gen);
	if (ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, data, 0) || put_byte(p[1]))
		return -1;
	for (int i = 0; i < 3 * scale; i++) {
		if (wait_one(WAIT_P, ep, data, EPOLLIN, "oneshot: reported once armed") ||
		    wait_none(WAIT_P, ep, "oneshot: disarmed after one event, though data remains"))
			return -1;
		data = tag_gen(ep, p[0], ++gen);
		if (ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, data, 0))
			return -1;
	}
	if (wait_one(WAIT_P, ep, data, EPOLLIN, "oneshot: MOD re-arms, with the new data") ||
	    wait_none(WAIT_P, ep, "oneshot: disarmed again") || drain(p[0]))
		return -1;
	/* re-armed with nothing there: nothing, until data comes */
	data = tag_gen(ep, p[0], ++gen);
	if (ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, data, 0) ||
	    wait_none(WAIT_P, ep, "oneshot: armed, nothing to read") || put_byte(p[1]) ||
	    wait_one(WAIT_P, ep, data, EPOLLIN, "oneshot: armed, data comes") ||
	    wait_none(WAIT_P, ep, "oneshot: disarmed"))
		return -1;
	/* disarmed, data unread: in the interest set, not on the ready list */
	return expect(ep) || expect_ready(ep, 0) ? -1 : 0;
}

/*
 * EPOLLEXCLUSIVE: several instances, each waited on by its own thread,
 * all watch one eventfd.  The exclusive wait entries stop the eventfd's
 * wakeup at the first instance that had a waiter to wake, so one write
 * with every thread asleep wakes one of them (the man page promises "one
 * or more", and the point of the flag is "not all").
 */
static int sc_exclusive(int scale)
{
	enum { NEP = 3 };
	struct waiter *w = calloc(NEP, sizeof(*w));
	struct crew *c = crew_new();
	int efd = make_eventfd(), ep[NEP], stop[NEP][2], started = 0, k = 0, r = -1;

	if (!w || !c) {
		fail("out of memory");
		goto out;
	}
	if (efd < 0)
		goto out;
	for (int i = 0; i < NEP; i++) {
		ep[i] = ep_create(false);
		if (ep[i] < 0 || make_pipe(stop[i]) ||
		    ctl(ep[i], EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE, tag(ep[i], efd), 0) ||
		    ctl(ep[i], EPOLL_CTL_ADD, stop[i][0], EPOLLIN,
			tag(ep[i], stop[i][0]) | TAG_STOP, 0))
			goto out;
		started = i + 1;
	}
	/* an exclusive item cannot be modified, nor can MOD make one */
	if (ctl(ep[0], EPOLL_CTL_MOD, efd, EPOLLIN, tag_gen(ep[0], efd, 1), EINVAL) ||
	    ctl(ep[0], EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLEXCLUSIVE, tag_gen(ep[0], efd, 2),
		EINVAL) ||
	    ctl(ep[0], EPOLL_CTL_MOD, stop[0][0], EPOLLIN | EPOLLEXCLUSIVE,
		tag_gen(ep[0], stop[0][0], 3), EINVAL))
		goto out;
	/* ... nor go with EPOLLONESHOT, nor watch an epoll instance */
	if (ctl(ep[0], EPOLL_CTL_ADD, stop[0][1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT,
		tag(ep[0], stop[0][1]), EINVAL) ||
	    ctl(ep[0], EPOLL_CTL_ADD, ep[1], EPOLLIN | EPOLLEXCLUSIVE, tag(ep[0], ep[1]), EINVAL))
		goto out;
	for (int i = 0; i < NEP; i++)
		w[i] = (struct waiter){ .crew = c, .epfd = ep[i], .maxevents = 4,
			.call = (enum wait_call)i };
	if (crew_start(w, NEP))
		goto stop;
	for (int i = 0; i < NEP * scale; i++) {
		int woken;

		if (bump_eventfd(efd) || crew_await(c, k + 1))
			goto stop;
		/* a woken thread is runnable: asleep again means it has reported */
		if (await_all_asleep(w, NEP))
			goto stop;
		woken = crew_delivered(c, NULL) - k;
		if (semantic(woken >= 1 && woken < NEP,
			     "exclusive: one write woke %d of %d instances", woken, NEP))
			goto stop;
		k += woken;
	}
	r = 0;
stop:
	for (int i = 0; i < NEP; i++)
		if (w[i].started)
			put_byte(stop[i][1]);
	if (crew_join(w, NEP)) {
		w = NULL;	/* still in use: leaked on purpose */
		c = NULL;
		r = -1;
	}
	/*
	 * Each thread took its stop item, which was put back (level-triggered)
	 * and stays queued.  The eventfd item was put back too, but the
	 * thread drained it and its next wait's scan dropped it.
	 */
	for (int i = 0; !r && i < started; i++)
		r = expect(ep[i]) || expect_ready(ep[i], 1, stop[i][0]) ? -1 : 0;
out:
	free(w);
	if (c)
		crew_free(c);
	return r || failed() ? -1 : 0;
}

/*
 * Implicit removal: the kernel drops an epitem when the last reference to
 * its file goes, whatever fd that was.  The epitem is keyed by the fd
 * number it was added under, and keeps it after that fd is closed.
 */
static int sc_close_watched(int scale)
{
	int ep = ep_create(false), p[2], q[2], r[3][2], s[2], a, b, base, e;

	(void)scale;
	if (ep < 0 || make_pipe(p) || make_pipe(q))
		return -1;

	/* closed while ready: gone from the interest set and the ready list */
	if (ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, tag(ep, p[0]), 0) || put_byte(p[1]) ||
	    await_readable(p[0]) || close_fd(p[0]) ||
	    wait_none(WAIT_PLAIN, ep, "close-watched: a closed fd's ready item is gone"))
		return -1;

	/* a dup keeps the file: the item stays, under the closed fd's number */
	a = q[0];
	if (ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, tag(ep, a), 0))
		return -1;
	b = track_dup(dup(a), a, "pipe", "dup");
	if (b < 0 || close_fd(a))
		return -1;
	if (ctl(ep, EPOLL_CTL_DEL, a, 0, 0, EBADF) ||		/* a is no fd now */
	    ctl(ep, EPOLL_CTL_DEL, b, 0, 0, ENOENT) ||		/* the item is not b's */
	    put_byte(q[1]) ||
	    wait_one(WAIT_PLAIN, ep, tag(ep, a), EPOLLIN,
		     "close-watched: the item outlives its fd while a dup holds the file") ||
	    expect(ep) || drain(b) || close_fd(b) ||
	    wait_none(WAIT_PLAIN, ep, "close-watched: gone with the last fd"))
		return -1;

	/* an instance closed with an item in it, and one that is watched */
	{
		int tmp = ep_create(false), inner = ep_create(false), t[2];

		if (tmp < 0 || inner < 0 || make_pipe(t) ||
		    ctl(tmp, EPOLL_CTL_ADD, t[0], EPOLLIN, tag(tmp, t[0]), 0) ||
		    ctl(inner, EPOLL_CTL_ADD, t[0], EPOLLIN, tag(inner, t[0]), 0) ||
		    ctl(ep, EPOLL_CTL_ADD, inner, EPOLLIN, tag(ep, inner), 0) ||
		    expect(tmp) || expect(inner) || expect(ep) ||
		    close_fd(tmp) || close_fd(inner) || close_fd(t[0]) || close_fd(t[1]))
			return -1;
	}

	/*
	 * close_range over base..base+3: two watched fds go; a third is
	 * watched but its file is also open outside the range, so its item
	 * stays; base+3 is a dup of a write end, watched by nobody.
	 */
	base = free_fd_range(4);
	if (base < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (make_pipe(r[i]) ||
		    track_dup(dup2(r[i][0], base + i), r[i][0], "pipe", "dup2") < 0 ||
		    ctl(ep, EPOLL_CTL_ADD, base + i, EPOLLIN, tag(ep, base + i), 0))
			return -1;
		if (i < 2 && close_fd(r[i][0]))
			return -1;
	}
	if (track_dup(dup2(r[0][1], base + 3), r[0][1], "pipe-w", "dup2") < 0 ||
	    close_range_fds(base, base + 3) || expect(ep) || put_byte(r[2][1]) ||
	    wait_one(WAIT_PLAIN, ep, tag(ep, base + 2), EPOLLIN,
		     "close-watched: close_range leaves an item whose file is still open") ||
	    drain(r[2][0]) || close_fd(r[2][0]) ||
	    wait_none(WAIT_PLAIN, ep, "close-watched: nothing left ready"))
		return -1;

	/* dup2 over a watched fd closes its file; the number can be added anew */
	e = make_eventfd();
	if (e < 0 || make_pipe(s) || ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, tag(ep, s[0]), 0) ||
	    dup2_over(e, s[0], "eventfd") < 0 ||
	    ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, tag_gen(ep, s[0], 1), 0) || bump_eventfd(e) ||
	    wait_one(WAIT_PLAIN, ep, tag_gen(ep, s[0], 1), EPOLLIN,
		     "close-watched: the fd number added again refers to the new file") ||
	    drain(e))
		return -1;
	/* delivered and put back; reading the eventfd wakes only EPOLLOUT */
	return expect(ep) || expect_ready(ep, 1, s[0]) ? -1 : 0;
}

/*
 * An instance watched by another: the outer one reports the inner one
 * readable while the inner one has a ready item.
 */
static int sc_nested(int scale)
{
	int inner = ep_create(false), outer = ep_create(false), p[2];
	uint64_t di, dp;

	(void)scale;
	if (inner < 0 || outer < 0 || make_pipe(p))
		return -1;
	dp = tag(inner, p[0]);
	di = tag(outer, inner);
	if (ctl(inner, EPOLL_CTL_ADD, p[0], EPOLLIN, dp, 0) ||
	    ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, di, 0) ||
	    /* a cycle, and an instance watching itself, are refused */
	    ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, tag(inner, outer), ELOOP) ||
	    ctl(outer, EPOLL_CTL_ADD, outer, EPOLLIN, tag(outer, outer), EINVAL))
		return -1;
	if (wait_none(WAIT_P2, outer, "nested: nothing ready yet") || put_byte(p[1]) ||
	    await_readable(p[0]) ||
	    wait_one(WAIT_P2, outer, di, EPOLLIN,
		     "nested: the inner instance is ready in the outer") ||
	    wait_for(WAIT_P2, outer, 8, 0, &di, 1, EPOLLIN,
		     "nested: still ready while the inner one holds a ready item") ||
	    wait_one(WAIT_P2, inner, dp, EPOLLIN, "nested: the inner instance reports the pipe") ||
	    drain(p[0]) ||
	    wait_none(WAIT_P2, outer, "nested: not ready once the pipe is drained") ||
	    wait_none(WAIT_P2, inner, "nested: inner has nothing either"))
		return -1;
	/* the last scans found nothing ready: both lists are empty */
	if (expect(inner) || expect_ready(inner, 0) || expect(outer) || expect_ready(outer, 0))
		return -1;
	return 0;
}

/*
 * Ends the calling thread only.  pthread_exit() is not async-signal-safe in
 * general, but SIGUSR2 gets in only inside epoll_pwait's mask, where the
 * thread holds no lock: the same state in which glibc's own cancellation
 * unwinds a thread.  Unlike a raw SYS_exit it lets the C library (and
 * ASan) see the thread end, so that the join is clean.
 */
static void exit_this_thread(int sig)
{
	(void)sig;
	pthread_exit(NULL);
}

/*
 * A thread asleep in epoll_pwait is sent SIGUSR2, which its wait mask lets
 * in; the wait returns EINTR (never restarted) and the handler ends the
 * thread.  It cannot write that down itself: the main thread does, in its
 * name.  Another thread on the same instance sleeps on and is woken.
 */
static int sc_thread_exit(int scale)
{
	struct sigaction sa = { .sa_handler = exit_this_thread }, old;
	struct waiter *w = calloc(2, sizeof(*w));
	struct crew *c = crew_new();
	int ep = ep_create(false), p[2], r = -1;
	bool handler = false;
	pid_t tid;

	(void)scale;
	if (!w || !c) {
		fail("out of memory");
		goto out;
	}
	if (ep < 0 || make_pipe(p) ||
	    ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, tag(ep, p[0]) | TAG_STOP, 0))
		goto out;
	if (sigaction(SIGUSR2, &sa, &old)) {
		fail("sigaction: %s", strerror(errno));
		goto out;
	}
	handler = true;
	w[0] = (struct waiter){ .crew = c, .epfd = ep, .maxevents = 4, .call = WAIT_P,
		.dies = true };
	w[1] = (struct waiter){ .crew = c, .epfd = ep, .maxevents = 4, .call = WAIT_PLAIN };
	if (crew_start(w, 2))
		goto stop;
	tid = w[0].tid;
	if (pthread_kill(w[0].th, SIGUSR2)) {
		fail("pthread_kill: failed");
		goto stop;
	}
	/* the kernel clears the tid at exit, which is what a join waits for */
	if (crew_join(w, 1))
		goto stop;
	truth_as(tid, "\"t\":\"wait\",\"syscall\":\"%s\",\"epfd\":%d,\"maxevents\":%d,"
		 "\"timeout_ms\":%d,\"ret\":-1,\"errno\":%d,\"events\":[]", wait_names[w[0].call],
		 ep, w[0].maxevents, WAIT_MS, EINTR);
	truth_as(tid, "\"t\":\"thread_exit\",\"in_wait\":true");
	if (await_asleep(&w[1]) || put_byte(p[1]))
		goto stop;
	r = 0;
stop:
	if (w[1].started && r)
		put_byte(p[1]);
	if (crew_join(w, 2)) {
		w = NULL;	/* still in use: leaked on purpose */
		c = NULL;
		r = -1;
	}
	if (!r)
		r = semantic(w[1].saw_stop, "thread-exit: the other waiter was not woken");
	/* the surviving thread took the pipe's item, which was put back */
	if (!r)
		r = expect(ep) || expect_ready(ep, 1, p[0]) ? -1 : 0;
out:
	if (handler)
		sigaction(SIGUSR2, &old, NULL);
	free(w);
	if (c)
		crew_free(c);
	return r || failed() ? -1 : 0;
}

/*
 * sleepers: threads left asleep in epoll_wait (no timeout) across the
 * "done" gate, so that a tracer attached at rest must show exactly them
 * on the wait queue.  They are woken and joined after the gate.
 */
#define SLEEPERS 3

static struct {
	pthread_t th[SLEEPERS];
	int n;
	int ep;
	int stop_w;		/* write end: one byte per sleeper wakes it */
	int woken;		/* atomic */
} sleepers;

static void *sleeper_main(void *arg)
{
	struct epoll_event ev[1];

	__atomic_store_n((pid_t *)arg, gettid(), __ATOMIC_RELEASE);
	truth("\"t\":\"thread\"");
	/* woken by the release below: edge-triggered, one byte each */
	if (ep_wait(WAIT_PLAIN, sleepers.ep, ev, 1, -1, NULL) == 1)
		drain(tag_fd(ev[0].data.u64));
	__atomic_add_fetch(&sleepers.woken, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int sc_sleepers(int scale)
{
	static pid_t tids[SLEEPERS];
	struct sbuf b = {};
	int p[2];

	(void)scale;
	sleepers.ep = ep_create(false);
	if (sleepers.ep < 0 || make_pipe(p) ||
	    ctl(sleepers.ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET | EPOLLEXCLUSIVE,
		tag(sleepers.ep, p[0]), 0))
		return -1;
	sleepers.stop_w = p[1];
	for (int i = 0; i < SLEEPERS; i++) {
		struct waiter w = {};

		tids[i] = 0;
		if (pthread_create(&sleepers.th[i], NULL, sleeper_main, &tids[i]))
			return fail("pthread_create failed");
		sleepers.n++;
		while (!__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE))
			usleep(100);
		w.tid = tids[i];
		if (await_asleep(&w))
			return -1;
	}
	sb_add(&b, "\"t\":\"expect_waiters\",\"epfd\":%d,\"tids\":[", sleepers.ep);
	for (int i = 0; i < SLEEPERS; i++)
		sb_add(&b, "%s%d", i ? "," : "", tids[i]);
	sb_add(&b, "]");
	emit(gettid(), &b);
	return expect(sleepers.ep);
}

/*
 * After the "done" gate: wake the sleepers one at a time (exclusive and
 * edge-triggered: one byte into an empty pipe wakes one; which one is the
 * kernel's choice), then join them.
 */
static void sleepers_release(void)
{
	for (int i = 0; i < sleepers.n; i++) {
		put_byte(sleepers.stop_w);
		for (int k = 0; k < 5000 && __atomic_load_n(&sleepers.woken, __ATOMIC_ACQUIRE) <= i;
		     k++)
			usleep(1000);
	}
	for (int i = 0; i < sleepers.n; i++)
		pthread_join(sleepers.th[i], NULL);
	sleepers.n = 0;
}

/* ---- what scenarios in other files use (workload_ops.h) ------------------ */

static int gate(bool on, const char *what);
static bool gate_on;	/* --gate */

static int ops_wait(int epfd, struct epoll_event *ev, int maxevents, int timeout_ms)
{
	return ep_wait(WAIT_PLAIN, epfd, ev, maxevents, timeout_ms, NULL);
}

static int ops_wait_one(int epfd, uint64_t data, uint32_t mask, const char *what)
{
	return wait_one(WAIT_PLAIN, epfd, data, mask, what);
}

static int ops_hold(const char *what)
{
	return gate(gate_on, what);
}

static int ops_asleep(pid_t tid)
{
	return task_in_epoll_wait(tid);
}

const struct workload_ops workload_ops = {
	.truth = truth, .fail = fail, .failed = failed, .ep_create = ep_create, .ctl = ctl,
	.dup_fd = ops_dup,
	.make_eventfd = make_eventfd, .bump_eventfd = bump_eventfd, .drain = drain,
	.wait = ops_wait, .wait_one = ops_wait_one, .expect = expect,
	.expect_ready = expect_ready, .hold = ops_hold,
	.asleep = ops_asleep, .close_fd = close_fd, .make_pipe = make_pipe, .put_byte = put_byte,
	.track = track, .track_dup = track_dup,
};

static void raise_nofile(int scale, struct rlimit *old);
static void close_everything(void);
static struct rlimit begin_lim;

/* the state a run starts from; workload_run's first steps, for lessons too */
static void begin(FILE *truth_sink, const char *name, int scale, struct rlimit *oldlim)
{
	memset(&wl, 0, sizeof(wl));
	memset(&sleepers, 0, sizeof(sleepers));
	pthread_mutex_init(&wl.lock, NULL);
	wl.truth = truth_sink;
	wl.scenario = name;
	raise_nofile(scale, oldlim);
}

/* ... and its last: what the run made is closed and forgotten */
static void end(struct rlimit *oldlim)
{
	close_everything();
	truth("\"t\":\"exit\"");
	free(wl.fd_file);
	free(wl.files);
	free(wl.items);
	wl.fd_file = NULL;
	wl.files = NULL;
	wl.items = NULL;
	if (oldlim->rlim_cur != RLIM_INFINITY)
		setrlimit(RLIMIT_NOFILE, oldlim);
}

void workload_begin(FILE *truth_sink, const char *name)
{
	begin(truth_sink, name, 1, &begin_lim);
}

int workload_end(void)
{
	end(&begin_lim);
	return failed() ? 1 : 0;
}

/*
 * sharer: an instance passed over SCM_RIGHTS to a process that is no
 * target.  Before the "ready" gate, a child is forked (so no tracer
 * follows it) and receives the instance; after it, the child adds and
 * removes an fd of its own on it, takes a ready item, and sleeps in
 * epoll_wait until the parent makes the pipe ready.  A tracer that finds
 * the child in a snapshot sees all of it, exactly.
 */
static struct {
	pid_t pid;		/* the child, 0: none */
	int sock;		/* the parent's end: one command byte, one reply byte */
	int ep;
	int p[2];
} sharer;

static int send_fd(int sock, int fd)
{
	char byte = 'f', ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : fail("sendmsg(SCM_RIGHTS): %s", strerror(errno));
}

static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return fail("recvmsg: %s", strerror(errno));
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return fail("recvmsg: no fd came");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* the child: commands until 'q' or EOF; its own truth lines carry its tid */
static void sharer_child(int sock)
{
	uint64_t d = 0;
	int ep = recv_fd(sock), e = -1, r;
	char cmd;

	if (ep < 0)
		_exit(1);
	while (read(sock, &cmd, 1) == 1 && cmd != 'q') {
		if (cmd == 'd' && read(sock, &d, sizeof(d)) == sizeof(d))
			continue;	/* the tag of the parent's pipe item */
		r = -1;
		if (cmd == 'c') {	/* an fd of its own, in and out of the interest set */
			e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			r = e < 0 ? fail("eventfd: %s", strerror(errno)) :
			    ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, tag(ep, e), 0) ||
			    ctl(ep, EPOLL_CTL_DEL, e, 0, 0, 0) ? -1 : 0;
			if (e >= 0)
				close(e);
		} else if (cmd == 'w') {	/* the pipe is ready, or will be */
			r = wait_one(WAIT_PLAIN, ep, d, EPOLLIN, "sharer: the child sees the pipe");
		}
		cmd = r ? 1 : 0;
		if (write(sock, &cmd, 1) != 1)
			break;
	}
	_exit(failed() ? 1 : 0);
}

static int sharer_cmd(char cmd)
{
	char r = 1;

	if (write(sharer.sock, &cmd, 1) != 1)
		return fail("sharer: the child is gone: %s", strerror(errno));
	if (cmd != 'w' && read(sharer.sock, &r, 1) != 1)
		return fail("sharer: the child is gone");
	return cmd == 'w' || !r ? 0 : fail("sharer: the child failed ('%c')", cmd);
}

static int sharer_reply(void)
{
	char r = 1;

	if (read(sharer.sock, &r, 1) != 1 || r)
		return fail("sharer: the child's wait failed");
	return 0;
}

/* before the gate: the child, and the instance it is given */
static int sharer_setup(int scale)
{
	int sv[2];
	uint64_t d;

	(void)scale;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return fail("socketpair: %s", strerror(errno));
	fflush(NULL);
	sharer.pid = fork();
	if (sharer.pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!sharer.pid) {
		close(sv[0]);
		sharer_child(sv[1]);
	}
	close(sv[1]);
	sharer.sock = sv[0];
	sharer.ep = ep_create(false);
	if (sharer.ep < 0 || make_pipe(sharer.p) ||
	    ctl(sharer.ep, EPOLL_CTL_ADD, sharer.p[0], EPOLLIN, tag(sharer.ep, sharer.p[0]), 0) ||
	    send_fd(sharer.sock, sharer.ep))
		return -1;
	d = tag(sharer.ep, sharer.p[0]);
	if (write(sharer.sock, "d", 1) != 1 || write(sharer.sock, &d, sizeof(d)) != sizeof(d))
		return fail("sharer: the child is gone");
	truth("\"t\":\"sharer\",\"pid\":%d,\"epfd\":%d", sharer.pid, sharer.ep);
	return expect(sharer.ep);
}

static int sc_sharer(int scale)
{
	char proc[16];
	int r = 0;

	/* in "all", the child comes now: a tracer already there sees it all */
	if (!sharer.pid && sharer_setup(scale))
		return -1;
	/* the child's ctl, then a wait that finds the pipe ready */
	if (sharer_cmd('c') || put_byte(sharer.p[1]) || sharer_cmd('w') || sharer_reply() ||
	    drain(sharer.p[0]))
		return -1;
	/* a wait that sleeps until the parent writes */
	if (sharer_cmd('w'))
		return -1;
	snprintf(proc, sizeof(proc), "%d", sharer.pid);
	for (int i = 0; i < 2000; i++) {
		r = task_in_epoll_wait_of(proc, sharer.pid);
		if (r)
			break;
		usleep(i < 20 ? 100 : 2000);
	}
	if (r != 1)
		return fail("sharer: the child never fell asleep in epoll_wait");
	if (put_byte(sharer.p[1]) || sharer_reply() || drain(sharer.p[0]))
		return -1;
	if (wait_none(WAIT_PLAIN, sharer.ep, "sharer: nothing is left ready") ||
	    expect(sharer.ep) || expect_ready(sharer.ep, 0))
		return -1;
	return 0;
}

/* after the run, gate or not: the child quits and is reaped */
static void sharer_release(void)
{
	if (!sharer.pid)
		return;
	if (write(sharer.sock, "q", 1) != 1)
		kill(sharer.pid, SIGKILL);
	close(sharer.sock);
	waitpid(sharer.pid, NULL, 0);
	sharer.pid = 0;
}

static const char *const scenario_names[] = {
	"mixed", "threads", "lt-et", "oneshot", "exclusive", "close-watched", "nested",
	"thread-exit", "ovflist", "sleepers", "sharer", "rbtree", "all",
	/* after "all", which runs none of them: each provokes a detector, or must not */
	"diag-herd", "diag-herd-ok", "diag-exclusive-imbalance", "diag-exclusive-imbalance-ok",
	"diag-lt-spin", "diag-lt-spin-ok", "diag-maxevents-sat", "diag-maxevents-sat-ok",
	"diag-busy-poll", "diag-busy-poll-ok", "diag-zero-wakeups", "diag-zero-wakeups-ok",
	"diag-stale-reg", "diag-stale-reg-ok", "diag-long-residency", "diag-long-residency-ok",
	NULL,
};

static const struct {
	const char *desc;
	int (*run)(int scale);
} scenario_info[] = {
	{ "pipes, eventfds, TCP, UDP, unix sockets, timerfds on one instance", sc_mixed },
	{ "four threads asleep on one instance, woken one event at a time", sc_threads },
	{ "level- vs edge-triggered: what is reported again", sc_lt_et },
	{ "EPOLLONESHOT disarms after one event; MOD re-arms", sc_oneshot },
	{ "EPOLLEXCLUSIVE: one eventfd, three instances, one woken per write", sc_exclusive },
	{ "closing watched fds: plain, with a dup, close_range, dup2", sc_close_watched },
	{ "an epoll instance watched by another", sc_nested },
	{ "a thread exits while asleep in epoll_pwait", sc_thread_exit },
	{ "an item queued on ovflist: a wait's copy-out held by a userfaultfd fault", sc_ovflist },
	{ "three threads left asleep in epoll_wait until the end", sc_sleepers },
	{ "an instance passed over SCM_RIGHTS to an untraced process that waits on it",
	  sc_sharer },
	{ "rbr rebalanced: ascending and descending ADDs of dup'd fds, then DELs", sc_rbtree },
	{ "every scenario above, in order", NULL },
	{ "herd: two of four threads on one instance woken, one takes the write", sc_diag_herd },
	{ "no herd: the same with EPOLLEXCLUSIVE, an instance each", sc_diag_herd_ok },
	{ "exclusive imbalance: one thread takes every wakeup (LIFO)", sc_diag_excl },
	{ "no exclusive imbalance: each thread one wakeup a round", sc_diag_excl_ok },
	{ "lt spin: an unread level-triggered item, 48 waits", sc_diag_lt_spin },
	{ "no lt spin: two items written and read in turn", sc_diag_lt_spin_ok },
	{ "maxevents saturation: 8 ready, maxevents 4", sc_diag_sat },
	{ "no maxevents saturation: 8 ready, maxevents 16", sc_diag_sat_ok },
	{ "busy poll: timeout-0 waits for 1.5 s, 4000 a second, returning 0", sc_diag_busy },
	{ "no busy poll: the same waits, each returning an event", sc_diag_busy_ok },
	{ "zero wakeups: waits woken for nothing for 1.5 s, 100 a second", sc_diag_zero },
	{ "no zero wakeups: every wait woken by a write", sc_diag_zero_ok },
	{ "stale registration: an item whose fd was closed and reused", sc_diag_stale },
	{ "no stale registration: deleted before the close", sc_diag_stale_ok },
	{ "long residency: an item ready 500 ms while its thread is busy", sc_diag_residency },
	{ "no long residency: items collected at once", sc_diag_residency_ok },
};

_Static_assert(ARRAY_SIZE(scenario_names) == ARRAY_SIZE(scenario_info) + 1,
	       "one description per scenario");

const char *const *workload_scenarios(void)
{
	return scenario_names;
}

static int scenario_index(const char *name)
{
	for (int i = 0; name && scenario_names[i]; i++)
		if (!strcmp(scenario_names[i], name))
			return i;
	return -1;
}

const char *workload_describe(const char *name)
{
	int i = scenario_index(name);

	return i < 0 ? NULL : scenario_info[i].desc;
}

/* ---- the run ------------------------------------------------------------- */

static int gate(bool on, const char *what)
{
	sigset_t set;
	int sig, err;

	truth("\"t\":\"%s\"", what);
	if (!on)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	err = sigwait(&set, &sig);
	return err ? fail("sigwait: %s", strerror(err)) : 0;
}

/*
 * An instance that exists before a tracer attaches, so that the tracer
 * must learn of it from a snapshot.  Its eventfd is writable from the
 * start: the instance has a ready item that nobody has collected.
 */
static int pre_existing(uint64_t *writable)
{
	int ep = ep_create(false), a[2], b[2], e;

	if (ep < 0 || make_pipe(a) || make_pipe(b))
		return -1;
	e = make_eventfd();
	if (e < 0 || ctl(ep, EPOLL_CTL_ADD, a[0], EPOLLIN, tag(ep, a[0]), 0) ||
	    ctl(ep, EPOLL_CTL_ADD, b[0], EPOLLIN | EPOLLET, tag(ep, b[0]), 0) ||
	    ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLOUT, tag(ep, e), 0) || expect(ep))
		return -1;
	*writable = tag(ep, e);
	return ep;
}

static void close_everything(void)
{
	/* instances first, so that their own items go with them */
	for (int pass = 0; pass < 2; pass++) {
		for (int fd = 0; fd < wl.nfd; fd++) {
			int file = wl.fd_file[fd];

			if (file && wl.files[file].epoll == !pass)
				close_fd(fd);
		}
	}
}

static void raise_nofile(int scale, struct rlimit *old)
{
	rlim_t need = 256 + 160 * (rlim_t)scale;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, old)) {
		old->rlim_cur = RLIM_INFINITY;
		return;
	}
	rl = *old;
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);	/* best effort: EMFILE says the rest */
}

static int run_scenarios(int idx, int scale)
{
	int pid = getpid();

	if (scenario_info[idx].run)
		return scenario_info[idx].run(scale);
	for (int i = 0; scenario_info[i].run; i++) {
		wl.scenario = scenario_names[i];
		truth("\"t\":\"scenario\",\"name\":\"%s\",\"pid\":%d", scenario_names[i], pid);
		if (scenario_info[i].run(scale))
			return -1;
	}
	wl.scenario = scenario_names[idx];
	return 0;
}

int workload_run(const struct workload_opts *o)
{
	int idx = scenario_index(o->scenario), scale = o->scale > 0 ? o->scale : 1, pre;
	struct timespec zero = { 0, 0 };
	sigset_t usr1, oldmask;
	struct rlimit oldlim;
	uint64_t pre_e;

	if (idx < 0) {
		fprintf(stderr, "workload: unknown scenario '%s'\n",
			o->scenario ? o->scenario : "(none)");
		return 1;
	}
	if (scale > MAX_SCALE) {
		fprintf(stderr, "workload: scale %d is above %d\n", scale, MAX_SCALE);
		return 1;
	}
	begin(o->truth, scenario_names[idx], scale, &oldlim);
	gate_on = o->gate;
	/* the gate: blocked before any thread exists, so every thread inherits it */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &oldmask);

	truth("\"t\":\"scenario\",\"name\":\"%s\",\"pid\":%d", wl.scenario, getpid());
	/* the sharer's child is forked first: it inherits no instance */
	if (scenario_info[idx].run == sc_sharer && sharer_setup(scale))
		goto out;
	pre = pre_existing(&pre_e);
	if (pre < 0 || gate(o->gate, "ready"))
		goto out;
	/* the pre-existing instance's uncollected ready item, collected */
	if (wait_one(WAIT_PLAIN, pre, pre_e, EPOLLOUT, "an eventfd is writable from the start"))
		goto out;
	/* the eventfd item was delivered and put back; nothing touched it since */
	if (run_scenarios(idx, scale) || expect(pre) || expect_ready(pre, 1, tag_fd(pre_e)))
		goto out;
	gate(o->gate, "done");
out:
	wl.scenario = scenario_names[idx];
	sleepers_release();
	sharer_release();
	end(&oldlim);
	/* a SIGUSR1 that came without a gate to take it must not kill us now */
	while (sigtimedwait(&usr1, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	return failed() ? 1 : 0;
}
