/* SPDX-License-Identifier: MIT */
/*
 * The metrics as Prometheus text (exposition format 0.0.4), written in
 * pieces: one scrape is a cursor over the metric families, the interfaces
 * and their peers, so that a caller (the HTTP listener, metrics_http.c; the
 * control socket's `metrics`, control.c) writes a piece each time its socket
 * takes the last one, and 100,000 peers never hold the loop. The format
 * wants every family's samples together after its HELP and TYPE, so each
 * per-peer family is a pass over all the peers. Per peer the names and
 * labels are prometheus_wireguard_exporter's; the daemon's own are tund_*.
 * docs/control-protocol.md lists them.
 */
#ifndef TUND_METRICS_H
#define TUND_METRICS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "key.h"

struct daemon;
struct textbuf;

/* Where a scrape is; resumed by interface name and peer id, so both may come and go. */
struct metrics_scrape {
	char only[IFNAMSIZ]; /* one interface, or "" for all */
	unsigned int family; /* the family being written */
	bool has_head; /* its HELP and TYPE are written */
	bool in_iface; /* a per-peer family is inside iface's peers */
	bool has_iface; /* iface names the interface written last */
	char iface[IFNAMSIZ];
	uint64_t next_peer; /* the id of iface's first peer not written yet */
	bool has_next_key; /* next_key is next_peer's key */
	uint8_t next_key[KEY_LEN];
};

/* A scrape of every interface, or only of one (only: NULL or ""). */
void metrics_scrape_init(struct metrics_scrape *s, const char *only);
/*
 * Append the next piece to b, stopping once b holds about chunk bytes (a
 * piece is at least one line: the caller empties b between pieces, or a
 * full b gets nothing). 1 while more is to come, 0 when the scrape is
 * complete, -ENOMEM.
 */
int metrics_scrape_next(struct metrics_scrape *s, struct daemon *d, struct textbuf *b,
			size_t chunk);

/* The text's Content-Type for HTTP. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
