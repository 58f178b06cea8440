// SPDX-License-Identifier: GPL-2.0
/*
 * tests/chains.sh's workload: a thread that waits in epoll_wait at the end
 * of a known three-level call chain, chain_outer -> chain_middle ->
 * chain_inner, built with and without frame pointers.  Each level uses
 * what the next returns, so -O2 makes no tail call of it (a tail call
 * leaves no frame to unwind), and none is inlined.  Built with
 * -DCHAIN_DEEP, chain_inner's frame is 16 KiB: past the 8 KiB of stack BPF
 * copies, where the DWARF unwind ends and the frame-pointer chain goes on.
 *
 *   chain_load SECONDS [alt]   wait in a loop for that long (timeouts of 20 ms);
 *                              alt: every other wait from chain_middle (a
 *                              second wait site, one frame shallower)
 *   chain_load 0 block         one wait with no timeout, until killed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile int sink;
static int timeout_ms = 20;

NOINLINE static int chain_inner(int ep)
{
	struct epoll_event ev[4];
#ifdef CHAIN_DEEP
	volatile char pad[16384];

	pad[0] = pad[sizeof(pad) - 1] = 1;
#endif
	int n = epoll_wait(ep, ev, 4, timeout_ms);

	sink += n;
	return n + 1;
}

NOINLINE static int chain_middle(int ep)
{
	int n = chain_inner(ep);

	sink += n;
	return n + 2;
}

NOINLINE static int chain_outer(int ep)
{
	int n = chain_middle(ep);

	sink += n;
	return n + 3;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	int alt = argc > 2 && !strcmp(argv[2], "alt"), i = 0;
	struct epoll_event ev = { .events = EPOLLIN };
	struct timespec t0, t;
	int ep = epoll_create1(0), efd = eventfd(0, 0);

	if (argc > 2 && !strcmp(argv[2], "block"))
		timeout_ms = -1;
	if (ep < 0 || efd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev)) {
		perror("chain_load");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sink += alt && i++ % 2 ? chain_middle(ep) : chain_outer(ep);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return 0;
}
