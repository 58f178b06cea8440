/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_EVMASK_H
#define EPOLLTRACE_EVMASK_H

#include <stdio.h>
#include <linux/types.h>

/*
 * An epoll events mask in words, the one form every human view uses:
 * "IN|ONESHOT", "IN|OUT|ET", EPOLLEXCLUSIVE as EXCLUSIVE; the kernel's
 * private bits by name too (NVAL, URING_WAKE), a bit with no name as
 * BIT<n>, never hex.  "none" for 0.  JSON keeps its numbers.
 * Header-only: the model (its drift notes) and the views share it
 * without another object in their unit tests' builds.
 */
static inline char *et_mask_str(__u32 mask, char *buf, size_t len)
{
	static const struct { __u32 bit; const char *name; } bits[] = {
		{ 0x001, "IN" }, { 0x004, "OUT" }, { 0x002, "PRI" }, { 0x008, "ERR" },
		{ 0x010, "HUP" }, { 0x020, "NVAL" }, { 0x2000, "RDHUP" }, { 0x040, "RDNORM" },
		{ 0x080, "RDBAND" }, { 0x100, "WRNORM" }, { 0x200, "WRBAND" },
		{ 0x400, "MSG" },
		/* EPOLL_URING_WAKE: io_uring's eventfd wakeups carry it in the key */
		{ 1u << 27, "URING_WAKE" },
		{ 1u << 28, "EXCLUSIVE" }, { 1u << 29, "WAKEUP" }, { 1u << 30, "ONESHOT" },
		{ 1u << 31, "ET" },
	};
	__u32 rest = mask;
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(mask & bits[i].bit))
			continue;
		rest &= ~bits[i].bit;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", bits[i].name);
	}
	for (int b = 0; b < 32; b++)
		if (rest & (1u << b))
			n += snprintf(buf + n, n < len ? len - n : 0, "%sBIT%d", n ? "|" : "", b);
	if (!mask)
		snprintf(buf, len, "none");
	return buf;
}

#endif
