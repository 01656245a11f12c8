/* SPDX-License-Identifier: MIT */
/*
 * `tund --metrics-listen ADDR:PORT`: a small HTTP/1.x server on the loop
 * for Prometheus. GET or HEAD /metrics (a query string is ignored) gets the
 * text of metrics.h, streamed a piece per turn of the loop as the socket
 * takes it; any other path is 404, any other method 405, a request that is
 * not HTTP/1.x is 400 and one whose head passes 8 KiB is 431. One request
 * per connection (Connection: close); the head must arrive within 10 s; at
 * most 16 connections at once, more are closed at accept. It is a TCP
 * socket anyone who reaches the address may use, and the per-peer series
 * name public keys and allowed IPs: bind it to loopback or a management
 * address (a warning is logged for any other).
 */
#ifndef TUND_METRICS_HTTP_H
#define TUND_METRICS_HTTP_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct daemon;
struct metrics_http;

/* Bytes of request line and headers at most. */
#define METRICS_HTTP_MAX_HEAD 8192

/*
 * A request head, buf's first len bytes (len <= METRICS_HTTP_MAX_HEAD), as
 * it arrives: *scanned (0 at first) is how far an earlier call looked, so
 * each call reads only what is new. 0 while the head has not ended, else
 * the reply's status: 200 (GET or HEAD of /metrics, a query ignored; *get
 * for a GET), 400 (not an HTTP/1.x request line), 404 (another path), 405
 * (another method), 431 (len reached the limit without the end). Pure: for
 * fuzz_metrics_http too.
 */
int metrics_http_parse(const char *buf, size_t len, size_t *scanned, bool *get);

/* --metrics-listen may be given this many times. */
#define METRICS_HTTP_MAX_LISTEN 8

/*
 * Listen on each of the n addresses (numeric, as sockaddr_parse_numeric()
 * gives them). 0, or -errno with the failure logged and nothing left open.
 */
int metrics_http_create(struct ev_loop *loop, struct daemon *d, const union sockaddr_inet *addrs,
			size_t n, struct metrics_http **out);
/* Close the listeners and every connection. NULL is a no-op. */
void metrics_http_destroy(struct metrics_http *m);

#endif
