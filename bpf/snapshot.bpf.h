/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshots: an iter/task_file program that finds every epoll file of a
 * traced process and walks its struct eventpoll: the rb-tree of epitems
 * (in tree order), rdllist and ovflist, and the wait queue.  Records go to
 * the snapshot ring in batches; user space reads the iterator one instance
 * at a time (each instance writes 8 bytes to the seq file) and drains the
 * ring in between, so one instance must fit the ring, not all of them.
 *
 * Nothing here holds ep->mtx or ep->lock: epitems are freed through RCU
 * (the iterator runs under rcu_read_lock) but rbn shares a union with the
 * rcu head, so a walk racing a removal may follow garbage.  Every loop is
 * bounded, every read is a probe read, and the result is a sample.
 */
#ifndef EPOLLTRACE_SNAPSHOT_BPF_H
#define EPOLLTRACE_SNAPSHOT_BPF_H

#include "common.bpf.h"

/* round number, bumped by user space before each snapshot */
__u64 snap_round = 0;

struct snap_scratch {
	struct et_ev_snap_items items;
	struct et_ev_snap_ready ready;
	struct et_ev_snap_waiters waiters;
	__u64 ep;
	__u64 pos;		/* walk cursor */
	__u64 head;		/* list head address for list walks */
	__u32 nitems;
	__u32 nready;
	__u32 nwaiters;
	__u32 truncated;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snap_scratch);
} snap_scratch SEC(".maps");

static __always_inline struct snap_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&snap_scratch, &zero);
}

static __always_inline void snap_out(void *rec, __u64 size)
{
	if (bpf_ringbuf_output(&snap_events, rec, size, 0))
		count(ET_CNT_SNAP_DROPS);
}

static __always_inline void flush_items(struct snap_scratch *s)
{
	if (!s->items.n)
		return;
	snap_out(&s->items, sizeof(s->items));
	s->items.n = 0;
}

static __always_inline void flush_ready(struct snap_scratch *s)
{
	if (!s->ready.n)
		return;
	snap_out(&s->ready, sizeof(s->ready));
	s->ready.n = 0;
}

static __always_inline void flush_waiters(struct snap_scratch *s)
{
	if (!s->waiters.n)
		return;
	snap_out(&s->waiters, sizeof(s->waiters));
	s->waiters.n = 0;
}

/* In-order successor in the rb-tree (lib/rbtree.c rb_next), bounded. */
static __always_inline struct rb_node *rb_next_bounded(struct rb_node *node, __u32 *trunc)
{
	struct rb_node *n = BPF_CORE_READ(node, rb_right), *parent;

	if (n) {
		for (int j = 0; j < 64; j++) {
			struct rb_node *l = BPF_CORE_READ(n, rb_left);

			if (!l)
				return n;
			n = l;
		}
		*trunc = 1;
		return NULL;
	}
	for (int j = 0; j < 64; j++) {
		parent = (struct rb_node *)(BPF_CORE_READ(node, __rb_parent_color) & ~3UL);
		if (!parent || node != BPF_CORE_READ(parent, rb_right))
			return parent;
		node = parent;
	}
	*trunc = 1;
	return NULL;
}

static long walk_tree_cb(__u32 i, void *ctx)
{
	struct snap_scratch *s = scratch();
	struct rb_node *node;
	struct epitem *epi;
	__u32 k;

	if (!s || !s->pos)
		return 1;
	node = (struct rb_node *)s->pos;
	epi = ET_CONTAINER_OF(node, struct epitem, rbn);
	k = s->items.n;
	if (k < ET_SNAP_BATCH) {
		s->items.item[k].fd = BPF_CORE_READ(epi, ffd.fd);
		s->items.item[k].events = BPF_CORE_READ(epi, event.events);
		s->items.item[k].data = BPF_CORE_READ(epi, event.data);
		s->items.item[k].file = (__u64)BPF_CORE_READ(epi, ffd.file);
		s->items.n = k + 1;
	}
	s->nitems++;
	if (s->items.n >= ET_SNAP_BATCH)
		flush_items(s);
	s->pos = (__u64)rb_next_bounded(node, &s->truncated);
	return s->pos ? 0 : 1;
}

/* one more entry of the ready list (rdllist or ovflist), in queue order */
static __always_inline void ready_append(struct snap_scratch *s, struct epitem *epi)
{
	__u32 k = s->ready.n;

	if (k < ET_SNAP_BATCH) {
		s->ready.fd[k] = BPF_CORE_READ(epi, ffd.fd);
		s->ready.n = k + 1;
	}
	s->nready++;
	if (s->ready.n >= ET_SNAP_BATCH)
		flush_ready(s);
}

static long walk_rdllist_cb(__u32 i, void *ctx)
{
	struct snap_scratch *s = scratch();
	struct list_head *pos, *next;
	struct epitem *epi;

	if (!s || !s->pos || s->pos == s->head)
		return 1;
	pos = (struct list_head *)s->pos;
	epi = ET_CONTAINER_OF(pos, struct epitem, rdllink);
	ready_append(s, epi);
	next = BPF_CORE_READ(pos, next);
	if (next == pos) {	/* list_del_init'ed under us */
		s->truncated = 1;
		return 1;
	}
	s->pos = (__u64)next;
	return 0;
}

static long walk_ovflist_cb(__u32 i, void *ctx)
{
	struct snap_scratch *s = scratch();
	struct epitem *epi, *next;

	if (!s || !s->pos || s->pos == (__u64)EP_UNACTIVE_PTR)
		return 1;
	epi = (struct epitem *)s->pos;
	ready_append(s, epi);
	next = epi_ovflist_next(epi);
	if (next == epi) {
		s->truncated = 1;
		return 1;
	}
	s->pos = (__u64)next;
	return 0;
}

static long walk_waiters_cb(__u32 i, void *ctx)
{
	struct snap_scratch *s = scratch();
	struct list_head *pos;
	struct wait_queue_entry *w;
	struct task_struct *t;
	__u32 k;

	if (!s || !s->pos || s->pos == s->head)
		return 1;
	pos = (struct list_head *)s->pos;
	w = ET_CONTAINER_OF(pos, struct wait_queue_entry, entry);
	t = BPF_CORE_READ(w, private);
	k = s->waiters.n;
	if (k < ET_SNAP_BATCH && t) {
		s->waiters.tid[k] = BPF_CORE_READ(t, pid);
		s->waiters.n = k + 1;
		s->nwaiters++;
	}
	if (s->waiters.n >= ET_SNAP_BATCH)
		flush_waiters(s);
	s->pos = (__u64)BPF_CORE_READ(pos, next);
	return 0;
}

static __always_inline void snap_hdr(struct et_hdr *h, __u16 type, __u32 owner)
{
	fill_hdr(h, type, ET_SRC_ITER);
	h->pid = owner;
	h->tid = 0;
}

SEC("iter/task_file")
int snap_task_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct et_ev_snap_begin b = {};
	struct et_ev_snap_end end = {};
	struct et_inst_val *v, nv = {};
	struct snap_scratch *s;
	struct eventpoll *ep;
	struct epitem *ovf;
	__u64 epaddr, round = snap_round;
	__u32 tgid;
	__u16 eflags = 0;
	long watched;

	if (!task || !file)
		return 0;
	tgid = task->tgid;
	if (!is_target_tgid(tgid) || !is_epoll_file(file))
		return 0;
	ep = BPF_CORE_READ(file, private_data);
	epaddr = (__u64)ep;
	v = inst_lookup(epaddr);
	if (!v) {
		/* seed: an instance that existed before tracing began */
		nv.in.ep = epaddr;
		nv.in.owner = tgid;
		nv.in.epfd = ctx->fd;
		bpf_map_update_elem(&instances, &epaddr, &nv, BPF_NOEXIST);
		v = inst_lookup(epaddr);
		if (!v)
			return 0;
	}
	/* a dup'd epfd or a second thread group sharing it: once per round */
	if (v->snap_seq == round)
		return 0;
	v->snap_seq = round;
	s = scratch();
	if (!s)
		return 0;

	snap_hdr(&b.hdr, ET_EV_SNAP_BEGIN, v->in.owner);
	b.in = v->in;
	b.seq = round;
	watched = ep_watched_from_refcount(ep);
	b.watched = watched;
	snap_out(&b, sizeof(b));

	s->ep = epaddr;
	s->nitems = s->nready = s->nwaiters = s->truncated = 0;
	snap_hdr(&s->items.hdr, ET_EV_SNAP_ITEMS, v->in.owner);
	s->items.ep = epaddr;
	s->items.n = 0;
	snap_hdr(&s->ready.hdr, ET_EV_SNAP_READY, v->in.owner);
	s->ready.ep = epaddr;
	s->ready.n = 0;
	s->ready.ovf = 0;
	snap_hdr(&s->waiters.hdr, ET_EV_SNAP_WAITERS, v->in.owner);
	s->waiters.ep = epaddr;
	s->waiters.n = 0;

	/* the interest set, in rb-tree order */
	s->pos = (__u64)BPF_CORE_READ(ep, rbr.rb_leftmost);
	bpf_loop(ET_MAX_TREE_ITEMS, walk_tree_cb, NULL, 0);
	if (s->pos)
		s->truncated = 1;
	flush_items(s);

	/* the ready list, in queue order */
	s->head = (__u64)ep + bpf_core_field_offset(struct eventpoll, rdllist);
	s->pos = (__u64)BPF_CORE_READ(ep, rdllist.next);
	bpf_loop(ET_MAX_LIST_ITEMS, walk_rdllist_cb, NULL, 0);
	flush_ready(s);

	/* events that arrived during a scan wait on ovflist */
	ovf = BPF_CORE_READ(ep, ovflist);
	if (ovf != EP_UNACTIVE_PTR) {
		eflags |= ET_F_SCANNING;
		s->ready.ovf = 1;
		s->pos = (__u64)ovf;
		bpf_loop(ET_MAX_LIST_ITEMS, walk_ovflist_cb, NULL, 0);
		flush_ready(s);
	}

	/* the threads asleep in epoll_wait */
	s->head = (__u64)ep + bpf_core_field_offset(struct eventpoll, wq) +
		  bpf_core_field_offset(struct wait_queue_head, head);
	s->pos = (__u64)BPF_CORE_READ(ep, wq.head.next);
	bpf_loop(ET_MAX_WAITERS, walk_waiters_cb, NULL, 0);
	flush_waiters(s);

	snap_hdr(&end.hdr, ET_EV_SNAP_END, v->in.owner);
	/*
	 * Nothing here holds ep->mtx: if items came or went during the walk
	 * (the count moved, or the tree held other than the count said), this
	 * is no picture of one moment.  Say so rather than pass it off as one.
	 */
	if (watched >= 0 && (ep_watched_from_refcount(ep) != watched ||
			     s->nitems != (__u32)watched))
		s->truncated = 1;
	if (s->truncated)
		eflags |= ET_F_TRUNCATED;
	if (watched < 0)
		eflags |= ET_F_COUNTED;
	end.hdr.flags = eflags;
	end.in = v->in;
	end.seq = round;
	end.nitems = s->nitems;
	end.nready = s->nready;
	end.nwaiters = s->nwaiters;
	snap_out(&end, sizeof(end));

	/* one seq record per instance: user space reads one at a time */
	bpf_seq_write(seq, &epaddr, sizeof(epaddr));
	return 0;
}

#endif /* EPOLLTRACE_SNAPSHOT_BPF_H */
