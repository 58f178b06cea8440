/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_LOG_H
#define EPOLLTRACE_LOG_H

#include <stdbool.h>

/*
 * All diagnostics go through here, never straight to stdout: stdout may
 * carry data (--json).  While a screen owns the terminal the lines are
 * kept for its log pane and printed to stderr after it exits.
 */
extern int et_verbose;

void et_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void et_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void et_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void et_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Capture mode: lines are kept (for a log pane) instead of printed. */
void et_log_capture(bool on);
/* Print and forget the captured lines (to stderr). */
void et_log_flush(void);
/* Lines captured so far, in all. */
unsigned long et_log_captured(void);
/* The n-th most recent captured line (0 = newest), NULL past the end. */
const char *et_log_line(unsigned int n);

/* libbpf's print callback: kept in a small ring, shown with -v */
void et_log_libbpf_init(void);
/* The most recent libbpf line containing needle, or NULL. */
const char *et_log_libbpf_find(const char *needle);
void et_log_libbpf_clear(void);

#endif
