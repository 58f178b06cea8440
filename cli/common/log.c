// SPDX-License-Identifier: GPL-2.0
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

int et_verbose;

#define LOG_LINES 256
#define LOG_LEN 512	/* the inline rung's reasons name a build-id and a package */

struct log_ring {
	char line[LOG_LINES][LOG_LEN];
	unsigned int head;	/* next slot */
	unsigned int count;
};

/* the TUI's thread reads the captured lines while the session writes */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_ring captured, libbpf_lines;
static bool capturing;
static unsigned long captured_total;

static void ring_put(struct log_ring *r, const char *s)
{
	snprintf(r->line[r->head], LOG_LEN, "%s", s);
	r->head = (r->head + 1) % LOG_LINES;
	if (r->count < LOG_LINES)
		r->count++;
}

static const char *ring_get(const struct log_ring *r, unsigned int n)
{
	if (n >= r->count)
		return NULL;
	return r->line[(r->head + LOG_LINES - 1 - n) % LOG_LINES];
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char buf[LOG_LEN];
	int off = snprintf(buf, sizeof(buf), "%s", prefix);

	vsnprintf(buf + off, sizeof(buf) - off, fmt, ap);
	if (capturing) {
		pthread_mutex_lock(&log_lock);
		ring_put(&captured, buf);
		captured_total++;
		pthread_mutex_unlock(&log_lock);
		return;
	}
	fprintf(stderr, "%s\n", buf);
}

#define DEFINE_LOG(name, prefix, cond)				\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		if (!(cond))					\
			return;					\
		va_start(ap, fmt);				\
		vlog(prefix, fmt, ap);				\
		va_end(ap);					\
	}

DEFINE_LOG(et_err, "epolltrace: ", 1)
DEFINE_LOG(et_warn, "epolltrace: warning: ", 1)
DEFINE_LOG(et_info, "epolltrace: ", 1)
DEFINE_LOG(et_debug, "epolltrace: debug: ", et_verbose)

void et_log_capture(bool on)
{
	capturing = on;
}

void et_log_flush(void)
{
	for (unsigned int n = captured.count; n > 0; n--)
		fprintf(stderr, "%s\n", ring_get(&captured, n - 1));
	captured.count = 0;
	captured.head = 0;
}

unsigned long et_log_captured(void)
{
	unsigned long n;

	pthread_mutex_lock(&log_lock);
	n = captured_total;
	pthread_mutex_unlock(&log_lock);
	return n;
}

/* The line is copied: the ring may move on once the lock is dropped. */
const char *et_log_line(unsigned int n)
{
	static __thread char line[LOG_LEN];
	const char *l;

	pthread_mutex_lock(&log_lock);
	l = ring_get(&captured, n);
	if (l)
		snprintf(line, sizeof(line), "%s", l);
	pthread_mutex_unlock(&log_lock);
	return l ? line : NULL;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LEN];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	ring_put(&libbpf_lines, buf);
	if (et_verbose > 1 || (et_verbose && level != LIBBPF_DEBUG)) {
		if (capturing) {
			pthread_mutex_lock(&log_lock);
			ring_put(&captured, buf);
			captured_total++;
			pthread_mutex_unlock(&log_lock);
		} else {
			fprintf(stderr, "libbpf: %s\n", buf);
		}
	}
	return 0;
}

void et_log_libbpf_init(void)
{
	libbpf_set_print(libbpf_print);
}

const char *et_log_libbpf_find(const char *needle)
{
	for (unsigned int n = 0; n < libbpf_lines.count; n++) {
		const char *l = ring_get(&libbpf_lines, n);

		if (strstr(l, needle))
			return l;
	}
	return NULL;
}

void et_log_libbpf_clear(void)
{
	libbpf_lines.count = 0;
	libbpf_lines.head = 0;
}
