// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chains.h"
#include "grow.h"

void chains_apply(struct chains *c, const struct et_ev_wait_chain *e)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].hdr.tid == e->hdr.tid) {
			c->v[i] = *e;
			return;
		}
	}
	if (et_grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v)))
		return;	/* out of memory: the chain is not shown, the rest goes on */
	c->v[c->n++] = *e;
}

const struct et_ev_wait_chain *chains_find(const struct chains *c, __u32 tid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].hdr.tid == tid)
			return &c->v[i];
	return NULL;
}

void chains_forget(struct chains *c, __u32 pid, __u32 tid)
{
	for (size_t i = 0; i < c->n;) {
		if (tid ? c->v[i].hdr.tid == tid : c->v[i].hdr.pid == pid)
			c->v[i] = c->v[--c->n];
		else
			i++;
	}
}

void chains_free(struct chains *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

const char *chain_frame_text(const struct et_chain_frame *f, char *buf, size_t size)
{
	if (f->sym[0])
		snprintf(buf, size, "%.*s", (int)sizeof(f->sym), f->sym);
	else if (f->module[0] && f->offset)
		snprintf(buf, size, "%.*s+0x%llx", (int)sizeof(f->module), f->module,
			 (unsigned long long)f->offset);
	else if (f->module[0])
		snprintf(buf, size, "%.*s@0x%llx", (int)sizeof(f->module), f->module,
			 (unsigned long long)f->addr);
	else
		snprintf(buf, size, "0x%llx", (unsigned long long)f->addr);
	return buf;
}

const char *chain_frame_name(const struct et_chain_frame *f, char *buf, size_t size)
{
	const char *plus;

	chain_frame_text(f, buf, size);
	plus = f->sym[0] ? strrchr(buf, '+') : NULL;
	if (plus && plus != buf)
		buf[plus - buf] = '\0';
	return buf;
}

const char *chains_method_name(unsigned int method)
{
	switch (method) {
	case ET_CHAIN_FP:
		return "fp";
	case ET_CHAIN_DWARF:
		return "dwarf";
	case ET_CHAIN_DWARF_FP:
		return "dwarf+fp";
	}
	return "none";
}
