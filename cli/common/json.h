/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_JSON_H
#define EPOLLTRACE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One streaming JSON writer for every JSON the tool prints.  Strings are
 * escaped completely: kernel strings such as comm are not sanitised, so
 * every control byte becomes \u00XX and invalid UTF-8 bytes too.
 */
/* the most one piece of output takes in the buffer */
#define JSON_ROOM 64

struct json_writer {
	FILE *f;
	int depth;
	bool need_comma[32];
	bool line;		/* json_init_line: the caller writes nothing else */
	size_t len;
	char buf[1024];
};

/* Every call hands its bytes to f at once: the caller may write to f too. */
void json_init(struct json_writer *w, FILE *f);
/*
 * The bytes go to f when a top-level value is complete (or the buffer is
 * full): the caller writes nothing else to f until then.  The hot path.
 */
void json_init_line(struct json_writer *w, FILE *f);
/* what is buffered, to f now */
void json_flush(struct json_writer *w);
void json_obj_begin(struct json_writer *w);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
void json_arr_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *k);
void json_str(struct json_writer *w, const char *s);
void json_strn(struct json_writer *w, const char *s, size_t n);
void json_u64(struct json_writer *w, uint64_t v);
void json_s64(struct json_writer *w, int64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
void json_kv_str(struct json_writer *w, const char *k, const char *v);
void json_kv_u64(struct json_writer *w, const char *k, uint64_t v);
void json_kv_s64(struct json_writer *w, const char *k, int64_t v);
/* the value, or null where the session cannot see it (!known) */
void json_kv_u64_or_null(struct json_writer *w, const char *k, uint64_t v, bool known);
void json_kv_s64_or_null(struct json_writer *w, const char *k, int64_t v, bool known);
void json_kv_bool(struct json_writer *w, const char *k, bool v);
void json_kv_hex(struct json_writer *w, const char *k, uint64_t v);
/* a number with one decimal (rates) */
void json_kv_rate(struct json_writer *w, const char *k, double v);

#endif
