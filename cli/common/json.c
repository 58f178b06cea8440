// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <string.h>
#include "json.h"

void json_init(struct json_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/* a value is about to be written at the current depth */
static void value_prefix(struct json_writer *w)
{
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = true;
}

static void open_c(struct json_writer *w, char c)
{
	value_prefix(w);
	fputc(c, w->f);
	if (w->depth < 31)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_c(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
}

void json_obj_begin(struct json_writer *w) { open_c(w, '{'); }
void json_obj_end(struct json_writer *w) { close_c(w, '}'); }
void json_arr_begin(struct json_writer *w) { open_c(w, '['); }
void json_arr_end(struct json_writer *w) { close_c(w, ']'); }

static void put_escaped(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_key(struct json_writer *w, const char *k)
{
	value_prefix(w);
	put_escaped(w->f, k, strlen(k));
	fputc(':', w->f);
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
	fprintf(w->f, "%" PRIu64, v);
}

void json_s64(struct json_writer *w, int64_t v)
{
	value_prefix(w);
	fprintf(w->f, "%" PRId64, v);
}

void json_bool(struct json_writer *w, bool v)
{
	value_prefix(w);
	fputs(v ? "true" : "false", w->f);
}

void json_null(struct json_writer *w)
{
	value_prefix(w);
	fputs("null", w->f);
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

void json_kv_hex(struct json_writer *w, const char *k, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	json_kv_str(w, k, buf);
}

void json_kv_rate(struct json_writer *w, const char *k, double v)
{
	json_key(w, k);
	value_prefix(w);
	fprintf(w->f, "%.1f", v);
}
