/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_METRICS_H
#define EPOLLTRACE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "event.h"

/*
 * --metrics ADDR:PORT: the model's per-instance counters, gauges, latency
 * histograms and findings as an OpenMetrics 1.0 text endpoint (GET
 * /metrics), for Prometheus.  A sink fed from the stream like any view
 * (tee'd with it), and a non-blocking HTTP/1.1 server on one socket,
 * answered from the loop that feeds it through et_service (event.h): it
 * never blocks tracing.  docs/metrics.md lists every metric.
 */

#define METRICS_DEFAULT_MAX 64		/* --metrics-max: instances with their own series */
#define METRICS_MAX_MAX 4096

struct metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
	char text[80];		/* as the messages name it: 127.0.0.1:9464, [::1]:9464 */
};

/*
 * PORT, :PORT, ADDR:PORT or [ADDR6]:PORT; ADDR a numeric address or
 * "localhost"; no PORT given: none (a port is required).  0, or -1 with a
 * one-line reason in err.
 */
int metrics_parse_addr(const char *arg, struct metrics_addr *a, char *err, size_t errlen);

/*
 * Bind and listen (a non-loopback address is served with a warning).
 * NULL, with the reason said on stderr, when the socket cannot be had (the
 * port in use).  max: instances with their own series, the rest folded.
 */
struct et_sink *metrics_new(const struct metrics_addr *a, unsigned int max);
/* the service to hand to the loop that feeds the sink (session, replay) */
const struct et_service *metrics_service(struct et_sink *s);
/* serve until SIGINT, SIGTERM or SIGHUP (replay --metrics, after the end) */
void metrics_linger(struct et_sink *s);
void metrics_free(struct et_sink *s);

#endif
