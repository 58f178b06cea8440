// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kallsyms.h"

int kallsyms_name_matches(const char *sym, const char *name)
{
	size_t n = strlen(name);
	static const char *const clones[] = { ".isra.", ".constprop.", ".part." };

	if (strncmp(sym, name, n))
		return 0;
	if (sym[n] == '\0')
		return 1;
	for (size_t i = 0; i < sizeof(clones) / sizeof(clones[0]); i++) {
		size_t l = strlen(clones[i]);
		const char *p = sym + n + l;

		if (strncmp(sym + n, clones[i], l) || *p < '0' || *p > '9')
			continue;
		while (*p >= '0' && *p <= '9')
			p++;
		/* nested clones: ep_insert.constprop.0.isra.0 */
		if (*p == '\0' || *p == '.')
			return !strstr(p, ".cold");
	}
	return 0;
}

int kallsyms_resolve(struct ksym_query *q, size_t n)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], sym[128], type;
	unsigned long long addr;

	for (size_t i = 0; i < n; i++) {
		q[i].found[0] = '\0';
		q[i].addr = 0;
	}
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) != 3)
			continue;
		if (type != 't' && type != 'T')
			continue;
		for (size_t i = 0; i < n; i++) {
			/* prefer the exact name over a clone */
			if (q[i].found[0] && !strcmp(q[i].found, q[i].name))
				continue;
			if (!kallsyms_name_matches(sym, q[i].name))
				continue;
			if (q[i].found[0] && strcmp(sym, q[i].name))
				continue;
			snprintf(q[i].found, sizeof(q[i].found), "%s", sym);
			q[i].addr = addr;
		}
	}
	fclose(f);
	return 0;
}
