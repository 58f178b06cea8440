// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer is the replay's and the stream's hot path (a record is
 * some 15 values).  It formats into a buffer of its own, numbers by hand
 * rather than through fprintf, and hands the buffer to stdio in one
 * fwrite: when a top-level value is complete (json_init_line) or after
 * every call (json_init).  The bytes are those fprintf wrote.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include "json.h"

void json_init(struct json_writer *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->need_comma[0] = false;
	w->line = false;
	w->len = 0;
}

void json_init_line(struct json_writer *w, FILE *f)
{
	json_init(w, f);
	w->line = true;
}

void json_flush(struct json_writer *w)
{
	if (w->len)
		fwrite(w->buf, 1, w->len, w->f);
	w->len = 0;
}

/* the end of a public call: hand the bytes over if nobody batches them */
static inline void done(struct json_writer *w)
{
	if (!w->line || !w->depth)
		json_flush(w);
}

/* room for n more bytes (n <= JSON_ROOM) */
static inline char *room(struct json_writer *w, size_t n)
{
	if (w->len + n > sizeof(w->buf))
		json_flush(w);
	return w->buf + w->len;
}

/* a value is about to be written at the current depth */
static inline void value_prefix(struct json_writer *w)
{
	if (w->need_comma[w->depth]) {
		*room(w, 1) = ',';
		w->len++;
	}
	w->need_comma[w->depth] = true;
}

static void open_c(struct json_writer *w, char c)
{
	value_prefix(w);
	*room(w, 1) = c;
	w->len++;
	if (w->depth < 31)
		w->depth++;
	w->need_comma[w->depth] = false;
	done(w);
}

static void close_c(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	*room(w, 1) = c;
	w->len++;
	done(w);
}

void json_obj_begin(struct json_writer *w) { open_c(w, '{'); }
void json_obj_end(struct json_writer *w) { close_c(w, '}'); }
void json_arr_begin(struct json_writer *w) { open_c(w, '['); }
void json_arr_end(struct json_writer *w) { close_c(w, ']'); }

/* 1: a byte written escaped (or the end of a string: NUL); the rest,
 * printable ASCII but '"' and '\\', is written as it is */
static const unsigned char escaped[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

/* s[0..n) up to a NUL, quoted, every control byte as \u00XX; flushed in
 * pieces when longer than the buffer */
static void put_escaped(struct json_writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *p = room(w, JSON_ROOM), *end = w->buf + sizeof(w->buf) - 7;
	size_t i = 0;

	*p++ = '"';
	for (;;) {
		size_t lim;
		unsigned char c;

		if (p >= end) {
			w->len = p - w->buf;
			json_flush(w);
			p = w->buf;
		}
		/* the plain run, as far as the buffer goes */
		lim = i + (size_t)(end - p);
		if (lim > n)
			lim = n;
		while (i < lim && !escaped[(unsigned char)s[i]])
			*p++ = s[i++];
		if (i >= n)
			break;
		c = s[i];
		if (!escaped[c])
			continue;	/* the buffer is full */
		i++;
		if (!c)
			break;
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = c;
		} else {
			/* as "\\u%04x" */
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		}
	}
	*p++ = '"';
	w->len = p - w->buf;
}

static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* v in decimal, as "%" PRIu64; neg: with a minus */
static void put_u64(struct json_writer *w, uint64_t v, bool neg)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull,
		1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	char *p = room(w, 21);
	unsigned int n = 1;

	if (neg)
		*p++ = '-';
	while (n < 20 && v >= pow10[n])
		n++;
	w->len = p + n - w->buf;
	p += n;
	while (v >= 100) {
		p -= 2;
		memcpy(p, digits2 + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digits2 + v * 2, 2);
	} else {
		*--p = '0' + v;
	}
}

/* n <= JSON_ROOM bytes */
static void put_lit(struct json_writer *w, const char *s, size_t n)
{
	char *p = room(w, n);

	w->len += n;
	while (n--)
		*p++ = *s++;
}

static void key(struct json_writer *w, const char *k)
{
	value_prefix(w);
	put_escaped(w, k, SIZE_MAX);	/* to the NUL */
	*room(w, 1) = ':';
	w->len++;
	/* the value that follows takes no comma */
	w->need_comma[w->depth] = false;
}

void json_key(struct json_writer *w, const char *k)
{
	key(w, k);
	done(w);
}

static void strn(struct json_writer *w, const char *s, size_t n)
{
	value_prefix(w);
	put_escaped(w, s, n);
	w->need_comma[w->depth] = true;
}

void json_strn(struct json_writer *w, const char *s, size_t n)
{
	strn(w, s, n);
	done(w);
}

void json_str(struct json_writer *w, const char *s)
{
	strn(w, s, SIZE_MAX);	/* to the NUL */
	done(w);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	value_prefix(w);
	put_u64(w, v, false);
	done(w);
}

static void s64(struct json_writer *w, int64_t v)
{
	value_prefix(w);
	put_u64(w, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);	/* INT64_MIN too */
}

void json_s64(struct json_writer *w, int64_t v)
{
	s64(w, v);
	done(w);
}

static void boolean(struct json_writer *w, bool v)
{
	value_prefix(w);
	if (v)
		put_lit(w, "true", 4);
	else
		put_lit(w, "false", 5);
}

void json_bool(struct json_writer *w, bool v)
{
	boolean(w, v);
	done(w);
}

static void null(struct json_writer *w)
{
	value_prefix(w);
	put_lit(w, "null", 4);
}

void json_null(struct json_writer *w)
{
	null(w);
	done(w);
}

void json_kv_str(struct json_writer *w, const char *k, const char *v)
{
	key(w, k);
	strn(w, v, SIZE_MAX);
	done(w);
}

void json_kv_u64(struct json_writer *w, const char *k, uint64_t v)
{
	key(w, k);
	value_prefix(w);
	put_u64(w, v, false);
	done(w);
}

void json_kv_s64(struct json_writer *w, const char *k, int64_t v)
{
	key(w, k);
	s64(w, v);
	done(w);
}

void json_kv_u64_or_null(struct json_writer *w, const char *k, uint64_t v, bool known)
{
	key(w, k);
	if (known) {
		value_prefix(w);
		put_u64(w, v, false);
	} else {
		null(w);
	}
	done(w);
}

void json_kv_s64_or_null(struct json_writer *w, const char *k, int64_t v, bool known)
{
	key(w, k);
	if (known)
		s64(w, v);
	else
		null(w);
	done(w);
}

void json_kv_bool(struct json_writer *w, const char *k, bool v)
{
	key(w, k);
	boolean(w, v);
	done(w);
}

/* "0x%" PRIx64, as a string */
void json_kv_hex(struct json_writer *w, const char *k, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[24], *t = tmp + sizeof(tmp);

	key(w, k);
	value_prefix(w);
	*--t = '"';
	do {
		*--t = hex[v & 15];
		v >>= 4;
	} while (v);
	*--t = 'x';
	*--t = '0';
	*--t = '"';
	put_lit(w, t, tmp + sizeof(tmp) - t);
	done(w);
}

void json_kv_rate(struct json_writer *w, const char *k, double v)
{
	char tmp[64];
	int n;

	key(w, k);
	value_prefix(w);
	n = snprintf(tmp, sizeof(tmp), "%.1f", v);
	if (n >= (int)sizeof(tmp) || n > JSON_ROOM) {
		json_flush(w);
		fprintf(w->f, "%.1f", v);
	} else if (n > 0) {
		put_lit(w, tmp, n);
	}
	done(w);
}
