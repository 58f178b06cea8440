/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_KALLSYMS_H
#define EPOLLTRACE_KALLSYMS_H

#include <stddef.h>

/*
 * Resolve kernel text symbols by name from /proc/kallsyms.  A function the
 * compiler cloned appears as name.isra.N / name.constprop.N / name.part.N:
 * those count as the function; name.cold does not (not an entry point).
 */
struct ksym_query {
	const char *name;	/* in */
	char found[128];	/* out: exact symbol name, "" if absent */
	unsigned long long addr; /* out: 0 if absent or hidden */
};

/* Fills every query in one pass.  Returns 0, or -errno if unreadable. */
int kallsyms_resolve(struct ksym_query *q, size_t n);

/* Does sym match name exactly or as a compiler clone of it? */
int kallsyms_name_matches(const char *sym, const char *name);

#endif
