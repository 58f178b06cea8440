// SPDX-License-Identifier: GPL-2.0
/*
 * The epoll state model.  It mirrors, per instance, what fs/eventpoll.c
 * keeps: the interest set (rb-tree of epitems keyed by file and fd), the
 * ready list (rdllist) and the wait queue, and it follows the kernel's
 * rules for them (level vs edge, one-shot disarming, removal dropping an
 * item from the ready list, a closed instance dropping everything).
 *
 * Snapshots correct it.  A snapshot is walked at one moment while events
 * keep arriving, so a comparison is only sound for what did not change
 * near the walk: the interest set is compared item by item, skipping the
 * items a record touched near the walk (in flight), and the ready list
 * and waiters are compared only when nothing happened to them near it.
 * A walk that raced changes to the tree (no lock is held) is still sound
 * for what it lists; what it does not list is taken as gone only when a
 * second walk agrees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "model.h"

/*
 * A removal derived at close()'s entry (tracepoint mode): the kernel may
 * still hold the item until the deferred fput runs, so walks that still
 * show it do not resurrect it until one no longer does.
 */
struct tomb {
	__s32 fd;
	__u64 file;
};

/* the newest record that changed the item of an fd (hash slot) */
struct touch {
	__s32 fd;
	bool used;
	__u64 ts;
};

/* an item a walk that raced changes did not list: gone if the next agrees */
struct suspect {
	__s32 fd;
	__u64 file;
	__u64 ts;	/* of the walk */
};

/*
 * An interest-set correction not yet counted as drift: the walk may have
 * seen an epoll_ctl or close that was still in flight, whose record comes
 * after (tracepoint records are written at syscall exit, or entry).  A
 * record for the fd from after the walk began explains it; otherwise the
 * next snapshot counts it.
 */
struct pending_fix {
	__s32 fd;
	bool counts;		/* not a seeding or resyncing snapshot */
	__u64 snap_ts;
	const char *note;	/* a literal */
};

/*
 * The three parts of an instance a snapshot shows.  A record written at a
 * function's entry (fentry, kprobe, sys_enter, sched_wakeup) comes before
 * the change it announces; one written at exit (fexit, sys_exit) comes
 * after it; a lock wait or a preemption can lie in between.  A walk near
 * such a record may show the state before or after it, so each part is
 * trusted only when no record touching it came within MODEL_SETTLE_NS of
 * the walk.  Sessions deliver a snapshot only after the stream has run
 * MODEL_SETTLE_NS past it, so records written after the walk are known.
 */
enum { PART_ITEMS, PART_READY, PART_WAITERS, PART_MAX };
#define TOUCH_ITEMS	(1u << PART_ITEMS)
#define TOUCH_READY	(1u << PART_READY)
#define TOUCH_WAITERS	(1u << PART_WAITERS)
#define TOUCH_ALL	(TOUCH_ITEMS | TOUCH_READY | TOUCH_WAITERS)

/* per-instance bookkeeping the views never see */
struct inst_priv {
	struct model_inst pub;
	__u64 last_ns[PART_MAX];	/* the newest record touching each part */
	struct pending_fix *fixes;
	size_t nfix, cap_fix;
	struct tomb *tombs;		/* pending removals */
	size_t ntomb, cap_tomb;
	struct touch *touch;		/* fd -> newest change, open addressing */
	size_t ntouch, cap_touch;	/* cap_touch: 0 or a power of 2 */
	struct suspect *sus;
	size_t nsus, cap_sus;
	__u64 last_round;		/* the last snapshot round that walked it */
	bool lost_resync;		/* records were lost: corrections are not drift */
	bool partial_seed;		/* seeded from a walk that was no exact picture */
	bool reseed;			/* reopened: the next walk seeds it anew */
	unsigned int agree;		/* raced walks in a row that found nothing to correct */
	struct inline_priv *ilp;	/* open transfers, pending inserts; NULL until needed */
};

static void *grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	if (et_grow(&arr, cap, need, sz))
		abort();	/* the model cannot be half-updated */
	return arr;
}

/*
 * The inline rung's pairs, per instance.  A transfer is open from the
 * ep_send_events record of a thread to the ep_done_scan of the same
 * thread: threads are told apart because several can be inside
 * ep_send_events at once (they queue on ep->mtx, each with its own
 * window).  An ep_insert waits for the ctl record of its thread, written
 * when do_epoll_ctl returns.
 */
struct open_transfer {
	__u32 tid;
	__u64 start_ns;
};

struct pending_insert {
	__u32 tid;
	__s32 fd;
	__u32 events;		/* 0: not readable at the site */
	__u64 file;
};

struct inline_priv {
	struct open_transfer *xfer;
	size_t nxfer, cap_xfer;
	struct pending_insert *ins;
	size_t nins, cap_ins;
	/* ready items marked ovflist since the window opened (or fewer: some
	 * may have left the list); 0: no mark to clear at its end */
	size_t marked;
};

static void inline_free(struct inline_priv *x)
{
	if (!x)
		return;
	free(x->xfer);
	free(x->ins);
	free(x);
}

/* 0 for 0, else floor(log2(v)) + 1, capped */
unsigned int model_bucket(__u64 v)
{
	unsigned int b = 0;

	while (v && b < MODEL_HIST_BUCKETS - 1) {
		v >>= 1;
		b++;
	}
	return b;
}

void model_init(struct model *m, bool callbacks_visible)
{
	memset(m, 0, sizeof(*m));
	m->callbacks_visible = callbacks_visible;
	detect_init(&m->det);
}

static void inst_free(struct model_inst *in)
{
	inline_free(((struct inst_priv *)in)->ilp);
	anatomy_free(&in->anat);
	detect_inst_free(in->det);
	free(((struct inst_priv *)in)->tombs);
	free(((struct inst_priv *)in)->touch);
	free(((struct inst_priv *)in)->sus);
	free(((struct inst_priv *)in)->fixes);
	free(in->items);
	free(in->ready);
	free(in->waiters);
	free(in->tree.nodes);
	free(in);
}

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->ninst; i++)
		inst_free(m->inst[i]);
	free(m->inst);
	free(m->procs);
	detect_free(&m->det);
	chains_free(&m->chains);
	memset(m, 0, sizeof(*m));
}

struct model_inst *model_find(const struct model *m, __u64 ep)
{
	/* newest first: an address can be reused after a close */
	for (size_t i = m->ninst; i > 0; i--)
		if (m->inst[i - 1]->in.ep == ep && !m->inst[i - 1]->closed_ns)
			return m->inst[i - 1];
	return NULL;
}

static struct model_inst *inst_new(struct model *m, const struct et_inst *in, __u64 created)
{
	struct inst_priv *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	p->pub.in = *in;
	p->pub.created_ns = created;
	m->inst = grow(m->inst, &m->cap_inst, m->ninst + 1, sizeof(*m->inst));
	m->inst[m->ninst++] = &p->pub;
	return &p->pub;
}

/*
 * The instance a record is about.  A record naming a closed instance's
 * address is about that instance, not a new one there: a callback in
 * flight on another CPU at the close, a wait that held the file past
 * close() (tracepoint mode closes at close()'s entry).  A new instance at
 * that address comes with its ep_create, or with a snapshot
 * (model_apply_snapshot reopens one walked well after its close).
 */
static struct model_inst *inst_get(struct model *m, const struct et_inst *in)
{
	struct model_inst *i = model_find(m, in->ep);

	for (size_t k = m->ninst; !i && k > 0; k--)
		if (m->inst[k - 1]->in.ep == in->ep)
			return m->inst[k - 1];
	return i ? i : inst_new(m, in, 0);
}

static struct inst_priv *priv(struct model_inst *in)
{
	return (struct inst_priv *)in;
}

static struct model_proc *proc_get(struct model *m, __u32 pid)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	m->procs = grow(m->procs, &m->cap_procs, m->nprocs + 1, sizeof(*m->procs));
	m->procs[m->nprocs] = (struct model_proc){ .pid = pid };
	return &m->procs[m->nprocs++];
}

bool model_shares(const struct model_proc *p, const struct model_inst *in)
{
	return p->shares_ep && p->shares_ep == in->in.ep && !p->exited_ns;
}

size_t model_sharers(const struct model *m, const struct model_inst *in)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nprocs; i++)
		n += model_shares(&m->procs[i], in);
	return n;
}

/* ---- interest set ------------------------------------------------------ */

static int item_cmp(__s32 fd, __u64 file, const struct model_item *it)
{
	if (fd != it->fd)
		return fd < it->fd ? -1 : 1;
	if (!file || !it->file || file == it->file)
		return 0;
	return file < it->file ? -1 : 1;
}

/* index of (fd, file), or -(insertion point) - 1 */
static long item_index(const struct model_inst *in, __s32 fd, __u64 file)
{
	size_t lo = 0, hi = in->nitems;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = item_cmp(fd, file, &in->items[mid]);

		if (!c)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(long)lo - 1;
}

const struct model_item *model_item_find(const struct model_inst *in, __s32 fd)
{
	long i = item_index(in, fd, 0);

	return i >= 0 ? &in->items[i] : NULL;
}

static struct model_item *item_add(struct model_inst *in, const struct model_item *it)
{
	long i = item_index(in, it->fd, it->file);

	if (i >= 0) {
		in->items[i] = *it;
		return &in->items[i];
	}
	i = -i - 1;
	in->items = grow(in->items, &in->cap_items, in->nitems + 1, sizeof(*in->items));
	memmove(in->items + i + 1, in->items + i, (in->nitems - i) * sizeof(*in->items));
	in->items[i] = *it;
	in->nitems++;
	return &in->items[i];
}

unsigned int model_asleep(const struct model_inst *in)
{
	unsigned int n = 0;

	for (size_t i = 0; i < in->nwaiters; i++)
		n += in->waiters[i].asleep;
	return n;
}

long model_ready_index(const struct model_inst *in, __s32 fd)
{
	for (size_t i = 0; i < in->nready; i++)
		if (in->ready[i].fd == fd)
			return i;
	return -1;
}

static void ready_del(struct model_inst *in, long i)
{
	memmove(in->ready + i, in->ready + i + 1, (in->nready - i - 1) * sizeof(*in->ready));
	in->nready--;
}

static void ready_add(struct model_inst *in, __s32 fd, __u32 events, __u64 ts)
{
	long i = model_ready_index(in, fd);

	if (i >= 0) {
		in->ready[i].events |= events;
		return;
	}
	in->ready = grow(in->ready, &in->cap_ready, in->nready + 1, sizeof(*in->ready));
	in->ready[in->nready++] = (struct model_ready){ .fd = fd, .events = events, .since_ns = ts };
}

static void item_del(struct model_inst *in, __s32 fd, __u64 file, bool pending)
{
	struct inst_priv *p = priv(in);
	long i = item_index(in, fd, file), r;

	if (i < 0)
		return;
	/* removal drops the item from the ready list too */
	r = model_ready_index(in, fd);
	if (r >= 0)
		ready_del(in, r);
	if (pending) {
		p->tombs = grow(p->tombs, &p->cap_tomb, p->ntomb + 1, sizeof(*p->tombs));
		p->tombs[p->ntomb++] = (struct tomb){ fd, in->items[i].file };
	}
	memmove(in->items + i, in->items + i + 1, (in->nitems - i - 1) * sizeof(*in->items));
	in->nitems--;
}

static bool pending_removal(const struct inst_priv *p, __s32 fd)
{
	for (size_t i = 0; i < p->ntomb; i++)
		if (p->tombs[i].fd == fd)
			return true;
	return false;
}

/* ---- changes per fd, for the comparison item by item ----------------------- */

static size_t touch_slot(const struct touch *t, size_t cap, __s32 fd)
{
	size_t i = ((__u32)fd * 2654435761u) & (cap - 1);

	while (t[i].used && t[i].fd != fd)
		i = (i + 1) & (cap - 1);
	return i;
}

/* rebuild with room for cap entries, keeping those changed at or after since */
static void touch_rehash(struct inst_priv *p, size_t cap, __u64 since)
{
	struct touch *t = calloc(cap, sizeof(*t));
	size_t n = 0;

	if (!t)
		abort();	/* the model cannot be half-updated */
	for (size_t i = 0; i < p->cap_touch; i++) {
		if (!p->touch[i].used || p->touch[i].ts < since)
			continue;
		t[touch_slot(t, cap, p->touch[i].fd)] = p->touch[i];
		n++;
	}
	free(p->touch);
	p->touch = t;
	p->cap_touch = cap;
	p->ntouch = n;
}

/* a record changed (or removed) the item of fd at ts */
static void touch_fd(struct model_inst *in, __s32 fd, __u64 ts)
{
	struct inst_priv *p = priv(in);
	size_t i;

	if ((p->ntouch + 1) * 2 > p->cap_touch)
		touch_rehash(p, p->cap_touch ? p->cap_touch * 2 : 16, 0);
	i = touch_slot(p->touch, p->cap_touch, fd);
	if (!p->touch[i].used) {
		p->touch[i] = (struct touch){ .fd = fd, .used = true };
		p->ntouch++;
	}
	if (ts > p->touch[i].ts)
		p->touch[i].ts = ts;
}

static __u64 touched_at(const struct inst_priv *p, __s32 fd)
{
	size_t i;

	if (!p->cap_touch)
		return 0;
	i = touch_slot(p->touch, p->cap_touch, fd);
	return p->touch[i].used ? p->touch[i].ts : 0;
}

/*
 * A walk at ts may show fd's item before or after a change recorded within
 * MODEL_SETTLE_NS of it, or after it (the records of the following
 * MODEL_SETTLE_NS are applied before the snapshot): in flight.
 */
static bool in_flight(const struct inst_priv *p, __s32 fd, __u64 ts)
{
	__u64 t = touched_at(p, fd);

	return (t && t + MODEL_SETTLE_NS >= ts) || pending_removal(p, fd);
}

static struct suspect *suspect_find(struct inst_priv *p, __s32 fd, __u64 file)
{
	for (size_t i = 0; i < p->nsus; i++)
		if (p->sus[i].fd == fd && (!file || !p->sus[i].file || p->sus[i].file == file))
			return &p->sus[i];
	return NULL;
}

static void suspect_drop(struct inst_priv *p, __s32 fd, __u64 file)
{
	struct suspect *x;

	while ((x = suspect_find(p, fd, file)))
		*x = p->sus[--p->nsus];
}

/* ---- waiters ------------------------------------------------------------- */

static struct model_waiter *waiter_find(struct model_inst *in, __u32 tid)
{
	for (size_t i = 0; i < in->nwaiters; i++)
		if (in->waiters[i].tid == tid)
			return &in->waiters[i];
	return NULL;
}

static void waiter_del(struct model_inst *in, __u32 tid)
{
	struct model_waiter *w = waiter_find(in, tid);

	if (!w)
		return;
	*w = in->waiters[--in->nwaiters];
}

static void inline_clear(struct model_inst *in);

static void inst_clear(struct model_inst *in)
{
	in->nitems = in->nready = in->nwaiters = 0;
	in->tree.present = false;
	inline_clear(in);
}

/* ---- events ------------------------------------------------------------- */

/* a record about fd from after a walk explains that walk's corrections */
static void explain_fixes(struct model_inst *in, __s32 fd, __u64 ts)
{
	struct inst_priv *p = (struct inst_priv *)in;
	size_t j = 0;

	for (size_t i = 0; i < p->nfix; i++)
		if (p->fixes[i].fd != fd || p->fixes[i].snap_ts > ts)
			p->fixes[j++] = p->fixes[i];
	p->nfix = j;
}

static struct model_inst *apply_ctl(struct model *m, const struct et_ev_ctl *e)
{
	struct model_inst *in = inst_get(m, &e->in);
	struct model_item it = { .fd = e->fd, .events = e->events, .data = e->data,
				 .file = e->file, .added_ns = e->hdr.ts_ns };
	long i;

	in->cnt.ctl++;
	if (e->ret)
		return in;
	explain_fixes(in, e->fd, e->hdr.ts_ns);
	touch_fd(in, e->fd, e->hdr.ts_ns);
	switch (e->op) {
	case ET_CTL_ADD:
		/* the kernel always adds EPOLLERR|EPOLLHUP */
		it.events |= 0x18;
		item_add(in, &it);
		in->tree.stale = true;	/* rb_insert_color may have rotated */
		break;
	case ET_CTL_MOD:
		i = item_index(in, e->fd, e->file);
		if (i < 0)
			break;
		/* re-arms a disarmed EPOLLONESHOT item; keeps EPOLLEXCLUSIVE */
		in->items[i].events = e->events | 0x18 |
				      (in->items[i].events & MODEL_EPOLLEXCLUSIVE);
		in->items[i].data = e->data;
		break;
	case ET_CTL_DEL:
		item_del(in, e->fd, e->file, false);
		in->tree.stale = true;
		break;
	}
	/*
	 * ep_insert and ep_modify poll the file and queue a ready item
	 * themselves, without ep_poll_callback: the record says where the
	 * item ended up.
	 */
	if (m->callbacks_visible && e->queued >= 0) {
		long r = model_ready_index(in, e->fd);

		if (e->queued && r < 0)
			ready_add(in, e->fd, 0, e->hdr.ts_ns);
		else if (!e->queued && r >= 0)
			ready_del(in, r);
	}
	return in;
}

static struct model_inst *apply_callback(struct model *m, const struct et_ev_callback *e)
{
	struct model_inst *in = inst_get(m, &e->in);
	long i = item_index(in, e->fd, 0);
	__u32 live;

	in->cnt.callbacks++;
	if (i < 0 || !m->callbacks_visible)
		return in;
	live = in->items[i].events & ~MODEL_EP_PRIVATE_BITS;
	/* a disarmed one-shot item, or a key it does not ask for: not queued */
	if (!live || (e->key && !(e->key & live)))
		return in;
	ready_add(in, e->fd, e->key & live, e->hdr.ts_ns);
	return in;
}

static void touch(struct model_inst *in, unsigned int parts, __u64 ts)
{
	for (int k = 0; k < PART_MAX; k++)
		if (parts & (1u << k) && ts > priv(in)->last_ns[k])
			priv(in)->last_ns[k] = ts;
}

/*
 * A level-triggered item the wait got, still on the list after its scan:
 * ep_send_events delivered it and put it back (list_add_tail) before
 * ep_done_scan.  Its time on the list ends there, and starts again.
 */
static void lt_put_back(struct model_inst *in, const struct model_item *it, __u64 scan_ns)
{
	long r = model_ready_index(in, it->fd);

	if (r < 0 || (it->events & (MODEL_EPOLLET | MODEL_EPOLLONESHOT)) ||
	    in->ready[r].since_ns >= scan_ns)
		return;		/* queued again after the scan: not this delivery */
	anatomy_add(&in->anat.h[ANAT_RESIDENCY], scan_ns - in->ready[r].since_ns);
	in->ready[r].since_ns = scan_ns;
}

static struct model_inst *apply_wait_exit(struct model *m, const struct et_ev_wait_exit *e)
{
	struct model_inst *in = inst_get(m, &e->in);
	struct model_waiter *w = waiter_find(in, e->hdr.tid);
	/* seen by a snapshot only: a real wait has maxevents >= 1 */
	bool entered = w && w->maxevents > 0;

	in->cnt.waits++;
	if (e->ret > 0) {
		in->cnt.events += e->ret;
		in->batch_hist[model_bucket(e->ret)]++;
	} else if (e->ret == 0 && e->slept_ns) {
		in->cnt.zero_wakeups++;
	}
	if (e->slept_ns)
		in->sleep_hist[model_bucket(e->slept_ns)]++;
	for (__u32 k = 0; k < e->ncopied; k++) {
		struct model_item *it = NULL;
		long r;

		/* the user buffer has data, not fds: find the item by data,
		 * preferring one that is on the ready list */
		for (size_t j = 0; j < in->nitems; j++) {
			if (in->items[j].data != e->ev[k].data)
				continue;
			it = &in->items[j];
			if (model_ready_index(in, it->fd) >= 0)
				break;
		}
		if (!it)
			continue;
		anatomy_delivered(&in->anat, e->hdr.tid, it->fd);
		if (it->events & MODEL_EPOLLONESHOT) {
			it->events &= MODEL_EP_PRIVATE_BITS;	/* disarmed until MOD */
			/* ep_send_events disarmed it, before this record */
			touch(in, TOUCH_ITEMS, e->hdr.ts_ns);
			touch_fd(in, it->fd, e->hdr.ts_ns);
			if (m->scans_seen)
				continue;
		}
		/* a scan record already said what the scan left on the list */
		if (m->scans_seen) {
			lt_put_back(in, it, anatomy_scan_ts(&in->anat, e->hdr.tid, e->hdr.ts_ns));
			continue;
		}
		r = model_ready_index(in, it->fd);
		/*
		 * A walk after this wait's return, applied before its record
		 * (the snapshot ring and the event ring are read apart):
		 * the item it pictured was queued again after this delivery.
		 */
		if (r >= 0 && in->ready[r].since_ns > e->hdr.ts_ns)
			r = -1;
		if (r >= 0) {
			in->ready_hist[model_bucket(e->hdr.ts_ns - in->ready[r].since_ns)]++;
			/* a walk from before the last delivery (sampled: snapshots
			 * are applied late) pictured the item queued then, not now */
			if (in->ready[r].since_ns >= it->delivered_ns)
				anatomy_add(&in->anat.h[ANAT_RESIDENCY],
					    e->hdr.ts_ns - in->ready[r].since_ns);
			ready_del(in, r);
		}
		it->delivered_ns = e->hdr.ts_ns;
		if (!(it->events & (MODEL_EPOLLET | MODEL_EPOLLONESHOT)) && m->callbacks_visible)
			ready_add(in, it->fd, e->ev[k].events, e->hdr.ts_ns); /* LT: back */
	}
	/*
	 * No scan record says what ep_send_events left on the list: a wait
	 * that returned fewer than maxevents scanned the whole list, so what
	 * was queued before it began and is not among its events was found
	 * not ready and dropped (an EPOLLEXCLUSIVE listener whose connection
	 * another instance took).  Kept, it would be "delivered" by a much
	 * later wait, with that whole time as its residency.
	 */
	if (!m->scans_seen && entered && e->ret >= 0 && e->ret < w->maxevents)
		for (size_t i = 0; i < in->nready;) {
			if (in->ready[i].since_ns <= w->since_ns)
				ready_del(in, (long)i);
			else
				i++;
		}
	anatomy_wait_exit(&in->anat, e, entered ? w->maxevents : 0, entered ? w->timeout_ns : -1);
	if (w)
		waiter_del(in, e->hdr.tid);
	return in;
}

/* the ready list as ep_send_events leaves it */
static struct model_inst *apply_scan(struct model *m, const struct et_ev_scan *e)
{
	struct model_inst *in = inst_get(m, &e->in);
	struct model_ready old[ET_WAIT_MAX_EVENTS * 4];
	size_t nold = in->nready < ET_WAIT_MAX_EVENTS * 4 ? in->nready : ET_WAIT_MAX_EVENTS * 4;

	m->scans_seen = true;
	anatomy_scan_begin(&in->anat, e->hdr.tid);
	if (!m->callbacks_visible)
		return in;
	if (e->truncated) {
		in->ready_unknown = true;
		return in;
	}
	if (nold)	/* in->ready is NULL before the first item */
		memcpy(old, in->ready, nold * sizeof(*old));
	/* what left the list was delivered (or found not ready): time on it */
	for (size_t i = 0; i < in->nready; i++) {
		bool stays = false;

		for (__u32 k = 0; k < e->n; k++)
			stays |= e->fd[k] == in->ready[i].fd;
		if (!stays) {
			in->ready_hist[model_bucket(e->hdr.ts_ns - in->ready[i].since_ns)]++;
			anatomy_taken(&in->anat, e->hdr.tid, in->ready[i].fd, in->ready[i].since_ns,
				      e->hdr.ts_ns);
		}
	}
	in->nready = 0;
	for (__u32 k = 0; k < e->n; k++) {
		__u64 since = e->hdr.ts_ns;

		for (size_t i = 0; i < nold; i++)
			if (old[i].fd == e->fd[k])
				since = old[i].since_ns;
		ready_add(in, e->fd[k], 0, since);
	}
	in->ready_unknown = false;
	return in;
}

static void close_owned(struct model *m, __u32 pid, __u64 ts)
{
	for (size_t i = 0; i < m->ninst; i++) {
		struct model_inst *in = m->inst[i];

		if (in->in.owner == pid && !in->closed_ns) {
			in->closed_ns = ts;
			inst_clear(in);
		}
	}
}

/* which parts of an instance a record of this type may change */
static unsigned int parts_touched(unsigned int type)
{
	switch (type) {
	case ET_EV_CTL:
	case ET_EV_RELEASE:
		return TOUCH_ITEMS | TOUCH_READY;
	case ET_EV_CALLBACK:	/* queues an item, and wakes the waiters */
	case ET_EV_WAIT_EXIT:	/* a scan ended, and a waiter left */
		return TOUCH_READY | TOUCH_WAITERS;
	case ET_EV_SCAN:
	case ET_EV_SEND_EVENTS:
	case ET_EV_EP_SEND_EVENTS:
		return TOUCH_READY;
	case ET_EV_EP_INSERT:	/* the item goes in, and on the ready list if ready */
		return TOUCH_ITEMS | TOUCH_READY;
	case ET_EV_EP_POLL:	/* the waiter may go to sleep */
		return TOUCH_WAITERS;
	case ET_EV_WAIT_ENTER:
	case ET_EV_SLEEP:
	case ET_EV_WAKEUP:
	case ET_EV_WAIT_RUN:
		return TOUCH_WAITERS;
	default:
		return TOUCH_ALL;
	}
}


/*
 * Is this record about a process that exited before it, whose pid the
 * tracer then let go (ET_F_UNTRACED: not when it traces every process)?
 * The pid may have been given to a new process at once, which was never
 * asked for (a fork the session follows takes it in again).  Records whose
 * hdr.pid is not the traced process (callbacks name the waker) are judged
 * by their instance.
 */
static bool after_exit(struct model *m, const struct et_hdr *h)
{
	switch (h->type) {
	case ET_EV_CALLBACK:
	case ET_EV_LOST:
	case ET_EV_STATS:
	case ET_EV_SNAP_ROUND:
	case ET_EV_TASK_EXIT:	/* a late thread of the group, or harmless */
		return false;
	}
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == h->pid)
			return m->procs[i].untraced && h->ts_ns > m->procs[i].exited_ns;
	return false;
}

static __u64 last_record_ns(const struct model_inst *in)
{
	__u64 t = 0;

	for (int k = 0; k < PART_MAX; k++)
		if (priv((struct model_inst *)in)->last_ns[k] > t)
			t = priv((struct model_inst *)in)->last_ns[k];
	return t;
}

/*
 * A complete round walked every instance a traced process (or one it
 * shares an instance with) holds.  An open instance it did not walk, that
 * existed before the round began and saw no record since, is gone: closed
 * where no record could see it (close-on-exec at exec, tracepoint mode).
 */
static void round_end(struct model *m, const struct et_ev_snap_round *e)
{
	if ((e->hdr.flags & ET_F_TRUNCATED) || e->drops)
		return;		/* an incomplete round proves nothing */
	for (size_t i = 0; i < m->ninst; i++) {
		struct model_inst *in = m->inst[i];

		if (in->closed_ns || priv(in)->last_round == e->seq ||
		    in->created_ns >= e->start_ns || last_record_ns(in) >= e->start_ns)
			continue;
		in->closed_ns = in->gone_ns = e->hdr.ts_ns;
		inst_clear(in);
	}
}

/* ---- the inline rung: ep_insert, ep_poll, ep_send_events ------------------ */

static struct inline_priv *ilp_get(struct model_inst *in)
{
	struct inst_priv *p = priv(in);

	if (!p->ilp) {
		p->ilp = calloc(1, sizeof(*p->ilp));
		if (!p->ilp)
			abort();	/* the model cannot be half-updated */
	}
	return p->ilp;
}

static long xfer_index(const struct inline_priv *x, __u32 tid)
{
	for (size_t i = 0; x && i < x->nxfer; i++)
		if (x->xfer[i].tid == tid)
			return i;
	return -1;
}

/*
 * Scanning while a transfer is open.  When the last one ends, ep_done_scan
 * has spliced ovflist back onto rdllist: no ready item is on ovflist now.
 */
static void scanning_update(struct model_inst *in)
{
	const struct inline_priv *x = priv(in)->ilp;

	in->il.scanning = x && x->nxfer;
	in->il.scan_since_ns = 0;
	for (size_t i = 0; in->il.scanning && i < x->nxfer; i++)
		if (!in->il.scan_since_ns || x->xfer[i].start_ns < in->il.scan_since_ns)
			in->il.scan_since_ns = x->xfer[i].start_ns;
	if (in->il.scanning || !x || !x->marked)
		return;
	for (size_t i = 0; i < in->nready; i++)
		in->ready[i].ovflist = false;
	priv(in)->ilp->marked = 0;
}

static void xfer_drop(struct model_inst *in, long i)
{
	struct inline_priv *x = priv(in)->ilp;

	x->xfer[i] = x->xfer[--x->nxfer];
	scanning_update(in);
}

/* the instance closed or records were lost: what was open will not end */
static void inline_clear(struct model_inst *in)
{
	struct inline_priv *x = priv(in)->ilp;

	if (!x)
		return;
	x->nins = 0;
	x->nxfer = 0;
	scanning_update(in);
}

static void inline_lost(struct model_inst *in)
{
	struct inline_priv *x = priv(in)->ilp;

	if (x)
		in->il.transfers_unended += x->nxfer;
	inline_clear(in);
}

static struct model_inst *apply_ep_send_events(struct model *m,
					       const struct et_ev_ep_send_events *e)
{
	struct model_inst *in = inst_get(m, &e->in);
	struct inline_priv *x = ilp_get(in);
	long i = xfer_index(x, e->hdr.tid);

	in->il.transfers++;
	if (i >= 0) {
		/* the thread's earlier transfer never ended (its record lost) */
		in->il.transfers_unended++;
		x->xfer[i].start_ns = e->hdr.ts_ns;
	} else {
		if (!x->nxfer)
			in->il.ovf_window = 0;
		x->xfer = grow(x->xfer, &x->cap_xfer, x->nxfer + 1, sizeof(*x->xfer));
		x->xfer[x->nxfer++] = (struct open_transfer){ e->hdr.tid, e->hdr.ts_ns };
	}
	scanning_update(in);
	return in;
}

/*
 * ep_done_scan of a thread that has a transfer open: it ends.  One
 * without (the epoll file itself polled, nested in another instance or
 * select(): __ep_eventpoll_poll scans too) is no transfer.
 */
static void transfer_end(struct model_inst *in, const struct et_hdr *h)
{
	struct inline_priv *x = priv(in)->ilp;
	long i = xfer_index(x, h->tid);
	__u64 d;

	if (i < 0)
		return;
	d = h->ts_ns > x->xfer[i].start_ns ? h->ts_ns - x->xfer[i].start_ns : 0;
	in->il.transfers_ended++;
	anatomy_add(&in->anat.h[ANAT_TRANSFER], d);
	in->il.transfer_last_ns = d;
	in->il.transfer_total_ns += d;
	if (d > in->il.transfer_max_ns)
		in->il.transfer_max_ns = d;
	xfer_drop(in, i);
}

/*
 * A callback inside a transfer window: ep_poll_callback chains the item on
 * ovflist -- if it gets that far: a disarmed one-shot item, or a key the
 * item does not ask for, leaves before (the record carries the item's
 * mask as the callback read it).
 */
static void callback_window(struct model_inst *in, const struct et_ev_callback *e)
{
	long r;

	if (!in->il.scanning || !(e->events & ~MODEL_EP_PRIVATE_BITS) ||
	    (e->key && !(e->key & e->events)))
		return;
	in->il.ovf_callbacks++;
	in->il.ovf_window++;
	r = model_ready_index(in, e->fd);
	if (r >= 0 && !in->ready[r].ovflist) {
		in->ready[r].ovflist = true;
		priv(in)->ilp->marked++;
	}
}

static struct model_inst *apply_ep_insert(struct model *m, const struct et_ev_ep_insert *e)
{
	struct model_inst *in = inst_get(m, &e->in);
	struct inline_priv *x = ilp_get(in);
	struct pending_insert pi = { e->hdr.tid, e->fd, e->events, e->file };
	size_t i;

	in->il.inserts++;
	in->tree.stale = true;
	touch_fd(in, e->fd, e->hdr.ts_ns);
	for (i = 0; i < x->nins && x->ins[i].tid != e->hdr.tid; i++)
		;
	if (i == x->nins)
		x->ins = grow(x->ins, &x->cap_ins, ++x->nins, sizeof(*x->ins));
	x->ins[i] = pi;
	return in;
}

/*
 * The ctl record of the thread whose ep_insert came before: the same
 * insertion, told twice.  The mask ep_insert got has EPOLLERR|EPOLLHUP
 * added, and EPOLLWAKEUP dropped without CAP_BLOCK_SUSPEND (do_epoll_ctl).
 */
static void insert_pair(struct model_inst *in, const struct et_ev_ctl *e)
{
	struct inline_priv *x = priv(in)->ilp;
	struct pending_insert pi;
	__u32 want = (e->events | 0x18) & ~MODEL_EPOLLWAKEUP;
	size_t i;

	for (i = 0; x && i < x->nins && x->ins[i].tid != e->hdr.tid; i++)
		;
	if (!x || i == x->nins) {
		if (e->op == ET_CTL_ADD && !e->ret)
			in->il.insert_unpaired++;
		return;
	}
	pi = x->ins[i];
	x->ins[i] = x->ins[--x->nins];
	if (e->op != ET_CTL_ADD)
		return;
	if (pi.fd != e->fd)
		snprintf(in->il.insert_note, sizeof(in->il.insert_note),
			 "ep_insert fd %d, ctl ADD fd %d", pi.fd, e->fd);
	else if (pi.events && (pi.events & ~MODEL_EPOLLWAKEUP) != want)
		snprintf(in->il.insert_note, sizeof(in->il.insert_note),
			 "fd %d: ep_insert mask 0x%x, ctl ADD 0x%x", e->fd, pi.events, want);
	else if (pi.file && e->file && pi.file != e->file)
		snprintf(in->il.insert_note, sizeof(in->il.insert_note),
			 "fd %d: ep_insert file 0x%llx, ctl ADD 0x%llx", e->fd,
			 (unsigned long long)pi.file, (unsigned long long)e->file);
	else
		return;
	in->il.insert_drift++;
}

static struct model_inst *apply_ep_poll(struct model *m, const struct et_ev_ep_poll *e)
{
	struct model_inst *in = inst_get(m, &e->in);

	in->il.polls++;
	in->il.poll_maxevents = e->maxevents;
	in->il.poll_deadline_ns = e->deadline_ns;
	in->il.poll_ts_ns = e->hdr.ts_ns;
	return in;
}

/* what the other records of an instance mean for the inline pairs */
static void inline_follow(struct model_inst *in, const struct et_hdr *h)
{
	long i;

	switch (h->type) {
	case ET_EV_CTL:
		insert_pair(in, (const void *)h);
		break;
	case ET_EV_CALLBACK:
		callback_window(in, (const void *)h);
		break;
	case ET_EV_SCAN:
		transfer_end(in, h);
		break;
	case ET_EV_WAIT_EXIT:
		/* the wait is over: a transfer of its thread still open had no end */
		i = xfer_index(priv(in)->ilp, h->tid);
		if (i >= 0) {
			in->il.transfers_unended++;
			xfer_drop(in, i);
		}
		break;
	}
}

/* apply_*() return the instance they changed: one lookup per record */
bool model_apply(struct model *m, const struct et_hdr *h)
{
	struct model_inst *in = NULL;

	m->records++;
	if (h->ts_ns > m->now_ns)
		m->now_ns = h->ts_ns;
	if (after_exit(m, h)) {
		m->ignored++;
		return false;
	}
	switch (h->type) {
	case ET_EV_EP_CREATE: {
		const struct et_ev_create *e = (const void *)h;
		struct model_inst *old = model_find(m, e->in.ep);

		if (old)	/* an address reused: the old one is gone */
			old->closed_ns = h->ts_ns;
		in = inst_new(m, &e->in, h->ts_ns);
		break;
	}
	case ET_EV_EP_CLOSE: {
		const struct et_ev_close *e = (const void *)h;

		in = model_find(m, e->in.ep);
		if (in) {
			in->closed_ns = h->ts_ns;
			inst_clear(in);
		}
		break;
	}
	case ET_EV_CTL:
		in = apply_ctl(m, (const void *)h);
		break;
	case ET_EV_RELEASE: {
		const struct et_ev_release *e = (const void *)h;

		in = inst_get(m, &e->in);
		/*
		 * A release seen at close()'s entry (tracepoint mode) happens
		 * when the syscall's deferred fput runs: until a snapshot no
		 * longer shows the item, the kernel may still hold it.
		 */
		item_del(in, e->fd, e->file, h->src == ET_SRC_TRACEPOINT);
		in->tree.stale = true;
		explain_fixes(in, e->fd, h->ts_ns);
		touch_fd(in, e->fd, h->ts_ns);
		break;
	}
	case ET_EV_CALLBACK:
		in = apply_callback(m, (const void *)h);
		break;
	case ET_EV_WAIT_ENTER: {
		const struct et_ev_wait_enter *e = (const void *)h;
		struct model_waiter w = { .tid = h->tid, .maxevents = e->maxevents,
					  .timeout_ns = e->timeout_ns, .since_ns = h->ts_ns };

		in = inst_get(m, &e->in);
		waiter_del(in, h->tid);
		in->waiters = grow(in->waiters, &in->cap_waiters, in->nwaiters + 1,
				   sizeof(*in->waiters));
		in->waiters[in->nwaiters++] = w;
		break;
	}
	case ET_EV_SLEEP:
	case ET_EV_WAKEUP: {
		const struct et_inst *ei = h->type == ET_EV_SLEEP ?
					   &((const struct et_ev_sleep *)h)->in :
					   &((const struct et_ev_wakeup *)h)->in;
		struct model_waiter *w;

		in = inst_get(m, ei);
		w = waiter_find(in, h->tid);
		if (h->type == ET_EV_WAKEUP)
			in->cnt.wakeups++;
		if (w) {
			w->asleep = h->type == ET_EV_SLEEP;
			w->asleep_since_ns = w->asleep ? h->ts_ns : 0;
		}
		break;
	}
	case ET_EV_WAIT_RUN: {
		const struct et_ev_wait_run *e = (const void *)h;

		in = inst_get(m, &e->in);
		anatomy_add(&in->anat.h[ANAT_WAKEUP], e->delay_ns);
		break;
	}
	case ET_EV_SCAN:
		in = apply_scan(m, (const void *)h);
		break;
	case ET_EV_WAIT_EXIT:
		in = apply_wait_exit(m, (const void *)h);
		break;
	case ET_EV_TASK_EXIT:
		/* a thread that exits while waiting stops being a waiter */
		for (size_t i = 0; i < m->ninst; i++) {
			anatomy_forget(&m->inst[i]->anat, h->tid);
			if (waiter_find(m->inst[i], h->tid)) {
				waiter_del(m->inst[i], h->tid);
				touch(m->inst[i], TOUCH_WAITERS, h->ts_ns);
			}
		}
		chains_forget(&m->chains, h->pid, h->flags & ET_F_GROUP_DEAD ? 0 : h->tid);
		if (h->flags & ET_F_GROUP_DEAD) {
			struct model_proc *pr = proc_get(m, h->pid);

			pr->exited_ns = h->ts_ns;
			pr->untraced = h->flags & ET_F_UNTRACED;
			close_owned(m, h->pid, h->ts_ns);
		}
		break;
	case ET_EV_FORK: {
		/* followed (-f): the child is traced, whatever its pid was before */
		struct model_proc *pr = proc_get(m, ((const struct et_ev_fork *)h)->child_pid);

		pr->exited_ns = 0;
		pr->untraced = false;
		break;
	}
	case ET_EV_SHARER:
		/* found holding a traced instance: traced like a target from now on */
		proc_get(m, h->pid)->shares_ep = ((const struct et_ev_sharer *)h)->in.ep;
		break;
	case ET_EV_SNAP_ROUND:
		round_end(m, (const void *)h);
		break;
	case ET_EV_WAIT_CHAIN: {
		const struct et_ev_wait_chain *e = (const void *)h;
		struct model_inst *wi = model_find(m, e->in.ep);

		chains_apply(&m->chains, e);
		/* the waiter's line changes: not the instance's state, so no follow */
		if (wi)
			touch(wi, TOUCH_WAITERS, h->ts_ns);
		break;
	}
	case ET_EV_EP_INSERT:
		in = apply_ep_insert(m, (const void *)h);
		break;
	case ET_EV_EP_POLL:
		in = apply_ep_poll(m, (const void *)h);
		break;
	case ET_EV_EP_SEND_EVENTS:
		in = apply_ep_send_events(m, (const void *)h);
		break;
	case ET_EV_LOST:
		m->lost += ((const struct et_ev_lost *)h)->count;
		/* we cannot know which: every instance is wrong until corrected */
		for (size_t i = 0; i < m->ninst; i++) {
			if (m->inst[i]->closed_ns)
				continue;
			m->inst[i]->resyncing = priv(m->inst[i])->lost_resync = true;
			priv(m->inst[i])->agree = 0;
			inline_lost(m->inst[i]);
			anatomy_lost(&m->inst[i]->anat);
		}
		break;
	}
	if (in) {
		inline_follow(in, h);
		anatomy_follow(&in->anat, h);
		touch(in, parts_touched(h->type), h->ts_ns);
	}
	detect_record(m, in, h);
	return true;
}

/* ---- snapshots ------------------------------------------------------------ */

/*
 * A snapshot's items by fd, for lookups in O(log n): the walk lists them
 * in rb-tree order (by file), and comparing 100k items with a model of
 * 100k items one by one made every snapshot quadratic.
 */
struct snap_ix {
	__s32 fd;
	__u64 file;
};

static int snap_ix_cmp(const void *a, const void *b)
{
	const struct snap_ix *x = a, *y = b;

	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return x->file < y->file ? -1 : x->file > y->file;
}

/* NULL (no items, or out of memory: then snap_has says yes, correcting nothing) */
static struct snap_ix *snap_index(const struct et_snapshot *s)
{
	struct snap_ix *ix = s->nitems ? malloc(s->nitems * sizeof(*ix)) : NULL;

	for (__u32 i = 0; ix && i < s->nitems; i++)
		ix[i] = (struct snap_ix){ s->items[i].fd, s->items[i].file };
	if (ix)
		qsort(ix, s->nitems, sizeof(*ix), snap_ix_cmp);
	return ix;
}

static bool snap_has(const struct et_snapshot *s, const struct snap_ix *ix, __s32 fd, __u64 file)
{
	size_t lo = 0, hi = s->nitems;

	if (!s->nitems)
		return false;
	if (!ix)
		return true;
	while (lo < hi) {	/* the first entry with this fd */
		size_t mid = (lo + hi) / 2;

		if (ix[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nitems && ix[lo].fd == fd; lo++)
		if (!file || !ix[lo].file || ix[lo].file == file)
			return true;
	return false;
}

static void fix_later(struct inst_priv *p, __s32 fd, __u64 ts, bool counts, const char *what)
{
	p->fixes = grow(p->fixes, &p->cap_fix, p->nfix + 1, sizeof(*p->fixes));
	p->fixes[p->nfix++] = (struct pending_fix){ .fd = fd, .counts = counts, .snap_ts = ts,
						    .note = what };
}

/* the newest closed instance with this address, lingering */
static struct model_inst *closed_find(const struct model *m, __u64 ep)
{
	for (size_t i = m->ninst; i > 0; i--)
		if (m->inst[i - 1]->in.ep == ep && m->inst[i - 1]->closed_ns)
			return m->inst[i - 1];
	return NULL;
}

/* which parts of a snapshot are not an exact picture (ET_F_*) */
static unsigned int snap_dirty(const struct et_snapshot *s)
{
	unsigned int d = s->flags & ET_F_SNAP_PARTS;

	/* a walk from before the parts were told apart: none is exact */
	if ((s->flags & ET_F_TRUNCATED) && !d)
		d = ET_F_SNAP_PARTS;
	return d;
}

static int tid_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* index of the first tid >= tid in a sorted array */
static size_t tid_lower(const __u32 *sorted, size_t n, __u32 tid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sorted[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool tid_in(const __u32 *sorted, size_t n, __u32 tid)
{
	size_t i = tid_lower(sorted, n, tid);

	return i < n && sorted[i] == tid;
}

/*
 * The waiters against the walked wait queue (thousands of threads can
 * sleep on one instance: lookups are sorted).  Kernel waiters the model
 * lacks are added, in queue order; model waiters asleep that the walk did
 * not find are dropped if the walk was whole.  True if they differed.
 */
static bool waiters_compare(struct model_inst *in, const struct et_snapshot *s, bool whole,
			    char *note, size_t notelen)
{
	size_t nm = in->nwaiters, nk = s->nwaiters;
	__u32 *kt = nk ? malloc(nk * sizeof(*kt)) : NULL;
	__u32 *mt = nm ? malloc(nm * sizeof(*mt)) : NULL;
	bool *added = nk ? calloc(nk, sizeof(*added)) : NULL;
	bool differs = false;

	if ((nk && (!kt || !added)) || (nm && !mt))
		abort();	/* the model cannot be half-updated */
	for (size_t i = 0; i < nm; i++)
		mt[i] = in->waiters[i].tid;
	if (nm)
		qsort(mt, nm, sizeof(*mt), tid_cmp);
	if (nk) {
		memcpy(kt, s->waiters, nk * sizeof(*kt));
		qsort(kt, nk, sizeof(*kt), tid_cmp);
	}
	for (size_t i = 0; i < nk; i++) {
		__u32 tid = s->waiters[i];
		size_t at = tid_lower(kt, nk, tid);

		/* listed twice by a walk that raced a wakeup: once */
		if (tid_in(mt, nm, tid) || added[at])
			continue;
		added[at] = true;
		differs = true;
		in->waiters = grow(in->waiters, &in->cap_waiters, in->nwaiters + 1,
				   sizeof(*in->waiters));
		in->waiters[in->nwaiters++] = (struct model_waiter){
			.tid = tid, .asleep = true, .timeout_ns = -1,
			.since_ns = s->hdr.ts_ns, .asleep_since_ns = s->hdr.ts_ns };
	}
	for (size_t i = 0; whole && i < in->nwaiters;) {
		if (!in->waiters[i].asleep || tid_in(kt, nk, in->waiters[i].tid)) {
			i++;
			continue;
		}
		differs = true;
		in->waiters[i] = in->waiters[--in->nwaiters];
	}
	if (differs)
		snprintf(note, notelen, "waiters: model %zu, kernel %zu%s", in->nwaiters, nk,
			 whole ? "" : " (or more)");
	free(kt);
	free(mt);
	free(added);
	return differs;
}

/* what the kernel has and the model does not, or has otherwise; how many */
static unsigned int items_present(struct model *m, struct model_inst *in, const struct et_snapshot *s,
			  bool count, __u64 *drift, char *note, size_t notelen)
{
	struct inst_priv *p = priv(in);
	__u64 ts = s->hdr.ts_ns;
	unsigned int fixed = 0;

	for (__u32 i = 0; i < s->nitems; i++) {
		const struct et_snap_item *si = &s->items[i];
		long k;

		if (in_flight(p, si->fd, ts))
			continue;	/* the walk may show it before or after a change */
		suspect_drop(p, si->fd, si->file);
		in->compared++;
		m->compared++;
		k = item_index(in, si->fd, si->file);
		if (k >= 0) {
			if (in->items[k].events != si->events || in->items[k].data != si->data) {
				*drift += count;
				snprintf(note, notelen, "fd %d: events 0x%x data 0x%llx, kernel 0x%x 0x%llx",
					 si->fd, in->items[k].events,
					 (unsigned long long)in->items[k].data, si->events,
					 (unsigned long long)si->data);
				in->items[k].events = si->events;
				in->items[k].data = si->data;
				in->items[k].file = si->file;
				fixed++;
			}
			continue;
		}
		fix_later(p, si->fd, ts, count, "watched by the kernel, not by the model");
		item_add(in, &(struct model_item){ .fd = si->fd, .events = si->events,
						   .data = si->data, .file = si->file });
		fixed++;
	}
	return fixed;
}

/*
 * What the model has and the kernel does not.  An exact walk with nothing
 * changing near it proves an item gone at once; a walk that raced changes
 * may have missed it (a rotation, or the item it stood on removed), so it
 * is gone when the next walk does not list it either.  A walk cut short
 * proves nothing gone.
 */
static unsigned int items_absent(struct model *m, struct model_inst *in,
				 const struct et_snapshot *s, const struct snap_ix *ix, bool count,
				 bool at_once, __u64 *drift, char *note, size_t notelen)
{
	struct inst_priv *p = priv(in);
	__u64 ts = s->hdr.ts_ns;
	unsigned int absent = 0;

	for (size_t i = 0; i < in->nitems;) {
		struct model_item *it = &in->items[i];
		struct suspect *x;

		if (snap_has(s, ix, it->fd, it->file) || it->added_ns >= ts ||
		    in_flight(p, it->fd, ts)) {
			i++;
			continue;
		}
		in->compared++;
		m->compared++;
		absent++;
		if (at_once) {
			fix_later(p, it->fd, ts, count, "watched by the model, not by the kernel");
			item_del(in, it->fd, it->file, false);
			continue;
		}
		x = suspect_find(p, it->fd, it->file);
		if (!x) {
			p->sus = grow(p->sus, &p->cap_sus, p->nsus + 1, sizeof(*p->sus));
			p->sus[p->nsus++] = (struct suspect){ it->fd, it->file, ts };
			i++;
			continue;
		}
		if (x->ts >= ts) {	/* this walk's own suspicion */
			i++;
			continue;
		}
		if (count) {
			*drift += 1;
			snprintf(note, notelen, "fd %d watched by the model, not by the kernel (two walks)",
				 it->fd);
		}
		suspect_drop(p, it->fd, it->file);
		item_del(in, it->fd, it->file, false);
	}
	return absent;
}

/* the shape the walk read, if it brought one; a snapshot without one
 * (the tree grew past the bound) leaves none: an old shape would mislead */
static void tree_take(struct model_tree *t, const struct et_snapshot *s, unsigned int dirty)
{
	t->present = s->has_shape && (s->tree || !s->nitems);
	t->n = 0;
	if (!t->present)
		return;
	t->nodes = grow(t->nodes, &t->cap, s->nitems ? s->nitems : 1, sizeof(*t->nodes));
	for (__u32 i = 0; i < s->nitems; i++) {
		t->nodes[i].fd = s->items[i].fd;
		t->nodes[i].left = s->tree[i].left;
		t->nodes[i].right = s->tree[i].right;
		t->nodes[i].black = s->tree[i].black;
	}
	t->n = s->nitems;
	t->root = s->root;
	t->exact = !(dirty & (ET_F_ITEMS_MOVED | ET_F_ITEMS_CUT));
	t->stale = false;
	t->ts_ns = s->hdr.ts_ns;
}

static void apply_snapshot(struct model *m, const struct et_snapshot *s, const struct snap_ix *ix)
{
	struct model_inst *in = model_find(m, s->in.ep);
	struct inst_priv *p;
	__u64 ts = s->hdr.ts_ns;
	unsigned int dirty = snap_dirty(s);
	bool items_exact = !(dirty & (ET_F_ITEMS_MOVED | ET_F_ITEMS_CUT));
	bool seeding, take_all, count;
	bool settled[PART_MAX];
	unsigned int differs;
	__u64 drift = 0;
	char note[96] = "";

	if (!in) {
		struct model_inst *old = closed_find(m, s->in.ep);

		/*
		 * An instance closed at close()'s entry (tracepoint mode) can
		 * still be walked until the deferred fput frees it: a stale
		 * picture, not a new instance.  (A new instance at that address
		 * comes with ep_create.)  Walked well after its close, it is
		 * alive: closed with a process that shared it, or a round missed
		 * it.  It is reopened and seeded anew.
		 */
		if (old && old->closed_ns + MODEL_SETTLE_NS >= ts)
			return;
		if (old) {
			in = old;
			in->closed_ns = in->gone_ns = 0;
			priv(in)->reseed = true;
		} else {
			in = inst_new(m, &s->in, 0);
		}
	}
	p = priv(in);
	p->last_round = s->seq;
	tree_take(&in->tree, s, dirty);
	/* an instance from before tracing began, seen for the first time */
	seeding = p->reseed || (!in->seen_snapshot && !in->created_ns);
	/* seeding or resyncing after a loss: take the kernel's word, counting nothing */
	take_all = seeding || p->lost_resync;
	count = !take_all;
	for (int k = 0; k < PART_MAX; k++)
		settled[k] = take_all || p->last_ns[k] + MODEL_SETTLE_NS < ts;
	/* corrections of earlier walks that no record explained: drift */
	{
		size_t j = 0;

		for (size_t i = 0; i < p->nfix; i++) {
			if (p->fixes[i].snap_ts >= ts) {
				p->fixes[j++] = p->fixes[i];
			} else if (p->fixes[i].counts) {
				in->drift++;
				snprintf(in->drift_note, sizeof(in->drift_note), "fd %d %s",
					 p->fixes[i].fd, p->fixes[i].note);
			}
		}
		p->nfix = j;
	}
	proc_get(m, s->in.owner);
	/* the interest set, item by item */
	differs = items_present(m, in, s, count, &drift, note, sizeof(note));
	if (!(dirty & ET_F_ITEMS_CUT))
		differs += items_absent(m, in, s, ix, count, items_exact && settled[PART_ITEMS],
					&drift, note, sizeof(note));
	/* the ready list: exact from the records when callbacks are seen,
	 * else (sampled) whatever the latest walk showed.  Exact: not held
	 * against a walk during a transfer (scanning), which misses the items
	 * ep_send_events took off rdllist onto its private list until
	 * ep_done_scan puts back the ones it keeps */
	if ((settled[PART_READY] || !m->callbacks_visible) && !(dirty & ET_F_READY_CUT) &&
	    !(m->callbacks_visible && (s->flags & ET_F_SCANNING))) {
		bool differs = s->nready != in->nready;

		for (__u32 i = 0; !differs && i < s->nready; i++)
			differs = model_ready_index(in, s->ready[i]) < 0;
		if (differs && m->callbacks_visible && settled[PART_READY] && !in->ready_unknown) {
			drift += count;
			snprintf(note, sizeof(note),
				 "ready list: model %zu (first fd %d), kernel %u (first fd %d)",
				 in->nready, in->nready ? in->ready[0].fd : -1, s->nready,
				 s->nready ? s->ready[0] : -1);
		}
		if (differs) {
			in->nready = 0;
			for (__u32 i = 0; i < s->nready; i++)
				ready_add(in, s->ready[i], 0, ts);
		}
		/* sampled: an item delivered since the walk that put it here
		 * (applied late) was queued again after that: this walk is
		 * the first to show it */
		for (size_t i = 0; !m->callbacks_visible && i < in->nready; i++) {
			const struct model_item *it = model_item_find(in, in->ready[i].fd);

			if (it && it->delivered_ns > in->ready[i].since_ns && ts > it->delivered_ns)
				in->ready[i].since_ns = ts;
		}
		in->ready_unknown = false;
	}
	/*
	 * ep->wq holds the threads blocked in epoll_wait; a thread that is in
	 * the syscall but still running (ready events found at once) is not
	 * on it.  So: every kernel waiter must be a model waiter, and every
	 * model waiter the model thinks asleep must be a kernel waiter -- if
	 * the walk reached the end of the queue.
	 */
	in->waiters_truncated = dirty & ET_F_WAITERS_CUT;
	if (settled[PART_WAITERS])
		drift += waiters_compare(in, s, !(dirty & ET_F_WAITERS_CUT), note, sizeof(note)) &&
			 count;
	if (drift) {
		in->drift += drift;
		memcpy(in->drift_note, note, sizeof(note));
	}
	/*
	 * Resyncing until a walk that is an exact picture of the interest set,
	 * or (the tree of a busy server changes during every walk) two raced
	 * walks in a row, not cut short, that found every item not in flight
	 * as the model has it.
	 */
	if (seeding && !items_exact)
		p->partial_seed = true;
	if (!(dirty & ET_F_ITEMS_CUT) && !differs && !seeding)
		p->agree++;
	else
		p->agree = 0;
	if ((items_exact && !(dirty & ET_F_READY_CUT)) || p->agree >= 2)
		p->lost_resync = p->partial_seed = false;
	in->resyncing = p->lost_resync || p->partial_seed;
	p->reseed = false;
	in->seen_snapshot = true;
	/* a pending removal lasts until an exact walk no longer shows the item */
	if (items_exact) {
		size_t j = 0;

		for (size_t i = 0; i < p->ntomb; i++)
			if (snap_has(s, ix, p->tombs[i].fd, p->tombs[i].file))
				p->tombs[j++] = p->tombs[i];
		p->ntomb = j;
	}
	/* changes older than the window cannot matter to later walks */
	if (p->ntouch)
		touch_rehash(p, p->cap_touch, ts > MODEL_SETTLE_NS ? ts - MODEL_SETTLE_NS : 0);
	/* suspicions about items the model no longer has */
	for (size_t i = 0; i < p->nsus;) {
		if (item_index(in, p->sus[i].fd, p->sus[i].file) < 0)
			p->sus[i] = p->sus[--p->nsus];
		else
			i++;
	}
}

void model_apply_snapshot(struct model *m, const struct et_snapshot *s)
{
	struct snap_ix *ix = snap_index(s);

	apply_snapshot(m, s, ix);
	free(ix);
	detect_snapshot(m, model_find(m, s->in.ep), s);
}

void model_expire(struct model *m)
{
	size_t j = 0;

	for (size_t i = 0; i < m->ninst; i++) {
		struct model_inst *in = m->inst[i];

		if (in->closed_ns && m->now_ns - in->closed_ns > MODEL_LINGER_NS)
			inst_free(in);
		else
			m->inst[j++] = in;
	}
	m->ninst = j;
}
