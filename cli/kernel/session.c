// SPDX-License-Identifier: GPL-2.0
/*
 * A live tracing session: targets in, one ordered stream of records and
 * snapshots out.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "epolltrace.skel.h"
#include "chain.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "lang.h"
#include "session.h"

/*
 * Continuation passes one picture may take: a pass writes at least 1280
 * items or 6000 list entries, and the walks are bounded (ET_MAX_*).
 */
#define SNAP_MAX_PASSES	4096
/* the round's record buffer grows by this much */
#define SNAP_BUF_STEP	(256 << 10)

struct session {
	const struct session_opts *o;
	struct et_sink *sink;
	struct plan plan;
	struct plan_loaded ld;
	struct ring_buffer *rb;
	struct bpf_link *iter_link;
	struct snap_asm snap;
	char *snap_buf;			/* a round's records, read from the iterator */
	size_t snap_len, snap_cap;
	__u64 snap_due;			/* walked, delivered once the stream passes this */
	pid_t alive[ET_MAX_TARGETS];	/* the targets map holds no more */
	int nalive;
	pid_t child;			/* spawned with -- CMD; -1 once reaped */
	int child_status;		/* its wait status, once reaped */
	int cmd_log;			/* read end of its output pipe (the TUI), or -1 */
	char cmd_line[200];		/* a line of that output, so far */
	size_t cmd_len;
	__u64 drops[2];			/* last reported ring drops */
	unsigned long bad_records;
	int ncpus;
	int last_read;			/* records the last read_ring() took */
	struct chain_cache *chains;	/* waiters' call chains: one Dwfl per process */
#ifdef ET_BENCH
	unsigned long chain_n;		/* chains symbolized; the first's and the rest's time */
	double chain_first_s, chain_rest_s;
#endif
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool is_target(const struct session *s, pid_t pid)
{
	for (int i = 0; i < s->nalive; i++)
		if (s->alive[i] == pid)
			return true;
	return false;
}

static int deliver(struct session *s, void *data, size_t size);

/*
 * The event ring's wait end (include/epolltrace.h, et_ring_wait_exit):
 * the stream's wait_run, send_events and wait_exit records, made here.
 */
static int on_wait_exit(struct session *s, const struct et_ring_wait_exit *r, size_t size)
{
	const size_t head = offsetof(struct et_ring_wait_exit, ev);
	struct et_ev_send_events se;
	struct et_ev_wait_exit wx;

	if (size < head || r->ncopied > ET_WAIT_MAX_EVENTS || size - head < r->ncopied * 12) {
		s->bad_records++;
		return 0;
	}
	if (r->run_delay_ns) {
		struct et_ev_wait_run wr;

		memset(&wr, 0, sizeof(wr));
		wr.hdr = r->hdr;
		wr.hdr.type = ET_EV_WAIT_RUN;
		wr.hdr.src = ET_SRC_SCHED;	/* sched_waking to sched_switch */
		wr.in = r->in;
		wr.delay_ns = r->run_delay_ns;
		deliver(s, &wr, sizeof(wr));
	}
	if (r->ret >= 0) {
		memset(&se, 0, sizeof(se));
		se.hdr = r->hdr;
		se.hdr.type = ET_EV_SEND_EVENTS;
		se.in = r->in;
		se.count = r->ret;
		se.requeued = r->requeued;
		deliver(s, &se, sizeof(se));
	}
	memset(&wx, 0, sizeof(wx));
	wx.hdr = r->hdr;
	wx.in = r->in;
	wx.ret = r->ret;
	wx.ncopied = r->ncopied;
	wx.slept_ns = r->slept_ns;
	for (__u32 i = 0; i < r->ncopied; i++) {
		memcpy(&wx.ev[i].events, r->ev + i * 12, 4);
		memcpy(&wx.ev[i].data, r->ev + i * 12 + 4, 8);
	}
	return deliver(s, &wx, sizeof(wx));
}

#ifdef ET_BENCH
/* make bench --only chains: the user-space cost of a chain (the first: the Dwfl made) */
static void bench_chain_time(struct session *s, double t0)
{
	t0 = mono_s() - t0;
	if (!s->chain_n++)
		s->chain_first_s = t0;
	else
		s->chain_rest_s += t0;
}
#endif

/* The ring's new wait site, symbolized here: the stream's wait_chain record. */
static int on_wait_chain(struct session *s, const struct et_ring_wait_chain *r, size_t size)
{
	struct et_ev_wait_chain c;

#ifdef ET_BENCH
	double t0 = mono_s();
#endif

	if (!s->chains)
		s->chains = chain_cache_new();
	if (!s->chains || chain_resolve(s->chains, r, size, &c)) {
		s->bad_records++;
		return 0;
	}
#ifdef ET_BENCH
	bench_chain_time(s, t0);
#endif
	return deliver(s, &c, sizeof(c));
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (size >= sizeof(struct et_hdr) && ((struct et_hdr *)data)->type == ET_EV_WAIT_CHAIN)
		return on_wait_chain(s, data, size);

	if (size >= sizeof(struct et_hdr) && ((struct et_hdr *)data)->type == ET_EV_WAIT_EXIT)
		return on_wait_exit(s, data, size);
	return deliver(s, data, size);
}

static int deliver(struct session *s, void *data, size_t size)
{
	if (et_record_check(data, size)) {
		s->bad_records++;
		return 0;	/* never abort ring_buffer__poll for one record */
	}
	s->sink->record(s->sink, data, size);
	if (((struct et_hdr *)data)->type == ET_EV_TASK_EXIT) {
		const struct et_hdr *h = data;

		if (h->flags & ET_F_GROUP_DEAD)
			for (int i = 0; i < s->nalive; i++)
				if (s->alive[i] == (pid_t)h->pid)
					s->alive[i] = s->alive[--s->nalive];
	} else if (((struct et_hdr *)data)->type == ET_EV_FORK) {
		const struct et_ev_fork *f = data;

		if (s->nalive < ET_MAX_TARGETS && !is_target(s, f->child_pid))
			s->alive[s->nalive++] = f->child_pid;
	}
	return 0;
}

static void on_snap(struct session *s, const void *data, size_t size)
{
	const struct et_snapshot *snap = snap_asm_feed(&s->snap, data, size);
	const struct et_hdr *round = snap_asm_round(&s->snap);
	struct et_inst_val v;

	/* a round's end comes after its snapshots: a record in the stream */
	if (round)
		s->sink->record(s->sink, round, sizeof(struct et_ev_snap_round));
	if (!snap)
		return;
	/* the instance's exact counters ride along with its snapshot */
	s->snap.cur.has_counters = !bpf_map__lookup_elem(s->ld.skel->maps.instances,
							 &snap->in.ep, sizeof(snap->in.ep),
							 &v, sizeof(v), 0);
	if (s->snap.cur.has_counters)
		s->snap.cur.cnt = v.cnt;
	s->sink->snapshot(s->sink, snap);
	/* its sleepers that have waited since before tracing: where, from /proc */
	for (__u32 i = 0; i < snap->nwaiters; i++) {
		struct et_ev_wait_chain c;
#ifdef ET_BENCH
		double t0 = mono_s();
#endif

		if (!s->chains)
			s->chains = chain_cache_new();
		if (!s->chains || chain_from_proc(s->chains, snap->waiters[i], &snap->in, &c))
			continue;
#ifdef ET_BENCH
		bench_chain_time(s, t0);
#endif
		deliver(s, &c, sizeof(c));
	}
}

static __u64 read_counter(struct session *s, __u32 idx)
{
	__u64 vals[s->ncpus], sum = 0;

	if (bpf_map__lookup_elem(s->ld.skel->maps.counters, &idx, sizeof(idx), vals,
				 sizeof(vals), 0))
		return 0;
	for (int i = 0; i < s->ncpus; i++)
		sum += vals[i];
	return sum;
}

static void user_hdr(struct et_hdr *h, __u16 type)
{
	h->ts_ns = mono_ns();
	h->pid = getpid();
	h->tid = getpid();
	h->type = type;
	h->src = ET_SRC_USER;
}

/*
 * Ring-buffer losses are reported in the stream itself, never silently,
 * followed by the exact counters kept in BPF maps.
 */
static void report_counters(struct session *s)
{
	static const __u32 idx[2] = { ET_CNT_RB_DROPS, ET_CNT_SNAP_DROPS };
	struct et_ev_stats st = {};

	for (__u32 i = 0; i < ET_CNT_MAX; i++)
		st.cnt[i] = read_counter(s, i);
	for (int r = 0; r < 2; r++) {
		__u64 v = st.cnt[idx[r]];
		struct et_ev_lost l = {};

		if (v == s->drops[r])
			continue;
		user_hdr(&l.hdr, ET_EV_LOST);
		l.count = v - s->drops[r];
		l.ring = r;
		s->drops[r] = v;
		s->sink->record(s->sink, &l.hdr, sizeof(l));
	}
	user_hdr(&st.hdr, ET_EV_STATS);
	s->sink->record(s->sink, &st.hdr, sizeof(st));
}

/* Keep what one read of the iterator gave, for delivery. */
static int snap_keep(struct session *s, const char *buf, size_t n)
{
	if (s->snap_len + n > s->snap_cap) {
		/* in steps, not doubled: a large round's buffer is memory the
		 * tracer holds until delivery, and realloc moves it by mremap */
		size_t cap = (s->snap_len + n + SNAP_BUF_STEP - 1) / SNAP_BUF_STEP * SNAP_BUF_STEP;
		char *p;

		p = realloc(s->snap_buf, cap);
		if (!p)
			return -ENOMEM;
		s->snap_buf = p;
		s->snap_cap = cap;
	}
	memcpy(s->snap_buf + s->snap_len, buf, n);
	s->snap_len += n;
	return 0;
}

/* The kept records, in the order the iterator wrote them, to the sinks. */
static void snap_feed(struct session *s)
{
	size_t off = 0, size;

	while (off + sizeof(struct et_hdr) <= s->snap_len) {
		const struct et_hdr *h = (const void *)(s->snap_buf + off);

		size = et_record_size(h->type);
		if (!size || off + size > s->snap_len || et_record_check(h, size)) {
			s->bad_records++;
			break;	/* no framing past a bad record */
		}
		on_snap(s, h, size);
		off += size;
	}
	s->snap_len = 0;
	/* a large round's buffer is not kept between rounds */
	if (s->snap_cap > (1 << 20)) {
		free(s->snap_buf);
		s->snap_buf = NULL;
		s->snap_cap = 0;
	}
}

/*
 * One read(2) of an iterator into the round's records.  The kernel fills
 * at most one buffer (PAGE_SIZE << 3) a read, and ends a read early with
 * EAGAIN when a show asks to be called again.
 */
static ssize_t snap_read(struct session *s, int fd, size_t want)
{
	char buf[64 << 10];
	ssize_t n = read(fd, buf, want < sizeof(buf) ? want : sizeof(buf));

	if (n > 0 && snap_keep(s, buf, n))
		return -1;
	return n;
}

/*
 * Finish the picture the iterator left pending: it did not fit one read.
 * Each continuation pass is a new iterator over the files of the task that
 * holds the instance (the whole system where the kernel cannot narrow a
 * task iterator: before v6.1, commit f0d74c4da1f0); the program writes
 * nothing until it shows that file again, then the next part.  A read of
 * one byte ends the pass right after that show, and the rest of the part
 * is already in the seq buffer.
 */
static void snap_finish(struct session *s, bool drain_events)
{
	struct epolltrace_bpf__bss *bss = s->ld.skel->bss;
	union bpf_iter_link_info linfo = { .task.tid = bss->snap_pending_tid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));
	struct bpf_link *link;
	int fd, passes, err;
	ssize_t n;

	link = bpf_program__attach_iter(s->ld.skel->progs.snap_task_file, &opts);
	if (!link)
		et_debug("snapshot: no task-narrowed iterator (%s): passes over every task",
			 strerror(errno));
	bss->snap_cont = 1;
	for (passes = 0; bss->snap_pending && passes < SNAP_MAX_PASSES; passes++) {
		fd = bpf_iter_create(bpf_link__fd(link ? link : s->iter_link));
		if (fd < 0) {
			et_warn("snapshot: cannot create iterator: %s", strerror(errno));
			break;
		}
		n = snap_read(s, fd, 1);
		if (n == 1)
			n = snap_read(s, fd, SIZE_MAX);
		err = errno;
		close(fd);
		if (n < 0 && err != EAGAIN) {
			et_warn("snapshot: read: %s", strerror(err));
			break;
		}
		if (drain_events)
			ring_buffer__consume(s->rb);
	}
	bss->snap_cont = 0;
	/* a picture left half-way: snap_asm counts it incomplete */
	bss->snap_pending = 0;
	bpf_link__destroy(link);
}

/*
 * One snapshot round.  The iterator writes the records; each read()
 * walks the instances that fit its buffer, and the live events are
 * drained between reads.  The snapshots wait in s->snap_buf: they are
 * delivered by deliver_snapshots() once the stream has run
 * MODEL_SETTLE_NS past the walk, so that a record written at a function's
 * exit about a change the walk already saw comes before the snapshot.
 *
 * The seed round is the exception (drain_events false): the stream starts
 * with it, and every record, even one from before the walk, follows.  A
 * seed takes the kernel's picture as it is, and a record applied after a
 * walk that already showed its change changes nothing more.
 */
static int snapshot(struct session *s, bool drain_events)
{
	struct epolltrace_bpf__bss *bss = s->ld.skel->bss;
	int fd, err = 0;
	ssize_t n;

	bss->snap_round++;
	bss->snap_pending = 0;
	fd = bpf_iter_create(bpf_link__fd(s->iter_link));
	if (fd < 0) {
		et_warn("snapshot: cannot create iterator: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		n = snap_read(s, fd, SIZE_MAX);
		if (n < 0)
			err = errno;
		if (drain_events)
			ring_buffer__consume(s->rb);
		if (bss->snap_pending) {
			snap_finish(s, drain_events);
			continue;
		}
		/* EAGAIN: the kernel's bound of objects a read (MAX_ITER_OBJECTS) */
		if (n < 0 && err == EAGAIN)
			continue;
		if (n < 0)
			et_warn("snapshot: read: %s", strerror(err));
		if (n <= 0)
			break;
	}
	close(fd);
	if (drain_events)
		s->snap_due = mono_ns() + MODEL_SETTLE_NS;
	else
		snap_feed(s);
	return 0;
}

/* Milliseconds until the walked snapshots are due, capped at max_ms. */
static int snapshot_wait_ms(const struct session *s, int max_ms)
{
	__u64 now = mono_ns(), wait;

	if (!s->snap_due)
		return max_ms;
	if (now >= s->snap_due)
		return 0;
	wait = (s->snap_due - now) / 1000000 + 1;
	return wait < (__u64)max_ms ? (int)wait : max_ms;
}

/* Deliver the walked snapshots if they are due (or now, if wait). */
static void deliver_snapshots(struct session *s, bool wait)
{
	if (!s->snap_due)
		return;
	while (wait && mono_ns() < s->snap_due)
		ring_buffer__poll(s->rb, snapshot_wait_ms(s, 100));
	if (mono_ns() < s->snap_due)
		return;
	ring_buffer__consume(s->rb);
	snap_feed(s);
	s->snap_due = 0;
}

void session_sync(struct session *s)
{
	/* a round already walked goes out first: its picture is older */
	deliver_snapshots(s, true);
	ring_buffer__consume(s->rb);
	snapshot(s, true);
	deliver_snapshots(s, true);
}

void session_inject(struct session *s, const struct et_hdr *h, size_t size)
{
	s->sink->record(s->sink, h, size);
}

static bool targets_alive(struct session *s)
{
	if (!s->o->npids && !s->child)
		return true;	/* system-wide */
	for (int i = 0; i < s->nalive; i++) {
		/* a missed exit event (ring loss) must not keep us forever */
		if (kill(s->alive[i], 0) && errno == ESRCH)
			s->alive[i--] = s->alive[--s->nalive];
	}
	return s->nalive > 0;
}

/*
 * The targets' bit in the not-ours filter (common.bpf.h, tgt_bits), set
 * before the targets map: a clear bit turns a thread group away unseen.
 */
static int filter_bit_set(struct session *s, pid_t pid)
{
	const struct bpf_map *m = s->ld.skel->maps.tgt_bits;
	__u32 nwords = bpf_map__max_entries(m), k = ((__u32)pid >> 6) % nwords;
	__u64 w = 0;

	if (bpf_map__lookup_elem(m, &k, sizeof(k), &w, sizeof(w), 0))
		return -1;
	w |= 1ULL << (pid & 63);
	return bpf_map__update_elem(m, &k, sizeof(k), &w, sizeof(w), BPF_ANY);
}

static int add_target(struct session *s, pid_t pid)
{
	__u32 key = pid, val = s->o->follow ? ET_TGT_FOLLOW : 0;

	if (s->nalive == ET_MAX_TARGETS) {
		et_err("cannot add target %d: more than %d processes", pid, ET_MAX_TARGETS);
		return -1;
	}
	if (filter_bit_set(s, pid) ||
	    bpf_map__update_elem(s->ld.skel->maps.targets, &key, sizeof(key), &val, sizeof(val),
				 BPF_ANY)) {
		et_err("cannot add target %d: %s", pid, strerror(errno));
		return -1;
	}
	s->alive[s->nalive++] = pid;
	return 0;
}

/*
 * A process's state, parent and flags, from /proc/PID/stat (proc(5)):
 * "pid (comm) state ppid pgrp session tty_nr tpgid flags ...".  comm may
 * hold spaces and parentheses: the fields start after the last ')'.
 */
struct proc_stat {
	char comm[32];
	char state;
	pid_t ppid;
	unsigned long flags;
};

static int proc_stat_read(pid_t pid, struct proc_stat *ps)
{
	char path[64], buf[512], *lp, *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -1;
	snprintf(ps->comm, sizeof(ps->comm), "%.*s", (int)(rp - lp - 1), lp + 1);
	if (sscanf(rp + 1, " %c %d %*d %*d %*d %*d %lu", &ps->state, &ps->ppid,
		   &ps->flags) != 3)
		return -1;
	return 0;
}

/* include/linux/sched.h; the value has not changed since 2.6 */
#define ET_PF_KTHREAD 0x00200000UL

/* -p PID: say why a process that exists cannot be traced, before tracing */
static int check_pid(pid_t pid)
{
	struct proc_stat ps;

	if ((kill(pid, 0) && errno == ESRCH) || proc_stat_read(pid, &ps) || ps.state == 'X') {
		et_err("no such process: %d", pid);
		return -1;
	}
	if (ps.state == 'Z') {
		et_err("cannot trace %d (%s): a zombie, it has exited and waits for its parent "
		       "(%d) to reap it", pid, ps.comm, ps.ppid);
		return -1;
	}
	if (ps.flags & ET_PF_KTHREAD) {
		et_err("cannot trace %d (%s): a kernel thread, it makes no system calls and "
		       "has no epoll instances", pid, ps.comm);
		return -1;
	}
	return 0;
}

/*
 * -p MASTER -f: the children MASTER forked before we came (nginx's and
 * haproxy's workers) are targets too, and theirs, recursively.  Forks
 * after a process became a target reach us as ET_EV_FORK; a fork by one
 * not yet added can land between a scan and its adding, so scan again
 * until a scan finds nothing new.  /proc/PID/stat's ppid is the parent's
 * thread group id, whichever of its threads forked.
 */
static int add_descendants(struct session *s)
{
	int before = s->nalive;

	for (int round = 0; round < 16; round++) {
		int added = 0;
		DIR *d = opendir("/proc");
		struct dirent *de;

		if (!d) {
			et_warn("-f: cannot read /proc: %s", strerror(errno));
			return 0;
		}
		while ((de = readdir(d))) {
			struct proc_stat ps;
			char *end;
			long pid = strtol(de->d_name, &end, 10);

			if (*end || pid <= 0 || pid == getpid() || is_target(s, pid))
				continue;
			if (proc_stat_read(pid, &ps) || ps.state == 'Z' || ps.state == 'X' ||
			    !is_target(s, ps.ppid))
				continue;
			if (s->nalive == ET_MAX_TARGETS) {
				et_warn("-f: more than %d processes; the others are not traced",
					ET_MAX_TARGETS);
				closedir(d);
				return 0;
			}
			if (add_target(s, pid)) {
				closedir(d);
				return -1;
			}
			added++;
		}
		closedir(d);
		/* /proc lists pids in order: a process whose pid is lower than
		 * its parent's (pids wrap) is met before the parent became a
		 * target, and found by the next round */
		if (!added)
			break;
	}
	if (s->nalive > before)
		et_debug("-f: %d processes the targets had forked before tracing began",
			 s->nalive - before);
	return 0;
}

/*
 * Find COMMAND as execvp() will, so that a typo fails before tracing
 * starts, with the status a shell gives: 127 not found, 126 found but not
 * runnable.  The child still reports what exec itself refuses.
 */
static int check_command(const char *name)
{
	char path[PATH_MAX], defpath[256];
	const char *dirs, *p;
	struct stat st;
	bool denied = false;

	if (strchr(name, '/')) {
		if (stat(name, &st)) {
			et_err("cannot run %s: %s", name, strerror(errno));
			return errno == ENOENT ? 127 : 126;
		}
		if (S_ISDIR(st.st_mode)) {
			et_err("cannot run %s: %s", name, strerror(EISDIR));
			return 126;
		}
		if (access(name, X_OK)) {
			et_err("cannot run %s: %s", name, strerror(errno));
			return 126;
		}
		return 0;
	}
	dirs = getenv("PATH");
	if (!dirs) {	/* execvp's default */
		if (!confstr(_CS_PATH, defpath, sizeof(defpath)))
			snprintf(defpath, sizeof(defpath), "/bin:/usr/bin");
		dirs = defpath;
	}
	for (p = dirs; *name; p++) {
		const char *e = strchrnul(p, ':');
		int dlen = e - p;

		/* an empty element is the current directory */
		if (snprintf(path, sizeof(path), "%.*s%s%s", dlen, p, dlen ? "/" : "", name) <
			    (int)sizeof(path) &&
		    !stat(path, &st)) {
			if (!S_ISDIR(st.st_mode) && !access(path, X_OK))
				return 0;
			denied = true;
		}
		if (!*e)
			break;
		p = e;
	}
	et_err("cannot run %s: %s", name, denied ? strerror(EACCES) : "command not found");
	return denied ? 126 : 127;
}

/*
 * Fork the command stopped on a pipe; it execs once tracing is ready.
 * Its output goes where o->cmd_output says: the TUI gets it through
 * *log, a pipe whose lines go into the message log.
 */
static pid_t spawn_stopped(const struct session_opts *o, int *gate, int *log)
{
	int p[2], lp[2] = { -1, -1 };
	pid_t pid, parent;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	if (o->cmd_output == SESSION_CMD_LOG && pipe2(lp, O_CLOEXEC)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	fflush(NULL);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		if (lp[0] >= 0) {
			close(lp[0]);
			close(lp[1]);
		}
		return -1;
	}
	if (pid == 0) {
		char c;
		int null;

		close(p[1]);
		/*
		 * The command does not outlive its tracer, even one killed
		 * with SIGKILL (as strace's own tracees do not): it gets the
		 * SIGTERM a normal end sends.  Checked again after the prctl,
		 * in case the tracer died before it.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
			_exit(127);
		/* our SIGPIPE is ignored, and exec would keep that */
		signal(SIGPIPE, SIG_DFL);
		if (o->cmd_output == SESSION_CMD_LOG) {
			null = open("/dev/null", O_RDONLY);
			if (null < 0 || dup2(null, 0) < 0 || dup2(lp[1], 1) < 0 ||
			    dup2(lp[1], 2) < 0)
				_exit(126);
			if (null > 2)
				close(null);
		} else if (o->cmd_output == SESSION_CMD_STDERR && dup2(2, 1) < 0) {
			/* no stderr: nowhere, rather than into the data stream */
			null = open("/dev/null", O_WRONLY);
			if (null < 0 || dup2(null, 1) < 0)
				_exit(126);
		}
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		et_lang_restore_env();	/* --lang is epolltrace's, not COMMAND's */
		execvp(o->cmd[0], o->cmd);
		fprintf(stderr, "epolltrace: cannot run %s: %s\n", o->cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(p[0]);
	*gate = p[1];
	if (lp[0] >= 0) {
		close(lp[1]);
		fcntl(lp[0], F_SETFL, O_NONBLOCK);
		*log = lp[0];
	}
	return pid;
}

/* The command's output, line by line, into the log (the TUI's pane). */
static void cmd_log_line(struct session *s)
{
	const char *name = strrchr(s->o->cmd[0], '/');

	s->cmd_line[s->cmd_len] = 0;
	et_info("[%s] %s", name ? name + 1 : s->o->cmd[0], s->cmd_line);
	s->cmd_len = 0;
}

static void drain_cmd_log(struct session *s, bool last)
{
	char buf[4096];
	ssize_t n;

	while (s->cmd_log >= 0 && (n = read(s->cmd_log, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !last)
				return;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			unsigned char c = buf[i];

			if (c == '\n' || s->cmd_len == sizeof(s->cmd_line) - 1) {
				cmd_log_line(s);
				if (c == '\n')
					continue;
			}
			/* control bytes (colours, cursor moves) would reach the screen */
			if (c == '\t')
				c = ' ';
			else if (c < 0x20 || c == 0x7f)
				c = '?';
			s->cmd_line[s->cmd_len++] = c;
		}
	}
	/* the end, or a pipe that still has writers (its daemons) */
	if (s->cmd_len)
		cmd_log_line(s);
	if (s->cmd_log >= 0)
		close(s->cmd_log);
	s->cmd_log = -1;
}

static void reap_child(struct session *s)
{
	if (s->child > 0 && waitpid(s->child, &s->child_status, WNOHANG) == s->child) {
		for (int i = 0; i < s->nalive; i++)
			if (s->alive[i] == s->child)
				s->alive[i--] = s->alive[--s->nalive];
		s->child = -1;
	}
}

bool session_reader_gone(FILE *f)
{
	struct pollfd p = { .fd = fileno(f), .events = POLLOUT };
	struct stat st;

	/* a pipe or socket with nobody reading polls as an error */
	if (p.fd < 0 || fstat(p.fd, &st) || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return false;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* The header facts of a recording: kernel, plan, clocks, targets. */
static void session_info_fill(struct session *s, struct et_session_info *info,
			      struct et_hook_info *hooks, __u32 *pids)
{
	struct timespec mono, wall;

	for (int i = 0; i < s->plan.nhooks; i++) {
		const struct hook *h = &s->plan.hooks[i];
		const struct rung *c = h->chosen >= 0 ? &h->rungs[h->chosen] : NULL;

		hooks[i] = (struct et_hook_info){
			.hook = h->name,
			.using = c ? rung_kind_name(c->kind) : "-",
			.fidelity = fidelity_name(c ? c->fid : h->fid_without),
			.point = c ? c->func : (h->without ? h->without : "not available"),
		};
	}
	info->hooks = hooks;
	info->nhooks = s->plan.nhooks;
	info->kernel = s->plan.kernel;
	info->machine = s->plan.machine;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	info->start_mono_ns = mono.tv_sec * 1000000000ULL + mono.tv_nsec;
	info->start_wall_ns = wall.tv_sec * 1000000000ULL + wall.tv_nsec;
	for (int i = 0; i < s->o->npids; i++)
		pids[info->npids++] = s->o->pids[i];
	if (s->child > 0) {
		pids[info->npids++] = s->child;
		info->cmd = s->o->cmd[0];
	}
	info->pids = pids;
	info->snapshot_interval = s->o->snapshot_interval;
}

/*
 * The reader is woken when an eighth of the event ring is full, and reads
 * at least every READ_PERIOD_MS anyway: records wait at most that long,
 * and a busy tracer takes them in batches rather than one wakeup (an
 * irq_work on the traced CPU, a context switch here) per record.  The
 * other seven eighths absorb the time the reader needs to get a CPU.
 */
#define WAKEUP_FRACTION 8
#define READ_PERIOD_MS 10

/*
 * ring_buffer__poll, with a service's fd polled too (--metrics): a request
 * is answered at once, not after the ring's wait (up to 100 ms idle).
 */
static int ring_wait(struct session *s, int ms)
{
	const struct et_service *sv = s->o->service;
	struct pollfd p[2];

	if (!sv)
		return ring_buffer__poll(s->rb, ms);
	p[0] = (struct pollfd){ .fd = ring_buffer__epoll_fd(s->rb), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = sv->fd, .events = POLLIN };
	if (poll(p, 2, ms) < 0 && errno != EINTR)
		return -errno;
	if (p[1].revents)
		sv->serve(sv->ctx);
	return ring_buffer__consume(s->rb);
}

/*
 * One read of the event ring: the records committed without a wakeup, in
 * one batch.  After a read that found nothing the reader sleeps up to the
 * loop's 100 ms, asking the next record to wake it (reader_asleep); the
 * read right after the flag is set takes what came before it was seen.
 */
static int read_ring(struct session *s)
{
	bool idle = s->last_read == 0;
	int n;

	if (idle) {
		s->ld.skel->bss->reader_asleep = 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		n = ring_buffer__consume(s->rb);
		if (n) {
			s->ld.skel->bss->reader_asleep = 0;
			s->last_read = n;
			return n;
		}
	}
	n = ring_wait(s, snapshot_wait_ms(s, idle ? 100 : READ_PERIOD_MS));
	if (!n)
		n = ring_buffer__consume(s->rb);
	s->last_read = n;
	return n;
}

int session_run(const struct session_opts *o, struct et_sink *sink)
{
	struct plan_params pp = {
		.self_tgid = getpid(),
		.trace_all = !o->npids && !o->cmd,
		.wakeup_bytes = o->events_ring_bytes / WAKEUP_FRACTION,
		.events_ring_bytes = o->events_ring_bytes,
		.sites_file = o->sites_file,
		.vmlinux = o->vmlinux,
		.no_cache = o->no_cache,
		.debuginfod = o->debuginfod,
	};
	struct session s = { .o = o, .sink = sink, .cmd_log = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	double start, next_snap, end;
	int gate = -1, ret = 1, err;
	bool targets_gone = false;

	s.ncpus = libbpf_num_possible_cpus();
	for (int i = 0; i < o->npids; i++)
		if (check_pid(o->pids[i]))
			return 1;
	if (o->cmd) {
		err = check_command(o->cmd[0]);
		if (err)
			return err;
	}
	/*
	 * A reader that goes away (--json | head -1) must end the session
	 * cleanly, the recording complete: a write error, not a death.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (o->cmd) {
		s.child = spawn_stopped(o, &gate, &s.cmd_log);
		if (s.child < 0) {
			et_err("cannot start %s: %s", o->cmd[0], strerror(errno));
			return 1;
		}
	}

	err = plan_load(&s.plan, o->mode, &pp, &s.ld);
	if (err) {
		if (et_verbose)
			plan_print(&s.plan, stderr);
		et_err("cannot attach: %s (details: epolltrace probes)",
		       s.plan.fix[0] ? s.plan.fix : strerror(-err));
		goto out_plan;
	}
	s.iter_link = s.ld.iter_link;
	/*
	 * Loading parsed the kernel's BTF and kallsyms (about 10 MB of heap,
	 * freed by now): give those pages back, or they stay resident.
	 */
	malloc_trim(0);
	/* --sites in a mode that does not force the rung: say why it is not in use */
	if (o->sites_file && plan_inline_unused(&s.plan))
		et_warn("--sites %s is not used: %s", o->sites_file, plan_inline_unused(&s.plan));
	else if (o->vmlinux && plan_inline_unused(&s.plan))
		et_warn("--vmlinux %s is not used: %s", o->vmlinux, plan_inline_unused(&s.plan));
	if (sink->begin) {
		struct et_hook_info hooks[s.plan.nhooks > 0 ? s.plan.nhooks : 1];
		__u32 pids[SESSION_MAX_PIDS + 1];
		struct et_session_info info = {
			.callbacks_visible = plan_fidelity(&s.plan, "callback") == FID_EXACT,
			.attach = plan_mode_name(o->mode),
		};

		session_info_fill(&s, &info, hooks, pids);
		sink->begin(sink, &info);
	}
	for (int i = 0; i < o->npids; i++)
		if (!is_target(&s, o->pids[i]) && add_target(&s, o->pids[i]))
			goto out_unload;
	if (s.child > 0 && add_target(&s, s.child))
		goto out_unload;
	/* after the targets: what they fork from now on is followed already */
	if (o->follow && o->npids && add_descendants(&s))
		goto out_unload;

	s.rb = ring_buffer__new(bpf_map__fd(s.ld.skel->maps.events), on_event, &s, NULL);
	if (!s.rb) {
		et_err("cannot open the ring buffer: %s", strerror(errno));
		goto out_rb;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* seed: state that existed before tracing began */
	snapshot(&s, false);
	sink->flush(sink);
	if (gate >= 0) {
		if (write(gate, "g", 1) != 1)
			et_warn("cannot release %s: %s", o->cmd[0], strerror(errno));
		close(gate);
		gate = -1;
	}

	start = mono_s();
	next_snap = start + o->snapshot_interval;
	end = o->duration > 0 ? start + o->duration : 0;
	ret = 0;
	while (!stop_requested) {
		__u64 tn;
		double t;

		err = read_ring(&s);
		if (err < 0 && err != -EINTR) {
			et_err("ring buffer: %s", strerror(-err));
			ret = 1;
			break;
		}
		reap_child(&s);
		drain_cmd_log(&s, false);
		tn = mono_ns();
		t = tn / 1e9;
		deliver_snapshots(&s, false);
		if (t >= next_snap && !s.snap_due) {
			report_counters(&s);
			snapshot(&s, true);
			next_snap = t + o->snapshot_interval;
		}
		sink->flush(sink);
		/* the reader is gone (even if nothing was written since), or the
		 * disk is full: cmd_trace says which */
		if (o->out && (ferror(o->out) || session_reader_gone(o->out)))
			break;
		if (sink->tick && sink->tick(sink, tn))
			break;
		if (o->service)
			o->service->serve(o->service->ctx);
		if (o->driver && o->driver->turn(o->driver->ctx, &s))
			break;
		if (end && t >= end)
			break;
		if (!targets_alive(&s)) {
			targets_gone = true;
			break;
		}
	}
	/* the last word: everything still in the ring, then a final snapshot */
	session_sync(&s);
	/*
	 * No record is made and no counter moves from here on (session_ending,
	 * bpf/common.bpf.h): what the hooks made during the final snapshot is
	 * delivered too, and the last counters count exactly the records in
	 * the stream (they went on counting records never read).  A program
	 * that read the flag just before runs for microseconds: wait 2 ms.
	 */
	s.ld.skel->bss->session_ending = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	usleep(2000);
	ring_buffer__consume(s.rb);
	report_counters(&s);
	if (sink->end)
		sink->end(sink, mono_ns());
	sink->flush(sink);
	if (s.bad_records)
		et_warn("%lu malformed records ignored", s.bad_records);
	if (s.snap.incomplete)
		et_warn("%lu snapshots incomplete", s.snap.incomplete);
	/* the stream says it too, but a stream sent to a file warns nobody */
	if (s.drops[0] || s.drops[1])
		et_warn("records lost: %llu events (the ring buffer was full; try a larger "
			"--ring-size), %llu snapshot parts", (unsigned long long)s.drops[0],
			(unsigned long long)s.drops[1]);

out_rb:
	ring_buffer__free(s.rb);
	snap_asm_free(&s.snap);
	free(s.snap_buf);
	chain_cache_free(s.chains);
#ifdef ET_BENCH
	if (getenv("EPOLLTRACE_BENCH_CHAIN_EVERY"))
		fprintf(stderr, "bench chains: %lu symbolized, first %.0f ns, rest %.0f ns each\n",
			s.chain_n, s.chain_first_s * 1e9,
			s.chain_n > 1 ? s.chain_rest_s * 1e9 / (s.chain_n - 1) : 0.0);
#endif
out_unload:
	plan_unload(&s.ld);
out_plan:
	plan_free(&s.plan);
	if (gate >= 0)
		close(gate);
	if (s.child > 0) {
		/* the command does not outlive its tracer's session */
		kill(s.child, SIGTERM);
		waitpid(s.child, &s.child_status, 0);
	}
	drain_cmd_log(&s, true);
	/* the command ended the session: its status, as strace gives it */
	if (!ret && targets_gone && o->cmd) {
		if (WIFEXITED(s.child_status))
			ret = WEXITSTATUS(s.child_status);
		else if (WIFSIGNALED(s.child_status))
			ret = 128 + WTERMSIG(s.child_status);
	}
	return ret;
}
