// SPDX-License-Identifier: GPL-2.0
/*
 * Workloads for tests/model_live.sh: the model against the kernel where
 * the kernel's picture is hard to take.  Each mode writes "ready ..." to
 * its status file once set up, then obeys lines read from a control FIFO.
 *
 *   churn N STATUS CTL   N items that existed before tracing.  CTL:
 *                        "churn"/"stop": two threads add and remove one fd
 *                        each with epoll_ctl; "race"/"calm": a thread adds
 *                        and removes 16 fds through io_uring
 *                        (IORING_OP_EPOLL_CTL, which no syscall tracepoint
 *                        sees) as fast as it can, so that walks of the tree
 *                        race changes; "add"/"del": one hidden fd through
 *                        io_uring; "quit".
 *   sleepers N STATUS    N threads asleep in epoll_wait on one instance.
 *   cloexec STATUS CTL   one instance with EPOLL_CLOEXEC, one without; on
 *                        "exec" it execs sleep(1).
 *   holder STATUS CTL    one instance; exits on "exit".
 *   reuse PID STATUS CTL on "go": forks until a child gets PID (set
 *                        /proc/sys/kernel/ns_last_pid, fork, retry); that
 *                        child makes an instance and waits on it a while.
 *                        Exits on "quit".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *status_path;

static void die(const char *what)
{
	fprintf(stderr, "model_workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void __attribute__((format(printf, 1, 2))) status(const char *fmt, ...)
{
	FILE *f = fopen(status_path, "a");
	va_list ap;

	if (!f)
		die("status file");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* the next command line from the control FIFO (opened read-write: no EOF) */
static int ctl_fd = -1;

static const char *command(void)
{
	static char line[64];
	size_t n = 0;
	char c;

	while (n + 1 < sizeof(line)) {
		ssize_t r = read(ctl_fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("control fifo");
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = 0;
	return line;
}

static void ctl_open(const char *path)
{
	ctl_fd = open(path, O_RDWR);
	if (ctl_fd < 0)
		die("control fifo");
}

static void add(int ep, int fd, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.u64 = 0x1000 + fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl ADD");
}

/* ---- churn ---------------------------------------------------------------- */

/* one io_uring, for IORING_OP_EPOLL_CTL: do_epoll_ctl without the syscall */
struct uring {
	int fd;
	struct io_uring_params p;
	char *sq, *cq;
	struct io_uring_sqe *sqes;
};

static void uring_init(struct uring *u)
{
	memset(&u->p, 0, sizeof(u->p));
	u->fd = syscall(__NR_io_uring_setup, 4, &u->p);
	if (u->fd < 0)
		die("io_uring_setup");
	u->sq = mmap(NULL, u->p.sq_off.array + u->p.sq_entries * 4, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	u->sqes = mmap(NULL, u->p.sq_entries * sizeof(*u->sqes), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	u->cq = mmap(NULL, u->p.cq_off.cqes + u->p.cq_entries * sizeof(struct io_uring_cqe),
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
	if (u->sq == MAP_FAILED || u->sqes == MAP_FAILED || u->cq == MAP_FAILED)
		die("io_uring mmap");
}

static void uring_ctl(struct uring *u, int ep, int op, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1000 + fd };
	unsigned int *tail = (unsigned int *)(u->sq + u->p.sq_off.tail);
	unsigned int *mask = (unsigned int *)(u->sq + u->p.sq_off.ring_mask);
	unsigned int *arr = (unsigned int *)(u->sq + u->p.sq_off.array);
	unsigned int *head = (unsigned int *)(u->cq + u->p.cq_off.head);
	unsigned int *cmask = (unsigned int *)(u->cq + u->p.cq_off.ring_mask);
	unsigned int t = *tail, i = t & *mask;
	struct io_uring_cqe *cqe;

	memset(&u->sqes[i], 0, sizeof(u->sqes[i]));
	u->sqes[i].opcode = IORING_OP_EPOLL_CTL;
	u->sqes[i].fd = ep;
	u->sqes[i].off = fd;
	u->sqes[i].len = op;
	u->sqes[i].addr = (unsigned long)&ev;
	arr[i] = i;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) != 1)
		die("io_uring_enter");
	cqe = (struct io_uring_cqe *)(u->cq + u->p.cq_off.cqes) + (*head & *cmask);
	if (cqe->res) {
		errno = -cqe->res;
		die("IORING_OP_EPOLL_CTL");
	}
	__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
}

static volatile int churning, racing;
static unsigned long raced;	/* io_uring changes made */
static int churn_ep;

/* seen by the tracer: epoll_ctl ADD and DEL of one fd, 20 kHz */
static void *churn_thread(void *arg)
{
	struct timespec gap = { 0, 50000 };
	int p[2];

	(void)arg;
	if (pipe(p))
		die("pipe");
	prctl(PR_SET_TIMERSLACK, 1UL);
	while (churning) {
		add(churn_ep, p[0], EPOLLIN);
		nanosleep(&gap, NULL);
		if (epoll_ctl(churn_ep, EPOLL_CTL_DEL, p[0], NULL))
			die("epoll_ctl DEL");
		nanosleep(&gap, NULL);
	}
	close(p[0]);
	close(p[1]);
	return NULL;
}

/*
 * Unseen by it: as fast as io_uring goes, bursts of ADDs then DELs of 16
 * fds, so that the instance's item count is rarely the same at the start
 * and the end of a walk.
 */
static void *race_thread(void *arg)
{
	struct uring u;
	int p[2], fds[16];

	(void)arg;
	uring_init(&u);
	if (pipe(p))
		die("pipe");
	for (int i = 0; i < 16; i++)
		if ((fds[i] = dup(p[0])) < 0)
			die("dup");
	while (racing) {
		for (int i = 0; i < 16; i++)
			uring_ctl(&u, churn_ep, EPOLL_CTL_ADD, fds[i]);
		for (int i = 0; i < 16; i++)
			uring_ctl(&u, churn_ep, EPOLL_CTL_DEL, fds[i]);
		raced += 32;
	}
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	close(p[0]);
	close(p[1]);
	close(u.fd);
	return NULL;
}

static int mode_churn(int n)
{
	struct rlimit rl = { n + 256, n + 256 };
	pthread_t th[2], race;
	struct uring u;
	int p[2], hidden[2];

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	churn_ep = epoll_create1(0);
	if (churn_ep < 0 || pipe(p) || pipe(hidden))
		die("setup");
	uring_init(&u);
	/* n items on one pipe's read end, dup'd: (file, fd) keys differ */
	add(churn_ep, p[0], EPOLLIN);
	for (int i = 1; i < n; i++) {
		int d = dup(p[0]);

		if (d < 0)
			die("dup");
		add(churn_ep, d, EPOLLIN);
	}
	status("ready epfd=%d hidden=%d", churn_ep, hidden[0]);
	for (;;) {
		const char *c = command();

		if (!strcmp(c, "race") && !racing) {
			racing = 1;
			if (pthread_create(&race, NULL, race_thread, NULL))
				die("pthread_create");
			status("racing");
		} else if (!strcmp(c, "calm") && racing) {
			racing = 0;
			pthread_join(race, NULL);
			status("calm after %lu changes", raced);
		} else if (!strcmp(c, "churn") && !churning) {
			churning = 1;
			for (int i = 0; i < 2; i++)
				if (pthread_create(&th[i], NULL, churn_thread, NULL))
					die("pthread_create");
			status("churning");
		} else if (!strcmp(c, "stop") && churning) {
			churning = 0;
			for (int i = 0; i < 2; i++)
				pthread_join(th[i], NULL);
			status("stopped");
		} else if (!strcmp(c, "add")) {
			uring_ctl(&u, churn_ep, EPOLL_CTL_ADD, hidden[0]);
			status("added");
		} else if (!strcmp(c, "del")) {
			uring_ctl(&u, churn_ep, EPOLL_CTL_DEL, hidden[0]);
			status("deleted");
		} else if (!strcmp(c, "quit")) {
			return 0;
		}
	}
}

/* ---- sleepers ------------------------------------------------------------- */

static int sleep_ep;

static void *sleeper(void *arg)
{
	struct epoll_event ev[4];

	(void)arg;
	for (;;)
		epoll_wait(sleep_ep, ev, 4, -1);
	return NULL;
}

static int mode_sleepers(int n)
{
	pthread_attr_t a;
	int p[2];

	sleep_ep = epoll_create1(0);
	if (sleep_ep < 0 || pipe(p))
		die("setup");
	add(sleep_ep, p[0], EPOLLIN);
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, &a, sleeper, NULL))
			die("pthread_create");
	}
	status("ready epfd=%d threads=%d", sleep_ep, n);
	for (;;)
		pause();
	return 0;
}

/* ---- close-on-exec -------------------------------------------------------- */

static int mode_cloexec(void)
{
	int a = epoll_create1(EPOLL_CLOEXEC), b = epoll_create1(0), p[2];

	if (a < 0 || b < 0 || pipe(p))
		die("setup");
	add(a, p[0], EPOLLIN);
	add(a, p[1], EPOLLOUT);
	add(b, p[0], EPOLLIN);
	status("ready cloexec=%d kept=%d", a, b);
	while (strcmp(command(), "exec"))
		;
	execlp("sleep", "sleep", "60", (char *)NULL);
	die("exec sleep");
	return 1;
}

/* ---- a pid exits and comes back ----------------------------------------- */

static int mode_holder(void)
{
	int ep = epoll_create1(0), p[2];

	if (ep < 0 || pipe(p))
		die("setup");
	add(ep, p[0], EPOLLIN);
	status("ready epfd=%d", ep);
	while (strcmp(command(), "exit"))
		;
	return 0;
}

/* what the process that got the pid again does: an instance, and waits */
static void newcomer(void)
{
	struct epoll_event ev[4];
	int ep = epoll_create1(0), p[2];

	if (ep < 0 || pipe(p))
		_exit(1);
	add(ep, p[0], EPOLLIN);
	add(ep, p[1], EPOLLOUT);
	for (int i = 0; i < 30; i++)
		epoll_wait(ep, ev, 4, 10);
	_exit(0);
}

static int mode_reuse(pid_t want)
{
	const char *fail = NULL;
	int tries;

	status("ready");
	while (strcmp(command(), "go"))
		;
	for (tries = 1; !fail && tries <= 2000; tries++) {
		FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
		pid_t c;
		int st;

		/* say so rather than die: the test waits for a word */
		if (!f || fprintf(f, "%d", want - 1) < 0 || fclose(f)) {
			fail = strerror(errno);
			break;
		}
		c = fork();
		if (c < 0) {
			fail = strerror(errno);
			break;
		}
		if (c == 0) {
			if (getpid() == want)
				newcomer();
			_exit(0);
		}
		waitpid(c, &st, 0);
		if (c == want)
			break;
	}
	if (fail)
		status("failed: %s", fail);
	else if (tries > 2000)
		status("failed: pid %d stays taken", want);
	else
		status("reused %d after %d tries", want, tries);
	while (strcmp(command(), "quit"))
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "churn")) {
		status_path = argv[3];
		ctl_open(argv[4]);
		return mode_churn(atoi(argv[2]));
	}
	if (argc >= 4 && !strcmp(argv[1], "sleepers")) {
		status_path = argv[3];
		return mode_sleepers(atoi(argv[2]));
	}
	if (argc >= 4 && !strcmp(argv[1], "cloexec")) {
		status_path = argv[2];
		ctl_open(argv[3]);
		return mode_cloexec();
	}
	if (argc >= 4 && !strcmp(argv[1], "holder")) {
		status_path = argv[2];
		ctl_open(argv[3]);
		return mode_holder();
	}
	if (argc >= 5 && !strcmp(argv[1], "reuse")) {
		status_path = argv[3];
		ctl_open(argv[4]);
		return mode_reuse(atoi(argv[2]));
	}
	fprintf(stderr, "usage: model_workload churn N STATUS CTL | sleepers N STATUS | "
		"cloexec STATUS CTL | holder STATUS CTL | reuse PID STATUS CTL\n");
	return 2;
}
