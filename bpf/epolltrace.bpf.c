// SPDX-License-Identifier: GPL-2.0
/*
 * epolltrace's kernel side: every attach point of every rung of the
 * attach plan.  User space (cli/plan.c) decides which programs load; the
 * others are switched off with bpf_program__set_autoload(false).
 *
 * Program names encode their rung, which cli/plan.c relies on:
 *   fe_/fx_   fentry/fexit        kp_/krp_  kprobe/kretprobe
 *   tp_       syscall tracepoint  tb_       tp_btf (sched)
 */
#include "handlers.bpf.h"
#include "snapshot.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* ======================= fentry / fexit ================================= */

/*
 * The create hook without a syscall tracepoint: do_epoll_create(flags)
 * serves both syscalls (fs/eventpoll.c, v5.x to v6.12) and returns the fd
 * it installed.  Which syscall called it, and epoll_create1's flags, are
 * in the task's user registers: orig_ax and di on x86_64.
 */
#define NR_EPOLL_CREATE	213	/* x86_64 */

static __always_inline void create_from_regs(__u8 src, int ret)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 nr = 0, di = 0;

	bpf_probe_read_kernel(&nr, sizeof(nr), &r->orig_ax);
	bpf_probe_read_kernel(&di, sizeof(di), &r->di);
	if (nr == NR_EPOLL_CREATE)
		handle_create(src, ret, 0, 1);
	else
		handle_create(src, ret, (__u32)di, 0);
}

SEC("fexit/do_epoll_create")
int BPF_PROG(fx_do_epoll_create, int flags, int ret)
{
	create_from_regs(ET_SRC_FENTRY, ret);
	return 0;
}

SEC("fentry/ep_poll_callback")
int BPF_PROG(fe_ep_poll_callback, wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	handle_callback(ET_SRC_FENTRY, wait, key, true);
	return 0;
}

/* the same without irq-context detection (no per-cpu ksyms) */
SEC("fentry/ep_poll_callback")
int BPF_PROG(fe_ep_poll_callback_nc, wait_queue_entry_t *wait, unsigned int mode, int sync,
	     void *key)
{
	handle_callback(ET_SRC_FENTRY, wait, key, false);
	return 0;
}

/*
 * do_epoll_ctl adds EPOLLERR|EPOLLHUP to *epds (and may drop EPOLLWAKEUP)
 * before inserting: read the caller's mask at entry, the result at exit.
 */
SEC("fentry/do_epoll_ctl")
int BPF_PROG(fe_do_epoll_ctl, int epfd, int op, int fd, struct epoll_event *epds)
{
	ctl_enter(epfd, op, fd, epds, 0);
	return 0;
}

SEC("fexit/do_epoll_ctl")
int BPF_PROG(fx_do_epoll_ctl, int epfd, int op, int fd, struct epoll_event *epds, bool nonblock,
	     int ret)
{
	ctl_exit(ET_SRC_FENTRY, ret);
	return 0;
}

static __always_inline __s64 ts64_to_ns(struct timespec64 *to)
{
	if (!to)
		return -1;
	return BPF_CORE_READ(to, tv_sec) * 1000000000LL + BPF_CORE_READ(to, tv_nsec);
}

SEC("fentry/do_epoll_wait")
int BPF_PROG(fe_do_epoll_wait, int epfd, struct epoll_event *events, int maxevents,
	     struct timespec64 *to)
{
	/*
	 * do_epoll_wait's timeout is a struct timespec64 * since v5.11 (an
	 * int of milliseconds before); every kernel this supports has it.
	 */
	handle_wait_enter(ctx, ET_SRC_FENTRY, ET_WAIT_DO_EPOLL_WAIT, epfd, (__u64)events, maxevents,
			  ts64_to_ns(to));
	return 0;
}

SEC("fexit/do_epoll_wait")
int BPF_PROG(fx_do_epoll_wait, int epfd, struct epoll_event *events, int maxevents,
	     struct timespec64 *to, int ret)
{
	handle_wait_exit(ET_SRC_FENTRY, ret);
	return 0;
}

SEC("fentry/eventpoll_release_file")
int BPF_PROG(fe_eventpoll_release_file, struct file *file)
{
	handle_release_file(ET_SRC_FENTRY, file);
	return 0;
}

SEC("fentry/ep_eventpoll_release")
int BPF_PROG(fe_ep_eventpoll_release, struct inode *inode, struct file *file)
{
	handle_ep_close(ET_SRC_FENTRY, (__u64)BPF_CORE_READ(file, private_data));
	return 0;
}

SEC("fentry/ep_done_scan")
int BPF_PROG(fe_ep_done_scan, struct eventpoll *ep, struct list_head *txlist)
{
	handle_done_scan(ET_SRC_FENTRY, ep, txlist);
	return 0;
}

/* ======================= kprobe / kretprobe ============================= */
/* Attached by cli/plan.c to the name found in kallsyms (.isra/.constprop). */

SEC("kprobe")
int BPF_KPROBE(kp_ep_poll_callback, wait_queue_entry_t *wait, unsigned int mode, int sync,
	       void *key)
{
	handle_callback(ET_SRC_KPROBE, wait, key, true);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_ep_poll_callback_nc, wait_queue_entry_t *wait, unsigned int mode, int sync,
	       void *key)
{
	handle_callback(ET_SRC_KPROBE, wait, key, false);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_do_epoll_create, int ret)
{
	create_from_regs(ET_SRC_KPROBE, ret);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_do_epoll_ctl, int epfd, int op, int fd, struct epoll_event *epds)
{
	ctl_enter(epfd, op, fd, epds, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_do_epoll_ctl, int ret)
{
	ctl_exit(ET_SRC_KPROBE, ret);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_do_epoll_wait, int epfd, struct epoll_event *events, int maxevents,
	       struct timespec64 *to)
{
	handle_wait_enter(ctx, ET_SRC_KPROBE, ET_WAIT_DO_EPOLL_WAIT, epfd, (__u64)events, maxevents,
			  ts64_to_ns(to));
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(krp_do_epoll_wait, int ret)
{
	handle_wait_exit(ET_SRC_KPROBE, ret);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_eventpoll_release_file, struct file *file)
{
	handle_release_file(ET_SRC_KPROBE, file);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_ep_eventpoll_release, struct inode *inode, struct file *file)
{
	handle_ep_close(ET_SRC_KPROBE, (__u64)BPF_CORE_READ(file, private_data));
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kp_ep_done_scan, struct eventpoll *ep, struct list_head *txlist)
{
	handle_done_scan(ET_SRC_KPROBE, ep, txlist);
	return 0;
}

/* ======================= inlined sites (kprobe + offset) ================= */

/*
 * The "inline" rung: ep_insert, ep_poll and ep_send_events are inlined
 * into do_epoll_ctl / do_epoll_wait; user space resolves their sites from
 * the kernel's DWARF (cli/kernel/sites.c) and attaches one kprobe link per
 * site, with the site's index as BPF cookie.  Where each argument lives
 * differs per site and per build, so it is data (inline_sites), decoded
 * here.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ET_INLINE_MAX_SITES);
	__type(key, __u32);
	__type(value, struct et_isite);
} inline_sites SEC(".maps");

struct inline_regs {
	__u64 w[sizeof(struct pt_regs) / 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inline_regs);
} inline_scratch SEC(".maps");

#define INLINE_NREGS (sizeof(struct pt_regs) / 8)

/*
 * One argument's value.  The verifier refuses a register index chosen at
 * run time into ctx, so pt_regs is copied into a map value first and
 * indexed there (KERNEL_FACTS.md, "Inlined sites", pitfall 6).  0 when
 * the argument is absent or unreadable; *ok says which.
 */
static __always_inline __u64 inline_arg(const struct inline_regs *r, const struct et_iarg *a,
					int *ok)
{
	__u64 v = 0, base;
	__u32 reg = a->reg, size = a->size;

	*ok = 0;
	if (a->how == ET_ILOC_CONST) {
		*ok = 1;
		return a->value;
	}
	if (a->how != ET_ILOC_REG && a->how != ET_ILOC_MEM)
		return 0;
	if (reg >= INLINE_NREGS)
		return 0;
	base = r->w[reg];
	if (a->how == ET_ILOC_REG) {
		v = base;
	} else {
		if (size != 1 && size != 2 && size != 4 && size != 8)
			return 0;
		if (bpf_probe_read_kernel(&v, size & 15, (void *)(base + (__s64)a->off)))
			return 0;
	}
	if (size == 4)
		v = (__u32)v;
	else if (size == 2)
		v = (__u16)v;
	else if (size == 1)
		v = (__u8)v;
	*ok = 1;
	return v;
}

/* The site of this probe, and a copy of its registers. */
static __always_inline const struct et_isite *inline_site(struct pt_regs *ctx, __u32 kind,
							  struct inline_regs **regs, __u32 *idx)
{
	__u32 zero = 0, i = (__u32)bpf_get_attach_cookie(ctx);
	const struct et_isite *s = bpf_map_lookup_elem(&inline_sites, &i);
	struct inline_regs *r = bpf_map_lookup_elem(&inline_scratch, &zero);

	if (!s || !r || s->kind != kind)
		return NULL;
	if (bpf_probe_read_kernel(r, sizeof(*r), ctx))
		return NULL;
	*regs = r;
	*idx = i;
	return s;
}

SEC("kprobe")
int in_ep_insert(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), idx;
	const struct et_isite *s;
	struct inline_regs *r;
	struct ctl_args *a;
	struct et_inst_val *v;
	struct et_ev_ep_insert *e;
	struct epoll_event *ev;
	int ok_ev, ok_file, ok_fd;
	__u64 evp, file, fd;

	if (!trace_all && !bit_maybe(&tgt_bits, bpf_get_current_pid_tgid() >> 32))
		return 0;
	/*
	 * ep is optimized out at the site on the kernels seen (6.1, 6.12):
	 * take it from the same thread's do_epoll_ctl entry, which the ctl
	 * hook keeps in ctls; no entry, no target.
	 */
	a = bpf_map_lookup_elem(&ctls, &tid);
	if (!a || !a->active)
		return 0;
	v = inst_lookup(a->ep);
	if (!v)
		return 0;
	s = inline_site(ctx, ET_INL_EP_INSERT, &r, &idx);
	if (!s)
		return 0;
	evp = inline_arg(r, &s->arg[0], &ok_ev);
	file = inline_arg(r, &s->arg[1], &ok_file);
	fd = inline_arg(r, &s->arg[2], &ok_fd);
	if (!RESERVE(e, ET_EV_EP_INSERT, ET_SRC_INLINE))
		return 0;
	e->in = v->in;
	e->in.epfd = a->epfd;
	e->fd = ok_fd ? (__s32)fd : a->fd;
	e->file = ok_file ? file : a->file;
	ev = (struct epoll_event *)evp;
	if (ok_ev && ev) {
		e->events = BPF_CORE_READ(ev, events);
		e->data = BPF_CORE_READ(ev, data);
	} else {
		e->events = 0;
		e->data = 0;
	}
	ring_submit(e);
	return 0;
}

SEC("kprobe")
int in_ep_poll(struct pt_regs *ctx)
{
	const struct et_isite *s;
	struct inline_regs *r;
	struct et_inst_val *v;
	struct et_ev_ep_poll *e;
	int ok_ep, ok_max, ok_to;
	__u64 ep, max, to;
	__u32 idx;

	/* a site inside do_epoll_wait: every process's waits pass here */
	if (!current_is_tracked())
		return 0;
	s = inline_site(ctx, ET_INL_EP_POLL, &r, &idx);
	if (!s)
		return 0;
	ep = inline_arg(r, &s->arg[0], &ok_ep);
	v = ok_ep ? inst_lookup(ep) : NULL;
	if (!v)
		return 0;
	max = inline_arg(r, &s->arg[1], &ok_max);
	to = inline_arg(r, &s->arg[2], &ok_to);
	if (!RESERVE(e, ET_EV_EP_POLL, ET_SRC_INLINE))
		return 0;
	e->in = v->in;
	e->maxevents = ok_max ? (__s32)max : -1;
	e->site = idx;
	e->deadline_ns = ok_to ? ts64_to_ns((struct timespec64 *)to) : -2;
	ring_submit(e);
	return 0;
}

SEC("kprobe")
int in_ep_send_events(struct pt_regs *ctx)
{
	const struct et_isite *s;
	struct inline_regs *r;
	struct et_inst_val *v;
	struct et_ev_ep_send_events *e;
	int ok_ep, ok_max;
	__u64 ep, max;
	__u32 idx;

	if (!current_is_tracked())
		return 0;
	s = inline_site(ctx, ET_INL_EP_SEND_EVENTS, &r, &idx);
	if (!s)
		return 0;
	ep = inline_arg(r, &s->arg[0], &ok_ep);
	v = ok_ep ? inst_lookup(ep) : NULL;
	if (!v)
		return 0;
	max = inline_arg(r, &s->arg[1], &ok_max);
	if (!RESERVE(e, ET_EV_EP_SEND_EVENTS, ET_SRC_INLINE))
		return 0;
	e->in = v->in;
	e->maxevents = ok_max ? (__s32)max : -1;
	e->site = idx;
	ring_submit(e);
	return 0;
}

/* ======================= syscall tracepoints ============================ */

SEC("tracepoint/syscalls/sys_exit_epoll_create")
int tp_exit_epoll_create(struct trace_event_raw_sys_exit *ctx)
{
	handle_create(ET_SRC_TRACEPOINT, ctx->ret, 0, 1);
	return 0;
}

/* create1's flags are not on the exit tracepoint; EPOLL_CLOEXEC is the
 * only flag, and user space reads it from /proc when it matters. */
SEC("tracepoint/syscalls/sys_exit_epoll_create1")
int tp_exit_epoll_create1(struct trace_event_raw_sys_exit *ctx)
{
	handle_create(ET_SRC_TRACEPOINT, ctx->ret, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_epoll_ctl")
int tp_enter_epoll_ctl(struct trace_event_raw_sys_enter *ctx)
{
	ctl_enter(ctx->args[0], ctx->args[1], ctx->args[2], (void *)ctx->args[3], 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_epoll_ctl")
int tp_exit_epoll_ctl(struct trace_event_raw_sys_exit *ctx)
{
	ctl_exit(ET_SRC_TRACEPOINT, ctx->ret);
	return 0;
}

static __always_inline __s64 ms_to_ns(long ms)
{
	return (int)ms < 0 ? -1 : (__s64)(int)ms * 1000000LL;
}

SEC("tracepoint/syscalls/sys_enter_epoll_wait")
int tp_enter_epoll_wait(struct trace_event_raw_sys_enter *ctx)
{
	handle_wait_enter(ctx, ET_SRC_TRACEPOINT, ET_WAIT_EPOLL_WAIT, ctx->args[0], ctx->args[1],
			  ctx->args[2], ms_to_ns(ctx->args[3]));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait")
int tp_enter_epoll_pwait(struct trace_event_raw_sys_enter *ctx)
{
	handle_wait_enter(ctx, ET_SRC_TRACEPOINT, ET_WAIT_EPOLL_PWAIT, ctx->args[0], ctx->args[1],
			  ctx->args[2], ms_to_ns(ctx->args[3]));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait2")
int tp_enter_epoll_pwait2(struct trace_event_raw_sys_enter *ctx)
{
	struct {
		__s64 sec;
		__s64 nsec;
	} ts = {};
	__s64 ns = -1;

	if (ctx->args[3] && !bpf_probe_read_user(&ts, sizeof(ts), (void *)ctx->args[3]))
		ns = ts.sec * 1000000000LL + ts.nsec;
	handle_wait_enter(ctx, ET_SRC_TRACEPOINT, ET_WAIT_EPOLL_PWAIT2, ctx->args[0], ctx->args[1],
			  ctx->args[2], ns);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_epoll_wait")
int tp_exit_epoll_wait(struct trace_event_raw_sys_exit *ctx)
{
	handle_wait_exit(ET_SRC_TRACEPOINT, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_epoll_pwait")
int tp_exit_epoll_pwait(struct trace_event_raw_sys_exit *ctx)
{
	handle_wait_exit(ET_SRC_TRACEPOINT, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_epoll_pwait2")
int tp_exit_epoll_pwait2(struct trace_event_raw_sys_exit *ctx)
{
	handle_wait_exit(ET_SRC_TRACEPOINT, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	if (current_is_tracked())
		handle_close_fd(ctx->args[0]);
	return 0;
}

#define CLOSE_RANGE_CLOEXEC (1U << 2)

static long close_range_cb(__u32 i, void *ctx)
{
	__u32 *r = ctx;		/* r[0]: next fd, r[1]: last fd */

	if (r[0] > r[1])
		return 1;
	handle_close_fd(r[0]);
	r[0]++;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close_range")
int tp_enter_close_range(struct trace_event_raw_sys_enter *ctx)
{
	struct fdtable *fdt;
	__u32 r[2], max;

	if (!current_is_tracked() || (ctx->args[2] & CLOSE_RANGE_CLOEXEC))
		return 0;
	fdt = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), files, fdt);
	max = BPF_CORE_READ(fdt, max_fds);
	if (!max || ctx->args[0] >= max)
		return 0;
	r[0] = ctx->args[0];
	r[1] = ctx->args[1] < max ? ctx->args[1] : max - 1;
	bpf_loop(65536, close_range_cb, r, 0);
	return 0;
}

/* dup2/dup3 over an open fd closes what it pointed to */
SEC("tracepoint/syscalls/sys_enter_dup2")
int tp_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	if (current_is_tracked() && ctx->args[0] != ctx->args[1] &&
	    current_fd_file(ctx->args[0]))
		handle_close_fd(ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int tp_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	if (current_is_tracked() && ctx->args[0] != ctx->args[1] &&
	    current_fd_file(ctx->args[0]))
		handle_close_fd(ctx->args[1]);
	return 0;
}

/* ======================= scheduler (every mode) ========================= */

SEC("tp_btf/sched_switch")
int BPF_PROG(tb_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	handle_switch_in(next);
	handle_switch(preempt, prev);
	return 0;
}

/* three twins: the waker's context from the preempt count, from the irq
 * account below, or unknown (see handle_waking) */
SEC("tp_btf/sched_waking")
int BPF_PROG(tb_sched_waking, struct task_struct *p)
{
	handle_waking(p, WAKER_CTX_PREEMPT);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(tb_sched_waking_it, struct task_struct *p)
{
	handle_waking(p, WAKER_CTX_TRACKED);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(tb_sched_waking_nc, struct task_struct *p)
{
	handle_waking(p, WAKER_CTX_NONE);
	return 0;
}

/* the per-cpu irq account (handlers.bpf.h, irq_track) */
SEC("tp_btf/irq_handler_entry")
int BPF_PROG(tb_irq_handler_entry)
{
	irq_track_hardirq(1);
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(tb_irq_handler_exit)
{
	irq_track_hardirq(0);
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(tb_softirq_entry)
{
	irq_track_softirq(1);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(tb_softirq_exit)
{
	irq_track_softirq(0);
	return 0;
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(tb_hrtimer_expire_entry, struct hrtimer *timer)
{
	irq_track_timer(1, timer);
	return 0;
}

SEC("tp_btf/hrtimer_expire_exit")
int BPF_PROG(tb_hrtimer_expire_exit, struct hrtimer *timer)
{
	irq_track_timer(0, timer);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tb_sched_process_exit, struct task_struct *p)
{
	handle_exit(p);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tb_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	handle_fork(parent, child);
	return 0;
}
