/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_GROW_H
#define EPOLLTRACE_GROW_H

#include <stddef.h>

/*
 * The one array grower: make *arr (elements of sz bytes, room for *cap)
 * hold at least need elements, doubling; the new room is zeroed.  Returns
 * 0, or -1 when out of memory or the size would overflow (then *arr and
 * *cap are unchanged).
 */
int et_grow(void **arr, size_t *cap, size_t need, size_t sz);

#endif
