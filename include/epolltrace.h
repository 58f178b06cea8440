/* SPDX-License-Identifier: GPL-2.0 */
/*
 * epolltrace event vocabulary: the records the BPF programs write to the
 * ring buffers, shared by the kernel side (bpf/), the decoder and every
 * consumer in cli/.  This file is the only definition of the wire format
 * between kernel and user space; keep it free of libc and libbpf types so
 * that the BPF side can include it after vmlinux.h.
 *
 * Conventions:
 *  - every record starts with struct et_hdr;
 *  - hdr.pid/hdr.tid are the task in whose context the hook ran (for
 *    ep_poll_callback that is the waker, not the owner of the instance);
 *  - events about an epoll instance carry its kernel address (ep), its
 *    owner's pid and the epfd through which the owner reaches it;
 *  - pointers travel as __u64 and are used only as identities.
 */
#ifndef EPOLLTRACE_H
#define EPOLLTRACE_H

#define ET_COMM_LEN		16
/* delivered events copied from the user buffer at wait exit */
#define ET_WAIT_MAX_EVENTS	16
/* items per snapshot batch record */
#define ET_SNAP_BATCH		32
/* upper bounds for walks inside BPF (rb-tree, lists, waiters) */
#define ET_MAX_TREE_ITEMS	(1 << 20)
#define ET_MAX_LIST_ITEMS	(1 << 16)
/* every sleeper is counted and sent; a wait queue longer than this is
 * marked cut (ET_F_WAITERS_CUT), never passed off as complete */
#define ET_MAX_WAITERS		(1 << 16)
#define ET_MAX_FILE_EPS		8
#define ET_MAX_TARGETS		1024
#define ET_MAX_INSTANCES	65536

enum et_type {
	ET_EV_EP_CREATE = 1,	/* epoll_create/epoll_create1 returned an fd */
	ET_EV_EP_CLOSE,		/* last reference to the instance dropped */
	ET_EV_CTL,		/* epoll_ctl ADD/MOD/DEL (explicit change) */
	ET_EV_RELEASE,		/* implicit removal: watched file's last ref */
	ET_EV_CALLBACK,		/* ep_poll_callback ran for a watched item */
	ET_EV_WAIT_ENTER,	/* a thread entered epoll_wait & co */
	ET_EV_SLEEP,		/* that thread was scheduled out asleep */
	ET_EV_WAKEUP,		/* that thread was woken */
	ET_EV_WAIT_EXIT,	/* the wait returned */
	ET_EV_SEND_EVENTS,	/* events were transferred to user space */
	ET_EV_SNAP_BEGIN,	/* snapshot of one instance: header */
	ET_EV_SNAP_ITEMS,	/* ... a batch of rb-tree items, tree order */
	ET_EV_SNAP_READY,	/* ... a batch of rdllist/ovflist entries */
	ET_EV_SNAP_WAITERS,	/* ... a batch of wait-queue tids */
	ET_EV_SNAP_END,		/* ... end of this instance's snapshot */
	ET_EV_TASK_EXIT,	/* a traced thread (or the whole process) exited */
	ET_EV_FORK,		/* a traced process forked (followed with -f) */
	ET_EV_LOST,		/* synthesized in user space: ring-buffer losses */
	ET_EV_STATS,		/* synthesized in user space: exact counters */
	ET_EV_SCAN,		/* ep_done_scan: the ready list a scan leaves */
	ET_EV_SNAP_ROUND,	/* a snapshot round ended, after its snapshots */
	ET_EV_EP_INSERT,	/* ep_insert at its inlined site: an item is inserted */
	ET_EV_EP_POLL,		/* ep_poll at its inlined site: the wait loop is entered */
	ET_EV_EP_SEND_EVENTS,	/* ep_send_events at its site: the copy out starts */
	ET_EV_SHARER,		/* a process holds a traced instance without being a target */
	ET_EV_LESSON,		/* user space (`learn`): a lesson's step, with its narration */
	ET_EV_SNAP_SHAPE,	/* snapshot: the rb_nodes of the last ITEMS batch (small trees) */
	ET_EV_WAIT_RUN,		/* a woken waiter ran (its switch-in), before its wait's end */
	ET_EV_WAIT_CHAIN,	/* user space: where a waiter waits (its call chain, symbolized) */
	ET_EV_MAX,
};

/* Where a record came from: the attach point that produced it. */
enum et_src {
	ET_SRC_TRACEPOINT = 0,
	ET_SRC_FENTRY,
	ET_SRC_KPROBE,
	ET_SRC_ITER,
	ET_SRC_SCHED,
	ET_SRC_USER,
	ET_SRC_INLINE,		/* a kprobe at an inlined site (sites file) */
};

/* hdr.flags */
#define ET_F_HARDIRQ	(1u << 0)	/* ran in hard irq context */
#define ET_F_SOFTIRQ	(1u << 1)	/* ran in softirq context */
#define ET_F_GROUP_DEAD	(1u << 2)	/* TASK_EXIT: whole process gone */
#define ET_F_TRUNCATED	(1u << 3)	/* SNAP: not an exact picture (a walk cut short or raced) */
#define ET_F_SCANNING	(1u << 4)	/* SNAP: ovflist active (scan running) */
#define ET_F_COUNTED	(1u << 5)	/* SNAP: watched counted by walk */
#define ET_F_CTX_KNOWN	(1u << 6)	/* HARDIRQ/SOFTIRQ/NMI/TIMER bits are meaningful */
#define ET_F_NMI	(1u << 7)	/* ran in NMI context */
#define ET_F_TIMER	(1u << 8)	/* WAKEUP: inside an hrtimer's expiry (a timeout, a timerfd) */
/* TASK_EXIT with GROUP_DEAD: the pid is no target any more (it may be given
 * to a new process at once; a fork under -f makes it one again) */
#define ET_F_UNTRACED	(1u << 11)
/*
 * SNAP_END: which part of the picture is not exact.  ET_F_TRUNCATED is set
 * with any of them (and alone by older versions: then every part is suspect).
 */
#define ET_F_ITEMS_MOVED (1u << 12)	/* SNAP: the rb-tree changed during the walk */
#define ET_F_ITEMS_CUT	(1u << 13)	/* SNAP: the tree walk stopped short: items past
					 * the last one listed are unknown */
#define ET_F_READY_CUT	(1u << 14)	/* SNAP: the ready-list walk stopped short */
#define ET_F_WAITERS_CUT (1u << 15)	/* SNAP: the wait-queue walk stopped short */
/*
 * SNAP_END: every item's rb_node was sent (SNAP_SHAPE records): the tree is
 * at most ET_MAX_SHAPE_ITEMS items.  Its exactness is the items' (ITEMS_MOVED).
 */
#define ET_F_SHAPE	(1u << 9)
/* SNAP_END: every item's fd was looked up in the walker's fd table
 * (et_ev_snap_items.stale says which no longer hold the item's file) */
#define ET_F_FDS_CHECKED (1u << 10)
#define ET_F_SNAP_PARTS	(ET_F_ITEMS_MOVED | ET_F_ITEMS_CUT | ET_F_READY_CUT | ET_F_WAITERS_CUT)

enum et_ctl_op {
	ET_CTL_ADD = 1,
	ET_CTL_DEL = 2,
	ET_CTL_MOD = 3,
};

enum et_wait_sys {
	ET_WAIT_EPOLL_WAIT = 0,
	ET_WAIT_EPOLL_PWAIT,
	ET_WAIT_EPOLL_PWAIT2,
	ET_WAIT_DO_EPOLL_WAIT,	/* seen below the syscall layer */
};

struct et_hdr {
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 pid;
	__u32 tid;
	__u16 type;		/* enum et_type */
	__u16 cpu;
	__u16 flags;		/* ET_F_* */
	__u8 src;		/* enum et_src */
	__u8 pad;
};

/* An epoll instance as the events name it. */
struct et_inst {
	__u64 ep;		/* struct eventpoll address (identity only) */
	__u32 owner;		/* tgid that created / owns it */
	__s32 epfd;		/* owner's fd for it, -1 if unknown */
};

struct et_ev_create {
	struct et_hdr hdr;
	struct et_inst in;
	__u32 flags;
	__u32 legacy;		/* 1: epoll_create, 0: epoll_create1 */
};

struct et_ev_close {
	struct et_hdr hdr;
	struct et_inst in;
};

struct et_ev_ctl {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 op;		/* enum et_ctl_op */
	__s32 fd;
	__u32 events;
	__s32 ret;		/* 0 or -errno */
	__u64 data;
	__u64 file;		/* target struct file (identity only) */
	/*
	 * After a successful ADD/MOD: 1 if the item sits on the ready list
	 * (ep_insert/ep_modify poll the file and queue it themselves, with
	 * no ep_poll_callback), 0 if not, -1 if the item was not found.
	 */
	__s32 queued;
	__u32 pad;
};

struct et_ev_release {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 fd;		/* the fd number the item was registered with */
	__u32 events;
	__u64 data;
	__u64 file;
};

struct et_ev_callback {
	struct et_hdr hdr;	/* pid/tid: the waker */
	struct et_inst in;
	__s32 fd;
	__u32 events;		/* interest mask of the item */
	__u64 data;
	__u32 key;		/* poll flags passed by the waker (0: unknown) */
	__u32 pad;
	char comm[ET_COMM_LEN];	/* the waker's comm */
};

struct et_ev_wait_enter {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 maxevents;
	__u32 sys;		/* enum et_wait_sys */
	__s64 timeout_ns;	/* -1: infinite */
	__u64 ubuf;		/* user buffer address */
};

struct et_ev_sleep {
	struct et_hdr hdr;
	struct et_inst in;
};

/*
 * hdr.flags say in which context the wakeup ran (ET_F_CTX_KNOWN and the
 * HARDIRQ/SOFTIRQ/NMI/TIMER bits).  In interrupt context the waker_*
 * fields name the task that the interrupt happened to interrupt: nobody's
 * doing, and the views do not show them as the waker.
 */
struct et_ev_wakeup {
	struct et_hdr hdr;	/* pid/tid: the woken waiter */
	struct et_inst in;
	__u32 waker_pid;
	__u32 waker_tid;
	char waker_comm[ET_COMM_LEN];
};

struct et_wait_event {
	__u32 events;
	__u32 pad;
	__u64 data;
};

struct et_ev_wait_exit {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 ret;		/* count or -errno */
	__u32 ncopied;		/* entries valid in ev[] */
	__u64 slept_ns;		/* time spent asleep inside this wait */
	struct et_wait_event ev[ET_WAIT_MAX_EVENTS];
};

struct et_ev_send_events {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 count;		/* events transferred, -1 unknown */
	__s32 requeued;		/* items left/re-queued on rdllist, -1 unknown */
};

/*
 * What ep_send_events leaves on the ready list, read at ep_done_scan:
 * the unscanned rest (txlist), the items queued during the scan
 * (ovflist) and the level-triggered items put back (rdllist).  Membership
 * is exact; the order is approximate.
 */
struct et_ev_scan {
	struct et_hdr hdr;
	struct et_inst in;
	__u32 n;		/* fds in fd[] */
	__u32 truncated;	/* more than ET_WAIT_MAX_EVENTS, or a walk bound */
	__s32 fd[ET_WAIT_MAX_EVENTS];
};

struct et_ev_snap_begin {
	struct et_hdr hdr;	/* pid: owner; tid: 0 */
	struct et_inst in;
	__u64 seq;		/* snapshot round number */
	__s64 watched;		/* epitems in the rb-tree (-1 unknown) */
};

struct et_snap_item {
	__s32 fd;
	__u32 events;
	__u64 data;
	__u64 file;
};

struct et_ev_snap_items {
	struct et_hdr hdr;
	__u64 ep;
	__u32 n;
	/*
	 * Bit i: item[i]'s fd number, in the fd table of the task the walk
	 * went through, is closed or holds another file (a stale
	 * registration).  Meaningful when the SNAP_END has ET_F_FDS_CHECKED;
	 * 0 in older versions (then the field was padding).
	 */
	__u32 stale;
	struct et_snap_item item[ET_SNAP_BATCH];
};

struct et_ev_snap_ready {
	struct et_hdr hdr;
	__u64 ep;
	__u32 n;
	__u32 ovf;		/* 1: these came from ovflist */
	__s32 fd[ET_SNAP_BATCH];
};

struct et_ev_snap_waiters {
	struct et_hdr hdr;
	__u64 ep;
	__u32 n;
	__u32 pad;
	__u32 tid[ET_SNAP_BATCH];
};

struct et_ev_snap_end {
	struct et_hdr hdr;
	struct et_inst in;
	__u64 seq;
	__u32 nitems;		/* items walked */
	__u32 nready;
	__u32 nwaiters;
	__u32 pad;
};

/*
 * The end of a snapshot round, written by the iterator's last call and
 * delivered after the round's snapshots.  A complete round (no drops,
 * hdr.flags without ET_F_TRUNCATED) visited every instance a traced
 * process (or a process sharing a traced instance) held: one it did not
 * visit is gone, closed where no record could see it (close-on-exec, an
 * exit, a descriptor passed away).
 */
struct et_ev_snap_round {
	struct et_hdr hdr;	/* pid, tid: 0 */
	__u64 seq;		/* the round */
	__u64 start_ns;		/* the round's first walk began after this */
	__u32 instances;	/* instances walked */
	__u32 drops;		/* snapshot records lost in this round */
};

struct et_ev_task_exit {
	struct et_hdr hdr;	/* flags & ET_F_GROUP_DEAD: whole process */
	__s32 exit_code;
	__u32 pad;
};

struct et_ev_fork {
	struct et_hdr hdr;	/* the parent */
	__u32 child_pid;
	__u32 pad;
};

struct et_ev_lost {
	struct et_hdr hdr;
	__u64 count;		/* records lost since the previous LOST */
	__u32 ring;		/* 0: event ring, 1: snapshot ring */
	__u32 pad;
};

/*
 * Counters aggregated in BPF maps (per-CPU array), exact even when the
 * ring buffers overflow.  Index with enum et_counter.
 */
enum et_counter {
	ET_CNT_CALLBACKS = 0,
	ET_CNT_WAIT_ENTER,
	ET_CNT_WAIT_EXIT,
	ET_CNT_EVENTS_DELIVERED,
	ET_CNT_ZERO_WAKEUPS,	/* waits that slept and returned 0 events */
	ET_CNT_SLEEPS,
	ET_CNT_WAKEUPS,
	ET_CNT_CTL,
	ET_CNT_RELEASES,
	ET_CNT_RB_DROPS,	/* event ring reservations that failed */
	ET_CNT_SNAP_DROPS,	/* snapshot ring reservations that failed */
	ET_CNT_MAX,
};

/* Exact per-instance counters (instances map value, after the identity) */
struct et_inst_counters {
	__u64 callbacks;
	__u64 wait_enter;
	__u64 wait_exit;
	__u64 events;		/* events delivered to user space */
	__u64 zero_wakeups;	/* waits that slept and returned 0 */
	__u64 sleeps;
	__u64 wakeups;
};

struct et_inst_val {
	struct et_inst in;
	struct et_inst_counters cnt;
	__u64 snap_seq;		/* last snapshot round that visited it */
};

/* Synthesized in user space at each snapshot round: the global counters. */
struct et_ev_stats {
	struct et_hdr hdr;
	__u64 cnt[ET_CNT_MAX];
};

/*
 * The named functions at their inlined sites (the "inline" rung): one
 * kprobe per site, its BPF cookie the index of the site in the
 * inline_sites map, which says where each argument lives there.
 */
struct et_ev_ep_insert {
	struct et_hdr hdr;
	struct et_inst in;	/* ep from do_epoll_ctl's entry: optimized out at the site */
	__s32 fd;
	__u32 events;
	__u64 data;
	__u64 file;		/* the target struct file (identity only) */
};

struct et_ev_ep_poll {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 maxevents;
	__u32 site;		/* index of the site in the sites file's order */
	/* ep_poll's timeout is do_epoll_wait's absolute expiry (CLOCK_MONOTONIC,
	 * the clock of ts_ns): -1 infinite, 0 do not wait, -2 not readable */
	__s64 deadline_ns;
};

struct et_ev_ep_send_events {
	struct et_hdr hdr;
	struct et_inst in;
	__s32 maxevents;	/* -1: not readable at the site */
	__u32 site;
};

#define ET_INLINE_MAX_SITES	32
#define ET_INLINE_ARGS		4

enum et_inline_kind {
	ET_INL_EP_INSERT = 1,	/* args: event, tfile, fd */
	ET_INL_EP_POLL,		/* args: ep, maxevents, timeout */
	ET_INL_EP_SEND_EVENTS,	/* args: ep, maxevents */
};

enum et_iloc {
	ET_ILOC_ABSENT = 0,	/* optimized out, or no such argument */
	ET_ILOC_REG,		/* pt_regs word reg */
	ET_ILOC_MEM,		/* memory at pt_regs word reg + off */
	ET_ILOC_CONST,		/* value */
};

struct et_iarg {
	__u8 how;		/* enum et_iloc */
	__u8 reg;		/* index of the register in struct pt_regs, in words */
	__u8 size;		/* bytes: 1, 2, 4 or 8 */
	__u8 pad;
	__s32 off;
	__u64 value;
};

struct et_isite {
	__u32 kind;		/* enum et_inline_kind; 0: unused */
	__u32 pad;
	struct et_iarg arg[ET_INLINE_ARGS];
};

/* Per-target flags (targets map value) */
#define ET_TGT_FOLLOW	(1u << 0)	/* add children on fork (-f) */
#define ET_TGT_SHARER	(1u << 1)	/* holds a traced instance, not a target */

/* Per-thread state of an in-flight wait (waits map value) */
struct et_wait_state {
	__u64 ep;
	__u64 ubuf;
	__u64 enter_ns;
	__u64 sleep_ns;		/* when it fell asleep, 0 if running */
	__u64 slept_ns;		/* accumulated */
	__u32 owner;
	__s32 epfd;
	__s32 maxevents;
	__u32 slept;		/* number of sleeps in this wait */
	__s32 requeued;		/* items left on rdllist by the last scan, -1 unknown */
	__u32 scans;		/* ep_send_events passes (ep_done_scan calls) */
	__u32 sys;		/* enum et_wait_sys */
	__u32 active;		/* inside the wait; the entry stays between waits */
	__u64 woke_ns;		/* the last sched_waking while asleep, 0 once it ran */
	__u32 run_delay_ns;	/* from that waking to its switch-in (capped), 0 none */
	__u32 pad2;
};

/*
 * ET_EV_SHARER: hdr.pid holds the instance in; found by a snapshot round,
 * it is traced like a target from then on (its waits and ctls on traced
 * instances; its own instances stay untraced).
 */
struct et_ev_sharer {
	struct et_hdr hdr;
	struct et_inst in;
};

/*
 * ET_EV_LESSON: written by `epolltrace learn` into the stream (and so into
 * a recording), never by BPF.  A lesson is BEGIN, then for each step a
 * BEFORE (what is about to happen) and, once the workload has done it, the
 * kernel's state has settled and a snapshot was taken, an AFTER (what the
 * kernel did); then END.  The records of a step's kernel events lie
 * between its BEFORE and its AFTER.
 */
#define ET_LESSON_NAME_LEN	24
#define ET_LESSON_HOOKS_LEN	64
#define ET_LESSON_TEXT_LEN	448
#define ET_LESSON_ARGS		6

enum et_lesson_phase {
	ET_LESSON_BEGIN = 0,	/* step 0; text: the lesson's title */
	ET_LESSON_BEFORE,	/* text: what the step is about to do */
	ET_LESSON_AFTER,	/* text: what the kernel did */
	ET_LESSON_END,		/* step nsteps + 1 */
};

/* et_ev_lesson.touched: the structures a step touches, to highlight */
#define ET_LT_RBR	(1u << 0)	/* the rb-tree of epitems */
#define ET_LT_RDLLIST	(1u << 1)	/* the ready list */
#define ET_LT_WQ	(1u << 2)	/* the wait queue (threads asleep in epoll_wait) */
#define ET_LT_OVFLIST	(1u << 3)	/* the overflow list of a running scan */
#define ET_LT_POLLWAIT	(1u << 4)	/* the watched file's wait queue (ep_poll_callback's entry) */

struct et_ev_lesson {
	struct et_hdr hdr;	/* src ET_SRC_USER; pid, tid: the lesson's workload */
	__u64 ep[2];		/* the instances the step is about, side by side; 0: none */
	__s32 epfd[2];		/* the workload's fds for them; -1: none */
	__u16 step;		/* 1..nsteps; 0 with BEGIN, nsteps + 1 with END */
	__u16 nsteps;
	__u8 phase;		/* enum et_lesson_phase */
	__u8 nargs;		/* values in arg[] */
	__u16 touched;		/* ET_LT_* */
	__s64 arg[ET_LESSON_ARGS];	/* the values of {0}..{5} in text */
	char lesson[ET_LESSON_NAME_LEN];	/* the lesson's name, NUL-terminated */
	/* the kernel functions the step runs, as the kernel spells them, comma-separated */
	char hooks[ET_LESSON_HOOKS_LEN];
	/* English narration, NUL-terminated: the gettext msgid, translated when shown */
	char text[ET_LESSON_TEXT_LEN];
};

/*
 * ET_EV_SNAP_SHAPE: the rb-tree's shape, for trees of at most
 * ET_MAX_SHAPE_ITEMS items (larger ones send none: the walk's cost and the
 * records stay those of the items alone).  Written right after each
 * SNAP_ITEMS batch, node[i] for that batch's item[i]: the rb_node's address
 * and its children's and parent's (identities only; user space turns them
 * into positions in tree order).  parent_color is __rb_parent_color as read:
 * bit 0 is the colour (1 black, 0 red: RB_BLACK in rbtree_augmented.h), the
 * rest the parent's address (0 for the root).
 */
#define ET_MAX_SHAPE_ITEMS	4096

struct et_snap_node {
	__u64 node;
	__u64 left;
	__u64 right;
	__u64 parent_color;
};

struct et_ev_snap_shape {
	struct et_hdr hdr;
	__u64 ep;
	__u32 n;
	__u32 pad;
	struct et_snap_node node[ET_SNAP_BATCH];
};

/*
 * The event ring's form of a wait's end (BPF to the session only; never in
 * a recording or a stream).  One record where the stream has two: the
 * session makes the send_events record (when ret >= 0: count ret,
 * requeued) and the wait_exit record, events unpacked into et_wait_event,
 * the slots past ncopied zero.  ev holds the ncopied events as the wait
 * returned them (struct epoll_event: 12 bytes, packed, on x86_64), and
 * the record only the slots it needs (1, 4 or ET_WAIT_MAX_EVENTS): a
 * record costs by the ring's cache lines it fills (make bench, STEPS).
 */
struct et_ring_wait_exit {
	struct et_hdr hdr;	/* type ET_EV_WAIT_EXIT */
	struct et_inst in;
	__s32 ret;
	__u32 ncopied;
	__u64 slept_ns;
	__s32 requeued;		/* for send_events: -1 unknown */
	__u32 run_delay_ns;	/* for wait_run: the last wakeup's latency, 0 none */
	__u8 ev[ET_WAIT_MAX_EVENTS * 12];
};

/*
 * ET_EV_WAIT_RUN: the wakeup latency of a waiter -- from the last
 * sched_waking of the wait (the ET_EV_WAKEUP record) to the woken thread's
 * switch-in (sched_switch with it as next).  Made by the session from the
 * ring's wait end, so it comes just before that wait's send_events and
 * wait_exit, with their timestamp, not the switch-in's.  A wait woken
 * several times (woken, asleep again) carries its last wakeup's.
 */
struct et_ev_wait_run {
	struct et_hdr hdr;	/* pid/tid: the woken waiter; ts: its wait's end */
	struct et_inst in;
	__u64 delay_ns;		/* sched_waking to switch-in (up to 4.29 s: capped) */
};

/*
 * ET_EV_WAIT_CHAIN: where a waiter waits.  BPF sends the ring form
 * (et_ring_wait_chain) when a thread's wait site changes (its user ip, sp
 * and bp at the wait's entry; the first wait of a thread is a change); the
 * session symbolizes it (cli/kernel/chain.c) into et_ev_wait_chain, the
 * stream's and the recordings' form, so replay needs no binaries.
 */
#define ET_CHAIN_FP_MAX		32	/* frame-pointer chain: return addresses */
/* bytes of user stack copied from sp: libuv's uv__io_poll alone takes 12 KiB */
#define ET_CHAIN_STACK		16384
#define ET_CHAIN_FRAMES		16	/* frames in the stream's record */
#define ET_CHAIN_SYM_LEN	80	/* "symbol+0xoff", NUL-terminated, cut to fit */
#define ET_CHAIN_MOD_LEN	32	/* the module's file name (no directory) */

enum et_chain_method {
	ET_CHAIN_NONE = 0,	/* no frame could be read */
	ET_CHAIN_FP,		/* the frame-pointer chain (bpf_get_stack) */
	ET_CHAIN_DWARF,		/* unwound with DWARF CFI from the copied stack */
	ET_CHAIN_DWARF_FP,	/* DWARF until the copy ended, then the fp chain */
};

/* The event ring's form (BPF to the session only; never in a stream). */
struct et_ring_wait_chain {
	struct et_hdr hdr;	/* type ET_EV_WAIT_CHAIN; pid/tid: the waiter */
	struct et_inst in;
	__u64 site;		/* the wait site's key (ip, sp, bp hashed) */
	__u64 ip;		/* user registers at the wait's entry */
	__u64 sp;
	__u64 bp;
	__s32 fp_bytes;		/* bpf_get_stack's result: bytes in fp[] or -errno */
	__u32 stack_len;	/* bytes valid in stack[], read from sp up */
	__u64 fp[ET_CHAIN_FP_MAX];
	__u8 stack[ET_CHAIN_STACK];
};

struct et_chain_frame {
	__u64 addr;		/* the pc (a return address for all but the first) */
	__u64 offset;		/* addr in the module's ELF file (addr - load bias); 0 unknown */
	char sym[ET_CHAIN_SYM_LEN];	/* "" when no symbol covers it */
	char module[ET_CHAIN_MOD_LEN];	/* "" when no module maps it */
};

struct et_ev_wait_chain {
	struct et_hdr hdr;	/* pid/tid: the waiter; ts: its wait's entry */
	struct et_inst in;
	__u64 site;
	__u8 method;		/* enum et_chain_method */
	__u8 nframes;		/* frames valid in frame[], innermost first */
	__u8 cut;		/* 1: the chain went on past ET_CHAIN_FRAMES */
	/* 1: outer frames were unwound from the live stack above the copy, read
	 * when the session symbolized it (right while the thread keeps its site) */
	__u8 live;
	__u8 pad[4];
	struct et_chain_frame frame[ET_CHAIN_FRAMES];
};

#endif /* EPOLLTRACE_H */
