/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps, rodata and the helpers every hook shares: who is traced, how an
 * fd becomes a struct file and an eventpoll, and how records are emitted.
 */
#ifndef EPOLLTRACE_COMMON_BPF_H
#define EPOLLTRACE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "epolltrace.h"
#include "core_fixes.bpf.h"

/* Set by user space before load. */
const volatile __u32 self_tgid = 0;	/* the tracer: never traced */
const volatile __u32 trace_all = 0;	/* no -p: every process but us */
const volatile __u64 ep_release_addr = 0; /* ep_eventpoll_release, 0: unknown */
/*
 * Wake the reader only once this many bytes wait in the event ring; below
 * it, records are committed without a wakeup and the reader, which also
 * polls on a timer, takes them in a batch.  A wakeup per record costs the
 * traced CPU an irq_work and the reader a context switch per record.
 * 0: the kernel's default (a waiting reader is woken by every record).
 */
const volatile __u64 wakeup_bytes = 0;
/*
 * Set by the reader when a read found nothing and it goes to sleep for
 * longer: the next record wakes it (and clears this), so that a record
 * after a quiet spell is not kept waiting and an idle reader needs no timer.
 */
volatile __u32 reader_asleep = 0;
/*
 * Set by the session when it ends, after its final snapshot: from then on
 * no record is made and no counter moves, so that its last read of the
 * ring and its last counters agree, while the hooks are still attached
 * (a detach can take long enough for a busy target to fill the ring).
 */
volatile __u32 session_ending = 0;

/*
 * make bench's STEPS section only (a bench build, -DET_BENCH, never the
 * shipped object): bench_cut[P] = k stops handler P before its step k
 * (1: before any work), so that the ns/run of successive cuts splits a
 * program's cost between its steps.  0: the whole handler.  In the
 * shipped object ET_CUT() is a constant 0 and the compiler drops it.
 */
enum et_bench_prog {
	ET_BP_WAIT_ENTER,
	ET_BP_WAIT_EXIT,
	ET_BP_CTL_ENTER,
	ET_BP_CTL_EXIT,
	ET_BP_SWITCH,
	ET_BP_WAKING,
	ET_BP_MAX,
};

#ifdef ET_BENCH
const volatile __u8 bench_cut[ET_BP_MAX] = {};
#define ET_CUT(prog, step) (bench_cut[prog] && bench_cut[prog] <= (step))
#else
#define ET_CUT(prog, step) 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* tgid -> ET_TGT_* flags */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ET_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

/* struct eventpoll address -> instance: the in-kernel filter. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ET_MAX_INSTANCES);
	__type(key, __u64);
	__type(value, struct et_inst_val);
} instances SEC(".maps");

/*
 * tid -> in-flight wait.  A thread's entry is made at its first traced
 * wait and then kept, inactive between waits, until the thread exits
 * (handle_exit): a wait rewrites it in place, where an update would take
 * a new element and free the old one, and the exit needs no delete.
 * Measured with make bench's STEPS, the update and the delete were about
 * 250 ns of a wait's 1600 (entry and exit).  The same for ctls.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct et_wait_state);
} waits SEC(".maps");

/* tid -> epoll_ctl arguments between entry and exit */
struct ctl_args {
	__u64 ep;
	__u64 file;
	__u64 data;
	__s32 epfd;
	__s32 op;
	__s32 fd;
	__u32 events;
	__u32 active;		/* between entry and exit; the entry stays after */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ctl_args);
} ctls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ET_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v;

	if (session_ending)
		return;
	v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

/*
 * The not-ours filter.  Every system-wide hook (syscall tracepoints,
 * do_epoll_wait, sched_switch, sched_waking, ep_poll_callback) fires for
 * every process on the machine and must turn a stranger away before any
 * other work.  A hash lookup costs a hash and a bucket walk; these bitmaps
 * cost one load (an array lookup the verifier inlines): a bit per id, the
 * id folded into ET_FILTER_BITS.  A bit is set before its id enters the
 * exact map and never cleared, so a clear bit proves "not ours"; a set one
 * (ours, a dead target's, or a stranger folded onto it) sends the hook on
 * to the exact map.
 *   tgt_bits:  thread groups in targets (targets, followed children, sharers)
 *   wait_bits: threads inside a traced wait (waits)
 *   inst_bits: struct eventpoll addresses in instances
 */
#define ET_FILTER_WORDS	4096
#define ET_FILTER_BITS	(ET_FILTER_WORDS * 64)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ET_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} tgt_bits SEC(".maps"), wait_bits SEC(".maps"), inst_bits SEC(".maps");

static __always_inline int bit_maybe(void *map, __u32 id)
{
	__u32 k = (id >> 6) & (ET_FILTER_WORDS - 1);
	__u64 *w = bpf_map_lookup_elem(map, &k);

	return w && ((*w >> (id & 63)) & 1);
}

static __always_inline void bit_set(void *map, __u32 id)
{
	__u32 k = (id >> 6) & (ET_FILTER_WORDS - 1);
	__u64 *w = bpf_map_lookup_elem(map, &k);

	if (w && !((*w >> (id & 63)) & 1))
		__sync_fetch_and_or(w, 1ULL << (id & 63));
}

/* eventpoll objects are at least 128 bytes apart (kmalloc-192 and up) */
static __always_inline __u32 ep_bit(__u64 ep)
{
	return (__u32)(ep >> 7) ^ (__u32)(ep >> 25);
}

#define ET_TGT_NONE	0xffffffffu

/* The targets-map flags of a thread group, ET_TGT_NONE if it is not ours. */
static __always_inline __u32 tgid_flags(__u32 tgid)
{
	__u32 *f;

	if (trace_all)
		return tgid == self_tgid ? ET_TGT_NONE : 0;
	if (!bit_maybe(&tgt_bits, tgid))
		return ET_TGT_NONE;
	f = bpf_map_lookup_elem(&targets, &tgid);
	return f ? *f : ET_TGT_NONE;
}

/* a target, a followed child, or a sharer: its activity is traced */
static __always_inline int is_tracked_tgid(__u32 tgid)
{
	return tgid_flags(tgid) != ET_TGT_NONE;
}

/* a target or followed child (not a sharer): its own instances are traced */
static __always_inline int is_target_tgid(__u32 tgid)
{
	__u32 f = tgid_flags(tgid);

	return f != ET_TGT_NONE && !(f & ET_TGT_SHARER);
}

static __always_inline int current_is_tracked(void)
{
	return is_tracked_tgid(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline int current_is_target(void)
{
	return is_target_tgid(bpf_get_current_pid_tgid() >> 32);
}

/* A thread group becomes ours: the bit first, so the filter never hides it. */
static __always_inline void target_add(__u32 tgid, __u32 flags)
{
	bit_set(&tgt_bits, tgid);
	bpf_map_update_elem(&targets, &tgid, &flags, BPF_ANY);
}

static __always_inline void fill_hdr(struct et_hdr *h, __u16 type, __u8 src, __u64 ts)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->ts_ns = ts;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->type = type;
	h->cpu = bpf_get_smp_processor_id();
	h->flags = 0;
	h->src = src;
	h->pad = 0;
}

/*
 * Reserve a record in the event ring, stamped ts (0: now); a failure is
 * counted, never silent.
 */
static __always_inline void *reserve(__u64 size, __u16 type, __u8 src, __u64 ts)
{
	struct et_hdr *h;

	if (session_ending)
		return NULL;
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		count(ET_CNT_RB_DROPS);
		return NULL;
	}
	fill_hdr(h, type, src, ts ? ts : bpf_ktime_get_ns());
	return h;
}

#define RESERVE(ptr, type, src) (ptr = reserve(sizeof(*(ptr)), type, src, 0))
/* stamped with a time the handler read already: one clock read, not two */
#define RESERVE_AT(ptr, type, src, ts) (ptr = reserve(sizeof(*(ptr)), type, src, ts))

/* include/uapi/linux/bpf.h's values (v5.8, 457f44363a88); the trimmed
 * vmlinux.h has not got them */
#define ET_RB_NO_WAKEUP		1
#define ET_RB_FORCE_WAKEUP	2
#define ET_RB_AVAIL_DATA	0

/* Commit a reserved record, waking the reader per wakeup_bytes. */
static __always_inline void ring_submit(void *rec)
{
	__u64 flags = 0;

	if (wakeup_bytes) {
		if (reader_asleep) {
			reader_asleep = 0;
			flags = ET_RB_FORCE_WAKEUP;
		} else {
			flags = bpf_ringbuf_query(&events, ET_RB_AVAIL_DATA) >= wakeup_bytes ?
				ET_RB_FORCE_WAKEUP : ET_RB_NO_WAKEUP;
		}
	}
	bpf_ringbuf_submit(rec, flags);
}

/*
 * current->files->fdt->fd[fd], bounds-checked; NULL if not open.  On the
 * hot paths (every traced wait and ctl): current from
 * bpf_get_current_task_btf() is a BTF pointer, so files, fdt, max_fds and
 * fd are plain loads (the verifier guards them) instead of a helper call
 * each; only the fd array's slot, a pointer to a pointer that BTF does
 * not type, still needs bpf_probe_read_kernel.  Measured with make
 * bench's STEPS: the chain of helper calls (with is_epoll_file's) was
 * about 280 ns of a wait entry's 800.
 */
static __always_inline struct file *current_fd_file(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = NULL;

	if (!files)
		return NULL;
	fdt = files->fdt;
	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * The f_op of epoll files (&eventpoll_fops), learnt from the first file
 * whose f_op->release is ep_eventpoll_release: every epoll file has that
 * f_op and no other file has, so from then on one read of f->f_op tells.
 * eventpoll_fops itself is in kallsyms only with CONFIG_KALLSYMS_ALL.
 */
__u64 epoll_fops = 0;

/*
 * Is this the file of an epoll instance?  f_op->release is
 * ep_eventpoll_release for every epoll file (address from kallsyms; the
 * symbol exists even without CONFIG_KALLSYMS_ALL).  Without it, fall back
 * to the anon-inode dentry name "[eventpoll]".
 */
static __always_inline int is_epoll_file(struct file *f)
{
	char name[12] = {};
	const unsigned char *p;
	__u64 fop;

	if (!f)
		return 0;
	if (ep_release_addr) {
		fop = (__u64)BPF_CORE_READ(f, f_op);
		if (!fop)
			return 0;
		if (fop == epoll_fops)
			return 1;
		if ((__u64)BPF_CORE_READ((struct file_operations *)fop, release) !=
		    ep_release_addr)
			return 0;
		epoll_fops = fop;
		return 1;
	}
	p = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), p) != 12)
		return 0;
	return name[0] == '[' && name[1] == 'e' && name[2] == 'v' && name[3] == 'e' &&
	       name[4] == 'n' && name[5] == 't' && name[6] == 'p' && name[7] == 'o' &&
	       name[8] == 'l' && name[9] == 'l' && name[10] == ']';
}

/* epfd of the current task -> struct eventpoll, 0 if not an epoll fd */
static __always_inline __u64 current_ep(int epfd)
{
	struct file *f = current_fd_file(epfd);

	if (!is_epoll_file(f))
		return 0;
	return (__u64)BPF_CORE_READ(f, private_data);
}

static __always_inline struct et_inst_val *inst_lookup(__u64 ep)
{
	if (!ep || !bit_maybe(&inst_bits, ep_bit(ep)))
		return NULL;
	return bpf_map_lookup_elem(&instances, &ep);
}

/* Every insertion into instances goes through here: the bit first. */
static __always_inline void inst_insert(__u64 ep, struct et_inst_val *nv, __u64 how)
{
	bit_set(&inst_bits, ep_bit(ep));
	bpf_map_update_elem(&instances, &ep, nv, how);
}

/*
 * The instance behind (current task, epfd).  A target that uses an
 * instance we have not seen yet (inherited, received over a socket,
 * created before the first snapshot) becomes its owner here.
 */
static __always_inline struct et_inst_val *inst_for_current(int epfd, __u64 ep)
{
	struct et_inst_val *v = inst_lookup(ep), nv = {};

	if (v || !ep || !current_is_target())
		return v;
	nv.in.ep = ep;
	nv.in.owner = bpf_get_current_pid_tgid() >> 32;
	nv.in.epfd = epfd;
	inst_insert(ep, &nv, BPF_NOEXIST);
	return inst_lookup(ep);
}

#define INST_ADD(v, field) __sync_fetch_and_add(&(v)->cnt.field, 1)

/* container_of() with CO-RE offsets */
#define ET_CONTAINER_OF(ptr, type, member) \
	((type *)((void *)(ptr) - bpf_core_field_offset(type, member)))

#endif /* EPOLLTRACE_COMMON_BPF_H */
