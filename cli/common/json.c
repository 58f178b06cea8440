// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer is the replay's and the stream's hot path (a record is
 * some 15 values): it writes with the unlocked stdio calls, straight into
 * the FILE's buffer, and formats numbers itself rather than through
 * fprintf.  The tool has one thread; nothing else writes a FILE while a
 * JSON value is being written to it.  The bytes are those fprintf wrote.
 */
#include <inttypes.h>
#include <string.h>
#include "json.h"

void json_init(struct json_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/* a value is about to be written at the current depth */
static inline void value_prefix(struct json_writer *w)
{
	if (w->need_comma[w->depth])
		putc_unlocked(',', w->f);
	w->need_comma[w->depth] = true;
}

static void open_c(struct json_writer *w, char c)
{
	value_prefix(w);
	putc_unlocked(c, w->f);
	if (w->depth < 31)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_c(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	putc_unlocked(c, w->f);
}

void json_obj_begin(struct json_writer *w) { open_c(w, '{'); }
void json_obj_end(struct json_writer *w) { close_c(w, '}'); }
void json_arr_begin(struct json_writer *w) { open_c(w, '['); }
void json_arr_end(struct json_writer *w) { close_c(w, ']'); }

/* bytes that are written as they are: printable ASCII but '"' and '\\' */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* n bytes; short runs byte by byte: putc_unlocked is a store into the
 * FILE's buffer, fwrite a call chain */
static inline void put_n(FILE *f, const char *s, size_t n)
{
	if (n > 32) {
		fwrite_unlocked(s, 1, n, f);
		return;
	}
	while (n--)
		putc_unlocked(*s++, f);
}

static void put_escaped(FILE *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	putc_unlocked('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (plain(c)) {
			putc_unlocked(c, f);
		} else if (c == '"' || c == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(c, f);
		} else {
			/* as "\\u%04x" */
			put_n(f, "\\u00", 4);
			putc_unlocked(hex[c >> 4], f);
			putc_unlocked(hex[c & 15], f);
		}
	}
	putc_unlocked('"', f);
}

/* v in decimal, as "%" PRIu64 */
static void put_u64(FILE *f, uint64_t v)
{
	char buf[20], *p = buf + sizeof(buf);

	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	put_n(f, p, buf + sizeof(buf) - p);
}

void json_key(struct json_writer *w, const char *k)
{
	value_prefix(w);
	put_escaped(w->f, k, strlen(k));
	putc_unlocked(':', w->f);
	/* the value that follows takes no comma */
	w->need_comma[w->depth] = false;
}

static void after_value(struct json_writer *w)
{
	w->need_comma[w->depth] = true;
}

void json_strn(struct json_writer *w, const char *s, size_t n)
{
	value_prefix(w);
	put_escaped(w->f, s, n);
	after_value(w);
}

void json_str(struct json_writer *w, const char *s)
{
	json_strn(w, s, strlen(s));
}

void json_u64(struct json_writer *w, uint64_t v)
{
	value_prefix(w);
	put_u64(w->f, v);
}

void json_s64(struct json_writer *w, int64_t v)
{
	value_prefix(w);
	if (v < 0) {
		putc_unlocked('-', w->f);
		put_u64(w->f, -(uint64_t)v);	/* INT64_MIN too */
	} else {
		put_u64(w->f, v);
	}
}

void json_bool(struct json_writer *w, bool v)
{
	value_prefix(w);
	if (v)
		put_n(w->f, "true", 4);
	else
		put_n(w->f, "false", 5);
}

void json_null(struct json_writer *w)
{
	value_prefix(w);
	put_n(w->f, "null", 4);
}

static void json_kv_null(struct json_writer *w, const char *k)
{
	json_key(w, k);
	json_null(w);
}

void json_kv_str(struct json_writer *w, const char *k, const char *v)
{
	json_key(w, k);
	json_str(w, v);
}

void json_kv_u64(struct json_writer *w, const char *k, uint64_t v)
{
	json_key(w, k);
	json_u64(w, v);
}

void json_kv_s64(struct json_writer *w, const char *k, int64_t v)
{
	json_key(w, k);
	json_s64(w, v);
}

void json_kv_u64_or_null(struct json_writer *w, const char *k, uint64_t v, bool known)
{
	if (known)
		json_kv_u64(w, k, v);
	else
		json_kv_null(w, k);
}

void json_kv_s64_or_null(struct json_writer *w, const char *k, int64_t v, bool known)
{
	if (known)
		json_kv_s64(w, k, v);
	else
		json_kv_null(w, k);
}

void json_kv_bool(struct json_writer *w, const char *k, bool v)
{
	json_key(w, k);
	json_bool(w, v);
}

/* "0x%" PRIx64, as a string */
void json_kv_hex(struct json_writer *w, const char *k, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[24], *p = buf + sizeof(buf);

	json_key(w, k);
	value_prefix(w);
	*--p = '"';
	do {
		*--p = hex[v & 15];
		v >>= 4;
	} while (v);
	*--p = 'x';
	*--p = '0';
	*--p = '"';
	put_n(w->f, p, buf + sizeof(buf) - p);
	after_value(w);
}

void json_kv_rate(struct json_writer *w, const char *k, double v)
{
	json_key(w, k);
	value_prefix(w);
	fprintf(w->f, "%.1f", v);
}
