// SPDX-License-Identifier: GPL-2.0
/*
 * The "rbtree" scenario: an interest set whose red-black tree (ep->rbr)
 * must rotate and recolour, in an order the workload controls.
 *
 * ep_insert links each epitem by ep_cmp_ffd (fs/eventpoll.c, the same
 * from 4.x to 6.18): by struct file address, then by fd.  File addresses
 * are the allocator's, but the fds of one file differ by their number
 * only: a file dup'd into many fds gives keys in fd order.  So the first
 * eventfd's fds go in ascending (every insert on the right spine: left
 * rotations), the second's descending (right rotations), and every third
 * of the first group is removed again (rb_erase's rebalancing).  What is
 * left stays for the final snapshot, which tests/check_tree.py checks:
 * a valid red-black tree whose in-order walk is fdinfo's order.
 */
#include <stdint.h>
#include <sys/epoll.h>
#include "workload_ops.h"

#define W (&workload_ops)

/* fds per group at scale 1: enough for a tree of height 5 or 6 */
#define RB_GROUP	24

int sc_rbtree(int scale)
{
	int n = RB_GROUP * scale, ep, a, b;
	int fa[RB_GROUP * 4], fb[RB_GROUP * 4];

	if (n > RB_GROUP * 4)
		n = RB_GROUP * 4;
	ep = W->ep_create(false);
	a = W->make_eventfd();
	b = W->make_eventfd();
	if (ep < 0 || a < 0 || b < 0)
		return -1;
	fa[0] = a;
	fb[0] = b;
	for (int i = 1; i < n; i++) {
		fa[i] = W->dup_fd(a);
		fb[i] = W->dup_fd(b);
		if (fa[i] < 0 || fb[i] < 0)
			return -1;
	}
	/* the lowest free fd each time: fa[] and fb[] ascend */
	for (int i = 0; i < n; i++)
		if (W->ctl(ep, EPOLL_CTL_ADD, fa[i], EPOLLIN, workload_tag(ep, fa[i]), 0))
			return -1;
	for (int i = n - 1; i >= 0; i--)
		if (W->ctl(ep, EPOLL_CTL_ADD, fb[i], EPOLLIN, workload_tag(ep, fb[i]), 0))
			return -1;
	for (int i = 1; i < n; i += 3)
		if (W->ctl(ep, EPOLL_CTL_DEL, fa[i], 0, 0, 0))
			return -1;
	return W->expect(ep);
}
