// SPDX-License-Identifier: GPL-2.0
/*
 * The recording reader.  It trusts no length, count or offset in a file:
 * every one is checked against the bytes actually there and against the
 * format's bounds before it is used; every record passes et_record_check;
 * a snapshot's counts must add up to its item's length exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "grow.h"
#include "rec_format.h"
#include "recording.h"

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* tests/fuzz_reader.c: let mutations past the checksums */
#define CRC_OK(got, want) ((void)(got), (void)(want), 1)
#define FUZZING 1
#else
#define CRC_OK(got, want) ((got) == (want))
#define FUZZING 0
#endif

struct rec_reader {
	int fd;				/* -1 for a buffer */
	const unsigned char *mem;
	__u64 size;
	char name[256];
	struct rec_header hdr;
	struct rec_block *idx;
	size_t nidx;
	/* where indexing stopped: a cut-off tail, or a corrupt block header */
	__u64 cut_off;			/* offset of the partial block, 0 if none */
	__u64 corrupt_off;		/* offset of a corrupt block header, 0 if none */
	char corrupt_why[96];
	/* the block being read */
	size_t cur;			/* index of the next block to load */
	__u64 blk_off;
	unsigned char *pay;
	size_t pcap;
	unsigned char *raw;
	size_t rlen, rpos, rcap;
	bool blk_partial;		/* a cut-off block: stop quietly at its end */
	__u32 blk_items_left;
	__u64 prev_ts;
	__u64 event_no;
	__u32 item_in_blk;
	bool loaded;
	bool done, saw_end, truncated;
	__u64 last_ts;
	/* the current item's storage */
	union {
		struct et_hdr h;
		unsigned char b[4096];	/* the largest record: wait_chain's 2 KiB */
	} rec;
	struct et_snapshot snap;
	char err[640];
	char warn[640];
};

static void seterr(struct rec_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void seterr(struct rec_reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s: %s", r->name, msg);
}

static __u32 get_u32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static __u64 get_u64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* read exactly len bytes at off; the caller has checked off + len <= size */
static int read_at(struct rec_reader *r, __u64 off, void *buf, size_t len)
{
	size_t done = 0;

	if (off > r->size || len > r->size - off)
		return -1;
	if (r->mem) {
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(r->fd, (char *)buf + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static void copy_word(char *dst, size_t len, const char *src, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* next space-separated word of [*p, end); the rest of the line with rest */
static size_t word(const char **p, const char *end, const char **w)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	e = s;
	while (e < end && *e != ' ')
		e++;
	*w = s;
	*p = e;
	return e - s;
}

static void parse_line(struct rec_header *h, const char *s, const char *end)
{
	const char *w, *p = s;
	size_t n = word(&p, end, &w);
	const char *rest = p < end ? p + 1 : end;
	size_t rlen = end - rest;
	char num[32];

	if (n == 4 && !memcmp(w, "tool", 4)) {
		copy_word(h->tool, sizeof(h->tool), rest, rlen);
	} else if (n == 6 && !memcmp(w, "kernel", 6)) {
		copy_word(h->kernel, sizeof(h->kernel), rest, rlen);
	} else if (n == 7 && !memcmp(w, "machine", 7)) {
		copy_word(h->machine, sizeof(h->machine), rest, rlen);
	} else if (n == 6 && !memcmp(w, "attach", 6)) {
		copy_word(h->attach, sizeof(h->attach), rest, rlen);
	} else if (n == 9 && !memcmp(w, "callbacks", 9)) {
		h->callbacks_visible = rlen == 5 && !memcmp(rest, "exact", 5);
	} else if (n == 4 && !memcmp(w, "hook", 4) && h->nhooks < REC_MAX_HOOKS) {
		struct rec_hook *k = &h->hooks[h->nhooks++];

		n = word(&p, end, &w);
		copy_word(k->hook, sizeof(k->hook), w, n);
		n = word(&p, end, &w);
		copy_word(k->using, sizeof(k->using), w, n);
		n = word(&p, end, &w);
		copy_word(k->fidelity, sizeof(k->fidelity), w, n);
		rest = p < end ? p + 1 : end;
		copy_word(k->point, sizeof(k->point), rest, end - rest);
	} else if (n == 13 && !memcmp(w, "start_mono_ns", 13)) {
		copy_word(num, sizeof(num), rest, rlen);
		h->start_mono_ns = strtoull(num, NULL, 10);
	} else if (n == 13 && !memcmp(w, "start_wall_ns", 13)) {
		copy_word(num, sizeof(num), rest, rlen);
		h->start_wall_ns = strtoull(num, NULL, 10);
	} else if (n == 17 && !memcmp(w, "snapshot_interval", 17)) {
		copy_word(num, sizeof(num), rest, rlen);
		h->snapshot_interval = strtod(num, NULL);
	} else if (n == 6 && !memcmp(w, "target", 6) && h->ntargets < REC_MAX_TARGETS) {
		struct rec_target *t = &h->targets[h->ntargets++];

		n = word(&p, end, &w);
		copy_word(num, sizeof(num), w, n);
		t->pid = strtoul(num, NULL, 10);
		rest = p < end ? p + 1 : end;
		copy_word(t->comm, sizeof(t->comm), rest, end - rest);
	} else if (n == 7 && !memcmp(w, "command", 7)) {
		copy_word(h->command, sizeof(h->command), rest, rlen);
	} else if (n == 6 && !memcmp(w, "lesson", 6)) {
		copy_word(h->lesson, sizeof(h->lesson), rest, rlen);
	}
	/* unknown keys: a later version's; ignored */
}

static int parse_header(struct rec_reader *r)
{
	unsigned char fh[REC_FILE_HDR_SIZE];
	__u32 len;
	char *text, *s, *end;

	if (r->size < REC_FILE_HDR_SIZE || read_at(r, 0, fh, sizeof(fh))) {
		if (r->size >= 8 && !read_at(r, 0, fh, 8) && memcmp(fh, REC_MAGIC, 8)) {
			seterr(r, "not an epolltrace recording (bad magic number at offset 0)");
			return -1;
		}
		seterr(r, "truncated file header at offset %llu (the file has %llu bytes)",
		       (unsigned long long)r->size, (unsigned long long)r->size);
		return -1;
	}
	if (memcmp(fh, REC_MAGIC, 8)) {
		seterr(r, "not an epolltrace recording (bad magic number at offset 0)");
		return -1;
	}
	r->hdr.version = get_u32(fh + 8);
	if (r->hdr.version < REC_VERSION_MIN || r->hdr.version > REC_VERSION) {
		seterr(r, "unknown format version %u at offset 8 (this epolltrace reads "
		       "versions %u to %u)", r->hdr.version, REC_VERSION_MIN, REC_VERSION);
		return -1;
	}
	len = get_u32(fh + 12);
	if (len > REC_MAX_HEADER) {
		seterr(r, "corrupt header at offset 12: length %u exceeds %u", len, REC_MAX_HEADER);
		return -1;
	}
	if (len > r->size - REC_FILE_HDR_SIZE) {
		seterr(r, "truncated header at offset %llu: %u bytes announced, %llu present",
		       (unsigned long long)REC_FILE_HDR_SIZE, len,
		       (unsigned long long)(r->size - REC_FILE_HDR_SIZE));
		return -1;
	}
	text = malloc(len + 1);
	if (!text) {
		seterr(r, "out of memory");
		return -1;
	}
	if (read_at(r, REC_FILE_HDR_SIZE, text, len)) {
		seterr(r, "cannot read the header at offset %d", REC_FILE_HDR_SIZE);
		free(text);
		return -1;
	}
	if (!CRC_OK(crc32(0, (unsigned char *)text, len), get_u32(fh + 16))) {
		seterr(r, "corrupt header at offset %d: checksum mismatch", REC_FILE_HDR_SIZE);
		free(text);
		return -1;
	}
	for (s = text, end = text + len; s < end;) {
		char *nl = memchr(s, '\n', end - s);
		char *e = nl ? nl : end;

		parse_line(&r->hdr, s, e);
		s = e + 1;
	}
	free(text);
	return 0;
}

/* Index the block headers; stop at the end, a cut-off tail or corruption. */
static int build_index(struct rec_reader *r)
{
	unsigned char fh[REC_FILE_HDR_SIZE];
	size_t cap = 0;
	__u64 off;

	if (read_at(r, 0, fh, sizeof(fh)))
		return -1;
	off = REC_FILE_HDR_SIZE + (__u64)get_u32(fh + 12);
	while (off < r->size) {
		unsigned char bh[REC_BLOCK_HDR_SIZE];
		struct rec_block b = { .off = off };
		__u64 want_event = r->nidx ? r->idx[r->nidx - 1].first_event +
					     r->idx[r->nidx - 1].nevents : 0;

		if (r->size - off < REC_BLOCK_HDR_SIZE) {
			r->cut_off = off;
			break;
		}
		if (read_at(r, off, bh, sizeof(bh)))
			return -1;
		if (memcmp(bh, REC_BLOCK_MAGIC, 4)) {
			r->corrupt_off = off;
			snprintf(r->corrupt_why, sizeof(r->corrupt_why), "no block magic");
			break;
		}
		if (!CRC_OK(crc32(0, bh, 44), get_u32(bh + 44))) {
			r->corrupt_off = off;
			snprintf(r->corrupt_why, sizeof(r->corrupt_why),
				 "block header checksum mismatch");
			break;
		}
		b.flags = get_u32(bh + 4);
		b.plen = get_u32(bh + 8);
		b.rlen = get_u32(bh + 12);
		b.nitems = get_u32(bh + 20);
		b.first_event = get_u64(bh + 24);
		b.first_ts = get_u64(bh + 32);
		b.nevents = get_u32(bh + 40);
		/* each item takes at least 3 bytes: length, kind, time delta */
		if (b.rlen > REC_MAX_RAW || b.plen > compressBound(b.rlen) || !b.nitems ||
		    b.nitems > b.rlen / 3 || b.nevents > b.nitems || b.first_event != want_event) {
			r->corrupt_off = off;
			snprintf(r->corrupt_why, sizeof(r->corrupt_why),
				 "block header fields out of bounds");
			break;
		}
		if (r->nidx == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct rec_block *p = realloc(r->idx, ncap * sizeof(*p));

			if (!p)
				return -1;
			r->idx = p;
			cap = ncap;
		}
		r->idx[r->nidx++] = b;
		if (b.plen > r->size - off - REC_BLOCK_HDR_SIZE) {
			r->cut_off = off;	/* the payload was cut off */
			break;
		}
		off += REC_BLOCK_HDR_SIZE + b.plen;
	}
	return 0;
}

static struct rec_reader *open_common(struct rec_reader *r, const char *name, char *err,
				      size_t errlen)
{
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (parse_header(r) || build_index(r)) {
		if (!r->err[0])
			seterr(r, "cannot read: %s", strerror(errno ? errno : EIO));
		snprintf(err, errlen, "%s", r->err);
		rec_close(r);
		return NULL;
	}
	return r;
}

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

struct rec_reader *rec_open(const char *path, char *err, size_t errlen)
{
	struct rec_reader *r = calloc(1, sizeof(*r));
	struct stat st;

	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	/*
	 * The type first: open() of a FIFO waits for a writer, and opening
	 * some devices has effects of its own.  O_NONBLOCK and the fstat
	 * after it cover a file swapped in between.
	 */
	if (stat(path, &st)) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is %s, not a recording", path, file_type(st.st_mode));
		free(r);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (r->fd < 0 || fstat(r->fd, &st)) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is %s, not a recording", path, file_type(st.st_mode));
		close(r->fd);
		free(r);
		return NULL;
	}
	r->size = st.st_size;
	return open_common(r, path, err, errlen);
}

struct rec_reader *rec_open_mem(const void *data, size_t size, char *err, size_t errlen)
{
	struct rec_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->fd = -1;
	r->mem = data;
	r->size = size;
	return open_common(r, "(buffer)", err, errlen);
}

void rec_close(struct rec_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0 && !r->mem)
		close(r->fd);
	free(r->idx);
	free(r->pay);
	free(r->raw);
	free(r->snap.items);
	free(r->snap.ready);
	free(r->snap.waiters);
	free(r->snap.tree);
	free(r->snap.stale);
	free(r);
}

int rec_fstat(const struct rec_reader *r, struct stat *st)
{
	if (r->fd < 0 || fstat(r->fd, st)) {
		memset(st, 0, sizeof(*st));
		return -1;
	}
	return 0;
}

const struct rec_header *rec_header(const struct rec_reader *r)
{
	return &r->hdr;
}

void rec_session_info(const struct rec_reader *r, struct et_session_info *info,
		      struct et_hook_info *hooks, __u32 *pids, const char **comms)
{
	const struct rec_header *h = &r->hdr;

	memset(info, 0, sizeof(*info));
	info->callbacks_visible = h->callbacks_visible;
	info->attach = h->attach[0] ? h->attach : "?";
	info->kernel = h->kernel;
	info->machine = h->machine;
	for (int i = 0; i < h->nhooks; i++)
		hooks[i] = (struct et_hook_info){ .hook = h->hooks[i].hook,
						  .using = h->hooks[i].using,
						  .fidelity = h->hooks[i].fidelity,
						  .point = h->hooks[i].point };
	info->hooks = hooks;
	info->nhooks = h->nhooks;
	info->start_mono_ns = h->start_mono_ns;
	info->start_wall_ns = h->start_wall_ns;
	for (int i = 0; i < h->ntargets; i++) {
		pids[i] = h->targets[i].pid;
		comms[i] = h->targets[i].comm;
	}
	info->pids = pids;
	info->comms = comms;
	info->npids = h->ntargets;
	info->cmd = h->command[0] ? h->command : NULL;
	info->snapshot_interval = h->snapshot_interval;
	info->lesson = h->lesson[0] ? h->lesson : NULL;
	info->replay = true;
}

const char *rec_error(const struct rec_reader *r)
{
	return r->err[0] ? r->err : NULL;
}

const char *rec_warning(const struct rec_reader *r)
{
	return r->warn[0] ? r->warn : NULL;
}

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
	return et_grow((void **)buf, cap, need, 1);
}

/* Load block r->cur: check, inflate.  0 ok, -1 error (r->err). */
static int load_block(struct rec_reader *r)
{
	const struct rec_block *b = &r->idx[r->cur];
	__u64 avail = r->size - b->off - REC_BLOCK_HDR_SIZE;
	size_t plen = b->plen <= avail ? b->plen : avail;
	z_stream z = {};
	int zr;

	r->blk_partial = b->plen > avail;
	r->blk_off = b->off;
	if (grow(&r->pay, &r->pcap, plen ? plen : 1) ||
	    grow(&r->raw, &r->rcap, b->rlen ? b->rlen : 1)) {
		seterr(r, "out of memory reading the block at offset %llu",
		       (unsigned long long)b->off);
		return -1;
	}
	if (read_at(r, b->off + REC_BLOCK_HDR_SIZE, r->pay, plen)) {
		seterr(r, "cannot read the block at offset %llu", (unsigned long long)b->off);
		return -1;
	}
	if (!r->blk_partial) {
		unsigned char bh[REC_BLOCK_HDR_SIZE];

		if (read_at(r, b->off, bh, sizeof(bh)) ||
		    !CRC_OK(crc32(0, r->pay, plen), get_u32(bh + 16))) {
			seterr(r, "corrupt block at offset %llu: payload checksum mismatch",
			       (unsigned long long)b->off);
			return -1;
		}
	}
	if (inflateInit(&z) != Z_OK) {
		seterr(r, "out of memory");
		return -1;
	}
	z.next_in = r->pay;
	z.avail_in = plen;
	z.next_out = r->raw;
	z.avail_out = b->rlen;
	zr = inflate(&z, Z_FINISH);
	r->rlen = b->rlen - z.avail_out;
	inflateEnd(&z);
	if (FUZZING && (zr != Z_STREAM_END || r->rlen != b->rlen))
		r->blk_partial = true;	/* decode what came out */
	if (!r->blk_partial && (zr != Z_STREAM_END || r->rlen != b->rlen)) {
		seterr(r, "corrupt block at offset %llu: payload does not inflate to %u bytes",
		       (unsigned long long)b->off, b->rlen);
		return -1;
	}
	r->rpos = 0;
	r->prev_ts = b->first_ts;
	r->event_no = b->first_event;
	r->item_in_blk = 0;
	r->blk_items_left = b->nitems;
	r->loaded = true;
	return 0;
}

static int varint(const unsigned char *p, size_t len, size_t *pos, __u64 *v)
{
	__u64 x = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		unsigned char c;

		if (*pos >= len)
			return -1;
		c = p[(*pos)++];
		x |= (__u64)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int snap_array(void **arr, __u32 *cap, __u32 n, size_t sz)
{
	void *p;

	if (n <= *cap)
		return 0;
	p = realloc(*arr, (size_t)n * sz);
	if (!p)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

static int decode_snapshot(struct rec_reader *r, const unsigned char *p, size_t len, __u64 ts)
{
	struct et_snapshot *s = &r->snap;
	struct rec_snap_fixed fx;
	size_t need;

	if (len < sizeof(fx))
		return -1;
	memcpy(&fx, p, sizeof(fx));
	if (fx.nitems > ET_MAX_TREE_ITEMS || fx.nready > ET_MAX_TREE_ITEMS ||
	    fx.nwaiters > ET_MAX_TREE_ITEMS || fx.has_counters > 1 || fx.has_shape > 1)
		return -1;
	need = sizeof(fx) + (fx.has_counters ? sizeof(s->cnt) : 0) +
	       (size_t)fx.nitems * sizeof(*s->items) + (size_t)fx.nready * sizeof(*s->ready) +
	       (size_t)fx.nwaiters * sizeof(*s->waiters) +
	       (fx.has_shape ? sizeof(s->root) + (size_t)fx.nitems * sizeof(*s->tree) : 0);
	s->nstale = 0;
	/* format 5: the stale items' positions (ET_F_FDS_CHECKED) */
	if (fx.flags & ET_F_FDS_CHECKED) {
		__u32 n;

		if (len < need + sizeof(n))
			return -1;
		memcpy(&n, p + need, sizeof(n));
		if (n > fx.nitems || len != need + sizeof(n) + (size_t)n * sizeof(*s->stale) ||
		    snap_array((void **)&s->stale, &s->cap_stale, n, sizeof(*s->stale)))
			return -1;
		if (n)
			memcpy(s->stale, p + need + sizeof(n), (size_t)n * sizeof(*s->stale));
		for (__u32 i = 0; i < n; i++)
			if (s->stale[i] >= fx.nitems)
				return -1;
		s->nstale = n;
		need += sizeof(n) + (size_t)n * sizeof(*s->stale);
	}
	if (need != len)
		return -1;
	if (fx.has_shape &&
	    snap_array((void **)&s->tree, &s->cap_tree, fx.nitems, sizeof(*s->tree)))
		return -1;
	if (snap_array((void **)&s->items, &s->cap_items, fx.nitems, sizeof(*s->items)) ||
	    snap_array((void **)&s->ready, &s->cap_ready, fx.nready, sizeof(*s->ready)) ||
	    snap_array((void **)&s->waiters, &s->cap_waiters, fx.nwaiters, sizeof(*s->waiters)))
		return -1;
	memset(&s->hdr, 0, sizeof(s->hdr));
	s->hdr.ts_ns = ts;
	memcpy((char *)&s->hdr + 8, fx.hdr_rest, sizeof(fx.hdr_rest));
	s->in = fx.in;
	s->seq = fx.seq;
	s->watched = fx.watched;
	s->flags = fx.flags;
	s->nitems = fx.nitems;
	s->nready = fx.nready;
	s->nwaiters = fx.nwaiters;
	s->has_counters = fx.has_counters;
	p += sizeof(fx);
	memset(&s->cnt, 0, sizeof(s->cnt));
	if (fx.has_counters) {
		memcpy(&s->cnt, p, sizeof(s->cnt));
		p += sizeof(s->cnt);
	}
	if (fx.nitems)
		memcpy(s->items, p, (size_t)fx.nitems * sizeof(*s->items));
	p += (size_t)fx.nitems * sizeof(*s->items);
	if (fx.nready)
		memcpy(s->ready, p, (size_t)fx.nready * sizeof(*s->ready));
	p += (size_t)fx.nready * sizeof(*s->ready);
	if (fx.nwaiters)
		memcpy(s->waiters, p, (size_t)fx.nwaiters * sizeof(*s->waiters));
	p += (size_t)fx.nwaiters * sizeof(*s->waiters);
	s->has_shape = fx.has_shape;
	s->root = -1;
	if (fx.has_shape) {
		memcpy(&s->root, p, sizeof(s->root));
		p += sizeof(s->root);
		if (fx.nitems)
			memcpy(s->tree, p, (size_t)fx.nitems * sizeof(*s->tree));
		/* positions out of range would index past items[]: a damaged file */
		if (s->root < -1 || s->root >= (__s32)fx.nitems)
			return -1;
		for (__u32 i = 0; i < fx.nitems; i++) {
			const struct et_tree_node *t = &s->tree[i];

			if (t->left < -1 || t->left >= (__s32)fx.nitems || t->right < -1 ||
			    t->right >= (__s32)fx.nitems || t->parent < -1 ||
			    t->parent >= (__s32)fx.nitems || t->black > 1)
				return -1;
		}
	}
	return 0;
}

static void finish(struct rec_reader *r)
{
	r->done = true;
	if (r->cut_off || r->truncated)
		snprintf(r->warn, sizeof(r->warn),
			 "%s: cut off at offset %llu (block at offset %llu incomplete); replayed "
			 "up to event %llu, the last complete one", r->name,
			 (unsigned long long)r->size,
			 (unsigned long long)(r->cut_off ? r->cut_off : r->blk_off),
			 (unsigned long long)r->event_no);
	else if (!r->saw_end)
		snprintf(r->warn, sizeof(r->warn),
			 "%s: ends at offset %llu without the session's end (cut off?); replayed "
			 "%llu events", r->name, (unsigned long long)r->size,
			 (unsigned long long)r->event_no);
}

int rec_next(struct rec_reader *r, struct rec_item *it)
{
	for (;;) {
		__u64 len, kind, zz;
		size_t pos, end;
		__s64 d;

		if (r->err[0])
			return -1;
		if (r->done)
			return 0;
		if (!r->loaded || r->rpos >= r->rlen) {
			if (r->loaded && !r->blk_partial &&
			    (r->blk_items_left || r->event_no != r->idx[r->cur - 1].first_event +
							       r->idx[r->cur - 1].nevents)) {
				seterr(r, "corrupt block at offset %llu: its items do not add up "
				       "to its header's counts", (unsigned long long)r->blk_off);
				return -1;
			}
			if (r->loaded && r->blk_partial) {
				r->truncated = true;
				finish(r);
				return 0;
			}
			if (r->cur >= r->nidx) {
				if (r->corrupt_off) {
					seterr(r, "corrupt block at offset %llu: %s",
					       (unsigned long long)r->corrupt_off, r->corrupt_why);
					return -1;
				}
				finish(r);
				return 0;
			}
			if (load_block(r))
				return -1;
			r->cur++;
			continue;
		}
		pos = r->rpos;
		if (varint(r->raw, r->rlen, &pos, &len) || len > r->rlen - pos || len < 2) {
			if (r->blk_partial) {
				r->truncated = true;
				finish(r);
				return 0;
			}
			seterr(r, "corrupt block at offset %llu: bad length of item %u",
			       (unsigned long long)r->blk_off, r->item_in_blk);
			return -1;
		}
		end = pos + len;
		kind = r->raw[pos++];
		if (varint(r->raw, end, &pos, &zz) || !r->blk_items_left)
			goto bad;
		d = (__s64)((zz >> 1) ^ -(zz & 1));
		r->prev_ts += d;
		r->rpos = end;
		r->blk_items_left--;
		r->item_in_blk++;
		memset(it, 0, sizeof(*it));
		it->kind = kind;
		it->ts_ns = r->prev_ts;
		it->event_no = r->event_no;
		it->block_off = r->blk_off;
		r->last_ts = r->prev_ts;
		switch (kind) {
		case REC_RECORD: {
			size_t blen = end - pos, size;
			__u16 type;

			if (blen < sizeof(struct et_hdr) - 8)
				goto bad;
			memcpy(&type, r->raw + pos + 8, sizeof(type));
			size = et_record_size(type);
			if (!size || size > sizeof(r->rec.b) || blen > size - 8)
				goto bad;
			memset(r->rec.b, 0, size);
			memcpy(r->rec.b, &it->ts_ns, 8);
			memcpy(r->rec.b + 8, r->raw + pos, blen);
			if (et_record_check(r->rec.b, size))
				goto bad;
			it->rec = &r->rec.h;
			it->size = size;
			r->event_no++;
			return 1;
		}
		case REC_SNAPSHOT:
			if (decode_snapshot(r, r->raw + pos, end - pos, it->ts_ns))
				goto bad;
			it->snap = &r->snap;
			r->event_no++;
			return 1;
		case REC_TICK:
			if (pos != end)
				goto bad;
			return 1;
		case REC_END:
			if (pos != end)
				goto bad;
			/*
			 * An end marker is proof of a complete recording only in
			 * a whole block.  A block cut in its last bytes (the
			 * deflate stream's end and its Adler-32, 1 to 5 bytes)
			 * still inflates to every item, the end included: that
			 * is a cut file all the same, its checksum unverified.
			 */
			if (r->blk_partial) {
				r->truncated = true;
				finish(r);
				return 0;
			}
			r->saw_end = true;
			return 1;
		}
bad:
		seterr(r, "corrupt block at offset %llu: malformed item %u",
		       (unsigned long long)r->blk_off, r->item_in_blk);
		return -1;
	}
}

static long long seek_block(struct rec_reader *r, size_t i)
{
	r->cur = i;
	r->loaded = false;
	r->done = false;
	r->saw_end = false;
	r->truncated = false;
	r->err[0] = '\0';
	r->warn[0] = '\0';
	r->rlen = r->rpos = 0;
	if (!r->nidx) {
		r->event_no = 0;
		return 0;
	}
	r->event_no = r->idx[i].first_event;
	return r->idx[i].first_event;
}

long long rec_seek_event(struct rec_reader *r, __u64 event_no)
{
	size_t best = 0;

	for (size_t i = 0; i < r->nidx && r->idx[i].first_event <= event_no; i++)
		if (r->idx[i].flags & REC_BLK_KEYFRAME)
			best = i;
	return seek_block(r, best);
}

long long rec_seek_time(struct rec_reader *r, __u64 ts_ns)
{
	size_t best = 0;

	for (size_t i = 0; i < r->nidx && r->idx[i].first_ts <= ts_ns; i++)
		if (r->idx[i].flags & REC_BLK_KEYFRAME)
			best = i;
	return seek_block(r, best);
}

int rec_rewind(struct rec_reader *r)
{
	seek_block(r, 0);
	return 0;
}

int rec_span(struct rec_reader *r, __u64 *first_ts, __u64 *last_ts, __u64 *events)
{
	struct rec_item it;
	int n = 0;

	*first_ts = *last_ts = *events = 0;
	if (!r->nidx)
		return 0;
	*first_ts = r->idx[0].first_ts;
	*last_ts = r->idx[r->nidx - 1].first_ts;
	*events = r->idx[r->nidx - 1].first_event;
	seek_block(r, r->nidx - 1);
	while ((n = rec_next(r, &it)) > 0) {
		if (it.ts_ns > *last_ts)
			*last_ts = it.ts_ns;
		if (it.kind == REC_RECORD || it.kind == REC_SNAPSHOT)
			*events = it.event_no + 1;
	}
	seek_block(r, 0);
	return n < 0 ? -1 : 0;
}

size_t rec_blocks(const struct rec_reader *r, const struct rec_block **blocks)
{
	*blocks = r->idx;
	return r->nidx;
}

__u64 rec_total_events(const struct rec_reader *r)
{
	return r->nidx ? r->idx[r->nidx - 1].first_event + r->idx[r->nidx - 1].nevents : 0;
}

__u64 rec_file_size(const struct rec_reader *r)
{
	return r->size;
}

__u64 rec_position(const struct rec_reader *r)
{
	return r->loaded ? r->blk_off : (r->cur < r->nidx ? r->idx[r->cur].off : r->size);
}
