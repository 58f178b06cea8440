// SPDX-License-Identifier: GPL-2.0
/*
 * The recorder: an et_sink that writes the stream to a file (the format is
 * in recording.h and docs/recordings.md).  Items are gathered into a
 * block in memory; a block is compressed and written at the session's
 * first flush after it has held events for 100 ms (ticks alone: 1 s), when
 * it grows past REC_BLOCK_TARGET, before a snapshot round (which starts a
 * keyframe block) and at the end.  A kill loses at most the block being
 * gathered: the last ~100 ms.
 *
 * The file is an outfile (outfile.h): written to a temporary name, and
 * renamed over the target when its first block is written, so that a
 * session that fails before recording anything (no such pid, attach
 * refused) leaves an older recording of that name as it was.  From then
 * on the recording is at its path while it grows, as before: a kill, or
 * a full disk, leaves it readable up to its last complete block.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "clock.h"
#include "fdkind.h"
#include "grow.h"
#include "log.h"
#include "outfile.h"
#include "rec_format.h"
#include "recording.h"

#define REC_BLOCK_TARGET	(256u << 10)
/* a block of ticks only is written at least this often */
#define REC_IDLE_NS		1000000000ULL
/* events are written within about this long */
#define REC_FLUSH_NS		100000000ULL

struct rec_writer {
	struct et_sink sink;
	int fd;
	char *path;
	struct outfile out;
	bool began, failed;
	__u64 off;		/* bytes written */
	__u64 hdr_end;		/* where the blocks start */
	__u64 nevents;		/* events recorded */
	/* the block being gathered */
	unsigned char *raw;
	size_t rlen, rcap;
	__u32 nitems, blk_events, flags;
	__u64 first_event, first_ts, prev_ts, open_ns;
	/* the previous snapshot's round, to tell where a round starts */
	__u64 snap_seq;
	bool have_seq;
	unsigned char *zbuf;
	size_t zcap;
};

/* write all of buf at the end of the file; on error report it once */
static int write_all(struct rec_writer *w, const void *buf, size_t len)
{
	const char *p = buf;

	if (w->failed)
		return -1;
	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* no block yet: rec_writer_close discards it (an old file stays) */
			et_err("recording %s: write failed at offset %llu: %s; %s", w->path,
			       (unsigned long long)w->off, n < 0 ? strerror(errno) : "no progress",
			       w->hdr_end && w->off > w->hdr_end ?
			       "the file is readable up to there" : "nothing was recorded");
			w->failed = true;
			return -1;
		}
		p += n;
		len -= n;
		w->off += n;
	}
	return 0;
}

static int reserve(unsigned char **buf, size_t *cap, size_t need)
{
	return et_grow((void **)buf, cap, need, 1);
}

static void put_u32(unsigned char *p, __u32 v)
{
	memcpy(p, &v, 4);	/* the format is little-endian, like the hosts we run on */
}

static void put_u64(unsigned char *p, __u64 v)
{
	memcpy(p, &v, 8);
}

/* compress and write the block gathered so far */
static void block_write(struct rec_writer *w)
{
	uLongf zlen;

	if (!w->nitems)
		return;
	zlen = compressBound(w->rlen);
	if (reserve(&w->zbuf, &w->zcap, REC_BLOCK_HDR_SIZE + zlen) ||
	    compress2(w->zbuf + REC_BLOCK_HDR_SIZE, &zlen, w->raw, w->rlen, REC_ZLEVEL) != Z_OK) {
		if (!w->failed)
			et_err("recording %s: cannot compress a block (out of memory)", w->path);
		w->failed = true;
	}
	if (!w->failed) {
		unsigned char *hdr = w->zbuf;

		memcpy(hdr, REC_BLOCK_MAGIC, 4);
		put_u32(hdr + 4, w->flags);
		put_u32(hdr + 8, zlen);
		put_u32(hdr + 12, w->rlen);
		put_u32(hdr + 16, crc32(0, hdr + REC_BLOCK_HDR_SIZE, zlen));
		put_u32(hdr + 20, w->nitems);
		put_u64(hdr + 24, w->first_event);
		put_u64(hdr + 32, w->first_ts);
		put_u32(hdr + 40, w->blk_events);
		put_u32(hdr + 44, crc32(0, hdr, 44));
		/* header and payload in one write: a cut leaves one partial block */
		if (!write_all(w, hdr, REC_BLOCK_HDR_SIZE + zlen) && !outfile_committed(&w->out) &&
		    outfile_commit(&w->out))
			w->failed = true;
	}
	w->rlen = 0;
	w->nitems = 0;
	w->blk_events = 0;
	w->flags = 0;
}

static size_t put_varint(unsigned char *p, __u64 v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	p[n++] = v;
	return n;
}

/*
 * Append one item: varint length of (kind, dts, body), kind, zigzag varint
 * of ts minus the previous item's ts in this block, body.  body may be
 * NULL when the caller fills it in afterwards (returned pointer).
 */
static unsigned char *item_add(struct rec_writer *w, enum rec_kind kind, __u64 ts,
			       const void *body, size_t blen)
{
	unsigned char pre[32], *dst;
	size_t plen = 0, inner;
	__s64 d;
	__u64 zz;

	if (w->failed || !w->began)
		return NULL;
	if (!w->nitems) {
		w->first_event = w->nevents;
		w->first_ts = ts;
		w->prev_ts = ts;
		w->open_ns = mono_ns();
	}
	d = (__s64)(ts - w->prev_ts);
	zz = ((__u64)d << 1) ^ (__u64)(d >> 63);
	w->prev_ts = ts;
	inner = 1 + put_varint(pre + 16, zz) + blen;
	plen = put_varint(pre, inner);
	pre[plen++] = kind;
	plen += put_varint(pre + plen, zz);
	if (reserve(&w->raw, &w->rcap, w->rlen + plen + blen)) {
		et_err("recording %s: out of memory", w->path);
		w->failed = true;
		return NULL;
	}
	memcpy(w->raw + w->rlen, pre, plen);
	dst = w->raw + w->rlen + plen;
	if (body)
		memcpy(dst, body, blen);
	w->rlen += plen + blen;
	w->nitems++;
	if (kind == REC_RECORD || kind == REC_SNAPSHOT) {
		w->blk_events++;
		w->nevents++;
	}
	return dst;
}

_Static_assert(sizeof(struct et_ev_wait_exit) == offsetof(struct et_ev_wait_exit, ev) +
	       ET_WAIT_MAX_EVENTS * sizeof(((struct et_ev_wait_exit *)0)->ev[0]),
	       "ev[] ends a wait_exit record");
_Static_assert(sizeof(struct et_ev_scan) == offsetof(struct et_ev_scan, fd) +
	       ET_WAIT_MAX_EVENTS * sizeof(((struct et_ev_scan *)0)->fd[0]),
	       "fd[] ends a scan record");

static void w_record(struct et_sink *s, const struct et_hdr *h, size_t size)
{
	struct rec_writer *w = (struct rec_writer *)s;
	unsigned char buf[4096];	/* rec_read.c's rec.b holds as much */
	size_t len;

	if (size > sizeof(buf) || size < sizeof(*h))
		return;
	/*
	 * Unused array entries carry nothing: keep them out of the file.  The
	 * arrays end their records (no tail padding), so the record ends
	 * where the used entries do; only that much is copied.
	 */
	len = size;
	if (h->type == ET_EV_WAIT_EXIT) {
		const struct et_ev_wait_exit *e = (const void *)h;

		if (e->ncopied <= ET_WAIT_MAX_EVENTS)
			len = offsetof(struct et_ev_wait_exit, ev) + e->ncopied * sizeof(e->ev[0]);
	} else if (h->type == ET_EV_SCAN) {
		const struct et_ev_scan *e = (const void *)h;

		if (e->n <= ET_WAIT_MAX_EVENTS)
			len = offsetof(struct et_ev_scan, fd) + e->n * sizeof(e->fd[0]);
	}
	if (len > size)
		len = size;
	memcpy(buf, h, len);
	/* trailing zero bytes are implied: the reader zero-fills to the type's size */
	while (len > sizeof(*h) && !buf[len - 1])
		len--;
	item_add(w, REC_RECORD, h->ts_ns, buf + 8, len - 8);
	if (w->rlen >= REC_BLOCK_TARGET)
		block_write(w);
}

static void w_snapshot(struct et_sink *s, const struct et_snapshot *snap)
{
	struct rec_writer *w = (struct rec_writer *)s;
	struct rec_snap_fixed fx = {};
	size_t blen;
	unsigned char *p;

	/* a new round starts a keyframe block */
	if (!w->have_seq || snap->seq != w->snap_seq) {
		block_write(w);
		w->flags |= REC_BLK_KEYFRAME;
		w->snap_seq = snap->seq;
		w->have_seq = true;
	}
	memcpy(fx.hdr_rest, (const char *)&snap->hdr + 8, sizeof(fx.hdr_rest));
	fx.in = snap->in;
	fx.seq = snap->seq;
	fx.watched = snap->watched;
	fx.flags = snap->flags;
	fx.has_counters = snap->has_counters;
	fx.has_shape = snap->has_shape;
	fx.nitems = snap->nitems;
	fx.nready = snap->nready;
	fx.nwaiters = snap->nwaiters;
	blen = sizeof(fx) + (snap->has_counters ? sizeof(snap->cnt) : 0) +
	       (size_t)snap->nitems * sizeof(*snap->items) +
	       (size_t)snap->nready * sizeof(*snap->ready) +
	       (size_t)snap->nwaiters * sizeof(*snap->waiters) +
	       (snap->has_shape ? sizeof(snap->root) +
				  (size_t)snap->nitems * sizeof(*snap->tree) : 0) +
	       (snap->flags & ET_F_FDS_CHECKED ? sizeof(snap->nstale) +
				  (size_t)snap->nstale * sizeof(*snap->stale) : 0);
	p = item_add(w, REC_SNAPSHOT, snap->hdr.ts_ns, NULL, blen);
	if (!p)
		return;
	memcpy(p, &fx, sizeof(fx));
	p += sizeof(fx);
	if (snap->has_counters) {
		memcpy(p, &snap->cnt, sizeof(snap->cnt));
		p += sizeof(snap->cnt);
	}
	if (snap->nitems)
		memcpy(p, snap->items, (size_t)snap->nitems * sizeof(*snap->items));
	p += (size_t)snap->nitems * sizeof(*snap->items);
	if (snap->nready)
		memcpy(p, snap->ready, (size_t)snap->nready * sizeof(*snap->ready));
	p += (size_t)snap->nready * sizeof(*snap->ready);
	if (snap->nwaiters)
		memcpy(p, snap->waiters, (size_t)snap->nwaiters * sizeof(*snap->waiters));
	p += (size_t)snap->nwaiters * sizeof(*snap->waiters);
	if (snap->has_shape) {
		memcpy(p, &snap->root, sizeof(snap->root));
		p += sizeof(snap->root);
		if (snap->nitems)
			memcpy(p, snap->tree, (size_t)snap->nitems * sizeof(*snap->tree));
		p += (size_t)snap->nitems * sizeof(*snap->tree);
	}
	if (snap->flags & ET_F_FDS_CHECKED) {
		memcpy(p, &snap->nstale, sizeof(snap->nstale));
		p += sizeof(snap->nstale);
		if (snap->nstale)
			memcpy(p, snap->stale, (size_t)snap->nstale * sizeof(*snap->stale));
	}
	if (w->rlen >= REC_BLOCK_TARGET)
		block_write(w);
}

static void w_flush(struct et_sink *s)
{
	struct rec_writer *w = (struct rec_writer *)s;

	__u64 age;

	/*
	 * The session flushes after every pass of its loop, which under load
	 * is far more often than every 100 ms: blocks of at least 100 ms
	 * compress better and cost fewer writes; ticks alone, once a second.
	 */
	if (!w->nitems)
		return;
	age = mono_ns() - w->open_ns;
	if (age >= REC_IDLE_NS || (w->blk_events && age >= REC_FLUSH_NS))
		block_write(w);
}

static int w_tick(struct et_sink *s, __u64 now)
{
	struct rec_writer *w = (struct rec_writer *)s;

	item_add(w, REC_TICK, now, NULL, 0);
	return w->failed;	/* a recording that cannot be written ends the session */
}

static void w_end(struct et_sink *s, __u64 now)
{
	struct rec_writer *w = (struct rec_writer *)s;

	item_add(w, REC_END, now, NULL, 0);
	block_write(w);
}

/* header text: no control bytes, no newlines */
static void hdr_line(char **buf, size_t *len, size_t *cap, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void hdr_line(char **buf, size_t *len, size_t *cap, const char *key, const char *fmt, ...)
{
	char val[512];
	va_list ap;
	size_t need;
	int n;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	for (char *c = val; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
	need = strlen(key) + strlen(val) + 3;
	if (*len + need > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 4096) + need;
		char *p = realloc(*buf, ncap);

		if (!p)
			return;
		*buf = p;
		*cap = ncap;
	}
	n = snprintf(*buf + *len, *cap - *len, "%s %s\n", key, val);
	if (n > 0)
		*len += n;
}

static void w_begin(struct et_sink *s, const struct et_session_info *info)
{
	struct rec_writer *w = (struct rec_writer *)s;
	unsigned char fh[REC_FILE_HDR_SIZE];
	char *t = NULL;
	size_t len = 0, cap = 0;

	if (w->began)
		return;
	hdr_line(&t, &len, &cap, "tool", "epolltrace %s", EPOLLTRACE_VERSION_STR);
	hdr_line(&t, &len, &cap, "kernel", "%s", info->kernel ? info->kernel : "");
	hdr_line(&t, &len, &cap, "machine", "%s", info->machine ? info->machine : "");
	hdr_line(&t, &len, &cap, "attach", "%s", info->attach ? info->attach : "?");
	hdr_line(&t, &len, &cap, "callbacks", "%s", info->callbacks_visible ? "exact" : "sampled");
	for (int i = 0; i < info->nhooks && i < REC_MAX_HOOKS; i++)
		hdr_line(&t, &len, &cap, "hook", "%s %s %s %s", info->hooks[i].hook,
			 info->hooks[i].using, info->hooks[i].fidelity, info->hooks[i].point);
	hdr_line(&t, &len, &cap, "start_mono_ns", "%llu",
		 (unsigned long long)info->start_mono_ns);
	hdr_line(&t, &len, &cap, "start_wall_ns", "%llu",
		 (unsigned long long)info->start_wall_ns);
	hdr_line(&t, &len, &cap, "snapshot_interval", "%g", info->snapshot_interval);
	for (int i = 0; i < info->npids && i < REC_MAX_TARGETS; i++) {
		char comm[64];

		if (info->cmd && i == info->npids - 1) {
			const char *b = strrchr(info->cmd, '/');

			snprintf(comm, sizeof(comm), "%.15s", b ? b + 1 : info->cmd);
		} else {
			proc_comm(info->pids[i], info->pids[i], comm, sizeof(comm));
		}
		hdr_line(&t, &len, &cap, "target", "%u %s", info->pids[i], comm);
	}
	if (info->cmd)
		hdr_line(&t, &len, &cap, "command", "%s", info->cmd);
	if (info->lesson)
		hdr_line(&t, &len, &cap, "lesson", "%s", info->lesson);
	if (!t) {
		et_err("recording %s: out of memory", w->path);
		w->failed = true;
		return;
	}
	memcpy(fh, REC_MAGIC, 8);
	put_u32(fh + 8, REC_VERSION);
	put_u32(fh + 12, len);
	put_u32(fh + 16, crc32(0, (const unsigned char *)t, len));
	w->began = true;
	if (!write_all(w, fh, sizeof(fh)))
		write_all(w, t, len);
	w->hdr_end = w->off;
	free(t);
}

struct rec_writer *rec_writer_open(const char *path, bool force)
{
	struct rec_writer *w = calloc(1, sizeof(*w));

	if (!w || !(w->path = strdup(path))) {
		et_err("out of memory");
		free(w);
		return NULL;
	}
	if (outfile_open(&w->out, path, force, NULL)) {
		free(w->path);
		free(w);
		return NULL;
	}
	w->fd = w->out.fd;
	w->sink = (struct et_sink){ .record = w_record, .snapshot = w_snapshot, .flush = w_flush,
				    .begin = w_begin, .tick = w_tick, .end = w_end };
	return w;
}

struct et_sink *rec_writer_sink(struct rec_writer *w)
{
	return &w->sink;
}

bool rec_writer_failed(const struct rec_writer *w)
{
	return w->failed;
}

void rec_writer_stats(const struct rec_writer *w, __u64 *bytes, __u64 *events)
{
	*bytes = w->off;
	*events = w->nevents;
}

int rec_writer_close(struct rec_writer *w)
{
	int ret;

	if (!w)
		return 0;
	block_write(w);
	if (!w->failed && fsync(w->fd) && errno != EINVAL && errno != EROFS) {
		et_err("recording %s: %s", w->path, strerror(errno));
		w->failed = true;
	}
	/*
	 * Not yet at its path: a block that failed part way (full disk) is
	 * still data, and goes in place; a session that never got to record
	 * anything leaves nothing behind, and the old file as it was.
	 */
	if (!outfile_committed(&w->out) && w->off > w->hdr_end && w->began &&
	    outfile_commit(&w->out))
		w->failed = true;
	ret = outfile_committed(&w->out) ? 0 : 1;
	if (outfile_close(&w->out))
		w->failed = true;
	if (w->failed)
		ret = -1;
	free(w->raw);
	free(w->zbuf);
	free(w->path);
	free(w);
	return ret;
}
