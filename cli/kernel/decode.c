// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "grow.h"

static const struct {
	const char *name;
	size_t size;
} types[ET_EV_MAX] = {
	[ET_EV_EP_CREATE] = { "ep_create", sizeof(struct et_ev_create) },
	[ET_EV_EP_CLOSE] = { "ep_close", sizeof(struct et_ev_close) },
	[ET_EV_CTL] = { "ctl", sizeof(struct et_ev_ctl) },
	[ET_EV_RELEASE] = { "release", sizeof(struct et_ev_release) },
	[ET_EV_CALLBACK] = { "callback", sizeof(struct et_ev_callback) },
	[ET_EV_WAIT_ENTER] = { "wait_enter", sizeof(struct et_ev_wait_enter) },
	[ET_EV_SLEEP] = { "sleep", sizeof(struct et_ev_sleep) },
	[ET_EV_WAKEUP] = { "wakeup", sizeof(struct et_ev_wakeup) },
	[ET_EV_WAIT_EXIT] = { "wait_exit", sizeof(struct et_ev_wait_exit) },
	[ET_EV_SEND_EVENTS] = { "send_events", sizeof(struct et_ev_send_events) },
	[ET_EV_SNAP_BEGIN] = { "snap_begin", sizeof(struct et_ev_snap_begin) },
	[ET_EV_SNAP_ITEMS] = { "snap_items", sizeof(struct et_ev_snap_items) },
	[ET_EV_SNAP_READY] = { "snap_ready", sizeof(struct et_ev_snap_ready) },
	[ET_EV_SNAP_WAITERS] = { "snap_waiters", sizeof(struct et_ev_snap_waiters) },
	[ET_EV_SNAP_END] = { "snap_end", sizeof(struct et_ev_snap_end) },
	[ET_EV_TASK_EXIT] = { "task_exit", sizeof(struct et_ev_task_exit) },
	[ET_EV_FORK] = { "fork", sizeof(struct et_ev_fork) },
	[ET_EV_LOST] = { "lost", sizeof(struct et_ev_lost) },
	[ET_EV_STATS] = { "stats", sizeof(struct et_ev_stats) },
	[ET_EV_SCAN] = { "scan", sizeof(struct et_ev_scan) },
	[ET_EV_SNAP_ROUND] = { "snap_round", sizeof(struct et_ev_snap_round) },
	[ET_EV_EP_INSERT] = { "ep_insert", sizeof(struct et_ev_ep_insert) },
	[ET_EV_EP_POLL] = { "ep_poll", sizeof(struct et_ev_ep_poll) },
	[ET_EV_EP_SEND_EVENTS] = { "ep_send_events", sizeof(struct et_ev_ep_send_events) },
	[ET_EV_SHARER] = { "sharer", sizeof(struct et_ev_sharer) },
	[ET_EV_LESSON] = { "lesson", sizeof(struct et_ev_lesson) },
	[ET_EV_SNAP_SHAPE] = { "snap_shape", sizeof(struct et_ev_snap_shape) },
	[ET_EV_WAIT_RUN] = { "wait_run", sizeof(struct et_ev_wait_run) },
	[ET_EV_WAIT_CHAIN] = { "wait_chain", sizeof(struct et_ev_wait_chain) },
};

size_t et_record_size(unsigned int type)
{
	return type < ET_EV_MAX ? types[type].size : 0;
}

const char *et_type_name(unsigned int type)
{
	return type < ET_EV_MAX && types[type].name ? types[type].name : "unknown";
}

const char *et_src_name(unsigned int src)
{
	static const char *const n[] = { "tracepoint", "fentry", "kprobe", "iter", "sched",
					 "user", "inline" };

	return src <= ET_SRC_INLINE ? n[src] : "unknown";
}

int et_record_check(const void *data, size_t size)
{
	const struct et_hdr *h = data;
	size_t want;

	if (size < sizeof(*h))
		return -EINVAL;
	want = et_record_size(h->type);
	if (!want || size != want)
		return -EINVAL;
	switch (h->type) {
	case ET_EV_SNAP_ITEMS:
		return ((const struct et_ev_snap_items *)data)->n <= ET_SNAP_BATCH ? 0 : -EINVAL;
	case ET_EV_SNAP_READY:
		return ((const struct et_ev_snap_ready *)data)->n <= ET_SNAP_BATCH ? 0 : -EINVAL;
	case ET_EV_SNAP_SHAPE:
		return ((const struct et_ev_snap_shape *)data)->n <= ET_SNAP_BATCH ? 0 : -EINVAL;
	case ET_EV_SNAP_WAITERS:
		return ((const struct et_ev_snap_waiters *)data)->n <= ET_SNAP_BATCH ? 0 : -EINVAL;
	case ET_EV_WAIT_EXIT:
		return ((const struct et_ev_wait_exit *)data)->ncopied <= ET_WAIT_MAX_EVENTS ?
		       0 : -EINVAL;
	case ET_EV_SCAN:
		return ((const struct et_ev_scan *)data)->n <= ET_WAIT_MAX_EVENTS ? 0 : -EINVAL;
	case ET_EV_WAIT_CHAIN: {
		const struct et_ev_wait_chain *c = data;

		if (c->nframes > ET_CHAIN_FRAMES || c->method > ET_CHAIN_DWARF_FP)
			return -EINVAL;
		for (int i = 0; i < c->nframes; i++)
			if (!memchr(c->frame[i].sym, 0, sizeof(c->frame[i].sym)) ||
			    !memchr(c->frame[i].module, 0, sizeof(c->frame[i].module)))
				return -EINVAL;
		return 0;
	}
	case ET_EV_LESSON: {
		const struct et_ev_lesson *l = data;

		/* strings are shown and translated: each must end inside its field */
		if (l->nargs > ET_LESSON_ARGS || l->phase > ET_LESSON_END ||
		    !memchr(l->lesson, 0, sizeof(l->lesson)) ||
		    !memchr(l->hooks, 0, sizeof(l->hooks)) || !memchr(l->text, 0, sizeof(l->text)))
			return -EINVAL;
		return 0;
	}
	}
	return 0;
}

/* grow *arr to hold need elements of size sz */
static int grow(void **arr, __u32 *cap, __u32 need, size_t sz)
{
	size_t c = *cap;

	if (et_grow(arr, &c, need, sz) || c > UINT32_MAX)
		return -ENOMEM;
	*cap = (__u32)c;
	return 0;
}

/* append n elements of size sz to the growing array *arr of *len */
static int append(void **arr, __u32 *len, __u32 *cap, const void *src, __u32 n, size_t sz)
{
	if (grow(arr, cap, *len + n, sz))
		return -ENOMEM;
	memcpy((char *)*arr + (size_t)*len * sz, src, (size_t)n * sz);
	*len += n;
	return 0;
}

/* an address and the position of its item in tree order */
struct addr_pos {
	__u64 addr;
	__s32 pos;
};

static int addr_cmp(const void *a, const void *b)
{
	__u64 x = ((const struct addr_pos *)a)->addr, y = ((const struct addr_pos *)b)->addr;

	return x < y ? -1 : x > y;
}

static __s32 addr_find(const struct addr_pos *m, __u32 n, __u64 addr, bool *bad)
{
	struct addr_pos key = { .addr = addr };
	const struct addr_pos *f;

	if (!addr)
		return -1;
	f = bsearch(&key, m, n, sizeof(*m), addr_cmp);
	if (!f)
		*bad = true;
	return f ? f->pos : -1;
}

int et_shape_resolve(struct et_snapshot *s, const struct et_snap_node *raw)
{
	struct addr_pos *m;
	bool bad = false;
	int roots = 0;

	s->root = -1;
	if (grow((void **)&s->tree, &s->cap_tree, s->nitems ? s->nitems : 1, sizeof(*s->tree)))
		return -1;
	m = calloc(s->nitems ? s->nitems : 1, sizeof(*m));
	if (!m)
		return -1;
	for (__u32 i = 0; i < s->nitems; i++) {
		m[i].addr = raw[i].node;
		m[i].pos = (__s32)i;
	}
	qsort(m, s->nitems, sizeof(*m), addr_cmp);
	for (__u32 i = 1; i < s->nitems; i++)
		if (m[i].addr == m[i - 1].addr)
			bad = true;	/* one node listed twice */
	for (__u32 i = 0; i < s->nitems; i++) {
		struct et_tree_node *t = &s->tree[i];

		t->left = addr_find(m, s->nitems, raw[i].left, &bad);
		t->right = addr_find(m, s->nitems, raw[i].right, &bad);
		t->parent = addr_find(m, s->nitems, raw[i].parent_color & ~3ULL, &bad);
		t->black = raw[i].parent_color & 1;
		if (!(raw[i].parent_color & ~3ULL)) {
			s->root = (__s32)i;
			roots++;
		}
	}
	free(m);
	if (roots != (s->nitems ? 1 : 0))
		bad = true;
	return bad ? -1 : 0;
}

const struct et_snapshot *snap_asm_feed(struct snap_asm *a, const struct et_hdr *h, size_t size)
{
	struct et_snapshot *s = &a->cur;

	if (et_record_check(h, size))
		return NULL;
	if (h->type == ET_EV_SNAP_ROUND) {
		if (a->open) {	/* the last snapshot never ended */
			a->open = false;
			a->incomplete++;
			a->incomplete_round++;
		}
		memcpy(&a->round, h, sizeof(a->round));
		if (a->incomplete_round)
			a->round.hdr.flags |= ET_F_TRUNCATED;
		a->incomplete_round = 0;
		a->round_ready = true;
		return NULL;
	}
	if (h->type == ET_EV_SNAP_BEGIN) {
		const struct et_ev_snap_begin *b = (const void *)h;

		if (a->open) {
			a->incomplete++;
			a->incomplete_round++;
		}
		a->open = true;
		s->hdr = b->hdr;
		s->in = b->in;
		s->seq = b->seq;
		s->watched = b->watched;
		s->flags = 0;
		s->nitems = s->nready = s->nwaiters = 0;
		s->has_counters = false;
		s->has_shape = false;
		s->root = -1;
		s->nraw = 0;
		s->nstale = 0;
		return NULL;
	}
	if (!a->open)
		return NULL;
	switch (h->type) {
	case ET_EV_SNAP_ITEMS: {
		const struct et_ev_snap_items *r = (const void *)h;

		__u32 first = s->nitems;

		if (r->ep != s->in.ep || append((void **)&s->items, &s->nitems, &s->cap_items,
						r->item, r->n, sizeof(*s->items)))
			break;
		for (__u32 i = 0; i < r->n && i < 32; i++) {
			__u32 pos = first + i;

			if ((r->stale >> i & 1) && append((void **)&s->stale, &s->nstale,
							  &s->cap_stale, &pos, 1, sizeof(pos)))
				break;
		}
		return NULL;
	}
	case ET_EV_SNAP_SHAPE: {
		const struct et_ev_snap_shape *r = (const void *)h;

		if (r->ep != s->in.ep)
			break;
		/* node[i] goes with item[i] of the batch just before it; a shape
		 * batch lost or out of step costs the shape, not the snapshot */
		if (s->nraw == UINT32_MAX || s->nraw + r->n != s->nitems ||
		    append((void **)&s->raw, &s->nraw, &s->cap_raw, r->node, r->n, sizeof(*s->raw)))
			s->nraw = UINT32_MAX;
		return NULL;
	}
	case ET_EV_SNAP_READY: {
		const struct et_ev_snap_ready *r = (const void *)h;

		if (r->ep != s->in.ep || append((void **)&s->ready, &s->nready, &s->cap_ready,
						r->fd, r->n, sizeof(*s->ready)))
			break;
		return NULL;
	}
	case ET_EV_SNAP_WAITERS: {
		const struct et_ev_snap_waiters *r = (const void *)h;

		if (r->ep != s->in.ep || append((void **)&s->waiters, &s->nwaiters,
						&s->cap_waiters, r->tid, r->n,
						sizeof(*s->waiters)))
			break;
		return NULL;
	}
	case ET_EV_SNAP_END: {
		const struct et_ev_snap_end *e = (const void *)h;

		if (e->in.ep != s->in.ep || e->seq != s->seq)
			break;
		a->open = false;
		s->flags = e->hdr.flags;
		if (!(s->flags & ET_F_FDS_CHECKED))
			s->nstale = 0;
		/* a part lost in the ring leaves the counts short: that part
		 * may lack a batch anywhere, so it proves nothing absent */
		if (s->nitems != e->nitems)
			s->flags |= ET_F_TRUNCATED | ET_F_ITEMS_CUT;
		if (s->nready != e->nready)
			s->flags |= ET_F_TRUNCATED | ET_F_READY_CUT;
		if (s->nwaiters != e->nwaiters)
			s->flags |= ET_F_TRUNCATED | ET_F_WAITERS_CUT;
		if (s->watched < 0)
			s->watched = s->nitems;
		/* a shape whose links name other nodes than the items walked:
		 * the tree moved under the walk */
		if ((s->flags & ET_F_SHAPE) && s->nraw == s->nitems) {
			s->has_shape = true;
			if (et_shape_resolve(s, s->raw))
				s->flags |= ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
		}
		return s;
	}
	default:
		return NULL;
	}
	/* a part that does not belong: the snapshot is incomplete */
	a->open = false;
	a->incomplete++;
	a->incomplete_round++;
	return NULL;
}

const struct et_hdr *snap_asm_round(struct snap_asm *a)
{
	if (!a->round_ready)
		return NULL;
	a->round_ready = false;
	return &a->round.hdr;
}

void snap_asm_free(struct snap_asm *a)
{
	free(a->cur.items);
	free(a->cur.ready);
	free(a->cur.waiters);
	free(a->cur.tree);
	free(a->cur.raw);
	free(a->cur.stale);
	memset(a, 0, sizeof(*a));
}
