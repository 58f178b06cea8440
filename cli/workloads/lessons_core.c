// SPDX-License-Identifier: GPL-2.0
/*
 * Lessons 1 to 4 (`epolltrace learn`): the three structures, sleep and
 * wakeup, level- vs edge-triggered, EPOLLONESHOT.  Each step leaves the
 * kernel's state settled before it returns (lesson.h): a thread that must
 * be seen asleep is awaited asleep, data sent on a unix socket has run
 * ep_poll_callback before write() returns (unix_stream_sendmsg calls the
 * peer's sk_data_ready in the writer's context), and a wait's result is
 * awaited.
 *
 * The kernel facts the narration states (the seed describes them for
 * v5.15; tests/learn.sh holds every step's records and snapshot to them on
 * 6.1 and 6.12 in the guests and on this machine's kernel):
 *  - do_epoll_create -> ep_alloc: wq, rdllist, rbr initialised empty;
 *  - ep_insert: the epitem is linked into rbr (ep_rbtree_insert, ordered
 *    by ep_cmp_ffd: file address, then fd), ep_item_poll -> the file's
 *    poll -> ep_ptable_queue_proc hooks ep_poll_callback onto the file's
 *    wait queue; ready already: the item goes on rdllist at once;
 *  - ep_poll_callback: an item whose events are disarmed (only
 *    EP_PRIVATE_BITS, after EPOLLONESHOT fired) is left alone; else it is
 *    put on rdllist (ovflist during a scan) and wq is woken;
 *  - ep_poll: rdllist empty -> the thread is added to wq exclusively and
 *    sleeps; ep_send_events takes rdllist, polls each item again, drops the
 *    ones no longer ready, copies the rest; EPOLLONESHOT items are disarmed
 *    (events &= EP_PRIVATE_BITS), level-triggered ones are put back on
 *    rdllist, edge-triggered ones are not;
 *  - ep_modify: the new events are set and the file polled again: ready
 *    -> on rdllist.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "i18n.h"
#include "lesson.h"
#include "workload_ops.h"

#define W workload_ops

/* a unix stream socketpair: [0] is watched, [1] is the far end that sends */
static int sock_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return W.fail("socketpair: %s", strerror(errno));
	if (W.track(sv[0], "unix", "socketpair") < 0 || W.track(sv[1], "unix", "socketpair") < 0)
		return -1;
	return 0;
}

static int send_bytes(int fd, int n)
{
	char buf[256];

	memset(buf, 'x', sizeof(buf));
	if (n > (int)sizeof(buf) || write(fd, buf, n) != n)
		return W.fail("write(%d, %d bytes): %s", fd, n, strerror(errno));
	return 0;
}

static int recv_bytes(int fd, int n)
{
	char buf[256];

	if (n > (int)sizeof(buf) || read(fd, buf, n) != n)
		return W.fail("read(%d, %d bytes): %s", fd, n, strerror(errno));
	return 0;
}

/* a timeout-0 epoll_wait that must return want events */
static int wait_now(int epfd, int want)
{
	struct epoll_event ev[8];
	int n = W.wait(epfd, ev, 8, 0);

	if (n < 0)
		return W.fail("epoll_wait(%d): %s", epfd, strerror(errno));
	if (n != want)
		return W.fail("the kernel disagrees: epoll_wait(%d) returned %d, expected %d", epfd,
			      n, want);
	return 0;
}

/* ---- 1. The three structures ------------------------------------------------- */

struct structures {
	int epfd;
	int s[3][2];
};

static int st_setup(struct lesson_rt *rt)
{
	struct structures *p = lesson_priv(rt);

	p->epfd = -1;
	for (int i = 0; i < 3; i++)
		if (sock_pair(p->s[i]))
			return -1;
	return 0;
}

static int st_create(struct lesson_rt *rt)
{
	struct structures *p = lesson_priv(rt);

	p->epfd = W.ep_create(false);
	if (p->epfd < 0)
		return -1;
	lesson_epfd(rt, 0, p->epfd);
	lesson_args(rt, 1, (long long)p->epfd);
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 0, NULL);
	return W.expect(p->epfd) || W.expect_ready(p->epfd, 0) ? -1 : 0;
}

static int st_prep_add(struct lesson_rt *rt, int i)
{
	struct structures *p = lesson_priv(rt);

	lesson_args(rt, 3, (long long)p->epfd, (long long)p->s[i][0], (long long)i + 1);
	return 0;
}

static int st_prep_add1(struct lesson_rt *rt) { return st_prep_add(rt, 0); }
static int st_prep_add2(struct lesson_rt *rt) { return st_prep_add(rt, 1); }
static int st_prep_add3(struct lesson_rt *rt) { return st_prep_add(rt, 2); }

static int st_add(struct lesson_rt *rt, int i)
{
	struct structures *p = lesson_priv(rt);
	int fd = p->s[i][0];

	if (W.ctl(p->epfd, EPOLL_CTL_ADD, fd, EPOLLIN, workload_tag(p->epfd, fd), 0) ||
	    W.expect(p->epfd))
		return -1;
	/* ep_insert polls the file itself: no callback, even for data waiting */
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 0, NULL);
	/* socket 3 had data waiting: ep_insert queued it at once */
	if (i == 2)
		return W.expect_ready(p->epfd, 1, fd);
	return W.expect_ready(p->epfd, 0);
}

static int st_add1(struct lesson_rt *rt) { return st_add(rt, 0); }
static int st_add2(struct lesson_rt *rt) { return st_add(rt, 1); }

static int st_add3(struct lesson_rt *rt)
{
	struct structures *p = lesson_priv(rt);

	/* data first, then the ADD: no epitem hears the data arrive */
	if (send_bytes(p->s[2][1], 16))
		return -1;
	return st_add(rt, 2);
}

static const struct lesson_step structures_steps[] = {
	{
		.before = N_("epoll_create1() is about to make an epoll instance: the kernel "
			     "object that will hold the interest list, the ready list and the "
			     "sleeping threads."),
		.after = N_("do_epoll_create called ep_alloc: a new struct eventpoll, reached "
			    "through epfd {0}. Its rb-tree of watched fds (rbr), its ready list "
			    "(rdllist) and its wait queue of sleeping threads (wq) are all empty."),
		.hooks = "do_epoll_create,ep_alloc",
		.touched = ET_LT_RBR | ET_LT_RDLLIST | ET_LT_WQ,
		.run = st_create,
	},
	{
		.before = N_("epoll_ctl(ADD) is about to watch socket {2} (fd {1}) for EPOLLIN "
			     "on epfd {0}."),
		.after = N_("ep_insert allocated an epitem for fd {1} and linked it into rbr "
			    "(ep_rbtree_insert). Through ep_item_poll it hooked ep_poll_callback "
			    "onto the socket's wait queue, so the socket can tell epoll when data "
			    "arrives. Nothing is ready: rdllist stays empty."),
		.hooks = "do_epoll_ctl,ep_insert,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.prepare = st_prep_add1,
		.run = st_add1,
	},
	{
		.before = N_("epoll_ctl(ADD) is about to watch socket {2} (fd {1}) on epfd {0}."),
		.after = N_("ep_insert linked a second epitem into rbr. The tree is ordered by "
			    "the kernel's key, the struct file's address and then the fd (ep_cmp_ffd), "
			    "not by fd number: finding an fd again on MOD or DEL takes O(log n)."),
		.hooks = "do_epoll_ctl,ep_insert,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.prepare = st_prep_add2,
		.run = st_add2,
	},
	{
		.before = N_("Socket {2} (fd {1}) already has data waiting. epoll_ctl(ADD) is "
			     "about to watch it on epfd {0}."),
		.after = N_("ep_insert linked the third epitem into rbr, and ep_item_poll found "
			    "the socket readable already: ep_insert put the epitem straight on "
			    "rdllist. The next epoll_wait will report fd {1} without sleeping."),
		.hooks = "do_epoll_ctl,ep_insert,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_RDLLIST | ET_LT_POLLWAIT,
		.prepare = st_prep_add3,
		.run = st_add3,
	},
};

const struct lesson lesson_structures = {
	.name = "structures",
	.title = N_("The three structures: eventpoll's rbr, rdllist and wq"),
	.seed = "000_eff1739510b3b6d7.txt: \"Epoll 관련 주요 구조체\" (eventpoll, epitem), "
		"\"epoll_create: epoll 인스턴스의 탄생\", \"epoll_ctl: 감시 목록 편집하기\" "
		"(ep_insert, rbr); 003_0a696f50e1d8ac4c.txt: \"1. epoll 과정\"",
	.ninst = 1,
	.priv_size = sizeof(struct structures),
	.setup = st_setup,
	.steps = structures_steps,
	.nsteps = sizeof(structures_steps) / sizeof(structures_steps[0]),
};

/* ---- 2. Sleep and wakeup ----------------------------------------------------- */

/*
 * The articles' central figure: one thread asleep on wq; data arrives on
 * sockets 1 and 3 at once; ep_poll_callback runs twice; both epitems are
 * on rdllist; the thread wakes; ep_send_events copies two events.
 *
 * "At once" must be exact: had the sleeper run between the two sends, its
 * scan could take socket 1 alone (socket 3's callback then going to
 * ovflist, left for the next wait).  So the sleeper is pinned to one CPU,
 * and the sender goes to that CPU as SCHED_FIFO for the two sends: a woken
 * SCHED_OTHER thread cannot run there until the sender steps down.
 */
struct wakeup {
	int epfd;
	int s[3][2];
	int cpu;
	pthread_t t;
	bool started;
	pid_t tid;
	volatile int quit;
	sem_t up, ret1, go2, ret2;
	int r1, r2;
};

static void on_urg(int sig)
{
	(void)sig;	/* only to interrupt epoll_wait at teardown */
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *sleeper(void *arg)
{
	struct wakeup *p = arg;
	struct epoll_event ev[8];

	if (pin(p->cpu))
		W.fail("sched_setaffinity: %s", strerror(errno));
	p->tid = gettid();
	sem_post(&p->up);
	p->r1 = W.wait(p->epfd, ev, 8, -1);
	sem_post(&p->ret1);
	if (sem_wait(&p->go2) || p->quit)
		return NULL;
	/* the data read: nothing is ready any more, though both are on rdllist */
	if (W.drain(p->s[0][0]) || W.drain(p->s[2][0])) {
		sem_post(&p->ret2);
		return NULL;
	}
	p->r2 = W.wait(p->epfd, ev, 8, -1);
	sem_post(&p->ret2);
	return NULL;
}

static int sem_wait_s(sem_t *s, int seconds, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	while (sem_timedwait(s, &ts))
		if (errno != EINTR)
			return W.fail("%s: %s", what, strerror(errno));
	return 0;
}

static int wk_setup(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);
	struct sigaction sa = { .sa_handler = on_urg };
	cpu_set_t set;

	p->epfd = -1;
	sem_init(&p->up, 0, 0);
	sem_init(&p->ret1, 0, 0);
	sem_init(&p->go2, 0, 0);
	sem_init(&p->ret2, 0, 0);
	sigaction(SIGURG, &sa, NULL);
	/* the CPU the sleeper and the sender share: the first one allowed */
	if (sched_getaffinity(0, sizeof(set), &set))
		return W.fail("sched_getaffinity: %s", strerror(errno));
	for (p->cpu = 0; p->cpu < CPU_SETSIZE && !CPU_ISSET(p->cpu, &set); p->cpu++)
		;
	for (int i = 0; i < 3; i++)
		if (sock_pair(p->s[i]))
			return -1;
	return 0;
}

static void wk_teardown(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);

	if (!p->started)
		return;
	p->quit = 1;
	sem_post(&p->go2);
	/* a sleeper still in epoll_wait: interrupt it until it is gone */
	for (int i = 0; i < 500 && pthread_tryjoin_np(p->t, NULL) == EBUSY; i++) {
		pthread_kill(p->t, SIGURG);
		usleep(10000);
	}
}

static int wk_prep_create(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);

	lesson_args(rt, 3, (long long)p->s[0][0], (long long)p->s[1][0], (long long)p->s[2][0]);
	return 0;
}

static int wk_create(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);

	p->epfd = W.ep_create(false);
	if (p->epfd < 0)
		return -1;
	lesson_epfd(rt, 0, p->epfd);
	for (int i = 0; i < 3; i++) {
		int fd = p->s[i][0];

		if (W.ctl(p->epfd, EPOLL_CTL_ADD, fd, EPOLLIN, workload_tag(p->epfd, fd), 0))
			return -1;
	}
	lesson_args(rt, 4, (long long)p->s[0][0], (long long)p->s[1][0], (long long)p->s[2][0],
		    (long long)p->epfd);
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 0, NULL);
	return W.expect(p->epfd) || W.expect_ready(p->epfd, 0) ? -1 : 0;
}

static int wk_sleep(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);
	int err = pthread_create(&p->t, NULL, sleeper, p);

	if (err)
		return W.fail("pthread_create: %s", strerror(err));
	p->started = true;
	if (sem_wait_s(&p->up, 5, "the sleeping thread did not start") ||
	    lesson_await_asleep(rt, p->tid))
		return -1;
	lesson_arg(rt, 4, p->tid);
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 1, &p->tid);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_WAKEUPS, p->epfd, 0, NULL);
	return W.expect_ready(p->epfd, 0);
}

/* the two sends, with no chance for the sleeper to run between them */
static int send_both(struct wakeup *p)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };
	cpu_set_t was;
	int err, r;

	if (sched_getaffinity(0, sizeof(was), &was))
		return W.fail("sched_getaffinity: %s", strerror(errno));
	if (pin(p->cpu))
		return W.fail("sched_setaffinity: %s", strerror(errno));
	err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo);
	if (err) {
		sched_setaffinity(0, sizeof(was), &was);
		return W.fail("SCHED_FIFO for the two sends: %s (needs CAP_SYS_NICE)",
			      strerror(err));
	}
	r = send_bytes(p->s[0][1], 16) || send_bytes(p->s[2][1], 16) ? -1 : 0;
	/* here the sleeper, woken by the first send, gets the CPU */
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
	sched_setaffinity(0, sizeof(was), &was);
	return r;
}

static int wk_data(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);

	if (send_both(p) || sem_wait_s(&p->ret1, 5, "the woken thread did not return"))
		return -1;
	if (p->r1 != 2)
		return W.fail("the kernel disagrees: the woken thread's epoll_wait returned %d, "
			      "expected 2", p->r1);
	lesson_arg(rt, 5, p->r1);
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 2, (int[]){ p->s[0][0], p->s[2][0] });
	/* woken once: the second callback finds wq empty (or the thread running) */
	lesson_expect(LESSON_EXPECT_WAKEUPS, p->epfd, 1, &p->tid);
	/* level-triggered and not read: ep_send_events put both back */
	return W.expect_ready(p->epfd, 2, p->s[0][0], p->s[2][0]);
}

static int wk_again(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);

	sem_post(&p->go2);
	if (lesson_await_asleep(rt, p->tid))
		return -1;
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 1, &p->tid);
	/* reading wakes the sender's socket (EPOLLOUT), which no epitem watches */
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_WAKEUPS, p->epfd, 0, NULL);
	return W.expect_ready(p->epfd, 0);
}

static int wk_one(struct lesson_rt *rt)
{
	struct wakeup *p = lesson_priv(rt);

	if (send_bytes(p->s[1][1], 16) || sem_wait_s(&p->ret2, 5, "the woken thread did not return"))
		return -1;
	pthread_join(p->t, NULL);
	p->started = false;
	if (p->r2 != 1)
		return W.fail("the kernel disagrees: epoll_wait returned %d, expected 1", p->r2);
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, 1, &p->s[1][0]);
	lesson_expect(LESSON_EXPECT_WAKEUPS, p->epfd, 1, &p->tid);
	return W.expect_ready(p->epfd, 1, p->s[1][0]);
}

static const struct lesson_step wakeup_steps[] = {
	{
		.before = N_("An epoll instance is about to be made, watching three sockets for "
			     "EPOLLIN: socket 1 (fd {0}), socket 2 (fd {1}) and socket 3 (fd {2})."),
		.after = N_("ep_alloc made the eventpoll (epfd {3}); ep_insert linked three "
			    "epitems into rbr and hooked ep_poll_callback onto each socket's wait "
			    "queue. rdllist and wq are empty."),
		.hooks = "do_epoll_create,ep_insert,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.prepare = wk_prep_create,
		.run = wk_create,
	},
	{
		.before = N_("A thread is about to call epoll_wait() on epfd {3} with nothing "
			     "ready."),
		.after = N_("ep_poll found rdllist empty, so it added thread {4} to wq "
			    "(__add_wait_queue_exclusive) and the thread went to sleep in "
			    "schedule_hrtimeout_range. It stays asleep until ep_poll_callback "
			    "wakes wq."),
		.hooks = "do_epoll_wait,ep_poll",
		.touched = ET_LT_WQ,
		.run = wk_sleep,
	},
	{
		.before = N_("Data is about to arrive on socket 1 (fd {0}) and socket 3 (fd {2}) "
			     "at once, while thread {4} sleeps."),
		.after = N_("Each socket called ep_poll_callback: it ran twice and put both "
			    "epitems on rdllist. The first call woke the thread on wq; by the time "
			    "it ran, both were queued. It ran ep_send_events, which copied two "
			    "events to user space: epoll_wait returned {5}. Level-triggered and "
			    "not yet read, both epitems went back on rdllist."),
		.hooks = "ep_poll_callback,ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ | ET_LT_POLLWAIT,
		.run = wk_data,
	},
	{
		.before = N_("Thread {4} is about to read sockets 1 and 3 empty and call "
			     "epoll_wait() again."),
		.after = N_("ep_send_events took rdllist, polled both epitems again, found them "
			    "no longer readable and dropped them. Nothing left to report: ep_poll "
			    "put thread {4} on wq again and it sleeps."),
		.hooks = "ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ,
		.run = wk_again,
	},
	{
		.before = N_("Data is about to arrive on socket 2 (fd {1}) alone."),
		.after = N_("ep_poll_callback ran once, queued socket 2's epitem on rdllist and "
			    "woke thread {4}; ep_send_events copied one event and put the epitem "
			    "back on rdllist (level-triggered, not read)."),
		.hooks = "ep_poll_callback,ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_WQ | ET_LT_POLLWAIT,
		.run = wk_one,
	},
};

const struct lesson lesson_wakeup = {
	.name = "wakeup",
	.title = N_("Sleep and wakeup: data on sockets 1 and 3 wakes one thread"),
	.seed = "000_eff1739510b3b6d7.txt: \"핵심 구성 요소와 상호작용\" (the figure: "
		"sockets 1 and 3), \"epoll_wait: 이벤트 발생을 기다리다\", "
		"\"ep_poll_callback: 이벤트 발생을 epoll에게 알리는 시작\", \"그림 요약\" 1-3",
	.ninst = 1,
	.priv_size = sizeof(struct wakeup),
	.setup = wk_setup,
	.teardown = wk_teardown,
	.steps = wakeup_steps,
	.nsteps = sizeof(wakeup_steps) / sizeof(wakeup_steps[0]),
};

/* ---- 3. Level- vs edge-triggered ------------------------------------------- */

/* one socket watched by two instances: the same data reaches both */
struct lt_et {
	int lt, et;
	int s[2];
};

static int le_setup(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);

	p->lt = p->et = -1;
	return sock_pair(p->s);
}

static void le_args(struct lesson_rt *rt, struct lt_et *p, int bytes)
{
	lesson_args(rt, 4, (long long)p->lt, (long long)p->et, (long long)p->s[0],
		    (long long)bytes);
}

static int le_expect(struct lt_et *p, bool lt_ready, bool et_ready, bool callbacks)
{
	lesson_expect(LESSON_EXPECT_WAITERS, p->lt, 0, NULL);
	lesson_expect(LESSON_EXPECT_WAITERS, p->et, 0, NULL);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->lt, callbacks, &p->s[0]);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->et, callbacks, &p->s[0]);
	if ((lt_ready ? W.expect_ready(p->lt, 1, p->s[0]) : W.expect_ready(p->lt, 0)) ||
	    (et_ready ? W.expect_ready(p->et, 1, p->s[0]) : W.expect_ready(p->et, 0)))
		return -1;
	return 0;
}

static int le_create(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);
	int fd = p->s[0];

	p->lt = W.ep_create(false);
	p->et = W.ep_create(false);
	if (p->lt < 0 || p->et < 0)
		return -1;
	lesson_epfd(rt, 0, p->lt);
	lesson_epfd(rt, 1, p->et);
	if (W.ctl(p->lt, EPOLL_CTL_ADD, fd, EPOLLIN, workload_tag(p->lt, fd), 0) ||
	    W.ctl(p->et, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, workload_tag(p->et, fd), 0))
		return -1;
	le_args(rt, p, 0);
	return W.expect(p->lt) || W.expect(p->et) ? -1 : le_expect(p, false, false, false);
}

static int le_prep(struct lesson_rt *rt, int bytes)
{
	le_args(rt, lesson_priv(rt), bytes);
	return 0;
}

static int le_prep_100(struct lesson_rt *rt) { return le_prep(rt, 100); }
static int le_prep_10(struct lesson_rt *rt) { return le_prep(rt, 10); }
static int le_prep_90(struct lesson_rt *rt) { return le_prep(rt, 90); }
static int le_prep_50(struct lesson_rt *rt) { return le_prep(rt, 50); }

static int le_send(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);

	return send_bytes(p->s[1], 100) ? -1 : le_expect(p, true, true, true);
}

static int le_wait_both(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);

	return wait_now(p->lt, 1) || wait_now(p->et, 1) ? -1 : le_expect(p, true, false, false);
}

static int le_read_some(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);

	if (recv_bytes(p->s[0], 10) || wait_now(p->lt, 1) || wait_now(p->et, 0))
		return -1;
	return le_expect(p, true, false, false);
}

static int le_read_rest(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);

	if (recv_bytes(p->s[0], 90) || wait_now(p->lt, 0) || wait_now(p->et, 0))
		return -1;
	return le_expect(p, false, false, false);
}

static int le_again(struct lesson_rt *rt)
{
	struct lt_et *p = lesson_priv(rt);

	if (send_bytes(p->s[1], 50) || wait_now(p->lt, 1) || wait_now(p->et, 1))
		return -1;
	return le_expect(p, true, false, true);
}

static const struct lesson_step lt_et_steps[] = {
	{
		.before = N_("Two epoll instances are about to watch the same socket: on the "
			     "left level-triggered (EPOLLIN), on the right edge-triggered "
			     "(EPOLLIN|EPOLLET)."),
		.after = N_("Each instance has its own epitem for socket fd {2} in its rbr "
			    "(left epfd {0}, right epfd {1}), and each hooked its own "
			    "ep_poll_callback onto the socket's wait queue."),
		.hooks = "do_epoll_create,ep_insert,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.run = le_create,
	},
	{
		.before = N_("{3} bytes are about to arrive on the socket."),
		.after = N_("The socket woke its wait queue: ep_poll_callback ran once for each "
			    "instance and put each epitem on its instance's rdllist. So far LT "
			    "and ET look the same."),
		.hooks = "ep_poll_callback",
		.touched = ET_LT_RDLLIST | ET_LT_POLLWAIT,
		.prepare = le_prep_100,
		.run = le_send,
	},
	{
		.before = N_("epoll_wait() is about to be called on both instances, without "
			     "reading the data."),
		.after = N_("Both returned 1 event. ep_send_events took each rdllist and copied "
			    "the event; for the level-triggered item it put the epitem back on "
			    "rdllist, for the edge-triggered one it did not. Left rdllist: the "
			    "socket; right rdllist: empty."),
		.hooks = "ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST,
		.run = le_wait_both,
	},
	{
		.before = N_("{3} bytes are about to be read (the rest stays in the socket), "
			     "then epoll_wait() on both."),
		.after = N_("Left (LT): ep_send_events polled the epitem again, found data still "
			    "there, reported it again and re-queued it. Right (ET): rdllist was "
			    "empty and reading does not call ep_poll_callback, so epoll_wait "
			    "returned 0: ET reports an arrival once."),
		.hooks = "ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST,
		.prepare = le_prep_10,
		.run = le_read_some,
	},
	{
		.before = N_("The remaining {3} bytes are about to be read, then epoll_wait() "
			     "on both."),
		.after = N_("Left (LT): ep_send_events polled the queued epitem, found the socket "
			    "drained and dropped it from rdllist: 0 events. Right (ET): 0 events. "
			    "LT re-queues an item until it is drained."),
		.hooks = "ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST,
		.prepare = le_prep_90,
		.run = le_read_rest,
	},
	{
		.before = N_("{3} new bytes are about to arrive, then epoll_wait() on both."),
		.after = N_("A new arrival: ep_poll_callback ran for both instances again, so "
			    "both reported 1 event. The LT epitem is back on the left rdllist; "
			    "the ET one is not."),
		.hooks = "ep_poll_callback,ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_POLLWAIT,
		.prepare = le_prep_50,
		.run = le_again,
	},
};

const struct lesson lesson_lt_et = {
	.name = "lt-et",
	.title = N_("Level- vs edge-triggered, side by side on the same data"),
	.seed = "003_0a696f50e1d8ac4c.txt: \"2. 레벨 트리거와 엣지 트리거\"; "
		"000_eff1739510b3b6d7.txt: \"epoll_wait: 이벤트 발생을 기다리다\" "
		"(ep_send_events)",
	.ninst = 2,
	.priv_size = sizeof(struct lt_et),
	.setup = le_setup,
	.steps = lt_et_steps,
	.nsteps = sizeof(lt_et_steps) / sizeof(lt_et_steps[0]),
};

/* ---- 4. EPOLLONESHOT -------------------------------------------------------- */

struct oneshot {
	int epfd;
	int s[2];
};

static int os_setup(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);

	p->epfd = -1;
	return sock_pair(p->s);
}

static int os_ready(struct oneshot *p, bool ready, bool callback)
{
	lesson_expect(LESSON_EXPECT_WAITERS, p->epfd, 0, NULL);
	lesson_expect(LESSON_EXPECT_CALLBACKS, p->epfd, callback, &p->s[0]);
	return ready ? W.expect_ready(p->epfd, 1, p->s[0]) : W.expect_ready(p->epfd, 0);
}

static int os_create(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);
	int fd = p->s[0];

	p->epfd = W.ep_create(false);
	if (p->epfd < 0)
		return -1;
	lesson_epfd(rt, 0, p->epfd);
	lesson_args(rt, 2, (long long)p->epfd, (long long)fd);
	if (W.ctl(p->epfd, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLONESHOT, workload_tag(p->epfd, fd),
		  0) || W.expect(p->epfd))
		return -1;
	return os_ready(p, false, false);
}

static int os_send(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);

	return send_bytes(p->s[1], 16) ? -1 : os_ready(p, true, true);
}

static int os_wait1(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);

	return wait_now(p->epfd, 1) ? -1 : os_ready(p, false, false);
}

static int os_send_more(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);

	/* the callback runs, and leaves the disarmed item alone */
	if (send_bytes(p->s[1], 16) || wait_now(p->epfd, 0))
		return -1;
	return os_ready(p, false, true);
}

static int os_rearm(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);
	int fd = p->s[0];

	if (W.ctl(p->epfd, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, workload_tag(p->epfd, fd),
		  0))
		return -1;
	/* ep_modify polls the file itself: no callback */
	return os_ready(p, true, false);
}

static int os_wait2(struct lesson_rt *rt)
{
	struct oneshot *p = lesson_priv(rt);

	return wait_now(p->epfd, 1) ? -1 : os_ready(p, false, false);
}

static const struct lesson_step oneshot_steps[] = {
	{
		.before = N_("An epoll instance is about to watch a socket for "
			     "EPOLLIN|EPOLLONESHOT."),
		.after = N_("ep_insert linked the epitem for fd {1} into rbr of epfd {0} with "
			    "events IN|ONESHOT, and hooked ep_poll_callback onto the socket."),
		.hooks = "do_epoll_create,ep_insert,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_POLLWAIT,
		.run = os_create,
	},
	{
		.before = N_("Data is about to arrive on fd {1}."),
		.after = N_("ep_poll_callback found the epitem armed (IN) and put it on "
			    "rdllist."),
		.hooks = "ep_poll_callback",
		.touched = ET_LT_RDLLIST | ET_LT_POLLWAIT,
		.run = os_send,
	},
	{
		.before = N_("epoll_wait() is about to be called; the data stays unread."),
		.after = N_("ep_send_events copied one event, then, because of EPOLLONESHOT, "
			    "disarmed the epitem (events &= EP_PRIVATE_BITS: only ONESHOT is "
			    "left) instead of putting it back on rdllist. rdllist is empty though "
			    "the socket is still readable."),
		.hooks = "ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_RBR,
		.run = os_wait1,
	},
	{
		.before = N_("More data is about to arrive on fd {1}, then epoll_wait()."),
		.after = N_("ep_poll_callback ran, saw that the epitem asks for no events any "
			    "more and left it off rdllist: epoll_wait returned 0. A disarmed item "
			    "stays silent whatever arrives."),
		.hooks = "ep_poll_callback,ep_poll",
		.touched = ET_LT_RDLLIST | ET_LT_POLLWAIT,
		.run = os_send_more,
	},
	{
		.before = N_("epoll_ctl(MOD) is about to re-arm fd {1} with "
			     "EPOLLIN|EPOLLONESHOT."),
		.after = N_("ep_modify set the events again and polled the socket: data is "
			    "waiting, so it put the epitem on rdllist at once."),
		.hooks = "do_epoll_ctl,ep_modify,ep_item_poll",
		.touched = ET_LT_RBR | ET_LT_RDLLIST,
		.run = os_rearm,
	},
	{
		.before = N_("epoll_wait() is about to be called again."),
		.after = N_("One event, and ep_send_events disarmed the epitem again: one event "
			    "per arming, the pattern that hands a connection to one worker at "
			    "a time."),
		.hooks = "ep_poll,ep_send_events",
		.touched = ET_LT_RDLLIST | ET_LT_RBR,
		.run = os_wait2,
	},
};

const struct lesson lesson_oneshot = {
	.name = "oneshot",
	.title = N_("EPOLLONESHOT: disarmed after one event, re-armed with MOD"),
	.seed = "not in the seeds: it extends 003_0a696f50e1d8ac4c.txt \"2. 레벨 트리거와 "
		"엣지 트리거\" and 000_eff1739510b3b6d7.txt \"epoll_wait\" (ep_send_events)",
	.ninst = 1,
	.priv_size = sizeof(struct oneshot),
	.setup = os_setup,
	.steps = oneshot_steps,
	.nsteps = sizeof(oneshot_steps) / sizeof(oneshot_steps[0]),
};
