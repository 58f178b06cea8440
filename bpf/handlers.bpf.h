/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One handler per logical event.  Every attach point (fentry, kprobe,
 * tracepoint) is a thin wrapper that extracts its arguments and calls one
 * of these, so the modes differ only in what they can see, never in what
 * they report.
 */
#ifndef EPOLLTRACE_HANDLERS_BPF_H
#define EPOLLTRACE_HANDLERS_BPF_H

#include "common.bpf.h"

#define EP_UNACTIVE_PTR ((void *)-1L)
#define TASK_RUNNING 0

/* ---- instance lifetime ------------------------------------------------ */

static __always_inline void handle_create(__u8 src, long ret, __u32 flags, __u32 legacy)
{
	struct et_ev_create *e;
	struct et_inst_val nv = {};
	__u64 ep;

	if (ret < 0)
		return;
	if (!current_is_target()) {
		/*
		 * A new instance at the address of one we still watch: that one
		 * was freed where no record saw it (close-on-exec, an exit); do
		 * not take the stranger's instance for it.
		 */
		ep = current_ep(ret);
		if (ep && inst_lookup(ep))
			bpf_map_delete_elem(&instances, &ep);
		return;
	}
	ep = current_ep(ret);
	if (!ep)
		return;
	nv.in.ep = ep;
	nv.in.owner = bpf_get_current_pid_tgid() >> 32;
	nv.in.epfd = ret;
	/* an address can be reused after a close we did not see: replace */
	inst_insert(ep, &nv, BPF_ANY);
	if (!RESERVE(e, ET_EV_EP_CREATE, src))
		return;
	e->in = nv.in;
	e->flags = flags;
	e->legacy = legacy;
	ring_submit(e);
}

static __always_inline void handle_ep_close(__u8 src, __u64 ep)
{
	struct et_inst_val *v = inst_lookup(ep);
	struct et_ev_close *e;

	if (!v)
		return;
	if (RESERVE(e, ET_EV_EP_CLOSE, src)) {
		e->in = v->in;
		ring_submit(e);
	}
	bpf_map_delete_elem(&instances, &ep);
}

/* ---- interest set ----------------------------------------------------- */

/*
 * ep_find(): the epitem of (file, fd) in the instance's rb-tree, ordered by
 * file address, then fd (ep_cmp_ffd).  A bpf_loop, so that the verifier
 * checks one step, not every path through the tree's height.
 */
struct find_ctx {
	__u64 node;
	__u64 file;
	__u64 found;
	int fd;
};

static long find_step(__u32 i, void *c)
{
	struct find_ctx *x = c;
	struct rb_node *node = (struct rb_node *)x->node;
	struct epitem *epi;
	__u64 f;
	int kfd;

	if (!node)
		return 1;
	epi = ET_CONTAINER_OF(node, struct epitem, rbn);
	f = (__u64)BPF_CORE_READ(epi, ffd.file);
	kfd = BPF_CORE_READ(epi, ffd.fd);
	if (x->file == f && x->fd == kfd) {
		x->found = (__u64)epi;
		return 1;
	}
	if (x->file < f || (x->file == f && x->fd < kfd))
		x->node = (__u64)BPF_CORE_READ(node, rb_left);
	else
		x->node = (__u64)BPF_CORE_READ(node, rb_right);
	return 0;
}

/* is the item linked on rdllist?  (ep_is_linked: its rdllink not empty) */
static __always_inline int item_queued(struct eventpoll *ep, __u64 file, int fd)
{
	struct find_ctx x = { .file = file, .fd = fd };
	struct epitem *epi;
	struct list_head *self;

	x.node = (__u64)BPF_CORE_READ(ep, rbr.rb_root.rb_node);
	bpf_loop(64, find_step, &x, 0);
	if (!x.found)
		return -1;
	epi = (struct epitem *)x.found;
	self = (void *)epi + bpf_core_field_offset(struct epitem, rdllink);
	return BPF_CORE_READ(epi, rdllink.next) != self;
}

static __always_inline void handle_ctl(__u8 src, const struct ctl_args *a, long ret)
{
	struct et_inst_val *v;
	struct et_ev_ctl *e;
	int queued = -1;

	if (ET_CUT(ET_BP_CTL_EXIT, 2))
		return;
	v = inst_for_current(a->epfd, a->ep);
	if (!v || ET_CUT(ET_BP_CTL_EXIT, 3))
		return;
	count(ET_CNT_CTL);
	if (!ret && (a->op == ET_CTL_ADD || a->op == ET_CTL_MOD))
		queued = item_queued((struct eventpoll *)a->ep, a->file, a->fd);
	if (ET_CUT(ET_BP_CTL_EXIT, 4) || !RESERVE(e, ET_EV_CTL, src))
		return;
	e->in = v->in;
	e->in.epfd = a->epfd;	/* the caller's fd, as waits say: a sharer's may differ */
	e->op = a->op;
	e->fd = a->fd;
	e->events = a->events;
	e->data = a->data;
	e->file = a->file;
	e->ret = ret;
	e->queued = queued;
	e->pad = 0;
	ring_submit(e);
}

/* Fill ctl_args from the syscall's or do_epoll_ctl's arguments. */
static __always_inline void ctl_args_fill(struct ctl_args *a, int epfd, int op, int fd,
					  const void *epds, int user)
{
	struct epoll_event *ev = (struct epoll_event *)epds;
	struct epoll_event tmp;

	a->epfd = epfd;
	a->op = op;
	a->fd = fd;
	a->events = 0;
	a->data = 0;
	if (ET_CUT(ET_BP_CTL_ENTER, 2))
		return;
	a->ep = current_ep(epfd);
	if (ET_CUT(ET_BP_CTL_ENTER, 3))
		return;
	a->file = (__u64)current_fd_file(fd);
	/* DEL carries no event (the kernel does not even copy it) */
	if (op == ET_CTL_DEL || !ev || ET_CUT(ET_BP_CTL_ENTER, 4))
		return;
	/* the whole 12-byte (packed, x86_64) struct in one read, not two */
	if (user) {
		if (bpf_probe_read_user(&tmp, sizeof(tmp), ev))
			return;
	} else {
		if (bpf_core_read(&tmp, sizeof(tmp), ev))
			return;
	}
	a->events = tmp.events;
	a->data = tmp.data;
}

static __always_inline void ctl_enter(int epfd, int op, int fd, const void *epds, int user)
{
	struct ctl_args a = {}, *old;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (ET_CUT(ET_BP_CTL_ENTER, 1) || !current_is_tracked())
		return;
	ctl_args_fill(&a, epfd, op, fd, epds, user);
	if (ET_CUT(ET_BP_CTL_ENTER, 5))
		return;
	a.active = 1;
	/* the thread's entry from its last ctl: rewritten in place */
	old = bpf_map_lookup_elem(&ctls, &tid);
	if (old)
		*old = a;
	else
		bpf_map_update_elem(&ctls, &tid, &a, BPF_ANY);
}

static __always_inline void ctl_exit(__u8 src, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct ctl_args *a;

	if (ET_CUT(ET_BP_CTL_EXIT, 1))
		return;
	/* ctl_enter kept arguments only for tracked thread groups */
	if (!trace_all && !bit_maybe(&tgt_bits, id >> 32))
		return;
	a = bpf_map_lookup_elem(&ctls, &tid);
	if (!a || !a->active)
		return;
	handle_ctl(src, a, ret);
	a->active = 0;
}

/*
 * A watched file's last reference went away: the kernel drops every
 * epitem on file->f_ep (eventpoll_release_file).  A dup'd fd keeps the
 * file, so nothing happens until the last one closes.
 */
static __always_inline void handle_release_file(__u8 src, struct file *file)
{
	struct hlist_head *head = BPF_CORE_READ(file, f_ep);
	struct hlist_node *node;

	if (!head)
		return;
	node = BPF_CORE_READ(head, first);
	for (int i = 0; i < ET_MAX_FILE_EPS && node; i++) {
		struct epitem *epi = ET_CONTAINER_OF(node, struct epitem, fllink);
		__u64 ep = (__u64)BPF_CORE_READ(epi, ep);
		struct et_inst_val *v = inst_lookup(ep);
		struct et_ev_release *e;

		node = BPF_CORE_READ(node, next);
		if (!v)
			continue;
		count(ET_CNT_RELEASES);
		if (!RESERVE(e, ET_EV_RELEASE, src))
			continue;
		e->in = v->in;
		e->fd = BPF_CORE_READ(epi, ffd.fd);
		e->events = BPF_CORE_READ(epi, event.events);
		e->data = BPF_CORE_READ(epi, event.data);
		e->file = (__u64)file;
		ring_submit(e);
	}
}

/*
 * Tracepoint mode: close(fd) of the last reference.  The fd is released
 * even when close() returns an error, so this is decided at entry.
 */
static __always_inline void handle_close_fd(int fd)
{
	struct file *f = current_fd_file(fd);

	if (!f || file_refs(f) != 1)
		return;
	/* as __fput does: first out of every instance watching it (an epoll
	 * file can be watched too), then the instance itself */
	handle_release_file(ET_SRC_TRACEPOINT, f);
	if (is_epoll_file(f))
		handle_ep_close(ET_SRC_TRACEPOINT, (__u64)BPF_CORE_READ(f, private_data));
}

/* ---- ep_poll_callback ------------------------------------------------- */

static __always_inline void handle_callback(__u8 src, wait_queue_entry_t *wait, void *key,
					    bool want_ctx)
{
	struct eppoll_entry *pwq = ET_CONTAINER_OF(wait, struct eppoll_entry, wait);
	struct epitem *epi = BPF_CORE_READ(pwq, base);
	__u64 ep = (__u64)BPF_CORE_READ(epi, ep);
	struct et_inst_val *v = inst_lookup(ep);
	struct et_ev_callback *e;

	if (!v)
		return;
	count(ET_CNT_CALLBACKS);
	INST_ADD(v, callbacks);
	if (!RESERVE(e, ET_EV_CALLBACK, src))
		return;
	if (want_ctx)
		e->hdr.flags = irq_context_flags(ET_F_HARDIRQ, ET_F_SOFTIRQ);
	e->in = v->in;
	e->fd = BPF_CORE_READ(epi, ffd.fd);
	e->events = BPF_CORE_READ(epi, event.events);
	e->data = BPF_CORE_READ(epi, event.data);
	e->key = (__u32)(long)key;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	ring_submit(e);
}

/* ---- waits -------------------------------------------------------------- */

/*
 * tid -> the key of its last wait site (wait_chain).  LRU: a thread that
 * exits leaves its entry to be pushed out, and one pushed out early only
 * costs one more chain record.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} chain_sites SEC(".maps");

/* include/uapi/linux/bpf.h (v4.18); the trimmed vmlinux.h has not got it */
#define ET_F_USER_STACK		(1ULL << 8)

#ifdef ET_BENCH
/* make bench --only chains (the bench build): every wait is a new site */
const volatile __u8 chain_every_wait = 0;
#define CHAIN_EVERY_WAIT chain_every_wait
#else
#define CHAIN_EVERY_WAIT 0
#endif

/*
 * Where the waiter waits: its user registers at the wait's entry.  The
 * same ip, sp and bp as last time is the same call chain (an event loop
 * waits at one depth from one call), so the hot path is one register read
 * and one lookup; a change sends the frame-pointer chain, the registers
 * and the top of the user stack (for a DWARF unwind in user space, as perf's
 * --call-graph dwarf) in one record.  The registers are the syscall's entry
 * registers in every mode (task_pt_regs), so a kprobe or fentry on
 * do_epoll_wait sees what the tracepoint sees.
 */
static __always_inline void wait_chain(void *ctx, __u8 src, const struct et_inst *in, int epfd)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct et_ring_wait_chain *e;
	__u64 ip = 0, sp = 0, bp = 0, key, *old;
	__u32 first;
	long n;

	bpf_probe_read_kernel(&ip, sizeof(ip), &r->ip);
	bpf_probe_read_kernel(&sp, sizeof(sp), &r->sp);
	bpf_probe_read_kernel(&bp, sizeof(bp), &r->bp);
	key = ip ^ (sp * 0x9e3779b97f4a7c15ULL) ^ (bp << 1) ^ (bp >> 17);
	old = bpf_map_lookup_elem(&chain_sites, &tid);
	if (old && *old == key && !CHAIN_EVERY_WAIT)
		return;
	/* a record lost to a full ring is counted, and the site stays unsent */
	e = reserve(sizeof(*e), ET_EV_WAIT_CHAIN, src, 0);
	if (!e)
		return;
	if (old)
		*old = key;
	else
		bpf_map_update_elem(&chain_sites, &tid, &key, BPF_ANY);
	e->in = *in;
	e->in.epfd = epfd;
	e->site = key;
	e->ip = ip;
	e->sp = sp;
	e->bp = bp;
	n = bpf_get_stack(ctx, e->fp, sizeof(e->fp), ET_F_USER_STACK);
	e->fp_bytes = n;
	/*
	 * The stack from sp up, a page at a time: a read that crosses the
	 * stack's end fails whole, and sp's page is always there.
	 */
	first = 4096 - (sp & 4095);
	e->stack_len = 0;
	if (first > 4096)
		first = 4096;
	if (first && !bpf_probe_read_user(e->stack, first, (void *)sp)) {
		e->stack_len = first;
		if (!bpf_probe_read_user(e->stack + first, 4096, (void *)(sp + first)))
			e->stack_len += 4096;
		if (e->stack_len == first + 4096 &&
		    !bpf_probe_read_user(e->stack + first + 4096, 4096, (void *)(sp + first + 4096)))
			e->stack_len += 4096;
		if (e->stack_len == first + 8192 &&
		    !bpf_probe_read_user(e->stack + first + 8192, 4096, (void *)(sp + first + 8192)))
			e->stack_len += 4096;
	}
	ring_submit(e);
}

static __always_inline void handle_wait_enter(void *ctx, __u8 src, __u32 sys, int epfd,
					      __u64 ubuf, int maxevents, __s64 timeout_ns)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct et_wait_state st = {}, *old;
	struct et_ev_wait_enter *e;
	struct et_inst_val *v;
	__u64 ep;

	if (ET_CUT(ET_BP_WAIT_ENTER, 1))
		return;
	/* every process's waits come here: strangers leave before the fd walk */
	if (!current_is_tracked() || ET_CUT(ET_BP_WAIT_ENTER, 2))
		return;
	ep = current_ep(epfd);
	if (ET_CUT(ET_BP_WAIT_ENTER, 3))
		return;
	v = inst_for_current(epfd, ep);
	if (!v || ET_CUT(ET_BP_WAIT_ENTER, 4))
		return;
	count(ET_CNT_WAIT_ENTER);
	INST_ADD(v, wait_enter);
	st.ep = ep;
	st.ubuf = ubuf;
	st.owner = v->in.owner;
	st.epfd = epfd;
	st.maxevents = maxevents;
	st.requeued = -1;
	st.sys = sys;
	st.active = 1;
	/* the thread's entry from its last wait: rewritten in place */
	old = bpf_map_lookup_elem(&waits, &tid);
	if (old) {
		*old = st;
	} else {
		bit_set(&wait_bits, tid);
		bpf_map_update_elem(&waits, &tid, &st, BPF_ANY);
	}
	if (ET_CUT(ET_BP_WAIT_ENTER, 5) || !RESERVE(e, ET_EV_WAIT_ENTER, src))
		return;
	if (old)
		old->enter_ns = e->hdr.ts_ns;
	e->in = v->in;
	e->in.epfd = epfd;
	e->maxevents = maxevents;
	e->sys = sys;
	e->timeout_ns = timeout_ns;
	e->ubuf = ubuf;
	ring_submit(e);
	if (!ET_CUT(ET_BP_WAIT_ENTER, 6))
		wait_chain(ctx, src, &v->in, epfd);
}

/* the ring form of a wait's end with k event slots (include/epolltrace.h) */
#define WX_SIZE(k) (__builtin_offsetof(struct et_ring_wait_exit, ev) + (k) * 12)

/* the wait's end record with room for slots (a constant) events, n <= slots */
static __always_inline void wait_end_record(__u8 src, struct et_wait_state *st, long ret,
					    __u32 n, const __u32 slots)
{
	struct et_ring_wait_exit *e = reserve(WX_SIZE(slots), ET_EV_WAIT_EXIT, src, 0);
	__u64 k = n;

	if (!e) {
		/* two of the stream's records lost, send_events too: count both */
		if (ret >= 0)
			count(ET_CNT_RB_DROPS);
		return;
	}
	e->in.ep = st->ep;
	e->in.owner = st->owner;
	e->in.epfd = st->epfd;
	e->ret = ret;
	e->ncopied = n;
	e->slept_ns = st->slept_ns;
	e->requeued = st->requeued;
	e->run_delay_ns = st->run_delay_ns;
	/* the n events the wait returned, in one read, as they are; the
	 * barriers keep the bound on the register the size is made of */
	barrier_var(k);
	if (k > slots)
		k = slots;
	barrier_var(k);
	/* a fault leaves zeros, as a read per event did */
	if (k && !ET_CUT(ET_BP_WAIT_EXIT, 4))
		bpf_probe_read_user(e->ev, k * 12, (const void *)st->ubuf);
	else
		e->ncopied = 0;
	ring_submit(e);
}

/*
 * One ring record for the wait's end: the session makes the stream's
 * send_events and wait_exit records of it (cli/kernel/session.c).  The
 * two records were more than half of this program's cost (make bench,
 * STEPS: 470 ns of 800), and unpacking the events here another part.
 */
static __always_inline void handle_wait_exit(__u8 src, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct et_wait_state *st;
	struct et_inst_val *v;
	__u32 n;

	if (ET_CUT(ET_BP_WAIT_EXIT, 1))
		return;
	if (!bit_maybe(&wait_bits, tid))
		return;
	st = bpf_map_lookup_elem(&waits, &tid);
	if (!st || !st->active)
		return;
	if (ET_CUT(ET_BP_WAIT_EXIT, 2))
		goto out;
	count(ET_CNT_WAIT_EXIT);
	v = inst_lookup(st->ep);
	if (v) {
		INST_ADD(v, wait_exit);
		if (ret > 0)
			__sync_fetch_and_add(&v->cnt.events, ret);
		if (ret == 0 && st->slept)
			INST_ADD(v, zero_wakeups);
	}
	if (ret > 0) {
		__u64 *c;
		__u32 idx = ET_CNT_EVENTS_DELIVERED;

		c = bpf_map_lookup_elem(&counters, &idx);
		if (c && !session_ending)
			*c += ret;
	}
	if (ret == 0 && st->slept)
		count(ET_CNT_ZERO_WAKEUPS);
	if (ET_CUT(ET_BP_WAIT_EXIT, 3))
		goto out;
	n = ret > 0 ? ret : 0;
	if (n > ET_WAIT_MAX_EVENTS)
		n = ET_WAIT_MAX_EVENTS;
	/* the ring takes constant sizes: 1, 4 or 16 slots */
	if (n <= 1)
		wait_end_record(src, st, ret, n, 1);
	else if (n <= 4)
		wait_end_record(src, st, ret, n, 4);
	else
		wait_end_record(src, st, ret, n, ET_WAIT_MAX_EVENTS);
out:
	/* the entry stays for the thread's next wait (handle_exit drops it) */
	st->active = 0;
	st->sleep_ns = 0;
}

/*
 * A walk of ready-list entries, one bpf_loop step each.  The state lives
 * in a per-cpu map: the verifier accepts a variable index into a map
 * value, not into the caller's stack from a callback.
 */
struct scan_ctx {
	__u64 pos;		/* current entry */
	__u64 head;		/* list head (rdllink lists), 0: ovflist chain */
	__u32 n;
	__u32 total;
	__s32 fd[ET_WAIT_MAX_EVENTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan_ctx);
} scan_scratch SEC(".maps");

static long scan_step(__u32 i, void *c)
{
	__u32 zero = 0;
	struct scan_ctx *x = bpf_map_lookup_elem(&scan_scratch, &zero);
	struct list_head *lp;
	struct epitem *epi;
	__u32 k;

	if (!x || !x->pos || x->pos == x->head || x->pos == (__u64)EP_UNACTIVE_PTR)
		return 1;
	/* locals, not x->pos, inside BPF_CORE_READ: the relocation must be
	 * against the kernel's types, not scan_ctx */
	lp = (struct list_head *)x->pos;
	if (x->head)
		epi = ET_CONTAINER_OF(lp, struct epitem, rdllink);
	else
		epi = (struct epitem *)x->pos;
	x->total++;
	k = x->n;
	if (k < ET_WAIT_MAX_EVENTS) {
		x->fd[k] = BPF_CORE_READ(epi, ffd.fd);
		x->n = k + 1;
	}
	if (x->head)
		x->pos = (__u64)BPF_CORE_READ(lp, next);
	else
		x->pos = (__u64)epi_ovflist_next(epi);
	return 0;
}

/*
 * ep_done_scan(ep, txlist), at entry: ep_send_events has taken what it
 * delivered off the list; txlist holds what it did not reach, rdllist the
 * level-triggered items it put back, ovflist what arrived meanwhile.
 * Together they are the ready list the scan leaves.  ep->mtx is held, so
 * rdllist is stable; ovflist may still grow (those arrivals are also seen
 * as callbacks).
 */
static __always_inline void handle_done_scan(__u8 src, struct eventpoll *ep,
					     struct list_head *txlist)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0, ntx;
	__u64 epp = (__u64)ep, epa = 0;
	struct et_inst_val *v;
	struct et_wait_state *st;
	struct scan_ctx *x;
	struct et_ev_scan *e;

	/*
	 * Under fentry, ep is a BTF pointer to the verifier, on which the
	 * filter's shift is refused: read its value back as a number.
	 */
	bpf_probe_read_kernel(&epa, sizeof(epa), &epp);
	v = inst_lookup(epa);
	if (!v)
		return;
	st = bpf_map_lookup_elem(&waits, &tid);
	x = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!x)
		return;
	x->n = 0;
	x->total = 0;
	for (int i = 0; i < ET_WAIT_MAX_EVENTS; i++)
		x->fd[i] = -1;
	x->head = (__u64)txlist;
	x->pos = (__u64)BPF_CORE_READ(txlist, next);
	bpf_loop(ET_MAX_LIST_ITEMS, scan_step, NULL, 0);
	ntx = x->total;
	x->head = 0;
	x->pos = (__u64)BPF_CORE_READ(ep, ovflist);
	bpf_loop(ET_MAX_LIST_ITEMS, scan_step, NULL, 0);
	x->head = (__u64)ep + bpf_core_field_offset(struct eventpoll, rdllist);
	x->pos = (__u64)BPF_CORE_READ(ep, rdllist.next);
	bpf_loop(ET_MAX_LIST_ITEMS, scan_step, NULL, 0);
	if (st && st->active && st->ep == (__u64)ep) {
		st->requeued = x->total - ntx;
		st->scans++;
	}
	if (!RESERVE(e, ET_EV_SCAN, src))
		return;
	e->in = v->in;
	e->n = x->n;
	e->truncated = x->total > ET_WAIT_MAX_EVENTS;
	__builtin_memcpy(e->fd, x->fd, sizeof(e->fd));
	ring_submit(e);
}

/* ---- sleep and wakeup (sched tracepoints, every mode) ------------------ */

#define SLEEP_WQ_WALK	8

/*
 * Whether a thread inside a wait that blocks now is asleep on the
 * instance's wait queue.  ep_poll puts its entry at the head
 * (__add_wait_queue_exclusive) just before it schedules, so it is among
 * the first few.  Anything else that blocks inside epoll_wait is not a
 * sleep of the wait: ep->mtx taken by another thread's transfer or ctl,
 * or a fault in the copy-out that userfaultfd holds (the "ovflist"
 * scenario).  A queue longer than the walk: taken as a sleep.
 */
static __always_inline bool sleeps_on_wq(__u64 ep, struct task_struct *t)
{
	__u64 head;
	struct list_head *pos;

	if (!ep)
		return true;
	head = ep + bpf_core_field_offset(struct eventpoll, wq) +
	       bpf_core_field_offset(struct wait_queue_head, head);
	pos = BPF_CORE_READ((struct eventpoll *)ep, wq.head.next);
	for (int i = 0; i < SLEEP_WQ_WALK; i++) {
		struct wait_queue_entry *w;

		if (!pos || (__u64)pos == head)
			return false;
		w = ET_CONTAINER_OF(pos, struct wait_queue_entry, entry);
		if (BPF_CORE_READ(w, private) == t)
			return true;
		pos = BPF_CORE_READ(pos, next);
	}
	return true;
}

/*
 * prev and p below are tp_btf arguments, trusted pointers: read directly
 * (a load), not with bpf_probe_read_kernel (a helper call).
 */
/*
 * The switch-in of a waiter woken while asleep in a traced wait: the end
 * of its wakeup latency (handle_waking stamped the start), kept for the
 * wait's end record.  Every context switch of the machine passes here:
 * the bitmap decides "not ours" before any map lookup.
 */
static __always_inline void handle_switch_in(struct task_struct *next)
{
	__u32 tid = next->pid;
	struct et_wait_state *st;
	__u64 d;

	if (!bit_maybe(&wait_bits, tid))
		return;
	st = bpf_map_lookup_elem(&waits, &tid);
	if (!st || !st->woke_ns || !st->active)
		return;
	d = bpf_ktime_get_ns() - st->woke_ns;
	st->run_delay_ns = d > 0xffffffffULL ? 0xffffffffU : (d ? d : 1);
	st->woke_ns = 0;
}

static __always_inline void handle_switch(bool preempt, struct task_struct *prev)
{
	__u32 tid;
	struct et_wait_state *st;
	struct et_ev_sleep *e;
	__u64 now;

	if (preempt || ET_CUT(ET_BP_SWITCH, 1))
		return;
	tid = prev->pid;
	if (!bit_maybe(&wait_bits, tid) || prev->__state == TASK_RUNNING ||
	    ET_CUT(ET_BP_SWITCH, 2))
		return;
	st = bpf_map_lookup_elem(&waits, &tid);
	if (!st || !st->active || st->sleep_ns || ET_CUT(ET_BP_SWITCH, 3))
		return;
	if (!sleeps_on_wq(st->ep, prev) || ET_CUT(ET_BP_SWITCH, 4))
		return;
	now = bpf_ktime_get_ns();
	st->sleep_ns = now;
	st->slept++;
	count(ET_CNT_SLEEPS);
	{
		struct et_inst_val *v = inst_lookup(st->ep);

		if (v)
			INST_ADD(v, sleeps);
	}
	if (ET_CUT(ET_BP_SWITCH, 5) || !RESERVE_AT(e, ET_EV_SLEEP, ET_SRC_SCHED, now))
		return;
	e->in.ep = st->ep;
	e->in.owner = st->owner;
	e->in.epfd = st->epfd;
	ring_submit(e);
}

/*
 * In which context a wakeup runs, for the wakeup record.  Three ways, the
 * rungs of the "sleep" hook (cli/kernel/plan.c), best first:
 *  - WAKER_CTX_PREEMPT: the preempt count (core_fixes.bpf.h: a per-cpu
 *    ksym, so only where kallsyms has data symbols), plus the hrtimer
 *    account below for the timer bit;
 *  - WAKER_CTX_TRACKED: a per-cpu account kept by the irq_handler,
 *    softirq and hrtimer_expire tracepoints.  It sees device interrupts,
 *    softirqs (ksoftirqd's too) and every hrtimer expiry (a wait's own
 *    timeout is one: schedule_hrtimeout_range -> hrtimer_wakeup); an IPI
 *    or irq_work that wakes someone is not seen and counts as the task;
 *  - WAKER_CTX_NONE: context unknown (ET_F_CTX_KNOWN clear).
 */
enum waker_ctx {
	WAKER_CTX_NONE,
	WAKER_CTX_PREEMPT,
	WAKER_CTX_TRACKED,
};

#define IRQ_TRACK_TIMER_BITS 32

struct irq_track {
	__u32 hardirq;		/* inside irq_handler_entry .. exit */
	__u32 softirq;		/* inside softirq_entry .. exit */
	__u32 timers;		/* hrtimer expiries in progress (they nest) */
	__u32 soft_timers;	/* bit n: the expiry at depth n is a softirq hrtimer */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irq_track);
} irq_track SEC(".maps");

static __always_inline struct irq_track *irq_track_get(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&irq_track, &k);
}

/*
 * The exits are attached before the entries (plan.c lists them first), so
 * an exit whose entry came before tracing began finds 0: never underflow.
 */
static __always_inline void irq_track_hardirq(int enter)
{
	struct irq_track *t = irq_track_get();

	if (!t)
		return;
	if (enter)
		t->hardirq++;
	else if (t->hardirq)
		t->hardirq--;
}

static __always_inline void irq_track_softirq(int enter)
{
	struct irq_track *t = irq_track_get();

	if (!t)
		return;
	if (enter)
		t->softirq++;
	else if (t->softirq)
		t->softirq--;
}

static __always_inline void irq_track_timer(int enter, struct hrtimer *timer)
{
	struct irq_track *t = irq_track_get();
	__u32 d;

	if (!t)
		return;
	if (!enter) {
		if (t->timers)
			t->timers--;
		return;
	}
	d = t->timers;
	if (d < IRQ_TRACK_TIMER_BITS) {
		/* timer is a tp_btf argument: a direct load, not a helper call
		 * (hrtimer_is_soft in core_fixes.bpf.h, for where it is not) */
		if (bpf_core_field_exists(timer->is_soft) ? timer->is_soft : 0)
			t->soft_timers |= 1u << d;
		else
			t->soft_timers &= ~(1u << d);
	}
	t->timers = d + 1;
}

/* ET_F_* context flags of the current CPU, from the account above */
static __always_inline __u16 irq_track_flags(enum waker_ctx how)
{
	struct irq_track *t = irq_track_get();
	__u32 d;

	if (!t)
		return 0;
	if (t->timers) {
		d = t->timers - 1;
		if (how == WAKER_CTX_PREEMPT)
			return ET_F_TIMER;
		if (d < IRQ_TRACK_TIMER_BITS && (t->soft_timers >> d) & 1)
			return ET_F_CTX_KNOWN | ET_F_TIMER | ET_F_SOFTIRQ;
		return ET_F_CTX_KNOWN | ET_F_TIMER | ET_F_HARDIRQ;
	}
	if (how == WAKER_CTX_PREEMPT)
		return 0;
	if (t->hardirq)
		return ET_F_CTX_KNOWN | ET_F_HARDIRQ;
	if (t->softirq)
		return ET_F_CTX_KNOWN | ET_F_SOFTIRQ;
	return ET_F_CTX_KNOWN;
}

/*
 * sched_waking runs in the waker's context (sched_wakeup may not): a
 * task, or an interrupt, in which case "current" is only the task it
 * interrupted; hdr.flags tell which.
 */
static __always_inline void handle_waking(struct task_struct *p, enum waker_ctx how)
{
	__u32 tid = p->pid;
	struct et_wait_state *st;
	struct et_ev_wakeup *e;
	__u64 now, id;
	__u16 flags = 0;

	if (ET_CUT(ET_BP_WAKING, 1) || !bit_maybe(&wait_bits, tid))
		return;
	st = bpf_map_lookup_elem(&waits, &tid);
	if (!st || !st->active || !st->sleep_ns || ET_CUT(ET_BP_WAKING, 2))
		return;
	now = bpf_ktime_get_ns();
	st->slept_ns += now - st->sleep_ns;
	st->sleep_ns = 0;
	st->woke_ns = now;	/* its switch-in ends the wakeup latency */
	count(ET_CNT_WAKEUPS);
	{
		struct et_inst_val *v = inst_lookup(st->ep);

		if (v)
			INST_ADD(v, wakeups);
	}
	if (ET_CUT(ET_BP_WAKING, 3))
		return;
	if (how == WAKER_CTX_PREEMPT)
		flags = irq_context_flags(ET_F_HARDIRQ, ET_F_SOFTIRQ) | irq_track_flags(how);
	else if (how == WAKER_CTX_TRACKED)
		flags = irq_track_flags(how);
	if (ET_CUT(ET_BP_WAKING, 4) || !RESERVE_AT(e, ET_EV_WAKEUP, ET_SRC_SCHED, now))
		return;
	e->hdr.flags = flags;
	id = bpf_get_current_pid_tgid();
	e->hdr.pid = p->tgid;
	e->hdr.tid = tid;
	e->in.ep = st->ep;
	e->in.owner = st->owner;
	e->in.epfd = st->epfd;
	e->waker_pid = id >> 32;
	e->waker_tid = (__u32)id;
	bpf_get_current_comm(e->waker_comm, sizeof(e->waker_comm));
	ring_submit(e);
}

/* ---- process lifetime ---------------------------------------------------- */

static __always_inline void handle_exit(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), tid = BPF_CORE_READ(p, pid);
	struct et_ev_task_exit *e;
	bool group_dead;

	if (!is_tracked_tgid(tgid))
		return;
	bpf_map_delete_elem(&waits, &tid);
	bpf_map_delete_elem(&ctls, &tid);
	/* do_exit decremented signal->live before this tracepoint: 0 in the
	 * last thread (and in any that exits after it, harmlessly) */
	group_dead = BPF_CORE_READ(p, signal, live.counter) == 0;
	/*
	 * The pid may be handed to a new process at once: it is no target
	 * (a fork under -f makes it one again, in handle_fork).  Before the
	 * record: nothing of the newcomer may follow it.
	 */
	if (group_dead && !trace_all)
		bpf_map_delete_elem(&targets, &tgid);
	if (!RESERVE(e, ET_EV_TASK_EXIT, ET_SRC_SCHED))
		return;
	if (group_dead)
		e->hdr.flags = ET_F_GROUP_DEAD | (trace_all ? 0 : ET_F_UNTRACED);
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->pad = 0;
	ring_submit(e);
}

static __always_inline void handle_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u32 *flags;
	struct et_ev_fork *e;

	if (ptgid == ctgid || trace_all || !bit_maybe(&tgt_bits, ptgid))
		return;
	flags = bpf_map_lookup_elem(&targets, &ptgid);
	if (!flags || !(*flags & ET_TGT_FOLLOW))
		return;
	target_add(ctgid, *flags);
	if (!RESERVE(e, ET_EV_FORK, ET_SRC_SCHED))
		return;
	e->child_pid = ctgid;
	e->pad = 0;
	ring_submit(e);
}

#endif /* EPOLLTRACE_HANDLERS_BPF_H */
