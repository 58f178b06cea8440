// SPDX-License-Identifier: GPL-2.0
/*
 * Recordings, writer to reader, on a synthetic stream (ASan, UBSan):
 * every item comes back equal, in order, with its event number; the
 * header round-trips; seeking lands on keyframes; the file cut at every
 * offset replays a prefix and warns, and never returns the end marker;
 * every single flipped byte is an error, never a crash and never a
 * silently wrong item.  The writer's file handling: an old recording is
 * replaced only once the new one holds a block, with mode 0600.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "recording.h"

#define MAXI 64

struct orig {
	enum rec_kind kind;
	__u64 ts;
	unsigned char rec[512];
	size_t size;
	struct et_snapshot snap;
};

static struct orig items[MAXI];
static int nitems;

static void hdr(struct et_hdr *h, __u16 type, __u64 ts)
{
	h->ts_ns = ts;
	h->pid = 100;
	h->tid = 101;
	h->type = type;
	h->cpu = 1;
	h->src = ET_SRC_TRACEPOINT;
}

static void put_rec(struct et_sink *s, const void *r, size_t size)
{
	struct orig *o = &items[nitems++];

	o->kind = REC_RECORD;
	o->ts = ((const struct et_hdr *)r)->ts_ns;
	memcpy(o->rec, r, size);
	o->size = size;
	s->record(s, r, size);
}

static struct et_snap_item sitems[40];
static __s32 sready[3] = { 4, 5, 9 };
static __u32 swait[2] = { 101, 102 };

static void put_snap(struct et_sink *s, __u64 seq, __u64 ts, __u32 n)
{
	struct orig *o = &items[nitems++];
	struct et_snapshot *sn = &o->snap;

	memset(sn, 0, sizeof(*sn));
	hdr(&sn->hdr, ET_EV_SNAP_BEGIN, ts);
	sn->hdr.src = ET_SRC_ITER;
	sn->in = (struct et_inst){ .ep = 0xffff888100001000ull, .owner = 100, .epfd = 3 };
	sn->seq = seq;
	sn->watched = n;
	sn->flags = seq == 2 ? ET_F_SCANNING : 0;
	sn->nitems = n;
	sn->items = sitems;
	sn->nready = 3;
	sn->ready = sready;
	sn->nwaiters = 2;
	sn->waiters = swait;
	sn->has_counters = seq == 2;
	sn->cnt.callbacks = 7;
	sn->cnt.wakeups = 9;
	o->kind = REC_SNAPSHOT;
	o->ts = ts;
	s->snapshot(s, sn);
}

static void put_mark(struct et_sink *s, enum rec_kind k, __u64 ts)
{
	items[nitems].kind = k;
	items[nitems++].ts = ts;
	if (k == REC_TICK)
		s->tick(s, ts);
	else
		s->end(s, ts);
}

static void write_stream(const char *path)
{
	struct et_hook_info hooks[2] = {
		{ "ctl", "tracepoint", "exact", "syscalls:sys_{enter,exit}_epoll_ctl" },
		{ "callback", "-", "sampled", "the ready list comes from snapshots only (sampled)" },
	};
	__u32 pids[1] = { getpid() };
	struct et_session_info info = {
		.callbacks_visible = false, .attach = "tracepoint", .kernel = "6.1.0-test",
		.machine = "x86_64", .hooks = hooks, .nhooks = 2, .start_mono_ns = 1000000000,
		.start_wall_ns = 1700000000000000000ull, .pids = pids, .npids = 1,
		.snapshot_interval = 0.5,
	};
	struct rec_writer *w = rec_writer_open(path, false);
	struct et_sink *s;
	struct et_ev_ctl ctl = {};
	struct et_ev_wait_exit we = {};
	struct et_ev_scan sc = {};
	struct et_ev_stats st = {};
	__u64 ts = 1000000000;

	CHECK(w, "writer open");
	if (!w)
		exit(1);
	s = rec_writer_sink(w);
	for (int i = 0; i < 40; i++)
		sitems[i] = (struct et_snap_item){ .fd = i + 4, .events = 1, .data = i, .file = i * 8 };
	s->begin(s, &info);
	put_snap(s, 1, ts += 10, 40);
	for (int i = 0; i < 5; i++) {
		hdr(&ctl.hdr, ET_EV_CTL, ts += 1000 + i);
		ctl.in = (struct et_inst){ .ep = 0xffff888100001000ull, .owner = 100, .epfd = 3 };
		ctl.op = ET_CTL_ADD;
		ctl.fd = 10 + i;
		ctl.events = 0x80000001u;
		ctl.data = 0x300000000ull + i;
		ctl.queued = -1;
		put_rec(s, &ctl, sizeof(ctl));
	}
	put_mark(s, REC_TICK, ts += 5);
	hdr(&we.hdr, ET_EV_WAIT_EXIT, ts - 3);	/* a record older than the tick */
	we.in = ctl.in;
	we.ret = 2;
	we.ncopied = 2;
	we.ev[0] = (struct et_wait_event){ .events = 1, .data = 42 };
	we.ev[1] = (struct et_wait_event){ .events = 4, .data = 43 };
	put_rec(s, &we, sizeof(we));
	hdr(&sc.hdr, ET_EV_SCAN, ts += 7);
	sc.in = ctl.in;
	sc.n = 1;
	sc.fd[0] = 5;
	put_rec(s, &sc, sizeof(sc));
	s->flush(s);
	hdr(&st.hdr, ET_EV_STATS, ts += 100);
	for (int i = 0; i < ET_CNT_MAX; i++)
		st.cnt[i] = 1000 + i;
	put_rec(s, &st, sizeof(st));
	put_snap(s, 2, ts += 10, 3);	/* a new round: a keyframe block */
	put_mark(s, REC_TICK, ts += 5);
	hdr(&ctl.hdr, ET_EV_CTL, ts += 3);
	ctl.op = ET_CTL_DEL;
	put_rec(s, &ctl, sizeof(ctl));
	put_mark(s, REC_END, ts += 50);
	CHECK(!rec_writer_close(w), "writer close");
}

static int same_snap(const struct et_snapshot *a, const struct et_snapshot *b)
{
	return !memcmp(&a->hdr, &b->hdr, sizeof(a->hdr)) && !memcmp(&a->in, &b->in, sizeof(a->in)) &&
	       a->seq == b->seq && a->watched == b->watched && a->flags == b->flags &&
	       a->nitems == b->nitems && a->nready == b->nready && a->nwaiters == b->nwaiters &&
	       a->has_counters == b->has_counters &&
	       (!a->has_counters || !memcmp(&a->cnt, &b->cnt, sizeof(a->cnt))) &&
	       !memcmp(a->items, b->items, a->nitems * sizeof(*a->items)) &&
	       !memcmp(a->ready, b->ready, a->nready * sizeof(*a->ready)) &&
	       !memcmp(a->waiters, b->waiters, a->nwaiters * sizeof(*a->waiters));
}

/* read all; returns items matched in order, -1 on the first mismatch */
static int read_all(struct rec_reader *r, int from, int *ret)
{
	struct rec_item it;
	int i = from, n;

	while ((n = rec_next(r, &it)) > 0) {
		const struct orig *o = &items[i];

		if (i >= nitems || it.kind != o->kind || it.ts_ns != o->ts)
			return -1;
		if (it.kind == REC_RECORD && (it.size != o->size || memcmp(it.rec, o->rec, o->size)))
			return -1;
		if (it.kind == REC_SNAPSHOT && !same_snap(it.snap, &o->snap))
			return -1;
		i++;
	}
	*ret = n;
	return i - from;
}

static void old_file(const char *path)
{
	FILE *f = fopen(path, "w");

	fputs("an old recording\n", f);
	fclose(f);
	chmod(path, 0644);
}

static bool is_old_file(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strcmp(buf, "an old recording\n");
}

static int dir_entries(const char *dir)
{
	char cmd[300];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

/* the writer's file handling (cli/common/outfile.c under it) */
static void writer_files(void)
{
	struct et_session_info info = { .attach = "tracepoint", .kernel = "k", .machine = "m" };
	char dir[] = "/tmp/rec_test_dir.XXXXXX", path[300], link[300];
	struct rec_writer *w;
	struct et_sink *s;
	struct stat st;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/old.etr", dir);
	snprintf(link, sizeof(link), "%s/link.etr", dir);

	/* a session that never begins (attach failed) leaves the old file */
	old_file(path);
	w = rec_writer_open(path, true);
	CHECK(w, "--force over an old file opens");
	CHECK(is_old_file(path), "opening does not touch the old file");
	CHECK(w && rec_writer_close(w) == 1, "never began: discarded");
	CHECK(is_old_file(path) && dir_entries(dir) == 1, "never began: the old file as it was, "
	      "no temporary left (%d entries)", dir_entries(dir));

	/* began (header written) but no block: still the old file */
	w = rec_writer_open(path, true);
	s = w ? rec_writer_sink(w) : NULL;
	if (s)
		s->begin(s, &info);
	CHECK(is_old_file(path), "header only: the old file is still there");
	CHECK(w && rec_writer_close(w) == 1 && is_old_file(path) && dir_entries(dir) == 1,
	      "began, nothing recorded: discarded, the old file as it was");

	/* the first block puts it in place, mode 0600 */
	w = rec_writer_open(path, true);
	s = w ? rec_writer_sink(w) : NULL;
	if (s) {
		s->begin(s, &info);
		s->tick(s, 2000);
		CHECK(is_old_file(path), "a tick gathered, no block yet: the old file");
		s->end(s, 3000);
		CHECK(!is_old_file(path), "the end's block written: the new recording is in place");
	}
	CHECK(w && rec_writer_close(w) == 0, "close");
	CHECK(!stat(path, &st) && (st.st_mode & 07777) == 0600, "mode 0600 over a 0644 file: %o",
	      st.st_mode & 07777);
	CHECK(dir_entries(dir) == 1, "no temporary left");
	{
		char err[512];
		struct rec_reader *r = rec_open(path, err, sizeof(err));
		struct rec_item it;
		int n, ends = 0;

		CHECK(r, "the replaced recording opens: %s", err);
		while (r && (n = rec_next(r, &it)) > 0)
			ends += it.kind == REC_END;
		CHECK(r && ends == 1 && !rec_warning(r), "and is complete");
		rec_close(r);
	}

	/* without force an existing file is refused, and a symlink always */
	CHECK(!rec_writer_open(path, false), "no --force: refused");
	CHECK(!symlink(path, link), "symlink");
	CHECK(!rec_writer_open(link, true), "a symlink is refused even with --force");
	CHECK(dir_entries(dir) == 2, "nothing created by the refusals");

	/* a character device is written in place, --force or not */
	w = rec_writer_open("/dev/null", false);
	CHECK(w, "/dev/null opens without --force");
	if (w) {
		s = rec_writer_sink(w);
		s->begin(s, &info);
		s->end(s, 3000);
		CHECK(rec_writer_close(w) == 0, "/dev/null: written");
	}
	unlink(link);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	char path[] = "/tmp/rec_test.XXXXXX", err[512];
	struct rec_reader *r;
	const struct rec_header *h;
	unsigned char *data;
	size_t size, hdr_end;
	FILE *f;
	int n, rc = 99, full;
	struct rec_item it;

	close(mkstemp(path));
	unlink(path);
	write_stream(path);
	CHECK(!rec_writer_open(path, false), "an existing file is refused without force");

	r = rec_open(path, err, sizeof(err));
	CHECK(r, "open: %s", err);
	if (!r)
		return 1;
	h = rec_header(r);
	CHECK(!strcmp(h->kernel, "6.1.0-test") && !strcmp(h->machine, "x86_64") &&
	      !strcmp(h->attach, "tracepoint") && !h->callbacks_visible, "header: kernel");
	CHECK(h->nhooks == 2 && !strcmp(h->hooks[0].point, "syscalls:sys_{enter,exit}_epoll_ctl") &&
	      !strcmp(h->hooks[1].point, "the ready list comes from snapshots only (sampled)") &&
	      !strcmp(h->hooks[1].fidelity, "sampled"), "header: hooks");
	CHECK(h->start_mono_ns == 1000000000 && h->start_wall_ns == 1700000000000000000ull &&
	      h->snapshot_interval == 0.5, "header: clocks");
	CHECK(h->ntargets == 1 && h->targets[0].pid == (__u32)getpid() &&
	      !strcmp(h->targets[0].comm, "rec_test"), "header: target %s", h->targets[0].comm);
	full = read_all(r, 0, &rc);
	CHECK(full == nitems && rc == 0 && !rec_warning(r), "round trip: %d of %d items, rc %d",
	      full, nitems, rc);
	CHECK(rec_total_events(r) == 11, "events %llu", (unsigned long long)rec_total_events(r));
	{
		__u64 t0, t1, ne;

		CHECK(!rec_span(r, &t0, &t1, &ne) && t0 == items[0].ts &&
		      t1 == items[nitems - 1].ts && ne == 11, "span %llu..%llu, %llu events",
		      (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)ne);
		CHECK(rec_next(r, &it) == 1 && it.event_no == 0 && it.kind == REC_SNAPSHOT,
		      "rewound after the span");
	}

	/* seeking: the second round's keyframe */
	CHECK(rec_seek_event(r, 10) == 9 && rec_next(r, &it) == 1 && it.kind == REC_SNAPSHOT &&
	      it.snap->seq == 2 && it.event_no == 9, "seek to event 10 lands on the keyframe at 9");
	CHECK(rec_seek_event(r, 3) == 0 && rec_next(r, &it) == 1 && it.event_no == 0 &&
	      it.snap->seq == 1, "seek to event 3: the first keyframe");
	CHECK(rec_seek_time(r, items[nitems - 1].ts) == 9, "seek to the end time");
	CHECK(rec_seek_time(r, 0) == 0, "seek before the start");
	CHECK(read_all(r, 0, &rc) == nitems, "rewound: everything again");
	rec_close(r);

	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = malloc(size);
	CHECK(fread(data, 1, size, f) == size, "read back");
	fclose(f);
	memcpy(&n, data + 12, 4);
	hdr_end = REC_FILE_HDR_SIZE + n;

	/* cut at every offset: a prefix, a warning, never an error */
	for (size_t off = 0; off < size; off++) {
		int got;

		rc = 99;

		r = rec_open_mem(data, off, err, sizeof(err));
		if (off < hdr_end) {
			CHECK(!r && strstr(err, "offset"), "cut at %zu: must not open: %s", off, err);
			rec_close(r);
			continue;
		}
		CHECK(r, "cut at %zu: %s", off, err);
		if (!r)
			continue;
		got = read_all(r, 0, &rc);
		CHECK(got >= 0 && got <= nitems && rc == 0 && rec_warning(r),
		      "cut at %zu: %d items, rc %d, warning %s", off, got, rc, rec_warning(r));
		/* the end marker is the last item: a cut file must never return it,
		 * even cut in the deflate stream's last bytes (its Adler-32) */
		CHECK(got < nitems, "cut at %zu of %zu: the end marker came back", off, size);
		rec_close(r);
	}
	/* flip each byte: an error every time */
	for (size_t off = 0; off < size; off++) {
		data[off] ^= 0x5a;
		r = rec_open_mem(data, size, err, sizeof(err));
		if (r) {
			int got = read_all(r, 0, &rc);

			CHECK(rc < 0 && rec_error(r) && strstr(rec_error(r), "offset"),
			      "flip at %zu: %d items, rc %d", off, got, rc);
			rec_close(r);
		}
		data[off] ^= 0x5a;
	}
	free(data);
	unlink(path);
	writer_files();
	printf("rec: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
