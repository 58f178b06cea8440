/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshots: an iter/task_file program that finds every epoll file of a
 * traced process and walks its struct eventpoll: the rb-tree of epitems
 * (in tree order), rdllist and ovflist, and the wait queue.  Records go to
 * the iterator's own output (bpf_seq_write), which user space read(2)s:
 * no ring, so a round cannot lose records however large it is.  A picture
 * larger than one read's buffer is written over several shows of the same
 * file (snap_walk, snap_pending).
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
/* the round the counters below describe (the iterator runs on one CPU at a
 * time: user space reads it sequentially) */
__u64 round_seen = 0;
__u64 round_start_ns = 0;
__u32 round_insts = 0;
__u32 round_drops = 0;
/*
 * An instance whose picture did not fit one show (see snap_task_file):
 * its eventpoll address, 0 if none, and the task whose files hold it.
 * User space reads these and sets snap_cont while it reads the
 * continuation passes that finish it.
 */
__u64 snap_pending = 0;
__u32 snap_pending_tid = 0;
__u32 snap_cont = 0;

/* how often a tree walk may climb back from the root after a removal */
#define SNAP_WALK_RECOVERIES	16
/* the rb-tree's height bound (2 log2(n + 1) for 2^20 items is 40) */
#define SNAP_TREE_DEPTH		64

/* the parts of a picture, in the order they are written */
enum { SNAP_PH_ITEMS, SNAP_PH_READY, SNAP_PH_OVF, SNAP_PH_WAITERS, SNAP_PH_END };

struct snap_scratch {
	struct et_ev_snap_items items;
	struct et_ev_snap_shape shape;	/* the items' rb_nodes, when s->want_shape */
	struct et_ev_snap_ready ready;
	struct et_ev_snap_waiters waiters;
	struct et_inst in;	/* the instance walked (its map entry may go) */
	__u64 ep;
	__u64 pos;		/* walk cursor, valid within one show only */
	__u64 head;		/* list head address for list walks */
	__u64 last_file;	/* the tree walk's last key (ep_cmp_ffd order) */
	__u64 best;		/* a descent's best successor so far */
	__u64 room;		/* bytes left in the seq buffer */
	__u64 session;		/* the iterator (seq file) that showed it last */
	__s64 watched;		/* the item count when the walk began, -1 unknown */
	__s32 last_fd;
	__u32 have_last;
	__u32 descend;		/* 1: looking for last key's successor from the root */
	__u32 depth;		/* steps of this descent */
	__u32 recoveries;
	__u32 nitems;
	__u32 nready;
	__u32 nwaiters;
	__u32 truncated;	/* ET_F_* of the parts not exact */
	__u32 phase;		/* SNAP_PH_* */
	__u32 ppos;		/* list entries passed in this phase (all shows) */
	__u32 skip;		/* of them, still to pass again in this show */
	__u32 full;		/* this show's room is spent */
	__u32 tid;		/* the task and fd that hold it */
	__u32 fd;
	__u32 want_shape;	/* the tree is small: send its shape (ET_F_SHAPE) */
	__u16 eflags;
	/* every item's fd was looked up in the owner's fd table (ET_F_FDS_CHECKED) */
	__u16 fds_checked;
	__u64 files;		/* that table (struct files_struct), this show; 0 none */
};

/*
 * A plain array, not per-CPU: a picture can span several shows, and the
 * reading thread may migrate between its read() calls.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snap_scratch);
} snap_scratch SEC(".maps");

/* the seq file's fill, for the room a show has left (fs/seq_file.c) */
struct seq_file___et {
	unsigned long size;
	unsigned long count;
} __attribute__((preserve_access_index));

/* what the bpf_loop callbacks need besides the scratch */
struct snap_ctx {
	struct seq_file *seq;
};

static __always_inline struct snap_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&snap_scratch, &zero);
}

/*
 * Records go to the iterator's own output, read(2) by user space.  The
 * kernel keeps one buffer of PAGE_SIZE << 3 bytes per read and drops a
 * show's whole output if it overflows (kernel/bpf/bpf_iter.c,
 * bpf_seq_read, since v5.8; tested on 6.1, 6.12 and 6.18): every write
 * is checked against the room the seq file has left (read, not assumed),
 * so nothing written is ever dropped.
 */
static __always_inline void snap_out(struct seq_file *seq, struct snap_scratch *s,
				     void *rec, __u32 size)
{
	if (bpf_seq_write(seq, rec, size)) {
		count(ET_CNT_SNAP_DROPS);
		round_drops++;	/* the round proves nothing about absences */
		return;
	}
	s->room = s->room > size ? s->room - size : 0;
}

/* Room for a batch of SIZE bytes and the END record after it? */
static __always_inline int snap_room(struct snap_scratch *s, __u32 size)
{
	if (s->room >= size + sizeof(struct et_ev_snap_end))
		return 1;
	s->full = 1;
	return 0;
}

/*
 * A kernel address?  Unlinked list entries hold poison values
 * (LIST_POISON1/2: 0x100/0x122 plus POISON_POINTER_DELTA, 0xdead... on
 * 64-bit arches), and every kernel address is above these.
 */
static __always_inline int kaddr(__u64 p)
{
	return p >= 0xff00000000000000ULL;
}

/*
 * Has ep_remove begun on this item?  It unhooks the item from its file
 * first (hlist_del_rcu(&epi->fllink); list_del_rcu before v5.11, when
 * f_ep_links became f_ep), which poisons the second word, and only then
 * erases it from the tree (rb_erase_cached): an item whose fllink is
 * still linked had valid tree links when they were read before.
 */
static __always_inline int epi_unlinked(struct epitem *epi)
{
	__u64 w = 0;

	bpf_probe_read_kernel(&w, sizeof(w),
			      (void *)epi + bpf_core_field_offset(struct epitem, fllink) + 8);
	return !kaddr(w);
}

/* the room one batch of the tree walk takes: its items, and their shape */
static __always_inline __u32 items_batch_size(struct snap_scratch *s)
{
	return sizeof(s->items) + (s->want_shape ? sizeof(s->shape) : 0);
}

static __always_inline void flush_items(struct seq_file *seq, struct snap_scratch *s)
{
	if (!s->items.n)
		return;
	snap_out(seq, s, &s->items, sizeof(s->items));
	s->items.stale = 0;
	if (s->want_shape) {
		/* node[i] describes item[i]: the batches go out in pairs */
		s->shape.n = s->items.n;
		snap_out(seq, s, &s->shape, sizeof(s->shape));
	}
	s->items.n = 0;
}

static __always_inline void flush_ready(struct seq_file *seq, struct snap_scratch *s)
{
	if (!s->ready.n)
		return;
	snap_out(seq, s, &s->ready, sizeof(s->ready));
	s->ready.n = 0;
}

static __always_inline void flush_waiters(struct seq_file *seq, struct snap_scratch *s)
{
	if (!s->waiters.n)
		return;
	snap_out(seq, s, &s->waiters, sizeof(s->waiters));
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

/* ep_cmp_ffd's order: by file address, then fd */
static __always_inline int key_after(struct snap_scratch *s, __u64 file, int fd)
{
	return !s->have_last || file > s->last_file || (file == s->last_file && fd > s->last_fd);
}

/*
 * Find the successor of the last key from the root, as ep_find descends.
 * A later show resumes the walk so: no pointer into the tree is kept from
 * one show to the next (the items it names may be freed in between).
 */
static __always_inline void walk_resume(struct snap_scratch *s)
{
	struct eventpoll *ep = (struct eventpoll *)s->ep;

	s->descend = 1;
	s->depth = 0;
	s->best = 0;
	s->pos = (__u64)BPF_CORE_READ(ep, rbr.rb_root.rb_node);
}

/*
 * The walk left the tree (it stood on an item being removed, or read
 * links a rotation was rewriting): find the successor of the last key
 * from the root, as ep_find descends, and go on from there.
 */
static __always_inline long walk_recover(struct snap_scratch *s)
{
	s->truncated |= ET_F_ITEMS_MOVED;
	if (++s->recoveries > SNAP_WALK_RECOVERIES) {
		s->truncated |= ET_F_ITEMS_CUT;
		s->pos = 0;
		return 1;
	}
	walk_resume(s);
	return 0;
}

/* one step of that descent */
static __always_inline long walk_descend(struct snap_scratch *s)
{
	struct rb_node *node = (struct rb_node *)s->pos;
	struct epitem *epi;
	__u64 file;
	int fd;

	if (!node) {
		s->descend = 0;
		s->pos = s->best;	/* 0: nothing after the last key, the end */
		return s->pos ? 0 : 1;
	}
	epi = ET_CONTAINER_OF(node, struct epitem, rbn);
	if (++s->depth > SNAP_TREE_DEPTH || (__u64)BPF_CORE_READ(epi, ep) != s->ep) {
		s->truncated |= ET_F_ITEMS_CUT;
		s->pos = 0;
		return 1;
	}
	file = (__u64)BPF_CORE_READ(epi, ffd.file);
	fd = BPF_CORE_READ(epi, ffd.fd);
	if (key_after(s, file, fd)) {
		s->best = (__u64)node;
		s->pos = (__u64)BPF_CORE_READ(node, rb_left);
	} else {
		s->pos = (__u64)BPF_CORE_READ(node, rb_right);
	}
	return 0;
}

/*
 * Does fd, in the fd table files, still hold file?  The close pitfall: an
 * epitem is keyed by (file, fd) and lives as long as its file, whatever
 * became of the fd number (a dup or a fork keeps the file open).  The
 * table is read as fs/file.c keeps it, the same in v6.1 and v6.12
 * (files->fdt, fdt->max_fds, fdt->fd[]; see current_fd_file).
 */
static __always_inline int fd_holds(__u64 files, int fd, __u64 file)
{
	struct files_struct *fs = (struct files_struct *)files;
	struct fdtable *fdt = BPF_CORE_READ(fs, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return (__u64)f == file;
}

/*
 * One item of the interest set, in tree order.  Nothing holds ep->mtx:
 * every item is checked to belong to this instance and to come after the
 * last one, and a walk that stood on an item being removed climbs back
 * from the root, so that the items it lists were in the tree when read and
 * items it does not list were (nearly always) not.
 */
static long walk_tree_cb(__u32 i, void *ctx)
{
	struct seq_file *seq = ((struct snap_ctx *)ctx)->seq;
	struct snap_scratch *s = scratch();
	struct rb_node *node;
	struct epitem *epi;
	__u64 file;
	__u32 k, trunc = 0;
	int fd;

	if (!s)
		return 1;
	if (s->descend)
		return walk_descend(s);
	if (!s->pos)
		return 1;
	/* without ep->refcount (before v6.4) the size is learnt by walking:
	 * past the bound, the shape stops at a batch's start (no ET_F_SHAPE) */
	if (!s->items.n && s->nitems >= ET_MAX_SHAPE_ITEMS)
		s->want_shape = 0;
	/* a new batch only if it fits: the next show goes on from the last key */
	if (!s->items.n && !snap_room(s, items_batch_size(s)))
		return 1;
	node = (struct rb_node *)s->pos;
	epi = ET_CONTAINER_OF(node, struct epitem, rbn);
	file = (__u64)BPF_CORE_READ(epi, ffd.file);
	fd = BPF_CORE_READ(epi, ffd.fd);
	if ((__u64)BPF_CORE_READ(epi, ep) != s->ep || !key_after(s, file, fd))
		return walk_recover(s);
	k = s->items.n;
	if (k < ET_SNAP_BATCH) {
		s->items.item[k].fd = fd;
		s->items.item[k].events = BPF_CORE_READ(epi, event.events);
		s->items.item[k].data = BPF_CORE_READ(epi, event.data);
		s->items.item[k].file = file;
		if (s->files && !fd_holds(s->files, fd, file))
			s->items.stale |= 1u << (k & 31);
		if (s->want_shape) {
			/* rb_node is the same three words in 6.1, 6.12 and 6.18
			 * (include/linux/rbtree_types.h; seen in the BTF of Debian
			 * 6.1.192, 6.12.117 and 6.18.44): parent and colour in one,
			 * right, left; CO-RE reads them by name all the same */
			s->shape.node[k].node = (__u64)node;
			s->shape.node[k].left = (__u64)BPF_CORE_READ(node, rb_left);
			s->shape.node[k].right = (__u64)BPF_CORE_READ(node, rb_right);
			s->shape.node[k].parent_color = BPF_CORE_READ(node, __rb_parent_color);
		}
		s->items.n = k + 1;
	}
	s->nitems++;
	/* an item added and one removed while we walk leave the count as it
	 * was: look at it at every step, not only at both ends */
	if (s->watched >= 0 &&
	    ep_watched_from_refcount((struct eventpoll *)s->ep) != s->watched)
		s->truncated |= ET_F_ITEMS_MOVED;
	s->last_file = file;
	s->last_fd = fd;
	s->have_last = 1;
	if (s->items.n >= ET_SNAP_BATCH)
		flush_items(seq, s);
	s->pos = (__u64)rb_next_bounded(node, &trunc);
	if (trunc || epi_unlinked(epi))
		return walk_recover(s);
	return s->pos ? 0 : 1;
}

/*
 * A list walk that a later show resumes starts again from the head and
 * passes the entries already written (s->skip): an entry's address is not
 * kept from one show to the next.
 */
static __always_inline int list_skip(struct snap_scratch *s)
{
	if (!s->skip)
		return 0;
	s->skip--;
	return 1;
}

/* one more entry of the ready list (rdllist or ovflist), in queue order */
static __always_inline int ready_append(struct seq_file *seq, struct snap_scratch *s,
					struct epitem *epi)
{
	__u32 k = s->ready.n;

	if (list_skip(s))
		return 0;
	if (!k && !snap_room(s, sizeof(s->ready)))
		return 1;
	if (k < ET_SNAP_BATCH) {
		s->ready.fd[k] = BPF_CORE_READ(epi, ffd.fd);
		s->ready.n = k + 1;
	}
	s->nready++;
	s->ppos++;
	if (s->ready.n >= ET_SNAP_BATCH)
		flush_ready(seq, s);
	return 0;
}

static long walk_rdllist_cb(__u32 i, void *ctx)
{
	struct seq_file *seq = ((struct snap_ctx *)ctx)->seq;
	struct snap_scratch *s = scratch();
	struct list_head *pos, *next;
	struct epitem *epi;

	if (!s || !s->pos || s->pos == s->head)
		return 1;
	pos = (struct list_head *)s->pos;
	epi = ET_CONTAINER_OF(pos, struct epitem, rdllink);
	if (ready_append(seq, s, epi))
		return 1;
	next = BPF_CORE_READ(pos, next);
	if (next == pos || !kaddr((__u64)next)) {	/* unlinked under us */
		s->truncated |= ET_F_READY_CUT;
		return 1;
	}
	s->pos = (__u64)next;
	return 0;
}

static long walk_ovflist_cb(__u32 i, void *ctx)
{
	struct seq_file *seq = ((struct snap_ctx *)ctx)->seq;
	struct snap_scratch *s = scratch();
	struct epitem *epi, *next;

	if (!s || !s->pos || s->pos == (__u64)EP_UNACTIVE_PTR)
		return 1;
	epi = (struct epitem *)s->pos;
	if (ready_append(seq, s, epi))
		return 1;
	next = epi_ovflist_next(epi);
	if (next == epi || (next && !kaddr((__u64)next))) {
		s->truncated |= ET_F_READY_CUT;
		return 1;
	}
	s->pos = (__u64)next;
	return 0;
}

/*
 * One sleeper on ep->wq.  A woken one leaves it (list_del_init, or list_del
 * when its wait timed out), and its entry lives on its stack: a walk that
 * stood on it stops there, and says the list was cut.
 */
static long walk_waiters_cb(__u32 i, void *ctx)
{
	struct seq_file *seq = ((struct snap_ctx *)ctx)->seq;
	struct snap_scratch *s = scratch();
	struct list_head *pos, *next;
	struct wait_queue_entry *w;
	struct task_struct *t;
	__u32 k, tid = 0;

	if (!s || !s->pos || s->pos == s->head)
		return 1;
	pos = (struct list_head *)s->pos;
	if (!list_skip(s)) {
		if (!s->waiters.n && !snap_room(s, sizeof(s->waiters)))
			return 1;
		w = ET_CONTAINER_OF(pos, struct wait_queue_entry, entry);
		t = BPF_CORE_READ(w, private);
		if (t)
			tid = BPF_CORE_READ(t, pid);
		k = s->waiters.n;
		if (k < ET_SNAP_BATCH && tid) {
			s->waiters.tid[k] = tid;
			s->waiters.n = k + 1;
			s->nwaiters++;
		}
		s->ppos++;
		if (s->waiters.n >= ET_SNAP_BATCH)
			flush_waiters(seq, s);
	}
	next = BPF_CORE_READ(pos, next);
	if (next == pos || !kaddr((__u64)next)) {
		s->truncated |= ET_F_WAITERS_CUT;
		return 1;
	}
	s->pos = (__u64)next;
	return 0;
}

static __always_inline void snap_hdr(struct et_hdr *h, __u16 type, __u32 owner)
{
	fill_hdr(h, type, ET_SRC_ITER, bpf_ktime_get_ns());
	h->pid = owner;
	h->tid = 0;
}

/*
 * A process holds a traced instance without being a target (a child forked
 * before tracing, an epoll fd received over SCM_RIGHTS or pidfd_getfd): it
 * becomes a sharer, filtered in like a target from now on, so that its
 * waits and ctls on the instance are seen (not the instances it owns).
 * One record says so, in the event ring: the model marks the process.
 */
static __always_inline void sharer_add(__u32 tgid, struct et_inst_val *v)
{
	__u32 flags = ET_TGT_SHARER;
	struct et_ev_sharer *e;

	bit_set(&tgt_bits, tgid);
	if (bpf_map_update_elem(&targets, &tgid, &flags, BPF_NOEXIST))
		return;
	if (!RESERVE(e, ET_EV_SHARER, ET_SRC_ITER))
		return;
	e->hdr.pid = tgid;
	e->hdr.tid = 0;
	e->in = v->in;
	bpf_ringbuf_submit(e, 0);
}

/* the first call of a round starts its counters */
static __always_inline void round_begin(void)
{
	if (round_seen == snap_round)
		return;
	round_seen = snap_round;
	round_start_ns = bpf_ktime_get_ns();
	round_insts = 0;
	round_drops = 0;
}

/* the iterator's last call (no task, no file): the round is over */
static __always_inline void round_end(struct seq_file *seq, struct snap_scratch *s)
{
	struct et_ev_snap_round r = {};

	snap_hdr(&r.hdr, ET_EV_SNAP_ROUND, 0);
	r.seq = snap_round;
	r.start_ns = round_start_ns;
	r.instances = round_insts;
	r.drops = round_drops;
	if (round_drops)
		r.hdr.flags = ET_F_TRUNCATED;
	snap_out(seq, s, &r, sizeof(r));
}

/* the next phase starts from its beginning */
static __always_inline void phase_next(struct snap_scratch *s)
{
	s->phase++;
	s->ppos = 0;
}

/* the picture's last record: what was walked and what of it is not exact */
static __always_inline void snap_end(struct seq_file *seq, struct snap_scratch *s)
{
	struct eventpoll *ep = (struct eventpoll *)s->ep;
	struct et_ev_snap_end end = {};
	__u16 eflags = s->eflags;

	snap_hdr(&end.hdr, ET_EV_SNAP_END, s->in.owner);
	/*
	 * Nothing here holds ep->mtx: if items came or went during the walk
	 * (the count moved, or the tree held other than the count said), this
	 * is no picture of one moment.  Say so rather than pass it off as one.
	 */
	if (s->watched >= 0 && (ep_watched_from_refcount(ep) != s->watched ||
				s->nitems != (__u32)s->watched))
		s->truncated |= ET_F_ITEMS_MOVED;
	eflags |= s->truncated & ET_F_SNAP_PARTS;
	if (s->truncated)
		eflags |= ET_F_TRUNCATED;
	if (s->watched < 0)
		eflags |= ET_F_COUNTED;
	/* the walk reached its end and every item went with its node: a walk
	 * cut short has no shape (the nodes past the cut are unknown) */
	if (s->want_shape && !(s->truncated & ET_F_ITEMS_CUT))
		eflags |= ET_F_SHAPE;
	if (s->fds_checked)
		eflags |= ET_F_FDS_CHECKED;
	end.hdr.flags = eflags;
	end.in = s->in;
	end.seq = snap_round;
	end.nitems = s->nitems;
	end.nready = s->nready;
	end.nwaiters = s->nwaiters;
	snap_out(seq, s, &end, sizeof(end));
	snap_pending = 0;
	s->phase = SNAP_PH_END;
}

/*
 * Write as much of the picture as this show has room for, from where the
 * last show stopped.  A picture that does not fit is left pending: user
 * space reads continuation passes, each of which shows this file again,
 * until the END record is out.
 */
static __always_inline void snap_walk(struct seq_file *seq, struct snap_scratch *s)
{
	struct eventpoll *ep = (struct eventpoll *)s->ep;
	struct snap_ctx c = { .seq = seq };
	struct epitem *ovf;

	s->full = 0;
	s->items.n = s->ready.n = s->waiters.n = 0;

	if (s->phase == SNAP_PH_ITEMS) {
		/* the interest set, in rb-tree order */
		if (s->have_last)
			walk_resume(s);
		else
			s->pos = (__u64)BPF_CORE_READ(ep, rbr.rb_leftmost);
		bpf_loop(ET_MAX_TREE_ITEMS, walk_tree_cb, &c, 0);
		if (s->pos && !s->full)	/* the loop's bound */
			s->truncated |= ET_F_ITEMS_CUT;
		flush_items(seq, s);
		if (s->full)
			goto pending;
		phase_next(s);
	}

	if (s->phase == SNAP_PH_READY) {
		/* the ready list, in queue order */
		s->ready.ovf = 0;
		s->head = (__u64)ep + bpf_core_field_offset(struct eventpoll, rdllist);
		s->pos = (__u64)BPF_CORE_READ(ep, rdllist.next);
		s->skip = s->ppos;
		bpf_loop(ET_MAX_LIST_ITEMS, walk_rdllist_cb, &c, 0);
		if (!s->full && s->pos && s->pos != s->head)
			s->truncated |= ET_F_READY_CUT;	/* the loop's bound */
		flush_ready(seq, s);
		if (s->full)
			goto pending;
		phase_next(s);
	}

	if (s->phase == SNAP_PH_OVF) {
		/* events that arrived during a scan wait on ovflist */
		ovf = BPF_CORE_READ(ep, ovflist);
		if (ovf != EP_UNACTIVE_PTR) {
			s->eflags |= ET_F_SCANNING;
			s->ready.ovf = 1;
			s->pos = (__u64)ovf;
			s->skip = s->ppos;
			bpf_loop(ET_MAX_LIST_ITEMS, walk_ovflist_cb, &c, 0);
			flush_ready(seq, s);
			if (s->full)
				goto pending;
		}
		phase_next(s);
	}

	if (s->phase == SNAP_PH_WAITERS) {
		/* the threads asleep in epoll_wait, every one of them */
		s->head = (__u64)ep + bpf_core_field_offset(struct eventpoll, wq) +
			  bpf_core_field_offset(struct wait_queue_head, head);
		s->pos = (__u64)BPF_CORE_READ(ep, wq.head.next);
		s->skip = s->ppos;
		bpf_loop(ET_MAX_WAITERS, walk_waiters_cb, &c, 0);
		if (!s->full && s->pos && s->pos != s->head)
			s->truncated |= ET_F_WAITERS_CUT;	/* more than ET_MAX_WAITERS, or cut */
		flush_waiters(seq, s);
		if (s->full)
			goto pending;
		phase_next(s);
	}

	snap_end(seq, s);
	return;
pending:
	snap_pending = s->ep;
	snap_pending_tid = s->tid;
}

/*
 * The continuation pass did not find the pending instance where it was
 * held (closed since, or its task gone): end its picture, the part that
 * was not walked marked cut.
 */
static __always_inline void snap_lost(struct seq_file *seq, struct snap_scratch *s)
{
	if (s->phase == SNAP_PH_ITEMS)
		s->truncated |= ET_F_ITEMS_CUT;
	else if (s->phase == SNAP_PH_READY || s->phase == SNAP_PH_OVF)
		s->truncated |= ET_F_READY_CUT;
	else if (s->phase == SNAP_PH_WAITERS)
		s->truncated |= ET_F_WAITERS_CUT;
	snap_end(seq, s);
}

/* Overflow the seq buffer on purpose: the kernel calls the last show again. */
static long pad_cb(__u32 i, void *ctx)
{
	struct seq_file *seq = ((struct snap_ctx *)ctx)->seq;
	struct snap_scratch *s = scratch();

	return !s || bpf_seq_write(seq, &s->items, sizeof(s->items)) ? 1 : 0;
}

/*
 * The iterator's last call (no task, no file).  In the main pass with a
 * picture still pending it must come again after the continuation: a show
 * that overflows the buffer is thrown away and called again by the next
 * read (bpf_seq_read: done_stop is set only without overflow).
 */
static __always_inline int snap_last(struct bpf_iter_meta *meta, struct snap_scratch *s)
{
	struct seq_file *seq = meta->seq;
	struct snap_ctx c = { .seq = seq };

	if (snap_pending) {
		if (snap_cont && s->session != meta->session_id)
			snap_lost(seq, s);
		else if (!snap_cont)
			bpf_loop(1 << 12, pad_cb, &c, 0);
		return 0;
	}
	if (snap_cont)
		return 0;
	if (s->room < sizeof(struct et_ev_snap_round)) {
		bpf_loop(1 << 12, pad_cb, &c, 0);
		return 0;
	}
	round_end(seq, s);
	return 0;
}

/*
 * One file of one task.  The first show of an instance in a round writes
 * its BEGIN record and as much of the picture as the seq buffer has room
 * for; the rest waits (snap_pending) for continuation passes, and the
 * main pass waits with it: every show returns 1 (the kernel shows the
 * same object again on the next read) until the picture is complete, so
 * the pictures come whole and one after another.
 */
SEC("iter/task_file")
int snap_task_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct seq_file___et *sf = (void *)seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct et_ev_snap_begin b = {};
	struct et_inst_val *v, nv = {};
	struct snap_scratch *s;
	struct eventpoll *ep;
	__u64 epaddr, round = snap_round;
	__u32 tgid;

	round_begin();
	s = scratch();
	if (!s)
		return 0;
	s->room = BPF_CORE_READ(sf, size) - BPF_CORE_READ(sf, count);
	if (!task || !file) {
		if (!task && !file)
			return snap_last(ctx->meta, s);
		return 0;
	}
	if (snap_pending) {
		if (task->pid == s->tid && ctx->fd == s->fd &&
		    (__u64)BPF_CORE_READ(file, private_data) == snap_pending) {
			s->session = ctx->meta->session_id;
			s->files = s->fds_checked ? (__u64)BPF_CORE_READ(task, files) : 0;
			s->fds_checked = s->files != 0;
			snap_walk(seq, s);
			return 0;
		}
		return snap_cont ? 0 : 1;
	}
	if (snap_cont)
		return 0;
	tgid = task->tgid;
	if (tgid == self_tgid || !is_epoll_file(file))
		return 0;
	ep = BPF_CORE_READ(file, private_data);
	epaddr = (__u64)ep;
	v = inst_lookup(epaddr);
	if (!v) {
		if (!is_target_tgid(tgid))
			return 0;
		/* seed: an instance that existed before tracing began */
		nv.in.ep = epaddr;
		nv.in.owner = tgid;
		nv.in.epfd = ctx->fd;
		inst_insert(epaddr, &nv, BPF_NOEXIST);
		v = inst_lookup(epaddr);
		if (!v)
			return 0;
	}
	if (!trace_all && !is_tracked_tgid(tgid))
		sharer_add(tgid, v);
	/*
	 * A traced instance is walked wherever it is held, by a target or by
	 * another process it was shared with (fork without -f, SCM_RIGHTS):
	 * a complete round that does not find it proves it gone.  A dup'd
	 * epfd or a second holder: once per round.
	 */
	if (v->snap_seq == round)
		return 0;
	/* no room for a start here: the next read begins with this file */
	if (s->room < sizeof(b) + sizeof(s->items) + sizeof(s->shape) +
		      sizeof(struct et_ev_snap_end))
		return 1;
	v->snap_seq = round;
	round_insts++;

	snap_hdr(&b.hdr, ET_EV_SNAP_BEGIN, v->in.owner);
	b.in = v->in;
	b.seq = round;
	b.watched = ep_watched_from_refcount(ep);
	snap_out(seq, s, &b, sizeof(b));

	s->in = v->in;
	s->ep = epaddr;
	s->tid = task->pid;
	s->fd = ctx->fd;
	s->session = ctx->meta->session_id;
	s->phase = SNAP_PH_ITEMS;
	s->ppos = 0;
	s->eflags = 0;
	s->nitems = s->nready = s->nwaiters = s->truncated = 0;
	s->have_last = s->descend = s->recoveries = 0;
	s->watched = b.watched;
	/* the shape only for small trees: a large one costs what it did */
	s->want_shape = b.watched <= ET_MAX_SHAPE_ITEMS;
	/* item fds are numbers in the owner's table: a sharer's says nothing */
	s->files = tgid == v->in.owner ? (__u64)BPF_CORE_READ(task, files) : 0;
	s->fds_checked = s->files != 0;
	s->items.stale = 0;
	snap_hdr(&s->items.hdr, ET_EV_SNAP_ITEMS, v->in.owner);
	s->items.ep = epaddr;
	snap_hdr(&s->shape.hdr, ET_EV_SNAP_SHAPE, v->in.owner);
	s->shape.ep = epaddr;
	snap_hdr(&s->ready.hdr, ET_EV_SNAP_READY, v->in.owner);
	s->ready.ep = epaddr;
	snap_hdr(&s->waiters.hdr, ET_EV_SNAP_WAITERS, v->in.owner);
	s->waiters.ep = epaddr;
	snap_walk(seq, s);
	return 0;
}

#endif /* EPOLLTRACE_SNAPSHOT_BPF_H */
