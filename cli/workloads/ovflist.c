// SPDX-License-Identifier: GPL-2.0
/*
 * The "ovflist" scenario: an item that ep_poll_callback queues on
 * ep->ovflist instead of rdllist, made to happen every time.
 *
 * ep_send_events (fs/eventpoll.c, the same from 5.11 to 6.12 and later)
 * takes ep->mtx, sets ep->ovflist to NULL (ep_start_scan: from then on
 * a callback chains its item on ovflist) and copies each ready item out
 * with __put_user (epoll_put_uevent); ep_done_scan splices ovflist back
 * onto rdllist and sets it to EP_UNACTIVE_PTR again.  The window is
 * normally a few microseconds wide.  Here the wait's events buffer is a
 * page registered with userfaultfd (missing mode) that nobody has touched:
 * the copy of the first event faults, and handle_userfault
 * (mm/userfaultfd.c) puts the waiting thread to sleep inside that window,
 * ep->mtx held, until the main thread resolves the fault.  Meanwhile the
 * main thread writes to a second eventfd of the same instance: its
 * callback finds ovflist active and chains the item there.  It is on
 * rdllist only once the wait's ep_done_scan has run, and the next wait
 * returns it.
 *
 * The fault comes from kernel mode (the copy out), which userfaultfd
 * allows unless the fd was made with UFFD_USER_MODE_ONLY; a process
 * without CAP_SYS_PTRACE may not ask for kernel-mode faults when
 * vm.unprivileged_userfaultfd is 0, so the scenario needs root there.
 *
 * With --gate the main thread holds the fault at a third gate, "hold",
 * until SIGUSR1, so that a tracer can take a snapshot of the instance
 * while it scans, with the second eventfd on ovflist.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "workload_ops.h"

#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323	/* x86_64 */
#endif

#define OVF_WAIT_MS	5000	/* bound on every wait that must not time out */

#define W (&workload_ops)

struct ovf {
	int ep, a, b;		/* a: ready before the wait; b: made ready during it */
	int uffd;
	void *page;		/* registered, untouched: the first wait's buffer */
	long pagesz;
	pthread_t th;
	int rc;			/* the waiter's result, read after the join */
};

/*
 * The waiter: a wait whose copy-out faults (it returns a alone), then a
 * wait that returns b, which the fault's handler made ready meanwhile.
 */
static void *waiter_main(void *arg)
{
	struct ovf *o = arg;
	struct epoll_event *ev = o->page;
	int n;

	W->truth("\"t\":\"thread\"");
	n = W->wait(o->ep, ev, 4, OVF_WAIT_MS);
	if (n < 0) {
		o->rc = W->fail("epoll_wait(%d) on the userfaultfd page: %s", o->ep,
				strerror(errno));
		return NULL;
	}
	/* b came during this wait's copy-out: on ovflist, not in this batch */
	if (n != 1 || ev[0].data.u64 != workload_tag(o->ep, o->a) || ev[0].events != EPOLLIN) {
		o->rc = W->fail("the kernel disagrees: the held wait returned %d events "
				"(first: data %#llx events %#x), expected eventfd %d alone", n,
				n > 0 ? (unsigned long long)ev[0].data.u64 : 0ULL,
				n > 0 ? ev[0].events : 0, o->a);
		return NULL;
	}
	if (W->drain(o->a)) {
		o->rc = -1;
		return NULL;
	}
	/* ep_done_scan spliced b from ovflist onto rdllist */
	o->rc = W->wait_one(o->ep, workload_tag(o->ep, o->b), EPOLLIN,
			    "ovflist: the item queued during the copy-out");
	if (!o->rc)
		o->rc = W->drain(o->b);
	return NULL;
}

static int uffd_setup(struct ovf *o)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_THREAD_ID };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	o->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (o->uffd < 0)
		return W->fail("userfaultfd: %s%s", strerror(errno),
			       errno == EPERM ? " (kernel-mode faults need CAP_SYS_PTRACE or "
			       "vm.unprivileged_userfaultfd=1)" : "");
	if (ioctl(o->uffd, UFFDIO_API, &api))
		return W->fail("UFFDIO_API: %s", strerror(errno));
	o->pagesz = sysconf(_SC_PAGESIZE);
	o->page = mmap(NULL, o->pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (o->page == MAP_FAILED) {
		o->page = NULL;
		return W->fail("mmap: %s", strerror(errno));
	}
	reg.range.start = (uintptr_t)o->page;
	reg.range.len = o->pagesz;
	if (ioctl(o->uffd, UFFDIO_REGISTER, &reg))
		return W->fail("UFFDIO_REGISTER: %s", strerror(errno));
	return 0;
}

/* the waiter's copy-out faulted on the page: its message, bounded */
static int await_fault(struct ovf *o)
{
	struct pollfd p = { .fd = o->uffd, .events = POLLIN };
	struct uffd_msg msg;
	ssize_t len;
	int n;

	do
		n = poll(&p, 1, OVF_WAIT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return W->fail("poll(userfaultfd): %s", strerror(errno));
	if (n == 0)
		return W->fail("the wait's copy-out did not fault within %d ms", OVF_WAIT_MS);
	len = read(o->uffd, &msg, sizeof(msg));
	if (len != sizeof(msg))
		return W->fail("read(userfaultfd): %s", len < 0 ? strerror(errno) : "short");
	if (msg.event != UFFD_EVENT_PAGEFAULT ||
	    (msg.arg.pagefault.address & ~(uint64_t)(o->pagesz - 1)) != (uintptr_t)o->page)
		return W->fail("userfaultfd: event %#x at %#llx, expected a fault on %p",
			       msg.event, (unsigned long long)msg.arg.pagefault.address, o->page);
	W->truth("\"t\":\"uffd_fault\",\"write\":%s,\"waiter\":%u",
		 msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? "true" : "false",
		 msg.arg.pagefault.feat.ptid);
	return 0;
}

/* maps a zeroed page there and wakes the faulting thread */
static int resolve_fault(struct ovf *o)
{
	static char zero[1 << 16] __attribute__((aligned(4096)));
	struct uffdio_copy cp = {
		.dst = (uintptr_t)o->page, .src = (uintptr_t)zero, .len = o->pagesz,
	};

	if (o->pagesz > (long)sizeof(zero))
		return W->fail("page size %ld", o->pagesz);
	if (ioctl(o->uffd, UFFDIO_COPY, &cp))
		return W->fail("UFFDIO_COPY: %s", strerror(errno));
	return 0;
}

/* bounded: the waiter's second wait has a timeout of its own */
static int join_waiter(struct ovf *o)
{
	struct timespec dl;
	int err;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2 * OVF_WAIT_MS / 1000 + 1;
	err = pthread_timedjoin_np(o->th, NULL, &dl);
	if (err)
		return W->fail("joining the waiter: %s", strerror(err));
	return o->rc;
}

int sc_ovflist(int scale)
{
	static struct ovf o;	/* the waiter may outlive a failed join */
	bool started = false, resolved = false;
	int r = -1, err;

	(void)scale;
	memset(&o, 0, sizeof(o));
	o.uffd = -1;
	o.ep = W->ep_create(false);
	if (o.ep < 0)
		return -1;
	o.a = W->make_eventfd();
	o.b = W->make_eventfd();
	/* edge-triggered: a wait puts neither back, so each is returned once */
	if (o.a < 0 || o.b < 0 ||
	    W->ctl(o.ep, EPOLL_CTL_ADD, o.a, EPOLLIN | EPOLLET, workload_tag(o.ep, o.a), 0) ||
	    W->ctl(o.ep, EPOLL_CTL_ADD, o.b, EPOLLIN | EPOLLET, workload_tag(o.ep, o.b), 0) ||
	    uffd_setup(&o))
		goto out;
	/* a on rdllist: the wait goes straight to ep_send_events, no sleep */
	if (W->bump_eventfd(o.a))
		goto out;
	err = pthread_create(&o.th, NULL, waiter_main, &o);
	if (err) {
		W->fail("pthread_create: %s", strerror(err));
		goto out;
	}
	started = true;
	/* the waiter now sleeps in handle_userfault, ep->mtx held, ovflist active */
	if (await_fault(&o) || W->bump_eventfd(o.b) || W->hold("hold"))
		goto out;
	resolved = !resolve_fault(&o);
	if (!resolved)
		goto out;
	r = 0;
out:
	/* a waiter left asleep on the fault: unregistering the range wakes it */
	if (started && !resolved && o.page) {
		struct uffdio_range rg = { (uintptr_t)o.page, o.pagesz };

		ioctl(o.uffd, UFFDIO_UNREGISTER, &rg);
	}
	if (started && join_waiter(&o))
		return -1;	/* o.page stays mapped: the waiter may still use it */
	if (o.page)
		munmap(o.page, o.pagesz);
	if (o.uffd >= 0)
		close(o.uffd);
	if (r || W->failed())
		return -1;
	/* both delivered, edge-triggered: nothing is put back */
	return W->expect(o.ep) || W->expect_ready(o.ep, 0) ? -1 : 0;
}
