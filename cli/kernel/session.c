// SPDX-License-Identifier: GPL-2.0
/*
 * A live tracing session: targets in, one ordered stream of records and
 * snapshots out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "epolltrace.skel.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "session.h"

struct session {
	const struct session_opts *o;
	struct et_sink *sink;
	struct plan plan;
	struct plan_loaded ld;
	struct ring_buffer *rb;
	struct ring_buffer *snap_rb;
	struct bpf_link *iter_link;
	struct snap_asm snap;
	__u64 snap_due;			/* walked, delivered once the stream passes this */
	pid_t alive[SESSION_MAX_PIDS];
	int nalive;
	pid_t child;			/* spawned with -- CMD */
	__u64 drops[2];			/* last reported ring drops */
	unsigned long bad_records;
	int ncpus;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

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

		if (s->nalive < SESSION_MAX_PIDS)
			s->alive[s->nalive++] = f->child_pid;
	}
	return 0;
}

static int on_snap(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	const struct et_snapshot *snap = snap_asm_feed(&s->snap, data, size);
	const struct et_hdr *round = snap_asm_round(&s->snap);
	struct et_inst_val v;

	/* a round's end comes after its snapshots: a record in the stream */
	if (round)
		s->sink->record(s->sink, round, sizeof(struct et_ev_snap_round));
	if (!snap)
		return 0;
	/* the instance's exact counters ride along with its snapshot */
	s->snap.cur.has_counters = !bpf_map__lookup_elem(s->ld.skel->maps.instances,
							 &snap->in.ep, sizeof(snap->in.ep),
							 &v, sizeof(v), 0);
	if (s->snap.cur.has_counters)
		s->snap.cur.cnt = v.cnt;
	s->sink->snapshot(s->sink, snap);
	return 0;
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

/*
 * One snapshot round.  The iterator writes 8 bytes per instance; reading
 * 8 bytes at a time makes each read() walk one instance, and the live
 * events are drained between walks.  The snapshots wait in their ring: they
 * are delivered by deliver_snapshots() once the stream has run
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
	char buf[8];
	int fd, n;

	s->ld.skel->bss->snap_round++;
	fd = bpf_iter_create(bpf_link__fd(s->iter_link));
	if (fd < 0) {
		et_warn("snapshot: cannot create iterator: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			et_warn("snapshot: read: %s", strerror(errno));
		if (drain_events)
			ring_buffer__consume(s->rb);
		if (n <= 0)
			break;
	}
	close(fd);
	if (drain_events)
		s->snap_due = mono_ns() + MODEL_SETTLE_NS;
	else
		ring_buffer__consume(s->snap_rb);
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
	ring_buffer__consume(s->snap_rb);
	s->snap_due = 0;
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

static int add_target(struct session *s, pid_t pid)
{
	__u32 key = pid, val = s->o->follow ? ET_TGT_FOLLOW : 0;

	if (bpf_map__update_elem(s->ld.skel->maps.targets, &key, sizeof(key), &val, sizeof(val),
				 BPF_ANY)) {
		et_err("cannot add target %d: %s", pid, strerror(errno));
		return -1;
	}
	s->alive[s->nalive++] = pid;
	return 0;
}

/* Fork the command stopped on a pipe; it execs once tracing is ready. */
static pid_t spawn_stopped(char **argv, int *gate)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "epolltrace: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*gate = p[1];
	return pid;
}

static void reap_child(struct session *s)
{
	int st;

	if (s->child > 0 && waitpid(s->child, &st, WNOHANG) == s->child) {
		for (int i = 0; i < s->nalive; i++)
			if (s->alive[i] == s->child)
				s->alive[i--] = s->alive[--s->nalive];
		s->child = -1;
	}
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

int session_run(const struct session_opts *o, struct et_sink *sink)
{
	struct plan_params pp = {
		.self_tgid = getpid(),
		.trace_all = !o->npids && !o->cmd,
		.events_ring_bytes = o->events_ring_bytes,
		.snap_ring_bytes = o->snap_ring_bytes,
	};
	struct session s = { .o = o, .sink = sink };
	struct sigaction sa = { .sa_handler = on_signal };
	double start, next_snap, end;
	int gate = -1, ret = 1, err;

	s.ncpus = libbpf_num_possible_cpus();
	for (int i = 0; i < o->npids; i++) {
		if (kill(o->pids[i], 0) && errno == ESRCH) {
			et_err("no such process: %d", o->pids[i]);
			return 1;
		}
	}
	if (o->cmd) {
		s.child = spawn_stopped(o->cmd, &gate);
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
		if (add_target(&s, o->pids[i]))
			goto out_unload;
	if (s.child > 0 && add_target(&s, s.child))
		goto out_unload;

	s.rb = ring_buffer__new(bpf_map__fd(s.ld.skel->maps.events), on_event, &s, NULL);
	s.snap_rb = ring_buffer__new(bpf_map__fd(s.ld.skel->maps.snap_events), on_snap, &s, NULL);
	if (!s.rb || !s.snap_rb) {
		et_err("cannot open ring buffers: %s", strerror(errno));
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

		err = ring_buffer__poll(s.rb, snapshot_wait_ms(&s, 100));
		if (err < 0 && err != -EINTR) {
			et_err("ring buffer: %s", strerror(-err));
			ret = 1;
			break;
		}
		reap_child(&s);
		tn = mono_ns();
		t = tn / 1e9;
		deliver_snapshots(&s, false);
		if (t >= next_snap && !s.snap_due) {
			report_counters(&s);
			snapshot(&s, true);
			next_snap = t + o->snapshot_interval;
		}
		sink->flush(sink);
		if (sink->tick && sink->tick(sink, tn))
			break;
		if (end && t >= end)
			break;
		if (!targets_alive(&s))
			break;
	}
	/* the last word: everything still in the ring, then a final snapshot */
	deliver_snapshots(&s, true);
	ring_buffer__consume(s.rb);
	snapshot(&s, true);
	deliver_snapshots(&s, true);
	report_counters(&s);
	if (sink->end)
		sink->end(sink, mono_ns());
	sink->flush(sink);
	if (s.bad_records)
		et_warn("%lu malformed records ignored", s.bad_records);
	if (s.snap.incomplete)
		et_warn("%lu snapshots incomplete (snapshot ring too small?)", s.snap.incomplete);

out_rb:
	ring_buffer__free(s.rb);
	ring_buffer__free(s.snap_rb);
	snap_asm_free(&s.snap);
out_unload:
	plan_unload(&s.ld);
out_plan:
	plan_free(&s.plan);
	if (gate >= 0)
		close(gate);
	if (s.child > 0) {
		int st;

		/* the command does not outlive its tracer's session */
		kill(s.child, SIGTERM);
		waitpid(s.child, &st, 0);
	}
	return ret;
}
